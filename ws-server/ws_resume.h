/*
 * A connection's way into its organization's event stream (ws_stream.h),
 * with nothing twice and nothing missed at the seam.
 *
 * After its hello a connection waits (WS_RESUME_HOLD_MS at most) for
 * {"type":"resume","epoch","org_seq"}; then it gets the events after that
 * position (or after its hello's), from the stream's ring of recent
 * frames or from the store, and only then live ones.  When that cannot
 * be (another epoch, a position no longer kept, more than half its
 * queue), {"type":"reset","org_seq","epoch"}: the browser reloads over
 * HTTP and live events follow from there.  Presence messages go on to
 * ws_presence.h.
 */
#ifndef WS_RESUME_H
#define WS_RESUME_H

#include <stddef.h>
#include <stdint.h>
#include <libwebsockets.h>
#include "ws_stream.h"

#define WS_RESUME_HOLD_MS      250    /* a new connection's resume, at most */

/* The connection's hello was queued at hello_seq (epoch); returns what
 * LWS_CALLBACK_ESTABLISHED returns. */
int ws_resume_opened(ws_stream_t *stream, ws_conn_t *conn,
    int64_t hello_seq, const char *epoch);
/* A message from the browser (resume, presence; others are refused). */
void ws_resume_receive(ws_stream_t *stream, ws_conn_t *conn,
    struct lws *wsi, const void *in, size_t len);
void ws_resume_closed(ws_stream_t *stream, ws_conn_t *conn);

#endif
