/*
 * The event stream of each organization, as its browsers must see it:
 * every event once, in org_seq order, with exact resume.
 *
 * Per organization: the last org_seq delivered; early events held for a
 * short window while the missing ones come (two nginx workers, or two
 * pool threads, publish interleaved); a gap still open after the window
 * filled from the store (ws_store.h: a datagram shed or sent while
 * ws-server was down); events at or below what was delivered dropped;
 * a bounded ring of the recent frames, so that most resumes never touch
 * the store.  How a connection joins it is ws_resume.h's.
 *
 * Everything runs on the lws service thread, except the store's queries
 * (ws_store.c's thread).
 */
#ifndef WS_STREAM_H
#define WS_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <libwebsockets.h>
#include <inbox/event.h>
#include "ws_fanout.h"

#define WS_STREAM_WINDOW_MS    20     /* an early event waits at most */
#define WS_STREAM_RING_FRAMES  512    /* recent frames kept per org ... */
#define WS_STREAM_RING_BYTES   (256 * 1024)     /* ... and their bytes */
#define WS_STREAM_PENDING_MAX  2048   /* early events held per org */
/*
 * How often the store is asked where the streams of the organizations
 * with connections stand: the last events shed by nginx are followed by
 * no datagram that would show their gap, a store that went back (a
 * backup restored in the same epoch) is found behind what was delivered,
 * and a new epoch (inboxctl events new-epoch) is found before its first
 * event.  An event at or below what was delivered asks at once.
 */
#define WS_STREAM_CHECK_MS     2000
/*
 * How long an organization's recent frames outlive its last connection
 * (with a store): a browser that comes back soon resumes from memory, and
 * the many organizations nobody watches cost no ring; their resumes read
 * the store.
 */
#define WS_STREAM_KEEP_SECS    60

typedef struct ws_store_req_s   ws_store_req_t;
typedef struct ws_org_stream_s  ws_org_stream_t;

/* ws_resume's and ws_presence's part of each connection (inside
 * ws_fanout's session). */
typedef struct ws_stream_conn_s {
    ws_fanout_t      *fanout;
    ws_conn_t        *conn;
    ws_org_stream_t  *org;          /* NULL until opened */
    lws_dll2_t        held;         /* in the stream's held connections */
    int64_t           held_until;   /* ms */
    ws_store_req_t   *replay;       /* a resume from the store in flight */
    lws_dll2_t        replaying;    /* in its org's: while replay is */
    int64_t           hello_seq;    /* where its hello put it in the
                                       org's epoch: no reset goes below */
    unsigned          resumed:1;    /* a resume was read */
    unsigned          too_long:1;   /* the message in pieces: refused */
    char             *pieces;       /* a message come in pieces, so far */
    size_t            npieces;

    /* presence (ws_presence.c) */
    lws_dll2_t        present;      /* in its org's present connections */
    int64_t           present_until;        /* ms */
    char              conversation_id[INBOX_ID_MAX];
    int               state;        /* ws_presence_state_e */
    double            tokens;       /* rate limit: a leaky bucket */
    int64_t           tokens_at;    /* ms */
    unsigned          refused;      /* messages refused in a row */
} ws_stream_conn_t;

/* store_uri NULL: no store, gaps are skipped (resumes across them get
 * resets), and the recent frames are kept for good; else kept keep_secs
 * after the last connection.  NULL with a message on stderr when the
 * store cannot be opened or out of memory. */
ws_stream_t *ws_stream_create(ws_fanout_t *fanout, const char *store_uri,
    unsigned keep_secs);
/* Starts the store thread and the timers; 0 or -1. */
int ws_stream_start(ws_stream_t *stream, struct lws_context *context);
/* Before lws_context_destroy: the store thread joined and every timer
 * cancelled while the context's lists exist; nothing is scheduled after
 * (connections closing with the context may still call in). */
void ws_stream_stop(ws_stream_t *stream);
/* Frees; after lws_context_destroy. */
void ws_stream_destroy(ws_stream_t *stream);

/* An event from the datagram socket. */
void ws_stream_event(ws_stream_t *stream, const inbox_event_record_t *rec);

/* On the lws thread after lws_cancel_service(): the store's answers. */
void ws_stream_store_answers(ws_stream_t *stream);

/* For ws_presence: milliseconds of CLOCK_MONOTONIC, and the context. */
int64_t ws_stream_now_ms(void);

#endif
