/*
 * Twilio's Messages API as plain data: the request a send makes (fields,
 * encoding, Basic auth, the URL), how each kind of answer is read
 * (accepted, opted out, retried, refused, unreadable), the status
 * callback, and the forward-only status rule.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inbox/carrier.h>
#include <inbox/delivery.h>
#include <inbox/encoding.h>
#include <inbox/form.h>
#include <inbox/twilio.h>
#include "check.h"


#define SID     "AC0123456789abcdef0123456789abcdef"
#define TOKEN   "secret-token"
#define MSG_SID "SM0123456789abcdef0123456789abcdef"
#define URL     "https://inbox.example/webhooks/twilio/status"


static inbox_number_t
twilio_number(void)
{
    inbox_number_t  n;

    memset(&n, 0, sizeof(n));
    strcpy(n.e164, "+15550001111");
    n.carrier = INBOX_CARRIER_TWILIO;
    n.account_sid = (char *) SID;
    n.auth_token = (char *) TOKEN;
    return n;
}


static const char *
header(const inbox_carrier_request_t *req, const char *name)
{
    size_t  i, len;

    len = strlen(name);

    for (i = 0; i < req->header_count; i++) {
        if (strncmp(req->headers[i], name, len) == 0
            && req->headers[i][len] == ':')
        {
            return req->headers[i] + len + 2;
        }
    }

    return NULL;
}


TEST(form_encode)
{
    char               *s;
    size_t              len;
    inbox_form_t        form;
    inbox_error_t       err;
    static const char  *pairs[] = {
        "To", "+15551234567", "Body", "a b&c=d/\xc3\xa9~", "Empty", ""
    };

    s = inbox_form_encode(pairs, 3, &len);
    CHECK_STR(s, "To=%2B15551234567&Body=a+b%26c%3Dd%2F%C3%A9~&Empty=");
    CHECK_INT(len, strlen(s));

    /* and it reads back as it was */
    CHECK_INT(inbox_form_parse(s, len, &form, &err), INBOX_OK);
    CHECK_INT(form.count, 3);
    CHECK_STR(inbox_form_get(&form, "To"), "+15551234567");
    CHECK_STR(inbox_form_get(&form, "Body"), "a b&c=d/\xc3\xa9~");
    inbox_form_free(&form);
    free(s);
}


TEST(send_request_sms)
{
    inbox_number_t           n;
    inbox_outbound_t         msg;
    inbox_carrier_request_t  req;
    inbox_error_t            err;
    inbox_form_t             form;
    unsigned char            decoded[128];
    long                     dlen;
    const char              *auth;

    n = twilio_number();
    memset(&msg, 0, sizeof(msg));
    msg.from = "+15550001111";
    msg.to = "+15552223333";
    msg.body = "Hi & welcome \xf0\x9f\x98\x80";
    msg.status_url = URL;

    CHECK_INT(inbox_carrier_send_request(&n, &msg, &req, &err), INBOX_OK);
    CHECK_STR(req.method, "POST");
    CHECK_STR(req.url, "https://api.twilio.com/2010-04-01/Accounts/" SID
                       "/Messages.json");
    CHECK_STR(header(&req, "Content-Type"),
              "application/x-www-form-urlencoded");
    CHECK_STR(header(&req, "Accept"), "application/json");

    auth = header(&req, "Authorization");
    CHECK(auth != NULL && strncmp(auth, "Basic ", 6) == 0);
    dlen = inbox_base64_decode(auth + 6, strlen(auth + 6), decoded,
                               sizeof(decoded) - 1);
    CHECK(dlen > 0);
    decoded[dlen > 0 ? dlen : 0] = '\0';
    CHECK_STR((char *) decoded, SID ":" TOKEN);

    CHECK_INT(req.len, strlen(req.body));
    CHECK_INT(inbox_form_parse(req.body, req.len, &form, &err), INBOX_OK);
    CHECK_INT(form.count, 4);
    CHECK_STR(inbox_form_get(&form, "To"), "+15552223333");
    CHECK_STR(inbox_form_get(&form, "From"), "+15550001111");
    CHECK_STR(inbox_form_get(&form, "Body"), msg.body);
    CHECK_STR(inbox_form_get(&form, "StatusCallback"), URL);
    CHECK(inbox_form_get(&form, "MediaUrl") == NULL);
    inbox_form_free(&form);

    inbox_carrier_request_free(&req);
    CHECK(req.url == NULL && req.body == NULL && req.header_count == 0);
}


TEST(send_request_mms_repeats_media_url)
{
    size_t                   i, media;
    inbox_number_t           n;
    inbox_outbound_t         msg;
    inbox_carrier_request_t  req;
    inbox_error_t            err;
    inbox_form_t             form;
    static const char       *urls[] = {
        "https://inbox.example/media/aaa", "https://inbox.example/media/bbb"
    };

    n = twilio_number();
    n.api_base = (char *) "http://127.0.0.1:9999/";
    memset(&msg, 0, sizeof(msg));
    msg.from = "+15550001111";
    msg.to = "+15552223333";
    msg.body = "";
    msg.media_urls = urls;
    msg.media_count = 2;

    CHECK_INT(inbox_twilio_send_request(&n, &msg, &req, &err), INBOX_OK);

    /* the stand-in's base, without doubling the slash */
    CHECK_STR(req.url, "http://127.0.0.1:9999/2010-04-01/Accounts/" SID
                       "/Messages.json");

    CHECK_INT(inbox_form_parse(req.body, req.len, &form, &err), INBOX_OK);
    /* no Body when there is no text, no StatusCallback when none given */
    CHECK(inbox_form_get(&form, "Body") == NULL);
    CHECK(inbox_form_get(&form, "StatusCallback") == NULL);

    media = 0;
    for (i = 0; i < form.count; i++) {
        if (strcmp(form.fields[i].name, "MediaUrl") == 0) {
            CHECK_STR(form.fields[i].value, urls[media]);
            media++;
        }
    }
    CHECK_INT(media, 2);

    inbox_form_free(&form);
    inbox_carrier_request_free(&req);
}


TEST(send_request_refuses_what_twilio_cannot_take)
{
    inbox_number_t           n;
    inbox_outbound_t         msg;
    inbox_carrier_request_t  req;
    inbox_error_t            err;
    static const char       *bad_url[] = { "javascript:alert(1)" };

    memset(&msg, 0, sizeof(msg));
    msg.from = "+15550001111";
    msg.to = "+15552223333";
    msg.body = "hi";

    n = twilio_number();
    n.account_sid = NULL;
    CHECK_INT(inbox_twilio_send_request(&n, &msg, &req, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "account_sid");

    n = twilio_number();
    n.auth_token = (char *) "";
    CHECK_INT(inbox_twilio_send_request(&n, &msg, &req, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "auth_token");

    n = twilio_number();
    n.api_base = (char *) "ftp://x";
    CHECK_INT(inbox_twilio_send_request(&n, &msg, &req, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "api_base");

    n = twilio_number();
    msg.body = "";
    CHECK_INT(inbox_twilio_send_request(&n, &msg, &req, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "body");

    msg.body = "bad \xff";
    CHECK_INT(inbox_twilio_send_request(&n, &msg, &req, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "body");

    msg.body = "hi";
    msg.to = "5552223333";
    CHECK_INT(inbox_twilio_send_request(&n, &msg, &req, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "to");

    msg.to = "+15552223333";
    msg.media_urls = bad_url;
    msg.media_count = 1;
    CHECK_INT(inbox_twilio_send_request(&n, &msg, &req, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "media_urls");

    msg.media_count = 11;
    CHECK_INT(inbox_twilio_send_request(&n, &msg, &req, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "media_urls");

    /* nothing to free after a refusal */
    CHECK(req.url == NULL && req.body == NULL && req.header_count == 0);
}


static inbox_send_result_t
answer(long status, const char *body)
{
    inbox_send_result_t  res;

    memset(&res, 0x5a, sizeof(res));
    inbox_carrier_send_result(INBOX_CARRIER_TWILIO, status, body,
                              body ? strlen(body) : 0, &res);
    return res;
}


TEST(answer_accepted)
{
    inbox_send_result_t  res;

    res = answer(201, "{\"sid\":\"" MSG_SID "\",\"status\":\"queued\","
                      "\"num_segments\":\"1\",\"error_code\":null}");
    CHECK_STR(inbox_send_outcome_name(res.outcome), "accepted");
    CHECK_STR(res.provider_id, MSG_SID);
    CHECK_INT(res.status, INBOX_DELIVERY_QUEUED);
    CHECK_STR(res.error_code, "");

    /* a Messaging Service's first status is accepted: queued for us */
    res = answer(201, "{\"sid\":\"MM0123456789abcdef0123456789abcdef\","
                      "\"status\":\"accepted\"}");
    CHECK_INT(res.outcome, INBOX_SEND_ACCEPTED);
    CHECK_INT(res.status, INBOX_DELIVERY_QUEUED);

    res = answer(201, "{\"sid\":\"" MSG_SID "\",\"status\":\"sent\"}");
    CHECK_INT(res.status, INBOX_DELIVERY_SENT);

    /* delivered already: sent, until the status callback says more */
    res = answer(201, "{\"sid\":\"" MSG_SID "\",\"status\":\"delivered\"}");
    CHECK_INT(res.outcome, INBOX_SEND_ACCEPTED);
    CHECK_INT(res.status, INBOX_DELIVERY_SENT);
}


TEST(answer_taken_but_failed_already_is_a_refusal)
{
    inbox_send_result_t  res;

    res = answer(201, "{\"sid\":\"" MSG_SID "\",\"status\":\"failed\","
                      "\"error_code\":30007,\"error_message\":\"Message "
                      "filtered\"}");
    CHECK_STR(inbox_send_outcome_name(res.outcome), "refused");
    CHECK_STR(res.error_code, "30007");
    CHECK(strstr(res.message, "Message filtered") != NULL);

    res = answer(201, "{\"sid\":\"" MSG_SID "\",\"status\":"
                      "\"undelivered\",\"error_code\":null}");
    CHECK_INT(res.outcome, INBOX_SEND_REFUSED);
    CHECK_STR(res.error_code, "");

    res = answer(201, "{\"sid\":\"" MSG_SID "\",\"status\":\"failed\","
                      "\"error_code\":21610}");
    CHECK_STR(inbox_send_outcome_name(res.outcome), "opted_out");
    CHECK_STR(res.error_code, "21610");
}


TEST(answer_opted_out_at_carrier)
{
    inbox_send_result_t  res;

    res = answer(400, "{\"code\":21610,\"message\":\"Attempt to send to "
                      "unsubscribed recipient\",\"more_info\":\"https://"
                      "www.twilio.com/docs/errors/21610\",\"status\":400}");
    CHECK_STR(inbox_send_outcome_name(res.outcome), "opted_out");
    CHECK_STR(res.error_code, "21610");
    CHECK_STR(res.provider_id, "");
    CHECK(strstr(res.message, "unsubscribed recipient") != NULL);
}


TEST(answer_retry_and_refused)
{
    inbox_send_result_t  res;

    /* too many: the number is held, not the message retried */
    res = answer(429, "{\"code\":20429,\"message\":\"Too Many Requests\"}");
    CHECK_INT(res.outcome, INBOX_SEND_RETRY);
    CHECK_STR(res.error_code, "20429");
    CHECK_INT(res.slow_down, 1);

    res = answer(429, "<html>Too Many Requests</html>");
    CHECK_INT(res.outcome, INBOX_SEND_RETRY);
    CHECK_INT(res.slow_down, 1);

    /* the request timed out before it was read: nothing was sent */
    res = answer(408, "<html>408 Request Timeout</html>");
    CHECK_INT(res.outcome, INBOX_SEND_RETRY);
    CHECK_INT(res.slow_down, 0);

    /* Twilio's own 503 (20503): not taken, try again with backoff */
    res = answer(503, "{\"code\":20503,\"message\":\"Service unavailable\","
                      "\"status\":503}");
    CHECK_INT(res.outcome, INBOX_SEND_RETRY);
    CHECK_STR(res.error_code, "20503");
    CHECK(strstr(res.message, "503") != NULL);
    CHECK_INT(res.slow_down, 0);

    res = answer(400, "{\"code\":21211,\"message\":\"The 'To' number is not "
                      "a valid phone number.\"}");
    CHECK_INT(res.outcome, INBOX_SEND_REFUSED);
    CHECK_STR(res.error_code, "21211");
    CHECK(strstr(res.message, "not a valid phone number") != NULL);
    CHECK_INT(res.slow_down, 0);

    res = answer(401, "{\"code\":20003,\"message\":\"Authenticate\"}");
    CHECK_INT(res.outcome, INBOX_SEND_REFUSED);
    CHECK_INT(res.account, 1);

    /* the number's account, not the recipient: a campaign pauses */
    res = answer(401, "{\"code\":20003,\"message\":\"Authenticate\","
                      "\"more_info\":\"https://www.twilio.com/docs/errors/"
                      "20003\",\"status\":401,\"detail\":\"Your AccountSid "
                      "or AuthToken was incorrect.\"}");
    CHECK_INT(res.outcome, INBOX_SEND_REFUSED);
    CHECK_INT(res.account, 1);
    CHECK_STR(res.error_code, "20003");
    CHECK(strstr(res.message, "Authenticate") != NULL);

    res = answer(401, "{\"code\":20005,\"message\":\"Account not "
                      "active\",\"status\":401}");
    CHECK_INT(res.account, 1);
    res = answer(400, "{\"code\":21661,\"message\":\"'From' number is "
                      "not SMS-capable\",\"status\":400}");
    CHECK_INT(res.account, 1);
    /* the From number not the account's (or not SMS-capable): the
     * inbox's numbers are never short codes, whose 21606 can also mean
     * a recipient abroad */
    res = answer(400, "{\"code\":21606,\"message\":\"The From phone "
                      "number +15550001111 is not a valid, SMS-capable "
                      "inbound phone number or short code for your "
                      "account.\",\"more_info\":\"https://www.twilio.com/"
                      "docs/errors/21606\",\"status\":400}");
    CHECK_INT(res.outcome, INBOX_SEND_REFUSED);
    CHECK_INT(res.account, 1);
    CHECK_STR(res.error_code, "21606");
    CHECK(strstr(res.message, "SMS-capable inbound phone number") != NULL);
    /* what Twilio now answers for parts of what 21606 said */
    res = answer(400, "{\"code\":21660,\"message\":\"Mismatch between "
                      "the 'From' number +15550001111 and the account "
                      "ACxxx\",\"status\":400}");
    CHECK_INT(res.outcome, INBOX_SEND_REFUSED);
    CHECK_INT(res.account, 1);
    CHECK_STR(res.error_code, "21660");
    res = answer(400, "{\"code\":21659,\"message\":\"'From' "
                      "+15550001111 is not a Twilio phone number or Short "
                      "Code country mismatch\",\"status\":400}");
    CHECK_INT(res.account, 1);
    CHECK_STR(res.error_code, "21659");

    /* one recipient's refusal is no account's */
    res = answer(400, "{\"code\":21211,\"message\":\"Invalid 'To' "
                      "Phone Number\",\"status\":400}");
    CHECK_INT(res.account, 0);
    res = answer(400, "{\"code\":21610,\"message\":\"Attempt to send "
                      "to unsubscribed recipient\",\"status\":400}");
    CHECK_INT(res.account, 0);
    res = answer(401, "Unauthorized");
    CHECK_INT(res.account, 0);
    /* the rule, at once: only the send's own 4xx */
    CHECK_INT(inbox_carrier_account_refused(INBOX_CARRIER_TWILIO, 200,
                                            "20003"), 0);
    CHECK_INT(inbox_carrier_account_refused(INBOX_CARRIER_TELNYX, 401,
                                            "20003"), 0);

    /* a 4xx we cannot read is still final */
    res = answer(404, "Not Found");
    CHECK_INT(res.outcome, INBOX_SEND_REFUSED);
    CHECK_STR(res.error_code, "");

    /* a redirect is no answer to follow blindly */
    res = answer(302, "");
    CHECK_INT(res.outcome, INBOX_SEND_REFUSED);
}


/*
 * 21611 comes with HTTP 400, but it refuses the number, not the message:
 * the From number's queue holds 10 hours of its sending rate.  As a 429,
 * the number is held and the message goes once the queue drains; final,
 * every message of a big campaign past the queue's size failed.
 */
TEST(answer_queue_full_holds_the_number)
{
    inbox_send_result_t  res;
    const char          *telnyx_21611 = "{\"errors\":[{\"code\":\"21611\","
                                        "\"title\":\"Other\"}]}";

    res = answer(400, "{\"code\":21611,\"message\":\"This 'From' number "
                      "has exceeded the maximum number of queued "
                      "messages\",\"more_info\":\"https://www.twilio.com/"
                      "docs/errors/21611\",\"status\":400}");
    CHECK_STR(inbox_send_outcome_name(res.outcome), "retry");
    CHECK_INT(res.slow_down, 1);
    CHECK_STR(res.error_code, "21611");
    CHECK_STR(res.provider_id, "");
    CHECK(strstr(res.message, "maximum number of queued") != NULL);

    /* the code is Twilio's: another carrier's 21611 says nothing */
    inbox_carrier_send_result(INBOX_CARRIER_TELNYX, 400, telnyx_21611,
                              strlen(telnyx_21611), &res);
    CHECK_INT(res.outcome, INBOX_SEND_REFUSED);
    CHECK_INT(res.slow_down, 0);

    /* taken, then failed with it: the message was taken, nothing to hold */
    res = answer(201, "{\"sid\":\"" MSG_SID "\",\"status\":\"failed\","
                      "\"error_code\":21611}");
    CHECK_INT(res.outcome, INBOX_SEND_REFUSED);
    CHECK_INT(res.slow_down, 0);

    /* a 5xx's retry is the message's, with its backoff */
    res = answer(500, "{\"code\":21730,\"message\":\"System under "
                      "maintenance\",\"status\":500}");
    CHECK_INT(res.outcome, INBOX_SEND_RETRY);
    CHECK_INT(res.slow_down, 0);
}


TEST(answer_5xx_that_may_have_sent_is_unknown)
{
    inbox_send_result_t  res;

    /* a gateway timed out: Twilio may have taken the message */
    res = answer(504, "<html>504 Gateway Time-out</html>");
    CHECK_STR(inbox_send_outcome_name(res.outcome), "unknown");
    CHECK(strstr(res.message, "504") != NULL);
    CHECK(strstr(res.message, "may have been sent") != NULL);

    res = answer(502, "<html>502 Bad Gateway</html>");
    CHECK_INT(res.outcome, INBOX_SEND_UNKNOWN);

    /* Twilio's own 504 or 502 says no more */
    res = answer(504, "{\"code\":20504,\"message\":\"Gateway timeout\","
                      "\"status\":504}");
    CHECK_INT(res.outcome, INBOX_SEND_UNKNOWN);

    /* 20500: Twilio documents that a message sent again may arrive twice */
    res = answer(500, "{\"code\":20500,\"message\":\"Internal Server "
                      "Error\",\"status\":500}");
    CHECK_INT(res.outcome, INBOX_SEND_UNKNOWN);
    CHECK(strstr(res.message, "20500") != NULL);

    res = answer(500, "");
    CHECK_INT(res.outcome, INBOX_SEND_UNKNOWN);

    /* a 503 that is not Twilio's own error: a proxy's page */
    res = answer(503, "<html>Service Unavailable</html>");
    CHECK_INT(res.outcome, INBOX_SEND_UNKNOWN);
    CHECK(strstr(res.message, "503") != NULL);

    res = answer(503, "{\"message\":\"no healthy upstream\"}");
    CHECK_INT(res.outcome, INBOX_SEND_UNKNOWN);

    res = answer(599, NULL);
    CHECK_INT(res.outcome, INBOX_SEND_UNKNOWN);

    /* maintenance (21730): Twilio says try again later */
    res = answer(500, "{\"code\":21730,\"message\":\"System under "
                      "maintenance\",\"status\":500}");
    CHECK_INT(res.outcome, INBOX_SEND_RETRY);
}


TEST(answer_malformed_is_a_clear_outcome)
{
    char                *huge;
    size_t               len;
    inbox_send_result_t  res;

    /* 2xx that does not say which message: it may have gone out */
    res = answer(201, "not json");
    CHECK_INT(res.outcome, INBOX_SEND_UNKNOWN);
    CHECK(strstr(res.message, "may have been sent") != NULL);

    res = answer(201, "{\"status\":\"queued\"}");
    CHECK_INT(res.outcome, INBOX_SEND_UNKNOWN);

    res = answer(201, "{\"sid\":\"SMnot-a-sid\"}");
    CHECK_INT(res.outcome, INBOX_SEND_UNKNOWN);

    res = answer(201, "{\"sid\":12}");
    CHECK_INT(res.outcome, INBOX_SEND_UNKNOWN);

    res = answer(201, "[\"" MSG_SID "\"]");
    CHECK_INT(res.outcome, INBOX_SEND_UNKNOWN);

    res = answer(200, NULL);
    CHECK_INT(res.outcome, INBOX_SEND_UNKNOWN);

    /* no answer at all (a timeout) */
    res = answer(0, NULL);
    CHECK_INT(res.outcome, INBOX_SEND_UNKNOWN);

    /* a huge answer is not read */
    len = INBOX_CARRIER_ANSWER_MAX + 100;
    huge = malloc(len + 1);
    memset(huge, ' ', len);
    memcpy(huge, "{\"sid\":\"" MSG_SID "\"", 44);
    huge[len - 1] = '}';
    huge[len] = '\0';
    res = answer(201, huge);
    CHECK_INT(res.outcome, INBOX_SEND_UNKNOWN);
    res = answer(503, huge);
    CHECK_INT(res.outcome, INBOX_SEND_UNKNOWN);
    free(huge);

    /* a code too long, a message with control characters */
    res = answer(400, "{\"code\":\"1234567890123456789012345678901234567890\","
                      "\"message\":\"line\\nbreak\\u0007\"}");
    CHECK_INT(res.outcome, INBOX_SEND_REFUSED);
    CHECK_STR(res.error_code, "");
    CHECK(strchr(res.message, '\n') == NULL && strchr(res.message, 7)
          == NULL);

    /* deep nesting */
    res = answer(400, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]"
                      "]]]]]]]]]]]]]]]]]]]]]]");
    CHECK_INT(res.outcome, INBOX_SEND_REFUSED);
}


TEST(answer_message_is_cut_between_characters)
{
    char                 body[2048];
    size_t               i, len;
    inbox_send_result_t  res;

    len = (size_t) snprintf(body, sizeof(body), "{\"code\":1,\"message\":\"");
    for (i = 0; i < 300; i++) {
        memcpy(body + len, "\xc3\xa9", 2);
        len += 2;
    }
    memcpy(body + len, "\"}", 3);

    res = answer(400, body);
    CHECK_INT(res.outcome, INBOX_SEND_REFUSED);
    CHECK(strlen(res.message) < INBOX_CARRIER_MESSAGE_MAX);
    /* ends on a whole character */
    len = strlen(res.message);
    CHECK(len >= 2 && (unsigned char) res.message[len - 2] == 0xc3
          && (unsigned char) res.message[len - 1] == 0xa9);
}


TEST(status_request_asks_for_the_message_resource)
{
    inbox_error_t            err;
    inbox_number_t           n;
    inbox_carrier_request_t  req;

    n = twilio_number();

    CHECK_INT(inbox_carrier_status_request(&n, MSG_SID, &req, &err),
              INBOX_OK);
    CHECK_STR(req.method, "GET");
    CHECK_STR(req.url, "https://api.twilio.com/2010-04-01/Accounts/" SID
                       "/Messages/" MSG_SID ".json");
    /* base64("AC0123456789abcdef0123456789abcdef:secret-token") */
    CHECK_STR(header(&req, "Authorization"),
              "Basic QUMwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjpzZWNy"
              "ZXQtdG9rZW4=");
    CHECK(req.body == NULL && req.len == 0);
    inbox_carrier_request_free(&req);

    /* the number's own API base (a simulator), without its '/' */
    n.api_base = (char *) "http://127.0.0.1:9/";
    CHECK_INT(inbox_carrier_status_request(&n, "MM0123456789abcdef0123456789"
                                           "abcdef", &req, &err), INBOX_OK);
    CHECK_STR(req.url, "http://127.0.0.1:9/2010-04-01/Accounts/" SID
                       "/Messages/MM0123456789abcdef0123456789abcdef.json");
    inbox_carrier_request_free(&req);

    /* nothing but a SID goes into the path */
    CHECK_INT(inbox_carrier_status_request(&n, "SM../../Calls", &req, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "provider_id");
    CHECK(req.url == NULL && req.header_count == 0);

    n.auth_token = NULL;
    CHECK_INT(inbox_carrier_status_request(&n, MSG_SID, &req, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "auth_token");

    n = twilio_number();
    n.api_base = (char *) "ftp://example.com";
    CHECK_INT(inbox_carrier_status_request(&n, MSG_SID, &req, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "api_base");
}


/* Twilio's Message resource, as GET .../Messages/{Sid}.json answers it. */
#define RESOURCE(status, code)                                              \
    "{\"account_sid\":\"" SID "\",\"api_version\":\"2010-04-01\","      \
    "\"body\":\"hi\",\"direction\":\"outbound-api\","                   \
    "\"error_code\":" code ",\"error_message\":null,"                     \
    "\"from\":\"+15550001111\",\"num_segments\":\"1\","                 \
    "\"sid\":\"" MSG_SID "\",\"status\":\"" status "\","                \
    "\"to\":\"+15551234567\"}"


static int
status_answer(long http_status, const char *body,
    inbox_status_update_t *up, char why[INBOX_CARRIER_MESSAGE_MAX])
{
    return inbox_carrier_status_answer(INBOX_CARRIER_TWILIO, http_status,
                                       body, body ? strlen(body) : 0,
                                       MSG_SID, up, why);
}


TEST(status_answer_reads_as_the_callback_would)
{
    char                   why[INBOX_CARRIER_MESSAGE_MAX];
    inbox_status_update_t  up;

    CHECK_INT(status_answer(200, RESOURCE("delivered", "null"), &up, why),
              0);
    CHECK_STR(up.provider_id, MSG_SID);
    CHECK_INT(up.status, INBOX_DELIVERY_DELIVERED);
    CHECK_STR(up.error_code, "");
    CHECK(up.final && !up.opted_out);

    /* a failed one with its error code, a JSON number */
    CHECK_INT(status_answer(200, RESOURCE("undelivered", "30003"), &up,
                            why), 0);
    CHECK_INT(up.status, INBOX_DELIVERY_UNDELIVERED);
    CHECK_STR(up.error_code, "30003");
    CHECK(up.final);

    CHECK_INT(status_answer(200, RESOURCE("failed", "21610"), &up, why), 0);
    CHECK_INT(up.status, INBOX_DELIVERY_FAILED);
    CHECK(up.opted_out);

    /* still on its way: stored, not final, asked again later */
    CHECK_INT(status_answer(200, RESOURCE("sent", "null"), &up, why), 0);
    CHECK_INT(up.status, INBOX_DELIVERY_SENT);
    CHECK(!up.final);

    CHECK_INT(status_answer(200, RESOURCE("accepted", "null"), &up, why), 0);
    CHECK_INT(up.status, INBOX_DELIVERY_QUEUED);
    CHECK(!up.final);
}


/* The account has no such message (another account's credentials, or
 * deleted at Twilio): said in Twilio's words, and nothing to store. */
TEST(status_answer_of_no_such_message_is_told_apart)
{
    char                   why[INBOX_CARRIER_MESSAGE_MAX];
    inbox_status_update_t  up;

    memset(&up, 0x5a, sizeof(up));
    CHECK_INT(status_answer(404, "{\"code\":20404,\"message\":\"The "
                                 "requested resource /2010-04-01/Accounts/"
                                 "AC1/Messages/" MSG_SID ".json was not "
                                 "found\",\"more_info\":\"https://www."
                                 "twilio.com/docs/errors/20404\","
                                 "\"status\":404}", &up, why),
              INBOX_CARRIER_STATUS_NO_SUCH_MESSAGE);
    CHECK(strstr(why, "HTTP 404, error 20404") != NULL);
    CHECK(strstr(why, "was not found") != NULL);
    CHECK_STR(up.provider_id, "");
    CHECK_INT(up.final, 0);

    /* the code as a string too */
    CHECK_INT(status_answer(404, "{\"code\":\"20404\"}", &up, why),
              INBOX_CARRIER_STATUS_NO_SUCH_MESSAGE);
    CHECK(strstr(why, "no reason given") != NULL);
}


TEST(status_answer_that_says_nothing_stores_nothing)
{
    char                   why[INBOX_CARRIER_MESSAGE_MAX];
    char                  *huge;
    size_t                 len;
    inbox_status_update_t  up;

    CHECK_INT(status_answer(0, NULL, &up, why), -1);
    CHECK(strstr(why, "did not answer") != NULL);

    /* a 404 that is not Twilio's "no such resource": a proxy's, an
     * unknown path's */
    CHECK_INT(status_answer(404, "<html>Not Found</html>", &up, why), -1);
    CHECK_INT(status_answer(404, "{\"code\":20003,\"message\":"
                                 "\"Authenticate\"}", &up, why), -1);
    CHECK_INT(status_answer(404, "{\"message\":\"not found\"}", &up,
                            why), -1);

    CHECK_INT(status_answer(503, "<html>busy</html>", &up, why), -1);
    CHECK_INT(status_answer(200, "not json", &up, why), -1);
    CHECK_INT(status_answer(200, "[]", &up, why), -1);
    CHECK_INT(status_answer(200, "{}", &up, why), -1);

    /* another message's resource, an inbound status, an odd code */
    CHECK_INT(status_answer(200, "{\"sid\":\"SMffffffffffffffffffffffffff"
                                 "ffffff\",\"status\":\"delivered\"}",
                            &up, why), -1);
    CHECK(strstr(why, "another message") != NULL);
    CHECK_INT(status_answer(200, RESOURCE("received", "null"), &up, why),
              -1);
    CHECK_INT(status_answer(200, RESOURCE("Delivered", "null"), &up, why),
              -1);
    CHECK_INT(status_answer(200, RESOURCE("delivered", "[1]"), &up, why),
              -1);
    CHECK_INT(status_answer(200, RESOURCE("delivered", "\"\""), &up, why),
              -1);
    CHECK_INT(status_answer(200, "{\"sid\":\"" MSG_SID "\",\"status\":"
                                 "7}", &up, why), -1);
    CHECK_STR(up.provider_id, "");

    /* a huge answer is not read */
    len = INBOX_CARRIER_ANSWER_MAX + 10;
    huge = malloc(len + 1);
    memset(huge, ' ', len);
    memcpy(huge, RESOURCE("delivered", "null"),
           strlen(RESOURCE("delivered", "null")));
    huge[len] = '\0';
    CHECK_INT(status_answer(200, huge, &up, why), -1);
    free(huge);

    /* a carrier's text is made safe to log */
    CHECK_INT(status_answer(500, "{\"code\":20500,\"message\":\"a\\nb\"}",
                            &up, why), -1);
    CHECK(strchr(why, '\n') == NULL);
}


static void
parse_form(const char *body, inbox_form_t *form)
{
    inbox_error_t  err;

    if (inbox_form_parse(body, strlen(body), form, &err) != INBOX_OK) {
        fprintf(stderr, "    form did not parse: %s\n", err.message);
        abort();
    }
}


#define STATUS_FORM(status, extra)                                          \
    "MessageSid=" MSG_SID "&SmsSid=" MSG_SID "&AccountSid=" SID             \
    "&From=%2B15550001111&To=%2B15552223333&MessageStatus=" status extra


TEST(status_callback_signed)
{
    char                    sig[INBOX_TWILIO_SIGNATURE_MAX];
    inbox_form_t            form;
    inbox_number_t          n;
    inbox_error_t           err;
    inbox_status_update_t   up;

    n = twilio_number();
    parse_form(STATUS_FORM("delivered", "&SmsStatus=delivered"), &form);
    inbox_twilio_signature(URL, &form, TOKEN, sig);

    CHECK_INT(inbox_twilio_status_check(&form, URL, sig, &n, &up, &err),
              INBOX_OK);
    CHECK_STR(up.provider_id, MSG_SID);
    CHECK_STR(inbox_delivery_name(up.status), "delivered");
    CHECK_STR(up.error_code, "");
    CHECK(!up.opted_out);
    CHECK(up.final);

    /* forged, unknown number, another carrier's number */
    CHECK_INT(inbox_twilio_status_check(&form, URL, "AAAA", &n, &up, &err),
              INBOX_ERR_FORBIDDEN);
    CHECK_INT(inbox_twilio_status_check(&form, URL, sig, NULL, &up, &err),
              INBOX_ERR_FORBIDDEN);
    n.carrier = INBOX_CARRIER_TELNYX;
    CHECK_INT(inbox_twilio_status_check(&form, URL, sig, &n, &up, &err),
              INBOX_ERR_FORBIDDEN);

    /* signed with the right token but for another account */
    n = twilio_number();
    n.account_sid = (char *) "ACffffffffffffffffffffffffffffffff";
    CHECK_INT(inbox_twilio_status_check(&form, URL, sig, &n, &up, &err),
              INBOX_ERR_FORBIDDEN);
    CHECK_STR(err.field, "AccountSid");

    inbox_form_free(&form);
}


TEST(status_callback_fields)
{
    inbox_form_t           form;
    inbox_error_t          err;
    inbox_status_update_t  up;

    parse_form(STATUS_FORM("undelivered", "&ErrorCode=30005"), &form);
    CHECK_INT(inbox_twilio_status_parse(&form, &up, &err), INBOX_OK);
    CHECK_INT(up.status, INBOX_DELIVERY_UNDELIVERED);
    CHECK_STR(up.error_code, "30005");
    CHECK(!up.opted_out);
    inbox_form_free(&form);

    parse_form(STATUS_FORM("failed", "&ErrorCode=21610"), &form);
    CHECK_INT(inbox_twilio_status_parse(&form, &up, &err), INBOX_OK);
    CHECK_INT(up.status, INBOX_DELIVERY_FAILED);
    CHECK(up.opted_out);
    inbox_form_free(&form);

    /* part of it reached the handset: delivered, final, its credit
     * spent */
    parse_form(STATUS_FORM("partially_delivered", ""), &form);
    CHECK_INT(inbox_twilio_status_parse(&form, &up, &err), INBOX_OK);
    CHECK_INT(up.status, INBOX_DELIVERY_DELIVERED);
    CHECK(up.final);
    CHECK_INT(inbox_delivery_hold(up.status, up.final), INBOX_HOLD_CAPTURE);
    inbox_form_free(&form);

    /* an empty ErrorCode is none; unknown fields are ignored */
    parse_form(STATUS_FORM("sent", "&ErrorCode=&ApiVersion=2010-04-01"
                                   "&Whatever=1"), &form);
    CHECK_INT(inbox_twilio_status_parse(&form, &up, &err), INBOX_OK);
    CHECK_INT(up.status, INBOX_DELIVERY_SENT);
    CHECK_STR(up.error_code, "");
    CHECK(!up.final);
    inbox_form_free(&form);

    parse_form(STATUS_FORM("receiving", ""), &form);
    CHECK_INT(inbox_twilio_status_parse(&form, &up, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "MessageStatus");
    inbox_form_free(&form);

    parse_form(STATUS_FORM("sent", "&MessageStatus=delivered"), &form);
    CHECK_INT(inbox_twilio_status_parse(&form, &up, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "MessageStatus");
    inbox_form_free(&form);

    parse_form(STATUS_FORM("failed", "&ErrorCode=30x"), &form);
    CHECK_INT(inbox_twilio_status_parse(&form, &up, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "ErrorCode");
    inbox_form_free(&form);

    parse_form("MessageSid=SMnope&AccountSid=" SID "&MessageStatus=sent",
               &form);
    CHECK_INT(inbox_twilio_status_parse(&form, &up, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "MessageSid");
    inbox_form_free(&form);

    parse_form("MessageSid=" MSG_SID "&MessageStatus=sent", &form);
    CHECK_INT(inbox_twilio_status_parse(&form, &up, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "AccountSid");
    inbox_form_free(&form);
}


TEST(twilio_statuses_map_onto_ours)
{
    size_t              i;
    inbox_delivery_t    d;
    static const char  *map[][2] = {
        { "accepted", "queued" }, { "scheduled", "queued" },
        { "queued", "queued" }, { "sending", "sending" },
        { "sent", "sent" }, { "delivered", "delivered" },
        { "read", "delivered" }, { "partially_delivered", "delivered" },
        { "undelivered", "undelivered" }, { "failed", "failed" },
        { "canceled", "failed" }
    };

    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        CHECK_INT(inbox_twilio_status_map(map[i][0], &d), 0);
        CHECK_STR(inbox_delivery_name(d), map[i][1]);
    }

    CHECK_INT(inbox_twilio_status_map("received", &d), -1);
    CHECK_INT(inbox_twilio_status_map("Delivered", &d), -1);
    CHECK_INT(inbox_twilio_status_map(NULL, &d), -1);
}


/* A report the carrier says is its last settles the hold whatever the
 * status: Telnyx's delivery_unconfirmed leaves "sent" and its credits are
 * spent then, not three days later; Twilio's "sent" is never last. */
TEST(a_final_report_without_a_receipt_captures_the_hold)
{
    int                    a;
    inbox_form_t           form;
    inbox_error_t          err;
    inbox_status_update_t  up;

    for (a = INBOX_DELIVERY_QUEUED; a <= INBOX_DELIVERY_SENT; a++) {
        CHECK_INT(inbox_delivery_hold((inbox_delivery_t) a, 1),
                  INBOX_HOLD_CAPTURE);
        CHECK_INT(inbox_delivery_hold((inbox_delivery_t) a, 0),
                  INBOX_HOLD_KEEP);
    }

    parse_form(STATUS_FORM("sent", ""), &form);
    CHECK_INT(inbox_twilio_status_parse(&form, &up, &err), INBOX_OK);
    CHECK_INT(inbox_delivery_hold(up.status, up.final), INBOX_HOLD_KEEP);
    inbox_form_free(&form);
}


TEST(statuses_only_move_forward)
{
    int               a, b;
    inbox_delivery_t  d;

    CHECK(inbox_delivery_moves(INBOX_DELIVERY_QUEUED,
                               INBOX_DELIVERY_SENDING));
    CHECK(inbox_delivery_moves(INBOX_DELIVERY_QUEUED,
                               INBOX_DELIVERY_DELIVERED));
    CHECK(inbox_delivery_moves(INBOX_DELIVERY_SENT,
                               INBOX_DELIVERY_FAILED));
    CHECK(inbox_delivery_moves(INBOX_DELIVERY_SENDING,
                               INBOX_DELIVERY_UNDELIVERED));

    /* a late "sent" never overwrites "delivered"; repeats change nothing */
    CHECK(!inbox_delivery_moves(INBOX_DELIVERY_DELIVERED,
                                INBOX_DELIVERY_SENT));
    CHECK(!inbox_delivery_moves(INBOX_DELIVERY_SENT, INBOX_DELIVERY_SENT));
    CHECK(!inbox_delivery_moves(INBOX_DELIVERY_SENT,
                                INBOX_DELIVERY_QUEUED));

    /* a final status is final, whatever comes next */
    for (a = INBOX_DELIVERY_DELIVERED; a <= INBOX_DELIVERY_FAILED; a++) {
        CHECK(inbox_delivery_final((inbox_delivery_t) a));
        for (b = INBOX_DELIVERY_QUEUED; b <= INBOX_DELIVERY_FAILED; b++) {
            CHECK(!inbox_delivery_moves((inbox_delivery_t) a,
                                        (inbox_delivery_t) b));
        }
    }

    /* a message the carrier did not deliver gives its credits back */
    for (a = 0; a <= 1; a++) {
        CHECK_INT(inbox_delivery_hold(INBOX_DELIVERY_UNDELIVERED, a),
                  INBOX_HOLD_RELEASE);
        CHECK_INT(inbox_delivery_hold(INBOX_DELIVERY_FAILED, a),
                  INBOX_HOLD_RELEASE);
        CHECK_INT(inbox_delivery_hold(INBOX_DELIVERY_DELIVERED, a),
                  INBOX_HOLD_CAPTURE);
    }

    CHECK_INT(inbox_delivery_parse("sending", &d), 0);
    CHECK_INT(d, INBOX_DELIVERY_SENDING);
    CHECK_INT(inbox_delivery_parse("read", &d), -1);
}


RUN_TESTS()
