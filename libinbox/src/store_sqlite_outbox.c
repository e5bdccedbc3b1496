/*
 * The SQLite backend: replies, the outbox, delivery statuses and the
 * holds they settle.  Each operation is one write transaction (BEGIN
 * IMMEDIATE: writers queue, so what a transaction read still holds when
 * it writes); the rules are libinbox's (reply.h, outbox.h, delivery.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inbox/clock.h>
#include <inbox/resend.h>
#include "store_sqlite.h"


/* What a message's delivery is, as stored. */
typedef struct {
    int64_t           conversation;
    inbox_delivery_t  status;
    char              error_code[32];
    int               held;
    int64_t           credits;
    /* what its frame says of Send again by (inbox_resend_can) */
    char              sent_by[INBOX_ID_MAX];
    char              campaign_id[INBOX_ID_MAX];
    char              resent_as[INBOX_ID_MAX];
} inbox_sqlite_delivery_t;

/* A status moved: the frame's message and its change, pushed after the
 * commit. */
typedef struct {
    int               moved;
    inbox_message_t   message;
    inbox_change_t    change;
    int64_t           org;
} inbox_sqlite_move_t;


static inbox_status_t inbox_sqlite_reply_repeat(inbox_sqlite_conn_t *conn,
    int64_t org, const inbox_reply_t *reply, const char *fingerprint,
    inbox_reply_result_t *result, int *found, inbox_error_t *err);
static inbox_status_t inbox_sqlite_resend_find(inbox_sqlite_conn_t *conn,
    int64_t org, const inbox_reply_t *reply, inbox_message_t *m,
    inbox_error_t *err);
static inbox_status_t inbox_sqlite_resend_mark(inbox_sqlite_conn_t *conn,
    int64_t org, inbox_reply_result_t *result, int64_t now,
    inbox_change_t *change, inbox_error_t *err);
static inbox_status_t inbox_sqlite_reply_checks(inbox_sqlite_conn_t *conn,
    int64_t org, const inbox_reply_t *reply, int64_t user,
    inbox_conversation_t *c, char from[INBOX_PHONE_MAX], unsigned *charge,
    inbox_error_t *err);
static inbox_status_t inbox_sqlite_message_load(inbox_sqlite_conn_t *conn,
    int64_t message, inbox_message_t *m, inbox_error_t *err);
static inbox_status_t inbox_sqlite_message_contact(inbox_sqlite_conn_t *conn,
    int64_t message, char phone[INBOX_PHONE_MAX], char id[INBOX_ID_MAX],
    int64_t *opted_out_at, inbox_error_t *err);
static inbox_status_t inbox_sqlite_delivery_get(inbox_sqlite_conn_t *conn,
    int64_t org, int64_t message, inbox_sqlite_delivery_t *d,
    inbox_error_t *err);
static inbox_status_t inbox_sqlite_delivery_move(inbox_sqlite_conn_t *conn,
    int64_t org, int64_t message, inbox_delivery_t to, int final,
    const char *error_code, int64_t now, inbox_sqlite_move_t *mv,
    inbox_error_t *err);
static inbox_campaign_outbox_t inbox_sqlite_campaign_outbox(
    sqlite3_stmt *stmt, int col);
static inbox_status_t inbox_sqlite_hold_again(inbox_sqlite_conn_t *conn,
    int64_t message, int64_t now, int *held, inbox_error_t *err);
static inbox_status_t inbox_sqlite_outbox_due(inbox_sqlite_conn_t *conn,
    int64_t entry, int64_t due_at, inbox_error_t *err);
static inbox_status_t inbox_sqlite_recipient_unsent(inbox_sqlite_conn_t *conn,
    int64_t message, inbox_recipient_state_t state, inbox_error_t *err);
static inbox_status_t inbox_sqlite_recipient_waits(inbox_sqlite_conn_t *conn,
    int64_t message, int waits, inbox_error_t *err);
static inbox_status_t inbox_sqlite_recipient_goes(inbox_sqlite_conn_t *conn,
    int64_t message, int64_t at, inbox_error_t *err);
static inbox_status_t inbox_sqlite_outbox_pass(inbox_sqlite_conn_t *conn,
    inbox_outbox_ruled_t *records, size_t n, int64_t now,
    inbox_sqlite_move_t *moves, int careful, int *again, inbox_error_t *err);
static void inbox_sqlite_outbox_forget(inbox_outbox_ruled_t *records,
    size_t n, inbox_sqlite_move_t *moves);
static inbox_status_t inbox_sqlite_outbox_record(inbox_sqlite_conn_t *conn,
    const inbox_outbox_ruled_t *ruled, int64_t now, inbox_sqlite_move_t *mv,
    inbox_error_t *err);
static inbox_status_t inbox_sqlite_move_push(inbox_sqlite_move_t *mv,
    inbox_event_list_t *events, inbox_error_t *err);
static void inbox_sqlite_move_free(inbox_sqlite_move_t *mv);
static inbox_status_t inbox_sqlite_status_apply(inbox_sqlite_conn_t *conn,
    inbox_status_report_t *r, int64_t now, inbox_sqlite_move_t *mv,
    inbox_error_t *err);
static inbox_status_t inbox_sqlite_early_keep(inbox_sqlite_conn_t *conn,
    int64_t org, const inbox_status_report_t *r, int64_t now,
    inbox_error_t *err);
static inbox_status_t inbox_sqlite_early_take(inbox_sqlite_conn_t *conn,
    int64_t org, inbox_carrier_t carrier, const char *provider_id,
    inbox_delivery_t *status, int *final,
    char error_code[INBOX_CARRIER_CODE_MAX], inbox_error_t *err);
static inbox_status_t inbox_sqlite_early_named(inbox_sqlite_conn_t *conn,
    int64_t org, inbox_carrier_t carrier, int64_t message,
    char provider_id[INBOX_PROVIDER_ID_MAX], inbox_error_t *err);
static inbox_status_t inbox_sqlite_unknown_adopt(inbox_sqlite_conn_t *conn,
    int64_t org, const inbox_status_report_t *r, int64_t *message,
    int64_t *sent_at, inbox_error_t *err);


/*
 * Inside the write transaction a reply or a notice opened, once its
 * checks passed: stores it, commits, and hands its events over; on any
 * failure nothing was accepted (rolled back) and result is emptied.
 */
static inbox_status_t
inbox_sqlite_reply_finish(inbox_sqlite_conn_t *conn, int64_t org,
    const inbox_reply_t *reply, const char *fingerprint, int64_t user,
    const char *from, int64_t now, inbox_reply_result_t *result,
    inbox_event_list_t *events, inbox_error_t *err)
{
    char            org_text[INBOX_ID_MAX];
    inbox_change_t  change, resent;
    inbox_status_t  status;

    memset(&change, 0, sizeof(inbox_change_t));
    memset(&resent, 0, sizeof(inbox_change_t));

    status = inbox_sqlite_reply_store(conn, org, reply, fingerprint, user, 0,
                                      NULL, from, now, result, &change, err);
    if (status != INBOX_OK) {
        inbox_sqlite_rollback(conn);
        goto undone;
    }

    if (result->resent.id[0] != '\0') {
        status = inbox_sqlite_resend_mark(conn, org, result, now, &resent,
                                          err);
        if (status != INBOX_OK) {
            inbox_sqlite_rollback(conn);
            goto undone;
        }
    }

    status = inbox_sqlite_commit(conn, err);
    if (status != INBOX_OK) {
        /* the commit failed and rolled back: nothing was accepted */
        goto undone;
    }

    inbox_sqlite_format_id(org, org_text);

    if (inbox_change_push(&change, org_text, events) != 0
        || inbox_change_push(&resent, org_text, events) != 0)
    {
        /* accepted, but its browsers learn it only at their next reload */
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    return INBOX_OK;

undone:

    inbox_change_free(&change);
    inbox_change_free(&resent);
    inbox_reply_result_free(result);
    memset(result, 0, sizeof(inbox_reply_result_t));

    return status;
}


/*
 * The checks in the contract's order, then everything a reply is, in one
 * transaction.  A repeated Idempotency-Key is looked up first: a retry
 * answers what was stored even after the balance ran out.
 */
inbox_status_t
inbox_sqlite_reply_accept(inbox_store_t *store, const char *org_id,
    const inbox_reply_t *reply, const char *fingerprint, int64_t now,
    inbox_reply_result_t *result, inbox_event_list_t *events,
    inbox_error_t *err)
{
    int                   found;
    char                  from[INBOX_PHONE_MAX];
    int64_t               org, user;
    unsigned              charge;
    inbox_reply_t         charged;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_sqlite_conn_t  *conn;

    if (err == NULL) {
        err = &fallback;
    }

    user = 0;

    if (inbox_sqlite_parse_id(org_id, &org) != 0) {
        return inbox_error_not_found(err, "conversation");
    }

    if (reply->user_id != NULL && reply->user_id[0] != '\0'
        && inbox_sqlite_parse_id(reply->user_id, &user) != 0)
    {
        return inbox_error_set_field(err, INBOX_ERR_NOT_FOUND, "user",
                                     "There is no such user.");
    }

    conn = inbox_sqlite_begin_write(store, err);
    if (conn == NULL) {
        return err->code;
    }

    /* the time of its turn: messages and ledger entries are made in the
     * order of their times */
    now = inbox_now_ms();

    if (fingerprint[0] != '\0') {
        status = inbox_sqlite_reply_repeat(conn, org, reply, fingerprint,
                                           result, &found, err);
        if (status != INBOX_OK) {
            goto failed;
        }

        if (found) {
            return inbox_sqlite_commit(conn, err);
        }
    }

    if (reply->resend_of != NULL && reply->resend_of[0] != '\0') {
        status = inbox_sqlite_resend_find(conn, org, reply, &result->resent,
                                          err);
        if (status != INBOX_OK) {
            goto failed;
        }
    }

    charge = reply->credits;

    status = inbox_sqlite_reply_checks(conn, org, reply, user,
                                       &result->conversation, from,
                                       &charge, err);
    if (status != INBOX_OK) {
        goto failed;
    }

    status = inbox_sqlite_media_attach(conn, org, reply->media,
                                       reply->media_count, err);
    if (status != INBOX_OK) {
        goto failed;
    }

    /* the message as its plan charges it */
    charged = *reply;
    charged.credits = charge;

    return inbox_sqlite_reply_finish(conn, org, &charged, fingerprint, user,
                                     from, now, result, events, err);

failed:

    inbox_sqlite_rollback(conn);
    inbox_reply_result_free(result);
    memset(result, 0, sizeof(inbox_reply_result_t));

    return status;
}


/* notices: a keyword's answer (see inbox_store_outbox_notice) */

/*
 * The message a reply is, at no cost and with none of a reply's checks
 * (the contact may just have opted out: this is the one confirmation the
 * rules allow), from the number the keyword came to.
 */
inbox_status_t
inbox_sqlite_outbox_notice(inbox_store_t *store, const char *org_id,
    const char *conversation_id, const char *from, const char *body,
    unsigned segments, int64_t now, inbox_reply_result_t *result,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int                   rc;
    char                  number[INBOX_PHONE_MAX];
    int64_t               org, conversation;
    sqlite3_stmt         *stmt;
    inbox_reply_t         notice;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_sqlite_conn_t  *conn;

    if (err == NULL) {
        err = &fallback;
    }

    if (inbox_sqlite_parse_id(org_id, &org) != 0
        || inbox_sqlite_parse_id(conversation_id, &conversation) != 0)
    {
        return inbox_error_not_found(err, "conversation");
    }

    conn = inbox_sqlite_begin_write(store, err);
    if (conn == NULL) {
        return err->code;
    }

    now = inbox_now_ms();

    status = inbox_sqlite_conversation_load(conn, org, conversation,
                                            &result->conversation, err);
    if (status != INBOX_OK) {
        goto failed;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_REPLY_NUMBER,
        "SELECT e164 FROM numbers WHERE org_id = ?1"
        " AND (?2 IS NULL OR e164 = ?2) ORDER BY id LIMIT 1", err);
    if (stmt == NULL) {
        status = err->code;
        goto failed;
    }

    sqlite3_bind_int64(stmt, 1, org);
    inbox_sqlite_bind_text(stmt, 2, from);

    number[0] = '\0';
    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        inbox_sqlite_column_copy(stmt, 0, number, sizeof(number));
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        status = inbox_sqlite_fail(conn, rc, err);
        goto failed;
    }

    if (number[0] == '\0') {
        status = inbox_error_set(err, INBOX_ERR_CONFLICT,
                                 "This organization has no such number to "
                                 "send from.");
        goto failed;
    }

    memset(&notice, 0, sizeof(inbox_reply_t));
    notice.conversation_id = conversation_id;
    notice.body = body;
    notice.segments = segments;
    notice.credits = 0;
    notice.notice = 1;

    return inbox_sqlite_reply_finish(conn, org, &notice, "", 0, number, now,
                                     result, events, err);

failed:

    inbox_sqlite_rollback(conn);
    inbox_reply_result_free(result);
    memset(result, 0, sizeof(inbox_reply_result_t));

    return status;
}



/* A key used before: the same request gets its message as it is now, a
 * different one is a conflict. */
static inbox_status_t
inbox_sqlite_reply_repeat(inbox_sqlite_conn_t *conn, int64_t org,
    const inbox_reply_t *reply, const char *fingerprint,
    inbox_reply_result_t *result, int *found, inbox_error_t *err)
{
    int             rc, same;
    int64_t         message;
    sqlite3_stmt   *stmt;
    inbox_status_t  status;

    *found = 0;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_REPLY_KEY_FIND,
        "SELECT fingerprint = ?3, message_id FROM reply_keys"
        " WHERE org_id = ?1 AND key = ?2", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    inbox_sqlite_bind_text(stmt, 2, reply->idempotency_key);
    inbox_sqlite_bind_text(stmt, 3, fingerprint);

    rc = sqlite3_step(stmt);
    same = rc == SQLITE_ROW && sqlite3_column_int(stmt, 0);
    message = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 1) : 0;
    inbox_sqlite_done(stmt);

    if (rc == SQLITE_DONE) {
        return INBOX_OK;
    }

    if (rc != SQLITE_ROW) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    if (!same) {
        return inbox_error_set_field(err, INBOX_ERR_CONFLICT,
                                     "idempotency_key",
                                     "This Idempotency-Key was used for a "
                                     "different message; use a new key for "
                                     "a new message.");
    }

    status = inbox_sqlite_message_load(conn, message, &result->message, err);
    if (status != INBOX_OK) {
        return status;
    }

    status = inbox_sqlite_conversation_load(conn, org,
                 strtoll(result->message.conversation_id, NULL, 10),
                 &result->conversation, err);
    if (status != INBOX_OK) {
        return status;
    }

    result->repeated = 1;
    *found = 1;

    return INBOX_OK;
}


/* The failed reply a Send again names, read in the reply's write, and
 * whether it may go again (inbox_resend_check): another organization's
 * is none. */
static inbox_status_t
inbox_sqlite_resend_find(inbox_sqlite_conn_t *conn, int64_t org,
    const inbox_reply_t *reply, inbox_message_t *m, inbox_error_t *err)
{
    int             rc;
    int64_t         id;
    sqlite3_stmt   *stmt;
    inbox_status_t  status;

    if (inbox_sqlite_parse_id(reply->resend_of, &id) != 0) {
        return inbox_resend_check(reply, m, 0, err);
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_RESEND_FIND,
        "SELECT 1 FROM messages WHERE id = ?1 AND org_id = ?2", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_int64(stmt, 2, org);

    rc = sqlite3_step(stmt);
    inbox_sqlite_done(stmt);

    if (rc == SQLITE_DONE) {
        return inbox_resend_check(reply, m, 0, err);
    }

    if (rc != SQLITE_ROW) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    status = inbox_sqlite_message_load(conn, id, m, err);
    if (status != INBOX_OK) {
        return status;
    }

    return inbox_resend_check(reply, m, 1, err);
}


/* The failed reply marked sent again as the message just stored, and its
 * message.updated recorded, in the reply's transaction: the write lock
 * held since it was read, nobody marked it meanwhile. */
static inbox_status_t
inbox_sqlite_resend_mark(inbox_sqlite_conn_t *conn, int64_t org,
    inbox_reply_result_t *result, int64_t now, inbox_change_t *change,
    inbox_error_t *err)
{
    sqlite3_stmt     *stmt;
    inbox_message_t  *m;

    m = &result->resent;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_RESEND_MARK,
        "UPDATE messages SET resent_as = ?2, resent_at = ?3"
        " WHERE id = ?1 AND resent_as IS NULL", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, strtoll(m->id, NULL, 10));
    sqlite3_bind_int64(stmt, 2, strtoll(result->message.id, NULL, 10));
    sqlite3_bind_int64(stmt, 3, now);

    if (!inbox_sqlite_step_done(stmt)) {
        return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
    }

    if (sqlite3_changes(conn->db) != 1) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL,
                               "A failed reply was sent again inside a "
                               "transaction.");
    }

    memcpy(m->resent_as, result->message.id, sizeof(m->resent_as));
    m->resent_at = now;

    inbox_change_resent(change, m);

    return inbox_sqlite_events_record(conn, org, change, now, err);
}


/* Whether the reply may go (the contract's refusals, in its order), with
 * its thread in *c, the number it goes from (the one its contact last
 * texted, else the organization's first) and what its organization's
 * plan takes from the balance for it. */
static inbox_status_t
inbox_sqlite_reply_checks(inbox_sqlite_conn_t *conn, int64_t org,
    const inbox_reply_t *reply, int64_t user, inbox_conversation_t *c,
    char from[INBOX_PHONE_MAX], unsigned *charge, inbox_error_t *err)
{
    int             rc, active;
    char            plan[INBOX_PLAN_MAX], kept[INBOX_PHONE_MAX];
    char            first[INBOX_PHONE_MAX];
    int64_t         conversation, balance;
    sqlite3_stmt   *stmt;
    inbox_status_t  status;

    if (inbox_sqlite_parse_id(reply->conversation_id, &conversation) != 0) {
        return inbox_error_not_found(err, "conversation");
    }

    status = inbox_sqlite_conversation_load(conn, org, conversation, c, err);
    if (status != INBOX_OK) {
        return status;
    }

    /* the thread as this transaction sees it: nothing can slip in */
    status = inbox_reply_stale(reply, c, err);
    if (status != INBOX_OK) {
        return status;
    }

    if (user != 0) {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_REPLY_USER,
            "SELECT 1 FROM users WHERE id = ?1 AND org_id = ?2", err);
        if (stmt == NULL) {
            return err->code;
        }

        sqlite3_bind_int64(stmt, 1, user);
        sqlite3_bind_int64(stmt, 2, org);

        rc = sqlite3_step(stmt);
        inbox_sqlite_done(stmt);

        if (rc == SQLITE_DONE) {
            return inbox_error_set_field(err, INBOX_ERR_NOT_FOUND, "user",
                                         "There is no such user.");
        }

        if (rc != SQLITE_ROW) {
            return inbox_sqlite_fail(conn, rc, err);
        }
    }

    status = inbox_reply_reaches(reply, c->contact.opted_out,
                                 c->contact.phone, err);
    if (status != INBOX_OK) {
        return status;
    }

    /* the number the contact last texted while the organization has
     * it, and its first (inbox_reply_from) */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_REPLY_ORG,
        "SELECT billing_active, credits_balance,"
        " (SELECT n.e164 FROM conversations c"
        "   JOIN numbers n ON n.e164 = c.number AND n.org_id = c.org_id"
        "   WHERE c.id = ?2),"
        " plan,"
        " (SELECT e164 FROM numbers WHERE org_id = ?1 ORDER BY id LIMIT 1)"
        " FROM orgs WHERE id = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    sqlite3_bind_int64(stmt, 2, conversation);

    active = 0;
    balance = 0;
    plan[0] = '\0';
    kept[0] = '\0';
    first[0] = '\0';
    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        active = sqlite3_column_int(stmt, 0);
        balance = sqlite3_column_int64(stmt, 1);
        inbox_sqlite_column_copy(stmt, 2, kept, sizeof(kept));
        inbox_sqlite_column_copy(stmt, 3, plan, sizeof(plan));
        inbox_sqlite_column_copy(stmt, 4, first, sizeof(first));
    }

    snprintf(from, INBOX_PHONE_MAX, "%s", inbox_reply_from(kept, first));

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_ROW) {
        return inbox_sqlite_fail(conn, rc == SQLITE_DONE ? SQLITE_INTERNAL
                                                        : rc, err);
    }

    if (!active) {
        return inbox_reply_billing_inactive(err);
    }

    *charge = inbox_plan_charge(inbox_plan_stored(plan), reply->credits);

    if (balance < (int64_t) *charge) {
        return inbox_reply_credits_short(reply->credits, balance, err);
    }

    if (from[0] == '\0') {
        return inbox_error_no_number(err);
    }

    return INBOX_OK;
}


inbox_status_t
inbox_sqlite_reply_store(inbox_sqlite_conn_t *conn, int64_t org,
    const inbox_reply_t *reply, const char *fingerprint, int64_t user,
    int64_t campaign, const char *kind, const char *from, int64_t now,
    inbox_reply_result_t *result, inbox_change_t *change, inbox_error_t *err)
{
    inbox_status_t  status;

    status = inbox_sqlite_reply_write(conn, org, reply, fingerprint, user,
                                      campaign, kind, from, now, result,
                                      change, err);
    if (status != INBOX_OK) {
        return status;
    }

    return inbox_sqlite_events_record(conn, org, change, now, err);
}


/* The message, its media, the hold, the outbox entry, the key, the
 * thread and the events; a campaign's message (campaign not 0) is
 * claimed after every reply (INBOX_OUTBOX_BULK). */
inbox_status_t
inbox_sqlite_reply_write(inbox_sqlite_conn_t *conn, int64_t org,
    const inbox_reply_t *reply, const char *fingerprint, int64_t user,
    int64_t campaign, const char *kind, const char *from, int64_t now,
    inbox_reply_result_t *result, inbox_change_t *change, inbox_error_t *err)
{
    int                   moved;
    size_t                i;
    int64_t               message, conversation;
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_preview_t       preview;
    inbox_message_t      *m;
    inbox_conversation_t *c;

    m = &result->message;
    c = &result->conversation;
    conversation = strtoll(c->id, NULL, 10);

    /* a message that costs nothing (a notice) holds nothing */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_REPLY_MESSAGE,
        "INSERT INTO messages (org_id, conversation_id, direction, body,"
        " status, segments, credits, created_at, sent_by, held, campaign_id,"
        " from_e164)"
        " VALUES (?1, ?2, 'outbound', ?3, 'queued', ?4, ?5, ?6, ?7, ?5 > 0,"
        " ?8, ?9)", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    sqlite3_bind_int64(stmt, 2, conversation);
    inbox_sqlite_bind_text(stmt, 3, reply->body);
    sqlite3_bind_int(stmt, 4, (int) reply->segments);
    sqlite3_bind_int(stmt, 5, (int) reply->credits);
    sqlite3_bind_int64(stmt, 6, now);

    if (user != 0) {
        sqlite3_bind_int64(stmt, 7, user);
    }

    if (campaign != 0) {
        sqlite3_bind_int64(stmt, 8, campaign);
    }

    /* the outbox entry's below: what a status check asks with */
    inbox_sqlite_bind_text(stmt, 9, from);

    if (!inbox_sqlite_step_done(stmt)) {
        return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
    }

    message = sqlite3_last_insert_rowid(conn->db);

    for (i = 0; i < reply->media_count; i++) {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_REPLY_MEDIA,
            "INSERT INTO message_media (message_id, idx, url, content_type,"
            "  state, file, bytes)"
            " VALUES (?1, ?2, ?3, ?4, 'stored', ?5, ?6)", err);
        if (stmt == NULL) {
            return err->code;
        }

        sqlite3_bind_int64(stmt, 1, message);
        sqlite3_bind_int64(stmt, 2, (int64_t) i);
        inbox_sqlite_bind_text(stmt, 3, reply->media[i].url);
        inbox_sqlite_bind_text(stmt, 4, reply->media[i].content_type);
        /* an upload of ours: stored already, nothing to copy */
        inbox_sqlite_bind_text(stmt, 5, reply->media[i].file);
        sqlite3_bind_int64(stmt, 6, reply->media[i].bytes);

        if (!inbox_sqlite_step_done(stmt)) {
            return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
        }
    }

    /* what was read above still holds (the write lock), but the guard
     * is the UPDATE's own */
    if (reply->credits > 0) {
        status = inbox_sqlite_credits_move(conn, org, INBOX_LEDGER_HOLD,
                                           reply->credits, message, now,
                                           &moved, err);
        if (status != INBOX_OK) {
            return status;
        }

        if (!moved) {
            return inbox_error_set(err, INBOX_ERR_INTERNAL,
                                   "The balance changed inside a "
                                   "transaction.");
        }
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_OUTBOX_ADD,
        "INSERT INTO outbox (org_id, message_id, priority, from_e164, due_at,"
        " created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    sqlite3_bind_int64(stmt, 2, message);
    sqlite3_bind_int(stmt, 3, inbox_outbox_priority_of(reply,
                                                        campaign != 0));
    inbox_sqlite_bind_text(stmt, 4, from);
    sqlite3_bind_int64(stmt, 5, now);

    if (!inbox_sqlite_step_done(stmt)) {
        return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
    }

    if (fingerprint[0] != '\0') {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_REPLY_KEY_ADD,
            "INSERT INTO reply_keys (org_id, key, user_id, fingerprint,"
            " message_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", err);
        if (stmt == NULL) {
            return err->code;
        }

        sqlite3_bind_int64(stmt, 1, org);
        inbox_sqlite_bind_text(stmt, 2, reply->idempotency_key);

        if (user != 0) {
            sqlite3_bind_int64(stmt, 3, user);
        }

        inbox_sqlite_bind_text(stmt, 4, fingerprint);
        sqlite3_bind_int64(stmt, 5, message);
        sqlite3_bind_int64(stmt, 6, now);

        if (!inbox_sqlite_step_done(stmt)) {
            return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
        }
    }

    /* inbox_conversation_reply's rule, in SQL (a keyword's answer, timed
     * just after its message, is older than a reply stored meanwhile),
     * or a campaign's, inbox_conversation_bulk's (?5 = 0): no response,
     * so what waited for one still waits, and no activity for a thread
     * that had none, which stays out of the lists */
    inbox_message_preview(reply->body, reply->media, reply->media_count,
                          &preview);

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_REPLY_TOUCH,
        "UPDATE conversations SET"
        " last_message_id = CASE WHEN " INBOX_SQLITE_NEWER("?4")
        "   THEN ?2 ELSE last_message_id END,"
        " last_direction = CASE WHEN " INBOX_SQLITE_NEWER("?4")
        "   THEN 'outbound' ELSE last_direction END,"
        " last_preview = CASE WHEN " INBOX_SQLITE_NEWER("?4")
        "   THEN ?3 ELSE last_preview END,"
        " last_media_type = CASE WHEN " INBOX_SQLITE_NEWER("?4")
        "   THEN ?6 ELSE last_media_type END,"
        " last_sent_by = CASE WHEN " INBOX_SQLITE_NEWER("?4")
        "   THEN ?7 ELSE last_sent_by END,"
        " last_campaign_id = CASE WHEN " INBOX_SQLITE_NEWER("?4")
        "   THEN ?8 ELSE last_campaign_id END,"
        " last_message_at = CASE WHEN " INBOX_SQLITE_NEWER("?4")
        "   THEN ?4 ELSE last_message_at END,"
        " last_activity_at = CASE WHEN ?5 OR " INBOX_SQLITE_LISTED_SQL
        "   THEN max(last_activity_at, ?4) ELSE last_activity_at END,"
        " responded_at = CASE WHEN ?5"
        "   THEN max(coalesce(responded_at, 0), ?4) ELSE responded_at END,"
        " unresponded_at = CASE WHEN ?5 AND ?4 >= unresponded_at"
        "   THEN NULL ELSE unresponded_at END"
        " WHERE id = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, conversation);
    sqlite3_bind_int64(stmt, 2, message);
    inbox_sqlite_bind_text(stmt, 3, preview.text);
    sqlite3_bind_int64(stmt, 4, now);
    sqlite3_bind_int(stmt, 5, campaign == 0);
    inbox_sqlite_bind_text(stmt, 6, preview.media_type[0]
                                    ? preview.media_type : NULL);

    if (user != 0) {
        sqlite3_bind_int64(stmt, 7, user);
    }

    if (campaign != 0) {
        sqlite3_bind_int64(stmt, 8, campaign);
    }

    if (!inbox_sqlite_step_done(stmt)) {
        return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
    }

    /* the message and thread as stored, for the answer and the frames */
    inbox_sqlite_format_id(message, m->id);
    memcpy(m->conversation_id, c->id, sizeof(m->conversation_id));

    if (inbox_reply_message(m, reply, now, err) != INBOX_OK) {
        return INBOX_ERR_INTERNAL;    /* out of memory */
    }

    if (user != 0) {
        inbox_sqlite_format_id(user, m->sent_by);
    }

    if (campaign != 0) {
        inbox_sqlite_format_id(campaign, m->campaign_id);
        snprintf(m->campaign_kind, sizeof(m->campaign_kind), "%s", kind);
    }

    if (campaign == 0) {
        inbox_conversation_reply(c, m, &preview);
    } else {
        inbox_conversation_bulk(c, m, &preview);
    }

    inbox_change_reply(change, m, c);

    return INBOX_OK;
}


/*
 * Claims the due entries in one transaction: the oldest replies, then
 * the oldest others, each leased (due again, and so claimable, only when
 * the lease runs out).  An entry of a campaign paused by a person is
 * parked instead (outbox.h), one of a cancelled campaign handed out to
 * be reported so, and a bulk one in its recipient's quiet hours put off
 * until they end (inbox_outbox_quiet), its recipient counted waiting for
 * them until it is claimed again.  (A pause for credits or billing
 * stops only the campaign's dispatch: what it handed over holds its
 * credits and goes.)  What it parks gives its hold back, and a
 * campaign's message it hands out holds again first (outbox.h).
 */
inbox_status_t
inbox_sqlite_outbox_claim(inbox_store_t *store, int64_t now,
    int64_t quiet_now, size_t max, int64_t lease,
    inbox_outbox_priority_t priority_max, const inbox_outbox_paces_t *paces,
    inbox_outbox_batch_t *batch, inbox_error_t *err)
{
    int                   rc, took, held;
    size_t                i, j, n, nparked;
    int64_t               until, opted_out_at, opens, *messages, *parked;
    int64_t              *parked_until, *put_off, *unheld;
    char                  contact_tz[INBOX_TIMEZONE_MAX];
    char                  org_tz[INBOX_TIMEZONE_MAX];
    char                (*froms)[INBOX_PHONE_MAX];
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_sqlite_conn_t  *conn;
    inbox_outbox_item_t  *item;
    inbox_outbox_billing_t   billing;
    inbox_outbox_pacing_t    pacing;
    inbox_campaign_outbox_t  fate;

    if (err == NULL) {
        err = &fallback;
    }

    inbox_outbox_pacing_init(&pacing, paces);

    batch->items = calloc(max, sizeof(inbox_outbox_item_t));
    messages = calloc(max, sizeof(int64_t));
    parked = calloc(max, sizeof(int64_t));
    parked_until = calloc(max, sizeof(int64_t));
    put_off = calloc(max, sizeof(int64_t));
    unheld = calloc(max, sizeof(int64_t));
    froms = calloc(max, INBOX_PHONE_MAX);

    if (batch->items == NULL || messages == NULL || parked == NULL
        || parked_until == NULL || put_off == NULL || unheld == NULL
        || froms == NULL)
    {
        free(batch->items);
        batch->items = NULL;
        free(messages);
        free(parked);
        free(parked_until);
        free(put_off);
        free(unheld);
        free(froms);
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    until = now + lease;

    conn = inbox_sqlite_begin_write(store, err);
    if (conn == NULL) {
        status = err->code;
        goto done;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_OUTBOX_DUE,
        "SELECT o.id, o.org_id, o.message_id, o.attempts, o.lease_until,"
        " o.priority, o.from_e164, m.campaign_id, c.status,"
        " c.paused_reason, ct.timezone, g.timezone, g.quiet_start,"
        " g.quiet_end, g.billing_active, m.segments,"
        " CASE WHEN ct.opted_out THEN ct.opted_out_at ELSE 0 END"
        " FROM outbox o JOIN messages m ON m.id = o.message_id"
        " LEFT JOIN campaigns c ON c.id = m.campaign_id"
        " JOIN conversations cv ON cv.id = m.conversation_id"
        " JOIN contacts ct ON ct.id = cv.contact_id"
        " JOIN orgs g ON g.id = o.org_id"
        " WHERE o.priority <= ?3 AND o.due_at <= ?1"
        " ORDER BY o.priority, o.due_at, o.id LIMIT ?2", err);
    if (stmt == NULL) {
        status = err->code;
        goto failed;
    }

    /* paced, the rows past a number's cap are passed over: no limit */
    sqlite3_bind_int64(stmt, 1, now);
    sqlite3_bind_int64(stmt, 2, paces != NULL ? -1 : (int64_t) max);
    sqlite3_bind_int(stmt, 3, (int) priority_max);

    n = 0;
    nparked = 0;
    rc = SQLITE_DONE;

    while (n + nparked < max && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        fate = inbox_sqlite_campaign_outbox(stmt, 8);

        if (fate == INBOX_OUTBOX_WAITS) {
            /* parked, holding nothing (outbox.h); one a lease ran out on
             * keeps its hold: it may have gone, and is reported so */
            parked[nparked] = sqlite3_column_int64(stmt, 0);
            put_off[nparked] = 0;
            unheld[nparked] = sqlite3_column_type(stmt, 4) == SQLITE_NULL
                              ? sqlite3_column_int64(stmt, 2) : 0;
            parked_until[nparked++] = INBOX_OUTBOX_PARKED;
            continue;
        }

        item = &batch->items[n];

        inbox_sqlite_format_id(sqlite3_column_int64(stmt, 0), item->id);
        inbox_sqlite_format_id(sqlite3_column_int64(stmt, 1), item->org_id);
        messages[n] = sqlite3_column_int64(stmt, 2);
        item->attempt = (unsigned) sqlite3_column_int(stmt, 3) + 1;
        item->interrupted = sqlite3_column_type(stmt, 4) != SQLITE_NULL;
        item->priority = (inbox_outbox_priority_t) sqlite3_column_int(stmt,
                                                                      5);
        item->lease_until = until;
        inbox_sqlite_column_copy(stmt, 6, froms[n], INBOX_PHONE_MAX);

        if (sqlite3_column_type(stmt, 7) != SQLITE_NULL) {
            inbox_sqlite_format_id(sqlite3_column_int64(stmt, 7),
                                   item->campaign_id);
        }

        item->cancelled = (fate == INBOX_OUTBOX_CANCELLED);

        /* as the message's read says it below: known before the hold
         * again, which one never sent does not take */
        item->withdrawn = inbox_outbox_withdrawn(item->priority,
                                                 sqlite3_column_int64(stmt,
                                                                      16));

        billing = inbox_outbox_billing(item, sqlite3_column_int(stmt, 14));

        if (billing == INBOX_OUTBOX_BILLING_PARKS) {
            /* as it is, its attempt not counted, until billing is back,
             * holding nothing meanwhile */
            parked[nparked] = sqlite3_column_int64(stmt, 0);
            put_off[nparked] = 0;
            unheld[nparked] = messages[n];
            parked_until[nparked++] = INBOX_OUTBOX_PARKED;
            memset(item, 0, sizeof(inbox_outbox_item_t));
            continue;
        }

        item->billing_inactive = (billing == INBOX_OUTBOX_BILLING_FAILS);

        inbox_sqlite_column_copy(stmt, 10, contact_tz, sizeof(contact_tz));
        inbox_sqlite_column_copy(stmt, 11, org_tz, sizeof(org_tz));

        if (inbox_outbox_quiet(item, contact_tz, org_tz,
                               sqlite3_column_int(stmt, 12),
                               sqlite3_column_int(stmt, 13), quiet_now,
                               &opens))
        {
            /* put off as it is, its attempt not counted */
            parked[nparked] = sqlite3_column_int64(stmt, 0);
            put_off[nparked] = sqlite3_column_int64(stmt, 2);
            unheld[nparked] = 0;
            parked_until[nparked++] = now + (opens - quiet_now);
            memset(item, 0, sizeof(inbox_outbox_item_t));
            continue;
        }

        /* only what is handed out starts a request: what waits (parked,
         * put off) is taken whatever the number's cap */
        took = inbox_outbox_pacing_take(&pacing, froms[n],
                                        (unsigned) sqlite3_column_int(stmt,
                                                                      15));
        if (took < 0) {
            inbox_sqlite_done(stmt);
            status = inbox_error_set(err, INBOX_ERR_INTERNAL,
                                     "Out of memory.");
            goto failed;
        }

        if (took == 0) {
            batch->passed_over = 1;
            memset(item, 0, sizeof(inbox_outbox_item_t));
            continue;
        }

        n++;
    }

    inbox_sqlite_done(stmt);

    if (n + nparked < max && rc != SQLITE_DONE) {
        status = inbox_sqlite_fail(conn, rc, err);
        goto failed;
    }

    /* a campaign's message parked before holds again as it is handed
     * out; one the balance no longer covers is parked instead, its
     * campaign paused for credits (as dispatch pauses it) */
    for (i = 0, j = 0; i < n; i++) {
        item = &batch->items[i];
        held = 1;

        if (item->priority == INBOX_OUTBOX_BULK
            && item->campaign_id[0] != '\0'
            && !item->interrupted && !item->cancelled && !item->withdrawn)
        {
            /* one withdrawn is reported, never sent: parked, it holds
             * nothing to give back, so it takes no hold */
            status = inbox_sqlite_hold_again(conn, messages[i], now, &held,
                                             err);
            if (status == INBOX_OK && !held) {
                status = inbox_sqlite_campaign_credits_short(conn,
                                                             messages[i],
                                                             quiet_now, err);
            }
            if (status != INBOX_OK) {
                goto failed;
            }
        }

        if (!held) {
            parked[nparked] = strtoll(item->id, NULL, 10);
            put_off[nparked] = 0;
            unheld[nparked] = 0;
            parked_until[nparked++] = INBOX_OUTBOX_PARKED;
            continue;
        }

        if (j != i) {
            batch->items[j] = *item;
            messages[j] = messages[i];
            memcpy(froms[j], froms[i], INBOX_PHONE_MAX);
        }

        j++;
    }

    for (i = j; i < n; i++) {
        memset(&batch->items[i], 0, sizeof(inbox_outbox_item_t));
    }

    n = j;

    for (i = 0; i < nparked; i++) {
        status = inbox_sqlite_outbox_due(conn, parked[i], parked_until[i],
                                         err);
        if (status == INBOX_OK && put_off[i] != 0) {
            status = inbox_sqlite_recipient_waits(conn, put_off[i], 1, err);
        }
        if (status == INBOX_OK && unheld[i] != 0) {
            status = inbox_sqlite_hold_give_back(conn, unheld[i], now, err);
        }
        if (status != INBOX_OK) {
            goto failed;
        }
    }

    for (i = 0; i < n; i++) {
        item = &batch->items[i];

        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_OUTBOX_LEASE,
            "UPDATE outbox SET attempts = attempts + 1, lease_until = ?2,"
            " due_at = ?2 WHERE id = ?1", err);
        if (stmt == NULL) {
            status = err->code;
            goto failed;
        }

        sqlite3_bind_int64(stmt, 1, strtoll(item->id, NULL, 10));
        sqlite3_bind_int64(stmt, 2, until);

        if (!inbox_sqlite_step_done(stmt)) {
            status = inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
            goto failed;
        }

        opted_out_at = 0;

        status = INBOX_OK;

        if (item->priority == INBOX_OUTBOX_BULK
            && item->campaign_id[0] != '\0'
            && !item->interrupted && !item->cancelled)
        {
            /* put off by an earlier claim, perhaps: queued again */
            status = inbox_sqlite_recipient_waits(conn, messages[i], 0, err);

            if (status == INBOX_OK) {
                status = inbox_sqlite_recipient_goes(conn, messages[i],
                                                     quiet_now, err);
            }
        }

        if (status == INBOX_OK) {
            status = inbox_sqlite_message_load(conn, messages[i],
                                               &item->message, err);
        }
        if (status == INBOX_OK) {
            status = inbox_sqlite_message_contact(conn, messages[i],
                                                  item->to, NULL,
                                                  &opted_out_at, err);
        }

        /* an opt-out withdraws it: the sender reports it */
        item->withdrawn = inbox_outbox_withdrawn(item->priority,
                                                 opted_out_at);

        /*
         * Read in the claim's transaction: a read that fails undoes the
         * claim, where a failure after the commit would have sent it as
         * if its number were gone.  A number removed since the message
         * was written leaves e164 "": the sender reports it refused.
         */
        if (status == INBOX_OK) {
            status = inbox_sqlite_number_read(conn, froms[i], &item->number,
                                              err);
            if (status == INBOX_ERR_NOT_FOUND) {
                memset(&item->number, 0, sizeof(inbox_number_t));
                status = INBOX_OK;
            }
        }

        batch->count = i + 1;

        if (status != INBOX_OK) {
            goto failed;
        }
    }

    status = inbox_sqlite_commit(conn, err);
    if (status != INBOX_OK) {
        goto undone;
    }

    goto done;

failed:

    inbox_sqlite_rollback(conn);

undone:

    inbox_outbox_batch_free(batch);

done:

    free(messages);
    free(parked);
    free(parked_until);
    free(put_off);
    free(unheld);
    free(froms);
    inbox_outbox_pacing_free(&pacing);

    return status;
}


/*
 * Each message's contact's opt-out and zone and its organization's quiet
 * hours: one statement a message, prepared once, no write lock, each
 * row found by primary keys (the message, its thread, its contact, its
 * organization).
 */
inbox_status_t
inbox_sqlite_outbox_held(inbox_store_t *store,
    const char *const *message_ids,
    const inbox_outbox_priority_t *priorities, size_t n,
    inbox_outbox_held_read_t *reads, inbox_error_t *err)
{
    int                        rc;
    size_t                     i;
    int64_t                    message;
    sqlite3_stmt              *stmt;
    inbox_error_t              fallback;
    inbox_sqlite_conn_t       *conn;
    inbox_outbox_held_read_t  *read;

    (void) priorities;

    if (err == NULL) {
        err = &fallback;
    }

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        return err->code;
    }

    for (i = 0; i < n; i++) {
        if (inbox_sqlite_parse_id(message_ids[i], &message) != 0) {
            continue;
        }

        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_OUTBOX_HELD,
            "SELECT CASE WHEN ct.opted_out THEN ct.opted_out_at ELSE 0 END,"
            " ct.timezone, g.timezone, g.quiet_start, g.quiet_end"
            " FROM messages m"
            " JOIN conversations c ON c.id = m.conversation_id"
            " JOIN contacts ct ON ct.id = c.contact_id"
            " JOIN orgs g ON g.id = m.org_id WHERE m.id = ?1",
            err);
        if (stmt == NULL) {
            return err->code;
        }

        sqlite3_bind_int64(stmt, 1, message);

        rc = sqlite3_step(stmt);

        if (rc == SQLITE_ROW) {
            read = &reads[i];
            read->found = 1;
            read->opted_out_at = sqlite3_column_int64(stmt, 0);
            inbox_sqlite_column_copy(stmt, 1, read->contact_tz,
                                     sizeof(read->contact_tz));
            inbox_sqlite_column_copy(stmt, 2, read->org_tz,
                                     sizeof(read->org_tz));
            read->quiet_start = sqlite3_column_int(stmt, 3);
            read->quiet_end = sqlite3_column_int(stmt, 4);
        }

        inbox_sqlite_done(stmt);

        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            return inbox_sqlite_fail(conn, rc, err);
        }
    }

    return INBOX_OK;
}


/*
 * The sender's results of a turn, in one transaction (one fsync of the
 * log for all of them).  Like an ingest batch (store_sqlite_ingest.c) it
 * first runs without a savepoint per record: most records are stored,
 * and one refused (a result recorded already, a lost claim) is refused
 * before it writes.  Only a record refused after it wrote rolls the
 * transaction back, and the batch runs again with a savepoint per
 * record.  The frames are pushed after the commit, in order.
 */
inbox_status_t
inbox_sqlite_outbox_results(inbox_store_t *store,
    inbox_outbox_ruled_t *records, size_t n, int64_t now,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int                   again;
    size_t                i;
    inbox_status_t        status;
    inbox_error_t         fallback, one;
    inbox_sqlite_conn_t  *conn;
    inbox_sqlite_move_t  *moves;

    if (err == NULL) {
        err = &fallback;
    }

    moves = calloc(n, sizeof(inbox_sqlite_move_t));
    if (moves == NULL) {
        status = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        goto failed;
    }

    conn = inbox_sqlite_begin_write(store, err);
    if (conn == NULL) {
        status = err->code;
        goto failed;
    }

    again = 0;
    status = inbox_sqlite_outbox_pass(conn, records, n, now, moves, 0,
                                      &again, err);

    if (status == INBOX_OK && again) {
        inbox_sqlite_rollback(conn);
        inbox_sqlite_outbox_forget(records, n, moves);

        conn = inbox_sqlite_begin_write(store, err);
        if (conn == NULL) {
            status = err->code;
            goto failed;
        }

        status = inbox_sqlite_outbox_pass(conn, records, n, now, moves, 1,
                                          &again, err);
    }

    if (status != INBOX_OK) {
        inbox_sqlite_rollback(conn);
        goto failed;
    }

    status = inbox_sqlite_commit(conn, err);
    if (status != INBOX_OK) {
        goto failed;
    }

    for (i = 0; i < n; i++) {
        /* out of memory loses a frame, not the result: durable, its
         * browsers learn it at their next reload */
        (void) inbox_sqlite_move_push(&moves[i], events, &one);
        inbox_sqlite_move_free(&moves[i]);
    }

    free(moves);

    return INBOX_OK;

failed:

    if (moves != NULL) {
        inbox_sqlite_outbox_forget(records, n, moves);
        free(moves);
    }

    for (i = 0; i < n; i++) {
        memset(&records[i].record->report, 0, sizeof(inbox_send_report_t));
        records[i].record->status = status;
        records[i].record->error = *err;
    }

    return status;
}


/*
 * Records the batch in order, the careful pass each record in a
 * savepoint.  The fast pass runs none: a record refused before it wrote
 * is simply refused, but one refused after it wrote stops the pass with
 * *again set.  A status other than INBOX_OK (the store's error) fails
 * the whole batch.
 */
static inbox_status_t
inbox_sqlite_outbox_pass(inbox_sqlite_conn_t *conn,
    inbox_outbox_ruled_t *records, size_t n, int64_t now,
    inbox_sqlite_move_t *moves, int careful, int *again, inbox_error_t *err)
{
    int                     rc;
    size_t                  i;
    int64_t                 wrote;
    inbox_status_t          status;
    inbox_outbox_record_t  *record;

    for (i = 0; i < n; i++) {
        record = records[i].record;

        if (careful) {
            rc = inbox_sqlite_run(conn, INBOX_SQL_SAVEPOINT, "SAVEPOINT one");
            if (rc != SQLITE_OK) {
                return inbox_sqlite_fail(conn, rc, err);
            }
        }

        wrote = sqlite3_total_changes64(conn->db);

        status = inbox_sqlite_outbox_record(conn, &records[i], now,
                                            &moves[i], &record->error);

        if (status != INBOX_OK) {
            inbox_sqlite_move_free(&moves[i]);
            memset(&record->report, 0, sizeof(inbox_send_report_t));

            if (status == INBOX_ERR_UNAVAILABLE
                || status == INBOX_ERR_INTERNAL
                || sqlite3_get_autocommit(conn->db))
            {
                /* the store's, not the record's (or SQLite rolled the
                 * whole transaction back: I/O, full) */
                *err = record->error;
                return status;
            }

            if (careful) {
                rc = inbox_sqlite_run(conn, INBOX_SQL_ROLLBACK_TO,
                                      "ROLLBACK TO one");
                if (rc != SQLITE_OK) {
                    return inbox_sqlite_fail(conn, rc, err);
                }

            } else if (sqlite3_total_changes64(conn->db) != wrote) {
                *again = 1;
                return INBOX_OK;
            }

            record->status = status;
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


/* What a rolled back pass said: nothing. */
static void
inbox_sqlite_outbox_forget(inbox_outbox_ruled_t *records, size_t n,
    inbox_sqlite_move_t *moves)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        inbox_sqlite_move_free(&moves[i]);
        memset(&records[i].record->report, 0, sizeof(inbox_send_report_t));
        memset(&records[i].record->error, 0, sizeof(inbox_error_t));
        records[i].record->status = INBOX_OK;
    }
}


/*
 * One result, inside the batch's transaction: the status moved (*mv, its
 * frame pushed after the commit) and the report filled.  A refusal
 * (INBOX_ERR_NOT_FOUND, _CONFLICT) before anything is written.
 */
static inbox_status_t
inbox_sqlite_outbox_record(inbox_sqlite_conn_t *conn,
    const inbox_outbox_ruled_t *ruled, int64_t now, inbox_sqlite_move_t *mv,
    inbox_error_t *err)
{
    int                       rc, final;
    int64_t                   entry, org, message;
    unsigned                  attempts;
    sqlite3_stmt             *stmt;
    inbox_status_t            status;
    inbox_send_report_t      *report;
    char                      code[INBOX_CARRIER_CODE_MAX];
    inbox_delivery_t          to;
    inbox_send_result_t       taken;
    inbox_sqlite_delivery_t   d;
    inbox_recipient_state_t   unsent;
    const inbox_send_result_t  *result;

    result = &ruled->result;
    report = &ruled->record->report;

    if (inbox_sqlite_parse_id(ruled->record->entry_id, &entry) != 0) {
        return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                               "No such outbox entry.");
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_OUTBOX_GET,
        "SELECT org_id, message_id, attempts FROM outbox WHERE id = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, entry);

    rc = sqlite3_step(stmt);
    org = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    message = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 1) : 0;
    attempts = rc == SQLITE_ROW ? (unsigned) sqlite3_column_int(stmt, 2) : 0;
    inbox_sqlite_done(stmt);

    if (rc == SQLITE_DONE) {
        return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                               "No such outbox entry waits: its result "
                               "was recorded already.");
    }

    if (rc != SQLITE_ROW) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    if (attempts != ruled->record->attempt) {
        return inbox_error_set(err, INBOX_ERR_CONFLICT,
                               "This claim was lost: its lease ran out "
                               "and the entry was claimed again.");
    }

    inbox_sqlite_format_id(message, report->message_id);

    if (result->outcome == INBOX_SEND_UNKNOWN) {
        /* a callback that overtook this record named the message: the
         * carrier has it, and said its id */
        taken = *result;

        status = inbox_sqlite_early_named(conn, org, result->carrier,
                                          message, taken.provider_id, err);
        if (status != INBOX_OK) {
            return status;
        }

        if (taken.provider_id[0] != '\0') {
            taken.outcome = INBOX_SEND_ACCEPTED;
            taken.status = INBOX_DELIVERY_SENDING;
            taken.error_code[0] = '\0';
            result = &taken;
        }
    }

    if (result->outcome == INBOX_SEND_RETRY
        || result->outcome == INBOX_SEND_RELEASED)
    {
        /* released: as if this claim never was, its attempt not counted */
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_OUTBOX_RETRY,
            "UPDATE outbox SET due_at = ?2, lease_until = NULL,"
            " last_error = coalesce(?3, last_error),"
            " attempts = attempts - ?4 WHERE id = ?1", err);
        if (stmt == NULL) {
            return err->code;
        }

        sqlite3_bind_int64(stmt, 1, entry);
        sqlite3_bind_int64(stmt, 2, ruled->next_at);
        inbox_sqlite_bind_text(stmt, 3, result->error_code[0] != '\0'
                                           ? result->error_code : NULL);
        sqlite3_bind_int(stmt, 4, result->outcome == INBOX_SEND_RELEASED);

        if (!inbox_sqlite_step_done(stmt)) {
            return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
        }

        /* given back because the carrier refused its number's account:
         * its campaign pauses with it, so that the next claim parks it
         * and what else the campaign has in the outbox */
        if (result->outcome == INBOX_SEND_RELEASED && result->account) {
            status = inbox_sqlite_campaign_carrier_refused(conn, message,
                                                           result->error_code,
                                                           now, err);
            if (status != INBOX_OK) {
                return status;
            }
        }

        status = inbox_sqlite_delivery_get(conn, org, message, &d, err);
        if (status != INBOX_OK) {
            return status;
        }

        report->status = d.status;
        report->next_attempt_at = ruled->next_at;

        return INBOX_OK;
    }

    if (result->outcome == INBOX_SEND_ACCEPTED) {
        /* the carrier's id, by which its status reports find it */
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_MESSAGE_PROVIDER,
            "UPDATE messages SET provider = ?2, provider_id = ?3,"
            " submitted_at = ?4 WHERE id = ?1", err);
        if (stmt == NULL) {
            return err->code;
        }

        sqlite3_bind_int64(stmt, 1, message);
        inbox_sqlite_bind_text(stmt, 2, inbox_carrier_name(result->carrier));
        inbox_sqlite_bind_text(stmt, 3, result->provider_id);
        sqlite3_bind_int64(stmt, 4, now);

        rc = sqlite3_step(stmt);
        inbox_sqlite_done(stmt);

        if (rc != SQLITE_DONE) {
            return inbox_sqlite_write_fail(conn, rc, "the carrier's id",
                                           NULL, err);
        }

        /* what the carrier reported before its answer came */
        to = result->status;
        code[0] = '\0';

        status = inbox_sqlite_early_take(conn, org, result->carrier,
                                         result->provider_id, &to, &final,
                                         code, err);
        if (status != INBOX_OK) {
            return status;
        }

        status = inbox_sqlite_delivery_move(conn, org, message, to, final,
                                            code[0] ? code : NULL, now, mv,
                                            err);

        if (status == INBOX_OK
            && strcmp(code, INBOX_SEND_ERROR_OPTED_OUT) == 0)
        {
            status = inbox_sqlite_message_contact(conn, message, NULL,
                                                  report->opted_out_contact,
                                                  NULL, err);
            report->opted_out_sent_at = now;
        }

    } else if (result->outcome == INBOX_SEND_UNKNOWN) {
        /* the carrier may have it: taken now, as far as the hold's
         * expiry goes, and not final; a callback naming the message
         * gives it its carrier id */
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_MESSAGE_UNKNOWN,
            "UPDATE messages SET provider = ?2, submitted_at = ?3"
            " WHERE id = ?1", err);
        if (stmt == NULL) {
            return err->code;
        }

        sqlite3_bind_int64(stmt, 1, message);
        inbox_sqlite_bind_text(stmt, 2, inbox_carrier_name(result->carrier));
        sqlite3_bind_int64(stmt, 3, now);

        if (!inbox_sqlite_step_done(stmt)) {
            return inbox_sqlite_write_fail(conn, sqlite3_errcode(conn->db),
                                           "the carrier", NULL, err);
        }

        status = inbox_sqlite_delivery_move(conn, org, message,
                                            INBOX_DELIVERY_SENDING, 0,
                                            result->error_code, now, mv,
                                            err);

    } else {
        status = inbox_sqlite_delivery_move(conn, org, message,
                                            INBOX_DELIVERY_FAILED, 0,
                                            result->error_code, now, mv,
                                            err);

        if (status == INBOX_OK
            && result->outcome == INBOX_SEND_OPTED_OUT)
        {
            status = inbox_sqlite_message_contact(conn, message, NULL,
                                                  report->opted_out_contact,
                                                  NULL, err);
            report->opted_out_sent_at = now;
        }

        if (status == INBOX_OK
            && inbox_recipient_of_unsent(result->outcome, &unsent) == 0)
        {
            status = inbox_sqlite_recipient_unsent(conn, message, unsent,
                                                   err);
        }
    }

    if (status != INBOX_OK) {
        return status;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_OUTBOX_DONE,
                             "DELETE FROM outbox WHERE id = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, entry);

    if (!inbox_sqlite_step_done(stmt)) {
        return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
    }

    status = inbox_sqlite_delivery_get(conn, org, message, &d, err);
    if (status != INBOX_OK) {
        return status;
    }

    report->status = d.status;
    report->done = 1;

    return INBOX_OK;
}


/*
 * One write transaction for the batch: a report refused on its own (an
 * organization id that is none of ours) is refused before it writes, so
 * no savepoint is needed; any failure of the store undoes the batch.
 */
inbox_status_t
inbox_sqlite_message_status_updates(inbox_store_t *store,
    inbox_status_report_t *reports, size_t n, int64_t now,
    inbox_event_list_t *events, inbox_error_t *err)
{
    size_t                i;
    inbox_status_t        status;
    inbox_sqlite_conn_t  *conn;
    inbox_sqlite_move_t  *mvs;

    mvs = calloc(n, sizeof(inbox_sqlite_move_t));
    if (mvs == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    conn = inbox_sqlite_begin_write(store, err);
    if (conn == NULL) {
        free(mvs);
        return err->code;
    }

    for (i = 0; i < n; i++) {
        if (reports[i].status != INBOX_OK) {
            continue;
        }

        status = inbox_sqlite_status_apply(conn, &reports[i], now, &mvs[i],
                                           err);
        if (status != INBOX_OK) {
            inbox_sqlite_rollback(conn);
            goto done;
        }
    }

    status = inbox_sqlite_commit(conn, err);

    for (i = 0; i < n && status == INBOX_OK; i++) {
        reports[i].changed = mvs[i].moved;
        status = inbox_sqlite_move_push(&mvs[i], events, err);
    }

done:

    for (i = 0; i < n; i++) {
        inbox_sqlite_move_free(&mvs[i]);
    }

    free(mvs);

    return status;
}


/* One report of the batch, in its transaction: the move in *mv. */
static inbox_status_t
inbox_sqlite_status_apply(inbox_sqlite_conn_t *conn,
    inbox_status_report_t *r, int64_t now, inbox_sqlite_move_t *mv,
    inbox_error_t *err)
{
    int               rc, final;
    char              code[INBOX_CARRIER_CODE_MAX];
    int64_t           org, message, sent_at;
    const char       *error_code;
    sqlite3_stmt     *stmt;
    inbox_status_t    status;
    inbox_delivery_t  to;

    if (inbox_sqlite_parse_id(r->org_id, &org) != 0) {
        r->status = inbox_error_set(&r->error, INBOX_ERR_NOT_FOUND,
                                    "No message has that carrier's id.");
        return INBOX_OK;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_STATUS_FIND,
        "SELECT id, coalesce(submitted_at, 0) FROM messages"
        " WHERE org_id = ?1 AND provider = ?2 AND provider_id = ?3"
        " AND direction = 'outbound'", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    inbox_sqlite_bind_text(stmt, 2, inbox_carrier_name(r->carrier));
    inbox_sqlite_bind_text(stmt, 3, r->provider_id);

    rc = sqlite3_step(stmt);
    message = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    sent_at = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 1) : 0;
    inbox_sqlite_done(stmt);

    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    to = r->delivery;
    final = r->final;
    error_code = r->error_code;

    if (rc == SQLITE_DONE) {
        /* before the sender recorded the id: kept for it (delivery.h) */
        status = inbox_sqlite_early_keep(conn, org, r, now, err);
        if (status != INBOX_OK || r->message_id == NULL) {
            return status;
        }

        /* or the message the URL names lost its send's answer: it takes
         * the id, and what was kept for it, this report included */
        status = inbox_sqlite_unknown_adopt(conn, org, r, &message, &sent_at,
                                            err);
        if (status != INBOX_OK || message == 0) {
            return status;
        }

        to = INBOX_DELIVERY_SENDING;
        code[0] = '\0';

        status = inbox_sqlite_early_take(conn, org, r->carrier,
                                         r->provider_id, &to, &final, code,
                                         err);
        if (status != INBOX_OK) {
            return status;
        }

        error_code = code[0] ? code : NULL;
    }

    if (r->find_contact) {
        status = inbox_sqlite_message_contact(conn, message, NULL,
                                              r->contact_id, NULL, err);
        if (status != INBOX_OK) {
            return status;
        }

        r->sent_at = sent_at;
    }

    /* a repeat or a late report moves nothing and writes nothing */
    return inbox_sqlite_delivery_move(conn, org, message, to, final,
                                      error_code, now, mv, err);
}


/*
 * The message r's URL names (*message, 0 when none is taken) takes r's
 * carrier id when its send's outcome is unknown (outbox.h): of r's
 * organization, sent through r's carrier, with no carrier id yet.  Its
 * "unknown_outcome" goes: the carrier has it.  Anything else the URL
 * names is left alone, the carrier id staying the key.
 */
static inbox_status_t
inbox_sqlite_unknown_adopt(inbox_sqlite_conn_t *conn, int64_t org,
    const inbox_status_report_t *r, int64_t *message, int64_t *sent_at,
    inbox_error_t *err)
{
    int            rc;
    int64_t        named;
    sqlite3_stmt  *stmt;

    *message = 0;

    if (inbox_sqlite_parse_id(r->message_id, &named) != 0) {
        return INBOX_OK;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_MESSAGE_ADOPT,
        "UPDATE messages SET provider_id = ?4, error_code = NULL"
        " WHERE id = ?1 AND org_id = ?2 AND direction = 'outbound'"
        " AND provider = ?3 AND provider_id IS NULL AND status = 'sending'"
        " AND error_code = '" INBOX_SEND_ERROR_UNKNOWN "'"
        " RETURNING coalesce(submitted_at, 0)", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, named);
    sqlite3_bind_int64(stmt, 2, org);
    inbox_sqlite_bind_text(stmt, 3, inbox_carrier_name(r->carrier));
    inbox_sqlite_bind_text(stmt, 4, r->provider_id);

    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        *message = named;
        *sent_at = sqlite3_column_int64(stmt, 0);
        rc = sqlite3_step(stmt);
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        *message = 0;
        return inbox_sqlite_write_fail(conn, rc, "the carrier's id", NULL,
                                       err);
    }

    return INBOX_OK;
}


/* A report for a carrier id no message has yet, kept for the sender's
 * record of it, with whether it was the carrier's last and the message
 * its URL names (for a record of an unknown outcome). */
static inbox_status_t
inbox_sqlite_early_keep(inbox_sqlite_conn_t *conn, int64_t org,
    const inbox_status_report_t *r, int64_t now, inbox_error_t *err)
{
    int64_t        named;
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_EARLY_ADD,
        "INSERT INTO early_reports (org_id, provider, provider_id, status,"
        " error_code, received_at, final, message_id)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    inbox_sqlite_bind_text(stmt, 2, inbox_carrier_name(r->carrier));
    inbox_sqlite_bind_text(stmt, 3, r->provider_id);
    inbox_sqlite_bind_text(stmt, 4, inbox_delivery_name(r->delivery));
    inbox_sqlite_bind_text(stmt, 5, r->error_code);
    sqlite3_bind_int64(stmt, 6, now);
    sqlite3_bind_int(stmt, 7, r->final != 0);

    if (r->message_id != NULL
        && inbox_sqlite_parse_id(r->message_id, &named) == 0)
    {
        sqlite3_bind_int64(stmt, 8, named);

    } else {
        sqlite3_bind_null(stmt, 8);
    }

    if (!inbox_sqlite_step_done(stmt)) {
        return inbox_sqlite_write_fail(conn, sqlite3_errcode(conn->db),
                                       "a status report", NULL, err);
    }

    return INBOX_OK;
}


/*
 * Takes (reads and deletes) the early reports for a carrier id a message
 * was given: *status becomes the furthest they reach from it, with its
 * error code, and *final says whether any was the carrier's last (its
 * hold is settled then, whatever the status).
 */
static inbox_status_t
inbox_sqlite_early_take(inbox_sqlite_conn_t *conn, int64_t org,
    inbox_carrier_t carrier, const char *provider_id,
    inbox_delivery_t *status, int *final,
    char error_code[INBOX_CARRIER_CODE_MAX], inbox_error_t *err)
{
    int               rc;
    sqlite3_stmt     *stmt;
    inbox_delivery_t  reported;

    *final = 0;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_EARLY_TAKE,
        "SELECT status, error_code, final FROM early_reports"
        " WHERE org_id = ?1 AND provider = ?2 AND provider_id = ?3"
        " ORDER BY id", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    inbox_sqlite_bind_text(stmt, 2, inbox_carrier_name(carrier));
    inbox_sqlite_bind_text(stmt, 3, provider_id);

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (inbox_delivery_parse((const char *) sqlite3_column_text(stmt, 0),
                                 &reported) == 0
            && inbox_delivery_moves(*status, reported))
        {
            *status = reported;
            inbox_sqlite_column_copy(stmt, 1, error_code,
                                     INBOX_CARRIER_CODE_MAX);
        }

        if (sqlite3_column_int(stmt, 2)) {
            *final = 1;
        }
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_EARLY_DONE,
        "DELETE FROM early_reports"
        " WHERE org_id = ?1 AND provider = ?2 AND provider_id = ?3", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    inbox_sqlite_bind_text(stmt, 2, inbox_carrier_name(carrier));
    inbox_sqlite_bind_text(stmt, 3, provider_id);

    if (!inbox_sqlite_step_done(stmt)) {
        return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
    }

    return INBOX_OK;
}


/*
 * The carrier id of the first early report of carrier whose URL named
 * message, into provider_id ("" when none): the carrier's callback for a
 * send whose answer never came to the sender.
 */
static inbox_status_t
inbox_sqlite_early_named(inbox_sqlite_conn_t *conn, int64_t org,
    inbox_carrier_t carrier, int64_t message,
    char provider_id[INBOX_PROVIDER_ID_MAX], inbox_error_t *err)
{
    int            rc;
    sqlite3_stmt  *stmt;

    provider_id[0] = '\0';

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_EARLY_NAMED,
        "SELECT provider_id FROM early_reports"
        " WHERE org_id = ?1 AND provider = ?2 AND message_id = ?3"
        " ORDER BY id LIMIT 1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    inbox_sqlite_bind_text(stmt, 2, inbox_carrier_name(carrier));
    sqlite3_bind_int64(stmt, 3, message);

    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        inbox_sqlite_column_copy(stmt, 0, provider_id,
                                 INBOX_PROVIDER_ID_MAX);
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    return INBOX_OK;
}


/* A purge: a look (?1 the time) for one row old enough, and the delete
 * (?1 the time, ?2 max) of the oldest ones. */
typedef struct {
    inbox_sql_id_t   look_id;
    const char      *look;
    inbox_sql_id_t   delete_id;
    const char      *delete;
} inbox_sqlite_purge_t;

static const inbox_sqlite_purge_t  inbox_sqlite_early_reports_old = {
    INBOX_SQL_EARLY_LOOK,
    "SELECT 1 FROM early_reports WHERE received_at < ?1 LIMIT 1",
    INBOX_SQL_EARLY_PURGE,
    "DELETE FROM early_reports WHERE id IN (SELECT id FROM early_reports"
    " WHERE received_at < ?1 ORDER BY received_at LIMIT ?2)"
};

static const inbox_sqlite_purge_t  inbox_sqlite_reply_keys_old = {
    INBOX_SQL_REPLY_KEYS_LOOK,
    "SELECT 1 FROM reply_keys WHERE created_at < ?1 LIMIT 1",
    INBOX_SQL_REPLY_KEYS_PURGE,
    "DELETE FROM reply_keys WHERE (org_id, key) IN (SELECT org_id, key"
    " FROM reply_keys WHERE created_at < ?1 ORDER BY created_at LIMIT ?2)"
};


/* At most max rows older than before, in one write transaction (see
 * inbox_sqlite_purge_begin); *removed how many. */
static inbox_status_t
inbox_sqlite_purge(inbox_store_t *store, const inbox_sqlite_purge_t *purge,
    int64_t before, size_t max, size_t *removed, inbox_error_t *err)
{
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_sqlite_conn_t  *conn;

    if (err == NULL) {
        err = &fallback;
    }

    status = inbox_sqlite_purge_begin(store, purge->look_id, purge->look,
                                      before, &conn, err);
    if (status != INBOX_OK || conn == NULL) {
        return status;
    }

    stmt = inbox_sqlite_stmt(conn, purge->delete_id, purge->delete, err);
    if (stmt == NULL) {
        status = err->code;
        inbox_sqlite_rollback(conn);
        return status;
    }

    sqlite3_bind_int64(stmt, 1, before);
    sqlite3_bind_int64(stmt, 2, (int64_t) max);

    if (!inbox_sqlite_step_done(stmt)) {
        status = inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
        inbox_sqlite_rollback(conn);
        return status;
    }

    *removed = (size_t) sqlite3_changes(conn->db);

    return inbox_sqlite_commit(conn, err);
}


inbox_status_t
inbox_sqlite_early_reports_purge(inbox_store_t *store, int64_t before,
    size_t max, size_t *removed, inbox_error_t *err)
{
    return inbox_sqlite_purge(store, &inbox_sqlite_early_reports_old, before,
                              max, removed, err);
}


inbox_status_t
inbox_sqlite_reply_keys_purge(inbox_store_t *store, int64_t before,
    size_t max, size_t *removed, inbox_error_t *err)
{
    return inbox_sqlite_purge(store, &inbox_sqlite_reply_keys_old,
                              before, max, removed, err);
}


/* Captures the holds that waited too long for a final status, oldest
 * first, in one transaction. */
inbox_status_t
inbox_sqlite_holds_expire(inbox_store_t *store, int64_t before, int64_t now,
    size_t max, size_t *captured, inbox_error_t *err)
{
    int                   rc;
    size_t                i, n;
    int64_t              *rows;
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_error_t         fallback;
    inbox_sqlite_conn_t  *conn;

    if (err == NULL) {
        err = &fallback;
    }

    /* message, organization, credits */
    rows = calloc(max * 3, sizeof(int64_t));
    if (rows == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    conn = inbox_sqlite_begin_write(store, err);
    if (conn == NULL) {
        free(rows);
        return err->code;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_HOLDS_DUE,
        "SELECT id, org_id, credits FROM messages INDEXED BY messages_holds"
        " WHERE held = 1 AND submitted_at <= ?1"
        " ORDER BY submitted_at LIMIT ?2", err);
    if (stmt == NULL) {
        status = err->code;
        goto failed;
    }

    sqlite3_bind_int64(stmt, 1, before);
    sqlite3_bind_int64(stmt, 2, (int64_t) max);

    n = 0;
    rc = SQLITE_DONE;

    while (n < max && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        rows[n * 3] = sqlite3_column_int64(stmt, 0);
        rows[n * 3 + 1] = sqlite3_column_int64(stmt, 1);
        rows[n * 3 + 2] = sqlite3_column_int64(stmt, 2);
        n++;
    }

    inbox_sqlite_done(stmt);

    if (n < max && rc != SQLITE_DONE) {
        status = inbox_sqlite_fail(conn, rc, err);
        goto failed;
    }

    for (i = 0; i < n; i++) {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_HOLD_SETTLE,
            "UPDATE messages SET held = 0 WHERE id = ?1 AND held = 1", err);
        if (stmt == NULL) {
            status = err->code;
            goto failed;
        }

        sqlite3_bind_int64(stmt, 1, rows[i * 3]);

        if (!inbox_sqlite_step_done(stmt)) {
            status = inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
            goto failed;
        }

        status = inbox_sqlite_credits_move(conn, rows[i * 3 + 1],
                                           INBOX_LEDGER_CAPTURE,
                                           rows[i * 3 + 2], rows[i * 3], now,
                                           NULL, err);
        if (status != INBOX_OK) {
            goto failed;
        }
    }

    free(rows);

    status = inbox_sqlite_commit(conn, err);
    if (status == INBOX_OK) {
        *captured = n;
    }

    return status;

failed:

    free(rows);
    inbox_sqlite_rollback(conn);

    return status;
}


static inbox_status_t
inbox_sqlite_message_load(inbox_sqlite_conn_t *conn, int64_t message,
    inbox_message_t *m, inbox_error_t *err)
{
    int            rc, oom;
    sqlite3_stmt  *stmt;

    memset(m, 0, sizeof(inbox_message_t));

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_MESSAGE_LOAD,
        "SELECT conversation_id, " INBOX_SQLITE_MESSAGE_COLUMNS
        " FROM messages WHERE id = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, message);

    rc = sqlite3_step(stmt);
    oom = 0;

    if (rc == SQLITE_ROW) {
        inbox_sqlite_format_id(message, m->id);
        inbox_sqlite_format_id(sqlite3_column_int64(stmt, 0),
                               m->conversation_id);
        inbox_sqlite_message_columns(stmt, 1, m, &oom);
    }

    inbox_sqlite_done(stmt);

    if (rc == SQLITE_DONE) {
        return inbox_error_not_found(err, "message");
    }

    if (rc != SQLITE_ROW) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    if (oom) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    return inbox_sqlite_media_read(conn, message, m, err);
}


/* The phone and id of the contact a message is with (either may be
 * NULL). */
static inbox_status_t
inbox_sqlite_message_contact(inbox_sqlite_conn_t *conn, int64_t message,
    char phone[INBOX_PHONE_MAX], char id[INBOX_ID_MAX], int64_t *opted_out_at,
    inbox_error_t *err)
{
    int            rc;
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_OUTBOX_CONTACT,
        "SELECT ct.phone, ct.id,"
        " CASE WHEN ct.opted_out THEN ct.opted_out_at ELSE 0 END"
        " FROM messages m"
        " JOIN conversations c ON c.id = m.conversation_id"
        " JOIN contacts ct ON ct.id = c.contact_id WHERE m.id = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, message);

    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        if (phone != NULL) {
            inbox_sqlite_column_copy(stmt, 0, phone, INBOX_PHONE_MAX);
        }

        if (id != NULL) {
            inbox_sqlite_format_id(sqlite3_column_int64(stmt, 1), id);
        }

        if (opted_out_at != NULL) {
            *opted_out_at = sqlite3_column_int64(stmt, 2);
        }
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_ROW) {
        return inbox_sqlite_fail(conn, rc == SQLITE_DONE ? SQLITE_INTERNAL
                                                        : rc, err);
    }

    return INBOX_OK;
}


static inbox_status_t
inbox_sqlite_delivery_get(inbox_sqlite_conn_t *conn, int64_t org,
    int64_t message, inbox_sqlite_delivery_t *d, inbox_error_t *err)
{
    int            rc;
    char           status[16];
    sqlite3_stmt  *stmt;

    memset(d, 0, sizeof(inbox_sqlite_delivery_t));

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_DELIVERY_GET,
        "SELECT conversation_id, status, error_code, held, credits,"
        "  sent_by, campaign_id, resent_as"
        " FROM messages WHERE id = ?1 AND org_id = ?2"
        " AND direction = 'outbound'", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, message);
    sqlite3_bind_int64(stmt, 2, org);

    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        d->conversation = sqlite3_column_int64(stmt, 0);
        inbox_sqlite_column_copy(stmt, 1, status, sizeof(status));
        (void) inbox_delivery_parse(status, &d->status);
        inbox_sqlite_column_copy(stmt, 2, d->error_code,
                                 sizeof(d->error_code));
        d->held = sqlite3_column_int(stmt, 3);
        d->credits = sqlite3_column_int64(stmt, 4);
        /* ids, NULL as "": an integer's text is its id's */
        inbox_sqlite_column_copy(stmt, 5, d->sent_by, sizeof(d->sent_by));
        inbox_sqlite_column_copy(stmt, 6, d->campaign_id,
                                 sizeof(d->campaign_id));
        inbox_sqlite_column_copy(stmt, 7, d->resent_as,
                                 sizeof(d->resent_as));
    }

    inbox_sqlite_done(stmt);

    if (rc == SQLITE_DONE) {
        return inbox_error_not_found(err, "message");
    }

    if (rc != SQLITE_ROW) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    return INBOX_OK;
}


/*
 * Moves a message's status to to when delivery.h's order lets it, keeping
 * error_code (NULL: the one it has), settles its hold as the status says
 * (final: the carrier's last report), and stores message.status;
 * mv->moved says whether anything moved (a repeat or a late report moves
 * nothing and writes nothing, but a final one may settle the hold).
 */
static inbox_status_t
inbox_sqlite_delivery_move(inbox_sqlite_conn_t *conn, int64_t org,
    int64_t message, inbox_delivery_t to, int final, const char *error_code,
    int64_t now, inbox_sqlite_move_t *mv, inbox_error_t *err)
{
    int                      settle, moves;
    sqlite3_stmt            *stmt;
    inbox_status_t           status;
    inbox_hold_action_t      hold;
    inbox_sqlite_delivery_t  d;

    mv->moved = 0;
    mv->org = org;

    status = inbox_sqlite_delivery_get(conn, org, message, &d, err);
    if (status != INBOX_OK) {
        return status;
    }

    moves = inbox_delivery_moves(d.status, to);
    hold = inbox_delivery_hold(moves ? to : d.status, final);
    settle = d.held && hold != INBOX_HOLD_KEEP;

    if (!moves && !settle) {
        return INBOX_OK;
    }

    if (!moves) {
        /* the status it has, with no receipt to come: its hold only */
        to = d.status;
        error_code = NULL;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_DELIVERY_SET,
        "UPDATE messages SET status = ?2,"
        " error_code = coalesce(?3, error_code),"
        " held = CASE WHEN ?4 THEN 0 ELSE held END WHERE id = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, message);
    sqlite3_bind_text(stmt, 2, inbox_delivery_name(to), -1, SQLITE_STATIC);
    inbox_sqlite_bind_text(stmt, 3, error_code);
    sqlite3_bind_int(stmt, 4, settle);

    if (!inbox_sqlite_step_done(stmt)) {
        return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
    }

    /* a HELP's answer (free, as every keyword's) that never reached the
     * phone: not an answer, and the contact's next HELP gets one */
    if (moves && inbox_delivery_missed(to) && d.credits == 0) {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_HELP_UNANSWERED,
            "UPDATE contacts SET help_answered_at = NULL,"
            " help_answer_id = NULL"
            " WHERE id = (SELECT contact_id FROM conversations"
            "   WHERE id = ?2) AND help_answer_id = ?1", err);
        if (stmt == NULL) {
            return err->code;
        }

        sqlite3_bind_int64(stmt, 1, message);
        sqlite3_bind_int64(stmt, 2, d.conversation);

        if (!inbox_sqlite_step_done(stmt)) {
            return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
        }
    }

    if (settle) {
        status = inbox_sqlite_credits_move(conn, org,
                                           hold == INBOX_HOLD_CAPTURE
                                           ? INBOX_LEDGER_CAPTURE
                                           : INBOX_LEDGER_RELEASE,
                                           d.credits, message, now, NULL,
                                           err);
        if (status != INBOX_OK) {
            return status;
        }
    }

    if (!moves) {
        return INBOX_OK;
    }

    /* the frame's message: what message.status shows */
    inbox_sqlite_format_id(message, mv->message.id);
    inbox_sqlite_format_id(d.conversation, mv->message.conversation_id);
    mv->message.direction = INBOX_OUTBOUND;
    snprintf(mv->message.status, sizeof(mv->message.status), "%s",
             inbox_delivery_name(to));
    snprintf(mv->message.error_code, sizeof(mv->message.error_code), "%s",
             error_code ? error_code : d.error_code);
    memcpy(mv->message.sent_by, d.sent_by, sizeof(d.sent_by));
    memcpy(mv->message.campaign_id, d.campaign_id, sizeof(d.campaign_id));
    memcpy(mv->message.resent_as, d.resent_as, sizeof(d.resent_as));

    inbox_change_status(&mv->change, &mv->message);

    status = inbox_sqlite_events_record(conn, org, &mv->change, now, err);
    if (status != INBOX_OK) {
        return status;
    }

    mv->moved = 1;

    return INBOX_OK;
}


/* After the commit: the frame to the caller's list. */
static inbox_status_t
inbox_sqlite_move_push(inbox_sqlite_move_t *mv, inbox_event_list_t *events,
    inbox_error_t *err)
{
    char  org_text[INBOX_ID_MAX];

    if (!mv->moved) {
        return INBOX_OK;
    }

    inbox_sqlite_format_id(mv->org, org_text);

    if (inbox_change_push(&mv->change, org_text, events) != 0) {
        /* durable; its browsers learn it at their next reload */
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    return INBOX_OK;
}


static void
inbox_sqlite_move_free(inbox_sqlite_move_t *mv)
{
    inbox_change_free(&mv->change);
    mv->moved = 0;
}


/* An entry due at due_at (INBOX_OUTBOX_PARKED: parked). */
static inbox_status_t
inbox_sqlite_outbox_due(inbox_sqlite_conn_t *conn, int64_t entry,
    int64_t due_at, inbox_error_t *err)
{
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_OUTBOX_PARK,
        "UPDATE outbox SET due_at = ?2 WHERE id = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, entry);
    sqlite3_bind_int64(stmt, 2, due_at);

    if (!inbox_sqlite_step_done(stmt)) {
        return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
    }

    return INBOX_OK;
}


inbox_status_t
inbox_sqlite_hold_give_back(inbox_sqlite_conn_t *conn, int64_t message,
    int64_t now, inbox_error_t *err)
{
    int            rc;
    int64_t        org, credits;
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_HOLD_GIVE_BACK,
        "UPDATE messages SET held = 0 WHERE id = ?1 AND held = 1"
        " AND credits > 0 RETURNING org_id, credits", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, message);

    rc = sqlite3_step(stmt);
    org = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    credits = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 1) : 0;

    if (rc == SQLITE_ROW) {
        rc = sqlite3_step(stmt);
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    if (credits == 0) {
        return INBOX_OK;
    }

    return inbox_sqlite_credits_move(conn, org, INBOX_LEDGER_RELEASE,
                                     credits, message, now, NULL, err);
}


/*
 * A parked campaign message a claim hands out holds its credits again
 * (*held 1) before the sender sees it: nothing is sent without its hold.
 * *held 0 when the balance (or billing) does not cover it now: it is not
 * handed out.  One that holds already, or costs nothing, is held.
 */
static inbox_status_t
inbox_sqlite_hold_again(inbox_sqlite_conn_t *conn, int64_t message,
    int64_t now, int *held, inbox_error_t *err)
{
    int            rc, moved;
    int64_t        org, credits;
    sqlite3_stmt  *stmt;

    *held = 1;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_HOLD_READ,
        "SELECT org_id, credits FROM messages"
        " WHERE id = ?1 AND held = 0 AND credits > 0", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, message);

    rc = sqlite3_step(stmt);
    org = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    credits = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 1) : 0;
    inbox_sqlite_done(stmt);

    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    if (rc == SQLITE_DONE) {
        return INBOX_OK;
    }

    if (inbox_sqlite_credits_move(conn, org, INBOX_LEDGER_HOLD, credits,
                                  message, now, &moved, err)
        != INBOX_OK)
    {
        return err->code;
    }

    if (!moved) {
        *held = 0;
        return INBOX_OK;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_HOLD_AGAIN,
        "UPDATE messages SET held = 1 WHERE id = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, message);

    if (!inbox_sqlite_step_done(stmt)) {
        return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
    }

    return INBOX_OK;
}


inbox_status_t
inbox_sqlite_outbox_park_campaign(inbox_sqlite_conn_t *conn,
    int64_t campaign, int64_t now, inbox_error_t *err)
{
    int             rc;
    size_t          i, n, size;
    int64_t        *messages, *grown;
    sqlite3_stmt   *stmt;
    inbox_status_t  status;

    /* as unpark finds them: the campaign's entries are few (at most
     * INBOX_CAMPAIGN_AHEAD_MAX due, and what waits) */
    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_OUTBOX_PARK_CAMPAIGN,
        "UPDATE outbox SET due_at = ?3 WHERE priority = ?2"
        " AND lease_until IS NULL AND due_at <> ?3"
        " AND (SELECT m.campaign_id FROM messages m"
        "      WHERE m.id = outbox.message_id) = ?1"
        " RETURNING message_id", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, campaign);
    sqlite3_bind_int(stmt, 2, INBOX_OUTBOX_BULK);
    sqlite3_bind_int64(stmt, 3, INBOX_OUTBOX_PARKED);

    messages = NULL;
    n = 0;
    size = 0;

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (n == size) {
            grown = realloc(messages, (size + 32) * sizeof(int64_t));
            if (grown == NULL) {
                inbox_sqlite_done(stmt);
                free(messages);
                return inbox_error_set(err, INBOX_ERR_INTERNAL,
                                       "Out of memory.");
            }
            messages = grown;
            size += 32;
        }

        messages[n++] = sqlite3_column_int64(stmt, 0);
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        free(messages);
        return inbox_sqlite_fail(conn, rc, err);
    }

    status = INBOX_OK;

    for (i = 0; i < n && status == INBOX_OK; i++) {
        status = inbox_sqlite_hold_give_back(conn, messages[i], now, err);
    }

    free(messages);

    return status;
}


/* The parked entries are few (what the sender had in hand when the
 * campaign paused), and so are those waiting out a retry, so each is
 * looked at rather than the campaign's messages.  An entry the sender
 * holds (leased, due when its lease runs out) stays its own. */
inbox_status_t
inbox_sqlite_outbox_unpark(inbox_sqlite_conn_t *conn, int64_t campaign,
    int64_t now, int backoffs, inbox_error_t *err)
{
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_OUTBOX_UNPARK,
        "UPDATE outbox SET due_at = ?2 WHERE priority = ?4 AND due_at > ?2"
        " AND (due_at = ?3 OR (?5 AND lease_until IS NULL))"
        " AND (SELECT m.campaign_id FROM messages m"
        "      WHERE m.id = outbox.message_id) = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, campaign);
    sqlite3_bind_int64(stmt, 2, now);
    sqlite3_bind_int64(stmt, 3, INBOX_OUTBOX_PARKED);
    sqlite3_bind_int(stmt, 4, INBOX_OUTBOX_BULK);
    sqlite3_bind_int(stmt, 5, backoffs != 0);

    if (!inbox_sqlite_step_done(stmt)) {
        return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
    }

    return INBOX_OK;
}


/* An organization's parked campaign messages, due at once when its
 * billing is active again; those of a campaign paused by a person are
 * parked again by the next claim. */
inbox_status_t
inbox_sqlite_outbox_unpark_org(inbox_sqlite_conn_t *conn, int64_t org,
    int64_t now, inbox_error_t *err)
{
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_OUTBOX_UNPARK_ORG,
        "UPDATE outbox SET due_at = ?2 WHERE priority = ?4 AND due_at = ?3"
        " AND org_id = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    sqlite3_bind_int64(stmt, 2, now);
    sqlite3_bind_int64(stmt, 3, INBOX_OUTBOX_PARKED);
    sqlite3_bind_int(stmt, 4, INBOX_OUTBOX_BULK);

    if (!inbox_sqlite_step_done(stmt)) {
        return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
    }

    return INBOX_OK;
}


/*
 * The campaign messages held for quiet hours by a rule since changed: an
 * organization's (contact 0) or a contact's, in its campaigns that may
 * still send.  Those a claim put off are due now (the outbox's clock),
 * those dispatch held due on any clock (the campaigns' may be a
 * rehearsal's, behind this one); their recipients stay counted waiting
 * until a claim or dispatch, reading the rule as it is now, holds them
 * again or sends them.  A parked entry stays parked.
 */
inbox_status_t
inbox_sqlite_outbox_unpark_quiet(inbox_sqlite_conn_t *conn, int64_t org,
    int64_t contact, int64_t now, inbox_error_t *err)
{
    sqlite3_stmt  *stmt;

    /* the organization's say state IN ('due', 'waiting_quiet_hours') as
     * well: it adds nothing to state = 'waiting_quiet_hours' but is the
     * WHERE of the partial index campaign_recipients_due, which SQLite
     * uses only when the query names it (else every recipient of each
     * campaign is read) */
    if (contact != 0) {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_OUTBOX_UNPARK_QUIET,
            "UPDATE outbox SET due_at = ?2"
            " WHERE priority = ?3 AND due_at > ?2 AND due_at <> ?4"
            " AND message_id IN (SELECT r.message_id FROM campaigns c"
            "   JOIN campaign_recipients r ON r.campaign_id = c.id"
            "   AND r.contact_id = ?5"
            "   WHERE c.org_id = ?1 AND c.status IN ('sending', 'paused')"
            "   AND r.state = 'waiting_quiet_hours'"
            "   AND r.message_id IS NOT NULL)", err);
    } else {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_OUTBOX_UNPARK_QUIET_ORG,
            "UPDATE outbox SET due_at = ?2"
            " WHERE priority = ?3 AND due_at > ?2 AND due_at <> ?4"
            " AND message_id IN (SELECT r.message_id FROM campaigns c"
            "   JOIN campaign_recipients r ON r.campaign_id = c.id"
            "   WHERE c.org_id = ?1 AND c.status IN ('sending', 'paused')"
            "   AND r.state IN ('due', 'waiting_quiet_hours')"
            "   AND r.state = 'waiting_quiet_hours'"
            "   AND r.message_id IS NOT NULL)", err);
    }
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    sqlite3_bind_int64(stmt, 2, now);
    sqlite3_bind_int(stmt, 3, INBOX_OUTBOX_BULK);
    sqlite3_bind_int64(stmt, 4, INBOX_OUTBOX_PARKED);
    if (contact != 0) {
        sqlite3_bind_int64(stmt, 5, contact);
    }

    if (!inbox_sqlite_step_done(stmt)) {
        return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
    }

    /* (campaign_id, contact_id) finds a contact's, the due index the
     * organization's */
    if (contact != 0) {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_RECIPIENTS_UNHOLD,
            "UPDATE campaign_recipients SET due_at = 0"
            " WHERE campaign_id IN (SELECT id FROM campaigns"
            "   WHERE org_id = ?1 AND status IN ('sending', 'paused'))"
            " AND contact_id = ?2 AND state = 'waiting_quiet_hours'"
            " AND message_id IS NULL", err);
    } else {
        stmt = inbox_sqlite_stmt(conn, INBOX_SQL_RECIPIENTS_UNHOLD_ORG,
            "UPDATE campaign_recipients SET due_at = 0"
            " WHERE campaign_id IN (SELECT id FROM campaigns"
            "   WHERE org_id = ?1 AND status IN ('sending', 'paused'))"
            " AND state IN ('due', 'waiting_quiet_hours')"
            " AND state = 'waiting_quiet_hours' AND message_id IS NULL",
            err);
    }
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, org);
    if (contact != 0) {
        sqlite3_bind_int64(stmt, 2, contact);
    }

    if (!inbox_sqlite_step_done(stmt)) {
        return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
    }

    return INBOX_OK;
}


/* The recipient of a campaign's message (if any) put off for quiet
 * hours (waits 1: counted waiting for them), or claimed again (waits 0:
 * counted queued). */
static inbox_status_t
inbox_sqlite_recipient_waits(inbox_sqlite_conn_t *conn, int64_t message,
    int waits, inbox_error_t *err)
{
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_RECIPIENT_WAITS,
        "UPDATE campaign_recipients"
        " SET state = iif(?2, 'waiting_quiet_hours', 'queued')"
        " WHERE message_id = ?1"
        " AND state = iif(?2, 'queued', 'waiting_quiet_hours')", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, message);
    sqlite3_bind_int(stmt, 2, waits != 0);

    if (!inbox_sqlite_step_done(stmt)) {
        return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
    }

    return INBOX_OK;
}


/* The recipient of a campaign's message the sender takes now to send:
 * sent at "at" (the campaigns' clock, as the hand-over was), from which
 * its poll's answers count (poll.h), however long it waited in the
 * outbox (parked by a pause, put off, a retry's backoff). */
static inbox_status_t
inbox_sqlite_recipient_goes(inbox_sqlite_conn_t *conn, int64_t message,
    int64_t at, inbox_error_t *err)
{
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_RECIPIENT_GOES,
        "UPDATE campaign_recipients"
        " SET sent_at = max(coalesce(sent_at, ?2), ?2)"
        " WHERE message_id = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, message);
    sqlite3_bind_int64(stmt, 2, at);

    if (!inbox_sqlite_step_done(stmt)) {
        return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
    }

    return INBOX_OK;
}


/* A campaign's message that never left (its campaign cancelled): its
 * recipient is counted in state (the status trigger counted it failed),
 * inbox_recipient_of_unsent. */
static inbox_status_t
inbox_sqlite_recipient_unsent(inbox_sqlite_conn_t *conn, int64_t message,
    inbox_recipient_state_t state, inbox_error_t *err)
{
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_RECIPIENT_UNSENT,
        "UPDATE campaign_recipients SET state = ?2"
        " WHERE message_id = ?1", err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, message);
    inbox_sqlite_bind_text(stmt, 2, inbox_recipient_state_name(state));

    if (!inbox_sqlite_step_done(stmt)) {
        return inbox_sqlite_fail(conn, sqlite3_errcode(conn->db), err);
    }

    return INBOX_OK;
}


/* What becomes of an outbox entry whose campaign's status and pause
 * reason are columns col and col + 1 (NULL: a reply, it goes). */
static inbox_campaign_outbox_t
inbox_sqlite_campaign_outbox(sqlite3_stmt *stmt, int col)
{
    return inbox_campaign_outbox_named(
        (const char *) sqlite3_column_text(stmt, col),
        (const char *) sqlite3_column_text(stmt, col + 1));
}
