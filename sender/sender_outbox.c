/*
 * The outbox job: claims due messages from the store, sends each to its
 * carrier (the request and the reading of the answer are libinbox's,
 * carrier.h), and records what the carrier said.
 *
 * A claim counts as an attempt in the store: a sender that dies with a
 * request in flight leaves the entry to come back "interrupted", and it
 * is then reported as an unknown outcome, never sent again blindly.  A
 * request that never left (no connection) is safe to retry, and is.
 * A result the store could not take is kept and recorded again each
 * turn: what the carrier said is never dropped.
 */
#include <stdlib.h>
#include <string.h>
#include <inbox/carrier.h>
#include <inbox/media.h>
#include <inbox/outbox.h>
#include "sender_jobs.h"

/* Record a result again this often while the store refuses it. */
#define SENDER_RECORD_RETRY_MS  1000

typedef struct sender_send_s  sender_send_t;

struct sender_send_s {
    sender_transfer_t     transfer;      /* first: the loop hands it back */
    sender_t             *s;
    sender_send_t        *next;          /* in a waiting list */
    char                  entry_id[INBOX_ID_MAX];
    char                  org_id[INBOX_ID_MAX];
    char                  message_id[INBOX_ID_MAX];
    unsigned              attempt;
    int64_t               lease_until;
    inbox_carrier_t       carrier;
    char                  from[INBOX_PHONE_MAX];
    inbox_send_result_t   result;        /* once the carrier answered */
};

typedef struct {
    int             look;           /* claim at the next pump */
    int64_t         due;            /* claim again by then anyway */
    sender_send_t  *paced;          /* claimed, waiting for their number */
    sender_send_t  *unrecorded;     /* answered, the store not told yet */
    int64_t         record_at;
    unsigned        waiting;        /* how many are paced */
} sender_outbox_t;

static sender_outbox_t  sender_outbox = { .look = 1 };

static void sender_outbox_claim(sender_t *s, int64_t now, unsigned room);
static sender_send_t *sender_outbox_prepare(sender_t *s,
    const inbox_outbox_item_t *item, int64_t now);
static int64_t sender_outbox_start_paced(sender_t *s, int64_t now);
static void sender_outbox_done(sender_transfer_t *t);
static void sender_outbox_record(sender_t *s, sender_send_t *send,
    int64_t now);
static void sender_outbox_record_again(sender_t *s, int64_t now);
static void sender_outbox_free(sender_send_t *send);


int64_t
sender_outbox_pump(sender_t *s, int64_t now)
{
    int64_t   next, wait;
    unsigned  busy;

    next = -1;

    if (sender_outbox.unrecorded != NULL) {
        if (now >= sender_outbox.record_at) {
            sender_outbox_record_again(s, now);
        }
        if (sender_outbox.unrecorded != NULL) {
            next = sender_outbox.record_at - now;
        }
    }

    wait = sender_outbox_start_paced(s, now);
    if (wait >= 0 && (next < 0 || wait < next)) {
        next = wait;
    }

    if (now >= sender_outbox.due) {
        sender_outbox.look = 1;
    }

    busy = sender_loop_active(s->loop) + sender_outbox.waiting;

    if (sender_outbox.look && busy < s->options.max_active) {
        sender_outbox_claim(s, now, s->options.max_active - busy);
    }

    if (sender_outbox.look) {
        /* more is due than there was room for: after the next answer */
        return next;
    }

    wait = sender_outbox.due - now;
    if (next < 0 || wait < next) {
        next = wait < 0 ? 0 : wait;
    }

    return next;
}


void
sender_jobs_wake(sender_t *s)
{
    sender_outbox.look = 1;
    sender_media_wake(s);
}


static void
sender_outbox_claim(sender_t *s, int64_t now, unsigned room)
{
    size_t                 i, max;
    sender_send_t         *send;
    inbox_error_t          err;
    inbox_outbox_batch_t   batch;

    max = room < INBOX_OUTBOX_CLAIM_MAX ? room : INBOX_OUTBOX_CLAIM_MAX;

    memset(&batch, 0, sizeof(batch));

    if (inbox_store_outbox_claim(s->store, now, max, s->options.lease_ms,
                                 &batch, &err)
        != INBOX_OK)
    {
        sender_log(s, "cannot claim from the outbox: %s", err.message);
        sender_outbox.due = now + SENDER_RECORD_RETRY_MS;
        sender_outbox.look = 0;
        return;
    }

    /* a full batch: more may be due, claim again when there is room */
    sender_outbox.look = (batch.count == max);
    sender_outbox.due = now + SENDER_IDLE_LOOK_MS;

    for (i = 0; i < batch.count; i++) {
        send = sender_outbox_prepare(s, &batch.items[i], now);
        if (send == NULL) {
            continue;
        }

        send->next = sender_outbox.paced;
        sender_outbox.paced = send;
        sender_outbox.waiting++;
    }

    inbox_outbox_batch_free(&batch);

    (void) sender_outbox_start_paced(s, now);
}


/*
 * The send of one claimed entry, its request ready; or NULL when there is
 * nothing to send (what happened is recorded, or logged).
 */
static sender_send_t *
sender_outbox_prepare(sender_t *s, const inbox_outbox_item_t *item,
    int64_t now)
{
    size_t                    i;
    char                      status_url[1024];
    char                      media[INBOX_MEDIA_MAX][1024];
    const char               *urls[INBOX_MEDIA_MAX];
    const char               *headers[INBOX_CARRIER_HEADERS_MAX + 1];
    sender_send_t            *send;
    inbox_error_t             err;
    inbox_outbound_t          msg;
    inbox_carrier_request_t   req;

    send = calloc(1, sizeof(sender_send_t));
    if (send == NULL) {
        sender_log(s, "out of memory: outbox entry %s waits for its lease",
                   item->id);
        return NULL;
    }

    send->s = s;
    strcpy(send->entry_id, item->id);
    strcpy(send->org_id, item->org_id);
    strcpy(send->message_id, item->message.id);
    send->attempt = item->attempt;
    send->lease_until = item->lease_until;
    send->carrier = item->number.carrier;
    strcpy(send->from, item->number.e164);

    if (item->interrupted) {
        /* an earlier claim may have reached the carrier: say so */
        send->result.outcome = INBOX_SEND_UNKNOWN;
        snprintf(send->result.message, sizeof(send->result.message),
                 "the sender stopped while sending it: it may have gone");
        sender_outbox_record(s, send, now);
        return NULL;
    }

    if (item->number.e164[0] == '\0') {
        send->result.outcome = INBOX_SEND_REFUSED;
        snprintf(send->result.message, sizeof(send->result.message),
                 "the sending number was removed");
        sender_outbox_record(s, send, now);
        return NULL;
    }

    snprintf(status_url, sizeof(status_url), "%s%s", s->options.public_url,
             item->number.carrier == INBOX_CARRIER_TWILIO
             ? "/webhooks/twilio/status" : "/webhooks/telnyx");

    /* the carrier fetches our copy of each image from the public URL */
    for (i = 0; i < item->message.media_count && i < INBOX_MEDIA_MAX; i++) {
        snprintf(media[i], sizeof(media[i]), "%s%s%s", s->options.public_url,
                 INBOX_MEDIA_PATH, item->message.media[i].file);
        urls[i] = media[i];
    }

    msg.from = item->number.e164;
    msg.to = item->to;
    msg.body = item->message.body;
    msg.media_urls = urls;
    msg.media_count = i;
    msg.status_url = status_url;

    if (inbox_carrier_send_request(&item->number, &msg, &req, &err)
        != INBOX_OK)
    {
        send->result.outcome = INBOX_SEND_REFUSED;
        snprintf(send->result.message, sizeof(send->result.message), "%s",
                 err.message);
        sender_outbox_record(s, send, now);
        return NULL;
    }

    for (i = 0; i < req.header_count; i++) {
        headers[i] = req.headers[i];
    }
    headers[i] = NULL;

    if (sender_transfer_init(&send->transfer, req.method, req.url, headers,
                             req.body,
                             req.len, s->options.timeout_ms)
        != 0)
    {
        inbox_carrier_request_free(&req);
        sender_log(s, "out of memory: outbox entry %s waits for its lease",
                   item->id);
        free(send);
        return NULL;
    }

    inbox_carrier_request_free(&req);

    send->transfer.done = sender_outbox_done;
    send->transfer.data = send;

    return send;
}


/* Starts the paced sends whose number may send now; returns when the
 * next one may, or -1 when none waits. */
static int64_t
sender_outbox_start_paced(sender_t *s, int64_t now)
{
    int             rc;
    int64_t         wait, next;
    sender_send_t  *send, **link;

    next = -1;
    link = &sender_outbox.paced;

    while ((send = *link) != NULL) {
        rc = sender_rate_take(s->rate, send->from, now, &wait);

        if (rc == 0) {
            if (next < 0 || wait < next) {
                next = wait;
            }
            link = &send->next;
            continue;
        }

        *link = send->next;
        sender_outbox.waiting--;

        if (rc < 0 || sender_loop_start(s->loop, &send->transfer) != 0) {
            /* nothing left: safe to claim again once its lease runs out */
            sender_log(s, "cannot start the send of message %s",
                       send->message_id);
            sender_outbox_free(send);
            continue;
        }

        sender_debug(s, "sending message %s (attempt %u) from %s",
                     send->message_id, send->attempt, send->from);
    }

    return next;
}


static void
sender_outbox_done(sender_transfer_t *t)
{
    sender_send_t  *send = t->data;
    sender_t       *s = send->s;

    switch (t->reach) {

    case SENDER_ANSWERED:
        inbox_carrier_send_result(send->carrier, t->status, t->response,
                                  t->response_len, &send->result);
        break;

    case SENDER_SENT_NOTHING:
        send->result.outcome = INBOX_SEND_RETRY;
        snprintf(send->result.message, sizeof(send->result.message),
                 "the carrier could not be reached: %.200s", t->error);
        break;

    default:
        send->result.outcome = INBOX_SEND_UNKNOWN;
        snprintf(send->result.message, sizeof(send->result.message),
                 "no answer from the carrier: %.200s", t->error);
        break;
    }

    sender_transfer_cleanup(t);

    sender_debug(s, "message %s: %s (HTTP %ld) %s", send->message_id,
                 inbox_send_outcome_name(send->result.outcome), t->status,
                 send->result.message);

    sender_outbox_record(s, send, inbox_now_ms());
}


/* Tells the store what the carrier said; keeps it to tell again when
 * the store cannot take it now. */
static void
sender_outbox_record(sender_t *s, sender_send_t *send, int64_t now)
{
    inbox_error_t         err;
    inbox_status_t        rc;
    inbox_send_report_t   report;
    inbox_event_list_t    events;

    memset(&events, 0, sizeof(events));
    memset(&report, 0, sizeof(report));

    rc = inbox_store_outbox_result(s->store, send->entry_id, send->attempt,
                                   &send->result, now, &report, &events,
                                   &err);

    if (rc == INBOX_ERR_UNAVAILABLE || rc == INBOX_ERR_INTERNAL) {
        sender_log(s, "cannot record the result of message %s yet: %s",
                   send->message_id, err.message);
        send->next = sender_outbox.unrecorded;
        sender_outbox.unrecorded = send;
        sender_outbox.record_at = now + SENDER_RECORD_RETRY_MS;
        inbox_event_list_free(&events);
        return;
    }

    if (rc != INBOX_OK) {
        /* the claim was lost (its lease ran out) or is done already */
        sender_log(s, "the result of message %s was not recorded: %s",
                   send->message_id, err.message);

    } else {
        sender_publish(s, &events);

        if (report.opted_out_contact[0] != '\0') {
            sender_opt_out(s, send->org_id, report.opted_out_contact, now);
        }

        if (send->result.outcome == INBOX_SEND_RETRY && !report.done
            && report.next_attempt_at < sender_outbox.due)
        {
            sender_outbox.due = report.next_attempt_at;
        }
    }

    inbox_event_list_free(&events);
    sender_outbox_free(send);
}


static void
sender_outbox_record_again(sender_t *s, int64_t now)
{
    sender_send_t  *list, *send;

    list = sender_outbox.unrecorded;
    sender_outbox.unrecorded = NULL;

    while (list != NULL) {
        send = list;
        list = send->next;
        sender_outbox_record(s, send, now);
    }
}


static void
sender_outbox_free(sender_send_t *send)
{
    sender_transfer_cleanup(&send->transfer);
    free(send);
}
