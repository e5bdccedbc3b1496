/*
 * The store contract: what every backend does, through the public store
 * API only, run once per backend.  SQLite always (a fresh file under /tmp
 * per test); MongoDB when INBOX_TEST_MONGO_URI names a server (a fresh
 * database per test, dropped afterwards), else that pass is skipped with
 * a line saying so.
 *
 * A test sees its backend only through backend_t: how to make and drop a
 * store, an id that is well formed there but names nothing, and what no
 * store operation does yet (a contact's opt-out, which arrives with the
 * opt-out operations; a campaign's message in the outbox), done by the
 * backend's own means.  Everything else is an inbox_store_* call, so
 * that each test checks the same behaviour of every backend.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include <inbox/clock.h>
#include <inbox/import.h>
#include <inbox/phone.h>
#include <inbox/render.h>
#include <inbox/store.h>
#include "store_mongo.h"
#include "check.h"

/* the sender's --public-url: where a campaign's images are linked from */
#define MEDIA_BASE  "https://x.test"


#define T0          1767225600000LL     /* 2026-01-01T00:00:00Z */
#define MINUTE      60000LL

/* a purge's media directory with no files: each one's unlink finds it
 * gone already */
#define NO_DIR      "/nonexistent/inbox-test-media"

#define NUMBER      "+15550000001"      /* the test organization's number */
#define OTHER       "+15550000002"      /* another organization's number */
#define NUMBER2     "+15550000003"      /* the test organization's second */
#define ALICE       "+15551234567"
#define BOB         "+15559876543"
#define CAROL_PHONE "+15557654321"


typedef struct fixture_s  fixture_t;

typedef struct {
    const char  *name;
    /* well formed for this backend, and never given out */
    const char  *missing_id;
    /* a new, empty store in f->store (and its name in f->where); 0 or -1 */
    int        (*make)(fixture_t *f);
    /* closes f->store and removes everything it made */
    void       (*drop)(fixture_t *f);
    /* until the opt-out operations: the contact with that phone opts
     * out; 0 or -1 */
    int        (*opt_out)(fixture_t *f, const char *phone);
    /* until campaigns: a campaign's message to the conversation's contact
     * waits in the outbox, due at due_at (and made then); 0 or -1 */
    int        (*queue_bulk)(fixture_t *f, const char *conversation_id,
                             int64_t due_at);
    /* the number is no organization's any more (removed by hand, there
     * being no operation for it); 0 or -1 */
    int        (*number_remove)(fixture_t *f, const char *e164);
    /* the user with that email is removed as if between a token's user
     * lookup and its insert: off the team, their tokens left unrevoked;
     * 0 or -1 */
    int        (*user_gone)(fixture_t *f, const char *email);
    /* the campaign's stored text (field "body", or a poll's "question")
     * is written by hand, as one saved (or sent to go later) before a
     * rule of texts existed: no operation edits one; 0 or -1 */
    int        (*draft_text)(fixture_t *f, const char *campaign_id,
                             const char *field, const char *text);
    /* the upload of that file has no record, as a message's or a
     * campaign's image kept from before uploads were recorded: no
     * operation removes one something names; 0 or -1 */
    int        (*upload_forget)(fixture_t *f, const char *file);
} backend_t;

struct fixture_s {
    const backend_t  *backend;
    char              where[512];     /* the SQLite file, the Mongo URI */
    inbox_store_t    *store;
    char              org[INBOX_ID_MAX];
};


/* One inbound message with the storage its provider id points to. */
typedef struct {
    char             provider_id[64];
    inbox_inbound_t  in;
} inbound_t;


static const backend_t  *backend;     /* the pass running now */
static unsigned          store_counter;


static int contact_of(fixture_t *f, const char *phone,
    char id[INBOX_ID_MAX], char conversation[INBOX_ID_MAX]);
static long contacts_pages(fixture_t *f, const char *q, const char *tag,
    unsigned limit, char (*out)[INBOX_PHONE_MAX], size_t max);


/* SQLite */

static void
sqlite_remove(const char *path)
{
    char  name[600];

    unlink(path);
    snprintf(name, sizeof(name), "%s-wal", path);
    unlink(name);
    snprintf(name, sizeof(name), "%s-shm", path);
    unlink(name);
    snprintf(name, sizeof(name), "%s-writer", path);
    unlink(name);
}


static int
sqlite_make(fixture_t *f)
{
    char           uri[600];
    inbox_error_t  err;

    snprintf(f->where, sizeof(f->where),
             "/tmp/inbox-test-store-contract-%ld-%u.db", (long) getpid(),
             ++store_counter);
    sqlite_remove(f->where);

    snprintf(uri, sizeof(uri), "sqlite:%s", f->where);

    f->store = inbox_store_create(uri, &err);
    if (f->store == NULL) {
        fprintf(stderr, "    cannot make %s: %s\n", uri, err.message);
        return -1;
    }

    return 0;
}


static void
sqlite_drop(fixture_t *f)
{
    inbox_store_close(f->store);
    f->store = NULL;
    sqlite_remove(f->where);
}


/* Runs sql (one or more statements) on the test's file, with its first
 * "%s" the argument; 0 or -1. */
static int
sqlite_exec(fixture_t *f, const char *sql, const char *arg)
{
    int       rc;
    char     *text;
    sqlite3  *db;

    text = sqlite3_mprintf(sql, arg);
    rc = text ? sqlite3_open(f->where, &db) : SQLITE_NOMEM;

    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        rc = sqlite3_exec(db, text, NULL, NULL, NULL);
        if (rc == SQLITE_OK && sqlite3_changes(db) == 0) {
            rc = SQLITE_ERROR;
        }
        sqlite3_close(db);
    }

    sqlite3_free(text);

    return rc == SQLITE_OK ? 0 : -1;
}


static int
sqlite_opt_out(fixture_t *f, const char *phone)
{
    return sqlite_exec(f, "UPDATE contacts SET opted_out = 1,"
                          " opted_out_at = 1, opt_out_source = 'manual'"
                          " WHERE phone = %Q", phone);
}


static int
sqlite_queue_bulk(fixture_t *f, const char *conversation_id, int64_t due_at)
{
    char  sql[1024];

    snprintf(sql, sizeof(sql),
        "INSERT INTO messages (org_id, conversation_id, direction, body,"
        " status, segments, credits, created_at)"
        " SELECT org_id, id, 'outbound', 'Sale!', 'queued', 1, 0, %lld"
        " FROM conversations WHERE id = %%s;"
        "INSERT INTO outbox (org_id, message_id, priority, from_e164,"
        " due_at, created_at)"
        " SELECT org_id, id, 1, '" NUMBER "', %lld, %lld FROM messages"
        " WHERE id = last_insert_rowid();",
        (long long) due_at, (long long) due_at, (long long) due_at);

    return sqlite_exec(f, sql, conversation_id);
}


static int
sqlite_number_remove(fixture_t *f, const char *e164)
{
    return sqlite_exec(f, "DELETE FROM numbers WHERE e164 = %Q", e164);
}


static int
sqlite_user_gone(fixture_t *f, const char *email)
{
    return sqlite_exec(f, "UPDATE users SET removed_at = 1"
                          " WHERE email = %Q", email);
}


static int
sqlite_draft_text(fixture_t *f, const char *campaign_id, const char *field,
    const char *text)
{
    char  sql[256];

    /* the column is one of the test's own names, the id a number */
    snprintf(sql, sizeof(sql), "UPDATE campaigns SET %s = %%Q"
             " WHERE id = %lld", field, strtoll(campaign_id, NULL, 10));

    return sqlite_exec(f, sql, text);
}


static int
sqlite_upload_forget(fixture_t *f, const char *file)
{
    return sqlite_exec(f, "DELETE FROM media WHERE file = %Q", file);
}


static const backend_t  sqlite_backend = {
    .name = "sqlite",
    .missing_id = "999999",
    .make = sqlite_make,
    .drop = sqlite_drop,
    .opt_out = sqlite_opt_out,
    .queue_bulk = sqlite_queue_bulk,
    .number_remove = sqlite_number_remove,
    .user_gone = sqlite_user_gone,
    .draft_text = sqlite_draft_text,
    .upload_forget = sqlite_upload_forget,
};


/* MongoDB */

static int
mongo_make(fixture_t *f)
{
    char             db[64];
    const char      *base;
    mongoc_uri_t    *uri;
    inbox_error_t    err;
    bson_error_t     error;

    base = getenv("INBOX_TEST_MONGO_URI");
    mongoc_init();

    uri = mongoc_uri_new_with_error(base, &error);
    if (uri == NULL) {
        fprintf(stderr, "    INBOX_TEST_MONGO_URI: %s\n", error.message);
        return -1;
    }

    /* a database of the test's own */
    snprintf(db, sizeof(db), "inbox_contract_%ld_%u", (long) getpid(),
             ++store_counter);
    mongoc_uri_set_database(uri, db);
    snprintf(f->where, sizeof(f->where), "%s", mongoc_uri_get_string(uri));
    mongoc_uri_destroy(uri);

    f->store = inbox_store_create(f->where, &err);
    if (f->store == NULL) {
        fprintf(stderr, "    cannot make %s: %s\n", f->where, err.message);
        return -1;
    }

    return 0;
}


static void
mongo_drop(fixture_t *f)
{
    bson_t          reply;
    bson_t         *command;
    inbox_error_t   err;

    if (f->store != NULL) {
        command = BCON_NEW("dropDatabase", BCON_INT32(1));
        if (inbox_mongo_run((inbox_mongo_store_t *) f->store, command,
                            &reply, &err)
            != INBOX_OK)
        {
            fprintf(stderr, "    cannot drop %s: %s\n", f->where,
                    err.message);
        }

        bson_destroy(&reply);
        bson_destroy(command);
    }

    inbox_store_close(f->store);
    f->store = NULL;
}


/* Runs command on the test's database (destroying it); 0 when it
 * matched or inserted something, else -1. */
static int
mongo_exec(fixture_t *f, bson_t *command)
{
    int             rc;
    bson_t          reply;
    inbox_error_t   err;

    rc = inbox_mongo_run((inbox_mongo_store_t *) f->store, command, &reply,
                         &err) == INBOX_OK
         && inbox_mongo_get_int(&reply, "n") >= 1 ? 0 : -1;

    bson_destroy(&reply);
    bson_destroy(command);

    return rc;
}


static int
mongo_opt_out(fixture_t *f, const char *phone)
{
    return mongo_exec(f, BCON_NEW("update", BCON_UTF8("contacts"),
                                  "updates", "[", "{",
                                      "q", "{", "phone", BCON_UTF8(phone),
                                      "}",
                                      "u", "{", "$set", "{",
                                          "opted_out", BCON_BOOL(true),
                                          "opt_out_source",
                                          BCON_UTF8("manual"),
                                      "}", "}",
                                  "}", "]"))
           || mongo_exec(f, BCON_NEW("update", BCON_UTF8("conversations"),
                                     "updates", "[", "{",
                                         "q", "{", "contact.phone",
                                         BCON_UTF8(phone), "}",
                                         "u", "{", "$set", "{",
                                             "contact.opted_out",
                                             BCON_BOOL(true),
                                         "}", "}",
                                     "}", "]"));
}


static int
mongo_queue_bulk(fixture_t *f, const char *conversation_id, int64_t due_at)
{
    char        hex[INBOX_ID_MAX];
    bson_oid_t  org, conversation, message, entry;

    if (inbox_mongo_parse_id(f->org, &org) != 0
        || inbox_mongo_parse_id(conversation_id, &conversation) != 0)
    {
        return -1;
    }

    bson_oid_init(&message, NULL);
    bson_oid_init(&entry, NULL);
    bson_oid_to_string(&message, hex);

    return mongo_exec(f, BCON_NEW("insert", BCON_UTF8("messages"),
               "documents", "[", "{",
                   "_id", BCON_OID(&message), "org_id", BCON_OID(&org),
                   "conversation_id", BCON_OID(&conversation),
                   "provider", BCON_UTF8("inbox"),
                   "provider_id", BCON_UTF8(hex),
                   "direction", BCON_UTF8("outbound"),
                   "from", BCON_UTF8(NUMBER), "to", BCON_UTF8(ALICE),
                   "body", BCON_UTF8("Sale!"), "media", "[", "]",
                   "status", BCON_UTF8("queued"), "segments", BCON_INT32(1),
                   "credits", BCON_INT32(0), "held", BCON_BOOL(false),
                   "created_at", BCON_DATE_TIME(due_at),
               "}", "]"))
           || mongo_exec(f, BCON_NEW("insert", BCON_UTF8("outbox"),
               "documents", "[", "{",
                   "_id", BCON_OID(&entry), "org_id", BCON_OID(&org),
                   "message_id", BCON_OID(&message),
                   "priority", BCON_INT32(1), "from", BCON_UTF8(NUMBER),
                   "due_at", BCON_DATE_TIME(due_at),
                   "attempts", BCON_INT32(0), "lease_until", BCON_NULL,
                   "created_at", BCON_DATE_TIME(due_at),
               "}", "]"));
}


static int
mongo_number_remove(fixture_t *f, const char *e164)
{
    return mongo_exec(f, BCON_NEW("delete", BCON_UTF8("numbers"),
                                  "deletes", "[", "{",
                                      "q", "{", "e164", BCON_UTF8(e164), "}",
                                      "limit", BCON_INT32(1),
                                  "}", "]"));
}


static int
mongo_user_gone(fixture_t *f, const char *email)
{
    return mongo_exec(f, BCON_NEW("update", BCON_UTF8("users"),
                                  "updates", "[", "{",
                                      "q", "{", "email", BCON_UTF8(email),
                                      "}",
                                      "u", "{", "$set", "{",
                                          "removed_at",
                                          BCON_DATE_TIME(1),
                                      "}", "}",
                                  "}", "]"));
}


static int
mongo_draft_text(fixture_t *f, const char *campaign_id, const char *field,
    const char *text)
{
    bson_oid_t  id;

    if (inbox_mongo_parse_id(campaign_id, &id) != 0) {
        return -1;
    }

    return mongo_exec(f, BCON_NEW("update", BCON_UTF8("campaigns"),
                                  "updates", "[", "{",
                                      "q", "{", "_id", BCON_OID(&id),
                                      "}",
                                      "u", "{", "$set", "{",
                                          field, BCON_UTF8(text),
                                      "}", "}",
                                  "}", "]"));
}


static int
mongo_upload_forget(fixture_t *f, const char *file)
{
    return mongo_exec(f, BCON_NEW("delete", BCON_UTF8("media"),
                                  "deletes", "[", "{",
                                      "q", "{", "file", BCON_UTF8(file), "}",
                                      "limit", BCON_INT32(1),
                                  "}", "]"));
}


static const backend_t  mongo_backend = {
    .name = "mongodb",
    .missing_id = "64f1a0000000000000009999",
    .make = mongo_make,
    .drop = mongo_drop,
    .opt_out = mongo_opt_out,
    .queue_bulk = mongo_queue_bulk,
    .number_remove = mongo_number_remove,
    .user_gone = mongo_user_gone,
    .draft_text = mongo_draft_text,
    .upload_forget = mongo_upload_forget,
};


/* Fixtures */

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


/* A new store of the pass's backend with one organization owning NUMBER;
 * 0 or -1. */
static int
fixture_open(fixture_t *f)
{
    memset(f, 0, sizeof(fixture_t));
    f->backend = backend;

    if (backend->make(f) != 0) {
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
    f->backend->drop(f);
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


static int events_of(const inbox_event_list_t *events, const char *type);
static int replays_as_live(fixture_t *f, int64_t after_seq,
    const inbox_event_list_t *live);


/* Ingests one message to NUMBER that arrived at `at` and that the
 * carrier says the contact sent at sent_at (as Telnyx says). */
static inbox_status_t
receive_sent(fixture_t *f, const char *provider_id, const char *from,
    const char *body, int64_t at, int64_t sent_at,
    inbox_ingest_result_t *result)
{
    inbound_t  m;

    inbound_init(&m, provider_id, from, NUMBER, body, at);
    m.in.carrier = INBOX_CARRIER_TELNYX;
    m.in.carrier_at = sent_at;

    return inbox_store_inbound_ingest(f->store, &m.in, 1, result, NULL,
                                      NULL);
}


/* A person's action on the organization's conversation; the conversation
 * as it is then is not kept. */
static inbox_status_t
act(fixture_t *f, const char *conversation_id, inbox_action_t action,
    inbox_event_list_t *events)
{
    inbox_status_t        status;
    inbox_conversation_t  c;

    status = inbox_store_conversation_act(f->store, f->org, conversation_id,
                                          action, &c, events, NULL);
    inbox_conversation_free(&c);

    return status;
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


/*
 * Every page of a search, limit threads at a time, following the cursor:
 * the phone numbers in order in out (at most max), their count, or -1
 * on failure.  A page must be full unless it is the last one.
 */
static long
walk_pages(fixture_t *f, inbox_filter_t filter, const char *q,
    unsigned limit, char (*out)[INBOX_PHONE_MAX], size_t max)
{
    long                        n;
    size_t                      i;
    char                        cursor[INBOX_CURSOR_MAX];
    unsigned                    pages;
    inbox_conversation_query_t  query;
    inbox_conversation_page_t   page;

    n = 0;
    cursor[0] = '\0';

    for (pages = 0; pages < 10000; pages++) {
        memset(&query, 0, sizeof(query));
        query.filter = filter;
        query.q = q;
        query.cursor = cursor;
        query.limit = limit;

        if (inbox_store_conversations_list(f->store, f->org, &query, &page,
                                           NULL)
            != INBOX_OK)
        {
            return -1;
        }

        for (i = 0; i < page.count; i++) {
            if ((size_t) n < max) {
                snprintf(out[n], INBOX_PHONE_MAX, "%s",
                         page.items[i].contact.phone);
            }
            n++;
        }

        snprintf(cursor, sizeof(cursor), "%s", page.next_cursor);

        if (page.count < limit && cursor[0] != '\0') {
            inbox_conversation_page_free(&page);
            return -1;
        }

        inbox_conversation_page_free(&page);

        if (cursor[0] == '\0') {
            return n;
        }
    }

    return -1;
}


/* Ingests n messages, one each from "+1555" and seven digits from first
 * on, a minute apart from at on, in one batch; 0 or -1. */
static int
receive_many(fixture_t *f, const char *prefix, unsigned first, unsigned n,
    int64_t at)
{
    int                     rc;
    char                    sid[64], from[INBOX_PHONE_MAX];
    unsigned                i;
    inbound_t              *m;
    inbox_inbound_t        *in;
    inbox_event_list_t      events;
    inbox_ingest_result_t  *r;

    m = calloc(n, sizeof(inbound_t));
    in = calloc(n, sizeof(inbox_inbound_t));
    r = calloc(n, sizeof(inbox_ingest_result_t));
    rc = -1;

    if (m != NULL && in != NULL && r != NULL) {
        for (i = 0; i < n; i++) {
            snprintf(sid, sizeof(sid), "%s%u", prefix, first + i);
            snprintf(from, sizeof(from), "+1555%07u", first + i);
            inbound_init(&m[i], sid, from, NUMBER, "hi",
                         at + (int64_t) i * MINUTE);
            in[i] = m[i].in;
            in[i].provider_id = m[i].provider_id;
        }

        memset(&events, 0, sizeof(events));
        rc = inbox_store_inbound_ingest(f->store, in, n, r, &events, NULL)
             == INBOX_OK ? 0 : -1;
        inbox_event_list_free(&events);
    }

    free(m);
    free(in);
    free(r);

    return rc;
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


static int64_t
unread_total(fixture_t *f, const char *org)
{
    inbox_realtime_state_t  state;

    if (inbox_store_realtime_state(f->store, org, &state, NULL) != INBOX_OK) {
        return -1;
    }

    return state.unread_total;
}


static int64_t
unread_count(fixture_t *f, const char *conversation_id)
{
    int64_t               n;
    inbox_conversation_t  c;

    n = -1;

    if (inbox_store_conversation_get(f->store, f->org, conversation_id, &c,
                                     NULL)
        == INBOX_OK)
    {
        n = c.unread_count;
    }

    inbox_conversation_free(&c);
    return n;
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


/* Adds a token to the fixture's organization; id may be NULL. */
static inbox_status_t
token_add(fixture_t *f, const char *email, const char *hash,
    const char *name, int64_t expires_at, char id[INBOX_ID_MAX])
{
    return inbox_store_token_add(f->store, f->org, email, hash, name,
                                 expires_at, id, NULL);
}


/* replies, the outbox and billing: helpers */


#define HOUR  3600000LL
#define NOON  (T0 + 12 * HOUR)          /* outside quiet hours in UTC */


/* A reply of credits credits (one segment); key NULL for none. */
static void
reply_init(inbox_reply_t *r, const char *conversation_id, const char *body,
    unsigned credits, const char *key)
{
    memset(r, 0, sizeof(inbox_reply_t));
    r->conversation_id = conversation_id;
    r->body = body;
    r->segments = 1;
    r->credits = credits;
    r->idempotency_key = key;
}


/* One reply of one credit; result, events and err may be NULL. */
static inbox_status_t
reply(fixture_t *f, const char *conversation_id, const char *body,
    const char *key, inbox_reply_result_t *result, inbox_event_list_t *events,
    inbox_error_t *err)
{
    inbox_reply_t         r;
    inbox_status_t        status;
    inbox_reply_result_t  unused;

    reply_init(&r, conversation_id, body, 1, key);

    status = inbox_store_reply_accept(f->store, f->org, &r,
                                      result ? result : &unused, events, err);

    if (result == NULL) {
        inbox_reply_result_free(&unused);
    }

    return status;
}


/* The thread's last message becomes a reply (with a credit for it);
 * 0 or -1. */
static int
answer(fixture_t *f, const char *conversation_id)
{
    if (inbox_store_credits_grant(f->store, f->org, 1, NULL) != INBOX_OK
        || reply(f, conversation_id, "on it", NULL, NULL, NULL, NULL)
           != INBOX_OK)
    {
        return -1;
    }

    return 0;
}


static int64_t
balance_of(fixture_t *f, const char *org)
{
    inbox_billing_t  b;

    if (inbox_store_billing_get(f->store, org, &b, NULL) != INBOX_OK) {
        return -1;
    }

    return b.balance;
}


static int64_t
held_of(fixture_t *f, const char *org)
{
    inbox_billing_t  b;

    if (inbox_store_billing_get(f->store, org, &b, NULL) != INBOX_OK) {
        return -1;
    }

    return b.held;
}


/*
 * The organization's whole ledger, two entries a page, newest first:
 * what its entries add up to (balance and held), and how many there
 * are, or -1 on failure or when (chain) an entry does not say the
 * balances its predecessor's and its own change make (MongoDB, without
 * transactions, orders concurrent changes only by their documents).
 */
static long
ledger_read(fixture_t *f, const char *org, int chain, int64_t *balance,
    int64_t *held, inbox_ledger_entry_t *newest)
{
    long                 n;
    size_t               i;
    char                 cursor[INBOX_CURSOR_MAX];
    int64_t              b, h;
    inbox_ledger_page_t  page;
    inbox_ledger_entry_t prev;

    n = 0;
    *balance = 0;
    *held = 0;
    cursor[0] = '\0';
    memset(&prev, 0, sizeof(prev));

    do {
        if (inbox_store_ledger_list(f->store, org, cursor, 2, &page, NULL)
            != INBOX_OK)
        {
            inbox_ledger_page_free(&page);
            return -1;
        }

        for (i = 0; i < page.count; i++) {
            if (page.items[i].credits <= 0) {
                inbox_ledger_page_free(&page);
                return -1;
            }

            /* newest first: the one read before came after this one */
            if (n > 0 && chain) {
                b = page.items[i].balance
                    + inbox_ledger_balance_change(prev.kind, prev.credits);
                h = page.items[i].held
                    + inbox_ledger_held_change(prev.kind, prev.credits);

                if (b != prev.balance || h != prev.held) {
                    inbox_ledger_page_free(&page);
                    return -1;
                }

            } else if (n == 0 && newest != NULL) {
                *newest = page.items[i];
            }

            *balance += inbox_ledger_balance_change(page.items[i].kind,
                                                    page.items[i].credits);
            *held += inbox_ledger_held_change(page.items[i].kind,
                                              page.items[i].credits);
            prev = page.items[i];
            n++;
        }

        snprintf(cursor, sizeof(cursor), "%s", page.next_cursor);
        inbox_ledger_page_free(&page);

    } while (cursor[0] != '\0' && n < 100000);

    return n;
}


static long
ledger_walk(fixture_t *f, const char *org, int64_t *balance, int64_t *held,
    inbox_ledger_entry_t *newest)
{
    return ledger_read(f, org, 1, balance, held, newest);
}


/* Whether the ledger adds up to what billing shows. */
static int
ledger_balances(fixture_t *f, const char *org)
{
    int64_t  balance, held;

    return ledger_read(f, org, f->backend == &sqlite_backend, &balance,
                       &held, NULL) >= 0
           && balance == balance_of(f, org) && held == held_of(f, org);
}


/* Claims what is due at now: the count, or -1 on failure; the batch is
 * the caller's to free. */
static long
claim(fixture_t *f, int64_t now, size_t max, inbox_outbox_batch_t *batch)
{
    if (inbox_store_outbox_claim(f->store, now, now, max, 0,
                                 INBOX_OUTBOX_BULK, NULL, batch, NULL)
        != INBOX_OK)
    {
        return -1;
    }

    return (long) batch->count;
}


/* Claims what is due at now while the campaigns' clock reads noon, when
 * quiet hours hold nothing: for tests whose replies carry the real time
 * of day, so that a campaign message beside them is due at any hour. */
static long
claim_by_day(fixture_t *f, int64_t now, size_t max,
    inbox_outbox_batch_t *batch)
{
    if (inbox_store_outbox_claim(f->store, now, NOON, max, 0,
                                 INBOX_OUTBOX_BULK, NULL, batch, NULL)
        != INBOX_OK)
    {
        return -1;
    }

    return (long) batch->count;
}


/* The status of the message of the conversation with that id, "" when
 * not found. */
static void
status_of(fixture_t *f, const char *conversation_id, const char *message_id,
    char status[16], char error_code[32])
{
    size_t                i;
    inbox_message_page_t  page;

    status[0] = '\0';
    error_code[0] = '\0';

    if (inbox_store_messages_list(f->store, f->org, conversation_id, NULL,
                                  INBOX_LIST_LIMIT_MAX, &page, NULL)
        == INBOX_OK)
    {
        for (i = 0; i < page.count; i++) {
            if (strcmp(page.items[i].id, message_id) == 0) {
                snprintf(status, 16, "%s", page.items[i].status);
                snprintf(error_code, 32, "%s", page.items[i].error_code);
            }
        }
    }

    inbox_message_page_free(&page);
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

    /* only the first one tells the browsers: its message, and the
     * contact it made */
    CHECK_INT(events.count, 4);
    CHECK_INT(events_of(&events, "contact.updated"), 1);
    CHECK_INT(message_count(&f, results[0].conversation_id), 1);

    CHECK_INT(inbox_store_conversation_get(f.store, f.org,
                                           results[0].conversation_id, &c,
                                           NULL), INBOX_OK);
    CHECK_INT(c.unread_count, 1);
    inbox_conversation_free(&c);

    CHECK_INT(org_seq(&f, f.org), 4);

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

    CHECK_INT(events.count, 4);
    CHECK_INT(events_of(&events, "contact.updated"), 1);

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
    CHECK_INT(org_seq(&f, f.org), 4);

    inbox_event_list_free(&events);
    fixture_close(&f);
}


/* Unread counts */

TEST(stream_positions_of_several_organizations_in_one_call)
{
    char                     other[INBOX_ID_MAX];
    const char              *ids[4];
    fixture_t                f;
    inbox_error_t            err;
    inbox_realtime_state_t   state;
    inbox_stream_position_t  at[4];

    FIXTURE(&f);

    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);
    CHECK_INT(receive(&f, "SM1", ALICE, "one", T0, NULL, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", ALICE, "two", T0 + 1, NULL, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_realtime_state(f.store, f.org, &state, &err),
              INBOX_OK);

    /* an unknown and a malformed id are zeroed, the others as they are */
    ids[0] = other;
    ids[1] = f.org;
    ids[2] = f.backend == &sqlite_backend ? "999999"
                                          : "64f1a00000000000000fffff";
    ids[3] = "not an id";
    memset(at, 0xff, sizeof(at));
    CHECK_INT(inbox_store_stream_positions(f.store, ids, 4, at, &err),
              INBOX_OK);
    CHECK_INT(at[0].org_seq, 0);
    CHECK(at[0].epoch[0] != '\0');
    CHECK_INT(at[1].org_seq, state.org_seq);
    CHECK(state.org_seq > 0);
    CHECK_STR(at[1].epoch, state.epoch);
    CHECK_INT(at[2].org_seq, 0);
    CHECK_STR(at[2].epoch, "");
    CHECK_INT(at[3].org_seq, 0);
    CHECK_STR(at[3].epoch, "");

    CHECK_INT(inbox_store_stream_positions(f.store, ids,
                                           INBOX_STREAM_POSITIONS_MAX + 1,
                                           at, &err), INBOX_ERR_INVALID);

    fixture_close(&f);
}


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
    CHECK_INT(act(&f, alice.conversation_id, INBOX_ACTION_ARCHIVE, NULL),
              INBOX_OK);

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

    /* each message's three, and each new contact's one */
    CHECK_INT(events.count, 8);
    CHECK_INT(org_seq(&f, f.org), 8);

    inbox_event_list_free(&events);
    fixture_close(&f);
}


/* Archived threads */

TEST(a_new_inbound_message_brings_an_archived_thread_back)
{
    fixture_t              f;
    inbox_event_list_t     events;
    inbox_ingest_result_t  r;
    inbox_conversation_t   c;

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, &r, NULL), INBOX_OK);
    CHECK_INT(act(&f, r.conversation_id, INBOX_ACTION_READ, NULL), INBOX_OK);
    CHECK_INT(act(&f, r.conversation_id, INBOX_ACTION_ARCHIVE, NULL),
              INBOX_OK);

    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, NULL), 0);
    CHECK_INT(list_count(&f, INBOX_FILTER_ARCHIVED, NULL), 1);

    memset(&events, 0, sizeof(events));
    CHECK_INT(receive(&f, "SM2", ALICE, "again", T0 + MINUTE, &r, &events),
              INBOX_OK);

    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, NULL), 1);
    CHECK_INT(list_count(&f, INBOX_FILTER_ARCHIVED, NULL), 0);

    /* browsers are told so live: the thread back in All, counted unread */
    CHECK_INT(events.count, 3);
    if (events.count == 3) {
        CHECK(strstr(events.items[1].json, "\"archived\":false") != NULL);
        CHECK(strstr(events.items[2].json, "\"count\":1") != NULL);
    }
    CHECK_INT(unread_total(&f, f.org), 1);
    inbox_event_list_free(&events);

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
        /* the tabs' counts come with the first page alone */
        CHECK_INT(page.has_counts, page_no == 0);
        CHECK_INT(page.counts[INBOX_FILTER_ALL], page_no == 0 ? 7 : 0);

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

    CHECK_INT(act(&f, bob.conversation_id, INBOX_ACTION_READ, NULL),
              INBOX_OK);
    CHECK_INT(act(&f, carol.conversation_id, INBOX_ACTION_READ, NULL),
              INBOX_OK);
    CHECK_INT(answer(&f, carol.conversation_id), 0);
    CHECK_INT(act(&f, dave.conversation_id, INBOX_ACTION_STAR, NULL),
              INBOX_OK);
    CHECK_INT(act(&f, erin.conversation_id, INBOX_ACTION_ARCHIVE, NULL),
              INBOX_OK);

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
    CHECK_INT(act(&f, dave.conversation_id, INBOX_ACTION_ARCHIVE, NULL),
              INBOX_OK);
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


/*
 * One or two characters are too few for a trigram index: they match as
 * any other search does (SQLite walks the threads instead of looking the
 * matches up), and so does a search whose digits are one or two.
 */
TEST(a_search_of_one_or_two_characters_matches_like_any_other)
{
    char       id[INBOX_ID_MAX];
    fixture_t  f;

    FIXTURE(&f);

    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, ALICE, "Alice Walker",
                                         id, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, BOB, "Bob Stone", id,
                                         NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, "+447700900123",
                                         "Zo\xc3\xab Ng", id, NULL),
              INBOX_OK);
    CHECK_INT(receive(&f, "SM1", ALICE, "a", T0, NULL, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "b", T0 + 1, NULL, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM3", "+15556667777", "c", T0 + 2, NULL, NULL),
              INBOX_OK);
    CHECK_INT(receive(&f, "SM4", "+447700900123", "d", T0 + 3, NULL, NULL),
              INBOX_OK);

    /* a letter anywhere in a name, whatever the case */
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "a"), 1);
    CHECK(list_shows(&f, INBOX_FILTER_ALL, "a", ALICE));
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "K"), 1);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "nG"), 1);
    CHECK(list_shows(&f, INBOX_FILTER_ALL, "nG", "+447700900123"));
    /* two characters in three bytes, and three in four */
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "o\xc3\xab"), 1);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "ZO\xc3\xab"), 1);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "ali"), 1);

    /* one or two digits, however written */
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "98"), 1);
    CHECK(list_shows(&f, INBOX_FILTER_ALL, "98", BOB));
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "7"), 4);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "(7"), 4);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "+4"), 3);
    /* a search with letters is a name's, digits and all: none has this */
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "Bob 5"), 0);

    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "zq"), 0);
    CHECK_INT(list_count(&f, INBOX_FILTER_UNREAD, "b"), 1);

    fixture_close(&f);
}


/* Formatting around the digits does not matter, however much of it. */
TEST(a_phone_search_ignores_every_kind_of_formatting)
{
    fixture_t  f;

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", ALICE, "a", T0, NULL, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "b", T0 + 1, NULL, NULL), INBOX_OK);

    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "+1 (555) 123-4567"), 1);
    CHECK(list_shows(&f, INBOX_FILTER_ALL, "+1 (555) 123-4567", ALICE));
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "555.987.65"), 1);
    CHECK(list_shows(&f, INBOX_FILTER_ALL, "555.987.65", BOB));
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "tel: 1-555-98"), 1);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "(555)"), 2);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "45 67"), 1);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "+1555123456789"), 0);

    fixture_close(&f);
}


/*
 * A number typed as it is dialled, after a trunk "0" or an international
 * "00" or "011", is found too: E.164 holds none of them.  Before and
 * after maintenance (SQLite indexes the contact then).
 */
TEST(a_phone_search_finds_a_number_typed_as_it_is_dialled)
{
    int        round;
    fixture_t  f;

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", "+447700900123", "a", T0, NULL, NULL),
              INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "b", T0 + 1, NULL, NULL), INBOX_OK);

    for (round = 0; round < 2; round++) {
        CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "07700 900123"), 1);
        CHECK(list_shows(&f, INBOX_FILTER_ALL, "07700 900123",
                         "+447700900123"));
        CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "0044 7700 900123"), 1);
        CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "011 44 7700 900"), 1);
        /* still a part of the number as typed, too */
        CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "0090012"), 1);
        /* the shortest dialled part looked up: 3 digits after the 0 */
        CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "0770"), 1);
        CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "07700 900124"), 0);
        /* the trunk "0" written after the country code, as contacts are
         * made from it (phone.h) */
        CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "+44 07700 900123"), 1);
        CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "+44 (0)7700 900"), 1);
        CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "0044 07700 900123"), 1);
        CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "+44 07700 900124"), 0);

        CHECK_INT(inbox_store_maintain(f.store, NULL), INBOX_OK);
    }

    fixture_close(&f);
}


/* How many threads, and how many contacts, q finds with its numbers
 * read as written in country: the count of each, or -1 on failure. */
static long
search_count(fixture_t *f, const char *q, const char *country,
    int contacts)
{
    long                        count;
    inbox_contact_page_t        people;
    inbox_contact_query_t       cq;
    inbox_conversation_page_t   threads;
    inbox_conversation_query_t  query;

    count = -1;

    if (contacts) {
        memset(&cq, 0, sizeof(cq));
        cq.q = q;
        cq.country = country;
        cq.limit = INBOX_LIST_LIMIT_MAX;

        if (inbox_store_contacts_list(f->store, f->org, &cq, &people, NULL)
            == INBOX_OK)
        {
            count = (long) people.count;
        }

        inbox_contact_page_free(&people);
        return count;
    }

    memset(&query, 0, sizeof(query));
    query.q = q;
    query.country = country;
    query.limit = INBOX_LIST_LIMIT_MAX;

    if (inbox_store_conversations_list(f->store, f->org, &query, &threads,
                                       NULL)
        == INBOX_OK)
    {
        count = (long) threads.count;
    }

    inbox_conversation_page_free(&threads);
    return count;
}


/*
 * Mexico's mobile "1", retired in 2019, as people still write it: a
 * contact added as "+52 1 55 1234 5678", or "1 55 1234 5678" in MX, is
 * +525512345678 (phone.h), and a search written either way, whole or in
 * part, finds it; in the US a national "1" is its own country code, and
 * looks for nothing more.  Threads and contacts, each plan: the pending
 * few, the index, and a scan (a part too short for the index).
 */
TEST(a_search_finds_mexicos_numbers_written_with_the_retired_mobile_one)
{
    int        round, contacts;
    fixture_t  f;

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", "+525512345678", "hola", T0, NULL, NULL),
              INBOX_OK);
    CHECK_INT(receive(&f, "SM2", "+12125512345", "hi", T0 + 1, NULL, NULL),
              INBOX_OK);

    for (round = 0; round < 2; round++) {
        for (contacts = 0; contacts < 2; contacts++) {
            CHECK_INT(search_count(&f, "+52 1 55 1234 5678", NULL,
                                   contacts), 1);
            CHECK_INT(search_count(&f, "+52 1 55 1234", "MX", contacts), 1);
            CHECK_INT(search_count(&f, "0052 1 55 1234", "MX", contacts),
                      1);
            CHECK_INT(search_count(&f, "1 55 1234 5678", "MX", contacts),
                      1);
            CHECK_INT(search_count(&f, "1 55 1234", "MX", contacts), 1);
            CHECK_INT(search_count(&f, "1 5", "MX", contacts), 1);
            CHECK_INT(search_count(&f, "1 55 1234 5679", "MX", contacts),
                      0);
            /* read as a US number: its own digits only */
            CHECK_INT(search_count(&f, "1 55 1234", "US", contacts), 0);
            CHECK_INT(search_count(&f, "1 55 1234", NULL, contacts), 0);
            CHECK_INT(search_count(&f, "212 5512", "MX", contacts), 1);
        }

        CHECK_INT(inbox_store_maintain(f.store, NULL), INBOX_OK);
    }

    fixture_close(&f);
}


/*
 * A search with letters in it is a name's: "Suite 4" or "Dave 2" finds
 * the names that have it, not every number with a 4 or a 2 in it.
 */
TEST(a_search_with_letters_looks_for_a_name_only)
{
    int        round;
    char       id[INBOX_ID_MAX];
    fixture_t  f;

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", "+15552220001", "a", T0, NULL, NULL),
              INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "b", T0 + 1, NULL, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, "+15554440002",
                                         "Suite 4 Reception", id, NULL),
              INBOX_OK);
    CHECK_INT(receive(&f, "SM3", "+15554440002", "c", T0 + 2, NULL, NULL),
              INBOX_OK);

    for (round = 0; round < 2; round++) {
        CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "Dave 2"), 0);
        CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "Suite 4"), 1);
        CHECK(list_shows(&f, INBOX_FILTER_ALL, "suite 4", "+15554440002"));
        /* the digits alone are a number's */
        CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "222 0001"), 1);

        CHECK_INT(inbox_store_maintain(f.store, NULL), INBOX_OK);
    }

    fixture_close(&f);
}


/*
 * A name is found without its case, its accents or the kind of its
 * apostrophe, typed either way: "jose" is José, "NUÑEZ" is Núñez, and a
 * phone's curly "O’Brien" is O'Brien.  In any script, and first of
 * all as it was typed: "Йосиф", "Άννα", "ジョン", "Straße" (or
 * "strasse"), a full-width "FULL" and "山田 太郎" with its ideographic
 * space find themselves, in the threads and in the contacts list.
 * Before and after maintenance.
 */
TEST(a_name_is_found_without_its_case_or_accents)
{
    int         round;
    size_t      i;
    char        id[INBOX_ID_MAX];
    char        found[2][INBOX_PHONE_MAX];
    fixture_t   f;
    static const struct {
        const char  *q;
        const char  *phone;
    } finds[] = {
        { "jose", ALICE }, { "JOSÉ", ALICE }, { "nunez", ALICE },
        { "NÚÑEZ", ALICE }, { "jose  nunez", ALICE },
        { "o'brien", BOB }, { "O\xe2\x80\x99" "BRIEN", BOB },
        { "\xc3\xa9mile", "+15557654321" }, { "EMILE", "+15557654321" },
        { "Zo\xc3\xab", "+15550001111" }, { "ZOE", "+15550001111" },
        { "\xd0\x99\xd0\xbe\xd1\x81\xd0\xb8\xd1\x84", "+15550002001" },
        { "\xd0\xb9\xd0\xbe\xd1\x81\xd0\xb8\xd1\x84", "+15550002001" },
        { "\xd0\x90\xd0\xbd\xd0\xb4\xd1\x80\xd0\xb5\xd0\xb9",
          "+15550002002" },
        { "\xd0\x90\xd0\x9d\xd0\x94\xd0\xa0\xd0\x95\xd0\x99",
          "+15550002002" },
        { "\xce\x86\xce\xbd\xce\xbd\xce\xb1", "+15550002003" },
        { "\xce\xb1\xce\xbd\xce\xbd\xce\xb1", "+15550002003" },
        { "\xe3\x82\xb8\xe3\x83\xa7\xe3\x83\xb3", "+15550002004" },
        { "Stra\xc3\x9f" "e", "+15550002005" },
        { "strasse", "+15550002005" },
        { "\xef\xbc\xa6\xef\xbc\xb5\xef\xbc\xac\xef\xbc\xac",
          "+15550002006" },
        { "full width", "+15550002006" },
        { "\xe5\xb1\xb1\xe7\x94\xb0\xe3\x80\x80\xe5\xa4\xaa\xe9\x83\x8e",
          "+15550002007" },
        { "\xe5\xb1\xb1\xe7\x94\xb0 \xe5\xa4\xaa\xe9\x83\x8e",
          "+15550002007" }
    };
    /* as typed: Cyrillic, Greek with its tonos, katakana, a sharp s,
     * full-width letters, an ideographic space (U+3000) */
    static const struct {
        const char  *phone;
        const char  *name;
    } names[] = {
        { "+15550002001", "\xd0\x99\xd0\xbe\xd1\x81\xd0\xb8\xd1\x84 "
          "\xd0\xa1\xd1\x82\xd0\xb0\xd0\xbb\xd0\xb8\xd0\xbd" },
        { "+15550002002", "\xd0\x90\xd0\xbd\xd0\xb4\xd1\x80\xd0\xb5\xd0\xb9 "
          "\xd0\xa0\xd1\x83\xd0\xb1\xd0\xbb\xd1\x91\xd0\xb2" },
        { "+15550002003", "\xce\x86\xce\xbd\xce\xbd\xce\xb1 "
          "\xce\xa0\xce\xb1\xcf\x80\xcf\x80\xce\xac" },
        { "+15550002004", "\xe3\x82\xb8\xe3\x83\xa7\xe3\x83\xb3 Smith" },
        { "+15550002005", "Stra\xc3\x9f" "e M\xc3\xbcller" },
        { "+15550002006", "\xef\xbc\xa6\xef\xbc\xb5\xef\xbc\xac"
          "\xef\xbc\xac Width" },
        { "+15550002007", "\xe5\xb1\xb1\xe7\x94\xb0\xe3\x80\x80"
          "\xe5\xa4\xaa\xe9\x83\x8e" }
    };

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", ALICE, "a", T0, NULL, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, ALICE,
                                         "Jos\xc3\xa9 N\xc3\xba\xc3\xb1" "ez",
                                         id, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "b", T0 + 1, NULL, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, BOB,
                                         "Dan O\xe2\x80\x99" "Brien", id,
                                         NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM3", "+15557654321", "c", T0 + 2, NULL, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, "+15557654321",
                                         "\xc3\x89MILE Zola", id, NULL),
              INBOX_OK);
    /* a name stored decomposed: e and a combining diaeresis */
    CHECK_INT(receive(&f, "SM4", "+15550001111", "d", T0 + 3, NULL, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, "+15550001111",
                                         "Zoe\xcc\x88 Fairweather", id,
                                         NULL), INBOX_OK);

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char  sid[16];

        CHECK_INT(inbox_store_contact_upsert(f.store, f.org, names[i].phone,
                                             names[i].name, id, NULL),
                  INBOX_OK);
        /* listed with a message */
        snprintf(sid, sizeof(sid), "SMN%zu", i);
        CHECK_INT(receive(&f, sid, names[i].phone, "hi", T0 + 10
                          + (int64_t) i, NULL, NULL), INBOX_OK);
    }

    for (round = 0; round < 2; round++) {
        for (i = 0; i < sizeof(finds) / sizeof(finds[0]); i++) {
            CHECK_INT(list_count(&f, INBOX_FILTER_ALL, finds[i].q), 1);
            CHECK(list_shows(&f, INBOX_FILTER_ALL, finds[i].q,
                             finds[i].phone));

            /* the contacts list searches the same */
            CHECK_INT(contacts_pages(&f, finds[i].q, NULL, 50, found, 2), 1);
            CHECK_STR(found[0], finds[i].phone);
        }

        CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "josie"), 0);
        CHECK_INT(inbox_store_maintain(f.store, NULL), INBOX_OK);
    }

    fixture_close(&f);
}


/*
 * A name is found whatever separates its parts, typed any way: "oconnor",
 * "o connor" and "o'connor" find O’Connor, "jean luc" and "jeanluc"
 * Jean-Luc, "st john" St. John, in the threads and the contacts list,
 * before and after maintenance; letters still count ("oconnel" finds
 * none), and a search of punctuation alone finds no name.
 */
TEST(a_name_is_found_whatever_separates_its_parts)
{
    int         round;
    size_t      i;
    char        id[INBOX_ID_MAX];
    char        found[2][INBOX_PHONE_MAX];
    fixture_t   f;
    static const struct {
        const char  *q;
        const char  *phone;
    } finds[] = {
        { "oconnor", ALICE }, { "o connor", ALICE }, { "o'connor", ALICE },
        { "O\xe2\x80\x99" "CONNOR", ALICE }, { "siobhan oconnor", ALICE },
        { "jean luc", BOB }, { "jeanluc", BOB }, { "jean-luc", BOB },
        { "st john", BOB }, { "stjohn", BOB }, { "lucst", BOB }
    };

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", ALICE, "a", T0, NULL, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, ALICE,
                                         "Siobh\xc3\xa1n O\xe2\x80\x99"
                                         "Connor", id, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "b", T0 + 1, NULL, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, BOB,
                                         "Jean-Luc St. John", id, NULL),
              INBOX_OK);

    for (round = 0; round < 2; round++) {
        for (i = 0; i < sizeof(finds) / sizeof(finds[0]); i++) {
            CHECK_INT(list_count(&f, INBOX_FILTER_ALL, finds[i].q), 1);
            CHECK(list_shows(&f, INBOX_FILTER_ALL, finds[i].q,
                             finds[i].phone));

            CHECK_INT(contacts_pages(&f, finds[i].q, NULL, 50, found, 2), 1);
            CHECK_STR(found[0], finds[i].phone);
        }

        CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "oconnel"), 0);
        CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "'"), 0);
        CHECK_INT(list_count(&f, INBOX_FILTER_ALL, " - "), 0);
        CHECK_INT(inbox_store_maintain(f.store, NULL), INBOX_OK);
    }

    fixture_close(&f);
}


/*
 * Each of named (a thread of its own, then its name) found by the
 * searches of finds that name its phone, and by no other (a find of phone
 * NULL finds none), in the list and the contacts, before and after the
 * index takes them.
 */
typedef struct {
    const char  *phone;
    const char  *name;
} search_named_t;

typedef struct {
    const char  *q;
    const char  *phone;          /* NULL: found by none */
} search_find_t;

static void
search_finds_names(const search_named_t *named, size_t nnamed,
    const search_find_t *finds, size_t nfinds)
{
    int         round;
    size_t      i;
    char        id[INBOX_ID_MAX], sid[16];
    char        found[2][INBOX_PHONE_MAX];
    fixture_t   f;

    FIXTURE(&f);

    for (i = 0; i < nnamed; i++) {
        snprintf(sid, sizeof(sid), "SM%zu", i + 1);
        CHECK_INT(receive(&f, sid, named[i].phone, "hi", T0 + (int64_t) i,
                          NULL, NULL), INBOX_OK);
        CHECK_INT(inbox_store_contact_upsert(f.store, f.org, named[i].phone,
                                             named[i].name, id, NULL),
                  INBOX_OK);
    }

    for (round = 0; round < 2; round++) {
        for (i = 0; i < nfinds; i++) {
            if (finds[i].phone == NULL) {
                CHECK_INT(list_count(&f, INBOX_FILTER_ALL, finds[i].q), 0);
                CHECK_INT(contacts_pages(&f, finds[i].q, NULL, 50, found, 2),
                          0);
                continue;
            }

            CHECK_INT(list_count(&f, INBOX_FILTER_ALL, finds[i].q), 1);
            CHECK(list_shows(&f, INBOX_FILTER_ALL, finds[i].q,
                             finds[i].phone));
            CHECK_INT(contacts_pages(&f, finds[i].q, NULL, 50, found, 2), 1);
            CHECK_STR(found[0], finds[i].phone);
        }

        CHECK_INT(inbox_store_maintain(f.store, NULL), INBOX_OK);
    }

    fixture_close(&f);
}


/*
 * A kana's voicing marks are part of the name: a search for ション
 * (shon) does not find ジョン (John) nor カ ガ, in the list or the
 * contacts, before and after the index takes them, while ジョン finds
 * John however the mark is written (halfwidth: ｼﾞｮﾝ) and "jose" still
 * finds José.
 */
TEST(a_kanas_voicing_marks_are_part_of_the_name_a_search_finds)
{
    /* ジョン・スミス, ガルシア, José Ortega */
    static const search_named_t  named[] = {
        { ALICE, "\xe3\x82\xb8\xe3\x83\xa7\xe3\x83\xb3\xe3\x83\xbb"
                 "\xe3\x82\xb9\xe3\x83\x9f\xe3\x82\xb9" },
        { BOB, "\xe3\x82\xac\xe3\x83\xab\xe3\x82\xb7\xe3\x82\xa2" },
        { CAROL_PHONE, "Jos\xc3\xa9 Ortega" }
    };
    /* ジョン, ｼﾞｮﾝ, ガルシ, jose; then ション, カルシ */
    static const search_find_t  finds[] = {
        { "\xe3\x82\xb8\xe3\x83\xa7\xe3\x83\xb3", ALICE },
        { "\xef\xbd\xbc\xef\xbe\x9e\xef\xbd\xae\xef\xbe\x9d", ALICE },
        { "\xe3\x82\xac\xe3\x83\xab\xe3\x82\xb7", BOB },
        { "jose", CAROL_PHONE },
        { "\xe3\x82\xb7\xe3\x83\xa7\xe3\x83\xb3", NULL },
        { "\xe3\x82\xab\xe3\x83\xab\xe3\x82\xb7", NULL }
    };

    search_finds_names(named, sizeof(named) / sizeof(named[0]), finds,
                       sizeof(finds) / sizeof(finds[0]));
}


/*
 * Staff type a name as they heard it: "lopez maria" finds Maria Lopez as
 * "maria lopez" does (each word, in any order), in the list and the
 * contacts, before and after the index takes them; a short word must be
 * in the name too ("connor o" finds O’Connor, "maria x" none), and every
 * word, not any ("lopez garcia" finds none).
 */
TEST(a_names_words_are_found_in_any_order)
{
    static const search_named_t  named[] = {
        { ALICE, "Maria Lopez" },
        { BOB, "Mariana Garc\xc3\xad" "a" },
        { CAROL_PHONE, "Siobh\xc3\xa1n O\xe2\x80\x99" "Connor" }
    };
    static const search_find_t  finds[] = {
        { "lopez maria", ALICE }, { "maria lopez", ALICE },
        { "lop mar", ALICE }, { "LOPEZ, Maria", ALICE },
        { "garcia mariana", BOB }, { "o connor", CAROL_PHONE },
        { "connor o", CAROL_PHONE }, { "oconnor siobhan", CAROL_PHONE },
        { "lopez garcia", NULL }, { "maria x", NULL },
        { "an mar", BOB }
    };

    search_finds_names(named, sizeof(named) / sizeof(named[0]), finds,
                       sizeof(finds) / sizeof(finds[0]));
}


/*
 * The marks of Indic and Southeast Asian scripts and Cyrillic's Й are
 * part of the name: a search for समित (Samit) does not find सुमित
 * (Sumit), करण (Karan) not किरण (Kiran), Иоанна not Йоанна, in the list
 * or the contacts, before and after the index takes them, while each
 * finds its own; Ё is Е (семен finds Семён) and Arabic's vowel points
 * still fold away (محمد finds مُحَمَّد).
 */
TEST(indic_marks_and_cyrillic_letters_are_part_of_the_name_a_search_finds)
{
    /* सुमित, किरण, Йоанна Семёнова, مُحَمَّد */
    static const search_named_t  named[] = {
        { ALICE, "\xe0\xa4\xb8\xe0\xa5\x81\xe0\xa4\xae\xe0\xa4\xbf"
                 "\xe0\xa4\xa4" },
        { BOB, "\xe0\xa4\x95\xe0\xa4\xbf\xe0\xa4\xb0\xe0\xa4\xa3" },
        { CAROL_PHONE, "\xd0\x99\xd0\xbe\xd0\xb0\xd0\xbd\xd0\xbd\xd0\xb0 "
                       "\xd0\xa1\xd0\xb5\xd0\xbc\xd1\x91\xd0\xbd\xd0\xbe"
                       "\xd0\xb2\xd0\xb0" },
        { "+15552223333", "\xd9\x85\xd9\x8f\xd8\xad\xd9\x8e\xd9\x85\xd9\x8e"
                          "\xd9\x91\xd8\xaf" }
    };
    /* सुमित, किरण, йоанна, семен, محمد; then समित, करण, иоанна */
    static const search_find_t  finds[] = {
        { "\xe0\xa4\xb8\xe0\xa5\x81\xe0\xa4\xae\xe0\xa4\xbf\xe0\xa4\xa4",
          ALICE },
        { "\xe0\xa4\x95\xe0\xa4\xbf\xe0\xa4\xb0\xe0\xa4\xa3", BOB },
        { "\xd0\xb9\xd0\xbe\xd0\xb0\xd0\xbd\xd0\xbd\xd0\xb0", CAROL_PHONE },
        { "\xd1\x81\xd0\xb5\xd0\xbc\xd0\xb5\xd0\xbd", CAROL_PHONE },
        { "\xd9\x85\xd8\xad\xd9\x85\xd8\xaf", "+15552223333" },
        { "\xe0\xa4\xb8\xe0\xa4\xae\xe0\xa4\xbf\xe0\xa4\xa4", NULL },
        { "\xe0\xa4\x95\xe0\xa4\xb0\xe0\xa4\xa3", NULL },
        { "\xd0\x98\xd0\xbe\xd0\xb0\xd0\xbd\xd0\xbd\xd0\xb0", NULL }
    };

    search_finds_names(named, sizeof(named) / sizeof(named[0]), finds,
                       sizeof(finds) / sizeof(finds[0]));
}


/* A contact renamed is found by its new name only. */
TEST(a_renamed_contact_is_found_by_its_new_name)
{
    char       id[INBOX_ID_MAX];
    fixture_t  f;

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", ALICE, "a", T0, NULL, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, ALICE, "Alice Walker",
                                         id, NULL), INBOX_OK);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "walker"), 1);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, ALICE, "Alice Stone",
                                         id, NULL), INBOX_OK);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "walker"), 0);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "stone"), 1);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, ALICE, "", id, NULL),
              INBOX_OK);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "stone"), 0);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "(555) 12"), 1);

    fixture_close(&f);
}


/*
 * A contact is found the moment its first message is stored and after
 * the store's maintenance (SQLite indexes new and renamed contacts
 * then), once either way; a rename is found by its new name only, before
 * and after.
 */
TEST(a_contact_is_found_before_and_after_maintenance)
{
    char       id[INBOX_ID_MAX];
    fixture_t  f;

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", ALICE, "a", T0, NULL, NULL), INBOX_OK);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "(555) 123"), 1);
    CHECK(list_shows(&f, INBOX_FILTER_ALL, "(555) 123", ALICE));
    CHECK_INT(inbox_store_maintain(f.store, NULL), INBOX_OK);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "(555) 123"), 1);

    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, ALICE, "Alice Walker",
                                         id, NULL), INBOX_OK);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "walker"), 1);
    CHECK_INT(inbox_store_maintain(f.store, NULL), INBOX_OK);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "walker"), 1);

    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, ALICE, "Alice Stone",
                                         id, NULL), INBOX_OK);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "stone"), 1);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "walker"), 0);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "(555) 123"), 1);
    CHECK_INT(inbox_store_maintain(f.store, NULL), INBOX_OK);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "stone"), 1);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "walker"), 0);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "(555) 123"), 1);

    fixture_close(&f);
}


/*
 * A search's pages, long or short, by name or by digits, from the
 * default view (archived threads too) or a filter: each match once,
 * newest activity first, every page full but the last.
 */
TEST(search_pages_hold_each_match_once_newest_first)
{
    char                   id[INBOX_ID_MAX], sid[16], from[INBOX_PHONE_MAX];
    char                   name[32];
    char                   got[16][INBOX_PHONE_MAX];
    char                   want[16][INBOX_PHONE_MAX];
    size_t                 i, k, n;
    fixture_t              f;
    inbox_ingest_result_t  r;

    static const struct {
        const char      *q;
        inbox_filter_t   filter;
        int              all;       /* every thread matches */
    } searches[] = {
        { "smith", INBOX_FILTER_ALL, 0 },
        { "th", INBOX_FILTER_ALL, 0 },
        { "555-0", INBOX_FILTER_ALL, 1 },
        { "0", INBOX_FILTER_ALL, 1 },
        { "smith", INBOX_FILTER_ARCHIVED, 0 },
        { "s", INBOX_FILTER_ARCHIVED, 0 },
    };

    FIXTURE(&f);

    /* 12 threads: every third one named Smith, every fourth archived */
    for (i = 0; i < 12; i++) {
        snprintf(sid, sizeof(sid), "SM%zu", i);
        snprintf(from, sizeof(from), "+1555000%04zu", i);
        snprintf(name, sizeof(name), i % 3 == 0 ? "Pat Smith %zu"
                                                : "Jo Green %zu", i);
        CHECK_INT(inbox_store_contact_upsert(f.store, f.org, from, name, id,
                                             NULL), INBOX_OK);
        CHECK_INT(receive(&f, sid, from, "hi", T0 + (int64_t) i * MINUTE,
                          &r, NULL), INBOX_OK);
        if (i % 4 == 1) {
            CHECK_INT(act(&f, r.conversation_id, INBOX_ACTION_ARCHIVE, NULL),
                      INBOX_OK);
        }
    }

    for (k = 0; k < sizeof(searches) / sizeof(searches[0]); k++) {
        n = 0;
        for (i = 12; i-- > 0; ) {
            if ((searches[k].all || i % 3 == 0)
                && (searches[k].filter != INBOX_FILTER_ARCHIVED
                    || i % 4 == 1))
            {
                snprintf(want[n++], INBOX_PHONE_MAX, "+1555000%04zu", i);
            }
        }

        CHECK_INT(walk_pages(&f, searches[k].filter, searches[k].q, 2, got,
                             16), (long) n);
        for (i = 0; i < n; i++) {
            CHECK_STR(got[i], want[i]);
        }
    }

    fixture_close(&f);
}


/*
 * Many matches (more than SQLite looks up in its index) and few among
 * many threads: each found once, in order, across pages.
 */
TEST(a_search_finds_many_matches_and_few_among_many)
{
    char                   id[INBOX_ID_MAX];
    char                 (*got)[INBOX_PHONE_MAX];
    long                   i;
    fixture_t              f;

    FIXTURE(&f);

    got = calloc(2600, INBOX_PHONE_MAX);
    CHECK(got != NULL);

    CHECK_INT(receive_many(&f, "SMa", 0, 2500, T0), 0);
    /* three named ones among them, the oldest, the newest, one between */
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, "+15550000000",
                                         "Quinn Old", id, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, "+15550001234",
                                         "Quinn Mid", id, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, "+15550002499",
                                         "Quinn New", id, NULL), INBOX_OK);

    if (got != NULL) {
        /* every thread: "555" is in every number */
        CHECK_INT(walk_pages(&f, INBOX_FILTER_ALL, "555", 200, got, 2600),
                  2500);
        CHECK_STR(got[0], "+15550002499");
        CHECK_STR(got[2499], "+15550000000");
        for (i = 1; i < 2500; i++) {
            if (strcmp(got[i - 1], got[i]) <= 0) {
                CHECK(!"newest first");
                break;
            }
        }

        /* 1,000 threads: 1000-1999 hold "1" after "+1555000" */
        CHECK_INT(walk_pages(&f, INBOX_FILTER_ALL, "5550001", 50, got, 2600),
                  1000);

        CHECK_INT(walk_pages(&f, INBOX_FILTER_ALL, "quinn", 2, got, 2600), 3);
        CHECK_STR(got[0], "+15550002499");
        CHECK_STR(got[1], "+15550001234");
        CHECK_STR(got[2], "+15550000000");
        CHECK_INT(walk_pages(&f, INBOX_FILTER_ALL, "qu", 2, got, 2600), 3);
        CHECK_INT(walk_pages(&f, INBOX_FILTER_UNREAD, "Mid", 50, got, 2600),
                  1);
    }

    free(got);
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

    CHECK_INT(events.count, 4);
    if (events.count == 4) {
        CHECK_STR(events.items[0].org_id, other);
        CHECK_STR(events.items[3].org_id, other);
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

/* Each new message appends its three events, and the contact it made
 * its contact.updated, numbered one by one across batches. */
TEST(each_new_message_appends_its_events_in_sequence)
{
    char                    want[128];
    size_t                  i;
    fixture_t               f;
    inbound_t               m[2];
    inbox_inbound_t         batch[2];
    inbox_event_list_t      events;
    inbox_realtime_state_t  state;
    inbox_ingest_result_t   results[2];

    static const char      *types[11] = {
        "message.created", "conversation.updated", "unread.total",
        "contact.updated",
        "message.created", "conversation.updated", "unread.total",
        "contact.updated",
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

    CHECK_INT(events.count, 11);

    for (i = 0; i < events.count && i < 11; i++) {
        CHECK_INT(events.items[i].org_seq, (int64_t) i + 1);
        CHECK_STR(events.items[i].org_id, f.org);
        CHECK_INT(events.items[i].len, strlen(events.items[i].json));

        snprintf(want, sizeof(want), "\"type\":\"%s\"", types[i]);
        CHECK(strstr(events.items[i].json, want) != NULL);

        snprintf(want, sizeof(want), "\"org_seq\":%zu", i + 1);
        CHECK(strstr(events.items[i].json, want) != NULL);

        snprintf(want, sizeof(want), "\"epoch\":\"%s\"", state.epoch);
        CHECK(strstr(events.items[i].json, want) != NULL);
    }

    if (events.count == 11) {
        CHECK(strstr(events.items[0].json, "\"body\":\"first\"") != NULL);
        CHECK(strstr(events.items[3].json, ALICE) != NULL);
        CHECK(strstr(events.items[4].json, "\"body\":\"second\"") != NULL);
        CHECK(strstr(events.items[7].json, BOB) != NULL);
        /* Alice's thread has two unread now; the org three */
        CHECK(strstr(events.items[9].json, "\"unread_count\":2") != NULL);
        CHECK(strstr(events.items[10].json, "\"count\":3") != NULL);
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


/* The preview rule is libinbox's: a message without text previews as
 * "", and the client says what it holds. */
TEST(a_media_only_message_previews_as_empty_with_its_type)
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
    CHECK_STR(c.last_message.preview, "");
    CHECK_STR(c.last_message.media_type, "image/png");
    inbox_conversation_free(&c);

    /* a type as a carrier may write it is a name alone */
    inbound_init(&m, "MM2", BOB, NUMBER, "", T0);
    m.in.media_count = 1;
    snprintf(m.in.media[0].url, sizeof(m.in.media[0].url),
             "https://api.twilio.com/media/ME2");
    snprintf(m.in.media[0].content_type, sizeof(m.in.media[0].content_type),
             "Text/X-VCard; charset=utf-8");
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &r, NULL, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_conversation_get(f.store, f.org, r.conversation_id,
                                           &c, NULL), INBOX_OK);
    CHECK_STR(c.last_message.media_type, "text/x-vcard");
    inbox_conversation_free(&c);

    /* a text after it has none */
    CHECK_INT(receive(&f, "SM2", ALICE, "and this", T0 + 1, &r, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_conversation_get(f.store, f.org, r.conversation_id,
                                           &c, NULL), INBOX_OK);
    CHECK_STR(c.last_message.preview, "and this");
    CHECK_STR(c.last_message.media_type, "");
    inbox_conversation_free(&c);

    fixture_close(&f);
}


/* A carrier's late retry of an older message stores it, but the thread
 * keeps showing the newer one. */
TEST(an_older_message_arriving_late_leaves_the_newer_one_last)
{
    fixture_t              f;
    inbox_ingest_result_t  r;
    inbox_conversation_t   c;

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM2", ALICE, "newer", T0 + MINUTE, &r, NULL),
              INBOX_OK);
    CHECK_INT(receive(&f, "SM1", ALICE, "older", T0, &r, NULL), INBOX_OK);

    CHECK_INT(inbox_store_conversation_get(f.store, f.org, r.conversation_id,
                                           &c, NULL), INBOX_OK);
    CHECK_STR(c.last_message.preview, "newer");
    CHECK_INT(c.last_message.at, T0 + MINUTE);
    CHECK_INT(c.last_activity_at, T0 + MINUTE);
    CHECK_INT(c.unread_count, 2);
    inbox_conversation_free(&c);

    CHECK_INT(message_count(&f, r.conversation_id), 2);

    fixture_close(&f);
}


TEST(a_number_cannot_belong_to_two_orgs)
{
    char            other[INBOX_ID_MAX];
    fixture_t       f;
    inbox_error_t   err;
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
    CHECK_INT(inbox_store_number_add(f.store, &number, &err),
              INBOX_ERR_CONFLICT);
    /* inboxctl's words, the same from both backends */
    CHECK_STR(err.message,
              "The number " NUMBER " already belongs to an organization.");

    /* still the first owner's, with its auth token */
    CHECK_INT(inbox_store_number_find(f.store, NUMBER, &number, NULL),
              INBOX_OK);
    CHECK_STR(number.org_id, f.org);
    CHECK_STR(number.auth_token, "secret");
    inbox_number_free(&number);

    fixture_close(&f);
}


/* New credentials or another API base for a number its organization
 * keeps; another organization cannot touch it. */
TEST(a_number_takes_new_credentials_from_its_own_org_only)
{
    char            other[INBOX_ID_MAX];
    fixture_t       f;
    inbox_number_t  number, got;

    FIXTURE(&f);

    CHECK_INT(inbox_store_org_create(f.store, "Other", NULL, other, NULL),
              INBOX_OK);

    memset(&number, 0, sizeof(number));
    snprintf(number.org_id, sizeof(number.org_id), "%s", other);
    snprintf(number.e164, sizeof(number.e164), "%s", NUMBER);
    number.carrier = INBOX_CARRIER_TWILIO;
    number.auth_token = "stolen";
    CHECK_INT(inbox_store_number_update(f.store, &number, NULL),
              INBOX_ERR_NOT_FOUND);

    snprintf(number.org_id, sizeof(number.org_id), "%s", f.org);
    number.account_sid = "AC00000000000000000000000000000001";
    number.auth_token = "rotated";
    number.api_base = "http://127.0.0.1:8090";
    CHECK_INT(inbox_store_number_update(f.store, &number, NULL), INBOX_OK);

    CHECK_INT(inbox_store_number_find(f.store, NUMBER, &got, NULL),
              INBOX_OK);
    CHECK_STR(got.org_id, f.org);
    CHECK_STR(got.auth_token, "rotated");
    CHECK_STR(got.api_base, "http://127.0.0.1:8090");
    inbox_number_free(&got);

    /* what it no longer has is gone */
    number.api_base = NULL;
    CHECK_INT(inbox_store_number_update(f.store, &number, NULL), INBOX_OK);
    CHECK_INT(inbox_store_number_find(f.store, NUMBER, &got, NULL),
              INBOX_OK);
    CHECK(got.api_base == NULL);
    inbox_number_free(&got);

    snprintf(number.e164, sizeof(number.e164), "+15559990000");
    CHECK_INT(inbox_store_number_update(f.store, &number, NULL),
              INBOX_ERR_NOT_FOUND);

    fixture_close(&f);
}


/* What inboxctl number list shows: an organization's own numbers, in
 * the order they were added, with their carriers and credentials. */
TEST(an_orgs_numbers_are_listed_in_the_order_added)
{
    char                 other[INBOX_ID_MAX], none[INBOX_ID_MAX];
    fixture_t            f;
    inbox_error_t        err;
    inbox_number_t       number;
    inbox_number_list_t  list;

    FIXTURE(&f);

    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);

    memset(&number, 0, sizeof(number));
    snprintf(number.org_id, sizeof(number.org_id), "%s", f.org);
    snprintf(number.e164, sizeof(number.e164), "%s", "+15550000000");
    number.carrier = INBOX_CARRIER_TELNYX;
    number.public_key = "cHVibGljIGtleQ==";
    number.api_key = "KEY0123";
    number.api_base = "http://127.0.0.1:8090";
    number.carrier_answers_keywords = 1;
    CHECK_INT(inbox_store_number_add(f.store, &number, NULL), INBOX_OK);

    CHECK_INT(inbox_store_numbers_list(f.store, f.org, &list, &err),
              INBOX_OK);
    CHECK_INT(list.count, 2);
    CHECK(!list.truncated);
    if (list.count == 2) {
        /* the first is the fixture's, though the other sorts first */
        CHECK_STR(list.items[0].e164, NUMBER);
        CHECK_STR(list.items[0].org_id, f.org);
        CHECK_INT(list.items[0].carrier, INBOX_CARRIER_TWILIO);
        CHECK_STR(list.items[0].auth_token, "secret");
        CHECK(list.items[0].api_key == NULL);
        CHECK(list.items[0].api_base == NULL);
        CHECK_STR(list.items[1].e164, "+15550000000");
        CHECK_INT(list.items[1].carrier, INBOX_CARRIER_TELNYX);
        CHECK_STR(list.items[1].public_key, "cHVibGljIGtleQ==");
        CHECK_STR(list.items[1].api_key, "KEY0123");
        CHECK_STR(list.items[1].api_base, "http://127.0.0.1:8090");
        CHECK(list.items[1].auth_token == NULL);
        CHECK_INT(list.items[1].carrier_answers_keywords, 1);
    }
    inbox_number_list_free(&list);

    /* another organization's only */
    CHECK_INT(inbox_store_numbers_list(f.store, other, &list, &err),
              INBOX_OK);
    CHECK_INT(list.count, 1);
    CHECK_STR(list.count == 1 ? list.items[0].e164 : "", OTHER);
    inbox_number_list_free(&list);

    /* an organization with none has an empty list; no organization is
     * not found */
    CHECK_INT(inbox_store_org_create(f.store, "None", NULL, none, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_numbers_list(f.store, none, &list, &err),
              INBOX_OK);
    CHECK_INT(list.count, 0);
    inbox_number_list_free(&list);
    CHECK_INT(inbox_store_numbers_list(f.store, f.backend->missing_id, &list,
                                       &err), INBOX_ERR_NOT_FOUND);
    CHECK_INT(list.count, 0);

    fixture_close(&f);
}


TEST(an_email_cannot_belong_to_two_users)
{
    char       id[INBOX_ID_MAX];
    fixture_t  f;

    FIXTURE(&f);

    CHECK_INT(inbox_store_user_add(f.store, f.org, "ann@example.com",
                                   INBOX_ROLE_MEMBER, "hash", id, NULL, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_user_add(f.store, f.org, "ann@example.com",
                                   INBOX_ROLE_BILLING, "hash", id, NULL, NULL),
              INBOX_ERR_CONFLICT);
    CHECK_INT(inbox_store_user_add(f.store, f.org, "Ann@Example.com",
                                   INBOX_ROLE_MEMBER, "hash", id, NULL, NULL),
              INBOX_ERR_CONFLICT);

    fixture_close(&f);
}



TEST(a_token_names_its_org_and_role)
{
    char               billing[INBOX_ID_MAX], member[INBOX_ID_MAX];
    fixture_t          f;
    inbox_error_t      err;
    inbox_principal_t  who;

    FIXTURE(&f);

    CHECK_INT(inbox_store_user_add(f.store, f.org, "pay@example.com",
                                   INBOX_ROLE_BILLING, "hash", billing,
                                   NULL, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_user_add(f.store, f.org, "sam@example.com",
                                   INBOX_ROLE_MEMBER, "hash", member,
                                   NULL, NULL),
              INBOX_OK);

    CHECK_INT(token_add(&f, "pay@example.com", "h1", NULL, 0, NULL), INBOX_OK);
    CHECK_INT(token_add(&f, "sam@example.com", "h2", NULL, 0, NULL), INBOX_OK);
    CHECK_INT(token_add(&f, NULL, "h3", NULL, 0, NULL), INBOX_OK);

    CHECK_INT(inbox_store_token_find(f.store, "h1", &who, NULL), INBOX_OK);
    CHECK_STR(who.org_id, f.org);
    CHECK_STR(who.user_id, billing);
    CHECK_INT(who.role, INBOX_ROLE_BILLING);
    /* it does not end by itself */
    CHECK_INT(who.ends_at, 0);

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
                                   INBOX_ROLE_MEMBER, "hash", user, NULL, NULL),
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

    CHECK_INT(inbox_store_tokens_list(f.store, f.backend->missing_id, &list,
                                      &err), INBOX_ERR_NOT_FOUND);
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

    CHECK_INT(inbox_store_token_revoke(f.store, f.org, a, NULL, id, NULL, &err),
              INBOX_OK);
    CHECK_STR(id, a);
    CHECK_INT(inbox_store_token_find(f.store, "ha", &who, &err),
              INBOX_ERR_UNAUTHENTICATED);
    CHECK(strstr(err.message, "revoked") != NULL);
    CHECK_STR(who.org_id, "");
    /* the other token still works */
    CHECK_INT(inbox_store_token_find(f.store, "hb", &who, NULL), INBOX_OK);

    /* by the hash of the token in hand */
    CHECK_INT(inbox_store_token_revoke(f.store, f.org, NULL, "hb", id,
                                       NULL, &err),
              INBOX_OK);
    CHECK_STR(id, b);
    CHECK_INT(inbox_store_token_find(f.store, "hb", &who, &err),
              INBOX_ERR_UNAUTHENTICATED);

    /* revoking again succeeds and keeps the first time */
    first = 0;
    CHECK_INT(inbox_store_tokens_list(f.store, f.org, &list, NULL), INBOX_OK);
    CHECK_INT(list.count, 2);
    if (list.count == 2) {
        first = list.items[0].revoked_at;
        CHECK(first > 0);
        CHECK_INT(inbox_token_state(list.items[0].expires_at,
                                    list.items[0].revoked_at, inbox_now_ms()),
                  INBOX_TOKEN_REVOKED);
    }
    inbox_token_list_free(&list);

    usleep(5000);
    CHECK_INT(inbox_store_token_revoke(f.store, f.org, a, NULL, id, NULL, &err),
              INBOX_OK);

    CHECK_INT(inbox_store_tokens_list(f.store, f.org, &list, NULL), INBOX_OK);
    if (list.count == 2) {
        CHECK_INT(list.items[0].revoked_at, first);
    }
    inbox_token_list_free(&list);

    /* another organization's token cannot be revoked from this one */
    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);
    CHECK_INT(inbox_store_token_add(f.store, other, NULL, "hc", NULL, 0,
                                    theirs, NULL), INBOX_OK);
    CHECK_INT(inbox_store_token_revoke(f.store, f.org, theirs, NULL, id,
                                       NULL, &err), INBOX_ERR_NOT_FOUND);
    CHECK(strcasestr(err.message, "no token") != NULL);
    CHECK_INT(inbox_store_token_revoke(f.store, f.org, NULL, "hc", id,
                                       NULL, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(inbox_store_token_find(f.store, "hc", &who, NULL), INBOX_OK);

    /* unknown tokens and organizations */
    CHECK_INT(inbox_store_token_revoke(f.store, f.org, f.backend->missing_id,
                                       NULL, id, NULL, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(inbox_store_token_revoke(f.store, f.org, "not-an-id", NULL, id,
                                       NULL, &err), INBOX_ERR_NOT_FOUND);
    CHECK_INT(inbox_store_token_revoke(f.store, f.backend->missing_id, a, NULL,
                                       id, NULL, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK(strcasestr(err.message, "organization") != NULL);
    CHECK_INT(inbox_store_token_revoke(f.store, f.org, NULL, NULL, id,
                                       NULL, &err),
              INBOX_ERR_INVALID);

    fixture_close(&f);
}


/*
 * An organization named by an id that names none (one well formed for
 * the backend, and one no backend could have made: an operator's typo)
 * is refused in one sentence whichever backend and operation looked, so
 * that inboxctl says the same of it over SQLite and MongoDB.
 */
TEST(an_unknown_organization_is_refused_in_the_same_words)
{
    size_t              i;
    fixture_t           f;
    inbox_error_t       err;
    inbox_number_t      number;
    inbox_user_list_t   users;
    inbox_token_list_t  tokens;
    char                id[INBOX_ID_MAX], want[INBOX_ERROR_MESSAGE_MAX];
    const char         *orgs[2];

    FIXTURE(&f);

    orgs[0] = f.backend->missing_id;
    orgs[1] = "nope";

    for (i = 0; i < 2; i++) {
        snprintf(want, sizeof(want),
                 "There is no organization with the id \"%s\".", orgs[i]);

        memset(&tokens, 0, sizeof(tokens));
        CHECK_INT(inbox_store_tokens_list(f.store, orgs[i], &tokens, &err),
                  INBOX_ERR_NOT_FOUND);
        CHECK_STR(err.message, want);
        inbox_token_list_free(&tokens);

        CHECK_INT(inbox_store_token_add(f.store, orgs[i], NULL, "h-unknown",
                                        NULL, 0, id, &err),
                  INBOX_ERR_NOT_FOUND);
        CHECK_STR(err.message, want);

        CHECK_INT(inbox_store_token_revoke(f.store, orgs[i],
                                           f.backend->missing_id, NULL, id,
                                           NULL, &err),
                  INBOX_ERR_NOT_FOUND);
        CHECK_STR(err.message, want);

        memset(&users, 0, sizeof(users));
        CHECK_INT(inbox_store_users_list(f.store, orgs[i], &users, &err),
                  INBOX_ERR_NOT_FOUND);
        CHECK_STR(err.message, want);
        inbox_user_list_free(&users);

        CHECK_INT(inbox_store_user_add(f.store, orgs[i], "kim@example.com",
                                       INBOX_ROLE_MEMBER, "$argon2id$k", id,
                                       NULL, &err),
                  INBOX_ERR_NOT_FOUND);
        CHECK_STR(err.message, want);

        CHECK_INT(inbox_store_credits_grant(f.store, orgs[i], 5, &err),
                  INBOX_ERR_NOT_FOUND);
        CHECK_STR(err.message, want);

        CHECK_INT(inbox_store_billing_set(f.store, orgs[i], 0, &err),
                  INBOX_ERR_NOT_FOUND);
        CHECK_STR(err.message, want);

        CHECK_INT(inbox_store_plan_set(f.store, orgs[i],
                                       INBOX_PLAN_UNLIMITED, &err),
                  INBOX_ERR_NOT_FOUND);
        CHECK_STR(err.message, want);

        memset(&number, 0, sizeof(number));
        snprintf(number.org_id, sizeof(number.org_id), "%s", orgs[i]);
        snprintf(number.e164, sizeof(number.e164), "%s", OTHER);
        number.carrier = INBOX_CARRIER_TWILIO;
        number.auth_token = (char *) "secret";
        CHECK_INT(inbox_store_number_add(f.store, &number, &err),
                  INBOX_ERR_NOT_FOUND);
        CHECK_STR(err.message, want);
    }

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
    /* what it opens knows when to close */
    CHECK_INT(who.ends_at, expires_at);

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
TEST(credits_and_billing_need_an_existing_org)
{
    fixture_t  f;

    FIXTURE(&f);

    CHECK_INT(inbox_store_credits_grant(f.store, f.backend->missing_id, 10,
                                        NULL),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(inbox_store_billing_set(f.store, f.backend->missing_id, 0, NULL),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(inbox_store_credits_grant(f.store, "not-an-id", 10, NULL),
              INBOX_ERR_NOT_FOUND);

    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);
    CHECK_INT(inbox_store_billing_set(f.store, f.org, 0, NULL), INBOX_OK);

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

    /* its thread has no message yet: in no list */
    CHECK_INT(list(&f, f.org, INBOX_FILTER_ALL, NULL, &page), INBOX_OK);
    CHECK_INT(page.count, 0);
    CHECK_INT(page.counts[INBOX_FILTER_ALL], 0);
    inbox_conversation_page_free(&page);

    /* a message from her lands in that thread, listed under the name */
    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &r, NULL), INBOX_OK);
    CHECK_INT(list(&f, f.org, INBOX_FILTER_ALL, NULL, &page), INBOX_OK);
    CHECK_INT(page.count, 1);
    if (page.count == 1) {
        CHECK_STR(page.items[0].id, r.conversation_id);
        CHECK_STR(page.items[0].contact.id, contact);
        CHECK_STR(page.items[0].contact.name, "Alice");
        CHECK_STR(page.items[0].contact.phone, ALICE);
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


/* Actions on a thread */

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
    /* 3 a message, 1 a contact made */
    CHECK_INT(state.org_seq, 11);

    CHECK_INT(inbox_store_conversation_act(f.store, f.org,
                                           alice.conversation_id,
                                           INBOX_ACTION_READ, &c, &events,
                                           &err), INBOX_OK);
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

    /* conversation.updated then unread.total, right after the last seq */
    CHECK_INT(events.count, 2);
    if (events.count == 2) {
        CHECK_STR(events.items[0].org_id, f.org);
        CHECK_INT(events.items[0].org_seq, 12);
        CHECK_INT(events.items[1].org_seq, 13);
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

    /* the stream moved on */
    CHECK_INT(org_seq(&f, f.org), 13);

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
    CHECK_INT(act(&f, r.conversation_id, INBOX_ACTION_READ, &events),
              INBOX_OK);
    CHECK_INT(events.count, 2);
    CHECK_INT(org_seq(&f, f.org), 6);

    CHECK_INT(inbox_store_conversation_act(f.store, f.org,
                                           r.conversation_id,
                                           INBOX_ACTION_READ, &c, &events,
                                           NULL), INBOX_OK);
    CHECK_STR(c.id, r.conversation_id);
    CHECK_STR(c.contact.phone, ALICE);
    CHECK_STR(c.last_message.preview, "hello");
    CHECK_INT(c.unread_count, 0);
    inbox_conversation_free(&c);

    /* no event, no seq */
    CHECK_INT(events.count, 2);
    CHECK_INT(org_seq(&f, f.org), 6);
    CHECK_INT(unread_total(&f, f.org), 0);

    /* a caller that pushes nothing passes no list */
    CHECK_INT(act(&f, r.conversation_id, INBOX_ACTION_READ, NULL), INBOX_OK);

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
                                     "99999999", "64f1a0000000000000000c01",
                                     "64f1a0000000000000000c0z" };

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);
    CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, &r, NULL), INBOX_OK);

    CHECK_INT(inbox_store_conversation_act(f.store, other,
                                           r.conversation_id,
                                           INBOX_ACTION_READ, &c, &events,
                                           &err), INBOX_ERR_NOT_FOUND);
    CHECK_INT(err.code, INBOX_ERR_NOT_FOUND);
    inbox_conversation_free(&c);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_INT(inbox_store_conversation_act(f.store, f.org, bad[i],
                                               INBOX_ACTION_READ, &c, &events,
                                               NULL), INBOX_ERR_NOT_FOUND);
        inbox_conversation_free(&c);
    }

    /* the thread stays unread for its own organization */
    CHECK_INT(events.count, 0);
    CHECK_INT(unread_total(&f, f.org), 1);
    CHECK_INT(org_seq(&f, f.org), 4);
    CHECK_INT(org_seq(&f, other), 0);

    inbox_event_list_free(&events);
    fixture_close(&f);
}


TEST(a_thread_without_a_message_cannot_be_marked_unread)
{
    fixture_t               f;
    inbox_error_t           err;
    inbox_event_list_t      events;
    inbox_contact_edit_t    edit;
    inbox_contact_record_t  bob;
    inbox_conversation_t    c;
    inbox_ingest_result_t   r;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));
    memset(&edit, 0, sizeof(edit));

    /* a contact added by hand: a thread no list shows yet */
    CHECK_INT(inbox_store_contact_create(f.store, f.org, BOB, &edit, &bob, NULL,
                                         NULL), INBOX_OK);

    CHECK_INT(inbox_store_conversation_act(f.store, f.org,
                                           bob.conversation_id,
                                           INBOX_ACTION_UNREAD, &c, &events,
                                           &err), INBOX_ERR_CONFLICT);
    CHECK(strstr(err.message, "no message") != NULL);
    CHECK_INT(c.unread_count, 0);
    CHECK_INT(events.count, 0);
    CHECK_INT(unread_total(&f, f.org), 0);
    inbox_conversation_free(&c);

    /* the rest of what a person does to it is kept for when it lists */
    CHECK_INT(act(&f, bob.conversation_id, INBOX_ACTION_STAR, NULL),
              INBOX_OK);

    /* once Bob writes, it can */
    CHECK_INT(receive(&f, "SM1", BOB, "hello", T0, &r, NULL), INBOX_OK);
    CHECK_INT(act(&f, r.conversation_id, INBOX_ACTION_READ, NULL), INBOX_OK);
    CHECK_INT(act(&f, r.conversation_id, INBOX_ACTION_UNREAD, NULL),
              INBOX_OK);
    CHECK_INT(unread_total(&f, f.org), 1);

    inbox_contact_record_free(&bob);
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
    CHECK_INT(act(&f, r.conversation_id, INBOX_ACTION_READ, NULL), INBOX_OK);
    CHECK_INT(unread_total(&f, f.org), 0);

    CHECK_INT(receive(&f, "SM3", ALICE, "still there?", T0 + MINUTE, &r,
                      &events), INBOX_OK);

    CHECK_INT(inbox_store_conversation_get(f.store, f.org, r.conversation_id,
                                           &c, NULL), INBOX_OK);
    CHECK_INT(c.unread_count, 1);
    inbox_conversation_free(&c);
    CHECK_INT(unread_total(&f, f.org), 1);
    CHECK(list_shows(&f, INBOX_FILTER_UNREAD, NULL, ALICE));

    /* its events follow the read's without a gap (the contact is
     * there: no contact.updated) */
    CHECK_INT(events.count, 3);
    if (events.count == 3) {
        CHECK_INT(events.items[0].org_seq, 10);
        CHECK(strstr(events.items[1].json, "\"unread_count\":1") != NULL);
        CHECK(strstr(events.items[2].json, "\"count\":1") != NULL);
    }

    inbox_event_list_free(&events);
    fixture_close(&f);
}


/*
 * Each action once changes the thread and pushes conversation.updated
 * (and unread.total when the organization's total moved); the same
 * action again writes and pushes nothing.
 */
TEST(each_action_is_idempotent_and_pushes_only_a_change)
{
    size_t                 i;
    int64_t                seq;
    fixture_t              f;
    inbox_event_list_t     events;
    inbox_conversation_t   c;
    inbox_ingest_result_t  r;

    static const struct {
        inbox_action_t  action;
        size_t          events;        /* the first time */
        int64_t         unread_count;  /* after */
        int             archived, starred;
        int64_t         total;         /* the organization's, after */
    } steps[] = {
        { INBOX_ACTION_READ,      2, 0, 0, 0, 0 },
        { INBOX_ACTION_UNREAD,    2, 1, 0, 0, 1 },
        { INBOX_ACTION_STAR,      1, 1, 0, 1, 1 },
        { INBOX_ACTION_ARCHIVE,   2, 1, 1, 1, 0 },
        { INBOX_ACTION_UNSTAR,    1, 1, 1, 0, 0 },
        { INBOX_ACTION_UNARCHIVE, 2, 1, 0, 0, 1 },
        { INBOX_ACTION_READ,      2, 0, 0, 0, 0 },
    };

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    CHECK_INT(receive(&f, "SM1", ALICE, "one", T0, &r, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", ALICE, "two", T0 + 1, &r, NULL), INBOX_OK);
    seq = org_seq(&f, f.org);

    for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        inbox_event_list_free(&events);

        CHECK_INT(inbox_store_conversation_act(f.store, f.org,
                                               r.conversation_id,
                                               steps[i].action, &c, &events,
                                               NULL), INBOX_OK);
        CHECK_INT(c.unread_count, steps[i].unread_count);
        CHECK_INT(c.archived, steps[i].archived);
        CHECK_INT(c.starred, steps[i].starred);
        CHECK_STR(c.last_message.preview, "two");
        inbox_conversation_free(&c);

        CHECK_INT(events.count, steps[i].events);
        if (events.count >= 1) {
            CHECK_INT(events.items[0].org_seq, seq + 1);
            CHECK(strstr(events.items[0].json, "\"conversation.updated\"")
                  != NULL);
        }
        if (events.count == 2) {
            CHECK_INT(events.items[1].org_seq, seq + 2);
            CHECK(strstr(events.items[1].json, "\"unread.total\"") != NULL);
        }
        seq += (int64_t) events.count;

        CHECK_INT(org_seq(&f, f.org), seq);
        CHECK_INT(unread_total(&f, f.org), steps[i].total);

        /* again: nothing */
        inbox_event_list_free(&events);
        CHECK_INT(inbox_store_conversation_act(f.store, f.org,
                                               r.conversation_id,
                                               steps[i].action, &c, &events,
                                               NULL), INBOX_OK);
        CHECK_INT(c.unread_count, steps[i].unread_count);
        CHECK_INT(c.archived, steps[i].archived);
        CHECK_INT(c.starred, steps[i].starred);
        inbox_conversation_free(&c);
        CHECK_INT(events.count, 0);
        CHECK_INT(org_seq(&f, f.org), seq);
    }

    inbox_event_list_free(&events);
    fixture_close(&f);
}


/* Marking unread keeps what is unread (at least one): an unread thread
 * stays as it is, and a thread without any inbound message counts one. */
TEST(unread_counts_at_least_one_and_keeps_more)
{
    char                       contact[INBOX_ID_MAX], bob[INBOX_ID_MAX];
    fixture_t                  f;
    inbox_event_list_t         events;
    inbox_ingest_result_t      r;
    inbox_conversation_t       c;
    inbox_conversation_page_t  page;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    CHECK_INT(receive(&f, "SM1", ALICE, "one", T0, &r, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", ALICE, "two", T0 + 1, &r, NULL), INBOX_OK);
    CHECK_INT(act(&f, r.conversation_id, INBOX_ACTION_UNREAD, &events),
              INBOX_OK);
    CHECK_INT(events.count, 0);
    CHECK_INT(unread_count(&f, r.conversation_id), 2);

    /* a new message adds to a thread marked unread */
    CHECK_INT(act(&f, r.conversation_id, INBOX_ACTION_READ, NULL), INBOX_OK);
    CHECK_INT(act(&f, r.conversation_id, INBOX_ACTION_UNREAD, NULL),
              INBOX_OK);
    CHECK_INT(receive(&f, "SM3", ALICE, "three", T0 + 2, &r, NULL),
              INBOX_OK);
    CHECK_INT(unread_count(&f, r.conversation_id), 2);
    CHECK_INT(unread_total(&f, f.org), 2);

    /* a thread without any message has nothing to mark: it is in no
     * list until its first message */
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, BOB, "Bob", contact,
                                         NULL), INBOX_OK);
    CHECK(contact_of(&f, BOB, contact, bob));
    CHECK_INT(inbox_store_conversation_act(f.store, f.org, bob,
                                           INBOX_ACTION_UNREAD, &c, &events,
                                           NULL), INBOX_ERR_CONFLICT);
    inbox_conversation_free(&c);
    CHECK_INT(events.count, 0);
    CHECK_INT(unread_total(&f, f.org), 2);
    CHECK_INT(list(&f, f.org, INBOX_FILTER_UNREAD, NULL, &page), INBOX_OK);
    CHECK_INT(page.count, 1);
    CHECK_INT(page.counts[INBOX_FILTER_UNREAD], 1);
    inbox_conversation_page_free(&page);

    inbox_event_list_free(&events);
    fixture_close(&f);
}


/* org_seq is strictly increasing per organization, one per event, across
 * ingest and actions, and another organization's stream is its own. */
TEST(org_seq_moves_by_one_per_event_in_each_organization)
{
    size_t                 i;
    char                   other[INBOX_ID_MAX];
    fixture_t              f;
    inbound_t              m;
    inbox_event_list_t     events;
    inbox_ingest_result_t  r, theirs;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);

    CHECK_INT(receive(&f, "SM1", ALICE, "one", T0, &r, &events), INBOX_OK);
    inbound_init(&m, "SM2", ALICE, OTHER, "theirs", T0 + 1);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &theirs, &events,
                                         NULL), INBOX_OK);
    CHECK_INT(act(&f, r.conversation_id, INBOX_ACTION_STAR, &events),
              INBOX_OK);
    CHECK_INT(receive(&f, "SM3", BOB, "two", T0 + 2, NULL, &events),
              INBOX_OK);
    CHECK_INT(act(&f, r.conversation_id, INBOX_ACTION_ARCHIVE, &events),
              INBOX_OK);
    CHECK_INT(receive(&f, "SM1", ALICE, "one", T0, NULL, &events), INBOX_OK);

    /* 4 + 1 + 4 + 2 of ours (a new contact's message 3 and the
     * contact 1; the retry makes none), 4 of theirs */
    CHECK_INT(events.count, 15);

    {
        int64_t  ours = 0, others = 0;

        for (i = 0; i < events.count; i++) {
            if (strcmp(events.items[i].org_id, f.org) == 0) {
                CHECK_INT(events.items[i].org_seq, ++ours);
            } else {
                CHECK_STR(events.items[i].org_id, other);
                CHECK_INT(events.items[i].org_seq, ++others);
            }
        }

        CHECK_INT(ours, 11);
        CHECK_INT(others, 4);
        CHECK_INT(org_seq(&f, f.org), 11);
        CHECK_INT(org_seq(&f, other), 4);
    }

    inbox_event_list_free(&events);
    fixture_close(&f);
}


/* Another organization's thread answers no action, and changes nothing. */
TEST(no_action_reaches_another_orgs_thread)
{
    char                   other[INBOX_ID_MAX];
    fixture_t              f;
    inbound_t              m;
    inbox_action_t         a;
    inbox_error_t          err;
    inbox_event_list_t     events;
    inbox_ingest_result_t  theirs;
    inbox_conversation_t   c;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);
    inbound_init(&m, "SM1", ALICE, OTHER, "theirs", T0);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &theirs, NULL,
                                         NULL), INBOX_OK);

    for (a = INBOX_ACTION_READ; a <= INBOX_ACTION_UNSTAR; a++) {
        CHECK_INT(inbox_store_conversation_act(f.store, f.org,
                                               theirs.conversation_id, a, &c,
                                               &events, &err),
                  INBOX_ERR_NOT_FOUND);
        inbox_conversation_free(&c);
    }

    CHECK_INT(events.count, 0);
    CHECK_INT(org_seq(&f, f.org), 0);
    CHECK_INT(org_seq(&f, other), 4);

    CHECK_INT(inbox_store_conversation_get(f.store, other,
                                           theirs.conversation_id, &c, NULL),
              INBOX_OK);
    CHECK_INT(c.unread_count, 1);
    CHECK_INT(c.archived, 0);
    CHECK_INT(c.starred, 0);
    inbox_conversation_free(&c);

    inbox_event_list_free(&events);
    fixture_close(&f);
}


/* A name given is kept until another is given; "" forgets it. */
TEST(a_contacts_name_is_kept_renamed_or_forgotten)
{
    char                       id[INBOX_ID_MAX];
    fixture_t                  f;
    inbox_error_t              err;
    inbox_conversation_page_t  page;

    FIXTURE(&f);

    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, ALICE, "Alice", id,
                                         NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, ALICE, "", id,
                                         NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, NULL, NULL), INBOX_OK);

    CHECK_INT(list(&f, f.org, INBOX_FILTER_ALL, NULL, &page), INBOX_OK);
    CHECK_INT(page.count, 1);
    if (page.count == 1) {
        CHECK(page.items[0].contact.name == NULL);
    }
    inbox_conversation_page_free(&page);

    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, "555 1234", "Al",
                                         id, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "phone");
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, NULL), 1);

    fixture_close(&f);
}


/*
 * The tabs' counts: each is what its filter lists, and what libinbox's
 * inbox_filter_matches says of every thread; a search does not change
 * them.
 */
TEST(counts_per_filter_are_what_each_filter_lists)
{
    size_t                     i;
    unsigned                   fl;
    int64_t                    want[INBOX_FILTER_COUNT];
    fixture_t                  f;
    inbox_ingest_result_t      r[5];
    inbox_conversation_page_t  page, every;

    static const char         *phones[5] = {
        ALICE, BOB, "+15553334444", "+15554445555", "+15556667777"
    };

    FIXTURE(&f);

    CHECK_INT(list(&f, f.org, INBOX_FILTER_ALL, NULL, &page), INBOX_OK);
    for (fl = 0; fl < INBOX_FILTER_COUNT; fl++) {
        CHECK_INT(page.counts[fl], 0);
    }
    inbox_conversation_page_free(&page);

    for (i = 0; i < 5; i++) {
        char  sid[16];

        snprintf(sid, sizeof(sid), "SM%zu", i);
        CHECK_INT(receive(&f, sid, phones[i], "hi", T0 + (int64_t) i, &r[i],
                          NULL), INBOX_OK);
    }

    CHECK_INT(act(&f, r[1].conversation_id, INBOX_ACTION_READ, NULL),
              INBOX_OK);
    CHECK_INT(act(&f, r[2].conversation_id, INBOX_ACTION_READ, NULL),
              INBOX_OK);
    CHECK_INT(answer(&f, r[2].conversation_id), 0);
    CHECK_INT(act(&f, r[3].conversation_id, INBOX_ACTION_STAR, NULL),
              INBOX_OK);
    CHECK_INT(act(&f, r[4].conversation_id, INBOX_ACTION_STAR, NULL),
              INBOX_OK);
    CHECK_INT(act(&f, r[4].conversation_id, INBOX_ACTION_ARCHIVE, NULL),
              INBOX_OK);

    /* every thread: the default view and the archive */
    memset(want, 0, sizeof(want));

    for (fl = 0; fl < INBOX_FILTER_COUNT; fl += INBOX_FILTER_ARCHIVED) {
        CHECK_INT(list(&f, f.org, (inbox_filter_t) fl, NULL, &every),
                  INBOX_OK);

        for (i = 0; i < every.count; i++) {
            unsigned  g;

            for (g = 0; g < INBOX_FILTER_COUNT; g++) {
                want[g] += inbox_filter_matches((inbox_filter_t) g,
                                                &every.items[i]);
            }
        }

        inbox_conversation_page_free(&every);
    }

    CHECK_INT(want[INBOX_FILTER_ALL], 4);
    CHECK_INT(want[INBOX_FILTER_UNREAD], 2);
    CHECK_INT(want[INBOX_FILTER_UNRESPONDED], 3);
    CHECK_INT(want[INBOX_FILTER_STARRED], 1);
    CHECK_INT(want[INBOX_FILTER_ARCHIVED], 1);

    for (fl = 0; fl < INBOX_FILTER_COUNT; fl++) {
        CHECK_INT(list(&f, f.org, (inbox_filter_t) fl, NULL, &page),
                  INBOX_OK);
        CHECK_INT((int64_t) page.count, want[fl]);

        for (i = 0; i < INBOX_FILTER_COUNT; i++) {
            CHECK_INT(page.counts[i], want[i]);
        }

        inbox_conversation_page_free(&page);
    }

    /* a search narrows the items, not the tabs */
    CHECK_INT(list(&f, f.org, INBOX_FILTER_UNREAD, "zelda", &page),
              INBOX_OK);
    CHECK_INT(page.count, 0);
    CHECK_INT(page.counts[INBOX_FILTER_UNREAD], 2);
    inbox_conversation_page_free(&page);

    /* a new message moves them: the archived thread comes back */
    CHECK_INT(receive(&f, "SM9", phones[4], "back", T0 + 9, NULL, NULL),
              INBOX_OK);
    CHECK_INT(list(&f, f.org, INBOX_FILTER_ALL, NULL, &page), INBOX_OK);
    CHECK_INT(page.counts[INBOX_FILTER_ALL], 5);
    CHECK_INT(page.counts[INBOX_FILTER_UNREAD], 3);
    CHECK_INT(page.counts[INBOX_FILTER_UNRESPONDED], 4);
    CHECK_INT(page.counts[INBOX_FILTER_STARRED], 2);
    CHECK_INT(page.counts[INBOX_FILTER_ARCHIVED], 0);
    inbox_conversation_page_free(&page);

    fixture_close(&f);
}


/* A search from the default view also finds archived threads, which say
 * so; the other filters keep their rule. */
TEST(a_search_from_all_also_finds_archived_threads)
{
    char                       id[INBOX_ID_MAX];
    fixture_t                  f;
    inbox_ingest_result_t      alice, bob;
    inbox_conversation_page_t  page;

    FIXTURE(&f);

    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, ALICE, "Alice Walker",
                                         id, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM1", ALICE, "a", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "b", T0 + 1, &bob, NULL), INBOX_OK);
    CHECK_INT(act(&f, alice.conversation_id, INBOX_ACTION_ARCHIVE, NULL),
              INBOX_OK);

    CHECK(!list_shows(&f, INBOX_FILTER_ALL, NULL, ALICE));

    CHECK_INT(list(&f, f.org, INBOX_FILTER_ALL, "walker", &page), INBOX_OK);
    CHECK_INT(page.count, 1);
    if (page.count == 1) {
        CHECK_STR(page.items[0].id, alice.conversation_id);
        CHECK_INT(page.items[0].archived, 1);
    }
    inbox_conversation_page_free(&page);

    /* by phone too, with both threads, newest first */
    CHECK_INT(list(&f, f.org, INBOX_FILTER_ALL, "555", &page), INBOX_OK);
    CHECK_INT(page.count, 2);
    if (page.count == 2) {
        CHECK_STR(page.items[0].id, bob.conversation_id);
        CHECK_INT(page.items[0].archived, 0);
        CHECK_STR(page.items[1].id, alice.conversation_id);
    }
    inbox_conversation_page_free(&page);

    CHECK_INT(list_count(&f, INBOX_FILTER_UNREAD, "walker"), 0);
    CHECK_INT(list_count(&f, INBOX_FILTER_ARCHIVED, "walker"), 1);
    CHECK_INT(list_count(&f, INBOX_FILTER_ARCHIVED, "(555) 98"), 0);

    fixture_close(&f);
}


/*
 * Invisible characters (a zero-width space, a word joiner, a BOM, the
 * direction marks around a number copied from a page) are not looked
 * for: a search of nothing else is no search at all (every thread, the
 * archive left out), where it once matched every name with a space.
 */
TEST(invisible_characters_in_a_search_are_ignored)
{
    size_t                     i;
    char                       id[INBOX_ID_MAX];
    fixture_t                  f;
    inbox_contact_page_t       contacts;
    inbox_contact_query_t      cq;
    inbox_ingest_result_t      alice;
    inbox_conversation_page_t  page;
    static const char         *invisible[] = {
        "\xe2\x80\x8b",                      /* U+200B */
        "\xe2\x81\xa0",                      /* U+2060 */
        "\xef\xbb\xbf",                      /* U+FEFF */
        "\xe2\x80\x8e\xe2\x80\x8b\xc2\xad",     /* U+200E U+200B U+00AD */
    };

    FIXTURE(&f);

    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, ALICE, "Alice Walker",
                                         id, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, BOB, "Bob Stone", id,
                                         NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM1", ALICE, "a", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "b", T0 + 1, NULL, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM3", "+15556667777", "c", T0 + 2, NULL, NULL),
              INBOX_OK);
    CHECK_INT(act(&f, alice.conversation_id, INBOX_ACTION_ARCHIVE, NULL),
              INBOX_OK);

    for (i = 0; i < sizeof(invisible) / sizeof(invisible[0]); i++) {
        /* as no q: the two threads not archived, the unnamed one too */
        CHECK_INT(list_count(&f, INBOX_FILTER_ALL, invisible[i]), 2);
        CHECK(!list_shows(&f, INBOX_FILTER_ALL, invisible[i], ALICE));
        CHECK(list_shows(&f, INBOX_FILTER_ALL, invisible[i],
                         "+15556667777"));
        CHECK_INT(list_count(&f, INBOX_FILTER_ARCHIVED, invisible[i]), 1);

        memset(&cq, 0, sizeof(cq));
        cq.q = invisible[i];
        CHECK_INT(inbox_store_contacts_list(f.store, f.org, &cq, &contacts,
                                            NULL), INBOX_OK);
        CHECK_INT(contacts.count, 3);
        inbox_contact_page_free(&contacts);
    }

    /* within a search they are skipped, in a name and in a number */
    CHECK_INT(list(&f, f.org, INBOX_FILTER_ALL, "wal\xe2\x80\x8bker", &page),
              INBOX_OK);
    CHECK_INT(page.count, 1);
    inbox_conversation_page_free(&page);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL,
                         "\xe2\x80\xaa(555) 98\xe2\x80\xac"), 1);
    CHECK(list_shows(&f, INBOX_FILTER_ALL,
                     "\xe2\x80\xaa(555) 98\xe2\x80\xac", BOB));

    fixture_close(&f);
}


/* Contacts */

/* The organization's contact with phone and its conversation (listed or
 * not: a thread without a message is in no list), from the contacts. */
static int
contact_of(fixture_t *f, const char *phone, char id[INBOX_ID_MAX],
    char conversation[INBOX_ID_MAX])
{
    size_t                  i;
    int                     found;
    inbox_contact_page_t    page;
    inbox_contact_query_t   query;
    inbox_contact_record_t  c;

    found = 0;
    memset(&query, 0, sizeof(query));
    query.limit = INBOX_LIST_LIMIT_MAX;

    if (inbox_store_contacts_list(f->store, f->org, &query, &page, NULL)
        == INBOX_OK)
    {
        for (i = 0; i < page.count; i++) {
            if (strcmp(page.items[i].phone, phone) == 0) {
                snprintf(id, INBOX_ID_MAX, "%s", page.items[i].id);
                found = 1;
            }
        }
    }

    inbox_contact_page_free(&page);

    if (found) {
        found = inbox_store_contact_get(f->store, f->org, id, &c, NULL)
                == INBOX_OK;
        if (found) {
            snprintf(conversation, INBOX_ID_MAX, "%s", c.conversation_id);
        }
        inbox_contact_record_free(&c);
    }

    return found;
}


TEST(a_contacts_record_is_renamed_and_tagged_and_the_list_follows)
{
    char                    id[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    int64_t                 seq;
    fixture_t               f;
    inbox_event_list_t      events;
    inbox_contact_edit_t    edit;
    inbox_contact_record_t  c;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));
    memset(&edit, 0, sizeof(edit));

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, NULL, NULL), INBOX_OK);
    CHECK(contact_of(&f, ALICE, id, conv));

    CHECK_INT(inbox_store_contact_get(f.store, f.org, id, &c, NULL),
              INBOX_OK);
    CHECK_STR(c.phone, ALICE);
    CHECK(c.name == NULL);
    CHECK_INT(c.tags.count, 0);
    CHECK_INT(c.opted_out, 0);
    CHECK_STR(c.conversation_id, conv);
    CHECK(c.created_at > 0);
    inbox_contact_record_free(&c);

    /* a name: stored, in the list and its search, one event */
    seq = org_seq(&f, f.org);
    edit.set_name = 1;
    edit.name = "Alice Moreau";
    edit.set_tags = 1;
    CHECK_INT(inbox_tags_add(&edit.tags, "VIP", 3, NULL), INBOX_OK);
    CHECK_INT(inbox_tags_add(&edit.tags, "Spring", 6, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_update(f.store, f.org, id, &edit, &c,
                                         &events, NULL), INBOX_OK);
    CHECK_STR(c.name, "Alice Moreau");
    CHECK_INT(c.tags.count, 2);
    inbox_contact_record_free(&c);
    CHECK_INT(events.count, 1);
    if (events.count == 1) {
        CHECK_INT(events.items[0].org_seq, seq + 1);
        CHECK(strstr(events.items[0].json, "\"conversation.updated\"")
              != NULL);
        CHECK(strstr(events.items[0].json, "Alice Moreau") != NULL);
    }
    inbox_event_list_free(&events);
    CHECK_INT(org_seq(&f, f.org), seq + 1);
    CHECK(list_shows(&f, INBOX_FILTER_ALL, "moreau", ALICE));

    CHECK_INT(inbox_store_contact_get(f.store, f.org, id, &c, NULL),
              INBOX_OK);
    CHECK_STR(c.name, "Alice Moreau");
    CHECK_INT(c.tags.count, 2);
    if (c.tags.count == 2) {
        CHECK_STR(c.tags.items[0], "VIP");
        CHECK_STR(c.tags.items[1], "Spring");
    }
    inbox_contact_record_free(&c);

    /* the same name and new tags: stored, contact.updated */
    inbox_tags_free(&edit.tags);
    CHECK_INT(inbox_tags_add(&edit.tags, "spring", 6, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_update(f.store, f.org, id, &edit, &c,
                                         &events, NULL), INBOX_OK);
    CHECK_INT(events.count, 1);
    if (events.count == 1) {
        CHECK_STR(events.items[0].type, "contact.updated");
    }
    CHECK_INT(c.tags.count, 1);
    inbox_contact_record_free(&c);
    inbox_event_list_free(&events);
    CHECK_INT(org_seq(&f, f.org), seq + 2);

    /* no name: null again */
    edit.name = NULL;
    edit.set_tags = 0;
    CHECK_INT(inbox_store_contact_update(f.store, f.org, id, &edit, &c,
                                         &events, NULL), INBOX_OK);
    CHECK(c.name == NULL);
    CHECK_INT(c.tags.count, 1);
    CHECK_INT(events.count, 1);
    inbox_contact_record_free(&c);
    inbox_event_list_free(&events);
    CHECK(!list_shows(&f, INBOX_FILTER_ALL, "moreau", ALICE));

    inbox_tags_free(&edit.tags);
    fixture_close(&f);
}


TEST(another_orgs_contact_is_not_found)
{
    char                    id[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    char                    other[INBOX_ID_MAX];
    fixture_t               f;
    inbox_error_t           err;
    inbox_event_list_t      events;
    inbox_contact_edit_t    edit;
    inbox_contact_record_t  c;
    inbox_timeline_page_t   timeline;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));
    memset(&edit, 0, sizeof(edit));

    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);
    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, NULL, NULL), INBOX_OK);
    CHECK(contact_of(&f, ALICE, id, conv));

    edit.set_name = 1;
    edit.name = "Mallory";

    CHECK_INT(inbox_store_contact_get(f.store, other, id, &c, &err),
              INBOX_ERR_NOT_FOUND);
    inbox_contact_record_free(&c);
    CHECK_INT(inbox_store_contact_update(f.store, other, id, &edit, &c,
                                         &events, &err),
              INBOX_ERR_NOT_FOUND);
    inbox_contact_record_free(&c);
    CHECK_INT(events.count, 0);
    CHECK_INT(inbox_store_contact_timeline(f.store, other, id, NULL, 0,
                                           &timeline, &err),
              INBOX_ERR_NOT_FOUND);
    inbox_timeline_page_free(&timeline);

    CHECK_INT(inbox_store_contact_get(f.store, f.org, backend->missing_id,
                                      &c, &err), INBOX_ERR_NOT_FOUND);
    inbox_contact_record_free(&c);
    CHECK_INT(inbox_store_contact_get(f.store, f.org, "not-an-id", &c,
                                      &err), INBOX_ERR_NOT_FOUND);
    inbox_contact_record_free(&c);

    CHECK_INT(inbox_store_contact_get(f.store, f.org, id, &c, NULL),
              INBOX_OK);
    CHECK(c.name == NULL);
    inbox_contact_record_free(&c);

    fixture_close(&f);
}


TEST(a_new_contact_has_its_thread_and_a_taken_number_is_a_conflict)
{
    char                    other[INBOX_ID_MAX];
    fixture_t               f;
    inbox_error_t           err;
    inbox_contact_edit_t    edit;
    inbox_contact_record_t  c, again;
    inbox_conversation_t    conv;

    FIXTURE(&f);
    memset(&edit, 0, sizeof(edit));
    edit.set_name = 1;
    edit.name = "Bob Stone";
    edit.set_tags = 1;
    CHECK_INT(inbox_tags_add(&edit.tags, "Lead", 4, NULL), INBOX_OK);

    CHECK_INT(inbox_store_contact_create(f.store, f.org, BOB, &edit, &c, NULL,
                                         NULL), INBOX_OK);
    CHECK_STR(c.phone, BOB);
    CHECK_STR(c.name, "Bob Stone");
    CHECK_INT(c.tags.count, 1);

    CHECK_INT(inbox_store_conversation_get(f.store, f.org, c.conversation_id,
                                           &conv, NULL), INBOX_OK);
    CHECK_STR(conv.contact.name, "Bob Stone");
    CHECK_STR(conv.contact.id, c.id);
    inbox_conversation_free(&conv);

    CHECK_INT(inbox_store_contact_get(f.store, f.org, c.id, &again, NULL),
              INBOX_OK);
    CHECK_STR(again.name, "Bob Stone");
    CHECK_INT(again.tags.count, 1);
    inbox_contact_record_free(&again);

    CHECK_INT(inbox_store_contact_create(f.store, f.org, BOB, &edit, &again,
                                         NULL, &err), INBOX_ERR_CONFLICT);
    CHECK_STR(err.field, "phone");
    /* said as people write the number, naming whose it is */
    CHECK_STR(err.message,
              "+1 (555) 987-6543 is a contact already: Bob Stone.");
    inbox_contact_record_free(&again);
    CHECK_INT(inbox_store_contact_create(f.store, f.org, "555 1234", &edit,
                                         &again, NULL, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "phone");
    inbox_contact_record_free(&again);

    /* the number is another organization's to have too */
    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);
    CHECK_INT(inbox_store_contact_create(f.store, other, BOB, &edit, &again,
                                         NULL, NULL), INBOX_OK);
    CHECK(strcmp(again.id, c.id) != 0);
    inbox_contact_record_free(&again);

    /* a message from the number lands in the same thread */
    CHECK_INT(receive(&f, "SM1", BOB, "hi", T0, NULL, NULL), INBOX_OK);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, NULL), 1);

    inbox_contact_record_free(&c);
    inbox_tags_free(&edit.tags);
    fixture_close(&f);
}


TEST(contacts_page_newest_first_with_search_and_tag)
{
    char                    phone[INBOX_PHONE_MAX], other[INBOX_ID_MAX];
    char                    name[32];
    size_t                  i, seen;
    fixture_t               f;
    inbox_error_t           err;
    inbox_contact_edit_t    edit;
    inbox_contact_record_t  c;
    inbox_contact_page_t    page;
    inbox_contact_query_t   q;
    char                    ids[7][INBOX_ID_MAX];
    char                    cursor[INBOX_CURSOR_MAX];

    FIXTURE(&f);
    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);

    for (i = 0; i < 7; i++) {
        memset(&edit, 0, sizeof(edit));
        snprintf(phone, sizeof(phone), "+1555200%04zu", i);
        snprintf(name, sizeof(name), "Person %zu Ortega", i);
        edit.set_name = 1;
        edit.name = name;
        edit.set_tags = 1;
        CHECK_INT(inbox_tags_add(&edit.tags, i % 2 ? "Odd" : "even",
                                 i % 2 ? 3 : 4, NULL), INBOX_OK);
        CHECK_INT(inbox_store_contact_create(f.store, f.org, phone, &edit,
                                             &c, NULL, NULL), INBOX_OK);
        snprintf(ids[i], INBOX_ID_MAX, "%s", c.id);
        inbox_contact_record_free(&c);
        inbox_tags_free(&edit.tags);
    }

    memset(&edit, 0, sizeof(edit));
    CHECK_INT(inbox_store_contact_create(f.store, other, "+15552000001",
                                         &edit, &c, NULL, NULL), INBOX_OK);
    inbox_contact_record_free(&c);

    /* pages of 3: every contact once, newest first */
    memset(&q, 0, sizeof(q));
    q.limit = 3;
    seen = 0;
    cursor[0] = '\0';
    do {
        q.cursor = cursor;
        CHECK_INT(inbox_store_contacts_list(f.store, f.org, &q, &page, NULL),
                  INBOX_OK);
        for (i = 0; i < page.count && seen < 7; i++, seen++) {
            CHECK_STR(page.items[i].id, ids[6 - seen]);
        }
        snprintf(cursor, sizeof(cursor), "%s", page.next_cursor);
        inbox_contact_page_free(&page);
    } while (cursor[0] != '\0' && seen < 10);
    CHECK_INT(seen, 7);

    memset(&q, 0, sizeof(q));
    q.tag = "ODD";
    CHECK_INT(inbox_store_contacts_list(f.store, f.org, &q, &page, NULL),
              INBOX_OK);
    CHECK_INT(page.count, 3);
    if (page.count == 3) {
        CHECK_STR(page.items[0].id, ids[5]);
        CHECK_STR(page.items[0].tags.items[0], "Odd");
    }
    inbox_contact_page_free(&page);

    q.tag = "od";
    CHECK_INT(inbox_store_contacts_list(f.store, f.org, &q, &page, NULL),
              INBOX_OK);
    CHECK_INT(page.count, 0);
    inbox_contact_page_free(&page);

    q.tag = NULL;
    q.q = "(555) 200-0004";
    CHECK_INT(inbox_store_contacts_list(f.store, f.org, &q, &page, NULL),
              INBOX_OK);
    CHECK_INT(page.count, 1);
    if (page.count == 1) {
        CHECK_STR(page.items[0].id, ids[4]);
    }
    inbox_contact_page_free(&page);

    q.q = "ORTEGA";
    q.tag = "even";
    CHECK_INT(inbox_store_contacts_list(f.store, f.org, &q, &page, NULL),
              INBOX_OK);
    CHECK_INT(page.count, 4);
    inbox_contact_page_free(&page);

    q.q = NULL;
    q.tag = NULL;
    q.cursor = "nonsense";
    CHECK_INT(inbox_store_contacts_list(f.store, f.org, &q, &page, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "cursor");
    inbox_contact_page_free(&page);

    fixture_close(&f);
}


/*
 * Every page of the contacts list for q and tag, limit contacts at a
 * time, following the cursor: the phone numbers in order in out (at most
 * max), their count, or -1 on failure.  A page must be full unless it is
 * the last one.
 */
static long
contacts_pages(fixture_t *f, const char *q, const char *tag, unsigned limit,
    char (*out)[INBOX_PHONE_MAX], size_t max)
{
    long                   n;
    size_t                 i;
    char                   cursor[INBOX_CURSOR_MAX];
    unsigned               pages;
    inbox_contact_page_t   page;
    inbox_contact_query_t  query;

    n = 0;
    cursor[0] = '\0';

    for (pages = 0; pages < 10000; pages++) {
        memset(&query, 0, sizeof(query));
        query.q = q;
        query.tag = tag;
        query.cursor = cursor;
        query.limit = limit;

        if (inbox_store_contacts_list(f->store, f->org, &query, &page, NULL)
            != INBOX_OK)
        {
            return -1;
        }

        for (i = 0; i < page.count; i++) {
            if ((size_t) n < max) {
                snprintf(out[n], INBOX_PHONE_MAX, "%s", page.items[i].phone);
            }
            n++;
        }

        snprintf(cursor, sizeof(cursor), "%s", page.next_cursor);

        if (page.count < limit && cursor[0] != '\0') {
            inbox_contact_page_free(&page);
            return -1;
        }

        inbox_contact_page_free(&page);

        if (cursor[0] == '\0') {
            return n;
        }
    }

    return -1;
}


/*
 * The contacts list's search and tag filter on 1,500 contacts, whatever
 * the size of the pages (a backend may read a list differently for a
 * page of one and a page of 200): a name in part, a number as people
 * format it, a tag in another case, both at once with either one common
 * (every contact is in the club and named "Member"), a search too short
 * for an index; each contact once, newest first, another organization's
 * never.
 */
TEST(contacts_search_and_tag_agree_on_every_page_size)
{
    char                    name[48], other[INBOX_ID_MAX];
    char                  (*got)[INBOX_PHONE_MAX];
    char                  (*want)[INBOX_PHONE_MAX];
    long                    n;
    size_t                  i, k, w, p;
    fixture_t               f;
    inbox_contact_row_t    *rows;
    inbox_import_count_t    count;
    inbox_contact_edit_t    edit;
    inbox_contact_record_t  c;

    static const unsigned  sizes[] = { 1, 7, 200 };
    static const struct {
        const char  *q;
        const char  *tag;
        int          big;        /* too many for pages of one */
    } cases[] = {
        { "quinn", NULL, 0 },            /* i % 100 == 0 */
        { "(555) 300-01", NULL, 0 },     /* 0100 .. 0199 */
        { NULL, "vip", 1 },              /* i % 3 == 0, stored "VIP" */
        { "QUINN", "CLUB", 0 },          /* every one in the club */
        { "member", "Vip", 1 },          /* all but Quinn's */
        { "qu", "vip", 0 },              /* i % 300 == 0 */
        { "ortiz", "club", 0 },          /* i % 100 == 0 */
        { "member", "club", 1 },         /* all but Quinn's */
        { "zz", NULL, 0 },
    };

    FIXTURE(&f);
    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);

    rows = calloc(1500, sizeof(inbox_contact_row_t));
    got = calloc(1600, INBOX_PHONE_MAX);
    want = calloc(1600, INBOX_PHONE_MAX);
    CHECK(rows != NULL && got != NULL && want != NULL);
    if (rows == NULL || got == NULL || want == NULL) {
        goto done;
    }

    for (i = 0; i < 1500; i++) {
        snprintf(rows[i].phone, sizeof(rows[i].phone), "+1555300%04zu", i);
        snprintf(name, sizeof(name), i % 100 == 0 ? "Quinn Ortiz %zu"
                                                   : "Member %zu", i);
        rows[i].name = strdup(name);
        inbox_tags_add(&rows[i].tags, "Club", 4, NULL);
        if (i % 3 == 0) {
            inbox_tags_add(&rows[i].tags, "VIP", 3, NULL);
        }
    }

    /* in batches, as an import stores them: newest last */
    for (i = 0; i < 1500; i += 500) {
        CHECK_INT(inbox_store_contacts_import(f.store, f.org, rows + i, 500,
                                              &count, NULL, NULL), INBOX_OK);
    }

    /* another organization's Quinn, VIP, in the club */
    memset(&edit, 0, sizeof(edit));
    edit.set_name = 1;
    edit.name = "Quinn Ortiz 1400";
    edit.set_tags = 1;
    inbox_tags_add(&edit.tags, "vip", 3, NULL);
    inbox_tags_add(&edit.tags, "club", 4, NULL);
    CHECK_INT(inbox_store_contact_create(f.store, other, "+15553001400",
                                         &edit, &c, NULL, NULL), INBOX_OK);
    inbox_contact_record_free(&c);
    inbox_tags_free(&edit.tags);

    for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        w = 0;
        for (i = 1500; i-- > 0; ) {
            snprintf(name, sizeof(name), i % 100 == 0 ? "Quinn Ortiz %zu"
                                                       : "Member %zu", i);
            snprintf(got[0], INBOX_PHONE_MAX, "+1555300%04zu", i);

            if ((cases[k].tag == NULL
                 || strcasecmp(cases[k].tag, "club") == 0 || i % 3 == 0)
                && (cases[k].q == NULL
                    || (k == 0 && i % 100 == 0)
                    || (k == 1 && i >= 100 && i < 200)
                    || (k == 3 && i % 100 == 0)
                    || ((k == 4 || k == 7) && i % 100 != 0)
                    || (k == 5 && i % 100 == 0)
                    || (k == 6 && i % 100 == 0)))
            {
                snprintf(want[w++], INBOX_PHONE_MAX, "%s", got[0]);
            }
        }

        for (p = 0; p < sizeof(sizes) / sizeof(sizes[0]); p++) {
            if (cases[k].big && sizes[p] == 1) {
                continue;
            }

            n = contacts_pages(&f, cases[k].q, cases[k].tag, sizes[p], got,
                               1600);
            if (n != (long) w) {
                fprintf(stderr, "    q %s, tag %s, pages of %u: %ld, "
                        "expected %zu\n", cases[k].q ? cases[k].q : "-",
                        cases[k].tag ? cases[k].tag : "-", sizes[p], n, w);
            }
            CHECK_INT(n, (long) w);

            for (i = 0; i < w && (long) i < n; i++) {
                if (strcmp(got[i], want[i]) != 0) {
                    CHECK_STR(got[i], want[i]);
                    break;
                }
            }
        }
    }

done:

    for (i = 0; rows != NULL && i < 1500; i++) {
        inbox_contact_row_free(&rows[i]);
    }

    free(rows);
    free(got);
    free(want);
    fixture_close(&f);
}


/*
 * A search's pages agree whatever their size, in every filter and from
 * the default view (a backend may read a list differently for a page of
 * one and a page of 200): 300 threads, ten of them Quinn's, some of
 * those archived, starred or unread.
 */
TEST(search_pages_agree_on_every_page_size)
{
    char                   id[INBOX_ID_MAX], phone[INBOX_PHONE_MAX];
    char                   sid[16];
    char                   got[400][INBOX_PHONE_MAX];
    char                   want[400][INBOX_PHONE_MAX];
    long                   n, j;
    size_t                 i, p, w;
    unsigned               f_;
    fixture_t              f;
    inbox_ingest_result_t  r;

    static const unsigned  sizes[] = { 1, 3, 200 };
    static const char     *queries[] = { "quinn", "(555) 000-02", "555" };

    FIXTURE(&f);

    /* every 30th is Quinn's; every 60th archived; every 90th starred;
     * the rest read but for every 120th */
    for (i = 0; i < 300; i++) {
        snprintf(sid, sizeof(sid), "SMq%zu", i);
        snprintf(phone, sizeof(phone), "+1555%07zu", i);
        if (i % 30 == 0) {
            CHECK_INT(inbox_store_contact_upsert(f.store, f.org, phone,
                                                 "Quinn Reyes", id, NULL),
                      INBOX_OK);
        }

        CHECK_INT(receive(&f, sid, phone, "hi", T0 + (int64_t) i * MINUTE,
                          &r, NULL), INBOX_OK);

        if (i % 120 != 0) {
            CHECK_INT(act(&f, r.conversation_id, INBOX_ACTION_READ, NULL),
                      INBOX_OK);
        }
        if (i % 90 == 0) {
            CHECK_INT(act(&f, r.conversation_id, INBOX_ACTION_STAR, NULL),
                      INBOX_OK);
        }
        if (i % 60 == 0) {
            CHECK_INT(act(&f, r.conversation_id, INBOX_ACTION_ARCHIVE, NULL),
                      INBOX_OK);
        }
    }

    for (f_ = 0; f_ < INBOX_FILTER_COUNT; f_++) {
        for (i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
            /* the page of 200 is the answer the others must give */
            w = (size_t) walk_pages(&f, (inbox_filter_t) f_, queries[i], 200,
                                    want, 400);
            for (p = 0; p < sizeof(sizes) / sizeof(sizes[0]); p++) {
                n = walk_pages(&f, (inbox_filter_t) f_, queries[i], sizes[p],
                               got, 400);
                CHECK_INT(n, (long) w);
                for (j = 0; (size_t) j < w && j < n; j++) {
                    if (strcmp(got[j], want[j]) != 0) {
                        CHECK_STR(got[j], want[j]);
                        break;
                    }
                }
            }
        }
    }

    /* what each filter holds of Quinn's ten: the default view all ten
     * (archived too), unread 0, 120, 240 less the archived 0, 120, 240 */
    CHECK_INT(walk_pages(&f, INBOX_FILTER_ALL, "quinn", 3, got, 400), 10);
    CHECK_STR(got[0], "+15550000270");
    CHECK_INT(walk_pages(&f, INBOX_FILTER_ARCHIVED, "quinn", 3, got, 400), 5);
    CHECK_INT(walk_pages(&f, INBOX_FILTER_STARRED, "quinn", 3, got, 400), 2);
    CHECK_INT(walk_pages(&f, INBOX_FILTER_UNREAD, "quinn", 3, got, 400), 0);
    CHECK_INT(walk_pages(&f, INBOX_FILTER_ALL, "(555) 000-02", 3, got, 400),
              100);

    fixture_close(&f);
}


TEST(an_import_creates_then_updates_adding_tags_and_keeping_names)
{
    char                    id[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    size_t                  i;
    fixture_t               f;
    inbox_contact_row_t     rows[3];
    inbox_import_count_t    count;
    inbox_contact_record_t  c;

    FIXTURE(&f);
    memset(rows, 0, sizeof(rows));

    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, ALICE, "Alice",
                                         id, NULL), INBOX_OK);

    /* Alice without a name (hers is kept), Bob twice in one batch */
    snprintf(rows[0].phone, sizeof(rows[0].phone), "%s", ALICE);
    inbox_tags_add(&rows[0].tags, "Fall", 4, NULL);
    snprintf(rows[1].phone, sizeof(rows[1].phone), "%s", BOB);
    rows[1].name = strdup("Bob");
    inbox_tags_add(&rows[1].tags, "new", 3, NULL);
    snprintf(rows[2].phone, sizeof(rows[2].phone), "%s", BOB);
    inbox_tags_add(&rows[2].tags, "NEW", 3, NULL);
    inbox_tags_add(&rows[2].tags, "second", 6, NULL);

    /* unmarked, Bob's second row updates the contact his first made */
    CHECK_INT(inbox_store_contacts_import(f.store, f.org, rows, 3, &count,
                                          NULL, NULL), INBOX_OK);
    CHECK_INT(count.created, 1);
    CHECK_INT(count.updated, 2);
    CHECK_INT(count.repeated, 0);

    /* again, the second marked repeated as import.c marks it: all
     * updates, nothing doubled, the repeated row counted apart */
    rows[2].repeated = 1;
    CHECK_INT(inbox_store_contacts_import(f.store, f.org, rows, 3, &count,
                                          NULL, NULL), INBOX_OK);
    CHECK_INT(count.created, 0);
    CHECK_INT(count.updated, 2);
    CHECK_INT(count.repeated, 1);

    /* a new number twice so: one created, one repeated, none updated */
    snprintf(rows[1].phone, sizeof(rows[1].phone), "%s", CAROL_PHONE);
    snprintf(rows[2].phone, sizeof(rows[2].phone), "%s", CAROL_PHONE);
    CHECK_INT(inbox_store_contacts_import(f.store, f.org, rows + 1, 2,
                                          &count, NULL, NULL), INBOX_OK);
    CHECK_INT(count.created, 1);
    CHECK_INT(count.updated, 0);
    CHECK_INT(count.repeated, 1);
    snprintf(rows[1].phone, sizeof(rows[1].phone), "%s", BOB);
    snprintf(rows[2].phone, sizeof(rows[2].phone), "%s", BOB);

    CHECK_INT(inbox_store_contact_get(f.store, f.org, id, &c, NULL),
              INBOX_OK);
    CHECK_STR(c.name, "Alice");
    CHECK_INT(c.tags.count, 1);
    inbox_contact_record_free(&c);

    CHECK(contact_of(&f, BOB, id, conv));
    CHECK_INT(inbox_store_contact_get(f.store, f.org, id, &c, NULL),
              INBOX_OK);
    CHECK_STR(c.name, "Bob");
    CHECK_INT(c.tags.count, 2);
    if (c.tags.count == 2) {
        CHECK_STR(c.tags.items[0], "new");
        CHECK_STR(c.tags.items[1], "second");
    }
    CHECK_STR(c.conversation_id, conv);
    inbox_contact_record_free(&c);
    /* threads without a message: in the contacts, in no list of threads */
    CHECK(!list_shows(&f, INBOX_FILTER_ALL, "bob", BOB));
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, NULL), 0);

    for (i = 0; i < 3; i++) {
        inbox_contact_row_free(&rows[i]);
    }

    fixture_close(&f);
}


/*
 * A contact's thread before its first message (imported, or added by
 * hand) is in no list and no tab's count, whatever it is marked (read by
 * its id, it answers); a search finds its contact in the contacts, not
 * among the threads.  Its first message, the contact's or a person's,
 * lists it as any other.
 */
TEST(a_thread_without_messages_is_in_no_list_until_its_first)
{
    char                       carol[INBOX_ID_MAX], bob[INBOX_ID_MAX];
    char                       id[INBOX_ID_MAX], found[4][INBOX_PHONE_MAX];
    size_t                     i;
    unsigned                   fl;
    fixture_t                  f;
    inbox_contact_row_t        rows[3];
    inbox_import_count_t       count;
    inbox_ingest_result_t      alice;
    inbox_conversation_t       c;
    inbox_conversation_page_t  page;

    static const int64_t       listed[INBOX_FILTER_COUNT] = {
        1, 1, 1, 0, 0
    };

    FIXTURE(&f);
    memset(rows, 0, sizeof(rows));

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &alice, NULL), INBOX_OK);

    snprintf(rows[0].phone, sizeof(rows[0].phone), "%s", BOB);
    snprintf(rows[1].phone, sizeof(rows[1].phone), "%s", CAROL_PHONE);
    snprintf(rows[2].phone, sizeof(rows[2].phone), "+15550001111");
    CHECK_INT(inbox_store_contacts_import(f.store, f.org, rows, 3, &count,
                                          NULL, NULL), INBOX_OK);
    CHECK_INT(count.created, 3);
    CHECK(contact_of(&f, BOB, id, bob));
    CHECK(contact_of(&f, CAROL_PHONE, id, carol));

    /* marked every way a list shows it can be: still in none */
    CHECK_INT(act(&f, bob, INBOX_ACTION_STAR, NULL), INBOX_OK);
    CHECK_INT(act(&f, carol, INBOX_ACTION_ARCHIVE, NULL), INBOX_OK);

    for (fl = 0; fl < INBOX_FILTER_COUNT; fl++) {
        CHECK_INT(list(&f, f.org, (inbox_filter_t) fl, NULL, &page),
                  INBOX_OK);
        CHECK_INT((int64_t) page.count, listed[fl]);
        for (i = 0; i < INBOX_FILTER_COUNT; i++) {
            CHECK_INT(page.counts[i], listed[i]);
        }
        for (i = 0; i < page.count; i++) {
            CHECK_STR(page.items[i].id, alice.conversation_id);
        }
        inbox_conversation_page_free(&page);
    }

    /* a search: the threads with a message; the contacts, every one */
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "555"), 1);
    CHECK_INT(list_count(&f, INBOX_FILTER_ARCHIVED, "555"), 0);
    CHECK_INT(contacts_pages(&f, "555", NULL, 50, found, 4), 4);

    /* read by its id, it answers: no message, no activity */
    CHECK_INT(inbox_store_conversation_get(f.store, f.org, bob, &c, NULL),
              INBOX_OK);
    CHECK_INT(c.has_last_message, 0);
    CHECK(c.last_activity_at == INBOX_ACTIVITY_NONE);
    CHECK(c.starred);
    CHECK(!inbox_filter_matches(INBOX_FILTER_ALL, &c));
    CHECK(!inbox_filter_matches(INBOX_FILTER_STARRED, &c));
    inbox_conversation_free(&c);

    /* Carol's first message lists her thread, back from the archive */
    CHECK_INT(receive(&f, "SM2", CAROL_PHONE, "hello", T0 + 5, NULL, NULL),
              INBOX_OK);
    CHECK_INT(list(&f, f.org, INBOX_FILTER_ALL, NULL, &page), INBOX_OK);
    CHECK_INT(page.count, 2);
    CHECK_INT(page.counts[INBOX_FILTER_ALL], 2);
    CHECK(page.count == 2
          && strcmp(page.items[0].contact.phone, CAROL_PHONE) == 0);
    CHECK(page.count == 2 && page.items[1].last_activity_at == T0);
    inbox_conversation_page_free(&page);

    /* a person writes Bob first: listed, starred as marked */
    CHECK_INT(answer(&f, bob), 0);
    CHECK_INT(list(&f, f.org, INBOX_FILTER_ALL, NULL, &page), INBOX_OK);
    CHECK_INT(page.count, 3);
    CHECK_INT(page.counts[INBOX_FILTER_ALL], 3);
    CHECK_INT(page.counts[INBOX_FILTER_STARRED], 1);
    CHECK_INT(page.counts[INBOX_FILTER_UNREAD], 2);
    CHECK_INT(page.counts[INBOX_FILTER_UNRESPONDED], 2);
    CHECK(page.count == 3 && strcmp(page.items[0].id, bob) == 0);
    inbox_conversation_page_free(&page);
    CHECK(list_shows(&f, INBOX_FILTER_STARRED, NULL, BOB));
    CHECK(list_shows(&f, INBOX_FILTER_ALL, "555", BOB));

    for (i = 0; i < 3; i++) {
        inbox_contact_row_free(&rows[i]);
    }

    fixture_close(&f);
}


TEST(a_contacts_time_zone_is_set_by_create_patch_and_import_and_cleared)
{
    char                    id[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    fixture_t               f;
    inbox_error_t           err;
    inbox_contact_row_t     rows[2];
    inbox_contact_edit_t    edit;
    inbox_contact_page_t    page;
    inbox_import_count_t    count;
    inbox_contact_query_t   q;
    inbox_contact_record_t  c;

    FIXTURE(&f);
    memset(&edit, 0, sizeof(edit));
    memset(rows, 0, sizeof(rows));

    edit.set_timezone = 1;
    snprintf(edit.timezone, sizeof(edit.timezone), "Asia/Tokyo");
    CHECK_INT(inbox_store_contact_create(f.store, f.org, ALICE, &edit, &c, NULL,
                                         NULL), INBOX_OK);
    CHECK_STR(c.timezone, "Asia/Tokyo");
    snprintf(id, sizeof(id), "%s", c.id);
    inbox_contact_record_free(&c);

    /* a PATCH of the name and the zone: one call */
    edit.set_name = 1;
    edit.name = "Alice";
    snprintf(edit.timezone, sizeof(edit.timezone), "America/New_York");
    CHECK_INT(inbox_store_contact_update(f.store, f.org, id, &edit, &c,
                                         NULL, NULL), INBOX_OK);
    CHECK_STR(c.name, "Alice");
    CHECK_STR(c.timezone, "America/New_York");
    inbox_contact_record_free(&c);
    CHECK_INT(inbox_store_contact_get(f.store, f.org, id, &c, NULL),
              INBOX_OK);
    CHECK_STR(c.timezone, "America/New_York");
    inbox_contact_record_free(&c);

    /* a name alone keeps the zone; a zone not known changes nothing */
    edit.set_timezone = 0;
    edit.name = "Alice W";
    CHECK_INT(inbox_store_contact_update(f.store, f.org, id, &edit, &c,
                                         NULL, NULL), INBOX_OK);
    CHECK_STR(c.timezone, "America/New_York");
    inbox_contact_record_free(&c);
    CHECK_INT(inbox_store_contact_timezone_set(f.store, f.org, id,
                                               "Mars/Base", &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "timezone");
    CHECK_INT(inbox_store_contact_timezone_set(f.store, f.org,
                                               f.backend->missing_id,
                                               "Asia/Tokyo", NULL),
              INBOX_ERR_NOT_FOUND);

    /* the list shows it */
    memset(&q, 0, sizeof(q));
    q.limit = 10;
    CHECK_INT(inbox_store_contacts_list(f.store, f.org, &q, &page, NULL),
              INBOX_OK);
    CHECK_INT(page.count, 1);
    if (page.count == 1) {
        CHECK_STR(page.items[0].timezone, "America/New_York");
    }
    inbox_contact_page_free(&page);

    /* cleared: the organization's is used again */
    CHECK_INT(inbox_store_contact_timezone_set(f.store, f.org, id, NULL,
                                               NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_get(f.store, f.org, id, &c, NULL),
              INBOX_OK);
    CHECK_STR(c.timezone, "");
    CHECK_STR(c.name, "Alice W");
    inbox_contact_record_free(&c);

    /* an import sets a zone given and keeps one when the cell is empty */
    snprintf(rows[0].phone, sizeof(rows[0].phone), "%s", ALICE);
    snprintf(rows[0].timezone, sizeof(rows[0].timezone), "Europe/Lisbon");
    snprintf(rows[1].phone, sizeof(rows[1].phone), "%s", BOB);
    snprintf(rows[1].timezone, sizeof(rows[1].timezone), "Asia/Tokyo");
    CHECK_INT(inbox_store_contacts_import(f.store, f.org, rows, 2, &count,
                                          NULL, NULL), INBOX_OK);
    CHECK_INT(count.created, 1);
    rows[0].timezone[0] = '\0';
    CHECK_INT(inbox_store_contacts_import(f.store, f.org, rows, 1, &count,
                                          NULL, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_get(f.store, f.org, id, &c, NULL),
              INBOX_OK);
    CHECK_STR(c.timezone, "Europe/Lisbon");
    inbox_contact_record_free(&c);
    CHECK(contact_of(&f, BOB, id, conv));
    CHECK_INT(inbox_store_contact_get(f.store, f.org, id, &c, NULL),
              INBOX_OK);
    CHECK_STR(c.timezone, "Asia/Tokyo");
    inbox_contact_record_free(&c);

    fixture_close(&f);
}


TEST(a_timeline_has_the_contacts_messages_newest_first)
{
    char                   id[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    char                   cursor[INBOX_TIMELINE_CURSOR_MAX];
    fixture_t              f;
    inbox_timeline_page_t  page;

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", ALICE, "one", T0, NULL, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", ALICE, "two", T0 + MINUTE, NULL, NULL),
              INBOX_OK);
    CHECK_INT(receive(&f, "SM3", BOB, "not hers", T0 + 2 * MINUTE, NULL,
                      NULL), INBOX_OK);
    CHECK(contact_of(&f, ALICE, id, conv));

    CHECK_INT(inbox_store_contact_timeline(f.store, f.org, id, NULL, 1,
                                           &page, NULL), INBOX_OK);
    CHECK_INT(page.count, 1);
    if (page.count == 1) {
        CHECK_INT(page.items[0].type, INBOX_TIMELINE_MESSAGE);
        CHECK_INT(page.items[0].at, T0 + MINUTE);
        CHECK_STR(page.items[0].message.body, "two");
    }
    CHECK(page.next_cursor[0] != '\0');

    snprintf(cursor, sizeof(cursor), "%s", page.next_cursor);
    inbox_timeline_page_free(&page);

    CHECK_INT(inbox_store_contact_timeline(f.store, f.org, id, cursor, 1,
                                           &page, NULL), INBOX_OK);
    CHECK_INT(page.count, 1);
    if (page.count == 1) {
        CHECK_STR(page.items[0].message.body, "one");
    }
    CHECK_STR(page.next_cursor, "");
    inbox_timeline_page_free(&page);

    fixture_close(&f);
}


/*
 * Accounts and sessions
 */

/* stand-in password hashes: the store keeps whatever it is given */
#define HASH_A  "$argon2id$v=19$m=65536,t=2,p=1$a"
#define HASH_B  "$argon2id$v=19$m=65536,t=2,p=1$b"
#define HASH_C  "$argon2id$v=19$m=65536,t=2,p=1$c"


/* A second organization with a user each: Pat (billing) in the test
 * organization, Sam in the other. */
static int
people_add(fixture_t *f, char other[INBOX_ID_MAX], char pat[INBOX_ID_MAX],
    char sam[INBOX_ID_MAX])
{
    inbox_error_t  err;

    if (org_add(f->store, "Other", OTHER, other) != INBOX_OK
        || inbox_store_user_add(f->store, f->org, "Pat@Example.com",
                                INBOX_ROLE_BILLING, HASH_A, pat, NULL, &err)
           != INBOX_OK
        || inbox_store_user_add(f->store, other, "sam@other.test",
                                INBOX_ROLE_MEMBER, HASH_B, sam, NULL, &err)
           != INBOX_OK)
    {
        return -1;
    }

    return 0;
}


TEST(organizations_and_users_are_listed_oldest_first)
{
    char               other[INBOX_ID_MAX], pat[INBOX_ID_MAX];
    char               sam[INBOX_ID_MAX], id[INBOX_ID_MAX];
    fixture_t          f;
    inbox_error_t      err;
    inbox_org_list_t   orgs;
    inbox_user_list_t  users;

    FIXTURE(&f);
    CHECK_INT(people_add(&f, other, pat, sam), 0);

    CHECK_INT(inbox_store_orgs_list(f.store, &orgs, &err), INBOX_OK);
    CHECK_INT(orgs.count, 2);
    if (orgs.count == 2) {
        CHECK_STR(orgs.items[0].id, f.org);
        CHECK_STR(orgs.items[0].name, "Acme");
        CHECK_STR(orgs.items[0].timezone, "UTC");
        CHECK(orgs.items[0].created_at > 0);
        CHECK_STR(orgs.items[1].id, other);
    }
    inbox_org_list_free(&orgs);

    CHECK_INT(inbox_store_user_add(f.store, f.org, "lee@example.com",
                                   INBOX_ROLE_MEMBER, HASH_B, id, NULL, &err),
              INBOX_OK);
    CHECK_INT(inbox_store_users_list(f.store, f.org, &users, &err), INBOX_OK);
    CHECK_INT(users.count, 2);
    if (users.count == 2) {
        /* stored as looked up: in lower case */
        CHECK_STR(users.items[0].id, pat);
        CHECK_STR(users.items[0].email, "pat@example.com");
        CHECK_INT(users.items[0].role, INBOX_ROLE_BILLING);
        CHECK_STR(users.items[0].org_id, f.org);
        CHECK_STR(users.items[1].id, id);
        CHECK_INT(users.items[1].role, INBOX_ROLE_MEMBER);
    }
    inbox_user_list_free(&users);

    /* no users is an empty list; no organization is 404 */
    CHECK_INT(inbox_store_org_create(f.store, "Empty", NULL, id, &err),
              INBOX_OK);
    CHECK_INT(inbox_store_users_list(f.store, id, &users, &err), INBOX_OK);
    CHECK_INT(users.count, 0);
    inbox_user_list_free(&users);
    CHECK_INT(inbox_store_users_list(f.store, f.backend->missing_id, &users,
                                     &err), INBOX_ERR_NOT_FOUND);
    CHECK_INT(inbox_store_users_list(f.store, "x", &users, &err),
              INBOX_ERR_NOT_FOUND);

    fixture_close(&f);
}


TEST(a_user_is_found_by_email_in_any_case)
{
    char           other[INBOX_ID_MAX], pat[INBOX_ID_MAX];
    char           sam[INBOX_ID_MAX], *hash;
    fixture_t      f;
    inbox_user_t   user;
    inbox_error_t  err;

    FIXTURE(&f);
    CHECK_INT(people_add(&f, other, pat, sam), 0);

    CHECK_INT(inbox_store_user_find_by_email(f.store, "pat@EXAMPLE.com",
                                             &user, &hash, &err), INBOX_OK);
    CHECK_STR(user.id, pat);
    CHECK_STR(user.org_id, f.org);
    CHECK_INT(user.role, INBOX_ROLE_BILLING);
    CHECK_STR(hash, HASH_A);
    free(hash);

    CHECK_INT(inbox_store_user_find_by_email(f.store, "nobody@example.com",
                                             &user, &hash, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK(hash == NULL);
    CHECK_INT(inbox_store_user_find_by_email(f.store, "not an address",
                                             &user, &hash, &err),
              INBOX_ERR_NOT_FOUND);

    /* one address, one user, whatever the case */
    CHECK_INT(inbox_store_user_add(f.store, other, "PAT@example.COM",
                                   INBOX_ROLE_MEMBER, HASH_B, sam, NULL, &err),
              INBOX_ERR_CONFLICT);

    fixture_close(&f);
}


TEST(an_account_is_an_organization_and_its_own_user)
{
    char             other[INBOX_ID_MAX], pat[INBOX_ID_MAX];
    char             sam[INBOX_ID_MAX];
    fixture_t        f;
    inbox_error_t    err;
    inbox_account_t  account;

    FIXTURE(&f);
    CHECK_INT(people_add(&f, other, pat, sam), 0);

    CHECK_INT(inbox_store_account_get(f.store, f.org, pat, &account, &err),
              INBOX_OK);
    CHECK_STR(account.org.name, "Acme");
    CHECK(account.has_user);
    CHECK_STR(account.user.email, "pat@example.com");
    CHECK_INT(account.user.role, INBOX_ROLE_BILLING);
    inbox_account_free(&account);

    /* an organization-wide token has no user */
    CHECK_INT(inbox_store_account_get(f.store, f.org, "", &account, &err),
              INBOX_OK);
    CHECK(!account.has_user);
    inbox_account_free(&account);

    /* another organization's user is nobody here */
    CHECK_INT(inbox_store_account_get(f.store, f.org, sam, &account, &err),
              INBOX_ERR_NOT_FOUND);
    inbox_account_free(&account);
    CHECK_INT(inbox_store_account_get(f.store, f.backend->missing_id, NULL,
                                      &account, &err), INBOX_ERR_NOT_FOUND);
    inbox_account_free(&account);

    fixture_close(&f);
}


/*
 * A sign-in's session is made only while the password it checked is the
 * user's and the user is on the team: a new password, or a removal, that
 * came while the password was being checked (which ends every session)
 * leaves none made after it.  A removed user's session finds nobody.
 */
TEST(a_sign_in_needs_the_password_it_checked_and_the_user_on_the_team)
{
    char               other[INBOX_ID_MAX], pat[INBOX_ID_MAX];
    char               sam[INBOX_ID_MAX], lee[INBOX_ID_MAX];
    fixture_t          f;
    inbox_error_t      err;
    inbox_principal_t  who;

    FIXTURE(&f);
    CHECK_INT(people_add(&f, other, pat, sam), 0);

    CHECK_INT(inbox_store_session_sign_in(f.store, f.org, pat, HASH_A,
                                          "pat-1", &err), INBOX_OK);
    CHECK_INT(inbox_store_session_find(f.store, "pat-1", &who, &err),
              INBOX_OK);

    /* the password changed while HASH_A was being checked */
    CHECK_INT(inbox_store_user_password_set(f.store, f.org,
                                            "pat@example.com", NULL, HASH_B,
                                            NULL, NULL, &err), INBOX_OK);
    CHECK_INT(inbox_store_session_sign_in(f.store, f.org, pat, HASH_A,
                                          "pat-2", &err),
              INBOX_ERR_UNAUTHENTICATED);
    CHECK_INT(inbox_store_session_find(f.store, "pat-2", &who, &err),
              INBOX_ERR_UNAUTHENTICATED);
    CHECK_INT(inbox_store_session_sign_in(f.store, f.org, pat, HASH_B,
                                          "pat-3", &err), INBOX_OK);

    /* Pat's own change, verified against HASH_A before that reset: it
     * does not undo it, and ends no session */
    CHECK_INT(inbox_store_user_password_set(f.store, f.org,
                                            "pat@example.com", HASH_A,
                                            HASH_C, NULL, NULL, &err),
              INBOX_ERR_CONFLICT);
    CHECK(strstr(err.message, "sign in with the new password") != NULL);
    CHECK_INT(inbox_store_session_find(f.store, "pat-3", &who, &err),
              INBOX_OK);
    CHECK_INT(inbox_store_session_sign_in(f.store, f.org, pat, HASH_C,
                                          "pat-4", &err),
              INBOX_ERR_UNAUTHENTICATED);

    /* verified against the hash it has: made, as any change */
    CHECK_INT(inbox_store_user_password_set(f.store, f.org,
                                            "pat@example.com", HASH_B,
                                            HASH_C, NULL, NULL, &err),
              INBOX_OK);
    CHECK_INT(inbox_store_session_find(f.store, "pat-3", &who, &err),
              INBOX_ERR_UNAUTHENTICATED);
    CHECK_INT(inbox_store_session_sign_in(f.store, f.org, pat, HASH_C,
                                          "pat-5", &err), INBOX_OK);

    /* and of a user gone, not found, as a reset's */
    CHECK_INT(inbox_store_user_password_set(f.store, f.org,
                                            "nobody@example.com", HASH_C,
                                            HASH_A, NULL, NULL, &err),
              INBOX_ERR_NOT_FOUND);

    /* a member removed: no new session, and any it had finds nobody */
    CHECK_INT(inbox_store_user_add(f.store, f.org, "lee@example.com",
                                   INBOX_ROLE_MEMBER, HASH_A, lee, NULL,
                                   &err), INBOX_OK);
    CHECK_INT(inbox_store_session_sign_in(f.store, f.org, lee, HASH_A,
                                          "lee-1", &err), INBOX_OK);
    CHECK_INT(inbox_store_user_remove(f.store, f.org, lee, NULL, &err),
              INBOX_OK);
    CHECK_INT(inbox_store_session_sign_in(f.store, f.org, lee, HASH_A,
                                          "lee-2", &err),
              INBOX_ERR_UNAUTHENTICATED);
    CHECK_INT(inbox_store_session_find(f.store, "lee-1", &who, &err),
              INBOX_ERR_UNAUTHENTICATED);
    CHECK_INT(inbox_store_session_find(f.store, "lee-2", &who, &err),
              INBOX_ERR_UNAUTHENTICATED);

    fixture_close(&f);
}


TEST(sessions_are_created_found_ended_and_purged)
{
    char               other[INBOX_ID_MAX], pat[INBOX_ID_MAX];
    char               sam[INBOX_ID_MAX];
    size_t             removed;
    fixture_t          f;
    inbox_error_t      err;
    inbox_principal_t  who;

    FIXTURE(&f);
    CHECK_INT(people_add(&f, other, pat, sam), 0);

    CHECK_INT(inbox_store_session_create(f.store, f.org, pat, "hash-1",
                                         &err), INBOX_OK);
    CHECK_INT(inbox_store_session_create(f.store, other, sam, "hash-2",
                                         &err), INBOX_OK);

    CHECK_INT(inbox_store_session_find(f.store, "hash-1", &who, &err),
              INBOX_OK);
    CHECK_STR(who.org_id, f.org);
    CHECK_STR(who.user_id, pat);
    CHECK_INT(who.role, INBOX_ROLE_BILLING);

    CHECK_INT(inbox_store_session_find(f.store, "hash-2", &who, &err),
              INBOX_OK);
    CHECK_STR(who.org_id, other);
    CHECK_INT(who.role, INBOX_ROLE_MEMBER);

    CHECK_INT(inbox_store_session_find(f.store, "unknown", &who, &err),
              INBOX_ERR_UNAUTHENTICATED);
    CHECK_STR(who.org_id, "");
    CHECK(strstr(err.message, "sign in again") != NULL);

    /* no session for another organization's user */
    CHECK_INT(inbox_store_session_create(f.store, f.org, sam, "hash-x",
                                         &err), INBOX_ERR_NOT_FOUND);
    CHECK_INT(inbox_store_session_find(f.store, "hash-x", &who, &err),
              INBOX_ERR_UNAUTHENTICATED);

    /* ended: gone, and ending it again is fine */
    CHECK_INT(inbox_store_session_delete(f.store, "hash-1", NULL, &err),
              INBOX_OK);
    CHECK_INT(inbox_store_session_find(f.store, "hash-1", &who, &err),
              INBOX_ERR_UNAUTHENTICATED);
    CHECK_INT(inbox_store_session_delete(f.store, "hash-1", NULL, &err),
              INBOX_OK);
    CHECK_INT(inbox_store_session_find(f.store, "hash-2", &who, &err),
              INBOX_OK);

    /* purged once over: none is over now, all are in eight days */
    CHECK_INT(inbox_store_sessions_purge(f.store, inbox_now_ms(), &removed,
                                         &err), INBOX_OK);
    CHECK_INT(removed, 0);
    CHECK_INT(inbox_store_sessions_purge(f.store,
                                         inbox_now_ms() + 8 * 86400000LL,
                                         &removed, &err), INBOX_OK);
    CHECK_INT(removed, 1);
    CHECK_INT(inbox_store_session_find(f.store, "hash-2", &who, &err),
              INBOX_ERR_UNAUTHENTICATED);

    fixture_close(&f);
}


/* Whether the user with that email has that password hash stored. */
static int
stored_hash_is(inbox_store_t *store, const char *email, const char *hash)
{
    int            same;
    char          *stored;
    inbox_user_t   user;
    inbox_error_t  err;

    if (inbox_store_user_find_by_email(store, email, &user, &stored, &err)
        != INBOX_OK)
    {
        return 0;
    }

    same = stored != NULL && strcmp(stored, hash) == 0;
    free(stored);

    return same;
}


TEST(a_rehash_replaces_only_the_hash_it_read_and_keeps_the_sessions)
{
    int                replaced;
    char               other[INBOX_ID_MAX], pat[INBOX_ID_MAX];
    char               sam[INBOX_ID_MAX];
    fixture_t          f;
    inbox_error_t      err;
    inbox_principal_t  who;

    FIXTURE(&f);
    CHECK_INT(people_add(&f, other, pat, sam), 0);
    CHECK_INT(inbox_store_session_create(f.store, f.org, pat, "pat-1", &err),
              INBOX_OK);

    CHECK_INT(inbox_store_user_password_rehash(f.store, f.org, pat, HASH_A,
                                               HASH_C, &replaced, &err),
              INBOX_OK);
    CHECK_INT(replaced, 1);
    CHECK(stored_hash_is(f.store, "pat@example.com", HASH_C));
    CHECK_INT(inbox_store_session_find(f.store, "pat-1", &who, &err),
              INBOX_OK);

    /* read before a new password was set: that one stays */
    CHECK_INT(inbox_store_user_password_rehash(f.store, f.org, pat, HASH_A,
                                               HASH_B, &replaced, &err),
              INBOX_OK);
    CHECK_INT(replaced, 0);
    CHECK(stored_hash_is(f.store, "pat@example.com", HASH_C));

    /* another organization's user, and users that are not there */
    CHECK_INT(inbox_store_user_password_rehash(f.store, f.org, sam, HASH_B,
                                               HASH_C, &replaced, &err),
              INBOX_OK);
    CHECK_INT(replaced, 0);
    CHECK(stored_hash_is(f.store, "sam@other.test", HASH_B));
    CHECK_INT(inbox_store_user_password_rehash(f.store, f.org,
                                               f.backend->missing_id, HASH_C,
                                               HASH_A, &replaced, &err),
              INBOX_OK);
    CHECK_INT(replaced, 0);
    CHECK_INT(inbox_store_user_password_rehash(f.store, f.org, "nonsense",
                                               HASH_C, HASH_A, &replaced,
                                               &err), INBOX_OK);
    CHECK_INT(replaced, 0);

    CHECK_INT(inbox_store_user_password_rehash(f.store, f.org, pat, HASH_C,
                                               "", &replaced, &err),
              INBOX_ERR_INVALID);
    CHECK(stored_hash_is(f.store, "pat@example.com", HASH_C));

    fixture_close(&f);
}


TEST(a_new_password_ends_the_users_sessions_only)
{
    char               other[INBOX_ID_MAX], pat[INBOX_ID_MAX];
    char               sam[INBOX_ID_MAX], id[INBOX_ID_MAX], *hash;
    fixture_t          f;
    inbox_user_t       user;
    inbox_error_t      err;
    inbox_principal_t  who;

    FIXTURE(&f);
    CHECK_INT(people_add(&f, other, pat, sam), 0);

    CHECK_INT(inbox_store_session_create(f.store, f.org, pat, "pat-1", &err),
              INBOX_OK);
    CHECK_INT(inbox_store_session_create(f.store, f.org, pat, "pat-2", &err),
              INBOX_OK);
    CHECK_INT(inbox_store_session_create(f.store, other, sam, "sam-1", &err),
              INBOX_OK);

    CHECK_INT(inbox_store_user_password_set(f.store, f.org,
                                            "PAT@example.com", NULL, HASH_B, id,
                                            NULL, &err), INBOX_OK);
    CHECK_STR(id, pat);
    CHECK_INT(inbox_store_user_find_by_email(f.store, "pat@example.com",
                                             &user, &hash, &err), INBOX_OK);
    CHECK_STR(hash, HASH_B);
    free(hash);

    CHECK_INT(inbox_store_session_find(f.store, "pat-1", &who, &err),
              INBOX_ERR_UNAUTHENTICATED);
    CHECK_INT(inbox_store_session_find(f.store, "pat-2", &who, &err),
              INBOX_ERR_UNAUTHENTICATED);
    CHECK_INT(inbox_store_session_find(f.store, "sam-1", &who, &err),
              INBOX_OK);

    /* only the organization's own users */
    CHECK_INT(inbox_store_user_password_set(f.store, f.org, "sam@other.test",
                                            NULL, HASH_A, id, NULL, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_STR(err.field, "email");
    CHECK_INT(inbox_store_session_find(f.store, "sam-1", &who, &err),
              INBOX_OK);
    CHECK_INT(inbox_store_user_password_set(f.store, f.backend->missing_id,
                                            "pat@example.com", NULL, HASH_A, id,
                                            NULL, &err), INBOX_ERR_NOT_FOUND);
    CHECK(strstr(err.message, "organization") != NULL);

    fixture_close(&f);
}


/* the team: roles and removal, an organization always keeping a
 * billing contact */

/* The role a session acts with now; -1 when it no longer works. */
static int
session_role(fixture_t *f, const char *session)
{
    inbox_principal_t  who;

    if (inbox_store_session_find(f->store, session, &who, NULL) != INBOX_OK) {
        return -1;
    }

    return (int) who.role;
}


TEST(the_team_keeps_a_billing_contact_through_role_changes)
{
    char           other[INBOX_ID_MAX], pat[INBOX_ID_MAX];
    char           sam[INBOX_ID_MAX], lee[INBOX_ID_MAX];
    fixture_t      f;
    inbox_user_t   user;
    inbox_error_t  err;

    FIXTURE(&f);
    CHECK_INT(people_add(&f, other, pat, sam), 0);
    CHECK_INT(inbox_store_user_add(f.store, f.org, "lee@example.com",
                                   INBOX_ROLE_MEMBER, HASH_C, lee, NULL, &err),
              INBOX_OK);
    CHECK_INT(inbox_store_session_create(f.store, f.org, pat, "pat-1", &err),
              INBOX_OK);
    CHECK_INT(inbox_store_session_create(f.store, f.org, lee, "lee-1", &err),
              INBOX_OK);

    /* Pat is the only billing contact */
    CHECK_INT(inbox_store_user_role_set(f.store, f.org, pat,
                                        INBOX_ROLE_MEMBER, &user, NULL, &err),
              INBOX_ERR_CONFLICT);
    CHECK(strstr(err.message, "at least one billing contact") != NULL);
    CHECK_INT(session_role(&f, "pat-1"), INBOX_ROLE_BILLING);

    /* a new billing contact, at once in their session */
    CHECK_INT(inbox_store_user_role_set(f.store, f.org, lee,
                                        INBOX_ROLE_BILLING, &user, NULL, &err),
              INBOX_OK);
    CHECK_STR(user.id, lee);
    CHECK_STR(user.org_id, f.org);
    CHECK_STR(user.email, "lee@example.com");
    CHECK_INT(user.role, INBOX_ROLE_BILLING);
    CHECK(user.created_at > 0);
    CHECK_INT(session_role(&f, "lee-1"), INBOX_ROLE_BILLING);

    /* now Pat may step down, and Lee may not */
    CHECK_INT(inbox_store_user_role_set(f.store, f.org, pat,
                                        INBOX_ROLE_MEMBER, NULL, NULL, &err),
              INBOX_OK);
    CHECK_INT(session_role(&f, "pat-1"), INBOX_ROLE_MEMBER);
    CHECK_INT(inbox_store_user_role_set(f.store, f.org, lee,
                                        INBOX_ROLE_MEMBER, NULL, NULL, &err),
              INBOX_ERR_CONFLICT);
    CHECK_INT(session_role(&f, "lee-1"), INBOX_ROLE_BILLING);

    /* the same role again changes nothing */
    CHECK_INT(inbox_store_user_role_set(f.store, f.org, pat,
                                        INBOX_ROLE_MEMBER, &user, NULL, &err),
              INBOX_OK);
    CHECK_INT(user.role, INBOX_ROLE_MEMBER);

    /* only the organization's own users */
    CHECK_INT(inbox_store_user_role_set(f.store, f.org, sam,
                                        INBOX_ROLE_BILLING, NULL, NULL, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(inbox_store_user_role_set(f.store, f.org,
                                        f.backend->missing_id,
                                        INBOX_ROLE_BILLING, NULL, NULL, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(inbox_store_user_role_set(f.store, f.org, "nonsense",
                                        INBOX_ROLE_BILLING, NULL, NULL, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(inbox_store_user_role_set(f.store, f.backend->missing_id, pat,
                                        INBOX_ROLE_BILLING, NULL, NULL, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK(strstr(err.message, "organization") != NULL);

    fixture_close(&f);
}


TEST(a_removed_user_is_signed_out_everywhere_and_may_come_back)
{
    char               other[INBOX_ID_MAX], pat[INBOX_ID_MAX];
    char               sam[INBOX_ID_MAX], lee[INBOX_ID_MAX];
    char               again[INBOX_ID_MAX], id[INBOX_ID_MAX], *hash;
    fixture_t          f;
    inbox_user_t       user;
    inbox_error_t      err;
    inbox_principal_t  who;
    inbox_user_list_t  users;

    FIXTURE(&f);
    CHECK_INT(people_add(&f, other, pat, sam), 0);
    CHECK_INT(inbox_store_user_add(f.store, f.org, "lee@example.com",
                                   INBOX_ROLE_MEMBER, HASH_C, lee, NULL, &err),
              INBOX_OK);
    CHECK_INT(inbox_store_session_create(f.store, f.org, pat, "pat-1", &err),
              INBOX_OK);
    CHECK_INT(inbox_store_session_create(f.store, f.org, lee, "lee-1", &err),
              INBOX_OK);
    CHECK_INT(token_add(&f, "lee@example.com", "lee-token", NULL, 0, NULL),
              INBOX_OK);

    /* the last billing contact stays */
    CHECK_INT(inbox_store_user_remove(f.store, f.org, pat, NULL, &err),
              INBOX_ERR_CONFLICT);
    CHECK_INT(session_role(&f, "pat-1"), INBOX_ROLE_BILLING);
    CHECK_INT(inbox_store_user_find_by_email(f.store, "pat@example.com",
                                             &user, &hash, &err), INBOX_OK);
    CHECK_STR(hash, HASH_A);
    free(hash);

    CHECK_INT(inbox_store_user_remove(f.store, f.org, lee,
                                      NULL, &err), INBOX_OK);

    /* no session, token, sign-in or list entry of theirs is left */
    CHECK_INT(inbox_store_session_find(f.store, "lee-1", &who, &err),
              INBOX_ERR_UNAUTHENTICATED);
    CHECK_INT(inbox_store_token_find(f.store, "lee-token", &who, &err),
              INBOX_ERR_UNAUTHENTICATED);
    CHECK_INT(inbox_store_user_find_by_email(f.store, "lee@example.com",
                                             &user, &hash, &err),
              INBOX_ERR_NOT_FOUND);
    memset(&users, 0, sizeof(users));
    CHECK_INT(inbox_store_users_list(f.store, f.org, &users, &err), INBOX_OK);
    CHECK_INT(users.count, 1);
    if (users.count == 1) {
        CHECK_STR(users.items[0].id, pat);
    }
    inbox_user_list_free(&users);
    CHECK_INT(session_role(&f, "pat-1"), INBOX_ROLE_BILLING);

    /* nothing more can be done to them, and nothing in their name */
    CHECK_INT(inbox_store_user_remove(f.store, f.org, lee, NULL, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(inbox_store_user_role_set(f.store, f.org, lee,
                                        INBOX_ROLE_BILLING, NULL, NULL, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(inbox_store_user_password_set(f.store, f.org,
                                            "lee@example.com", NULL, HASH_A, id,
                                            NULL, &err), INBOX_ERR_NOT_FOUND);
    CHECK_INT(token_add(&f, "lee@example.com", "lee-token-2", NULL, 0, NULL),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(inbox_store_user_remove(f.store, f.org, sam, NULL, &err),
              INBOX_ERR_NOT_FOUND);

    /* the email is theirs still: another organization cannot take it,
     * and this one brings them back, as the same user */
    CHECK_INT(inbox_store_user_add(f.store, other, "lee@example.com",
                                   INBOX_ROLE_MEMBER, HASH_A, again,
                                   NULL, &err),
              INBOX_ERR_CONFLICT);
    CHECK_INT(inbox_store_user_add(f.store, f.org, "Lee@Example.com",
                                   INBOX_ROLE_BILLING, HASH_B, again,
                                   NULL, &err),
              INBOX_OK);
    CHECK_STR(again, lee);
    CHECK_INT(inbox_store_user_find_by_email(f.store, "lee@example.com",
                                             &user, &hash, &err), INBOX_OK);
    CHECK_STR(hash, HASH_B);
    CHECK_INT(user.role, INBOX_ROLE_BILLING);
    free(hash);
    CHECK_INT(inbox_store_token_find(f.store, "lee-token", &who, &err),
              INBOX_ERR_UNAUTHENTICATED);

    /* a user on the team is not added twice */
    CHECK_INT(inbox_store_user_add(f.store, f.org, "lee@example.com",
                                   INBOX_ROLE_MEMBER, HASH_A, again,
                                   NULL, &err),
              INBOX_ERR_CONFLICT);
    CHECK_STR(err.field, "email");

    /* with Lee billing, Pat may go */
    CHECK_INT(inbox_store_user_remove(f.store, f.org, pat,
                                      NULL, &err), INBOX_OK);
    CHECK_INT(session_role(&f, "pat-1"), -1);
    CHECK_INT(inbox_store_user_remove(f.store, f.backend->missing_id, lee,
                                      NULL, &err), INBOX_ERR_NOT_FOUND);
    CHECK(strstr(err.message, "organization") != NULL);

    fixture_close(&f);
}


/* The API asks before it hashes a new user's password (Argon2id, slow on
 * purpose): the answer is user_add's, and asking writes nothing. */
TEST(an_email_is_checked_as_user_add_would_take_it)
{
    char           other[INBOX_ID_MAX], pat[INBOX_ID_MAX];
    char           sam[INBOX_ID_MAX], lee[INBOX_ID_MAX], id[INBOX_ID_MAX];
    fixture_t      f;
    inbox_error_t  err;

    FIXTURE(&f);
    CHECK_INT(people_add(&f, other, pat, sam), 0);
    CHECK_INT(inbox_store_user_add(f.store, f.org, "lee@example.com",
                                   INBOX_ROLE_MEMBER, HASH_C, lee, NULL, &err),
              INBOX_OK);

    /* on this team or another, in any case */
    memset(&err, 0, sizeof(err));
    CHECK_INT(inbox_store_user_email_check(f.store, f.org, "PAT@example.com",
                                           &err), INBOX_ERR_CONFLICT);
    CHECK_STR(err.field, "email");
    CHECK(strstr(err.message, "pat@example.com") != NULL);
    CHECK_INT(inbox_store_user_email_check(f.store, f.org, "sam@other.test",
                                           &err), INBOX_ERR_CONFLICT);
    CHECK_INT(inbox_store_user_email_check(f.store, other, "pat@example.com",
                                           &err), INBOX_ERR_CONFLICT);

    /* nobody's: free, and asking made no user */
    CHECK_INT(inbox_store_user_email_check(f.store, f.org, "new@example.com",
                                           &err), INBOX_OK);
    CHECK_INT(inbox_store_user_email_check(f.store, f.org, "new@example.com",
                                           &err), INBOX_OK);
    CHECK_INT(inbox_store_user_add(f.store, f.org, "new@example.com",
                                   INBOX_ROLE_MEMBER, HASH_A, id, NULL, &err),
              INBOX_OK);
    CHECK_INT(inbox_store_user_email_check(f.store, f.org, "new@example.com",
                                           &err), INBOX_ERR_CONFLICT);

    /* a removed user comes back to their own organization only */
    CHECK_INT(inbox_store_user_remove(f.store, f.org, lee, NULL, &err),
              INBOX_OK);
    CHECK_INT(inbox_store_user_remove(f.store, other, sam, NULL, &err),
              INBOX_OK);
    CHECK_INT(inbox_store_user_email_check(f.store, f.org, "Lee@Example.com",
                                           &err), INBOX_OK);
    CHECK_INT(inbox_store_user_email_check(f.store, other, "lee@example.com",
                                           &err), INBOX_ERR_CONFLICT);
    CHECK_INT(inbox_store_user_email_check(f.store, f.org, "sam@other.test",
                                           &err), INBOX_ERR_CONFLICT);
    CHECK_INT(inbox_store_user_email_check(f.store, other, "sam@other.test",
                                           &err), INBOX_OK);

    /* what user_add refuses too */
    CHECK_INT(inbox_store_user_email_check(f.store, f.org, "nobody", &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "email");
    CHECK_INT(inbox_store_user_email_check(f.store, "nonsense",
                                           "new@example.com", &err),
              INBOX_ERR_NOT_FOUND);

    fixture_close(&f);
}


/* A token made for a user as they were removed (the removal revoked only
 * the tokens it saw) authenticates nobody, as a revoked one. */
TEST(a_token_of_a_removed_user_is_not_found)
{
    char               lee[INBOX_ID_MAX];
    fixture_t          f;
    inbox_error_t      err;
    inbox_principal_t  who;

    FIXTURE(&f);
    CHECK_INT(inbox_store_user_add(f.store, f.org, "lee@example.com",
                                   INBOX_ROLE_BILLING, HASH_C, lee, NULL,
                                   &err),
              INBOX_OK);
    CHECK_INT(token_add(&f, "lee@example.com", "lee-late", NULL, 0, NULL),
              INBOX_OK);
    CHECK_INT(token_add(&f, NULL, "org-wide", NULL, 0, NULL), INBOX_OK);
    CHECK_INT(inbox_store_token_find(f.store, "lee-late", &who, &err),
              INBOX_OK);
    CHECK_STR(who.user_id, lee);

    CHECK_INT(f.backend->user_gone(&f, "lee@example.com"), 0);

    CHECK_INT(inbox_store_token_find(f.store, "lee-late", &who, &err),
              INBOX_ERR_UNAUTHENTICATED);
    CHECK_STR(who.user_id, "");
    CHECK_INT(who.role, INBOX_ROLE_MEMBER);

    /* an organization-wide token has no user to lose */
    CHECK_INT(inbox_store_token_find(f.store, "org-wide", &who, &err),
              INBOX_OK);

    fixture_close(&f);
}


/* media: uploads and the copies of inbound MMS media */

#define TOKEN_A  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define TOKEN_B  "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
#define TOKEN_C  "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"
#define TOKEN_D  "DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD"
#define TOKEN_E  "EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE"


static inbox_status_t
upload(fixture_t *f, const char *org, const char *file,
    const char *content_type, int64_t bytes, char id[INBOX_ID_MAX])
{
    inbox_status_t        status;
    inbox_media_record_t  m;

    memset(&m, 0, sizeof(m));
    snprintf(m.file, sizeof(m.file), "%s", file);
    snprintf(m.content_type, sizeof(m.content_type), "%s", content_type);
    m.bytes = bytes;

    status = inbox_store_media_add(f->store, org, &m, NULL);
    snprintf(id, INBOX_ID_MAX, "%s", m.id);

    return status;
}


TEST(uploads_are_found_by_id_in_their_organization_only)
{
    char                  other[INBOX_ID_MAX];
    char                  a[INBOX_ID_MAX], b[INBOX_ID_MAX], c[INBOX_ID_MAX];
    const char           *ids[3];
    fixture_t             f;
    inbox_error_t         err;
    inbox_media_record_t  got[3];

    FIXTURE(&f);
    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);

    CHECK_INT(upload(&f, f.org, TOKEN_A ".png", "image/png", 1200, a),
              INBOX_OK);
    CHECK_INT(upload(&f, f.org, TOKEN_B ".jpg", "image/jpeg", 5000, b),
              INBOX_OK);
    CHECK_INT(upload(&f, other, TOKEN_C ".gif", "image/gif", 77, c),
              INBOX_OK);
    CHECK(a[0] != '\0' && strcmp(a, b) != 0);

    /* in the order asked */
    ids[0] = b;
    ids[1] = a;
    CHECK_INT(inbox_store_media_get(f.store, f.org, ids, 2, got, &err),
              INBOX_OK);
    CHECK_STR(got[0].id, b);
    CHECK_STR(got[0].file, TOKEN_B ".jpg");
    CHECK_STR(got[0].content_type, "image/jpeg");
    CHECK_INT(got[0].bytes, 5000);
    CHECK(got[0].created_at > 0);
    CHECK_STR(got[1].file, TOKEN_A ".png");
    CHECK_INT(got[1].bytes, 1200);

    /* another organization's id is as unknown as a made-up one */
    ids[0] = a;
    ids[1] = c;
    CHECK_INT(inbox_store_media_get(f.store, f.org, ids, 2, got, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_STR(err.field, "media_ids");
    /* the unknown one is the first left empty, those found are kept */
    CHECK_STR(got[0].file, TOKEN_A ".png");
    CHECK_STR(got[1].id, "");
    ids[1] = f.backend->missing_id;
    CHECK_INT(inbox_store_media_get(f.store, f.org, ids, 2, got, &err),
              INBOX_ERR_NOT_FOUND);
    ids[1] = "not an id";
    CHECK_INT(inbox_store_media_get(f.store, f.org, ids, 2, got, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_STR(got[1].id, "");
    /* the first unknown is named, whatever makes it so */
    ids[0] = f.backend->missing_id;
    CHECK_INT(inbox_store_media_get(f.store, f.org, ids, 2, got, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_STR(got[0].id, "");
    CHECK(strstr(err.message, f.backend->missing_id) != NULL);
    ids[0] = c;
    CHECK_INT(inbox_store_media_get(f.store, other, ids, 1, got, &err),
              INBOX_OK);
    CHECK_STR(got[0].file, TOKEN_C ".gif");

    /* only names media.h makes, of the type they say, and one each */
    CHECK_INT(upload(&f, f.org, "../inbox.db", "image/png", 1, a),
              INBOX_ERR_INVALID);
    CHECK_INT(upload(&f, f.org, TOKEN_C ".png", "image/gif", 1, a),
              INBOX_ERR_INVALID);
    CHECK_INT(upload(&f, f.org, TOKEN_C ".png", "text/html", 1, a),
              INBOX_ERR_INVALID);
    /* what a contact may send, but no carrier takes from us */
    CHECK_INT(upload(&f, f.org, TOKEN_C ".webp", "image/webp", 1, a),
              INBOX_ERR_INVALID);
    CHECK_INT(upload(&f, f.org, TOKEN_C ".vcf", "text/vcard", 1, a),
              INBOX_ERR_INVALID);
    CHECK_INT(upload(&f, f.org, TOKEN_A ".png", "image/png", 1200, a),
              INBOX_ERR_CONFLICT);
    CHECK_INT(upload(&f, f.backend->missing_id, TOKEN_C ".png", "image/png",
                     1, a), INBOX_ERR_NOT_FOUND);

    fixture_close(&f);
}


/* An MMS to NUMBER with images of the carrier's URLs. */
static inbox_status_t
receive_mms(fixture_t *f, const char *provider_id, size_t n, int64_t at,
    inbox_ingest_result_t *result)
{
    size_t     i;
    inbound_t  m;

    inbound_init(&m, provider_id, ALICE, NUMBER, "", at);
    m.in.media_count = n;

    for (i = 0; i < n; i++) {
        snprintf(m.in.media[i].url, sizeof(m.in.media[i].url),
                 "https://api.twilio.com/%s/Media/ME%zu", provider_id, i);
        snprintf(m.in.media[i].content_type,
                 sizeof(m.in.media[i].content_type), "image/jpeg");
    }

    return inbox_store_inbound_ingest(f->store, &m.in, 1, result, NULL,
                                      NULL);
}


/* The message's media as the thread shows it (the newest message). */
static int
media_of(fixture_t *f, const char *conversation_id, size_t idx,
    inbox_media_t *out)
{
    int                   rc;
    inbox_message_page_t  page;

    rc = -1;
    memset(out, 0, sizeof(inbox_media_t));

    if (inbox_store_messages_list(f->store, f->org, conversation_id, NULL, 1,
                                  &page, NULL) == INBOX_OK
        && page.count == 1 && idx < page.items[0].media_count)
    {
        *out = page.items[0].media[idx];
        rc = 0;
    }

    inbox_message_page_free(&page);
    return rc;
}


TEST(inbound_images_wait_for_a_copy_and_are_leased_to_one_fetcher)
{
    fixture_t                 f;
    inbox_media_t             media;
    inbox_ingest_result_t     r;
    inbox_media_fetch_list_t  due;

    FIXTURE(&f);
    CHECK_INT(receive_mms(&f, "MM1", 2, T0, &r), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "text only", T0 + 1, NULL, NULL),
              INBOX_OK);

    CHECK_INT(media_of(&f, r.conversation_id, 1, &media), 0);
    CHECK_INT(media.state, INBOX_MEDIA_PENDING);
    CHECK_STR(media.file, "");

    /* both images, with what fetching them takes */
    CHECK_INT(inbox_store_media_fetch_claim(f.store, T0, 10, &due, NULL),
              INBOX_OK);
    CHECK_INT(due.count, 2);
    if (due.count == 2) {
        CHECK_STR(due.items[0].message_id, r.message_id);
        CHECK_STR(due.items[0].org_id, f.org);
        CHECK_INT(due.items[0].idx + due.items[1].idx, 1);
        CHECK(strstr(due.items[0].url, "/MM1/Media/ME") != NULL);
        CHECK_STR(due.items[0].content_type, "image/jpeg");
        CHECK_INT(due.items[0].attempts, 1);
        CHECK_STR(due.items[0].number.e164, NUMBER);
        CHECK_INT(due.items[0].number.carrier, INBOX_CARRIER_TWILIO);
        CHECK_STR(due.items[1].number.auth_token, "secret");
    }
    inbox_media_fetch_list_free(&due);

    /* leased: nobody else gets them meanwhile */
    CHECK_INT(inbox_store_media_fetch_claim(f.store, T0 + MINUTE, 10, &due,
                                            NULL), INBOX_OK);
    CHECK_INT(due.count, 0);
    inbox_media_fetch_list_free(&due);

    /* a fetcher that died: they come back when the lease ends, one at a
     * time when asked so */
    CHECK_INT(inbox_store_media_fetch_claim(f.store,
                                            T0 + INBOX_MEDIA_FETCH_LEASE_MS,
                                            1, &due, NULL), INBOX_OK);
    CHECK_INT(due.count, 1);
    CHECK_INT(due.count == 1 ? due.items[0].attempts : 0, 2);
    inbox_media_fetch_list_free(&due);
    CHECK_INT(inbox_store_media_fetch_claim(f.store,
                                            T0 + INBOX_MEDIA_FETCH_LEASE_MS,
                                            10, &due, NULL), INBOX_OK);
    CHECK_INT(due.count, 1);
    inbox_media_fetch_list_free(&due);

    fixture_close(&f);
}


/* An item intake could not keep (a URL too long, inbound.h) is stored
 * failed beside the others, and no fetcher is given it. */
TEST(an_inbound_image_failed_at_intake_is_stored_failed_and_never_fetched)
{
    fixture_t                 f;
    inbox_media_t             media;
    inbox_ingest_result_t     r;
    inbox_media_fetch_list_t  due;
    inbound_t                 m;

    FIXTURE(&f);
    inbound_init(&m, "MM1", ALICE, NUMBER, "two pictures", T0);
    m.in.media_count = 2;
    m.in.media[0].state = INBOX_MEDIA_FAILED;
    snprintf(m.in.media[0].content_type, sizeof(m.in.media[0].content_type),
             "image/jpeg");
    snprintf(m.in.media[1].url, sizeof(m.in.media[1].url),
             "https://api.twilio.com/MM1/Media/ME1");
    snprintf(m.in.media[1].content_type, sizeof(m.in.media[1].content_type),
             "image/png");
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &r, NULL, NULL),
              INBOX_OK);

    CHECK_INT(media_of(&f, r.conversation_id, 0, &media), 0);
    CHECK_INT(media.state, INBOX_MEDIA_FAILED);
    CHECK_INT(media_of(&f, r.conversation_id, 1, &media), 0);
    CHECK_INT(media.state, INBOX_MEDIA_PENDING);

    CHECK_INT(inbox_store_media_fetch_claim(f.store, T0, 10, &due, NULL),
              INBOX_OK);
    CHECK_INT(due.count, 1);
    CHECK_INT(due.count == 1 ? due.items[0].idx : 0, 1);
    inbox_media_fetch_list_free(&due);

    fixture_close(&f);
}


TEST(a_stored_copy_is_shown_and_pushed_as_message_updated)
{
    fixture_t                 f;
    inbox_error_t             err;
    inbox_media_t             media;
    inbox_event_list_t        events;
    inbox_ingest_result_t     r;
    inbox_media_fetch_list_t  due;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));
    CHECK_INT(receive_mms(&f, "MM1", 2, T0, &r), INBOX_OK);
    /* the message's 3, and the contact it made */
    CHECK_INT(org_seq(&f, f.org), 4);

    CHECK_INT(inbox_store_media_fetch_claim(f.store, T0, 10, &due, NULL),
              INBOX_OK);
    inbox_media_fetch_list_free(&due);

    /* the bytes were a PNG, whatever the carrier said */
    CHECK_INT(inbox_store_media_fetch_done(f.store, r.message_id, 1,
                                           TOKEN_A ".png", "image/png",
                                           4321, &events, &err), INBOX_OK);
    CHECK_INT(org_seq(&f, f.org), 5);
    CHECK_INT(events.count, 1);
    if (events.count == 1) {
        CHECK_STR(events.items[0].org_id, f.org);
        CHECK_INT(events.items[0].org_seq, 5);
        CHECK(strstr(events.items[0].json, "\"type\":\"message.updated\"")
              != NULL);
        CHECK(strstr(events.items[0].json, r.message_id) != NULL);
        CHECK(strstr(events.items[0].json, "\"url\":\"/media/" TOKEN_A
                     ".png\",\"content_type\":\"image/png\","
                     "\"state\":\"stored\"") != NULL);
        /* the other is still to come */
        CHECK(strstr(events.items[0].json, "\"url\":null,\"content_type\":"
                     "\"image/jpeg\",\"state\":\"pending\"") != NULL);
        CHECK(strstr(events.items[0].json, "api.twilio.com") == NULL);
    }
    inbox_event_list_free(&events);

    CHECK_INT(media_of(&f, r.conversation_id, 1, &media), 0);
    CHECK_INT(media.state, INBOX_MEDIA_STORED);
    CHECK_STR(media.file, TOKEN_A ".png");
    CHECK_STR(media.content_type, "image/png");
    CHECK_INT(media.bytes, 4321);
    CHECK_INT(media_of(&f, r.conversation_id, 0, &media), 0);
    CHECK_INT(media.state, INBOX_MEDIA_PENDING);

    /* once: a second copy (a fetcher whose lease ran out) is refused */
    CHECK_INT(inbox_store_media_fetch_done(f.store, r.message_id, 1,
                                           TOKEN_B ".png", "image/png", 1,
                                           &events, &err),
              INBOX_ERR_CONFLICT);
    CHECK_INT(events.count, 0);
    CHECK_INT(org_seq(&f, f.org), 5);
    CHECK_INT(media_of(&f, r.conversation_id, 1, &media), 0);
    CHECK_STR(media.file, TOKEN_A ".png");

    /* only real media, names media.h makes, of the type they say */
    CHECK_INT(inbox_store_media_fetch_done(f.store, r.message_id, 5,
                                           TOKEN_B ".png", "image/png", 1,
                                           NULL, &err), INBOX_ERR_NOT_FOUND);
    CHECK_INT(inbox_store_media_fetch_done(f.store, f.backend->missing_id,
                                           0, TOKEN_B ".png", "image/png", 1,
                                           NULL, &err), INBOX_ERR_NOT_FOUND);
    CHECK_INT(inbox_store_media_fetch_done(f.store, r.message_id, 0,
                                           "../../x.png", "image/png", 1,
                                           NULL, &err), INBOX_ERR_INVALID);
    CHECK_INT(inbox_store_media_fetch_done(f.store, r.message_id, 0,
                                           TOKEN_B ".png", "text/html", 1,
                                           NULL, &err), INBOX_ERR_INVALID);

    /* a stored copy is never claimed again */
    CHECK_INT(inbox_store_media_fetch_claim(f.store,
                                            T0 + INBOX_MEDIA_FETCH_LEASE_MS,
                                            10, &due, NULL), INBOX_OK);
    CHECK_INT(due.count, 1);
    CHECK_INT(due.count == 1 ? due.items[0].idx : 99, 0);
    inbox_media_fetch_list_free(&due);

    fixture_close(&f);
}


TEST(a_copy_is_kept_as_whatever_the_phone_sent)
{
    fixture_t                 f;
    inbox_error_t             err;
    inbox_media_t             media;
    inbox_event_list_t        events;
    inbox_ingest_result_t     r;
    inbox_media_fetch_list_t  due;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));
    CHECK_INT(receive_mms(&f, "MM1", 3, T0, &r), INBOX_OK);
    CHECK_INT(inbox_store_media_fetch_claim(f.store, T0, 10, &due, NULL),
              INBOX_OK);
    CHECK_INT(due.count, 3);
    inbox_media_fetch_list_free(&due);

    /* a contact card, a video and bytes of no known type: each kept, with
     * the type its bytes are and its size, for a browser to offer */
    CHECK_INT(inbox_store_media_fetch_done(f.store, r.message_id, 0,
                                           TOKEN_A ".vcf", "text/vcard",
                                           312, &events, &err), INBOX_OK);
    /* and the thread's row, which the carrier's "image/jpeg" had made a
     * picture message (a_copy_retypes_its_thread_row) */
    CHECK_INT(events.count, 2);
    if (events.count == 2) {
        CHECK(strstr(events.items[0].json, "{\"url\":\"/media/" TOKEN_A
                     ".vcf\",\"content_type\":\"text/vcard\","
                     "\"state\":\"stored\",\"bytes\":312}") != NULL);
        CHECK(strstr(events.items[0].json, "{\"url\":null,\"content_type\":"
                     "\"image/jpeg\",\"state\":\"pending\","
                     "\"bytes\":null}") != NULL);
    }
    inbox_event_list_free(&events);

    CHECK_INT(inbox_store_media_fetch_done(f.store, r.message_id, 1,
                                           TOKEN_B ".3gp", "video/3gpp",
                                           90000, NULL, &err), INBOX_OK);
    CHECK_INT(inbox_store_media_fetch_done(f.store, r.message_id, 2,
                                           TOKEN_C ".bin",
                                           "application/octet-stream", 5,
                                           NULL, &err), INBOX_OK);

    CHECK_INT(media_of(&f, r.conversation_id, 0, &media), 0);
    CHECK_INT(media.state, INBOX_MEDIA_STORED);
    CHECK_STR(media.file, TOKEN_A ".vcf");
    CHECK_STR(media.content_type, "text/vcard");
    CHECK_INT(media.bytes, 312);
    CHECK_INT(media_of(&f, r.conversation_id, 1, &media), 0);
    CHECK_STR(media.file, TOKEN_B ".3gp");
    CHECK_STR(media.content_type, "video/3gpp");
    CHECK_INT(media_of(&f, r.conversation_id, 2, &media), 0);
    CHECK_STR(media.file, TOKEN_C ".bin");
    CHECK_STR(media.content_type, "application/octet-stream");

    fixture_close(&f);
}


/* The thread's type of a copy, as the list row reads it (media_type). */
static void
thread_media_type(fixture_t *f, const char *conversation_id, char *out,
    size_t size)
{
    inbox_conversation_t  c;

    out[0] = '\0';

    if (inbox_store_conversation_get(f->store, f->org, conversation_id, &c,
                                     NULL) == INBOX_OK)
    {
        snprintf(out, size, "%s", c.last_message.media_type);
        inbox_conversation_free(&c);
    }
}


/* The carrier's claim (Telnyx often makes none) gives way to what the
 * copy of the first attachment is, while that message is the thread's
 * last: the row that read "Picture message" reads "Contact card". */
TEST(a_copy_retypes_its_thread_row)
{
    fixture_t                 f;
    char                      type[INBOX_CONTENT_TYPE_MAX];
    inbound_t                 m;
    inbox_event_list_t        events;
    inbox_ingest_result_t     r, second, later;
    inbox_media_fetch_list_t  due;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    /* a card of no named type */
    inbound_init(&m, "MM1", ALICE, NUMBER, "", T0);
    m.in.media_count = 2;
    snprintf(m.in.media[0].url, sizeof(m.in.media[0].url),
             "https://api.telnyx.com/media/1");
    snprintf(m.in.media[1].url, sizeof(m.in.media[1].url),
             "https://api.telnyx.com/media/2");
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &r, NULL, NULL),
              INBOX_OK);
    thread_media_type(&f, r.conversation_id, type, sizeof(type));
    CHECK_STR(type, "");
    CHECK_INT(inbox_store_media_fetch_claim(f.store, T0, 10, &due, NULL),
              INBOX_OK);
    inbox_media_fetch_list_free(&due);

    /* the second attachment says nothing of the row */
    CHECK_INT(inbox_store_media_fetch_done(f.store, r.message_id, 1,
                                           TOKEN_B ".mp4", "video/mp4", 9,
                                           &events, NULL), INBOX_OK);
    CHECK_INT(events.count, 1);
    inbox_event_list_free(&events);
    thread_media_type(&f, r.conversation_id, type, sizeof(type));
    CHECK_STR(type, "");

    CHECK_INT(inbox_store_media_fetch_done(f.store, r.message_id, 0,
                                           TOKEN_A ".vcf", "text/vcard", 312,
                                           &events, NULL), INBOX_OK);
    thread_media_type(&f, r.conversation_id, type, sizeof(type));
    CHECK_STR(type, "text/vcard");
    CHECK_INT(events.count, 2);
    if (events.count == 2) {
        CHECK(strstr(events.items[0].json, "\"type\":\"message.updated\"")
              != NULL);
        CHECK(strstr(events.items[1].json,
                     "\"type\":\"conversation.updated\"") != NULL);
        CHECK(strstr(events.items[1].json, r.conversation_id) != NULL);
        CHECK(strstr(events.items[1].json, "\"media_type\":\"text/vcard\"")
              != NULL);
        CHECK_INT(events.items[1].org_seq, events.items[0].org_seq + 1);
    }
    inbox_event_list_free(&events);

    /* a copy that is what the carrier said changes no row */
    CHECK_INT(receive_mms(&f, "MM2", 1, T0 + 1, &second), INBOX_OK);
    CHECK_INT(inbox_store_media_fetch_claim(f.store, T0 + 1, 10, &due, NULL),
              INBOX_OK);
    inbox_media_fetch_list_free(&due);
    CHECK_INT(inbox_store_media_fetch_done(f.store, second.message_id, 0,
                                           TOKEN_C ".jpg", "image/jpeg", 7,
                                           &events, NULL), INBOX_OK);
    CHECK_INT(events.count, 1);
    inbox_event_list_free(&events);

    /* nor bytes of no known type: the carrier's "image/jpeg" says more */
    CHECK_INT(receive_mms(&f, "MM5", 1, T0 + 1, &second), INBOX_OK);
    CHECK_INT(inbox_store_media_fetch_claim(f.store, T0 + 1, 10, &due, NULL),
              INBOX_OK);
    inbox_media_fetch_list_free(&due);
    CHECK_INT(inbox_store_media_fetch_done(f.store, second.message_id, 0,
                                           TOKEN_D ".bin",
                                           INBOX_MEDIA_TYPE_UNKNOWN, 7,
                                           &events, NULL), INBOX_OK);
    CHECK_INT(events.count, 1);
    inbox_event_list_free(&events);
    thread_media_type(&f, second.conversation_id, type, sizeof(type));
    CHECK_STR(type, "image/jpeg");

    /* nor one of a message no longer the thread's last */
    CHECK_INT(receive_mms(&f, "MM3", 1, T0 + 2, &later), INBOX_OK);
    CHECK_INT(receive(&f, "SM4", ALICE, "and a word", T0 + 3, &r, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_media_fetch_claim(f.store, T0 + 2, 10, &due, NULL),
              INBOX_OK);
    inbox_media_fetch_list_free(&due);
    CHECK_INT(inbox_store_media_fetch_done(f.store, later.message_id, 0,
                                           TOKEN_D ".pdf", "application/pdf",
                                           7, &events, NULL), INBOX_OK);
    CHECK_INT(events.count, 1);
    inbox_event_list_free(&events);
    thread_media_type(&f, r.conversation_id, type, sizeof(type));
    CHECK_STR(type, "");

    fixture_close(&f);
}


TEST(a_failed_copy_is_tried_again_later_or_given_up)
{
    fixture_t                 f;
    inbox_error_t             err;
    inbox_media_t             media;
    inbox_event_list_t        events;
    inbox_ingest_result_t     r;
    inbox_media_fetch_list_t  due;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));
    CHECK_INT(receive_mms(&f, "MM1", 1, T0, &r), INBOX_OK);

    CHECK_INT(inbox_store_media_fetch_claim(f.store, T0, 10, &due, NULL),
              INBOX_OK);
    CHECK_INT(due.count, 1);
    inbox_media_fetch_list_free(&due);

    /* again in ten minutes: nothing a browser sees changes */
    CHECK_INT(inbox_store_media_fetch_failed(f.store, r.message_id, 0,
                                             T0 + 10 * MINUTE, &events,
                                             &err), INBOX_OK);
    CHECK_INT(events.count, 0);
    CHECK_INT(org_seq(&f, f.org), 4);

    CHECK_INT(inbox_store_media_fetch_claim(f.store, T0 + 9 * MINUTE, 10,
                                            &due, NULL), INBOX_OK);
    CHECK_INT(due.count, 0);
    inbox_media_fetch_list_free(&due);
    CHECK_INT(inbox_store_media_fetch_claim(f.store, T0 + 10 * MINUTE, 10,
                                            &due, NULL), INBOX_OK);
    CHECK_INT(due.count, 1);
    CHECK_INT(due.count == 1 ? due.items[0].attempts : 0, 2);
    inbox_media_fetch_list_free(&due);

    /* given up: shown as failed, pushed, never claimed again */
    CHECK_INT(inbox_store_media_fetch_failed(f.store, r.message_id, 0, 0,
                                             &events, &err), INBOX_OK);
    CHECK_INT(events.count, 1);
    if (events.count == 1) {
        CHECK(strstr(events.items[0].json, "\"type\":\"message.updated\"")
              != NULL);
        CHECK(strstr(events.items[0].json, "\"url\":null,\"content_type\":"
                     "\"image/jpeg\",\"state\":\"failed\"") != NULL);
    }
    inbox_event_list_free(&events);

    CHECK_INT(media_of(&f, r.conversation_id, 0, &media), 0);
    CHECK_INT(media.state, INBOX_MEDIA_FAILED);
    CHECK_INT(inbox_store_media_fetch_claim(f.store, T0 + 1000 * MINUTE, 10,
                                            &due, NULL), INBOX_OK);
    CHECK_INT(due.count, 0);
    inbox_media_fetch_list_free(&due);

    CHECK_INT(inbox_store_media_fetch_failed(f.store, r.message_id, 0, 0,
                                             NULL, &err), INBOX_ERR_CONFLICT);
    CHECK_INT(inbox_store_media_fetch_done(f.store, r.message_id, 0,
                                           TOKEN_A ".jpg", "image/jpeg", 9,
                                           NULL, &err), INBOX_ERR_CONFLICT);

    fixture_close(&f);
}


/* A copy the fetcher never sent (it had no file descriptor free) costs
 * the image none of its tries. */
TEST(a_copy_given_back_is_due_again_with_its_attempt_taken_back)
{
    fixture_t                 f;
    inbox_error_t             err;
    inbox_media_t             media;
    inbox_event_list_t        events;
    inbox_ingest_result_t     r;
    inbox_media_fetch_list_t  due;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));
    CHECK_INT(receive_mms(&f, "MM1", 1, T0, &r), INBOX_OK);

    CHECK_INT(inbox_store_media_fetch_claim(f.store, T0, 10, &due, NULL),
              INBOX_OK);
    CHECK_INT(due.count, 1);
    CHECK_INT(due.count == 1 ? due.items[0].attempts : 0, 1);
    inbox_media_fetch_list_free(&due);

    /* due again in a second, not at the end of its lease, and still
     * pending: nothing a browser sees changes */
    CHECK_INT(inbox_store_media_fetch_give_back(f.store, r.message_id, 0,
                                                T0 + 1000, &err), INBOX_OK);
    CHECK_INT(org_seq(&f, f.org), 4);
    CHECK_INT(media_of(&f, r.conversation_id, 0, &media), 0);
    CHECK_INT(media.state, INBOX_MEDIA_PENDING);

    CHECK_INT(inbox_store_media_fetch_claim(f.store, T0 + 999, 10, &due,
                                            NULL), INBOX_OK);
    CHECK_INT(due.count, 0);
    inbox_media_fetch_list_free(&due);

    /* the same attempt as the first claim's, given back as often as it
     * comes back */
    CHECK_INT(inbox_store_media_fetch_claim(f.store, T0 + 1000, 10, &due,
                                            NULL), INBOX_OK);
    CHECK_INT(due.count, 1);
    CHECK_INT(due.count == 1 ? due.items[0].attempts : 0, 1);
    inbox_media_fetch_list_free(&due);

    CHECK_INT(inbox_store_media_fetch_give_back(f.store, r.message_id, 0,
                                                T0 + 2000, &err), INBOX_OK);
    CHECK_INT(inbox_store_media_fetch_claim(f.store, T0 + 2000, 10, &due,
                                            NULL), INBOX_OK);
    CHECK_INT(due.count, 1);
    CHECK_INT(due.count == 1 ? due.items[0].attempts : 0, 1);
    inbox_media_fetch_list_free(&due);

    /* a real failure after it counts the second attempt */
    CHECK_INT(inbox_store_media_fetch_failed(f.store, r.message_id, 0,
                                             T0 + 10 * MINUTE, &events,
                                             &err), INBOX_OK);
    CHECK_INT(inbox_store_media_fetch_claim(f.store, T0 + 10 * MINUTE, 10,
                                            &due, NULL), INBOX_OK);
    CHECK_INT(due.count, 1);
    CHECK_INT(due.count == 1 ? due.items[0].attempts : 0, 2);
    inbox_media_fetch_list_free(&due);

    /* only a time, and only media that are there */
    CHECK_INT(inbox_store_media_fetch_give_back(f.store, r.message_id, 0, 0,
                                                &err), INBOX_ERR_INVALID);
    CHECK_INT(inbox_store_media_fetch_give_back(f.store, r.message_id, 5,
                                                T0, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(inbox_store_media_fetch_give_back(f.store,
                                                f.backend->missing_id, 0,
                                                T0, &err),
              INBOX_ERR_NOT_FOUND);

    /* given up: nothing to give back */
    CHECK_INT(inbox_store_media_fetch_failed(f.store, r.message_id, 0, 0,
                                             &events, &err), INBOX_OK);
    inbox_event_list_free(&events);
    CHECK_INT(inbox_store_media_fetch_give_back(f.store, r.message_id, 0,
                                                T0 + 20 * MINUTE, &err),
              INBOX_ERR_CONFLICT);
    CHECK_INT(media_of(&f, r.conversation_id, 0, &media), 0);
    CHECK_INT(media.state, INBOX_MEDIA_FAILED);

    fixture_close(&f);
}


TEST(a_copy_never_claimed_has_no_attempt_to_give_back)
{
    fixture_t                 f;
    inbox_error_t             err;
    inbox_ingest_result_t     r;
    inbox_media_fetch_list_t  due;

    FIXTURE(&f);
    CHECK_INT(receive_mms(&f, "MM1", 1, T0, &r), INBOX_OK);

    CHECK_INT(inbox_store_media_fetch_give_back(f.store, r.message_id, 0,
                                                T0 + MINUTE, &err),
              INBOX_ERR_CONFLICT);

    /* untouched: due as it was, its first claim the first attempt */
    CHECK_INT(inbox_store_media_fetch_claim(f.store, T0, 10, &due, NULL),
              INBOX_OK);
    CHECK_INT(due.count, 1);
    CHECK_INT(due.count == 1 ? due.items[0].attempts : 0, 1);
    inbox_media_fetch_list_free(&due);

    fixture_close(&f);
}


/* replies, the outbox and billing */


TEST(a_reply_is_queued_with_its_hold_and_ends_the_unresponded_thread)
{
    char                   pat[INBOX_ID_MAX], pat_a[INBOX_ID_MAX];
    int64_t                seq;
    fixture_t              f;
    inbox_reply_t          r;
    inbox_media_t          media[2];
    inbox_error_t          err;
    inbox_event_list_t     events;
    inbox_reply_result_t   result;
    inbox_ingest_result_t  in;
    inbox_message_page_t   page;
    inbox_ledger_entry_t   newest;
    inbox_conversation_t   shown;
    int64_t                balance, held;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    CHECK_INT(inbox_store_user_add(f.store, f.org, "pat@example.com",
                                   INBOX_ROLE_MEMBER, "hash", pat, NULL, NULL),
              INBOX_OK);
    CHECK_INT(receive(&f, "SM1", ALICE, "are you open?", T0, &in, NULL),
              INBOX_OK);
    CHECK_INT(list_count(&f, INBOX_FILTER_UNRESPONDED, NULL), 1);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);
    seq = org_seq(&f, f.org);

    /* the organization's uploads */
    CHECK_INT(upload(&f, f.org, TOKEN_A ".png", "image/png", 100, pat_a),
              INBOX_OK);
    CHECK_INT(upload(&f, f.org, TOKEN_B ".gif", "image/gif", 100, pat_a),
              INBOX_OK);
    memset(media, 0, sizeof(media));
    snprintf(media[0].url, sizeof(media[0].url), "https://x.test/m/a");
    snprintf(media[0].content_type, sizeof(media[0].content_type),
             "image/png");
    snprintf(media[0].file, sizeof(media[0].file), TOKEN_A ".png");
    snprintf(media[1].url, sizeof(media[1].url), "https://x.test/m/b");
    snprintf(media[1].content_type, sizeof(media[1].content_type),
             "image/gif");
    snprintf(media[1].file, sizeof(media[1].file), TOKEN_B ".gif");

    reply_init(&r, in.conversation_id, "Yes, until 6", 2, NULL);
    r.user_id = pat;
    r.media = media;
    r.media_count = 2;

    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &result, &events,
                                       &err), INBOX_OK);
    CHECK(result.message.id[0] != '\0');
    CHECK_INT(result.repeated, 0);
    CHECK_STR(result.message.conversation_id, in.conversation_id);
    CHECK_INT(result.message.direction, INBOX_OUTBOUND);
    CHECK_STR(result.message.status, "queued");
    CHECK_STR(result.message.error_code, "");
    CHECK_INT(result.message.credits, 2);
    CHECK_INT(result.message.segments, 1);
    CHECK_STR(result.message.sent_by, pat);
    CHECK_INT(result.message.media_count, 2);
    CHECK_STR(result.conversation.last_message.id, result.message.id);
    CHECK_INT(result.conversation.last_message.direction, INBOX_OUTBOUND);
    CHECK_STR(result.conversation.last_message.preview, "Yes, until 6");
    CHECK_STR(result.conversation.last_message.media_type, "image/png");
    CHECK_INT(result.conversation.unread_count, 1);

    /* message.created and conversation.updated, nothing more */
    CHECK_INT(events.count, 2);
    if (events.count == 2) {
        CHECK(strstr(events.items[0].json, "\"type\":\"message.created\"")
              != NULL);
        CHECK(strstr(events.items[0].json, "\"status\":\"queued\"") != NULL);
        CHECK(strstr(events.items[1].json,
                     "\"type\":\"conversation.updated\"") != NULL);
        CHECK_INT(events.items[0].org_seq, seq + 1);
        CHECK_INT(events.items[1].org_seq, seq + 2);
    }
    CHECK_INT(org_seq(&f, f.org), seq + 2);

    /* the thread shows it at once, answered */
    CHECK_INT(list_count(&f, INBOX_FILTER_UNRESPONDED, NULL), 0);
    CHECK_INT(inbox_store_messages_list(f.store, f.org, in.conversation_id,
                                        NULL, 0, &page, NULL), INBOX_OK);
    CHECK_INT(page.count, 2);
    if (page.count == 2) {
        CHECK_STR(page.items[0].id, result.message.id);
        CHECK_STR(page.items[0].status, "queued");
        CHECK_STR(page.items[0].sent_by, pat);
        CHECK_INT(page.items[0].media_count, 2);
        if (page.items[0].media_count == 2) {
            CHECK_STR(page.items[0].media[1].url, "https://x.test/m/b");
        }
    }
    inbox_message_page_free(&page);
    CHECK_INT(inbox_store_conversation_get(f.store, f.org, in.conversation_id,
                                           &shown, NULL), INBOX_OK);
    CHECK_STR(shown.last_message.media_type, "image/png");
    inbox_conversation_free(&shown);

    /* the balance dropped at once, the credits held; the ledger says so */
    CHECK_INT(balance_of(&f, f.org), 8);
    CHECK_INT(held_of(&f, f.org), 2);
    CHECK_INT(ledger_walk(&f, f.org, &balance, &held, &newest), 2);
    CHECK_INT(balance, 8);
    CHECK_INT(held, 2);
    CHECK_INT(newest.kind, INBOX_LEDGER_HOLD);
    CHECK_INT(newest.credits, 2);
    CHECK_STR(newest.message_id, result.message.id);

    inbox_reply_result_free(&result);
    inbox_event_list_free(&events);
    fixture_close(&f);
}


/* A picture to a number no MMS reaches would only come back failed from
 * the carrier, its sender none the wiser until then: it is refused at
 * once, the text alone still goes, and an opt-out is said first. */
TEST(an_image_reaches_only_numbers_in_the_us_and_canada)
{
    char                   upload_id[INBOX_ID_MAX];
    size_t                 i;
    fixture_t              f;
    inbox_reply_t          r;
    inbox_media_t          media;
    inbox_error_t          err;
    inbox_event_list_t     events;
    inbox_reply_result_t   result;
    inbox_ingest_result_t  in[4];
    static const char     *from[] = {
        "+18765550123",     /* Jamaica, on +1 */
        "+447700900123",    /* Britain */
        "+16045550123",     /* Canada */
        "+17875550123",     /* Puerto Rico, the United States' */
    };
    static const char     *sid[] = { "SM1", "SM2", "SM3", "SM4" };

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 20, NULL), INBOX_OK);

    for (i = 0; i < 4; i++) {
        CHECK_INT(receive(&f, sid[i], from[i], "hi", T0 + (int64_t) i,
                          &in[i], NULL), INBOX_OK);
    }

    CHECK_INT(upload(&f, f.org, TOKEN_A ".png", "image/png", 100, upload_id),
              INBOX_OK);
    memset(&media, 0, sizeof(media));
    snprintf(media.url, sizeof(media.url), "https://x.test/m/a");
    snprintf(media.content_type, sizeof(media.content_type), "image/png");
    snprintf(media.file, sizeof(media.file), TOKEN_A ".png");

    for (i = 0; i < 4; i++) {
        reply_init(&r, in[i].conversation_id, "Our menu", 2, NULL);
        r.media = &media;
        r.media_count = 1;

        CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &result,
                                           &events, &err),
                  i < 2 ? INBOX_ERR_INVALID : INBOX_OK);
        inbox_reply_result_free(&result);

        if (i < 2) {
            CHECK_INT(inbox_status_http(err.code), 400);
            CHECK_STR(err.field, "media_ids");
            CHECK(strstr(err.message, "US and Canada") != NULL);
            CHECK_INT(message_count(&f, in[i].conversation_id), 1);
        }
    }

    /* 2 + 2 credits held for the two that went, none for the others */
    CHECK_INT(held_of(&f, f.org), 4);

    /* the text alone reaches Jamaica */
    CHECK_INT(reply(&f, in[0].conversation_id, "Our menu is on the site",
                    NULL, NULL, NULL, NULL), INBOX_OK);
    CHECK_INT(message_count(&f, in[0].conversation_id), 2);

    /* an opted-out contact is told so, picture or not */
    CHECK_INT(f.backend->opt_out(&f, "+447700900123"), 0);
    reply_init(&r, in[1].conversation_id, "Our menu", 2, NULL);
    r.media = &media;
    r.media_count = 1;
    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &result, &events,
                                       &err), INBOX_ERR_CONTACT_OPTED_OUT);
    inbox_reply_result_free(&result);

    inbox_event_list_free(&events);
    fixture_close(&f);
}


TEST(refusals_come_in_the_contracts_order_and_store_nothing)
{
    char                   other[INBOX_ID_MAX];
    char                   emoji[4 * 900 + 1];
    size_t                 i;
    int64_t                seq;
    fixture_t              f;
    inbox_reply_t          r;
    inbox_error_t          err;
    inbox_event_list_t     events;
    inbox_reply_result_t   result;
    inbox_ingest_result_t  alice, bob, theirs;
    inbox_outbox_batch_t   batch;
    inbound_t              m;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);
    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "STOP", T0 + 1, &bob, NULL), INBOX_OK);
    inbound_init(&m, "SM3", ALICE, OTHER, "hi", T0);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &theirs, NULL,
                                         NULL), INBOX_OK);
    CHECK_INT(f.backend->opt_out(&f, BOB), 0);
    CHECK_INT(inbox_store_billing_set(f.store, f.org, 0, NULL), INBOX_OK);
    seq = org_seq(&f, f.org);

    /* opted out first, whatever the billing and the balance */
    CHECK_INT(reply(&f, bob.conversation_id, "hi", NULL, &result, &events,
                    &err), INBOX_ERR_CONTACT_OPTED_OUT);
    CHECK_INT(inbox_status_http(err.code), 409);
    CHECK_STR(inbox_status_code(err.code), "contact_opted_out");
    CHECK_STR(result.message.id, "");

    /* then billing, whatever the balance */
    CHECK_INT(reply(&f, alice.conversation_id, "hi", NULL, &result, &events,
                    &err), INBOX_ERR_BILLING_INACTIVE);
    CHECK_INT(inbox_status_http(err.code), 403);
    CHECK_STR(inbox_status_code(err.code), "billing_inactive");
    /* for any client, in the words every billing refusal ends with
     * (the product's: "contact your billing admin") */
    CHECK_STR(err.message, "Billing is inactive, so nothing can be sent; "
              "contact your billing admin.");

    /* then the balance, with what is needed and what there is */
    CHECK_INT(inbox_store_billing_set(f.store, f.org, 1, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 1, NULL), INBOX_OK);
    reply_init(&r, alice.conversation_id, "a picture", 2, NULL);
    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &result, &events,
                                       &err), INBOX_ERR_INSUFFICIENT_CREDITS);
    CHECK_INT(inbox_status_http(err.code), 402);
    CHECK_INT(err.needed, 2);
    CHECK_INT(err.balance, 1);
    CHECK_STR(err.message, "This message needs 2 credits and 1 is left; "
              "contact your billing admin.");

    /* malformed, unknown, another organization's */
    reply_init(&r, alice.conversation_id, "", 1, NULL);
    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &result, &events,
                                       &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "body");

    /* 900 emoji: 28 segments, past the 10 an SMS may be (and 1800
     * UTF-16 units, over what Twilio takes) */
    for (i = 0; i < 900; i++) {
        memcpy(emoji + 4 * i, "\xf0\x9f\x98\x80", 4);
    }
    emoji[4 * 900] = '\0';
    reply_init(&r, alice.conversation_id, emoji, 1, NULL);
    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &result, &events,
                                       &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "body");
    CHECK(strstr(err.message, "28 segments") != NULL);

    reply_init(&r, alice.conversation_id, "hi", 0, NULL);
    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &result, &events,
                                       &err), INBOX_ERR_INVALID);
    reply_init(&r, alice.conversation_id, "hi", 1, "two words");
    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &result, &events,
                                       &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "idempotency_key");
    CHECK_INT(reply(&f, f.backend->missing_id, "hi", NULL, &result, &events,
                    &err), INBOX_ERR_NOT_FOUND);
    CHECK_INT(reply(&f, theirs.conversation_id, "hi", NULL, &result, &events,
                    &err), INBOX_ERR_NOT_FOUND);

    /* nothing of any of them was stored or pushed: the stream moved
     * only by the billing.updated of billing set active and the grant */
    CHECK_INT(events.count, 0);
    CHECK_INT(org_seq(&f, f.org), seq + 2);
    CHECK_INT(message_count(&f, alice.conversation_id), 1);
    /* Bob's STOP and its answer, queued with it */
    CHECK_INT(message_count(&f, bob.conversation_id), 2);
    CHECK_INT(balance_of(&f, f.org), 1);
    CHECK_INT(held_of(&f, f.org), 0);
    CHECK(ledger_balances(&f, f.org));
    CHECK_INT(claim(&f, T0 + 1000 * HOUR, 10, &batch), 1);
    if (batch.count == 1) {
        CHECK_INT(batch.items[0].priority, INBOX_OUTBOX_NOTICE);
        CHECK_STR(batch.items[0].to, BOB);
    }
    inbox_outbox_batch_free(&batch);

    /* the one credit there is pays for an SMS */
    CHECK_INT(reply(&f, alice.conversation_id, "hi", NULL, &result, &events,
                    &err), INBOX_OK);
    CHECK_INT(balance_of(&f, f.org), 0);
    inbox_reply_result_free(&result);

    inbox_event_list_free(&events);
    fixture_close(&f);
}


TEST(an_idempotency_key_is_forgotten_after_a_day_not_before)
{
    size_t                 removed;
    fixture_t              f;
    inbox_error_t          err;
    inbox_reply_result_t   first, again;
    inbox_ingest_result_t  alice;

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 5, NULL), INBOX_OK);
    CHECK_INT(reply(&f, alice.conversation_id, "See you at 3", "day-1",
                    &first, NULL, &err), INBOX_OK);

    /* within the day: kept, a retry gets the first message */
    CHECK_INT(inbox_store_reply_keys_purge(f.store, inbox_now_ms(), 100,
                                           &removed, &err), INBOX_OK);
    CHECK_INT(removed, 0);
    CHECK_INT(reply(&f, alice.conversation_id, "See you at 3", "day-1",
                    &again, NULL, &err), INBOX_OK);
    CHECK_INT(again.repeated, 1);
    CHECK_STR(again.message.id, first.message.id);
    inbox_reply_result_free(&again);

    /* a day later: forgotten, the message stays, the key is free again */
    CHECK_INT(inbox_store_reply_keys_purge(f.store, inbox_now_ms()
                                           + INBOX_REPLY_KEY_KEEP_MS + 1000,
                                           100, &removed, &err), INBOX_OK);
    CHECK_INT(removed, 1);
    CHECK_INT(message_count(&f, alice.conversation_id), 2);
    CHECK_INT(reply(&f, alice.conversation_id, "See you at 4", "day-1",
                    &again, NULL, &err), INBOX_OK);
    CHECK_INT(again.repeated, 0);
    CHECK(strcmp(again.message.id, first.message.id) != 0);
    CHECK_INT(message_count(&f, alice.conversation_id), 3);
    inbox_reply_result_free(&again);

    /* nothing asked, nothing done */
    removed = 7;
    CHECK_INT(inbox_store_reply_keys_purge(f.store, inbox_now_ms()
                                           + 2 * INBOX_REPLY_KEY_KEEP_MS,
                                           0, &removed, &err), INBOX_OK);
    CHECK_INT(removed, 0);

    inbox_reply_result_free(&first);
    fixture_close(&f);
}


TEST(an_idempotency_key_answers_a_retry_with_the_first_message)
{
    char                   other[INBOX_ID_MAX];
    fixture_t              f;
    inbox_error_t          err;
    inbox_event_list_t     events;
    inbox_reply_result_t   first, again;
    inbox_ingest_result_t  alice, bob, theirs;
    inbound_t              m;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);
    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "hi", T0, &bob, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 5, NULL), INBOX_OK);

    CHECK_INT(reply(&f, alice.conversation_id, "See you at 3", "k-1", &first,
                    &events, &err), INBOX_OK);
    CHECK_INT(events.count, 2);

    /* the retry: the same message, nothing new, nothing pushed */
    CHECK_INT(reply(&f, alice.conversation_id, "See you at 3", "k-1", &again,
                    &events, &err), INBOX_OK);
    CHECK_INT(again.repeated, 1);
    CHECK_STR(again.message.id, first.message.id);
    CHECK_STR(again.message.body, "See you at 3");
    CHECK_STR(again.message.status, "queued");
    CHECK_STR(again.conversation.id, alice.conversation_id);
    CHECK_INT(events.count, 2);
    CHECK_INT(message_count(&f, alice.conversation_id), 2);
    CHECK_INT(balance_of(&f, f.org), 4);
    inbox_reply_result_free(&again);

    /* the same key for another message is a conflict */
    CHECK_INT(reply(&f, alice.conversation_id, "See you at 4", "k-1", &again,
                    &events, &err), INBOX_ERR_CONFLICT);
    CHECK_INT(inbox_status_http(err.code), 409);
    CHECK_STR(err.field, "idempotency_key");
    CHECK_INT(reply(&f, bob.conversation_id, "See you at 3", "k-1", &again,
                    &events, &err), INBOX_ERR_CONFLICT);
    CHECK_INT(message_count(&f, bob.conversation_id), 1);

    /* another key is another message */
    CHECK_INT(reply(&f, alice.conversation_id, "See you at 3", "k-2", &again,
                    &events, &err), INBOX_OK);
    CHECK(strcmp(again.message.id, first.message.id) != 0);
    CHECK_INT(again.repeated, 0);
    inbox_reply_result_free(&again);
    CHECK_INT(balance_of(&f, f.org), 3);

    /* keys are the organization's: another one's k-1 is its own */
    inbound_init(&m, "SM9", ALICE, OTHER, "hi", T0);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &theirs, NULL,
                                         NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, other, 1, NULL), INBOX_OK);
    {
        inbox_reply_t  r;

        reply_init(&r, theirs.conversation_id, "See you at 3", 1, "k-1");
        CHECK_INT(inbox_store_reply_accept(f.store, other, &r, &again, NULL,
                                           &err), INBOX_OK);
        CHECK_INT(again.repeated, 0);
        CHECK(strcmp(again.message.id, first.message.id) != 0);
        inbox_reply_result_free(&again);
    }

    /* a refused request keeps no key: tried again once it can go */
    CHECK_INT(inbox_store_billing_set(f.store, f.org, 0, NULL), INBOX_OK);
    CHECK_INT(reply(&f, bob.conversation_id, "later", "k-3", &again, &events,
                    &err), INBOX_ERR_BILLING_INACTIVE);
    CHECK_INT(inbox_store_billing_set(f.store, f.org, 1, NULL), INBOX_OK);
    CHECK_INT(reply(&f, bob.conversation_id, "later", "k-3", &again, &events,
                    &err), INBOX_OK);
    CHECK_INT(again.repeated, 0);
    inbox_reply_result_free(&again);

    /* the first answer stands once credits ran out: nothing is taken */
    CHECK_INT(reply(&f, bob.conversation_id, "x", "k-4", &again, &events,
                    &err), INBOX_OK);
    inbox_reply_result_free(&again);
    CHECK_INT(balance_of(&f, f.org), 1);
    CHECK_INT(reply(&f, bob.conversation_id, "y", NULL, &again, &events,
                    &err), INBOX_OK);
    inbox_reply_result_free(&again);
    CHECK_INT(balance_of(&f, f.org), 0);
    CHECK_INT(reply(&f, alice.conversation_id, "See you at 3", "k-1", &again,
                    &events, &err), INBOX_OK);
    CHECK_STR(again.message.id, first.message.id);
    inbox_reply_result_free(&again);
    CHECK(ledger_balances(&f, f.org));

    inbox_reply_result_free(&first);
    inbox_event_list_free(&events);
    fixture_close(&f);
}


/* Fifty replies at once, each thread with a store handle of its own (as
 * nginx's workers have), with credits for ten. */
#define RACE_THREADS  50

typedef struct {
    fixture_t        *f;
    const char       *uri;
    const char       *conversation_id;
    pthread_barrier_t *start;
    inbox_status_t    status;
    int64_t           needed, balance;
} race_t;

static volatile int  race_running;
static int64_t       race_lowest;


static void *
race_reply(void *arg)
{
    race_t                *r = arg;
    inbox_reply_t          rep;
    inbox_error_t          err;
    inbox_store_t         *store;
    inbox_reply_result_t   result;

    store = inbox_store_open(r->uri, &err);
    pthread_barrier_wait(r->start);

    if (store == NULL) {
        r->status = err.code;
        return NULL;
    }

    reply_init(&rep, r->conversation_id, "first come", 1, NULL);
    memset(&err, 0, sizeof(err));
    r->status = inbox_store_reply_accept(store, r->f->org, &rep, &result,
                                         NULL, &err);
    r->needed = err.needed;
    r->balance = err.balance;
    inbox_reply_result_free(&result);
    inbox_store_close(store);

    return NULL;
}


/* Watches the balance while the replies race. */
static void *
race_watch(void *arg)
{
    fixture_t       *f = arg;
    inbox_error_t    err;
    inbox_store_t   *store;
    inbox_billing_t  b;
    const char      *uri;
    char             buf[600];

    if (f->backend == &sqlite_backend) {
        snprintf(buf, sizeof(buf), "sqlite:%s", f->where);
        uri = buf;
    } else {
        uri = f->where;
    }

    store = inbox_store_open(uri, &err);
    if (store == NULL) {
        return NULL;
    }

    while (race_running) {
        if (inbox_store_billing_get(store, f->org, &b, NULL) == INBOX_OK
            && b.balance < race_lowest)
        {
            race_lowest = b.balance;
        }
    }

    inbox_store_close(store);

    return NULL;
}


TEST(fifty_concurrent_replies_with_credits_for_ten_accept_exactly_ten)
{
    int                    i, accepted, refused;
    char                   uri[600];
    race_t                 r[RACE_THREADS];
    pthread_t              threads[RACE_THREADS], watcher;
    fixture_t              f;
    pthread_barrier_t      start;
    inbox_ingest_result_t  in;
    inbox_outbox_batch_t   batch;

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &in, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);

    if (f.backend == &sqlite_backend) {
        snprintf(uri, sizeof(uri), "sqlite:%s", f.where);
    } else {
        snprintf(uri, sizeof(uri), "%s", f.where);
    }

    race_running = 1;
    race_lowest = INT64_MAX;
    CHECK_INT(pthread_create(&watcher, NULL, race_watch, &f), 0);

    pthread_barrier_init(&start, NULL, RACE_THREADS);

    for (i = 0; i < RACE_THREADS; i++) {
        r[i].f = &f;
        r[i].uri = uri;
        r[i].conversation_id = in.conversation_id;
        r[i].start = &start;
        CHECK_INT(pthread_create(&threads[i], NULL, race_reply, &r[i]), 0);
    }

    accepted = 0;
    refused = 0;

    for (i = 0; i < RACE_THREADS; i++) {
        pthread_join(threads[i], NULL);

        if (r[i].status == INBOX_OK) {
            accepted++;

        } else if (r[i].status == INBOX_ERR_INSUFFICIENT_CREDITS) {
            refused++;
            CHECK_INT(r[i].needed, 1);
            CHECK(r[i].balance < 1 && r[i].balance >= 0);

        } else {
            fprintf(stderr, "    a reply failed with %s\n",
                    inbox_status_code(r[i].status));
        }
    }

    race_running = 0;
    pthread_join(watcher, NULL);
    pthread_barrier_destroy(&start);

    CHECK_INT(accepted, 10);
    CHECK_INT(refused, RACE_THREADS - 10);
    CHECK(race_lowest >= 0);
    CHECK_INT(balance_of(&f, f.org), 0);
    CHECK_INT(held_of(&f, f.org), 10);
    CHECK_INT(message_count(&f, in.conversation_id), 11);
    CHECK(ledger_balances(&f, f.org));
    CHECK_INT(claim(&f, inbox_now_ms(), 100, &batch), 10);
    inbox_outbox_batch_free(&batch);

    fixture_close(&f);
}


/*
 * Billing made inactive with messages queued: nothing is sent.  The
 * reply is handed out only to be reported refused (billing_inactive, its
 * hold released), the campaign's message waits until billing is active
 * again, and a keyword's answer still goes.
 */
TEST(while_billing_is_inactive_only_a_keywords_answer_goes)
{
    size_t                 i;
    fixture_t              f;
    int64_t                now;
    char                   status[16], code[32];
    inbox_error_t          err;
    inbox_reply_result_t   b, notice;
    inbox_ingest_result_t  alice, bob;
    inbox_outbox_batch_t   batch;
    inbox_send_result_t    res;
    inbox_send_report_t    report;

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "hi", T0, &bob, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 5, NULL), INBOX_OK);

    CHECK_INT(f.backend->queue_bulk(&f, alice.conversation_id, T0), 0);
    CHECK_INT(reply(&f, bob.conversation_id, "first", NULL, &b, NULL, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_outbox_notice(f.store, f.org, bob.conversation_id,
                                        NUMBER, "Reply STOP to stop.",
                                        &notice, NULL, &err), INBOX_OK);
    CHECK_INT(held_of(&f, f.org), 1);

    CHECK_INT(inbox_store_billing_set(f.store, f.org, 0, NULL), INBOX_OK);
    now = inbox_now_ms();

    CHECK_INT(claim_by_day(&f, now, 10, &batch), 2);
    for (i = 0; i < batch.count; i++) {
        CHECK(batch.items[i].priority != INBOX_OUTBOX_BULK);

        if (batch.items[i].priority == INBOX_OUTBOX_NOTICE) {
            CHECK_INT(batch.items[i].billing_inactive, 0);
            continue;
        }

        CHECK_STR(batch.items[i].message.id, b.message.id);
        CHECK_INT(batch.items[i].billing_inactive, 1);

        memset(&res, 0, sizeof(res));
        res.outcome = INBOX_SEND_REFUSED;
        snprintf(res.error_code, sizeof(res.error_code), "%s",
                 INBOX_SEND_ERROR_BILLING);
        CHECK_INT(inbox_store_outbox_result(f.store, batch.items[i].id,
                                            batch.items[i].attempt, &res,
                                            now, &report, NULL, &err),
                  INBOX_OK);
    }
    inbox_outbox_batch_free(&batch);

    status_of(&f, bob.conversation_id, b.message.id, status, code);
    CHECK_STR(status, "failed");
    CHECK_STR(code, "billing_inactive");
    /* the reply's credit is back */
    CHECK_INT(held_of(&f, f.org), 0);
    CHECK_INT(balance_of(&f, f.org), 5);

    /* the campaign's message waits, however late it is looked at (the
     * notice, never answered here, is back as interrupted) */
    CHECK_INT(claim_by_day(&f, now + HOUR, 10, &batch), 1);
    if (batch.count == 1) {
        CHECK_INT(batch.items[0].priority, INBOX_OUTBOX_NOTICE);
    }
    inbox_outbox_batch_free(&batch);

    /* billing back: it goes, and so does a reply again */
    CHECK_INT(inbox_store_billing_set(f.store, f.org, 1, NULL), INBOX_OK);
    CHECK_INT(claim_by_day(&f, inbox_now_ms(), 10, &batch), 1);
    if (batch.count == 1) {
        CHECK_INT(batch.items[0].priority, INBOX_OUTBOX_BULK);
        CHECK_INT(batch.items[0].billing_inactive, 0);
        CHECK_INT(batch.items[0].attempt, 1);
    }
    inbox_outbox_batch_free(&batch);
    CHECK(ledger_balances(&f, f.org));

    inbox_reply_result_free(&b);
    inbox_reply_result_free(&notice);
    fixture_close(&f);
}


TEST(the_sender_may_claim_replies_alone)
{
    fixture_t              f;
    inbox_reply_result_t   a, b;
    inbox_ingest_result_t  alice, bob;
    inbox_outbox_batch_t   batch;
    int64_t                now;

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "hi", T0, &bob, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 5, NULL), INBOX_OK);

    /* a campaign's message waits since long before the replies */
    CHECK_INT(f.backend->queue_bulk(&f, alice.conversation_id, T0), 0);
    CHECK_INT(reply(&f, bob.conversation_id, "first", NULL, &b, NULL, NULL),
              INBOX_OK);
    CHECK_INT(reply(&f, alice.conversation_id, "second", NULL, &a, NULL,
                    NULL), INBOX_OK);
    now = inbox_now_ms();

    /* nothing is due before it was queued */
    CHECK_INT(claim(&f, T0 - 1, 10, &batch), 0);
    inbox_outbox_batch_free(&batch);

    /* replies only (the sender's own claim for them): the campaign's
     * message stays, unleased */
    CHECK_INT(inbox_store_outbox_claim(f.store, now, now, 10, 0,
                                       INBOX_OUTBOX_REPLY, NULL, &batch, NULL),
              INBOX_OK);
    CHECK_INT(batch.count, 2);
    if (batch.count == 2) {
        CHECK_INT(batch.items[0].priority, INBOX_OUTBOX_REPLY);
        CHECK_INT(batch.items[1].priority, INBOX_OUTBOX_REPLY);
        /* each with the number it goes from and its credentials */
        CHECK_STR(batch.items[1].number.e164, NUMBER);
        CHECK_STR(batch.items[1].number.auth_token, "secret");
    }
    inbox_outbox_batch_free(&batch);
    CHECK_INT(claim_by_day(&f, now + INBOX_OUTBOX_LEASE_DEFAULT + 1, 2,
                           &batch), 2);
    if (batch.count == 2) {
        CHECK_INT(batch.items[0].priority, INBOX_OUTBOX_REPLY);
        CHECK_INT(batch.items[0].interrupted, 1);
    }
    inbox_outbox_batch_free(&batch);
    CHECK_INT(claim_by_day(&f, now, 10, &batch), 1);
    if (batch.count == 1) {
        CHECK_INT(batch.items[0].priority, INBOX_OUTBOX_BULK);
    }
    inbox_outbox_batch_free(&batch);

    inbox_reply_result_free(&a);
    inbox_reply_result_free(&b);
    fixture_close(&f);
}


/*
 * A claim takes of each number only what the sender can start at once:
 * the rest stays due, unleased, no attempt counted, so that a sender
 * that dies holds nothing it had not sent (it would come back
 * interrupted, reported unknown).
 */
TEST(a_claim_takes_of_each_number_only_what_its_pace_allows)
{
    size_t                 i;
    fixture_t              f;
    inbox_reply_result_t   r[3];
    inbox_ingest_result_t  alice;
    inbox_outbox_batch_t   batch;
    inbox_outbox_pace_t    numbers[2];
    inbox_outbox_paces_t   paces;
    int64_t                now;

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 5, NULL), INBOX_OK);
    CHECK_INT(reply(&f, alice.conversation_id, "one", NULL, &r[0], NULL,
                    NULL), INBOX_OK);
    CHECK_INT(reply(&f, alice.conversation_id, "two", NULL, &r[1], NULL,
                    NULL), INBOX_OK);
    CHECK_INT(reply(&f, alice.conversation_id, "three", NULL, &r[2], NULL,
                    NULL), INBOX_OK);
    now = inbox_now_ms();

    /* the number may start one now: one is taken, the oldest */
    numbers[0].from = NUMBER;
    numbers[0].max = 1;
    paces.numbers = numbers;
    paces.n = 1;
    paces.other = 5;

    CHECK_INT(inbox_store_outbox_claim(f.store, now, now, 10, 0,
                                       INBOX_OUTBOX_REPLY, &paces, &batch,
                                       NULL), INBOX_OK);
    CHECK_INT(batch.count, 1);
    if (batch.count == 1) {
        CHECK_STR(batch.items[0].message.body, "one");
    }
    inbox_outbox_batch_free(&batch);

    /* none: nothing is taken, though more is due */
    numbers[0].max = 0;
    CHECK_INT(inbox_store_outbox_claim(f.store, now, now, 10, 0,
                                       INBOX_OUTBOX_BULK, &paces, &batch,
                                       NULL), INBOX_OK);
    CHECK_INT(batch.count, 0);
    CHECK_INT(batch.passed_over, 1);
    inbox_outbox_batch_free(&batch);

    /* another number's cap is not this one's; any other may take 2:
     * those left were never leased, their attempt is the first */
    numbers[0].from = "+15559999999";
    paces.other = 2;
    CHECK_INT(inbox_store_outbox_claim(f.store, now, now, 10, 0,
                                       INBOX_OUTBOX_REPLY, &paces, &batch,
                                       NULL), INBOX_OK);
    CHECK_INT(batch.count, 2);
    CHECK_INT(batch.passed_over, 0);
    for (i = 0; i < batch.count; i++) {
        CHECK_STR(batch.items[i].message.body, i == 0 ? "two" : "three");
        CHECK_INT(batch.items[i].interrupted, 0);
        CHECK_INT(batch.items[i].attempt, 1);
    }
    inbox_outbox_batch_free(&batch);

    for (i = 0; i < 3; i++) {
        inbox_reply_result_free(&r[i]);
    }
    fixture_close(&f);
}


/*
 * A number's cap is in segments: each entry counts its message's (an
 * entry needs at most a full bucket's, paces.other), and a number's
 * entries go in order, none taken after one that did not fit.  So a long
 * text is claimed only once its number can start it: claimed before, it
 * waited in the sender, reported unknown were the sender to die.
 */
TEST(a_claim_counts_each_entrys_segments_against_its_number)
{
    size_t                 i, k;
    fixture_t              f;
    inbox_reply_t          r;
    inbox_reply_result_t   res[4];
    inbox_ingest_result_t  alice;
    inbox_outbox_batch_t   batch;
    inbox_outbox_pace_t    numbers[1];
    inbox_outbox_paces_t   paces;
    int64_t                now;

    /* the body, its segments, and each claim: the number's cap (none:
     * not listed, a full bucket of 2) and the bodies it takes */
    static const struct {
        const char  *body;
        unsigned     segments;
    } texts[4] = {
        { "one", 1 }, { "two, long", 2 }, { "three, longer", 3 },
        { "four", 1 },
    };
    static const struct {
        int          listed;
        unsigned     cap;
        const char  *takes;            /* "" for none */
        int          passed_over;
    } claims[] = {
        { 1, 2, "one", 1 },             /* two's 2 do not fit in 1 left */
        { 1, 1, "", 1 },                /* nor in 1: four waits behind */
        { 1, 2, "two, long", 1 },
        { 0, 0, "three, longer", 1 },   /* 3 from a full bucket of 2 */
        { 0, 0, "four", 0 },
    };

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);

    for (i = 0; i < 4; i++) {
        reply_init(&r, alice.conversation_id, texts[i].body,
                   texts[i].segments, NULL);
        r.segments = texts[i].segments;
        CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &res[i], NULL,
                                           NULL), INBOX_OK);
    }

    now = inbox_now_ms();
    paces.numbers = numbers;
    paces.other = 2;

    for (k = 0; k < sizeof(claims) / sizeof(claims[0]); k++) {
        numbers[0].from = NUMBER;
        numbers[0].max = claims[k].cap;
        paces.n = claims[k].listed;

        CHECK_INT(inbox_store_outbox_claim(f.store, now, now, 10, 60000,
                                           INBOX_OUTBOX_REPLY, &paces,
                                           &batch, NULL), INBOX_OK);
        CHECK_INT(batch.count, claims[k].takes[0] != '\0' ? 1 : 0);
        if (batch.count == 1) {
            CHECK_STR(batch.items[0].message.body, claims[k].takes);
            CHECK_INT(batch.items[0].attempt, 1);
        }
        CHECK_INT(batch.passed_over, claims[k].passed_over);
        inbox_outbox_batch_free(&batch);
    }

    for (i = 0; i < 4; i++) {
        inbox_reply_result_free(&res[i]);
    }
    fixture_close(&f);
}


TEST(the_sender_claims_replies_first_oldest_first_with_what_sending_takes)
{
    char                   phone[INBOX_PHONE_MAX];
    fixture_t              f;
    inbox_reply_result_t   a, b;
    inbox_ingest_result_t  alice, bob;
    inbox_outbox_batch_t   batch;
    int64_t                now;

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "hi", T0, &bob, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 5, NULL), INBOX_OK);
    CHECK_INT(f.backend->queue_bulk(&f, alice.conversation_id, T0), 0);
    CHECK_INT(reply(&f, bob.conversation_id, "first", NULL, &b, NULL, NULL),
              INBOX_OK);
    CHECK_INT(reply(&f, alice.conversation_id, "second", NULL, &a, NULL,
                    NULL), INBOX_OK);
    now = inbox_now_ms();

    CHECK_INT(claim_by_day(&f, now, 2, &batch), 2);
    if (batch.count == 2) {
        CHECK_STR(batch.items[0].message.id, b.message.id);
        CHECK_STR(batch.items[1].message.id, a.message.id);
        CHECK_INT(batch.items[0].priority, INBOX_OUTBOX_REPLY);
        CHECK_STR(batch.items[0].org_id, f.org);
        CHECK_INT(batch.items[0].attempt, 1);
        CHECK_INT(batch.items[0].interrupted, 0);
        CHECK_INT(batch.items[0].lease_until,
                  now + INBOX_OUTBOX_LEASE_DEFAULT);
        CHECK_STR(batch.items[0].message.body, "first");
        CHECK_INT(batch.items[0].message.credits, 1);
        CHECK_STR(batch.items[0].to, BOB);
        CHECK_STR(batch.items[1].to, ALICE);
        CHECK_STR(batch.items[0].number.e164, NUMBER);
        CHECK_INT(batch.items[0].number.carrier, INBOX_CARRIER_TWILIO);
        CHECK_STR(batch.items[0].number.auth_token, "secret");
    }
    inbox_outbox_batch_free(&batch);

    /* then the campaign's; what is leased is not claimed again */
    CHECK_INT(claim_by_day(&f, now, 10, &batch), 1);
    if (batch.count == 1) {
        CHECK_INT(batch.items[0].priority, INBOX_OUTBOX_BULK);
        CHECK_STR(batch.items[0].message.body, "Sale!");
        snprintf(phone, sizeof(phone), "%s", batch.items[0].to);
        CHECK_STR(phone, ALICE);
    }
    inbox_outbox_batch_free(&batch);
    CHECK_INT(claim_by_day(&f, now, 10, &batch), 0);
    inbox_outbox_batch_free(&batch);

    inbox_reply_result_free(&a);
    inbox_reply_result_free(&b);
    fixture_close(&f);
}


TEST(a_crashed_senders_claims_come_back_interrupted_after_the_lease)
{
    char                   status[16], code[32];
    unsigned               first;
    fixture_t              f;
    inbox_error_t          err;
    inbox_send_result_t    res;
    inbox_send_report_t    report;
    inbox_reply_result_t   a;
    inbox_ingest_result_t  alice;
    inbox_outbox_batch_t   batch;
    char                   entry[INBOX_ID_MAX];
    int64_t                now;

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 5, NULL), INBOX_OK);
    CHECK_INT(reply(&f, alice.conversation_id, "hello", NULL, &a, NULL, NULL),
              INBOX_OK);
    now = inbox_now_ms();

    CHECK_INT(inbox_store_outbox_claim(f.store, now, now, 10, 30000,
                                       INBOX_OUTBOX_BULK, NULL, &batch, &err),
              INBOX_OK);
    CHECK_INT(batch.count, 1);
    first = batch.count ? batch.items[0].attempt : 0;
    snprintf(entry, sizeof(entry), "%s", batch.count ? batch.items[0].id
                                                     : "");
    inbox_outbox_batch_free(&batch);

    /* held while the lease lasts, back once it ran out */
    CHECK_INT(claim(&f, now + 29999, 10, &batch), 0);
    inbox_outbox_batch_free(&batch);
    CHECK_INT(claim(&f, now + 30000, 10, &batch), 1);
    if (batch.count == 1) {
        CHECK_STR(batch.items[0].id, entry);
        CHECK_INT(batch.items[0].interrupted, 1);
        CHECK_INT(batch.items[0].attempt, first + 1);
    }
    inbox_outbox_batch_free(&batch);

    /* the crashed sender's late answer is refused: its claim was lost */
    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_ACCEPTED;
    res.carrier = INBOX_CARRIER_TWILIO;
    snprintf(res.provider_id, sizeof(res.provider_id), "SMlate");
    res.status = INBOX_DELIVERY_QUEUED;
    CHECK_INT(inbox_store_outbox_result(f.store, entry, first, &res,
                                        now + 30001, &report, NULL, &err),
              INBOX_ERR_CONFLICT);

    /* an interrupted send is reported, not sent again: the carrier may
     * have it, so it is not final and keeps its credit held */
    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_UNKNOWN;
    res.carrier = INBOX_CARRIER_TWILIO;
    CHECK_INT(inbox_store_outbox_result(f.store, entry, first + 1, &res,
                                        now + 30001, &report, NULL, &err),
              INBOX_OK);
    CHECK_INT(report.done, 1);
    CHECK_INT(report.status, INBOX_DELIVERY_SENDING);
    status_of(&f, alice.conversation_id, a.message.id, status, code);
    CHECK_STR(status, "sending");
    CHECK_STR(code, "unknown_outcome");
    CHECK_INT(held_of(&f, f.org), 1);
    CHECK_INT(balance_of(&f, f.org), 4);

    /* gone from the outbox: a second result finds nothing */
    CHECK_INT(inbox_store_outbox_result(f.store, entry, first + 1, &res,
                                        now + 30002, &report, NULL, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(claim(&f, now + 1000 * HOUR, 10, &batch), 0);
    inbox_outbox_batch_free(&batch);
    CHECK(ledger_balances(&f, f.org));

    inbox_reply_result_free(&a);
    fixture_close(&f);
}


TEST(a_batch_of_results_records_each_and_a_refused_one_undoes_none)
{
    size_t                 i;
    char                   status[16], code[32];
    fixture_t              f;
    inbox_error_t          err;
    inbox_event_list_t     events;
    inbox_send_result_t    res;
    inbox_reply_result_t   r[7];
    inbox_ingest_result_t  alice;
    inbox_outbox_batch_t   batch;
    inbox_outbox_record_t  rec[7];
    char                   body[16];
    int64_t                now;

    static const char  *said[7][2] = {
        { "sent", "" }, { "queued", "" }, { "failed", "21211" },
        { "queued", "" }, { "sending", "unknown_outcome" },
        { "failed", "contact_opted_out" }, { "queued", "" }
    };

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));
    memset(rec, 0, sizeof(rec));

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);

    for (i = 0; i < 7; i++) {
        snprintf(body, sizeof(body), "reply %zu", i);
        CHECK_INT(reply(&f, alice.conversation_id, body, NULL, &r[i], NULL,
                        NULL), INBOX_OK);
    }

    now = inbox_now_ms();
    CHECK_INT(claim(&f, now, 10, &batch), 7);
    if (batch.count != 7) {
        inbox_outbox_batch_free(&batch);
        goto done;
    }

    for (i = 0; i < 7; i++) {
        CHECK_STR(batch.items[i].message.id, r[i].message.id);
        rec[i].entry_id = batch.items[i].id;
        rec[i].attempt = batch.items[i].attempt;
    }

    /* 0: taken and sent */
    rec[0].result.outcome = INBOX_SEND_ACCEPTED;
    rec[0].result.carrier = INBOX_CARRIER_TWILIO;
    snprintf(rec[0].result.provider_id, sizeof(rec[0].result.provider_id),
             "SMbatch0");
    rec[0].result.status = INBOX_DELIVERY_SENT;
    /* 1: to try again */
    rec[1].result.outcome = INBOX_SEND_RETRY;
    /* 2: refused for good */
    rec[2].result.outcome = INBOX_SEND_REFUSED;
    snprintf(rec[2].result.error_code, sizeof(rec[2].result.error_code),
             "21211");
    /* 3: a claim lost: the store counts a later attempt */
    rec[3].result.outcome = INBOX_SEND_UNKNOWN;
    rec[3].attempt = batch.items[3].attempt - 1;
    /* 4: recorded already, before the batch */
    rec[4].result.outcome = INBOX_SEND_UNKNOWN;
    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_UNKNOWN;
    CHECK_INT(inbox_store_outbox_result(f.store, rec[4].entry_id,
                                        rec[4].attempt, &res, now, NULL,
                                        NULL, &err), INBOX_OK);
    /* 5: on the carrier's block list */
    rec[5].result.outcome = INBOX_SEND_OPTED_OUT;
    /* 6: taken, says the sender, but without the carrier's id */
    rec[6].result.outcome = INBOX_SEND_ACCEPTED;
    rec[6].result.status = INBOX_DELIVERY_QUEUED;

    CHECK_INT(inbox_store_outbox_results(f.store, rec, 7, now + 1, &events,
                                         &err), INBOX_OK);

    CHECK_INT(rec[0].status, INBOX_OK);
    CHECK_INT(rec[0].report.done, 1);
    CHECK_INT(rec[0].report.status, INBOX_DELIVERY_SENT);
    CHECK_STR(rec[0].report.message_id, r[0].message.id);
    CHECK_INT(rec[1].status, INBOX_OK);
    CHECK_INT(rec[1].report.done, 0);
    CHECK_INT(rec[1].report.status, INBOX_DELIVERY_QUEUED);
    CHECK(rec[1].report.next_attempt_at
          == now + 1 + inbox_outbox_backoff(rec[1].attempt));
    CHECK_INT(rec[2].status, INBOX_OK);
    CHECK_INT(rec[2].report.done, 1);
    CHECK_INT(rec[2].report.status, INBOX_DELIVERY_FAILED);
    CHECK_INT(rec[3].status, INBOX_ERR_CONFLICT);
    CHECK_INT(rec[3].error.code, INBOX_ERR_CONFLICT);
    CHECK_INT(rec[4].status, INBOX_ERR_NOT_FOUND);
    CHECK_INT(rec[5].status, INBOX_OK);
    CHECK_INT(rec[5].report.status, INBOX_DELIVERY_FAILED);
    CHECK_STR(rec[5].report.opted_out_contact, r[5].conversation.contact.id);
    CHECK_STR(rec[5].report.message_id, r[5].message.id);
    CHECK_INT(rec[6].status, INBOX_ERR_INVALID);
    CHECK_STR(rec[6].error.field, "provider_id");

    for (i = 0; i < 7; i++) {
        status_of(&f, alice.conversation_id, r[i].message.id, status, code);
        CHECK_STR(status, said[i][0]);
        CHECK_STR(code, said[i][1]);
    }

    /* one message.status for each move, in the batch's order */
    CHECK_INT(events.count, 3);
    if (events.count == 3) {
        CHECK(strstr(events.items[0].json, r[0].message.id) != NULL);
        CHECK(strstr(events.items[0].json, "\"status\":\"sent\"") != NULL);
        CHECK(strstr(events.items[1].json, r[2].message.id) != NULL);
        CHECK(strstr(events.items[2].json, r[5].message.id) != NULL);
        CHECK(events.items[0].org_seq < events.items[1].org_seq);
        CHECK(events.items[1].org_seq < events.items[2].org_seq);
    }

    /* 2 and 5 released; 0 (sent, not yet delivered), 1, 3, 4 (its
     * outcome unknown) and 6 still held */
    CHECK_INT(held_of(&f, f.org), 5);
    CHECK_INT(balance_of(&f, f.org), 5);
    CHECK(ledger_balances(&f, f.org));

    /* the retry comes back after its backoff, the refused ones never */
    inbox_outbox_batch_free(&batch);
    CHECK_INT(claim(&f, rec[1].report.next_attempt_at, 10, &batch), 1);
    if (batch.count == 1) {
        CHECK_STR(batch.items[0].message.id, r[1].message.id);
    }
    inbox_outbox_batch_free(&batch);

done:

    for (i = 0; i < 7; i++) {
        inbox_reply_result_free(&r[i]);
    }

    inbox_event_list_free(&events);
    fixture_close(&f);
}


/* Claims the one due entry and records res for it; 0 or -1. */
static int
send_one(fixture_t *f, int64_t now, const inbox_send_result_t *res,
    inbox_send_report_t *report, inbox_event_list_t *events)
{
    int                   rc;
    inbox_outbox_batch_t  batch;

    rc = -1;

    if (claim(f, now, 1, &batch) == 1
        && inbox_store_outbox_result(f->store, batch.items[0].id,
                                     batch.items[0].attempt, res, now,
                                     report, events, NULL)
           == INBOX_OK)
    {
        rc = 0;
    }

    inbox_outbox_batch_free(&batch);

    return rc;
}


TEST(statuses_move_forward_once_and_delivery_captures_the_hold)
{
    int                    changed;
    char                   status[16], code[32];
    char                   other[INBOX_ID_MAX], contact[INBOX_ID_MAX];
    fixture_t              f;
    inbox_error_t          err;
    inbox_event_list_t     events;
    inbox_send_result_t    res;
    inbox_send_report_t    report;
    inbox_reply_result_t   a;
    inbox_ingest_result_t  alice;
    inbox_ledger_entry_t   newest;
    int64_t                balance, held, now;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);
    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 5, NULL), INBOX_OK);
    CHECK_INT(reply(&f, alice.conversation_id, "hello", NULL, &a, NULL, NULL),
              INBOX_OK);
    now = inbox_now_ms();

    /* the carrier took it and said queued: nothing moved, nothing pushed */
    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_ACCEPTED;
    res.carrier = INBOX_CARRIER_TWILIO;
    snprintf(res.provider_id, sizeof(res.provider_id), "SMout1");
    res.status = INBOX_DELIVERY_QUEUED;
    CHECK_INT(send_one(&f, now, &res, &report, &events), 0);
    CHECK_INT(report.done, 1);
    CHECK_STR(report.message_id, a.message.id);
    CHECK_INT(report.status, INBOX_DELIVERY_QUEUED);
    CHECK_INT(events.count, 0);
    CHECK_INT(held_of(&f, f.org), 1);

    /* sent: moves and pushes; the hold stays, a failure may follow */
    CHECK_INT(inbox_store_message_status_update(f.store, f.org,
                                                INBOX_CARRIER_TWILIO,
                                                "SMout1", INBOX_DELIVERY_SENT,
                                                NULL, &changed, NULL, &events,
                                                &err), INBOX_OK);
    CHECK_INT(changed, 1);
    CHECK_INT(events.count, 1);
    if (events.count == 1) {
        CHECK(strstr(events.items[0].json, "\"type\":\"message.status\"")
              != NULL);
        CHECK(strstr(events.items[0].json, "\"status\":\"sent\"") != NULL);
        CHECK(strstr(events.items[0].json, a.message.id) != NULL);
        CHECK_STR(events.items[0].org_id, f.org);
    }
    CHECK_INT(held_of(&f, f.org), 1);
    CHECK_INT(balance_of(&f, f.org), 4);
    CHECK_INT(ledger_walk(&f, f.org, &balance, &held, &newest), 2);
    CHECK_INT(newest.kind, INBOX_LEDGER_HOLD);

    /* a late "sending" does not take it back */
    CHECK_INT(inbox_store_message_status_update(f.store, f.org,
                  INBOX_CARRIER_TWILIO, "SMout1", INBOX_DELIVERY_SENDING,
                  NULL, &changed, NULL, &events, &err), INBOX_OK);
    CHECK_INT(changed, 0);
    CHECK_INT(events.count, 1);

    /* delivered, then a late sent and a repeat: only delivered moves;
     * each names the message's contact, moved or not */
    contact[0] = '\0';
    CHECK_INT(inbox_store_message_status_update(f.store, f.org,
                  INBOX_CARRIER_TWILIO, "SMout1", INBOX_DELIVERY_DELIVERED,
                  NULL, &changed, contact, &events, &err), INBOX_OK);
    CHECK_INT(changed, 1);
    CHECK_STR(contact, a.conversation.contact.id);
    /* delivered captures (held drops, balance stays) */
    CHECK_INT(held_of(&f, f.org), 0);
    CHECK_INT(balance_of(&f, f.org), 4);
    CHECK_INT(ledger_walk(&f, f.org, &balance, &held, &newest), 3);
    CHECK_INT(newest.kind, INBOX_LEDGER_CAPTURE);
    CHECK_STR(newest.message_id, a.message.id);
    contact[0] = '\0';
    CHECK_INT(inbox_store_message_status_update(f.store, f.org,
                  INBOX_CARRIER_TWILIO, "SMout1", INBOX_DELIVERY_SENT,
                  NULL, &changed, contact, &events, &err), INBOX_OK);
    CHECK_INT(changed, 0);
    CHECK_STR(contact, a.conversation.contact.id);
    CHECK_INT(inbox_store_message_status_update(f.store, f.org,
                  INBOX_CARRIER_TWILIO, "SMout1", INBOX_DELIVERY_DELIVERED,
                  NULL, &changed, NULL, &events, &err), INBOX_OK);
    CHECK_INT(changed, 0);
    CHECK_INT(inbox_store_message_status_update(f.store, f.org,
                  INBOX_CARRIER_TWILIO, "SMout1", INBOX_DELIVERY_FAILED,
                  "30003", &changed, NULL, &events, &err), INBOX_OK);
    CHECK_INT(changed, 0);
    CHECK_INT(events.count, 2);
    status_of(&f, alice.conversation_id, a.message.id, status, code);
    CHECK_STR(status, "delivered");
    CHECK_STR(code, "");
    CHECK_INT(ledger_walk(&f, f.org, &balance, &held, NULL), 3);
    CHECK(ledger_balances(&f, f.org));

    /* another organization, another carrier, another id: kept for a
     * message that may claim it later, nothing moved here */
    CHECK_INT(inbox_store_message_status_update(f.store, other,
                  INBOX_CARRIER_TWILIO, "SMout1", INBOX_DELIVERY_FAILED,
                  NULL, &changed, NULL, &events, &err), INBOX_OK);
    CHECK_INT(changed, 0);
    CHECK_INT(inbox_store_message_status_update(f.store, f.org,
                  INBOX_CARRIER_TELNYX, "SMout1", INBOX_DELIVERY_FAILED,
                  NULL, &changed, NULL, &events, &err), INBOX_OK);
    CHECK_INT(changed, 0);
    strcpy(contact, "stale");
    CHECK_INT(inbox_store_message_status_update(f.store, f.org,
                  INBOX_CARRIER_TWILIO, "SMnope", INBOX_DELIVERY_FAILED,
                  NULL, &changed, contact, &events, &err), INBOX_OK);
    CHECK_INT(changed, 0);
    CHECK_STR(contact, "");
    CHECK_INT(events.count, 2);
    status_of(&f, alice.conversation_id, a.message.id, status, code);
    CHECK_STR(status, "delivered");

    /* the carrier's "opted out" in a report: said as a refused send says
     * it, and the contact named for the caller to opt out */
    inbox_reply_result_free(&a);
    CHECK_INT(reply(&f, alice.conversation_id, "again", NULL, &a, NULL,
                    NULL), INBOX_OK);
    snprintf(res.provider_id, sizeof(res.provider_id), "SMout2");
    CHECK_INT(send_one(&f, inbox_now_ms(), &res, &report, &events), 0);
    CHECK_INT(inbox_store_message_status_update(f.store, f.org,
                  INBOX_CARRIER_TWILIO, "SMout2", INBOX_DELIVERY_FAILED,
                  "21610", &changed, contact, &events, &err), INBOX_OK);
    CHECK_INT(changed, 1);
    CHECK_STR(contact, a.conversation.contact.id);
    status_of(&f, alice.conversation_id, a.message.id, status, code);
    CHECK_STR(status, "failed");
    CHECK_STR(code, INBOX_SEND_ERROR_OPTED_OUT);

    inbox_reply_result_free(&a);
    inbox_event_list_free(&events);
    fixture_close(&f);
}


/*
 * Callbacks that arrived together are stored in one call, each as if
 * alone: moves in order, a repeat and an early report among them, and
 * one refused on its own does not undo the others.
 */
TEST(a_batch_of_reports_stores_each_as_if_alone)
{
    char                   status[16], code[32];
    fixture_t              f;
    inbox_error_t          err;
    inbox_event_list_t     events;
    inbox_send_result_t    res;
    inbox_send_report_t    report;
    inbox_reply_result_t   a, b;
    inbox_ingest_result_t  alice;
    inbox_status_report_t  r[6];
    size_t                 i, removed;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 5, NULL), INBOX_OK);
    CHECK_INT(reply(&f, alice.conversation_id, "one", NULL, &a, NULL, NULL),
              INBOX_OK);
    CHECK_INT(reply(&f, alice.conversation_id, "two", NULL, &b, NULL, NULL),
              INBOX_OK);

    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_ACCEPTED;
    res.carrier = INBOX_CARRIER_TWILIO;
    res.status = INBOX_DELIVERY_QUEUED;
    snprintf(res.provider_id, sizeof(res.provider_id), "SMbatch1");
    CHECK_INT(send_one(&f, inbox_now_ms(), &res, &report, &events), 0);
    snprintf(res.provider_id, sizeof(res.provider_id), "SMbatch2");
    CHECK_INT(send_one(&f, inbox_now_ms(), &res, &report, &events), 0);
    CHECK_INT(events.count, 0);

    memset(r, 0, sizeof(r));
    for (i = 0; i < 6; i++) {
        r[i].org_id = f.org;
        r[i].carrier = INBOX_CARRIER_TWILIO;
        r[i].provider_id = "SMbatch1";
        r[i].delivery = INBOX_DELIVERY_SENT;
    }

    r[1].delivery = INBOX_DELIVERY_DELIVERED;         /* moves on */
    r[2].delivery = INBOX_DELIVERY_SENT;              /* late: nothing */
    r[3].provider_id = "SMbatch2";                    /* the other one */
    r[3].delivery = INBOX_DELIVERY_FAILED;
    r[3].error_code = "21610";                        /* opted out */
    r[3].find_contact = 1;
    r[4].org_id = "not-an-id";                        /* refused alone */
    r[5].provider_id = "SMbatch3";                    /* early: kept */
    r[5].delivery = INBOX_DELIVERY_DELIVERED;

    CHECK_INT(inbox_store_message_status_updates(f.store, r, 6, &events,
                                                 &err), INBOX_OK);

    CHECK_INT(r[0].status, INBOX_OK);
    CHECK_INT(r[0].changed, 1);
    CHECK_INT(r[1].status, INBOX_OK);
    CHECK_INT(r[1].changed, 1);
    CHECK_INT(r[2].status, INBOX_OK);
    CHECK_INT(r[2].changed, 0);
    CHECK_INT(r[3].status, INBOX_OK);
    CHECK_INT(r[3].changed, 1);
    CHECK_STR(r[3].contact_id, b.conversation.contact.id);
    CHECK_INT(r[4].status, INBOX_ERR_NOT_FOUND);
    CHECK(r[4].error.message[0] != '\0');
    CHECK_INT(r[5].status, INBOX_OK);
    CHECK_INT(r[5].changed, 0);

    /* three moves, pushed in the reports' order */
    CHECK_INT(events.count, 3);
    if (events.count == 3) {
        CHECK(strstr(events.items[0].json, "\"status\":\"sent\"") != NULL);
        CHECK(strstr(events.items[1].json, "\"status\":\"delivered\"")
              != NULL);
        CHECK(strstr(events.items[2].json, "\"status\":\"failed\"") != NULL);
        CHECK(strstr(events.items[2].json, b.message.id) != NULL);
    }

    status_of(&f, alice.conversation_id, a.message.id, status, code);
    CHECK_STR(status, "delivered");
    status_of(&f, alice.conversation_id, b.message.id, status, code);
    CHECK_STR(status, "failed");
    CHECK_STR(code, INBOX_SEND_ERROR_OPTED_OUT);
    CHECK_INT(held_of(&f, f.org), 0);
    CHECK(ledger_balances(&f, f.org));

    /* the early one waits for its message: one kept, dropped in time */
    CHECK_INT(inbox_store_early_reports_purge(f.store, inbox_now_ms()
                                              + INBOX_DELIVERY_EARLY_KEEP_MS
                                              + 1000, 100, &removed, &err),
              INBOX_OK);
    CHECK_INT(removed, 1);

    inbox_reply_result_free(&a);
    inbox_reply_result_free(&b);
    inbox_event_list_free(&events);
    fixture_close(&f);
}


TEST(a_failure_releases_the_hold_and_a_late_success_changes_nothing)
{
    int                    changed;
    char                   status[16], code[32];
    fixture_t              f;
    inbox_error_t          err;
    inbox_event_list_t     events;
    inbox_send_result_t    res;
    inbox_send_report_t    report;
    inbox_reply_result_t   a, b;
    inbox_ingest_result_t  alice;
    int64_t                now;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 5, NULL), INBOX_OK);
    CHECK_INT(reply(&f, alice.conversation_id, "one", NULL, &a, NULL, NULL),
              INBOX_OK);
    now = inbox_now_ms();

    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_ACCEPTED;
    res.carrier = INBOX_CARRIER_TELNYX;
    snprintf(res.provider_id, sizeof(res.provider_id), "40318c1e");
    res.status = INBOX_DELIVERY_SENDING;
    CHECK_INT(send_one(&f, now, &res, &report, &events), 0);
    CHECK_INT(report.status, INBOX_DELIVERY_SENDING);
    CHECK_INT(events.count, 1);

    /* failed, then (out of order) sent: the failure stands, the credit
     * is back */
    CHECK_INT(inbox_store_message_status_update(f.store, f.org,
                  INBOX_CARRIER_TELNYX, "40318c1e",
                  INBOX_DELIVERY_UNDELIVERED, "30003", &changed, NULL, &events,
                  &err), INBOX_OK);
    CHECK_INT(changed, 1);
    CHECK_INT(inbox_store_message_status_update(f.store, f.org,
                  INBOX_CARRIER_TELNYX, "40318c1e", INBOX_DELIVERY_SENT,
                  NULL, &changed, NULL, &events, &err), INBOX_OK);
    CHECK_INT(changed, 0);
    CHECK_INT(events.count, 2);
    status_of(&f, alice.conversation_id, a.message.id, status, code);
    CHECK_STR(status, "undelivered");
    CHECK_STR(code, "30003");
    CHECK_INT(balance_of(&f, f.org), 5);
    CHECK_INT(held_of(&f, f.org), 0);

    /* a failure after "sent" (the carrier took it, the handset never
     * got it) releases the hold: a failed send deducts nothing */
    CHECK_INT(reply(&f, alice.conversation_id, "two", NULL, &b, NULL, NULL),
              INBOX_OK);
    now = inbox_now_ms();
    snprintf(res.provider_id, sizeof(res.provider_id), "40318c1f");
    res.status = INBOX_DELIVERY_SENT;
    CHECK_INT(send_one(&f, now, &res, &report, &events), 0);
    CHECK_INT(held_of(&f, f.org), 1);
    CHECK_INT(balance_of(&f, f.org), 4);
    CHECK_INT(inbox_store_message_status_update(f.store, f.org,
                  INBOX_CARRIER_TELNYX, "40318c1f", INBOX_DELIVERY_FAILED,
                  "40001", &changed, NULL, &events, &err), INBOX_OK);
    CHECK_INT(changed, 1);
    CHECK_INT(held_of(&f, f.org), 0);
    CHECK_INT(balance_of(&f, f.org), 5);
    CHECK(ledger_balances(&f, f.org));

    inbox_reply_result_free(&a);
    inbox_reply_result_free(&b);
    inbox_event_list_free(&events);
    fixture_close(&f);
}


/* A Telnyx report of one message, final or not (message.finalized). */
static inbox_status_t
telnyx_report(fixture_t *f, const char *provider_id, inbox_delivery_t status,
    int final, int *changed, inbox_event_list_t *events)
{
    inbox_error_t          err;
    inbox_status_t         rc;
    inbox_status_report_t  r;

    memset(&r, 0, sizeof(inbox_status_report_t));
    r.org_id = f->org;
    r.carrier = INBOX_CARRIER_TELNYX;
    r.provider_id = provider_id;
    r.delivery = status;
    r.final = final;

    rc = inbox_store_message_status_updates(f->store, &r, 1, events, &err);

    *changed = r.changed;

    return rc == INBOX_OK ? r.status : rc;
}


/*
 * Telnyx finalizes a message it sent without a receipt (its carrier
 * sends none) as delivery_unconfirmed: the message stays "sent", and its
 * credits are spent then, not held for three days; a later report moves
 * the status and leaves the credits alone.  A report that is not final
 * ("sent" of message.sent, or Twilio's) keeps the hold.
 */
TEST(a_final_sent_report_captures_the_hold_and_the_status_stays_sent)
{
    int                    changed;
    char                   status[16], code[32];
    size_t                 captured;
    fixture_t              f;
    inbox_error_t          err;
    inbox_event_list_t     events;
    inbox_send_result_t    res;
    inbox_send_report_t    report;
    inbox_reply_result_t   a, b, c;
    inbox_ingest_result_t  alice;
    inbox_ledger_entry_t   newest;
    int64_t                now, balance, held;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 5, NULL), INBOX_OK);
    CHECK_INT(reply(&f, alice.conversation_id, "one", NULL, &a, NULL, NULL),
              INBOX_OK);
    now = inbox_now_ms();

    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_ACCEPTED;
    res.carrier = INBOX_CARRIER_TELNYX;
    res.status = INBOX_DELIVERY_QUEUED;
    snprintf(res.provider_id, sizeof(res.provider_id), "40f1a001");
    CHECK_INT(send_one(&f, now, &res, &report, &events), 0);

    /* message.sent: moves, the hold stays */
    CHECK_INT(telnyx_report(&f, "40f1a001", INBOX_DELIVERY_SENT, 0, &changed,
                            &events), INBOX_OK);
    CHECK_INT(changed, 1);
    CHECK_INT(events.count, 1);
    CHECK_INT(held_of(&f, f.org), 1);
    CHECK_INT(balance_of(&f, f.org), 4);

    /* message.finalized, delivery_unconfirmed: still "sent", nothing
     * pushed, the credit spent */
    CHECK_INT(telnyx_report(&f, "40f1a001", INBOX_DELIVERY_SENT, 1, &changed,
                            &events), INBOX_OK);
    CHECK_INT(changed, 0);
    CHECK_INT(events.count, 1);
    status_of(&f, alice.conversation_id, a.message.id, status, code);
    CHECK_STR(status, "sent");
    CHECK_INT(held_of(&f, f.org), 0);
    CHECK_INT(balance_of(&f, f.org), 4);
    CHECK_INT(ledger_walk(&f, f.org, &balance, &held, &newest), 3);
    CHECK_INT(newest.kind, INBOX_LEDGER_CAPTURE);
    CHECK_STR(newest.message_id, a.message.id);

    /* Telnyx's retry of it, then a receipt after all: once */
    CHECK_INT(telnyx_report(&f, "40f1a001", INBOX_DELIVERY_SENT, 1, &changed,
                            &events), INBOX_OK);
    CHECK_INT(changed, 0);
    CHECK_INT(telnyx_report(&f, "40f1a001", INBOX_DELIVERY_DELIVERED, 1,
                            &changed, &events), INBOX_OK);
    CHECK_INT(changed, 1);
    CHECK_INT(events.count, 2);
    status_of(&f, alice.conversation_id, a.message.id, status, code);
    CHECK_STR(status, "delivered");
    CHECK_INT(balance_of(&f, f.org), 4);
    CHECK_INT(ledger_walk(&f, f.org, &balance, &held, NULL), 3);

    /* finalized before any message.sent: moves to "sent" and captures;
     * a failure after it gives nothing back */
    CHECK_INT(reply(&f, alice.conversation_id, "two", NULL, &b, NULL, NULL),
              INBOX_OK);
    now = inbox_now_ms();
    snprintf(res.provider_id, sizeof(res.provider_id), "40f1a002");
    CHECK_INT(send_one(&f, now, &res, &report, &events), 0);
    CHECK_INT(held_of(&f, f.org), 1);
    CHECK_INT(telnyx_report(&f, "40f1a002", INBOX_DELIVERY_SENT, 1, &changed,
                            &events), INBOX_OK);
    CHECK_INT(changed, 1);
    CHECK_INT(events.count, 3);
    status_of(&f, alice.conversation_id, b.message.id, status, code);
    CHECK_STR(status, "sent");
    CHECK_INT(held_of(&f, f.org), 0);
    CHECK_INT(balance_of(&f, f.org), 3);
    CHECK_INT(telnyx_report(&f, "40f1a002", INBOX_DELIVERY_FAILED, 1,
                            &changed, &events), INBOX_OK);
    CHECK_INT(changed, 1);
    status_of(&f, alice.conversation_id, b.message.id, status, code);
    CHECK_STR(status, "failed");
    CHECK_INT(held_of(&f, f.org), 0);
    CHECK_INT(balance_of(&f, f.org), 3);
    CHECK_INT(ledger_walk(&f, f.org, &balance, &held, NULL), 5);

    /* "sent" that is not final (Twilio's, Telnyx's message.sent) keeps
     * the hold for a receipt, or for its expiry */
    CHECK_INT(reply(&f, alice.conversation_id, "three", NULL, &c, NULL,
                    NULL), INBOX_OK);
    now = inbox_now_ms();
    res.carrier = INBOX_CARRIER_TWILIO;
    snprintf(res.provider_id, sizeof(res.provider_id), "SMf1a003");
    CHECK_INT(send_one(&f, now, &res, &report, &events), 0);
    CHECK_INT(inbox_store_message_status_update(f.store, f.org,
                  INBOX_CARRIER_TWILIO, "SMf1a003", INBOX_DELIVERY_SENT,
                  NULL, &changed, NULL, &events, &err), INBOX_OK);
    CHECK_INT(changed, 1);
    CHECK_INT(held_of(&f, f.org), 1);
    CHECK_INT(balance_of(&f, f.org), 2);

    /* only that one is left for the expiry to capture */
    CHECK_INT(inbox_store_holds_expire(f.store, now + 1000 * HOUR, 0,
                                       &captured, &err), INBOX_OK);
    CHECK_INT(captured, 1);
    CHECK_INT(held_of(&f, f.org), 0);
    CHECK_INT(balance_of(&f, f.org), 2);
    CHECK(ledger_balances(&f, f.org));

    inbox_reply_result_free(&a);
    inbox_reply_result_free(&b);
    inbox_reply_result_free(&c);
    inbox_event_list_free(&events);
    fixture_close(&f);
}


/*
 * Telnyx's message.finalized of delivery_unconfirmed can come before the
 * sender has recorded the message's id: kept, it still spends the
 * message's credit when the sender records the send (the message is
 * "sent"), not three days later.  An early "sent" that is not final
 * keeps the hold.
 */
TEST(a_final_sent_report_before_the_carriers_id_captures_the_hold_at_record)
{
    int                    changed;
    char                   status[16], code[32];
    fixture_t              f;
    inbox_event_list_t     events;
    inbox_send_result_t    res;
    inbox_send_report_t    report;
    inbox_reply_result_t   a, b;
    inbox_ingest_result_t  alice;
    inbox_ledger_entry_t   newest;
    int64_t                now, balance, held;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 5, NULL), INBOX_OK);
    CHECK_INT(reply(&f, alice.conversation_id, "one", NULL, &a, NULL, NULL),
              INBOX_OK);
    CHECK_INT(reply(&f, alice.conversation_id, "two", NULL, &b, NULL, NULL),
              INBOX_OK);
    now = inbox_now_ms();

    /* the reports overtake the carrier's answers: kept, nothing moves */
    CHECK_INT(telnyx_report(&f, "40ea1f01", INBOX_DELIVERY_SENT, 1, &changed,
                            &events), INBOX_OK);
    CHECK_INT(changed, 0);
    CHECK_INT(telnyx_report(&f, "40ea1f02", INBOX_DELIVERY_SENT, 0, &changed,
                            &events), INBOX_OK);
    CHECK_INT(changed, 0);
    CHECK_INT(events.count, 0);
    CHECK_INT(held_of(&f, f.org), 2);

    /* the sender records the finalized one: "sent", its credit spent */
    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_ACCEPTED;
    res.carrier = INBOX_CARRIER_TELNYX;
    res.status = INBOX_DELIVERY_QUEUED;
    snprintf(res.provider_id, sizeof(res.provider_id), "40ea1f01");
    CHECK_INT(send_one(&f, now, &res, &report, &events), 0);
    CHECK_STR(report.message_id, a.message.id);
    CHECK_INT(report.status, INBOX_DELIVERY_SENT);
    status_of(&f, alice.conversation_id, a.message.id, status, code);
    CHECK_STR(status, "sent");
    CHECK_INT(events.count, 1);
    CHECK_INT(held_of(&f, f.org), 1);
    CHECK_INT(balance_of(&f, f.org), 3);
    CHECK_INT(ledger_walk(&f, f.org, &balance, &held, &newest), 4);
    CHECK_INT(newest.kind, INBOX_LEDGER_CAPTURE);
    CHECK_STR(newest.message_id, a.message.id);

    /* the one that is not final: "sent", its hold kept for a receipt */
    snprintf(res.provider_id, sizeof(res.provider_id), "40ea1f02");
    CHECK_INT(send_one(&f, now, &res, &report, &events), 0);
    CHECK_STR(report.message_id, b.message.id);
    CHECK_INT(report.status, INBOX_DELIVERY_SENT);
    status_of(&f, alice.conversation_id, b.message.id, status, code);
    CHECK_STR(status, "sent");
    CHECK_INT(events.count, 2);
    CHECK_INT(held_of(&f, f.org), 1);
    CHECK_INT(balance_of(&f, f.org), 3);
    CHECK_INT(ledger_walk(&f, f.org, &balance, &held, NULL), 4);
    CHECK(ledger_balances(&f, f.org));

    inbox_reply_result_free(&a);
    inbox_reply_result_free(&b);
    inbox_event_list_free(&events);
    fixture_close(&f);
}


TEST(refused_and_opted_out_sends_fail_with_their_codes_and_cost_nothing)
{
    char                   status[16], code[32];
    char                   contact[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    fixture_t              f;
    inbox_event_list_t     events;
    inbox_send_result_t    res;
    inbox_send_report_t    report;
    inbox_reply_result_t   a, b;
    inbox_ingest_result_t  alice;
    int64_t                now;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &alice, NULL), INBOX_OK);
    CHECK(contact_of(&f, ALICE, contact, conv));
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 5, NULL), INBOX_OK);
    CHECK_INT(reply(&f, alice.conversation_id, "one", NULL, &a, NULL, NULL),
              INBOX_OK);
    CHECK_INT(reply(&f, alice.conversation_id, "two", NULL, &b, NULL, NULL),
              INBOX_OK);
    now = inbox_now_ms();
    CHECK_INT(balance_of(&f, f.org), 3);

    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_REFUSED;
    snprintf(res.error_code, sizeof(res.error_code), "21211");
    CHECK_INT(send_one(&f, now, &res, &report, &events), 0);
    CHECK_INT(report.status, INBOX_DELIVERY_FAILED);
    CHECK_STR(report.opted_out_contact, "");
    status_of(&f, alice.conversation_id, a.message.id, status, code);
    CHECK_STR(status, "failed");
    CHECK_STR(code, "21211");

    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_OPTED_OUT;
    CHECK_INT(send_one(&f, now, &res, &report, &events), 0);
    CHECK_STR(report.message_id, b.message.id);
    CHECK_STR(report.opted_out_contact, contact);
    status_of(&f, alice.conversation_id, b.message.id, status, code);
    CHECK_STR(status, "failed");
    CHECK_STR(code, "contact_opted_out");

    CHECK_INT(events.count, 2);
    if (events.count == 2) {
        CHECK(strstr(events.items[1].json,
                     "\"error_code\":\"contact_opted_out\"") != NULL);
    }

    CHECK_INT(balance_of(&f, f.org), 5);
    CHECK_INT(held_of(&f, f.org), 0);
    CHECK(ledger_balances(&f, f.org));

    inbox_reply_result_free(&a);
    inbox_reply_result_free(&b);
    inbox_event_list_free(&events);
    fixture_close(&f);
}


/*
 * Refused for its number's account or credentials (the result's
 * account), a reply and a keyword's answer fail "carrier_account",
 * whichever of the carriers' codes said it (the word a campaign pauses
 * with): what a person reads says to have the number's settings fixed.
 * The reply's credit comes back.
 */
TEST(sends_refused_for_the_numbers_account_fail_carrier_account)
{
    size_t                 i, said;
    char                   status[16], code[32];
    fixture_t              f;
    inbox_event_list_t     events;
    inbox_send_result_t    res;
    inbox_send_report_t    report;
    inbox_reply_result_t   a;
    inbox_outbox_batch_t   batch;
    inbox_ingest_result_t  alice, stop;

    static const struct {
        inbox_carrier_t   carrier;
        const char       *code;
    } refusals[] = {
        { INBOX_CARRIER_TWILIO, "20005" },
        { INBOX_CARRIER_TELNYX, "10010" }
    };

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "STOP", T0 + 1, &stop, NULL),
              INBOX_OK);
    CHECK_INT(stop.answered, 1);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 5, NULL), INBOX_OK);
    CHECK_INT(reply(&f, alice.conversation_id, "one", NULL, &a, NULL, NULL),
              INBOX_OK);
    CHECK_INT(balance_of(&f, f.org), 4);

    /* the keyword's answer first, then the reply */
    CHECK_INT(claim(&f, inbox_now_ms(), 10, &batch), 2);

    for (i = 0; i < batch.count && i < 2; i++) {
        memset(&res, 0, sizeof(res));
        res.outcome = INBOX_SEND_REFUSED;
        res.carrier = refusals[i].carrier;
        res.account = 1;
        snprintf(res.error_code, sizeof(res.error_code), "%s",
                 refusals[i].code);
        snprintf(res.message, sizeof(res.message), "Account not active");
        CHECK_INT(inbox_store_outbox_result(f.store, batch.items[i].id,
                                            batch.items[i].attempt, &res,
                                            inbox_now_ms(), &report,
                                            &events, NULL), INBOX_OK);
        CHECK_INT(report.status, INBOX_DELIVERY_FAILED);
        CHECK_STR(report.opted_out_contact, "");
    }

    if (batch.count == 2) {
        CHECK_INT(batch.items[0].priority, INBOX_OUTBOX_NOTICE);
        status_of(&f, stop.conversation_id, batch.items[0].message.id,
                  status, code);
        CHECK_STR(status, "failed");
        CHECK_STR(code, "carrier_account");
        CHECK_STR(batch.items[1].message.id, a.message.id);
    }

    status_of(&f, alice.conversation_id, a.message.id, status, code);
    CHECK_STR(status, "failed");
    CHECK_STR(code, "carrier_account");

    /* pushed so, the carriers' codes nowhere */
    for (said = 0, i = 0; i < events.count; i++) {
        said += strstr(events.items[i].json,
                       "\"error_code\":\"carrier_account\"") != NULL;
        CHECK(strstr(events.items[i].json, "20005") == NULL);
        CHECK(strstr(events.items[i].json, "10010") == NULL);
    }
    CHECK_INT(said, 2);

    CHECK_INT(balance_of(&f, f.org), 5);
    CHECK_INT(held_of(&f, f.org), 0);
    CHECK(ledger_balances(&f, f.org));

    inbox_outbox_batch_free(&batch);
    inbox_reply_result_free(&a);
    inbox_event_list_free(&events);
    fixture_close(&f);
}


/*
 * A carrier's refusal can come long after the send (a delivery report,
 * an opt-out the sender tries again while the store is busy).  One for
 * a message the carrier took or refused before the contact's last START
 * leaves the contact opted in; one for a message sent after it opts the
 * contact out.
 */
TEST(a_carriers_opt_out_from_before_the_contacts_start_changes_nothing)
{
    char                    contact[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    size_t                  pushed;
    fixture_t               f;
    inbox_error_t           err;
    inbox_event_list_t      events;
    inbox_send_result_t     res;
    inbox_send_report_t     report;
    inbox_status_report_t   r;
    inbox_reply_result_t    a, b, c;
    inbox_ingest_result_t   alice;
    inbox_contact_record_t  got;
    int64_t                 now;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &alice, NULL), INBOX_OK);
    CHECK(contact_of(&f, ALICE, contact, conv));
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);

    /* the carrier takes a reply, then the contact texts STOP and START
     * (now read after the reply: it is due from its own clock reading) */
    CHECK_INT(reply(&f, alice.conversation_id, "one", NULL, &a, NULL, NULL),
              INBOX_OK);
    now = inbox_now_ms();
    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_ACCEPTED;
    res.carrier = INBOX_CARRIER_TWILIO;
    res.status = INBOX_DELIVERY_QUEUED;
    snprintf(res.provider_id, sizeof(res.provider_id), "SMlate1");
    CHECK_INT(send_one(&f, now, &res, &report, &events), 0);
    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, contact,
                                          INBOX_OPT_OUT_KEYWORD, "STOP",
                                          now + 1000, 0, NULL, NULL, &err),
              INBOX_OK);
    CHECK_INT(inbox_store_contact_opt_in(f.store, f.org, contact, "START",
                                         now + 2000, NULL, NULL, &err),
              INBOX_OK);

    /* then the carrier's report that it refused that reply as opted
     * out: the message fails, the contact stays opted in, nothing is
     * pushed of the contact */
    memset(&r, 0, sizeof(r));
    r.org_id = f.org;
    r.carrier = INBOX_CARRIER_TWILIO;
    r.provider_id = "SMlate1";
    r.delivery = INBOX_DELIVERY_FAILED;
    r.error_code = "21610";
    r.find_contact = 1;
    CHECK_INT(inbox_store_message_status_updates(f.store, &r, 1, &events,
                                                 &err), INBOX_OK);
    CHECK_INT(r.status, INBOX_OK);
    CHECK_STR(r.contact_id, contact);
    CHECK_INT(r.sent_at, now);

    pushed = events.count;
    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, r.contact_id,
                                          INBOX_OPT_OUT_CARRIER, NULL, 0,
                                          r.sent_at, &got, &events, &err),
              INBOX_OK);
    CHECK_INT(got.opted_out, 0);
    inbox_contact_record_free(&got);
    CHECK_INT(events.count, pushed);
    CHECK_INT(inbox_store_contact_get(f.store, f.org, contact, &got, &err),
              INBOX_OK);
    CHECK_INT(got.opted_out, 0);
    inbox_contact_record_free(&got);

    /* replies go again; one the sender has refused as opted out waits
     * for a busy store while the contact texts STOP and START again */
    CHECK_INT(reply(&f, alice.conversation_id, "two", NULL, &b, NULL, &err),
              INBOX_OK);
    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_OPTED_OUT;
    CHECK_INT(send_one(&f, now + 3000, &res, &report, &events), 0);
    CHECK_STR(report.opted_out_contact, contact);
    CHECK_INT(report.opted_out_sent_at, now + 3000);
    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, contact,
                                          INBOX_OPT_OUT_KEYWORD, "STOP",
                                          now + 4000, 0, NULL, NULL, &err),
              INBOX_OK);
    CHECK_INT(inbox_store_contact_opt_in(f.store, f.org, contact, "START",
                                         now + 5000, NULL, NULL, &err),
              INBOX_OK);
    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, contact,
                                          INBOX_OPT_OUT_CARRIER, NULL, 0,
                                          report.opted_out_sent_at, &got,
                                          NULL, &err), INBOX_OK);
    CHECK_INT(got.opted_out, 0);
    inbox_contact_record_free(&got);

    /* a reply sent after the START and refused: opted out (carrier) */
    CHECK_INT(reply(&f, alice.conversation_id, "three", NULL, &c, NULL,
                    &err), INBOX_OK);
    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_OPTED_OUT;
    CHECK_INT(send_one(&f, now + 6000, &res, &report, &events), 0);
    CHECK_STR(report.opted_out_contact, contact);
    pushed = events.count;
    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, contact,
                                          INBOX_OPT_OUT_CARRIER, NULL, 0,
                                          report.opted_out_sent_at, &got,
                                          &events, &err), INBOX_OK);
    CHECK_INT(got.opted_out, 1);
    CHECK_STR(got.opt_out_source, "carrier");
    inbox_contact_record_free(&got);
    CHECK_INT(events.count, pushed + 2);

    inbox_reply_result_free(&a);
    inbox_reply_result_free(&b);
    inbox_reply_result_free(&c);
    inbox_event_list_free(&events);
    fixture_close(&f);
}


TEST(a_status_reported_before_the_carriers_id_is_recorded_is_kept_and_applied)
{
    char                   status[16], code[32], named[INBOX_ID_MAX];
    char                   contact[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    size_t                 removed;
    fixture_t              f;
    inbox_error_t          err;
    inbox_event_list_t     events;
    inbox_send_result_t    res;
    inbox_send_report_t    report;
    inbox_reply_result_t   a, b;
    inbox_ingest_result_t  alice;
    int64_t                now;
    inbox_ledger_page_t    page;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &alice, NULL), INBOX_OK);
    CHECK(contact_of(&f, ALICE, contact, conv));
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 5, NULL), INBOX_OK);
    CHECK_INT(reply(&f, alice.conversation_id, "one", NULL, &a, NULL, NULL),
              INBOX_OK);
    CHECK_INT(reply(&f, alice.conversation_id, "two", NULL, &b, NULL, NULL),
              INBOX_OK);
    now = inbox_now_ms();

    /* the carrier's callbacks overtake its answer to the send, out of
     * order: kept, nothing moves yet */
    CHECK_INT(inbox_store_message_status_update(f.store, f.org,
                  INBOX_CARRIER_TWILIO, "SMearly1", INBOX_DELIVERY_DELIVERED,
                  NULL, NULL, NULL, &events, &err), INBOX_OK);
    CHECK_INT(inbox_store_message_status_update(f.store, f.org,
                  INBOX_CARRIER_TWILIO, "SMearly1", INBOX_DELIVERY_SENT,
                  NULL, NULL, NULL, &events, &err), INBOX_OK);
    CHECK_INT(inbox_store_message_status_update(f.store, f.org,
                  INBOX_CARRIER_TWILIO, "SMearly2", INBOX_DELIVERY_FAILED,
                  "21610", NULL, named, &events, &err), INBOX_OK);
    CHECK_STR(named, "");
    CHECK_INT(events.count, 0);
    CHECK_INT(held_of(&f, f.org), 2);

    /* the sender records the first: it is delivered at once, its hold
     * captured, and one frame says so */
    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_ACCEPTED;
    res.carrier = INBOX_CARRIER_TWILIO;
    res.status = INBOX_DELIVERY_QUEUED;
    snprintf(res.provider_id, sizeof(res.provider_id), "SMearly1");
    CHECK_INT(send_one(&f, now, &res, &report, &events), 0);
    CHECK_STR(report.message_id, a.message.id);
    CHECK_INT(report.status, INBOX_DELIVERY_DELIVERED);
    CHECK_STR(report.opted_out_contact, "");
    status_of(&f, alice.conversation_id, a.message.id, status, code);
    CHECK_STR(status, "delivered");
    CHECK_INT(events.count, 1);
    if (events.count == 1) {
        CHECK(strstr(events.items[0].json, "\"status\":\"delivered\"")
              != NULL);
    }
    CHECK_INT(balance_of(&f, f.org), 3);
    CHECK_INT(held_of(&f, f.org), 1);

    /* the second was refused as opted out: failed, released, and the
     * contact named for the sender to opt out */
    snprintf(res.provider_id, sizeof(res.provider_id), "SMearly2");
    CHECK_INT(send_one(&f, now, &res, &report, &events), 0);
    CHECK_STR(report.message_id, b.message.id);
    CHECK_INT(report.status, INBOX_DELIVERY_FAILED);
    CHECK_STR(report.opted_out_contact, contact);
    status_of(&f, alice.conversation_id, b.message.id, status, code);
    CHECK_STR(status, "failed");
    CHECK_STR(code, "contact_opted_out");
    CHECK_INT(balance_of(&f, f.org), 4);
    CHECK_INT(held_of(&f, f.org), 0);
    CHECK(ledger_balances(&f, f.org));

    /* the ledger names whom each entry was for, as the contact is named
     * now, and why a release's message failed; a capture has no reason */
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, ALICE, "Alice Wong",
                                         contact, NULL), INBOX_OK);
    memset(&page, 0, sizeof(page));
    CHECK_INT(inbox_store_ledger_list(f.store, f.org, NULL, 2, &page, NULL),
              INBOX_OK);
    CHECK_INT(page.count, 2);
    if (page.count == 2) {
        CHECK_INT(page.items[0].kind, INBOX_LEDGER_RELEASE);
        CHECK_STR(page.items[0].message_id, b.message.id);
        CHECK_STR(page.items[0].conversation_id, alice.conversation_id);
        CHECK_STR(page.items[0].contact_name, "Alice Wong");
        CHECK_STR(page.items[0].contact_phone, ALICE);
        CHECK_STR(page.items[0].error_code, "contact_opted_out");
        CHECK_INT(page.items[1].kind, INBOX_LEDGER_CAPTURE);
        CHECK_STR(page.items[1].conversation_id, alice.conversation_id);
        CHECK_STR(page.items[1].error_code, "");
    }
    inbox_ledger_page_free(&page);

    /* taken once: a repeat of the callback changes nothing */
    CHECK_INT(inbox_store_message_status_update(f.store, f.org,
                  INBOX_CARRIER_TWILIO, "SMearly1", INBOX_DELIVERY_DELIVERED,
                  NULL, NULL, NULL, &events, &err), INBOX_OK);
    CHECK_INT(events.count, 2);

    /* one no message claims is dropped after a day, not before */
    CHECK_INT(inbox_store_message_status_update(f.store, f.org,
                  INBOX_CARRIER_TWILIO, "SMnever", INBOX_DELIVERY_SENT,
                  NULL, NULL, NULL, &events, &err), INBOX_OK);
    CHECK_INT(inbox_store_early_reports_purge(f.store, inbox_now_ms(), 100,
                                              &removed, &err), INBOX_OK);
    CHECK_INT(removed, 0);
    CHECK_INT(inbox_store_early_reports_purge(f.store, inbox_now_ms()
                                              + INBOX_DELIVERY_EARLY_KEEP_MS
                                              + 1000, 100, &removed, &err),
              INBOX_OK);
    CHECK_INT(removed, 1);

    inbox_reply_result_free(&a);
    inbox_reply_result_free(&b);
    inbox_event_list_free(&events);
    fixture_close(&f);
}


/* Waits until the clock has moved past t (ms), so that what follows is
 * stamped after it. */
static void
clock_past(int64_t t)
{
    while (inbox_now_ms() <= t) {
        usleep(500);
    }
}


TEST(an_opt_out_withdraws_what_was_queued_before_it_but_not_its_notice)
{
    char                   status[16], code[32];
    char                   contact[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    size_t                 i;
    fixture_t              f;
    inbox_error_t          err;
    inbox_event_list_t     events;
    inbox_send_result_t    res;
    inbox_send_report_t    report;
    inbox_reply_result_t   a, notice;
    inbox_ingest_result_t  alice;
    inbox_outbox_batch_t   batch;
    int64_t                at;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));
    memset(&notice, 0, sizeof(notice));

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &alice, NULL), INBOX_OK);
    CHECK(contact_of(&f, ALICE, contact, conv));
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 5, NULL), INBOX_OK);
    CHECK_INT(reply(&f, alice.conversation_id, "one", NULL, &a, NULL, NULL),
              INBOX_OK);
    CHECK_INT(balance_of(&f, f.org), 4);

    /* the contact opts out before the sender claims the reply; then the
     * one confirmation is queued, after the opt-out */
    clock_past(a.message.created_at);
    at = inbox_now_ms();
    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, contact,
                                          INBOX_OPT_OUT_MANUAL, NULL, at, 0,
                                          NULL, NULL, &err), INBOX_OK);
    clock_past(at);
    CHECK_INT(inbox_store_outbox_notice(f.store, f.org, alice.conversation_id,
                                        NUMBER, "You are unsubscribed.",
                                        &notice, NULL, &err), INBOX_OK);

    CHECK_INT(claim(&f, inbox_now_ms(), 10, &batch), 2);
    for (i = 0; i < batch.count; i++) {
        if (strcmp(batch.items[i].message.id, a.message.id) == 0) {
            CHECK_INT(batch.items[i].withdrawn, 1);

            memset(&res, 0, sizeof(res));
            res.outcome = INBOX_SEND_WITHDRAWN;
            CHECK_INT(inbox_store_outbox_result(f.store, batch.items[i].id,
                                                batch.items[i].attempt, &res,
                                                inbox_now_ms(), &report,
                                                &events, &err), INBOX_OK);
            CHECK_INT(report.done, 1);
            CHECK_INT(report.status, INBOX_DELIVERY_FAILED);
            /* opted out already: nothing to mark */
            CHECK_STR(report.opted_out_contact, "");

        } else {
            CHECK_STR(batch.items[i].message.id, notice.message.id);
            CHECK_INT(batch.items[i].withdrawn, 0);
        }
    }
    inbox_outbox_batch_free(&batch);

    status_of(&f, alice.conversation_id, a.message.id, status, code);
    CHECK_STR(status, "failed");
    CHECK_STR(code, "contact_opted_out");
    CHECK_INT(events.count, 1);
    if (events.count == 1) {
        CHECK(strstr(events.items[0].json,
                     "\"error_code\":\"contact_opted_out\"") != NULL);
    }

    /* withdrawn costs nothing */
    CHECK_INT(balance_of(&f, f.org), 5);
    CHECK_INT(held_of(&f, f.org), 0);
    CHECK(ledger_balances(&f, f.org));

    inbox_reply_result_free(&a);
    inbox_reply_result_free(&notice);
    inbox_event_list_free(&events);
    fixture_close(&f);
}


/*
 * A reply accepted while the contact's STOP waited to be stored is
 * withdrawn too, though the carrier's clock puts the STOP before it: the
 * contact had said it by then.
 */
/* on the unlimited plan a reply costs nothing, and is still no keyword's
 * answer */
static void
stop_on_its_way(int unlimited)
{
    char                   contact[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    fixture_t              f;
    inbox_error_t          err;
    inbox_reply_result_t   a;
    inbox_ingest_result_t  alice;
    inbox_outbox_batch_t   batch;

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &alice, NULL), INBOX_OK);
    CHECK(contact_of(&f, ALICE, contact, conv));
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 5, NULL), INBOX_OK);
    if (unlimited) {
        CHECK_INT(inbox_store_plan_set(f.store, f.org, INBOX_PLAN_UNLIMITED,
                                       NULL), INBOX_OK);
    }
    CHECK_INT(reply(&f, alice.conversation_id, "Promo: 20% off", NULL, &a,
                    NULL, NULL), INBOX_OK);
    CHECK_INT(a.message.credits, unlimited ? 0 : 1);

    /* the STOP's time, the carrier's: before the reply was accepted */
    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, contact,
                                          INBOX_OPT_OUT_KEYWORD, "STOP",
                                          a.message.created_at - 300, 0, NULL,
                                          NULL, &err), INBOX_OK);

    clock_past(a.message.created_at);
    CHECK_INT(claim(&f, inbox_now_ms(), 10, &batch), 1);
    if (batch.count == 1) {
        CHECK_STR(batch.items[0].message.id, a.message.id);
        CHECK_INT(batch.items[0].withdrawn, 1);
    }
    inbox_outbox_batch_free(&batch);

    inbox_reply_result_free(&a);
    fixture_close(&f);
}


TEST(a_reply_written_while_the_stop_was_on_its_way_is_never_sent)
{
    stop_on_its_way(0);
    stop_on_its_way(1);
}


TEST(a_retry_backs_off_and_fails_after_the_last_attempt)
{
    char                   status[16], code[32];
    unsigned               i;
    fixture_t              f;
    inbox_error_t          err;
    inbox_send_result_t    res;
    inbox_send_report_t    report;
    inbox_reply_result_t   a;
    inbox_ingest_result_t  alice;
    inbox_outbox_batch_t   batch;
    int64_t                now;

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 1, NULL), INBOX_OK);
    CHECK_INT(reply(&f, alice.conversation_id, "one", NULL, &a, NULL, NULL),
              INBOX_OK);
    now = inbox_now_ms();

    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_RETRY;
    snprintf(res.error_code, sizeof(res.error_code), "503");

    for (i = 1; i < INBOX_OUTBOX_ATTEMPTS_MAX; i++) {
        CHECK_INT(claim(&f, now, 1, &batch), 1);

        if (batch.count == 1) {
            CHECK_INT(batch.items[0].attempt, i);
            CHECK_INT(batch.items[0].interrupted, 0);
            CHECK_INT(inbox_store_outbox_result(f.store, batch.items[0].id,
                                                i, &res, now, &report, NULL,
                                                &err), INBOX_OK);
            CHECK_INT(report.done, 0);
            CHECK_INT(report.status, INBOX_DELIVERY_QUEUED);
            CHECK_INT(report.next_attempt_at,
                      now + inbox_outbox_backoff(i));
        }

        inbox_outbox_batch_free(&batch);

        /* not before its time */
        CHECK_INT(claim(&f, now + inbox_outbox_backoff(i) - 1, 1, &batch),
                  0);
        inbox_outbox_batch_free(&batch);
        now += inbox_outbox_backoff(i);
    }

    CHECK_INT(inbox_outbox_backoff(1), 5000);
    CHECK_INT(inbox_outbox_backoff(2), 10000);
    CHECK_INT(inbox_outbox_backoff(20), 600000);

    /* the last attempt's retry is a failure: the credit comes back */
    CHECK_INT(claim(&f, now, 1, &batch), 1);
    if (batch.count == 1) {
        CHECK_INT(batch.items[0].attempt, INBOX_OUTBOX_ATTEMPTS_MAX);
        CHECK_INT(inbox_store_outbox_result(f.store, batch.items[0].id,
                                            INBOX_OUTBOX_ATTEMPTS_MAX, &res,
                                            now, &report, NULL, &err),
                  INBOX_OK);
        CHECK_INT(report.done, 1);
        CHECK_INT(report.status, INBOX_DELIVERY_FAILED);
    }
    inbox_outbox_batch_free(&batch);

    status_of(&f, alice.conversation_id, a.message.id, status, code);
    CHECK_STR(status, "failed");
    CHECK_STR(code, "carrier_unavailable");
    CHECK_INT(balance_of(&f, f.org), 1);
    CHECK(ledger_balances(&f, f.org));

    inbox_reply_result_free(&a);
    fixture_close(&f);
}


TEST(a_hold_without_a_final_status_is_captured_after_its_time)
{
    size_t                 captured;
    fixture_t              f;
    inbox_error_t          err;
    inbox_send_result_t    res;
    inbox_send_report_t    report;
    inbox_reply_result_t   a, b;
    inbox_ingest_result_t  alice;
    inbox_ledger_entry_t   newest;
    int64_t                now, balance, held;

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 5, NULL), INBOX_OK);
    CHECK_INT(reply(&f, alice.conversation_id, "one", NULL, &a, NULL, NULL),
              INBOX_OK);
    now = inbox_now_ms();

    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_ACCEPTED;
    res.carrier = INBOX_CARRIER_TWILIO;
    snprintf(res.provider_id, sizeof(res.provider_id), "SMquiet");
    res.status = INBOX_DELIVERY_QUEUED;
    CHECK_INT(send_one(&f, now, &res, &report, NULL), 0);

    /* a second reply still in the outbox keeps its hold whatever its age */
    CHECK_INT(reply(&f, alice.conversation_id, "two", NULL, &b, NULL, NULL),
              INBOX_OK);
    CHECK_INT(held_of(&f, f.org), 2);

    CHECK_INT(inbox_store_holds_expire(f.store, now + 71 * HOUR, 0,
                                       &captured, &err), INBOX_OK);
    CHECK_INT(captured, 0);
    CHECK_INT(held_of(&f, f.org), 2);

    CHECK_INT(inbox_store_holds_expire(f.store, now + 72 * HOUR, 0,
                                       &captured, &err), INBOX_OK);
    CHECK_INT(captured, 1);
    CHECK_INT(held_of(&f, f.org), 1);
    CHECK_INT(balance_of(&f, f.org), 3);
    CHECK_INT(ledger_walk(&f, f.org, &balance, &held, &newest), 4);
    CHECK_INT(newest.kind, INBOX_LEDGER_CAPTURE);
    CHECK_STR(newest.message_id, a.message.id);

    /* once: a later delivery report changes the status, not the credits */
    CHECK_INT(inbox_store_holds_expire(f.store, now + 1000 * HOUR, 0,
                                       &captured, &err), INBOX_OK);
    CHECK_INT(captured, 0);
    CHECK_INT(inbox_store_message_status_update(f.store, f.org,
                  INBOX_CARRIER_TWILIO, "SMquiet", INBOX_DELIVERY_FAILED,
                  NULL, NULL, NULL, NULL, &err), INBOX_OK);
    CHECK_INT(balance_of(&f, f.org), 3);
    CHECK(ledger_balances(&f, f.org));

    /* a shorter bound, as configured */
    now = inbox_now_ms();
    snprintf(res.provider_id, sizeof(res.provider_id), "SMquiet2");
    CHECK_INT(send_one(&f, now, &res, &report, NULL), 0);
    CHECK_INT(inbox_store_holds_expire(f.store, now + HOUR, HOUR, &captured,
                                       &err), INBOX_OK);
    CHECK_INT(captured, 1);
    CHECK_INT(held_of(&f, f.org), 0);

    inbox_reply_result_free(&a);
    inbox_reply_result_free(&b);
    fixture_close(&f);
}


/* The carrier takes the one due reply, as provider_id, at now; 0 or -1. */
static int
carrier_took(fixture_t *f, int64_t now, const char *provider_id)
{
    inbox_send_result_t  res;
    inbox_send_report_t  report;

    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_ACCEPTED;
    res.carrier = INBOX_CARRIER_TWILIO;
    snprintf(res.provider_id, sizeof(res.provider_id), "%s", provider_id);
    res.status = INBOX_DELIVERY_QUEUED;

    return send_one(f, now, &res, &report, NULL);
}


/* What a status check claim at now hands out, after 10 minutes: how
 * many, their provider ids in order (space separated) into ids. */
static long
checks_due(fixture_t *f, int64_t now, unsigned limit, char *ids,
    size_t size, inbox_status_check_list_t *keep)
{
    size_t                     i, len;
    inbox_error_t              err;
    inbox_status_check_list_t  list;

    ids[0] = '\0';

    if (inbox_store_status_checks_claim(f->store, now, 10 * MINUTE, limit,
                                        &list, &err)
        != INBOX_OK)
    {
        fprintf(stderr, "    status checks: %s\n", err.message);
        return -1;
    }

    for (i = 0, len = 0; i < list.count && len < size; i++) {
        len += (size_t) snprintf(ids + len, size - len, "%s%s",
                                 i ? " " : "", list.items[i].provider_id);
    }

    if (keep != NULL) {
        *keep = list;
    } else {
        inbox_status_check_list_free(&list);
    }

    return (long) i;
}


TEST(a_message_without_a_final_status_is_asked_about_in_time)
{
    char                       ids[256];
    const char                *end[1];
    fixture_t                  f;
    inbox_error_t              err;
    inbox_reply_result_t       r;
    inbox_ingest_result_t      alice;
    inbox_status_check_t      *c;
    inbox_status_check_list_t  list;
    int64_t                    now;

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 20, NULL), INBOX_OK);
    /* ahead of the replies' time, so each is due when the carrier takes
     * it */
    now = inbox_now_ms() + MINUTE;

    /* three replies the carrier took a second apart; one still in the
     * outbox, which nobody asks a carrier about */
    CHECK_INT(reply(&f, alice.conversation_id, "one", NULL, &r, NULL, NULL),
              INBOX_OK);
    inbox_reply_result_free(&r);
    CHECK_INT(carrier_took(&f, now, "SMask1"), 0);
    CHECK_INT(reply(&f, alice.conversation_id, "two", NULL, &r, NULL, NULL),
              INBOX_OK);
    inbox_reply_result_free(&r);
    CHECK_INT(carrier_took(&f, now + 1000, "SMask2"), 0);
    CHECK_INT(reply(&f, alice.conversation_id, "three", NULL, &r, NULL,
                    NULL), INBOX_OK);
    inbox_reply_result_free(&r);
    CHECK_INT(carrier_took(&f, now + 2000, "SMask3"), 0);
    CHECK_INT(reply(&f, alice.conversation_id, "waits", NULL, &r, NULL,
                    NULL), INBOX_OK);

    /* the third was delivered: its report came, nobody asks */
    CHECK_INT(inbox_store_message_status_update(f.store, f.org,
                  INBOX_CARRIER_TWILIO, "SMask3", INBOX_DELIVERY_DELIVERED,
                  NULL, NULL, NULL, NULL, &err), INBOX_OK);

    /* not before ten minutes */
    CHECK_INT(checks_due(&f, now + 10 * MINUTE - 1, 10, ids, sizeof(ids),
                         NULL), 0);

    /* then oldest first, with the credentials to ask with */
    CHECK_INT(checks_due(&f, now + 10 * MINUTE + 1000, 10, ids, sizeof(ids),
                         &list), 2);
    CHECK_STR(ids, "SMask1 SMask2");
    if (list.count == 2) {
        c = &list.items[0];
        CHECK_INT(c->carrier, INBOX_CARRIER_TWILIO);
        CHECK_STR(c->org_id, f.org);
        CHECK_STR(c->campaign_id, "");
        CHECK(c->message_id[0] != '\0');
        CHECK_INT(c->submitted_at, now);
        CHECK_INT(c->last, 0);
        CHECK_STR(c->number.e164, NUMBER);
        CHECK_STR(c->number.auth_token, "secret");
        CHECK_STR(c->number.org_id, f.org);
    }
    inbox_status_check_list_free(&list);

    /* asked: not again at once, nor by a second sender */
    CHECK_INT(checks_due(&f, now + 10 * MINUTE + 1000, 10, ids, sizeof(ids),
                         NULL), 0);

    /* the second's report came meanwhile (a late callback) */
    CHECK_INT(inbox_store_message_status_update(f.store, f.org,
                  INBOX_CARRIER_TWILIO, "SMask2", INBOX_DELIVERY_FAILED,
                  "30003", NULL, NULL, NULL, &err), INBOX_OK);

    /* the first is asked again ten minutes later, and then further
     * apart: half its age */
    CHECK_INT(checks_due(&f, now + 20 * MINUTE + 999, 10, ids, sizeof(ids),
                         NULL), 0);
    CHECK_INT(checks_due(&f, now + 20 * MINUTE + 1000, 10, ids, sizeof(ids),
                         &list), 1);
    CHECK_STR(ids, "SMask1");
    CHECK_INT(checks_due(&f, now + 30 * MINUTE + 1499, 10, ids, sizeof(ids),
                         NULL), 0);
    CHECK_INT(checks_due(&f, now + 30 * MINUTE + 1500, 10, ids, sizeof(ids),
                         NULL), 1);
    CHECK_INT(checks_due(&f, now + 45 * MINUTE + 2249, 10, ids, sizeof(ids),
                         NULL), 0);
    CHECK_INT(checks_due(&f, now + 45 * MINUTE + 2250, 10, ids, sizeof(ids),
                         NULL), 1);

    /* the carrier said it will report nothing more: never again */
    if (list.count == 1) {
        end[0] = list.items[0].message_id;
        CHECK_INT(inbox_store_status_checks_end(f.store, end, 1, &err),
                  INBOX_OK);
    }
    inbox_status_check_list_free(&list);
    CHECK_INT(checks_due(&f, now + 71 * HOUR, 10, ids, sizeof(ids), NULL),
              0);

    inbox_reply_result_free(&r);
    fixture_close(&f);
}


/*
 * Two numbers of one carrier on two accounts: a message is asked about
 * with the credentials of the number it went from, whatever its thread's
 * number is now; the other account's would answer that it has no such
 * message.
 */
TEST(a_message_is_asked_about_with_the_credentials_it_went_from)
{
    char                       ids[256];
    fixture_t                  f;
    inbound_t                  m;
    inbox_number_t             second;
    inbox_reply_result_t       r;
    inbox_ingest_result_t      alice;
    inbox_status_check_list_t  list;
    int64_t                    now;

    FIXTURE(&f);

    memset(&second, 0, sizeof(second));
    snprintf(second.org_id, sizeof(second.org_id), "%s", f.org);
    snprintf(second.e164, sizeof(second.e164), "%s", NUMBER2);
    second.carrier = INBOX_CARRIER_TWILIO;
    second.account_sid = (char *) "AC00000000000000000000000000000002";
    second.auth_token = (char *) "second secret";
    CHECK_INT(inbox_store_number_add(f.store, &second, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 5, NULL), INBOX_OK);

    /* Alice texts the second number: the answer goes from it */
    inbound_init(&m, "SM1", ALICE, NUMBER2, "hi", T0);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &alice, NULL,
                                         NULL), INBOX_OK);
    CHECK_INT(reply(&f, alice.conversation_id, "hello", NULL, &r, NULL,
                    NULL), INBOX_OK);
    inbox_reply_result_free(&r);
    now = inbox_now_ms() + MINUTE;
    CHECK_INT(carrier_took(&f, now, "SMsecond"), 0);

    /* then the first: her thread's number is the first one now */
    CHECK_INT(receive(&f, "SM2", ALICE, "and again", T0 + 1, NULL, NULL),
              INBOX_OK);

    CHECK_INT(checks_due(&f, now + 10 * MINUTE, 10, ids, sizeof(ids),
                         &list), 1);
    CHECK_STR(ids, "SMsecond");
    if (list.count == 1) {
        CHECK_STR(list.items[0].number.e164, NUMBER2);
        CHECK_STR(list.items[0].number.account_sid,
                  "AC00000000000000000000000000000002");
        CHECK_STR(list.items[0].number.auth_token, "second secret");
    }
    inbox_status_check_list_free(&list);

    fixture_close(&f);
}


TEST(status_checks_end_after_three_days_and_take_a_bounded_batch)
{
    char                       ids[256], provider_id[16];
    unsigned                   i;
    fixture_t                  f;
    inbox_error_t              err;
    inbox_reply_result_t       r;
    inbox_ingest_result_t      alice;
    inbox_status_check_list_t  list;
    int64_t                    now;

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 20, NULL), INBOX_OK);
    /* ahead of the replies' time, so each is due when the carrier takes
     * it */
    now = inbox_now_ms() + MINUTE;

    for (i = 0; i < 5; i++) {
        CHECK_INT(reply(&f, alice.conversation_id, "hello", NULL, &r, NULL,
                        NULL), INBOX_OK);
        inbox_reply_result_free(&r);
        snprintf(provider_id, sizeof(provider_id), "SMold%u", i);
        CHECK_INT(carrier_took(&f, now + i, provider_id), 0);
    }

    /* a claim takes what it is asked for, the rest waits its turn */
    CHECK_INT(checks_due(&f, now + 71 * HOUR, 2, ids, sizeof(ids), NULL), 2);
    CHECK_STR(ids, "SMold0 SMold1");

    /* the last ask before three days: no other after it */
    CHECK_INT(checks_due(&f, now + 71 * HOUR, 1, ids, sizeof(ids), &list),
              1);
    CHECK_STR(ids, "SMold2");
    if (list.count == 1) {
        CHECK_INT(list.items[0].last, 1);
    }
    inbox_status_check_list_free(&list);

    /* never asked and older than three days: given up, whatever comes */
    CHECK_INT(checks_due(&f, now + 72 * HOUR + 10, 10, ids, sizeof(ids),
                         NULL), 0);
    CHECK_INT(checks_due(&f, now + 1000 * HOUR, 10, ids, sizeof(ids), NULL),
              0);

    /* nothing to claim: an empty list; a claim of none or too many is
     * refused */
    CHECK_INT(inbox_store_status_checks_claim(f.store, now, 0, 0, &list,
                                              &err), INBOX_ERR_INVALID);
    CHECK_INT(inbox_store_status_checks_claim(f.store, now, 0,
                                              INBOX_STATUS_CHECK_CLAIM_MAX + 1,
                                              &list, &err),
              INBOX_ERR_INVALID);
    CHECK_INT(inbox_store_status_checks_claim(f.store, now, 0, 10, &list,
                                              &err), INBOX_OK);
    CHECK_INT(list.count, 0);
    inbox_status_check_list_free(&list);

    fixture_close(&f);
}


/* An unknown outcome (outbox.h) of the one due reply, recorded at now
 * with events; 0 or -1. */
static int
outcome_lost(fixture_t *f, int64_t now, inbox_send_report_t *report,
    inbox_event_list_t *events)
{
    inbox_send_result_t  res;

    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_UNKNOWN;
    res.carrier = INBOX_CARRIER_TWILIO;

    return send_one(f, now, &res, report, events);
}


/* A Twilio callback of provider_id at status, its URL naming message
 * (NULL: none), for org; the report as the store answered it. */
static inbox_status_report_t
callback_naming(fixture_t *f, const char *org, const char *provider_id,
    inbox_delivery_t status, const char *message, inbox_event_list_t *events)
{
    inbox_error_t          err;
    inbox_status_report_t  r;

    memset(&r, 0, sizeof(r));
    r.org_id = org;
    r.carrier = INBOX_CARRIER_TWILIO;
    r.provider_id = provider_id;
    r.delivery = status;
    r.message_id = message;

    if (inbox_store_message_status_updates(f->store, &r, 1, events, &err)
        != INBOX_OK)
    {
        fprintf(stderr, "    status updates: %s\n", err.message);
        r.status = err.code;
    }

    return r;
}


/*
 * A send whose answer never came: the carrier may have it, so the
 * message stays sending with its credit held, is never asked about (no
 * carrier id to ask with), and waits for a callback whose URL names it.
 * That callback gives it the carrier's id and moves it as any callback
 * does; one naming it from another organization, another carrier's or
 * one naming a message that has a carrier id changes nothing.  One no
 * callback reaches is captured at the hold's expiry.
 */
TEST(an_unknown_outcome_keeps_its_hold_until_a_callback_naming_it)
{
    char                   status[16], code[32], ids[256];
    char                   other[INBOX_ID_MAX];
    size_t                 captured;
    fixture_t              f;
    inbox_error_t          err;
    inbox_event_list_t     events;
    inbox_send_report_t    report;
    inbox_status_report_t  r;
    inbox_reply_result_t   a, b, c;
    inbox_ingest_result_t  alice;
    inbox_ledger_entry_t   newest;
    int64_t                now, balance, held;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 5, NULL), INBOX_OK);
    CHECK_INT(reply(&f, alice.conversation_id, "one", NULL, &a, NULL, NULL),
              INBOX_OK);
    now = inbox_now_ms();

    CHECK_INT(outcome_lost(&f, now, &report, &events), 0);
    CHECK_STR(report.message_id, a.message.id);
    CHECK_INT(report.status, INBOX_DELIVERY_SENDING);
    status_of(&f, alice.conversation_id, a.message.id, status, code);
    CHECK_STR(status, "sending");
    CHECK_STR(code, INBOX_SEND_ERROR_UNKNOWN);
    CHECK_INT(balance_of(&f, f.org), 4);
    CHECK_INT(held_of(&f, f.org), 1);
    CHECK_INT(events.count, 1);
    if (events.count == 1) {
        CHECK(strstr(events.items[0].json, "\"status\":\"sending\"")
              != NULL);
        CHECK(strstr(events.items[0].json, "\"unknown_outcome\"") != NULL);
    }

    /* no carrier id to ask about */
    CHECK_INT(checks_due(&f, now + 20 * MINUTE, 10, ids, sizeof(ids), NULL),
              0);

    /* a callback of the other organization naming it, one of another
     * carrier, one that names nothing: each kept as an early report, the
     * message as it was */
    r = callback_naming(&f, other, "SMforged", INBOX_DELIVERY_FAILED,
                        a.message.id, &events);
    CHECK_INT(r.status, INBOX_OK);
    CHECK_INT(r.changed, 0);
    memset(&r, 0, sizeof(r));
    r.org_id = f.org;
    r.carrier = INBOX_CARRIER_TELNYX;
    r.provider_id = "40017a8c-0000-0000-0000-000000000001";
    r.delivery = INBOX_DELIVERY_DELIVERED;
    r.message_id = a.message.id;
    CHECK_INT(inbox_store_message_status_updates(f.store, &r, 1, &events,
                                                 &err), INBOX_OK);
    CHECK_INT(r.changed, 0);
    r = callback_naming(&f, f.org, "SMnamesnone", INBOX_DELIVERY_FAILED,
                        NULL, &events);
    CHECK_INT(r.changed, 0);
    status_of(&f, alice.conversation_id, a.message.id, status, code);
    CHECK_STR(status, "sending");
    CHECK_STR(code, INBOX_SEND_ERROR_UNKNOWN);
    CHECK_INT(held_of(&f, f.org), 1);
    CHECK_INT(events.count, 1);

    /* the carrier's own: the message takes its id, and is sent */
    r = callback_naming(&f, f.org, "SMlost", INBOX_DELIVERY_SENT,
                        a.message.id, &events);
    CHECK_INT(r.status, INBOX_OK);
    CHECK_INT(r.changed, 1);
    status_of(&f, alice.conversation_id, a.message.id, status, code);
    CHECK_STR(status, "sent");
    CHECK_STR(code, "");
    CHECK_INT(held_of(&f, f.org), 1);
    CHECK_INT(events.count, 2);
    if (events.count == 2) {
        CHECK(strstr(events.items[1].json, "\"status\":\"sent\"") != NULL);
        CHECK(strstr(events.items[1].json, a.message.id) != NULL);
    }

    /* asked about like any message the carrier took */
    CHECK_INT(checks_due(&f, now + 20 * MINUTE, 10, ids, sizeof(ids), NULL),
              1);
    CHECK_STR(ids, "SMlost");

    /* by its id from now on: delivered, the credit spent */
    r = callback_naming(&f, f.org, "SMlost", INBOX_DELIVERY_DELIVERED, NULL,
                        &events);
    CHECK_INT(r.changed, 1);
    status_of(&f, alice.conversation_id, a.message.id, status, code);
    CHECK_STR(status, "delivered");
    CHECK_INT(balance_of(&f, f.org), 4);
    CHECK_INT(held_of(&f, f.org), 0);
    CHECK_INT(ledger_walk(&f, f.org, &balance, &held, &newest), 3);
    CHECK_INT(newest.kind, INBOX_LEDGER_CAPTURE);
    CHECK_STR(newest.message_id, a.message.id);
    CHECK_INT(events.count, 3);

    /* a message with a carrier id is not taken by a callback naming it,
     * nor is one whose outcome is known */
    CHECK_INT(reply(&f, alice.conversation_id, "two", NULL, &b, NULL, NULL),
              INBOX_OK);
    CHECK_INT(carrier_took(&f, inbox_now_ms(), "SMtwo"), 0);
    r = callback_naming(&f, f.org, "SMnottwo", INBOX_DELIVERY_FAILED,
                        b.message.id, &events);
    CHECK_INT(r.changed, 0);
    r = callback_naming(&f, f.org, "SMnotone", INBOX_DELIVERY_FAILED,
                        a.message.id, &events);
    CHECK_INT(r.changed, 0);
    status_of(&f, alice.conversation_id, b.message.id, status, code);
    CHECK_STR(status, "queued");
    status_of(&f, alice.conversation_id, a.message.id, status, code);
    CHECK_STR(status, "delivered");
    CHECK_INT(events.count, 3);
    CHECK_INT(held_of(&f, f.org), 1);

    /* one no callback reaches keeps its hold until the hold's expiry,
     * then it is captured, as for a carrier that never confirms */
    CHECK_INT(reply(&f, alice.conversation_id, "three", NULL, &c, NULL,
                    NULL), INBOX_OK);
    now = inbox_now_ms();
    CHECK_INT(outcome_lost(&f, now, &report, &events), 0);
    CHECK_INT(held_of(&f, f.org), 2);
    CHECK_INT(inbox_store_holds_expire(f.store, now + 71 * HOUR, 0,
                                       &captured, &err), INBOX_OK);
    CHECK_INT(held_of(&f, f.org), 2);
    CHECK_INT(inbox_store_holds_expire(f.store, now + 72 * HOUR, 0,
                                       &captured, &err), INBOX_OK);
    CHECK_INT(captured, 2);                 /* and "two", never delivered */
    CHECK_INT(held_of(&f, f.org), 0);
    CHECK_INT(ledger_walk(&f, f.org, &balance, &held, &newest), 7);
    CHECK_INT(newest.kind, INBOX_LEDGER_CAPTURE);
    CHECK_STR(newest.message_id, c.message.id);
    status_of(&f, alice.conversation_id, c.message.id, status, code);
    CHECK_STR(status, "sending");
    CHECK_STR(code, INBOX_SEND_ERROR_UNKNOWN);
    CHECK_INT(balance_of(&f, f.org), 2);
    CHECK(ledger_balances(&f, f.org));

    inbox_reply_result_free(&a);
    inbox_reply_result_free(&b);
    inbox_reply_result_free(&c);
    inbox_event_list_free(&events);
    fixture_close(&f);
}


/*
 * The carrier's callbacks overtake the sender's record of an unknown
 * outcome (its request timed out while the carrier went on): kept, and
 * applied when the record comes, as if the carrier had answered with
 * their id.  A failure among them gives the credit back.
 */
TEST(an_unknown_outcome_recorded_after_callbacks_naming_it_takes_them)
{
    char                   status[16], code[32];
    fixture_t              f;
    inbox_event_list_t     events;
    inbox_send_report_t    report;
    inbox_status_report_t  r;
    inbox_reply_result_t   a, b;
    inbox_ingest_result_t  alice;
    inbox_ledger_entry_t   newest;
    int64_t                now, balance, held;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 5, NULL), INBOX_OK);
    CHECK_INT(reply(&f, alice.conversation_id, "one", NULL, &a, NULL, NULL),
              INBOX_OK);
    now = inbox_now_ms();

    r = callback_naming(&f, f.org, "SMfast", INBOX_DELIVERY_SENT,
                        a.message.id, &events);
    CHECK_INT(r.status, INBOX_OK);
    CHECK_INT(r.changed, 0);
    r = callback_naming(&f, f.org, "SMfast", INBOX_DELIVERY_DELIVERED,
                        a.message.id, &events);
    CHECK_INT(r.changed, 0);
    CHECK_INT(events.count, 0);

    /* one move, straight to delivered, its credit spent */
    CHECK_INT(outcome_lost(&f, now, &report, &events), 0);
    CHECK_INT(report.status, INBOX_DELIVERY_DELIVERED);
    status_of(&f, alice.conversation_id, a.message.id, status, code);
    CHECK_STR(status, "delivered");
    CHECK_STR(code, "");
    CHECK_INT(balance_of(&f, f.org), 4);
    CHECK_INT(held_of(&f, f.org), 0);
    CHECK_INT(ledger_walk(&f, f.org, &balance, &held, &newest), 3);
    CHECK_INT(newest.kind, INBOX_LEDGER_CAPTURE);
    CHECK_INT(events.count, 1);
    if (events.count == 1) {
        CHECK(strstr(events.items[0].json, "\"status\":\"delivered\"")
              != NULL);
    }

    /* taken once: a repeat by its id changes nothing */
    r = callback_naming(&f, f.org, "SMfast", INBOX_DELIVERY_DELIVERED,
                        a.message.id, &events);
    CHECK_INT(r.changed, 0);
    CHECK_INT(events.count, 1);

    /* undelivered: failed after all, the credit back */
    CHECK_INT(reply(&f, alice.conversation_id, "two", NULL, &b, NULL, NULL),
              INBOX_OK);
    r = callback_naming(&f, f.org, "SMgone", INBOX_DELIVERY_UNDELIVERED,
                        b.message.id, &events);
    CHECK_INT(r.changed, 0);
    CHECK_INT(outcome_lost(&f, inbox_now_ms(), &report, &events), 0);
    status_of(&f, alice.conversation_id, b.message.id, status, code);
    CHECK_STR(status, "undelivered");
    CHECK_INT(balance_of(&f, f.org), 4);
    CHECK_INT(held_of(&f, f.org), 0);
    CHECK(ledger_balances(&f, f.org));

    inbox_reply_result_free(&a);
    inbox_reply_result_free(&b);
    inbox_event_list_free(&events);
    fixture_close(&f);
}


TEST(billing_and_the_ledger_are_each_organizations_own)
{
    char                   other[INBOX_ID_MAX];
    long                   n;
    fixture_t              f;
    inbox_error_t          err;
    inbox_billing_t        b;
    inbox_ledger_page_t    page;
    inbox_ingest_result_t  alice;
    int64_t                balance, held, before;

    FIXTURE(&f);

    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);
    CHECK_INT(inbox_store_billing_get(f.store, f.org, &b, &err), INBOX_OK);
    CHECK_INT(b.active, 1);
    CHECK_STR(b.plan, "per_message");
    CHECK_INT(b.balance, 0);
    CHECK_INT(b.held, 0);

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 3, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 4, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, other, 100, NULL), INBOX_OK);
    CHECK_INT(reply(&f, alice.conversation_id, "a", NULL, NULL, NULL, NULL),
              INBOX_OK);
    CHECK_INT(reply(&f, alice.conversation_id, "b", NULL, NULL, NULL, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_billing_set(f.store, other, 0, NULL), INBOX_OK);

    CHECK_INT(inbox_store_billing_get(f.store, f.org, &b, &err), INBOX_OK);
    CHECK_INT(b.active, 1);
    CHECK_INT(b.balance, 5);
    CHECK_INT(b.held, 2);
    CHECK_INT(inbox_store_billing_get(f.store, other, &b, &err), INBOX_OK);
    CHECK_INT(b.active, 0);
    CHECK_INT(b.balance, 100);
    CHECK_INT(b.held, 0);

    /* four entries over two pages of two, one of one for the other */
    n = ledger_walk(&f, f.org, &balance, &held, NULL);
    CHECK_INT(n, 4);
    CHECK_INT(balance, 5);
    CHECK_INT(held, 2);
    CHECK_INT(ledger_walk(&f, other, &balance, &held, NULL), 1);
    CHECK_INT(balance, 100);

    CHECK_INT(inbox_store_ledger_list(f.store, f.org, "garbage!", 0, &page,
                                      &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "cursor");
    inbox_ledger_page_free(&page);
    CHECK_INT(inbox_store_ledger_list(f.store, f.backend->missing_id, NULL,
                                      0, &page, &err), INBOX_ERR_NOT_FOUND);
    inbox_ledger_page_free(&page);
    CHECK_INT(inbox_store_billing_get(f.store, f.backend->missing_id, &b,
                                      &err), INBOX_ERR_NOT_FOUND);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 0, &err),
              INBOX_ERR_INVALID);

    /* a mistyped grant is refused whole: the balance stays a count */
    before = balance_of(&f, f.org);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org,
                                        INBOX_CREDITS_GRANT_MAX + 1, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "credits");
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, INT64_MAX, NULL),
              INBOX_ERR_INVALID);
    CHECK_INT(balance_of(&f, f.org), before);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org,
                                        INBOX_CREDITS_GRANT_MAX, NULL),
              INBOX_OK);
    CHECK_INT(balance_of(&f, f.org), before + INBOX_CREDITS_GRANT_MAX);
    CHECK(ledger_balances(&f, f.org));

    fixture_close(&f);
}




/* notices: a keyword's answer */


/* What the test organization's keywords are answered with. */
#define STOP_ANSWER                                                         \
    "Acme: you are unsubscribed and will get no further messages. Reply " \
    "START to resubscribe."
#define START_ANSWER                                                        \
    "Acme: you are subscribed again. Reply HELP for help, STOP to "       \
    "unsubscribe."
#define HELP_ANSWER                                                         \
    "Acme: for help, reply to this message. Reply STOP to unsubscribe."



TEST(a_keyword_notice_is_queued_free_even_to_an_opted_out_contact)
{
    char                   other[INBOX_ID_MAX], id[INBOX_ID_MAX];
    char                   conv[INBOX_ID_MAX];
    fixture_t              f;
    inbox_error_t          err;
    inbox_number_t         number;
    inbox_event_list_t     events;
    inbox_send_result_t    res;
    inbox_reply_result_t   result;
    inbox_outbox_batch_t   batch;
    inbox_ingest_result_t  stop, retry, theirs;
    inbox_message_page_t   page;
    inbox_contact_record_t contact;
    inbound_t              m;
    int64_t                seq, balance, held;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);

    /* a second number: the answer goes from the one texted */
    memset(&number, 0, sizeof(number));
    snprintf(number.org_id, sizeof(number.org_id), "%s", f.org);
    snprintf(number.e164, sizeof(number.e164), "%s", NUMBER2);
    number.carrier = INBOX_CARRIER_TWILIO;
    number.auth_token = (char *) "secret";
    CHECK_INT(inbox_store_number_add(f.store, &number, NULL), INBOX_OK);

    /* no credits and billing off: a notice costs nothing all the same */
    CHECK_INT(inbox_store_billing_set(f.store, f.org, 0, NULL), INBOX_OK);

    /* the STOP's answer is queued in the STOP's own commit */
    inbound_init(&m, "SM1", ALICE, NUMBER2, "STOP", T0);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &stop, &events,
                                         NULL), INBOX_OK);
    CHECK_INT(stop.keyword, INBOX_KEYWORD_OPT_OUT);
    CHECK_INT(stop.opt_changed, 1);
    CHECK_INT(stop.answered, 1);
    CHECK_STR(stop.org_id, f.org);
    CHECK_INT(list_count(&f, INBOX_FILTER_UNRESPONDED, NULL), 0);

    /* pushed like a reply, after the message's own events */
    CHECK_INT(events.count, 6);
    if (events.count == 6) {
        CHECK(strstr(events.items[4].json, "\"type\":\"message.created\"")
              != NULL);
        CHECK(strstr(events.items[4].json, "\"credits\":0") != NULL);
        CHECK(strstr(events.items[5].json,
                     "\"type\":\"conversation.updated\"") != NULL);
    }
    /* after billing set's billing.updated */
    CHECK_INT(org_seq(&f, f.org), 7);
    inbox_event_list_free(&events);

    /* a carrier's retry of the STOP asks for nothing more */
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &retry, &events,
                                         NULL), INBOX_OK);
    CHECK_INT(retry.duplicate, 1);
    CHECK_INT(retry.keyword, INBOX_KEYWORD_NONE);
    CHECK_INT(retry.opt_changed, 0);
    CHECK_INT(retry.answered, 0);
    CHECK_INT(events.count, 0);
    CHECK_INT(message_count(&f, stop.conversation_id), 2);

    /* the thread shows it, last; the contact stays opted out */
    CHECK_INT(inbox_store_messages_list(f.store, f.org, stop.conversation_id,
                                        NULL, 0, &page, NULL), INBOX_OK);
    CHECK_INT(page.count, 2);
    if (page.count == 2) {
        CHECK_INT(page.items[0].direction, INBOX_OUTBOUND);
        CHECK_STR(page.items[0].body, STOP_ANSWER);
        CHECK_STR(page.items[0].status, "queued");
        CHECK_INT(page.items[0].credits, 0);
        CHECK_INT(page.items[0].segments, 1);
        CHECK_STR(page.items[0].sent_by, "");
        CHECK_STR(page.items[1].body, "STOP");
    }
    inbox_message_page_free(&page);
    CHECK(contact_of(&f, ALICE, id, conv));
    CHECK_INT(inbox_store_contact_get(f.store, f.org, id, &contact, NULL),
              INBOX_OK);
    CHECK(contact.opted_out);
    inbox_contact_record_free(&contact);

    /* nothing spent, nothing held, no ledger entry */
    CHECK_INT(balance_of(&f, f.org), 0);
    CHECK_INT(held_of(&f, f.org), 0);
    CHECK_INT(ledger_walk(&f, f.org, &balance, &held, NULL), 0);

    /* the sender gets it first, from the number texted, to the contact */
    CHECK_INT(claim(&f, inbox_now_ms(), 10, &batch), 1);
    if (batch.count == 1) {
        CHECK_INT(batch.items[0].priority, INBOX_OUTBOX_NOTICE);
        CHECK_STR(batch.items[0].to, ALICE);
        CHECK_STR(batch.items[0].number.e164, NUMBER2);
        CHECK_INT(batch.items[0].message.credits, 0);

        /* refused: failed, and no credits come back from nowhere */
        memset(&res, 0, sizeof(res));
        res.outcome = INBOX_SEND_REFUSED;
        res.carrier = INBOX_CARRIER_TWILIO;
        CHECK_INT(inbox_store_outbox_result(f.store, batch.items[0].id,
                                            batch.items[0].attempt, &res,
                                            inbox_now_ms(), NULL, NULL,
                                            NULL), INBOX_OK);
    }
    inbox_outbox_batch_free(&batch);
    CHECK_INT(balance_of(&f, f.org), 0);
    CHECK_INT(held_of(&f, f.org), 0);
    CHECK_INT(ledger_walk(&f, f.org, &balance, &held, NULL), 0);

    /* inbox_store_outbox_notice queues one the same way */
    seq = org_seq(&f, f.org);
    CHECK_INT(inbox_store_outbox_notice(f.store, f.org,
                                        stop.conversation_id, NUMBER2,
                                        "Acme: you will get no more "
                                        "messages. Text START to opt back "
                                        "in.", &result, &events, &err),
              INBOX_OK);
    CHECK(result.message.id[0] != '\0');
    CHECK_INT(result.repeated, 0);
    CHECK_STR(result.message.conversation_id, stop.conversation_id);
    CHECK_INT(result.message.direction, INBOX_OUTBOUND);
    CHECK_STR(result.message.status, "queued");
    CHECK_INT(result.message.credits, 0);
    CHECK_STR(result.message.sent_by, "");
    CHECK_STR(result.conversation.last_message.id, result.message.id);
    CHECK(result.conversation.contact.opted_out);
    CHECK_INT(events.count, 2);
    CHECK_INT(org_seq(&f, f.org), seq + 2);
    CHECK_INT(claim(&f, inbox_now_ms(), 10, &batch), 1);
    if (batch.count == 1) {
        CHECK_STR(batch.items[0].message.id, result.message.id);
        CHECK_STR(batch.items[0].number.e164, NUMBER2);
    }
    inbox_outbox_batch_free(&batch);

    /* a reply to the contact is refused as ever */
    CHECK_INT(inbox_store_billing_set(f.store, f.org, 1, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 1, NULL), INBOX_OK);
    inbox_reply_result_free(&result);
    CHECK_INT(reply(&f, stop.conversation_id, "wait", NULL, &result, NULL,
                    &err), INBOX_ERR_CONTACT_OPTED_OUT);

    /* without a number named: the organization's first */
    CHECK_INT(inbox_store_outbox_notice(f.store, f.org,
                                        stop.conversation_id, NULL,
                                        "Acme: reply STOP to opt out.",
                                        &result, NULL, &err), INBOX_OK);
    CHECK_INT(claim(&f, inbox_now_ms(), 10, &batch), 1);
    if (batch.count == 1) {
        CHECK_STR(batch.items[0].number.e164, NUMBER);
    }
    inbox_outbox_batch_free(&batch);
    inbox_reply_result_free(&result);

    inbox_event_list_free(&events);
    fixture_close(&f);

    /* refusals store nothing */
    FIXTURE(&f);
    memset(&events, 0, sizeof(events));
    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);
    CHECK_INT(receive(&f, "SM1", ALICE, "HELP", T0, &stop, NULL), INBOX_OK);
    CHECK_INT(stop.keyword, INBOX_KEYWORD_HELP);
    inbound_init(&m, "SM2", ALICE, OTHER, "hi", T0);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &theirs, NULL,
                                         NULL), INBOX_OK);
    seq = org_seq(&f, f.org);

    CHECK_INT(inbox_store_outbox_notice(f.store, f.org,
                                        stop.conversation_id, NULL, " \n",
                                        &result, &events, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "body");
    CHECK_INT(inbox_store_outbox_notice(f.store, f.org,
                                        theirs.conversation_id, NULL, "hi",
                                        &result, &events, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(inbox_store_outbox_notice(f.store, f.org,
                                        f.backend->missing_id, NULL, "hi",
                                        &result, &events, &err),
              INBOX_ERR_NOT_FOUND);
    /* another organization's number is none of this one's */
    CHECK_INT(inbox_store_outbox_notice(f.store, f.org,
                                        stop.conversation_id, OTHER, "hi",
                                        &result, &events, &err),
              INBOX_ERR_CONFLICT);
    CHECK_STR(result.message.id, "");

    CHECK_INT(events.count, 0);
    CHECK_INT(org_seq(&f, f.org), seq);
    /* the HELP and its answer, the one thing queued */
    CHECK_INT(message_count(&f, stop.conversation_id), 2);
    CHECK_INT(claim(&f, inbox_now_ms() + HOUR, 10, &batch), 1);
    inbox_outbox_batch_free(&batch);

    fixture_close(&f);
}


/* The number a reply goes from: of the claimed entry of message_id, ""
 * when the claim has none. */
static void
claimed_from(fixture_t *f, const char *message_id, char e164[INBOX_PHONE_MAX])
{
    size_t                i;
    inbox_outbox_batch_t  batch;

    e164[0] = '\0';

    if (claim(f, inbox_now_ms(), 10, &batch) < 0) {
        return;
    }

    for (i = 0; i < batch.count; i++) {
        if (strcmp(batch.items[i].message.id, message_id) == 0) {
            snprintf(e164, INBOX_PHONE_MAX, "%s", batch.items[i].number.e164);
        }
    }

    inbox_outbox_batch_free(&batch);
}


TEST(a_reply_goes_from_the_number_its_contact_last_texted)
{
    char                   id[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    char                   from[INBOX_PHONE_MAX];
    fixture_t              f;
    inbox_number_t         number;
    inbox_reply_result_t   result;
    inbox_ingest_result_t  alice, bob;
    inbound_t              m;

    FIXTURE(&f);

    memset(&number, 0, sizeof(number));
    snprintf(number.org_id, sizeof(number.org_id), "%s", f.org);
    snprintf(number.e164, sizeof(number.e164), "%s", NUMBER2);
    number.carrier = INBOX_CARRIER_TWILIO;
    number.auth_token = (char *) "secret";
    CHECK_INT(inbox_store_number_add(f.store, &number, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);

    /* texted the second number: answered from it, not from the first */
    inbound_init(&m, "SM1", ALICE, NUMBER2, "hi", T0);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &alice, NULL,
                                         NULL), INBOX_OK);
    CHECK_INT(reply(&f, alice.conversation_id, "hello", NULL, &result, NULL,
                    NULL), INBOX_OK);
    claimed_from(&f, result.message.id, from);
    CHECK_STR(from, NUMBER2);
    inbox_reply_result_free(&result);

    /* then the first: the number last texted */
    CHECK_INT(receive(&f, "SM2", ALICE, "me again", T0 + MINUTE, NULL, NULL),
              INBOX_OK);
    CHECK_INT(reply(&f, alice.conversation_id, "yes?", NULL, &result, NULL,
                    NULL), INBOX_OK);
    claimed_from(&f, result.message.id, from);
    CHECK_STR(from, NUMBER);
    inbox_reply_result_free(&result);

    /* a thread whose contact never texted: the organization's first */
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, BOB, "Bob", id,
                                         NULL), INBOX_OK);
    CHECK(contact_of(&f, BOB, id, conv));
    CHECK_INT(reply(&f, conv, "welcome", NULL, &result, NULL, NULL),
              INBOX_OK);
    claimed_from(&f, result.message.id, from);
    CHECK_STR(from, NUMBER);
    inbox_reply_result_free(&result);

    /* a number the organization no longer has: its first */
    inbound_init(&m, "SM3", BOB, NUMBER2, "hi", T0 + 2 * MINUTE);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &bob, NULL,
                                         NULL), INBOX_OK);
    CHECK_STR(bob.conversation_id, conv);
    CHECK_INT(f.backend->number_remove(&f, NUMBER2), 0);
    CHECK_INT(reply(&f, conv, "noted", NULL, &result, NULL, NULL), INBOX_OK);
    claimed_from(&f, result.message.id, from);
    CHECK_STR(from, NUMBER);
    inbox_reply_result_free(&result);

    fixture_close(&f);
}


/* What inboxctl number remove does: a number given up once nothing
 * waits to go from it, its threads answered from the first number. */
TEST(a_number_is_removed_once_nothing_waits_to_go_from_it)
{
    char                   other[INBOX_ID_MAX], from[INBOX_PHONE_MAX];
    int64_t                waiting;
    fixture_t              f;
    inbound_t              m;
    inbox_error_t          err;
    inbox_number_t         number;
    inbox_send_result_t    res;
    inbox_number_list_t    list;
    inbox_reply_result_t   result;
    inbox_ingest_result_t  alice;

    FIXTURE(&f);

    memset(&number, 0, sizeof(number));
    snprintf(number.org_id, sizeof(number.org_id), "%s", f.org);
    snprintf(number.e164, sizeof(number.e164), "%s", NUMBER2);
    number.carrier = INBOX_CARRIER_TWILIO;
    number.auth_token = (char *) "secret";
    CHECK_INT(inbox_store_number_add(f.store, &number, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);
    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);

    /* a reply waits to go from the second number */
    inbound_init(&m, "SM1", ALICE, NUMBER2, "hi", T0);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &alice, NULL,
                                         NULL), INBOX_OK);
    CHECK_INT(reply(&f, alice.conversation_id, "hello", NULL, &result, NULL,
                    NULL), INBOX_OK);
    inbox_reply_result_free(&result);

    /* only the organization's own numbers */
    CHECK_INT(inbox_store_number_remove(f.store, other, NUMBER2, &waiting,
                                        &err), INBOX_ERR_NOT_FOUND);
    CHECK_INT(inbox_store_number_remove(f.store, f.org, OTHER, &waiting,
                                        &err), INBOX_ERR_NOT_FOUND);
    CHECK_INT(inbox_store_number_remove(f.store, f.org, "+15559990000",
                                        &waiting, &err), INBOX_ERR_NOT_FOUND);
    CHECK_STR(err.message, "The organization has no number +15559990000.");
    CHECK_INT(inbox_store_number_remove(f.store, f.backend->missing_id,
                                        NUMBER2, &waiting, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK(strstr(err.message, "There is no organization with the id")
          != NULL);

    /* not while the reply waits: it would fail instead of going */
    CHECK_INT(inbox_store_number_remove(f.store, f.org, NUMBER2, &waiting,
                                        &err), INBOX_ERR_CONFLICT);
    CHECK_INT(waiting, 1);
    CHECK(strstr(err.message, "1 message still waits to go from " NUMBER2)
          != NULL);
    CHECK_INT(inbox_store_number_find(f.store, NUMBER2, &number, NULL),
              INBOX_OK);
    inbox_number_free(&number);

    /* sent: it goes */
    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_ACCEPTED;
    res.carrier = INBOX_CARRIER_TWILIO;
    snprintf(res.provider_id, sizeof(res.provider_id),
             "SM00000000000000000000000000000001");
    res.status = INBOX_DELIVERY_QUEUED;
    CHECK_INT(send_one(&f, inbox_now_ms(), &res, NULL, NULL), 0);
    CHECK_INT(inbox_store_number_remove(f.store, f.org, NUMBER2, &waiting,
                                        &err), INBOX_OK);
    CHECK_INT(waiting, 0);
    CHECK_INT(inbox_store_number_find(f.store, NUMBER2, &number, NULL),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(inbox_store_numbers_list(f.store, f.org, &list, NULL),
              INBOX_OK);
    CHECK_INT(list.count, 1);
    CHECK_STR(list.count == 1 ? list.items[0].e164 : "", NUMBER);
    inbox_number_list_free(&list);
    CHECK_INT(inbox_store_number_remove(f.store, f.org, NUMBER2, &waiting,
                                        &err), INBOX_ERR_NOT_FOUND);

    /* Alice's thread is answered from the first number now */
    CHECK_INT(reply(&f, alice.conversation_id, "still here", NULL, &result,
                    NULL, NULL), INBOX_OK);
    claimed_from(&f, result.message.id, from);
    CHECK_STR(from, NUMBER);
    inbox_reply_result_free(&result);

    fixture_close(&f);
}


/* Every test once per backend: SQLite always, MongoDB when a server is
 * named. */
/*
 * Opt-out, opt-in and settings (optout.h, settings.h)
 */

/* How many events of the list are of type; -1 if one is not JSON. */
static int
events_of(const inbox_event_list_t *events, const char *type)
{
    int     n;
    char    needle[64];
    size_t  i;

    snprintf(needle, sizeof(needle), "\"type\":\"%s\"", type);

    for (i = 0, n = 0; i < events->count; i++) {
        if (strstr(events->items[i].json, needle) != NULL) {
            n++;
        }
    }

    return n;
}


/* The frame of the first event of type, or "". */
static const char *
event_frame(const inbox_event_list_t *events, const char *type)
{
    char    needle[64];
    size_t  i;

    snprintf(needle, sizeof(needle), "\"type\":\"%s\"", type);

    for (i = 0; i < events->count; i++) {
        if (strstr(events->items[i].json, needle) != NULL) {
            return events->items[i].json;
        }
    }

    return "";
}


/* A whole timeline, limit entries a page, as one line: "message:BODY" or
 * "opt_out:SOURCE:KEYWORD" / "opt_in:KEYWORD" each, newest first, then
 * ";"; -1 on failure, else the number of pages. */
static int
timeline_walk(fixture_t *f, const char *contact, unsigned limit, char *out,
    size_t size)
{
    int                    pages;
    char                   cursor[INBOX_TIMELINE_CURSOR_MAX];
    size_t                 i, used;
    inbox_timeline_page_t  page;
    const inbox_timeline_item_t  *it;

    out[0] = '\0';
    cursor[0] = '\0';
    used = 0;

    for (pages = 1; pages < 100; pages++) {
        if (inbox_store_contact_timeline(f->store, f->org, contact, cursor,
                                         limit, &page, NULL) != INBOX_OK)
        {
            return -1;
        }

        for (i = 0; i < page.count && used < size; i++) {
            it = &page.items[i];

            if (it->type == INBOX_TIMELINE_MESSAGE) {
                used += snprintf(out + used, size - used, "message:%s;",
                                 it->message.body);
            } else if (it->type == INBOX_TIMELINE_OPT_OUT) {
                used += snprintf(out + used, size - used, "opt_out:%s:%s;",
                                 it->event.source, it->event.keyword);
            } else {
                used += snprintf(out + used, size - used, "opt_in:%s;",
                                 it->event.keyword);
            }
        }

        snprintf(cursor, sizeof(cursor), "%s", page.next_cursor);

        /* a page is full unless it is the last */
        if (page.count < limit && cursor[0] != '\0') {
            inbox_timeline_page_free(&page);
            return -1;
        }

        inbox_timeline_page_free(&page);

        if (cursor[0] == '\0') {
            return pages;
        }
    }

    return -1;
}


TEST(a_manual_opt_out_is_kept_pushed_and_in_the_timeline)
{
    char                    id[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    char                    line[512];
    int64_t                 seq;
    fixture_t               f;
    inbox_event_list_t      events;
    inbox_conversation_t    c;
    inbox_contact_record_t  contact, got;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, NULL, NULL), INBOX_OK);
    CHECK(contact_of(&f, ALICE, id, conv));
    seq = org_seq(&f, f.org);

    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, id,
                                          INBOX_OPT_OUT_MANUAL, "STOP",
                                          T0 + MINUTE, 0, &contact, &events,
                                          NULL), INBOX_OK);
    CHECK_INT(contact.opted_out, 1);
    CHECK_INT(contact.opted_out_at, T0 + MINUTE);
    CHECK_STR(contact.opt_out_source, "manual");
    CHECK_STR(contact.opt_out_keyword, "");      /* by hand: no keyword */
    CHECK_STR(contact.conversation_id, conv);
    inbox_contact_record_free(&contact);

    /* contact.updated, then the thread as every list shows it now */
    CHECK_INT(events.count, 2);
    CHECK_INT(events_of(&events, "contact.updated"), 1);
    CHECK_INT(events_of(&events, "conversation.updated"), 1);
    CHECK(strstr(event_frame(&events, "contact.updated"),
                 "\"opted_out\":true,\"opted_out_at\":"
                 "\"2026-01-01T00:01:00.000Z\",\"opt_out_source\":"
                 "\"manual\"") != NULL);
    CHECK(strstr(event_frame(&events, "conversation.updated"),
                 "\"opted_out\":true") != NULL);
    CHECK_INT(org_seq(&f, f.org), seq + 2);
    if (events.count == 2) {
        CHECK_INT(events.items[0].org_seq, seq + 1);
        CHECK_STR(events.items[0].org_id, f.org);
    }
    inbox_event_list_free(&events);

    CHECK_INT(inbox_store_conversation_get(f.store, f.org, conv, &c, NULL),
              INBOX_OK);
    CHECK_INT(c.contact.opted_out, 1);
    inbox_conversation_free(&c);

    /* once is enough: a second opt-out (of any source) changes nothing */
    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, id,
                                          INBOX_OPT_OUT_CARRIER, NULL,
                                          T0 + 2 * MINUTE, 0, &contact,
                                          &events, NULL), INBOX_OK);
    CHECK_INT(events.count, 0);
    CHECK_INT(org_seq(&f, f.org), seq + 2);
    CHECK_STR(contact.opt_out_source, "manual");
    CHECK_INT(contact.opted_out_at, T0 + MINUTE);
    inbox_contact_record_free(&contact);

    CHECK_INT(inbox_store_contact_get(f.store, f.org, id, &got, NULL),
              INBOX_OK);
    CHECK_INT(got.opted_out, 1);
    CHECK_STR(got.opt_out_source, "manual");
    CHECK_INT(got.opted_out_at, T0 + MINUTE);
    inbox_contact_record_free(&got);

    CHECK_INT(timeline_walk(&f, id, 50, line, sizeof(line)), 1);
    CHECK_STR(line, "opt_out:manual:;message:hello;");

    fixture_close(&f);
}


/*
 * A carrier's webhooks out of order: a STOP sent after a START arrives
 * first.  The START is stored and shown, but the contact stays opted out
 * and nothing confirms it; a START sent later still opts back in.
 */
TEST(a_start_sent_before_a_stop_that_arrived_first_changes_nothing)
{
    char                    id[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    fixture_t               f;
    inbox_ingest_result_t   r;
    inbox_contact_record_t  got;

    FIXTURE(&f);

    CHECK_INT(receive_sent(&f, "TX1", ALICE, "STOP", T0 + 10000, T0 + 5000,
                           &r), INBOX_OK);
    CHECK_INT(r.opt_changed, 1);
    CHECK_INT(r.answered, 1);
    CHECK(contact_of(&f, ALICE, id, conv));

    CHECK_INT(receive_sent(&f, "TX2", ALICE, "START", T0 + 20000, T0, &r),
              INBOX_OK);
    CHECK_INT(r.status, INBOX_OK);
    CHECK_INT(r.keyword, INBOX_KEYWORD_OPT_IN);
    CHECK_INT(r.opt_changed, 0);
    CHECK_INT(r.answered, 0);

    CHECK_INT(inbox_store_contact_get(f.store, f.org, id, &got, NULL),
              INBOX_OK);
    CHECK_INT(got.opted_out, 1);
    CHECK_INT(got.opted_out_at, T0 + 10000);
    CHECK_STR(got.opt_out_source, "keyword");
    inbox_contact_record_free(&got);

    /* both messages in the thread, and the STOP's answer */
    CHECK_INT(message_count(&f, conv), 3);

    /* a STOP sent between them, arriving last: older news too (the
     * newest is the first STOP, even though it changes nothing) */
    CHECK_INT(receive_sent(&f, "TX3", ALICE, "STOP", T0 + 30000, T0 + 3000,
                           &r), INBOX_OK);
    CHECK_INT(r.opt_changed, 0);
    CHECK_INT(r.answered, 0);

    /* a START sent after the STOP opts back in, answered */
    CHECK_INT(receive_sent(&f, "TX4", ALICE, "START", T0 + 40000, T0 + 35000,
                           &r), INBOX_OK);
    CHECK_INT(r.opt_changed, 1);
    CHECK_INT(r.answered, 1);
    CHECK_INT(inbox_store_contact_get(f.store, f.org, id, &got, NULL),
              INBOX_OK);
    CHECK_INT(got.opted_out, 0);
    inbox_contact_record_free(&got);

    fixture_close(&f);
}


/*
 * A person's opt-out is news at its own time: a START the contact sent
 * before it and that arrives after it does not undo it, whether the
 * contact was opted in or out by a STOP already.
 */
TEST(a_start_sent_before_a_persons_opt_out_does_not_undo_it)
{
    char                    id[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    fixture_t               f;
    inbox_ingest_result_t   r;
    inbox_contact_record_t  got;

    FIXTURE(&f);

    CHECK_INT(receive_sent(&f, "TX1", ALICE, "hello", T0, T0, &r),
              INBOX_OK);
    CHECK(contact_of(&f, ALICE, id, conv));
    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, id,
                                          INBOX_OPT_OUT_MANUAL, NULL,
                                          T0 + 10000, 0, NULL, NULL, NULL),
              INBOX_OK);

    CHECK_INT(receive_sent(&f, "TX2", ALICE, "START", T0 + 20000, T0 + 3000,
                           &r), INBOX_OK);
    CHECK_INT(r.opt_changed, 0);
    CHECK_INT(r.answered, 0);
    CHECK_INT(inbox_store_contact_get(f.store, f.org, id, &got, NULL),
              INBOX_OK);
    CHECK_INT(got.opted_out, 1);
    CHECK_STR(got.opt_out_source, "manual");
    inbox_contact_record_free(&got);

    /* opted out by a STOP at T0, by a person again at T0 + 10 s: the
     * START sent between them stays older news */
    CHECK_INT(receive_sent(&f, "TX3", BOB, "STOP", T0 + 1000, T0, &r),
              INBOX_OK);
    CHECK_INT(r.opt_changed, 1);
    CHECK(contact_of(&f, BOB, id, conv));
    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, id,
                                          INBOX_OPT_OUT_MANUAL, NULL,
                                          T0 + 10000, 0, NULL, NULL, NULL),
              INBOX_OK);
    CHECK_INT(receive_sent(&f, "TX4", BOB, "START", T0 + 20000, T0 + 3000,
                           &r), INBOX_OK);
    CHECK_INT(r.opt_changed, 0);
    CHECK_INT(inbox_store_contact_get(f.store, f.org, id, &got, NULL),
              INBOX_OK);
    CHECK_INT(got.opted_out, 1);
    CHECK_STR(got.opt_out_source, "keyword");
    inbox_contact_record_free(&got);

    fixture_close(&f);
}


TEST(stop_opts_out_with_its_message_and_start_opts_back_in)
{
    char                    id[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    char                    line[1024];
    int64_t                 seq;
    fixture_t               f;
    inbox_event_list_t      events;
    inbox_ingest_result_t   r;
    inbox_contact_record_t  got;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    /* the whole message, trimmed and in any case */
    CHECK_INT(receive(&f, "SM1", ALICE, "  Stop  ", T0, &r, &events),
              INBOX_OK);
    CHECK_INT(r.status, INBOX_OK);
    CHECK_INT(r.keyword, INBOX_KEYWORD_OPT_OUT);
    CHECK_INT(r.opt_changed, 1);
    CHECK_STR(r.org_id, f.org);
    CHECK(contact_of(&f, ALICE, id, conv));

    /* the message's events, then contact.updated, then its answer's, in
     * that order: all of one commit */
    CHECK_INT(events.count, 6);
    if (events.count == 6) {
        CHECK(strstr(events.items[0].json, "\"message.created\"") != NULL);
        CHECK(strstr(events.items[1].json, "\"conversation.updated\"")
              != NULL);
        CHECK(strstr(events.items[1].json, "\"opted_out\":true") != NULL);
        CHECK(strstr(events.items[2].json, "\"unread.total\"") != NULL);
        CHECK(strstr(events.items[3].json, "\"contact.updated\"") != NULL);
        CHECK(strstr(events.items[3].json, "\"opt_out_keyword\":\"STOP\"")
              != NULL);
        CHECK(strstr(events.items[4].json, "\"message.created\"") != NULL);
        CHECK(strstr(events.items[4].json, "\"direction\":\"outbound\"")
              != NULL);
        CHECK(strstr(events.items[5].json, "\"conversation.updated\"")
              != NULL);
        CHECK_INT(events.items[5].org_seq, 6);
    }
    CHECK_INT(org_seq(&f, f.org), 6);
    inbox_event_list_free(&events);

    /* the message still lands in the inbox, its answer after it */
    CHECK_INT(r.answered, 1);
    CHECK_INT(message_count(&f, conv), 2);
    CHECK_INT(unread_count(&f, conv), 1);

    CHECK_INT(inbox_store_contact_get(f.store, f.org, id, &got, NULL),
              INBOX_OK);
    CHECK_INT(got.opted_out, 1);
    CHECK_INT(got.opted_out_at, T0);
    CHECK_STR(got.opt_out_source, "keyword");
    CHECK_STR(got.opt_out_keyword, "STOP");
    inbox_contact_record_free(&got);

    /* a repeated STOP changes nothing; "STOP please" is no keyword */
    CHECK_INT(receive(&f, "SM2", ALICE, "STOP", T0 + MINUTE, &r, &events),
              INBOX_OK);
    CHECK_INT(r.keyword, INBOX_KEYWORD_OPT_OUT);
    CHECK_INT(r.opt_changed, 0);
    CHECK_INT(r.answered, 0);
    CHECK_INT(events.count, 3);
    CHECK_INT(events_of(&events, "contact.updated"), 0);
    inbox_event_list_free(&events);

    CHECK_INT(receive(&f, "SM3", ALICE, "STOP please", T0 + 2 * MINUTE, &r,
                      NULL), INBOX_OK);
    CHECK_INT(r.keyword, INBOX_KEYWORD_NONE);
    CHECK_INT(r.opt_changed, 0);

    CHECK_INT(receive(&f, "SM4", ALICE, "help", T0 + 3 * MINUTE, &r, NULL),
              INBOX_OK);
    CHECK_INT(r.keyword, INBOX_KEYWORD_HELP);
    CHECK_INT(r.opt_changed, 0);
    CHECK_INT(r.answered, 1);

    /* START opts back in, with its own events and its answer's */
    seq = org_seq(&f, f.org);
    CHECK_INT(receive(&f, "SM5", ALICE, "start", T0 + 4 * MINUTE, &r,
                      &events), INBOX_OK);
    CHECK_INT(r.keyword, INBOX_KEYWORD_OPT_IN);
    CHECK_INT(r.opt_changed, 1);
    CHECK_INT(r.answered, 1);
    CHECK_INT(events.count, 6);
    CHECK(strstr(event_frame(&events, "contact.updated"),
                 "\"opted_out\":false,\"opted_out_at\":null,"
                 "\"opt_out_source\":null,\"opt_out_keyword\":null")
          != NULL);
    CHECK_INT(org_seq(&f, f.org), seq + 6);
    inbox_event_list_free(&events);

    CHECK_INT(inbox_store_contact_get(f.store, f.org, id, &got, NULL),
              INBOX_OK);
    CHECK_INT(got.opted_out, 0);
    CHECK_INT(got.opted_out_at, 0);
    CHECK_STR(got.opt_out_source, "");
    inbox_contact_record_free(&got);

    /* a carrier's late retry of the first STOP is a duplicate: it opts
     * nobody out again, and asks for no confirmation */
    CHECK_INT(receive(&f, "SM1", ALICE, "  Stop  ", T0, &r, &events),
              INBOX_OK);
    CHECK_INT(r.duplicate, 1);
    CHECK_INT(r.keyword, INBOX_KEYWORD_NONE);
    CHECK_INT(r.opt_changed, 0);
    CHECK_INT(events.count, 0);
    CHECK_INT(inbox_store_contact_get(f.store, f.org, id, &got, NULL),
              INBOX_OK);
    CHECK_INT(got.opted_out, 0);
    inbox_contact_record_free(&got);

    /* a phrase, from a new number: its contact is made opted out */
    CHECK_INT(receive(&f, "SM6", BOB, "stop all", T0 + 5 * MINUTE, &r, NULL),
              INBOX_OK);
    CHECK_INT(r.opt_changed, 1);
    CHECK(contact_of(&f, BOB, line, conv));
    CHECK_INT(inbox_store_contact_get(f.store, f.org, line, &got, NULL),
              INBOX_OK);
    CHECK_INT(got.opted_out, 1);
    CHECK_STR(got.opt_out_keyword, "STOP ALL");
    inbox_contact_record_free(&got);
    CHECK(list_shows(&f, INBOX_FILTER_ALL, NULL, BOB));

    /* the timeline: each event before the message that caused it, each
     * answer after both */
    CHECK_INT(timeline_walk(&f, id, 50, line, sizeof(line)), 1);
    CHECK_STR(line, "message:" START_ANSWER ";opt_in:START;message:start;"
                    "message:" HELP_ANSWER ";message:help;"
                    "message:STOP please;message:STOP;"
                    "message:" STOP_ANSWER ";"
                    "opt_out:keyword:STOP;message:  Stop  ;");

    fixture_close(&f);
}


/*
 * HELP is answered free of credits, billing or not (carriers require an
 * answer), but once a day per contact: a contact, or a bot, texting HELP
 * again and again makes the organization send one text a day.  Every
 * HELP is stored and shown as ever; STOP and START are answered as
 * before.
 */
TEST(help_is_answered_once_a_day_per_contact)
{
    char                   id[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    fixture_t              f;
    inbox_outbox_batch_t   batch;
    inbox_ingest_result_t  r;

    FIXTURE(&f);

    CHECK_INT(inbox_store_billing_set(f.store, f.org, 0, NULL), INBOX_OK);

    CHECK_INT(receive(&f, "SM1", ALICE, "HELP", T0, &r, NULL), INBOX_OK);
    CHECK_INT(r.keyword, INBOX_KEYWORD_HELP);
    CHECK_INT(r.answered, 1);

    /* again within the day, in any form: stored, not answered */
    CHECK_INT(receive(&f, "SM2", ALICE, "help", T0 + HOUR, &r, NULL),
              INBOX_OK);
    CHECK_INT(r.keyword, INBOX_KEYWORD_HELP);
    CHECK_INT(r.answered, 0);
    CHECK_INT(receive(&f, "SM3", ALICE, "INFO", T0 + 23 * HOUR, &r, NULL),
              INBOX_OK);
    CHECK_INT(r.answered, 0);

    /* another contact has a day of its own */
    CHECK_INT(receive(&f, "SM4", BOB, "HELP", T0 + HOUR, &r, NULL),
              INBOX_OK);
    CHECK_INT(r.answered, 1);

    /* a day after the answered one, answered again; the day starts anew */
    CHECK_INT(receive(&f, "SM5", ALICE, "HELP", T0 + 24 * HOUR, &r, NULL),
              INBOX_OK);
    CHECK_INT(r.answered, 1);
    CHECK_INT(receive(&f, "SM6", ALICE, "HELP", T0 + 25 * HOUR, &r, NULL),
              INBOX_OK);
    CHECK_INT(r.answered, 0);

    /* a STOP is answered all the same */
    CHECK_INT(receive(&f, "SM7", ALICE, "STOP", T0 + 26 * HOUR, &r, NULL),
              INBOX_OK);
    CHECK_INT(r.answered, 1);

    /* Alice's six messages and three answers; each HELP in the inbox */
    CHECK(contact_of(&f, ALICE, id, conv));
    CHECK_INT(message_count(&f, conv), 9);
    CHECK_INT(unread_count(&f, conv), 6);
    CHECK_INT(claim(&f, inbox_now_ms(), 10, &batch), 4);
    inbox_outbox_batch_free(&batch);

    fixture_close(&f);
}


/*
 * An answer to HELP that never reaches the phone (too late for the
 * sender, refused by the carrier, or undelivered) is no answer: the
 * contact's next HELP, within the day, gets one; an answer that goes
 * keeps the day until then.
 */
TEST(a_failed_help_answer_gives_the_day_back)
{
    int                    changed;
    fixture_t              f;
    inbox_error_t          err;
    inbox_send_result_t    res;
    inbox_send_report_t    report;
    inbox_outbox_batch_t   batch;
    inbox_ingest_result_t  r;

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", ALICE, "HELP", T0, &r, NULL), INBOX_OK);
    CHECK_INT(r.answered, 1);

    /* the sender gives up on it: too late */
    CHECK_INT(claim(&f, T0 + 10 * MINUTE, 10, &batch), 1);
    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_REFUSED;
    snprintf(res.error_code, sizeof(res.error_code), "%s",
             INBOX_SEND_ERROR_LATE);
    if (batch.count == 1) {
        CHECK_INT(inbox_store_outbox_result(f.store, batch.items[0].id,
                                            batch.items[0].attempt, &res,
                                            T0 + 10 * MINUTE, &report, NULL,
                                            &err), INBOX_OK);
    }
    inbox_outbox_batch_free(&batch);

    /* so the next HELP is answered; that answer goes, and counts for
     * the day */
    CHECK_INT(receive(&f, "SM2", ALICE, "help", T0 + HOUR, &r, NULL),
              INBOX_OK);
    CHECK_INT(r.answered, 1);
    CHECK_INT(claim(&f, T0 + HOUR + MINUTE, 10, &batch), 1);
    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_ACCEPTED;
    res.carrier = INBOX_CARRIER_TELNYX;
    res.status = INBOX_DELIVERY_SENT;
    snprintf(res.provider_id, sizeof(res.provider_id), "SM-help");
    if (batch.count == 1) {
        CHECK_INT(inbox_store_outbox_result(f.store, batch.items[0].id,
                                            batch.items[0].attempt, &res,
                                            T0 + HOUR + MINUTE, &report,
                                            NULL, &err), INBOX_OK);
    }
    inbox_outbox_batch_free(&batch);
    CHECK_INT(receive(&f, "SM3", ALICE, "HELP", T0 + 2 * HOUR, &r, NULL),
              INBOX_OK);
    CHECK_INT(r.answered, 0);

    /* until the carrier says it never reached the phone */
    CHECK_INT(telnyx_report(&f, "SM-help", INBOX_DELIVERY_UNDELIVERED, 1,
                            &changed, NULL), INBOX_OK);
    CHECK_INT(changed, 1);
    CHECK_INT(receive(&f, "SM4", ALICE, "HELP", T0 + 3 * HOUR, &r, NULL),
              INBOX_OK);
    CHECK_INT(r.answered, 1);

    fixture_close(&f);
}


/* What the test organization's French keywords are answered with. */
#define ARRET_ANSWER                                                        \
    "Acme : vous \xc3\xaates d\xc3\xa9sabonn\xc3\xa9 et ne recevrez plus "  \
    "de messages. R\xc3\xa9pondez START pour vous r\xc3\xa9" "abonner."
#define AIDE_ANSWER                                                         \
    "Acme : pour de l'aide, r\xc3\xa9pondez \xc3\xa0 ce message. "          \
    "R\xc3\xa9pondez ARR\xc3\x8aT pour vous d\xc3\xa9sabonner."


/* Canada's French keywords are answered in French: each ingest carries
 * the keyword's language from the match to the answer it queues.  START,
 * English, is answered in English, even after an ARRÊT. */
TEST(french_keywords_are_answered_in_french)
{
    char                   id[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    fixture_t              f;
    inbox_message_page_t   page;
    inbox_ingest_result_t  r;

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", ALICE, "Arr\xc3\xaat", T0, &r, NULL),
              INBOX_OK);
    CHECK_INT(r.keyword, INBOX_KEYWORD_OPT_OUT);
    CHECK_INT(r.keyword_lang, INBOX_KEYWORD_LANG_FR);
    CHECK_INT(r.answered, 1);

    CHECK_INT(receive(&f, "SM2", ALICE, "START", T0 + MINUTE, &r, NULL),
              INBOX_OK);
    CHECK_INT(r.keyword_lang, INBOX_KEYWORD_LANG_EN);
    CHECK_INT(r.answered, 1);

    CHECK_INT(receive(&f, "SM3", ALICE, "aide", T0 + 2 * MINUTE, &r, NULL),
              INBOX_OK);
    CHECK_INT(r.keyword, INBOX_KEYWORD_HELP);
    CHECK_INT(r.keyword_lang, INBOX_KEYWORD_LANG_FR);
    CHECK_INT(r.answered, 1);

    /* newest first: each answer after its keyword */
    CHECK(contact_of(&f, ALICE, id, conv));
    CHECK_INT(inbox_store_messages_list(f.store, f.org, conv, NULL, 0, &page,
                                        NULL), INBOX_OK);
    CHECK_INT(page.count, 6);
    if (page.count == 6) {
        CHECK_STR(page.items[0].body, AIDE_ANSWER);
        CHECK_INT(page.items[0].direction, INBOX_OUTBOUND);
        CHECK_INT(page.items[0].segments, 2);
        CHECK_STR(page.items[1].body, "aide");
        CHECK_STR(page.items[2].body, START_ANSWER);
        CHECK_STR(page.items[3].body, "START");
        CHECK_STR(page.items[4].body, ARRET_ANSWER);
        CHECK_INT(page.items[4].direction, INBOX_OUTBOUND);
        CHECK_INT(page.items[4].segments, 2);
        CHECK_INT(page.items[4].credits, 0);
        CHECK_STR(page.items[5].body, "Arr\xc3\xaat");
    }
    inbox_message_page_free(&page);

    fixture_close(&f);
}


/* Twilio (by default) and Telnyx answer STOP, START and HELP themselves
 * and refuse every send after a STOP: on a number set so, a keyword
 * changes the contact as ever but the inbox queues no answer of its own
 * (one would fail at the carrier, HELP would be answered twice). */
TEST(a_keyword_to_a_number_whose_carrier_answers_queues_no_answer)
{
    char                    id[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    char                    line[512];
    fixture_t               f;
    inbound_t               m;
    inbox_number_t          number, got;
    inbox_event_list_t      events;
    inbox_outbox_batch_t    batch;
    inbox_ingest_result_t   r;
    inbox_contact_record_t  contact;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    memset(&number, 0, sizeof(number));
    snprintf(number.org_id, sizeof(number.org_id), "%s", f.org);
    snprintf(number.e164, sizeof(number.e164), "%s", NUMBER2);
    number.carrier = INBOX_CARRIER_TWILIO;
    number.auth_token = (char *) "secret";
    number.carrier_answers_keywords = 1;
    CHECK_INT(inbox_store_number_add(f.store, &number, NULL), INBOX_OK);
    CHECK_INT(inbox_store_number_find(f.store, NUMBER2, &got, NULL),
              INBOX_OK);
    CHECK_INT(got.carrier_answers_keywords, 1);
    inbox_number_free(&got);
    CHECK_INT(inbox_store_number_find(f.store, NUMBER, &got, NULL),
              INBOX_OK);
    CHECK_INT(got.carrier_answers_keywords, 0);
    inbox_number_free(&got);

    /* STOP: opted out, pushed and in the timeline, and nothing queued */
    inbound_init(&m, "SM1", ALICE, NUMBER2, "STOP", T0);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &r, &events,
                                         NULL), INBOX_OK);
    CHECK_INT(r.keyword, INBOX_KEYWORD_OPT_OUT);
    CHECK_INT(r.opt_changed, 1);
    CHECK_INT(r.carrier_answers_keywords, 1);
    CHECK_INT(r.answered, 0);
    CHECK_INT(events_of(&events, "contact.updated"), 1);
    CHECK_INT(events_of(&events, "message.created"), 1);
    inbox_event_list_free(&events);
    CHECK_INT(claim(&f, inbox_now_ms() + MINUTE, 10, &batch), 0);
    inbox_outbox_batch_free(&batch);

    CHECK(contact_of(&f, ALICE, id, conv));
    CHECK_INT(message_count(&f, conv), 1);
    CHECK_INT(inbox_store_contact_get(f.store, f.org, id, &contact, NULL),
              INBOX_OK);
    CHECK_INT(contact.opted_out, 1);
    CHECK_STR(contact.opt_out_source, "keyword");
    inbox_contact_record_free(&contact);

    /* HELP and START: none either; START opts back in */
    inbound_init(&m, "SM2", ALICE, NUMBER2, "help", T0 + MINUTE);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &r, NULL, NULL),
              INBOX_OK);
    CHECK_INT(r.keyword, INBOX_KEYWORD_HELP);
    CHECK_INT(r.answered, 0);

    inbound_init(&m, "SM3", ALICE, NUMBER2, "START", T0 + 2 * MINUTE);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &r, NULL, NULL),
              INBOX_OK);
    CHECK_INT(r.opt_changed, 1);
    CHECK_INT(r.answered, 0);
    CHECK_INT(claim(&f, inbox_now_ms() + MINUTE, 10, &batch), 0);
    inbox_outbox_batch_free(&batch);
    CHECK_INT(timeline_walk(&f, id, 50, line, sizeof(line)), 1);
    CHECK_STR(line, "opt_in:START;message:START;message:help;"
                    "opt_out:keyword:STOP;message:STOP;");

    /* the organization's other number: the inbox answers, as ever */
    CHECK_INT(receive(&f, "SM4", BOB, "STOP", T0 + 3 * MINUTE, &r,
                      &events), INBOX_OK);
    CHECK_INT(r.carrier_answers_keywords, 0);
    CHECK_INT(r.answered, 1);
    CHECK_INT(events_of(&events, "message.created"), 2);
    inbox_event_list_free(&events);

    /* and a number set back to the inbox's answers is answered */
    number.carrier_answers_keywords = 0;
    CHECK_INT(inbox_store_number_update(f.store, &number, NULL), INBOX_OK);
    inbound_init(&m, "SM5", ALICE, NUMBER2, "help", T0 + 4 * MINUTE);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &r, NULL, NULL),
              INBOX_OK);
    CHECK_INT(r.answered, 1);

    CHECK_INT(claim(&f, inbox_now_ms() + MINUTE, 10, &batch), 2);
    if (batch.count == 2) {
        CHECK_INT(batch.items[0].priority, INBOX_OUTBOX_NOTICE);
        CHECK_INT(batch.items[1].priority, INBOX_OUTBOX_NOTICE);
        CHECK(strcmp(batch.items[0].to, BOB) == 0
              || strcmp(batch.items[1].to, BOB) == 0);
        CHECK(strcmp(batch.items[0].to, ALICE) == 0
              || strcmp(batch.items[1].to, ALICE) == 0);
    }
    inbox_outbox_batch_free(&batch);

    fixture_close(&f);
}


TEST(a_timeline_pages_through_messages_and_events_alike)
{
    char                    id[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    char                    whole[2048], paged[2048], sid[16];
    unsigned                i, limit;
    fixture_t               f;
    inbox_timeline_page_t   page;

    FIXTURE(&f);

    /* messages and events interleaved, two of them at one time */
    for (i = 0; i < 9; i++) {
        snprintf(sid, sizeof(sid), "SM%u", i);
        CHECK_INT(receive(&f, sid, ALICE,
                          i % 3 == 0 ? "stop" : i % 3 == 1 ? "start"
                                                           : "hello",
                          T0 + (int64_t) i * MINUTE, NULL, NULL), INBOX_OK);
    }

    CHECK(contact_of(&f, ALICE, id, conv));
    CHECK_INT(timeline_walk(&f, id, 200, whole, sizeof(whole)), 1);
    CHECK_STR(whole, "message:hello;message:" START_ANSWER ";"
                     "opt_in:START;message:start;"
                     "message:" STOP_ANSWER ";"
                     "opt_out:keyword:STOP;message:stop;"
                     "message:hello;message:" START_ANSWER ";"
                     "opt_in:START;message:start;"
                     "message:" STOP_ANSWER ";"
                     "opt_out:keyword:STOP;message:stop;"
                     "message:hello;message:" START_ANSWER ";"
                     "opt_in:START;message:start;"
                     "message:" STOP_ANSWER ";"
                     "opt_out:keyword:STOP;message:stop;");

    /* every page size gives the same, each page full but the last */
    for (limit = 1; limit <= 22; limit++) {
        CHECK(timeline_walk(&f, id, limit, paged, sizeof(paged)) > 0);
        CHECK_STR(paged, whole);
    }

    /* a cursor this timeline did not give */
    CHECK_INT(inbox_store_contact_timeline(f.store, f.org, id, "garbage", 5,
                                           &page, NULL), INBOX_ERR_INVALID);
    inbox_timeline_page_free(&page);

    fixture_close(&f);
}


TEST(another_orgs_contact_cannot_be_opted_out_or_in)
{
    char                    id[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    char                    other[INBOX_ID_MAX];
    fixture_t               f;
    inbox_contact_record_t  got;
    inbox_contact_event_page_t  page;

    FIXTURE(&f);

    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);
    CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, NULL, NULL), INBOX_OK);
    CHECK(contact_of(&f, ALICE, id, conv));

    CHECK_INT(inbox_store_contact_opt_out(f.store, other, id,
                                          INBOX_OPT_OUT_MANUAL, NULL, 0, 0,
                                          &got, NULL, NULL),
              INBOX_ERR_NOT_FOUND);
    inbox_contact_record_free(&got);
    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org,
                                          f.backend->missing_id,
                                          INBOX_OPT_OUT_MANUAL, NULL, 0, 0,
                                          &got, NULL, NULL),
              INBOX_ERR_NOT_FOUND);
    inbox_contact_record_free(&got);
    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, "not an id",
                                          INBOX_OPT_OUT_MANUAL, NULL, 0, 0,
                                          &got, NULL, NULL),
              INBOX_ERR_NOT_FOUND);
    inbox_contact_record_free(&got);
    CHECK_INT(inbox_store_contact_opt_in(f.store, other, id, "START", 0,
                                         &got, NULL, NULL),
              INBOX_ERR_NOT_FOUND);
    inbox_contact_record_free(&got);
    CHECK_INT(inbox_store_contact_events_list(f.store, other, id, 0, NULL,
                                              10, &page, NULL),
              INBOX_ERR_NOT_FOUND);
    inbox_contact_event_page_free(&page);

    /* nothing changed */
    CHECK_INT(inbox_store_contact_get(f.store, f.org, id, &got, NULL),
              INBOX_OK);
    CHECK_INT(got.opted_out, 0);
    inbox_contact_record_free(&got);

    fixture_close(&f);
}


TEST(settings_have_defaults_and_keep_what_is_set)
{
    char                   other[INBOX_ID_MAX];
    fixture_t              f;
    inbox_error_t          err;
    inbox_settings_t       s;
    inbox_settings_edit_t  edit;

    FIXTURE(&f);

    CHECK_INT(inbox_store_settings_get(f.store, f.org, &s, NULL), INBOX_OK);
    CHECK_STR(s.timezone, "UTC");
    CHECK_INT(s.quiet_start, 21 * 60);
    CHECK_INT(s.quiet_end, 8 * 60);
    CHECK_STR(s.business_name, "Acme");
    CHECK_STR(s.support_contact, "");

    memset(&edit, 0, sizeof(edit));
    CHECK_INT(inbox_settings_set_timezone(&edit, "America/Chicago", NULL),
              INBOX_OK);
    CHECK_INT(inbox_settings_set_quiet_hours(&edit, "22:00", "07:30", NULL),
              INBOX_OK);
    CHECK_INT(inbox_settings_set_business_name(&edit, "  Acme Dental ",
                                               NULL), INBOX_OK);
    CHECK_INT(inbox_settings_set_support_contact(&edit, "help@acme.test",
                                                 NULL), INBOX_OK);
    CHECK_INT(inbox_store_settings_update(f.store, f.org, &edit, &s, NULL,
                                          NULL),
              INBOX_OK);
    CHECK_STR(s.timezone, "America/Chicago");
    CHECK_INT(s.quiet_start, 22 * 60);
    CHECK_INT(s.quiet_end, 7 * 60 + 30);
    CHECK_STR(s.business_name, "Acme Dental");
    CHECK_STR(s.support_contact, "help@acme.test");

    /* a PATCH of one field leaves the others */
    memset(&edit, 0, sizeof(edit));
    CHECK_INT(inbox_settings_set_support_contact(&edit, NULL, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_settings_update(f.store, f.org, &edit, NULL, NULL,
                                          NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_settings_get(f.store, f.org, &s, NULL), INBOX_OK);
    CHECK_STR(s.timezone, "America/Chicago");
    CHECK_STR(s.business_name, "Acme Dental");
    CHECK_STR(s.support_contact, "");

    /* no business name: the organization's again */
    memset(&edit, 0, sizeof(edit));
    CHECK_INT(inbox_settings_set_business_name(&edit, "", NULL), INBOX_OK);
    CHECK_INT(inbox_store_settings_update(f.store, f.org, &edit, &s, NULL,
                                          NULL),
              INBOX_OK);
    CHECK_STR(s.business_name, "Acme");

    /* an edit made by hand is checked too, and stores nothing */
    memset(&edit, 0, sizeof(edit));
    edit.set_timezone = 1;
    snprintf(edit.timezone, sizeof(edit.timezone), "Mars/Olympus_Mons");
    edit.set_quiet_hours = 1;
    edit.quiet_start = 60;
    edit.quiet_end = 120;
    CHECK_INT(inbox_store_settings_update(f.store, f.org, &edit, &s, NULL,
                                          &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "timezone");
    CHECK_INT(inbox_store_settings_get(f.store, f.org, &s, NULL), INBOX_OK);
    CHECK_STR(s.timezone, "America/Chicago");
    CHECK_INT(s.quiet_start, 22 * 60);

    /* each organization its own */
    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);
    CHECK_INT(inbox_store_settings_get(f.store, other, &s, NULL), INBOX_OK);
    CHECK_STR(s.business_name, "Other");
    CHECK_INT(s.quiet_start, 21 * 60);
    CHECK_INT(inbox_store_settings_get(f.store, f.backend->missing_id, &s,
                                       NULL), INBOX_ERR_NOT_FOUND);

    fixture_close(&f);
}


/* An organization's default country: none until set (the server's is
 * read), kept in upper case, one of phone.h's rule (400 naming the field,
 * nothing stored), "" none again; each organization its own, so two on
 * one server read the same national number as two numbers. */
TEST(settings_default_country_is_each_organizations_own)
{
    char                   other[INBOX_ID_MAX];
    char                   country[INBOX_COUNTRY_MAX];
    fixture_t              f;
    inbox_error_t          err;
    inbox_settings_t       s;
    inbox_settings_edit_t  edit;

    FIXTURE(&f);

    CHECK_INT(inbox_store_settings_get(f.store, f.org, &s, NULL), INBOX_OK);
    CHECK_STR(s.default_country, "");
    CHECK_INT(inbox_store_default_country(f.store, f.org, "US", country,
                                          NULL), INBOX_OK);
    CHECK_STR(country, "US");
    CHECK_INT(inbox_store_default_country(f.store, f.org, NULL, country,
                                          NULL), INBOX_OK);
    CHECK_STR(country, "US");

    memset(&edit, 0, sizeof(edit));
    CHECK_INT(inbox_settings_set_default_country(&edit, "gb", NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_settings_update(f.store, f.org, &edit, &s, NULL,
                                          NULL),
              INBOX_OK);
    CHECK_STR(s.default_country, "GB");
    CHECK_INT(inbox_store_default_country(f.store, f.org, "US", country,
                                          NULL), INBOX_OK);
    CHECK_STR(country, "GB");

    /* another setting leaves it */
    memset(&edit, 0, sizeof(edit));
    CHECK_INT(inbox_settings_set_timezone(&edit, "Europe/London", NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_settings_update(f.store, f.org, &edit, &s, NULL,
                                          NULL),
              INBOX_OK);
    CHECK_STR(s.default_country, "GB");

    /* the other organization reads the server's */
    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);
    CHECK_INT(inbox_store_settings_get(f.store, other, &s, NULL), INBOX_OK);
    CHECK_STR(s.default_country, "");
    CHECK_INT(inbox_store_default_country(f.store, other, "US", country,
                                          NULL), INBOX_OK);
    CHECK_STR(country, "US");

    /* a code the rule does not know: named, its message the rule's */
    memset(&edit, 0, sizeof(edit));
    CHECK_INT(inbox_settings_set_default_country(&edit, "UK", &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "default_country");
    CHECK(strstr(err.message, "\"UK\" is not a country code") != NULL);
    CHECK(strstr(err.message, "GB") != NULL);
    CHECK_INT(inbox_settings_set_default_country(&edit, "GBR", &err),
              INBOX_ERR_INVALID);

    /* an edit made by hand is checked too, and stores nothing */
    memset(&edit, 0, sizeof(edit));
    edit.set_default_country = 1;
    snprintf(edit.default_country, sizeof(edit.default_country), "ZZ");
    CHECK_INT(inbox_store_settings_update(f.store, f.org, &edit, &s, NULL,
                                          &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "default_country");
    snprintf(edit.default_country, sizeof(edit.default_country), "fr");
    CHECK_INT(inbox_store_settings_update(f.store, f.org, &edit, &s, NULL,
                                          &err),
              INBOX_ERR_INVALID);
    CHECK_INT(inbox_store_settings_get(f.store, f.org, &s, NULL), INBOX_OK);
    CHECK_STR(s.default_country, "GB");

    /* "" is none again */
    memset(&edit, 0, sizeof(edit));
    CHECK_INT(inbox_settings_set_default_country(&edit, "", NULL), INBOX_OK);
    CHECK_INT(inbox_store_settings_update(f.store, f.org, &edit, &s, NULL,
                                          NULL),
              INBOX_OK);
    CHECK_STR(s.default_country, "");
    CHECK_INT(inbox_store_default_country(f.store, f.org, "FR", country,
                                          NULL), INBOX_OK);
    CHECK_STR(country, "FR");
    CHECK_INT(inbox_store_default_country(f.store, f.backend->missing_id,
                                          "US", country, NULL),
              INBOX_ERR_NOT_FOUND);

    fixture_close(&f);
}

/* campaigns and polls */

#define CAROL   "+15557654321"


/* A contact with one tag (NULL: none) and, for quiet hours, a time zone
 * (NULL: unknown); 0 or -1. */
static int
person(fixture_t *f, const char *phone, const char *tag, const char *tz,
    char id[INBOX_ID_MAX])
{
    int                     rc;
    inbox_contact_edit_t    edit;
    inbox_contact_record_t  c;

    memset(&edit, 0, sizeof(edit));

    if (tag != NULL) {
        edit.set_tags = 1;
        if (inbox_tags_add(&edit.tags, tag, strlen(tag), NULL) != INBOX_OK) {
            return -1;
        }
    }

    rc = inbox_store_contact_create(f->store, f->org, phone, &edit, &c, NULL,
                                    NULL) == INBOX_OK ? 0 : -1;

    if (rc == 0) {
        snprintf(id, INBOX_ID_MAX, "%s", c.id);
    }

    inbox_contact_record_free(&c);
    inbox_tags_free(&edit.tags);

    if (rc == 0 && tz != NULL
        && inbox_store_contact_timezone_set(f->store, f->org, id, tz, NULL)
           != INBOX_OK)
    {
        rc = -1;
    }

    return rc;
}


/* A campaign "Sale!" to all (tag NULL) or to one tag; 0 or -1. */
static int
campaign_new(fixture_t *f, const char *tag, char id[INBOX_ID_MAX])
{
    int                   rc;
    inbox_tags_t          tags;
    inbox_campaign_t      c;
    inbox_campaign_new_t  n;

    memset(&tags, 0, sizeof(tags));
    memset(&n, 0, sizeof(n));
    n.name = "Spring sale";
    n.body = "Sale!";
    n.audience_all = tag == NULL;

    if (tag != NULL) {
        (void) inbox_tags_add(&tags, tag, strlen(tag), NULL);
        n.tags = &tags;
    }

    rc = inbox_store_campaign_create(f->store, f->org, &n, T0, &c, NULL, NULL)
         == INBOX_OK ? 0 : -1;
    snprintf(id, INBOX_ID_MAX, "%s", c.id);
    inbox_campaign_free(&c);
    inbox_tags_free(&tags);

    return rc;
}


/* The campaign's status and counts now (nothing to free). */
typedef struct {
    inbox_campaign_status_t  status;
    inbox_pause_reason_t     paused_reason;
    inbox_cancel_reason_t    cancelled_reason;
    char                     cancelled_message[INBOX_ERROR_MESSAGE_MAX];
                                          /* "" for none */
    inbox_campaign_counts_t  counts;
    int64_t                  finished_at;
} progress_t;

static progress_t
campaign_now(fixture_t *f, const char *id)
{
    progress_t        p;
    inbox_campaign_t  c;

    CHECK_INT(inbox_store_campaign_get(f->store, f->org, id, &c, NULL),
              INBOX_OK);
    p.status = c.status;
    p.paused_reason = c.paused_reason;
    p.cancelled_reason = c.cancelled_reason;
    snprintf(p.cancelled_message, sizeof(p.cancelled_message), "%s",
             c.cancelled_message != NULL ? c.cancelled_message : "");
    p.counts = c.counts;
    p.finished_at = c.finished_at;
    inbox_campaign_free(&c);

    return p;
}


static inbox_status_t
campaign_do(fixture_t *f, const char *id, inbox_campaign_action_t action,
    int64_t now)
{
    inbox_status_t    status;
    inbox_campaign_t  c;

    status = inbox_store_campaign_act(f->store, f->org, id, action, now, &c,
                                      NULL, NULL);
    inbox_campaign_free(&c);

    return status;
}


static inbox_campaign_dispatch_t
dispatch(fixture_t *f, int64_t now, size_t max)
{
    inbox_event_list_t         events;
    inbox_campaign_dispatch_t  d;

    memset(&events, 0, sizeof(events));
    CHECK_INT(inbox_store_campaign_dispatch(f->store, now, max, MEDIA_BASE, &d,
                                            &events, NULL), INBOX_OK);
    /* each message handed over: message.created, conversation.updated */
    CHECK_INT(events.count, 2 * d.handed);
    inbox_event_list_free(&events);

    return d;
}


/* Every entry of a claimed batch taken by the carrier, the batch freed;
 * how many, or -1. */
static long
carrier_takes(fixture_t *f, inbox_outbox_batch_t *batch, int64_t now)
{
    size_t               i;
    long                 taken;
    inbox_send_result_t  res;

    taken = (long) batch->count;

    for (i = 0; i < batch->count; i++) {
        memset(&res, 0, sizeof(res));
        res.outcome = INBOX_SEND_ACCEPTED;
        res.carrier = INBOX_CARRIER_TWILIO;
        res.status = INBOX_DELIVERY_QUEUED;
        snprintf(res.provider_id, sizeof(res.provider_id), "SM-%s",
                 batch->items[i].message.id);

        if (inbox_store_outbox_result(f->store, batch->items[i].id,
                                      batch->items[i].attempt, &res, now,
                                      NULL, NULL, NULL)
            != INBOX_OK)
        {
            taken = -1;
        }
    }

    inbox_outbox_batch_free(batch);

    return taken;
}


/* The sender's part: every due entry claimed and taken by the carrier;
 * how many. */
static long
carrier_takes_all(fixture_t *f, int64_t now)
{
    inbox_outbox_batch_t  batch;

    if (claim(f, now, INBOX_OUTBOX_CLAIM_MAX, &batch) < 0) {
        return -1;
    }

    return carrier_takes(f, &batch, now);
}


/*
 * A dispatch, then the sender sends what it handed over, then the next
 * dispatch: a campaign is done only once its last message left the
 * outbox.  The first dispatch's counts, with what the second finished
 * (the first finishes nothing).
 */
static inbox_campaign_dispatch_t
dispatch_sent(fixture_t *f, int64_t now, size_t max)
{
    inbox_campaign_dispatch_t  d, next;

    d = dispatch(f, now, max);
    CHECK_INT(d.finished, 0);
    CHECK(carrier_takes_all(f, now) >= 0);
    next = dispatch(f, now, max);
    CHECK_INT(next.handed, 0);
    d.finished = next.finished;

    return d;
}


/* Contacts +1555010NNNN for n from first to last, tagged tag; 0 or -1. */
static int
people(fixture_t *f, int first, int last, const char *tag)
{
    int   n;
    char  phone[INBOX_PHONE_MAX], id[INBOX_ID_MAX];

    for (n = first; n <= last; n++) {
        snprintf(phone, sizeof(phone), "+1555010%04d", n);
        if (person(f, phone, tag, NULL, id) != 0) {
            return -1;
        }
    }

    return 0;
}


/* The sender's part: every due entry claimed and taken by the carrier;
 * how many were of campaign id (-1: a claim or a result failed). */
static long
sent_of(fixture_t *f, int64_t now, const char *id)
{
    long                  n;
    size_t                i;
    inbox_send_result_t   res;
    inbox_outbox_batch_t  batch;

    if (claim(f, now, INBOX_OUTBOX_CLAIM_MAX, &batch) < 0) {
        return -1;
    }

    n = 0;

    for (i = 0; i < batch.count; i++) {
        memset(&res, 0, sizeof(res));
        res.outcome = INBOX_SEND_ACCEPTED;
        res.carrier = INBOX_CARRIER_TWILIO;
        res.status = INBOX_DELIVERY_SENT;
        snprintf(res.provider_id, sizeof(res.provider_id), "SM-%s",
                 batch.items[i].message.id);

        if (inbox_store_outbox_result(f->store, batch.items[i].id,
                                      batch.items[i].attempt, &res, now,
                                      NULL, NULL, NULL)
            != INBOX_OK)
        {
            n = -1;
            break;
        }

        n += strcmp(batch.items[i].campaign_id, id) == 0;
    }

    inbox_outbox_batch_free(&batch);

    return n;
}


/*
 * A dispatch shares its batch among the sending campaigns, and gives
 * none to a campaign with INBOX_CAMPAIGN_AHEAD_MAX messages in the
 * outbox (counted full, as one it filled is, so that the sender looks
 * again as they leave rather than a second later): a small campaign
 * sent after a big one, from the same number, goes in the first
 * dispatch and in any later one, never behind the big one's whole
 * audience.
 */
TEST(a_dispatch_shares_its_batch_among_the_sending_campaigns)
{
    char                       big[INBOX_ID_MAX], small[INBOX_ID_MAX];
    char                       late[INBOX_ID_MAX];
    fixture_t                  f;
    inbox_campaign_dispatch_t  d;

    FIXTURE(&f);

    CHECK_INT(people(&f, 1, 40, "everyone"), 0);
    CHECK_INT(people(&f, 41, 42, "few"), 0);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 100, NULL),
              INBOX_OK);

    CHECK_INT(campaign_new(&f, "everyone", big), 0);
    CHECK_INT(campaign_new(&f, "few", small), 0);
    CHECK_INT(campaign_do(&f, big, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    CHECK_INT(campaign_do(&f, small, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);

    /* both in one dispatch: the small one's two, the big one the rest */
    d = dispatch(&f, NOON, 10);
    CHECK_INT(d.handed, 10);
    CHECK_INT(sent_of(&f, NOON, small), 2);
    CHECK_INT(campaign_now(&f, small).counts.sent, 2);
    CHECK_INT(campaign_now(&f, big).counts.sent, 8);

    /* the big one up to its share of the outbox, which is full then
     * (the sender looks again as its messages leave), then none */
    d = dispatch(&f, NOON, 100);
    CHECK_INT(d.handed, INBOX_CAMPAIGN_AHEAD_MAX);
    CHECK_INT(d.outbox_full, 1);
    d = dispatch(&f, NOON, 100);
    CHECK_INT(d.handed, 0);
    CHECK_INT(d.outbox_full, 1);
    CHECK_INT(campaign_now(&f, big).status, INBOX_CAMPAIGN_SENDING);

    /* one sent now is not held behind it */
    CHECK_INT(campaign_new(&f, "few", late), 0);
    CHECK_INT(campaign_do(&f, late, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    d = dispatch(&f, NOON, 100);
    CHECK_INT(d.handed, 2);
    CHECK_INT(d.outbox_full, 1);

    /* what the big one had in the outbox sent: the rest of it */
    CHECK_INT(sent_of(&f, NOON, late), 2);
    d = dispatch(&f, NOON, 100);
    CHECK_INT(d.handed, 40 - 8 - INBOX_CAMPAIGN_AHEAD_MAX);
    CHECK_INT(d.outbox_full, 0);
    CHECK_INT(sent_of(&f, NOON, big), 40 - 8 - INBOX_CAMPAIGN_AHEAD_MAX);
    CHECK_INT(campaign_now(&f, big).counts.sent, 40);

    fixture_close(&f);
}


/* A campaign sent while its organization has no number is refused as a
 * reply is (it could never be sent), nothing changed; with a number it
 * goes. */
TEST(a_campaign_needs_a_number_to_be_sent)
{
    char              id[INBOX_ID_MAX];
    fixture_t         f;
    progress_t        p;
    inbox_error_t     err;
    inbox_number_t    number;
    inbox_campaign_t  c;

    FIXTURE(&f);

    /* the fixture's helpers work on an organization without a number */
    CHECK_INT(inbox_store_org_create(f.store, "Empty", "UTC", f.org, NULL),
              INBOX_OK);
    CHECK_INT(people(&f, 1, 2, NULL), 0);
    CHECK_INT(campaign_new(&f, NULL, id), 0);

    CHECK_INT(inbox_store_campaign_act(f.store, f.org, id,
                                       INBOX_CAMPAIGN_SEND, NOON, &c, NULL,
                                       &err),
              INBOX_ERR_CONFLICT);
    CHECK_STR(err.message, "This organization has no number to send from "
              "yet.");
    p = campaign_now(&f, id);
    CHECK_INT(p.status, INBOX_CAMPAIGN_DRAFT);
    CHECK_INT(p.counts.audience, 0);

    memset(&number, 0, sizeof(number));
    snprintf(number.org_id, sizeof(number.org_id), "%s", f.org);
    snprintf(number.e164, sizeof(number.e164), "%s", OTHER);
    number.carrier = INBOX_CARRIER_TWILIO;
    number.auth_token = (char *) "secret";
    CHECK_INT(inbox_store_number_add(f.store, &number, NULL), INBOX_OK);

    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    p = campaign_now(&f, id);
    CHECK_INT(p.status, INBOX_CAMPAIGN_SENDING);
    CHECK_INT(p.counts.audience, 2);

    fixture_close(&f);
}


/* The number a claimed message to phone goes from ("" for none). */
static const char *
claimed_to(inbox_outbox_batch_t *batch, const char *phone)
{
    size_t  i;

    for (i = 0; i < batch->count; i++) {
        if (strcmp(batch->items[i].to, phone) == 0) {
            return batch->items[i].number.e164;
        }
    }

    return "";
}


/*
 * A campaign's message goes from the number its recipient's thread keeps
 * (the one its contact last texted), as a reply does, while the
 * organization has it; else from its first: on the contact's phone it is
 * the conversation they text, and their answer comes back to it.
 */
TEST(a_campaign_goes_from_the_number_its_recipient_texted)
{
    char                       id[INBOX_ID_MAX], carol[INBOX_ID_MAX];
    fixture_t                  f;
    inbound_t                  m;
    inbox_number_t             number;
    inbox_outbox_batch_t       batch;
    inbox_ingest_result_t      r;
    inbox_campaign_dispatch_t  d;

    static const char  *third = "+15550000004", *dave = "+15550109999";

    FIXTURE(&f);

    memset(&number, 0, sizeof(number));
    snprintf(number.org_id, sizeof(number.org_id), "%s", f.org);
    number.carrier = INBOX_CARRIER_TWILIO;
    number.auth_token = (char *) "secret";
    snprintf(number.e164, sizeof(number.e164), "%s", NUMBER2);
    CHECK_INT(inbox_store_number_add(f.store, &number, NULL), INBOX_OK);
    snprintf(number.e164, sizeof(number.e164), "%s", third);
    CHECK_INT(inbox_store_number_add(f.store, &number, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);

    /* Alice texts the second number, Bob the first, Carol never texted
     * (added by hand), Dave a number removed since */
    inbound_init(&m, "SM1", ALICE, NUMBER2, "hi", T0);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &r, NULL, NULL),
              INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "hello", T0, NULL, NULL), INBOX_OK);
    CHECK_INT(person(&f, CAROL, NULL, NULL, carol), 0);
    inbound_init(&m, "SM3", dave, third, "hey", T0);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &r, NULL, NULL),
              INBOX_OK);
    CHECK_INT(f.backend->number_remove(&f, third), 0);

    CHECK_INT(campaign_new(&f, NULL, id), 0);
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    d = dispatch(&f, NOON, 10);
    CHECK_INT(d.handed, 4);

    CHECK_INT(claim(&f, NOON, 10, &batch), 4);
    CHECK_STR(claimed_to(&batch, ALICE), NUMBER2);
    CHECK_STR(claimed_to(&batch, BOB), NUMBER);
    CHECK_STR(claimed_to(&batch, CAROL), NUMBER);
    CHECK_STR(claimed_to(&batch, dave), NUMBER);
    inbox_outbox_batch_free(&batch);

    fixture_close(&f);
}


TEST(a_campaign_to_a_tag_suppresses_opted_out_contacts)
{
    char                       alice[INBOX_ID_MAX], bob[INBOX_ID_MAX];
    char                       carol[INBOX_ID_MAX], id[INBOX_ID_MAX];
    char                       conv[INBOX_ID_MAX], conv_a[INBOX_ID_MAX];
    fixture_t                  f;
    progress_t                 p;
    inbox_error_t              err;
    inbox_campaign_t           c;
    inbox_campaign_new_t       n;
    inbox_send_report_t        report;
    inbox_send_result_t        res;
    inbox_outbox_batch_t       batch;
    inbox_campaign_page_t      page;
    inbox_contact_record_t     rec;
    inbox_campaign_dispatch_t  d;
    inbox_contact_campaigns_t  list;
    inbox_message_page_t       mp;

    FIXTURE(&f);

    CHECK_INT(person(&f, ALICE, "vip", NULL, alice), 0);
    CHECK_INT(person(&f, BOB, "VIP", NULL, bob), 0);
    CHECK_INT(person(&f, CAROL, NULL, NULL, carol), 0);
    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, bob,
                                          INBOX_OPT_OUT_MANUAL, NULL, T0, 0,
                                          &rec, NULL, NULL), INBOX_OK);
    inbox_contact_record_free(&rec);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);

    /* a campaign that is not one stores nothing */
    memset(&n, 0, sizeof(n));
    n.name = "Nobody";
    n.body = "Sale!";
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "audience");
    inbox_campaign_free(&c);

    CHECK_INT(campaign_new(&f, "vip", id), 0);
    CHECK_INT(inbox_store_campaigns_list(f.store, f.org,
                                         INBOX_CAMPAIGN_KIND_CAMPAIGN, NULL,
                                         10, &page, NULL), INBOX_OK);
    CHECK_INT(page.count, 1);
    CHECK_INT(page.items[0].status, INBOX_CAMPAIGN_DRAFT);
    CHECK_INT(page.items[0].credits, 1);
    inbox_campaign_page_free(&page);

    /* the recipients are fixed at send: the opted-out one suppressed */
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    p = campaign_now(&f, id);
    CHECK_INT(p.status, INBOX_CAMPAIGN_SENDING);
    CHECK_INT(p.counts.audience, 2);
    CHECK_INT(p.counts.suppressed, 1);
    CHECK_INT(p.counts.queued, 1);
    /* sent again (a retry): as it is, its recipients fixed once */
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    p = campaign_now(&f, id);
    CHECK_INT(p.status, INBOX_CAMPAIGN_SENDING);
    CHECK_INT(p.counts.audience, 2);
    CHECK_INT(p.counts.queued, 1);

    /* handed over: the message in Alice's thread, its credit held; the
     * campaign sends until it left the outbox */
    d = dispatch(&f, NOON, 10);
    CHECK_INT(d.handed, 1);
    CHECK_INT(d.finished, 0);
    CHECK_INT(balance_of(&f, f.org), 9);
    CHECK_INT(held_of(&f, f.org), 1);
    p = campaign_now(&f, id);
    CHECK_INT(p.status, INBOX_CAMPAIGN_SENDING);
    CHECK_INT(p.counts.queued, 1);
    d = dispatch(&f, NOON, 10);
    CHECK_INT(d.finished, 0);

    /* in Alice's thread, the message names its campaign */
    CHECK(contact_of(&f, ALICE, alice, conv_a));
    CHECK_INT(inbox_store_messages_list(f.store, f.org, conv_a, NULL, 10,
                                        &mp, NULL), INBOX_OK);
    CHECK_INT(mp.count, 1);
    if (mp.count == 1) {
        CHECK_STR(mp.items[0].body, "Sale!");
        CHECK_STR(mp.items[0].campaign_id, id);
    }
    inbox_message_page_free(&mp);

    /* a reply made after it still goes first, and names none */
    CHECK(contact_of(&f, CAROL, carol, conv));
    CHECK_INT(reply(&f, conv, "Hi Carol", NULL, NULL, NULL, NULL), INBOX_OK);
    CHECK_INT(inbox_store_messages_list(f.store, f.org, conv, NULL, 10,
                                        &mp, NULL), INBOX_OK);
    CHECK_INT(mp.count, 1);
    if (mp.count == 1) {
        CHECK_STR(mp.items[0].campaign_id, "");
    }
    inbox_message_page_free(&mp);
    CHECK_INT(claim_by_day(&f, inbox_now_ms() + MINUTE, 10, &batch), 2);
    CHECK_INT(batch.items[0].priority, INBOX_OUTBOX_REPLY);
    CHECK_STR(batch.items[0].to, CAROL);
    CHECK_INT(batch.items[1].priority, INBOX_OUTBOX_BULK);
    CHECK_STR(batch.items[1].to, ALICE);
    CHECK_STR(batch.items[1].message.body, "Sale!");

    /* the carrier took it: counted sent, in Alice's record */
    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_ACCEPTED;
    res.carrier = INBOX_CARRIER_TWILIO;
    res.status = INBOX_DELIVERY_SENT;
    snprintf(res.provider_id, sizeof(res.provider_id), "SMcampaign1");
    CHECK_INT(inbox_store_outbox_result(f.store, batch.items[1].id,
                                        batch.items[1].attempt, &res,
                                        NOON + MINUTE, &report, NULL, NULL),
              INBOX_OK);
    inbox_outbox_batch_free(&batch);
    p = campaign_now(&f, id);
    CHECK_INT(p.counts.sent, 1);
    CHECK_INT(p.counts.queued, 0);

    /* nothing left to send: done */
    d = dispatch(&f, NOON + MINUTE, 10);
    CHECK_INT(d.finished, 1);
    CHECK_INT(campaign_now(&f, id).status, INBOX_CAMPAIGN_DONE);

    CHECK_INT(inbox_store_contact_campaigns(f.store, f.org, alice, &list,
                                            NULL), INBOX_OK);
    CHECK_INT(list.campaign_count, 1);
    if (list.campaign_count == 1) {
        CHECK_STR(list.campaigns[0].id, id);
        CHECK_STR(list.campaigns[0].name, "Spring sale");
        CHECK_STR(list.campaigns[0].status, "sent");
        CHECK_INT(list.campaigns[0].state, INBOX_RECIPIENT_SENT);
        CHECK_INT(list.campaigns[0].sent_at, NOON);
    }
    inbox_contact_campaigns_free(&list);
    CHECK_INT(inbox_store_contact_campaigns(f.store, f.org, bob, &list,
                                            NULL), INBOX_OK);
    CHECK_INT(list.campaign_count, 0);
    inbox_contact_campaigns_free(&list);

    fixture_close(&f);
}


/*
 * A draft is edited until it is sent: its name, text, images, audience
 * and time replaced, each checked as a new one's, its segments and
 * credits counted again; a send fixes it, and an edit refused stores
 * nothing.
 */
TEST(a_draft_is_edited_until_it_is_sent)
{
    char                   id[INBOX_ID_MAX], up[INBOX_ID_MAX];
    char                   other[INBOX_ID_MAX], alice[INBOX_ID_MAX];
    int64_t                rev;
    char                   long_body[201];
    const char            *options[3] = { " Red ", "Blue", "Green" };
    fixture_t              f;
    inbox_tags_t           tags;
    inbox_error_t          err;
    inbox_media_t          media;
    inbox_campaign_t       c;
    inbox_campaign_new_t   n;

    FIXTURE(&f);

    CHECK_INT(person(&f, ALICE, "vip", NULL, alice), 0);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);
    CHECK_INT(campaign_new(&f, NULL, id), 0);
    rev = 0;

    /* a new name, a two-segment text to two tags, at a time */
    memset(long_body, 'a', 200);
    long_body[200] = '\0';
    memset(&tags, 0, sizeof(tags));
    CHECK_INT(inbox_tags_add(&tags, "vip", 3, NULL), INBOX_OK);
    CHECK_INT(inbox_tags_add(&tags, "Team", 4, NULL), INBOX_OK);
    memset(&n, 0, sizeof(n));
    n.name = "Summer sale";
    n.body = long_body;
    n.tags = &tags;
    n.send_at = NOON + HOUR;

    CHECK_INT(inbox_store_campaign_update(f.store, f.org, id, rev, &n, &c,
                                          NULL, &err),
              INBOX_OK);
    CHECK_INT(c.revision, 1);
    rev = c.revision;
    CHECK_STR(c.id, id);
    CHECK_STR(c.name, "Summer sale");
    CHECK_STR(c.body, long_body);
    CHECK_INT(c.status, INBOX_CAMPAIGN_DRAFT);
    CHECK_INT(c.audience_all, 0);
    CHECK_INT(c.segments, 2);
    CHECK_INT(c.credits, 1);
    CHECK_INT(c.send_at, NOON + HOUR);
    CHECK_INT(c.created_at, T0);
    inbox_campaign_free(&c);

    /* as stored: the tags as given, in order */
    CHECK_INT(inbox_store_campaign_get(f.store, f.org, id, &c, NULL),
              INBOX_OK);
    CHECK_STR(c.name, "Summer sale");
    CHECK_INT(c.tags.count, 2);
    if (c.tags.count == 2) {
        CHECK_STR(c.tags.items[0], "vip");
        CHECK_STR(c.tags.items[1], "Team");
    }
    CHECK_INT(c.send_at, NOON + HOUR);
    inbox_campaign_free(&c);

    /* a picture added, to all again, when sent: one MMS, 2 credits */
    CHECK_INT(upload(&f, f.org, TOKEN_A ".png", "image/png", 100, up),
              INBOX_OK);
    memset(&media, 0, sizeof(media));
    snprintf(media.url, sizeof(media.url), "https://x.test/m/a.png");
    snprintf(media.content_type, sizeof(media.content_type), "image/png");
    snprintf(media.file, sizeof(media.file), TOKEN_A ".png");
    media.state = INBOX_MEDIA_STORED;
    n.tags = NULL;
    n.audience_all = 1;
    n.media = &media;
    n.media_count = 1;
    n.send_at = 0;

    CHECK_INT(inbox_store_campaign_update(f.store, f.org, id, rev, &n, &c,
                                          NULL, &err),
              INBOX_OK);
    CHECK_INT(c.revision, 2);
    rev = c.revision;
    CHECK_INT(c.audience_all, 1);
    CHECK_INT(c.tags.count, 0);
    CHECK_INT(c.media_count, 1);
    CHECK_INT(c.segments, 1);
    CHECK_INT(c.credits, 2);
    CHECK_INT(c.send_at, 0);
    inbox_campaign_free(&c);

    /* attached by the edit: past the grace period it is not purged */
    {
        char    files[INBOX_MEDIA_PURGE_MAX][INBOX_MEDIA_FILE_MAX];
        size_t  removed;

        CHECK_INT(inbox_store_media_purge(f.store,
                                          inbox_now_ms() + 2 * HOUR
                                          + INBOX_MEDIA_KEEP_UNUSED_MS,
                                          INBOX_MEDIA_KEEP_UNUSED_MS,
                                          INBOX_MEDIA_PURGE_MAX, NO_DIR, files,
                                          &removed, &err), INBOX_OK);
        CHECK_INT(removed, 0);
    }

    /* edited again with the picture it has: kept */
    n.name = "Summer sale, last days";
    CHECK_INT(inbox_store_campaign_update(f.store, f.org, id, rev, &n, &c,
                                          NULL, &err),
              INBOX_OK);
    rev = c.revision;
    CHECK_STR(c.name, "Summer sale, last days");
    CHECK_INT(c.media_count, 1);
    if (c.media_count == 1) {
        CHECK_STR(c.media[0].file, TOKEN_A ".png");
    }
    inbox_campaign_free(&c);

    /* made from a read older than the last edit: it would undo that
     * edit's fields, so it is refused and changes nothing */
    n.name = "From an old read";
    CHECK_INT(inbox_store_campaign_update(f.store, f.org, id, rev - 1, &n,
                                          &c, NULL, &err), INBOX_ERR_CONFLICT);
    CHECK_STR(err.message, "This draft was edited meanwhile; read it "
              "again.");
    inbox_campaign_free(&c);
    n.name = "Summer sale, last days";

    /* refused: what a new one would be refused for, naming the field;
     * nothing changes */
    n.body = "";
    n.media_count = 0;
    n.media = NULL;
    CHECK_INT(inbox_store_campaign_update(f.store, f.org, id, rev, &n, &c,
                                          NULL, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "body");
    inbox_campaign_free(&c);

    /* none: another organization's, a poll's path, no such id */
    n.body = "Last call";
    CHECK_INT(inbox_store_org_create(f.store, "Other", "UTC", other, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_campaign_update(f.store, other, id, rev, &n, &c,
                                          NULL, &err),
              INBOX_ERR_NOT_FOUND);
    inbox_campaign_free(&c);
    n.kind = INBOX_CAMPAIGN_KIND_POLL;
    n.question = "Which?";
    n.options = options;
    n.option_count = 2;
    CHECK_INT(inbox_store_campaign_update(f.store, f.org, id, rev, &n, &c,
                                          NULL, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_STR(err.message, "There is no such poll.");
    inbox_campaign_free(&c);
    n.kind = INBOX_CAMPAIGN_KIND_CAMPAIGN;
    CHECK_INT(inbox_store_campaign_update(f.store, f.org,
                                          f.backend->missing_id, 0, &n, &c,
                                          NULL, &err), INBOX_ERR_NOT_FOUND);
    inbox_campaign_free(&c);

    CHECK_INT(inbox_store_campaign_get(f.store, f.org, id, &c, NULL),
              INBOX_OK);
    CHECK_STR(c.body, long_body);
    CHECK_INT(c.media_count, 1);
    inbox_campaign_free(&c);

    /* sent as edited; from then on an edit is a conflict */
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    CHECK_INT(campaign_now(&f, id).counts.audience, 1);
    CHECK_INT(inbox_store_campaign_update(f.store, f.org, id, rev, &n, &c,
                                          NULL, &err),
              INBOX_ERR_CONFLICT);
    CHECK_STR(err.message, "Only a draft can be edited; this one is "
              "sending.");
    inbox_campaign_free(&c);
    CHECK_INT(inbox_store_campaign_get(f.store, f.org, id, &c, NULL),
              INBOX_OK);
    CHECK_STR(c.body, long_body);
    inbox_campaign_free(&c);

    /* a poll: its options trimmed, its text made again, and named by
     * its question unless named */
    memset(&n, 0, sizeof(n));
    n.kind = INBOX_CAMPAIGN_KIND_POLL;
    n.question = "Coffee?";
    n.options = options + 1;
    n.option_count = 2;
    n.audience_all = 1;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          NULL),
              INBOX_OK);
    snprintf(id, sizeof(id), "%s", c.id);
    CHECK_INT(c.revision, 0);
    rev = c.revision;
    inbox_campaign_free(&c);

    n.question = "Which colour?";
    n.options = options;
    n.option_count = 3;
    CHECK_INT(inbox_store_campaign_update(f.store, f.org, id, rev, &n, &c,
                                          NULL, &err),
              INBOX_OK);
    CHECK_STR(c.name, "Which colour?");
    CHECK_STR(c.question, "Which colour?");
    CHECK_INT(c.option_count, 3);
    if (c.option_count == 3) {
        CHECK_STR(c.options[0], "Red");
        CHECK_STR(c.options[2], "Green");
    }
    CHECK_STR(c.body, "Which colour?\n1) Red\n2) Blue\n3) Green");
    inbox_campaign_free(&c);

    /* a campaign's path does not edit a poll */
    n.kind = INBOX_CAMPAIGN_KIND_CAMPAIGN;
    n.name = "x";
    n.body = "x";
    CHECK_INT(inbox_store_campaign_update(f.store, f.org, id, rev, &n, &c,
                                          NULL, &err),
              INBOX_ERR_NOT_FOUND);
    inbox_campaign_free(&c);
    CHECK_INT(inbox_store_campaign_get(f.store, f.org, id, &c, NULL),
              INBOX_OK);
    CHECK_INT(c.kind, INBOX_CAMPAIGN_KIND_POLL);
    CHECK_INT(c.option_count, 3);
    inbox_campaign_free(&c);

    inbox_tags_free(&tags);
    fixture_close(&f);
}


/*
 * A draft saved before a rule of texts existed (here: past
 * INBOX_SMS_SEGMENTS_MAX segments, which Telnyx refuses) is refused at
 * send in the words a new one would be, naming the field: it stays a
 * draft with no recipient, and nothing is handed over nor held.
 */
TEST(a_draft_whose_text_the_rules_refuse_now_is_not_sent)
{
    char                       alice[INBOX_ID_MAX], bob[INBOX_ID_MAX];
    char                       id[INBOX_ID_MAX], *body;
    fixture_t                  f;
    progress_t                 p;
    inbox_error_t              err, made;
    inbox_campaign_t           c;
    inbox_campaign_new_t       n;
    inbox_campaign_dispatch_t  d;

    static const char *const   options[] = { "Monday", "Friday" };

    FIXTURE(&f);

    CHECK_INT(person(&f, ALICE, NULL, NULL, alice), 0);
    CHECK_INT(person(&f, BOB, NULL, NULL, bob), 0);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 100, NULL),
              INBOX_OK);

    /* 1,600 characters: 11 segments, within the old length limit */
    body = malloc(1601);
    memset(body, 'a', 1600);
    body[1600] = '\0';

    memset(&n, 0, sizeof(n));
    n.name = "Long";
    n.body = body;
    n.audience_all = 1;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          &made),
              INBOX_ERR_INVALID);
    CHECK_STR(made.field, "body");
    inbox_campaign_free(&c);

    CHECK_INT(campaign_new(&f, NULL, id), 0);
    CHECK_INT(f.backend->draft_text(&f, id, "body", body), 0);

    CHECK_INT(inbox_store_campaign_act(f.store, f.org, id,
                                       INBOX_CAMPAIGN_SEND, NOON, &c, NULL,
                                       &err),
              INBOX_ERR_INVALID);
    inbox_campaign_free(&c);
    CHECK_STR(err.field, "body");
    CHECK_STR(err.message, made.message);

    p = campaign_now(&f, id);
    CHECK_INT(p.status, INBOX_CAMPAIGN_DRAFT);
    CHECK_INT(p.counts.audience, 0);

    d = dispatch(&f, NOON, 10);
    CHECK_INT(d.handed, 0);
    CHECK_INT(balance_of(&f, f.org), 100);
    CHECK_INT(held_of(&f, f.org), 0);

    /* a poll's: named by its part, the text being question and options */
    memset(&n, 0, sizeof(n));
    n.kind = INBOX_CAMPAIGN_KIND_POLL;
    n.question = "Which day suits you?";
    n.options = options;
    n.option_count = 2;
    n.audience_all = 1;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          NULL),
              INBOX_OK);
    snprintf(id, sizeof(id), "%s", c.id);
    inbox_campaign_free(&c);

    CHECK_INT(f.backend->draft_text(&f, id, "body", body), 0);
    CHECK_INT(inbox_store_campaign_act(f.store, f.org, id,
                                       INBOX_CAMPAIGN_SEND, NOON, &c, NULL,
                                       &err),
              INBOX_ERR_INVALID);
    inbox_campaign_free(&c);
    CHECK_STR(err.field, "options");
    CHECK(strstr(err.message, made.message) != NULL);

    CHECK_INT(f.backend->draft_text(&f, id, "question", body), 0);
    CHECK_INT(inbox_store_campaign_act(f.store, f.org, id,
                                       INBOX_CAMPAIGN_SEND, NOON, &c, NULL,
                                       &err),
              INBOX_ERR_INVALID);
    inbox_campaign_free(&c);
    CHECK_STR(err.field, "question");
    CHECK_STR(err.message, made.message);

    p = campaign_now(&f, id);
    CHECK_INT(p.status, INBOX_CAMPAIGN_DRAFT);
    CHECK_INT(p.counts.audience, 0);
    CHECK_INT(dispatch(&f, NOON, 10).handed, 0);
    CHECK_INT(balance_of(&f, f.org), 100);

    free(body);
    fixture_close(&f);
}


/* A scheduled campaign's time moves, later or to now, with its
 * recipients fixed as they were; nothing else moves that way. */
TEST(a_scheduled_campaigns_time_moves_and_nothing_else_does)
{
    const char                *options[] = { "Monday", "Friday" };
    char                       alice[INBOX_ID_MAX], bob[INBOX_ID_MAX];
    char                       id[INBOX_ID_MAX], soon[INBOX_ID_MAX];
    char                       draft[INBOX_ID_MAX];
    fixture_t                  f;
    progress_t                 p;
    inbox_error_t              err;
    inbox_campaign_t           c;
    inbox_campaign_new_t       n;
    inbox_campaign_dispatch_t  d;

    FIXTURE(&f);

    CHECK_INT(person(&f, ALICE, NULL, NULL, alice), 0);
    CHECK_INT(person(&f, BOB, NULL, NULL, bob), 0);
    CHECK_INT(f.backend->opt_out(&f, BOB), 0);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 100, NULL),
              INBOX_OK);

    memset(&n, 0, sizeof(n));
    n.name = "Later";
    n.body = "Sale!";
    n.audience_all = 1;
    n.send_at = NOON + HOUR;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          NULL),
              INBOX_OK);
    snprintf(id, sizeof(id), "%s", c.id);
    inbox_campaign_free(&c);
    n.send_at = NOON + 5 * HOUR;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          NULL),
              INBOX_OK);
    snprintf(soon, sizeof(soon), "%s", c.id);
    inbox_campaign_free(&c);
    CHECK_INT(campaign_new(&f, NULL, draft), 0);

    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    CHECK_INT(campaign_do(&f, soon, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);

    /* later: not at its first time, at its new one */
    CHECK_INT(inbox_store_campaign_reschedule(f.store, f.org, id,
                                              INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                              NOON + 3 * HOUR, NOON, &c,
                                              NULL, &err), INBOX_OK);
    CHECK_INT(c.status, INBOX_CAMPAIGN_SCHEDULED);
    CHECK(c.send_at == NOON + 3 * HOUR);
    inbox_campaign_free(&c);

    /* paused before its time, it moves too, and its resume schedules
     * it for the new time */
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_PAUSE, NOON), INBOX_OK);
    CHECK_INT(inbox_store_campaign_reschedule(f.store, f.org, id,
                                              INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                              NOON + 3 * HOUR, NOON, &c,
                                              NULL, &err), INBOX_OK);
    CHECK_INT(c.status, INBOX_CAMPAIGN_PAUSED);
    inbox_campaign_free(&c);
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_RESUME, NOON + 2 * HOUR),
              INBOX_OK);
    CHECK_INT(campaign_now(&f, id).status, INBOX_CAMPAIGN_SCHEDULED);

    /* to now (0): due at once */
    CHECK_INT(inbox_store_campaign_reschedule(f.store, f.org, soon,
                                              INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                              0, NOON + HOUR, &c, NULL, &err),
              INBOX_OK);
    CHECK(c.send_at == NOON + HOUR);
    inbox_campaign_free(&c);

    d = dispatch(&f, NOON + HOUR, 10);
    CHECK_INT(d.started, 1);
    CHECK_INT(d.handed, 1);
    CHECK_INT(campaign_now(&f, soon).counts.queued, 1);
    CHECK_INT(campaign_now(&f, id).status, INBOX_CAMPAIGN_SCHEDULED);

    d = dispatch(&f, NOON + 3 * HOUR - 1, 10);
    CHECK_INT(d.started, 0);
    CHECK_INT(d.handed, 0);

    d = dispatch(&f, NOON + 3 * HOUR, 10);
    CHECK_INT(d.started, 1);
    CHECK_INT(d.handed, 1);
    p = campaign_now(&f, id);
    CHECK_INT(p.counts.audience, 2);
    CHECK_INT(p.counts.suppressed, 1);
    CHECK_INT(p.counts.queued, 1);

    /* begun, paused, a draft, another kind, another organization:
     * nothing moves */
    CHECK_INT(inbox_store_campaign_reschedule(f.store, f.org, id,
                                              INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                              NOON + 9 * HOUR, NOON, &c,
                                              NULL, &err), INBOX_ERR_CONFLICT);
    CHECK(strstr(err.message, "this one is sending") != NULL);
    inbox_campaign_free(&c);
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_PAUSE, NOON + 3 * HOUR),
              INBOX_OK);
    CHECK_INT(inbox_store_campaign_reschedule(f.store, f.org, id,
                                              INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                              NOON + 9 * HOUR, NOON, &c,
                                              NULL, &err), INBOX_ERR_CONFLICT);
    CHECK(strstr(err.message, "began sending before it was paused")
          != NULL);
    inbox_campaign_free(&c);
    CHECK_INT(inbox_store_campaign_reschedule(f.store, f.org, draft,
                                              INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                              NOON + 9 * HOUR, NOON, &c,
                                              NULL, &err), INBOX_ERR_CONFLICT);
    inbox_campaign_free(&c);
    CHECK_INT(campaign_now(&f, draft).status, INBOX_CAMPAIGN_DRAFT);
    CHECK_INT(inbox_store_campaign_reschedule(f.store, f.org, id,
                                              INBOX_CAMPAIGN_KIND_POLL,
                                              NOON + 9 * HOUR, NOON, &c,
                                              NULL, &err), INBOX_ERR_NOT_FOUND);
    inbox_campaign_free(&c);
    CHECK_INT(inbox_store_campaign_reschedule(f.store, f.backend->missing_id,
                                              id,
                                              INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                              NOON + 9 * HOUR, NOON, &c,
                                              NULL, &err), INBOX_ERR_NOT_FOUND);
    inbox_campaign_free(&c);
    CHECK_INT(inbox_store_campaign_get(f.store, f.org, id, &c, NULL),
              INBOX_OK);
    CHECK(c.send_at == NOON + 3 * HOUR);
    inbox_campaign_free(&c);

    /* a poll's, as a poll's */
    memset(&n, 0, sizeof(n));
    n.kind = INBOX_CAMPAIGN_KIND_POLL;
    n.question = "Which day suits you?";
    n.options = options;
    n.option_count = 2;
    n.audience_all = 1;
    n.send_at = NOON + 5 * HOUR;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          NULL),
              INBOX_OK);
    snprintf(id, sizeof(id), "%s", c.id);
    inbox_campaign_free(&c);
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    CHECK_INT(inbox_store_campaign_reschedule(f.store, f.org, id,
                                              INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                              NOON + 4 * HOUR, NOON, &c,
                                              NULL, &err), INBOX_ERR_NOT_FOUND);
    inbox_campaign_free(&c);
    CHECK_INT(inbox_store_campaign_reschedule(f.store, f.org, id,
                                              INBOX_CAMPAIGN_KIND_POLL,
                                              NOON + 4 * HOUR, NOON, &c,
                                              NULL, &err), INBOX_OK);
    inbox_campaign_free(&c);
    d = dispatch(&f, NOON + 4 * HOUR, 10);
    CHECK_INT(d.started, 1);
    CHECK_INT(d.handed, 1);

    fixture_close(&f);
}


/*
 * A campaign scheduled before a rule of texts existed, whose text the
 * rule refuses, is cancelled as its time comes: nobody is handed it,
 * nothing is held, and it says why in the words send would have said
 * it, as read and as listed.  One that starts with a text the rules
 * take goes; cancelled by a person, it says so.
 */
TEST(a_scheduled_campaign_whose_text_the_rules_refuse_now_is_cancelled)
{
    char                       alice[INBOX_ID_MAX], bob[INBOX_ID_MAX];
    char                       id[INBOX_ID_MAX], fine[INBOX_ID_MAX];
    char                       body[1601];
    size_t                     i, listed;
    fixture_t                  f;
    progress_t                 p;
    inbox_error_t              refusal;
    inbox_campaign_t           c;
    inbox_campaign_new_t       n;
    inbox_campaign_page_t      page;
    inbox_campaign_dispatch_t  d;
    const inbox_campaign_t    *item;

    FIXTURE(&f);

    CHECK_INT(person(&f, ALICE, NULL, NULL, alice), 0);
    CHECK_INT(person(&f, BOB, NULL, NULL, bob), 0);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 100, NULL),
              INBOX_OK);

    memset(body, 'a', 1600);
    body[1600] = '\0';

    memset(&n, 0, sizeof(n));
    n.name = "Later";
    n.body = "Sale!";
    n.audience_all = 1;
    n.send_at = NOON + HOUR;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          NULL),
              INBOX_OK);
    snprintf(id, sizeof(id), "%s", c.id);
    inbox_campaign_free(&c);
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          NULL),
              INBOX_OK);
    snprintf(fine, sizeof(fine), "%s", c.id);
    inbox_campaign_free(&c);

    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    CHECK_INT(campaign_do(&f, fine, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    CHECK_INT(campaign_now(&f, id).status, INBOX_CAMPAIGN_SCHEDULED);
    CHECK_INT(campaign_now(&f, id).cancelled_reason, INBOX_CANCEL_NONE);
    CHECK_INT(f.backend->draft_text(&f, id, "body", body), 0);

    /* what send, or create, says of that text */
    n.body = body;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c,
                                          NULL, &refusal), INBOX_ERR_INVALID);
    inbox_campaign_free(&c);

    d = dispatch(&f, NOON + HOUR, 10);
    CHECK_INT(d.started, 2);
    CHECK_INT(d.refused, 1);
    CHECK_INT(d.handed, 2);

    p = campaign_now(&f, id);
    CHECK_INT(p.status, INBOX_CAMPAIGN_CANCELLED);
    CHECK_INT(p.cancelled_reason, INBOX_CANCEL_TEXT_REFUSED);
    CHECK_STR(p.cancelled_message, refusal.message);
    CHECK_INT(p.counts.audience, 2);
    CHECK_INT(p.counts.cancelled, 2);
    CHECK(p.finished_at == NOON + HOUR);
    CHECK_INT(campaign_now(&f, fine).counts.queued, 2);
    CHECK_INT(campaign_now(&f, fine).cancelled_reason, INBOX_CANCEL_NONE);

    /* only the other campaign's two messages hold credits */
    CHECK_INT(balance_of(&f, f.org), 98);
    CHECK_INT(held_of(&f, f.org), 2);
    CHECK_INT(dispatch(&f, NOON + HOUR, 10).refused, 0);

    /* a person cancels the other: for no refusal */
    CHECK_INT(campaign_do(&f, fine, INBOX_CAMPAIGN_CANCEL, NOON + 2 * HOUR),
              INBOX_OK);
    p = campaign_now(&f, fine);
    CHECK_INT(p.status, INBOX_CAMPAIGN_CANCELLED);
    CHECK_INT(p.cancelled_reason, INBOX_CANCEL_MANUAL);
    CHECK_STR(p.cancelled_message, "");

    /* a list says as much */
    listed = 0;
    CHECK_INT(inbox_store_campaigns_list(f.store, f.org,
                                         INBOX_CAMPAIGN_KIND_CAMPAIGN, NULL,
                                         10, &page, NULL), INBOX_OK);
    for (i = 0; i < page.count; i++) {
        item = &page.items[i];

        if (strcmp(item->id, id) == 0) {
            CHECK_INT(item->cancelled_reason, INBOX_CANCEL_TEXT_REFUSED);
            CHECK(item->cancelled_message != NULL
                  && strcmp(item->cancelled_message, refusal.message) == 0);
            listed++;
        }

        if (strcmp(item->id, fine) == 0) {
            CHECK_INT(item->cancelled_reason, INBOX_CANCEL_MANUAL);
            CHECK(item->cancelled_message == NULL);
            listed++;
        }
    }
    CHECK_INT(listed, 2);
    inbox_campaign_page_free(&page);

    /* the refused one handed nothing over: it can be deleted; the other
     * handed its messages over and stays */
    CHECK_INT(inbox_store_campaign_delete(f.store, f.org, fine,
                                          INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                          inbox_now_ms(), NULL, &refusal),
              INBOX_ERR_CONFLICT);
    CHECK_INT(inbox_store_campaign_delete(f.store, f.org, id,
                                          INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                          inbox_now_ms(), NULL, &refusal),
              INBOX_OK);
    CHECK_INT(inbox_store_campaign_get(f.store, f.org, id, &c, NULL),
              INBOX_ERR_NOT_FOUND);
    inbox_campaign_free(&c);

    fixture_close(&f);
}


/* Whether the conversation waits for a response, as its own record, the
 * unresponded list and that tab's count say: 1, 0, or -1 when they do
 * not agree. */
static int
awaits_response(fixture_t *f, const char *conversation_id)
{
    int                        listed, own;
    size_t                     i;
    inbox_conversation_t       c;
    inbox_conversation_page_t  page;

    CHECK_INT(inbox_store_conversation_get(f->store, f->org, conversation_id,
                                           &c, NULL), INBOX_OK);
    own = inbox_conversation_unresponded(&c);
    CHECK_INT(inbox_filter_matches(INBOX_FILTER_UNRESPONDED, &c), own);
    inbox_conversation_free(&c);

    listed = 0;
    CHECK_INT(list(f, f->org, INBOX_FILTER_UNRESPONDED, NULL, &page),
              INBOX_OK);
    for (i = 0; i < page.count; i++) {
        listed |= strcmp(page.items[i].id, conversation_id) == 0;
    }
    CHECK_INT(page.counts[INBOX_FILTER_UNRESPONDED], (int64_t) page.count);
    inbox_conversation_page_free(&page);

    return listed == own ? own : -1;
}


/*
 * A keyword answered awaits no response (the carrier answers it here),
 * and an opt-out is the response to what came before it: no reply can go
 * to the contact now, so the thread leaves Unresponded; an opt-in word
 * that opted no one in ("Yes") waits as any message.  A message newer
 * than the opt-out (one the carrier delivered late, or after a START)
 * still waits.
 */
TEST(a_keyword_awaits_no_response_and_an_opt_out_ends_the_wait)
{
    size_t                 i, framed;
    fixture_t              f;
    inbox_event_list_t     events;
    inbound_t              m;
    inbox_number_t         number;
    inbox_ingest_result_t  r;

    FIXTURE(&f);

    memset(&number, 0, sizeof(number));
    snprintf(number.org_id, sizeof(number.org_id), "%s", f.org);
    snprintf(number.e164, sizeof(number.e164), "%s", NUMBER2);
    number.carrier = INBOX_CARRIER_TWILIO;
    number.auth_token = (char *) "secret";
    number.carrier_answers_keywords = 1;
    CHECK_INT(inbox_store_number_add(f.store, &number, NULL), INBOX_OK);
    memset(&events, 0, sizeof(events));
    framed = 0;

    /* HELP alone: answered by the carrier, nothing waits */
    inbound_init(&m, "SM1", ALICE, NUMBER2, "HELP", T0);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &r, NULL, NULL),
              INBOX_OK);
    CHECK_INT(r.answered, 0);
    CHECK_INT(awaits_response(&f, r.conversation_id), 0);

    /* a question waits; a HELP after it keeps it waiting */
    inbound_init(&m, "SM2", ALICE, NUMBER2, "where is my order?",
                 T0 + MINUTE);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &r, NULL, NULL),
              INBOX_OK);
    CHECK_INT(awaits_response(&f, r.conversation_id), 1);
    inbound_init(&m, "SM3", ALICE, NUMBER2, "HELP", T0 + 2 * MINUTE);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &r, NULL, NULL),
              INBOX_OK);
    CHECK_INT(awaits_response(&f, r.conversation_id), 1);

    /* STOP: no reply can go, the wait ends, in its frame too */
    inbound_init(&m, "SM4", ALICE, NUMBER2, "STOP", T0 + 3 * MINUTE);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &r, &events,
                                         NULL), INBOX_OK);
    CHECK_INT(r.opt_changed, 1);
    CHECK_INT(awaits_response(&f, r.conversation_id), 0);
    for (i = 0; i < events.count; i++) {
        if (strstr(events.items[i].json, "\"conversation\":{") != NULL) {
            CHECK(strstr(events.items[i].json, "\"unresponded\":false")
                  != NULL);
            framed++;
        }
    }
    CHECK(framed > 0);
    inbox_event_list_free(&events);
    CHECK_INT(list_count(&f, INBOX_FILTER_UNRESPONDED, NULL), 0);

    /* a message older than the STOP, delivered late: answered by it */
    inbound_init(&m, "SM5", ALICE, NUMBER2, "hello?", T0 + 2 * MINUTE + 1);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &r, NULL, NULL),
              INBOX_OK);
    CHECK_INT(awaits_response(&f, r.conversation_id), 0);

    /* START, then a question: that one waits again */
    inbound_init(&m, "SM6", ALICE, NUMBER2, "START", T0 + 4 * MINUTE);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &r, NULL, NULL),
              INBOX_OK);
    CHECK_INT(awaits_response(&f, r.conversation_id), 0);
    inbound_init(&m, "SM7", ALICE, NUMBER2, "is it in stock?",
                 T0 + 5 * MINUTE);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &r, NULL, NULL),
              INBOX_OK);
    CHECK_INT(awaits_response(&f, r.conversation_id), 1);

    /* a STOP the carrier delivered late, older than that question: the
     * question still waits */
    inbound_init(&m, "SM8", ALICE, NUMBER2, "STOP", T0 + 4 * MINUTE + 1);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &r, NULL, NULL),
              INBOX_OK);
    CHECK_INT(awaits_response(&f, r.conversation_id), 1);

    /* "Yes" from a contact who never opted out opts nothing in: no one
     * answers it, and it waits as any message */
    inbound_init(&m, "SM9", BOB, NUMBER2, "Yes", T0);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &r, NULL, NULL),
              INBOX_OK);
    CHECK_INT(r.keyword, INBOX_KEYWORD_OPT_IN);
    CHECK_INT(r.opt_changed, 0);
    CHECK_INT(awaits_response(&f, r.conversation_id), 1);

    fixture_close(&f);
}


/* Whether a frame of events shows the conversation's "unresponded" as
 * want, and some frame shows it at all. */
static int
framed_unresponded(const inbox_event_list_t *events, int want)
{
    size_t  i, framed;

    framed = 0;
    for (i = 0; i < events->count; i++) {
        if (strstr(events->items[i].json, "\"conversation\":{") != NULL) {
            if (strstr(events->items[i].json,
                       want ? "\"unresponded\":true"
                            : "\"unresponded\":false") == NULL)
            {
                return 0;
            }
            framed++;
        }
    }

    return framed > 0;
}


/*
 * An opt-out made by hand or by the carrier's answer is the response to
 * what came before it, as a STOP is: no reply can go to the contact, so
 * the thread leaves Unresponded, and its frames say so; a message the
 * contact sent before it, delivered late, is answered by it, and one
 * after it waits again.
 */
TEST(an_opt_out_by_hand_or_by_the_carrier_ends_the_wait_as_a_stop_does)
{
    char                    contact[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    fixture_t               f;
    inbox_event_list_t      events;
    inbox_ingest_result_t   r;
    inbox_contact_record_t  got;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    /* by hand: Alice's question waits, the opt-out answers it */
    CHECK_INT(receive(&f, "SM1", ALICE, "where is my order?", T0, &r, NULL),
              INBOX_OK);
    CHECK(contact_of(&f, ALICE, contact, conv));
    CHECK_INT(awaits_response(&f, conv), 1);
    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, contact,
                                          INBOX_OPT_OUT_MANUAL, NULL,
                                          T0 + 2 * MINUTE, 0, &got, &events,
                                          NULL), INBOX_OK);
    CHECK_INT(got.opted_out, 1);
    inbox_contact_record_free(&got);
    CHECK_INT(awaits_response(&f, conv), 0);
    CHECK(framed_unresponded(&events, 0));
    inbox_event_list_free(&events);
    CHECK_INT(list_count(&f, INBOX_FILTER_UNRESPONDED, NULL), 0);

    /* older than the opt-out, delivered late: answered by it */
    CHECK_INT(receive(&f, "SM2", ALICE, "hello?", T0 + MINUTE, &r, NULL),
              INBOX_OK);
    CHECK_INT(awaits_response(&f, conv), 0);

    /* after it: waits again, opted out or not */
    CHECK_INT(receive(&f, "SM3", ALICE, "why no answer?", T0 + 3 * MINUTE,
                      &r, NULL), INBOX_OK);
    CHECK_INT(awaits_response(&f, conv), 1);

    /* opting out again changes nothing: that message still waits */
    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, contact,
                                          INBOX_OPT_OUT_MANUAL, NULL,
                                          T0 + 4 * MINUTE, 0, NULL, NULL,
                                          NULL), INBOX_OK);
    CHECK_INT(awaits_response(&f, conv), 1);

    /* by the carrier's answer to a send: Bob's question is answered */
    CHECK_INT(receive(&f, "SM4", BOB, "is it open today?", T0, &r, NULL),
              INBOX_OK);
    CHECK(contact_of(&f, BOB, contact, conv));
    CHECK_INT(awaits_response(&f, conv), 1);
    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, contact,
                                          INBOX_OPT_OUT_CARRIER, NULL,
                                          T0 + MINUTE, T0 + MINUTE, &got,
                                          &events, NULL), INBOX_OK);
    CHECK_INT(got.opted_out, 1);
    CHECK_STR(got.opt_out_source, "carrier");
    inbox_contact_record_free(&got);
    CHECK_INT(awaits_response(&f, conv), 0);
    CHECK(framed_unresponded(&events, 0));
    inbox_event_list_free(&events);
    CHECK_INT(list_count(&f, INBOX_FILTER_UNRESPONDED, NULL), 1);

    fixture_close(&f);
}


/*
 * A campaign or poll is no response: a contact who wrote and had no
 * answer still waits after one is handed to the thread, though it is
 * the thread's last message; a person's reply is the response, and a
 * message the contact sent before it, stored late, leaves it answered.
 */
TEST(a_campaign_leaves_a_thread_unresponded_and_a_reply_ends_it)
{
    char                       id[INBOX_ID_MAX], poll[INBOX_ID_MAX];
    fixture_t                  f;
    inbox_campaign_t           c;
    inbox_campaign_new_t       n;
    inbox_conversation_t       conv;
    inbox_ingest_result_t      alice, bob;
    inbox_campaign_dispatch_t  d;
    static const char         *options[] = { "Yes", "No" };

    FIXTURE(&f);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);

    CHECK_INT(receive(&f, "SM1", ALICE, "uk", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "hi", T0 + 1, &bob, NULL), INBOX_OK);
    CHECK_INT(answer(&f, bob.conversation_id), 0);
    CHECK_INT(awaits_response(&f, alice.conversation_id), 1);
    CHECK_INT(awaits_response(&f, bob.conversation_id), 0);

    /* a campaign to everyone: Alice's thread ends with it, still waits */
    CHECK_INT(campaign_new(&f, NULL, id), 0);
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    d = dispatch(&f, NOON, 10);
    CHECK_INT(d.handed, 2);

    CHECK_INT(inbox_store_conversation_get(f.store, f.org,
                                           alice.conversation_id, &conv,
                                           NULL), INBOX_OK);
    CHECK_INT(conv.last_message.direction, INBOX_OUTBOUND);
    CHECK_STR(conv.last_message.preview, "Sale!");
    inbox_conversation_free(&conv);
    CHECK_INT(awaits_response(&f, alice.conversation_id), 1);
    CHECK_INT(awaits_response(&f, bob.conversation_id), 0);

    /* a poll too */
    memset(&n, 0, sizeof(n));
    n.kind = INBOX_CAMPAIGN_KIND_POLL;
    n.name = "Survey";
    n.question = "Coming back?";
    n.options = options;
    n.option_count = 2;
    n.audience_all = 1;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          NULL),
              INBOX_OK);
    snprintf(poll, sizeof(poll), "%s", c.id);
    inbox_campaign_free(&c);
    CHECK_INT(campaign_do(&f, poll, INBOX_CAMPAIGN_SEND, NOON + MINUTE),
              INBOX_OK);
    d = dispatch(&f, NOON + MINUTE, 10);
    CHECK_INT(d.handed, 2);
    CHECK_INT(awaits_response(&f, alice.conversation_id), 1);
    CHECK_INT(awaits_response(&f, bob.conversation_id), 0);

    /* Bob answers the campaign (after his reply, sent at the real
     * time): now he waits too */
    CHECK_INT(receive(&f, "SM3", BOB, "thanks", inbox_now_ms() + 3 * MINUTE,
                      NULL, NULL), INBOX_OK);
    CHECK_INT(awaits_response(&f, bob.conversation_id), 1);

    /* a person's reply is Alice's response */
    CHECK_INT(reply(&f, alice.conversation_id, "yes, we ship to the UK",
                    NULL, NULL, NULL, NULL), INBOX_OK);
    CHECK_INT(awaits_response(&f, alice.conversation_id), 0);
    CHECK_INT(list_count(&f, INBOX_FILTER_UNRESPONDED, NULL), 1);

    /* a message she sent before that reply, stored late: answered */
    CHECK_INT(receive(&f, "SM4", ALICE, "uk?", T0 + 5, NULL, NULL),
              INBOX_OK);
    CHECK_INT(awaits_response(&f, alice.conversation_id), 0);

    fixture_close(&f);
}


TEST(quiet_hours_hold_each_recipient_on_its_own_clock)
{
    char                       a[INBOX_ID_MAX], b[INBOX_ID_MAX];
    char                       id[INBOX_ID_MAX];
    int64_t                    at;
    fixture_t                  f;
    progress_t                 p;
    inbox_campaign_dispatch_t  d;

    FIXTURE(&f);

    CHECK_INT(person(&f, ALICE, NULL, "America/New_York", a), 0);
    CHECK_INT(person(&f, BOB, NULL, "Asia/Tokyo", b), 0);
    CHECK_INT(inbox_store_contact_timezone_set(f.store, f.org, a,
                                               "Mars/Base", NULL),
              INBOX_ERR_INVALID);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);
    CHECK_INT(campaign_new(&f, NULL, id), 0);

    /* 2026-01-02T02:00Z: 21:00 in New York, 11:00 in Tokyo */
    at = T0 + 26 * HOUR;
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_SEND, at), INBOX_OK);
    d = dispatch(&f, at, 10);
    CHECK_INT(d.handed, 1);
    CHECK_INT(d.waiting, 1);
    CHECK_INT(carrier_takes_all(&f, at), 1);        /* Tokyo's goes */
    p = campaign_now(&f, id);
    CHECK_INT(p.counts.waiting_quiet_hours, 1);
    CHECK_INT(p.status, INBOX_CAMPAIGN_SENDING);

    /* still night in New York an hour before 08:00 EST (13:00Z) */
    d = dispatch(&f, T0 + 36 * HOUR, 10);
    CHECK_INT(d.handed, 0);
    d = dispatch_sent(&f, T0 + 37 * HOUR, 10);
    CHECK_INT(d.handed, 1);
    CHECK_INT(d.finished, 1);
    p = campaign_now(&f, id);
    CHECK_INT(p.counts.waiting_quiet_hours, 0);
    CHECK_INT(p.counts.queued, 2);
    CHECK_INT(p.status, INBOX_CAMPAIGN_DONE);

    fixture_close(&f);
}


/*
 * Recipients held for quiet hours wait for the rule as it is now: a
 * window set by mistake and put right, a contact's clock changed (by a
 * PATCH or an import) has them looked at again, not kept until the
 * opening the old rule gave; a window made longer holds them longer.
 */
TEST(held_recipients_wait_for_quiet_hours_as_they_are_now)
{
    char                       a[INBOX_ID_MAX], b[INBOX_ID_MAX];
    char                       c[INBOX_ID_MAX], id[INBOX_ID_MAX];
    int64_t                    at;
    fixture_t                  f;
    progress_t                 p;
    inbox_contact_row_t        row;
    inbox_import_count_t       count;
    inbox_settings_edit_t      edit;
    inbox_campaign_dispatch_t  d;

    FIXTURE(&f);

    CHECK_INT(person(&f, ALICE, NULL, "America/New_York", a), 0);
    CHECK_INT(person(&f, BOB, NULL, "America/New_York", b), 0);
    CHECK_INT(person(&f, CAROL, NULL, "America/New_York", c), 0);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);
    CHECK_INT(campaign_new(&f, NULL, id), 0);

    /* 2026-01-02T02:00Z, 21:00 in New York: all held until 08:00 */
    at = T0 + 26 * HOUR;
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_SEND, at), INBOX_OK);
    d = dispatch(&f, at, 10);
    CHECK_INT(d.handed, 0);
    CHECK_INT(d.waiting, 3);

    /* made longer, to 10:00: still held, whatever they were due at */
    memset(&edit, 0, sizeof(edit));
    CHECK_INT(inbox_settings_set_quiet_hours(&edit, "21:00", "10:00", NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_settings_update(f.store, f.org, &edit, NULL, NULL,
                                          NULL), INBOX_OK);
    CHECK_INT(dispatch(&f, T0 + 27 * HOUR, 10).handed, 0);
    CHECK_INT(campaign_now(&f, id).counts.waiting_quiet_hours, 3);

    /* put right to 06:00; Bob is in Tokyo (an import says so), Carol in
     * London (a PATCH) */
    CHECK_INT(inbox_settings_set_quiet_hours(&edit, "21:00", "06:00", NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_settings_update(f.store, f.org, &edit, NULL, NULL,
                                          NULL), INBOX_OK);
    memset(&row, 0, sizeof(row));
    snprintf(row.phone, sizeof(row.phone), "%s", BOB);
    snprintf(row.timezone, sizeof(row.timezone), "Asia/Tokyo");
    CHECK_INT(inbox_store_contacts_import(f.store, f.org, &row, 1, &count,
                                          NULL, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_timezone_set(f.store, f.org, c,
                                               "Europe/London", NULL),
              INBOX_OK);

    /* 04:00Z: 13:00 in Tokyo, Bob's goes; 23:00 in New York, 04:00 in
     * London, the others wait */
    at = T0 + 28 * HOUR;
    d = dispatch(&f, at, 10);
    CHECK_INT(d.handed, 1);
    CHECK_INT(d.waiting, 2);
    CHECK_INT(carrier_takes_all(&f, at), 1);

    /* 06:00 in London, then in New York (11:00Z), not 08:00 */
    CHECK_INT(dispatch(&f, T0 + 30 * HOUR - MINUTE, 10).handed, 0);
    at = T0 + 30 * HOUR;
    CHECK_INT(dispatch(&f, at, 10).handed, 1);
    CHECK_INT(carrier_takes_all(&f, at), 1);
    CHECK_INT(dispatch(&f, T0 + 35 * HOUR - MINUTE, 10).handed, 0);
    d = dispatch_sent(&f, T0 + 35 * HOUR, 10);
    CHECK_INT(d.handed, 1);
    CHECK_INT(d.finished, 1);
    p = campaign_now(&f, id);
    CHECK_INT(p.counts.waiting_quiet_hours, 0);
    CHECK_INT(p.status, INBOX_CAMPAIGN_DONE);

    fixture_close(&f);
}


/* Recipients are due at the campaign's send time, also one gone by when
 * it is sent: a dispatch on a clock of its own (the sender's
 * --clock-file) at that time hands them over. */
TEST(a_send_time_gone_by_is_when_the_recipients_are_due)
{
    char                       a[INBOX_ID_MAX];
    fixture_t                  f;
    progress_t                 p;
    inbox_campaign_t           c;
    inbox_campaign_new_t       n;
    inbox_campaign_dispatch_t  d;

    FIXTURE(&f);

    CHECK_INT(person(&f, ALICE, "x", NULL, a), 0);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);
    memset(&n, 0, sizeof(n));
    n.name = "Dated";
    n.body = "Sale!";
    n.audience_all = 1;
    n.send_at = NOON;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          NULL),
              INBOX_OK);
    snprintf(a, sizeof(a), "%s", c.id);
    inbox_campaign_free(&c);

    CHECK_INT(campaign_do(&f, a, INBOX_CAMPAIGN_SEND, NOON + HOUR),
              INBOX_OK);
    p = campaign_now(&f, a);
    CHECK_INT(p.status, INBOX_CAMPAIGN_SENDING);
    d = dispatch(&f, NOON - MINUTE, 10);
    CHECK_INT(d.handed, 0);
    d = dispatch_sent(&f, NOON, 10);
    CHECK_INT(d.handed, 1);
    CHECK_INT(d.finished, 1);

    fixture_close(&f);
}


/* Alice, Bob and Carol, credits for two, a campaign to all sent at NOON
 * and dispatched: two handed over, then it pauses for credits. */
static inbox_campaign_dispatch_t
campaign_short_of_credits(fixture_t *f, char id[INBOX_ID_MAX])
{
    char  x[INBOX_ID_MAX];

    CHECK_INT(person(f, ALICE, NULL, NULL, x), 0);
    CHECK_INT(person(f, BOB, NULL, NULL, x), 0);
    CHECK_INT(person(f, CAROL, NULL, NULL, x), 0);
    CHECK_INT(inbox_store_credits_grant(f->store, f->org, 2, NULL),
              INBOX_OK);
    CHECK_INT(campaign_new(f, NULL, id), 0);
    CHECK_INT(campaign_do(f, id, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);

    return dispatch(f, NOON, 10);
}


TEST(a_campaign_mms_is_one_segment_as_a_reply_mms_is)
{
    char                   id[INBOX_ID_MAX], alice[INBOX_ID_MAX];
    char                  *body;
    fixture_t              f;
    inbox_media_t          media;
    inbox_campaign_t       c;
    inbox_campaign_new_t   n;
    inbox_outbox_batch_t   batch;

    FIXTURE(&f);

    CHECK_INT(person(&f, ALICE, NULL, NULL, alice), 0);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);

    /* 400 characters: three segments as an SMS, one message as an MMS */
    body = malloc(401);
    memset(body, 'a', 400);
    body[400] = '\0';

    CHECK_INT(upload(&f, f.org, TOKEN_A ".png", "image/png", 100, id),
              INBOX_OK);
    memset(&media, 0, sizeof(media));
    snprintf(media.url, sizeof(media.url), "https://x.test/m/a.png");
    snprintf(media.content_type, sizeof(media.content_type), "image/png");
    snprintf(media.file, sizeof(media.file), TOKEN_A ".png");
    media.state = INBOX_MEDIA_STORED;

    memset(&n, 0, sizeof(n));
    n.name = "Pictures";
    n.body = body;
    n.audience_all = 1;
    n.media_count = 1;
    n.media = &media;

    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          NULL),
              INBOX_OK);
    CHECK_INT(c.segments, 1);
    CHECK_INT(c.credits, 2);
    snprintf(id, sizeof(id), "%s", c.id);
    inbox_campaign_free(&c);

    CHECK_INT(inbox_store_campaign_get(f.store, f.org, id, &c, NULL),
              INBOX_OK);
    CHECK_INT(c.segments, 1);
    inbox_campaign_free(&c);

    /* and the message in Alice's thread says so */
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    CHECK_INT(dispatch(&f, NOON, 10).handed, 1);
    CHECK_INT(claim_by_day(&f, NOON + MINUTE, 10, &batch), 1);
    if (batch.count == 1) {
        CHECK_INT(batch.items[0].message.segments, 1);
        CHECK_INT(batch.items[0].message.credits, 2);
        CHECK_INT(batch.items[0].message.media_count, 1);
    }
    inbox_outbox_batch_free(&batch);

    /* without the picture it is three */
    n.name = "Words";
    n.media_count = 0;
    n.media = NULL;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          NULL),
              INBOX_OK);
    CHECK_INT(c.segments, 3);
    CHECK_INT(c.credits, 1);
    inbox_campaign_free(&c);

    free(body);
    fixture_close(&f);
}


/* The upload file of the organization, as the module resolves a
 * media_id: its media named with the upload's id. */
static void
media_of_upload(inbox_media_t *media, const char *file, const char *id)
{
    memset(media, 0, sizeof(inbox_media_t));
    snprintf(media->url, sizeof(media->url), "https://x.test/media/%s",
             file);
    snprintf(media->content_type, sizeof(media->content_type),
             "image/png");
    snprintf(media->file, sizeof(media->file), "%s", file);
    media->bytes = 100;
    media->state = INBOX_MEDIA_STORED;
    snprintf(media->upload_id, sizeof(media->upload_id), "%s", id);
}


/*
 * A campaign's images keep the uploads they are, in order, so that an
 * edit names those it keeps again rather than copies: an upload the
 * draft has attached already is attached again without complaint, and
 * one the edit leaves out is released, purged once unused for the grace
 * period.  An image with no upload known (kept from before) keeps none.
 */
TEST(a_drafts_images_keep_their_uploads_through_an_edit)
{
    char                   id[INBOX_ID_MAX], ups[3][INBOX_ID_MAX];
    char                   files[INBOX_MEDIA_PURGE_MAX][INBOX_MEDIA_FILE_MAX];
    size_t                 i, removed;
    fixture_t              f;
    inbox_error_t          err;
    inbox_media_t          media[3], kept[2];
    inbox_campaign_t       c, was;
    inbox_campaign_new_t   n;

    static const char     *names[3] = { TOKEN_A ".png", TOKEN_B ".png",
                                        TOKEN_C ".png" };

    FIXTURE(&f);

    for (i = 0; i < 3; i++) {
        CHECK_INT(upload(&f, f.org, names[i], "image/png", 100, ups[i]),
                  INBOX_OK);
        media_of_upload(&media[i], names[i], ups[i]);
    }

    memset(&n, 0, sizeof(n));
    n.name = "Three pictures";
    n.body = "Our menu";
    n.audience_all = 1;
    n.media = media;
    n.media_count = 3;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          &err),
              INBOX_OK);
    snprintf(id, sizeof(id), "%s", c.id);
    CHECK_INT(c.media_count, 3);
    for (i = 0; i < 3 && i < c.media_count; i++) {
        CHECK_STR(c.media[i].upload_id, ups[i]);
    }
    inbox_campaign_free(&c);

    CHECK_INT(inbox_store_campaign_get(f.store, f.org, id, &c, NULL),
              INBOX_OK);
    CHECK_INT(c.media_count, 3);
    for (i = 0; i < 3 && i < c.media_count; i++) {
        CHECK_STR(c.media[i].file, names[i]);
        CHECK_STR(c.media[i].upload_id, ups[i]);
    }
    inbox_campaign_free(&c);

    /* the second removed: the first and third named again, attached
     * already */
    kept[0] = media[0];
    kept[1] = media[2];
    n.media = kept;
    n.media_count = 2;
    CHECK_INT(inbox_store_campaign_update(f.store, f.org, id, 0, &n, &c,
                                          NULL, &err), INBOX_OK);
    CHECK_INT(c.media_count, 2);
    inbox_campaign_free(&c);

    CHECK_INT(inbox_store_campaign_get(f.store, f.org, id, &c, NULL),
              INBOX_OK);
    CHECK_INT(c.revision, 1);
    CHECK_INT(c.media_count, 2);
    if (c.media_count == 2) {
        CHECK_STR(c.media[0].file, names[0]);
        CHECK_STR(c.media[0].upload_id, ups[0]);
        CHECK_STR(c.media[1].file, names[2]);
        CHECK_STR(c.media[1].upload_id, ups[2]);
    }

    /* an edit of its text alone keeps them as read, ids and all (the
     * module's PATCH without media_ids) */
    was = c;
    n.body = "Our new menu";
    n.media = was.media;
    n.media_count = was.media_count;
    CHECK_INT(inbox_store_campaign_update(f.store, f.org, id, was.revision,
                                          &n, &c, NULL, &err), INBOX_OK);
    CHECK_INT(c.media_count, 2);
    if (c.media_count == 2) {
        CHECK_STR(c.media[0].upload_id, ups[0]);
        CHECK_STR(c.media[1].upload_id, ups[2]);
    }
    inbox_campaign_free(&c);
    inbox_campaign_free(&was);

    /* the one left out is unused: purged once the grace period has
     * passed since the edit, the two kept stay */
    CHECK_INT(inbox_store_media_purge(f.store,
                                      inbox_now_ms()
                                      + INBOX_MEDIA_KEEP_UNUSED_MS
                                      + MINUTE,
                                      INBOX_MEDIA_KEEP_UNUSED_MS,
                                      INBOX_MEDIA_PURGE_MAX, NO_DIR, files,
                                      &removed, &err), INBOX_OK);
    CHECK_INT(removed, 1);
    CHECK_STR(files[0], names[1]);

    /* an image whose upload is not known keeps none (its file uploaded
     * again) */
    CHECK_INT(upload(&f, f.org, names[1], "image/png", 100, ups[1]),
              INBOX_OK);
    media[1].upload_id[0] = '\0';
    n.media = media;
    n.media_count = 3;
    CHECK_INT(inbox_store_campaign_update(f.store, f.org, id, 2, &n, &c,
                                          NULL, &err), INBOX_OK);
    inbox_campaign_free(&c);
    CHECK_INT(inbox_store_campaign_get(f.store, f.org, id, &c, NULL),
              INBOX_OK);
    CHECK_INT(c.media_count, 3);
    if (c.media_count == 3) {
        CHECK_STR(c.media[0].upload_id, ups[0]);
        CHECK_STR(c.media[1].file, names[1]);
        CHECK_STR(c.media[1].upload_id, "");
        CHECK_STR(c.media[2].upload_id, ups[2]);
    }
    inbox_campaign_free(&c);

    fixture_close(&f);
}

/* A message's or campaign's media naming the upload file (ours). */
static void
media_named(inbox_media_t *media, const char *file)
{
    memset(media, 0, sizeof(inbox_media_t));
    snprintf(media->url, sizeof(media->url), "https://x.test/media/%s",
             file);
    snprintf(media->content_type, sizeof(media->content_type),
             "image/png");
    snprintf(media->file, sizeof(media->file), "%s", file);
    media->state = INBOX_MEDIA_STORED;
}


/* A draft campaign to everyone with one image, the upload file (ours). */
static void
campaign_naming(fixture_t *f, const char *file, const char *content_type)
{
    inbox_media_t         media;
    inbox_campaign_t      c;
    inbox_campaign_new_t  n;

    media_named(&media, file);
    snprintf(media.content_type, sizeof(media.content_type), "%s",
             content_type);
    memset(&n, 0, sizeof(n));
    n.name = "Pictures";
    n.body = "Look";
    n.audience_all = 1;
    n.media_count = 1;
    n.media = &media;
    CHECK_INT(inbox_store_campaign_create(f->store, f->org, &n, T0, &c,
                                          NULL, NULL), INBOX_OK);
    inbox_campaign_free(&c);
}


/*
 * Pictures reach only numbers in the US and Canada: a campaign's other
 * recipients get its text and a link to each image as one SMS, at an
 * SMS's price, and the preview counts them.
 */
TEST(a_campaigns_pictures_go_abroad_as_links)
{
    char                   id[INBOX_ID_MAX], x[INBOX_ID_MAX];
    size_t                 i, seen;
    int64_t                all, out, no_mms;
    fixture_t              f;
    inbox_tags_t           tags;
    inbox_media_t          media[2];
    inbox_campaign_t       c;
    inbox_campaign_new_t   n;
    inbox_outbox_batch_t   batch;
    const inbox_message_t *m;

    FIXTURE(&f);

    CHECK_INT(person(&f, ALICE, "far", NULL, x), 0);         /* the US */
    CHECK_INT(person(&f, "+16045550123", NULL, NULL, x), 0); /* Canada */
    CHECK_INT(person(&f, "+447911123456", "far", NULL, x), 0); /* Britain */
    CHECK_INT(person(&f, "+18765550123", NULL, NULL, x), 0); /* Jamaica */
    CHECK_INT(person(&f, BOB, "far", NULL, x), 0);
    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, x,
                                          INBOX_OPT_OUT_MANUAL, NULL, T0, 0,
                                          NULL, NULL, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 20, NULL), INBOX_OK);

    /* the preview: five contacts, one opted out, two of the other four
     * abroad */
    CHECK_INT(inbox_store_campaign_audience(f.store, f.org, 1, NULL, &all,
                                            &out, &no_mms, NULL), INBOX_OK);
    CHECK_INT(all, 5);
    CHECK_INT(out, 1);
    CHECK_INT(no_mms, 2);
    /* and of a tag, the opted-out one among them (a US number) */
    memset(&tags, 0, sizeof(tags));
    CHECK_INT(inbox_tags_add(&tags, "Far", 3, NULL), INBOX_OK);
    CHECK_INT(inbox_store_campaign_audience(f.store, f.org, 0, &tags, &all,
                                            &out, &no_mms, NULL), INBOX_OK);
    CHECK_INT(all, 3);
    CHECK_INT(out, 1);
    CHECK_INT(no_mms, 1);
    inbox_tags_free(&tags);

    CHECK_INT(upload(&f, f.org, TOKEN_A ".png", "image/png", 100, x),
              INBOX_OK);
    CHECK_INT(upload(&f, f.org, TOKEN_B ".png", "image/png", 100, x),
              INBOX_OK);
    media_named(&media[0], TOKEN_A ".png");
    media_named(&media[1], TOKEN_B ".png");

    memset(&n, 0, sizeof(n));
    n.name = "Pictures";
    n.body = "Spring sale";
    n.audience_all = 1;
    n.media_count = 2;
    n.media = media;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          NULL),
              INBOX_OK);
    snprintf(id, sizeof(id), "%s", c.id);
    inbox_campaign_free(&c);

    /* two MMS at 2 credits, two SMS with links at 1 */
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    CHECK_INT(dispatch(&f, NOON, 10).handed, 4);
    CHECK_INT(held_of(&f, f.org), 6);
    CHECK_INT(balance_of(&f, f.org), 14);

    seen = 0;
    CHECK_INT(claim_by_day(&f, NOON + MINUTE, 10, &batch), 4);
    for (i = 0; i < batch.count; i++) {
        m = &batch.items[i].message;

        if (inbox_phone_takes_mms(batch.items[i].to)) {
            CHECK_STR(m->body, "Spring sale");
            CHECK_INT(m->media_count, 2);
            CHECK_INT(m->credits, 2);

        } else {
            CHECK_STR(m->body, "Spring sale\n"
                      "https://x.test/media/" TOKEN_A ".png\n"
                      "https://x.test/media/" TOKEN_B ".png");
            CHECK_INT(m->media_count, 0);
            CHECK_INT(m->segments, 1);
            CHECK_INT(m->credits, 1);
            seen++;
        }
    }
    CHECK_INT(seen, 2);
    inbox_outbox_batch_free(&batch);

    fixture_close(&f);
}


TEST(uploads_nothing_attached_are_purged_after_a_while)
{
    char                   other[INBOX_ID_MAX], id[INBOX_ID_MAX];
    char                   c_media[INBOX_ID_MAX];
    char                   files[INBOX_MEDIA_PURGE_MAX]
                                [INBOX_MEDIA_FILE_MAX];
    size_t                 removed, i;
    int64_t                later;
    const char            *ids[1];
    fixture_t              f;
    inbox_reply_t          r;
    inbox_media_t          media, two[2];
    inbox_error_t          err;
    inbox_campaign_t       c;
    inbox_reply_result_t   result;
    inbox_campaign_new_t   n;
    inbox_ingest_result_t  in, mms;
    inbox_media_record_t   got;
    inbox_message_page_t   page;

    FIXTURE(&f);
    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);
    CHECK_INT(receive(&f, "SM1", ALICE, "a picture?", T0, &in, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);

    /* A: never used; B: a reply's; C: a campaign's; D: another
     * organization's, never used; E: an inbound image's copy */
    CHECK_INT(upload(&f, f.org, TOKEN_A ".png", "image/png", 100, id),
              INBOX_OK);
    ids[0] = id;
    CHECK_INT(upload(&f, f.org, TOKEN_B ".png", "image/png", 100, id),
              INBOX_OK);
    CHECK_INT(upload(&f, f.org, TOKEN_C ".png", "image/png", 100, c_media),
              INBOX_OK);
    CHECK_INT(upload(&f, other, TOKEN_D ".png", "image/png", 100, id),
              INBOX_OK);

    media_named(&media, TOKEN_B ".png");
    reply_init(&r, in.conversation_id, "Here it is", 2, NULL);
    r.media = &media;
    r.media_count = 1;
    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &result, NULL,
                                       &err), INBOX_OK);
    inbox_reply_result_free(&result);

    media_named(&media, TOKEN_C ".png");
    memset(&n, 0, sizeof(n));
    n.name = "Pictures";
    n.body = "Look";
    n.audience_all = 1;
    n.media_count = 1;
    n.media = &media;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          &err),
              INBOX_OK);
    inbox_campaign_free(&c);

    CHECK_INT(receive_mms(&f, "MM1", 1, T0, &mms), INBOX_OK);
    CHECK_INT(inbox_store_media_fetch_done(f.store, mms.message_id, 0,
                                           TOKEN_E ".png", "image/png", 100,
                                           NULL, &err), INBOX_OK);

    /* within the grace period nothing goes */
    CHECK_INT(inbox_store_media_purge(f.store, inbox_now_ms(),
                                      INBOX_MEDIA_KEEP_UNUSED_MS,
                                      INBOX_MEDIA_PURGE_MAX, NO_DIR, files,
                                      &removed, &err), INBOX_OK);
    CHECK_INT(removed, 0);

    /* past it, the unused ones of every organization, at most max a
     * call, and their files named for the caller to delete */
    later = inbox_now_ms() + INBOX_MEDIA_KEEP_UNUSED_MS + MINUTE;
    CHECK_INT(inbox_store_media_purge(f.store, later,
                                      INBOX_MEDIA_KEEP_UNUSED_MS, 1,
                                      NO_DIR, files, &removed, &err), INBOX_OK);
    CHECK_INT(removed, 1);
    CHECK_STR(files[0], TOKEN_A ".png");
    CHECK_INT(inbox_store_media_purge(f.store, later,
                                      INBOX_MEDIA_KEEP_UNUSED_MS,
                                      INBOX_MEDIA_PURGE_MAX, NO_DIR, files,
                                      &removed, &err), INBOX_OK);
    CHECK_INT(removed, 1);
    CHECK_STR(files[0], TOKEN_D ".png");
    CHECK_INT(inbox_store_media_purge(f.store, later,
                                      INBOX_MEDIA_KEEP_UNUSED_MS,
                                      INBOX_MEDIA_PURGE_MAX, NO_DIR, files,
                                      &removed, &err), INBOX_OK);
    CHECK_INT(removed, 0);

    /* the purged one is unknown; a send that read it before is refused,
     * storing nothing, rather than naming a file that is gone: the
     * refusal names that item, after one that is still there */
    CHECK_INT(inbox_store_media_get(f.store, f.org, ids, 1, &got, &err),
              INBOX_ERR_NOT_FOUND);
    media_named(&two[0], TOKEN_B ".png");
    media_named(&two[1], TOKEN_A ".png");
    reply_init(&r, in.conversation_id, "And this", 2, NULL);
    r.media = two;
    r.media_count = 2;
    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &result, NULL,
                                       &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "media_ids.1");
    CHECK(strncmp(err.message, "Attachment 2: this image is no longer "
                  "there", 40) == 0);
    CHECK_INT(balance_of(&f, f.org), 8);
    n.media = two;
    n.media_count = 2;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "media_ids.1");
    n.media = &media;
    n.media_count = 1;

    /* another organization's upload is never this one's to attach */
    media_named(&media, TOKEN_D ".png");
    r.media = &media;
    r.media_count = 1;
    CHECK_INT(upload(&f, other, TOKEN_D ".png", "image/png", 100, id),
              INBOX_OK);
    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &result, NULL,
                                       &err), INBOX_ERR_INVALID);
    CHECK_INT(inbox_store_media_purge(f.store, later,
                                      INBOX_MEDIA_KEEP_UNUSED_MS,
                                      INBOX_MEDIA_PURGE_MAX, NO_DIR, files,
                                      &removed, &err), INBOX_OK);
    CHECK_INT(removed, 1);

    /* what messages and campaigns use stays, and so does the copy */
    CHECK_INT(media_of(&f, in.conversation_id, 0, &media), 0);
    CHECK_STR(media.file, TOKEN_B ".png");
    CHECK_INT(inbox_store_messages_list(f.store, f.org, mms.conversation_id,
                                        NULL, 0, &page, NULL), INBOX_OK);
    for (i = 0; i < page.count; i++) {
        if (strcmp(page.items[i].id, mms.message_id) == 0) {
            CHECK_INT(page.items[i].media_count, 1);
            CHECK_STR(page.items[i].media[0].file, TOKEN_E ".png");
        }
    }
    inbox_message_page_free(&page);
    ids[0] = c_media;
    CHECK_INT(inbox_store_media_get(f.store, f.org, ids, 1, &got, &err),
              INBOX_OK);

    fixture_close(&f);
}


/*
 * Which media files a record names, asked in one batch: an upload's
 * (used or not), a reply's, an inbound copy's (no upload: its message's
 * media only), a campaign's image; a file nothing names is not.  Only
 * media.h's names are asked about.
 */
TEST(the_store_says_which_media_files_a_record_names)
{
    char                   id[INBOX_ID_MAX];
    char                   files[6][INBOX_MEDIA_FILE_MAX];
    unsigned char          named[6];
    fixture_t              f;
    inbox_reply_t          r;
    inbox_media_t          media;
    inbox_error_t          err;
    inbox_reply_result_t   result;
    inbox_ingest_result_t  in, mms;

    FIXTURE(&f);
    CHECK_INT(receive(&f, "SM1", ALICE, "a picture?", T0, &in, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);

    /* A: an upload nothing used; B: a reply's; C: a campaign's; E: an
     * inbound copy; D and F: files no record names */
    CHECK_INT(upload(&f, f.org, TOKEN_A ".png", "image/png", 100, id),
              INBOX_OK);
    CHECK_INT(upload(&f, f.org, TOKEN_B ".png", "image/png", 100, id),
              INBOX_OK);
    CHECK_INT(upload(&f, f.org, TOKEN_C ".png", "image/png", 100, id),
              INBOX_OK);

    media_named(&media, TOKEN_B ".png");
    reply_init(&r, in.conversation_id, "Here it is", 2, NULL);
    r.media = &media;
    r.media_count = 1;
    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &result, NULL,
                                       &err), INBOX_OK);
    inbox_reply_result_free(&result);

    campaign_naming(&f, TOKEN_C ".png", "image/png");

    CHECK_INT(receive_mms(&f, "MM1", 1, T0, &mms), INBOX_OK);
    CHECK_INT(inbox_store_media_fetch_done(f.store, mms.message_id, 0,
                                           TOKEN_E ".jpg", "image/jpeg", 100,
                                           NULL, &err), INBOX_OK);

    strcpy(files[0], TOKEN_A ".png");
    strcpy(files[1], TOKEN_D ".png");
    strcpy(files[2], TOKEN_B ".png");
    strcpy(files[3], TOKEN_E ".jpg");
    strcpy(files[4], TOKEN_C ".png");
    strcpy(files[5], TOKEN_E ".png");
    memset(named, 7, sizeof(named));
    CHECK_INT(inbox_store_media_files_named(f.store, files, 6, named, &err),
              INBOX_OK);
    CHECK_INT(named[0], 1);
    CHECK_INT(named[1], 0);
    CHECK_INT(named[2], 1);
    CHECK_INT(named[3], 1);
    CHECK_INT(named[4], 1);
    CHECK_INT(named[5], 0);

    /* with no upload's record (an image kept from before uploads were
     * recorded), the reply's message and the campaign still name theirs,
     * and an upload nothing else names is named by nothing */
    CHECK_INT(f.backend->upload_forget(&f, TOKEN_A ".png"), 0);
    CHECK_INT(f.backend->upload_forget(&f, TOKEN_B ".png"), 0);
    CHECK_INT(f.backend->upload_forget(&f, TOKEN_C ".png"), 0);
    memset(named, 7, sizeof(named));
    CHECK_INT(inbox_store_media_files_named(f.store, files, 6, named, &err),
              INBOX_OK);
    CHECK_INT(named[0], 0);
    CHECK_INT(named[1], 0);
    CHECK_INT(named[2], 1);
    CHECK_INT(named[3], 1);
    CHECK_INT(named[4], 1);
    CHECK_INT(named[5], 0);

    /* one at a time says the same */
    CHECK_INT(inbox_store_media_files_named(f.store, files + 3, 1, named,
                                            &err), INBOX_OK);
    CHECK_INT(named[0], 1);
    CHECK_INT(inbox_store_media_files_named(f.store, files + 5, 1, named,
                                            &err), INBOX_OK);
    CHECK_INT(named[0], 0);

    /* none, too many, or a name media.h never makes: refused */
    CHECK_INT(inbox_store_media_files_named(f.store, files, 0, named, &err),
              INBOX_ERR_INVALID);
    CHECK_INT(inbox_store_media_files_named(f.store, files,
                                            INBOX_MEDIA_NAMED_MAX + 1,
                                            named, &err), INBOX_ERR_INVALID);
    strcpy(files[1], "x'); DROP TABLE media; --.png");
    CHECK_INT(inbox_store_media_files_named(f.store, files, 2, named, &err),
              INBOX_ERR_INVALID);

    fixture_close(&f);
}


static void
sweep_file(const char *dir, const char *name, time_t age)
{
    char            path[256];
    FILE           *fp;
    struct timespec  times[2];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "w");
    CHECK(fp != NULL);
    if (fp != NULL) {
        fputs("bytes", fp);
        fclose(fp);
    }

    times[0].tv_sec = time(NULL) - age;
    times[0].tv_nsec = 0;
    times[1] = times[0];
    CHECK_INT(utimensat(AT_FDCWD, path, times, 0), 0);
}


static int
sweep_has(const char *dir, const char *name)
{
    char  path[256];

    snprintf(path, sizeof(path), "%s/%s", dir, name);

    return access(path, F_OK) == 0;
}


static void
sweep_listed(const char *file, int errnum, void *data)
{
    char  *listed = data;

    CHECK_INT(errnum, 0);
    strcat(listed, file);
    strcat(listed, " ");
}


/*
 * The media directory's orphans (a crash's: a file written before its
 * record): of the files named as media.h names them and older than the
 * grace, those no record names go; an upload's, a reply's, a campaign's
 * and an inbound copy's stay, as do a younger orphan (maybe being
 * recorded now) and any file of another name.  A dry run lists what it
 * would remove and removes nothing.
 */
TEST(a_sweep_removes_only_old_media_files_no_record_names)
{
    char                   dir[64], listed[512], id[INBOX_ID_MAX];
    time_t                 day;
    fixture_t              f;
    inbox_error_t          err;
    inbox_ingest_result_t  mms;
    inbox_media_orphans_t  swept;

    size_t                 i;

    static const char     *odd = "notes.txt";
    static const char     *left[] = { TOKEN_A ".png", TOKEN_C ".gif",
                                      TOKEN_E ".jpg", TOKEN_B ".mp4",
                                      "notes.txt" };

    FIXTURE(&f);
    snprintf(dir, sizeof(dir), "/tmp/inbox-test-orphans-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);

    /* A: an upload's; C: a campaign's; E: an inbound copy's; D: an old
     * orphan; B: a young one */
    CHECK_INT(upload(&f, f.org, TOKEN_A ".png", "image/png", 100, id),
              INBOX_OK);
    CHECK_INT(upload(&f, f.org, TOKEN_C ".gif", "image/gif", 100, id),
              INBOX_OK);
    campaign_naming(&f, TOKEN_C ".gif", "image/gif");
    CHECK_INT(receive_mms(&f, "MM1", 1, T0, &mms), INBOX_OK);
    CHECK_INT(inbox_store_media_fetch_done(f.store, mms.message_id, 0,
                                           TOKEN_E ".jpg", "image/jpeg", 100,
                                           NULL, &err), INBOX_OK);

    sweep_file(dir, TOKEN_A ".png", 2 * 86400);
    sweep_file(dir, TOKEN_C ".gif", 2 * 86400);
    sweep_file(dir, TOKEN_E ".jpg", 2 * 86400);
    sweep_file(dir, TOKEN_D ".png", 2 * 86400);
    sweep_file(dir, TOKEN_B ".mp4", 60);
    sweep_file(dir, odd, 2 * 86400);

    day = time(NULL) - INBOX_MEDIA_KEEP_UNUSED_MS / 1000;

    listed[0] = '\0';
    CHECK_INT(inbox_store_media_sweep_orphans(f.store, dir, day, 1,
                                              sweep_listed, listed, &swept,
                                              &err), INBOX_OK);
    CHECK_STR(listed, TOKEN_D ".png ");
    CHECK_INT(swept.looked, 4);
    CHECK_INT(swept.recent, 1);
    CHECK_INT(swept.kept, 3);
    CHECK_INT(swept.removed, 1);
    CHECK(sweep_has(dir, TOKEN_D ".png"));

    listed[0] = '\0';
    CHECK_INT(inbox_store_media_sweep_orphans(f.store, dir, day, 0,
                                              sweep_listed, listed, &swept,
                                              &err), INBOX_OK);
    CHECK_STR(listed, TOKEN_D ".png ");
    CHECK_INT(swept.removed, 1);
    CHECK_INT(swept.failed, 0);
    CHECK(!sweep_has(dir, TOKEN_D ".png"));
    CHECK(sweep_has(dir, TOKEN_A ".png"));
    CHECK(sweep_has(dir, TOKEN_C ".gif"));
    CHECK(sweep_has(dir, TOKEN_E ".jpg"));
    CHECK(sweep_has(dir, TOKEN_B ".mp4"));
    CHECK(sweep_has(dir, odd));

    /* nothing left to remove; no directory: an error */
    CHECK_INT(inbox_store_media_sweep_orphans(f.store, dir, day, 0, NULL,
                                              NULL, &swept, &err), INBOX_OK);
    CHECK_INT(swept.looked, 3);
    CHECK_INT(swept.removed, 0);
    CHECK(inbox_store_media_sweep_orphans(f.store, NO_DIR, day, 0, NULL,
                                          NULL, &swept, &err) != INBOX_OK);

    for (i = 0; i < sizeof(left) / sizeof(left[0]); i++) {
        snprintf(listed, sizeof(listed), "%s/%s", dir, left[i]);
        CHECK_INT(unlink(listed), 0);
    }

    CHECK_INT(rmdir(dir), 0);
    fixture_close(&f);
}


/* A reply refused (no credits, billing off) attaches nothing: its upload
 * is purged as if no reply had named it, so that a credential with no
 * credits cannot keep its uploads by naming them in replies. */
TEST(a_refused_reply_leaves_its_uploads_to_the_purge)
{
    char                   id[INBOX_ID_MAX];
    char                   files[INBOX_MEDIA_PURGE_MAX]
                                [INBOX_MEDIA_FILE_MAX];
    size_t                 removed;
    int64_t                later;
    fixture_t              f;
    inbox_reply_t          r;
    inbox_media_t          media;
    inbox_error_t          err;
    inbox_reply_result_t   result;
    inbox_ingest_result_t  in;

    FIXTURE(&f);
    CHECK_INT(receive(&f, "SM1", ALICE, "a picture?", T0, &in, NULL),
              INBOX_OK);
    CHECK_INT(upload(&f, f.org, TOKEN_A ".png", "image/png", 100, id),
              INBOX_OK);

    media_named(&media, TOKEN_A ".png");
    reply_init(&r, in.conversation_id, "Here it is", 2, NULL);
    r.media = &media;
    r.media_count = 1;
    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &result, NULL,
                                       &err), INBOX_ERR_INSUFFICIENT_CREDITS);

    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);
    CHECK_INT(inbox_store_billing_set(f.store, f.org, 0, NULL), INBOX_OK);
    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &result, NULL,
                                       &err), INBOX_ERR_BILLING_INACTIVE);

    later = inbox_now_ms() + INBOX_MEDIA_KEEP_UNUSED_MS + MINUTE;
    CHECK_INT(inbox_store_media_purge(f.store, later,
                                      INBOX_MEDIA_KEEP_UNUSED_MS,
                                      INBOX_MEDIA_PURGE_MAX, NO_DIR, files,
                                      &removed, &err), INBOX_OK);
    CHECK_INT(removed, 1);
    CHECK_STR(files[0], TOKEN_A ".png");

    fixture_close(&f);
}


/* dir/file as the media directory has it: a file (0), a directory
 * (1: no unlink removes it) or nothing (-1); or makes it so. */
static int
media_file_is(const char *dir, const char *file)
{
    char         path[512];
    struct stat  st;

    snprintf(path, sizeof(path), "%s/%s", dir, file);

    if (stat(path, &st) != 0) {
        return -1;
    }

    return S_ISDIR(st.st_mode) ? 1 : 0;
}


static void
media_file_make(const char *dir, const char *file, int directory)
{
    char   path[512];
    FILE  *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    rmdir(path);
    unlink(path);

    if (directory) {
        CHECK(mkdir(path, 0700) == 0);
        return;
    }

    fp = fopen(path, "w");
    CHECK(fp != NULL);
    if (fp != NULL) {
        fputs("\x89PNG", fp);
        fclose(fp);
    }
}


/*
 * The purge in two phases: an upload is marked (gone for every send
 * from then on), its file unlinked, and only then its record deleted, so
 * that no file is ever left that no record names (its URL would serve it
 * for good).  One whose file stays (here a directory no unlink removes,
 * as a worker killed between the two phases leaves it) keeps its
 * record, marked, unknown to sends; the next round takes it first,
 * before the window's, unlinks its file and deletes its record.
 */
TEST(a_purge_removes_the_file_before_the_record_and_finishes_a_stopped_one)
{
    char                   dir[64], a[INBOX_ID_MAX], id[INBOX_ID_MAX];
    char                   files[INBOX_MEDIA_PURGE_MAX]
                                [INBOX_MEDIA_FILE_MAX];
    size_t                 removed;
    int64_t                later;
    fixture_t              f;
    const char            *ids[1] = { a };
    inbox_media_t          media;
    inbox_error_t          err;
    inbox_campaign_t       c;
    inbox_reply_t          r;
    inbox_reply_result_t   result;
    inbox_campaign_new_t   n;
    inbox_media_record_t   got;
    inbox_ingest_result_t  in;

    FIXTURE(&f);
    snprintf(dir, sizeof(dir), "/tmp/inbox-test-media-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    CHECK_INT(receive(&f, "SM1", ALICE, "a picture?", T0, &in, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);

    CHECK_INT(upload(&f, f.org, TOKEN_A ".png", "image/png", 100, a),
              INBOX_OK);
    CHECK_INT(upload(&f, f.org, TOKEN_B ".png", "image/png", 100, id),
              INBOX_OK);
    media_file_make(dir, TOKEN_A ".png", 1);
    media_file_make(dir, TOKEN_B ".png", 0);

    /* B's file and record go; A's file cannot, so its record stays */
    later = inbox_now_ms() + INBOX_MEDIA_KEEP_UNUSED_MS + MINUTE;
    CHECK_INT(inbox_store_media_purge(f.store, later,
                                      INBOX_MEDIA_KEEP_UNUSED_MS,
                                      INBOX_MEDIA_PURGE_MAX, dir, files,
                                      &removed, &err), INBOX_OK);
    CHECK_INT(removed, 1);
    CHECK_STR(files[0], TOKEN_B ".png");
    CHECK_INT(media_file_is(dir, TOKEN_B ".png"), -1);
    CHECK_INT(media_file_is(dir, TOKEN_A ".png"), 1);

    /* A is marked: gone for a send that reads it or one that read it
     * before, storing nothing */
    CHECK_INT(inbox_store_media_get(f.store, f.org, ids, 1, &got, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_STR(err.field, "media_ids");
    media_named(&media, TOKEN_A ".png");
    reply_init(&r, in.conversation_id, "Here it is", 2, NULL);
    r.media = &media;
    r.media_count = 1;
    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &result, NULL,
                                       &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "media_ids.0");
    CHECK_INT(balance_of(&f, f.org), 10);
    memset(&n, 0, sizeof(n));
    n.name = "Pictures";
    n.body = "Look";
    n.audience_all = 1;
    n.media_count = 1;
    n.media = &media;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "media_ids.0");

    /* a newer one due as well: the next round of one finishes A first,
     * its file now a file again */
    CHECK_INT(upload(&f, f.org, TOKEN_C ".png", "image/png", 100, id),
              INBOX_OK);
    media_file_make(dir, TOKEN_A ".png", 0);
    media_file_make(dir, TOKEN_C ".png", 0);
    later = inbox_now_ms() + INBOX_MEDIA_KEEP_UNUSED_MS + MINUTE;
    CHECK_INT(inbox_store_media_purge(f.store, later,
                                      INBOX_MEDIA_KEEP_UNUSED_MS, 1, dir,
                                      files, &removed, &err), INBOX_OK);
    CHECK_INT(removed, 1);
    CHECK_STR(files[0], TOKEN_A ".png");
    CHECK_INT(media_file_is(dir, TOKEN_A ".png"), -1);
    CHECK_INT(media_file_is(dir, TOKEN_C ".png"), 0);

    /* then C; then nothing: A's record went with its file */
    CHECK_INT(inbox_store_media_purge(f.store, later,
                                      INBOX_MEDIA_KEEP_UNUSED_MS,
                                      INBOX_MEDIA_PURGE_MAX, dir, files,
                                      &removed, &err), INBOX_OK);
    CHECK_INT(removed, 1);
    CHECK_STR(files[0], TOKEN_C ".png");
    CHECK_INT(media_file_is(dir, TOKEN_C ".png"), -1);
    CHECK_INT(inbox_store_media_purge(f.store, later,
                                      INBOX_MEDIA_KEEP_UNUSED_MS,
                                      INBOX_MEDIA_PURGE_MAX, dir, files,
                                      &removed, &err), INBOX_OK);
    CHECK_INT(removed, 0);

    /* a file gone already (a round that died after its unlink) is
     * gone: its record goes */
    CHECK_INT(upload(&f, f.org, TOKEN_D ".png", "image/png", 100, id),
              INBOX_OK);
    later = inbox_now_ms() + INBOX_MEDIA_KEEP_UNUSED_MS + MINUTE;
    CHECK_INT(inbox_store_media_purge(f.store, later,
                                      INBOX_MEDIA_KEEP_UNUSED_MS,
                                      INBOX_MEDIA_PURGE_MAX, dir, files,
                                      &removed, &err), INBOX_OK);
    CHECK_INT(removed, 1);
    CHECK_STR(files[0], TOKEN_D ".png");

    CHECK(rmdir(dir) == 0);
    fixture_close(&f);
}


typedef struct {
    size_t  calls;
    int     errnum;
    char    file[INBOX_MEDIA_FILE_MAX];
} unlink_failures_t;


static void
unlink_failed(const char *file, int errnum, void *data)
{
    unlink_failures_t  *failures = data;

    failures->calls++;
    failures->errnum = errnum;
    snprintf(failures->file, sizeof(failures->file), "%s", file);
}


/*
 * A file the purge cannot unlink (here a directory: EISDIR, as EACCES,
 * EIO or EROFS would be on a real disk) is told to the caller, named
 * with why, in every round that tries it (the caller decides how often
 * to log it); its upload stays marked, and once the file can go, the
 * next round removes it and tells nothing.  The purge without a caller
 * to tell does the same.
 */
TEST(a_purge_tells_its_caller_of_each_file_it_could_not_unlink)
{
    char                   dir[64], id[INBOX_ID_MAX];
    char                   files[INBOX_MEDIA_PURGE_MAX]
                                [INBOX_MEDIA_FILE_MAX];
    size_t                 removed;
    int64_t                later;
    fixture_t              f;
    inbox_error_t          err;
    unlink_failures_t      failures;

    FIXTURE(&f);
    snprintf(dir, sizeof(dir), "/tmp/inbox-test-media-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);

    CHECK_INT(upload(&f, f.org, TOKEN_A ".png", "image/png", 100, id),
              INBOX_OK);
    CHECK_INT(upload(&f, f.org, TOKEN_B ".png", "image/png", 100, id),
              INBOX_OK);
    media_file_make(dir, TOKEN_A ".png", 1);
    media_file_make(dir, TOKEN_B ".png", 0);

    /* B goes; A is told, with why */
    memset(&failures, 0, sizeof(failures));
    later = inbox_now_ms() + INBOX_MEDIA_KEEP_UNUSED_MS + MINUTE;
    CHECK_INT(inbox_store_media_purge_reporting(f.store, later,
                                                INBOX_MEDIA_KEEP_UNUSED_MS,
                                                INBOX_MEDIA_PURGE_MAX, dir,
                                                files, &removed,
                                                unlink_failed, &failures,
                                                &err), INBOX_OK);
    CHECK_INT(removed, 1);
    CHECK_STR(files[0], TOKEN_B ".png");
    CHECK_INT(failures.calls, 1);
    CHECK_STR(failures.file, TOKEN_A ".png");
    CHECK_INT(failures.errnum, EISDIR);

    /* still marked: tried, and told, again */
    memset(&failures, 0, sizeof(failures));
    CHECK_INT(inbox_store_media_purge_reporting(f.store, later,
                                                INBOX_MEDIA_KEEP_UNUSED_MS,
                                                INBOX_MEDIA_PURGE_MAX, dir,
                                                files, &removed,
                                                unlink_failed, &failures,
                                                &err), INBOX_OK);
    CHECK_INT(removed, 0);
    CHECK_INT(failures.calls, 1);
    CHECK_STR(failures.file, TOKEN_A ".png");

    /* without a caller to tell, the same */
    CHECK_INT(inbox_store_media_purge(f.store, later,
                                      INBOX_MEDIA_KEEP_UNUSED_MS,
                                      INBOX_MEDIA_PURGE_MAX, dir, files,
                                      &removed, &err), INBOX_OK);
    CHECK_INT(removed, 0);
    CHECK_INT(media_file_is(dir, TOKEN_A ".png"), 1);

    /* a file again: removed, nothing told */
    media_file_make(dir, TOKEN_A ".png", 0);
    memset(&failures, 0, sizeof(failures));
    CHECK_INT(inbox_store_media_purge_reporting(f.store, later,
                                                INBOX_MEDIA_KEEP_UNUSED_MS,
                                                INBOX_MEDIA_PURGE_MAX, dir,
                                                files, &removed,
                                                unlink_failed, &failures,
                                                &err), INBOX_OK);
    CHECK_INT(removed, 1);
    CHECK_STR(files[0], TOKEN_A ".png");
    CHECK_INT(failures.calls, 0);
    CHECK_INT(media_file_is(dir, TOKEN_A ".png"), -1);

    CHECK(rmdir(dir) == 0);
    fixture_close(&f);
}


/* The message of page with id, or NULL. */
static const inbox_message_t *
message_in(const inbox_message_page_t *page, const char *id)
{
    size_t  i;

    for (i = 0; i < page->count; i++) {
        if (strcmp(page->items[i].id, id) == 0) {
            return &page->items[i];
        }
    }

    return NULL;
}


/*
 * A reply's pictures say which upload each is, in the order it carries
 * them: in its answer, in its message.created (replayed as live), in the
 * thread read back and in the answer to its retry, so that Send again
 * names them (media_ids) rather than uploading their bytes again; the
 * ids are uploads the organization may send.  An inbound MMS's copies
 * are no uploads: none.
 */
TEST(a_replys_pictures_name_their_uploads_an_inbound_copy_none)
{
    char                   a[INBOX_ID_MAX], b[INBOX_ID_MAX];
    char                   reply_id[INBOX_ID_MAX], json[512];
    size_t                 i;
    int64_t                seq;
    fixture_t              f;
    const char            *ids[2], *named[2];
    inbox_reply_t          r;
    inbox_media_t          media[2];
    inbox_error_t          err;
    inbox_event_list_t     live;
    inbox_media_record_t   got[2];
    inbox_message_page_t   page;
    inbox_reply_result_t   result, again;
    const inbox_message_t *m;
    inbox_ingest_result_t  in, mms;

    FIXTURE(&f);
    memset(&live, 0, sizeof(live));
    CHECK_INT(receive(&f, "SM1", ALICE, "the map?", T0, &in, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);
    CHECK_INT(upload(&f, f.org, TOKEN_A ".png", "image/png", 100, a),
              INBOX_OK);
    CHECK_INT(upload(&f, f.org, TOKEN_B ".png", "image/png", 100, b),
              INBOX_OK);

    /* the second upload first, as the module hands them (media_ids'
     * order, each with its upload) */
    media_named(&media[0], TOKEN_B ".png");
    snprintf(media[0].upload_id, sizeof(media[0].upload_id), "%s", b);
    media_named(&media[1], TOKEN_A ".png");
    snprintf(media[1].upload_id, sizeof(media[1].upload_id), "%s", a);
    media[0].bytes = 100;
    media[1].bytes = 100;
    ids[0] = b;
    ids[1] = a;

    reply_init(&r, in.conversation_id, "Here it is", 2, "k-map");
    r.media = media;
    r.media_count = 2;
    seq = org_seq(&f, f.org);
    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &result, &live,
                                       &err), INBOX_OK);
    CHECK_INT(result.message.media_count, 2);
    for (i = 0; i < 2 && i < result.message.media_count; i++) {
        CHECK_STR(result.message.media[i].upload_id, ids[i]);
    }

    snprintf(json, sizeof(json),
             "\"media\":[{\"id\":\"%s\",\"url\":\"/media/" TOKEN_B ".png\","
             "\"content_type\":\"image/png\",\"state\":\"stored\","
             "\"bytes\":100},"
             "{\"id\":\"%s\",\"url\":\"/media/" TOKEN_A ".png\",", b, a);
    CHECK_INT(events_of(&live, "message.created"), 1);
    CHECK(live.count > 0 && strstr(live.items[0].json, json) != NULL);
    CHECK(replays_as_live(&f, seq, &live));
    inbox_event_list_free(&live);

    /* its retry answers the message as stored */
    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &again, NULL,
                                       &err), INBOX_OK);
    CHECK_INT(again.repeated, 1);
    CHECK_STR(again.message.id, result.message.id);
    CHECK_INT(again.message.media_count, 2);
    for (i = 0; i < 2 && i < again.message.media_count; i++) {
        CHECK_STR(again.message.media[i].upload_id, ids[i]);
    }
    snprintf(reply_id, sizeof(reply_id), "%s", result.message.id);
    inbox_reply_result_free(&again);
    inbox_reply_result_free(&result);

    /* the thread read back: the reply's ids, in order, uploads the
     * organization sends again */
    CHECK_INT(inbox_store_messages_list(f.store, f.org, in.conversation_id,
                                        NULL, 0, &page, NULL), INBOX_OK);
    m = message_in(&page, reply_id);
    CHECK(m != NULL);
    CHECK_INT(m != NULL ? m->media_count : 0, 2);
    for (i = 0; m != NULL && i < 2 && i < m->media_count; i++) {
        CHECK_STR(m->media[i].upload_id, ids[i]);
        named[i] = m->media[i].upload_id;
    }
    CHECK_INT(m != NULL
              ? inbox_store_media_get(f.store, f.org, named, 2, got, &err)
              : INBOX_ERR_NOT_FOUND, INBOX_OK);
    CHECK_STR(got[0].file, TOKEN_B ".png");
    CHECK_STR(got[1].file, TOKEN_A ".png");
    inbox_message_page_free(&page);

    /* an inbound MMS, one image copied, one not yet: no upload */
    CHECK_INT(receive_mms(&f, "MM1", 2, T0 + MINUTE, &mms), INBOX_OK);
    CHECK_INT(inbox_store_media_fetch_done(f.store, mms.message_id, 0,
                                           TOKEN_E ".png", "image/png", 100,
                                           NULL, &err), INBOX_OK);
    CHECK_INT(inbox_store_messages_list(f.store, f.org, mms.conversation_id,
                                        NULL, 0, &page, NULL), INBOX_OK);
    m = message_in(&page, mms.message_id);
    CHECK_INT(m != NULL ? m->media_count : 0, 2);
    for (i = 0; m != NULL && i < m->media_count; i++) {
        CHECK_STR(m->media[i].upload_id, "");
    }
    CHECK_STR(m != NULL && m->media_count > 0 ? m->media[0].file : "",
              TOKEN_E ".png");
    inbox_message_page_free(&page);

    fixture_close(&f);
}


/*
 * An upload a draft's edit drops is unused once nothing else names it:
 * purged when the grace period has passed since the edit, its file
 * handed back.  One the edit drops that a reply sent too stays (the
 * purge attaches it again), and so do the image the edit puts in, the
 * reply's other one, and a young upload nothing uses yet.
 */
TEST(uploads_a_drafts_edit_drops_are_purged_unless_something_names_them)
{
    char                   id[INBOX_ID_MAX], ups[5][INBOX_ID_MAX];
    char                   files[INBOX_MEDIA_PURGE_MAX]
                                [INBOX_MEDIA_FILE_MAX];
    size_t                 i, removed;
    int64_t                later;
    const char            *ids[4];
    fixture_t              f;
    inbox_reply_t          r;
    inbox_error_t          err;
    inbox_media_t          media[5], sent[2];
    inbox_campaign_t       c;
    inbox_reply_result_t   result;
    inbox_campaign_new_t   n;
    inbox_ingest_result_t  in;
    inbox_media_record_t   got[4];

    /* A: the draft's first image; B: its second, which a reply sends
     * too; C: the one an edit puts in their place; D: the reply's
     * other; E: uploaded, nothing uses it yet */
    static const char     *names[5] = { TOKEN_A ".png", TOKEN_B ".png",
                                        TOKEN_C ".png", TOKEN_D ".png",
                                        TOKEN_E ".png" };

    FIXTURE(&f);
    CHECK_INT(receive(&f, "SM1", ALICE, "a picture?", T0, &in, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);

    for (i = 0; i < 5; i++) {
        CHECK_INT(upload(&f, f.org, names[i], "image/png", 100, ups[i]),
                  INBOX_OK);
        media_of_upload(&media[i], names[i], ups[i]);
    }

    memset(&n, 0, sizeof(n));
    n.name = "Pictures";
    n.body = "Our menu";
    n.audience_all = 1;
    n.media = media;
    n.media_count = 2;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          &err),
              INBOX_OK);
    snprintf(id, sizeof(id), "%s", c.id);
    inbox_campaign_free(&c);

    sent[0] = media[1];
    sent[1] = media[3];
    reply_init(&r, in.conversation_id, "Here they are", 2, NULL);
    r.media = sent;
    r.media_count = 2;
    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &result, NULL,
                                       &err), INBOX_OK);
    inbox_reply_result_free(&result);

    n.media = &media[2];
    n.media_count = 1;
    CHECK_INT(inbox_store_campaign_update(f.store, f.org, id, 0, &n, &c,
                                          NULL, &err), INBOX_OK);
    CHECK_INT(c.media_count, 1);
    inbox_campaign_free(&c);

    /* within the grace period nothing goes, the young one included */
    CHECK_INT(inbox_store_media_purge(f.store, inbox_now_ms(),
                                      INBOX_MEDIA_KEEP_UNUSED_MS,
                                      INBOX_MEDIA_PURGE_MAX, NO_DIR, files,
                                      &removed, &err), INBOX_OK);
    CHECK_INT(removed, 0);

    /* past it, the one nothing names, and the one never used; not B,
     * which the reply names, however often the purge looks */
    later = inbox_now_ms() + INBOX_MEDIA_KEEP_UNUSED_MS + MINUTE;
    CHECK_INT(inbox_store_media_purge(f.store, later,
                                      INBOX_MEDIA_KEEP_UNUSED_MS,
                                      INBOX_MEDIA_PURGE_MAX, NO_DIR, files,
                                      &removed, &err), INBOX_OK);
    CHECK_INT(removed, 2);
    if (removed == 2) {
        CHECK(strcmp(files[0], names[0]) == 0
              || strcmp(files[1], names[0]) == 0);
        CHECK(strcmp(files[0], names[4]) == 0
              || strcmp(files[1], names[4]) == 0);
    }
    CHECK_INT(inbox_store_media_purge(f.store, later,
                                      INBOX_MEDIA_KEEP_UNUSED_MS,
                                      INBOX_MEDIA_PURGE_MAX, NO_DIR, files,
                                      &removed, &err), INBOX_OK);
    CHECK_INT(removed, 0);

    ids[0] = ups[0];
    CHECK_INT(inbox_store_media_get(f.store, f.org, ids, 1, got, &err),
              INBOX_ERR_NOT_FOUND);
    ids[0] = ups[1];
    ids[1] = ups[2];
    ids[2] = ups[3];
    CHECK_INT(inbox_store_media_get(f.store, f.org, ids, 3, got, &err),
              INBOX_OK);

    /* B attached again: the draft may name it again, and dropping it
     * then leaves it to the reply that names it */
    n.media = &media[1];
    CHECK_INT(inbox_store_campaign_update(f.store, f.org, id, 1, &n, &c,
                                          NULL, &err), INBOX_OK);
    inbox_campaign_free(&c);
    n.media = &media[2];
    CHECK_INT(inbox_store_campaign_update(f.store, f.org, id, 2, &n, &c,
                                          NULL, &err), INBOX_OK);
    inbox_campaign_free(&c);
    later = inbox_now_ms() + INBOX_MEDIA_KEEP_UNUSED_MS + MINUTE;
    CHECK_INT(inbox_store_media_purge(f.store, later,
                                      INBOX_MEDIA_KEEP_UNUSED_MS,
                                      INBOX_MEDIA_PURGE_MAX, NO_DIR, files,
                                      &removed, &err), INBOX_OK);
    CHECK_INT(removed, 0);
    CHECK_INT(media_of(&f, in.conversation_id, 0, &media[0]), 0);
    CHECK_STR(media[0].file, names[1]);

    fixture_close(&f);
}


/*
 * A draft campaign or poll is deleted, with nothing of it left in the
 * lists, and its image left to the purge; one sent, or sent and
 * cancelled, its message handed over, is refused and kept, as is
 * another organization's or the other kind's.
 */
TEST(a_draft_is_deleted_and_a_campaign_sent_is_kept)
{
    char                   draft[INBOX_ID_MAX], sent[INBOX_ID_MAX];
    char                   poll[INBOX_ID_MAX], other[INBOX_ID_MAX];
    char                   alice[INBOX_ID_MAX], ups[2][INBOX_ID_MAX];
    char                   files[INBOX_MEDIA_PURGE_MAX]
                                [INBOX_MEDIA_FILE_MAX];
    size_t                 removed;
    int64_t                later;
    const char            *options[2] = { "Yes", "No" };
    fixture_t              f;
    inbox_error_t          err;
    inbox_media_t          media[2];
    inbox_campaign_t       c;
    inbox_campaign_new_t   n;
    inbox_campaign_page_t  page;

    static const char     *names[2] = { TOKEN_A ".png", TOKEN_B ".png" };

    FIXTURE(&f);
    CHECK_INT(person(&f, ALICE, "vip", NULL, alice), 0);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);

    /* A the draft's image, B the sent one's */
    CHECK_INT(upload(&f, f.org, names[0], "image/png", 100, ups[0]),
              INBOX_OK);
    CHECK_INT(upload(&f, f.org, names[1], "image/png", 100, ups[1]),
              INBOX_OK);
    media_of_upload(&media[0], names[0], ups[0]);
    media_of_upload(&media[1], names[1], ups[1]);

    memset(&n, 0, sizeof(n));
    n.name = "Abandoned";
    n.body = "Our menu";
    n.audience_all = 1;
    n.media = &media[0];
    n.media_count = 1;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          &err),
              INBOX_OK);
    snprintf(draft, sizeof(draft), "%s", c.id);
    inbox_campaign_free(&c);

    n.name = "Sent";
    n.media = &media[1];
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          &err),
              INBOX_OK);
    snprintf(sent, sizeof(sent), "%s", c.id);
    inbox_campaign_free(&c);
    CHECK_INT(campaign_do(&f, sent, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    CHECK_INT(dispatch(&f, NOON, 10).handed, 1);

    memset(&n, 0, sizeof(n));
    n.kind = INBOX_CAMPAIGN_KIND_POLL;
    n.question = "Lunch?";
    n.options = options;
    n.option_count = 2;
    n.audience_all = 1;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          &err),
              INBOX_OK);
    snprintf(poll, sizeof(poll), "%s", c.id);
    inbox_campaign_free(&c);

    /* none: another organization's, the other kind's, no such id */
    CHECK_INT(inbox_store_org_create(f.store, "Other", "UTC", other, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_campaign_delete(f.store, other, draft,
                                          INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                          inbox_now_ms(), NULL, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(inbox_store_campaign_delete(f.store, f.org, draft,
                                          INBOX_CAMPAIGN_KIND_POLL,
                                          inbox_now_ms(), NULL, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_STR(err.message, "There is no such poll.");
    CHECK_INT(inbox_store_campaign_delete(f.store, f.org, poll,
                                          INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                          inbox_now_ms(), NULL, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(inbox_store_campaign_delete(f.store, f.org,
                                          f.backend->missing_id,
                                          INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                          inbox_now_ms(), NULL, &err),
              INBOX_ERR_NOT_FOUND);

    /* sent: refused, kept as it was; cancelled too */
    CHECK_INT(inbox_store_campaign_delete(f.store, f.org, sent,
                                          INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                          inbox_now_ms(), NULL, &err),
              INBOX_ERR_CONFLICT);
    CHECK_STR(err.message, "Only a draft, or one cancelled before any of "
                           "its messages was handed over, can be deleted; "
                           "this one is sending and handed messages over: "
                           "cancel it to stop it; it stays in its "
                           "contacts' records.");
    CHECK_INT(campaign_now(&f, sent).status, INBOX_CAMPAIGN_SENDING);
    CHECK_INT(campaign_do(&f, sent, INBOX_CAMPAIGN_CANCEL, NOON), INBOX_OK);
    CHECK_INT(inbox_store_campaign_delete(f.store, f.org, sent,
                                          INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                          inbox_now_ms(), NULL, &err),
              INBOX_ERR_CONFLICT);
    CHECK_STR(err.message, "Messages of this campaign were handed over for "
                           "sending before it was cancelled; it stays in "
                           "its contacts' records.");
    CHECK_INT(campaign_now(&f, sent).status, INBOX_CAMPAIGN_CANCELLED);

    /* the draft and the poll: gone, from the lists too, and once */
    CHECK_INT(inbox_store_campaign_delete(f.store, f.org, draft,
                                          INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                          inbox_now_ms(), NULL, &err),
              INBOX_OK);
    CHECK_INT(inbox_store_campaign_get(f.store, f.org, draft, &c, &err),
              INBOX_ERR_NOT_FOUND);
    inbox_campaign_free(&c);
    CHECK_INT(inbox_store_campaign_delete(f.store, f.org, draft,
                                          INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                          inbox_now_ms(), NULL, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(inbox_store_campaign_delete(f.store, f.org, poll,
                                          INBOX_CAMPAIGN_KIND_POLL,
                                          inbox_now_ms(), NULL, &err),
              INBOX_OK);

    CHECK_INT(inbox_store_campaigns_list(f.store, f.org,
                                         INBOX_CAMPAIGN_KIND_CAMPAIGN, NULL,
                                         10, &page, NULL), INBOX_OK);
    CHECK_INT(page.count, 1);
    if (page.count == 1) {
        CHECK_STR(page.items[0].id, sent);
    }
    inbox_campaign_page_free(&page);
    CHECK_INT(inbox_store_campaigns_list(f.store, f.org,
                                         INBOX_CAMPAIGN_KIND_POLL, NULL,
                                         10, &page, NULL), INBOX_OK);
    CHECK_INT(page.count, 0);
    inbox_campaign_page_free(&page);

    /* the deleted draft's image: kept through the grace period, then
     * purged; the sent one's stays */
    CHECK_INT(inbox_store_media_purge(f.store, inbox_now_ms(),
                                      INBOX_MEDIA_KEEP_UNUSED_MS,
                                      INBOX_MEDIA_PURGE_MAX, NO_DIR, files,
                                      &removed, &err), INBOX_OK);
    CHECK_INT(removed, 0);
    later = inbox_now_ms() + INBOX_MEDIA_KEEP_UNUSED_MS + MINUTE;
    CHECK_INT(inbox_store_media_purge(f.store, later,
                                      INBOX_MEDIA_KEEP_UNUSED_MS,
                                      INBOX_MEDIA_PURGE_MAX, NO_DIR, files,
                                      &removed, &err), INBOX_OK);
    CHECK_INT(removed, 1);
    if (removed == 1) {
        CHECK_STR(files[0], names[0]);
    }

    fixture_close(&f);
}


/*
 * A deleted draft's id is never given to a campaign or poll made after:
 * a browser still holding it (an Edit form open, a card not yet removed)
 * finds it gone, and does not edit, send or delete a colleague's new one.
 */
TEST(a_deleted_campaigns_id_is_never_given_again)
{
    char                  kept[INBOX_ID_MAX], gone[INBOX_ID_MAX];
    fixture_t             f;
    inbox_error_t         err;
    inbox_campaign_t      c;
    inbox_campaign_new_t  n;

    FIXTURE(&f);
    memset(&n, 0, sizeof(n));
    n.name = "Kept";
    n.body = "Our menu";
    n.audience_all = 1;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          &err),
              INBOX_OK);
    snprintf(kept, sizeof(kept), "%s", c.id);
    inbox_campaign_free(&c);

    /* the newest, deleted */
    n.name = "Abandoned";
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          &err),
              INBOX_OK);
    snprintf(gone, sizeof(gone), "%s", c.id);
    inbox_campaign_free(&c);
    CHECK_INT(inbox_store_campaign_delete(f.store, f.org, gone,
                                          INBOX_CAMPAIGN_KIND_CAMPAIGN, T0,
                                          NULL, &err),
              INBOX_OK);

    n.name = "New";
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          &err),
              INBOX_OK);
    CHECK(strcmp(c.id, gone) != 0);
    CHECK(strcmp(c.id, kept) != 0);
    inbox_campaign_free(&c);

    /* the stale id names nothing: an edit made on it is refused, and the
     * new draft keeps its name */
    n.name = "Edited in a stale form";
    CHECK_INT(inbox_store_campaign_update(f.store, f.org, gone, 0, &n, &c,
                                          NULL, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(inbox_store_campaign_get(f.store, f.org, gone, &c, &err),
              INBOX_ERR_NOT_FOUND);

    fixture_close(&f);
}


/*
 * A campaign cancelled before it began is deleted as a draft is: one
 * cancelled as a draft, and one scheduled, its recipients fixed, then
 * cancelled (paused first, too), with its recipients and its image left
 * to the purge; one that began sending and was cancelled is refused and
 * kept, in its contact's records still.
 */
TEST(a_campaign_cancelled_before_it_began_is_deleted)
{
    char                       drafted[INBOX_ID_MAX], later[INBOX_ID_MAX];
    char                       paused[INBOX_ID_MAX], begun[INBOX_ID_MAX];
    char                       alice[INBOX_ID_MAX], up[INBOX_ID_MAX];
    char                       files[INBOX_MEDIA_PURGE_MAX]
                                    [INBOX_MEDIA_FILE_MAX];
    size_t                     removed;
    int64_t                    purge_at;
    fixture_t                  f;
    inbox_error_t              err;
    inbox_media_t              media;
    inbox_campaign_t           c;
    inbox_campaign_new_t       n;
    inbox_contact_campaigns_t  list;
    inbox_campaign_dispatch_t  d;

    static const char         *name = TOKEN_A ".png";

    FIXTURE(&f);
    CHECK_INT(person(&f, ALICE, NULL, NULL, alice), 0);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);
    CHECK_INT(upload(&f, f.org, name, "image/png", 100, up), INBOX_OK);
    media_of_upload(&media, name, up);

    memset(&n, 0, sizeof(n));
    n.name = "Drafted";
    n.body = "Our menu";
    n.audience_all = 1;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          &err),
              INBOX_OK);
    snprintf(drafted, sizeof(drafted), "%s", c.id);
    inbox_campaign_free(&c);

    n.name = "Begun";
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          &err),
              INBOX_OK);
    snprintf(begun, sizeof(begun), "%s", c.id);
    inbox_campaign_free(&c);

    n.send_at = NOON + HOUR;
    n.name = "Paused";
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          &err),
              INBOX_OK);
    snprintf(paused, sizeof(paused), "%s", c.id);
    inbox_campaign_free(&c);

    n.name = "Later";
    n.media = &media;
    n.media_count = 1;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          &err),
              INBOX_OK);
    snprintf(later, sizeof(later), "%s", c.id);
    inbox_campaign_free(&c);

    /* scheduled: alice its recipient, then cancelled; and one paused
     * before its time, then cancelled */
    CHECK_INT(campaign_do(&f, later, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    CHECK_INT(campaign_now(&f, later).status, INBOX_CAMPAIGN_SCHEDULED);
    CHECK_INT(campaign_now(&f, later).counts.queued, 1);
    CHECK_INT(campaign_do(&f, later, INBOX_CAMPAIGN_CANCEL, NOON), INBOX_OK);
    CHECK_INT(campaign_do(&f, paused, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    CHECK_INT(campaign_do(&f, paused, INBOX_CAMPAIGN_PAUSE, NOON), INBOX_OK);
    CHECK_INT(campaign_do(&f, paused, INBOX_CAMPAIGN_CANCEL, NOON),
              INBOX_OK);
    CHECK_INT(campaign_do(&f, drafted, INBOX_CAMPAIGN_CANCEL, NOON),
              INBOX_OK);

    /* begun: alice handed its message, then cancelled */
    CHECK_INT(campaign_do(&f, begun, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    d = dispatch(&f, NOON, 10);
    CHECK_INT(d.handed, 1);
    CHECK_INT(campaign_do(&f, begun, INBOX_CAMPAIGN_CANCEL, NOON), INBOX_OK);

    CHECK_INT(inbox_store_campaign_delete(f.store, f.org, begun,
                                          INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                          inbox_now_ms(), NULL, &err),
              INBOX_ERR_CONFLICT);
    CHECK_STR(err.message, "Messages of this campaign were handed over for "
                           "sending before it was cancelled; it stays in "
                           "its contacts' records.");
    CHECK_INT(campaign_now(&f, begun).status, INBOX_CAMPAIGN_CANCELLED);

    /* the others: gone, and once */
    CHECK_INT(inbox_store_campaign_delete(f.store, f.org, drafted,
                                          INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                          inbox_now_ms(), NULL, &err),
                                          INBOX_OK);
    CHECK_INT(inbox_store_campaign_delete(f.store, f.org, later,
                                          INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                          inbox_now_ms(), NULL, &err),
                                          INBOX_OK);
    CHECK_INT(inbox_store_campaign_delete(f.store, f.org, paused,
                                          INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                          inbox_now_ms(), NULL, &err),
                                          INBOX_OK);
    CHECK_INT(inbox_store_campaign_get(f.store, f.org, later, &c, &err),
              INBOX_ERR_NOT_FOUND);
    inbox_campaign_free(&c);
    CHECK_INT(inbox_store_campaign_delete(f.store, f.org, later,
                                          INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                          inbox_now_ms(), NULL, &err),
              INBOX_ERR_NOT_FOUND);

    /* alice's records: the one begun */
    CHECK_INT(inbox_store_contact_campaigns(f.store, f.org, alice, &list,
                                            NULL), INBOX_OK);
    CHECK_INT(list.campaign_count, 1);
    if (list.campaign_count == 1) {
        CHECK_STR(list.campaigns[0].id, begun);
    }
    inbox_contact_campaigns_free(&list);

    /* the one scheduled's image: purged after the grace */
    purge_at = inbox_now_ms() + INBOX_MEDIA_KEEP_UNUSED_MS + MINUTE;
    CHECK_INT(inbox_store_media_purge(f.store, purge_at,
                                      INBOX_MEDIA_KEEP_UNUSED_MS,
                                      INBOX_MEDIA_PURGE_MAX, NO_DIR, files,
                                      &removed, &err), INBOX_OK);
    CHECK_INT(removed, 1);

    fixture_close(&f);
}


/*
 * A campaign that started but handed nothing over before it was
 * cancelled (alice waiting out her quiet hours, bob opted out since the
 * send, carol opted out before it) is deleted as one never begun is:
 * no contact's thread nor record names it.  One that handed dave his
 * message while alice waited is refused and kept, in dave's records,
 * in words that say so.
 */
TEST(a_campaign_cancelled_before_any_hand_over_is_deleted)
{
    char                       quiet[INBOX_ID_MAX], handed[INBOX_ID_MAX];
    char                       alice[INBOX_ID_MAX], bob[INBOX_ID_MAX];
    char                       carol[INBOX_ID_MAX], dave[INBOX_ID_MAX];
    int64_t                    at;
    fixture_t                  f;
    progress_t                 p;
    inbox_error_t              err;
    inbox_campaign_t           c;
    inbox_contact_campaigns_t  list;
    inbox_campaign_dispatch_t  d;

    FIXTURE(&f);
    CHECK_INT(person(&f, ALICE, "night", "America/New_York", alice), 0);
    CHECK_INT(person(&f, BOB, "night", "America/New_York", bob), 0);
    CHECK_INT(person(&f, CAROL_PHONE, "night", "America/New_York", carol),
              0);
    CHECK_INT(person(&f, "+15550001111", "day", "Asia/Tokyo", dave), 0);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);
    CHECK_INT(f.backend->opt_out(&f, CAROL_PHONE), 0);

    CHECK_INT(campaign_new(&f, "night", quiet), 0);
    CHECK_INT(campaign_new(&f, NULL, handed), 0);

    /* 2026-01-02T02:00Z: 21:00 in New York, 11:00 in Tokyo */
    at = T0 + 26 * HOUR;
    CHECK_INT(campaign_do(&f, quiet, INBOX_CAMPAIGN_SEND, at), INBOX_OK);
    CHECK_INT(campaign_do(&f, handed, INBOX_CAMPAIGN_SEND, at), INBOX_OK);
    CHECK_INT(f.backend->opt_out(&f, BOB), 0);
    d = dispatch(&f, at, 10);
    CHECK_INT(d.handed, 1);                        /* dave's, of handed */
    CHECK_INT(d.waiting, 2);                       /* alice's, twice */
    CHECK_INT(d.suppressed, 2);                    /* bob's, twice */

    /* sending, nothing handed over: cancelled first */
    p = campaign_now(&f, quiet);
    CHECK_INT(p.status, INBOX_CAMPAIGN_SENDING);
    CHECK_INT(p.counts.waiting_quiet_hours, 1);
    CHECK_INT(inbox_store_campaign_delete(f.store, f.org, quiet,
                                          INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                          at + MINUTE, NULL, &err),
              INBOX_ERR_CONFLICT);
    CHECK_STR(err.message, "Only a draft, or one cancelled before any of "
                           "its messages was handed over, can be deleted; "
                           "this one is sending: cancel it instead.");
    CHECK_INT(inbox_store_campaign_delete(f.store, f.org, handed,
                                          INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                          at + MINUTE, NULL, &err),
              INBOX_ERR_CONFLICT);
    CHECK_STR(err.message, "Only a draft, or one cancelled before any of "
                           "its messages was handed over, can be deleted; "
                           "this one is sending and handed messages over: "
                           "cancel it to stop it; it stays in its "
                           "contacts' records.");

    CHECK_INT(campaign_do(&f, quiet, INBOX_CAMPAIGN_CANCEL, at + MINUTE),
              INBOX_OK);
    CHECK_INT(campaign_do(&f, handed, INBOX_CAMPAIGN_CANCEL, at + MINUTE),
              INBOX_OK);

    CHECK_INT(inbox_store_campaign_delete(f.store, f.org, handed,
                                          INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                          at + 2 * MINUTE, NULL, &err),
              INBOX_ERR_CONFLICT);
    CHECK_STR(err.message, "Messages of this campaign were handed over for "
                           "sending before it was cancelled; it stays in "
                           "its contacts' records.");
    CHECK_INT(campaign_now(&f, handed).status, INBOX_CAMPAIGN_CANCELLED);

    CHECK_INT(inbox_store_campaign_delete(f.store, f.org, quiet,
                                          INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                          at + 2 * MINUTE, NULL, &err),
              INBOX_OK);
    CHECK_INT(inbox_store_campaign_get(f.store, f.org, quiet, &c, &err),
              INBOX_ERR_NOT_FOUND);
    inbox_campaign_free(&c);

    /* the morning: nothing of the deleted one is sent, nor named */
    d = dispatch(&f, T0 + 37 * HOUR, 10);
    CHECK_INT(d.handed, 0);
    CHECK_INT(inbox_store_contact_campaigns(f.store, f.org, alice, &list,
                                            NULL), INBOX_OK);
    CHECK_INT(list.campaign_count, 0);
    inbox_contact_campaigns_free(&list);
    CHECK_INT(inbox_store_contact_campaigns(f.store, f.org, dave, &list,
                                            NULL), INBOX_OK);
    CHECK_INT(list.campaign_count, 1);
    if (list.campaign_count == 1) {
        CHECK_STR(list.campaigns[0].id, handed);
    }
    inbox_contact_campaigns_free(&list);

    fixture_close(&f);
}


TEST(a_campaign_pauses_without_credits_and_resumes_after_a_grant)
{
    char                       id[INBOX_ID_MAX];
    fixture_t                  f;
    progress_t                 p;
    inbox_campaign_dispatch_t  d;

    FIXTURE(&f);

    d = campaign_short_of_credits(&f, id);
    CHECK_INT(d.handed, 2);
    CHECK_INT(d.paused, 1);
    p = campaign_now(&f, id);
    CHECK_INT(p.status, INBOX_CAMPAIGN_PAUSED);
    CHECK_INT(p.paused_reason, INBOX_PAUSE_INSUFFICIENT_CREDITS);
    CHECK_INT(p.counts.queued, 3);
    CHECK_INT(balance_of(&f, f.org), 0);

    /* paused: nothing more goes */
    d = dispatch(&f, NOON + MINUTE, 10);
    CHECK_INT(d.handed, 0);

    /* billing inactive pauses it too, after a resume */
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 5, NULL), INBOX_OK);
    CHECK_INT(inbox_store_billing_set(f.store, f.org, 0, NULL), INBOX_OK);
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_RESUME, NOON + MINUTE),
              INBOX_OK);
    d = dispatch(&f, NOON + MINUTE, 10);
    CHECK_INT(d.handed, 0);
    p = campaign_now(&f, id);
    CHECK_INT(p.paused_reason, INBOX_PAUSE_BILLING_INACTIVE);

    /* resumed with billing back: the last one goes, the campaign ends */
    CHECK_INT(inbox_store_billing_set(f.store, f.org, 1, NULL), INBOX_OK);
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_RESUME, NOON + 2 * MINUTE),
              INBOX_OK);
    d = dispatch_sent(&f, NOON + 2 * MINUTE, 10);
    CHECK_INT(d.handed, 1);
    p = campaign_now(&f, id);
    CHECK_INT(p.status, INBOX_CAMPAIGN_DONE);
    CHECK_INT(balance_of(&f, f.org), 4);
    CHECK_INT(held_of(&f, f.org), 3);
    CHECK(ledger_balances(&f, f.org));

    fixture_close(&f);
}


/* Billing stopped after every recipient was handed over: nothing due
 * meets it, yet the campaign says why it no longer moves. */
TEST(a_campaign_all_handed_over_pauses_when_billing_stops)
{
    char                       id[INBOX_ID_MAX], x[INBOX_ID_MAX];
    fixture_t                  f;
    progress_t                 p;
    inbox_outbox_batch_t       batch;
    inbox_campaign_dispatch_t  d;

    FIXTURE(&f);

    CHECK_INT(person(&f, ALICE, NULL, NULL, x), 0);
    CHECK_INT(person(&f, BOB, NULL, NULL, x), 0);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);
    CHECK_INT(campaign_new(&f, NULL, id), 0);
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);

    d = dispatch(&f, NOON, 10);
    CHECK_INT(d.handed, 2);
    CHECK_INT(d.paused, 0);

    /* the claim parks both; the next look pauses it, saying why */
    CHECK_INT(inbox_store_billing_set(f.store, f.org, 0, NULL), INBOX_OK);
    CHECK_INT(claim(&f, NOON, INBOX_OUTBOX_CLAIM_MAX, &batch), 0);
    inbox_outbox_batch_free(&batch);

    d = dispatch(&f, NOON + MINUTE, 10);
    CHECK_INT(d.paused, 1);
    CHECK_INT(d.finished, 0);
    p = campaign_now(&f, id);
    CHECK_INT(p.status, INBOX_CAMPAIGN_PAUSED);
    CHECK_INT(p.paused_reason, INBOX_PAUSE_BILLING_INACTIVE);
    CHECK_INT(p.counts.queued, 2);

    /* billing back: what was parked goes (due at the real time, read on
     * the campaigns' noon); resumed, the campaign ends */
    CHECK_INT(inbox_store_billing_set(f.store, f.org, 1, NULL), INBOX_OK);
    CHECK_INT(claim_by_day(&f, inbox_now_ms(), 10, &batch), 2);
    CHECK_INT(carrier_takes(&f, &batch, inbox_now_ms()), 2);
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_RESUME, NOON + 2 * MINUTE),
              INBOX_OK);
    d = dispatch(&f, NOON + 2 * MINUTE, 10);
    CHECK_INT(d.finished, 1);
    p = campaign_now(&f, id);
    CHECK_INT(p.status, INBOX_CAMPAIGN_DONE);

    fixture_close(&f);
}


/*
 * On an unlimited plan the subscription pays: replies (an MMS too) and a
 * campaign go with no credits, hold nothing and write no ledger entry,
 * a failure gives nothing back; billing still has to be active.  Back on
 * per-message the balance counts again.
 */
TEST(an_unlimited_plan_sends_without_credits_while_billing_is_active)
{
    int                        changed;
    long                       entries;
    char                       x[INBOX_ID_MAX], id[INBOX_ID_MAX];
    int64_t                    balance, held, now;
    fixture_t                  f;
    progress_t                 p;
    inbox_reply_t              r;
    inbox_error_t              err;
    inbox_billing_t            b;
    inbox_event_list_t         events;
    inbox_send_result_t        res;
    inbox_send_report_t        report;
    inbox_reply_result_t       result;
    inbox_ingest_result_t      alice;
    inbox_campaign_dispatch_t  d;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(person(&f, BOB, NULL, NULL, x), 0);
    CHECK_INT(person(&f, CAROL, NULL, NULL, x), 0);
    CHECK_INT(balance_of(&f, f.org), 0);

    CHECK_INT(inbox_store_plan_set(f.store, f.org, INBOX_PLAN_UNLIMITED,
                                   &err), INBOX_OK);
    CHECK_INT(inbox_store_billing_get(f.store, f.org, &b, &err), INBOX_OK);
    CHECK_STR(b.plan, "unlimited");

    CHECK_INT(reply(&f, alice.conversation_id, "one", NULL, &result, NULL,
                    &err), INBOX_OK);
    CHECK_INT(result.message.credits, 0);
    inbox_reply_result_free(&result);
    reply_init(&r, alice.conversation_id, "a picture", 2, NULL);
    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &result, NULL,
                                       &err), INBOX_OK);
    inbox_reply_result_free(&result);

    /* the first one fails at the carrier: nothing was held, nothing
     * comes back */
    now = inbox_now_ms();
    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_ACCEPTED;
    res.carrier = INBOX_CARRIER_TELNYX;
    snprintf(res.provider_id, sizeof(res.provider_id), "40318c20");
    res.status = INBOX_DELIVERY_SENDING;
    CHECK_INT(send_one(&f, now, &res, &report, &events), 0);
    CHECK_INT(inbox_store_message_status_update(f.store, f.org,
                  INBOX_CARRIER_TELNYX, "40318c20", INBOX_DELIVERY_FAILED,
                  "30003", &changed, NULL, &events, &err), INBOX_OK);
    CHECK_INT(changed, 1);

    /* a campaign to all three, with an empty balance */
    CHECK_INT(campaign_new(&f, NULL, id), 0);
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    d = dispatch_sent(&f, NOON, 10);
    CHECK_INT(d.handed, 3);
    CHECK_INT(d.paused, 0);
    p = campaign_now(&f, id);
    CHECK_INT(p.status, INBOX_CAMPAIGN_DONE);

    CHECK_INT(balance_of(&f, f.org), 0);
    CHECK_INT(held_of(&f, f.org), 0);
    entries = ledger_walk(&f, f.org, &balance, &held, NULL);
    CHECK_INT(entries, 0);

    /* a lapsed subscription sends nothing */
    CHECK_INT(inbox_store_billing_set(f.store, f.org, 0, NULL), INBOX_OK);
    CHECK_INT(reply(&f, alice.conversation_id, "two", NULL, &result, NULL,
                    &err), INBOX_ERR_BILLING_INACTIVE);
    CHECK_INT(inbox_store_billing_set(f.store, f.org, 1, NULL), INBOX_OK);

    /* per message again: the balance decides, and is held */
    CHECK_INT(inbox_store_plan_set(f.store, f.org, INBOX_PLAN_PER_MESSAGE,
                                   &err), INBOX_OK);
    CHECK_INT(reply(&f, alice.conversation_id, "three", NULL, &result, NULL,
                    &err), INBOX_ERR_INSUFFICIENT_CREDITS);
    CHECK_INT(err.needed, 1);
    CHECK(strstr(err.message, "needs 1 credit and ") != NULL);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 1, NULL), INBOX_OK);
    CHECK_INT(reply(&f, alice.conversation_id, "three", NULL, &result, NULL,
                    &err), INBOX_OK);
    CHECK_INT(result.message.credits, 1);
    inbox_reply_result_free(&result);
    CHECK_INT(balance_of(&f, f.org), 0);
    CHECK_INT(held_of(&f, f.org), 1);
    CHECK(ledger_balances(&f, f.org));

    CHECK_INT(inbox_store_plan_set(f.store, f.backend->missing_id,
                                   INBOX_PLAN_UNLIMITED, NULL),
              INBOX_ERR_NOT_FOUND);

    inbox_event_list_free(&events);
    fixture_close(&f);
}


TEST(an_opt_out_mid_send_gets_nothing_more_and_cancel_stops_the_rest)
{
    char                       a[INBOX_ID_MAX], x[INBOX_ID_MAX];
    char                       id[INBOX_ID_MAX];
    fixture_t                  f;
    progress_t                 p;
    inbox_contact_record_t     rec;
    inbox_campaign_dispatch_t  d;

    FIXTURE(&f);

    CHECK_INT(person(&f, ALICE, NULL, NULL, a), 0);
    CHECK_INT(person(&f, BOB, NULL, NULL, x), 0);
    CHECK_INT(person(&f, CAROL, NULL, NULL, x), 0);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);
    CHECK_INT(campaign_new(&f, NULL, id), 0);
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);

    /* Alice (the first recipient) opts out after sending began */
    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, a,
                                          INBOX_OPT_OUT_MANUAL, NULL, NOON, 0,
                                          &rec, NULL, NULL), INBOX_OK);
    inbox_contact_record_free(&rec);

    d = dispatch(&f, NOON, 2);
    CHECK_INT(d.suppressed, 1);
    CHECK_INT(d.handed, 1);

    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_CANCEL, NOON + MINUTE),
              INBOX_OK);
    p = campaign_now(&f, id);
    CHECK_INT(p.status, INBOX_CAMPAIGN_CANCELLED);
    CHECK_INT(p.counts.suppressed, 1);
    CHECK_INT(p.counts.queued, 1);
    CHECK_INT(p.counts.cancelled, 1);
    CHECK(p.finished_at == NOON + MINUTE);
    d = dispatch(&f, NOON + 2 * MINUTE, 10);
    CHECK_INT(d.handed, 0);
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_CANCEL, NOON), INBOX_OK);
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_RESUME, NOON),
              INBOX_ERR_CONFLICT);
    CHECK_INT(balance_of(&f, f.org), 9);

    fixture_close(&f);
}


/* What the sender says of a claimed entry; the store's status. */
static inbox_status_t
carrier_says(fixture_t *f, const inbox_outbox_item_t *item,
    inbox_send_outcome_t outcome, int64_t now, inbox_send_report_t *report)
{
    inbox_send_result_t  res;

    memset(&res, 0, sizeof(res));
    res.outcome = outcome;

    if (outcome == INBOX_SEND_ACCEPTED) {
        res.carrier = INBOX_CARRIER_TWILIO;
        res.status = INBOX_DELIVERY_QUEUED;
        snprintf(res.provider_id, sizeof(res.provider_id), "SM-%s",
                 item->message.id);
    }

    return inbox_store_outbox_result(f->store, item->id, item->attempt, &res,
                                     now, report, NULL, NULL);
}


/* On the unlimited plan a campaign's message costs nothing: it is still
 * withdrawn, and the keyword's answer still goes. */
TEST(an_opt_out_withdraws_a_handed_over_campaign_message_on_any_plan)
{
    char                       a[INBOX_ID_MAX], id[INBOX_ID_MAX];
    char                       contact[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    fixture_t                  f;
    inbox_reply_result_t       notice;
    inbox_send_report_t        report;
    inbox_outbox_batch_t       batch;
    inbox_campaign_dispatch_t  d;

    FIXTURE(&f);

    CHECK_INT(inbox_store_plan_set(f.store, f.org, INBOX_PLAN_UNLIMITED,
                                   NULL), INBOX_OK);
    CHECK_INT(person(&f, ALICE, NULL, NULL, a), 0);
    CHECK_INT(campaign_new(&f, NULL, id), 0);
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    d = dispatch(&f, NOON, 3);
    CHECK_INT(d.handed, 1);

    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, a,
                                          INBOX_OPT_OUT_KEYWORD, "STOP",
                                          NOON + 10, 0, NULL, NULL, NULL),
              INBOX_OK);
    CHECK(contact_of(&f, ALICE, contact, conv));
    memset(&notice, 0, sizeof(notice));
    CHECK_INT(inbox_store_outbox_notice(f.store, f.org, conv, NUMBER,
                                        "You are unsubscribed.", &notice,
                                        NULL, NULL), INBOX_OK);

    /* the campaign's message, due since NOON: withdrawn, and so reported */
    CHECK_INT(claim(&f, NOON + 20, 10, &batch), 1);
    if (batch.count == 1) {
        CHECK_STR(batch.items[0].campaign_id, id);
        CHECK_INT(batch.items[0].message.credits, 0);
        CHECK_INT(batch.items[0].withdrawn, 1);
        CHECK_INT(carrier_says(&f, &batch.items[0], INBOX_SEND_WITHDRAWN,
                               NOON + 30, &report), INBOX_OK);
        CHECK_INT(report.status, INBOX_DELIVERY_FAILED);
    }
    inbox_outbox_batch_free(&batch);

    /* the keyword's answer, due now, goes */
    CHECK_INT(claim(&f, inbox_now_ms(), 10, &batch), 1);
    if (batch.count == 1) {
        CHECK_STR(batch.items[0].message.id, notice.message.id);
        CHECK_INT(batch.items[0].withdrawn, 0);
    }
    inbox_outbox_batch_free(&batch);

    inbox_reply_result_free(&notice);
    fixture_close(&f);
}


/* Four contacts, ten credits, a campaign to all sending and three of
 * its messages handed to the outbox (the fourth still due, so that the
 * campaign is still sending). */
static void
campaign_in_outbox(fixture_t *f, char id[INBOX_ID_MAX])
{
    char                       x[INBOX_ID_MAX];
    inbox_campaign_dispatch_t  d;

    CHECK_INT(person(f, ALICE, NULL, NULL, x), 0);
    CHECK_INT(person(f, BOB, NULL, NULL, x), 0);
    CHECK_INT(person(f, CAROL, NULL, NULL, x), 0);
    CHECK_INT(person(f, "+15550001111", NULL, NULL, x), 0);
    CHECK_INT(inbox_store_credits_grant(f->store, f->org, 10, NULL),
              INBOX_OK);
    CHECK_INT(campaign_new(f, NULL, id), 0);
    CHECK_INT(campaign_do(f, id, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);

    d = dispatch(f, NOON, 3);
    CHECK_INT(d.handed, 3);
    CHECK_INT(campaign_now(f, id).status, INBOX_CAMPAIGN_SENDING);
}


TEST(a_paused_campaigns_messages_wait_in_the_outbox_until_it_resumes)
{
    size_t                 i;
    char                   id[INBOX_ID_MAX];
    fixture_t              f;
    inbox_outbox_batch_t   first, batch;
    inbox_send_report_t    report;

    FIXTURE(&f);
    campaign_in_outbox(&f, id);

    /* one is in the sender's hands when the campaign is paused */
    CHECK_INT(claim(&f, NOON, 1, &first), 1);
    CHECK_STR(first.items[0].campaign_id, id);
    CHECK_INT(first.items[0].attempt, 1);
    CHECK_INT(first.items[0].cancelled, 0);
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_PAUSE, NOON + 1), INBOX_OK);

    /* the other two are not handed out, now or later */
    CHECK_INT(claim(&f, NOON + 2, 10, &batch), 0);
    inbox_outbox_batch_free(&batch);
    CHECK_INT(claim(&f, NOON + 60 * MINUTE, 10, &batch), 0);
    inbox_outbox_batch_free(&batch);

    /* the sender gives the first back unsent: it waits as well */
    CHECK_INT(carrier_says(&f, &first.items[0], INBOX_SEND_RELEASED,
                           NOON + 60 * MINUTE, &report), INBOX_OK);
    CHECK_INT(report.done, 0);
    CHECK_INT(report.status, INBOX_DELIVERY_QUEUED);
    CHECK_INT(claim(&f, NOON + 61 * MINUTE, 10, &batch), 0);
    inbox_outbox_batch_free(&batch);
    CHECK_INT(campaign_now(&f, id).counts.queued, 4);     /* 3 + 1 due */

    /* resumed: all three go, none of them counted a second attempt */
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_RESUME, NOON + 62 * MINUTE),
              INBOX_OK);
    CHECK_INT(claim(&f, NOON + 62 * MINUTE, 10, &batch), 3);

    for (i = 0; i < batch.count; i++) {
        CHECK_INT(batch.items[i].attempt, 1);
        CHECK_INT(batch.items[i].cancelled, 0);
        CHECK_INT(batch.items[i].interrupted, 0);
        CHECK_STR(batch.items[i].campaign_id, id);
    }

    inbox_outbox_batch_free(&batch);
    inbox_outbox_batch_free(&first);
    CHECK_INT(balance_of(&f, f.org), 7);
    CHECK_INT(held_of(&f, f.org), 3);

    fixture_close(&f);
}


/*
 * A paused campaign sits on no credits: the pause gives back what its
 * messages parked in the outbox held (one in the sender's hands keeps
 * its hold until given back, then the claim that parks it gives it
 * back), so that a reply can use them; resumed, each is held again as
 * a claim hands it out, and one the balance no longer covers waits,
 * its campaign paused for credits, until a grant and a resume.
 */
TEST(a_paused_campaign_gives_back_what_its_parked_messages_held)
{
    int                    i;
    long                   n;
    char                   id[INBOX_ID_MAX], contact[INBOX_ID_MAX];
    char                   conv[INBOX_ID_MAX];
    int64_t                balance, held;
    fixture_t              f;
    inbox_ledger_entry_t   newest;
    progress_t             p;
    inbox_error_t          err;
    inbox_outbox_batch_t   first, batch;
    inbox_send_report_t    report;

    FIXTURE(&f);
    campaign_in_outbox(&f, id);
    CHECK(contact_of(&f, BOB, contact, conv));

    /* the other seven credits spent on replies */
    for (i = 0; i < 7; i++) {
        CHECK_INT(reply(&f, conv, "on it", NULL, NULL, NULL, NULL),
                  INBOX_OK);
    }
    CHECK_INT(balance_of(&f, f.org), 0);
    CHECK_INT(held_of(&f, f.org), 10);
    CHECK_INT(reply(&f, conv, "one more", NULL, NULL, NULL, &err),
              INBOX_ERR_INSUFFICIENT_CREDITS);

    /* one in the sender's hands, then the pause: the two parked give
     * their credits back at once, and a reply can use one */
    CHECK_INT(claim(&f, NOON, 1, &first), 1);
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_PAUSE, NOON + 1), INBOX_OK);
    CHECK_INT(balance_of(&f, f.org), 2);
    CHECK_INT(held_of(&f, f.org), 8);
    CHECK(ledger_balances(&f, f.org));

    /* the ledger says why: not a failure, a pause */
    memset(&newest, 0, sizeof(newest));
    CHECK(ledger_walk(&f, f.org, &balance, &held, &newest) > 0);
    CHECK_INT(newest.kind, INBOX_LEDGER_RELEASE);
    CHECK_STR(newest.error_code, INBOX_LEDGER_PAUSED);
    CHECK_INT(reply(&f, conv, "one more", NULL, NULL, NULL, &err), INBOX_OK);
    CHECK_INT(balance_of(&f, f.org), 1);

    /* the sender gives its one back: parked, its credit given back too */
    CHECK_INT(carrier_says(&f, &first.items[0], INBOX_SEND_RELEASED,
                           NOON + 2, &report), INBOX_OK);
    CHECK_INT(claim(&f, NOON + 3, 10, &batch), 0);
    inbox_outbox_batch_free(&batch);
    CHECK_INT(balance_of(&f, f.org), 2);
    CHECK_INT(held_of(&f, f.org), 8);
    CHECK(ledger_balances(&f, f.org));
    CHECK_INT(campaign_now(&f, id).counts.queued, 4);       /* 3 + 1 due */

    /* resumed: held again as handed out, two of three; the third waits,
     * the campaign paused for credits */
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_RESUME, NOON + MINUTE),
              INBOX_OK);
    n = claim(&f, NOON + MINUTE, 10, &batch);
    CHECK_INT(n, 2);
    CHECK_INT(carrier_takes(&f, &batch, NOON + MINUTE), 2);
    inbox_outbox_batch_free(&batch);
    CHECK_INT(balance_of(&f, f.org), 0);
    CHECK_INT(held_of(&f, f.org), 10);
    CHECK(ledger_balances(&f, f.org));
    p = campaign_now(&f, id);
    CHECK_INT(p.status, INBOX_CAMPAIGN_PAUSED);
    CHECK_INT(p.paused_reason, INBOX_PAUSE_INSUFFICIENT_CREDITS);
    CHECK_INT(claim(&f, NOON + 2 * MINUTE, 10, &batch), 0);
    inbox_outbox_batch_free(&batch);

    /* a grant and a resume: it goes, held */
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 1, NULL), INBOX_OK);
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_RESUME, NOON + 3 * MINUTE),
              INBOX_OK);
    CHECK_INT(claim(&f, NOON + 3 * MINUTE, 10, &batch), 1);
    if (batch.count == 1) {
        CHECK_INT(batch.items[0].attempt, 1);
        CHECK_STR(batch.items[0].campaign_id, id);
    }
    CHECK_INT(carrier_takes(&f, &batch, NOON + 3 * MINUTE), 1);
    inbox_outbox_batch_free(&batch);
    CHECK_INT(balance_of(&f, f.org), 0);
    CHECK_INT(held_of(&f, f.org), 11);
    CHECK(ledger_balances(&f, f.org));

    inbox_outbox_batch_free(&first);
    fixture_close(&f);
}

/*
 * Each ledger entry of a campaign's or a poll's message names it (its
 * id, kind and name), so that staff can tell what spent their credits
 * during a big send; a reply's and a grant's name none.
 */
TEST(the_ledger_names_the_campaign_or_poll_each_message_was_for)
{
    size_t                     i, campaigns, polls, others;
    char                       campaign[INBOX_ID_MAX], poll[INBOX_ID_MAX];
    char                       x[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    fixture_t                  f;
    inbox_tags_t               tags;
    inbox_campaign_t           c;
    inbox_campaign_new_t       n;
    inbox_ledger_page_t        page;
    inbox_ledger_entry_t      *e;
    static const char *const   options[] = { "Yes", "No" };

    FIXTURE(&f);
    CHECK_INT(person(&f, ALICE, "spring", NULL, x), 0);
    CHECK_INT(person(&f, BOB, "lunch", NULL, x), 0);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL),
              INBOX_OK);

    /* "Spring sale" to Alice, the poll "Lunch?" to Bob */
    CHECK_INT(campaign_new(&f, "spring", campaign), 0);
    memset(&tags, 0, sizeof(tags));
    memset(&n, 0, sizeof(n));
    CHECK_INT(inbox_tags_add(&tags, "lunch", 5, NULL), INBOX_OK);
    n.kind = INBOX_CAMPAIGN_KIND_POLL;
    n.question = "Lunch?";
    n.options = options;
    n.option_count = 2;
    n.tags = &tags;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          NULL), INBOX_OK);
    snprintf(poll, sizeof(poll), "%s", c.id);
    inbox_campaign_free(&c);
    inbox_tags_free(&tags);

    CHECK_INT(campaign_do(&f, campaign, INBOX_CAMPAIGN_SEND, NOON),
              INBOX_OK);
    CHECK_INT(campaign_do(&f, poll, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    CHECK_INT(dispatch(&f, NOON, 10).handed, 2);

    /* and a reply in Alice's thread, which no campaign sent */
    CHECK(contact_of(&f, ALICE, x, conv));
    CHECK_INT(reply(&f, conv, "on it", NULL, NULL, NULL, NULL), INBOX_OK);

    memset(&page, 0, sizeof(page));
    CHECK_INT(inbox_store_ledger_list(f.store, f.org, NULL, 10, &page, NULL),
              INBOX_OK);
    CHECK_INT(page.count, 4);

    campaigns = 0;
    polls = 0;
    others = 0;

    for (i = 0; i < page.count; i++) {
        e = &page.items[i];

        if (strcmp(e->campaign.id, campaign) == 0) {
            campaigns++;
            CHECK_INT(e->kind, INBOX_LEDGER_HOLD);
            CHECK_INT(e->campaign.kind, INBOX_CAMPAIGN_KIND_CAMPAIGN);
            CHECK_STR(e->campaign.name, "Spring sale");
            CHECK_STR(e->contact_phone, ALICE);

        } else if (strcmp(e->campaign.id, poll) == 0) {
            polls++;
            CHECK_INT(e->kind, INBOX_LEDGER_HOLD);
            CHECK_INT(e->campaign.kind, INBOX_CAMPAIGN_KIND_POLL);
            CHECK_STR(e->campaign.name, "Lunch?");
            CHECK_STR(e->contact_phone, BOB);

        } else {
            /* the grant, and the reply's hold (in whichever order: the
             * dispatch's clock is the test's) */
            others++;
            CHECK_STR(e->campaign.id, "");
            CHECK_STR(e->campaign.name, "");
            if (e->kind != INBOX_LEDGER_GRANT) {
                CHECK_INT(e->kind, INBOX_LEDGER_HOLD);
                CHECK_STR(e->contact_phone, ALICE);
            }
        }
    }

    CHECK_INT(campaigns, 1);
    CHECK_INT(polls, 1);
    CHECK_INT(others, 2);

    inbox_ledger_page_free(&page);
    fixture_close(&f);
}


/*
 * A paused campaign's parked message whose contact opts out meanwhile:
 * resumed, a claim hands it out withdrawn, to be reported, and it takes
 * no hold (parked, it holds nothing, and one never sent needs none), so
 * its report gives nothing back: it moves no credit, where the others
 * are held again as they go.
 */
TEST(a_parked_message_withdrawn_by_an_opt_out_moves_no_credits)
{
    size_t                 i, withdrawn;
    long                   entries, n;
    char                   id[INBOX_ID_MAX], contact[INBOX_ID_MAX];
    char                   conv[INBOX_ID_MAX];
    int64_t                balance, held;
    fixture_t              f;
    inbox_ledger_entry_t   newest;
    inbox_outbox_batch_t   batch;
    inbox_send_report_t    report;

    FIXTURE(&f);
    campaign_in_outbox(&f, id);

    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_PAUSE, NOON + 1), INBOX_OK);
    CHECK_INT(balance_of(&f, f.org), 10);
    CHECK_INT(held_of(&f, f.org), 0);

    CHECK(contact_of(&f, ALICE, contact, conv));
    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, contact,
                                          INBOX_OPT_OUT_KEYWORD, "STOP",
                                          NOON + 10, 0, NULL, NULL, NULL),
              INBOX_OK);

    memset(&newest, 0, sizeof(newest));
    entries = ledger_walk(&f, f.org, &balance, &held, &newest);

    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_RESUME, NOON + MINUTE),
              INBOX_OK);
    n = claim(&f, NOON + MINUTE, 10, &batch);
    CHECK_INT(n, 3);

    withdrawn = 0;
    for (i = 0; i < batch.count; i++) {
        if (batch.items[i].withdrawn) {
            withdrawn++;
            CHECK_INT(carrier_says(&f, &batch.items[i], INBOX_SEND_WITHDRAWN,
                                   NOON + MINUTE, &report), INBOX_OK);
            CHECK_INT(report.status, INBOX_DELIVERY_FAILED);
        }
    }
    CHECK_INT(withdrawn, 1);
    inbox_outbox_batch_free(&batch);

    /* the two that go held again, the withdrawn one nothing */
    CHECK_INT(balance_of(&f, f.org), 8);
    CHECK_INT(held_of(&f, f.org), 2);
    CHECK(ledger_balances(&f, f.org));
    CHECK_INT(ledger_walk(&f, f.org, &balance, &held, &newest), entries + 2);
    CHECK_INT(newest.kind, INBOX_LEDGER_HOLD);

    fixture_close(&f);
}


/* What the sender records of a campaign message the carrier refused for
 * its number's account (Twilio 20003): given back, account set. */
static inbox_status_t
carrier_refuses_account(fixture_t *f, const inbox_outbox_item_t *item,
    int64_t now, inbox_send_report_t *report)
{
    inbox_send_result_t  res;

    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_RELEASED;
    res.carrier = INBOX_CARRIER_TWILIO;
    res.account = 1;
    snprintf(res.error_code, sizeof(res.error_code), "20003");
    snprintf(res.message, sizeof(res.message), "Authenticate");

    return inbox_store_outbox_result(f->store, item->id, item->attempt, &res,
                                     now, report, NULL, NULL);
}


/*
 * The carrier refuses the campaign's number's account (a wrong auth
 * token): the message is given back, no attempt counted, its campaign
 * paused for carrier_account, nothing failed or sent; what else it has
 * in the outbox waits parked, and nothing more is handed over, until a
 * person resumes it; then each goes once, and a refusal again pauses it
 * again.
 */
TEST(a_campaign_whose_number_the_carrier_refuses_pauses_unfailed)
{
    size_t                 i;
    char                   id[INBOX_ID_MAX];
    fixture_t              f;
    progress_t             p;
    inbox_outbox_batch_t   first, batch;
    inbox_send_report_t    report;

    FIXTURE(&f);
    campaign_in_outbox(&f, id);

    /* two in the sender's hands: the first refused, the second given
     * back with it */
    CHECK_INT(claim(&f, NOON, 2, &first), 2);
    CHECK_INT(carrier_refuses_account(&f, &first.items[0], NOON + 1,
                                      &report), INBOX_OK);
    CHECK_INT(report.done, 0);
    CHECK_INT(report.status, INBOX_DELIVERY_QUEUED);
    CHECK_INT(carrier_says(&f, &first.items[1], INBOX_SEND_RELEASED,
                           NOON + 1, &report), INBOX_OK);

    p = campaign_now(&f, id);
    CHECK_INT(p.status, INBOX_CAMPAIGN_PAUSED);
    CHECK_INT(p.paused_reason, INBOX_PAUSE_CARRIER_ACCOUNT);
    CHECK_INT(p.counts.failed, 0);
    CHECK_INT(p.counts.sent, 0);
    CHECK_INT(p.counts.queued, 4);      /* 3 + 1 due */

    /* nothing handed out or over while it is paused */
    CHECK_INT(claim(&f, NOON + 2, 10, &batch), 0);
    inbox_outbox_batch_free(&batch);
    CHECK_INT(dispatch(&f, NOON + 3, 10).handed, 0);
    CHECK_INT(claim(&f, NOON + 60 * MINUTE, 10, &batch), 0);
    inbox_outbox_batch_free(&batch);

    /* resumed (the token fixed): the three go, each a first attempt */
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_RESUME, NOON + 61 * MINUTE),
              INBOX_OK);
    CHECK_INT(claim(&f, NOON + 61 * MINUTE, 10, &batch), 3);

    for (i = 0; i < batch.count; i++) {
        CHECK_INT(batch.items[i].attempt, 1);
        CHECK_STR(batch.items[i].campaign_id, id);
    }

    /* still refused: paused again at the first */
    if (batch.count == 3) {
        CHECK_INT(carrier_refuses_account(&f, &batch.items[0],
                                          NOON + 62 * MINUTE, &report),
                  INBOX_OK);
        p = campaign_now(&f, id);
        CHECK_INT(p.status, INBOX_CAMPAIGN_PAUSED);
        CHECK_INT(p.paused_reason, INBOX_PAUSE_CARRIER_ACCOUNT);
        CHECK_INT(p.counts.failed, 0);
    }

    inbox_outbox_batch_free(&batch);
    inbox_outbox_batch_free(&first);
    fixture_close(&f);
}


/* Paused for credits, what a campaign handed over still goes: refused
 * for its number's account, the campaign's reason becomes the one a
 * person can act on, and the rest waits parked. */
TEST(a_campaign_paused_for_credits_pauses_for_its_numbers_account)
{
    char                   id[INBOX_ID_MAX];
    fixture_t              f;
    progress_t             p;
    inbox_outbox_batch_t   batch;
    inbox_send_report_t    report;

    FIXTURE(&f);
    (void) campaign_short_of_credits(&f, id);
    CHECK_INT(campaign_now(&f, id).paused_reason,
              INBOX_PAUSE_INSUFFICIENT_CREDITS);
    CHECK_INT(claim(&f, NOON + 1, 1, &batch), 1);

    CHECK_INT(carrier_refuses_account(&f, &batch.items[0], NOON + 2,
                                      &report), INBOX_OK);
    p = campaign_now(&f, id);
    CHECK_INT(p.status, INBOX_CAMPAIGN_PAUSED);
    CHECK_INT(p.paused_reason, INBOX_PAUSE_CARRIER_ACCOUNT);
    inbox_outbox_batch_free(&batch);
    CHECK_INT(claim(&f, NOON + 3, 10, &batch), 0);
    inbox_outbox_batch_free(&batch);

    fixture_close(&f);
}


/*
 * A campaign message handed over before its recipient's quiet hours but
 * claimed inside them (paused in the evening, resumed at night) waits in
 * the outbox until they end, its attempt not counted.  (On a rehearsal's
 * clock, integration/campaign-clock.test.mjs.)
 */
TEST(a_campaign_message_claimed_in_its_recipients_quiet_hours_waits)
{
    char                   a[INBOX_ID_MAX], id[INBOX_ID_MAX];
    int64_t                evening, night;
    fixture_t              f;
    progress_t             p;
    inbox_outbox_batch_t   batch;

    FIXTURE(&f);

    CHECK_INT(person(&f, ALICE, NULL, "America/New_York", a), 0);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);
    CHECK_INT(campaign_new(&f, NULL, id), 0);

    /* 01:00Z is 20:00 in New York: handed over, then paused */
    evening = T0 + 25 * HOUR;
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_SEND, evening), INBOX_OK);
    CHECK_INT(dispatch(&f, evening, 10).handed, 1);
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_PAUSE, evening + 1),
              INBOX_OK);
    CHECK_INT(claim(&f, evening + 2, 10, &batch), 0);
    inbox_outbox_batch_free(&batch);

    /* resumed at 22:00 in New York: nothing goes until 08:00 (13:00Z) */
    night = T0 + 27 * HOUR;
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_RESUME, night), INBOX_OK);
    CHECK_INT(claim(&f, night, 10, &batch), 0);
    inbox_outbox_batch_free(&batch);
    CHECK_INT(claim(&f, T0 + 37 * HOUR - MINUTE, 10, &batch), 0);
    inbox_outbox_batch_free(&batch);

    /* counted as waiting for quiet hours, and not handed over twice */
    p = campaign_now(&f, id);
    CHECK_INT(p.counts.waiting_quiet_hours, 1);
    CHECK_INT(p.counts.queued, 0);
    CHECK_INT(dispatch(&f, T0 + 37 * HOUR, 10).handed, 0);
    /* its hold given back at the pause, taken again as it goes */
    CHECK_INT(held_of(&f, f.org), 0);

    CHECK_INT(claim(&f, T0 + 37 * HOUR, 10, &batch), 1);
    CHECK_INT(batch.items[0].attempt, 1);
    CHECK_STR(batch.items[0].campaign_id, id);
    inbox_outbox_batch_free(&batch);
    CHECK_INT(held_of(&f, f.org), 1);
    p = campaign_now(&f, id);
    CHECK_INT(p.counts.waiting_quiet_hours, 0);
    CHECK_INT(p.counts.queued, 1);

    fixture_close(&f);
}


/*
 * A campaign message a claim put off for quiet hours waits for them as
 * they are now: the organization's window made shorter (or its zone, or
 * its recipient's, changed) has it claimed when the new one opens.  The
 * claims run on the real clock, quiet hours on a rehearsal's.
 */
TEST(a_put_off_campaign_message_waits_for_quiet_hours_as_they_are_now)
{
    char                   a[INBOX_ID_MAX], id[INBOX_ID_MAX];
    int64_t                evening, night, now;
    fixture_t              f;
    inbox_outbox_batch_t   batch;
    inbox_settings_edit_t  edit;

    FIXTURE(&f);

    CHECK_INT(person(&f, ALICE, NULL, "America/New_York", a), 0);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);
    CHECK_INT(campaign_new(&f, NULL, id), 0);

    /* handed over at 20:00 in New York, paused, resumed at 22:00: put
     * off until 08:00, ten hours on */
    evening = T0 + 25 * HOUR;
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_SEND, evening), INBOX_OK);
    CHECK_INT(dispatch(&f, evening, 10).handed, 1);
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_PAUSE, evening + 1),
              INBOX_OK);
    CHECK_INT(claim(&f, evening + 2, 10, &batch), 0);
    inbox_outbox_batch_free(&batch);
    night = T0 + 27 * HOUR;
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_RESUME, night), INBOX_OK);
    now = inbox_now_ms();
    CHECK_INT(inbox_store_outbox_claim(f.store, now, night, 10, 0,
                                       INBOX_OUTBOX_BULK, NULL, &batch, NULL),
              INBOX_OK);
    CHECK_INT(batch.count, 0);
    inbox_outbox_batch_free(&batch);
    CHECK_INT(campaign_now(&f, id).counts.waiting_quiet_hours, 1);

    /* the window put right to 06:00: at 05:59 it waits a minute more */
    memset(&edit, 0, sizeof(edit));
    CHECK_INT(inbox_settings_set_quiet_hours(&edit, "21:00", "06:00", NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_settings_update(f.store, f.org, &edit, NULL, NULL,
                                          NULL), INBOX_OK);
    now = inbox_now_ms();
    CHECK_INT(inbox_store_outbox_claim(f.store, now, T0 + 35 * HOUR - MINUTE,
                                       10, 0, INBOX_OUTBOX_BULK, NULL, &batch,
                                       NULL), INBOX_OK);
    CHECK_INT(batch.count, 0);
    inbox_outbox_batch_free(&batch);
    CHECK_INT(campaign_now(&f, id).counts.waiting_quiet_hours, 1);

    CHECK_INT(inbox_store_outbox_claim(f.store, now + MINUTE, T0 + 35 * HOUR,
                                       10, 0, INBOX_OUTBOX_BULK, NULL, &batch,
                                       NULL), INBOX_OK);
    CHECK_INT(batch.count, 1);
    if (batch.count == 1) {
        CHECK_INT(batch.items[0].attempt, 1);
        CHECK_STR(batch.items[0].campaign_id, id);
    }
    inbox_outbox_batch_free(&batch);
    CHECK_INT(campaign_now(&f, id).counts.queued, 1);

    fixture_close(&f);
}


TEST(a_campaign_paused_for_credits_still_sends_what_it_paid_for)
{
    char                       id[INBOX_ID_MAX];
    fixture_t                  f;
    inbox_outbox_batch_t       batch;
    inbox_campaign_dispatch_t  d;

    FIXTURE(&f);

    d = campaign_short_of_credits(&f, id);
    CHECK_INT(d.handed, 2);
    CHECK_INT(campaign_now(&f, id).status, INBOX_CAMPAIGN_PAUSED);

    /* the two it could pay hold their credits: they go */
    CHECK_INT(claim(&f, NOON + 1, 10, &batch), 2);
    CHECK_INT(batch.items[0].cancelled, 0);
    inbox_outbox_batch_free(&batch);

    fixture_close(&f);
}


TEST(a_person_pausing_a_campaign_paused_for_credits_holds_what_was_handed)
{
    char                       id[INBOX_ID_MAX];
    fixture_t                  f;
    progress_t                 p;
    inbox_outbox_batch_t       batch;
    inbox_campaign_dispatch_t  d;

    FIXTURE(&f);

    d = campaign_short_of_credits(&f, id);
    CHECK_INT(d.handed, 2);
    CHECK_INT(campaign_now(&f, id).paused_reason,
              INBOX_PAUSE_INSUFFICIENT_CREDITS);

    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_PAUSE, NOON + 1), INBOX_OK);
    p = campaign_now(&f, id);
    CHECK_INT(p.status, INBOX_CAMPAIGN_PAUSED);
    CHECK_INT(p.paused_reason, INBOX_PAUSE_MANUAL);

    /* what was handed over waits with the rest */
    CHECK_INT(claim(&f, NOON + 2, 10, &batch), 0);
    inbox_outbox_batch_free(&batch);

    /* resumed: they go */
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_RESUME, NOON + 3), INBOX_OK);
    CHECK_INT(claim(&f, NOON + 4, 10, &batch), 2);
    inbox_outbox_batch_free(&batch);

    fixture_close(&f);
}


TEST(a_cancelled_campaigns_messages_in_the_outbox_fail_unsent_and_unpaid)
{
    size_t                     i;
    char                       id[INBOX_ID_MAX], status[16], code[32];
    char                       contact[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    fixture_t                  f;
    progress_t                 p;
    inbox_outbox_batch_t       first, batch;
    inbox_send_report_t        report;
    inbox_contact_campaigns_t  list;

    FIXTURE(&f);
    campaign_in_outbox(&f, id);
    CHECK_INT(balance_of(&f, f.org), 7);

    /* one already at the carrier, then the campaign is cancelled */
    CHECK_INT(claim(&f, NOON, 1, &first), 1);
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_CANCEL, NOON + 1), INBOX_OK);

    /* the other two are handed out only to be reported cancelled */
    CHECK_INT(claim(&f, NOON + 2, 10, &batch), 2);

    for (i = 0; i < batch.count; i++) {
        CHECK_INT(batch.items[i].cancelled, 1);
        CHECK_INT(carrier_says(&f, &batch.items[i], INBOX_SEND_CANCELLED,
                               NOON + 3, &report), INBOX_OK);
        CHECK_INT(report.done, 1);
        CHECK_INT(report.status, INBOX_DELIVERY_FAILED);
        status_of(&f, batch.items[i].message.conversation_id,
                  batch.items[i].message.id, status, code);
        CHECK_STR(status, "failed");
        CHECK_STR(code, "campaign_cancelled");

        /* the contact's record: failed, counted cancelled */
        CHECK(contact_of(&f, batch.items[i].to, contact, conv));
        CHECK_INT(inbox_store_contact_campaigns(f.store, f.org, contact,
                                                &list, NULL), INBOX_OK);
        CHECK_INT(list.campaign_count, 1);
        if (list.campaign_count == 1) {
            CHECK_STR(list.campaigns[0].status, "failed");
            CHECK_INT(list.campaigns[0].state, INBOX_RECIPIENT_CANCELLED);
        }
        inbox_contact_campaigns_free(&list);
    }

    inbox_outbox_batch_free(&batch);

    /* the one at the carrier ends as the carrier says */
    CHECK_INT(carrier_says(&f, &first.items[0], INBOX_SEND_ACCEPTED,
                           NOON + 4, &report), INBOX_OK);

    p = campaign_now(&f, id);
    CHECK_INT(p.status, INBOX_CAMPAIGN_CANCELLED);
    CHECK_INT(p.counts.cancelled, 3);           /* 2 + the one still due */
    CHECK_INT(p.counts.failed, 0);
    CHECK_INT(p.counts.queued, 1);

    /* only the message that left costs anything */
    CHECK_INT(balance_of(&f, f.org), 9);
    CHECK_INT(held_of(&f, f.org), 1);
    CHECK(ledger_balances(&f, f.org));
    CHECK_INT(claim(&f, NOON + 5, 10, &batch), 0);
    inbox_outbox_batch_free(&batch);
    inbox_outbox_batch_free(&first);
    fixture_close(&f);
}


/* A cancel does not leave a message waiting out a carrier's "try again
 * later" (up to ten minutes) counted queued: it is reported cancelled
 * at once.  What the sender holds stays its own. */
TEST(a_cancel_reports_at_once_what_waited_out_a_retry)
{
    size_t                 i;
    char                   id[INBOX_ID_MAX];
    fixture_t              f;
    progress_t             p;
    inbox_send_report_t    report;
    inbox_outbox_batch_t   held, batch;

    FIXTURE(&f);
    campaign_in_outbox(&f, id);

    /* two in the sender's hands for a minute; the carrier says "later"
     * to the first, so it waits out a backoff */
    CHECK_INT(inbox_store_outbox_claim(f.store, NOON, NOON, 2, MINUTE,
                                       INBOX_OUTBOX_BULK, NULL, &held, NULL),
              INBOX_OK);
    CHECK_INT(held.count, 2);
    CHECK_INT(carrier_says(&f, &held.items[0], INBOX_SEND_RETRY, NOON + 1,
                           &report), INBOX_OK);
    CHECK_INT(report.done, 0);
    CHECK(report.next_attempt_at >= NOON + 1 + inbox_outbox_backoff(1));

    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_CANCEL, NOON + 2), INBOX_OK);

    /* the one in backoff and the one never claimed, not the held one */
    CHECK_INT(claim(&f, NOON + 3, 10, &batch), 2);

    for (i = 0; i < batch.count; i++) {
        CHECK_INT(batch.items[i].cancelled, 1);
        CHECK(strcmp(batch.items[i].id, held.items[1].id) != 0);
        CHECK_INT(carrier_says(&f, &batch.items[i], INBOX_SEND_CANCELLED,
                               NOON + 4, &report), INBOX_OK);
    }

    inbox_outbox_batch_free(&batch);

    p = campaign_now(&f, id);
    CHECK_INT(p.counts.cancelled, 3);           /* 2 + the one still due */
    CHECK_INT(p.counts.queued, 1);              /* the held one */

    inbox_outbox_batch_free(&held);
    fixture_close(&f);
}


TEST(a_campaign_cancelled_while_paused_fails_what_waited_in_the_outbox)
{
    char                   id[INBOX_ID_MAX];
    fixture_t              f;
    inbox_outbox_batch_t   batch;

    FIXTURE(&f);
    campaign_in_outbox(&f, id);

    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_PAUSE, NOON + 1), INBOX_OK);
    CHECK_INT(claim(&f, NOON + 2, 10, &batch), 0);
    inbox_outbox_batch_free(&batch);

    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_CANCEL, NOON + 3), INBOX_OK);
    CHECK_INT(claim(&f, NOON + 4, 10, &batch), 3);
    CHECK_INT(batch.items[0].cancelled, 1);
    CHECK_INT(batch.items[2].cancelled, 1);
    inbox_outbox_batch_free(&batch);

    fixture_close(&f);
}


TEST(a_sender_that_stops_gives_its_unstarted_claims_back_uncounted)
{
    char                   id[INBOX_ID_MAX];
    fixture_t              f;
    inbox_outbox_batch_t   batch;
    inbox_send_report_t    report;

    FIXTURE(&f);
    campaign_in_outbox(&f, id);

    CHECK_INT(claim(&f, NOON, 1, &batch), 1);
    CHECK_INT(carrier_says(&f, &batch.items[0], INBOX_SEND_RELEASED,
                           NOON + 1, &report), INBOX_OK);
    CHECK_INT(report.done, 0);
    CHECK(report.next_attempt_at == NOON + 1);

    /* a second word on the same claim is refused */
    CHECK_INT(carrier_says(&f, &batch.items[0], INBOX_SEND_RELEASED,
                           NOON + 1, &report), INBOX_ERR_CONFLICT);
    inbox_outbox_batch_free(&batch);

    /* due again at once, as its first attempt, not interrupted */
    CHECK_INT(claim(&f, NOON + 1, 1, &batch), 1);
    CHECK_INT(batch.items[0].attempt, 1);
    CHECK_INT(batch.items[0].interrupted, 0);
    inbox_outbox_batch_free(&batch);

    fixture_close(&f);
}


/*
 * The sender looks again, in one read, at what it claimed and has not
 * started yet: a contact who opted out since the claim is withdrawn (its
 * hold released), the others and a keyword's answer still go.
 */
TEST(a_claimed_message_whose_contact_opts_out_before_it_starts_is_withdrawn)
{
    inbox_outbox_held_t       held[4];
    char                      id[INBOX_ID_MAX], contact[INBOX_ID_MAX];
    char                      conv[INBOX_ID_MAX];
    size_t                    i, alice;
    fixture_t                 f;
    const char               *ids[4];
    inbox_reply_result_t      notice;
    inbox_send_report_t       report;
    inbox_outbox_batch_t      batch;
    inbox_outbox_priority_t   priorities[4];

    FIXTURE(&f);
    campaign_in_outbox(&f, id);

    CHECK_INT(claim(&f, NOON, 10, &batch), 3);
    alice = batch.count;

    for (i = 0; i < batch.count; i++) {
        CHECK_INT(batch.items[i].withdrawn, 0);
        ids[i] = batch.items[i].message.id;
        priorities[i] = batch.items[i].priority;
        if (strcmp(batch.items[i].to, ALICE) == 0) {
            alice = i;
        }
    }

    CHECK(alice < batch.count);
    CHECK_INT(inbox_store_outbox_recheck(f.store, ids, priorities, 3, NOON,
                                         held, NULL), INBOX_OK);
    for (i = 0; i < 3; i++) {
        CHECK_INT(held[i], INBOX_OUTBOX_HELD_GOES);
    }

    /* Alice texts STOP while hers waits in the sender's hands */
    CHECK(contact_of(&f, ALICE, contact, conv));
    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, contact,
                                          INBOX_OPT_OUT_KEYWORD, "STOP",
                                          NOON + 10, 0, NULL, NULL, NULL),
              INBOX_OK);
    memset(&notice, 0, sizeof(notice));
    CHECK_INT(inbox_store_outbox_notice(f.store, f.org, conv, NUMBER,
                                        "You are unsubscribed.", &notice,
                                        NULL, NULL), INBOX_OK);
    ids[3] = notice.message.id;
    priorities[3] = INBOX_OUTBOX_NOTICE;

    CHECK_INT(inbox_store_outbox_recheck(f.store, ids, priorities, 4,
                                         NOON + 10, held, NULL), INBOX_OK);

    for (i = 0; i < 3; i++) {
        CHECK_INT(held[i], i == alice ? INBOX_OUTBOX_HELD_WITHDRAWN
                                      : INBOX_OUTBOX_HELD_GOES);
    }
    CHECK_INT(held[3], INBOX_OUTBOX_HELD_GOES);

    /* reported so: failed, nothing spent */
    CHECK_INT(carrier_says(&f, &batch.items[alice], INBOX_SEND_WITHDRAWN,
                           NOON + 20, &report), INBOX_OK);
    CHECK_INT(report.status, INBOX_DELIVERY_FAILED);
    CHECK_INT(balance_of(&f, f.org), 8);
    CHECK_INT(held_of(&f, f.org), 2);

    inbox_outbox_batch_free(&batch);
    inbox_reply_result_free(&notice);
    fixture_close(&f);
}

/*
 * The same look answers for quiet hours as they are now, so that a lost
 * wake-up saying they moved is made up for: the organization's window
 * moved over the claim's time puts off its campaign messages the sender
 * holds (a keyword's answer still goes), and the next claim, once the
 * sender gave them back, holds them until it ends; a contact's zone
 * moved puts off hers alone; an opt-out is withdrawn whatever the hour.
 */
TEST(a_claimed_campaign_message_is_put_off_by_quiet_hours_as_they_are_now)
{
    char                      id[INBOX_ID_MAX], contact[INBOX_ID_MAX];
    char                      conv[INBOX_ID_MAX];
    size_t                    i, bob;
    fixture_t                 f;
    const char               *ids[4];
    inbox_reply_result_t      notice;
    inbox_send_report_t       report;
    inbox_outbox_batch_t      batch, again;
    inbox_outbox_held_t       held[4];
    inbox_settings_edit_t     edit;
    inbox_outbox_priority_t   priorities[4];

    FIXTURE(&f);
    campaign_in_outbox(&f, id);

    /* claimed at noon (UTC, the organization's zone: out of 21:00 to
     * 08:00), the three wait in the sender's hands */
    CHECK_INT(claim(&f, NOON, 10, &batch), 3);
    bob = batch.count;

    for (i = 0; i < batch.count; i++) {
        ids[i] = batch.items[i].message.id;
        priorities[i] = batch.items[i].priority;
        if (strcmp(batch.items[i].to, BOB) == 0) {
            bob = i;
        }
    }

    CHECK(bob < batch.count);
    CHECK(contact_of(&f, BOB, contact, conv));
    memset(&notice, 0, sizeof(notice));
    CHECK_INT(inbox_store_outbox_notice(f.store, f.org, conv, NUMBER,
                                        "Reply STOP to stop.", &notice,
                                        NULL, NULL), INBOX_OK);
    ids[3] = notice.message.id;
    priorities[3] = INBOX_OUTBOX_NOTICE;

    /* Bob's zone moved to Tokyo, where noon UTC is 21:00: his alone */
    CHECK_INT(inbox_store_contact_timezone_set(f.store, f.org, contact,
                                               "Asia/Tokyo", NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_outbox_recheck(f.store, ids, priorities, 4,
                                         NOON + 1, held, NULL), INBOX_OK);
    for (i = 0; i < 4; i++) {
        CHECK_INT(held[i], i == bob ? INBOX_OUTBOX_HELD_QUIET
                                    : INBOX_OUTBOX_HELD_GOES);
    }
    CHECK_INT(inbox_store_contact_timezone_set(f.store, f.org, contact, NULL,
                                               NULL), INBOX_OK);

    /* the organization's window moved over noon: all three, not the
     * keyword's answer */
    memset(&edit, 0, sizeof(edit));
    CHECK_INT(inbox_settings_set_quiet_hours(&edit, "11:00", "13:00", NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_settings_update(f.store, f.org, &edit, NULL, NULL,
                                          NULL), INBOX_OK);
    CHECK_INT(inbox_store_outbox_recheck(f.store, ids, priorities, 4,
                                         NOON + 2, held, NULL), INBOX_OK);
    for (i = 0; i < 3; i++) {
        CHECK_INT(held[i], INBOX_OUTBOX_HELD_QUIET);
    }
    CHECK_INT(held[3], INBOX_OUTBOX_HELD_GOES);

    /* on the campaigns' clock: at 13:00 the window is over */
    CHECK_INT(inbox_store_outbox_recheck(f.store, ids, priorities, 3,
                                         T0 + 13 * HOUR, held, NULL),
              INBOX_OK);
    for (i = 0; i < 3; i++) {
        CHECK_INT(held[i], INBOX_OUTBOX_HELD_GOES);
    }

    /* given back unsent, the claim holds them until 13:00 */
    for (i = 0; i < 3; i++) {
        CHECK_INT(carrier_says(&f, &batch.items[i], INBOX_SEND_RELEASED,
                               NOON + 3, &report), INBOX_OK);
        CHECK_INT(report.status, INBOX_DELIVERY_QUEUED);
    }
    CHECK_INT(claim(&f, NOON + 4, 10, &again), 0);
    inbox_outbox_batch_free(&again);
    CHECK_INT(campaign_now(&f, id).counts.waiting_quiet_hours, 3);
    CHECK_INT(claim(&f, T0 + 13 * HOUR, 10, &again), 3);
    inbox_outbox_batch_free(&again);

    /* an opt-out comes first, inside quiet hours too */
    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, contact,
                                          INBOX_OPT_OUT_KEYWORD, "STOP",
                                          NOON + 5, 0, NULL, NULL, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_outbox_recheck(f.store, ids, priorities, 4,
                                         NOON + 6, held, NULL), INBOX_OK);
    for (i = 0; i < 3; i++) {
        CHECK_INT(held[i], i == bob ? INBOX_OUTBOX_HELD_WITHDRAWN
                                    : INBOX_OUTBOX_HELD_QUIET);
    }
    CHECK_INT(held[3], INBOX_OUTBOX_HELD_GOES);

    inbox_outbox_batch_free(&batch);
    inbox_reply_result_free(&notice);
    fixture_close(&f);
}


/*
 * A contact who opts out while their campaign message waits in the
 * outbox never gets it: the sender withdraws it, and the campaign counts
 * them suppressed (as send counts those opted out before), not failed;
 * the message itself is failed, contact_opted_out, in the thread.
 */
TEST(a_withdrawn_campaign_message_counts_its_recipient_suppressed)
{
    char                       a[INBOX_ID_MAX], x[INBOX_ID_MAX];
    char                       id[INBOX_ID_MAX];
    size_t                     i;
    fixture_t                  f;
    progress_t                 p;
    inbox_send_report_t        report;
    inbox_outbox_batch_t       batch;
    inbox_contact_campaigns_t  list;

    FIXTURE(&f);

    CHECK_INT(person(&f, ALICE, NULL, NULL, a), 0);
    CHECK_INT(person(&f, BOB, NULL, NULL, x), 0);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);
    CHECK_INT(campaign_new(&f, NULL, id), 0);
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    CHECK_INT(dispatch(&f, NOON, 10).handed, 2);

    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, a,
                                          INBOX_OPT_OUT_MANUAL, NULL,
                                          NOON + 10, 0, NULL, NULL, NULL),
              INBOX_OK);

    CHECK_INT(claim(&f, NOON + 20, 10, &batch), 2);
    for (i = 0; i < batch.count; i++) {
        CHECK_INT(batch.items[i].withdrawn,
                  strcmp(batch.items[i].to, ALICE) == 0);
        CHECK_INT(carrier_says(&f, &batch.items[i],
                               batch.items[i].withdrawn
                               ? INBOX_SEND_WITHDRAWN : INBOX_SEND_ACCEPTED,
                               NOON + 30, &report), INBOX_OK);
    }
    inbox_outbox_batch_free(&batch);

    p = campaign_now(&f, id);
    CHECK_INT(p.counts.suppressed, 1);
    CHECK_INT(p.counts.failed, 0);
    CHECK_INT(p.counts.queued, 1);
    CHECK_INT(p.counts.audience, 2);

    /* her message, not sent, is failed: she opted out, and her record
     * says she is counted suppressed */
    CHECK_INT(inbox_store_contact_campaigns(f.store, f.org, a, &list, NULL),
              INBOX_OK);
    CHECK_INT(list.campaign_count, 1);
    if (list.campaign_count == 1) {
        CHECK_STR(list.campaigns[0].status, "failed");
        CHECK_INT(list.campaigns[0].state, INBOX_RECIPIENT_SUPPRESSED);
    }
    inbox_contact_campaigns_free(&list);

    /* a dispatch after it changes none of it */
    dispatch(&f, NOON + MINUTE, 10);
    p = campaign_now(&f, id);
    CHECK_INT(p.counts.suppressed, 1);
    CHECK_INT(p.counts.failed, 0);

    fixture_close(&f);
}


/*
 * The recipients are fixed when sending starts: those opted out then are
 * excluded (suppressed, never recipients); one who opts out since, before
 * its hand-over or after it, gets nothing more and is counted suppressed
 * too, but stays a recipient: the number of recipients never changes
 * after the send, and its parts still add up to it.
 */
TEST(a_campaigns_recipients_stay_what_its_send_fixed)
{
    char                  a[INBOX_ID_MAX], b[INBOX_ID_MAX];
    char                  c[INBOX_ID_MAX], d[INBOX_ID_MAX];
    char                  id[INBOX_ID_MAX], *json;
    size_t                i;
    yajl_gen              g;
    fixture_t             f;
    progress_t            p;
    inbox_outbox_batch_t  batch;

#define RECIPIENTS(p)                                                         \
    inbox_campaign_recipients((p).counts.audience, (p).counts.excluded)

    FIXTURE(&f);

    CHECK_INT(person(&f, ALICE, NULL, NULL, a), 0);
    CHECK_INT(person(&f, BOB, NULL, NULL, b), 0);
    CHECK_INT(person(&f, CAROL, NULL, NULL, c), 0);
    CHECK_INT(person(&f, "+15553334444", NULL, NULL, d), 0);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, c,
                                          INBOX_OPT_OUT_MANUAL, NULL,
                                          NOON - HOUR, 0, NULL, NULL, NULL),
              INBOX_OK);

    /* Carol, opted out, is excluded: three recipients */
    CHECK_INT(campaign_new(&f, NULL, id), 0);
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    p = campaign_now(&f, id);
    CHECK_INT(p.counts.audience, 4);
    CHECK_INT(p.counts.excluded, 1);
    CHECK_INT(p.counts.suppressed, 1);
    CHECK_INT(RECIPIENTS(p), 3);

    /* Bob opts out before his hand-over, Alice after hers: nothing more
     * goes to either, both counted suppressed, still recipients */
    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, b,
                                          INBOX_OPT_OUT_MANUAL, NULL,
                                          NOON + 1, 0, NULL, NULL, NULL),
              INBOX_OK);
    CHECK_INT(dispatch(&f, NOON + 2, 10).handed, 2);
    p = campaign_now(&f, id);
    CHECK_INT(p.counts.suppressed, 2);
    CHECK_INT(RECIPIENTS(p), 3);

    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, a,
                                          INBOX_OPT_OUT_MANUAL, NULL,
                                          NOON + 3, 0, NULL, NULL, NULL),
              INBOX_OK);
    CHECK_INT(claim(&f, NOON + 4, 10, &batch), 2);
    for (i = 0; i < batch.count; i++) {
        CHECK_INT(carrier_says(&f, &batch.items[i],
                               batch.items[i].withdrawn
                               ? INBOX_SEND_WITHDRAWN : INBOX_SEND_ACCEPTED,
                               NOON + 5, NULL), INBOX_OK);
    }
    inbox_outbox_batch_free(&batch);

    p = campaign_now(&f, id);
    CHECK_INT(p.counts.audience, 4);
    CHECK_INT(p.counts.excluded, 1);
    CHECK_INT(p.counts.suppressed, 3);
    CHECK_INT(p.counts.queued, 1);                      /* Dave's */
    CHECK_INT(RECIPIENTS(p), 3);
    /* the recipients: Dave's queued and the two suppressed since */
    CHECK_INT(p.counts.queued + p.counts.waiting_quiet_hours
              + p.counts.sent + p.counts.delivered + p.counts.failed
              + p.counts.cancelled + p.counts.suppressed
              - p.counts.excluded, RECIPIENTS(p));

    /* as the API shows it */
    g = inbox_json_begin();
    inbox_json_campaign_counts(g, &p.counts);
    json = inbox_json_finish(g, NULL);
    CHECK(json != NULL
          && strstr(json, "{\"recipients\":3,\"suppressed\":3,") != NULL);
    free(json);

#undef RECIPIENTS

    fixture_close(&f);
}


/*
 * A contact who opted out at the carrier is not a failure to reach them:
 * the campaign counts them suppressed, whether the carrier refused the
 * send (Twilio 21610, Telnyx 40300) or took it and reported it failed so
 * later; any other failure is failed.  Each message is failed as before
 * and its hold released (nothing spent).
 */
TEST(a_carriers_opt_out_counts_its_recipient_suppressed)
{
    char                       a[INBOX_ID_MAX], b[INBOX_ID_MAX];
    char                       c[INBOX_ID_MAX], id[INBOX_ID_MAX];
    char                       sid[INBOX_ID_MAX + 4];
    size_t                     i;
    fixture_t                  f;
    progress_t                 p;
    inbox_send_report_t        report;
    inbox_outbox_batch_t       batch;
    inbox_contact_campaigns_t  list;

    FIXTURE(&f);

    CHECK_INT(person(&f, ALICE, NULL, NULL, a), 0);
    CHECK_INT(person(&f, BOB, NULL, NULL, b), 0);
    CHECK_INT(person(&f, CAROL, NULL, NULL, c), 0);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);
    CHECK_INT(campaign_new(&f, NULL, id), 0);
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    CHECK_INT(dispatch(&f, NOON, 10).handed, 3);
    CHECK_INT(held_of(&f, f.org), 3);

    /* Alice's send refused; Bob's and Carol's taken */
    CHECK_INT(claim(&f, NOON + 20, 10, &batch), 3);
    for (i = 0; i < batch.count; i++) {
        CHECK_INT(carrier_says(&f, &batch.items[i],
                               strcmp(batch.items[i].to, ALICE) == 0
                               ? INBOX_SEND_OPTED_OUT : INBOX_SEND_ACCEPTED,
                               NOON + 30, &report), INBOX_OK);
        CHECK_INT(report.status,
                  strcmp(batch.items[i].to, ALICE) == 0
                  ? INBOX_DELIVERY_FAILED : INBOX_DELIVERY_QUEUED);

        /* then Bob's reported failed, opted out; Carol's unreachable */
        if (strcmp(batch.items[i].to, ALICE) != 0) {
            snprintf(sid, sizeof(sid), "SM-%s", batch.items[i].message.id);
            CHECK_INT(inbox_store_message_status_update(f.store, f.org,
                          INBOX_CARRIER_TWILIO, sid, INBOX_DELIVERY_FAILED,
                          strcmp(batch.items[i].to, BOB) == 0
                          ? INBOX_TWILIO_OPTED_OUT : "30003",
                          NULL, NULL, NULL, NULL), INBOX_OK);
        }
    }
    inbox_outbox_batch_free(&batch);

    p = campaign_now(&f, id);
    CHECK_INT(p.counts.suppressed, 2);
    CHECK_INT(p.counts.failed, 1);
    CHECK_INT(p.counts.queued, 0);
    CHECK_INT(p.counts.audience, 3);

    /* nothing spent: every hold released */
    CHECK_INT(held_of(&f, f.org), 0);
    CHECK_INT(balance_of(&f, f.org), 10);

    /* her message is failed, as the carrier said, and she counted
     * suppressed */
    CHECK_INT(inbox_store_contact_campaigns(f.store, f.org, a, &list, NULL),
              INBOX_OK);
    CHECK_INT(list.campaign_count, 1);
    if (list.campaign_count == 1) {
        CHECK_STR(list.campaigns[0].status, "failed");
        CHECK_INT(list.campaigns[0].state, INBOX_RECIPIENT_SUPPRESSED);
    }
    inbox_contact_campaigns_free(&list);

    /* a dispatch after it finishes the campaign, the counts as they are */
    dispatch(&f, NOON + MINUTE, 10);
    p = campaign_now(&f, id);
    CHECK_INT(p.status, INBOX_CAMPAIGN_DONE);
    CHECK_INT(p.counts.suppressed, 2);
    CHECK_INT(p.counts.failed, 1);

    fixture_close(&f);
}


/*
 * One held past its claim by a carrier's 429 on its number goes back
 * when the hold ends, its attempt not counted however often: a carrier
 * that throttles never makes a message fail as carrier_unavailable.
 */
TEST(a_send_given_back_until_a_carriers_hold_ends_counts_no_attempt)
{
    int                    i;
    size_t                 j;
    char                   id[INBOX_ID_MAX];
    int64_t                at;
    fixture_t              f;
    inbox_send_result_t    res;
    inbox_send_report_t    report;
    inbox_outbox_batch_t   batch;

    FIXTURE(&f);
    campaign_in_outbox(&f, id);

    at = NOON;

    for (i = 0; i < INBOX_OUTBOX_ATTEMPTS_MAX + 2; i++) {
        CHECK_INT(claim(&f, at, 1, &batch), 1);
        CHECK_INT(batch.items[0].attempt, 1);

        memset(&res, 0, sizeof(res));
        res.outcome = INBOX_SEND_RELEASED;
        res.due_at = at + 30000;
        CHECK_INT(inbox_store_outbox_result(f.store, batch.items[0].id,
                                            batch.items[0].attempt, &res,
                                            at + 1, &report, NULL, NULL),
                  INBOX_OK);
        CHECK_INT(report.done, 0);
        CHECK_INT(report.status, INBOX_DELIVERY_QUEUED);
        CHECK(report.next_attempt_at == at + 30000);
        inbox_outbox_batch_free(&batch);

        /* not before the hold ends: the other two go meanwhile */
        CHECK_INT(claim(&f, at + 29999, 10, &batch), i == 0 ? 2 : 0);
        for (j = 0; j < batch.count; j++) {
            CHECK_INT(carrier_says(&f, &batch.items[j], INBOX_SEND_ACCEPTED,
                                   at + 29999, &report), INBOX_OK);
        }
        inbox_outbox_batch_free(&batch);

        at += 30000;
    }

    /* a due time already past is at once */
    CHECK_INT(claim(&f, at, 1, &batch), 1);
    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_RELEASED;
    res.due_at = at - 1;
    CHECK_INT(inbox_store_outbox_result(f.store, batch.items[0].id,
                                        batch.items[0].attempt, &res, at,
                                        &report, NULL, NULL), INBOX_OK);
    CHECK(report.next_attempt_at == at);
    inbox_outbox_batch_free(&batch);

    fixture_close(&f);
}


TEST(poll_answers_by_number_or_text_the_last_counts_late_ones_do_not)
{
    char                       alice[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    fixture_t                  f;
    inbox_campaign_t           p;
    inbox_campaign_new_t       n;
    inbox_poll_results_t       r;
    inbox_contact_campaigns_t  list;
    inbox_campaign_dispatch_t  d;

    static const char *const   options[] = { "Monday", "Friday" };

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, NULL, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "hi", T0, NULL, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM3", CAROL, "hey", T0, NULL, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);

    memset(&n, 0, sizeof(n));
    n.kind = INBOX_CAMPAIGN_KIND_POLL;
    n.question = "Which day suits you?";
    n.options = options;
    n.option_count = 2;
    n.audience_all = 1;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &p, NULL,
                                          NULL),
              INBOX_OK);
    CHECK_STR(p.name, "Which day suits you?");
    CHECK_STR(p.body, "Which day suits you?\n1) Monday\n2) Friday");
    CHECK_INT(p.option_count, 2);

    /* a reply before the poll answers nothing */
    CHECK_INT(campaign_do(&f, p.id, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    d = dispatch_sent(&f, NOON, 10);
    CHECK_INT(d.handed, 3);

    CHECK_INT(receive(&f, "SM4", ALICE, "2", NOON + MINUTE, NULL, NULL),
              INBOX_OK);
    CHECK_INT(receive(&f, "SM5", ALICE, " monday ", NOON + 2 * MINUTE, NULL,
                      NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM6", BOB, "FRIDAY!", NOON + 3 * MINUTE, NULL,
                      NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM7", CAROL, "maybe", NOON + 4 * MINUTE, NULL,
                      NULL), INBOX_OK);
    /* eight days on: too late */
    CHECK_INT(receive(&f, "SM8", CAROL, "1", NOON + 8 * 24 * HOUR, NULL,
                      NULL), INBOX_OK);
    /* a carrier's retry of an answer changes nothing */
    CHECK_INT(receive(&f, "SM4", ALICE, "2", NOON + MINUTE, NULL, NULL),
              INBOX_OK);

    CHECK_INT(inbox_store_poll_results(f.store, f.org, p.id, NULL, 0, &r,
                                       NULL), INBOX_OK);
    CHECK_INT(r.poll.tally[0], 1);
    CHECK_INT(r.poll.tally[1], 1);
    CHECK_INT(r.count, 2);
    if (r.count == 2) {
        CHECK_STR(r.responses[0].phone, BOB);
        CHECK_INT(r.responses[0].answer, 2);
        CHECK_STR(r.responses[1].phone, ALICE);
        CHECK_INT(r.responses[1].answer, 1);
        CHECK_INT(r.responses[1].answered_at, NOON + 2 * MINUTE);
    }
    CHECK_INT(r.poll.counts.replied, 3);
    inbox_poll_results_free(&r);

    /* a campaign is not a poll */
    CHECK_INT(inbox_store_poll_results(f.store, f.org, f.backend->missing_id,
                                       NULL, 0, &r, NULL),
              INBOX_ERR_NOT_FOUND);
    inbox_poll_results_free(&r);

    /* the answer is in the contact's record, the message in its thread */
    CHECK(contact_of(&f, ALICE, alice, conv));
    CHECK_INT(inbox_store_contact_campaigns(f.store, f.org, alice, &list,
                                            NULL), INBOX_OK);
    CHECK_INT(list.poll_count, 1);
    if (list.poll_count == 1) {
        CHECK_STR(list.polls[0].poll_id, p.id);
        CHECK_STR(list.polls[0].question, "Which day suits you?");
        CHECK_INT(list.polls[0].answer, 1);
        CHECK_STR(list.polls[0].answer_text, "Monday");
    }
    CHECK_INT(list.campaign_count, 1);
    inbox_contact_campaigns_free(&list);
    CHECK(list_shows(&f, INBOX_FILTER_UNREAD, NULL, ALICE));

    inbox_campaign_free(&p);
    fixture_close(&f);
}



/*
 * A poll's answers come long after its sending: a poll answered since a
 * time is listed for the sender's progress (whenever it finished), with
 * its tally, and its progress frame carries the tally as its GET does.
 */
/* A poll to all of the fixture's contacts, sent at at; 0 or -1. */
static int
poll_sent(fixture_t *f, const char *a, const char *b, int64_t at,
    char id[INBOX_ID_MAX])
{
    const char            *options[2];
    inbox_campaign_t       p;
    inbox_campaign_new_t   n;

    options[0] = a;
    options[1] = b;
    memset(&n, 0, sizeof(n));
    n.kind = INBOX_CAMPAIGN_KIND_POLL;
    n.question = "Which one?";
    n.options = options;
    n.option_count = 2;
    n.audience_all = 1;

    if (inbox_store_campaign_create(f->store, f->org, &n, T0, &p, NULL, NULL)
        != INBOX_OK)
    {
        return -1;
    }

    snprintf(id, INBOX_ID_MAX, "%s", p.id);
    inbox_campaign_free(&p);

    if (campaign_do(f, id, INBOX_CAMPAIGN_SEND, at) != INBOX_OK) {
        return -1;
    }

    return dispatch_sent(f, at, 10).handed == 1 ? 0 : -1;
}


/* Its tally of option 1 and 2, as "N/M". */
static const char *
tally_of(fixture_t *f, const char *id)
{
    static char       out[32];
    inbox_campaign_t  c;

    if (inbox_store_campaign_get(f->store, f->org, id, &c, NULL)
        != INBOX_OK)
    {
        return "(none)";
    }

    snprintf(out, sizeof(out), "%lld/%lld", (long long) c.tally[0],
             (long long) c.tally[1]);
    inbox_campaign_free(&c);

    return out;
}


/*
 * A poll's responses page by page, the newest first, each once: seven
 * answers, two of them at the same moment, read three at a time; an
 * answer changed meanwhile moves to the top and is not met again lower
 * down; a cursor no page gave is refused.
 */
TEST(a_polls_responses_come_page_by_page_newest_first)
{
    int                        i, seen[8];
    char                       phone[INBOX_PHONE_MAX], sid[16];
    char                       cursor[INBOX_CURSOR_MAX];
    size_t                     k, total;
    fixture_t                  f;
    inbox_error_t              err;
    inbox_campaign_t           p;
    inbox_campaign_new_t       n;
    inbox_poll_results_t       r;

    static const char *const   options[] = { "Yes", "No" };

    FIXTURE(&f);

    CHECK_INT(people(&f, 1, 7, NULL), 0);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);

    memset(&n, 0, sizeof(n));
    n.kind = INBOX_CAMPAIGN_KIND_POLL;
    n.question = "Coming?";
    n.options = options;
    n.option_count = 2;
    n.audience_all = 1;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &p, NULL,
                                          NULL),
              INBOX_OK);
    CHECK_INT(campaign_do(&f, p.id, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    CHECK_INT(dispatch_sent(&f, NOON, 10).handed, 7);

    /* contact i answers at minute i; 4 and 5 at the same moment */
    for (i = 1; i <= 7; i++) {
        snprintf(phone, sizeof(phone), "+1555010%04d", i);
        snprintf(sid, sizeof(sid), "SMpage%d", i);
        CHECK_INT(receive(&f, sid, phone, i % 2 ? "1" : "2",
                          NOON + (i == 5 ? 4 : i) * MINUTE, NULL, NULL),
                  INBOX_OK);
    }

    /* the first page: the newest three, and where the next begins */
    CHECK_INT(inbox_store_poll_results(f.store, f.org, p.id, NULL, 3, &r,
                                       &err), INBOX_OK);
    CHECK_INT(r.count, 3);
    CHECK_INT(r.poll.tally[0] + r.poll.tally[1], 7);
    if (r.count == 3) {
        CHECK_STR(r.responses[0].phone, "+15550100007");
        CHECK_STR(r.responses[1].phone, "+15550100006");
        CHECK_INT(r.responses[2].answered_at, NOON + 4 * MINUTE);
    }
    CHECK(r.next_cursor[0] != '\0');
    snprintf(cursor, sizeof(cursor), "%s", r.next_cursor);
    inbox_poll_results_free(&r);

    /* the oldest answer changed meanwhile: to the top, not met below */
    CHECK_INT(receive(&f, "SMpage1b", "+15550100001", "2", NOON + HOUR,
                      NULL, NULL), INBOX_OK);

    memset(seen, 0, sizeof(seen));
    total = 0;

    while (cursor[0] != '\0') {
        CHECK_INT(inbox_store_poll_results(f.store, f.org, p.id, cursor, 3,
                                           &r, &err), INBOX_OK);
        CHECK(r.count <= 3);

        for (k = 0; k < r.count; k++) {
            i = r.responses[k].contact_id[0] != '\0'
                ? atoi(r.responses[k].phone + 8) : 0;
            if (i >= 1 && i <= 7) {
                seen[i]++;
            }
            /* older and older */
            if (k > 0) {
                CHECK(r.responses[k].answered_at
                      <= r.responses[k - 1].answered_at);
            }
        }

        total += r.count;
        snprintf(cursor, sizeof(cursor), "%s", r.next_cursor);
        inbox_poll_results_free(&r);

        if (total > 7) {
            break;
        }
    }

    /* the other of 4 and 5, then 3 and 2: each once; 1 moved up; the
     * last page, full, said no more */
    CHECK_INT((int) total, 3);
    CHECK_STR(cursor, "");
    CHECK_INT(seen[1], 0);
    CHECK_INT(seen[2], 1);
    CHECK_INT(seen[3], 1);
    CHECK_INT(seen[4] + seen[5], 1);

    CHECK_INT(inbox_store_poll_results(f.store, f.org, p.id, NULL, 0, &r,
                                       &err), INBOX_OK);
    CHECK_INT(r.count, 7);
    if (r.count == 7) {
        CHECK_STR(r.responses[0].phone, "+15550100001");
        CHECK_INT(r.responses[0].answer, 2);
    }
    CHECK_STR(r.next_cursor, "");
    inbox_poll_results_free(&r);

    /* a cursor no page gave */
    CHECK_INT(inbox_store_poll_results(f.store, f.org, p.id, "not-a-cursor",
                                       3, &r, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "cursor");
    inbox_poll_results_free(&r);

    inbox_campaign_free(&p);
    fixture_close(&f);
}


TEST(a_reply_answers_the_newest_poll_it_names_an_option_of)
{
    char              p1[INBOX_ID_MAX], p2[INBOX_ID_MAX];
    char              sale[INBOX_ID_MAX];
    fixture_t         f;
    inbox_campaign_t  c;

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, NULL, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);

    CHECK_INT(poll_sent(&f, "Monday", "Friday", NOON, p1), 0);

    /* a campaign after the poll: "2" still answers the poll, the one
     * replied to, though the campaign is the last message she got */
    CHECK_INT(campaign_new(&f, NULL, sale), 0);
    CHECK_INT(campaign_do(&f, sale, INBOX_CAMPAIGN_SEND, NOON + HOUR),
              INBOX_OK);
    CHECK_INT(dispatch_sent(&f, NOON + HOUR, 10).handed, 1);
    CHECK_INT(receive(&f, "SM2", ALICE, "2", NOON + 2 * HOUR, NULL, NULL),
              INBOX_OK);
    CHECK_STR(tally_of(&f, p1), "0/1");
    CHECK_INT(campaign_now(&f, sale).counts.replied, 0);
    CHECK_INT(campaign_now(&f, p1).counts.replied, 1);

    /* a second poll: an option of the first still answers the first,
     * one of the second the second, a number the newest */
    CHECK_INT(poll_sent(&f, "Pizza\n", "\tSalad ", NOON + 3 * HOUR, p2), 0);
    CHECK_INT(inbox_store_campaign_get(f.store, f.org, p2, &c, NULL),
              INBOX_OK);
    CHECK_INT(c.option_count, 2);
    if (c.option_count == 2) {
        CHECK_STR(c.options[0], "Pizza");            /* stored trimmed */
        CHECK_STR(c.options[1], "Salad");
    }
    inbox_campaign_free(&c);
    CHECK_INT(receive(&f, "SM3", ALICE, "monday", NOON + 4 * HOUR, NULL,
                      NULL), INBOX_OK);
    CHECK_STR(tally_of(&f, p1), "1/0");
    CHECK_STR(tally_of(&f, p2), "0/0");
    CHECK_INT(receive(&f, "SM4", ALICE, "1", NOON + 5 * HOUR, NULL, NULL),
              INBOX_OK);
    CHECK_STR(tally_of(&f, p1), "1/0");
    CHECK_STR(tally_of(&f, p2), "1/0");

    /* past the first poll's seven days, its options answer nothing */
    CHECK_INT(receive(&f, "SM5", ALICE, "Friday", NOON + 8 * 24 * HOUR,
                      NULL, NULL), INBOX_OK);
    CHECK_STR(tally_of(&f, p1), "1/0");

    fixture_close(&f);
}


/* However many campaigns came since (more than the sends a reply used to
 * be looked at against), an answer within the poll's 7 days counts. */
TEST(a_poll_is_answered_however_many_campaigns_came_after_it)
{
    int               i;
    char              poll[INBOX_ID_MAX], sale[INBOX_ID_MAX];
    fixture_t         f;

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, NULL, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 20, NULL), INBOX_OK);

    CHECK_INT(poll_sent(&f, "Red", "Blue", NOON, poll), 0);

    for (i = 1; i <= 10; i++) {
        CHECK_INT(campaign_new(&f, NULL, sale), 0);
        CHECK_INT(campaign_do(&f, sale, INBOX_CAMPAIGN_SEND,
                              NOON + i * MINUTE), INBOX_OK);
        CHECK_INT(dispatch_sent(&f, NOON + i * MINUTE, 10).handed, 1);
    }

    CHECK_INT(receive(&f, "SM2", ALICE, "Blue", NOON + 24 * HOUR, NULL,
                      NULL), INBOX_OK);
    CHECK_STR(tally_of(&f, poll), "0/1");
    CHECK_INT(campaign_now(&f, poll).counts.replied, 1);
    CHECK_INT(campaign_now(&f, sale).counts.replied, 0);

    /* she changes her mind, by number: the last answer counts */
    CHECK_INT(receive(&f, "SM3", ALICE, "1", NOON + 25 * HOUR, NULL, NULL),
              INBOX_OK);
    CHECK_STR(tally_of(&f, poll), "1/0");
    CHECK_INT(campaign_now(&f, poll).counts.replied, 1);

    fixture_close(&f);
}


/* One item of a timeline, as a walk of its pages saw it. */
typedef struct {
    inbox_timeline_type_t  type;
    int64_t                at;
    char                   id[INBOX_ID_MAX];    /* a campaign's or poll's */
} seen_t;


/*
 * A contact sent more campaigns than its record lists (the newest
 * INBOX_CONTACT_CAMPAIGNS_MAX) and a few polls, which it answers: its
 * timeline, paged to the end, has every send and answer once, newest
 * first, each send the one entry of its message (no message of its time
 * after it), each answer before the message that said it, all between
 * the contact's other messages as their times say.
 */
TEST(a_timeline_pages_through_every_campaign_a_contact_was_sent)
{
    char                   (*ids)[INBOX_ID_MAX], provider[32];
    char                   alice[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    char                   cursor[INBOX_TIMELINE_CURSOR_MAX];
    size_t                 i, k, n, total, sends, answers, others, pages;
    int64_t                at;
    seen_t                *seen;
    fixture_t              f;
    inbox_timeline_page_t  page;

    FIXTURE(&f);

    n = INBOX_CONTACT_CAMPAIGNS_MAX + 5;
    ids = calloc(n, sizeof(*ids));
    seen = calloc(3 * n, sizeof(seen_t));
    CHECK(ids != NULL && seen != NULL);

    CHECK_INT(receive(&f, "SM0", ALICE, "hello", T0, NULL, NULL), INBOX_OK);
    CHECK(contact_of(&f, ALICE, alice, conv));
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, (int64_t) n, NULL),
              INBOX_OK);
    others = 1;

    /* a second apart: inside the afternoon, outside quiet hours */
    for (i = 0; ids != NULL && seen != NULL && i < n; i++) {
        at = NOON + (int64_t) i * 1000;

        if (i % 250 == 100) {
            CHECK_INT(poll_sent(&f, "Red", "Blue", at, ids[i]), 0);
            snprintf(provider, sizeof(provider), "SMA%zu", i);
            CHECK_INT(receive(&f, provider, ALICE, "red", at + 500, NULL,
                              NULL), INBOX_OK);
            continue;
        }

        CHECK_INT(campaign_new(&f, NULL, ids[i]), 0);
        CHECK_INT(campaign_do(&f, ids[i], INBOX_CAMPAIGN_SEND, at),
                  INBOX_OK);
        CHECK_INT(dispatch_sent(&f, at, 10).handed, 1);

        if (i % 100 == 0) {
            snprintf(provider, sizeof(provider), "SMI%zu", i);
            CHECK_INT(receive(&f, provider, ALICE, "hi", at + 300, NULL,
                              NULL), INBOX_OK);
            others++;
        }
    }

    /* pages of an odd size: their ends fall anywhere */
    total = 0;
    pages = 0;
    cursor[0] = '\0';
    do {
        CHECK_INT(inbox_store_contact_timeline(f.store, f.org, alice, cursor,
                                               97, &page, NULL), INBOX_OK);
        for (k = 0; seen != NULL && k < page.count && total < 3 * n; k++) {
            seen[total].type = page.items[k].type;
            seen[total].at = page.items[k].at;
            snprintf(seen[total].id, INBOX_ID_MAX, "%s",
                     page.items[k].campaign.id);
            total++;
        }
        snprintf(cursor, sizeof(cursor), "%s", page.next_cursor);
        inbox_timeline_page_free(&page);
    } while (cursor[0] != '\0' && ++pages < 100);

    /* the sends, the polls' too, n of them newest first, each with its
     * message after it; the answers, each with its message */
    sends = 0;
    answers = 0;
    for (k = 0; seen != NULL && k < total; k++) {
        if (k > 0 && seen[k].at > seen[k - 1].at) {
            CHECK(!"newest first");
            break;
        }

        if (seen[k].type == INBOX_TIMELINE_CAMPAIGN) {
            i = n - 1 - sends++;
            if (i >= n || strcmp(seen[k].id, ids[i]) != 0
                || seen[k].at != NOON + (int64_t) i * 1000)
            {
                fprintf(stderr, "    send %zu: %s at %" PRId64 "\n", k,
                        seen[k].id, seen[k].at);
                CHECK(!"every send once, newest first");
                break;
            }
        }

        if (seen[k].type == INBOX_TIMELINE_POLL_ANSWER) {
            i = (size_t) (seen[k].at - NOON - 500) / 1000;
            answers++;
            CHECK(i < n && i % 250 == 100);
            CHECK_STR(seen[k].id, i < n ? ids[i] : "");
        }

        if (seen[k].type == INBOX_TIMELINE_POLL_ANSWER) {
            CHECK(k + 1 < total
                  && seen[k + 1].type == INBOX_TIMELINE_MESSAGE
                  && seen[k + 1].at == seen[k].at);
        }

        if (seen[k].type == INBOX_TIMELINE_CAMPAIGN) {
            CHECK(k + 1 == total
                  || seen[k + 1].type != INBOX_TIMELINE_MESSAGE
                  || seen[k + 1].at != seen[k].at);
        }
    }

    CHECK_INT(sends, n);
    CHECK_INT(answers, 4);
    /* n sends, 4 answers and their messages, the others */
    CHECK_INT(total, n + 2 * answers + others);

    free(ids);
    free(seen);
    fixture_close(&f);
}


/*
 * A poll's answer and a campaign's send of the same time: the answer,
 * then the send, then the answer's message, the send's message being the
 * send's entry, not one more (a poll's too); a timeline read one item a
 * page shows each once, as one page does.
 */
TEST(a_timeline_read_an_item_a_page_shows_an_answer_and_a_send_once)
{
    char                   alice[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    char                   poll[INBOX_ID_MAX], sale[INBOX_ID_MAX];
    char                   cursor[INBOX_TIMELINE_CURSOR_MAX];
    size_t                 k, n;
    seen_t                 one[8];
    fixture_t              f;
    inbox_timeline_page_t  page, all;

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM0", ALICE, "hello", T0, NULL, NULL), INBOX_OK);
    CHECK(contact_of(&f, ALICE, alice, conv));
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);

    CHECK_INT(poll_sent(&f, "Red", "Blue", NOON, poll), 0);
    CHECK_INT(receive(&f, "SM1", ALICE, "red", NOON + MINUTE, NULL, NULL),
              INBOX_OK);
    CHECK_INT(campaign_new(&f, NULL, sale), 0);
    CHECK_INT(campaign_do(&f, sale, INBOX_CAMPAIGN_SEND, NOON + MINUTE),
              INBOX_OK);
    CHECK_INT(dispatch_sent(&f, NOON + MINUTE, 10).handed, 1);

    CHECK_INT(inbox_store_contact_timeline(f.store, f.org, alice, NULL, 0,
                                           &all, NULL), INBOX_OK);
    CHECK_INT(all.count, 5);
    if (all.count == 5) {
        CHECK_INT(all.items[0].type, INBOX_TIMELINE_POLL_ANSWER);
        CHECK_STR(all.items[0].campaign.id, poll);
        CHECK_INT(all.items[1].type, INBOX_TIMELINE_CAMPAIGN);
        CHECK_STR(all.items[1].campaign.id, sale);
        CHECK_INT(all.items[1].at, NOON + MINUTE);
        CHECK_INT(all.items[2].type, INBOX_TIMELINE_MESSAGE);
        CHECK_STR(all.items[2].message.body, "red");
        CHECK_INT(all.items[3].type, INBOX_TIMELINE_CAMPAIGN);
        CHECK_STR(all.items[3].campaign.id, poll);
        CHECK_INT(all.items[4].type, INBOX_TIMELINE_MESSAGE);
        CHECK_STR(all.items[4].message.body, "hello");
    }

    n = 0;
    cursor[0] = '\0';
    do {
        CHECK_INT(inbox_store_contact_timeline(f.store, f.org, alice, cursor,
                                               1, &page, NULL), INBOX_OK);
        for (k = 0; k < page.count && n < 8; k++, n++) {
            one[n].type = page.items[k].type;
            one[n].at = page.items[k].at;
            snprintf(one[n].id, INBOX_ID_MAX, "%s",
                     page.items[k].campaign.id);
        }
        snprintf(cursor, sizeof(cursor), "%s", page.next_cursor);
        inbox_timeline_page_free(&page);
    } while (cursor[0] != '\0' && n < 8);

    CHECK_INT(n, all.count);
    for (k = 0; k < n && k < all.count; k++) {
        CHECK_INT(one[k].type, all.items[k].type);
        CHECK_INT(one[k].at, all.items[k].at);
        CHECK_STR(one[k].id, all.items[k].campaign.id);
    }

    inbox_timeline_page_free(&all);
    fixture_close(&f);
}


/* An answer to an older poll counts it replied (once), not only the
 * newest message the contact got, and its progress says so. */
TEST(a_poll_answered_is_replied_though_a_newer_poll_came)
{
    char                a[INBOX_ID_MAX], b[INBOX_ID_MAX];
    fixture_t           f;
    inbox_campaign_t    c;
    inbox_event_list_t  live;

    FIXTURE(&f);
    memset(&live, 0, sizeof(live));

    CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, NULL, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);

    CHECK_INT(poll_sent(&f, "Monday", "Friday", NOON, a), 0);
    CHECK_INT(poll_sent(&f, "Pizza", "Salad", NOON + HOUR, b), 0);

    CHECK_INT(receive(&f, "SM2", ALICE, "friday", NOON + 2 * HOUR, NULL,
                      NULL), INBOX_OK);
    CHECK_STR(tally_of(&f, a), "0/1");
    CHECK_STR(tally_of(&f, b), "0/0");
    CHECK_INT(campaign_now(&f, b).counts.replied, 0);

    CHECK_INT(inbox_store_campaign_progress(f.store, f.org, a,
                                            NOON + 2 * HOUR, &c, &live,
                                            NULL), INBOX_OK);
    CHECK_INT(c.counts.replied, 1);
    inbox_campaign_free(&c);
    CHECK_INT(live.count, 1);
    if (live.count == 1) {
        CHECK(strstr(live.items[0].json, "\"replied\":1") != NULL);
    }
    inbox_event_list_free(&live);

    /* another answer: still one recipient replied */
    CHECK_INT(receive(&f, "SM3", ALICE, "Monday", NOON + 3 * HOUR, NULL,
                      NULL), INBOX_OK);
    CHECK_STR(tally_of(&f, a), "1/0");
    CHECK_INT(campaign_now(&f, a).counts.replied, 1);
    CHECK_INT(campaign_now(&f, b).counts.replied, 0);

    fixture_close(&f);
}


/*
 * One text counts as a reply to one campaign at most: an answer to an
 * older poll counts on that poll alone, not also on the campaign she got
 * since (the newest); a text that answers no poll replies to the newest
 * campaign message.
 */
TEST(a_text_replies_to_one_campaign_the_poll_it_answers_or_the_newest)
{
    char                   x[INBOX_ID_MAX], poll[INBOX_ID_MAX];
    char                   sale[INBOX_ID_MAX];
    fixture_t              f;
    inbox_campaign_t       c;
    inbox_campaign_new_t   n;
    static const char     *options[] = { "Monday", "Friday" };

    FIXTURE(&f);

    CHECK_INT(person(&f, ALICE, NULL, NULL, x), 0);
    CHECK_INT(person(&f, BOB, NULL, NULL, x), 0);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);

    memset(&n, 0, sizeof(n));
    n.kind = INBOX_CAMPAIGN_KIND_POLL;
    n.question = "Which day?";
    n.options = options;
    n.option_count = 2;
    n.audience_all = 1;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          NULL),
              INBOX_OK);
    snprintf(poll, sizeof(poll), "%s", c.id);
    inbox_campaign_free(&c);
    CHECK_INT(campaign_do(&f, poll, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    CHECK_INT(dispatch_sent(&f, NOON, 10).handed, 2);

    CHECK_INT(campaign_new(&f, NULL, sale), 0);
    CHECK_INT(campaign_do(&f, sale, INBOX_CAMPAIGN_SEND, NOON + HOUR),
              INBOX_OK);
    CHECK_INT(dispatch_sent(&f, NOON + HOUR, 10).handed, 2);

    /* Alice answers the poll: the poll counts her, the sale does not */
    CHECK_INT(receive(&f, "SM1", ALICE, "Friday", NOON + 2 * HOUR, NULL,
                      NULL), INBOX_OK);
    CHECK_STR(tally_of(&f, poll), "0/1");
    CHECK_INT(campaign_now(&f, poll).counts.replied, 1);
    CHECK_INT(campaign_now(&f, sale).counts.replied, 0);

    /* Bob's text answers nothing: the sale, the newest, counts him */
    CHECK_INT(receive(&f, "SM2", BOB, "thanks!", NOON + 2 * HOUR, NULL,
                      NULL), INBOX_OK);
    CHECK_STR(tally_of(&f, poll), "0/1");
    CHECK_INT(campaign_now(&f, poll).counts.replied, 1);
    CHECK_INT(campaign_now(&f, sale).counts.replied, 1);

    /* Alice's text after her answer replies to the sale */
    CHECK_INT(receive(&f, "SM3", ALICE, "see you", NOON + 3 * HOUR, NULL,
                      NULL), INBOX_OK);
    CHECK_INT(campaign_now(&f, poll).counts.replied, 1);
    CHECK_INT(campaign_now(&f, sale).counts.replied, 2);

    fixture_close(&f);
}


/*
 * The sender's claim at now and the carrier's answer to each message
 * claimed: outcome[i] for the one to phone[i] of the n; how many were
 * answered, or -1.
 */
static long
carrier_answers(fixture_t *f, int64_t now, const char *const *phone,
    const inbox_send_outcome_t *outcome, size_t n)
{
    size_t                i, k;
    long                  answered;
    inbox_outbox_batch_t  batch;

    if (claim(f, now, INBOX_OUTBOX_CLAIM_MAX, &batch) < 0) {
        return -1;
    }

    answered = 0;

    for (i = 0; i < batch.count; i++) {
        for (k = 0; k < n; k++) {
            if (strcmp(batch.items[i].to, phone[k]) != 0) {
                continue;
            }

            if (carrier_says(f, &batch.items[i], outcome[k], now, NULL)
                != INBOX_OK)
            {
                answered = -1;

            } else if (answered >= 0) {
                answered++;
            }
        }
    }

    inbox_outbox_batch_free(&batch);

    return answered;
}


/*
 * A poll's message answers and is replied to only once the carrier took
 * it (accepted it, or may have: an unknown outcome) and while it has not
 * failed since.  One handed to the outbox and waiting there (the sender
 * behind, a retry's backoff) has not been read: a text meanwhile, meant
 * for something else, is neither its answer nor a reply to it.
 */
TEST(a_poll_is_answered_only_once_the_carrier_took_its_message)
{
    char                       x[INBOX_ID_MAX], poll[INBOX_ID_MAX];
    char                       carol_sid[INBOX_PROVIDER_ID_MAX];
    int                        changed;
    fixture_t                  f;
    inbox_campaign_t           c;
    inbox_campaign_new_t       n;
    inbox_outbox_batch_t       batch;
    static const char         *options[] = { "Monday", "Friday" };
    static const char *const   phones[] = { ALICE, BOB, CAROL };
    static const inbox_send_outcome_t  first[] = {
        INBOX_SEND_ACCEPTED, INBOX_SEND_UNKNOWN, INBOX_SEND_RETRY
    };

    FIXTURE(&f);

    CHECK_INT(person(&f, ALICE, NULL, NULL, x), 0);
    CHECK_INT(person(&f, BOB, NULL, NULL, x), 0);
    CHECK_INT(person(&f, CAROL, NULL, NULL, x), 0);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);

    memset(&n, 0, sizeof(n));
    n.kind = INBOX_CAMPAIGN_KIND_POLL;
    n.question = "Which day?";
    n.options = options;
    n.option_count = 2;
    n.audience_all = 1;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          NULL),
              INBOX_OK);
    snprintf(poll, sizeof(poll), "%s", c.id);
    inbox_campaign_free(&c);
    CHECK_INT(campaign_do(&f, poll, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    CHECK_INT(dispatch(&f, NOON, 10).handed, 3);

    /* handed over only: "2" (meant for something else) answers nothing,
     * "thanks" replies to nothing */
    CHECK_INT(receive(&f, "SM1", ALICE, "2", NOON + MINUTE, NULL, NULL),
              INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "thanks", NOON + MINUTE, NULL, NULL),
              INBOX_OK);
    CHECK_STR(tally_of(&f, poll), "0/0");
    CHECK_INT(campaign_now(&f, poll).counts.replied, 0);

    /* the carrier takes Alice's, may have Bob's (unknown outcome), and
     * Carol's waits out a retry's backoff */
    CHECK_INT(carrier_answers(&f, NOON + 2 * MINUTE, phones, first, 3), 3);

    /* a text the inbox received before the carrier took the poll is no
     * answer to it, though ingested after */
    CHECK_INT(receive(&f, "SM3", ALICE, "1", NOON + 2 * MINUTE - 1, NULL,
                      NULL), INBOX_OK);
    CHECK_STR(tally_of(&f, poll), "0/0");
    CHECK_INT(campaign_now(&f, poll).counts.replied, 0);

    CHECK_INT(receive(&f, "SM4", ALICE, "2", NOON + 3 * MINUTE, NULL, NULL),
              INBOX_OK);
    CHECK_INT(receive(&f, "SM5", BOB, "Monday", NOON + 3 * MINUTE, NULL,
                      NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM6", CAROL, "2", NOON + 3 * MINUTE, NULL, NULL),
              INBOX_OK);
    CHECK_STR(tally_of(&f, poll), "1/1");
    CHECK_INT(campaign_now(&f, poll).counts.replied, 2);

    /* Carol's is taken after its backoff, then fails: it was never read,
     * her "2" answers nothing */
    CHECK_INT(claim(&f, NOON + HOUR, INBOX_OUTBOX_CLAIM_MAX, &batch), 1);
    if (batch.count == 1) {
        CHECK_STR(batch.items[0].to, CAROL);
        CHECK_INT(carrier_says(&f, &batch.items[0], INBOX_SEND_ACCEPTED,
                               NOON + HOUR, NULL), INBOX_OK);
        snprintf(carol_sid, sizeof(carol_sid), "SM-%s",
                 batch.items[0].message.id);
        CHECK_INT(inbox_store_message_status_update(f.store, f.org,
                      INBOX_CARRIER_TWILIO, carol_sid,
                      INBOX_DELIVERY_UNDELIVERED, "30003", &changed, NULL,
                      NULL, NULL), INBOX_OK);
        CHECK_INT(changed, 1);
    }
    inbox_outbox_batch_free(&batch);

    CHECK_INT(receive(&f, "SM7", CAROL, "Friday", NOON + 2 * HOUR, NULL,
                      NULL), INBOX_OK);
    CHECK_STR(tally_of(&f, poll), "1/1");
    CHECK_INT(campaign_now(&f, poll).counts.replied, 2);

    fixture_close(&f);
}


/*
 * A poll's 7 days of answers start when its message went to the carrier,
 * not when it was handed to the outbox: one handed over, then parked six
 * days by a pause, is answered for 7 days from when it went after the
 * resume, and the contact's record says it was sent then.
 */
TEST(a_polls_seven_days_start_when_its_message_went_not_when_handed_over)
{
    char                        x[INBOX_ID_MAX], poll[INBOX_ID_MAX];
    int64_t                     went;
    fixture_t                   f;
    inbox_campaign_t            c;
    inbox_campaign_new_t        n;
    inbox_outbox_batch_t        batch;
    inbox_contact_campaigns_t   list;
    static const char          *options[] = { "Monday", "Friday" };

    FIXTURE(&f);

    CHECK_INT(person(&f, ALICE, NULL, NULL, x), 0);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);

    memset(&n, 0, sizeof(n));
    n.kind = INBOX_CAMPAIGN_KIND_POLL;
    n.question = "Which day?";
    n.options = options;
    n.option_count = 2;
    n.audience_all = 1;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          NULL),
              INBOX_OK);
    snprintf(poll, sizeof(poll), "%s", c.id);
    inbox_campaign_free(&c);
    CHECK_INT(campaign_do(&f, poll, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    CHECK_INT(dispatch(&f, NOON, 10).handed, 1);

    /* paused before the sender took it: parked for six days */
    CHECK_INT(campaign_do(&f, poll, INBOX_CAMPAIGN_PAUSE, NOON + MINUTE),
              INBOX_OK);
    CHECK_INT(claim(&f, NOON + HOUR, 10, &batch), 0);
    inbox_outbox_batch_free(&batch);

    went = NOON + 6 * 24 * HOUR;
    CHECK_INT(campaign_do(&f, poll, INBOX_CAMPAIGN_RESUME, went), INBOX_OK);
    CHECK_INT(claim(&f, went, 10, &batch), 1);
    if (batch.count == 1) {
        CHECK_INT(carrier_says(&f, &batch.items[0], INBOX_SEND_ACCEPTED,
                               went, NULL), INBOX_OK);
    }
    inbox_outbox_batch_free(&batch);

    CHECK_INT(inbox_store_contact_campaigns(f.store, f.org, x, &list, NULL),
              INBOX_OK);
    CHECK_INT(list.campaign_count, 1);
    if (list.campaign_count == 1) {
        CHECK_INT(list.campaigns[0].sent_at, went);
    }
    inbox_contact_campaigns_free(&list);

    /* eight days after the hand-over, two after it went: her answer */
    CHECK_INT(receive(&f, "SM1", ALICE, "2", NOON + 8 * 24 * HOUR, NULL,
                      NULL), INBOX_OK);
    CHECK_STR(tally_of(&f, poll), "0/1");
    CHECK_INT(campaign_now(&f, poll).counts.replied, 1);

    /* past 7 days from when it went: no longer an answer */
    CHECK_INT(receive(&f, "SM2", ALICE, "Monday",
                      went + INBOX_POLL_ANSWER_WINDOW_MS + MINUTE, NULL,
                      NULL), INBOX_OK);
    CHECK_STR(tally_of(&f, poll), "0/1");

    fixture_close(&f);
}


/* A text replies to the newest campaign message the carrier took, not to
 * a newer one still waiting in the outbox. */
TEST(a_reply_is_to_the_newest_campaign_message_the_carrier_took)
{
    char       x[INBOX_ID_MAX], sent[INBOX_ID_MAX], waiting[INBOX_ID_MAX];
    fixture_t  f;

    FIXTURE(&f);

    CHECK_INT(person(&f, ALICE, NULL, NULL, x), 0);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);

    CHECK_INT(campaign_new(&f, NULL, sent), 0);
    CHECK_INT(campaign_do(&f, sent, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    CHECK_INT(dispatch_sent(&f, NOON, 10).handed, 1);

    CHECK_INT(campaign_new(&f, NULL, waiting), 0);
    CHECK_INT(campaign_do(&f, waiting, INBOX_CAMPAIGN_SEND, NOON + HOUR),
              INBOX_OK);
    CHECK_INT(dispatch(&f, NOON + HOUR, 10).handed, 1);

    CHECK_INT(receive(&f, "SM1", ALICE, "thanks", NOON + 2 * HOUR, NULL,
                      NULL), INBOX_OK);
    CHECK_INT(campaign_now(&f, sent).counts.replied, 1);
    CHECK_INT(campaign_now(&f, waiting).counts.replied, 0);

    fixture_close(&f);
}


/*
 * STOP and HELP (any opt-out or help keyword) speak to the service: in
 * answer to a campaign or poll they count in neither its replied nor
 * its tally.  An opt-in word may be an option ("Yes") and counts.
 */
TEST(an_opt_out_or_help_keyword_is_no_reply_to_a_campaign)
{
    char                       x[INBOX_ID_MAX], id[INBOX_ID_MAX];
    char                       poll[INBOX_ID_MAX];
    fixture_t                  f;
    inbox_campaign_t           c;
    inbox_campaign_new_t       n;
    static const char         *options[] = { "Yes", "No" };

    FIXTURE(&f);

    CHECK_INT(person(&f, ALICE, NULL, NULL, x), 0);
    CHECK_INT(person(&f, BOB, NULL, NULL, x), 0);
    CHECK_INT(person(&f, CAROL, NULL, NULL, x), 0);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);
    CHECK_INT(campaign_new(&f, NULL, id), 0);
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    CHECK_INT(dispatch_sent(&f, NOON, 10).handed, 3);

    CHECK_INT(receive(&f, "SM1", ALICE, "Stop.", NOON + MINUTE, NULL, NULL),
              INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "HELP", NOON + MINUTE, NULL, NULL),
              INBOX_OK);
    CHECK_INT(campaign_now(&f, id).counts.replied, 0);
    CHECK_INT(receive(&f, "SM3", CAROL, "yes", NOON + MINUTE, NULL, NULL),
              INBOX_OK);
    CHECK_INT(campaign_now(&f, id).counts.replied, 1);

    /* a poll to Bob and Carol (Alice opted out): HELP answers nothing,
     * "YES" is option 1 */
    memset(&n, 0, sizeof(n));
    n.kind = INBOX_CAMPAIGN_KIND_POLL;
    n.question = "Coming?";
    n.options = options;
    n.option_count = 2;
    n.audience_all = 1;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          NULL),
              INBOX_OK);
    snprintf(poll, sizeof(poll), "%s", c.id);
    inbox_campaign_free(&c);
    CHECK_INT(campaign_do(&f, poll, INBOX_CAMPAIGN_SEND, NOON + HOUR),
              INBOX_OK);
    CHECK_INT(dispatch_sent(&f, NOON + HOUR, 10).handed, 2);

    CHECK_INT(receive(&f, "SM4", BOB, "info", NOON + 2 * HOUR, NULL, NULL),
              INBOX_OK);
    CHECK_INT(receive(&f, "SM5", CAROL, "YES", NOON + 2 * HOUR, NULL, NULL),
              INBOX_OK);
    CHECK_STR(tally_of(&f, poll), "1/0");
    CHECK_INT(campaign_now(&f, poll).counts.replied, 1);

    fixture_close(&f);
}


TEST(a_campaign_answered_or_replied_after_it_ended_is_active)
{
    char                       id[INBOX_ID_MAX];
    int64_t                    day;
    fixture_t                  f;
    inbox_campaign_t           p, c;
    inbox_campaign_new_t       n;
    inbox_event_list_t         live;
    inbox_campaign_page_t      page;
    inbox_campaign_dispatch_t  d;

    static const char *const   options[] = { "Monday", "Friday" };

    FIXTURE(&f);
    memset(&live, 0, sizeof(live));

    CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, NULL, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "hi", T0, NULL, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);

    memset(&n, 0, sizeof(n));
    n.kind = INBOX_CAMPAIGN_KIND_POLL;
    n.question = "Which day suits you?";
    n.options = options;
    n.option_count = 2;
    n.audience_all = 1;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &p, NULL,
                                          NULL),
              INBOX_OK);
    CHECK_INT(campaign_do(&f, p.id, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    d = dispatch_sent(&f, NOON, 10);
    CHECK_INT(d.handed, 2);
    CHECK_INT(d.finished, 1);

    /* and a campaign, whose frame has no tally */
    CHECK_INT(person(&f, CAROL, "x", NULL, id), 0);
    CHECK_INT(campaign_new(&f, "x", id), 0);
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    d = dispatch_sent(&f, NOON, 10);
    CHECK_INT(d.finished, 1);

    /* a day on, nothing moved since: nothing to push */
    day = NOON + 24 * HOUR;
    CHECK_INT(inbox_store_campaigns_active(f.store, day - 10 * MINUTE, NULL,
                                           &page, NULL), INBOX_OK);
    CHECK_INT(page.count, 0);
    inbox_campaign_page_free(&page);

    CHECK_INT(receive(&f, "SM3", ALICE, "2", day, NULL, NULL), INBOX_OK);
    CHECK_INT(inbox_store_campaigns_active(f.store, day - 10 * MINUTE, NULL,
                                           &page, NULL), INBOX_OK);
    CHECK_INT(page.count, 1);
    if (page.count == 1) {
        CHECK_STR(page.items[0].id, p.id);
        CHECK_INT(page.items[0].tally[0], 0);
        CHECK_INT(page.items[0].tally[1], 1);
    }
    inbox_campaign_page_free(&page);

    /* Alice changes her mind, Bob answers: the tally follows */
    CHECK_INT(receive(&f, "SM4", ALICE, "monday", day + MINUTE, NULL, NULL),
              INBOX_OK);
    CHECK_INT(receive(&f, "SM5", BOB, "Monday", day + 2 * MINUTE, NULL,
                      NULL), INBOX_OK);
    CHECK_INT(inbox_store_campaign_progress(f.store, f.org, p.id,
                                            day + 2 * MINUTE, &c, &live,
                                            NULL), INBOX_OK);
    CHECK_INT(c.tally[0], 2);
    CHECK_INT(c.tally[1], 0);
    CHECK_INT(c.counts.replied, 2);
    inbox_campaign_free(&c);
    CHECK_INT(live.count, 1);
    if (live.count == 1) {
        CHECK(strstr(live.items[0].json, "\"tally\":[{\"number\":1,"
                     "\"option\":\"Monday\",\"count\":2},{\"number\":2,"
                     "\"option\":\"Friday\",\"count\":0}]") != NULL);
        CHECK(strstr(live.items[0].json, "\"status\":\"done\"") != NULL);
    }
    inbox_event_list_free(&live);

    CHECK_INT(inbox_store_campaign_progress(f.store, f.org, id, day, &c,
                                            &live, NULL), INBOX_OK);
    inbox_campaign_free(&c);
    CHECK_INT(live.count, 1);
    if (live.count == 1) {
        CHECK(strstr(live.items[0].json, "\"tally\"") == NULL);
    }
    inbox_event_list_free(&live);

    /* after its last answer, not listed any more */
    CHECK_INT(inbox_store_campaigns_active(f.store, day + 2 * MINUTE + 1,
                                           NULL, &page, NULL), INBOX_OK);
    CHECK_INT(page.count, 0);
    inbox_campaign_page_free(&page);

    /* a reply to the campaign a day on: listed with its replied count */
    CHECK_INT(receive(&f, "SM6", CAROL, "thanks!", day + 3 * MINUTE, NULL,
                      NULL), INBOX_OK);
    CHECK_INT(inbox_store_campaigns_active(f.store, day + 2 * MINUTE + 1,
                                           NULL, &page, NULL), INBOX_OK);
    CHECK_INT(page.count, 1);
    if (page.count == 1) {
        CHECK_STR(page.items[0].id, id);
        CHECK_INT(page.items[0].counts.replied, 1);
    }
    inbox_campaign_page_free(&page);
    CHECK_INT(inbox_store_campaigns_active(f.store, day + 3 * MINUTE + 1,
                                           NULL, &page, NULL), INBOX_OK);
    CHECK_INT(page.count, 0);
    inbox_campaign_page_free(&page);

    inbox_campaign_free(&p);
    fixture_close(&f);
}


/* More campaigns that may still move than a page holds (scheduled for
 * next month, say): the newest, paused by a person, is on the next page
 * (the sender reads them all). */
TEST(the_campaigns_that_may_move_come_page_by_page)
{
    int                    i;
    char                   a[INBOX_ID_MAX], id[INBOX_ID_MAX];
    char                   last[INBOX_ID_MAX], next[INBOX_CURSOR_MAX];
    fixture_t              f;
    inbox_campaign_t       c;
    inbox_campaign_new_t   n;
    inbox_campaign_page_t  page;
    inbox_error_t          err;

    FIXTURE(&f);
    CHECK_INT(person(&f, ALICE, NULL, NULL, a), 0);

    for (i = 0; i < INBOX_CAMPAIGNS_ACTIVE_MAX; i++) {
        memset(&n, 0, sizeof(n));
        n.name = "Later";
        n.body = "See you next month!";
        n.audience_all = 1;
        n.send_at = NOON + 30 * 24 * HOUR;
        CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c,
                                              NULL, NULL), INBOX_OK);
        snprintf(id, sizeof(id), "%s", c.id);
        inbox_campaign_free(&c);
        CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    }

    CHECK_INT(campaign_new(&f, NULL, last), 0);
    CHECK_INT(campaign_do(&f, last, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    CHECK_INT(campaign_do(&f, last, INBOX_CAMPAIGN_PAUSE, NOON + 1),
              INBOX_OK);

    CHECK_INT(inbox_store_campaigns_active(f.store, NOON, NULL, &page, NULL),
              INBOX_OK);
    CHECK_INT(page.count, INBOX_CAMPAIGNS_ACTIVE_MAX);
    CHECK(page.next_cursor[0] != '\0');
    for (i = 0; i < (int) page.count; i++) {
        CHECK(strcmp(page.items[i].id, last) != 0);
    }
    snprintf(next, sizeof(next), "%s", page.next_cursor);
    inbox_campaign_page_free(&page);

    CHECK_INT(inbox_store_campaigns_active(f.store, NOON, next, &page, NULL),
              INBOX_OK);
    CHECK_INT(page.count, 1);
    if (page.count == 1) {
        CHECK_STR(page.items[0].id, last);
        CHECK_INT(page.items[0].status, INBOX_CAMPAIGN_PAUSED);
    }
    CHECK_STR(page.next_cursor, "");
    inbox_campaign_page_free(&page);

    CHECK_INT(inbox_store_campaigns_active(f.store, NOON, "not a cursor",
                                           &page, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "cursor");

    fixture_close(&f);
}


TEST(audience_counts_as_send_fixes_it_and_timeline_shows_sends)
{
    char                       a[INBOX_ID_MAX], b[INBOX_ID_MAX];
    char                       c[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    char                       id[INBOX_ID_MAX];
    char                       cursor[INBOX_TIMELINE_CURSOR_MAX];
    size_t                     i, n;
    int64_t                    all, out;
    fixture_t                  f;
    progress_t                 p;
    inbox_tags_t               tags;
    inbox_timeline_page_t      page;
    inbox_timeline_type_t      seen[8];

    FIXTURE(&f);
    memset(&tags, 0, sizeof(tags));

    CHECK_INT(person(&f, ALICE, "vip", NULL, a), 0);
    CHECK_INT(person(&f, BOB, "VIP", NULL, b), 0);
    CHECK_INT(person(&f, CAROL, "other", NULL, c), 0);
    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, b,
                                          INBOX_OPT_OUT_MANUAL, NULL, T0, 0,
                                          NULL, NULL, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);

    /* tags in any case, each contact once */
    CHECK_INT(inbox_tags_add(&tags, "Vip", 3, NULL), INBOX_OK);
    CHECK_INT(inbox_tags_add(&tags, "other", 5, NULL), INBOX_OK);
    CHECK_INT(inbox_store_campaign_audience(f.store, f.org, 0, &tags, &all,
                                            &out, NULL, NULL), INBOX_OK);
    CHECK_INT(all, 3);
    CHECK_INT(out, 1);
    CHECK_INT(inbox_store_campaign_audience(f.store, f.org, 1, NULL, &all,
                                            &out, NULL, NULL), INBOX_OK);
    CHECK_INT(all, 3);
    CHECK_INT(out, 1);
    inbox_tags_free(&tags);

    /* send fixes the same: two of "vip", one suppressed */
    CHECK_INT(campaign_new(&f, "vip", id), 0);
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    p = campaign_now(&f, id);
    CHECK_INT(p.counts.audience, 2);
    CHECK_INT(p.counts.suppressed, 1);
    CHECK_INT(dispatch(&f, NOON, 10).handed, 1);

    /* Alice answers: her timeline is the reply and the send (its
     * message's one entry, none after it); a page at a time too, no
     * page left empty for the send's message */
    CHECK(contact_of(&f, ALICE, a, conv));
    CHECK_INT(receive(&f, "SM1", ALICE, "thanks", NOON + MINUTE, NULL, NULL),
              INBOX_OK);

    CHECK_INT(inbox_store_contact_timeline(f.store, f.org, a, NULL, 0, &page,
                                           NULL), INBOX_OK);
    CHECK_INT(page.count, 2);
    if (page.count == 2) {
        CHECK_INT(page.items[0].type, INBOX_TIMELINE_MESSAGE);
        CHECK_INT(page.items[1].type, INBOX_TIMELINE_CAMPAIGN);
        CHECK_STR(page.items[1].campaign.id, id);
        CHECK_STR(page.items[1].campaign.name, "Spring sale");
        CHECK_STR(page.items[1].campaign.state, "queued");
        CHECK_INT(page.items[1].at, NOON);
    }
    CHECK_STR(page.next_cursor, "");
    inbox_timeline_page_free(&page);

    cursor[0] = '\0';
    n = 0;
    do {
        CHECK_INT(inbox_store_contact_timeline(f.store, f.org, a, cursor, 1,
                                               &page, NULL), INBOX_OK);
        for (i = 0; i < page.count && n < 8; i++) {
            seen[n++] = page.items[i].type;
        }
        snprintf(cursor, sizeof(cursor), "%s", page.next_cursor);
        inbox_timeline_page_free(&page);
    } while (cursor[0] != '\0' && n < 8);
    CHECK_INT(n, 2);
    CHECK_INT(seen[1], INBOX_TIMELINE_CAMPAIGN);

    fixture_close(&f);
}


/* A contact with the tags given (NULL-terminated); 0 or -1. */
static int
person_tags(inbox_store_t *store, const char *org, const char *phone,
    const char *const *tags, char id[INBOX_ID_MAX])
{
    int                     rc;
    inbox_contact_edit_t    edit;
    inbox_contact_record_t  c;

    memset(&edit, 0, sizeof(edit));
    edit.set_tags = 1;

    for (; *tags != NULL; tags++) {
        if (inbox_tags_add(&edit.tags, *tags, strlen(*tags), NULL)
            != INBOX_OK)
        {
            inbox_tags_free(&edit.tags);
            return -1;
        }
    }

    rc = inbox_store_contact_create(store, org, phone, &edit, &c, NULL, NULL)
         == INBOX_OK ? 0 : -1;

    if (rc == 0 && id != NULL) {
        snprintf(id, INBOX_ID_MAX, "%s", c.id);
    }

    inbox_contact_record_free(&c);
    inbox_tags_free(&edit.tags);

    return rc;
}


/* Whether item i of page is tag, with its counts. */
static int
tag_is(const inbox_tag_page_t *page, size_t i, const char *tag,
    int64_t contacts, int64_t sendable)
{
    if (i >= page->count) {
        fprintf(stderr, "    no tag %zu (want %s)\n", i, tag);
        return 0;
    }

    if (strcmp(page->items[i].tag, tag) != 0
        || page->items[i].contacts != contacts
        || page->items[i].sendable != sendable)
    {
        fprintf(stderr, "    tag %zu: %s %" PRId64 " %" PRId64
                ", want %s %" PRId64 " %" PRId64 "\n", i,
                page->items[i].tag, page->items[i].contacts,
                page->items[i].sendable, tag, contacts, sendable);
        return 0;
    }

    return 1;
}


TEST(tags_list_counts_each_tag_once_in_any_case)
{
    char                    other[INBOX_ID_MAX], bob[INBOX_ID_MAX];
    char                    carol[INBOX_ID_MAX];
    fixture_t               f;
    inbox_error_t           err;
    inbox_tag_page_t        page;
    inbox_contact_edit_t    edit;
    inbox_contact_record_t  c;

    FIXTURE(&f);
    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);

    /* nothing tagged yet */
    CHECK_INT(inbox_store_tags_list(f.store, f.org, &page, NULL), INBOX_OK);
    CHECK_INT(page.count, 0);
    CHECK_INT(page.more, 0);
    inbox_tag_page_free(&page);

    /* Alice, made first, spells them; Bob opts out */
    CHECK_INT(person_tags(f.store, f.org, ALICE,
                          (const char *[]) { "VIP", "spring", NULL }, NULL),
              0);
    CHECK_INT(person_tags(f.store, f.org, BOB,
                          (const char *[]) { "vip", NULL }, bob), 0);
    CHECK_INT(person_tags(f.store, f.org, CAROL,
                          (const char *[]) { "zeta", "Vip", NULL }, carol),
              0);
    CHECK_INT(person_tags(f.store, f.org, "+15550004444",
                          (const char *[]) { "Spring", "apple", NULL },
                          NULL), 0);
    CHECK_INT(person_tags(f.store, f.org, "+15550005555",
                          (const char *[]) { NULL }, NULL), 0);
    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, bob,
                                          INBOX_OPT_OUT_MANUAL, NULL, T0, 0,
                                          NULL, NULL, NULL), INBOX_OK);

    /* another organization's, never seen, its VIPs not counted */
    CHECK_INT(person_tags(f.store, other, ALICE,
                          (const char *[]) { "vip", "secret", NULL }, NULL),
              0);
    CHECK_INT(person_tags(f.store, other, BOB,
                          (const char *[]) { "VIP", "Apple", NULL }, NULL),
              0);

    /* by key, each contact once, the opted-out one not sendable */
    CHECK_INT(inbox_store_tags_list(f.store, f.org, &page, NULL), INBOX_OK);
    CHECK_INT(page.count, 4);
    CHECK_INT(page.more, 0);
    CHECK(tag_is(&page, 0, "apple", 1, 1));
    CHECK(tag_is(&page, 1, "spring", 2, 2));
    CHECK(tag_is(&page, 2, "VIP", 3, 2));
    CHECK(tag_is(&page, 3, "zeta", 1, 1));
    inbox_tag_page_free(&page);

    CHECK_INT(inbox_store_tags_list(f.store, other, &page, NULL), INBOX_OK);
    CHECK_INT(page.count, 3);
    CHECK(tag_is(&page, 0, "Apple", 1, 1));
    CHECK(tag_is(&page, 1, "secret", 1, 1));
    CHECK(tag_is(&page, 2, "vip", 2, 2));
    inbox_tag_page_free(&page);

    /* a tag taken off a contact is counted no more; one left by all of
     * its contacts is gone */
    memset(&edit, 0, sizeof(edit));
    edit.set_tags = 1;
    CHECK_INT(inbox_tags_add(&edit.tags, "VIP", 3, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_update(f.store, f.org, carol, &edit, &c,
                                         NULL, NULL), INBOX_OK);
    inbox_contact_record_free(&c);
    inbox_tags_free(&edit.tags);

    CHECK_INT(inbox_store_tags_list(f.store, f.org, &page, NULL), INBOX_OK);
    CHECK_INT(page.count, 3);
    CHECK(tag_is(&page, 2, "VIP", 3, 2));
    inbox_tag_page_free(&page);

    /* no such organization: nothing, or not found when malformed */
    CHECK_INT(inbox_store_tags_list(f.store, f.backend->missing_id, &page,
                                    NULL), INBOX_OK);
    CHECK_INT(page.count, 0);
    inbox_tag_page_free(&page);
    CHECK_INT(inbox_store_tags_list(f.store, "nonsense", &page, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(page.count, 0);
    inbox_tag_page_free(&page);

    fixture_close(&f);
}


/* 21 contacts with 50 tags each: 1,050 tags, the first 1,000 listed. */
TEST(tags_list_stops_at_its_maximum)
{
    char                  tag[16];
    size_t                i, j;
    fixture_t             f;
    inbox_tag_page_t      page;
    inbox_contact_row_t   rows[21];
    inbox_import_count_t  count;

    FIXTURE(&f);
    memset(rows, 0, sizeof(rows));

    for (i = 0; i < 21; i++) {
        snprintf(rows[i].phone, sizeof(rows[i].phone), "+1555400%04zu", i);
        for (j = 0; j < INBOX_TAGS_MAX; j++) {
            /* every other one in capitals: the order ignores case */
            snprintf(tag, sizeof(tag), j % 2 ? "T%04zu" : "t%04zu",
                     i * INBOX_TAGS_MAX + j);
            CHECK_INT(inbox_tags_add(&rows[i].tags, tag, strlen(tag), NULL),
                      INBOX_OK);
        }
    }

    CHECK_INT(inbox_store_contacts_import(f.store, f.org, rows, 21, &count,
                                          NULL, NULL), INBOX_OK);
    CHECK_INT(count.created, 21);

    CHECK_INT(inbox_store_tags_list(f.store, f.org, &page, NULL), INBOX_OK);
    CHECK_INT(page.count, INBOX_TAGS_LIST_MAX);
    CHECK_INT(page.more, 1);
    CHECK(tag_is(&page, 0, "t0000", 1, 1));
    CHECK(tag_is(&page, 1, "T0001", 1, 1));
    CHECK(tag_is(&page, INBOX_TAGS_LIST_MAX - 1, "T0999", 1, 1));
    inbox_tag_page_free(&page);

    for (i = 0; i < 21; i++) {
        inbox_contact_row_free(&rows[i]);
    }

    fixture_close(&f);
}

/* Replaces the contact's tags with those given (NULL-terminated). */
static inbox_status_t
tags_set(fixture_t *f, const char *id, const char *const *tags)
{
    inbox_status_t          rc;
    inbox_contact_edit_t    edit;
    inbox_contact_record_t  c;

    memset(&edit, 0, sizeof(edit));
    edit.set_tags = 1;

    for (; *tags != NULL; tags++) {
        rc = inbox_tags_add(&edit.tags, *tags, strlen(*tags), NULL);
        if (rc != INBOX_OK) {
            inbox_tags_free(&edit.tags);
            return rc;
        }
    }

    rc = inbox_store_contact_update(f->store, f->org, id, &edit, &c, NULL,
                                    NULL);
    if (rc == INBOX_OK) {
        inbox_contact_record_free(&c);
    }

    inbox_tags_free(&edit.tags);

    return rc;
}


/* Whether the organization's tags list is want: "tag contacts sendable"
 * each, in order, joined by ", ". */
static int
tags_listed(fixture_t *f, const char *want)
{
    char              got[1024];
    size_t            i, len;
    inbox_tag_page_t  page;

    if (inbox_store_tags_list(f->store, f->org, &page, NULL) != INBOX_OK) {
        fprintf(stderr, "    the tags list failed\n");
        return 0;
    }

    got[0] = '\0';
    len = 0;

    for (i = 0; i < page.count && len < sizeof(got); i++) {
        len += snprintf(got + len, sizeof(got) - len,
                        "%s%s %" PRId64 " %" PRId64, i > 0 ? ", " : "",
                        page.items[i].tag, page.items[i].contacts,
                        page.items[i].sendable);
    }

    inbox_tag_page_free(&page);

    if (strcmp(got, want) != 0) {
        fprintf(stderr, "    tags: %s\n    want: %s\n", got, want);
        return 0;
    }

    return 1;
}


/*
 * The counts stay exact through every change to a tag or an opt-out: an
 * edit adding a tag, replacing them, removing one (the spelling passes
 * to the next contact made), an opt-out and an opt-in by hand and by
 * keyword, a tag added to an opted-out contact, and an import adding
 * tags to a contact there and making another.
 */
TEST(tags_list_counts_follow_every_change)
{
    char                    alice[INBOX_ID_MAX], bob[INBOX_ID_MAX];
    fixture_t               f;
    inbox_contact_row_t     rows[2];
    inbox_import_count_t    count;

    FIXTURE(&f);
    memset(rows, 0, sizeof(rows));

    CHECK_INT(person_tags(f.store, f.org, ALICE,
                          (const char *[]) { "VIP", "spring", NULL }, alice),
              0);
    CHECK_INT(person_tags(f.store, f.org, BOB,
                          (const char *[]) { "Vip", NULL }, bob), 0);
    CHECK(tags_listed(&f, "spring 1 1, VIP 2 2"));

    /* a tag added: the others stay as they were */
    CHECK_INT(tags_set(&f, bob, (const char *[]) { "Vip", "zeta", NULL }),
              INBOX_OK);
    CHECK(tags_listed(&f, "spring 1 1, VIP 2 2, zeta 1 1"));

    /* replaced: Alice, made first, spells VIP anew */
    CHECK_INT(tags_set(&f, alice,
                       (const char *[]) { "Autumn", "vip", NULL }),
              INBOX_OK);
    CHECK(tags_listed(&f, "Autumn 1 1, vip 2 2, zeta 1 1"));

    /* removed: Bob's spelling, the next contact's */
    CHECK_INT(tags_set(&f, alice, (const char *[]) { "Autumn", NULL }),
              INBOX_OK);
    CHECK(tags_listed(&f, "Autumn 1 1, Vip 1 1, zeta 1 1"));

    /* opted out, again (nothing changes), tagged while out, back in */
    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, bob,
                                          INBOX_OPT_OUT_MANUAL, NULL, T0, 0,
                                          NULL, NULL, NULL), INBOX_OK);
    CHECK(tags_listed(&f, "Autumn 1 1, Vip 1 0, zeta 1 0"));
    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, bob,
                                          INBOX_OPT_OUT_MANUAL, NULL,
                                          T0 + 1, 0, NULL, NULL, NULL),
              INBOX_OK);
    CHECK_INT(tags_set(&f, bob,
                       (const char *[]) { "Vip", "zeta", "autumn", NULL }),
              INBOX_OK);
    CHECK(tags_listed(&f, "Autumn 2 1, Vip 1 0, zeta 1 0"));
    CHECK_INT(inbox_store_contact_opt_in(f.store, f.org, bob, "START",
                                         T0 + 2, NULL, NULL, NULL),
              INBOX_OK);
    CHECK(tags_listed(&f, "Autumn 2 2, Vip 1 1, zeta 1 1"));

    /* an import: Alice's tags added to (one she has in another case
     * left out), Carol made */
    snprintf(rows[0].phone, sizeof(rows[0].phone), "%s", ALICE);
    CHECK_INT(inbox_tags_add(&rows[0].tags, "VIP", 3, NULL), INBOX_OK);
    CHECK_INT(inbox_tags_add(&rows[0].tags, "AUTUMN", 6, NULL), INBOX_OK);
    snprintf(rows[1].phone, sizeof(rows[1].phone), "%s", CAROL);
    CHECK_INT(inbox_tags_add(&rows[1].tags, "zeta", 4, NULL), INBOX_OK);
    CHECK_INT(inbox_tags_add(&rows[1].tags, "new", 3, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contacts_import(f.store, f.org, rows, 2, &count,
                                          NULL, NULL), INBOX_OK);
    CHECK_INT(count.created, 1);
    CHECK(tags_listed(&f, "Autumn 2 2, new 1 1, VIP 2 2, zeta 2 2"));

    /* STOP and START texted */
    CHECK_INT(receive(&f, "SM1", CAROL, "STOP", T0 + 3, NULL, NULL),
              INBOX_OK);
    CHECK(tags_listed(&f, "Autumn 2 2, new 1 0, VIP 2 2, zeta 2 1"));
    CHECK_INT(receive(&f, "SM2", CAROL, "START", T0 + 4, NULL, NULL),
              INBOX_OK);
    CHECK(tags_listed(&f, "Autumn 2 2, new 1 1, VIP 2 2, zeta 2 2"));

    inbox_contact_row_free(&rows[0]);
    inbox_contact_row_free(&rows[1]);
    fixture_close(&f);
}

/* resume and retention */


/* The events after after_seq up to until_seq (0: the newest), at most
 * limit, onto out; the status. */
static inbox_status_t
since(fixture_t *f, int64_t after_seq, int64_t until_seq, size_t limit,
    inbox_event_list_t *out, inbox_error_t *err)
{
    inbox_realtime_state_t  state;

    if (inbox_store_realtime_state(f->store, f->org, &state, NULL)
        != INBOX_OK)
    {
        return INBOX_ERR_INTERNAL;
    }

    return inbox_store_events_since(f->store, f->org, state.epoch, after_seq,
                                    until_seq, limit, out, err);
}


/* Whether the replay of the events after after_seq is, frame for frame,
 * what the change pushed live (live holds only that change's events). */
static int
replays_as_live(fixture_t *f, int64_t after_seq,
    const inbox_event_list_t *live)
{
    int                 same;
    size_t              i;
    inbox_event_list_t  replay;

    memset(&replay, 0, sizeof(replay));

    same = live->count > 0
           && since(f, after_seq, 0, 100, &replay, NULL) == INBOX_OK
           && replay.count == live->count;

    for (i = 0; same && i < live->count; i++) {
        same = replay.items[i].org_seq == live->items[i].org_seq
               && strcmp(replay.items[i].org_id, live->items[i].org_id) == 0
               && strcmp(replay.items[i].json, live->items[i].json) == 0;

        if (!same) {
            fprintf(stderr, "    live:   %s\n    replay: %s\n",
                    live->items[i].json, replay.items[i].json);
        }
    }

    inbox_event_list_free(&replay);

    return same;
}


TEST(events_since_replays_each_type_as_its_live_frame)
{
    int                    changed;
    char                   id[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    int64_t                seq, now;
    fixture_t              f;
    inbox_event_list_t     live;
    inbox_send_result_t    res;
    inbox_send_report_t    report;
    inbox_reply_result_t   a;
    inbox_ingest_result_t  r;
    inbox_media_fetch_list_t  due;
    inbox_contact_record_t    contact;

    FIXTURE(&f);
    memset(&live, 0, sizeof(live));

    /* message.created, conversation.updated, unread.total, and the
     * contact it made: contact.updated */
    seq = org_seq(&f, f.org);
    CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, &r, &live), INBOX_OK);
    CHECK_INT(live.count, 4);
    CHECK_INT(events_of(&live, "contact.updated"), 1);
    CHECK(replays_as_live(&f, seq, &live));
    inbox_event_list_free(&live);

    /* read: conversation.updated and unread.total */
    seq = org_seq(&f, f.org);
    CHECK_INT(act(&f, r.conversation_id, INBOX_ACTION_READ, &live),
              INBOX_OK);
    CHECK_INT(live.count, 2);
    CHECK(replays_as_live(&f, seq, &live));
    inbox_event_list_free(&live);

    /* a reply: an outbound message.created */
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 5, NULL), INBOX_OK);
    seq = org_seq(&f, f.org);
    CHECK_INT(reply(&f, r.conversation_id, "on it", NULL, &a, &live, NULL),
              INBOX_OK);
    CHECK_INT(live.count, 2);
    CHECK(replays_as_live(&f, seq, &live));
    inbox_event_list_free(&live);

    /* message.status */
    now = inbox_now_ms();
    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_ACCEPTED;
    res.carrier = INBOX_CARRIER_TWILIO;
    snprintf(res.provider_id, sizeof(res.provider_id), "SMout1");
    res.status = INBOX_DELIVERY_QUEUED;
    CHECK_INT(send_one(&f, now, &res, &report, NULL), 0);
    seq = org_seq(&f, f.org);
    CHECK_INT(inbox_store_message_status_update(f.store, f.org,
                                                INBOX_CARRIER_TWILIO,
                                                "SMout1",
                                                INBOX_DELIVERY_DELIVERED,
                                                NULL, &changed, NULL, &live,
                                                NULL), INBOX_OK);
    CHECK_INT(live.count, 1);
    CHECK(replays_as_live(&f, seq, &live));
    inbox_event_list_free(&live);
    inbox_reply_result_free(&a);

    /* message.updated: an image's copy landed */
    CHECK_INT(receive_mms(&f, "MM1", 1, T0 + MINUTE, &r), INBOX_OK);
    CHECK_INT(inbox_store_media_fetch_claim(f.store, T0 + MINUTE, 10, &due,
                                            NULL), INBOX_OK);
    inbox_media_fetch_list_free(&due);
    seq = org_seq(&f, f.org);
    CHECK_INT(inbox_store_media_fetch_done(f.store, r.message_id, 0,
                                           TOKEN_A ".png", "image/png", 99,
                                           &live, NULL), INBOX_OK);
    CHECK_INT(live.count, 1);
    CHECK(replays_as_live(&f, seq, &live));
    inbox_event_list_free(&live);

    /* contact.updated and conversation.updated */
    CHECK(contact_of(&f, ALICE, id, conv));
    seq = org_seq(&f, f.org);
    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, id,
                                          INBOX_OPT_OUT_MANUAL, NULL,
                                          T0 + 2 * MINUTE, 0, &contact, &live,
                                          NULL), INBOX_OK);
    inbox_contact_record_free(&contact);
    CHECK_INT(live.count, 2);
    CHECK_INT(events_of(&live, "contact.updated"), 1);
    CHECK(replays_as_live(&f, seq, &live));
    inbox_event_list_free(&live);

    /* and the whole stream again, rendered from the rows as they are now:
     * the first frame shows the thread opted out */
    CHECK_INT(since(&f, 0, 0, 100, &live, NULL), INBOX_OK);
    CHECK_INT(live.count, org_seq(&f, f.org));
    if (live.count > 0) {
        CHECK(strstr(live.items[0].json, "\"type\":\"message.created\"")
              != NULL);
        CHECK(strstr(live.items[0].json, "\"opted_out\":true") != NULL);
    }
    inbox_event_list_free(&live);

    fixture_close(&f);
}


/* The one billing.updated the events after after_seq hold, with the
 * billing it shows: 1 when it is there alone and shows expect. */
static int
billing_event_shows(fixture_t *f, int64_t after_seq, const char *expect)
{
    int                 shows;
    inbox_event_list_t  events;

    memset(&events, 0, sizeof(events));

    shows = since(f, after_seq, 0, 100, &events, NULL) == INBOX_OK
            && events.count == 1
            && strcmp(events.items[0].type, "billing.updated") == 0
            && strstr(events.items[0].json, expect) != NULL;

    if (!shows && events.count > 0) {
        fprintf(stderr, "    expected %s in %s\n", expect,
                events.items[0].json);
    }

    inbox_event_list_free(&events);

    return shows;
}


/*
 * A grant, billing made active or inactive and a change of plan (all
 * inboxctl's) are each one billing.updated of their organization alone,
 * showing its billing as GET /api/v1/billing does, so that its browsers
 * show it at once; a reply's hold, which its message.status tells, is
 * none.
 */
TEST(billing_changes_are_events_showing_the_billing)
{
    char                   other[INBOX_ID_MAX];
    int64_t                seq, first, other_seq;
    fixture_t              f;
    inbox_event_list_t     live;
    inbox_reply_result_t   a;
    inbox_ingest_result_t  r;

    FIXTURE(&f);
    memset(&live, 0, sizeof(live));

    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);
    other_seq = org_seq(&f, other);

    seq = org_seq(&f, f.org);
    first = seq;
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 5, NULL), INBOX_OK);
    CHECK(org_seq(&f, f.org) == seq + 1);
    CHECK(billing_event_shows(&f, seq, "\"billing\":{\"active\":true,"
                              "\"plan\":\"per_message\",\"credits\":"
                              "{\"balance\":5,\"held\":0}}"));

    seq = org_seq(&f, f.org);
    CHECK_INT(inbox_store_billing_set(f.store, f.org, 0, NULL), INBOX_OK);
    CHECK(billing_event_shows(&f, seq, "\"active\":false"));

    seq = org_seq(&f, f.org);
    CHECK_INT(inbox_store_billing_set(f.store, f.org, 1, NULL), INBOX_OK);
    CHECK(billing_event_shows(&f, seq, "\"active\":true"));

    seq = org_seq(&f, f.org);
    CHECK_INT(inbox_store_plan_set(f.store, f.org, INBOX_PLAN_UNLIMITED,
                                   NULL), INBOX_OK);
    CHECK(billing_event_shows(&f, seq, "\"plan\":\"unlimited\""));

    seq = org_seq(&f, f.org);
    CHECK_INT(inbox_store_plan_set(f.store, f.org, INBOX_PLAN_PER_MESSAGE,
                                   NULL), INBOX_OK);
    CHECK(billing_event_shows(&f, seq, "\"plan\":\"per_message\""));

    /* the other organization's stream did not move */
    CHECK(org_seq(&f, other) == other_seq);

    /* a reply holds a credit: its own events, no billing.updated */
    CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, &r, NULL), INBOX_OK);
    seq = org_seq(&f, f.org);
    CHECK_INT(reply(&f, r.conversation_id, "on it", NULL, &a, &live, NULL),
              INBOX_OK);
    CHECK_INT(events_of(&live, "billing.updated"), 0);
    inbox_event_list_free(&live);
    CHECK_INT(since(&f, seq, 0, 100, &live, NULL), INBOX_OK);
    CHECK_INT(events_of(&live, "billing.updated"), 0);
    inbox_event_list_free(&live);
    inbox_reply_result_free(&a);

    /* replayed later, a billing.updated shows the billing as it is now,
     * as every replayed frame shows its rows */
    CHECK_INT(since(&f, first, first + 1, 100, &live, NULL), INBOX_OK);
    CHECK_INT(live.count, 1);
    if (live.count == 1) {
        CHECK(strstr(live.items[0].json, "\"balance\":4,\"held\":1")
              != NULL);
    }
    inbox_event_list_free(&live);

    fixture_close(&f);
}


/* The settings.updated an edit pushed (the only event of live) and
 * what the store holds after after_seq: 1 when both are that one event,
 * alike, showing expect. */
static int
settings_event_shows(fixture_t *f, int64_t after_seq,
    const inbox_event_list_t *live, const char *expect)
{
    int                 shows;
    inbox_event_list_t  events;

    memset(&events, 0, sizeof(events));

    shows = live->count == 1
            && strcmp(live->items[0].type, "settings.updated") == 0
            && strstr(live->items[0].json, expect) != NULL
            && since(f, after_seq, 0, 100, &events, NULL) == INBOX_OK
            && events.count == 1
            && strcmp(events.items[0].json, live->items[0].json) == 0;

    if (!shows && live->count > 0) {
        fprintf(stderr, "    expected %s in %s\n", expect,
                live->items[0].json);
    }

    inbox_event_list_free(&events);

    return shows;
}


/*
 * A settings edit (the API's PATCH, inboxctl settings set) that changes
 * what GET /api/v1/settings shows is one settings.updated of its
 * organization alone, taking its next org_seq and showing the settings
 * as GET does, so that every browser's Settings and what reads the zone
 * or quiet hours follow at once; one that changes nothing, a refused
 * one, one of no organization make none.  Replayed later, it shows the
 * settings as they are then.
 */
TEST(settings_changes_are_events_showing_the_settings)
{
    char                   other[INBOX_ID_MAX];
    int64_t                seq, first, other_seq;
    fixture_t              f;
    inbox_error_t          err;
    inbox_settings_t       s;
    inbox_event_list_t     live;
    inbox_settings_edit_t  edit;

    FIXTURE(&f);
    memset(&live, 0, sizeof(live));

    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);
    other_seq = org_seq(&f, other);

    /* quiet hours */
    seq = org_seq(&f, f.org);
    first = seq;
    memset(&edit, 0, sizeof(edit));
    CHECK_INT(inbox_settings_set_quiet_hours(&edit, "22:00", "07:30", NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_settings_update(f.store, f.org, &edit, &s, &live,
                                          NULL), INBOX_OK);
    CHECK(org_seq(&f, f.org) == seq + 1);
    CHECK(settings_event_shows(&f, seq, &live,
                               "\"settings\":{\"timezone\":\"UTC\","
                               "\"quiet_hours\":{\"start\":\"22:00\","
                               "\"end\":\"07:30\"},\"business_name\":"
                               "\"Acme\",\"support_contact\":null,"
                               "\"default_country\":null,\"countries\":["));
    if (live.count == 1) {
        CHECK(live.items[0].org_seq == seq + 1);
    }
    inbox_event_list_free(&live);

    /* the zone, a support contact and a country at once: one event */
    seq = org_seq(&f, f.org);
    memset(&edit, 0, sizeof(edit));
    CHECK_INT(inbox_settings_set_timezone(&edit, "America/Chicago", NULL),
              INBOX_OK);
    CHECK_INT(inbox_settings_set_support_contact(&edit, "help@acme.test",
                                                 NULL), INBOX_OK);
    CHECK_INT(inbox_settings_set_default_country(&edit, "gb", NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_settings_update(f.store, f.org, &edit, NULL, &live,
                                          NULL), INBOX_OK);
    CHECK(settings_event_shows(&f, seq, &live,
                               "\"timezone\":\"America/Chicago\","
                               "\"quiet_hours\":{\"start\":\"22:00\","
                               "\"end\":\"07:30\"},\"business_name\":"
                               "\"Acme\",\"support_contact\":"
                               "\"help@acme.test\",\"default_country\":"
                               "\"GB\""));
    inbox_event_list_free(&live);

    /* the same again, and the organization's own name as its business
     * name while it had none: stored, but GET shows what it showed, so
     * no event and no number taken */
    seq = org_seq(&f, f.org);
    CHECK_INT(inbox_store_settings_update(f.store, f.org, &edit, NULL, &live,
                                          NULL), INBOX_OK);
    memset(&edit, 0, sizeof(edit));
    CHECK_INT(inbox_settings_set_business_name(&edit, "Acme", NULL),
              INBOX_OK);
    CHECK_INT(inbox_settings_set_quiet_hours(&edit, "22:00", "07:30", NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_settings_update(f.store, f.org, &edit, NULL, &live,
                                          NULL), INBOX_OK);
    memset(&edit, 0, sizeof(edit));
    CHECK_INT(inbox_store_settings_update(f.store, f.org, &edit, NULL, &live,
                                          NULL), INBOX_OK);
    CHECK_INT(live.count, 0);
    CHECK(org_seq(&f, f.org) == seq);

    /* refused: nothing stored, no event */
    memset(&edit, 0, sizeof(edit));
    edit.set_timezone = 1;
    snprintf(edit.timezone, sizeof(edit.timezone), "Mars/Olympus_Mons");
    CHECK_INT(inbox_store_settings_update(f.store, f.org, &edit, NULL, &live,
                                          &err), INBOX_ERR_INVALID);
    memset(&edit, 0, sizeof(edit));
    CHECK_INT(inbox_settings_set_quiet_hours(&edit, "20:00", "09:00", NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_settings_update(f.store, f.backend->missing_id,
                                          &edit, NULL, &live, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(live.count, 0);
    CHECK(org_seq(&f, f.org) == seq);

    /* the business name back to the organization's */
    memset(&edit, 0, sizeof(edit));
    CHECK_INT(inbox_settings_set_business_name(&edit, "Acme Dental", NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_settings_update(f.store, f.org, &edit, NULL, &live,
                                          NULL), INBOX_OK);
    inbox_event_list_free(&live);
    seq = org_seq(&f, f.org);
    CHECK_INT(inbox_settings_set_business_name(&edit, "", NULL), INBOX_OK);
    CHECK_INT(inbox_store_settings_update(f.store, f.org, &edit, NULL, &live,
                                          NULL), INBOX_OK);
    CHECK(settings_event_shows(&f, seq, &live,
                               "\"business_name\":\"Acme\","));
    inbox_event_list_free(&live);

    /* the other organization's stream did not move */
    CHECK(org_seq(&f, other) == other_seq);

    /* replayed later, the first shows the settings as they are now, as
     * every replayed frame shows its rows */
    CHECK_INT(since(&f, first, first + 1, 100, &live, NULL), INBOX_OK);
    CHECK_INT(live.count, 1);
    if (live.count == 1) {
        CHECK(strstr(live.items[0].json, "\"type\":\"settings.updated\"")
              != NULL);
        CHECK(strstr(live.items[0].json, "\"America/Chicago\"") != NULL);
    }
    inbox_event_list_free(&live);

    fixture_close(&f);
}


/* Each change to the team is an event naming the user, so that browsers
 * read the team again and ws-server closes the sockets of a user who
 * was removed or signed out everywhere; a refused change makes none. */
/*
 * An import shows live in the browsers: a contact that was there renamed
 * pushes conversation.updated with its new name, one only tagged
 * contact.updated (its panel reads its tags again), one made by the
 * import contact.updated with its name and tags (every Contacts list
 * shows it), one unchanged nothing; each replays as it was pushed.
 */
TEST(an_import_pushes_the_contacts_it_made_or_changed)
{
    char                    id[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    size_t                  i;
    fixture_t               f;
    inbox_event_list_t      events;
    inbox_contact_row_t     rows[4];
    inbox_import_count_t    count;
    inbox_ingest_result_t   alice;
    inbox_realtime_state_t  state;

    FIXTURE(&f);
    memset(rows, 0, sizeof(rows));
    memset(&events, 0, sizeof(events));

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, BOB, "Bob", id,
                                         NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, "+15557654321",
                                         "Carol", id, NULL), INBOX_OK);
    CHECK_INT(inbox_store_realtime_state(f.store, f.org, &state, NULL),
              INBOX_OK);

    snprintf(rows[0].phone, sizeof(rows[0].phone), "%s", ALICE);
    rows[0].name = strdup("Alice Wong");
    snprintf(rows[1].phone, sizeof(rows[1].phone), "%s", BOB);
    rows[1].name = strdup("Bob");
    inbox_tags_add(&rows[1].tags, "vip", 3, NULL);
    snprintf(rows[2].phone, sizeof(rows[2].phone), "+15557654321");
    rows[2].name = strdup("Carol");
    snprintf(rows[3].phone, sizeof(rows[3].phone), "+15550001111");
    rows[3].name = strdup("Dan");
    inbox_tags_add(&rows[3].tags, "new", 3, NULL);

    CHECK_INT(inbox_store_contacts_import(f.store, f.org, rows, 4, &count,
                                          &events, NULL), INBOX_OK);
    CHECK_INT(count.created, 1);
    CHECK_INT(events.count, 3);
    if (events.count == 3) {
        CHECK_STR(events.items[0].type, "conversation.updated");
        CHECK(events.items[0].org_seq == state.org_seq + 1);
        CHECK(strstr(events.items[0].json, alice.conversation_id) != NULL);
        CHECK(strstr(events.items[0].json, "\"Alice Wong\"") != NULL);
        CHECK_STR(events.items[1].type, "contact.updated");
        CHECK(events.items[1].org_seq == state.org_seq + 2);
        CHECK(contact_of(&f, BOB, id, conv));
        CHECK(strstr(events.items[1].json, conv) != NULL);
        CHECK_STR(events.items[2].type, "contact.updated");
        CHECK(events.items[2].org_seq == state.org_seq + 3);
        CHECK(contact_of(&f, "+15550001111", id, conv));
        CHECK(strstr(events.items[2].json, conv) != NULL);
        CHECK(strstr(events.items[2].json, "\"name\":\"Dan\"") != NULL);
        CHECK(strstr(events.items[2].json, "\"tags\":[\"new\"]") != NULL);
        CHECK(replays_as_live(&f, state.org_seq, &events));
    }
    inbox_event_list_free(&events);

    /* the same again changes nothing: nothing pushed */
    CHECK_INT(inbox_store_contacts_import(f.store, f.org, rows, 4, &count,
                                          &events, NULL), INBOX_OK);
    CHECK_INT(events.count, 0);

    for (i = 0; i < 4; i++) {
        inbox_contact_row_free(&rows[i]);
    }

    fixture_close(&f);
}


/* A PATCH of a contact's tags and time zone: seq and the event pushed,
 * or 0 and none. */
static int64_t
edit_pushes(fixture_t *f, const char *id, const inbox_contact_edit_t *edit,
    inbox_event_list_t *events)
{
    int64_t                 seq;
    inbox_contact_record_t  c;

    seq = org_seq(f, f->org);
    inbox_event_list_free(events);
    memset(events, 0, sizeof(inbox_event_list_t));

    if (inbox_store_contact_update(f->store, f->org, id, edit, &c, events,
                                   NULL) != INBOX_OK)
    {
        return -1;
    }

    inbox_contact_record_free(&c);

    if (events->count == 0) {
        return org_seq(f, f->org) == seq ? 0 : -1;
    }

    return events->items[0].org_seq == seq + 1
           && replays_as_live(f, seq, events) ? events->items[0].org_seq : -1;
}


/*
 * A hand edit pushes as an import does (inbox_change_contact): its tags
 * or time zone changed contact.updated with the contact as it is now
 * (every browser showing its panel shows them), a new name
 * conversation.updated alone, and an edit that leaves the contact as it
 * was nothing.  Tags are stored as given, so another order or case is a
 * change; the same ones are not.
 */
TEST(a_contacts_edit_pushes_what_it_changed)
{
    char                    id[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    int64_t                 seq;
    fixture_t               f;
    inbox_event_list_t      events;
    inbox_contact_edit_t    edit;
    inbox_contact_record_t  c;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));
    memset(&edit, 0, sizeof(edit));

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, NULL, NULL), INBOX_OK);
    CHECK(contact_of(&f, ALICE, id, conv));

    /* tags alone */
    edit.set_tags = 1;
    CHECK_INT(inbox_tags_add(&edit.tags, "VIP", 3, NULL), INBOX_OK);
    CHECK_INT(inbox_tags_add(&edit.tags, "Spring", 6, NULL), INBOX_OK);
    seq = edit_pushes(&f, id, &edit, &events);
    CHECK(seq > 0);
    CHECK_INT(events.count, 1);
    if (events.count == 1) {
        CHECK_STR(events.items[0].type, "contact.updated");
        CHECK(strstr(events.items[0].json, conv) != NULL);
        CHECK(strstr(events.items[0].json, "\"tags\":[\"VIP\",\"Spring\"]")
              != NULL);
    }

    /* the same tags again: nothing */
    CHECK_INT(edit_pushes(&f, id, &edit, &events), 0);
    CHECK_INT(events.count, 0);

    /* in another order: stored (and shown) so, contact.updated */
    inbox_tags_free(&edit.tags);
    CHECK_INT(inbox_tags_add(&edit.tags, "Spring", 6, NULL), INBOX_OK);
    CHECK_INT(inbox_tags_add(&edit.tags, "VIP", 3, NULL), INBOX_OK);
    CHECK(edit_pushes(&f, id, &edit, &events) > 0);
    CHECK_STR(events.count == 1 ? events.items[0].type : "",
              "contact.updated");
    CHECK_INT(edit_pushes(&f, id, &edit, &events), 0);

    /* in another case: stored so, contact.updated */
    inbox_tags_free(&edit.tags);
    CHECK_INT(inbox_tags_add(&edit.tags, "spring", 6, NULL), INBOX_OK);
    CHECK_INT(inbox_tags_add(&edit.tags, "VIP", 3, NULL), INBOX_OK);
    CHECK(edit_pushes(&f, id, &edit, &events) > 0);
    CHECK_STR(events.count == 1 ? events.items[0].type : "",
              "contact.updated");
    CHECK_INT(inbox_store_contact_get(f.store, f.org, id, &c, NULL),
              INBOX_OK);
    CHECK_INT(c.tags.count, 2);
    if (c.tags.count == 2) {
        CHECK_STR(c.tags.items[0], "spring");
    }
    inbox_contact_record_free(&c);

    /* a time zone alone, then the same one */
    edit.set_tags = 0;
    edit.set_timezone = 1;
    snprintf(edit.timezone, sizeof(edit.timezone), "Asia/Tokyo");
    CHECK(edit_pushes(&f, id, &edit, &events) > 0);
    CHECK_STR(events.count == 1 ? events.items[0].type : "",
              "contact.updated");
    CHECK(events.count == 1
          && strstr(events.items[0].json, "\"timezone\":\"Asia/Tokyo\"")
             != NULL);
    CHECK_INT(edit_pushes(&f, id, &edit, &events), 0);

    /* none (the organization's) */
    edit.timezone[0] = '\0';
    CHECK(edit_pushes(&f, id, &edit, &events) > 0);
    CHECK_STR(events.count == 1 ? events.items[0].type : "",
              "contact.updated");

    /* a new name with new tags: conversation.updated alone */
    edit.set_timezone = 0;
    edit.set_name = 1;
    edit.name = "Alice Moreau";
    edit.set_tags = 1;
    inbox_tags_free(&edit.tags);
    CHECK_INT(inbox_tags_add(&edit.tags, "Fall", 4, NULL), INBOX_OK);
    CHECK(edit_pushes(&f, id, &edit, &events) > 0);
    CHECK_INT(events.count, 1);
    if (events.count == 1) {
        CHECK_STR(events.items[0].type, "conversation.updated");
        CHECK(strstr(events.items[0].json, "Alice Moreau") != NULL);
    }

    /* all of it as it is: nothing */
    edit.set_timezone = 1;
    CHECK_INT(edit_pushes(&f, id, &edit, &events), 0);
    CHECK_INT(inbox_store_contact_get(f.store, f.org, id, &c, NULL),
              INBOX_OK);
    CHECK_STR(c.name, "Alice Moreau");
    CHECK_INT(c.tags.count, 1);
    inbox_contact_record_free(&c);

    inbox_event_list_free(&events);
    inbox_tags_free(&edit.tags);
    fixture_close(&f);
}


/* An import that gives a contact that was there another time zone
 * pushes contact.updated, as an edit does; the one it has, nothing. */
TEST(an_import_pushes_a_contacts_new_time_zone)
{
    char                    id[INBOX_ID_MAX];
    fixture_t               f;
    inbox_event_list_t      events;
    inbox_contact_row_t     row;
    inbox_import_count_t    count;

    FIXTURE(&f);
    memset(&row, 0, sizeof(row));
    memset(&events, 0, sizeof(events));

    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, BOB, "Bob", id,
                                         NULL), INBOX_OK);

    snprintf(row.phone, sizeof(row.phone), "%s", BOB);
    snprintf(row.timezone, sizeof(row.timezone), "Europe/Paris");

    CHECK_INT(inbox_store_contacts_import(f.store, f.org, &row, 1, &count,
                                          &events, NULL), INBOX_OK);
    CHECK_INT(events.count, 1);
    if (events.count == 1) {
        CHECK_STR(events.items[0].type, "contact.updated");
        CHECK(strstr(events.items[0].json,
                     "\"timezone\":\"Europe/Paris\"") != NULL);
    }
    inbox_event_list_free(&events);

    CHECK_INT(inbox_store_contacts_import(f.store, f.org, &row, 1, &count,
                                          &events, NULL), INBOX_OK);
    CHECK_INT(events.count, 0);
    inbox_event_list_free(&events);

    inbox_contact_row_free(&row);
    fixture_close(&f);
}


/* Past INBOX_IMPORT_EVENTS_MAX contacts changed, a batch pushes one
 * contacts.imported (browsers read their lists again). */
TEST(a_large_import_pushes_one_event_for_all)
{
    char                    id[INBOX_ID_MAX], phone[INBOX_PHONE_MAX];
    size_t                  i, n;
    fixture_t               f;
    inbox_event_list_t      events;
    inbox_contact_row_t     rows[INBOX_IMPORT_EVENTS_MAX + 1];
    inbox_import_count_t    count;
    inbox_realtime_state_t  state;

    FIXTURE(&f);
    memset(rows, 0, sizeof(rows));
    memset(&events, 0, sizeof(events));
    n = INBOX_IMPORT_EVENTS_MAX + 1;

    for (i = 0; i < n; i++) {
        snprintf(phone, sizeof(phone), "+1555100%04zu", i);
        CHECK_INT(inbox_store_contact_upsert(f.store, f.org, phone, "Old",
                                             id, NULL), INBOX_OK);
        snprintf(rows[i].phone, sizeof(rows[i].phone), "%s", phone);
        rows[i].name = strdup("New");
    }

    CHECK_INT(inbox_store_realtime_state(f.store, f.org, &state, NULL),
              INBOX_OK);

    /* one fewer: each its own event */
    CHECK_INT(inbox_store_contacts_import(f.store, f.org, rows + 1, n - 1,
                                          &count, &events, NULL), INBOX_OK);
    CHECK_INT(events.count, n - 1);
    inbox_event_list_free(&events);

    for (i = 0; i < n; i++) {
        free(rows[i].name);
        rows[i].name = strdup("Newer");
    }

    CHECK_INT(inbox_store_realtime_state(f.store, f.org, &state, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_contacts_import(f.store, f.org, rows, n, &count,
                                          &events, NULL), INBOX_OK);
    CHECK_INT(count.updated, n);
    CHECK_INT(events.count, 1);
    if (events.count == 1) {
        CHECK_STR(events.items[0].type, "contacts.imported");
        CHECK(events.items[0].org_seq == state.org_seq + 1);
        CHECK(replays_as_live(&f, state.org_seq, &events));
    }
    inbox_event_list_free(&events);

    for (i = 0; i < n; i++) {
        inbox_contact_row_free(&rows[i]);
    }

    fixture_close(&f);
}


/* An import that only makes contacts pushes each, as one added by hand
 * is (contact.updated), up to INBOX_IMPORT_EVENTS_MAX of them in a
 * batch, else one contacts.imported (browsers read their lists again). */
TEST(an_import_of_new_contacts_pushes_them)
{
    char                    phone[INBOX_PHONE_MAX];
    size_t                  i, n;
    fixture_t               f;
    inbox_event_list_t      events;
    inbox_contact_row_t     rows[INBOX_IMPORT_EVENTS_MAX + 1];
    inbox_import_count_t    count;
    inbox_realtime_state_t  state;

    FIXTURE(&f);
    memset(rows, 0, sizeof(rows));
    memset(&events, 0, sizeof(events));
    n = INBOX_IMPORT_EVENTS_MAX + 1;

    for (i = 0; i < n; i++) {
        snprintf(rows[i].phone, sizeof(rows[i].phone), "+1555200%04zu", i);
    }

    /* as many as a batch names: each its own, in the file's order */
    CHECK_INT(inbox_store_realtime_state(f.store, f.org, &state, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_contacts_import(f.store, f.org, rows + 1, n - 1,
                                          &count, &events, NULL), INBOX_OK);
    CHECK_INT(count.created, n - 1);
    CHECK_INT(events.count, n - 1);
    for (i = 0; i < events.count; i++) {
        snprintf(phone, sizeof(phone), "\"phone\":\"%s\"",
                 rows[i + 1].phone);
        CHECK_STR(events.items[i].type, "contact.updated");
        CHECK(strstr(events.items[i].json, phone) != NULL);
    }
    CHECK(replays_as_live(&f, state.org_seq, &events));
    inbox_event_list_free(&events);

    /* one more: one event for all */
    for (i = 0; i < n; i++) {
        snprintf(rows[i].phone, sizeof(rows[i].phone), "+1555300%04zu", i);
    }

    CHECK_INT(inbox_store_realtime_state(f.store, f.org, &state, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_contacts_import(f.store, f.org, rows, n, &count,
                                          &events, NULL), INBOX_OK);
    CHECK_INT(count.created, n);
    CHECK_INT(events.count, 1);
    if (events.count == 1) {
        CHECK_STR(events.items[0].type, "contacts.imported");
        CHECK(events.items[0].org_seq == state.org_seq + 1);
    }
    inbox_event_list_free(&events);

    fixture_close(&f);
}


/*
 * A contact added by hand is pushed (contact.updated, with its name,
 * tags and creation time as a list item shows them), so that a
 * colleague's Contacts list shows it; it replays as it was pushed.  A
 * number that is a contact already makes nothing, and pushes nothing.
 */
TEST(a_contact_added_by_hand_is_pushed)
{
    char                    id[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    int64_t                 seq;
    fixture_t               f;
    inbox_event_list_t      events;
    inbox_contact_edit_t    edit;
    inbox_contact_record_t  c;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));
    memset(&edit, 0, sizeof(edit));

    edit.set_name = 1;
    edit.name = "Bob Stone";
    edit.set_tags = 1;
    CHECK_INT(inbox_tags_add(&edit.tags, "VIP", 3, NULL), INBOX_OK);

    seq = org_seq(&f, f.org);
    CHECK_INT(inbox_store_contact_create(f.store, f.org, BOB, &edit, &c,
                                         &events, NULL), INBOX_OK);
    CHECK(contact_of(&f, BOB, id, conv));
    CHECK_STR(c.id, id);
    CHECK_INT(events.count, 1);
    if (events.count == 1) {
        CHECK_STR(events.items[0].type, "contact.updated");
        CHECK(events.items[0].org_seq == seq + 1);
        CHECK(strstr(events.items[0].json, id) != NULL);
        CHECK(strstr(events.items[0].json, conv) != NULL);
        CHECK(strstr(events.items[0].json, "\"name\":\"Bob Stone\"")
              != NULL);
        CHECK(strstr(events.items[0].json, "\"tags\":[\"VIP\"]") != NULL);
        CHECK(strstr(events.items[0].json, "\"created_at\":\"") != NULL);
        CHECK(replays_as_live(&f, seq, &events));
    }
    inbox_contact_record_free(&c);
    inbox_event_list_free(&events);
    memset(&events, 0, sizeof(events));

    /* the same number again: refused, nothing pushed */
    CHECK_INT(inbox_store_contact_create(f.store, f.org, BOB, &edit, &c,
                                         &events, NULL), INBOX_ERR_CONFLICT);
    CHECK_INT(events.count, 0);
    CHECK(org_seq(&f, f.org) == seq + 1);
    inbox_contact_record_free(&c);

    inbox_event_list_free(&events);
    inbox_tags_free(&edit.tags);
    fixture_close(&f);
}


/* Whether each contact.updated of live (the events after after_seq, some
 * of them) replays as it was pushed: the thread's frames replay as it is
 * now, which a later message of the batch or an answer moved on. */
static int
contacts_replay_as_live(fixture_t *f, int64_t after_seq,
    const inbox_event_list_t *live)
{
    int                 same;
    size_t              i, j;
    inbox_event_list_t  replay;

    memset(&replay, 0, sizeof(replay));

    same = events_of(live, "contact.updated") > 0
           && since(f, after_seq, 0, 100, &replay, NULL) == INBOX_OK;

    for (i = 0; same && i < live->count; i++) {
        if (strcmp(live->items[i].type, "contact.updated") != 0) {
            continue;
        }

        for (j = 0; j < replay.count; j++) {
            if (replay.items[j].org_seq == live->items[i].org_seq) {
                break;
            }
        }

        same = j < replay.count
               && strcmp(replay.items[j].json, live->items[i].json) == 0;

        if (!same) {
            fprintf(stderr, "    live:   %s\n    replay: %s\n",
                    live->items[i].json,
                    j < replay.count ? replay.items[j].json : "none");
        }
    }

    inbox_event_list_free(&replay);

    return same;
}


/* Whether the event holds "key":"value" (value an id or a phone). */
static int
event_names(const inbox_event_t *event, const char *key, const char *value)
{
    char  want[128];

    snprintf(want, sizeof(want), "\"%s\":\"%s\"", key, value);

    return strstr(event->json, want) != NULL;
}


/*
 * A text from a new number makes its contact, which is pushed as one
 * added by hand is (contact.updated, with the contact as a list item
 * shows it, after the message's own events), so that every Contacts
 * list shown adds it; it replays as it was pushed.  The carrier's retry
 * of the text, stored once, pushes nothing; the contact's next text,
 * and the first text of a contact added by hand, push the message's
 * events alone.
 */
TEST(a_text_from_a_new_number_pushes_its_contact)
{
    char                    id[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    int64_t                 seq;
    fixture_t               f;
    inbox_event_list_t      live;
    inbox_contact_edit_t    edit;
    inbox_ingest_result_t   r;
    inbox_contact_record_t  bob;

    FIXTURE(&f);
    memset(&live, 0, sizeof(live));

    seq = org_seq(&f, f.org);
    CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, &r, &live), INBOX_OK);
    CHECK(contact_of(&f, ALICE, id, conv));
    CHECK_STR(r.conversation_id, conv);
    CHECK_INT(live.count, 4);
    if (live.count == 4) {
        CHECK_STR(live.items[0].type, "message.created");
        CHECK_STR(live.items[3].type, "contact.updated");
        CHECK(live.items[3].org_seq == seq + 4);
        CHECK(event_names(&live.items[3], "id", id));
        CHECK(event_names(&live.items[3], "phone", ALICE));
        CHECK(event_names(&live.items[3], "conversation_id", conv));
        CHECK(strstr(live.items[3].json, "\"name\":null,") != NULL);
        CHECK(strstr(live.items[3].json, "\"tags\":[]") != NULL);
        CHECK(strstr(live.items[3].json, "\"opted_out\":false") != NULL);
        CHECK(strstr(live.items[3].json, "\"created_at\":\"20") != NULL);
        CHECK(replays_as_live(&f, seq, &live));
    }
    CHECK(org_seq(&f, f.org) == seq + 4);
    inbox_event_list_free(&live);

    /* the carrier's retry: stored once, nothing pushed */
    CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, &r, &live), INBOX_OK);
    CHECK_INT(r.duplicate, 1);
    CHECK_INT(live.count, 0);
    CHECK(org_seq(&f, f.org) == seq + 4);

    /* its next text: a contact that is there */
    CHECK_INT(receive(&f, "SM2", ALICE, "again", T0 + 1, &r, &live),
              INBOX_OK);
    CHECK_INT(live.count, 3);
    CHECK_INT(events_of(&live, "contact.updated"), 0);
    inbox_event_list_free(&live);

    /* added by hand (and pushed then), then texting */
    memset(&edit, 0, sizeof(edit));
    CHECK_INT(inbox_store_contact_create(f.store, f.org, BOB, &edit, &bob,
                                         NULL, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM3", BOB, "hi", T0 + 2, &r, &live), INBOX_OK);
    CHECK_STR(r.conversation_id, bob.conversation_id);
    CHECK_INT(live.count, 3);
    CHECK_INT(events_of(&live, "contact.updated"), 0);
    inbox_event_list_free(&live);
    inbox_contact_record_free(&bob);

    fixture_close(&f);
}


/*
 * A batch pushes each contact its texts made once, after the events of
 * the text that made it, whatever the carrier and whether a text has
 * pictures; a second text of the number in the batch, a retry in it and
 * a text from a contact that was there push none; each replays as
 * pushed.
 */
TEST(a_batch_pushes_each_contact_it_made_once)
{
    size_t                 i;
    char                   id[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    int64_t                seq;
    fixture_t              f;
    inbound_t              m[5];
    inbox_inbound_t        batch[5];
    inbox_event_list_t     live;
    inbox_ingest_result_t  results[5];

    FIXTURE(&f);
    memset(&live, 0, sizeof(live));

    CHECK_INT(receive(&f, "SM0", ALICE, "before", T0, NULL, NULL),
              INBOX_OK);

    inbound_init(&m[0], "SM1", BOB, NUMBER, "first", T0 + 1);
    inbound_init(&m[1], "SM2", BOB, NUMBER, "second", T0 + 2);
    inbound_init(&m[2], "SM1", BOB, NUMBER, "first", T0 + 1);
    inbound_init(&m[3], "tx-3", CAROL_PHONE, NUMBER, "", T0 + 3);
    m[3].in.carrier = INBOX_CARRIER_TELNYX;
    m[3].in.media_count = 1;
    snprintf(m[3].in.media[0].url, sizeof(m[3].in.media[0].url),
             "https://media.telnyx.example/tx-3/0");
    snprintf(m[3].in.media[0].content_type,
             sizeof(m[3].in.media[0].content_type), "image/jpeg");
    inbound_init(&m[4], "SM4", ALICE, NUMBER, "and me", T0 + 4);

    for (i = 0; i < 5; i++) {
        batch[i] = m[i].in;
    }

    seq = org_seq(&f, f.org);
    CHECK_INT(inbox_store_inbound_ingest(f.store, batch, 5, results, &live,
                                         NULL), INBOX_OK);
    CHECK_INT(results[2].duplicate, 1);

    /* Bob's 4, his second 3, Carol's 4, Alice's 3 */
    CHECK_INT(live.count, 14);
    CHECK_INT(events_of(&live, "contact.updated"), 2);
    if (live.count == 14) {
        CHECK_STR(live.items[3].type, "contact.updated");
        CHECK(contact_of(&f, BOB, id, conv));
        CHECK(event_names(&live.items[3], "id", id));
        CHECK(event_names(&live.items[3], "conversation_id", conv));
        CHECK_STR(live.items[10].type, "contact.updated");
        CHECK(contact_of(&f, CAROL_PHONE, id, conv));
        CHECK(event_names(&live.items[10], "id", id));
        CHECK(event_names(&live.items[10], "phone", CAROL_PHONE));
        CHECK(contacts_replay_as_live(&f, seq, &live));
    }
    inbox_event_list_free(&live);

    fixture_close(&f);
}


/*
 * A STOP from a new number makes its contact opted out: one
 * contact.updated says both, the contact as it is after the text; a
 * STOP from a contact that was there pushes its one contact.updated as
 * before, the contact whole (its tags, its creation time), as a list
 * item shows it.  Each replays as pushed.
 */
TEST(a_stop_from_a_new_number_pushes_its_contact_once)
{
    char                    id[INBOX_ID_MAX], conv[INBOX_ID_MAX];
    int64_t                 seq;
    fixture_t               f;
    inbox_event_list_t      live;
    inbox_contact_edit_t    edit;
    inbox_ingest_result_t   r;
    inbox_contact_record_t  c;

    FIXTURE(&f);
    memset(&live, 0, sizeof(live));

    seq = org_seq(&f, f.org);
    CHECK_INT(receive(&f, "SM1", ALICE, "STOP", T0, &r, &live), INBOX_OK);
    CHECK_INT(r.opt_changed, 1);
    CHECK(contact_of(&f, ALICE, id, conv));
    CHECK_INT(events_of(&live, "contact.updated"), 1);
    if (live.count >= 4) {
        CHECK_STR(live.items[3].type, "contact.updated");
        CHECK(event_names(&live.items[3], "id", id));
        CHECK(strstr(live.items[3].json, "\"opted_out\":true") != NULL);
        CHECK(strstr(live.items[3].json, "\"opt_out_keyword\":\"STOP\"")
              != NULL);
        CHECK(strstr(live.items[3].json, "\"created_at\":\"20") != NULL);
    }
    CHECK(contacts_replay_as_live(&f, seq, &live));
    inbox_event_list_free(&live);

    /* tagged, back in, then out again: the contact is there */
    memset(&edit, 0, sizeof(edit));
    edit.set_tags = 1;
    CHECK_INT(inbox_tags_add(&edit.tags, "VIP", 3, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_update(f.store, f.org, id, &edit, &c,
                                         NULL, NULL), INBOX_OK);
    inbox_contact_record_free(&c);
    inbox_tags_free(&edit.tags);
    CHECK_INT(receive(&f, "SM2", ALICE, "START", T0 + MINUTE, &r, NULL),
              INBOX_OK);
    seq = org_seq(&f, f.org);
    CHECK_INT(receive(&f, "SM3", ALICE, "STOP", T0 + 2 * MINUTE, &r, &live),
              INBOX_OK);
    CHECK_INT(r.opt_changed, 1);
    CHECK_INT(events_of(&live, "contact.updated"), 1);
    if (live.count >= 4) {
        CHECK_STR(live.items[3].type, "contact.updated");
        CHECK(strstr(live.items[3].json, "\"tags\":[\"VIP\"]") != NULL);
        CHECK(strstr(live.items[3].json, "\"created_at\":\"20") != NULL);
    }
    CHECK(contacts_replay_as_live(&f, seq, &live));
    inbox_event_list_free(&live);

    fixture_close(&f);
}


/* n tags "prefix1" … to tags. */
static void
tags_numbered(inbox_tags_t *tags, const char *prefix, size_t n)
{
    char    tag[32];
    size_t  i;

    for (i = 1; i <= n; i++) {
        snprintf(tag, sizeof(tag), "%s%zu", prefix, i);
        inbox_tags_add(tags, tag, strlen(tag), NULL);
    }
}


/*
 * A contact keeps at most INBOX_TAGS_MAX tags: the tags an import adds
 * past them are left out, and the batch counts the contacts it so capped
 * (once each, however many of its rows), so that the import can say so.
 * Tags a full contact has already, in any case, cap nothing.
 */
TEST(an_import_counts_the_contacts_whose_tags_were_capped)
{
    char                    id[INBOX_ID_MAX];
    fixture_t               f;
    inbox_contact_row_t     rows[3];
    inbox_contact_edit_t    edit;
    inbox_import_count_t    count;
    inbox_contact_record_t  c;

    FIXTURE(&f);
    memset(rows, 0, sizeof(rows));
    memset(&edit, 0, sizeof(edit));

    /* 30 tags, and 30 others: 20 taken, capped */
    edit.set_tags = 1;
    tags_numbered(&edit.tags, "old", 30);
    CHECK_INT(inbox_store_contact_create(f.store, f.org, BOB, &edit, &c,
                                         NULL, NULL), INBOX_OK);
    snprintf(id, sizeof(id), "%s", c.id);
    inbox_contact_record_free(&c);

    snprintf(rows[0].phone, sizeof(rows[0].phone), "%s", BOB);
    tags_numbered(&rows[0].tags, "new", 30);
    CHECK_INT(inbox_store_contacts_import(f.store, f.org, rows, 1, &count,
                                          NULL, NULL), INBOX_OK);
    CHECK_INT(count.updated, 1);
    CHECK_INT(count.capped, 1);
    CHECK_INT(inbox_store_contact_get(f.store, f.org, id, &c, NULL),
              INBOX_OK);
    CHECK_INT(c.tags.count, INBOX_TAGS_MAX);
    inbox_contact_record_free(&c);

    /* the same again: the 10 it lacks still left out */
    CHECK_INT(inbox_store_contacts_import(f.store, f.org, rows, 1, &count,
                                          NULL, NULL), INBOX_OK);
    CHECK_INT(count.capped, 1);

    /* tags it has, in another case: nothing capped */
    inbox_tags_free(&rows[0].tags);
    tags_numbered(&rows[0].tags, "OLD", 30);
    CHECK_INT(inbox_store_contacts_import(f.store, f.org, rows, 1, &count,
                                          NULL, NULL), INBOX_OK);
    CHECK_INT(count.updated, 1);
    CHECK_INT(count.capped, 0);

    /* a new number, then twice more in the batch: capped once */
    snprintf(rows[0].phone, sizeof(rows[0].phone), "+15554440000");
    inbox_tags_free(&rows[0].tags);
    tags_numbered(&rows[0].tags, "a", 40);
    snprintf(rows[1].phone, sizeof(rows[1].phone), "+15554440000");
    rows[1].repeated = 1;
    tags_numbered(&rows[1].tags, "b", 20);
    snprintf(rows[2].phone, sizeof(rows[2].phone), "+15554440000");
    rows[2].repeated = 1;
    tags_numbered(&rows[2].tags, "c", 1);
    CHECK_INT(inbox_store_contacts_import(f.store, f.org, rows, 3, &count,
                                          NULL, NULL), INBOX_OK);
    CHECK_INT(count.created, 1);
    CHECK_INT(count.repeated, 2);
    CHECK_INT(count.capped, 1);

    inbox_contact_row_free(&rows[0]);
    inbox_contact_row_free(&rows[1]);
    inbox_contact_row_free(&rows[2]);
    inbox_tags_free(&edit.tags);
    fixture_close(&f);
}


TEST(team_changes_are_events_that_name_the_user_and_resume)
{
    char                other[INBOX_ID_MAX], pat[INBOX_ID_MAX];
    char                sam[INBOX_ID_MAX], lee[INBOX_ID_MAX];
    char                id[INBOX_ID_MAX], named[64];
    size_t              i;
    int64_t             seq, elsewhere;
    fixture_t           f;
    inbox_error_t       err;
    inbox_event_list_t  live;

    static const char  *types[] = {
        "user.updated", "user.updated", "user.signed_out", "user.removed"
    };

    FIXTURE(&f);
    memset(&live, 0, sizeof(live));
    CHECK_INT(people_add(&f, other, pat, sam), 0);

    seq = org_seq(&f, f.org);
    elsewhere = org_seq(&f, other);

    CHECK_INT(inbox_store_user_add(f.store, f.org, "lee@example.com",
                                   INBOX_ROLE_MEMBER, HASH_C, lee, &live,
                                   &err), INBOX_OK);
    CHECK_INT(inbox_store_user_role_set(f.store, f.org, lee,
                                        INBOX_ROLE_BILLING, NULL, &live,
                                        &err), INBOX_OK);
    CHECK_INT(inbox_store_user_password_set(f.store, f.org,
                                            "lee@example.com", NULL, HASH_A, id,
                                            &live, &err), INBOX_OK);
    CHECK_INT(inbox_store_user_remove(f.store, f.org, lee, &live, &err),
              INBOX_OK);

    snprintf(named, sizeof(named), "\"user_id\":\"%s\"", lee);
    CHECK_INT(live.count, 4);

    for (i = 0; i < live.count && i < 4; i++) {
        CHECK_INT(live.items[i].org_seq, seq + 1 + (int64_t) i);
        CHECK_STR(live.items[i].type, types[i]);
        CHECK_STR(live.items[i].org_id, f.org);
        CHECK(strstr(live.items[i].json, named) != NULL);
    }

    /* what a resuming browser gets is what was pushed */
    CHECK(replays_as_live(&f, seq, &live));
    inbox_event_list_free(&live);

    /* the last billing contact stays: refused, and nothing to push */
    seq = org_seq(&f, f.org);
    CHECK_INT(inbox_store_user_remove(f.store, f.org, pat, &live, &err),
              INBOX_ERR_CONFLICT);
    CHECK_INT(inbox_store_user_role_set(f.store, f.org, pat,
                                        INBOX_ROLE_MEMBER, NULL, &live, &err),
              INBOX_ERR_CONFLICT);
    CHECK_INT(live.count, 0);
    CHECK_INT(org_seq(&f, f.org), seq);

    /* the other organization's stream did not move */
    CHECK_INT(org_seq(&f, other), elsewhere);

    fixture_close(&f);
}


/* A token names itself in what it acts as, and its revocation is an
 * event naming it, so that ws-server closes the sockets it opened. */
TEST(a_revoked_token_is_an_event_that_names_it)
{
    char                a[INBOX_ID_MAX], id[INBOX_ID_MAX], named[64];
    int64_t             seq;
    fixture_t           f;
    inbox_error_t       err;
    inbox_principal_t   who;
    inbox_event_list_t  live;

    FIXTURE(&f);
    memset(&live, 0, sizeof(live));

    CHECK_INT(token_add(&f, NULL, "ha", "a", 0, a), INBOX_OK);
    CHECK_INT(inbox_store_token_find(f.store, "ha", &who, NULL), INBOX_OK);
    CHECK_STR(who.token_id, a);

    seq = org_seq(&f, f.org);
    CHECK_INT(inbox_store_token_revoke(f.store, f.org, a, NULL, id, &live,
                                       &err), INBOX_OK);
    CHECK_INT(live.count, 1);
    snprintf(named, sizeof(named), "\"token_id\":\"%s\"", a);
    if (live.count == 1) {
        CHECK_STR(live.items[0].type, "token.revoked");
        CHECK_INT(live.items[0].org_seq, seq + 1);
        CHECK(strstr(live.items[0].json, named) != NULL);
    }
    CHECK(replays_as_live(&f, seq, &live));
    inbox_event_list_free(&live);

    /* revoked again: nothing changes, nothing to push */
    CHECK_INT(inbox_store_token_revoke(f.store, f.org, NULL, "ha", id, &live,
                                       &err), INBOX_OK);
    CHECK_STR(id, a);
    CHECK_INT(live.count, 0);
    CHECK_INT(org_seq(&f, f.org), seq + 1);

    fixture_close(&f);
}


/* A session names itself in what it acts as, and a logout is an event
 * naming it, so that ws-server closes the sockets that session opened
 * (and only those: the user's other sessions stay). */
TEST(a_logout_is_an_event_that_names_the_session)
{
    char                other[INBOX_ID_MAX], pat[INBOX_ID_MAX];
    char                sam[INBOX_ID_MAX], first[INBOX_ID_MAX];
    char                token[INBOX_ID_MAX], named[64];
    int64_t             seq, elsewhere;
    fixture_t           f;
    inbox_error_t       err;
    inbox_principal_t   who;
    inbox_event_list_t  live;

    FIXTURE(&f);
    memset(&live, 0, sizeof(live));
    CHECK_INT(people_add(&f, other, pat, sam), 0);

    CHECK_INT(inbox_store_session_create(f.store, f.org, pat, "pat-1",
                                         &err), INBOX_OK);
    CHECK_INT(inbox_store_session_create(f.store, f.org, pat, "pat-2",
                                         &err), INBOX_OK);
    CHECK_INT(inbox_store_session_find(f.store, "pat-1", &who, &err),
              INBOX_OK);
    CHECK(who.session_id[0] != '\0');
    CHECK_STR(who.token_id, "");
    memcpy(first, who.session_id, INBOX_ID_MAX);
    CHECK_INT(inbox_store_session_find(f.store, "pat-2", &who, &err),
              INBOX_OK);
    CHECK(strcmp(who.session_id, first) != 0);

    /* a token's principal names no session */
    CHECK_INT(token_add(&f, NULL, "ht", "t", 0, token), INBOX_OK);
    CHECK_INT(inbox_store_token_find(f.store, "ht", &who, NULL), INBOX_OK);
    CHECK_STR(who.session_id, "");

    seq = org_seq(&f, f.org);
    elsewhere = org_seq(&f, other);
    CHECK_INT(inbox_store_session_delete(f.store, "pat-1", &live, &err),
              INBOX_OK);
    CHECK_INT(live.count, 1);
    snprintf(named, sizeof(named), "\"session_id\":\"%s\"", first);
    if (live.count == 1) {
        CHECK_STR(live.items[0].type, "session.ended");
        CHECK_STR(live.items[0].org_id, f.org);
        CHECK_INT(live.items[0].org_seq, seq + 1);
        CHECK(strstr(live.items[0].json, named) != NULL);
    }
    CHECK(replays_as_live(&f, seq, &live));
    inbox_event_list_free(&live);

    CHECK_INT(inbox_store_session_find(f.store, "pat-1", &who, &err),
              INBOX_ERR_UNAUTHENTICATED);
    CHECK_INT(inbox_store_session_find(f.store, "pat-2", &who, &err),
              INBOX_OK);

    /* ended already, or never there: nothing changes, nothing to push */
    CHECK_INT(inbox_store_session_delete(f.store, "pat-1", &live, &err),
              INBOX_OK);
    CHECK_INT(inbox_store_session_delete(f.store, "unknown", &live, &err),
              INBOX_OK);
    CHECK_INT(live.count, 0);
    CHECK_INT(org_seq(&f, f.org), seq + 1);
    CHECK_INT(org_seq(&f, other), elsewhere);

    fixture_close(&f);
}


TEST(events_since_answers_a_range_in_order_within_its_bounds)
{
    char                    other[INBOX_ID_MAX];
    size_t                  i;
    fixture_t               f;
    inbox_error_t           err;
    inbox_event_list_t      out;
    inbox_realtime_state_t  state;

    FIXTURE(&f);
    memset(&out, 0, sizeof(out));

    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);
    CHECK_INT(receive(&f, "SM1", ALICE, "one", T0, NULL, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "two", T0 + 1, NULL, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM3", ALICE, "three", T0 + 2, NULL, NULL),
              INBOX_OK);
    /* 4 for each new contact's text (its contact.updated), then 3 */
    CHECK_INT(org_seq(&f, f.org), 11);

    /* everything, in order, this organization's only */
    CHECK_INT(since(&f, 0, 0, 100, &out, &err), INBOX_OK);
    CHECK_INT(out.count, 11);
    for (i = 0; i < out.count; i++) {
        CHECK_INT(out.items[i].org_seq, (int64_t) i + 1);
        CHECK_STR(out.items[i].org_id, f.org);
        CHECK_INT(out.items[i].len, strlen(out.items[i].json));
    }
    if (out.count == 11) {
        CHECK(strstr(out.items[0].json, "\"body\":\"one\"") != NULL);
        CHECK(strstr(out.items[8].json, "\"body\":\"three\"") != NULL);
        CHECK(strstr(out.items[10].json, "\"org_seq\":11") != NULL);
    }
    inbox_event_list_free(&out);

    /* after a position; pushed after what the list held */
    CHECK_INT(inbox_event_list_add(&out, f.org, 0, NULL, NULL, -1,
                                   strdup("{}")), 0);
    CHECK_INT(since(&f, 4, 0, 100, &out, NULL), INBOX_OK);
    CHECK_INT(out.count, 8);
    CHECK_INT(out.count == 8 ? out.items[1].org_seq : 0, 5);
    CHECK_INT(out.count == 8 ? out.items[7].org_seq : 0, 11);
    inbox_event_list_free(&out);

    /* up to until_seq */
    CHECK_INT(since(&f, 2, 5, 100, &out, NULL), INBOX_OK);
    CHECK_INT(out.count, 3);
    CHECK_INT(out.count == 3 ? out.items[0].org_seq : 0, 3);
    CHECK_INT(out.count == 3 ? out.items[2].org_seq : 0, 5);
    inbox_event_list_free(&out);

    /* at most limit, the oldest first */
    CHECK_INT(since(&f, 0, 0, 4, &out, NULL), INBOX_OK);
    CHECK_INT(out.count, 4);
    CHECK_INT(out.count == 4 ? out.items[3].org_seq : 0, 4);
    inbox_event_list_free(&out);

    /* at or past the newest: nothing, and no error */
    CHECK_INT(since(&f, 11, 0, 100, &out, NULL), INBOX_OK);
    CHECK_INT(out.count, 0);
    CHECK_INT(since(&f, 50, 0, 100, &out, NULL), INBOX_OK);
    CHECK_INT(out.count, 0);
    CHECK_INT(since(&f, 3, 3, 100, &out, NULL), INBOX_OK);
    CHECK_INT(out.count, 0);

    /* the other organization has none of them */
    CHECK_INT(inbox_store_realtime_state(f.store, other, &state, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_events_since(f.store, other, state.epoch, 0, 0, 100,
                                       &out, NULL), INBOX_OK);
    CHECK_INT(out.count, 0);

    /* what cannot be asked */
    CHECK_INT(inbox_store_events_since(f.store, f.backend->missing_id,
                                       state.epoch, 0, 0, 100, &out, NULL),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(since(&f, -1, 0, 100, &out, NULL), INBOX_ERR_INVALID);
    CHECK_INT(since(&f, 0, 0, 0, &out, NULL), INBOX_ERR_INVALID);
    CHECK_INT(out.count, 0);

    fixture_close(&f);
}


TEST(events_since_a_wrong_epoch_or_a_pruned_position_is_a_reset)
{
    size_t                   removed;
    fixture_t                f;
    inbox_error_t            err;
    inbox_event_list_t       out;
    inbox_event_retention_t  keep;

    FIXTURE(&f);
    memset(&out, 0, sizeof(out));

    CHECK_INT(receive(&f, "SM1", ALICE, "one", T0, NULL, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "two", T0 + 1, NULL, NULL), INBOX_OK);

    /* another stream's position */
    memset(&err, 0, sizeof(err));
    CHECK_INT(inbox_store_events_since(f.store, f.org, "0123456789abcdef",
                                       2, 0, 100, &out, &err),
              INBOX_ERR_CONFLICT);
    CHECK_STR(err.field, "epoch");
    CHECK_INT(out.count, 0);

    /* keep the newest 3 only (everything is old a day later) of the 8
     * (each text's 3, each new contact's 1) */
    keep.keep_ms = INBOX_EVENTS_KEEP_MS_DEFAULT;
    keep.keep_count = 3;
    CHECK_INT(inbox_store_events_prune(f.store, inbox_now_ms()
                                       + 2 * INBOX_EVENTS_KEEP_MS_DEFAULT,
                                       &keep, 100, &removed, NULL),
              INBOX_OK);
    CHECK_INT(removed, 5);

    /* from before what is kept: a reset, nothing handed out */
    memset(&err, 0, sizeof(err));
    CHECK_INT(since(&f, 0, 0, 100, &out, &err), INBOX_ERR_CONFLICT);
    CHECK_STR(err.field, "org_seq");
    CHECK_INT(out.count, 0);
    CHECK_INT(since(&f, 4, 0, 100, &out, &err), INBOX_ERR_CONFLICT);
    CHECK_INT(since(&f, 4, 6, 100, &out, &err), INBOX_ERR_CONFLICT);
    CHECK_INT(out.count, 0);

    /* from the oldest kept on: all of it */
    CHECK_INT(since(&f, 5, 0, 100, &out, NULL), INBOX_OK);
    CHECK_INT(out.count, 3);
    CHECK_INT(out.count == 3 ? out.items[0].org_seq : 0, 6);
    inbox_event_list_free(&out);

    /* the newest position needs nothing kept */
    keep.keep_count = 0;
    CHECK_INT(inbox_store_events_prune(f.store, inbox_now_ms()
                                       + 2 * INBOX_EVENTS_KEEP_MS_DEFAULT,
                                       &keep, 100, &removed, NULL),
              INBOX_OK);
    CHECK_INT(removed, 3);
    CHECK_INT(since(&f, 8, 0, 100, &out, NULL), INBOX_OK);
    CHECK_INT(out.count, 0);
    CHECK_INT(since(&f, 7, 0, 100, &out, &err), INBOX_ERR_CONFLICT);
    CHECK_STR(err.field, "org_seq");

    /* and the stream goes on after it */
    CHECK_INT(receive(&f, "SM3", ALICE, "three", T0 + 2, NULL, NULL),
              INBOX_OK);
    CHECK_INT(since(&f, 8, 0, 100, &out, NULL), INBOX_OK);
    CHECK_INT(out.count, 3);
    CHECK_INT(out.count == 3 ? out.items[0].org_seq : 0, 9);
    inbox_event_list_free(&out);

    fixture_close(&f);
}


TEST(a_new_epoch_makes_every_organizations_clients_reset)
{
    char                    other[INBOX_ID_MAX];
    size_t                  orgs;
    fixture_t               f;
    inbox_error_t           err;
    inbox_event_list_t      out;
    inbox_realtime_state_t  before, before_other, after, after_other;

    FIXTURE(&f);
    memset(&out, 0, sizeof(out));

    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);
    CHECK_INT(receive(&f, "SM1", ALICE, "one", T0, NULL, NULL), INBOX_OK);
    CHECK_INT(inbox_store_realtime_state(f.store, f.org, &before, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_realtime_state(f.store, other, &before_other,
                                         NULL), INBOX_OK);

    /* as after a backup was restored */
    orgs = 0;
    CHECK_INT(inbox_store_events_new_epoch(f.store, &orgs, NULL), INBOX_OK);
    CHECK_INT(orgs, 2);

    CHECK_INT(inbox_store_realtime_state(f.store, f.org, &after, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_realtime_state(f.store, other, &after_other, NULL),
              INBOX_OK);
    CHECK(strcmp(after.epoch, before.epoch) != 0);
    CHECK(strcmp(after_other.epoch, before_other.epoch) != 0);
    CHECK_INT(strlen(after.epoch), strlen(before.epoch));
    /* the numbering goes on; only the epoch tells the streams apart */
    CHECK_INT(after.org_seq, before.org_seq);

    /* a client of the old epoch: reset */
    memset(&err, 0, sizeof(err));
    CHECK_INT(inbox_store_events_since(f.store, f.org, before.epoch, 0, 0,
                                       100, &out, &err),
              INBOX_ERR_CONFLICT);
    CHECK_STR(err.field, "epoch");
    CHECK_INT(out.count, 0);

    /* new events carry the new epoch, after the old numbers */
    CHECK_INT(receive(&f, "SM2", ALICE, "two", T0 + 1, NULL, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_events_since(f.store, f.org, after.epoch,
                                       after.org_seq, 0, 100, &out, NULL),
              INBOX_OK);
    CHECK(out.count > 0);
    if (out.count > 0) {
        CHECK_INT(out.items[0].org_seq, before.org_seq + 1);
        CHECK(strstr(out.items[0].json, after.epoch) != NULL);
    }
    inbox_event_list_free(&out);

    fixture_close(&f);
}


TEST(events_are_pruned_oldest_first_when_neither_bound_keeps_them)
{
    char                     other[INBOX_ID_MAX];
    size_t                   removed, total;
    int64_t                  t1, hour;
    unsigned                 rounds;
    fixture_t                f;
    inbox_event_list_t       out;
    inbox_realtime_state_t   state;
    inbox_event_retention_t  keep;

    FIXTURE(&f);
    memset(&out, 0, sizeof(out));
    hour = 3600000;

    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);
    CHECK_INT(receive(&f, "SM1", ALICE, "one", T0, NULL, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "two", T0 + 1, NULL, NULL), INBOX_OK);

    /* eight events (each text's 3, each new contact's 1), then three
     * more a few milliseconds later */
    t1 = inbox_now_ms();
    usleep(20000);
    CHECK_INT(receive(&f, "SM3", ALICE, "three", T0 + 2, NULL, NULL),
              INBOX_OK);

    /* young enough: the age keeps them all, whatever the count says */
    keep.keep_ms = hour;
    keep.keep_count = 0;
    CHECK_INT(inbox_store_events_prune(f.store, inbox_now_ms(), &keep, 100,
                                       &removed, NULL), INBOX_OK);
    CHECK_INT(removed, 0);

    /* many enough to keep: the count keeps them all, however old */
    keep.keep_count = 11;
    CHECK_INT(inbox_store_events_prune(f.store, t1 + 10 * hour, &keep, 100,
                                       &removed, NULL), INBOX_OK);
    CHECK_INT(removed, 0);
    CHECK_INT(since(&f, 0, 0, 100, &out, NULL), INBOX_OK);
    CHECK_INT(out.count, 11);
    inbox_event_list_free(&out);

    /* the first eight are older than an hour at t1 + 1 h; the last
     * three are not: only the eight go, two at a time */
    keep.keep_count = 0;
    total = 0;
    for (rounds = 0; rounds < 10; rounds++) {
        CHECK_INT(inbox_store_events_prune(f.store, t1 + hour + 1, &keep, 2,
                                           &removed, NULL), INBOX_OK);
        CHECK(removed <= 2);
        total += removed;
        if (removed < 2) {
            break;
        }
    }
    CHECK_INT(total, 8);
    CHECK_INT(since(&f, 8, 0, 100, &out, NULL), INBOX_OK);
    CHECK_INT(out.count, 3);
    inbox_event_list_free(&out);
    CHECK_INT(since(&f, 7, 0, 100, &out, NULL), INBOX_ERR_CONFLICT);

    /* old and beyond the newest two: pruned down to two */
    keep.keep_count = 2;
    CHECK_INT(inbox_store_events_prune(f.store, t1 + 10 * hour, &keep, 100,
                                       &removed, NULL), INBOX_OK);
    CHECK_INT(removed, 1);
    CHECK_INT(since(&f, 9, 0, 100, &out, NULL), INBOX_OK);
    CHECK_INT(out.count, 2);
    inbox_event_list_free(&out);

    /* each organization by its own count: the other one's stream */
    CHECK_INT(inbox_store_realtime_state(f.store, other, &state, NULL),
              INBOX_OK);
    CHECK_INT(state.org_seq, 0);
    CHECK_INT(org_seq(&f, f.org), 11);

    /* what cannot be asked */
    keep.keep_ms = -1;
    CHECK_INT(inbox_store_events_prune(f.store, t1, &keep, 100, &removed,
                                       NULL), INBOX_ERR_INVALID);
    keep.keep_ms = 0;
    CHECK_INT(inbox_store_events_prune(f.store, t1, &keep, 0, &removed,
                                       NULL), INBOX_ERR_INVALID);

    fixture_close(&f);
}



/* A reply of one credit written after seeing the message last_seen. */
static inbox_status_t
reply_seen(fixture_t *f, const char *conversation_id, const char *last_seen,
    const char *key, inbox_reply_result_t *result, inbox_error_t *err)
{
    inbox_reply_t   r;

    reply_init(&r, conversation_id, "on it", 1, key);
    r.last_seen_message_id = last_seen;

    return inbox_store_reply_accept(f->store, f->org, &r, result, NULL, err);
}


TEST(a_reply_written_before_the_newest_message_is_stale_and_stores_nothing)
{
    char                   first[INBOX_ID_MAX];
    int64_t                seq;
    fixture_t              f;
    inbox_error_t          err;
    inbox_reply_result_t   a, b;
    inbox_ingest_result_t  m1, m2;

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, &m1, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);

    /* written after the newest message: sent */
    CHECK_INT(reply_seen(&f, m1.conversation_id, m1.message_id, "k1", &a,
                         &err), INBOX_OK);
    snprintf(first, sizeof(first), "%s", a.message.id);
    inbox_reply_result_free(&a);

    /* a retry of it is the same request, not a stale one */
    CHECK_INT(reply_seen(&f, m1.conversation_id, m1.message_id, "k1", &a,
                         &err), INBOX_OK);
    CHECK_INT(a.repeated, 1);
    CHECK_STR(a.message.id, first);
    inbox_reply_result_free(&a);

    /* the colleague's reply is newer now: refused, nothing stored */
    seq = org_seq(&f, f.org);
    memset(&err, 0, sizeof(err));
    CHECK_INT(reply_seen(&f, m1.conversation_id, m1.message_id, NULL, &b,
                         &err), INBOX_ERR_STALE);
    inbox_reply_result_free(&b);
    CHECK_STR(err.field, "last_seen_message_id");
    CHECK_STR(err.last_message_id, first);
    CHECK_STR(inbox_status_code(err.code), "stale");
    CHECK_INT(inbox_status_http(err.code), 409);
    CHECK_INT(org_seq(&f, f.org), seq);
    CHECK_INT(balance_of(&f, f.org), 9);
    CHECK_INT(held_of(&f, f.org), 1);
    CHECK_INT(message_count(&f, m1.conversation_id), 2);

    /* a new inbound message makes the writer's view stale too */
    CHECK_INT(receive(&f, "SM2", ALICE, "one more thing", inbox_now_ms(),
                      &m2, NULL), INBOX_OK);
    seq = org_seq(&f, f.org);
    CHECK_INT(reply_seen(&f, m1.conversation_id, first, NULL, &b, &err),
              INBOX_ERR_STALE);
    inbox_reply_result_free(&b);
    CHECK_STR(err.last_message_id, m2.message_id);
    CHECK_INT(reply_seen(&f, m1.conversation_id, "no-such-message", NULL, &b,
                         &err), INBOX_ERR_STALE);
    inbox_reply_result_free(&b);
    CHECK_INT(org_seq(&f, f.org), seq);
    CHECK_INT(balance_of(&f, f.org), 9);
    CHECK_INT(message_count(&f, m1.conversation_id), 3);

    /* seen it: sent; without the field: as ever */
    CHECK_INT(reply_seen(&f, m1.conversation_id, m2.message_id, NULL, &b,
                         &err), INBOX_OK);
    inbox_reply_result_free(&b);
    CHECK_INT(reply_seen(&f, m1.conversation_id, NULL, NULL, &b, &err),
              INBOX_OK);
    inbox_reply_result_free(&b);
    CHECK_INT(reply_seen(&f, m1.conversation_id, "", NULL, &b, &err),
              INBOX_OK);
    inbox_reply_result_free(&b);
    CHECK_INT(balance_of(&f, f.org), 6);
    CHECK_INT(message_count(&f, m1.conversation_id), 6);

    fixture_close(&f);
}



/*
 * A HELP read before a reply was written and stored after it (it waited
 * for the write lock; on MongoDB a carrier's retry may come minutes
 * later): its answer, timed just after it, is older than the reply, so
 * the reply stays the thread's last message.  The list shows it, and a
 * reply written after seeing it is not refused as stale.
 */
TEST(a_keywords_answer_older_than_the_threads_last_message_stays_behind_it)
{
    char                       agent[INBOX_ID_MAX];
    const char                *frame;
    size_t                     i;
    int64_t                    read, replied;
    fixture_t                  f;
    inbox_error_t              err;
    inbox_event_list_t         events;
    inbox_conversation_t       c;
    inbox_reply_result_t       a;
    inbox_message_page_t       page;
    inbox_ingest_result_t      hi, help;
    inbox_conversation_page_t  threads;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    read = inbox_now_ms() - 1000;
    CHECK_INT(receive(&f, "SM1", ALICE, "Hi", read - MINUTE, &hi, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);

    /* the agent's reply, stored after the HELP was read */
    CHECK_INT(reply_seen(&f, hi.conversation_id, hi.message_id, NULL, &a,
                         &err), INBOX_OK);
    snprintf(agent, sizeof(agent), "%s", a.message.id);
    replied = a.message.created_at;
    CHECK(replied > read + 1);
    inbox_reply_result_free(&a);

    CHECK_INT(receive(&f, "SM2", ALICE, "HELP", read, &help, &events),
              INBOX_OK);
    CHECK_INT(help.answered, 1);

    /* the thread's last message is still the reply, in the answer's
     * frame too */
    CHECK_INT(inbox_store_conversation_get(f.store, f.org,
                                           hi.conversation_id, &c, NULL),
              INBOX_OK);
    CHECK_STR(c.last_message.id, agent);
    CHECK_INT(c.last_message.direction, INBOX_OUTBOUND);
    CHECK_STR(c.last_message.preview, "on it");
    CHECK_INT(c.last_message.at, replied);
    CHECK_INT(c.last_activity_at, replied);
    inbox_conversation_free(&c);

    frame = "";
    for (i = 0; i < events.count; i++) {
        if (strstr(events.items[i].json, "\"type\":\"conversation.updated\"")
            != NULL)
        {
            frame = events.items[i].json;
        }
    }
    CHECK(strstr(frame, agent) != NULL);
    inbox_event_list_free(&events);

    /* the list shows the reply, answered */
    CHECK_INT(list(&f, f.org, INBOX_FILTER_ALL, NULL, &threads), INBOX_OK);
    CHECK_INT(threads.count, 1);
    if (threads.count == 1) {
        CHECK_STR(threads.items[0].last_message.id, agent);
        CHECK_STR(threads.items[0].last_message.preview, "on it");
    }
    inbox_conversation_page_free(&threads);
    CHECK_INT(list_count(&f, INBOX_FILTER_UNRESPONDED, NULL), 0);

    /* the messages, newest first: the answer after its HELP */
    CHECK_INT(inbox_store_messages_list(f.store, f.org, hi.conversation_id,
                                        NULL, 0, &page, NULL), INBOX_OK);
    CHECK_INT(page.count, 4);
    if (page.count == 4) {
        CHECK_STR(page.items[0].id, agent);
        CHECK_STR(page.items[1].body, HELP_ANSWER);
        CHECK_INT(page.items[1].created_at, read + 1);
        CHECK_STR(page.items[2].body, "HELP");
        CHECK_STR(page.items[3].body, "Hi");
    }
    inbox_message_page_free(&page);

    /* what the writer sees newest is what the server compares with */
    CHECK_INT(reply_seen(&f, hi.conversation_id, agent, NULL, &a, &err),
              INBOX_OK);
    inbox_reply_result_free(&a);

    /* an answer newer than the thread's last message is the last one */
    CHECK_INT(receive(&f, "SM3", ALICE, "STOP", inbox_now_ms() + MINUTE,
                      &help, NULL), INBOX_OK);
    CHECK_INT(help.answered, 1);
    CHECK_INT(inbox_store_conversation_get(f.store, f.org,
                                           hi.conversation_id, &c, NULL),
              INBOX_OK);
    CHECK_INT(c.last_message.direction, INBOX_OUTBOUND);
    CHECK_STR(c.last_message.preview, STOP_ANSWER);
    inbox_conversation_free(&c);

    fixture_close(&f);
}



/* The thread's last message as read and as listed: who sent it. */
static void
last_sender_is(fixture_t *f, const char *conversation_id,
    const char *sent_by, const char *campaign_id)
{
    inbox_conversation_t       c;
    inbox_conversation_page_t  threads;

    CHECK_INT(inbox_store_conversation_get(f->store, f->org, conversation_id,
                                           &c, NULL), INBOX_OK);
    CHECK_STR(c.last_message.sent_by, sent_by);
    CHECK_STR(c.last_message.campaign_id, campaign_id);
    inbox_conversation_free(&c);

    CHECK_INT(list(f, f->org, INBOX_FILTER_ALL, NULL, &threads), INBOX_OK);
    CHECK_INT(threads.count, 1);
    if (threads.count == 1) {
        CHECK_STR(threads.items[0].last_message.sent_by, sent_by);
        CHECK_STR(threads.items[0].last_message.campaign_id, campaign_id);
    }
    inbox_conversation_page_free(&threads);
}


/*
 * A thread's last message says who sent it, so that a list can say
 * "You:", a colleague or the campaign before it: a person's reply names
 * the person, a campaign's message the campaign, and an inbound message
 * or a keyword's answer no one.
 */
TEST(a_threads_last_message_says_who_sent_it)
{
    char                   id[INBOX_ID_MAX], pat[INBOX_ID_MAX];
    fixture_t              f;
    inbox_reply_t          r;
    inbox_event_list_t     events;
    inbox_reply_result_t   result;
    inbox_ingest_result_t  in;
    int64_t                later;
    size_t                 i;
    const char            *frame;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);
    CHECK_INT(inbox_store_user_add(f.store, f.org, "pat@example.com",
                                   INBOX_ROLE_MEMBER, "hash", pat, NULL, NULL),
              INBOX_OK);

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &in, NULL), INBOX_OK);
    last_sender_is(&f, in.conversation_id, "", "");

    /* a campaign's message */
    CHECK_INT(campaign_new(&f, NULL, id), 0);
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    CHECK_INT(dispatch(&f, NOON, 10).handed, 1);
    last_sender_is(&f, in.conversation_id, "", id);

    /* Pat's reply, in its frame too */
    reply_init(&r, in.conversation_id, "on it", 1, NULL);
    r.user_id = pat;
    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &result, &events,
                                       NULL), INBOX_OK);
    CHECK_STR(result.conversation.last_message.sent_by, pat);
    CHECK_STR(result.conversation.last_message.campaign_id, "");
    inbox_reply_result_free(&result);
    last_sender_is(&f, in.conversation_id, pat, "");

    frame = "";
    for (i = 0; i < events.count; i++) {
        if (strstr(events.items[i].json, "\"type\":\"conversation.updated\"")
            != NULL)
        {
            frame = events.items[i].json;
        }
    }
    CHECK(strstr(frame, "\"sent_by\":\"") != NULL
          && strstr(frame, pat) != NULL);
    inbox_event_list_free(&events);

    /* the contact's answer, then a keyword's answer: no one */
    later = inbox_now_ms() + MINUTE;
    CHECK_INT(receive(&f, "SM2", ALICE, "thanks", later, &in, NULL),
              INBOX_OK);
    last_sender_is(&f, in.conversation_id, "", "");

    CHECK_INT(receive(&f, "SM3", ALICE, "STOP", later + MINUTE, &in, NULL),
              INBOX_OK);
    CHECK_INT(in.answered, 1);
    last_sender_is(&f, in.conversation_id, "", "");

    fixture_close(&f);
}



/* The thread's last message as read and as listed: how far its
 * delivery got ("" for an inbound one). */
static void
last_status_is(fixture_t *f, const char *conversation_id,
    const char *status, const char *error_code)
{
    inbox_conversation_t       c;
    inbox_conversation_page_t  threads;

    CHECK_INT(inbox_store_conversation_get(f->store, f->org, conversation_id,
                                           &c, NULL), INBOX_OK);
    CHECK_STR(c.last_message.status, status);
    CHECK_STR(c.last_message.error_code, error_code);
    inbox_conversation_free(&c);

    CHECK_INT(list(f, f->org, INBOX_FILTER_ALL, NULL, &threads), INBOX_OK);
    CHECK_INT(threads.count, 1);
    if (threads.count == 1) {
        CHECK_STR(threads.items[0].last_message.status, status);
        CHECK_STR(threads.items[0].last_message.error_code, error_code);
    }
    inbox_conversation_page_free(&threads);
}


/*
 * A thread's last message says how far its delivery got, as the message
 * does now, so that a list can mark a reply that did not reach the
 * phone: queued as it is written, then each move of the message while
 * it is the last (a send refused, a carrier's report that it was not
 * delivered, minutes later), which its message.status tells live and a
 * conversation.updated after it shows; a move of an older message, or a
 * newer message, leaves the row to the newer one.
 */
TEST(a_threads_last_message_says_how_far_its_delivery_got)
{
    int                    changed;
    fixture_t              f;
    inbox_event_list_t     events;
    inbox_send_result_t    res;
    inbox_send_report_t    report;
    inbox_reply_result_t   a, b;
    inbox_ingest_result_t  in;
    int64_t                now, seq;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);

    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &in, NULL), INBOX_OK);
    last_status_is(&f, in.conversation_id, "", "");

    /* a reply: queued, in its frames too */
    CHECK_INT(reply(&f, in.conversation_id, "on it", NULL, &a, &events,
                    NULL), INBOX_OK);
    CHECK_STR(a.conversation.last_message.status, "queued");
    CHECK(events_of(&events, "conversation.updated") == 1);
    CHECK(strstr(event_frame(&events, "conversation.updated"),
                 "\"status\":\"queued\",\"error_code\":null}") != NULL);
    inbox_event_list_free(&events);
    last_status_is(&f, in.conversation_id, "queued", "");

    /* the carrier took it, then said it never reached the phone */
    now = inbox_now_ms();
    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_ACCEPTED;
    res.carrier = INBOX_CARRIER_TWILIO;
    snprintf(res.provider_id, sizeof(res.provider_id), "SMout1");
    res.status = INBOX_DELIVERY_SENT;
    CHECK_INT(send_one(&f, now, &res, &report, NULL), 0);
    last_status_is(&f, in.conversation_id, "sent", "");

    seq = org_seq(&f, f.org);
    CHECK_INT(inbox_store_message_status_update(f.store, f.org,
                  INBOX_CARRIER_TWILIO, "SMout1", INBOX_DELIVERY_UNDELIVERED,
                  "30003", &changed, NULL, &events, NULL), INBOX_OK);
    CHECK_INT(changed, 1);
    last_status_is(&f, in.conversation_id, "undelivered", "30003");

    /* told live by its message.status, which names the thread; replayed
     * the same */
    CHECK_INT(events.count, 1);
    CHECK_INT(events_of(&events, "message.status"), 1);
    if (events.count == 1) {
        CHECK(strstr(events.items[0].json, a.message.id) != NULL);
        CHECK(strstr(events.items[0].json, in.conversation_id) != NULL);
        CHECK(strstr(events.items[0].json, "\"status\":\"undelivered\","
                     "\"error_code\":\"30003\"") != NULL);
    }
    CHECK(replays_as_live(&f, seq, &events));
    inbox_event_list_free(&events);

    /* a thread's later frame shows it */
    CHECK_INT(act(&f, in.conversation_id, INBOX_ACTION_STAR, &events),
              INBOX_OK);
    CHECK_INT(events_of(&events, "conversation.updated"), 1);
    CHECK(strstr(event_frame(&events, "conversation.updated"),
                 "\"status\":\"undelivered\",\"error_code\":\"30003\"}")
          != NULL);
    inbox_event_list_free(&events);

    /* a second reply, the last now: the carrier refuses it; then the
     * contact's answer, which the row follows */
    CHECK_INT(reply(&f, in.conversation_id, "again", NULL, &b, NULL, NULL),
              INBOX_OK);
    last_status_is(&f, in.conversation_id, "queued", "");

    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_REFUSED;
    snprintf(res.error_code, sizeof(res.error_code), "21211");
    CHECK_INT(send_one(&f, inbox_now_ms(), &res, &report, NULL), 0);
    CHECK_STR(report.message_id, b.message.id);
    last_status_is(&f, in.conversation_id, "failed", "21211");

    CHECK_INT(receive(&f, "SM2", ALICE, "got it", inbox_now_ms() + MINUTE,
                      &in, NULL), INBOX_OK);
    last_status_is(&f, in.conversation_id, "", "");

    /* the first reply's late report moves it, not the row */
    CHECK_INT(inbox_store_message_status_update(f.store, f.org,
                  INBOX_CARRIER_TWILIO, "SMout1", INBOX_DELIVERY_DELIVERED,
                  NULL, &changed, NULL, NULL, NULL), INBOX_OK);
    last_status_is(&f, in.conversation_id, "", "");

    inbox_reply_result_free(&a);
    inbox_reply_result_free(&b);
    fixture_close(&f);
}



/* A contact with no message yet; its thread's id. */
static void
contact_made(fixture_t *f, const char *phone, char conversation[INBOX_ID_MAX])
{
    inbox_contact_edit_t    edit;
    inbox_contact_record_t  c;

    memset(&edit, 0, sizeof(edit));
    CHECK_INT(inbox_store_contact_create(f->store, f->org, phone, &edit, &c,
                                         NULL, NULL), INBOX_OK);
    snprintf(conversation, INBOX_ID_MAX, "%s", c.conversation_id);
    inbox_contact_record_free(&c);
}


/* The tabs' count of the default view. */
static int64_t
all_counted(fixture_t *f)
{
    int64_t                    n;
    inbox_conversation_page_t  page;

    n = -1;
    if (list(f, f->org, INBOX_FILTER_ALL, NULL, &page) == INBOX_OK
        && page.has_counts)
    {
        n = page.counts[INBOX_FILTER_ALL];
    }
    inbox_conversation_page_free(&page);

    return n;
}


/*
 * The inbox lists two-way threads: a campaign's or poll's message alone
 * lists no thread (a send to 100,000 imported contacts adds no row), the
 * thread still has it as its last message when read by its id, and the
 * contact's answer (even one the carrier timed before the campaign's
 * message) or a person's reply lists it.
 */
TEST(a_campaigns_message_alone_lists_no_thread_an_answer_or_a_reply_does)
{
    char                       id[INBOX_ID_MAX], bob[INBOX_ID_MAX],
                               carol[INBOX_ID_MAX], dan[INBOX_ID_MAX];
    char                       needle[64 + INBOX_ID_MAX];
    size_t                     i, framed;
    int64_t                    tomorrow;
    fixture_t                  f;
    inbox_event_list_t         events;
    inbox_conversation_t       c;
    inbox_ingest_result_t      in;
    inbox_campaign_dispatch_t  d;

    FIXTURE(&f);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &in, NULL), INBOX_OK);
    contact_made(&f, BOB, bob);
    contact_made(&f, CAROL_PHONE, carol);
    contact_made(&f, "+15550004444", dan);

    CHECK_INT(campaign_new(&f, NULL, id), 0);
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    memset(&events, 0, sizeof(events));
    CHECK_INT(inbox_store_campaign_dispatch(f.store, NOON, 10, MEDIA_BASE, &d,
                                            &events, NULL), INBOX_OK);
    CHECK_INT(d.handed, 4);

    /* the frames say so too: Bob's thread has no activity */
    snprintf(needle, sizeof(needle), "\"conversation\":{\"id\":\"%s\"",
             bob);
    framed = 0;
    for (i = 0; i < events.count; i++) {
        if (strstr(events.items[i].json, "\"type\":\"conversation.updated\"")
            != NULL && strstr(events.items[i].json, needle) != NULL)
        {
            CHECK(strstr(events.items[i].json, "\"last_activity_at\":null")
                  != NULL);
            framed++;
        }
    }
    CHECK_INT(framed, 1);
    inbox_event_list_free(&events);

    /* Alice's two-way thread ends with it; the others are in no list */
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, NULL), 1);
    CHECK_INT(all_counted(&f), 1);
    CHECK(list_shows(&f, INBOX_FILTER_ALL, NULL, ALICE));
    CHECK(!list_shows(&f, INBOX_FILTER_ALL, "987", BOB));
    CHECK_INT(list_count(&f, INBOX_FILTER_UNRESPONDED, NULL), 1);

    CHECK_INT(inbox_store_conversation_get(f.store, f.org, bob, &c, NULL),
              INBOX_OK);
    CHECK_INT(c.has_last_message, 1);
    CHECK_STR(c.last_message.campaign_id, id);
    CHECK_INT(c.last_activity_at, INBOX_ACTIVITY_NONE);
    inbox_conversation_free(&c);

    /* Bob answers: his thread joins the lists at his answer */
    CHECK_INT(receive(&f, "SM2", BOB, "yes", NOON + MINUTE, &in, NULL),
              INBOX_OK);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, NULL), 2);
    CHECK_INT(all_counted(&f), 2);
    CHECK(list_shows(&f, INBOX_FILTER_UNREAD, NULL, BOB));
    CHECK_INT(inbox_store_conversation_get(f.store, f.org, bob, &c, NULL),
              INBOX_OK);
    CHECK_INT(c.last_activity_at, NOON + MINUTE);
    CHECK_INT(c.last_message.direction, INBOX_INBOUND);
    inbox_conversation_free(&c);

    /* Carol's, timed by the carrier before the campaign's message: her
     * thread joins at it, the campaign's message still its last */
    CHECK_INT(receive(&f, "SM3", CAROL_PHONE, "who is this?", NOON - MINUTE,
                      &in, NULL), INBOX_OK);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, NULL), 3);
    CHECK(list_shows(&f, INBOX_FILTER_UNREAD, NULL, CAROL_PHONE));
    CHECK(list_shows(&f, INBOX_FILTER_UNRESPONDED, NULL, CAROL_PHONE));
    CHECK_INT(inbox_store_conversation_get(f.store, f.org, carol, &c, NULL),
              INBOX_OK);
    CHECK_INT(c.last_activity_at, NOON - MINUTE);
    CHECK_STR(c.last_message.campaign_id, id);
    inbox_conversation_free(&c);

    /* a person writes to Dan: his thread joins at the reply */
    CHECK_INT(reply(&f, dan, "Hello Dan", NULL, NULL, NULL, NULL), INBOX_OK);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, NULL), 4);
    CHECK_INT(all_counted(&f), 4);

    /* a second campaign, tomorrow at noon, moves the listed threads, as
     * a message does */
    tomorrow = inbox_now_ms() / (24 * HOUR) * (24 * HOUR) + 36 * HOUR;
    CHECK_INT(campaign_new(&f, NULL, id), 0);
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_SEND, tomorrow), INBOX_OK);
    CHECK_INT(dispatch(&f, tomorrow, 10).handed, 4);
    CHECK_INT(inbox_store_conversation_get(f.store, f.org, bob, &c, NULL),
              INBOX_OK);
    CHECK_INT(c.last_activity_at, tomorrow);
    CHECK_STR(c.last_message.campaign_id, id);
    inbox_conversation_free(&c);

    fixture_close(&f);
}



/* Whether one of events' frames of type holds needle. */
static int
framed_with(const inbox_event_list_t *events, const char *type,
    const char *needle)
{
    size_t  i;
    char    typed[64];

    snprintf(typed, sizeof(typed), "\"type\":\"%s\"", type);

    for (i = 0; i < events->count; i++) {
        if (strstr(events->items[i].json, typed) != NULL
            && strstr(events->items[i].json, needle) != NULL)
        {
            return 1;
        }
    }

    return 0;
}


/*
 * A campaign's or a poll's message says which it was sent for, so that a
 * client asks GET campaigns/{id} or polls/{id} at once, never the wrong
 * one first: the message read, the thread's last message read and
 * listed, their frames live and resumed; a reply names none.
 */
TEST(a_campaigns_or_polls_message_says_which_kind_sent_it)
{
    char                       id[INBOX_ID_MAX], poll[INBOX_ID_MAX];
    const char                *options[2] = { "Monday", "Tuesday" };
    int64_t                    seq;
    fixture_t                  f;
    inbox_event_list_t         events;
    inbox_campaign_t           p;
    inbox_campaign_new_t       n;
    inbox_conversation_t       c;
    inbox_message_page_t       mp;
    inbox_ingest_result_t      in;
    inbox_conversation_page_t  threads;
    inbox_campaign_dispatch_t  d;

    FIXTURE(&f);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &in, NULL), INBOX_OK);

    /* a campaign's */
    CHECK_INT(campaign_new(&f, NULL, id), 0);
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    seq = org_seq(&f, f.org);
    memset(&events, 0, sizeof(events));
    CHECK_INT(inbox_store_campaign_dispatch(f.store, NOON, 10, MEDIA_BASE, &d,
                                            &events, NULL), INBOX_OK);
    CHECK_INT(d.handed, 1);
    CHECK(framed_with(&events, "message.created",
                      "\"campaign_kind\":\"campaign\","
                      "\"can_send_again\":false},\"conversation\""));
    CHECK(framed_with(&events, "conversation.updated",
                      "\"campaign_kind\":\"campaign\""));
    CHECK(replays_as_live(&f, seq, &events));
    inbox_event_list_free(&events);

    CHECK_INT(inbox_store_conversation_get(f.store, f.org, in.conversation_id,
                                           &c, NULL), INBOX_OK);
    CHECK_STR(c.last_message.campaign_id, id);
    CHECK_STR(c.last_message.campaign_kind, "campaign");
    inbox_conversation_free(&c);

    /* a poll's, a minute later */
    memset(&n, 0, sizeof(n));
    n.kind = INBOX_CAMPAIGN_KIND_POLL;
    n.question = "Which day suits you?";
    n.options = options;
    n.option_count = 2;
    n.audience_all = 1;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &p, NULL,
                                          NULL), INBOX_OK);
    snprintf(poll, sizeof(poll), "%s", p.id);
    inbox_campaign_free(&p);
    CHECK_INT(campaign_do(&f, poll, INBOX_CAMPAIGN_SEND, NOON + MINUTE),
              INBOX_OK);
    seq = org_seq(&f, f.org);
    memset(&events, 0, sizeof(events));
    CHECK_INT(inbox_store_campaign_dispatch(f.store, NOON + MINUTE, 10,
                                            MEDIA_BASE, &d, &events, NULL),
              INBOX_OK);
    CHECK_INT(d.handed, 1);
    CHECK(framed_with(&events, "message.created",
                      "\"campaign_kind\":\"poll\","
                      "\"can_send_again\":false},\"conversation\""));
    CHECK(framed_with(&events, "conversation.updated",
                      "\"campaign_kind\":\"poll\""));
    CHECK(replays_as_live(&f, seq, &events));
    inbox_event_list_free(&events);

    /* each message read names its own */
    CHECK_INT(inbox_store_messages_list(f.store, f.org, in.conversation_id,
                                        NULL, 10, &mp, NULL), INBOX_OK);
    CHECK_INT(mp.count, 3);
    if (mp.count == 3) {
        CHECK_STR(mp.items[0].campaign_id, poll);
        CHECK_STR(mp.items[0].campaign_kind, "poll");
        CHECK_STR(mp.items[1].campaign_id, id);
        CHECK_STR(mp.items[1].campaign_kind, "campaign");
        CHECK_STR(mp.items[2].campaign_kind, "");
    }
    inbox_message_page_free(&mp);

    CHECK_INT(inbox_store_conversation_get(f.store, f.org, in.conversation_id,
                                           &c, NULL), INBOX_OK);
    CHECK_STR(c.last_message.campaign_id, poll);
    CHECK_STR(c.last_message.campaign_kind, "poll");
    inbox_conversation_free(&c);

    CHECK_INT(list(&f, f.org, INBOX_FILTER_ALL, NULL, &threads), INBOX_OK);
    CHECK_INT(threads.count, 1);
    if (threads.count == 1) {
        CHECK_STR(threads.items[0].last_message.campaign_kind, "poll");
    }
    inbox_conversation_page_free(&threads);

    /* a person's reply: none, in its frames too */
    seq = org_seq(&f, f.org);
    CHECK_INT(reply(&f, in.conversation_id, "Thanks", NULL, NULL, NULL,
                    NULL), INBOX_OK);
    memset(&events, 0, sizeof(events));
    CHECK_INT(since(&f, seq, 0, 100, &events, NULL), INBOX_OK);
    CHECK(framed_with(&events, "message.created",
                      "\"campaign_id\":null,\"campaign_kind\":null,"
                      "\"can_send_again\":false},"));
    CHECK(framed_with(&events, "conversation.updated",
                      "\"campaign_id\":null,\"campaign_kind\":null,"));
    inbox_event_list_free(&events);

    CHECK_INT(inbox_store_conversation_get(f.store, f.org, in.conversation_id,
                                           &c, NULL), INBOX_OK);
    CHECK_STR(c.last_message.campaign_kind, "");
    inbox_conversation_free(&c);

    fixture_close(&f);
}


/* campaign progress (the sender's) */


TEST(campaign_progress_is_an_event_of_the_stream_that_resumes_as_it_is_now)
{
    char                       alice[INBOX_ID_MAX], bob[INBOX_ID_MAX];
    char                       id[INBOX_ID_MAX], draft[INBOX_ID_MAX];
    int64_t                    seq;
    fixture_t                  f;
    progress_t                 p;
    inbox_error_t              err;
    inbox_campaign_t           c;
    inbox_event_list_t         live, replay;
    inbox_campaign_page_t      page;
    inbox_realtime_state_t     state;
    inbox_campaign_dispatch_t  d;

    FIXTURE(&f);
    memset(&live, 0, sizeof(live));
    memset(&replay, 0, sizeof(replay));

    CHECK_INT(person(&f, ALICE, "vip", NULL, alice), 0);
    CHECK_INT(person(&f, BOB, "vip", NULL, bob), 0);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);
    CHECK_INT(campaign_new(&f, "vip", id), 0);
    CHECK_INT(campaign_new(&f, "vip", draft), 0);

    /* a draft does not move: nothing active */
    CHECK_INT(inbox_store_campaigns_active(f.store, 0, NULL, &page, NULL),
              INBOX_OK);
    CHECK_INT(page.count, 0);
    inbox_campaign_page_free(&page);

    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);
    CHECK_INT(inbox_store_campaigns_active(f.store, 0, NULL, &page, NULL),
              INBOX_OK);
    CHECK_INT(page.count, 1);
    if (page.count == 1) {
        CHECK_STR(page.items[0].id, id);
        CHECK_STR(page.items[0].org_id, f.org);
        CHECK_INT(page.items[0].counts.audience, 2);
        CHECK_INT(page.items[0].counts.queued, 2);
    }
    inbox_campaign_page_free(&page);

    d = dispatch(&f, NOON, 1);
    CHECK_INT(d.handed, 1);

    CHECK_INT(inbox_store_realtime_state(f.store, f.org, &state, NULL),
              INBOX_OK);
    seq = state.org_seq;

    /* the event: the campaign's status and counts, the next org_seq */
    CHECK_INT(inbox_store_campaign_progress(f.store, f.org, id, NOON, &c,
                                            &live, &err), INBOX_OK);
    CHECK_INT(c.status, INBOX_CAMPAIGN_SENDING);
    CHECK_INT(c.counts.queued, 2);
    inbox_campaign_free(&c);
    CHECK_INT(live.count, 1);
    if (live.count == 1) {
        CHECK_INT(live.items[0].org_seq, seq + 1);
        CHECK_STR(live.items[0].type, "campaign.progress");
        CHECK(strstr(live.items[0].json, "\"type\":\"campaign.progress\"")
              != NULL);
        CHECK(strstr(live.items[0].json, id) != NULL);
        CHECK(strstr(live.items[0].json, "\"status\":\"sending\"")
              != NULL);
        CHECK(strstr(live.items[0].json, "\"recipients\":2,") != NULL);
        CHECK(strstr(live.items[0].json, "\"paused_reason\":null") != NULL);
    }

    /* replayed as it was pushed while nothing moved */
    CHECK(replays_as_live(&f, seq, &live));
    inbox_event_list_free(&live);

    /* and as the campaign is now once it moved: done, both handed */
    d = dispatch_sent(&f, NOON, 10);
    CHECK_INT(d.handed, 1);
    p = campaign_now(&f, id);
    CHECK_INT(p.status, INBOX_CAMPAIGN_DONE);
    CHECK_INT(since(&f, seq, 0, 10, &replay, NULL), INBOX_OK);
    CHECK(replay.count >= 1);
    if (replay.count >= 1) {
        CHECK_STR(replay.items[0].type, "campaign.progress");
        CHECK(strstr(replay.items[0].json, "\"status\":\"done\"")
              != NULL);
    }
    inbox_event_list_free(&replay);

    /* done: still listed while delivery reports may come, then not */
    CHECK_INT(inbox_store_campaigns_active(f.store, p.finished_at, NULL,
                                           &page, NULL), INBOX_OK);
    CHECK_INT(page.count, 1);
    inbox_campaign_page_free(&page);
    CHECK_INT(inbox_store_campaigns_active(f.store, p.finished_at + 1,
                                           NULL, &page, NULL), INBOX_OK);
    CHECK_INT(page.count, 0);
    inbox_campaign_page_free(&page);

    /* another organization's campaign is none */
    CHECK_INT(inbox_store_campaign_progress(f.store, f.backend->missing_id,
                                            id, NOON, NULL, &live, NULL),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(live.count, 0);

    fixture_close(&f);
}


/* The one event live holds: its type and org_seq, and whether its frame
 * has each of the texts (NULL ends them). */
static int
campaign_event_is(const inbox_event_list_t *live, const char *type,
    int64_t org_seq, ...)
{
    int          ok;
    va_list      ap;
    const char  *text;

    if (live->count != 1) {
        fprintf(stderr, "    %zu events, not one\n", live->count);
        return 0;
    }

    ok = strcmp(live->items[0].type, type) == 0
         && live->items[0].org_seq == org_seq;

    va_start(ap, org_seq);
    while (ok && (text = va_arg(ap, const char *)) != NULL) {
        ok = strstr(live->items[0].json, text) != NULL;
    }
    va_end(ap);

    if (!ok) {
        fprintf(stderr, "    %lld %s\n", (long long) live->items[0].org_seq,
                live->items[0].json);
    }

    return ok;
}


/*
 * Everything a person does to a campaign or poll that a browser shows
 * (made, edited, sent, moved, paused, cancelled, deleted) is an event of
 * the organization's stream, written with the change, that replays as it
 * went live; a refusal or a repeat is none, and another organization's
 * stream never has it.  A deleted one's earlier events replay as its
 * deletion.
 */
TEST(a_persons_campaign_changes_are_events_of_the_stream)
{
    char                    alice[INBOX_ID_MAX], other[INBOX_ID_MAX];
    char                    id[INBOX_ID_MAX], poll[INBOX_ID_MAX];
    char                    later[INBOX_ID_MAX], frame[256];
    int64_t                 seq, made, revision;
    fixture_t               f;
    inbox_error_t           err;
    inbox_campaign_t        c;
    inbox_event_list_t      live, replay;
    inbox_campaign_new_t    n;
    inbox_realtime_state_t  state;

    static const char *const  options[] = { "Monday", "Friday" };

    FIXTURE(&f);
    memset(&live, 0, sizeof(live));
    memset(&replay, 0, sizeof(replay));

    CHECK_INT(person(&f, ALICE, NULL, NULL, alice), 0);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);
    CHECK_INT(inbox_store_org_create(f.store, "Other", NULL, other, NULL),
              INBOX_OK);

    CHECK_INT(inbox_store_realtime_state(f.store, f.org, &state, NULL),
              INBOX_OK);
    seq = state.org_seq;

    /* made: campaign.updated with the campaign as GET shows it */
    memset(&n, 0, sizeof(n));
    n.name = "Spring sale";
    n.body = "Sale!";
    n.audience_all = 1;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, &live,
                                          &err), INBOX_OK);
    snprintf(id, sizeof(id), "%s", c.id);
    snprintf(frame, sizeof(frame), "\"campaign\":{\"id\":\"%s\"", id);
    CHECK(campaign_event_is(&live, "campaign.updated", seq + 1, frame,
                            "\"kind\":\"campaign\"",
                            "\"name\":\"Spring sale\"",
                            "\"status\":\"draft\"", NULL));
    CHECK(replays_as_live(&f, seq, &live));
    inbox_event_list_free(&live);
    revision = c.revision;
    inbox_campaign_free(&c);

    /* edited */
    n.name = "Summer sale";
    CHECK_INT(inbox_store_campaign_update(f.store, f.org, id, revision, &n,
                                          &c, &live, &err), INBOX_OK);
    CHECK(campaign_event_is(&live, "campaign.updated", seq + 2, frame,
                            "\"name\":\"Summer sale\"", NULL));
    CHECK(replays_as_live(&f, seq + 1, &live));
    inbox_campaign_free(&c);
    inbox_event_list_free(&live);

    /* an edit refused (read at an older revision): none */
    CHECK_INT(inbox_store_campaign_update(f.store, f.org, id, 0, &n, &c,
                                          &live, &err), INBOX_ERR_CONFLICT);
    CHECK_INT(live.count, 0);

    /* a poll made, then deleted: campaign.deleted names it and its kind */
    memset(&n, 0, sizeof(n));
    n.kind = INBOX_CAMPAIGN_KIND_POLL;
    n.question = "Which day?";
    n.options = options;
    n.option_count = 2;
    n.audience_all = 1;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, &live,
                                          &err), INBOX_OK);
    snprintf(poll, sizeof(poll), "%s", c.id);
    inbox_campaign_free(&c);
    made = seq + 3;
    CHECK(campaign_event_is(&live, "campaign.updated", made,
                            "\"kind\":\"poll\"", NULL));
    inbox_event_list_free(&live);

    CHECK_INT(inbox_store_campaign_delete(f.store, f.org, poll,
                                          INBOX_CAMPAIGN_KIND_POLL, NOON,
                                          &live, &err), INBOX_OK);
    snprintf(frame, sizeof(frame), "\"type\":\"campaign.deleted\","
             "\"org_seq\":%lld,\"epoch\":\"%s\",\"id\":\"%s\","
             "\"kind\":\"poll\"}", (long long) (made + 1), state.epoch,
             poll);
    CHECK(campaign_event_is(&live, "campaign.deleted", made + 1, frame,
                            NULL));
    CHECK(replays_as_live(&f, made, &live));
    inbox_event_list_free(&live);

    /* the poll's campaign.updated, resumed now it is gone: its deletion,
     * at its own place in the stream (no reset) */
    CHECK_INT(since(&f, made - 1, made, 10, &replay, NULL), INBOX_OK);
    CHECK_INT(replay.count, 1);
    if (replay.count == 1) {
        CHECK_INT(replay.items[0].org_seq, made);
        CHECK(strstr(replay.items[0].json, "\"type\":\"campaign.deleted\"")
              != NULL);
        CHECK(strstr(replay.items[0].json, "\"kind\":\"poll\"") != NULL);
    }
    inbox_event_list_free(&replay);

    /* gone already: none */
    CHECK_INT(inbox_store_campaign_delete(f.store, f.org, poll,
                                          INBOX_CAMPAIGN_KIND_POLL, NOON,
                                          &live, &err), INBOX_ERR_NOT_FOUND);
    CHECK_INT(live.count, 0);

    /* sent, paused; a repeated pause is none */
    CHECK_INT(inbox_store_campaign_act(f.store, f.org, id,
                                       INBOX_CAMPAIGN_SEND, NOON, &c, &live,
                                       &err), INBOX_OK);
    inbox_campaign_free(&c);
    CHECK(campaign_event_is(&live, "campaign.updated", made + 2,
                            "\"status\":\"sending\"",
                            "\"recipients\":1,", NULL));
    CHECK(replays_as_live(&f, made + 1, &live));
    inbox_event_list_free(&live);

    CHECK_INT(inbox_store_campaign_act(f.store, f.org, id,
                                       INBOX_CAMPAIGN_PAUSE, NOON, &c, &live,
                                       &err), INBOX_OK);
    inbox_campaign_free(&c);
    CHECK(campaign_event_is(&live, "campaign.updated", made + 3,
                            "\"status\":\"paused\"",
                            "\"paused_reason\":\"manual\"", NULL));
    inbox_event_list_free(&live);

    CHECK_INT(inbox_store_campaign_act(f.store, f.org, id,
                                       INBOX_CAMPAIGN_PAUSE, NOON, &c, &live,
                                       &err), INBOX_OK);
    inbox_campaign_free(&c);
    CHECK_INT(live.count, 0);

    /* begun: its delete refused, none */
    CHECK_INT(inbox_store_campaign_delete(f.store, f.org, id,
                                          INBOX_CAMPAIGN_KIND_CAMPAIGN, NOON,
                                          &live, &err), INBOX_ERR_CONFLICT);
    CHECK_INT(live.count, 0);

    /* scheduled, moved, then cancelled before it began */
    CHECK_INT(campaign_new(&f, NULL, later), 0);
    CHECK_INT(inbox_store_campaign_get(f.store, f.org, later, &c, NULL),
              INBOX_OK);
    inbox_campaign_free(&c);
    memset(&n, 0, sizeof(n));
    n.name = "Later";
    n.body = "Later!";
    n.audience_all = 1;
    n.send_at = NOON + 24 * HOUR;
    CHECK_INT(inbox_store_campaign_update(f.store, f.org, later, 0, &n, &c,
                                          NULL, &err), INBOX_OK);
    inbox_campaign_free(&c);
    CHECK_INT(campaign_do(&f, later, INBOX_CAMPAIGN_SEND, NOON), INBOX_OK);

    CHECK_INT(inbox_store_realtime_state(f.store, f.org, &state, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_campaign_reschedule(f.store, f.org, later,
                                              INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                              NOON + 48 * HOUR, NOON, &c,
                                              &live, &err), INBOX_OK);
    inbox_campaign_free(&c);
    CHECK(campaign_event_is(&live, "campaign.updated", state.org_seq + 1,
                            "\"status\":\"scheduled\"",
                            "\"send_at\":\"2026-01-03T12:00:00", NULL));
    inbox_event_list_free(&live);

    CHECK_INT(inbox_store_campaign_act(f.store, f.org, later,
                                       INBOX_CAMPAIGN_CANCEL, NOON, &c, &live,
                                       &err), INBOX_OK);
    inbox_campaign_free(&c);
    CHECK(campaign_event_is(&live, "campaign.updated", state.org_seq + 2,
                            "\"status\":\"cancelled\"", NULL));
    inbox_event_list_free(&live);

    CHECK_INT(inbox_store_campaign_delete(f.store, f.org, later,
                                          INBOX_CAMPAIGN_KIND_CAMPAIGN, NOON,
                                          &live, &err), INBOX_OK);
    CHECK(campaign_event_is(&live, "campaign.deleted", state.org_seq + 3,
                            "\"kind\":\"campaign\"", NULL));
    inbox_event_list_free(&live);

    /* none of it in the other organization's stream */
    CHECK_INT(inbox_store_realtime_state(f.store, other, &state, NULL),
              INBOX_OK);
    CHECK_INT(state.org_seq, 0);

    fixture_close(&f);
}

/* Send again's setting: alice's and bob's texts (their threads), 10
 * credits and pat, a member, whose id is put in pat; 0 or -1. */
static int
two_threads_and_pat(fixture_t *f, inbox_ingest_result_t *alice,
    inbox_ingest_result_t *bob, char pat[INBOX_ID_MAX])
{
    inbox_error_t  err;

    if (receive(f, "SM1", ALICE, "coming?", T0, alice, NULL) != INBOX_OK
        || receive(f, "SM2", BOB, "hello", T0 + 1, bob, NULL) != INBOX_OK
        || inbox_store_credits_grant(f->store, f->org, 10, NULL) != INBOX_OK
        || inbox_store_user_add(f->store, f->org, "pat@example.com",
                                INBOX_ROLE_MEMBER, HASH_A, pat, NULL, &err)
           != INBOX_OK)
    {
        return -1;
    }

    return 0;
}


/*
 * Send again (resend.h): a person's reply that failed goes again once.
 * The send names it (resend_of); its write marks it resent_as the new
 * message, which its thread read back shows and message.updated pushes
 * (replayed as live); a second Send again of it, the same words under
 * another key, is already_sent_again naming the first, and nothing more
 * is sent or held.  A retry under the first one's key answers it as a
 * retry does.  Refused: a message of another thread or none (not found),
 * a delivered one, a campaign's, an inbound one (invalid).
 */
TEST(a_failed_reply_is_sent_again_once_whoever_presses)
{
    int                    changed;
    char                   pat[INBOX_ID_MAX], failed[INBOX_ID_MAX];
    char                   again_id[INBOX_ID_MAX], needle[128];
    int64_t                seq, now;
    fixture_t              f;
    inbox_reply_t          r;
    inbox_error_t          err;
    inbox_send_result_t    res;
    inbox_send_report_t    report;
    inbox_event_list_t     live;
    inbox_message_page_t   page;
    inbox_reply_result_t   first, again;
    inbox_ingest_result_t  alice, bob;
    const inbox_message_t *m;

    FIXTURE(&f);
    memset(&live, 0, sizeof(live));
    CHECK_INT(two_threads_and_pat(&f, &alice, &bob, pat), 0);

    reply_init(&r, alice.conversation_id, "Still coming?", 1, NULL);
    r.user_id = pat;
    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &first, NULL,
                                       &err), INBOX_OK);
    snprintf(failed, sizeof(failed), "%s", first.message.id);
    inbox_reply_result_free(&first);

    /* not failed yet: nothing to send again */
    reply_init(&r, alice.conversation_id, "Still coming?", 1, "k-early");
    r.user_id = pat;
    r.resend_of = failed;
    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &again, NULL,
                                       &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "resend_of");
    inbox_reply_result_free(&again);

    now = inbox_now_ms();
    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_ACCEPTED;
    res.carrier = INBOX_CARRIER_TWILIO;
    snprintf(res.provider_id, sizeof(res.provider_id), "SMgone");
    res.status = INBOX_DELIVERY_SENDING;
    CHECK_INT(send_one(&f, now, &res, &report, NULL), 0);
    CHECK_INT(inbox_store_message_status_update(f.store, f.org,
                  INBOX_CARRIER_TWILIO, "SMgone", INBOX_DELIVERY_UNDELIVERED,
                  "30003", &changed, NULL, NULL, &err), INBOX_OK);
    CHECK_INT(changed, 1);
    CHECK_INT(balance_of(&f, f.org), 10);

    /* named in another thread, or not at all: none there */
    reply_init(&r, bob.conversation_id, "Still coming?", 1, NULL);
    r.user_id = pat;
    r.resend_of = failed;
    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &again, NULL,
                                       &err), INBOX_ERR_NOT_FOUND);
    CHECK_STR(err.field, "resend_of");
    inbox_reply_result_free(&again);
    reply_init(&r, alice.conversation_id, "Still coming?", 1, NULL);
    r.user_id = pat;
    r.resend_of = alice.message_id;
    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &again, NULL,
                                       &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "resend_of");
    inbox_reply_result_free(&again);
    r.resend_of = "999999";
    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &again, NULL,
                                       &err), INBOX_ERR_NOT_FOUND);
    inbox_reply_result_free(&again);
    CHECK_INT(balance_of(&f, f.org), 10);

    /* the first Send again goes, and marks it, live and in the thread */
    seq = org_seq(&f, f.org);
    reply_init(&r, alice.conversation_id, "Still coming?", 1, "k-one");
    r.user_id = pat;
    r.resend_of = failed;
    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &again, &live,
                                       &err), INBOX_OK);
    snprintf(again_id, sizeof(again_id), "%s", again.message.id);
    CHECK(strcmp(again_id, failed) != 0);
    inbox_reply_result_free(&again);
    CHECK_INT(balance_of(&f, f.org), 9);
    CHECK_INT(events_of(&live, "message.created"), 1);
    CHECK_INT(events_of(&live, "message.updated"), 1);
    snprintf(needle, sizeof(needle), "\"resent_as\":\"%s\"", again_id);
    CHECK(strstr(event_frame(&live, "message.updated"), needle) != NULL);
    CHECK(strstr(event_frame(&live, "message.updated"), failed) != NULL);
    CHECK(replays_as_live(&f, seq, &live));
    inbox_event_list_free(&live);

    CHECK_INT(inbox_store_messages_list(f.store, f.org, alice.conversation_id,
                                        NULL, 0, &page, NULL), INBOX_OK);
    m = message_in(&page, failed);
    CHECK_STR(m != NULL ? m->resent_as : "", again_id);
    CHECK(m != NULL && m->resent_at > 0);
    m = message_in(&page, again_id);
    CHECK_STR(m != NULL ? m->resent_as : "?", "");
    inbox_message_page_free(&page);

    /* its retry, the same key: the same answer, nothing more */
    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &again, &live,
                                       &err), INBOX_OK);
    CHECK_INT(again.repeated, 1);
    CHECK_STR(again.message.id, again_id);
    inbox_reply_result_free(&again);

    /* a colleague's Send again of it: refused, naming the one that went */
    reply_init(&r, alice.conversation_id, "Still coming?", 1, "k-two");
    r.user_id = pat;
    r.resend_of = failed;
    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &again, &live,
                                       &err), INBOX_ERR_ALREADY_SENT_AGAIN);
    CHECK_STR(err.field, "resend_of");
    CHECK_STR(err.last_message_id, again_id);
    inbox_reply_result_free(&again);
    CHECK_INT((int) live.count, 0);
    CHECK_INT(balance_of(&f, f.org), 9);
    CHECK_INT(held_of(&f, f.org), 1);

    /* the one sent again, once delivered, is not a failure to send */
    reply_init(&r, alice.conversation_id, "Still coming?", 1, NULL);
    r.user_id = pat;
    r.resend_of = again_id;
    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &again, NULL,
                                       &err), INBOX_ERR_INVALID);
    inbox_reply_result_free(&again);

    fixture_close(&f);
}


/* A reply of pat's (NULL: an API token's) in conversation, handed to the
 * carrier as sid and moved to status with code (NULL: none); its id in
 * id, the move's frame in events (unless NULL), the org_seq before it in
 * *seq; 0 or -1. */
static int
reply_ending(fixture_t *f, const char *conversation, const char *pat,
    const char *body, const char *sid, inbox_delivery_t status,
    const char *code, char id[INBOX_ID_MAX], inbox_event_list_t *events,
    int64_t *seq)
{
    int                   changed;
    inbox_reply_t         r;
    inbox_error_t         err;
    inbox_send_result_t   res;
    inbox_send_report_t   report;
    inbox_reply_result_t  result;

    reply_init(&r, conversation, body, 1, NULL);
    r.user_id = pat;

    if (inbox_store_reply_accept(f->store, f->org, &r, &result, NULL, &err)
        != INBOX_OK)
    {
        return -1;
    }

    snprintf(id, INBOX_ID_MAX, "%s", result.message.id);
    inbox_reply_result_free(&result);

    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_ACCEPTED;
    res.carrier = INBOX_CARRIER_TWILIO;
    snprintf(res.provider_id, sizeof(res.provider_id), "%s", sid);
    res.status = INBOX_DELIVERY_SENDING;

    if (send_one(f, inbox_now_ms(), &res, &report, NULL) != 0) {
        return -1;
    }

    *seq = org_seq(f, f->org);

    if (inbox_store_message_status_update(f->store, f->org,
               INBOX_CARRIER_TWILIO, sid, status, code, &changed, NULL,
               events, &err) != INBOX_OK
        || changed != 1)
    {
        return -1;
    }

    return 0;
}


/* Whether message id of conversation, read in its thread, says it may be
 * sent again (its JSON's can_send_again): 1 or 0, -1 when not there. */
static int
says_send_again(fixture_t *f, const char *conversation, const char *id)
{
    int                     again;
    char                   *json;
    inbox_message_page_t    page;
    const inbox_message_t  *m;

    if (inbox_store_messages_list(f->store, f->org, conversation, NULL, 0,
                                  &page, NULL) != INBOX_OK)
    {
        return -1;
    }

    again = -1;
    m = message_in(&page, id);
    json = m != NULL ? inbox_render_message(m, NULL) : NULL;

    if (json != NULL && strstr(json, "\"can_send_again\":true") != NULL) {
        again = 1;
    } else if (json != NULL && strstr(json, "\"can_send_again\":false")) {
        again = 0;
    }

    free(json);
    inbox_message_page_free(&page);

    return again;
}


/*
 * A message says whether Send again may go (can_send_again), by the rule
 * a send naming it is checked by (resend.h), as every backend reads it
 * back, in the frame that moves it to failed (live and replayed: a page
 * shows the button with no read) and in message.updated once it went:
 * a person's reply that failed for a reason that may pass (the phone
 * off) says true; one the carrier says the contact opted out of, one
 * delivered, an API token's reply, one sent again and the one it went as
 * say false.
 */
TEST(a_message_says_whether_it_may_be_sent_again)
{
    char                   pat[INBOX_ID_MAX], off[INBOX_ID_MAX];
    char                   stop[INBOX_ID_MAX], got[INBOX_ID_MAX];
    char                   token[INBOX_ID_MAX], again_id[INBOX_ID_MAX];
    int64_t                seq;
    fixture_t              f;
    inbox_reply_t          r;
    inbox_error_t          err;
    inbox_event_list_t     live;
    inbox_reply_result_t   again;
    inbox_ingest_result_t  alice, bob;

    FIXTURE(&f);
    memset(&live, 0, sizeof(live));
    CHECK_INT(two_threads_and_pat(&f, &alice, &bob, pat), 0);

    /* the phone off: worth another try, said by the frame that failed it */
    CHECK_INT(reply_ending(&f, alice.conversation_id, pat, "Still coming?",
                           "SMoff", INBOX_DELIVERY_UNDELIVERED, "30003", off,
                           &live, &seq), 0);
    CHECK(framed_with(&live, "message.status", "\"can_send_again\":true"));
    CHECK(replays_as_live(&f, seq, &live));
    inbox_event_list_free(&live);
    CHECK_INT(says_send_again(&f, alice.conversation_id, off), 1);

    /* delivered, or an API token's failed reply: no */
    CHECK_INT(reply_ending(&f, alice.conversation_id, pat, "Here now",
                           "SMgot", INBOX_DELIVERY_DELIVERED, NULL, got,
                           NULL, &seq), 0);
    CHECK_INT(says_send_again(&f, alice.conversation_id, got), 0);
    CHECK_INT(reply_ending(&f, alice.conversation_id, NULL, "Automated",
                           "SMtoken", INBOX_DELIVERY_FAILED, "30003", token,
                           NULL, &seq), 0);
    CHECK_INT(says_send_again(&f, alice.conversation_id, token), 0);

    /* opted out at the carrier: another try cannot mend it */
    CHECK_INT(reply_ending(&f, bob.conversation_id, pat, "See you",
                           "SMstop", INBOX_DELIVERY_FAILED, "21610", stop,
                           &live, &seq), 0);
    CHECK(framed_with(&live, "message.status", "\"can_send_again\":false"));
    CHECK(replays_as_live(&f, seq, &live));
    inbox_event_list_free(&live);
    CHECK_INT(says_send_again(&f, bob.conversation_id, stop), 0);

    /* sent again: neither it nor the one it went as, its frame says so */
    reply_init(&r, alice.conversation_id, "Still coming?", 1, "k-again");
    r.user_id = pat;
    r.resend_of = off;
    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &again, &live,
                                       &err), INBOX_OK);
    snprintf(again_id, sizeof(again_id), "%s", again.message.id);
    inbox_reply_result_free(&again);
    CHECK(framed_with(&live, "message.updated", "\"can_send_again\":false"));
    CHECK(!framed_with(&live, "message.updated", "\"can_send_again\":true"));
    inbox_event_list_free(&live);
    CHECK_INT(says_send_again(&f, alice.conversation_id, off), 0);
    CHECK_INT(says_send_again(&f, alice.conversation_id, again_id), 0);

    fixture_close(&f);
}


/*
 * A campaign paused for its number's account names the number the
 * carrier refused and the carrier's code (Twilio 21606: the From number
 * not the account's), in its JSON and its campaign.progress frame, so
 * that a person knows which number to fix; once resumed, neither.
 */
TEST(a_campaign_paused_for_its_numbers_account_names_the_number)
{
    char                   id[INBOX_ID_MAX], number[48], *json;
    fixture_t              f;
    inbox_campaign_t       c;
    inbox_event_list_t     live;
    inbox_send_result_t    res;
    inbox_send_report_t    report;
    inbox_outbox_batch_t   batch;

    FIXTURE(&f);
    memset(&live, 0, sizeof(live));
    campaign_in_outbox(&f, id);
    CHECK_INT(claim(&f, NOON, 1, &batch), 1);

    if (batch.count != 1) {
        inbox_outbox_batch_free(&batch);
        fixture_close(&f);
        return;
    }

    CHECK(batch.items[0].number.e164[0] != '\0');
    snprintf(number, sizeof(number), "\"paused_number\":\"%s\"",
             batch.items[0].number.e164);

    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_RELEASED;
    res.carrier = INBOX_CARRIER_TWILIO;
    res.account = 1;
    snprintf(res.error_code, sizeof(res.error_code), "21606");
    snprintf(res.message, sizeof(res.message), "The From phone number is "
             "not a valid, SMS-capable inbound phone number");
    CHECK_INT(inbox_store_outbox_result(f.store, batch.items[0].id,
                                        batch.items[0].attempt, &res,
                                        NOON + 1, &report, NULL, NULL),
              INBOX_OK);
    inbox_outbox_batch_free(&batch);

    CHECK_INT(inbox_store_campaign_progress(f.store, f.org, id, NOON + 2,
                                            NULL, &live, NULL), INBOX_OK);
    CHECK(framed_with(&live, "campaign.progress", number));
    CHECK(framed_with(&live, "campaign.progress",
                      "\"paused_error_code\":\"21606\""));
    inbox_event_list_free(&live);

    CHECK_INT(inbox_store_campaign_get(f.store, f.org, id, &c, NULL),
              INBOX_OK);
    json = inbox_render_campaign(&c, NULL);
    CHECK(json != NULL && strstr(json, number) != NULL);
    CHECK(json != NULL
          && strstr(json, "\"paused_number_display\":\"") != NULL);
    CHECK(json != NULL
          && strstr(json, "\"paused_error_code\":\"21606\"") != NULL);
    free(json);
    inbox_campaign_free(&c);

    /* resumed (the number fixed): it names none */
    CHECK_INT(campaign_do(&f, id, INBOX_CAMPAIGN_RESUME, NOON + MINUTE),
              INBOX_OK);
    CHECK_INT(inbox_store_campaign_get(f.store, f.org, id, &c, NULL),
              INBOX_OK);
    json = inbox_render_campaign(&c, NULL);
    CHECK(json != NULL && strstr(json, "\"paused_number\":null") != NULL);
    CHECK(json != NULL
          && strstr(json, "\"paused_number_display\":null") != NULL);
    CHECK(json != NULL
          && strstr(json, "\"paused_error_code\":null") != NULL);
    free(json);
    inbox_campaign_free(&c);

    fixture_close(&f);
}


int
main(void)
{
    int                      i, passed, failed;
    size_t                   b;
    const char              *uri;

    static const backend_t  *backends[] = { &sqlite_backend, &mongo_backend };

    passed = 0;
    failed = 0;
    uri = getenv("INBOX_TEST_MONGO_URI");

    for (b = 0; b < sizeof(backends) / sizeof(backends[0]); b++) {
        backend = backends[b];

        if (backend == &mongo_backend && (uri == NULL || uri[0] == '\0')) {
            printf("# mongodb: skipped, no server named (set "
                   "INBOX_TEST_MONGO_URI=mongodb://HOST:PORT to run the "
                   "contract against one)\n");
            continue;
        }

        for (i = 0; i < check_ntests; i++) {
            check_failed_now = 0;
            check_tests[i].fn();

            if (check_failed_now) {
                failed++;
                printf("not ok - %s: %s\n", backend->name,
                       check_tests[i].name);
            } else {
                passed++;
                printf("ok - %s: %s\n", backend->name, check_tests[i].name);
            }
        }
    }

    printf("# %d passed, %d failed\n", passed, failed);

    return failed ? 1 : 0;
}
