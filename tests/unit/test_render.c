/*
 * The API's JSON, byte for byte as clients receive it.
 */
#include <stdlib.h>
#include <string.h>
#include <inbox/clock.h>
#include <inbox/event.h>
#include <inbox/render.h>
#include <inbox/utf8.h>
#include "check.h"


#define T0  1795748645678LL     /* 2026-11-27T03:04:05.678Z */


static void
conversation_fixture(inbox_conversation_t *c)
{
    memset(c, 0, sizeof(*c));
    strcpy(c->id, "c1");
    strcpy(c->contact.id, "k1");
    c->contact.name = strdup("Ann / \"Annie\"");
    strcpy(c->contact.phone, "+15551234567");
    c->has_last_message = 1;
    strcpy(c->last_message.id, "m9");
    c->last_message.direction = INBOX_INBOUND;
    strcpy(c->last_message.preview, "See https://x.test/a");
    c->last_message.at = T0;
    c->last_activity_at = T0;
    c->unread_count = 2;
    c->starred = 1;
    c->unresponded_at = T0;
}


#define CONVERSATION_JSON                                                   \
    "{\"id\":\"c1\",\"contact\":{\"id\":\"k1\",\"name\":"                   \
    "\"Ann / \\\"Annie\\\"\",\"phone\":\"+15551234567\","                   \
    "\"phone_display\":\"+1 (555) 123-4567\","                             \
    "\"can_receive_mms\":true,\"opted_out\":false},"                      \
    "\"last_message\":{\"id\":\"m9\","                                      \
    "\"direction\":\"inbound\",\"preview\":\"See https://x.test/a\","       \
    "\"media_type\":null,\"at\":\"2026-11-27T03:04:05.678Z\","               \
    "\"sent_by\":null,\"campaign_id\":null,\"campaign_kind\":null,"        \
    "\"status\":null,\"error_code\":null},"                                 \
    "\"last_activity_at\":\"2026-11-27T03:04:05.678Z\","                    \
    "\"unread_count\":2,\"archived\":false,\"starred\":true,"            \
    "\"unresponded\":true}"


TEST(iso8601_has_milliseconds_and_z)
{
    char  buf[INBOX_ISO8601_MAX];

    inbox_iso8601(T0, buf);
    CHECK_STR(buf, "2026-11-27T03:04:05.678Z");
    inbox_iso8601(0, buf);
    CHECK_STR(buf, "1970-01-01T00:00:00.000Z");
    inbox_iso8601(-1, buf);
    CHECK_STR(buf, "1969-12-31T23:59:59.999Z");
}


TEST(conversation_shape)
{
    char                  *json;
    size_t                 len;
    inbox_conversation_t   c;

    conversation_fixture(&c);
    json = inbox_render_conversation(&c, &len);
    CHECK_STR(json, CONVERSATION_JSON);
    CHECK_INT(len, strlen(CONVERSATION_JSON));
    free(json);
    inbox_conversation_free(&c);
}


TEST(conversation_whose_last_message_is_an_attachment_alone_says_its_type)
{
    char                  *json;
    inbox_conversation_t   c;

    conversation_fixture(&c);
    c.last_message.preview[0] = '\0';
    strcpy(c.last_message.media_type, "text/vcard");
    json = inbox_render_conversation(&c, NULL);
    CHECK(json != NULL && strstr(json, "\"preview\":\"\",\"media_type\":"
                                 "\"text/vcard\",\"at\"") != NULL);
    free(json);
    inbox_conversation_free(&c);
}


/* A reply or a campaign's message as the last one names who sent it. */
TEST(conversation_whose_last_message_is_outbound_names_its_sender)
{
    char                  *json;
    inbox_conversation_t   c;

    conversation_fixture(&c);
    c.last_message.direction = INBOX_OUTBOUND;
    strcpy(c.last_message.sent_by, "u7");
    json = inbox_render_conversation(&c, NULL);
    CHECK(json != NULL && strstr(json, "\"sent_by\":\"u7\","
                                 "\"campaign_id\":null,"
                                 "\"campaign_kind\":null,") != NULL);
    free(json);

    c.last_message.sent_by[0] = '\0';
    strcpy(c.last_message.campaign_id, "k3");
    strcpy(c.last_message.campaign_kind, "poll");
    json = inbox_render_conversation(&c, NULL);
    CHECK(json != NULL && strstr(json, "\"sent_by\":null,"
                                 "\"campaign_id\":\"k3\","
                                 "\"campaign_kind\":\"poll\",") != NULL);
    free(json);
    inbox_conversation_free(&c);
}


/* A list marks a thread whose last message, a reply, did not reach the
 * phone: it says its status and why, as the message does. */
TEST(conversation_whose_last_message_failed_says_so)
{
    char                  *json;
    inbox_conversation_t   c;

    conversation_fixture(&c);
    c.last_message.direction = INBOX_OUTBOUND;
    strcpy(c.last_message.sent_by, "u7");
    strcpy(c.last_message.status, "undelivered");
    strcpy(c.last_message.error_code, "30003");
    json = inbox_render_conversation(&c, NULL);
    CHECK(json != NULL && strstr(json, "\"campaign_kind\":null,"
                                 "\"status\":\"undelivered\","
                                 "\"error_code\":\"30003\"}") != NULL);
    free(json);

    strcpy(c.last_message.status, "delivered");
    c.last_message.error_code[0] = '\0';
    json = inbox_render_conversation(&c, NULL);
    CHECK(json != NULL && strstr(json, "\"status\":\"delivered\","
                                 "\"error_code\":null}") != NULL);
    free(json);
    inbox_conversation_free(&c);
}


TEST(conversation_without_name_or_messages_has_nulls)
{
    char                  *json;
    inbox_conversation_t   c;

    conversation_fixture(&c);
    free(c.contact.name);
    c.contact.name = NULL;
    c.contact.opted_out = 1;
    /* Jamaica shares +1, but no MMS reaches it */
    snprintf(c.contact.phone, sizeof(c.contact.phone), "+18765550123");
    c.has_last_message = 0;
    c.unread_count = 0;
    c.starred = 0;
    c.archived = 1;
    c.unresponded_at = 0;

    json = inbox_render_conversation(&c, NULL);
    CHECK_STR(json,
              "{\"id\":\"c1\",\"contact\":{\"id\":\"k1\",\"name\":null,"
              "\"phone\":\"+18765550123\","
              "\"phone_display\":\"+1 (876) 555-0123\","
              "\"can_receive_mms\":false,"
              "\"opted_out\":true},"
              "\"last_message\":null,"
              "\"last_activity_at\":\"2026-11-27T03:04:05.678Z\","
              "\"unread_count\":0,\"archived\":true,\"starred\":false,"
              "\"unresponded\":false}");
    free(json);
    inbox_conversation_free(&c);
}


TEST(conversation_page_with_and_without_cursor)
{
    char                       *json;
    inbox_conversation_page_t   page;

    memset(&page, 0, sizeof(page));
    page.items = calloc(1, sizeof(inbox_conversation_t));
    conversation_fixture(&page.items[0]);
    page.count = 1;
    strcpy(page.next_cursor, "abc");
    page.unread_total = 7;
    page.counts[INBOX_FILTER_ALL] = 5;
    page.counts[INBOX_FILTER_UNREAD] = 2;
    page.counts[INBOX_FILTER_UNRESPONDED] = 3;
    page.counts[INBOX_FILTER_STARRED] = 1;
    page.counts[INBOX_FILTER_ARCHIVED] = 4;
    page.has_counts = 1;

    json = inbox_render_conversation_page(&page, NULL, NULL);
    CHECK_STR(json, "{\"items\":[" CONVERSATION_JSON "],"
                    "\"next_cursor\":\"abc\",\"unread_total\":7,"
                    "\"counts\":{\"all\":5,\"unread\":2,\"unresponded\":3,"
                    "\"starred\":1,\"archived\":4}}");
    free(json);
    inbox_conversation_page_free(&page);

    memset(&page, 0, sizeof(page));
    page.has_counts = 1;
    json = inbox_render_conversation_page(&page, NULL, NULL);
    CHECK_STR(json, "{\"items\":[],\"next_cursor\":null,\"unread_total\":0,"
                    "\"counts\":{\"all\":0,\"unread\":0,\"unresponded\":0,"
                    "\"starred\":0,\"archived\":0}}");
    free(json);

    /* a later page: the unread total, no counts */
    memset(&page, 0, sizeof(page));
    page.unread_total = 3;
    json = inbox_render_conversation_page(&page, NULL, NULL);
    CHECK_STR(json, "{\"items\":[],\"next_cursor\":null,"
                    "\"unread_total\":3}");
    free(json);
}


TEST(conversation_page_says_what_a_search_looks_for_in_a_number)
{
#define EMPTY_PAGE  "{\"items\":[],\"next_cursor\":null,\"unread_total\":0"

    static const struct {
        const char  *q;
        const char  *country;
        const char  *json;
    } cases[] = {
        /* Mexico's retired 1, typed: the number is stored without it */
        { "+52 1 55 12", "US", EMPTY_PAGE ",\"search\":{\"phone_digits\":"
                               "[\"5215512\",\"525512\"]}}" },
        /* "1 55 12" in an organization of MX: +52 55 12... */
        { "1 55 12", "MX", EMPTY_PAGE ",\"search\":{\"phone_digits\":"
                           "[\"15512\",\"525512\"]}}" },
        /* a name's search only: no digits to look for */
        { "Suite 4", "US", EMPTY_PAGE ",\"search\":{\"phone_digits\":[]}}" },
        /* no search */
        { "", "US", EMPTY_PAGE "}" },
    };

    char                       *json;
    size_t                      i;
    inbox_search_t              search;
    inbox_conversation_page_t   page;

    memset(&page, 0, sizeof(page));

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK_INT(inbox_search_parse(cases[i].q, cases[i].country,
                                     &search), 0);
        json = inbox_render_conversation_page(&page, &search, NULL);
        CHECK_STR(json, cases[i].json);
        free(json);
    }

#undef EMPTY_PAGE
}


TEST(contact_page_says_what_a_search_looks_for_in_a_number)
{
    char                  *json;
    inbox_search_t         search;
    inbox_contact_page_t   page;

    memset(&page, 0, sizeof(page));

    CHECK_INT(inbox_search_parse("07700 900", "GB", &search), 0);
    json = inbox_render_contact_page(&page, &search, NULL);
    CHECK_STR(json, "{\"items\":[],\"next_cursor\":null,"
                    "\"search\":{\"phone_digits\":"
                    "[\"07700900\",\"7700900\"]}}");
    free(json);

    /* no search: the page as every list has it */
    CHECK_INT(inbox_search_parse("", "GB", &search), 0);
    json = inbox_render_contact_page(&page, &search, NULL);
    CHECK_STR(json, "{\"items\":[],\"next_cursor\":null}");
    free(json);
    json = inbox_render_contact_page(&page, NULL, NULL);
    CHECK_STR(json, "{\"items\":[],\"next_cursor\":null}");
    free(json);
}


#define FILE_JPG  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.jpg"

TEST(message_shapes_inbound_and_outbound)
{
    char                  *json;
    inbox_message_page_t   page;
    inbox_message_t       *m;

    memset(&page, 0, sizeof(page));
    page.items = calloc(2, sizeof(inbox_message_t));
    page.count = 2;

    m = &page.items[0];
    strcpy(m->id, "m2");
    strcpy(m->conversation_id, "c1");
    m->direction = INBOX_OUTBOUND;
    m->body = strdup("On my way");
    strcpy(m->status, "delivered");
    m->segments = 1;
    m->credits = 1;
    m->created_at = T0;
    strcpy(m->sent_by, "u3");
    strcpy(m->campaign_id, "k7");
    strcpy(m->campaign_kind, "campaign");
    /* an upload names itself, for a send to name it again; one whose
     * upload is not known (stored before) says nothing of it */
    m->media_count = 2;
    m->media = calloc(2, sizeof(inbox_media_t));
    strcpy(m->media[0].url, "https://x.test/media/" FILE_JPG);
    strcpy(m->media[0].content_type, "image/jpeg");
    m->media[0].state = INBOX_MEDIA_STORED;
    strcpy(m->media[0].file, FILE_JPG);
    m->media[0].bytes = 4096;
    strcpy(m->media[0].upload_id, "41");
    m->media[1] = m->media[0];
    m->media[1].upload_id[0] = '\0';

    m = &page.items[1];
    strcpy(m->id, "m1");
    strcpy(m->conversation_id, "c1");
    m->direction = INBOX_INBOUND;
    m->body = strdup("pics");
    m->media_count = 3;
    m->media = calloc(3, sizeof(inbox_media_t));
    strcpy(m->media[0].url, "https://m.test/0");
    strcpy(m->media[0].content_type, "image/jpeg");
    /* copied: our URL, never the carrier's; not yet: none */
    m->media[0].state = INBOX_MEDIA_STORED;
    strcpy(m->media[0].file, FILE_JPG);
    m->media[0].bytes = 2048;
    strcpy(m->media[1].url, "https://m.test/1");
    strcpy(m->media[1].content_type, "image/png");
    /* the carrier gave no type (Telnyx may not): null until copied */
    strcpy(m->media[2].url, "https://m.test/2");
    m->segments = 1;
    m->created_at = T0 - 1000;
    strcpy(page.next_cursor, "next");

    json = inbox_render_message_page(&page, NULL);
    CHECK_STR(json,
              "{\"items\":[{\"id\":\"m2\",\"conversation_id\":\"c1\","
              "\"direction\":\"outbound\",\"body\":\"On my way\","
              "\"media\":[{\"id\":\"41\",\"url\":\"/media/" FILE_JPG "\","
              "\"content_type\":\"image/jpeg\",\"state\":\"stored\","
              "\"bytes\":4096},"
              "{\"url\":\"/media/" FILE_JPG "\","
              "\"content_type\":\"image/jpeg\",\"state\":\"stored\","
              "\"bytes\":4096}],"
              "\"status\":\"delivered\",\"error_code\":null,"
              "\"segments\":1,\"credits\":1,"
              "\"created_at\":\"2026-11-27T03:04:05.678Z\","
              "\"sent_by\":\"u3\",\"campaign_id\":\"k7\","
              "\"campaign_kind\":\"campaign\",\"can_send_again\":false},"
              "{\"id\":\"m1\",\"conversation_id\":\"c1\","
              "\"direction\":\"inbound\",\"body\":\"pics\","
              "\"media\":[{\"url\":\"/media/" FILE_JPG "\","
              "\"content_type\":\"image/jpeg\",\"state\":\"stored\","
              "\"bytes\":2048},"
              "{\"url\":null,\"content_type\":\"image/png\","
              "\"state\":\"pending\",\"bytes\":null},"
              "{\"url\":null,\"content_type\":null,"
              "\"state\":\"pending\",\"bytes\":null}],"
              "\"status\":null,\"error_code\":null,\"segments\":1,"
              "\"credits\":0,\"created_at\":\"2026-11-27T03:04:04.678Z\","
              "\"sent_by\":null,\"campaign_id\":null,"
              "\"campaign_kind\":null,\"can_send_again\":false}],"
              "\"next_cursor\":\"next\"}");
    free(json);
    inbox_message_page_free(&page);
}


/* Whether m's JSON says it may be sent again: 1, 0, -1 when it says
 * neither. */
static int
says_send_again(const inbox_message_t *m)
{
    int    again;
    char  *json;

    json = inbox_render_message(m, NULL);
    again = json == NULL ? -1
            : strstr(json, "\"can_send_again\":true") ? 1
            : strstr(json, "\"can_send_again\":false") ? 0 : -1;
    free(json);

    return again;
}


/* can_send_again is resend.h's rule, as a send naming the message would
 * be checked: a person's reply that failed for a reason that may pass,
 * not sent again yet. */
TEST(a_message_says_whether_it_may_be_sent_again)
{
    inbox_message_t  m;

    memset(&m, 0, sizeof(m));
    strcpy(m.id, "m2");
    strcpy(m.conversation_id, "c1");
    m.direction = INBOX_OUTBOUND;
    m.body = (char *) "Still coming?";
    strcpy(m.sent_by, "u3");
    strcpy(m.status, "undelivered");
    strcpy(m.error_code, "30003");
    CHECK_INT(says_send_again(&m), 1);

    /* no code said why: worth another try too */
    strcpy(m.status, "failed");
    m.error_code[0] = '\0';
    CHECK_INT(says_send_again(&m), 1);

    /* opted out at the carrier, or a landline: another try cannot mend */
    strcpy(m.error_code, "21610");
    CHECK_INT(says_send_again(&m), 0);
    strcpy(m.error_code, "30006");
    CHECK_INT(says_send_again(&m), 0);
    strcpy(m.error_code, "30003");

    /* sent again: no more, and it says as what */
    strcpy(m.resent_as, "m9");
    m.resent_at = T0;
    CHECK_INT(says_send_again(&m), 0);
    m.resent_as[0] = '\0';

    /* delivered, a campaign's, an API token's or automatic one, an
     * inbound one: no */
    strcpy(m.status, "delivered");
    CHECK_INT(says_send_again(&m), 0);
    strcpy(m.status, "failed");
    strcpy(m.campaign_id, "k7");
    CHECK_INT(says_send_again(&m), 0);
    m.campaign_id[0] = '\0';
    m.sent_by[0] = '\0';
    CHECK_INT(says_send_again(&m), 0);
    strcpy(m.sent_by, "u3");
    m.direction = INBOX_INBOUND;
    CHECK_INT(says_send_again(&m), 0);
}


TEST(invalid_utf8_is_replaced_not_dropped)
{
    char           *json;
    yajl_gen        g;

    g = inbox_json_begin();
    yajl_gen_map_open(g);
    inbox_json_key(g, "a");
    inbox_json_string(g, "ok \xC3\xA9 bad \xFF end");
    inbox_json_key(g, "b");
    inbox_json_string(g, "\xE2\x82");
    yajl_gen_map_close(g);
    json = inbox_json_finish(g, NULL);

    /* a truncated sequence is one maximal subpart: one U+FFFD */
    CHECK_STR(json, "{\"a\":\"ok \xC3\xA9 bad \xEF\xBF\xBD end\","
                    "\"b\":\"\xEF\xBF\xBD\"}");
    free(json);
}


/* What yajl's own check lets through: a surrogate, an overlong '/', a lead
 * byte beyond U+10FFFF, and a code point beyond it. */
TEST(json_never_carries_what_strict_utf8_refuses)
{
    char      *json;
    yajl_gen   g;

    g = inbox_json_begin();
    yajl_gen_array_open(g);
    inbox_json_string(g, "s\xED\xA0\x80");
    inbox_json_string(g, "o\xC0\xAF");
    inbox_json_string(g, "f\xF5\x80");
    inbox_json_string(g, "m\xF4\x90\x80\x80");
    inbox_json_string(g, "ok\xF0\x9F\x91\x8B");
    yajl_gen_array_close(g);
    json = inbox_json_finish(g, NULL);

    CHECK(json != NULL && inbox_utf8_valid(json, strlen(json)));
    CHECK_STR(json, "[\"s\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\","
                    "\"o\xEF\xBF\xBD\xEF\xBF\xBD\","
                    "\"f\xEF\xBF\xBD\xEF\xBF\xBD\","
                    "\"m\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
                    "\xEF\xBF\xBD\","
                    "\"ok\xF0\x9F\x91\x8B\"]");
    free(json);
}


TEST(error_document)
{
    char           *json;
    inbox_error_t   err;

    inbox_error_set_field(&err, INBOX_ERR_INVALID, "body",
                          "the message is empty");
    json = inbox_render_error(&err, NULL);
    CHECK_STR(json, "{\"error\":{\"code\":\"invalid_request\","
                    "\"message\":\"the message is empty\","
                    "\"field\":\"body\"}}");
    free(json);

    inbox_error_set(&err, INBOX_ERR_NOT_FOUND, "no such conversation");
    json = inbox_render_error(&err, NULL);
    CHECK_STR(json, "{\"error\":{\"code\":\"not_found\","
                    "\"message\":\"no such conversation\"}}");
    free(json);
}


/*
 * A failure on our side tells a client a fixed sentence of its code: its
 * message names the store's file, tables or MongoDB's hosts, for the
 * server's log only.  A code the client can act on keeps its message.
 */
TEST(error_document_of_a_server_failure_keeps_its_detail_out)
{
    char           *json;
    inbox_error_t   err;

    inbox_error_set(&err, INBOX_ERR_UNAVAILABLE, "The MongoDB store is "
                    "unavailable: No suitable servers found: [Failed to "
                    "resolve 'db-internal.corp.example']");
    json = inbox_render_error(&err, NULL);
    CHECK_STR(json, "{\"error\":{\"code\":\"unavailable\","
                    "\"message\":\"The service is unavailable for a "
                    "moment; try again shortly.\"}}");
    free(json);

    inbox_error_set(&err, INBOX_ERR_INTERNAL, "database error: NOT NULL "
                    "constraint failed: contacts.phone");
    json = inbox_render_error(&err, NULL);
    CHECK_STR(json, "{\"error\":{\"code\":\"internal\","
                    "\"message\":\"Something went wrong on our side; "
                    "try again, and tell the operator if it lasts.\"}}");
    free(json);

    /* a field named stays: it is the client's own */
    inbox_error_set_field(&err, INBOX_ERR_UNAVAILABLE, "media",
                          "The image could not be saved (No space left on "
                          "device); try again later.");
    json = inbox_render_error(&err, NULL);
    CHECK(json != NULL && strstr(json, "No space") == NULL);
    CHECK(json != NULL && strstr(json, "\"field\":\"media\"") != NULL);
    free(json);

    /* the detail is still the error's, for the log and for inboxctl */
    CHECK(strstr(err.message, "No space left on device") != NULL);
    CHECK_STR(inbox_error_client_message(&err),
              inbox_status_server_message(INBOX_ERR_UNAVAILABLE));

    inbox_error_set(&err, INBOX_ERR_CONFLICT, "the email address is "
                    "already taken");
    CHECK_STR(inbox_error_client_message(&err), "the email address is "
              "already taken");
    CHECK(inbox_status_server_message(INBOX_ERR_CONFLICT) == NULL);
}


TEST(error_documents_carry_the_fields_of_their_code)
{
    char           *json;
    inbox_error_t   err;

    inbox_error_insufficient_credits(&err, 2, 1, "This reply needs %d "
                                     "credits; you have %d.", 2, 1);
    json = inbox_render_error(&err, NULL);
    CHECK_STR(json, "{\"error\":{\"code\":\"insufficient_credits\","
                    "\"message\":\"This reply needs 2 credits; you have "
                    "1.\",\"needed\":2,\"balance\":1}}");
    free(json);

    inbox_error_rate_limited(&err, 30, "Too many attempts.");
    json = inbox_render_error(&err, NULL);
    CHECK_STR(json, "{\"error\":{\"code\":\"rate_limited\","
                    "\"message\":\"Too many attempts.\","
                    "\"retry_after\":30}}");
    free(json);

    /* a code set again loses the fields of the one before */
    inbox_error_set(&err, INBOX_ERR_CONTACT_OPTED_OUT, "Opted out.");
    CHECK_INT(err.retry_after, 0);
    json = inbox_render_error(&err, NULL);
    CHECK_STR(json, "{\"error\":{\"code\":\"contact_opted_out\","
                    "\"message\":\"Opted out.\"}}");
    free(json);

    inbox_error_set(&err, INBOX_ERR_BILLING_INACTIVE, "Contact your "
                    "billing admin.");
    json = inbox_render_error(&err, NULL);
    CHECK_STR(json, "{\"error\":{\"code\":\"billing_inactive\","
                    "\"message\":\"Contact your billing admin.\"}}");
    free(json);
}


TEST(account_document)
{
    char             *json;
    inbox_account_t   account;

    memset(&account, 0, sizeof(account));
    strcpy(account.org.id, "7");
    account.org.name = strdup("Acme \"Dental\"");
    strcpy(account.org.timezone, "America/Chicago");
    account.has_user = 1;
    strcpy(account.user.id, "3");
    strcpy(account.user.org_id, "7");
    strcpy(account.user.email, "pat@example.com");
    account.user.role = INBOX_ROLE_BILLING;

    json = inbox_render_account(&account, NULL);
    CHECK_STR(json, "{\"user\":{\"id\":\"3\",\"email\":"
                    "\"pat@example.com\"},\"role\":\"billing\","
                    "\"organization\":{\"id\":\"7\",\"name\":"
                    "\"Acme \\\"Dental\\\"\",\"timezone\":"
                    "\"America/Chicago\"}}");
    free(json);

    /* an organization-wide token: no user, acting as a member */
    account.has_user = 0;
    json = inbox_render_account(&account, NULL);
    CHECK_STR(json, "{\"user\":null,\"role\":\"member\","
                    "\"organization\":{\"id\":\"7\",\"name\":"
                    "\"Acme \\\"Dental\\\"\",\"timezone\":"
                    "\"America/Chicago\"}}");
    free(json);

    inbox_account_free(&account);
}


TEST(team_documents)
{
    char               *json;
    inbox_user_t        users[2];
    inbox_user_list_t   list;

    memset(users, 0, sizeof(users));
    strcpy(users[0].id, "3");
    strcpy(users[0].org_id, "7");
    strcpy(users[0].email, "pat@example.com");
    users[0].role = INBOX_ROLE_BILLING;
    users[0].created_at = 1767225600000LL;
    users[1] = users[0];
    strcpy(users[1].id, "4");
    strcpy(users[1].email, "sam@example.com");
    users[1].role = INBOX_ROLE_MEMBER;

    json = inbox_render_user(&users[0], NULL);
    CHECK_STR(json, "{\"id\":\"3\",\"email\":\"pat@example.com\","
                    "\"role\":\"billing\","
                    "\"created_at\":\"2026-01-01T00:00:00.000Z\"}");
    free(json);

    /* one page, the whole team */
    memset(&list, 0, sizeof(list));
    list.items = users;
    list.count = 2;
    json = inbox_render_users(&list, NULL);
    CHECK_STR(json, "{\"items\":[{\"id\":\"3\",\"email\":"
                    "\"pat@example.com\",\"role\":\"billing\","
                    "\"created_at\":\"2026-01-01T00:00:00.000Z\"},"
                    "{\"id\":\"4\",\"email\":\"sam@example.com\","
                    "\"role\":\"member\","
                    "\"created_at\":\"2026-01-01T00:00:00.000Z\"}],"
                    "\"next_cursor\":null}");
    free(json);

    list.count = 0;
    json = inbox_render_users(&list, NULL);
    CHECK_STR(json, "{\"items\":[],\"next_cursor\":null}");
    free(json);
}


/* billing */


TEST(billing_and_ledger_documents)
{
    char                  *json;
    inbox_billing_t        billing;
    inbox_ledger_entry_t   items[2];
    inbox_ledger_page_t    page;

    memset(&billing, 0, sizeof(billing));
    billing.active = 1;
    snprintf(billing.plan, sizeof(billing.plan), "per_message");
    billing.balance = 8;
    billing.held = 2;

    json = inbox_render_billing(&billing, NULL);
    CHECK_STR(json, "{\"active\":true,\"plan\":\"per_message\","
                    "\"credits\":{\"balance\":8,\"held\":2}}");
    free(json);

    memset(items, 0, sizeof(items));
    memset(&page, 0, sizeof(page));
    snprintf(items[0].id, sizeof(items[0].id), "2");
    items[0].kind = INBOX_LEDGER_RELEASE;
    items[0].credits = 2;
    items[0].balance = 8;
    items[0].held = 2;
    snprintf(items[0].message_id, sizeof(items[0].message_id), "7");
    snprintf(items[0].conversation_id, sizeof(items[0].conversation_id),
             "3");
    snprintf(items[0].contact_phone, sizeof(items[0].contact_phone),
             "+15551230001");
    snprintf(items[0].error_code, sizeof(items[0].error_code),
             "campaign_cancelled");
    snprintf(items[0].campaign.id, sizeof(items[0].campaign.id), "5");
    items[0].campaign.kind = INBOX_CAMPAIGN_KIND_POLL;
    snprintf(items[0].campaign.name, sizeof(items[0].campaign.name),
             "Lunch?");
    items[0].at = 1767225600000LL;
    snprintf(items[1].id, sizeof(items[1].id), "1");
    items[1].kind = INBOX_LEDGER_GRANT;
    items[1].credits = 10;
    items[1].balance = 10;
    items[1].at = 1767225500000LL;
    page.items = items;
    page.count = 2;

    json = inbox_render_ledger_page(&page, NULL);
    CHECK_STR(json, "{\"items\":[{\"id\":\"2\",\"kind\":\"release\","
                    "\"credits\":2,\"balance\":8,\"held\":2,"
                    "\"message_id\":\"7\",\"conversation_id\":\"3\","
                    "\"contact\":{\"name\":null,"
                    "\"phone\":\"+15551230001\","
                    "\"phone_display\":\"+1 (555) 123-0001\"},"
                    "\"campaign\":{\"id\":\"5\",\"kind\":\"poll\","
                    "\"name\":\"Lunch?\"},"
                    "\"error_code\":\"campaign_cancelled\","
                    "\"at\":\"2026-01-01T00:00:00.000Z\"},"
                    "{\"id\":\"1\",\"kind\":\"grant\",\"credits\":10,"
                    "\"balance\":10,\"held\":0,\"message_id\":null,"
                    "\"conversation_id\":null,\"contact\":null,"
                    "\"campaign\":null,\"error_code\":null,"
                    "\"at\":\"2025-12-31T23:58:20.000Z\"}],"
                    "\"next_cursor\":null}");
    free(json);
}




/* The contact's record and its timeline name a campaign or poll as the
 * ledger does: {"id","kind","name"}, then their own keys */
TEST(a_contacts_campaigns_and_timeline_name_each_campaign_alike)
{
    char                       *json;
    inbox_contact_record_t      record;
    inbox_contact_campaign_t    sent;
    inbox_contact_campaigns_t   list;
    inbox_timeline_item_t       item;
    inbox_timeline_page_t       page;

    memset(&record, 0, sizeof(record));
    strcpy(record.id, "k1");
    strcpy(record.phone, "+15551234567");
    memset(&sent, 0, sizeof(sent));
    strcpy(sent.id, "5");
    sent.kind = INBOX_CAMPAIGN_KIND_POLL;
    sent.name = "Lunch?";
    sent.sent_at = T0;
    strcpy(sent.status, "delivered");
    sent.state = INBOX_RECIPIENT_DELIVERED;
    memset(&list, 0, sizeof(list));
    list.campaigns = &sent;
    list.campaign_count = 1;

    json = inbox_render_contact_record(&record, &list, NULL);
    CHECK(json != NULL && strstr(json, "\"campaigns\":[{\"id\":\"5\","
                                 "\"kind\":\"poll\",\"name\":\"Lunch?\","
                                 "\"sent_at\":\"2026-11-27T03:04:05.678Z\","
                                 "\"status\":\"delivered\","
                                 "\"state\":\"delivered\"}]") != NULL);
    free(json);

    memset(&item, 0, sizeof(item));
    item.type = INBOX_TIMELINE_CAMPAIGN;
    item.at = T0;
    strcpy(item.campaign.id, "6");
    item.campaign.name = "Spring sale";
    strcpy(item.campaign.status, "sent");
    memset(&page, 0, sizeof(page));
    page.items = &item;
    page.count = 1;

    json = inbox_render_timeline_page(&page, NULL);
    CHECK_STR(json, "{\"items\":[{\"type\":\"campaign\","
                    "\"at\":\"2026-11-27T03:04:05.678Z\","
                    "\"campaign\":{\"id\":\"6\",\"kind\":\"campaign\","
                    "\"name\":\"Spring sale\",\"status\":\"sent\","
                    "\"state\":null}}],\"next_cursor\":null}");
    free(json);
}

/* GET tags: each tag with its counts, and whether more follow */
TEST(tag_page_document)
{
    char               *json;
    size_t              len;
    inbox_tag_count_t   items[2];
    inbox_tag_page_t    page;

    memset(items, 0, sizeof(items));
    memset(&page, 0, sizeof(page));

    json = inbox_render_tag_page(&page, &len);
    CHECK_STR(json, "{\"items\":[],\"more\":false}");
    free(json);

    strcpy(items[0].tag, "caf\xc3\xa9 \"late\"");
    items[0].contacts = 1;
    items[0].sendable = 0;
    strcpy(items[1].tag, "VIP");
    items[1].contacts = 12;
    items[1].sendable = 10;
    page.items = items;
    page.count = 2;
    page.more = 1;

    json = inbox_render_tag_page(&page, &len);
    CHECK_STR(json, "{\"items\":[{\"tag\":\"caf\xc3\xa9 \\\"late\\\"\","
                    "\"contacts\":1,\"sendable\":0},{\"tag\":\"VIP\","
                    "\"contacts\":12,\"sendable\":10}],\"more\":true}");
    CHECK_INT(len, strlen(json));
    free(json);
}


/* campaigns (render_campaign.c) */
TEST(campaign_recipients_leave_out_the_suppressed)
{
    char                       *json;
    yajl_gen                    g;
    inbox_campaign_counts_t     counts;
    inbox_campaign_estimate_t   e;

    /* 7 contacts in the audience, 1 opted out at the send: 6
     * recipients, not 7 */
    memset(&counts, 0, sizeof(counts));
    counts.audience = 7;
    counts.excluded = 1;
    counts.suppressed = 1;
    counts.queued = 6;
    g = inbox_json_begin();
    inbox_json_campaign_counts(g, &counts);
    json = inbox_json_finish(g, NULL);
    CHECK(json != NULL
          && strstr(json, "{\"recipients\":6,\"suppressed\":1,") != NULL);
    free(json);

    /* one more opts out while it sends: suppressed too, still one of
     * the 6 recipients */
    counts.suppressed = 2;
    counts.queued = 5;
    g = inbox_json_begin();
    inbox_json_campaign_counts(g, &counts);
    json = inbox_json_finish(g, NULL);
    CHECK(json != NULL
          && strstr(json, "{\"recipients\":6,\"suppressed\":2,") != NULL);
    free(json);

    memset(&e, 0, sizeof(e));
    e.audience = 7;
    e.suppressed = 1;
    e.credits = 2;
    e.segments = 1;
    json = inbox_render_campaign_estimate(&e, NULL);
    CHECK(json != NULL
          && strstr(json, "{\"recipients\":6,\"suppressed\":1,") != NULL);
    CHECK(json != NULL && strstr(json, "\"total_credits\":12,") != NULL);
    CHECK(json != NULL && strstr(json, "\"without_mms\":null,") != NULL);
    free(json);

    /* with a picture, 2 of the 6 get links at 1 credit: 4 x 2 + 2 x 1;
     * never more abroad than there are recipients */
    e.media_count = 1;
    e.no_mms = 2;
    e.links_segments = 1;
    e.links_credits = 1;
    json = inbox_render_campaign_estimate(&e, NULL);
    CHECK(json != NULL
          && strstr(json, "\"without_mms\":{\"recipients\":2,"
                          "\"segments\":1,\"credits\":1},") != NULL);
    CHECK(json != NULL && strstr(json, "\"total_credits\":10,") != NULL);
    free(json);

    e.no_mms = 9;
    json = inbox_render_campaign_estimate(&e, NULL);
    CHECK(json != NULL && strstr(json, "\"total_credits\":6,") != NULL);
    free(json);
}


/* The campaign's JSON and its campaign.progress frame, both. */
static int
campaign_says(const inbox_campaign_t *c, const char *part)
{
    int    found;
    char  *json, *frame;

    json = inbox_render_campaign(c, NULL);
    frame = inbox_event_campaign_progress(1, "e1", c);
    found = json != NULL && frame != NULL && strstr(json, part) != NULL
            && strstr(frame, part) != NULL;
    free(json);
    free(frame);

    return found;
}


/* A campaign "Sale" to all contacts, in status. */
static void
campaign_fixture(inbox_campaign_t *c, inbox_campaign_status_t status)
{
    memset(c, 0, sizeof(*c));
    strcpy(c->id, "k1");
    c->name = "Sale";
    c->body = "Sale!";
    c->audience_all = 1;
    c->status = status;
}


TEST(a_cancelled_campaign_says_why)
{
    inbox_campaign_t  c;

    campaign_fixture(&c, INBOX_CAMPAIGN_CANCELLED);
    c.cancelled_reason = INBOX_CANCEL_TEXT_REFUSED;
    c.cancelled_message = "The message is 11 segments (GSM-7): the limit "
                          "is 10, so shorten it.";
    CHECK(campaign_says(&c, "\"cancelled_reason\":\"text_refused\","
                        "\"cancelled_message\":\"The message is 11 "
                        "segments (GSM-7): the limit is 10, so shorten "
                        "it.\""));

    c.cancelled_reason = INBOX_CANCEL_MANUAL;
    c.cancelled_message = NULL;
    CHECK(campaign_says(&c, "\"cancelled_reason\":\"manual\","
                        "\"cancelled_message\":null"));

    /* cancelled before the stores kept why: not known */
    c.cancelled_reason = INBOX_CANCEL_NONE;
    CHECK(campaign_says(&c, "\"cancelled_reason\":null,"
                        "\"cancelled_message\":null"));

    /* only a cancelled one is cancelled for a reason */
    c.status = INBOX_CAMPAIGN_SENDING;
    c.cancelled_reason = INBOX_CANCEL_MANUAL;
    CHECK(campaign_says(&c, "\"cancelled_reason\":null,"
                        "\"cancelled_message\":null"));
}


/* A scheduled campaign's time, which can move, is in its frame too. */
TEST(a_campaigns_time_is_in_its_json_and_frame)
{
    inbox_campaign_t  c;

    campaign_fixture(&c, INBOX_CAMPAIGN_SCHEDULED);
    c.send_at = T0;
    CHECK(campaign_says(&c, "\"send_at\":\"2026-11-27T03:04:05.678Z\""));

    c.send_at = 0;
    CHECK(campaign_says(&c, "\"send_at\":null"));
}



/* A campaign's images each name the upload they are, which an edit
 * names again to keep one; one stored before these were kept names
 * none.  A message's media name theirs as a campaign's do, and leave
 * out the key when not known. */
TEST(a_campaigns_images_name_their_uploads)
{
    char              *json;
    inbox_media_t      media[2];
    inbox_campaign_t   c;
    inbox_message_t    m;

    memset(media, 0, sizeof(media));
    strcpy(media[0].content_type, "image/jpeg");
    media[0].state = INBOX_MEDIA_STORED;
    strcpy(media[0].file, FILE_JPG);
    media[0].bytes = 2048;
    strcpy(media[0].upload_id, "42");
    media[1] = media[0];
    media[1].upload_id[0] = '\0';

    campaign_fixture(&c, INBOX_CAMPAIGN_DRAFT);
    c.media = media;
    c.media_count = 2;
    json = inbox_render_campaign(&c, NULL);
    CHECK(json != NULL
          && strstr(json, "\"media\":[{\"id\":\"42\","
                          "\"url\":\"/media/" FILE_JPG "\","
                          "\"content_type\":\"image/jpeg\","
                          "\"state\":\"stored\",\"bytes\":2048},"
                          "{\"id\":null,\"url\":\"/media/" FILE_JPG "\","
                          "\"content_type\":\"image/jpeg\","
                          "\"state\":\"stored\",\"bytes\":2048}]")
             != NULL);
    free(json);

    memset(&m, 0, sizeof(m));
    strcpy(m.id, "m1");
    m.direction = INBOX_OUTBOUND;
    m.body = "Look";
    m.media = media;
    m.media_count = 2;
    json = inbox_render_message(&m, NULL);
    CHECK(json != NULL
          && strstr(json, "\"media\":[{\"id\":\"42\","
                          "\"url\":\"/media/" FILE_JPG "\","
                          "\"content_type\":\"image/jpeg\","
                          "\"state\":\"stored\",\"bytes\":2048},"
                          "{\"url\":\"/media/" FILE_JPG "\",")
             != NULL);
    free(json);
}

/* sending (render_send.c) */
TEST(estimate_documents_name_what_made_a_body_ucs2)
{
    char              *json;
    const char        *body;
    inbox_segments_t   seg;

    body = "Hi {you}";
    inbox_segments_count(body, strlen(body), &seg);
    json = inbox_render_estimate(body, &seg, 1, NULL, NULL);
    CHECK_STR(json, "{\"encoding\":\"GSM-7\",\"segments\":1,"
                    "\"characters\":8,\"remaining\":150,\"credits\":1,"
                    "\"ucs2_because\":null,\"refused\":null}");
    free(json);

    /* a thumbs-up with its skin tone: the whole character */
    body = "ok \xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd thanks";
    inbox_segments_count(body, strlen(body), &seg);
    json = inbox_render_estimate(body, &seg, 1, NULL, NULL);
    CHECK_STR(json, "{\"encoding\":\"UCS-2\",\"segments\":1,"
                    "\"characters\":11,\"remaining\":56,\"credits\":1,"
                    "\"ucs2_because\":\"\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd\","
                    "\"refused\":null}");
    free(json);

    /* a byte that is not UTF-8 is named as U+FFFD */
    body = "a\xff";
    inbox_segments_count(body, strlen(body), &seg);
    json = inbox_render_estimate(body, &seg, 1, NULL, NULL);
    CHECK(json != NULL && strstr(json, "\"ucs2_because\":\"\xef\xbf\xbd\"")
          != NULL);
    free(json);

    /* why a send would be refused, for the composer to warn */
    body = "hi";
    inbox_segments_count(body, strlen(body), &seg);
    json = inbox_render_estimate(body, &seg, 1, "Too long.", NULL);
    CHECK(json != NULL && strstr(json, ",\"refused\":\"Too long.\"}")
          != NULL);
    free(json);
}


RUN_TESTS()
