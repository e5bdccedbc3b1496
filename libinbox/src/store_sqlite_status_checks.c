/*
 * The SQLite backend's status checks (status_check.h): the messages a
 * carrier took whose final status never came, handed to the sender to
 * ask the carrier about, each given its next ask in the same
 * transaction.
 */
#include <stdlib.h>
#include <string.h>
#include "store_sqlite.h"

/* What both claims read of a message, with its organization's number of
 * the message's carrier: the one it went from (only that account's
 * credentials reach it; a message written before migration 35 knows
 * none, and takes its conversation's), else the first.  One without a
 * carrier id (its send's outcome unknown, outbox.h) cannot be asked
 * about: it waits for a callback naming it, or its hold's expiry. */
#define INBOX_SQLITE_STATUS_CHECK_SELECT                                      \
    "SELECT m.id, m.org_id, m.campaign_id, m.provider, m.provider_id,"       \
    " m.submitted_at, n.e164, n.carrier, n.account_sid, n.auth_token,"      \
    " n.public_key, n.api_key, n.api_base"                                   \
    " FROM messages m INDEXED BY messages_status_checks"                    \
    " JOIN conversations c ON c.id = m.conversation_id"                     \
    " LEFT JOIN numbers n ON n.id = coalesce("                              \
    "   (SELECT id FROM numbers"                                             \
    "     WHERE e164 = coalesce(m.from_e164, c.number)"                     \
    "     AND org_id = m.org_id AND carrier = m.provider),"                  \
    "   (SELECT id FROM numbers"                                             \
    "     WHERE org_id = m.org_id AND carrier = m.provider"                  \
    "     ORDER BY id LIMIT 1))"                                             \
    " WHERE m.status IN ('queued', 'sending', 'sent')"                      \
    " AND m.provider_id IS NOT NULL"


static inbox_status_t inbox_sqlite_status_checks_read(
    inbox_sqlite_conn_t *conn, sqlite3_stmt *stmt, int64_t *asked,
    unsigned limit, inbox_status_check_list_t *list, inbox_error_t *err);


/*
 * The never asked ones the carrier took between since and before, oldest
 * first, then those due again by now, longest due first (the index walks
 * both in that order); each is given its next ask, or 0 for none.
 */
inbox_status_t
inbox_sqlite_status_checks_claim(inbox_store_t *store, int64_t now,
    int64_t after, int64_t give_up, unsigned limit,
    inbox_status_check_list_t *list, inbox_error_t *err)
{
    int                    rc;
    size_t                 i;
    int64_t               *asked, next;
    sqlite3_stmt          *stmt;
    inbox_status_t         status;
    inbox_error_t          fallback;
    inbox_sqlite_conn_t   *conn;
    inbox_status_check_t  *item;

    if (err == NULL) {
        err = &fallback;
    }

    list->items = calloc(limit, sizeof(inbox_status_check_t));
    asked = calloc(limit, sizeof(int64_t));

    if (list->items == NULL || asked == NULL) {
        free(list->items);
        free(asked);
        list->items = NULL;
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    conn = inbox_sqlite_begin_write(store, err);
    if (conn == NULL) {
        free(list->items);
        free(asked);
        list->items = NULL;
        return err->code;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_STATUS_CHECKS_FIRST,
        INBOX_SQLITE_STATUS_CHECK_SELECT
        " AND m.status_check_at IS NULL"
        " AND m.submitted_at BETWEEN ?1 AND ?2"
        " ORDER BY m.status_check_at, m.submitted_at LIMIT ?3", err);
    if (stmt == NULL) {
        status = err->code;
        goto failed;
    }

    sqlite3_bind_int64(stmt, 1, now - give_up);
    sqlite3_bind_int64(stmt, 2, now - after);
    sqlite3_bind_int64(stmt, 3, limit);

    status = inbox_sqlite_status_checks_read(conn, stmt, asked, limit, list,
                                             err);
    if (status != INBOX_OK) {
        goto failed;
    }

    if (list->count < limit) {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_STATUS_CHECKS_AGAIN,
            INBOX_SQLITE_STATUS_CHECK_SELECT
            " AND m.status_check_at BETWEEN 1 AND ?1"
            " AND m.submitted_at >= ?2"
            " ORDER BY m.status_check_at LIMIT ?3", err);
        if (stmt == NULL) {
            status = err->code;
            goto failed;
        }

        sqlite3_bind_int64(stmt, 1, now);
        sqlite3_bind_int64(stmt, 2, now - give_up);
        sqlite3_bind_int64(stmt, 3, limit - list->count);

        status = inbox_sqlite_status_checks_read(conn, stmt, asked, limit,
                                                 list, err);
        if (status != INBOX_OK) {
            goto failed;
        }
    }

    for (i = 0; i < list->count; i++) {
        item = &list->items[i];
        next = inbox_status_check_next(item->submitted_at, now, after,
                                       give_up);
        item->last = (next == 0);

        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_STATUS_CHECK_SET,
            "UPDATE messages SET status_check_at = ?2 WHERE id = ?1", err);
        if (stmt == NULL) {
            status = err->code;
            goto failed;
        }

        sqlite3_bind_int64(stmt, 1, asked[i]);
        sqlite3_bind_int64(stmt, 2, next);

        rc = sqlite3_step(stmt);
        inbox_sqlite_done(stmt);

        if (rc != SQLITE_DONE) {
            status = inbox_sqlite_fail(conn, rc, err);
            goto failed;
        }
    }

    free(asked);

    status = inbox_sqlite_commit(conn, err);
    if (status != INBOX_OK) {
        inbox_status_check_list_free(list);
    }

    return status;

failed:

    free(asked);
    inbox_sqlite_rollback(conn);
    inbox_status_check_list_free(list);

    return status;
}


/* The rows of stmt (reset here) appended to list, their ids to asked. */
static inbox_status_t
inbox_sqlite_status_checks_read(inbox_sqlite_conn_t *conn, sqlite3_stmt *stmt,
    int64_t *asked, unsigned limit, inbox_status_check_list_t *list,
    inbox_error_t *err)
{
    int                    rc, oom;
    const char            *carrier;
    inbox_status_check_t  *item;

    oom = 0;
    rc = SQLITE_DONE;

    while (list->count < limit && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        item = &list->items[list->count];

        carrier = (const char *) sqlite3_column_text(stmt, 3);
        if (carrier == NULL || inbox_carrier_parse(carrier, &item->carrier)
                               != 0)
        {
            /* no carrier took it: nobody to ask */
            continue;
        }

        asked[list->count] = sqlite3_column_int64(stmt, 0);
        list->count++;

        inbox_sqlite_format_id(sqlite3_column_int64(stmt, 0),
                               item->message_id);
        inbox_sqlite_format_id(sqlite3_column_int64(stmt, 1), item->org_id);

        if (sqlite3_column_type(stmt, 2) != SQLITE_NULL) {
            inbox_sqlite_format_id(sqlite3_column_int64(stmt, 2),
                                   item->campaign_id);
        }

        inbox_sqlite_column_copy(stmt, 4, item->provider_id,
                                 sizeof(item->provider_id));
        item->submitted_at = sqlite3_column_int64(stmt, 5);

        /* no number of that carrier any more: no credentials */
        memcpy(item->number.org_id, item->org_id, INBOX_ID_MAX);
        inbox_sqlite_number_columns(stmt, 6, &item->number, &oom);

        if (oom) {
            break;
        }
    }

    if (list->count == limit || oom) {
        rc = SQLITE_DONE;
    }

    inbox_sqlite_done(stmt);

    if (oom) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    if (rc != SQLITE_DONE) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    return INBOX_OK;
}


inbox_status_t
inbox_sqlite_status_checks_end(inbox_store_t *store,
    const char *const *message_ids, size_t n, inbox_error_t *err)
{
    int                   rc;
    size_t                i;
    int64_t               message;
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_sqlite_conn_t  *conn;

    if (err == NULL) {
        err = &fallback;
    }

    conn = inbox_sqlite_begin_write(store, err);
    if (conn == NULL) {
        return err->code;
    }

    for (i = 0; i < n; i++) {
        if (inbox_sqlite_parse_id(message_ids[i], &message) != 0) {
            continue;
        }

        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_STATUS_CHECK_SET,
            "UPDATE messages SET status_check_at = ?2 WHERE id = ?1", err);
        if (stmt == NULL) {
            inbox_sqlite_rollback(conn);
            return err->code;
        }

        sqlite3_bind_int64(stmt, 1, message);
        sqlite3_bind_int64(stmt, 2, 0);

        rc = sqlite3_step(stmt);
        inbox_sqlite_done(stmt);

        if (rc != SQLITE_DONE) {
            status = inbox_sqlite_fail(conn, rc, err);
            inbox_sqlite_rollback(conn);
            return status;
        }
    }

    return inbox_sqlite_commit(conn, err);
}
