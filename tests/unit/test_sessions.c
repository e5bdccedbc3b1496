/*
 * Signing in: what a password must be and its hash, when a session ends,
 * and a session growing old in the SQLite store (its times moved back in
 * the file).  What every backend's accounts and sessions do is in
 * test_store_contract.c; the MongoDB commands in test_store_mongo.c.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include <sqlite3.h>
#include <inbox/account.h>
#include <inbox/clock.h>
#include <inbox/password.h>
#include <inbox/session.h>
#include <inbox/store.h>
#include "check.h"


#define HOUR  (3600LL * 1000)
#define DAY   (24 * HOUR)


TEST(password_rules)
{
    inbox_error_t  err;

    CHECK_INT(inbox_password_check("12345678", 8, &err), INBOX_OK);
    /* eight characters, not eight bytes */
    CHECK_INT(inbox_password_check("ééééééé", strlen("ééééééé"), &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "password");
    CHECK(strstr(err.message, "at least 8 characters") != NULL);
    CHECK_INT(inbox_password_check("éééééééé", strlen("éééééééé"), &err),
              INBOX_OK);
    CHECK_INT(inbox_password_check("1234567", 7, &err), INBOX_ERR_INVALID);
    CHECK_INT(inbox_password_check("1234\0" "5678", 9, &err),
              INBOX_ERR_INVALID);
    CHECK_INT(inbox_password_check("\xff\xfe" "345678", 8, &err),
              INBOX_ERR_INVALID);

    {
        char  big[INBOX_PASSWORD_MAX + 2];

        memset(big, 'a', sizeof(big));
        CHECK_INT(inbox_password_check(big, INBOX_PASSWORD_MAX, &err),
                  INBOX_OK);
        CHECK_INT(inbox_password_check(big, INBOX_PASSWORD_MAX + 1, &err),
                  INBOX_ERR_INVALID);
    }
}


TEST(a_password_hash_verifies_that_password_only)
{
    char           hash[INBOX_PASSWORD_HASH_MAX];
    inbox_error_t  err;

    CHECK_INT(inbox_password_hash("correct horse", 13, hash, &err), INBOX_OK);
    CHECK(strncmp(hash, "$argon2id$", 10) == 0);
    CHECK(inbox_password_verify(hash, "correct horse", 13) == 1);
    CHECK(inbox_password_verify(hash, "correct horsE", 13) == 0);
    CHECK(inbox_password_verify(hash, "correct hors", 12) == 0);

    /* no user, a user without a password, garbage: never a match */
    CHECK(inbox_password_verify(NULL, "correct horse", 13) == 0);
    CHECK(inbox_password_verify("", "correct horse", 13) == 0);
    CHECK(inbox_password_verify("plain", "plain", 5) == 0);

    /* a short password is never hashed */
    CHECK_INT(inbox_password_hash("short", 5, hash, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(hash, "");
}


TEST(a_hash_made_under_other_limits_is_made_again)
{
    char           hash[INBOX_PASSWORD_HASH_MAX];
    char           weak[crypto_pwhash_STRBYTES];
    inbox_error_t  err;

    CHECK_INT(inbox_password_hash("correct horse", 13, hash, &err), INBOX_OK);
    CHECK(inbox_password_needs_rehash(hash) == 0);

    /* what an older release with lower limits would have stored */
    CHECK(crypto_pwhash_str(weak, "correct horse", 13,
                            crypto_pwhash_OPSLIMIT_MIN,
                            crypto_pwhash_MEMLIMIT_MIN) == 0);
    CHECK(inbox_password_verify(weak, "correct horse", 13) == 1);
    CHECK(inbox_password_needs_rehash(weak) == 1);

    /* not a hash of this algorithm */
    CHECK(inbox_password_needs_rehash("$2b$12$notargon") == 1);
}


TEST(a_session_ends_idle_or_old)
{
    inbox_error_t    err;
    inbox_session_t  s;
    int64_t          t0 = 1767225600000LL;

    s.created_at = t0;
    s.last_seen_at = t0;
    s.expires_at = inbox_session_expiry(t0, t0);
    CHECK_INT(s.expires_at, t0 + 12 * HOUR);

    CHECK_INT(inbox_session_check(&s, t0 + 12 * HOUR - 1, &err), INBOX_OK);
    CHECK_INT(inbox_session_check(&s, t0 + 12 * HOUR, &err),
              INBOX_ERR_UNAUTHENTICATED);
    CHECK(strstr(err.message, "sign in again") != NULL);

    /* used now and then, it lasts seven days from sign-in, no more */
    s.last_seen_at = t0 + 7 * DAY - HOUR;
    s.expires_at = inbox_session_expiry(s.created_at, s.last_seen_at);
    CHECK_INT(s.expires_at, t0 + 7 * DAY);
    CHECK_INT(inbox_session_check(&s, t0 + 7 * DAY - 1, &err), INBOX_OK);
    CHECK_INT(inbox_session_check(&s, t0 + 7 * DAY, &err),
              INBOX_ERR_UNAUTHENTICATED);

    CHECK_INT(inbox_session_ends_at(&s), t0 + 7 * DAY);

    /* a stored expiry earlier than the rule's still ends it */
    s.last_seen_at = t0;
    s.expires_at = t0 + HOUR;
    CHECK_INT(inbox_session_ends_at(&s), t0 + HOUR);
    CHECK_INT(inbox_session_check(&s, t0 + HOUR - 1, &err), INBOX_OK);
    CHECK_INT(inbox_session_check(&s, t0 + HOUR, &err),
              INBOX_ERR_UNAUTHENTICATED);

    /* and a later one does not keep it past the rule's */
    s.expires_at = t0 + DAY;
    CHECK_INT(inbox_session_ends_at(&s), t0 + 12 * HOUR);

    /* a use is recorded once a minute, not on every request */
    s.last_seen_at = t0;
    CHECK(!inbox_session_needs_touch(&s, t0 + 59999));
    CHECK(inbox_session_needs_touch(&s, t0 + 60000));
}


TEST(session_ids_are_random_and_stored_hashed)
{
    char  a[INBOX_SESSION_MAX], b[INBOX_SESSION_MAX];
    char  ha[INBOX_SESSION_HASH_MAX], hb[INBOX_SESSION_HASH_MAX];

    CHECK_INT(inbox_session_generate(a), 0);
    CHECK_INT(inbox_session_generate(b), 0);
    CHECK_INT(strlen(a), 43);
    CHECK(strcmp(a, b) != 0);
    CHECK(inbox_session_id_valid(a, strlen(a)));

    inbox_session_hash(a, strlen(a), ha);
    inbox_session_hash(b, strlen(b), hb);
    CHECK_INT(strlen(ha), 64);
    CHECK(strcmp(ha, hb) != 0);
    CHECK(strstr(ha, a) == NULL);

    CHECK(!inbox_session_id_valid(a, 42));
    CHECK(!inbox_session_id_valid("ibx.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                                  43));
    CHECK(!inbox_session_id_valid("", 0));
}


TEST(email_addresses_are_keyed_in_lower_case)
{
    char  out[INBOX_EMAIL_MAX];

    CHECK_INT(inbox_email_normalize("Pat.Lee@Example.COM", out, sizeof(out)),
              0);
    CHECK_STR(out, "pat.lee@example.com");
    CHECK_INT(inbox_email_normalize("no-at-sign", out, sizeof(out)), -1);
    CHECK_INT(inbox_email_normalize("", out, sizeof(out)), -1);
    CHECK_INT(inbox_email_normalize("a@b\n", out, sizeof(out)), -1);
    CHECK_INT(inbox_email_normalize("a@bcdef", out, 4), -1);
}


/* the SQLite store */

typedef struct {
    char            path[128];
    inbox_store_t  *store;
    char            org[INBOX_ID_MAX];
    char            user[INBOX_ID_MAX];
} fixture_t;

static unsigned  db_counter;

/* a stand-in hash: the store keeps whatever it is given */
#define HASH_A  "$argon2id$v=19$m=65536,t=2,p=1$a"


static void
db_remove(const char *path)
{
    char                 name[160];
    static const char   *suffixes[] = { "", "-wal", "-shm", "-writer" };
    size_t               i;

    for (i = 0; i < 4; i++) {
        snprintf(name, sizeof(name), "%s%s", path, suffixes[i]);
        unlink(name);
    }
}


/* An organization with a user. */
static int
fixture_open(fixture_t *f)
{
    char           uri[160];
    inbox_error_t  err;

    memset(f, 0, sizeof(fixture_t));
    snprintf(f->path, sizeof(f->path), "/tmp/inbox-test-sessions-%ld-%u.db",
             (long) getpid(), ++db_counter);
    db_remove(f->path);
    snprintf(uri, sizeof(uri), "sqlite:%s", f->path);

    f->store = inbox_store_create(uri, &err);

    if (f->store == NULL
        || inbox_store_org_create(f->store, "Acme", "America/Chicago",
                                  f->org, &err) != INBOX_OK
        || inbox_store_user_add(f->store, f->org, "Pat@Example.com",
                                INBOX_ROLE_BILLING, HASH_A, f->user, NULL, &err)
           != INBOX_OK)
    {
        fprintf(stderr, "    fixture: %s\n", err.message);
        return -1;
    }

    return 0;
}


static void
fixture_close(fixture_t *f)
{
    inbox_store_close(f->store);
    db_remove(f->path);
}


/* Runs sql on the fixture's file from another connection (a clock that
 * moved on, as far as the store can tell). */
static void
db_exec(fixture_t *f, const char *sql)
{
    sqlite3  *db;

    CHECK_INT(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}


TEST(sqlite_a_session_is_touched_while_used_and_ends_idle)
{
    char               sql[256];
    size_t             removed;
    fixture_t          f;
    inbox_error_t      err;
    inbox_principal_t  who;

    if (fixture_open(&f) != 0) {
        CHECK(0);
        return;
    }

    CHECK_INT(inbox_store_session_create(f.store, f.org, f.user, "hash-1",
                                         &err), INBOX_OK);
    CHECK_INT(inbox_store_session_find(f.store, "hash-1", &who, &err),
              INBOX_OK);
    CHECK_STR(who.org_id, f.org);
    CHECK_STR(who.user_id, f.user);
    CHECK_INT(who.role, INBOX_ROLE_BILLING);
    /* unused from now on, it ends in twelve hours */
    CHECK(who.ends_at > inbox_now_ms() + 12 * HOUR - 60000);
    CHECK(who.ends_at <= inbox_now_ms() + 12 * HOUR);

    /* the role is read at each use */
    db_exec(&f, "UPDATE users SET role = 'member'");
    CHECK_INT(inbox_store_session_find(f.store, "hash-1", &who, &err),
              INBOX_OK);
    CHECK_INT(who.role, INBOX_ROLE_MEMBER);

    /* idle for 11 hours: still good, and the use is recorded */
    snprintf(sql, sizeof(sql), "UPDATE sessions SET last_seen_at = %lld",
             (long long) (inbox_now_ms() - 11 * HOUR));
    db_exec(&f, sql);
    CHECK_INT(inbox_store_session_find(f.store, "hash-1", &who, &err),
              INBOX_OK);
    snprintf(sql, sizeof(sql), "UPDATE sessions SET last_seen_at ="
             " last_seen_at - %lld, expires_at = expires_at - %lld",
             (long long) (2 * HOUR), (long long) (2 * HOUR));
    db_exec(&f, sql);
    CHECK_INT(inbox_store_session_find(f.store, "hash-1", &who, &err),
              INBOX_OK);

    /* a stored end an hour away is when it ends */
    snprintf(sql, sizeof(sql), "UPDATE sessions SET last_seen_at = %lld,"
             " expires_at = %lld", (long long) inbox_now_ms(),
             (long long) (inbox_now_ms() + HOUR));
    db_exec(&f, sql);
    CHECK_INT(inbox_store_session_find(f.store, "hash-1", &who, &err),
              INBOX_OK);
    CHECK(who.ends_at > inbox_now_ms() + HOUR - 60000);
    CHECK(who.ends_at <= inbox_now_ms() + HOUR);

    /* idle for 13 hours: over */
    snprintf(sql, sizeof(sql), "UPDATE sessions SET last_seen_at = %lld,"
             " expires_at = %lld",
             (long long) (inbox_now_ms() - 13 * HOUR),
             (long long) (inbox_now_ms() - HOUR));
    db_exec(&f, sql);
    CHECK_INT(inbox_store_session_find(f.store, "hash-1", &who, &err),
              INBOX_ERR_UNAUTHENTICATED);

    /* and, over, it is purged */
    CHECK_INT(inbox_store_sessions_purge(f.store, inbox_now_ms(), &removed,
                                         &err), INBOX_OK);
    CHECK_INT(removed, 1);

    fixture_close(&f);
}


RUN_TESTS()
