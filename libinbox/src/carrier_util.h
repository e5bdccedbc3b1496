/*
 * What the carrier files (twilio_send.c, telnyx.c) share: reading a
 * carrier's JSON, its codes and texts, and filling requests and results.
 * Not part of the public API.
 */
#ifndef INBOX_CARRIER_UTIL_H
#define INBOX_CARRIER_UTIL_H

#include <stddef.h>
#include <yajl/yajl_tree.h>
#include <inbox/carrier.h>

/* The carriers' real REST bases, when a number names none. */
#define INBOX_TWILIO_API_BASE  "https://api.twilio.com"
#define INBOX_TELNYX_API_BASE  "https://api.telnyx.com"

/* A carrier's JSON (answer or webhook): its root, or NULL when it is
 * longer than INBOX_CARRIER_ANSWER_MAX or not JSON.  Freed with
 * yajl_tree_free. */
yajl_val inbox_carrier_json(const char *body, size_t len);

/* The value at a path of object keys ("data", "id", NULL), or NULL. */
yajl_val inbox_carrier_get(yajl_val v, const char * const *path);

/* The string at v, or NULL when v is no string. */
const char *inbox_carrier_string(yajl_val v);

/* A code (a JSON number or string of at most 15 printable characters)
 * into out; 0, or -1 when v is neither. */
int inbox_carrier_code(yajl_val v, char out[INBOX_CARRIER_CODE_MAX]);

/* 1 when id is 1 to INBOX_PROVIDER_ID_MAX - 1 letters, digits, '-' or
 * '_': what we keep and match as a provider message id. */
int inbox_carrier_id_valid(const char *id);

/* Fills res; the message is printf-formatted, then cut to fit between
 * characters by inbox_carrier_text. */
void inbox_carrier_result(inbox_send_result_t *res,
    inbox_send_outcome_t outcome, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* An answer to a status request that says nothing to store: why,
 * printf-formatted, cut as inbox_carrier_text cuts; returns -1. */
int inbox_carrier_status_unknown(char why[INBOX_CARRIER_MESSAGE_MAX],
    const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* How a carrier says what went wrong in an error answer's JSON object
 * (root): its error code into code ("" for none) and its text into *text
 * (NULL for none, else a string inside root). */
typedef void (*inbox_carrier_error_pt)(yajl_val root,
    char code[INBOX_CARRIER_CODE_MAX], const char **text);

/*
 * The opening of every carrier's reading of a status answer: no answer
 * (http_status 0), an answer without a JSON object, or one not a 200
 * (with carrier's error as error reads it) says nothing to store: -1
 * with why, *root NULL; but a 404 whose error code is not_found (any
 * code when not_found is NULL) is the carrier saying it has no such
 * message: INBOX_CARRIER_STATUS_NO_SUCH_MESSAGE, with why.  Else 0 and
 * *root the answer's object, for the carrier to read; the caller frees
 * it with yajl_tree_free.
 */
int inbox_carrier_status_object(const char *carrier, long http_status,
    const char *body, size_t len, inbox_carrier_error_pt error,
    const char *not_found, yajl_val *root,
    char why[INBOX_CARRIER_MESSAGE_MAX]);

/* No answer from carrier (http_status 0), or one that leaves whether it
 * sent the message unknown (inbox_carrier_refusal's UNKNOWN): res says
 * it may have been sent, with the carrier's error code when it gave
 * one ("" for none). */
void inbox_carrier_unknown(inbox_send_result_t *res, const char *carrier,
    long http_status, const char *code);

/*
 * A 2xx answer: the carrier took the message, under id, with its first
 * status.  One it says failed already (code: its error, "" for none;
 * opted_out: that error means the contact opted out at the carrier) is
 * a refusal, so that its credits come back at once; one it says was
 * delivered already is sent until the carrier's report says so.
 */
void inbox_carrier_accepted(inbox_send_result_t *res, const char *carrier,
    const char *id, inbox_delivery_t status, const char *code,
    const char *text, int opted_out);

/*
 * What an answer from carrier that is not a 2xx with an id means, by
 * HTTP status and the carrier's own error code (NULL or "" when the body
 * holds none).  RETRY, not taken: a 429, a 408 (the request was not
 * read), a 5xx other than 502 and 504 with the carrier's own error that
 * says so (a 503, or a code the carrier documents as "try again"), or a
 * 4xx with such a code (Twilio's 21611).  UNKNOWN, it may have been
 * sent: no answer (0), a 2xx, any other 5xx (a gateway's 502 or 504, a
 * page that is not the carrier's, Twilio's 500).  REFUSED: the rest.
 */
inbox_send_outcome_t inbox_carrier_refusal(inbox_carrier_t carrier,
    long http_status, const char *code);

/* s cut to fit out (size bytes) between characters, control characters
 * made spaces: a carrier's text, safe to show and log. */
void inbox_carrier_text(const char *s, char *out, size_t size);

/* The API base (number's, or dflt) without its trailing '/', as a
 * malloc'd URL with path appended; NULL when out of memory or the base
 * is not http(s). */
char *inbox_carrier_url(const char *api_base, const char *dflt,
    const char *path);

/* Adds a header "name: value" to req; -1 when out of memory, when full,
 * or when value holds a control character (a header cannot). */
int inbox_carrier_header(inbox_carrier_request_t *req, const char *name,
    const char *value);

/* What every carrier needs of a message and of the number's API base:
 * INBOX_ERR_INVALID naming api_base, to, from, body or media_urls. */
inbox_status_t inbox_carrier_outbound_check(const inbox_number_t *number,
    const inbox_outbound_t *msg, inbox_error_t *err);

#endif
