/*
 * Segments per second for each sending number (a token bucket per
 * number): carriers count a number's throughput in segments (a long
 * code's one a second is one segment a second, a three-segment text
 * takes three) and queue or refuse what goes faster than its class
 * allows, so the sender paces itself instead.
 *
 * Replies and bulk (campaign) messages share a number's bucket, so
 * together they never exceed its rate, but bulk may only take a token
 * while more than the reserve (half the burst) is left: a reply finds
 * tokens at once even while a campaign keeps the number busy, and a
 * campaign still sends at the full rate when no reply comes.
 *
 * A carrier that says "too many requests" (HTTP 429, or another answer
 * libinbox reads as slow_down: Twilio's 21611, the number's queue full)
 * holds the number: nothing is sent from it until the carrier's
 * Retry-After (at most SENDER_RATE_BACKOFF_MAX_MS), or without one 1 s
 * doubling for each such refusal in a row (up to 64 s), and its bucket
 * starts empty after.  Only the answers to sends started after the hold
 * began (the first ones after it: probes) move the doubling: the sends
 * in flight when the hold began are answered during it or after, their
 * refusals counted by it already, and an acceptance among them says
 * nothing of the carrier since.
 */
#ifndef SENDER_RATE_H
#define SENDER_RATE_H

#include <stddef.h>
#include <stdint.h>
#include <inbox/outbox.h>

typedef struct sender_rate_s  sender_rate_t;

typedef enum {
    SENDER_RATE_REPLY = 0,      /* may take the whole bucket */
    SENDER_RATE_BULK            /* leaves the reserve to replies */
} sender_rate_class_t;

#define SENDER_RATE_BACKOFF_MIN_MS  1000
#define SENDER_RATE_BACKOFF_MAX_MS  120000

/* per_second > 0 segments a second, up to burst at once. */
sender_rate_t *sender_rate_create(double per_second, unsigned burst);
void sender_rate_destroy(sender_rate_t *rate);

/*
 * Takes one send of class for number at now_ms, of segments segments (an
 * MMS or an unknown count: 1; more than the burst: the burst).  Returns
 * 1 when it may go now; 0 when it must wait, with *wait_ms how long; -1
 * when out of memory.
 */
int sender_rate_take(sender_rate_t *rate, const char *number,
    sender_rate_class_t cls, unsigned segments, int64_t now_ms,
    int64_t *wait_ms);

/*
 * The carrier refused a send from number started at started_ms as too
 * many (a 429, or Twilio's 21611: inbox_send_result_t.slow_down), with
 * retry_after_ms its Retry-After (0: none): holds the number, for longer
 * than the last hold when the send started after it began.  Returns when
 * it may send again (ms, now_ms when the hold is over), or -1 when out
 * of memory.
 */
int64_t sender_rate_backoff(sender_rate_t *rate, const char *number,
    int64_t started_ms, int64_t now_ms, int64_t retry_after_ms);

/* The carrier took a send from number started at started_ms: the next
 * 429 backs off from the start again, if the send started after the last
 * hold began. */
void sender_rate_accepted(sender_rate_t *rate, const char *number,
    int64_t started_ms);

/* When the hold of a carrier's 429 on number ends (ms), or 0 when none
 * holds it at now_ms (its own rate is all that may). */
int64_t sender_rate_held_until(sender_rate_t *rate, const char *number,
    int64_t now_ms);

/*
 * How many segments of sends of class each number may start at now_ms,
 * its whole tokens above what the class leaves (bulk: the reserve; none
 * while a 429 holds it), for a claim to take no more
 * (inbox_outbox_paces_t, which counts each entry's segments): into paces
 * (room for sender_rate_numbers(rate)) every number that has less than a
 * full bucket, paces->other what any other has, a full bucket's (also
 * all that a longer send needs: it goes from a full bucket, as
 * sender_rate_take has it); the numbers stay rate's until it next sees a
 * new number.  *wait_ms: when the first of those listed has one more
 * (-1: none listed).
 */
void sender_rate_paces(sender_rate_t *rate, sender_rate_class_t cls,
    int64_t now_ms, inbox_outbox_paces_t *paces,
    inbox_outbox_pace_t *numbers, int64_t *wait_ms);

/* The numbers rate knows. */
size_t sender_rate_numbers(sender_rate_t *rate);

#endif
