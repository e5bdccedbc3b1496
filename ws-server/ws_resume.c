/*
 * A connection's way into its organization's stream (ws_stream.c): after
 * its hello it is held until it asks to resume or the hold ends; then it
 * gets what it lacks from the ring of recent frames or the store, and
 * only then live events; a reset when that cannot be.  Its messages
 * (resume, presence) are read here.  See ws_resume.h.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yajl/yajl_tree.h>
#include "ws_resume.h"
#include "ws_stream_org.h"

#define WS_RESUME_MSG_MAX      1024   /* a client message, at most */

static int ws_resume_newer_epoch(ws_org_stream_t *org, ws_conn_t *conn,
    const char *epoch);
static time_t ws_resume_issued(ws_conn_t *conn);
static void ws_resume_held_fired(lws_sorted_usec_list_t *sul);
static void ws_resume_unhold(ws_stream_t *stream, ws_stream_conn_t *sc);
static int ws_resume_piece(ws_stream_conn_t *sc, const void *in,
    size_t len);
static void ws_resume_pieces_free(ws_stream_conn_t *sc);
static void ws_resume_asked(ws_stream_t *stream, ws_conn_t *conn,
    yajl_val root);
static void ws_resume_catch_up(ws_stream_t *stream, ws_conn_t *conn);
static void ws_resume_replay_drop(ws_stream_conn_t *sc);
static void ws_resume_reset(ws_conn_t *conn, ws_org_stream_t *org);
static void ws_resume_join(ws_conn_t *conn);


int
ws_resume_opened(ws_stream_t *stream, ws_conn_t *conn, int64_t hello_seq,
    const char *epoch)
{
    ws_org_stream_t   *org;
    ws_stream_conn_t  *sc;

    sc = ws_fanout_stream_conn(conn);

    org = ws_stream_org(stream, ws_fanout_claims(conn)->org_id);
    if (org == NULL) {
        return -1;
    }

    sc->conn = conn;
    sc->org = org;

    if (org->nconns++ == 0) {
        ws_stream_watched(org);
    }

    if (!org->has_last) {
        org->has_last = 1;
        org->last = hello_seq;
        org->seen = hello_seq;
        /* nothing came here yet: the hello is its ticket's, as old */
        org->looked = ws_resume_issued(conn);
        lws_strncpy(org->epoch, epoch, sizeof(org->epoch));
        /* this ticket's own position: whatever it missed up to the
         * store's, endings included, the stream brings in order */
        ws_access_watch(&org->access, org->epoch, hello_seq);

    } else if (ws_resume_newer_epoch(org, conn, epoch)) {
        /* its hello and its resume in it get no reset; the others are
         * reset into it */
        ws_stream_new_epoch(org, epoch, hello_seq);
        ws_stream_check_now(org);

    } else if (strcmp(org->epoch, epoch) == 0 && hello_seq > org->seen) {
        /* the store is ahead of what came here: fetch what was missed */
        org->seen = hello_seq;
        ws_stream_check_gap(org);
    }

    /* a hello of another epoch (an older ticket) says nothing of this
     * one's positions */
    sc->hello_seq = strcmp(org->epoch, epoch) == 0 ? hello_seq : 0;

    /* live events once it resumed or the hold is over */
    sc->held_until = ws_stream_now_ms() + WS_RESUME_HOLD_MS;
    lws_dll2_add_tail(&sc->held, &stream->held);

    if (stream->held.count == 1 && stream->context != NULL) {
        lws_sul_schedule(stream->context, 0, &stream->hold_sul,
                         ws_resume_held_fired,
                         WS_RESUME_HOLD_MS * LWS_US_PER_MS);
    }

    /* a ticket issued before its user's access ended opens nothing */
    (void) ws_access_check(&org->access, conn, ws_stream_now_ms());

    return 0;
}


/*
 * A hello of another epoch than the stream's came from its ticket (the
 * stream's own hellos are in its epoch): either the store was made again
 * (inboxctl events new-epoch) and no event nor look told ws-server yet,
 * or the ticket is older than what ws-server learned.  The ticket is the
 * newer when it was issued since ws-server last learned the store's
 * epoch.  Both times are whole seconds: a tie goes to the ticket, whose
 * store read more often than not followed a look in the same second (a
 * look every WS_STREAM_CHECK_MS), and the store is asked at once to
 * confirm; the epoch ws-server left is never taken back from a ticket,
 * which could only be older.
 */
static int
ws_resume_newer_epoch(ws_org_stream_t *org, ws_conn_t *conn,
    const char *epoch)
{
    if (epoch[0] == '\0' || strcmp(org->epoch, epoch) == 0
        || strcmp(org->left_epoch, epoch) == 0)
    {
        return 0;
    }

    return ws_resume_issued(conn) >= org->looked;
}


/* When the connection's ticket was issued (it carries its expiry). */
static time_t
ws_resume_issued(ws_conn_t *conn)
{
    return (time_t) (ws_fanout_claims(conn)->expires - INBOX_TICKET_TTL);
}


static void
ws_resume_held_fired(lws_sorted_usec_list_t *sul)
{
    int64_t            now;
    ws_conn_t         *conn;
    ws_stream_t       *stream;
    ws_stream_conn_t  *sc;

    stream = lws_container_of(sul, ws_stream_t, hold_sul);
    now = ws_stream_now_ms();

    while (stream->held.count > 0) {
        sc = lws_container_of(lws_dll2_get_head(&stream->held),
                              ws_stream_conn_t, held);

        if (sc->held_until > now) {
            lws_sul_schedule(stream->context, 0, &stream->hold_sul,
                             ws_resume_held_fired,
                             (sc->held_until - now) * LWS_US_PER_MS);
            return;
        }

        lws_dll2_remove(&sc->held);
        conn = sc->conn;
        ws_resume_catch_up(stream, conn);
    }
}


static void
ws_resume_unhold(ws_stream_t *stream, ws_stream_conn_t *sc)
{
    if (!lws_dll2_is_detached(&sc->held)) {
        lws_dll2_remove(&sc->held);
    }

    if (stream->held.count == 0) {
        lws_sul_cancel(&stream->hold_sul);
    }
}


void
ws_resume_closed(ws_stream_t *stream, ws_conn_t *conn)
{
    ws_org_stream_t   *org;
    ws_stream_conn_t  *sc;

    sc = ws_fanout_stream_conn(conn);
    org = sc->org;

    ws_resume_unhold(stream, sc);

    free(sc->pieces);
    sc->pieces = NULL;

    ws_resume_replay_drop(sc);

    if (org != NULL) {
        ws_presence_gone(&org->presence, conn);
        if (--org->nconns == 0) {
            ws_stream_unwatched(org);
        }
        sc->org = NULL;
    }
}


void
ws_resume_receive(ws_stream_t *stream, ws_conn_t *conn, struct lws *wsi,
    const void *in, size_t len)
{
    char              text[WS_RESUME_MSG_MAX + 1];
    yajl_val          root;
    const char       *type;
    ws_org_stream_t  *org;
    ws_stream_conn_t  *sc;
    static const char *type_path[] = { "type", NULL };

    sc = ws_fanout_stream_conn(conn);
    org = sc->org;

    if (org == NULL) {
        return;
    }

    if (lws_is_first_fragment(wsi)) {
        free(sc->pieces);
        sc->pieces = NULL;
        sc->npieces = 0;
        sc->too_long = 0;
    }

    /* lws hands a message over as each read brings it: one that came in
     * pieces (it straddled two reads, or was sent in fragments) is put
     * together, up to WS_RESUME_MSG_MAX */
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) > 0
        || sc->pieces != NULL || sc->too_long)
    {
        if (ws_resume_piece(sc, in, len) != 0) {
            sc->too_long = 1;
        }

        if (!lws_is_final_fragment(wsi)
            || lws_remaining_packet_payload(wsi) > 0)
        {
            return;
        }

        in = sc->pieces;
        len = sc->too_long ? WS_RESUME_MSG_MAX + 1 : sc->npieces;
    }

    /* a small text message, or nothing */
    if (lws_frame_is_binary(wsi) || len == 0 || len > WS_RESUME_MSG_MAX) {
        ws_presence_refused(&org->presence, conn);
        ws_resume_pieces_free(sc);
        return;
    }

    memcpy(text, in, len);
    text[len] = '\0';
    ws_resume_pieces_free(sc);

    root = yajl_tree_parse(text, NULL, 0);
    type = root ? YAJL_GET_STRING(yajl_tree_get(root, type_path,
                                                 yajl_t_string))
                : NULL;

    if (type != NULL && strcmp(type, "resume") == 0) {
        ws_resume_asked(stream, conn, root);

    } else if (type != NULL && strcmp(type, "presence") == 0) {
        ws_presence_message(&org->presence, conn, root);

    } else {
        ws_presence_refused(&org->presence, conn);
    }

    yajl_tree_free(root);
}


/* Adds a piece of a message; -1 once it is longer than any we take. */
static int
ws_resume_piece(ws_stream_conn_t *sc, const void *in, size_t len)
{
    if (sc->too_long || sc->npieces + len > WS_RESUME_MSG_MAX) {
        ws_resume_pieces_free(sc);
        return -1;
    }

    if (sc->pieces == NULL) {
        sc->pieces = malloc(WS_RESUME_MSG_MAX);
        if (sc->pieces == NULL) {
            return -1;
        }
    }

    memcpy(sc->pieces + sc->npieces, in, len);
    sc->npieces += len;

    return 0;
}


static void
ws_resume_pieces_free(ws_stream_conn_t *sc)
{
    free(sc->pieces);
    sc->pieces = NULL;
    sc->npieces = 0;
}


/*
 * {"type":"resume","epoch","org_seq"}: the events after org_seq, then
 * live ones.  Once events went to the connection (its hold ended first,
 * WS_RESUME_HOLD_MS), only a position at or past what it got can be
 * honoured; anything else is a reset.
 */
static void
ws_resume_asked(ws_stream_t *stream, ws_conn_t *conn, yajl_val root)
{
    int64_t            seq;
    yajl_val           pos;
    const char        *epoch;
    ws_org_stream_t   *org;
    ws_stream_conn_t  *sc;
    static const char *epoch_path[] = { "epoch", NULL };
    static const char *seq_path[] = { "org_seq", NULL };

    sc = ws_fanout_stream_conn(conn);
    org = sc->org;

    if (sc->resumed) {
        /* once: another is ignored, and counted as any message refused */
        ws_presence_refused(&org->presence, conn);
        return;
    }

    sc->resumed = 1;

    epoch = YAJL_GET_STRING(yajl_tree_get(root, epoch_path, yajl_t_string));
    pos = yajl_tree_get(root, seq_path, yajl_t_number);

    ws_resume_unhold(stream, sc);

    if (epoch == NULL || pos == NULL || !YAJL_IS_INTEGER(pos)
        || YAJL_GET_INTEGER(pos) < 0
        || strcmp(epoch, org->epoch) != 0)
    {
        ws_resume_replay_drop(sc);
        ws_resume_reset(conn, org);
        return;
    }

    seq = YAJL_GET_INTEGER(pos);

    /*
     * Past what its hello said (the store's position when its ticket was
     * issued, or newer): what the client saw was committed before, so the
     * store went back since, and the events numbered anew are not the
     * ones it has.
     */
    if (seq > ws_fanout_position(conn)) {
        lwsl_warn("ws-server: org %s: a resume from org_seq %lld, past "
                  "the store's %lld: reset\n", org->id, (long long) seq,
                  (long long) ws_fanout_position(conn));
        ws_resume_replay_drop(sc);
        ws_resume_reset(conn, org);
        return;
    }

    /*
     * Late, after its hold ended and events were sent: from where it is,
     * it has them all, and a catch-up from the store under way goes on
     * (dropped, it would leave the connection neither replaying nor
     * joined: open, and silent for good).
     */
    if (ws_fanout_sent_events(conn)) {
        if (seq < ws_fanout_position(conn)) {
            ws_resume_replay_drop(sc);
            ws_resume_reset(conn, org);
        }
        return;
    }

    ws_resume_replay_drop(sc);
    ws_fanout_leave(conn);
    ws_fanout_set_position(conn, seq);
    ws_resume_catch_up(stream, conn);
}


/*
 * Sends the connection what it lacks up to the stream's last, from the
 * ring, else from the store (it stays out of the live events meanwhile),
 * then joins it to the live events.
 */
static void
ws_resume_catch_up(ws_stream_t *stream, ws_conn_t *conn)
{
    size_t             i, limit;
    int64_t            pos, first;
    ws_item_t         *it;
    ws_org_stream_t   *org;
    ws_stream_conn_t  *sc;
    ws_store_req_t    *req;

    sc = ws_fanout_stream_conn(conn);
    org = sc->org;
    pos = ws_fanout_position(conn);

    if (pos >= org->last) {
        ws_resume_join(conn);
        return;
    }

    /* more than its queue holds: it would be closed as a slow consumer */
    limit = ws_fanout_max_queue(stream->fanout) / 2;

    if (org->last - pos > (int64_t) limit) {
        ws_resume_reset(conn, org);
        return;
    }

    first = org->ring_count ? org->ring[org->ring_head].seq : org->last + 1;

    if (first <= pos + 1) {
        for (i = 0; i < org->ring_count; i++) {
            it = &org->ring[(org->ring_head + i) % WS_STREAM_RING_FRAMES];
            if (it->seq > pos
                && ws_fanout_send(conn, it->seq, it->frame, it->len) < 0)
            {
                return;                 /* closing */
            }
        }

        ws_resume_join(conn);
        return;
    }

    /* nowhere to read them from */
    if (stream->store == NULL) {
        ws_resume_reset(conn, org);
        return;
    }

    req = ws_store_req_new(WS_STORE_RESUME, conn);
    if (req == NULL) {
        ws_resume_reset(conn, org);
        return;
    }

    memcpy(req->org_id, org->id, sizeof(req->org_id));
    memcpy(req->epoch, org->epoch, sizeof(req->epoch));
    req->after = pos;
    req->until = first - 1;
    req->limit = (size_t) (req->until - pos);
    if (req->limit > WS_STREAM_QUERY_MAX) {
        req->limit = WS_STREAM_QUERY_MAX;
    }

    sc->replay = req;
    lws_dll2_add_tail(&sc->replaying, &org->replaying);
    ws_store_ask(stream->store, req);
}


/* The replay in flight, if any, is answered to nobody, and not read at
 * all if the store thread has yet to come to it. */
static void
ws_resume_replay_drop(ws_stream_conn_t *sc)
{
    if (sc->replay == NULL) {
        return;
    }

    ws_store_drop(sc->org->stream->store, sc->replay);
    sc->replay = NULL;
    lws_dll2_remove(&sc->replaying);
}


void
ws_resume_replay_restarted(ws_conn_t *conn)
{
    ws_stream_conn_t  *sc;

    sc = ws_fanout_stream_conn(conn);
    ws_resume_replay_drop(sc);

    /* as the held ones (ws_stream_new_epoch): a resume it may still send
     * is of the history left */
    sc->resumed = 1;
    ws_resume_join(conn);
}


void
ws_resume_replayed(ws_stream_t *stream, ws_store_req_t *req)
{
    size_t             i;
    ws_conn_t         *conn;
    inbox_event_t     *e;
    ws_org_stream_t   *org;
    ws_stream_conn_t  *sc;

    conn = req->owner;
    if (conn == NULL) {
        return;                         /* closed, or resumed again */
    }

    sc = ws_fanout_stream_conn(conn);
    ws_resume_replay_drop(sc);
    org = sc->org;

    if (req->status != INBOX_OK || req->events.count == 0) {
        if (req->status != INBOX_OK && req->status != INBOX_ERR_CONFLICT) {
            lwsl_warn("ws-server: org %s: a resume from the store: %s\n",
                      org->id, req->err.message);
        }
        ws_resume_reset(conn, org);
        return;
    }

    for (i = 0; i < req->events.count; i++) {
        e = &req->events.items[i];

        /* never a hole: the store answers in order, without one */
        if (e->org_seq > ws_fanout_position(conn) + 1) {
            ws_resume_reset(conn, org);
            return;
        }

        if (ws_fanout_send(conn, e->org_seq, e->json, e->len) < 0) {
            return;
        }
    }

    ws_resume_catch_up(stream, conn);
}


/* Live events from now on, and who is there. */
static void
ws_resume_join(ws_conn_t *conn)
{
    ws_stream_conn_t  *sc;

    if (ws_fanout_joined(conn)) {
        return;
    }

    /* held while its user's access ended: out, not in */
    sc = ws_fanout_stream_conn(conn);
    if (ws_access_check(&sc->org->access, conn, ws_stream_now_ms())) {
        return;
    }

    ws_fanout_join(conn);
    ws_presence_greet(&sc->org->presence, conn);
}


/*
 * {"type":"reset"}: the client reloads; live events go on from here.
 * Never below its hello's position: while ws-server catches up from the
 * store, its last is below it, and the reload (at the store's position
 * or past it) would be followed by the events between it and the hello
 * a second time.
 */
static void
ws_resume_reset(ws_conn_t *conn, ws_org_stream_t *org)
{
    char              *frame;
    size_t             len;
    int64_t            seq;
    ws_stream_conn_t  *sc;

    sc = ws_fanout_stream_conn(conn);

    seq = org->last > sc->hello_seq ? org->last : sc->hello_seq;
    if (ws_fanout_position(conn) > seq && ws_fanout_sent_events(conn)) {
        seq = ws_fanout_position(conn);
    }

    frame = ws_stream_reset_frame(seq, org->epoch, &len);
    if (frame != NULL) {
        (void) ws_fanout_send(conn, 0, frame, len);
        free(frame);
    }

    ws_fanout_set_position(conn, seq);
    ws_resume_join(conn);
}
