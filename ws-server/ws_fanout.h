/*
 * Fan-out: organizations, their WebSocket connections and each
 * connection's queue of frames to send.
 *
 * An event's frame is copied once into a reference counted buffer (with
 * LWS_PRE bytes of headroom) that every connection of its organization
 * queues a pointer to; the last connection to send or drop it frees it.
 * A connection whose queue would grow past max_queue is closed with code
 * WS_FANOUT_CLOSE_SLOW ("slow consumer") instead.
 *
 * Per organization it also keeps where the event stream stands (org_seq,
 * epoch, unread total), for the "hello" of connections that come later.
 *
 * Everything here runs on the lws service thread.
 */
#ifndef WS_FANOUT_H
#define WS_FANOUT_H

#include <stddef.h>
#include <stdint.h>
#include <libwebsockets.h>
#include <inbox/model.h>
#include "ws_auth.h"

#define WS_FANOUT_PROTOCOL        "inbox.v1"
#define WS_FANOUT_CLOSE_SLOW      4008
#define WS_FANOUT_MAX_QUEUE       1024
/* bytes gathered into one send (one frame at least, however large) */
#define WS_FANOUT_WRITE_MAX       (16 * 1024)

/* What ws-server reads in a frame: only what the hello needs. */
typedef struct {
    char     type[32];                  /* "" when absent */
    char     epoch[INBOX_EPOCH_MAX];    /* "" when absent */
    int      has_count;
    int64_t  count;                     /* "count" of unread.total */
} ws_event_info_t;

typedef struct ws_fanout_s  ws_fanout_t;

/* auth is borrowed and must outlive the fan-out.  NULL when out of
 * memory. */
ws_fanout_t *ws_fanout_create(ws_auth_t *auth, size_t max_queue);

/* Call after lws_context_destroy (which closes every connection). */
void ws_fanout_destroy(ws_fanout_t *fanout);

/* Queues the frame (len bytes, copied) to every connection of org_id and
 * notes the organization's new state.  It goes out at the next
 * ws_fanout_flush. */
void ws_fanout_publish(ws_fanout_t *fanout, const char *org_id,
    int64_t org_seq, const char *frame, size_t len,
    const ws_event_info_t *info);

/*
 * Keepalive, for every connection at once (lws' own keeps a timer per
 * connection in one sorted list, which made each new connection walk all
 * the others): a connection silent for ping_ms is pinged, one silent
 * for twice that is closed.  Call it every ping_ms / 2 or so with a
 * monotonic clock in milliseconds (wrapping is fine).
 */
void ws_fanout_keepalive(ws_fanout_t *fanout, uint32_t now_ms,
    uint32_t ping_ms);

/* Writes what was queued since the last call: each connection's frames
 * in one send.  The loop calls it after each turn's I/O. */
void ws_fanout_flush(ws_fanout_t *fanout);

/* The WebSocket protocol (WS_FANOUT_PROTOCOL): its lws_protocols entry
 * takes this callback, ws_fanout_session_size() and the fan-out as its
 * user pointer.  It is also protocols[0], so it answers plain HTTP. */
int ws_fanout_callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len);
size_t ws_fanout_session_size(void);

#endif
