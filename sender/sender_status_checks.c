/*
 * The status checks job: the safety net under lost status callbacks
 * (status_check.h).  A message a carrier took that has no final status
 * --status-check-after it was taken is asked about (Twilio's Message
 * resource, Telnyx's message record), and the answer is stored exactly
 * as the callback would have been (inbox_store_message_status_updates:
 * the status moves only forward, the hold is settled, message.status is
 * pushed, a carrier's opt-out opts the contact out), and the progress
 * of the message's campaign is pushed, however long ago it finished.
 *
 * The store hands the messages out in batches, each with its next ask
 * already set (inbox_store_status_checks_claim), so a sender that stops
 * with some unasked asks them then, and one that restarts does not ask
 * about everything at once.  An answer that says nothing (no answer, an
 * error, "still sending") leaves the message to its next ask; the last
 * one, 72 hours after the carrier took it, is logged as given up.  A
 * carrier that says it has no such message (its 404) is not asked
 * again: asked --status-check-after or more after it took the message,
 * it will not have it later either.  That is logged once, in the
 * carrier's words, and leaves the message as the give-up does: its
 * status as it is, its hold to the holds job (captured 72 hours after
 * the carrier took it).
 *
 * The asks go at --status-check-rate a second, at most
 * SENDER_CHECKS_ACTIVE_MAX at once, and only while the carrier requests
 * in flight leave half of --max-active free: they never take the room a
 * reply or a campaign message would be claimed into (sender_outbox.c's
 * fair scheduling counts every transfer of the loop).  An ask the sender
 * could not start (curl refused it, no memory: sender_start.c) is kept
 * in hand and made again later, the batch behind it waiting: dropped,
 * it would wait for its next ask (--status-check-after at least, hours
 * for an old message), and the last one would be lost without a word.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sender_jobs.h"

#define SENDER_CHECKS_BATCH       16
#define SENDER_CHECKS_ACTIVE_MAX  2
/* With nothing due, the store is looked at again this often (or as
 * often as --status-check-after, when shorter). */
#define SENDER_CHECKS_LOOK_MS     10000
/* While the loop is busy with sends, looked at again this soon. */
#define SENDER_CHECKS_BUSY_MS     100

typedef struct {
    sender_transfer_t     transfer;         /* first */
    sender_t             *s;
    inbox_status_check_t  check;            /* its number freed at once */
} sender_check_t;

typedef struct {
    inbox_status_check_list_t  claimed;     /* asked in order */
    size_t                     next;        /* the next of claimed */
    int64_t                    look_at;     /* the store's next look */
    int64_t                    ask_at;      /* the rate's next ask */
    unsigned                   active;
} sender_checks_state_t;

static sender_checks_state_t  sender_checks;

static void sender_checks_claim(sender_t *s, int64_t now);
static int sender_checks_start(sender_t *s, inbox_status_check_t *check,
    int64_t now);
static int sender_checks_not_started(sender_t *s,
    const inbox_status_check_t *check, int64_t now, const char *why);
static void sender_checks_done(sender_transfer_t *t);
static void sender_checks_store(sender_t *s, const inbox_status_check_t *c,
    const inbox_status_update_t *update);
static void sender_checks_end(sender_t *s, const inbox_status_check_t *c);
static void sender_checks_progress(sender_t *s, const char *org_id,
    const char *campaign_id);


int64_t
sender_status_checks_pump(sender_t *s, int64_t now)
{
    int64_t  gap;

    if (s->options.status_check_after_ms == 0) {
        return -1;
    }

    /* not while an ask is in flight: the store may hand its message out
     * again, its next ask due meanwhile (one put off by sender_start.c
     * for seconds), and it would be asked twice at once */
    if (sender_checks.next == sender_checks.claimed.count
        && sender_checks.active == 0
        && now >= sender_checks.look_at)
    {
        sender_checks_claim(s, now);
    }

    while (sender_checks.next < sender_checks.claimed.count) {
        if (sender_checks.active >= SENDER_CHECKS_ACTIVE_MAX) {
            /* a done one calls the pump again */
            return -1;
        }

        if (now < sender_checks.ask_at) {
            return sender_checks.ask_at - now;
        }

        if (sender_loop_active(s->loop)
            >= (s->options.max_active + 1) / 2)
        {
            return SENDER_CHECKS_BUSY_MS;
        }

        gap = (int64_t) (1000.0 / s->options.status_check_rate);
        sender_checks.ask_at = now + (gap > 0 ? gap : 1);

        if (sender_checks_start(s,
                &sender_checks.claimed.items[sender_checks.next], now)
            != 0)
        {
            /* the same ask again then (sender_checks_not_started) */
            return sender_checks.ask_at - now;
        }

        sender_checks.next++;
    }

    return sender_checks.look_at > now ? sender_checks.look_at - now : 0;
}


/* The next batch due; the store gives each its next ask as it hands it
 * out. */
static void
sender_checks_claim(sender_t *s, int64_t now)
{
    int64_t        look;
    inbox_error_t  err;

    look = s->options.status_check_after_ms < SENDER_CHECKS_LOOK_MS
           ? s->options.status_check_after_ms : SENDER_CHECKS_LOOK_MS;

    inbox_status_check_list_free(&sender_checks.claimed);
    sender_checks.next = 0;

    if (inbox_store_status_checks_claim(s->store, now,
                                        s->options.status_check_after_ms,
                                        SENDER_CHECKS_BATCH,
                                        &sender_checks.claimed, &err)
        != INBOX_OK)
    {
        sender_log(s, "cannot read the messages whose status to ask "
                   "about: %s", err.message);
        sender_checks.look_at = now + look;
        return;
    }

    /* a whole batch: more may be due, looked for once it is asked */
    sender_checks.look_at = sender_checks.claimed.count
                            == SENDER_CHECKS_BATCH
                            ? now : now + look;
}


/* 0: asked, or not to be asked (said why); -1: to be asked again at
 * sender_checks.ask_at. */
static int
sender_checks_start(sender_t *s, inbox_status_check_t *check, int64_t now)
{
    size_t                   i;
    const char              *headers[INBOX_CARRIER_HEADERS_MAX + 1];
    inbox_error_t            err;
    sender_check_t          *c;
    inbox_carrier_request_t  req;

    if (check->number.e164[0] == '\0'
        || inbox_carrier_status_request(&check->number, check->provider_id,
                                        &req, &err)
           != INBOX_OK)
    {
        sender_log(s, "cannot ask %s about message %s: %s%s",
                   inbox_carrier_name(check->carrier), check->message_id,
                   check->number.e164[0] == '\0'
                   ? "the organization has no number of that carrier"
                   : err.message,
                   check->last ? " (given up)" : "");
        return 0;
    }

    c = calloc(1, sizeof(sender_check_t));
    if (c == NULL) {
        inbox_carrier_request_free(&req);
        return sender_checks_not_started(s, check, now, "out of memory");
    }

    c->s = s;
    c->check = *check;
    /* the credentials stay in the request only */
    memset(&c->check.number, 0, sizeof(c->check.number));

    for (i = 0; i < req.header_count; i++) {
        headers[i] = req.headers[i];
    }
    headers[i] = NULL;

    if (sender_transfer_init(&c->transfer, req.method, req.url, headers,
                             NULL, 0, s->options.timeout_ms)
        != 0)
    {
        inbox_carrier_request_free(&req);
        free(c);
        return sender_checks_not_started(s, check, now, "out of memory");
    }

    inbox_carrier_request_free(&req);

    c->transfer.done = sender_checks_done;
    c->transfer.data = c;

    if (sender_start(s, &c->transfer) != 0) {
        (void) sender_checks_not_started(s, check, now, c->transfer.error);
        sender_transfer_cleanup(&c->transfer);
        free(c);
        return -1;
    }

    sender_checks.active++;
    sender_debug(s, "asking %s about message %s (%s)",
                 inbox_carrier_name(c->check.carrier), c->check.message_id,
                 c->check.provider_id);

    return 0;
}


/* The ask could not start (sender_start.c): made again later, due later
 * each time none starts; -1. */
static int
sender_checks_not_started(sender_t *s, const inbox_status_check_t *check,
    int64_t now, const char *why)
{
    sender_checks.ask_at = sender_start_failed(s, now, why);

    sender_debug(s, "asking %s about message %s put off (%s), again in "
                 "%" PRId64 " ms", inbox_carrier_name(check->carrier),
                 check->message_id, why, sender_checks.ask_at - now);

    return -1;
}


static void
sender_checks_done(sender_transfer_t *t)
{
    int                     answer;
    char                    why[INBOX_CARRIER_MESSAGE_MAX];
    sender_check_t         *c = t->data;
    sender_t               *s = c->s;
    inbox_status_update_t   update;

    sender_checks.active--;

    answer = inbox_carrier_status_answer(c->check.carrier,
                                         t->reach == SENDER_ANSWERED
                                         ? t->status : 0,
                                         t->response, t->response_len,
                                         c->check.provider_id, &update, why);

    if (answer == 0) {
        sender_checks_store(s, &c->check, &update);

    } else if (answer == INBOX_CARRIER_STATUS_NO_SUCH_MESSAGE) {
        sender_log(s, "stopped asking %s about message %s (%s), which it "
                   "says it does not have: %s",
                   inbox_carrier_name(c->check.carrier), c->check.message_id,
                   c->check.provider_id, why);
        sender_checks_end(s, &c->check);

    } else if (c->check.last) {
        sender_log(s, "gave up asking %s about message %s, which has no "
                   "final status 72 hours after it was sent: %s",
                   inbox_carrier_name(c->check.carrier), c->check.message_id,
                   why);
    } else {
        sender_debug(s, "message %s: %s", c->check.message_id, why);
    }

    sender_transfer_cleanup(t);
    free(c);
}


/* The carrier's answer, stored as its callback would have been. */
static void
sender_checks_store(sender_t *s, const inbox_status_check_t *c,
    const inbox_status_update_t *update)
{
    inbox_error_t           err;
    inbox_event_list_t      events;
    inbox_status_report_t   r;

    memset(&r, 0, sizeof(r));
    r.org_id = c->org_id;
    r.carrier = c->carrier;
    r.provider_id = update->provider_id;
    r.delivery = update->status;
    r.error_code = update->error_code;
    r.final = update->final;
    r.find_contact = update->opted_out;

    memset(&events, 0, sizeof(events));

    if (inbox_store_message_status_updates(s->store, &r, 1, &events, &err)
        != INBOX_OK || r.status != INBOX_OK)
    {
        /* asked again at its next ask */
        sender_log(s, "message %s: %s says %s, which the store cannot "
                   "take: %s", c->message_id, inbox_carrier_name(c->carrier),
                   inbox_delivery_name(update->status),
                   r.status != INBOX_OK ? r.error.message : err.message);
        inbox_event_list_free(&events);
        return;
    }

    sender_publish(s, &events);
    inbox_event_list_free(&events);

    if (r.changed) {
        sender_log(s, "message %s is %s%s%s, as %s answered (its status "
                   "report never came)", c->message_id,
                   inbox_delivery_name(update->status),
                   update->error_code[0] ? ", error " : "",
                   update->error_code, inbox_carrier_name(c->carrier));

        if (c->campaign_id[0] != '\0') {
            sender_checks_progress(s, c->org_id, c->campaign_id);
        }
    }

    if (update->opted_out && r.contact_id[0] != '\0') {
        sender_opt_out(s, c->org_id, r.contact_id, r.sent_at);
    }

    if (update->final && !inbox_delivery_final(update->status)) {
        /* no receipt will come (Telnyx's delivery_unconfirmed) */
        sender_checks_end(s, c);

    } else if (!update->final && c->last) {
        sender_log(s, "gave up asking %s about message %s, still %s 72 "
                   "hours after it was sent", inbox_carrier_name(c->carrier),
                   c->message_id, inbox_delivery_name(update->status));
    }
}


/* The message is asked about no more (its next ask 0); a store that
 * cannot take that leaves it to its next ask. */
static void
sender_checks_end(sender_t *s, const inbox_status_check_t *c)
{
    const char     *ids[1];
    inbox_error_t   err;

    ids[0] = c->message_id;

    if (inbox_store_status_checks_end(s->store, ids, 1, &err) != INBOX_OK) {
        sender_log(s, "message %s: cannot stop asking about it: %s",
                   c->message_id, err.message);
    }
}


/* The campaign's counts moved: its progress is pushed now, as the
 * campaigns job pushes only those that finished lately. */
static void
sender_checks_progress(sender_t *s, const char *org_id,
    const char *campaign_id)
{
    inbox_error_t       err;
    inbox_event_list_t  events;

    memset(&events, 0, sizeof(events));

    if (inbox_store_campaign_progress(s->store, org_id, campaign_id,
                                      sender_clock_last(&s->clock,
                                                        inbox_now_ms()),
                                      NULL, &events, &err)
        == INBOX_OK)
    {
        sender_publish(s, &events);

    } else {
        sender_log(s, "cannot push the progress of campaign %s: %s",
                   campaign_id, err.message);
    }

    inbox_event_list_free(&events);
}
