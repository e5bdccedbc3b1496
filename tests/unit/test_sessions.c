/*
 * Signing in: what a password must be and its hash, when a session ends,
 * and the SQLite store's accounts and sessions (a fresh database file
 * under /tmp per test, through the public store API).  The MongoDB
 * backend's commands for the same operations are in test_store_mongo.c.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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

    /* a stored expiry earlier than the rule's still ends it */
    s.last_seen_at = t0;
    s.expires_at = t0 + HOUR;
    CHECK_INT(inbox_session_check(&s, t0 + HOUR, &err),
              INBOX_ERR_UNAUTHENTICATED);

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


/* ---- the SQLite store ---- */

typedef struct {
    char            path[128];
    inbox_store_t  *store;
    char            org[INBOX_ID_MAX];
    char            other_org[INBOX_ID_MAX];
    char            user[INBOX_ID_MAX];
    char            other_user[INBOX_ID_MAX];
} fixture_t;

static unsigned  db_counter;

/* a stand-in hash: the store keeps whatever it is given */
#define HASH_A  "$argon2id$v=19$m=65536,t=2,p=1$a"
#define HASH_B  "$argon2id$v=19$m=65536,t=2,p=1$b"


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


/* Two organizations with a user each. */
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
        || inbox_store_org_create(f->store, "Other", NULL, f->other_org,
                                  &err) != INBOX_OK
        || inbox_store_user_add(f->store, f->org, "Pat@Example.com",
                                INBOX_ROLE_BILLING, HASH_A, f->user, &err)
           != INBOX_OK
        || inbox_store_user_add(f->store, f->other_org, "sam@other.test",
                                INBOX_ROLE_MEMBER, HASH_B, f->other_user,
                                &err) != INBOX_OK)
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


TEST(sqlite_orgs_and_users_are_listed_oldest_first)
{
    fixture_t          f;
    inbox_error_t      err;
    inbox_org_list_t   orgs;
    inbox_user_list_t  users;
    char               id[INBOX_ID_MAX];

    if (fixture_open(&f) != 0) {
        CHECK(0);
        return;
    }

    CHECK_INT(inbox_store_orgs_list(f.store, &orgs, &err), INBOX_OK);
    CHECK_INT(orgs.count, 2);
    CHECK_STR(orgs.items[0].id, f.org);
    CHECK_STR(orgs.items[0].name, "Acme");
    CHECK_STR(orgs.items[0].timezone, "America/Chicago");
    CHECK(orgs.items[0].created_at > 0);
    CHECK_STR(orgs.items[1].name, "Other");
    CHECK_STR(orgs.items[1].timezone, "UTC");
    inbox_org_list_free(&orgs);

    CHECK_INT(inbox_store_user_add(f.store, f.org, "lee@example.com",
                                   INBOX_ROLE_MEMBER, HASH_B, id, &err),
              INBOX_OK);
    CHECK_INT(inbox_store_users_list(f.store, f.org, &users, &err), INBOX_OK);
    CHECK_INT(users.count, 2);
    CHECK_STR(users.items[0].email, "pat@example.com");
    CHECK_INT(users.items[0].role, INBOX_ROLE_BILLING);
    CHECK_STR(users.items[0].org_id, f.org);
    CHECK_STR(users.items[1].id, id);
    CHECK_INT(users.items[1].role, INBOX_ROLE_MEMBER);
    inbox_user_list_free(&users);

    /* an organization without users lists none; a missing one is 404 */
    CHECK_INT(inbox_store_org_create(f.store, "Empty", NULL, id, &err),
              INBOX_OK);
    CHECK_INT(inbox_store_users_list(f.store, id, &users, &err), INBOX_OK);
    CHECK_INT(users.count, 0);
    inbox_user_list_free(&users);
    CHECK_INT(inbox_store_users_list(f.store, "999", &users, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(inbox_store_users_list(f.store, "x", &users, &err),
              INBOX_ERR_NOT_FOUND);

    fixture_close(&f);
}


TEST(sqlite_a_user_is_found_by_email_in_any_case)
{
    char           *hash;
    fixture_t       f;
    inbox_user_t    user;
    inbox_error_t   err;

    if (fixture_open(&f) != 0) {
        CHECK(0);
        return;
    }

    CHECK_INT(inbox_store_user_find_by_email(f.store, "pat@EXAMPLE.com",
                                             &user, &hash, &err), INBOX_OK);
    CHECK_STR(user.id, f.user);
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
    CHECK(hash == NULL);

    fixture_close(&f);
}


TEST(sqlite_account_get_is_one_organization_and_its_user)
{
    fixture_t        f;
    inbox_error_t    err;
    inbox_account_t  account;

    if (fixture_open(&f) != 0) {
        CHECK(0);
        return;
    }

    CHECK_INT(inbox_store_account_get(f.store, f.org, f.user, &account,
                                      &err), INBOX_OK);
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
    CHECK_INT(inbox_store_account_get(f.store, f.org, f.other_user,
                                      &account, &err), INBOX_ERR_NOT_FOUND);
    inbox_account_free(&account);
    CHECK_INT(inbox_store_account_get(f.store, "12345", NULL, &account,
                                      &err), INBOX_ERR_NOT_FOUND);
    inbox_account_free(&account);

    fixture_close(&f);
}


TEST(sqlite_sessions_are_found_touched_ended_and_purged)
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

    /* the role is read at each use */
    db_exec(&f, "UPDATE users SET role = 'member'");
    CHECK_INT(inbox_store_session_find(f.store, "hash-1", &who, &err),
              INBOX_OK);
    CHECK_INT(who.role, INBOX_ROLE_MEMBER);

    CHECK_INT(inbox_store_session_find(f.store, "unknown", &who, &err),
              INBOX_ERR_UNAUTHENTICATED);
    CHECK_STR(who.org_id, "");

    /* another organization's user gets no session here */
    CHECK_INT(inbox_store_session_create(f.store, f.org, f.other_user,
                                         "hash-x", &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(inbox_store_session_find(f.store, "hash-x", &who, &err),
              INBOX_ERR_UNAUTHENTICATED);

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

    /* idle for 13 hours: over */
    snprintf(sql, sizeof(sql), "UPDATE sessions SET last_seen_at = %lld,"
             " expires_at = %lld",
             (long long) (inbox_now_ms() - 13 * HOUR),
             (long long) (inbox_now_ms() - HOUR));
    db_exec(&f, sql);
    CHECK_INT(inbox_store_session_find(f.store, "hash-1", &who, &err),
              INBOX_ERR_UNAUTHENTICATED);

    /* purged once over; the live one stays */
    CHECK_INT(inbox_store_session_create(f.store, f.org, f.user, "hash-2",
                                         &err), INBOX_OK);
    CHECK_INT(inbox_store_sessions_purge(f.store, inbox_now_ms(), &removed,
                                         &err), INBOX_OK);
    CHECK_INT(removed, 1);
    CHECK_INT(inbox_store_session_find(f.store, "hash-2", &who, &err),
              INBOX_OK);

    /* logout: gone, and ending it again is fine */
    CHECK_INT(inbox_store_session_delete(f.store, "hash-2", &err), INBOX_OK);
    CHECK_INT(inbox_store_session_find(f.store, "hash-2", &who, &err),
              INBOX_ERR_UNAUTHENTICATED);
    CHECK_INT(inbox_store_session_delete(f.store, "hash-2", &err), INBOX_OK);

    fixture_close(&f);
}


TEST(sqlite_a_new_password_ends_the_users_sessions)
{
    char               id[INBOX_ID_MAX], *hash;
    fixture_t          f;
    inbox_user_t       user;
    inbox_error_t      err;
    inbox_principal_t  who;

    if (fixture_open(&f) != 0) {
        CHECK(0);
        return;
    }

    CHECK_INT(inbox_store_session_create(f.store, f.org, f.user, "pat-1",
                                         &err), INBOX_OK);
    CHECK_INT(inbox_store_session_create(f.store, f.org, f.user, "pat-2",
                                         &err), INBOX_OK);
    CHECK_INT(inbox_store_session_create(f.store, f.other_org, f.other_user,
                                         "sam-1", &err), INBOX_OK);

    CHECK_INT(inbox_store_user_password_set(f.store, f.org,
                                            "PAT@example.com", HASH_B, id,
                                            &err), INBOX_OK);
    CHECK_STR(id, f.user);
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
                                            HASH_A, id, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_STR(err.field, "email");
    CHECK_INT(inbox_store_session_find(f.store, "sam-1", &who, &err),
              INBOX_OK);
    CHECK_INT(inbox_store_user_password_set(f.store, "999", "pat@example.com",
                                            HASH_A, id, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK(strstr(err.message, "organization") != NULL);

    fixture_close(&f);
}


RUN_TESTS()
