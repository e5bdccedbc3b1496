/*
 * Twilio webhooks: X-Twilio-Signature and the inbound message form.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <inbox/clock.h>
#include <inbox/encoding.h>
#include <inbox/phone.h>
#include <inbox/twilio.h>


static int inbox_twilio_field_cmp(const void *a, const void *b);
static inbox_status_t inbox_twilio_number(const inbox_form_t *form,
    const char *name, const char *default_country, char out[INBOX_PHONE_MAX],
    inbox_error_t *err);
static inbox_status_t inbox_twilio_count(const inbox_form_t *form,
    const char *name, unsigned dflt, unsigned *out, inbox_error_t *err);


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
                            strlen(sorted[i]->name))
             && EVP_MAC_update(ctx, (const unsigned char *) sorted[i]->value,
                               strlen(sorted[i]->value));
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
    size_t  len;
    char    expected[INBOX_TWILIO_SIGNATURE_MAX];

    if (signature == NULL || auth_token == NULL || auth_token[0] == '\0') {
        return 0;
    }

    inbox_twilio_signature(url, params, auth_token, expected);

    len = strlen(expected);

    /* the length is public; only the bytes must not leak through timing */
    if (len == 0 || strlen(signature) != len) {
        return 0;
    }

    return CRYPTO_memcmp(expected, signature, len) == 0;
}


inbox_status_t
inbox_twilio_inbound_parse(const inbox_form_t *form,
    const char *default_country, inbox_inbound_t *msg, inbox_error_t *err)
{
    char            name[32];
    unsigned        num_media, i;
    const char     *sid, *body, *url, *type;
    inbox_status_t  rc;

    memset(msg, 0, sizeof(*msg));
    msg->carrier = INBOX_CARRIER_TWILIO;

    sid = inbox_form_get(form, "MessageSid");
    if (sid == NULL || sid[0] == '\0') {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "MessageSid",
                   "the webhook has no MessageSid");
    }
    msg->provider_id = sid;

    rc = inbox_twilio_number(form, "From", default_country, msg->from, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_twilio_number(form, "To", default_country, msg->to, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    body = inbox_form_get(form, "Body");
    msg->body = body ? body : "";

    rc = inbox_twilio_count(form, "NumSegments", 1, &msg->segments, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_twilio_count(form, "NumMedia", 0, &num_media, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    for (i = 0; i < num_media && i < INBOX_MEDIA_MAX; i++) {
        snprintf(name, sizeof(name), "MediaUrl%u", i);
        url = inbox_form_get(form, name);
        if (url == NULL || url[0] == '\0') {
            continue;
        }

        if (strlen(url) >= sizeof(msg->media[0].url)) {
            return inbox_error_set_field(err, INBOX_ERR_INVALID, name,
                       "%s is longer than %zu bytes", name,
                       sizeof(msg->media[0].url) - 1);
        }

        snprintf(name, sizeof(name), "MediaContentType%u", i);
        type = inbox_form_get(form, name);
        if (type == NULL) {
            type = "";
        }

        if (strlen(type) >= sizeof(msg->media[0].content_type)) {
            return inbox_error_set_field(err, INBOX_ERR_INVALID, name,
                       "%s is longer than %zu bytes", name,
                       sizeof(msg->media[0].content_type) - 1);
        }

        strcpy(msg->media[msg->media_count].url, url);
        strcpy(msg->media[msg->media_count].content_type, type);
        msg->media_count++;
    }

    msg->received_at = inbox_now_ms();

    return INBOX_OK;
}


static int
inbox_twilio_field_cmp(const void *a, const void *b)
{
    int                        rc;
    const inbox_form_field_t  *fa, *fb;

    fa = *(const inbox_form_field_t * const *) a;
    fb = *(const inbox_form_field_t * const *) b;

    /* strcmp compares as unsigned char: byte order */
    rc = strcmp(fa->name, fb->name);

    return rc ? rc : strcmp(fa->value, fb->value);
}


static inbox_status_t
inbox_twilio_number(const inbox_form_t *form, const char *name,
    const char *default_country, char out[INBOX_PHONE_MAX],
    inbox_error_t *err)
{
    const char      *value;
    inbox_error_t    phone_err;

    value = inbox_form_get(form, name);
    if (value == NULL || value[0] == '\0') {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, name,
                   "the webhook has no %s", name);
    }

    if (inbox_phone_normalize(value, strlen(value), default_country, out,
                              &phone_err)
        != INBOX_OK)
    {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, name,
                   "%s: %s", name, phone_err.message);
    }

    return INBOX_OK;
}


static inbox_status_t
inbox_twilio_count(const inbox_form_t *form, const char *name,
    unsigned dflt, unsigned *out, inbox_error_t *err)
{
    char           *end;
    const char     *value;
    unsigned long   n;

    value = inbox_form_get(form, name);
    if (value == NULL || value[0] == '\0') {
        *out = dflt;
        return INBOX_OK;
    }

    errno = 0;
    n = strtoul(value, &end, 10);
    if (value[0] < '0' || value[0] > '9' || *end != '\0' || errno != 0
        || n > 1000000)
    {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, name,
                   "%s is not a count", name);
    }

    *out = (unsigned) n;

    return INBOX_OK;
}
