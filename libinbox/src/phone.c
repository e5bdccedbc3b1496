/*
 * E.164 normalization: formatting stripped, international prefixes and
 * national trunk prefixes resolved against a default country.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <inbox/phone.h>


#define INBOX_PHONE_DIGITS_MAX  15
#define INBOX_PHONE_DIGITS_MIN  8
#define INBOX_PHONE_SCAN_MAX    24    /* digits read before giving up */


typedef struct {
    const char  *iso;
    const char  *calling_code;
    const char  *intl_prefix;     /* dialled before a country code */
    const char  *trunk_prefix;    /* dropped from national numbers; "" none */
    size_t       nsn_min;         /* national significant number length */
    size_t       nsn_max;
    const char  *retired_prefix;  /* once dialled before the number, now
                                     dropped by the country's own plan;
                                     "" none */
    const char  *full_starts;     /* first digits of the national numbers
                                     that always have nsn_max digits; ""
                                     none */
} inbox_phone_country_t;


/* Lengths from the national numbering plans (ITU-T E.164 annexes). */
static const inbox_phone_country_t  inbox_phone_countries[] = {
    { "US", "1",  "011",  "1", 10, 10, "", "" },
    { "CA", "1",  "011",  "1", 10, 10, "", "" },
    /* Britain's 9-digit numbers are some 01 areas' and 0800 ones: its
     * 02 (London...), 03, 07 (mobiles) and 09 numbers have 10 */
    { "GB", "44", "00",   "0", 9, 10, "", "2379" },
    { "FR", "33", "00",   "0", 9, 9, "", "" },
    { "DE", "49", "00",   "0", 6, 13, "", "" },
    { "ES", "34", "00",   "",  9, 9, "", "" },
    /* Italy's leading 0 is part of the number */
    { "IT", "39", "00",   "",  6, 11, "", "" },
    { "NL", "31", "00",   "0", 9, 9, "", "" },
    { "AU", "61", "0011", "0", 9, 9, "", "" },
    { "IN", "91", "00",   "0", 10, 10, "", "" },
    /* Mexico's mobile "1" after +52 was retired in 2019: +52 1 55... and
     * +52 55... are one phone, and carriers now send the latter */
    { "MX", "52", "00",   "",  10, 10, "1", "" },
    { "BR", "55", "00",   "0", 10, 11, "", "" },
};


static const inbox_phone_country_t *inbox_phone_country(const char *iso);
static inbox_status_t inbox_phone_national(const inbox_phone_country_t *cc,
    const char *digits, size_t n, char out[INBOX_PHONE_MAX],
    inbox_error_t *err);
static inbox_status_t inbox_phone_international(const char *digits,
    size_t n, char out[INBOX_PHONE_MAX], inbox_error_t *err);
static const inbox_phone_country_t *inbox_phone_country_of(
    const char *digits, size_t n);
static size_t inbox_phone_retired(const inbox_phone_country_t *cc,
    const char *nsn, size_t n);
static size_t inbox_phone_retired_start(const inbox_phone_country_t *cc,
    const char *nsn, size_t n);
static inbox_status_t inbox_phone_plan_check(const char *digits,
    size_t n, inbox_error_t *err);
static int inbox_phone_nsn_fits(const inbox_phone_country_t *cc,
    const char *nsn, size_t n, char *rule, size_t size);
static int inbox_phone_formatting(int c);
static size_t inbox_phone_separator(const char *s, size_t len);


inbox_status_t
inbox_phone_normalize(const char *in, size_t len, const char *default_country,
    char out[INBOX_PHONE_MAX], inbox_error_t *err)
{
    int                           plus, c;
    size_t                        i, n, prefix, n_sep;
    char                          digits[INBOX_PHONE_SCAN_MAX + 1];
    const inbox_phone_country_t  *cc;

    out[0] = '\0';
    plus = 0;
    n = 0;

    for (i = 0; i < len; i++) {
        c = (unsigned char) in[i];

        if (c >= '0' && c <= '9') {
            if (n == INBOX_PHONE_SCAN_MAX) {
                return inbox_error_set(err, INBOX_ERR_INVALID,
                           "phone number has too many digits; "
                           "a number has at most 15");
            }
            digits[n++] = (char) c;
            continue;
        }

        /* "+44 (0)20 ...": the trunk 0 shown in brackets is not dialled */
        if (c == '(' && n > 0 && len - i >= 3 && in[i + 1] == '0'
            && in[i + 2] == ')')
        {
            i += 2;
            continue;
        }

        if (c == '+' && n == 0 && !plus) {
            plus = 1;
            continue;
        }

        if (inbox_phone_formatting(c)) {
            continue;
        }

        n_sep = inbox_phone_separator(in + i, len - i);
        if (n_sep > 0) {
            i += n_sep - 1;
            continue;
        }

        if (isalpha(c)) {
            return inbox_error_set(err, INBOX_ERR_INVALID,
                       "phone number contains letters; "
                       "write it with digits only");
        }

        if (c == '+') {
            return inbox_error_set(err, INBOX_ERR_INVALID,
                       "phone number has a '+' that is not at its start");
        }

        if (isprint(c)) {
            return inbox_error_set(err, INBOX_ERR_INVALID,
                       "phone number contains '%c', "
                       "which is not part of a number", c);
        }

        return inbox_error_set(err, INBOX_ERR_INVALID,
                   "phone number contains a character that is not part "
                   "of a number");
    }

    digits[n] = '\0';

    if (n == 0) {
        return inbox_error_set(err, INBOX_ERR_INVALID,
                   "phone number has no digits");
    }

    if (plus) {
        return inbox_phone_international(digits, n, out, err);
    }

    cc = inbox_phone_country(default_country ? default_country : "US");

    if (cc != NULL) {
        prefix = strlen(cc->intl_prefix);
        if (n > prefix && strncmp(digits, cc->intl_prefix, prefix) == 0) {
            return inbox_phone_international(digits + prefix, n - prefix,
                                             out, err);
        }
    }

    /* "00" is the international prefix nearly everywhere, and no national
     * number of a country that dials otherwise starts with it */
    if (n > 2 && digits[0] == '0' && digits[1] == '0'
        && (cc == NULL || strcmp(cc->calling_code, "1") == 0))
    {
        return inbox_phone_international(digits + 2, n - 2, out, err);
    }

    if (cc == NULL) {
        return inbox_error_set(err, INBOX_ERR_INVALID,
                   "phone number has no country code and the default "
                   "country '%s' is unknown; write it as +<country code>"
                   "<number>", default_country);
    }

    return inbox_phone_national(cc, digits, n, out, err);
}


inbox_status_t
inbox_phone_normalize_typed(const char *in, size_t len,
    const char *default_country, char out[INBOX_PHONE_MAX],
    inbox_error_t *err)
{
    inbox_status_t  rc;

    rc = inbox_phone_normalize(in, len, default_country, out, err);

    if (rc == INBOX_OK) {
        rc = inbox_phone_plan_check(out + 1, strlen(out + 1), err);

        if (rc != INBOX_OK) {
            out[0] = '\0';
        }
    }

    return rc;
}


size_t
inbox_phone_digits(const char *in, size_t len, char *out, size_t outlen)
{
    size_t  i, n;

    if (outlen == 0) {
        return 0;
    }

    n = 0;
    for (i = 0; i < len && n + 1 < outlen; i++) {
        if (in[i] >= '0' && in[i] <= '9') {
            out[n++] = in[i];
        }
    }
    out[n] = '\0';

    return n;
}


inbox_status_t
inbox_phone_country_check(const char *iso, const char *field,
    char out[INBOX_COUNTRY_MAX], inbox_error_t *err)
{
    char                          known[128];
    size_t                        i, n;
    const inbox_phone_country_t  *cc;

    out[0] = '\0';

    cc = (iso != NULL && strlen(iso) == 2) ? inbox_phone_country(iso) : NULL;

    if (cc != NULL) {
        memcpy(out, cc->iso, INBOX_COUNTRY_MAX);
        return INBOX_OK;
    }

    n = 0;
    for (i = 0; inbox_phone_country_at(i) != NULL; i++) {
        n += snprintf(known + n, sizeof(known) - n, "%s%s",
                      i > 0 ? ", " : "", inbox_phone_country_at(i));
        if (n >= sizeof(known)) {
            n = sizeof(known) - 1;
            break;
        }
    }

    return inbox_error_set_field(err, INBOX_ERR_INVALID, field,
                                 "\"%.16s\" is not a country code whose "
                                 "phone numbers we know; use one of %s.",
                                 iso ? iso : "", known);
}


const char *
inbox_phone_country_at(size_t i)
{
    if (i >= sizeof(inbox_phone_countries)
             / sizeof(inbox_phone_countries[0]))
    {
        return NULL;
    }

    return inbox_phone_countries[i].iso;
}


static const inbox_phone_country_t *
inbox_phone_country(const char *iso)
{
    size_t  i;

    for (i = 0; i < sizeof(inbox_phone_countries)
                    / sizeof(inbox_phone_countries[0]); i++)
    {
        if (strcasecmp(iso, inbox_phone_countries[i].iso) == 0) {
            return &inbox_phone_countries[i];
        }
    }

    return NULL;
}


static inbox_status_t
inbox_phone_national(const inbox_phone_country_t *cc, const char *digits,
    size_t n, char out[INBOX_PHONE_MAX], inbox_error_t *err)
{
    char    rule[64];
    size_t  trunk, ccl;

    trunk = strlen(cc->trunk_prefix);
    ccl = strlen(cc->calling_code);

    if (trunk > 0 && n > trunk
        && strncmp(digits, cc->trunk_prefix, trunk) == 0
        && n - trunk >= cc->nsn_min)
    {
        digits += trunk;
        n -= trunk;

        /* Brazil dials a 2-digit carrier code after the trunk 0 */
        if (strcmp(cc->iso, "BR") == 0 && n > cc->nsn_max
            && n - 2 >= cc->nsn_min && n - 2 <= cc->nsn_max)
        {
            digits += 2;
            n -= 2;
        }

    } else if (n > cc->nsn_max && n > ccl
               && strncmp(digits, cc->calling_code, ccl) == 0
               && n - ccl >= cc->nsn_min
               && n - ccl - inbox_phone_retired(cc, digits + ccl, n - ccl)
                  <= cc->nsn_max)
    {
        /* the country code without its "+" */
        digits += ccl;
        n -= ccl;
    }

    trunk = inbox_phone_retired(cc, digits, n);
    digits += trunk;
    n -= trunk;

    if (!inbox_phone_nsn_fits(cc, digits, n, rule, sizeof(rule))) {
        return inbox_error_set(err, INBOX_ERR_INVALID,
                   "phone number has %zu digits; %s "
                   "(or write it as +<country code><number>)", n, rule);
    }

    /* exchanges are not checked: "555-123-4567" is the usual example */
    if (strcmp(cc->calling_code, "1") == 0 && digits[0] < '2') {
        return inbox_error_set(err, INBOX_ERR_INVALID,
                   "phone number is not a valid %s number: an area code "
                   "cannot start with 0 or 1", cc->iso);
    }

    if (ccl + n > INBOX_PHONE_DIGITS_MAX
        || ccl + n < INBOX_PHONE_DIGITS_MIN)
    {
        return inbox_error_set(err, INBOX_ERR_INVALID,
                   "phone number has %zu digits with its country code; "
                   "an international number has 8 to 15", ccl + n);
    }

    snprintf(out, INBOX_PHONE_MAX, "+%s%.*s", cc->calling_code, (int) n,
             digits);

    return INBOX_OK;
}


static inbox_status_t
inbox_phone_international(const char *digits, size_t n,
    char out[INBOX_PHONE_MAX], inbox_error_t *err)
{
    size_t                        ccl, trunk, retired;
    const inbox_phone_country_t  *cc;

    if (n < INBOX_PHONE_DIGITS_MIN || n > INBOX_PHONE_DIGITS_MAX) {
        return inbox_error_set(err, INBOX_ERR_INVALID,
                   "phone number has %zu digits after its country prefix; "
                   "an international number has 8 to 15", n);
    }

    if (digits[0] == '0') {
        return inbox_error_set(err, INBOX_ERR_INVALID,
                   "phone number's country code cannot start with 0");
    }

    cc = inbox_phone_country_of(digits, n);

    /* North America's plan is exact: ten digits, an area code of 2-9 */
    if (cc != NULL && strcmp(cc->calling_code, "1") == 0
        && (n != 11 || digits[1] < '2'))
    {
        return inbox_error_set(err, INBOX_ERR_INVALID,
                   "phone number is not a valid +1 number: it has ten "
                   "digits after the 1, and an area code cannot start "
                   "with 0 or 1");
    }

    ccl = cc != NULL ? strlen(cc->calling_code) : 0;
    retired = cc != NULL ? inbox_phone_retired(cc, digits + ccl, n - ccl)
                         : 0;

    if (retired > 0) {
        snprintf(out, INBOX_PHONE_MAX, "+%s%.*s", cc->calling_code,
                 (int) (n - ccl - retired), digits + ccl + retired);
        return INBOX_OK;
    }

    /* "+44 020 ...", "0044 020 ...": the national trunk 0 written after
     * the country code is not dialled from abroad (its numbers never
     * start with one), and kept it would make a second contact */
    ccl = 0;
    trunk = inbox_phone_trunk_after_code(digits, n, &ccl);

    if (trunk > 0 && n - ccl - trunk >= cc->nsn_min
        && n - ccl - trunk <= cc->nsn_max)
    {
        snprintf(out, INBOX_PHONE_MAX, "+%s%.*s", cc->calling_code,
                 (int) (n - ccl - trunk), digits + ccl + trunk);
        return INBOX_OK;
    }

    snprintf(out, INBOX_PHONE_MAX, "+%.*s", (int) n, digits);

    return INBOX_OK;
}


/* The area codes of +1 that are countries of their own, neither the
 * United States nor Canada (NANPA's list of participating countries). */
static const char  *inbox_phone_nanp_abroad[] = {
    "242", "246", "264", "268", "284", "345", "441", "473", "649", "658",
    "664", "721", "758", "767", "784", "809", "829", "849", "868", "869",
    "876",
};


int
inbox_phone_takes_mms(const char *e164)
{
    size_t  i;

    if (strncmp(e164, "+1", 2) != 0 || strlen(e164) != 12) {
        return 0;
    }

    for (i = 0; i < sizeof(inbox_phone_nanp_abroad)
                    / sizeof(inbox_phone_nanp_abroad[0]); i++)
    {
        if (strncmp(e164 + 2, inbox_phone_nanp_abroad[i], 3) == 0) {
            return 0;
        }
    }

    return 1;
}


int
inbox_phone_mms_pattern(char *out, size_t size)
{
    int     n;
    size_t  i, len;

    n = snprintf(out, size, "^\\+1(?!");
    len = n > 0 ? (size_t) n : 0;

    for (i = 0; i < sizeof(inbox_phone_nanp_abroad)
                    / sizeof(inbox_phone_nanp_abroad[0]) && len < size; i++)
    {
        n = snprintf(out + len, size - len, "%s%s", i > 0 ? "|" : "",
                     inbox_phone_nanp_abroad[i]);
        len += n > 0 ? (size_t) n : 0;
    }

    if (len < size) {
        n = snprintf(out + len, size - len, ")[0-9]{10}$");
        len += n > 0 ? (size_t) n : 0;
    }

    if (len >= size) {
        out[0] = '\0';
        return -1;
    }

    return 0;
}


size_t
inbox_phone_trunk_after_code(const char *digits, size_t n, size_t *code_len)
{
    size_t                        ccl, trunk;
    const inbox_phone_country_t  *cc;

    cc = inbox_phone_country_of(digits, n);

    if (cc == NULL || cc->trunk_prefix[0] != '0') {
        return 0;
    }

    ccl = strlen(cc->calling_code);
    trunk = strlen(cc->trunk_prefix);

    if (n <= ccl + trunk
        || strncmp(digits + ccl, cc->trunk_prefix, trunk) != 0)
    {
        return 0;
    }

    *code_len = ccl;

    return trunk;
}


size_t
inbox_phone_prefix_after_code(const char *digits, size_t n,
    size_t *code_len)
{
    size_t                        ccl, len;
    const inbox_phone_country_t  *cc;

    len = inbox_phone_trunk_after_code(digits, n, code_len);
    if (len > 0) {
        return len;
    }

    cc = inbox_phone_country_of(digits, n);
    if (cc == NULL) {
        return 0;
    }

    ccl = strlen(cc->calling_code);
    len = inbox_phone_retired_start(cc, digits + ccl, n - ccl);

    if (len > 0) {
        *code_len = ccl;
    }

    return len;
}


size_t
inbox_phone_retired_national(const char *country, const char *digits,
    size_t n, const char **code)
{
    size_t                        len;
    const inbox_phone_country_t  *cc;

    cc = inbox_phone_country(country != NULL ? country : "US");
    if (cc == NULL) {
        return 0;
    }

    len = inbox_phone_retired_start(cc, digits, n);

    if (len > 0) {
        *code = cc->calling_code;
    }

    return len;
}


/* How many digits of a national number are a prefix its country retired
 * (Mexico's mobile "1"): only when what follows has the full length. */
static size_t
inbox_phone_retired(const inbox_phone_country_t *cc, const char *nsn,
    size_t n)
{
    if (n != strlen(cc->retired_prefix) + cc->nsn_max) {
        return 0;
    }

    return inbox_phone_retired_start(cc, nsn, n);
}


/* The length of the prefix cc retired when the national number nsn, or
 * its first digits, starts with it and more follows; else 0.  No number
 * of the country's plan starts with it now. */
static size_t
inbox_phone_retired_start(const inbox_phone_country_t *cc,
    const char *nsn, size_t n)
{
    size_t  len;

    len = strlen(cc->retired_prefix);

    if (len == 0 || n <= len || strncmp(nsn, cc->retired_prefix, len) != 0) {
        return 0;
    }

    return len;
}


/*
 * The digits of an E.164 number (after its "+") checked against the plan
 * of its country when the table has it: what normalization leaves as
 * written.  A trunk 0 it kept after the calling code (its rest too short
 * to drop it) and Mexico's retired 1 before a rest too long for a number
 * are not part of the number: not counted, and named in the message
 * ("has 11 digits after +52 1").  Other countries' numbers pass: their
 * plans are not known here.
 */
static inbox_status_t
inbox_phone_plan_check(const char *digits, size_t n, inbox_error_t *err)
{
    char                          rule[64];
    size_t                        ccl, nsn_len, kept_len;
    const char                   *nsn, *kept;
    const inbox_phone_country_t  *cc;

    cc = inbox_phone_country_of(digits, n);

    if (cc == NULL) {
        return INBOX_OK;
    }

    ccl = strlen(cc->calling_code);
    kept = "";

    if (inbox_phone_trunk_after_code(digits, n, &ccl) > 0) {
        kept = cc->trunk_prefix;

    } else if (n - ccl > cc->nsn_max && cc->retired_prefix[0] != '\0'
               && strncmp(digits + ccl, cc->retired_prefix,
                          strlen(cc->retired_prefix)) == 0)
    {
        kept = cc->retired_prefix;
    }

    kept_len = strlen(kept);
    nsn = digits + ccl + kept_len;
    nsn_len = n - ccl - kept_len;

    if (inbox_phone_nsn_fits(cc, nsn, nsn_len, rule, sizeof(rule))) {
        return INBOX_OK;
    }

    return inbox_error_set(err, INBOX_ERR_INVALID,
               "phone number has %zu digits after +%s%s%s; %s",
               nsn_len, cc->calling_code, kept_len > 0 ? " " : "", kept,
               rule);
}


/* 1 when a national significant number of cc (without its trunk
 * prefix) has a length the country's plan gives a number that starts as
 * it does; else 0, the plan's length for it in words into rule ("a number
 * in GB that starts with 2 has 10"), for the caller's message. */
static int
inbox_phone_nsn_fits(const inbox_phone_country_t *cc, const char *nsn,
    size_t n, char *rule, size_t size)
{
    int     full;
    size_t  min;

    full = n > 0 && strchr(cc->full_starts, nsn[0]) != NULL;
    min = full ? cc->nsn_max : cc->nsn_min;

    if (n >= min && n <= cc->nsn_max) {
        return 1;
    }

    if (full) {
        snprintf(rule, size, "a number in %s that starts with %c has %zu",
                 cc->iso, nsn[0], cc->nsn_max);

    } else if (cc->nsn_min == cc->nsn_max) {
        snprintf(rule, size, "a number in %s has %zu", cc->iso, cc->nsn_max);

    } else {
        snprintf(rule, size, "a number in %s has %zu to %zu", cc->iso,
                 cc->nsn_min, cc->nsn_max);
    }

    return 0;
}


/* The country of the table whose calling code starts digits (calling
 * codes are prefix-free), or NULL. */
static const inbox_phone_country_t *
inbox_phone_country_of(const char *digits, size_t n)
{
    size_t  i, ccl;

    for (i = 0; i < sizeof(inbox_phone_countries)
                    / sizeof(inbox_phone_countries[0]); i++)
    {
        ccl = strlen(inbox_phone_countries[i].calling_code);

        if (n > ccl
            && strncmp(digits, inbox_phone_countries[i].calling_code, ccl)
               == 0)
        {
            return &inbox_phone_countries[i];
        }
    }

    return NULL;
}


static int
inbox_phone_formatting(int c)
{
    return c == ' ' || c == '\t' || c == '.' || c == '-' || c == '('
           || c == ')' || c == '/';
}


/* The bytes of a space or dash that spreadsheets and phones write
 * between digits in UTF-8 (no-break and thin spaces, Unicode's hyphens
 * and dashes, the minus sign) at s; 0 for anything else. */
static size_t
inbox_phone_separator(const char *s, size_t len)
{
    const unsigned char  *u = (const unsigned char *) s;

    if (len >= 2 && u[0] == 0xc2 && u[1] == 0xa0) {
        return 2;                                   /* U+00A0 */
    }

    if (len >= 3 && u[0] == 0xe2 && u[1] == 0x80
        && ((u[2] >= 0x80 && u[2] <= 0x8a)          /* U+2000..U+200A */
            || (u[2] >= 0x90 && u[2] <= 0x95)       /* U+2010..U+2015 */
            || u[2] == 0xaf))                       /* U+202F */
    {
        return 3;
    }

    if (len >= 3 && u[0] == 0xe2 && u[1] == 0x88 && u[2] == 0x92) {
        return 3;                                   /* U+2212 */
    }

    return 0;
}


/* ITU-T E.164 calling codes of two digits (one: 1 and 7; else three) */
static const char *inbox_phone_two_digit_codes[] = {
    "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43",
    "44", "45", "46", "47", "48", "49", "51", "52", "53", "54", "55", "56",
    "57", "58", "60", "61", "62", "63", "64", "65", "66", "81", "82", "84",
    "86", "90", "91", "92", "93", "94", "95", "98", NULL
};


static size_t
inbox_phone_calling_code(const char *digits)
{
    size_t  i;

    if (digits[0] == '1' || digits[0] == '7') {
        return 1;
    }

    for (i = 0; inbox_phone_two_digit_codes[i] != NULL; i++) {
        if (strncmp(digits, inbox_phone_two_digit_codes[i], 2) == 0) {
            return 2;
        }
    }

    return 3;
}


/* digits cut into groups of the given sizes (0 ends them), the last
 * taking the rest, a space between */
static void
inbox_phone_group(const char *n, const unsigned *sizes, char *out,
    size_t size)
{
    size_t  at, len, used;

    used = 0;
    for (at = 0; *sizes != 0 && used < size; sizes++) {
        len = sizes[1] == 0 ? strlen(n + at) : *sizes;
        used += (size_t) snprintf(out + used, size - used, "%s%.*s",
                                  at ? " " : "", (int) len, n + at);
        at += len;
    }
}


/* the national number grouped as its country does, or 0 when it does
 * not say how */
static int
inbox_phone_grouped(const char *cc, const char *n, char *out, size_t size)
{
    size_t                 len;
    static const unsigned  g2_4_4[] = { 2, 4, 4, 0 },
                           g3_3_4[] = { 3, 3, 4, 0 },
                           g4_6[] = { 4, 6, 0 }, g4_5[] = { 4, 5, 0 },
                           g3_6[] = { 3, 6, 0 }, g3_3_3[] = { 3, 3, 3, 0 },
                           g1_4_4[] = { 1, 4, 4, 0 },
                           g1_2_2_2_2[] = { 1, 2, 2, 2, 2, 0 },
                           g3_2_2_2[] = { 3, 2, 2, 2, 0 },
                           g5_5[] = { 5, 5, 0 };
    const unsigned        *g;

    len = strlen(n);
    g = NULL;

    if (strcmp(cc, "1") == 0 && len == 10) {
        /* NANP: (NPA) NXX-XXXX */
        snprintf(out, size, "(%.3s) %.3s-%s", n, n + 3, n + 6);
        return 1;

    } else if (strcmp(cc, "55") == 0 && (len == 10 || len == 11)) {
        /* Brazil: a two-digit area code, then 9xxxx-xxxx or xxxx-xxxx */
        snprintf(out, size, "%.2s %.*s-%s", n, (int) (len - 6), n + 2,
                 n + len - 4);
        return 1;

    } else if (strcmp(cc, "44") == 0) {
        /* UK: the area code's length follows from its first digits */
        if (len == 10) {
            g = (n[0] == '2' || n[0] == '5') ? g2_4_4
                : (n[0] == '1' && (n[1] == '1' || n[2] == '1')) ? g3_3_4
                : (n[0] == '1' || n[0] == '7') ? g4_6 : g3_3_4;
        } else if (len == 9 && n[0] == '1') {
            g = g4_5;
        } else if (len == 9 && n[0] == '8') {
            g = g3_6;
        }

    } else if (strcmp(cc, "61") == 0 && len == 9) {
        /* Australia: mobiles 4xx xxx xxx, geographic areas one digit */
        g = (n[0] == '4' || n[0] == '5') ? g3_3_3 : g1_4_4;

    } else if (strcmp(cc, "33") == 0 && len == 9) {
        g = g1_2_2_2_2;

    } else if (strcmp(cc, "34") == 0 && len == 9) {
        g = g3_2_2_2;

    } else if (strcmp(cc, "91") == 0 && len == 10) {
        g = g5_5;
    }

    if (g == NULL) {
        return 0;
    }

    inbox_phone_group(n, g, out, size);
    return 1;
}


void
inbox_phone_display(const char *e164, char out[INBOX_PHONE_DISPLAY_MAX])
{
    int     at;
    char    cc[4];
    size_t  i, len, cclen;

    len = strlen(e164);

    for (i = 1; i < len && isdigit((unsigned char) e164[i]); i++) {
        /* digits only */
    }

    if (e164[0] != '+' || i != len || len < 8 || len > 16
        || e164[1] == '0')
    {
        snprintf(out, INBOX_PHONE_DISPLAY_MAX, "%s", e164);
        return;
    }

    cclen = inbox_phone_calling_code(e164 + 1);
    memcpy(cc, e164 + 1, cclen);
    cc[cclen] = '\0';

    at = snprintf(out, INBOX_PHONE_DISPLAY_MAX, "+%s ", cc);

    if (!inbox_phone_grouped(cc, e164 + 1 + cclen, out + at,
                             INBOX_PHONE_DISPLAY_MAX - (size_t) at))
    {
        snprintf(out + at, INBOX_PHONE_DISPLAY_MAX - (size_t) at, "%s",
                 e164 + 1 + cclen);
    }
}
