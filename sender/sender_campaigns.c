/*
 * The campaigns job: hands the due recipients of sending campaigns to
 * the outbox (inbox_store_campaign_dispatch: opt-outs, quiet hours,
 * credits and billing are the store's and campaign.h's rules), a batch
 * at a time and only as fast as the outbox sends them, so that a
 * campaign's credits are held, and its opt-outs checked, just before
 * its messages leave, and a dispatch never holds the loop for long.
 *
 * It looks when woken (nginx sends the wake-up datagram after a send or
 * a resume) and every SENDER_DISPATCH_LOOK_MS for what time releases:
 * a scheduled campaign's send_at, the end of quiet hours.
 */
#include <string.h>
#include "sender_jobs.h"

#define SENDER_DISPATCH_BATCH    100     /* recipients a dispatch */
#define SENDER_DISPATCH_LOOK_MS  1000

typedef struct {
    int      look;       /* dispatch at the next chance */
    int64_t  due;        /* look by then anyway */
} sender_campaigns_t;

static sender_campaigns_t  sender_campaigns = { .look = 1 };

static void sender_campaigns_dispatch(sender_t *s, int64_t now);


int64_t
sender_campaigns_pump(sender_t *s, int64_t now)
{
    if (now >= sender_campaigns.due) {
        sender_campaigns.look = 1;
    }

    if (sender_campaigns.look && sender_outbox_bulk_wanted(s)) {
        sender_campaigns_dispatch(s, now);
    }

    if (sender_campaigns.look) {
        /* the outbox has campaign messages in hand: more as it sends */
        return SENDER_DISPATCH_LOOK_MS;
    }

    return sender_campaigns.due > now ? sender_campaigns.due - now : 0;
}


void
sender_campaigns_wake(sender_t *s)
{
    sender_campaigns.look = 1;
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

    if (inbox_store_campaign_dispatch(s->store, now, SENDER_DISPATCH_BATCH,
                                      &result, &events, &err)
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
        sender_outbox_bulk_queued(s);
    }

    if (result.started > 0 || result.paused > 0 || result.finished > 0) {
        sender_log(s, "campaigns: %zu started, %zu paused by billing, %zu "
                   "done", result.started, result.paused, result.finished);
    }

    sender_debug(s, "campaigns: %zu handed to the outbox, %zu waiting for "
                 "quiet hours, %zu suppressed", result.handed,
                 result.waiting, result.suppressed);

    /* a full batch: more may be due now */
    taken = result.handed + result.waiting + result.suppressed;
    sender_campaigns.look = (taken >= SENDER_DISPATCH_BATCH);
}
