
/*
 * A leaky bucket's arithmetic, without nginx (ngx_http_inbox_limit.c
 * keeps the buckets), so that a unit test can drive its clock.
 */


#ifndef _NGX_HTTP_INBOX_BUCKET_H_INCLUDED_
#define _NGX_HTTP_INBOX_BUCKET_H_INCLUDED_


#include <stdint.h>


/*
 * A bucket's excess (charges beyond the rate, x1000) with one more charge
 * after ms idle at rate (charges a second, x1000): what has leaked since
 * is gone.  0 means the bucket is as good as new.  An idle time longer
 * than the bucket takes to drain counts as that, however large the burst
 * and slow the rate, so that every bucket drains and can be forgotten.
 */
static inline int64_t
ngx_http_inbox_bucket_leak(int64_t excess, int64_t ms, int64_t rate)
{
    int64_t  full;

    /* the clock went back: count from now */
    if (ms < 0) {
        ms = 0;
    }

    full = (excess + 1000) * 1000 / rate + 1;

    if (ms > full) {
        ms = full;
    }

    excess = excess - rate * ms / 1000 + 1000;

    return (excess < 0) ? 0 : excess;
}


#endif /* _NGX_HTTP_INBOX_BUCKET_H_INCLUDED_ */
