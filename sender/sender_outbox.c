/*
 * The outbox job: claims due messages from the store, sends each to its
 * carrier (the request and the reading of the answer are libinbox's,
 * carrier.h), and records what the carrier said.
 *
 * A claim counts as an attempt in the store: a sender that dies with a
 * request in flight leaves the entry to come back "interrupted", and it
 * is then reported as an unknown outcome, never sent again blindly.  So
 * a claim takes only what can start at once (each number's tokens, its
 * entries counted in segments as the number's rate counts them, and the
 * bulk window: inbox_outbox_paces_t), and what is past a number's cap
 * stays due in the store, not in here, where a crash would have it
 * reported unknown though it never left.  A request that never left (no
 * connection) is safe to retry, and is.
 * What the carriers said is recorded together, in one store call (one
 * write transaction), once the first answer waited SENDER_RECORD_LINGER_MS
 * or SENDER_RECORD_SOON answers wait, at the start of a pump, before
 * anything is claimed: the store's write lock is taken a few hundred
 * times a second during a campaign, not once an answer.
 * Results the store could not take are kept and recorded again after
 * SENDER_RECORD_RETRY_MS: what the carrier said is never dropped, also
 * when the sender stops, which waits for them while their claims last
 * (sender_outbox_unrecorded): only a claim's lease ending, or a second
 * signal, drops them, and then the store reports them unknown anyway.
 *
 * Fair scheduling: replies and campaign messages (bulk) are claimed
 * apart and wait for their number in two queues, replies always first.
 * Bulk takes at most SENDER_BULK_MAX of the sends in hand, so a reply is
 * claimed as soon as it is queued whatever a campaign has in hand, and
 * starts only as many as the bulk window allows (sender_window.h), so a
 * reply finds few campaign requests ahead of it at the carrier; bulk
 * leaves the reserve of its number's bucket (sender_rate.h).  A
 * carrier's 429 (or another answer libinbox reads as slow_down, such as
 * Twilio's 21611) holds the number: its messages in hand are given back
 * to the store due when the hold ends, without counting an attempt; so
 * is a send that found the sender out of file descriptors, a second
 * later.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <inbox/carrier.h>
#include <inbox/media.h>
#include <inbox/outbox.h>
#include "sender_jobs.h"
#include "sender_refusals.h"
#include "sender_window.h"

/* Record a result again this often while the store refuses it. */
#define SENDER_RECORD_RETRY_MS  1000

/* Results a store call (a transaction) at most: a short one, the write
 * lock soon free again for nginx. */
#define SENDER_RECORD_BATCH  256

/*
 * Answers wait this long for others to be recorded with (unless
 * SENDER_RECORD_SOON of them already wait): each commit makes every
 * other connection to the store drop its page cache, so a commit per
 * answer made nginx's reads re-read their pages by the thousand a second
 * during a campaign.  A status shown 5 ms later is not seen.
 */
#define SENDER_RECORD_LINGER_MS  5
#define SENDER_RECORD_SOON       32

/*
 * Bulk takes at most a quarter (at least one) of the sends in hand: the
 * rest is always free for replies.  Within that, the bulk window
 * (sender_window.h) keeps only a few campaign requests waiting at the
 * carrier, whose queue a reply would join: on the carrier simulator 12
 * campaign requests in flight sent as fast as 48 did, and a reply's wait
 * behind them fell from 108 ms to 26 (p50; docs/BENCHMARKS.md, "Campaign
 * send").
 */
#define SENDER_BULK_MAX(max)  ((max) / 4 > 0 ? (max) / 4 : 1)

/*
 * A claimed send that waited this long (for its number's rate, the bulk
 * window or a carrier's hold) has its contact's opt-out, and a campaign
 * message its recipient's quiet hours as they are now, looked at again
 * before it starts, with all the others waiting, in one store read; and
 * so has everything waiting at a wake-up (an inbound STOP wakes the
 * sender).  So a quiet-hours wake-up that was lost is made up for within
 * this long.  A reply that starts at once is not looked at twice.
 */
#define SENDER_OPTOUT_LOOK_MS  300

/* checked_at of a send the look found withdrawn, or put off: inside its
 * recipient's quiet hours now (inbox_outbox_held) */
#define SENDER_LOOK_WITHDRAWN  (-1)
#define SENDER_LOOK_PUT_OFF    (-2)

typedef struct sender_send_s  sender_send_t;

struct sender_send_s {
    sender_transfer_t     transfer;      /* first: the loop hands it back */
    sender_t             *s;
    sender_send_t        *next;          /* in a queue or list */
    char                  entry_id[INBOX_ID_MAX];
    char                  org_id[INBOX_ID_MAX];
    char                  message_id[INBOX_ID_MAX];
    unsigned              attempt;
    int                   bulk;          /* a campaign's message */
    inbox_outbox_priority_t  priority;
    int64_t               checked_at;    /* its contact's opt-out looked
                                            at (the claim, or since) */
    char                  campaign_id[INBOX_ID_MAX];   /* "" for none */
    int64_t               lease_until;
    int64_t               started_at;    /* its request, at the carrier */
    inbox_carrier_t       carrier;
    char                  from[INBOX_PHONE_MAX];
    unsigned              segments;      /* what its number's rate counts */
    inbox_send_result_t   result;        /* once the carrier answered */
};

typedef struct {
    sender_send_t   *head;
    sender_send_t  **tail;
    unsigned         count;
} sender_queue_t;

typedef struct {
    int              look;           /* claim replies at the next pump */
    int              look_bulk;      /* claim bulk at the next pump */
    int              handed;         /* campaign messages were handed
                                        over since the pump last ran */
    int              look_optouts;   /* look at the waiting sends'
                                        contacts before any starts */
    int64_t          due;            /* claim again by then anyway */
    sender_queue_t   replies;        /* claimed, waiting for their number */
    sender_queue_t   bulk;
    unsigned         bulk_active;    /* bulk sends in flight */
    unsigned long    bulk_recorded;  /* their results the store took */
    sender_window_t  window;         /* how many may be */
    sender_queue_t   answered;       /* the store not told yet, in order */
    int64_t          retry_at;       /* the store refused: not before */
    int64_t          linger_until;   /* the first waiting answer's time */
} sender_outbox_t;

static sender_outbox_t  sender_outbox = {
    .look = 1, .look_bulk = 1,
    .replies = { NULL, &sender_outbox.replies.head, 0 },
    .bulk = { NULL, &sender_outbox.bulk.head, 0 },
    .answered = { NULL, &sender_outbox.answered.head, 0 },
};

static inbox_outbox_record_t  sender_records[SENDER_RECORD_BATCH];

/*
 * The campaigns paused here for their number's account (the last few):
 * the error log says so once a pause, not once for each message that
 * was at the carrier with the one refused.  A campaign's message
 * claimed again (it was resumed) forgets it.
 */
#define SENDER_ACCOUNT_NOTED  8

static char      sender_account_noted[SENDER_ACCOUNT_NOTED][INBOX_ID_MAX];
static unsigned  sender_account_next;

/* why the sends a stopping sender never started were given back */
#define SENDER_STOPPED  "the sender stopped before sending it"

/* The replies refused so: logged once a minute a number, the rest
 * counted (sender_refusals.h). */
static sender_refusals_t  sender_refusals;

static int64_t sender_outbox_sooner(int64_t next, int64_t wait);
static int64_t sender_outbox_claim(sender_t *s, int64_t now,
    inbox_outbox_priority_t priority_max, unsigned room);
static int sender_outbox_paces(sender_t *s, int64_t now,
    inbox_outbox_priority_t priority_max, inbox_outbox_paces_t *paces,
    int64_t *wait);
static sender_send_t *sender_outbox_prepare(sender_t *s,
    const inbox_outbox_item_t *item, int64_t now);
static void sender_queue_append(sender_queue_t *q, sender_send_t *send);
static int64_t sender_outbox_start_paced(sender_t *s, int64_t now);
static void sender_outbox_optouts(sender_t *s, int64_t now);
static size_t sender_outbox_optouts_take(sender_queue_t *q, int64_t now,
    sender_send_t **sends, size_t n);
static void sender_outbox_withdraw(sender_t *s, sender_send_t *send);
static int64_t sender_outbox_start_queue(sender_t *s, sender_queue_t *q,
    int64_t now);
static int sender_outbox_campaigns_unseen(sender_t *s);
static void sender_outbox_done(sender_transfer_t *t);
static void sender_outbox_not_started(sender_t *s, sender_send_t *send,
    int64_t now, const char *why);
static void sender_outbox_trouble(sender_t *s, sender_send_t *send,
    long http_status, int64_t now);
static void sender_outbox_no_descriptor(sender_t *s, sender_send_t *send,
    int64_t now);
static int sender_outbox_slow_down(sender_t *s, sender_send_t *send,
    long http_status, int64_t now);
static void sender_outbox_account(sender_t *s, sender_send_t *send,
    long http_status);
static int sender_outbox_account_note(const char *campaign_id, int forget);
static void sender_outbox_refused(sender_t *s, sender_send_t *send,
    long http_status, int64_t now);
static int64_t sender_outbox_refusals(sender_t *s, int64_t now, int all);
static void sender_outbox_answered(sender_send_t *send);
static unsigned sender_outbox_unstarted(sender_queue_t *q,
    const char *why);
static int64_t sender_outbox_record_when(sender_t *s);
static int sender_outbox_record(sender_t *s, int64_t now);
static void sender_outbox_recorded(sender_t *s, sender_send_t *send,
    const inbox_outbox_record_t *record, int64_t now);
static unsigned sender_outbox_bulk_window(sender_t *s);
static void sender_outbox_free(sender_send_t *send);


int64_t
sender_outbox_pump(sender_t *s, int64_t now)
{
    int       recording;
    int64_t   next, wait;
    unsigned  max, busy, bulk, cap, room, window;

    sender_outbox.handed = 0;

    /* what was answered first, once it lingered: recorded before the
     * next claim */
    (void) sender_outbox_flush(s, now);

    /* the replies' refusals counted for a minute, once it is over */
    next = sender_outbox_refusals(s, now, 0);

    /* answers the store could not take yet (it failed a moment ago)
     * are recorded before anything is claimed: a claim first would take
     * back as interrupted the entries they answer whose lease ran out
     * meanwhile, report them unknown and drop what the carrier said (an
     * acceptance, its opt-out) */
    recording = sender_outbox.answered.head != NULL
                && now < sender_outbox.retry_at;

    next = sender_outbox_sooner(next, sender_outbox_start_paced(s, now));

    if (now >= sender_outbox.due) {
        sender_outbox.look = 1;
        sender_outbox.look_bulk = 1;
    }

    max = s->options.max_active;
    busy = sender_loop_active(s->loop) + sender_outbox.replies.count
           + sender_outbox.bulk.count;

    /* replies: whenever one may be due and there is room, which bulk
     * always leaves */
    if (sender_outbox.look && busy < max && !recording) {
        next = sender_outbox_sooner(next,
                   sender_outbox_claim(s, now, INBOX_OUTBOX_REPLY,
                                       max - busy));
        busy = sender_loop_active(s->loop) + sender_outbox.replies.count
               + sender_outbox.bulk.count;
    }

    /* bulk: what the window lets start now (none waits claimed for
     * it), within its share, a few at a time rather than one per
     * answer */
    bulk = sender_outbox.bulk_active + sender_outbox.bulk.count;
    window = sender_outbox_bulk_window(s);
    cap = SENDER_BULK_MAX(max);
    room = bulk < window ? window - bulk : 0;
    if (room > max - (busy < max ? busy : max)) {
        room = max - (busy < max ? busy : max);
    }

    if (sender_outbox.look_bulk && room > 0 && !recording
        && room >= ((cap < window ? cap : window) + 3) / 4)
    {
        /* one claimed in a wake-up's turn starts at the next, at once */
        next = sender_outbox_sooner(next,
                   sender_outbox_claim(s, now, INBOX_OUTBOX_BULK, room));
    }

    /* else more is due than there was room for: after the next answer */
    if (!sender_outbox.look && !sender_outbox.look_bulk) {
        wait = sender_outbox.due - now;
        if (next < 0 || wait < next) {
            next = wait < 0 ? 0 : wait;
        }
    }

    /* answers waiting (this pump's too: refused, withdrawn, ...): the
     * loop wakes to record them */
    return sender_outbox_sooner(next, sender_outbox_flush(s, now));
}


/* The sooner of two waits (ms), -1 being none. */
static int64_t
sender_outbox_sooner(int64_t next, int64_t wait)
{
    return wait >= 0 && (next < 0 || wait < next) ? wait : next;
}


int64_t
sender_outbox_flush(sender_t *s, int64_t now)
{
    int64_t  at;

    if (s->stopping) {
        /* claimed but never started (waiting for their number or the
         * window): back to the store as not sent, so that they go after
         * the restart instead of coming back interrupted, reported
         * unknown; recorded, and retried, with the answers */
        (void) sender_outbox_unstarted(&sender_outbox.replies,
                                      SENDER_STOPPED);
        (void) sender_outbox_unstarted(&sender_outbox.bulk,
                                      SENDER_STOPPED);
    }

    at = sender_outbox_record_when(s);

    if (at >= 0 && now >= at && sender_outbox_record(s, now) == 0) {
        at = sender_outbox_record_when(s);
    }

    if (at < 0) {
        return -1;
    }

    return at > now ? at - now : 0;
}


unsigned
sender_outbox_unrecorded(sender_t *s, int64_t now)
{
    unsigned        n;
    sender_send_t  *send;

    n = 0;

    for (send = sender_outbox.answered.head; send != NULL;
         send = send->next)
    {
        if (send->lease_until > now) {
            n++;
        }
    }

    return n;
}


void
sender_outbox_stop(sender_t *s)
{
    sender_send_t  *send;

    /* the replies' refusals still counted: said before it goes */
    (void) sender_outbox_refusals(s, inbox_now_ms(), 1);

    /* what a second signal or a failed loop left in hand */
    (void) sender_outbox_unstarted(&sender_outbox.replies,
                                      SENDER_STOPPED);
    (void) sender_outbox_unstarted(&sender_outbox.bulk,
                                      SENDER_STOPPED);

    if (sender_outbox.answered.head == NULL) {
        return;
    }

    if (sender_outbox_record(s, inbox_now_ms()) == 0) {
        return;
    }

    if (s->stopping > 1) {
        sender_log(s, "second signal: %u results not recorded (the store "
                   "refused them): their messages come back when the "
                   "sender starts again, reported unknown",
                   sender_outbox.answered.count);

    } else if (sender_outbox_unrecorded(s, inbox_now_ms()) == 0) {
        sender_log(s, "%u results not recorded: the store refused them "
                   "until their claims' leases ended; their messages are "
                   "reported unknown", sender_outbox.answered.count);

    } else {
        sender_log(s, "%u results not recorded: their messages come back "
                   "when the sender starts again, reported unknown",
                   sender_outbox.answered.count);
    }

    while ((send = sender_outbox.answered.head) != NULL) {
        sender_outbox.answered.head = send->next;
        sender_outbox_free(send);
    }

    sender_outbox.answered.tail = &sender_outbox.answered.head;
    sender_outbox.answered.count = 0;
}


/* The sends of q not started yet given back unsent (released: due
 * again, no attempt counted), why in their result; how many. */
static unsigned
sender_outbox_unstarted(sender_queue_t *q, const char *why)
{
    unsigned        n;
    sender_send_t  *send;

    n = q->count;

    while ((send = q->head) != NULL) {
        q->head = send->next;
        q->count--;

        send->result.outcome = INBOX_SEND_RELEASED;
        snprintf(send->result.message, sizeof(send->result.message),
                 "not sent: %s", why);
        sender_outbox_answered(send);
    }

    q->tail = &q->head;
    return n;
}


/*
 * Takes out of the bulk queue, unstarted, the sends of campaign_id (or,
 * campaign_id NULL, those of org_id, "" every organization; or, org_id
 * NULL too, those the look found inside quiet hours, SENDER_LOOK_PUT_OFF)
 * and answers each with outcome and why; how many.
 */
static unsigned
sender_outbox_take_bulk(const char *campaign_id, const char *org_id,
    inbox_send_outcome_t outcome, const char *why)
{
    unsigned        n;
    sender_send_t  *send, **link;
    sender_queue_t *q;

    q = &sender_outbox.bulk;
    link = &q->head;
    n = 0;

    while ((send = *link) != NULL) {
        if (campaign_id != NULL
            ? strcmp(send->campaign_id, campaign_id) != 0
            : org_id != NULL
            ? org_id[0] != '\0' && strcmp(send->org_id, org_id) != 0
            : send->checked_at != SENDER_LOOK_PUT_OFF)
        {
            link = &send->next;
            continue;
        }

        *link = send->next;
        if (q->tail == &send->next) {
            q->tail = link;
        }
        q->count--;
        n++;

        send->result.outcome = outcome;
        snprintf(send->result.message, sizeof(send->result.message),
                 "%s", why);
        sender_outbox_answered(send);
    }

    return n;
}


/*
 * A campaign paused by a person or cancelled: its sends not started yet
 * do not start.  A cancelled one's are reported so (a cancel is final); a
 * paused one's go back, and the next claim parks them until it resumes
 * (outbox.h).  Those already at the carrier finish.
 */
void
sender_outbox_campaign_stopped(sender_t *s, const char *campaign_id,
    int cancelled)
{
    unsigned  n;

    n = sender_outbox_take_bulk(campaign_id, NULL,
                                cancelled ? INBOX_SEND_CANCELLED
                                          : INBOX_SEND_RELEASED,
                                cancelled
                                ? "not sent: its campaign was cancelled"
                                : "not sent: its campaign was paused");

    if (n > 0) {
        sender_log(s, "campaign %s %s: %u of its messages not sent",
                   campaign_id, cancelled ? "cancelled" : "paused", n);
    }
}


/*
 * Quiet hours or a zone of org_id ("" every organization) moved: a
 * campaign message of it in hand, claimed under the old rule, may now
 * fall inside them.  Given back unsent (released: due again, no attempt
 * counted), so that the next claim holds it until they end
 * (inbox_outbox_quiet) or sends it.  Only campaign messages: replies
 * never wait for quiet hours; and only that organization's: another's
 * rule did not move.  org_id NULL: those the look at what waits found
 * inside them now (sender_outbox_optouts), so given back whether the
 * wake-up came or was lost.
 */
void
sender_outbox_quiet_moved(sender_t *s, const char *org_id)
{
    unsigned  n;

    n = sender_outbox_take_bulk(NULL, org_id, INBOX_SEND_RELEASED,
                                org_id != NULL
                                ? "not sent: quiet hours changed while it "
                                  "waited"
                                : "not sent: inside its recipient's quiet "
                                  "hours now");

    if (n > 0) {
        if (org_id != NULL) {
            sender_debug(s, "%u campaign messages of %s given back unsent "
                         "(quiet hours changed)", n,
                         org_id[0] ? org_id : "every organization");
        } else {
            sender_debug(s, "%u campaign messages given back unsent "
                         "(inside their recipients' quiet hours now)", n);
        }
        sender_outbox.look_bulk = 1;
    }
}


void
sender_jobs_wake(sender_t *s)
{
    sender_outbox.look = 1;
    sender_outbox.look_bulk = 1;
    sender_outbox.look_optouts = 1;
    sender_media_wake(s);
    sender_campaigns_wake(s);
}


/* The campaign requests that may be in flight now: the window, within
 * bulk's share of --max-active. */
static unsigned
sender_outbox_bulk_window(sender_t *s)
{
    unsigned  cap;

    cap = SENDER_BULK_MAX(s->options.max_active);

    if (sender_outbox.window.cap != cap) {
        sender_window_init(&sender_outbox.window, cap);
    }

    return sender_outbox.window.window;
}


unsigned long
sender_outbox_bulk_recorded(sender_t *s)
{
    return sender_outbox.bulk_recorded;
}


void
sender_outbox_bulk_queued(sender_t *s)
{
    sender_outbox.look_bulk = 1;
    sender_outbox.handed = 1;
}


int
sender_outbox_bulk_handed(sender_t *s)
{
    return sender_outbox.handed;
}


/*
 * Claims what may start now, up to room, and starts it; returns the wait
 * until the first of what it holds may start (0: one claimed in a
 * wake-up's turn, held for the campaigns job's look in this turn), -1
 * for none.
 */
static int64_t
sender_outbox_claim(sender_t *s, int64_t now,
    inbox_outbox_priority_t priority_max, unsigned room)
{
    size_t                 i, max;
    int                    full;
    int64_t                wait;
    sender_send_t         *send;
    inbox_error_t          err;
    inbox_outbox_paces_t   paces;
    inbox_outbox_batch_t   batch;

    max = room < INBOX_OUTBOX_CLAIM_MAX ? room : INBOX_OUTBOX_CLAIM_MAX;

    memset(&batch, 0, sizeof(batch));

    /* only what can start at once: a claim that waited in here would
     * come back interrupted, reported unknown, were the sender to die */
    if (sender_outbox_paces(s, now, priority_max, &paces, &wait) != 0) {
        sender_log(s, "out of memory: the outbox is claimed later");
        sender_outbox.due = now + SENDER_RECORD_RETRY_MS;
        sender_outbox.look = 0;
        sender_outbox.look_bulk = 0;
        return -1;
    }

    /* quiet hours on the campaigns' clock, as their dispatch reads them */
    if (inbox_store_outbox_claim(s->store, now,
                                 sender_clock_last(&s->clock, now),
                                 max, s->options.lease_ms, priority_max,
                                 &paces, &batch, &err)
        != INBOX_OK)
    {
        free((void *) paces.numbers);
        sender_log(s, "cannot claim from the outbox: %s", err.message);
        sender_outbox.due = now + SENDER_RECORD_RETRY_MS;
        sender_outbox.look = 0;
        sender_outbox.look_bulk = 0;
        return -1;
    }

    /* entries left to their number's cap: claim again when the first
     * listed number may start one more, or a number that was full has
     * earned one (a send's time) */
    if (batch.passed_over
        && (wait < 0 || wait > (int64_t) (1000.0 / s->options.rate) + 1))
    {
        wait = (int64_t) (1000.0 / s->options.rate) + 1;
    }

    free((void *) paces.numbers);

    /* a full batch: more may be due, claim again when there is room */
    full = (batch.count == max);

    if (priority_max == INBOX_OUTBOX_REPLY) {
        sender_outbox.look = full;

    } else {
        sender_outbox.look = full;
        sender_outbox.look_bulk = full;
    }

    sender_outbox.due = now + SENDER_IDLE_LOOK_MS;

    if (batch.passed_over && wait < SENDER_IDLE_LOOK_MS) {
        sender_outbox.due = now + wait;
    }

    for (i = 0; i < batch.count; i++) {
        send = sender_outbox_prepare(s, &batch.items[i], now);
        if (send == NULL) {
            continue;
        }

        sender_queue_append(send->bulk ? &sender_outbox.bulk
                                       : &sender_outbox.replies, send);

        sender_debug(s, "claimed message %s%s", send->message_id,
                     send->bulk ? " (bulk)" : "");
    }

    inbox_outbox_batch_free(&batch);

    return sender_outbox_start_paced(s, now);
}


/*
 * What a claim of priority_max may take of each number, in segments:
 * what its bucket lets start now, less the sends of it already waiting
 * here (for the bulk window, or the campaigns job's look); *wait until
 * a listed number has one more token.  The store counts each entry's
 * segments against it, so that a long text is claimed only once its
 * number can start it (outbox.h).  paces->numbers is allocated: free
 * it.  Returns -1 when out of memory.
 */
static int
sender_outbox_paces(sender_t *s, int64_t now,
    inbox_outbox_priority_t priority_max, inbox_outbox_paces_t *paces,
    int64_t *wait)
{
    size_t                i;
    unsigned              cost;
    sender_send_t        *send;
    sender_queue_t       *q;
    inbox_outbox_pace_t  *numbers;

    numbers = malloc((sender_rate_numbers(s->rate)
                      + sender_outbox.replies.count
                      + sender_outbox.bulk.count + 1)
                     * sizeof(inbox_outbox_pace_t));
    if (numbers == NULL) {
        return -1;
    }

    sender_rate_paces(s->rate, priority_max == INBOX_OUTBOX_BULK
                               ? SENDER_RATE_BULK : SENDER_RATE_REPLY,
                      now, paces, numbers, wait);

    for (q = &sender_outbox.replies; q != NULL;
         q = (q == &sender_outbox.replies) ? &sender_outbox.bulk : NULL)
    {
        for (send = q->head; send != NULL; send = send->next) {
            for (i = 0; i < paces->n; i++) {
                if (strcmp(numbers[i].from, send->from) == 0) {
                    break;
                }
            }

            if (i == paces->n) {
                numbers[i].from = send->from;
                numbers[i].max = paces->other;
                paces->n++;
            }

            cost = inbox_outbox_pace_cost(send->segments);
            numbers[i].max = numbers[i].max > cost ? numbers[i].max - cost
                                                   : 0;
        }
    }

    return 0;
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
    send->bulk = (item->priority == INBOX_OUTBOX_BULK);
    send->priority = item->priority;
    send->checked_at = now;
    strcpy(send->campaign_id, item->campaign_id);
    (void) sender_outbox_account_note(send->campaign_id, 1);
    send->lease_until = item->lease_until;
    send->carrier = item->number.carrier;
    strcpy(send->from, item->number.e164);
    send->segments = item->message.segments;

    /* an unknown outcome names the carrier the message went to: a
     * callback of that carrier naming the message completes it */
    send->result.carrier = item->number.carrier;

    if (item->interrupted) {
        /* an earlier claim may have reached the carrier: say so */
        send->result.outcome = INBOX_SEND_UNKNOWN;
        snprintf(send->result.message, sizeof(send->result.message),
                 "the sender stopped while sending it: it may have gone");
        sender_outbox_answered(send);
        return NULL;
    }

    if (item->withdrawn) {
        send->result.outcome = INBOX_SEND_WITHDRAWN;
        snprintf(send->result.message, sizeof(send->result.message),
                 "the contact opted out after it was written");
        sender_outbox_answered(send);
        return NULL;
    }

    if (item->cancelled) {
        send->result.outcome = INBOX_SEND_CANCELLED;
        snprintf(send->result.message, sizeof(send->result.message),
                 "its campaign was cancelled");
        sender_outbox_answered(send);
        return NULL;
    }

    if (item->billing_inactive) {
        send->result.outcome = INBOX_SEND_REFUSED;
        snprintf(send->result.error_code, sizeof(send->result.error_code),
                 "%s", INBOX_SEND_ERROR_BILLING);
        snprintf(send->result.message, sizeof(send->result.message),
                 "billing is inactive: nothing is sent until it is active "
                 "again");
        sender_outbox_answered(send);
        return NULL;
    }

    if (inbox_outbox_notice_late(item, now)) {
        send->result.outcome = INBOX_SEND_REFUSED;
        snprintf(send->result.error_code, sizeof(send->result.error_code),
                 "%s", INBOX_SEND_ERROR_LATE);
        snprintf(send->result.message, sizeof(send->result.message),
                 "a keyword's answer goes within %lld minutes of it or not "
                 "at all", INBOX_OUTBOX_NOTICE_WITHIN_MS / 60000);
        sender_outbox_answered(send);
        return NULL;
    }

    if (item->number.e164[0] == '\0') {
        send->result.outcome = INBOX_SEND_REFUSED;
        snprintf(send->result.error_code, sizeof(send->result.error_code),
                 "%s", INBOX_SEND_ERROR_NUMBER_GONE);
        snprintf(send->result.message, sizeof(send->result.message),
                 "the sending number was removed");
        sender_outbox_answered(send);
        return NULL;
    }

    /* the callback names the message: when the answer to the send is
     * lost, the carrier's id is learnt from its callbacks (outbox.h) */
    snprintf(status_url, sizeof(status_url), "%s%s?message=%s",
             s->options.public_url,
             item->number.carrier == INBOX_CARRIER_TWILIO
             ? "/webhooks/twilio/status" : "/webhooks/telnyx",
             item->message.id);

    /* the carrier fetches our copy of each image from the public URL */
    for (i = 0; i < item->message.media_count && i < INBOX_MEDIA_MAX; i++) {
        if (inbox_media_public_url(s->options.public_url,
                                   item->message.media[i].file, media[i],
                                   sizeof(media[i]))
            != 0)
        {
            send->result.outcome = INBOX_SEND_REFUSED;
            snprintf(send->result.message, sizeof(send->result.message),
                     "the public URL is too long for a picture's address");
            sender_outbox_answered(send);
            return NULL;
        }

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
        sender_outbox_answered(send);
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
        /* given back unsent, as a send that cannot start: left to its
         * lease, the store would take it as perhaps sent */
        inbox_carrier_request_free(&req);
        sender_outbox_not_started(s, send, now, "out of memory");
        return NULL;
    }

    inbox_carrier_request_free(&req);

    send->transfer.done = sender_outbox_done;
    send->transfer.data = send;

    return send;
}


static void
sender_queue_append(sender_queue_t *q, sender_send_t *send)
{
    send->next = NULL;
    *q->tail = send;
    q->tail = &send->next;
    q->count++;
}


/* Starts the queued sends whose number may send now, replies first;
 * returns when the next one may, or -1 when none waits. */
static int64_t
sender_outbox_start_paced(sender_t *s, int64_t now)
{
    int64_t  replies, bulk;

    sender_outbox_optouts(s, now);

    replies = sender_outbox_start_queue(s, &sender_outbox.replies, now);
    bulk = sender_outbox_start_queue(s, &sender_outbox.bulk, now);

    if (replies < 0 || (bulk >= 0 && bulk < replies)) {
        return bulk;
    }

    return replies;
}


/*
 * A contact who opted out since its message was claimed gets nothing
 * more: what waits in the sender's hands for that contact is withdrawn
 * (failed, contact_opted_out, its hold released) before it starts.  And
 * a campaign message now inside its recipient's quiet hours (they or a
 * zone moved since its claim and the wake-up saying so was lost, or the
 * hours came while it waited) is given back as that wake-up has it
 * given back (sender_outbox_quiet_moved).  One store read for all that
 * waits (inbox_store_outbox_recheck, quiet hours on the campaigns'
 * clock), when something waited SENDER_OPTOUT_LOOK_MS or a wake-up may
 * have brought an opt-out.
 */
static void
sender_outbox_optouts(sender_t *s, int64_t now)
{
    size_t                    i, n, put_off;
    const char               *ids[INBOX_OUTBOX_CLAIM_MAX];
    sender_send_t            *sends[INBOX_OUTBOX_CLAIM_MAX], *send, **link;
    inbox_error_t             err;
    sender_queue_t           *q;
    inbox_outbox_held_t       held[INBOX_OUTBOX_CLAIM_MAX];
    inbox_outbox_priority_t   priorities[INBOX_OUTBOX_CLAIM_MAX];

    if (sender_outbox.replies.head == NULL
        && sender_outbox.bulk.head == NULL)
    {
        sender_outbox.look_optouts = 0;
        return;
    }

    if (!sender_outbox.look_optouts) {
        /* the claim looked: only what waited since needs a look */
        n = sender_outbox_optouts_take(&sender_outbox.replies, now, NULL, 0)
            + sender_outbox_optouts_take(&sender_outbox.bulk, now, NULL, 0);
        if (n == 0) {
            return;
        }
    }

    sender_outbox.look_optouts = 0;

    for ( ;; ) {
        /* everything waiting, INBOX_OUTBOX_CLAIM_MAX a read */
        n = sender_outbox_optouts_take(&sender_outbox.replies, now, sends,
                                       INBOX_OUTBOX_CLAIM_MAX);
        n += sender_outbox_optouts_take(&sender_outbox.bulk, now, sends + n,
                                        INBOX_OUTBOX_CLAIM_MAX - n);
        if (n == 0) {
            break;
        }

        for (i = 0; i < n; i++) {
            ids[i] = sends[i]->message_id;
            priorities[i] = sends[i]->priority;
            sends[i]->checked_at = now + 1;
        }

        if (inbox_store_outbox_recheck(s->store, ids, priorities, n,
                                       sender_clock_last(&s->clock, now),
                                       held, &err)
            != INBOX_OK)
        {
            /* the claim looked: they go, and are looked at again */
            sender_log(s, "cannot look for opt-outs: %s", err.message);
            continue;
        }

        put_off = 0;

        for (i = 0; i < n; i++) {
            if (held[i] == INBOX_OUTBOX_HELD_WITHDRAWN) {
                sends[i]->checked_at = SENDER_LOOK_WITHDRAWN;

            } else if (held[i] == INBOX_OUTBOX_HELD_QUIET) {
                sends[i]->checked_at = SENDER_LOOK_PUT_OFF;
                put_off++;
            }
        }

        /* out of their queues, reported without sending */
        for (q = &sender_outbox.replies; q != NULL;
             q = (q == &sender_outbox.replies) ? &sender_outbox.bulk : NULL)
        {
            link = &q->head;

            while ((send = *link) != NULL) {
                if (send->checked_at != SENDER_LOOK_WITHDRAWN) {
                    link = &send->next;
                    continue;
                }

                *link = send->next;
                if (q->tail == &send->next) {
                    q->tail = link;
                }
                q->count--;

                sender_outbox_withdraw(s, send);
            }
        }

        if (put_off > 0) {
            /* as a wake-up saying their quiet hours moved gives them
             * back */
            sender_outbox_quiet_moved(s, NULL);
        }
    }
}


/*
 * Up to n sends of q not looked at since now (their checked_at before
 * it) into sends; with sends NULL, counts those that waited
 * SENDER_OPTOUT_LOOK_MS.
 */
static size_t
sender_outbox_optouts_take(sender_queue_t *q, int64_t now,
    sender_send_t **sends, size_t n)
{
    size_t          got;
    sender_send_t  *send;

    got = 0;

    for (send = q->head; send != NULL; send = send->next) {
        if (sends == NULL) {
            got += (send->checked_at + SENDER_OPTOUT_LOOK_MS <= now);
            continue;
        }

        if (got == n) {
            break;
        }

        if (send->checked_at <= now) {
            sends[got++] = send;
        }
    }

    return got;
}


static void
sender_outbox_withdraw(sender_t *s, sender_send_t *send)
{
    sender_debug(s, "message %s withdrawn: its contact opted out while it "
                 "waited", send->message_id);

    send->result.outcome = INBOX_SEND_WITHDRAWN;
    snprintf(send->result.message, sizeof(send->result.message),
             "the contact opted out after it was written");
    sender_outbox_answered(send);
}


static int64_t
sender_outbox_start_queue(sender_t *s, sender_queue_t *q, int64_t now)
{
    int             rc, held;
    int64_t         wait, next, last_start, turn_at;
    sender_send_t  *send, **link;

    next = -1;
    link = &q->head;
    held = q == &sender_outbox.bulk && q->head != NULL
           && sender_outbox_campaigns_unseen(s);

    while ((send = *link) != NULL) {
        /* the latest a request may start and still end within the
         * claim; past it the store would take the message back as
         * interrupted while the carrier might still send it */
        last_start = send->lease_until - s->options.timeout_ms;
        rc = 0;
        turn_at = 0;

        if (now < last_start) {
            if (held) {
                /* its campaign may have been paused or cancelled: it
                 * starts once the campaigns job looked, at once */
                wait = 0;

            } else if (send->bulk
                && sender_outbox.bulk_active >= sender_outbox_bulk_window(s))
            {
                /* the next answer of a campaign request starts it, or
                 * its claim runs short first */
                wait = last_start - now;

            } else {
                rc = sender_rate_take(s->rate, send->from,
                                      send->bulk ? SENDER_RATE_BULK
                                                 : SENDER_RATE_REPLY,
                                      send->segments, now, &wait);
                if (rc == 0 && now + wait >= last_start) {
                    /* its number's next turn, past what the claim covers */
                    turn_at = now + wait;

                } else if (rc == 0
                           && sender_rate_held_until(s->rate, send->from,
                                                     now) > 0)
                {
                    /* a carrier's 429 holds the number: given back now,
                     * as the refused one was, not held claimed */
                    wait = -1;
                }

                if (rc != 0 || now + wait >= last_start) {
                    wait = -1;
                }
            }

            if (wait >= 0) {
                if (next < 0 || wait < next) {
                    next = wait;
                }
                link = &send->next;
                continue;
            }
        }

        *link = send->next;
        if (q->tail == &send->next) {
            q->tail = link;
        }
        q->count--;

        if (rc == 0) {
            /* waited out its claim (behind the bulk window, its number's
             * own rate, or a carrier's 429 holding the number): given
             * back unsent, no attempt counted, due again when the hold
             * ends or its number's turn comes (claimed again before,
             * it would only be given back again), else at once */
            send->result.outcome = INBOX_SEND_RELEASED;
            send->result.due_at = sender_rate_held_until(s->rate,
                                                         send->from, now);
            if (send->result.due_at > 0) {
                snprintf(send->result.message,
                         sizeof(send->result.message),
                         "not sent: %s is held (a 429 or the carrier's "
                         "trouble)",
                         send->from);
            } else {
                send->result.due_at = turn_at;
                snprintf(send->result.message,
                         sizeof(send->result.message),
                         "not started within its claim");
            }
            sender_debug(s, "message %s given back unsent (%s), due in "
                         "%" PRId64 " ms", send->message_id,
                         send->result.message,
                         send->result.due_at > now
                         ? send->result.due_at - now : 0);
            sender_outbox_answered(send);
            continue;
        }

        if (rc < 0 || sender_start(s, &send->transfer) != 0) {
            /* nothing left: given back, no attempt counted (left to its
             * lease, the store would take it as perhaps sent) */
            sender_transfer_cleanup(&send->transfer);
            sender_outbox_not_started(s, send, now,
                                      rc < 0 ? "out of memory"
                                             : send->transfer.error);
            continue;
        }

        /* what its answer tells of a carrier's hold (sender_rate.h) */
        send->started_at = now;

        if (send->bulk) {
            sender_outbox.bulk_active++;
        }

        sender_debug(s, "sending message %s (attempt %u%s) from %s",
                     send->message_id, send->attempt,
                     send->bulk ? ", bulk" : "", send->from);
    }

    return next;
}


/*
 * Whether a person's pause or a cancel may have come that the campaigns
 * job has not seen yet: a campaign send the sender holds, started now,
 * would leave after the pause was answered.  So it may when a wake-up
 * was read this turn (the outbox's pump runs before the campaigns', and
 * an answer freeing a place in the bulk window, or its number's turn,
 * would start it first), or one waits unread (nginx wakes the sender
 * before it answers the pause).  The campaigns job reads the campaigns
 * after every wake-up anyway, at once: waiting for it costs no store
 * round trip, a poll(2) of the wake-up socket at most.
 */
static int
sender_outbox_campaigns_unseen(sender_t *s)
{
    return sender_campaigns_unseen(s) || sender_wake_pending(s);
}


static void
sender_outbox_done(sender_transfer_t *t)
{
    int64_t         now;
    sender_send_t  *send = t->data;
    sender_t       *s = send->s;

    now = inbox_now_ms();

    if (send->bulk) {
        if (t->reach == SENDER_ANSWERED) {
            sender_window_answer(&sender_outbox.window, t->elapsed_us,
                                 sender_outbox.bulk_active, now);
        }

        sender_outbox.bulk_active--;
    }

    if (t->reach == SENDER_NO_DESCRIPTOR) {
        sender_outbox_no_descriptor(s, send, now);
        return;
    }

    switch (t->reach) {

    case SENDER_ANSWERED:
        inbox_carrier_send_result(send->carrier, t->status, t->response,
                                  t->response_len, &send->result);

        if (send->result.slow_down
            && sender_outbox_slow_down(s, send, t->status, now))
        {
            return;
        }

        if (send->result.account && send->bulk
            && send->campaign_id[0] != '\0')
        {
            sender_outbox_account(s, send, t->status);
            return;
        }

        /* a reply (a keyword's answer) refused so fails: the store says
         * carrier_account whatever the carrier's code, so the log says
         * which */
        if (send->result.account) {
            sender_outbox_refused(s, send, t->status, now);
        }

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

    if (send->result.outcome == INBOX_SEND_ACCEPTED) {
        sender_rate_accepted(s->rate, send->from, send->started_at);

    } else if (send->result.outcome == INBOX_SEND_UNKNOWN
               || send->result.outcome == INBOX_SEND_RETRY)
    {
        sender_outbox_trouble(s, send, t->status, now);
    }

    sender_transfer_cleanup(t);

    sender_debug(s, "message %s: %s (HTTP %ld) %s", send->message_id,
                 inbox_send_outcome_name(send->result.outcome), t->status,
                 send->result.message);

    sender_outbox_answered(send);
}


/*
 * The carrier is in trouble: not reached, no answer, a gateway's 5xx, its
 * own "try again".  The number is held as for a 429 (1 s, doubling while
 * it lasts), so that what waits behind this send is given back unsent
 * rather than poured into the trouble: each send of an outage may have
 * gone, so each becomes an unknown outcome that is never sent again and
 * holds its credits, and a campaign would otherwise drain its audience
 * into them.  One send a hold probes the carrier; its acceptance ends it.
 */
static void
sender_outbox_trouble(sender_t *s, sender_send_t *send, long http_status,
    int64_t now)
{
    int64_t  until;

    until = sender_rate_backoff(s->rate, send->from, send->started_at, now,
                                0);
    if (until < 0) {
        return;
    }

    sender_log(s, "message %s from %s: %s (HTTP %ld): nothing more from "
               "the number for %lld ms", send->message_id, send->from,
               inbox_send_outcome_name(send->result.outcome), http_status,
               (long long) (until - now));
}


/* A send that could not start (no memory for it, curl refused it): given
 * back, no attempt counted, due again later each time none starts
 * (sender_start.c). */
static void
sender_outbox_not_started(sender_t *s, sender_send_t *send, int64_t now,
    const char *why)
{
    send->result.outcome = INBOX_SEND_RELEASED;
    send->result.due_at = sender_start_failed(s, now, why);
    snprintf(send->result.message, sizeof(send->result.message),
             "not sent: the send could not start (%.200s)", why);
    sender_debug(s, "message %s given back unsent (%s), due in %" PRId64
                 " ms", send->message_id, send->result.message,
                 send->result.due_at - now);
    sender_outbox_answered(send);
}


/*
 * The sender itself had no file descriptor for the request (EMFILE,
 * ENFILE): the carrier never saw it, and is not to blame.  Given back,
 * no attempt counted, as for a 429: counted as the carrier's retry, a
 * burst at the limit failed messages "carrier_unavailable" after eight.
 * Logged once an episode, not once a send (sender_nofile.c).
 */
static void
sender_outbox_no_descriptor(sender_t *s, sender_send_t *send, int64_t now)
{
    send->result.outcome = INBOX_SEND_RELEASED;
    send->result.due_at = sender_no_descriptor(s, now);
    snprintf(send->result.message, sizeof(send->result.message),
             "not sent: the sender had no file descriptor free");
    sender_debug(s, "message %s given back unsent (%s)", send->message_id,
                 send->result.message);
    sender_transfer_cleanup(&send->transfer);
    sender_outbox_answered(send);
}


/*
 * The carrier refused the number's sends for now (the result's
 * slow_down: "too many requests", Twilio 20429 or Telnyx's 429; Twilio's
 * 21611, the number's queue full): nothing was sent.  The number is held
 * (sender_rate_backoff) and the message given back, due when the hold
 * ends, no attempt counted: a carrier that only throttles never makes a
 * message fail.  Not kept claimed in memory meanwhile: a sender that
 * died during the hold would leave a claim the store must take as "may
 * have been sent".  Returns 0 when out of memory: the store then tries
 * it again as a retry.
 */
static int
sender_outbox_slow_down(sender_t *s, sender_send_t *send, long http_status,
    int64_t now)
{
    int64_t  until;

    until = sender_rate_backoff(s->rate, send->from, send->started_at, now,
                                send->transfer.retry_after_ms);

    sender_log(s, "the carrier refused message %s from %s as too many "
               "(HTTP %ld%s%s%s): nothing from the number for %lld ms",
               send->message_id, send->from, http_status,
               send->result.error_code[0] != '\0' ? ", error " : "",
               send->result.error_code,
               send->transfer.retry_after_ms > 0 ? ", Retry-After" : "",
               (long long) (until - now));

    if (until < 0) {
        return 0;
    }

    send->result.outcome = INBOX_SEND_RELEASED;
    send->result.due_at = until;
    snprintf(send->result.message, sizeof(send->result.message),
             "not sent: the carrier asked %s to slow down", send->from);
    sender_transfer_cleanup(&send->transfer);
    sender_outbox_answered(send);

    return 1;
}


/*
 * The carrier refused the number's account or credentials (the result's
 * account: a wrong auth token, an account not active): nothing from the
 * number can go until a person fixes its settings, so a campaign's
 * message is not failed (its recipient could never be sent it again) but
 * given back, no attempt counted, due at once; the store pauses its
 * campaign (carrier_account) as it records that, and the next claim
 * parks it until the campaign is resumed.  What the sender holds of the
 * campaign goes back with it, and the result is recorded at once, so
 * that no claim meanwhile hands out more of the campaign.
 */
static void
sender_outbox_account(sender_t *s, sender_send_t *send, long http_status)
{
    if (sender_outbox_account_note(send->campaign_id, 0)) {
        sender_log(s, "campaign %s paused: the carrier refused the account "
                   "or credentials of %s (HTTP %ld%s%s: %s); its messages "
                   "wait unsent until the number's settings are fixed and "
                   "the campaign is resumed", send->campaign_id, send->from,
                   http_status,
                   send->result.error_code[0] != '\0' ? ", error " : "",
                   send->result.error_code, send->result.message);
    }

    send->result.outcome = INBOX_SEND_RELEASED;
    send->result.due_at = 0;
    sender_transfer_cleanup(&send->transfer);
    sender_outbox_answered(send);
    sender_outbox.linger_until = 0;

    sender_outbox_campaign_stopped(s, send->campaign_id, 0);
}


/* Notes campaign_id as paused here for its number's account: 1 when it
 * was not yet.  With forget, forgets it instead (0). */
static int
sender_outbox_account_note(const char *campaign_id, int forget)
{
    unsigned  i;

    if (campaign_id[0] == '\0') {
        return 0;
    }

    for (i = 0; i < SENDER_ACCOUNT_NOTED; i++) {
        if (strcmp(sender_account_noted[i], campaign_id) == 0) {
            if (forget) {
                sender_account_noted[i][0] = '\0';
            }

            return 0;
        }
    }

    if (forget) {
        return 0;
    }

    strcpy(sender_account_noted[sender_account_next], campaign_id);
    sender_account_next = (sender_account_next + 1) % SENDER_ACCOUNT_NOTED;

    return 1;
}


/*
 * A reply (a keyword's answer) the carrier refused for its number's
 * account or credentials fails: the error log names the message, the
 * number and the carrier's code and text (the message names the HTTP
 * status and the code).  They come at people's pace, but each STOP of a
 * burst to a number whose token is wrong is refused: the first of a
 * number and code is logged, the others within a minute counted and
 * said in one line after it (sender_outbox_refusals).
 */
static void
sender_outbox_refused(sender_t *s, sender_send_t *send, long http_status,
    int64_t now)
{
    if (!sender_refusals_note(&sender_refusals, send->from,
                              send->result.error_code, http_status,
                              send->message_id, now))
    {
        return;
    }

    sender_log(s, "message %s failed: the carrier refused the account or "
               "credentials of %s: %s; it can be sent again once the "
               "number's settings are fixed (more refused so within a "
               "minute are counted, in one line)", send->message_id,
               send->from, send->result.message);
}


/* Logs the counts of refused replies whose minute is over (with all,
 * every count: the sender stops); returns when the next is due (ms),
 * -1 when none waits. */
static int64_t
sender_outbox_refusals(sender_t *s, int64_t now, int all)
{
    sender_refusal_t  r;

    while (sender_refusals_summary(&sender_refusals, now, all, &r)) {
        sender_log(s, "%lu more message%s failed: the carrier refused "
                   "the account or credentials of %s (HTTP %ld%s%s), the "
                   "latest message %s; %s can be sent again once the "
                   "number's settings are fixed", r.held,
                   r.held == 1 ? "" : "s", r.from, r.http_status,
                   r.code[0] != '\0' ? ", error " : "", r.code, r.last_id,
                   r.held == 1 ? "it" : "they");
    }

    return sender_refusals_wait(&sender_refusals, now);
}


/* What the carrier said: recorded with others soon (sender_outbox_flush). */
static void
sender_outbox_answered(sender_send_t *send)
{
    if (sender_outbox.answered.head == NULL) {
        sender_outbox.linger_until = inbox_now_ms() + SENDER_RECORD_LINGER_MS;
    }

    sender_queue_append(&sender_outbox.answered, send);
}


/* When the answers waiting are to be recorded (ms), or -1: none wait.
 * A stopping sender with nothing in flight records at once: no answer
 * comes to linger for. */
static int64_t
sender_outbox_record_when(sender_t *s)
{
    int64_t  at;

    if (sender_outbox.answered.head == NULL) {
        return -1;
    }

    at = sender_outbox.answered.count >= SENDER_RECORD_SOON
         || (s->stopping && sender_loop_active(s->loop) == 0)
         ? 0 : sender_outbox.linger_until;

    return at > sender_outbox.retry_at ? at : sender_outbox.retry_at;
}


/*
 * Tells the store what the carriers said, SENDER_RECORD_BATCH results a
 * call, in the order they came.  What the store cannot take now is kept,
 * first in line, to tell again after SENDER_RECORD_RETRY_MS.  Returns 0,
 * or -1 when results are kept.
 */
static int
sender_outbox_record(sender_t *s, int64_t now)
{
    size_t                  i, n;
    sender_send_t          *send, *batch[SENDER_RECORD_BATCH];
    sender_queue_t          kept;
    inbox_error_t           err;
    inbox_status_t          rc;
    inbox_event_list_t      events;
    inbox_outbox_record_t  *record;

    while (sender_outbox.answered.head != NULL) {
        n = 0;

        while (n < SENDER_RECORD_BATCH
               && (send = sender_outbox.answered.head) != NULL)
        {
            sender_outbox.answered.head = send->next;
            sender_outbox.answered.count--;

            record = &sender_records[n];
            memset(record, 0, sizeof(inbox_outbox_record_t));
            record->entry_id = send->entry_id;
            record->attempt = send->attempt;
            record->result = send->result;

            batch[n++] = send;
        }

        if (sender_outbox.answered.head == NULL) {
            sender_outbox.answered.tail = &sender_outbox.answered.head;
        }

        memset(&events, 0, sizeof(events));

        rc = inbox_store_outbox_results(s->store, sender_records, n, now,
                                        &events, &err);

        /* what was stored (MongoDB may store some of a failed call) */
        sender_publish(s, &events);
        inbox_event_list_free(&events);

        kept.head = NULL;
        kept.tail = &kept.head;
        kept.count = 0;

        for (i = 0; i < n; i++) {
            if (sender_records[i].status == INBOX_ERR_UNAVAILABLE
                || sender_records[i].status == INBOX_ERR_INTERNAL)
            {
                sender_queue_append(&kept, batch[i]);
                continue;
            }

            sender_outbox_recorded(s, batch[i], &sender_records[i], now);
        }

        if (kept.head != NULL) {
            sender_log(s, "cannot record the results of %u messages yet: "
                       "%s", kept.count,
                       rc != INBOX_OK ? err.message : "the store failed");

            /* first in line again, before what came since */
            *kept.tail = sender_outbox.answered.head;
            if (sender_outbox.answered.head == NULL) {
                sender_outbox.answered.tail = kept.tail;
            }
            sender_outbox.answered.head = kept.head;
            sender_outbox.answered.count += kept.count;
            sender_outbox.retry_at = now + SENDER_RECORD_RETRY_MS;

            return -1;
        }
    }

    return 0;
}


/* One result the store took or refused for good. */
static void
sender_outbox_recorded(sender_t *s, sender_send_t *send,
    const inbox_outbox_record_t *record, int64_t now)
{
    if (record->status != INBOX_OK) {
        /* the claim was lost (its lease ran out) or is done already */
        sender_log(s, "the result of message %s was not recorded: %s",
                   send->message_id, record->error.message);
        sender_outbox_free(send);
        return;
    }

    if (record->report.opted_out_contact[0] != '\0') {
        sender_opt_out(s, send->org_id, record->report.opted_out_contact,
                       record->report.opted_out_sent_at);
    }

    if (send->bulk) {
        /* its campaign may have room in the outbox again */
        sender_outbox.bulk_recorded++;
    }

    /* due again (a retry's backoff, one given back at once): look then */
    if ((send->result.outcome == INBOX_SEND_RETRY
         || send->result.outcome == INBOX_SEND_RELEASED)
        && !record->report.done
        && record->report.next_attempt_at < sender_outbox.due)
    {
        sender_outbox.due = record->report.next_attempt_at;
    }

    sender_outbox_free(send);
}


static void
sender_outbox_free(sender_send_t *send)
{
    sender_transfer_cleanup(&send->transfer);
    free(send);
}
