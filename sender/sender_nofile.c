/*
 * The sender's own shortage of file descriptors.  A request that found
 * none free (SENDER_NO_DESCRIPTOR: the loop could not open its socket)
 * never left the process, so the carrier is not to blame: each job gives
 * such a request back to the store with no attempt counted, due
 * SENDER_NO_DESCRIPTOR_WAIT_MS later, whether it was a send (the outbox)
 * or the copy of an inbound image (the media job).  The shortage is one
 * for the whole process, so it is told once an episode (nofile.h) for
 * every job together, not once a request.
 */
#include <inbox/nofile.h>
#include "sender.h"

/*
 * Descriptors come free as requests end; one given back due at once
 * would be claimed and given back again in a loop meanwhile.
 */
#define SENDER_NO_DESCRIPTOR_WAIT_MS  1000

static inbox_nofile_episode_t  sender_nofile_episode;


int64_t
sender_no_descriptor(sender_t *s, int64_t now)
{
    if (inbox_nofile_short(&sender_nofile_episode, now)) {
        sender_log(s, "no file descriptor free (all %ld in use, "
                   "RLIMIT_NOFILE): sends and media copies are given back "
                   "unsent, no attempt counted, and tried again %d ms "
                   "later; logged once until none lacks one for %d s",
                   s->nofile, SENDER_NO_DESCRIPTOR_WAIT_MS,
                   INBOX_NOFILE_CALM_MS / 1000);
    }

    return now + SENDER_NO_DESCRIPTOR_WAIT_MS;
}


void
sender_no_descriptor_calm(sender_t *s, int64_t now)
{
    uint64_t  given_back;

    given_back = inbox_nofile_calm(&sender_nofile_episode, now);
    if (given_back > 0) {
        sender_log(s, "file descriptors free again: %llu requests (sends, "
                   "media copies) were given back unsent meanwhile",
                   (unsigned long long) given_back);
    }
}
