/*
 * The sender's bulk window against a model carrier: it works on `slots`
 * requests at once, each for service_us, behind a network delay; with W
 * requests in flight, an answer takes max(delay + service, W x service /
 * slots), and answers come W per answer time.
 */
#include <stdio.h>
#include "check.h"
#include "sender_window.h"


typedef struct {
    int64_t   delay_us;
    int64_t   service_us;
    unsigned  slots;
} carrier_t;


static int64_t
answer_time(const carrier_t *c, unsigned in_flight)
{
    int64_t  alone, queued;

    alone = c->delay_us + c->service_us;
    queued = (int64_t) in_flight * c->service_us / c->slots;

    return queued > alone ? queued : alone;
}


/* n answers with the window always full; returns the clock after. */
static int64_t
run(sender_window_t *w, const carrier_t *c, unsigned n, int64_t now_us)
{
    unsigned  i;
    int64_t   rtt;

    for (i = 0; i < n; i++) {
        rtt = answer_time(c, w->window);
        now_us += rtt / w->window;
        sender_window_answer(w, rtt, w->window, now_us / 1000);
    }

    return now_us;
}


TEST(a_distant_carrier_that_keeps_up_gets_the_whole_cap)
{
    sender_window_t  w;
    carrier_t        far = { 150000, 1000, 100 };

    sender_window_init(&w, 16);
    CHECK_INT(w.window, 1);

    (void) run(&w, &far, 500, 0);
    CHECK_INT(w.window, 16);
}


TEST(a_carrier_that_is_the_bottleneck_keeps_a_short_queue)
{
    int64_t          rtt;
    unsigned         i;
    sender_window_t  w;
    carrier_t        near = { 200, 5000, 1 };

    sender_window_init(&w, 16);

    /* long after the start the window stays where 1 to 3 wait: enough
     * to keep the carrier busy (its rate is the same), few ahead of a
     * reply */
    (void) run(&w, &near, 2000, 0);

    for (i = 0; i < 200; i++) {
        CHECK(w.window >= 2 && w.window <= 5);
        rtt = answer_time(&near, w.window);
        sender_window_answer(&w, rtt, w.window, 5000 + i);
    }

    CHECK(answer_time(&near, w.window) <= 5 * near.service_us);
}


TEST(a_queue_that_builds_shrinks_the_window_and_recovers)
{
    int64_t          now;
    sender_window_t  w;
    carrier_t        fast = { 5000, 100, 64 };
    carrier_t        busy = { 5000, 4000, 1 };

    sender_window_init(&w, 16);
    now = run(&w, &fast, 300, 0);
    CHECK_INT(w.window, 16);

    /* the carrier becomes a one-lane queue: the window comes down */
    now = run(&w, &busy, 300, now);
    CHECK(w.window <= 5);

    /* and opens again once it keeps up */
    now = run(&w, &fast, 1000, now);
    CHECK_INT(w.window, 16);
}


TEST(a_window_far_above_a_one_lane_queue_comes_down_in_a_few_rounds)
{
    int64_t          now;
    sender_window_t  w;
    carrier_t        fast = { 5000, 100, 64 };
    carrier_t        busy = { 5000, 4000, 1 };

    sender_window_init(&w, 16);
    now = run(&w, &fast, 300, 0);
    CHECK_INT(w.window, 16);

    /* 15 of 16 wait: within three rounds (28 answers) a reply finds a
     * few ahead of it again, not after a hundred answers */
    now = run(&w, &busy, 30, now);
    CHECK(w.window >= 2 && w.window <= 5);
    (void) now;
}


TEST(one_slow_round_at_a_distant_carrier_costs_at_most_half)
{
    unsigned         i;
    int64_t          now;
    sender_window_t  w;
    carrier_t        far = { 150000, 1000, 100 };

    sender_window_init(&w, 16);
    now = run(&w, &far, 500, 0);
    CHECK_INT(w.window, 16);

    /* a round whose answers all came five times later (the machine
     * stalled, not a queue at the carrier) */
    for (i = 0; i < 16; i++) {
        sender_window_answer(&w, 5 * 151000, 16, now / 1000 + i);
    }
    CHECK(w.window >= 8 && w.window < 16);

    (void) run(&w, &far, 500, now + 1000000);
    CHECK_INT(w.window, 16);
}


TEST(a_carrier_next_door_with_short_waits_gets_the_whole_cap)
{
    sender_window_t  w;
    carrier_t        next_door = { 200, 400, 1 };

    /* 16 waiting, but each wait is 6 ms at most: a reply can afford it,
     * the campaign keeps its rate */
    sender_window_init(&w, 16);
    (void) run(&w, &next_door, 500, 0);
    CHECK_INT(w.window, 16);
}


TEST(an_idle_window_does_not_grow)
{
    unsigned         i;
    sender_window_t  w;

    sender_window_init(&w, 16);

    /* one campaign message at a time, quick answers: nothing says the
     * carrier could take more at once */
    for (i = 0; i < 100; i++) {
        sender_window_answer(&w, 1000, 1, i);
    }
    CHECK(w.window <= 2);
}


TEST(a_carrier_slower_for_good_is_measured_again)
{
    int64_t          now;
    sender_window_t  w;
    carrier_t        quick = { 1000, 100, 64 };
    carrier_t        slow = { 40000, 100, 64 };

    sender_window_init(&w, 16);
    now = run(&w, &quick, 300, 0);
    CHECK_INT(w.window, 16);

    /* a longer way, not a queue: after two base periods the window is
     * back at its cap */
    now = run(&w, &slow, 40, now);
    now = run(&w, &slow, 2000, now + 2 * SENDER_WINDOW_BASE_PERIOD_MS * 1000);
    CHECK_INT(w.window, 16);
    (void) now;
}


RUN_TESTS()
