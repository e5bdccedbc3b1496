/*
 * Presence: who views or types in which thread, shown to the other
 * browsers of the same organization, never another's.
 *
 * A browser sends {"type":"presence","conversation_id","state"} with state
 * "viewing", "typing" or "idle"; the organization's other connections get
 * {"type":"presence","conversation_id","state","user":{"id","name"},
 * "expires_in"} (seconds; the user from the connection's ticket).  Not
 * part of the event stream: no org_seq, never replayed.  A state lasts
 * WS_PRESENCE_VIEWING_SECS ("typing": WS_PRESENCE_TYPING_SECS) unless
 * sent again; a connection is in one thread at a time, viewing another
 * ending the last.  What the others get is the user's state in the thread
 * over all the user's connections (typing over viewing): when one
 * connection's state ends (idle, lapsed, another thread, closed), they
 * get what the user's other connections still show there, else "idle".
 * A new connection gets the current states after its hello, one for each
 * user and thread.  Connections of an organization-wide API token (no
 * user) are not shown.
 *
 * Each connection has a leaky bucket of WS_PRESENCE_BURST messages,
 * refilled at WS_PRESENCE_RATE a second: a message past it is ignored,
 * and WS_PRESENCE_ABUSE ignored in a row close the connection (1008).
 */
#ifndef WS_PRESENCE_H
#define WS_PRESENCE_H

#include <libwebsockets.h>
#include <yajl/yajl_tree.h>
#include "ws_fanout.h"
#include "ws_stream.h"

#define WS_PRESENCE_VIEWING_SECS  30
#define WS_PRESENCE_TYPING_SECS   8
#define WS_PRESENCE_BURST         10
#define WS_PRESENCE_RATE          2.0
#define WS_PRESENCE_ABUSE         50

typedef enum {
    WS_PRESENCE_IDLE = 0,
    WS_PRESENCE_VIEWING,
    WS_PRESENCE_TYPING
} ws_presence_state_e;

/* One organization's presence (inside ws_stream's organization). */
typedef struct {
    ws_fanout_t             *fanout;
    struct lws_context      *context;
    const char              *org_id;        /* borrowed */
    lws_dll2_owner_t         present;       /* ws_stream_conn_t.present */
    lws_sorted_usec_list_t   sul;           /* the next lapse */
    int64_t                  timer_at;      /* ms; 0: none */
} ws_presence_org_t;

void ws_presence_init(ws_presence_org_t *org, ws_fanout_t *fanout,
    struct lws_context *context, const char *org_id);
void ws_presence_clear(ws_presence_org_t *org);
/* The context is going: the timer cancelled, none scheduled after. */
void ws_presence_stop(ws_presence_org_t *org);

/* The others' current states, to conn alone. */
void ws_presence_greet(ws_presence_org_t *org, ws_conn_t *conn);
/* A presence message (root: its JSON) from conn. */
void ws_presence_message(ws_presence_org_t *org, ws_conn_t *conn,
    yajl_val root);
/* A message from conn that nothing uses: counts toward the abuse close. */
void ws_presence_refused(ws_presence_org_t *org, ws_conn_t *conn);
/* conn closes: the others see it idle. */
void ws_presence_gone(ws_presence_org_t *org, ws_conn_t *conn);

#endif
