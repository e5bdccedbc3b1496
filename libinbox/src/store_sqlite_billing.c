/*
 * The SQLite backend: credits and their ledger.  Every change of an
 * organization's balance or held credits goes through
 * inbox_sqlite_credits_move, which writes its ledger entry in the same
 * transaction (billing.h); a trigger (migration 11) refuses any balance
 * below zero whatever writes it.  The ledger is listed newest first in
 * the order the changes were made: the order of their ids, since
 * writers take turns.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "store_sqlite.h"


inbox_status_t
inbox_sqlite_credits_move(inbox_sqlite_conn_t *conn, int64_t org,
    inbox_ledger_kind_t kind, int64_t credits, int64_t message, int64_t now,
    int *moved, inbox_error_t *err)
{
    int            rc, found;
    int64_t        balance, held;
    sqlite3_stmt  *stmt;

    if (moved != NULL) {
        *moved = 0;
    }

    /* a hold takes only what is there, and only while billing is active:
     * the guard against every other writer, whatever was read before */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CREDITS_MOVE,
        "UPDATE orgs SET credits_balance = credits_balance + ?2,"
        " credits_held = credits_held + ?3"
        " WHERE id = ?1 AND (?4 = 0"
        "   OR (billing_active = 1 AND credits_balance >= -?2))"
        " RETURNING credits_balance, credits_held", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    sqlite3_bind_int64(stmt, 2, inbox_ledger_balance_change(kind, credits));
    sqlite3_bind_int64(stmt, 3, inbox_ledger_held_change(kind, credits));
    sqlite3_bind_int(stmt, 4, kind == INBOX_LEDGER_HOLD);

    balance = 0;
    held = 0;

    rc = sqlite3_step(stmt);
    found = (rc == SQLITE_ROW);

    if (found) {
        balance = sqlite3_column_int64(stmt, 0);
        held = sqlite3_column_int64(stmt, 1);
        rc = sqlite3_step(stmt);
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    if (!found) {
        if (kind == INBOX_LEDGER_HOLD && moved != NULL) {
            return INBOX_OK;
        }

        return inbox_error_not_found(err, "organization");
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_LEDGER_ADD,
        "INSERT INTO credit_ledger (org_id, kind, credits, balance, held,"
        " message_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    sqlite3_bind_text(stmt, 2, inbox_ledger_kind_name(kind), -1,
                      SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, credits);
    sqlite3_bind_int64(stmt, 4, balance);
    sqlite3_bind_int64(stmt, 5, held);

    if (message > 0) {
        sqlite3_bind_int64(stmt, 6, message);
    }

    sqlite3_bind_int64(stmt, 7, now);

    rc = sqlite3_step(stmt);
    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    if (moved != NULL) {
        *moved = 1;
    }

    return INBOX_OK;
}


inbox_status_t
inbox_sqlite_billing_get(inbox_store_t *store, const char *org_id,
    inbox_billing_t *billing, inbox_error_t *err)
{
    int64_t               org;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_sqlite_conn_t  *conn;

    if (err == NULL) {
        err = &fallback;
    }

    memset(billing, 0, sizeof(inbox_billing_t));

    status = inbox_sqlite_org_id(org_id, &org, err);
    if (status != INBOX_OK) {
        return status;
    }

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        return err->code;
    }

    return inbox_sqlite_billing_load(conn, org, org_id, billing, err);
}


inbox_status_t
inbox_sqlite_billing_load(inbox_sqlite_conn_t *conn, int64_t org,
    const char *org_id, inbox_billing_t *billing, inbox_error_t *err)
{
    int            rc;
    sqlite3_stmt  *stmt;

    memset(billing, 0, sizeof(inbox_billing_t));

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_BILLING_GET,
        "SELECT billing_active, plan, credits_balance, credits_held"
        " FROM orgs WHERE id = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);

    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        billing->active = sqlite3_column_int(stmt, 0) != 0;
        inbox_sqlite_column_copy(stmt, 1, billing->plan,
                                 sizeof(billing->plan));
        billing->balance = sqlite3_column_int64(stmt, 2);
        billing->held = sqlite3_column_int64(stmt, 3);
    }

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
inbox_sqlite_ledger_list(inbox_store_t *store, const char *org_id,
    const char *cursor, unsigned limit, inbox_ledger_page_t *page,
    inbox_error_t *err)
{
    int                    rc;
    int64_t                org, at, id, last_id;
    const char            *kind;
    sqlite3_stmt          *stmt;
    inbox_status_t         status;
    inbox_error_t          fallback;
    inbox_billing_t        billing;
    inbox_sqlite_conn_t   *conn;
    inbox_ledger_entry_t  *e;

    if (err == NULL) {
        err = &fallback;
    }

    at = INT64_MAX;
    id = INT64_MAX;

    if (cursor != NULL && cursor[0] != '\0'
        && inbox_sqlite_cursor_decode(cursor, &at, &id) != 0)
    {
        return inbox_error_cursor(err);
    }

    /* tells an organization with no entries from none at all */
    status = inbox_sqlite_billing_get(store, org_id, &billing, err);
    if (status != INBOX_OK) {
        return status;
    }

    org = strtoll(org_id, NULL, 10);

    page->items = calloc(limit, sizeof(inbox_ledger_entry_t));
    if (page->items == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        return err->code;
    }

    /* each entry with its message's thread, contact and campaign (each
     * a primary key's row: a page costs its entries' rows, whatever the
     * size of a send), and a release with why its message failed, or
     * that its campaign paused with it parked (a message not failed,
     * billing.h) */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_LEDGER_PAGE,
        "SELECT l.id, l.kind, l.credits, l.balance, l.held, l.message_id,"
        " l.created_at, m.conversation_id, ct.phone, ct.name,"
        " CASE WHEN l.kind <> 'release' OR m.id IS NULL THEN NULL"
        "   WHEN m.status IN ('failed', 'undelivered') THEN m.error_code"
        "   ELSE ?5 END,"
        " cp.id, cp.kind, cp.name"
        " FROM credit_ledger l"
        " LEFT JOIN messages m ON m.id = l.message_id"
        " LEFT JOIN conversations c ON c.id = m.conversation_id"
        " LEFT JOIN contacts ct ON ct.id = c.contact_id"
        " LEFT JOIN campaigns cp ON cp.id = m.campaign_id"
        " WHERE l.org_id = ?1 AND l.id < ?3"
        " ORDER BY l.id DESC LIMIT ?4", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    sqlite3_bind_int64(stmt, 3, id);
    sqlite3_bind_int64(stmt, 4, (int64_t) limit + 1);
    sqlite3_bind_text(stmt, 5, INBOX_LEDGER_PAUSED, -1, SQLITE_STATIC);

    last_id = 0;

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {

        if (page->count == limit) {
            inbox_sqlite_cursor_encode(page->items[limit - 1].at, last_id,
                                       page->next_cursor);
            break;
        }

        e = &page->items[page->count++];
        last_id = sqlite3_column_int64(stmt, 0);

        inbox_sqlite_format_id(last_id, e->id);
        kind = (const char *) sqlite3_column_text(stmt, 1);
        (void) inbox_ledger_kind_parse(kind, &e->kind);
        e->credits = sqlite3_column_int64(stmt, 2);
        e->balance = sqlite3_column_int64(stmt, 3);
        e->held = sqlite3_column_int64(stmt, 4);

        if (sqlite3_column_type(stmt, 5) != SQLITE_NULL) {
            inbox_sqlite_format_id(sqlite3_column_int64(stmt, 5),
                                   e->message_id);
        }

        e->at = sqlite3_column_int64(stmt, 6);

        if (sqlite3_column_type(stmt, 7) != SQLITE_NULL) {
            inbox_sqlite_format_id(sqlite3_column_int64(stmt, 7),
                                   e->conversation_id);
        }

        inbox_sqlite_column_copy(stmt, 8, e->contact_phone,
                                 sizeof(e->contact_phone));
        inbox_sqlite_column_copy(stmt, 9, e->contact_name,
                                 sizeof(e->contact_name));
        inbox_sqlite_column_copy(stmt, 10, e->error_code,
                                 sizeof(e->error_code));

        if (sqlite3_column_type(stmt, 11) != SQLITE_NULL) {
            inbox_sqlite_format_id(sqlite3_column_int64(stmt, 11),
                                   e->campaign.id);
            kind = (const char *) sqlite3_column_text(stmt, 12);
            (void) inbox_campaign_kind_parse(kind, &e->campaign.kind);
            inbox_sqlite_column_copy(stmt, 13, e->campaign.name,
                                     sizeof(e->campaign.name));
        }
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    return INBOX_OK;
}
