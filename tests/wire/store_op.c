/*
 * store_op: runs one store operation against the store a URI names and
 * prints its outcome as one JSON line, for tests that play the server's
 * part on the wire (tests/wire/test_mongo_wire.py, with mockupdb).
 *
 *   store_op URI ingest TO FROM PROVIDER_ID BODY
 *   store_op URI ingest-pair TO FROM PROVIDER_ID BODY PROVIDER_ID2 BODY2
 *   store_op URI mark-read ORG_ID CONVERSATION_ID
 *   store_op URI token-find TOKEN_HASH
 *   store_op URI ping
 *   store_op URI media-claim NOW_MS LIMIT
 *   store_op URI media-copy DIR MESSAGE_ID IDX FILE
 *   store_op URI reply-sent ORG_ID CONVERSATION_ID BODY PROVIDER_ID
 *   store_op URI reply ORG_ID CONVERSATION_ID BODY IDEMPOTENCY_KEY
 *   store_op URI resend ORG_ID CONVERSATION_ID BODY IDEMPOTENCY_KEY
 *       USER_ID RESEND_OF
 *   store_op URI contact-create ORG_ID PHONE
 *   store_op URI contact-rename ORG_ID CONTACT_ID NAME
 *   store_op URI opt-out ORG_ID CONTACT_ID
 *   store_op URI status ORG_ID PROVIDER_ID STATUS
 *   store_op URI events-since ORG_ID EPOCH AFTER_SEQ UNTIL_SEQ LIMIT
 *   store_op URI events-prune NOW_MS KEEP_SECONDS KEEP_COUNT MAX
 *   store_op URI holds-expire NOW_MS
 *   store_op URI media-purge NOW_MS KEEP_MS MAX DIR
 *   store_op URI campaign-dispatch NOW_MS MAX MEDIA_BASE
 *   store_op URI campaign-sent NOW_MS CAMPAIGN_ID
 *   store_op URI outbox-claim NOW_MS SEGMENTS
 *   store_op URI campaign-create ORG_ID NAME BODY TAGS
 *   store_op URI campaign-act ORG_ID CAMPAIGN_ID ACTION
 *   store_op URI campaign-get ORG_ID CAMPAIGN_ID
 *   store_op URI campaign-delete ORG_ID CAMPAIGN_ID KIND
 *   store_op URI contacts-import ORG_ID ROWS
 *   store_op URI ledger-list ORG_ID LIMIT
 *
 * ingest-pair is one batch of two messages from FROM, as nginx gathers
 * webhooks: result {"fates": [status…]}, each message's own fate.
 *
 * media-claim and media-copy are what the fetcher of inbound MMS files
 * does around its HTTP request: claim the media due, then keep the bytes
 * it got (here from FILE) as a file of the media directory DIR and
 * say so to the store.  reply-sent is a reply the sender has sent: it
 * is accepted (one credit), claimed from the outbox and recorded as
 * taken by the carrier of the organization's number with the carrier's
 * id PROVIDER_ID (status queued), so that tests can send that carrier's
 * status reports for it.  reply is a reply's accept alone, with its
 * Idempotency-Key (result {"message_id", "repeated"}).  resend is a
 * user's Send again of the failed reply RESEND_OF, as the send route
 * with resend_of takes it (result {"message_id", "repeated"}, or for a
 * refusal {"field", "message_id"}: the message it went as, when sent
 * again already).  contact-create
 * is a contact added by hand, without a name (result {"name",
 * "opted_out"}, or for a refusal {"field"}).  contact-rename is a
 * PATCH of the contact's name, opt-out a person's opt-out of it (result
 * {"name", "opted_out"}: the contact's).  status is a Twilio
 * status callback for the organization's message PROVIDER_ID (result
 * {"changed", "frames": [frame…]}: the frames it made, each as its JSON
 * text).  events-since is what a resuming WebSocket gets: result
 * {"frames": [frame…]} (each
 * frame as its JSON text), or, for a reset, status "conflict" and
 * result {"field": "epoch" | "org_seq"}; events-prune deletes what
 * retention no longer keeps (result {"removed"}).  holds-expire is the
 * sender's holds job at NOW_MS: the settlements an interruption left
 * finished, the holds older than the default bound captured (result
 * {"captured"}).  media-purge is the maintenance's purge of the
 * uploads nothing has used for KEEP_MS (result {"removed": [file…]}, the
 * files it hands back for the worker to delete).  campaign-create
 * makes a draft campaign to the contacts of any of TAGS (comma
 * separated; "" for all contacts),
 * campaign-act sends, pauses, resumes or cancels it, and both, like
 * campaign-get, give {"id", "status", "paused_reason", "counts"}: a
 * campaign started as the routes start one, for the sender to send
 * (with INBOX_SENDER_SOCKET set, campaign-act wakes the sender as nginx
 * does after a send or a resume: one datagram).
 * campaign-delete deletes a draft of KIND (campaign or poll), as
 * DELETE campaigns/{id} does: result {}.
 * With INBOX_EVENTS_SOCKET set, the events an
 * operation made are sent there as the module sends them (one datagram
 * of records), so a test's browsers see them live through ws-server.
 * campaign-dispatch is the sender's turn at campaigns at NOW_MS (a
 * test's clock, for quiet hours), the images' links of recipients MMS
 * does not reach to MEDIA_BASE (the sender's --public-url): result
 * {"handed","waiting","suppressed","started","refused","paused",
 * "finished"}.
 * campaign-sent is the sender's turn at the outbox at NOW_MS for one
 * campaign: what is due is claimed, the campaign's messages recorded as
 * taken by the carrier of their number (accepted, status queued, the
 * carrier's id "SM-" and the message's id), as the sender records them,
 * and everything else given back unsent (released): result {"taken"}.
 * outbox-claim is the sender's claim at NOW_MS with SEGMENTS left for
 * every number (the pace a full bucket of that many tokens gives), the
 * entries it took left leased: result {"claimed": [message id…],
 * "passed_over"}.
 * contacts-import is one batch of an import, a row for each of ROWS
 * (comma separated), a number (E.164) alone or PHONE=NAME, a number
 * with its name: result {"created","updated","frames": [frame…]} (the
 * contacts' contact.updated frames, each as its JSON text).
 * ledger-list is the first page of the organization's ledger: result
 * {"page"}, the page as GET /api/v1/billing/ledger answers it (its JSON
 * text).
 *
 * The line: {"op", "result": {…} (what the operation returned: the
 * message's fate for ingest, the conversation for mark-read, the
 * principal for token-find), "status" (the contract's code, "ok" for
 * success), "http", "message", "ms" (how long the operation took),
 * "events": [org_seq…]}.
 * Only the public libinbox API is used: what nginx calls is what is
 * tested.  The exit status is 0 whenever the line was printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inbox/clock.h>
#include <inbox/dgram.h>
#include <inbox/wake.h>
#include <inbox/error.h>
#include <inbox/event.h>
#include <inbox/media.h>
#include <inbox/render.h>
#include <inbox/store.h>


/* contacts-import's most numbers: a test's batch is a few */
#define OP_IMPORT_ROWS  16


static inbox_status_t op_ingest(inbox_store_t *store, char **argv,
    yajl_gen g, inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t op_ingest_pair(inbox_store_t *store, char **argv,
    yajl_gen g, inbox_event_list_t *events, inbox_error_t *err);
static void inbound_fill(inbox_inbound_t *msg, const char *to,
    const char *from, const char *provider_id, const char *body);
static inbox_status_t op_mark_read(inbox_store_t *store, char **argv,
    yajl_gen g, inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t op_token_find(inbox_store_t *store, char **argv,
    yajl_gen g, inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t op_ping(inbox_store_t *store, char **argv,
    yajl_gen g, inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t op_media_claim(inbox_store_t *store, char **argv,
    yajl_gen g, inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t op_media_copy(inbox_store_t *store, char **argv,
    yajl_gen g, inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t op_reply_sent(inbox_store_t *store, char **argv,
    yajl_gen g, inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t op_reply(inbox_store_t *store, char **argv,
    yajl_gen g, inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t op_resend(inbox_store_t *store, char **argv,
    yajl_gen g, inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t op_contact_create(inbox_store_t *store, char **argv,
    yajl_gen g, inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t op_contact_rename(inbox_store_t *store, char **argv,
    yajl_gen g, inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t op_opt_out(inbox_store_t *store, char **argv,
    yajl_gen g, inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t op_status(inbox_store_t *store, char **argv,
    yajl_gen g, inbox_event_list_t *events, inbox_error_t *err);
static void contact_json(yajl_gen g, const inbox_contact_record_t *c);
static inbox_status_t op_events_since(inbox_store_t *store, char **argv,
    yajl_gen g, inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t op_events_prune(inbox_store_t *store, char **argv,
    yajl_gen g, inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t op_holds_expire(inbox_store_t *store, char **argv,
    yajl_gen g, inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t op_media_purge(inbox_store_t *store, char **argv,
    yajl_gen g, inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t op_campaign_dispatch(inbox_store_t *store,
    char **argv, yajl_gen g, inbox_event_list_t *events,
    inbox_error_t *err);
static inbox_status_t op_campaign_sent(inbox_store_t *store, char **argv,
    yajl_gen g, inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t op_outbox_claim(inbox_store_t *store, char **argv,
    yajl_gen g, inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t op_campaign_create(inbox_store_t *store, char **argv,
    yajl_gen g, inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t op_campaign_act(inbox_store_t *store, char **argv,
    yajl_gen g, inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t op_campaign_get(inbox_store_t *store, char **argv,
    yajl_gen g, inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t op_campaign_delete(inbox_store_t *store,
    char **argv, yajl_gen g, inbox_event_list_t *events,
    inbox_error_t *err);
static inbox_status_t op_contacts_import(inbox_store_t *store, char **argv,
    yajl_gen g, inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t op_ledger_list(inbox_store_t *store, char **argv,
    yajl_gen g, inbox_event_list_t *events, inbox_error_t *err);
static void campaign_json(yajl_gen g, const inbox_campaign_t *c);
static void frames_json(yajl_gen g, const inbox_event_list_t *events);
static void sender_wake(void);
static void events_push(const inbox_event_list_t *events);
static void usage(void);


typedef inbox_status_t (*op_fn)(inbox_store_t *store, char **argv,
    yajl_gen g, inbox_event_list_t *events, inbox_error_t *err);

static const struct {
    const char  *name;
    int          argc;
    op_fn        fn;
} ops[] = {
    { "ingest",     4, op_ingest },
    { "ingest-pair", 6, op_ingest_pair },
    { "mark-read",  2, op_mark_read },
    { "token-find", 1, op_token_find },
    { "ping",       0, op_ping },
    { "media-claim", 2, op_media_claim },
    { "media-copy",  4, op_media_copy },
    { "reply-sent",  4, op_reply_sent },
    { "reply",       4, op_reply },
    { "resend",      6, op_resend },
    { "contact-create", 2, op_contact_create },
    { "contact-rename", 3, op_contact_rename },
    { "opt-out",     2, op_opt_out },
    { "status",      3, op_status },
    { "events-since", 5, op_events_since },
    { "events-prune", 4, op_events_prune },
    { "holds-expire", 1, op_holds_expire },
    { "media-purge", 4, op_media_purge },
    { "campaign-dispatch", 3, op_campaign_dispatch },
    { "campaign-sent", 2, op_campaign_sent },
    { "outbox-claim", 2, op_outbox_claim },
    { "campaign-create", 4, op_campaign_create },
    { "campaign-act", 3, op_campaign_act },
    { "campaign-get", 2, op_campaign_get },
    { "campaign-delete", 3, op_campaign_delete },
    { "contacts-import", 2, op_contacts_import },
    { "ledger-list", 2, op_ledger_list },
};


int
main(int argc, char **argv)
{
    char                *line;
    size_t               i, k;
    int64_t              start, took;
    yajl_gen             g;
    inbox_error_t        err;
    inbox_status_t       rc;
    inbox_store_t       *store;
    inbox_event_list_t   events;

    if (argc < 3) {
        usage();
        return 2;
    }

    for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (strcmp(argv[2], ops[i].name) == 0) {
            break;
        }
    }

    if (i == sizeof(ops) / sizeof(ops[0]) || argc != 3 + ops[i].argc) {
        usage();
        return 2;
    }

    inbox_error_clear(&err);
    memset(&events, 0, sizeof(inbox_event_list_t));

    g = inbox_json_begin();
    yajl_gen_map_open(g);
    inbox_json_key(g, "op");
    inbox_json_string(g, ops[i].name);
    inbox_json_key(g, "result");
    yajl_gen_map_open(g);

    start = inbox_now_ms();
    took = 0;

    store = inbox_store_open(argv[1], &err);
    if (store == NULL) {
        rc = err.code;
    } else {
        rc = ops[i].fn(store, argv + 3, g, &events, &err);
        took = inbox_now_ms() - start;
        inbox_store_close(store);
    }

    yajl_gen_map_close(g);
    inbox_json_key(g, "status");
    inbox_json_string(g, rc == INBOX_OK ? "ok" : inbox_status_code(rc));
    inbox_json_key(g, "http");
    inbox_json_int(g, inbox_status_http(rc));
    inbox_json_key(g, "message");
    inbox_json_string(g, rc == INBOX_OK ? "" : err.message);
    inbox_json_key(g, "ms");
    inbox_json_int(g, took);
    inbox_json_key(g, "events");
    yajl_gen_array_open(g);
    for (k = 0; k < events.count; k++) {
        inbox_json_int(g, events.items[k].org_seq);
    }
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);

    events_push(&events);
    inbox_event_list_free(&events);

    line = inbox_json_finish(g, NULL);
    if (line == NULL) {
        return 1;
    }

    printf("%s\n", line);
    free(line);

    return 0;
}


static inbox_status_t
op_ingest(inbox_store_t *store, char **argv, yajl_gen g,
    inbox_event_list_t *events, inbox_error_t *err)
{
    inbox_status_t         rc;
    inbox_inbound_t        msg;
    inbox_ingest_result_t  result;

    inbound_fill(&msg, argv[0], argv[1], argv[2], argv[3]);

    rc = inbox_store_inbound_ingest(store, &msg, 1, &result, events, err);

    inbox_json_key(g, "status");
    inbox_json_string(g, result.status == INBOX_OK
                         ? "ok" : inbox_status_code(result.status));
    inbox_json_key(g, "duplicate");
    inbox_json_bool(g, result.duplicate);
    inbox_json_key(g, "message_id");
    inbox_json_string(g, result.message_id);
    inbox_json_key(g, "conversation_id");
    inbox_json_string(g, result.conversation_id);
    inbox_json_key(g, "answered");
    inbox_json_bool(g, result.answered);

    return rc;
}


static inbox_status_t
op_ingest_pair(inbox_store_t *store, char **argv, yajl_gen g,
    inbox_event_list_t *events, inbox_error_t *err)
{
    size_t                 i;
    inbox_status_t         rc;
    inbox_inbound_t        msgs[2];
    inbox_ingest_result_t  results[2];

    inbound_fill(&msgs[0], argv[0], argv[1], argv[2], argv[3]);
    inbound_fill(&msgs[1], argv[0], argv[1], argv[4], argv[5]);

    rc = inbox_store_inbound_ingest(store, msgs, 2, results, events, err);

    inbox_json_key(g, "fates");
    yajl_gen_array_open(g);
    for (i = 0; i < 2; i++) {
        inbox_json_string(g, results[i].status == INBOX_OK
                             ? "ok" : inbox_status_code(results[i].status));
    }
    yajl_gen_array_close(g);

    return rc;
}


static void
inbound_fill(inbox_inbound_t *msg, const char *to, const char *from,
    const char *provider_id, const char *body)
{
    memset(msg, 0, sizeof(inbox_inbound_t));
    msg->carrier = INBOX_CARRIER_TWILIO;
    snprintf(msg->to, sizeof(msg->to), "%s", to);
    snprintf(msg->from, sizeof(msg->from), "%s", from);
    msg->provider_id = provider_id;
    msg->body = body;
    msg->segments = 1;
}


/* The frames are answered, not pushed: they are old news to ws-server. */
static inbox_status_t
op_events_since(inbox_store_t *store, char **argv, yajl_gen g,
    inbox_event_list_t *events, inbox_error_t *err)
{
    inbox_status_t      rc;
    inbox_event_list_t  replay;

    memset(&replay, 0, sizeof(inbox_event_list_t));

    rc = inbox_store_events_since(store, argv[0], argv[1],
                                  strtoll(argv[2], NULL, 10),
                                  strtoll(argv[3], NULL, 10),
                                  (size_t) strtoul(argv[4], NULL, 10),
                                  &replay, err);

    if (rc == INBOX_OK) {
        frames_json(g, &replay);

    } else {
        inbox_json_key(g, "field");
        inbox_json_string(g, err->field);
    }

    inbox_event_list_free(&replay);

    return rc;
}


static inbox_status_t
op_events_prune(inbox_store_t *store, char **argv, yajl_gen g,
    inbox_event_list_t *events, inbox_error_t *err)
{
    size_t                   removed;
    inbox_status_t           rc;
    inbox_event_retention_t  keep;

    keep.keep_ms = strtoll(argv[1], NULL, 10) * 1000;
    keep.keep_count = strtoll(argv[2], NULL, 10);

    rc = inbox_store_events_prune(store, strtoll(argv[0], NULL, 10), &keep,
                                  (size_t) strtoul(argv[3], NULL, 10),
                                  &removed, err);

    inbox_json_key(g, "removed");
    inbox_json_int(g, (int64_t) removed);

    return rc;
}


static inbox_status_t
op_holds_expire(inbox_store_t *store, char **argv, yajl_gen g,
    inbox_event_list_t *events, inbox_error_t *err)
{
    size_t          captured;
    inbox_status_t  rc;

    rc = inbox_store_holds_expire(store, strtoll(argv[0], NULL, 10), 0,
                                  &captured, err);

    inbox_json_key(g, "captured");
    inbox_json_int(g, (int64_t) captured);

    return rc;
}


static inbox_status_t
op_media_purge(inbox_store_t *store, char **argv, yajl_gen g,
    inbox_event_list_t *events, inbox_error_t *err)
{
    size_t          i, removed;
    inbox_status_t  rc;

    static char     files[INBOX_MEDIA_PURGE_MAX][INBOX_MEDIA_FILE_MAX];

    rc = inbox_store_media_purge(store, strtoll(argv[0], NULL, 10),
                                 strtoll(argv[1], NULL, 10),
                                 (size_t) strtoul(argv[2], NULL, 10),
                                 argv[3], files, &removed, err);

    inbox_json_key(g, "removed");
    yajl_gen_array_open(g);

    for (i = 0; i < removed; i++) {
        inbox_json_string(g, files[i]);
    }

    yajl_gen_array_close(g);

    return rc;
}


static inbox_status_t
op_campaign_dispatch(inbox_store_t *store, char **argv, yajl_gen g,
    inbox_event_list_t *events, inbox_error_t *err)
{
    inbox_status_t             rc;
    inbox_campaign_dispatch_t  d;

    memset(&d, 0, sizeof(d));

    rc = inbox_store_campaign_dispatch(store, strtoll(argv[0], NULL, 10),
                                       (size_t) strtoul(argv[1], NULL, 10),
                                       argv[2], &d, events, err);

    inbox_json_key(g, "handed");
    inbox_json_int(g, (int64_t) d.handed);
    inbox_json_key(g, "waiting");
    inbox_json_int(g, (int64_t) d.waiting);
    inbox_json_key(g, "suppressed");
    inbox_json_int(g, (int64_t) d.suppressed);
    inbox_json_key(g, "started");
    inbox_json_int(g, (int64_t) d.started);
    inbox_json_key(g, "refused");
    inbox_json_int(g, (int64_t) d.refused);
    inbox_json_key(g, "paused");
    inbox_json_int(g, (int64_t) d.paused);
    inbox_json_key(g, "finished");
    inbox_json_int(g, (int64_t) d.finished);

    return rc;
}


/* An entry of another campaign, or one the sender would not send as it
 * is (interrupted, withdrawn, cancelled, refused for billing), is given
 * back untouched: only the campaign's plain sends are taken. */
static inbox_status_t
op_campaign_sent(inbox_store_t *store, char **argv, yajl_gen g,
    inbox_event_list_t *events, inbox_error_t *err)
{
    size_t                 i;
    int64_t                now, taken;
    inbox_status_t         rc;
    inbox_send_result_t    res;
    inbox_outbox_batch_t   batch;
    inbox_outbox_item_t   *item;

    memset(&batch, 0, sizeof(batch));
    now = strtoll(argv[0], NULL, 10);
    taken = 0;

    rc = inbox_store_outbox_claim(store, now, now, INBOX_OUTBOX_CLAIM_MAX,
                                  0, INBOX_OUTBOX_BULK, NULL, &batch, err);

    for (i = 0; rc == INBOX_OK && i < batch.count; i++) {
        item = &batch.items[i];
        memset(&res, 0, sizeof(res));
        res.outcome = INBOX_SEND_RELEASED;

        if (strcmp(item->campaign_id, argv[1]) == 0 && !item->interrupted
            && !item->withdrawn && !item->cancelled
            && !item->billing_inactive)
        {
            res.outcome = INBOX_SEND_ACCEPTED;
            res.carrier = item->number.carrier;
            res.status = INBOX_DELIVERY_QUEUED;
            snprintf(res.provider_id, sizeof(res.provider_id), "SM-%s",
                     item->message.id);
        }

        rc = inbox_store_outbox_result(store, item->id, item->attempt, &res,
                                       now, NULL, events, err);

        if (rc == INBOX_OK && res.outcome == INBOX_SEND_ACCEPTED) {
            taken++;
        }
    }

    inbox_outbox_batch_free(&batch);

    inbox_json_key(g, "taken");
    inbox_json_int(g, taken);

    return rc;
}


static inbox_status_t
op_mark_read(inbox_store_t *store, char **argv, yajl_gen g,
    inbox_event_list_t *events, inbox_error_t *err)
{
    inbox_status_t        rc;
    inbox_conversation_t  conversation;

    memset(&conversation, 0, sizeof(inbox_conversation_t));

    rc = inbox_store_conversation_act(store, argv[0], argv[1],
                                      INBOX_ACTION_READ, &conversation,
                                      events, err);

    if (rc == INBOX_OK) {
        inbox_json_key(g, "id");
        inbox_json_string(g, conversation.id);
        inbox_json_key(g, "unread_count");
        inbox_json_int(g, conversation.unread_count);
    }

    inbox_conversation_free(&conversation);

    return rc;
}


static inbox_status_t
op_token_find(inbox_store_t *store, char **argv, yajl_gen g,
    inbox_event_list_t *events, inbox_error_t *err)
{
    inbox_status_t     rc;
    inbox_principal_t  principal;

    memset(&principal, 0, sizeof(inbox_principal_t));

    rc = inbox_store_token_find(store, argv[0], &principal, err);

    if (rc == INBOX_OK) {
        inbox_json_key(g, "org_id");
        inbox_json_string(g, principal.org_id);
        inbox_json_key(g, "user_id");
        inbox_json_string(g, principal.user_id);
    }

    return rc;
}


static inbox_status_t
op_ping(inbox_store_t *store, char **argv, yajl_gen g,
    inbox_event_list_t *events, inbox_error_t *err)
{
    return inbox_store_ping(store, err);
}


static inbox_status_t
op_media_claim(inbox_store_t *store, char **argv, yajl_gen g,
    inbox_event_list_t *events, inbox_error_t *err)
{
    size_t                    i;
    inbox_status_t            rc;
    inbox_media_fetch_list_t  due;

    rc = inbox_store_media_fetch_claim(store, strtoll(argv[0], NULL, 10),
                                       (unsigned) atoi(argv[1]), &due, err);

    inbox_json_key(g, "items");
    yajl_gen_array_open(g);

    for (i = 0; rc == INBOX_OK && i < due.count; i++) {
        yajl_gen_map_open(g);
        inbox_json_key(g, "message_id");
        inbox_json_string(g, due.items[i].message_id);
        inbox_json_key(g, "idx");
        inbox_json_int(g, due.items[i].idx);
        inbox_json_key(g, "url");
        inbox_json_string(g, due.items[i].url);
        inbox_json_key(g, "attempts");
        inbox_json_int(g, due.items[i].attempts);
        yajl_gen_map_close(g);
    }

    yajl_gen_array_close(g);
    inbox_media_fetch_list_free(&due);

    return rc;
}


static inbox_status_t
op_media_copy(inbox_store_t *store, char **argv, yajl_gen g,
    inbox_event_list_t *events, inbox_error_t *err)
{
    FILE                      *f;
    char                       buf[65536];
    size_t                     n;
    inbox_status_t             rc;
    inbox_media_writer_t       w;
    const inbox_media_type_t  *type;

    f = fopen(argv[3], "rb");
    if (f == NULL) {
        return inbox_error_set(err, INBOX_ERR_INVALID, "cannot read %s",
                               argv[3]);
    }

    n = fread(buf, 1, INBOX_MEDIA_SNIFF_LEN, f);
    type = inbox_media_type(buf, n);

    if (type == NULL) {
        fclose(f);
        return inbox_error_set(err, INBOX_ERR_INVALID, "%s is empty",
                               argv[3]);
    }

    rc = inbox_media_write_begin(&w, argv[0], type, err);

    while (rc == INBOX_OK && n > 0) {
        rc = inbox_media_write(&w, buf, n, err);
        n = fread(buf, 1, sizeof(buf), f);
    }

    fclose(f);

    if (rc != INBOX_OK) {
        inbox_media_write_abort(&w);
        return rc;
    }

    rc = inbox_media_write_commit(&w, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_store_media_fetch_done(store, argv[1],
                                      (unsigned) atoi(argv[2]), w.file,
                                      type->content_type, w.bytes, events,
                                      err);
    if (rc != INBOX_OK) {
        inbox_media_remove(argv[0], w.file);
        return rc;
    }

    inbox_json_key(g, "file");
    inbox_json_string(g, w.file);
    inbox_json_key(g, "content_type");
    inbox_json_string(g, type->content_type);
    inbox_json_key(g, "bytes");
    inbox_json_int(g, w.bytes);

    return rc;
}


static inbox_status_t
op_reply_sent(inbox_store_t *store, char **argv, yajl_gen g,
    inbox_event_list_t *events, inbox_error_t *err)
{
    size_t                 i;
    int64_t                now;
    inbox_reply_t          reply;
    inbox_status_t         rc;
    inbox_send_result_t    res;
    inbox_send_report_t    report;
    inbox_outbox_batch_t   batch;
    inbox_reply_result_t   result;
    inbox_outbox_item_t   *item;

    memset(&reply, 0, sizeof(reply));
    memset(&result, 0, sizeof(result));
    memset(&batch, 0, sizeof(batch));

    reply.conversation_id = argv[1];
    reply.body = argv[2];
    reply.segments = 1;
    reply.credits = 1;

    rc = inbox_store_reply_accept(store, argv[0], &reply, &result, events,
                                  err);
    if (rc != INBOX_OK) {
        goto done;
    }

    now = inbox_now_ms();

    rc = inbox_store_outbox_claim(store, now, now, INBOX_OUTBOX_CLAIM_MAX,
                                  0, INBOX_OUTBOX_BULK, NULL,
                                  &batch, err);
    if (rc != INBOX_OK) {
        goto done;
    }

    item = NULL;
    for (i = 0; i < batch.count; i++) {
        if (strcmp(batch.items[i].message.id, result.message.id) == 0) {
            item = &batch.items[i];
        }
    }

    if (item == NULL) {
        rc = inbox_error_set(err, INBOX_ERR_INTERNAL,
                             "the reply was not in the outbox's claim");
        goto done;
    }

    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_ACCEPTED;
    res.carrier = item->number.carrier;
    res.status = INBOX_DELIVERY_QUEUED;
    snprintf(res.provider_id, sizeof(res.provider_id), "%s", argv[3]);

    rc = inbox_store_outbox_result(store, item->id, item->attempt, &res,
                                   now, &report, events, err);
    if (rc != INBOX_OK) {
        goto done;
    }

    inbox_json_key(g, "message_id");
    inbox_json_string(g, result.message.id);
    inbox_json_key(g, "conversation_id");
    inbox_json_string(g, result.conversation.id);
    inbox_json_key(g, "contact_id");
    inbox_json_string(g, result.conversation.contact.id);
    inbox_json_key(g, "carrier");
    inbox_json_string(g, inbox_carrier_name(res.carrier));

done:

    inbox_outbox_batch_free(&batch);
    inbox_reply_result_free(&result);

    return rc;
}


/* A reply as user_id, or Send again of resend_of (NULL: neither); a
 * refusal says its field and the message it names. */
static inbox_status_t
op_reply_as(inbox_store_t *store, char **argv, const char *user_id,
    const char *resend_of, yajl_gen g, inbox_event_list_t *events,
    inbox_error_t *err)
{
    inbox_reply_t         reply;
    inbox_status_t        rc;
    inbox_reply_result_t  result;

    memset(&reply, 0, sizeof(reply));
    memset(&result, 0, sizeof(result));

    reply.conversation_id = argv[1];
    reply.body = argv[2];
    reply.idempotency_key = argv[3];
    reply.user_id = user_id;
    reply.resend_of = resend_of;
    reply.segments = 1;
    reply.credits = 1;

    rc = inbox_store_reply_accept(store, argv[0], &reply, &result, events,
                                  err);

    if (rc == INBOX_OK) {
        inbox_json_key(g, "message_id");
        inbox_json_string(g, result.message.id);
        inbox_json_key(g, "repeated");
        yajl_gen_bool(g, result.repeated != 0);

    } else if (resend_of != NULL) {
        inbox_json_key(g, "field");
        inbox_json_string(g, err->field);
        inbox_json_key(g, "message_id");
        inbox_json_string(g, err->last_message_id);
    }

    inbox_reply_result_free(&result);

    return rc;
}


static inbox_status_t
op_reply(inbox_store_t *store, char **argv, yajl_gen g,
    inbox_event_list_t *events, inbox_error_t *err)
{
    return op_reply_as(store, argv, NULL, NULL, g, events, err);
}


static inbox_status_t
op_resend(inbox_store_t *store, char **argv, yajl_gen g,
    inbox_event_list_t *events, inbox_error_t *err)
{
    return op_reply_as(store, argv, argv[4], argv[5], g, events, err);
}


static inbox_status_t
op_contact_create(inbox_store_t *store, char **argv, yajl_gen g,
    inbox_event_list_t *events, inbox_error_t *err)
{
    inbox_status_t          rc;
    inbox_contact_edit_t    edit;
    inbox_contact_record_t  contact;

    memset(&edit, 0, sizeof(edit));

    rc = inbox_store_contact_create(store, argv[0], argv[1], &edit,
                                    &contact, events, err);

    if (rc == INBOX_OK) {
        contact_json(g, &contact);

    } else {
        inbox_json_key(g, "field");
        inbox_json_string(g, err->field);
    }

    inbox_contact_record_free(&contact);

    return rc;
}


static inbox_status_t
op_contact_rename(inbox_store_t *store, char **argv, yajl_gen g,
    inbox_event_list_t *events, inbox_error_t *err)
{
    inbox_status_t          rc;
    inbox_contact_edit_t    edit;
    inbox_contact_record_t  contact;

    memset(&edit, 0, sizeof(edit));
    memset(&contact, 0, sizeof(contact));
    edit.set_name = 1;
    edit.name = argv[2];

    rc = inbox_store_contact_update(store, argv[0], argv[1], &edit,
                                    &contact, events, err);

    if (rc == INBOX_OK) {
        contact_json(g, &contact);
    }

    inbox_contact_record_free(&contact);

    return rc;
}


static inbox_status_t
op_opt_out(inbox_store_t *store, char **argv, yajl_gen g,
    inbox_event_list_t *events, inbox_error_t *err)
{
    inbox_status_t          rc;
    inbox_contact_record_t  contact;

    memset(&contact, 0, sizeof(contact));

    rc = inbox_store_contact_opt_out(store, argv[0], argv[1],
                                     INBOX_OPT_OUT_MANUAL, NULL, 0, 0,
                                     &contact, events, err);

    if (rc == INBOX_OK) {
        contact_json(g, &contact);
    }

    inbox_contact_record_free(&contact);

    return rc;
}


static inbox_status_t
op_status(inbox_store_t *store, char **argv, yajl_gen g,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int               changed;
    inbox_status_t    rc;
    inbox_delivery_t  status;

    if (inbox_delivery_parse(argv[2], &status) != 0) {
        return inbox_error_set(err, INBOX_ERR_INVALID, "No such status.");
    }

    changed = 0;

    rc = inbox_store_message_status_update(store, argv[0],
                                           INBOX_CARRIER_TWILIO, argv[1],
                                           status, NULL, &changed, NULL,
                                           events, err);

    inbox_json_key(g, "changed");
    yajl_gen_bool(g, changed != 0);
    frames_json(g, events);

    return rc;
}


static void
contact_json(yajl_gen g, const inbox_contact_record_t *c)
{
    inbox_json_key(g, "name");
    if (c->name != NULL) {
        inbox_json_string(g, c->name);
    } else {
        yajl_gen_null(g);
    }
    inbox_json_key(g, "opted_out");
    yajl_gen_bool(g, c->opted_out != 0);
}


/* The sender's paces for numbers all at a full bucket of SEGMENTS: each
 * number's cap, and the most an entry may need. */
static inbox_status_t
op_outbox_claim(inbox_store_t *store, char **argv, yajl_gen g,
    inbox_event_list_t *events, inbox_error_t *err)
{
    size_t                i;
    int64_t               now;
    inbox_status_t        rc;
    inbox_outbox_batch_t  batch;
    inbox_outbox_paces_t  paces;

    memset(&batch, 0, sizeof(batch));
    now = strtoll(argv[0], NULL, 10);
    paces.numbers = NULL;
    paces.n = 0;
    paces.other = (unsigned) strtoul(argv[1], NULL, 10);

    rc = inbox_store_outbox_claim(store, now, now, INBOX_OUTBOX_CLAIM_MAX,
                                  30000, INBOX_OUTBOX_BULK, &paces, &batch,
                                  err);

    inbox_json_key(g, "claimed");
    yajl_gen_array_open(g);
    for (i = 0; rc == INBOX_OK && i < batch.count; i++) {
        inbox_json_string(g, batch.items[i].message.id);
    }
    yajl_gen_array_close(g);
    inbox_json_key(g, "passed_over");
    inbox_json_bool(g, rc == INBOX_OK && batch.passed_over);

    inbox_outbox_batch_free(&batch);

    return rc;
}


static inbox_status_t
op_campaign_create(inbox_store_t *store, char **argv, yajl_gen g,
    inbox_event_list_t *events, inbox_error_t *err)
{
    const char            *p, *comma;
    inbox_tags_t           tags;
    inbox_status_t         rc;
    inbox_campaign_t       campaign;
    inbox_campaign_new_t   c;

    memset(&tags, 0, sizeof(tags));
    memset(&campaign, 0, sizeof(campaign));
    memset(&c, 0, sizeof(c));

    rc = INBOX_OK;

    for (p = argv[3]; rc == INBOX_OK && *p != '\0';
         p = *comma != '\0' ? comma + 1 : comma)
    {
        comma = strchr(p, ',');
        if (comma == NULL) {
            comma = p + strlen(p);
        }
        rc = inbox_tags_add(&tags, p, (size_t) (comma - p), err);
    }

    if (rc == INBOX_OK) {
        c.kind = INBOX_CAMPAIGN_KIND_CAMPAIGN;
        c.name = argv[1];
        c.body = argv[2];
        c.audience_all = (tags.count == 0);
        c.tags = &tags;

        rc = inbox_store_campaign_create(store, argv[0], &c, inbox_now_ms(),
                                         &campaign, NULL, err);
        if (rc == INBOX_OK) {
            campaign_json(g, &campaign);
        }
    }

    inbox_campaign_free(&campaign);
    inbox_tags_free(&tags);

    return rc;
}


static inbox_status_t
op_campaign_act(inbox_store_t *store, char **argv, yajl_gen g,
    inbox_event_list_t *events, inbox_error_t *err)
{
    inbox_status_t           rc;
    inbox_campaign_t         campaign;
    inbox_campaign_action_t  action;

    memset(&campaign, 0, sizeof(campaign));

    if (inbox_campaign_action_parse(argv[2], &action) != 0) {
        return inbox_error_set(err, INBOX_ERR_INVALID, "no such action");
    }

    rc = inbox_store_campaign_act(store, argv[0], argv[1], action,
                                  inbox_now_ms(), &campaign, NULL, err);
    if (rc == INBOX_OK) {
        campaign_json(g, &campaign);
        sender_wake();
    }

    inbox_campaign_free(&campaign);

    return rc;
}


static inbox_status_t
op_campaign_delete(inbox_store_t *store, char **argv, yajl_gen g,
    inbox_event_list_t *events, inbox_error_t *err)
{
    inbox_campaign_kind_t  kind;

    if (strcmp(argv[2], "campaign") == 0) {
        kind = INBOX_CAMPAIGN_KIND_CAMPAIGN;

    } else if (strcmp(argv[2], "poll") == 0) {
        kind = INBOX_CAMPAIGN_KIND_POLL;

    } else {
        return inbox_error_set(err, INBOX_ERR_INVALID, "no such kind");
    }

    return inbox_store_campaign_delete(store, argv[0], argv[1], kind,
                                       inbox_now_ms(), NULL, err);
}


static inbox_status_t
op_campaign_get(inbox_store_t *store, char **argv, yajl_gen g,
    inbox_event_list_t *events, inbox_error_t *err)
{
    inbox_status_t    rc;
    inbox_campaign_t  campaign;

    memset(&campaign, 0, sizeof(campaign));

    rc = inbox_store_campaign_get(store, argv[0], argv[1], &campaign, err);
    if (rc == INBOX_OK) {
        campaign_json(g, &campaign);
    }

    inbox_campaign_free(&campaign);

    return rc;
}


static inbox_status_t
op_contacts_import(inbox_store_t *store, char **argv, yajl_gen g,
    inbox_event_list_t *events, inbox_error_t *err)
{
    size_t                 i, n;
    const char            *p, *comma, *equals;
    inbox_status_t         rc;
    inbox_contact_row_t    rows[OP_IMPORT_ROWS];
    inbox_import_count_t   count;

    memset(rows, 0, sizeof(rows));
    memset(&count, 0, sizeof(count));

    for (n = 0, p = argv[1]; *p != '\0' && n < OP_IMPORT_ROWS;
         p = *comma != '\0' ? comma + 1 : comma)
    {
        comma = strchr(p, ',');
        if (comma == NULL) {
            comma = p + strlen(p);
        }

        /* PHONE=NAME names the contact */
        equals = memchr(p, '=', (size_t) (comma - p));
        if (equals != NULL) {
            rows[n].name = strndup(equals + 1,
                                   (size_t) (comma - equals - 1));
        }

        snprintf(rows[n++].phone, INBOX_PHONE_MAX, "%.*s",
                 (int) ((equals != NULL ? equals : comma) - p), p);
    }

    rc = inbox_store_contacts_import(store, argv[0], rows, n, &count,
                                     events, err);

    for (i = 0; i < n; i++) {
        inbox_contact_row_free(&rows[i]);
    }

    inbox_json_key(g, "created");
    inbox_json_int(g, (int64_t) count.created);
    inbox_json_key(g, "updated");
    inbox_json_int(g, (int64_t) count.updated);
    frames_json(g, events);

    return rc;
}


static inbox_status_t
op_ledger_list(inbox_store_t *store, char **argv, yajl_gen g,
    inbox_event_list_t *events, inbox_error_t *err)
{
    char                 *json;
    size_t                len;
    inbox_status_t        rc;
    inbox_ledger_page_t   page;

    (void) events;

    rc = inbox_store_ledger_list(store, argv[0], NULL,
                                 (unsigned) strtoul(argv[1], NULL, 10),
                                 &page, err);

    if (rc == INBOX_OK) {
        json = inbox_render_ledger_page(&page, &len);
        inbox_json_key(g, "page");
        inbox_json_string(g, json != NULL ? json : "");
        free(json);
    }

    inbox_ledger_page_free(&page);

    return rc;
}


static void
campaign_json(yajl_gen g, const inbox_campaign_t *c)
{
    inbox_json_key(g, "id");
    inbox_json_string(g, c->id);
    inbox_json_key(g, "status");
    inbox_json_string(g, inbox_campaign_status_name(c->status));
    inbox_json_key(g, "paused_reason");
    if (c->paused_reason == INBOX_PAUSE_NONE) {
        yajl_gen_null(g);
    } else {
        inbox_json_string(g, inbox_pause_reason_name(c->paused_reason));
    }
    inbox_json_key(g, "counts");
    inbox_json_campaign_counts(g, &c->counts);
}


/* What nginx does after a commit that left the sender work. */
static void
sender_wake(void)
{
    char                errbuf[256];
    const char         *path;
    inbox_dgram_peer_t  peer;

    path = getenv("INBOX_SENDER_SOCKET");
    if (path == NULL || path[0] == '\0') {
        return;
    }

    if (inbox_dgram_peer_open(&peer, path, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "store_op: %s\n", errbuf);
        return;
    }

    (void) inbox_wake_send(&peer);
    inbox_dgram_peer_close(&peer);
}


/* The events, as the module sends them (inbox_events_publish). */
static void
events_push(const inbox_event_list_t *events)
{
    char                errbuf[256];
    const char         *path;
    inbox_dgram_peer_t  peer;

    path = getenv("INBOX_EVENTS_SOCKET");
    if (path == NULL || path[0] == '\0' || events->count == 0) {
        return;
    }

    if (inbox_dgram_peer_open(&peer, path, errbuf, sizeof(errbuf)) != 0) {
        fprintf(stderr, "store_op: %s\n", errbuf);
        return;
    }

    if (inbox_events_publish(&peer, events) != 0) {
        fprintf(stderr, "store_op: events not sent to %s\n", path);
    }

    inbox_dgram_peer_close(&peer);
}


static void
usage(void)
{
    fprintf(stderr,
            "usage: store_op URI ingest TO FROM PROVIDER_ID BODY\n"
            "       store_op URI ingest-pair TO FROM PROVIDER_ID BODY "
            "PROVIDER_ID2 BODY2\n"
            "       store_op URI mark-read ORG_ID CONVERSATION_ID\n"
            "       store_op URI token-find TOKEN_HASH\n"
            "       store_op URI ping\n"
            "       store_op URI media-claim NOW_MS LIMIT\n"
            "       store_op URI media-copy DIR MESSAGE_ID IDX IMAGE_FILE\n"
            "       store_op URI reply-sent ORG_ID CONVERSATION_ID BODY "
            "PROVIDER_ID\n"
            "       store_op URI reply ORG_ID CONVERSATION_ID BODY "
            "IDEMPOTENCY_KEY\n"
            "       store_op URI resend ORG_ID CONVERSATION_ID BODY "
            "IDEMPOTENCY_KEY USER_ID RESEND_OF\n"
            "       store_op URI contact-create ORG_ID PHONE\n"
            "       store_op URI contact-rename ORG_ID CONTACT_ID NAME\n"
            "       store_op URI opt-out ORG_ID CONTACT_ID\n"
            "       store_op URI status ORG_ID PROVIDER_ID STATUS\n"
            "       store_op URI events-since ORG_ID EPOCH AFTER_SEQ "
            "UNTIL_SEQ LIMIT\n"
            "       store_op URI events-prune NOW_MS KEEP_SECONDS "
            "KEEP_COUNT MAX\n"
            "       store_op URI holds-expire NOW_MS\n"
            "       store_op URI media-purge NOW_MS KEEP_MS MAX DIR\n"
            "       store_op URI campaign-dispatch NOW_MS MAX MEDIA_BASE\n"
            "       store_op URI campaign-sent NOW_MS CAMPAIGN_ID\n"
            "       store_op URI outbox-claim NOW_MS SEGMENTS\n"
            "       store_op URI contacts-import ORG_ID PHONES\n"
            "       store_op URI ledger-list ORG_ID LIMIT\n");
}


/* "frames": the events' frames as ws-server would push them */
static void
frames_json(yajl_gen g, const inbox_event_list_t *events)
{
    size_t  i;

    inbox_json_key(g, "frames");
    yajl_gen_array_open(g);
    for (i = 0; i < events->count; i++) {
        inbox_json_string(g, events->items[i].json);
    }
    yajl_gen_array_close(g);
}
