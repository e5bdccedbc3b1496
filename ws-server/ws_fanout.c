/*
 * Fan-out: organizations, their connections and per-connection queues of
 * shared frames; also the inbox.v1 protocol callback, which ties the
 * upgrade check (ws_auth) to the connection's life here.
 *
 * Writes: frames queued during a turn of the loop are written at its end
 * (ws_fanout_flush), all of a connection's at once in one send; only a
 * connection whose socket is full waits for a writable callback.  That
 * saves a loop turn and two epoll_ctl calls per frame.
 */
#include <search.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <inbox/clock.h>
#include <inbox/event.h>
#include "ws_accept.h"
#include "ws_access.h"
#include "ws_fanout.h"
#include "ws_frame.h"
#include "ws_resume.h"
#include "ws_stream.h"

#define WS_FANOUT_QUEUE_INITIAL   8
#define WS_FANOUT_CLOSE_GRACE     10    /* seconds to get the close out */
/* what a connection hears when nothing else went to it (docs/ARCHITECTURE.md,
 * "The realtime stream"): page code never sees a protocol ping */
#define WS_FANOUT_ALIVE_JSON      "{\"type\":\"ping\"}"
/* the gather buffer: the largest frame, whatever WS_FANOUT_WRITE_MAX is */
#define WS_FANOUT_SCRATCH  (INBOX_EVENT_DATAGRAM_MAX + WS_FRAME_HEADER_MAX)

typedef struct {
    char              id[INBOX_ID_MAX];
    lws_dll2_owner_t  conns;        /* ws_conn_t.list */
    lws_dll2_owner_t  members;      /* ws_conn_t.member */

    /* the latest event seen, for the hello of later connections */
    int               has_state;
    int64_t           org_seq;
    char              epoch[INBOX_EPOCH_MAX];
    time_t            updated;

    /* the latest unread.total of the current epoch */
    int               has_unread;
    int64_t           unread_seq;
    int64_t           unread_total;
} ws_org_t;

/*
 * The per-session data lws allocates and frees for each connection.  An
 * idle connection's queue is freed, so it holds only this.
 */
struct ws_conn_s {
    lws_dll2_t              list;       /* in its org's conns: joined */
    lws_dll2_t              member;     /* in its org's members: open,
                                           joined or not */
    lws_dll2_t              dirty;      /* in fanout->dirty: to write */
    struct lws             *wsi;
    ws_org_t               *org;        /* NULL until established */
    ws_frame_t            **queue;      /* a ring of capacity entries */
    uint32_t                head;
    uint32_t                count;
    uint32_t                capacity;
    uint32_t                heard;      /* last rx, monotonic ms */
    uint32_t                sent;       /* last frame queued, the same */
    unsigned                closing:1;  /* overflowed: close, send nothing */
    unsigned                close_sent:1;
    unsigned                pinged:1;   /* since heard */
    unsigned                sent_events:1;
    unsigned                kicked:1;   /* ws_fanout_kick: close */
    int                     kick_code;
    const char             *kick_reason;
    int64_t                 position;   /* never an org_seq at or below */
    ws_stream_conn_t        stream;     /* ws_stream's, ws_presence's */
    inbox_ticket_claims_t   claims;
};

/* What a sweep (ws_fanout_sweep) does to each joined connection. */
typedef void (*ws_fanout_visit_pt)(ws_fanout_t *fanout, ws_org_t *org,
    ws_conn_t *conn);

struct ws_fanout_s {
    ws_auth_t         *auth;
    ws_stream_t       *stream;
    uint32_t           now;             /* monotonic ms, keepalive */
    unsigned           stalled:1;       /* during a keepalive sweep */
    int64_t            wall_ms;         /* Unix ms, during a lapse sweep */
    int64_t            next_lapse;      /* earliest ends_at joined, or 0 */
    uint32_t           ping_ms;
    ws_frame_t        *ping;            /* during a keepalive sweep */
    ws_frame_t        *alive;           /* WS_FANOUT_ALIVE_JSON, the same */
    ws_fanout_visit_pt visit;           /* during a sweep */
    unsigned           everyone:1;      /* ... of members, not conns */
    size_t             max_queue;
    void              *orgs;            /* tsearch(3) tree of ws_org_t */
    lws_dll2_owner_t   dirty;           /* ws_conn_t.dirty */
    unsigned char     *scratch;         /* WS_FANOUT_SCRATCH bytes */
    void             (*wake)(void *data);
    void              *wake_data;
};


static int ws_fanout_open(ws_fanout_t *fanout, ws_conn_t *conn,
    struct lws *wsi);
static int ws_fanout_write(ws_fanout_t *fanout, ws_conn_t *conn,
    struct lws *wsi);
static int ws_fanout_write_queue(ws_fanout_t *fanout, ws_conn_t *conn);
static int ws_fanout_send_close(ws_conn_t *conn, struct lws *wsi);
static void ws_fanout_keepalive_conn(ws_fanout_t *fanout, ws_org_t *org,
    ws_conn_t *conn);
static void ws_fanout_lapse_conn(ws_fanout_t *fanout, ws_org_t *org,
    ws_conn_t *conn);
static void ws_fanout_sweep(ws_fanout_t *fanout, ws_fanout_visit_pt visit,
    int everyone);
static void ws_fanout_sweep_org(const void *node, VISIT which,
    void *closure);
static void ws_fanout_note_lapse(ws_fanout_t *fanout, const ws_conn_t *conn);
static void ws_fanout_heard(ws_fanout_t *fanout, ws_conn_t *conn);
static void ws_fanout_close(ws_conn_t *conn);
static void ws_fanout_enqueue(ws_fanout_t *fanout, ws_conn_t *conn,
    ws_frame_t *frame);
static int ws_fanout_grow(ws_conn_t *conn, size_t max_queue);
static void ws_fanout_drop_queue(ws_conn_t *conn);
static void ws_fanout_hello_state(const ws_org_t *org,
    const inbox_ticket_claims_t *claims, inbox_realtime_state_t *state);
static void ws_fanout_note(ws_org_t *org, int64_t org_seq,
    const ws_event_info_t *info);
static ws_org_t *ws_fanout_org(ws_fanout_t *fanout, const char *org_id);
static ws_org_t *ws_fanout_org_known(ws_fanout_t *fanout,
    const char *org_id);
static int ws_fanout_org_compare(const void *a, const void *b);


ws_fanout_t *
ws_fanout_create(ws_auth_t *auth, size_t max_queue, uint32_t ping_ms)
{
    ws_fanout_t  *fanout;

    fanout = calloc(1, sizeof(ws_fanout_t));
    if (fanout == NULL) {
        return NULL;
    }

    fanout->auth = auth;
    fanout->max_queue = max_queue ? max_queue : WS_FANOUT_MAX_QUEUE;
    fanout->ping_ms = ping_ms;

    fanout->scratch = malloc(WS_FANOUT_SCRATCH);
    if (fanout->scratch == NULL) {
        free(fanout);
        return NULL;
    }

    return fanout;
}


void
ws_fanout_destroy(ws_fanout_t *fanout)
{
    if (fanout == NULL) {
        return;
    }

    /* connections are gone with the lws context: orgs hold no frames */
    tdestroy(fanout->orgs, free);
    free(fanout->scratch);
    free(fanout);
}


void
ws_fanout_set_stream(ws_fanout_t *fanout, ws_stream_t *stream)
{
    fanout->stream = stream;
}


size_t
ws_fanout_max_queue(const ws_fanout_t *fanout)
{
    return fanout->max_queue;
}


size_t
ws_fanout_session_size(void)
{
    return sizeof(ws_conn_t);
}


void
ws_fanout_keepalive(ws_fanout_t *fanout, uint32_t now_ms)
{
    /*
     * Sweeps come every ping_ms / 2: one much later means the loop stood
     * still (SIGSTOP, a machine that slept), and the silence meanwhile
     * was ours, not the browsers'.  Not counting it spares every socket a
     * close for no answer, and those accepted as the loop woke, stamped
     * with the time before, too.  (The first sweep has no connections.)
     */
    fanout->stalled = now_ms - fanout->now > fanout->ping_ms;
    fanout->now = now_ms;
    fanout->ping = ws_frame_ping();
    fanout->alive = ws_frame_new(WS_FANOUT_ALIVE_JSON,
                                 sizeof(WS_FANOUT_ALIVE_JSON) - 1);

    if (fanout->ping == NULL || fanout->alive == NULL) {
        free(fanout->ping);
        free(fanout->alive);
        fanout->ping = NULL;
        fanout->alive = NULL;
        return;
    }

    /*
     * Held through the sweep: a silent connection killed in it closes at
     * once, its presence going idle to the others, and a queue that
     * overflows then lets go of the pings it already holds.
     */
    fanout->ping->refs++;
    fanout->alive->refs++;

    /*
     * Every open connection, joined or not: one held for its resume, its
     * events read from a store that is slow to answer (ws_store.h), is
     * alive too, and a browser that heard nothing for twice ping_ms would
     * take it for dead and connect again, asking the store once more.
     */
    ws_fanout_sweep(fanout, ws_fanout_keepalive_conn, 1);

    ws_frame_release(fanout->ping);
    ws_frame_release(fanout->alive);
    fanout->ping = NULL;
    fanout->alive = NULL;
}


/*
 * Two silences, each with its ping: nothing heard (a protocol ping, which
 * the browser itself answers, even for a page whose timers are held back)
 * and nothing sent (WS_FANOUT_ALIVE_JSON, which the page's code sees and
 * times).  Whichever is due, both go, in one send: the two silences then
 * restart together, so a connection gets one write a ping_ms at most.
 */
static void
ws_fanout_keepalive_conn(ws_fanout_t *fanout, ws_org_t *org, ws_conn_t *conn)
{
    int  unheard, unsent;

    if (fanout->stalled) {
        conn->heard = fanout->now;
        conn->pinged = 0;
    }

    if (fanout->now - conn->heard >= 2 * fanout->ping_ms) {
        lwsl_user("ws-server: no answer to a ping, closing: org %s "
                  "user %s\n", org->id, conn->claims.user_id);
        /* outside lws' service, so no timer needs to come round */
        lws_set_timeout(conn->wsi, PENDING_TIMEOUT_USER_OK,
                        LWS_TO_KILL_SYNC);
        return;
    }

    unheard = fanout->now - conn->heard >= fanout->ping_ms && !conn->pinged;
    unsent = fanout->now - conn->sent >= fanout->ping_ms;

    if (!unheard && !unsent) {
        return;
    }

    /* outside the stream: no org_seq, the position stays */
    ws_fanout_enqueue(fanout, conn, fanout->alive);

    if (!conn->pinged) {
        conn->pinged = 1;
        ws_fanout_enqueue(fanout, conn, fanout->ping);
    }
}


int64_t
ws_fanout_next_lapse(const ws_fanout_t *fanout)
{
    return fanout->next_lapse;
}


void
ws_fanout_close_lapsed(ws_fanout_t *fanout, int64_t now_ms)
{
    fanout->wall_ms = now_ms;
    fanout->next_lapse = 0;

    ws_fanout_sweep(fanout, ws_fanout_lapse_conn, 0);
}


/* Closes a lapsed connection, or notes when it ends. */
static void
ws_fanout_lapse_conn(ws_fanout_t *fanout, ws_org_t *org, ws_conn_t *conn)
{
    if (conn->kicked) {
        return;
    }

    if (inbox_ticket_lapsed(&conn->claims, fanout->wall_ms)) {
        lwsl_user("ws-server: the session or token ended, closing: org "
                  "%s user %s\n", org->id, conn->claims.user_id);
        ws_fanout_kick(conn, WS_ACCESS_CLOSE_ENDED, "signed out");

    } else {
        ws_fanout_note_lapse(fanout, conn);
    }
}


/* Calls visit for every joined connection of every organization, or
 * with everyone for every open one. */
static void
ws_fanout_sweep(ws_fanout_t *fanout, ws_fanout_visit_pt visit, int everyone)
{
    fanout->visit = visit;
    fanout->everyone = everyone;
    twalk_r(fanout->orgs, ws_fanout_sweep_org, fanout);
    fanout->visit = NULL;
}


static void
ws_fanout_sweep_org(const void *node, VISIT which, void *closure)
{
    ws_org_t     *org;
    ws_conn_t    *conn;
    ws_fanout_t  *fanout = closure;

    if (which != postorder && which != leaf) {
        return;
    }

    org = *(ws_org_t *const *) node;

    /* visit may close the connection: the next is taken first */
    if (fanout->everyone) {
        lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1,
                                   lws_dll2_get_head(&org->members)) {
            conn = lws_container_of(d, ws_conn_t, member);
            fanout->visit(fanout, org, conn);
        } lws_end_foreach_dll_safe(d, d1);

        return;
    }

    lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1,
                               lws_dll2_get_head(&org->conns)) {
        conn = lws_container_of(d, ws_conn_t, list);
        fanout->visit(fanout, org, conn);
    } lws_end_foreach_dll_safe(d, d1);
}


static void
ws_fanout_note_lapse(ws_fanout_t *fanout, const ws_conn_t *conn)
{
    int64_t  ends_at = conn->claims.ends_at;

    if (ends_at > 0
        && (fanout->next_lapse == 0 || ends_at < fanout->next_lapse))
    {
        fanout->next_lapse = ends_at;
    }
}


void
ws_fanout_set_wake(ws_fanout_t *fanout, void (*wake)(void *data), void *data)
{
    fanout->wake = wake;
    fanout->wake_data = data;
}


void
ws_fanout_flush(ws_fanout_t *fanout)
{
    ws_conn_t  *conn;

    while (fanout->dirty.head != NULL) {
        conn = lws_container_of(fanout->dirty.head, ws_conn_t, dirty);
        lws_dll2_remove(&conn->dirty);

        if (ws_fanout_write_queue(fanout, conn) != 0) {
            /* not inside its callback: closed here and now */
            lws_set_timeout(conn->wsi, PENDING_TIMEOUT_USER_OK,
                            LWS_TO_KILL_SYNC);
        }
    }
}


void
ws_fanout_publish(ws_fanout_t *fanout, const char *org_id, int64_t org_seq,
    const char *data, size_t len, const ws_event_info_t *info)
{
    ws_org_t    *org;
    ws_conn_t   *conn;
    ws_frame_t  *frame;

    org = ws_fanout_org(fanout, org_id);
    if (org == NULL) {
        lwsl_err("ws-server: out of memory for org %s\n", org_id);
        return;
    }

    ws_fanout_note(org, org_seq, info);

    if (org->conns.count == 0) {
        return;
    }

    frame = ws_frame_new(data, len);
    if (frame == NULL) {
        lwsl_err("ws-server: out of memory for an event of org %s\n",
                 org_id);
        return;
    }

    /* enqueueing never closes a connection synchronously */
    lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1,
                               lws_dll2_get_head(&org->conns)) {
        conn = lws_container_of(d, ws_conn_t, list);

        if (org_seq > conn->position) {
            conn->position = org_seq;
            conn->sent_events = 1;
            ws_fanout_enqueue(fanout, conn, frame);
        }
    } lws_end_foreach_dll_safe(d, d1);

    if (frame->refs == 0) {
        free(frame);
    }
}


void
ws_fanout_went_back(ws_fanout_t *fanout, const char *org_id,
    int64_t org_seq)
{
    ws_org_t  *org;

    org = ws_fanout_org_known(fanout, org_id);
    if (org == NULL) {
        return;
    }

    if (org->has_state && org->org_seq > org_seq) {
        org->org_seq = org_seq;
        org->updated = time(NULL);
        /* the total counted then may not be the store's now: the
         * ticket's is */
        org->has_unread = 0;
    }
}


void
ws_fanout_new_epoch(ws_fanout_t *fanout, const char *org_id,
    const char *epoch, int64_t org_seq)
{
    ws_org_t  *org;

    org = ws_fanout_org_known(fanout, org_id);
    if (org == NULL) {
        return;
    }

    lws_strncpy(org->epoch, epoch, sizeof(org->epoch));
    org->has_state = 1;
    org->org_seq = org_seq;
    org->updated = time(NULL);
    /* the ticket's total, until an event of the new epoch counts one */
    org->has_unread = 0;
}


void
ws_fanout_foreach(ws_fanout_t *fanout, const char *org_id,
    ws_fanout_each_pt fn, void *arg)
{
    ws_org_t   *org;
    ws_conn_t  *conn;

    org = ws_fanout_org_known(fanout, org_id);
    if (org == NULL) {
        return;
    }

    lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1,
                   lws_dll2_get_head(&org->conns)) {
        conn = lws_container_of(d, ws_conn_t, list);
        fn(conn, arg);
    } lws_end_foreach_dll_safe(d, d1);
}


int
ws_fanout_send(ws_conn_t *conn, int64_t org_seq, const char *data,
    size_t len)
{
    ws_frame_t  *frame;

    if (conn->closing || conn->org == NULL) {
        return -1;
    }

    if (org_seq > 0 && org_seq <= conn->position) {
        return 1;
    }

    frame = ws_frame_new(data, len);
    if (frame == NULL) {
        return -1;
    }

    ws_fanout_enqueue(conn->stream.fanout, conn, frame);

    if (frame->refs == 0) {
        free(frame);
        return -1;
    }

    if (org_seq > 0) {
        conn->position = org_seq;
        conn->sent_events = 1;
    }

    return 0;
}


void
ws_fanout_join(ws_conn_t *conn)
{
    if (conn->org != NULL && lws_dll2_is_detached(&conn->list)) {
        lws_dll2_add_tail(&conn->list, &conn->org->conns);
        ws_fanout_note_lapse(conn->stream.fanout, conn);
    }
}


void
ws_fanout_leave(ws_conn_t *conn)
{
    if (!lws_dll2_is_detached(&conn->list)) {
        lws_dll2_remove(&conn->list);
    }
}


int
ws_fanout_joined(const ws_conn_t *conn)
{
    return !lws_dll2_is_detached(&conn->list);
}


int64_t
ws_fanout_position(const ws_conn_t *conn)
{
    return conn->position;
}


int
ws_fanout_sent_events(const ws_conn_t *conn)
{
    return conn->sent_events;
}


void
ws_fanout_set_position(ws_conn_t *conn, int64_t org_seq)
{
    if (!conn->sent_events || org_seq > conn->position) {
        conn->position = org_seq;
    }
}


void
ws_fanout_restart_position(ws_conn_t *conn, int64_t org_seq)
{
    conn->position = org_seq;
    conn->sent_events = 0;
}


const inbox_ticket_claims_t *
ws_fanout_claims(const ws_conn_t *conn)
{
    return &conn->claims;
}


ws_stream_conn_t *
ws_fanout_stream_conn(ws_conn_t *conn)
{
    return &conn->stream;
}


void
ws_fanout_kick(ws_conn_t *conn, int code, const char *reason)
{
    if (conn->closing || conn->wsi == NULL) {
        return;
    }

    ws_fanout_drop_queue(conn);
    conn->closing = 1;
    conn->kicked = 1;
    conn->kick_code = code;
    conn->kick_reason = reason;

    lws_set_timeout(conn->wsi, PENDING_TIMEOUT_USER_OK,
                    WS_FANOUT_CLOSE_GRACE);
    lws_callback_on_writable(conn->wsi);
}


int
ws_fanout_callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
    ws_conn_t                   *conn;
    ws_fanout_t                 *fanout;
    const struct lws_protocols  *protocol;

    conn = user;
    protocol = lws_get_protocol(wsi);
    fanout = protocol ? protocol->user : NULL;

    switch (reason) {

    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
        /* wsi is the listener; in the socket just accepted */
        return ws_accept_filter((int) (intptr_t) in);

    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return ws_auth_confirm_upgrade(fanout->auth, wsi, in);

    case LWS_CALLBACK_HTTP:
        return ws_auth_refuse_http(wsi);

    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        if (conn == NULL
            || ws_auth_take_claims(fanout->auth, wsi, &conn->claims) != 0)
        {
            return 1;
        }
        return 0;

    case LWS_CALLBACK_ESTABLISHED:
        return ws_fanout_open(fanout, conn, wsi);

    case LWS_CALLBACK_SERVER_WRITEABLE:
        return ws_fanout_write(fanout, conn, wsi);

    case LWS_CALLBACK_RECEIVE_PONG:
        ws_fanout_heard(fanout, conn);
        return 0;

    case LWS_CALLBACK_RECEIVE:
        ws_fanout_heard(fanout, conn);
        /* resume and presence (ws_stream.c); anything else is ignored */
        if (conn == NULL || conn->org == NULL || conn->closing) {
            return 0;
        }
        ws_resume_receive(fanout->stream, conn, wsi, in, len);
        return 0;

    case LWS_CALLBACK_CLOSED:
        if (conn != NULL && conn->org != NULL) {
            ws_resume_closed(fanout->stream, conn);
        }
        ws_fanout_close(conn);
        return 0;

    default:
        break;
    }

    return lws_callback_http_dummy(wsi, reason, user, in, len);
}


static int
ws_fanout_open(ws_fanout_t *fanout, ws_conn_t *conn, struct lws *wsi)
{
    char                    *json;
    ws_org_t                *org;
    ws_frame_t              *frame;
    inbox_realtime_state_t   state;

    if (conn == NULL || conn->claims.org_id[0] == '\0') {
        return -1;
    }

    org = ws_fanout_org(fanout, conn->claims.org_id);
    if (org == NULL) {
        return -1;
    }

    ws_fanout_hello_state(org, &conn->claims, &state);

    json = inbox_event_hello(state.org_seq, state.epoch, state.unread_total,
                             fanout->ping_ms / 1000);
    if (json == NULL) {
        return -1;
    }

    frame = ws_frame_new(json, strlen(json));
    free(json);

    if (frame == NULL) {
        return -1;
    }

    conn->wsi = wsi;
    conn->org = org;
    conn->heard = fanout->now;
    conn->position = state.org_seq;
    conn->stream.fanout = fanout;

    /* the hello goes first: nothing else was queued before it */
    ws_fanout_enqueue(fanout, conn, frame);

    if (frame->refs == 0) {
        free(frame);
        return -1;
    }

    /* kept alive from now on, joined or not (ws_fanout_keepalive) */
    lws_dll2_add_tail(&conn->member, &org->members);

    lwsl_user("ws-server: connected: org %s user %s (%u in org), "
              "hello org_seq %lld\n", org->id, conn->claims.user_id,
              (unsigned) org->conns.count + 1, (long long) state.org_seq);

    /* live events once it resumed, or did not in time (ws_stream.c) */
    if (fanout->stream == NULL) {
        ws_fanout_join(conn);
        return 0;
    }

    return ws_resume_opened(fanout->stream, conn, state.org_seq,
                            state.epoch);
}


static int
ws_fanout_write(ws_fanout_t *fanout, ws_conn_t *conn, struct lws *wsi)
{
    if (conn == NULL || conn->org == NULL) {
        return 0;
    }

    if (conn->closing) {
        return ws_fanout_send_close(conn, wsi);
    }

    /* lws also calls here when nobody asked */
    return ws_fanout_write_queue(fanout, conn);
}


/*
 * The close frame of a slow consumer or a kicked connection, written by
 * us: lws' own (return -1 after lws_close_reason) is cut off unsent by its
 * libuv build, which closes a second time at once.  The peer answers with
 * its close and lws then closes the connection; one that does not is cut
 * off by the grace timeout set on overflow or kick.
 */
static int
ws_fanout_send_close(ws_conn_t *conn, struct lws *wsi)
{
    size_t          len;
    unsigned char   close[WS_FRAME_CLOSE_MAX];

    if (conn->close_sent) {
        return 0;
    }

    conn->close_sent = 1;

    if (conn->kicked) {
        len = ws_frame_close(close, conn->kick_code, conn->kick_reason);

    } else {
        len = ws_frame_close(close, WS_FANOUT_CLOSE_SLOW, "slow consumer");
    }

    return lws_write(wsi, close, len, LWS_WRITE_RAW) < (int) len ? -1 : 0;
}


/*
 * Writes the connection's queued frames, as many as fit in
 * WS_FANOUT_WRITE_MAX, in one send.  A socket that lws still holds
 * unsent bytes for (the kernel's buffer was full) gets nothing more until
 * its writable callback: the frames wait in the queue, which is what
 * bounds a slow consumer.  Returns -1 when the connection failed.
 */
static int
ws_fanout_write_queue(ws_fanout_t *fanout, ws_conn_t *conn)
{
    int      n;
    size_t   len, taken, i;

    if (conn->closing || conn->count == 0) {
        return 0;
    }

    if (lws_partial_buffered(conn->wsi)) {
        lws_callback_on_writable(conn->wsi);
        return 0;
    }

    len = ws_frame_gather(conn->queue, conn->capacity, conn->head,
                          conn->count, fanout->scratch, WS_FANOUT_WRITE_MAX,
                          &taken);

    for (i = 0; i < taken; i++) {
        ws_frame_release(conn->queue[conn->head]);
        conn->queue[conn->head] = NULL;
        conn->head = (conn->head + 1) % conn->capacity;
    }

    conn->count -= taken;

    /* raw: the bytes are whole frames already; a short send is kept by
     * lws (lws_partial_buffered) and finished before the next callback */
    n = lws_write(conn->wsi, fanout->scratch, len, LWS_WRITE_RAW);
    if (n < (int) len) {
        lwsl_user("ws-server: write failed, closing (org %s)\n",
                  conn->org->id);
        return -1;
    }

    if (conn->count > 0) {
        lws_callback_on_writable(conn->wsi);

    } else {
        /* idle connections hold no queue */
        free(conn->queue);
        conn->queue = NULL;
        conn->capacity = 0;
        conn->head = 0;
    }

    return 0;
}


static void
ws_fanout_heard(ws_fanout_t *fanout, ws_conn_t *conn)
{
    if (conn != NULL) {
        conn->heard = fanout->now;
        conn->pinged = 0;
    }
}


static void
ws_fanout_close(ws_conn_t *conn)
{
    if (conn == NULL) {
        return;
    }

    if (!lws_dll2_is_detached(&conn->list)) {
        lws_dll2_remove(&conn->list);
    }

    if (!lws_dll2_is_detached(&conn->member)) {
        lws_dll2_remove(&conn->member);
    }

    if (!lws_dll2_is_detached(&conn->dirty)) {
        lws_dll2_remove(&conn->dirty);
    }

    if (conn->org != NULL) {
        lwsl_user("ws-server: disconnected: org %s user %s\n",
                  conn->org->id, conn->claims.user_id);
    }

    ws_fanout_drop_queue(conn);
    free(conn->queue);
    conn->queue = NULL;
    conn->capacity = 0;
    conn->org = NULL;
}


static void
ws_fanout_enqueue(ws_fanout_t *fanout, ws_conn_t *conn, ws_frame_t *frame)
{
    if (conn->closing) {
        return;
    }

    if (conn->count == conn->capacity
        && ws_fanout_grow(conn, fanout->max_queue) != 0)
    {
        lwsl_user("ws-server: slow consumer closed: org %s user %s "
                  "(%u frames queued)\n", conn->org->id,
                  conn->claims.user_id, (unsigned) conn->count);

        ws_fanout_drop_queue(conn);
        conn->closing = 1;

        if (!lws_dll2_is_detached(&conn->dirty)) {
            lws_dll2_remove(&conn->dirty);
        }

        /*
         * The close frame goes out from the next writable callback; a
         * peer that reads nothing never gives one, so it is also cut off
         * after a grace period.
         */
        lws_set_timeout(conn->wsi, PENDING_TIMEOUT_USER_OK,
                        WS_FANOUT_CLOSE_GRACE);
        lws_callback_on_writable(conn->wsi);
        return;
    }

    conn->queue[(conn->head + conn->count) % conn->capacity] = frame;
    conn->count++;
    frame->refs++;
    conn->sent = fanout->now;

    /* written at the end of this turn of the loop, with whatever else
     * the turn queues to it */
    if (lws_dll2_is_detached(&conn->dirty)) {
        if (fanout->dirty.count == 0 && fanout->wake != NULL) {
            fanout->wake(fanout->wake_data);
        }

        lws_dll2_add_tail(&conn->dirty, &fanout->dirty);
    }
}


/* Doubles the ring up to max_queue entries; -1 when it may not grow. */
static int
ws_fanout_grow(ws_conn_t *conn, size_t max_queue)
{
    size_t        capacity, i;
    ws_frame_t  **queue;

    if (conn->capacity >= max_queue) {
        return -1;
    }

    capacity = conn->capacity ? conn->capacity * 2
                              : WS_FANOUT_QUEUE_INITIAL;
    if (capacity > max_queue) {
        capacity = max_queue;
    }

    queue = malloc(capacity * sizeof(ws_frame_t *));
    if (queue == NULL) {
        return -1;
    }

    for (i = 0; i < conn->count; i++) {
        queue[i] = conn->queue[(conn->head + i) % conn->capacity];
    }

    free(conn->queue);
    conn->queue = queue;
    conn->capacity = (uint32_t) capacity;
    conn->head = 0;

    return 0;
}


static void
ws_fanout_drop_queue(ws_conn_t *conn)
{
    size_t  i;

    for (i = 0; i < conn->count; i++) {
        ws_frame_release(conn->queue[(conn->head + i) % conn->capacity]);
    }

    conn->head = 0;
    conn->count = 0;
}


/*
 * The hello tells where the stream stands: the ticket says where it stood
 * when issued, unless an event seen here since is newer.  Within one epoch
 * org_seq orders them; across epochs (the store's history was reset) the
 * later one wins.
 */
static void
ws_fanout_hello_state(const ws_org_t *org,
    const inbox_ticket_claims_t *claims, inbox_realtime_state_t *state)
{
    int     same_epoch, newer;
    time_t  issued;

    *state = claims->state;

    if (!org->has_state) {
        return;
    }

    same_epoch = strcmp(org->epoch, claims->state.epoch) == 0;
    issued = (time_t) (claims->expires - INBOX_TICKET_TTL);

    newer = same_epoch ? org->org_seq > claims->state.org_seq
                       : org->updated > issued;
    if (!newer) {
        return;
    }

    state->org_seq = org->org_seq;
    memcpy(state->epoch, org->epoch, sizeof(state->epoch));

    if (org->has_unread
        && (!same_epoch || org->unread_seq > claims->state.org_seq))
    {
        state->unread_total = org->unread_total;
    }
}


static void
ws_fanout_note(ws_org_t *org, int64_t org_seq, const ws_event_info_t *info)
{
    int  new_epoch;

    new_epoch = info->epoch[0] != '\0'
                && strcmp(info->epoch, org->epoch) != 0;

    if (new_epoch) {
        memcpy(org->epoch, info->epoch, sizeof(org->epoch));
        org->has_unread = 0;

    } else if (org->has_state && org_seq <= org->org_seq) {
        /* a late datagram: forwarded, but it changes nothing here */
        return;
    }

    org->has_state = 1;
    org->org_seq = org_seq;
    org->updated = time(NULL);

    if (info->has_count && strcmp(info->type, "unread.total") == 0) {
        org->has_unread = 1;
        org->unread_seq = org_seq;
        org->unread_total = info->count;
    }
}


/* The organization if it is known here, else NULL. */
static ws_org_t *
ws_fanout_org_known(ws_fanout_t *fanout, const char *org_id)
{
    void      *found;
    ws_org_t   key;

    lws_strncpy(key.id, org_id, sizeof(key.id));

    found = tfind(&key, &fanout->orgs, ws_fanout_org_compare);

    return found != NULL ? *(ws_org_t **) found : NULL;
}


/* Finds or adds the organization; NULL when out of memory. */
static ws_org_t *
ws_fanout_org(ws_fanout_t *fanout, const char *org_id)
{
    ws_org_t  *org;

    org = ws_fanout_org_known(fanout, org_id);
    if (org != NULL) {
        return org;
    }

    org = calloc(1, sizeof(ws_org_t));
    if (org == NULL) {
        return NULL;
    }

    lws_strncpy(org->id, org_id, sizeof(org->id));

    if (tsearch(org, &fanout->orgs, ws_fanout_org_compare) == NULL) {
        free(org);
        return NULL;
    }

    return org;
}


static int
ws_fanout_org_compare(const void *a, const void *b)
{
    return strcmp(((const ws_org_t *) a)->id, ((const ws_org_t *) b)->id);
}
