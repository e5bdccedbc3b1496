/*
 * The SQLite backend: contacts.  A contact always has its conversation
 * (empty until the first message), so that its thread can be opened.
 */
#include <string.h>
#include <inbox/clock.h>
#include "store_sqlite.h"


/* A NULL name keeps the name the contact has; "" forgets it. */
inbox_status_t
inbox_sqlite_contact_upsert(inbox_store_t *store, const char *org_id,
    const char *phone, const char *name, char id[INBOX_ID_MAX],
    inbox_error_t *err)
{
    int                   rc;
    int64_t               org, contact, now;
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

    now = inbox_now_ms();

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CONTACT_UPSERT,
        "INSERT INTO contacts (org_id, phone, name, created_at)"
        " VALUES (?1, ?2, nullif(?3, ''), ?4)"
        " ON CONFLICT (org_id, phone)"
        " DO UPDATE SET name = CASE WHEN ?3 IS NULL THEN name"
        "   ELSE excluded.name END"
        " RETURNING id", err);
    if (stmt == NULL) {
        goto failed;
    }

    sqlite3_bind_int64(stmt, 1, org);
    inbox_sqlite_bind_text(stmt, 2, phone);
    inbox_sqlite_bind_text(stmt, 3, name);
    sqlite3_bind_int64(stmt, 4, now);

    rc = sqlite3_step(stmt);
    contact = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;

    if (rc == SQLITE_ROW) {
        rc = sqlite3_step(stmt);
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        inbox_sqlite_write_fail(conn, rc, "the phone number", err);
        goto failed;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CONVERSATION_ENSURE,
        "INSERT INTO conversations (org_id, contact_id, last_activity_at,"
        " created_at) VALUES (?1, ?2, ?3, ?3)"
        " ON CONFLICT (contact_id) DO NOTHING", err);
    if (stmt == NULL) {
        goto failed;
    }

    sqlite3_bind_int64(stmt, 1, org);
    sqlite3_bind_int64(stmt, 2, contact);
    sqlite3_bind_int64(stmt, 3, now);

    rc = sqlite3_step(stmt);
    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        inbox_sqlite_fail(conn, rc, err);
        goto failed;
    }

    status = inbox_sqlite_commit(conn, err);
    if (status != INBOX_OK) {
        return status;
    }

    inbox_sqlite_format_id(contact, id);
    return INBOX_OK;

failed:

    inbox_sqlite_rollback(conn);
    return err->code;
}
