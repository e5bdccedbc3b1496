/*
 * Access that ended (ws_access.h): the sockets of the user, token or
 * session the event names closed on it, and tickets issued before it
 * refused while they may live.
 */
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>
#include <inbox/clock.h>
#include <inbox/event.h>
#include "ws_access.h"


typedef struct {
    ws_access_kind_t   kind;
    const char        *id;
} ws_access_target_t;


static int ws_access_named(const char *frame, size_t len, const char *key,
    char id[INBOX_ID_MAX]);
static int ws_access_is(const inbox_ticket_claims_t *claims,
    ws_access_kind_t kind, const char *id);
static void ws_access_close_each(ws_conn_t *conn, void *arg);
static void ws_access_close_before(ws_conn_t *conn, void *arg);
static void ws_access_forget(ws_access_org_t *access, int64_t now_ms);
static int ws_access_remember(ws_access_org_t *access,
    ws_access_kind_t kind, const char *id, int64_t org_seq,
    const char *epoch, int64_t now_ms);


void
ws_access_event(ws_access_org_t *access, ws_fanout_t *fanout,
    const char *org_id, int64_t org_seq, const char *epoch,
    const char *type, const char *frame, size_t len, int64_t now_ms)
{
    char                id[INBOX_ID_MAX];
    const char         *key;
    ws_access_target_t  target;

    key = inbox_event_ends_access(type);
    if (key == NULL) {
        return;
    }

    if (ws_access_named(frame, len, key, id) != 0) {
        lwsl_err("ws-server: org %s org_seq %lld: %s has no %s\n",
                 org_id, (long long) org_seq, type, key);
        return;
    }

    target.kind = strcmp(key, "token_id") == 0 ? WS_ACCESS_TOKEN
                  : strcmp(key, "session_id") == 0 ? WS_ACCESS_SESSION
                  : WS_ACCESS_USER;
    target.id = id;
    ws_fanout_foreach(fanout, org_id, ws_access_close_each, &target);

    if (ws_access_remember(access, target.kind, id, org_seq, epoch, now_ms)
        != 0)
    {
        lwsl_err("ws-server: out of memory: a ticket of %s %s issued "
                 "before org_seq %lld of org %s may still open a "
                 "socket\n", key, id, (long long) org_seq, org_id);
    }

    lwsl_notice("ws-server: org %s: %s %s, its sockets closed\n", org_id,
                type, id);
}


void
ws_access_watch(ws_access_org_t *access, const char *epoch, int64_t since)
{
    lws_strncpy(access->epoch, epoch, sizeof(access->epoch));
    access->since = since;
}


int
ws_access_check(ws_access_org_t *access, ws_conn_t *conn, int64_t now_ms)
{
    size_t                        i;
    const ws_access_ended_t      *e;
    const inbox_ticket_claims_t  *claims;

    ws_access_forget(access, now_ms);

    claims = ws_fanout_claims(conn);

    /* its session or token ended since the ticket was issued */
    if (inbox_ticket_lapsed(claims, inbox_now_ms())) {
        ws_fanout_kick(conn, WS_ACCESS_CLOSE_ENDED, "signed out");
        return 1;
    }

    /* issued before the stream was watched here: whether an ending came
     * in between is not known, and a new ticket is past it */
    if (strcmp(claims->state.epoch, access->epoch) == 0
        && claims->state.org_seq < access->since)
    {
        ws_fanout_kick(conn, WS_ACCESS_CLOSE_ENDED, "ticket too old");
        return 1;
    }

    for (i = 0; i < access->count; i++) {
        e = &access->items[i];

        /* a ticket of another stream (a store made again) says nothing
         * of this one's positions: its ending is the store's business */
        if (ws_access_is(claims, e->kind, e->id)
            && strcmp(e->epoch, claims->state.epoch) == 0
            && claims->state.org_seq < e->org_seq)
        {
            ws_fanout_kick(conn, WS_ACCESS_CLOSE_ENDED, "signed out");
            return 1;
        }
    }

    return 0;
}


void
ws_access_skipped(ws_access_org_t *access, ws_fanout_t *fanout,
    const char *org_id, const char *epoch, int64_t to)
{
    ws_access_watch(access, epoch, to);
    ws_fanout_foreach(fanout, org_id, ws_access_close_before, &to);
}


static void
ws_access_close_before(ws_conn_t *conn, void *arg)
{
    const int64_t  *to = arg;

    if (ws_fanout_position(conn) < *to) {
        ws_fanout_kick(conn, WS_ACCESS_CLOSE_ENDED, "ticket too old");
    }
}


void
ws_access_clear(ws_access_org_t *access)
{
    free(access->items);
    memset(access, 0, sizeof(ws_access_org_t));
}


/* The frame's key, an id (off the hot path: these events are rare). */
static int
ws_access_named(const char *frame, size_t len, const char *key,
    char out[INBOX_ID_MAX])
{
    int          rc;
    char        *text;
    yajl_val     root, v;
    const char  *id;
    const char  *path[] = { key, NULL };

    text = malloc(len + 1);
    if (text == NULL) {
        return -1;
    }

    memcpy(text, frame, len);
    text[len] = '\0';

    root = yajl_tree_parse(text, NULL, 0);
    free(text);

    v = yajl_tree_get(root, path, yajl_t_string);
    id = v != NULL ? YAJL_GET_STRING(v) : NULL;
    rc = -1;

    if (id != NULL && id[0] != '\0' && strlen(id) < INBOX_ID_MAX) {
        strcpy(out, id);
        rc = 0;
    }

    yajl_tree_free(root);

    return rc;
}


/* Whether the ticket is the named user's, or was issued to the token or
 * the session (id is never "", which a ticket of the other kind has). */
static int
ws_access_is(const inbox_ticket_claims_t *claims, ws_access_kind_t kind,
    const char *id)
{
    const char  *own;

    switch (kind) {

    case WS_ACCESS_TOKEN:
        own = claims->token_id;
        break;

    case WS_ACCESS_SESSION:
        own = claims->session_id;
        break;

    default:
        own = claims->user_id;
        break;
    }

    return strcmp(own, id) == 0;
}


static void
ws_access_close_each(ws_conn_t *conn, void *arg)
{
    ws_access_target_t  *target = arg;

    if (ws_access_is(ws_fanout_claims(conn), target->kind, target->id)) {
        ws_fanout_kick(conn, WS_ACCESS_CLOSE_ENDED, "signed out");
    }
}


/* Drops the endings no ticket issued before them can outlive. */
static void
ws_access_forget(ws_access_org_t *access, int64_t now_ms)
{
    size_t  i, kept;

    kept = 0;

    for (i = 0; i < access->count; i++) {
        if (access->items[i].until_ms > now_ms) {
            access->items[kept++] = access->items[i];
        }
    }

    access->count = kept;
}


static int
ws_access_remember(ws_access_org_t *access, ws_access_kind_t kind,
    const char *id, int64_t org_seq, const char *epoch, int64_t now_ms)
{
    size_t              capacity;
    ws_access_ended_t  *e, *items;

    ws_access_forget(access, now_ms);

    if (access->count == access->capacity) {
        capacity = access->capacity ? access->capacity * 2 : 4;
        items = realloc(access->items, capacity * sizeof(ws_access_ended_t));
        if (items == NULL) {
            return -1;
        }

        access->items = items;
        access->capacity = capacity;
    }

    e = &access->items[access->count++];
    e->kind = kind;
    lws_strncpy(e->id, id, sizeof(e->id));
    lws_strncpy(e->epoch, epoch, sizeof(e->epoch));
    e->org_seq = org_seq;
    e->until_ms = now_ms + WS_ACCESS_KEEP_MS;

    return 0;
}
