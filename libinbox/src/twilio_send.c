/*
 * Twilio's Messages API: the send request and its answer (twilio.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <inbox/encoding.h>
#include <inbox/form.h>
#include <inbox/twilio.h>
#include <inbox/utf8.h>
#include "carrier_util.h"


/* Body, To, From, StatusCallback and the media, as name and value. */
#define INBOX_TWILIO_FIELDS_MAX  (4 + INBOX_MEDIA_MAX)


static inbox_status_t inbox_twilio_send_check(const inbox_number_t *number,
    const inbox_outbound_t *msg, inbox_error_t *err);
static inbox_status_t inbox_twilio_number_check(
    const inbox_number_t *number, inbox_error_t *err);
static int inbox_twilio_basic_auth(inbox_carrier_request_t *req,
    const char *sid, const char *token);
static void inbox_twilio_error(yajl_val root,
    char code[INBOX_CARRIER_CODE_MAX], const char **text);


inbox_status_t
inbox_twilio_send_request(const inbox_number_t *number,
    const inbox_outbound_t *msg, inbox_carrier_request_t *req,
    inbox_error_t *err)
{
    char            path[96];
    size_t          i, n;
    const char     *fields[2 * INBOX_TWILIO_FIELDS_MAX];
    inbox_status_t  rc;

    memset(req, 0, sizeof(*req));

    rc = inbox_twilio_send_check(number, msg, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    n = 0;
    fields[n++] = "To";
    fields[n++] = msg->to;
    fields[n++] = "From";
    fields[n++] = msg->from;

    if (msg->body != NULL && msg->body[0] != '\0') {
        fields[n++] = "Body";
        fields[n++] = msg->body;
    }

    for (i = 0; i < msg->media_count; i++) {
        fields[n++] = "MediaUrl";
        fields[n++] = msg->media_urls[i];
    }

    if (msg->status_url != NULL) {
        fields[n++] = "StatusCallback";
        fields[n++] = msg->status_url;
    }

    /* the SID is checked: 34 letters and digits */
    snprintf(path, sizeof(path), "/2010-04-01/Accounts/%s/Messages.json",
             number->account_sid);

    req->method = "POST";
    req->url = inbox_carrier_url(number->api_base, INBOX_TWILIO_API_BASE,
                                 path);
    req->body = inbox_form_encode(fields, n / 2, &req->len);

    if (req->url == NULL || req->body == NULL
        || inbox_twilio_basic_auth(req, number->account_sid,
                                   number->auth_token) != 0
        || inbox_carrier_header(req, "Content-Type",
                                "application/x-www-form-urlencoded") != 0
        || inbox_carrier_header(req, "Accept", "application/json") != 0)
    {
        inbox_carrier_request_free(req);
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    return INBOX_OK;
}


void
inbox_twilio_send_result(long http_status, const char *body, size_t len,
    inbox_send_result_t *res)
{
    char                 code[INBOX_CARRIER_CODE_MAX];
    yajl_val             root;
    const char          *sid, *text;
    inbox_delivery_t     status;
    inbox_send_outcome_t outcome;
    static const char   *sid_path[] = { "sid", NULL };
    static const char   *status_path[] = { "status", NULL };
    static const char   *error_code_path[] = { "error_code", NULL };
    static const char   *error_text_path[] = { "error_message", NULL };

    root = inbox_carrier_json(body, len);

    if (http_status >= 200 && http_status <= 299) {
        sid = inbox_carrier_string(inbox_carrier_get(root, sid_path));

        if (sid == NULL || (!inbox_twilio_sid_valid(sid, "SM")
                            && !inbox_twilio_sid_valid(sid, "MM")))
        {
            inbox_carrier_result(res, INBOX_SEND_UNKNOWN, NULL,
                "Twilio answered HTTP %ld without a message SID: the "
                "message may have been sent.", http_status);
            goto done;
        }

        if (inbox_twilio_status_map(
                inbox_carrier_string(inbox_carrier_get(root, status_path)),
                &status) != 0)
        {
            status = INBOX_DELIVERY_QUEUED;
        }

        /* the Message resource: error_code and error_message null but
         * when it failed already */
        if (inbox_carrier_code(inbox_carrier_get(root, error_code_path),
                               code)
            != 0)
        {
            code[0] = '\0';
        }

        inbox_carrier_accepted(res, "Twilio", sid, status, code,
            inbox_carrier_string(inbox_carrier_get(root, error_text_path)),
            strcmp(code, INBOX_TWILIO_OPTED_OUT) == 0);
        goto done;
    }

    code[0] = '\0';
    text = NULL;

    if (root != NULL && YAJL_IS_OBJECT(root)) {
        inbox_twilio_error(root, code, &text);
    }

    outcome = inbox_carrier_refusal(INBOX_CARRIER_TWILIO, http_status,
                                    code);

    if (strcmp(code, INBOX_TWILIO_OPTED_OUT) == 0) {
        outcome = INBOX_SEND_OPTED_OUT;
    }

    if (outcome == INBOX_SEND_UNKNOWN) {
        inbox_carrier_unknown(res, "Twilio", http_status, code);
        goto done;
    }

    if (root == NULL || !YAJL_IS_OBJECT(root)) {
        inbox_carrier_result(res, outcome, NULL,
            "Twilio answered HTTP %ld with no error it documents.",
            http_status);
        goto done;
    }

    inbox_carrier_result(res, outcome, code,
        "Twilio refused the message (HTTP %ld%s%s): %s", http_status,
        code[0] ? ", error " : "", code,
        text ? text : "no reason given");

done:

    if (root != NULL) {
        yajl_tree_free(root);
    }
}


inbox_status_t
inbox_twilio_status_request(const inbox_number_t *number, const char *sid,
    inbox_carrier_request_t *req, inbox_error_t *err)
{
    char            path[128];
    inbox_status_t  rc;

    memset(req, 0, sizeof(*req));

    rc = inbox_twilio_number_check(number, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    /* checked: letters and digits only, nothing a path would read */
    if (!inbox_twilio_sid_valid(sid, "SM")
        && !inbox_twilio_sid_valid(sid, "MM"))
    {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "provider_id",
                   "The message's Twilio SID is not SM or MM and 32 hex "
                   "digits.");
    }

    snprintf(path, sizeof(path), "/2010-04-01/Accounts/%s/Messages/%s.json",
             number->account_sid, sid);

    req->method = "GET";
    req->url = inbox_carrier_url(number->api_base, INBOX_TWILIO_API_BASE,
                                 path);

    if (req->url == NULL) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "api_base",
                   "The number's API base is not an http or https URL.");
    }

    if (inbox_twilio_basic_auth(req, number->account_sid,
                                number->auth_token) != 0
        || inbox_carrier_header(req, "Accept", "application/json") != 0)
    {
        inbox_carrier_request_free(req);
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    return INBOX_OK;
}


int
inbox_twilio_status_answer(long http_status, const char *body, size_t len,
    const char *sid, inbox_status_update_t *update,
    char why[INBOX_CARRIER_MESSAGE_MAX])
{
    int                 rc;
    yajl_val            root, v;
    const char         *s;
    static const char  *sid_path[] = { "sid", NULL };
    static const char  *status_path[] = { "status", NULL };
    static const char  *error_code_path[] = { "error_code", NULL };

    rc = inbox_carrier_status_object("Twilio", http_status, body, len,
                                     inbox_twilio_error,
                                     INBOX_TWILIO_NOT_FOUND, &root, why);
    if (rc != 0) {
        goto done;
    }

    s = inbox_carrier_string(inbox_carrier_get(root, sid_path));
    if (s == NULL || sid == NULL || strcmp(s, sid) != 0) {
        rc = inbox_carrier_status_unknown(why, "Twilio answered with "
                                          "another message than %s.",
                                          sid ? sid : "");
        goto done;
    }

    s = inbox_carrier_string(inbox_carrier_get(root, status_path));
    if (inbox_twilio_status_map(s, &update->status) != 0) {
        rc = inbox_carrier_status_unknown(why, "Twilio answered a status "
                                          "of no outbound message: %s",
                                          s ? s : "none");
        goto done;
    }

    /* null but when it failed; any other kind of value is not Twilio's */
    v = inbox_carrier_get(root, error_code_path);
    if (v != NULL && !YAJL_IS_NULL(v)
        && inbox_carrier_code(v, update->error_code) != 0)
    {
        rc = inbox_carrier_status_unknown(why, "Twilio answered an "
                                          "error_code that is no code.");
        goto done;
    }

    /* sid equals the answer's, which sid_valid had checked */
    snprintf(update->provider_id, sizeof(update->provider_id), "%s", sid);
    update->opted_out = strcmp(update->error_code,
                               INBOX_TWILIO_OPTED_OUT) == 0;
    update->final = inbox_delivery_final(update->status);
    rc = 0;

done:

    if (rc != 0) {
        memset(update, 0, sizeof(*update));
    }

    if (root != NULL) {
        yajl_tree_free(root);
    }

    return rc;
}


/* What Twilio needs of the number and of the message. */
static inbox_status_t
inbox_twilio_send_check(const inbox_number_t *number,
    const inbox_outbound_t *msg, inbox_error_t *err)
{
    inbox_status_t  rc;

    rc = inbox_twilio_number_check(number, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    return inbox_carrier_outbound_check(number, msg, err);
}


/* What Twilio needs of the number: an account SID and its auth token. */
static inbox_status_t
inbox_twilio_number_check(const inbox_number_t *number, inbox_error_t *err)
{
    if (!inbox_twilio_sid_valid(number->account_sid, "AC")) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "account_sid",
                   "The number has no Twilio account SID (AC and 32 hex "
                   "digits): add it with inboxctl number add.");
    }

    if (number->auth_token == NULL || number->auth_token[0] == '\0') {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "auth_token",
                   "The number has no Twilio auth token: add it with "
                   "inboxctl number add.");
    }

    return INBOX_OK;
}


static int
inbox_twilio_basic_auth(inbox_carrier_request_t *req, const char *sid,
    const char *token)
{
    int      rc;
    char    *plain, *encoded;
    size_t   len;

    len = strlen(sid) + 1 + strlen(token);

    plain = malloc(len + 1);
    encoded = malloc(6 + INBOX_BASE64_LEN(len));

    rc = -1;

    if (encoded != NULL) {
        encoded[0] = '\0';
    }

    if (plain != NULL && encoded != NULL) {
        snprintf(plain, len + 1, "%s:%s", sid, token);
        memcpy(encoded, "Basic ", 6);
        inbox_base64_encode((const unsigned char *) plain, len, encoded + 6);
        rc = inbox_carrier_header(req, "Authorization", encoded);
    }

    /* the token is a secret: leave no copy behind */
    if (plain != NULL) {
        OPENSSL_cleanse(plain, len);
    }
    if (encoded != NULL) {
        OPENSSL_cleanse(encoded, strlen(encoded));
    }

    free(plain);
    free(encoded);

    return rc;
}


/* Twilio's error answer: {"code": 20404, "message": "...", ...}. */
static void
inbox_twilio_error(yajl_val root, char code[INBOX_CARRIER_CODE_MAX],
    const char **text)
{
    static const char  *code_path[] = { "code", NULL };
    static const char  *message_path[] = { "message", NULL };

    if (inbox_carrier_code(inbox_carrier_get(root, code_path), code) != 0) {
        code[0] = '\0';
    }

    *text = inbox_carrier_string(inbox_carrier_get(root, message_path));
}
