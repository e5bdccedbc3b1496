/*
 * Presence: per organization, the connections that view or type in a
 * thread, each with when its state lapses.  The others are shown a user's
 * state in a thread over all of that user's connections (ws_presence_best):
 * one tab going idle leaves the user viewing while another still views.
 * See ws_presence.h.
 */
#include <stdlib.h>
#include <string.h>
#include <inbox/render.h>
#include "ws_presence.h"

typedef struct {
    ws_conn_t   *except;
    const char  *frame;
    size_t       len;
} ws_presence_send_t;


static int ws_presence_take(ws_stream_conn_t *sc, int64_t now);
static int ws_presence_id_ok(const char *id);
static void ws_presence_drop(ws_presence_org_t *org, ws_conn_t *conn);
static ws_stream_conn_t *ws_presence_best(ws_presence_org_t *org,
    ws_conn_t *user, const char *conversation_id, int64_t now);
static void ws_presence_tell(ws_presence_org_t *org, ws_conn_t *about,
    const char *conversation_id, ws_conn_t *to, int64_t now);
static char *ws_presence_frame(ws_conn_t *user, const char *conversation_id,
    ws_stream_conn_t *best, int64_t now, size_t *len);
static void ws_presence_send_each(ws_conn_t *conn, void *arg);
static void ws_presence_schedule(ws_presence_org_t *org, int64_t at,
    int64_t now);
static void ws_presence_lapse(lws_sorted_usec_list_t *sul);


static const char *ws_presence_names[] = { "idle", "viewing", "typing" };


void
ws_presence_init(ws_presence_org_t *org, ws_fanout_t *fanout,
    struct lws_context *context, const char *org_id)
{
    memset(org, 0, sizeof(ws_presence_org_t));
    org->fanout = fanout;
    org->context = context;
    org->org_id = org_id;
}


void
ws_presence_stop(ws_presence_org_t *org)
{
    ws_presence_clear(org);
    org->context = NULL;
}


void
ws_presence_clear(ws_presence_org_t *org)
{
    if (org->timer_at != 0) {
        lws_sul_cancel(&org->sul);
        org->timer_at = 0;
    }
}


void
ws_presence_greet(ws_presence_org_t *org, ws_conn_t *conn)
{
    int64_t            now;
    ws_stream_conn_t  *sc;

    now = ws_stream_now_ms();

    lws_start_foreach_dll(struct lws_dll2 *, d,
                          lws_dll2_get_head(&org->present)) {
        sc = lws_container_of(d, ws_stream_conn_t, present);

        /* once for each user and thread */
        if (sc->conn != conn && sc->present_until > now
            && ws_presence_best(org, sc->conn, sc->conversation_id, now)
               == sc)
        {
            ws_presence_tell(org, sc->conn, sc->conversation_id, conn, now);
        }
    } lws_end_foreach_dll(d);
}


void
ws_presence_message(ws_presence_org_t *org, ws_conn_t *conn, yajl_val root)
{
    int64_t             now;
    const char         *id, *name;
    ws_stream_conn_t   *sc;
    char                last[INBOX_ID_MAX];
    static const char  *id_path[] = { "conversation_id", NULL };
    static const char  *state_path[] = { "state", NULL };
    int                 s;

    sc = ws_fanout_stream_conn(conn);
    now = ws_stream_now_ms();

    if (!ws_presence_take(sc, now)) {
        ws_presence_refused(org, conn);
        return;
    }

    sc->refused = 0;

    /* an organization-wide token is nobody to show */
    if (ws_fanout_claims(conn)->user_id[0] == '\0') {
        return;
    }

    id = YAJL_GET_STRING(yajl_tree_get(root, id_path, yajl_t_string));
    name = YAJL_GET_STRING(yajl_tree_get(root, state_path, yajl_t_string));

    if (id == NULL || name == NULL || !ws_presence_id_ok(id)) {
        return;
    }

    for (s = 0; s < 3; s++) {
        if (strcmp(name, ws_presence_names[s]) == 0) {
            break;
        }
    }

    if (s == 3) {
        return;
    }

    if (s == WS_PRESENCE_IDLE) {
        /* idle in another thread than the one shown changes nothing */
        if (!lws_dll2_is_detached(&sc->present)
            && strcmp(sc->conversation_id, id) == 0)
        {
            ws_presence_drop(org, conn);
        }
        return;
    }

    /* viewing another thread ends the last one: the others are told so */
    last[0] = '\0';
    if (!lws_dll2_is_detached(&sc->present)
        && strcmp(sc->conversation_id, id) != 0)
    {
        lws_strncpy(last, sc->conversation_id, sizeof(last));
    }

    lws_strncpy(sc->conversation_id, id, sizeof(sc->conversation_id));
    sc->state = s;
    sc->present_until = now + 1000 * (s == WS_PRESENCE_TYPING
                                      ? WS_PRESENCE_TYPING_SECS
                                      : WS_PRESENCE_VIEWING_SECS);

    if (lws_dll2_is_detached(&sc->present)) {
        lws_dll2_add_tail(&sc->present, &org->present);
    }

    if (last[0] != '\0') {
        ws_presence_tell(org, conn, last, NULL, now);
    }

    ws_presence_tell(org, conn, sc->conversation_id, NULL, now);
    ws_presence_schedule(org, sc->present_until, now);
}


void
ws_presence_refused(ws_presence_org_t *org, ws_conn_t *conn)
{
    ws_stream_conn_t  *sc;

    sc = ws_fanout_stream_conn(conn);

    if (++sc->refused == WS_PRESENCE_ABUSE) {
        lwsl_user("ws-server: org %s user %s: too many messages, closing\n",
                  org->org_id, ws_fanout_claims(conn)->user_id);
        ws_fanout_kick(conn, 1008, "too many messages");
    }
}


void
ws_presence_gone(ws_presence_org_t *org, ws_conn_t *conn)
{
    if (!lws_dll2_is_detached(&ws_fanout_stream_conn(conn)->present)) {
        ws_presence_drop(org, conn);
    }
}


/* Takes a token from the connection's bucket: 1, or 0 when empty. */
static int
ws_presence_take(ws_stream_conn_t *sc, int64_t now)
{
    if (sc->tokens_at == 0) {
        sc->tokens = WS_PRESENCE_BURST;

    } else {
        sc->tokens += (double) (now - sc->tokens_at) * WS_PRESENCE_RATE
                      / 1000.0;
        if (sc->tokens > WS_PRESENCE_BURST) {
            sc->tokens = WS_PRESENCE_BURST;
        }
    }

    sc->tokens_at = now;

    if (sc->tokens < 1.0) {
        return 0;
    }

    sc->tokens -= 1.0;

    return 1;
}


/* A conversation id as the API writes them: letters, digits, - and _. */
static int
ws_presence_id_ok(const char *id)
{
    size_t  i, len;

    len = strlen(id);
    if (len == 0 || len >= INBOX_ID_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z')
              || (id[i] >= '0' && id[i] <= '9') || id[i] == '-'
              || id[i] == '_'))
        {
            return 0;
        }
    }

    return 1;
}


/* conn's state ends: the others see what the user's other connections
 * still show in that thread, or idle. */
static void
ws_presence_drop(ws_presence_org_t *org, ws_conn_t *conn)
{
    ws_stream_conn_t  *sc;

    sc = ws_fanout_stream_conn(conn);

    lws_dll2_remove(&sc->present);
    sc->state = WS_PRESENCE_IDLE;
    sc->present_until = 0;

    ws_presence_tell(org, conn, sc->conversation_id, NULL,
                     ws_stream_now_ms());
}


/*
 * Of user's connections present in conversation_id, the one that says the
 * most (typing over viewing, then the later lapse): what the others are
 * shown of that user there.  NULL: none, the user is idle there.
 */
static ws_stream_conn_t *
ws_presence_best(ws_presence_org_t *org, ws_conn_t *user,
    const char *conversation_id, int64_t now)
{
    const char        *user_id;
    ws_stream_conn_t  *sc, *best;

    user_id = ws_fanout_claims(user)->user_id;
    best = NULL;

    lws_start_foreach_dll(struct lws_dll2 *, d,
                          lws_dll2_get_head(&org->present)) {
        sc = lws_container_of(d, ws_stream_conn_t, present);

        if (sc->present_until > now
            && strcmp(sc->conversation_id, conversation_id) == 0
            && strcmp(ws_fanout_claims(sc->conn)->user_id, user_id) == 0
            && (best == NULL || sc->state > best->state
                || (sc->state == best->state
                    && sc->present_until > best->present_until)))
        {
            best = sc;
        }
    } lws_end_foreach_dll(d);

    return best;
}


/* The state of about's user in conversation_id, to one connection (to) or
 * every joined one but about. */
static void
ws_presence_tell(ws_presence_org_t *org, ws_conn_t *about,
    const char *conversation_id, ws_conn_t *to, int64_t now)
{
    ws_presence_send_t  send;

    send.frame = ws_presence_frame(about, conversation_id,
                                   ws_presence_best(org, about,
                                                    conversation_id, now),
                                   now, &send.len);
    if (send.frame == NULL) {
        return;
    }

    if (to != NULL) {
        (void) ws_fanout_send(to, 0, send.frame, send.len);

    } else {
        send.except = about;
        ws_fanout_foreach(org->fanout, org->org_id, ws_presence_send_each,
                          &send);
    }

    free((char *) send.frame);
}


/* best: the user's connection shown (ws_presence_best), NULL: idle. */
static char *
ws_presence_frame(ws_conn_t *user, const char *conversation_id,
    ws_stream_conn_t *best, int64_t now, size_t *len)
{
    int                           state;
    int64_t                       left;
    yajl_gen                      g;
    const inbox_ticket_claims_t  *claims;

    claims = ws_fanout_claims(user);

    state = best == NULL ? WS_PRESENCE_IDLE : best->state;
    left = best == NULL ? 0 : (best->present_until - now + 999) / 1000;

    g = inbox_json_begin();
    if (g == NULL) {
        return NULL;
    }

    yajl_gen_map_open(g);
    inbox_json_key(g, "type");
    inbox_json_string(g, "presence");
    inbox_json_key(g, "conversation_id");
    inbox_json_string(g, conversation_id);
    inbox_json_key(g, "state");
    inbox_json_string(g, ws_presence_names[state]);
    inbox_json_key(g, "user");
    yajl_gen_map_open(g);
    inbox_json_key(g, "id");
    inbox_json_string(g, claims->user_id);
    inbox_json_key(g, "name");
    inbox_json_string(g, claims->user_name[0] ? claims->user_name : NULL);
    yajl_gen_map_close(g);
    inbox_json_key(g, "expires_in");
    inbox_json_int(g, left);
    yajl_gen_map_close(g);

    return inbox_json_finish(g, len);
}


static void
ws_presence_send_each(ws_conn_t *conn, void *arg)
{
    ws_presence_send_t  *send = arg;

    if (conn != send->except) {
        (void) ws_fanout_send(conn, 0, send->frame, send->len);
    }
}


static void
ws_presence_schedule(ws_presence_org_t *org, int64_t at, int64_t now)
{
    if (org->context == NULL
        || (org->timer_at != 0 && org->timer_at <= at))
    {
        return;                             /* stopping, or one sooner */
    }

    org->timer_at = at;
    lws_sul_schedule(org->context, 0, &org->sul, ws_presence_lapse,
                     (at > now ? at - now : 0) * LWS_US_PER_MS);
}


static void
ws_presence_lapse(lws_sorted_usec_list_t *sul)
{
    int64_t             now, next;
    ws_presence_org_t  *org;
    ws_stream_conn_t   *sc;

    org = lws_container_of(sul, ws_presence_org_t, sul);
    org->timer_at = 0;
    now = ws_stream_now_ms();
    next = 0;

    lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1,
                               lws_dll2_get_head(&org->present)) {
        sc = lws_container_of(d, ws_stream_conn_t, present);

        if (sc->present_until <= now) {
            ws_presence_drop(org, sc->conn);

        } else if (next == 0 || sc->present_until < next) {
            next = sc->present_until;
        }
    } lws_end_foreach_dll_safe(d, d1);

    if (next != 0) {
        ws_presence_schedule(org, next, now);
    }
}
