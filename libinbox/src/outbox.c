/*
 * The outbox's rules: retries back off, and an opt-out withdraws what
 * was queued before it.
 */
#include <stdlib.h>
#include <inbox/outbox.h>


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
inbox_outbox_withdrawn(int64_t accepted_at, int64_t opted_out_at)
{
    return opted_out_at != 0 && accepted_at < opted_out_at;
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
