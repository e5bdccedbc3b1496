/*
 * Twilio inbound webhook requests: form body, signature, HTTP request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

#include "load_request.h"


/* The fields of an inbound SMS in the order Twilio posts them. */
enum {
    F_TO_COUNTRY, F_TO_STATE, F_SMS_MESSAGE_SID, F_NUM_MEDIA, F_TO_CITY,
    F_FROM_ZIP, F_SMS_SID, F_FROM_STATE, F_SMS_STATUS, F_FROM_CITY, F_BODY,
    F_FROM_COUNTRY, F_TO, F_TO_ZIP, F_NUM_SEGMENTS, F_MESSAGE_SID,
    F_ACCOUNT_SID, F_FROM, F_API_VERSION, F_COUNT
};

static const char  *field_names[F_COUNT] = {
    "ToCountry", "ToState", "SmsMessageSid", "NumMedia", "ToCity",
    "FromZip", "SmsSid", "FromState", "SmsStatus", "FromCity", "Body",
    "FromCountry", "To", "ToZip", "NumSegments", "MessageSid",
    "AccountSid", "From", "ApiVersion"
};


static void set_fixed_values(load_request_gen_t *gen,
    load_param_t fields[F_COUNT]);
static int param_compare(const void *a, const void *b);
static int sign_in_order(EVP_MAC_CTX *mac_ctx, const char *url,
    const load_param_t *params, size_t n, char out[LOAD_SIGNATURE_MAX]);
static int copy_string(char *dst, size_t size, const char *src);


int
load_request_init(load_request_gen_t *gen, const char *public_url,
    const char *path, const char *host, const char *auth_token,
    const char *to, const char *account_sid, const char *run_id,
    unsigned contacts)
{
    size_t        i, k;
    OSSL_PARAM    params[2];
    load_param_t  fields[F_COUNT], sorted[F_COUNT];

    memset(gen, 0, sizeof(*gen));

    if (snprintf(gen->url, sizeof(gen->url), "%s%s", public_url, path)
        >= (int) sizeof(gen->url)
        || copy_string(gen->path, sizeof(gen->path), path) != 0
        || copy_string(gen->host, sizeof(gen->host), host) != 0
        || copy_string(gen->to, sizeof(gen->to), to) != 0
        || copy_string(gen->account_sid, sizeof(gen->account_sid),
                       account_sid) != 0
        || copy_string(gen->run_id, sizeof(gen->run_id), run_id) != 0)
    {
        return -1;
    }

    gen->contacts = contacts ? contacts : 1;

    /* What does not change from one request to the next is sorted and
     * encoded once. */
    for (i = 0; i < F_COUNT; i++) {
        fields[i].name = field_names[i];
        fields[i].value = "";
    }

    set_fixed_values(gen, fields);

    for (i = 0; i < F_COUNT; i++) {
        if (strlen(fields[i].value) * 3 >= sizeof(gen->encoded[i])) {
            return -1;
        }
        gen->encoded[i][load_form_encode(fields[i].value,
                                         gen->encoded[i])] = '\0';
    }

    memcpy(sorted, fields, sizeof(fields));
    qsort(sorted, F_COUNT, sizeof(load_param_t), param_compare);

    for (i = 0; i < F_COUNT; i++) {
        for (k = 0; k < F_COUNT; k++) {
            if (sorted[i].name == field_names[k]) {
                gen->sorted[i] = k;
            }
        }
    }

    gen->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (gen->mac == NULL) {
        return -1;
    }

    gen->mac_ctx = EVP_MAC_CTX_new(gen->mac);
    if (gen->mac_ctx == NULL) {
        goto failed;
    }

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *) "SHA1", 0);
    params[1] = OSSL_PARAM_construct_end();

    if (!EVP_MAC_init(gen->mac_ctx, (const unsigned char *) auth_token,
                      strlen(auth_token), params))
    {
        goto failed;
    }

    return 0;

failed:

    load_request_free(gen);
    return -1;
}


void
load_request_free(load_request_gen_t *gen)
{
    EVP_MAC_CTX_free(gen->mac_ctx);
    EVP_MAC_free(gen->mac);
    gen->mac_ctx = NULL;
    gen->mac = NULL;
}


size_t
load_request_build(load_request_gen_t *gen, unsigned thread,
    unsigned nthreads, uint64_t seq, char *buf)
{
    char          *p, *body;
    size_t         i, body_len, head_len;
    uint64_t       contact;
    load_param_t   fields[F_COUNT], sorted[F_COUNT];
    char           sid[40], from[24], text[256];
    char           signature[LOAD_SIGNATURE_MAX];
    char           head[1024];

    /* 34 characters like Twilio's: SM, 8 hex run id, 4 hex thread, 20 hex
     * sequence. */
    snprintf(sid, sizeof(sid), "SM%.8s%04x%020llx", gen->run_id,
             thread & 0xffff, (unsigned long long) seq);

    contact = (seq * nthreads + thread) % gen->contacts;
    snprintf(from, sizeof(from), "+1415%07llu",
             (unsigned long long) (5550000 + contact));

    snprintf(text, sizeof(text),
             "Hi, this is contact %llu again (message %llu). Is the order "
             "still on for Thursday at 10? Call me back when you can: "
             "I'm around all afternoon. Thanks!",
             (unsigned long long) contact, (unsigned long long) seq);

    for (i = 0; i < F_COUNT; i++) {
        fields[i].name = field_names[i];
    }

    set_fixed_values(gen, fields);
    fields[F_SMS_MESSAGE_SID].value = sid;
    fields[F_SMS_SID].value = sid;
    fields[F_MESSAGE_SID].value = sid;
    fields[F_FROM].value = from;
    fields[F_BODY].value = text;

    /* The body goes after the headers, whose length is known only once it
     * is written: build it at a fixed offset and move it down after. */
    body = buf + sizeof(head);
    p = body;

    for (i = 0; i < F_COUNT; i++) {
        if (i > 0) {
            *p++ = '&';
        }
        p = stpcpy(p, fields[i].name);
        *p++ = '=';

        if (i == F_SMS_MESSAGE_SID || i == F_SMS_SID || i == F_MESSAGE_SID
            || i == F_FROM || i == F_BODY)
        {
            p += load_form_encode(fields[i].value, p);
        } else {
            p = stpcpy(p, gen->encoded[i]);
        }
    }

    body_len = p - body;

    for (i = 0; i < F_COUNT; i++) {
        sorted[i] = fields[gen->sorted[i]];
    }

    if (sign_in_order(gen->mac_ctx, gen->url, sorted, F_COUNT, signature)
        != 0)
    {
        return 0;
    }

    head_len = snprintf(head, sizeof(head),
                        "POST %s HTTP/1.1\r\n"
                        "Host: %s\r\n"
                        "User-Agent: TwilioProxy/1.1\r\n"
                        "Accept: */*\r\n"
                        "Content-Type: application/x-www-form-urlencoded\r\n"
                        "X-Twilio-Signature: %s\r\n"
                        "Content-Length: %zu\r\n"
                        "\r\n",
                        gen->path, gen->host, signature, body_len);

    if (head_len >= sizeof(head)
        || head_len + body_len > LOAD_REQUEST_MAX)
    {
        return 0;
    }

    memmove(buf + head_len, body, body_len);
    memcpy(buf, head, head_len);

    return head_len + body_len;
}


/* The values every request shares; the per-request ones are left as they
 * are. */
static void
set_fixed_values(load_request_gen_t *gen, load_param_t fields[F_COUNT])
{
    fields[F_TO_COUNTRY].value = "US";
    fields[F_TO_STATE].value = "CA";
    fields[F_NUM_MEDIA].value = "0";
    fields[F_TO_CITY].value = "SAN FRANCISCO";
    fields[F_FROM_ZIP].value = "94110";
    fields[F_FROM_STATE].value = "CA";
    fields[F_SMS_STATUS].value = "received";
    fields[F_FROM_CITY].value = "SAN FRANCISCO";
    fields[F_FROM_COUNTRY].value = "US";
    fields[F_TO].value = gen->to;
    fields[F_TO_ZIP].value = "94105";
    fields[F_NUM_SEGMENTS].value = "1";
    fields[F_ACCOUNT_SID].value = gen->account_sid;
    fields[F_API_VERSION].value = "2010-04-01";
}


int
load_twilio_signature(EVP_MAC_CTX *mac_ctx, const char *url,
    load_param_t *params, size_t n, char out[LOAD_SIGNATURE_MAX])
{
    qsort(params, n, sizeof(load_param_t), param_compare);

    return sign_in_order(mac_ctx, url, params, n, out);
}


size_t
load_form_encode(const char *value, char *out)
{
    char                *p;
    unsigned char        c;
    static const char    hex[] = "0123456789ABCDEF";

    p = out;

    for ( /* void */ ; *value; value++) {
        c = (unsigned char) *value;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9')
            || c == '-' || c == '_' || c == '.' || c == '*')
        {
            *p++ = c;

        } else if (c == ' ') {
            *p++ = '+';

        } else {
            *p++ = '%';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 0x0f];
        }
    }

    return p - out;
}


static int
param_compare(const void *a, const void *b)
{
    int                  rc;
    const load_param_t  *pa = a, *pb = b;

    rc = strcmp(pa->name, pb->name);

    return rc ? rc : strcmp(pa->value, pb->value);
}


static int
sign_in_order(EVP_MAC_CTX *mac_ctx, const char *url,
    const load_param_t *params, size_t n, char out[LOAD_SIGNATURE_MAX])
{
    size_t          i, digest_len;
    unsigned char   digest[EVP_MAX_MD_SIZE];

    /* A NULL key re-initializes with the key set before: one keyed context
     * serves every request of a thread. */
    if (!EVP_MAC_init(mac_ctx, NULL, 0, NULL)
        || !EVP_MAC_update(mac_ctx, (const unsigned char *) url,
                           strlen(url)))
    {
        return -1;
    }

    for (i = 0; i < n; i++) {
        if (!EVP_MAC_update(mac_ctx, (const unsigned char *) params[i].name,
                            strlen(params[i].name))
            || !EVP_MAC_update(mac_ctx,
                               (const unsigned char *) params[i].value,
                               strlen(params[i].value)))
        {
            return -1;
        }
    }

    if (!EVP_MAC_final(mac_ctx, digest, &digest_len, sizeof(digest))) {
        return -1;
    }

    EVP_EncodeBlock((unsigned char *) out, digest, (int) digest_len);

    return 0;
}


static int
copy_string(char *dst, size_t size, const char *src)
{
    size_t  len;

    len = strlen(src);
    if (len >= size) {
        return -1;
    }

    memcpy(dst, src, len + 1);

    return 0;
}
