/*
 * The SQLite backend: inbound messages, a batch per transaction.
 *
 * The batch is one BEGIN IMMEDIATE ... COMMIT (group commit: one fsync of
 * the WAL for every message that arrived together), and a message that
 * fails leaves the others stored.  For that the batch first runs without
 * a savepoint per message (a failure before any write needs no undo); only
 * when a message fails after writing is the transaction rolled back and
 * the batch run again with one savepoint per message (see
 * inbox_sqlite_ingest_pass).
 *
 * The batch remembers each organization it stores for: its numbers, its
 * epoch, the org_seq it hands out and its unread total (which the triggers
 * keep in orgs as well).  A message then reads nothing of orgs, and
 * orgs.seq is written once per organization, just before COMMIT.  Its
 * settings are read once, by the first keyword the batch answers for it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inbox/clock.h>
#include <inbox/keywords.h>
#include <inbox/optout.h>
#include "store_sqlite.h"


/* What the batch knows of one organization. */
typedef struct {
    int64_t   id;
    char      id_text[INBOX_ID_MAX];
    char      epoch[INBOX_EPOCH_MAX];
    int64_t   seq;             /* the last org_seq handed out */
    int64_t   unread_total;    /* orgs.unread_total after the last message */
    int64_t   stored_seq;      /* orgs.seq in the database */
    int               has_settings;
    inbox_settings_t  settings;    /* a keyword's answer names them */
} inbox_sqlite_batch_org_t;

typedef struct {
    const char                *e164;    /* a message's to, borrowed */
    inbox_sqlite_batch_org_t  *org;
    int                        carrier_answers_keywords;
} inbox_sqlite_batch_number_t;

/* Both arrays have room for one entry per message of the batch. */
typedef struct {
    inbox_sqlite_conn_t          *conn;
    int64_t                       now;
    int                           wrote;    /* the message wrote a row */
    size_t                        norgs;
    size_t                        nnumbers;
    inbox_sqlite_batch_org_t     *orgs;
    inbox_sqlite_batch_number_t  *numbers;
} inbox_sqlite_batch_t;


static inbox_status_t inbox_sqlite_ingest_pass(inbox_sqlite_batch_t *batch,
    const inbox_inbound_t *msgs, size_t n, inbox_ingest_result_t *results,
    inbox_event_list_t *events, int careful, int *again, inbox_error_t *err);
static inbox_status_t inbox_sqlite_ingest_one(inbox_sqlite_batch_t *batch,
    const inbox_inbound_t *in, inbox_sqlite_batch_org_t **org,
    inbox_ingest_result_t *result, inbox_event_list_t *events,
    inbox_error_t *err);
static inbox_status_t inbox_sqlite_batch_org(inbox_sqlite_batch_t *batch,
    const char *e164, inbox_sqlite_batch_org_t **org,
    int *carrier_answers_keywords, inbox_error_t *err);
static inbox_status_t inbox_sqlite_batch_store_seqs(
    inbox_sqlite_batch_t *batch, inbox_error_t *err);
static inbox_status_t inbox_sqlite_ingest_thread(inbox_sqlite_batch_t *batch,
    int64_t org, const inbox_inbound_t *in, int64_t at,
    inbox_conversation_t *c, int64_t *last_message_at, int *made,
    inbox_error_t *err);
static inbox_status_t inbox_sqlite_ingest_touch(inbox_sqlite_conn_t *conn,
    const inbox_inbound_t *in, int64_t at, int64_t last_message_at,
    int64_t message, inbox_wait_t wait, inbox_conversation_t *c,
    inbox_error_t *err);
static inbox_status_t inbox_sqlite_ingest_opt(inbox_sqlite_batch_t *batch,
    inbox_sqlite_batch_org_t *org, const inbox_inbound_t *in,
    int64_t message, int64_t at, inbox_conversation_t *c,
    inbox_ingest_result_t *result, inbox_contact_record_t *contact,
    inbox_error_t *err);
static inbox_status_t inbox_sqlite_ingest_events(inbox_sqlite_batch_t *batch,
    inbox_sqlite_batch_org_t *org, const inbox_message_t *message,
    const inbox_conversation_t *c, const inbox_contact_record_t *contact,
    unsigned changed, int64_t unread, inbox_event_list_t *events,
    inbox_error_t *err);
static inbox_status_t inbox_sqlite_ingest_answer(inbox_sqlite_batch_t *batch,
    inbox_sqlite_batch_org_t *org, const inbox_inbound_t *in, int64_t at,
    const inbox_conversation_t *c, inbox_ingest_result_t *result,
    inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t inbox_sqlite_ingest_existing(inbox_sqlite_conn_t *conn,
    int64_t org, const inbox_inbound_t *in, inbox_ingest_result_t *result,
    inbox_error_t *err);


inbox_status_t
inbox_sqlite_inbound_ingest(inbox_store_t *store,
    const inbox_inbound_t *msgs, size_t n, inbox_ingest_result_t *results,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int                    again;
    size_t                 i, first;
    inbox_status_t         status;
    inbox_error_t          fallback;
    inbox_event_list_t     unwanted;
    inbox_sqlite_conn_t   *conn;
    inbox_sqlite_batch_t   batch;

    if (err == NULL) {
        err = &fallback;
    }

    /* a caller that pushes nothing may pass no list */
    memset(&unwanted, 0, sizeof(inbox_event_list_t));
    if (events == NULL) {
        events = &unwanted;
    }

    memset(results, 0, n * sizeof(inbox_ingest_result_t));
    memset(&batch, 0, sizeof(inbox_sqlite_batch_t));
    first = events->count;

    if (n == 0) {
        return INBOX_OK;
    }

    batch.orgs = malloc(n * sizeof(inbox_sqlite_batch_org_t));
    batch.numbers = malloc(n * sizeof(inbox_sqlite_batch_number_t));
    if (batch.orgs == NULL || batch.numbers == NULL) {
        status = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        goto failed;
    }

    conn = inbox_sqlite_begin_write(store, err);
    if (conn == NULL) {
        status = err->code;
        goto failed;
    }

    batch.conn = conn;
    batch.now = inbox_now_ms();

    again = 0;
    status = inbox_sqlite_ingest_pass(&batch, msgs, n, results, events, 0,
                                      &again, err);

    if (status == INBOX_OK && again) {
        /*
         * Start again from the beginning.  (A savepoint around the fast
         * pass would keep the write lock, but SQLite then keeps every
         * statement's journal until the batch ends, and walks it at each
         * statement's end: that costs more than it saves.)  Another writer
         * may come in between, so the batch forgets what it read.
         */
        inbox_sqlite_rollback(conn);

        inbox_event_list_truncate(events, first);
        memset(results, 0, n * sizeof(inbox_ingest_result_t));
        batch.norgs = 0;
        batch.nnumbers = 0;

        conn = inbox_sqlite_begin_write(store, err);
        if (conn == NULL) {
            status = err->code;
            goto failed;
        }

        batch.conn = conn;

        status = inbox_sqlite_ingest_pass(&batch, msgs, n, results, events,
                                          1, &again, err);
    }

    if (status != INBOX_OK) {
        goto rollback;
    }

    status = inbox_sqlite_batch_store_seqs(&batch, err);
    if (status != INBOX_OK) {
        goto rollback;
    }

    status = inbox_sqlite_commit(conn, err);
    if (status != INBOX_OK) {
        /* commit failed and rolled back: nothing is durable */
        goto failed;
    }

    free(batch.orgs);
    free(batch.numbers);
    inbox_event_list_free(&unwanted);
    return INBOX_OK;

rollback:

    inbox_sqlite_rollback(conn);

failed:

    inbox_event_list_truncate(events, first);

    for (i = 0; i < n; i++) {
        memset(&results[i], 0, sizeof(inbox_ingest_result_t));
        results[i].status = status;
    }

    free(batch.orgs);
    free(batch.numbers);
    inbox_event_list_free(&unwanted);
    return status;
}


/*
 * Stores the batch's messages in order.  The careful pass runs each in a
 * savepoint.  The fast pass runs none (a savepoint costs two statements
 * and a copy of each page the message touches): a message that fails
 * before it wrote anything is simply left out, but one that fails after
 * it wrote something stops the pass with *again set, and the caller rolls
 * the transaction back and runs the careful pass in a new one.  A status
 * other than INBOX_OK fails the whole batch.
 */
static inbox_status_t
inbox_sqlite_ingest_pass(inbox_sqlite_batch_t *batch,
    const inbox_inbound_t *msgs, size_t n, inbox_ingest_result_t *results,
    inbox_event_list_t *events, int careful, int *again, inbox_error_t *err)
{
    int                        rc;
    size_t                     i, mark;
    inbox_status_t             status;
    inbox_error_t              one;
    inbox_sqlite_conn_t       *conn;
    inbox_sqlite_batch_org_t  *org;

    conn = batch->conn;

    for (i = 0; i < n; i++) {
        if (careful) {
            rc = inbox_sqlite_run(conn, INBOX_SQL_SAVEPOINT,
                                  "SAVEPOINT one");
            if (rc != SQLITE_OK) {
                return inbox_sqlite_fail(conn, rc, err);
            }
        }

        mark = events->count;
        org = NULL;
        batch->wrote = 0;

        status = inbox_sqlite_ingest_one(batch, &msgs[i], &org, &results[i],
                                         events, &one);

        if (status != INBOX_OK || results[i].duplicate) {
            /* undo this message only (a duplicate changed nothing either) */
            inbox_event_list_truncate(events, mark);

            if (sqlite3_get_autocommit(conn->db)) {
                /* SQLite rolled the whole transaction back (I/O, full) */
                *err = one;
                return status != INBOX_OK ? status : INBOX_ERR_INTERNAL;
            }

            if (careful) {
                rc = inbox_sqlite_run(conn, INBOX_SQL_ROLLBACK_TO,
                                      "ROLLBACK TO one");
                if (rc != SQLITE_OK) {
                    return inbox_sqlite_fail(conn, rc, err);
                }

            } else if (batch->wrote) {
                *again = 1;
                return INBOX_OK;
            }

            if (status == INBOX_OK) {
                status = inbox_sqlite_ingest_existing(conn, org->id,
                                                      &msgs[i], &results[i],
                                                      &one);
            }

            results[i].status = status;

            if (status != INBOX_OK) {
                memset(&results[i], 0, sizeof(inbox_ingest_result_t));
                results[i].status = status;
            }
        }

        if (careful) {
            rc = inbox_sqlite_run(conn, INBOX_SQL_RELEASE, "RELEASE one");
            if (rc != SQLITE_OK) {
                return inbox_sqlite_fail(conn, rc, err);
            }
        }
    }

    return INBOX_OK;
}


/*
 * Stores one message of the organization that owns in->to (*org).  A
 * message stored before sets result->duplicate and changes nothing the
 * caller keeps: it rolls the savepoint back and looks the stored one up.
 * The organization's seq and unread total move only when the message is
 * stored whole.
 */
static inbox_status_t
inbox_sqlite_ingest_one(inbox_sqlite_batch_t *batch,
    const inbox_inbound_t *in, inbox_sqlite_batch_org_t **org,
    inbox_ingest_result_t *result, inbox_event_list_t *events,
    inbox_error_t *err)
{
    int                    rc, made;
    size_t                 i, media_count;
    int64_t                conversation, message, at, last_at, unread;
    int64_t                seq, total;
    unsigned               changed;
    sqlite3_stmt          *stmt;
    inbox_status_t         status;
    inbox_message_t        m;
    inbox_conversation_t   c;
    inbox_sqlite_conn_t   *conn;
    inbox_contact_record_t  contact;

    if (in->provider_id == NULL || in->provider_id[0] == '\0') {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "provider_id",
                                     "The carrier's message id is missing.");
    }

    conn = batch->conn;
    at = in->received_at > 0 ? in->received_at : batch->now;
    media_count = in->media_count > INBOX_MEDIA_MAX ? INBOX_MEDIA_MAX
                                                     : in->media_count;

    status = inbox_sqlite_batch_org(batch, in->to, org,
                                    &result->carrier_answers_keywords, err);
    if (status != INBOX_OK) {
        return status;
    }

    snprintf(result->org_id, sizeof(result->org_id), "%s", (*org)->id_text);
    memset(&contact, 0, sizeof(inbox_contact_record_t));

    status = inbox_sqlite_ingest_thread(batch, (*org)->id, in, at, &c,
                                        &last_at, &made, err);
    if (status != INBOX_OK) {
        goto done;
    }

    conversation = strtoll(c.id, NULL, 10);

    if (made) {
        /* what the new row holds, for its contact.updated (a keyword
         * below reads it whole) */
        memcpy(contact.id, c.contact.id, sizeof(contact.id));
        memcpy(contact.phone, c.contact.phone, sizeof(contact.phone));
        memcpy(contact.conversation_id, c.id,
               sizeof(contact.conversation_id));
        contact.created_at = batch->now;
    }

    /* the idempotency key: a carrier's retry inserts nothing */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_INGEST_MESSAGE,
        "INSERT INTO messages (org_id, conversation_id, direction, body,"
        " segments, credits, provider, provider_id, created_at)"
        " VALUES (?1, ?2, 'inbound', ?3, ?4, 0, ?5, ?6, ?7)"
        " ON CONFLICT (org_id, provider, provider_id) DO NOTHING", err);
    if (stmt == NULL) {
        status = err->code;
        goto done;
    }

    sqlite3_bind_int64(stmt, 1, (*org)->id);
    sqlite3_bind_int64(stmt, 2, conversation);
    inbox_sqlite_bind_text(stmt, 3, in->body ? in->body : "");
    sqlite3_bind_int(stmt, 4, in->segments ? (int) in->segments : 1);
    inbox_sqlite_bind_text(stmt, 5, inbox_carrier_name(in->carrier));
    inbox_sqlite_bind_text(stmt, 6, in->provider_id);
    sqlite3_bind_int64(stmt, 7, at);

    rc = sqlite3_step(stmt);
    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        status = inbox_sqlite_fail(conn, rc, err);
        goto done;
    }

    if (sqlite3_changes(conn->db) == 0) {
        result->duplicate = 1;
        goto done;
    }

    batch->wrote = 1;
    message = sqlite3_last_insert_rowid(conn->db);

    for (i = 0; i < media_count; i++) {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_INGEST_MEDIA,
            "INSERT INTO message_media (message_id, idx, url, content_type,"
            " number_id, state)"
            " VALUES (?1, ?2, ?3, ?4, (SELECT id FROM numbers"
            " WHERE e164 = ?5), ?6)", err);
        if (stmt == NULL) {
            status = err->code;
            goto done;
        }

        sqlite3_bind_int64(stmt, 1, message);
        sqlite3_bind_int64(stmt, 2, (int64_t) i);
        inbox_sqlite_bind_text(stmt, 3, in->media[i].url);
        inbox_sqlite_bind_text(stmt, 4, in->media[i].content_type);
        inbox_sqlite_bind_text(stmt, 5, in->to);
        /* pending, a copy to make; failed when intake could not keep it
         * (inbound.h) */
        inbox_sqlite_bind_text(stmt, 6,
                               inbox_media_state_name(in->media[i].state));

        rc = sqlite3_step(stmt);
        inbox_sqlite_done(stmt);

        if (rc != SQLITE_DONE) {
            status = inbox_sqlite_fail(conn, rc, err);
            goto done;
        }
    }

    /* opt-out and opt-in keywords, in the message's transaction: before
     * the thread's update, whose wait for a response follows them */
    result->keyword = inbox_keyword_match(in->body ? in->body : "",
                                          in->body ? strlen(in->body) : 0,
                                          &result->keyword_lang);

    if (result->keyword == INBOX_KEYWORD_OPT_OUT
        || result->keyword == INBOX_KEYWORD_OPT_IN)
    {
        status = inbox_sqlite_ingest_opt(batch, *org, in, message, at, &c,
                                         result, &contact, err);
        if (status != INBOX_OK) {
            goto done;
        }
    }

    /* the unread total moves as the triggers on conversations move it */
    unread = (*org)->unread_total - inbox_conversation_unread_shown(&c);

    status = inbox_sqlite_ingest_touch(conn, in, at, last_at, message,
                                       inbox_keyword_wait(result->keyword,
                                                          result->opt_changed),
                                       &c, err);
    if (status != INBOX_OK) {
        goto done;
    }

    unread += inbox_conversation_unread_shown(&c);

    /* campaigns and polls: a reply, a poll's answer (not a keyword) */
    if (inbox_campaign_reply_counts(result->keyword)) {
        status = inbox_sqlite_campaign_reply(conn,
                                             strtoll(c.contact.id, NULL, 10),
                                             message, at,
                                             in->body ? in->body : "", err);
        if (status != INBOX_OK) {
            goto done;
        }
    }

    inbox_sqlite_format_id(message, result->message_id);
    memcpy(result->conversation_id, c.id, sizeof(c.id));

    memset(&m, 0, sizeof(inbox_message_t));
    memcpy(m.id, result->message_id, sizeof(m.id));
    memcpy(m.conversation_id, c.id, sizeof(m.conversation_id));
    m.direction = INBOX_INBOUND;
    /* borrowed for the frame; the event builders do not keep it */
    m.body = (char *) (in->body ? in->body : "");
    m.media_count = media_count;
    m.media = (inbox_media_t *) in->media;
    m.segments = in->segments ? in->segments : 1;
    m.created_at = at;

    seq = (*org)->seq;
    total = (*org)->unread_total;

    changed = (made ? INBOX_CONTACT_CHANGED_CREATED : 0)
              | (result->opt_changed ? INBOX_CONTACT_CHANGED_OPT : 0);

    status = inbox_sqlite_ingest_events(batch, *org, &m, &c, &contact,
                                        changed, unread, events, err);
    if (status != INBOX_OK) {
        goto done;
    }

    status = inbox_sqlite_ingest_answer(batch, *org, in, at, &c, result,
                                        events, err);
    if (status != INBOX_OK) {
        /* the message's events are undone with it (its savepoint) */
        (*org)->seq = seq;
        (*org)->unread_total = total;
    }

done:

    inbox_contact_record_free(&contact);
    inbox_conversation_free(&c);
    return status;
}


/*
 * The organization that owns e164, from the batch's memory or else from
 * the database (with its seq, epoch and unread total), and whether the
 * number's carrier answers keywords.
 */
static inbox_status_t
inbox_sqlite_batch_org(inbox_sqlite_batch_t *batch, const char *e164,
    inbox_sqlite_batch_org_t **org, int *carrier_answers_keywords,
    inbox_error_t *err)
{
    int                        rc;
    size_t                     i;
    int64_t                    id;
    sqlite3_stmt              *stmt;
    inbox_sqlite_batch_org_t  *o;

    for (i = 0; i < batch->nnumbers; i++) {
        if (strcmp(batch->numbers[i].e164, e164) == 0) {
            *org = batch->numbers[i].org;
            *carrier_answers_keywords =
                batch->numbers[i].carrier_answers_keywords;
            return INBOX_OK;
        }
    }

    stmt = inbox_sqlite_stmt(batch->conn, INBOX_SQL_INGEST_NUMBER,
        "SELECT o.id, o.epoch, o.seq, o.unread_total,"
        " n.carrier_answers_keywords"
        " FROM numbers n JOIN orgs o ON o.id = n.org_id WHERE n.e164 = ?1",
        err);
    if (stmt == NULL) {
        return err->code;
    }

    inbox_sqlite_bind_text(stmt, 1, e164);

    rc = sqlite3_step(stmt);

    if (rc != SQLITE_ROW) {
        inbox_sqlite_done(stmt);

        if (rc == SQLITE_DONE) {
            return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                                   "No organization owns the number %s.",
                                   e164);
        }

        return inbox_sqlite_fail(batch->conn, rc, err);
    }

    id = sqlite3_column_int64(stmt, 0);
    o = NULL;

    /* another number of an organization already met: its seq moved on */
    for (i = 0; i < batch->norgs; i++) {
        if (batch->orgs[i].id == id) {
            o = &batch->orgs[i];
            break;
        }
    }

    if (o == NULL) {
        o = &batch->orgs[batch->norgs++];
        o->id = id;
        inbox_sqlite_format_id(id, o->id_text);
        inbox_sqlite_column_copy(stmt, 1, o->epoch, sizeof(o->epoch));
        o->seq = sqlite3_column_int64(stmt, 2);
        o->stored_seq = o->seq;
        o->unread_total = sqlite3_column_int64(stmt, 3);
        o->has_settings = 0;
    }

    *carrier_answers_keywords = sqlite3_column_int(stmt, 4) != 0;

    inbox_sqlite_done(stmt);

    batch->numbers[batch->nnumbers].e164 = e164;
    batch->numbers[batch->nnumbers].org = o;
    batch->numbers[batch->nnumbers].carrier_answers_keywords =
        *carrier_answers_keywords;
    batch->nnumbers++;

    *org = o;
    return INBOX_OK;
}


/* Writes the seq each organization reached, once, before COMMIT. */
static inbox_status_t
inbox_sqlite_batch_store_seqs(inbox_sqlite_batch_t *batch,
    inbox_error_t *err)
{
    int                        rc;
    size_t                     i;
    sqlite3_stmt              *stmt;
    inbox_sqlite_batch_org_t  *o;

    for (i = 0; i < batch->norgs; i++) {
        o = &batch->orgs[i];

        if (o->seq == o->stored_seq) {
            continue;
        }

        stmt = inbox_sqlite_stmt(batch->conn, INBOX_SQL_ORG_SEQ_ADVANCE,
            "UPDATE orgs SET seq = ?2 WHERE id = ?1", err);
        if (stmt == NULL) {
            return err->code;
        }

        sqlite3_bind_int64(stmt, 1, o->id);
        sqlite3_bind_int64(stmt, 2, o->seq);

        rc = sqlite3_step(stmt);
        inbox_sqlite_done(stmt);

        if (rc != SQLITE_DONE) {
            return inbox_sqlite_fail(batch->conn, rc, err);
        }

        o->stored_seq = o->seq;
    }

    return INBOX_OK;
}


/*
 * The sender's contact and conversation, made when new (*made: the
 * contact), as they are before this message (c, for the frames; the
 * caller frees it), and the conversation's last_message_at (INT64_MIN for
 * NULL).  A known contact is only read: rewriting its row would cost
 * pages.
 */
static inbox_status_t
inbox_sqlite_ingest_thread(inbox_sqlite_batch_t *batch, int64_t org,
    const inbox_inbound_t *in, int64_t at, inbox_conversation_t *c,
    int64_t *last_message_at, int *made, inbox_error_t *err)
{
    int                   rc, has_thread;
    int64_t               contact;
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_sqlite_conn_t  *conn;

    conn = batch->conn;
    memset(c, 0, sizeof(inbox_conversation_t));
    *last_message_at = INT64_MIN;
    *made = 0;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_INGEST_CONTACT_FIND,
        INBOX_SQLITE_CONVERSATION_COLUMNS
        " FROM contacts ct LEFT JOIN conversations c ON c.contact_id = ct.id"
        INBOX_SQLITE_CONVERSATION_LAST
        " WHERE ct.org_id = ?1 AND ct.phone = ?2", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    inbox_sqlite_bind_text(stmt, 2, in->from);

    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        contact = sqlite3_column_int64(stmt, 1);
        has_thread = (sqlite3_column_type(stmt, 0) != SQLITE_NULL);

        /* c.last_message_at, which the touch compares with */
        if (sqlite3_column_type(stmt, 8) != SQLITE_NULL) {
            *last_message_at = sqlite3_column_int64(stmt, 8);
        }

        status = inbox_sqlite_conversation_read(stmt, c, err);
        inbox_sqlite_done(stmt);

        if (status != INBOX_OK || has_thread) {
            return status;
        }

        /* a contact without its thread yet: make it below */

    } else {
        inbox_sqlite_done(stmt);

        if (rc != SQLITE_DONE) {
            return inbox_sqlite_fail(conn, rc, err);
        }

        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_INGEST_CONTACT,
            "INSERT INTO contacts (org_id, phone, created_at)"
            " VALUES (?1, ?2, ?3)", err);
        if (stmt == NULL) {
            return err->code;
        }

        sqlite3_bind_int64(stmt, 1, org);
        inbox_sqlite_bind_text(stmt, 2, in->from);
        sqlite3_bind_int64(stmt, 3, batch->now);

        rc = sqlite3_step(stmt);
        inbox_sqlite_done(stmt);

        if (rc != SQLITE_DONE) {
            return inbox_sqlite_fail(conn, rc, err);
        }

        batch->wrote = 1;
        *made = 1;
        contact = sqlite3_last_insert_rowid(conn->db);

        /* what the new row holds: no name, not opted out */
        inbox_sqlite_format_id(contact, c->contact.id);
        memcpy(c->contact.phone, in->from, sizeof(c->contact.phone));
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_INGEST_CONVERSATION,
        "INSERT INTO conversations (org_id, contact_id, last_activity_at,"
        " created_at) VALUES (?1, ?2, ?3, ?4)", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    sqlite3_bind_int64(stmt, 2, contact);
    sqlite3_bind_int64(stmt, 3, at);
    sqlite3_bind_int64(stmt, 4, batch->now);

    rc = sqlite3_step(stmt);
    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    batch->wrote = 1;

    /* what the new row holds: no message, nothing unread, in the inbox */
    inbox_sqlite_format_id(sqlite3_last_insert_rowid(conn->db), c->id);
    c->has_last_message = 0;
    memset(&c->last_message, 0, sizeof(c->last_message));
    c->last_activity_at = at;
    c->unread_count = 0;
    c->archived = 0;
    c->starred = 0;
    c->unresponded_at = 0;
    c->responded_at = 0;

    return INBOX_OK;
}


/*
 * inbox_conversation_receive's rule, in SQL: one more unread, back to the
 * default view, and the last message fields follow the newest message, so
 * that a late retry of an older one does not push the thread up; the
 * thread waits for a response unless one is newer than this message or
 * it is a keyword answered (?7: a wait starts), and an opt-out is the
 * response to what came before it (?8; inbox_keyword_wait).  c becomes
 * the conversation as it is now.  The thread keeps the number texted,
 * which its replies go from.
 */
static inbox_status_t
inbox_sqlite_ingest_touch(inbox_sqlite_conn_t *conn,
    const inbox_inbound_t *in, int64_t at, int64_t last_message_at,
    int64_t message, inbox_wait_t wait, inbox_conversation_t *c,
    inbox_error_t *err)
{
    int               rc;
    char              id[INBOX_ID_MAX];
    sqlite3_stmt     *stmt;
    inbox_preview_t   preview;

    inbox_message_preview(in->body, in->media, in->media_count, &preview);

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_INGEST_TOUCH,
        "UPDATE conversations SET"
        " unread_count = unread_count + 1,"
        " archived = 0,"
        " last_message_id = CASE WHEN " INBOX_SQLITE_NEWER("?2")
        "   THEN ?3 ELSE last_message_id END,"
        " last_direction = CASE WHEN " INBOX_SQLITE_NEWER("?2")
        "   THEN 'inbound' ELSE last_direction END,"
        " last_preview = CASE WHEN " INBOX_SQLITE_NEWER("?2")
        "   THEN ?4 ELSE last_preview END,"
        " last_media_type = CASE WHEN " INBOX_SQLITE_NEWER("?2")
        "   THEN ?6 ELSE last_media_type END,"
        " last_sent_by = CASE WHEN " INBOX_SQLITE_NEWER("?2")
        "   THEN NULL ELSE last_sent_by END,"
        " last_campaign_id = CASE WHEN " INBOX_SQLITE_NEWER("?2")
        "   THEN NULL ELSE last_campaign_id END,"
        " last_activity_at = CASE WHEN " INBOX_SQLITE_NEWER("?2")
        "   OR NOT " INBOX_SQLITE_LISTED_SQL " THEN ?2"
        "   ELSE last_activity_at END,"
        " last_message_at = CASE WHEN " INBOX_SQLITE_NEWER("?2")
        "   THEN ?2 ELSE last_message_at END,"
        " unresponded_at = CASE"
        "   WHEN ?7 AND ?2 >= coalesce(responded_at, 0)"
        "     AND ?2 > coalesce(unresponded_at, 0) THEN ?2"
        "   WHEN ?8 AND ?2 >= coalesce(unresponded_at, 0) THEN NULL"
        "   ELSE unresponded_at END,"
        " responded_at = CASE WHEN ?8"
        "   THEN max(coalesce(responded_at, 0), ?2) ELSE responded_at END,"
        " number = ?5"
        " WHERE id = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, strtoll(c->id, NULL, 10));
    sqlite3_bind_int64(stmt, 2, at);
    sqlite3_bind_int64(stmt, 3, message);
    inbox_sqlite_bind_text(stmt, 4, preview.text);
    inbox_sqlite_bind_text(stmt, 5, in->to);
    inbox_sqlite_bind_text(stmt, 6, preview.media_type[0]
                                    ? preview.media_type : NULL);
    sqlite3_bind_int(stmt, 7, wait == INBOX_WAIT_STARTS);
    sqlite3_bind_int(stmt, 8, wait == INBOX_WAIT_ENDS);

    rc = sqlite3_step(stmt);
    inbox_sqlite_done(stmt);

    if (rc == SQLITE_DONE && sqlite3_changes(conn->db) != 1) {
        rc = SQLITE_INTERNAL;    /* the conversation was there a moment ago */
    }

    if (rc != SQLITE_DONE) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    /* the UPDATE above follows libinbox's rule, which says what c is now
     * (cheaper than RETURNING, which costs a temporary table) */
    inbox_sqlite_format_id(message, id);
    inbox_conversation_receive(c, id, at, &preview, wait);

    return INBOX_OK;
}


/*
 * A keyword opts the message's contact out (source keyword) or back in,
 * as optout.h's rule says, ordered by when the contact sent it (the
 * carrier's time, else its arrival at): *contact is the contact as it is
 * after, read whole (its contact.updated shows it as a list item does:
 * its tags, time zone and creation time, which the thread's row does not
 * hold; the caller frees it), result->opt_changed whether it changed.
 */
static inbox_status_t
inbox_sqlite_ingest_opt(inbox_sqlite_batch_t *batch,
    inbox_sqlite_batch_org_t *org, const inbox_inbound_t *in,
    int64_t message, int64_t at, inbox_conversation_t *c,
    inbox_ingest_result_t *result, inbox_contact_record_t *contact,
    inbox_error_t *err)
{
    char            keyword[INBOX_KEYWORD_MAX];
    int64_t         id, latest;
    inbox_status_t  status;

    id = strtoll(c->contact.id, NULL, 10);

    inbox_contact_record_free(contact);

    status = inbox_sqlite_contact_load(batch->conn, org->id, id, contact,
                                       err);
    if (status != INBOX_OK) {
        return status;
    }

    inbox_opt_keyword(in->body, keyword);

    latest = contact->opt_latest_at;
    result->opt_changed =
        inbox_contact_opt_keyword(contact,
                                  result->keyword == INBOX_KEYWORD_OPT_OUT,
                                  keyword, at,
                                  in->carrier_at > 0 ? in->carrier_at : at);

    if (!result->opt_changed) {
        if (contact->opt_latest_at == latest) {
            return INBOX_OK;
        }

        return inbox_sqlite_contact_opt_latest_write(batch->conn, id,
                                                     contact, err);
    }

    status = inbox_sqlite_contact_opt_write(batch->conn, org->id, id,
                                            contact, keyword, message, at,
                                            err);
    if (status != INBOX_OK) {
        return status;
    }

    c->contact.opted_out = contact->opted_out;

    return INBOX_OK;
}


/*
 * The events libinbox decides for a new message (and for its contact,
 * which it made or opted out or in: changed), with the organization's
 * next sequence numbers: their frames into the caller's list, and into
 * the events table what they refer to (the message and its conversation
 * are rows already, the body is not copied).  The organization takes the
 * numbers (and the new unread total) only once all are stored.
 */
static inbox_status_t
inbox_sqlite_ingest_events(inbox_sqlite_batch_t *batch,
    inbox_sqlite_batch_org_t *org, const inbox_message_t *message,
    const inbox_conversation_t *c, const inbox_contact_record_t *contact,
    unsigned changed, int64_t unread, inbox_event_list_t *events,
    inbox_error_t *err)
{
    inbox_change_t  change;
    inbox_status_t  status;

    inbox_change_message(&change, message, c);
    inbox_change_set_total(&change, unread);
    inbox_change_add_contact(&change, contact, changed);

    if (inbox_change_render(&change, org->seq + 1, org->epoch) != 0) {
        inbox_change_free(&change);
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    status = inbox_sqlite_events_store(batch->conn, org->id, org->epoch,
                                       &change, batch->now, err);
    if (status != INBOX_OK) {
        inbox_change_free(&change);
        return status;
    }

    /* a failed savepoint takes the message's events out of the list */
    if (inbox_change_push(&change, org->id_text, events) != 0) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    org->seq += (int64_t) change.count;
    org->unread_total = unread;

    return INBOX_OK;
}


/*
 * A keyword the inbox answers (inbox_keyword_answered) has its answer
 * queued in the message's transaction, as inbox_store_outbox_notice
 * queues one, from the number texted: the message is never stored
 * without it, and a failure here fails the message (the carrier's retry
 * stores both).  A HELP answered is remembered on its contact.
 */
static inbox_status_t
inbox_sqlite_ingest_answer(inbox_sqlite_batch_t *batch,
    inbox_sqlite_batch_org_t *org, const inbox_inbound_t *in, int64_t at,
    const inbox_conversation_t *c, inbox_ingest_result_t *result,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int                    rc;
    char                  *text;
    int64_t                contact, help_at;
    unsigned               segments;
    sqlite3_stmt          *stmt;
    inbox_reply_t          notice;
    inbox_change_t         change;
    inbox_status_t         status;
    inbox_reply_result_t   r;

    if (result->keyword == INBOX_KEYWORD_NONE
        || result->carrier_answers_keywords)
    {
        return INBOX_OK;
    }

    contact = strtoll(c->contact.id, NULL, 10);
    help_at = 0;

    if (result->keyword == INBOX_KEYWORD_HELP) {
        stmt = inbox_sqlite_stmt(batch->conn, INBOX_SQL_INGEST_HELP_FIND,
            "SELECT help_answered_at FROM contacts WHERE id = ?1", err);
        if (stmt == NULL) {
            return err->code;
        }

        sqlite3_bind_int64(stmt, 1, contact);

        rc = sqlite3_step(stmt);

        if (rc == SQLITE_ROW) {
            help_at = sqlite3_column_int64(stmt, 0);
        }

        inbox_sqlite_done(stmt);

        if (rc != SQLITE_ROW) {
            return inbox_sqlite_fail(batch->conn,
                                     rc == SQLITE_DONE ? SQLITE_INTERNAL : rc,
                                     err);
        }
    }

    if (!inbox_keyword_answered(result->keyword, result->opt_changed,
                                result->carrier_answers_keywords, help_at,
                                at))
    {
        return INBOX_OK;
    }

    if (!org->has_settings) {
        status = inbox_sqlite_settings_load(batch->conn, org->id,
                                            &org->settings, err);
        if (status != INBOX_OK) {
            return status;
        }

        org->has_settings = 1;
    }

    status = inbox_store_keyword_text(result, &org->settings, &text,
                                      &segments, err);
    if (status != INBOX_OK) {
        return status;
    }

    memset(&r, 0, sizeof(inbox_reply_result_t));
    memset(&change, 0, sizeof(inbox_change_t));

    status = inbox_sqlite_conversation_load(batch->conn, org->id,
                                            strtoll(c->id, NULL, 10),
                                            &r.conversation, err);
    if (status != INBOX_OK) {
        goto done;
    }

    memset(&notice, 0, sizeof(inbox_reply_t));
    notice.conversation_id = c->id;
    notice.body = text;
    notice.segments = segments;
    notice.credits = 0;
    notice.notice = 1;

    /* queued with the message, just after it (and the opt-out it made:
     * the timeline shows an event before a message of its time) */
    status = inbox_sqlite_reply_write(batch->conn, org->id, &notice, "", 0,
                                      0, NULL, in->to, at + 1, &r, &change,
                                      err);
    if (status != INBOX_OK) {
        goto done;
    }

    /* numbered after the message's own, as the batch numbers them */
    if (inbox_change_render(&change, org->seq + 1, org->epoch) != 0) {
        status = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        goto done;
    }

    status = inbox_sqlite_events_store(batch->conn, org->id, org->epoch,
                                       &change, batch->now, err);
    if (status != INBOX_OK) {
        goto done;
    }

    if (result->keyword == INBOX_KEYWORD_HELP) {
        /* the answer named, so that its failure gives the day back */
        stmt = inbox_sqlite_stmt(batch->conn, INBOX_SQL_INGEST_HELP_SET,
            "UPDATE contacts SET help_answered_at = ?2, help_answer_id = ?3"
            " WHERE id = ?1", err);
        if (stmt == NULL) {
            status = err->code;
            goto done;
        }

        sqlite3_bind_int64(stmt, 1, contact);
        sqlite3_bind_int64(stmt, 2, at);
        sqlite3_bind_int64(stmt, 3, strtoll(r.message.id, NULL, 10));

        rc = sqlite3_step(stmt);
        inbox_sqlite_done(stmt);

        if (rc != SQLITE_DONE) {
            status = inbox_sqlite_fail(batch->conn, rc, err);
            goto done;
        }
    }

    /* a failed savepoint takes the answer's events out of the list */
    if (inbox_change_push(&change, org->id_text, events) != 0) {
        status = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        goto done;
    }

    org->seq += (int64_t) change.count;
    result->answered = 1;

done:

    if (status != INBOX_OK) {
        inbox_change_free(&change);
    }

    inbox_reply_result_free(&r);
    free(text);

    return status;
}


/* The ids of the message stored before under the same provider id. */
static inbox_status_t
inbox_sqlite_ingest_existing(inbox_sqlite_conn_t *conn, int64_t org,
    const inbox_inbound_t *in, inbox_ingest_result_t *result,
    inbox_error_t *err)
{
    int            rc;
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_INGEST_EXISTING,
        "SELECT id, conversation_id FROM messages"
        " WHERE org_id = ?1 AND provider = ?2 AND provider_id = ?3", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    inbox_sqlite_bind_text(stmt, 2, inbox_carrier_name(in->carrier));
    inbox_sqlite_bind_text(stmt, 3, in->provider_id);

    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        inbox_sqlite_format_id(sqlite3_column_int64(stmt, 0),
                               result->message_id);
        inbox_sqlite_format_id(sqlite3_column_int64(stmt, 1),
                               result->conversation_id);
    }

    inbox_sqlite_done(stmt);

    if (rc == SQLITE_ROW) {
        return INBOX_OK;
    }

    return inbox_sqlite_fail(conn, rc == SQLITE_DONE ? SQLITE_INTERNAL : rc,
                             err);
}
