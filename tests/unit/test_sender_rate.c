/*
 * The sender's pacing: each sending number has its own bucket, which
 * starts full, refills at the rate, and says how long to wait when empty;
 * bulk leaves half of it to replies; a carrier's 429 holds the number.
 */
#include <stdio.h>
#include "check.h"
#include "sender_rate.h"

#define R  SENDER_RATE_REPLY
#define B  SENDER_RATE_BULK
#define N  "+15550001111"


TEST(a_number_sends_its_burst_then_waits_for_the_rate)
{
    int             i;
    int64_t         wait;
    sender_rate_t  *rate;

    rate = sender_rate_create(10.0, 3);    /* 10 a second, 3 at once */
    CHECK(rate != NULL);

    for (i = 0; i < 3; i++) {
        CHECK_INT(sender_rate_take(rate, N, R, 1, 1000, &wait), 1);
    }

    CHECK_INT(sender_rate_take(rate, N, R, 1, 1000, &wait), 0);
    CHECK(wait > 0 && wait <= 101);

    /* 100 ms later one more send may go, and only one */
    CHECK_INT(sender_rate_take(rate, N, R, 1, 1100, &wait), 1);
    CHECK_INT(sender_rate_take(rate, N, R, 1, 1100, &wait), 0);

    /* a long pause fills the bucket, never beyond the burst */
    for (i = 0; i < 3; i++) {
        CHECK_INT(sender_rate_take(rate, N, R, 1, 60000, &wait), 1);
    }
    CHECK_INT(sender_rate_take(rate, N, R, 1, 60000, &wait), 0);

    sender_rate_destroy(rate);
}


/* Carriers count a number's throughput in segments: a three-segment text
 * takes three tokens, an MMS (or an unknown count) one. */
TEST(a_long_text_takes_a_token_a_segment)
{
    int64_t         wait;
    sender_rate_t  *rate;

    rate = sender_rate_create(1.0, 6);      /* a long code: 1 a second */
    CHECK(rate != NULL);

    CHECK_INT(sender_rate_take(rate, N, R, 3, 0, &wait), 1);
    CHECK_INT(sender_rate_take(rate, N, R, 3, 0, &wait), 1);
    CHECK_INT(sender_rate_take(rate, N, R, 1, 0, &wait), 0);
    CHECK(wait > 900 && wait <= 1001);

    /* two seconds on: two segments, not a three-segment text */
    CHECK_INT(sender_rate_take(rate, N, R, 3, 2000, &wait), 0);
    CHECK(wait > 900 && wait <= 1001);
    CHECK_INT(sender_rate_take(rate, N, R, 0, 2000, &wait), 1);
    CHECK_INT(sender_rate_take(rate, N, R, 1, 2000, &wait), 1);
    CHECK_INT(sender_rate_take(rate, N, R, 1, 2000, &wait), 0);

    /* bulk leaves the reserve (3) besides its own segments; one longer
     * than the bucket waits for a full one, and takes it */
    CHECK_INT(sender_rate_take(rate, N, B, 3, 8000, &wait), 1);
    CHECK_INT(sender_rate_take(rate, N, B, 1, 8000, &wait), 0);
    CHECK_INT(sender_rate_take(rate, N, B, 9, 10000, &wait), 0);
    CHECK(wait > 900 && wait <= 1001);
    CHECK_INT(sender_rate_take(rate, N, B, 9, 11001, &wait), 1);
    CHECK_INT(sender_rate_take(rate, N, R, 1, 11001, &wait), 0);

    sender_rate_destroy(rate);
}


TEST(each_number_has_its_own_bucket_however_many_there_are)
{
    int             i;
    char            number[24];
    int64_t         wait;
    sender_rate_t  *rate;

    rate = sender_rate_create(1.0, 1);

    CHECK_INT(sender_rate_take(rate, N, R, 1, 0, &wait), 1);
    CHECK_INT(sender_rate_take(rate, "+15550002222", R, 1, 0, &wait), 1);
    CHECK_INT(sender_rate_take(rate, N, R, 1, 0, &wait), 0);

    /* the table grows past its first size and keeps every bucket */
    for (i = 0; i < 1000; i++) {
        snprintf(number, sizeof(number), "+1555%07d", i);
        CHECK_INT(sender_rate_take(rate, number, R, 1, 0, &wait), 1);
    }
    for (i = 0; i < 1000; i++) {
        snprintf(number, sizeof(number), "+1555%07d", i);
        CHECK_INT(sender_rate_take(rate, number, R, 1, 0, &wait), 0);
    }
    CHECK_INT(sender_rate_take(rate, "+15550002222", R, 1, 0, &wait), 0);

    sender_rate_destroy(rate);
}


TEST(bulk_leaves_half_the_burst_to_replies)
{
    int             i, sent;
    int64_t         wait, now;
    sender_rate_t  *rate;

    rate = sender_rate_create(10.0, 10);

    /* a campaign takes half the burst at once, then waits */
    for (i = 0; i < 5; i++) {
        CHECK_INT(sender_rate_take(rate, N, B, 1, 0, &wait), 1);
    }
    CHECK_INT(sender_rate_take(rate, N, B, 1, 0, &wait), 0);
    CHECK(wait > 0 && wait <= 101);

    /* a reply still goes at once, five times */
    for (i = 0; i < 5; i++) {
        CHECK_INT(sender_rate_take(rate, N, R, 1, 0, &wait), 1);
    }
    CHECK_INT(sender_rate_take(rate, N, R, 1, 0, &wait), 0);

    /* the bucket refilled: bulk again stops at the reserve */
    CHECK_INT(sender_rate_take(rate, N, B, 1, 1000, &wait), 1);
    for (i = 0; i < 4; i++) {
        CHECK_INT(sender_rate_take(rate, N, B, 1, 1000, &wait), 1);
    }
    CHECK_INT(sender_rate_take(rate, N, B, 1, 1000, &wait), 0);
    CHECK_INT(sender_rate_take(rate, N, R, 1, 1000, &wait), 1);

    /* bulk alone still sends at the number's full rate: 10 a second
     * over 10 s, plus what the bucket held above the reserve */
    sent = 0;
    for (now = 2000; now < 12000; now += 10) {
        while (sender_rate_take(rate, N, B, 1, now, &wait) == 1) {
            sent++;
        }
    }
    CHECK(sent >= 100 && sent <= 106);

    /* and with bulk at the full rate, a reply never waits */
    CHECK_INT(sender_rate_take(rate, N, R, 1, now, &wait), 1);

    sender_rate_destroy(rate);
}


TEST(a_429_holds_the_number_for_retry_after_or_a_doubling_backoff)
{
    int64_t         wait, until;
    sender_rate_t  *rate;

    rate = sender_rate_create(10.0, 10);

    /* Retry-After: 3 s; nothing goes before, replies neither */
    until = sender_rate_backoff(rate, N, 900, 1000, 3000);
    CHECK_INT(until, 4000);
    CHECK_INT(sender_rate_take(rate, N, R, 1, 3999, &wait), 0);
    CHECK_INT(wait, 1);
    CHECK_INT(sender_rate_take(rate, N, B, 1, 2000, &wait), 0);
    CHECK_INT(wait, 2000);

    /* other numbers are not held */
    CHECK_INT(sender_rate_take(rate, "+15550002222", R, 1, 2000, &wait), 1);

    /* a wait the carrier asked for, not the number's own rate: until
     * when (what a send held past its claim is due again at) */
    CHECK(sender_rate_held_until(rate, N, 3999) == 4000);
    CHECK(sender_rate_held_until(rate, N, 4000) == 0);
    CHECK(sender_rate_held_until(rate, "+15550002222", 2000) == 0);
    CHECK(sender_rate_held_until(rate, "+15550003333", 2000) == 0);

    /* a send that was in flight comes back 429 too: the same hold */
    CHECK_INT(sender_rate_backoff(rate, N, 900, 2500, 0), 4000);

    /* after the hold the bucket starts empty: one send per 100 ms */
    CHECK_INT(sender_rate_take(rate, N, R, 1, 4000, &wait), 0);
    CHECK_INT(sender_rate_take(rate, N, R, 1, 4100, &wait), 1);
    CHECK_INT(sender_rate_take(rate, N, R, 1, 4100, &wait), 0);

    /* 429s in a row without Retry-After, each to a send started after
     * the hold before: 2 s, 4 s (the first counted) */
    CHECK_INT(sender_rate_backoff(rate, N, 9900, 10000, 0), 12000);
    CHECK_INT(sender_rate_backoff(rate, N, 19900, 20000, 0), 24000);

    /* an accepted send starts it again from 1 s */
    sender_rate_accepted(rate, N, 25000);
    CHECK_INT(sender_rate_backoff(rate, N, 29900, 30000, 0), 31000);

    /* a carrier's long Retry-After is capped */
    CHECK_INT(sender_rate_backoff(rate, N, 39900, 40000, 3600000),
              40000 + SENDER_RATE_BACKOFF_MAX_MS);

    sender_rate_destroy(rate);
}


/*
 * Many sends in flight when the carrier starts refusing: each is answered
 * during the hold or after it, 429 or taken.  Only the sends started
 * after the hold began (the probe as it ends) move the doubling: an
 * acceptance of one sent before it does not start the next hold from
 * 1 s again, nor does a late 429 of one double it.
 */
TEST(only_sends_started_after_a_hold_began_move_its_doubling)
{
    int64_t         wait;
    sender_rate_t  *rate;

    rate = sender_rate_create(10.0, 10);

    /* ten sends start at 1000; the first answer is a 429 */
    CHECK_INT(sender_rate_backoff(rate, N, 1000, 1100, 0), 2100);

    /* the others come: 429s counted by the hold, and acceptances */
    CHECK_INT(sender_rate_backoff(rate, N, 1000, 1150, 0), 2100);
    sender_rate_accepted(rate, N, 1000);
    CHECK_INT(sender_rate_backoff(rate, N, 1000, 1300, 0), 2100);
    sender_rate_accepted(rate, N, 1000);

    /* the probe after the hold is refused: 2 s, not 1 s again */
    CHECK_INT(sender_rate_take(rate, N, R, 1, 2300, &wait), 1);
    CHECK_INT(sender_rate_backoff(rate, N, 2300, 2400, 0), 4400);

    /* a send of the first flight answered 429 only now, past that
     * hold: nothing more (the number may send now that it is over) */
    CHECK_INT(sender_rate_backoff(rate, N, 1000, 5000, 0), 5000);
    CHECK(sender_rate_held_until(rate, N, 5000) == 0);

    /* the next probe refused: 4 s; one accepted after it: from 1 s */
    CHECK_INT(sender_rate_take(rate, N, R, 1, 5100, &wait), 1);
    CHECK_INT(sender_rate_backoff(rate, N, 5100, 5200, 0), 9200);
    sender_rate_accepted(rate, N, 1000);
    CHECK_INT(sender_rate_take(rate, N, R, 1, 9400, &wait), 1);
    sender_rate_accepted(rate, N, 9400);
    CHECK_INT(sender_rate_take(rate, N, R, 1, 9400, &wait), 1);
    CHECK_INT(sender_rate_backoff(rate, N, 9400, 9500, 0), 10500);

    /* one sent before a hold asking for longer (Retry-After) still
     * lengthens it */
    CHECK_INT(sender_rate_backoff(rate, N, 9400, 9600, 5000), 14600);
    CHECK(sender_rate_held_until(rate, N, 14599) == 14600);

    sender_rate_destroy(rate);
}


RUN_TESTS()
