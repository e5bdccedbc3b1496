/*
 * Events: the WebSocket frames, the list the store fills, and the
 * datagram that carries a frame to ws-server.
 */
#include <stdlib.h>
#include <string.h>
#include <inbox/event.h>
#include <inbox/render.h>
#include "check.h"


#define T0  1795748645678LL     /* 2026-11-27T03:04:05.678Z */


static void
fixtures(inbox_message_t *m, inbox_conversation_t *c)
{
    memset(m, 0, sizeof(*m));
    strcpy(m->id, "m1");
    strcpy(m->conversation_id, "c1");
    m->body = (char *) "hi";
    m->segments = 1;
    m->created_at = T0;

    memset(c, 0, sizeof(*c));
    strcpy(c->id, "c1");
    strcpy(c->contact.id, "k1");
    strcpy(c->contact.phone, "+15551234567");
    c->has_last_message = 1;
    strcpy(c->last_message.id, "m1");
    strcpy(c->last_message.preview, "hi");
    c->last_message.at = T0;
    c->last_activity_at = T0;
    c->unread_count = 1;
}


#define MESSAGE_JSON                                                        \
    "{\"id\":\"m1\",\"conversation_id\":\"c1\",\"direction\":\"inbound\","  \
    "\"body\":\"hi\",\"media\":[],\"status\":null,\"error_code\":null,"     \
    "\"segments\":1,\"credits\":0,"                                         \
    "\"created_at\":\"2026-11-27T03:04:05.678Z\",\"sent_by\":null,"         \
    "\"campaign_id\":null,\"campaign_kind\":null,"                          \
    "\"can_send_again\":false}"

#define CONVERSATION_JSON                                                   \
    "{\"id\":\"c1\",\"contact\":{\"id\":\"k1\",\"name\":null,"              \
    "\"phone\":\"+15551234567\","                                          \
    "\"phone_display\":\"+1 (555) 123-4567\",\"can_receive_mms\":true,"    \
    "\"opted_out\":false},"                                                 \
    "\"last_message\":{\"id\":\"m1\",\"direction\":\"inbound\","            \
    "\"preview\":\"hi\",\"media_type\":null,"                              \
    "\"at\":\"2026-11-27T03:04:05.678Z\",\"sent_by\":null,"                   \
    "\"campaign_id\":null,\"campaign_kind\":null,\"status\":null,"         \
    "\"error_code\":null},"                                                 \
    "\"last_activity_at\":\"2026-11-27T03:04:05.678Z\","                    \
    "\"unread_count\":1,\"archived\":false,\"starred\":false,"           \
    "\"unresponded\":false}"


TEST(frames_have_type_seq_and_epoch)
{
    char                  *f;
    inbox_message_t        m;
    inbox_conversation_t   c;

    fixtures(&m, &c);

    f = inbox_event_hello(12, "E1", 3, 30);
    CHECK_STR(f, "{\"type\":\"hello\",\"org_seq\":12,\"epoch\":\"E1\","
                 "\"unread_total\":3,\"ping_secs\":30}");
    free(f);

    f = inbox_event_message_created(13, "E1", &m, &c);
    CHECK_STR(f, "{\"type\":\"message.created\",\"org_seq\":13,"
                 "\"epoch\":\"E1\",\"message\":" MESSAGE_JSON
                 ",\"conversation\":" CONVERSATION_JSON "}");
    free(f);

    f = inbox_event_conversation_updated(14, "E1", &c);
    CHECK_STR(f, "{\"type\":\"conversation.updated\",\"org_seq\":14,"
                 "\"epoch\":\"E1\",\"conversation\":" CONVERSATION_JSON "}");
    free(f);

    f = inbox_event_unread_total(15, "E1", 4);
    CHECK_STR(f, "{\"type\":\"unread.total\",\"org_seq\":15,"
                 "\"epoch\":\"E1\",\"count\":4}");
    free(f);
}


/* A reply that fails says in its frame whether Send again may go, so
 * that a page shows it with no read. */
TEST(message_status_says_whether_the_reply_may_be_sent_again)
{
    char                  *f;
    inbox_message_t        m;
    inbox_conversation_t   c;

    fixtures(&m, &c);
    m.direction = INBOX_OUTBOUND;
    strcpy(m.sent_by, "u3");
    strcpy(m.status, "failed");
    strcpy(m.error_code, "30003");

    f = inbox_event_message_status(16, "E1", &m);
    CHECK_STR(f, "{\"type\":\"message.status\",\"org_seq\":16,"
                 "\"epoch\":\"E1\",\"id\":\"m1\",\"conversation_id\":\"c1\","
                 "\"status\":\"failed\",\"error_code\":\"30003\","
                 "\"can_send_again\":true}");
    free(f);

    /* the contact opted out at the carrier: no */
    strcpy(m.error_code, "21610");
    f = inbox_event_message_status(17, "E1", &m);
    CHECK(f != NULL && strstr(f, "\"can_send_again\":false}") != NULL);
    free(f);
}


TEST(list_grows_and_truncates_to_a_savepoint)
{
    int                 i;
    char                org[8];
    inbox_event_list_t  list;

    memset(&list, 0, sizeof(list));

    for (i = 0; i < 20; i++) {
        snprintf(org, sizeof(org), "o%d", i);
        CHECK_INT(inbox_event_list_add(&list, org, i + 1, NULL, NULL, -1,
                                       inbox_event_unread_total(i + 1, "E",
                                                                i)), 0);
    }
    CHECK_INT(list.count, 20);
    CHECK_STR(list.items[19].org_id, "o19");
    CHECK_INT(list.items[19].org_seq, 20);
    CHECK_INT(list.items[19].len, strlen(list.items[19].json));

    /* a rolled back savepoint keeps what came before it */
    inbox_event_list_truncate(&list, 5);
    CHECK_INT(list.count, 5);
    CHECK_STR(list.items[4].org_id, "o4");
    inbox_event_list_truncate(&list, 9);
    CHECK_INT(list.count, 5);

    CHECK_INT(inbox_event_list_add(&list, "o", 6, NULL, NULL, -1, NULL), -1);
    CHECK_INT(list.count, 5);

    inbox_event_list_free(&list);
    CHECK_INT(list.count, 0);
    CHECK(list.items == NULL);
}


TEST(datagram_records_round_trip)
{
    char                  buf[256];
    size_t                used, offset, one;
    inbox_event_t         ev[2];
    inbox_event_record_t  rec;

    memset(ev, 0, sizeof(ev));

    strcpy(ev[0].org_id, "65a1f0c2e4b0a1b2c3d4e5f6");
    ev[0].org_seq = 9007199254740993LL;
    strcpy(ev[0].type, "unread.total");
    strcpy(ev[0].epoch, "e1b2");
    ev[0].unread_total = 41;
    ev[0].json = (char *) "{\"type\":\"unread.total\"}";
    ev[0].len = strlen(ev[0].json);

    /* type and epoch unknown, no unread total */
    strcpy(ev[1].org_id, "7");
    ev[1].org_seq = 12;
    ev[1].unread_total = -1;
    ev[1].json = (char *) "{\"type\":\"hello\"}";
    ev[1].len = strlen(ev[1].json);

    used = 0;
    CHECK_INT(inbox_event_record_append(&ev[0], buf, sizeof(buf), &used), 0);
    one = used;
#define HEAD0 "65a1f0c2e4b0a1b2c3d4e5f6 9007199254740993 e1b2 unread.total " \
              "41 23\n"
    CHECK_INT(one, strlen(HEAD0) + ev[0].len);
    CHECK(memcmp(buf, HEAD0 "{", strlen(HEAD0) + 1) == 0);
    CHECK_INT(inbox_event_record_append(&ev[1], buf, sizeof(buf), &used), 0);
    CHECK(memcmp(buf + one, "7 12 - - - 16\n{", 15) == 0);

    offset = 0;
    CHECK_INT(inbox_event_record_next(buf, used, &offset, &rec), 1);
    CHECK_STR(rec.org_id, "65a1f0c2e4b0a1b2c3d4e5f6");
    CHECK_INT(rec.org_seq, 9007199254740993LL);
    CHECK_STR(rec.type, "unread.total");
    CHECK_STR(rec.epoch, "e1b2");
    CHECK_INT(rec.unread_total, 41);
    CHECK(rec.frame_len == ev[0].len
          && memcmp(rec.frame, ev[0].json, ev[0].len) == 0);

    CHECK_INT(inbox_event_record_next(buf, used, &offset, &rec), 1);
    CHECK_STR(rec.org_id, "7");
    CHECK_INT(rec.org_seq, 12);
    CHECK_STR(rec.type, "");
    CHECK_STR(rec.epoch, "");
    CHECK_INT(rec.unread_total, -1);
    CHECK(rec.frame_len == ev[1].len
          && memcmp(rec.frame, ev[1].json, ev[1].len) == 0);

    CHECK_INT(inbox_event_record_next(buf, used, &offset, &rec), 0);

    /* a record that does not fit leaves the buffer as it was */
    used = 0;
    CHECK_INT(inbox_event_record_append(&ev[0], buf, one - 1, &used), -1);
    CHECK_INT(used, 0);
    CHECK_INT(inbox_event_record_append(&ev[0], buf, one + 1, &used), 0);
    CHECK_INT(inbox_event_record_append(&ev[1], buf, one + 1, &used), -1);
    CHECK_INT(used, one);
}


/* What the store hands the publisher: every event knows its type, epoch
 * and (for unread.total) the count, so ws-server reads no JSON. */
TEST(change_push_carries_the_record_header)
{
    inbox_change_t        change;
    inbox_message_t       m;
    inbox_conversation_t  c;
    inbox_event_list_t    list;

    fixtures(&m, &c);
    memset(&list, 0, sizeof(list));

    inbox_change_message(&change, &m, &c);
    inbox_change_set_total(&change, 17);
    CHECK_INT(inbox_change_render(&change, 40, "ep0ch"), 0);
    CHECK_INT(inbox_change_push(&change, "org9", &list), 0);

    CHECK_INT(list.count, 3);
    CHECK_STR(list.items[0].type, "message.created");
    CHECK_STR(list.items[0].epoch, "ep0ch");
    CHECK_INT(list.items[0].unread_total, -1);
    CHECK_INT(list.items[0].org_seq, 40);
    CHECK_STR(list.items[1].type, "conversation.updated");
    CHECK_INT(list.items[1].unread_total, -1);
    CHECK_STR(list.items[2].type, "unread.total");
    CHECK_STR(list.items[2].epoch, "ep0ch");
    CHECK_INT(list.items[2].unread_total, 17);
    CHECK_INT(list.items[2].org_seq, 42);

    inbox_event_list_free(&list);
}


static int
parse(const char *s)
{
    size_t                offset;
    inbox_event_record_t  rec;

    offset = 0;

    return inbox_event_record_next(s, strlen(s), &offset, &rec);
}


TEST(datagram_parse_rejects_malformed)
{
    CHECK_INT(parse("42 7 E t - 2\n{}"), 1);
    CHECK_INT(parse("42 7 - - 3 2\n{}"), 1);
    CHECK_INT(parse(""), 0);
    CHECK_INT(parse("42 7 E t - 2"), -1);         /* no newline */
    CHECK_INT(parse("42 7 E t - 2\n"), -1);       /* no frame */
    CHECK_INT(parse("42 7 E t - 3\n{}"), -1);     /* frame cut short */
    CHECK_INT(parse("42 7 E t - 0\n{}"), -1);     /* empty frame */
    CHECK_INT(parse("42 7 E t -\n{}"), -1);       /* no length */
    CHECK_INT(parse("42 7 2\n{}"), -1);           /* the old header */
    CHECK_INT(parse("427 E t - 2\n{}"), -1);      /* a field short */
    CHECK_INT(parse(" 7 E t - 2\n{}"), -1);       /* no org */
    CHECK_INT(parse("- 7 E t - 2\n{}"), -1);
    CHECK_INT(parse("42  E t - 2\n{}"), -1);
    CHECK_INT(parse("42 -7 E t - 2\n{}"), -1);
    CHECK_INT(parse("42 7x E t - 2\n{}"), -1);
    CHECK_INT(parse("42 7 E t x 2\n{}"), -1);     /* unread not a number */
    CHECK_INT(parse("42 7 E t -1 2\n{}"), -1);
    CHECK_INT(parse("42 7 E t - 2 2\n{}"), -1);   /* a field too many */
    CHECK_INT(parse("42 99999999999999999999 E t - 2\n{}"), -1);
    CHECK_INT(parse("0123456789012345678901234567890123 7 E t - 2\n{}"),
              -1);
    CHECK_INT(parse("42 7 0123456789012345678901234 t - 2\n{}"), -1);
    CHECK_INT(parse("4\t2 7 E t - 2\n{}"), -1);
}


/* The team's events name the user and nothing else; the two that end a
 * user's access are the ones ws-server closes sockets on. */
TEST(team_events_name_the_user_and_say_which_end_access)
{
    char               *frame;
    inbox_change_t      change;
    inbox_event_ref_t   ref;

    inbox_change_user(&change, INBOX_EVENT_USER_REMOVED, "u7");
    CHECK_INT(change.count, 1);
    CHECK_INT(inbox_change_render(&change, 41, "E1"), 0);
    CHECK_STR(change.items[0].frame,
              "{\"type\":\"user.removed\",\"org_seq\":41,\"epoch\":\"E1\","
              "\"user_id\":\"u7\"}");
    CHECK_INT(inbox_change_wants_total(&change), 0);
    inbox_change_free(&change);

    /* rendered again from the stored reference: the same frame */
    memset(&ref, 0, sizeof(ref));
    ref.type = "user.signed_out";
    ref.org_seq = 9;
    ref.epoch = "E1";
    ref.unread_total = -1;
    ref.user_id = "u7";
    CHECK_INT(inbox_event_ref_render(&ref, &frame), 0);
    CHECK_STR(frame, "{\"type\":\"user.signed_out\",\"org_seq\":9,"
                     "\"epoch\":\"E1\",\"user_id\":\"u7\"}");
    free(frame);

    /* a reference that lost its user cannot be rendered */
    ref.user_id = NULL;
    CHECK_INT(inbox_event_ref_render(&ref, &frame), 1);

    /* which ones end access, and the key naming whose */
    CHECK_STR(inbox_event_ends_access("user.removed"), "user_id");
    CHECK_STR(inbox_event_ends_access("user.signed_out"), "user_id");
    CHECK_STR(inbox_event_ends_access("token.revoked"), "token_id");
    CHECK(inbox_event_ends_access("user.updated") == NULL);
    CHECK(inbox_event_ends_access("message.created") == NULL);
    CHECK_INT(inbox_event_ref_needs("user.updated"), INBOX_EVENT_NEEDS_USER);

    inbox_change_token(&change, "t3");
    CHECK_INT(inbox_change_render(&change, 7, "E1"), 0);
    CHECK_STR(change.items[0].frame,
              "{\"type\":\"token.revoked\",\"org_seq\":7,\"epoch\":\"E1\","
              "\"token_id\":\"t3\"}");
    inbox_change_free(&change);
}


/* A logout names the session (its store id), which ws-server closes the
 * sockets of; it renders the same again from its stored reference. */
TEST(a_logout_names_the_session_and_ends_its_access)
{
    char               *frame;
    inbox_change_t      change;
    inbox_event_ref_t   ref;

    inbox_change_session(&change, "s5");
    CHECK_INT(change.count, 1);
    CHECK_INT(inbox_change_render(&change, 12, "E1"), 0);
    CHECK_STR(change.items[0].frame,
              "{\"type\":\"session.ended\",\"org_seq\":12,\"epoch\":\"E1\","
              "\"session_id\":\"s5\"}");
    CHECK_INT(inbox_change_wants_total(&change), 0);
    inbox_change_free(&change);

    CHECK_STR(inbox_event_ends_access("session.ended"), "session_id");
    CHECK_INT(inbox_event_ref_needs("session.ended"),
              INBOX_EVENT_NEEDS_SESSION);

    memset(&ref, 0, sizeof(ref));
    ref.type = "session.ended";
    ref.org_seq = 12;
    ref.epoch = "E1";
    ref.unread_total = -1;
    ref.session_id = "s5";
    CHECK_INT(inbox_event_ref_render(&ref, &frame), 0);
    CHECK_STR(frame, "{\"type\":\"session.ended\",\"org_seq\":12,"
                     "\"epoch\":\"E1\",\"session_id\":\"s5\"}");
    free(frame);

    /* a reference without its session cannot be rendered */
    ref.session_id = NULL;
    CHECK_INT(inbox_event_ref_render(&ref, &frame), 1);
}


/* A change of billing carries the billing as GET /api/v1/billing shows
 * it, and renders the same again from its stored reference with the
 * billing loaded then. */
TEST(billing_updated_carries_the_billing)
{
    char               *frame;
    inbox_change_t      change;
    inbox_event_ref_t   ref;
    inbox_billing_t     billing = { .active = 1, .plan = "per_message",
                                    .balance = 10, .held = 2 };

    inbox_change_billing(&change, &billing);
    CHECK_INT(change.count, 1);
    CHECK_INT(inbox_change_render(&change, 30, "E1"), 0);
    CHECK_STR(change.items[0].frame,
              "{\"type\":\"billing.updated\",\"org_seq\":30,"
              "\"epoch\":\"E1\",\"billing\":{\"active\":true,"
              "\"plan\":\"per_message\",\"credits\":{\"balance\":10,"
              "\"held\":2}}}");
    CHECK_INT(inbox_change_wants_total(&change), 0);
    inbox_change_free(&change);

    CHECK_INT(inbox_event_ref_needs("billing.updated"),
              INBOX_EVENT_NEEDS_BILLING);
    CHECK(inbox_event_ends_access("billing.updated") == NULL);

    memset(&ref, 0, sizeof(ref));
    ref.type = "billing.updated";
    ref.org_seq = 31;
    ref.epoch = "E1";
    ref.unread_total = -1;
    billing.active = 0;
    ref.billing = &billing;
    CHECK_INT(inbox_event_ref_render(&ref, &frame), 0);
    CHECK_STR(frame, "{\"type\":\"billing.updated\",\"org_seq\":31,"
                     "\"epoch\":\"E1\",\"billing\":{\"active\":false,"
                     "\"plan\":\"per_message\",\"credits\":"
                     "{\"balance\":10,\"held\":2}}}");
    free(frame);

    /* without the organization's billing it cannot be rendered */
    ref.billing = NULL;
    CHECK_INT(inbox_event_ref_render(&ref, &frame), 1);
}



/* A change of settings carries them as GET /api/v1/settings shows them
 * (the same renderer), and renders the same again from its stored
 * reference with the settings loaded then. */
TEST(settings_updated_carries_the_settings_as_get_shows_them)
{
    char                *frame, *get, expect[2048];
    size_t               len;
    inbox_change_t       change;
    inbox_event_ref_t    ref;
    inbox_settings_t     settings;

    inbox_settings_defaults(&settings, "Acme");
    settings.quiet_start = 22 * 60;
    strcpy(settings.timezone, "America/Chicago");

    inbox_change_settings(&change, &settings);
    CHECK_INT(change.count, 1);
    CHECK_INT(inbox_change_render(&change, 30, "E1"), 0);
    get = inbox_render_settings(&settings, &len);
    CHECK(get != NULL);
    snprintf(expect, sizeof(expect), "{\"type\":\"settings.updated\","
             "\"org_seq\":30,\"epoch\":\"E1\",\"settings\":%s}", get);
    free(get);
    CHECK_STR(change.items[0].frame, expect);
    CHECK(strstr(expect, "\"timezone\":\"America/Chicago\",\"quiet_hours\":"
                 "{\"start\":\"22:00\",\"end\":\"08:00\"},"
                 "\"business_name\":\"Acme\",\"support_contact\":null,"
                 "\"default_country\":null,\"countries\":[\"") != NULL);
    CHECK_INT(inbox_change_wants_total(&change), 0);
    inbox_change_free(&change);

    CHECK_INT(inbox_event_ref_needs("settings.updated"),
              INBOX_EVENT_NEEDS_SETTINGS);
    CHECK(inbox_event_ends_access("settings.updated") == NULL);

    memset(&ref, 0, sizeof(ref));
    ref.type = "settings.updated";
    ref.org_seq = 31;
    ref.epoch = "E1";
    ref.unread_total = -1;
    strcpy(settings.support_contact, "help@acme.test");
    ref.settings = &settings;
    CHECK_INT(inbox_event_ref_render(&ref, &frame), 0);
    CHECK(strstr(frame, "{\"type\":\"settings.updated\",\"org_seq\":31,"
                        "\"epoch\":\"E1\",\"settings\":{") == frame);
    CHECK(strstr(frame, "\"support_contact\":\"help@acme.test\"") != NULL);
    free(frame);

    /* without the organization's settings it cannot be rendered */
    ref.settings = NULL;
    CHECK_INT(inbox_event_ref_render(&ref, &frame), 1);
}

RUN_TESTS()
