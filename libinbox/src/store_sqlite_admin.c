/*
 * The SQLite backend: organizations, numbers, tokens, credits and
 * billing (what inboxctl and the login path need).
 */
#include <stdlib.h>
#include <string.h>
#include <inbox/clock.h>
#include <inbox/token.h>
#include "store_sqlite.h"


inbox_status_t
inbox_sqlite_org_create(inbox_store_t *store, const char *name,
    const char *timezone, char id[INBOX_ID_MAX], inbox_error_t *err)
{
    int                   rc;
    sqlite3_stmt         *stmt;
    inbox_sqlite_conn_t  *conn;
    inbox_error_t         fallback;

    if (err == NULL) {
        err = &fallback;
    }

    if (name == NULL || name[0] == '\0') {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "name",
                                     "An organization needs a name.");
    }

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        return err->code;
    }

    /* the epoch names this event stream; a new one is never reused */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_ORG_CREATE,
        "INSERT INTO orgs (name, timezone, epoch, created_at)"
        " VALUES (?1, coalesce(?2, 'UTC'), " INBOX_SQLITE_NEW_EPOCH ", ?3)"
        " RETURNING id", err);
    if (stmt == NULL) {
        return err->code;
    }

    inbox_sqlite_bind_text(stmt, 1, name);
    inbox_sqlite_bind_text(stmt, 2,
                           timezone && timezone[0] ? timezone : NULL);
    sqlite3_bind_int64(stmt, 3, inbox_now_ms());

    rc = sqlite3_step(stmt);

    if (rc != SQLITE_ROW) {
        inbox_sqlite_done(stmt);
        return inbox_sqlite_fail(conn, rc, err);
    }

    inbox_sqlite_format_id(sqlite3_column_int64(stmt, 0), id);

    /* RETURNING commits only when the statement is run to its end */
    rc = sqlite3_step(stmt);
    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    return INBOX_OK;
}


inbox_status_t
inbox_sqlite_org_find_by_name(inbox_store_t *store, const char *name,
    char id[INBOX_ID_MAX], inbox_error_t *err)
{
    int                   rc;
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

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_ORG_FIND_BY_NAME,
        "SELECT id FROM orgs WHERE name = ?1 ORDER BY id LIMIT 1", err);
    if (stmt == NULL) {
        return err->code;
    }

    inbox_sqlite_bind_text(stmt, 1, name ? name : "");

    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        inbox_sqlite_format_id(sqlite3_column_int64(stmt, 0), id);
    }

    inbox_sqlite_done(stmt);

    if (rc == SQLITE_ROW) {
        return INBOX_OK;
    }

    if (rc == SQLITE_DONE) {
        return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                               "No organization is named \"%s\".",
                               name ? name : "");
    }

    return inbox_sqlite_fail(conn, rc, err);
}


/* A row of INBOX_SQLITE_ORG_COLUMNS. */
inbox_status_t
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
inbox_sqlite_number_add(inbox_store_t *store, const inbox_number_t *number,
    inbox_error_t *err)
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

    status = inbox_sqlite_org_id(number->org_id, &org, err);
    if (status != INBOX_OK) {
        return status;
    }

    if (number->e164[0] != '+') {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "e164",
                                     "The number must be in E.164 form "
                                     "(+15551234567).");
    }

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        return err->code;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_NUMBER_ADD,
        "INSERT INTO numbers (e164, org_id, carrier, account_sid, auth_token,"
        " public_key, api_key, api_base, created_at,"
        " carrier_answers_keywords)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", err);
    if (stmt == NULL) {
        return err->code;
    }

    inbox_sqlite_bind_text(stmt, 1, number->e164);
    sqlite3_bind_int64(stmt, 2, org);
    inbox_sqlite_bind_text(stmt, 3, inbox_carrier_name(number->carrier));
    inbox_sqlite_bind_text(stmt, 4, number->account_sid);
    inbox_sqlite_bind_text(stmt, 5, number->auth_token);
    inbox_sqlite_bind_text(stmt, 6, number->public_key);
    inbox_sqlite_bind_text(stmt, 7, number->api_key);
    inbox_sqlite_bind_text(stmt, 8, number->api_base);
    sqlite3_bind_int64(stmt, 9, inbox_now_ms());
    sqlite3_bind_int(stmt, 10, number->carrier_answers_keywords != 0);

    rc = sqlite3_step(stmt);
    inbox_sqlite_done(stmt);

    /* in the words MongoDB's backend says too */
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return inbox_error_set(err, INBOX_ERR_CONFLICT,
                               "The number %s already belongs to an "
                               "organization.", number->e164);
    }

    if (rc != SQLITE_DONE) {
        return inbox_sqlite_write_fail(conn, rc, "the number",
                                       number->org_id, err);
    }

    return INBOX_OK;
}


inbox_status_t
inbox_sqlite_number_update(inbox_store_t *store,
    const inbox_number_t *number, inbox_error_t *err)
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

    status = inbox_sqlite_org_id(number->org_id, &org, err);
    if (status != INBOX_OK) {
        return status;
    }

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        return err->code;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_NUMBER_UPDATE,
        "UPDATE numbers SET carrier = ?3, account_sid = ?4, auth_token = ?5,"
        " public_key = ?6, api_key = ?7, api_base = ?8,"
        " carrier_answers_keywords = ?9"
        " WHERE e164 = ?1 AND org_id = ?2", err);
    if (stmt == NULL) {
        return err->code;
    }

    inbox_sqlite_bind_text(stmt, 1, number->e164);
    sqlite3_bind_int64(stmt, 2, org);
    inbox_sqlite_bind_text(stmt, 3, inbox_carrier_name(number->carrier));
    inbox_sqlite_bind_text(stmt, 4, number->account_sid);
    inbox_sqlite_bind_text(stmt, 5, number->auth_token);
    inbox_sqlite_bind_text(stmt, 6, number->public_key);
    inbox_sqlite_bind_text(stmt, 7, number->api_key);
    inbox_sqlite_bind_text(stmt, 8, number->api_base);
    sqlite3_bind_int(stmt, 9, number->carrier_answers_keywords != 0);

    rc = sqlite3_step(stmt);
    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        return inbox_sqlite_write_fail(conn, rc, "the number",
                                       number->org_id, err);
    }

    if (sqlite3_changes(conn->db) == 0) {
        return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                               "The organization has no number %s.",
                               number->e164);
    }

    return INBOX_OK;
}


inbox_status_t
inbox_sqlite_number_find(inbox_store_t *store, const char *e164,
    inbox_number_t *number, inbox_error_t *err)
{
    inbox_sqlite_conn_t  *conn;
    inbox_error_t         fallback;

    if (err == NULL) {
        err = &fallback;
    }

    memset(number, 0, sizeof(inbox_number_t));

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        return err->code;
    }

    return inbox_sqlite_number_read(conn, e164, number, err);
}


inbox_status_t
inbox_sqlite_number_read(inbox_sqlite_conn_t *conn, const char *e164,
    inbox_number_t *number, inbox_error_t *err)
{
    int            rc, oom;
    sqlite3_stmt  *stmt;

    memset(number, 0, sizeof(inbox_number_t));

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_NUMBER_FIND,
        "SELECT org_id, e164, carrier, account_sid, auth_token, public_key,"
        " api_key, api_base, carrier_answers_keywords"
        " FROM numbers WHERE e164 = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    inbox_sqlite_bind_text(stmt, 1, e164 ? e164 : "");

    rc = sqlite3_step(stmt);

    if (rc != SQLITE_ROW) {
        inbox_sqlite_done(stmt);

        if (rc == SQLITE_DONE) {
            return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                                   "No organization owns the number %s.",
                                   e164 ? e164 : "");
        }

        return inbox_sqlite_fail(conn, rc, err);
    }

    oom = 0;

    inbox_sqlite_format_id(sqlite3_column_int64(stmt, 0), number->org_id);
    inbox_sqlite_number_columns(stmt, 1, number, &oom);
    number->carrier_answers_keywords = sqlite3_column_int(stmt, 8) != 0;

    inbox_sqlite_done(stmt);

    if (oom) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    return INBOX_OK;
}


inbox_status_t
inbox_sqlite_number_remove(inbox_store_t *store, const char *org_id,
    const char *e164, int64_t *waiting, inbox_error_t *err)
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

    /* counted and removed in one write: nothing queued in between */
    conn = inbox_sqlite_begin_write(store, err);
    if (conn == NULL) {
        return err->code;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_NUMBER_WAITING,
        "SELECT count(*) FROM outbox WHERE org_id = ?1 AND from_e164 = ?2",
        err);
    if (stmt == NULL) {
        inbox_sqlite_rollback(conn);
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    inbox_sqlite_bind_text(stmt, 2, e164);

    rc = sqlite3_step(stmt);
    *waiting = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    inbox_sqlite_done(stmt);

    if (rc != SQLITE_ROW) {
        inbox_sqlite_fail(conn, rc, err);
        inbox_sqlite_rollback(conn);
        return err->code;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_NUMBER_REMOVE,
        "DELETE FROM numbers WHERE org_id = ?1 AND e164 = ?2", err);
    if (stmt == NULL) {
        inbox_sqlite_rollback(conn);
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    inbox_sqlite_bind_text(stmt, 2, e164);

    rc = sqlite3_step(stmt);
    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        inbox_sqlite_write_fail(conn, rc, "the number", org_id, err);
        inbox_sqlite_rollback(conn);
        return err->code;
    }

    if (sqlite3_changes(conn->db) == 0) {
        /* no organization is said as such, as MongoDB's check says it */
        status = inbox_sqlite_org_known(conn, org, org_id, err);
        inbox_sqlite_rollback(conn);

        return status != INBOX_OK ? status
               : inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                                 "The organization has no number %s.", e164);
    }

    if (*waiting > 0) {
        inbox_sqlite_rollback(conn);
        return inbox_error_number_busy(err, e164, *waiting);
    }

    return inbox_sqlite_commit(conn, err);
}


inbox_status_t
inbox_sqlite_numbers_list(inbox_store_t *store, const char *org_id,
    inbox_number_list_t *list, inbox_error_t *err)
{
    int                   rc, oom;
    int64_t               org;
    sqlite3_stmt         *stmt;
    inbox_number_t       *number;
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

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_NUMBERS_LIST,
        "SELECT e164, carrier, account_sid, auth_token, public_key,"
        " api_key, api_base, carrier_answers_keywords"
        " FROM numbers WHERE org_id = ?1 ORDER BY id LIMIT ?2", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    sqlite3_bind_int(stmt, 2, INBOX_ACCOUNT_LIST_MAX + 1);

    oom = 0;

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {

        if (list->count == INBOX_ACCOUNT_LIST_MAX) {
            list->truncated = 1;
            continue;
        }

        number = inbox_number_list_add(list);
        if (number == NULL) {
            oom = 1;
            break;
        }

        inbox_sqlite_format_id(org, number->org_id);
        inbox_sqlite_number_columns(stmt, 0, number, &oom);
        number->carrier_answers_keywords = sqlite3_column_int(stmt, 7) != 0;
    }

    inbox_sqlite_done(stmt);

    if (oom) {
        inbox_number_list_free(list);
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    if (rc != SQLITE_DONE) {
        inbox_number_list_free(list);
        return inbox_sqlite_fail(conn, rc, err);
    }

    /* no numbers: say so only when there is no organization either */
    if (list->count == 0) {
        return inbox_sqlite_org_known(conn, org, org_id, err);
    }

    return INBOX_OK;
}


inbox_status_t
inbox_sqlite_token_add(inbox_store_t *store, const char *org_id,
    const char *user_email, const char *token_hash, const char *name,
    int64_t expires_at, char id[INBOX_ID_MAX], inbox_error_t *err)
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

    if (token_hash == NULL || token_hash[0] == '\0') {
        return inbox_error_set(err, INBOX_ERR_INVALID,
                               "A token needs its hash.");
    }

    /* the user is looked up and the token made in one write: a removal
     * committed between them would leave an unrevoked token */
    conn = inbox_sqlite_begin_write(store, err);
    if (conn == NULL) {
        return err->code;
    }

    user = 0;

    if (user_email != NULL && user_email[0] != '\0') {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_USER_FIND,
            "SELECT id FROM users WHERE email = ?1 AND org_id = ?2"
            " AND removed_at IS NULL", err);
        if (stmt == NULL) {
            inbox_sqlite_rollback(conn);
            return err->code;
        }

        inbox_sqlite_bind_text(stmt, 1, user_email);
        sqlite3_bind_int64(stmt, 2, org);

        rc = sqlite3_step(stmt);

        if (rc == SQLITE_ROW) {
            user = sqlite3_column_int64(stmt, 0);
        }

        inbox_sqlite_done(stmt);

        if (rc == SQLITE_DONE) {
            inbox_sqlite_rollback(conn);
            return inbox_error_set_field(err, INBOX_ERR_NOT_FOUND, "user",
                                         "No user %s in that organization.",
                                         user_email);
        }

        if (rc != SQLITE_ROW) {
            inbox_sqlite_fail(conn, rc, err);
            inbox_sqlite_rollback(conn);
            return err->code;
        }
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_TOKEN_ADD,
        "INSERT INTO tokens (token_hash, org_id, user_id, created_at, name,"
        " expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id", err);
    if (stmt == NULL) {
        inbox_sqlite_rollback(conn);
        return err->code;
    }

    inbox_sqlite_bind_text(stmt, 1, token_hash);
    sqlite3_bind_int64(stmt, 2, org);

    if (user) {
        sqlite3_bind_int64(stmt, 3, user);
    } else {
        sqlite3_bind_null(stmt, 3);
    }

    sqlite3_bind_int64(stmt, 4, inbox_now_ms());
    inbox_sqlite_bind_text(stmt, 5, name);

    if (expires_at != 0) {
        sqlite3_bind_int64(stmt, 6, expires_at);
    } else {
        sqlite3_bind_null(stmt, 6);
    }

    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        inbox_sqlite_format_id(sqlite3_column_int64(stmt, 0), id);
        rc = sqlite3_step(stmt);
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        inbox_sqlite_write_fail(conn, rc, "the token", org_id, err);
        inbox_sqlite_rollback(conn);
        return err->code;
    }

    return inbox_sqlite_commit(conn, err);
}


/* An org-wide token acts as a member: only a billing user's token (or
 * session) reaches billing. */
inbox_status_t
inbox_sqlite_token_find(inbox_store_t *store, const char *token_hash,
    inbox_principal_t *principal, inbox_token_t *token, inbox_error_t *err)
{
    int                   rc, active;
    const char           *role;
    sqlite3_stmt         *stmt;
    inbox_sqlite_conn_t  *conn;
    inbox_error_t         fallback;

    if (err == NULL) {
        err = &fallback;
    }

    memset(principal, 0, sizeof(inbox_principal_t));

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        return err->code;
    }

    active = 1;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_TOKEN_FIND,
        "SELECT t.org_id, t.user_id, u.role, t.id, t.created_at,"
        " t.expires_at, t.revoked_at FROM tokens t"
        " LEFT JOIN users u ON u.id = t.user_id AND u.org_id = t.org_id"
        " AND u.removed_at IS NULL"
        " WHERE t.token_hash = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    inbox_sqlite_bind_text(stmt, 1, token_hash ? token_hash : "");

    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        inbox_sqlite_format_id(sqlite3_column_int64(stmt, 0),
                               principal->org_id);

        if (sqlite3_column_type(stmt, 1) != SQLITE_NULL) {
            inbox_sqlite_format_id(sqlite3_column_int64(stmt, 1),
                                   principal->user_id);

            /* a person's token: only while they are on the team */
            active = (sqlite3_column_type(stmt, 2) != SQLITE_NULL);
        }

        role = (const char *) sqlite3_column_text(stmt, 2);
        principal->role = (role && strcmp(role, "billing") == 0)
                          ? INBOX_ROLE_BILLING : INBOX_ROLE_MEMBER;

        /* NULL reads as 0: never expires, not revoked */
        inbox_sqlite_format_id(sqlite3_column_int64(stmt, 3), token->id);
        token->created_at = sqlite3_column_int64(stmt, 4);
        token->expires_at = sqlite3_column_int64(stmt, 5);
        token->revoked_at = sqlite3_column_int64(stmt, 6);
    }

    inbox_sqlite_done(stmt);

    if (rc == SQLITE_ROW && !active) {
        return inbox_token_user_gone(err);
    }

    if (rc == SQLITE_ROW) {
        return INBOX_OK;
    }

    if (rc == SQLITE_DONE) {
        return inbox_token_unknown(err);
    }

    return inbox_sqlite_fail(conn, rc, err);
}


inbox_status_t
inbox_sqlite_tokens_list(inbox_store_t *store, const char *org_id,
    inbox_token_list_t *list, inbox_error_t *err)
{
    int                   rc;
    int64_t               org;
    sqlite3_stmt         *stmt;
    inbox_token_t        *token;
    inbox_status_t        status;
    inbox_sqlite_conn_t  *conn;
    inbox_error_t         fallback;

    if (err == NULL) {
        err = &fallback;
    }

    memset(list, 0, sizeof(inbox_token_list_t));

    status = inbox_sqlite_org_id(org_id, &org, err);
    if (status != INBOX_OK) {
        return status;
    }

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        return err->code;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_TOKENS_LIST,
        "SELECT t.id, t.name, u.email, t.created_at, t.expires_at,"
        " t.revoked_at FROM tokens t LEFT JOIN users u ON u.id = t.user_id"
        " WHERE t.org_id = ?1 ORDER BY t.id LIMIT ?2", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    sqlite3_bind_int(stmt, 2, INBOX_TOKEN_LIST_MAX + 1);

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {

        if (list->count == INBOX_TOKEN_LIST_MAX) {
            list->truncated = 1;
            continue;
        }

        token = inbox_token_list_add(list);
        if (token == NULL) {
            inbox_sqlite_done(stmt);
            inbox_token_list_free(list);
            return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        }

        inbox_sqlite_format_id(sqlite3_column_int64(stmt, 0), token->id);
        inbox_sqlite_column_copy(stmt, 1, token->name, sizeof(token->name));
        inbox_sqlite_column_copy(stmt, 2, token->user_email,
                                 sizeof(token->user_email));
        token->created_at = sqlite3_column_int64(stmt, 3);
        token->expires_at = sqlite3_column_int64(stmt, 4);
        token->revoked_at = sqlite3_column_int64(stmt, 5);
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        inbox_token_list_free(list);
        return inbox_sqlite_fail(conn, rc, err);
    }

    /* no tokens: say so only when there is no organization either */
    if (list->count == 0) {
        status = inbox_sqlite_org_known(conn, org, org_id, err);
        if (status != INBOX_OK) {
            inbox_token_list_free(list);
            return status;
        }
    }

    return INBOX_OK;
}


/* The first revocation's time is kept: revoking again changes nothing. */
/* The one id stmt answers, into id ("" for none); on failure the
 * transaction is rolled back. */
static inbox_status_t
inbox_sqlite_token_id(inbox_sqlite_conn_t *conn, sqlite3_stmt *stmt,
    char id[INBOX_ID_MAX], inbox_error_t *err)
{
    int  rc;

    id[0] = '\0';
    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        inbox_sqlite_format_id(sqlite3_column_int64(stmt, 0), id);
        rc = sqlite3_step(stmt);
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        inbox_sqlite_fail(conn, rc, err);
        inbox_sqlite_rollback(conn);
        return err->code;
    }

    return INBOX_OK;
}


inbox_status_t
inbox_sqlite_token_revoke(inbox_store_t *store, const char *org_id,
    const char *token_id, const char *token_hash, char id[INBOX_ID_MAX],
    inbox_event_list_t *events, inbox_error_t *err)
{
    int64_t               org, token, now;
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_change_t        change;
    inbox_sqlite_conn_t  *conn;
    inbox_error_t         fallback;

    if (err == NULL) {
        err = &fallback;
    }

    status = inbox_sqlite_org_id(org_id, &org, err);
    if (status != INBOX_OK) {
        return status;
    }

    /* an id that is no row id names no token: 0 matches none */
    token = 0;
    if (token_id != NULL && inbox_sqlite_parse_id(token_id, &token) != 0) {
        token = 0;
    }

    conn = inbox_sqlite_begin_write(store, err);
    if (conn == NULL) {
        return err->code;
    }

    now = inbox_now_ms();

    /* the token, not revoked yet: revoked now */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_TOKEN_REVOKE,
        "UPDATE tokens SET revoked_at = ?4"
        " WHERE org_id = ?1 AND (id = ?2 OR token_hash = ?3)"
        " AND revoked_at IS NULL RETURNING id", err);
    if (stmt == NULL) {
        inbox_sqlite_rollback(conn);
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    sqlite3_bind_int64(stmt, 2, token);
    inbox_sqlite_bind_text(stmt, 3, token_id == NULL ? token_hash : NULL);
    sqlite3_bind_int64(stmt, 4, now);

    status = inbox_sqlite_token_id(conn, stmt, id, err);
    if (status != INBOX_OK) {
        return status;
    }

    /* the sockets it opened close on it (ws-server) */
    if (id[0] != '\0') {
        inbox_change_token(&change, id);
        return inbox_sqlite_events_commit(conn, org, &change, now, events,
                                          err);
    }

    /* revoked before: nothing changes, nothing to push */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_TOKEN_REVOKED,
        "SELECT id FROM tokens"
        " WHERE org_id = ?1 AND (id = ?2 OR token_hash = ?3)", err);
    if (stmt == NULL) {
        inbox_sqlite_rollback(conn);
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    sqlite3_bind_int64(stmt, 2, token);
    inbox_sqlite_bind_text(stmt, 3, token_id == NULL ? token_hash : NULL);

    status = inbox_sqlite_token_id(conn, stmt, id, err);
    if (status != INBOX_OK) {
        return status;
    }

    if (id[0] != '\0') {
        inbox_sqlite_rollback(conn);
        return INBOX_OK;
    }

    status = inbox_sqlite_org_known(conn, org, org_id, err);
    inbox_sqlite_rollback(conn);

    if (status != INBOX_OK) {
        return status;
    }

    if (token_id != NULL) {
        return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                               "Organization %s has no token with the id "
                               "\"%.32s\".", org_id, token_id);
    }

    return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                           "Organization %s has no such token.", org_id);
}


/*
 * Commits a change of the organization's billing (conn's write
 * transaction) with its billing.updated, the billing as it is then.
 * Only inboxctl changes billing, and it pushes nothing: ws-server finds
 * the event at its next look at the store (ws_stream.c).
 */
static inbox_status_t
inbox_sqlite_billing_commit(inbox_sqlite_conn_t *conn, int64_t org,
    const char *org_id, inbox_error_t *err)
{
    inbox_status_t   status;
    inbox_change_t   change;
    inbox_billing_t  billing;

    status = inbox_sqlite_billing_load(conn, org, org_id, &billing, err);
    if (status != INBOX_OK) {
        inbox_sqlite_rollback(conn);
        return status;
    }

    inbox_change_billing(&change, &billing);

    return inbox_sqlite_events_commit(conn, org, &change, inbox_now_ms(),
                                      NULL, err);
}


inbox_status_t
inbox_sqlite_credits_grant(inbox_store_t *store, const char *org_id,
    int64_t credits, inbox_error_t *err)
{
    int64_t               org;
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

    /* the balance and its ledger entry together (billing.h) */
    conn = inbox_sqlite_begin_write(store, err);
    if (conn == NULL) {
        return err->code;
    }

    status = inbox_sqlite_credits_move(conn, org, INBOX_LEDGER_GRANT,
                                       credits, 0, inbox_now_ms(), NULL,
                                       err);
    if (status != INBOX_OK) {
        inbox_sqlite_rollback(conn);

        if (status == INBOX_ERR_NOT_FOUND) {
            return inbox_error_org_unknown(err, org_id);
        }

        return status;
    }

    return inbox_sqlite_billing_commit(conn, org, org_id, err);
}


/*
 * Billing active again makes the campaign messages its inactive spell
 * parked due (inbox_outbox_billing), in the same transaction: a claim
 * either saw billing inactive and parked before, or sees it active.
 */
inbox_status_t
inbox_sqlite_billing_set(inbox_store_t *store, const char *org_id,
    int active, inbox_error_t *err)
{
    int64_t               org;
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_sqlite_conn_t  *conn;

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

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_BILLING_SET,
        "UPDATE orgs SET billing_active = ?2 WHERE id = ?1", err);
    if (stmt == NULL) {
        status = err->code;
        goto failed;
    }

    sqlite3_bind_int64(stmt, 1, org);
    sqlite3_bind_int(stmt, 2, active ? 1 : 0);

    if (!inbox_sqlite_step_done(stmt)) {
        status = inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
        goto failed;
    }

    if (sqlite3_changes(conn->db) == 0) {
        status = inbox_error_org_unknown(err, org_id);
        goto failed;
    }

    if (active) {
        status = inbox_sqlite_outbox_unpark_org(conn, org, inbox_now_ms(),
                                                err);
        if (status != INBOX_OK) {
            goto failed;
        }
    }

    return inbox_sqlite_billing_commit(conn, org, org_id, err);

failed:

    inbox_sqlite_rollback(conn);

    return status;
}


inbox_status_t
inbox_sqlite_plan_set(inbox_store_t *store, const char *org_id,
    inbox_plan_t plan, inbox_error_t *err)
{
    int64_t               org;
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_sqlite_conn_t  *conn;

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

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_PLAN_SET,
        "UPDATE orgs SET plan = ?2 WHERE id = ?1", err);
    if (stmt == NULL) {
        inbox_sqlite_rollback(conn);
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    sqlite3_bind_text(stmt, 2, inbox_plan_name(plan), -1, SQLITE_STATIC);

    if (!inbox_sqlite_step_done(stmt)) {
        status = inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
        inbox_sqlite_rollback(conn);
        return status;
    }

    if (sqlite3_changes(conn->db) == 0) {
        inbox_sqlite_rollback(conn);
        return inbox_error_org_unknown(err, org_id);
    }

    return inbox_sqlite_billing_commit(conn, org, org_id, err);
}
