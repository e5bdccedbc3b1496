/*
 * The SQLite backend: the team, as a billing contact manages it (roles
 * and removal; adding is user_add, store_sqlite_users.c).
 *
 * The rule that an organization keeps a billing contact
 * (inbox_team_keeps_billing) is checked and the change written in one
 * write transaction, so two billing contacts demoting each other at once
 * cannot both succeed.
 */
#include <stdlib.h>
#include <string.h>
#include <inbox/clock.h>
#include "store_sqlite.h"


static inbox_status_t inbox_sqlite_team_begin(inbox_store_t *store,
    const char *org_id, const char *user_id, int leaving_billing,
    int64_t *org, int64_t *user, inbox_sqlite_conn_t **connp,
    inbox_error_t *err);
static inbox_status_t inbox_sqlite_team_ids(const char *org_id,
    const char *user_id, int64_t *org, int64_t *user, inbox_error_t *err);


inbox_status_t
inbox_sqlite_user_role_set(inbox_store_t *store, const char *org_id,
    const char *user_id, inbox_role_t role, inbox_user_t *user,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int                   rc;
    int64_t               org, id;
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_sqlite_conn_t  *conn;
    inbox_user_t          user_fallback;
    inbox_error_t         fallback;

    if (err == NULL) {
        err = &fallback;
    }

    if (user == NULL) {
        user = &user_fallback;
    }

    status = inbox_sqlite_team_begin(store, org_id, user_id,
                                     role != INBOX_ROLE_BILLING, &org, &id,
                                     &conn, err);
    if (status != INBOX_OK) {
        return status;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_TEAM_ROLE_SET,
        "UPDATE users SET role = ?2 WHERE id = ?1"
        " RETURNING id, org_id, email, role, created_at", err);
    if (stmt == NULL) {
        goto failed;
    }

    sqlite3_bind_int64(stmt, 1, id);
    inbox_sqlite_bind_text(stmt, 2, inbox_role_name(role));

    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        inbox_sqlite_user_read(stmt, user);
        rc = sqlite3_step(stmt);
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        inbox_sqlite_fail(conn, rc, err);
        goto failed;
    }

    return inbox_sqlite_team_commit(conn, org, INBOX_EVENT_USER_UPDATED, id,
                                    events, err);

failed:

    inbox_sqlite_rollback(conn);
    return err->code;
}


inbox_status_t
inbox_sqlite_user_remove(inbox_store_t *store, const char *org_id,
    const char *user_id, inbox_event_list_t *events, inbox_error_t *err)
{
    int64_t               org, id, now;
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_sqlite_conn_t  *conn;
    inbox_error_t         fallback;

    if (err == NULL) {
        err = &fallback;
    }

    status = inbox_sqlite_team_begin(store, org_id, user_id, 1, &org, &id,
                                     &conn, err);
    if (status != INBOX_OK) {
        return status;
    }

    now = inbox_now_ms();

    /* the row stays for what refers to it; no password signs it in */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_TEAM_USER_REMOVE,
        "UPDATE users SET removed_at = ?2, password_hash = NULL"
        " WHERE id = ?1", err);
    if (stmt == NULL) {
        goto failed;
    }

    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_int64(stmt, 2, now);

    if (!inbox_sqlite_step_done(stmt)) {
        goto step_failed;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_SESSIONS_END_USER,
        "DELETE FROM sessions WHERE user_id = ?1", err);
    if (stmt == NULL) {
        goto failed;
    }

    sqlite3_bind_int64(stmt, 1, id);

    if (!inbox_sqlite_step_done(stmt)) {
        goto step_failed;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_TEAM_TOKENS_REVOKE,
        "UPDATE tokens SET revoked_at = ?2 WHERE user_id = ?1"
        " AND revoked_at IS NULL", err);
    if (stmt == NULL) {
        goto failed;
    }

    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_int64(stmt, 2, now);

    if (!inbox_sqlite_step_done(stmt)) {
        goto step_failed;
    }

    return inbox_sqlite_team_commit(conn, org, INBOX_EVENT_USER_REMOVED, id,
                                    events, err);

step_failed:

    inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);

failed:

    inbox_sqlite_rollback(conn);
    return err->code;
}


inbox_status_t
inbox_sqlite_team_commit(inbox_sqlite_conn_t *conn, int64_t org,
    const char *type, int64_t user, inbox_event_list_t *events,
    inbox_error_t *err)
{
    char            user_text[INBOX_ID_MAX];
    inbox_change_t  change;

    inbox_sqlite_format_id(user, user_text);
    inbox_change_user(&change, type, user_text);

    return inbox_sqlite_events_commit(conn, org, &change, inbox_now_ms(),
                                      events, err);
}


/*
 * Opens the write transaction of a change to user_id of org_id, after
 * checking the user is on the team and, when the change takes a billing
 * contact away (leaving_billing), that another one stays.
 */
static inbox_status_t
inbox_sqlite_team_begin(inbox_store_t *store, const char *org_id,
    const char *user_id, int leaving_billing, int64_t *org, int64_t *user,
    inbox_sqlite_conn_t **connp, inbox_error_t *err)
{
    int                   rc, billing;
    int64_t               others;
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_sqlite_conn_t  *conn;

    status = inbox_sqlite_team_ids(org_id, user_id, org, user, err);
    if (status != INBOX_OK) {
        return status;
    }

    conn = inbox_sqlite_begin_write(store, err);
    if (conn == NULL) {
        return err->code;
    }

    /* the user's role, and how many other billing contacts there are */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_TEAM_USER_ROLE,
        "SELECT u.role = 'billing', (SELECT count(*) FROM users o"
        "  WHERE o.org_id = u.org_id AND o.id != u.id"
        "  AND o.role = 'billing' AND o.removed_at IS NULL)"
        " FROM users u WHERE u.id = ?1 AND u.org_id = ?2"
        " AND u.removed_at IS NULL", err);
    if (stmt == NULL) {
        goto failed;
    }

    sqlite3_bind_int64(stmt, 1, *user);
    sqlite3_bind_int64(stmt, 2, *org);

    billing = 0;
    others = 0;
    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        billing = sqlite3_column_int(stmt, 0);
        others = sqlite3_column_int64(stmt, 1);
    }

    inbox_sqlite_done(stmt);

    if (rc == SQLITE_DONE) {
        if (inbox_sqlite_org_known(conn, *org, org_id, err) == INBOX_OK) {
            inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                            "The organization has no user with the id "
                            "\"%.32s\".", user_id);
        }

        goto failed;
    }

    if (rc != SQLITE_ROW) {
        inbox_sqlite_fail(conn, rc, err);
        goto failed;
    }

    if (inbox_team_keeps_billing(billing, !leaving_billing, others, err)
        != INBOX_OK)
    {
        goto failed;
    }

    *connp = conn;
    return INBOX_OK;

failed:

    inbox_sqlite_rollback(conn);
    return err->code;
}


static inbox_status_t
inbox_sqlite_team_ids(const char *org_id, const char *user_id, int64_t *org,
    int64_t *user, inbox_error_t *err)
{
    if (inbox_sqlite_parse_id(org_id, org) != 0) {
        return inbox_error_org_unknown(err, org_id);
    }

    if (inbox_sqlite_parse_id(user_id, user) != 0) {
        return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                               "The organization has no user with the id "
                               "\"%.32s\".", user_id ? user_id : "");
    }

    return INBOX_OK;
}
