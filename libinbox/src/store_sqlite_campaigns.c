/*
 * The SQLite backend: campaigns and polls (campaign.h, poll.h, quiet.h).
 *
 * A campaign's recipients are rows of campaign_recipients, fixed by
 * send; the triggers of migration 13 count them by state on the
 * campaign's row.  A recipient is handed over to the outbox as a reply
 * is stored (inbox_sqlite_reply_store: the message in its thread, the
 * hold and its ledger entry, the outbox entry, the events), with
 * priority INBOX_OUTBOX_BULK, so the outbox, holds and ledger of replies
 * are the campaign's too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inbox/clock.h>
#include <inbox/phone.h>
#include <inbox/quiet.h>
#include <inbox/render.h>
#include "store_sqlite.h"


/* A campaign's columns, in the order inbox_sqlite_campaign_read reads
 * them; ?1 its id, ?2 its organization. */
#define INBOX_SQLITE_CAMPAIGN_SELECT                                          \
    "SELECT id, kind, name, body, question, audience_all, segments,"         \
    " credits, status, paused_reason, send_at, created_at, started_at,"      \
    " finished_at, n_due, n_waiting_quiet_hours, n_queued, n_sent,"          \
    " n_delivered, n_failed, n_suppressed, n_cancelled, n_recipients,"       \
    " n_replied, n_answer_1, n_answer_2, n_answer_3, n_answer_4,"            \
    " n_answer_5, n_answer_6, n_answer_7, n_answer_8, n_answer_9,"           \
    " cancelled_reason, cancelled_message, revision, n_excluded,"            \
    " handed_at, paused_number, paused_error_code"                           \
    " FROM campaigns WHERE id = ?1 AND org_id = ?2"

/* The first of the state counts in that SELECT, in inbox_recipient_
 * state_t's order, the first of a poll's tally, by option, and the
 * cancel reason, its message next. */
#define INBOX_SQLITE_CAMPAIGN_COUNTS  14
#define INBOX_SQLITE_CAMPAIGN_TALLY   24
#define INBOX_SQLITE_CAMPAIGN_CANCELLED  33
#define INBOX_SQLITE_CAMPAIGN_REVISION   35
#define INBOX_SQLITE_CAMPAIGN_EXCLUDED   36
#define INBOX_SQLITE_CAMPAIGN_HANDED     37
#define INBOX_SQLITE_CAMPAIGN_REFUSED    38

/* A due recipient, as dispatch reads it. */
typedef struct {
    int64_t  id;
    int64_t  conversation;
    int      opted_out;
    char     timezone[INBOX_TIMEZONE_MAX];
    char     phone[INBOX_PHONE_MAX];
    char     kept[INBOX_PHONE_MAX];    /* its thread's, if still ours */
} inbox_sqlite_due_t;

/* The organization as dispatch needs it. */
typedef struct {
    char          timezone[INBOX_TIMEZONE_MAX];
    int           quiet_start;
    int           quiet_end;
    int           billing_active;
    int64_t       balance;
    inbox_plan_t  plan;
    char          first[INBOX_PHONE_MAX];
} inbox_sqlite_sender_t;

/* What dispatch hands over, pushed after the commit. */
typedef struct {
    inbox_change_t  change;
    int64_t         org;
} inbox_sqlite_handed_t;


static inbox_status_t inbox_sqlite_campaign_ids(const char *org_id,
    const char *campaign_id, int64_t *org, int64_t *id, inbox_error_t *err);
static inbox_status_t inbox_sqlite_campaign_lock(inbox_store_t *store,
    const char *org_id, const char *campaign_id, inbox_campaign_kind_t kind,
    int64_t *org, int64_t *id, inbox_campaign_t *c,
    inbox_sqlite_conn_t **conn, inbox_error_t *err);
static inbox_status_t inbox_sqlite_campaign_written(
    inbox_sqlite_conn_t *conn, int64_t org, int64_t id,
    const inbox_campaign_new_t *c, int64_t now, inbox_campaign_t *campaign,
    inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t inbox_sqlite_campaign_commit(inbox_sqlite_conn_t *conn,
    int64_t org, const inbox_campaign_t *campaign, int64_t now,
    inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t inbox_sqlite_campaign_rows(inbox_sqlite_conn_t *conn,
    int64_t org, int64_t id, const inbox_campaign_new_t *c,
    inbox_error_t *err);
static inbox_status_t inbox_sqlite_campaign_clear(inbox_sqlite_conn_t *conn,
    int64_t id, inbox_error_t *err);
static inbox_status_t inbox_sqlite_campaign_set(inbox_sqlite_conn_t *conn,
    int64_t id, inbox_campaign_status_t status, inbox_pause_reason_t reason,
    inbox_cancel_reason_t cancelled, const char *cancelled_message,
    int64_t now, inbox_error_t *err);
static inbox_status_t inbox_sqlite_campaign_cancel_left(
    inbox_sqlite_conn_t *conn, int64_t id, inbox_error_t *err);
static inbox_status_t inbox_sqlite_campaign_number(
    inbox_sqlite_conn_t *conn, int64_t org, inbox_error_t *err);
static inbox_status_t inbox_sqlite_campaign_fix(inbox_sqlite_conn_t *conn,
    int64_t org, int64_t id, int audience_all, int64_t due_at,
    inbox_error_t *err);
static inbox_status_t inbox_sqlite_campaign_send(inbox_sqlite_conn_t *conn,
    int64_t org, int64_t id, int64_t now, const char *media_base,
    size_t share, size_t *budget, inbox_campaign_dispatch_t *result,
    inbox_sqlite_handed_t *handed, size_t *nhanded, int *more,
    inbox_error_t *err);
static inbox_status_t inbox_sqlite_campaign_ahead(inbox_sqlite_conn_t *conn,
    int64_t id, int64_t now, size_t *ahead, inbox_error_t *err);
static inbox_status_t inbox_sqlite_recipient_set(inbox_sqlite_conn_t *conn,
    int64_t id, inbox_recipient_state_t state, int64_t due_at,
    inbox_error_t *err);
static inbox_status_t inbox_sqlite_campaign_of_message(
    inbox_sqlite_conn_t *conn, int64_t message, int64_t *id,
    inbox_campaign_status_t *status, inbox_pause_reason_t *why,
    inbox_error_t *err);


/* create, read, list */

inbox_status_t
inbox_sqlite_campaign_create(inbox_store_t *store, const char *org_id,
    const inbox_campaign_new_t *c, const char *name, const char *body,
    unsigned segments, unsigned credits, int64_t now,
    inbox_campaign_t *campaign, inbox_event_list_t *events,
    inbox_error_t *err)
{
    int                   rc;
    int64_t               org, id;
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

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CAMPAIGN_INSERT,
        "INSERT INTO campaigns (org_id, kind, name, body, question,"
        " audience_all, segments, credits, status, send_at, created_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'draft', ?9, ?10)", err);
    if (stmt == NULL) {
        status = err->code;
        goto failed;
    }

    sqlite3_bind_int64(stmt, 1, org);
    inbox_sqlite_bind_text(stmt, 2, inbox_campaign_kind_name(c->kind));
    inbox_sqlite_bind_text(stmt, 3, name);
    inbox_sqlite_bind_text(stmt, 4, body);
    inbox_sqlite_bind_text(stmt, 5, c->kind == INBOX_CAMPAIGN_KIND_POLL
                                    ? c->question : NULL);
    sqlite3_bind_int(stmt, 6, c->audience_all != 0);
    sqlite3_bind_int(stmt, 7, (int) segments);
    sqlite3_bind_int(stmt, 8, (int) credits);
    sqlite3_bind_int64(stmt, 9, c->send_at);
    sqlite3_bind_int64(stmt, 10, now);

    rc = sqlite3_step(stmt);
    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        status = inbox_sqlite_write_fail(conn, rc, "the campaign", org_id,
                                         err);
        goto failed;
    }

    id = sqlite3_last_insert_rowid(conn->db);

    return inbox_sqlite_campaign_written(conn, org, id, c, now, campaign,
                                         events, err);

failed:

    inbox_sqlite_rollback(conn);

    return status;
}


/* The end of a draft's write (made or edited): its tags, options and
 * images from c, *campaign as stored, its campaign.updated, the commit;
 * rolled back when any of it fails. */
static inbox_status_t
inbox_sqlite_campaign_written(inbox_sqlite_conn_t *conn, int64_t org,
    int64_t id, const inbox_campaign_new_t *c, int64_t now,
    inbox_campaign_t *campaign, inbox_event_list_t *events,
    inbox_error_t *err)
{
    inbox_status_t  status;

    status = inbox_sqlite_campaign_rows(conn, org, id, c, err);

    if (status == INBOX_OK) {
        status = inbox_sqlite_campaign_load(conn, org, id, campaign, err);
    }

    if (status == INBOX_OK) {
        status = inbox_sqlite_campaign_commit(conn, org, campaign, now,
                                              events, err);

    } else {
        inbox_sqlite_rollback(conn);
    }

    if (status != INBOX_OK) {
        inbox_campaign_free(campaign);
    }

    return status;
}

/* A person's change to campaign (as it is now) told every browser of
 * its organization, campaign.updated, in the write's transaction, which
 * commits; rolled back when the event cannot be recorded. */
static inbox_status_t
inbox_sqlite_campaign_commit(inbox_sqlite_conn_t *conn, int64_t org,
    const inbox_campaign_t *campaign, int64_t now,
    inbox_event_list_t *events, inbox_error_t *err)
{
    inbox_change_t  change;

    inbox_change_campaign_updated(&change, campaign);

    return inbox_sqlite_events_commit(conn, org, &change, now, events, err);
}


/* A campaign's tags, options and images as c has them, its uploads
 * attached (a campaign's are its own from then on). */
static inbox_status_t
inbox_sqlite_campaign_rows(inbox_sqlite_conn_t *conn, int64_t org, int64_t id,
    const inbox_campaign_new_t *c, inbox_error_t *err)
{
    size_t           i, len;
    int64_t          upload;
    const char      *text;
    sqlite3_stmt    *stmt;
    inbox_status_t   status;

    for (i = 0; !c->audience_all && c->tags != NULL && i < c->tags->count;
         i++)
    {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CAMPAIGN_TAG_ADD,
            "INSERT INTO campaign_tags (campaign_id, idx, tag)"
            " VALUES (?1, ?2, ?3)", err);
        if (stmt == NULL) {
            return err->code;
        }

        sqlite3_bind_int64(stmt, 1, id);
        sqlite3_bind_int64(stmt, 2, (int64_t) i);
        inbox_sqlite_bind_text(stmt, 3, c->tags->items[i]);

        if (!inbox_sqlite_step_done(stmt)) {
            return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
        }
    }

    for (i = 0; c->kind == INBOX_CAMPAIGN_KIND_POLL && i < c->option_count;
         i++)
    {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CAMPAIGN_OPTION_ADD,
            "INSERT INTO campaign_options (campaign_id, idx, text)"
            " VALUES (?1, ?2, ?3)", err);
        if (stmt == NULL) {
            return err->code;
        }

        /* trimmed as the poll's text trims it (poll.h) */
        len = strlen(c->options[i]);
        text = inbox_poll_trim(c->options[i], &len);

        sqlite3_bind_int64(stmt, 1, id);
        sqlite3_bind_int64(stmt, 2, (int64_t) i);
        sqlite3_bind_text(stmt, 3, text, (int) len, SQLITE_TRANSIENT);

        if (!inbox_sqlite_step_done(stmt)) {
            return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
        }
    }

    status = inbox_sqlite_media_attach(conn, org, c->media, c->media_count,
                                       err);
    if (status != INBOX_OK) {
        return status;
    }

    for (i = 0; i < c->media_count; i++) {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CAMPAIGN_MEDIA_ADD,
            "INSERT INTO campaign_media (campaign_id, idx, url, content_type,"
            " file, bytes, media_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            err);
        if (stmt == NULL) {
            return err->code;
        }

        sqlite3_bind_int64(stmt, 1, id);
        sqlite3_bind_int64(stmt, 2, (int64_t) i);
        inbox_sqlite_bind_text(stmt, 3, c->media[i].url);
        inbox_sqlite_bind_text(stmt, 4, c->media[i].content_type);
        inbox_sqlite_bind_text(stmt, 5, c->media[i].file);
        sqlite3_bind_int64(stmt, 6, c->media[i].bytes);

        /* left NULL for an image whose upload is not known: one an edit
         * keeps from before migration 45 found none */
        if (inbox_sqlite_parse_id(c->media[i].upload_id, &upload) == 0) {
            sqlite3_bind_int64(stmt, 7, upload);
        }

        if (!inbox_sqlite_step_done(stmt)) {
            return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
        }
    }

    return INBOX_OK;
}


/* A draft's tags, options and images gone, to be made again. */
static inbox_status_t
inbox_sqlite_campaign_clear(inbox_sqlite_conn_t *conn, int64_t id,
    inbox_error_t *err)
{
    size_t         i;
    sqlite3_stmt  *stmt;

    static const struct {
        inbox_sql_id_t   which;
        const char      *sql;
    } clear[] = {
        { INBOX_SQL_CAMPAIGN_TAGS_CLEAR,
          "DELETE FROM campaign_tags WHERE campaign_id = ?1" },
        { INBOX_SQL_CAMPAIGN_OPTIONS_CLEAR,
          "DELETE FROM campaign_options WHERE campaign_id = ?1" },
        { INBOX_SQL_CAMPAIGN_MEDIA_CLEAR,
          "DELETE FROM campaign_media WHERE campaign_id = ?1" },
    };

    for (i = 0; i < sizeof(clear) / sizeof(clear[0]); i++) {
        stmt = inbox_sqlite_stmt(conn, clear[i].which, clear[i].sql, err);
        if (stmt == NULL) {
            return err->code;
        }

        sqlite3_bind_int64(stmt, 1, id);

        if (!inbox_sqlite_step_done(stmt)) {
            return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
        }
    }

    return INBOX_OK;
}


inbox_status_t
inbox_sqlite_campaign_update(inbox_store_t *store, const char *org_id,
    const char *campaign_id, int64_t revision, const inbox_campaign_new_t *c,
    const char *name, const char *body, unsigned segments, unsigned credits,
    inbox_campaign_t *campaign, inbox_event_list_t *events,
    inbox_error_t *err)
{
    int64_t               org, id, now;
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_campaign_t      was;
    inbox_sqlite_conn_t  *conn;

    if (err == NULL) {
        err = &fallback;
    }

    /* as it is under the write lock: a send that came first wins */
    status = inbox_sqlite_campaign_lock(store, org_id, campaign_id, c->kind,
                                        &org, &id, &was, &conn, err);
    if (status != INBOX_OK) {
        return status;
    }

    status = inbox_campaign_editable(was.status, err);

    if (status == INBOX_OK && was.revision != revision) {
        status = inbox_campaign_edited_since(err);
    }

    inbox_campaign_free(&was);

    if (status != INBOX_OK) {
        goto failed;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CAMPAIGN_EDIT,
        "UPDATE campaigns SET name = ?2, body = ?3, question = ?4,"
        " audience_all = ?5, segments = ?6, credits = ?7, send_at = ?8,"
        " revision = revision + 1 WHERE id = ?1", err);
    if (stmt == NULL) {
        status = err->code;
        goto failed;
    }

    sqlite3_bind_int64(stmt, 1, id);
    inbox_sqlite_bind_text(stmt, 2, name);
    inbox_sqlite_bind_text(stmt, 3, body);
    inbox_sqlite_bind_text(stmt, 4, c->kind == INBOX_CAMPAIGN_KIND_POLL
                                    ? c->question : NULL);
    sqlite3_bind_int(stmt, 5, c->audience_all != 0);
    sqlite3_bind_int(stmt, 6, (int) segments);
    sqlite3_bind_int(stmt, 7, (int) credits);
    sqlite3_bind_int64(stmt, 8, c->send_at);

    if (!inbox_sqlite_step_done(stmt)) {
        status = inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
        goto failed;
    }

    /* its uploads left to the purge unless c attaches them again (an
     * image the edit drops is then unused, unless something else names
     * it: the purge looks) */
    now = inbox_now_ms();

    status = inbox_sqlite_media_release(conn, org, id, now, err);
    if (status != INBOX_OK) {
        goto failed;
    }

    /* its rows made again from c */
    status = inbox_sqlite_campaign_clear(conn, id, err);
    if (status != INBOX_OK) {
        goto failed;
    }

    return inbox_sqlite_campaign_written(conn, org, id, c, now, campaign,
                                         events, err);

failed:

    inbox_sqlite_rollback(conn);

    return status;
}


inbox_status_t
inbox_sqlite_campaign_reschedule(inbox_store_t *store, const char *org_id,
    const char *campaign_id, inbox_campaign_kind_t kind, int64_t send_at,
    int64_t now, inbox_campaign_t *campaign, inbox_event_list_t *events,
    inbox_error_t *err)
{
    int64_t               org, id;
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_sqlite_conn_t  *conn;

    if (err == NULL) {
        err = &fallback;
    }

    /* as it is under the write lock: a start that came first wins */
    status = inbox_sqlite_campaign_lock(store, org_id, campaign_id, kind,
                                        &org, &id, campaign, &conn, err);
    if (status != INBOX_OK) {
        return status;
    }

    status = inbox_campaign_movable(campaign, err);

    inbox_campaign_free(campaign);

    if (status != INBOX_OK) {
        goto failed;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CAMPAIGN_RESCHEDULE,
        "UPDATE campaigns SET send_at = ?2 WHERE id = ?1", err);
    if (stmt == NULL) {
        status = err->code;
        goto failed;
    }

    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_int64(stmt, 2, send_at);

    if (!inbox_sqlite_step_done(stmt)) {
        status = inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
        goto failed;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_RECIPIENTS_RESCHEDULE,
        "UPDATE campaign_recipients SET due_at = min(due_at, ?2)"
        " WHERE campaign_id = ?1 AND state = 'due'", err);
    if (stmt == NULL) {
        status = err->code;
        goto failed;
    }

    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_int64(stmt, 2, send_at);

    if (!inbox_sqlite_step_done(stmt)) {
        status = inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
        goto failed;
    }

    status = inbox_sqlite_campaign_load(conn, org, id, campaign, err);
    if (status != INBOX_OK) {
        goto failed;
    }

    status = inbox_sqlite_campaign_commit(conn, org, campaign, now, events,
                                          err);
    if (status != INBOX_OK) {
        inbox_campaign_free(campaign);
    }

    return status;

failed:

    inbox_sqlite_rollback(conn);

    return status;
}


/* Found deletable under the write lock, so that a send or a start that
 * came first wins; its uploads released before its images' rows go,
 * which the release finds them by. */
inbox_status_t
inbox_sqlite_campaign_delete(inbox_store_t *store, const char *org_id,
    const char *campaign_id, inbox_campaign_kind_t kind, int64_t now,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int64_t               org, id;
    sqlite3_stmt         *stmt;
    inbox_change_t        change;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_campaign_t      was;
    inbox_sqlite_conn_t  *conn;

    if (err == NULL) {
        err = &fallback;
    }

    status = inbox_sqlite_campaign_lock(store, org_id, campaign_id, kind,
                                        &org, &id, &was, &conn, err);
    if (status != INBOX_OK) {
        return status;
    }

    status = inbox_campaign_deletable(&was, err);

    inbox_campaign_free(&was);

    if (status != INBOX_OK) {
        goto failed;
    }

    status = inbox_sqlite_media_release(conn, org, id, now, err);
    if (status != INBOX_OK) {
        goto failed;
    }

    status = inbox_sqlite_campaign_clear(conn, id, err);
    if (status != INBOX_OK) {
        goto failed;
    }

    /* one cancelled before any hand-over: the recipients send fixed,
     * none handed a message (a draft has none) */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CAMPAIGN_RECIPIENTS_DELETE,
        "DELETE FROM campaign_recipients WHERE campaign_id = ?1", err);
    if (stmt == NULL) {
        status = err->code;
        goto failed;
    }

    sqlite3_bind_int64(stmt, 1, id);

    if (!inbox_sqlite_step_done(stmt)) {
        status = inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
        goto failed;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CAMPAIGN_DELETE,
        "DELETE FROM campaigns WHERE id = ?1 AND (status = 'draft'"
        " OR (status = 'cancelled' AND handed_at IS NULL))", err);
    if (stmt == NULL) {
        status = err->code;
        goto failed;
    }

    sqlite3_bind_int64(stmt, 1, id);

    if (!inbox_sqlite_step_done(stmt)) {
        status = inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
        goto failed;
    }

    /* every browser of the organization drops its card */
    inbox_change_campaign_deleted(&change, campaign_id, kind);

    return inbox_sqlite_events_commit(conn, org, &change, now, events, err);

failed:

    inbox_sqlite_rollback(conn);

    return status;
}


inbox_status_t
inbox_sqlite_campaign_get(inbox_store_t *store, const char *org_id,
    const char *campaign_id, inbox_campaign_t *campaign, inbox_error_t *err)
{
    int64_t               org, id;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_sqlite_conn_t  *conn;

    if (err == NULL) {
        err = &fallback;
    }

    memset(campaign, 0, sizeof(inbox_campaign_t));

    status = inbox_sqlite_campaign_ids(org_id, campaign_id, &org, &id, err);
    if (status != INBOX_OK) {
        return status;
    }

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        return err->code;
    }

    status = inbox_sqlite_begin_read(conn, err);
    if (status != INBOX_OK) {
        return status;
    }

    status = inbox_sqlite_campaign_load(conn, org, id, campaign, err);
    inbox_sqlite_rollback(conn);

    return status;
}


inbox_status_t
inbox_sqlite_campaigns_list(inbox_store_t *store, const char *org_id,
    inbox_campaign_kind_t kind, const char *cursor, unsigned limit,
    inbox_campaign_page_t *page, inbox_error_t *err)
{
    int                   rc;
    size_t                i, n;
    int64_t               org, at, after, *ids;
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_sqlite_conn_t  *conn;

    if (err == NULL) {
        err = &fallback;
    }

    after = INT64_MAX;

    if (cursor != NULL && cursor[0] != '\0'
        && inbox_sqlite_cursor_decode(cursor, &at, &after) != 0)
    {
        return inbox_error_cursor(err);
    }

    status = inbox_sqlite_org_id(org_id, &org, err);
    if (status != INBOX_OK) {
        return status;
    }

    ids = calloc((size_t) limit + 1, sizeof(int64_t));
    page->items = calloc(limit, sizeof(inbox_campaign_t));

    if (ids == NULL || page->items == NULL) {
        free(ids);
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        free(ids);
        return err->code;
    }

    status = inbox_sqlite_begin_read(conn, err);
    if (status != INBOX_OK) {
        free(ids);
        return status;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CAMPAIGNS_PAGE,
        "SELECT id FROM campaigns WHERE org_id = ?1 AND kind = ?2"
        " AND id < ?3 ORDER BY id DESC LIMIT ?4", err);
    if (stmt == NULL) {
        status = err->code;
        goto done;
    }

    sqlite3_bind_int64(stmt, 1, org);
    inbox_sqlite_bind_text(stmt, 2, inbox_campaign_kind_name(kind));
    sqlite3_bind_int64(stmt, 3, after);
    sqlite3_bind_int64(stmt, 4, (int64_t) limit + 1);

    n = 0;

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        ids[n++] = sqlite3_column_int64(stmt, 0);
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        status = inbox_sqlite_fail(conn, rc, err);
        goto done;
    }

    for (i = 0; i < n && i < limit; i++) {
        status = inbox_sqlite_campaign_load(conn, org, ids[i],
                                            &page->items[i], err);
        page->count = i + 1;

        if (status != INBOX_OK) {
            goto done;
        }
    }

    if (n > limit) {
        inbox_sqlite_cursor_encode(0, ids[limit - 1], page->next_cursor);
    }

done:

    inbox_sqlite_rollback(conn);
    free(ids);

    if (status != INBOX_OK) {
        inbox_campaign_page_free(page);
    }

    return status;
}


/* the sender's progress */


inbox_status_t
inbox_sqlite_campaigns_active(inbox_store_t *store, int64_t since,
    const char *cursor, inbox_campaign_page_t *page, inbox_error_t *err)
{
    int                   rc;
    size_t                i, n;
    int64_t               after;
    int64_t              (*ids)[2];
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_sqlite_conn_t  *conn;

    if (err == NULL) {
        err = &fallback;
    }

    after = 0;
    if (cursor[0] != '\0' && inbox_sqlite_parse_id(cursor, &after) != 0) {
        return inbox_error_cursor(err);
    }

    ids = calloc(INBOX_CAMPAIGNS_ACTIVE_MAX, sizeof(*ids));
    page->items = calloc(INBOX_CAMPAIGNS_ACTIVE_MAX,
                         sizeof(inbox_campaign_t));

    if (ids == NULL || page->items == NULL) {
        free(ids);
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        free(ids);
        return err->code;
    }

    status = inbox_sqlite_begin_read(conn, err);
    if (status != INBOX_OK) {
        free(ids);
        return status;
    }

    /* each part from its index (migrations 15 and 45): what is not
     * final, what ended lately, the polls answered and the campaigns
     * replied to lately */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CAMPAIGNS_ACTIVE,
        "SELECT org_id, id FROM campaigns WHERE id IN ("
        " SELECT id FROM campaigns"
        "  WHERE status IN ('scheduled', 'sending', 'paused')"
        " UNION ALL SELECT id FROM campaigns WHERE finished_at >= ?1"
        " UNION ALL SELECT id FROM campaigns WHERE answered_at >= ?1"
        " UNION ALL SELECT id FROM campaigns WHERE replied_at >= ?1)"
        " AND id > ?3 ORDER BY id LIMIT ?2", err);
    if (stmt == NULL) {
        status = err->code;
        goto done;
    }

    sqlite3_bind_int64(stmt, 1, since);
    sqlite3_bind_int(stmt, 2, INBOX_CAMPAIGNS_ACTIVE_MAX);
    sqlite3_bind_int64(stmt, 3, after);

    n = 0;

    while (n < INBOX_CAMPAIGNS_ACTIVE_MAX
           && (rc = sqlite3_step(stmt)) == SQLITE_ROW)
    {
        ids[n][0] = sqlite3_column_int64(stmt, 0);
        ids[n][1] = sqlite3_column_int64(stmt, 1);
        n++;
    }

    inbox_sqlite_done(stmt);

    if (n < INBOX_CAMPAIGNS_ACTIVE_MAX && rc != SQLITE_DONE) {
        status = inbox_sqlite_fail(conn, rc, err);
        goto done;
    }

    for (i = 0; i < n; i++) {
        status = inbox_sqlite_campaign_load(conn, ids[i][0], ids[i][1],
                                            &page->items[i], err);
        page->count = i + 1;

        if (status != INBOX_OK) {
            goto done;
        }
    }

    /* a full page: there may be more after its last */
    if (n == INBOX_CAMPAIGNS_ACTIVE_MAX) {
        inbox_sqlite_format_id(ids[n - 1][1], page->next_cursor);
    }

done:

    inbox_sqlite_rollback(conn);
    free(ids);

    if (status != INBOX_OK) {
        inbox_campaign_page_free(page);
        memset(page, 0, sizeof(inbox_campaign_page_t));
    }

    return status;
}


inbox_status_t
inbox_sqlite_campaign_progress(inbox_store_t *store, const char *org_id,
    const char *campaign_id, int64_t now, inbox_campaign_t *campaign,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int64_t               org, id;
    inbox_change_t        change;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_sqlite_conn_t  *conn;

    if (err == NULL) {
        err = &fallback;
    }

    status = inbox_sqlite_campaign_ids(org_id, campaign_id, &org, &id, err);
    if (status != INBOX_OK) {
        return status;
    }

    conn = inbox_sqlite_begin_write(store, err);
    if (conn == NULL) {
        return err->code;
    }

    status = inbox_sqlite_campaign_load(conn, org, id, campaign, err);
    if (status != INBOX_OK) {
        goto failed;
    }

    inbox_change_campaign(&change, campaign);

    return inbox_sqlite_events_commit(conn, org, &change, now, events, err);

failed:

    inbox_sqlite_rollback(conn);

    return status;
}


/* send, pause, resume, cancel */

inbox_status_t
inbox_sqlite_campaign_act(inbox_store_t *store, const char *org_id,
    const char *campaign_id, inbox_campaign_action_t action, int64_t now,
    inbox_campaign_t *campaign, inbox_event_list_t *events,
    inbox_error_t *err)
{
    int                       changed;
    int64_t                   org, id;
    inbox_status_t            status;
    inbox_error_t             fallback;
    inbox_sqlite_conn_t      *conn;
    inbox_campaign_status_t   to;
    inbox_pause_reason_t      why;
    inbox_cancel_reason_t     cancelled;

    if (err == NULL) {
        err = &fallback;
    }

    status = inbox_sqlite_campaign_ids(org_id, campaign_id, &org, &id, err);
    if (status != INBOX_OK) {
        return status;
    }

    conn = inbox_sqlite_begin_write(store, err);
    if (conn == NULL) {
        return err->code;
    }

    status = inbox_sqlite_campaign_load(conn, org, id, campaign, err);
    if (status != INBOX_OK) {
        goto failed;
    }

    to = campaign->status;
    why = campaign->paused_reason;
    cancelled = campaign->cancelled_reason;

    status = inbox_campaign_act(action, campaign->send_at, now, &to, &why,
                                &cancelled, &changed, err);
    if (status != INBOX_OK || !changed) {
        goto failed;
    }

    if (action == INBOX_CAMPAIGN_SEND) {
        /* a draft saved before a rule of its text existed is refused
         * as a new one would be, before anyone is fixed as recipient.
         * A resume is not judged: it goes on with a send decided
         * before, often received by part of its audience, and only
         * one sent before this check can hold such a text */
        status = inbox_campaign_sendable(campaign, err);
        if (status != INBOX_OK) {
            goto failed;
        }

        /* with no number its recipients could never be sent to: refused
         * as a reply is, rather than sending for ever */
        status = inbox_sqlite_campaign_number(conn, org, err);
        if (status != INBOX_OK) {
            goto failed;
        }

        status = inbox_sqlite_campaign_fix(conn, org, id,
                                           campaign->audience_all,
                                           inbox_campaign_due_at(
                                               campaign->send_at, now),
                                           err);
        if (status != INBOX_OK) {
            goto failed;
        }
    }

    if (action == INBOX_CAMPAIGN_CANCEL) {
        status = inbox_sqlite_campaign_cancel_left(conn, id, err);
        if (status != INBOX_OK) {
            goto failed;
        }
    }

    if (action == INBOX_CAMPAIGN_RESUME || action == INBOX_CAMPAIGN_CANCEL) {
        /* what a claim parked goes again; a cancel also reports at once
         * what waited out a retry */
        status = inbox_sqlite_outbox_unpark(conn, id, now,
                                            action == INBOX_CAMPAIGN_CANCEL,
                                            err);
        if (status != INBOX_OK) {
            goto failed;
        }
    }

    status = inbox_sqlite_campaign_set(conn, id, to, why, cancelled, NULL,
                                       now, err);
    if (status != INBOX_OK) {
        goto failed;
    }

    inbox_campaign_free(campaign);

    status = inbox_sqlite_campaign_load(conn, org, id, campaign, err);
    if (status != INBOX_OK) {
        goto failed;
    }

    status = inbox_sqlite_campaign_commit(conn, org, campaign, now, events,
                                          err);
    if (status != INBOX_OK) {
        inbox_campaign_free(campaign);
    }

    return status;

failed:

    /* a repeat (nothing changed) answers the campaign as it is */
    inbox_sqlite_rollback(conn);

    if (status != INBOX_OK) {
        inbox_campaign_free(campaign);
    }

    return status;
}


/* INBOX_ERR_CONFLICT while the organization has no number to send a
 * campaign from (none for its first, what a thread without one of its
 * numbers goes from). */
static inbox_status_t
inbox_sqlite_campaign_number(inbox_sqlite_conn_t *conn, int64_t org,
    inbox_error_t *err)
{
    int            rc;
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CAMPAIGN_NUMBER,
        "SELECT 1 FROM numbers WHERE org_id = ?1 LIMIT 1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);

    rc = sqlite3_step(stmt);
    inbox_sqlite_done(stmt);

    if (rc == SQLITE_DONE) {
        return inbox_error_no_number(err);
    }

    if (rc != SQLITE_ROW) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    return INBOX_OK;
}


/* A cancelled campaign's recipients not handed over yet: never sent. */
static inbox_status_t
inbox_sqlite_campaign_cancel_left(inbox_sqlite_conn_t *conn, int64_t id,
    inbox_error_t *err)
{
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CAMPAIGN_CANCEL_LEFT,
        "UPDATE campaign_recipients SET state = 'cancelled'"
        " WHERE campaign_id = ?1"
        " AND state IN ('due', 'waiting_quiet_hours')", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, id);

    if (!inbox_sqlite_step_done(stmt)) {
        return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
    }

    return INBOX_OK;
}


/* The recipients, fixed now: every contact of the audience, opted-out
 * ones suppressed, the others due at due_at; the suppressed counted
 * excluded, never recipients (as those who opt out since are). */
static inbox_status_t
inbox_sqlite_campaign_fix(inbox_sqlite_conn_t *conn, int64_t org,
    int64_t id, int audience_all, int64_t due_at, inbox_error_t *err)
{
    sqlite3_stmt  *stmt;

    if (audience_all) {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CAMPAIGN_AUDIENCE_ALL,
            "INSERT INTO campaign_recipients (campaign_id, contact_id, state,"
            " due_at)"
            " SELECT ?1, id, CASE opted_out WHEN 0 THEN 'due'"
            " ELSE 'suppressed' END, ?3 FROM contacts WHERE org_id = ?2"
            " ORDER BY id", err);

    } else {
        /* contact_tags_by_tag answers each tag's contacts */
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CAMPAIGN_AUDIENCE_TAGS,
            "INSERT INTO campaign_recipients (campaign_id, contact_id, state,"
            " due_at)"
            " SELECT ?1, ct.id, CASE ct.opted_out WHEN 0 THEN 'due'"
            " ELSE 'suppressed' END, ?3 FROM contacts ct"
            " WHERE ct.id IN (SELECT t.contact_id FROM campaign_tags a"
            "   JOIN contact_tags t ON t.org_id = ?2 AND t.tag = a.tag"
            "   WHERE a.campaign_id = ?1)"
            " ORDER BY ct.id", err);
    }

    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_int64(stmt, 2, org);
    sqlite3_bind_int64(stmt, 3, due_at);

    if (!inbox_sqlite_step_done(stmt)) {
        return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CAMPAIGN_EXCLUDED,
        "UPDATE campaigns SET n_excluded = n_suppressed WHERE id = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, id);

    if (!inbox_sqlite_step_done(stmt)) {
        return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
    }

    return INBOX_OK;
}


/* the sender's turn */

inbox_status_t
inbox_sqlite_campaign_dispatch(inbox_store_t *store, int64_t now, size_t max,
    const char *media_base, inbox_campaign_dispatch_t *result,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int                     rc;
    int                    *more;
    char                    org_text[INBOX_ID_MAX];
    size_t                  i, n, cap, budget, nhanded;
    int64_t                *campaigns, *orgs;
    sqlite3_stmt           *stmt;
    inbox_status_t          status;
    inbox_error_t           fallback;
    inbox_sqlite_conn_t    *conn;
    inbox_sqlite_handed_t  *handed;

    if (err == NULL) {
        err = &fallback;
    }

    handed = calloc(max, sizeof(inbox_sqlite_handed_t));
    if (handed == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    campaigns = NULL;
    orgs = NULL;
    more = NULL;
    nhanded = 0;

    conn = inbox_sqlite_begin_write(store, err);
    if (conn == NULL) {
        free(handed);
        return err->code;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CAMPAIGNS_START,
        "UPDATE campaigns SET status = 'sending',"
        " started_at = coalesce(started_at, ?1)"
        " WHERE status = 'scheduled' AND send_at <= ?1", err);
    if (stmt == NULL) {
        status = err->code;
        goto failed;
    }

    sqlite3_bind_int64(stmt, 1, now);

    if (!inbox_sqlite_step_done(stmt)) {
        status = inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
        goto failed;
    }

    result->started = (size_t) sqlite3_changes(conn->db);

    /* the campaigns sending, the earliest started first */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CAMPAIGNS_SENDING,
        "SELECT id, org_id FROM campaigns WHERE status = 'sending'"
        " ORDER BY started_at, id", err);
    if (stmt == NULL) {
        status = err->code;
        goto failed;
    }

    n = 0;
    cap = 0;

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            campaigns = realloc(campaigns, cap * sizeof(int64_t));
            orgs = realloc(orgs, cap * sizeof(int64_t));
            more = realloc(more, cap * sizeof(int));

            if (campaigns == NULL || orgs == NULL || more == NULL) {
                inbox_sqlite_done(stmt);
                status = inbox_error_set(err, INBOX_ERR_INTERNAL,
                                         "Out of memory.");
                goto failed;
            }
        }

        campaigns[n] = sqlite3_column_int64(stmt, 0);
        orgs[n++] = sqlite3_column_int64(stmt, 1);
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        status = inbox_sqlite_fail(conn, rc, err);
        goto failed;
    }

    /* each campaign its share of the batch, then what is left over to
     * those that had more due than their share: one started later, of
     * the same organization or another, is not held up by the audience
     * of one started before it */
    budget = max;

    for (i = 0; i < n; i++) {
        status = inbox_sqlite_campaign_send(conn, orgs[i], campaigns[i], now,
                                            media_base,
                                            (budget + n - i - 1) / (n - i),
                                            &budget, result, handed,
                                            &nhanded, &more[i], err);
        if (status != INBOX_OK) {
            goto failed;
        }
    }

    for (i = 0; i < n && budget > 0; i++) {
        if (!more[i]) {
            continue;
        }

        status = inbox_sqlite_campaign_send(conn, orgs[i], campaigns[i], now,
                                            media_base, budget, &budget,
                                            result, handed, &nhanded,
                                            &more[i], err);
        if (status != INBOX_OK) {
            goto failed;
        }
    }

    status = inbox_sqlite_commit(conn, err);
    if (status != INBOX_OK) {
        goto undone;
    }

    for (i = 0; i < nhanded; i++) {
        inbox_sqlite_format_id(handed[i].org, org_text);

        if (status == INBOX_OK
            && inbox_change_push(&handed[i].change, org_text, events) != 0)
        {
            /* handed over; browsers see it at their next reload */
            status = inbox_error_set(err, INBOX_ERR_INTERNAL,
                                     "Out of memory.");
        }

        inbox_change_free(&handed[i].change);
    }

    free(handed);
    free(campaigns);
    free(orgs);
    free(more);

    return status;

failed:

    inbox_sqlite_rollback(conn);

undone:

    for (i = 0; i < nhanded; i++) {
        inbox_change_free(&handed[i].change);
    }

    memset(result, 0, sizeof(inbox_campaign_dispatch_t));
    free(handed);
    free(campaigns);
    free(orgs);
    free(more);

    return status;
}


/*
 * One sending campaign's due recipients, at most share of them and of
 * *budget, and none while INBOX_CAMPAIGN_AHEAD_MAX of its messages wait
 * in the outbox: each suppressed, held for quiet hours or handed over,
 * until billing stops the campaign; then done when nothing is left due
 * or waiting, nor in the outbox.  *more: it took all it could, more may
 * be due.
 */
static inbox_status_t
inbox_sqlite_campaign_send(inbox_sqlite_conn_t *conn, int64_t org,
    int64_t id, int64_t now, const char *media_base, size_t share,
    size_t *budget, inbox_campaign_dispatch_t *result,
    inbox_sqlite_handed_t *handed, size_t *nhanded, int *more,
    inbox_error_t *err)
{
    int                              rc;
    size_t                           i, n, limit, ahead, room;
    int64_t                          opens, left;
    unsigned                         charge;
    sqlite3_stmt                    *stmt;
    inbox_reply_t                    reply;
    inbox_status_t                   status;
    inbox_campaign_t                 c;
    inbox_sqlite_due_t              *due;
    inbox_pause_reason_t             why;
    inbox_error_t                    refusal;
    inbox_reply_result_t             r;
    inbox_sqlite_sender_t            s;
    inbox_campaign_status_t          to;
    inbox_campaign_messages_t        messages;
    const inbox_campaign_message_t  *msg;
    const char                      *from, *kind;
    char                             conversation[INBOX_ID_MAX];

    memset(&c, 0, sizeof(inbox_campaign_t));
    memset(&s, 0, sizeof(inbox_sqlite_sender_t));
    memset(&messages, 0, sizeof(inbox_campaign_messages_t));
    due = NULL;
    why = INBOX_PAUSE_NONE;
    *more = 0;
    limit = share < *budget ? share : *budget;
    room = 0;

    status = inbox_sqlite_campaign_load(conn, org, id, &c, err);
    if (status != INBOX_OK) {
        return status;
    }

    /* what its messages say they were sent for */
    kind = inbox_campaign_kind_name(c.kind);

    /* a scheduled send taking effect (started in this turn) whose text
     * the rules refuse since it was sent, as send refuses such a draft
     * now: cancelled, nothing handed over nor held, the refusal kept
     * for the person who scheduled it */
    if (c.started_at == now
        && inbox_campaign_sendable(&c, &refusal) != INBOX_OK)
    {
        status = inbox_sqlite_campaign_cancel_left(conn, id, err);

        if (status == INBOX_OK) {
            status = inbox_sqlite_campaign_set(conn, id,
                                               INBOX_CAMPAIGN_CANCELLED,
                                               INBOX_PAUSE_NONE,
                                               INBOX_CANCEL_TEXT_REFUSED,
                                               refusal.message, now, err);
            result->refused++;
        }

        goto done;
    }

    if (limit > 0) {
        status = inbox_sqlite_campaign_ahead(conn, id, now, &ahead, err);
        if (status != INBOX_OK) {
            goto done;
        }

        if (ahead >= INBOX_CAMPAIGN_AHEAD_MAX) {
            /* more when some have left (not done: they are its own) */
            result->outbox_full++;
            goto done;
        }

        room = INBOX_CAMPAIGN_AHEAD_MAX - ahead;
        if (limit > room) {
            limit = room;
        }
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CAMPAIGN_ORG,
        "SELECT timezone, quiet_start, quiet_end, billing_active,"
        " credits_balance,"
        " (SELECT e164 FROM numbers WHERE org_id = ?1 ORDER BY id LIMIT 1),"
        " plan FROM orgs WHERE id = ?1", err);
    if (stmt == NULL) {
        status = err->code;
        goto done;
    }

    sqlite3_bind_int64(stmt, 1, org);

    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        inbox_sqlite_column_copy(stmt, 0, s.timezone, sizeof(s.timezone));
        s.quiet_start = sqlite3_column_int(stmt, 1);
        s.quiet_end = sqlite3_column_int(stmt, 2);
        s.billing_active = sqlite3_column_int(stmt, 3);
        s.balance = sqlite3_column_int64(stmt, 4);
        inbox_sqlite_column_copy(stmt, 5, s.first, sizeof(s.first));
        s.plan = inbox_plan_stored(
                     (const char *) sqlite3_column_text(stmt, 6));
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_ROW) {
        status = inbox_sqlite_fail(conn, rc == SQLITE_DONE ? SQLITE_INTERNAL
                                                          : rc, err);
        goto done;
    }

    due = calloc(limit > 0 ? limit : 1, sizeof(inbox_sqlite_due_t));
    if (due == NULL) {
        status = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        goto done;
    }

    status = inbox_campaign_messages(&c, media_base, &messages, err);
    if (status != INBOX_OK) {
        goto done;
    }

    /* each with the number its contact last texted while the
     * organization has it, which its message goes from as a reply's
     * would (inbox_reply_from) */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CAMPAIGN_DUE,
        "SELECT r.id, ct.opted_out, ct.timezone,"
        " (SELECT cv.id FROM conversations cv WHERE cv.contact_id = ct.id),"
        " ct.phone,"
        " (SELECT n.e164 FROM conversations cv"
        "   JOIN numbers n ON n.e164 = cv.number AND n.org_id = cv.org_id"
        "   WHERE cv.contact_id = ct.id)"
        " FROM campaign_recipients r JOIN contacts ct ON ct.id = r.contact_id"
        " WHERE r.campaign_id = ?1"
        " AND r.state IN ('due', 'waiting_quiet_hours') AND r.due_at <= ?2"
        " AND r.message_id IS NULL"
        " ORDER BY r.due_at, r.id LIMIT ?3", err);
    if (stmt == NULL) {
        status = err->code;
        goto done;
    }

    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_int64(stmt, 2, now);
    sqlite3_bind_int64(stmt, 3, (int64_t) limit);

    n = 0;

    while (n < limit && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        due[n].id = sqlite3_column_int64(stmt, 0);
        due[n].opted_out = sqlite3_column_int(stmt, 1);
        inbox_sqlite_column_copy(stmt, 2, due[n].timezone,
                                 sizeof(due[n].timezone));
        due[n].conversation = sqlite3_column_int64(stmt, 3);
        inbox_sqlite_column_copy(stmt, 4, due[n].phone,
                                 sizeof(due[n].phone));
        inbox_sqlite_column_copy(stmt, 5, due[n].kept,
                                 sizeof(due[n].kept));
        n++;
    }

    inbox_sqlite_done(stmt);

    if (n < limit && rc != SQLITE_DONE) {
        status = inbox_sqlite_fail(conn, rc, err);
        goto done;
    }

    for (i = 0; i < n; i++) {
        msg = inbox_campaign_message_to(&messages, due[i].phone);
        from = inbox_reply_from(due[i].kept, s.first);
        charge = inbox_plan_charge(s.plan, msg->credits);

        if (due[i].opted_out) {
            /* opted out since sending began: nothing more */
            status = inbox_sqlite_recipient_set(conn, due[i].id,
                                                INBOX_RECIPIENT_SUPPRESSED,
                                                now, err);
            result->suppressed++;
            (*budget)--;

        } else if (inbox_quiet_hours(due[i].timezone, s.timezone,
                                     s.quiet_start, s.quiet_end, now,
                                     &opens))
        {
            status = inbox_sqlite_recipient_set(conn, due[i].id,
                                                INBOX_RECIPIENT_WAITING,
                                                opens, err);
            result->waiting++;
            (*budget)--;

        } else if (!s.billing_active) {
            why = INBOX_PAUSE_BILLING_INACTIVE;
            break;

        } else if (s.balance < (int64_t) charge) {
            why = INBOX_PAUSE_INSUFFICIENT_CREDITS;
            break;

        } else if (from[0] == '\0' || due[i].conversation == 0) {
            /* no number to send from: the campaign waits for one */
            break;

        } else {
            memset(&r, 0, sizeof(inbox_reply_result_t));
            inbox_sqlite_format_id(due[i].conversation, conversation);

            status = inbox_sqlite_conversation_load(conn, org,
                                                    due[i].conversation,
                                                    &r.conversation, err);
            if (status == INBOX_OK) {
                memset(&reply, 0, sizeof(inbox_reply_t));
                reply.conversation_id = conversation;
                reply.body = msg->body;
                reply.media_count = msg->media_count;
                reply.media = msg->media;
                reply.segments = msg->segments;
                reply.credits = charge;

                status = inbox_sqlite_reply_store(conn, org, &reply, "", 0,
                                                  id, kind, from, now, &r,
                                                  &handed[*nhanded].change,
                                                  err);
                handed[*nhanded].org = org;
                (*nhanded)++;
            }

            if (status == INBOX_OK) {
                stmt = inbox_sqlite_stmt(conn, INBOX_SQL_RECIPIENT_HANDED,
                    "UPDATE campaign_recipients SET state = 'queued',"
                    " message_id = ?2, sent_at = ?3 WHERE id = ?1", err);

                if (stmt == NULL) {
                    status = err->code;

                } else {
                    sqlite3_bind_int64(stmt, 1, due[i].id);
                    sqlite3_bind_int64(stmt, 2,
                                       strtoll(r.message.id, NULL, 10));
                    sqlite3_bind_int64(stmt, 3, now);

                    if (!inbox_sqlite_step_done(stmt)) {
                        status = inbox_sqlite_fail(conn,
                                     sqlite3_errcode(conn->db), err);
                    }
                }
            }

            /* the campaign names a contact's thread from now on: no
             * longer deletable, even if cancelled (its first time only) */
            if (status == INBOX_OK && c.handed_at == 0) {
                stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CAMPAIGN_HANDED,
                    "UPDATE campaigns SET handed_at = ?2"
                    " WHERE id = ?1 AND handed_at IS NULL", err);

                if (stmt == NULL) {
                    status = err->code;

                } else {
                    sqlite3_bind_int64(stmt, 1, id);
                    sqlite3_bind_int64(stmt, 2, now);

                    if (inbox_sqlite_step_done(stmt)) {
                        c.handed_at = now;

                    } else {
                        status = inbox_sqlite_fail(conn,
                                     sqlite3_errcode(conn->db), err);
                    }
                }
            }

            inbox_reply_result_free(&r);

            s.balance -= charge;
            result->handed++;
            (*budget)--;
        }

        if (status != INBOX_OK) {
            goto done;
        }
    }

    /* took all its share, its outbox not full: more may be due, for
     * what the others leave */
    *more = (why == INBOX_PAUSE_NONE && i == n && n == limit && limit > 0
             && limit < room);

    /* took all the room it had: its share is full now, and it gets more
     * as its messages leave, not at the next look a second away */
    if (why == INBOX_PAUSE_NONE && i == n && n == limit && limit > 0
        && limit == room)
    {
        result->outbox_full++;
    }

    to = c.status;

    if (why != INBOX_PAUSE_NONE) {
        (void) inbox_campaign_pause_for(&to, &c.paused_reason, why);
        result->paused++;

        status = inbox_sqlite_campaign_set(conn, id, to, c.paused_reason,
                                           INBOX_CANCEL_NONE, NULL, now,
                                           err);
        goto done;
    }

    /* done when nothing is left due or waiting, nor in the outbox: until
     * its last message left it can still be paused or cancelled (the
     * outbox is short: the entries not sent yet) */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CAMPAIGN_LEFT,
        "SELECT n_due + n_waiting_quiet_hours"
        " + EXISTS (SELECT 1 FROM outbox o"
        "   JOIN messages m ON m.id = o.message_id"
        "   WHERE o.priority = ?2 AND m.campaign_id = ?1)"
        " FROM campaigns WHERE id = ?1",
        err);
    if (stmt == NULL) {
        status = err->code;
        goto done;
    }

    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_int(stmt, 2, INBOX_OUTBOX_BULK);

    rc = sqlite3_step(stmt);
    left = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    inbox_sqlite_done(stmt);

    if (rc != SQLITE_ROW) {
        status = inbox_sqlite_fail(conn, rc, err);
        goto done;
    }

    if (left == 0) {
        result->finished++;
        status = inbox_sqlite_campaign_set(conn, id, INBOX_CAMPAIGN_DONE,
                                           INBOX_PAUSE_NONE,
                                           INBOX_CANCEL_NONE, NULL, now,
                                           err);

    } else if (!s.billing_active) {
        /* all of it handed over when billing stopped: what the outbox
         * holds waits parked (inbox_outbox_billing), and the campaign
         * says why rather than "sending" with nothing moving */
        (void) inbox_campaign_pause_for(&to, &c.paused_reason,
                                        INBOX_PAUSE_BILLING_INACTIVE);
        result->paused++;
        status = inbox_sqlite_campaign_set(conn, id, to, c.paused_reason,
                                           INBOX_CANCEL_NONE, NULL, now,
                                           err);
    }

done:

    free(due);
    inbox_campaign_messages_free(&messages);
    inbox_campaign_free(&c);

    return status;
}


/*
 * The campaign's messages waiting in the outbox: due (for their number's
 * rate) or claimed by the sender; not those a pause parked nor those put
 * off (a retry's backoff, quiet hours), which leave nothing to wait for
 * now.  The outbox is short: what is not sent yet.
 */
static inbox_status_t
inbox_sqlite_campaign_ahead(inbox_sqlite_conn_t *conn, int64_t id,
    int64_t now, size_t *ahead, inbox_error_t *err)
{
    int            rc;
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CAMPAIGN_AHEAD,
        "SELECT count(*) FROM outbox o JOIN messages m ON m.id = o.message_id"
        " WHERE o.priority = ?2 AND m.campaign_id = ?1"
        " AND (o.due_at <= ?3 OR o.lease_until IS NOT NULL)", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_int(stmt, 2, INBOX_OUTBOX_BULK);
    sqlite3_bind_int64(stmt, 3, now);

    rc = sqlite3_step(stmt);
    *ahead = rc == SQLITE_ROW ? (size_t) sqlite3_column_int64(stmt, 0) : 0;
    inbox_sqlite_done(stmt);

    if (rc != SQLITE_ROW) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    return INBOX_OK;
}


static inbox_status_t
inbox_sqlite_recipient_set(inbox_sqlite_conn_t *conn, int64_t id,
    inbox_recipient_state_t state, int64_t due_at, inbox_error_t *err)
{
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_RECIPIENT_SET,
        "UPDATE campaign_recipients SET state = ?2, due_at = ?3"
        " WHERE id = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, id);
    inbox_sqlite_bind_text(stmt, 2, inbox_recipient_state_name(state));
    sqlite3_bind_int64(stmt, 3, due_at);

    if (!inbox_sqlite_step_done(stmt)) {
        return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
    }

    return INBOX_OK;
}


/* A campaign's status, pause reason and cancel reason (with a refused
 * text's refusal) now; started_at and finished_at are set the first time
 * it sends and when it ends. */
static inbox_status_t
inbox_sqlite_campaign_set(inbox_sqlite_conn_t *conn, int64_t id,
    inbox_campaign_status_t status, inbox_pause_reason_t reason,
    inbox_cancel_reason_t cancelled, const char *cancelled_message,
    int64_t now, inbox_error_t *err)
{
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CAMPAIGN_SET,
        "UPDATE campaigns SET status = ?2, paused_reason = ?3,"
        " cancelled_reason = ?5, cancelled_message = ?6,"
        " started_at = CASE WHEN ?2 = 'sending' AND started_at IS NULL"
        "   THEN ?4 ELSE started_at END,"
        " finished_at = CASE WHEN ?2 IN ('done', 'cancelled')"
        "   THEN coalesce(finished_at, ?4) ELSE finished_at END"
        " WHERE id = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, id);
    inbox_sqlite_bind_text(stmt, 2, inbox_campaign_status_name(status));
    inbox_sqlite_bind_text(stmt, 3, inbox_pause_reason_name(reason));
    sqlite3_bind_int64(stmt, 4, now);
    inbox_sqlite_bind_text(stmt, 5, inbox_cancel_reason_name(cancelled));
    inbox_sqlite_bind_text(stmt, 6, cancelled_message);

    if (!inbox_sqlite_step_done(stmt)) {
        return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
    }

    /* paused so that its messages in the outbox wait (a person's pause,
     * the carrier's refusal of its number): they wait holding nothing,
     * their credits free for replies until it resumes (outbox.h) */
    if (status == INBOX_CAMPAIGN_PAUSED
        && inbox_campaign_outbox(status, reason) == INBOX_OUTBOX_WAITS)
    {
        return inbox_sqlite_outbox_park_campaign(conn, id, now, err);
    }

    return INBOX_OK;
}


/*
 * The campaign of message, its status and why it is paused (*id 0: the
 * message is no campaign's), for a pause to decide on.
 */
static inbox_status_t
inbox_sqlite_campaign_of_message(inbox_sqlite_conn_t *conn,
    int64_t message, int64_t *id, inbox_campaign_status_t *status,
    inbox_pause_reason_t *why, inbox_error_t *err)
{
    int            rc;
    const char    *text;
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CAMPAIGN_OF_MESSAGE,
        "SELECT c.id, c.status, c.paused_reason FROM messages m"
        " JOIN campaigns c ON c.id = m.campaign_id WHERE m.id = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, message);

    rc = sqlite3_step(stmt);
    *id = 0;
    *status = INBOX_CAMPAIGN_DONE;
    *why = INBOX_PAUSE_NONE;

    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(stmt, 0);

        text = (const char *) sqlite3_column_text(stmt, 1);
        if (text == NULL || inbox_campaign_status_parse(text, status) != 0)
        {
            *status = INBOX_CAMPAIGN_DONE;
        }

        text = (const char *) sqlite3_column_text(stmt, 2);
        if (text == NULL || inbox_pause_reason_parse(text, why) != 0) {
            *why = INBOX_PAUSE_NONE;
        }
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    return INBOX_OK;
}


inbox_status_t
inbox_sqlite_campaign_credits_short(inbox_sqlite_conn_t *conn,
    int64_t message, int64_t now, inbox_error_t *err)
{
    int64_t                  id;
    inbox_status_t           rc;
    inbox_pause_reason_t     why;
    inbox_campaign_status_t  status;

    rc = inbox_sqlite_campaign_of_message(conn, message, &id, &status, &why,
                                          err);

    if (rc != INBOX_OK || id == 0
        || inbox_campaign_pause_for(&status, &why,
                                    INBOX_PAUSE_INSUFFICIENT_CREDITS) != 0)
    {
        return rc;
    }

    return inbox_sqlite_campaign_set(conn, id, status, why,
                                     INBOX_CANCEL_NONE, NULL, now, err);
}


inbox_status_t
inbox_sqlite_campaign_carrier_refused(inbox_sqlite_conn_t *conn,
    int64_t message, const char *code, int64_t now, inbox_error_t *err)
{
    int64_t                  id;
    sqlite3_stmt            *stmt;
    inbox_status_t           rc;
    inbox_pause_reason_t     why;
    inbox_campaign_status_t  status;

    rc = inbox_sqlite_campaign_of_message(conn, message, &id, &status, &why,
                                          err);

    if (rc != INBOX_OK || id == 0
        || inbox_campaign_pause_carrier(&status, &why) != 0)
    {
        return rc;
    }

    /* the message's sending number refused and the carrier's code, for
     * the person who fixes its settings (read only while paused so) */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CAMPAIGN_REFUSED_NUMBER,
        "UPDATE campaigns SET paused_number ="
        "  (SELECT NULLIF(from_e164, '') FROM messages WHERE id = ?2),"
        " paused_error_code = ?3 WHERE id = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_int64(stmt, 2, message);
    inbox_sqlite_bind_text(stmt, 3, code != NULL && code[0] != '\0'
                                        ? code : NULL);

    if (!inbox_sqlite_step_done(stmt)) {
        return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
    }

    return inbox_sqlite_campaign_set(conn, id, status, why,
                                     INBOX_CANCEL_NONE, NULL, now, err);
}


/* replies and poll answers, inside ingest */

/*
 * The join and WHERE of a recipient r handed its message within the
 * answer window before the reply at ?2 (r.sent_at from ?3,
 * inbox_poll_answer_since: the bound that reads only the contact's
 * recent rows of campaign_recipients_by_contact), whose message m the
 * carrier took by then (submitted_at: accepted, or an unknown outcome,
 * which it may have) and that did not fail since.  One still in the
 * outbox (the sender behind, a retry's backoff), cancelled, withdrawn or
 * failed was never read.  The unary + keeps SQLite from reading messages
 * by their submitted_at index instead.
 */
#define INBOX_SQLITE_RECEIVED                                               \
    " JOIN messages m ON m.id = r.message_id"                               \
    " WHERE r.contact_id = ?1 AND r.sent_at BETWEEN ?3 AND ?2"              \
    " AND r.state IN ('queued', 'sent', 'delivered')"                       \
    " AND +m.submitted_at <= ?2"


static inbox_status_t inbox_sqlite_poll_try(inbox_sqlite_conn_t *conn,
    int64_t recipient, int64_t campaign, int64_t message, int64_t at,
    const char *body, int *taken, inbox_error_t *err);


/* The contact's polls are read first (however many campaigns came
 * since): the reply answers the newest whose options it names, and that
 * poll alone counts it replied.  Any other text replies to the newest
 * campaign message the carrier took, of any kind.  One text counts on
 * one campaign at most. */
inbox_status_t
inbox_sqlite_campaign_reply(inbox_sqlite_conn_t *conn, int64_t contact,
    int64_t message, int64_t at, const char *body, inbox_error_t *err)
{
    int             rc, taken;
    size_t          i, n;
    int64_t         recipients[INBOX_POLL_ANSWER_POLLS_MAX];
    int64_t         polls[INBOX_POLL_ANSWER_POLLS_MAX];
    sqlite3_stmt   *stmt;
    inbox_status_t  status;

    /* the polls, newest first */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CAMPAIGN_REPLY_POLLS,
        "SELECT r.id, r.campaign_id"
        " FROM campaign_recipients r JOIN campaigns c ON c.id = r.campaign_id"
        INBOX_SQLITE_RECEIVED " AND c.kind = 'poll'"
        " ORDER BY r.sent_at DESC, r.id DESC LIMIT ?4", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, contact);
    sqlite3_bind_int64(stmt, 2, at);
    sqlite3_bind_int64(stmt, 3, inbox_poll_answer_since(at));
    sqlite3_bind_int(stmt, 4, INBOX_POLL_ANSWER_POLLS_MAX);

    n = 0;

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        recipients[n] = sqlite3_column_int64(stmt, 0);
        polls[n++] = sqlite3_column_int64(stmt, 1);
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    taken = 0;
    status = INBOX_OK;

    for (i = 0; i < n && !taken && status == INBOX_OK; i++) {
        status = inbox_sqlite_poll_try(conn, recipients[i], polls[i],
                                       message, at, body, &taken, err);
    }

    if (status != INBOX_OK || taken) {
        return status;
    }

    /* no answer: the newest, of any kind, is the campaign message
     * replied to */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CAMPAIGN_REPLIED,
        "UPDATE campaign_recipients SET replied_at = ?2"
        " WHERE id = (SELECT r.id FROM campaign_recipients r"
        INBOX_SQLITE_RECEIVED
        "   ORDER BY r.sent_at DESC, r.id DESC LIMIT 1)"
        " AND replied_at IS NULL", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, contact);
    sqlite3_bind_int64(stmt, 2, at);
    sqlite3_bind_int64(stmt, 3, inbox_poll_answer_since(at));

    if (!inbox_sqlite_step_done(stmt)) {
        return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
    }

    return INBOX_OK;
}


/* The reply as an answer to one poll: *taken 1 when it names one of its
 * options; then the recipient replied (the poll it answers, whichever
 * campaign came since), and the answer recorded unless a newer one
 * is. */
static inbox_status_t
inbox_sqlite_poll_try(inbox_sqlite_conn_t *conn, int64_t recipient,
    int64_t campaign, int64_t message, int64_t at, const char *body,
    int *taken, inbox_error_t *err)
{
    int            rc, oom;
    size_t         n;
    unsigned       answer;
    sqlite3_stmt  *stmt;
    const char    *options[INBOX_POLL_OPTIONS_MAX];
    char          *texts[INBOX_POLL_OPTIONS_MAX];

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CAMPAIGN_OPTIONS,
        "SELECT text FROM campaign_options WHERE campaign_id = ?1"
        " ORDER BY idx", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, campaign);

    n = 0;
    oom = 0;

    while (n < INBOX_POLL_OPTIONS_MAX
           && (rc = sqlite3_step(stmt)) == SQLITE_ROW)
    {
        texts[n] = inbox_sqlite_column_strdup(stmt, 0, &oom);
        options[n] = texts[n] != NULL ? texts[n] : "";
        n++;
    }

    inbox_sqlite_done(stmt);

    if (oom) {
        while (n > 0) {
            free(texts[--n]);
        }

        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    answer = inbox_poll_answer(body, strlen(body), options, n);

    while (n > 0) {
        free(texts[--n]);
    }

    *taken = answer != 0;

    if (answer == 0) {
        return INBOX_OK;
    }

    /* the poll answered is the one replied to */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_POLL_REPLIED,
        "UPDATE campaign_recipients SET replied_at = ?2"
        " WHERE id = ?1 AND replied_at IS NULL", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, recipient);
    sqlite3_bind_int64(stmt, 2, at);

    if (!inbox_sqlite_step_done(stmt)) {
        return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
    }

    /* the last answer counts: one that arrives late for an earlier time
     * does not replace a newer one */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CAMPAIGN_ANSWER,
        "UPDATE campaign_recipients SET answer = ?2, answered_at = ?3,"
        " answer_message_id = ?4"
        " WHERE id = ?1 AND (answered_at IS NULL OR answered_at <= ?3)",
        err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, recipient);
    sqlite3_bind_int(stmt, 2, (int) answer);
    sqlite3_bind_int64(stmt, 3, at);
    sqlite3_bind_int64(stmt, 4, message);

    if (!inbox_sqlite_step_done(stmt)) {
        return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
    }

    return INBOX_OK;
}


/* polls' results, contacts' campaigns */

inbox_status_t
inbox_sqlite_poll_results(inbox_store_t *store, const char *org_id,
    const char *poll_id, const char *cursor, unsigned limit,
    inbox_poll_results_t *results, inbox_error_t *err)
{
    int                     rc, oom;
    int64_t                 org, id, at, after, last_at, last_id;
    sqlite3_stmt           *stmt;
    inbox_status_t          status;
    inbox_error_t           fallback;
    inbox_sqlite_conn_t    *conn;
    inbox_poll_response_t  *p;

    if (err == NULL) {
        err = &fallback;
    }

    /* the newest first: after the newest there could be */
    at = INT64_MAX;
    after = INT64_MAX;

    if (cursor != NULL && cursor[0] != '\0'
        && inbox_sqlite_cursor_decode(cursor, &at, &after) != 0)
    {
        return inbox_error_cursor(err);
    }

    status = inbox_sqlite_campaign_ids(org_id, poll_id, &org, &id, err);
    if (status != INBOX_OK) {
        return inbox_error_not_found(err, "poll");
    }

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        return err->code;
    }

    status = inbox_sqlite_begin_read(conn, err);
    if (status != INBOX_OK) {
        return status;
    }

    status = inbox_sqlite_campaign_load(conn, org, id, &results->poll, err);

    /* a poll's path: none there, or a campaign's id, is no such poll */
    if (status == INBOX_ERR_NOT_FOUND
        || (status == INBOX_OK
            && results->poll.kind != INBOX_CAMPAIGN_KIND_POLL))
    {
        status = inbox_error_not_found(err, "poll");
    }

    if (status != INBOX_OK) {
        goto done;
    }

    /* the tally came with the poll (its row's counts) */
    results->responses = calloc(limit, sizeof(inbox_poll_response_t));
    if (results->responses == NULL) {
        status = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        goto done;
    }

    /* one more than the page, which tells whether older ones exist; the
     * index campaign_recipients_answers walked from the keyset on */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_POLL_RESPONSES,
        "SELECT ct.id, ct.phone, ct.name, r.answer, r.answered_at,"
        " r.answer_message_id, r.id FROM campaign_recipients r"
        " JOIN contacts ct ON ct.id = r.contact_id"
        " WHERE r.campaign_id = ?1 AND r.answer IS NOT NULL"
        " AND (r.answered_at, r.id) < (?2, ?3)"
        " ORDER BY r.answered_at DESC, r.id DESC LIMIT ?4", err);
    if (stmt == NULL) {
        status = err->code;
        goto done;
    }

    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_int64(stmt, 2, at);
    sqlite3_bind_int64(stmt, 3, after);
    sqlite3_bind_int64(stmt, 4, (int64_t) limit + 1);

    oom = 0;
    last_at = 0;
    last_id = 0;

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (results->count == limit) {
            inbox_sqlite_cursor_encode(last_at, last_id,
                                       results->next_cursor);
            continue;
        }

        last_at = sqlite3_column_int64(stmt, 4);
        last_id = sqlite3_column_int64(stmt, 6);
        p = &results->responses[results->count++];

        inbox_sqlite_format_id(sqlite3_column_int64(stmt, 0), p->contact_id);
        inbox_sqlite_column_copy(stmt, 1, p->phone, sizeof(p->phone));
        p->name = inbox_sqlite_column_strdup(stmt, 2, &oom);
        p->answer = (unsigned) sqlite3_column_int(stmt, 3);
        p->answered_at = sqlite3_column_int64(stmt, 4);
        inbox_sqlite_format_id(sqlite3_column_int64(stmt, 5), p->message_id);
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        status = inbox_sqlite_fail(conn, rc, err);

    } else if (oom) {
        status = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

done:

    inbox_sqlite_rollback(conn);

    if (status != INBOX_OK) {
        inbox_poll_results_free(results);
    }

    return status;
}


/* A place in a contact's list of sends or answers (campaign.h): its id,
 * "" before every id; 0 or -1 for an id no list gave. */
static int
inbox_sqlite_send_after(const char *s, int64_t *id)
{
    if (s[0] == '\0') {
        *id = 0;
        return 0;
    }

    return inbox_sqlite_parse_id(s, id);
}


inbox_status_t
inbox_sqlite_contact_campaigns(inbox_store_t *store, const char *org_id,
    const char *contact_id, const inbox_contact_campaigns_after_t *after,
    unsigned limit, inbox_contact_campaigns_t *list, inbox_error_t *err)
{
    int                        rc, oom;
    size_t                     cap;
    int64_t                    org, id, sent_at, sent_id, answered_at;
    int64_t                    answered_id;
    const char                *text;
    sqlite3_stmt              *stmt;
    inbox_status_t             status;
    inbox_error_t              fallback;
    inbox_sqlite_conn_t       *conn;
    inbox_contact_poll_t      *p;
    inbox_contact_campaign_t  *c;

    if (err == NULL) {
        err = &fallback;
    }

    if (inbox_sqlite_parse_id(org_id, &org) != 0
        || inbox_sqlite_parse_id(contact_id, &id) != 0)
    {
        return inbox_error_not_found(err, "contact");
    }

    /* from the newest: before (INT64_MAX, INT64_MAX) in the keyset */
    sent_at = INT64_MAX;
    sent_id = INT64_MAX;
    answered_at = INT64_MAX;
    answered_id = INT64_MAX;

    if (after != NULL) {
        sent_at = after->sent_at;
        answered_at = after->answered_at;

        if (inbox_sqlite_send_after(after->sent_id, &sent_id) != 0
            || inbox_sqlite_send_after(after->answered_id, &answered_id)
               != 0)
        {
            return inbox_error_cursor(err);
        }
    }

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        return err->code;
    }

    status = inbox_sqlite_begin_read(conn, err);
    if (status != INBOX_OK) {
        return status;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CONTACT_OWNED,
        "SELECT 1 FROM contacts WHERE id = ?1 AND org_id = ?2", err);
    if (stmt == NULL) {
        status = err->code;
        goto done;
    }

    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_int64(stmt, 2, org);

    rc = sqlite3_step(stmt);
    inbox_sqlite_done(stmt);

    if (rc != SQLITE_ROW) {
        status = rc == SQLITE_DONE
                 ? inbox_error_not_found(err, "contact")
                 : inbox_sqlite_fail(conn, rc, err);
        goto done;
    }

    /* a page of campaign_recipients_by_contact, from its place on */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CONTACT_CAMPAIGNS,
        "SELECT c.id, c.kind, c.name, r.sent_at, m.status, r.state, r.id"
        " FROM campaign_recipients r JOIN campaigns c ON c.id = r.campaign_id"
        " LEFT JOIN messages m ON m.id = r.message_id"
        " WHERE r.contact_id = ?1 AND r.sent_at IS NOT NULL"
        " AND (r.sent_at, r.id) < (?3, ?4)"
        " ORDER BY r.sent_at DESC, r.id DESC LIMIT ?2", err);
    if (stmt == NULL) {
        status = err->code;
        goto done;
    }

    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_int(stmt, 2, (int) limit);
    sqlite3_bind_int64(stmt, 3, sent_at);
    sqlite3_bind_int64(stmt, 4, sent_id);

    oom = 0;
    cap = 0;

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW && !oom) {
        if (list->campaign_count == cap) {
            cap = cap ? cap * 2 : 8;
            c = realloc(list->campaigns, cap * sizeof(*c));

            if (c == NULL) {
                oom = 1;
                break;
            }

            list->campaigns = c;
        }

        c = &list->campaigns[list->campaign_count++];
        memset(c, 0, sizeof(*c));

        inbox_sqlite_format_id(sqlite3_column_int64(stmt, 0), c->id);
        text = (const char *) sqlite3_column_text(stmt, 1);
        (void) inbox_campaign_kind_parse(text, &c->kind);
        c->name = inbox_sqlite_column_strdup(stmt, 2, &oom);
        c->sent_at = sqlite3_column_int64(stmt, 3);
        inbox_sqlite_column_copy(stmt, 4, c->status, sizeof(c->status));
        text = (const char *) sqlite3_column_text(stmt, 5);
        (void) inbox_recipient_state_parse(text, &c->state);
        inbox_sqlite_format_id(sqlite3_column_int64(stmt, 6), c->send_id);
    }

    inbox_sqlite_done(stmt);

    if (oom || (rc != SQLITE_DONE && rc != SQLITE_ROW)) {
        status = oom ? inbox_error_set(err, INBOX_ERR_INTERNAL,
                                       "Out of memory.")
                     : inbox_sqlite_fail(conn, rc, err);
        goto done;
    }

    /* a page of campaign_recipients_answered (migration 47), the
     * contact's answers only, from its place on */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CONTACT_POLLS,
        "SELECT c.id, c.question, r.answer, o.text, r.answered_at, r.id"
        " FROM campaign_recipients r JOIN campaigns c ON c.id = r.campaign_id"
        " JOIN campaign_options o ON o.campaign_id = c.id"
        "   AND o.idx = r.answer - 1"
        " WHERE r.contact_id = ?1 AND r.answer IS NOT NULL"
        " AND (r.answered_at, r.id) < (?3, ?4)"
        " ORDER BY r.answered_at DESC, r.id DESC LIMIT ?2", err);
    if (stmt == NULL) {
        status = err->code;
        goto done;
    }

    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_int(stmt, 2, (int) limit);
    sqlite3_bind_int64(stmt, 3, answered_at);
    sqlite3_bind_int64(stmt, 4, answered_id);

    cap = 0;

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW && !oom) {
        if (list->poll_count == cap) {
            cap = cap ? cap * 2 : 8;
            p = realloc(list->polls, cap * sizeof(*p));

            if (p == NULL) {
                oom = 1;
                break;
            }

            list->polls = p;
        }

        p = &list->polls[list->poll_count++];
        memset(p, 0, sizeof(*p));

        inbox_sqlite_format_id(sqlite3_column_int64(stmt, 0), p->poll_id);
        p->question = inbox_sqlite_column_strdup(stmt, 1, &oom);
        p->answer = (unsigned) sqlite3_column_int(stmt, 2);
        p->answer_text = inbox_sqlite_column_strdup(stmt, 3, &oom);
        p->answered_at = sqlite3_column_int64(stmt, 4);
        inbox_sqlite_format_id(sqlite3_column_int64(stmt, 5), p->send_id);
    }

    inbox_sqlite_done(stmt);

    if (oom || (rc != SQLITE_DONE && rc != SQLITE_ROW)) {
        status = oom ? inbox_error_set(err, INBOX_ERR_INTERNAL,
                                       "Out of memory.")
                     : inbox_sqlite_fail(conn, rc, err);
    }

done:

    inbox_sqlite_rollback(conn);

    if (status != INBOX_OK) {
        inbox_contact_campaigns_free(list);
    }

    return status;
}


/* reading a campaign */

inbox_status_t
inbox_sqlite_campaign_load(inbox_sqlite_conn_t *conn, int64_t org,
    int64_t id, inbox_campaign_t *c, inbox_error_t *err)
{
    int                      rc, oom, i;
    size_t                   n;
    const char              *text;
    sqlite3_stmt            *stmt;
    inbox_media_t           *m;
    inbox_recipient_state_t  state;

    memset(c, 0, sizeof(inbox_campaign_t));

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CAMPAIGN_GET,
                             INBOX_SQLITE_CAMPAIGN_SELECT, err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_int64(stmt, 2, org);

    rc = sqlite3_step(stmt);

    if (rc != SQLITE_ROW) {
        inbox_sqlite_done(stmt);

        return rc == SQLITE_DONE
               ? inbox_error_not_found(err, "campaign")
               : inbox_sqlite_fail(conn, rc, err);
    }

    oom = 0;

    inbox_sqlite_format_id(sqlite3_column_int64(stmt, 0), c->id);
    inbox_sqlite_format_id(org, c->org_id);
    text = (const char *) sqlite3_column_text(stmt, 1);
    (void) inbox_campaign_kind_parse(text, &c->kind);
    c->name = inbox_sqlite_column_strdup(stmt, 2, &oom);
    c->body = inbox_sqlite_column_strdup(stmt, 3, &oom);
    c->question = inbox_sqlite_column_strdup(stmt, 4, &oom);
    c->audience_all = sqlite3_column_int(stmt, 5);
    c->segments = (unsigned) sqlite3_column_int(stmt, 6);
    c->credits = (unsigned) sqlite3_column_int(stmt, 7);
    text = (const char *) sqlite3_column_text(stmt, 8);
    (void) inbox_campaign_status_parse(text, &c->status);
    text = (const char *) sqlite3_column_text(stmt, 9);
    (void) inbox_pause_reason_parse(text, &c->paused_reason);
    c->send_at = sqlite3_column_int64(stmt, 10);
    c->created_at = sqlite3_column_int64(stmt, 11);
    c->started_at = sqlite3_column_int64(stmt, 12);
    c->finished_at = sqlite3_column_int64(stmt, 13);
    text = (const char *) sqlite3_column_text(stmt,
                                              INBOX_SQLITE_CAMPAIGN_CANCELLED);
    (void) inbox_cancel_reason_parse(text, &c->cancelled_reason);
    c->cancelled_message = inbox_sqlite_column_strdup(stmt,
                               INBOX_SQLITE_CAMPAIGN_CANCELLED + 1, &oom);

    for (i = 0; i <= (int) INBOX_RECIPIENT_CANCELLED; i++) {
        state = (inbox_recipient_state_t) i;
        *inbox_campaign_count_of(&c->counts, state)
            += sqlite3_column_int64(stmt, INBOX_SQLITE_CAMPAIGN_COUNTS + i);
    }

    c->counts.audience = sqlite3_column_int64(stmt, 22);
    c->counts.replied = sqlite3_column_int64(stmt, 23);
    c->counts.excluded = sqlite3_column_int64(stmt,
                                              INBOX_SQLITE_CAMPAIGN_EXCLUDED);

    for (i = 0; i < INBOX_POLL_OPTIONS_MAX; i++) {
        c->tally[i] = sqlite3_column_int64(stmt,
                                           INBOX_SQLITE_CAMPAIGN_TALLY + i);
    }

    c->revision = sqlite3_column_int64(stmt, INBOX_SQLITE_CAMPAIGN_REVISION);
    c->handed_at = sqlite3_column_int64(stmt, INBOX_SQLITE_CAMPAIGN_HANDED);
    text = (const char *) sqlite3_column_text(stmt,
                                              INBOX_SQLITE_CAMPAIGN_REFUSED);
    snprintf(c->paused_number, sizeof(c->paused_number), "%s",
             text != NULL ? text : "");
    text = (const char *) sqlite3_column_text(stmt,
                                          INBOX_SQLITE_CAMPAIGN_REFUSED + 1);
    snprintf(c->paused_error_code, sizeof(c->paused_error_code), "%s",
             text != NULL ? text : "");

    inbox_sqlite_done(stmt);

    /* the audience's tags */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CAMPAIGN_TAGS,
        "SELECT tag FROM campaign_tags WHERE campaign_id = ?1 ORDER BY idx",
        err);
    if (stmt == NULL) {
        inbox_campaign_free(c);
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, id);

    while (!oom && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        text = (const char *) sqlite3_column_text(stmt, 0);

        if (text != NULL
            && inbox_tags_add_stored(&c->tags, text, NULL)
               == INBOX_ERR_INTERNAL)
        {
            oom = 1;
        }
    }

    inbox_sqlite_done(stmt);

    /* a poll's options */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CAMPAIGN_OPTIONS,
        "SELECT text FROM campaign_options WHERE campaign_id = ?1"
        " ORDER BY idx", err);
    if (stmt == NULL) {
        inbox_campaign_free(c);
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, id);

    while (!oom && c->option_count < INBOX_POLL_OPTIONS_MAX
           && (rc = sqlite3_step(stmt)) == SQLITE_ROW)
    {
        c->options[c->option_count++] =
            inbox_sqlite_column_strdup(stmt, 0, &oom);
    }

    inbox_sqlite_done(stmt);

    /* its images, ours */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CAMPAIGN_MEDIA,
        "SELECT url, content_type, file, bytes, media_id FROM campaign_media"
        " WHERE campaign_id = ?1 ORDER BY idx", err);
    if (stmt == NULL) {
        inbox_campaign_free(c);
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, id);

    n = 0;

    while (!oom && n < INBOX_MEDIA_MAX
           && (rc = sqlite3_step(stmt)) == SQLITE_ROW)
    {
        if (c->media == NULL) {
            c->media = calloc(INBOX_MEDIA_MAX, sizeof(inbox_media_t));

            if (c->media == NULL) {
                oom = 1;
                break;
            }
        }

        m = &c->media[n++];
        inbox_sqlite_column_copy(stmt, 0, m->url, sizeof(m->url));
        inbox_sqlite_column_copy(stmt, 1, m->content_type,
                                 sizeof(m->content_type));
        inbox_sqlite_column_copy(stmt, 2, m->file, sizeof(m->file));
        m->bytes = sqlite3_column_int64(stmt, 3);
        m->state = INBOX_MEDIA_STORED;

        if (sqlite3_column_type(stmt, 4) != SQLITE_NULL) {
            inbox_sqlite_format_id(sqlite3_column_int64(stmt, 4),
                                   m->upload_id);
        }
    }

    c->media_count = n;
    inbox_sqlite_done(stmt);

    if (oom) {
        inbox_campaign_free(c);
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    return INBOX_OK;
}


/*
 * Opens the write of a move of org_id's campaign_id of kind and reads the
 * campaign into c as it is under the write lock, so that a move that
 * came first wins: INBOX_OK with *conn, c for the caller to free; else
 * nothing open and c holding nothing (ids not ours, the store busy, no
 * such campaign of that kind).
 */
static inbox_status_t
inbox_sqlite_campaign_lock(inbox_store_t *store, const char *org_id,
    const char *campaign_id, inbox_campaign_kind_t kind, int64_t *org,
    int64_t *id, inbox_campaign_t *c, inbox_sqlite_conn_t **conn,
    inbox_error_t *err)
{
    inbox_status_t  status;

    memset(c, 0, sizeof(inbox_campaign_t));

    status = inbox_sqlite_campaign_ids(org_id, campaign_id, org, id, err);
    if (status != INBOX_OK) {
        return status;
    }

    *conn = inbox_sqlite_begin_write(store, err);
    if (*conn == NULL) {
        return err->code;
    }

    status = inbox_campaign_found(inbox_sqlite_campaign_load(*conn, *org,
                                                             *id, c, err),
                                  c, kind, err);
    if (status != INBOX_OK) {
        inbox_campaign_free(c);
        inbox_sqlite_rollback(*conn);
    }

    return status;
}


/* A campaign's id of an organization's; INBOX_ERR_NOT_FOUND for ids no
 * store could have. */
static inbox_status_t
inbox_sqlite_campaign_ids(const char *org_id, const char *campaign_id,
    int64_t *org, int64_t *id, inbox_error_t *err)
{
    if (inbox_sqlite_parse_id(org_id, org) != 0
        || inbox_sqlite_parse_id(campaign_id, id) != 0)
    {
        return inbox_error_not_found(err, "campaign");
    }

    return INBOX_OK;
}


/* The n counts of an audience's statement stmt (NULL: not prepared) for
 * org, of the tags json unless it is NULL (all contacts); 0 each when
 * it fails. */
static inbox_status_t
inbox_sqlite_audience_read(inbox_sqlite_conn_t *conn, sqlite3_stmt *stmt,
    int64_t org, const char *json, int64_t *counts, int n,
    inbox_error_t *err)
{
    int             rc, i;
    inbox_status_t  status;

    for (i = 0; i < n; i++) {
        counts[i] = 0;
    }

    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    if (json != NULL) {
        sqlite3_bind_text(stmt, 2, json, -1, SQLITE_STATIC);
    }

    rc = sqlite3_step(stmt);
    status = INBOX_OK;

    if (rc == SQLITE_ROW) {
        for (i = 0; i < n; i++) {
            counts[i] = sqlite3_column_int64(stmt, i);
        }

    } else {
        status = inbox_sqlite_fail(conn, rc, err);
    }

    inbox_sqlite_done(stmt);

    return status;
}


void
inbox_sqlite_takes_mms(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const char  *phone;

    phone = (const char *) sqlite3_value_text(argv[0]);

    sqlite3_result_int(ctx, phone != NULL && inbox_phone_takes_mms(phone));
}


/* Counted as send would fix them (inbox_sqlite_campaign_fix): the tags
 * as one JSON array, each matched in the column's NOCASE.  The numbers
 * pictures do not reach in a second statement, only when asked: it reads
 * each contact's number. */
inbox_status_t
inbox_sqlite_campaign_audience(inbox_store_t *store, const char *org_id,
    int audience_all, const inbox_tags_t *tags, int64_t *recipients,
    int64_t *suppressed, int64_t *no_mms, inbox_error_t *err)
{
    char                 *json;
    size_t                i;
    int64_t               org, counts[2];
    yajl_gen              g;
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_sqlite_conn_t  *conn;

    *recipients = 0;
    *suppressed = 0;
    json = NULL;

    if (no_mms != NULL) {
        *no_mms = 0;
    }

    if (inbox_sqlite_parse_id(org_id, &org) != 0) {
        return inbox_error_not_found(err, "organization");
    }

    if (!audience_all) {
        g = inbox_json_begin();
        if (g == NULL) {
            return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        }

        yajl_gen_array_open(g);
        for (i = 0; tags != NULL && i < tags->count; i++) {
            inbox_json_string(g, tags->items[i]);
        }
        yajl_gen_array_close(g);

        json = inbox_json_finish(g, NULL);
        if (json == NULL) {
            return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        }
    }

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        free(json);
        return err->code;
    }

    status = inbox_sqlite_begin_read(conn, err);
    if (status != INBOX_OK) {
        free(json);
        return status;
    }

    if (audience_all) {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_AUDIENCE_ALL_COUNT,
            "SELECT count(*), coalesce(sum(opted_out != 0), 0)"
            " FROM contacts WHERE org_id = ?1", err);

    } else {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_AUDIENCE_TAGS_COUNT,
            "SELECT count(*), coalesce(sum(ct.opted_out != 0), 0)"
            " FROM contacts ct WHERE ct.id IN (SELECT t.contact_id"
            "   FROM contact_tags t WHERE t.org_id = ?1"
            "   AND t.tag IN (SELECT value FROM json_each(?2)))", err);
    }

    status = inbox_sqlite_audience_read(conn, stmt, org, json, counts, 2,
                                        err);
    *recipients = counts[0];
    *suppressed = counts[1];

    if (status != INBOX_OK || no_mms == NULL) {
        goto done;
    }

    if (audience_all) {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_AUDIENCE_ALL_NO_MMS,
            "SELECT count(*) FROM contacts WHERE org_id = ?1"
            " AND opted_out = 0 AND NOT inbox_takes_mms(phone)", err);

    } else {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_AUDIENCE_TAGS_NO_MMS,
            "SELECT count(*) FROM contacts ct WHERE ct.id IN"
            " (SELECT t.contact_id FROM contact_tags t WHERE t.org_id = ?1"
            "   AND t.tag IN (SELECT value FROM json_each(?2)))"
            " AND ct.opted_out = 0 AND NOT inbox_takes_mms(ct.phone)", err);
    }

    status = inbox_sqlite_audience_read(conn, stmt, org, json, no_mms, 1,
                                        err);

done:

    inbox_sqlite_rollback(conn);
    free(json);

    return status;
}
