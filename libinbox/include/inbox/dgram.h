/*
 * The local datagram sockets between the programs: nginx's workers send
 * events to ws-server and wake-ups to the sender through them.
 */
#ifndef INBOX_DGRAM_H
#define INBOX_DGRAM_H

#include <stddef.h>
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
} inbox_dgram_peer_t;

/* Opens a non-blocking socket for sending to path (which need not exist
 * yet).  Returns 0, or -1 with a sentence in err. */
int inbox_dgram_peer_open(inbox_dgram_peer_t *peer, const char *path,
    char *err, size_t err_len);
void inbox_dgram_peer_close(inbox_dgram_peer_t *peer);
/* Sends one datagram, never waiting: 0, or -1 with errno (EAGAIN: the
 * reader is behind; ENOENT or ECONNREFUSED: nobody reads).  Safe from
 * several threads at once. */
int inbox_dgram_send(const inbox_dgram_peer_t *peer, const void *buf,
    size_t len);

#endif
