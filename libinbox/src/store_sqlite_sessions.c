/*
 * The SQLite backend: organizations and users as sign-in and inboxctl's
 * listings see them, password changes, and sessions (migration 5).
 *
 * Writes that a server makes on a request's behalf (sessions, passwords)
 * queue for the process's writer connection like every other write
 * transaction (inbox_sqlite_begin_write).
 */
#include <stdlib.h>
#include <string.h>
#include <inbox/clock.h>
#include "store_sqlite.h"


static inbox_status_t inbox_sqlite_sessions_user_id(const char *s,
    int64_t *id, inbox_error_t *err);
static inbox_status_t inbox_sqlite_org_read(sqlite3_stmt *stmt,
    inbox_org_t *org, inbox_error_t *err);
static inbox_status_t inbox_sqlite_session_write(inbox_store_t *store,
    sqlite3_stmt **stmtp, inbox_sqlite_conn_t **connp, inbox_sql_id_t id,
    const char *sql, inbox_error_t *err);
static inbox_status_t inbox_sqlite_session_finish(inbox_sqlite_conn_t *conn,
    sqlite3_stmt *stmt, const char *what, size_t *changes,
    inbox_error_t *err);


#define INBOX_SQLITE_ORG_COLUMNS   "SELECT id, name, timezone, created_at"


/* A user named by an id that cannot be one (an organization's is read by
 * inbox_sqlite_org_id). */
static inbox_status_t
inbox_sqlite_sessions_user_id(const char *s, int64_t *id, inbox_error_t *err)
{
    if (inbox_sqlite_parse_id(s, id) != 0) {
        return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                               "The organization has no user with the id "
                               "\"%.32s\".", s ? s : "");
    }

    return INBOX_OK;
}


/* A row of INBOX_SQLITE_ORG_COLUMNS. */
static inbox_status_t
inbox_sqlite_org_read(sqlite3_stmt *stmt, inbox_org_t *org,
    inbox_error_t *err)
{
    int  oom;

    oom = 0;

    inbox_sqlite_format_id(sqlite3_column_int64(stmt, 0), org->id);
    org->name = inbox_sqlite_column_strdup(stmt, 1, &oom);
    inbox_sqlite_column_copy(stmt, 2, org->timezone, sizeof(org->timezone));
    org->created_at = sqlite3_column_int64(stmt, 3);

    if (oom) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
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
inbox_sqlite_org_known(inbox_sqlite_conn_t *conn, int64_t org,
    const char *org_id, inbox_error_t *err)
{
    int            rc;
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_ORG_EXISTS,
        "SELECT 1 FROM orgs WHERE id = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);

    rc = sqlite3_step(stmt);
    inbox_sqlite_done(stmt);

    if (rc == SQLITE_ROW) {
        return INBOX_OK;
    }

    if (rc == SQLITE_DONE) {
        return inbox_error_org_unknown(err, org_id);
    }

    return inbox_sqlite_fail(conn, rc, err);
}


inbox_status_t
inbox_sqlite_orgs_list(inbox_store_t *store, inbox_org_list_t *list,
    inbox_error_t *err)
{
    int                   rc;
    sqlite3_stmt         *stmt;
    inbox_org_t          *org;
    inbox_status_t        status;
    inbox_sqlite_conn_t  *conn;
    inbox_error_t         fallback;

    if (err == NULL) {
        err = &fallback;
    }

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        return err->code;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_ORGS_LIST,
        INBOX_SQLITE_ORG_COLUMNS " FROM orgs ORDER BY id LIMIT ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int(stmt, 1, INBOX_ACCOUNT_LIST_MAX + 1);

    status = INBOX_OK;

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {

        if (list->count == INBOX_ACCOUNT_LIST_MAX) {
            list->truncated = 1;
            continue;
        }

        org = inbox_org_list_add(list);
        if (org == NULL) {
            status = inbox_error_set(err, INBOX_ERR_INTERNAL,
                                     "Out of memory.");
            break;
        }

        status = inbox_sqlite_org_read(stmt, org, err);
        if (status != INBOX_OK) {
            break;
        }
    }

    inbox_sqlite_done(stmt);

    if (status == INBOX_OK && rc != SQLITE_DONE) {
        status = inbox_sqlite_fail(conn, rc, err);
    }

    if (status != INBOX_OK) {
        inbox_org_list_free(list);
    }

    return status;
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
        status = inbox_sqlite_sessions_user_id(user_id, &user, err);
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


inbox_status_t
inbox_sqlite_user_password_set(inbox_store_t *store, const char *org_id,
    const char *email, const char *password_hash, char id[INBOX_ID_MAX],
    inbox_event_list_t *events, inbox_error_t *err)
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
        " AND email = ?2 AND removed_at IS NULL RETURNING id", err);
    if (stmt == NULL) {
        goto failed;
    }

    sqlite3_bind_int64(stmt, 1, org);
    inbox_sqlite_bind_text(stmt, 2, email);
    inbox_sqlite_bind_text(stmt, 3, password_hash);

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

    status = inbox_sqlite_session_write(store, &stmt, &conn,
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

    status = inbox_sqlite_session_finish(conn, stmt, "a rehash", &changes,
                                         err);
    *replaced = status == INBOX_OK && changes > 0;

    return status;
}


/* One statement in its own write transaction: the session writes. */
static inbox_status_t
inbox_sqlite_session_write(inbox_store_t *store, sqlite3_stmt **stmtp,
    inbox_sqlite_conn_t **connp, inbox_sql_id_t id, const char *sql,
    inbox_error_t *err)
{
    *connp = inbox_sqlite_begin_write(store, err);
    if (*connp == NULL) {
        return err->code;
    }

    *stmtp = inbox_sqlite_stmt(*connp, id, sql, err);
    if (*stmtp == NULL) {
        inbox_sqlite_rollback(*connp);
        return err->code;
    }

    return INBOX_OK;
}


/* Steps stmt to its end, then commits (or rolls back); *changes (may be
 * NULL) gets the rows it changed, read while the connection is still
 * this thread's. */
static inbox_status_t
inbox_sqlite_session_finish(inbox_sqlite_conn_t *conn, sqlite3_stmt *stmt,
    const char *what, size_t *changes, inbox_error_t *err)
{
    int  rc;

    rc = sqlite3_step(stmt);
    inbox_sqlite_done(stmt);

    if (changes != NULL) {
        *changes = (size_t) sqlite3_changes(conn->db);
    }

    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
        inbox_sqlite_rollback(conn);
        return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                               "No such user for %s.", what);
    }

    if (rc != SQLITE_DONE) {
        inbox_sqlite_fail(conn, rc, err);
        inbox_sqlite_rollback(conn);
        return err->code;
    }

    return inbox_sqlite_commit(conn, err);
}


inbox_status_t
inbox_sqlite_session_add(inbox_store_t *store, const char *org_id,
    const char *user_id, const char *password_hash, const char *session_hash,
    const inbox_session_t *session, inbox_error_t *err)
{
    size_t                added;
    int64_t               org, user;
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_sqlite_conn_t  *conn;
    inbox_error_t         fallback;

    if (err == NULL) {
        err = &fallback;
    }

    if (inbox_sqlite_org_id(org_id, &org, err) != INBOX_OK
        || inbox_sqlite_sessions_user_id(user_id, &user, err) != INBOX_OK)
    {
        return err->code;
    }

    /* the user must be the organization's, on the team and (for a
     * sign-in) with the password that was checked: the SELECT finds
     * nothing else, and then nothing is inserted */
    status = inbox_sqlite_session_write(store, &stmt, &conn,
        INBOX_SQL_SESSION_ADD,
        "INSERT INTO sessions (session_hash, org_id, user_id, created_at,"
        " last_seen_at, expires_at)"
        " SELECT ?1, org_id, id, ?4, ?5, ?6 FROM users"
        " WHERE id = ?3 AND org_id = ?2 AND removed_at IS NULL"
        " AND (?7 IS NULL OR password_hash = ?7)", err);
    if (status != INBOX_OK) {
        return status;
    }

    inbox_sqlite_bind_text(stmt, 1, session_hash);
    sqlite3_bind_int64(stmt, 2, org);
    sqlite3_bind_int64(stmt, 3, user);
    sqlite3_bind_int64(stmt, 4, session->created_at);
    sqlite3_bind_int64(stmt, 5, session->last_seen_at);
    sqlite3_bind_int64(stmt, 6, session->expires_at);
    inbox_sqlite_bind_text(stmt, 7, password_hash);

    status = inbox_sqlite_session_finish(conn, stmt, "the session", &added,
                                         err);

    if (status == INBOX_OK && added == 0) {
        return password_hash != NULL
               ? inbox_error_set(err, INBOX_ERR_UNAUTHENTICATED,
                                 "The password changed, or the user left "
                                 "the team, while it was checked.")
               : inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                                 "Organization %.32s has no user %.32s.",
                                 org_id, user_id);
    }

    return status;
}


inbox_status_t
inbox_sqlite_session_find(inbox_store_t *store, const char *session_hash,
    inbox_principal_t *principal, inbox_session_t *session,
    inbox_error_t *err)
{
    int                   rc;
    const char           *role;
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

    /* the role as it is now: a changed role counts from the next request */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_SESSION_FIND,
        "SELECT s.org_id, s.user_id, u.role, s.created_at, s.last_seen_at,"
        " s.expires_at, s.id FROM sessions s JOIN users u ON u.id = s.user_id"
        " WHERE s.session_hash = ?1 AND u.removed_at IS NULL", err);
    if (stmt == NULL) {
        return err->code;
    }

    inbox_sqlite_bind_text(stmt, 1, session_hash ? session_hash : "");

    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        inbox_sqlite_format_id(sqlite3_column_int64(stmt, 0),
                               principal->org_id);
        inbox_sqlite_format_id(sqlite3_column_int64(stmt, 1),
                               principal->user_id);

        role = (const char *) sqlite3_column_text(stmt, 2);
        if (role == NULL || inbox_role_parse(role, &principal->role) != 0) {
            principal->role = INBOX_ROLE_MEMBER;
        }

        session->created_at = sqlite3_column_int64(stmt, 3);
        session->last_seen_at = sqlite3_column_int64(stmt, 4);
        session->expires_at = sqlite3_column_int64(stmt, 5);
        inbox_sqlite_format_id(sqlite3_column_int64(stmt, 6),
                               principal->session_id);
    }

    inbox_sqlite_done(stmt);

    if (rc == SQLITE_ROW) {
        return INBOX_OK;
    }

    if (rc == SQLITE_DONE) {
        return inbox_error_set(err, INBOX_ERR_NOT_FOUND, "No such session.");
    }

    return inbox_sqlite_fail(conn, rc, err);
}


inbox_status_t
inbox_sqlite_session_touch(inbox_store_t *store, const char *session_hash,
    const inbox_session_t *session, inbox_error_t *err)
{
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_sqlite_conn_t  *conn;
    inbox_error_t         fallback;

    if (err == NULL) {
        err = &fallback;
    }

    status = inbox_sqlite_session_write(store, &stmt, &conn,
        INBOX_SQL_SESSION_TOUCH,
        "UPDATE sessions SET last_seen_at = ?2, expires_at = ?3"
        " WHERE session_hash = ?1", err);
    if (status != INBOX_OK) {
        return status;
    }

    inbox_sqlite_bind_text(stmt, 1, session_hash);
    sqlite3_bind_int64(stmt, 2, session->last_seen_at);
    sqlite3_bind_int64(stmt, 3, session->expires_at);

    return inbox_sqlite_session_finish(conn, stmt, "the session", NULL,
                                       err);
}


inbox_status_t
inbox_sqlite_session_delete(inbox_store_t *store, const char *session_hash,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int                   rc;
    char                  id[INBOX_ID_MAX];
    int64_t               org, session;
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_change_t        change;
    inbox_sqlite_conn_t  *conn;
    inbox_error_t         fallback;

    if (err == NULL) {
        err = &fallback;
    }

    status = inbox_sqlite_session_write(store, &stmt, &conn,
        INBOX_SQL_SESSION_DELETE,
        "DELETE FROM sessions WHERE session_hash = ?1"
        " RETURNING id, org_id", err);
    if (status != INBOX_OK) {
        return status;
    }

    inbox_sqlite_bind_text(stmt, 1, session_hash ? session_hash : "");

    session = 0;
    org = 0;
    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        session = sqlite3_column_int64(stmt, 0);
        org = sqlite3_column_int64(stmt, 1);
        rc = sqlite3_step(stmt);
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        inbox_sqlite_fail(conn, rc, err);
        inbox_sqlite_rollback(conn);
        return err->code;
    }

    /* no such session: nothing ended, nothing to push */
    if (session == 0) {
        return inbox_sqlite_commit(conn, err);
    }

    /* the sockets it opened close on it (ws-server) */
    inbox_sqlite_format_id(session, id);
    inbox_change_session(&change, id);

    return inbox_sqlite_events_commit(conn, org, &change, inbox_now_ms(),
                                      events, err);
}


inbox_status_t
inbox_sqlite_sessions_purge(inbox_store_t *store, int64_t now,
    size_t *removed, inbox_error_t *err)
{
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_sqlite_conn_t  *conn;
    inbox_error_t         fallback;

    if (err == NULL) {
        err = &fallback;
    }

    *removed = 0;

    status = inbox_sqlite_session_write(store, &stmt, &conn,
        INBOX_SQL_SESSIONS_PURGE,
        "DELETE FROM sessions WHERE expires_at <= ?1", err);
    if (status != INBOX_OK) {
        return status;
    }

    sqlite3_bind_int64(stmt, 1, now);

    return inbox_sqlite_session_finish(conn, stmt, "the sessions", removed,
                                       err);
}
