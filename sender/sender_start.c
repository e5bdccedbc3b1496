/*
 * Sends the sender itself could not start: curl refused the request
 * (curl_multi_add_handle failed: out of memory, or a state of curl's
 * that one more try will not change), or there was no memory for it.
 * The carrier never saw such a send, so it is given back to the store
 * with no attempt counted, as for a shortage of file descriptors
 * (sender_nofile.c); but a cause that lasts would give every message
 * back and claim it again each second for good, logging each time.  So
 * the wait doubles, from SENDER_START_WAIT_MS to SENDER_START_WAIT_MAX_MS,
 * while no send starts, and the episode is logged once, with curl's
 * reason, and once more when a send starts again.  The messages wait
 * queued rather than fail: the fault is the sender's, and they go once
 * it is mended (a restart).
 */
#include "sender.h"

#define SENDER_START_WAIT_MS      1000
#define SENDER_START_WAIT_MAX_MS  64000

typedef struct {
    int        failing;
    int64_t    wait;            /* the give-backs' wait this round */
    int64_t    until;           /* when this round's are due again */
    uint64_t   given_back;
} sender_start_episode_t;

static sender_start_episode_t  sender_start_episode;


int64_t
sender_start_failed(sender_t *s, int64_t now, const char *why)
{
    sender_start_episode_t  *e = &sender_start_episode;

    if (!e->failing) {
        e->failing = 1;
        e->wait = SENDER_START_WAIT_MS;
        e->given_back = 0;

        sender_log(s, "cannot start sends (%s): given back unsent, no "
                   "attempt counted, due again %d ms later, twice as "
                   "late each time none starts (%d s at most); logged "
                   "once until one starts", why, SENDER_START_WAIT_MS,
                   SENDER_START_WAIT_MAX_MS / 1000);

    } else if (now >= e->until) {
        /* the ones given back last round came back and failed again */
        e->wait *= 2;
        if (e->wait > SENDER_START_WAIT_MAX_MS) {
            e->wait = SENDER_START_WAIT_MAX_MS;
        }
    }

    e->until = now + e->wait;
    e->given_back++;

    return e->until;
}


void
sender_start_ok(sender_t *s)
{
    sender_start_episode_t  *e = &sender_start_episode;

    if (!e->failing) {
        return;
    }

    sender_log(s, "sends start again: %llu were given back unsent "
               "meanwhile", (unsigned long long) e->given_back);

    e->failing = 0;
}
