/*
 * E.164 phone numbers.
 */
#ifndef INBOX_PHONE_H
#define INBOX_PHONE_H

#include <stddef.h>
#include <inbox/error.h>

/* "+" and at most 15 digits, plus the terminating NUL. */
#define INBOX_PHONE_MAX  17

/* A country code (ISO 3166 alpha-2), plus the terminating NUL. */
#define INBOX_COUNTRY_MAX  3

/*
 * Normalizes a number as people type it ("(555) 123-4567", "+44 20 7946
 * 0958", "0044 20...", "020 7946 0958") into E.164 ("+15551234567").
 * default_country is an ISO 3166 alpha-2 code ("US", "GB", ...) used for
 * national numbers (no "+" and no international prefix); NULL means "US".
 * Fails with INBOX_ERR_INVALID for anything that cannot be a phone number.
 * A national number must have its country's length; one written in
 * international form only E.164's 8 to 15 digits (+1's ten after the 1),
 * as carriers send them: what a person typed goes through
 * inbox_phone_normalize_typed.
 */
inbox_status_t inbox_phone_normalize(const char *in, size_t len,
    const char *default_country, char out[INBOX_PHONE_MAX],
    inbox_error_t *err);

/*
 * inbox_phone_normalize for a number a person typed (a contact added, a
 * CSV import's row, an organization's number): a number of a country whose
 * plan phone.c knows must also have a length that plan gives, whichever
 * form it was written in ("+44 20 7946 095": "phone number has 9 digits
 * after +44; a number in GB that starts with 2 has 10"), so nothing is
 * stored that no carrier could send to.  Numbers a carrier sends go
 * through inbox_phone_normalize alone: the carrier's numbers are valid by
 * definition, and a webhook refused is a message lost.
 */
inbox_status_t inbox_phone_normalize_typed(const char *in, size_t len,
    const char *default_country, char out[INBOX_PHONE_MAX],
    inbox_error_t *err);

/*
 * The one rule of what a default country may be, wherever one is set (an
 * organization's setting, the inbox_default_country directive, inboxctl's
 * --country): a country whose national numbers phone.c can normalize
 * (ISO 3166 alpha-2, its two letters in any case, one of
 * inbox_phone_country_at's), written into out in upper case ("gb" ->
 * "GB").  Else
 * INBOX_ERR_INVALID naming field (NULL: none), whose message lists the
 * countries known.
 */
inbox_status_t inbox_phone_country_check(const char *iso, const char *field,
    char out[INBOX_COUNTRY_MAX], inbox_error_t *err);

/* The i-th country inbox_phone_country_check takes ("US", ...), from 0;
 * NULL past the last. */
const char *inbox_phone_country_at(size_t i);

/*
 * An international number's digits (after "+", "00" or "011") that begin
 * with a calling code whose country writes a trunk "0" before its
 * national numbers, and then that "0", as "+44 020 7946" is typed: the
 * calling code's length into *code_len and the trunk's length returned.
 * 0 when there is none.  The trunk is not dialled from abroad, and an
 * E.164 number never has it.
 */
size_t inbox_phone_trunk_after_code(const char *digits, size_t n,
    size_t *code_len);

/*
 * For a search, which has a number in part: an international number's
 * digits (after "+", "00" or "011"), perhaps only its first few, that
 * begin with a calling code and then a prefix E.164 never has there:
 * the trunk "0" (as inbox_phone_trunk_after_code) or one the country
 * retired, which normalization drops from a whole number (Mexico's
 * mobile "1": "+52 1 55 12").  The calling code's length into *code_len
 * and the prefix's returned; 0 when there is none.
 */
size_t inbox_phone_prefix_after_code(const char *digits, size_t n,
    size_t *code_len);

/*
 * The same for a national number, or its first digits, as written in
 * country (NULL: "US"): the length of a prefix the country retired that
 * it starts with ("1 55 12" in MX, whose numbers are +52 55 12...), and
 * its calling code into *code; 0 when there is none.
 */
size_t inbox_phone_retired_national(const char *country, const char *digits,
    size_t n, const char **code);

/*
 * Whether an MMS reaches number (E.164): carriers deliver MMS in the
 * United States (its territories included) and Canada only.  Those share
 * +1 with the Caribbean countries of North America's plan, told apart by
 * their area codes.
 */
int inbox_phone_takes_mms(const char *e164);

/* inbox_phone_takes_mms as a regular expression (PCRE, as MongoDB's
 * $regex), for a query to count such numbers: 0, or -1 when size is too
 * small.  INBOX_PHONE_MMS_PATTERN_MAX is enough. */
#define INBOX_PHONE_MMS_PATTERN_MAX  128
int inbox_phone_mms_pattern(char *out, size_t size);

/*
 * Keeps only the digits of a search term ("(555) 12" -> "55512"), for
 * matching part of a stored number whatever the formatting.  Returns the
 * number of digits written (out has room for outlen - 1 digits and a NUL).
 */
size_t inbox_phone_digits(const char *in, size_t len, char *out,
    size_t outlen);

/*
 * An E.164 number for people, as the web app's phone.js writes it: after
 * its calling code, grouped the way its country does where the number
 * says how (+1 (415) 555-1234, +44 20 7946 0958), else its national
 * digits together; anything else as given.  INBOX_PHONE_DISPLAY_MAX is
 * enough for any.
 */
#define INBOX_PHONE_DISPLAY_MAX  40
void inbox_phone_display(const char *e164, char out[INBOX_PHONE_DISPLAY_MAX]);

#endif
