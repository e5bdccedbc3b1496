/*
 * The SQLite backend: opt-out and opt-in (optout.h).  A change writes the
 * contact and its timeline event (contact_events) and appends its events
 * in one transaction; ingest calls inbox_sqlite_contact_opt_write inside
 * the message's own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inbox/clock.h>
#include <inbox/optout.h>
#include "store_sqlite.h"


static inbox_status_t inbox_sqlite_contact_opt(inbox_store_t *store,
    const char *org_id, const char *contact_id, int opt_out,
    inbox_opt_out_source_t source, const char *keyword, int64_t at,
    int64_t sent_at, inbox_contact_record_t *contact,
    inbox_event_list_t *events, inbox_error_t *err);


inbox_status_t
inbox_sqlite_contact_opt_out(inbox_store_t *store, const char *org_id,
    const char *contact_id, inbox_opt_out_source_t source,
    const char *keyword, int64_t at, int64_t sent_at,
    inbox_contact_record_t *contact, inbox_event_list_t *events,
    inbox_error_t *err)
{
    return inbox_sqlite_contact_opt(store, org_id, contact_id, 1, source,
                                    keyword, at, sent_at, contact, events,
                                    err);
}


inbox_status_t
inbox_sqlite_contact_opt_in(inbox_store_t *store, const char *org_id,
    const char *contact_id, const char *keyword, int64_t at,
    inbox_contact_record_t *contact, inbox_event_list_t *events,
    inbox_error_t *err)
{
    return inbox_sqlite_contact_opt(store, org_id, contact_id, 0,
                                    INBOX_OPT_OUT_KEYWORD, keyword, at, 0,
                                    contact, events, err);
}


/*
 * The contact as it is, the rule applied in memory; when it changed, the
 * rows written and contact.updated and conversation.updated (its thread
 * as it is then) appended, all in one transaction.
 */
static inbox_status_t
inbox_sqlite_contact_opt(inbox_store_t *store, const char *org_id,
    const char *contact_id, int opt_out, inbox_opt_out_source_t source,
    const char *keyword, int64_t at, int64_t sent_at,
    inbox_contact_record_t *contact, inbox_event_list_t *events,
    inbox_error_t *err)
{
    int                   changed;
    int64_t               org, id, conversation_id, latest;
    inbox_change_t        change;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_sqlite_conn_t  *conn;
    inbox_conversation_t  conversation;

    if (err == NULL) {
        err = &fallback;
    }

    memset(&change, 0, sizeof(inbox_change_t));
    memset(&conversation, 0, sizeof(inbox_conversation_t));

    if (inbox_sqlite_parse_id(org_id, &org) != 0
        || inbox_sqlite_parse_id(contact_id, &id) != 0)
    {
        return inbox_error_not_found(err, "contact");
    }

    conn = inbox_sqlite_begin_write(store, err);
    if (conn == NULL) {
        return err->code;
    }

    /* now, under the lock: what was accepted before commits before */
    if (at <= 0) {
        at = inbox_now_ms();
    }

    status = inbox_sqlite_contact_load(conn, org, id, contact, err);
    if (status != INBOX_OK) {
        goto failed;
    }

    /* the last opt-in and the newest opt time read in this transaction:
     * none comes between.  A keyword said without a message is said at
     * at. */
    latest = contact->opt_latest_at;
    changed = opt_out && source != INBOX_OPT_OUT_KEYWORD
              ? inbox_contact_opt_out(contact, source, keyword, at, sent_at)
              : inbox_contact_opt_keyword(contact, opt_out, keyword, at, at);

    if (!changed) {
        if (contact->opt_latest_at != latest) {
            status = inbox_sqlite_contact_opt_latest_write(conn, id, contact,
                                                           err);
            if (status != INBOX_OK) {
                goto failed;
            }
        }

        return inbox_sqlite_commit(conn, err);
    }

    status = inbox_sqlite_contact_opt_write(conn, org, id, contact, keyword,
                                            0, at, err);
    if (status != INBOX_OK) {
        goto failed;
    }

    if (inbox_sqlite_parse_id(contact->conversation_id, &conversation_id)
        != 0)
    {
        status = inbox_error_set(err, INBOX_ERR_INTERNAL,
                                 "A stored contact has no conversation.");
        goto failed;
    }

    status = inbox_sqlite_conversation_load(conn, org, conversation_id,
                                            &conversation, err);
    if (status != INBOX_OK) {
        goto failed;
    }

    /* an opt-out, however it came, is the response to what came before
     * it, as a STOP's is: no reply can go to the contact now */
    if (contact->opted_out
        && inbox_conversation_respond(&conversation, contact->opted_out_at))
    {
        status = inbox_sqlite_conversation_respond_write(conn, &conversation,
                                                         err);
        if (status != INBOX_OK) {
            goto failed;
        }
    }

    inbox_change_opt(&change, contact, &conversation);

    status = inbox_sqlite_events_commit(conn, org, &change, at, events, err);
    if (status != INBOX_OK) {
        goto undone;
    }

    inbox_conversation_free(&conversation);

    return status;

failed:

    inbox_sqlite_rollback(conn);

undone:

    inbox_change_free(&change);
    inbox_conversation_free(&conversation);
    inbox_contact_record_free(contact);
    memset(contact, 0, sizeof(inbox_contact_record_t));

    return status;
}


inbox_status_t
inbox_sqlite_contact_opt_write(inbox_sqlite_conn_t *conn, int64_t org,
    int64_t contact, const inbox_contact_record_t *after,
    const char *keyword, int64_t message, int64_t at, inbox_error_t *err)
{
    int              rc;
    sqlite3_stmt    *stmt;
    inbox_status_t   status;

    if (after->opted_out) {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CONTACT_OPT_OUT,
            "UPDATE contacts SET opted_out = 1, opted_out_at = ?2,"
            " opt_out_source = ?3, opt_out_keyword = nullif(?4, ''),"
            " opt_latest_at = nullif(?5, 0) WHERE id = ?1", err);
        if (stmt == NULL) {
            return err->code;
        }

        sqlite3_bind_int64(stmt, 2, after->opted_out_at);
        inbox_sqlite_bind_text(stmt, 3, after->opt_out_source);
        inbox_sqlite_bind_text(stmt, 4, after->opt_out_keyword);

    } else {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CONTACT_OPT_IN,
            "UPDATE contacts SET opted_out = 0, opted_out_at = NULL,"
            " opt_out_source = NULL, opt_out_keyword = NULL,"
            " opted_in_at = ?2, opt_latest_at = nullif(?5, 0) WHERE id = ?1",
            err);
        if (stmt == NULL) {
            return err->code;
        }

        sqlite3_bind_int64(stmt, 2, after->opted_in_at);
    }

    sqlite3_bind_int64(stmt, 1, contact);
    sqlite3_bind_int64(stmt, 5, after->opt_latest_at);

    status = inbox_sqlite_update_read_row(conn, stmt, err);
    if (status != INBOX_OK) {
        return status;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CONTACT_EVENT_ADD,
        "INSERT INTO contact_events (org_id, contact_id, type, source,"
        " keyword, message_id, at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, nullif(?6, 0), ?7)", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    sqlite3_bind_int64(stmt, 2, contact);
    inbox_sqlite_bind_text(stmt, 3, after->opted_out ? "opt_out" : "opt_in");
    inbox_sqlite_bind_text(stmt, 4, after->opted_out ? after->opt_out_source
                                                     : "keyword");
    inbox_sqlite_bind_text(stmt, 5, keyword);
    sqlite3_bind_int64(stmt, 6, message);
    sqlite3_bind_int64(stmt, 7, at);

    rc = sqlite3_step(stmt);
    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    return INBOX_OK;
}


inbox_status_t
inbox_sqlite_contact_opt_latest_write(inbox_sqlite_conn_t *conn,
    int64_t contact, const inbox_contact_record_t *after, inbox_error_t *err)
{
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CONTACT_OPT_LATEST,
        "UPDATE contacts SET opt_latest_at = ?2 WHERE id = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, contact);
    sqlite3_bind_int64(stmt, 2, after->opt_latest_at);

    return inbox_sqlite_update_read_row(conn, stmt, err);
}


inbox_status_t
inbox_sqlite_contact_events_list(inbox_store_t *store, const char *org_id,
    const char *contact_id, int64_t after_at, const char *after_id,
    unsigned limit, inbox_contact_event_page_t *page, inbox_error_t *err)
{
    int                   rc;
    size_t                n;
    int64_t               org, id, after;
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_sqlite_conn_t  *conn;
    inbox_contact_record_t  contact;
    inbox_contact_event_t  *e;

    if (err == NULL) {
        err = &fallback;
    }

    if (inbox_sqlite_parse_id(org_id, &org) != 0
        || inbox_sqlite_parse_id(contact_id, &id) != 0)
    {
        return inbox_error_not_found(err, "contact");
    }

    after = 0;

    if (after_id != NULL && inbox_sqlite_parse_id(after_id, &after) != 0) {
        return inbox_error_cursor(err);
    }

    page->items = calloc(limit, sizeof(inbox_contact_event_t));
    if (page->items == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        return err->code;
    }

    status = inbox_sqlite_begin_read(conn, err);
    if (status != INBOX_OK) {
        return status;
    }

    /* the contact is the organization's (else: not found) */
    status = inbox_sqlite_contact_load(conn, org, id, &contact, err);
    inbox_contact_record_free(&contact);

    if (status != INBOX_OK) {
        inbox_sqlite_rollback(conn);
        return status;
    }

#define INBOX_SQLITE_CONTACT_EVENT_SELECT                                     \
    "SELECT id, type, at, source, keyword, message_id FROM contact_events"   \
    " WHERE contact_id = ?1"

    if (after_id == NULL) {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CONTACT_EVENTS,
            INBOX_SQLITE_CONTACT_EVENT_SELECT
            " ORDER BY at DESC, id DESC LIMIT ?2", err);

    } else {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CONTACT_EVENTS_AFTER,
            INBOX_SQLITE_CONTACT_EVENT_SELECT
            " AND (at, id) < (?3, ?4) ORDER BY at DESC, id DESC LIMIT ?2",
            err);
    }

#undef INBOX_SQLITE_CONTACT_EVENT_SELECT

    if (stmt == NULL) {
        inbox_sqlite_rollback(conn);
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, id);
    /* one more than asked: whether more follow */
    sqlite3_bind_int64(stmt, 2, (int64_t) limit + 1);

    if (after_id != NULL) {
        sqlite3_bind_int64(stmt, 3, after_at);
        sqlite3_bind_int64(stmt, 4, after);
    }

    n = 0;

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (n == limit) {
            page->more = 1;
            continue;
        }

        e = &page->items[n++];
        inbox_sqlite_format_id(sqlite3_column_int64(stmt, 0), e->id);
        e->type = strcmp((const char *) sqlite3_column_text(stmt, 1),
                         "opt_in") == 0 ? INBOX_TIMELINE_OPT_IN
                                        : INBOX_TIMELINE_OPT_OUT;
        e->at = sqlite3_column_int64(stmt, 2);
        inbox_sqlite_column_copy(stmt, 3, e->source, sizeof(e->source));
        inbox_sqlite_column_copy(stmt, 4, e->keyword, sizeof(e->keyword));

        if (sqlite3_column_type(stmt, 5) != SQLITE_NULL) {
            inbox_sqlite_format_id(sqlite3_column_int64(stmt, 5),
                                   e->message_id);
        }
    }

    inbox_sqlite_done(stmt);
    page->count = n;

    if (rc != SQLITE_DONE) {
        status = inbox_sqlite_fail(conn, rc, err);
        inbox_sqlite_rollback(conn);
        return status;
    }

    return inbox_sqlite_commit(conn, err);
}
