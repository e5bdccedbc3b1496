/*
 * The SQLite store, through the public store API only: each test opens a
 * fresh database file under /tmp ("sqlite:PATH") and removes it (with its
 * -wal, -shm and -writer) afterwards.  Flags that no store operation sets
 * yet (archived, starred, replied) are set with SQL on a connection of the
 * test's own, as the future operation would.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include <inbox/clock.h>
#include <inbox/store.h>
#include "check.h"


#define T0          1767225600000LL     /* 2026-01-01T00:00:00Z */
#define MINUTE      60000LL

#define NUMBER      "+15550000001"      /* the test organization's number */
#define OTHER       "+15550000002"      /* another organization's number */
#define ALICE       "+15551234567"
#define BOB         "+15559876543"

#define WRITERS_MESSAGES  20            /* per thread or process */


typedef struct {
    char            path[128];
    inbox_store_t  *store;
    char            org[INBOX_ID_MAX];
} fixture_t;


/* One inbound message with the storage its provider id points to. */
typedef struct {
    char             provider_id[64];
    inbox_inbound_t  in;
} inbound_t;


static unsigned  db_counter;


/* The store at path, made when missing, as inboxctl makes it. */
static inbox_store_t *
store_open(const char *path)
{
    char            uri[160];
    inbox_error_t   err;
    inbox_store_t  *store;

    snprintf(uri, sizeof(uri), "sqlite:%s", path);

    store = inbox_store_create(uri, &err);
    if (store == NULL) {
        fprintf(stderr, "    cannot open %s: %s\n", uri, err.message);
    }

    return store;
}


static void
db_remove(const char *path)
{
    char  name[160];

    unlink(path);
    snprintf(name, sizeof(name), "%s-wal", path);
    unlink(name);
    snprintf(name, sizeof(name), "%s-shm", path);
    unlink(name);
    snprintf(name, sizeof(name), "%s-writer", path);
    unlink(name);
}


static inbox_status_t
org_add(inbox_store_t *store, const char *name, const char *e164,
    char org[INBOX_ID_MAX])
{
    inbox_status_t  status;
    inbox_number_t  number;

    status = inbox_store_org_create(store, name, "UTC", org, NULL);
    if (status != INBOX_OK) {
        return status;
    }

    memset(&number, 0, sizeof(number));
    snprintf(number.org_id, sizeof(number.org_id), "%s", org);
    snprintf(number.e164, sizeof(number.e164), "%s", e164);
    number.carrier = INBOX_CARRIER_TWILIO;
    number.auth_token = (char *) "secret";

    return inbox_store_number_add(store, &number, NULL);
}


/* A new database with one organization owning NUMBER; 0 or -1. */
static int
fixture_open(fixture_t *f)
{
    memset(f, 0, sizeof(fixture_t));
    snprintf(f->path, sizeof(f->path),
             "/tmp/inbox-test-store-sqlite-%ld-%u.db", (long) getpid(),
             ++db_counter);
    db_remove(f->path);

    f->store = store_open(f->path);
    if (f->store == NULL) {
        return -1;
    }

    if (org_add(f->store, "Acme", NUMBER, f->org) != INBOX_OK) {
        fprintf(stderr, "    cannot create the test organization\n");
        return -1;
    }

    return 0;
}


static void
fixture_close(fixture_t *f)
{
    inbox_store_close(f->store);
    f->store = NULL;
    db_remove(f->path);
}


#define FIXTURE(f)                                                          \
    do {                                                                    \
        if (fixture_open(f) != 0) {                                         \
            CHECK(!"fixture");                                              \
            fixture_close(f);                                               \
            return;                                                         \
        }                                                                   \
    } while (0)


static void
inbound_init(inbound_t *m, const char *provider_id, const char *from,
    const char *to, const char *body, int64_t at)
{
    memset(m, 0, sizeof(inbound_t));
    snprintf(m->provider_id, sizeof(m->provider_id), "%s", provider_id);

    m->in.carrier = INBOX_CARRIER_TWILIO;
    m->in.provider_id = m->provider_id;
    snprintf(m->in.from, sizeof(m->in.from), "%s", from);
    snprintf(m->in.to, sizeof(m->in.to), "%s", to);
    m->in.body = body;
    m->in.segments = 1;
    m->in.received_at = at;
}


/* Ingests one message to NUMBER; result may be NULL. */
static inbox_status_t
receive(fixture_t *f, const char *provider_id, const char *from,
    const char *body, int64_t at, inbox_ingest_result_t *result,
    inbox_event_list_t *events)
{
    inbound_t              m;
    inbox_ingest_result_t  unused;

    inbound_init(&m, provider_id, from, NUMBER, body, at);

    return inbox_store_inbound_ingest(f->store, &m.in, 1,
                                      result ? result : &unused, events,
                                      NULL);
}


/* Runs SQL on the store's file through a connection of the test's own. */
static int
db_exec(const fixture_t *f, const char *fmt, ...)
{
    int       rc;
    char      sql[2048];
    va_list   args;
    sqlite3  *db;

    va_start(args, fmt);
    vsnprintf(sql, sizeof(sql), fmt, args);
    va_end(args);

    rc = sqlite3_open(f->path, &db);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    }

    sqlite3_close(db);
    return rc;
}


static int64_t
db_int(const fixture_t *f, const char *sql)
{
    int64_t        value;
    sqlite3       *db;
    sqlite3_stmt  *stmt;

    value = -1;

    if (sqlite3_open(f->path, &db) == SQLITE_OK
        && sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK)
    {
        if (sqlite3_step(stmt) == SQLITE_ROW) {
            value = sqlite3_column_int64(stmt, 0);
        }

        sqlite3_finalize(stmt);
    }

    sqlite3_close(db);
    return value;
}


/* One page of the organization's conversations (up to the maximum). */
static inbox_status_t
list(fixture_t *f, const char *org, inbox_filter_t filter, const char *q,
    inbox_conversation_page_t *page)
{
    inbox_conversation_query_t  query;

    memset(&query, 0, sizeof(query));
    query.filter = filter;
    query.q = q;
    query.limit = INBOX_LIST_LIMIT_MAX;

    return inbox_store_conversations_list(f->store, org, &query, page, NULL);
}


/* How many conversations the filter and search show; -1 on failure. */
static long
list_count(fixture_t *f, inbox_filter_t filter, const char *q)
{
    long                       count;
    inbox_conversation_page_t  page;

    count = -1;

    if (list(f, f->org, filter, q, &page) == INBOX_OK) {
        count = (long) page.count;
    }

    inbox_conversation_page_free(&page);
    return count;
}


/* Whether a one-page list shows the contact with that phone number. */
static int
list_shows(fixture_t *f, inbox_filter_t filter, const char *q,
    const char *phone)
{
    int                        found;
    size_t                     i;
    inbox_conversation_page_t  page;

    found = 0;

    if (list(f, f->org, filter, q, &page) == INBOX_OK) {
        for (i = 0; i < page.count; i++) {
            if (strcmp(page.items[i].contact.phone, phone) == 0) {
                found = 1;
            }
        }
    }

    inbox_conversation_page_free(&page);
    return found;
}


/* Messages of a conversation on one page; -1 on failure. */
static long
message_count(fixture_t *f, const char *conversation)
{
    long                  count;
    inbox_message_page_t  page;

    count = -1;

    if (inbox_store_messages_list(f->store, f->org, conversation, NULL,
                                  INBOX_LIST_LIMIT_MAX, &page, NULL)
        == INBOX_OK)
    {
        count = (long) page.count;
    }

    inbox_message_page_free(&page);
    return count;
}


static int64_t
org_seq(fixture_t *f, const char *org)
{
    inbox_realtime_state_t  state;

    if (inbox_store_realtime_state(f->store, org, &state, NULL) != INBOX_OK) {
        return -1;
    }

    return state.org_seq;
}


/* Every byte sequence is a whole UTF-8 character. */
static int
utf8_valid(const char *s)
{
    size_t               i, n;
    const unsigned char *p = (const unsigned char *) s;

    while (*p) {
        n = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1
            : (*p & 0xf0) == 0xe0 ? 2 : (*p & 0xf8) == 0xf0 ? 3 : 4;

        if (n == 4) {
            return 0;
        }

        for (i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80) {
                return 0;
            }
        }

        p += n + 1;
    }

    return 1;
}


static int64_t
monotonic_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/* Idempotent ingest */

TEST(a_carrier_retry_across_batches_is_stored_once)
{
    size_t                 i;
    fixture_t              f;
    inbox_event_list_t     events;
    inbox_ingest_result_t  results[5];
    inbox_conversation_t   c;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    for (i = 0; i < 5; i++) {
        CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, &results[i],
                          &events), INBOX_OK);
    }

    CHECK_INT(results[0].status, INBOX_OK);
    CHECK_INT(results[0].duplicate, 0);
    CHECK(results[0].message_id[0] != '\0');

    for (i = 1; i < 5; i++) {
        CHECK_INT(results[i].status, INBOX_OK);
        CHECK_INT(results[i].duplicate, 1);
        CHECK_STR(results[i].message_id, results[0].message_id);
        CHECK_STR(results[i].conversation_id, results[0].conversation_id);
    }

    /* only the first one tells the browsers */
    CHECK_INT(events.count, 3);
    CHECK_INT(message_count(&f, results[0].conversation_id), 1);

    CHECK_INT(inbox_store_conversation_get(f.store, f.org,
                                           results[0].conversation_id, &c,
                                           NULL), INBOX_OK);
    CHECK_INT(c.unread_count, 1);
    inbox_conversation_free(&c);

    CHECK_INT(org_seq(&f, f.org), 3);

    inbox_event_list_free(&events);
    fixture_close(&f);
}


TEST(a_carrier_retry_within_the_same_batch_is_stored_once)
{
    size_t                     i;
    fixture_t                  f;
    inbound_t                  m;
    inbox_inbound_t            batch[5];
    inbox_event_list_t         events;
    inbox_ingest_result_t      results[5], again;
    inbox_conversation_page_t  page;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    inbound_init(&m, "SM1", ALICE, NUMBER, "hello", T0);

    for (i = 0; i < 5; i++) {
        batch[i] = m.in;
    }

    CHECK_INT(inbox_store_inbound_ingest(f.store, batch, 5, results, &events,
                                         NULL), INBOX_OK);

    CHECK_INT(results[0].status, INBOX_OK);
    CHECK_INT(results[0].duplicate, 0);
    CHECK(results[0].message_id[0] != '\0');

    for (i = 1; i < 5; i++) {
        CHECK_INT(results[i].status, INBOX_OK);
        CHECK_INT(results[i].duplicate, 1);
        CHECK_STR(results[i].message_id, results[0].message_id);
        CHECK_STR(results[i].conversation_id, results[0].conversation_id);
    }

    CHECK_INT(events.count, 3);

    /* and once more, in a batch of its own */
    inbox_event_list_free(&events);
    CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, &again, &events),
              INBOX_OK);
    CHECK_INT(again.duplicate, 1);
    CHECK_STR(again.message_id, results[0].message_id);
    CHECK_INT(events.count, 0);

    CHECK_INT(list(&f, f.org, INBOX_FILTER_ALL, NULL, &page), INBOX_OK);
    CHECK_INT(page.count, 1);
    CHECK_INT(page.unread_total, 1);
    if (page.count == 1) {
        CHECK_INT(page.items[0].unread_count, 1);
    }
    inbox_conversation_page_free(&page);

    CHECK_INT(message_count(&f, results[0].conversation_id), 1);
    CHECK_INT(org_seq(&f, f.org), 3);

    inbox_event_list_free(&events);
    fixture_close(&f);
}


/* Unread counts */

TEST(unread_counts_each_inbound_message_and_the_org_total)
{
    fixture_t                  f;
    inbox_ingest_result_t      alice, bob;
    inbox_conversation_t       c;
    inbox_conversation_page_t  page;
    inbox_realtime_state_t     state;

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", ALICE, "one", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", ALICE, "two", T0 + 1, &alice, NULL),
              INBOX_OK);
    CHECK_INT(receive(&f, "SM3", BOB, "hi", T0 + 2, &bob, NULL), INBOX_OK);

    CHECK_INT(inbox_store_conversation_get(f.store, f.org,
                                           alice.conversation_id, &c, NULL),
              INBOX_OK);
    CHECK_INT(c.unread_count, 2);
    inbox_conversation_free(&c);

    CHECK_INT(list(&f, f.org, INBOX_FILTER_ALL, NULL, &page), INBOX_OK);
    CHECK_INT(page.unread_total, 3);
    inbox_conversation_page_free(&page);

    /* an archived thread's unread messages leave the total */
    CHECK_INT(db_exec(&f, "UPDATE conversations SET archived = 1"
                          " WHERE id = %s", alice.conversation_id),
              SQLITE_OK);

    CHECK_INT(list(&f, f.org, INBOX_FILTER_ALL, NULL, &page), INBOX_OK);
    CHECK_INT(page.unread_total, 1);
    inbox_conversation_page_free(&page);

    CHECK_INT(inbox_store_realtime_state(f.store, f.org, &state, NULL),
              INBOX_OK);
    CHECK_INT(state.unread_total, 1);

    fixture_close(&f);
}


/* Batches */

TEST(a_message_to_an_unknown_number_fails_alone)
{
    size_t                 i;
    fixture_t              f;
    inbound_t              m[3];
    inbox_inbound_t        batch[3];
    inbox_event_list_t     events;
    inbox_ingest_result_t  results[3];

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    inbound_init(&m[0], "SM1", ALICE, NUMBER, "first", T0);
    inbound_init(&m[1], "SM2", BOB, "+15550009999", "lost", T0 + 1);
    inbound_init(&m[2], "SM3", BOB, NUMBER, "third", T0 + 2);

    for (i = 0; i < 3; i++) {
        batch[i] = m[i].in;
    }

    CHECK_INT(inbox_store_inbound_ingest(f.store, batch, 3, results, &events,
                                         NULL), INBOX_OK);

    CHECK_INT(results[0].status, INBOX_OK);
    CHECK_INT(results[1].status, INBOX_ERR_NOT_FOUND);
    CHECK_INT(results[2].status, INBOX_OK);
    CHECK_STR(results[1].message_id, "");

    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, NULL), 2);
    CHECK_INT(message_count(&f, results[0].conversation_id), 1);
    CHECK_INT(message_count(&f, results[2].conversation_id), 1);

    CHECK_INT(events.count, 6);
    CHECK_INT(org_seq(&f, f.org), 6);

    inbox_event_list_free(&events);
    fixture_close(&f);
}


/* Archived threads */

TEST(a_new_inbound_message_brings_an_archived_thread_back)
{
    fixture_t              f;
    inbox_ingest_result_t  r;
    inbox_conversation_t   c;

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, &r, NULL), INBOX_OK);
    CHECK_INT(db_exec(&f, "UPDATE conversations SET archived = 1,"
                          " unread_count = 0 WHERE id = %s",
                      r.conversation_id), SQLITE_OK);

    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, NULL), 0);
    CHECK_INT(list_count(&f, INBOX_FILTER_ARCHIVED, NULL), 1);

    CHECK_INT(receive(&f, "SM2", ALICE, "again", T0 + MINUTE, &r, NULL),
              INBOX_OK);

    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, NULL), 1);
    CHECK_INT(list_count(&f, INBOX_FILTER_ARCHIVED, NULL), 0);

    CHECK_INT(inbox_store_conversation_get(f.store, f.org, r.conversation_id,
                                           &c, NULL), INBOX_OK);
    CHECK_INT(c.archived, 0);
    CHECK_INT(c.unread_count, 1);
    CHECK_STR(c.last_message.preview, "again");
    inbox_conversation_free(&c);

    fixture_close(&f);
}


/* The conversation list */

TEST(conversations_page_newest_first_without_gaps)
{
    int                         i, page_no, seen[7];
    char                        provider[16], phone[INBOX_PHONE_MAX];
    char                        cursor[INBOX_CURSOR_MAX];
    size_t                      j, sizes[3];
    fixture_t                   f;
    inbox_conversation_page_t   page;
    inbox_conversation_query_t  query;

    FIXTURE(&f);

    for (i = 0; i < 7; i++) {
        snprintf(provider, sizeof(provider), "SM%d", i);
        snprintf(phone, sizeof(phone), "+1555100000%d", i);
        CHECK_INT(receive(&f, provider, phone, "hi", T0 + i * MINUTE, NULL,
                          NULL), INBOX_OK);
        seen[i] = 0;
    }

    memset(&query, 0, sizeof(query));
    query.limit = 3;
    cursor[0] = '\0';
    i = 6;    /* the newest contact comes first */

    for (page_no = 0; page_no < 3; page_no++) {
        query.cursor = cursor;

        CHECK_INT(inbox_store_conversations_list(f.store, f.org, &query,
                                                 &page, NULL), INBOX_OK);
        sizes[page_no] = page.count;
        CHECK_INT(page.unread_total, 7);

        for (j = 0; j < page.count; j++, i--) {
            snprintf(phone, sizeof(phone), "+1555100000%d", i);
            CHECK_STR(page.items[j].contact.phone, phone);

            if (i >= 0) {
                seen[i]++;
            }
        }

        snprintf(cursor, sizeof(cursor), "%s", page.next_cursor);
        inbox_conversation_page_free(&page);

        if (page_no < 2) {
            CHECK(cursor[0] != '\0');
        }
    }

    CHECK_INT(sizes[0], 3);
    CHECK_INT(sizes[1], 3);
    CHECK_INT(sizes[2], 1);
    CHECK_STR(cursor, "");

    for (i = 0; i < 7; i++) {
        CHECK_INT(seen[i], 1);
    }

    fixture_close(&f);
}


TEST(conversations_page_through_equal_times_without_gaps)
{
    int                         i, seen[4];
    char                        provider[16], phone[INBOX_PHONE_MAX];
    char                        cursor[INBOX_CURSOR_MAX];
    size_t                      j, pages;
    fixture_t                   f;
    inbox_conversation_page_t   page;
    inbox_conversation_query_t  query;

    FIXTURE(&f);

    /* a burst: four threads with the same last activity */
    for (i = 0; i < 4; i++) {
        snprintf(provider, sizeof(provider), "SM%d", i);
        snprintf(phone, sizeof(phone), "+1555200000%d", i);
        CHECK_INT(receive(&f, provider, phone, "hi", T0, NULL, NULL),
                  INBOX_OK);
        seen[i] = 0;
    }

    memset(&query, 0, sizeof(query));
    query.limit = 3;
    cursor[0] = '\0';
    pages = 0;

    do {
        query.cursor = cursor;
        CHECK_INT(inbox_store_conversations_list(f.store, f.org, &query,
                                                 &page, NULL), INBOX_OK);
        pages++;

        for (j = 0; j < page.count; j++) {
            i = page.items[j].contact.phone[11] - '0';
            if (i >= 0 && i < 4) {
                seen[i]++;
            }
        }

        snprintf(cursor, sizeof(cursor), "%s", page.next_cursor);
        inbox_conversation_page_free(&page);

    } while (cursor[0] != '\0' && pages < 10);

    CHECK_INT(pages, 2);

    for (i = 0; i < 4; i++) {
        CHECK_INT(seen[i], 1);
    }

    fixture_close(&f);
}


TEST(a_garbage_cursor_is_invalid)
{
    fixture_t                   f;
    inbox_error_t               err;
    inbox_ingest_result_t       r;
    inbox_message_page_t        messages;
    inbox_conversation_page_t   page;
    inbox_conversation_query_t  query;

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &r, NULL), INBOX_OK);

    memset(&query, 0, sizeof(query));
    query.limit = 3;

    query.cursor = "not a cursor!";
    CHECK_INT(inbox_store_conversations_list(f.store, f.org, &query, &page,
                                             &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "cursor");
    inbox_conversation_page_free(&page);

    query.cursor = "Zm9vYmFy";    /* base64url, but of "foobar" */
    CHECK_INT(inbox_store_conversations_list(f.store, f.org, &query, &page,
                                             NULL), INBOX_ERR_INVALID);
    inbox_conversation_page_free(&page);

    CHECK_INT(inbox_store_messages_list(f.store, f.org, r.conversation_id,
                                        "not a cursor!", 10, &messages,
                                        NULL), INBOX_ERR_INVALID);
    inbox_message_page_free(&messages);

    fixture_close(&f);
}


/*
 * Alice: unread, unresponded.  Bob: read, unresponded.  Carol: answered.
 * Dave: starred, unread.  Erin: archived.
 */
TEST(filters_show_the_threads_they_name)
{
    char                   id[INBOX_ID_MAX];
    fixture_t              f;
    inbox_ingest_result_t  alice, bob, carol, dave, erin;

    FIXTURE(&f);

    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, ALICE, "Alice Walker",
                                         id, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, BOB, "Bob Stone", id,
                                         NULL), INBOX_OK);

    CHECK_INT(receive(&f, "SM1", ALICE, "a", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "b", T0 + 1, &bob, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM3", "+15553334444", "c", T0 + 2, &carol, NULL),
              INBOX_OK);
    CHECK_INT(receive(&f, "SM4", "+15554445555", "d", T0 + 3, &dave, NULL),
              INBOX_OK);
    CHECK_INT(receive(&f, "SM5", "+15556667777", "e", T0 + 4, &erin, NULL),
              INBOX_OK);

    CHECK_INT(db_exec(&f, "UPDATE conversations SET unread_count = 0"
                          " WHERE id = %s", bob.conversation_id), SQLITE_OK);
    CHECK_INT(db_exec(&f, "UPDATE conversations SET unread_count = 0,"
                          " last_direction = 'outbound' WHERE id = %s",
                      carol.conversation_id), SQLITE_OK);
    CHECK_INT(db_exec(&f, "UPDATE conversations SET starred = 1"
                          " WHERE id = %s", dave.conversation_id), SQLITE_OK);
    CHECK_INT(db_exec(&f, "UPDATE conversations SET archived = 1"
                          " WHERE id = %s", erin.conversation_id), SQLITE_OK);

    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, NULL), 4);
    CHECK(!list_shows(&f, INBOX_FILTER_ALL, NULL, "+15556667777"));

    CHECK_INT(list_count(&f, INBOX_FILTER_UNREAD, NULL), 2);
    CHECK(list_shows(&f, INBOX_FILTER_UNREAD, NULL, ALICE));
    CHECK(list_shows(&f, INBOX_FILTER_UNREAD, NULL, "+15554445555"));

    CHECK_INT(list_count(&f, INBOX_FILTER_UNRESPONDED, NULL), 3);
    CHECK(!list_shows(&f, INBOX_FILTER_UNRESPONDED, NULL, "+15553334444"));

    CHECK_INT(list_count(&f, INBOX_FILTER_STARRED, NULL), 1);
    CHECK(list_shows(&f, INBOX_FILTER_STARRED, NULL, "+15554445555"));

    CHECK_INT(list_count(&f, INBOX_FILTER_ARCHIVED, NULL), 1);
    CHECK(list_shows(&f, INBOX_FILTER_ARCHIVED, NULL, "+15556667777"));

    /* a starred thread that is archived shows only under archived */
    CHECK_INT(db_exec(&f, "UPDATE conversations SET archived = 1"
                          " WHERE id = %s", dave.conversation_id), SQLITE_OK);
    CHECK_INT(list_count(&f, INBOX_FILTER_STARRED, NULL), 0);
    CHECK_INT(list_count(&f, INBOX_FILTER_UNREAD, NULL), 1);
    CHECK_INT(list_count(&f, INBOX_FILTER_ARCHIVED, NULL), 2);

    fixture_close(&f);
}


TEST(search_matches_part_of_a_name_or_a_formatted_number)
{
    char                       id[INBOX_ID_MAX];
    fixture_t                  f;
    inbox_conversation_page_t  page;

    FIXTURE(&f);

    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, ALICE, "Alice Walker",
                                         id, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, BOB, "Bob Stone", id,
                                         NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM1", ALICE, "a", T0, NULL, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "b", T0 + 1, NULL, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM3", "+15556667777", "c", T0 + 2, NULL, NULL),
              INBOX_OK);

    /* a name part, whatever the case */
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "walk"), 1);
    CHECK(list_shows(&f, INBOX_FILTER_ALL, "walk", ALICE));
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "ALICE"), 1);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "sTOnE"), 1);
    CHECK(list_shows(&f, INBOX_FILTER_ALL, "sTOnE", BOB));

    /* digits as people type them */
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "(555) 12"), 1);
    CHECK(list_shows(&f, INBOX_FILTER_ALL, "(555) 12", ALICE));
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "555-98"), 1);
    CHECK(list_shows(&f, INBOX_FILTER_ALL, "555-98", BOB));
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "+1555987"), 1);
    CHECK(list_shows(&f, INBOX_FILTER_ALL, "+1555987", BOB));
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "666 7777"), 1);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "555"), 3);

    /* search and filter together */
    CHECK_INT(list_count(&f, INBOX_FILTER_UNREAD, "alice"), 1);

    CHECK_INT(list(&f, f.org, INBOX_FILTER_ALL, "zelda", &page), INBOX_OK);
    CHECK_INT(page.count, 0);
    CHECK_STR(page.next_cursor, "");
    CHECK_INT(page.unread_total, 3);
    inbox_conversation_page_free(&page);

    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "(444) 99"), 0);

    fixture_close(&f);
}


TEST(another_orgs_conversation_is_not_found)
{
    char                   other[INBOX_ID_MAX];
    fixture_t              f;
    inbound_t              m;
    inbox_error_t          err;
    inbox_event_list_t     events;
    inbox_ingest_result_t  r;
    inbox_conversation_t   c;
    inbox_message_page_t   messages;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);

    inbound_init(&m, "SM1", ALICE, OTHER, "for the other org", T0);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &r, &events,
                                         NULL), INBOX_OK);
    CHECK_INT(r.status, INBOX_OK);

    CHECK_INT(inbox_store_conversation_get(f.store, f.org, r.conversation_id,
                                           &c, &err), INBOX_ERR_NOT_FOUND);
    inbox_conversation_free(&c);

    CHECK_INT(inbox_store_messages_list(f.store, f.org, r.conversation_id,
                                        NULL, 10, &messages, NULL),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(messages.count, 0);
    inbox_message_page_free(&messages);

    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, NULL), 0);
    CHECK_INT(org_seq(&f, f.org), 0);

    /* the owner sees it, and its events are addressed to it */
    CHECK_INT(inbox_store_conversation_get(f.store, other, r.conversation_id,
                                           &c, NULL), INBOX_OK);
    inbox_conversation_free(&c);

    CHECK_INT(events.count, 3);
    if (events.count == 3) {
        CHECK_STR(events.items[0].org_id, other);
    }

    inbox_event_list_free(&events);
    fixture_close(&f);
}


/* Messages */

TEST(messages_page_newest_first_also_through_equal_times)
{
    int                    i, seen[6];
    char                   provider[16], body[16], cursor[INBOX_CURSOR_MAX];
    size_t                 j, pages;
    int64_t                last_at;
    fixture_t              f;
    inbox_message_page_t   page;
    inbox_ingest_result_t  r;

    FIXTURE(&f);

    /* messages 3 and 4 arrive in the same millisecond, across a page end */
    for (i = 0; i < 6; i++) {
        snprintf(provider, sizeof(provider), "SM%d", i);
        snprintf(body, sizeof(body), "m%d", i);
        CHECK_INT(receive(&f, provider, ALICE, body,
                          T0 + (i == 4 ? 3 : i) * 1000, &r, NULL), INBOX_OK);
        seen[i] = 0;
    }

    cursor[0] = '\0';
    last_at = INT64_MAX;
    pages = 0;

    do {
        CHECK_INT(inbox_store_messages_list(f.store, f.org, r.conversation_id,
                                            cursor, 2, &page, NULL),
                  INBOX_OK);
        pages++;

        for (j = 0; j < page.count; j++) {
            CHECK(page.items[j].created_at <= last_at);
            last_at = page.items[j].created_at;
            CHECK_INT(page.items[j].direction, INBOX_INBOUND);
            CHECK_STR(page.items[j].conversation_id, r.conversation_id);

            i = page.items[j].body ? atoi(page.items[j].body + 1) : -1;
            if (i >= 0 && i < 6) {
                seen[i]++;
            }
        }

        if (pages == 1 && page.count == 2) {
            CHECK_STR(page.items[0].body, "m5");
            CHECK_STR(page.items[1].body, "m4");
        }

        snprintf(cursor, sizeof(cursor), "%s", page.next_cursor);
        inbox_message_page_free(&page);

    } while (cursor[0] != '\0' && pages < 10);

    CHECK_INT(pages, 3);

    for (i = 0; i < 6; i++) {
        CHECK_INT(seen[i], 1);
    }

    fixture_close(&f);
}


TEST(a_message_keeps_its_media_in_order)
{
    size_t                 i;
    fixture_t              f;
    inbound_t              m;
    inbox_ingest_result_t  r;
    inbox_message_page_t   page;

    static const char     *types[3] = { "image/jpeg", "image/png",
                                        "image/gif" };

    FIXTURE(&f);

    inbound_init(&m, "MM1", ALICE, NUMBER, "three pictures", T0);
    m.in.media_count = 3;

    for (i = 0; i < 3; i++) {
        snprintf(m.in.media[i].url, sizeof(m.in.media[i].url),
                 "https://api.twilio.com/media/ME%zu", i);
        snprintf(m.in.media[i].content_type,
                 sizeof(m.in.media[i].content_type), "%s", types[i]);
    }

    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &r, NULL, NULL),
              INBOX_OK);

    CHECK_INT(inbox_store_messages_list(f.store, f.org, r.conversation_id,
                                        NULL, 10, &page, NULL), INBOX_OK);
    CHECK_INT(page.count, 1);

    if (page.count == 1) {
        CHECK_STR(page.items[0].body, "three pictures");
        CHECK_INT(page.items[0].media_count, 3);

        for (i = 0; i < 3 && i < page.items[0].media_count; i++) {
            CHECK_STR(page.items[0].media[i].url, m.in.media[i].url);
            CHECK_STR(page.items[0].media[i].content_type, types[i]);
        }
    }

    inbox_message_page_free(&page);
    fixture_close(&f);
}


/* Events */

TEST(each_new_message_appends_three_events_in_sequence)
{
    char                    want[128];
    size_t                  i;
    fixture_t               f;
    inbound_t               m[2];
    inbox_inbound_t         batch[2];
    inbox_event_list_t      events;
    inbox_realtime_state_t  state;
    inbox_ingest_result_t   results[2];

    static const char      *types[3] = {
        "message.created", "conversation.updated", "unread.total"
    };

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    CHECK_INT(inbox_store_realtime_state(f.store, f.org, &state, NULL),
              INBOX_OK);
    CHECK_INT(state.org_seq, 0);
    CHECK(state.epoch[0] != '\0');

    /* two messages in one batch, then one in another */
    inbound_init(&m[0], "SM1", ALICE, NUMBER, "first", T0);
    inbound_init(&m[1], "SM2", BOB, NUMBER, "second", T0 + 1);
    batch[0] = m[0].in;
    batch[1] = m[1].in;

    CHECK_INT(inbox_store_inbound_ingest(f.store, batch, 2, results, &events,
                                         NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM3", ALICE, "third", T0 + 2, results, &events),
              INBOX_OK);

    CHECK_INT(events.count, 9);

    for (i = 0; i < events.count; i++) {
        CHECK_INT(events.items[i].org_seq, (int64_t) i + 1);
        CHECK_STR(events.items[i].org_id, f.org);
        CHECK_INT(events.items[i].len, strlen(events.items[i].json));

        snprintf(want, sizeof(want), "\"type\":\"%s\"", types[i % 3]);
        CHECK(strstr(events.items[i].json, want) != NULL);

        snprintf(want, sizeof(want), "\"org_seq\":%zu", i + 1);
        CHECK(strstr(events.items[i].json, want) != NULL);

        snprintf(want, sizeof(want), "\"epoch\":\"%s\"", state.epoch);
        CHECK(strstr(events.items[i].json, want) != NULL);
    }

    if (events.count == 9) {
        CHECK(strstr(events.items[0].json, "\"body\":\"first\"") != NULL);
        CHECK(strstr(events.items[3].json, "\"body\":\"second\"") != NULL);
        /* Alice's thread has two unread now; the org three */
        CHECK(strstr(events.items[7].json, "\"unread_count\":2") != NULL);
        CHECK(strstr(events.items[8].json, "\"count\":3") != NULL);
    }

    /* a WebSocket "hello" now starts after the last event */
    if (events.count > 0) {
        CHECK_INT(org_seq(&f, f.org), events.items[events.count - 1].org_seq);
    }

    inbox_event_list_free(&events);
    fixture_close(&f);
}


/* Previews */

TEST(a_long_preview_is_cut_between_utf8_characters)
{
    char                   body[256];
    size_t                 i, len;
    fixture_t              f;
    inbox_conversation_t   c;
    inbox_ingest_result_t  r;

    FIXTURE(&f);

    /* "ab" then 4-byte emoji: byte 160 falls inside the 40th emoji */
    memcpy(body, "ab", 2);
    len = 2;

    for (i = 0; i < 50; i++) {
        memcpy(body + len, "\xf0\x9f\x98\x80", 4);
        len += 4;
    }

    body[len] = '\0';

    CHECK_INT(receive(&f, "SM1", ALICE, body, T0, &r, NULL), INBOX_OK);
    CHECK_INT(inbox_store_conversation_get(f.store, f.org, r.conversation_id,
                                           &c, NULL), INBOX_OK);

    len = strlen(c.last_message.preview);
    CHECK(len < INBOX_PREVIEW_MAX);
    CHECK(len >= INBOX_PREVIEW_MAX - 4);
    CHECK(utf8_valid(c.last_message.preview));
    CHECK(strncmp(c.last_message.preview, body, len) == 0);

    inbox_conversation_free(&c);
    fixture_close(&f);
}


TEST(a_media_only_message_has_a_preview)
{
    fixture_t              f;
    inbound_t              m;
    inbox_conversation_t   c;
    inbox_ingest_result_t  r;

    FIXTURE(&f);

    inbound_init(&m, "MM1", ALICE, NUMBER, "", T0);
    m.in.media_count = 1;
    snprintf(m.in.media[0].url, sizeof(m.in.media[0].url),
             "https://api.twilio.com/media/ME1");
    snprintf(m.in.media[0].content_type, sizeof(m.in.media[0].content_type),
             "image/png");

    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &r, NULL, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_conversation_get(f.store, f.org, r.conversation_id,
                                           &c, NULL), INBOX_OK);
    CHECK(c.has_last_message);
    CHECK(c.last_message.preview[0] != '\0');
    inbox_conversation_free(&c);

    fixture_close(&f);
}


/* Administration */

TEST(a_number_cannot_belong_to_two_orgs)
{
    char            other[INBOX_ID_MAX];
    fixture_t       f;
    inbox_number_t  number;

    FIXTURE(&f);

    CHECK_INT(inbox_store_org_create(f.store, "Other", NULL, other, NULL),
              INBOX_OK);

    memset(&number, 0, sizeof(number));
    snprintf(number.org_id, sizeof(number.org_id), "%s", other);
    snprintf(number.e164, sizeof(number.e164), "%s", NUMBER);
    CHECK_INT(inbox_store_number_add(f.store, &number, NULL),
              INBOX_ERR_CONFLICT);

    snprintf(number.org_id, sizeof(number.org_id), "%s", f.org);
    CHECK_INT(inbox_store_number_add(f.store, &number, NULL),
              INBOX_ERR_CONFLICT);

    /* still the first owner's, with its auth token */
    CHECK_INT(inbox_store_number_find(f.store, NUMBER, &number, NULL),
              INBOX_OK);
    CHECK_STR(number.org_id, f.org);
    CHECK_STR(number.auth_token, "secret");
    inbox_number_free(&number);

    fixture_close(&f);
}


TEST(an_email_cannot_belong_to_two_users)
{
    char       id[INBOX_ID_MAX];
    fixture_t  f;

    FIXTURE(&f);

    CHECK_INT(inbox_store_user_add(f.store, f.org, "ann@example.com",
                                   INBOX_ROLE_MEMBER, "hash", id, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_user_add(f.store, f.org, "ann@example.com",
                                   INBOX_ROLE_BILLING, "hash", id, NULL),
              INBOX_ERR_CONFLICT);
    CHECK_INT(inbox_store_user_add(f.store, f.org, "Ann@Example.com",
                                   INBOX_ROLE_MEMBER, "hash", id, NULL),
              INBOX_ERR_CONFLICT);

    fixture_close(&f);
}


/* Adds a token to the fixture's organization; id may be NULL. */
static inbox_status_t
token_add(fixture_t *f, const char *email, const char *hash,
    const char *name, int64_t expires_at, char id[INBOX_ID_MAX])
{
    return inbox_store_token_add(f->store, f->org, email, hash, name,
                                 expires_at, id, NULL);
}


TEST(a_token_names_its_org_and_role)
{
    char               billing[INBOX_ID_MAX], member[INBOX_ID_MAX];
    fixture_t          f;
    inbox_error_t      err;
    inbox_principal_t  who;

    FIXTURE(&f);

    CHECK_INT(inbox_store_user_add(f.store, f.org, "pay@example.com",
                                   INBOX_ROLE_BILLING, "hash", billing, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_user_add(f.store, f.org, "sam@example.com",
                                   INBOX_ROLE_MEMBER, "hash", member, NULL),
              INBOX_OK);

    CHECK_INT(token_add(&f, "pay@example.com", "h1", NULL, 0, NULL), INBOX_OK);
    CHECK_INT(token_add(&f, "sam@example.com", "h2", NULL, 0, NULL), INBOX_OK);
    CHECK_INT(token_add(&f, NULL, "h3", NULL, 0, NULL), INBOX_OK);

    CHECK_INT(inbox_store_token_find(f.store, "h1", &who, NULL), INBOX_OK);
    CHECK_STR(who.org_id, f.org);
    CHECK_STR(who.user_id, billing);
    CHECK_INT(who.role, INBOX_ROLE_BILLING);

    CHECK_INT(inbox_store_token_find(f.store, "h2", &who, NULL), INBOX_OK);
    CHECK_STR(who.user_id, member);
    CHECK_INT(who.role, INBOX_ROLE_MEMBER);

    /* an org-wide token acts as a member */
    CHECK_INT(inbox_store_token_find(f.store, "h3", &who, NULL), INBOX_OK);
    CHECK_STR(who.org_id, f.org);
    CHECK_STR(who.user_id, "");
    CHECK_INT(who.role, INBOX_ROLE_MEMBER);

    CHECK_INT(inbox_store_token_find(f.store, "unknown", &who, &err),
              INBOX_ERR_UNAUTHENTICATED);
    CHECK_INT(err.code, INBOX_ERR_UNAUTHENTICATED);

    /* a user of the org only */
    CHECK_INT(token_add(&f, "nobody@example.com", "h4", NULL, 0, NULL),
              INBOX_ERR_NOT_FOUND);

    fixture_close(&f);
}


TEST(tokens_list_names_users_and_times_oldest_first)
{
    char                ci[INBOX_ID_MAX], org_wide[INBOX_ID_MAX];
    char                other[INBOX_ID_MAX], user[INBOX_ID_MAX];
    int64_t             before, later;
    fixture_t           f;
    inbox_error_t       err;
    inbox_token_list_t  list;

    FIXTURE(&f);

    CHECK_INT(inbox_store_user_add(f.store, f.org, "pat@example.com",
                                   INBOX_ROLE_MEMBER, "hash", user, NULL),
              INBOX_OK);

    /* an organization without tokens lists none */
    CHECK_INT(inbox_store_tokens_list(f.store, f.org, &list, &err), INBOX_OK);
    CHECK_INT(list.count, 0);
    inbox_token_list_free(&list);

    before = inbox_now_ms();
    later = before + 30LL * 86400000;
    CHECK_INT(token_add(&f, "pat@example.com", "h1", "ci-deploy", later, ci),
              INBOX_OK);
    CHECK_INT(token_add(&f, NULL, "h2", NULL, 0, org_wide), INBOX_OK);
    CHECK(strcmp(ci, org_wide) != 0);

    /* another organization's token is not listed */
    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);
    CHECK_INT(inbox_store_token_add(f.store, other, NULL, "h3", "theirs", 0,
                                    NULL, NULL), INBOX_OK);

    CHECK_INT(inbox_store_tokens_list(f.store, f.org, &list, &err), INBOX_OK);
    CHECK_INT(list.count, 2);
    CHECK_INT(list.truncated, 0);

    if (list.count == 2) {
        CHECK_STR(list.items[0].id, ci);
        CHECK_STR(list.items[0].name, "ci-deploy");
        CHECK_STR(list.items[0].user_email, "pat@example.com");
        CHECK(list.items[0].created_at >= before);
        CHECK_INT(list.items[0].expires_at, later);
        CHECK_INT(list.items[0].revoked_at, 0);

        CHECK_STR(list.items[1].id, org_wide);
        CHECK_STR(list.items[1].name, "");
        CHECK_STR(list.items[1].user_email, "");
        CHECK_INT(list.items[1].expires_at, 0);
    }

    inbox_token_list_free(&list);

    CHECK_INT(inbox_store_tokens_list(f.store, "999999", &list, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(list.count, 0);
    CHECK_INT(inbox_store_tokens_list(f.store, "x", &list, &err),
              INBOX_ERR_NOT_FOUND);

    fixture_close(&f);
}


TEST(token_names_and_expiries_are_checked_before_storing)
{
    char                long_name[66];
    fixture_t           f;
    inbox_error_t       err;
    inbox_token_list_t  list;

    FIXTURE(&f);

    CHECK_INT(inbox_store_token_add(f.store, f.org, NULL, "h1", "two words",
                                    0, NULL, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "name");
    CHECK_INT(token_add(&f, NULL, "h1", "tab\there", 0, NULL),
              INBOX_ERR_INVALID);
    memset(long_name, 'x', 65);
    long_name[65] = '\0';
    CHECK_INT(token_add(&f, NULL, "h1", long_name, 0, NULL),
              INBOX_ERR_INVALID);
    CHECK_INT(inbox_store_token_add(f.store, f.org, NULL, "h1", NULL,
                                    inbox_now_ms() - 1, NULL, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "expires_at");
    CHECK_INT(token_add(&f, NULL, "h1", NULL, -5, NULL), INBOX_ERR_INVALID);

    CHECK_INT(inbox_store_tokens_list(f.store, f.org, &list, NULL), INBOX_OK);
    CHECK_INT(list.count, 0);
    inbox_token_list_free(&list);

    fixture_close(&f);
}


TEST(a_revoked_token_stops_at_once_by_id_or_by_hash)
{
    char                id[INBOX_ID_MAX], a[INBOX_ID_MAX], b[INBOX_ID_MAX];
    char                other[INBOX_ID_MAX], theirs[INBOX_ID_MAX];
    int64_t             first;
    fixture_t           f;
    inbox_error_t       err;
    inbox_principal_t   who;
    inbox_token_list_t  list;

    FIXTURE(&f);

    CHECK_INT(token_add(&f, NULL, "ha", "a", 0, a), INBOX_OK);
    CHECK_INT(token_add(&f, NULL, "hb", "b", 0, b), INBOX_OK);
    CHECK_INT(inbox_store_token_find(f.store, "ha", &who, NULL), INBOX_OK);

    CHECK_INT(inbox_store_token_revoke(f.store, f.org, a, NULL, id, &err),
              INBOX_OK);
    CHECK_STR(id, a);
    CHECK_INT(inbox_store_token_find(f.store, "ha", &who, &err),
              INBOX_ERR_UNAUTHENTICATED);
    CHECK(strstr(err.message, "revoked") != NULL);
    CHECK_STR(who.org_id, "");
    /* the other token still works */
    CHECK_INT(inbox_store_token_find(f.store, "hb", &who, NULL), INBOX_OK);

    /* by the hash of the token in hand */
    CHECK_INT(inbox_store_token_revoke(f.store, f.org, NULL, "hb", id, &err),
              INBOX_OK);
    CHECK_STR(id, b);
    CHECK_INT(inbox_store_token_find(f.store, "hb", &who, &err),
              INBOX_ERR_UNAUTHENTICATED);

    /* revoking again succeeds and keeps the first time */
    first = db_int(&f, "SELECT revoked_at FROM tokens WHERE token_hash = 'ha'");
    CHECK(first > 0);
    usleep(5000);
    CHECK_INT(inbox_store_token_revoke(f.store, f.org, a, NULL, id, &err),
              INBOX_OK);
    CHECK_INT(db_int(&f, "SELECT revoked_at FROM tokens"
                         " WHERE token_hash = 'ha'"), first);

    CHECK_INT(inbox_store_tokens_list(f.store, f.org, &list, NULL), INBOX_OK);
    CHECK_INT(list.count, 2);
    if (list.count == 2) {
        CHECK_INT(list.items[0].revoked_at, first);
        CHECK_INT(inbox_token_state(list.items[0].expires_at,
                                    list.items[0].revoked_at, inbox_now_ms()),
                  INBOX_TOKEN_REVOKED);
    }
    inbox_token_list_free(&list);

    /* another organization's token cannot be revoked from this one */
    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);
    CHECK_INT(inbox_store_token_add(f.store, other, NULL, "hc", NULL, 0,
                                    theirs, NULL), INBOX_OK);
    CHECK_INT(inbox_store_token_revoke(f.store, f.org, theirs, NULL, id,
                                       &err), INBOX_ERR_NOT_FOUND);
    CHECK(strstr(err.message, "no token") != NULL);
    CHECK_INT(inbox_store_token_revoke(f.store, f.org, NULL, "hc", id, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(inbox_store_token_find(f.store, "hc", &who, NULL), INBOX_OK);

    /* unknown tokens and organizations */
    CHECK_INT(inbox_store_token_revoke(f.store, f.org, "999999", NULL, id,
                                       &err), INBOX_ERR_NOT_FOUND);
    CHECK_INT(inbox_store_token_revoke(f.store, f.org, "not-an-id", NULL, id,
                                       &err), INBOX_ERR_NOT_FOUND);
    CHECK_INT(inbox_store_token_revoke(f.store, "999999", a, NULL, id, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK(strstr(err.message, "organization") != NULL);
    CHECK_INT(inbox_store_token_revoke(f.store, f.org, NULL, NULL, id, &err),
              INBOX_ERR_INVALID);

    fixture_close(&f);
}


TEST(an_expired_token_stops_when_its_time_comes)
{
    int64_t             expires_at;
    fixture_t           f;
    inbox_error_t       err;
    inbox_principal_t   who;

    FIXTURE(&f);

    expires_at = inbox_now_ms() + 100;
    CHECK_INT(token_add(&f, NULL, "h1", NULL, expires_at, NULL), INBOX_OK);
    CHECK_INT(inbox_store_token_find(f.store, "h1", &who, &err), INBOX_OK);

    while (inbox_now_ms() <= expires_at) {
        usleep(10000);
    }

    CHECK_INT(inbox_store_token_find(f.store, "h1", &who, &err),
              INBOX_ERR_UNAUTHENTICATED);
    CHECK(strstr(err.message, "expired at ") != NULL);
    CHECK(strstr(err.message, "ask for a new one") != NULL);
    CHECK_STR(who.org_id, "");

    fixture_close(&f);
}


/* A token stored before tokens had names, expiries and revocations (the
 * migration leaves those NULL) keeps working, and lists and revokes. */
TEST(tokens_from_before_the_migration_keep_working)
{
    fixture_t           f;
    inbox_principal_t   who;
    inbox_token_list_t  list;

    FIXTURE(&f);

    CHECK_INT(db_exec(&f, "INSERT INTO tokens (token_hash, org_id,"
                          " created_at) VALUES ('old', %s, %lld)", f.org,
                      (long long) T0), SQLITE_OK);

    CHECK_INT(inbox_store_token_find(f.store, "old", &who, NULL), INBOX_OK);
    CHECK_STR(who.org_id, f.org);

    CHECK_INT(inbox_store_tokens_list(f.store, f.org, &list, NULL), INBOX_OK);
    CHECK_INT(list.count, 1);
    if (list.count == 1) {
        CHECK_STR(list.items[0].name, "");
        CHECK_INT(list.items[0].created_at, T0);
        CHECK_INT(list.items[0].expires_at, 0);
        CHECK_INT(list.items[0].revoked_at, 0);
    }
    inbox_token_list_free(&list);

    CHECK_INT(inbox_store_token_revoke(f.store, f.org, NULL, "old", NULL,
                                       NULL), INBOX_OK);
    CHECK_INT(inbox_store_token_find(f.store, "old", &who, NULL),
              INBOX_ERR_UNAUTHENTICATED);

    fixture_close(&f);
}


TEST(credits_and_billing_need_an_existing_org)
{
    fixture_t  f;

    FIXTURE(&f);

    CHECK_INT(inbox_store_credits_grant(f.store, "99999", 10, NULL),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(inbox_store_billing_set(f.store, "99999", 0, NULL),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(inbox_store_credits_grant(f.store, "not-an-id", 10, NULL),
              INBOX_ERR_NOT_FOUND);

    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);
    CHECK_INT(inbox_store_billing_set(f.store, f.org, 0, NULL), INBOX_OK);
    CHECK_INT(db_int(&f, "SELECT credits_balance * 10 + billing_active"
                         " FROM orgs WHERE name = 'Acme'"), 100);

    fixture_close(&f);
}


TEST(an_org_is_found_by_its_name)
{
    char       id[INBOX_ID_MAX], other[INBOX_ID_MAX];
    fixture_t  f;

    FIXTURE(&f);

    CHECK_INT(inbox_store_org_create(f.store, "Other", NULL, other, NULL),
              INBOX_OK);

    CHECK_INT(inbox_store_org_find_by_name(f.store, "Acme", id, NULL),
              INBOX_OK);
    CHECK_STR(id, f.org);
    CHECK_INT(inbox_store_org_find_by_name(f.store, "Other", id, NULL),
              INBOX_OK);
    CHECK_STR(id, other);
    CHECK_INT(inbox_store_org_find_by_name(f.store, "Nobody", id, NULL),
              INBOX_ERR_NOT_FOUND);

    fixture_close(&f);
}


TEST(a_named_contact_shows_its_name_in_the_list)
{
    char                       contact[INBOX_ID_MAX], again[INBOX_ID_MAX];
    fixture_t                  f;
    inbox_ingest_result_t      r;
    inbox_conversation_page_t  page;

    FIXTURE(&f);

    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, ALICE, "Alice",
                                         contact, NULL), INBOX_OK);

    /* its (empty) thread is listed under the name */
    CHECK_INT(list(&f, f.org, INBOX_FILTER_ALL, NULL, &page), INBOX_OK);
    CHECK_INT(page.count, 1);
    if (page.count == 1) {
        CHECK_STR(page.items[0].contact.id, contact);
        CHECK_STR(page.items[0].contact.name, "Alice");
        CHECK_STR(page.items[0].contact.phone, ALICE);
    }
    inbox_conversation_page_free(&page);

    /* a message from her lands in the same thread, still named */
    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &r, NULL), INBOX_OK);
    CHECK_INT(list(&f, f.org, INBOX_FILTER_ALL, NULL, &page), INBOX_OK);
    CHECK_INT(page.count, 1);
    if (page.count == 1) {
        CHECK_STR(page.items[0].id, r.conversation_id);
        CHECK_STR(page.items[0].contact.name, "Alice");
    }
    inbox_conversation_page_free(&page);

    /* renamed; no name keeps the one it has */
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, ALICE, "Alice W.",
                                         again, NULL), INBOX_OK);
    CHECK_STR(again, contact);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, ALICE, NULL, again,
                                         NULL), INBOX_OK);

    CHECK_INT(list(&f, f.org, INBOX_FILTER_ALL, NULL, &page), INBOX_OK);
    CHECK_INT(page.count, 1);
    if (page.count == 1) {
        CHECK_STR(page.items[0].contact.name, "Alice W.");
    }
    inbox_conversation_page_free(&page);

    /* an unnamed contact has no name: clients show the phone */
    CHECK_INT(receive(&f, "SM2", BOB, "hi", T0 + 1, NULL, NULL), INBOX_OK);
    CHECK_INT(list(&f, f.org, INBOX_FILTER_ALL, "555-98", &page), INBOX_OK);
    CHECK_INT(page.count, 1);
    if (page.count == 1) {
        CHECK(page.items[0].contact.name == NULL);
    }
    inbox_conversation_page_free(&page);

    fixture_close(&f);
}


/* Concurrency */

typedef struct {
    fixture_t   *f;
    const char  *from;
    int          failures;
    int64_t      seqs[WRITERS_MESSAGES * 3];
    size_t       nseqs;
    char         conversation[INBOX_ID_MAX];
} writer_t;


/* Ingests WRITERS_MESSAGES messages from w->from, one batch each. */
static void *
writer_run(void *arg)
{
    int                    i;
    char                   provider[64];
    size_t                 j;
    writer_t              *w = arg;
    inbox_event_list_t     events;
    inbox_ingest_result_t  r;

    for (i = 0; i < WRITERS_MESSAGES; i++) {
        memset(&events, 0, sizeof(events));
        snprintf(provider, sizeof(provider), "SM-%s-%d", w->from, i);

        if (receive(w->f, provider, w->from, "hi", T0 + i, &r, &events)
            != INBOX_OK || r.duplicate)
        {
            w->failures++;
        }

        snprintf(w->conversation, sizeof(w->conversation), "%s",
                 r.conversation_id);

        for (j = 0; j < events.count && w->nseqs < WRITERS_MESSAGES * 3; j++) {
            w->seqs[w->nseqs++] = events.items[j].org_seq;
        }

        inbox_event_list_free(&events);
    }

    return NULL;
}


TEST(two_threads_sharing_a_store_both_store_everything)
{
    int        seen[WRITERS_MESSAGES * 6 + 1];
    size_t     i, t;
    int64_t    seq;
    pthread_t  threads[2];
    writer_t   w[2];
    fixture_t  f;

    FIXTURE(&f);

    memset(w, 0, sizeof(w));
    memset(seen, 0, sizeof(seen));
    w[0].f = &f;
    w[0].from = ALICE;
    w[1].f = &f;
    w[1].from = BOB;

    for (t = 0; t < 2; t++) {
        CHECK_INT(pthread_create(&threads[t], NULL, writer_run, &w[t]), 0);
    }

    for (t = 0; t < 2; t++) {
        pthread_join(threads[t], NULL);
        CHECK_INT(w[t].failures, 0);
        CHECK_INT(message_count(&f, w[t].conversation), WRITERS_MESSAGES);

        for (i = 0; i < w[t].nseqs; i++) {
            seq = w[t].seqs[i];
            if (seq >= 1 && seq <= WRITERS_MESSAGES * 6) {
                seen[seq]++;
            }
        }
    }

    /* every org_seq handed out once, none skipped */
    for (i = 1; i <= WRITERS_MESSAGES * 6; i++) {
        CHECK_INT(seen[i], 1);
    }

    CHECK_INT(org_seq(&f, f.org), WRITERS_MESSAGES * 6);

    fixture_close(&f);
}


TEST(a_forked_child_and_its_parent_write_the_same_file)
{
    int        status;
    pid_t      child;
    writer_t   parent_writer, child_writer;
    fixture_t  f;

    FIXTURE(&f);

    memset(&parent_writer, 0, sizeof(writer_t));
    memset(&child_writer, 0, sizeof(writer_t));
    parent_writer.f = &f;
    parent_writer.from = ALICE;
    child_writer.f = &f;
    child_writer.from = BOB;

    /* the parent has used the store: the child inherits its connection */
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, NULL), 0);

    fflush(NULL);
    child = fork();

    if (child == 0) {
        writer_run(&child_writer);
        inbox_store_close(f.store);
        _exit(child_writer.failures ? 1 : 0);
    }

    CHECK(child > 0);
    writer_run(&parent_writer);

    CHECK_INT(waitpid(child, &status, 0), child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_INT(parent_writer.failures, 0);

    CHECK_INT(message_count(&f, parent_writer.conversation),
              WRITERS_MESSAGES);
    CHECK(list_shows(&f, INBOX_FILTER_ALL, NULL, BOB));
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, NULL), 2);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM messages"),
              WRITERS_MESSAGES * 2);
    CHECK_INT(org_seq(&f, f.org), WRITERS_MESSAGES * 6);

    fixture_close(&f);
}


TEST(reopening_the_store_keeps_the_data_and_the_schema)
{
    int64_t                version;
    fixture_t              f;
    inbox_event_list_t     events;
    inbox_ingest_result_t  r, again;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    CHECK_INT(receive(&f, "SM1", ALICE, "before", T0, &r, NULL), INBOX_OK);
    version = db_int(&f, "PRAGMA user_version");
    CHECK(version > 0);

    inbox_store_close(f.store);
    f.store = store_open(f.path);
    CHECK(f.store != NULL);

    if (f.store == NULL) {
        db_remove(f.path);
        return;
    }

    CHECK_INT(db_int(&f, "PRAGMA user_version"), version);
    CHECK_INT(message_count(&f, r.conversation_id), 1);
    CHECK_INT(org_seq(&f, f.org), 3);

    /* a retry after the restart is still a duplicate; the stream goes on */
    CHECK_INT(receive(&f, "SM1", ALICE, "before", T0, &again, &events),
              INBOX_OK);
    CHECK_INT(again.duplicate, 1);
    CHECK_STR(again.message_id, r.message_id);

    CHECK_INT(receive(&f, "SM2", ALICE, "after", T0 + 1, &again, &events),
              INBOX_OK);
    CHECK_INT(events.count, 3);
    if (events.count == 3) {
        CHECK_INT(events.items[0].org_seq, 4);
    }

    inbox_event_list_free(&events);
    fixture_close(&f);
}


/*
 * Another connection holding the write lock: the store gives up after its
 * busy timeout (5 s, not configurable from outside) rather than hanging.
 */
TEST(a_busy_database_is_unavailable_and_the_retry_succeeds)
{
    int64_t                started;
    sqlite3               *blocker;
    fixture_t              f;
    inbound_t              m;
    inbox_error_t          err;
    inbox_event_list_t     events;
    inbox_ingest_result_t  r;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    CHECK_INT(sqlite3_open(f.path, &blocker), SQLITE_OK);
    CHECK_INT(sqlite3_exec(blocker, "BEGIN IMMEDIATE", NULL, NULL, NULL),
              SQLITE_OK);

    started = monotonic_ms();
    inbox_error_clear(&err);

    inbound_init(&m, "SM1", ALICE, NUMBER, "hello", T0);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &r, &events,
                                         &err), INBOX_ERR_UNAVAILABLE);

    CHECK(monotonic_ms() - started < 30000);
    CHECK_INT(err.code, INBOX_ERR_UNAVAILABLE);
    CHECK(err.message[0] != '\0');
    CHECK_INT(r.status, INBOX_ERR_UNAVAILABLE);
    CHECK_STR(r.message_id, "");
    CHECK_INT(events.count, 0);

    sqlite3_exec(blocker, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(blocker);

    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, NULL), 0);
    CHECK_INT(org_seq(&f, f.org), 0);

    /* the carrier's retry */
    CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, &r, &events), INBOX_OK);
    CHECK_INT(r.status, INBOX_OK);
    CHECK_INT(r.duplicate, 0);
    CHECK_INT(events.count, 3);
    CHECK_INT(message_count(&f, r.conversation_id), 1);

    inbox_event_list_free(&events);
    fixture_close(&f);
}


static long
file_size(const char *path)
{
    struct stat  st;

    return stat(path, &st) == 0 ? (long) st.st_size : -1;
}


/* Checkpoints are maintain's: writers leave them to it, it does them. */
TEST(maintain_moves_the_write_ahead_log_into_the_database)
{
    int         i;
    long        before, after;
    char        sid[32], from[16];
    fixture_t   f;

    FIXTURE(&f);

    before = file_size(f.path);

    for (i = 0; i < 200; i++) {
        snprintf(sid, sizeof(sid), "SMmaintain%03d", i);
        snprintf(from, sizeof(from), "+1555010%04d", i);
        CHECK_INT(receive(&f, sid, from, "hello", 1000 + i, NULL, NULL),
                  INBOX_OK);
    }

    /* the messages are in the log, not yet in the database file */
    CHECK_INT(file_size(f.path), before);

    CHECK_INT(inbox_store_maintain(f.store, NULL), INBOX_OK);

    after = file_size(f.path);
    CHECK(after > before);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM messages"), 200);

    fixture_close(&f);
}

/* Reading a thread */

static int64_t
unread_total(fixture_t *f, const char *org)
{
    inbox_realtime_state_t  state;

    if (inbox_store_realtime_state(f->store, org, &state, NULL) != INBOX_OK) {
        return -1;
    }

    return state.unread_total;
}


TEST(reading_a_thread_clears_its_unread_and_lowers_the_org_total)
{
    char                        want[64];
    fixture_t                   f;
    inbox_error_t               err;
    inbox_event_list_t          events;
    inbox_conversation_t        c;
    inbox_ingest_result_t       alice, bob;
    inbox_realtime_state_t      state;
    inbox_conversation_page_t   page;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    CHECK_INT(receive(&f, "SM1", ALICE, "one", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", ALICE, "two", T0 + 1, &alice, NULL),
              INBOX_OK);
    CHECK_INT(receive(&f, "SM3", BOB, "hi", T0 + 2, &bob, NULL), INBOX_OK);
    CHECK_INT(unread_total(&f, f.org), 3);
    CHECK_INT(inbox_store_realtime_state(f.store, f.org, &state, NULL),
              INBOX_OK);
    CHECK_INT(state.org_seq, 9);

    CHECK_INT(inbox_store_conversation_mark_read(f.store, f.org,
                                                 alice.conversation_id, &c,
                                                 &events, &err), INBOX_OK);
    CHECK_STR(c.id, alice.conversation_id);
    CHECK_STR(c.contact.phone, ALICE);
    CHECK_INT(c.unread_count, 0);
    CHECK_STR(c.last_message.preview, "two");
    inbox_conversation_free(&c);

    /* the list, its filter and the org total agree */
    CHECK_INT(unread_total(&f, f.org), 1);
    CHECK(!list_shows(&f, INBOX_FILTER_UNREAD, NULL, ALICE));
    CHECK(list_shows(&f, INBOX_FILTER_UNREAD, NULL, BOB));
    CHECK(list_shows(&f, INBOX_FILTER_ALL, NULL, ALICE));
    CHECK_INT(list(&f, f.org, INBOX_FILTER_ALL, NULL, &page), INBOX_OK);
    CHECK_INT(page.unread_total, 1);
    inbox_conversation_page_free(&page);
    /* read now, by the wall clock */
    CHECK(db_int(&f, "SELECT last_read_at FROM conversations"
                     " WHERE unread_count = 0")
          >= (int64_t) (time(NULL) - 60) * 1000);

    /* conversation.updated then unread.total, right after the last seq */
    CHECK_INT(events.count, 2);
    if (events.count == 2) {
        CHECK_STR(events.items[0].org_id, f.org);
        CHECK_INT(events.items[0].org_seq, 10);
        CHECK_INT(events.items[1].org_seq, 11);
        CHECK(strstr(events.items[0].json,
                     "\"type\":\"conversation.updated\"") != NULL);
        CHECK(strstr(events.items[0].json, "\"unread_count\":0") != NULL);
        snprintf(want, sizeof(want), "\"id\":\"%s\"", alice.conversation_id);
        CHECK(strstr(events.items[0].json, want) != NULL);
        CHECK(strstr(events.items[1].json, "\"type\":\"unread.total\"")
              != NULL);
        CHECK(strstr(events.items[1].json, "\"count\":1") != NULL);
        snprintf(want, sizeof(want), "\"epoch\":\"%s\"", state.epoch);
        CHECK(strstr(events.items[1].json, want) != NULL);
    }

    /* stored for resuming, and the stream moved on */
    CHECK_INT(org_seq(&f, f.org), 11);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM events WHERE seq IN (10, 11)"
                         " AND type IN ('conversation.updated',"
                         " 'unread.total')"), 2);

    inbox_event_list_free(&events);
    fixture_close(&f);
}


TEST(reading_a_read_thread_again_changes_nothing)
{
    fixture_t              f;
    inbox_event_list_t     events;
    inbox_conversation_t   c;
    inbox_ingest_result_t  r;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, &r, NULL), INBOX_OK);
    CHECK_INT(inbox_store_conversation_mark_read(f.store, f.org,
                                                 r.conversation_id, &c,
                                                 &events, NULL), INBOX_OK);
    inbox_conversation_free(&c);
    CHECK_INT(events.count, 2);
    CHECK_INT(org_seq(&f, f.org), 5);

    CHECK_INT(db_exec(&f, "UPDATE conversations SET last_read_at = 7"),
              SQLITE_OK);

    CHECK_INT(inbox_store_conversation_mark_read(f.store, f.org,
                                                 r.conversation_id, &c,
                                                 &events, NULL), INBOX_OK);
    CHECK_STR(c.id, r.conversation_id);
    CHECK_STR(c.contact.phone, ALICE);
    CHECK_STR(c.last_message.preview, "hello");
    CHECK_INT(c.unread_count, 0);
    inbox_conversation_free(&c);

    /* no event, no seq, not even a new read time */
    CHECK_INT(events.count, 2);
    CHECK_INT(org_seq(&f, f.org), 5);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM events"), 5);
    CHECK_INT(db_int(&f, "SELECT last_read_at FROM conversations"), 7);
    CHECK_INT(unread_total(&f, f.org), 0);

    /* a caller that pushes nothing passes no list */
    CHECK_INT(inbox_store_conversation_mark_read(f.store, f.org,
                                                 r.conversation_id, &c,
                                                 NULL, NULL), INBOX_OK);
    inbox_conversation_free(&c);

    inbox_event_list_free(&events);
    fixture_close(&f);
}


TEST(another_orgs_or_a_malformed_id_cannot_be_read)
{
    size_t                 i;
    fixture_t              f;
    char                   other[INBOX_ID_MAX];
    inbox_error_t          err;
    inbox_event_list_t     events;
    inbox_conversation_t   c;
    inbox_ingest_result_t  r;
    const char            *bad[] = { "", "0", "-1", "abc", "1x",
                                     "99999999", "64f1a0000000000000000c01" };

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);
    CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, &r, NULL), INBOX_OK);

    CHECK_INT(inbox_store_conversation_mark_read(f.store, other,
                                                 r.conversation_id, &c,
                                                 &events, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(err.code, INBOX_ERR_NOT_FOUND);
    inbox_conversation_free(&c);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_INT(inbox_store_conversation_mark_read(f.store, f.org, bad[i],
                                                     &c, &events, NULL),
                  INBOX_ERR_NOT_FOUND);
        inbox_conversation_free(&c);
    }

    /* the thread stays unread for its own organization */
    CHECK_INT(events.count, 0);
    CHECK_INT(unread_total(&f, f.org), 1);
    CHECK_INT(org_seq(&f, f.org), 3);
    CHECK_INT(org_seq(&f, other), 0);

    inbox_event_list_free(&events);
    fixture_close(&f);
}


TEST(a_new_message_after_a_read_is_unread_again)
{
    fixture_t              f;
    inbox_event_list_t     events;
    inbox_conversation_t   c;
    inbox_ingest_result_t  r;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, &r, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", ALICE, "again", T0 + 1, &r, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_conversation_mark_read(f.store, f.org,
                                                 r.conversation_id, &c,
                                                 NULL, NULL), INBOX_OK);
    inbox_conversation_free(&c);
    CHECK_INT(unread_total(&f, f.org), 0);

    CHECK_INT(receive(&f, "SM3", ALICE, "still there?", T0 + MINUTE, &r,
                      &events), INBOX_OK);

    CHECK_INT(inbox_store_conversation_get(f.store, f.org, r.conversation_id,
                                           &c, NULL), INBOX_OK);
    CHECK_INT(c.unread_count, 1);
    inbox_conversation_free(&c);
    CHECK_INT(unread_total(&f, f.org), 1);
    CHECK(list_shows(&f, INBOX_FILTER_UNREAD, NULL, ALICE));

    /* its events follow the read's without a gap */
    CHECK_INT(events.count, 3);
    if (events.count == 3) {
        CHECK_INT(events.items[0].org_seq, 9);
        CHECK(strstr(events.items[1].json, "\"unread_count\":1") != NULL);
        CHECK(strstr(events.items[2].json, "\"count\":1") != NULL);
    }

    inbox_event_list_free(&events);
    fixture_close(&f);
}


/* What a commit survives is the operator's choice, made in the URI. */
TEST(the_uri_chooses_synchronous_full_and_refuses_unknown_options)
{
    char             uri[200], path[128];
    inbox_error_t    err;
    inbox_store_t   *store;

    snprintf(path, sizeof(path), "/tmp/inbox-test-store-sqlite-%ld-sync.db",
             (long) getpid());
    db_remove(path);

    snprintf(uri, sizeof(uri), "sqlite:%s?synchronous=full", path);
    store = inbox_store_create(uri, &err);
    CHECK(store != NULL);

    if (store != NULL) {
        CHECK_INT(inbox_store_ping(store, NULL), INBOX_OK);
        inbox_store_close(store);
    }

    /* the file is PATH itself, not PATH?... */
    CHECK_INT(access(path, F_OK), 0);

    snprintf(uri, sizeof(uri), "sqlite:%s?synchronous=sometimes", path);
    CHECK(inbox_store_open(uri, &err) == NULL);
    CHECK_INT(err.code, INBOX_ERR_INVALID);
    CHECK(strstr(err.message, "synchronous") != NULL);

    db_remove(path);
}



/* Compact events */

/* The bytes of every column of every stored event; -1 on failure. */
static long
events_bytes(const fixture_t *f, const char *needle, long *rows_with)
{
    int            i;
    long           total;
    sqlite3       *db;
    sqlite3_stmt  *stmt;
    const char    *text;

    total = -1;
    *rows_with = 0;

    if (sqlite3_open(f->path, &db) == SQLITE_OK
        && sqlite3_prepare_v2(db, "SELECT * FROM events", -1, &stmt, NULL)
           == SQLITE_OK)
    {
        total = 0;

        while (sqlite3_step(stmt) == SQLITE_ROW) {
            for (i = 0; i < sqlite3_column_count(stmt); i++) {
                text = (const char *) sqlite3_column_text(stmt, i);
                total += sqlite3_column_bytes(stmt, i);

                if (text != NULL && strstr(text, needle) != NULL) {
                    (*rows_with)++;
                }
            }
        }

        sqlite3_finalize(stmt);
    }

    sqlite3_close(db);
    return total;
}


/* A message as long as Twilio sends them: its frame carries the body,
 * the stored events only the ids. */
TEST(stored_events_refer_to_a_long_message_without_copying_it)
{
    char                   body[1601], sql[256];
    long                   bytes, rows_with;
    fixture_t              f;
    inbox_event_list_t     events;
    inbox_ingest_result_t  r;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    memset(body, 'x', sizeof(body) - 1);
    body[sizeof(body) - 1] = '\0';
    memcpy(body, "LONGBODY", 8);

    CHECK_INT(receive(&f, "SM1", ALICE, body, T0, &r, &events), INBOX_OK);

    /* live delivery is unchanged: the frame has the message */
    CHECK_INT(events.count, 3);
    if (events.count == 3) {
        CHECK(strstr(events.items[0].json, body) != NULL);
    }

    CHECK_INT(db_int(&f, "SELECT count(*) FROM events"), 3);
    bytes = events_bytes(&f, "LONGBODY", &rows_with);
    CHECK(bytes > 0 && bytes < 3 * 100);
    CHECK_INT(rows_with, 0);

    /* what a resume renders from */
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE seq = 1"
             " AND type = 'message.created' AND message_id = %s"
             " AND conversation_id = %s", r.message_id, r.conversation_id);
    CHECK_INT(db_int(&f, sql), 1);
    CHECK_INT(db_int(&f, "SELECT unread_total FROM events WHERE seq = 3"), 1);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM events e JOIN orgs o"
                         " ON o.id = e.org_id WHERE e.epoch = o.epoch"), 3);

    inbox_event_list_free(&events);
    fixture_close(&f);
}


/*
 * A store from before compact events (schema 3, frames in events.payload)
 * keeps its stream: migration 4 keeps each event's position and ids.
 */
TEST(migrating_keeps_the_ids_of_stored_frames)
{
    char                   sql[1024];
    fixture_t              f;
    inbox_ingest_result_t  r;

    FIXTURE(&f);
    CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, &r, NULL), INBOX_OK);
    inbox_store_close(f.store);
    f.store = NULL;

    /* back to schema 3, its events as they were stored then (and no
     * sessions, which came with schema 5) */
    snprintf(sql, sizeof(sql),
        "DROP TABLE sessions; DROP TABLE store_info; DROP TABLE events;"
        "CREATE TABLE events (org_id INTEGER NOT NULL REFERENCES orgs (id),"
        " seq INTEGER NOT NULL, type TEXT NOT NULL, payload TEXT NOT NULL,"
        " created_at INTEGER NOT NULL, PRIMARY KEY (org_id, seq));"
        "INSERT INTO events VALUES (%s, 1, 'message.created',"
        " '{\"type\":\"message.created\",\"org_seq\":1,\"epoch\":\"e1\","
        "\"message\":{\"id\":\"%s\",\"body\":\"hello\"},"
        "\"conversation\":{\"id\":\"%s\"}}', 5),"
        " (%s, 2, 'unread.total', '{\"type\":\"unread.total\",\"org_seq\":2,"
        "\"epoch\":\"e1\",\"count\":7}', 6);"
        "PRAGMA user_version = 3;",
        f.org, r.message_id, r.conversation_id, f.org);
    CHECK_INT(db_exec(&f, "%s", sql), SQLITE_OK);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);

    CHECK_INT(db_int(&f, "PRAGMA user_version"), 5);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE seq = 1"
             " AND epoch = 'e1' AND message_id = %s AND conversation_id = %s"
             " AND unread_total IS NULL AND created_at = 5",
             r.message_id, r.conversation_id);
    CHECK_INT(db_int(&f, sql), 1);
    CHECK_INT(db_int(&f, "SELECT unread_total FROM events WHERE seq = 2"), 7);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM store_info"), 1);

    fixture_close(&f);
}


/* Where the store comes from, and when it goes */

static int
file_exists(const char *path)
{
    return access(path, F_OK) == 0;
}


static char *
side_path(const fixture_t *f, const char *suffix, char *out, size_t size)
{
    snprintf(out, size, "%s%s", f->path, suffix);
    return out;
}


TEST(open_never_makes_a_store)
{
    char            uri[200], path[128];
    FILE           *fp;
    inbox_error_t   err;

    snprintf(path, sizeof(path), "/tmp/inbox-test-store-sqlite-%ld-none.db",
             (long) getpid());
    db_remove(path);
    snprintf(uri, sizeof(uri), "sqlite:%s", path);

    CHECK(inbox_store_open(uri, &err) == NULL);
    CHECK_INT(err.code, INBOX_ERR_UNAVAILABLE);
    CHECK(strstr(err.message, "does not exist") != NULL);
    CHECK(strstr(err.message, "inboxctl") != NULL);
    CHECK(!file_exists(path));

    /* an empty file (touched, truncated) is no store either */
    fp = fopen(path, "w");
    CHECK(fp != NULL);
    if (fp != NULL) {
        fclose(fp);
    }

    CHECK(inbox_store_open(uri, &err) == NULL);
    CHECK_INT(err.code, INBOX_ERR_UNAVAILABLE);
    CHECK(strstr(err.message, "not an inbox store") != NULL);
    CHECK_INT(file_size(path), 0);

    db_remove(path);
}


TEST(create_makes_files_only_their_owner_can_read)
{
    char         name[160];
    fixture_t    f;
    struct stat  st;

    FIXTURE(&f);

    /* the log and its index exist while the store is open and written */
    CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, NULL, NULL), INBOX_OK);

    CHECK_INT(stat(f.path, &st), 0);
    CHECK_INT(st.st_mode & 0777, 0600);
    CHECK_INT(stat(side_path(&f, "-wal", name, sizeof(name)), &st), 0);
    CHECK_INT(st.st_mode & 0777, 0600);
    CHECK_INT(stat(side_path(&f, "-shm", name, sizeof(name)), &st), 0);
    CHECK_INT(st.st_mode & 0777, 0600);

    fixture_close(&f);
}


TEST(ping_writes_its_own_row)
{
    fixture_t  f;

    FIXTURE(&f);

    CHECK_INT(db_int(&f, "SELECT count(*) FROM store_info"
                         " WHERE checked_at IS NOT NULL"), 0);
    CHECK_INT(inbox_store_ping(f.store, NULL), INBOX_OK);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM store_info"
                         " WHERE checked_at IS NOT NULL"), 1);

    fixture_close(&f);
}


/* A consistent copy of the store's file, as an operator's backup. */
static int
backup_to(const fixture_t *f, const char *path)
{
    int              rc;
    sqlite3         *src, *dst;
    sqlite3_backup  *b;

    rc = SQLITE_ERROR;
    src = NULL;
    dst = NULL;

    if (sqlite3_open(f->path, &src) == SQLITE_OK
        && sqlite3_open(path, &dst) == SQLITE_OK)
    {
        b = sqlite3_backup_init(dst, "main", src, "main");
        if (b != NULL) {
            sqlite3_backup_step(b, -1);
            rc = sqlite3_backup_finish(b);
        }
    }

    sqlite3_close(src);
    sqlite3_close(dst);
    return rc;
}


static void
unlink_store_files(const fixture_t *f)
{
    char  name[160];

    unlink(f->path);
    unlink(side_path(f, "-wal", name, sizeof(name)));
    unlink(side_path(f, "-shm", name, sizeof(name)));
}


TEST(a_deleted_store_takes_nothing_and_its_backup_put_back_serves)
{
    char                   backup[160], conversation[INBOX_ID_MAX];
    fixture_t              f;
    inbox_error_t          err;
    inbox_event_list_t     events;
    inbox_ingest_result_t  r;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));
    snprintf(backup, sizeof(backup), "%s.backup", f.path);
    unlink(backup);

    CHECK_INT(receive(&f, "SM1", ALICE, "before", T0, &r, NULL), INBOX_OK);
    memcpy(conversation, r.conversation_id, sizeof(conversation));
    CHECK_INT(backup_to(&f, backup), SQLITE_OK);

    /* the files go while the store is open (its connections too) */
    unlink_store_files(&f);

    CHECK_INT(receive(&f, "SM2", ALICE, "lost?", T0 + 1, &r, &events),
              INBOX_ERR_UNAVAILABLE);
    CHECK_INT(r.status, INBOX_ERR_UNAVAILABLE);
    CHECK_INT(events.count, 0);
    CHECK_INT(inbox_store_ping(f.store, &err), INBOX_ERR_UNAVAILABLE);
    CHECK(strstr(err.message, "missing") != NULL);
    /* reads too: what the deleted file says is no longer true */
    CHECK_INT(message_count(&f, conversation), -1);
    CHECK(!file_exists(f.path));

    /* the operator puts the backup back: the same store serves again */
    CHECK_INT(rename(backup, f.path), 0);

    CHECK_INT(inbox_store_ping(f.store, &err), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", ALICE, "lost?", T0 + 1, &r, &events),
              INBOX_OK);
    CHECK_INT(r.duplicate, 0);
    CHECK_INT(message_count(&f, conversation), 2);
    CHECK_INT(events.count, 3);
    if (events.count == 3) {
        CHECK_INT(events.items[0].org_seq, 4);
    }

    inbox_event_list_free(&events);
    fixture_close(&f);
}


TEST(a_store_replaced_by_another_is_refused)
{
    char                   other[160], org[INBOX_ID_MAX];
    fixture_t              f;
    inbox_error_t          err;
    inbox_store_t         *store;
    inbox_ingest_result_t  r;

    FIXTURE(&f);
    CHECK_INT(receive(&f, "SM1", ALICE, "before", T0, &r, NULL), INBOX_OK);

    /* another store, with an organization that owns the same number */
    snprintf(other, sizeof(other), "%s.other", f.path);
    db_remove(other);
    store = store_open(other);
    CHECK(store != NULL);
    if (store == NULL) {
        fixture_close(&f);
        return;
    }

    CHECK_INT(org_add(store, "Impostor", NUMBER, org), INBOX_OK);
    inbox_store_close(store);

    unlink_store_files(&f);
    CHECK_INT(rename(other, f.path), 0);

    CHECK_INT(inbox_store_ping(f.store, &err), INBOX_ERR_UNAVAILABLE);
    CHECK(strstr(err.message, "replaced") != NULL);
    CHECK_INT(receive(&f, "SM2", ALICE, "where?", T0 + 1, &r, NULL),
              INBOX_ERR_UNAVAILABLE);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM messages"), 0);

    fixture_close(&f);
}

RUN_TESTS()
