
/*
 * Realtime: the events datagrams to ws-server, and the tickets browsers
 * open their WebSocket with (POST /api/v1/realtime/ticket).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <inbox/account.h>
#include <inbox/render.h>
#include <inbox/ticket.h>

#include "ngx_http_inbox_module.h"
#include "ngx_http_inbox_api.h"
#include "ngx_http_inbox_auth.h"
#include "ngx_http_inbox_reply.h"
#include "ngx_http_inbox_limit.h"


#define NGX_HTTP_INBOX_SECRET_MAX  4096
/*
 * How long a pool thread waits for room in ws-server's queue before it
 * sheds a datagram (ws-server then fills the gap from the store).
 */
#define NGX_HTTP_INBOX_EVENTS_WAIT  200


typedef struct {
    const char  *url;
} ngx_http_inbox_ticket_args_t;


static void ngx_http_inbox_realtime_ticket_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);
static ngx_int_t ngx_http_inbox_realtime_ticket_done(ngx_http_request_t *r,
    ngx_http_inbox_job_t *job);
static ngx_int_t ngx_http_inbox_realtime_url(ngx_http_request_t *r,
    ngx_str_t *url);


/* Per worker; pool threads only read them (the peers' counters are
 * atomics). */
static inbox_dgram_peer_t  ngx_http_inbox_events_peers[INBOX_EVENTS_PEERS_MAX];
static ngx_uint_t          ngx_http_inbox_events_npeers;
static unsigned char       ngx_http_inbox_secret[NGX_HTTP_INBOX_SECRET_MAX];
static size_t              ngx_http_inbox_secret_len;


ngx_int_t
ngx_http_inbox_events_open(ngx_cycle_t *cycle, ngx_array_t *paths)
{
    char                 err[256];
    ngx_str_t           *path;
    ngx_uint_t           i;
    inbox_dgram_peer_t  *peer;

    path = paths->elts;

    /* the paths' lengths and count were checked with the directive */
    for (i = 0; i < paths->nelts; i++) {
        peer = &ngx_http_inbox_events_peers[i];

        if (inbox_dgram_peer_open(peer, (char *) path[i].data, err,
                                  sizeof(err))
            != 0)
        {
            ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                          "inbox: the events socket: %s", err);
            ngx_http_inbox_events_npeers = i;
            ngx_http_inbox_events_close();
            return NGX_ERROR;
        }

        if (inbox_dgram_peer_set_wait(peer, NGX_HTTP_INBOX_EVENTS_WAIT, err,
                                      sizeof(err))
            != 0)
        {
            ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                          "inbox: the events socket: %s", err);
        }
    }

    ngx_http_inbox_events_npeers = paths->nelts;

    return NGX_OK;
}


void
ngx_http_inbox_events_close(void)
{
    ngx_uint_t  i;

    for (i = 0; i < ngx_http_inbox_events_npeers; i++) {
        inbox_dgram_peer_close(&ngx_http_inbox_events_peers[i]);
    }

    ngx_http_inbox_events_npeers = 0;
}


/*
 * In a pool thread.  A ws-server may be down or stuck: what each one
 * missed is counted here and logged by ngx_http_inbox_events_report in
 * the event loop (a line a second at most per socket); it fills the gap
 * from the store.  The others are not held up beyond the wait bound.
 */

void
ngx_http_inbox_events_send(const inbox_event_list_t *events)
{
    size_t      lost[INBOX_EVENTS_PEERS_MAX];
    ngx_uint_t  i;

    if (ngx_http_inbox_events_npeers == 0) {
        return;
    }

    inbox_events_publish_each(ngx_http_inbox_events_peers,
                              ngx_http_inbox_events_npeers, events, lost);

    /* counted here, in a pool thread; logged by the event loop */
    for (i = 0; i < ngx_http_inbox_events_npeers; i++) {
        inbox_events_shed_add(&ngx_http_inbox_events_peers[i], lost[i]);
    }
}


void
ngx_http_inbox_events_report(void)
{
    uint64_t             since, total;
    ngx_uint_t           i;
    inbox_dgram_peer_t  *peer;

    for (i = 0; i < ngx_http_inbox_events_npeers; i++) {
        peer = &ngx_http_inbox_events_peers[i];

        if (inbox_events_shed_report(peer, 0, &since, &total)) {
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "inbox: %uL events not handed to ws-server at "
                          "%s (%uL in all): it is down or did not read "
                          "for %d ms; it fills the gap from the store",
                          since, peer->addr.sun_path, total,
                          NGX_HTTP_INBOX_EVENTS_WAIT);
        }
    }
}


ngx_int_t
ngx_http_inbox_secret_load(ngx_cycle_t *cycle, ngx_str_t *path)
{
    inbox_error_t  err;

    ngx_http_inbox_secret_len = inbox_ticket_secret_load(
                                    (char *) path->data,
                                    ngx_http_inbox_secret,
                                    NGX_HTTP_INBOX_SECRET_MAX, &err);

    if (ngx_http_inbox_secret_len == 0) {
        /* tickets are answered 503 until the worker restarts */
        ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                      "inbox: cannot load the realtime secret \"%V\": %s",
                      path, err.message);
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_inbox_secret_check(ngx_conf_t *cf, ngx_str_t *path)
{
    size_t          len;
    inbox_error_t   err;
    unsigned char  *secret;

    /* read as a worker reads it, into a buffer of the same size */
    secret = ngx_alloc(NGX_HTTP_INBOX_SECRET_MAX, cf->log);
    if (secret == NULL) {
        return NGX_ERROR;
    }

    len = inbox_ticket_secret_load((char *) path->data, secret,
                                   NGX_HTTP_INBOX_SECRET_MAX, &err);

    ngx_explicit_memzero(secret, NGX_HTTP_INBOX_SECRET_MAX);
    ngx_free(secret);

    if (len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "inbox_realtime_secret: %s", err.message);
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_http_inbox_secret_clear(void)
{
    ngx_explicit_memzero(ngx_http_inbox_secret, NGX_HTTP_INBOX_SECRET_MAX);
    ngx_http_inbox_secret_len = 0;
}


ngx_int_t
ngx_http_inbox_realtime_ticket(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id)
{
    ngx_str_t                      url;
    ngx_http_inbox_ticket_args_t  *args;

    args = ngx_pcalloc(r->pool, sizeof(ngx_http_inbox_ticket_args_t));
    if (args == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_inbox_realtime_url(r, &url) != NGX_OK) {
        return NGX_ERROR;
    }

    args->url = (char *) url.data;

    if (ngx_http_inbox_secret_len == 0 && api->invalid.code == INBOX_OK) {
        inbox_error_set(&api->invalid, INBOX_ERR_UNAVAILABLE,
                        "Realtime updates are not available: the server "
                        "has no realtime secret.");
    }

    api->op = ngx_http_inbox_realtime_ticket_op;
    api->args = args;
    api->done = ngx_http_inbox_realtime_ticket_done;

    return NGX_OK;
}


/*
 * inbox_realtime_url, else the public base with a ws(s) scheme and
 * "/ws"; NUL-terminated, from the pool.
 */

static ngx_int_t
ngx_http_inbox_realtime_url(ngx_http_request_t *r, ngx_str_t *url)
{
    u_char                     *p;
    ngx_str_t                   base, rest, scheme;
    ngx_http_inbox_loc_conf_t  *ilcf;

    ilcf = ngx_http_get_module_loc_conf(r, ngx_http_inbox_module);

    if (ilcf->realtime_url.len) {
        *url = ilcf->realtime_url;
        return NGX_OK;
    }

    if (ngx_http_inbox_public_base(r, &base) != NGX_OK) {
        return NGX_ERROR;
    }

    /* "http://h" becomes "ws://h/ws", "https://h" "wss://h/ws" */

    if (base.len > 8 && ngx_strncmp(base.data, "https://", 8) == 0) {
        ngx_str_set(&scheme, "wss");
        rest.data = base.data + 5;

    } else if (base.len > 7 && ngx_strncmp(base.data, "http://", 7) == 0) {
        ngx_str_set(&scheme, "ws");
        rest.data = base.data + 4;

    } else {
        /* inbox_public_url may already be a ws(s) URL */
        ngx_str_set(&scheme, "");
        rest.data = base.data;
    }

    rest.len = base.len - (rest.data - base.data);

    url->len = scheme.len + rest.len + sizeof("/ws") - 1;

    p = ngx_pnalloc(r->pool, url->len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    url->data = p;

    p = ngx_cpymem(p, scheme.data, scheme.len);
    p = ngx_cpymem(p, rest.data, rest.len);
    p = ngx_cpymem(p, "/ws", 3);
    *p = '\0';

    return NGX_OK;
}


/* In a pool thread. */

static void
ngx_http_inbox_realtime_ticket_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_ticket_args_t *args = api->args;

    char                    *json, *url;
    char                     ticket[INBOX_TICKET_MAX];
    size_t                   len;
    yajl_gen                 g;
    inbox_account_t          account;
    inbox_ticket_claims_t    claims;

    memset(&claims, 0, sizeof(inbox_ticket_claims_t));

    if (inbox_store_realtime_state(store, api->principal.org_id,
                                   &claims.state, &job->error)
        != INBOX_OK)
    {
        return;
    }

    /*
     * The credential again, after the stream position: an ending committed
     * since the request's own check (a new password, a revocation, a
     * logout) is then either seen here or numbered above the ticket's
     * position, where ws-server refuses the ticket for it.
     */
    if (ngx_http_inbox_auth_find(api, store, &job->error) != INBOX_OK) {
        return;
    }

    memcpy(claims.org_id, api->principal.org_id, INBOX_ID_MAX);
    memcpy(claims.user_id, api->principal.user_id, INBOX_ID_MAX);
    memcpy(claims.token_id, api->principal.token_id, INBOX_ID_MAX);
    memcpy(claims.session_id, api->principal.session_id, INBOX_ID_MAX);
    claims.ends_at = api->principal.ends_at;

    /* the name colleagues see in presence */
    if (claims.user_id[0] != '\0') {
        ngx_memzero(&account, sizeof(inbox_account_t));

        if (inbox_store_account_get(store, claims.org_id, claims.user_id,
                                    &account, &job->error)
            != INBOX_OK)
        {
            inbox_account_free(&account);
            return;
        }

        inbox_ticket_user_name(account.user.email, claims.user_name);
        inbox_account_free(&account);
    }

    if (inbox_ticket_issue(ngx_http_inbox_secret, ngx_http_inbox_secret_len,
                           &claims, time(NULL), ticket, &job->error)
        != INBOX_OK)
    {
        return;
    }

    /*
     * The ticket leads with its organization, by which nginx keeps all its
     * sockets on one ws-server process (the upstream hashes it, see
     * config/nginx.conf.in): presence and a ticket's single use are each
     * process's own.  Base64url, digits and '.': nothing to escape.
     */
    len = strlen(args->url) + sizeof("?ticket=") + strlen(ticket);
    url = malloc(len);
    if (url == NULL) {
        ngx_http_inbox_job_document(job, 0, NULL, 0);
        return;
    }

    (void) snprintf(url, len, "%s%sticket=%s", args->url,
                    strchr(args->url, '?') ? "&" : "?", ticket);

    g = inbox_json_begin();
    if (g == NULL) {
        free(url);
        ngx_http_inbox_job_document(job, 0, NULL, 0);
        return;
    }

    yajl_gen_map_open(g);
    inbox_json_key(g, "ticket");
    inbox_json_string(g, ticket);
    inbox_json_key(g, "url");
    inbox_json_string(g, url);
    yajl_gen_map_close(g);

    json = inbox_json_finish(g, &len);
    free(url);

    ngx_http_inbox_job_document(job, NGX_HTTP_OK, json, len);
}


/*
 * In the event loop: a ticket was made for a good token or session; it
 * is sent only if its bucket has room (inbox_ticket_rate, see
 * ngx_http_inbox_limit.h).  The bucket is the person's, whichever of
 * their sessions and tokens asks (a token of the organization's own has
 * its own): one member signing in fifty times gets no fifty buckets to
 * fill ws-server's allowance of the organization's tickets with.
 */

static ngx_int_t
ngx_http_inbox_realtime_ticket_done(ngx_http_request_t *r,
    ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_api_t *api = job->data;

    u_char                       key[NGX_HTTP_INBOX_LIMIT_KEY_LEN];
    ngx_msec_t                   wait;
    ngx_uint_t                   retry_after;
    ngx_http_inbox_main_conf_t  *imcf;

    if (job->body == NULL) {
        return NGX_DECLINED;
    }

    if (api->principal.user_id[0] != '\0') {
        ngx_http_inbox_limit_key("user", (u_char *) api->principal.user_id,
                                 ngx_strlen(api->principal.user_id), key);

    } else if (ngx_http_inbox_limit_hex_key(api->credential_hash, key)
               != NGX_OK)
    {
        return NGX_DECLINED;
    }

    imcf = ngx_http_get_module_main_conf(r, ngx_http_inbox_module);

    if (ngx_http_inbox_limit_charge(&imcf->ticket_limit, r->connection->log,
                                    key, &wait, &retry_after)
        == NGX_OK)
    {
        return NGX_DECLINED;
    }

    /* the ticket is never seen: it opens nothing */
    ngx_explicit_memzero(job->body, job->len);
    free(job->body);
    job->body = NULL;

    return ngx_http_inbox_reply_rate_limited(r, retry_after,
               "Too many realtime tickets were asked for by you (all your "
               "sessions and API tokens) or this organization API token; "
               "try again after the Retry-After seconds.");
}
