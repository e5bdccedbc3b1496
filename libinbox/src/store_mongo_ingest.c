/*
 * The MongoDB backend: storing inbound messages and their events.
 *
 * Per message, in this order (see store_mongo.h on transactions):
 *   find the number              -> the organization, and whether its
 *                                 carrier answers keywords
 *   findAndModify the contact    (upsert; changes nothing that exists)
 *   for an opt-out or opt-in keyword that changes the contact, or only
 *   its newest opt time (see inbox_mongo_ingest_opt):
 *     find the message           (stored before: the contact is not
 *                                 changed again; a retry, below)
 *     findAndModify the contact  (compare and set: opted out or in, and
 *                                 its newest opt time; another change
 *                                 between: read again, the rule again),
 *     for a change: update its conversation's copy, insert its timeline
 *     event
 *   insert the message           (unique org/provider/provider_id;
 *                                 threaded: false, unfinished: hidden
 *                                 from lists until the steps below are
 *                                 done; a keyword the inbox answers,
 *                                 inbox_keyword_answered, names the id
 *                                 of its answer to be: answer_id)
 *   findAndModify the conversation (upsert; an update pipeline: unread
 *                                 + 1 and unarchive unless the message is
 *                                 in its receiving list, which it joins;
 *                                 last message unless a newer one)
 *   findAndModify the org        ($inc seq: the events' numbers)
 *   aggregate the unread total
 *   insert the events            (message.created, conversation.updated,
 *                                 unread.total, contact.updated when the
 *                                 message made the contact or its keyword
 *                                 changed it: libinbox's choice)
 *   for a contact made (unannounced, set by the upsert):
 *     update the contact         ($unset unannounced: pushed)
 *   find the contact's polls of the last 7 days: the one the message
 *   answers gets the answer and is updated replied; no answer, find
 *   the contact's latest campaign recipient of those days: update it
 *   replied (store_mongo_campaigns.c; each write only sets, so doing it
 *   again changes nothing)
 *   for a keyword answered (see inbox_mongo_ingest_answer):
 *     update the contact         (HELP: help_answered_at, compare and
 *                                 set: one answer a day however many
 *                                 HELPs come at once)
 *     find the organization      (its settings, once a batch: the
 *                                 business name, the support contact)
 *     the answer's writes        (inbox_mongo_outbox_answer: the
 *                                 message, the thread, its events, the
 *                                 outbox entry, all under answer_id)
 *   update the message           ($unset threaded: finished)
 *   update the conversation      ($pull it from receiving)
 *
 * A failure after the insert is a 503, and the carrier's retry meets a
 * duplicate key (11000): when the stored message is still unfinished,
 * the retry does the steps after the insert for it (see
 * inbox_mongo_ingest_stored): the conversation's receiving list makes its
 * unread count once, even for two retries at once (one atomic update
 * decides), events already written for the message are not written again (two
 * retries at the same moment may both write them), and the answer named by
 * answer_id is queued once (its message and outbox entry are keyed on that
 * id), so a keyword is never left unanswered by a failure after its message
 * was stored.  A contact an attempt made stays unannounced until its
 * contact.updated is written, so the retry pushes it even when the attempt
 * failed before storing the message (the flag is an import's too: a
 * text pushes a contact an import made and failed to push, an import one
 * a text so made).  A finished message (or one stored before threaded
 * existed) is a duplicate: nothing is written.  SQLite needs none of
 * this: its ingest is one transaction.
 */
#include <stdlib.h>
#include <string.h>
#include <inbox/keywords.h>
#include <inbox/optout.h>
#include "store_mongo.h"


typedef struct {
    bson_oid_t    org;
    bson_oid_t    contact;
    bson_oid_t    conversation;
    bson_oid_t    message;
    int64_t       at;
    bson_oid_t    answer;      /* its answer's id, when answered */
    int           has_answer;
    int           made;        /* its contact unannounced: made by the
                                  message, or by a failed attempt */
    inbox_wait_t  wait;        /* inbox_keyword_wait: the thread's wait */
} inbox_mongo_ingest_t;

/* The settings of the organizations a batch answered keywords for, read
 * once each: room for one a message. */
typedef struct {
    size_t             n;
    size_t             max;
    bson_oid_t        *orgs;
    inbox_settings_t  *settings;
} inbox_mongo_ingest_batch_t;


static inbox_status_t inbox_mongo_ingest_one(inbox_mongo_store_t *ms,
    inbox_mongo_ingest_batch_t *batch, const inbox_inbound_t *msg,
    inbox_ingest_result_t *result, inbox_event_list_t *events,
    inbox_error_t *err);
static inbox_status_t inbox_mongo_ingest_contact(inbox_mongo_store_t *ms,
    const inbox_inbound_t *msg, inbox_mongo_ingest_t *in, bson_t *contact,
    inbox_error_t *err);
static inbox_status_t inbox_mongo_ingest_message(inbox_mongo_store_t *ms,
    const inbox_inbound_t *msg, inbox_mongo_ingest_t *in,
    inbox_error_t *err);
static inbox_status_t inbox_mongo_ingest_stored(inbox_mongo_store_t *ms,
    const inbox_inbound_t *msg, inbox_mongo_ingest_t *in,
    const bson_t *contact, inbox_ingest_result_t *result,
    inbox_contact_record_t *record, int *unfinished, inbox_error_t *err);
static inbox_status_t inbox_mongo_ingest_opt(inbox_mongo_store_t *ms,
    const inbox_inbound_t *msg, inbox_mongo_ingest_t *in,
    const bson_t *contact, inbox_ingest_result_t *result,
    inbox_contact_record_t *record, int *duplicate, inbox_error_t *err);
static void inbox_mongo_ingest_wait(const inbox_mongo_ingest_t *in,
    bson_t **waiting, bson_t **responded);
static inbox_status_t inbox_mongo_ingest_conversation(
    inbox_mongo_store_t *ms, const inbox_inbound_t *msg,
    inbox_mongo_ingest_t *in, const bson_t *contact, int opted_out,
    inbox_conversation_t *conversation, inbox_error_t *err);
static inbox_status_t inbox_mongo_ingest_events(inbox_mongo_store_t *ms,
    const inbox_inbound_t *msg, inbox_mongo_ingest_t *in,
    const inbox_conversation_t *conversation,
    const inbox_contact_record_t *contact, unsigned changed, int resumed,
    inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t inbox_mongo_ingest_announced(inbox_mongo_store_t *ms,
    const inbox_mongo_ingest_t *in, inbox_error_t *err);
static inbox_status_t inbox_mongo_ingest_answer(inbox_mongo_store_t *ms,
    inbox_mongo_ingest_batch_t *batch, const inbox_inbound_t *msg,
    inbox_mongo_ingest_t *in, inbox_ingest_result_t *result, int resumed,
    inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t inbox_mongo_ingest_finish(inbox_mongo_store_t *ms,
    inbox_mongo_ingest_t *in, inbox_error_t *err);


inbox_status_t
inbox_mongo_inbound_ingest(inbox_store_t *store, const inbox_inbound_t *msgs,
    size_t n, inbox_ingest_result_t *results, inbox_event_list_t *events,
    inbox_error_t *err)
{
    size_t                       i;
    inbox_status_t               rc;
    inbox_mongo_store_t         *ms = (inbox_mongo_store_t *) store;
    inbox_mongo_ingest_batch_t   batch;

    for (i = 0; i < n; i++) {
        memset(&results[i], 0, sizeof(inbox_ingest_result_t));
        results[i].status = INBOX_ERR_UNAVAILABLE;
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    memset(&batch, 0, sizeof(inbox_mongo_ingest_batch_t));
    batch.max = n;

    /* Without a transaction a failure leaves the messages before it
     * stored (and their events, which stay in the list), and the one it
     * fell on unfinished: the carrier's retry finds the first duplicates
     * and finishes the last (inbox_mongo_ingest_stored). */
    for (i = 0; i < n; i++) {
        rc = inbox_mongo_ingest_one(ms, &batch, &msgs[i], &results[i],
                                    events, err);
        if (rc != INBOX_OK) {
            results[i].status = rc;
            break;
        }
    }

    free(batch.orgs);
    free(batch.settings);

    return rc;
}


static inbox_status_t
inbox_mongo_ingest_one(inbox_mongo_store_t *ms,
    inbox_mongo_ingest_batch_t *batch, const inbox_inbound_t *msg,
    inbox_ingest_result_t *result, inbox_event_list_t *events,
    inbox_error_t *err)
{
    int                     found, duplicate, opted_out, resumed;
    bson_t                  number, contact;
    unsigned                changed;
    bson_iter_t             iter;
    inbox_status_t          rc;
    inbox_conversation_t    conversation;
    inbox_mongo_ingest_t    in;
    inbox_contact_record_t  record;

    memset(&in, 0, sizeof(inbox_mongo_ingest_t));
    memset(&record, 0, sizeof(inbox_contact_record_t));

    rc = inbox_mongo_find_one(ms, "numbers",
                              BCON_NEW("e164", BCON_UTF8(msg->to)),
                              BCON_NEW("org_id", BCON_INT32(1),
                                       "carrier_answers_keywords",
                                       BCON_INT32(1)),
                              &number, &found, err);

    if (rc == INBOX_OK
        && !(found
             && bson_iter_init_find(&iter, &number, "org_id")
             && BSON_ITER_HOLDS_OID(&iter)))
    {
        /* This message's fate only: the others go on. */
        bson_destroy(&number);
        result->status = INBOX_ERR_NOT_FOUND;
        return INBOX_OK;
    }

    if (rc != INBOX_OK) {
        bson_destroy(&number);
        return rc;
    }

    bson_oid_copy(bson_iter_oid(&iter), &in.org);
    result->carrier_answers_keywords =
        inbox_mongo_get_bool(&number, "carrier_answers_keywords");
    bson_destroy(&number);

    inbox_mongo_id_hex(&in.org, result->org_id);
    in.at = msg->received_at > 0 ? msg->received_at : inbox_mongo_now(ms);

    rc = inbox_mongo_ingest_contact(ms, msg, &in, &contact, err);
    if (rc != INBOX_OK) {
        bson_destroy(&contact);
        return rc;
    }

    inbox_mongo_new_id(ms, &in.message);

    /* opt-out and opt-in keywords */
    duplicate = 0;
    result->keyword = inbox_keyword_match(msg->body, strlen(msg->body),
                                          &result->keyword_lang);

    if (result->keyword == INBOX_KEYWORD_OPT_OUT
        || result->keyword == INBOX_KEYWORD_OPT_IN)
    {
        rc = inbox_mongo_ingest_opt(ms, msg, &in, &contact, result, &record,
                                    &duplicate, err);
        if (rc != INBOX_OK) {
            bson_destroy(&contact);
            inbox_contact_record_free(&record);
            return rc;
        }
    }

    in.wait = inbox_keyword_wait(result->keyword, result->opt_changed);

    /* decided before the message is stored, which names the answer's
     * id for a retry to finish it under */
    if (!duplicate
        && inbox_keyword_answered(result->keyword, result->opt_changed,
                                  result->carrier_answers_keywords,
                                  inbox_mongo_get_date(&contact,
                                                       "help_answered_at"),
                                  in.at))
    {
        inbox_mongo_new_id(ms, &in.answer);
        in.has_answer = 1;
    }

    rc = duplicate ? INBOX_ERR_CONFLICT
                   : inbox_mongo_ingest_message(ms, msg, &in, err);

    resumed = 0;

    if (rc == INBOX_ERR_CONFLICT) {
        inbox_contact_record_free(&record);
        memset(&record, 0, sizeof(inbox_contact_record_t));
        result->opt_changed = 0;

        in.has_answer = 0;

        rc = inbox_mongo_ingest_stored(ms, msg, &in, &contact, result,
                                       &record, &resumed, err);

        if (rc != INBOX_OK || !resumed) {
            bson_destroy(&contact);
            inbox_contact_record_free(&record);
            return rc;
        }
    }

    opted_out = result->opt_changed ? record.opted_out : -1;

    /* a contact made is pushed as it is (a keyword read it already) */
    if (in.made && record.id[0] == '\0') {
        inbox_mongo_parse_contact(&contact, &record);
    }

    if (rc == INBOX_OK) {
        rc = inbox_mongo_ingest_conversation(ms, msg, &in, &contact,
                                             opted_out, &conversation, err);
    }

    bson_destroy(&contact);

    if (rc != INBOX_OK) {
        inbox_contact_record_free(&record);
        return rc;
    }

    changed = (in.made ? INBOX_CONTACT_CHANGED_CREATED : 0)
              | (result->opt_changed ? INBOX_CONTACT_CHANGED_OPT : 0);

    rc = inbox_mongo_ingest_events(ms, msg, &in, &conversation, &record,
                                   changed, resumed, events, err);

    if (rc == INBOX_OK && in.made) {
        rc = inbox_mongo_ingest_announced(ms, &in, err);
    }

    if (rc == INBOX_OK && inbox_campaign_reply_counts(result->keyword)) {
        /* campaigns and polls: a reply, a poll's answer (not a keyword) */
        rc = inbox_mongo_campaign_reply(ms, &in.contact, &in.message, in.at,
                                        msg->body != NULL ? msg->body : "",
                                        err);
    }

    if (rc == INBOX_OK && in.has_answer) {
        rc = inbox_mongo_ingest_answer(ms, batch, msg, &in, result, resumed,
                                       events, err);
    }

    if (rc == INBOX_OK) {
        rc = inbox_mongo_ingest_finish(ms, &in, err);
    }

    inbox_conversation_free(&conversation);
    inbox_contact_record_free(&record);

    if (rc == INBOX_OK) {
        result->status = INBOX_OK;
        inbox_mongo_id_hex(&in.message, result->message_id);
        inbox_mongo_id_hex(&in.conversation, result->conversation_id);
    }

    return rc;
}


static inbox_status_t
inbox_mongo_ingest_contact(inbox_mongo_store_t *ms,
    const inbox_inbound_t *msg, inbox_mongo_ingest_t *in, bson_t *contact,
    inbox_error_t *err)
{
    int             found, attempt;
    bson_oid_t      contact_oid, conversation_oid;
    bson_iter_t     iter;
    inbox_status_t  rc;

    inbox_mongo_new_id(ms, &contact_oid);
    inbox_mongo_new_id(ms, &conversation_oid);

    /* A new contact gets the id of its conversation to be; an existing
     * one is left as it is.  Two first messages from one phone at once
     * may both try the insert: the loser (11000) finds the winner's.
     * A contact made here is unannounced until its contact.updated is
     * written (inbox_mongo_ingest_announced): an attempt that fails
     * before that leaves the flag for the retry (in->made), whether it
     * stored the message or not. */
    for (attempt = 0; attempt < 2; attempt++) {
        if (attempt > 0) {
            bson_destroy(contact);
        }

        rc = inbox_mongo_run_find_and_modify(ms,
            BCON_NEW("findAndModify", BCON_UTF8("contacts"),
                     "query", "{",
                         "org_id", BCON_OID(&in->org),
                         "phone", BCON_UTF8(msg->from),
                     "}",
                     "update", "{", "$setOnInsert", "{",
                         "_id", BCON_OID(&contact_oid),
                         "conversation_id", BCON_OID(&conversation_oid),
                         "name", BCON_NULL,
                         "search_name", BCON_NULL,
                         "opted_out", BCON_BOOL(false),
                         "created_at", BCON_DATE_TIME(in->at),
                         "unannounced", BCON_BOOL(true),
                     "}", "}",
                     "upsert", BCON_BOOL(true),
                     "new", BCON_BOOL(true)),
            contact, &found, err);

        if (rc != INBOX_ERR_CONFLICT) {
            break;
        }
    }

    if (rc != INBOX_OK) {
        return rc;
    }

    if (!found
        || !bson_iter_init_find(&iter, contact, "_id")
        || !BSON_ITER_HOLDS_OID(&iter))
    {
        return inbox_error_set(err, INBOX_ERR_INTERNAL,
                               "MongoDB returned no contact after an upsert.");
    }

    bson_oid_copy(bson_iter_oid(&iter), &in->contact);
    in->made = inbox_mongo_get_bool(contact, "unannounced");

    if (!bson_iter_init_find(&iter, contact, "conversation_id")
        || !BSON_ITER_HOLDS_OID(&iter))
    {
        return inbox_error_set(err, INBOX_ERR_INTERNAL,
                               "A stored contact has no conversation.");
    }

    bson_oid_copy(bson_iter_oid(&iter), &in->conversation);

    return INBOX_OK;
}


static inbox_status_t
inbox_mongo_ingest_message(inbox_mongo_store_t *ms,
    const inbox_inbound_t *msg, inbox_mongo_ingest_t *in, inbox_error_t *err)
{
    bson_t   doc, media, item;
    bson_t  *command;
    size_t   i;
    char     key[16];

    bson_init(&doc);
    BSON_APPEND_OID(&doc, "_id", &in->message);
    BSON_APPEND_OID(&doc, "org_id", &in->org);
    BSON_APPEND_OID(&doc, "conversation_id", &in->conversation);
    BSON_APPEND_OID(&doc, "contact_id", &in->contact);
    BSON_APPEND_UTF8(&doc, "provider", inbox_carrier_name(msg->carrier));
    BSON_APPEND_UTF8(&doc, "provider_id", msg->provider_id);
    BSON_APPEND_UTF8(&doc, "direction", inbox_direction_name(INBOX_INBOUND));
    BSON_APPEND_UTF8(&doc, "from", msg->from);
    BSON_APPEND_UTF8(&doc, "to", msg->to);
    BSON_APPEND_UTF8(&doc, "body", msg->body);

    /* Every image, not only the first. */
    BSON_APPEND_ARRAY_BEGIN(&doc, "media", &media);
    for (i = 0; i < msg->media_count && i < INBOX_MEDIA_MAX; i++) {
        snprintf(key, sizeof(key), "%zu", i);
        BSON_APPEND_DOCUMENT_BEGIN(&media, key, &item);
        BSON_APPEND_UTF8(&item, "url", msg->media[i].url);
        BSON_APPEND_UTF8(&item, "content_type", msg->media[i].content_type);
        /* pending: a copy to make, at once (store_mongo_media.c);
         * failed when intake could not keep it (inbound.h) */
        BSON_APPEND_UTF8(&item, "state",
                         inbox_media_state_name(msg->media[i].state));
        BSON_APPEND_DATE_TIME(&item, "fetch_at", 0);
        BSON_APPEND_INT32(&item, "attempts", 0);
        bson_append_document_end(&media, &item);
    }
    bson_append_array_end(&doc, &media);

    BSON_APPEND_NULL(&doc, "status");
    BSON_APPEND_NULL(&doc, "error_code");
    BSON_APPEND_INT32(&doc, "segments", (int32_t) msg->segments);
    BSON_APPEND_INT32(&doc, "credits", 0);
    BSON_APPEND_NULL(&doc, "sent_by");
    BSON_APPEND_DATE_TIME(&doc, "created_at", in->at);
    /* until its thread and events are written (inbox_mongo_ingest_finish) */
    BSON_APPEND_BOOL(&doc, "threaded", false);

    if (in->has_answer) {
        BSON_APPEND_OID(&doc, "answer_id", &in->answer);
    }

    command = BCON_NEW("insert", BCON_UTF8("messages"),
                       "documents", "[", BCON_DOCUMENT(&doc), "]",
                       "ordered", BCON_BOOL(true));
    bson_destroy(&doc);

    return inbox_mongo_run_simple(ms, command, err);
}


/*
 * The message was stored before (a duplicate key): *unfinished when the
 * attempt that stored it failed before inbox_mongo_ingest_finish, and
 * then in is the stored message's (its id, thread and time), for the
 * steps after the insert.  A keyword changed the contact before that
 * insert: when the contact is still as that message left it (opted out
 * by keyword, or in, at the message's time), result->opt_changed and
 * *record say so, as the first attempt would have.  Otherwise a
 * duplicate: result names the stored message, nothing is written.
 */
static inbox_status_t
inbox_mongo_ingest_stored(inbox_mongo_store_t *ms,
    const inbox_inbound_t *msg, inbox_mongo_ingest_t *in,
    const bson_t *contact, inbox_ingest_result_t *result,
    inbox_contact_record_t *record, int *unfinished, inbox_error_t *err)
{
    int             found;
    bson_t          doc;
    bson_iter_t     iter;
    inbox_status_t  rc;

    *unfinished = 0;

    rc = inbox_mongo_find_one(ms, "messages",
                              BCON_NEW("org_id", BCON_OID(&in->org),
                                       "provider",
                                       BCON_UTF8(inbox_carrier_name(
                                                     msg->carrier)),
                                       "provider_id",
                                       BCON_UTF8(msg->provider_id)),
                              BCON_NEW("_id", BCON_INT32(1),
                                       "conversation_id", BCON_INT32(1),
                                       "created_at", BCON_INT32(1),
                                       "threaded", BCON_INT32(1),
                                       "answer_id", BCON_INT32(1)),
                              &doc, &found, err);

    if (rc != INBOX_OK) {
        bson_destroy(&doc);
        return rc;
    }

    if (found
        && bson_iter_init_find(&iter, &doc, "threaded")
        && BSON_ITER_HOLDS_BOOL(&iter) && !bson_iter_bool(&iter)
        && bson_iter_init_find(&iter, &doc, "_id")
        && BSON_ITER_HOLDS_OID(&iter))
    {
        *unfinished = 1;
        bson_oid_copy(bson_iter_oid(&iter), &in->message);
        in->at = inbox_mongo_get_date(&doc, "created_at");

        if (bson_iter_init_find(&iter, &doc, "conversation_id")
            && BSON_ITER_HOLDS_OID(&iter))
        {
            bson_oid_copy(bson_iter_oid(&iter), &in->conversation);
        }

        /* the answer its first attempt decided on: queued now, once */
        if (bson_iter_init_find(&iter, &doc, "answer_id")
            && BSON_ITER_HOLDS_OID(&iter))
        {
            bson_oid_copy(bson_iter_oid(&iter), &in->answer);
            in->has_answer = 1;
        }

        bson_destroy(&doc);

        if (result->keyword == INBOX_KEYWORD_OPT_OUT
            || result->keyword == INBOX_KEYWORD_OPT_IN)
        {
            inbox_mongo_parse_contact(contact, record);

            result->opt_changed =
                result->keyword == INBOX_KEYWORD_OPT_OUT
                ? record->opted_out && record->opted_out_at == in->at
                  && strcmp(record->opt_out_source,
                            inbox_opt_out_source_name(INBOX_OPT_OUT_KEYWORD))
                     == 0
                : !record->opted_out && record->opted_in_at == in->at;
        }

        return INBOX_OK;
    }

    result->status = INBOX_OK;
    result->duplicate = 1;
    result->keyword = INBOX_KEYWORD_NONE;

    if (found) {
        inbox_mongo_get_id(&doc, "_id", result->message_id);
        inbox_mongo_get_id(&doc, "conversation_id", result->conversation_id);
    } else {
        inbox_mongo_id_hex(&in->conversation, result->conversation_id);
    }

    bson_destroy(&doc);

    return INBOX_OK;
}


/*
 * A keyword opts the contact out (source keyword) or back in, as
 * optout.h's rule says, ordered by when the contact sent it (the
 * carrier's time, else its arrival), before the message is stored: a
 * message stored before (a carrier's retry) is found first and changes
 * nothing (*duplicate), and a failure between the two leaves the contact
 * changed (never an opt-out lost) for the retry to store the message.
 * *record is the contact as it is after, result->opt_changed whether it
 * changed.
 */
static inbox_status_t
inbox_mongo_ingest_opt(inbox_mongo_store_t *ms, const inbox_inbound_t *msg,
    inbox_mongo_ingest_t *in, const bson_t *contact,
    inbox_ingest_result_t *result, inbox_contact_record_t *record,
    int *duplicate, inbox_error_t *err)
{
    int             found, changed, written, tries;
    char            keyword[INBOX_KEYWORD_MAX];
    bson_t          doc;
    int64_t         latest, sent_at;
    inbox_status_t  rc;

    inbox_mongo_parse_contact(contact, record);
    inbox_opt_keyword(msg->body, keyword);
    sent_at = msg->carrier_at > 0 ? msg->carrier_at : in->at;
    rc = INBOX_OK;

    for (tries = 1; /* void */ ; tries++) {
        latest = record->opt_latest_at;
        changed = inbox_contact_opt_keyword(record,
                      result->keyword == INBOX_KEYWORD_OPT_OUT, keyword,
                      in->at, sent_at);

        if (!changed && record->opt_latest_at == latest) {
            return INBOX_OK;
        }

        if (tries == 1) {
            rc = inbox_mongo_find_one(ms, "messages",
                     BCON_NEW("org_id", BCON_OID(&in->org),
                              "provider",
                              BCON_UTF8(inbox_carrier_name(msg->carrier)),
                              "provider_id", BCON_UTF8(msg->provider_id)),
                     BCON_NEW("_id", BCON_INT32(1)),
                     &doc, &found, err);
            bson_destroy(&doc);

            if (rc != INBOX_OK || found) {
                *duplicate = found;
                return rc;
            }
        }

        if (changed) {
            rc = inbox_mongo_contact_opt_write(ms, &in->org, &in->contact,
                                               record, latest, keyword,
                                               &in->message, &written,
                                               err);
        } else {
            rc = inbox_mongo_contact_opt_latest_write(ms, &in->org,
                                                      &in->contact, record,
                                                      latest, &written, err);
        }

        if (rc != INBOX_OK || written) {
            result->opt_changed = rc == INBOX_OK && changed;
            return rc;
        }

        /* changed meanwhile by another message or a person: the rule
         * again on the contact as it is now */
        inbox_contact_record_free(record);
        memset(record, 0, sizeof(inbox_contact_record_t));

        if (tries == INBOX_MONGO_OPT_TRIES) {
            return INBOX_OK;
        }

        rc = inbox_mongo_contact_read(ms, &in->org, &in->contact, record,
                                      NULL, err);
        if (rc != INBOX_OK) {
            return rc;
        }
    }
}


/*
 * The thread's wait for a response as the message leaves it, as update
 * pipeline expressions (inbox_conversation_receive's rule): *waiting,
 * unresponded_at, and *responded, responded_at, each written null when
 * none.  The caller destroys both.
 */
static void
inbox_mongo_ingest_wait(const inbox_mongo_ingest_t *in, bson_t **waiting,
    bson_t **responded)
{
    switch (in->wait) {

    case INBOX_WAIT_STARTS:
        /* unless a response is as new, or one it waits for newer */
        *waiting = BCON_NEW("$cond", "[",
                                "{", "$and", "[",
                                    "{", "$gte", "[",
                                        BCON_DATE_TIME(in->at),
                                        "{", "$ifNull", "[",
                                            BCON_UTF8("$responded_at"),
                                            BCON_DATE_TIME(INT64_MIN),
                                        "]", "}",
                                    "]", "}",
                                    "{", "$gt", "[",
                                        BCON_DATE_TIME(in->at),
                                        "{", "$ifNull", "[",
                                            BCON_UTF8("$unresponded_at"),
                                            BCON_DATE_TIME(INT64_MIN),
                                        "]", "}",
                                    "]", "}",
                                "]", "}",
                                "{", "$literal", BCON_DATE_TIME(in->at), "}",
                                "{", "$ifNull", "[",
                                    BCON_UTF8("$unresponded_at"), BCON_NULL,
                                "]", "}",
                            "]");
        break;

    case INBOX_WAIT_ENDS:
        inbox_mongo_respond_exprs(in->at, waiting, responded);
        return;

    default:    /* INBOX_WAIT_KEPT */
        *waiting = BCON_NEW("$ifNull", "[", BCON_UTF8("$unresponded_at"),
                            BCON_NULL, "]");
        break;
    }

    *responded = BCON_NEW("$ifNull", "[", BCON_UTF8("$responded_at"),
                          BCON_NULL, "]");
}


/* opted_out: the copy's opted_out for a conversation made now (-1: the
 * contact's, as read). */
static inbox_status_t
inbox_mongo_ingest_conversation(inbox_mongo_store_t *ms,
    const inbox_inbound_t *msg, inbox_mongo_ingest_t *in,
    const bson_t *contact, int opted_out, inbox_conversation_t *conversation,
    inbox_error_t *err)
{
    int             found;
    char           *name;
    bson_t            value;
    bson_t            contact_copy;
    bson_t           *command, *newer, *counted, *last, *listed;
    bson_t           *waiting, *responded;
    inbox_status_t    rc;
    inbox_preview_t   preview;

    inbox_message_preview(msg->body, msg->media, msg->media_count, &preview);

    /* The contact fields the list shows and searches, for a conversation
     * made now. */
    bson_init(&contact_copy);
    BSON_APPEND_OID(&contact_copy, "id", &in->contact);
    name = inbox_mongo_dup_str(contact, "name");
    if (name != NULL) {
        BSON_APPEND_UTF8(&contact_copy, "name", name);
    } else {
        BSON_APPEND_NULL(&contact_copy, "name");
    }
    inbox_mongo_append_search_name(&contact_copy, "search_name", name);
    free(name);
    BSON_APPEND_UTF8(&contact_copy, "phone", msg->from);
    BSON_APPEND_BOOL(&contact_copy, "opted_out",
                     opted_out >= 0 ? opted_out != 0
                                    : inbox_mongo_get_bool(contact,
                                                           "opted_out"));

    /*
     * inbox_conversation_receive's rule, as an update pipeline (MongoDB
     * 4.2): one more unread, back from the archive, and the last message
     * and activity follow this message unless a newer one is there (a
     * late retry of an older message; a thread that had only campaigns
     * has no activity yet, and takes this one's); the number texted is
     * kept, which
     * replies go from.  Values of ours are $literal, so a "$" in a body
     * or a name is never read as a field path.  A message already in
     * receiving was counted by an attempt that failed after it: in one
     * update, so that two retries count it once.  The thread waits for
     * a response from this message on unless a response is as new
     * (inbox_conversation_unresponded) or it is a keyword answered, and
     * an opt-out is the response to what came before it
     * (inbox_mongo_ingest_wait); both times are written, null
     * when none, so that the backfill (inbox_mongo_responses_backfill)
     * knows the thread as written since.
     */
    counted = BCON_NEW("$in", "[",
                           BCON_OID(&in->message),
                           "{", "$ifNull", "[",
                               BCON_UTF8("$receiving"), "[", "]",
                           "]", "}",
                       "]");

    newer = inbox_mongo_newer(in->at);
    listed = inbox_mongo_listed();
    inbox_mongo_ingest_wait(in, &waiting, &responded);
    last = inbox_mongo_last_message(&in->message, INBOX_INBOUND, &preview,
                                    in->at, NULL, NULL, NULL);

    command = BCON_NEW("findAndModify", BCON_UTF8("conversations"),
                       "query", "{",
                           "_id", BCON_OID(&in->conversation),
                           "org_id", BCON_OID(&in->org),
                       "}",
                       "update", "[", "{", "$set", "{",
                           "contact", "{", "$ifNull", "[",
                               BCON_UTF8("$contact"),
                               "{", "$literal", BCON_DOCUMENT(&contact_copy),
                               "}",
                           "]", "}",
                           "unread_count", "{", "$cond", "[",
                               BCON_DOCUMENT(counted),
                               BCON_UTF8("$unread_count"),
                               "{", "$add", "[",
                                   "{", "$ifNull", "[",
                                       BCON_UTF8("$unread_count"),
                                       BCON_INT64(0),
                                   "]", "}",
                                   BCON_INT64(1),
                               "]", "}",
                           "]", "}",
                           "archived", "{", "$cond", "[",
                               BCON_DOCUMENT(counted),
                               BCON_UTF8("$archived"),
                               "{", "$literal", BCON_BOOL(false), "}",
                           "]", "}",
                           "starred", "{", "$ifNull", "[",
                               BCON_UTF8("$starred"), BCON_BOOL(false),
                           "]", "}",
                           "last_message", "{", "$cond", "[",
                               BCON_DOCUMENT(newer),
                               "{", "$literal", BCON_DOCUMENT(last), "}",
                               BCON_UTF8("$last_message"),
                           "]", "}",
                           "last_activity_at", "{", "$cond", "[",
                               "{", "$or", "[",
                                   BCON_DOCUMENT(newer),
                                   "{", "$not", "[",
                                       BCON_DOCUMENT(listed),
                                   "]", "}",
                               "]", "}",
                               "{", "$literal", BCON_DATE_TIME(in->at), "}",
                               BCON_UTF8("$last_activity_at"),
                           "]", "}",
                           "unresponded_at", BCON_DOCUMENT(waiting),
                           "responded_at", BCON_DOCUMENT(responded),
                           "receiving", "{", "$setUnion", "[",
                               "{", "$ifNull", "[",
                                   BCON_UTF8("$receiving"), "[", "]",
                               "]", "}",
                               "[", BCON_OID(&in->message), "]",
                           "]", "}",
                           "number", "{", "$literal", BCON_UTF8(msg->to),
                           "}",
                       "}", "}", "]",
                       "upsert", BCON_BOOL(true),
                       "new", BCON_BOOL(true));
    bson_destroy(newer);
    bson_destroy(listed);
    bson_destroy(waiting);
    bson_destroy(responded);
    bson_destroy(last);
    bson_destroy(counted);
    bson_destroy(&contact_copy);

    rc = inbox_mongo_run_find_and_modify(ms, command, &value, &found, err);

    if (rc == INBOX_OK && !found) {
        rc = inbox_error_set(err, INBOX_ERR_INTERNAL,
                             "MongoDB returned no conversation after an "
                             "upsert.");
    }

    if (rc == INBOX_OK) {
        inbox_mongo_parse_conversation(&value, conversation);
    }

    bson_destroy(&value);

    return rc;
}


/* The message's events, and its contact's (changed: what the message
 * did to it, inbox_change_add_contact). */
static inbox_status_t
inbox_mongo_ingest_events(inbox_mongo_store_t *ms, const inbox_inbound_t *msg,
    inbox_mongo_ingest_t *in, const inbox_conversation_t *conversation,
    const inbox_contact_record_t *contact, unsigned changed, int resumed,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int              found;
    bson_t           batch;
    inbox_change_t   change;
    inbox_status_t   rc;
    inbox_message_t  message;

    if (resumed) {
        /* written before the attempt that stored the message failed; on
         * the partial index of message.created, which the planner could
         * pass over for org_seq_unique (the organization's whole
         * stream) */
        rc = inbox_mongo_run_cursor(ms,
            BCON_NEW("find", BCON_UTF8("events"),
                     "filter", "{",
                         "org_id", BCON_OID(&in->org),
                         "message_id", BCON_OID(&in->message),
                         "type", BCON_UTF8("message.created"),
                     "}",
                     "projection", "{", "_id", BCON_INT32(1), "}",
                     "hint", BCON_UTF8("org_message_created"),
                     "limit", BCON_INT32(1),
                     "singleBatch", BCON_BOOL(true)),
            &batch, err);
        found = rc == INBOX_OK && bson_count_keys(&batch) > 0;
        bson_destroy(&batch);

        if (rc != INBOX_OK || found) {
            return rc;
        }
    }

    /* The message as stored, pointing into msg (nothing to free). */
    memset(&message, 0, sizeof(inbox_message_t));
    inbox_mongo_id_hex(&in->message, message.id);
    inbox_mongo_id_hex(&in->conversation, message.conversation_id);
    message.direction = INBOX_INBOUND;
    message.body = (char *) msg->body;
    message.media_count = msg->media_count;
    message.media = (inbox_media_t *) msg->media;
    message.segments = msg->segments;
    message.created_at = in->at;

    inbox_change_message(&change, &message, conversation);
    inbox_change_add_contact(&change, contact, changed);

    return inbox_mongo_events_append(ms, &in->org, &change, events, err);
}


/* The contact.updated of a contact the message made is written: the
 * contact is no longer unannounced, so no later text pushes it as made.
 * (Two first texts of one number at once may both push it; each frame
 * is the contact whole, the second changes nothing a list shows.) */
static inbox_status_t
inbox_mongo_ingest_announced(inbox_mongo_store_t *ms,
    const inbox_mongo_ingest_t *in, inbox_error_t *err)
{
    return inbox_mongo_run_simple(ms,
        BCON_NEW("update", BCON_UTF8("contacts"),
                 "updates", "[", "{",
                     "q", "{",
                         "_id", BCON_OID(&in->contact),
                         "org_id", BCON_OID(&in->org),
                     "}",
                     "u", "{", "$unset", "{", "unannounced", BCON_UTF8(""),
                     "}", "}",
                 "}", "]",
                 "ordered", BCON_BOOL(true)),
        err);
}


/*
 * The answer the message named when it was stored (answer_id), before
 * it is finished: a failure here is a 503, and the carrier's retry
 * queues it (resumed) under the same id.  A HELP takes the contact's
 * day first (help_answered_at, compare and set: another HELP answered
 * since the contact was read keeps it, and this one goes unanswered; a
 * retry finds its own time there), naming its answer (help_answer_id),
 * whose failure gives the day back (inbox_mongo_help_unanswered).  The
 * settings are read once a batch.
 */
static inbox_status_t
inbox_mongo_ingest_answer(inbox_mongo_store_t *ms,
    inbox_mongo_ingest_batch_t *batch, const inbox_inbound_t *msg,
    inbox_mongo_ingest_t *in, inbox_ingest_result_t *result, int resumed,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int                matched;
    char              *text;
    char               org[INBOX_ID_MAX];
    size_t             i;
    unsigned           segments;
    inbox_status_t     rc;
    inbox_settings_t  *settings;

    if (result->keyword == INBOX_KEYWORD_HELP) {
        rc = inbox_mongo_update_one(ms, "contacts",
            BCON_NEW("_id", BCON_OID(&in->contact),
                     "$or", "[",
                         "{", "help_answered_at", BCON_NULL, "}",
                         "{", "help_answered_at", "{",
                             "$lte", BCON_DATE_TIME(in->at
                                         - INBOX_KEYWORD_HELP_INTERVAL_MS),
                         "}", "}",
                         "{", "help_answered_at", BCON_DATE_TIME(in->at),
                         "}",
                     "]"),
            BCON_NEW("$set", "{",
                         "help_answered_at", BCON_DATE_TIME(in->at),
                         "help_answer_id", BCON_OID(&in->answer),
                     "}"),
            &matched, err);

        if (rc != INBOX_OK || !matched) {
            return rc;
        }
    }

    settings = NULL;

    for (i = 0; i < batch->n; i++) {
        if (bson_oid_equal(&batch->orgs[i], &in->org)) {
            settings = &batch->settings[i];
            break;
        }
    }

    if (settings == NULL) {
        if (batch->orgs == NULL) {
            batch->orgs = calloc(batch->max, sizeof(bson_oid_t));
            batch->settings = calloc(batch->max, sizeof(inbox_settings_t));

            if (batch->orgs == NULL || batch->settings == NULL) {
                return inbox_error_set(err, INBOX_ERR_INTERNAL,
                                       "Out of memory.");
            }
        }

        settings = &batch->settings[batch->n];
        inbox_mongo_id_hex(&in->org, org);

        rc = inbox_mongo_settings_get((inbox_store_t *) ms, org, settings,
                                      err);
        if (rc != INBOX_OK) {
            return rc;
        }

        bson_oid_copy(&in->org, &batch->orgs[batch->n++]);
    }

    rc = inbox_store_keyword_text(result, settings, &text, &segments,
                                  err);
    if (rc != INBOX_OK) {
        return rc;
    }

    /* queued with the message, just after it (and the opt-out it made:
     * the timeline shows an event before a message of its time) */
    rc = inbox_mongo_outbox_answer(ms, &in->org, &in->conversation,
                                   &in->contact, msg->to, msg->from,
                                   &in->answer, text, segments, in->at + 1,
                                   resumed, events, err);
    free(text);

    if (rc == INBOX_OK) {
        result->answered = 1;
    }

    return rc;
}


/* The message is finished: shown, and a duplicate to a retry.  Then it
 * leaves its conversation's receiving list (left there by a failure,
 * it is only never looked for again). */
static inbox_status_t
inbox_mongo_ingest_finish(inbox_mongo_store_t *ms, inbox_mongo_ingest_t *in,
    inbox_error_t *err)
{
    inbox_status_t  rc;

    rc = inbox_mongo_run_simple(ms,
        BCON_NEW("update", BCON_UTF8("messages"),
                 "updates", "[", "{",
                     "q", "{", "_id", BCON_OID(&in->message), "}",
                     "u", "{", "$unset", "{", "threaded", BCON_UTF8(""),
                     "}", "}",
                 "}", "]",
                 "ordered", BCON_BOOL(true)),
        err);
    if (rc != INBOX_OK) {
        return rc;
    }

    return inbox_mongo_run_simple(ms,
        BCON_NEW("update", BCON_UTF8("conversations"),
                 "updates", "[", "{",
                     "q", "{",
                         "_id", BCON_OID(&in->conversation),
                         "org_id", BCON_OID(&in->org),
                     "}",
                     "u", "{", "$pull", "{",
                         "receiving", BCON_OID(&in->message),
                     "}", "}",
                 "}", "]",
                 "ordered", BCON_BOOL(true)),
        err);
}
