/*
 * Events: the WebSocket frames, the list the store fills, and the
 * datagram that carries a frame to ws-server.
 */
#include <stdlib.h>
#include <string.h>
#include <inbox/event.h>
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
    "\"created_at\":\"2026-11-27T03:04:05.678Z\",\"sent_by\":null}"

#define CONVERSATION_JSON                                                   \
    "{\"id\":\"c1\",\"contact\":{\"id\":\"k1\",\"name\":null,"              \
    "\"phone\":\"+15551234567\",\"opted_out\":false},"                      \
    "\"last_message\":{\"id\":\"m1\",\"direction\":\"inbound\","            \
    "\"preview\":\"hi\",\"at\":\"2026-11-27T03:04:05.678Z\"},"              \
    "\"last_activity_at\":\"2026-11-27T03:04:05.678Z\","                    \
    "\"unread_count\":1,\"archived\":false,\"starred\":false}"


TEST(frames_have_type_seq_and_epoch)
{
    char                  *f;
    inbox_message_t        m;
    inbox_conversation_t   c;

    fixtures(&m, &c);

    f = inbox_event_hello(12, "E1", 3);
    CHECK_STR(f, "{\"type\":\"hello\",\"org_seq\":12,\"epoch\":\"E1\","
                 "\"unread_total\":3}");
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


TEST(list_grows_and_truncates_to_a_savepoint)
{
    int                 i;
    char                org[8];
    inbox_event_list_t  list;

    memset(&list, 0, sizeof(list));

    for (i = 0; i < 20; i++) {
        snprintf(org, sizeof(org), "o%d", i);
        CHECK_INT(inbox_event_list_push(&list, org, i + 1,
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

    CHECK_INT(inbox_event_list_push(&list, "o", 6, NULL), -1);
    CHECK_INT(list.count, 5);

    inbox_event_list_free(&list);
    CHECK_INT(list.count, 0);
    CHECK(list.items == NULL);
}


TEST(datagram_records_round_trip)
{
    char           buf[256], org[INBOX_ID_MAX];
    size_t         used, offset, frame_len, one;
    int64_t        seq;
    const char    *frame;
    inbox_event_t  ev[2];

    strcpy(ev[0].org_id, "65a1f0c2e4b0a1b2c3d4e5f6");
    ev[0].org_seq = 9007199254740993LL;
    ev[0].json = (char *) "{\"type\":\"unread.total\"}";
    ev[0].len = strlen(ev[0].json);

    strcpy(ev[1].org_id, "7");
    ev[1].org_seq = 12;
    ev[1].json = (char *) "{\"type\":\"hello\"}";
    ev[1].len = strlen(ev[1].json);

    used = 0;
    CHECK_INT(inbox_event_record_append(&ev[0], buf, sizeof(buf), &used), 0);
    one = used;
    CHECK_INT(one, strlen("65a1f0c2e4b0a1b2c3d4e5f6 9007199254740993 23\n")
                   + ev[0].len);
    CHECK(memcmp(buf, "65a1f0c2e4b0a1b2c3d4e5f6 9007199254740993 23\n{", 46)
          == 0);
    CHECK_INT(inbox_event_record_append(&ev[1], buf, sizeof(buf), &used), 0);

    offset = 0;
    CHECK_INT(inbox_event_record_next(buf, used, &offset, org, &seq, &frame,
                                      &frame_len), 1);
    CHECK_STR(org, "65a1f0c2e4b0a1b2c3d4e5f6");
    CHECK_INT(seq, 9007199254740993LL);
    CHECK(frame_len == ev[0].len && memcmp(frame, ev[0].json, ev[0].len) == 0);

    CHECK_INT(inbox_event_record_next(buf, used, &offset, org, &seq, &frame,
                                      &frame_len), 1);
    CHECK_STR(org, "7");
    CHECK_INT(seq, 12);
    CHECK(frame_len == ev[1].len && memcmp(frame, ev[1].json, ev[1].len) == 0);

    CHECK_INT(inbox_event_record_next(buf, used, &offset, org, &seq, &frame,
                                      &frame_len), 0);

    /* a record that does not fit leaves the buffer as it was */
    used = 0;
    CHECK_INT(inbox_event_record_append(&ev[0], buf, one - 1, &used), -1);
    CHECK_INT(used, 0);
    CHECK_INT(inbox_event_record_append(&ev[0], buf, one + 1, &used), 0);
    CHECK_INT(inbox_event_record_append(&ev[1], buf, one + 1, &used), -1);
    CHECK_INT(used, one);
}


static int
parse(const char *s)
{
    char         org[INBOX_ID_MAX];
    size_t       frame_len, offset;
    int64_t      seq;
    const char  *frame;

    offset = 0;

    return inbox_event_record_next(s, strlen(s), &offset, org, &seq, &frame,
                                   &frame_len);
}


TEST(datagram_parse_rejects_malformed)
{
    CHECK_INT(parse("42 7 2\n{}"), 1);
    CHECK_INT(parse(""), 0);
    CHECK_INT(parse("42 7 2"), -1);             /* no newline */
    CHECK_INT(parse("42 7 2\n"), -1);           /* no frame */
    CHECK_INT(parse("42 7 3\n{}"), -1);         /* frame cut short */
    CHECK_INT(parse("42 7 0\n{}"), -1);         /* empty frame */
    CHECK_INT(parse("42 7\n{}"), -1);           /* no length */
    CHECK_INT(parse("427 2\n{}"), -1);          /* no seq */
    CHECK_INT(parse(" 7 2\n{}"), -1);           /* no org */
    CHECK_INT(parse("42  2\n{}"), -1);
    CHECK_INT(parse("42 -7 2\n{}"), -1);
    CHECK_INT(parse("42 7x 2\n{}"), -1);
    CHECK_INT(parse("42 1 2 2\n{}"), -1);
    CHECK_INT(parse("42 99999999999999999999 2\n{}"), -1);
    CHECK_INT(parse("0123456789012345678901234567890123 7 2\n{}"), -1);
    CHECK_INT(parse("4\t2 7 2\n{}"), -1);
}


RUN_TESTS()
