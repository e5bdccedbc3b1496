/*
 * The SQLite backend: an organization's event stream.  A change reserves
 * the organization's next org_seq numbers on its orgs row and stores in
 * events what each of its events refers to (ids, the unread total), in
 * the change's own transaction; which events a change makes and their
 * frames are libinbox's (inbox_change_t, event.h).
 */
#include <stdlib.h>
#include <string.h>
#include "store_sqlite.h"


inbox_status_t
inbox_sqlite_events_reserve(inbox_sqlite_conn_t *conn, int64_t org,
    size_t n, int64_t *first, char epoch[INBOX_EPOCH_MAX],
    int64_t *unread_total, inbox_error_t *err)
{
    int            rc;
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_EVENTS_RESERVE,
        "UPDATE orgs SET seq = seq + ?2 WHERE id = ?1"
        " RETURNING seq, epoch, unread_total", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    sqlite3_bind_int64(stmt, 2, (int64_t) n);

    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        /* the new seq is the last of the n reserved */
        *first = sqlite3_column_int64(stmt, 0) - (int64_t) n + 1;
        inbox_sqlite_column_copy(stmt, 1, epoch, INBOX_EPOCH_MAX);
        *unread_total = sqlite3_column_int64(stmt, 2);

        rc = sqlite3_step(stmt);

    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_INTERNAL;    /* the caller found the organization */
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    return INBOX_OK;
}


/* Ids of this backend are decimal; NULL stays NULL. */
static void
inbox_sqlite_bind_id(sqlite3_stmt *stmt, int i, const char *id)
{
    if (id == NULL) {
        sqlite3_bind_null(stmt, i);

    } else {
        sqlite3_bind_int64(stmt, i, strtoll(id, NULL, 10));
    }
}


inbox_status_t
inbox_sqlite_events_store(inbox_sqlite_conn_t *conn, int64_t org,
    const char *epoch, const inbox_change_t *change, int64_t now,
    inbox_error_t *err)
{
    int                          rc;
    size_t                       i;
    sqlite3_stmt                *stmt;
    const inbox_change_event_t  *e;

    for (i = 0; i < change->count; i++) {
        e = &change->items[i];

        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_EVENT_APPEND,
            "INSERT INTO events (org_id, seq, type, epoch, message_id,"
            " conversation_id, unread_total, created_at)"
            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", err);
        if (stmt == NULL) {
            return err->code;
        }

        sqlite3_bind_int64(stmt, 1, org);
        sqlite3_bind_int64(stmt, 2, e->org_seq);
        sqlite3_bind_text(stmt, 3, e->type, -1, SQLITE_STATIC);
        inbox_sqlite_bind_text(stmt, 4, epoch);
        inbox_sqlite_bind_id(stmt, 5, e->message_id);
        inbox_sqlite_bind_id(stmt, 6, e->conversation_id);

        if (e->unread_total >= 0) {
            sqlite3_bind_int64(stmt, 7, e->unread_total);
        }

        sqlite3_bind_int64(stmt, 8, now);

        rc = sqlite3_step(stmt);
        inbox_sqlite_done(stmt);

        if (rc != SQLITE_DONE) {
            return inbox_sqlite_fail(conn, rc, err);
        }
    }

    return INBOX_OK;
}


inbox_status_t
inbox_sqlite_realtime_state(inbox_store_t *store, const char *org_id,
    inbox_realtime_state_t *state, inbox_error_t *err)
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

    memset(state, 0, sizeof(inbox_realtime_state_t));

    status = inbox_sqlite_org_id(org_id, &org, err);
    if (status != INBOX_OK) {
        return status;
    }

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        return err->code;
    }

    /* one row: seq and unread total agree */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_REALTIME_STATE,
        "SELECT seq, epoch, unread_total FROM orgs WHERE id = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);

    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        state->org_seq = sqlite3_column_int64(stmt, 0);
        inbox_sqlite_column_copy(stmt, 1, state->epoch, sizeof(state->epoch));
        state->unread_total = sqlite3_column_int64(stmt, 2);
    }

    inbox_sqlite_done(stmt);

    if (rc == SQLITE_ROW) {
        return INBOX_OK;
    }

    if (rc == SQLITE_DONE) {
        return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                               "no organization has the id \"%s\"", org_id);
    }

    return inbox_sqlite_fail(conn, rc, err);
}
