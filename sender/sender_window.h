/*
 * How many campaign (bulk) requests may be in flight at once: a window
 * that keeps only a few of them waiting at the carrier, so that a reply
 * sent during a campaign finds few of them ahead of it there.
 *
 * A carrier works on some requests at once and queues the rest, in
 * turn: a bulk request beyond what it can work on only waits, and a
 * reply joins the back of that queue.  The window follows TCP Vegas's
 * rule.  The quickest answer seen lately is the carrier's time with
 * nothing ahead (the base); over a round (as many answers as the
 * window), the requests waiting at the carrier are about
 * window x (1 - base / average).  The window starts at 1, so the first
 * answers show the base, and doubles each round until requests begin to
 * wait; then after each round it grows by one while fewer than
 * SENDER_WINDOW_QUEUE_LOW wait (or they wait less than
 * SENDER_WINDOW_DELAY_US) and the round used it whole, shrinks while
 * more than SENDER_WINDOW_QUEUE_HIGH wait for longer than that (by one
 * near the aim, by the excess far above it, at most by half), and stays
 * between 1 and its cap.  At a distant carrier (answers
 * of 100 ms and more, little of it queueing) the window opens to the
 * cap and the rate is not lowered; at a carrier that is the bottleneck,
 * the queue stays a few requests long and the rate is what the carrier
 * can take anyway.
 *
 * Plain arithmetic on the answers' times: no clock of its own.
 */
#ifndef SENDER_WINDOW_H
#define SENDER_WINDOW_H

#include <stdint.h>

/* The bulk requests waiting at the carrier that the window aims for. */
#define SENDER_WINDOW_QUEUE_LOW    1.0
#define SENDER_WINDOW_QUEUE_HIGH   3.0

/* A wait at the carrier this short is no queue worth shrinking for: at
 * a carrier next door (answers in a millisecond) any hiccup of the
 * machine would otherwise look like requests waiting, and a reply can
 * afford this much. */
#define SENDER_WINDOW_DELAY_US     10000

/* The base is the quickest answer of the last one or two periods: a
 * carrier that became slower for good is seen within two. */
#define SENDER_WINDOW_BASE_PERIOD_MS  10000

typedef struct {
    unsigned  cap;              /* the most it opens to, at least 1 */
    unsigned  window;
    unsigned  starting:1;       /* doubling until requests wait */

    /* the quickest answer (µs) of this period and of the one before */
    int64_t   base_now_us;
    int64_t   base_before_us;
    int64_t   period_start_ms;

    /* this round */
    unsigned  answers;
    int64_t   total_us;
    unsigned  full;             /* answers that came with the window full */
} sender_window_t;

/* Starts at 1: the first answers measure the carrier. */
void sender_window_init(sender_window_t *w, unsigned cap);

/*
 * A bulk request answered after rtt_us, at now_ms; in_flight is how many
 * bulk requests were in flight when it was answered (itself included).
 * Requests that reached no carrier count for nothing.
 */
void sender_window_answer(sender_window_t *w, int64_t rtt_us,
    unsigned in_flight, int64_t now_ms);

#endif
