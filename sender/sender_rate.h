/*
 * Sends per second for each sending number (a token bucket per number):
 * carriers queue or refuse what a number sends faster than its class
 * allows, so the sender paces itself instead.
 */
#ifndef SENDER_RATE_H
#define SENDER_RATE_H

#include <stdint.h>

typedef struct sender_rate_s  sender_rate_t;

/* per_second > 0 sends a second, up to burst at once. */
sender_rate_t *sender_rate_create(double per_second, unsigned burst);
void sender_rate_destroy(sender_rate_t *rate);

/*
 * Takes one send for number at now_ms.  Returns 1 when it may go now;
 * 0 when it must wait, with *wait_ms how long; -1 when out of memory.
 */
int sender_rate_take(sender_rate_t *rate, const char *number,
    int64_t now_ms, int64_t *wait_ms);

#endif
