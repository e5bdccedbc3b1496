/*
 * The outbox's rules: retries back off, an opt-out withdraws what is
 * queued for the contact, the keyword's own free answer aside, which goes
 * at once or not at all, and a claim takes of each number only what the
 * sender can start (paces).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inbox/outbox.h>
#include <inbox/quiet.h>


#define INBOX_OUTBOX_BACKOFF_FIRST  5000LL
#define INBOX_OUTBOX_BACKOFF_MAX    (10LL * 60 * 1000)


int64_t
inbox_outbox_backoff(unsigned attempt)
{
    int64_t  delay;

    delay = INBOX_OUTBOX_BACKOFF_FIRST;

    while (attempt > 1 && delay < INBOX_OUTBOX_BACKOFF_MAX) {
        delay *= 2;
        attempt--;
    }

    return delay < INBOX_OUTBOX_BACKOFF_MAX ? delay
                                            : INBOX_OUTBOX_BACKOFF_MAX;
}


int
inbox_outbox_withdrawn(inbox_outbox_priority_t priority, int64_t opted_out_at)
{
    return opted_out_at != 0 && priority != INBOX_OUTBOX_NOTICE;
}


inbox_outbox_billing_t
inbox_outbox_billing(const inbox_outbox_item_t *item, int billing_active)
{
    if (billing_active || item->priority == INBOX_OUTBOX_NOTICE
        || item->interrupted || item->cancelled)
    {
        return INBOX_OUTBOX_BILLING_GOES;
    }

    return item->priority == INBOX_OUTBOX_BULK ? INBOX_OUTBOX_BILLING_PARKS
                                               : INBOX_OUTBOX_BILLING_FAILS;
}


int
inbox_outbox_notice_late(const inbox_outbox_item_t *item, int64_t now)
{
    return item->priority == INBOX_OUTBOX_NOTICE
           && now - item->message.created_at > INBOX_OUTBOX_NOTICE_WITHIN_MS;
}


inbox_outbox_priority_t
inbox_outbox_priority_of(const inbox_reply_t *reply, int in_campaign)
{
    if (in_campaign) {
        return INBOX_OUTBOX_BULK;
    }

    return reply->notice ? INBOX_OUTBOX_NOTICE : INBOX_OUTBOX_REPLY;
}


int
inbox_outbox_quiet(const inbox_outbox_item_t *item, const char *contact_tz,
    const char *org_tz, int quiet_start, int quiet_end, int64_t now,
    int64_t *opens)
{
    if (item->priority != INBOX_OUTBOX_BULK || item->interrupted
        || item->cancelled)
    {
        return 0;
    }

    return inbox_quiet_hours(contact_tz, org_tz, quiet_start, quiet_end,
                             now, opens);
}


inbox_outbox_held_t
inbox_outbox_held(inbox_outbox_priority_t priority,
    const inbox_outbox_held_read_t *read, int64_t quiet_now)
{
    int64_t              opens;
    inbox_outbox_item_t  item;

    if (!read->found) {
        return INBOX_OUTBOX_HELD_GOES;
    }

    if (inbox_outbox_withdrawn(priority, read->opted_out_at)) {
        return INBOX_OUTBOX_HELD_WITHDRAWN;
    }

    /* held, so neither interrupted nor cancelled: the claim reports
     * those at once */
    memset(&item, 0, sizeof(inbox_outbox_item_t));
    item.priority = priority;

    return inbox_outbox_quiet(&item, read->contact_tz, read->org_tz,
                              read->quiet_start, read->quiet_end,
                              quiet_now, &opens)
           ? INBOX_OUTBOX_HELD_QUIET : INBOX_OUTBOX_HELD_GOES;
}


void
inbox_outbox_batch_free(inbox_outbox_batch_t *batch)
{
    size_t  i;

    if (batch == NULL) {
        return;
    }

    for (i = 0; i < batch->count; i++) {
        inbox_message_free(&batch->items[i].message);
        inbox_number_free(&batch->items[i].number);
    }

    free(batch->items);
    batch->items = NULL;
    batch->count = 0;
}


unsigned
inbox_outbox_pace(const inbox_outbox_paces_t *paces, const char *from)
{
    size_t  i;

    if (paces == NULL) {
        return UINT_MAX;
    }

    for (i = 0; i < paces->n; i++) {
        if (strcmp(paces->numbers[i].from, from) == 0) {
            return paces->numbers[i].max;
        }
    }

    return paces->other > 0 ? paces->other : UINT_MAX;
}


unsigned
inbox_outbox_pace_cost(unsigned segments)
{
    return segments > 0 ? segments : 1;
}


void
inbox_outbox_pacing_init(inbox_outbox_pacing_t *pacing,
    const inbox_outbox_paces_t *paces)
{
    memset(pacing, 0, sizeof(inbox_outbox_pacing_t));
    pacing->paces = paces;
}


void
inbox_outbox_pacing_free(inbox_outbox_pacing_t *pacing)
{
    free(pacing->numbers);
    pacing->numbers = NULL;
    pacing->n = 0;
    pacing->size = 0;
}


/* What the claim took of number from so far; NULL: nothing yet. */
static inbox_outbox_paced_t *
inbox_outbox_paced(const inbox_outbox_pacing_t *pacing, const char *from)
{
    size_t  i;

    for (i = 0; i < pacing->n; i++) {
        if (strcmp(pacing->numbers[i].from, from) == 0) {
            return &pacing->numbers[i];
        }
    }

    return NULL;
}


int
inbox_outbox_pacing_take(inbox_outbox_pacing_t *pacing, const char *from,
    unsigned segments)
{
    unsigned               cap, cost, need;
    inbox_outbox_paced_t  *p, *grown;

    cap = inbox_outbox_pace(pacing->paces, from);
    if (cap == UINT_MAX) {
        return 1;
    }

    cost = inbox_outbox_pace_cost(segments);
    need = pacing->paces->other > 0 && cost > pacing->paces->other
           ? pacing->paces->other : cost;

    p = inbox_outbox_paced(pacing, from);

    if (p == NULL) {
        if (cap == 0) {
            return 0;               /* none of it fits: nothing to keep */
        }

        if (pacing->n == pacing->size) {
            grown = realloc(pacing->numbers, (pacing->size + 8)
                                             * sizeof(inbox_outbox_paced_t));
            if (grown == NULL) {
                return -1;
            }
            pacing->numbers = grown;
            pacing->size += 8;
        }

        p = &pacing->numbers[pacing->n++];
        memset(p, 0, sizeof(inbox_outbox_paced_t));
        snprintf(p->from, sizeof(p->from), "%s", from);
    }

    /* p->taken is at most cap */
    if (p->full || cap - p->taken < need) {
        /* its entries go in order: none after this one in this claim */
        p->full = 1;
        return 0;
    }

    p->taken += cost < cap - p->taken ? cost : cap - p->taken;

    return 1;
}


int
inbox_outbox_pacing_full(const inbox_outbox_pacing_t *pacing,
    const char *from)
{
    unsigned                     cap;
    const inbox_outbox_paced_t  *p;

    cap = inbox_outbox_pace(pacing->paces, from);
    if (cap == UINT_MAX) {
        return 0;
    }

    p = inbox_outbox_paced(pacing, from);

    return p != NULL ? p->full || p->taken >= cap : cap == 0;
}


void
inbox_outbox_callback_message(const char *value, size_t len,
    char out[INBOX_ID_MAX])
{
    size_t  i;

    out[0] = '\0';

    if (value == NULL || len == 0 || len >= INBOX_ID_MAX) {
        return;
    }

    for (i = 0; i < len; i++) {
        if (!((value[i] >= '0' && value[i] <= '9')
              || (value[i] >= 'a' && value[i] <= 'z')
              || (value[i] >= 'A' && value[i] <= 'Z')))
        {
            return;
        }
    }

    memcpy(out, value, len);
    out[len] = '\0';
}
