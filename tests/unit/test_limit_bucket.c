/*
 * The rate limits' leaky buckets (inbox_ticket_rate, inbox_upload_rate):
 * a bucket leaks at its rate while idle, and any bucket left long enough
 * drains to nothing, however large its burst, so that it can be forgotten.
 */
#include <stdio.h>
#include "check.h"
#include "ngx_http_inbox_bucket.h"

#define MINUTE  (60 * 1000)
#define HOUR    (60 * MINUTE)
#define DAY     (24 * HOUR)

/* as the directives' "Nr/m" and burst=N */
#define PER_MINUTE(n)  ((n) * 1000 / 60)
#define BURST(n)       ((n) * 1000)


TEST(an_idle_bucket_leaks_at_its_rate)
{
    /* the default upload budget, full: 10 minutes give 20 megabytes back
     * (one more charged now) */
    CHECK_INT(ngx_http_inbox_bucket_leak(BURST(50), 10 * MINUTE,
                                         PER_MINUTE(2)),
              BURST(50) - 19800 + 1000);

    /* no time: the charge adds one */
    CHECK_INT(ngx_http_inbox_bucket_leak(BURST(5), 0, PER_MINUTE(2)),
              BURST(6));

    /* the clock went back: as no time */
    CHECK_INT(ngx_http_inbox_bucket_leak(BURST(5), -MINUTE, PER_MINUTE(2)),
              BURST(6));
}


TEST(a_bucket_larger_than_an_hours_rate_drains_when_left_long_enough)
{
    /* inbox_upload_rate 1r/m burst=100: a full bucket takes some 105
     * minutes to drain (1r/m is 0.016 a second); a day later it is as
     * good as new (an hour's cap left it at 43 of 100 for good) */
    CHECK_INT(ngx_http_inbox_bucket_leak(BURST(100), DAY, PER_MINUTE(1)),
              0);
    CHECK_INT(ngx_http_inbox_bucket_leak(BURST(100), 110 * MINUTE,
                                         PER_MINUTE(1)), 0);

    /* the largest burst the directive takes, at its slowest rate: some
     * two years */
    CHECK_INT(ngx_http_inbox_bucket_leak(BURST(1000000),
                                         (int64_t) 1000 * DAY,
                                         PER_MINUTE(1)), 0);

    /* before that, still the rate */
    CHECK(ngx_http_inbox_bucket_leak(BURST(100), 90 * MINUTE,
                                     PER_MINUTE(1)) > BURST(5));
}


RUN_TESTS()
