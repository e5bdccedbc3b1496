/*
 * The MongoDB backend: replies, the outbox, delivery statuses and the
 * holds they settle, without transactions (see store_mongo.h).  What
 * must not happen twice is a compare-and-set on one document: the hold
 * is a $inc on the organization whose filter asks for billing_active
 * and credits.balance >= the price (so concurrent replies never take the
 * balance below zero), a status moves only from the statuses before it
 * (delivery.h), a hold is settled only where "held" is still true, and
 * an outbox entry is claimed, retried or finished only at the attempt
 * its claim counted.
 *
 * A reply writes, in this order:
 *   reads                the conversation, the user, the contact (opted
 *                        out?), the organization (billing, plan,
 *                        balance), the number the contact last texted
 *                        (else its first): every refusal, nothing
 *                        written
 *   insert reply_keys    (with a key: unique per organization; taken =
 *                        the first request's answer, or 409)
 *   findAndModify messages
 *                        Send again (resend_of): the failed reply
 *                        marked resent_as the new message where
 *                        resent_as is null, so that of two at once one
 *                        wins and the other is refused (409
 *                        already_sent_again) holding nothing; unset
 *                        again when the reply does not go
 *   findAndModify orgs   the hold ($inc, filtered); none: the key is
 *                        removed and the organization read again for
 *                        the refusal (403 or 402); failed: the key is
 *                        removed, and the hold given back when the
 *                        server applied it (a writeConcernError)
 *   insert ledger        the hold's entry (none when the plan pays)
 *   update media         each upload it carries attached, after every
 *                        refusal, so that a refused reply leaves them
 *                        to the purge (one purged since the request
 *                        read it: refused 400, the hold given back and
 *                        the key removed, those attached before it
 *                        released); a write after it that fails
 *                        releases them (store_mongo_media.c)
 *   insert messages      status queued, held; keyed by its own id
 *                        (provider "inbox") until a carrier takes it
 *   findAndModify conversations  the thread's last message
 *   events               message.created, conversation.updated
 *   insert outbox        last: the sender never sees a message whose
 *                        events are not stored; a campaign's entry names
 *                        its campaign (campaign_id), whose status the
 *                        claim looks at and by which resume and cancel
 *                        find the entries a pause parked
 *   events               Send again: message.updated of the failed
 *                        reply, marked
 * A write that fails after the hold (the server answered, or the
 * driver gave up) gives the hold back and removes the key, as SQLite's
 * rollback leaves the balance (inbox_mongo_reply_hold): a message
 * stored already stays in its thread, queued and holding nothing.
 * A crash between two of them leaves: after the key, a key without a
 * message (a retry with it is a 409 until the key is removed by hand);
 * after the hold, credits held with no message (the organization's held
 * exceeds its messages' holds); after the message, a queued message
 * that is never sent and keeps its hold.  MongoDB transactions (a
 * replica set) will close these; the contract suite and the golden
 * files check the order.
 *
 * A claim leases each entry (a findAndModify: attempts + 1), reads the
 * statuses of their campaigns in one find and their organizations'
 * billing in another, then puts the entries of a campaign paused by a
 * person, or of an organization whose billing is inactive, back as they
 * were (attempts, lease_until) but parked, due at INBOX_OUTBOX_PARKED
 * (outbox.h), in one update; it reads the billing of those again after
 * the park, as it does the campaigns (below).  A crash in between
 * leaves those leased: claimed again when the lease runs out, reported
 * unknown (interrupted) though never sent.  A claim that read a campaign
 * paused just before it was resumed may park its entries after resume
 * unparked them, so it reads the parked entries' campaigns again after
 * the park and unparks those no longer paused.  What it parked holds
 * nothing (outbox.h): after the park each one's hold is given back
 * (settled as a release, store_mongo_settle.c), but one whose lease ran
 * out; a failure before leaves them parked holding, which the claim
 * that hands them out finds held.  A campaign's message it hands out
 * is held again first where it holds nothing (inbox_mongo_hold_again:
 * the organization's $inc, its entry, the message held, its holds
 * counted); one the balance no longer covers is parked again, its
 * campaign paused for credits.
 *
 * A result that retries or releases writes the outbox entry (due again,
 * at its attempt), then reads the message.  Any other writes the message
 * (the carrier's id, the status), the hold's settlement
 * (store_mongo_settle.c: the message marked settling, the organization's
 * $inc, the ledger entry, the marks cleared), a campaign message's
 * recipient (its state, store_mongo_campaigns.c; a cancelled one's then
 * cancelled), the event, and last removes the entry at its attempt: a
 * store failure before that leaves the entry, and the sender's retry
 * records the result again (each write a compare-and-set or the same
 * values), finishing the settlement (a move made already settles the
 * hold of the status it has) and what the move's mark says is left
 * (unannounced: the recipient and message.status, which a half-failed
 * record never appended before; inbox_mongo_delivery_announce); so does
 * a carrier's report retried.  A crash before the removal leaves the
 * entry leased: claimed again when the lease runs out, interrupted, and
 * recorded as an unknown outcome, which moves no final status back.  A
 * crash within the settlement leaves it marked, and the holds job
 * finishes it once.
 */
#include <stdlib.h>
#include <string.h>
#include <inbox/media.h>
#include <inbox/resend.h>
#include "store_mongo.h"


/* The most campaigns of an organization that may still send which
 * inbox_mongo_outbox_unpark_quiet reads (a few, in practice), and the
 * entries it makes due a look (it looks again while it finds as many). */
#define INBOX_MONGO_UNPARK_CAMPAIGNS  1000
#define INBOX_MONGO_UNPARK_BATCH      100


/* What a claim keeps of an entry besides its item, until it reads the
 * entry's message and number. */
typedef struct {
    bson_oid_t  message;
    bson_oid_t  campaign;
    int         in_campaign;          /* a campaign's message */
    int         parked;               /* its campaign is paused, or its
                                         organization's billing is not
                                         active (billing) */
    int         billing;              /* parked for billing */
    int64_t     lease_until;          /* before this claim; 0: none */
    int64_t     due_at;               /* before this claim */
    unsigned    segments;             /* its message's; 0: not said */
    char        from[INBOX_PHONE_MAX];
    char        timezone[INBOX_TIMEZONE_MAX];  /* its contact's */
} inbox_mongo_claimed_t;


/* What the campaigns' statuses are folded into. */
typedef struct {
    inbox_outbox_item_t    *items;
    inbox_mongo_claimed_t  *claimed;
    size_t                  n;
} inbox_mongo_claim_t;


static inbox_status_t inbox_mongo_reply_repeat(inbox_mongo_store_t *ms,
    inbox_mongo_reply_t *r, const inbox_reply_t *reply,
    const char *fingerprint, inbox_reply_result_t *result, int *found,
    inbox_error_t *err);
static inbox_status_t inbox_mongo_resend_find(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const inbox_reply_t *reply, bson_oid_t *failed,
    inbox_message_t *m, inbox_error_t *err);
static inbox_status_t inbox_mongo_resend_claim(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const inbox_reply_t *reply,
    const bson_oid_t *failed, const bson_oid_t *message, int64_t now,
    inbox_error_t *err);
static void inbox_mongo_resend_unclaim(inbox_mongo_store_t *ms,
    const bson_oid_t *failed, const bson_oid_t *message);
static inbox_status_t inbox_mongo_reply_checks(inbox_mongo_store_t *ms,
    inbox_mongo_reply_t *r, const inbox_reply_t *reply,
    inbox_conversation_t *c, inbox_error_t *err);
static inbox_status_t inbox_mongo_reply_number(inbox_mongo_store_t *ms,
    const bson_oid_t *org, char from[INBOX_PHONE_MAX], inbox_error_t *err);
static inbox_status_t inbox_mongo_org_number(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const char *e164, char from[INBOX_PHONE_MAX],
    inbox_error_t *err);
static inbox_status_t inbox_mongo_reply_refusal(inbox_mongo_store_t *ms,
    const bson_oid_t *org, unsigned credits, inbox_error_t *err);
static inbox_status_t inbox_mongo_reply_store(inbox_mongo_store_t *ms,
    inbox_mongo_reply_t *r, const inbox_reply_t *reply,
    const bson_oid_t *message, const bson_oid_t *campaign, int64_t now,
    int again, int *stored, inbox_reply_result_t *result,
    inbox_event_list_t *events, inbox_error_t *err);
static void inbox_mongo_hold_undo(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const bson_oid_t *message, unsigned credits,
    int stored, int64_t now);
static inbox_status_t inbox_mongo_message_get(inbox_mongo_store_t *ms,
    bson_t *filter, inbox_message_t *m, bson_t *doc, int *found,
    inbox_error_t *err);
static inbox_status_t inbox_mongo_outbox_record(inbox_mongo_store_t *ms,
    const inbox_outbox_ruled_t *ruled, int64_t now,
    inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t inbox_mongo_early_drop(inbox_mongo_store_t *ms,
    const bson_oid_t *org, inbox_carrier_t carrier, const char *provider_id,
    inbox_error_t *err);
static inbox_status_t inbox_mongo_early_take(inbox_mongo_store_t *ms,
    const bson_oid_t *org, inbox_carrier_t carrier, const char *provider_id,
    inbox_delivery_t *status, int *final,
    char error_code[INBOX_CARRIER_CODE_MAX], inbox_error_t *err);
static inbox_status_t inbox_mongo_early_named(inbox_mongo_store_t *ms,
    const bson_oid_t *org, inbox_carrier_t carrier, const bson_oid_t *message,
    char provider_id[INBOX_PROVIDER_ID_MAX], inbox_error_t *err);
static inbox_status_t inbox_mongo_unknown_adopt(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const bson_oid_t *message, inbox_carrier_t carrier,
    const char *provider_id, int64_t now, int *moved,
    inbox_delivery_t *status, char contact[INBOX_ID_MAX], int64_t *sent_at,
    inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t inbox_mongo_status_apply(inbox_mongo_store_t *ms,
    inbox_status_report_t *r, int64_t now, inbox_event_list_t *events);
static inbox_status_t inbox_mongo_delivery_move(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const bson_t *which, inbox_delivery_t to,
    int final, const char *error_code, int64_t now, int *moved,
    inbox_delivery_t *status, char contact[INBOX_ID_MAX], int64_t *sent_at,
    inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t inbox_mongo_delivery_thread(
    inbox_mongo_store_t *ms, const bson_oid_t *org, const bson_t *doc,
    const bson_oid_t *id, inbox_delivery_t status, const char *code,
    inbox_error_t *err);
static inbox_status_t inbox_mongo_delivery_announce(
    inbox_mongo_store_t *ms, const bson_oid_t *org, const bson_t *doc,
    inbox_delivery_t status, const char *mark, inbox_event_list_t *events,
    inbox_error_t *err);
static inbox_status_t inbox_mongo_help_unanswered(inbox_mongo_store_t *ms,
    const bson_t *doc, inbox_error_t *err);
static inbox_status_t inbox_mongo_hold_settle(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const bson_t *doc, inbox_hold_action_t hold,
    int64_t now, inbox_error_t *err);
static void inbox_mongo_outbox_full(const inbox_outbox_pacing_t *pacing,
    bson_t *full);
static inbox_status_t inbox_mongo_outbox_passed_over(
    inbox_mongo_store_t *ms, int64_t now,
    inbox_outbox_priority_t priority_max,
    const inbox_outbox_pacing_t *pacing, inbox_outbox_batch_t *batch,
    inbox_error_t *err);
static inbox_status_t inbox_mongo_outbox_take(inbox_mongo_store_t *ms,
    int64_t now, int64_t until, inbox_outbox_priority_t priority_max,
    const bson_t *full, inbox_outbox_item_t *item,
    inbox_mongo_claimed_t *claimed, int *found, inbox_error_t *err);
static inbox_status_t inbox_mongo_outbox_campaigns(inbox_mongo_store_t *ms,
    inbox_mongo_claim_t *claim, inbox_error_t *err);
static inbox_status_t inbox_mongo_outbox_park(inbox_mongo_store_t *ms,
    inbox_mongo_claim_t *claim, inbox_error_t *err);
static inbox_status_t inbox_mongo_outbox_billing(inbox_mongo_store_t *ms,
    inbox_mongo_claim_t *claim, int parked, inbox_error_t *err);
static inbox_status_t inbox_mongo_billing_fold(void *data, const bson_t *doc,
    inbox_error_t *err);
static inbox_status_t inbox_mongo_outbox_put_back(inbox_mongo_store_t *ms,
    inbox_mongo_claim_t *claim, int parked_only, int64_t due_at,
    inbox_error_t *err);
static inbox_status_t inbox_mongo_outbox_untake(inbox_mongo_store_t *ms,
    inbox_outbox_item_t *item, inbox_mongo_claimed_t *claimed,
    inbox_error_t *err);
static inbox_status_t inbox_mongo_outbox_recheck(inbox_mongo_store_t *ms,
    inbox_mongo_claim_t *claim, int64_t now, inbox_error_t *err);
static inbox_status_t inbox_mongo_outbox_read(inbox_mongo_store_t *ms,
    inbox_outbox_item_t *item, inbox_mongo_claimed_t *claimed,
    inbox_error_t *err);
static inbox_status_t inbox_mongo_outbox_give_back(inbox_mongo_store_t *ms,
    const inbox_mongo_claim_t *claim, int64_t now, inbox_error_t *err);
static inbox_status_t inbox_mongo_hold_again(inbox_mongo_store_t *ms,
    const bson_oid_t *message, int64_t now, int *held, inbox_error_t *err);
static inbox_status_t inbox_mongo_outbox_quiet(inbox_mongo_store_t *ms,
    inbox_outbox_batch_t *batch, inbox_mongo_claimed_t *claimed,
    int64_t now, int64_t quiet_now, inbox_error_t *err);
static inbox_status_t inbox_mongo_oid_add(void *list, const bson_t *doc,
    inbox_error_t *err);


inbox_status_t
inbox_mongo_reply_accept(inbox_store_t *store, const char *org_id,
    const inbox_reply_t *reply, const char *fingerprint, int64_t now,
    inbox_reply_result_t *result, inbox_event_list_t *events,
    inbox_error_t *err)
{
    int                   found, moved, resend, claimed;
    bson_t                entry;
    bson_t               *doc;
    bson_oid_t            message, key, failed;
    inbox_change_t        change;
    inbox_reply_t         charged;
    inbox_status_t        rc;
    inbox_mongo_reply_t   r;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    memset(&r, 0, sizeof(inbox_mongo_reply_t));

    /* the backend's clock, which tests replace (as every write's) */
    now = inbox_mongo_now(ms);

    rc = inbox_mongo_ids(org_id, &r.org, reply->conversation_id,
                         &r.conversation, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    if (reply->user_id != NULL && reply->user_id[0] != '\0') {
        if (inbox_mongo_parse_id(reply->user_id, &r.user) != 0) {
            return inbox_error_set_field(err, INBOX_ERR_NOT_FOUND, "user",
                                         "There is no such user.");
        }

        r.has_user = 1;
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    if (fingerprint[0] != '\0') {
        rc = inbox_mongo_reply_repeat(ms, &r, reply, fingerprint, result,
                                      &found, err);
        if (rc != INBOX_OK || found) {
            return rc;
        }
    }

    resend = reply->resend_of != NULL && reply->resend_of[0] != '\0';
    claimed = 0;

    if (resend) {
        rc = inbox_mongo_resend_find(ms, &r.org, reply, &failed,
                                     &result->resent, err);
        if (rc != INBOX_OK) {
            goto failed;
        }
    }

    rc = inbox_mongo_reply_checks(ms, &r, reply, &result->conversation, err);
    if (rc != INBOX_OK) {
        goto failed;
    }

    inbox_mongo_new_id(ms, &message);

    if (fingerprint[0] != '\0') {
        inbox_mongo_new_id(ms, &key);

        bson_init(&entry);
        BSON_APPEND_OID(&entry, "_id", &key);
        BSON_APPEND_OID(&entry, "org_id", &r.org);
        BSON_APPEND_UTF8(&entry, "key", reply->idempotency_key);

        if (r.has_user) {
            BSON_APPEND_OID(&entry, "user_id", &r.user);
        } else {
            BSON_APPEND_NULL(&entry, "user_id");
        }

        BSON_APPEND_UTF8(&entry, "fingerprint", fingerprint);
        BSON_APPEND_OID(&entry, "message_id", &message);
        BSON_APPEND_DATE_TIME(&entry, "created_at", now);

        doc = BCON_NEW("insert", BCON_UTF8("reply_keys"),
                       "documents", "[", BCON_DOCUMENT(&entry), "]",
                       "ordered", BCON_BOOL(true));
        bson_destroy(&entry);

        rc = inbox_mongo_run_simple(ms, doc, err);

        if (rc == INBOX_ERR_CONFLICT) {
            /* the same key at the same moment: the first one answers */
            inbox_conversation_free(&result->conversation);
            memset(&result->conversation, 0, sizeof(inbox_conversation_t));

            rc = inbox_mongo_reply_repeat(ms, &r, reply, fingerprint, result,
                                          &found, err);
            if (rc == INBOX_OK && !found) {
                rc = inbox_error_set(err, INBOX_ERR_CONFLICT,
                                     "A request with this Idempotency-Key "
                                     "is being accepted; try again "
                                     "shortly.");
            }
        }

        if (rc != INBOX_OK) {
            goto failed;
        }
    }

    /* the message as its plan charges it */
    charged = *reply;
    charged.credits = r.charge;

    moved = 0;

    if (resend) {
        /* the mark first, a compare-and-set: of two Send agains at once
         * one takes it, the other is refused before it holds anything */
        rc = inbox_mongo_resend_claim(ms, &r.org, reply, &failed, &message,
                                      now, err);
        claimed = rc == INBOX_OK;
    }

    if (rc == INBOX_OK) {
        rc = inbox_mongo_reply_hold(ms, &r, &charged, &message, NULL, now,
                                    &moved, result, events, err);
    }

    if (claimed && !(rc == INBOX_OK && moved)) {
        /* nothing went: it may be sent again */
        inbox_mongo_resend_unclaim(ms, &failed, &message);
    }

    /* spent or switched off since it was read, a write failed and the
     * hold was given back, or the hold's own command failed (applied or
     * not: one the server applied is given back too, one whose answer
     * was lost as a crash would leave it): nothing is kept, a retry is
     * a new request, not a 409 for as long as the key lives */
    if (fingerprint[0] != '\0' && !(rc == INBOX_OK && moved)) {
        (void) inbox_mongo_run_simple(ms,
            BCON_NEW("delete", BCON_UTF8("reply_keys"),
                     "deletes", "[", "{",
                         "q", "{", "_id", BCON_OID(&key), "}",
                         "limit", BCON_INT32(1),
                     "}", "]"),
            NULL);
    }

    if (rc == INBOX_OK && !moved) {
        rc = inbox_mongo_reply_refusal(ms, &r.org, r.charge, err);
    }

    if (rc != INBOX_OK) {
        goto failed;
    }

    if (resend) {
        /* after the reply's own: a crash between leaves the mark, which
         * a read of the thread shows, without its frame */
        memcpy(result->resent.resent_as, result->message.id,
               sizeof(result->resent.resent_as));
        result->resent.resent_at = now;

        inbox_change_resent(&change, &result->resent);

        if (inbox_mongo_events_append(ms, &r.org, &change, events, err)
            != INBOX_OK)
        {
            /* sent, and marked: its browsers learn it at their next
             * reload */
            inbox_error_clear(err);
        }
    }

    return INBOX_OK;

failed:

    inbox_reply_result_free(result);
    memset(result, 0, sizeof(inbox_reply_result_t));

    return rc;
}


/* The failed reply a Send again names, as the organization has it, and
 * whether it may go again (inbox_resend_check). */
static inbox_status_t
inbox_mongo_resend_find(inbox_mongo_store_t *ms, const bson_oid_t *org,
    const inbox_reply_t *reply, bson_oid_t *failed, inbox_message_t *m,
    inbox_error_t *err)
{
    int             found;
    bson_t          doc;
    inbox_status_t  rc;

    if (inbox_mongo_parse_id(reply->resend_of, failed) != 0) {
        return inbox_resend_check(reply, m, 0, err);
    }

    rc = inbox_mongo_message_get(ms,
                                 BCON_NEW("_id", BCON_OID(failed),
                                          "org_id", BCON_OID(org)),
                                 m, &doc, &found, err);
    bson_destroy(&doc);

    if (rc != INBOX_OK) {
        return rc;
    }

    return inbox_resend_check(reply, m, found, err);
}


/* Marks the failed reply sent again as message, where it is not yet:
 * one that another Send again marked since it was read is refused as
 * already sent again, naming that one's message. */
static inbox_status_t
inbox_mongo_resend_claim(inbox_mongo_store_t *ms, const bson_oid_t *org,
    const inbox_reply_t *reply, const bson_oid_t *failed,
    const bson_oid_t *message, int64_t now, inbox_error_t *err)
{
    int              found;
    bson_t           value;
    bson_oid_t       again;
    inbox_status_t   rc;
    inbox_message_t  m;

    rc = inbox_mongo_run_find_and_modify(ms,
        BCON_NEW("findAndModify", BCON_UTF8("messages"),
                 "query", "{",
                     "_id", BCON_OID(failed),
                     "org_id", BCON_OID(org),
                     "resent_as", BCON_NULL,
                 "}",
                 "update", "{",
                     "$set", "{",
                         "resent_as", BCON_OID(message),
                         "resent_at", BCON_DATE_TIME(now),
                     "}",
                 "}",
                 "fields", "{", "_id", BCON_INT32(1), "}",
                 "new", BCON_BOOL(true)),
        &value, &found, err);
    bson_destroy(&value);

    if (rc != INBOX_OK || found) {
        return rc;
    }

    memset(&m, 0, sizeof(inbox_message_t));

    /* marked since: read again, for whose message it went as */
    rc = inbox_mongo_resend_find(ms, org, reply, &again, &m, err);
    inbox_message_free(&m);

    if (rc == INBOX_OK) {
        rc = inbox_error_set(err, INBOX_ERR_CONFLICT,
                             "This reply is being sent again; look at the "
                             "thread shortly.");
    }

    return rc;
}


/* Gives back a mark of message whose send did not go. */
static void
inbox_mongo_resend_unclaim(inbox_mongo_store_t *ms, const bson_oid_t *failed,
    const bson_oid_t *message)
{
    int  matched;

    (void) inbox_mongo_update_one(ms, "messages",
        BCON_NEW("_id", BCON_OID(failed), "resent_as", BCON_OID(message)),
        BCON_NEW("$unset", "{",
                     "resent_as", BCON_UTF8(""),
                     "resent_at", BCON_UTF8(""),
                 "}"),
        &matched, NULL);
}


/*
 * notices: a keyword's answer (see inbox_store_outbox_notice)
 * The writes of a reply after its hold (the message, the thread, the
 * events, the outbox entry last), with none of its checks and no hold:
 * reads the thread (its contact's number) and the sending number only.
 */
inbox_status_t
inbox_mongo_outbox_notice(inbox_store_t *store, const char *org_id,
    const char *conversation_id, const char *from, const char *body,
    unsigned segments, int64_t now, inbox_reply_result_t *result,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int                   found, stored;
    bson_t                doc, batch;
    bson_t               *filter;
    bson_oid_t            message;
    inbox_reply_t         notice;
    inbox_status_t        rc;
    inbox_mongo_reply_t   r;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    memset(&r, 0, sizeof(inbox_mongo_reply_t));

    now = inbox_mongo_now(ms);

    rc = inbox_mongo_ids(org_id, &r.org, conversation_id, &r.conversation,
                         err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_find_one(ms, "conversations",
                              BCON_NEW("_id", BCON_OID(&r.conversation),
                                       "org_id", BCON_OID(&r.org)),
                              NULL, &doc, &found, err);

    if (rc == INBOX_OK && !found) {
        rc = inbox_error_not_found(err, "conversation");
    }

    if (rc == INBOX_OK) {
        inbox_mongo_parse_conversation(&doc, &result->conversation);

        /* a contact's number never changes: the thread's copy will do */
        snprintf(r.to, sizeof(r.to), "%s", result->conversation.contact.phone);

        if (inbox_mongo_parse_id(result->conversation.contact.id, &r.contact)
            != 0)
        {
            rc = inbox_error_set(err, INBOX_ERR_INTERNAL,
                                 "A stored conversation has no contact.");
        }
    }

    bson_destroy(&doc);

    if (rc != INBOX_OK) {
        goto failed;
    }

    /* the number the keyword came to, else the organization's first */
    filter = from != NULL ? BCON_NEW("org_id", BCON_OID(&r.org),
                                     "e164", BCON_UTF8(from))
                          : BCON_NEW("org_id", BCON_OID(&r.org));

    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("find", BCON_UTF8("numbers"),
                 "filter", BCON_DOCUMENT(filter),
                 "projection", "{", "e164", BCON_INT32(1), "}",
                 "sort", "{", "_id", BCON_INT32(1), "}",
                 "limit", BCON_INT32(1),
                 "singleBatch", BCON_BOOL(true)),
        &batch, err);
    bson_destroy(filter);

    if (rc == INBOX_OK) {
        inbox_mongo_get_str(&batch, "0.e164", r.from, sizeof(r.from));

        if (r.from[0] == '\0') {
            rc = inbox_error_set(err, INBOX_ERR_CONFLICT,
                                 "This organization has no such number to "
                                 "send from.");
        }
    }

    bson_destroy(&batch);

    if (rc != INBOX_OK) {
        goto failed;
    }

    memset(&notice, 0, sizeof(inbox_reply_t));
    notice.conversation_id = conversation_id;
    notice.body = body;
    notice.segments = segments;
    notice.credits = 0;
    notice.notice = 1;

    inbox_mongo_new_id(ms, &message);

    rc = inbox_mongo_reply_store(ms, &r, &notice, &message, NULL, now, 0,
                                 &stored, result, events, err);
    if (rc == INBOX_OK) {
        return INBOX_OK;
    }

failed:

    inbox_reply_result_free(result);
    memset(result, 0, sizeof(inbox_reply_result_t));

    return rc;
}


/*
 * A keyword's answer, among the steps of the inbound message it answers
 * (store_mongo_ingest.c): a notice's writes, its message with the id
 * that message named for it when it was stored, and its outbox entry
 * with the same id.  again: a retry of a message its first attempt left
 * unfinished, which may have written some of them; a message stored
 * already is not stored again, nor its events, nor its entry (a
 * duplicate key), and one the sender has taken since (no longer queued)
 * is left to it.
 */
inbox_status_t
inbox_mongo_outbox_answer(inbox_mongo_store_t *ms, const bson_oid_t *org,
    const bson_oid_t *conversation, const bson_oid_t *contact,
    const char *from, const char *to, const bson_oid_t *message,
    const char *body, unsigned segments, int64_t now, int again,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int                   stored;
    char                  hex[INBOX_ID_MAX];
    inbox_reply_t         notice;
    inbox_status_t        rc;
    inbox_mongo_reply_t   r;
    inbox_reply_result_t  result;

    memset(&r, 0, sizeof(inbox_mongo_reply_t));
    bson_oid_copy(org, &r.org);
    bson_oid_copy(conversation, &r.conversation);
    bson_oid_copy(contact, &r.contact);
    snprintf(r.from, sizeof(r.from), "%s", from);
    snprintf(r.to, sizeof(r.to), "%s", to);

    inbox_mongo_id_hex(conversation, hex);

    memset(&notice, 0, sizeof(inbox_reply_t));
    notice.conversation_id = hex;
    notice.body = body;
    notice.segments = segments;
    notice.credits = 0;
    notice.notice = 1;

    memset(&result, 0, sizeof(inbox_reply_result_t));

    rc = inbox_mongo_reply_store(ms, &r, &notice, message, NULL, now, again,
                                 &stored, &result, events, err);

    inbox_reply_result_free(&result);

    return rc;
}


/* A key used before: the same request gets its message as it is now, a
 * different one is a conflict. */
static inbox_status_t
inbox_mongo_reply_repeat(inbox_mongo_store_t *ms, inbox_mongo_reply_t *r,
    const inbox_reply_t *reply, const char *fingerprint,
    inbox_reply_result_t *result, int *found, inbox_error_t *err)
{
    int             have;
    char            stored[INBOX_FINGERPRINT_MAX];
    bson_t          doc, message;
    bson_oid_t      id, conversation;
    bson_iter_t     iter;
    inbox_status_t  rc;

    *found = 0;

    rc = inbox_mongo_find_one(ms, "reply_keys",
                              BCON_NEW("org_id", BCON_OID(&r->org),
                                       "key",
                                       BCON_UTF8(reply->idempotency_key)),
                              BCON_NEW("fingerprint", BCON_INT32(1),
                                       "message_id", BCON_INT32(1)),
                              &doc, &have, err);

    if (rc != INBOX_OK || !have) {
        bson_destroy(&doc);
        return rc;
    }

    inbox_mongo_get_str(&doc, "fingerprint", stored, sizeof(stored));

    if (strcmp(stored, fingerprint) != 0) {
        bson_destroy(&doc);
        return inbox_error_set_field(err, INBOX_ERR_CONFLICT,
                                     "idempotency_key",
                                     "This Idempotency-Key was used for a "
                                     "different message; use a new key for "
                                     "a new message.");
    }

    if (!bson_iter_init_find(&iter, &doc, "message_id")
        || !BSON_ITER_HOLDS_OID(&iter))
    {
        bson_destroy(&doc);
        return inbox_error_set(err, INBOX_ERR_INTERNAL,
                               "A stored Idempotency-Key names no message.");
    }

    bson_oid_copy(bson_iter_oid(&iter), &id);
    bson_destroy(&doc);

    rc = inbox_mongo_message_get(ms,
                                 BCON_NEW("_id", BCON_OID(&id),
                                          "org_id", BCON_OID(&r->org)),
                                 &result->message, &message, &have, err);
    bson_destroy(&message);

    if (rc != INBOX_OK || !have) {
        /* the first request has not stored its message (yet) */
        return rc;
    }

    if (inbox_mongo_parse_id(result->message.conversation_id, &conversation)
        != 0)
    {
        return inbox_error_set(err, INBOX_ERR_INTERNAL,
                               "A stored message has no conversation.");
    }

    rc = inbox_mongo_find_one(ms, "conversations",
                              BCON_NEW("_id", BCON_OID(&conversation),
                                       "org_id", BCON_OID(&r->org)),
                              NULL, &doc, &have, err);

    if (rc == INBOX_OK && have) {
        inbox_mongo_parse_conversation(&doc, &result->conversation);
        result->repeated = 1;
        *found = 1;
    }

    bson_destroy(&doc);

    return rc;
}


/* The contract's refusals, in its order, with nothing written; the
 * thread into *c, the numbers into r. */
static inbox_status_t
inbox_mongo_reply_checks(inbox_mongo_store_t *ms, inbox_mongo_reply_t *r,
    const inbox_reply_t *reply, inbox_conversation_t *c, inbox_error_t *err)
{
    int             found, opted_out;
    char            plan[INBOX_PLAN_MAX];
    bson_t          doc;
    int64_t         balance;
    inbox_status_t  rc;

    rc = inbox_mongo_find_one(ms, "conversations",
                              BCON_NEW("_id", BCON_OID(&r->conversation),
                                       "org_id", BCON_OID(&r->org)),
                              NULL, &doc, &found, err);

    if (rc == INBOX_OK && !found) {
        rc = inbox_error_not_found(err, "conversation");
    }

    if (rc == INBOX_OK) {
        inbox_mongo_parse_conversation(&doc, c);

        /* the number its contact last texted, looked up below */
        inbox_mongo_get_str(&doc, "number", r->from, sizeof(r->from));

        if (inbox_mongo_parse_id(c->contact.id, &r->contact) != 0) {
            rc = inbox_error_set(err, INBOX_ERR_INTERNAL,
                                 "A stored conversation has no contact.");

        } else {
            /* on the thread as read: like the other checks, without a
             * transaction (see the order of writes above) */
            rc = inbox_reply_stale(reply, c, err);
        }
    }

    bson_destroy(&doc);

    if (rc != INBOX_OK) {
        return rc;
    }

    if (r->has_user) {
        rc = inbox_mongo_find_one(ms, "users",
                                  BCON_NEW("_id", BCON_OID(&r->user),
                                           "org_id", BCON_OID(&r->org)),
                                  BCON_NEW("_id", BCON_INT32(1)),
                                  &doc, &found, err);
        bson_destroy(&doc);

        if (rc == INBOX_OK && !found) {
            rc = inbox_error_set_field(err, INBOX_ERR_NOT_FOUND, "user",
                                       "There is no such user.");
        }

        if (rc != INBOX_OK) {
            return rc;
        }
    }

    /* the contact's own record decides, not the thread's copy */
    rc = inbox_mongo_find_one(ms, "contacts",
                              BCON_NEW("_id", BCON_OID(&r->contact),
                                       "org_id", BCON_OID(&r->org)),
                              BCON_NEW("phone", BCON_INT32(1),
                                       "opted_out", BCON_INT32(1)),
                              &doc, &found, err);

    if (rc == INBOX_OK && !found) {
        rc = inbox_error_not_found(err, "conversation");
    }

    inbox_mongo_get_str(&doc, "phone", r->to, sizeof(r->to));
    opted_out = inbox_mongo_get_bool(&doc, "opted_out");
    bson_destroy(&doc);

    if (rc == INBOX_OK) {
        rc = inbox_reply_reaches(reply, opted_out, r->to, err);
    }

    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_find_one(ms, "orgs", BCON_NEW("_id", BCON_OID(&r->org)),
                              BCON_NEW("billing_active", BCON_INT32(1),
                                       "plan", BCON_INT32(1),
                                       "credits", BCON_INT32(1)),
                              &doc, &found, err);

    if (rc == INBOX_OK && !found) {
        rc = inbox_error_not_found(err, "organization");
    }

    if (rc == INBOX_OK && !inbox_mongo_get_bool(&doc, "billing_active")) {
        rc = inbox_reply_billing_inactive(err);
    }

    balance = inbox_mongo_get_int(&doc, "credits.balance");
    inbox_mongo_get_str(&doc, "plan", plan, sizeof(plan));
    r->charge = inbox_plan_charge(inbox_plan_stored(plan), reply->credits);

    if (rc == INBOX_OK && balance < (int64_t) r->charge) {
        rc = inbox_reply_credits_short(reply->credits, balance, err);
    }

    bson_destroy(&doc);

    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_reply_number(ms, &r->org, r->from, err);

    if (rc == INBOX_OK && r->from[0] == '\0') {
        rc = inbox_error_no_number(err);
    }

    return rc;
}


/* The number a reply goes from (inbox_reply_from): the one its contact
 * last texted (from, "" for none) as the organization's numbers hold it,
 * else its first, read only then. */
static inbox_status_t
inbox_mongo_reply_number(inbox_mongo_store_t *ms, const bson_oid_t *org,
    char from[INBOX_PHONE_MAX], inbox_error_t *err)
{
    char            kept[INBOX_PHONE_MAX], first[INBOX_PHONE_MAX];
    inbox_status_t  rc;

    kept[0] = '\0';
    first[0] = '\0';

    if (from[0] != '\0') {
        /* "" when removed since, or moved to another organization */
        rc = inbox_mongo_org_number(ms, org, from, kept, err);

        if (rc != INBOX_OK) {
            return rc;
        }
    }

    if (kept[0] == '\0') {
        rc = inbox_mongo_first_number(ms, org, first, err);

        if (rc != INBOX_OK) {
            return rc;
        }
    }

    snprintf(from, INBOX_PHONE_MAX, "%s", inbox_reply_from(kept, first));

    return INBOX_OK;
}


/* The organization's first number, which sends the replies and campaign
 * messages of a thread whose contact never texted a number it still has;
 * "" when it has none. */
inbox_status_t
inbox_mongo_first_number(inbox_mongo_store_t *ms, const bson_oid_t *org,
    char from[INBOX_PHONE_MAX], inbox_error_t *err)
{
    return inbox_mongo_org_number(ms, org, NULL, from, err);
}


/* The organization's number e164 (NULL: its first) into from; "" when it
 * has no such number. */
static inbox_status_t
inbox_mongo_org_number(inbox_mongo_store_t *ms, const bson_oid_t *org,
    const char *e164, char from[INBOX_PHONE_MAX], inbox_error_t *err)
{
    bson_t          batch, filter, *command;
    inbox_status_t  rc;

    command = bson_new();

    BSON_APPEND_UTF8(command, "find", "numbers");
    BSON_APPEND_DOCUMENT_BEGIN(command, "filter", &filter);
    BSON_APPEND_OID(&filter, "org_id", org);
    if (e164 != NULL) {
        BSON_APPEND_UTF8(&filter, "e164", e164);
    }
    bson_append_document_end(command, &filter);

    BCON_APPEND(command, "projection", "{", "e164", BCON_INT32(1), "}");
    if (e164 == NULL) {
        BCON_APPEND(command, "sort", "{", "_id", BCON_INT32(1), "}");
    }
    BCON_APPEND(command, "limit", BCON_INT32(1),
                "singleBatch", BCON_BOOL(true));

    rc = inbox_mongo_run_cursor(ms, command, &batch, err);

    from[0] = '\0';

    if (rc == INBOX_OK) {
        inbox_mongo_get_str(&batch, "0.e164", from, INBOX_PHONE_MAX);
    }

    bson_destroy(&batch);

    return rc;
}


/* The hold did not take: why, as the organization is now. */
static inbox_status_t
inbox_mongo_reply_refusal(inbox_mongo_store_t *ms, const bson_oid_t *org,
    unsigned credits, inbox_error_t *err)
{
    int             found;
    bson_t          doc;
    int64_t         balance;
    inbox_status_t  rc;

    rc = inbox_mongo_find_one(ms, "orgs", BCON_NEW("_id", BCON_OID(org)),
                              BCON_NEW("billing_active", BCON_INT32(1),
                                       "credits", BCON_INT32(1)),
                              &doc, &found, err);

    balance = inbox_mongo_get_int(&doc, "credits.balance");

    if (rc == INBOX_OK && !found) {
        rc = inbox_error_not_found(err, "organization");

    } else if (rc == INBOX_OK && !inbox_mongo_get_bool(&doc,
                                                       "billing_active"))
    {
        rc = inbox_reply_billing_inactive(err);

    } else if (rc == INBOX_OK && credits == 0) {
        /* nothing was asked of the balance: billing was off a moment */
        rc = inbox_error_set(err, INBOX_ERR_CONFLICT,
                             "Billing changed while this message was "
                             "being accepted; try again.");

    } else if (rc == INBOX_OK) {
        rc = inbox_reply_credits_short(credits, balance, err);
    }

    bson_destroy(&doc);

    return rc;
}


/*
 * The hold, then the message, the thread, the events and the outbox entry
 * (see the top of this file).  A write that fails after the hold gives
 * it back here, the one place for replies and campaign messages: no
 * transaction rolls it back, and with no outbox entry nothing else would
 * ever settle it.  So is a hold whose own command failed after the
 * server applied it (inbox_mongo_credits_move says it moved); one whose
 * answer was lost is not given back: it may not have been taken.
 */
inbox_status_t
inbox_mongo_reply_hold(inbox_mongo_store_t *ms, inbox_mongo_reply_t *r,
    const inbox_reply_t *reply, const bson_oid_t *message,
    const bson_oid_t *campaign, int64_t now, int *held,
    inbox_reply_result_t *result, inbox_event_list_t *events,
    inbox_error_t *err)
{
    int             stored;
    inbox_status_t  rc;

    stored = 0;

    rc = inbox_mongo_credits_move(ms, &r->org, INBOX_LEDGER_HOLD,
                                  reply->credits, message, now, held, err);

    if (rc == INBOX_OK && *held && campaign == NULL) {
        /* after every refusal, so that a refused reply keeps nothing
         * from the purge; a campaign attached its uploads when stored */
        rc = inbox_mongo_media_attach(ms, &r->org, reply->media,
                                      reply->media_count, err);
    }

    if (rc == INBOX_OK && *held) {
        rc = inbox_mongo_reply_store(ms, r, reply, message, campaign, now,
                                     0, &stored, result, events, err);

        /* its uploads attached for a message perhaps never stored: the
         * purge looks for one naming them before it removes any */
        if (rc != INBOX_OK && campaign == NULL) {
            (void) inbox_mongo_media_release(ms, &r->org, reply->media,
                                             reply->media_count, NULL, 0,
                                             NULL);
        }
    }

    if (rc != INBOX_OK && *held) {
        inbox_mongo_hold_undo(ms, &r->org, message, reply->credits, stored,
                              now);
    }

    return rc;
}


/*
 * Gives back a hold of credits for message whose reply failed after it.
 * A message stored, or perhaps stored (an insert without an answer),
 * holds the credits itself: its settlement releases them once, whoever
 * else settles them at the same moment (a sender that got the outbox
 * entry after all), and is finished by the holds job if it stops
 * halfway.  A message the insert did not store leaves them to no one:
 * the organization gets them back directly.  err keeps the failure that
 * brought us here; a store gone before the message is marked, or for a
 * release without one, leaves the credits held, as a crash does (see
 * the top of this file).
 */
static void
inbox_mongo_hold_undo(inbox_mongo_store_t *ms, const bson_oid_t *org,
    const bson_oid_t *message, unsigned credits, int stored, int64_t now)
{
    int             found;
    bson_t         *which;
    inbox_error_t   err;
    inbox_status_t  rc;

    if (credits == 0) {
        /* the plan pays: nothing was held */
        return;
    }

    which = BCON_NEW("_id", BCON_OID(message), "org_id", BCON_OID(org));
    rc = inbox_mongo_settle(ms, which, NULL, INBOX_LEDGER_RELEASE, now,
                            &found, &err);
    bson_destroy(which);

    if (rc != INBOX_OK || found || stored) {
        return;
    }

    (void) inbox_mongo_credits_move(ms, org, INBOX_LEDGER_RELEASE, credits,
                                    message, now, NULL, &err);
}


/* The message, the thread, the events and the outbox entry, in that
 * order (see the top of this file), *stored 1 once the message is; a
 * campaign's message (campaign not NULL) names its campaign and is
 * claimed after every reply (INBOX_OUTBOX_BULK); a notice's entry has
 * its message's id.  again: as inbox_mongo_outbox_answer says. */
static inbox_status_t
inbox_mongo_reply_store(inbox_mongo_store_t *ms, inbox_mongo_reply_t *r,
    const inbox_reply_t *reply, const bson_oid_t *message,
    const bson_oid_t *campaign, int64_t now, int again, int *stored,
    inbox_reply_result_t *result, inbox_event_list_t *events,
    inbox_error_t *err)
{
    int               found, repeat;
    char              status[16];
    char              key[24], hex[INBOX_ID_MAX];
    bson_t            doc, media, item, value;
    bson_t           *command, *newer, *responded, *unresponded, *last;
    bson_t           *activity, *listed, *bulk;
    size_t            i;
    bson_oid_t        entry, upload;
    inbox_change_t    change;
    inbox_status_t    rc;
    inbox_preview_t   preview;
    inbox_message_t  *m;

    *stored = 0;

    m = &result->message;
    inbox_mongo_id_hex(message, hex);

    bson_init(&doc);
    BSON_APPEND_OID(&doc, "_id", message);
    BSON_APPEND_OID(&doc, "org_id", &r->org);
    BSON_APPEND_OID(&doc, "conversation_id", &r->conversation);
    BSON_APPEND_OID(&doc, "contact_id", &r->contact);
    /* unique (org, provider, provider_id): its own id until a carrier
     * gives it one */
    BSON_APPEND_UTF8(&doc, "provider", "inbox");
    BSON_APPEND_UTF8(&doc, "provider_id", hex);
    BSON_APPEND_UTF8(&doc, "direction", inbox_direction_name(INBOX_OUTBOUND));
    BSON_APPEND_UTF8(&doc, "from", r->from);
    BSON_APPEND_UTF8(&doc, "to", r->to);
    BSON_APPEND_UTF8(&doc, "body", reply->body);

    BSON_APPEND_ARRAY_BEGIN(&doc, "media", &media);
    for (i = 0; i < reply->media_count; i++) {
        snprintf(key, sizeof(key), "%zu", i);
        BSON_APPEND_DOCUMENT_BEGIN(&media, key, &item);
        BSON_APPEND_UTF8(&item, "url", reply->media[i].url);
        BSON_APPEND_UTF8(&item, "content_type",
                         reply->media[i].content_type);
        /* an upload of ours: stored already, nothing to copy */
        BSON_APPEND_UTF8(&item, "state",
                         inbox_media_state_name(INBOX_MEDIA_STORED));
        BSON_APPEND_UTF8(&item, "file", reply->media[i].file);
        BSON_APPEND_INT64(&item, "bytes", reply->media[i].bytes);

        /* the upload it is, which a send names again (a campaign's
         * kept from before may not know it) */
        if (inbox_mongo_parse_id(reply->media[i].upload_id, &upload) == 0) {
            BSON_APPEND_OID(&item, "upload_id", &upload);
        }

        bson_append_document_end(&media, &item);
    }
    bson_append_array_end(&doc, &media);

    BSON_APPEND_UTF8(&doc, "status",
                     inbox_delivery_name(INBOX_DELIVERY_QUEUED));
    BSON_APPEND_NULL(&doc, "error_code");
    BSON_APPEND_INT32(&doc, "segments", (int32_t) reply->segments);
    BSON_APPEND_INT32(&doc, "credits", (int32_t) reply->credits);
    /* a message that costs nothing (a notice) holds nothing */
    BSON_APPEND_BOOL(&doc, "held", reply->credits > 0);
    BSON_APPEND_NULL(&doc, "submitted_at");

    if (r->has_user) {
        BSON_APPEND_OID(&doc, "sent_by", &r->user);
    } else {
        BSON_APPEND_NULL(&doc, "sent_by");
    }

    BSON_APPEND_DATE_TIME(&doc, "created_at", now);

    if (campaign != NULL) {
        /* and its kind, so that a read says which route names it
         * without a lookup (inbox_mongo_parse_message) */
        BSON_APPEND_OID(&doc, "campaign_id", campaign);
        BSON_APPEND_UTF8(&doc, "campaign_kind", r->campaign_kind);
    }

    command = BCON_NEW("insert", BCON_UTF8("messages"),
                       "documents", "[", BCON_DOCUMENT(&doc), "]",
                       "ordered", BCON_BOOL(true));
    bson_destroy(&doc);

    rc = inbox_mongo_run_simple(ms, command, err);

    repeat = 0;

    if (again && rc == INBOX_ERR_CONFLICT) {
        /* stored by the attempt that failed: as it stored it */
        rc = inbox_mongo_find_one(ms, "messages",
                                  BCON_NEW("_id", BCON_OID(message)),
                                  BCON_NEW("status", BCON_INT32(1),
                                           "created_at", BCON_INT32(1)),
                                  &doc, &found, err);
        inbox_mongo_get_str(&doc, "status", status, sizeof(status));
        now = inbox_mongo_get_date(&doc, "created_at");
        bson_destroy(&doc);

        if (rc == INBOX_OK && !found) {
            rc = inbox_error_set(err, INBOX_ERR_INTERNAL,
                                 "A keyword's answer is stored under "
                                 "another id.");
        }

        if (rc != INBOX_OK) {
            return rc;
        }

        *stored = 1;

        if (strcmp(status, inbox_delivery_name(INBOX_DELIVERY_QUEUED))
            != 0)
        {
            /* the sender has it: its entry is done with */
            return INBOX_OK;
        }

        repeat = 1;
    }

    if (rc != INBOX_OK) {
        return rc;
    }

    *stored = 1;

    /*
     * inbox_conversation_reply's rule, as an update pipeline: the last
     * message follows this one unless a newer one is there (a keyword's
     * answer, timed just after its message, is older than a reply stored
     * meanwhile; a retry may queue it minutes later), and it is the
     * thread's response, unless an inbound message is newer still.  A
     * campaign's (inbox_conversation_bulk's rule) is no response: both
     * times stay, written null when none (see the ingest's).  The
     * preview is $literal, so a "$" in a body is never read as a field
     * path.
     */
    inbox_message_preview(reply->body, reply->media, reply->media_count,
                          &preview);

    newer = inbox_mongo_newer(now);
    last = inbox_mongo_last_message(message, INBOX_OUTBOUND, &preview, now,
                                    r->has_user ? &r->user : NULL, campaign,
                                    r->campaign_kind);

    activity = BCON_NEW("$max", "[",
                            BCON_UTF8("$last_activity_at"),
                            "{", "$literal", BCON_DATE_TIME(now), "}",
                        "]");

    if (campaign != NULL) {
        /* a thread without activity stays so (inbox_conversation_bulk) */
        listed = inbox_mongo_listed();
        bulk = BCON_NEW("$cond", "[",
                            BCON_DOCUMENT(listed),
                            BCON_DOCUMENT(activity),
                            BCON_UTF8("$last_activity_at"),
                        "]");
        bson_destroy(listed);
        bson_destroy(activity);
        activity = bulk;
    }

    if (campaign == NULL) {
        responded = BCON_NEW("$max", "[",
                                 BCON_UTF8("$responded_at"),
                                 "{", "$literal", BCON_DATE_TIME(now), "}",
                             "]");
        unresponded = BCON_NEW("$cond", "[",
                                   "{", "$gt", "[",
                                       BCON_UTF8("$unresponded_at"),
                                       "{", "$literal", BCON_DATE_TIME(now),
                                       "}",
                                   "]", "}",
                                   BCON_UTF8("$unresponded_at"),
                                   BCON_NULL,
                               "]");
    } else {
        responded = BCON_NEW("$ifNull", "[", BCON_UTF8("$responded_at"),
                             BCON_NULL, "]");
        unresponded = BCON_NEW("$ifNull", "[", BCON_UTF8("$unresponded_at"),
                               BCON_NULL, "]");
    }

    rc = inbox_mongo_run_find_and_modify(ms,
        BCON_NEW("findAndModify", BCON_UTF8("conversations"),
                 "query", "{",
                     "_id", BCON_OID(&r->conversation),
                     "org_id", BCON_OID(&r->org),
                 "}",
                 "update", "[", "{", "$set", "{",
                     "last_message", "{", "$cond", "[",
                         BCON_DOCUMENT(newer),
                         "{", "$literal", BCON_DOCUMENT(last), "}",
                         BCON_UTF8("$last_message"),
                     "]", "}",
                     "last_activity_at", BCON_DOCUMENT(activity),
                     "responded_at", BCON_DOCUMENT(responded),
                     "unresponded_at", BCON_DOCUMENT(unresponded),
                 "}", "}", "]",
                 "new", BCON_BOOL(true)),
        &value, &found, err);
    bson_destroy(newer);
    bson_destroy(last);
    bson_destroy(activity);
    bson_destroy(responded);
    bson_destroy(unresponded);

    if (rc != INBOX_OK) {
        bson_destroy(&value);
        return rc;
    }

    /* the message as stored, for the answer and the frames */
    memcpy(m->id, hex, sizeof(m->id));
    inbox_mongo_id_hex(&r->conversation, m->conversation_id);

    if (inbox_reply_message(m, reply, now, err) != INBOX_OK) {
        bson_destroy(&value);
        return INBOX_ERR_INTERNAL;    /* out of memory */
    }

    if (r->has_user) {
        inbox_mongo_id_hex(&r->user, m->sent_by);
    }

    if (campaign != NULL) {
        inbox_mongo_id_hex(campaign, m->campaign_id);
        snprintf(m->campaign_kind, sizeof(m->campaign_kind), "%s",
                 r->campaign_kind);
    }

    if (found) {
        inbox_conversation_free(&result->conversation);
        inbox_mongo_parse_conversation(&value, &result->conversation);

    } else if (campaign == NULL) {
        /* removed since it was read: the thread as it was, with this */
        inbox_conversation_reply(&result->conversation, m, &preview);

    } else {
        inbox_conversation_bulk(&result->conversation, m, &preview);
    }

    bson_destroy(&value);

    inbox_change_reply(&change, m, &result->conversation);

    found = 0;

    if (repeat) {
        /* written before the attempt that stored it failed */
        rc = inbox_mongo_find_one(ms, "events",
                                  BCON_NEW("org_id", BCON_OID(&r->org),
                                           "message_id", BCON_OID(message),
                                           "type",
                                           BCON_UTF8("message.created")),
                                  BCON_NEW("_id", BCON_INT32(1)),
                                  &doc, &found, err);
        bson_destroy(&doc);

        if (rc != INBOX_OK) {
            return rc;
        }
    }

    if (!found) {
        rc = inbox_mongo_events_append(ms, &r->org, &change, events, err);
        if (rc != INBOX_OK) {
            return rc;
        }
    }

    if (reply->notice) {
        /* one entry a notice, whatever a retry does */
        bson_oid_copy(message, &entry);

    } else {
        inbox_mongo_new_id(ms, &entry);
    }

    bson_init(&doc);
    BSON_APPEND_OID(&doc, "_id", &entry);
    BSON_APPEND_OID(&doc, "org_id", &r->org);
    BSON_APPEND_OID(&doc, "message_id", message);
    BSON_APPEND_INT32(&doc, "priority", inbox_outbox_priority_of(reply,
                                                 campaign != NULL));
    BSON_APPEND_UTF8(&doc, "from", r->from);
    /* what a claim counts against the number's pace */
    BSON_APPEND_INT32(&doc, "segments", (int32_t) reply->segments);
    BSON_APPEND_DATE_TIME(&doc, "due_at", now);
    BSON_APPEND_INT32(&doc, "attempts", 0);
    BSON_APPEND_NULL(&doc, "lease_until");
    BSON_APPEND_NULL(&doc, "last_error");
    BSON_APPEND_DATE_TIME(&doc, "created_at", now);

    if (campaign != NULL) {
        /* the claim looks at its campaign's status, resume and cancel
         * find what a pause parked by it */
        BSON_APPEND_OID(&doc, "campaign_id", campaign);
    }

    command = BCON_NEW("insert", BCON_UTF8("outbox"),
                       "documents", "[", BCON_DOCUMENT(&doc), "]",
                       "ordered", BCON_BOOL(true));
    bson_destroy(&doc);

    rc = inbox_mongo_run_simple(ms, command, err);

    /* queued by the attempt that failed, and not sent yet */
    return again && rc == INBOX_ERR_CONFLICT ? INBOX_OK : rc;
}


/* Whether item's contact opted out after its message was accepted, and
 * the contact's zone (for quiet hours). */
static inbox_status_t
inbox_mongo_outbox_withdrawn(inbox_mongo_store_t *ms,
    const bson_oid_t *contact, inbox_outbox_item_t *item,
    inbox_mongo_claimed_t *claimed, inbox_error_t *err)
{
    int             found;
    bson_t          doc;
    int64_t         opted_out_at;
    bson_iter_t     iter;
    inbox_status_t  rc;

    rc = inbox_mongo_find_one(ms, "contacts",
                              BCON_NEW("_id", BCON_OID(contact)),
                              BCON_NEW("opted_out", BCON_INT32(1),
                                       "opted_out_at", BCON_INT32(1),
                                       "timezone", BCON_INT32(1)),
                              &doc, &found, err);

    if (rc == INBOX_OK && found) {
        opted_out_at = 0;
        inbox_mongo_get_str(&doc, "timezone", claimed->timezone,
                            sizeof(claimed->timezone));

        if (bson_iter_init_find(&iter, &doc, "opted_out")
            && bson_iter_as_bool(&iter))
        {
            opted_out_at = inbox_mongo_get_date(&doc, "opted_out_at");
        }

        item->withdrawn = inbox_outbox_withdrawn(item->priority,
                                                 opted_out_at);
    }

    bson_destroy(&doc);

    return rc;
}


/*
 * Claims due entries one findAndModify each (each atomic: two senders
 * never hold one entry), replies first, then the oldest; reads the
 * statuses of their campaigns in one find, parks the entries of those
 * paused by a person in one update (outbox.h: they count against max),
 * marks those of
 * cancelled ones; then reads each other one's message and number.
 */
inbox_status_t
inbox_mongo_outbox_claim(inbox_store_t *store, int64_t now,
    int64_t quiet_now, size_t max, int64_t lease,
    inbox_outbox_priority_t priority_max, const inbox_outbox_paces_t *paces,
    inbox_outbox_batch_t *batch, inbox_error_t *err)
{
    int                    found, took;
    bson_t                 full;
    size_t                 i, n;
    int64_t                until;
    inbox_status_t         rc;
    inbox_mongo_claim_t    claim;
    inbox_error_t          failed;
    inbox_outbox_pacing_t  pacing;
    inbox_mongo_claimed_t *claimed;
    inbox_mongo_store_t   *ms = (inbox_mongo_store_t *) store;

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    batch->items = calloc(max, sizeof(inbox_outbox_item_t));
    claimed = calloc(max, sizeof(inbox_mongo_claimed_t));

    if (batch->items == NULL || claimed == NULL) {
        free(batch->items);
        batch->items = NULL;
        free(claimed);
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    until = now + lease;
    n = 0;
    inbox_outbox_pacing_init(&pacing, paces);

    while (n < max) {
        /* the numbers at their cap are not looked at */
        inbox_mongo_outbox_full(&pacing, &full);

        rc = inbox_mongo_outbox_take(ms, now, until, priority_max, &full,
                                     &batch->items[n], &claimed[n], &found,
                                     err);
        bson_destroy(&full);

        if (rc != INBOX_OK || !found) {
            break;
        }

        took = inbox_outbox_pacing_take(&pacing, claimed[n].from,
                                        claimed[n].segments);
        if (took > 0) {
            n++;
            continue;
        }

        /* longer than what its number has left: back at once, as it
         * was (its segments are learnt only as it is leased) */
        rc = inbox_mongo_outbox_untake(ms, &batch->items[n], &claimed[n],
                                       err);
        memset(&batch->items[n], 0, sizeof(inbox_outbox_item_t));
        memset(&claimed[n], 0, sizeof(inbox_mongo_claimed_t));
        batch->passed_over = 1;

        if (rc == INBOX_OK && took < 0) {
            rc = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        }

        if (rc != INBOX_OK) {
            break;
        }
    }

    if (rc == INBOX_OK && n < max && paces != NULL && !batch->passed_over) {
        rc = inbox_mongo_outbox_passed_over(ms, now, priority_max, &pacing,
                                            batch, err);
    }

    inbox_outbox_pacing_free(&pacing);

    claim.items = batch->items;
    claim.claimed = claimed;
    claim.n = n;

    if (rc == INBOX_OK) {
        rc = inbox_mongo_outbox_campaigns(ms, &claim, err);
    }

    if (rc == INBOX_OK) {
        rc = inbox_mongo_outbox_billing(ms, &claim, 0, err);
    }

    if (rc == INBOX_OK) {
        rc = inbox_mongo_outbox_park(ms, &claim, err);
    }

    if (rc == INBOX_OK) {
        /* parked, holding nothing (outbox.h) */
        rc = inbox_mongo_outbox_give_back(ms, &claim, now, err);
    }

    if (rc == INBOX_OK) {
        rc = inbox_mongo_outbox_recheck(ms, &claim, now, err);
    }

    if (rc == INBOX_OK) {
        /* billing made active between the read and the park: due again */
        rc = inbox_mongo_outbox_billing(ms, &claim, 1, err);
    }

    /* the parked ones leave the batch */
    for (i = 0; rc == INBOX_OK && i < n; i++) {
        if (!claimed[i].parked) {
            batch->items[batch->count] = batch->items[i];
            claimed[batch->count] = claimed[i];
            batch->count++;
        }
    }

    for (i = 0; rc == INBOX_OK && i < batch->count; i++) {
        rc = inbox_mongo_outbox_read(ms, &batch->items[i], &claimed[i], err);
    }

    if (rc == INBOX_OK) {
        rc = inbox_mongo_outbox_quiet(ms, batch, claimed, now, quiet_now,
                                      err);
    }

    if (rc != INBOX_OK) {
        /*
         * Handed to nobody: given back at once, where a lease left to run
         * out would have them reported as perhaps sent (interrupted).  A
         * store that fails this too leaves them so.  The items after the
         * batch's are copies or parked ones, which the attempt in each
         * statement leaves alone.
         */
        (void) inbox_mongo_outbox_put_back(ms, &claim, 0, now, &failed);
        inbox_outbox_batch_free(batch);
    }

    free(claimed);

    return rc;
}


/* Into full (an array, made here): the numbers the claim pacing counts
 * may take no more of (inbox_outbox_pacing_full), each once. */
static void
inbox_mongo_outbox_full(const inbox_outbox_pacing_t *pacing, bson_t *full)
{
    char                         key[24];
    size_t                       i, j, k;
    const char                  *from, *kp;
    const inbox_outbox_paces_t  *paces;

    bson_init(full);

    paces = pacing->paces;
    if (paces == NULL) {
        return;
    }

    k = 0;

    /* the listed numbers, then the others met */
    for (i = 0; i < paces->n + pacing->n; i++) {
        if (i < paces->n) {
            from = paces->numbers[i].from;

        } else {
            from = pacing->numbers[i - paces->n].from;

            for (j = 0; j < paces->n; j++) {
                if (strcmp(paces->numbers[j].from, from) == 0) {
                    break;
                }
            }

            if (j < paces->n) {
                continue;
            }
        }

        if (inbox_outbox_pacing_full(pacing, from)) {
            bson_uint32_to_string((uint32_t) k++, &kp, key, sizeof(key));
            bson_append_utf8(full, kp, -1, from, -1);
        }
    }
}


/* Whether entries are due from the numbers at their cap, left by the
 * claim (batch->passed_over). */
static inbox_status_t
inbox_mongo_outbox_passed_over(inbox_mongo_store_t *ms, int64_t now,
    inbox_outbox_priority_t priority_max,
    const inbox_outbox_pacing_t *pacing, inbox_outbox_batch_t *batch,
    inbox_error_t *err)
{
    int             found;
    bson_t          full, doc;
    inbox_status_t  rc;

    inbox_mongo_outbox_full(pacing, &full);

    if (bson_empty(&full)) {
        bson_destroy(&full);
        return INBOX_OK;
    }

    rc = inbox_mongo_find_one(ms, "outbox",
        BCON_NEW("priority", "{",
                     "$lte", BCON_INT32((int32_t) priority_max),
                 "}",
                 "due_at", "{", "$lte", BCON_DATE_TIME(now), "}",
                 "from", "{", "$in", BCON_ARRAY(&full), "}"),
        BCON_NEW("_id", BCON_INT32(1)), &doc, &found, err);

    batch->passed_over = (rc == INBOX_OK && found);

    bson_destroy(&doc);
    bson_destroy(&full);

    return rc;
}


/* Claims the first due entry (*found 0: none) from a number not in full
 * into item, as it was before this claim, and what claimed keeps of it. */
static inbox_status_t
inbox_mongo_outbox_take(inbox_mongo_store_t *ms, int64_t now, int64_t until,
    inbox_outbox_priority_t priority_max, const bson_t *full,
    inbox_outbox_item_t *item, inbox_mongo_claimed_t *claimed, int *found,
    inbox_error_t *err)
{
    bson_t          value, query, from;
    bson_iter_t     iter;
    inbox_status_t  rc;

    bson_init(&query);
    BCON_APPEND(&query,
                "priority", "{",
                    "$lte", BCON_INT32((int32_t) priority_max),
                "}",
                "due_at", "{", "$lte", BCON_DATE_TIME(now), "}");

    if (!bson_empty(full)) {
        BSON_APPEND_DOCUMENT_BEGIN(&query, "from", &from);
        BSON_APPEND_ARRAY(&from, "$nin", full);
        bson_append_document_end(&query, &from);
    }

    rc = inbox_mongo_run_find_and_modify(ms,
        BCON_NEW("findAndModify", BCON_UTF8("outbox"),
                 "query", BCON_DOCUMENT(&query),
                 "sort", "{",
                     "priority", BCON_INT32(1),
                     "due_at", BCON_INT32(1),
                     "_id", BCON_INT32(1),
                 "}",
                 "update", "{",
                     "$set", "{",
                         "due_at", BCON_DATE_TIME(until),
                         "lease_until", BCON_DATE_TIME(until),
                     "}",
                     "$inc", "{", "attempts", BCON_INT32(1), "}",
                 "}",
                 "new", BCON_BOOL(false)),
        &value, found, err);

    bson_destroy(&query);

    if (rc != INBOX_OK || !*found) {
        bson_destroy(&value);
        return rc;
    }

    /* the entry as it was before this claim */
    inbox_mongo_get_id(&value, "_id", item->id);
    inbox_mongo_get_id(&value, "org_id", item->org_id);
    item->attempt = (unsigned) inbox_mongo_get_int(&value, "attempts") + 1;
    item->interrupted = bson_iter_init_find(&iter, &value, "lease_until")
                        && BSON_ITER_HOLDS_DATE_TIME(&iter);
    claimed->lease_until = item->interrupted ? bson_iter_date_time(&iter)
                                             : 0;
    item->priority = (inbox_outbox_priority_t)
                     inbox_mongo_get_int(&value, "priority");
    item->lease_until = until;
    claimed->due_at = inbox_mongo_get_date(&value, "due_at");
    /* 0 in an entry queued before entries said it: counted one */
    claimed->segments = (unsigned) inbox_mongo_get_int(&value, "segments");
    inbox_mongo_get_str(&value, "from", claimed->from,
                        sizeof(claimed->from));

    if (bson_iter_init_find(&iter, &value, "campaign_id")
        && BSON_ITER_HOLDS_OID(&iter))
    {
        bson_oid_copy(bson_iter_oid(&iter), &claimed->campaign);
        claimed->in_campaign = 1;
        inbox_mongo_id_hex(&claimed->campaign, item->campaign_id);
    }

    if (bson_iter_init_find(&iter, &value, "message_id")
        && BSON_ITER_HOLDS_OID(&iter))
    {
        bson_oid_copy(bson_iter_oid(&iter), &claimed->message);
    } else {
        rc = inbox_error_set(err, INBOX_ERR_INTERNAL,
                             "An outbox entry names no message.");
    }

    bson_destroy(&value);

    return rc;
}


static inbox_status_t
inbox_mongo_claim_fold(void *data, const bson_t *doc, inbox_error_t *err)
{
    char                      status[32], reason[32];
    size_t                    i;
    bson_iter_t               iter;
    inbox_mongo_claim_t      *claim = data;
    inbox_campaign_outbox_t   fate;

    if (!bson_iter_init_find(&iter, doc, "_id")
        || !BSON_ITER_HOLDS_OID(&iter))
    {
        return INBOX_OK;
    }

    inbox_mongo_get_str(doc, "status", status, sizeof(status));
    inbox_mongo_get_str(doc, "paused_reason", reason, sizeof(reason));

    fate = inbox_campaign_outbox_named(status, reason);

    for (i = 0; i < claim->n; i++) {
        if (claim->claimed[i].in_campaign
            && bson_oid_equal(&claim->claimed[i].campaign,
                              bson_iter_oid(&iter)))
        {
            claim->claimed[i].parked = (fate == INBOX_OUTBOX_WAITS);
            claim->items[i].cancelled = (fate == INBOX_OUTBOX_CANCELLED);
        }
    }

    return INBOX_OK;
}


/* The statuses of the claimed entries' campaigns (none for replies). */
static inbox_status_t
inbox_mongo_outbox_campaigns(inbox_mongo_store_t *ms,
    inbox_mongo_claim_t *claim, inbox_error_t *err)
{
    char            key[24];
    bson_t          ids, batch;
    size_t          i, j, k;
    inbox_status_t  rc;

    bson_init(&ids);
    k = 0;

    for (i = 0; i < claim->n; i++) {
        if (!claim->claimed[i].in_campaign) {
            continue;
        }

        for (j = 0; j < i; j++) {
            if (claim->claimed[j].in_campaign
                && bson_oid_equal(&claim->claimed[j].campaign,
                                  &claim->claimed[i].campaign))
            {
                break;
            }
        }

        if (j == i) {
            snprintf(key, sizeof(key), "%zu", k++);
            BSON_APPEND_OID(&ids, key, &claim->claimed[i].campaign);
        }
    }

    if (k == 0) {
        bson_destroy(&ids);
        return INBOX_OK;
    }

    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("find", BCON_UTF8("campaigns"),
                 "filter", "{", "_id", "{", "$in", BCON_ARRAY(&ids), "}", "}",
                 "projection", "{", "status", BCON_INT32(1),
                                 "paused_reason", BCON_INT32(1), "}"),
        &batch, err);
    bson_destroy(&ids);

    if (rc == INBOX_OK) {
        rc = inbox_mongo_batch_each(&batch, inbox_mongo_claim_fold, claim,
                                    err);
    }

    bson_destroy(&batch);

    return rc;
}


/* What inbox_mongo_billing_fold folds the organizations into. */
typedef struct {
    inbox_mongo_store_t  *ms;
    inbox_mongo_claim_t  *claim;
    int                   parked;
    int64_t               now;
} inbox_mongo_billing_t;


/*
 * Billing, one find for the claim's organizations: an entry the rule
 * (inbox_outbox_billing) parks is parked, a reply marked to be reported
 * refused.  With parked, after the park: the organizations of the
 * entries parked for billing whose billing is active again have them
 * due at once.
 */
static inbox_status_t
inbox_mongo_outbox_billing(inbox_mongo_store_t *ms,
    inbox_mongo_claim_t *claim, int parked, inbox_error_t *err)
{
    char                   key[24];
    bson_t                 ids, batch;
    size_t                 i, j, k;
    bson_oid_t             org;
    inbox_status_t         rc;
    inbox_mongo_billing_t  fold;

    bson_init(&ids);
    k = 0;

    for (i = 0; i < claim->n; i++) {
        if ((parked && !claim->claimed[i].billing)
            || inbox_mongo_parse_id(claim->items[i].org_id, &org) != 0)
        {
            continue;
        }

        for (j = 0; j < i; j++) {
            if ((!parked || claim->claimed[j].billing)
                && strcmp(claim->items[j].org_id, claim->items[i].org_id)
                   == 0)
            {
                break;
            }
        }

        if (j == i) {
            snprintf(key, sizeof(key), "%zu", k++);
            BSON_APPEND_OID(&ids, key, &org);
        }
    }

    if (k == 0) {
        bson_destroy(&ids);
        return INBOX_OK;
    }

    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("find", BCON_UTF8("orgs"),
                 "filter", "{", "_id", "{", "$in", BCON_ARRAY(&ids), "}", "}",
                 "projection", "{", "billing_active", BCON_INT32(1), "}"),
        &batch, err);
    bson_destroy(&ids);

    fold.ms = ms;
    fold.claim = claim;
    fold.parked = parked;
    fold.now = inbox_mongo_now(ms);

    if (rc == INBOX_OK) {
        rc = inbox_mongo_batch_each(&batch, inbox_mongo_billing_fold, &fold,
                                    err);
    }

    bson_destroy(&batch);

    return rc;
}


static inbox_status_t
inbox_mongo_billing_fold(void *data, const bson_t *doc, inbox_error_t *err)
{
    int                     active;
    size_t                  i;
    bson_iter_t             iter;
    bson_oid_t              org;
    inbox_mongo_claim_t    *claim;
    inbox_outbox_billing_t  billing;
    inbox_mongo_billing_t  *fold = data;

    if (!bson_iter_init_find(&iter, doc, "_id")
        || !BSON_ITER_HOLDS_OID(&iter))
    {
        return INBOX_OK;
    }

    active = inbox_mongo_get_bool(doc, "billing_active");
    claim = fold->claim;

    if (fold->parked) {
        return active ? inbox_mongo_outbox_unpark_org(fold->ms,
                                                      bson_iter_oid(&iter),
                                                      fold->now, err)
                      : INBOX_OK;
    }

    for (i = 0; i < claim->n; i++) {
        if (inbox_mongo_parse_id(claim->items[i].org_id, &org) != 0
            || !bson_oid_equal(&org, bson_iter_oid(&iter)))
        {
            continue;
        }

        billing = inbox_outbox_billing(&claim->items[i], active);

        if (billing == INBOX_OUTBOX_BILLING_PARKS) {
            claim->claimed[i].parked = 1;
            claim->claimed[i].billing = 1;
        }

        claim->items[i].billing_inactive =
            (billing == INBOX_OUTBOX_BILLING_FAILS);
    }

    return INBOX_OK;
}


/* The holds of the entries just parked given back (outbox.h): each one
 * parked for billing, and each of a paused campaign but one whose lease
 * ran out (it may have gone: reported unknown, it keeps its hold).  A
 * failure after the park leaves them parked holding, and the claim that
 * hands them out later finds them held. */
static inbox_status_t
inbox_mongo_outbox_give_back(inbox_mongo_store_t *ms,
    const inbox_mongo_claim_t *claim, int64_t now, inbox_error_t *err)
{
    size_t          i;
    bson_oid_t      entry;
    inbox_status_t  rc;

    rc = INBOX_OK;

    for (i = 0; rc == INBOX_OK && i < claim->n; i++) {
        if (claim->claimed[i].parked
            && (claim->claimed[i].billing
                || claim->claimed[i].lease_until == 0)
            && inbox_mongo_parse_id(claim->items[i].id, &entry) == 0)
        {
            rc = inbox_mongo_hold_give_back(ms, &claim->claimed[i].message,
                                            &entry, now, err);
        }
    }

    return rc;
}


/* The entries of paused campaigns, due at INBOX_OUTBOX_PARKED. */
static inbox_status_t
inbox_mongo_outbox_park(inbox_mongo_store_t *ms, inbox_mongo_claim_t *claim,
    inbox_error_t *err)
{
    return inbox_mongo_outbox_put_back(ms, claim, 1, INBOX_OUTBOX_PARKED,
                                       err);
}


/*
 * Puts claimed entries back as they were before this claim (its attempt
 * not counted, an interrupted one still marked so), due at due_at: the
 * parked ones, or all of them (parked_only 0).  One update, a statement
 * each, each at the attempt this claim counted, so an entry put back
 * already (parked, or put off for quiet hours) is left as it is.
 */
static inbox_status_t
inbox_mongo_outbox_put_back(inbox_mongo_store_t *ms,
    inbox_mongo_claim_t *claim, int parked_only, int64_t due_at,
    inbox_error_t *err)
{
    char                   key[24];
    bson_t                 updates, statement, set;
    bson_t                *command;
    size_t                 i, k;
    bson_oid_t             entry;
    inbox_outbox_item_t   *item;

    bson_init(&updates);
    k = 0;

    for (i = 0; i < claim->n; i++) {
        item = &claim->items[i];

        if ((parked_only && !claim->claimed[i].parked)
            || inbox_mongo_parse_id(item->id, &entry) != 0)
        {
            continue;
        }

        bson_init(&set);
        BSON_APPEND_DATE_TIME(&set, "due_at", due_at);
        BSON_APPEND_INT32(&set, "attempts", (int32_t) item->attempt - 1);

        if (claim->claimed[i].lease_until != 0) {
            BSON_APPEND_DATE_TIME(&set, "lease_until",
                                  claim->claimed[i].lease_until);
        } else {
            BSON_APPEND_NULL(&set, "lease_until");
        }

        snprintf(key, sizeof(key), "%zu", k++);
        BSON_APPEND_DOCUMENT_BEGIN(&updates, key, &statement);
        BCON_APPEND(&statement,
                    "q", "{",
                        "_id", BCON_OID(&entry),
                        "attempts", BCON_INT32((int32_t) item->attempt),
                    "}",
                    "u", "{", "$set", BCON_DOCUMENT(&set), "}");
        bson_append_document_end(&updates, &statement);
        bson_destroy(&set);
    }

    if (k == 0) {
        bson_destroy(&updates);
        return INBOX_OK;
    }

    command = BCON_NEW("update", BCON_UTF8("outbox"),
                       "updates", BCON_ARRAY(&updates),
                       "ordered", BCON_BOOL(true));
    bson_destroy(&updates);

    return inbox_mongo_run_simple(ms, command, err);
}


/* An entry just taken that its number's pace leaves for a later claim:
 * put back as it was before this claim. */
static inbox_status_t
inbox_mongo_outbox_untake(inbox_mongo_store_t *ms, inbox_outbox_item_t *item,
    inbox_mongo_claimed_t *claimed, inbox_error_t *err)
{
    inbox_mongo_claim_t  one;

    one.items = item;
    one.claimed = claimed;
    one.n = 1;

    return inbox_mongo_outbox_put_back(ms, &one, 0, claimed->due_at, err);
}


/*
 * Without a transaction a resume (or cancel) can fall between the claim's
 * read of the statuses and its park, its unparks before the park: the
 * entries would wait for a resume that never comes.  So the statuses of
 * the parked entries' campaigns are read again after the park, and a
 * campaign no longer paused has its parked entries made due at once.
 */
static inbox_status_t
inbox_mongo_outbox_recheck(inbox_mongo_store_t *ms,
    inbox_mongo_claim_t *claim, int64_t now, inbox_error_t *err)
{
    size_t                  i, j, n;
    inbox_status_t          rc;
    inbox_mongo_claim_t     parked;
    inbox_mongo_claimed_t  *claimed;
    inbox_outbox_item_t    *items;

    n = 0;
    for (i = 0; i < claim->n; i++) {
        n += claim->claimed[i].parked && !claim->claimed[i].billing;
    }

    if (n == 0) {
        return INBOX_OK;
    }

    items = calloc(n, sizeof(inbox_outbox_item_t));
    claimed = calloc(n, sizeof(inbox_mongo_claimed_t));

    if (items == NULL || claimed == NULL) {
        free(items);
        free(claimed);
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    /* shallow copies: nothing of a claimed item is allocated yet */
    for (i = 0, j = 0; i < claim->n; i++) {
        if (claim->claimed[i].parked && !claim->claimed[i].billing) {
            items[j] = claim->items[i];
            claimed[j] = claim->claimed[i];
            j++;
        }
    }

    parked.items = items;
    parked.claimed = claimed;
    parked.n = n;

    rc = inbox_mongo_outbox_campaigns(ms, &parked, err);

    for (i = 0; rc == INBOX_OK && i < n; i++) {
        if (claimed[i].parked) {
            continue;                       /* still paused */
        }

        for (j = 0; j < i; j++) {
            if (!claimed[j].parked
                && bson_oid_equal(&claimed[j].campaign, &claimed[i].campaign))
            {
                break;
            }
        }

        if (j == i) {
            rc = inbox_mongo_outbox_unpark(ms, &claimed[i].campaign, now, 0,
                                           err);
        }
    }

    free(items);
    free(claimed);

    return rc;
}


/*
 * The bulk entries claimed during their recipients' quiet hours
 * (inbox_outbox_quiet, the organization's settings read once a batch
 * for each): put back as they were before this claim, due when the
 * hours end, and out of the batch, their recipients counted waiting for
 * them; the recipients of the campaign messages kept are queued again,
 * and sent now (inbox_mongo_recipients_sent).
 */
static inbox_status_t
inbox_mongo_outbox_quiet(inbox_mongo_store_t *ms, inbox_outbox_batch_t *batch,
    inbox_mongo_claimed_t *claimed, int64_t now, int64_t quiet_now,
    inbox_error_t *err)
{
    int                   held;
    size_t                i, kept, nput, nback;
    int64_t               opens;
    bson_oid_t            entry, *put_off, *back;
    inbox_status_t        rc;
    inbox_settings_t      settings;
    inbox_mongo_claim_t   one;
    inbox_outbox_item_t  *item;
    char                  org[INBOX_ID_MAX];

    put_off = calloc(batch->count + 1, sizeof(bson_oid_t));
    back = calloc(batch->count + 1, sizeof(bson_oid_t));

    if (put_off == NULL || back == NULL) {
        free(put_off);
        free(back);
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    memset(&settings, 0, sizeof(inbox_settings_t));
    org[0] = '\0';
    kept = 0;
    nput = 0;
    nback = 0;
    rc = INBOX_OK;

    for (i = 0; i < batch->count; i++) {
        item = &batch->items[i];

        if (rc == INBOX_OK && item->priority == INBOX_OUTBOX_BULK
            && !item->interrupted && !item->cancelled
            && strcmp(org, item->org_id) != 0)
        {
            rc = inbox_mongo_settings_get(&ms->base, item->org_id,
                                          &settings, err);
            snprintf(org, sizeof(org), "%s", item->org_id);
        }

        if (rc == INBOX_OK && strcmp(org, item->org_id) == 0
            && inbox_outbox_quiet(item, claimed[i].timezone,
                                  settings.timezone, settings.quiet_start,
                                  settings.quiet_end, quiet_now, &opens)
            && inbox_mongo_parse_id(item->id, &entry) == 0)
        {
            rc = inbox_mongo_run_simple(ms,
                BCON_NEW("update", BCON_UTF8("outbox"),
                         "updates", "[", "{",
                             "q", "{",
                                 "_id", BCON_OID(&entry),
                                 "attempts",
                                     BCON_INT32((int32_t) item->attempt),
                             "}",
                             "u", "{", "$set", "{",
                                 "due_at",
                                     BCON_DATE_TIME(now + (opens - quiet_now)),
                                 "attempts",
                                     BCON_INT32((int32_t) item->attempt - 1),
                                 "lease_until", BCON_NULL,
                             "}", "}",
                         "}", "]"),
                err);

            if (rc == INBOX_OK) {
                bson_oid_copy(&claimed[i].message, &put_off[nput++]);
                inbox_message_free(&item->message);
                inbox_number_free(&item->number);
                continue;
            }
        }

        held = 1;

        if (rc == INBOX_OK && item->priority == INBOX_OUTBOX_BULK
            && claimed[i].in_campaign && !item->interrupted
            && !item->cancelled && !item->withdrawn)
        {
            /* parked before, holding nothing: held again as it goes */
            rc = inbox_mongo_hold_again(ms, &claimed[i].message, now, &held,
                                        err);
        }

        if (rc == INBOX_OK && held != 1) {
            /* not covered: parked again, its campaign paused for credits
             * as dispatch pauses it; its hold being given back still
             * (held -1): claimed again once that is done */
            one.items = item;
            one.claimed = &claimed[i];
            one.n = 1;
            rc = inbox_mongo_outbox_put_back(ms, &one, 0,
                                             held == 0
                                             ? INBOX_OUTBOX_PARKED
                                             : now
                                               + INBOX_MONGO_SETTLE_LEASE_MS,
                                             err);
            if (rc == INBOX_OK && held == 0) {
                rc = inbox_mongo_campaign_credits_short(ms,
                                                        &claimed[i].campaign,
                                                        quiet_now, err);
            }
            if (rc == INBOX_OK) {
                inbox_message_free(&item->message);
                inbox_number_free(&item->number);
                continue;
            }
        }

        if (item->priority == INBOX_OUTBOX_BULK && claimed[i].in_campaign
            && !item->interrupted && !item->cancelled)
        {
            /* put off by an earlier claim, perhaps: queued again */
            bson_oid_copy(&claimed[i].message, &back[nback++]);
        }

        /* the claim of each item stays beside it: a failure after this
         * puts each back with its own lease (interrupted or not) */
        claimed[kept] = claimed[i];
        batch->items[kept++] = *item;
    }

    batch->count = kept;

    if (rc == INBOX_OK) {
        rc = inbox_mongo_recipient_waits(ms, put_off, nput, 1, err);
    }

    if (rc == INBOX_OK) {
        rc = inbox_mongo_recipient_waits(ms, back, nback, 0, err);
    }

    if (rc == INBOX_OK) {
        /* what they go now is when their polls' answers count from */
        rc = inbox_mongo_recipients_sent(ms, back, nback, quiet_now, err);
    }

    free(put_off);
    free(back);

    return rc;
}


/* A claimed entry's message (its contact opted out since?) and number. */
static inbox_status_t
inbox_mongo_outbox_read(inbox_mongo_store_t *ms, inbox_outbox_item_t *item,
    inbox_mongo_claimed_t *claimed, inbox_error_t *err)
{
    int             found;
    bson_t          doc;
    bson_oid_t      contact;
    bson_iter_t     iter;
    inbox_status_t  rc;

    rc = inbox_mongo_message_get(ms,
                                 BCON_NEW("_id", BCON_OID(&claimed->message)),
                                 &item->message, &doc, &found, err);

    if (rc == INBOX_OK) {
        inbox_mongo_get_str(&doc, "to", item->to, sizeof(item->to));
        found = bson_iter_init_find(&iter, &doc, "contact_id")
                && BSON_ITER_HOLDS_OID(&iter);
        if (found) {
            bson_oid_copy(bson_iter_oid(&iter), &contact);
        }
    }

    bson_destroy(&doc);

    if (rc == INBOX_OK && found) {
        /* an opt-out since it was accepted: the sender reports it */
        rc = inbox_mongo_outbox_withdrawn(ms, &contact, item, claimed, err);
    }

    if (rc != INBOX_OK) {
        return rc;
    }

    /* a number removed since leaves e164 "" */
    rc = inbox_mongo_find_one(ms, "numbers",
                              BCON_NEW("e164", BCON_UTF8(claimed->from)),
                              NULL, &doc, &found, err);

    if (rc == INBOX_OK && found) {
        rc = inbox_mongo_parse_number(&doc, &item->number, err);
    }

    bson_destroy(&doc);

    return rc;
}


/* What inbox_mongo_outbox_held's reads fill in. */
typedef struct {
    size_t                     n;
    int                       *has;        /* has[i]: oids[i] parsed, then
                                              its contact found (2), then,
                                              a bulk one, it is read (3) */
    bson_oid_t                *oids;       /* the messages */
    bson_oid_t                *contacts;   /* their contacts */
    bson_oid_t                *orgs;       /* their organizations */
    int                       *has_org;    /* has_org[i]: orgs[i] read */
    inbox_outbox_held_read_t  *reads;
} inbox_mongo_held_t;


/* A find of the documents whose _id is one of ids[i] with has[i], with
 * projection (taken over). */
static bson_t *
inbox_mongo_find_ids(const char *collection, const bson_oid_t *ids,
    const int *has, size_t n, bson_t *projection)
{
    size_t   i, j;
    char     key[16];
    bson_t   in, filter, doc;
    bson_t  *command;

    bson_init(&in);

    /* an array's keys count its elements, not the ids it skips */
    for (i = 0, j = 0; i < n; i++) {
        if (has[i]) {
            snprintf(key, sizeof(key), "%u", (unsigned) j++);
            BSON_APPEND_OID(&in, key, &ids[i]);
        }
    }

    bson_init(&filter);
    BSON_APPEND_DOCUMENT_BEGIN(&filter, "_id", &doc);
    BSON_APPEND_ARRAY(&doc, "$in", &in);
    bson_append_document_end(&filter, &doc);
    bson_destroy(&in);

    command = BCON_NEW("find", BCON_UTF8(collection),
                       "filter", BCON_DOCUMENT(&filter),
                       "projection", BCON_DOCUMENT(projection),
                       "batchSize", BCON_INT32((int32_t) n),
                       "singleBatch", BCON_BOOL(true));
    bson_destroy(&filter);
    bson_destroy(projection);

    return command;
}


/* 0 with *oid, a top-level ObjectId field of doc; -1 without one. */
static int
inbox_mongo_oid_field(const bson_t *doc, const char *name, bson_oid_t *oid)
{
    bson_iter_t  field;

    if (!bson_iter_init_find(&field, doc, name)
        || !BSON_ITER_HOLDS_OID(&field))
    {
        return -1;
    }

    bson_oid_copy(bson_iter_oid(&field), oid);

    return 0;
}


/* A message of the batch: which contact it is with, of which
 * organization. */
static inbox_status_t
inbox_mongo_held_message(void *data, const bson_t *doc, inbox_error_t *err)
{
    inbox_mongo_held_t *o = data;

    int         has_org;
    size_t      i;
    bson_oid_t  id, contact, org;

    if (inbox_mongo_oid_field(doc, "_id", &id) == 0
        && inbox_mongo_oid_field(doc, "contact_id", &contact) == 0)
    {
        has_org = inbox_mongo_oid_field(doc, "org_id", &org) == 0;

        for (i = 0; i < o->n; i++) {
            if (o->has[i] && bson_oid_equal(&o->oids[i], &id)) {
                bson_oid_copy(&contact, &o->contacts[i]);
                o->has[i] = 2;
                o->has_org[i] = has_org;
                if (has_org) {
                    bson_oid_copy(&org, &o->orgs[i]);
                }
            }
        }
    }

    return INBOX_OK;
}


/* A contact of the batch: its opt-out and zone, for each of its
 * messages. */
static inbox_status_t
inbox_mongo_held_contact(void *data, const bson_t *doc, inbox_error_t *err)
{
    inbox_mongo_held_t *o = data;

    size_t                     i;
    int64_t                    opted_out_at;
    bson_oid_t                 id;
    inbox_outbox_held_read_t  *read;

    if (inbox_mongo_oid_field(doc, "_id", &id) != 0) {
        return INBOX_OK;
    }

    opted_out_at = inbox_mongo_get_bool(doc, "opted_out")
                   ? inbox_mongo_get_date(doc, "opted_out_at") : 0;

    for (i = 0; i < o->n; i++) {
        if (o->has[i] && bson_oid_equal(&o->contacts[i], &id)) {
            read = &o->reads[i];
            read->found = 1;
            read->opted_out_at = opted_out_at;
            inbox_mongo_get_str(doc, "timezone", read->contact_tz,
                                sizeof(read->contact_tz));
        }
    }

    return INBOX_OK;
}


/* An organization of the batch: its zone and quiet hours, for each of
 * its bulk messages. */
static inbox_status_t
inbox_mongo_held_org(void *data, const bson_t *doc, inbox_error_t *err)
{
    inbox_mongo_held_t *o = data;

    size_t                     i;
    bson_oid_t                 id;
    inbox_settings_t           settings;
    inbox_outbox_held_read_t  *read;

    if (inbox_mongo_oid_field(doc, "_id", &id) != 0) {
        return INBOX_OK;
    }

    /* the defaults where a field was never set */
    inbox_mongo_parse_settings(doc, &settings);

    for (i = 0; i < o->n; i++) {
        if (o->has[i] == 3 && bson_oid_equal(&o->orgs[i], &id)) {
            read = &o->reads[i];
            snprintf(read->org_tz, sizeof(read->org_tz), "%s",
                     settings.timezone);
            read->quiet_start = settings.quiet_start;
            read->quiet_end = settings.quiet_end;
        }
    }

    return INBOX_OK;
}


/* A find of ids[i] with has[i] in collection (projection taken over),
 * each document read by each. */
static inbox_status_t
inbox_mongo_held_find(inbox_mongo_store_t *ms, const char *collection,
    const bson_oid_t *ids, const int *has, inbox_mongo_held_t *o,
    bson_t *projection,
    inbox_status_t (*each)(void *o, const bson_t *doc, inbox_error_t *err),
    inbox_error_t *err)
{
    bson_t          batch;
    inbox_status_t  rc;

    rc = inbox_mongo_run_cursor(ms,
             inbox_mongo_find_ids(collection, ids, has, o->n, projection),
             &batch, err);
    if (rc == INBOX_OK) {
        rc = inbox_mongo_batch_each(&batch, each, o, err);
    }

    bson_destroy(&batch);

    return rc;
}


/*
 * Each message's contact's opt-out, and for a bulk one its contact's zone
 * and its organization's quiet hours: the messages, then their contacts,
 * then (when one is bulk and its contact was found) the organizations of
 * the bulk ones, a find of each by _id for the whole batch.
 */
inbox_status_t
inbox_mongo_outbox_held(inbox_store_t *store,
    const char *const *message_ids,
    const inbox_outbox_priority_t *priorities, size_t n,
    inbox_outbox_held_read_t *reads, inbox_error_t *err)
{
    size_t                 i, j;
    int                    bulk, has[INBOX_OUTBOX_CLAIM_MAX];
    int                    first[INBOX_OUTBOX_CLAIM_MAX];
    int                    has_org[INBOX_OUTBOX_CLAIM_MAX];
    bson_oid_t             oids[INBOX_OUTBOX_CLAIM_MAX];
    bson_oid_t             contacts[INBOX_OUTBOX_CLAIM_MAX];
    bson_oid_t             orgs[INBOX_OUTBOX_CLAIM_MAX];
    inbox_status_t         rc;
    inbox_error_t          fallback;
    inbox_mongo_held_t     o;
    inbox_mongo_store_t   *ms = (inbox_mongo_store_t *) store;

    if (err == NULL) {
        err = &fallback;
    }

    for (i = 0; i < n; i++) {
        has[i] = inbox_mongo_parse_id(message_ids[i], &oids[i]) == 0;
        has_org[i] = 0;
    }

    o.n = n;
    o.has = has;
    o.oids = oids;
    o.contacts = contacts;
    o.orgs = orgs;
    o.has_org = has_org;
    o.reads = reads;

    rc = inbox_mongo_held_find(ms, "messages", oids, has, &o,
                               BCON_NEW("contact_id", BCON_INT32(1),
                                        "org_id", BCON_INT32(1)),
                               inbox_mongo_held_message, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    /* only the messages whose contact was found (has 2) */
    for (i = 0; i < n; i++) {
        has[i] = (has[i] == 2);
    }

    rc = inbox_mongo_held_find(ms, "contacts", contacts, has, &o,
                               BCON_NEW("opted_out", BCON_INT32(1),
                                        "opted_out_at", BCON_INT32(1),
                                        "timezone", BCON_INT32(1)),
                               inbox_mongo_held_contact, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    /* quiet hours only for the bulk ones whose contact is there and in
     * (replies never wait for them), each organization asked for once */
    bulk = 0;

    for (i = 0; i < n; i++) {
        has[i] = reads[i].found && reads[i].opted_out_at == 0
                 && has_org[i] && priorities[i] == INBOX_OUTBOX_BULK ? 3 : 0;
        first[i] = 0;

        if (has[i]) {
            for (j = 0; j < i && !(has[j] && bson_oid_equal(&orgs[j],
                                                             &orgs[i]));
                 j++)
            {
                /* an earlier one of its organization? */
            }

            first[i] = (j == i);
            bulk = 1;
        }
    }

    if (!bulk) {
        return INBOX_OK;
    }

    return inbox_mongo_held_find(ms, "orgs", orgs, first, &o,
                                 BCON_NEW("timezone", BCON_INT32(1),
                                          "quiet_start", BCON_INT32(1),
                                          "quiet_end", BCON_INT32(1)),
                                 inbox_mongo_held_org, err);
}


/*
 * One record after another, with the commands of one (no multi-document
 * transaction): a record refused is that record's; the store's error
 * stops the batch, the records before it stored.
 */
inbox_status_t
inbox_mongo_outbox_results(inbox_store_t *store,
    inbox_outbox_ruled_t *records, size_t n, int64_t now,
    inbox_event_list_t *events, inbox_error_t *err)
{
    size_t                  i;
    inbox_status_t          rc;
    inbox_error_t           fallback;
    inbox_outbox_record_t  *record;
    inbox_mongo_store_t    *ms = (inbox_mongo_store_t *) store;

    if (err == NULL) {
        err = &fallback;
    }

    rc = inbox_mongo_ensure_indexes(ms, err);

    for (i = 0; i < n && rc == INBOX_OK; i++) {
        record = records[i].record;

        rc = inbox_mongo_outbox_record(ms, &records[i], now, events,
                                       &record->error);

        if (rc == INBOX_ERR_UNAVAILABLE || rc == INBOX_ERR_INTERNAL) {
            *err = record->error;
            break;
        }

        if (rc != INBOX_OK) {
            memset(&record->report, 0, sizeof(inbox_send_report_t));
            record->status = rc;
            rc = INBOX_OK;
        }
    }

    if (rc != INBOX_OK) {
        /* this one and those after it were not stored */
        for (/* void */; i < n; i++) {
            memset(&records[i].record->report, 0,
                   sizeof(inbox_send_report_t));
            records[i].record->status = rc;
            records[i].record->error = *err;
        }
    }

    return rc;
}


static inbox_status_t
inbox_mongo_outbox_record(inbox_mongo_store_t *ms,
    const inbox_outbox_ruled_t *ruled, int64_t now,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int                   found, moved, carrier_opt_out, final;
    char                  early[INBOX_CARRIER_CODE_MAX];
    char                  campaign[INBOX_ID_MAX];
    char                  from[INBOX_PHONE_MAX];
    char                  named[INBOX_PROVIDER_ID_MAX];
    bson_t                doc, reply;
    bson_t               *command, *which;
    bson_oid_t            entry, org, message;
    const char           *code;
    bson_iter_t           iter;
    inbox_status_t        rc;
    inbox_delivery_t      to;
    unsigned              attempt;
    int64_t               next_at;
    inbox_send_report_t  *report;
    inbox_send_result_t   taken;
    inbox_recipient_state_t     unsent;
    const inbox_send_result_t  *result;

    result = &ruled->result;
    next_at = ruled->next_at;
    attempt = ruled->record->attempt;
    report = &ruled->record->report;

    if (inbox_mongo_parse_id(ruled->record->entry_id, &entry) != 0) {
        return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                               "No such outbox entry.");
    }

    which = BCON_NEW("org_id", BCON_INT32(1),
                     "message_id", BCON_INT32(1),
                     "attempts", BCON_INT32(1));

    /* given back for its number's account: its campaign pauses too,
     * naming the number */
    if (result->outcome == INBOX_SEND_RELEASED && result->account) {
        BCON_APPEND(which, "campaign_id", BCON_INT32(1),
                    "from", BCON_INT32(1));
    }

    rc = inbox_mongo_find_one(ms, "outbox",
                              BCON_NEW("_id", BCON_OID(&entry)), which,
                              &doc, &found, err);
    campaign[0] = '\0';

    if (rc == INBOX_OK && !found) {
        rc = inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                             "No such outbox entry waits: its result was "
                             "recorded already.");
    }

    if (rc == INBOX_OK
        && (unsigned) inbox_mongo_get_int(&doc, "attempts") != attempt)
    {
        rc = inbox_error_set(err, INBOX_ERR_CONFLICT,
                             "This claim was lost: its lease ran out and "
                             "the entry was claimed again.");
    }

    if (rc == INBOX_OK
        && !(bson_iter_init_find(&iter, &doc, "org_id")
             && BSON_ITER_HOLDS_OID(&iter)))
    {
        rc = inbox_error_set(err, INBOX_ERR_INTERNAL,
                             "An outbox entry has no organization.");
    }

    if (rc == INBOX_OK) {
        bson_oid_copy(bson_iter_oid(&iter), &org);

        if (bson_iter_init_find(&iter, &doc, "message_id")
            && BSON_ITER_HOLDS_OID(&iter))
        {
            bson_oid_copy(bson_iter_oid(&iter), &message);
        } else {
            rc = inbox_error_set(err, INBOX_ERR_INTERNAL,
                                 "An outbox entry names no message.");
        }

        inbox_mongo_get_id(&doc, "campaign_id", campaign);
        inbox_mongo_get_str(&doc, "from", from, sizeof(from));
    }

    bson_destroy(&doc);

    if (rc != INBOX_OK) {
        return rc;
    }

    inbox_mongo_id_hex(&message, report->message_id);

    if (result->outcome == INBOX_SEND_RETRY
        || result->outcome == INBOX_SEND_RELEASED)
    {
        bson_init(&doc);
        BSON_APPEND_DATE_TIME(&doc, "due_at", next_at);
        BSON_APPEND_NULL(&doc, "lease_until");

        /* released: as if this claim never was, its attempt not counted
         * and the last error kept */
        if (result->outcome == INBOX_SEND_RELEASED) {
            BSON_APPEND_INT32(&doc, "attempts", (int32_t) attempt - 1);
        }

        if (result->error_code[0] != '\0') {
            BSON_APPEND_UTF8(&doc, "last_error", result->error_code);
        }

        command = BCON_NEW("update", BCON_UTF8("outbox"),
                           "updates", "[", "{",
                               "q", "{",
                                   "_id", BCON_OID(&entry),
                                   "attempts", BCON_INT32((int32_t) attempt),
                               "}",
                               "u", "{", "$set", BCON_DOCUMENT(&doc), "}",
                           "}", "]",
                           "ordered", BCON_BOOL(true));
        bson_destroy(&doc);

        rc = inbox_mongo_run(ms, command, &reply, err);

        if (rc == INBOX_OK && inbox_mongo_get_int(&reply, "n") == 0) {
            rc = inbox_error_set(err, INBOX_ERR_CONFLICT,
                                 "This claim was lost: its lease ran out "
                                 "and the entry was claimed again.");
        }

        bson_destroy(&reply);
        bson_destroy(command);

        if (rc == INBOX_OK) {
            which = BCON_NEW("_id", BCON_OID(&message));
            rc = inbox_mongo_delivery_move(ms, &org, which,
                                           INBOX_DELIVERY_QUEUED, 0, NULL,
                                           now, &moved, &report->status,
                                           NULL, NULL, NULL, err);
            bson_destroy(which);
            report->next_attempt_at = next_at;
        }

        if (rc == INBOX_OK && campaign[0] != '\0') {
            rc = inbox_mongo_campaign_carrier_refused(ms, campaign, from,
                                                      result->error_code,
                                                      now, err);
        }

        return rc;
    }

    if (result->outcome == INBOX_SEND_UNKNOWN) {
        /* a callback that overtook this record named the message: the
         * carrier has it, and said its id */
        taken = *result;

        rc = inbox_mongo_early_named(ms, &org, result->carrier, &message,
                                     taken.provider_id, err);
        if (rc != INBOX_OK) {
            return rc;
        }

        if (taken.provider_id[0] != '\0') {
            taken.outcome = INBOX_SEND_ACCEPTED;
            taken.status = INBOX_DELIVERY_SENDING;
            taken.error_code[0] = '\0';
            result = &taken;
        }
    }

    to = INBOX_DELIVERY_FAILED;
    code = result->error_code;
    final = 0;

    if (result->outcome == INBOX_SEND_ACCEPTED) {
        to = result->status;
        early[0] = '\0';
        code = NULL;

        /* the carrier's id, by which its status reports find it */
        rc = inbox_mongo_run_simple(ms,
            BCON_NEW("update", BCON_UTF8("messages"),
                     "updates", "[", "{",
                         "q", "{", "_id", BCON_OID(&message), "}",
                         "u", "{", "$set", "{",
                             "provider", BCON_UTF8(
                                 inbox_carrier_name(result->carrier)),
                             "provider_id", BCON_UTF8(result->provider_id),
                             "submitted_at", BCON_DATE_TIME(now),
                         "}", "}",
                     "}", "]",
                     "ordered", BCON_BOOL(true)),
            err);

        if (rc != INBOX_OK) {
            return rc;
        }

        /* what the carrier reported before its answer came */
        rc = inbox_mongo_early_take(ms, &org, result->carrier,
                                    result->provider_id, &to, &final, early,
                                    err);
        if (rc != INBOX_OK) {
            return rc;
        }

        code = early[0] ? early : NULL;
    }

    if (result->outcome == INBOX_SEND_UNKNOWN) {
        /* the carrier may have it: taken now, as far as the hold's
         * expiry goes, and not final; its provider_id stays its own id
         * until a callback naming the message gives it the carrier's */
        to = INBOX_DELIVERY_SENDING;

        rc = inbox_mongo_run_simple(ms,
            BCON_NEW("update", BCON_UTF8("messages"),
                     "updates", "[", "{",
                         "q", "{", "_id", BCON_OID(&message), "}",
                         "u", "{", "$set", "{",
                             "provider", BCON_UTF8(
                                 inbox_carrier_name(result->carrier)),
                             "submitted_at", BCON_DATE_TIME(now),
                         "}", "}",
                     "}", "]",
                     "ordered", BCON_BOOL(true)),
            err);

        if (rc != INBOX_OK) {
            return rc;
        }
    }

    /* the contact is named to be opted out when the carrier said so (a
     * refusal, or an early report); a withdrawn one is opted out
     * already */
    carrier_opt_out = result->outcome != INBOX_SEND_WITHDRAWN
                      && code != NULL
                      && strcmp(code, INBOX_SEND_ERROR_OPTED_OUT) == 0;

    which = BCON_NEW("_id", BCON_OID(&message));
    rc = inbox_mongo_delivery_move(ms, &org, which, to, final, code,
                                   now, &moved, &report->status,
                                   carrier_opt_out
                                   ? report->opted_out_contact : NULL,
                                   NULL, events, err);
    bson_destroy(which);

    if (rc == INBOX_OK && result->outcome == INBOX_SEND_ACCEPTED) {
        rc = inbox_mongo_early_drop(ms, &org, result->carrier,
                                    result->provider_id, err);
    }

    if (carrier_opt_out) {
        report->opted_out_sent_at = now;
    }

    if (rc == INBOX_OK
        && inbox_recipient_of_unsent(result->outcome, &unsent) == 0)
    {
        /* counted cancelled, not failed */
        rc = inbox_mongo_recipient_unsent(ms, &message, unsent, err);
    }

    if (rc == INBOX_OK && result->outcome == INBOX_SEND_UNKNOWN) {
        /* a callback naming it may have come since the look above, and
         * been kept: no transaction spans the two */
        rc = inbox_mongo_early_named(ms, &org, result->carrier, &message,
                                     named, err);

        if (rc == INBOX_OK && named[0] != '\0') {
            rc = inbox_mongo_unknown_adopt(ms, &org, &message,
                                           result->carrier, named, now,
                                           &moved, &report->status, NULL,
                                           NULL, events, err);
        }
    }

    if (rc != INBOX_OK) {
        return rc;
    }

    /*
     * The entry leaves the outbox last, at the attempt its claim counted:
     * each step above is a compare-and-set or sets what it set before, so
     * a sender whose record failed halfway (a lost answer, an election)
     * finds the entry still there and records the result again, whole.
     */
    rc = inbox_mongo_run_find_and_modify(ms,
        BCON_NEW("findAndModify", BCON_UTF8("outbox"),
                 "query", "{",
                     "_id", BCON_OID(&entry),
                     "attempts", BCON_INT32((int32_t) attempt),
                 "}",
                 "remove", BCON_BOOL(true)),
        &doc, &found, err);
    bson_destroy(&doc);

    if (rc == INBOX_OK && !found) {
        rc = inbox_error_set(err, INBOX_ERR_CONFLICT,
                             "This claim was lost: its lease ran out and "
                             "the entry was claimed again.");
    }

    report->done = rc == INBOX_OK;

    return rc;
}


/*
 * Each report is its own write here (no multi-document transaction):
 * a failure of the store is that report's, and the others are stored.
 */
inbox_status_t
inbox_mongo_message_status_updates(inbox_store_t *store,
    inbox_status_report_t *reports, size_t n, int64_t now,
    inbox_event_list_t *events, inbox_error_t *err)
{
    size_t                i;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    now = inbox_mongo_now(ms);

    for (i = 0; i < n; i++) {
        if (reports[i].status == INBOX_OK) {
            reports[i].status = inbox_mongo_status_apply(ms, &reports[i],
                                                         now, events);
        }
    }

    return INBOX_OK;
}


/* One report: its status, or its error in r->error. */
static inbox_status_t
inbox_mongo_status_apply(inbox_mongo_store_t *ms, inbox_status_report_t *r,
    int64_t now, inbox_event_list_t *events)
{
    bson_t            *which, *doc;
    bson_oid_t         org, report, named;
    const char        *provider;
    int                naming;
    inbox_status_t     rc;
    inbox_delivery_t   status;
    inbox_error_t     *err;
    char              *contact_id;
    int64_t           *sent_at;

    err = &r->error;
    contact_id = r->find_contact ? r->contact_id : NULL;
    sent_at = r->find_contact ? &r->sent_at : NULL;

    rc = inbox_mongo_ids(r->org_id, &org, NULL, NULL, err);
    if (rc != INBOX_OK) {
        return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                               "No message has that carrier's id.");
    }

    provider = inbox_carrier_name(r->carrier);
    which = BCON_NEW("provider", BCON_UTF8(provider),
                     "provider_id", BCON_UTF8(r->provider_id));
    naming = r->message_id != NULL
             && inbox_mongo_parse_id(r->message_id, &named) == 0;

    rc = inbox_mongo_delivery_move(ms, &org, which, r->delivery, r->final,
                                   r->error_code, now, &r->changed, &status,
                                   contact_id, sent_at, events, err);

    if (rc == INBOX_ERR_NOT_FOUND) {
        /* before the sender recorded the id: kept for it (delivery.h),
         * final only when it is the carrier's last */
        inbox_mongo_new_id(ms, &report);

        doc = BCON_NEW("_id", BCON_OID(&report),
                       "org_id", BCON_OID(&org),
                       "provider", BCON_UTF8(provider),
                       "provider_id", BCON_UTF8(r->provider_id),
                       "status", BCON_UTF8(inbox_delivery_name(r->delivery)),
                       "error_code", BCON_UTF8(r->error_code
                                               ? r->error_code : ""),
                       "received_at", BCON_DATE_TIME(now));

        if (r->final) {
            BSON_APPEND_BOOL(doc, "final", true);
        }

        /* the message its URL names, for a record of an unknown outcome
         * that comes after it */
        if (naming) {
            BSON_APPEND_OID(doc, "message_id", &named);
        }

        rc = inbox_mongo_run_simple(ms,
            BCON_NEW("insert", BCON_UTF8("early_reports"),
                     "documents", "[", BCON_DOCUMENT(doc), "]",
                     "ordered", BCON_BOOL(true)),
            err);
        bson_destroy(doc);

        /* the sender may have recorded the id meanwhile, without it:
         * then it is applied here (a move is made once either way) */
        if (rc == INBOX_OK) {
            rc = inbox_mongo_delivery_move(ms, &org, which, r->delivery,
                                           r->final, r->error_code, now,
                                           &r->changed, &status, contact_id,
                                           sent_at, events, err);

            if (rc == INBOX_ERR_NOT_FOUND) {
                rc = INBOX_OK;

                /* or the message the URL names lost its send's answer:
                 * it takes the id, and what was kept for it, this
                 * report included */
                if (naming) {
                    rc = inbox_mongo_unknown_adopt(ms, &org, &named,
                                                   r->carrier,
                                                   r->provider_id, now,
                                                   &r->changed, &status,
                                                   contact_id, sent_at,
                                                   events, err);
                }
            }
        }
    }

    bson_destroy(which);

    return rc;
}


/*
 * The message (of org) takes provider_id when its send's outcome is
 * unknown (outbox.h): sent through carrier, status sending with
 * "unknown_outcome", its provider_id still its own id (no carrier's
 * yet), a compare-and-set: one taker.  Its "unknown_outcome" goes, the
 * carrier has it; then the early reports kept for the id move it, as
 * inbox_mongo_delivery_move says (*moved 0 and nothing else when it was
 * not taken).  Anything else is left alone, the carrier id staying the
 * key.
 */
static inbox_status_t
inbox_mongo_unknown_adopt(inbox_mongo_store_t *ms, const bson_oid_t *org,
    const bson_oid_t *message, inbox_carrier_t carrier,
    const char *provider_id, int64_t now, int *moved,
    inbox_delivery_t *status, char contact[INBOX_ID_MAX], int64_t *sent_at,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int               found, final, matched;
    char              own[INBOX_ID_MAX], code[INBOX_CARRIER_CODE_MAX];
    bson_t            value;
    bson_t           *which;
    bson_iter_t       iter;
    inbox_error_t     ignored;
    inbox_status_t    rc;
    inbox_delivery_t  to;

    *moved = 0;
    inbox_mongo_id_hex(message, own);

    rc = inbox_mongo_run_find_and_modify(ms,
        BCON_NEW("findAndModify", BCON_UTF8("messages"),
                 "query", "{",
                     "_id", BCON_OID(message),
                     "org_id", BCON_OID(org),
                     "direction", BCON_UTF8(
                         inbox_direction_name(INBOX_OUTBOUND)),
                     "provider", BCON_UTF8(inbox_carrier_name(carrier)),
                     "provider_id", BCON_UTF8(own),
                     "status", BCON_UTF8(
                         inbox_delivery_name(INBOX_DELIVERY_SENDING)),
                     "error_code", BCON_UTF8(INBOX_SEND_ERROR_UNKNOWN),
                 "}",
                 "update", "{",
                     "$set", "{", "provider_id", BCON_UTF8(provider_id),
                     "}",
                     "$unset", "{", "error_code", BCON_UTF8(""), "}",
                 "}",
                 "fields", "{", "conversation_id", BCON_INT32(1), "}",
                 "new", BCON_BOOL(true)),
        &value, &found, err);

    /* its thread's list row, while it is the last message, no more says
     * why it is still sending; a failure here only leaves it saying so
     * until the message's next move, and must not keep the reports below
     * from it (a retry would not find it to adopt again) */
    if (rc == INBOX_OK && found
        && bson_iter_init_find(&iter, &value, "conversation_id")
        && BSON_ITER_HOLDS_OID(&iter))
    {
        (void) inbox_mongo_update_one(ms, "conversations",
            BCON_NEW("_id", BCON_OID(bson_iter_oid(&iter)),
                     "org_id", BCON_OID(org),
                     "last_message.id", BCON_OID(message),
                     "last_message.error_code",
                     BCON_UTF8(INBOX_SEND_ERROR_UNKNOWN)),
            BCON_NEW("$set", "{", "last_message.error_code", BCON_NULL,
                     "}"),
            &matched, &ignored);
    }

    bson_destroy(&value);

    if (rc != INBOX_OK || !found) {
        return rc;
    }

    to = INBOX_DELIVERY_SENDING;
    code[0] = '\0';

    rc = inbox_mongo_early_take(ms, org, carrier, provider_id, &to, &final,
                                code, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    which = BCON_NEW("_id", BCON_OID(message));
    rc = inbox_mongo_delivery_move(ms, org, which, to, final,
                                   code[0] ? code : NULL, now, moved, status,
                                   contact, sent_at, events, err);
    bson_destroy(which);

    if (rc == INBOX_OK) {
        rc = inbox_mongo_early_drop(ms, org, carrier, provider_id, err);
    }

    return rc;
}


/* What early_take folds the reports into. */
typedef struct {
    inbox_delivery_t   status;
    int                final;
    char              *error_code;
} inbox_mongo_early_t;


static inbox_status_t
inbox_mongo_early_fold(void *data, const bson_t *doc, inbox_error_t *err)
{
    char                  name[16];
    inbox_delivery_t      reported;
    inbox_mongo_early_t  *early = data;

    inbox_mongo_get_str(doc, "status", name, sizeof(name));

    if (inbox_delivery_parse(name, &reported) == 0
        && inbox_delivery_moves(early->status, reported))
    {
        early->status = reported;
        inbox_mongo_get_str(doc, "error_code", early->error_code,
                            INBOX_CARRIER_CODE_MAX);
    }

    if (inbox_mongo_get_bool(doc, "final")) {
        early->final = 1;
    }

    return INBOX_OK;
}


/*
 * Reads the early reports for a carrier id a message was given: *status
 * becomes the furthest they reach from it, with its error code, and
 * *final says whether any was the carrier's last (its hold is settled
 * then, whatever the status).  They stay until the move they make is
 * written (inbox_mongo_early_drop): a failure before leaves them for the
 * retry.
 */
static inbox_status_t
inbox_mongo_early_take(inbox_mongo_store_t *ms, const bson_oid_t *org,
    inbox_carrier_t carrier, const char *provider_id,
    inbox_delivery_t *status, int *final,
    char error_code[INBOX_CARRIER_CODE_MAX], inbox_error_t *err)
{
    bson_t               batch;
    const char          *provider;
    inbox_status_t       rc;
    inbox_mongo_early_t  early;

    provider = inbox_carrier_name(carrier);
    early.status = *status;
    early.final = 0;
    early.error_code = error_code;

    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("find", BCON_UTF8("early_reports"),
                 "filter", "{",
                     "org_id", BCON_OID(org),
                     "provider", BCON_UTF8(provider),
                     "provider_id", BCON_UTF8(provider_id),
                 "}",
                 "sort", "{", "_id", BCON_INT32(1), "}"),
        &batch, err);

    if (rc == INBOX_OK) {
        rc = inbox_mongo_batch_each(&batch, inbox_mongo_early_fold, &early,
                                    err);
    }

    bson_destroy(&batch);

    if (rc != INBOX_OK) {
        return rc;
    }

    *status = early.status;
    *final = early.final;

    return INBOX_OK;
}


/* The early reports early_take read, once what they say is written. */
static inbox_status_t
inbox_mongo_early_drop(inbox_mongo_store_t *ms, const bson_oid_t *org,
    inbox_carrier_t carrier, const char *provider_id, inbox_error_t *err)
{
    return inbox_mongo_delete(ms, "early_reports",
                              BCON_NEW("org_id", BCON_OID(org),
                                       "provider", BCON_UTF8(
                                           inbox_carrier_name(carrier)),
                                       "provider_id",
                                       BCON_UTF8(provider_id)),
                              NULL, err);
}


/*
 * The carrier id of an early report of carrier whose URL named message,
 * into provider_id ("" when none): the carrier's callback for a send
 * whose answer never came to the sender.  Found by the first two fields
 * of by_provider_id: an organization's early reports are few (a day's).
 */
static inbox_status_t
inbox_mongo_early_named(inbox_mongo_store_t *ms, const bson_oid_t *org,
    inbox_carrier_t carrier, const bson_oid_t *message,
    char provider_id[INBOX_PROVIDER_ID_MAX], inbox_error_t *err)
{
    int             found;
    bson_t          doc;
    inbox_status_t  rc;

    provider_id[0] = '\0';

    rc = inbox_mongo_find_one(ms, "early_reports",
                              BCON_NEW("org_id", BCON_OID(org),
                                       "provider", BCON_UTF8(
                                           inbox_carrier_name(carrier)),
                                       "message_id", BCON_OID(message)),
                              BCON_NEW("provider_id", BCON_INT32(1)),
                              &doc, &found, err);

    if (rc == INBOX_OK && found) {
        inbox_mongo_get_str(&doc, "provider_id", provider_id,
                            INBOX_PROVIDER_ID_MAX);
    }

    bson_destroy(&doc);

    return rc;
}


/* The documents of collection whose field is before "before".  A delete
 * has no limit but one or all: max bounds nothing here, the field's index
 * keeps it short. */
static inbox_status_t
inbox_mongo_purge(inbox_store_t *store, const char *collection,
    const char *field, int64_t before, size_t *removed, inbox_error_t *err)
{
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    return inbox_mongo_delete(ms, collection,
                              BCON_NEW(field, "{",
                                           "$lt", BCON_DATE_TIME(before),
                                       "}"),
                              removed, err);
}


inbox_status_t
inbox_mongo_early_reports_purge(inbox_store_t *store, int64_t before,
    size_t max, size_t *removed, inbox_error_t *err)
{
    return inbox_mongo_purge(store, "early_reports", "received_at", before,
                             removed, err);
}


inbox_status_t
inbox_mongo_reply_keys_purge(inbox_store_t *store, int64_t before,
    size_t max, size_t *removed, inbox_error_t *err)
{
    return inbox_mongo_purge(store, "reply_keys", "created_at", before,
                             removed, err);
}


/*
 * Finishes the settlements an interruption left (store_mongo_settle.c),
 * then captures expired holds, oldest first, each settled once.
 */
inbox_status_t
inbox_mongo_holds_expire(inbox_store_t *store, int64_t before, int64_t now,
    size_t max, size_t *captured, inbox_error_t *err)
{
    int                   found;
    bson_t               *which, *sort;
    size_t                finished;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    rc = inbox_mongo_ensure_indexes(ms, err);

    if (rc == INBOX_OK) {
        rc = inbox_mongo_settle_recover(ms, now, max, &finished, err);
    }

    which = BCON_NEW("submitted_at", "{",
                         "$lte", BCON_DATE_TIME(before),
                     "}");
    sort = BCON_NEW("submitted_at", BCON_INT32(1));

    while (rc == INBOX_OK && *captured < max) {
        rc = inbox_mongo_settle(ms, which, sort, INBOX_LEDGER_CAPTURE, now,
                                &found, err);

        if (!found) {
            break;
        }

        if (rc == INBOX_OK) {
            (*captured)++;
        }
    }

    bson_destroy(which);
    bson_destroy(sort);

    return rc;
}


/* One message by filter (destroyed here) into *m, its document into doc
 * (always initialized; the caller destroys it). */
static inbox_status_t
inbox_mongo_message_get(inbox_mongo_store_t *ms, bson_t *filter,
    inbox_message_t *m, bson_t *doc, int *found, inbox_error_t *err)
{
    inbox_status_t  rc;

    rc = inbox_mongo_find_one(ms, "messages", filter, NULL, doc, found, err);

    if (rc == INBOX_OK && *found) {
        rc = inbox_mongo_parse_message(doc, m, err);
    }

    return rc;
}


/*
 * Moves the organization's outbound message named by which to status to
 * when delivery.h's order lets it (a compare-and-set on the statuses
 * before to), keeping error_code (NULL: the one it has); settles its
 * hold as the status says (final: the carrier's last report, which
 * settles it even without a move); appends message.status.  *moved
 * says whether it moved, *status what the message's status is now,
 * contact (unless NULL) gets its contact's id and *sent_at (unless NULL)
 * when the carrier took it (0: not yet).  events NULL with to "queued":
 * only reads the status.
 *
 * The move marks the message "unannounced" (the status it moved to)
 * until its recipient and message.status are written
 * (inbox_mongo_delivery_announce), which SQLite does in the move's
 * transaction: a record or report that failed after the move (the
 * hold's settlement, the recipient, the event) finds the message moved
 * already when it is retried, and the mark has that retry finish it,
 * so the event is never lost (at worst, when only the mark's removal
 * failed, appended twice).
 */
static inbox_status_t
inbox_mongo_delivery_move(inbox_mongo_store_t *ms, const bson_oid_t *org,
    const bson_t *which, inbox_delivery_t to, int final,
    const char *error_code, int64_t now, int *moved, inbox_delivery_t *status,
    char contact[INBOX_ID_MAX], int64_t *sent_at, inbox_event_list_t *events,
    inbox_error_t *err)
{
    int                  found;
    char                 name[16], mark[16];
    bson_t               query, set, in, value, doc;
    unsigned             i, n;
    inbox_status_t       rc;
    inbox_delivery_t     before[INBOX_DELIVERY_COUNT];

    *moved = 0;
    *status = INBOX_DELIVERY_QUEUED;

    n = inbox_delivery_before(to, before);

    bson_init(&query);
    BSON_APPEND_OID(&query, "org_id", org);
    bson_concat(&query, which);
    BSON_APPEND_UTF8(&query, "direction",
                     inbox_direction_name(INBOX_OUTBOUND));

    if (n == 0) {
        found = 0;
        bson_init(&value);

    } else {
        BSON_APPEND_DOCUMENT_BEGIN(&query, "status", &set);
        BSON_APPEND_ARRAY_BEGIN(&set, "$in", &in);
        for (i = 0; i < n; i++) {
            snprintf(name, sizeof(name), "%u", i);
            BSON_APPEND_UTF8(&in, name, inbox_delivery_name(before[i]));
        }
        bson_append_array_end(&set, &in);
        bson_append_document_end(&query, &set);

        bson_init(&set);
        BSON_APPEND_UTF8(&set, "status", inbox_delivery_name(to));
        if (error_code != NULL) {
            BSON_APPEND_UTF8(&set, "error_code", error_code);
        }
        BSON_APPEND_UTF8(&set, "unannounced", inbox_delivery_name(to));

        rc = inbox_mongo_run_find_and_modify(ms,
            BCON_NEW("findAndModify", BCON_UTF8("messages"),
                     "query", BCON_DOCUMENT(&query),
                     "update", "{", "$set", BCON_DOCUMENT(&set), "}",
                     "fields", "{",
                         "conversation_id", BCON_INT32(1),
                         "contact_id", BCON_INT32(1),
                         "status", BCON_INT32(1),
                         "error_code", BCON_INT32(1),
                         "held", BCON_INT32(1),
                         "credits", BCON_INT32(1),
                         "campaign_id", BCON_INT32(1),
                         "submitted_at", BCON_INT32(1),
                         "sent_by", BCON_INT32(1),
                         "resent_as", BCON_INT32(1),
                     "}",
                     "new", BCON_BOOL(true)),
            &value, &found, err);
        bson_destroy(&set);

        if (rc != INBOX_OK) {
            bson_destroy(&query);
            bson_destroy(&value);
            return rc;
        }
    }

    bson_destroy(&query);

    if (!found) {
        /* not there, or at a status to does not move: which? */
        bson_destroy(&value);

        bson_init(&query);
        BSON_APPEND_OID(&query, "org_id", org);
        bson_concat(&query, which);
        BSON_APPEND_UTF8(&query, "direction",
                         inbox_direction_name(INBOX_OUTBOUND));

        rc = inbox_mongo_find_one(ms, "messages", bson_copy(&query),
                                  BCON_NEW("status", BCON_INT32(1),
                                           "contact_id", BCON_INT32(1),
                                           "held", BCON_INT32(1),
                                           "credits", BCON_INT32(1),
                                           "submitted_at", BCON_INT32(1),
                                           "conversation_id", BCON_INT32(1),
                                           "campaign_id", BCON_INT32(1),
                                           "error_code", BCON_INT32(1),
                                           "unannounced", BCON_INT32(1),
                                           "sent_by", BCON_INT32(1),
                                           "resent_as", BCON_INT32(1)),
                                  &doc, &found, err);
        bson_destroy(&query);

        if (rc == INBOX_OK && !found) {
            rc = inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                                 "No message has that carrier's id.");
        }

        if (rc == INBOX_OK) {
            inbox_mongo_get_str(&doc, "status", name, sizeof(name));
            (void) inbox_delivery_parse(name, status);

            if (contact != NULL) {
                inbox_mongo_get_id(&doc, "contact_id", contact);
            }

            if (sent_at != NULL) {
                *sent_at = inbox_mongo_get_date(&doc, "submitted_at");
            }

            /* a move whose settling failed (no transaction spans the
             * two) is settled by the carrier's retry, or any later
             * report: SQLite never leaves a final status held; a final
             * report of the status it has settles it too, and gives a
             * missed HELP answer's day back as the move would have */
            if (events != NULL) {
                rc = inbox_mongo_hold_settle(ms, org, &doc,
                                             inbox_delivery_hold(*status,
                                                                 final),
                                             now, err);
            }

            if (rc == INBOX_OK && events != NULL
                && inbox_delivery_missed(*status)
                && inbox_mongo_get_int(&doc, "credits") == 0)
            {
                rc = inbox_mongo_help_unanswered(ms, &doc, err);
            }

            /* a move whose recipient or event was not written: the
             * status it has now announced */
            inbox_mongo_get_str(&doc, "unannounced", mark, sizeof(mark));

            if (rc == INBOX_OK && events != NULL && mark[0] != '\0') {
                rc = inbox_mongo_delivery_announce(ms, org, &doc, *status,
                                                   mark, events, err);
            }
        }

        bson_destroy(&doc);

        return rc;
    }

    *moved = 1;
    *status = to;

    if (contact != NULL) {
        inbox_mongo_get_id(&value, "contact_id", contact);
    }

    if (sent_at != NULL) {
        *sent_at = inbox_mongo_get_date(&value, "submitted_at");
    }

    rc = inbox_mongo_hold_settle(ms, org, &value,
                                 inbox_delivery_hold(to, final), now, err);

    /* a HELP's answer (free, as every keyword's) that never reached the
     * phone */
    if (rc == INBOX_OK && inbox_delivery_missed(to)
        && inbox_mongo_get_int(&value, "credits") == 0)
    {
        rc = inbox_mongo_help_unanswered(ms, &value, err);
    }

    if (rc == INBOX_OK) {
        rc = inbox_mongo_delivery_announce(ms, org, &value, to,
                                           inbox_delivery_name(to), events,
                                           err);
    }

    bson_destroy(&value);

    return rc;
}


/*
 * What a message's move to status (doc: the message's _id,
 * conversation_id, error_code, campaign_id, sent_by and resent_as)
 * leaves once its hold is settled: a campaign's recipient counted by the
 * status and the error code it has now, as SQLite's trigger counts it (a
 * compare-and-set: again, it moves nothing), message.status, and last
 * the move's mark (unannounced: mark) taken off, so that until then a
 * retry finds it and comes here again.
 */
static inbox_status_t
inbox_mongo_delivery_announce(inbox_mongo_store_t *ms, const bson_oid_t *org,
    const bson_t *doc, inbox_delivery_t status, const char *mark,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int              matched;
    char             code[INBOX_CARRIER_CODE_MAX];
    bson_oid_t       id;
    bson_iter_t      iter;
    inbox_change_t   change;
    inbox_status_t   rc;
    inbox_message_t  frame;

    if (!bson_iter_init_find(&iter, doc, "_id")
        || !BSON_ITER_HOLDS_OID(&iter))
    {
        return INBOX_OK;
    }

    bson_oid_copy(bson_iter_oid(&iter), &id);
    inbox_mongo_get_str(doc, "error_code", code, sizeof(code));
    rc = INBOX_OK;

    if (bson_iter_init_find(&iter, doc, "campaign_id")
        && BSON_ITER_HOLDS_OID(&iter))
    {
        rc = inbox_mongo_recipient_delivery(ms, &id, status,
                                            code[0] ? code : NULL, err);
    }

    if (rc == INBOX_OK) {
        memset(&frame, 0, sizeof(inbox_message_t));
        inbox_mongo_id_hex(&id, frame.id);
        inbox_mongo_get_id(doc, "conversation_id", frame.conversation_id);
        frame.direction = INBOX_OUTBOUND;
        snprintf(frame.status, sizeof(frame.status), "%s",
                 inbox_delivery_name(status));
        snprintf(frame.error_code, sizeof(frame.error_code), "%s", code);
        /* what its frame says of Send again by (inbox_resend_can) */
        inbox_mongo_get_id(doc, "sent_by", frame.sent_by);
        inbox_mongo_get_id(doc, "campaign_id", frame.campaign_id);
        inbox_mongo_get_id(doc, "resent_as", frame.resent_as);

        inbox_change_status(&change, &frame);
        rc = inbox_mongo_events_append(ms, org, &change, events, err);
    }

    if (rc == INBOX_OK) {
        rc = inbox_mongo_delivery_thread(ms, org, doc, &id, status, code,
                                         err);
    }

    if (rc == INBOX_OK) {
        rc = inbox_mongo_update_one(ms, "messages",
            BCON_NEW("_id", BCON_OID(&id), "unannounced", BCON_UTF8(mark)),
            BCON_NEW("$unset", "{", "unannounced", BCON_UTF8(""), "}"),
            &matched, err);
    }

    return rc;
}


/*
 * A move to status of message id (doc: its conversation_id), with the
 * error code it has now, is its thread's last message's too while it is
 * the last (the list marks a reply that failed): a compare-and-set on
 * the statuses before it, or none (a thread stored before), so that a
 * retry or a move announced late never takes it back.
 */
static inbox_status_t
inbox_mongo_delivery_thread(inbox_mongo_store_t *ms, const bson_oid_t *org,
    const bson_t *doc, const bson_oid_t *id, inbox_delivery_t status,
    const char *code, inbox_error_t *err)
{
    int               matched;
    char              key[16];
    bson_t            query, cond, in, set;
    unsigned          i, n;
    bson_iter_t       iter;
    inbox_status_t    rc;
    inbox_delivery_t  before[INBOX_DELIVERY_COUNT];

    n = inbox_delivery_before(status, before);

    if (n == 0
        || !bson_iter_init_find(&iter, doc, "conversation_id")
        || !BSON_ITER_HOLDS_OID(&iter))
    {
        return INBOX_OK;
    }

    bson_init(&query);
    BSON_APPEND_OID(&query, "_id", bson_iter_oid(&iter));
    BSON_APPEND_OID(&query, "org_id", org);
    BSON_APPEND_OID(&query, "last_message.id", id);
    BSON_APPEND_DOCUMENT_BEGIN(&query, "last_message.status", &cond);
    BSON_APPEND_ARRAY_BEGIN(&cond, "$in", &in);
    for (i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "%u", i);
        BSON_APPEND_UTF8(&in, key, inbox_delivery_name(before[i]));
    }
    snprintf(key, sizeof(key), "%u", n);
    BSON_APPEND_NULL(&in, key);
    bson_append_array_end(&cond, &in);
    bson_append_document_end(&query, &cond);

    bson_init(&set);
    BSON_APPEND_UTF8(&set, "last_message.status",
                     inbox_delivery_name(status));
    if (code[0] != '\0') {
        BSON_APPEND_UTF8(&set, "last_message.error_code", code);
    } else {
        BSON_APPEND_NULL(&set, "last_message.error_code");
    }

    rc = inbox_mongo_update_one(ms, "conversations", bson_copy(&query),
                                BCON_NEW("$set", BCON_DOCUMENT(&set)),
                                &matched, err);
    bson_destroy(&query);
    bson_destroy(&set);

    return rc;
}


/* The answer of a HELP that never reached the phone (doc: its "_id" and
 * "contact_id") is not one: its contact's next HELP gets one, if this
 * was the answer of its day.  Repeated, it finds nothing to clear. */
static inbox_status_t
inbox_mongo_help_unanswered(inbox_mongo_store_t *ms, const bson_t *doc,
    inbox_error_t *err)
{
    int          matched;
    bson_iter_t  message, contact;

    if (!bson_iter_init_find(&message, doc, "_id")
        || !BSON_ITER_HOLDS_OID(&message)
        || !bson_iter_init_find(&contact, doc, "contact_id")
        || !BSON_ITER_HOLDS_OID(&contact))
    {
        return INBOX_OK;
    }

    return inbox_mongo_update_one(ms, "contacts",
        BCON_NEW("_id", BCON_OID(bson_iter_oid(&contact)),
                 "help_answer_id", BCON_OID(bson_iter_oid(&message))),
        BCON_NEW("$set", "{",
                     "help_answered_at", BCON_NULL,
                     "help_answer_id", BCON_NULL,
                 "}"),
        &matched, err);
}


/* Captures or releases (as hold says) the hold of the message doc shows
 * ("_id", "held"), if it still has one: once, whoever else settles it at
 * the same moment (store_mongo_settle.c). */
static inbox_status_t
inbox_mongo_hold_settle(inbox_mongo_store_t *ms, const bson_oid_t *org,
    const bson_t *doc, inbox_hold_action_t hold, int64_t now,
    inbox_error_t *err)
{
    int             found;
    bson_t         *which;
    bson_iter_t     iter;
    inbox_status_t  rc;

    if (hold == INBOX_HOLD_KEEP || !inbox_mongo_get_bool(doc, "held")
        || !bson_iter_init_find(&iter, doc, "_id")
        || !BSON_ITER_HOLDS_OID(&iter))
    {
        return INBOX_OK;
    }

    which = BCON_NEW("_id", BCON_OID(bson_iter_oid(&iter)),
                     "org_id", BCON_OID(org));
    rc = inbox_mongo_settle(ms, which, NULL,
                            hold == INBOX_HOLD_CAPTURE
                            ? INBOX_LEDGER_CAPTURE : INBOX_LEDGER_RELEASE,
                            now, &found, err);
    bson_destroy(which);

    return rc;
}


/* The parked entries are few (what the sender claimed while the campaign
 * was paused), and so are those waiting out a retry: both are found by
 * the index on (priority, due_at).  An entry the sender holds (leased,
 * due when its lease runs out) stays its own. */
inbox_status_t
inbox_mongo_outbox_unpark(inbox_mongo_store_t *ms, const bson_oid_t *campaign,
    int64_t now, int backoffs, inbox_error_t *err)
{
    bson_t          *q;
    inbox_status_t   rc;

    if (backoffs) {
        q = BCON_NEW("priority", BCON_INT32(INBOX_OUTBOX_BULK),
                     "due_at", "{", "$gt", BCON_DATE_TIME(now), "}",
                     "campaign_id", BCON_OID(campaign),
                     "$or", "[",
                         "{", "due_at", BCON_DATE_TIME(INBOX_OUTBOX_PARKED),
                         "}",
                         "{", "lease_until", BCON_NULL, "}",
                     "]");
    } else {
        q = BCON_NEW("priority", BCON_INT32(INBOX_OUTBOX_BULK),
                     "due_at", BCON_DATE_TIME(INBOX_OUTBOX_PARKED),
                     "campaign_id", BCON_OID(campaign));
    }

    rc = inbox_mongo_run_simple(ms,
        BCON_NEW("update", BCON_UTF8("outbox"),
                 "updates", "[", "{",
                     "q", BCON_DOCUMENT(q),
                     "u", "{", "$set", "{",
                         "due_at", BCON_DATE_TIME(now),
                     "}", "}",
                     "multi", BCON_BOOL(true),
                 "}", "]",
                 "ordered", BCON_BOOL(true)),
        err);

    bson_destroy(q);

    return rc;
}


inbox_status_t
inbox_mongo_outbox_unpark_org(inbox_mongo_store_t *ms, const bson_oid_t *org,
    int64_t now, inbox_error_t *err)
{
    return inbox_mongo_run_simple(ms,
        BCON_NEW("update", BCON_UTF8("outbox"),
                 "updates", "[", "{",
                     "q", "{",
                         "priority", BCON_INT32(INBOX_OUTBOX_BULK),
                         "due_at", BCON_DATE_TIME(INBOX_OUTBOX_PARKED),
                         "org_id", BCON_OID(org),
                     "}",
                     "u", "{", "$set", "{",
                         "due_at", BCON_DATE_TIME(now),
                     "}", "}",
                     "multi", BCON_BOOL(true),
                 "}", "]",
                 "ordered", BCON_BOOL(true)),
        err);
}


inbox_status_t
inbox_mongo_hold_give_back(inbox_mongo_store_t *ms, const bson_oid_t *message,
    const bson_oid_t *entry, int64_t now, inbox_error_t *err)
{
    int  found;

    return inbox_mongo_settle_parked(ms, message, entry, now, &found, err);
}


/* What inbox_mongo_outbox_park_campaign finds: entries and messages. */
typedef struct {
    size_t       n;
    size_t       size;
    bson_oid_t  *entries;
    bson_oid_t  *messages;
} inbox_mongo_unleased_t;


static inbox_status_t
inbox_mongo_unleased_add(void *data, const bson_t *doc, inbox_error_t *err)
{
    bson_iter_t              id, message;
    bson_oid_t              *grown;
    inbox_mongo_unleased_t  *u = data;

    if (!bson_iter_init_find(&id, doc, "_id") || !BSON_ITER_HOLDS_OID(&id)
        || !bson_iter_init_find(&message, doc, "message_id")
        || !BSON_ITER_HOLDS_OID(&message))
    {
        return INBOX_OK;
    }

    if (u->n == u->size) {
        grown = realloc(u->entries, (u->size + 32) * sizeof(bson_oid_t));
        if (grown == NULL) {
            return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        }
        u->entries = grown;

        grown = realloc(u->messages, (u->size + 32) * sizeof(bson_oid_t));
        if (grown == NULL) {
            return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        }
        u->messages = grown;
        u->size += 32;
    }

    bson_oid_copy(bson_iter_oid(&id), &u->entries[u->n]);
    bson_oid_copy(bson_iter_oid(&message), &u->messages[u->n++]);

    return INBOX_OK;
}


/*
 * The campaign's entries the sender does not hold (few: at most
 * INBOX_CAMPAIGN_AHEAD_MAX due, and what waits), each parked where it
 * is still not leased, then its hold given back while it is still
 * parked and not leased (inbox_mongo_settle_parked: a resume and a
 * claim just after the park may have handed it out holding): one the
 * sender leases meanwhile is its own, parked by the claim that reads
 * the pause.  Those
 * parked before are looked at too, so that a pause repeated after a
 * failure gives back what one before it parked still holding.
 */
inbox_status_t
inbox_mongo_outbox_park_campaign(inbox_mongo_store_t *ms,
    const bson_oid_t *campaign, int64_t now, inbox_error_t *err)
{
    int                     matched;
    size_t                  i;
    bson_t                  batch;
    inbox_status_t          rc;
    inbox_mongo_unleased_t  u;

    memset(&u, 0, sizeof(u));

    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("find", BCON_UTF8("outbox"),
                 "filter", "{",
                     "campaign_id", BCON_OID(campaign),
                     "priority", BCON_INT32(INBOX_OUTBOX_BULK),
                     "lease_until", BCON_NULL,
                 "}",
                 "projection", "{", "message_id", BCON_INT32(1), "}"),
        &batch, err);

    if (rc == INBOX_OK) {
        rc = inbox_mongo_batch_each(&batch, inbox_mongo_unleased_add, &u,
                                    err);
    }

    bson_destroy(&batch);

    for (i = 0; rc == INBOX_OK && i < u.n; i++) {
        rc = inbox_mongo_update_one(ms, "outbox",
                                    BCON_NEW("_id", BCON_OID(&u.entries[i]),
                                             "lease_until", BCON_NULL),
                                    BCON_NEW("$set", "{",
                                        "due_at", BCON_DATE_TIME(
                                            INBOX_OUTBOX_PARKED),
                                    "}"),
                                    &matched, err);

        if (rc == INBOX_OK && matched) {
            rc = inbox_mongo_hold_give_back(ms, &u.messages[i],
                                            &u.entries[i], now, err);
        }
    }

    free(u.entries);
    free(u.messages);

    return rc;
}


/*
 * A parked campaign message a claim hands out holds its credits again
 * (*held 1) before the sender sees it: the organization's $inc (as a
 * reply's hold: only what the balance covers, while billing is active)
 * and its entry, then the message's compare-and-set, held again and its
 * holds counted, so that its settlement is keyed apart from the one
 * that gave the last hold back (store_mongo_settle.c).  *held 0: not
 * covered; -1: its last hold still being given back (settling), or
 * held by another meanwhile, the $inc given back.  One that holds
 * already, or costs nothing, is held.  A crash between the $inc and the
 * compare-and-set leaves credits held with no message holding them, as
 * a reply's crash after its hold does.
 */
static inbox_status_t
inbox_mongo_hold_again(inbox_mongo_store_t *ms, const bson_oid_t *message,
    int64_t now, int *held, inbox_error_t *err)
{
    int             found, moved, matched;
    bson_t          doc;
    int64_t         credits;
    bson_oid_t      org;
    bson_iter_t     iter;
    inbox_error_t   undo;
    inbox_status_t  rc;

    *held = 1;

    rc = inbox_mongo_find_one(ms, "messages",
                              BCON_NEW("_id", BCON_OID(message),
                                       "held", BCON_BOOL(false),
                                       "credits", "{",
                                           "$gt", BCON_INT32(0),
                                       "}"),
                              BCON_NEW("org_id", BCON_INT32(1),
                                       "credits", BCON_INT32(1),
                                       "settling", BCON_INT32(1)),
                              &doc, &found, err);

    if (rc != INBOX_OK || !found) {
        bson_destroy(&doc);
        return rc;
    }

    credits = inbox_mongo_get_int(&doc, "credits");
    found = bson_iter_init_find(&iter, &doc, "org_id")
            && BSON_ITER_HOLDS_OID(&iter);
    if (found) {
        bson_oid_copy(bson_iter_oid(&iter), &org);
    }

    if (bson_has_field(&doc, "settling") || !found) {
        bson_destroy(&doc);
        *held = -1;
        return INBOX_OK;
    }

    bson_destroy(&doc);

    rc = inbox_mongo_credits_move(ms, &org, INBOX_LEDGER_HOLD, credits,
                                  message, now, &moved, err);

    if (rc == INBOX_OK && !moved) {
        *held = 0;
        return INBOX_OK;
    }

    if (rc == INBOX_OK) {
        rc = inbox_mongo_update_one(ms, "messages",
                                    BCON_NEW("_id", BCON_OID(message),
                                             "held", BCON_BOOL(false),
                                             "settling", "{",
                                                 "$exists", BCON_BOOL(false),
                                             "}"),
                                    BCON_NEW("$set", "{",
                                        "held", BCON_BOOL(true),
                                    "}",
                                    "$inc", "{",
                                        "holds", BCON_INT32(1),
                                    "}"),
                                    &matched, err);

        if (rc == INBOX_OK && matched) {
            return INBOX_OK;
        }

        if (rc != INBOX_OK) {
            /* the server may have held it all the same: given back
             * through the message if so, once, else directly */
            inbox_mongo_hold_undo(ms, &org, message, (unsigned) credits, 0,
                                  now);
            return rc;
        }

        /* held by another meanwhile: this claim's $inc is not its */
        *held = -1;
    }

    /* held by nobody: the credits back at once (a failure leaves them,
     * as a crash would) */
    if (moved) {
        (void) inbox_mongo_credits_move(ms, &org, INBOX_LEDGER_RELEASE,
                                        credits, message, now, NULL,
                                        &undo);
    }

    return rc;
}


/* A document's _id appended to list (a BSON array being built). */
static inbox_status_t
inbox_mongo_oid_add(void *list, const bson_t *doc, inbox_error_t *err)
{
    char         key[16];
    const char  *k;
    bson_iter_t  iter;
    bson_t      *array = list;

    if (bson_iter_init_find(&iter, doc, "_id") && BSON_ITER_HOLDS_OID(&iter))
    {
        bson_uint32_to_string(bson_count_keys(array), &k, key, sizeof(key));
        BSON_APPEND_OID(array, k, bson_iter_oid(&iter));
    }

    return INBOX_OK;
}


/*
 * The campaign messages held for quiet hours by a rule since changed: an
 * organization's (n 0) or those of n contacts, in its campaigns that may
 * still send (one find).  Those dispatch held are due on any clock (the
 * campaigns' may be a rehearsal's, behind this one), in one update;
 * those a claim put off due now, found by their recipients (an aggregate
 * of the organization's entries due later, few, each with its recipient)
 * and made due while no claim leases them.  Their recipients stay
 * counted waiting until a claim or dispatch, reading the rule as it is
 * now, holds them again or sends them.  A parked entry stays parked.
 */
inbox_status_t
inbox_mongo_outbox_unpark_quiet(inbox_mongo_store_t *ms, const bson_oid_t *org,
    const bson_oid_t *contacts, size_t n, int64_t now, inbox_error_t *err)
{
    char            key[16];
    size_t          i, found;
    bson_t          campaigns, people, held, put_off, ids, batch, in;
    const char     *k;
    inbox_status_t  rc;

    bson_init(&campaigns);
    bson_init(&batch);

    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("find", BCON_UTF8("campaigns"),
                 "filter", "{",
                     "org_id", BCON_OID(org),
                     "status", "{", "$in", "[",
                         BCON_UTF8(inbox_campaign_status_name(
                                       INBOX_CAMPAIGN_SENDING)),
                         BCON_UTF8(inbox_campaign_status_name(
                                       INBOX_CAMPAIGN_PAUSED)),
                     "]", "}",
                 "}",
                 "projection", "{", "_id", BCON_INT32(1), "}",
                 "batchSize", BCON_INT32(INBOX_MONGO_UNPARK_CAMPAIGNS),
                 "singleBatch", BCON_BOOL(true)),
        &batch, err);

    if (rc == INBOX_OK) {
        rc = inbox_mongo_batch_each(&batch, inbox_mongo_oid_add, &campaigns,
                                    err);
    }

    bson_destroy(&batch);

    if (rc != INBOX_OK || bson_empty(&campaigns)) {
        bson_destroy(&campaigns);
        return rc;
    }

    bson_init(&people);
    for (i = 0; i < n; i++) {
        bson_uint32_to_string((uint32_t) i, &k, key, sizeof(key));
        BSON_APPEND_OID(&people, k, &contacts[i]);
    }

    /* held by dispatch */
    bson_init(&held);
    BSON_APPEND_DOCUMENT_BEGIN(&held, "campaign_id", &in);
    BSON_APPEND_ARRAY(&in, "$in", &campaigns);
    bson_append_document_end(&held, &in);
    if (n > 0) {
        BSON_APPEND_DOCUMENT_BEGIN(&held, "contact_id", &in);
        BSON_APPEND_ARRAY(&in, "$in", &people);
        bson_append_document_end(&held, &in);
    }
    BSON_APPEND_UTF8(&held, "state",
                     inbox_recipient_state_name(INBOX_RECIPIENT_WAITING));
    BSON_APPEND_NULL(&held, "message_id");

    rc = inbox_mongo_run_simple(ms,
        BCON_NEW("update", BCON_UTF8("campaign_recipients"),
                 "updates", "[", "{",
                     "q", BCON_DOCUMENT(&held),
                     "u", "{", "$set", "{",
                         "due_at", BCON_DATE_TIME(0),
                     "}", "}",
                     "multi", BCON_BOOL(true),
                 "}", "]",
                 "ordered", BCON_BOOL(true)),
        err);
    bson_destroy(&held);

    /* put off by a claim: their recipients wait, with a message */
    bson_init(&put_off);
    BSON_APPEND_UTF8(&put_off, "recipient.state",
                     inbox_recipient_state_name(INBOX_RECIPIENT_WAITING));
    if (n > 0) {
        BSON_APPEND_DOCUMENT_BEGIN(&put_off, "recipient.contact_id", &in);
        BSON_APPEND_ARRAY(&in, "$in", &people);
        bson_append_document_end(&put_off, &in);
    }

    do {
        found = 0;

        if (rc != INBOX_OK) {
            break;
        }

        bson_init(&batch);
        rc = inbox_mongo_run_cursor(ms,
            BCON_NEW("aggregate", BCON_UTF8("outbox"),
                     "pipeline", "[",
                         "{", "$match", "{",
                             "priority", BCON_INT32(INBOX_OUTBOX_BULK),
                             "due_at", "{",
                                 "$gt", BCON_DATE_TIME(now),
                                 "$lt", BCON_DATE_TIME(INBOX_OUTBOX_PARKED),
                             "}",
                             "campaign_id", "{",
                                 "$in", BCON_ARRAY(&campaigns),
                             "}",
                             "lease_until", BCON_NULL,
                         "}", "}",
                         "{", "$lookup", "{",
                             "from", BCON_UTF8("campaign_recipients"),
                             "localField", BCON_UTF8("message_id"),
                             "foreignField", BCON_UTF8("message_id"),
                             "as", BCON_UTF8("recipient"),
                         "}", "}",
                         "{", "$match", BCON_DOCUMENT(&put_off), "}",
                         "{", "$limit",
                             BCON_INT32(INBOX_MONGO_UNPARK_BATCH), "}",
                         "{", "$project", "{", "_id", BCON_INT32(1), "}", "}",
                     "]",
                     "cursor", "{", "}"),
            &batch, err);

        bson_init(&ids);

        if (rc == INBOX_OK) {
            rc = inbox_mongo_batch_each(&batch, inbox_mongo_oid_add, &ids,
                                        err);
        }

        bson_destroy(&batch);
        found = bson_count_keys(&ids);

        if (rc == INBOX_OK && found > 0) {
            /* made due now, which the next look leaves out */
            rc = inbox_mongo_run_simple(ms,
                BCON_NEW("update", BCON_UTF8("outbox"),
                         "updates", "[", "{",
                             "q", "{",
                                 "_id", "{", "$in", BCON_ARRAY(&ids), "}",
                                 "due_at", "{",
                                     "$gt", BCON_DATE_TIME(now),
                                 "}",
                                 "lease_until", BCON_NULL,
                             "}",
                             "u", "{", "$set", "{",
                                 "due_at", BCON_DATE_TIME(now),
                             "}", "}",
                             "multi", BCON_BOOL(true),
                         "}", "]",
                         "ordered", BCON_BOOL(true)),
                err);
        }

        bson_destroy(&ids);

    } while (found == INBOX_MONGO_UNPARK_BATCH);

    bson_destroy(&put_off);
    bson_destroy(&people);
    bson_destroy(&campaigns);

    return rc;
}
