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
            " conversation_id, unread_total, created_at, campaign_kind)"
            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", err);
        if (stmt == NULL) {
            return err->code;
        }

        sqlite3_bind_int64(stmt, 1, org);
        sqlite3_bind_int64(stmt, 2, e->org_seq);
        sqlite3_bind_text(stmt, 3, e->type, -1, SQLITE_STATIC);
        inbox_sqlite_bind_text(stmt, 4, epoch);
        /* what the event is about: a message, a campaign
         * (campaign.progress), a user (user.*), a token or a session */
        inbox_sqlite_bind_id(stmt, 5, e->message_id != NULL ? e->message_id
                                      : e->campaign_id != NULL
                                      ? e->campaign_id
                                      : e->user_id != NULL ? e->user_id
                                      : e->token_id != NULL
                                      ? e->token_id : e->session_id);
        inbox_sqlite_bind_id(stmt, 6, e->conversation_id);

        if (e->unread_total >= 0) {
            sqlite3_bind_int64(stmt, 7, e->unread_total);
        }

        sqlite3_bind_int64(stmt, 8, now);
        inbox_sqlite_bind_text(stmt, 9, e->campaign_kind);

        rc = sqlite3_step(stmt);
        inbox_sqlite_done(stmt);

        if (rc != SQLITE_DONE) {
            return inbox_sqlite_fail(conn, rc, err);
        }
    }

    return INBOX_OK;
}


inbox_status_t
inbox_sqlite_events_record(inbox_sqlite_conn_t *conn, int64_t org,
    inbox_change_t *change, int64_t now, inbox_error_t *err)
{
    char            epoch[INBOX_EPOCH_MAX];
    int64_t         first, unread_total;
    inbox_status_t  status;

    status = inbox_sqlite_events_reserve(conn, org, change->count, &first,
                                         epoch, &unread_total, err);
    if (status != INBOX_OK) {
        return status;
    }

    inbox_change_set_total(change, unread_total);

    if (inbox_change_render(change, first, epoch) != 0) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    return inbox_sqlite_events_store(conn, org, epoch, change, now, err);
}


inbox_status_t
inbox_sqlite_events_commit(inbox_sqlite_conn_t *conn, int64_t org,
    inbox_change_t *change, int64_t now, inbox_event_list_t *events,
    inbox_error_t *err)
{
    char            org_text[INBOX_ID_MAX];
    inbox_status_t  status;

    status = inbox_sqlite_events_record(conn, org, change, now, err);
    if (status != INBOX_OK) {
        inbox_sqlite_rollback(conn);
        goto done;
    }

    /* a failed commit rolled back: nothing happened */
    status = inbox_sqlite_commit(conn, err);
    if (status != INBOX_OK) {
        goto done;
    }

    inbox_sqlite_format_id(org, org_text);

    if (inbox_change_push(change, org_text, events) != 0) {
        /* durable, but its browsers learn it only at their next reload */
        status = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

done:

    inbox_change_free(change);

    return status;
}


/* One indexed read per organization: SQLite is in the process, so a
 * list query would save nothing. */
inbox_status_t
inbox_sqlite_stream_positions(inbox_store_t *store,
    const char *const *org_ids, size_t n, inbox_stream_position_t *positions,
    inbox_error_t *err)
{
    int                   rc;
    size_t                i;
    int64_t               org;
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_sqlite_conn_t  *conn;

    if (err == NULL) {
        err = &fallback;
    }

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        return err->code;
    }

    status = INBOX_OK;

    for (i = 0; i < n && status == INBOX_OK; i++) {
        if (inbox_sqlite_parse_id(org_ids[i], &org) != 0) {
            continue;                       /* names no organization */
        }

        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_STREAM_POSITION,
            "SELECT seq, epoch FROM orgs WHERE id = ?1", err);
        if (stmt == NULL) {
            status = err->code;
            break;
        }

        sqlite3_bind_int64(stmt, 1, org);

        rc = sqlite3_step(stmt);

        if (rc == SQLITE_ROW) {
            positions[i].org_seq = sqlite3_column_int64(stmt, 0);
            inbox_sqlite_column_copy(stmt, 1, positions[i].epoch,
                                     sizeof(positions[i].epoch));
        }

        inbox_sqlite_done(stmt);

        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            status = inbox_sqlite_fail(conn, rc, err);
        }
    }

    return status;
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
        return inbox_error_org_unknown(err, org_id);
    }

    return inbox_sqlite_fail(conn, rc, err);
}


/* resume */


/* One stored event as selected by INBOX_SQL_EVENTS_SINCE. */
typedef struct {
    int64_t   seq;
    char      type[32];
    char      epoch[INBOX_EPOCH_MAX];
    int64_t   message;          /* 0: none; campaign.progress's
                                   campaign */
    int64_t   conversation;     /* 0: none */
    int64_t   unread_total;
    char      campaign_kind[16];    /* a campaign event's; "": unknown */
} inbox_sqlite_event_row_t;


/* The organization's stream position and its oldest event kept (0: none),
 * read in the caller's read transaction. */
static inbox_status_t
inbox_sqlite_events_bounds(inbox_sqlite_conn_t *conn, int64_t org,
    const char *org_id, int64_t *newest, char epoch[INBOX_EPOCH_MAX],
    int64_t *oldest, inbox_error_t *err)
{
    int            rc;
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_REALTIME_STATE,
        "SELECT seq, epoch, unread_total FROM orgs WHERE id = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);

    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        *newest = sqlite3_column_int64(stmt, 0);
        inbox_sqlite_column_copy(stmt, 1, epoch, INBOX_EPOCH_MAX);
    }

    inbox_sqlite_done(stmt);

    if (rc == SQLITE_DONE) {
        return inbox_error_org_unknown(err, org_id);
    }

    if (rc != SQLITE_ROW) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_EVENTS_OLDEST,
        "SELECT seq FROM events WHERE org_id = ?1 ORDER BY seq LIMIT 1",
        err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);

    *oldest = 0;
    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        *oldest = sqlite3_column_int64(stmt, 0);
        rc = SQLITE_DONE;
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    return INBOX_OK;
}


/* Loads what row's type needs and renders its frame onto events. */
static inbox_status_t
inbox_sqlite_event_render(inbox_sqlite_conn_t *conn, int64_t org,
    const char *org_id, const inbox_sqlite_event_row_t *row,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int                     rc;
    char                   *frame, subject[INBOX_ID_MAX];
    char                    campaign_id[INBOX_ID_MAX];
    int64_t                 owner, contact_id;
    unsigned                needs;
    inbox_status_t          status;
    inbox_message_t         message;
    inbox_event_ref_t       ref;
    inbox_conversation_t    conversation;
    inbox_contact_record_t  contact;
    inbox_campaign_t        campaign;
    inbox_billing_t         billing;
    inbox_settings_t        settings;

    memset(&message, 0, sizeof(message));
    memset(&conversation, 0, sizeof(conversation));
    memset(&contact, 0, sizeof(contact));
    memset(&campaign, 0, sizeof(campaign));
    memset(&ref, 0, sizeof(ref));

    ref.type = row->type;
    ref.org_seq = row->seq;
    ref.epoch = row->epoch;
    ref.unread_total = row->unread_total;

    needs = inbox_event_ref_needs(row->type);
    status = INBOX_OK;

    /* a row that is gone leaves its pointer NULL: rendering says so */

    if ((needs & INBOX_EVENT_NEEDS_MESSAGE) && row->message != 0) {
        status = inbox_sqlite_message_get(conn, row->message, &owner,
                                          &message, err);
        if (status == INBOX_OK && owner == org) {
            ref.message = &message;
        }
    }

    if (status == INBOX_OK && (needs & INBOX_EVENT_NEEDS_CONVERSATION)
        && row->conversation != 0)
    {
        status = inbox_sqlite_conversation_load(conn, org, row->conversation,
                                                &conversation, err);
        if (status == INBOX_OK) {
            ref.conversation = &conversation;
        }
    }

    if (status == INBOX_OK && (needs & INBOX_EVENT_NEEDS_CONTACT)
        && ref.conversation != NULL
        && inbox_sqlite_parse_id(conversation.contact.id, &contact_id) == 0)
    {
        status = inbox_sqlite_contact_load(conn, org, contact_id, &contact,
                                           err);
        if (status == INBOX_OK) {
            ref.contact = &contact;
        }
    }

    /* a campaign's id and kind, which name it once it is deleted */
    if ((needs & INBOX_EVENT_NEEDS_CAMPAIGN_ID) && row->message != 0) {
        inbox_sqlite_format_id(row->message, campaign_id);
        ref.campaign_id = campaign_id;
        ref.campaign_kind = row->campaign_kind[0] != '\0'
                            ? row->campaign_kind : NULL;
    }

    if (status == INBOX_OK && (needs & INBOX_EVENT_NEEDS_CAMPAIGN)
        && row->message != 0)
    {
        status = inbox_sqlite_campaign_load(conn, org, row->message,
                                            &campaign, err);
        if (status == INBOX_OK) {
            ref.campaign = &campaign;
        }
    }

    /* a user's, a token's or a session's id is all their frames show */
    if ((needs & (INBOX_EVENT_NEEDS_USER | INBOX_EVENT_NEEDS_TOKEN
                  | INBOX_EVENT_NEEDS_SESSION))
        && row->message != 0)
    {
        inbox_sqlite_format_id(row->message, subject);
        ref.user_id = (needs & INBOX_EVENT_NEEDS_USER) ? subject : NULL;
        ref.token_id = (needs & INBOX_EVENT_NEEDS_TOKEN) ? subject : NULL;
        ref.session_id = (needs & INBOX_EVENT_NEEDS_SESSION) ? subject
                                                              : NULL;
    }

    /* billing.updated: the organization's billing as it is now */
    if (status == INBOX_OK && (needs & INBOX_EVENT_NEEDS_BILLING)) {
        status = inbox_sqlite_billing_load(conn, org, org_id, &billing, err);
        if (status == INBOX_OK) {
            ref.billing = &billing;
        }
    }

    /* settings.updated: the organization's settings as they are now */
    if (status == INBOX_OK && (needs & INBOX_EVENT_NEEDS_SETTINGS)) {
        status = inbox_sqlite_settings_load(conn, org, &settings, err);
        if (status == INBOX_OK) {
            ref.settings = &settings;
        }
    }

    if (status == INBOX_ERR_NOT_FOUND) {
        status = INBOX_OK;
    }

    if (status == INBOX_OK) {
        rc = inbox_event_ref_render(&ref, &frame);

        if (rc == 1) {
            status = inbox_error_set_field(err, INBOX_ERR_CONFLICT, "org_seq",
                                           "Event %lld refers to what is no "
                                           "longer kept: reload.",
                                           (long long) row->seq);

        } else if (rc != 0
                   || inbox_event_list_add(events, org_id, row->seq,
                                           ref.type, ref.epoch,
                                           inbox_event_ref_unread(&ref),
                                           frame)
                      != 0)
        {
            status = inbox_error_set(err, INBOX_ERR_INTERNAL,
                                     "Out of memory.");
        }
    }

    inbox_message_free(&message);
    inbox_conversation_free(&conversation);
    inbox_contact_record_free(&contact);
    inbox_campaign_free(&campaign);

    return status;
}


inbox_status_t
inbox_sqlite_events_since(inbox_store_t *store, const char *org_id,
    const char *epoch, int64_t after_seq, int64_t until_seq, size_t limit,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int                        rc;
    char                       current[INBOX_EPOCH_MAX];
    size_t                     i, n, first;
    int64_t                    org, newest, oldest;
    sqlite3_stmt              *stmt;
    inbox_status_t             status;
    inbox_sqlite_conn_t       *conn;
    inbox_sqlite_event_row_t  *rows;

    status = inbox_sqlite_org_id(org_id, &org, err);
    if (status != INBOX_OK) {
        return status;
    }

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        return err->code;
    }

    /* one snapshot: the position, what is kept and the rows agree */
    status = inbox_sqlite_begin_read(conn, err);
    if (status != INBOX_OK) {
        return status;
    }

    rows = NULL;
    first = events->count;
    newest = 0;
    oldest = 0;

    status = inbox_sqlite_events_bounds(conn, org, org_id, &newest, current,
                                        &oldest, err);
    if (status != INBOX_OK) {
        goto done;
    }

    if (until_seq <= 0 || until_seq > newest) {
        until_seq = newest;
    }

    status = inbox_events_replayable(epoch, current, after_seq, until_seq,
                                     oldest, err);
    if (status != INBOX_OK || after_seq >= until_seq) {
        goto done;
    }

    rows = calloc(limit, sizeof(inbox_sqlite_event_row_t));
    if (rows == NULL) {
        status = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        goto done;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_EVENTS_SINCE,
        "SELECT seq, type, epoch, message_id, conversation_id, unread_total,"
        " campaign_kind FROM events"
        " WHERE org_id = ?1 AND seq > ?2 AND seq <= ?3"
        " ORDER BY seq LIMIT ?4", err);
    if (stmt == NULL) {
        status = err->code;
        goto done;
    }

    sqlite3_bind_int64(stmt, 1, org);
    sqlite3_bind_int64(stmt, 2, after_seq);
    sqlite3_bind_int64(stmt, 3, until_seq);
    sqlite3_bind_int64(stmt, 4, (int64_t) limit);

    n = 0;
    rc = SQLITE_DONE;

    /* the rows first: rendering runs statements of its own */
    while (n < limit && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        rows[n].seq = sqlite3_column_int64(stmt, 0);

        /* a hole (never in one SQLite snapshot) ends the answer */
        if (rows[n].seq != after_seq + 1 + (int64_t) n) {
            rc = SQLITE_DONE;
            break;
        }

        inbox_sqlite_column_copy(stmt, 1, rows[n].type,
                                 sizeof(rows[n].type));
        inbox_sqlite_column_copy(stmt, 2, rows[n].epoch,
                                 sizeof(rows[n].epoch));
        rows[n].message = sqlite3_column_int64(stmt, 3);
        rows[n].conversation = sqlite3_column_int64(stmt, 4);
        rows[n].unread_total = sqlite3_column_int64(stmt, 5);
        inbox_sqlite_column_copy(stmt, 6, rows[n].campaign_kind,
                                 sizeof(rows[n].campaign_kind));
        n++;
    }

    if (n == limit) {
        rc = SQLITE_DONE;
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        status = inbox_sqlite_fail(conn, rc, err);
        goto done;
    }

    for (i = 0; i < n && status == INBOX_OK; i++) {
        status = inbox_sqlite_event_render(conn, org, org_id, &rows[i],
                                           events, err);
    }

done:

    free(rows);

    /* a read: ending it cannot lose anything */
    inbox_sqlite_rollback(conn);

    if (status != INBOX_OK) {
        inbox_event_list_truncate(events, first);
    }

    return status;
}


/* retention */


/* An organization with events to delete, and its newest event. */
typedef struct {
    int64_t  org;
    int64_t  newest;
} inbox_sqlite_prune_t;


/*
 * The organizations whose oldest event keep no longer holds, read
 * without the write lock (one index seek per organization).
 */
static inbox_status_t
inbox_sqlite_prune_candidates(inbox_sqlite_conn_t *conn, int64_t now,
    const inbox_event_retention_t *keep, inbox_sqlite_prune_t **out,
    size_t *n, inbox_error_t *err)
{
    int                    rc;
    size_t                 cap;
    sqlite3_stmt          *stmt;
    inbox_status_t         status;
    inbox_sqlite_prune_t  *list, *grown;

    *out = NULL;
    *n = 0;
    list = NULL;
    cap = 0;

    status = inbox_sqlite_begin_read(conn, err);
    if (status != INBOX_OK) {
        return status;
    }

    /* CROSS JOIN keeps orgs the outer loop: SQLite's planner otherwise
     * scanned every event, each second (80 ms at 300,000 events, and
     * most of nginx's time after a 100,000-message campaign) */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_EVENTS_PRUNE_ORGS,
        "SELECT o.id, o.seq, e.seq, e.created_at FROM orgs o"
        " CROSS JOIN events e ON e.org_id = o.id AND e.seq ="
        "  (SELECT seq FROM events WHERE org_id = o.id ORDER BY seq LIMIT 1)",
        err);
    if (stmt == NULL) {
        inbox_sqlite_rollback(conn);
        return err->code;
    }

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (!inbox_event_prunable(keep, now, sqlite3_column_int64(stmt, 1),
                                  sqlite3_column_int64(stmt, 2),
                                  sqlite3_column_int64(stmt, 3)))
        {
            continue;
        }

        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            grown = realloc(list, cap * sizeof(inbox_sqlite_prune_t));
            if (grown == NULL) {
                rc = SQLITE_NOMEM;
                break;
            }
            list = grown;
        }

        list[*n].org = sqlite3_column_int64(stmt, 0);
        list[*n].newest = sqlite3_column_int64(stmt, 1);
        (*n)++;
    }

    inbox_sqlite_done(stmt);
    inbox_sqlite_rollback(conn);

    if (rc != SQLITE_DONE) {
        free(list);
        *n = 0;
        return inbox_sqlite_fail(conn, rc, err);
    }

    *out = list;

    return INBOX_OK;
}


/* Inside the write transaction: deletes org's oldest events while keep
 * does not hold them, at most max; *removed gets how many. */
static inbox_status_t
inbox_sqlite_prune_org(inbox_sqlite_conn_t *conn, int64_t org, int64_t now,
    const inbox_event_retention_t *keep, size_t max, size_t *removed,
    inbox_error_t *err)
{
    int            rc;
    int64_t        newest, last;
    sqlite3_stmt  *stmt;

    *removed = 0;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_EVENTS_PRUNE_NEWEST,
        "SELECT seq FROM orgs WHERE id = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    rc = sqlite3_step(stmt);
    newest = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    inbox_sqlite_done(stmt);

    if (rc != SQLITE_ROW) {
        return rc == SQLITE_DONE ? INBOX_OK : inbox_sqlite_fail(conn, rc, err);
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_EVENTS_PRUNE_WALK,
        "SELECT seq, created_at FROM events WHERE org_id = ?1"
        " ORDER BY seq LIMIT ?2", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    sqlite3_bind_int64(stmt, 2, (int64_t) max);

    last = 0;

    /* oldest first, up to the first one kept: what stays has no hole */
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW
           && inbox_event_prunable(keep, now, newest,
                                   sqlite3_column_int64(stmt, 0),
                                   sqlite3_column_int64(stmt, 1)))
    {
        last = sqlite3_column_int64(stmt, 0);
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    if (last == 0) {
        return INBOX_OK;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_EVENTS_PRUNE_DELETE,
        "DELETE FROM events WHERE org_id = ?1 AND seq <= ?2", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    sqlite3_bind_int64(stmt, 2, last);

    rc = sqlite3_step(stmt);
    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    *removed = (size_t) sqlite3_changes(conn->db);

    return INBOX_OK;
}


inbox_status_t
inbox_sqlite_events_prune(inbox_store_t *store, int64_t now,
    const inbox_event_retention_t *keep, size_t max, size_t *removed,
    inbox_error_t *err)
{
    size_t                 i, n, count;
    inbox_status_t         status;
    inbox_sqlite_conn_t   *conn;
    inbox_sqlite_prune_t  *orgs;

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        return err->code;
    }

    status = inbox_sqlite_prune_candidates(conn, now, keep, &orgs, &n, err);
    if (status != INBOX_OK || n == 0) {
        return status;
    }

    /* one short write transaction: at most max rows, then the lock goes */
    conn = inbox_sqlite_begin_write(store, err);
    if (conn == NULL) {
        free(orgs);
        return err->code;
    }

    for (i = 0; i < n && *removed < max; i++) {
        status = inbox_sqlite_prune_org(conn, orgs[i].org, now, keep,
                                        max - *removed, &count, err);
        if (status != INBOX_OK) {
            break;
        }

        *removed += count;
    }

    free(orgs);

    if (status != INBOX_OK) {
        inbox_sqlite_rollback(conn);
        *removed = 0;
        return status;
    }

    status = inbox_sqlite_commit(conn, err);
    if (status != INBOX_OK) {
        *removed = 0;
    }

    return status;
}


inbox_status_t
inbox_sqlite_events_new_epoch(inbox_store_t *store, size_t *orgs,
    inbox_error_t *err)
{
    int                   rc;
    sqlite3_stmt         *stmt;
    inbox_sqlite_conn_t  *conn;

    conn = inbox_sqlite_begin_write(store, err);
    if (conn == NULL) {
        return err->code;
    }

    /* each organization its own, as it got one when it was made */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_EVENTS_NEW_EPOCH,
        "UPDATE orgs SET epoch = " INBOX_SQLITE_NEW_EPOCH, err);
    if (stmt == NULL) {
        inbox_sqlite_rollback(conn);
        return err->code;
    }

    rc = sqlite3_step(stmt);
    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        inbox_sqlite_fail(conn, rc, err);
        inbox_sqlite_rollback(conn);
        return err->code;
    }

    if (orgs != NULL) {
        *orgs = (size_t) sqlite3_changes(conn->db);
    }

    return inbox_sqlite_commit(conn, err);
}


