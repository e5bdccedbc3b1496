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
 * A connection gets an event only above its position (the last org_seq it
 * was sent, or where its hello or resume put it): never one at or below.
 * It gets live events once ws_stream joins it (after its resume, see
 * ws_stream.h); ws_stream also queues frames to it alone (a replay, a
 * reset, presence).
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
typedef struct ws_conn_s    ws_conn_t;
typedef struct ws_stream_s  ws_stream_t;

/* auth is borrowed and must outlive the fan-out; ping_ms is the keepalive's
 * (ws_fanout_keepalive), which each hello tells.  NULL when out of
 * memory. */
ws_fanout_t *ws_fanout_create(ws_auth_t *auth, size_t max_queue,
    uint32_t ping_ms);

/* wake(data) is called when the first frame of a turn is queued: the
 * loop must then turn without waiting, to flush it (a frame queued by a
 * timer would otherwise wait for the next event, or timer, to come). */
void ws_fanout_set_wake(ws_fanout_t *fanout, void (*wake)(void *data),
    void *data);

/* The stream (borrowed) told of each connection's open, messages and
 * close. */
void ws_fanout_set_stream(ws_fanout_t *fanout, ws_stream_t *stream);
size_t ws_fanout_max_queue(const ws_fanout_t *fanout);

/* Call after lws_context_destroy (which closes every connection). */
void ws_fanout_destroy(ws_fanout_t *fanout);

/* Queues the event's frame (len bytes, copied) to every joined connection
 * of org_id whose position is below org_seq, and notes the organization's
 * new state; it goes out at the next ws_fanout_flush.  ws_stream calls it
 * in org_seq order. */
void ws_fanout_publish(ws_fanout_t *fanout, const char *org_id,
    int64_t org_seq, const char *frame, size_t len,
    const ws_event_info_t *info);

/* The store's numbering went back to org_seq within its epoch (a backup
 * restored): the hellos of later connections say org_seq again. */
void ws_fanout_went_back(ws_fanout_t *fanout, const char *org_id,
    int64_t org_seq);
/* The store was made again (a new epoch) and no event of it came yet:
 * the hellos of later connections say epoch at org_seq. */
void ws_fanout_new_epoch(ws_fanout_t *fanout, const char *org_id,
    const char *epoch, int64_t org_seq);

/* Calls fn for each joined connection of org_id (fn may queue frames or
 * kick, which closes later; not close). */
typedef void (*ws_fanout_each_pt)(ws_conn_t *conn, void *arg);
void ws_fanout_foreach(ws_fanout_t *fanout, const char *org_id,
    ws_fanout_each_pt fn, void *arg);

/* Queues a frame to conn alone.  org_seq > 0: an event, skipped when
 * at or below the connection's position, which it then moves to; 0: a
 * frame outside the stream (reset, presence).  Returns 0 when queued, 1
 * when skipped, -1 when the connection is closing or out of memory. */
int ws_fanout_send(ws_conn_t *conn, int64_t org_seq, const char *frame,
    size_t len);
/* Live events from now on; leave stops them. */
void ws_fanout_join(ws_conn_t *conn);
void ws_fanout_leave(ws_conn_t *conn);
int ws_fanout_joined(const ws_conn_t *conn);
/* The connection's position, and whether any event was sent to it. */
int64_t ws_fanout_position(const ws_conn_t *conn);
int ws_fanout_sent_events(const ws_conn_t *conn);
/* Moves the position (a resume, a reset); never down once events went. */
void ws_fanout_set_position(ws_conn_t *conn, int64_t org_seq);
/* Puts the position anywhere: the stream's epoch changed. */
void ws_fanout_restart_position(ws_conn_t *conn, int64_t org_seq);
const inbox_ticket_claims_t *ws_fanout_claims(const ws_conn_t *conn);
/* ws_stream's part of the connection (ws_stream.h). */
struct ws_stream_conn_s *ws_fanout_stream_conn(ws_conn_t *conn);
/* Closes the connection with code and reason (a short ASCII text). */
void ws_fanout_kick(ws_conn_t *conn, int code, const char *reason);

/*
 * Keepalive, for every connection at once (lws' own keeps a timer per
 * connection in one sorted list, which made each new connection walk all
 * the others): a connection that sent nothing, or was sent nothing, for
 * ping_ms gets a protocol ping and a {"type":"ping"} frame; one that sent
 * nothing for twice that is closed.  Call it every ping_ms / 2 with a
 * monotonic clock in milliseconds (wrapping is fine): an open connection,
 * joined or still held for its resume (its replay may wait on the store),
 * is then sent something at least every ping_ms.
 */
void ws_fanout_keepalive(ws_fanout_t *fanout, uint32_t now_ms);

/*
 * Sessions and tokens that end by themselves: the earliest end (Unix ms,
 * inbox_ticket_lapsed) among joined connections, or 0 for none; at that
 * time the loop calls ws_fanout_close_lapsed, which closes those past
 * their end with WS_ACCESS_CLOSE_ENDED and finds the next end.  An end
 * lies hours away (a session's is its ticket's time plus the idle rule),
 * so one timer for all, with a walk when it fires, costs next to nothing.
 */
int64_t ws_fanout_next_lapse(const ws_fanout_t *fanout);
void ws_fanout_close_lapsed(ws_fanout_t *fanout, int64_t now_ms);

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
