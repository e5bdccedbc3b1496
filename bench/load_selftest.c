/*
 * Checks the load tool's requests and parser without a server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

#include "load_request.h"
#include "load_response.h"
#include "load_selftest.h"


#define MAX_FIELDS  64

typedef struct {
    char           storage[LOAD_REQUEST_MAX];
    load_param_t   params[MAX_FIELDS];
    size_t         count;
    char           signature[64];
    size_t         content_length;
    size_t         body_len;
} parsed_request_t;


static int  checks, failures;


#define EXPECT(cond)                                                        \
    do {                                                                    \
        checks++;                                                           \
        if (!(cond)) {                                                      \
            failures++;                                                     \
            printf("selftest: %s:%d: %s failed\n", __FILE__, __LINE__,     \
                   #cond);                                                  \
        }                                                                   \
    } while (0)


static void test_worked_example(void);
static void test_generated_requests(void);
static void test_responses(void);
static int parse_request(const char *req, size_t len, parsed_request_t *out);
static const char *param(const parsed_request_t *req, const char *name);
static size_t form_decode(char *s);


int
load_selftest(void)
{
    test_worked_example();
    test_generated_requests();
    test_responses();

    printf("selftest: %d checks, %d failed\n", checks, failures);

    return failures ? -1 : 0;
}


/* The example from Twilio's documentation, as in docs/domain.md. */
static void
test_worked_example(void)
{
    EVP_MAC       *mac;
    OSSL_PARAM     ossl[2];
    EVP_MAC_CTX   *ctx;
    load_param_t   params[] = {
        { "To", "+18005551212" },
        { "Digits", "1234" },
        { "CallSid", "CA1234567890ABCDE" },
        { "From", "+12349013030" },
        { "Caller", "+12349013030" },
    };
    char           out[LOAD_SIGNATURE_MAX];

    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    EXPECT(ctx != NULL);
    if (ctx == NULL) {
        EVP_MAC_free(mac);
        return;
    }

    ossl[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                               (char *) "SHA1", 0);
    ossl[1] = OSSL_PARAM_construct_end();
    EXPECT(EVP_MAC_init(ctx, (const unsigned char *) "12345", 5, ossl));

    EXPECT(load_twilio_signature(ctx,
               "https://mycompany.com/myapp.php?foo=1&bar=2",
               params, sizeof(params) / sizeof(params[0]), out) == 0);
    EXPECT(strcmp(out, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=") == 0);

    /* The context is reused for every request: same input, same answer. */
    EXPECT(load_twilio_signature(ctx,
               "https://mycompany.com/myapp.php?foo=1&bar=2",
               params, sizeof(params) / sizeof(params[0]), out) == 0);
    EXPECT(strcmp(out, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=") == 0);

    /* Another URL signs differently. */
    EXPECT(load_twilio_signature(ctx, "https://mycompany.com/myapp.php",
               params, sizeof(params) / sizeof(params[0]), out) == 0);
    EXPECT(strcmp(out, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=") != 0);

    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
}


/* Reads generated requests back the way a server would and checks them
 * with a fresh signing context. */
static void
test_generated_requests(void)
{
    size_t               len, i;
    const char          *names[] = {
        "ToCountry", "ToState", "SmsMessageSid", "NumMedia", "ToCity",
        "FromZip", "SmsSid", "FromState", "SmsStatus", "FromCity", "Body",
        "FromCountry", "To", "ToZip", "NumSegments", "MessageSid",
        "AccountSid", "From", "ApiVersion"
    };
    char                 req[LOAD_REQUEST_MAX], sig[LOAD_SIGNATURE_MAX];
    char                 sid0[64], from0[32];
    parsed_request_t    *parsed;
    load_request_gen_t   gen, check;

    parsed = malloc(sizeof(parsed_request_t));
    EXPECT(parsed != NULL);
    if (parsed == NULL) {
        return;
    }

    EXPECT(load_request_init(&gen, "http://127.0.0.1:8080",
               "/webhooks/twilio/inbound", "127.0.0.1:8080", "T",
               "+15005550006", "AC0123456789abcdef0123456789abcdef",
               "0badcafe", 1000) == 0);
    EXPECT(load_request_init(&check, "http://127.0.0.1:8080", "/", "x",
               "T", "+1", "AC", "00000000", 1) == 0);

    len = load_request_build(&gen, 0, 1, 0, req);
    EXPECT(len > 0 && len < sizeof(req));
    req[len] = '\0';
    EXPECT(memcmp(req, "POST /webhooks/twilio/inbound HTTP/1.1\r\n", 40)
           == 0);
    EXPECT(strstr(req, "\r\nHost: 127.0.0.1:8080\r\n") != NULL);
    EXPECT(strstr(req, "\r\nContent-Type: "
                  "application/x-www-form-urlencoded\r\n") != NULL);

    EXPECT(parse_request(req, len, parsed) == 0);
    EXPECT(parsed->content_length == parsed->body_len);
    EXPECT(parsed->body_len >= 550 && parsed->body_len <= 700);

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        EXPECT(param(parsed, names[i]) != NULL);
    }

    EXPECT(parsed->count == sizeof(names) / sizeof(names[0]));
    EXPECT(strcmp(param(parsed, "To"), "+15005550006") == 0);
    EXPECT(strcmp(param(parsed, "NumMedia"), "0") == 0);
    EXPECT(strlen(param(parsed, "MessageSid")) == 34);
    EXPECT(strncmp(param(parsed, "MessageSid"), "SM0badcafe", 10) == 0);
    EXPECT(strcmp(param(parsed, "MessageSid"), param(parsed, "SmsSid"))
           == 0);
    EXPECT(strchr(param(parsed, "Body"), ' ') != NULL);
    EXPECT(strchr(param(parsed, "Body"), '?') != NULL);

    /* The signature, checked with the decoded fields of the body. */
    EXPECT(load_twilio_signature(check.mac_ctx,
               "http://127.0.0.1:8080/webhooks/twilio/inbound",
               parsed->params, parsed->count, sig) == 0);
    EXPECT(strcmp(sig, parsed->signature) == 0);

    /* Signed with another token, it would not pass. */
    load_request_free(&check);
    EXPECT(load_request_init(&check, "", "/", "x", "not-T", "+1", "AC",
               "00000000", 1) == 0);
    EXPECT(load_twilio_signature(check.mac_ctx,
               "http://127.0.0.1:8080/webhooks/twilio/inbound",
               parsed->params, parsed->count, sig) == 0);
    EXPECT(strcmp(sig, parsed->signature) != 0);

    snprintf(sid0, sizeof(sid0), "%s", param(parsed, "MessageSid"));
    snprintf(from0, sizeof(from0), "%s", param(parsed, "From"));
    EXPECT(strcmp(from0, "+14155550000") == 0);

    /* The next request is another message from another contact. */
    len = load_request_build(&gen, 0, 1, 1, req);
    EXPECT(parse_request(req, len, parsed) == 0);
    EXPECT(strcmp(param(parsed, "MessageSid"), sid0) != 0);
    EXPECT(strcmp(param(parsed, "From"), from0) != 0);

    /* Another thread's first request too. */
    len = load_request_build(&gen, 1, 2, 0, req);
    EXPECT(parse_request(req, len, parsed) == 0);
    EXPECT(strcmp(param(parsed, "MessageSid"), sid0) != 0);

    /* From comes round again after --contacts messages. */
    len = load_request_build(&gen, 0, 1, 1000, req);
    EXPECT(parse_request(req, len, parsed) == 0);
    EXPECT(strcmp(param(parsed, "MessageSid"), sid0) != 0);
    EXPECT(strcmp(param(parsed, "From"), from0) == 0);

    load_request_free(&check);
    load_request_free(&gen);
    free(parsed);
}


static void
test_responses(void)
{
    load_response_t  res;
    const char      *r;

    r = "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/xml\r\n"
        "Content-Length: 21\r\n\r\n<Response></Response>";
    EXPECT(load_response_parse(r, strlen(r), &res) == 1);
    EXPECT(res.status == 200 && res.keep_alive && res.length == strlen(r));
    EXPECT(load_response_parse(r, strlen(r) - 1, &res) == 0);
    EXPECT(load_response_parse(r, 20, &res) == 0);

    r = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n"
        "Connection: close\r\n\r\n";
    EXPECT(load_response_parse(r, strlen(r), &res) == 1);
    EXPECT(res.status == 403 && !res.keep_alive);

    r = "HTTP/1.1 503 Service Unavailable\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n";
    EXPECT(load_response_parse(r, strlen(r), &res) == 1);
    EXPECT(res.status == 503 && res.length == strlen(r));
    EXPECT(load_response_parse(r, strlen(r) - 2, &res) == 0);
    EXPECT(load_response_parse(r, strlen(r) - 10, &res) == 0);

    r = "SSH-2.0-OpenSSH\r\n\r\n";
    EXPECT(load_response_parse(r, strlen(r), &res) == -1);
}


/* Splits a request into its signature header and decoded form fields. */
static int
parse_request(const char *req, size_t len, parsed_request_t *out)
{
    char        *body, *field, *eq, *next, *sig, *cl;
    const char  *head_end;

    memset(out, 0, sizeof(*out));

    head_end = memmem(req, len, "\r\n\r\n", 4);
    if (head_end == NULL || len >= sizeof(out->storage)) {
        return -1;
    }

    memcpy(out->storage, req, len);
    out->storage[len] = '\0';
    out->storage[head_end - req] = '\0';
    body = out->storage + (head_end - req) + 4;
    out->body_len = len - (head_end - req) - 4;

    sig = strstr(out->storage, "\r\nX-Twilio-Signature: ");
    cl = strstr(out->storage, "\r\nContent-Length: ");
    if (sig == NULL || cl == NULL) {
        return -1;
    }

    sig += strlen("\r\nX-Twilio-Signature: ");
    snprintf(out->signature, sizeof(out->signature), "%.*s",
             (int) strcspn(sig, "\r"), sig);
    out->content_length = strtoul(cl + strlen("\r\nContent-Length: "),
                                  NULL, 10);

    for (field = body; field && *field; field = next) {
        next = strchr(field, '&');
        if (next) {
            *next++ = '\0';
        }

        eq = strchr(field, '=');
        if (eq == NULL || out->count == MAX_FIELDS) {
            return -1;
        }
        *eq = '\0';

        form_decode(field);
        form_decode(eq + 1);
        out->params[out->count].name = field;
        out->params[out->count].value = eq + 1;
        out->count++;
    }

    return 0;
}


static const char *
param(const parsed_request_t *req, const char *name)
{
    size_t  i;

    for (i = 0; i < req->count; i++) {
        if (strcmp(req->params[i].name, name) == 0) {
            return req->params[i].value;
        }
    }

    return NULL;
}


/* In place: '+' is a space, %XX a byte. */
static size_t
form_decode(char *s)
{
    char          *w;
    unsigned int   byte;

    for (w = s; *s; s++) {
        if (*s == '+') {
            *w++ = ' ';
        } else if (*s == '%' && sscanf(s + 1, "%2x", &byte) == 1) {
            *w++ = (char) byte;
            s += 2;
        } else {
            *w++ = *s;
        }
    }

    *w = '\0';

    return 0;
}
