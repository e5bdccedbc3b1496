/*
 * The local datagram sockets between the programs: nginx's workers send
 * events to ws-server and wake-ups to the sender through them.
 */
#ifndef INBOX_DGRAM_H
#define INBOX_DGRAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

/*
 * Binds a non-blocking unix datagram socket at path, readable and
 * writable by its user and group only (0660 from the start).  A stale
 * socket left by a crash is replaced; a socket another process still
 * reads, or a file that is not a socket, is not.  Returns the socket, or
 * -1 with a sentence for a person in err.
 */
int inbox_dgram_bind(const char *path, char *err, size_t err_len);

/* The sending side: a socket and the reader's address. */
typedef struct {
    int                 fd;          /* -1 when closed */
    struct sockaddr_un  addr;
    int                 wait_ms;     /* inbox_dgram_peer_set_wait */
    /* shared by the threads that send (atomics): */
    int64_t             calm_until;  /* ms: send without waiting until */
    uint64_t            shed;        /* events shed (inbox_events_publish) */
    uint64_t            shed_logged; /* shed when the last line was due */
    int64_t             shed_log_at; /* ms: when the next line may come */
} inbox_dgram_peer_t;

/* Opens a non-blocking socket for sending to path (which need not exist
 * yet).  Returns 0, or -1 with a sentence in err. */
int inbox_dgram_peer_open(inbox_dgram_peer_t *peer, const char *path,
    char *err, size_t err_len);
/*
 * Lets inbox_dgram_send_wait wait up to ms for room in the reader's queue
 * (a blocking send with SO_SNDTIMEO: Linux then waits for the reader).
 * Each caller picks its own bound: a thread pool may wait a little, a
 * single-threaded event loop hardly at all.  A send that waited in vain
 * makes the sends of the next second not wait at all, so a reader that
 * is stopped does not slow every sender down.  0, or -1 with a sentence.
 */
int inbox_dgram_peer_set_wait(inbox_dgram_peer_t *peer, int ms, char *err,
    size_t err_len);
void inbox_dgram_peer_close(inbox_dgram_peer_t *peer);
/* Sends one datagram, never waiting: 0, or -1 with errno (EAGAIN: the
 * reader is behind; ENOENT or ECONNREFUSED: nobody reads).  Safe from
 * several threads at once. */
int inbox_dgram_send(const inbox_dgram_peer_t *peer, const void *buf,
    size_t len);
/* Sends one datagram, waiting for room up to the peer's bound (none
 * unless set): 0, or -1 with errno (EAGAIN: the bound passed). */
int inbox_dgram_send_wait(inbox_dgram_peer_t *peer, const void *buf,
    size_t len);
/* Milliseconds of CLOCK_MONOTONIC. */
int64_t inbox_dgram_now_ms(void);

#endif
