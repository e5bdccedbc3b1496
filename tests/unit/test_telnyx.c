/*
 * Telnyx: Ed25519 against RFC 8032's published vectors and a key pair made
 * here, the webhook signature (timestamp|body, 5 minutes either way), the
 * events it sends (message.received into the inbound struct,
 * message.sent and message.finalized into status updates), and the
 * /v2/messages request and its answers, malformed ones included.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <yajl/yajl_tree.h>
#include <inbox/encoding.h>
#include <inbox/inbound.h>
#include <inbox/telnyx.h>
#include <inbox/utf8.h>
#include "check.h"


static void
unhex(const char *hex, unsigned char *out)
{
    size_t        i;
    unsigned int  b;

    for (i = 0; hex[2 * i]; i++) {
        sscanf(hex + 2 * i, "%2x", &b);
        out[i] = (unsigned char) b;
    }
}


/* RFC 8032, section 7.1, TEST 1 (empty message) and TEST 2 (one byte). */
#define RFC1_PK  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68" \
                 "f707511a"
#define RFC1_SIG "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065" \
                 "224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24" \
                 "655141438e7a100b"
#define RFC2_PK  "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f1" \
                 "2af4660c"
#define RFC2_SIG "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223" \
                 "ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aee" \
                 "b00d291612bb0c00"


TEST(ed25519_rfc8032_vectors)
{
    unsigned char  pk[32], sig[64], msg[1];

    unhex(RFC1_PK, pk);
    unhex(RFC1_SIG, sig);
    CHECK(inbox_ed25519_valid(pk, (const unsigned char *) "", 0, sig));

    /* one flipped bit anywhere fails */
    sig[10] ^= 0x01;
    CHECK(!inbox_ed25519_valid(pk, (const unsigned char *) "", 0, sig));
    sig[10] ^= 0x01;
    pk[0] ^= 0x80;
    CHECK(!inbox_ed25519_valid(pk, (const unsigned char *) "", 0, sig));

    unhex(RFC2_PK, pk);
    unhex(RFC2_SIG, sig);
    msg[0] = 0x72;
    CHECK(inbox_ed25519_valid(pk, msg, 1, sig));

    msg[0] = 0x73;
    CHECK(!inbox_ed25519_valid(pk, msg, 1, sig));
    msg[0] = 0x72;
    CHECK(!inbox_ed25519_valid(pk, msg, 0, sig));
    sig[63] ^= 0x40;
    CHECK(!inbox_ed25519_valid(pk, msg, 1, sig));
}


/* A key pair made for the test, as Telnyx would hold and show it. */
typedef struct {
    EVP_PKEY  *key;
    char       public_b64[INBOX_BASE64_LEN(32)];
} keypair_t;


static void
keypair(keypair_t *kp)
{
    size_t          len;
    unsigned char   raw[32];
    EVP_PKEY_CTX   *ctx;

    kp->key = NULL;
    ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
    if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1
        || EVP_PKEY_keygen(ctx, &kp->key) != 1)
    {
        abort();
    }
    EVP_PKEY_CTX_free(ctx);

    len = sizeof(raw);
    if (EVP_PKEY_get_raw_public_key(kp->key, raw, &len) != 1 || len != 32) {
        abort();
    }

    inbox_base64_encode(raw, 32, kp->public_b64);
}


/* base64 of the signature of "timestamp|body", as Telnyx sends it. */
static void
sign(const keypair_t *kp, const char *timestamp, const char *body,
    char out[INBOX_BASE64_LEN(64)])
{
    char           *msg;
    size_t          len, siglen;
    EVP_MD_CTX     *ctx;
    unsigned char   sig[64];

    len = strlen(timestamp) + 1 + strlen(body);
    msg = malloc(len + 1);
    snprintf(msg, len + 1, "%s|%s", timestamp, body);

    ctx = EVP_MD_CTX_new();
    siglen = sizeof(sig);
    if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, kp->key) != 1
        || EVP_DigestSign(ctx, sig, &siglen, (unsigned char *) msg, len)
           != 1)
    {
        abort();
    }
    EVP_MD_CTX_free(ctx);
    free(msg);

    inbox_base64_encode(sig, siglen, out);
}


#define NOW 1735689600


TEST(webhook_signature_from_a_generated_key)
{
    keypair_t       kp, other;
    char            sig[INBOX_BASE64_LEN(64)];
    const char     *body = "{\"data\":{\"event_type\":\"message.sent\"}}";
    inbox_number_t  n;
    inbox_error_t   err;

    keypair(&kp);
    keypair(&other);
    sign(&kp, "1735689600", body, sig);

    CHECK(inbox_telnyx_signature_valid(kp.public_b64, sig, "1735689600",
                                       body, strlen(body), NOW));

    /* another key, another body, another timestamp */
    CHECK(!inbox_telnyx_signature_valid(other.public_b64, sig, "1735689600",
                                        body, strlen(body), NOW));
    CHECK(!inbox_telnyx_signature_valid(kp.public_b64, sig, "1735689600",
                                        body, strlen(body) - 1, NOW));
    CHECK(!inbox_telnyx_signature_valid(kp.public_b64, sig, "1735689601",
                                        body, strlen(body), NOW));

    /* up to 5 minutes either way, not one second more */
    sign(&kp, "1735689300", body, sig);
    CHECK(inbox_telnyx_signature_valid(kp.public_b64, sig, "1735689300",
                                       body, strlen(body), NOW));
    CHECK(!inbox_telnyx_signature_valid(kp.public_b64, sig, "1735689300",
                                        body, strlen(body), NOW + 1));
    sign(&kp, "1735689900", body, sig);
    CHECK(inbox_telnyx_signature_valid(kp.public_b64, sig, "1735689900",
                                       body, strlen(body), NOW));
    CHECK(!inbox_telnyx_signature_valid(kp.public_b64, sig, "1735689900",
                                        body, strlen(body), NOW - 1));

    /* malformed headers and keys */
    sign(&kp, "1735689600", body, sig);
    CHECK(!inbox_telnyx_signature_valid(kp.public_b64, sig, "+1735689600",
                                        body, strlen(body), NOW));
    CHECK(!inbox_telnyx_signature_valid(kp.public_b64, sig, "", body,
                                        strlen(body), NOW));
    CHECK(!inbox_telnyx_signature_valid(kp.public_b64, sig,
                                        "99999999999999999999", body,
                                        strlen(body), NOW));
    CHECK(!inbox_telnyx_signature_valid(kp.public_b64, NULL, "1735689600",
                                        body, strlen(body), NOW));
    CHECK(!inbox_telnyx_signature_valid(kp.public_b64, "not base64!",
                                        "1735689600", body, strlen(body),
                                        NOW));
    CHECK(!inbox_telnyx_signature_valid("AAAA", sig, "1735689600", body,
                                        strlen(body), NOW));
    CHECK(!inbox_telnyx_signature_valid(NULL, sig, "1735689600", body,
                                        strlen(body), NOW));

    /* through a number */
    memset(&n, 0, sizeof(n));
    n.carrier = INBOX_CARRIER_TELNYX;
    n.public_key = kp.public_b64;
    CHECK_INT(inbox_telnyx_webhook_verify(&n, sig, "1735689600", body,
                                          strlen(body), NOW, &err),
              INBOX_OK);
    CHECK_INT(inbox_telnyx_webhook_verify(NULL, sig, "1735689600", body,
                                          strlen(body), NOW, &err),
              INBOX_ERR_FORBIDDEN);
    n.carrier = INBOX_CARRIER_TWILIO;
    CHECK_INT(inbox_telnyx_webhook_verify(&n, sig, "1735689600", body,
                                          strlen(body), NOW, &err),
              INBOX_ERR_FORBIDDEN);
    n.carrier = INBOX_CARRIER_TELNYX;
    n.public_key = NULL;
    CHECK_INT(inbox_telnyx_webhook_verify(&n, sig, "1735689600", body,
                                          strlen(body), NOW, &err),
              INBOX_ERR_FORBIDDEN);

    EVP_PKEY_free(kp.key);
    EVP_PKEY_free(other.key);
}


#define RECEIVED                                                            \
    "{\"data\":{\"event_type\":\"message.received\",\"id\":"                \
    "\"b301ed3f-1490-491f-995f-6e64e69674d4\",\"occurred_at\":"             \
    "\"2025-01-01T00:00:00.000+00:00\",\"payload\":{\"completed_at\":null," \
    "\"direction\":\"inbound\",\"encoding\":\"GSM-7\",\"errors\":[],"       \
    "\"from\":{\"carrier\":\"T-Mobile USA\",\"line_type\":\"long_code\","   \
    "\"phone_number\":\"+15552223333\"},\"id\":"                            \
    "\"84cca175-9755-4859-b67f-4730d7f58aa3\",\"media\":%s,"                \
    "\"messaging_profile_id\":\"740572b6-099c-44a1-89b9-6c92163bc68d\","    \
    "\"parts\":%s,\"received_at\":\"2025-01-01T00:00:00.000+00:00\","       \
    "\"record_type\":\"message\",\"text\":%s,\"to\":[{\"carrier\":"         \
    "\"Telnyx\",\"line_type\":\"Wireless\",\"phone_number\":"               \
    "\"+15550001111\",\"status\":\"webhook_delivered\"}],\"type\":%s},"     \
    "\"record_type\":\"event\"},\"meta\":{\"attempt\":1,\"delivered_to\":"  \
    "\"https://inbox.example/webhooks/telnyx\"}}"


static inbox_status_t
parse(const char *body, inbox_telnyx_event_t *ev, inbox_error_t *err)
{
    return inbox_telnyx_event_parse(body, strlen(body), "US", ev, err);
}


static char *
received(const char *media, const char *parts, const char *text,
    const char *type)
{
    char  *s;

    if (asprintf(&s, RECEIVED, media, parts, text, type) < 0) {
        abort();
    }
    return s;
}


TEST(message_received_sms)
{
    char                  *body;
    inbox_error_t          err;
    inbox_telnyx_event_t   ev;

    body = received("[]", "1", "\"Hello \\u00e9 \\ud83d\\ude00\"",
                    "\"SMS\"");
    CHECK_INT(parse(body, &ev, &err), INBOX_OK);
    CHECK_INT(ev.kind, INBOX_TELNYX_EVENT_RECEIVED);
    CHECK_STR(ev.event_type, "message.received");
    CHECK_STR(ev.number, "+15550001111");
    CHECK_INT(ev.inbound.carrier, INBOX_CARRIER_TELNYX);
    CHECK_STR(ev.inbound.provider_id,
              "84cca175-9755-4859-b67f-4730d7f58aa3");
    CHECK_STR(ev.inbound.from, "+15552223333");
    CHECK_STR(ev.inbound.to, "+15550001111");
    CHECK_STR(ev.inbound.body, "Hello \xc3\xa9 \xf0\x9f\x98\x80");
    CHECK_INT(ev.inbound.media_count, 0);
    CHECK_INT(ev.inbound.segments, 1);
    CHECK(ev.inbound.received_at > 0);
    inbox_telnyx_event_free(&ev);
    free(body);
}


/* body with its first `from` replaced by `to` (of the same length or
 * shorter), in place. */
static void
replace_in(char *body, const char *from, const char *to)
{
    char  *at;

    at = strstr(body, from);
    if (at == NULL || strlen(to) > strlen(from)) {
        abort();
    }
    memcpy(at, to, strlen(to));
    memmove(at + strlen(to), at + strlen(from),
            strlen(at + strlen(from)) + 1);
}


/* When Telnyx got the message, which orders keywords (optout.h): its
 * received_at, else the event's occurred_at, never after its arrival. */
TEST(message_received_keeps_the_carriers_time)
{
    char                  *body;
    inbox_error_t          err;
    inbox_telnyx_event_t   ev;

    body = received("[]", "1", "\"STOP\"", "\"SMS\"");
    replace_in(body, "\"received_at\":\"2025-01-01T00:00:00.000+00:00\"",
               "\"received_at\":\"2025-01-01T00:00:05.123+00:00\"");
    CHECK_INT(parse(body, &ev, &err), INBOX_OK);
    CHECK_INT(ev.inbound.carrier_at, 1735689605123LL);
    CHECK(ev.inbound.received_at > ev.inbound.carrier_at);
    inbox_telnyx_event_free(&ev);
    free(body);

    /* no received_at: the event's time */
    body = received("[]", "1", "\"STOP\"", "\"SMS\"");
    replace_in(body, "\"received_at\":\"2025-01-01T00:00:00.000+00:00\"",
               "\"received_at\":null");
    replace_in(body, "\"occurred_at\":\"2025-01-01T00:00:00.000+00:00\"",
               "\"occurred_at\":\"2025-01-01T00:00:02.000+00:00\"");
    CHECK_INT(parse(body, &ev, &err), INBOX_OK);
    CHECK_INT(ev.inbound.carrier_at, 1735689602000LL);
    inbox_telnyx_event_free(&ev);
    free(body);

    /* neither, or one we cannot read: unknown (its arrival stands) */
    body = received("[]", "1", "\"STOP\"", "\"SMS\"");
    replace_in(body, "\"received_at\":\"2025-01-01T00:00:00.000+00:00\"",
               "\"received_at\":\"yesterday\"");
    replace_in(body, "\"occurred_at\":\"2025-01-01T00:00:00.000+00:00\"",
               "\"occurred_at\":\"2025-01-01 00:00:02\"");
    CHECK_INT(parse(body, &ev, &err), INBOX_OK);
    CHECK_INT(ev.inbound.carrier_at, 0);
    inbox_telnyx_event_free(&ev);
    free(body);

    /* ahead of our clock: its arrival, or it would make every keyword
     * after it older news */
    body = received("[]", "1", "\"STOP\"", "\"SMS\"");
    replace_in(body, "\"received_at\":\"2025-01-01T00:00:00.000+00:00\"",
               "\"received_at\":\"2099-01-01T00:00:00.000+00:00\"");
    CHECK_INT(parse(body, &ev, &err), INBOX_OK);
    CHECK_INT(ev.inbound.carrier_at, ev.inbound.received_at);
    inbox_telnyx_event_free(&ev);
    free(body);
}


TEST(message_received_lone_surrogate_is_no_invalid_utf8)
{
    char                  *body;
    inbox_error_t          err;
    inbox_telnyx_event_t   ev;

    body = received("[]", "1", "\"a\\ud800b\"", "\"SMS\"");
    CHECK_INT(parse(body, &ev, &err), INBOX_OK);
    CHECK(ev.inbound.body != NULL
          && inbox_utf8_valid(ev.inbound.body, strlen(ev.inbound.body)));
    CHECK_STR(ev.inbound.body, "a?b");
    inbox_telnyx_event_free(&ev);
    free(body);
}


TEST(message_received_mms)
{
    char                  *body;
    inbox_error_t          err;
    inbox_telnyx_event_t   ev;

    body = received("[{\"url\":\"https://media.telnyx.example/a.jpg\","
                    "\"content_type\":\"image/jpeg\",\"size\":1234,"
                    "\"hash_sha256\":\"00\"},{\"url\":"
                    "\"https://media.telnyx.example/b.png\","
                    "\"content_type\":\"image/png\"}]", "2", "null",
                    "\"MMS\"");
    CHECK_INT(parse(body, &ev, &err), INBOX_OK);
    CHECK_STR(ev.inbound.body, "");
    CHECK_INT(ev.inbound.media_count, 2);
    CHECK_STR(ev.inbound.media[0].url, "https://media.telnyx.example/a.jpg");
    CHECK_STR(ev.inbound.media[0].content_type, "image/jpeg");
    CHECK_STR(ev.inbound.media[1].content_type, "image/png");
    CHECK_INT(ev.inbound.segments, 2);
    inbox_telnyx_event_free(&ev);
    free(body);

    /* a type null or left out (Telnyx documents it optional): kept
     * unknown, the copy reads it from the bytes; the text stays */
    body = received("[{\"url\":\"https://media.telnyx.example/c\","
                    "\"content_type\":null,\"sha256\":null,"
                    "\"size\":null},{\"url\":"
                    "\"https://media.telnyx.example/d\"}]", "1",
                    "\"pic\"", "\"MMS\"");
    CHECK_INT(parse(body, &ev, &err), INBOX_OK);
    CHECK_STR(ev.inbound.body, "pic");
    CHECK_INT(ev.inbound.media_count, 2);
    CHECK_STR(ev.inbound.media[0].url, "https://media.telnyx.example/c");
    CHECK_STR(ev.inbound.media[0].content_type, "");
    CHECK_STR(ev.inbound.media[1].url, "https://media.telnyx.example/d");
    CHECK_STR(ev.inbound.media[1].content_type, "");
    inbox_telnyx_event_free(&ev);
    free(body);
}


/* A quoted JSON string of n times c. */
static char *
quoted(char c, size_t n)
{
    char  *s;

    s = malloc(n + 3);
    s[0] = '"';
    memset(s + 1, c, n);
    strcpy(s + 1 + n, "\"");

    return s;
}


/* A media list of n items, each a GIF at its own URL. */
static void
media_list(char *out, size_t n)
{
    size_t  i;

    strcpy(out, "[");
    for (i = 0; i < n; i++) {
        sprintf(out + strlen(out), "%s{\"url\":\"https://m.example/%zu\","
                "\"content_type\":\"image/gif\"}", i ? "," : "", i);
    }
    strcat(out, "]");
}


TEST(message_received_keeps_ten_media_and_notes_the_rest)
{
    char                  *body, *text, media[8192], list[4096];
    inbox_error_t          err;
    inbox_telnyx_event_t   ev;

    /* more than a message keeps: the first ten, and a note in the text,
     * never the whole message refused */
    media_list(media, 12);
    body = received(media, "1", "\"look\"", "\"MMS\"");
    CHECK_INT(parse(body, &ev, &err), INBOX_OK);
    CHECK_INT(ev.inbound.media_count, INBOX_MEDIA_MAX);
    CHECK_STR(ev.inbound.media[9].url, "https://m.example/9");
    CHECK_INT(ev.inbound.media[9].state, INBOX_MEDIA_PENDING);
    CHECK_STR(ev.inbound.body, "look\n[2 more attachments not kept]");
    inbox_telnyx_event_free(&ev);
    free(body);

    media_list(media, 11);
    body = received(media, "1", "\"\"", "\"MMS\"");
    CHECK_INT(parse(body, &ev, &err), INBOX_OK);
    CHECK_INT(ev.inbound.media_count, INBOX_MEDIA_MAX);
    CHECK_STR(ev.inbound.body, "[1 more attachment not kept]");
    inbox_telnyx_event_free(&ev);
    free(body);

    /* a text already cut keeps both notes */
    text = quoted('a', INBOX_INBOUND_BODY_MAX + 3);
    body = received(media, "1", text, "\"MMS\"");
    CHECK_INT(parse(body, &ev, &err), INBOX_OK);
    CHECK(strstr(ev.inbound.body, "aaa\n[3 more characters not kept]\n"
                 "[1 more attachment not kept]") != NULL);
    CHECK_INT(strlen(ev.inbound.body), INBOX_INBOUND_BODY_MAX
              + strlen("\n[3 more characters not kept]\n"
                       "[1 more attachment not kept]"));
    inbox_telnyx_event_free(&ev);
    free(body);
    free(text);

    /* a keyword stays one, its attachments past ten unnoted */
    media_list(media, 12);
    body = received(media, "1", "\"STOP\"", "\"MMS\"");
    CHECK_INT(parse(body, &ev, &err), INBOX_OK);
    CHECK_STR(ev.inbound.body, "STOP");
    CHECK_INT(ev.inbound.media_count, INBOX_MEDIA_MAX);
    inbox_telnyx_event_free(&ev);
    free(body);

    /* layout parts (SMIL) are no attachments: neither kept nor counted */
    media_list(list, 10);
    list[strlen(list) - 1] = '\0';
    snprintf(media, sizeof(media), "[{\"url\":\"https://m.example/s\","
             "\"content_type\":\"application/smil\"},%s,"
             "{\"url\":\"https://m.example/t\","
             "\"content_type\":\"application/smil\"}]", list + 1);
    body = received(media, "1", "\"look\"", "\"MMS\"");
    CHECK_INT(parse(body, &ev, &err), INBOX_OK);
    CHECK_INT(ev.inbound.media_count, INBOX_MEDIA_MAX);
    CHECK_STR(ev.inbound.media[0].url, "https://m.example/0");
    CHECK_STR(ev.inbound.body, "look");
    inbox_telnyx_event_free(&ev);
    free(body);

    /* exactly ten: no note */
    media_list(media, 10);
    body = received(media, "1", "\"look\"", "\"MMS\"");
    CHECK_INT(parse(body, &ev, &err), INBOX_OK);
    CHECK_INT(ev.inbound.media_count, INBOX_MEDIA_MAX);
    CHECK_STR(ev.inbound.body, "look");
    inbox_telnyx_event_free(&ev);
    free(body);
}


TEST(message_received_refused_beyond_intake_caps)
{
    char                  *body;
    inbox_error_t          err;
    inbox_telnyx_event_t   ev;

    /* media that is no list */
    body = received("{\"url\":\"https://m.example/x\"}", "1", "\"\"",
                    "\"MMS\"");
    CHECK_INT(parse(body, &ev, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "data.payload.media");
    free(body);

    /* text that is not a string, a NUL in it */
    body = received("[]", "1", "42", "\"SMS\"");
    CHECK_INT(parse(body, &ev, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "data.payload.text");
    free(body);

    body = received("[]", "1", "\"a\\u0000b\"", "\"SMS\"");
    CHECK_INT(parse(body, &ev, &err), INBOX_ERR_INVALID);
    free(body);
}


TEST(message_received_keeps_a_long_text)
{
    char                  *body, *text, *expected;
    size_t                 i;
    inbox_error_t          err;
    inbox_telnyx_event_t   ev;

    /* over Twilio's 1600: Telnyx documents no cap for what it delivers */
    text = quoted('a', 2000);
    body = received("[]", "13", text, "\"SMS\"");
    CHECK_INT(parse(body, &ev, &err), INBOX_OK);
    CHECK_INT(strlen(ev.inbound.body), 2000);
    inbox_telnyx_event_free(&ev);
    free(body);
    free(text);

    /* 5000 kept whole, more cut after 5000 saying how many went */
    text = quoted('b', 5000);
    body = received("[]", "33", text, "\"SMS\"");
    CHECK_INT(parse(body, &ev, &err), INBOX_OK);
    CHECK_INT(strlen(ev.inbound.body), 5000);
    inbox_telnyx_event_free(&ev);
    free(body);
    free(text);

    text = quoted('c', 5003);
    body = received("[]", "33", text, "\"SMS\"");
    CHECK_INT(parse(body, &ev, &err), INBOX_OK);
    expected = malloc(5100);
    memset(expected, 'c', 5000);
    strcpy(expected + 5000, "\n[3 more characters not kept]");
    CHECK_STR(ev.inbound.body, expected);
    inbox_telnyx_event_free(&ev);
    free(expected);
    free(body);
    free(text);

    /* an event longer than a carrier's answer may be (64 KiB): kept,
     * cut as any long text */
    text = quoted('d', 70000);
    body = received("[]", "467", text, "\"SMS\"");
    CHECK(strlen(body) > INBOX_CARRIER_ANSWER_MAX);
    CHECK_INT(parse(body, &ev, &err), INBOX_OK);
    CHECK(strncmp(ev.inbound.body + 4990, "dddddddddd\n[65000 more", 22)
          == 0);
    inbox_telnyx_event_free(&ev);
    free(body);
    free(text);

    /* cut at a character, not inside one: 5001 two-byte characters */
    text = malloc(2 * 5001 + 3);
    text[0] = '"';
    for (i = 0; i < 5001; i++) {
        memcpy(text + 1 + 2 * i, "\xc3\xa9", 2);
    }
    strcpy(text + 1 + 2 * 5001, "\"");
    body = received("[]", "33", text, "\"SMS\"");
    CHECK_INT(parse(body, &ev, &err), INBOX_OK);
    CHECK(strlen(ev.inbound.body) > 2 * 5000
          && strcmp(ev.inbound.body + 2 * 5000,
                    "\n[1 more character not kept]") == 0);
    inbox_telnyx_event_free(&ev);
    free(body);
    free(text);
}


TEST(message_received_keeps_media_it_cannot_fetch_failed)
{
    char                  *body, *url, media[8192];
    inbox_error_t          err;
    inbox_telnyx_event_t   ev;

    /* a signed URL of 1500 characters: fetched as any other */
    url = quoted('u', 1500 - strlen("https://m.example/"));
    snprintf(media, sizeof(media), "[{\"url\":\"https://m.example/%s,"
             "\"content_type\":\"image/jpeg\"}]", url + 1);
    body = received(media, "1", "\"look\"", "\"MMS\"");
    CHECK_INT(parse(body, &ev, &err), INBOX_OK);
    CHECK_INT(strlen(ev.inbound.media[0].url), 1500);
    CHECK_INT(ev.inbound.media[0].state, INBOX_MEDIA_PENDING);
    inbox_telnyx_event_free(&ev);
    free(body);
    free(url);

    /* 2048 characters, over Telnyx's own limit, a URL that is not http,
     * none at all: each item failed, the text and the others kept */
    url = quoted('u', 2048 - strlen("https://m.example/"));
    snprintf(media, sizeof(media), "[{\"url\":\"https://m.example/%s,"
             "\"content_type\":\"image/jpeg\"},{\"url\":\"javascript:x\","
             "\"content_type\":\"image/gif\"},{\"content_type\":"
             "\"image/gif\"},{\"url\":\"https://m.example/ok\","
             "\"content_type\":\"image/png\"}]", url + 1);
    body = received(media, "1", "\"four\"", "\"MMS\"");
    CHECK_INT(parse(body, &ev, &err), INBOX_OK);
    CHECK_STR(ev.inbound.body, "four");
    CHECK_INT(ev.inbound.media_count, 4);
    CHECK_INT(ev.inbound.media[0].state, INBOX_MEDIA_FAILED);
    CHECK_STR(ev.inbound.media[0].url, "");
    CHECK_STR(ev.inbound.media[0].content_type, "image/jpeg");
    CHECK_INT(ev.inbound.media[1].state, INBOX_MEDIA_FAILED);
    CHECK_STR(ev.inbound.media[1].url, "");
    CHECK_INT(ev.inbound.media[2].state, INBOX_MEDIA_FAILED);
    CHECK_INT(ev.inbound.media[3].state, INBOX_MEDIA_PENDING);
    CHECK_STR(ev.inbound.media[3].url, "https://m.example/ok");
    CHECK_STR(ev.inbound.media[3].content_type, "image/png");
    inbox_telnyx_event_free(&ev);
    free(body);
    free(url);

    /* a type that is not a string, not ASCII or not printable: unknown,
     * the copy reads it from the bytes */
    body = received("[{\"url\":\"https://m.example/x\",\"content_type\":7},"
                    "{\"url\":\"https://m.example/y\",\"content_type\":"
                    "\"image/\\u00e9\"},{\"url\":\"https://m.example/z\","
                    "\"content_type\":\"image/\\u0001\"}]", "1", "\"\"",
                    "\"MMS\"");
    CHECK_INT(parse(body, &ev, &err), INBOX_OK);
    CHECK_INT(ev.inbound.media_count, 3);
    CHECK_INT(ev.inbound.media[0].state, INBOX_MEDIA_PENDING);
    CHECK_STR(ev.inbound.media[0].content_type, "");
    CHECK_STR(ev.inbound.media[1].url, "https://m.example/y");
    CHECK_STR(ev.inbound.media[1].content_type, "");
    CHECK_STR(ev.inbound.media[2].content_type, "");
    CHECK_INT(ev.inbound.media[2].state, INBOX_MEDIA_PENDING);
    inbox_telnyx_event_free(&ev);
    free(body);
}


TEST(message_received_missing_fields)
{
    inbox_error_t          err;
    inbox_telnyx_event_t   ev;

    CHECK_INT(parse("{\"data\":{\"event_type\":\"message.received\","
                    "\"payload\":{\"from\":{\"phone_number\":\"+1555222333"
                    "3\"},\"to\":[{\"phone_number\":\"+15550001111\"}]}}}",
                    &ev, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "data.payload.id");

    CHECK_INT(parse("{\"data\":{\"event_type\":\"message.received\","
                    "\"payload\":{\"id\":\"x1\",\"to\":[{\"phone_number\":"
                    "\"+15550001111\"}]}}}", &ev, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "data.payload.from.phone_number");

    CHECK_INT(parse("{\"data\":{\"event_type\":\"message.received\","
                    "\"payload\":{\"id\":\"x1\",\"from\":{\"phone_number\":"
                    "\"+15552223333\"},\"to\":[]}}}", &ev, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "data.payload.to[0].phone_number");

    CHECK_INT(parse("{\"data\":{\"event_type\":\"message.received\","
                    "\"payload\":{\"id\":\"x 1\",\"from\":{\"phone_number\":"
                    "\"+15552223333\"},\"to\":[{\"phone_number\":"
                    "\"+15550001111\"}]}}}", &ev, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "data.payload.id");

    CHECK_INT(parse("{\"data\":{\"event_type\":\"message.received\","
                    "\"payload\":{\"id\":\"x1\",\"from\":{\"phone_number\":"
                    "\"call me\"},\"to\":[{\"phone_number\":"
                    "\"+15550001111\"}]}}}", &ev, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "data.payload.from.phone_number");
}


#define STATUS_EVENT(type, status, errors)                                  \
    "{\"data\":{\"event_type\":\"" type "\",\"id\":\"ev-1\",\"payload\":{"  \
    "\"id\":\"40385f64-5717-4562-b3fc-2c963f66afa6\",\"direction\":"        \
    "\"outbound\",\"from\":{\"phone_number\":\"+15550001111\"},\"to\":[{"   \
    "\"phone_number\":\"+15552223333\",\"status\":\"" status "\"}],"        \
    "\"errors\":" errors ",\"type\":\"SMS\"},\"record_type\":\"event\"}}"


TEST(message_sent_and_finalized)
{
    inbox_error_t          err;
    inbox_telnyx_event_t   ev;

    CHECK_INT(parse(STATUS_EVENT("message.sent", "sent", "[]"), &ev, &err),
              INBOX_OK);
    CHECK_INT(ev.kind, INBOX_TELNYX_EVENT_STATUS);
    CHECK_STR(ev.number, "+15550001111");
    CHECK_STR(ev.update.provider_id, "40385f64-5717-4562-b3fc-2c963f66afa6");
    CHECK_STR(inbox_delivery_name(ev.update.status), "sent");
    CHECK(!ev.update.final);
    CHECK(!ev.update.opted_out);
    CHECK_STR(ev.update.error_code, "");
    inbox_telnyx_event_free(&ev);

    CHECK_INT(parse(STATUS_EVENT("message.finalized", "delivered", "[]"),
                    &ev, &err), INBOX_OK);
    CHECK_STR(inbox_delivery_name(ev.update.status), "delivered");
    CHECK(ev.update.final);
    inbox_telnyx_event_free(&ev);

    /* no receipt will come: sent, and final */
    CHECK_INT(parse(STATUS_EVENT("message.finalized",
                                 "delivery_unconfirmed", "[]"), &ev, &err),
              INBOX_OK);
    CHECK_STR(inbox_delivery_name(ev.update.status), "sent");
    CHECK(ev.update.final);
    CHECK_INT(inbox_delivery_hold(ev.update.status, ev.update.final),
              INBOX_HOLD_CAPTURE);
    inbox_telnyx_event_free(&ev);

    CHECK_INT(parse(STATUS_EVENT("message.finalized", "delivery_failed",
                                 "[{\"code\":\"40008\",\"title\":"
                                 "\"Undeliverable\"}]"), &ev, &err),
              INBOX_OK);
    CHECK_STR(inbox_delivery_name(ev.update.status), "undelivered");
    CHECK_STR(ev.update.error_code, "40008");
    CHECK(!ev.update.opted_out);
    inbox_telnyx_event_free(&ev);

    /* the carrier gave up within the validity period: undelivered, and
     * its credits come back, in message.finalized or message.sent */
    CHECK_INT(parse(STATUS_EVENT("message.finalized", "expired",
                                 "[{\"code\":\"40005\",\"title\":"
                                 "\"Message expired during transmission\"}]"),
                    &ev, &err), INBOX_OK);
    CHECK_STR(inbox_delivery_name(ev.update.status), "undelivered");
    CHECK_STR(ev.update.error_code, "40005");
    CHECK(ev.update.final);
    CHECK_INT(inbox_delivery_hold(ev.update.status, ev.update.final),
              INBOX_HOLD_RELEASE);
    inbox_telnyx_event_free(&ev);

    CHECK_INT(parse(STATUS_EVENT("message.sent", "expired", "[]"), &ev,
                    &err), INBOX_OK);
    CHECK_STR(inbox_delivery_name(ev.update.status), "undelivered");
    CHECK_INT(inbox_delivery_hold(ev.update.status, ev.update.final),
              INBOX_HOLD_RELEASE);
    inbox_telnyx_event_free(&ev);

    /* the carrier's block list: opted out, whichever error comes first */
    CHECK_INT(parse(STATUS_EVENT("message.finalized", "sending_failed",
                                 "[{\"code\":\"40001\"},{\"code\":\"40300\","
                                 "\"title\":\"Blocked due to STOP "
                                 "message\"}]"), &ev, &err), INBOX_OK);
    CHECK_STR(inbox_delivery_name(ev.update.status), "failed");
    CHECK_STR(ev.update.error_code, "40300");
    CHECK(ev.update.opted_out);
    inbox_telnyx_event_free(&ev);

    CHECK_INT(parse(STATUS_EVENT("message.sent", "webhook_delivered", "[]"),
                    &ev, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "data.payload.to[0].status");
}


#define STATUS_EVENT_TO(url)                                                \
    "{\"data\":{\"event_type\":\"message.sent\",\"id\":\"ev-1\","           \
    "\"payload\":{\"id\":\"40385f64-5717-4562-b3fc-2c963f66afa6\","          \
    "\"direction\":\"outbound\",\"from\":{\"phone_number\":"                \
    "\"+15550001111\"},\"to\":[{\"phone_number\":\"+15552223333\","         \
    "\"status\":\"sent\"}],\"errors\":[],\"type\":\"SMS\","                 \
    "\"webhook_url\":" url "},\"record_type\":\"event\"}}"


/* The message a report is about, when the answer to its send was lost:
 * named by the webhook_url the sender gave, which the body (signed)
 * repeats; anything else names none. */
TEST(a_report_names_its_message_by_its_signed_webhook_url)
{
    size_t                 i;
    inbox_error_t          err;
    inbox_telnyx_event_t   ev;
    static const char     *cases[][2] = {
        { STATUS_EVENT_TO("\"https://inbox.example/webhooks/telnyx"
                          "?message=64f1a0000000000000000a01\""),
          "64f1a0000000000000000a01" },
        { STATUS_EVENT_TO("\"https://inbox.example/webhooks/telnyx"
                          "?x=1&message=42&y=2\""), "42" },
        { STATUS_EVENT_TO("\"https://inbox.example/webhooks/telnyx"
                          "?message=42#frag\""), "42" },
        { STATUS_EVENT_TO("\"https://inbox.example/webhooks/telnyx"
                          "?premessage=42\""), "" },
        { STATUS_EVENT_TO("\"https://inbox.example/webhooks/telnyx"
                          "?message=4%2F2\""), "" },
        { STATUS_EVENT_TO("\"https://inbox.example/webhooks/telnyx"
                          "?message=\""), "" },
        { STATUS_EVENT_TO("\"https://inbox.example/webhooks/telnyx"
                          "?message=" "0123456789012345678901234567890123"
                          "4567890123456789\""), "" },
        { STATUS_EVENT_TO("\"https://inbox.example/webhooks/telnyx\""), "" },
        { STATUS_EVENT_TO("null"), "" },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK_INT(parse(cases[i][0], &ev, &err), INBOX_OK);
        CHECK_STR(ev.message_id, cases[i][1]);
        inbox_telnyx_event_free(&ev);
    }
}


TEST(telnyx_statuses_map_onto_ours)
{
    size_t              i;
    inbox_delivery_t    d;
    static const char  *map[][2] = {
        { "queued", "queued" }, { "sending", "sending" },
        { "sent", "sent" }, { "delivered", "delivered" },
        { "sending_failed", "failed" }, { "delivery_failed", "undelivered" },
        { "expired", "undelivered" }, { "delivery_unconfirmed", "sent" }
    };

    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        CHECK_INT(inbox_telnyx_status_map(map[i][0], &d), 0);
        CHECK_STR(inbox_delivery_name(d), map[i][1]);
    }

    CHECK_INT(inbox_telnyx_status_map("failed", &d), -1);
}


TEST(other_events_and_malformed_webhooks)
{
    char                  *huge;
    size_t                 len;
    inbox_error_t          err;
    inbox_telnyx_event_t   ev;

    CHECK_INT(parse("{\"data\":{\"event_type\":\"number_order.complete\","
                    "\"payload\":{}}}", &ev, &err), INBOX_OK);
    CHECK_INT(ev.kind, INBOX_TELNYX_EVENT_OTHER);
    CHECK_STR(ev.number, "");
    inbox_telnyx_event_free(&ev);

    CHECK_INT(parse("not json", &ev, &err), INBOX_ERR_INVALID);
    CHECK(ev.root == NULL);
    CHECK_INT(parse("", &ev, &err), INBOX_ERR_INVALID);
    CHECK_INT(parse("[]", &ev, &err), INBOX_ERR_INVALID);
    CHECK_INT(parse("{\"data\":{}}", &ev, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "data.event_type");
    CHECK_INT(parse("{\"data\":{\"event_type\":7}}", &ev, &err),
              INBOX_ERR_INVALID);
    CHECK_INT(parse("{\"data\":{\"event_type\":\"message.received\"}}",
                    &ev, &err), INBOX_ERR_INVALID);
    CHECK_INT(parse("{\"data\":{\"event_type\":\"message.sent\","
                    "\"payload\":[]}}", &ev, &err), INBOX_ERR_INVALID);

    /* the reader's reason, not a size: a NUL in a string */
    CHECK_INT(parse("{\"data\":{\"event_type\":\"a\\u0000b\"}}", &ev,
                    &err), INBOX_ERR_INVALID);
    CHECK(strstr(err.message, "NUL") != NULL);

    /* longer than a carrier's answer may be: bounded where it was read
     * (inbox_max_body), not refused here */
    len = INBOX_CARRIER_ANSWER_MAX + 1;
    huge = malloc(len + 1);
    memset(huge, ' ', len);
    memcpy(huge, "{\"data\":{\"event_type\":\"x\"}}", 27);
    huge[len] = '\0';
    CHECK_INT(parse(huge, &ev, &err), INBOX_OK);
    CHECK_INT(ev.kind, INBOX_TELNYX_EVENT_OTHER);
    inbox_telnyx_event_free(&ev);
    free(huge);
}


static inbox_number_t
telnyx_number(void)
{
    inbox_number_t  n;

    memset(&n, 0, sizeof(n));
    strcpy(n.e164, "+15550001111");
    n.carrier = INBOX_CARRIER_TELNYX;
    n.api_key = (char *) "KEY0123ABC";
    return n;
}


TEST(send_request)
{
    yajl_val                 root, v;
    inbox_number_t           n;
    inbox_outbound_t         msg;
    inbox_carrier_request_t  req;
    inbox_error_t            err;
    static const char       *urls[] = { "https://inbox.example/media/t1" };
    static const char       *from[] = { "from", NULL };
    static const char       *to[] = { "to", NULL };
    static const char       *text[] = { "text", NULL };
    static const char       *media[] = { "media_urls", NULL };
    static const char       *hook[] = { "webhook_url", NULL };

    n = telnyx_number();
    memset(&msg, 0, sizeof(msg));
    msg.from = "+15550001111";
    msg.to = "+15552223333";
    msg.body = "Caf\xc3\xa9 \"ok\" \\ /";
    msg.media_urls = urls;
    msg.media_count = 1;
    msg.status_url = "https://inbox.example/webhooks/telnyx";

    CHECK_INT(inbox_carrier_send_request(&n, &msg, &req, &err), INBOX_OK);
    CHECK_STR(req.method, "POST");
    CHECK_STR(req.url, "https://api.telnyx.com/v2/messages");
    CHECK_INT(req.header_count, 3);
    CHECK_STR(req.headers[0], "Authorization: Bearer KEY0123ABC");
    CHECK_STR(req.headers[1], "Content-Type: application/json");
    CHECK_INT(req.len, strlen(req.body));

    root = yajl_tree_parse(req.body, NULL, 0);
    CHECK(root != NULL);
    CHECK_STR(YAJL_GET_STRING(yajl_tree_get(root, from, yajl_t_string)),
              "+15550001111");
    CHECK_STR(YAJL_GET_STRING(yajl_tree_get(root, to, yajl_t_string)),
              "+15552223333");
    CHECK_STR(YAJL_GET_STRING(yajl_tree_get(root, text, yajl_t_string)),
              msg.body);
    v = yajl_tree_get(root, media, yajl_t_array);
    CHECK(v != NULL && v->u.array.len == 1);
    if (v != NULL && v->u.array.len == 1) {
        CHECK_STR(YAJL_GET_STRING(v->u.array.values[0]), urls[0]);
    }
    CHECK_STR(YAJL_GET_STRING(yajl_tree_get(root, hook, yajl_t_string)),
              msg.status_url);
    yajl_tree_free(root);
    inbox_carrier_request_free(&req);

    /* media only: no text; no status URL: no webhook_url */
    msg.body = "";
    msg.status_url = NULL;
    n.api_base = (char *) "http://127.0.0.1:9999";
    CHECK_INT(inbox_telnyx_send_request(&n, &msg, &req, &err), INBOX_OK);
    CHECK_STR(req.url, "http://127.0.0.1:9999/v2/messages");
    CHECK_STR(req.body, "{\"from\":\"+15550001111\",\"to\":\"+15552223333\","
                        "\"media_urls\":[\"https://inbox.example/media/t1\"]"
                        "}");
    inbox_carrier_request_free(&req);

    /* no key; a key that would break the header */
    n.api_key = NULL;
    CHECK_INT(inbox_telnyx_send_request(&n, &msg, &req, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "api_key");
    n.api_key = (char *) "KEY\r\nX-Evil: 1";
    CHECK_INT(inbox_telnyx_send_request(&n, &msg, &req, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "api_key");
}


#define TELNYX_ID  "40385f64-5717-4562-b3fc-2c963f66afa6"


TEST(status_request_asks_for_the_message)
{
    inbox_error_t            err;
    inbox_number_t           n;
    inbox_carrier_request_t  req;

    n = telnyx_number();

    CHECK_INT(inbox_carrier_status_request(&n, TELNYX_ID, &req, &err),
              INBOX_OK);
    CHECK_STR(req.method, "GET");
    CHECK_STR(req.url, "https://api.telnyx.com/v2/messages/" TELNYX_ID);
    CHECK_STR(req.headers[0], "Authorization: Bearer KEY0123ABC");
    CHECK(req.body == NULL);
    inbox_carrier_request_free(&req);

    n.api_base = (char *) "http://127.0.0.1:9999/";
    CHECK_INT(inbox_telnyx_status_request(&n, TELNYX_ID, &req, &err),
              INBOX_OK);
    CHECK_STR(req.url, "http://127.0.0.1:9999/v2/messages/" TELNYX_ID);
    inbox_carrier_request_free(&req);

    /* nothing but an id goes into the path */
    CHECK_INT(inbox_telnyx_status_request(&n, "../profiles", &req, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "provider_id");
    CHECK_INT(inbox_telnyx_status_request(&n, "a?b", &req, &err),
              INBOX_ERR_INVALID);
    CHECK_INT(inbox_telnyx_status_request(&n, "", &req, &err),
              INBOX_ERR_INVALID);

    n.api_key = (char *) "KEY\r\nX-Evil: 1";
    CHECK_INT(inbox_telnyx_status_request(&n, TELNYX_ID, &req, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "api_key");
}


/* GET /v2/messages/{id}'s answer: the message record in data. */
#define RECORD(id, status, errors)                                          \
    "{\"data\":{\"record_type\":\"message\",\"direction\":"              \
    "\"outbound\",\"id\":\"" id "\",\"type\":\"SMS\","                  \
    "\"from\":{\"phone_number\":\"+15550001111\"},"                       \
    "\"to\":[{\"phone_number\":\"+15552223333\",\"status\":\"" status   \
    "\"}],\"text\":\"hi\",\"errors\":[" errors "]}}"


static int
status_answer(long http_status, const char *body,
    inbox_status_update_t *up, char why[INBOX_CARRIER_MESSAGE_MAX])
{
    return inbox_carrier_status_answer(INBOX_CARRIER_TELNYX, http_status,
                                       body, body ? strlen(body) : 0,
                                       TELNYX_ID, up, why);
}


TEST(status_answer_reads_as_the_webhook_would)
{
    char                   why[INBOX_CARRIER_MESSAGE_MAX];
    inbox_status_update_t  up;

    CHECK_INT(status_answer(200, RECORD(TELNYX_ID, "delivered", ""), &up,
                            why), 0);
    CHECK_STR(up.provider_id, TELNYX_ID);
    CHECK_INT(up.status, INBOX_DELIVERY_DELIVERED);
    CHECK_STR(up.error_code, "");
    CHECK(up.final && !up.opted_out);

    CHECK_INT(status_answer(200, RECORD(TELNYX_ID, "delivery_failed",
                                        "{\"code\":\"40008\",\"title\":"
                                        "\"Undeliverable\"}"), &up, why), 0);
    CHECK_INT(up.status, INBOX_DELIVERY_UNDELIVERED);
    CHECK_STR(up.error_code, "40008");
    CHECK(up.final);

    CHECK_INT(status_answer(200, RECORD(TELNYX_ID, "sending_failed",
                                        "{\"code\":\"40300\"}"), &up, why),
              0);
    CHECK_INT(up.status, INBOX_DELIVERY_FAILED);
    CHECK(up.opted_out);

    /* no receipt will come: it stays sent, and nothing more is asked */
    CHECK_INT(status_answer(200, RECORD(TELNYX_ID, "delivery_unconfirmed",
                                        ""), &up, why), 0);
    CHECK_INT(up.status, INBOX_DELIVERY_SENT);
    CHECK(up.final);

    CHECK_INT(status_answer(200, RECORD(TELNYX_ID, "sent", ""), &up, why),
              0);
    CHECK_INT(up.status, INBOX_DELIVERY_SENT);
    CHECK(!up.final);
}


/* Telnyx has no such message (another profile's key, or deleted):
 * said in Telnyx's words, and nothing to store. */
TEST(status_answer_of_no_such_message_is_told_apart)
{
    char                   why[INBOX_CARRIER_MESSAGE_MAX];
    inbox_status_update_t  up;

    memset(&up, 0x5a, sizeof(up));
    CHECK_INT(status_answer(404, "{\"errors\":[{\"code\":\"10005\","
                                 "\"title\":\"Resource not found\","
                                 "\"detail\":\"The requested resource or "
                                 "URL could not be found.\"}]}", &up, why),
              INBOX_CARRIER_STATUS_NO_SUCH_MESSAGE);
    CHECK(strstr(why, "HTTP 404, error 10005") != NULL);
    CHECK(strstr(why, "could not be found") != NULL);
    CHECK_STR(up.provider_id, "");
    CHECK_INT(up.final, 0);

    CHECK_INT(status_answer(404, "{}", &up, why),
              INBOX_CARRIER_STATUS_NO_SUCH_MESSAGE);
}


TEST(status_answer_that_says_nothing_stores_nothing)
{
    char                   why[INBOX_CARRIER_MESSAGE_MAX];
    inbox_status_update_t  up;

    CHECK_INT(status_answer(0, NULL, &up, why), -1);
    CHECK(strstr(why, "did not answer") != NULL);

    /* a 404 without Telnyx's JSON: a proxy's page */
    CHECK_INT(status_answer(404, "<html>Not Found</html>", &up, why), -1);
    CHECK_INT(status_answer(401, "", &up, why), -1);

    CHECK_INT(status_answer(200, "", &up, why), -1);
    CHECK_INT(status_answer(200, "{\"data\":[]}", &up, why), -1);
    CHECK_INT(status_answer(200, "{\"data\":{\"id\":\"" TELNYX_ID "\"}}",
                            &up, why), -1);
    CHECK_INT(status_answer(200, "{\"data\":{\"id\":\"" TELNYX_ID "\","
                                 "\"to\":{\"status\":\"delivered\"}}}",
                            &up, why), -1);
    CHECK_INT(status_answer(200, RECORD("another-id", "delivered", ""), &up,
                            why), -1);
    CHECK(strstr(why, "another message") != NULL);
    CHECK_INT(status_answer(200, RECORD(TELNYX_ID, "webhook_delivered", ""),
                            &up, why), -1);
    CHECK_STR(up.provider_id, "");

    /* errors that are no codes are no error: the status stands */
    CHECK_INT(status_answer(200, RECORD(TELNYX_ID, "delivered",
                                        "7, null, {\"code\":[1]}"), &up,
                            why), 0);
    CHECK_STR(up.error_code, "");
}


static inbox_send_result_t
answer(long status, const char *body)
{
    inbox_send_result_t  res;

    memset(&res, 0x5a, sizeof(res));
    inbox_carrier_send_result(INBOX_CARRIER_TELNYX, status, body,
                              body ? strlen(body) : 0, &res);
    return res;
}


TEST(send_answers)
{
    inbox_send_result_t  res;

    res = answer(200, "{\"data\":{\"record_type\":\"message\",\"direction\":"
                      "\"outbound\",\"id\":"
                      "\"40385f64-5717-4562-b3fc-2c963f66afa6\",\"to\":[{"
                      "\"phone_number\":\"+15552223333\",\"status\":"
                      "\"queued\"}],\"parts\":1}}");
    CHECK_STR(inbox_send_outcome_name(res.outcome), "accepted");
    CHECK_STR(res.provider_id, "40385f64-5717-4562-b3fc-2c963f66afa6");
    CHECK_INT(res.status, INBOX_DELIVERY_QUEUED);

    res = answer(400, "{\"errors\":[{\"code\":\"40300\",\"title\":\"Blocked "
                      "due to STOP message\",\"detail\":\"Messages cannot be "
                      "sent from this number to the destination because "
                      "the recipient replied with STOP.\"}]}");
    CHECK_STR(inbox_send_outcome_name(res.outcome), "opted_out");
    CHECK_STR(res.error_code, "40300");
    CHECK(strstr(res.message, "replied with STOP") != NULL);

    res = answer(429, "{\"errors\":[{\"code\":\"10011\",\"title\":\"Too many "
                      "requests\"}]}");
    CHECK_INT(res.outcome, INBOX_SEND_RETRY);
    CHECK_STR(res.error_code, "10011");
    CHECK_INT(res.slow_down, 1);

    /* Telnyx's own 503: not taken, try again with backoff */
    res = answer(503, "{\"errors\":[{\"code\":\"10000\",\"title\":"
                      "\"Service unavailable\"}]}");
    CHECK_INT(res.outcome, INBOX_SEND_RETRY);
    CHECK_STR(res.error_code, "10000");

    /* 10007, unexpected error, with a 500: Telnyx does not say it came
     * before the message was queued, so it may have been sent, as
     * Twilio's 20500, and is never sent again */
    res = answer(500, "{\"errors\":[{\"code\":\"10007\",\"title\":"
                      "\"Unexpected error\"}]}");
    CHECK_INT(res.outcome, INBOX_SEND_UNKNOWN);
    CHECK_STR(res.error_code, "10007");
    CHECK(strstr(res.message, "may have been sent") != NULL);

    /* a gateway's 502 or 504, a 503 page that is not Telnyx's, any 5xx
     * but 503 with an error that does not say it was not taken:
     * it may have been sent, so it is never sent again */
    res = answer(502, "Bad Gateway");
    CHECK_STR(inbox_send_outcome_name(res.outcome), "unknown");
    CHECK(strstr(res.message, "may have been sent") != NULL);
    res = answer(504, "<html>504 Gateway Time-out</html>");
    CHECK_INT(res.outcome, INBOX_SEND_UNKNOWN);
    CHECK(strstr(res.message, "504") != NULL);
    res = answer(504, "{\"errors\":[{\"code\":\"10008\",\"title\":"
                      "\"Request timeout\"}]}");
    CHECK_INT(res.outcome, INBOX_SEND_UNKNOWN);
    res = answer(500, "{\"errors\":[{\"code\":\"10008\",\"title\":"
                      "\"Request timeout\"}]}");
    CHECK_INT(res.outcome, INBOX_SEND_UNKNOWN);
    CHECK(strstr(res.message, "10008") != NULL);
    res = answer(502, "{\"errors\":[{\"code\":\"10007\",\"title\":"
                      "\"Unexpected error\"}]}");
    CHECK_INT(res.outcome, INBOX_SEND_UNKNOWN);
    res = answer(503, "<html>Service Unavailable</html>");
    CHECK_INT(res.outcome, INBOX_SEND_UNKNOWN);
    res = answer(503, "{\"errors\":[]}");
    CHECK_INT(res.outcome, INBOX_SEND_UNKNOWN);

    res = answer(422, "{\"errors\":[{\"code\":40310,\"title\":\"Invalid "
                      "'to' address\"}]}");
    CHECK_INT(res.outcome, INBOX_SEND_REFUSED);
    CHECK_STR(res.error_code, "40310");
    CHECK(strstr(res.message, "Invalid 'to' address") != NULL);

    res = answer(401, "{\"errors\":[]}");
    CHECK_INT(res.outcome, INBOX_SEND_REFUSED);
    CHECK_STR(res.error_code, "");
    CHECK_INT(res.account, 0);

    /* the number's account or API key, not the recipient */
    res = answer(401, "{\"errors\":[{\"code\":\"10009\",\"title\":"
                      "\"Authentication failed\",\"detail\":\"The required "
                      "authentication headers were either invalid or not "
                      "included in the request.\",\"meta\":{\"url\":"
                      "\"https://developers.telnyx.com/docs/overview/errors/"
                      "10009\"}}]}");
    CHECK_INT(res.outcome, INBOX_SEND_REFUSED);
    CHECK_INT(res.account, 1);
    CHECK_STR(res.error_code, "10009");
    CHECK(strstr(res.message, "authentication headers") != NULL);
    res = answer(403, "{\"errors\":[{\"code\":\"10010\",\"title\":"
                      "\"Authorization failed\",\"detail\":\"You do not "
                      "have permission to perform the requested action on "
                      "the specified resource or resources.\"}]}");
    CHECK_INT(res.account, 1);
    /* the from number not in the sending messaging profile */
    res = answer(400, "{\"errors\":[{\"code\":\"40305\",\"title\":"
                      "\"Invalid 'from' address\",\"detail\":\"The 'from' "
                      "address should be string containing a valid number "
                      "associated with the sending messaging profile.\","
                      "\"source\":{\"pointer\":\"/from\"}}]}");
    CHECK_INT(res.outcome, INBOX_SEND_REFUSED);
    CHECK_INT(res.account, 1);
    CHECK_STR(res.error_code, "40305");
    CHECK(strstr(res.message, "messaging profile") != NULL);
    res = answer(422, "{\"errors\":[{\"code\":40310,\"title\":\"Invalid "
                      "'to' address\"}]}");
    CHECK_INT(res.account, 0);

    /* taken, but failed already: a refusal with the message's error */
    res = answer(200, "{\"data\":{\"id\":\"40385f64-5717-4562-b3fc-"
                      "2c963f66afa6\",\"to\":[{\"phone_number\":"
                      "\"+15552223333\",\"status\":\"sending_failed\"}],"
                      "\"errors\":[{\"code\":\"40008\",\"title\":"
                      "\"Undeliverable\"}]}}");
    CHECK_STR(inbox_send_outcome_name(res.outcome), "refused");
    CHECK_STR(res.error_code, "40008");
    CHECK(strstr(res.message, "Undeliverable") != NULL);

    res = answer(200, "{\"data\":{\"id\":\"40385f64-5717-4562-b3fc-"
                      "2c963f66afa6\",\"to\":[{\"status\":"
                      "\"delivered\"}],\"errors\":[]}}");
    CHECK_INT(res.outcome, INBOX_SEND_ACCEPTED);
    CHECK_INT(res.status, INBOX_DELIVERY_SENT);

    /* 2xx answers we cannot read: maybe sent, never retried */
    res = answer(200, "{\"data\":{}}");
    CHECK_INT(res.outcome, INBOX_SEND_UNKNOWN);
    res = answer(200, "{\"data\":{\"id\":\"has space\"}}");
    CHECK_INT(res.outcome, INBOX_SEND_UNKNOWN);
    res = answer(200, "<xml/>");
    CHECK_INT(res.outcome, INBOX_SEND_UNKNOWN);
    res = answer(0, NULL);
    CHECK_INT(res.outcome, INBOX_SEND_UNKNOWN);
}


RUN_TESTS()
