/*
 * The local datagram sockets between the programs: nginx's workers send
 * events to ws-server and wake-ups to the sender through them.
 */
#ifndef INBOX_DGRAM_H
#define INBOX_DGRAM_H

#include <stddef.h>

/*
 * Binds a non-blocking unix datagram socket at path, readable and
 * writable by its user and group only (0660 from the start).  A stale
 * socket left by a crash is replaced; a socket another process still
 * reads, or a file that is not a socket, is not.  Returns the socket, or
 * -1 with a sentence for a person in err.
 */
int inbox_dgram_bind(const char *path, char *err, size_t err_len);

#endif
