/*
 * What ws_stream.c (an organization's ordered stream) and ws_resume.c (a
 * connection's way into it) share: the stream's state, kept on the lws
 * service thread, and the few calls each makes of the other.
 */
#ifndef WS_STREAM_ORG_H
#define WS_STREAM_ORG_H

#include <search.h>
#include <time.h>
#include "ws_access.h"
#include "ws_presence.h"
#include "ws_store.h"
#include "ws_stream.h"

#define WS_STREAM_QUERY_MAX    1000   /* events asked of the store at once */

/* A frame kept: held early, or in the ring of recent ones. */
typedef struct {
    int64_t   seq;
    int64_t   unread;
    char      type[INBOX_EVENT_TYPE_MAX];
    size_t    len;
    char     *frame;                    /* malloc'd */
} ws_item_t;

struct ws_org_stream_s {
    char                     id[INBOX_ID_MAX];
    char                     epoch[INBOX_EPOCH_MAX];
    char                     left_epoch[INBOX_EPOCH_MAX];   /* the one
                                           before: no ticket brings it
                                           back */
    time_t                   looked;    /* when the store's epoch was
                                           last learned here (its event,
                                           its position, a ticket), in
                                           the tickets' seconds */
    ws_stream_t             *stream;
    unsigned                 nconns;

    int                      has_last;
    int64_t                  last;      /* delivered, in order */
    int64_t                  seen;      /* the newest org_seq known of */

    /* early events, sorted by seq, all above last + 1 */
    ws_item_t               *pending;
    size_t                   npending;
    size_t                   pending_cap;

    lws_sorted_usec_list_t   sul;       /* the window, or a retry */
    int                      timer;
    ws_store_req_t          *filling;   /* a gap fill in flight */
    int64_t                  failing_since;  /* ms, 0: the fill is fine */

    /* the recent frames: seq ring_first .. last, without a hole; made
     * on the first event */
    ws_item_t               *ring;      /* WS_STREAM_RING_FRAMES */
    size_t                   ring_head;
    size_t                   ring_count;
    size_t                   ring_bytes;

    lws_dll2_t               live;      /* in the stream's: nconns > 0 */
    lws_dll2_t               idle;      /* in the stream's: nconns == 0,
                                           the ring kept until left_ms +
                                           keep_ms */
    int64_t                  left_ms;   /* the last connection closed */
    ws_store_req_t          *checking;  /* a state query in flight */
    lws_dll2_owner_t         replaying; /* ws_stream_conn_t.replaying:
                                           a resume read from the store */

    ws_presence_org_t        presence;
    ws_access_org_t          access;    /* users whose access ended */
};

struct ws_stream_s {
    ws_fanout_t             *fanout;
    ws_store_t              *store;     /* NULL: gaps are resets */
    struct lws_context      *context;
    void                    *orgs;      /* tsearch(3) of ws_org_stream_t */
    lws_dll2_owner_t         held;      /* ws_stream_conn_t.held, waiting
                                           for resume (ws_resume.c) */
    lws_sorted_usec_list_t   hold_sul;
    lws_dll2_owner_t         live;      /* ws_org_stream_t.live */
    lws_dll2_owner_t         idle;      /* ws_org_stream_t.idle, oldest
                                           first */
    int64_t                  keep_ms;
    lws_sorted_usec_list_t   check_sul;
};


/* ws_stream.c: finds or adds the organization (NULL when out of memory);
 * a gap between what was delivered and what is known gets its window,
 * then the store; the reset frame a connection gets at seq. */
ws_org_stream_t *ws_stream_org(ws_stream_t *stream, const char *org_id);
void ws_stream_check_gap(ws_org_stream_t *org);
/* ws_stream.c: the store was made again (inboxctl events new-epoch): a
 * history in epoch after org_seq at, every connection reset to it; and
 * the store's position asked at once, to confirm what a ticket said. */
void ws_stream_new_epoch(ws_org_stream_t *org, const char *epoch,
    int64_t at);
void ws_stream_check_now(ws_org_stream_t *org);
/* ws_stream.c: the organization's first connection opened, its last
 * closed (its ring is kept a while, see WS_STREAM_KEEP_SECS). */
void ws_stream_watched(ws_org_stream_t *org);
void ws_stream_unwatched(ws_org_stream_t *org);
char *ws_stream_reset_frame(int64_t seq, const char *epoch, size_t *len);

/* ws_resume.c: the store's answer to a connection's resume; and a
 * connection reading its resume from the store when the history it
 * reads was restarted (ws_stream_restart sent its reset): the replay is
 * dropped and it joins the live events. */
void ws_resume_replayed(ws_stream_t *stream, ws_store_req_t *req);
void ws_resume_replay_restarted(ws_conn_t *conn);

#endif
