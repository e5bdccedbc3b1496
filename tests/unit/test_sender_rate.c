/*
 * The sender's pacing: each sending number has its own bucket, which
 * starts full, refills at the rate, and says how long to wait when empty.
 */
#include <stdio.h>
#include "check.h"
#include "sender_rate.h"


TEST(a_number_sends_its_burst_then_waits_for_the_rate)
{
    int             i;
    int64_t         wait;
    sender_rate_t  *rate;

    rate = sender_rate_create(10.0, 3);    /* 10 a second, 3 at once */
    CHECK(rate != NULL);

    for (i = 0; i < 3; i++) {
        CHECK_INT(sender_rate_take(rate, "+15550001111", 1000, &wait), 1);
    }

    CHECK_INT(sender_rate_take(rate, "+15550001111", 1000, &wait), 0);
    CHECK(wait > 0 && wait <= 101);

    /* 100 ms later one more send may go, and only one */
    CHECK_INT(sender_rate_take(rate, "+15550001111", 1100, &wait), 1);
    CHECK_INT(sender_rate_take(rate, "+15550001111", 1100, &wait), 0);

    /* a long pause fills the bucket, never beyond the burst */
    for (i = 0; i < 3; i++) {
        CHECK_INT(sender_rate_take(rate, "+15550001111", 60000, &wait), 1);
    }
    CHECK_INT(sender_rate_take(rate, "+15550001111", 60000, &wait), 0);

    sender_rate_destroy(rate);
}


TEST(each_number_has_its_own_bucket_however_many_there_are)
{
    int             i;
    char            number[24];
    int64_t         wait;
    sender_rate_t  *rate;

    rate = sender_rate_create(1.0, 1);

    CHECK_INT(sender_rate_take(rate, "+15550001111", 0, &wait), 1);
    CHECK_INT(sender_rate_take(rate, "+15550002222", 0, &wait), 1);
    CHECK_INT(sender_rate_take(rate, "+15550001111", 0, &wait), 0);

    /* the table grows past its first size and keeps every bucket */
    for (i = 0; i < 1000; i++) {
        snprintf(number, sizeof(number), "+1555%07d", i);
        CHECK_INT(sender_rate_take(rate, number, 0, &wait), 1);
    }
    for (i = 0; i < 1000; i++) {
        snprintf(number, sizeof(number), "+1555%07d", i);
        CHECK_INT(sender_rate_take(rate, number, 0, &wait), 0);
    }
    CHECK_INT(sender_rate_take(rate, "+15550002222", 0, &wait), 0);

    sender_rate_destroy(rate);
}


RUN_TESTS()
