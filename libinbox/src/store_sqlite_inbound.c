/*
 * The SQLite backend: inbound messages, a batch per transaction.
 *
 * The batch is one BEGIN IMMEDIATE ... COMMIT (group commit: one fsync of
 * the WAL for every message that arrived together), and each message runs
 * in its own savepoint so one that fails leaves the others stored.
 */
#include <stdlib.h>
#include <string.h>
#include <inbox/clock.h>
#include "store_sqlite.h"


static inbox_status_t inbox_sqlite_ingest_one(inbox_sqlite_conn_t *conn,
    const inbox_inbound_t *in, int64_t now, int64_t *org,
    inbox_ingest_result_t *result, inbox_event_list_t *events,
    inbox_error_t *err);
static inbox_status_t inbox_sqlite_ingest_existing(inbox_sqlite_conn_t *conn,
    int64_t org, const inbox_inbound_t *in, inbox_ingest_result_t *result,
    inbox_error_t *err);
static inbox_status_t inbox_sqlite_ingest_events(inbox_sqlite_conn_t *conn,
    int64_t org, const inbox_message_t *message, int64_t now,
    inbox_event_list_t *events, inbox_error_t *err);
static int64_t inbox_sqlite_step_id(sqlite3_stmt *stmt, int *rc);
static void inbox_sqlite_preview(const inbox_inbound_t *in,
    char out[INBOX_PREVIEW_MAX]);


inbox_status_t
inbox_sqlite_inbound_ingest(inbox_store_t *store,
    const inbox_inbound_t *msgs, size_t n, inbox_ingest_result_t *results,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int                   rc;
    size_t                i, first, mark;
    int64_t               now, org;
    inbox_status_t        status;
    inbox_error_t         fallback, one;
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

    memset(results, 0, n * sizeof(inbox_ingest_result_t));
    first = events->count;
    org = 0;

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        status = err->code;
        goto failed;
    }

    status = inbox_sqlite_begin_write(conn, err);
    if (status != INBOX_OK) {
        goto failed;
    }

    now = inbox_now_ms();

    for (i = 0; i < n; i++) {
        rc = inbox_sqlite_run(conn, INBOX_SQL_SAVEPOINT, "SAVEPOINT ingest");
        if (rc != SQLITE_OK) {
            status = inbox_sqlite_fail(conn, rc, err);
            goto rollback;
        }

        mark = events->count;

        status = inbox_sqlite_ingest_one(conn, &msgs[i], now, &org,
                                         &results[i], events, &one);

        if (status != INBOX_OK || results[i].duplicate) {
            /* undo this message only (a duplicate changed nothing either) */
            inbox_event_list_truncate(events, mark);

            if (sqlite3_get_autocommit(conn->db)) {
                /* SQLite rolled the whole transaction back (I/O, full) */
                *err = one;
                goto rollback;
            }

            rc = inbox_sqlite_run(conn, INBOX_SQL_ROLLBACK_TO,
                                  "ROLLBACK TO ingest");
            if (rc != SQLITE_OK) {
                status = inbox_sqlite_fail(conn, rc, err);
                goto rollback;
            }

            if (status == INBOX_OK) {
                status = inbox_sqlite_ingest_existing(conn, org, &msgs[i],
                                                      &results[i], &one);
            }

            results[i].status = status;

            if (status != INBOX_OK) {
                memset(&results[i], 0, sizeof(inbox_ingest_result_t));
                results[i].status = status;
            }
        }

        rc = inbox_sqlite_run(conn, INBOX_SQL_RELEASE, "RELEASE ingest");
        if (rc != SQLITE_OK) {
            status = inbox_sqlite_fail(conn, rc, err);
            goto rollback;
        }
    }

    status = inbox_sqlite_commit(conn, err);
    if (status != INBOX_OK) {
        /* commit failed and rolled back: nothing is durable */
        goto failed;
    }

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

    inbox_event_list_free(&unwanted);
    return status;
}


/*
 * Stores one message of the organization that owns in->to (*org).  A
 * message stored before sets result->duplicate and changes nothing the
 * caller keeps: it rolls the savepoint back and looks the stored one up.
 */
static inbox_status_t
inbox_sqlite_ingest_one(inbox_sqlite_conn_t *conn, const inbox_inbound_t *in,
    int64_t now, int64_t *org, inbox_ingest_result_t *result,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int                    rc;
    size_t                 i, media_count;
    int64_t                contact, conversation, message, at;
    sqlite3_stmt          *stmt;
    const char            *provider;
    inbox_message_t        m;
    char                   preview[INBOX_PREVIEW_MAX];

    if (in->provider_id == NULL || in->provider_id[0] == '\0') {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "provider_id",
                                     "the carrier's message id is missing");
    }

    at = in->received_at > 0 ? in->received_at : now;
    provider = inbox_carrier_name(in->carrier);
    media_count = in->media_count > INBOX_MEDIA_MAX ? INBOX_MEDIA_MAX
                                                     : in->media_count;

    /* the organization owns the number the message was sent to */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_INGEST_NUMBER,
        "SELECT org_id FROM numbers WHERE e164 = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    inbox_sqlite_bind_text(stmt, 1, in->to);
    *org = inbox_sqlite_step_id(stmt, &rc);

    if (rc == SQLITE_DONE) {
        return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                               "no organization owns the number %s", in->to);
    }

    if (rc != SQLITE_ROW) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    /* a known contact is only read: rewriting its row would cost pages */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_INGEST_CONTACT_FIND,
        "SELECT id FROM contacts WHERE org_id = ?1 AND phone = ?2", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, *org);
    inbox_sqlite_bind_text(stmt, 2, in->from);
    contact = inbox_sqlite_step_id(stmt, &rc);

    if (rc == SQLITE_DONE) {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_INGEST_CONTACT,
            "INSERT INTO contacts (org_id, phone, created_at)"
            " VALUES (?1, ?2, ?3) RETURNING id", err);
        if (stmt == NULL) {
            return err->code;
        }

        sqlite3_bind_int64(stmt, 1, *org);
        inbox_sqlite_bind_text(stmt, 2, in->from);
        sqlite3_bind_int64(stmt, 3, now);
        contact = inbox_sqlite_step_id(stmt, &rc);
    }

    if (rc != SQLITE_ROW) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_INGEST_CONVERSATION_FIND,
        "SELECT id FROM conversations WHERE contact_id = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, contact);
    conversation = inbox_sqlite_step_id(stmt, &rc);

    if (rc == SQLITE_DONE) {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_INGEST_CONVERSATION,
            "INSERT INTO conversations (org_id, contact_id, last_activity_at,"
            " created_at) VALUES (?1, ?2, ?3, ?4) RETURNING id", err);
        if (stmt == NULL) {
            return err->code;
        }

        sqlite3_bind_int64(stmt, 1, *org);
        sqlite3_bind_int64(stmt, 2, contact);
        sqlite3_bind_int64(stmt, 3, at);
        sqlite3_bind_int64(stmt, 4, now);
        conversation = inbox_sqlite_step_id(stmt, &rc);
    }

    if (rc != SQLITE_ROW) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    /* the idempotency key: a carrier's retry inserts nothing */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_INGEST_MESSAGE,
        "INSERT INTO messages (org_id, conversation_id, direction, body,"
        " segments, credits, provider, provider_id, created_at)"
        " VALUES (?1, ?2, 'inbound', ?3, ?4, 0, ?5, ?6, ?7)"
        " ON CONFLICT (org_id, provider, provider_id) DO NOTHING"
        " RETURNING id", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, *org);
    sqlite3_bind_int64(stmt, 2, conversation);
    inbox_sqlite_bind_text(stmt, 3, in->body ? in->body : "");
    sqlite3_bind_int(stmt, 4, in->segments ? (int) in->segments : 1);
    inbox_sqlite_bind_text(stmt, 5, provider);
    inbox_sqlite_bind_text(stmt, 6, in->provider_id);
    sqlite3_bind_int64(stmt, 7, at);
    message = inbox_sqlite_step_id(stmt, &rc);

    if (rc == SQLITE_DONE) {
        result->duplicate = 1;
        return INBOX_OK;
    }

    if (rc != SQLITE_ROW) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    for (i = 0; i < media_count; i++) {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_INGEST_MEDIA,
            "INSERT INTO message_media (message_id, idx, url, content_type)"
            " VALUES (?1, ?2, ?3, ?4)", err);
        if (stmt == NULL) {
            return err->code;
        }

        sqlite3_bind_int64(stmt, 1, message);
        sqlite3_bind_int64(stmt, 2, (int64_t) i);
        inbox_sqlite_bind_text(stmt, 3, in->media[i].url);
        inbox_sqlite_bind_text(stmt, 4, in->media[i].content_type);

        rc = sqlite3_step(stmt);
        inbox_sqlite_done(stmt);

        if (rc != SQLITE_DONE) {
            return inbox_sqlite_fail(conn, rc, err);
        }
    }

    /*
     * One more unread, and back to the default view.  The last message
     * fields follow the newest message, so a late retry of an older one
     * does not push the thread up.
     */
    inbox_sqlite_preview(in, preview);

#define INBOX_SQLITE_NEWER                                                    \
    "(last_message_at IS NULL OR ?2 >= last_message_at)"

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_INGEST_TOUCH,
        "UPDATE conversations SET"
        " unread_count = unread_count + 1,"
        " archived = 0,"
        " last_message_id = CASE WHEN " INBOX_SQLITE_NEWER
        "   THEN ?3 ELSE last_message_id END,"
        " last_direction = CASE WHEN " INBOX_SQLITE_NEWER
        "   THEN 'inbound' ELSE last_direction END,"
        " last_preview = CASE WHEN " INBOX_SQLITE_NEWER
        "   THEN ?4 ELSE last_preview END,"
        " last_activity_at = CASE WHEN " INBOX_SQLITE_NEWER
        "   THEN ?2 ELSE last_activity_at END,"
        " last_message_at = CASE WHEN " INBOX_SQLITE_NEWER
        "   THEN ?2 ELSE last_message_at END"
        " WHERE id = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

#undef INBOX_SQLITE_NEWER

    sqlite3_bind_int64(stmt, 1, conversation);
    sqlite3_bind_int64(stmt, 2, at);
    sqlite3_bind_int64(stmt, 3, message);
    inbox_sqlite_bind_text(stmt, 4, preview);

    rc = sqlite3_step(stmt);
    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    inbox_sqlite_format_id(message, result->message_id);
    inbox_sqlite_format_id(conversation, result->conversation_id);

    memset(&m, 0, sizeof(inbox_message_t));
    memcpy(m.id, result->message_id, sizeof(m.id));
    memcpy(m.conversation_id, result->conversation_id,
           sizeof(m.conversation_id));
    m.direction = INBOX_INBOUND;
    /* borrowed for the frame; the event builders do not keep it */
    m.body = (char *) (in->body ? in->body : "");
    m.media_count = media_count;
    m.media = (inbox_media_t *) in->media;
    m.segments = in->segments ? in->segments : 1;
    m.created_at = at;

    return inbox_sqlite_ingest_events(conn, *org, &m, now, events, err);
}


/*
 * message.created, conversation.updated and unread.total, with the
 * organization's next three sequence numbers, into the events table and
 * the caller's list.
 */
static inbox_status_t
inbox_sqlite_ingest_events(inbox_sqlite_conn_t *conn, int64_t org,
    const inbox_message_t *message, int64_t now, inbox_event_list_t *events,
    inbox_error_t *err)
{
    int                    rc;
    char                  *frames[3];
    char                   org_id[INBOX_ID_MAX];
    char                   epoch[INBOX_EPOCH_MAX];
    size_t                 i;
    int64_t                seq, unread, conversation;
    sqlite3_stmt          *stmt;
    inbox_status_t         status;
    inbox_conversation_t   c;

    static const char     *types[3] = {
        "message.created", "conversation.updated", "unread.total"
    };

    conversation = strtoll(message->conversation_id, NULL, 10);

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_CONVERSATION_GET,
                             INBOX_SQLITE_CONVERSATION_GET_SQL, err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, conversation);
    sqlite3_bind_int64(stmt, 2, org);

    rc = sqlite3_step(stmt);

    if (rc != SQLITE_ROW) {
        inbox_sqlite_done(stmt);
        return inbox_sqlite_fail(conn, rc, err);
    }

    status = inbox_sqlite_conversation_read(stmt, &c, err);
    inbox_sqlite_done(stmt);

    if (status != INBOX_OK) {
        inbox_conversation_free(&c);
        return status;
    }

    /* the unread total is already the new one (triggers) */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_ORG_SEQ_ADVANCE,
        "UPDATE orgs SET seq = seq + ?2 WHERE id = ?1"
        " RETURNING seq, epoch, unread_total", err);
    if (stmt == NULL) {
        inbox_conversation_free(&c);
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    sqlite3_bind_int64(stmt, 2, 3);

    seq = 0;
    unread = 0;
    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        seq = sqlite3_column_int64(stmt, 0) - 2;
        inbox_sqlite_column_copy(stmt, 1, epoch, sizeof(epoch));
        unread = sqlite3_column_int64(stmt, 2);
        rc = sqlite3_step(stmt);

    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_INTERNAL;    /* the organization was there a moment ago */
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        inbox_conversation_free(&c);
        return inbox_sqlite_fail(conn, rc, err);
    }

    frames[0] = inbox_event_message_created(seq, epoch, message, &c);
    frames[1] = inbox_event_conversation_updated(seq + 1, epoch, &c);
    frames[2] = inbox_event_unread_total(seq + 2, epoch, unread);

    inbox_conversation_free(&c);

    status = INBOX_OK;
    inbox_sqlite_format_id(org, org_id);

    for (i = 0; i < 3; i++) {
        if (frames[i] == NULL) {
            status = inbox_error_set(err, INBOX_ERR_INTERNAL,
                                     "out of memory");
            continue;
        }

        if (status != INBOX_OK) {
            free(frames[i]);
            continue;
        }

        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_EVENT_APPEND,
            "INSERT INTO events (org_id, seq, type, payload, created_at)"
            " VALUES (?1, ?2, ?3, ?4, ?5)", err);
        if (stmt == NULL) {
            status = err->code;
            free(frames[i]);
            continue;
        }

        sqlite3_bind_int64(stmt, 1, org);
        sqlite3_bind_int64(stmt, 2, seq + (int64_t) i);
        inbox_sqlite_bind_text(stmt, 3, types[i]);
        inbox_sqlite_bind_text(stmt, 4, frames[i]);
        sqlite3_bind_int64(stmt, 5, now);

        rc = sqlite3_step(stmt);
        inbox_sqlite_done(stmt);

        if (rc != SQLITE_DONE) {
            status = inbox_sqlite_fail(conn, rc, err);
            free(frames[i]);
            continue;
        }

        /* the list owns the frame from here, also when the push fails */
        if (inbox_event_list_push(events, org_id, seq + (int64_t) i,
                                  frames[i])
            != 0)
        {
            status = inbox_error_set(err, INBOX_ERR_INTERNAL,
                                     "out of memory");
        }
    }

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


/* Steps a statement whose first row's first column is wanted, runs it to
 * its end (RETURNING writes need that) and resets it.  *rc is SQLITE_ROW
 * when there was a row, SQLITE_DONE when none, else the error. */
static int64_t
inbox_sqlite_step_id(sqlite3_stmt *stmt, int *rc)
{
    int      step;
    int64_t  id;

    id = 0;
    step = sqlite3_step(stmt);

    if (step == SQLITE_ROW) {
        id = sqlite3_column_int64(stmt, 0);

        while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
            /* void */
        }

        if (step == SQLITE_DONE) {
            step = SQLITE_ROW;
        }
    }

    sqlite3_reset(stmt);
    *rc = step;

    return id;
}


/* The thread list's line: the body's first bytes, cut between two UTF-8
 * characters, or a word for a message that is only media. */
static void
inbox_sqlite_preview(const inbox_inbound_t *in, char out[INBOX_PREVIEW_MAX])
{
    size_t       len;
    const char  *body, *word;

    body = in->body ? in->body : "";
    len = strlen(body);

    if (len == 0 && in->media_count > 0) {
        word = strncmp(in->media[0].content_type, "image/", 6) == 0
               ? "[image]" : "[attachment]";
        memcpy(out, word, strlen(word) + 1);
        return;
    }

    if (len > INBOX_PREVIEW_MAX - 1) {
        len = INBOX_PREVIEW_MAX - 1;

        /* step back over continuation bytes to a character's start */
        while (len > 0 && ((unsigned char) body[len] & 0xc0) == 0x80) {
            len--;
        }
    }

    memcpy(out, body, len);
    out[len] = '\0';
}
