/*
 * Telnyx: Ed25519 webhook signatures (OpenSSL), webhook events, and the
 * /v2/messages request and answer (telnyx.h).
 *
 * Telnyx signs with one key per account, not per number: a webhook is
 * read first to learn which of our numbers it concerns, and its
 * signature is then checked with that number's key before anything it
 * says is acted on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <yajl/yajl_gen.h>
#include <inbox/clock.h>
#include <inbox/encoding.h>
#include <inbox/form.h>
#include <inbox/inbound.h>
#include <inbox/outbox.h>
#include <inbox/phone.h>
#include <inbox/render.h>
#include <inbox/request.h>
#include <inbox/telnyx.h>
#include "carrier_util.h"


#define INBOX_TELNYX_FORGED                                                  \
    "The telnyx-signature-ed25519 header is missing or wrong for this "     \
    "number's public key."


static inbox_status_t inbox_telnyx_received(yajl_val data,
    yajl_val payload, const char *default_country, inbox_telnyx_event_t *ev,
    inbox_error_t *err);
static int64_t inbox_telnyx_carrier_at(yajl_val data, yajl_val payload,
    int64_t received_at);
static void inbox_telnyx_url_message(const char *url,
    char out[INBOX_ID_MAX]);
static inbox_status_t inbox_telnyx_status(yajl_val payload,
    const char *default_country, inbox_telnyx_event_t *ev,
    inbox_error_t *err);
static inbox_status_t inbox_telnyx_number(yajl_val v, const char *field,
    const char *default_country, char out[INBOX_PHONE_MAX],
    inbox_error_t *err);
static yajl_val inbox_telnyx_first(yajl_val v);
static int inbox_telnyx_errors(yajl_val errors,
    char code[INBOX_CARRIER_CODE_MAX], const char **text);
static void inbox_telnyx_error(yajl_val root,
    char code[INBOX_CARRIER_CODE_MAX], const char **text);
static inbox_status_t inbox_telnyx_number_check(
    const inbox_number_t *number, inbox_error_t *err);
static inbox_status_t inbox_telnyx_send_check(const inbox_number_t *number,
    const inbox_outbound_t *msg, inbox_error_t *err);


int
inbox_ed25519_valid(const unsigned char *public_key,
    const unsigned char *msg, size_t len, const unsigned char *sig)
{
    int          ok;
    EVP_PKEY    *pkey;
    EVP_MD_CTX  *ctx;

    pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, public_key,
                                       32);
    ctx = EVP_MD_CTX_new();

    /* Ed25519 hashes inside: no digest, the whole message at once */
    ok = pkey != NULL && ctx != NULL
         && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) == 1
         && EVP_DigestVerify(ctx, sig, 64, msg, len) == 1;

    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pkey);

    return ok;
}


int
inbox_telnyx_public_key_valid(const char *public_key)
{
    unsigned char  key[48];

    return public_key != NULL
           && inbox_base64_decode(public_key, strlen(public_key), key,
                                  sizeof(key)) == 32;
}


int
inbox_telnyx_signature_valid(const char *public_key, const char *signature,
    const char *timestamp, const char *body, size_t len, int64_t now)
{
    int             ok;
    char           *end, *signed_bytes;
    size_t          ts_len, i;
    long long       ts;
    unsigned char   key[48], sig[96];

    if (public_key == NULL || signature == NULL || timestamp == NULL) {
        return 0;
    }

    ts_len = strlen(timestamp);
    if (ts_len == 0 || ts_len > 18) {
        return 0;
    }

    for (i = 0; i < ts_len; i++) {
        if (timestamp[i] < '0' || timestamp[i] > '9') {
            return 0;
        }
    }

    errno = 0;
    ts = strtoll(timestamp, &end, 10);
    if (errno != 0 || *end != '\0'
        || ts < now - INBOX_TELNYX_TOLERANCE_S
        || ts > now + INBOX_TELNYX_TOLERANCE_S)
    {
        return 0;
    }

    if (inbox_base64_decode(public_key, strlen(public_key), key, sizeof(key))
        != 32
        || inbox_base64_decode(signature, strlen(signature), sig,
                               sizeof(sig)) != 64)
    {
        return 0;
    }

    /* the signed bytes: "timestamp|body" */
    signed_bytes = malloc(ts_len + 1 + len);
    if (signed_bytes == NULL) {
        return 0;
    }

    memcpy(signed_bytes, timestamp, ts_len);
    signed_bytes[ts_len] = '|';
    if (len > 0) {
        memcpy(signed_bytes + ts_len + 1, body, len);
    }

    ok = inbox_ed25519_valid(key, (const unsigned char *) signed_bytes,
                             ts_len + 1 + len, sig);

    free(signed_bytes);

    return ok;
}


inbox_status_t
inbox_telnyx_webhook_verify(const inbox_number_t *number,
    const char *signature, const char *timestamp, const char *body,
    size_t len, int64_t now, inbox_error_t *err)
{
    const char  *key;

    key = NULL;
    if (number != NULL && number->carrier == INBOX_CARRIER_TELNYX) {
        key = number->public_key;
    }

    if (inbox_telnyx_signature_valid(key, signature, timestamp, body, len,
                                     now))
    {
        return INBOX_OK;
    }

    /* the same answer for an unknown number, a forgery and a replay; the
     * message only helps whoever configures a real account */
    return inbox_error_set(err, INBOX_ERR_FORBIDDEN, "%s",
                           INBOX_TELNYX_FORGED " (Or telnyx-timestamp is "
                           "more than 5 minutes from now.)");
}


inbox_status_t
inbox_telnyx_event_parse(const char *body, size_t len,
    const char *default_country, inbox_telnyx_event_t *ev,
    inbox_error_t *err)
{
    yajl_val            data, payload;
    const char         *type;
    inbox_status_t      rc;
    inbox_request_t     json;
    static const char  *data_path[] = { "data", NULL };
    static const char  *type_path[] = { "event_type", NULL };
    static const char  *payload_path[] = { "payload", NULL };

    memset(ev, 0, sizeof(*ev));
    ev->inbound.body = "";

    /* bounded where it was read (inbox_max_body), not by the carrier
     * answers' limit: a long MMS event is no bad one.  The reader's
     * reason says what is wrong with it. */
    rc = inbox_request_read(body, len, &json, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    ev->root = json.root;

    data = inbox_carrier_get(ev->root, data_path);
    type = inbox_carrier_string(inbox_carrier_get(data, type_path));
    payload = inbox_carrier_get(data, payload_path);

    if (type == NULL || type[0] == '\0'
        || strlen(type) >= sizeof(ev->event_type))
    {
        inbox_telnyx_event_free(ev);
        return inbox_error_set_field(err, INBOX_ERR_INVALID,
                                     "data.event_type",
                                     "The webhook has no event type.");
    }

    memcpy(ev->event_type, type, strlen(type) + 1);

    if (strcmp(type, "message.received") == 0) {
        ev->kind = INBOX_TELNYX_EVENT_RECEIVED;
        rc = inbox_telnyx_received(data, payload, default_country, ev,
                                   err);

    } else if (strcmp(type, "message.sent") == 0
               || strcmp(type, "message.finalized") == 0)
    {
        ev->kind = INBOX_TELNYX_EVENT_STATUS;
        rc = inbox_telnyx_status(payload, default_country, ev, err);
        ev->update.final = strcmp(type, "message.finalized") == 0;

    } else {
        rc = INBOX_OK;
    }

    if (rc != INBOX_OK) {
        inbox_telnyx_event_free(ev);
    }

    return rc;
}


void
inbox_telnyx_event_free(inbox_telnyx_event_t *ev)
{
    if (ev == NULL) {
        return;
    }

    inbox_inbound_free(&ev->inbound);

    if (ev->root != NULL) {
        yajl_tree_free(ev->root);
        ev->root = NULL;
    }
}


int
inbox_telnyx_status_map(const char *telnyx_status, inbox_delivery_t *status)
{
    size_t  i;
    static const struct {
        const char        *name;
        inbox_delivery_t   status;
    } map[] = {
        { "queued",                INBOX_DELIVERY_QUEUED },
        { "sending",               INBOX_DELIVERY_SENDING },
        { "sent",                  INBOX_DELIVERY_SENT },
        { "delivered",             INBOX_DELIVERY_DELIVERED },
        { "sending_failed",        INBOX_DELIVERY_FAILED },
        { "delivery_failed",       INBOX_DELIVERY_UNDELIVERED },
        /* the carrier gave up within the validity period (40005): not
         * delivered, Telnyx bills nothing, and it may come in message.sent
         * as well as in message.finalized */
        { "expired",               INBOX_DELIVERY_UNDELIVERED },
        { "delivery_unconfirmed",  INBOX_DELIVERY_SENT }
    };

    for (i = 0; telnyx_status != NULL && i < sizeof(map) / sizeof(map[0]);
         i++)
    {
        if (strcmp(telnyx_status, map[i].name) == 0) {
            *status = map[i].status;
            return 0;
        }
    }

    return -1;
}


inbox_status_t
inbox_telnyx_send_request(const inbox_number_t *number,
    const inbox_outbound_t *msg, inbox_carrier_request_t *req,
    inbox_error_t *err)
{
    char            *auth;
    size_t           i;
    yajl_gen         g;
    inbox_status_t   rc;

    memset(req, 0, sizeof(*req));

    rc = inbox_telnyx_send_check(number, msg, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    g = inbox_json_begin();
    if (g != NULL) {
        yajl_gen_map_open(g);
        inbox_json_key(g, "from");
        inbox_json_string(g, msg->from);
        inbox_json_key(g, "to");
        inbox_json_string(g, msg->to);

        if (msg->body[0] != '\0') {
            inbox_json_key(g, "text");
            inbox_json_string(g, msg->body);
        }

        if (msg->media_count > 0) {
            inbox_json_key(g, "media_urls");
            yajl_gen_array_open(g);
            for (i = 0; i < msg->media_count; i++) {
                inbox_json_string(g, msg->media_urls[i]);
            }
            yajl_gen_array_close(g);
        }

        if (msg->status_url != NULL) {
            inbox_json_key(g, "webhook_url");
            inbox_json_string(g, msg->status_url);
        }

        yajl_gen_map_close(g);
    }

    req->method = "POST";
    req->body = inbox_json_finish(g, &req->len);
    req->url = inbox_carrier_url(number->api_base, INBOX_TELNYX_API_BASE,
                                 "/v2/messages");

    auth = NULL;
    if (asprintf(&auth, "Bearer %s", number->api_key) < 0) {
        auth = NULL;
    }

    if (req->body == NULL || req->url == NULL || auth == NULL
        || inbox_carrier_header(req, "Authorization", auth) != 0
        || inbox_carrier_header(req, "Content-Type", "application/json")
           != 0
        || inbox_carrier_header(req, "Accept", "application/json") != 0)
    {
        rc = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        inbox_carrier_request_free(req);
    }

    if (auth != NULL) {
        OPENSSL_cleanse(auth, strlen(auth));
        free(auth);
    }

    return rc;
}


void
inbox_telnyx_send_result(long http_status, const char *body, size_t len,
    inbox_send_result_t *res)
{
    char                  code[INBOX_CARRIER_CODE_MAX];
    yajl_val              root, to;
    const char           *id, *text;
    inbox_delivery_t      status;
    inbox_send_outcome_t  outcome;
    static const char    *id_path[] = { "data", "id", NULL };
    static const char    *to_path[] = { "data", "to", NULL };
    static const char    *data_errors_path[] = { "data", "errors", NULL };
    static const char    *status_path[] = { "status", NULL };

    root = inbox_carrier_json(body, len);

    if (http_status >= 200 && http_status <= 299) {
        id = inbox_carrier_string(inbox_carrier_get(root, id_path));

        if (!inbox_carrier_id_valid(id)) {
            inbox_carrier_result(res, INBOX_SEND_UNKNOWN, NULL,
                "Telnyx answered HTTP %ld without a message id: the "
                "message may have been sent.", http_status);
            goto done;
        }

        to = inbox_telnyx_first(inbox_carrier_get(root, to_path));

        if (inbox_telnyx_status_map(
                inbox_carrier_string(inbox_carrier_get(to, status_path)),
                &status) != 0)
        {
            status = INBOX_DELIVERY_QUEUED;
        }

        /* the message's own errors, empty but when it failed already */
        if (inbox_telnyx_errors(inbox_carrier_get(root, data_errors_path),
                                code, &text)
            != 0)
        {
            code[0] = '\0';
            text = NULL;
        }

        inbox_carrier_accepted(res, "Telnyx", id, status, code, text,
                               strcmp(code, INBOX_TELNYX_OPTED_OUT) == 0);
        goto done;
    }

    inbox_telnyx_error(root, code, &text);

    outcome = inbox_carrier_refusal(INBOX_CARRIER_TELNYX, http_status,
                                    code);

    if (strcmp(code, INBOX_TELNYX_OPTED_OUT) == 0) {
        outcome = INBOX_SEND_OPTED_OUT;
    }

    if (outcome == INBOX_SEND_UNKNOWN) {
        inbox_carrier_unknown(res, "Telnyx", http_status, code);
        goto done;
    }

    if (code[0] == '\0') {
        inbox_carrier_result(res, outcome, NULL,
            "Telnyx answered HTTP %ld with no error it documents.",
            http_status);
        goto done;
    }

    inbox_carrier_result(res, outcome, code,
        "Telnyx refused the message (HTTP %ld%s%s): %s", http_status,
        code[0] ? ", error " : "", code, text ? text : "no reason given");

done:

    if (root != NULL) {
        yajl_tree_free(root);
    }
}


inbox_status_t
inbox_telnyx_status_request(const inbox_number_t *number, const char *id,
    inbox_carrier_request_t *req, inbox_error_t *err)
{
    char            *auth, path[32 + INBOX_PROVIDER_ID_MAX];
    inbox_status_t   rc;

    memset(req, 0, sizeof(*req));

    rc = inbox_telnyx_number_check(number, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    /* checked: letters, digits, '-' and '_', nothing a path would read */
    if (!inbox_carrier_id_valid(id)) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "provider_id",
                   "The message's Telnyx id is not one Telnyx gives.");
    }

    snprintf(path, sizeof(path), "/v2/messages/%s", id);

    req->method = "GET";
    req->url = inbox_carrier_url(number->api_base, INBOX_TELNYX_API_BASE,
                                 path);

    if (req->url == NULL) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "api_base",
                   "The number's API base is not an http or https URL.");
    }

    auth = NULL;
    if (asprintf(&auth, "Bearer %s", number->api_key) < 0) {
        auth = NULL;
    }

    if (auth == NULL
        || inbox_carrier_header(req, "Authorization", auth) != 0
        || inbox_carrier_header(req, "Accept", "application/json") != 0)
    {
        rc = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        inbox_carrier_request_free(req);
    }

    if (auth != NULL) {
        OPENSSL_cleanse(auth, strlen(auth));
        free(auth);
    }

    return rc;
}


int
inbox_telnyx_status_answer(long http_status, const char *body, size_t len,
    const char *id, inbox_status_update_t *update,
    char why[INBOX_CARRIER_MESSAGE_MAX])
{
    int                 rc;
    yajl_val            root, to;
    const char         *s, *text;
    static const char  *id_path[] = { "data", "id", NULL };
    static const char  *to_path[] = { "data", "to", NULL };
    static const char  *status_path[] = { "status", NULL };
    static const char  *data_errors_path[] = { "data", "errors", NULL };

    rc = inbox_carrier_status_object("Telnyx", http_status, body, len,
                                     inbox_telnyx_error, NULL, &root, why);
    if (rc != 0) {
        goto done;
    }

    s = inbox_carrier_string(inbox_carrier_get(root, id_path));
    if (s == NULL || id == NULL || strcmp(s, id) != 0
        || !inbox_carrier_id_valid(s))
    {
        rc = inbox_carrier_status_unknown(why, "Telnyx answered with "
                                          "another message than the one "
                                          "asked about.");
        goto done;
    }

    to = inbox_telnyx_first(inbox_carrier_get(root, to_path));
    s = inbox_carrier_string(inbox_carrier_get(to, status_path));

    if (inbox_telnyx_status_map(s, &update->status) != 0) {
        rc = inbox_carrier_status_unknown(why, "Telnyx answered no "
                                          "recipient status it documents: "
                                          "%s", s ? s : "none");
        goto done;
    }

    /* delivery_unconfirmed: sent, and no receipt will come */
    update->final = inbox_delivery_final(update->status)
                    || strcmp(s, "delivery_unconfirmed") == 0;

    if (inbox_telnyx_errors(inbox_carrier_get(root, data_errors_path),
                            update->error_code, &text)
        == 0)
    {
        update->opted_out = strcmp(update->error_code,
                                   INBOX_TELNYX_OPTED_OUT) == 0;
    }

    memcpy(update->provider_id, id, strlen(id) + 1);
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


/* message.received into ev->inbound (what is kept: inbound.h). */
static inbox_status_t
inbox_telnyx_received(yajl_val data, yajl_val payload,
    const char *default_country, inbox_telnyx_event_t *ev,
    inbox_error_t *err)
{
    size_t              i, more;
    yajl_val            v, media, item;
    const char         *id, *text, *url, *type;
    inbox_status_t      rc;
    inbox_inbound_t    *msg;
    static const char  *id_path[] = { "id", NULL };
    static const char  *from_path[] = { "from", NULL };
    static const char  *to_path[] = { "to", NULL };
    static const char  *text_path[] = { "text", NULL };
    static const char  *media_path[] = { "media", NULL };
    static const char  *parts_path[] = { "parts", NULL };
    static const char  *url_path[] = { "url", NULL };
    static const char  *type_path[] = { "content_type", NULL };

    msg = &ev->inbound;
    msg->carrier = INBOX_CARRIER_TELNYX;

    id = inbox_carrier_string(inbox_carrier_get(payload, id_path));
    if (!inbox_carrier_id_valid(id)) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID,
                   "data.payload.id", "the webhook has no message id of "
                   "at most %d letters, digits, '-' or '_'",
                   INBOX_PROVIDER_ID_MAX - 1);
    }

    msg->provider_id = id;

    rc = inbox_telnyx_number(inbox_carrier_get(payload, from_path),
                             "data.payload.from.phone_number",
                             default_country, msg->from, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_telnyx_number(inbox_telnyx_first(
                                 inbox_carrier_get(payload, to_path) ),
                             "data.payload.to[0].phone_number",
                             default_country, msg->to, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    memcpy(ev->number, msg->to, INBOX_PHONE_MAX);

    v = inbox_carrier_get(payload, text_path);
    text = inbox_carrier_string(v);

    if (v != NULL && !YAJL_IS_NULL(v) && text == NULL) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID,
                   "data.payload.text", "text is not a string");
    }

    if (text != NULL) {
        rc = inbox_inbound_body(msg, text, strlen(text), err);
        if (rc != INBOX_OK) {
            return rc;
        }
    }

    media = inbox_carrier_get(payload, media_path);

    if (media != NULL && !YAJL_IS_NULL(media)) {
        if (!YAJL_IS_ARRAY(media)) {
            return inbox_error_set_field(err, INBOX_ERR_INVALID,
                       "data.payload.media", "media is not a list");
        }

        more = 0;

        for (i = 0; i < media->u.array.len; i++) {
            item = media->u.array.values[i];
            url = inbox_carrier_string(inbox_carrier_get(item, url_path));
            type = inbox_carrier_string(inbox_carrier_get(item, type_path));

            if (inbox_inbound_media_is_layout(type, type ? strlen(type)
                                                         : 0))
            {
                continue;
            }

            /* the first ten kept, the rest noted (inbound.h) */
            if (msg->media_count == INBOX_MEDIA_MAX) {
                more++;
                continue;
            }

            /* a type left out or null is unknown ("") until the copy
             * reads it from the bytes; an item it cannot fetch is kept
             * failed, not the message refused */
            inbox_inbound_media(&msg->media[msg->media_count++], url,
                                url ? strlen(url) : 0, type,
                                type ? strlen(type) : 0);
        }

        rc = inbox_inbound_media_over(msg, more, err);
        if (rc != INBOX_OK) {
            return rc;
        }
    }

    v = inbox_carrier_get(payload, parts_path);
    msg->segments = 1;
    if (v != NULL && YAJL_IS_INTEGER(v) && YAJL_GET_INTEGER(v) >= 1
        && YAJL_GET_INTEGER(v) <= 1000000)
    {
        msg->segments = (unsigned) YAJL_GET_INTEGER(v);
    }

    msg->received_at = inbox_now_ms();
    msg->carrier_at = inbox_telnyx_carrier_at(data, payload,
                                              msg->received_at);

    return INBOX_OK;
}


/*
 * When Telnyx got the message from the contact: the payload's
 * received_at, else the event's occurred_at (ISO 8601, "+00:00"), which a
 * retry of the webhook keeps, so that keywords are ordered as they were
 * sent (optout.h).  Never after its arrival here: a time ahead of our
 * clock would make every keyword after it older news.  0 when Telnyx
 * gives neither; the message's arrival stands for it.
 */
static int64_t
inbox_telnyx_carrier_at(yajl_val data, yajl_val payload, int64_t received_at)
{
    int64_t             at;
    const char         *s;
    static const char  *received_path[] = { "received_at", NULL };
    static const char  *occurred_path[] = { "occurred_at", NULL };

    s = inbox_carrier_string(inbox_carrier_get(payload, received_path));

    if (s == NULL || inbox_iso8601_parse_offset(s, &at) != 0 || at <= 0) {
        s = inbox_carrier_string(inbox_carrier_get(data, occurred_path));

        if (s == NULL || inbox_iso8601_parse_offset(s, &at) != 0
            || at <= 0)
        {
            return 0;
        }
    }

    return at < received_at ? at : received_at;
}


/* message.sent and message.finalized into ev->update. */
static inbox_status_t
inbox_telnyx_status(yajl_val payload, const char *default_country,
    inbox_telnyx_event_t *ev, inbox_error_t *err)
{
    yajl_val            to;
    const char         *id, *status, *text;
    inbox_status_t      rc;
    static const char  *id_path[] = { "id", NULL };
    static const char  *from_path[] = { "from", NULL };
    static const char  *to_path[] = { "to", NULL };
    static const char  *status_path[] = { "status", NULL };
    static const char  *errors_path[] = { "errors", NULL };
    static const char  *url_path[] = { "webhook_url", NULL };

    id = inbox_carrier_string(inbox_carrier_get(payload, id_path));
    if (!inbox_carrier_id_valid(id)) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID,
                   "data.payload.id", "the webhook has no message id of "
                   "at most %d letters, digits, '-' or '_'",
                   INBOX_PROVIDER_ID_MAX - 1);
    }

    memcpy(ev->update.provider_id, id, strlen(id) + 1);

    rc = inbox_telnyx_number(inbox_carrier_get(payload, from_path),
                             "data.payload.from.phone_number",
                             default_country, ev->number, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    to = inbox_telnyx_first(inbox_carrier_get(payload, to_path));
    status = inbox_carrier_string(inbox_carrier_get(to, status_path));

    if (inbox_telnyx_status_map(status, &ev->update.status) != 0) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID,
                   "data.payload.to[0].status", "the webhook has no "
                   "recipient status Telnyx documents");
    }

    if (inbox_telnyx_errors(inbox_carrier_get(payload, errors_path),
                            ev->update.error_code, &text) == 0)
    {
        ev->update.opted_out = strcmp(ev->update.error_code,
                                      INBOX_TELNYX_OPTED_OUT) == 0;
    }

    inbox_telnyx_url_message(
        inbox_carrier_string(inbox_carrier_get(payload, url_path)),
        ev->message_id);

    return INBOX_OK;
}


/* The message url's "message" query parameter names (read as any query,
 * inbox_form_parse; inbox_outbox_callback_message), else "". */
static void
inbox_telnyx_url_message(const char *url, char out[INBOX_ID_MAX])
{
    const char    *query, *value;
    inbox_form_t   form;

    out[0] = '\0';

    query = url != NULL ? strchr(url, '?') : NULL;
    if (query == NULL) {
        return;
    }

    query++;

    if (inbox_form_parse(query, strcspn(query, "#"), &form, NULL)
        != INBOX_OK)
    {
        return;
    }

    value = inbox_form_get(&form, "message");

    if (value != NULL) {
        inbox_outbox_callback_message(value, strlen(value), out);
    }

    inbox_form_free(&form);
}


/* {"phone_number": …} at v, normalized into out. */
static inbox_status_t
inbox_telnyx_number(yajl_val v, const char *field,
    const char *default_country, char out[INBOX_PHONE_MAX],
    inbox_error_t *err)
{
    const char         *s;
    inbox_error_t       phone_err;
    static const char  *path[] = { "phone_number", NULL };

    s = inbox_carrier_string(inbox_carrier_get(v, path));

    if (s == NULL || s[0] == '\0') {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, field,
                                     "the webhook has no %s", field);
    }

    /* the carrier's number, not one typed: not checked against a plan
     * (inbox_phone_normalize_typed), as refusing it loses the message */
    if (inbox_phone_normalize(s, strlen(s), default_country, out,
                              &phone_err)
        != INBOX_OK)
    {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, field,
                                     "%s: %s", field, phone_err.message);
    }

    return INBOX_OK;
}


/* The first element of the array v (an object), or NULL. */
static yajl_val
inbox_telnyx_first(yajl_val v)
{
    if (v == NULL || !YAJL_IS_ARRAY(v) || v->u.array.len == 0) {
        return NULL;
    }

    return v->u.array.values[0];
}


/*
 * Telnyx's "errors": [{"code", "title", "detail"}]: the first code, or
 * 40300 when any error is that one, and the text that goes with it.  0,
 * or -1 when there is no error with a code.
 */
static int
inbox_telnyx_errors(yajl_val errors, char code[INBOX_CARRIER_CODE_MAX],
    const char **text)
{
    size_t              i;
    int                 found;
    char                c[INBOX_CARRIER_CODE_MAX];
    yajl_val            e;
    const char         *t;
    static const char  *code_path[] = { "code", NULL };
    static const char  *detail_path[] = { "detail", NULL };
    static const char  *title_path[] = { "title", NULL };

    code[0] = '\0';
    *text = NULL;
    found = 0;

    if (errors == NULL || !YAJL_IS_ARRAY(errors)) {
        return -1;
    }

    for (i = 0; i < errors->u.array.len; i++) {
        e = errors->u.array.values[i];

        if (inbox_carrier_code(inbox_carrier_get(e, code_path), c) != 0) {
            continue;
        }

        if (found && strcmp(c, INBOX_TELNYX_OPTED_OUT) != 0) {
            continue;
        }

        t = inbox_carrier_string(inbox_carrier_get(e, detail_path));
        if (t == NULL || t[0] == '\0') {
            t = inbox_carrier_string(inbox_carrier_get(e, title_path));
        }

        memcpy(code, c, sizeof(c));
        *text = t;
        found = 1;
    }

    return found ? 0 : -1;
}


/* Telnyx's error answer: {"errors": [...]}, read by inbox_telnyx_errors. */
static void
inbox_telnyx_error(yajl_val root, char code[INBOX_CARRIER_CODE_MAX],
    const char **text)
{
    static const char  *errors_path[] = { "errors", NULL };

    if (inbox_telnyx_errors(inbox_carrier_get(root, errors_path), code, text)
        != 0)
    {
        code[0] = '\0';
        *text = NULL;
    }
}


/* What Telnyx needs of the number and of the message. */
static inbox_status_t
inbox_telnyx_send_check(const inbox_number_t *number,
    const inbox_outbound_t *msg, inbox_error_t *err)
{
    inbox_status_t  rc;

    rc = inbox_telnyx_number_check(number, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    return inbox_carrier_outbound_check(number, msg, err);
}


/* What Telnyx needs of the number: an API key a header can carry. */
static inbox_status_t
inbox_telnyx_number_check(const inbox_number_t *number, inbox_error_t *err)
{
    size_t  i;

    if (number->api_key == NULL || number->api_key[0] == '\0') {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "api_key",
                   "The number has no Telnyx API key: add it with inboxctl "
                   "number add.");
    }

    for (i = 0; number->api_key[i]; i++) {
        if ((unsigned char) number->api_key[i] <= 0x20
            || number->api_key[i] == 0x7f)
        {
            return inbox_error_set_field(err, INBOX_ERR_INVALID, "api_key",
                       "The number's Telnyx API key holds a space or a "
                       "control character.");
        }
    }

    return INBOX_OK;
}
