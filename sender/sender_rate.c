/*
 * A token bucket per sending number, in a small open-addressing table:
 * an organization has a few numbers, the sender a few thousand at most.
 */
#include <stdlib.h>
#include <string.h>
#include "sender_rate.h"

#define SENDER_RATE_NUMBER_MAX  24      /* E.164: '+' and 15 digits */

typedef struct {
    char      number[SENDER_RATE_NUMBER_MAX];
    double    tokens;
    int64_t   at;                       /* when tokens was counted, ms */
    int64_t   held_until;               /* a 429's backoff, ms */
    int64_t   hold_began;               /* when the last hold was set */
    unsigned  refusals;                 /* 429s in a row */
} sender_bucket_t;

struct sender_rate_s {
    double            per_ms;
    double            burst;
    double            reserve;          /* tokens bulk leaves to replies */
    sender_bucket_t  *buckets;
    size_t            size;             /* a power of two */
    size_t            used;
};

static sender_bucket_t *sender_rate_bucket(sender_rate_t *rate,
    const char *number, int64_t now_ms);
static sender_bucket_t *sender_rate_find(sender_rate_t *rate,
    const char *number);
static int sender_rate_grow(sender_rate_t *rate);
static size_t sender_rate_hash(const char *s);


sender_rate_t *
sender_rate_create(double per_second, unsigned burst)
{
    sender_rate_t  *rate;

    rate = calloc(1, sizeof(sender_rate_t));
    if (rate == NULL) {
        return NULL;
    }

    rate->per_ms = per_second / 1000.0;
    rate->burst = burst > 0 ? burst : 1;
    rate->reserve = (double) (unsigned) (rate->burst / 2);
    rate->size = 16;
    rate->buckets = calloc(rate->size, sizeof(sender_bucket_t));

    if (rate->buckets == NULL) {
        free(rate);
        return NULL;
    }

    return rate;
}


void
sender_rate_destroy(sender_rate_t *rate)
{
    if (rate != NULL) {
        free(rate->buckets);
        free(rate);
    }
}


int
sender_rate_take(sender_rate_t *rate, const char *number,
    sender_rate_class_t cls, unsigned segments, int64_t now_ms,
    int64_t *wait_ms)
{
    double            need, cost;
    sender_bucket_t  *b;

    b = sender_rate_bucket(rate, number, now_ms);
    if (b == NULL) {
        return -1;
    }

    if (now_ms < b->held_until) {
        *wait_ms = b->held_until - now_ms;
        return 0;
    }

    if (now_ms > b->at) {
        b->tokens += (double) (now_ms - b->at) * rate->per_ms;
        if (b->tokens > rate->burst) {
            b->tokens = rate->burst;
        }
        b->at = now_ms;
    }

    cost = segments == 0 ? 1.0
           : segments > rate->burst ? rate->burst : (double) segments;
    need = cls == SENDER_RATE_BULK ? cost + rate->reserve : cost;

    if (need > rate->burst) {
        /* a bucket never holds more: bulk's long text waits for a full
         * one, leaving replies the rest of the time */
        need = rate->burst;
    }

    if (b->tokens >= need) {
        b->tokens -= cost;
        return 1;
    }

    *wait_ms = (int64_t) ((need - b->tokens) / rate->per_ms) + 1;
    return 0;
}


int64_t
sender_rate_backoff(sender_rate_t *rate, const char *number,
    int64_t started_ms, int64_t now_ms, int64_t retry_after_ms)
{
    int64_t           wait;
    sender_bucket_t  *b;

    b = sender_rate_bucket(rate, number, now_ms);
    if (b == NULL) {
        return -1;
    }

    if (retry_after_ms > SENDER_RATE_BACKOFF_MAX_MS) {
        retry_after_ms = SENDER_RATE_BACKOFF_MAX_MS;
    }

    /*
     * A send started before the last hold began (one of those in flight
     * when the first refusal came, answered during the hold or after it):
     * the hold counts it already, and it says nothing of the carrier
     * since, unless the carrier now asks for longer.  Only a send started
     * after it (the probe when the hold ended) doubles the next.
     */
    if (started_ms <= b->hold_began) {
        if (retry_after_ms > 0 && now_ms + retry_after_ms > b->held_until) {
            b->held_until = now_ms + retry_after_ms;
            b->tokens = 0;
            b->at = b->held_until;
        }
        return b->held_until > now_ms ? b->held_until : now_ms;
    }

    if (retry_after_ms > 0) {
        wait = retry_after_ms;

    } else {
        /* 1 s, 2 s, 4 s ... for 429s in a row */
        wait = (int64_t) SENDER_RATE_BACKOFF_MIN_MS
               << (b->refusals < 6 ? b->refusals : 6);
    }

    b->refusals++;
    b->held_until = now_ms + wait;
    b->hold_began = now_ms;

    /* and the number starts again gently: an empty bucket */
    b->tokens = 0;
    b->at = b->held_until;

    return b->held_until;
}


void
sender_rate_accepted(sender_rate_t *rate, const char *number,
    int64_t started_ms)
{
    sender_bucket_t  *b;

    b = sender_rate_find(rate, number);

    /* one sent before the last hold began says nothing of the carrier
     * since: the carrier may have taken it and refused the next */
    if (b->number[0] != '\0' && started_ms > b->hold_began) {
        b->refusals = 0;
    }
}


int64_t
sender_rate_held_until(sender_rate_t *rate, const char *number,
    int64_t now_ms)
{
    sender_bucket_t  *b;

    b = sender_rate_find(rate, number);

    return b->number[0] != '\0' && now_ms < b->held_until ? b->held_until
                                                          : 0;
}


void
sender_rate_paces(sender_rate_t *rate, sender_rate_class_t cls,
    int64_t now_ms, inbox_outbox_paces_t *paces,
    inbox_outbox_pace_t *numbers, int64_t *wait_ms)
{
    size_t            i;
    double            tokens, need, full;
    int64_t           wait;
    sender_bucket_t  *b;

    /* a one-segment send's: each token above it is one segment more */
    need = cls == SENDER_RATE_BULK ? 1.0 + rate->reserve : 1.0;
    full = rate->burst - need + 1.0;

    paces->numbers = numbers;
    paces->n = 0;
    paces->other = (unsigned) full;
    *wait_ms = -1;

    for (i = 0; i < rate->size; i++) {
        b = &rate->buckets[i];
        if (b->number[0] == '\0') {
            continue;
        }

        if (now_ms < b->held_until) {
            /* the bucket starts empty when the hold ends */
            tokens = 0;
            wait = b->held_until - now_ms + (int64_t) (need / rate->per_ms)
                   + 1;

        } else {
            tokens = b->tokens + (double) (now_ms - b->at) * rate->per_ms;
            if (tokens >= rate->burst) {
                continue;
            }

            /* till one more whole token above the reserve */
            wait = (int64_t) ((need + (tokens >= need
                                       ? (double) (unsigned)
                                         (tokens - need + 1.0) : 0.0)
                               - tokens) / rate->per_ms) + 1;
        }

        numbers[paces->n].from = b->number;
        numbers[paces->n].max = tokens >= need
                                ? (unsigned) (tokens - need + 1.0) : 0;
        paces->n++;

        if (*wait_ms < 0 || wait < *wait_ms) {
            *wait_ms = wait;
        }
    }
}


size_t
sender_rate_numbers(sender_rate_t *rate)
{
    return rate->used;
}


/* The number's bucket, made (full) when the number is seen first; NULL
 * when out of memory. */
static sender_bucket_t *
sender_rate_bucket(sender_rate_t *rate, const char *number, int64_t now_ms)
{
    sender_bucket_t  *b;

    b = sender_rate_find(rate, number);

    if (b->number[0] == '\0') {
        /* kept at most half full, so a probe always ends */
        if (rate->used + 1 > rate->size / 2) {
            if (sender_rate_grow(rate) != 0) {
                return NULL;
            }
            b = sender_rate_find(rate, number);
        }

        strncpy(b->number, number, SENDER_RATE_NUMBER_MAX - 1);
        b->tokens = rate->burst;
        b->at = now_ms;
        rate->used++;
    }

    return b;
}


/* The number's bucket, or the empty slot where it goes (the table is
 * never full). */
static sender_bucket_t *
sender_rate_find(sender_rate_t *rate, const char *number)
{
    size_t            i;
    sender_bucket_t  *b;

    i = sender_rate_hash(number) & (rate->size - 1);

    for ( ;; ) {
        b = &rate->buckets[i];
        if (b->number[0] == '\0' || strcmp(b->number, number) == 0) {
            return b;
        }
        i = (i + 1) & (rate->size - 1);
    }
}


static int
sender_rate_grow(sender_rate_t *rate)
{
    size_t            i, old_size;
    sender_bucket_t  *old, *b;

    old = rate->buckets;
    old_size = rate->size;

    rate->buckets = calloc(old_size * 2, sizeof(sender_bucket_t));
    if (rate->buckets == NULL) {
        rate->buckets = old;
        return -1;
    }
    rate->size = old_size * 2;

    for (i = 0; i < old_size; i++) {
        if (old[i].number[0] != '\0') {
            b = sender_rate_find(rate, old[i].number);
            *b = old[i];
        }
    }

    free(old);
    return 0;
}


/* FNV-1a */
static size_t
sender_rate_hash(const char *s)
{
    uint64_t  h = 14695981039346656037ULL;

    while (*s) {
        h ^= (unsigned char) *s++;
        h *= 1099511628211ULL;
    }

    return (size_t) h;
}
