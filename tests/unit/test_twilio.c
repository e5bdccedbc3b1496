/*
 * Twilio: the documented signature example, forgeries, and the inbound
 * message form.
 */
#include <stdlib.h>
#include <string.h>
#include <inbox/form.h>
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


TEST(inbound_reads_message_with_all_media)
{
    inbox_form_t     form;
    inbox_error_t    err;
    inbox_inbound_t  msg;

    parse("ToCountry=US&MessageSid=SM123&SmsSid=SM123"
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
    CHECK_STR(msg.provider_id, "SM123");
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

    inbox_form_free(&form);
}


TEST(inbound_defaults_missing_body_and_segments)
{
    inbox_form_t     form;
    inbox_error_t    err;
    inbox_inbound_t  msg;

    parse("MessageSid=SM1&From=%2B15551234567&To=%2B15557654321", &form);
    CHECK_INT(inbox_twilio_inbound_parse(&form, "US", &msg, &err), INBOX_OK);
    CHECK_STR(msg.body, "");
    CHECK_INT(msg.segments, 1);
    CHECK_INT(msg.media_count, 0);
    inbox_form_free(&form);
}


TEST(inbound_keeps_at_most_ten_media)
{
    char             body[4096];
    size_t           n;
    unsigned         i;
    inbox_form_t     form;
    inbox_error_t    err;
    inbox_inbound_t  msg;

    n = (size_t) snprintf(body, sizeof(body),
                          "MessageSid=SM2&From=%%2B15551234567"
                          "&To=%%2B15557654321&NumMedia=12");
    for (i = 0; i < 12; i++) {
        n += (size_t) snprintf(body + n, sizeof(body) - n,
                               "&MediaUrl%u=https://m.test/%u"
                               "&MediaContentType%u=image/png", i, i, i);
    }

    parse(body, &form);
    CHECK_INT(inbox_twilio_inbound_parse(&form, "US", &msg, &err), INBOX_OK);
    CHECK_INT(msg.media_count, 10);
    CHECK_STR(msg.media[9].url, "https://m.test/9");
    inbox_form_free(&form);
}


TEST(inbound_normalizes_national_numbers)
{
    inbox_form_t     form;
    inbox_error_t    err;
    inbox_inbound_t  msg;

    parse("MessageSid=SM3&From=07700+900123&To=%2B447700900999", &form);
    CHECK_INT(inbox_twilio_inbound_parse(&form, "GB", &msg, &err), INBOX_OK);
    CHECK_STR(msg.from, "+447700900123");
    CHECK_STR(msg.to, "+447700900999");
    inbox_form_free(&form);
}


TEST(inbound_rejects_missing_fields_naming_them)
{
    inbox_form_t     form;
    inbox_error_t    err;
    inbox_inbound_t  msg;

    parse("From=%2B15551234567&To=%2B15557654321", &form);
    CHECK_INT(inbox_twilio_inbound_parse(&form, "US", &msg, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "MessageSid");
    inbox_form_free(&form);

    parse("MessageSid=SM4&To=%2B15557654321", &form);
    CHECK_INT(inbox_twilio_inbound_parse(&form, "US", &msg, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "From");
    inbox_form_free(&form);

    parse("MessageSid=SM4&From=%2B15551234567&To=banana", &form);
    CHECK_INT(inbox_twilio_inbound_parse(&form, "US", &msg, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "To");
    inbox_form_free(&form);

    parse("MessageSid=SM4&From=%2B15551234567&To=%2B15557654321"
          "&NumMedia=two", &form);
    CHECK_INT(inbox_twilio_inbound_parse(&form, "US", &msg, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "NumMedia");
    inbox_form_free(&form);
}


RUN_TESTS()
