/*
 * The SQLite backend: what an agent does to one conversation.  Marking it
 * read is one write transaction: the conversation's unread count drops to
 * zero (the triggers on conversations lower orgs.unread_total with it),
 * and, only when that changed something, the organization's seq moves on
 * by two for the events conversation.updated and unread.total, which are
 * stored in the events table (as references) and handed to the caller
 * (as frames).
 */
#include <stdlib.h>
#include <string.h>
#include <inbox/clock.h>
#include "store_sqlite.h"


#define INBOX_SQLITE_READ_EVENTS  2


static inbox_status_t inbox_sqlite_mark_read_update(
    inbox_sqlite_conn_t *conn, int64_t org, int64_t id, int64_t now,
    int *changed, inbox_error_t *err);
static inbox_status_t inbox_sqlite_mark_read_events(
    inbox_sqlite_conn_t *conn, int64_t org, int64_t now,
    const inbox_conversation_t *conversation, inbox_event_list_t *events,
    inbox_error_t *err);


inbox_status_t
inbox_sqlite_conversation_mark_read(inbox_store_t *store, const char *org_id,
    const char *conversation_id, inbox_conversation_t *conversation,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int                   changed;
    size_t                first;
    int64_t               org, id, now;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_event_list_t    unwanted;
    inbox_sqlite_conn_t  *conn;

    if (err == NULL) {
        err = &fallback;
    }

    /* a caller that pushes nothing may pass no list */
    memset(&unwanted, 0, sizeof(inbox_event_list_t));
    if (events == NULL) {
        events = &unwanted;
    }

    memset(conversation, 0, sizeof(inbox_conversation_t));
    first = events->count;
    changed = 0;

    if (inbox_sqlite_parse_id(org_id, &org) != 0
        || inbox_sqlite_parse_id(conversation_id, &id) != 0)
    {
        return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                               "no such conversation");
    }

    conn = inbox_sqlite_begin_write(store, err);
    if (conn == NULL) {
        return err->code;
    }

    now = inbox_now_ms();

    status = inbox_sqlite_mark_read_update(conn, org, id, now, &changed,
                                           err);
    if (status != INBOX_OK) {
        goto failed;
    }

    /* also tells an unknown or another organization's id */
    status = inbox_sqlite_conversation_load(conn, org, id, conversation, err);
    if (status != INBOX_OK) {
        goto failed;
    }

    if (changed) {
        status = inbox_sqlite_mark_read_events(conn, org, now, conversation,
                                               events, err);
        if (status != INBOX_OK) {
            goto failed;
        }
    }

    status = inbox_sqlite_commit(conn, err);
    if (status != INBOX_OK) {
        /* the commit failed and rolled back: nothing happened */
        inbox_event_list_truncate(events, first);
        inbox_conversation_free(conversation);
        memset(conversation, 0, sizeof(inbox_conversation_t));
    }

    inbox_event_list_free(&unwanted);
    return status;

failed:

    inbox_sqlite_rollback(conn);
    inbox_event_list_truncate(events, first);
    inbox_event_list_free(&unwanted);
    inbox_conversation_free(conversation);
    memset(conversation, 0, sizeof(inbox_conversation_t));

    return status;
}


/* Zero unread, only where there was some: a read thread stays untouched
 * (its last_read_at too), and *changed says which it was. */
static inbox_status_t
inbox_sqlite_mark_read_update(inbox_sqlite_conn_t *conn, int64_t org,
    int64_t id, int64_t now, int *changed, inbox_error_t *err)
{
    int            rc;
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_MARK_READ,
        "UPDATE conversations SET unread_count = 0, last_read_at = ?3"
        " WHERE id = ?1 AND org_id = ?2 AND unread_count <> 0", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_int64(stmt, 2, org);
    sqlite3_bind_int64(stmt, 3, now);

    rc = sqlite3_step(stmt);
    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    *changed = (sqlite3_changes(conn->db) != 0);

    return INBOX_OK;
}


/*
 * conversation.updated and unread.total with the organization's next two
 * org_seq, into the events table and then the caller's list (which owns
 * the frames once pushed).  The triggers have already lowered
 * orgs.unread_total, so the total read here is the new one.
 */
static inbox_status_t
inbox_sqlite_mark_read_events(inbox_sqlite_conn_t *conn, int64_t org,
    int64_t now, const inbox_conversation_t *conversation,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int              rc;
    char            *frames[INBOX_SQLITE_READ_EVENTS];
    char             epoch[INBOX_EPOCH_MAX];
    char             org_text[INBOX_ID_MAX];
    size_t           i;
    int64_t          seq, unread_total;
    sqlite3_stmt    *stmt;
    inbox_status_t   status;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_MARK_READ_ORG,
        "UPDATE orgs SET seq = seq + 2 WHERE id = ?1"
        " RETURNING seq, epoch, unread_total", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);

    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        seq = sqlite3_column_int64(stmt, 0) - 1;    /* the first of two */
        inbox_sqlite_column_copy(stmt, 1, epoch, sizeof(epoch));
        unread_total = sqlite3_column_int64(stmt, 2);

        rc = sqlite3_step(stmt);

    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_INTERNAL;    /* its conversation was just found */
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    frames[0] = inbox_event_conversation_updated(seq, epoch, conversation);
    frames[1] = inbox_event_unread_total(seq + 1, epoch, unread_total);

    if (frames[0] == NULL || frames[1] == NULL) {
        status = inbox_error_set(err, INBOX_ERR_INTERNAL, "out of memory");
        goto failed;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_MARK_READ_EVENTS,
        "INSERT INTO events (org_id, seq, type, epoch, conversation_id,"
        " unread_total, created_at)"
        " VALUES (?1, ?2, 'conversation.updated', ?3, ?4, NULL, ?6),"
        " (?1, ?2 + 1, 'unread.total', ?3, NULL, ?5, ?6)", err);
    if (stmt == NULL) {
        status = err->code;
        goto failed;
    }

    sqlite3_bind_int64(stmt, 1, org);
    sqlite3_bind_int64(stmt, 2, seq);
    inbox_sqlite_bind_text(stmt, 3, epoch);
    sqlite3_bind_int64(stmt, 4, strtoll(conversation->id, NULL, 10));
    sqlite3_bind_int64(stmt, 5, unread_total);
    sqlite3_bind_int64(stmt, 6, now);

    rc = sqlite3_step(stmt);
    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        status = inbox_sqlite_fail(conn, rc, err);
        goto failed;
    }

    status = INBOX_OK;
    inbox_sqlite_format_id(org, org_text);

    for (i = 0; i < INBOX_SQLITE_READ_EVENTS; i++) {
        /* the list owns the frame from here, also when the push fails */
        if (inbox_event_list_push(events, org_text, seq + (int64_t) i,
                                  frames[i])
            != 0)
        {
            status = inbox_error_set(err, INBOX_ERR_INTERNAL,
                                     "out of memory");
        }

        frames[i] = NULL;
    }

    return status;

failed:

    for (i = 0; i < INBOX_SQLITE_READ_EVENTS; i++) {
        free(frames[i]);
    }

    return status;
}
