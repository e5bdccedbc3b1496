/*
 * Event intake: the unix datagram socket the nginx module sends events
 * to (records of a header and the JSON frame, see inbox/event.h), read on
 * the lws service thread and handed to the organization's stream
 * (ws_stream.h), which orders them for the fan-out.
 *
 * ws-server owns the socket file: it replaces a stale one at startup and
 * removes it when it stops.
 */
#ifndef WS_EVENTS_H
#define WS_EVENTS_H

#include <libwebsockets.h>
#include "ws_fanout.h"

#define WS_EVENTS_PROTOCOL  "inbox-events"
#define WS_EVENTS_RCVBUF    (4 * 1024 * 1024)

typedef struct ws_events_s  ws_events_t;

/* Binds a non-blocking datagram socket at path (mode 0660) and makes the
 * organizations' streams, reading gaps from store_uri (NULL: none) and
 * keeping their recent frames keep_secs after their last connection
 * (ws_stream_create).  fanout is borrowed.  NULL with a message on stderr
 * on failure. */
ws_events_t *ws_events_open(const char *path, ws_fanout_t *fanout,
    const char *store_uri, unsigned keep_secs);

/* Puts the socket in the vhost's event loop under WS_EVENTS_PROTOCOL
 * (whose lws_protocols entry takes ws_events_callback and events as its
 * user pointer) and starts the store thread.  lws owns the descriptor
 * from then on, even on failure.  Returns 0 or -1. */
int ws_events_adopt(ws_events_t *events, struct lws_vhost *vhost);

/* Removes the socket file, stops the store thread and frees; call after
 * lws_context_destroy. */
void ws_events_close(ws_events_t *events);
/* Before the lws context is destroyed (ws_stream_stop). */
void ws_events_stop(ws_events_t *events);

int ws_events_callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len);

/* Reads type, epoch and count from a frame (off the hot path: frames
 * from the store only).  Returns 0, or -1 when the frame is not a JSON
 * object. */
int ws_events_scan(const char *frame, size_t len, ws_event_info_t *info);

#endif
