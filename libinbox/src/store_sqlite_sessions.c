/*
 * The SQLite backend: sessions of people signed in with a password
 * (migration 6): made at sign-in, found (and their use recorded) by each
 * request, ended at logout, purged once expired.
 *
 * Writes that a server makes on a request's behalf queue for the
 * process's writer connection like every other write transaction
 * (inbox_sqlite_begin_write).
 */
#include <stdlib.h>
#include <string.h>
#include <inbox/clock.h>
#include "store_sqlite.h"


/* One statement in its own write transaction: the session writes and a
 * sign-in's rehash (store_sqlite_users.c). */
inbox_status_t
inbox_sqlite_write_one(inbox_store_t *store, sqlite3_stmt **stmtp,
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
inbox_status_t
inbox_sqlite_write_one_finish(inbox_sqlite_conn_t *conn, sqlite3_stmt *stmt,
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
        || inbox_sqlite_user_id(user_id, &user, err) != INBOX_OK)
    {
        return err->code;
    }

    /* the user must be the organization's, on the team and (for a
     * sign-in) with the password that was checked: the SELECT finds
     * nothing else, and then nothing is inserted */
    status = inbox_sqlite_write_one(store, &stmt, &conn,
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

    status = inbox_sqlite_write_one_finish(conn, stmt, "the session", &added,
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

    status = inbox_sqlite_write_one(store, &stmt, &conn,
        INBOX_SQL_SESSION_TOUCH,
        "UPDATE sessions SET last_seen_at = ?2, expires_at = ?3"
        " WHERE session_hash = ?1", err);
    if (status != INBOX_OK) {
        return status;
    }

    inbox_sqlite_bind_text(stmt, 1, session_hash);
    sqlite3_bind_int64(stmt, 2, session->last_seen_at);
    sqlite3_bind_int64(stmt, 3, session->expires_at);

    return inbox_sqlite_write_one_finish(conn, stmt, "the session", NULL,
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

    status = inbox_sqlite_write_one(store, &stmt, &conn,
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

    status = inbox_sqlite_write_one(store, &stmt, &conn,
        INBOX_SQL_SESSIONS_PURGE,
        "DELETE FROM sessions WHERE expires_at <= ?1", err);
    if (status != INBOX_OK) {
        return status;
    }

    sqlite3_bind_int64(stmt, 1, now);

    return inbox_sqlite_write_one_finish(conn, stmt, "the sessions", removed,
                                       err);
}
