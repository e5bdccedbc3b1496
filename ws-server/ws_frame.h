/*
 * Frames as they go on the wire.  A server's WebSocket frames are not
 * masked (RFC 6455, 5.1), so an event's frame, header and all, is the
 * same bytes for every connection: it is built once, reference counted,
 * and each connection's queued frames are gathered into one buffer and
 * written with one send.
 *
 * Nothing here knows libwebsockets, so it is unit tested on its own.
 */
#ifndef WS_FRAME_H
#define WS_FRAME_H

#include <stddef.h>

#define WS_FRAME_HEADER_MAX  10         /* 1 + 1 + 8 bytes of length */

typedef struct {
    unsigned        refs;               /* queues holding it */
    size_t          len;                /* header + payload */
    unsigned char   bytes[];
} ws_frame_t;

/* Writes the header of a final text frame of payload_len unmasked bytes;
 * returns its length (2, 4 or 10). */
size_t ws_frame_header(unsigned char out[WS_FRAME_HEADER_MAX],
    size_t payload_len);

/* Writes a close frame with code and reason (at most 123 bytes, cut
 * there) into out; returns its length. */
#define WS_FRAME_CLOSE_MAX   (2 + 125)
size_t ws_frame_close(unsigned char out[WS_FRAME_CLOSE_MAX], unsigned code,
    const char *reason);

/* A ping frame, held by nobody yet.  It has a one-byte payload: lws
 * tells nobody of an empty pong. */
ws_frame_t *ws_frame_ping(void);

/* A text frame of the payload, held by nobody yet (refs 0): the caller
 * frees it if no queue takes it.  NULL when out of memory. */
ws_frame_t *ws_frame_new(const char *payload, size_t len);

/* Drops one reference; frees on the last. */
void ws_frame_release(ws_frame_t *frame);

/*
 * Copies the frames queue[(head + i) % capacity], i = 0 .. count - 1, one
 * after the other into buf while they fit in limit bytes, and always the
 * first one (buf must hold the largest frame).  Sets *taken to how many;
 * returns the bytes copied.
 */
size_t ws_frame_gather(ws_frame_t *const *queue, size_t capacity,
    size_t head, size_t count, unsigned char *buf, size_t limit,
    size_t *taken);

#endif
