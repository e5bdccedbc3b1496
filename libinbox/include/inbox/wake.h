/*
 * The sender's wake-ups: one datagram on its socket (dgram.h).  A plain
 * wake-up ("w") says a commit left it work; "q" and an organization's id
 * say that organization's quiet hours or a zone of its contacts moved,
 * and the sender gives back the campaign messages of that organization
 * it holds unstarted, so that the next claim holds them for the rule as
 * it is now.  A bare "q" (any organization) is every organization's.
 * nginx's workers and inboxctl send them; the sender reads them.
 */
#ifndef INBOX_WAKE_H
#define INBOX_WAKE_H

#include <stddef.h>

#include <inbox/dgram.h>
#include <inbox/model.h>

/* Room for any wake-up datagram. */
#define INBOX_WAKE_MAX  (1 + INBOX_ID_MAX)

/* A plain wake-up, never waiting: 0, or -1 with errno (dgram.h's). */
int inbox_wake_send(const inbox_dgram_peer_t *peer);

/*
 * org_id's quiet hours moved: waits for room in the sender's queue up to
 * the peer's bound (inbox_dgram_peer_set_wait), as a lost one is made up
 * for only by the sender's regular look at what it holds (every 300 ms
 * for what waited, inbox_store_outbox_recheck): a message of that
 * organization starting before it may go by the rule it was claimed
 * under.  0, or
 * -1 with errno (EAGAIN: the queue stayed full; ENOENT, ECONNREFUSED:
 * nobody reads, and a sender that is down holds nothing).
 */
int inbox_wake_send_quiet(inbox_dgram_peer_t *peer, const char *org_id);

typedef enum {
    INBOX_WAKE_PLAIN = 0,
    INBOX_WAKE_QUIET
} inbox_wake_kind_t;

/* What a datagram of len bytes says; for INBOX_WAKE_QUIET, org_id (of
 * INBOX_ID_MAX) is its organization, "" for every organization. */
inbox_wake_kind_t inbox_wake_read(const char *buf, size_t len,
    char *org_id);

#endif
