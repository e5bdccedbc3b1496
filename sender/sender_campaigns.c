/*
 * The campaigns job: hands the due recipients of sending campaigns to
 * the outbox (inbox_store_campaign_dispatch: opt-outs, quiet hours,
 * credits and billing are the store's and campaign.h's rules), a batch
 * at a time, so that a dispatch never holds the loop for long.  The
 * store shares a batch among the sending campaigns and gives a campaign
 * none while INBOX_CAMPAIGN_AHEAD_MAX of its messages wait in the
 * outbox: each goes only as fast as its numbers send (each message from
 * the number its recipient texts, each number paced on its own), its
 * credits held and its opt-outs checked just before its messages leave,
 * and one campaign's audience never holds up another's, of its
 * organization or any other.
 *
 * It looks when woken (nginx sends the wake-up datagram after a send, a
 * resume or a scheduled campaign's time moved), at once again after a
 * full batch, as campaign messages leave the outbox while one was full
 * (SENDER_DISPATCH_REFILL of them, of any number, since the last look)
 * and every SENDER_DISPATCH_LOOK_MS for what time releases: a scheduled
 * campaign's send_at, the end of quiet hours.
 *
 * Progress: every SENDER_PROGRESS_EVERY_MS it reads the campaigns that
 * may still move (inbox_store_campaigns_active: also those finished in
 * the last SENDER_PROGRESS_AFTER_MS, whose delivery reports still come,
 * and polls whose tally an answer moved in that time, as answers come
 * for days after the sending) and pushes campaign.progress for each
 * whose status, time, counts or tally changed since it last did
 * (inbox_store_campaign_progress).  So a campaign's progress is pushed a
 * few times a second at most, whatever moved it (its sends, delivery
 * reports, replies, answers, a pause from the API), and the last one
 * pushed shows its counts as they end.
 *
 * The same look at the campaigns stops what the outbox job holds of a
 * campaign paused by a person or cancelled since
 * (sender_outbox_campaign_stopped; a pause for credits or billing stops
 * only the dispatch, what was handed over is paid for and goes):
 * nginx wakes the sender after a pause or a cancel too, so that it
 * happens at once, and from a wake-up until this job has looked (in the
 * turn it came) the outbox starts none of the campaign sends it holds
 * (sender_campaigns_unseen).
 *
 * Both run on the campaigns' clock (sender_clock.h: the real one unless
 * --clock-file names another); the job's own timing is real time.
 */
#include <stdlib.h>
#include <string.h>
#include "sender_jobs.h"

/*
 * Recipients a dispatch: one write transaction, which every webhook of
 * the inbox waits behind.  With 100 the sender held the store's write
 * lock 3 ms or more 367 times in a 20,000-recipient send (82 over
 * 10 ms): the inbox's p99 was made of such waits.  25 makes four times
 * as many short dispatches, few beside the thousand transactions a
 * second a send makes anyway.
 */
#define SENDER_DISPATCH_BATCH     25
#define SENDER_DISPATCH_LOOK_MS   1000

/*
 * A campaign whose messages filled its share of the outbox gets more
 * once this many campaign messages left it: half its share, so that it
 * gets them before its number has sent the rest, in dispatches of a
 * dozen rather than one a message.
 */
#define SENDER_DISPATCH_REFILL    (INBOX_CAMPAIGN_AHEAD_MAX / 2)
#define SENDER_PROGRESS_EVERY_MS  300
#define SENDER_PROGRESS_IDLE_MS   1000    /* while no campaign moves */
#define SENDER_PROGRESS_AFTER_MS  (10 * 60 * 1000LL)

/* Where a campaign stood when its progress was last pushed. */
typedef struct {
    char                     id[INBOX_ID_MAX];
    inbox_campaign_status_t  status;
    int64_t                  send_at;
    inbox_pause_reason_t     paused_reason;
    inbox_campaign_counts_t  counts;
    int64_t                  tally[INBOX_POLL_OPTIONS_MAX];
} sender_progress_t;

typedef struct {
    int                 look;          /* dispatch at the next chance */
    int                 unseen;        /* a wake-up came since the
                                          campaigns were last read */
    int                 outbox_full;   /* a campaign waits for room */
    unsigned long       recorded;      /* sender_outbox_bulk_recorded at
                                          the last dispatch */
    int64_t             due;           /* look by then anyway */
    int64_t             progress_at;   /* read the campaigns by then */
    sender_progress_t  *pushed;        /* by campaign, npushed of them */
    size_t              npushed;
} sender_campaigns_t;

static sender_campaigns_t  sender_campaigns = { .look = 1 };

static int64_t sender_campaigns_now(sender_t *s, int64_t now);
static void sender_campaigns_dispatch(sender_t *s, int64_t now);
static void sender_campaigns_progress(sender_t *s, int64_t now);
static void sender_campaigns_progress_page(sender_t *s, int64_t at,
    const inbox_campaign_page_t *page, sender_progress_t *fresh);
static int sender_progress_same(const sender_progress_t *p,
    const inbox_campaign_t *c);
static void sender_progress_keep(sender_progress_t *p,
    const inbox_campaign_t *c);


int64_t
sender_campaigns_pump(sender_t *s, int64_t now)
{
    int64_t  next, wait;

    if (now >= sender_campaigns.due) {
        sender_campaigns.look = 1;
    }

    if (sender_campaigns.outbox_full
        && sender_outbox_bulk_recorded(s) - sender_campaigns.recorded
           >= SENDER_DISPATCH_REFILL)
    {
        sender_campaigns.look = 1;
    }

    if (sender_campaigns.look) {
        sender_campaigns_dispatch(s, now);
    }

    if (now >= sender_campaigns.progress_at) {
        sender_campaigns_progress(s, now);
    }

    next = sender_campaigns.progress_at - now;

    if (sender_campaigns.look) {
        /* a full batch: more at once */
        return 0;
    }

    wait = sender_campaigns.due - now;

    return wait < next ? (wait > 0 ? wait : 0) : next;
}


void
sender_campaigns_wake(sender_t *s)
{
    sender_campaigns.look = 1;
    sender_campaigns.unseen = 1;
    sender_campaigns.progress_at = 0;
}


int
sender_campaigns_unseen(sender_t *s)
{
    return sender_campaigns.unseen;
}


/* The campaigns' time at real time now, said in the log when it moves. */
static int64_t
sender_campaigns_now(sender_t *s, int64_t now)
{
    int          changed;
    char         when[INBOX_ISO8601_MAX];
    int64_t      at;
    const char  *failed;

    at = sender_clock_now(&s->clock, now, &changed, &failed);

    if (changed || failed != NULL) {
        inbox_iso8601(at, when);
    }

    if (changed) {
        sender_log(s, "campaigns' clock: %s", when);
    }

    if (failed != NULL) {
        sender_log(s, "campaigns' clock: %s: %s; it stays at %s",
                   s->options.clock_path, failed, when);
    }

    return at;
}


static void
sender_campaigns_dispatch(sender_t *s, int64_t now)
{
    size_t                     taken;
    inbox_error_t              err;
    inbox_event_list_t         events;
    inbox_campaign_dispatch_t  result;

    memset(&result, 0, sizeof(result));
    memset(&events, 0, sizeof(events));

    sender_campaigns.due = now + SENDER_DISPATCH_LOOK_MS;
    sender_campaigns.recorded = sender_outbox_bulk_recorded(s);
    sender_campaigns.outbox_full = 0;

    if (inbox_store_campaign_dispatch(s->store, sender_campaigns_now(s, now),
                                      SENDER_DISPATCH_BATCH,
                                      s->options.public_url, &result,
                                      &events, &err)
        != INBOX_OK)
    {
        sender_log(s, "cannot hand campaign messages to the outbox: %s",
                   err.message);
        sender_campaigns.look = 0;
        inbox_event_list_free(&events);
        return;
    }

    sender_publish(s, &events);
    inbox_event_list_free(&events);

    if (result.handed > 0) {
        /* claimed in this turn of the loop (sender.c) */
        sender_outbox_bulk_queued(s);
    }

    if (result.started > 0 && sender_campaigns.progress_at
                              > now + SENDER_PROGRESS_EVERY_MS)
    {
        /* a campaign began moving: show it without the idle wait */
        sender_campaigns.progress_at = now + SENDER_PROGRESS_EVERY_MS;
    }

    if (result.started > 0 || result.paused > 0 || result.finished > 0) {
        sender_log(s, "campaigns: %zu started, %zu paused by billing, %zu "
                   "done", result.started, result.paused, result.finished);
    }

    if (result.refused > 0) {
        sender_log(s, "campaigns: %zu scheduled cancelled as they "
                   "started: their text is no longer one a campaign may "
                   "send (too many segments, too long)", result.refused);
    }

    sender_debug(s, "campaigns: %zu handed to the outbox, %zu waiting for "
                 "quiet hours, %zu suppressed, %zu with their share of the "
                 "outbox full", result.handed, result.waiting,
                 result.suppressed, result.outbox_full);

    /* a full batch: more may be due now */
    taken = result.handed + result.waiting + result.suppressed;
    sender_campaigns.look = (taken >= SENDER_DISPATCH_BATCH);
    sender_campaigns.outbox_full = (result.outbox_full > 0);
}


/*
 * Pushes the progress of every campaign that may still move, page by
 * page: past the first INBOX_CAMPAIGNS_ACTIVE_MAX too, or the newer
 * ones' cards would stand still and their pauses and cancels would not
 * stop what the sender holds of them.
 */
static void
sender_campaigns_progress(sender_t *s, int64_t now)
{
    char                    cursor[INBOX_CURSOR_MAX];
    size_t                  nfresh;
    int64_t                 at;
    inbox_error_t           err;
    inbox_campaign_page_t   page;
    sender_progress_t      *fresh, *grown;

    sender_campaigns.progress_at = now + SENDER_PROGRESS_IDLE_MS;
    /* looked at, also when the read fails (logged): the campaign sends
     * held for it then go, as they would have without the hold */
    sender_campaigns.unseen = 0;
    at = sender_campaigns_now(s, now);

    fresh = NULL;
    nfresh = 0;
    cursor[0] = '\0';

    do {
        if (inbox_store_campaigns_active(s->store,
                                         at - SENDER_PROGRESS_AFTER_MS,
                                         cursor, &page, &err)
            != INBOX_OK)
        {
            sender_log(s, "cannot read the campaigns' progress: %s",
                       err.message);
            free(fresh);
            return;
        }

        grown = realloc(fresh, (nfresh + page.count + 1)
                               * sizeof(sender_progress_t));
        if (grown == NULL) {
            sender_log(s, "out of memory for campaign progress");
            inbox_campaign_page_free(&page);
            free(fresh);
            return;
        }

        fresh = grown;
        memset(fresh + nfresh, 0,
               (page.count + 1) * sizeof(sender_progress_t));

        sender_campaigns_progress_page(s, at, &page, fresh + nfresh);
        nfresh += page.count;

        memcpy(cursor, page.next_cursor, sizeof(cursor));
        inbox_campaign_page_free(&page);

    } while (cursor[0] != '\0');

    /* what was pushed, for the campaigns listed now (others forgotten) */
    free(sender_campaigns.pushed);
    sender_campaigns.pushed = fresh;
    sender_campaigns.npushed = nfresh;

    if (nfresh > 0) {
        sender_campaigns.progress_at = now + SENDER_PROGRESS_EVERY_MS;
    }
}


/* One page of sender_campaigns_progress: what each campaign's state
 * means for the sends held here, and its progress pushed when it moved
 * since last pushed; fresh (page->count entries) gets what was pushed. */
static void
sender_campaigns_progress_page(sender_t *s, int64_t at,
    const inbox_campaign_page_t *page, sender_progress_t *fresh)
{
    size_t                   i, k;
    inbox_error_t            err;
    inbox_campaign_t         c;
    inbox_event_list_t       events;
    sender_progress_t       *p;
    inbox_campaign_outbox_t  fate;

    for (i = 0; i < page->count; i++) {
        p = &fresh[i];

        fate = inbox_campaign_outbox(page->items[i].status,
                                     page->items[i].paused_reason);
        if (fate != INBOX_OUTBOX_GOES) {
            sender_outbox_campaign_stopped(s, page->items[i].id,
                                           fate == INBOX_OUTBOX_CANCELLED);
        }

        for (k = 0; k < sender_campaigns.npushed; k++) {
            if (strcmp(sender_campaigns.pushed[k].id, page->items[i].id)
                == 0)
            {
                *p = sender_campaigns.pushed[k];
                break;
            }
        }

        if (sender_progress_same(p, &page->items[i])) {
            continue;
        }

        memset(&events, 0, sizeof(events));

        if (inbox_store_campaign_progress(s->store, page->items[i].org_id,
                                          page->items[i].id, at, &c,
                                          &events, &err)
            == INBOX_OK)
        {
            sender_publish(s, &events);
            sender_progress_keep(p, &c);

        } else {
            sender_log(s, "cannot push the progress of campaign %s: %s",
                       page->items[i].id, err.message);
        }

        inbox_event_list_free(&events);
        inbox_campaign_free(&c);
    }
}


static int
sender_progress_same(const sender_progress_t *p, const inbox_campaign_t *c)
{
    return strcmp(p->id, c->id) == 0 && p->status == c->status
           && p->send_at == c->send_at
           && p->paused_reason == c->paused_reason
           && memcmp(&p->counts, &c->counts, sizeof(c->counts)) == 0
           && memcmp(p->tally, c->tally, sizeof(c->tally)) == 0;
}


static void
sender_progress_keep(sender_progress_t *p, const inbox_campaign_t *c)
{
    memset(p, 0, sizeof(sender_progress_t));
    snprintf(p->id, sizeof(p->id), "%s", c->id);
    p->status = c->status;
    p->send_at = c->send_at;
    p->paused_reason = c->paused_reason;
    p->counts = c->counts;
    memcpy(p->tally, c->tally, sizeof(p->tally));
}
