/*
 * The store thread: ws-server's one reader of the store (--store, the
 * URI nginx uses), for what the datagrams did not bring: a gap in an
 * organization's stream, a resume older than the ring of recent frames.
 *
 * The lws thread asks (ws_store_ask), the store thread runs
 * inbox_store_events_since or inbox_store_stream_positions and wakes the
 * loop with lws_cancel_service();
 * the loop's LWS_CALLBACK_EVENT_WAIT_CANCELLED takes the answers
 * (ws_store_answers).  Model: libwebsockets' minimal-ws-server-threads.
 *
 * One query at a time, first asked first run: a store slow to answer one
 * (a MongoDB server gone silent waits out its socket timeout) holds the
 * gap fills and resumes behind it.  A second thread would help only a
 * store slow for one query and not the next; the connections held for
 * their resume meanwhile are kept alive (ws_fanout_keepalive), and the
 * resumes of those that closed meanwhile are not run (ws_store_drop).
 */
#ifndef WS_STORE_H
#define WS_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <libwebsockets.h>
#include <inbox/error.h>
#include <inbox/event.h>
#include <inbox/model.h>

typedef enum {
    WS_STORE_GAP = 0,       /* an organization's stream */
    WS_STORE_RESUME,        /* one connection's replay */
    WS_STORE_POSITIONS      /* where several streams stand: positions */
} ws_store_kind_e;

/* One organization of a WS_STORE_POSITIONS request. */
typedef struct {
    void                     *owner;    /* lws thread only */
    char                      org_id[INBOX_ID_MAX];
    int64_t                   after;    /* what the asker had seen */
    char                      epoch[INBOX_EPOCH_MAX];   /* ... in it */
    inbox_stream_position_t   at;       /* the answer */
} ws_store_position_t;

/* One query and its answer.  The lws thread owns it but while asked. */
struct ws_store_req_s {
    struct ws_store_req_s  *next;
    ws_store_kind_e         kind;
    void                   *owner;      /* lws thread only; NULL: gone */
    int                     dropped;    /* under the lock: ws_store_drop */
    char                    org_id[INBOX_ID_MAX];
    char                    epoch[INBOX_EPOCH_MAX];
    int64_t                 after;      /* after < org_seq <= until */
    int64_t                 until;      /* <= 0: the newest */
    size_t                  limit;

    /* WS_STORE_POSITIONS: at most INBOX_STREAM_POSITIONS_MAX, malloc'd */
    ws_store_position_t    *positions;
    size_t                  npositions;

    /* the answer: events in org_seq order, each with its type, epoch
     * and unread total */
    inbox_status_t          status;
    inbox_error_t           err;
    inbox_event_list_t      events;
};

typedef struct ws_store_req_s  ws_store_req_t;
typedef struct ws_store_s      ws_store_t;

/* Opens the store.  NULL with a message on stderr. */
ws_store_t *ws_store_open(const char *uri);
/* Starts the thread; 0, or -1 with a message on stderr. */
int ws_store_start(ws_store_t *store, struct lws_context *context);
/*
 * Stops the thread; what is asked after waits unanswered until
 * ws_store_close.  Before the lws context goes: the thread wakes the
 * loop through it.  A query under way is not waited for (a store gone
 * silent would hold the stop for its timeouts): the thread is left to
 * the process's exit, and wakes nothing after it.
 */
void ws_store_stop(ws_store_t *store);
/* Stops the thread if still running and frees what was asked and not
 * taken; a store whose thread was left in a query stays as it is. */
void ws_store_close(ws_store_t *store);
/* Whether a thread was left in its query: the process then ends with
 * _exit, as exit's handlers (OpenSSL's) would pull state from under it. */
int ws_store_left(void);

/* A new zeroed request; NULL when out of memory. */
ws_store_req_t *ws_store_req_new(ws_store_kind_e kind, void *owner);
void ws_store_req_free(ws_store_req_t *req);

/* Hands req to the thread. */
void ws_store_ask(ws_store_t *store, ws_store_req_t *req);
/*
 * Nobody waits for req's answer any more (its connection closed or
 * resumed again, its organization's history began anew): its owner is
 * NULL, and if the thread has not run it yet it never will (a store slow
 * to answer would otherwise read, for connections long gone, ahead of
 * the live ones).  The thread frees it, or ws_store_answers hands it
 * back, as for any request.
 */
void ws_store_drop(ws_store_t *store, ws_store_req_t *req);
/* The requests answered since the last call, oldest first, as a list
 * (next); the caller frees each. */
ws_store_req_t *ws_store_answers(ws_store_t *store);

#endif
