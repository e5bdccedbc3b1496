/*
 * Requests the sender itself could not start: curl refused them
 * (curl_multi_add_handle failed: out of memory, or a state of curl's
 * that one more try will not change), or there was no memory for them.
 * The carrier never saw such a request, so the job puts it off with no
 * attempt counted, as for a shortage of file descriptors
 * (sender_nofile.c): a send or a media copy is given back to the store,
 * a status ask kept in hand.  But a cause that lasts would put every one
 * off and take it again each second for good, logging each time.  So
 * the wait doubles, from SENDER_START_WAIT_MS to SENDER_START_WAIT_MAX_MS,
 * while none starts, and the episode is logged once, with curl's
 * reason, and once more when a request starts again: one rule for every
 * job, the cause being the sender's and not the request's.  Messages
 * wait queued rather than fail, and copies keep their tries: the fault
 * is the sender's, and they go once it is mended (a restart).
 */
#include "sender.h"

#define SENDER_START_WAIT_MS      1000
#define SENDER_START_WAIT_MAX_MS  64000

typedef struct {
    int        failing;
    int64_t    wait;            /* the wait this round */
    int64_t    until;           /* when this round's are due again */
    uint64_t   put_off;
} sender_start_episode_t;

static sender_start_episode_t  sender_start_episode;


int
sender_start(sender_t *s, sender_transfer_t *t)
{
    sender_start_episode_t  *e = &sender_start_episode;

    if (sender_loop_start(s->loop, t) != 0) {
        return -1;
    }

    if (e->failing) {
        sender_log(s, "requests start again: %llu were put off meanwhile",
                   (unsigned long long) e->put_off);
        e->failing = 0;
    }

    return 0;
}


int64_t
sender_start_failed(sender_t *s, int64_t now, const char *why)
{
    sender_start_episode_t  *e = &sender_start_episode;

    if (!e->failing) {
        e->failing = 1;
        e->wait = SENDER_START_WAIT_MS;
        e->put_off = 0;

        sender_log(s, "cannot start requests (%s): sends and media copies "
                   "given back, status asks kept, none counted as an "
                   "attempt, due again %d ms later, twice as late each "
                   "time none starts (%d s at most); logged once until "
                   "one starts", why, SENDER_START_WAIT_MS,
                   SENDER_START_WAIT_MAX_MS / 1000);

    } else if (now >= e->until) {
        /* those put off last round came back and failed again */
        e->wait *= 2;
        if (e->wait > SENDER_START_WAIT_MAX_MS) {
            e->wait = SENDER_START_WAIT_MAX_MS;
        }
    }

    e->until = now + e->wait;
    e->put_off++;

    return e->until;
}

