/*
 * Twilio: the documented signature example, forgeries, and the inbound
 * message form: only what Twilio sends, so that a signed form re-cut into
 * other fields is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inbox/form.h>
#include <inbox/inbound.h>
#include <inbox/twilio.h>
#include "check.h"


#define EXAMPLE_URL    "https://mycompany.com/myapp.php?foo=1&bar=2"
#define EXAMPLE_TOKEN  "12345"
#define EXAMPLE_SIG    "0/KCTR6DLpKmkAf8muzZqo1nDgQ="

/* Deliberately not in sorted order: the signature must sort them. */
#define EXAMPLE_BODY                                                        \
    "To=%2B18005551212&Digits=1234&CallSid=CA1234567890ABCDE"               \
    "&From=%2B12349013030&Caller=%2B12349013030"


static void
parse(const char *body, inbox_form_t *form)
{
    inbox_error_t  err;

    if (inbox_form_parse(body, strlen(body), form, &err) != INBOX_OK) {
        fprintf(stderr, "    form did not parse: %s\n", err.message);
        abort();
    }
}


TEST(signature_matches_twilio_worked_example)
{
    inbox_form_t  form;
    char          sig[INBOX_TWILIO_SIGNATURE_MAX];

    parse(EXAMPLE_BODY, &form);
    inbox_twilio_signature(EXAMPLE_URL, &form, EXAMPLE_TOKEN, sig);
    CHECK_STR(sig, EXAMPLE_SIG);
    CHECK(inbox_twilio_signature_valid(EXAMPLE_URL, &form, EXAMPLE_TOKEN,
                                       EXAMPLE_SIG));
    inbox_form_free(&form);
}


TEST(signature_rejects_changed_parameter)
{
    inbox_form_t  form;

    parse("To=%2B18005551212&Digits=1235&CallSid=CA1234567890ABCDE"
          "&From=%2B12349013030&Caller=%2B12349013030", &form);
    CHECK(!inbox_twilio_signature_valid(EXAMPLE_URL, &form, EXAMPLE_TOKEN,
                                        EXAMPLE_SIG));
    inbox_form_free(&form);

    /* an added parameter is a change too */
    parse(EXAMPLE_BODY "&Body=hi", &form);
    CHECK(!inbox_twilio_signature_valid(EXAMPLE_URL, &form, EXAMPLE_TOKEN,
                                        EXAMPLE_SIG));
    inbox_form_free(&form);
}


TEST(signature_rejects_changed_url)
{
    inbox_form_t  form;

    parse(EXAMPLE_BODY, &form);
    CHECK(!inbox_twilio_signature_valid(
              "https://mycompany.com/myapp.php?foo=1&bar=3", &form,
              EXAMPLE_TOKEN, EXAMPLE_SIG));
    CHECK(!inbox_twilio_signature_valid(
              "http://mycompany.com/myapp.php?foo=1&bar=2", &form,
              EXAMPLE_TOKEN, EXAMPLE_SIG));
    inbox_form_free(&form);
}


/* Twilio signs an https URL without its port, and has signed some with
 * :443 added: the URL as called, without its port, or with the default
 * one all count; another port, host or path does not. */
TEST(signature_holds_with_or_without_the_port)
{
    inbox_form_t  form;
    char          sig[INBOX_TWILIO_SIGNATURE_MAX];

    parse(EXAMPLE_BODY, &form);

    inbox_twilio_signature("https://inbox.example.com/webhooks/twilio/inbound",
                           &form, EXAMPLE_TOKEN, sig);
    CHECK(inbox_twilio_signature_valid(
              "https://inbox.example.com:8443/webhooks/twilio/inbound",
              &form, EXAMPLE_TOKEN, sig));
    CHECK(inbox_twilio_signature_valid(
              "https://inbox.example.com/webhooks/twilio/inbound",
              &form, EXAMPLE_TOKEN, sig));
    CHECK(!inbox_twilio_signature_valid(
              "https://inbox.example.org:8443/webhooks/twilio/inbound",
              &form, EXAMPLE_TOKEN, sig));
    CHECK(!inbox_twilio_signature_valid(
              "https://inbox.example.com:8443/webhooks/twilio/status",
              &form, EXAMPLE_TOKEN, sig));

    inbox_twilio_signature("https://inbox.example.com:443/w?a=1:2", &form,
                           EXAMPLE_TOKEN, sig);
    CHECK(inbox_twilio_signature_valid("https://inbox.example.com/w?a=1:2",
                                       &form, EXAMPLE_TOKEN, sig));
    CHECK(!inbox_twilio_signature_valid("https://inbox.example.com:8443/w"
                                        "?a=1:2", &form, EXAMPLE_TOKEN, sig));

    inbox_twilio_signature("http://[::1]/w", &form, EXAMPLE_TOKEN, sig);
    CHECK(inbox_twilio_signature_valid("http://[::1]:8080/w", &form,
                                       EXAMPLE_TOKEN, sig));
    inbox_twilio_signature("http://u:p@host/w", &form, EXAMPLE_TOKEN, sig);
    CHECK(inbox_twilio_signature_valid("http://u:p@host:80/w", &form,
                                       EXAMPLE_TOKEN, sig));
    CHECK(!inbox_twilio_signature_valid("http://u:q@host/w", &form,
                                        EXAMPLE_TOKEN, sig));

    inbox_form_free(&form);
}


/* Twilio does not say whether it signs the inbound URL with the
 * connection overrides README recommends (it never sends them): a
 * signature with them counts too, with the URL's port or without; with
 * any other fragment, it does not. */
TEST(signature_holds_with_or_without_the_retry_fragment)
{
    inbox_form_t  form;
    char          sig[INBOX_TWILIO_SIGNATURE_MAX];

    parse(EXAMPLE_BODY, &form);

    inbox_twilio_signature("https://inbox.example.com/webhooks/twilio/inbound"
                           "#rp=5xx,ct&rc=3", &form, EXAMPLE_TOKEN, sig);
    CHECK(inbox_twilio_signature_valid(
              "https://inbox.example.com/webhooks/twilio/inbound",
              &form, EXAMPLE_TOKEN, sig));
    CHECK(inbox_twilio_signature_valid(
              "https://inbox.example.com:8443/webhooks/twilio/inbound",
              &form, EXAMPLE_TOKEN, sig));
    CHECK(!inbox_twilio_signature_valid(
              "https://inbox.example.com/webhooks/twilio/status",
              &form, EXAMPLE_TOKEN, sig));

    inbox_twilio_signature("https://inbox.example.com/webhooks/twilio/inbound"
                           "#rc=5", &form, EXAMPLE_TOKEN, sig);
    CHECK(!inbox_twilio_signature_valid(
              "https://inbox.example.com/webhooks/twilio/inbound",
              &form, EXAMPLE_TOKEN, sig));

    inbox_form_free(&form);
}


TEST(signature_rejects_wrong_token)
{
    inbox_form_t  form;

    parse(EXAMPLE_BODY, &form);
    CHECK(!inbox_twilio_signature_valid(EXAMPLE_URL, &form, "12346",
                                        EXAMPLE_SIG));
    CHECK(!inbox_twilio_signature_valid(EXAMPLE_URL, &form, "",
                                        EXAMPLE_SIG));
    CHECK(!inbox_twilio_signature_valid(EXAMPLE_URL, &form, NULL,
                                        EXAMPLE_SIG));
    inbox_form_free(&form);
}


TEST(signature_rejects_truncated_empty_or_missing_signature)
{
    inbox_form_t  form;

    parse(EXAMPLE_BODY, &form);
    CHECK(!inbox_twilio_signature_valid(EXAMPLE_URL, &form, EXAMPLE_TOKEN,
                                        "0/KCTR6DLpKmkAf8muzZqo1nDgQ"));
    CHECK(!inbox_twilio_signature_valid(EXAMPLE_URL, &form, EXAMPLE_TOKEN,
                                        "0/KCTR6DLp"));
    CHECK(!inbox_twilio_signature_valid(EXAMPLE_URL, &form, EXAMPLE_TOKEN,
                                        ""));
    CHECK(!inbox_twilio_signature_valid(EXAMPLE_URL, &form, EXAMPLE_TOKEN,
                                        NULL));
    CHECK(!inbox_twilio_signature_valid(EXAMPLE_URL, &form, EXAMPLE_TOKEN,
                                        EXAMPLE_SIG "x"));
    inbox_form_free(&form);
}


TEST(signature_sorts_repeated_names_by_value)
{
    inbox_form_t  a, b;
    char          sa[INBOX_TWILIO_SIGNATURE_MAX];
    char          sb[INBOX_TWILIO_SIGNATURE_MAX];

    parse("MediaUrl=b&MediaUrl=a&To=1", &a);
    parse("To=1&MediaUrl=a&MediaUrl=b", &b);
    inbox_twilio_signature("https://x.test/", &a, "t", sa);
    inbox_twilio_signature("https://x.test/", &b, "t", sb);
    CHECK_STR(sa, sb);
    CHECK_INT(strlen(sa), 28);
    inbox_form_free(&a);
    inbox_form_free(&b);
}


TEST(signature_covers_every_byte_of_each_value)
{
    char                sa[INBOX_TWILIO_SIGNATURE_MAX];
    char                sb[INBOX_TWILIO_SIGNATURE_MAX];
    char                name[] = "Body", cut[] = "hi", whole[] = "hi\0TAIL";
    inbox_form_t        a, b;
    inbox_form_field_t  fa, fb;

    /* built by hand: the parser itself refuses %00 (see test_form) */
    fa.name = name;
    fa.name_len = 4;
    fa.value = cut;
    fa.value_len = 2;
    fb = fa;
    fb.value = whole;
    fb.value_len = 7;

    a.fields = &fa;
    a.count = 1;
    a.storage = NULL;
    b.fields = &fb;
    b.count = 1;
    b.storage = NULL;

    inbox_twilio_signature("https://x.test/", &a, "t", sa);
    inbox_twilio_signature("https://x.test/", &b, "t", sb);
    CHECK_INT(strlen(sa), 28);
    CHECK(strcmp(sa, sb) != 0);
    CHECK(!inbox_twilio_signature_valid("https://x.test/", &b, "t", sa));
}


TEST(sid_is_prefix_and_32_hex_digits)
{
    CHECK(inbox_twilio_sid_valid("SM0123456789abcdef0123456789ABCDEF", "SM"));
    CHECK(inbox_twilio_sid_valid("AC00000000000000000000000000000000", "AC"));
    CHECK(!inbox_twilio_sid_valid("AC00000000000000000000000000000000", "SM"));
    CHECK(!inbox_twilio_sid_valid("SM0123456789abcdef0123456789abcde", "SM"));
    CHECK(!inbox_twilio_sid_valid("SM0123456789abcdef0123456789abcdef0",
                                  "SM"));
    CHECK(!inbox_twilio_sid_valid("SM0123456789abcdef0123456789abcdeg",
                                  "SM"));
    CHECK(!inbox_twilio_sid_valid("sm0123456789abcdef0123456789abcdef", "SM"));
    CHECK(!inbox_twilio_sid_valid(NULL, "SM"));
    CHECK(!inbox_twilio_sid_valid("", "SM"));
}


/* A form as Twilio sends it, and the number it was sent to. */

#define SID      "SM0123456789abcdef0123456789abcdef"
#define ACCOUNT  "AC00112233445566778899aabbccddeeff"
#define TOKEN    "secret-token"
#define URL      "https://inbox.test/webhooks/twilio/inbound"

#define INBOUND                                                             \
    "ToCountry=US&SmsMessageSid=" SID "&NumMedia=0&SmsSid=" SID             \
    "&SmsStatus=received&Body=hi&To=%2B15557654321&NumSegments=1"          \
    "&MessageSid=" SID "&AccountSid=" ACCOUNT "&From=%2B15551234567"        \
    "&ApiVersion=2010-04-01"


static inbox_number_t
number_of(const char *account_sid)
{
    inbox_number_t  n;

    memset(&n, 0, sizeof(inbox_number_t));
    strcpy(n.e164, "+15557654321");
    n.carrier = INBOX_CARRIER_TWILIO;
    n.account_sid = (char *) account_sid;
    n.auth_token = TOKEN;

    return n;
}


/* Checks body signed with sig (NULL: signed as it is) against number. */
static inbox_status_t
check_form(const char *body, const char *sig, const inbox_number_t *number,
    inbox_inbound_t *msg, inbox_error_t *err)
{
    char            own[INBOX_TWILIO_SIGNATURE_MAX];
    inbox_form_t    form;
    inbox_status_t  rc;

    parse(body, &form);
    if (sig == NULL) {
        inbox_twilio_signature(URL, &form, TOKEN, own);
        sig = own;
    }

    memset(err, 0, sizeof(*err));
    rc = inbox_twilio_inbound_check(&form, URL, sig, number, "US", msg, err);
    if (rc == INBOX_OK) {
        inbox_inbound_free(msg);
    }
    inbox_form_free(&form);

    return rc;
}


/* Expects body, signed, to be refused with code naming field. */
static void
check_refused(const char *body, inbox_status_t code, const char *field)
{
    inbox_error_t    err;
    inbox_inbound_t  msg;
    inbox_number_t   number = number_of(ACCOUNT);

    CHECK_INT(check_form(body, NULL, &number, &msg, &err), code);
    CHECK_STR(err.field, field);
    if (strcmp(err.field, field) != 0) {
        fprintf(stderr, "    (%s: %s)\n", body, err.message);
    }
}


TEST(check_accepts_what_twilio_sends)
{
    inbox_form_t     form;
    inbox_error_t    err;
    inbox_inbound_t  msg;
    inbox_number_t   number = number_of(ACCOUNT);
    char             sig[INBOX_TWILIO_SIGNATURE_MAX];

    parse(INBOUND, &form);
    inbox_twilio_signature(URL, &form, TOKEN, sig);
    CHECK_INT(inbox_twilio_inbound_check(&form, URL, sig, &number, "US",
                                         &msg, &err), INBOX_OK);
    CHECK_STR(msg.provider_id, SID);
    CHECK_STR(msg.body, "hi");
    CHECK(msg.owned == NULL);
    inbox_inbound_free(&msg);
    inbox_form_free(&form);

    /* the account's case does not matter; an MMS SID is MM */
    number.account_sid = "AC00112233445566778899AABBCCDDEEFF";
    parse("MessageSid=MM0123456789abcdef0123456789abcdef&AccountSid=" ACCOUNT
          "&From=%2B15551234567&To=%2B15557654321", &form);
    inbox_twilio_signature(URL, &form, TOKEN, sig);
    CHECK_INT(inbox_twilio_inbound_check(&form, URL, sig, &number, "US",
                                         &msg, &err), INBOX_OK);
    inbox_inbound_free(&msg);
    inbox_form_free(&form);
}


TEST(check_refuses_a_signed_form_recut_into_other_fields)
{
    char             a[INBOX_TWILIO_SIGNATURE_MAX];
    char             b[INBOX_TWILIO_SIGNATURE_MAX];
    inbox_form_t     form;
    inbox_error_t    err;
    inbox_inbound_t  msg;
    inbox_number_t   number = number_of(ACCOUNT);
    const char      *recut = "MessageSid=" SID "NumMedia0"
                             "&AccountSid=" ACCOUNT "&From=%2B15551234567"
                             "&To=%2B15557654321&Body=hi";

    /* the audit's case: NumMedia's name moved into MessageSid's value */
    parse("MessageSid=" SID "&NumMedia=0&AccountSid=" ACCOUNT
          "&From=%2B15551234567&To=%2B15557654321&Body=hi", &form);
    inbox_twilio_signature(URL, &form, TOKEN, a);
    inbox_form_free(&form);
    parse(recut, &form);
    inbox_twilio_signature(URL, &form, TOKEN, b);
    inbox_form_free(&form);
    CHECK_STR(a, b);

    CHECK_INT(check_form(recut, a, &number, &msg, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "MessageSid");
}


TEST(check_answers_an_unknown_number_as_a_forgery)
{
    inbox_error_t    unknown, forged;
    inbox_inbound_t  msg;
    inbox_number_t   number = number_of(ACCOUNT);

    CHECK_INT(check_form(INBOUND, NULL, NULL, &msg, &unknown),
              INBOX_ERR_FORBIDDEN);
    CHECK_INT(check_form(INBOUND, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", &number,
                         &msg, &forged), INBOX_ERR_FORBIDDEN);
    CHECK_STR(unknown.message, forged.message);
    CHECK_STR(unknown.field, "");
    CHECK_STR(forged.field, "");

    /* a number of another carrier has no Twilio auth token */
    number.carrier = INBOX_CARRIER_TELNYX;
    CHECK_INT(check_form(INBOUND, NULL, &number, &msg, &forged),
              INBOX_ERR_FORBIDDEN);
    CHECK_STR(unknown.message, forged.message);
}


TEST(check_refuses_another_account)
{
    inbox_error_t    err;
    inbox_inbound_t  msg;
    inbox_number_t   other = number_of("AC99999999999999999999999999999999");
    inbox_number_t   none = number_of(NULL);

    CHECK_INT(check_form(INBOUND, NULL, &other, &msg, &err),
              INBOX_ERR_FORBIDDEN);
    CHECK_STR(err.field, "AccountSid");
    CHECK_INT(check_form(INBOUND, NULL, &none, &msg, &err),
              INBOX_ERR_FORBIDDEN);
    CHECK_STR(err.field, "AccountSid");
}


TEST(check_refuses_sids_twilio_would_not_send)
{
    check_refused("MessageSid=SM123&AccountSid=" ACCOUNT
                  "&From=%2B15551234567&To=%2B15557654321",
                  INBOX_ERR_INVALID, "MessageSid");
    check_refused("MessageSid=XX0123456789abcdef0123456789abcdef"
                  "&AccountSid=" ACCOUNT
                  "&From=%2B15551234567&To=%2B15557654321",
                  INBOX_ERR_INVALID, "MessageSid");
    check_refused(INBOUND "&SmsSid=SM0123456789abcdef0123456789abcdee",
                  INBOX_ERR_INVALID, "SmsSid");
    check_refused("SmsSid=SMffffffffffffffffffffffffffffffff&MessageSid=" SID
                  "&AccountSid=" ACCOUNT
                  "&From=%2B15551234567&To=%2B15557654321",
                  INBOX_ERR_INVALID, "SmsSid");
    check_refused("SmsMessageSid=SMffffffffffffffffffffffffffffffff"
                  "&MessageSid=" SID "&AccountSid=" ACCOUNT
                  "&From=%2B15551234567&To=%2B15557654321",
                  INBOX_ERR_INVALID, "SmsMessageSid");
    check_refused("MessageSid=" SID "&From=%2B15551234567"
                  "&To=%2B15557654321",
                  INBOX_ERR_INVALID, "AccountSid");
    check_refused("MessageSid=" SID "&AccountSid=AC1"
                  "&From=%2B15551234567&To=%2B15557654321",
                  INBOX_ERR_INVALID, "AccountSid");
}


TEST(check_refuses_a_field_twilio_sends_once_given_twice)
{
    check_refused(INBOUND "&MessageSid=" SID, INBOX_ERR_INVALID,
                  "MessageSid");
    check_refused(INBOUND "&From=%2B15551234568", INBOX_ERR_INVALID, "From");
    check_refused(INBOUND "&Body=again", INBOX_ERR_INVALID, "Body");
    check_refused(INBOUND "&NumMedia=0", INBOX_ERR_INVALID, "NumMedia");
}


TEST(check_refuses_media_fields_that_do_not_fit_num_media)
{
    const char  *base = "MessageSid=" SID "&AccountSid=" ACCOUNT
                        "&From=%2B15551234567&To=%2B15557654321";
    char         body[1024];

    snprintf(body, sizeof(body), "%s&MediaUrl0=https://m.test/0"
             "&MediaContentType0=image/png", base);
    check_refused(body, INBOX_ERR_INVALID, "NumMedia");

    snprintf(body, sizeof(body), "%s&NumMedia=2&MediaUrl0=https://m.test/0"
             "&MediaContentType0=image/png&MediaContentType1=image/png",
             base);
    check_refused(body, INBOX_ERR_INVALID, "MediaUrl1");

    snprintf(body, sizeof(body), "%s&NumMedia=1&MediaUrl0=https://m.test/0",
             base);
    check_refused(body, INBOX_ERR_INVALID, "MediaContentType0");

    snprintf(body, sizeof(body), "%s&NumMedia=1&MediaUrl0=https://m.test/0"
             "&MediaContentType0=image/png&MediaUrl1=https://m.test/1",
             base);
    check_refused(body, INBOX_ERR_INVALID, "MediaUrl1");

    snprintf(body, sizeof(body), "%s&NumMedia=0&MediaUrl=https://m.test/0",
             base);
    check_refused(body, INBOX_ERR_INVALID, "MediaUrl");

    snprintf(body, sizeof(body), "%s&NumMedia=11", base);
    check_refused(body, INBOX_ERR_INVALID, "NumMedia");

    /* a field NumMedia calls for, left empty */
    snprintf(body, sizeof(body), "%s&NumMedia=1&MediaUrl0="
             "&MediaContentType0=image/png", base);
    check_refused(body, INBOX_ERR_INVALID, "MediaUrl0");
}


/* The inbound message read from the form body (unsigned: parse only). */
static inbox_status_t
inbound_of(const char *body, inbox_form_t *form, inbox_inbound_t *msg)
{
    inbox_error_t  err;

    parse(body, form);

    return inbox_twilio_inbound_parse(form, "US", msg, &err);
}


TEST(inbound_keeps_media_it_cannot_fetch_failed)
{
    char             url[2100];
    char             body[4096];
    inbox_form_t     form;
    inbox_inbound_t  msg;
    const char      *base = "MessageSid=" SID "&AccountSid=" ACCOUNT
                            "&From=%2B15551234567&To=%2B15557654321"
                            "&Body=look";

    /* 1500 characters: fetched as any other; 2048: failed, as a URL that
     * is not http and one with a line break; the text and the good item
     * kept */
    memset(url, 'u', sizeof(url));
    snprintf(body, sizeof(body), "%s&NumMedia=5"
             "&MediaUrl0=https://m.test/%.*s&MediaContentType0=image/png"
             "&MediaUrl1=https://m.test/%.*s&MediaContentType1=image/png"
             "&MediaUrl2=javascript:alert(1)&MediaContentType2=image/png"
             "&MediaUrl3=https://m.test/%%0A&MediaContentType3=image/png"
             "&MediaUrl4=https://m.test/ok&MediaContentType4=image/gif",
             base, 1500 - 15, url, 2048 - 15, url);
    CHECK_INT(inbound_of(body, &form, &msg), INBOX_OK);
    CHECK_STR(msg.body, "look");
    CHECK_INT(msg.media_count, 5);
    CHECK_INT(strlen(msg.media[0].url), 1500);
    CHECK_INT(msg.media[0].state, INBOX_MEDIA_PENDING);
    CHECK_INT(msg.media[1].state, INBOX_MEDIA_FAILED);
    CHECK_STR(msg.media[1].url, "");
    CHECK_STR(msg.media[1].content_type, "image/png");
    CHECK_INT(msg.media[2].state, INBOX_MEDIA_FAILED);
    CHECK_STR(msg.media[2].url, "");
    CHECK_INT(msg.media[3].state, INBOX_MEDIA_FAILED);
    CHECK_INT(msg.media[4].state, INBOX_MEDIA_PENDING);
    CHECK_STR(msg.media[4].url, "https://m.test/ok");
    CHECK_STR(msg.media[4].content_type, "image/gif");
    inbox_inbound_free(&msg);
    inbox_form_free(&form);

    /* a type not ASCII or not printable: unknown, the copy reads it from
     * the bytes */
    snprintf(body, sizeof(body), "%s&NumMedia=2"
             "&MediaUrl0=https://m.test/0&MediaContentType0=image/%%C3%%A9"
             "&MediaUrl1=https://m.test/1&MediaContentType1=image/%%01",
             base);
    CHECK_INT(inbound_of(body, &form, &msg), INBOX_OK);
    CHECK_INT(msg.media_count, 2);
    CHECK_INT(msg.media[0].state, INBOX_MEDIA_PENDING);
    CHECK_STR(msg.media[0].url, "https://m.test/0");
    CHECK_STR(msg.media[0].content_type, "");
    CHECK_INT(msg.media[1].state, INBOX_MEDIA_PENDING);
    CHECK_STR(msg.media[1].content_type, "");
    inbox_inbound_free(&msg);
    inbox_form_free(&form);
}


TEST(inbound_keeps_a_long_body_cut_after_5000_characters)
{
    char             *body, *p;
    size_t            i;
    inbox_form_t      form;
    inbox_inbound_t   msg;
    static const char  head[] = "MessageSid=" SID "&AccountSid=" ACCOUNT
                                "&From=%2B15551234567&To=%2B15557654321"
                                "&Body=";

    /* 2000 two-byte characters: over Twilio's own 1600, kept whole */
    body = malloc(sizeof(head) + 5002 * 6);
    p = body + sizeof(head) - 1;
    memcpy(body, head, sizeof(head) - 1);
    for (i = 0; i < 2000; i++) {
        memcpy(p, "%C3%A9", 6);
        p += 6;
    }
    *p = '\0';

    CHECK_INT(inbound_of(body, &form, &msg), INBOX_OK);
    CHECK_INT(strlen(msg.body), 4000);
    inbox_inbound_free(&msg);
    inbox_form_free(&form);

    /* 5002: the first 5000 and a note of the 2 more */
    for (; i < 5002; i++) {
        memcpy(p, "%C3%A9", 6);
        p += 6;
    }
    *p = '\0';

    CHECK_INT(inbound_of(body, &form, &msg), INBOX_OK);
    CHECK_INT(strlen(msg.body), 10000 + 29);
    if (strlen(msg.body) > 10000) {
        CHECK_STR(msg.body + 9998, "\xc3\xa9\n[2 more characters not kept]");
    }
    inbox_inbound_free(&msg);
    inbox_form_free(&form);

    free(body);
}


TEST(check_repairs_invalid_utf8_in_the_body)
{
    char             sig[INBOX_TWILIO_SIGNATURE_MAX];
    inbox_form_t     form;
    inbox_error_t    err;
    inbox_inbound_t  msg;
    inbox_number_t   number = number_of(ACCOUNT);

    parse("MessageSid=" SID "&AccountSid=" ACCOUNT "&From=%2B15551234567"
          "&To=%2B15557654321&Body=a%ED%A0%80b%C0%AFc%F5", &form);
    /* signed over the bytes as sent */
    inbox_twilio_signature(URL, &form, TOKEN, sig);
    CHECK_INT(inbox_twilio_inbound_check(&form, URL, sig, &number, "US",
                                         &msg, &err), INBOX_OK);
    CHECK_STR(msg.body, "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
                        "b\xEF\xBF\xBD\xEF\xBF\xBD" "c\xEF\xBF\xBD");
    CHECK(msg.owned == msg.body);
    inbox_inbound_free(&msg);
    CHECK(msg.owned == NULL);
    inbox_form_free(&form);
}


TEST(inbound_reads_message_with_all_media)
{
    inbox_form_t     form;
    inbox_error_t    err;
    inbox_inbound_t  msg;

    parse("ToCountry=US&MessageSid=" SID "&SmsSid=" SID
          "&AccountSid=" ACCOUNT
          "&From=%2B15551234567&To=%2B15557654321&Body=Hello+there%21"
          "&NumSegments=2&NumMedia=3"
          "&MediaUrl0=https%3A%2F%2Fapi.twilio.com%2Fm0"
          "&MediaContentType0=image%2Fjpeg"
          "&MediaUrl1=https%3A%2F%2Fapi.twilio.com%2Fm1"
          "&MediaContentType1=image%2Fpng"
          "&MediaUrl2=https%3A%2F%2Fapi.twilio.com%2Fm2"
          "&MediaContentType2=image%2Fgif&FutureField=whatever", &form);

    CHECK_INT(inbox_twilio_inbound_parse(&form, "US", &msg, &err), INBOX_OK);
    CHECK_INT(msg.carrier, INBOX_CARRIER_TWILIO);
    CHECK_STR(msg.provider_id, SID);
    CHECK_STR(msg.from, "+15551234567");
    CHECK_STR(msg.to, "+15557654321");
    CHECK_STR(msg.body, "Hello there!");
    CHECK_INT(msg.segments, 2);
    CHECK_INT(msg.media_count, 3);
    CHECK_STR(msg.media[0].url, "https://api.twilio.com/m0");
    CHECK_STR(msg.media[0].content_type, "image/jpeg");
    CHECK_STR(msg.media[2].url, "https://api.twilio.com/m2");
    CHECK_STR(msg.media[2].content_type, "image/gif");
    CHECK(msg.received_at > 1700000000000LL);

    inbox_inbound_free(&msg);
    inbox_form_free(&form);
}


TEST(inbound_leaves_out_the_layout_of_an_mms)
{
    inbox_form_t     form;
    inbox_error_t    err;
    inbox_inbound_t  msg;

    /* SMIL says how the parts are laid out: nothing a person reads */
    parse("MessageSid=" SID "&AccountSid=" ACCOUNT
          "&From=%2B15551234567&To=%2B15557654321&NumMedia=3"
          "&MediaUrl0=https%3A%2F%2Fapi.twilio.com%2Fm0"
          "&MediaContentType0=application%2Fsmil"
          "&MediaUrl1=https%3A%2F%2Fapi.twilio.com%2Fm1"
          "&MediaContentType1=image%2Fjpeg"
          "&MediaUrl2=https%3A%2F%2Fapi.twilio.com%2Fm2"
          "&MediaContentType2=Application%2FSMIL%3B+charset%3Dutf-8",
          &form);
    CHECK_INT(inbox_twilio_inbound_parse(&form, "US", &msg, &err), INBOX_OK);
    CHECK_INT(msg.media_count, 1);
    CHECK_STR(msg.media[0].url, "https://api.twilio.com/m1");
    CHECK_STR(msg.media[0].content_type, "image/jpeg");
    inbox_inbound_free(&msg);
    inbox_form_free(&form);

    CHECK(inbox_inbound_media_is_layout("application/smil+xml", 20));
    CHECK(!inbox_inbound_media_is_layout("application/smiley", 18));
    CHECK(!inbox_inbound_media_is_layout("text/plain", 10));
    CHECK(!inbox_inbound_media_is_layout(NULL, 0));
}


TEST(inbound_defaults_missing_body_and_segments)
{
    inbox_form_t     form;
    inbox_error_t    err;
    inbox_inbound_t  msg;

    parse("MessageSid=" SID "&AccountSid=" ACCOUNT
          "&From=%2B15551234567&To=%2B15557654321", &form);
    CHECK_INT(inbox_twilio_inbound_parse(&form, "US", &msg, &err), INBOX_OK);
    CHECK_STR(msg.body, "");
    CHECK_INT(msg.segments, 1);
    CHECK_INT(msg.media_count, 0);
    inbox_inbound_free(&msg);
    inbox_form_free(&form);
}


TEST(inbound_reads_ten_media)
{
    char             body[4096];
    size_t           n;
    unsigned         i;
    inbox_form_t     form;
    inbox_error_t    err;
    inbox_inbound_t  msg;

    n = (size_t) snprintf(body, sizeof(body),
                          "MessageSid=" SID "&AccountSid=" ACCOUNT
                          "&From=%%2B15551234567"
                          "&To=%%2B15557654321&NumMedia=10");
    for (i = 0; i < 10; i++) {
        n += (size_t) snprintf(body + n, sizeof(body) - n,
                               "&MediaUrl%u=https://m.test/%u"
                               "&MediaContentType%u=image/png", i, i, i);
    }

    parse(body, &form);
    CHECK_INT(inbox_twilio_inbound_parse(&form, "US", &msg, &err), INBOX_OK);
    CHECK_INT(msg.media_count, 10);
    CHECK_STR(msg.media[9].url, "https://m.test/9");
    inbox_inbound_free(&msg);
    inbox_form_free(&form);
}


TEST(inbound_normalizes_national_numbers)
{
    inbox_form_t     form;
    inbox_error_t    err;
    inbox_inbound_t  msg;

    parse("MessageSid=" SID "&AccountSid=" ACCOUNT
          "&From=07700+900123&To=%2B447700900999", &form);
    CHECK_INT(inbox_twilio_inbound_parse(&form, "GB", &msg, &err), INBOX_OK);
    CHECK_STR(msg.from, "+447700900123");
    CHECK_STR(msg.to, "+447700900999");
    inbox_inbound_free(&msg);
    inbox_form_free(&form);
}


TEST(inbound_rejects_missing_fields_naming_them)
{
    inbox_form_t     form;
    inbox_error_t    err;
    inbox_inbound_t  msg;

    parse("AccountSid=" ACCOUNT "&From=%2B15551234567&To=%2B15557654321",
          &form);
    CHECK_INT(inbox_twilio_inbound_parse(&form, "US", &msg, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "MessageSid");
    inbox_form_free(&form);

    parse("MessageSid=" SID "&AccountSid=" ACCOUNT "&To=%2B15557654321",
          &form);
    CHECK_INT(inbox_twilio_inbound_parse(&form, "US", &msg, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "From");
    inbox_form_free(&form);

    parse("MessageSid=" SID "&AccountSid=" ACCOUNT "&From=%2B15551234567",
          &form);
    CHECK_INT(inbox_twilio_inbound_parse(&form, "US", &msg, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "To");
    inbox_form_free(&form);

    parse("MessageSid=" SID "&AccountSid=" ACCOUNT
          "&From=%2B15551234567&To=banana", &form);
    CHECK_INT(inbox_twilio_inbound_parse(&form, "US", &msg, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "To");
    inbox_form_free(&form);

    parse("MessageSid=" SID "&AccountSid=" ACCOUNT
          "&From=%2B15551234567&To=%2B15557654321&NumMedia=two", &form);
    CHECK_INT(inbox_twilio_inbound_parse(&form, "US", &msg, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "NumMedia");
    inbox_form_free(&form);
}


RUN_TESTS()
