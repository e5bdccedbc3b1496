/*
 * What only the SQLite store does: its file (made, moved, replaced, put
 * back), migrations, modes, threads and processes sharing it, and what
 * its rows hold.  Each test opens a fresh database file under /tmp
 * ("sqlite:PATH") and removes it (with its -wal, -shm and -writer)
 * afterwards.  The behaviour every backend shares is the contract's
 * (test_store_contract.c).
 */
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include <inbox/clock.h>
#include <inbox/store.h>
#include "store_sqlite.h"
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
    int       rc, n;
    char      sql[32768];
    va_list   args;
    sqlite3  *db;

    va_start(args, fmt);
    n = vsnprintf(sql, sizeof(sql), fmt, args);
    va_end(args);

    /* never a statement cut short */
    if (n < 0 || (size_t) n >= sizeof(sql)) {
        return SQLITE_TOOBIG;
    }

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


static int64_t
monotonic_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/* Tokens */

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
                                       NULL, NULL), INBOX_OK);
    CHECK_INT(inbox_store_token_find(f.store, "old", &who, NULL),
              INBOX_ERR_UNAUTHENTICATED);

    fixture_close(&f);
}


/* Concurrency */

/* The events of a writer's messages: each one's three, and the contact
 * its first made. */
#define WRITER_EVENTS  (WRITERS_MESSAGES * 3 + 1)

typedef struct {
    fixture_t   *f;
    const char  *from;
    int          failures;
    int64_t      seqs[WRITER_EVENTS];
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

        for (j = 0; j < events.count && w->nseqs < WRITER_EVENTS; j++) {
            w->seqs[w->nseqs++] = events.items[j].org_seq;
        }

        inbox_event_list_free(&events);
    }

    return NULL;
}


TEST(two_threads_sharing_a_store_both_store_everything)
{
    int        seen[WRITER_EVENTS * 2 + 1];
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
            if (seq >= 1 && seq <= WRITER_EVENTS * 2) {
                seen[seq]++;
            }
        }
    }

    /* every org_seq handed out once, none skipped */
    for (i = 1; i <= WRITER_EVENTS * 2; i++) {
        CHECK_INT(seen[i], 1);
    }

    CHECK_INT(org_seq(&f, f.org), WRITER_EVENTS * 2);

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
    CHECK_INT(org_seq(&f, f.org), WRITER_EVENTS * 2);

    fixture_close(&f);
}


/* what nginx -t asks before any request: the URI's form, and the SQLite
 * file's path within it, to put under nginx's prefix when relative */
TEST(a_store_uri_is_checked_without_opening_anything)
{
    const char     *uri, *file;
    inbox_error_t   err;

    uri = "sqlite:var/inbox.db?synchronous=normal";
    CHECK_INT(inbox_store_uri_check(uri, &file, &err), INBOX_OK);
    CHECK(file == uri + sizeof("sqlite:") - 1);

    CHECK_INT(inbox_store_uri_check("mongodb://db.example/inbox", &file,
                                    &err), INBOX_OK);
    CHECK(file == NULL);
    CHECK_INT(inbox_store_uri_check("mongodb+srv://db.example/inbox", NULL,
                                    &err), INBOX_OK);

    CHECK_INT(inbox_store_uri_check("/srv/inbox.db", &file, &err),
              INBOX_ERR_INVALID);
    CHECK(file == NULL);
    CHECK(strstr(err.message, "Unknown store URI \"/srv/inbox.db\"")
          != NULL);
    CHECK_INT(inbox_store_uri_check("mysql://db/inbox", NULL, &err),
              INBOX_ERR_INVALID);
    CHECK_INT(inbox_store_uri_check("sqlite:", NULL, &err),
              INBOX_ERR_INVALID);
    CHECK(strstr(err.message, "needs a file path") != NULL);
    /* the file and its option are checked too, not at the first open */
    CHECK_INT(inbox_store_uri_check("sqlite:?synchronous=full", NULL, &err),
              INBOX_ERR_INVALID);
    CHECK(strstr(err.message, "needs a file path") != NULL);
    CHECK_INT(inbox_store_uri_check("sqlite:inbox.db?sync=full", &file,
                                    &err), INBOX_ERR_INVALID);
    CHECK(file == NULL);
    CHECK(strstr(err.message, "Unknown SQLite store option \"sync=full\"")
          != NULL);
    CHECK_INT(inbox_store_uri_check("sqlite:inbox.db?synchronous=full",
                                    NULL, &err), INBOX_OK);
    CHECK_INT(inbox_store_uri_check("", NULL, &err), INBOX_ERR_INVALID);
}


/* what the sender, ws-server, inboxctl and nginx log of a store URI: its
 * password never */
TEST(a_store_uri_is_logged_without_its_password)
{
    char           buf[INBOX_STORE_URI_LOG_MAX], tiny[16];
    inbox_error_t  err;

    CHECK_STR(inbox_store_uri_redacted("mongodb://inbox:s3cret@db1:27017,"
                                       "db2/inbox?replicaSet=rs0", buf,
                                       sizeof(buf)),
              "mongodb://inbox:***@db1:27017,db2/inbox?replicaSet=rs0");
    CHECK_STR(inbox_store_uri_redacted("mongodb+srv://u:p%40ss@cluster.x/"
                                       "inbox", buf, sizeof(buf)),
              "mongodb+srv://u:***@cluster.x/inbox");
    /* a raw "@" in the password: none of it shows */
    CHECK_STR(inbox_store_uri_redacted("mongodb://u:a@b:c@db/inbox", buf,
                                       sizeof(buf)),
              "mongodb://u:***@db/inbox");
    /* an "@" past the hosts is not a password's end */
    CHECK_STR(inbox_store_uri_redacted("mongodb://db:27017/inbox?"
                                       "authSource=a@b", buf, sizeof(buf)),
              "mongodb://db:27017/inbox?authSource=a@b");
    CHECK_STR(inbox_store_uri_redacted("mongodb://user@db/inbox", buf,
                                       sizeof(buf)),
              "mongodb://user@db/inbox");
    CHECK_STR(inbox_store_uri_redacted("sqlite:/srv/inbox/var/inbox.db",
                                       buf, sizeof(buf)),
              "sqlite:/srv/inbox/var/inbox.db");
    CHECK_STR(inbox_store_uri_redacted("mongodb://u:secret@db/inbox", tiny,
                                       sizeof(tiny)),
              "mongodb://u:***");

    /* nor in the error of a URI of no known store */
    CHECK_INT(inbox_store_uri_check("mongo://u:secret@db/inbox", NULL,
                                    &err), INBOX_ERR_INVALID);
    CHECK(strstr(err.message, "\"mongo://u:***@db/inbox\"") != NULL);
    CHECK(strstr(err.message, "secret") == NULL);
}


/* The open of path, in a process of the user uid when this one is root
 * (else as this one), checked to fail saying why (reason, or else_reason
 * unless NULL) and for which user: 0 when it does. */
static int
open_refused_for(const char *path, uid_t uid, const char *reason,
    const char *else_reason)
{
    int             status;
    char            uri[192], user[32];
    pid_t           child;
    inbox_error_t   err;
    inbox_store_t  *store;

    snprintf(uri, sizeof(uri), "sqlite:%s", path);

    fflush(NULL);
    child = fork();

    if (child == 0) {
        if (geteuid() == 0 && (setgid(uid) != 0 || setuid(uid) != 0)) {
            _exit(2);
        }

        snprintf(user, sizeof(user), "uid %lu", (unsigned long) geteuid());
        store = inbox_store_open(uri, &err);

        if (store != NULL) {
            inbox_store_close(store);
            _exit(3);
        }

        if ((strstr(err.message, reason) == NULL
             && (else_reason == NULL
                 || strstr(err.message, else_reason) == NULL))
            || strstr(err.message, "must be readable and writable by this "
                      "process's user, ") == NULL
            || strstr(err.message, user) == NULL)
        {
            fprintf(stderr, "    %s\n", err.message);
            _exit(4);
        }

        _exit(0);
    }

    if (child < 0 || waitpid(child, &status, 0) != child) {
        return -1;
    }

    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}


/* what an operator reads when the system refuses the store's file: the
 * system's reason, and which user this process is, not only SQLite's
 * "unable to open database file" */
TEST(a_store_the_system_refuses_says_why_and_for_which_user)
{
    int             fd;
    char            dir[64], path[128];
    uid_t           nobody;
    inbox_store_t  *store;

    snprintf(dir, sizeof(dir), "/tmp/inbox-test-perm-%ld", (long) getpid());
    CHECK_INT(mkdir(dir, 0755), 0);

    /* a path under a file: refused to root too */
    snprintf(path, sizeof(path), "%s/plain", dir);
    fd = open(path, O_WRONLY | O_CREAT, 0644);
    CHECK(fd >= 0);
    close(fd);
    snprintf(path, sizeof(path), "%s/plain/inbox.db", dir);
    CHECK_INT(open_refused_for(path, geteuid(), "unable to open database "
                               "file (Not a directory)", NULL), 0);

    /* a directory the user may not write: no -wal or -shm beside the
     * file, which anyone may write; as nobody when this is root.  SQLite
     * says why itself (no -shm, so read-only), or the system does. */
    nobody = geteuid() == 0 ? 65534 : geteuid();
    snprintf(path, sizeof(path), "%s/inbox.db", dir);
    store = store_open(path);
    CHECK(store != NULL);
    inbox_store_close(store);
    CHECK_INT(chmod(path, 0666), 0);
    CHECK_INT(chmod(dir, 0555), 0);
    CHECK_INT(open_refused_for(path, nobody, "attempt to write a readonly "
                               "database", "(Permission denied)"), 0);

    CHECK_INT(chmod(dir, 0755), 0);
    db_remove(path);
    snprintf(path, sizeof(path), "%s/plain", dir);
    unlink(path);
    CHECK_INT(rmdir(dir), 0);
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
    CHECK_INT(org_seq(&f, f.org), 4);

    /* a retry after the restart is still a duplicate; the stream goes on */
    CHECK_INT(receive(&f, "SM1", ALICE, "before", T0, &again, &events),
              INBOX_OK);
    CHECK_INT(again.duplicate, 1);
    CHECK_STR(again.message_id, r.message_id);

    CHECK_INT(receive(&f, "SM2", ALICE, "after", T0 + 1, &again, &events),
              INBOX_OK);
    CHECK_INT(events.count, 3);
    if (events.count == 3) {
        CHECK_INT(events.items[0].org_seq, 5);
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
    inbox_media_fetch_list_t  media;

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

    /* the fetcher's claim gives up alike, leaving the caller nothing to
     * free (the sender frees no list a claim refused) */
    memset(&media, 0, sizeof(media));
    CHECK_INT(inbox_store_media_fetch_claim(f.store, T0, 4, &media, &err),
              INBOX_ERR_UNAVAILABLE);
    CHECK_INT(media.count, 0);
    CHECK(media.items == NULL);

    sqlite3_exec(blocker, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(blocker);

    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, NULL), 0);
    CHECK_INT(org_seq(&f, f.org), 0);

    /* the carrier's retry: the message, and the contact it made (the
     * attempt that failed made none) */
    CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, &r, &events), INBOX_OK);
    CHECK_INT(r.status, INBOX_OK);
    CHECK_INT(r.duplicate, 0);
    CHECK_INT(events.count, 4);
    CHECK_INT(message_count(&f, r.conversation_id), 1);

    inbox_event_list_free(&events);
    fixture_close(&f);
}


/*
 * A process that opens the store at path, begins a write transaction and
 * stops (SIGSTOP) inside it, holding the writers' queue as ^Z on inboxctl
 * would; its pid once it holds it, or -1.  SIGKILL ends it.
 */
static pid_t
writer_stopped(const char *path)
{
    int                   ready[2];
    char                  c;
    pid_t                 pid;
    inbox_error_t         err;
    inbox_store_t        *store;
    inbox_sqlite_conn_t  *conn;

    if (pipe(ready) != 0) {
        return -1;
    }

    pid = fork();
    if (pid == 0) {
        store = store_open(path);
        conn = store != NULL ? inbox_sqlite_begin_write(store, &err) : NULL;
        c = conn != NULL ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1) {
            _exit(1);
        }
        raise(SIGSTOP);
        _exit(0);
    }

    if (pid > 0 && (read(ready[0], &c, 1) != 1 || c != 'y')) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        pid = -1;
    }

    close(ready[0]);
    close(ready[1]);

    return pid;
}


/*
 * A writer of another process stopped inside its transaction (^Z on
 * inboxctl, a debugger, a paused container) holds the writers' queue: a
 * writer here gives up after the busy timeout, as behind SQLite's own
 * lock, instead of waiting for good; killed, it leaves the queue to the
 * next writer at once.
 */
TEST(a_stopped_writer_elsewhere_costs_a_busy_timeout_and_a_dead_one_nothing)
{
    pid_t                  pid;
    int64_t                started;
    fixture_t              f;
    inbox_error_t          err;
    inbox_sqlite_conn_t   *conn;

    FIXTURE(&f);

    pid = writer_stopped(f.path);
    CHECK(pid > 0);

    started = monotonic_ms();
    inbox_error_clear(&err);
    conn = inbox_sqlite_begin_write(f.store, &err);
    CHECK(conn == NULL);
    CHECK_INT(err.code, INBOX_ERR_UNAVAILABLE);
    CHECK(monotonic_ms() - started < 30000);

    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);

    conn = inbox_sqlite_begin_write(f.store, &err);
    CHECK(conn != NULL);
    if (conn != NULL) {
        inbox_sqlite_rollback(conn);
    }

    fixture_close(&f);
}


/*
 * The writers' queue lives in PATH-writer: a copy of it taken while a
 * writer held it (a backup of the store's files, with the writer still
 * in its transaction) must not hold off every writer of the store it is
 * restored to.
 */
TEST(a_writers_queue_copied_while_held_holds_nobody_off)
{
    char                   name[200], copy[160];
    pid_t                  pid;
    FILE                  *in, *out;
    size_t                 n;
    char                   buf[4096];
    fixture_t              f;
    inbox_error_t          err;
    inbox_store_t         *other;
    inbox_sqlite_conn_t   *conn;

    FIXTURE(&f);

    pid = writer_stopped(f.path);
    CHECK(pid > 0);

    /* the queue, held, copied beside a new store's path */
    snprintf(copy, sizeof(copy), "%s-restored", f.path);
    db_remove(copy);
    snprintf(name, sizeof(name), "%s-writer", f.path);
    in = fopen(name, "rb");
    snprintf(name, sizeof(name), "%s-writer", copy);
    out = fopen(name, "wb");
    CHECK(in != NULL && out != NULL);
    while (in != NULL && out != NULL
           && (n = fread(buf, 1, sizeof(buf), in)) > 0)
    {
        CHECK_INT(fwrite(buf, 1, n, out), n);
    }
    if (in != NULL) {
        fclose(in);
    }
    if (out != NULL) {
        fclose(out);
    }

    /* making the store writes at once, not after a busy timeout */
    other = store_open(copy);
    CHECK(other != NULL);
    if (other != NULL) {
        conn = inbox_sqlite_begin_write(other, &err);
        CHECK(conn != NULL);
        if (conn != NULL) {
            inbox_sqlite_rollback(conn);
        }
        inbox_store_close(other);
    }

    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);

    db_remove(copy);
    fixture_close(&f);
}


/*
 * A constraint other than UNIQUE or a foreign key refusing a write (a
 * CHECK, NOT NULL, a trigger: here a trigger, as a bug would) is ours, not
 * the client's: internal, with SQLite's words for the log; it was a 400
 * invalid_request that showed them to the client.
 */
TEST(a_constraint_a_client_cannot_break_is_an_internal_error)
{
    fixture_t               f;
    inbox_error_t           err;
    inbox_contact_edit_t    edit;
    inbox_contact_record_t  c;

    FIXTURE(&f);
    memset(&edit, 0, sizeof(edit));
    memset(&c, 0, sizeof(c));

    CHECK_INT(db_exec(&f, "CREATE TRIGGER zz_refuse BEFORE INSERT ON"
                      " contacts BEGIN SELECT RAISE(ABORT, 'contacts.phone"
                      " refused'); END;"), SQLITE_OK);

    CHECK_INT(inbox_store_contact_create(f.store, f.org, ALICE, &edit, &c, NULL,
                                         &err), INBOX_ERR_INTERNAL);
    CHECK_INT(err.code, INBOX_ERR_INTERNAL);
    CHECK(strstr(err.message, "the phone number") != NULL);
    CHECK(strstr(err.message, "contacts.phone refused") != NULL);
    inbox_contact_record_free(&c);

    fixture_close(&f);
}


/*
 * A batch of results runs without a savepoint per record; a record
 * refused after it wrote sends the batch round again with one each, so
 * that record alone is undone.  (Here the refusal after a write is made
 * by hand: an outbox entry that names another organization than its
 * message's, found only after the retry moved the entry.)
 */
/*
 * A keyword's answer is stored with its message, or neither is: a failure
 * queuing it (a trigger refusing the outbox insert, as a locked or full
 * database would) fails that message alone, its contact's opt-out and
 * events undone with it, so the webhook is not acknowledged; the
 * carrier's retry stores the message and its answer, once.
 */
TEST(a_keyword_whose_answer_fails_is_not_stored_and_its_retry_stores_both)
{
    fixture_t              f;
    inbound_t              m[2];
    inbox_inbound_t        msgs[2];
    inbox_event_list_t     events;
    inbox_ingest_result_t  r[2];

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    CHECK_INT(db_exec(&f, "CREATE TRIGGER zz_fail BEFORE INSERT ON outbox"
                      " BEGIN SELECT RAISE(ABORT, 'injected: database is"
                      " locked'); END;"), SQLITE_OK);

    inbound_init(&m[0], "SM1", ALICE, NUMBER, "hello", T0);
    inbound_init(&m[1], "SM2", BOB, NUMBER, "STOP", T0 + 1);
    msgs[0] = m[0].in;
    msgs[1] = m[1].in;

    CHECK_INT(inbox_store_inbound_ingest(f.store, msgs, 2, r, &events, NULL),
              INBOX_OK);
    CHECK_INT(r[0].status, INBOX_OK);
    CHECK(r[1].status != INBOX_OK);
    CHECK_INT(r[1].answered, 0);

    /* the other message is stored; of the STOP nothing is */
    CHECK_INT(db_int(&f, "SELECT count(*) FROM messages"), 1);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM contacts WHERE opted_out"),
              0);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM contact_events"), 0);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM contacts"), 1);
    /* the message's three, and the contact it made */
    CHECK_INT(events.count, 4);
    CHECK_INT(db_int(&f, "SELECT seq FROM orgs WHERE name = 'Acme'"), 4);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM events"), 4);
    inbox_event_list_free(&events);

    /* the carrier's retry, the database well again: both, once */
    CHECK_INT(db_exec(&f, "DROP TRIGGER zz_fail;"), SQLITE_OK);

    CHECK_INT(inbox_store_inbound_ingest(f.store, &msgs[1], 1, r, &events,
                                         NULL), INBOX_OK);
    CHECK_INT(r[0].status, INBOX_OK);
    CHECK_INT(r[0].duplicate, 0);
    CHECK_INT(r[0].opt_changed, 1);
    CHECK_INT(r[0].answered, 1);
    /* the message's three, one contact.updated for the contact it made
     * opted out, the answer's two */
    CHECK_INT(events.count, 6);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM events"
                         " WHERE type = 'contact.updated'"), 2);
    inbox_event_list_free(&events);

    CHECK_INT(inbox_store_inbound_ingest(f.store, &msgs[1], 1, r, &events,
                                         NULL), INBOX_OK);
    CHECK_INT(r[0].duplicate, 1);
    CHECK_INT(r[0].answered, 0);
    CHECK_INT(events.count, 0);

    CHECK_INT(db_int(&f, "SELECT count(*) FROM messages"
                         " WHERE direction = 'outbound'"), 1);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM outbox"), 1);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM contacts WHERE opted_out"),
              1);
    CHECK_INT(db_int(&f, "SELECT seq FROM orgs WHERE name = 'Acme'"), 10);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM events"), 10);

    fixture_close(&f);
}


TEST(a_result_refused_after_it_wrote_is_undone_alone_in_its_batch)
{
    size_t                 i;
    char                   other[INBOX_ID_MAX], sql[256], body[16];
    int64_t                now;
    fixture_t              f;
    inbox_error_t          err;
    inbox_reply_t          r;
    inbox_event_list_t     events;
    inbox_reply_result_t   replies[3];
    inbox_ingest_result_t  alice;
    inbox_outbox_batch_t   batch;
    inbox_outbox_record_t  rec[3];

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));
    memset(rec, 0, sizeof(rec));
    memset(&batch, 0, sizeof(batch));

    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);
    CHECK_INT(receive(&f, "SM1", ALICE, "hi", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 3, NULL), INBOX_OK);

    for (i = 0; i < 3; i++) {
        snprintf(body, sizeof(body), "reply %zu", i);
        memset(&r, 0, sizeof(r));
        r.conversation_id = alice.conversation_id;
        r.body = body;
        r.segments = 1;
        r.credits = 1;
        CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &replies[i],
                                           NULL, NULL), INBOX_OK);
    }

    now = inbox_now_ms();
    CHECK_INT(inbox_store_outbox_claim(f.store, now, now, 10, 0,
                                       INBOX_OUTBOX_BULK, NULL, &batch, &err),
              INBOX_OK);
    CHECK_INT(batch.count, 3);
    if (batch.count != 3) {
        goto done;
    }

    snprintf(sql, sizeof(sql), "UPDATE outbox SET org_id = %s WHERE id = %s",
             other, batch.items[1].id);
    CHECK_INT(db_exec(&f, "%s", sql), SQLITE_OK);

    for (i = 0; i < 3; i++) {
        rec[i].entry_id = batch.items[i].id;
        rec[i].attempt = batch.items[i].attempt;
        rec[i].result.outcome = INBOX_SEND_RETRY;
    }

    rec[2].result.outcome = INBOX_SEND_ACCEPTED;
    rec[2].result.carrier = INBOX_CARRIER_TWILIO;
    snprintf(rec[2].result.provider_id, sizeof(rec[2].result.provider_id),
             "SMundone");
    rec[2].result.status = INBOX_DELIVERY_SENT;

    CHECK_INT(inbox_store_outbox_results(f.store, rec, 3, now, &events,
                                         &err), INBOX_OK);
    CHECK_INT(rec[0].status, INBOX_OK);
    CHECK_INT(rec[1].status, INBOX_ERR_NOT_FOUND);
    CHECK_INT(rec[2].status, INBOX_OK);
    CHECK_INT(rec[2].report.status, INBOX_DELIVERY_SENT);
    CHECK_INT(events.count, 1);

    /* the retry of 0 stored, that of 1 undone: still leased */
    snprintf(sql, sizeof(sql), "SELECT lease_until IS NULL FROM outbox"
             " WHERE id = %s", batch.items[0].id);
    CHECK_INT(db_int(&f, sql), 1);
    snprintf(sql, sizeof(sql), "SELECT lease_until IS NULL FROM outbox"
             " WHERE id = %s", batch.items[1].id);
    CHECK_INT(db_int(&f, sql), 0);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM outbox WHERE id = %s",
             batch.items[2].id);
    CHECK_INT(db_int(&f, sql), 0);

done:

    inbox_outbox_batch_free(&batch);

    for (i = 0; i < 3; i++) {
        inbox_reply_result_free(&replies[i]);
    }

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

/*
 * Ingest writes no search index: a new contact is only noted as pending
 * (a new FTS5 segment every batch slowed ingest by a third); maintenance
 * indexes the pending ones in one go and clears the note.  A rename is
 * taken out of the index and noted again.
 */
TEST(new_contacts_are_indexed_by_maintenance)
{
    char       id[INBOX_ID_MAX];
    fixture_t  f;

#define INDEXED(text)                                                       \
    "SELECT count(*) FROM contacts_search WHERE contacts_search"            \
    " MATCH 'name : \"" text "\" OR digits : \"" text "\"'"

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, NULL, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "hi", T0 + 1, NULL, NULL), INBOX_OK);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM contacts_search_pending"), 2);
    CHECK_INT(db_int(&f, INDEXED("555")), 0);

    CHECK_INT(inbox_store_maintain(f.store, NULL), INBOX_OK);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM contacts_search_pending"), 0);
    CHECK_INT(db_int(&f, INDEXED("555")), 2);

    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, ALICE, "Alice Walker",
                                         id, NULL), INBOX_OK);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM contacts_search_pending"), 1);
    CHECK_INT(db_int(&f, INDEXED("555")), 1);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "walker"), 1);

    CHECK_INT(inbox_store_maintain(f.store, NULL), INBOX_OK);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM contacts_search_pending"), 0);
    CHECK_INT(db_int(&f, INDEXED("walker")), 1);
    CHECK_INT(db_int(&f, INDEXED("555")), 2);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "walker"), 1);

#undef INDEXED

    fixture_close(&f);
}


/* An import of many (inboxctl's, the API's) is indexed in batches, each
 * its own write transaction, until none is left pending. */
TEST(many_new_contacts_are_all_indexed_by_one_maintenance)
{
    fixture_t  f;

    FIXTURE(&f);

    CHECK_INT(db_exec(&f,
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
        "  WHERE i < 4500)"
        " INSERT INTO contacts (org_id, phone, created_at)"
        "  SELECT %s, printf('+1444%%07d', i), 0 FROM n;", f.org),
        SQLITE_OK);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM contacts_search_pending"),
              4500);

    CHECK_INT(inbox_store_maintain(f.store, NULL), INBOX_OK);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM contacts_search_pending"), 0);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM contacts_search WHERE"
                         " contacts_search MATCH 'digits : \"1444\"'"),
              4500);

    fixture_close(&f);
}


/* The contacts an organization counts it has (migration 44). */
static int64_t
contacts_counted(const fixture_t *f, const char *org)
{
    char  sql[128];

    snprintf(sql, sizeof(sql),
             "SELECT count_contacts FROM orgs WHERE id = %s", org);

    return db_int(f, sql);
}


/*
 * A tag of a few among many contacts imported and never written to (no
 * thread in any tab) is found on the first page: the organization's own
 * count of its contacts plans the list, where the tabs' counts, which
 * leave such threads out, had it scan 20,000 of the newest a page and
 * answer empty pages first.
 */
TEST(a_tag_of_a_few_among_many_imported_contacts_is_found_at_once)
{
    fixture_t              f;
    inbox_contact_page_t   page;
    inbox_contact_query_t  q;

    FIXTURE(&f);

    CHECK_INT(db_exec(&f,
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
        "  WHERE i < 30000)"
        " INSERT INTO contacts (org_id, phone, created_at)"
        "  SELECT %s, printf('+1444%%07d', i), i FROM n;", f.org),
        SQLITE_OK);
    /* the 1,200 oldest tagged: more than a list it thought empty would
     * collect (1,000), fewer than one of 30,000 does */
    CHECK_INT(db_exec(&f,
        "INSERT INTO contact_tags (contact_id, org_id, tag)"
        " SELECT id, org_id, 'vip' FROM contacts WHERE created_at <= 1200"),
        SQLITE_OK);
    CHECK_INT(contacts_counted(&f, f.org), 30000);

    memset(&q, 0, sizeof(q));
    q.tag = "vip";
    q.limit = 50;
    memset(&page, 0, sizeof(page));
    CHECK_INT(inbox_store_contacts_list(f.store, f.org, &q, &page, NULL),
              INBOX_OK);
    CHECK_INT(page.count, 50);
    if (page.count > 0) {
        CHECK_STR(page.items[0].phone, "+14440001200");
    }
    inbox_contact_page_free(&page);

    fixture_close(&f);
}


/* Actions on a thread: what the rows hold (the behaviour itself is the
 * contract's, test_store_contract.c) */

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


TEST(an_action_stores_its_events_as_references_and_a_read_its_time)
{
    fixture_t              f;
    inbox_event_list_t     events;
    inbox_ingest_result_t  alice;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));

    CHECK_INT(receive(&f, "SM1", ALICE, "one", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(db_exec(&f, "UPDATE conversations SET last_read_at = 7"),
              SQLITE_OK);

    /* the contact the message made: its thread's reference */
    CHECK_INT(db_int(&f, "SELECT count(*) FROM events WHERE seq = 4"
                         " AND type = 'contact.updated'"
                         " AND conversation_id IS NOT NULL"
                         " AND message_id IS NULL AND unread_total IS NULL"),
              1);

    /* starring is no read */
    CHECK_INT(act(&f, alice.conversation_id, INBOX_ACTION_STAR, &events),
              INBOX_OK);
    CHECK_INT(db_int(&f, "SELECT last_read_at FROM conversations"), 7);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM events WHERE seq = 5"
                         " AND type = 'conversation.updated'"
                         " AND conversation_id IS NOT NULL"
                         " AND message_id IS NULL AND unread_total IS NULL"),
              1);

    /* reading is, now by the wall clock */
    CHECK_INT(act(&f, alice.conversation_id, INBOX_ACTION_READ, &events),
              INBOX_OK);
    CHECK(db_int(&f, "SELECT last_read_at FROM conversations")
          >= (int64_t) (time(NULL) - 60) * 1000);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM events WHERE seq = 7"
                         " AND type = 'unread.total' AND unread_total = 0"
                         " AND conversation_id IS NULL"), 1);
    CHECK_INT(db_int(&f, "SELECT unread_total FROM orgs"), 0);

    /* reading again writes nothing, not even a new time */
    CHECK_INT(db_exec(&f, "UPDATE conversations SET last_read_at = 7"),
              SQLITE_OK);
    CHECK_INT(act(&f, alice.conversation_id, INBOX_ACTION_READ, &events),
              INBOX_OK);
    CHECK_INT(db_int(&f, "SELECT last_read_at FROM conversations"), 7);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM events"), 7);
    CHECK_INT(events.count, 3);

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

    /* live delivery is unchanged: the frame has the message (then the
     * contact it made) */
    CHECK_INT(events.count, 4);
    if (events.count == 4) {
        CHECK(strstr(events.items[0].json, body) != NULL);
    }

    CHECK_INT(db_int(&f, "SELECT count(*) FROM events"), 4);
    bytes = events_bytes(&f, "LONGBODY", &rows_with);
    CHECK(bytes > 0 && bytes < 4 * 100);
    CHECK_INT(rows_with, 0);

    /* what a resume renders from */
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE seq = 1"
             " AND type = 'message.created' AND message_id = %s"
             " AND conversation_id = %s", r.message_id, r.conversation_id);
    CHECK_INT(db_int(&f, sql), 1);
    CHECK_INT(db_int(&f, "SELECT unread_total FROM events WHERE seq = 3"), 1);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM events e JOIN orgs o"
                         " ON o.id = e.org_id WHERE e.epoch = o.epoch"), 4);

    inbox_event_list_free(&events);
    fixture_close(&f);
}


/*
 * A store from before compact events (schema 3, frames in events.payload)
 * keeps its stream: migration 4 keeps each event's position and ids.
 */
/* Schema 17 undone (removed users, tokens by user). */
#define UNDO_SCHEMA_17                                                       \
    "DROP INDEX tokens_by_user; ALTER TABLE users DROP COLUMN removed_at;"

/* Schema 16 undone (replies' keys by age). */
#define UNDO_SCHEMA_16  "DROP INDEX reply_keys_by_age;"

/* Schema 15 undone (polls' tallies on their rows). */
#define UNDO_SCHEMA_15                                                       \
    "DROP TRIGGER campaign_recipients_answer;"                              \
    "DROP INDEX campaigns_finished; DROP INDEX campaigns_answered;"         \
    "DROP INDEX campaigns_active;"                                          \
    "CREATE INDEX campaigns_active ON campaigns (status)"                   \
    "  WHERE status IN ('scheduled', 'sending');"                           \
    "ALTER TABLE campaigns DROP COLUMN answered_at;"                        \
    "ALTER TABLE campaigns DROP COLUMN n_answer_1;"                         \
    "ALTER TABLE campaigns DROP COLUMN n_answer_2;"                         \
    "ALTER TABLE campaigns DROP COLUMN n_answer_3;"                         \
    "ALTER TABLE campaigns DROP COLUMN n_answer_4;"                         \
    "ALTER TABLE campaigns DROP COLUMN n_answer_5;"                         \
    "ALTER TABLE campaigns DROP COLUMN n_answer_6;"                         \
    "ALTER TABLE campaigns DROP COLUMN n_answer_7;"                         \
    "ALTER TABLE campaigns DROP COLUMN n_answer_8;"                         \
    "ALTER TABLE campaigns DROP COLUMN n_answer_9;"

/* Schema 12 undone (the lists' indexes as they were). */
/* Schema 14 undone (early status reports). */
#define UNDO_SCHEMA_14  "DROP TABLE early_reports;"

/* Schema 13 undone (campaigns and polls; with them what 15 added). */
#define UNDO_SCHEMA_13                                                       \
    "DROP TRIGGER messages_campaign_status;"                                \
    "DROP TABLE campaign_recipients; DROP TABLE campaign_media;"            \
    "DROP TABLE campaign_options; DROP TABLE campaign_tags;"                \
    "DROP TABLE campaigns;"                                                 \
    "ALTER TABLE messages DROP COLUMN campaign_id;"                         \
    "ALTER TABLE contacts DROP COLUMN timezone;"

#define UNDO_SCHEMA_12                                                       \
    "DROP INDEX conversations_by_activity;"                                 \
    "CREATE INDEX conversations_by_activity ON conversations"               \
    " (org_id, archived, last_activity_at DESC, id DESC);"                  \
    "DROP INDEX conversations_unread;"                                      \
    "CREATE INDEX conversations_unread ON conversations"                    \
    " (org_id, last_activity_at DESC, id DESC)"                             \
    " WHERE unread_count > 0 AND archived = 0;"                             \
    "DROP INDEX conversations_starred;"                                     \
    "CREATE INDEX conversations_starred ON conversations"                   \
    " (org_id, last_activity_at DESC, id DESC)"                             \
    " WHERE starred = 1 AND archived = 0;"                                  \
    "DROP INDEX contact_tags_by_tag;"                                       \
    "CREATE INDEX contact_tags_by_tag ON contact_tags (org_id, tag);"

/*
 * Schema 9 undone (opt-out: contact_events, the settings, contacts made
 * again with the 'carrier' source and opt_out_keyword), as a store of
 * before it was: contacts as migration 1 made it, with the index and
 * triggers of 7 and 8.
 */
#define CONTACTS_SEARCH_TRIGGERS                                            \
    "CREATE TRIGGER contacts_search_insert AFTER INSERT ON contacts BEGIN"  \
    "  INSERT INTO contacts_search_pending VALUES (NEW.id); END;"           \
    "CREATE TRIGGER contacts_search_update AFTER UPDATE OF name, phone"     \
    "  ON contacts WHEN OLD.name IS NOT NEW.name"                           \
    "  OR OLD.phone IS NOT NEW.phone BEGIN"                                 \
    "  INSERT INTO contacts_search (contacts_search, rowid, name, digits)"  \
    "    SELECT 'delete', OLD.id, lower(OLD.name), substr(OLD.phone, 2)"    \
    "    WHERE NOT EXISTS (SELECT 1 FROM contacts_search_pending"           \
    "                      WHERE contact_id = OLD.id);"                     \
    "  INSERT INTO contacts_search_pending SELECT NEW.id"                   \
    "    WHERE NOT EXISTS (SELECT 1 FROM contacts_search_pending"           \
    "                      WHERE contact_id = NEW.id); END;"                \
    "CREATE TRIGGER contacts_search_delete AFTER DELETE ON contacts BEGIN"  \
    "  INSERT INTO contacts_search (contacts_search, rowid, name, digits)"  \
    "    SELECT 'delete', OLD.id, lower(OLD.name), substr(OLD.phone, 2)"    \
    "    WHERE NOT EXISTS (SELECT 1 FROM contacts_search_pending"           \
    "                      WHERE contact_id = OLD.id);"                     \
    "  DELETE FROM contacts_search_pending WHERE contact_id = OLD.id; END;"

#define UNDO_SCHEMA_9                                                       \
    "DROP TABLE contact_events;"                                            \
    "ALTER TABLE orgs DROP COLUMN business_name;"                           \
    "ALTER TABLE orgs DROP COLUMN support_contact;"                         \
    "ALTER TABLE orgs DROP COLUMN quiet_start;"                             \
    "ALTER TABLE orgs DROP COLUMN quiet_end;"                               \
    "CREATE TABLE contacts_before (id INTEGER PRIMARY KEY,"                 \
    "  org_id INTEGER NOT NULL REFERENCES orgs (id), phone TEXT NOT NULL,"  \
    "  name TEXT, opted_out INTEGER NOT NULL DEFAULT 0,"                    \
    "  opted_out_at INTEGER, opt_out_source TEXT"                           \
    "  CHECK (opt_out_source IN ('keyword', 'manual')),"                    \
    "  created_at INTEGER NOT NULL, UNIQUE (org_id, phone));"               \
    "INSERT INTO contacts_before SELECT id, org_id, phone, name, opted_out," \
    "  opted_out_at, opt_out_source, created_at FROM contacts;"             \
    "DROP TABLE contacts;"                                                  \
    "ALTER TABLE contacts_before RENAME TO contacts;"                       \
    "CREATE INDEX contacts_by_created ON contacts"                          \
    "  (org_id, created_at DESC, id DESC);"                                 \
    CONTACTS_SEARCH_TRIGGERS

/* media */
/* Schema 11 undone (replies), as a store of before it was. */
#define UNDO_SCHEMA_11                                                      \
    "DROP TRIGGER orgs_credits_never_negative;"                             \
    "DROP TABLE credit_ledger; DROP TABLE reply_keys; DROP TABLE outbox;"   \
    "DROP INDEX messages_holds;"                                            \
    "ALTER TABLE messages DROP COLUMN submitted_at;"                        \
    "ALTER TABLE messages DROP COLUMN held;"                                \
    "ALTER TABLE orgs DROP COLUMN plan;"

/* Schema 10 undone (uploads and inbound media's copies), as a store of
 * before it was. */
#define UNDO_SCHEMA_10                                                      \
    "DROP TABLE media; DROP INDEX message_media_due;"                       \
    "ALTER TABLE message_media DROP COLUMN state;"                          \
    "ALTER TABLE message_media DROP COLUMN fetch_at;"                       \
    "ALTER TABLE message_media DROP COLUMN attempts;"                       \
    "ALTER TABLE message_media DROP COLUMN file;"                           \
    "ALTER TABLE message_media DROP COLUMN bytes;"

/* Schema 8 undone (the search index), as a store of before it was. */
#define UNDO_SCHEMA_8                                                       \
    "DROP TRIGGER contacts_search_insert;"                                  \
    "DROP TRIGGER contacts_search_update;"                                  \
    "DROP TRIGGER contacts_search_delete;"                                  \
    "DROP TABLE contacts_search;"                                           \
    "DROP TABLE contacts_search_pending;"

/* Schema 5 undone (the tabs' counts), as a store of before it was. */
#define UNDO_SCHEMA_5                                                       \
    "DROP TRIGGER conversations_count_insert;"                              \
    "DROP TRIGGER conversations_count_update;"                              \
    "DROP TRIGGER conversations_count_delete;"                              \
    "ALTER TABLE orgs DROP COLUMN count_all;"                               \
    "ALTER TABLE orgs DROP COLUMN count_unread;"                            \
    "ALTER TABLE orgs DROP COLUMN count_unresponded;"                       \
    "ALTER TABLE orgs DROP COLUMN count_starred;"                           \
    "ALTER TABLE orgs DROP COLUMN count_archived;"                          \
    "CREATE TRIGGER conversations_unread_insert AFTER INSERT"               \
    " ON conversations WHEN NEW.archived = 0 AND NEW.unread_count <> 0"     \
    " BEGIN UPDATE orgs SET unread_total = unread_total + NEW.unread_count" \
    " WHERE id = NEW.org_id; END;"                                          \
    "CREATE TRIGGER conversations_unread_update"                            \
    " AFTER UPDATE OF unread_count, archived ON conversations"              \
    " WHEN (OLD.archived = 0) * OLD.unread_count"                           \
    " <> (NEW.archived = 0) * NEW.unread_count BEGIN"                       \
    " UPDATE orgs SET unread_total = unread_total"                          \
    " - (OLD.archived = 0) * OLD.unread_count"                              \
    " + (NEW.archived = 0) * NEW.unread_count WHERE id = NEW.org_id; END;"  \
    "CREATE TRIGGER conversations_unread_delete AFTER DELETE"               \
    " ON conversations WHEN OLD.archived = 0 AND OLD.unread_count <> 0"     \
    " BEGIN UPDATE orgs SET unread_total = unread_total - OLD.unread_count" \
    " WHERE id = OLD.org_id; END;"

/* Migration 6 made the sessions table. */
#define UNDO_SCHEMA_6  "DROP TABLE sessions;"

/* Schema 18 undone (search keys): the index again of lower(name), and
 * the triggers of 9. */
#define UNDO_SCHEMA_18                                                       \
    "DROP TRIGGER contacts_search_insert;"                                  \
    "DROP TRIGGER contacts_search_update;"                                  \
    "DROP TRIGGER contacts_search_delete;"                                  \
    "INSERT INTO contacts_search (contacts_search) VALUES ('delete-all');"  \
    "ALTER TABLE contacts DROP COLUMN search_name;"                         \
    "INSERT INTO contacts_search (rowid, name, digits)"                     \
    "  SELECT id, lower(name), substr(phone, 2) FROM contacts"              \
    "  WHERE id NOT IN (SELECT contact_id FROM contacts_search_pending);"   \
    CONTACTS_SEARCH_TRIGGERS

/* Schema 19 undone (the number an inbound image came to). */
#define UNDO_SCHEMA_19  "ALTER TABLE message_media DROP COLUMN number_id;"

/* Schema 20 changed data only. */
#define UNDO_SCHEMA_20  ""

/* Schema 21 undone (a contact's last opt-in). */
#define UNDO_SCHEMA_21  "ALTER TABLE contacts DROP COLUMN opted_in_at;"

/* Schema 22 undone (who answers keywords on a number). */
#define UNDO_SCHEMA_22                                                       \
    "ALTER TABLE numbers DROP COLUMN carrier_answers_keywords;"

#define UNDO_SCHEMA_23                                                       \
    "ALTER TABLE contacts DROP COLUMN help_answered_at;"

/* Schema 24 undone (whether an early report was the carrier's last). */
#define UNDO_SCHEMA_24                                                       \
    "ALTER TABLE early_reports DROP COLUMN final;"

/* Schema 25 undone (an organization's default country). */
#define UNDO_SCHEMA_25                                                       \
    "ALTER TABLE orgs DROP COLUMN default_country;"

/* Schema 26 undone (the number a thread's contact last texted). */
#define UNDO_SCHEMA_26                                                       \
    "ALTER TABLE conversations DROP COLUMN number;"
#define UNDO_SCHEMA_27                                                       \
    "DROP INDEX media_unattached; ALTER TABLE media DROP COLUMN attached;"

/* Schema 28 undone (the unresponded threads' index). */
#define UNDO_SCHEMA_28                                                       \
    "DROP INDEX conversations_unresponded;"

/* Schema 29 undone (a contact's newest opt time). */
#define UNDO_SCHEMA_29                                                       \
    "ALTER TABLE contacts DROP COLUMN opt_latest_at;"

/* A conversation row r's share of each of the organization's counts as
 * migration 5 wrote them (the unresponded one: the last message is
 * inbound), and its three triggers, for the undoings below. */
#define SHARE_5_UNREAD_TOTAL(r)  "(" r ".archived = 0) * " r ".unread_count"
#define SHARE_5_ALL(r)           "(" r ".archived = 0)"
#define SHARE_5_UNREAD(r)                                                   \
    "(" r ".archived = 0 AND " r ".unread_count > 0)"
#define SHARE_5_UNRESPONDED(r)                                              \
    "(" r ".archived = 0 AND " r ".last_direction IS 'inbound')"
#define SHARE_5_STARRED(r)       "(" r ".archived = 0 AND " r ".starred <> 0)"
#define SHARE_5_ARCHIVED(r)      "(" r ".archived <> 0)"

#define SHARE_31_UNRESPONDED(r)                                             \
    "(" r ".archived = 0 AND " r ".unresponded_at IS NOT NULL)"

/* U: the unresponded share, 5's or 31's */
#define COUNTS_OF(U, EXPR)                                                  \
    EXPR("unread_total", SHARE_5_UNREAD_TOTAL) ","                          \
    EXPR("count_all", SHARE_5_ALL) ","                                      \
    EXPR("count_unread", SHARE_5_UNREAD) ","                                \
    EXPR("count_unresponded", U) ","                                        \
    EXPR("count_starred", SHARE_5_STARRED) ","                              \
    EXPR("count_archived", SHARE_5_ARCHIVED)
#define COUNTS_5(EXPR)   COUNTS_OF(SHARE_5_UNRESPONDED, EXPR)
#define COUNTS_31(EXPR)  COUNTS_OF(SHARE_31_UNRESPONDED, EXPR)
#define COUNT_SUM(col, SHARE)                                               \
    " " col " = (SELECT coalesce(sum(" SHARE("c") "), 0)"                   \
    " FROM conversations c WHERE c.org_id = orgs.id)"

#define COUNT_ADD_NEW(col, SHARE)  " " col " = " col " + " SHARE("NEW")
#define COUNT_SUB_OLD(col, SHARE)  " " col " = " col " - " SHARE("OLD")
#define COUNT_MOVE(col, SHARE)                                              \
    " " col " = " col " - " SHARE("OLD") " + " SHARE("NEW")

#define COUNT_TRIGGERS_5                                                    \
    "CREATE TRIGGER conversations_count_insert AFTER INSERT"                \
    " ON conversations BEGIN UPDATE orgs SET" COUNTS_5(COUNT_ADD_NEW)       \
    " WHERE id = NEW.org_id; END;"                                          \
    "CREATE TRIGGER conversations_count_update"                             \
    " AFTER UPDATE OF unread_count, archived, starred, last_direction"      \
    " ON conversations WHEN OLD.unread_count <> NEW.unread_count"           \
    " OR OLD.archived <> NEW.archived OR OLD.starred <> NEW.starred"        \
    " OR OLD.last_direction IS NOT NEW.last_direction"                      \
    " BEGIN UPDATE orgs SET" COUNTS_5(COUNT_MOVE)                           \
    " WHERE id = NEW.org_id; END;"                                          \
    "CREATE TRIGGER conversations_count_delete AFTER DELETE"                \
    " ON conversations BEGIN UPDATE orgs SET" COUNTS_5(COUNT_SUB_OLD)       \
    " WHERE id = OLD.org_id; END;"

/* Schema 31 undone (a thread's responses' times): the unresponded
 * threads' index, count and triggers on the last direction again. */
#define UNDO_SCHEMA_31                                                       \
    "DROP TRIGGER conversations_count_insert;"                              \
    "DROP TRIGGER conversations_count_update;"                              \
    "DROP TRIGGER conversations_count_delete;"                              \
    "DROP INDEX conversations_unresponded;"                                 \
    "ALTER TABLE conversations DROP COLUMN unresponded_at;"                 \
    "ALTER TABLE conversations DROP COLUMN responded_at;"                   \
    "CREATE INDEX conversations_unresponded ON conversations"               \
    " (org_id, last_activity_at DESC, id DESC, contact_id, last_direction," \
    " archived) WHERE archived = 0 AND last_direction = 'inbound';"         \
    COUNT_TRIGGERS_5                                                        \
    "UPDATE orgs SET count_unresponded = (SELECT count(*)"                  \
    " FROM conversations c WHERE c.org_id = orgs.id AND c.archived = 0"     \
    " AND c.last_direction IS 'inbound');"

/* Schema 32 undone (threads without a message counted): the counts and
 * triggers as migration 31 made them. */
#define UNDO_SCHEMA_32                                                       \
    "DROP TRIGGER conversations_count_insert;"                              \
    "DROP TRIGGER conversations_count_update;"                              \
    "DROP TRIGGER conversations_count_delete;"                              \
    "CREATE TRIGGER conversations_count_insert AFTER INSERT"                \
    " ON conversations BEGIN UPDATE orgs SET" COUNTS_31(COUNT_ADD_NEW)      \
    " WHERE id = NEW.org_id; END;"                                          \
    "CREATE TRIGGER conversations_count_update"                             \
    " AFTER UPDATE OF unread_count, archived, starred, unresponded_at"      \
    " ON conversations WHEN OLD.unread_count <> NEW.unread_count"           \
    " OR OLD.archived <> NEW.archived OR OLD.starred <> NEW.starred"        \
    " OR (OLD.unresponded_at IS NULL) <> (NEW.unresponded_at IS NULL)"      \
    " BEGIN UPDATE orgs SET" COUNTS_31(COUNT_MOVE)                          \
    " WHERE id = NEW.org_id; END;"                                          \
    "CREATE TRIGGER conversations_count_delete AFTER DELETE"                \
    " ON conversations BEGIN UPDATE orgs SET" COUNTS_31(COUNT_SUB_OLD)      \
    " WHERE id = OLD.org_id; END;"                                          \
    "UPDATE orgs SET" COUNTS_31(COUNT_SUM) ";"

/* Schema 33 undone (why a campaign is cancelled). */
#define UNDO_SCHEMA_33                                                       \
    "ALTER TABLE campaigns DROP COLUMN cancelled_message;"                  \
    "ALTER TABLE campaigns DROP COLUMN cancelled_reason;"

/* Schema 30 undone (the tags' counts and their triggers). */
#define UNDO_SCHEMA_30                                                       \
    "DROP TRIGGER tag_counts_insert; DROP TRIGGER tag_counts_delete;"       \
    "DROP TRIGGER tag_counts_opt; DROP TABLE tag_counts;"

/* Schema 34 undone (status checks). */
#define UNDO_SCHEMA_34                                                       \
    "DROP INDEX messages_status_checks;"                                    \
    "ALTER TABLE messages DROP COLUMN status_check_at;"

/* Schema 35 undone (the number a message went from). */
#define UNDO_SCHEMA_35  "ALTER TABLE messages DROP COLUMN from_e164;"

/* Schema 36 undone (the message an early report's URL names). */
#define UNDO_SCHEMA_36  "ALTER TABLE early_reports DROP COLUMN message_id;"

/* Schema 37 undone (a recipient's state by its message's status only). */
#define UNDO_SCHEMA_37                                                       \
    "DROP TRIGGER messages_campaign_status;"                                \
    "CREATE TRIGGER messages_campaign_status"                               \
    "  AFTER UPDATE OF status ON messages"                                  \
    "  WHEN NEW.campaign_id IS NOT NULL AND OLD.status IS NOT NEW.status "  \
    "BEGIN"                                                                 \
    "  UPDATE campaign_recipients SET state = CASE NEW.status"              \
    "    WHEN 'sent' THEN 'sent' WHEN 'delivered' THEN 'delivered'"         \
    "    WHEN 'undelivered' THEN 'failed' WHEN 'failed' THEN 'failed'"      \
    "    ELSE 'queued' END"                                                 \
    "  WHERE message_id = NEW.id;"                                          \
    "END;"

/* Schema 38 undone (the type of a thread's last attachment). */
#define UNDO_SCHEMA_38                                                       \
    "ALTER TABLE conversations DROP COLUMN last_media_type;"

/* Schema 39 undone (a draft's revision). */
#define UNDO_SCHEMA_39  "ALTER TABLE campaigns DROP COLUMN revision;"

/* Schema 40 undone (who sent a thread's last message). */
#define UNDO_SCHEMA_40                                                       \
    "ALTER TABLE conversations DROP COLUMN last_sent_by;"                    \
    "ALTER TABLE conversations DROP COLUMN last_campaign_id;"

/* Schema 43 undone (the answer of a contact's HELP). */
#define UNDO_SCHEMA_43  "ALTER TABLE contacts DROP COLUMN help_answer_id;"

/* Schema 44 undone (the organization's count of its contacts). */
#define UNDO_SCHEMA_44                                                       \
    "DROP TRIGGER contacts_counted; DROP TRIGGER contacts_uncounted;"        \
    "ALTER TABLE orgs DROP COLUMN count_contacts;"

/* Schema 45 undone (the upload each of a campaign's images is). */
#define UNDO_SCHEMA_45  "ALTER TABLE campaign_media DROP COLUMN media_id;"

/* Schema 46 undone (a campaign's latest reply's time). */
#define UNDO_SCHEMA_46                                                       \
    "DROP TRIGGER campaign_recipients_replied;"                              \
    "DROP INDEX campaigns_replied;"                                          \
    "ALTER TABLE campaigns DROP COLUMN replied_at;"

/* Schema 47 undone (a contact's poll answers newest first). */
#define UNDO_SCHEMA_47  "DROP INDEX campaign_recipients_answered;"

/* Schema 48 undone (those of a campaign's audience opted out at its
 * send). */
#define UNDO_SCHEMA_48  "ALTER TABLE campaigns DROP COLUMN n_excluded;"

/* Schema 49 undone (uploads released by a draft's edit, and the files
 * messages and campaigns name). */
#define UNDO_SCHEMA_49                                                       \
    "DROP INDEX campaign_media_file; DROP INDEX message_media_file;"        \
    "ALTER TABLE media DROP COLUMN released_at;"

/* Schema 50 undone (a pause for the carrier's refusal of the number's
 * account). */
#define UNDO_SCHEMA_50                                                       \
    "PRAGMA writable_schema = ON;"                                           \
    "UPDATE sqlite_schema SET sql = replace(sql,"                            \
    "    ', ''carrier_account'')', ')')"                                     \
    "  WHERE type = 'table' AND name = 'campaigns';"                         \
    "PRAGMA writable_schema = RESET;"                                        \
    "DROP INDEX campaigns_by_org;"                                           \
    "CREATE INDEX campaigns_by_org ON campaigns (org_id, kind, id DESC);"

/* Schema 51 undone (uploads marked for their purge). */
#define UNDO_SCHEMA_51                                                       \
    "DROP INDEX media_purging; ALTER TABLE media DROP COLUMN purging_at;"

/* Schema 52 undone (a campaign event's kind). */
#define UNDO_SCHEMA_52  "ALTER TABLE events DROP COLUMN campaign_kind;"

/* Schema 53 undone (when a campaign's first message was handed over). */
#define UNDO_SCHEMA_53  "ALTER TABLE campaigns DROP COLUMN handed_at;"

/* Schema 54 undone (campaigns' ids given again): the table's SQL
 * without AUTOINCREMENT, as SQLite's ALTER TABLE page allows for a change
 * no stored row can break, and its high-water mark forgotten. */
#define UNDO_SCHEMA_54                                                      \
    "PRAGMA writable_schema = ON;"                                          \
    "UPDATE sqlite_schema SET sql = replace(sql,"                           \
    "    'PRIMARY KEY AUTOINCREMENT', 'PRIMARY KEY')"                       \
    "  WHERE type = 'table' AND name = 'campaigns';"                        \
    "DELETE FROM sqlite_sequence WHERE name = 'campaigns';"                 \
    "PRAGMA writable_schema = RESET;"

/* Schema 55 undone (a failed reply's mark of being sent again). */
#define UNDO_SCHEMA_55                                                      \
    "ALTER TABLE messages DROP COLUMN resent_at;"                           \
    "ALTER TABLE messages DROP COLUMN resent_as;"

/* Schema 56 changed data only (names' keys, made again). */
#define UNDO_SCHEMA_56  ""

/* Schema 57 undone (the number a pause for the carrier's refusal
 * names). */
#define UNDO_SCHEMA_57                                                      \
    "ALTER TABLE campaigns DROP COLUMN paused_error_code;"                  \
    "ALTER TABLE campaigns DROP COLUMN paused_number;"

/* Schema 58 changed data only (names' keys, made again). */
#define UNDO_SCHEMA_58  ""

/* Schema 59 too. */
#define UNDO_SCHEMA_59  ""

/* Every step after 51 undone, newest first. */
#define UNDO_SCHEMA_ABOVE_51                                                \
    UNDO_SCHEMA_59 UNDO_SCHEMA_58 UNDO_SCHEMA_57                            \
    UNDO_SCHEMA_56 UNDO_SCHEMA_55 UNDO_SCHEMA_54 UNDO_SCHEMA_53             \
    UNDO_SCHEMA_52

/* Every step after 49 undone, newest first. */
#define UNDO_SCHEMA_ABOVE_49                                                \
    UNDO_SCHEMA_ABOVE_51 UNDO_SCHEMA_51 UNDO_SCHEMA_50

/* Every step after 42 undone, newest first. */
#define UNDO_SCHEMA_ABOVE_42                                                \
    UNDO_SCHEMA_ABOVE_49 UNDO_SCHEMA_49                                     \
    UNDO_SCHEMA_48 UNDO_SCHEMA_47 UNDO_SCHEMA_46 UNDO_SCHEMA_45             \
    UNDO_SCHEMA_44 UNDO_SCHEMA_43

/* Every step after 32 undone, newest first. */
#define UNDO_SCHEMA_ABOVE_32                                                \
    UNDO_SCHEMA_ABOVE_42                                                    \
    UNDO_SCHEMA_40 UNDO_SCHEMA_39 UNDO_SCHEMA_38 UNDO_SCHEMA_37             \
    UNDO_SCHEMA_36 UNDO_SCHEMA_35 UNDO_SCHEMA_34 UNDO_SCHEMA_33

/* Every step after 29 undone, newest first; every undoing of 29 or
 * earlier starts with it. */
#define UNDO_SCHEMA_ABOVE_29                                                \
    UNDO_SCHEMA_ABOVE_32 UNDO_SCHEMA_32 UNDO_SCHEMA_31 UNDO_SCHEMA_30

/* Every step after 10 undone, newest first. */
#define UNDO_SCHEMA_ABOVE_10                                                \
    UNDO_SCHEMA_ABOVE_29                                                    \
    UNDO_SCHEMA_29 UNDO_SCHEMA_28                                           \
    UNDO_SCHEMA_27 UNDO_SCHEMA_26 UNDO_SCHEMA_25 UNDO_SCHEMA_24             \
    UNDO_SCHEMA_23                                                          \
    UNDO_SCHEMA_22 UNDO_SCHEMA_21                                           \
    UNDO_SCHEMA_20                                                          \
    UNDO_SCHEMA_19                                                          \
    UNDO_SCHEMA_18                                                          \
    UNDO_SCHEMA_17                                                          \
    UNDO_SCHEMA_16                                                          \
    UNDO_SCHEMA_14 UNDO_SCHEMA_13 UNDO_SCHEMA_12 UNDO_SCHEMA_11

/* Migration 7 made contacts' tags and the contacts list's index (after 8
 * is undone). */
#define UNDO_SCHEMA_7                                                       \
    UNDO_SCHEMA_ABOVE_10 UNDO_SCHEMA_10                                     \
    UNDO_SCHEMA_9                                                           \
    UNDO_SCHEMA_8                                                           \
    "DROP TABLE contact_tags; DROP INDEX contacts_by_created;"

#define SCHEMA_NOW  59


/* A draft to all contacts named name, made at T0; its id. */
static void
campaign_draft(fixture_t *f, const char *name, char *id)
{
    inbox_campaign_t      c;
    inbox_campaign_new_t  n;

    memset(&n, 0, sizeof(n));
    n.name = name;
    n.body = "Sale!";
    n.audience_all = 1;
    CHECK_INT(inbox_store_campaign_create(f->store, f->org, &n, T0, &c,
                                          NULL, NULL), INBOX_OK);
    snprintf(id, INBOX_ID_MAX, "%s", c.id);
    inbox_campaign_free(&c);
}


/*
 * Migration 54: the campaigns made before keep their ids and all they
 * said, and the newest of them deleted, its id is not given to the next
 * one made (it was, before).
 */
TEST(migrating_never_gives_a_deleted_campaigns_id_again)
{
    char              first[INBOX_ID_MAX], newest[INBOX_ID_MAX];
    char              next[INBOX_ID_MAX];
    fixture_t         f;
    inbox_campaign_t  c;

    FIXTURE(&f);
    campaign_draft(&f, "First", first);
    campaign_draft(&f, "Newest", newest);
    inbox_store_close(f.store);
    f.store = NULL;

    CHECK_INT(db_exec(&f, UNDO_SCHEMA_59 UNDO_SCHEMA_58 UNDO_SCHEMA_57
                          UNDO_SCHEMA_56 UNDO_SCHEMA_55 UNDO_SCHEMA_54
                          "PRAGMA user_version = 53;"),
              SQLITE_OK);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM sqlite_schema"
                         " WHERE name = 'campaigns'"
                         " AND sql LIKE '%AUTOINCREMENT%'"), 0);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM pragma_foreign_key_check"),
              0);

    CHECK_INT(inbox_store_campaign_get(f.store, f.org, first, &c, NULL),
              INBOX_OK);
    CHECK_STR(c.name, "First");
    inbox_campaign_free(&c);

    CHECK_INT(inbox_store_campaign_delete(f.store, f.org, newest,
                                          INBOX_CAMPAIGN_KIND_CAMPAIGN, T0,
                                          NULL, NULL),
              INBOX_OK);
    campaign_draft(&f, "Next", next);
    CHECK(strcmp(next, newest) != 0);
    CHECK_INT(inbox_store_campaign_get(f.store, f.org, newest, &c, NULL),
              INBOX_ERR_NOT_FOUND);

    fixture_close(&f);
}



/*
 * Migration 55: the messages of before are marked sent again by none
 * (Send again may still go once), and the mark has its columns.
 */
TEST(migrating_marks_no_message_of_before_sent_again)
{
    fixture_t  f;

    FIXTURE(&f);
    inbox_store_close(f.store);
    f.store = NULL;

    CHECK_INT(db_exec(&f, UNDO_SCHEMA_59 UNDO_SCHEMA_58 UNDO_SCHEMA_57
                          UNDO_SCHEMA_56 UNDO_SCHEMA_55
                          "PRAGMA user_version = 54;"),
              SQLITE_OK);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM pragma_table_info('messages')"
                         " WHERE name IN ('resent_as', 'resent_at')"), 0);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM pragma_table_info('messages')"
                         " WHERE name IN ('resent_as', 'resent_at')"), 2);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM messages"
                         " WHERE resent_as IS NOT NULL"), 0);

    fixture_close(&f);
}

/*
 * Migration 56: names stored with the keys of before (punctuation and
 * spaces in them), one indexed and one still noted for the index, are
 * found without them once opened, the old entries gone from the index
 * and nothing left noted; a rename after it takes its entry out whole.
 */
TEST(migrating_finds_the_names_there_are_without_their_punctuation)
{
    char       id[INBOX_ID_MAX];
    fixture_t  f;

    FIXTURE(&f);
    CHECK_INT(receive(&f, "SM1", ALICE, "a", T0, NULL, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, ALICE,
                                         "Dan O'Connor", id, NULL),
              INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "b", T0 + 1, NULL, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, BOB,
                                         "Jean-Luc St. John", id, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_maintain(f.store, NULL), INBOX_OK);
    inbox_store_close(f.store);
    f.store = NULL;

    /* the keys of before (lower case, as 18 made these ASCII names'):
     * the trigger notes both; Alice's indexed again, Bob's left noted */
    CHECK_INT(db_exec(&f, UNDO_SCHEMA_59 UNDO_SCHEMA_58 UNDO_SCHEMA_57
                      UNDO_SCHEMA_56
                      "UPDATE contacts SET search_name = lower(name)"
                      "  WHERE search_name IS NOT NULL;"
                      "INSERT INTO contacts_search (rowid, name, digits)"
                      "  SELECT id, search_name, substr(phone, 2)"
                      "  FROM contacts WHERE phone = '" ALICE "';"
                      "DELETE FROM contacts_search_pending WHERE contact_id"
                      "  = (SELECT id FROM contacts WHERE phone = '"
                      ALICE "');"
                      "PRAGMA user_version = 55;"),
              SQLITE_OK);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM contacts_search"
                         " WHERE contacts_search MATCH"
                         " 'name : \"o''connor\"'"), 1);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM contacts_search_pending"), 1);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM contacts_search"
                         " WHERE contacts_search MATCH"
                         " 'name : \"o''connor\"'"), 0);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM contacts_search"
                         " WHERE contacts_search MATCH"
                         " 'name : \"oconnor\"'"), 1);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM contacts_search"
                         " WHERE contacts_search MATCH"
                         " 'name : \"jeanlucstjohn\"'"), 1);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM contacts_search_pending"), 0);
    CHECK_INT(db_int(&f, "SELECT search_name = 'jeanlucstjohn'"
                         " FROM contacts WHERE phone = '" BOB "'"), 1);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "oconnor"), 1);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "o connor"), 1);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "jean luc"), 1);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "stjohn"), 1);

    /* renamed: its new key's entry is the one taken out, whole */
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, ALICE,
                                         "Dan Walsh", id, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_maintain(f.store, NULL), INBOX_OK);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "oconnor"), 0);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "walsh"), 1);
    CHECK_INT(db_exec(&f, "INSERT INTO contacts_search (contacts_search,"
                          " rank) VALUES ('integrity-check', 0);"),
              SQLITE_OK);

    fixture_close(&f);
}


/*
 * A store of schema 57 keeps its names' keys without a kana's voicing
 * marks ("ジョン" as "ション"): migrated, every key keeps them, the
 * index with it, and "ション" no longer finds John's thread while
 * "ジョン" still does; a Latin accent still folds away.
 */
/* ジョン (John), ション (shon), ジョン・スミス, its key, and its key
 * without the dakuten, as the rule of before made it */
#define JON         "\xe3\x82\xb8\xe3\x83\xa7\xe3\x83\xb3"
#define SHON        "\xe3\x82\xb7\xe3\x83\xa7\xe3\x83\xb3"
#define SMITH       "\xe3\x82\xb9\xe3\x83\x9f\xe3\x82\xb9"
#define JON_SMITH   JON "\xe3\x83\xbb" SMITH
#define JON_KEY     JON SMITH
#define SHON_SMITH  SHON SMITH

TEST(migrating_keeps_a_kanas_voicing_marks_in_the_names_keys)
{
    char       id[INBOX_ID_MAX];
    fixture_t  f;

    FIXTURE(&f);
    CHECK_INT(receive(&f, "SM1", ALICE, "a", T0, NULL, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, ALICE, JON_SMITH,
                                         id, NULL),
              INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "b", T0 + 1, NULL, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, BOB,
                                         "Jos\xc3\xa9 Ortega", id, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_maintain(f.store, NULL), INBOX_OK);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, SHON), 0);
    inbox_store_close(f.store);
    f.store = NULL;

    /* John's key of before, its dakuten dropped, and indexed so */
    CHECK_INT(db_exec(&f, UNDO_SCHEMA_59 UNDO_SCHEMA_58 UNDO_SCHEMA_57
                      "UPDATE contacts SET search_name = '" SHON_SMITH "'"
                      "  WHERE phone = '" ALICE "';"
                      "INSERT INTO contacts_search (rowid, name, digits)"
                      "  SELECT id, search_name, substr(phone, 2)"
                      "  FROM contacts WHERE phone = '" ALICE "';"
                      "DELETE FROM contacts_search_pending;"
                      "PRAGMA user_version = 56;"),
              SQLITE_OK);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);
    CHECK_INT(db_int(&f, "SELECT search_name = '" JON_KEY "'"
                         " FROM contacts WHERE phone = '" ALICE "'"), 1);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM contacts_search"
                         " WHERE contacts_search MATCH"
                         " 'name : \"" SHON "\"'"), 0);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM contacts_search_pending"), 0);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, SHON), 0);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, JON), 1);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "jose"), 1);
    CHECK_INT(db_exec(&f, "INSERT INTO contacts_search (contacts_search,"
                          " rank) VALUES ('integrity-check', 0);"),
              SQLITE_OK);

    fixture_close(&f);
}


/*
 * A store of schema 58 keeps its names' keys without the marks of Indic
 * scripts ("सुमित", Sumit, as "समित", Samit) nor Й's breve ("Йоанна" as
 * "иоанна"): migrated, every key keeps them, the index with it, and
 * "समित" and "Иоанна" no longer find those threads while "सुमित" and
 * "Йоанна" still do; a Latin accent still folds away.
 */
/* सुमित (Sumit), समित (Samit), Йоанна, йоанна, иоанна */
#define SUMIT       "\xe0\xa4\xb8\xe0\xa5\x81\xe0\xa4\xae\xe0\xa4\xbf"   \
                    "\xe0\xa4\xa4"
#define SAMIT       "\xe0\xa4\xb8\xe0\xa4\xae\xe0\xa4\xbf\xe0\xa4\xa4"
#define YOANNA      "\xd0\x99\xd0\xbe\xd0\xb0\xd0\xbd\xd0\xbd\xd0\xb0"
#define YOANNA_KEY  "\xd0\xb9\xd0\xbe\xd0\xb0\xd0\xbd\xd0\xbd\xd0\xb0"
#define IOANNA_KEY  "\xd0\xb8\xd0\xbe\xd0\xb0\xd0\xbd\xd0\xbd\xd0\xb0"

TEST(migrating_keeps_indic_marks_and_cyrillic_letters_in_the_names_keys)
{
    char       id[INBOX_ID_MAX];
    fixture_t  f;

    FIXTURE(&f);
    CHECK_INT(receive(&f, "SM1", ALICE, "a", T0, NULL, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, ALICE, SUMIT, id,
                                         NULL),
              INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "b", T0 + 1, NULL, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, BOB, YOANNA, id,
                                         NULL),
              INBOX_OK);
    CHECK_INT(receive(&f, "SM3", "+15557654321", "c", T0 + 2, NULL, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, "+15557654321",
                                         "Jos\xc3\xa9 Ortega", id, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_maintain(f.store, NULL), INBOX_OK);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, SAMIT), 0);
    inbox_store_close(f.store);
    f.store = NULL;

    /* the keys of before, marks and breve dropped, and indexed so */
    CHECK_INT(db_exec(&f, UNDO_SCHEMA_59
                      "UPDATE contacts SET search_name = '" SAMIT "'"
                      "  WHERE phone = '" ALICE "';"
                      "UPDATE contacts SET search_name = '" IOANNA_KEY "'"
                      "  WHERE phone = '" BOB "';"
                      "INSERT INTO contacts_search (rowid, name, digits)"
                      "  SELECT id, search_name, substr(phone, 2)"
                      "  FROM contacts WHERE phone IN ('" ALICE "', '"
                      BOB "');"
                      "DELETE FROM contacts_search_pending;"
                      "PRAGMA user_version = 58;"),
              SQLITE_OK);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);
    CHECK_INT(db_int(&f, "SELECT search_name = '" SUMIT "'"
                         " FROM contacts WHERE phone = '" ALICE "'"), 1);
    CHECK_INT(db_int(&f, "SELECT search_name = '" YOANNA_KEY "'"
                         " FROM contacts WHERE phone = '" BOB "'"), 1);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM contacts_search"
                         " WHERE contacts_search MATCH"
                         " 'name : \"" SAMIT "\" OR name : \"" IOANNA_KEY
                         "\"'"), 0);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM contacts_search_pending"), 0);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, SAMIT), 0);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "\xd0\x98\xd0\xbe\xd0\xb0"
                                               "\xd0\xbd\xd0\xbd\xd0\xb0"),
              0);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, SUMIT), 1);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, YOANNA), 1);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "jose"), 1);
    CHECK_INT(db_exec(&f, "INSERT INTO contacts_search (contacts_search,"
                          " rank) VALUES ('integrity-check', 0);"),
              SQLITE_OK);

    fixture_close(&f);
}


/* A draft to all contacts, cancelled by a person at T0; its id. */
static void
campaign_cancelled(fixture_t *f, char *id)
{
    inbox_campaign_t      c;
    inbox_campaign_new_t  n;

    memset(&n, 0, sizeof(n));
    n.name = "Sale";
    n.body = "Sale!";
    n.audience_all = 1;
    CHECK_INT(inbox_store_campaign_create(f->store, f->org, &n, T0, &c,
                                          NULL, NULL), INBOX_OK);
    snprintf(id, INBOX_ID_MAX, "%s", c.id);
    inbox_campaign_free(&c);

    CHECK_INT(inbox_store_campaign_act(f->store, f->org, id,
                                       INBOX_CAMPAIGN_CANCEL, T0, &c, NULL,
                                       NULL),
              INBOX_OK);
    CHECK_INT(c.cancelled_reason, INBOX_CANCEL_MANUAL);
    inbox_campaign_free(&c);
}


/*
 * Migration 33: a campaign cancelled before it keeps no reason (nobody
 * can tell a person's cancel from a refused text's now), and reads as
 * cancelled for none; one cancelled since says why.
 */
TEST(migrating_leaves_the_reason_of_a_cancel_from_before_unknown)
{
    char              before[INBOX_ID_MAX], since[INBOX_ID_MAX];
    fixture_t         f;
    inbox_campaign_t  c;

    FIXTURE(&f);
    campaign_cancelled(&f, before);
    inbox_store_close(f.store);
    f.store = NULL;

    CHECK_INT(db_exec(&f, UNDO_SCHEMA_ABOVE_32 "PRAGMA user_version = 32;"),
              SQLITE_OK);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);

    CHECK_INT(inbox_store_campaign_get(f.store, f.org, before, &c, NULL),
              INBOX_OK);
    CHECK_INT(c.status, INBOX_CAMPAIGN_CANCELLED);
    CHECK_INT(c.cancelled_reason, INBOX_CANCEL_NONE);
    CHECK(c.cancelled_message == NULL);
    inbox_campaign_free(&c);

    campaign_cancelled(&f, since);
    CHECK_INT(inbox_store_campaign_get(f.store, f.org, since, &c, NULL),
              INBOX_OK);
    CHECK_INT(c.cancelled_reason, INBOX_CANCEL_MANUAL);
    inbox_campaign_free(&c);

    fixture_close(&f);
}


/*
 * Migration 34: a message a carrier took before it, still without a
 * final status, is asked about once it is old enough; one delivered is
 * not, nor one older than the give-up.
 */
TEST(migrating_asks_about_the_messages_sent_before)
{
    char                       sql[1024];
    fixture_t                  f;
    inbox_error_t              err;
    inbox_status_check_list_t  list;
    int64_t                    now;

    FIXTURE(&f);
    CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, NULL, NULL), INBOX_OK);
    inbox_store_close(f.store);
    f.store = NULL;

    now = inbox_now_ms();
    snprintf(sql, sizeof(sql),
             "INSERT INTO messages (org_id, conversation_id, direction,"
             "  body, status, created_at, provider, provider_id,"
             "  submitted_at)"
             "  SELECT org_id, id, 'outbound', 'hi', s.status, %lld,"
             "  'twilio', s.sid, %lld - s.age FROM conversations,"
             "  (SELECT 'sent' AS status, 'SMsent' AS sid, 1200000 AS age"
             "   UNION ALL SELECT 'delivered', 'SMdone', 1200000"
             "   UNION ALL SELECT 'sent', 'SMold', 400000000) s;",
             (long long) now, (long long) now);
    CHECK_INT(db_exec(&f, "%s", UNDO_SCHEMA_ABOVE_32
                      "PRAGMA user_version = 32;"), SQLITE_OK);
    CHECK_INT(db_exec(&f, "%s", sql), SQLITE_OK);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);

    CHECK_INT(inbox_store_status_checks_claim(f.store, now, 0, 10, &list,
                                              &err), INBOX_OK);
    CHECK_INT(list.count, 1);
    if (list.count == 1) {
        CHECK_STR(list.items[0].provider_id, "SMsent");
        CHECK_STR(list.items[0].number.e164, NUMBER);
    }
    inbox_status_check_list_free(&list);

    fixture_close(&f);
}


/* A reply of a person to the conversation; 0 or -1. */
static int
person_replies(fixture_t *f, const char *conversation_id)
{
    int                   rc;
    inbox_reply_t         r;
    inbox_reply_result_t  result;

    memset(&r, 0, sizeof(r));
    r.conversation_id = conversation_id;
    r.body = "on it";
    r.segments = 1;
    r.credits = 1;

    rc = inbox_store_credits_grant(f->store, f->org, 1, NULL) == INBOX_OK
         && inbox_store_reply_accept(f->store, f->org, &r, &result, NULL,
                                     NULL) == INBOX_OK ? 0 : -1;
    inbox_reply_result_free(&result);

    return rc;
}


/*
 * Migration 45: a campaign's images from before name the organization's
 * uploads of their files, so that an edit keeps them by name; one whose
 * upload record is gone names none.
 */
TEST(migrating_names_the_uploads_of_a_campaigns_images)
{
    char                   id[INBOX_ID_MAX], ups[2][INBOX_ID_MAX];
    size_t                 i;
    fixture_t              f;
    inbox_media_t          media[2];
    inbox_campaign_t       c;
    inbox_campaign_new_t   n;
    inbox_media_record_t   up;

    FIXTURE(&f);

    memset(media, 0, sizeof(media));
    for (i = 0; i < 2; i++) {
        memset(&up, 0, sizeof(up));
        snprintf(up.content_type, sizeof(up.content_type), "image/png");
        up.bytes = 10;
        snprintf(up.file, sizeof(up.file), "%043zu.png", i + 1);
        CHECK_INT(inbox_store_media_add(f.store, f.org, &up, NULL),
                  INBOX_OK);
        snprintf(ups[i], sizeof(ups[i]), "%s", up.id);

        snprintf(media[i].content_type, sizeof(media[i].content_type),
                 "image/png");
        snprintf(media[i].file, sizeof(media[i].file), "%s", up.file);
        media[i].bytes = 10;
        media[i].state = INBOX_MEDIA_STORED;
    }

    memset(&n, 0, sizeof(n));
    n.name = "Old pictures";
    n.body = "Sale!";
    n.audience_all = 1;
    n.media = media;
    n.media_count = 2;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          NULL),
              INBOX_OK);
    snprintf(id, sizeof(id), "%s", c.id);
    inbox_campaign_free(&c);
    inbox_store_close(f.store);
    f.store = NULL;

    /* the second's record gone, as no operation removes one attached */
    CHECK_INT(db_exec(&f, UNDO_SCHEMA_ABOVE_42
                      "PRAGMA user_version = 42;"
                      "DELETE FROM media WHERE id = %s;", ups[1]),
              SQLITE_OK);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);

    CHECK_INT(inbox_store_campaign_get(f.store, f.org, id, &c, NULL),
              INBOX_OK);
    CHECK_INT(c.media_count, 2);
    if (c.media_count == 2) {
        CHECK_STR(c.media[0].upload_id, ups[0]);
        CHECK_STR(c.media[1].upload_id, "");
        CHECK_STR(c.media[1].file, media[1].file);
    }
    inbox_campaign_free(&c);

    fixture_close(&f);
}

/*
 * Migration 42: a thread an opt-out left waiting (a STOP the carrier
 * answered, before an opt-out ended the wait) waits no more; one whose
 * contact is not opted out, or wrote after opting out, still waits.
 */
TEST(migrating_ends_the_waits_an_opt_out_left)
{
    fixture_t              f;
    inbound_t              m;
    inbox_ingest_result_t  alice, bob, carol;

    FIXTURE(&f);

    inbound_init(&m, "SM1", ALICE, NUMBER, "where is my order?", T0);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &alice, NULL,
                                         NULL), INBOX_OK);
    inbound_init(&m, "SM2", ALICE, NUMBER, "STOP", T0 + MINUTE);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &alice, NULL,
                                         NULL), INBOX_OK);
    inbound_init(&m, "SM3", BOB, NUMBER, "are you open?", T0);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &bob, NULL,
                                         NULL), INBOX_OK);
    inbound_init(&m, "SM4", "+15550001111", NUMBER, "STOP", T0);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &carol, NULL,
                                         NULL), INBOX_OK);
    inbound_init(&m, "SM5", "+15550001111", NUMBER, "one more thing",
                 T0 + MINUTE);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &carol, NULL,
                                         NULL), INBOX_OK);
    CHECK_INT(list_count(&f, INBOX_FILTER_UNRESPONDED, NULL), 2);

    /* Alice's thread as a carrier-answered STOP left it before 42 */
    CHECK_INT(db_exec(&f, "UPDATE conversations SET unresponded_at = %lld,"
                      " responded_at = NULL WHERE id = %s;",
                      (long long) T0, alice.conversation_id), SQLITE_OK);
    CHECK_INT(list_count(&f, INBOX_FILTER_UNRESPONDED, NULL), 3);
    inbox_store_close(f.store);
    f.store = NULL;

    CHECK_INT(db_exec(&f, UNDO_SCHEMA_ABOVE_42
                          "PRAGMA user_version = 41;"),
              SQLITE_OK);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);
    CHECK(!list_shows(&f, INBOX_FILTER_UNRESPONDED, NULL, ALICE));
    CHECK(list_shows(&f, INBOX_FILTER_UNRESPONDED, NULL, BOB));
    CHECK(list_shows(&f, INBOX_FILTER_UNRESPONDED, NULL, "+15550001111"));
    CHECK_INT(list_count(&f, INBOX_FILTER_UNRESPONDED, NULL), 2);

    fixture_close(&f);
}


/* The default view's count, as its tab says it. */
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
 * Migration 41: a thread a campaign alone had listed leaves the lists and
 * their counts; one the contact wrote in stays, with its campaign.
 */
TEST(migrating_unlists_the_threads_of_campaigns_alone)
{
    char                    id[INBOX_ID_MAX];
    fixture_t               f;
    inbound_t               m;
    inbox_contact_edit_t    edit;
    inbox_contact_record_t  bob;
    inbox_ingest_result_t   alice;

    FIXTURE(&f);

    inbound_init(&m, "SM1", ALICE, NUMBER, "hi", T0);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &alice, NULL,
                                         NULL), INBOX_OK);
    memset(&edit, 0, sizeof(edit));
    CHECK_INT(inbox_store_contact_create(f.store, f.org, BOB, &edit, &bob, NULL,
                                         NULL), INBOX_OK);

    /* the campaign's message in both threads, as a send before 41 left
     * them: each listed at it */
    campaign_cancelled(&f, id);
    CHECK_INT(db_exec(&f,
        "INSERT INTO messages (org_id, conversation_id, direction, body,"
        "  status, created_at, campaign_id)"
        "  SELECT org_id, id, 'outbound', 'Sale!', 'sent', %lld, %s"
        "  FROM conversations WHERE id IN (%s, %s);"
        "UPDATE conversations SET last_message_id = (SELECT max(id)"
        "  FROM messages WHERE conversation_id = conversations.id),"
        "  last_direction = 'outbound', last_preview = 'Sale!',"
        "  last_message_at = %lld, last_activity_at = %lld,"
        "  last_campaign_id = %s WHERE id IN (%s, %s);",
        (long long) (T0 + MINUTE), id, alice.conversation_id,
        bob.conversation_id, (long long) (T0 + MINUTE),
        (long long) (T0 + MINUTE), id, alice.conversation_id,
        bob.conversation_id), SQLITE_OK);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, NULL), 2);
    CHECK_INT(all_counted(&f), 2);

    inbox_store_close(f.store);
    f.store = NULL;

    /* 41 changed data only: nothing to undo but the version */
    CHECK_INT(db_exec(&f, UNDO_SCHEMA_ABOVE_42
                          "PRAGMA user_version = 40;"),
              SQLITE_OK);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);

    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, NULL), 1);
    CHECK(list_shows(&f, INBOX_FILTER_ALL, NULL, ALICE));
    CHECK_INT(all_counted(&f), 1);

    inbox_contact_record_free(&bob);
    fixture_close(&f);
}


/*
 * Migration 40: a thread whose last message is a person's reply names the
 * person, one whose last message is a campaign's names the campaign, and
 * one whose last message is inbound names no one.
 */
TEST(migrating_names_who_sent_a_threads_last_message)
{
    char                   pat[INBOX_ID_MAX], id[INBOX_ID_MAX];
    fixture_t              f;
    inbound_t              m;
    inbox_reply_t          r;
    inbox_conversation_t   c;
    inbox_reply_result_t   result;
    inbox_ingest_result_t  alice, bob, carol;

    FIXTURE(&f);

    CHECK_INT(inbox_store_user_add(f.store, f.org, "pat@example.com",
                                   INBOX_ROLE_MEMBER, "hash", pat, NULL, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 1, NULL), INBOX_OK);

    inbound_init(&m, "SM1", ALICE, NUMBER, "hi", T0);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &alice, NULL,
                                         NULL), INBOX_OK);
    inbound_init(&m, "SM2", BOB, NUMBER, "hello", T0);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &bob, NULL,
                                         NULL), INBOX_OK);
    inbound_init(&m, "SM3", "+15550001111", NUMBER, "hey", T0);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &carol, NULL,
                                         NULL), INBOX_OK);

    memset(&r, 0, sizeof(r));
    r.conversation_id = alice.conversation_id;
    r.body = "on it";
    r.segments = 1;
    r.credits = 1;
    r.user_id = pat;
    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &result, NULL,
                                       NULL), INBOX_OK);
    inbox_reply_result_free(&result);

    /* a campaign's message in Bob's thread, as a send leaves it */
    campaign_cancelled(&f, id);
    CHECK_INT(db_exec(&f,
        "INSERT INTO messages (org_id, conversation_id, direction, body,"
        "  status, created_at, campaign_id)"
        "  VALUES (%s, %s, 'outbound', 'Sale!', 'sent', %lld, %s);"
        "UPDATE conversations SET last_message_id = last_insert_rowid(),"
        "  last_direction = 'outbound', last_preview = 'Sale!'"
        "  WHERE id = %s;",
        f.org, bob.conversation_id, (long long) (T0 + MINUTE), id,
        bob.conversation_id), SQLITE_OK);

    inbox_store_close(f.store);
    f.store = NULL;

    CHECK_INT(db_exec(&f, UNDO_SCHEMA_ABOVE_42 UNDO_SCHEMA_40
                      "PRAGMA user_version = 39;"), SQLITE_OK);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);

    CHECK_INT(inbox_store_conversation_get(f.store, f.org,
                                           alice.conversation_id, &c, NULL),
              INBOX_OK);
    CHECK_STR(c.last_message.sent_by, pat);
    CHECK_STR(c.last_message.campaign_id, "");
    inbox_conversation_free(&c);

    CHECK_INT(inbox_store_conversation_get(f.store, f.org,
                                           bob.conversation_id, &c, NULL),
              INBOX_OK);
    CHECK_STR(c.last_message.sent_by, "");
    CHECK_STR(c.last_message.campaign_id, id);
    inbox_conversation_free(&c);

    CHECK_INT(inbox_store_conversation_get(f.store, f.org,
                                           carol.conversation_id, &c, NULL),
              INBOX_OK);
    CHECK_STR(c.last_message.sent_by, "");
    CHECK_STR(c.last_message.campaign_id, "");
    inbox_conversation_free(&c);

    fixture_close(&f);
}


/*
 * Migration 39: a draft made before revisions were kept is at revision
 * 0, and an edit made from that read is taken.
 */
TEST(migrating_starts_drafts_at_revision_0)
{
    char                  id[INBOX_ID_MAX];
    fixture_t             f;
    inbox_campaign_t      c;
    inbox_campaign_new_t  n;

    FIXTURE(&f);

    memset(&n, 0, sizeof(n));
    n.name = "Old draft";
    n.body = "Sale!";
    n.audience_all = 1;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          NULL),
              INBOX_OK);
    snprintf(id, sizeof(id), "%s", c.id);
    inbox_campaign_free(&c);
    inbox_store_close(f.store);
    f.store = NULL;

    CHECK_INT(db_exec(&f, UNDO_SCHEMA_ABOVE_42 UNDO_SCHEMA_40 UNDO_SCHEMA_39
                      "PRAGMA user_version = 38;"),
              SQLITE_OK);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);

    CHECK_INT(inbox_store_campaign_get(f.store, f.org, id, &c, NULL),
              INBOX_OK);
    CHECK_INT(c.revision, 0);
    inbox_campaign_free(&c);

    n.body = "Sale, edited";
    CHECK_INT(inbox_store_campaign_update(f.store, f.org, id, 0, &n, &c,
                                          NULL, NULL), INBOX_OK);
    CHECK_STR(c.body, "Sale, edited");
    CHECK_INT(c.revision, 1);
    inbox_campaign_free(&c);

    fixture_close(&f);
}


/*
 * Migration 38: a thread whose last message is a contact card alone
 * says so from then on; one whose last message is text has no type.
 */
TEST(migrating_gives_a_thread_the_type_of_its_last_attachment)
{
    fixture_t              f;
    inbound_t              m;
    inbox_conversation_t   c;
    inbox_ingest_result_t  card, text;

    FIXTURE(&f);

    inbound_init(&m, "MM1", ALICE, NUMBER, "", T0);
    m.in.media_count = 1;
    snprintf(m.in.media[0].url, sizeof(m.in.media[0].url),
             "https://api.twilio.com/media/ME1");
    snprintf(m.in.media[0].content_type, sizeof(m.in.media[0].content_type),
             "text/x-vcard");
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &card, NULL,
                                         NULL), INBOX_OK);
    inbound_init(&m, "SM2", BOB, NUMBER, "hello", T0);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &text, NULL,
                                         NULL), INBOX_OK);
    inbox_store_close(f.store);
    f.store = NULL;

    CHECK_INT(db_exec(&f, UNDO_SCHEMA_ABOVE_42 UNDO_SCHEMA_40 UNDO_SCHEMA_39
                      UNDO_SCHEMA_38 "PRAGMA user_version = 37;"), SQLITE_OK);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);

    CHECK_INT(inbox_store_conversation_get(f.store, f.org,
                                           card.conversation_id, &c, NULL),
              INBOX_OK);
    CHECK_STR(c.last_message.preview, "");
    CHECK_STR(c.last_message.media_type, "text/x-vcard");
    inbox_conversation_free(&c);

    CHECK_INT(inbox_store_conversation_get(f.store, f.org,
                                           text.conversation_id, &c, NULL),
              INBOX_OK);
    CHECK_STR(c.last_message.preview, "hello");
    CHECK_STR(c.last_message.media_type, "");
    inbox_conversation_free(&c);

    fixture_close(&f);
}


/*
 * Migration 35: a reply still in the outbox goes from its entry's number,
 * and is asked about with that number's credentials once the carrier
 * took it, though its thread's number is another since; one the carrier
 * took before is asked about with its thread's number, as it was.
 */
TEST(migrating_keeps_the_number_a_waiting_reply_goes_from)
{
    char                       sql[1024];
    fixture_t                  f;
    inbound_t                  m;
    inbox_error_t              err;
    inbox_number_t             second;
    inbox_event_list_t         events;
    inbox_ingest_result_t      a;
    inbox_outbox_batch_t       batch;
    inbox_outbox_record_t      rec;
    inbox_status_check_list_t  list;
    int64_t                    now;

    FIXTURE(&f);
    memset(&events, 0, sizeof(events));
    memset(&batch, 0, sizeof(batch));
    memset(&rec, 0, sizeof(rec));

    memset(&second, 0, sizeof(second));
    snprintf(second.org_id, sizeof(second.org_id), "%s", f.org);
    snprintf(second.e164, sizeof(second.e164), "+15550000003");
    second.carrier = INBOX_CARRIER_TWILIO;
    second.account_sid = (char *) "AC00000000000000000000000000000002";
    second.auth_token = (char *) "second secret";
    CHECK_INT(inbox_store_number_add(f.store, &second, NULL), INBOX_OK);

    inbound_init(&m, "SM1", ALICE, "+15550000003", "hi", T0);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &a, NULL, NULL),
              INBOX_OK);
    CHECK_INT(person_replies(&f, a.conversation_id), 0);
    inbox_store_close(f.store);
    f.store = NULL;

    /* before 35: one the carrier took 20 minutes ago, and Alice's thread
     * moved to the first number since */
    now = inbox_now_ms();
    snprintf(sql, sizeof(sql),
             "INSERT INTO messages (org_id, conversation_id, direction,"
             "  body, status, created_at, provider, provider_id,"
             "  submitted_at)"
             "  SELECT org_id, id, 'outbound', 'earlier', 'sent', %lld,"
             "  'twilio', 'SMbefore', %lld FROM conversations;"
             "UPDATE conversations SET number = '" NUMBER "';",
             (long long) now, (long long) (now - 20 * MINUTE));
    CHECK_INT(db_exec(&f, "%s", UNDO_SCHEMA_ABOVE_42 UNDO_SCHEMA_40
                                UNDO_SCHEMA_39 UNDO_SCHEMA_38 UNDO_SCHEMA_37
                                UNDO_SCHEMA_36 UNDO_SCHEMA_35
                                "PRAGMA user_version = 34;"),
              SQLITE_OK);
    CHECK_INT(db_exec(&f, "%s", sql), SQLITE_OK);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);

    CHECK_INT(inbox_store_outbox_claim(f.store, now, now, 10, 0,
                                       INBOX_OUTBOX_BULK, NULL, &batch, &err),
              INBOX_OK);
    CHECK_INT(batch.count, 1);
    if (batch.count == 1) {
        CHECK_STR(batch.items[0].number.e164, "+15550000003");
        rec.entry_id = batch.items[0].id;
        rec.attempt = batch.items[0].attempt;
        rec.result.outcome = INBOX_SEND_ACCEPTED;
        rec.result.carrier = INBOX_CARRIER_TWILIO;
        snprintf(rec.result.provider_id, sizeof(rec.result.provider_id),
                 "SMafter");
        rec.result.status = INBOX_DELIVERY_SENT;
        CHECK_INT(inbox_store_outbox_results(f.store, &rec, 1, now, &events,
                                             &err), INBOX_OK);
        CHECK_INT(rec.status, INBOX_OK);
    }
    inbox_outbox_batch_free(&batch);
    inbox_event_list_free(&events);

    CHECK_INT(inbox_store_status_checks_claim(f.store, now + 10 * MINUTE, 0,
                                              10, &list, &err), INBOX_OK);
    CHECK_INT(list.count, 2);
    if (list.count == 2) {
        CHECK_STR(list.items[0].provider_id, "SMbefore");
        CHECK_STR(list.items[0].number.e164, NUMBER);
        CHECK_STR(list.items[1].provider_id, "SMafter");
        CHECK_STR(list.items[1].number.e164, "+15550000003");
        CHECK_STR(list.items[1].number.auth_token, "second secret");
    }
    inbox_status_check_list_free(&list);

    fixture_close(&f);
}


/*
 * Migration 32: a thread without a message (a contact added or imported
 * before) leaves the tabs' counts, whatever it was marked, and the lists;
 * its first message brings it in.
 */
TEST(migrating_leaves_threads_without_messages_out_of_the_counts)
{
    char                       id[INBOX_ID_MAX], bob[INBOX_ID_MAX];
    fixture_t                  f;
    inbox_contact_record_t     c;
    inbox_conversation_page_t  page;

    FIXTURE(&f);
    CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, NULL, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, BOB, "Bob", id,
                                         NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_get(f.store, f.org, id, &c, NULL),
              INBOX_OK);
    snprintf(bob, sizeof(bob), "%s", c.conversation_id);
    inbox_contact_record_free(&c);
    CHECK_INT(act(&f, bob, INBOX_ACTION_STAR, NULL), INBOX_OK);
    inbox_store_close(f.store);
    f.store = NULL;

    CHECK_INT(db_exec(&f, UNDO_SCHEMA_ABOVE_32 UNDO_SCHEMA_32
                      "PRAGMA user_version = 31;"),
              SQLITE_OK);
    CHECK_INT(db_int(&f, "SELECT count_all FROM orgs"), 2);
    CHECK_INT(db_int(&f, "SELECT count_starred FROM orgs"), 1);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);

    CHECK_INT(list(&f, f.org, INBOX_FILTER_ALL, NULL, &page), INBOX_OK);
    CHECK_INT(page.count, 1);
    CHECK_INT(page.counts[INBOX_FILTER_ALL], 1);
    CHECK_INT(page.counts[INBOX_FILTER_STARRED], 0);
    inbox_conversation_page_free(&page);
    CHECK_INT(list_count(&f, INBOX_FILTER_STARRED, NULL), 0);

    CHECK_INT(receive(&f, "SM2", BOB, "hi", T0 + 1, NULL, NULL), INBOX_OK);
    CHECK_INT(list(&f, f.org, INBOX_FILTER_STARRED, NULL, &page), INBOX_OK);
    CHECK_INT(page.count, 1);
    CHECK_INT(page.counts[INBOX_FILTER_ALL], 2);
    CHECK_INT(page.counts[INBOX_FILTER_STARRED], 1);
    inbox_conversation_page_free(&page);

    fixture_close(&f);
}


/* A contact with the tags given (NULL-terminated); its id. */
static inbox_status_t
contact_tagged(fixture_t *f, const char *phone, const char *const *tags,
    char id[INBOX_ID_MAX])
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

    rc = inbox_store_contact_create(f->store, f->org, phone, &edit, &c, NULL,
                                    NULL);
    if (rc == INBOX_OK) {
        snprintf(id, INBOX_ID_MAX, "%s", c.id);
        inbox_contact_record_free(&c);
    }

    inbox_tags_free(&edit.tags);

    return rc;
}


/* Migration 30: a store from before has its tags counted from its rows
 * (each once in any case, spelled as its first contact spells it, the
 * opted-out contacts not sendable), a tag added by hand then too; the
 * counts follow the changes after. */
TEST(migrating_counts_the_tags_there_are)
{
    char              alice[INBOX_ID_MAX], bob[INBOX_ID_MAX];
    char              carol[INBOX_ID_MAX];
    fixture_t         f;
    inbox_tag_page_t  page;

    FIXTURE(&f);
    CHECK_INT(contact_tagged(&f, ALICE, (const char *[]) { "VIP", "spring",
                                                         NULL }, alice),
              INBOX_OK);
    CHECK_INT(contact_tagged(&f, BOB, (const char *[]) { "vip", NULL }, bob),
              INBOX_OK);
    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, bob,
                                          INBOX_OPT_OUT_MANUAL, NULL, T0, 0,
                                          NULL, NULL, NULL), INBOX_OK);
    inbox_store_close(f.store);
    f.store = NULL;

    CHECK_INT(db_exec(&f, UNDO_SCHEMA_ABOVE_29 "PRAGMA user_version = 29;"
                      "INSERT INTO contact_tags (contact_id, org_id, tag)"
                      " SELECT id, org_id, 'Spring' FROM contacts"
                      " WHERE phone = '" BOB "';"), SQLITE_OK);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);

    CHECK_INT(inbox_store_tags_list(f.store, f.org, &page, NULL), INBOX_OK);
    CHECK_INT(page.count, 2);
    CHECK_STR(page.items[0].tag, "spring");
    CHECK_INT(page.items[0].contacts, 2);
    CHECK_INT(page.items[0].sendable, 1);
    CHECK_STR(page.items[1].tag, "VIP");
    CHECK_INT(page.items[1].contacts, 2);
    CHECK_INT(page.items[1].sendable, 1);
    inbox_tag_page_free(&page);

    /* and kept after: a contact tagged, one opted back in */
    CHECK_INT(contact_tagged(&f, "+15553334444",
                             (const char *[]) { "Vip", NULL }, carol),
              INBOX_OK);
    CHECK_INT(inbox_store_contact_opt_in(f.store, f.org, bob, "START",
                                         T0 + MINUTE, NULL, NULL, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_tags_list(f.store, f.org, &page, NULL), INBOX_OK);
    CHECK_INT(page.count, 2);
    CHECK_INT(page.items[0].sendable, 2);
    CHECK_STR(page.items[1].tag, "VIP");
    CHECK_INT(page.items[1].contacts, 3);
    CHECK_INT(page.items[1].sendable, 3);
    inbox_tag_page_free(&page);

    fixture_close(&f);
}


/*
 * Migration 31: a thread waits for a response while its newest inbound
 * message is newer than the newest outbound one that is no campaign's,
 * read from its messages.  Alice wrote and only a campaign came after,
 * the last message: she still waits; Bob had a person's reply; Carol
 * wrote last; Dave had only the campaign.
 */
TEST(migrating_keeps_threads_a_campaign_came_to_unresponded)
{
    fixture_t                  f;
    inbox_ingest_result_t      alice, bob, carol, dave;
    inbox_conversation_page_t  page;

    FIXTURE(&f);
    CHECK_INT(receive(&f, "SM1", ALICE, "uk", T0, &alice, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "hi", T0 + 1, &bob, NULL), INBOX_OK);
    CHECK_INT(person_replies(&f, bob.conversation_id), 0);
    CHECK_INT(receive(&f, "SM3", "+15553334444", "yo", T0 + 2, &carol,
                      NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM4", "+15554445555", "hey", T0 + 3, &dave,
                      NULL), INBOX_OK);
    CHECK_INT(person_replies(&f, dave.conversation_id), 0);
    inbox_store_close(f.store);
    f.store = NULL;

    /* the campaign to Alice and Dave, as the schema before stored it:
     * the last message of each thread (the triggers count Alice's out) */
    CHECK_INT(db_exec(&f, UNDO_SCHEMA_ABOVE_29
        "PRAGMA user_version = 29;"
        "INSERT INTO messages (org_id, conversation_id, direction, body,"
        "  status, created_at, campaign_id)"
        "  SELECT org_id, id, 'outbound', 'Sale!', 'queued', %lld, 7"
        "  FROM conversations WHERE id IN (%s, %s);"
        "UPDATE conversations SET last_direction = 'outbound',"
        "  last_message_id = (SELECT max(m.id) FROM messages m"
        "    WHERE m.conversation_id = conversations.id),"
        "  last_preview = 'Sale!', last_message_at = %lld,"
        "  last_activity_at = %lld"
        "  WHERE id IN (%s, %s);",
        (long long) inbox_now_ms() + MINUTE, alice.conversation_id,
        dave.conversation_id, (long long) inbox_now_ms() + MINUTE,
        (long long) inbox_now_ms() + MINUTE, alice.conversation_id,
        dave.conversation_id), SQLITE_OK);
    CHECK_INT(db_int(&f, "SELECT count_unresponded FROM orgs"), 1);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);

    CHECK_INT(list(&f, f.org, INBOX_FILTER_UNRESPONDED, NULL, &page),
              INBOX_OK);
    CHECK_INT(page.count, 2);
    CHECK_INT(page.counts[INBOX_FILTER_UNRESPONDED], 2);
    if (page.count == 2) {
        CHECK_STR(page.items[0].contact.phone, ALICE);
        CHECK_INT(page.items[0].last_message.direction, INBOX_OUTBOUND);
        CHECK_STR(page.items[1].contact.phone, "+15553334444");
    }
    inbox_conversation_page_free(&page);

    /* a person's reply is her response */
    CHECK_INT(person_replies(&f, alice.conversation_id), 0);
    CHECK_INT(list_count(&f, INBOX_FILTER_UNRESPONDED, NULL), 1);
    CHECK(!list_shows(&f, INBOX_FILTER_UNRESPONDED, NULL, ALICE));
    CHECK_INT(db_int(&f, "SELECT count_unresponded FROM orgs"), 1);

    fixture_close(&f);
}


/* Migration 27: uploads from before that a message or a campaign names
 * count as attached, and are never purged; the others are. */
TEST(migrating_keeps_the_uploads_messages_use)
{
    char                   files[INBOX_MEDIA_PURGE_MAX]
                                [INBOX_MEDIA_FILE_MAX];
    size_t                 removed;
    fixture_t              f;
    inbox_reply_t          r;
    inbox_media_t          media;
    inbox_reply_result_t   result;
    inbox_ingest_result_t  a;
    inbox_media_record_t   up;
    inbound_t              m;

    FIXTURE(&f);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 2, NULL), INBOX_OK);
    inbound_init(&m, "SM1", ALICE, NUMBER, "hi", T0);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &a, NULL, NULL),
              INBOX_OK);

    memset(&up, 0, sizeof(up));
    snprintf(up.content_type, sizeof(up.content_type), "image/png");
    up.bytes = 10;
    snprintf(up.file, sizeof(up.file), "%043d.png", 1);
    CHECK_INT(inbox_store_media_add(f.store, f.org, &up, NULL), INBOX_OK);
    snprintf(up.file, sizeof(up.file), "%043d.png", 2);
    CHECK_INT(inbox_store_media_add(f.store, f.org, &up, NULL), INBOX_OK);

    memset(&media, 0, sizeof(media));
    snprintf(media.url, sizeof(media.url), "https://x.test/media/%s",
             up.file);
    snprintf(media.content_type, sizeof(media.content_type), "image/png");
    snprintf(media.file, sizeof(media.file), "%s", up.file);
    media.state = INBOX_MEDIA_STORED;
    memset(&r, 0, sizeof(r));
    r.conversation_id = a.conversation_id;
    r.body = "hello";
    r.segments = 1;
    r.credits = 2;
    r.media = &media;
    r.media_count = 1;
    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &result, NULL,
                                       NULL), INBOX_OK);
    inbox_reply_result_free(&result);
    inbox_store_close(f.store);
    f.store = NULL;

    CHECK_INT(db_exec(&f, UNDO_SCHEMA_ABOVE_29
                      UNDO_SCHEMA_29 UNDO_SCHEMA_28 UNDO_SCHEMA_27
                      "PRAGMA user_version = 26;"),
              SQLITE_OK);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);

    CHECK_INT(inbox_store_media_purge(f.store, inbox_now_ms()
                                      + INBOX_MEDIA_KEEP_UNUSED_MS + 1000,
                                      INBOX_MEDIA_KEEP_UNUSED_MS,
                                      INBOX_MEDIA_PURGE_MAX, NO_DIR, files,
                                      &removed, NULL), INBOX_OK);
    CHECK_INT(removed, 1);
    CHECK(strncmp(files[0], "0000", 4) == 0
          && strcmp(files[0] + 42, "1.png") == 0);

    fixture_close(&f);
}


/* Migration 26: a thread from before does not know which number its
 * contact texted, and its replies go from the first number, as they did;
 * its contact's next message makes them go from the number texted. */
TEST(migrating_leaves_older_threads_replying_from_the_first_number)
{
    fixture_t              f;
    inbox_reply_t          r;
    inbox_number_t         number;
    inbox_reply_result_t   result;
    inbox_ingest_result_t  a;
    inbound_t              m;

    FIXTURE(&f);
    memset(&number, 0, sizeof(number));
    snprintf(number.org_id, sizeof(number.org_id), "%s", f.org);
    snprintf(number.e164, sizeof(number.e164), "+15550000003");
    number.carrier = INBOX_CARRIER_TWILIO;
    number.auth_token = (char *) "secret";
    CHECK_INT(inbox_store_number_add(f.store, &number, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 2, NULL), INBOX_OK);
    inbound_init(&m, "SM1", ALICE, "+15550000003", "hi", T0);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &a, NULL, NULL),
              INBOX_OK);
    inbox_store_close(f.store);
    f.store = NULL;

    CHECK_INT(db_exec(&f, UNDO_SCHEMA_ABOVE_29
                      UNDO_SCHEMA_29 UNDO_SCHEMA_28 UNDO_SCHEMA_27
                          UNDO_SCHEMA_26 "PRAGMA user_version = 25;"),
              SQLITE_OK);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM conversations"
                         " WHERE number IS NULL"), 1);

    memset(&r, 0, sizeof(r));
    r.conversation_id = a.conversation_id;
    r.body = "hello";
    r.segments = 1;
    r.credits = 1;
    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &result, NULL,
                                       NULL), INBOX_OK);
    inbox_reply_result_free(&result);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM outbox"
                         " WHERE from_e164 = '" NUMBER "'"), 1);

    inbound_init(&m, "SM2", ALICE, "+15550000003", "again", T0 + MINUTE);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &a, NULL, NULL),
              INBOX_OK);
    r.body = "yes?";
    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &result, NULL,
                                       NULL), INBOX_OK);
    inbox_reply_result_free(&result);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM outbox"
                         " WHERE from_e164 = '+15550000003'"), 1);

    fixture_close(&f);
}


/* Migration 25: an organization made before it has no default country:
 * its numbers without a country code are read as the server's, as they
 * were; one can be set after. */
TEST(migrating_leaves_organizations_the_servers_country)
{
    char                   country[INBOX_COUNTRY_MAX];
    fixture_t              f;
    inbox_settings_edit_t  edit;

    FIXTURE(&f);
    inbox_store_close(f.store);
    f.store = NULL;

    CHECK_INT(db_exec(&f, UNDO_SCHEMA_ABOVE_29
                      UNDO_SCHEMA_29 UNDO_SCHEMA_28 UNDO_SCHEMA_27
                      UNDO_SCHEMA_26 UNDO_SCHEMA_25
                      "PRAGMA user_version = 24;"),
              SQLITE_OK);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);
    CHECK_INT(inbox_store_default_country(f.store, f.org, "CA", country,
                                          NULL), INBOX_OK);
    CHECK_STR(country, "CA");

    memset(&edit, 0, sizeof(edit));
    CHECK_INT(inbox_settings_set_default_country(&edit, "GB", NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_settings_update(f.store, f.org, &edit, NULL, NULL,
                                          NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_default_country(f.store, f.org, "CA", country,
                                          NULL), INBOX_OK);
    CHECK_STR(country, "GB");

    fixture_close(&f);
}


/* Migration 24: an early report kept before it was not the carrier's
 * last (its hold waits for a receipt or the expiry, as it did); one kept
 * after keeps whether it was (Telnyx's message.finalized). */
TEST(migrating_keeps_early_reports_as_not_final)
{
    fixture_t              f;
    inbox_error_t          err;
    inbox_status_report_t  r;

    FIXTURE(&f);
    inbox_store_close(f.store);
    f.store = NULL;

    CHECK_INT(db_exec(&f, UNDO_SCHEMA_ABOVE_29
                      UNDO_SCHEMA_29 UNDO_SCHEMA_28 UNDO_SCHEMA_27
                          UNDO_SCHEMA_26 UNDO_SCHEMA_25 UNDO_SCHEMA_24
                      "PRAGMA user_version = 23;"
                      "INSERT INTO early_reports (org_id, provider,"
                      " provider_id, status, error_code, received_at)"
                      " SELECT id, 'telnyx', '40e1d001', 'sent', NULL, %lld"
                      " FROM orgs WHERE name = 'Acme';", (long long) T0),
              SQLITE_OK);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);
    CHECK_INT(db_int(&f, "SELECT final FROM early_reports"
                         " WHERE provider_id = '40e1d001'"), 0);

    memset(&r, 0, sizeof(r));
    r.org_id = f.org;
    r.carrier = INBOX_CARRIER_TELNYX;
    r.provider_id = "40e1d002";
    r.delivery = INBOX_DELIVERY_SENT;
    r.final = 1;
    CHECK_INT(inbox_store_message_status_updates(f.store, &r, 1, NULL,
                                                 &err), INBOX_OK);
    CHECK_INT(r.status, INBOX_OK);
    CHECK_INT(db_int(&f, "SELECT final FROM early_reports"
                         " WHERE provider_id = '40e1d002'"), 1);

    fixture_close(&f);
}


/* Migration 22: a number stored before it is answered by the inbox, as
 * before; its STOP is still answered, and the number can be set so. */
TEST(migrating_keeps_the_inbox_answering_keywords_on_older_numbers)
{
    fixture_t              f;
    inbox_number_t         number;
    inbox_ingest_result_t  a;

    FIXTURE(&f);
    inbox_store_close(f.store);
    f.store = NULL;

    CHECK_INT(db_exec(&f, UNDO_SCHEMA_ABOVE_29
                      UNDO_SCHEMA_29 UNDO_SCHEMA_28 UNDO_SCHEMA_27
                          UNDO_SCHEMA_26 UNDO_SCHEMA_25 UNDO_SCHEMA_24
                      UNDO_SCHEMA_23 UNDO_SCHEMA_22
                      "PRAGMA user_version = 21;"), SQLITE_OK);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);

    CHECK_INT(inbox_store_number_find(f.store, NUMBER, &number, NULL),
              INBOX_OK);
    CHECK_INT(number.carrier_answers_keywords, 0);
    CHECK_INT(receive(&f, "SM1", ALICE, "STOP", T0, &a, NULL), INBOX_OK);
    CHECK_INT(a.carrier_answers_keywords, 0);
    CHECK_INT(a.answered, 1);

    number.carrier_answers_keywords = 1;
    CHECK_INT(inbox_store_number_update(f.store, &number, NULL), INBOX_OK);
    inbox_number_free(&number);
    CHECK_INT(db_int(&f, "SELECT carrier_answers_keywords FROM numbers"),
              1);

    fixture_close(&f);
}


/* Migration 21: a contact that opted in before it keeps the time of its
 * last opt-in, from its timeline, so that a carrier's late refusal of a
 * send from before then leaves it opted in. */
TEST(migrating_keeps_the_last_opt_in_of_each_contact)
{
    char                    alice[INBOX_ID_MAX], bob[INBOX_ID_MAX];
    fixture_t               f;
    inbox_ingest_result_t   a;
    inbox_contact_record_t  got;

    FIXTURE(&f);
    CHECK_INT(receive(&f, "SM1", ALICE, "STOP", T0, &a, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", ALICE, "START", T0 + MINUTE, &a, NULL),
              INBOX_OK);
    CHECK_INT(receive(&f, "SM3", ALICE, "STOP", T0 + 2 * MINUTE, &a, NULL),
              INBOX_OK);
    CHECK_INT(receive(&f, "SM4", ALICE, "START", T0 + 3 * MINUTE, &a, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, BOB, "Bob", bob,
                                         NULL), INBOX_OK);
    inbox_store_close(f.store);
    f.store = NULL;

    CHECK_INT(db_exec(&f, UNDO_SCHEMA_ABOVE_29
                      UNDO_SCHEMA_29 UNDO_SCHEMA_28 UNDO_SCHEMA_27
                          UNDO_SCHEMA_26 UNDO_SCHEMA_25 UNDO_SCHEMA_24
                      UNDO_SCHEMA_23 UNDO_SCHEMA_22 UNDO_SCHEMA_21
                      "PRAGMA user_version = 20;"),
              SQLITE_OK);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);
    CHECK_INT(db_int(&f, "SELECT opted_in_at FROM contacts"
                         " WHERE phone = '" ALICE "'"), T0 + 3 * MINUTE);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM contacts"
                         " WHERE opted_in_at IS NULL"), 1);

    /* the carrier's refusal of a send before the last START: none */
    snprintf(alice, sizeof(alice), "%lld",
             (long long) db_int(&f, "SELECT id FROM contacts"
                                    " WHERE phone = '" ALICE "'"));
    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, alice,
                                          INBOX_OPT_OUT_CARRIER, NULL, 0,
                                          T0 + 2 * MINUTE, &got, NULL, NULL),
              INBOX_OK);
    CHECK_INT(got.opted_out, 0);
    inbox_contact_record_free(&got);

    fixture_close(&f);
}


/* Migration 20: the threads of contacts who never wrote (added or
 * imported before it) lose the activity time that listed them first. */
TEST(migrating_puts_threads_without_messages_last)
{
    char                   id[INBOX_ID_MAX];
    fixture_t              f;
    inbox_ingest_result_t  a;

    FIXTURE(&f);
    CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, &a, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, BOB, "Bob", id,
                                         NULL), INBOX_OK);
    inbox_store_close(f.store);
    f.store = NULL;

    CHECK_INT(db_exec(&f, "UPDATE conversations SET last_activity_at = %lld"
                      " WHERE last_message_id IS NULL;"
                      UNDO_SCHEMA_ABOVE_29
                      UNDO_SCHEMA_29 UNDO_SCHEMA_28 UNDO_SCHEMA_27
                      UNDO_SCHEMA_26 UNDO_SCHEMA_25 UNDO_SCHEMA_24
                      UNDO_SCHEMA_23 UNDO_SCHEMA_22 UNDO_SCHEMA_21
                      "PRAGMA user_version = 19;",
                      (long long) T0 + 9),
              SQLITE_OK);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM conversations"
                         " WHERE last_activity_at = 0"), 1);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM conversations"
                         " WHERE last_activity_at = 0"
                         " AND last_message_id IS NULL"), 1);

    fixture_close(&f);
}


/* Migration 5 counts the threads a store has already, as every later
 * change keeps counting them. */
TEST(migrating_counts_the_threads_there_are)
{
    fixture_t                  f;
    inbox_ingest_result_t      a, b, c;
    inbox_conversation_page_t  page;

    FIXTURE(&f);
    CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, &a, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "hi", T0 + 1, &b, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM3", "+15553334444", "yo", T0 + 2, &c, NULL),
              INBOX_OK);
    CHECK_INT(act(&f, a.conversation_id, INBOX_ACTION_STAR, NULL), INBOX_OK);
    CHECK_INT(act(&f, b.conversation_id, INBOX_ACTION_READ, NULL), INBOX_OK);
    CHECK_INT(act(&f, c.conversation_id, INBOX_ACTION_ARCHIVE, NULL),
              INBOX_OK);
    inbox_store_close(f.store);
    f.store = NULL;

    CHECK_INT(db_exec(&f, UNDO_SCHEMA_7 UNDO_SCHEMA_6 UNDO_SCHEMA_5
                      "PRAGMA user_version = 4;"),
              SQLITE_OK);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);

    CHECK_INT(list(&f, f.org, INBOX_FILTER_ALL, NULL, &page), INBOX_OK);
    CHECK_INT(page.unread_total, 1);
    CHECK_INT(page.counts[INBOX_FILTER_ALL], 2);
    CHECK_INT(page.counts[INBOX_FILTER_UNREAD], 1);
    CHECK_INT(page.counts[INBOX_FILTER_UNRESPONDED], 2);
    CHECK_INT(page.counts[INBOX_FILTER_STARRED], 1);
    CHECK_INT(page.counts[INBOX_FILTER_ARCHIVED], 1);
    inbox_conversation_page_free(&page);

    fixture_close(&f);
}


TEST(migrating_keeps_the_ids_of_stored_frames)
{
    char                   sql[1024];
    fixture_t              f;
    inbox_ingest_result_t  r;

    FIXTURE(&f);
    CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, &r, NULL), INBOX_OK);
    inbox_store_close(f.store);
    f.store = NULL;

    /* back to schema 3, its events as they were stored then */
    CHECK_INT(db_exec(&f, UNDO_SCHEMA_7 UNDO_SCHEMA_6 UNDO_SCHEMA_5),
              SQLITE_OK);
    snprintf(sql, sizeof(sql),
        "DROP TABLE store_info; DROP TABLE events;"
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

    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE seq = 1"
             " AND epoch = 'e1' AND message_id = %s AND conversation_id = %s"
             " AND unread_total IS NULL AND created_at = 5",
             r.message_id, r.conversation_id);
    CHECK_INT(db_int(&f, sql), 1);
    CHECK_INT(db_int(&f, "SELECT unread_total FROM events WHERE seq = 2"), 7);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM store_info"), 1);

    fixture_close(&f);
}


/* A store from before the organization counted its contacts counts
 * those there are, each organization its own, and then each new one. */
TEST(migrating_counts_each_organizations_contacts)
{
    char       other[INBOX_ID_MAX], id[INBOX_ID_MAX];
    fixture_t  f;

    FIXTURE(&f);
    CHECK_INT(org_add(f.store, "Other", OTHER, other), INBOX_OK);
    CHECK_INT(db_exec(&f,
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
        "  WHERE i < 7)"
        " INSERT INTO contacts (org_id, phone, created_at)"
        "  SELECT iif(i <= 5, %s, %s), printf('+1444%%07d', i), i FROM n;",
        f.org, other), SQLITE_OK);

    inbox_store_close(f.store);
    f.store = NULL;
    CHECK_INT(db_exec(&f, UNDO_SCHEMA_ABOVE_49 UNDO_SCHEMA_49 UNDO_SCHEMA_48
                      UNDO_SCHEMA_47 UNDO_SCHEMA_46 UNDO_SCHEMA_45
                      UNDO_SCHEMA_44
                      "PRAGMA user_version = 43;"), SQLITE_OK);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);
    CHECK_INT(contacts_counted(&f, f.org), 5);
    CHECK_INT(contacts_counted(&f, other), 2);

    CHECK_INT(inbox_store_contact_upsert(f.store, other, "+15557770000",
                                         "New", id, NULL), INBOX_OK);
    CHECK_INT(contacts_counted(&f, other), 3);

    fixture_close(&f);
}


/*
 * Migration 45: a contact's poll answers have an index of their own, and
 * a timeline's page of them reads it, not every send of the contact.
 */
TEST(migrating_indexes_each_contacts_poll_answers)
{
    fixture_t  f;

    FIXTURE(&f);
    inbox_store_close(f.store);
    f.store = NULL;
    CHECK_INT(db_exec(&f, UNDO_SCHEMA_ABOVE_49 UNDO_SCHEMA_49 UNDO_SCHEMA_48
                      UNDO_SCHEMA_47 "PRAGMA user_version = 46;"),
              SQLITE_OK);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM sqlite_master"
                         " WHERE name = 'campaign_recipients_answered'"), 1);

    fixture_close(&f);
}


/*
 * Migration 48: a campaign sent before keeps the recipients it showed
 * (every one suppressed so far taken as opted out at its send, which
 * nothing tells apart from an opt-out since); one sent after counts only
 * those opted out at its send apart, and keeps its recipients.
 */
TEST(migrating_keeps_the_recipients_each_campaign_showed)
{
    char                  a[INBOX_ID_MAX], b[INBOX_ID_MAX];
    char                  before[INBOX_ID_MAX];
    fixture_t             f;
    inbox_campaign_t      c;
    inbox_campaign_new_t  n;

    FIXTURE(&f);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, ALICE, "Alice", a,
                                         NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, BOB, "Bob", b,
                                         NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, b,
                                          INBOX_OPT_OUT_MANUAL, NULL, T0, 0,
                                          NULL, NULL, NULL), INBOX_OK);

    memset(&n, 0, sizeof(n));
    n.name = "Sale";
    n.body = "Sale!";
    n.audience_all = 1;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          NULL),
              INBOX_OK);
    snprintf(before, sizeof(before), "%s", c.id);
    inbox_campaign_free(&c);
    CHECK_INT(inbox_store_campaign_act(f.store, f.org, before,
                                       INBOX_CAMPAIGN_SEND, T0, &c, NULL, NULL),
              INBOX_OK);
    inbox_campaign_free(&c);

    /* before 48, Alice opting out mid-send took her out of the
     * recipients: it showed none */
    inbox_store_close(f.store);
    f.store = NULL;
    CHECK_INT(db_exec(&f, UNDO_SCHEMA_ABOVE_49 UNDO_SCHEMA_49 UNDO_SCHEMA_48
                      "PRAGMA user_version = 47;"
                      "UPDATE campaign_recipients SET state = 'suppressed'"
                      " WHERE contact_id = %s;", a), SQLITE_OK);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);
    CHECK_INT(inbox_store_campaign_get(f.store, f.org, before, &c, NULL),
              INBOX_OK);
    CHECK_INT(c.counts.audience, 2);
    CHECK_INT(c.counts.suppressed, 2);
    CHECK_INT(c.counts.excluded, 2);
    CHECK_INT(inbox_campaign_recipients(c.counts.audience,
                                        c.counts.excluded), 0);
    inbox_campaign_free(&c);

    /* one sent now: Bob, opted out, excluded; Alice a recipient */
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          NULL),
              INBOX_OK);
    snprintf(before, sizeof(before), "%s", c.id);
    inbox_campaign_free(&c);
    CHECK_INT(inbox_store_campaign_act(f.store, f.org, before,
                                       INBOX_CAMPAIGN_SEND, T0 + MINUTE, &c,
                                       NULL, NULL), INBOX_OK);
    CHECK_INT(c.counts.excluded, 1);
    CHECK_INT(inbox_campaign_recipients(c.counts.audience,
                                        c.counts.excluded), 1);
    inbox_campaign_free(&c);

    fixture_close(&f);
}

/* An upload of file "%043d.png" of n, and its media as a reply or a
 * campaign names it; its id in id. */
static void
upload_numbered(fixture_t *f, int n, inbox_media_t *media,
    char id[INBOX_ID_MAX])
{
    inbox_media_record_t  up;

    memset(&up, 0, sizeof(up));
    snprintf(up.content_type, sizeof(up.content_type), "image/png");
    up.bytes = 10;
    snprintf(up.file, sizeof(up.file), "%043d.png", n);
    CHECK_INT(inbox_store_media_add(f->store, f->org, &up, NULL), INBOX_OK);
    snprintf(id, INBOX_ID_MAX, "%s", up.id);

    memset(media, 0, sizeof(inbox_media_t));
    snprintf(media->url, sizeof(media->url), "https://x.test/media/%s",
             up.file);
    snprintf(media->content_type, sizeof(media->content_type), "image/png");
    snprintf(media->file, sizeof(media->file), "%s", up.file);
    snprintf(media->upload_id, sizeof(media->upload_id), "%s", up.id);
    media->state = INBOX_MEDIA_STORED;
}


/*
 * Migration 49: an upload a draft's edit dropped before stayed attached,
 * never purged; it is released by the migration, so purged a grace
 * period after it, while what a reply or a draft names stays.  An edit
 * since releases what it drops, the grace counting from the edit
 * however old the upload.
 */
TEST(migrating_releases_the_uploads_drafts_dropped)
{
    char                   id[5][INBOX_ID_MAX], draft[INBOX_ID_MAX];
    char                   files[INBOX_MEDIA_PURGE_MAX]
                                [INBOX_MEDIA_FILE_MAX];
    size_t                 i, removed;
    int64_t                now;
    fixture_t              f;
    inbox_reply_t          r;
    inbox_media_t          media[5], kept[3];
    inbox_campaign_t       c;
    inbox_reply_result_t   result;
    inbox_campaign_new_t   n;
    inbox_ingest_result_t  a;
    inbound_t              m;

    FIXTURE(&f);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 2, NULL), INBOX_OK);
    inbound_init(&m, "SM1", ALICE, NUMBER, "hi", T0);
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &a, NULL, NULL),
              INBOX_OK);

    /* 1: the draft's, dropped by its edit; 2: the draft's still; 3: a
     * reply's; 4: never used; 5: the draft's, dropped after 49 */
    for (i = 0; i < 5; i++) {
        upload_numbered(&f, (int) i + 1, &media[i], id[i]);
    }

    memset(&n, 0, sizeof(n));
    n.name = "Pictures";
    n.body = "Look";
    n.audience_all = 1;
    kept[0] = media[0];
    kept[1] = media[1];
    kept[2] = media[4];
    n.media = kept;
    n.media_count = 3;
    CHECK_INT(inbox_store_campaign_create(f.store, f.org, &n, T0, &c, NULL,
                                          NULL),
              INBOX_OK);
    snprintf(draft, sizeof(draft), "%s", c.id);
    inbox_campaign_free(&c);
    n.media = &kept[1];
    n.media_count = 2;
    CHECK_INT(inbox_store_campaign_update(f.store, f.org, draft, 0, &n, &c,
                                          NULL, NULL), INBOX_OK);
    inbox_campaign_free(&c);

    memset(&r, 0, sizeof(r));
    r.conversation_id = a.conversation_id;
    r.body = "hello";
    r.segments = 1;
    r.credits = 2;
    r.media = &media[2];
    r.media_count = 1;
    CHECK_INT(inbox_store_reply_accept(f.store, f.org, &r, &result, NULL,
                                       NULL), INBOX_OK);
    inbox_reply_result_free(&result);
    inbox_store_close(f.store);
    f.store = NULL;

    /* before 49 an edit left what it dropped attached; all were
     * uploaded two days ago */
    CHECK_INT(db_exec(&f, UNDO_SCHEMA_ABOVE_49 UNDO_SCHEMA_49
                      "PRAGMA user_version = 48;"
                      "UPDATE media SET attached = 1 WHERE id <> %s;"
                      "UPDATE media SET created_at = created_at - %lld;",
                      id[3], 2 * INBOX_MEDIA_KEEP_UNUSED_MS),
              SQLITE_OK);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);

    /* now: the one never used goes; the one dropped waits out the
     * grace from the migration */
    now = inbox_now_ms();
    CHECK_INT(inbox_store_media_purge(f.store, now,
                                      INBOX_MEDIA_KEEP_UNUSED_MS,
                                      INBOX_MEDIA_PURGE_MAX, NO_DIR, files,
                                      &removed, NULL), INBOX_OK);
    CHECK_INT(removed, 1);
    CHECK_STR(files[0], media[3].file);

    /* an edit dropping the two-day-old 5: the same, from the edit */
    n.media = &media[1];
    n.media_count = 1;
    CHECK_INT(inbox_store_campaign_update(f.store, f.org, draft, 1, &n, &c,
                                          NULL, NULL), INBOX_OK);
    inbox_campaign_free(&c);
    CHECK_INT(inbox_store_media_purge(f.store, now,
                                      INBOX_MEDIA_KEEP_UNUSED_MS,
                                      INBOX_MEDIA_PURGE_MAX, NO_DIR, files,
                                      &removed, NULL), INBOX_OK);
    CHECK_INT(removed, 0);

    /* past it both go, and only they */
    now += INBOX_MEDIA_KEEP_UNUSED_MS + MINUTE;
    CHECK_INT(inbox_store_media_purge(f.store, now,
                                      INBOX_MEDIA_KEEP_UNUSED_MS,
                                      INBOX_MEDIA_PURGE_MAX, NO_DIR, files,
                                      &removed, NULL), INBOX_OK);
    CHECK_INT(removed, 2);
    CHECK_STR(files[0], media[0].file);
    CHECK_STR(files[1], media[4].file);
    CHECK_INT(inbox_store_media_purge(f.store, now,
                                      INBOX_MEDIA_KEEP_UNUSED_MS,
                                      INBOX_MEDIA_PURGE_MAX, NO_DIR, files,
                                      &removed, NULL), INBOX_OK);
    CHECK_INT(removed, 0);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM media"), 2);

    fixture_close(&f);
}


/*
 * Migration 51: the uploads of before are marked by none, so a purge
 * after it marks, unlinks and deletes each as it would one made since.
 */
TEST(migrating_leaves_the_uploads_of_before_to_the_two_phase_purge)
{
    char                  files[INBOX_MEDIA_PURGE_MAX]
                               [INBOX_MEDIA_FILE_MAX];
    size_t                removed;
    fixture_t             f;
    inbox_media_record_t  up;

    FIXTURE(&f);
    memset(&up, 0, sizeof(up));
    snprintf(up.content_type, sizeof(up.content_type), "image/png");
    up.bytes = 10;
    snprintf(up.file, sizeof(up.file), "%043d.png", 1);
    CHECK_INT(inbox_store_media_add(f.store, f.org, &up, NULL), INBOX_OK);
    inbox_store_close(f.store);
    f.store = NULL;

    CHECK_INT(db_exec(&f, UNDO_SCHEMA_ABOVE_49 "PRAGMA user_version = 49;"),
              SQLITE_OK);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM media"
                         " WHERE purging_at IS NOT NULL"), 0);

    CHECK_INT(inbox_store_media_purge(f.store, inbox_now_ms()
                                      + INBOX_MEDIA_KEEP_UNUSED_MS + 1000,
                                      INBOX_MEDIA_KEEP_UNUSED_MS,
                                      INBOX_MEDIA_PURGE_MAX, NO_DIR, files,
                                      &removed, NULL), INBOX_OK);
    CHECK_INT(removed, 1);
    CHECK_STR(files[0], up.file);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM media"), 0);

    fixture_close(&f);
}


/*
 * A store from before 50 takes a campaign paused because the carrier
 * refused its number's account (carrier_account), in the store's own
 * connection and any other; its campaigns are as they were.
 */
TEST(migrating_lets_a_campaign_pause_for_its_numbers_account)
{
    char              id[INBOX_ID_MAX];
    fixture_t         f;
    inbox_campaign_t  c;

    FIXTURE(&f);
    campaign_cancelled(&f, id);
    inbox_store_close(f.store);
    f.store = NULL;

    CHECK_INT(db_exec(&f, UNDO_SCHEMA_ABOVE_49 "PRAGMA user_version = 49;"),
              SQLITE_OK);
    CHECK(db_exec(&f, "UPDATE campaigns SET status = 'paused',"
                      " paused_reason = 'carrier_account'") != SQLITE_OK);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM pragma_integrity_check"
                         " WHERE integrity_check <> 'ok'"), 0);

    CHECK_INT(inbox_store_campaign_get(f.store, f.org, id, &c, NULL),
              INBOX_OK);
    CHECK_INT(c.status, INBOX_CAMPAIGN_CANCELLED);
    inbox_campaign_free(&c);

    CHECK_INT(db_exec(&f, "UPDATE campaigns SET status = 'paused',"
                      " paused_reason = 'carrier_account'"), SQLITE_OK);
    CHECK(db_exec(&f, "UPDATE campaigns SET paused_reason = 'other'")
          != SQLITE_OK);
    CHECK_INT(inbox_store_campaign_get(f.store, f.org, id, &c, NULL),
              INBOX_OK);
    CHECK_INT(c.status, INBOX_CAMPAIGN_PAUSED);
    CHECK_INT(c.paused_reason, INBOX_PAUSE_CARRIER_ACCOUNT);
    inbox_campaign_free(&c);

    fixture_close(&f);
}


/*
 * A store from before the search index (schema 7) gets its contacts
 * indexed: migration 8 reads the names and numbers there are.
 */
TEST(migrating_indexes_the_contacts_there_are)
{
    char       id[INBOX_ID_MAX];
    fixture_t  f;

    FIXTURE(&f);
    CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, NULL, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, ALICE, "Alice Walker",
                                         id, NULL), INBOX_OK);
    inbox_store_close(f.store);
    f.store = NULL;

    CHECK_INT(db_exec(&f, UNDO_SCHEMA_ABOVE_10
                      UNDO_SCHEMA_10
                      UNDO_SCHEMA_9 UNDO_SCHEMA_8
                      "PRAGMA user_version = 7;"),
              SQLITE_OK);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM contacts_search"
                         " WHERE contacts_search MATCH 'name : \"walk\"'"),
              1);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM contacts_search"
                         " WHERE contacts_search MATCH 'digits : \"55512\"'"),
              1);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "walker"), 1);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "(555) 12"), 1);

    fixture_close(&f);
}


/* The first column of the first row of sql as text, into out. */
static void
db_text(const fixture_t *f, const char *sql, char *out, size_t size)
{
    sqlite3       *db;
    sqlite3_stmt  *stmt;

    out[0] = '\0';

    if (sqlite3_open(f->path, &db) == SQLITE_OK
        && sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK)
    {
        if (sqlite3_step(stmt) == SQLITE_ROW
            && sqlite3_column_text(stmt, 0) != NULL)
        {
            snprintf(out, size, "%s", sqlite3_column_text(stmt, 0));
        }

        sqlite3_finalize(stmt);
    }

    sqlite3_close(db);
}


/* Every index and trigger of contacts, by name, but those of later
 * steps than the undoing of 9 goes back to (the tags' and the contacts'
 * counts). */
#define CONTACTS_SCHEMA_NAMES                                               \
    "SELECT group_concat(name, ' ') FROM (SELECT type || ':' || name AS name" \
    " FROM sqlite_schema WHERE tbl_name = 'contacts'"                       \
    " AND type IN ('index', 'trigger') AND name NOT IN ('tag_counts_opt',"  \
    " 'contacts_counted', 'contacts_uncounted') ORDER BY name)"


/*
 * A store from before search keys (schema 17: the index held lower(name))
 * finds its contacts without case or accents once opened, renames
 * included, and one contact still pending for the index is indexed by
 * the next maintenance.
 */
TEST(migrating_finds_the_names_there_are_without_their_accents)
{
    char       id[INBOX_ID_MAX];
    fixture_t  f;

    FIXTURE(&f);
    CHECK_INT(receive(&f, "SM1", ALICE, "a", T0, NULL, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, ALICE,
                                         "Jos\xc3\xa9 Walker", id, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_maintain(f.store, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "b", T0 + 1, NULL, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, BOB,
                                         "\xc3\x89mile Stone", id, NULL),
              INBOX_OK);
    inbox_store_close(f.store);
    f.store = NULL;

    CHECK_INT(db_exec(&f, UNDO_SCHEMA_ABOVE_29
                      UNDO_SCHEMA_29 UNDO_SCHEMA_28 UNDO_SCHEMA_27
                          UNDO_SCHEMA_26 UNDO_SCHEMA_25 UNDO_SCHEMA_24
                      UNDO_SCHEMA_23 UNDO_SCHEMA_22 UNDO_SCHEMA_21
                      UNDO_SCHEMA_19
                      UNDO_SCHEMA_18
                      "PRAGMA user_version = 17;"),
              SQLITE_OK);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM contacts_search"
                         " WHERE contacts_search MATCH 'name : \"josé\"'"),
              1);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM contacts_search"
                         " WHERE contacts_search MATCH 'name : \"josé\"'"),
              0);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "jose walker"), 1);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "EMILE"), 1);
    CHECK_INT(inbox_store_maintain(f.store, NULL), INBOX_OK);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "EMILE"), 1);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "walker"), 1);

    /* renamed: found by the new name only, the old entry gone */
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, ALICE,
                                         "Jos\xc3\xa9 Stone", id, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_maintain(f.store, NULL), INBOX_OK);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "walker"), 0);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "stone"), 2);

    fixture_close(&f);
}


/*
 * A store from before the carrier source (schema 8) gets contacts made
 * again (SQLite cannot change a CHECK): every row with its id, so its
 * thread, tags and opt-out stay its own, every index and trigger of the
 * table there again, and the search index (made and pending) still
 * finding names and numbers, and following a rename.
 */
TEST(migrating_makes_contacts_again_keeping_rows_indexes_and_search)
{
    char                    id[INBOX_ID_MAX], before[1024], after[1024];
    fixture_t               f;
    inbox_tags_t            tags;
    inbox_contact_edit_t    edit;
    inbox_ingest_result_t   r;
    inbox_contact_record_t  alice, bob, got;

    FIXTURE(&f);
    memset(&edit, 0, sizeof(edit));
    memset(&tags, 0, sizeof(tags));

    CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, &r, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, ALICE,
                                         "Alice Walker", id, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, id,
                                          INBOX_OPT_OUT_MANUAL, NULL,
                                          T0 + MINUTE, 0, &alice, NULL, NULL),
              INBOX_OK);

    CHECK_INT(inbox_tags_add(&tags, "vip", 3, NULL), INBOX_OK);
    edit.set_name = 1;
    edit.name = "Bob Stone";
    edit.set_tags = 1;
    edit.tags = tags;
    CHECK_INT(inbox_store_contact_create(f.store, f.org, BOB, &edit, &bob, NULL,
                                         NULL), INBOX_OK);
    /* each thread with a message, so that the lists show it */
    CHECK_INT(receive(&f, "SM2", BOB, "hi", T0 + 1, NULL, NULL), INBOX_OK);

    /* Alice and Bob indexed, Carol only noted as pending */
    CHECK_INT(inbox_store_maintain(f.store, NULL), INBOX_OK);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, "+15553334444",
                                         "Carol Reed", id, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM3", "+15553334444", "yo", T0 + 2, NULL, NULL),
              INBOX_OK);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM contacts_search_pending"), 1);

    db_text(&f, CONTACTS_SCHEMA_NAMES, before, sizeof(before));
    CHECK(strstr(before, "trigger:contacts_search_update") != NULL);

    inbox_store_close(f.store);
    f.store = NULL;

    CHECK_INT(db_exec(&f, UNDO_SCHEMA_ABOVE_10
                      UNDO_SCHEMA_10
                      UNDO_SCHEMA_9 "PRAGMA user_version = 8;"),
              SQLITE_OK);
    db_text(&f, CONTACTS_SCHEMA_NAMES, after, sizeof(after));
    CHECK_STR(after, before);
    CHECK_INT(db_int(&f, "SELECT instr(sql, 'carrier') FROM sqlite_schema"
                         " WHERE name = 'contacts'"), 0);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);

    db_text(&f, CONTACTS_SCHEMA_NAMES, after, sizeof(after));
    CHECK_STR(after, before);
    CHECK(db_int(&f, "SELECT instr(sql, 'carrier') FROM sqlite_schema"
                     " WHERE name = 'contacts'") > 0);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM pragma_foreign_key_check"),
              0);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM pragma_integrity_check"
                         " WHERE integrity_check <> 'ok'"), 0);

    /* the rows, with their ids, threads, tags and opt-out */
    CHECK_INT(inbox_store_contact_get(f.store, f.org, alice.id, &got, NULL),
              INBOX_OK);
    CHECK_STR(got.name, "Alice Walker");
    CHECK_STR(got.conversation_id, r.conversation_id);
    CHECK_INT(got.opted_out, 1);
    CHECK_INT(got.opted_out_at, T0 + MINUTE);
    CHECK_STR(got.opt_out_source, "manual");
    inbox_contact_record_free(&got);

    CHECK_INT(inbox_store_contact_get(f.store, f.org, bob.id, &got, NULL),
              INBOX_OK);
    CHECK_INT(got.tags.count, 1);
    CHECK_STR(got.conversation_id, bob.conversation_id);
    inbox_contact_record_free(&got);

    /* the search: indexed, pending, and a rename followed */
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "walker"), 1);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "reed"), 1);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "(555) 987"), 1);
    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, BOB, "Robert Lane",
                                         id, NULL), INBOX_OK);
    CHECK_INT(inbox_store_maintain(f.store, NULL), INBOX_OK);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "stone"), 0);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "lane"), 1);
    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "reed"), 1);

    /* and the carrier may opt a contact out now */
    CHECK_INT(inbox_store_contact_opt_out(f.store, f.org, bob.id,
                                          INBOX_OPT_OUT_CARRIER, NULL, 0, 0,
                                          &got, NULL, NULL), INBOX_OK);
    CHECK_STR(got.opt_out_source, "carrier");
    inbox_contact_record_free(&got);

    inbox_contact_record_free(&alice);
    inbox_contact_record_free(&bob);
    inbox_tags_free(&tags);
    fixture_close(&f);
}


/* media */
/*
 * A store from before media copies (schema 9) gets a copy made of every
 * inbound image it holds: migration 10 makes them pending and due at
 * once, and the message shows each as pending until then.
 */
TEST(migrating_makes_the_stored_images_pending)
{
    fixture_t                 f;
    inbound_t                 m;
    inbox_message_page_t      page;
    inbox_ingest_result_t     r;
    inbox_media_fetch_list_t  due;

    FIXTURE(&f);
    inbound_init(&m, "MM1", ALICE, NUMBER, "", T0);
    m.in.media_count = 2;
    snprintf(m.in.media[0].url, sizeof(m.in.media[0].url), "https://c/0");
    snprintf(m.in.media[0].content_type, sizeof(m.in.media[0].content_type),
             "image/jpeg");
    snprintf(m.in.media[1].url, sizeof(m.in.media[1].url), "https://c/1");
    snprintf(m.in.media[1].content_type, sizeof(m.in.media[1].content_type),
             "image/png");
    CHECK_INT(inbox_store_inbound_ingest(f.store, &m.in, 1, &r, NULL, NULL),
              INBOX_OK);
    inbox_store_close(f.store);
    f.store = NULL;

    CHECK_INT(db_exec(&f, UNDO_SCHEMA_ABOVE_10
                      UNDO_SCHEMA_10
                      "PRAGMA user_version = 9;"),
              SQLITE_OK);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM message_media"), 2);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);

    CHECK_INT(inbox_store_messages_list(f.store, f.org, r.conversation_id,
                                        NULL, 10, &page, NULL), INBOX_OK);
    CHECK_INT(page.count, 1);
    if (page.count == 1) {
        CHECK_INT(page.items[0].media_count, 2);
        CHECK_INT(page.items[0].media[1].state, INBOX_MEDIA_PENDING);
    }
    inbox_message_page_free(&page);

    CHECK_INT(inbox_store_media_fetch_claim(f.store, T0, 10, &due, NULL),
              INBOX_OK);
    CHECK_INT(due.count, 2);
    if (due.count == 2) {
        CHECK_STR(due.items[0].url, "https://c/0");
        CHECK_STR(due.items[1].url, "https://c/1");
        CHECK_STR(due.items[1].number.auth_token, "secret");
    }
    inbox_media_fetch_list_free(&due);

    fixture_close(&f);
}


/*
 * A store from before replies (schema 10) keeps its credits: migration 11
 * starts each organization's ledger with what it has, so the ledger adds
 * up to the balance from the first day.
 */
TEST(migrating_starts_the_ledger_with_the_balance_there_is)
{
    fixture_t            f;
    inbox_billing_t      billing;
    inbox_ledger_page_t  page;

    FIXTURE(&f);
    inbox_store_close(f.store);
    f.store = NULL;

    CHECK_INT(db_exec(&f, UNDO_SCHEMA_ABOVE_10
                      "UPDATE orgs SET credits_balance = 42;"
                      "PRAGMA user_version = 10;"), SQLITE_OK);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);

    CHECK_INT(inbox_store_billing_get(f.store, f.org, &billing, NULL),
              INBOX_OK);
    CHECK_INT(billing.balance, 42);
    CHECK_STR(billing.plan, "per_message");
    CHECK_INT(inbox_store_ledger_list(f.store, f.org, NULL, 0, &page, NULL),
              INBOX_OK);
    CHECK_INT(page.count, 1);
    if (page.count == 1) {
        CHECK_INT(page.items[0].kind, INBOX_LEDGER_GRANT);
        CHECK_INT(page.items[0].credits, 42);
        CHECK_INT(page.items[0].balance, 42);
    }
    inbox_ledger_page_free(&page);

    /* and no balance goes below zero, whoever writes it */
    CHECK(db_exec(&f, "UPDATE orgs SET credits_balance = -1") != SQLITE_OK);

    fixture_close(&f);
}


/* A poll "Coming?" (Yes, No) to everyone, sent at noon (out of the
 * default quiet hours), handed over and taken by the carrier (only then
 * is it answered): handed of them; its id in id. */
static void
send_poll(fixture_t *f, char id[INBOX_ID_MAX], unsigned handed)
{
    size_t                     i;
    inbox_campaign_t           poll;
    inbox_campaign_new_t       n;
    inbox_send_result_t        res;
    inbox_event_list_t         events;
    inbox_outbox_batch_t       batch;
    inbox_campaign_dispatch_t  d;

    static const char *const   options[] = { "Yes", "No" };

    memset(&events, 0, sizeof(events));
    memset(&n, 0, sizeof(n));
    n.kind = INBOX_CAMPAIGN_KIND_POLL;
    n.question = "Coming?";
    n.options = options;
    n.option_count = 2;
    n.audience_all = 1;
    CHECK_INT(inbox_store_campaign_create(f->store, f->org, &n, T0, &poll,
                                          NULL, NULL), INBOX_OK);
    snprintf(id, INBOX_ID_MAX, "%s", poll.id);
    inbox_campaign_free(&poll);
    CHECK_INT(inbox_store_campaign_act(f->store, f->org, id,
                                       INBOX_CAMPAIGN_SEND, T0 + 720 * MINUTE,
                                       &poll, NULL, NULL), INBOX_OK);
    inbox_campaign_free(&poll);
    CHECK_INT(inbox_store_campaign_dispatch(f->store, T0 + 720 * MINUTE, 10,
                                            MEDIA_BASE, &d, &events,
                                            NULL), INBOX_OK);
    CHECK_INT(d.handed, handed);
    inbox_event_list_free(&events);

    CHECK_INT(inbox_store_outbox_claim(f->store, T0 + 720 * MINUTE,
                                       T0 + 720 * MINUTE, 10, 0,
                                       INBOX_OUTBOX_BULK, NULL, &batch,
                                       NULL), INBOX_OK);
    CHECK_INT(batch.count, handed);

    for (i = 0; i < batch.count; i++) {
        memset(&res, 0, sizeof(res));
        res.outcome = INBOX_SEND_ACCEPTED;
        res.carrier = INBOX_CARRIER_TWILIO;
        res.status = INBOX_DELIVERY_QUEUED;
        snprintf(res.provider_id, sizeof(res.provider_id), "SM-%s",
                 batch.items[i].message.id);
        CHECK_INT(inbox_store_outbox_result(f->store, batch.items[i].id,
                                            batch.items[i].attempt, &res,
                                            T0 + 720 * MINUTE, NULL, NULL,
                                            NULL), INBOX_OK);
    }

    inbox_outbox_batch_free(&batch);
}


/* A store of before polls' tallies were kept (schema 14) counts the
 * answers it has, and keeps counting the next ones (sent at noon, out of
 * the default quiet hours). */
TEST(migrating_counts_the_answers_of_polls_there_are)
{
    char                       sql[256], id[INBOX_ID_MAX];
    fixture_t                  f;
    inbox_poll_results_t       r;

    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, NULL, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", BOB, "hi", T0, NULL, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);

    send_poll(&f, id, 2);
    CHECK_INT(receive(&f, "SM3", ALICE, "yes", T0 + 722 * MINUTE, NULL, NULL),
              INBOX_OK);
    inbox_store_close(f.store);
    f.store = NULL;

    CHECK_INT(db_exec(&f, UNDO_SCHEMA_ABOVE_29
                      UNDO_SCHEMA_29 UNDO_SCHEMA_28 UNDO_SCHEMA_27
                          UNDO_SCHEMA_26 UNDO_SCHEMA_25 UNDO_SCHEMA_24
                      UNDO_SCHEMA_23 UNDO_SCHEMA_22 UNDO_SCHEMA_21
                      UNDO_SCHEMA_19
                      UNDO_SCHEMA_18
                      UNDO_SCHEMA_17 UNDO_SCHEMA_16
                      UNDO_SCHEMA_15
                      "PRAGMA user_version = 14;"),
              SQLITE_OK);

    f.store = store_open(f.path);
    CHECK(f.store != NULL);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);
    snprintf(sql, sizeof(sql), "SELECT answered_at FROM campaigns"
             " WHERE id = %s", id);
    CHECK_INT(db_int(&f, sql), T0 + 722 * MINUTE);

    CHECK_INT(receive(&f, "SM4", BOB, "No", T0 + 723 * MINUTE, NULL, NULL),
              INBOX_OK);
    CHECK_INT(inbox_store_poll_results(f.store, f.org, id, NULL, 0, &r, NULL),
              INBOX_OK);
    CHECK_INT(r.poll.tally[0], 1);
    CHECK_INT(r.poll.tally[1], 1);
    CHECK_INT(r.count, 2);
    inbox_poll_results_free(&r);
    CHECK_INT(db_int(&f, sql), T0 + 723 * MINUTE);

    fixture_close(&f);
}


/*
 * A search too short for the index walks at most 20,000 threads a page:
 * a rare match in a large store may come on a short page, even an empty
 * one, whose cursor goes on where the walk stopped.  Three characters
 * are looked up in the index: the same matches on the first page.
 */
TEST(a_short_search_walks_a_bounded_number_of_threads_a_page)
{
    char                        id[INBOX_ID_MAX], from[INBOX_PHONE_MAX];
    char                        cursor[INBOX_CURSOR_MAX];
    int                         i;
    size_t                      found, pages;
    fixture_t                   f;
    inbox_conversation_query_t  query;
    inbox_conversation_page_t   page;

    FIXTURE(&f);

    /* three Quinns, older than 20,000 threads of nameless numbers */
    for (i = 0; i < 3; i++) {
        snprintf(from, sizeof(from), "+1555000000%d", i);
        CHECK_INT(inbox_store_contact_upsert(f.store, f.org, from,
                                             "Quinn", id, NULL), INBOX_OK);
        CHECK_INT(receive(&f, i == 0 ? "SM0" : i == 1 ? "SM1" : "SM2", from,
                          "hi", T0 + i, NULL, NULL), INBOX_OK);
    }

    CHECK_INT(db_exec(&f,
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
        "  WHERE i < 20000)"
        " INSERT INTO contacts (org_id, phone, created_at)"
        "  SELECT %s, printf('+1444%%07d', i), 0 FROM n;"
        "INSERT INTO conversations (org_id, contact_id, last_activity_at,"
        "  created_at) SELECT org_id, id, %lld + id, 0 FROM contacts"
        "  WHERE phone LIKE '+1444%%';", f.org, (long long) T0 + 1000),
        SQLITE_OK);

    CHECK_INT(list_count(&f, INBOX_FILTER_ALL, "quinn"), 3);

    memset(&query, 0, sizeof(query));
    query.filter = INBOX_FILTER_ALL;
    query.q = "q";
    query.limit = 50;

    CHECK_INT(inbox_store_conversations_list(f.store, f.org, &query, &page,
                                             NULL), INBOX_OK);
    CHECK_INT(page.count, 0);
    CHECK(page.next_cursor[0] != '\0');

    found = 0;
    for (pages = 1; page.next_cursor[0] != '\0' && pages < 10; pages++) {
        snprintf(cursor, sizeof(cursor), "%s", page.next_cursor);
        inbox_conversation_page_free(&page);
        query.cursor = cursor;
        CHECK_INT(inbox_store_conversations_list(f.store, f.org, &query,
                                                 &page, NULL), INBOX_OK);
        found += page.count;
    }
    inbox_conversation_page_free(&page);

    CHECK_INT(found, 3);
    CHECK_INT(pages, 2);

    fixture_close(&f);
}


/*
 * The work a store's reads do, in SQLite's virtual machine steps: every
 * connection the process opens (sqlite3_auto_extension) adds each
 * statement's steps, when it finishes, to work_steps.  A read that looks
 * up an index takes as many steps however large the store; one that
 * scans takes more as the store grows.
 */
static int64_t  work_steps;


static int
work_statement_done(unsigned type, void *ctx, void *stmt, void *x)
{
    work_steps += sqlite3_stmt_status(stmt, SQLITE_STMTSTATUS_VM_STEP, 1);
    return 0;
}


static int
work_connection_opened(sqlite3 *db, const char **msg,
    const sqlite3_api_routines *api)
{
    return sqlite3_trace_v2(db, SQLITE_TRACE_PROFILE, work_statement_done,
                            NULL);
}


static void
work_count_start(void)
{
    sqlite3_auto_extension((void (*)(void)) work_connection_opened);
    work_steps = 0;
}


static void
work_count_stop(void)
{
    sqlite3_cancel_auto_extension((void (*)(void)) work_connection_opened);
}


/* The steps of reading a contact's campaigns and polls; -1 on a failure. */
static int64_t
contact_campaigns_steps(fixture_t *f, const char *contact,
    inbox_contact_campaigns_t *list)
{
    int64_t  before;

    memset(list, 0, sizeof(*list));
    before = work_steps;

    if (inbox_store_contact_campaigns(f->store, f->org, contact, list, NULL)
        != INBOX_OK)
    {
        return -1;
    }

    return work_steps - before;
}


/*
 * Opening a contact reads its own poll answers, not the organization's:
 * 5,000 other contacts answering a poll leave the work of showing
 * Alice's answer as it was (a scan of every answer took 150 ms at
 * 500,000).
 */
TEST(a_contacts_poll_answers_are_read_without_the_organizations)
{
    char                       id[INBOX_ID_MAX], alice[INBOX_ID_MAX];
    int64_t                    alone, among;
    fixture_t                  f;
    inbox_contact_campaigns_t  list;

    work_count_start();
    FIXTURE(&f);

    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, ALICE, "Alice",
                                         alice, NULL), INBOX_OK);
    CHECK_INT(receive(&f, "SM1", ALICE, "hello", T0, NULL, NULL), INBOX_OK);
    CHECK_INT(inbox_store_credits_grant(f.store, f.org, 10, NULL), INBOX_OK);

    send_poll(&f, id, 1);
    CHECK_INT(receive(&f, "SM2", ALICE, "yes", T0 + 722 * MINUTE, NULL, NULL),
              INBOX_OK);

    alone = contact_campaigns_steps(&f, alice, &list);
    CHECK(alone > 0);
    CHECK_INT(list.poll_count, 1);
    CHECK_INT(list.poll_count == 1 ? list.polls[0].answer : 0, 1);
    inbox_contact_campaigns_free(&list);

    /* the same poll sent to and answered by 5,000 others */
    CHECK_INT(db_exec(&f,
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
        "  WHERE i < 5000)"
        " INSERT INTO contacts (org_id, phone, created_at)"
        "  SELECT %s, printf('+1444%%07d', i), 0 FROM n;"
        "INSERT INTO campaign_recipients (campaign_id, contact_id, state,"
        "  due_at, sent_at, answer, answered_at)"
        "  SELECT %s, id, 'delivered', 0, %lld, 2, %lld + id FROM contacts"
        "  WHERE phone LIKE '+1444%%';", f.org, id,
        (long long) T0 + 720 * MINUTE, (long long) T0 + 721 * MINUTE),
        SQLITE_OK);

    among = contact_campaigns_steps(&f, alice, &list);
    CHECK_INT(list.poll_count, 1);
    CHECK_STR(list.poll_count == 1 ? list.polls[0].answer_text : NULL,
              "Yes");
    inbox_contact_campaigns_free(&list);

    if (among > alone + 50) {
        fprintf(stderr, "    %lld steps alone, %lld among 5,000\n",
                (long long) alone, (long long) among);
        CHECK(!"the work grows with the organization's answers");
    }

    fixture_close(&f);
    work_count_stop();
}


TEST(a_contacts_record_lists_its_newest_campaigns_and_answers)
{
    char                       alice[INBOX_ID_MAX];
    fixture_t                  f;
    inbox_error_t              err;
    inbox_contact_campaigns_t  list;

    FIXTURE(&f);

    CHECK_INT(inbox_store_contact_upsert(f.store, f.org, ALICE, "Alice",
                                         alice, NULL), INBOX_OK);

    /* five more polls than a record lists, each sent and answered */
    CHECK_INT(db_exec(&f,
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
        "  WHERE i < %d)"
        " INSERT INTO campaigns (id, org_id, kind, name, body, question,"
        "  audience_all, segments, credits, status, created_at)"
        "  SELECT 100000 + i, %s, 'poll', 'Poll ' || i, 'Q?', 'Q?', 1, 1,"
        "  1, 'done', %lld FROM n;"
        "INSERT INTO campaign_options (campaign_id, idx, text)"
        "  SELECT id, 0, 'Yes' FROM campaigns WHERE id > 100000;"
        "INSERT INTO campaign_recipients (campaign_id, contact_id, state,"
        "  due_at, sent_at, answer, answered_at)"
        "  SELECT id, %s, 'delivered', 0, %lld + id, 1, %lld + id"
        "  FROM campaigns WHERE id > 100000;",
        INBOX_CONTACT_CAMPAIGNS_MAX + 5, f.org, (long long) T0, alice,
        (long long) T0, (long long) T0 + MINUTE), SQLITE_OK);

    memset(&list, 0, sizeof(list));
    CHECK_INT(inbox_store_contact_campaigns(f.store, f.org, alice, &list,
                                            &err), INBOX_OK);
    CHECK_INT(list.campaign_count, INBOX_CONTACT_CAMPAIGNS_MAX);
    CHECK_INT(list.poll_count, INBOX_CONTACT_CAMPAIGNS_MAX);

    /* the newest of each, newest first */
    if (list.campaign_count > 0 && list.poll_count > 0) {
        CHECK_STR(list.campaigns[0].name, "Poll 1005");
        CHECK_INT(list.campaigns[list.campaign_count - 1].sent_at,
                  T0 + 100000 + 6);
        CHECK_INT(list.polls[0].answered_at, T0 + MINUTE + 101005);
    }

    inbox_contact_campaigns_free(&list);
    fixture_close(&f);
}


/* The steps of the first page of a filter, -1 on a failure; count its
 * threads. */
static int64_t
list_steps(fixture_t *f, inbox_filter_t filter, size_t *count)
{
    int64_t                    before, steps;
    inbox_conversation_page_t  page;

    before = work_steps;
    steps = -1;
    *count = 0;

    if (list(f, f->org, filter, NULL, &page) == INBOX_OK) {
        steps = work_steps - before;
        *count = page.count;
    }

    inbox_conversation_page_free(&page);
    return steps;
}


/*
 * The unresponded threads are listed from an index of their own
 * (migration 28): 5,000 threads answered since Alice's message leave the
 * work of listing hers as it was (each was passed before, and a page
 * with none passed all of the organization's threads).
 */
TEST(unresponded_threads_are_listed_without_passing_the_answered_ones)
{
    size_t     count;
    int64_t    alone, among;
    fixture_t  f;

    work_count_start();
    FIXTURE(&f);

    CHECK_INT(receive(&f, "SM1", ALICE, "anyone there?", T0, NULL, NULL),
              INBOX_OK);

    alone = list_steps(&f, INBOX_FILTER_UNRESPONDED, &count);
    CHECK(alone > 0);
    CHECK_INT(count, 1);

    CHECK_INT(db_exec(&f,
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
        "  WHERE i < 5000)"
        " INSERT INTO contacts (org_id, phone, created_at)"
        "  SELECT %s, printf('+1444%%07d', i), 0 FROM n;"
        "INSERT INTO conversations (org_id, contact_id, last_direction,"
        "  last_activity_at, created_at)"
        "  SELECT org_id, id, 'outbound', %lld + id, 0 FROM contacts"
        "  WHERE phone LIKE '+1444%%';", f.org, (long long) T0 + MINUTE),
        SQLITE_OK);

    among = list_steps(&f, INBOX_FILTER_UNRESPONDED, &count);
    CHECK_INT(count, 1);
    CHECK(list_shows(&f, INBOX_FILTER_UNRESPONDED, NULL, ALICE));

    if (among > alone + 50) {
        fprintf(stderr, "    %lld steps alone, %lld among 5,000\n",
                (long long) alone, (long long) among);
        CHECK(!"the work grows with the answered threads");
    }

    fixture_close(&f);
    work_count_stop();
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


/* A consistent copy of one database into another through SQLite's
 * backup API: sqlite3's .backup and .restore. */
static int
copy_database(const char *from, const char *to)
{
    int              rc;
    sqlite3         *src, *dst;
    sqlite3_backup  *b;

    rc = SQLITE_ERROR;
    src = NULL;
    dst = NULL;

    if (sqlite3_open(from, &src) == SQLITE_OK
        && sqlite3_open(to, &dst) == SQLITE_OK)
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


/* An operator's backup of the store. */
static int
backup_to(const fixture_t *f, const char *path)
{
    return copy_database(f->path, path);
}


/* A backup written into the live store (its file and its log). */
static int
restore_from(const fixture_t *f, const char *path)
{
    return copy_database(path, f->path);
}


static void
unlink_store_files(const fixture_t *f)
{
    char  name[160];

    unlink(f->path);
    unlink(side_path(f, "-wal", name, sizeof(name)));
    unlink(side_path(f, "-shm", name, sizeof(name)));
}


TEST(a_deleted_store_takes_nothing_and_a_copy_put_back_waits_for_a_restart)
{
    char                   backup[160], conversation[INBOX_ID_MAX];
    fixture_t              f;
    inbox_error_t          err;
    inbox_store_t         *opened;
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

    /* the operator puts the backup in its place: another file, which
     * this store does not open (its log could be the old one's) */
    CHECK_INT(rename(backup, f.path), 0);

    CHECK_INT(inbox_store_ping(f.store, &err), INBOX_ERR_UNAVAILABLE);
    CHECK(strstr(err.message, "restarted") != NULL);
    CHECK_INT(receive(&f, "SM2", ALICE, "lost?", T0 + 1, &r, &events),
              INBOX_ERR_UNAVAILABLE);
    CHECK_INT(message_count(&f, conversation), -1);

    /* a restart opens the store anew: the copy serves */
    inbox_store_close(f.store);
    f.store = NULL;
    opened = store_open(f.path);
    CHECK(opened != NULL);
    f.store = opened;

    if (opened != NULL) {
        CHECK_INT(inbox_store_ping(f.store, &err), INBOX_OK);
        CHECK_INT(receive(&f, "SM2", ALICE, "lost?", T0 + 1, &r, &events),
                  INBOX_OK);
        CHECK_INT(r.duplicate, 0);
        CHECK_INT(message_count(&f, conversation), 2);
        CHECK_INT(events.count, 3);
        if (events.count == 3) {
            CHECK_INT(events.items[0].org_seq, 5);
        }
    }

    inbox_event_list_free(&events);
    fixture_close(&f);
}


TEST(a_store_moved_away_and_back_serves_again)
{
    char                   away[160], conversation[INBOX_ID_MAX];
    fixture_t              f;
    inbox_error_t          err;
    inbox_ingest_result_t  r;

    FIXTURE(&f);
    snprintf(away, sizeof(away), "%s.away", f.path);

    CHECK_INT(receive(&f, "SM1", ALICE, "before", T0, &r, NULL), INBOX_OK);
    memcpy(conversation, r.conversation_id, sizeof(conversation));

    /* only the file moves: its -wal and -shm stay, as mv leaves them */
    CHECK_INT(rename(f.path, away), 0);

    CHECK_INT(receive(&f, "SM2", ALICE, "lost?", T0 + 1, &r, NULL),
              INBOX_ERR_UNAVAILABLE);
    CHECK_INT(inbox_store_ping(f.store, &err), INBOX_ERR_UNAVAILABLE);
    CHECK(strstr(err.message, "missing") != NULL);

    CHECK_INT(rename(away, f.path), 0);

    CHECK_INT(inbox_store_ping(f.store, &err), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", ALICE, "lost?", T0 + 1, &r, NULL),
              INBOX_OK);
    CHECK_INT(r.duplicate, 0);
    CHECK_INT(message_count(&f, conversation), 2);

    fixture_close(&f);
}


TEST(a_backup_restored_into_the_open_store_serves_at_once)
{
    char                   backup[160], conversation[INBOX_ID_MAX];
    fixture_t              f;
    inbox_error_t          err;
    inbox_ingest_result_t  r;

    FIXTURE(&f);
    snprintf(backup, sizeof(backup), "%s.backup", f.path);
    unlink(backup);

    CHECK_INT(receive(&f, "SM1", ALICE, "before", T0, &r, NULL), INBOX_OK);
    memcpy(conversation, r.conversation_id, sizeof(conversation));
    CHECK_INT(backup_to(&f, backup), SQLITE_OK);
    CHECK_INT(receive(&f, "SM2", ALICE, "after the backup", T0 + 1, &r,
                      NULL), INBOX_OK);
    CHECK_INT(message_count(&f, conversation), 2);

    /* written through SQLite into the live file and its log */
    CHECK_INT(restore_from(&f, backup), SQLITE_OK);

    CHECK_INT(inbox_store_ping(f.store, &err), INBOX_OK);
    CHECK_INT(message_count(&f, conversation), 1);
    /* the message the backup lacks, retried by its carrier, is stored */
    CHECK_INT(receive(&f, "SM2", ALICE, "after the backup", T0 + 1, &r,
                      NULL), INBOX_OK);
    CHECK_INT(r.duplicate, 0);
    CHECK_INT(message_count(&f, conversation), 2);

    unlink(backup);
    fixture_close(&f);
}


TEST(a_backup_restored_by_the_store_serves_at_once_in_a_new_epoch)
{
    char                    backup[160], other[160];
    char                    conversation[INBOX_ID_MAX];
    fixture_t               f;
    inbox_error_t           err;
    inbox_store_t          *store;
    inbox_ingest_result_t   r;
    inbox_realtime_state_t  before, after;

    FIXTURE(&f);
    snprintf(backup, sizeof(backup), "%s.backup", f.path);
    snprintf(other, sizeof(other), "%s.other", f.path);
    unlink(backup);
    db_remove(other);

    CHECK_INT(receive(&f, "SM1", ALICE, "before", T0, &r, NULL), INBOX_OK);
    memcpy(conversation, r.conversation_id, sizeof(conversation));
    CHECK_INT(backup_to(&f, backup), SQLITE_OK);
    CHECK_INT(receive(&f, "SM2", ALICE, "after the backup", T0 + 1, &r,
                      NULL), INBOX_OK);
    CHECK_INT(inbox_store_realtime_state(f.store, f.org, &before, NULL),
              INBOX_OK);

    CHECK_INT(inbox_store_restore(f.store, backup, &err), INBOX_OK);

    CHECK_INT(message_count(&f, conversation), 1);
    CHECK_INT(inbox_store_realtime_state(f.store, f.org, &after, NULL),
              INBOX_OK);
    CHECK(strcmp(after.epoch, before.epoch) != 0);
    CHECK(after.org_seq < before.org_seq);
    CHECK_INT(inbox_store_ping(f.store, &err), INBOX_OK);
    /* what the backup lacks, retried by its carrier, is stored again */
    CHECK_INT(receive(&f, "SM2", ALICE, "after the backup", T0 + 1, &r,
                      NULL), INBOX_OK);
    CHECK_INT(r.duplicate, 0);
    CHECK_INT(message_count(&f, conversation), 2);

    /* another store's backup, or no store at all, is refused as it is */
    store = store_open(other);
    CHECK(store != NULL);
    if (store != NULL) {
        inbox_store_close(store);
        CHECK_INT(inbox_store_restore(f.store, other, &err),
                  INBOX_ERR_INVALID);
        CHECK(strstr(err.message, "another store") != NULL);
    }

    CHECK_INT(inbox_store_restore(f.store, "/nonexistent/backup.db", &err),
              INBOX_ERR_INVALID);
    CHECK_INT(message_count(&f, conversation), 2);

    unlink(backup);
    db_remove(other);
    fixture_close(&f);
}


/* Runs SQL on another database file (a backup). */
static int
file_exec(const char *path, const char *sql)
{
    int       rc;
    sqlite3  *db;

    rc = sqlite3_open(path, &db);
    if (rc == SQLITE_OK) {
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    }

    sqlite3_close(db);
    return rc;
}


TEST(a_backup_of_an_older_schema_is_restored_upgraded)
{
    char                   backup[160], tmp[200], newer[64];
    char                   conversation[INBOX_ID_MAX];
    fixture_t              f;
    inbox_error_t          err;
    inbox_ingest_result_t  r;

    FIXTURE(&f);
    snprintf(backup, sizeof(backup), "%s.backup", f.path);
    snprintf(tmp, sizeof(tmp), "%s.restore-%ld", f.path, (long) getpid());
    db_remove(backup);

    CHECK_INT(receive(&f, "SM1", ALICE, "before", T0, &r, NULL), INBOX_OK);
    memcpy(conversation, r.conversation_id, sizeof(conversation));
    CHECK_INT(backup_to(&f, backup), SQLITE_OK);
    CHECK_INT(receive(&f, "SM2", ALICE, "after the backup", T0 + 1, &r,
                      NULL), INBOX_OK);

    /* the backup as the release before this schema made it */
    CHECK_INT(file_exec(backup, UNDO_SCHEMA_ABOVE_29
                        UNDO_SCHEMA_29 UNDO_SCHEMA_28 UNDO_SCHEMA_27
                        UNDO_SCHEMA_26 UNDO_SCHEMA_25 UNDO_SCHEMA_24
                        UNDO_SCHEMA_23 UNDO_SCHEMA_22 UNDO_SCHEMA_21
                        UNDO_SCHEMA_19 UNDO_SCHEMA_18
                        UNDO_SCHEMA_17 UNDO_SCHEMA_16
                        "PRAGMA user_version = 15;"),
              SQLITE_OK);

    CHECK_INT(inbox_store_restore(f.store, backup, &err), INBOX_OK);

    /* the live store has the backup's messages, at this schema */
    CHECK_INT(message_count(&f, conversation), 1);
    CHECK_INT(db_int(&f, "PRAGMA user_version"), SCHEMA_NOW);
    CHECK_INT(db_int(&f, "SELECT count(*) FROM sqlite_master"
                         " WHERE name = 'reply_keys_by_age'"), 1);
    CHECK_INT(inbox_store_ping(f.store, &err), INBOX_OK);
    CHECK_INT(receive(&f, "SM2", ALICE, "after the backup", T0 + 1, &r,
                      NULL), INBOX_OK);
    CHECK_INT(r.duplicate, 0);
    CHECK_INT(message_count(&f, conversation), 2);
    /* the upgraded copy is gone */
    CHECK(!file_exists(tmp));

    /* a backup of a newer release is refused, the store untouched */
    snprintf(newer, sizeof(newer), "PRAGMA user_version = %d;",
             SCHEMA_NOW + 1);
    CHECK_INT(file_exec(backup, newer), SQLITE_OK);
    CHECK_INT(inbox_store_restore(f.store, backup, &err),
              INBOX_ERR_INVALID);
    CHECK(strstr(err.message, "newer") != NULL);
    CHECK_INT(message_count(&f, conversation), 2);

    db_remove(backup);
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
