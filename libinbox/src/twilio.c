/*
 * Twilio webhooks: X-Twilio-Signature and the inbound message form.
 *
 * Twilio signs names and values run together, so the signature alone does
 * not fix where one field ends and the next begins: the inbound form is
 * taken only in the shape Twilio sends it (see twilio.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <inbox/carrier.h>
#include <inbox/clock.h>
#include <inbox/encoding.h>
#include <inbox/inbound.h>
#include <inbox/phone.h>
#include <inbox/twilio.h>


static int inbox_twilio_field_cmp(const void *a, const void *b);
static int inbox_twilio_signature_is(const char *url,
    const inbox_form_t *params, const char *auth_token,
    const char *signature);
static int inbox_twilio_signature_fragment(const char *url,
    const inbox_form_t *params, const char *auth_token,
    const char *signature);
static char *inbox_twilio_url_port(const char *url);
static inbox_status_t inbox_twilio_field(const inbox_form_t *form,
    const char *name, const inbox_form_field_t **field, inbox_error_t *err);
static inbox_status_t inbox_twilio_message_sid(const inbox_form_t *form,
    const char **sid, inbox_error_t *err);
static inbox_status_t inbox_twilio_number(const inbox_form_t *form,
    const char *name, const char *default_country, char out[INBOX_PHONE_MAX],
    inbox_error_t *err);
static inbox_status_t inbox_twilio_count(const inbox_form_t *form,
    const char *name, unsigned dflt, unsigned max, unsigned *out,
    inbox_error_t *err);
static inbox_status_t inbox_twilio_media(const inbox_form_t *form,
    inbox_inbound_t *msg, inbox_error_t *err);
static inbox_status_t inbox_twilio_media_item(const inbox_form_t *form,
    const char *name, const inbox_form_field_t **field, inbox_error_t *err);
static int inbox_twilio_media_name(const char *name, unsigned *index);
static inbox_status_t inbox_twilio_body(const inbox_form_t *form,
    inbox_inbound_t *msg, inbox_error_t *err);


#define INBOX_TWILIO_FORGED                                                  \
    "The X-Twilio-Signature header is missing or wrong for this number's "   \
    "auth token."


void
inbox_twilio_signature(const char *url, const inbox_form_t *params,
    const char *auth_token, char out[INBOX_TWILIO_SIGNATURE_MAX])
{
    int                        ok;
    size_t                     i, mac_len;
    EVP_MAC                   *mac;
    OSSL_PARAM                 mac_params[2];
    EVP_MAC_CTX               *ctx;
    unsigned char              digest[EVP_MAX_MD_SIZE];
    const inbox_form_field_t **sorted;

    out[0] = '\0';
    ctx = NULL;
    sorted = NULL;

    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL) {
        return;
    }

    ctx = EVP_MAC_CTX_new(mac);
    if (ctx == NULL) {
        goto done;
    }

    if (params->count > 0) {
        sorted = malloc(params->count * sizeof(*sorted));
        if (sorted == NULL) {
            goto done;
        }

        for (i = 0; i < params->count; i++) {
            sorted[i] = &params->fields[i];
        }

        qsort(sorted, params->count, sizeof(*sorted),
              inbox_twilio_field_cmp);
    }

    mac_params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                     (char *) "SHA1", 0);
    mac_params[1] = OSSL_PARAM_construct_end();

    ok = EVP_MAC_init(ctx, (const unsigned char *) auth_token,
                      strlen(auth_token), mac_params)
         && EVP_MAC_update(ctx, (const unsigned char *) url, strlen(url));

    for (i = 0; ok && i < params->count; i++) {
        ok = EVP_MAC_update(ctx, (const unsigned char *) sorted[i]->name,
                            sorted[i]->name_len)
             && EVP_MAC_update(ctx, (const unsigned char *) sorted[i]->value,
                               sorted[i]->value_len);
    }

    if (ok && EVP_MAC_final(ctx, digest, &mac_len, sizeof(digest))
        && mac_len == 20)
    {
        inbox_base64_encode(digest, mac_len, out);
    }

done:

    free(sorted);
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
}


int
inbox_twilio_signature_valid(const char *url, const inbox_form_t *params,
    const char *auth_token, const char *signature)
{
    int    valid;
    char  *other;

    if (signature == NULL || auth_token == NULL || auth_token[0] == '\0') {
        return 0;
    }

    valid = inbox_twilio_signature_is(url, params, auth_token, signature);

    /* the other forms only when the URL as called does not match: one
     * HMAC a webhook on intake's usual path */
    other = valid ? NULL : inbox_twilio_url_port(url);
    if (other != NULL) {
        valid = inbox_twilio_signature_is(other, params, auth_token,
                                          signature)
                || inbox_twilio_signature_fragment(other, params,
                                                   auth_token, signature);
        free(other);
    }

    if (!valid) {
        valid = inbox_twilio_signature_fragment(url, params, auth_token,
                                                signature);
    }

    return valid;
}


/* 1 when signature is right for url ending in the connection overrides
 * README recommends (a URL that has a fragment of its own never does). */
static int
inbox_twilio_signature_fragment(const char *url, const inbox_form_t *params,
    const char *auth_token, const char *signature)
{
    int     valid;
    char   *with;
    size_t  len;

    if (strchr(url, '#') != NULL) {
        return 0;
    }

    len = strlen(url);
    with = malloc(len + sizeof(INBOX_TWILIO_RETRY_FRAGMENT));
    if (with == NULL) {
        return 0;
    }

    memcpy(with, url, len);
    memcpy(with + len, INBOX_TWILIO_RETRY_FRAGMENT,
           sizeof(INBOX_TWILIO_RETRY_FRAGMENT));

    valid = inbox_twilio_signature_is(with, params, auth_token, signature);
    free(with);

    return valid;
}


static int
inbox_twilio_signature_is(const char *url, const inbox_form_t *params,
    const char *auth_token, const char *signature)
{
    size_t  len;
    char    expected[INBOX_TWILIO_SIGNATURE_MAX];

    inbox_twilio_signature(url, params, auth_token, expected);

    len = strlen(expected);

    /* the length is public; only the bytes must not leak through timing */
    if (len == 0 || strlen(signature) != len) {
        return 0;
    }

    return CRYPTO_memcmp(expected, signature, len) == 0;
}


/*
 * The URL with its port taken out, or, without one, with the scheme's
 * default port put in (malloc'd); NULL for a URL that is neither http
 * nor https, or out of memory.
 */
static char *
inbox_twilio_url_port(const char *url)
{
    size_t       scheme, host_end, port_at, len;
    char        *out;
    const char  *port, *p;

    if (strncmp(url, "https://", 8) == 0) {
        scheme = 8;
        port = ":443";

    } else if (strncmp(url, "http://", 7) == 0) {
        scheme = 7;
        port = ":80";

    } else {
        return NULL;
    }

    host_end = scheme + strcspn(url + scheme, "/?#");
    len = strlen(url);

    /* the last colon of the host, after an IPv6 literal's ] and any
     * user:password@ */
    port_at = host_end;
    for (p = url + host_end; p > url + scheme; p--) {
        if (p[-1] == ']' || p[-1] == '@') {
            break;
        }
        if (p[-1] == ':') {
            port_at = (size_t) (p - 1 - url);
            break;
        }
    }

    if (port_at < host_end) {
        out = malloc(len - (host_end - port_at) + 1);
        if (out != NULL) {
            memcpy(out, url, port_at);
            memcpy(out + port_at, url + host_end, len - host_end + 1);
        }
        return out;
    }

    out = malloc(len + strlen(port) + 1);
    if (out != NULL) {
        memcpy(out, url, host_end);
        memcpy(out + host_end, port, strlen(port));
        memcpy(out + host_end + strlen(port), url + host_end,
               len - host_end + 1);
    }

    return out;
}


int
inbox_twilio_sid_valid(const char *sid, const char *prefix)
{
    size_t  i;

    if (sid == NULL || strncmp(sid, prefix, 2) != 0
        || strlen(sid) != INBOX_TWILIO_SID_MAX - 1)
    {
        return 0;
    }

    for (i = 2; i < INBOX_TWILIO_SID_MAX - 1; i++) {
        if (!((sid[i] >= '0' && sid[i] <= '9')
              || (sid[i] >= 'a' && sid[i] <= 'f')
              || (sid[i] >= 'A' && sid[i] <= 'F')))
        {
            return 0;
        }
    }

    return 1;
}


inbox_status_t
inbox_twilio_inbound_check(const inbox_form_t *form, const char *url,
    const char *signature, const inbox_number_t *number,
    const char *default_country, inbox_inbound_t *msg, inbox_error_t *err)
{
    const char      *account, *auth_token;
    inbox_status_t   rc;

    memset(msg, 0, sizeof(*msg));
    msg->body = "";

    auth_token = NULL;
    if (number != NULL && number->carrier == INBOX_CARRIER_TWILIO) {
        auth_token = number->auth_token;
    }

    /* an unknown number and a forgery look the same from outside */
    if (!inbox_twilio_signature_valid(url, form, auth_token, signature)) {
        return inbox_error_set(err, INBOX_ERR_FORBIDDEN, INBOX_TWILIO_FORGED);
    }

    rc = inbox_twilio_inbound_parse(form, default_country, msg, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    /* parse checked that there is exactly one, well formed */
    account = inbox_form_get(form, "AccountSid");

    if (number->account_sid == NULL
        || strcasecmp(account, number->account_sid) != 0)
    {
        inbox_inbound_free(msg);
        return inbox_error_set_field(err, INBOX_ERR_FORBIDDEN, "AccountSid",
                   "The AccountSid is not the Twilio account this number "
                   "was added with.");
    }

    return INBOX_OK;
}


inbox_status_t
inbox_twilio_inbound_parse(const inbox_form_t *form,
    const char *default_country, inbox_inbound_t *msg, inbox_error_t *err)
{
    inbox_status_t             rc;
    const inbox_form_field_t  *account;

    memset(msg, 0, sizeof(*msg));
    msg->carrier = INBOX_CARRIER_TWILIO;
    msg->body = "";

    rc = inbox_twilio_message_sid(form, &msg->provider_id, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_twilio_field(form, "AccountSid", &account, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    if (account == NULL || account->value_len == 0) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "AccountSid",
                   "the webhook has no AccountSid");
    }

    if (!inbox_twilio_sid_valid(account->value, "AC")) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "AccountSid",
                   "AccountSid is not a Twilio account SID (AC and 32 hex "
                   "digits)");
    }

    rc = inbox_twilio_number(form, "From", default_country, msg->from, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_twilio_number(form, "To", default_country, msg->to, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_twilio_count(form, "NumSegments", 1, 1000000, &msg->segments,
                            err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_twilio_media(form, msg, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    /* last: the only step that may allocate */
    rc = inbox_twilio_body(form, msg, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    msg->received_at = inbox_now_ms();

    return INBOX_OK;
}


inbox_status_t
inbox_twilio_status_check(const inbox_form_t *form, const char *url,
    const char *signature, const inbox_number_t *number,
    inbox_status_update_t *update, inbox_error_t *err)
{
    const char      *auth_token;
    inbox_status_t   rc;

    memset(update, 0, sizeof(*update));

    auth_token = NULL;
    if (number != NULL && number->carrier == INBOX_CARRIER_TWILIO) {
        auth_token = number->auth_token;
    }

    if (!inbox_twilio_signature_valid(url, form, auth_token, signature)) {
        return inbox_error_set(err, INBOX_ERR_FORBIDDEN, INBOX_TWILIO_FORGED);
    }

    rc = inbox_twilio_status_parse(form, update, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    if (number->account_sid == NULL
        || strcasecmp(inbox_form_get(form, "AccountSid"),
                      number->account_sid) != 0)
    {
        return inbox_error_set_field(err, INBOX_ERR_FORBIDDEN, "AccountSid",
                   "The AccountSid is not the Twilio account this number "
                   "was added with.");
    }

    return INBOX_OK;
}


inbox_status_t
inbox_twilio_status_parse(const inbox_form_t *form,
    inbox_status_update_t *update, inbox_error_t *err)
{
    size_t                     i;
    const char                *sid;
    inbox_status_t             rc;
    const inbox_form_field_t  *f;

    memset(update, 0, sizeof(*update));

    rc = inbox_twilio_message_sid(form, &sid, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_twilio_field(form, "AccountSid", &f, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    if (f == NULL || !inbox_twilio_sid_valid(f->value, "AC")) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "AccountSid",
                   "AccountSid is missing or not a Twilio account SID (AC "
                   "and 32 hex digits)");
    }

    rc = inbox_twilio_field(form, "MessageStatus", &f, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    if (f == NULL || inbox_twilio_status_map(f->value, &update->status) != 0)
    {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "MessageStatus",
                   "MessageStatus is missing or not a status of an outbound "
                   "message");
    }

    rc = inbox_twilio_field(form, "ErrorCode", &f, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    if (f != NULL && f->value_len > 0) {
        for (i = 0; i < f->value_len; i++) {
            if (f->value[i] < '0' || f->value[i] > '9') {
                break;
            }
        }

        if (i < f->value_len || f->value_len >= INBOX_CARRIER_CODE_MAX) {
            return inbox_error_set_field(err, INBOX_ERR_INVALID, "ErrorCode",
                       "ErrorCode is not a Twilio error code");
        }

        memcpy(update->error_code, f->value, f->value_len + 1);
        update->opted_out = strcmp(f->value, INBOX_TWILIO_OPTED_OUT) == 0;
    }

    /* sid_valid checked its length */
    memcpy(update->provider_id, sid, INBOX_TWILIO_SID_MAX);
    update->final = inbox_delivery_final(update->status);

    return INBOX_OK;
}


int
inbox_twilio_status_map(const char *twilio_status, inbox_delivery_t *status)
{
    size_t  i;
    static const struct {
        const char        *name;
        inbox_delivery_t   status;
    } map[] = {
        { "accepted",             INBOX_DELIVERY_QUEUED },
        { "scheduled",            INBOX_DELIVERY_QUEUED },
        { "queued",               INBOX_DELIVERY_QUEUED },
        { "sending",              INBOX_DELIVERY_SENDING },
        { "sent",                 INBOX_DELIVERY_SENT },
        { "delivered",            INBOX_DELIVERY_DELIVERED },
        { "read",                 INBOX_DELIVERY_DELIVERED },
        /* in Twilio's API (its Message status enum) with no word of what
         * it means beyond its name: part of the message reached the
         * handset, so the contact got a message and its credit is spent,
         * not given back as for one that never arrived */
        { "partially_delivered",  INBOX_DELIVERY_DELIVERED },
        { "undelivered",          INBOX_DELIVERY_UNDELIVERED },
        { "failed",               INBOX_DELIVERY_FAILED },
        { "canceled",             INBOX_DELIVERY_FAILED }
    };

    for (i = 0; twilio_status != NULL && i < sizeof(map) / sizeof(map[0]);
         i++)
    {
        if (strcmp(twilio_status, map[i].name) == 0) {
            *status = map[i].status;
            return 0;
        }
    }

    return -1;
}


/* Byte order over every byte of names, then of values. */
static int
inbox_twilio_field_cmp(const void *a, const void *b)
{
    int                        rc;
    const inbox_form_field_t  *fa, *fb;

    fa = *(const inbox_form_field_t * const *) a;
    fb = *(const inbox_form_field_t * const *) b;

    /* memcmp compares as unsigned char; a prefix sorts first */
    rc = memcmp(fa->name, fb->name,
                fa->name_len < fb->name_len ? fa->name_len : fb->name_len);
    if (rc == 0 && fa->name_len != fb->name_len) {
        rc = fa->name_len < fb->name_len ? -1 : 1;
    }
    if (rc != 0) {
        return rc;
    }

    rc = memcmp(fa->value, fb->value,
                fa->value_len < fb->value_len ? fa->value_len
                                              : fb->value_len);
    if (rc == 0 && fa->value_len != fb->value_len) {
        rc = fa->value_len < fb->value_len ? -1 : 1;
    }

    return rc;
}


/* The field called name (*field NULL when there is none); Twilio never
 * sends one of the fields read here twice. */
static inbox_status_t
inbox_twilio_field(const inbox_form_t *form, const char *name,
    const inbox_form_field_t **field, inbox_error_t *err)
{
    size_t  i;

    *field = NULL;

    for (i = 0; i < form->count; i++) {
        if (strcmp(form->fields[i].name, name) != 0) {
            continue;
        }

        if (*field != NULL) {
            return inbox_error_set_field(err, INBOX_ERR_INVALID, name,
                       "the webhook has %s more than once", name);
        }

        *field = &form->fields[i];
    }

    return INBOX_OK;
}


static inbox_status_t
inbox_twilio_message_sid(const inbox_form_t *form, const char **sid,
    inbox_error_t *err)
{
    size_t                     i;
    inbox_status_t             rc;
    const inbox_form_field_t  *f;
    static const char         *same[] = { "SmsSid", "SmsMessageSid" };

    rc = inbox_twilio_field(form, "MessageSid", &f, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    if (f == NULL || f->value_len == 0) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "MessageSid",
                   "the webhook has no MessageSid");
    }

    if (!inbox_twilio_sid_valid(f->value, "SM")
        && !inbox_twilio_sid_valid(f->value, "MM"))
    {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "MessageSid",
                   "MessageSid is not a Twilio message SID (SM or MM and "
                   "32 hex digits)");
    }

    *sid = f->value;

    /* the deprecated names of the same SID */

    for (i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        rc = inbox_twilio_field(form, same[i], &f, err);
        if (rc != INBOX_OK) {
            return rc;
        }

        if (f != NULL && strcmp(f->value, *sid) != 0) {
            return inbox_error_set_field(err, INBOX_ERR_INVALID, same[i],
                       "%s is not the same as MessageSid", same[i]);
        }
    }

    return INBOX_OK;
}


static inbox_status_t
inbox_twilio_number(const inbox_form_t *form, const char *name,
    const char *default_country, char out[INBOX_PHONE_MAX],
    inbox_error_t *err)
{
    inbox_error_t              phone_err;
    inbox_status_t             rc;
    const inbox_form_field_t  *f;

    rc = inbox_twilio_field(form, name, &f, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    if (f == NULL || f->value_len == 0) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, name,
                   "the webhook has no %s", name);
    }

    /* the carrier's number, not one typed: not checked against a plan
     * (inbox_phone_normalize_typed), as refusing it loses the message */
    if (inbox_phone_normalize(f->value, f->value_len, default_country, out,
                              &phone_err)
        != INBOX_OK)
    {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, name,
                   "%s: %s", name, phone_err.message);
    }

    return INBOX_OK;
}


/* A decimal count from 0 to max; dflt when the field is missing or empty. */
static inbox_status_t
inbox_twilio_count(const inbox_form_t *form, const char *name,
    unsigned dflt, unsigned max, unsigned *out, inbox_error_t *err)
{
    char                      *end;
    unsigned long              n;
    inbox_status_t             rc;
    const inbox_form_field_t  *f;

    rc = inbox_twilio_field(form, name, &f, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    if (f == NULL || f->value_len == 0) {
        *out = dflt;
        return INBOX_OK;
    }

    errno = 0;
    n = strtoul(f->value, &end, 10);
    if (f->value[0] < '0' || f->value[0] > '9' || *end != '\0' || errno != 0)
    {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, name,
                   "%s is not a count", name);
    }

    if (n > max) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, name,
                   "%s is more than %u", name, max);
    }

    *out = (unsigned) n;

    return INBOX_OK;
}


/*
 * NumMedia and exactly MediaUrl0..N-1 and MediaContentType0..N-1: an extra
 * or missing one is what a re-cut form would look like.
 */
static inbox_status_t
inbox_twilio_media(const inbox_form_t *form, inbox_inbound_t *msg,
    inbox_error_t *err)
{
    char                       name[32];
    unsigned                   num_media, i, index;
    inbox_status_t             rc;
    const inbox_form_field_t  *f, *url, *type;

    rc = inbox_twilio_field(form, "NumMedia", &f, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_twilio_count(form, "NumMedia", 0, INBOX_MEDIA_MAX,
                            &num_media, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    for (i = 0; i < form->count; i++) {
        if (!inbox_twilio_media_name(form->fields[i].name, &index)) {
            continue;
        }

        if (f == NULL || f->value_len == 0) {
            return inbox_error_set_field(err, INBOX_ERR_INVALID, "NumMedia",
                       "the webhook has %s but no NumMedia",
                       form->fields[i].name);
        }

        if (index >= num_media) {
            return inbox_error_set_field(err, INBOX_ERR_INVALID,
                       form->fields[i].name,
                       "the webhook has %s but NumMedia is %u",
                       form->fields[i].name, num_media);
        }
    }

    for (i = 0; i < num_media; i++) {
        snprintf(name, sizeof(name), "MediaUrl%u", i);
        rc = inbox_twilio_media_item(form, name, &url, err);
        if (rc != INBOX_OK) {
            return rc;
        }

        snprintf(name, sizeof(name), "MediaContentType%u", i);
        rc = inbox_twilio_media_item(form, name, &type, err);
        if (rc != INBOX_OK) {
            return rc;
        }

        if (inbox_inbound_media_is_layout(type->value, type->value_len)) {
            continue;
        }

        /* an item that cannot be fetched is kept failed, not the
         * message refused (inbound.h) */
        inbox_inbound_media(&msg->media[msg->media_count++], url->value,
                            url->value_len, type->value, type->value_len);
    }

    return INBOX_OK;
}


/* A media URL or content type that NumMedia calls for, as *field: the
 * form's shape needs it there, whatever its value. */
static inbox_status_t
inbox_twilio_media_item(const inbox_form_t *form, const char *name,
    const inbox_form_field_t **field, inbox_error_t *err)
{
    inbox_status_t  rc;

    rc = inbox_twilio_field(form, name, field, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    if (*field == NULL || (*field)->value_len == 0) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, name,
                   "the webhook has no %s, which its NumMedia calls for",
                   name);
    }

    return INBOX_OK;
}


/* 1 when name is a media field, with *index its number (10 and more when
 * it has none that Twilio would send, so that no NumMedia covers it). */
static int
inbox_twilio_media_name(const char *name, unsigned *index)
{
    const char  *digits;

    if (strncmp(name, "MediaUrl", 8) == 0) {
        digits = name + 8;

    } else if (strncmp(name, "MediaContentType", 16) == 0) {
        digits = name + 16;

    } else {
        return 0;
    }

    *index = INBOX_MEDIA_MAX;

    if (digits[0] >= '0' && digits[0] <= '9' && digits[1] == '\0') {
        *index = (unsigned) (digits[0] - '0');
    }

    return 1;
}


/* Body, as inbound.h keeps it (repaired, cut when too long; the
 * signature was checked over the bytes as sent). */
static inbox_status_t
inbox_twilio_body(const inbox_form_t *form, inbox_inbound_t *msg,
    inbox_error_t *err)
{
    inbox_status_t             rc;
    const inbox_form_field_t  *f;

    rc = inbox_twilio_field(form, "Body", &f, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    if (f == NULL) {
        msg->body = "";
        return INBOX_OK;
    }

    return inbox_inbound_body(msg, f->value, f->value_len, err);
}
