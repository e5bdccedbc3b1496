/*
 * The SQLite backend: users, the people of an organization's team who
 * sign in with an email address and a password: adding one (or bringing
 * back one removed), the look for a taken email before a new user's
 * password is hashed, sign-in's look-up, "me", the team's list, and
 * password changes.  Roles and removal, under the rule that an
 * organization keeps a billing contact, are store_sqlite_team.c.
 *
 * Writes that a server makes on a request's behalf (a new user, a
 * password) queue for the process's writer connection like every other
 * write transaction (inbox_sqlite_begin_write).
 */
#include <stdlib.h>
#include <string.h>
#include <inbox/clock.h>
#include "store_sqlite.h"


inbox_status_t
inbox_sqlite_user_id(const char *s, int64_t *id, inbox_error_t *err)
{
    if (inbox_sqlite_parse_id(s, id) != 0) {
        return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                               "The organization has no user with the id "
                               "\"%.32s\".", s ? s : "");
    }

    return INBOX_OK;
}


void
inbox_sqlite_user_read(sqlite3_stmt *stmt, inbox_user_t *user)
{
    const char  *role;

    inbox_sqlite_format_id(sqlite3_column_int64(stmt, 0), user->id);
    inbox_sqlite_format_id(sqlite3_column_int64(stmt, 1), user->org_id);
    inbox_sqlite_column_copy(stmt, 2, user->email, sizeof(user->email));

    role = (const char *) sqlite3_column_text(stmt, 3);
    if (role == NULL || inbox_role_parse(role, &user->role) != 0) {
        user->role = INBOX_ROLE_MEMBER;
    }

    user->created_at = sqlite3_column_int64(stmt, 4);
}


inbox_status_t
inbox_sqlite_user_add(inbox_store_t *store, const char *org_id,
    const char *email, inbox_role_t role, const char *password_hash,
    char id[INBOX_ID_MAX], inbox_event_list_t *events, inbox_error_t *err)
{
    int                   rc, added;
    int64_t               org, user;
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_sqlite_conn_t  *conn;
    inbox_error_t         fallback;

    if (err == NULL) {
        err = &fallback;
    }

    status = inbox_sqlite_org_id(org_id, &org, err);
    if (status != INBOX_OK) {
        return status;
    }

    if (email == NULL || strchr(email, '@') == NULL) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "email",
                                     "A user needs an email address.");
    }

    /* the API adds users from a server too: queue with its writes */
    conn = inbox_sqlite_begin_write(store, err);
    if (conn == NULL) {
        return err->code;
    }

    /* a user removed from this organization comes back; any other
     * holder of the email makes no row */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_USER_ADD,
        "INSERT INTO users (org_id, email, role, password_hash, created_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5)"
        " ON CONFLICT (email) DO UPDATE SET role = excluded.role,"
        " password_hash = excluded.password_hash, removed_at = NULL"
        " WHERE users.org_id = excluded.org_id"
        " AND users.removed_at IS NOT NULL RETURNING id", err);
    if (stmt == NULL) {
        inbox_sqlite_rollback(conn);
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    inbox_sqlite_bind_text(stmt, 2, email);
    inbox_sqlite_bind_text(stmt, 3,
                           role == INBOX_ROLE_BILLING ? "billing" : "member");
    inbox_sqlite_bind_text(stmt, 4, password_hash);
    sqlite3_bind_int64(stmt, 5, inbox_now_ms());

    added = 0;
    user = 0;
    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        user = sqlite3_column_int64(stmt, 0);
        inbox_sqlite_format_id(user, id);
        added = 1;
        rc = sqlite3_step(stmt);
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        inbox_sqlite_write_fail(conn, rc, "the email address", org_id, err);
        inbox_sqlite_rollback(conn);
        return err->code;
    }

    if (!added) {
        inbox_sqlite_rollback(conn);
        return inbox_error_set_field(err, INBOX_ERR_CONFLICT, "email",
                                     "A user with the email %.200s exists "
                                     "already.", email);
    }

    return inbox_sqlite_team_commit(conn, org, INBOX_EVENT_USER_UPDATED, user,
                                    events, err);
}


inbox_status_t
inbox_sqlite_user_email_check(inbox_store_t *store, const char *org_id,
    const char *email, inbox_error_t *err)
{
    int                   rc;
    int64_t               org;
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_sqlite_conn_t  *conn;
    inbox_error_t         fallback;

    if (err == NULL) {
        err = &fallback;
    }

    status = inbox_sqlite_org_id(org_id, &org, err);
    if (status != INBOX_OK) {
        return status;
    }

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        return err->code;
    }

    /* taken as user_add's conflict sees it: a row with the email that is
     * not this organization's removed user */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_USER_EMAIL_CHECK,
        "SELECT 1 FROM users WHERE email = ?1"
        " AND (org_id <> ?2 OR removed_at IS NULL)", err);
    if (stmt == NULL) {
        return err->code;
    }

    inbox_sqlite_bind_text(stmt, 1, email);
    sqlite3_bind_int64(stmt, 2, org);

    rc = sqlite3_step(stmt);
    inbox_sqlite_done(stmt);

    if (rc == SQLITE_ROW) {
        return inbox_error_set_field(err, INBOX_ERR_CONFLICT, "email",
                                     "A user with the email %.200s exists "
                                     "already.", email);
    }

    if (rc != SQLITE_DONE) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    return INBOX_OK;
}


inbox_status_t
inbox_sqlite_account_get(inbox_store_t *store, const char *org_id,
    const char *user_id, inbox_account_t *account, inbox_error_t *err)
{
    int                   rc;
    int64_t               org, user;
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_sqlite_conn_t  *conn;
    inbox_error_t         fallback;

    if (err == NULL) {
        err = &fallback;
    }

    status = inbox_sqlite_org_id(org_id, &org, err);
    if (status != INBOX_OK) {
        return status;
    }

    user = 0;
    if (user_id != NULL) {
        status = inbox_sqlite_user_id(user_id, &user, err);
        if (status != INBOX_OK) {
            return status;
        }
    }

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        return err->code;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_ORG_GET,
        INBOX_SQLITE_ORG_COLUMNS " FROM orgs WHERE id = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);

    rc = sqlite3_step(stmt);

    status = (rc == SQLITE_ROW) ? inbox_sqlite_org_read(stmt, &account->org,
                                                        err)
                                : INBOX_OK;
    inbox_sqlite_done(stmt);

    if (rc == SQLITE_DONE) {
        return inbox_error_org_unknown(err, org_id);
    }

    if (rc != SQLITE_ROW) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    if (status != INBOX_OK || user_id == NULL) {
        return status;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_USER_GET,
        INBOX_SQLITE_USER_COLUMNS " FROM users WHERE id = ?1 AND org_id = ?2"
        " AND removed_at IS NULL",
        err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, user);
    sqlite3_bind_int64(stmt, 2, org);

    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        inbox_sqlite_user_read(stmt, &account->user);
        account->has_user = 1;
    }

    inbox_sqlite_done(stmt);

    if (rc == SQLITE_DONE) {
        return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                               "The organization has no user with the id "
                               "\"%.32s\".", user_id);
    }

    if (rc != SQLITE_ROW) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    return INBOX_OK;
}


inbox_status_t
inbox_sqlite_user_find_by_email(inbox_store_t *store, const char *email,
    inbox_user_t *user, char **password_hash, inbox_error_t *err)
{
    int                   rc, oom;
    sqlite3_stmt         *stmt;
    inbox_sqlite_conn_t  *conn;
    inbox_error_t         fallback;

    if (err == NULL) {
        err = &fallback;
    }

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        return err->code;
    }

    /* users.email is UNIQUE COLLATE NOCASE: its index answers */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_USER_BY_EMAIL,
        INBOX_SQLITE_USER_COLUMNS ", password_hash FROM users"
        " WHERE email = ?1 AND removed_at IS NULL", err);
    if (stmt == NULL) {
        return err->code;
    }

    inbox_sqlite_bind_text(stmt, 1, email);

    rc = sqlite3_step(stmt);
    oom = 0;

    if (rc == SQLITE_ROW) {
        inbox_sqlite_user_read(stmt, user);
        *password_hash = inbox_sqlite_column_strdup(stmt, 5, &oom);
    }

    inbox_sqlite_done(stmt);

    if (oom) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    if (rc == SQLITE_ROW) {
        return INBOX_OK;
    }

    if (rc == SQLITE_DONE) {
        return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                               "No user has that email address.");
    }

    return inbox_sqlite_fail(conn, rc, err);
}


inbox_status_t
inbox_sqlite_users_list(inbox_store_t *store, const char *org_id,
    inbox_user_list_t *list, inbox_error_t *err)
{
    int                   rc;
    int64_t               org;
    sqlite3_stmt         *stmt;
    inbox_user_t         *user;
    inbox_status_t        status;
    inbox_sqlite_conn_t  *conn;
    inbox_error_t         fallback;

    if (err == NULL) {
        err = &fallback;
    }

    status = inbox_sqlite_org_id(org_id, &org, err);
    if (status != INBOX_OK) {
        return status;
    }

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        return err->code;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_USERS_LIST,
        INBOX_SQLITE_USER_COLUMNS " FROM users WHERE org_id = ?1"
        " AND removed_at IS NULL ORDER BY id LIMIT ?2", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    sqlite3_bind_int(stmt, 2, INBOX_ACCOUNT_LIST_MAX + 1);

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {

        if (list->count == INBOX_ACCOUNT_LIST_MAX) {
            list->truncated = 1;
            continue;
        }

        user = inbox_user_list_add(list);
        if (user == NULL) {
            inbox_sqlite_done(stmt);
            inbox_user_list_free(list);
            return inbox_error_set(err, INBOX_ERR_INTERNAL,
                                   "Out of memory.");
        }

        inbox_sqlite_user_read(stmt, user);
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        inbox_user_list_free(list);
        return inbox_sqlite_fail(conn, rc, err);
    }

    /* no users: say so only when there is no organization either */
    if (list->count == 0) {
        return inbox_sqlite_org_known(conn, org, org_id, err);
    }

    return INBOX_OK;
}


/* A change of one's own password that found its hash no longer the one
 * verified: INBOX_ERR_CONFLICT while the user is on the team (someone set
 * it meanwhile), INBOX_OK when not (to be told not found). */
static inbox_status_t
inbox_sqlite_password_changed(inbox_sqlite_conn_t *conn, int64_t org,
    const char *email, inbox_error_t *err)
{
    int            rc;
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_USER_ON_TEAM,
        "SELECT 1 FROM users WHERE org_id = ?1 AND email = ?2"
        " AND removed_at IS NULL", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    inbox_sqlite_bind_text(stmt, 2, email);

    rc = sqlite3_step(stmt);
    inbox_sqlite_done(stmt);

    if (rc == SQLITE_ROW) {
        return inbox_error_set(err, INBOX_ERR_CONFLICT, "%s",
                               INBOX_PASSWORD_CHANGED_MEANWHILE);
    }

    if (rc != SQLITE_DONE) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    return INBOX_OK;
}


inbox_status_t
inbox_sqlite_user_password_set(inbox_store_t *store, const char *org_id,
    const char *email, const char *old_hash, const char *password_hash,
    char id[INBOX_ID_MAX], inbox_event_list_t *events, inbox_error_t *err)
{
    int                   rc;
    int64_t               org, user;
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_sqlite_conn_t  *conn;
    inbox_error_t         fallback;

    if (err == NULL) {
        err = &fallback;
    }

    status = inbox_sqlite_org_id(org_id, &org, err);
    if (status != INBOX_OK) {
        return status;
    }

    conn = inbox_sqlite_begin_write(store, err);
    if (conn == NULL) {
        return err->code;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_USER_PASSWORD_SET,
        "UPDATE users SET password_hash = ?3 WHERE org_id = ?1"
        " AND email = ?2 AND removed_at IS NULL"
        " AND (?4 IS NULL OR password_hash = ?4) RETURNING id", err);
    if (stmt == NULL) {
        goto failed;
    }

    sqlite3_bind_int64(stmt, 1, org);
    inbox_sqlite_bind_text(stmt, 2, email);
    inbox_sqlite_bind_text(stmt, 3, password_hash);
    if (old_hash != NULL) {
        inbox_sqlite_bind_text(stmt, 4, old_hash);
    }

    user = 0;
    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        user = sqlite3_column_int64(stmt, 0);
        rc = sqlite3_step(stmt);
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        inbox_sqlite_fail(conn, rc, err);
        goto failed;
    }

    if (user == 0) {
        if (old_hash != NULL) {
            status = inbox_sqlite_password_changed(conn, org, email, err);
            if (status != INBOX_OK) {
                goto failed;
            }
        }

        if (inbox_sqlite_org_known(conn, org, org_id, err) == INBOX_OK) {
            inbox_error_set_field(err, INBOX_ERR_NOT_FOUND, "email",
                                  "Organization %.32s has no user %.200s.",
                                  org_id, email);
        }

        goto failed;
    }

    /* a new password signs the user out everywhere */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_SESSIONS_END_USER,
        "DELETE FROM sessions WHERE user_id = ?1", err);
    if (stmt == NULL) {
        goto failed;
    }

    sqlite3_bind_int64(stmt, 1, user);

    rc = sqlite3_step(stmt);
    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        inbox_sqlite_fail(conn, rc, err);
        goto failed;
    }

    /* and closes their WebSockets (ws-server, on the event) */
    status = inbox_sqlite_team_commit(conn, org, INBOX_EVENT_USER_SIGNED_OUT,
                                      user, events, err);
    if (status != INBOX_OK) {
        return status;
    }

    inbox_sqlite_format_id(user, id);
    return INBOX_OK;

failed:

    inbox_sqlite_rollback(conn);
    return err->code;
}


inbox_status_t
inbox_sqlite_user_password_rehash(inbox_store_t *store, const char *org_id,
    const char *user_id, const char *old_hash, const char *new_hash,
    int *replaced, inbox_error_t *err)
{
    size_t                changes;
    int64_t               org, user;
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_sqlite_conn_t  *conn;

    /* no such ids: no such user, whose hash is then not old_hash */
    if (inbox_sqlite_parse_id(org_id, &org) != 0
        || inbox_sqlite_parse_id(user_id, &user) != 0)
    {
        return INBOX_OK;
    }

    status = inbox_sqlite_write_one(store, &stmt, &conn,
        INBOX_SQL_USER_PASSWORD_REHASH,
        "UPDATE users SET password_hash = ?4 WHERE id = ?2 AND org_id = ?1"
        " AND password_hash = ?3", err);
    if (status != INBOX_OK) {
        return status;
    }

    sqlite3_bind_int64(stmt, 1, org);
    sqlite3_bind_int64(stmt, 2, user);
    inbox_sqlite_bind_text(stmt, 3, old_hash);
    inbox_sqlite_bind_text(stmt, 4, new_hash);

    status = inbox_sqlite_write_one_finish(conn, stmt, "a rehash", &changes,
                                         err);
    *replaced = status == INBOX_OK && changes > 0;

    return status;
}
