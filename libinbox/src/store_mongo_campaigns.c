/*
 * The MongoDB backend: campaigns and polls (campaign.h, poll.h, quiet.h),
 * without transactions (see store_mongo.h).
 *
 * Documents:
 *   campaigns            a campaign as made (its text, a poll's question
 *                        and options, the audience's tags and their
 *                        keys, its images), its status, pause reason and
 *                        times, and its counts: "counts" (its recipients
 *                        by state, a due one counted queued, how many
 *                        replied, and how many were opted out at the
 *                        send: "excluded", set by send's fix; one sent
 *                        before has none, and all its suppressed are
 *                        read as excluded) and a poll's "tally" (its
 *                        answers by option)
 *   campaign_recipients  one per contact of the audience, made by send:
 *                        its state, due time, message, reply and answer
 * A campaign's message names its campaign (messages.campaign_id), and
 * its recipient's state follows the message's status
 * (inbox_mongo_recipient_delivery, called where the status moves).
 *
 * The counts are kept as SQLite's triggers keep its columns, so that the
 * sender's look at the campaigns every 300 ms reads them alone, not
 * every recipient of each: send's fix sets them from its recipients
 * grouped once, and every write that moves a recipient (a compare-and-set
 * on its state, replied_at or answered_at) then moves them by $inc, by
 * what it moved: an update's count of the recipients it changed, or the
 * recipient as it was before, which a findAndModify answers (the state a
 * status moves it from, the answer a newer one replaces).  Two moves at
 * once each move them once.  Without a transaction, a process that dies
 * between a recipient's write and its campaign's leaves that one move
 * uncounted (a retry finds the recipient moved already and counts
 * nothing); and between two such writes a reader may see a count one
 * off, which the second puts right.  A campaign made before it kept
 * counts has no "counts": none is moved ($inc matches only a campaign
 * that has them), and it is read with its recipients grouped, as all
 * were before.
 *
 * What must not happen twice is a compare-and-set on one document: a
 * campaign's status moves only from the status it was read in, and a
 * recipient's state likewise, so two senders never hand one recipient
 * over twice; the hold is a reply's (store_mongo_billing.c).  A person's
 * move that misses (the sender paused the campaign for credits, or
 * finished it, meanwhile) reads the campaign again and is decided again
 * by inbox_campaign_act: a repeat then is a success, a move it refuses
 * a conflict.
 *
 * send writes the recipients (one aggregate of the contacts ending in
 * $merge, on the server, matched on the unique (campaign_id, contact_id)
 * so that a repeated send adds nobody twice), then the status.  A crash
 * between the two leaves a draft with recipients, which a repeated send
 * keeps.  cancel writes the status, then the recipients not handed over:
 * a crash between them leaves a cancelled campaign with recipients
 * counted as queued that nothing sends.  resume and cancel make the
 * outbox entries that claims parked while the campaign was paused due
 * again (inbox_mongo_outbox_unpark) before the status moves, so that a
 * failure leaves them to be parked again, and once more after it, for
 * those a claim parked in between.  A person's pause, after its move,
 * parks what the sender does not hold of the campaign and gives back
 * each one's hold (inbox_mongo_outbox_park_campaign), as the refusal
 * of its number's account does (inbox_mongo_campaign_carrier_refused);
 * a pause repeated parks again, finishing what a failure or a crash
 * after the move left.
 *
 * Dispatch hands a recipient over as: the claim (its state queued, its
 * message's id, sent_at), the campaign's status read again (a claim
 * made after it was paused or cancelled is undone: the recipient due
 * again, or cancelled, as the cancel that wrote its status before the
 * recipients missed it), then a reply's hold and writes
 * (inbox_mongo_reply_hold: the message, the thread, the events, the
 * outbox entry, of priority INBOX_OUTBOX_BULK; a write that fails after
 * the hold gives it back).  A hold that billing refuses (spent or
 * switched off since it was read) gives the recipient back, due again,
 * and pauses the campaign.  A crash, or a failed write, after the claim
 * leaves the recipient queued with no message, or one never sent: a
 * message is never sent twice.  One with no message stored is found
 * once the rest of its campaign has gone and is due again
 * (inbox_mongo_claims_lost); one stored but never sent stays so, at
 * worst once not at all.
 */
#include <stdlib.h>
#include <string.h>
#include <inbox/phone.h>
#include <inbox/quiet.h>
#include "store_mongo.h"


/* How many times a person's action reads a campaign the sender keeps
 * moving before it answers that it changed. */
#define INBOX_MONGO_CAMPAIGN_ACT_ATTEMPTS  5

/*
 * A send fixes a draft's recipients holding its lease (fixing_by), for
 * at most FIX_LEASE_MS; the server stops the fix's own work after
 * FIX_MAX_TIME_MS, well within it, so that no fix of a send given up
 * still writes while the next one holds the lease.
 */
#define INBOX_MONGO_FIX_LEASE_MS     120000
#define INBOX_MONGO_FIX_MAX_TIME_MS  60000

/*
 * A claim whose message is not stored this long after it was made lost
 * it (inbox_mongo_claims_lost): a dispatch's writes for one recipient
 * take a few socket timeouts at most.  Repaired at most MAX a look.
 */
#define INBOX_MONGO_CLAIM_LOST_MS     (10 * 60 * 1000LL)
#define INBOX_MONGO_CLAIMS_LOST_MAX   100

/* What dispatch reads of an organization. */
typedef struct {
    inbox_settings_t  settings;          /* its zone and quiet hours */
    int               billing_active;
    inbox_plan_t      plan;              /* who pays for a message */
    int64_t           balance;
    char              first[INBOX_PHONE_MAX];   /* its first number */
} inbox_mongo_sender_t;

/* A due recipient, as dispatch reads it with its contact. */
typedef struct {
    bson_oid_t               id;
    bson_oid_t               contact;
    bson_oid_t               conversation;
    int                      known;          /* its contact was found */
    int                      opted_out;
    inbox_recipient_state_t  state;
    char                     timezone[INBOX_TIMEZONE_MAX];
    char                     phone[INBOX_PHONE_MAX];
    char                     kept[INBOX_PHONE_MAX];  /* its thread's,
                                                      * if still ours */
} inbox_mongo_due_t;

/* A sending campaign in a dispatch's turn. */
typedef struct {
    bson_oid_t        org;
    inbox_campaign_t  campaign;
    int               more;       /* took its share: more may be due */
} inbox_mongo_sending_t;


static inbox_status_t inbox_mongo_campaign_told(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const inbox_campaign_t *campaign,
    inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t inbox_mongo_campaign_ids(const char *org_id,
    const char *campaign_id, bson_oid_t *org, bson_oid_t *id,
    inbox_error_t *err);
static void inbox_mongo_campaign_content(bson_t *doc,
    const inbox_campaign_new_t *c, const char *name, const char *body,
    unsigned segments, unsigned credits);
static void inbox_mongo_campaign_edited(const bson_t *was,
    const bson_t *set, bson_t *now);
static int inbox_mongo_campaign_parse(const bson_t *doc,
    inbox_campaign_t *c);
static int inbox_mongo_campaign_read(const bson_t *doc, inbox_campaign_t *c,
    bson_t *uncounted);
static inbox_status_t inbox_mongo_campaign_counts(inbox_mongo_store_t *ms,
    inbox_campaign_t *items, size_t n, bson_t *uncounted,
    inbox_error_t *err);
static inbox_status_t inbox_mongo_audience_no_mms(inbox_mongo_store_t *ms,
    const bson_t *opted_out, int64_t recipients, int64_t suppressed,
    int64_t *no_mms, inbox_error_t *err);
static inbox_status_t inbox_mongo_contacts_count(inbox_mongo_store_t *ms,
    const bson_t *match, int64_t *n, inbox_error_t *err);
static inbox_status_t inbox_mongo_campaign_fix_counts(
    inbox_mongo_store_t *ms, const bson_oid_t *id, inbox_error_t *err);
static inbox_status_t inbox_mongo_campaign_move(inbox_mongo_store_t *ms,
    const inbox_campaign_t *c, inbox_campaign_status_t to,
    inbox_pause_reason_t why, inbox_cancel_reason_t cancelled,
    const char *cancelled_message, const bson_oid_t *fixing, int64_t now,
    int *moved, inbox_error_t *err);
static inbox_status_t inbox_mongo_campaign_fix_claim(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const inbox_campaign_t *c, int64_t now,
    bson_oid_t *token, int *claimed, inbox_error_t *err);
static inbox_status_t inbox_mongo_campaign_cancel_left(
    inbox_mongo_store_t *ms, const bson_oid_t *id, inbox_error_t *err);
static inbox_status_t inbox_mongo_campaign_fix(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const inbox_campaign_t *c, int64_t due_at,
    inbox_error_t *err);
static inbox_status_t inbox_mongo_campaign_send(inbox_mongo_store_t *ms,
    const bson_oid_t *org, inbox_campaign_t *c, int64_t now,
    const char *media_base, size_t share, size_t *budget,
    inbox_campaign_dispatch_t *result, inbox_event_list_t *events,
    int *more, inbox_error_t *err);
static inbox_status_t inbox_mongo_campaign_left(inbox_mongo_store_t *ms,
    const bson_oid_t *id, int64_t now, int *left, inbox_error_t *err);
static inbox_status_t inbox_mongo_claims_lost(inbox_mongo_store_t *ms,
    const bson_oid_t *id, int64_t now, size_t *repaired,
    inbox_error_t *err);
static inbox_status_t inbox_mongo_campaign_ahead(inbox_mongo_store_t *ms,
    const bson_oid_t *id, int64_t now, size_t *ahead, inbox_error_t *err);
static inbox_status_t inbox_mongo_campaign_number(inbox_mongo_store_t *ms,
    const bson_oid_t *org, inbox_error_t *err);
static inbox_status_t inbox_mongo_sender_read(inbox_mongo_store_t *ms,
    const bson_oid_t *org, inbox_mongo_sender_t *s, inbox_error_t *err);
static inbox_status_t inbox_mongo_due_read(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const bson_oid_t *id, int64_t now, size_t max,
    inbox_mongo_due_t *due, size_t *n, inbox_error_t *err);
static void inbox_mongo_due_kept(const bson_t *doc, const bson_oid_t *org,
    char kept[INBOX_PHONE_MAX]);
static inbox_status_t inbox_mongo_hand_over(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const inbox_campaign_t *c,
    const inbox_campaign_message_t *msg, const inbox_mongo_due_t *d,
    inbox_mongo_sender_t *s, int64_t now,
    int *handed, int *stopped, inbox_pause_reason_t *why,
    inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t inbox_mongo_claim_back(inbox_mongo_store_t *ms,
    const bson_oid_t *campaign, const inbox_mongo_due_t *d,
    const bson_oid_t *message, inbox_recipient_state_t to,
    inbox_error_t *err);
static inbox_status_t inbox_mongo_recipient_set(inbox_mongo_store_t *ms,
    const bson_oid_t *campaign, const bson_oid_t *id,
    inbox_recipient_state_t from, inbox_recipient_state_t to,
    int64_t due_at, int *moved, inbox_error_t *err);
static const char *inbox_mongo_count_path(inbox_recipient_state_t state,
    char *path, size_t size);
static inbox_status_t inbox_mongo_campaign_replied(inbox_mongo_store_t *ms,
    const bson_oid_t *campaign, int64_t at, inbox_error_t *err);
static inbox_status_t inbox_mongo_counts_add(inbox_mongo_store_t *ms,
    const bson_oid_t *campaign, const char *path, int64_t n,
    const char *path2, int64_t n2, inbox_error_t *err);
static inbox_status_t inbox_mongo_counts_move(inbox_mongo_store_t *ms,
    const bson_oid_t *campaign, inbox_recipient_state_t from,
    inbox_recipient_state_t to, int64_t n, inbox_error_t *err);
static inbox_status_t inbox_mongo_counts_moved(inbox_mongo_store_t *ms,
    const bson_t *before, int found, inbox_recipient_state_t to,
    inbox_error_t *err);
static inbox_status_t inbox_mongo_recipients_move(inbox_mongo_store_t *ms,
    const bson_oid_t *campaign, const bson_t *messages,
    inbox_recipient_state_t from, inbox_recipient_state_t to,
    inbox_error_t *err);


/* create, read, list */

inbox_status_t
inbox_mongo_campaign_create(inbox_store_t *store, const char *org_id,
    const inbox_campaign_new_t *c, const char *name, const char *body,
    unsigned segments, unsigned credits, int64_t now,
    inbox_campaign_t *campaign, inbox_event_list_t *events,
    inbox_error_t *err)
{
    bson_t                doc, item;
    bson_oid_t            org, id;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_org_check(ms, org_id, &org, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_media_attach(ms, &org, c->media, c->media_count, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    inbox_mongo_new_id(ms, &id);

    bson_init(&doc);
    BSON_APPEND_OID(&doc, "_id", &id);
    BSON_APPEND_OID(&doc, "org_id", &org);
    BSON_APPEND_UTF8(&doc, "kind", inbox_campaign_kind_name(c->kind));
    inbox_mongo_campaign_content(&doc, c, name, body, segments, credits);
    BSON_APPEND_UTF8(&doc, "status",
                     inbox_campaign_status_name(INBOX_CAMPAIGN_DRAFT));
    BSON_APPEND_NULL(&doc, "paused_reason");
    BSON_APPEND_NULL(&doc, "cancelled_reason");
    BSON_APPEND_NULL(&doc, "cancelled_message");
    BSON_APPEND_DATE_TIME(&doc, "send_at", c->send_at);
    BSON_APPEND_INT64(&doc, "revision", 0);
    BSON_APPEND_DATE_TIME(&doc, "created_at", now);
    BSON_APPEND_NULL(&doc, "started_at");
    BSON_APPEND_NULL(&doc, "finished_at");
    BSON_APPEND_NULL(&doc, "handed_at");

    /* the counts its recipients' moves keep (none yet: a field absent is
     * 0), which mark it as a campaign that keeps them */
    BSON_APPEND_DOCUMENT_BEGIN(&doc, "counts", &item);
    bson_append_document_end(&doc, &item);

    rc = inbox_mongo_run_simple(ms,
        BCON_NEW("insert", BCON_UTF8("campaigns"),
                 "documents", "[", BCON_DOCUMENT(&doc), "]",
                 "ordered", BCON_BOOL(true)),
        err);

    /* attached for nothing, unless the insert was applied after all: the
     * purge looks before it removes one */
    if (rc != INBOX_OK) {
        (void) inbox_mongo_media_release(ms, &org, c->media, c->media_count,
                                         NULL, 0, NULL);
    }

    /* as stored; a draft has no recipients to count */
    if (rc == INBOX_OK && inbox_mongo_campaign_parse(&doc, campaign) != 0) {
        rc = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    bson_destroy(&doc);

    if (rc == INBOX_OK) {
        rc = inbox_mongo_campaign_told(ms, &org, campaign, events, err);
    }

    return rc;
}


/* A person's change to campaign (as it is after it) told every browser
 * of its organization: campaign.updated, appended once the change is
 * written (inbox_mongo_events_append: the organization's seq, then the
 * event), as every event of this backend is. */
static inbox_status_t
inbox_mongo_campaign_told(inbox_mongo_store_t *ms, const bson_oid_t *org,
    const inbox_campaign_t *campaign, inbox_event_list_t *events,
    inbox_error_t *err)
{
    inbox_change_t  change;

    inbox_change_campaign_updated(&change, campaign);

    /* frees the change */
    return inbox_mongo_events_append(ms, org, &change, events, err);
}


/* The fields of a campaign's document that c makes: its name, text,
 * question and options, audience and images, and the text's segments
 * and credits (create's and an edit's alike). */
static void
inbox_mongo_campaign_content(bson_t *doc, const inbox_campaign_new_t *c,
    const char *name, const char *body, unsigned segments, unsigned credits)
{
    int          all;
    char         key[24], tag[INBOX_TAG_KEY_MAX];
    bson_t       arr, item;
    size_t       i, len;
    bson_oid_t   upload;
    const char  *text;

    all = c->audience_all || c->tags == NULL;

    BSON_APPEND_UTF8(doc, "name", name);
    BSON_APPEND_UTF8(doc, "body", body);

    if (c->kind == INBOX_CAMPAIGN_KIND_POLL) {
        BSON_APPEND_UTF8(doc, "question", c->question);
    } else {
        BSON_APPEND_NULL(doc, "question");
    }

    /* a poll's options as its text shows them: trimmed */
    BSON_APPEND_ARRAY_BEGIN(doc, "options", &arr);
    for (i = 0; c->kind == INBOX_CAMPAIGN_KIND_POLL && i < c->option_count;
         i++)
    {
        snprintf(key, sizeof(key), "%zu", i);
        len = strlen(c->options[i]);
        text = inbox_poll_trim(c->options[i], &len);
        bson_append_utf8(&arr, key, -1, text, (int) len);
    }
    bson_append_array_end(doc, &arr);

    BSON_APPEND_BOOL(doc, "audience_all", c->audience_all != 0);

    /* the tags as given, and their keys, which contacts' tag_keys match */
    BSON_APPEND_ARRAY_BEGIN(doc, "tags", &arr);
    for (i = 0; !all && i < c->tags->count; i++) {
        snprintf(key, sizeof(key), "%zu", i);
        BSON_APPEND_UTF8(&arr, key, c->tags->items[i]);
    }
    bson_append_array_end(doc, &arr);

    BSON_APPEND_ARRAY_BEGIN(doc, "tag_keys", &arr);
    for (i = 0; !all && i < c->tags->count; i++) {
        snprintf(key, sizeof(key), "%zu", i);
        inbox_tag_key(c->tags->items[i], tag);
        BSON_APPEND_UTF8(&arr, key, tag);
    }
    bson_append_array_end(doc, &arr);

    BSON_APPEND_ARRAY_BEGIN(doc, "media", &arr);
    for (i = 0; i < c->media_count; i++) {
        snprintf(key, sizeof(key), "%zu", i);
        BSON_APPEND_DOCUMENT_BEGIN(&arr, key, &item);
        BSON_APPEND_UTF8(&item, "url", c->media[i].url);
        BSON_APPEND_UTF8(&item, "content_type", c->media[i].content_type);
        BSON_APPEND_UTF8(&item, "file", c->media[i].file);
        BSON_APPEND_INT64(&item, "bytes", c->media[i].bytes);

        /* the upload it is, which an edit names again; none for one
         * kept from a document of before */
        if (inbox_mongo_parse_id(c->media[i].upload_id, &upload) == 0) {
            BSON_APPEND_OID(&item, "upload_id", &upload);
        }

        bson_append_document_end(&arr, &item);
    }
    bson_append_array_end(doc, &arr);

    BSON_APPEND_INT32(doc, "segments", (int32_t) segments);
    BSON_APPEND_INT32(doc, "credits", (int32_t) credits);
}


/*
 * One findAndModify that matches only a draft of c's kind at the revision
 * read, so that a send or another edit made first wins; when none
 * matched, the campaign read again says why (none, no longer a draft, or
 * edited since).  A draft made before revisions were kept has none: 0.
 * It answers the draft as it was, whose images c no longer has are
 * released after it (a crash between leaves them attached, kept); the
 * draft as it is now is that one with c's fields.  An edit refused
 * releases what its attach attached (those the draft has too included:
 * the purge finds the draft naming them).
 */
inbox_status_t
inbox_mongo_campaign_update(inbox_store_t *store, const char *org_id,
    const char *campaign_id, int64_t revision, const inbox_campaign_new_t *c,
    const char *name, const char *body, unsigned segments, unsigned credits,
    inbox_campaign_t *campaign, inbox_event_list_t *events,
    inbox_error_t *err)
{
    int                   found;
    bson_t                set, doc, query, in, now;
    bson_oid_t            org, id;
    inbox_status_t        rc;
    inbox_campaign_t      was;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    found = 0;

    rc = inbox_mongo_campaign_ids(org_id, campaign_id, &org, &id, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_media_attach(ms, &org, c->media, c->media_count, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    bson_init(&set);
    inbox_mongo_campaign_content(&set, c, name, body, segments, credits);
    BSON_APPEND_DATE_TIME(&set, "send_at", c->send_at);

    bson_init(&query);
    BSON_APPEND_OID(&query, "_id", &id);
    BSON_APPEND_OID(&query, "org_id", &org);
    BSON_APPEND_UTF8(&query, "kind", inbox_campaign_kind_name(c->kind));
    BSON_APPEND_UTF8(&query, "status",
                     inbox_campaign_status_name(INBOX_CAMPAIGN_DRAFT));

    if (revision == 0) {
        BSON_APPEND_DOCUMENT_BEGIN(&query, "revision", &in);
        BCON_APPEND(&in, "$in", "[", BCON_INT64(0), BCON_NULL, "]");
        bson_append_document_end(&query, &in);

    } else {
        BSON_APPEND_INT64(&query, "revision", revision);
    }

    rc = inbox_mongo_run_find_and_modify(ms,
        BCON_NEW("findAndModify", BCON_UTF8("campaigns"),
                 "query", BCON_DOCUMENT(&query),
                 "update", "{",
                     "$set", BCON_DOCUMENT(&set),
                     "$inc", "{", "revision", BCON_INT64(1), "}",
                 "}",
                 "new", BCON_BOOL(false)),
        &doc, &found, err);

    bson_destroy(&query);

    if (rc == INBOX_OK && found) {
        memset(&was, 0, sizeof(inbox_campaign_t));
        inbox_mongo_campaign_edited(&doc, &set, &now);

        /* a draft has no recipients to count */
        if (inbox_mongo_campaign_parse(&now, campaign) != 0
            || inbox_mongo_campaign_parse(&doc, &was) != 0)
        {
            rc = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");

        } else {
            (void) inbox_mongo_media_release(ms, &org, was.media,
                                             was.media_count, c->media,
                                             c->media_count, NULL);
        }

        inbox_campaign_free(&was);
        bson_destroy(&now);

    } else if (rc == INBOX_OK) {
        memset(&was, 0, sizeof(inbox_campaign_t));
        rc = inbox_campaign_found(inbox_mongo_campaign_load(ms, &org, &id,
                                                            &was, err),
                                  &was, c->kind, err);

        if (rc == INBOX_OK) {
            rc = inbox_campaign_editable(was.status, err);

            /* a draft still: another edit came first */
            if (rc == INBOX_OK) {
                rc = inbox_campaign_edited_since(err);
            }
        }

        inbox_campaign_free(&was);
    }

    bson_destroy(&set);
    bson_destroy(&doc);

    if (rc != INBOX_OK && !found) {
        (void) inbox_mongo_media_release(ms, &org, c->media, c->media_count,
                                         NULL, 0, NULL);
    }

    if (rc == INBOX_OK) {
        rc = inbox_mongo_campaign_told(ms, &org, campaign, events, err);
    }

    if (rc != INBOX_OK) {
        inbox_campaign_free(campaign);
    }

    return rc;
}


/* Into now (made here), the draft was with the fields set sets and its
 * revision one more, as the edit's $set and $inc leave it. */
static void
inbox_mongo_campaign_edited(const bson_t *was, const bson_t *set,
    bson_t *now)
{
    const char   *key;
    bson_iter_t   iter;

    bson_init(now);

    if (bson_iter_init(&iter, was)) {
        while (bson_iter_next(&iter)) {
            key = bson_iter_key(&iter);

            if (strcmp(key, "revision") != 0 && !bson_has_field(set, key)) {
                bson_append_iter(now, key, -1, &iter);
            }
        }
    }

    bson_concat(now, set);
    BSON_APPEND_INT64(now, "revision",
                      inbox_mongo_get_int(was, "revision") + 1);
}


/*
 * A findAndModify that removes the campaign only while it is a draft or
 * cancelled before any of its messages was handed over
 * (inbox_campaign_deletable: handed_at null, which the first hand-over
 * sets before it reads the campaign's status again; one of before,
 * without it: started_at null, or cancelled for its text as its time
 * came) and no send holds
 * its lease (inbox_mongo_campaign_fix_claim): a send or start that
 * comes first makes the delete miss, one that comes after finds none.
 * Then its recipients (what a send that failed after its fix left, or
 * those a cancelled one's send fixed, none handed a message), and the
 * images released (a crash before leaves those: recipients of no
 * campaign, which nothing reads, and uploads kept, as an edit's crash
 * does).  None removed: the campaign read again says why (none, not
 * deletable, or being sent).
 */
inbox_status_t
inbox_mongo_campaign_delete(inbox_store_t *store, const char *org_id,
    const char *campaign_id, inbox_campaign_kind_t kind, int64_t now,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int                   found;
    bson_t                doc;
    bson_oid_t            org, id;
    inbox_change_t        change;
    inbox_status_t        rc;
    inbox_campaign_t      was;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    found = 0;
    memset(&was, 0, sizeof(inbox_campaign_t));

    rc = inbox_mongo_campaign_ids(org_id, campaign_id, &org, &id, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_run_find_and_modify(ms,
        BCON_NEW("findAndModify", BCON_UTF8("campaigns"),
                 "query", "{",
                     "_id", BCON_OID(&id),
                     "org_id", BCON_OID(&org),
                     "kind", BCON_UTF8(inbox_campaign_kind_name(kind)),
                     "$or", "[",
                         "{", "status", BCON_UTF8(
                                  inbox_campaign_status_name(
                                      INBOX_CAMPAIGN_DRAFT)), "}",
                         "{", "status", BCON_UTF8(
                                  inbox_campaign_status_name(
                                      INBOX_CAMPAIGN_CANCELLED)),
                              "started_at", BCON_NULL, "}",
                         "{", "status", BCON_UTF8(
                                  inbox_campaign_status_name(
                                      INBOX_CAMPAIGN_CANCELLED)),
                              "cancelled_reason", BCON_UTF8(
                                  inbox_cancel_reason_name(
                                      INBOX_CANCEL_TEXT_REFUSED)), "}",
                         "{", "status", BCON_UTF8(
                                  inbox_campaign_status_name(
                                      INBOX_CAMPAIGN_CANCELLED)),
                              "handed_at", "{",
                                  "$type", BCON_UTF8("null"), "}", "}",
                     "]",
                     "fixing_until", "{", "$not", "{",
                         "$gt", BCON_DATE_TIME(now),
                     "}", "}",
                 "}",
                 "remove", BCON_BOOL(true)),
        &doc, &found, err);

    if (rc == INBOX_OK && found) {
        if (inbox_mongo_campaign_parse(&doc, &was) != 0) {
            rc = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        }

        if (rc == INBOX_OK) {
            rc = inbox_mongo_delete(ms, "campaign_recipients",
                                    BCON_NEW("campaign_id", BCON_OID(&id)),
                                    NULL, err);
        }

        if (rc == INBOX_OK) {
            (void) inbox_mongo_media_release(ms, &org, was.media,
                                             was.media_count, NULL, 0,
                                             NULL);

            /* every browser of the organization drops its card; frees
             * the change */
            inbox_change_campaign_deleted(&change, campaign_id, kind);
            rc = inbox_mongo_events_append(ms, &org, &change, events, err);
        }

    } else if (rc == INBOX_OK) {
        rc = inbox_campaign_found(inbox_mongo_campaign_load(ms, &org, &id,
                                                            &was, err),
                                  &was, kind, err);

        if (rc == INBOX_OK) {
            rc = inbox_campaign_deletable(&was, err);

            /* deletable, yet held: a send is fixing its recipients, of
             * a draft still or of one cancelled since the send began */
            if (rc == INBOX_OK && was.status == INBOX_CAMPAIGN_DRAFT) {
                rc = inbox_error_set(err, INBOX_ERR_CONFLICT,
                                     "This draft is being sent; it can be "
                                     "cancelled once it is.");

            } else if (rc == INBOX_OK) {
                rc = inbox_error_set(err, INBOX_ERR_CONFLICT,
                                     "This campaign was cancelled while "
                                     "its send was fixing its recipients; "
                                     "it can be deleted once that send "
                                     "stops, within two minutes.");
            }
        }
    }

    inbox_campaign_free(&was);
    bson_destroy(&doc);

    return rc;
}


inbox_status_t
inbox_mongo_campaign_get(inbox_store_t *store, const char *org_id,
    const char *campaign_id, inbox_campaign_t *campaign, inbox_error_t *err)
{
    bson_oid_t            org, id;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    memset(campaign, 0, sizeof(inbox_campaign_t));

    rc = inbox_mongo_campaign_ids(org_id, campaign_id, &org, &id, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    return inbox_mongo_campaign_load(ms, &org, &id, campaign, err);
}


/* Newest first by (created_at, _id), keyset paginated as the ledger is,
 * with the counts they keep (those of before grouped). */
inbox_status_t
inbox_mongo_campaigns_list(inbox_store_t *store, const char *org_id,
    inbox_campaign_kind_t kind, const char *cursor, unsigned limit,
    inbox_campaign_page_t *page, inbox_error_t *err)
{
    int                       keyset;
    bson_t                    filter, batch, doc, uncounted;
    inbox_mongo_page_query_t  page_query;
    int64_t                   cursor_ms;
    bson_oid_t                org, cursor_oid;
    bson_iter_t               iter;
    inbox_status_t            rc;
    inbox_campaign_t         *last;
    inbox_mongo_store_t      *ms = (inbox_mongo_store_t *) store;

    keyset = cursor != NULL && cursor[0] != '\0';
    if (keyset) {
        rc = inbox_mongo_cursor_parse(cursor, &cursor_ms, &cursor_oid, err);
        if (rc != INBOX_OK) {
            return rc;
        }
    }

    rc = inbox_mongo_ids(org_id, &org, NULL, NULL, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    bson_init(&filter);
    BSON_APPEND_OID(&filter, "org_id", &org);
    BSON_APPEND_UTF8(&filter, "kind", inbox_campaign_kind_name(kind));

    page_query = (inbox_mongo_page_query_t) {
        .collection = "campaigns", .time_field = "created_at",
        .after = keyset ? &cursor_oid : NULL,
        .after_ms = keyset ? cursor_ms : 0, .limit = limit
    };

    rc = inbox_mongo_find_page(ms, &page_query, &filter, &batch, err);
    if (rc != INBOX_OK) {
        bson_destroy(&batch);
        return rc;
    }

    page->items = calloc(limit, sizeof(inbox_campaign_t));
    if (page->items == NULL) {
        bson_destroy(&batch);
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    bson_init(&uncounted);
    bson_iter_init(&iter, &batch);

    while (rc == INBOX_OK && inbox_mongo_next_doc(&iter, &doc)) {
        if (page->count == limit) {
            last = &page->items[limit - 1];
            inbox_mongo_cursor_make(last->created_at, last->id,
                                    page->next_cursor);
            break;
        }

        if (inbox_mongo_campaign_read(&doc, &page->items[page->count++],
                                      &uncounted) != 0)
        {
            rc = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        }
    }

    bson_destroy(&batch);

    if (rc == INBOX_OK) {
        rc = inbox_mongo_campaign_counts(ms, page->items, page->count,
                                         &uncounted, err);
    } else {
        bson_destroy(&uncounted);
    }

    if (rc != INBOX_OK) {
        inbox_campaign_page_free(page);
    }

    return rc;
}


/* the sender's progress */


/* The oldest first by _id (ObjectIds grow with time), with the counts
 * they keep: no recipient read, but those of a campaign made before it
 * kept them, grouped.  Each part of the $or from its index (finished_at
 * is set only by done and cancelled, answered_at only by a poll's
 * answers, replied_at only by replies, inbox_mongo_campaign_replied). */
inbox_status_t
inbox_mongo_campaigns_active(inbox_store_t *store, int64_t since,
    const char *cursor, inbox_campaign_page_t *page, inbox_error_t *err)
{
    bson_t                doc, batch, uncounted;
    bson_oid_t            after;
    bson_t               *command;
    bson_iter_t           iter;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    /* the first page: after the least ObjectId there is */
    memset(&after, 0, sizeof(after));
    if (cursor[0] != '\0' && inbox_mongo_parse_id(cursor, &after) != 0) {
        return inbox_error_cursor(err);
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    command = BCON_NEW("find", BCON_UTF8("campaigns"),
                       "filter", "{",
                           "_id", "{", "$gt", BCON_OID(&after), "}",
                           "$or", "[",
                           "{", "status", "{", "$in", "[",
                               BCON_UTF8("scheduled"), BCON_UTF8("sending"),
                               BCON_UTF8("paused"),
                           "]", "}", "}",
                           "{", "finished_at", "{",
                               "$gte", BCON_DATE_TIME(since),
                           "}", "}",
                           "{", "answered_at", "{",
                               "$gte", BCON_DATE_TIME(since),
                           "}", "}",
                           "{", "replied_at", "{",
                               "$gte", BCON_DATE_TIME(since),
                           "}", "}",
                       "]", "}",
                       "sort", "{", "_id", BCON_INT32(1), "}",
                       "limit", BCON_INT32(INBOX_CAMPAIGNS_ACTIVE_MAX),
                       "batchSize", BCON_INT32(INBOX_CAMPAIGNS_ACTIVE_MAX),
                       "singleBatch", BCON_BOOL(true));

    rc = inbox_mongo_run_cursor(ms, command, &batch, err);
    if (rc != INBOX_OK) {
        bson_destroy(&batch);
        return rc;
    }

    page->items = calloc(INBOX_CAMPAIGNS_ACTIVE_MAX,
                         sizeof(inbox_campaign_t));
    if (page->items == NULL) {
        bson_destroy(&batch);
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    bson_init(&uncounted);
    bson_iter_init(&iter, &batch);

    while (rc == INBOX_OK && page->count < INBOX_CAMPAIGNS_ACTIVE_MAX
           && inbox_mongo_next_doc(&iter, &doc))
    {
        if (inbox_mongo_campaign_read(&doc, &page->items[page->count++],
                                      &uncounted) != 0)
        {
            rc = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        }
    }

    bson_destroy(&batch);

    if (rc == INBOX_OK) {
        rc = inbox_mongo_campaign_counts(ms, page->items, page->count,
                                         &uncounted, err);
    } else {
        bson_destroy(&uncounted);
    }

    /* a full page: there may be more after its last */
    if (rc == INBOX_OK && page->count == INBOX_CAMPAIGNS_ACTIVE_MAX) {
        snprintf(page->next_cursor, sizeof(page->next_cursor), "%s",
                 page->items[page->count - 1].id);
    }

    if (rc != INBOX_OK) {
        inbox_campaign_page_free(page);
        memset(page, 0, sizeof(inbox_campaign_page_t));
    }

    return rc;
}


/* The campaign read, then its event appended (inbox_mongo_events_append:
 * the organization's seq, then the event); without a transaction the
 * frame shows the counts as they were read just before. */
inbox_status_t
inbox_mongo_campaign_progress(inbox_store_t *store, const char *org_id,
    const char *campaign_id, int64_t now, inbox_campaign_t *campaign,
    inbox_event_list_t *events, inbox_error_t *err)
{
    bson_oid_t            org, id;
    inbox_change_t        change;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    rc = inbox_mongo_campaign_ids(org_id, campaign_id, &org, &id, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_campaign_load(ms, &org, &id, campaign, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    inbox_change_campaign(&change, campaign);

    return inbox_mongo_events_append(ms, &org, &change, events, err);
}


/* send, pause, resume, cancel */

inbox_status_t
inbox_mongo_campaign_act(inbox_store_t *store, const char *org_id,
    const char *campaign_id, inbox_campaign_action_t action, int64_t now,
    inbox_campaign_t *campaign, inbox_event_list_t *events,
    inbox_error_t *err)
{
    int                       changed, moved, unpark, attempt, claimed;
    int                       busy, park;
    bson_oid_t                org, id, token;
    inbox_status_t            rc;
    inbox_pause_reason_t      why;
    inbox_cancel_reason_t     cancelled;
    inbox_mongo_store_t      *ms = (inbox_mongo_store_t *) store;
    inbox_campaign_status_t   to;

    busy = 0;
    changed = 0;
    memset(&token, 0, sizeof(token));

    rc = inbox_mongo_campaign_ids(org_id, campaign_id, &org, &id, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    unpark = action == INBOX_CAMPAIGN_RESUME
             || action == INBOX_CAMPAIGN_CANCEL;
    park = action == INBOX_CAMPAIGN_PAUSE;
    moved = 0;

    /* the move is decided on the status read and written only from it:
     * when the sender moved the campaign meanwhile (paused it for
     * credits, finished it) it is read and decided again */
    for (attempt = 0; !moved && attempt < INBOX_MONGO_CAMPAIGN_ACT_ATTEMPTS;
         attempt++)
    {
        if (attempt > 0) {
            inbox_campaign_free(campaign);
        }

        rc = inbox_mongo_campaign_load(ms, &org, &id, campaign, err);
        if (rc != INBOX_OK) {
            return rc;
        }

        to = campaign->status;
        why = campaign->paused_reason;
        cancelled = campaign->cancelled_reason;

        rc = inbox_campaign_act(action, campaign->send_at, now, &to, &why,
                                &cancelled, &changed, err);
        if (rc != INBOX_OK || (!changed && !unpark && !park)) {
            /* a repeat answers the campaign as it is */
            goto done;
        }

        if (!changed) {
            /* a repeated pause, resume or cancel finishes what one that
             * failed after its move left (no transaction spans the
             * steps): the entries a pause did not park, those parked
             * meanwhile, a cancel's recipients left */
            moved = 1;
            break;
        }

        if (action == INBOX_CAMPAIGN_SEND) {
            /* a draft saved before a rule of its text existed is refused
             * as a new one would be, before anyone is fixed as
             * recipient.  A resume is not judged: it goes on with a send
             * decided before, often received by part of its audience,
             * and only one sent before this check can hold such a text */
            rc = inbox_campaign_sendable(campaign, err);
            if (rc != INBOX_OK) {
                goto done;
            }

            /* with no number its recipients could never be sent to:
             * refused as a reply is, rather than sending for ever */
            rc = inbox_mongo_campaign_number(ms, &org, err);
            if (rc != INBOX_OK) {
                goto done;
            }

            /* alone, from the draft as read (a send before may have
             * left recipients, an edit may come) */
            rc = inbox_mongo_campaign_fix_claim(ms, &org, campaign, now,
                                                &token, &claimed, err);
            if (rc != INBOX_OK) {
                goto done;
            }

            if (!claimed) {
                /* edited since, or another send is fixing it: read
                 * again (sending by then, it answers as it is) */
                busy = 1;
                continue;
            }

            rc = inbox_mongo_campaign_fix(ms, &org, campaign,
                                          inbox_campaign_due_at(
                                              campaign->send_at, now),
                                          err);
            if (rc != INBOX_OK) {
                goto done;
            }
        }

        if (unpark) {
            /* what claims parked goes again; a cancel also reports at
             * once what waited out a retry */
            rc = inbox_mongo_outbox_unpark(ms, &id, now,
                                           action == INBOX_CAMPAIGN_CANCEL,
                                           err);
            if (rc != INBOX_OK) {
                goto done;
            }
        }

        rc = inbox_mongo_campaign_move(ms, campaign, to, why, cancelled,
                                       NULL,
                                       action == INBOX_CAMPAIGN_SEND
                                       ? &token : NULL,
                                       now, &moved, err);
        if (rc != INBOX_OK) {
            goto done;
        }
    }

    if (!moved && busy) {
        rc = inbox_error_set(err, INBOX_ERR_CONFLICT,
                             "This campaign is being sent by another "
                             "request, or was changed meanwhile; read it "
                             "again in a moment.");

    } else if (!moved) {
        rc = inbox_error_set(err, INBOX_ERR_CONFLICT,
                             "This campaign changed meanwhile; read it "
                             "again.");
    }

    if (rc == INBOX_OK && unpark) {
        /* and what a claim parked in between, having read it paused */
        rc = inbox_mongo_outbox_unpark(ms, &id, now,
                                       action == INBOX_CAMPAIGN_CANCEL, err);
    }

    if (rc == INBOX_OK && action == INBOX_CAMPAIGN_CANCEL) {
        rc = inbox_mongo_campaign_cancel_left(ms, &id, err);
    }

    if (rc == INBOX_OK && park && to == INBOX_CAMPAIGN_PAUSED
        && inbox_campaign_outbox(to, why) == INBOX_OUTBOX_WAITS)
    {
        /* after the move, which claims read: what the sender does not
         * hold waits holding nothing, its credits free for replies
         * until a resume (outbox.h).  A repeated pause parks what a
         * failure or crash after the move left unparked or holding;
         * else what is left goes holding when resumed */
        rc = inbox_mongo_outbox_park_campaign(ms, &id, now, err);
    }

    if (rc == INBOX_OK) {
        inbox_campaign_free(campaign);
        rc = inbox_mongo_campaign_load(ms, &org, &id, campaign, err);
    }

    /* a repeat that only finished what one before left moved nothing a
     * browser shows: the one before told them */
    if (rc == INBOX_OK && changed) {
        rc = inbox_mongo_campaign_told(ms, &org, campaign, events, err);
    }

done:

    if (rc != INBOX_OK) {
        inbox_campaign_free(campaign);
    }

    return rc;
}


/*
 * Its due recipients first, each to the earlier of its time and the new
 * one, then the campaign's time on the status read (a start or a
 * person's move meanwhile makes it miss: the campaign is read and judged
 * again; a paused one only starts by a resume, which moves its status).
 * A recipient is taken only once its campaign sends, so one due
 * earlier than its campaign waits for the campaign; one due later would
 * hold the campaign up, which this order never leaves behind, whatever
 * fails or runs at once.
 */
inbox_status_t
inbox_mongo_campaign_reschedule(inbox_store_t *store, const char *org_id,
    const char *campaign_id, inbox_campaign_kind_t kind, int64_t send_at,
    int64_t now, inbox_campaign_t *campaign, inbox_event_list_t *events,
    inbox_error_t *err)
{
    int                   moved, attempt;
    bson_t                reply;
    bson_t               *command;
    bson_oid_t            org, id;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    rc = inbox_mongo_campaign_ids(org_id, campaign_id, &org, &id, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    moved = 0;

    for (attempt = 0; !moved && attempt < INBOX_MONGO_CAMPAIGN_ACT_ATTEMPTS;
         attempt++)
    {
        inbox_campaign_free(campaign);

        rc = inbox_campaign_found(inbox_mongo_campaign_load(ms, &org, &id,
                                                            campaign, err),
                                  campaign, kind, err);

        if (rc == INBOX_OK) {
            rc = inbox_campaign_movable(campaign, err);
        }

        if (rc != INBOX_OK) {
            goto done;
        }

        command = BCON_NEW("update", BCON_UTF8("campaign_recipients"),
                     "updates", "[", "{",
                         "q", "{",
                             "campaign_id", BCON_OID(&id),
                             "state", BCON_UTF8(inbox_recipient_state_name(
                                          INBOX_RECIPIENT_DUE)),
                         "}",
                         "u", "{", "$min", "{",
                             "due_at", BCON_DATE_TIME(send_at),
                         "}", "}",
                         "multi", BCON_BOOL(true),
                     "}", "]",
                     "ordered", BCON_BOOL(true));

        rc = inbox_mongo_run(ms, command, &reply, err);
        bson_destroy(&reply);
        bson_destroy(command);

        if (rc != INBOX_OK) {
            goto done;
        }

        rc = inbox_mongo_update_one(ms, "campaigns",
                 BCON_NEW("_id", BCON_OID(&id), "org_id", BCON_OID(&org),
                          "status", BCON_UTF8(inbox_campaign_status_name(
                                        campaign->status))),
                 BCON_NEW("$set", "{", "send_at", BCON_DATE_TIME(send_at),
                          "}"),
                 &moved, err);
        if (rc != INBOX_OK) {
            goto done;
        }
    }

    if (!moved) {
        rc = inbox_error_set(err, INBOX_ERR_CONFLICT,
                             "This campaign changed meanwhile; read it "
                             "again.");
        goto done;
    }

    inbox_campaign_free(campaign);
    rc = inbox_mongo_campaign_load(ms, &org, &id, campaign, err);

    if (rc == INBOX_OK) {
        rc = inbox_mongo_campaign_told(ms, &org, campaign, events, err);
    }

done:

    (void) now;      /* this backend's events take the server's time */

    if (rc != INBOX_OK) {
        inbox_campaign_free(campaign);
    }

    return rc;
}


/* A cancelled campaign's recipients not handed over yet: never sent.
 * Those due and those waiting are moved apart, so that each update's
 * count of the recipients it moved says which count they leave. */
static inbox_status_t
inbox_mongo_campaign_cancel_left(inbox_mongo_store_t *ms,
    const bson_oid_t *id, inbox_error_t *err)
{
    inbox_status_t  rc;

    rc = inbox_mongo_recipients_move(ms, id, NULL, INBOX_RECIPIENT_DUE,
                                     INBOX_RECIPIENT_CANCELLED, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    return inbox_mongo_recipients_move(ms, id, NULL, INBOX_RECIPIENT_WAITING,
                                       INBOX_RECIPIENT_CANCELLED, err);
}


/*
 * The recipients, fixed now by the server: every contact of the audience
 * (all, or any of its tags' keys), the opted-out ones suppressed, the
 * others due at due_at, in the order the contacts were made, merged into
 * campaign_recipients (a contact that is one already stays as it is).
 */
static inbox_status_t
inbox_mongo_campaign_fix(inbox_mongo_store_t *ms, const bson_oid_t *org,
    const inbox_campaign_t *c, int64_t due_at, inbox_error_t *err)
{
    char            key[24], tag[INBOX_TAG_KEY_MAX];
    bson_t          match, keys, in, batch;
    size_t          i;
    bson_oid_t      id;
    inbox_status_t  rc;

    if (inbox_mongo_parse_id(c->id, &id) != 0) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL,
                               "A stored campaign has no id.");
    }

    bson_init(&match);
    BSON_APPEND_OID(&match, "org_id", org);

    if (!c->audience_all) {
        BSON_APPEND_DOCUMENT_BEGIN(&match, "tag_keys", &in);
        BSON_APPEND_ARRAY_BEGIN(&in, "$in", &keys);
        for (i = 0; i < c->tags.count; i++) {
            snprintf(key, sizeof(key), "%zu", i);
            inbox_tag_key(c->tags.items[i], tag);
            BSON_APPEND_UTF8(&keys, key, tag);
        }
        bson_append_array_end(&in, &keys);
        bson_append_document_end(&match, &in);
    }

    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("aggregate", BCON_UTF8("contacts"),
                 "pipeline", "[",
                     "{", "$match", BCON_DOCUMENT(&match), "}",
                     "{", "$sort", "{",
                         "created_at", BCON_INT32(1), "_id", BCON_INT32(1),
                     "}", "}",
                     "{", "$project", "{",
                         "_id", BCON_INT32(0),
                         "campaign_id", "{", "$literal", BCON_OID(&id), "}",
                         "org_id", "{", "$literal", BCON_OID(org), "}",
                         "contact_id", BCON_UTF8("$_id"),
                         "poll", "{", "$literal", BCON_BOOL(
                             c->kind == INBOX_CAMPAIGN_KIND_POLL), "}",
                         "state", "{", "$cond", "[",
                             "{", "$eq", "[",
                                 BCON_UTF8("$opted_out"), BCON_BOOL(true),
                             "]", "}",
                             "{", "$literal", BCON_UTF8(
                                 inbox_recipient_state_name(
                                     INBOX_RECIPIENT_SUPPRESSED)), "}",
                             "{", "$literal", BCON_UTF8(
                                 inbox_recipient_state_name(
                                     INBOX_RECIPIENT_DUE)), "}",
                         "]", "}",
                         "due_at", "{", "$literal", BCON_DATE_TIME(due_at),
                         "}",
                         "message_id", "{", "$literal", BCON_NULL, "}",
                         "sent_at", "{", "$literal", BCON_NULL, "}",
                         "replied_at", "{", "$literal", BCON_NULL, "}",
                         "answer", "{", "$literal", BCON_NULL, "}",
                         "answered_at", "{", "$literal", BCON_NULL, "}",
                         "answer_message_id", "{", "$literal", BCON_NULL,
                         "}",
                     "}", "}",
                     "{", "$merge", "{",
                         "into", BCON_UTF8("campaign_recipients"),
                         "on", "[",
                             BCON_UTF8("campaign_id"),
                             BCON_UTF8("contact_id"),
                         "]",
                         "whenMatched", BCON_UTF8("keepExisting"),
                         "whenNotMatched", BCON_UTF8("insert"),
                     "}", "}",
                 "]",
                 "cursor", "{", "}",
                 "allowDiskUse", BCON_BOOL(true),
                 "maxTimeMS", BCON_INT32(INBOX_MONGO_FIX_MAX_TIME_MS)),
        &batch, err);
    bson_destroy(&match);
    bson_destroy(&batch);

    if (rc != INBOX_OK) {
        return rc;
    }

    return inbox_mongo_campaign_fix_counts(ms, &id, err);
}


/*
 * The counts of a draft's recipients just fixed, kept from now on: its
 * recipients grouped by state (once, at send), each count set while the
 * campaign is a draft (one send at a time fixes them,
 * inbox_mongo_campaign_fix_claim, so these are all of them); once it
 * sends, the moves' $inc keep them.
 */
static inbox_status_t
inbox_mongo_campaign_fix_counts(inbox_mongo_store_t *ms, const bson_oid_t *id,
    inbox_error_t *err)
{
    int                      matched;
    char                     name[32], path[48];
    bson_t                   batch, doc, set;
    int64_t                  n[INBOX_RECIPIENT_CANCELLED + 1];
    unsigned                 i;
    bson_iter_t              iter;
    inbox_status_t           rc;
    inbox_recipient_state_t  state;

    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("aggregate", BCON_UTF8("campaign_recipients"),
                 "pipeline", "[",
                     "{", "$match", "{", "campaign_id", BCON_OID(id), "}",
                     "}",
                     "{", "$group", "{",
                         "_id", BCON_UTF8("$state"),
                         "n", "{", "$sum", BCON_INT32(1), "}",
                     "}", "}",
                 "]",
                 "cursor", "{", "}"),
        &batch, err);

    memset(n, 0, sizeof(n));
    bson_iter_init(&iter, &batch);

    while (rc == INBOX_OK && inbox_mongo_next_doc(&iter, &doc)) {
        inbox_mongo_get_str(&doc, "_id", name, sizeof(name));

        if (inbox_recipient_state_parse(name, &state) == 0) {
            /* due is counted queued (inbox_mongo_count_path) */
            n[state == INBOX_RECIPIENT_DUE ? INBOX_RECIPIENT_QUEUED : state]
                += inbox_mongo_get_int(&doc, "n");
        }
    }

    bson_destroy(&batch);

    if (rc != INBOX_OK) {
        return rc;
    }

    /* every count, 0 too: a send before may have set one; the
     * suppressed now are excluded, never recipients (those who opt out
     * since are counted suppressed and stay recipients) */
    bson_init(&set);
    for (i = INBOX_RECIPIENT_WAITING; i <= INBOX_RECIPIENT_CANCELLED; i++) {
        BSON_APPEND_INT64(&set,
                          inbox_mongo_count_path((inbox_recipient_state_t) i,
                                                 path, sizeof(path)),
                          n[i]);
    }
    BSON_APPEND_INT64(&set, "counts.excluded", n[INBOX_RECIPIENT_SUPPRESSED]);

    rc = inbox_mongo_update_one(ms, "campaigns",
        BCON_NEW("_id", BCON_OID(id),
                 "status", BCON_UTF8(inbox_campaign_status_name(
                               INBOX_CAMPAIGN_DRAFT))),
        BCON_NEW("$set", BCON_DOCUMENT(&set)),
        &matched, err);

    bson_destroy(&set);

    return rc;
}


/* c's status to (paused for why; cancelled for cancelled, with a refused
 * text's refusal), if it is still the one c was read in; started_at and
 * finished_at are set the first time it sends and when it ends, the
 * cancel's reason only by the move to cancelled, which is final.  A send
 * (fixing: its lease, inbox_mongo_campaign_fix_claim) moves it only while
 * it holds the lease, at the revision it fixed, and gives the lease
 * back.  *moved says whether it moved. */
static inbox_status_t
inbox_mongo_campaign_move(inbox_mongo_store_t *ms, const inbox_campaign_t *c,
    inbox_campaign_status_t to, inbox_pause_reason_t why,
    inbox_cancel_reason_t cancelled, const char *cancelled_message,
    const bson_oid_t *fixing, int64_t now, int *moved, inbox_error_t *err)
{
    bson_t       *q, *u;
    bson_t        set;
    bson_oid_t    id;

    *moved = 0;

    if (inbox_mongo_parse_id(c->id, &id) != 0) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL,
                               "A stored campaign has no id.");
    }

    bson_init(&set);
    BSON_APPEND_UTF8(&set, "status", inbox_campaign_status_name(to));

    if (why != INBOX_PAUSE_NONE) {
        BSON_APPEND_UTF8(&set, "paused_reason", inbox_pause_reason_name(why));
    } else {
        BSON_APPEND_NULL(&set, "paused_reason");
    }

    /* the carrier's refusal names the number and its code (c's, as
     * inbox_mongo_campaign_carrier_refused says them) */
    if (why == INBOX_PAUSE_CARRIER_ACCOUNT) {
        if (c->paused_number[0] != '\0') {
            BSON_APPEND_UTF8(&set, "paused_number", c->paused_number);
        } else {
            BSON_APPEND_NULL(&set, "paused_number");
        }

        if (c->paused_error_code[0] != '\0') {
            BSON_APPEND_UTF8(&set, "paused_error_code", c->paused_error_code);
        } else {
            BSON_APPEND_NULL(&set, "paused_error_code");
        }
    }

    if (to == INBOX_CAMPAIGN_CANCELLED) {
        BSON_APPEND_UTF8(&set, "cancelled_reason",
                         inbox_cancel_reason_name(cancelled));

        if (cancelled_message != NULL) {
            BSON_APPEND_UTF8(&set, "cancelled_message", cancelled_message);
        } else {
            BSON_APPEND_NULL(&set, "cancelled_message");
        }
    }

    if (to == INBOX_CAMPAIGN_SENDING && c->started_at == 0) {
        BSON_APPEND_DATE_TIME(&set, "started_at", now);
    }

    if (inbox_campaign_final(to) && c->finished_at == 0) {
        BSON_APPEND_DATE_TIME(&set, "finished_at", now);
    }

    q = BCON_NEW("_id", BCON_OID(&id),
                 "status", BCON_UTF8(inbox_campaign_status_name(c->status)));

    if (fixing != NULL) {
        BCON_APPEND(q, "fixing_by", BCON_OID(fixing),
                    "revision", BCON_INT64(c->revision));
        u = BCON_NEW("$set", BCON_DOCUMENT(&set),
                     "$unset", "{",
                         "fixing_by", BCON_UTF8(""),
                         "fixing_until", BCON_UTF8(""),
                     "}");
    } else {
        u = BCON_NEW("$set", BCON_DOCUMENT(&set));
    }

    bson_destroy(&set);

    return inbox_mongo_update_one(ms, "campaigns", q, u, moved, err);
}


/*
 * Without a transaction, a draft's recipients stay one audience's only
 * if one send at a time fixes them, from the draft as it is: a send
 * takes the draft's lease where it is still at the revision read and no
 * other send holds one (or its holder's time is up), drops whatever
 * recipients an earlier send left (one that failed after its fix, or
 * lost to an edit), fixes them, and moves the draft only while it still
 * holds the lease at that revision (inbox_mongo_campaign_move).  An edit
 * meanwhile makes the move miss; the next send starts over.
 */
static inbox_status_t
inbox_mongo_campaign_fix_claim(inbox_mongo_store_t *ms, const bson_oid_t *org,
    const inbox_campaign_t *c, int64_t now, bson_oid_t *token, int *claimed,
    inbox_error_t *err)
{
    bson_t          *query;
    bson_oid_t       id;
    inbox_status_t   rc;

    *claimed = 0;

    if (inbox_mongo_parse_id(c->id, &id) != 0) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL,
                               "A stored campaign has no id.");
    }

    inbox_mongo_new_id(ms, token);

    query = BCON_NEW("_id", BCON_OID(&id), "org_id", BCON_OID(org),
                     "status", BCON_UTF8(inbox_campaign_status_name(
                                   INBOX_CAMPAIGN_DRAFT)));

    /* a draft made before revisions were kept has none: 0, written
     * below so that the move finds it at 0 */
    if (c->revision == 0) {
        BCON_APPEND(query, "revision", "{",
                        "$in", "[", BCON_INT64(0), BCON_NULL, "]",
                    "}");
    } else {
        BCON_APPEND(query, "revision", BCON_INT64(c->revision));
    }

    /* none, or its holder's time is up (null and absent are not > now) */
    BCON_APPEND(query, "fixing_until", "{", "$not", "{",
                    "$gt", BCON_DATE_TIME(now),
                "}", "}");

    rc = inbox_mongo_update_one(ms, "campaigns", query,
        BCON_NEW("$set", "{",
                     "fixing_by", BCON_OID(token),
                     "fixing_until",
                     BCON_DATE_TIME(now + INBOX_MONGO_FIX_LEASE_MS),
                     "revision", BCON_INT64(c->revision),
                 "}"),
        claimed, err);

    if (rc != INBOX_OK || !*claimed) {
        return rc;
    }

    /* what a send before left: this one's own recipients only */
    return inbox_mongo_delete(ms, "campaign_recipients",
                              BCON_NEW("campaign_id", BCON_OID(&id)), NULL,
                              err);
}


/* the sender's turn */

inbox_status_t
inbox_mongo_campaign_dispatch(inbox_store_t *store, int64_t now, size_t max,
    const char *media_base, inbox_campaign_dispatch_t *result,
    inbox_event_list_t *events, inbox_error_t *err)
{
    bson_t                  reply, batch, doc;
    bson_t                 *command;
    size_t                  i, n, budget;
    bson_iter_t             iter, field;
    inbox_status_t          rc;
    inbox_mongo_sending_t  *sending;
    inbox_mongo_store_t    *ms = (inbox_mongo_store_t *) store;

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    /* the scheduled campaigns whose time came start (started_at kept
     * from a start before a pause) */
    command = BCON_NEW("update", BCON_UTF8("campaigns"),
                 "updates", "[", "{",
                     "q", "{",
                         "status", BCON_UTF8(inbox_campaign_status_name(
                                       INBOX_CAMPAIGN_SCHEDULED)),
                         "send_at", "{", "$lte", BCON_DATE_TIME(now), "}",
                     "}",
                     "u", "[", "{", "$set", "{",
                         "status", "{", "$literal", BCON_UTF8(
                             inbox_campaign_status_name(
                                 INBOX_CAMPAIGN_SENDING)), "}",
                         "started_at", "{", "$ifNull", "[",
                             BCON_UTF8("$started_at"),
                             "{", "$literal", BCON_DATE_TIME(now), "}",
                         "]", "}",
                     "}", "}", "]",
                     "multi", BCON_BOOL(true),
                 "}", "]",
                 "ordered", BCON_BOOL(true));

    rc = inbox_mongo_run(ms, command, &reply, err);
    result->started = rc == INBOX_OK
                      ? (size_t) inbox_mongo_get_int(&reply, "nModified") : 0;
    bson_destroy(&reply);
    bson_destroy(command);

    if (rc != INBOX_OK) {
        return rc;
    }

    /* the campaigns sending, the earliest started first */
    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("find", BCON_UTF8("campaigns"),
                 "filter", "{",
                     "status", BCON_UTF8(inbox_campaign_status_name(
                                   INBOX_CAMPAIGN_SENDING)),
                 "}",
                 "sort", "{",
                     "started_at", BCON_INT32(1), "_id", BCON_INT32(1),
                 "}"),
        &batch, err);

    n = 0;
    sending = NULL;

    if (rc == INBOX_OK) {
        sending = calloc(bson_count_keys(&batch) + 1,
                         sizeof(inbox_mongo_sending_t));
        if (sending == NULL) {
            rc = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        }
    }

    bson_iter_init(&iter, &batch);

    while (rc == INBOX_OK && inbox_mongo_next_doc(&iter, &doc)) {
        if (!bson_iter_init_find(&field, &doc, "org_id")
            || !BSON_ITER_HOLDS_OID(&field))
        {
            continue;
        }

        bson_oid_copy(bson_iter_oid(&field), &sending[n].org);

        if (inbox_mongo_campaign_parse(&doc, &sending[n].campaign) != 0) {
            rc = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
            break;
        }

        n++;
    }

    bson_destroy(&batch);

    /* each campaign its share of the batch, then what is left over to
     * those that had more due than their share: one started later, of
     * the same organization or another, is not held up by the audience
     * of one started before it */
    budget = max;

    for (i = 0; rc == INBOX_OK && i < n; i++) {
        rc = inbox_mongo_campaign_send(ms, &sending[i].org,
                                       &sending[i].campaign, now, media_base,
                                       (budget + n - i - 1) / (n - i),
                                       &budget, result, events,
                                       &sending[i].more, err);
    }

    for (i = 0; rc == INBOX_OK && i < n && budget > 0; i++) {
        if (sending[i].more) {
            rc = inbox_mongo_campaign_send(ms, &sending[i].org,
                                           &sending[i].campaign, now,
                                           media_base, budget, &budget,
                                           result, events,
                                           &sending[i].more, err);
        }
    }

    for (i = 0; i < n; i++) {
        inbox_campaign_free(&sending[i].campaign);
    }

    free(sending);

    /* without a transaction what was handed over stays so; result says
     * what, up to a failure */
    return rc;
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
inbox_mongo_campaign_send(inbox_mongo_store_t *ms, const bson_oid_t *org,
    inbox_campaign_t *c, int64_t now, const char *media_base, size_t share,
    size_t *budget, inbox_campaign_dispatch_t *result,
    inbox_event_list_t *events, int *more, inbox_error_t *err)
{
    int                              moved, handed, stopped, left;
    size_t                           i, n, limit, ahead, room;
    int64_t                          opens;
    bson_oid_t                       id;
    inbox_status_t                   rc;
    inbox_error_t                    refusal;
    inbox_mongo_due_t               *due, *d;
    inbox_pause_reason_t             why;
    inbox_mongo_sender_t             s;
    inbox_campaign_status_t          to;
    inbox_campaign_messages_t        messages;
    const inbox_campaign_message_t  *msg;

    *more = 0;
    limit = share < *budget ? share : *budget;
    room = 0;

    if (inbox_mongo_parse_id(c->id, &id) != 0) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL,
                               "A stored campaign has no id.");
    }

    /* a scheduled send taking effect (started in this turn) whose text
     * the rules refuse since it was sent, as send refuses such a draft
     * now: cancelled as a person's cancel is, nothing handed over nor
     * held, the refusal kept for the person who scheduled it */
    if (c->started_at == now
        && inbox_campaign_sendable(c, &refusal) != INBOX_OK)
    {
        rc = inbox_mongo_campaign_move(ms, c, INBOX_CAMPAIGN_CANCELLED,
                                       INBOX_PAUSE_NONE,
                                       INBOX_CANCEL_TEXT_REFUSED,
                                       refusal.message, NULL, now, &moved,
                                       err);

        if (rc == INBOX_OK && moved) {
            rc = inbox_mongo_campaign_cancel_left(ms, &id, err);
            result->refused++;
        }

        return rc;
    }

    if (limit > 0) {
        rc = inbox_mongo_campaign_ahead(ms, &id, now, &ahead, err);
        if (rc != INBOX_OK) {
            return rc;
        }

        if (ahead >= INBOX_CAMPAIGN_AHEAD_MAX) {
            /* more when some have left (not done: they are its own) */
            result->outbox_full++;
            return INBOX_OK;
        }

        room = INBOX_CAMPAIGN_AHEAD_MAX - ahead;
        if (limit > room) {
            limit = room;
        }
    }

    rc = inbox_mongo_sender_read(ms, org, &s, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_campaign_messages(c, media_base, &messages, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    due = calloc(limit > 0 ? limit : 1, sizeof(inbox_mongo_due_t));
    if (due == NULL) {
        inbox_campaign_messages_free(&messages);
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    n = 0;
    stopped = 0;
    why = INBOX_PAUSE_NONE;

    if (limit > 0) {
        rc = inbox_mongo_due_read(ms, org, &id, now, limit, due, &n, err);
    }

    for (i = 0; rc == INBOX_OK && i < n; i++) {
        d = &due[i];
        msg = inbox_campaign_message_to(&messages, d->phone);

        if (!d->known || d->opted_out) {
            /* opted out since sending began (or gone): nothing more */
            rc = inbox_mongo_recipient_set(ms, &id, &d->id, d->state,
                                           INBOX_RECIPIENT_SUPPRESSED, now,
                                           &moved, err);
            result->suppressed += moved;
            (*budget)--;

        } else if (inbox_quiet_hours(d->timezone, s.settings.timezone,
                                     s.settings.quiet_start,
                                     s.settings.quiet_end, now, &opens))
        {
            rc = inbox_mongo_recipient_set(ms, &id, &d->id, d->state,
                                           INBOX_RECIPIENT_WAITING, opens,
                                           &moved, err);
            result->waiting += moved;
            (*budget)--;

        } else if (!s.billing_active) {
            why = INBOX_PAUSE_BILLING_INACTIVE;
            break;

        } else if (s.balance
                   < (int64_t) inbox_plan_charge(s.plan, msg->credits))
        {
            why = INBOX_PAUSE_INSUFFICIENT_CREDITS;
            break;

        } else if (inbox_reply_from(d->kept, s.first)[0] == '\0') {
            /* no number to send from: the campaign waits for one */
            break;

        } else {
            rc = inbox_mongo_hand_over(ms, org, c, msg, d, &s, now,
                                       &handed, &stopped, &why, events,
                                       err);
            if (why != INBOX_PAUSE_NONE || stopped) {
                break;
            }

            result->handed += handed;
            (*budget)--;
        }
    }

    free(due);
    inbox_campaign_messages_free(&messages);

    if (rc != INBOX_OK || stopped) {
        /* stopped: paused or cancelled since it was read, nothing more */
        return rc;
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

    if (why == INBOX_PAUSE_NONE) {
        rc = inbox_mongo_campaign_left(ms, &id, now, &left, err);
        if (rc != INBOX_OK) {
            return rc;
        }

        if (!left) {
            rc = inbox_mongo_campaign_move(ms, c, INBOX_CAMPAIGN_DONE,
                                           INBOX_PAUSE_NONE,
                                           INBOX_CANCEL_NONE, NULL, NULL,
                                           now, &moved, err);
            result->finished += moved;
            return rc;
        }

        if (s.billing_active) {
            return INBOX_OK;
        }

        /* all of it handed over when billing stopped: what the outbox
         * holds waits parked (inbox_outbox_billing), and the campaign
         * says why rather than "sending" with nothing moving */
        why = INBOX_PAUSE_BILLING_INACTIVE;
    }

    to = c->status;
    (void) inbox_campaign_pause_for(&to, &why, why);

    rc = inbox_mongo_campaign_move(ms, c, to, why, INBOX_CANCEL_NONE,
                                   NULL, NULL, now, &moved, err);
    result->paused += moved;

    return rc;
}


/* The campaign oid's status and pause reason into c and *why; *found 0
 * for none. */
static inbox_status_t
inbox_mongo_campaign_state(inbox_mongo_store_t *ms, const bson_oid_t *oid,
    inbox_campaign_t *c, inbox_pause_reason_t *why, int *found,
    inbox_error_t *err)
{
    char            text[32];
    bson_t          doc;
    inbox_status_t  rc;

    memset(c, 0, sizeof(inbox_campaign_t));
    *why = INBOX_PAUSE_NONE;

    rc = inbox_mongo_find_one(ms, "campaigns",
                              BCON_NEW("_id", BCON_OID(oid)),
                              BCON_NEW("status", BCON_INT32(1),
                                       "paused_reason", BCON_INT32(1)),
                              &doc, found, err);
    if (rc != INBOX_OK || !*found) {
        bson_destroy(&doc);
        return rc;
    }

    inbox_mongo_id_hex(oid, c->id);

    inbox_mongo_get_str(&doc, "status", text, sizeof(text));
    if (inbox_campaign_status_parse(text, &c->status) != 0) {
        c->status = INBOX_CAMPAIGN_DONE;
    }

    inbox_mongo_get_str(&doc, "paused_reason", text, sizeof(text));
    if (inbox_pause_reason_parse(text, why) != 0) {
        *why = INBOX_PAUSE_NONE;
    }

    bson_destroy(&doc);

    return INBOX_OK;
}


inbox_status_t
inbox_mongo_campaign_carrier_refused(inbox_mongo_store_t *ms, const char *id,
    const char *from, const char *code, int64_t now, inbox_error_t *err)
{
    int                      found, moved;
    bson_oid_t               oid;
    inbox_status_t           rc;
    inbox_campaign_t         c;
    inbox_pause_reason_t     why;
    inbox_campaign_status_t  to;

    if (inbox_mongo_parse_id(id, &oid) != 0) {
        return INBOX_OK;
    }

    rc = inbox_mongo_campaign_state(ms, &oid, &c, &why, &found, err);
    if (rc != INBOX_OK || !found) {
        return rc;
    }

    /* the pause keeps the number refused and the carrier's code */
    snprintf(c.paused_number, sizeof(c.paused_number), "%s", from);
    snprintf(c.paused_error_code, sizeof(c.paused_error_code), "%s", code);

    to = c.status;
    if (inbox_campaign_pause_carrier(&to, &why) != 0) {
        return INBOX_OK;
    }

    /* only from the status read: a resume or a cancel meanwhile wins */
    rc = inbox_mongo_campaign_move(ms, &c, to, why, INBOX_CANCEL_NONE,
                                   NULL, NULL, now, &moved, err);

    /* what else it has in the outbox waits holding nothing (outbox.h) */
    if (rc == INBOX_OK && moved) {
        rc = inbox_mongo_outbox_park_campaign(ms, &oid, now, err);
    }

    return rc;
}


inbox_status_t
inbox_mongo_campaign_credits_short(inbox_mongo_store_t *ms,
    const bson_oid_t *campaign, int64_t now, inbox_error_t *err)
{
    int                      found, moved;
    inbox_status_t           rc;
    inbox_campaign_t         c;
    inbox_pause_reason_t     why;
    inbox_campaign_status_t  to;

    rc = inbox_mongo_campaign_state(ms, campaign, &c, &why, &found, err);
    if (rc != INBOX_OK || !found) {
        return rc;
    }

    to = c.status;
    if (inbox_campaign_pause_for(&to, &why, INBOX_PAUSE_INSUFFICIENT_CREDITS)
        != 0)
    {
        return INBOX_OK;
    }

    /* only from the status read: a person's move meanwhile wins */
    return inbox_mongo_campaign_move(ms, &c, to, why, INBOX_CANCEL_NONE,
                                     NULL, NULL, now, &moved, err);
}


/*
 * Whether anything of the campaign is left to send: a recipient due or
 * waiting for quiet hours to end, or a message still in the outbox.
 * Until that has left the campaign is still sending, so that it can be
 * paused or cancelled (the outbox is short: the entries not sent yet).
 */
static inbox_status_t
inbox_mongo_campaign_left(inbox_mongo_store_t *ms, const bson_oid_t *id,
    int64_t now, int *left, inbox_error_t *err)
{
    size_t          repaired;
    bson_t          batch;
    inbox_status_t  rc;

    bson_init(&batch);
    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("find", BCON_UTF8("campaign_recipients"),
                 "filter", "{",
                     "campaign_id", BCON_OID(id),
                     "state", "{", "$in", "[",
                         BCON_UTF8(inbox_recipient_state_name(
                                       INBOX_RECIPIENT_DUE)),
                         BCON_UTF8(inbox_recipient_state_name(
                                       INBOX_RECIPIENT_WAITING)),
                     "]", "}",
                 "}",
                 "projection", "{", "_id", BCON_INT32(1), "}",
                 "limit", BCON_INT32(1),
                 "singleBatch", BCON_BOOL(true)),
        &batch, err);

    *left = bson_count_keys(&batch) != 0;
    bson_destroy(&batch);

    if (rc != INBOX_OK || *left) {
        return rc;
    }

    bson_init(&batch);
    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("find", BCON_UTF8("outbox"),
                 "filter", "{",
                     "priority", BCON_INT32(INBOX_OUTBOX_BULK),
                     "campaign_id", BCON_OID(id),
                 "}",
                 "projection", "{", "_id", BCON_INT32(1), "}",
                 "limit", BCON_INT32(1),
                 "singleBatch", BCON_BOOL(true)),
        &batch, err);

    *left = bson_count_keys(&batch) != 0;
    bson_destroy(&batch);

    if (rc != INBOX_OK || *left) {
        return rc;
    }

    rc = inbox_mongo_claims_lost(ms, id, now, &repaired, err);
    *left = repaired > 0;

    return rc;
}


/*
 * Claims that lost their message: recipients queued (claimed, their
 * message's id written) whose message was never stored, the dispatch
 * that claimed them having failed before its insert (no transaction
 * spans them).  Nothing would ever send them.  Looked for once the rest
 * of the campaign has gone, among claims made INBOX_MONGO_CLAIM_LOST_MS
 * before at least, each is due again, as a claim given back is;
 * *repaired says how many.
 */
static inbox_status_t
inbox_mongo_claims_lost(inbox_mongo_store_t *ms, const bson_oid_t *id,
    int64_t now, size_t *repaired, inbox_error_t *err)
{
    bson_t             batch, doc;
    bson_oid_t         message;
    bson_iter_t        iter, field;
    inbox_status_t     rc;
    inbox_mongo_due_t  d;

    *repaired = 0;

    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("aggregate", BCON_UTF8("campaign_recipients"),
                 "pipeline", "[",
                     "{", "$match", "{",
                         "campaign_id", BCON_OID(id),
                         "state", BCON_UTF8(inbox_recipient_state_name(
                                      INBOX_RECIPIENT_QUEUED)),
                         "sent_at", "{",
                             "$lt", BCON_DATE_TIME(
                                        now - INBOX_MONGO_CLAIM_LOST_MS),
                         "}",
                     "}", "}",
                     "{", "$lookup", "{",
                         "from", BCON_UTF8("messages"),
                         "localField", BCON_UTF8("message_id"),
                         "foreignField", BCON_UTF8("_id"),
                         "as", BCON_UTF8("message"),
                     "}", "}",
                     "{", "$match", "{",
                         "message", "{", "$size", BCON_INT32(0), "}",
                     "}", "}",
                     "{", "$limit", BCON_INT32(INBOX_MONGO_CLAIMS_LOST_MAX),
                     "}",
                     "{", "$project", "{",
                         "message_id", BCON_INT32(1),
                     "}", "}",
                 "]",
                 "cursor", "{",
                     "batchSize", BCON_INT32(INBOX_MONGO_CLAIMS_LOST_MAX),
                 "}"),
        &batch, err);

    bson_iter_init(&iter, &batch);

    while (rc == INBOX_OK && inbox_mongo_next_doc(&iter, &doc)) {
        memset(&d, 0, sizeof(inbox_mongo_due_t));
        d.state = INBOX_RECIPIENT_DUE;

        if (bson_iter_init_find(&field, &doc, "_id")
            && BSON_ITER_HOLDS_OID(&field))
        {
            bson_oid_copy(bson_iter_oid(&field), &d.id);

            if (bson_iter_init_find(&field, &doc, "message_id")
                && BSON_ITER_HOLDS_OID(&field))
            {
                bson_oid_copy(bson_iter_oid(&field), &message);
                rc = inbox_mongo_claim_back(ms, id, &d, &message,
                                            INBOX_RECIPIENT_DUE, err);
                (*repaired)++;
            }
        }
    }

    bson_destroy(&batch);

    return rc;
}


/*
 * The campaign's messages waiting in the outbox: due (for their number's
 * rate) or claimed by the sender; not those a pause parked nor those put
 * off (a retry's backoff, quiet hours), which leave nothing to wait for
 * now.  Read on campaign_priority_due, INBOX_CAMPAIGN_AHEAD_MAX at most.
 */
static inbox_status_t
inbox_mongo_campaign_ahead(inbox_mongo_store_t *ms, const bson_oid_t *id,
    int64_t now, size_t *ahead, inbox_error_t *err)
{
    bson_t          batch;
    inbox_status_t  rc;

    bson_init(&batch);
    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("find", BCON_UTF8("outbox"),
                 "filter", "{",
                     "campaign_id", BCON_OID(id),
                     "priority", BCON_INT32(INBOX_OUTBOX_BULK),
                     "$or", "[",
                         "{", "due_at", "{", "$lte", BCON_DATE_TIME(now),
                         "}", "}",
                         "{", "lease_until", "{", "$ne", BCON_NULL, "}",
                         "}",
                     "]",
                 "}",
                 "projection", "{", "_id", BCON_INT32(1), "}",
                 "limit", BCON_INT32(INBOX_CAMPAIGN_AHEAD_MAX),
                 "singleBatch", BCON_BOOL(true)),
        &batch, err);

    *ahead = rc == INBOX_OK ? bson_count_keys(&batch) : 0;
    bson_destroy(&batch);

    return rc;
}


/* INBOX_ERR_CONFLICT while the organization has no number to send a
 * campaign from (none for its first, what a thread without one of its
 * numbers goes from). */
static inbox_status_t
inbox_mongo_campaign_number(inbox_mongo_store_t *ms, const bson_oid_t *org,
    inbox_error_t *err)
{
    char            from[INBOX_PHONE_MAX];
    inbox_status_t  rc;

    rc = inbox_mongo_first_number(ms, org, from, err);

    if (rc == INBOX_OK && from[0] == '\0') {
        rc = inbox_error_no_number(err);
    }

    return rc;
}


/* The organization's quiet hours and zone, billing, plan and balance,
 * and the number it sends from. */
static inbox_status_t
inbox_mongo_sender_read(inbox_mongo_store_t *ms, const bson_oid_t *org,
    inbox_mongo_sender_t *s, inbox_error_t *err)
{
    int             found;
    char            plan[INBOX_PLAN_MAX];
    bson_t          doc;
    inbox_status_t  rc;

    memset(s, 0, sizeof(inbox_mongo_sender_t));

    rc = inbox_mongo_find_one(ms, "orgs", BCON_NEW("_id", BCON_OID(org)),
                              BCON_NEW("name", BCON_INT32(1),
                                       "timezone", BCON_INT32(1),
                                       "quiet_start", BCON_INT32(1),
                                       "quiet_end", BCON_INT32(1),
                                       "billing_active", BCON_INT32(1),
                                       "plan", BCON_INT32(1),
                                       "credits", BCON_INT32(1)),
                              &doc, &found, err);

    if (rc == INBOX_OK && !found) {
        rc = inbox_error_not_found(err, "organization");
    }

    if (rc == INBOX_OK) {
        inbox_mongo_parse_settings(&doc, &s->settings);
        s->billing_active = inbox_mongo_get_bool(&doc, "billing_active");
        inbox_mongo_get_str(&doc, "plan", plan, sizeof(plan));
        s->plan = inbox_plan_stored(plan);
        s->balance = inbox_mongo_get_int(&doc, "credits.balance");
    }

    bson_destroy(&doc);

    if (rc != INBOX_OK) {
        return rc;
    }

    return inbox_mongo_first_number(ms, org, s->first, err);
}


/* Up to max recipients of campaign id due by now, oldest due first, each
 * with what its contact is now and the number its thread keeps (the one
 * its contact last texted), joined on the server with the number's own
 * document: one read for the batch. */
static inbox_status_t
inbox_mongo_due_read(inbox_mongo_store_t *ms, const bson_oid_t *org,
    const bson_oid_t *id, int64_t now, size_t max, inbox_mongo_due_t *due,
    size_t *n, inbox_error_t *err)
{
    char            state[32];
    bson_t          batch, doc;
    bson_iter_t     iter, field;
    inbox_status_t  rc;

    *n = 0;

    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("aggregate", BCON_UTF8("campaign_recipients"),
                 "pipeline", "[",
                     "{", "$match", "{",
                         "campaign_id", BCON_OID(id),
                         "state", "{", "$in", "[",
                             BCON_UTF8(inbox_recipient_state_name(
                                           INBOX_RECIPIENT_DUE)),
                             BCON_UTF8(inbox_recipient_state_name(
                                           INBOX_RECIPIENT_WAITING)),
                         "]", "}",
                         "due_at", "{", "$lte", BCON_DATE_TIME(now), "}",
                         "message_id", BCON_NULL,
                     "}", "}",
                     "{", "$sort", "{",
                         "due_at", BCON_INT32(1), "_id", BCON_INT32(1),
                     "}", "}",
                     "{", "$limit", BCON_INT32((int32_t) max), "}",
                     "{", "$lookup", "{",
                         "from", BCON_UTF8("contacts"),
                         "localField", BCON_UTF8("contact_id"),
                         "foreignField", BCON_UTF8("_id"),
                         "as", BCON_UTF8("contact"),
                     "}", "}",
                     "{", "$lookup", "{",
                         "from", BCON_UTF8("conversations"),
                         "localField", BCON_UTF8("contact.conversation_id"),
                         "foreignField", BCON_UTF8("_id"),
                         "as", BCON_UTF8("thread"),
                     "}", "}",
                     "{", "$lookup", "{",
                         "from", BCON_UTF8("numbers"),
                         "localField", BCON_UTF8("thread.number"),
                         "foreignField", BCON_UTF8("e164"),
                         "as", BCON_UTF8("texted"),
                     "}", "}",
                     "{", "$project", "{",
                         "state", BCON_INT32(1),
                         "contact_id", BCON_INT32(1),
                         "contact.phone", BCON_INT32(1),
                         "contact.opted_out", BCON_INT32(1),
                         "contact.timezone", BCON_INT32(1),
                         "contact.conversation_id", BCON_INT32(1),
                         "texted.e164", BCON_INT32(1),
                         "texted.org_id", BCON_INT32(1),
                     "}", "}",
                 "]",
                 "cursor", "{", "batchSize", BCON_INT32((int32_t) max), "}"),
        &batch, err);

    if (rc != INBOX_OK) {
        bson_destroy(&batch);
        return rc;
    }

    bson_iter_init(&iter, &batch);

    while (*n < max && inbox_mongo_next_doc(&iter, &doc)) {
        if (!bson_iter_init_find(&field, &doc, "_id")
            || !BSON_ITER_HOLDS_OID(&field))
        {
            continue;
        }

        memset(&due[*n], 0, sizeof(inbox_mongo_due_t));
        bson_oid_copy(bson_iter_oid(&field), &due[*n].id);

        inbox_mongo_get_str(&doc, "state", state, sizeof(state));
        if (inbox_recipient_state_parse(state, &due[*n].state) != 0) {
            continue;
        }

        if (bson_iter_init_find(&field, &doc, "contact_id")
            && BSON_ITER_HOLDS_OID(&field))
        {
            bson_oid_copy(bson_iter_oid(&field), &due[*n].contact);
        }

        if (bson_iter_init(&field, &doc)
            && bson_iter_find_descendant(&field, "contact.0.conversation_id",
                                         &field)
            && BSON_ITER_HOLDS_OID(&field))
        {
            bson_oid_copy(bson_iter_oid(&field), &due[*n].conversation);
            due[*n].known = 1;
        }

        due[*n].opted_out = inbox_mongo_get_bool(&doc, "contact.0.opted_out");
        inbox_mongo_get_str(&doc, "contact.0.timezone", due[*n].timezone,
                            sizeof(due[*n].timezone));
        inbox_mongo_get_str(&doc, "contact.0.phone", due[*n].phone,
                            sizeof(due[*n].phone));
        inbox_mongo_due_kept(&doc, org, due[*n].kept);
        (*n)++;
    }

    bson_destroy(&batch);

    return INBOX_OK;
}


/* The number a due recipient's thread keeps while the organization still
 * has it (a number moved to another organization is not ours); "" for
 * none. */
static void
inbox_mongo_due_kept(const bson_t *doc, const bson_oid_t *org,
    char kept[INBOX_PHONE_MAX])
{
    bson_iter_t  field;

    kept[0] = '\0';

    if (bson_iter_init(&field, doc)
        && bson_iter_find_descendant(&field, "texted.0.org_id", &field)
        && BSON_ITER_HOLDS_OID(&field)
        && bson_oid_equal(bson_iter_oid(&field), org))
    {
        inbox_mongo_get_str(doc, "texted.0.e164", kept, INBOX_PHONE_MAX);
    }
}


/*
 * Hands recipient d over (see the top of this file): *handed 1 when it
 * did, 0 when another sender had claimed it; *stopped set when the
 * campaign was paused or cancelled since it was read (the recipient is
 * due again, or cancelled); *why set when billing refused the hold (the
 * recipient is due again).
 */
static inbox_status_t
inbox_mongo_hand_over(inbox_mongo_store_t *ms, const bson_oid_t *org,
    const inbox_campaign_t *c, const inbox_campaign_message_t *msg,
    const inbox_mongo_due_t *d, inbox_mongo_sender_t *s, int64_t now,
    int *handed, int *stopped,
    inbox_pause_reason_t *why, inbox_event_list_t *events,
    inbox_error_t *err)
{
    int                       claimed, moved, found, marked;
    char                      conversation[INBOX_ID_MAX], name[32];
    bson_t                    doc;
    unsigned                  charge;
    bson_oid_t                message, campaign;
    inbox_reply_t             reply;
    inbox_status_t            rc;
    inbox_mongo_reply_t       r;
    inbox_reply_result_t      result;
    inbox_campaign_status_t   status;

    *handed = 0;
    *stopped = 0;

    if (inbox_mongo_parse_id(c->id, &campaign) != 0) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL,
                               "A stored campaign has no id.");
    }

    inbox_mongo_new_id(ms, &message);

    /* the claim: this sender's, or another's already */
    rc = inbox_mongo_update_one(ms, "campaign_recipients",
        BCON_NEW("_id", BCON_OID(&d->id),
                 "state", BCON_UTF8(inbox_recipient_state_name(d->state))),
        BCON_NEW("$set", "{",
                     "state", BCON_UTF8(inbox_recipient_state_name(
                                  INBOX_RECIPIENT_QUEUED)),
                     "message_id", BCON_OID(&message),
                     "sent_at", BCON_DATE_TIME(now),
                 "}"),
        &claimed, err);

    if (rc != INBOX_OK || !claimed) {
        return rc;
    }

    rc = inbox_mongo_counts_move(ms, &campaign, d->state,
                                 INBOX_RECIPIENT_QUEUED, 1, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    /* the campaign names a contact's thread from now on: marked before
     * its status is read again, so that a cancel and delete made after
     * that read find it marked (a claim given back below keeps it) */
    if (c->handed_at == 0) {
        rc = inbox_mongo_update_one(ms, "campaigns",
            BCON_NEW("_id", BCON_OID(&campaign),
                     "handed_at", "{", "$type", BCON_UTF8("null"), "}"),
            BCON_NEW("$set", "{", "handed_at", BCON_DATE_TIME(now), "}"),
            &marked, err);
        if (rc != INBOX_OK) {
            return rc;
        }
    }

    /* the campaign's status after the claim: a cancel writes its status
     * before it cancels those not claimed, so a claim it missed sees
     * it here (one done by another sender meanwhile still goes) */
    rc = inbox_mongo_find_one(ms, "campaigns",
                              BCON_NEW("_id", BCON_OID(&campaign)),
                              BCON_NEW("status", BCON_INT32(1)),
                              &doc, &found, err);
    inbox_mongo_get_str(&doc, "status", name, sizeof(name));
    bson_destroy(&doc);

    if (rc == INBOX_OK
        && (!found || inbox_campaign_status_parse(name, &status) != 0))
    {
        rc = inbox_error_set(err, INBOX_ERR_INTERNAL,
                             "A stored campaign has no status.");
    }

    if (rc != INBOX_OK) {
        return rc;
    }

    if (!inbox_campaign_dispatching(status)
        && status != INBOX_CAMPAIGN_DONE)
    {
        *stopped = 1;

        return inbox_mongo_claim_back(ms, &campaign, d, &message,
                                      status == INBOX_CAMPAIGN_CANCELLED
                                      ? INBOX_RECIPIENT_CANCELLED
                                      : d->state, err);
    }

    charge = inbox_plan_charge(s->plan, msg->credits);

    memset(&r, 0, sizeof(inbox_mongo_reply_t));
    bson_oid_copy(org, &r.org);
    bson_oid_copy(&d->conversation, &r.conversation);
    bson_oid_copy(&d->contact, &r.contact);
    snprintf(r.from, sizeof(r.from), "%s",
             inbox_reply_from(d->kept, s->first));
    snprintf(r.to, sizeof(r.to), "%s", d->phone);
    r.campaign_kind = inbox_campaign_kind_name(c->kind);

    inbox_mongo_id_hex(&d->conversation, conversation);

    memset(&reply, 0, sizeof(inbox_reply_t));
    reply.conversation_id = conversation;
    reply.body = msg->body;
    reply.media_count = msg->media_count;
    reply.media = msg->media;
    reply.segments = msg->segments;
    reply.credits = charge;

    memset(&result, 0, sizeof(inbox_reply_result_t));

    /* the hold, then a reply's writes; a failure after the hold gives
     * it back */
    rc = inbox_mongo_reply_hold(ms, &r, &reply, &message, &campaign, now,
                                &moved, &result, events, err);
    inbox_reply_result_free(&result);

    if (rc == INBOX_OK && !moved) {
        /* spent or switched off since it was read: due again, paused */
        rc = inbox_mongo_claim_back(ms, &campaign, d, &message, d->state,
                                    err);

        if (rc == INBOX_OK) {
            rc = inbox_mongo_sender_read(ms, org, s, err);
        }

        /* a hold of nothing (the plan pays) fails only for billing:
         * active again by now, the recipient simply waits its turn */
        if (!s->billing_active) {
            *why = INBOX_PAUSE_BILLING_INACTIVE;

        } else if (charge > 0) {
            *why = INBOX_PAUSE_INSUFFICIENT_CREDITS;
        }

        return rc;
    }

    if (rc == INBOX_OK) {
        s->balance -= charge;
        *handed = 1;
    }

    return rc;
}


/* This sender's claim of recipient d of campaign (its message's id
 * message) undone: the recipient in state to, with no message.  It is
 * queued still: its message was never written, so no status moved it. */
static inbox_status_t
inbox_mongo_claim_back(inbox_mongo_store_t *ms, const bson_oid_t *campaign,
    const inbox_mongo_due_t *d, const bson_oid_t *message,
    inbox_recipient_state_t to, inbox_error_t *err)
{
    int             matched;
    inbox_status_t  rc;

    rc = inbox_mongo_update_one(ms, "campaign_recipients",
        BCON_NEW("_id", BCON_OID(&d->id),
                 "message_id", BCON_OID(message),
                 "state", BCON_UTF8(inbox_recipient_state_name(
                              INBOX_RECIPIENT_QUEUED))),
        BCON_NEW("$set", "{",
                     "state", BCON_UTF8(inbox_recipient_state_name(to)),
                     "message_id", BCON_NULL,
                     "sent_at", BCON_NULL,
                 "}"),
        &matched, err);

    if (rc != INBOX_OK || !matched) {
        return rc;
    }

    return inbox_mongo_counts_move(ms, campaign, INBOX_RECIPIENT_QUEUED, to,
                                   1, err);
}


/* A recipient of campaign from its state (as read) to, with its due
 * time. */
static inbox_status_t
inbox_mongo_recipient_set(inbox_mongo_store_t *ms, const bson_oid_t *campaign,
    const bson_oid_t *id, inbox_recipient_state_t from,
    inbox_recipient_state_t to, int64_t due_at, int *moved,
    inbox_error_t *err)
{
    inbox_status_t  rc;

    rc = inbox_mongo_update_one(ms, "campaign_recipients",
        BCON_NEW("_id", BCON_OID(id),
                 "state", BCON_UTF8(inbox_recipient_state_name(from))),
        BCON_NEW("$set", "{",
                     "state", BCON_UTF8(inbox_recipient_state_name(to)),
                     "due_at", BCON_DATE_TIME(due_at),
                 "}"),
        moved, err);

    if (rc != INBOX_OK || !*moved) {
        return rc;
    }

    return inbox_mongo_counts_move(ms, campaign, from, to, 1, err);
}


inbox_status_t
inbox_mongo_recipient_delivery(inbox_mongo_store_t *ms,
    const bson_oid_t *message, inbox_delivery_t to, const char *error_code,
    inbox_error_t *err)
{
    int                      found;
    char                     key[24];
    bson_t                   in, was;
    bson_t                  *command;
    unsigned                 i, j, n, k;
    inbox_status_t           rc;
    const char              *names[INBOX_DELIVERY_COUNT];
    inbox_delivery_t         before[INBOX_DELIVERY_COUNT];
    inbox_recipient_state_t  state;

    state = inbox_recipient_of_delivery(to, error_code);

    /* the states of the statuses before to, but state itself: only
     * forward, whatever order two moves are written in (by status
     * alone: an opt-out's code comes with a final one) */
    n = inbox_delivery_before(to, before);
    k = 0;

    for (i = 0; i < n; i++) {
        names[k] = inbox_recipient_state_name(
                       inbox_recipient_of_delivery(before[i], NULL));

        for (j = 0; j < k && strcmp(names[j], names[k]) != 0; j++) {
            /* void */
        }

        if (j == k
            && inbox_recipient_of_delivery(before[i], NULL) != state)
        {
            k++;
        }
    }

    if (k == 0) {
        return INBOX_OK;
    }

    bson_init(&in);
    for (i = 0; i < k; i++) {
        snprintf(key, sizeof(key), "%u", i);
        BSON_APPEND_UTF8(&in, key, names[i]);
    }

    /* the recipient as it was: the state it leaves is counted down */
    command = BCON_NEW("findAndModify", BCON_UTF8("campaign_recipients"),
                       "query", "{",
                           "message_id", BCON_OID(message),
                           "state", "{", "$in", BCON_ARRAY(&in), "}",
                       "}",
                       "update", "{", "$set", "{",
                           "state", BCON_UTF8(
                               inbox_recipient_state_name(state)),
                       "}", "}",
                       "fields", "{",
                           "campaign_id", BCON_INT32(1),
                           "state", BCON_INT32(1),
                       "}",
                       "new", BCON_BOOL(false));
    bson_destroy(&in);

    rc = inbox_mongo_run_find_and_modify(ms, command, &was, &found, err);

    if (rc == INBOX_OK) {
        rc = inbox_mongo_counts_moved(ms, &was, found, state, err);
    }

    bson_destroy(&was);

    return rc;
}


/* The message failed already (its recipient with it): the recipient is
 * counted in state instead, as cancel counts those never handed over
 * cancelled. */
inbox_status_t
inbox_mongo_recipient_unsent(inbox_mongo_store_t *ms,
    const bson_oid_t *message, inbox_recipient_state_t state,
    inbox_error_t *err)
{
    int             found;
    bson_t          before;
    const char     *name;
    inbox_status_t  rc;

    name = inbox_recipient_state_name(state);

    /* the recipient as it was, unless in state already (a repeat) */
    rc = inbox_mongo_run_find_and_modify(ms,
        BCON_NEW("findAndModify", BCON_UTF8("campaign_recipients"),
                 "query", "{",
                     "message_id", BCON_OID(message),
                     "state", "{", "$ne", BCON_UTF8(name), "}",
                 "}",
                 "update", "{", "$set", "{",
                     "state", BCON_UTF8(name),
                 "}", "}",
                 "fields", "{",
                     "campaign_id", BCON_INT32(1),
                     "state", BCON_INT32(1),
                 "}",
                 "new", BCON_BOOL(false)),
        &before, &found, err);

    if (rc == INBOX_OK) {
        rc = inbox_mongo_counts_moved(ms, &before, found, state, err);
    }

    bson_destroy(&before);

    return rc;
}


/* Whether array (of ObjectIds) holds oid. */
static int
inbox_mongo_oid_listed(const bson_t *array, const bson_oid_t *oid)
{
    bson_iter_t  iter;

    bson_iter_init(&iter, array);

    while (bson_iter_next(&iter)) {
        if (BSON_ITER_HOLDS_OID(&iter)
            && bson_oid_equal(bson_iter_oid(&iter), oid))
        {
            return 1;
        }
    }

    return 0;
}


inbox_status_t
inbox_mongo_recipient_waits(inbox_mongo_store_t *ms,
    const bson_oid_t *messages, size_t n, int waits, inbox_error_t *err)
{
    char                     key[24];
    bson_t                   in, batch, doc, campaigns;
    size_t                   i, count;
    bson_iter_t              iter, field;
    inbox_status_t           rc;
    inbox_recipient_state_t  from, to;

    if (n == 0) {
        return INBOX_OK;
    }

    from = waits ? INBOX_RECIPIENT_QUEUED : INBOX_RECIPIENT_WAITING;
    to = waits ? INBOX_RECIPIENT_WAITING : INBOX_RECIPIENT_QUEUED;

    bson_init(&in);
    for (i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "%zu", i);
        BSON_APPEND_OID(&in, key, &messages[i]);
    }

    /* the campaigns they are of (a claim's messages may be of several):
     * each one's recipients are moved by an update of their own, whose
     * count of those it moved is what its counts move by */
    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("find", BCON_UTF8("campaign_recipients"),
                 "filter", "{",
                     "message_id", "{", "$in", BCON_ARRAY(&in), "}",
                     "state", BCON_UTF8(inbox_recipient_state_name(from)),
                 "}",
                 "projection", "{",
                     "_id", BCON_INT32(0), "campaign_id", BCON_INT32(1),
                 "}"),
        &batch, err);

    bson_init(&campaigns);
    count = 0;
    bson_iter_init(&iter, &batch);

    while (rc == INBOX_OK && inbox_mongo_next_doc(&iter, &doc)) {
        if (!bson_iter_init_find(&field, &doc, "campaign_id")
            || !BSON_ITER_HOLDS_OID(&field))
        {
            continue;
        }

        if (!inbox_mongo_oid_listed(&campaigns, bson_iter_oid(&field))) {
            snprintf(key, sizeof(key), "%zu", count++);
            BSON_APPEND_OID(&campaigns, key, bson_iter_oid(&field));
        }
    }

    bson_destroy(&batch);
    bson_iter_init(&iter, &campaigns);

    while (rc == INBOX_OK && bson_iter_next(&iter)) {
        rc = inbox_mongo_recipients_move(ms, bson_iter_oid(&iter), &in, from,
                                         to, err);
    }

    bson_destroy(&campaigns);
    bson_destroy(&in);

    return rc;
}


inbox_status_t
inbox_mongo_recipients_sent(inbox_mongo_store_t *ms,
    const bson_oid_t *messages, size_t n, int64_t at, inbox_error_t *err)
{
    char            key[24];
    bson_t          in;
    size_t          i;
    inbox_status_t  rc;

    if (n == 0) {
        return INBOX_OK;
    }

    bson_init(&in);
    for (i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "%zu", i);
        BSON_APPEND_OID(&in, key, &messages[i]);
    }

    rc = inbox_mongo_run_simple(ms,
        BCON_NEW("update", BCON_UTF8("campaign_recipients"),
                 "updates", "[", "{",
                     "q", "{",
                         "message_id", "{", "$in", BCON_ARRAY(&in), "}",
                     "}",
                     "u", "{", "$max", "{",
                         "sent_at", BCON_DATE_TIME(at),
                     "}", "}",
                     "multi", BCON_BOOL(true),
                 "}", "]",
                 "ordered", BCON_BOOL(true)),
        err);
    bson_destroy(&in);

    return rc;
}


/* replies and poll answers, from ingest */

static inbox_status_t inbox_mongo_recent_sends(inbox_mongo_store_t *ms,
    const bson_oid_t *contact, int64_t at, int polls, int32_t limit,
    bson_t *batch, inbox_error_t *err);
static int inbox_mongo_recent_send(bson_iter_t *iter, bson_oid_t *recipient,
    bson_oid_t *campaign);
static inbox_status_t inbox_mongo_poll_try(inbox_mongo_store_t *ms,
    const bson_oid_t *recipient, const bson_oid_t *campaign,
    const bson_oid_t *message, int64_t at, const char *body, int *taken,
    inbox_error_t *err);


/* The contact's polls are read first (however many campaigns came
 * since): the reply answers the newest whose options it names, and that
 * poll alone counts it replied.  Any other text replies to the newest
 * campaign message the carrier took, of any kind.  One text counts on
 * one campaign at most. */
inbox_status_t
inbox_mongo_campaign_reply(inbox_mongo_store_t *ms, const bson_oid_t *contact,
    const bson_oid_t *message, int64_t at, const char *body,
    inbox_error_t *err)
{
    int             taken, found, matched;
    bson_t          batch;
    bson_oid_t      recipient, campaign;
    bson_iter_t     iter;
    inbox_status_t  rc;

    rc = inbox_mongo_recent_sends(ms, contact, at, 1,
                                  INBOX_POLL_ANSWER_POLLS_MAX, &batch, err);

    taken = 0;

    if (rc == INBOX_OK && bson_iter_init(&iter, &batch)) {
        while (rc == INBOX_OK && !taken && bson_iter_next(&iter)) {
            if (inbox_mongo_recent_send(&iter, &recipient, &campaign)) {
                rc = inbox_mongo_poll_try(ms, &recipient, &campaign, message,
                                          at, body, &taken, err);
            }
        }
    }

    bson_destroy(&batch);

    if (rc != INBOX_OK || taken) {
        return rc;
    }

    /* no answer: the newest, of any kind, is the campaign message
     * replied to */
    rc = inbox_mongo_recent_sends(ms, contact, at, 0, 1, &batch, err);

    found = 0;

    if (rc == INBOX_OK && bson_iter_init(&iter, &batch)) {
        while (!found && bson_iter_next(&iter)) {
            found = inbox_mongo_recent_send(&iter, &recipient, &campaign);
        }
    }

    bson_destroy(&batch);

    if (rc != INBOX_OK || !found) {
        return rc;
    }

    rc = inbox_mongo_update_one(ms, "campaign_recipients",
        BCON_NEW("_id", BCON_OID(&recipient), "replied_at", BCON_NULL),
        BCON_NEW("$set", "{", "replied_at", BCON_DATE_TIME(at), "}"),
        &matched, err);

    if (rc == INBOX_OK && matched) {
        rc = inbox_mongo_campaign_replied(ms, &campaign, at, err);
    }

    return rc;
}


/*
 * The contact's campaign messages (only polls' when polls) handed over in
 * the answer window before at that the carrier took by at (its message's
 * submitted_at: accepted, or an unknown outcome, which it may have) and
 * that did not fail since, newest first, at most limit: each its
 * recipient's _id and campaign_id.  One still in the outbox (the sender
 * behind, a retry's backoff) was never read.
 *
 * The taking is read where the sender records it, on the message, by a
 * $lookup after the match on the contact_sent index (the contact's few
 * recipients of the window), rather than copied onto the recipient: with
 * no transaction across the two documents, a crash between the writes
 * would leave a message taken but its recipient for ever unanswerable.
 */
static inbox_status_t
inbox_mongo_recent_sends(inbox_mongo_store_t *ms, const bson_oid_t *contact,
    int64_t at, int polls, int32_t limit, bson_t *batch, inbox_error_t *err)
{
    bson_t          filter;
    inbox_status_t  rc;

    bson_init(&filter);
    BCON_APPEND(&filter,
        "contact_id", BCON_OID(contact),
        "sent_at", "{",
            "$gte", BCON_DATE_TIME(inbox_poll_answer_since(at)),
            "$lte", BCON_DATE_TIME(at),
        "}",
        "state", "{", "$in", "[",
            BCON_UTF8(inbox_recipient_state_name(INBOX_RECIPIENT_QUEUED)),
            BCON_UTF8(inbox_recipient_state_name(INBOX_RECIPIENT_SENT)),
            BCON_UTF8(inbox_recipient_state_name(INBOX_RECIPIENT_DELIVERED)),
        "]", "}");

    if (polls) {
        BCON_APPEND(&filter, "poll", BCON_BOOL(true));
    }

    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("aggregate", BCON_UTF8("campaign_recipients"),
                 "pipeline", "[",
                     "{", "$match", BCON_DOCUMENT(&filter), "}",
                     "{", "$sort", "{", "sent_at", BCON_INT32(-1),
                                        "_id", BCON_INT32(-1), "}", "}",
                     "{", "$lookup", "{",
                         "from", BCON_UTF8("messages"),
                         "localField", BCON_UTF8("message_id"),
                         "foreignField", BCON_UTF8("_id"),
                         "as", BCON_UTF8("message"),
                     "}", "}",
                     /* a date's bound: a null or missing submitted_at,
                      * not taken, is no match */
                     "{", "$match", "{",
                         "message.submitted_at", "{",
                             "$lte", BCON_DATE_TIME(at),
                         "}",
                     "}", "}",
                     "{", "$limit", BCON_INT32(limit), "}",
                     "{", "$project", "{",
                         "campaign_id", BCON_INT32(1),
                     "}", "}",
                 "]",
                 "cursor", "{", "batchSize", BCON_INT32(limit), "}"),
        batch, err);
    bson_destroy(&filter);

    return rc;
}


/* One of inbox_mongo_recent_sends' batch: 1 when it names its recipient
 * and campaign. */
static int
inbox_mongo_recent_send(bson_iter_t *iter, bson_oid_t *recipient,
    bson_oid_t *campaign)
{
    char            id[INBOX_ID_MAX], poll[INBOX_ID_MAX];
    bson_t          doc;

    if (!inbox_mongo_iter_doc(iter, &doc)) {
        return 0;
    }

    inbox_mongo_get_id(&doc, "_id", id);
    inbox_mongo_get_id(&doc, "campaign_id", poll);

    return inbox_mongo_parse_id(id, recipient) == 0
           && inbox_mongo_parse_id(poll, campaign) == 0;
}


/* The reply as an answer to one poll: *taken 1 when it names one of its
 * options; then the recipient replied (the poll it answers, whichever
 * campaign came since), and the answer recorded unless a newer one
 * is. */
static inbox_status_t
inbox_mongo_poll_try(inbox_mongo_store_t *ms, const bson_oid_t *recipient,
    const bson_oid_t *campaign, const bson_oid_t *message, int64_t at,
    const char *body, int *taken, inbox_error_t *err)
{
    int             found, matched;
    char            entered[24], left[24];
    bson_t          doc;
    size_t          n;
    unsigned        answer, before;
    bson_iter_t     iter, child;
    const char     *options[INBOX_POLL_OPTIONS_MAX];
    inbox_status_t  rc;

    rc = inbox_mongo_find_one(ms, "campaigns",
                              BCON_NEW("_id", BCON_OID(campaign)),
                              BCON_NEW("options", BCON_INT32(1)),
                              &doc, &found, err);

    n = 0;

    if (rc == INBOX_OK && found
        && bson_iter_init_find(&iter, &doc, "options")
        && BSON_ITER_HOLDS_ARRAY(&iter)
        && bson_iter_recurse(&iter, &child))
    {
        while (n < INBOX_POLL_OPTIONS_MAX && bson_iter_next(&child)) {
            options[n++] = BSON_ITER_HOLDS_UTF8(&child)
                           ? bson_iter_utf8(&child, NULL) : "";
        }
    }

    answer = inbox_poll_answer(body, strlen(body), options, n);
    bson_destroy(&doc);

    *taken = answer != 0;

    if (rc != INBOX_OK || answer == 0) {
        return rc;
    }

    /* the poll answered is the one replied to */
    rc = inbox_mongo_update_one(ms, "campaign_recipients",
        BCON_NEW("_id", BCON_OID(recipient), "replied_at", BCON_NULL),
        BCON_NEW("$set", "{", "replied_at", BCON_DATE_TIME(at), "}"),
        &matched, err);

    if (rc == INBOX_OK && matched) {
        rc = inbox_mongo_campaign_replied(ms, campaign, at, err);
    }

    if (rc != INBOX_OK) {
        return rc;
    }

    /* the last answer counts: one that arrives late for an earlier time
     * does not replace a newer one.  The answer it replaces, read in the
     * same write, leaves the tally as this one enters it */
    rc = inbox_mongo_run_find_and_modify(ms,
        BCON_NEW("findAndModify", BCON_UTF8("campaign_recipients"),
                 "query", "{",
                     "_id", BCON_OID(recipient),
                     "$or", "[",
                         "{", "answered_at", BCON_NULL, "}",
                         "{", "answered_at", "{",
                             "$lte", BCON_DATE_TIME(at),
                         "}", "}",
                     "]",
                 "}",
                 "update", "{", "$set", "{",
                     "answer", BCON_INT32((int32_t) answer),
                     "answered_at", BCON_DATE_TIME(at),
                     "answer_message_id", BCON_OID(message),
                 "}", "}",
                 "fields", "{", "answer", BCON_INT32(1), "}",
                 "new", BCON_BOOL(false)),
        &doc, &found, err);

    before = (unsigned) inbox_mongo_get_int(&doc, "answer");
    bson_destroy(&doc);

    if (rc != INBOX_OK || !found) {
        return rc;
    }

    if (before != answer) {
        snprintf(entered, sizeof(entered), "tally.%u", answer);
        snprintf(left, sizeof(left), "tally.%u", before);

        rc = inbox_mongo_counts_add(ms, campaign, entered, 1,
                                    before != 0 ? left : NULL, -1, err);
        if (rc != INBOX_OK) {
            return rc;
        }
    }

    /* the poll's latest answer: the sender pushes its tally while they
     * come (inbox_mongo_campaigns_active) */
    return inbox_mongo_update_one(ms, "campaigns",
        BCON_NEW("_id", BCON_OID(campaign)),
        BCON_NEW("$max", "{", "answered_at", BCON_DATE_TIME(at), "}"),
        &matched, err);
}


/* polls' results, contacts' campaigns */

inbox_status_t
inbox_mongo_poll_results(inbox_store_t *store, const char *org_id,
    const char *poll_id, const char *cursor, unsigned limit,
    inbox_poll_results_t *results, inbox_error_t *err)
{
    int                     keyset;
    char                    last[INBOX_ID_MAX];
    bson_t                  match, batch, doc, keyset_or;
    int64_t                 after_ms, last_ms;
    bson_oid_t              org, id, after;
    bson_iter_t             iter;
    inbox_status_t          rc;
    inbox_mongo_store_t    *ms = (inbox_mongo_store_t *) store;
    inbox_poll_response_t  *p;

    keyset = cursor != NULL && cursor[0] != '\0';

    if (keyset) {
        rc = inbox_mongo_cursor_parse(cursor, &after_ms, &after, err);
        if (rc != INBOX_OK) {
            return rc;
        }
    }

    rc = inbox_mongo_campaign_ids(org_id, poll_id, &org, &id, err);
    if (rc != INBOX_OK) {
        return inbox_error_not_found(err, "poll");
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_campaign_load(ms, &org, &id, &results->poll, err);

    if (rc == INBOX_ERR_NOT_FOUND
        || (rc == INBOX_OK && results->poll.kind != INBOX_CAMPAIGN_KIND_POLL))
    {
        rc = inbox_error_not_found(err, "poll");
    }

    if (rc != INBOX_OK) {
        goto done;
    }

    /* the tally came with the poll (inbox_mongo_campaign_counts) */
    results->responses = calloc(limit, sizeof(inbox_poll_response_t));
    if (results->responses == NULL) {
        rc = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        goto done;
    }

    /* a page of the newest responses after the keyset, with who gave
     * them; one more than the page tells whether older ones exist */
    bson_init(&match);
    BSON_APPEND_OID(&match, "campaign_id", &id);
    BCON_APPEND(&match, "answer", "{", "$ne", BCON_NULL, "}");

    if (keyset) {
        BSON_APPEND_ARRAY_BEGIN(&match, "$or", &keyset_or);
        BCON_APPEND(&keyset_or,
                    "0", "{", "answered_at", "{",
                        "$lt", BCON_DATE_TIME(after_ms), "}", "}",
                    "1", "{", "answered_at", BCON_DATE_TIME(after_ms),
                        "_id", "{", "$lt", BCON_OID(&after), "}", "}");
        bson_append_array_end(&match, &keyset_or);
    }

    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("aggregate", BCON_UTF8("campaign_recipients"),
                 "pipeline", "[",
                     "{", "$match", BCON_DOCUMENT(&match), "}",
                     "{", "$sort", "{",
                         "answered_at", BCON_INT32(-1), "_id", BCON_INT32(-1),
                     "}", "}",
                     "{", "$limit", BCON_INT32((int32_t) limit + 1),
                     "}",
                     "{", "$lookup", "{",
                         "from", BCON_UTF8("contacts"),
                         "localField", BCON_UTF8("contact_id"),
                         "foreignField", BCON_UTF8("_id"),
                         "as", BCON_UTF8("contact"),
                     "}", "}",
                     "{", "$project", "{",
                         "contact_id", BCON_INT32(1),
                         "answer", BCON_INT32(1),
                         "answered_at", BCON_INT32(1),
                         "answer_message_id", BCON_INT32(1),
                         "contact.phone", BCON_INT32(1),
                         "contact.name", BCON_INT32(1),
                     "}", "}",
                 "]",
                 "cursor", "{",
                     "batchSize", BCON_INT32((int32_t) limit + 1),
                 "}"),
        &batch, err);

    bson_destroy(&match);
    bson_iter_init(&iter, &batch);
    last_ms = 0;

    while (rc == INBOX_OK && inbox_mongo_next_doc(&iter, &doc)) {
        if (results->count == limit) {
            inbox_mongo_cursor_make(last_ms, last, results->next_cursor);
            break;
        }

        last_ms = inbox_mongo_get_date(&doc, "answered_at");
        inbox_mongo_get_id(&doc, "_id", last);
        p = &results->responses[results->count++];
        inbox_mongo_get_id(&doc, "contact_id", p->contact_id);
        inbox_mongo_get_str(&doc, "contact.0.phone", p->phone,
                            sizeof(p->phone));
        p->name = inbox_mongo_dup_str(&doc, "contact.0.name");
        p->answer = (unsigned) inbox_mongo_get_int(&doc, "answer");
        p->answered_at = inbox_mongo_get_date(&doc, "answered_at");
        inbox_mongo_get_id(&doc, "answer_message_id", p->message_id);
    }

    bson_destroy(&batch);

done:

    if (rc != INBOX_OK) {
        inbox_poll_results_free(results);
    }

    return rc;
}


/* A place in a contact's list of sends or answers (campaign.h): *oid
 * its id, NULL for "" (after every one at its time); 0 or -1 for an id
 * no list gave. */
static int
inbox_mongo_send_after(const char *s, bson_oid_t *id, const bson_oid_t **oid)
{
    *oid = NULL;

    if (s[0] == '\0') {
        return 0;
    }

    *oid = id;

    return inbox_mongo_parse_id(s, id);
}


/* The $match of a contact's sends or answers into match (time_field
 * "sent_at" or "answered_at", which it has): after (ms, oid) when after
 * is set, older than ms when oid is NULL then. */
static void
inbox_mongo_contact_sends_match(bson_t *match, const bson_oid_t *contact,
    const char *time_field, int after, int64_t ms, const bson_oid_t *oid)
{
    bson_t  cmp, or;

    bson_init(match);
    BSON_APPEND_OID(match, "contact_id", contact);
    BSON_APPEND_DOCUMENT_BEGIN(match, time_field, &cmp);

    if (after && oid == NULL) {
        BSON_APPEND_DATE_TIME(&cmp, "$lt", ms);
    } else {
        BSON_APPEND_NULL(&cmp, "$ne");
    }

    bson_append_document_end(match, &cmp);

    if (after && oid != NULL) {
        BSON_APPEND_ARRAY_BEGIN(match, "$or", &or);
        inbox_mongo_append_keyset(&or, time_field, ms, oid);
        bson_append_array_end(match, &or);
    }
}


inbox_status_t
inbox_mongo_contact_campaigns(inbox_store_t *store, const char *org_id,
    const char *contact_id, const inbox_contact_campaigns_after_t *after,
    unsigned limit, inbox_contact_campaigns_t *list, inbox_error_t *err)
{
    int                        found;
    char                       kind[16], path[48], state[24];
    bson_t                     batch, doc, match, ne;
    size_t                     n;
    bson_oid_t                 org, contact, sent, answered;
    bson_iter_t                iter;
    const bson_oid_t          *sent_oid, *answered_oid;
    inbox_status_t             rc;
    inbox_mongo_store_t       *ms = (inbox_mongo_store_t *) store;
    inbox_contact_poll_t      *p;
    inbox_contact_campaign_t  *c;

    if (inbox_mongo_parse_id(org_id, &org) != 0
        || inbox_mongo_parse_id(contact_id, &contact) != 0)
    {
        return inbox_error_not_found(err, "contact");
    }

    sent_oid = NULL;
    answered_oid = NULL;

    if (after != NULL
        && (inbox_mongo_send_after(after->sent_id, &sent, &sent_oid) != 0
            || inbox_mongo_send_after(after->answered_id, &answered,
                                      &answered_oid)
               != 0))
    {
        return inbox_error_cursor(err);
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_find_one(ms, "contacts",
                              BCON_NEW("_id", BCON_OID(&contact),
                                       "org_id", BCON_OID(&org)),
                              BCON_NEW("_id", BCON_INT32(1)),
                              &doc, &found, err);
    bson_destroy(&doc);

    if (rc == INBOX_OK && !found) {
        rc = inbox_error_not_found(err, "contact");
    }

    if (rc != INBOX_OK) {
        return rc;
    }

    /* what was handed over to it, newest first from its place on
     * (contact_sent's keys), with its message's status now and its
     * state */
    inbox_mongo_contact_sends_match(&match, &contact, "sent_at",
                                    after != NULL,
                                    after ? after->sent_at : 0, sent_oid);

    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("aggregate", BCON_UTF8("campaign_recipients"),
                 "pipeline", "[",
                     "{", "$match", BCON_DOCUMENT(&match), "}",
                     "{", "$sort", "{",
                         "sent_at", BCON_INT32(-1), "_id", BCON_INT32(-1),
                     "}", "}",
                     "{", "$limit", BCON_INT32((int32_t) limit), "}",
                     "{", "$lookup", "{",
                         "from", BCON_UTF8("campaigns"),
                         "localField", BCON_UTF8("campaign_id"),
                         "foreignField", BCON_UTF8("_id"),
                         "as", BCON_UTF8("campaign"),
                     "}", "}",
                     "{", "$lookup", "{",
                         "from", BCON_UTF8("messages"),
                         "localField", BCON_UTF8("message_id"),
                         "foreignField", BCON_UTF8("_id"),
                         "as", BCON_UTF8("message"),
                     "}", "}",
                     "{", "$project", "{",
                         "campaign_id", BCON_INT32(1),
                         "sent_at", BCON_INT32(1),
                         "state", BCON_INT32(1),
                         "campaign.kind", BCON_INT32(1),
                         "campaign.name", BCON_INT32(1),
                         "message.status", BCON_INT32(1),
                     "}", "}",
                 "]",
                 "cursor", "{",
                     "batchSize", BCON_INT32((int32_t) limit),
                 "}"),
        &batch, err);
    bson_destroy(&match);

    n = rc == INBOX_OK ? bson_count_keys(&batch) : 0;

    if (n > 0) {
        list->campaigns = calloc(n, sizeof(inbox_contact_campaign_t));
        if (list->campaigns == NULL) {
            rc = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        }
    }

    bson_iter_init(&iter, &batch);

    while (rc == INBOX_OK && list->campaign_count < n
           && inbox_mongo_next_doc(&iter, &doc))
    {
        c = &list->campaigns[list->campaign_count++];
        inbox_mongo_get_id(&doc, "campaign_id", c->id);
        inbox_mongo_get_id(&doc, "_id", c->send_id);
        inbox_mongo_get_str(&doc, "campaign.0.kind", kind, sizeof(kind));
        (void) inbox_campaign_kind_parse(kind, &c->kind);
        c->name = inbox_mongo_dup_str(&doc, "campaign.0.name");
        c->sent_at = inbox_mongo_get_date(&doc, "sent_at");
        inbox_mongo_get_str(&doc, "message.0.status", c->status,
                            sizeof(c->status));
        inbox_mongo_get_str(&doc, "state", state, sizeof(state));
        (void) inbox_recipient_state_parse(state, &c->state);

        if (c->name == NULL) {
            rc = inbox_error_set(err, INBOX_ERR_INTERNAL,
                                 "A contact's campaign has no name.");
        }
    }

    bson_destroy(&batch);

    if (rc != INBOX_OK) {
        goto done;
    }

    /* its answers to polls, newest first from their place on, with the
     * option's text: on contact_answered's keys, named (on contact_sent's,
     * the planner's other choice, every send of the contact is read and
     * sorted) */
    inbox_mongo_contact_sends_match(&match, &contact, "answered_at",
                                    after != NULL,
                                    after ? after->answered_at : 0,
                                    answered_oid);
    BSON_APPEND_DOCUMENT_BEGIN(&match, "answer", &ne);
    BSON_APPEND_NULL(&ne, "$ne");
    bson_append_document_end(&match, &ne);

    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("aggregate", BCON_UTF8("campaign_recipients"),
                 "pipeline", "[",
                     "{", "$match", BCON_DOCUMENT(&match), "}",
                     "{", "$sort", "{",
                         "answered_at", BCON_INT32(-1), "_id", BCON_INT32(-1),
                     "}", "}",
                     "{", "$limit", BCON_INT32((int32_t) limit), "}",
                     "{", "$lookup", "{",
                         "from", BCON_UTF8("campaigns"),
                         "localField", BCON_UTF8("campaign_id"),
                         "foreignField", BCON_UTF8("_id"),
                         "as", BCON_UTF8("campaign"),
                     "}", "}",
                     "{", "$project", "{",
                         "campaign_id", BCON_INT32(1),
                         "answer", BCON_INT32(1),
                         "answered_at", BCON_INT32(1),
                         "campaign.question", BCON_INT32(1),
                         "campaign.options", BCON_INT32(1),
                     "}", "}",
                 "]",
                 "cursor", "{",
                     "batchSize", BCON_INT32((int32_t) limit),
                 "}",
                 "hint", BCON_UTF8("contact_answered")),
        &batch, err);
    bson_destroy(&match);

    n = rc == INBOX_OK ? bson_count_keys(&batch) : 0;

    if (n > 0) {
        list->polls = calloc(n, sizeof(inbox_contact_poll_t));
        if (list->polls == NULL) {
            rc = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        }
    }

    bson_iter_init(&iter, &batch);

    while (rc == INBOX_OK && list->poll_count < n
           && inbox_mongo_next_doc(&iter, &doc))
    {
        p = &list->polls[list->poll_count++];
        inbox_mongo_get_id(&doc, "campaign_id", p->poll_id);
        inbox_mongo_get_id(&doc, "_id", p->send_id);
        p->question = inbox_mongo_dup_str(&doc, "campaign.0.question");
        p->answer = (unsigned) inbox_mongo_get_int(&doc, "answer");
        p->answered_at = inbox_mongo_get_date(&doc, "answered_at");

        snprintf(path, sizeof(path), "campaign.0.options.%u",
                 p->answer > 0 ? p->answer - 1 : 0);
        p->answer_text = inbox_mongo_dup_str(&doc, path);

        if (p->question == NULL || p->answer_text == NULL) {
            rc = inbox_error_set(err, INBOX_ERR_INTERNAL,
                                 "A contact's poll answer names no option.");
        }
    }

    bson_destroy(&batch);

done:

    if (rc != INBOX_OK) {
        inbox_contact_campaigns_free(list);
    }

    return rc;
}


/* reading a campaign */

static inbox_status_t
inbox_mongo_campaign_ids(const char *org_id, const char *campaign_id,
    bson_oid_t *org, bson_oid_t *id, inbox_error_t *err)
{
    /* a malformed id names nothing, like another organization's */
    if (inbox_mongo_parse_id(org_id, org) != 0
        || inbox_mongo_parse_id(campaign_id, id) != 0)
    {
        return inbox_error_not_found(err, "campaign");
    }

    return INBOX_OK;
}


/* One campaign of the organization's, with its counts. */
inbox_status_t
inbox_mongo_campaign_load(inbox_mongo_store_t *ms, const bson_oid_t *org,
    const bson_oid_t *id, inbox_campaign_t *c, inbox_error_t *err)
{
    int             found;
    bson_t          doc, uncounted;
    inbox_status_t  rc;

    memset(c, 0, sizeof(inbox_campaign_t));

    rc = inbox_mongo_find_one(ms, "campaigns",
                              BCON_NEW("_id", BCON_OID(id),
                                       "org_id", BCON_OID(org)),
                              NULL, &doc, &found, err);

    if (rc == INBOX_OK && !found) {
        rc = inbox_error_not_found(err, "campaign");
    }

    bson_init(&uncounted);

    if (rc == INBOX_OK
        && inbox_mongo_campaign_read(&doc, c, &uncounted) != 0)
    {
        rc = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    bson_destroy(&doc);

    if (rc == INBOX_OK) {
        rc = inbox_mongo_campaign_counts(ms, c, 1, &uncounted, err);
    } else {
        bson_destroy(&uncounted);
    }

    if (rc != INBOX_OK) {
        inbox_campaign_free(c);
    }

    return rc;
}


/* A campaign document into *c (its counts zero); -1 when out of memory,
 * *c freed. */
static int
inbox_mongo_campaign_parse(const bson_t *doc, inbox_campaign_t *c)
{
    int             oom;
    char            name[32];
    size_t          n;
    bson_t          item;
    bson_iter_t     iter, child;
    const char     *text;
    inbox_media_t  *m;

    memset(c, 0, sizeof(inbox_campaign_t));

    inbox_mongo_get_id(doc, "_id", c->id);
    inbox_mongo_get_id(doc, "org_id", c->org_id);
    inbox_mongo_get_str(doc, "kind", name, sizeof(name));
    (void) inbox_campaign_kind_parse(name, &c->kind);
    c->name = inbox_mongo_dup_str(doc, "name");
    c->body = inbox_mongo_dup_str(doc, "body");
    c->question = inbox_mongo_dup_str(doc, "question");
    c->audience_all = inbox_mongo_get_bool(doc, "audience_all");
    c->segments = (unsigned) inbox_mongo_get_int(doc, "segments");
    c->credits = (unsigned) inbox_mongo_get_int(doc, "credits");
    inbox_mongo_get_str(doc, "status", name, sizeof(name));
    (void) inbox_campaign_status_parse(name, &c->status);
    inbox_mongo_get_str(doc, "paused_reason", name, sizeof(name));
    (void) inbox_pause_reason_parse(name, &c->paused_reason);
    inbox_mongo_get_str(doc, "cancelled_reason", name, sizeof(name));
    (void) inbox_cancel_reason_parse(name, &c->cancelled_reason);
    c->cancelled_message = inbox_mongo_dup_str(doc, "cancelled_message");
    inbox_mongo_get_str(doc, "paused_number", c->paused_number,
                        sizeof(c->paused_number));
    inbox_mongo_get_str(doc, "paused_error_code", c->paused_error_code,
                        sizeof(c->paused_error_code));
    c->send_at = inbox_mongo_get_date(doc, "send_at");
    c->revision = inbox_mongo_get_int(doc, "revision");
    c->created_at = inbox_mongo_get_date(doc, "created_at");
    c->started_at = inbox_mongo_get_date(doc, "started_at");
    c->finished_at = inbox_mongo_get_date(doc, "finished_at");
    c->handed_at = inbox_mongo_get_date(doc, "handed_at");

    /* made before it was kept (absent, not null): taken as handed over
     * once it started, unless cancelled for its text as it did */
    if (!bson_iter_init_find(&iter, doc, "handed_at")
        && c->cancelled_reason != INBOX_CANCEL_TEXT_REFUSED)
    {
        c->handed_at = c->started_at;
    }

    oom = c->name == NULL || c->body == NULL;

    if (bson_iter_init_find(&iter, doc, "options")
        && BSON_ITER_HOLDS_ARRAY(&iter) && bson_iter_recurse(&iter, &child))
    {
        while (!oom && c->option_count < INBOX_POLL_OPTIONS_MAX
               && bson_iter_next(&child))
        {
            text = BSON_ITER_HOLDS_UTF8(&child)
                   ? bson_iter_utf8(&child, NULL) : "";
            c->options[c->option_count] = strdup(text);
            oom = c->options[c->option_count++] == NULL;
        }
    }

    if (bson_iter_init_find(&iter, doc, "tags")
        && BSON_ITER_HOLDS_ARRAY(&iter) && bson_iter_recurse(&iter, &child))
    {
        while (!oom && bson_iter_next(&child)) {
            if (BSON_ITER_HOLDS_UTF8(&child)) {
                text = bson_iter_utf8(&child, NULL);
                oom = inbox_tags_add_stored(&c->tags, text, NULL)
                      == INBOX_ERR_INTERNAL;
            }
        }
    }

    /* its images, ours */
    n = 0;

    if (bson_iter_init_find(&iter, doc, "media")
        && BSON_ITER_HOLDS_ARRAY(&iter) && bson_iter_recurse(&iter, &child))
    {
        while (!oom && n < INBOX_MEDIA_MAX
               && inbox_mongo_next_doc(&child, &item))
        {
            if (c->media == NULL) {
                c->media = calloc(INBOX_MEDIA_MAX, sizeof(inbox_media_t));
                oom = c->media == NULL;

                if (oom) {
                    break;
                }
            }

            m = &c->media[n++];
            inbox_mongo_get_str(&item, "url", m->url, sizeof(m->url));
            inbox_mongo_get_str(&item, "content_type", m->content_type,
                                sizeof(m->content_type));
            inbox_mongo_get_str(&item, "file", m->file, sizeof(m->file));
            m->bytes = inbox_mongo_get_int(&item, "bytes");
            m->state = INBOX_MEDIA_STORED;
            /* "" from a document of before */
            inbox_mongo_get_id(&item, "upload_id", m->upload_id);
        }
    }

    c->media_count = n;

    if (oom) {
        inbox_campaign_free(c);
        return -1;
    }

    return 0;
}


/* The counts of those of items that keep none (sent before campaigns
 * kept them; their ids uncounted, destroyed here): their recipients
 * grouped by campaign, state and a poll's answer, and how many of them
 * replied, in one aggregate. */
static inbox_status_t
inbox_mongo_campaign_counts(inbox_mongo_store_t *ms, inbox_campaign_t *items,
    size_t n, bson_t *uncounted, inbox_error_t *err)
{
    char                     id[INBOX_ID_MAX], name[32];
    bson_t                   batch, doc;
    size_t                   i;
    int64_t                  count, answer;
    bson_iter_t              iter;
    inbox_status_t           rc;
    inbox_campaign_t        *c;
    inbox_recipient_state_t  state;

    if (n == 0 || bson_empty(uncounted)) {
        bson_destroy(uncounted);
        return INBOX_OK;
    }

    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("aggregate", BCON_UTF8("campaign_recipients"),
                 "pipeline", "[",
                     "{", "$match", "{",
                         "campaign_id", "{",
                             "$in", BCON_ARRAY(uncounted),
                         "}",
                     "}", "}",
                     "{", "$group", "{",
                         "_id", "{",
                             "campaign", BCON_UTF8("$campaign_id"),
                             "state", BCON_UTF8("$state"),
                             "answer", BCON_UTF8("$answer"),
                         "}",
                         "n", "{", "$sum", BCON_INT32(1), "}",
                         "replied", "{", "$sum", "{", "$cond", "[",
                             "{", "$ifNull", "[",
                                 BCON_UTF8("$replied_at"), BCON_BOOL(false),
                             "]", "}",
                             BCON_INT32(1), BCON_INT32(0),
                         "]", "}", "}",
                     "}", "}",
                 "]",
                 "cursor", "{", "}"),
        &batch, err);
    bson_destroy(uncounted);

    bson_iter_init(&iter, &batch);

    while (rc == INBOX_OK && inbox_mongo_next_doc(&iter, &doc)) {
        inbox_mongo_get_id(&doc, "_id.campaign", id);
        inbox_mongo_get_str(&doc, "_id.state", name, sizeof(name));

        if (inbox_recipient_state_parse(name, &state) != 0) {
            continue;
        }

        for (i = 0; i < n && strcmp(items[i].id, id) != 0; i++) {
            /* void */
        }

        if (i == n) {
            continue;
        }

        c = &items[i];
        count = inbox_mongo_get_int(&doc, "n");
        *inbox_campaign_count_of(&c->counts, state) += count;
        c->counts.audience += count;

        /* sent before it kept counts: its suppressed cannot be told
         * apart, and keep the recipients they showed */
        if (state == INBOX_RECIPIENT_SUPPRESSED) {
            c->counts.excluded += count;
        }

        c->counts.replied += inbox_mongo_get_int(&doc, "replied");

        answer = inbox_mongo_get_int(&doc, "_id.answer");

        if (answer >= 1 && answer <= INBOX_POLL_OPTIONS_MAX) {
            c->tally[answer - 1] += count;
        }
    }

    bson_destroy(&batch);

    return rc;
}


/* Where a recipient in state is counted on its campaign's document:
 * "counts.queued" for a due one too, as inbox_campaign_count_of counts
 * it, so that a hand-over from due moves no count. */
static const char *
inbox_mongo_count_path(inbox_recipient_state_t state, char *path,
    size_t size)
{
    if (state == INBOX_RECIPIENT_DUE) {
        state = INBOX_RECIPIENT_QUEUED;
    }

    snprintf(path, size, "counts.%s", inbox_recipient_state_name(state));

    return path;
}


/* The counts kept on a campaign's document: n by "by" at path, and n2 at
 * path2 (NULL: none) in the same update, so that a recipient moved
 * leaves one count as it enters the other.  Only a campaign that keeps
 * them ("counts" made by create or by send's fix: see the top of this
 * file); another's are grouped when read. */
static inbox_status_t
inbox_mongo_counts_add(inbox_mongo_store_t *ms, const bson_oid_t *campaign,
    const char *path, int64_t n, const char *path2, int64_t n2,
    inbox_error_t *err)
{
    int     matched;
    bson_t  inc;
    bson_t *u;

    bson_init(&inc);
    BSON_APPEND_INT64(&inc, path, n);
    if (path2 != NULL) {
        BSON_APPEND_INT64(&inc, path2, n2);
    }

    u = BCON_NEW("$inc", BCON_DOCUMENT(&inc));
    bson_destroy(&inc);

    return inbox_mongo_update_one(ms, "campaigns",
        BCON_NEW("_id", BCON_OID(campaign),
                 "counts", "{", "$exists", BCON_BOOL(true), "}"),
        u, &matched, err);
}


/* A recipient of campaign replied at "at": counted, and the campaign's
 * replied_at moved, so that the sender pushes its replied count however
 * long after its sending ended (inbox_mongo_campaigns_active).  Apart
 * from the count, which only a campaign keeping counts has. */
static inbox_status_t
inbox_mongo_campaign_replied(inbox_mongo_store_t *ms,
    const bson_oid_t *campaign, int64_t at, inbox_error_t *err)
{
    int             matched;
    inbox_status_t  rc;

    rc = inbox_mongo_counts_add(ms, campaign, "counts.replied", 1, NULL, 0,
                                err);
    if (rc != INBOX_OK) {
        return rc;
    }

    return inbox_mongo_update_one(ms, "campaigns",
        BCON_NEW("_id", BCON_OID(campaign)),
        BCON_NEW("$max", "{", "replied_at", BCON_DATE_TIME(at), "}"),
        &matched, err);
}


/* n recipients of campaign moved from one state to another, as the
 * compare-and-set on their state that moved them said. */
/*
 * Moves the campaign's recipients in state from (of these messages only,
 * when messages is not NULL) to state to, by one update, and its counts
 * by as many as that update moved.
 */
static inbox_status_t
inbox_mongo_recipients_move(inbox_mongo_store_t *ms,
    const bson_oid_t *campaign, const bson_t *messages,
    inbox_recipient_state_t from, inbox_recipient_state_t to,
    inbox_error_t *err)
{
    bson_t          q, reply;
    bson_t         *command;
    int64_t         moved;
    inbox_status_t  rc;

    bson_init(&q);
    BSON_APPEND_OID(&q, "campaign_id", campaign);
    if (messages != NULL) {
        BCON_APPEND(&q, "message_id", "{", "$in", BCON_ARRAY(messages), "}");
    }
    BSON_APPEND_UTF8(&q, "state", inbox_recipient_state_name(from));

    command = BCON_NEW("update", BCON_UTF8("campaign_recipients"),
                 "updates", "[", "{",
                     "q", BCON_DOCUMENT(&q),
                     "u", "{", "$set", "{",
                         "state", BCON_UTF8(inbox_recipient_state_name(to)),
                     "}", "}",
                     "multi", BCON_BOOL(true),
                 "}", "]",
                 "ordered", BCON_BOOL(true));

    rc = inbox_mongo_run(ms, command, &reply, err);
    moved = rc == INBOX_OK ? inbox_mongo_get_int(&reply, "nModified") : 0;
    bson_destroy(&reply);
    bson_destroy(command);
    bson_destroy(&q);

    if (rc != INBOX_OK) {
        return rc;
    }

    return inbox_mongo_counts_move(ms, campaign, from, to, moved, err);
}


static inbox_status_t
inbox_mongo_counts_move(inbox_mongo_store_t *ms, const bson_oid_t *campaign,
    inbox_recipient_state_t from, inbox_recipient_state_t to, int64_t n,
    inbox_error_t *err)
{
    char  left[48], entered[48];

    inbox_mongo_count_path(from, left, sizeof(left));
    inbox_mongo_count_path(to, entered, sizeof(entered));

    if (n == 0 || strcmp(left, entered) == 0) {
        return INBOX_OK;
    }

    return inbox_mongo_counts_add(ms, campaign, left, -n, entered, n, err);
}


/* A recipient moved by a findAndModify that answered the document as it
 * was (before, found): its campaign's counts follow from the state it
 * had to to. */
static inbox_status_t
inbox_mongo_counts_moved(inbox_mongo_store_t *ms, const bson_t *before,
    int found, inbox_recipient_state_t to, inbox_error_t *err)
{
    char                     name[32];
    bson_iter_t              iter;
    inbox_recipient_state_t  from;

    if (!found || !bson_iter_init_find(&iter, before, "campaign_id")
        || !BSON_ITER_HOLDS_OID(&iter))
    {
        return INBOX_OK;
    }

    inbox_mongo_get_str(before, "state", name, sizeof(name));
    if (inbox_recipient_state_parse(name, &from) != 0) {
        return INBOX_OK;
    }

    return inbox_mongo_counts_move(ms, bson_iter_oid(&iter), from, to, 1,
                                   err);
}


/* The counts kept on a campaign's document into *c; 0 when it keeps
 * none (a campaign sent before it did: grouped instead). */
static int
inbox_mongo_counts_read(const bson_t *doc, inbox_campaign_t *c)
{
    char                     key[24];
    unsigned                 i;
    bson_t                   counts;
    int64_t                  n;
    bson_iter_t              iter;
    inbox_recipient_state_t  state;

    if (!bson_iter_init_find(&iter, doc, "counts")
        || !inbox_mongo_iter_doc(&iter, &counts))
    {
        return 0;
    }

    /* from waiting for quiet hours to end on: due is kept as queued
     * (inbox_mongo_count_path), read with it */
    for (state = INBOX_RECIPIENT_WAITING; state <= INBOX_RECIPIENT_CANCELLED;
         state++)
    {
        n = inbox_mongo_get_int(&counts, inbox_recipient_state_name(state));
        *inbox_campaign_count_of(&c->counts, state) = n;
        c->counts.audience += n;
    }

    c->counts.replied = inbox_mongo_get_int(&counts, "replied");

    /* a campaign sent before it kept its excluded: its suppressed
     * cannot be told apart, and keep the recipients they showed */
    c->counts.excluded = bson_iter_init_find(&iter, &counts, "excluded")
                         ? inbox_mongo_get_int(&counts, "excluded")
                         : c->counts.suppressed;

    for (i = 0; i < INBOX_POLL_OPTIONS_MAX; i++) {
        snprintf(key, sizeof(key), "tally.%u", i + 1);
        c->tally[i] = inbox_mongo_get_int(doc, key);
    }

    return 1;
}


/* A campaign document into *c, with its counts when it keeps them;
 * otherwise its id is appended to uncounted (NULL: not wanted), whose
 * counts are grouped.  -1 when out of memory, *c freed. */
static int
inbox_mongo_campaign_read(const bson_t *doc, inbox_campaign_t *c,
    bson_t *uncounted)
{
    char        key[24];
    bson_iter_t iter;

    if (inbox_mongo_campaign_parse(doc, c) != 0) {
        return -1;
    }

    if (!inbox_mongo_counts_read(doc, c) && uncounted != NULL
        && bson_iter_init_find(&iter, doc, "_id")
        && BSON_ITER_HOLDS_OID(&iter))
    {
        snprintf(key, sizeof(key), "%u", bson_count_keys(uncounted));
        BSON_APPEND_OID(uncounted, key, bson_iter_oid(&iter));
    }

    return 0;
}


/*
 * Counted as send would fix them (inbox_mongo_campaign_fix), each count
 * meant to be answered from an index, reading no contact: every field
 * each query names is a key of one index, and a count needs no other,
 * so the planner has no FETCH to add (by its rules; explain is not run
 * by a test).  The audience on the contacts' org_phone_unique (org_id
 * alone: all) or org_tag_created_search (org_id, tag_keys: a contact
 * with two of the tags is two keys there, the scan dedups it); its
 * opted-out ones on org_opted_out_tags, which holds only opted-out
 * contacts (a partial index, chosen for the query's opted_out: true).
 * The preview a person asks for while drafting a campaign no longer
 * reads every contact of an organization of 100,000.  A campaign with
 * images counts those pictures reach as well, the phone a key of both
 * audience indexes; of them, the opted-out ones are read (a FETCH on
 * org_opted_out_tags, which has no phone), few as they are.
 */
inbox_status_t
inbox_mongo_campaign_audience(inbox_store_t *store, const char *org_id,
    int audience_all, const inbox_tags_t *tags, int64_t *recipients,
    int64_t *suppressed, int64_t *no_mms, inbox_error_t *err)
{
    char                  key[24], tag[INBOX_TAG_KEY_MAX];
    bson_t                match, keys, in;
    size_t                i;
    bson_oid_t            org;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    *recipients = 0;
    *suppressed = 0;

    if (no_mms != NULL) {
        *no_mms = 0;
    }

    if (inbox_mongo_parse_id(org_id, &org) != 0) {
        return inbox_error_not_found(err, "organization");
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    bson_init(&match);
    BSON_APPEND_OID(&match, "org_id", &org);

    if (!audience_all) {
        BSON_APPEND_DOCUMENT_BEGIN(&match, "tag_keys", &in);
        BSON_APPEND_ARRAY_BEGIN(&in, "$in", &keys);
        for (i = 0; tags != NULL && i < tags->count; i++) {
            snprintf(key, sizeof(key), "%zu", i);
            inbox_tag_key(tags->items[i], tag);
            BSON_APPEND_UTF8(&keys, key, tag);
        }
        bson_append_array_end(&in, &keys);
        bson_append_document_end(&match, &in);
    }

    rc = inbox_mongo_contacts_count(ms, &match, recipients, err);

    if (rc == INBOX_OK) {
        BSON_APPEND_BOOL(&match, "opted_out", true);
        rc = inbox_mongo_contacts_count(ms, &match, suppressed, err);
    }

    if (rc == INBOX_OK && no_mms != NULL) {
        rc = inbox_mongo_audience_no_mms(ms, &match, *recipients,
                                         *suppressed, no_mms, err);
    }

    bson_destroy(&match);

    return rc;
}


/*
 * How many of an audience's contacts not opted out have a number
 * pictures do not reach, counted from those they do reach (the rule's
 * own list as a pattern, inbox_phone_mms_pattern) so that each count is
 * met in an index, as the audience's: its contacts on their phone key,
 * the opted-out ones on org_opted_out_tags (only those few read).
 * opted_out is the audience's match with opted_out: true, the others'
 * count recipients, the opted-out ones' suppressed.
 */
static inbox_status_t
inbox_mongo_audience_no_mms(inbox_mongo_store_t *ms, const bson_t *opted_out,
    int64_t recipients, int64_t suppressed, int64_t *no_mms,
    inbox_error_t *err)
{
    char             takes[INBOX_PHONE_MMS_PATTERN_MAX];
    bson_t           match;
    bson_iter_t      iter;
    int64_t          reach, reach_out;
    inbox_status_t   rc;

    if (inbox_phone_mms_pattern(takes, sizeof(takes)) != 0) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL,
                               "The MMS pattern is too long.");
    }

    /* the audience's match without its opted_out, then with it */
    bson_init(&match);
    bson_iter_init(&iter, opted_out);

    while (bson_iter_next(&iter)) {
        if (strcmp(bson_iter_key(&iter), "opted_out") != 0) {
            bson_append_iter(&match, NULL, 0, &iter);
        }
    }

    BSON_APPEND_REGEX(&match, "phone", takes, "");
    rc = inbox_mongo_contacts_count(ms, &match, &reach, err);

    if (rc == INBOX_OK) {
        BSON_APPEND_BOOL(&match, "opted_out", true);
        rc = inbox_mongo_contacts_count(ms, &match, &reach_out, err);
    }

    bson_destroy(&match);

    if (rc == INBOX_OK) {
        /* counted apart, not at one instant: within what there are */
        *no_mms = (recipients - suppressed) - (reach - reach_out);
        *no_mms = *no_mms < recipients - suppressed
                  ? *no_mms : recipients - suppressed;
        *no_mms = *no_mms > 0 ? *no_mms : 0;
    }

    return rc;
}


/* How many contacts match (a $match and $count, as a driver's
 * countDocuments sends it: no contact is no document, 0). */
static inbox_status_t
inbox_mongo_contacts_count(inbox_mongo_store_t *ms, const bson_t *match,
    int64_t *n, inbox_error_t *err)
{
    bson_t          batch, doc;
    bson_iter_t     iter;
    inbox_status_t  rc;

    *n = 0;

    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("aggregate", BCON_UTF8("contacts"),
                 "pipeline", "[",
                     "{", "$match", BCON_DOCUMENT(match), "}",
                     "{", "$count", BCON_UTF8("n"), "}",
                 "]",
                 "cursor", "{", "}"),
        &batch, err);

    bson_iter_init(&iter, &batch);

    if (rc == INBOX_OK && bson_iter_next(&iter)
        && inbox_mongo_iter_doc(&iter, &doc))
    {
        *n = inbox_mongo_get_int(&doc, "n");
    }

    bson_destroy(&batch);

    return rc;
}
