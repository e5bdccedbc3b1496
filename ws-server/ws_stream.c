/*
 * Each organization's event stream in org_seq order: the reorder window,
 * gap fills from the store, the ring of recent frames, a new epoch.  A
 * connection's way into it (resume, replay, reset) is ws_resume.c's.
 * See ws_stream.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <inbox/render.h>
#include "ws_resume.h"
#include "ws_stream_org.h"

/*
 * A gap the store could not fill is asked for again a little later, for
 * at most GIVE_UP_MS from the first failure, then reset: counted in time,
 * not in tries, since a store that does not answer takes its own timeout
 * (5 s) a try, and behind the other organizations' asks at that.
 */
#define WS_STREAM_RETRY_MS     200
#define WS_STREAM_GIVE_UP_MS   5000

typedef struct {
    int64_t      seq;
    const char  *epoch;
} ws_reset_arg_t;


static int ws_stream_org_compare(const void *a, const void *b);
static void ws_stream_deliver(ws_org_stream_t *org, int64_t seq,
    const char *type, int64_t unread, const char *frame, size_t len);
static void ws_stream_drain(ws_org_stream_t *org);
static int ws_stream_hold(ws_org_stream_t *org,
    const inbox_event_record_t *rec);
static void ws_stream_timer(ws_org_stream_t *org, int64_t ms);
static void ws_stream_timer_fired(lws_sorted_usec_list_t *sul);
static void ws_stream_fill(ws_org_stream_t *org);
static void ws_stream_filled(ws_stream_t *stream, ws_store_req_t *req);
static void ws_stream_fill_failed(ws_org_stream_t *org);
static void ws_stream_skip(ws_org_stream_t *org, int64_t to);
static void ws_stream_went_back(ws_org_stream_t *org, int64_t seq);
static void ws_stream_restart(ws_org_stream_t *org, int64_t seq);
static void ws_stream_restart_each(ws_conn_t *conn, void *arg);
static void ws_stream_ring_push(ws_org_stream_t *org, int64_t seq,
    const char *type, int64_t unread, const char *frame, size_t len);
static void ws_stream_ring_clear(ws_org_stream_t *org);
static void ws_stream_pending_clear(ws_org_stream_t *org);
static void ws_stream_ring_free(ws_org_stream_t *org);
static void ws_stream_forget_idle(ws_stream_t *stream, int64_t now);
static void ws_stream_check_fired(lws_sorted_usec_list_t *sul);
static ws_store_req_t *ws_stream_position_add(ws_store_req_t *req,
    size_t live, ws_org_stream_t *org);
static ws_store_req_t *ws_stream_positions_req(size_t live);
static void ws_stream_checked(ws_store_req_t *req);
static void ws_stream_org_stop(const void *node, VISIT which,
    void *closure);


ws_stream_t *
ws_stream_create(ws_fanout_t *fanout, const char *store_uri,
    unsigned keep_secs)
{
    ws_stream_t  *stream;

    stream = calloc(1, sizeof(ws_stream_t));
    if (stream == NULL) {
        fprintf(stderr, "ws-server: out of memory\n");
        return NULL;
    }

    stream->fanout = fanout;
    stream->keep_ms = (int64_t) keep_secs * 1000;

    if (store_uri != NULL) {
        stream->store = ws_store_open(store_uri);
        if (stream->store == NULL) {
            free(stream);
            return NULL;
        }
    }

    ws_fanout_set_stream(fanout, stream);

    return stream;
}


int
ws_stream_start(ws_stream_t *stream, struct lws_context *context)
{
    stream->context = context;

    if (stream->store == NULL) {
        lwsl_warn("ws-server: no --store: a gap in an organization's "
                  "events, or a resume older than the last %d, gets a "
                  "reset\n", WS_STREAM_RING_FRAMES);
        return 0;
    }

    lws_sul_schedule(context, 0, &stream->check_sul, ws_stream_check_fired,
                     WS_STREAM_CHECK_MS * LWS_US_PER_MS);

    return ws_store_start(stream->store, context);
}


/*
 * Asks where the streams with connections stand (see ws_stream.h), in
 * requests of INBOX_STREAM_POSITIONS_MAX organizations: one store query
 * each, not one per organization.
 */
static void
ws_stream_check_fired(lws_sorted_usec_list_t *sul)
{
    ws_stream_t      *stream;
    ws_store_req_t   *req;
    ws_org_stream_t  *org;

    stream = lws_container_of(sul, ws_stream_t, check_sul);
    req = NULL;

    ws_stream_forget_idle(stream, ws_stream_now_ms());

    lws_start_foreach_dll(struct lws_dll2 *, d,
                          lws_dll2_get_head(&stream->live)) {
        org = lws_container_of(d, ws_org_stream_t, live);

        if (org->checking == NULL && org->filling == NULL) {
            req = ws_stream_position_add(req, stream->live.count, org);
            if (req == NULL) {
                break;
            }

            if (req->npositions == INBOX_STREAM_POSITIONS_MAX) {
                ws_store_ask(stream->store, req);
                req = NULL;
            }
        }
    } lws_end_foreach_dll(d);

    if (req != NULL) {
        ws_store_ask(stream->store, req);
    }

    lws_sul_schedule(stream->context, 0, &stream->check_sul,
                     ws_stream_check_fired,
                     WS_STREAM_CHECK_MS * LWS_US_PER_MS);
}


void
ws_stream_watched(ws_org_stream_t *org)
{
    ws_stream_t  *stream;

    stream = org->stream;

    lws_dll2_add_tail(&org->live, &stream->live);

    if (!lws_dll2_is_detached(&org->idle)) {
        lws_dll2_remove(&org->idle);
    }
}


void
ws_stream_unwatched(ws_org_stream_t *org)
{
    ws_stream_t  *stream;

    stream = org->stream;

    lws_dll2_remove(&org->live);

    /* without a store the ring is all a resume has: kept for good */
    if (stream->store != NULL) {
        org->left_ms = ws_stream_now_ms();
        lws_dll2_add_tail(&org->idle, &stream->idle);
    }
}


/*
 * Gives back what organizations nobody has watched for keep_ms hold: the
 * ring (their next resume reads the store) and an empty array of early
 * events.  The rest of an organization stays: its position and the
 * endings its tickets are checked against.
 */
static void
ws_stream_forget_idle(ws_stream_t *stream, int64_t now)
{
    ws_org_stream_t  *org;

    while (stream->idle.count > 0) {
        org = lws_container_of(lws_dll2_get_head(&stream->idle),
                               ws_org_stream_t, idle);

        if (now - org->left_ms < stream->keep_ms) {
            return;
        }

        lws_dll2_remove(&org->idle);
        ws_stream_ring_free(org);

        if (org->npending == 0) {
            free(org->pending);
            org->pending = NULL;
            org->pending_cap = 0;
        }

        lwsl_notice("ws-server: org %s: nobody for %lld s, its recent "
                  "frames given back\n", org->id,
                  (long long) (stream->keep_ms / 1000));
    }
}


/*
 * An event at or below what was delivered, in the same epoch: mostly a
 * datagram later than the store's copy of it, but also the first that a
 * store gone back numbers anew.  Its position is asked at once, not at
 * the next look, so that the store is caught before it numbers past what
 * went out here (ws_stream_checked).  A new epoch taken from a ticket
 * (ws_resume_opened) is asked at once too: the store confirms it.
 */
void
ws_stream_check_now(ws_org_stream_t *org)
{
    ws_store_req_t  *req;

    if (org->stream->store == NULL || org->checking != NULL
        || org->filling != NULL)
    {
        return;
    }

    req = ws_stream_position_add(NULL, 1, org);
    if (req != NULL) {
        ws_store_ask(org->stream->store, req);
    }
}


/* Adds org to req (made for up to live organizations when NULL): the
 * request, NULL when out of memory. */
static ws_store_req_t *
ws_stream_position_add(ws_store_req_t *req, size_t live,
    ws_org_stream_t *org)
{
    ws_store_position_t  *p;

    if (req == NULL) {
        req = ws_stream_positions_req(live);
        if (req == NULL) {
            return NULL;
        }
    }

    p = &req->positions[req->npositions++];
    p->owner = org;
    memcpy(p->org_id, org->id, sizeof(p->org_id));
    p->after = org->seen;
    memcpy(p->epoch, org->epoch, sizeof(p->epoch));
    org->checking = req;

    return req;
}


static ws_store_req_t *
ws_stream_positions_req(size_t live)
{
    ws_store_req_t  *req;

    req = ws_store_req_new(WS_STORE_POSITIONS, NULL);
    if (req == NULL) {
        return NULL;
    }

    if (live > INBOX_STREAM_POSITIONS_MAX) {
        live = INBOX_STREAM_POSITIONS_MAX;
    }

    req->positions = calloc(live, sizeof(ws_store_position_t));
    if (req->positions == NULL) {
        ws_store_req_free(req);
        return NULL;
    }

    return req;
}


static void
ws_stream_checked(ws_store_req_t *req)
{
    size_t                i;
    ws_org_stream_t      *org;
    ws_store_position_t  *p;

    for (i = 0; i < req->npositions; i++) {
        p = &req->positions[i];
        org = p->owner;
        org->checking = NULL;

        /* events that came meanwhile show their gaps themselves, and a
         * new epoch taken meanwhile is newer than the answer */
        if (req->status != INBOX_OK || !org->has_last
            || org->seen != p->after
            || strcmp(p->epoch, org->epoch) != 0
            || p->at.epoch[0] == '\0')
        {
            continue;
        }

        org->looked = time(NULL);

        /*
         * The store was made again (inboxctl events new-epoch) and no
         * event of the new epoch came yet: without this, the browsers
         * would stay on the old one until the next event, and those that
         * connect meanwhile, told the new one by their tickets, would be
         * reset into the old one (ws_resume.c).
         */
        if (strcmp(p->at.epoch, org->epoch) != 0) {
            ws_stream_new_epoch(org, p->at.epoch, p->at.org_seq);
            continue;
        }

        if (p->at.org_seq == org->seen) {
            continue;
        }

        /* what came here was committed first: the store cannot be behind
         * it unless it went back */
        if (p->at.org_seq < org->seen) {
            ws_stream_went_back(org, p->at.org_seq);
            continue;
        }

        lwsl_info("ws-server: org %s: the store is at %lld, %lld came "
                  "here\n", org->id, (long long) p->at.org_seq,
                  (long long) org->seen);

        org->seen = p->at.org_seq;
        ws_stream_check_gap(org);
    }
}


static void
ws_stream_org_free(void *p)
{
    ws_org_stream_t  *org = p;

    ws_stream_pending_clear(org);
    free(org->pending);
    ws_stream_ring_free(org);
    ws_presence_clear(&org->presence);
    ws_access_clear(&org->access);
    free(org);
}


void
ws_stream_stop(ws_stream_t *stream)
{
    if (stream == NULL || stream->context == NULL) {
        return;
    }

    ws_store_stop(stream->store);
    lws_sul_cancel(&stream->check_sul);
    lws_sul_cancel(&stream->hold_sul);
    twalk_r(stream->orgs, ws_stream_org_stop, NULL);
    stream->context = NULL;
}


static void
ws_stream_org_stop(const void *node, VISIT which, void *closure)
{
    ws_org_stream_t  *org;

    if (which != postorder && which != leaf) {
        return;
    }

    org = *(ws_org_stream_t *const *) node;

    if (org->timer) {
        lws_sul_cancel(&org->sul);
        org->timer = 0;
    }

    ws_presence_stop(&org->presence);
}


void
ws_stream_destroy(ws_stream_t *stream)
{
    if (stream == NULL) {
        return;
    }

    /* answers in flight are freed with the thread's lists */
    ws_store_close(stream->store);
    tdestroy(stream->orgs, ws_stream_org_free);
    free(stream);
}


int64_t
ws_stream_now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/* the organization's stream */


void
ws_stream_event(ws_stream_t *stream, const inbox_event_record_t *rec)
{
    ws_org_stream_t  *org;

    org = ws_stream_org(stream, rec->org_id);
    if (org == NULL) {
        lwsl_err("ws-server: out of memory for org %s\n", rec->org_id);
        return;
    }

    /* a datagram of the history left, later than the look or the ticket
     * that told the new one: its browsers were reset past it */
    if (rec->epoch[0] != '\0' && strcmp(rec->epoch, org->left_epoch) == 0) {
        lwsl_info("ws-server: org %s org_seq %lld of the epoch left: "
                  "dropped\n", org->id, (long long) rec->org_seq);
        return;
    }

    if (rec->epoch[0] != '\0' && org->epoch[0] != '\0'
        && strcmp(rec->epoch, org->epoch) != 0)
    {
        ws_stream_new_epoch(org, rec->epoch, rec->org_seq - 1);
    }

    org->looked = time(NULL);

    if (org->epoch[0] == '\0') {
        memcpy(org->epoch, rec->epoch, sizeof(org->epoch));
    }

    /* nobody can have missed what came before the first event seen */
    if (!org->has_last) {
        org->has_last = 1;
        org->last = rec->org_seq - 1;
        org->seen = org->last;
        ws_access_watch(&org->access, org->epoch, org->last);
    }

    if (rec->org_seq <= org->last) {
        lwsl_info("ws-server: org %s org_seq %lld again: dropped\n",
                  org->id, (long long) rec->org_seq);
        ws_stream_check_now(org);
        return;
    }

    if (rec->org_seq > org->seen) {
        org->seen = rec->org_seq;
    }

    if (rec->org_seq == org->last + 1) {
        ws_stream_deliver(org, rec->org_seq, rec->type, rec->unread_total,
                          rec->frame, rec->frame_len);
        ws_stream_drain(org);

    } else if (ws_stream_hold(org, rec) != 0) {
        /* held no more: the store has it, the gap fill brings it */
        lwsl_info("ws-server: org %s: %zu events held, org_seq %lld left "
                  "to the store\n", org->id, org->npending,
                  (long long) rec->org_seq);
    }

    ws_stream_check_gap(org);
}


static void
ws_stream_deliver(ws_org_stream_t *org, int64_t seq, const char *type,
    int64_t unread, const char *frame, size_t len)
{
    ws_event_info_t  info;

    memset(&info, 0, sizeof(info));
    lws_strncpy(info.type, type, sizeof(info.type));
    memcpy(info.epoch, org->epoch, sizeof(info.epoch));
    info.has_count = unread >= 0;
    info.count = unread;

    ws_fanout_publish(org->stream->fanout, org->id, seq, frame, len, &info);
    ws_access_event(&org->access, org->stream->fanout, org->id, seq,
                    org->epoch, type, frame, len, ws_stream_now_ms());

    ws_stream_ring_push(org, seq, type, unread, frame, len);
    org->last = seq;
}


/* Delivers the held events that now follow. */
static void
ws_stream_drain(ws_org_stream_t *org)
{
    size_t      n;
    ws_item_t  *it;

    for (n = 0; n < org->npending; n++) {
        it = &org->pending[n];

        if (it->seq > org->last + 1) {
            break;
        }

        if (it->seq == org->last + 1) {
            ws_stream_deliver(org, it->seq, it->type, it->unread, it->frame,
                              it->len);
        }

        free(it->frame);
    }

    if (n > 0) {
        memmove(org->pending, org->pending + n,
                (org->npending - n) * sizeof(ws_item_t));
        org->npending -= n;
    }
}


/* Keeps an early event in order; -1 when none more may be held. */
static int
ws_stream_hold(ws_org_stream_t *org, const inbox_event_record_t *rec)
{
    size_t      lo, hi, mid, cap;
    ws_item_t  *items, *it;

    lo = 0;
    hi = org->npending;

    while (lo < hi) {
        mid = (lo + hi) / 2;
        if (org->pending[mid].seq < rec->org_seq) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }

    if (lo < org->npending && org->pending[lo].seq == rec->org_seq) {
        return 0;                                   /* a duplicate */
    }

    if (org->npending == WS_STREAM_PENDING_MAX) {
        return -1;
    }

    if (org->npending == org->pending_cap) {
        cap = org->pending_cap ? org->pending_cap * 2 : 16;
        items = realloc(org->pending, cap * sizeof(ws_item_t));
        if (items == NULL) {
            return -1;
        }
        org->pending = items;
        org->pending_cap = cap;
    }

    it = &org->pending[lo];
    memmove(it + 1, it, (org->npending - lo) * sizeof(ws_item_t));

    it->frame = malloc(rec->frame_len);
    if (it->frame == NULL) {
        memmove(it, it + 1, (org->npending - lo) * sizeof(ws_item_t));
        return -1;
    }

    memcpy(it->frame, rec->frame, rec->frame_len);
    it->len = rec->frame_len;
    it->seq = rec->org_seq;
    it->unread = rec->unread_total;
    lws_strncpy(it->type, rec->type, sizeof(it->type));
    org->npending++;

    return 0;
}


/*
 * A gap (seen beyond last) gets the window to close by itself, then the
 * store fills it; a full pending list does not wait.
 */
void
ws_stream_check_gap(ws_org_stream_t *org)
{
    if (org->last >= org->seen) {
        if (org->timer && org->filling == NULL) {
            lws_sul_cancel(&org->sul);
            org->timer = 0;
        }
        org->failing_since = 0;
        return;
    }

    if (org->filling != NULL) {
        return;
    }

    if (org->npending == WS_STREAM_PENDING_MAX) {
        ws_stream_timer(org, 0);

    } else if (!org->timer) {
        ws_stream_timer(org, WS_STREAM_WINDOW_MS);
    }
}


static void
ws_stream_timer(ws_org_stream_t *org, int64_t ms)
{
    if (org->stream->context == NULL) {
        return;                             /* stopping */
    }

    org->timer = 1;
    lws_sul_schedule(org->stream->context, 0, &org->sul,
                     ws_stream_timer_fired, ms * LWS_US_PER_MS);
}


static void
ws_stream_timer_fired(lws_sorted_usec_list_t *sul)
{
    ws_org_stream_t  *org;

    org = lws_container_of(sul, ws_org_stream_t, sul);
    org->timer = 0;

    if (org->last < org->seen && org->filling == NULL) {
        ws_stream_fill(org);
    }
}


/* Asks the store for the events missing before the first held one. */
static void
ws_stream_fill(ws_org_stream_t *org)
{
    int64_t          until;
    ws_stream_t     *stream;
    ws_store_req_t  *req;

    stream = org->stream;
    until = org->npending ? org->pending[0].seq - 1 : org->seen;

    /* nobody to give them to: the ring starts again after the gap */
    if (org->nconns == 0) {
        ws_stream_skip(org, until);
        return;
    }

    if (stream->store == NULL
        || (org->failing_since != 0
            && ws_stream_now_ms() - org->failing_since
               >= WS_STREAM_GIVE_UP_MS))
    {
        lwsl_warn("ws-server: org %s: events %lld to %lld never came%s: "
                  "reset\n", org->id, (long long) org->last + 1,
                  (long long) until,
                  stream->store ? " and the store has not them" : "");
        ws_stream_skip(org, until);
        return;
    }

    req = ws_store_req_new(WS_STORE_GAP, org);
    if (req == NULL) {
        ws_stream_fill_failed(org);
        return;
    }

    memcpy(req->org_id, org->id, sizeof(req->org_id));
    memcpy(req->epoch, org->epoch, sizeof(req->epoch));
    req->after = org->last;
    req->until = until;
    req->limit = (size_t) (until - org->last);
    if (req->limit > WS_STREAM_QUERY_MAX) {
        req->limit = WS_STREAM_QUERY_MAX;
    }

    lwsl_info("ws-server: org %s: filling %lld to %lld from the store\n",
              org->id, (long long) org->last + 1, (long long) until);

    org->filling = req;
    ws_store_ask(stream->store, req);
}


static void
ws_stream_filled(ws_stream_t *stream, ws_store_req_t *req)
{
    size_t            i;
    int64_t           before;
    inbox_event_t    *e;
    ws_org_stream_t  *org;

    org = req->owner;
    if (org == NULL) {
        return;                         /* an epoch ago */
    }

    org->filling = NULL;

    /*
     * The store was made again (a new epoch) while the fill was asked:
     * no events of this one are gone, the stream goes on in the new one.
     * Its position, asked now, says where (ws_stream_checked), and every
     * browser resets into it; skipping would close their sockets as if a
     * user's access had ended in the gap.
     */
    if (req->status == INBOX_ERR_CONFLICT
        && strcmp(req->err.field, "epoch") == 0)
    {
        lwsl_notice("ws-server: org %s: the store has a new epoch: asking "
                    "where it is\n", org->id);
        ws_stream_check_now(org);
        return;
    }

    if (req->status == INBOX_ERR_CONFLICT) {
        lwsl_warn("ws-server: org %s: events %lld to %lld are no longer "
                  "kept (%s): reset\n", org->id, (long long) req->after + 1,
                  (long long) req->until, req->err.field);
        ws_stream_skip(org, req->until);
        return;
    }

    before = org->last;

    if (req->status == INBOX_OK) {
        for (i = 0; i < req->events.count; i++) {
            e = &req->events.items[i];

            if (e->org_seq == org->last + 1) {
                ws_stream_deliver(org, e->org_seq, e->type, e->unread_total,
                                  e->json, e->len);
            } else if (e->org_seq > org->last + 1) {
                break;
            }
        }

        ws_stream_drain(org);

    } else {
        lwsl_warn("ws-server: org %s: the store: %s\n", org->id,
                  req->err.message);
    }

    if (org->last >= org->seen) {
        ws_stream_check_gap(org);
        return;
    }

    /* not stored yet, or the store failed: again a little later */
    if (org->last == before) {
        ws_stream_fill_failed(org);
        return;
    }

    org->failing_since = 0;
    ws_stream_timer(org, 0);
}


/* A fill that brought nothing: asked again a little later, the first
 * failure's time kept for the give-up. */
static void
ws_stream_fill_failed(ws_org_stream_t *org)
{
    if (org->failing_since == 0) {
        org->failing_since = ws_stream_now_ms();
    }

    ws_stream_timer(org, WS_STREAM_RETRY_MS);
}


/*
 * Gives up the events up to to, the stream goes on after it.  One of
 * them may have ended someone's access (a user removed): the connections
 * that had not got past them are closed to come back with new tickets,
 * and older tickets open nothing (ws_access_skipped).  A resume from
 * before to then gets its reset.
 */
static void
ws_stream_skip(ws_org_stream_t *org, int64_t to)
{
    if (to <= org->last) {
        return;
    }

    ws_access_skipped(&org->access, org->stream->fanout, org->id,
                      org->epoch, to);

    /* the ring keeps no hole */
    ws_stream_ring_clear(org);
    org->last = to;
    org->failing_since = 0;

    ws_stream_drain(org);
    ws_stream_check_gap(org);
}


/*
 * The store was made again: a new history after at, told by its first
 * event (at is the one before), by the store's position, or by a ticket
 * issued since (ws_resume_opened).
 */
void
ws_stream_new_epoch(ws_org_stream_t *org, const char *epoch, int64_t at)
{
    ws_reset_arg_t     arg;
    ws_stream_conn_t  *sc;

    lwsl_warn("ws-server: org %s: a new epoch %s at org_seq %lld (was "
              "%s)\n", org->id, epoch, (long long) at, org->epoch);

    memcpy(org->left_epoch, org->epoch, sizeof(org->left_epoch));
    lws_strncpy(org->epoch, epoch, sizeof(org->epoch));
    ws_stream_restart(org, at);
    arg.seq = at;
    arg.epoch = org->epoch;

    /*
     * Those waiting for their resume had the old epoch in their hello.
     * They get their reset now, as the joined ones did: one that never
     * resumes would otherwise join at its old position and miss the new
     * epoch's events up to it.  The resume they may still send is moot.
     */
    lws_start_foreach_dll(struct lws_dll2 *, d,
                          lws_dll2_get_head(&org->stream->held)) {
        sc = lws_container_of(d, ws_stream_conn_t, held);
        if (sc->org == org && !sc->resumed) {
            sc->resumed = 1;
            ws_stream_restart_each(sc->conn, &arg);
        }
    } lws_end_foreach_dll(d);

    /* nothing of the new history came before at: nobody missed it */
    org->has_last = 1;
    org->last = at;
    org->seen = at;
    org->looked = time(NULL);
    ws_access_watch(&org->access, org->epoch, at);

    /* the hellos of later connections say where the new history is */
    ws_fanout_new_epoch(org->stream->fanout, org->id, org->epoch, at);
}


/*
 * The store's numbering went back within its epoch: a backup brought
 * back without `inboxctl events new-epoch`.  The events past seq that
 * went out here are not the store's any more, and those it numbers anew
 * would be dropped here as seen and by the browsers as had: everyone
 * reloads and goes on from where the store is.
 */
static void
ws_stream_went_back(ws_org_stream_t *org, int64_t seq)
{
    ws_stream_conn_t  *sc;

    lwsl_warn("ws-server: org %s: the store went back to org_seq %lld "
              "from %lld in the same epoch (a backup restored?): its "
              "browsers reload\n", org->id, (long long) seq,
              (long long) org->seen);

    ws_stream_restart(org, seq);
    org->last = seq;
    org->seen = seq;
    ws_fanout_went_back(org->stream->fanout, org->id, seq);

    /* the stream from seq on comes here in order: the store's new
     * tickets, positioned from seq, are not older than what was watched */
    ws_access_watch(&org->access, org->epoch, seq);

    /* those waiting for their resume were told a position past seq in
     * their hello: the resume they send is then past theirs, and gets
     * its reset (ws_resume.c) */
    lws_start_foreach_dll(struct lws_dll2 *, d,
                          lws_dll2_get_head(&org->stream->held)) {
        sc = lws_container_of(d, ws_stream_conn_t, held);
        if (sc->org == org && ws_fanout_position(sc->conn) > seq) {
            ws_fanout_restart_position(sc->conn, seq);
        }
        if (sc->org == org && sc->hello_seq > seq) {
            sc->hello_seq = seq;
        }
    } lws_end_foreach_dll(d);
}


/* A new history from seq on: nothing kept of the old one, a reset at
 * seq for every live connection and every one reading its resume from
 * the store (its replay is of the old history). */
static void
ws_stream_restart(ws_org_stream_t *org, int64_t seq)
{
    ws_reset_arg_t     arg;
    ws_stream_conn_t  *sc;

    if (org->filling != NULL) {
        ws_store_drop(org->stream->store, org->filling);
        org->filling = NULL;
    }

    if (org->timer) {
        lws_sul_cancel(&org->sul);
        org->timer = 0;
    }

    ws_stream_pending_clear(org);
    ws_stream_ring_clear(org);
    org->failing_since = 0;

    arg.seq = seq;
    arg.epoch = org->epoch;
    ws_fanout_foreach(org->stream->fanout, org->id, ws_stream_restart_each,
                      &arg);

    /* not joined while they replay: the loop above missed them */
    lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1,
                               lws_dll2_get_head(&org->replaying)) {
        sc = lws_container_of(d, ws_stream_conn_t, replaying);
        ws_stream_restart_each(sc->conn, &arg);
        ws_resume_replay_restarted(sc->conn);
    } lws_end_foreach_dll_safe(d, d1);
}


static void
ws_stream_restart_each(ws_conn_t *conn, void *arg)
{
    char            *frame;
    size_t           len;
    ws_reset_arg_t  *reset = arg;

    frame = ws_stream_reset_frame(reset->seq, reset->epoch, &len);
    if (frame != NULL) {
        (void) ws_fanout_send(conn, 0, frame, len);
        free(frame);
    }

    ws_fanout_restart_position(conn, reset->seq);
    ws_fanout_stream_conn(conn)->hello_seq = reset->seq;
}


static void
ws_stream_ring_push(ws_org_stream_t *org, int64_t seq, const char *type,
    int64_t unread, const char *frame, size_t len)
{
    size_t      tail;
    ws_item_t  *it;

    /* nobody watches (ws_stream_forget_idle): no ring to keep whole */
    if (org->nconns == 0 && org->stream->store != NULL
        && lws_dll2_is_detached(&org->idle))
    {
        ws_stream_ring_free(org);
        return;
    }

    /* the oldest go first: at most so many frames and bytes */
    while (org->ring_count > 0
           && (org->ring_count == WS_STREAM_RING_FRAMES
               || org->ring_bytes + len > WS_STREAM_RING_BYTES))
    {
        it = &org->ring[org->ring_head];
        org->ring_bytes -= it->len;
        free(it->frame);
        it->frame = NULL;
        org->ring_head = (org->ring_head + 1) % WS_STREAM_RING_FRAMES;
        org->ring_count--;
    }

    if (len > WS_STREAM_RING_BYTES) {
        return;                         /* an empty ring: no hole */
    }

    if (org->ring == NULL) {
        org->ring = calloc(WS_STREAM_RING_FRAMES, sizeof(ws_item_t));
        if (org->ring == NULL) {
            return;
        }
    }

    tail = (org->ring_head + org->ring_count) % WS_STREAM_RING_FRAMES;
    it = &org->ring[tail];

    it->frame = malloc(len);
    if (it->frame == NULL) {
        ws_stream_ring_clear(org);
        return;
    }

    memcpy(it->frame, frame, len);
    it->len = len;
    it->seq = seq;
    it->unread = unread;
    lws_strncpy(it->type, type, sizeof(it->type));

    org->ring_count++;
    org->ring_bytes += len;
}


static void
ws_stream_ring_clear(ws_org_stream_t *org)
{
    size_t  i;

    for (i = 0; i < org->ring_count; i++) {
        free(org->ring[(org->ring_head + i) % WS_STREAM_RING_FRAMES].frame);
        org->ring[(org->ring_head + i) % WS_STREAM_RING_FRAMES].frame = NULL;
    }

    org->ring_head = 0;
    org->ring_count = 0;
    org->ring_bytes = 0;
}


static void
ws_stream_ring_free(ws_org_stream_t *org)
{
    if (org->ring != NULL) {
        ws_stream_ring_clear(org);
        free(org->ring);
        org->ring = NULL;
    }
}


static void
ws_stream_pending_clear(ws_org_stream_t *org)
{
    size_t  i;

    for (i = 0; i < org->npending; i++) {
        free(org->pending[i].frame);
    }

    org->npending = 0;
}


void
ws_stream_store_answers(ws_stream_t *stream)
{
    ws_store_req_t  *req, *next;

    if (stream->store == NULL) {
        return;
    }

    for (req = ws_store_answers(stream->store); req != NULL; req = next) {
        next = req->next;

        if (req->kind == WS_STORE_GAP) {
            ws_stream_filled(stream, req);
        } else if (req->kind == WS_STORE_POSITIONS) {
            ws_stream_checked(req);
        } else {
            ws_resume_replayed(stream, req);
        }

        ws_store_req_free(req);
    }
}


char *
ws_stream_reset_frame(int64_t seq, const char *epoch, size_t *len)
{
    yajl_gen  g;

    g = inbox_json_begin();
    if (g == NULL) {
        return NULL;
    }

    yajl_gen_map_open(g);
    inbox_json_key(g, "type");
    inbox_json_string(g, "reset");
    inbox_json_key(g, "org_seq");
    inbox_json_int(g, seq);
    inbox_json_key(g, "epoch");
    inbox_json_string(g, epoch);
    yajl_gen_map_close(g);

    return inbox_json_finish(g, len);
}


/* Finds or adds the organization; NULL when out of memory. */
ws_org_stream_t *
ws_stream_org(ws_stream_t *stream, const char *org_id)
{
    void             *found;
    ws_org_stream_t  *org, key;

    lws_strncpy(key.id, org_id, sizeof(key.id));

    found = tfind(&key, &stream->orgs, ws_stream_org_compare);
    if (found != NULL) {
        return *(ws_org_stream_t **) found;
    }

    org = calloc(1, sizeof(ws_org_stream_t));
    if (org == NULL) {
        return NULL;
    }

    memcpy(org->id, key.id, sizeof(org->id));
    org->stream = stream;
    ws_presence_init(&org->presence, stream->fanout, stream->context,
                     org->id);

    if (tsearch(org, &stream->orgs, ws_stream_org_compare) == NULL) {
        free(org);
        return NULL;
    }

    return org;
}


static int
ws_stream_org_compare(const void *a, const void *b)
{
    return strcmp(((const ws_org_stream_t *) a)->id,
                  ((const ws_org_stream_t *) b)->id);
}
