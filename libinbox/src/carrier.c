/*
 * Sending through a carrier: the choice of carrier, and what the carrier
 * files share (see carrier.h and carrier_util.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <inbox/carrier.h>
#include <inbox/request.h>
#include <inbox/telnyx.h>
#include <inbox/twilio.h>
#include <inbox/utf8.h>
#include "carrier_util.h"


/*
 * The errors a carrier documents as "not taken, try again", whatever the
 * 4xx or 5xx they come with: Twilio's 20503 (service unavailable), 21730
 * (maintenance) and 21611 (its HTTP 400: the From number's queue holds
 * as many messages as it can send in 10 hours).  Not Telnyx's 10007
 * ("unexpected error", with a 500): Telnyx does not say that it comes
 * only before a message is queued, so it is unknown, never sent again,
 * as Twilio's 20500.  slow_down: the number sends more than the carrier
 * takes, as a 429 says, so the number is held rather than this one
 * message retried (inbox_send_result_t).
 */
static const struct {
    inbox_carrier_t   carrier;
    const char       *code;
    int               slow_down;
} inbox_carrier_not_taken[] = {
    { INBOX_CARRIER_TWILIO, "20503", 0 },
    { INBOX_CARRIER_TWILIO, "21730", 0 },
    { INBOX_CARRIER_TWILIO, "21611", 1 }
};

#define INBOX_CARRIER_NOT_TAKEN_N \
    (sizeof(inbox_carrier_not_taken) / sizeof(inbox_carrier_not_taken[0]))


/*
 * The errors that refuse the sending number's account or credentials
 * rather than one message: nothing from the number can go until a person
 * fixes its settings (inbox_send_result_t account).  Twilio's 20003
 * (Authenticate: a wrong account SID or auth token, or a suspended
 * account), 20005 and 10001 (the account is not active), 21661 (the From
 * number cannot send SMS), 21606 (the From number is not an SMS-capable
 * number of the account: not its, not SMS-capable, still porting), and
 * the two Twilio now answers for some of what 21606 said: 21660 (the
 * From number is not the account's) and 21659 (not a Twilio number, or
 * one still porting);
 * Telnyx's 10009 (authentication failed: a wrong API key), 10010
 * (authorization failed: the key may not act on the number) and 40305
 * (the from number is not in the sending messaging profile).  Twilio
 * also answers 21606 and 21659 for a short code sending abroad, one
 * recipient's refusal, but the inbox sends from E.164 numbers only
 * (inboxctl number add refuses a short code), so here they are always
 * the number's.
 */
static const struct {
    inbox_carrier_t   carrier;
    const char       *code;
} inbox_carrier_account_codes[] = {
    { INBOX_CARRIER_TWILIO, "20003" },
    { INBOX_CARRIER_TWILIO, "20005" },
    { INBOX_CARRIER_TWILIO, "10001" },
    { INBOX_CARRIER_TWILIO, "21661" },
    { INBOX_CARRIER_TWILIO, "21606" },
    { INBOX_CARRIER_TWILIO, "21659" },
    { INBOX_CARRIER_TWILIO, "21660" },
    { INBOX_CARRIER_TELNYX, "10009" },
    { INBOX_CARRIER_TELNYX, "10010" },
    { INBOX_CARRIER_TELNYX, "40305" }
};

#define INBOX_CARRIER_ACCOUNT_N \
    (sizeof(inbox_carrier_account_codes) \
     / sizeof(inbox_carrier_account_codes[0]))


/* The table's index of carrier's code, or -1 when it is not there. */
static int
inbox_carrier_not_taken_find(inbox_carrier_t carrier, const char *code)
{
    size_t  i;

    if (code == NULL || code[0] == '\0') {
        return -1;
    }

    for (i = 0; i < INBOX_CARRIER_NOT_TAKEN_N; i++) {
        if (inbox_carrier_not_taken[i].carrier == carrier
            && strcmp(inbox_carrier_not_taken[i].code, code) == 0)
        {
            return (int) i;
        }
    }

    return -1;
}


inbox_status_t
inbox_carrier_send_request(const inbox_number_t *number,
    const inbox_outbound_t *msg, inbox_carrier_request_t *req,
    inbox_error_t *err)
{
    if (number->carrier == INBOX_CARRIER_TELNYX) {
        return inbox_telnyx_send_request(number, msg, req, err);
    }

    return inbox_twilio_send_request(number, msg, req, err);
}


void
inbox_carrier_send_result(inbox_carrier_t carrier, long http_status,
    const char *body, size_t len, inbox_send_result_t *res)
{
    int  i;

    if (carrier == INBOX_CARRIER_TELNYX) {
        inbox_telnyx_send_result(http_status, body, len, res);

    } else {
        inbox_twilio_send_result(http_status, body, len, res);
    }

    res->carrier = carrier;

    i = inbox_carrier_not_taken_find(carrier, res->error_code);
    res->slow_down = res->outcome == INBOX_SEND_RETRY
                     && (http_status == 429
                         || (i >= 0 && inbox_carrier_not_taken[i].slow_down));

    res->account = res->outcome == INBOX_SEND_REFUSED
                   && inbox_carrier_account_refused(carrier, http_status,
                                                    res->error_code);
}


int
inbox_carrier_account_refused(inbox_carrier_t carrier, long http_status,
    const char *code)
{
    size_t  i;

    /* the answer to the send itself: a report of a message the carrier
     * took comes with a 2xx */
    if (http_status < 400 || http_status > 499 || code == NULL) {
        return 0;
    }

    for (i = 0; i < INBOX_CARRIER_ACCOUNT_N; i++) {
        if (inbox_carrier_account_codes[i].carrier == carrier
            && strcmp(inbox_carrier_account_codes[i].code, code) == 0)
        {
            return 1;
        }
    }

    return 0;
}


inbox_status_t
inbox_carrier_status_request(const inbox_number_t *number,
    const char *provider_id, inbox_carrier_request_t *req,
    inbox_error_t *err)
{
    if (number->carrier == INBOX_CARRIER_TELNYX) {
        return inbox_telnyx_status_request(number, provider_id, req, err);
    }

    return inbox_twilio_status_request(number, provider_id, req, err);
}


int
inbox_carrier_status_answer(inbox_carrier_t carrier, long http_status,
    const char *body, size_t len, const char *provider_id,
    inbox_status_update_t *update, char why[INBOX_CARRIER_MESSAGE_MAX])
{
    memset(update, 0, sizeof(*update));
    why[0] = '\0';

    if (carrier == INBOX_CARRIER_TELNYX) {
        return inbox_telnyx_status_answer(http_status, body, len,
                                          provider_id, update, why);
    }

    return inbox_twilio_status_answer(http_status, body, len, provider_id,
                                      update, why);
}


void
inbox_carrier_request_free(inbox_carrier_request_t *req)
{
    size_t  i;

    for (i = 0; i < req->header_count; i++) {
        /* Authorization holds the carrier credentials */
        OPENSSL_cleanse(req->headers[i], strlen(req->headers[i]));
        free(req->headers[i]);
        req->headers[i] = NULL;
    }

    free(req->url);
    free(req->body);

    req->url = NULL;
    req->body = NULL;
    req->len = 0;
    req->header_count = 0;
}


const char *
inbox_send_outcome_name(inbox_send_outcome_t outcome)
{
    switch (outcome) {
    case INBOX_SEND_ACCEPTED:
        return "accepted";
    case INBOX_SEND_RETRY:
        return "retry";
    case INBOX_SEND_REFUSED:
        return "refused";
    case INBOX_SEND_OPTED_OUT:
        return "opted_out";
    case INBOX_SEND_WITHDRAWN:
        return "withdrawn";
    case INBOX_SEND_RELEASED:
        return "released";
    case INBOX_SEND_CANCELLED:
        return "cancelled";
    default:
        return "unknown";
    }
}


int
inbox_media_field_valid(const char *value, size_t len, int url, size_t size)
{
    int     c;
    size_t  i;

    if (len == 0 || len >= size) {
        return 0;
    }

    if (url && strncmp(value, "https://", 8) != 0
        && strncmp(value, "http://", 7) != 0)
    {
        return 0;
    }

    for (i = 0; i < len; i++) {
        c = (unsigned char) value[i];

        /* nothing a browser or a header would read otherwise */
        if (c < (url ? 0x21 : 0x20) || c > 0x7e) {
            return 0;
        }
    }

    return 1;
}


yajl_val
inbox_carrier_json(const char *body, size_t len)
{
    inbox_request_t  json;

    if (body == NULL || len > INBOX_CARRIER_ANSWER_MAX) {
        return NULL;
    }

    if (inbox_request_read(body, len, &json, NULL) != INBOX_OK) {
        return NULL;
    }

    return json.root;
}


yajl_val
inbox_carrier_get(yajl_val v, const char * const *path)
{
    return v == NULL ? NULL : yajl_tree_get(v, (const char **) path,
                                            yajl_t_any);
}


const char *
inbox_carrier_string(yajl_val v)
{
    return v != NULL && YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
}


int
inbox_carrier_code(yajl_val v, char out[INBOX_CARRIER_CODE_MAX])
{
    size_t       i;
    const char  *s;

    out[0] = '\0';

    if (v == NULL) {
        return -1;
    }

    if (YAJL_IS_INTEGER(v)) {
        snprintf(out, INBOX_CARRIER_CODE_MAX, "%lld",
                 (long long) YAJL_GET_INTEGER(v));
        return 0;
    }

    s = inbox_carrier_string(v);
    if (s == NULL || s[0] == '\0' || strlen(s) >= INBOX_CARRIER_CODE_MAX) {
        return -1;
    }

    for (i = 0; s[i]; i++) {
        if (s[i] < 0x21 || s[i] > 0x7e) {
            return -1;
        }
    }

    memcpy(out, s, i + 1);

    return 0;
}


int
inbox_carrier_id_valid(const char *id)
{
    size_t  i;

    if (id == NULL || id[0] == '\0') {
        return 0;
    }

    for (i = 0; id[i]; i++) {
        if (i >= INBOX_PROVIDER_ID_MAX - 1
            || !((id[i] >= '0' && id[i] <= '9')
                 || (id[i] >= 'a' && id[i] <= 'z')
                 || (id[i] >= 'A' && id[i] <= 'Z')
                 || id[i] == '-' || id[i] == '_'))
        {
            return 0;
        }
    }

    return 1;
}


void
inbox_carrier_result(inbox_send_result_t *res, inbox_send_outcome_t outcome,
    const char *code, const char *fmt, ...)
{
    va_list  ap;
    char     text[4 * INBOX_CARRIER_MESSAGE_MAX];

    memset(res, 0, sizeof(*res));
    res->outcome = outcome;
    res->status = outcome == INBOX_SEND_ACCEPTED ? INBOX_DELIVERY_QUEUED
                                                 : INBOX_DELIVERY_FAILED;

    if (code != NULL) {
        snprintf(res->error_code, sizeof(res->error_code), "%s", code);
    }

    /* formatted long, then cut short between characters */
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);

    inbox_carrier_text(text, res->message, sizeof(res->message));
}


int
inbox_carrier_status_unknown(char why[INBOX_CARRIER_MESSAGE_MAX],
    const char *fmt, ...)
{
    va_list  ap;
    char     text[4 * INBOX_CARRIER_MESSAGE_MAX];

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);

    inbox_carrier_text(text, why, INBOX_CARRIER_MESSAGE_MAX);

    return -1;
}


int
inbox_carrier_status_object(const char *carrier, long http_status,
    const char *body, size_t len, inbox_carrier_error_pt error,
    const char *not_found, yajl_val *root,
    char why[INBOX_CARRIER_MESSAGE_MAX])
{
    int          rc;
    char         code[INBOX_CARRIER_CODE_MAX];
    const char  *text;

    *root = NULL;

    if (http_status == 0) {
        return inbox_carrier_status_unknown(why, "%s did not answer.",
                                            carrier);
    }

    *root = inbox_carrier_json(body, len);

    if (*root == NULL || !YAJL_IS_OBJECT(*root)) {
        rc = inbox_carrier_status_unknown(why, "%s answered HTTP %ld "
                                          "without a JSON object.", carrier,
                                          http_status);
        goto failed;
    }

    if (http_status != 200) {
        error(*root, code, &text);
        rc = inbox_carrier_status_unknown(why, "%s answered HTTP %ld%s%s: %s",
                                          carrier, http_status,
                                          code[0] ? ", error " : "", code,
                                          text ? text : "no reason given");

        /* the carrier's own "no such resource" (a JSON answer, with its
         * code when it has one), not a proxy's or a path's 404 */
        if (http_status == 404
            && (not_found == NULL || strcmp(code, not_found) == 0))
        {
            rc = INBOX_CARRIER_STATUS_NO_SUCH_MESSAGE;
        }

        goto failed;
    }

    return 0;

failed:

    if (*root != NULL) {
        yajl_tree_free(*root);
        *root = NULL;
    }

    return rc;
}


void
inbox_carrier_unknown(inbox_send_result_t *res, const char *carrier,
    long http_status, const char *code)
{
    if (http_status == 0) {
        inbox_carrier_result(res, INBOX_SEND_UNKNOWN, code[0] ? code : NULL,
                             "%s did not answer: the message may have been "
                             "sent.", carrier);
        return;
    }

    inbox_carrier_result(res, INBOX_SEND_UNKNOWN, code[0] ? code : NULL,
                         "%s answered HTTP %ld%s%s: the message may have "
                         "been sent.", carrier, http_status,
                         code[0] ? ", error " : "", code);
}


void
inbox_carrier_accepted(inbox_send_result_t *res, const char *carrier,
    const char *id, inbox_delivery_t status, const char *code,
    const char *text, int opted_out)
{
    if (status == INBOX_DELIVERY_FAILED
        || status == INBOX_DELIVERY_UNDELIVERED)
    {
        inbox_carrier_result(res,
            opted_out ? INBOX_SEND_OPTED_OUT : INBOX_SEND_REFUSED,
            code[0] != '\0' ? code : NULL,
            "%s took the message but says it failed%s%s: %s", carrier,
            code[0] != '\0' ? ", error " : "", code,
            text != NULL ? text : "no reason given");
        return;
    }

    inbox_carrier_result(res, INBOX_SEND_ACCEPTED, NULL,
                         "%s accepted the message.", carrier);
    snprintf(res->provider_id, sizeof(res->provider_id), "%s", id);
    res->status = status == INBOX_DELIVERY_DELIVERED ? INBOX_DELIVERY_SENT
                                                     : status;
}


inbox_send_outcome_t
inbox_carrier_refusal(inbox_carrier_t carrier, long http_status,
    const char *code)
{
    /* a rate limit, or a request the server gave up reading, is turned
     * away before anything is done */
    if (http_status == 429 || http_status == 408) {
        return INBOX_SEND_RETRY;
    }

    if (http_status >= 500 && http_status <= 599) {

        /* a gateway's 502 or 504, or a page that is not the carrier's
         * error: the carrier may have acted, like no answer at all */
        if (http_status == 502 || http_status == 504
            || code == NULL || code[0] == '\0')
        {
            return INBOX_SEND_UNKNOWN;
        }

        if (http_status == 503
            || inbox_carrier_not_taken_find(carrier, code) >= 0)
        {
            return INBOX_SEND_RETRY;
        }

        /* Twilio's 20500, Telnyx's 10007: a message sent again may
         * arrive twice */
        return INBOX_SEND_UNKNOWN;
    }

    if (http_status == 0 || (http_status >= 200 && http_status <= 299)) {
        return INBOX_SEND_UNKNOWN;
    }

    /* a 4xx whose error says the message was not taken for now, as
     * Twilio's 21611 (the number's queue is full) */
    if (http_status >= 400 && http_status <= 499
        && inbox_carrier_not_taken_find(carrier, code) >= 0)
    {
        return INBOX_SEND_RETRY;
    }

    return INBOX_SEND_REFUSED;
}


void
inbox_carrier_text(const char *s, char *out, size_t size)
{
    size_t  i, len;

    len = strlen(s);

    if (len >= size) {
        len = size - 1;

        /* back to the start of a character */
        while (len > 0 && ((unsigned char) s[len] & 0xC0) == 0x80) {
            len--;
        }
    }

    for (i = 0; i < len; i++) {
        out[i] = (unsigned char) s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
    }

    out[len] = '\0';
}


char *
inbox_carrier_url(const char *api_base, const char *dflt, const char *path)
{
    char    *url;
    size_t   len;

    if (api_base == NULL || api_base[0] == '\0') {
        api_base = dflt;
    }

    if (strncmp(api_base, "https://", 8) != 0
        && strncmp(api_base, "http://", 7) != 0)
    {
        return NULL;
    }

    len = strlen(api_base);

    while (len > 0 && api_base[len - 1] == '/') {
        len--;
    }

    if (asprintf(&url, "%.*s%s", (int) len, api_base, path) < 0) {
        return NULL;
    }

    return url;
}


int
inbox_carrier_header(inbox_carrier_request_t *req, const char *name,
    const char *value)
{
    size_t  i;

    if (req->header_count >= INBOX_CARRIER_HEADERS_MAX) {
        return -1;
    }

    for (i = 0; value[i]; i++) {
        if ((unsigned char) value[i] < 0x20 || value[i] == 0x7f) {
            return -1;
        }
    }

    if (asprintf(&req->headers[req->header_count], "%s: %s", name, value)
        < 0)
    {
        req->headers[req->header_count] = NULL;
        return -1;
    }

    req->header_count++;

    return 0;
}


inbox_status_t
inbox_carrier_outbound_check(const inbox_number_t *number,
    const inbox_outbound_t *msg, inbox_error_t *err)
{
    size_t  i;

    if (number->api_base != NULL && number->api_base[0] != '\0'
        && strncmp(number->api_base, "https://", 8) != 0
        && strncmp(number->api_base, "http://", 7) != 0)
    {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "api_base",
                   "The number's API base is not an http or https URL.");
    }

    if (msg->to == NULL || msg->to[0] != '+') {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "to",
                   "The recipient is not an E.164 number.");
    }

    if (msg->from == NULL || msg->from[0] != '+') {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "from",
                   "The sending number is not an E.164 number.");
    }

    if (msg->body == NULL || !inbox_utf8_valid(msg->body, strlen(msg->body))
        || (msg->body[0] == '\0' && msg->media_count == 0))
    {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "body",
                   "The message needs UTF-8 text or media.");
    }

    if (msg->media_count > INBOX_MEDIA_MAX) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "media_urls",
                   "A message carries at most %d media.", INBOX_MEDIA_MAX);
    }

    for (i = 0; i < msg->media_count; i++) {
        if (msg->media_urls[i] == NULL
            || !inbox_media_field_valid(msg->media_urls[i],
                                        strlen(msg->media_urls[i]), 1,
                                        sizeof(((inbox_media_t *) 0)->url)))
        {
            return inbox_error_set_field(err, INBOX_ERR_INVALID,
                       "media_urls", "Media URL %zu is not an http or "
                       "https URL.", i);
        }
    }

    if (msg->status_url != NULL
        && !inbox_media_field_valid(msg->status_url,
                                    strlen(msg->status_url), 1, 1024))
    {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "status_url",
                   "The status callback is not an http or https URL.");
    }

    return INBOX_OK;
}
