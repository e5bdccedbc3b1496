/*
 * The sender's event loop: libcurl's multi interface (keep-alive
 * connections per carrier host, many transfers at once) waiting on its
 * own sockets plus the sender's wake-up and signal descriptors.
 */
#ifndef SENDER_LOOP_H
#define SENDER_LOOP_H

#include <stdint.h>
#include "sender_transfer.h"

typedef struct sender_loop_s  sender_loop_t;

/* Descriptors the loop also waits on; returns what became readable. */
#define SENDER_LOOP_FDS_MAX  4

/* At most max_per_host connections to one host and max_connections in
 * all (inbox_nofile_connections: the rest of the descriptors are kept
 * for the store and the sender's own sockets). */
sender_loop_t *sender_loop_create(long max_per_host, long max_connections);
void sender_loop_destroy(sender_loop_t *loop);

/* Starts t (prepared with sender_transfer_init); its done callback runs
 * from sender_loop_turn.  Returns 0, or -1 with why in t->error. */
int sender_loop_start(sender_loop_t *loop, sender_transfer_t *t);
/* Transfers started and not yet done. */
unsigned sender_loop_active(sender_loop_t *loop);

/*
 * One turn: waits at most timeout_ms for curl's sockets or any of fds,
 * moves the transfers on and calls done for each finished one.  Sets
 * ready[i] for each of fds that is readable.  Returns 0 or -1.
 */
int sender_loop_turn(sender_loop_t *loop, const int *fds, int *ready,
    unsigned nfds, int timeout_ms);

#endif
