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

/*
 * Live events cannot wait for a resume that may never come (a client that
 * sends none gets the events of its first moment at the hold's end), and
 * once some went, a resume from below them can only be a reset: they were
 * sent past its hole.  So the hold is long enough for a busy or just woken
 * tab (250 ms was not), while the web app, which resumes at once, waits
 * for nothing: its resume ends the hold.  A client later still is told by
 * its hello that live events start there: it applies none past a hole
 * before its resume is answered (the web app reloads at the first gap).
 */
#define WS_RESUME_HOLD_MS      1000   /* a new connection's resume, at most */

/* The connection's hello was queued at hello_seq (epoch); returns what
 * LWS_CALLBACK_ESTABLISHED returns. */
int ws_resume_opened(ws_stream_t *stream, ws_conn_t *conn,
    int64_t hello_seq, const char *epoch);
/* A message from the browser (resume, presence; others are refused). */
void ws_resume_receive(ws_stream_t *stream, ws_conn_t *conn,
    struct lws *wsi, const void *in, size_t len);
void ws_resume_closed(ws_stream_t *stream, ws_conn_t *conn);

#endif
