/*
 * A server process's file descriptors (ws-server, the sender): its limit
 * (RLIMIT_NOFILE), the part of it connections may take, and a shortage
 * told once an episode, not once a connection.
 *
 * Connections are the one use of descriptors that outside load grows
 * (browsers, carrier requests).  They get the lowest numbers up to
 * inbox_nofile_connections(); the rest is kept for what the process
 * itself needs whatever the load: the store's files and sockets, the
 * datagram sockets, the event loop's own descriptors, a resolver's.
 * Without that reserve the last connection leaves nothing for the store
 * or for the next accept, which then fails at once, again and again.
 */
#ifndef INBOX_NOFILE_H
#define INBOX_NOFILE_H

#include <stddef.h>
#include <stdint.h>

/* The most a process raises its limit to: Linux's default nr_open.
 * libwebsockets sizes two tables by the limit (16 bytes a descriptor),
 * and takes one above 10 million for a mistake. */
#define INBOX_NOFILE_MAX      (1L << 20)

/* Descriptors kept from connections for everything else. */
#define INBOX_NOFILE_RESERVE  32

/* A shortage episode ends after this long without one. */
#define INBOX_NOFILE_CALM_MS  10000

/*
 * Raises this process's soft RLIMIT_NOFILE to its hard one (at most
 * INBOX_NOFILE_MAX): the soft limit is often 1024 where the hard one
 * allows far more.  Returns the limit now in use.  When it could not be
 * raised (or not read: then 1024 is assumed) err says so, for a
 * warning; else err is "".
 */
long inbox_nofile_raise(char *err, size_t err_len);

/* The descriptors connections may take under limit: those numbered
 * below this, the reserve left above (half of a limit too small for a
 * whole reserve). */
long inbox_nofile_connections(long limit);

/* An episode of a shortage (connections refused, sends that found no
 * descriptor): zeroed before use. */
typedef struct {
    int64_t   last;      /* ms: the latest shortage, 0 when none is on */
    uint64_t  count;     /* shortages in this episode */
} inbox_nofile_episode_t;

/* Counts a shortage at now (ms); 1 when it starts an episode, the one
 * time to log it, else 0. */
int inbox_nofile_short(inbox_nofile_episode_t *e, int64_t now);

/* When the episode had no shortage for INBOX_NOFILE_CALM_MS: ends it and
 * returns how many it counted (to log); else 0. */
uint64_t inbox_nofile_calm(inbox_nofile_episode_t *e, int64_t now);

#endif
