/*
 * Who may open a WebSocket: the subprotocol, origin and ticket checks in
 * the upgrade request, and the memory of used nonces.
 *
 * lws calls LWS_CALLBACK_HTTP_CONFIRM_UPGRADE and then, within the same
 * call and for the same connection, LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION
 * on the protocol it bound; the claims confirmed by the first are handed
 * to the second through a one-connection "pending" slot (one service
 * thread, so nothing else can run in between).
 */
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <openssl/crypto.h>
#include <yajl/yajl_gen.h>
#include "ws_auth.h"
#include "ws_fanout.h"
#include "ws_origin.h"

#define WS_AUTH_PATH     "/ws"
#define WS_AUTH_HDR_MAX  512

/* room for an overlong ticket, so that it is refused as bad (403) rather
 * than taken for a missing one (401) */
#define WS_AUTH_ARG_MAX  2048

/* How many nonces one organization has remembered. */
typedef struct {
    char      org_id[INBOX_ID_MAX];
    size_t    count;
    unsigned  full_logged:1;    /* once each time it fills up */
} ws_quota_t;

typedef struct ws_nonce_s  ws_nonce_t;

struct ws_nonce_s {
    char         nonce[INBOX_TICKET_NONCE_MAX];
    int64_t      expires;
    ws_quota_t  *quota;              /* its organization's */
    ws_nonce_t  *next;               /* the one used after this one */
};

struct ws_auth_s {
    unsigned char          *secret;
    size_t                  secret_len;
    size_t                  org_nonces_max;
    char                  (*origins)[WS_ORIGIN_MAX];
    size_t                  norigins;
    void                   *nonces;  /* tsearch(3) tree of ws_nonce_t */
    void                   *quotas;  /* tsearch(3) tree of ws_quota_t */
    ws_nonce_t             *oldest;  /* the nonces in order of use */
    ws_nonce_t             *newest;
    /* this process's start: the nonces of tickets issued before it
     * are not remembered here */
    time_t                  started;
    struct lws             *pending_wsi;
    inbox_ticket_claims_t   pending;
};


static int ws_auth_subprotocol(struct lws *wsi);
static int ws_auth_arg(struct lws *wsi, const char *name, char *value,
    size_t len);
static int ws_auth_origin(ws_auth_t *auth, struct lws *wsi);
static int ws_auth_nonce_compare(const void *a, const void *b);
static int ws_auth_quota_compare(const void *a, const void *b);
static void ws_auth_forget_expired(ws_auth_t *auth, time_t now);
static int ws_auth_remember(ws_auth_t *auth,
    const inbox_ticket_claims_t *claims);
static int ws_auth_reply(struct lws *wsi, unsigned int status,
    const char *code, const char *message, const char *field,
    const char *retry_after);


ws_auth_t *
ws_auth_create(const ws_auth_conf_t *conf)
{
    size_t      i;
    ws_auth_t  *auth;

    auth = calloc(1, sizeof(ws_auth_t));
    if (auth == NULL) {
        return NULL;
    }

    auth->secret = malloc(conf->secret_len);
    auth->origins = calloc(conf->norigins + 1, WS_ORIGIN_MAX);

    if (auth->secret == NULL || auth->origins == NULL) {
        goto failed;
    }

    memcpy(auth->secret, conf->secret, conf->secret_len);
    auth->secret_len = conf->secret_len;
    auth->org_nonces_max = conf->org_nonces_max ? conf->org_nonces_max
                                                : WS_AUTH_ORG_NONCES_MAX;

    for (i = 0; i < conf->norigins; i++) {
        if (ws_origin_canonical(conf->origins[i], auth->origins[i]) != 0) {
            goto failed;
        }
    }

    auth->norigins = conf->norigins;
    auth->started = time(NULL);

    return auth;

failed:

    ws_auth_destroy(auth);

    return NULL;
}


void
ws_auth_destroy(ws_auth_t *auth)
{
    if (auth == NULL) {
        return;
    }

    /* the tree and the FIFO hold the same entries: free them once */
    tdestroy(auth->nonces, free);
    tdestroy(auth->quotas, free);

    if (auth->secret != NULL) {
        OPENSSL_cleanse(auth->secret, auth->secret_len);
        free(auth->secret);
    }

    free(auth->origins);
    free(auth);
}


int
ws_auth_confirm_upgrade(ws_auth_t *auth, struct lws *wsi,
    const char *upgrade)
{
    int                     n;
    char                    path[64], retry[16];
    char                    arg[WS_AUTH_ARG_MAX], org_arg[WS_AUTH_ARG_MAX];
    time_t                  now;
    const char             *ticket;
    inbox_error_t           err;
    inbox_ticket_claims_t   claims;

    auth->pending_wsi = NULL;

    /* lws also offers h2c here; only a WebSocket is ours to accept */
    if (upgrade == NULL || strcasecmp(upgrade, "websocket") != 0) {
        return -1;
    }

    n = lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI);
    if (n <= 0 || strcmp(path, WS_AUTH_PATH) != 0) {
        return ws_auth_reply(wsi, HTTP_STATUS_NOT_FOUND, "not_found",
                             "There is nothing here: the WebSocket is "
                             "at /ws.", NULL, NULL);
    }

    n = ws_auth_subprotocol(wsi);
    if (n != 0) {
        return n;
    }

    /* before the ticket: a refused page does not use up its nonce */
    n = ws_auth_origin(auth, wsi);
    if (n != 0) {
        return n;
    }

    /* the one nginx routed by (ws_auth_arg): no other is taken here */
    n = ws_auth_arg(wsi, "ticket", arg, sizeof(arg));
    ticket = arg;
    if (n == 0 || (n == 1 && ticket[0] == '\0')) {
        return ws_auth_reply(wsi, HTTP_STATUS_UNAUTHORIZED,
                             "unauthenticated",
                             "A realtime ticket is required: get one from "
                             "POST /api/v1/realtime/ticket.", NULL, NULL);
    }

    if (n < 0) {
        return ws_auth_reply(wsi, HTTP_STATUS_FORBIDDEN, "forbidden",
                             "The realtime ticket is for another address: "
                             "connect to the url it came with.", NULL, NULL);
    }

    now = time(NULL);
    ws_auth_forget_expired(auth, now);

    if (inbox_ticket_verify(auth->secret, auth->secret_len, ticket, now,
                            &claims, &err)
        != INBOX_OK)
    {
        lwsl_user("ws-server: ticket refused: %s\n", err.message);
        return ws_auth_reply(wsi, HTTP_STATUS_FORBIDDEN, "forbidden",
                             "The realtime ticket is invalid or expired: "
                             "get a new one.", NULL, NULL);
    }

    /*
     * Its nonce may have been used before this process started (used
     * nonces are remembered in memory only): a browser asks for a new
     * ticket for each connection, so it loses nothing.  Whole seconds:
     * one issued in the second this process started is taken.
     */
    if (inbox_ticket_issued(&claims) < (int64_t) auth->started) {
        lwsl_user("ws-server: ticket of org %s refused: issued before "
                  "this process started\n", claims.org_id);
        return ws_auth_reply(wsi, HTTP_STATUS_FORBIDDEN, "forbidden",
                             "The realtime ticket is invalid or expired: "
                             "get a new one.", NULL, NULL);
    }

    /*
     * nginx routes a socket to its ws-server by the organization its
     * ticket leads with (each process remembers the tickets it took).  The
     * org argument of older ticket urls is still welcome, but only naming
     * the ticket's own: an nginx still configured to hash $arg_org would
     * steer one naming another to a process that may not have seen the
     * ticket used.
     */
    n = ws_auth_arg(wsi, "org", org_arg, sizeof(org_arg));
    if (n < 0 || (n == 1 && strcmp(org_arg, claims.org_id) != 0)) {
        lwsl_user("ws-server: ticket of org %s refused for its URL's org\n",
                  claims.org_id);
        return ws_auth_reply(wsi, HTTP_STATUS_FORBIDDEN, "forbidden",
                             "The realtime ticket is for another address: "
                             "connect to the url it came with.", NULL, NULL);
    }

    switch (ws_auth_remember(auth, &claims)) {

    case 0:
        break;

    case 1:
        lwsl_user("ws-server: ticket reused (org %s)\n", claims.org_id);
        return ws_auth_reply(wsi, HTTP_STATUS_FORBIDDEN, "forbidden",
                             "The realtime ticket was already used: get a "
                             "new one for each connection.", NULL, NULL);

    case 2:
        /* this organization's own volume: no other is refused for it */
        lwsl_user("ws-server: ticket refused: org %s has too many in use\n",
                  claims.org_id);
        snprintf(retry, sizeof(retry), "%d", INBOX_TICKET_TTL);
        return ws_auth_reply(wsi, 429, "rate_limited",
                             "Your organization has opened too many "
                             "realtime connections in the last minute: "
                             "try again shortly.", NULL, retry);

    default:
        lwsl_err("ws-server: out of memory for a ticket nonce\n");
        return ws_auth_reply(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE,
                             "unavailable",
                             "The realtime server is busy: try again "
                             "shortly.", NULL, NULL);
    }

    auth->pending_wsi = wsi;
    auth->pending = claims;

    return 0;
}


int
ws_auth_take_claims(ws_auth_t *auth, struct lws *wsi,
    inbox_ticket_claims_t *claims)
{
    if (auth->pending_wsi != wsi || wsi == NULL) {
        auth->pending_wsi = NULL;
        return -1;
    }

    *claims = auth->pending;
    auth->pending_wsi = NULL;
    OPENSSL_cleanse(&auth->pending, sizeof(auth->pending));

    return 0;
}


int
ws_auth_refuse_http(struct lws *wsi)
{
    int   rc;
    char  path[64];

    if (lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI) > 0
        && strcmp(path, WS_AUTH_PATH) == 0)
    {
        rc = ws_auth_reply(wsi, 426, "upgrade_required",
                           "This address only speaks WebSocket "
                           "(subprotocol inbox.v1).", NULL, NULL);
    } else {
        rc = ws_auth_reply(wsi, HTTP_STATUS_NOT_FOUND, "not_found",
                           "There is nothing here: the WebSocket is at "
                           "/ws.", NULL, NULL);
    }

    if (rc < 0 || lws_http_transaction_completed(wsi)) {
        return -1;
    }

    return 0;
}


/*
 * The subprotocol lws will bind: the first one the client lists that this
 * vhost knows.  Unless that is inbox.v1 (or none is listed: lws then binds
 * protocols[0], which is inbox.v1), lws would drop the connection without
 * an answer, so refuse it here with one.  0 to go on, else what
 * ws_auth_confirm_upgrade returns.
 */
static int
ws_auth_subprotocol(struct lws *wsi)
{
    int                 len;
    char               *name, *next, *end;
    char                list[WS_AUTH_HDR_MAX], shown[80], message[160];
    struct lws_vhost   *vhost;

    len = lws_hdr_total_length(wsi, WSI_TOKEN_PROTOCOL);
    if (len == 0) {
        return 0;
    }

    vhost = lws_get_vhost(wsi);

    if (len < (int) sizeof(list)
        && lws_hdr_copy(wsi, list, sizeof(list), WSI_TOKEN_PROTOCOL) == len)
    {
        for (name = list; name != NULL; name = next) {
            next = strchr(name, ',');
            if (next != NULL) {
                *next++ = '\0';
            }

            name += strspn(name, " \t");
            end = name + strlen(name);

            while (end > name && (end[-1] == ' ' || end[-1] == '\t')) {
                *--end = '\0';
            }

            if (strcmp(name, WS_FANOUT_PROTOCOL) == 0) {
                return 0;
            }

            /* one of our internal protocols would be bound instead */
            if (name[0] != '\0'
                && lws_vhost_name_to_protocol(vhost, name) != NULL)
            {
                break;
            }
        }

        /* the whole list again, for the message */
        lws_hdr_copy(wsi, list, sizeof(list), WSI_TOKEN_PROTOCOL);
        ws_origin_printable(list, shown, sizeof(shown));

    } else {
        lws_strncpy(shown, "(too long)", sizeof(shown));
    }

    lwsl_user("ws-server: subprotocol refused: %s\n", shown);

    snprintf(message, sizeof(message), "Only the subprotocol "
             WS_FANOUT_PROTOCOL " is offered here, not \"%s\".", shown);

    return ws_auth_reply(wsi, HTTP_STATUS_BAD_REQUEST, "invalid_request",
                         message, "Sec-WebSocket-Protocol", NULL);
}


/*
 * Browsers always say which page opens a WebSocket; a page of another
 * site must not use a ticket it got hold of.  Clients that are not
 * browsers send no Origin: the ticket alone decides for them.  0 to go
 * on, else what ws_auth_confirm_upgrade returns.
 */
/*
 * The URL's argument name (lower case) into value, as nginx's $arg_name
 * sees it: 1 when exactly one argument has that name in any case, in
 * lower case; 0 when none; -1 when another spelling or a second one is
 * there ($arg_ takes the first of any case, so nginx could have routed
 * the socket by a ticket other than the one taken here).  An argument
 * too long to read is -1 too: it could be one of them.
 */
static int
ws_auth_arg(struct lws *wsi, const char *name, char *value, size_t len)
{
    int     i, n, found;
    char    frag[WS_AUTH_ARG_MAX];
    size_t  name_len, frag_name;

    name_len = strlen(name);

    found = 0;

    for (i = 0; /* void */; i++) {
        n = lws_hdr_copy_fragment(wsi, frag, sizeof(frag),
                                  WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n < 0) {
            if (lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i)
                > 0)
            {
                return -1;
            }

            break;
        }

        frag_name = strcspn(frag, "=");

        if (frag_name != name_len || strncasecmp(frag, name, name_len) != 0)
        {
            continue;
        }

        if (found || strncmp(frag, name, name_len) != 0) {
            return -1;
        }

        found = 1;
        snprintf(value, len, "%s",
                 frag[name_len] == '=' ? frag + name_len + 1 : "");
    }

    return found;
}


static int
ws_auth_origin(ws_auth_t *auth, struct lws *wsi)
{
    int     len;
    size_t  i;
    char    origin[WS_ORIGIN_MAX], canonical[WS_ORIGIN_MAX], shown[80];

    len = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN);
    if (len == 0) {
        return 0;
    }

    if (len < (int) sizeof(origin)
        && lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) == len)
    {
        if (ws_origin_canonical(origin, canonical) == 0) {
            for (i = 0; i < auth->norigins; i++) {
                if (strcmp(canonical, auth->origins[i]) == 0) {
                    return 0;
                }
            }
        }

        ws_origin_printable(origin, shown, sizeof(shown));

    } else {
        lws_strncpy(shown, "(too long)", sizeof(shown));
    }

    lwsl_warn("ws-server: origin refused: %s%s\n", shown,
              auth->norigins ? "" : " (no --origin is allowed)");

    return ws_auth_reply(wsi, HTTP_STATUS_FORBIDDEN, "forbidden",
                         "Pages of this origin may not open the inbox's "
                         "WebSocket: open the inbox at its own address.",
                         NULL, NULL);
}


static int
ws_auth_nonce_compare(const void *a, const void *b)
{
    return strcmp(((const ws_nonce_t *) a)->nonce,
                  ((const ws_nonce_t *) b)->nonce);
}


static int
ws_auth_quota_compare(const void *a, const void *b)
{
    return strcmp(((const ws_quota_t *) a)->org_id,
                  ((const ws_quota_t *) b)->org_id);
}


/*
 * Entries leave in order of use; tickets all live INBOX_TICKET_TTL
 * seconds, so that is close to order of expiry, and one that outlives its
 * ticket briefly does no harm: none stays longer than a ticket's lifetime
 * after its use.  The extra second keeps a nonce remembered for as long
 * as inbox_ticket_verify could still accept its ticket.
 */
static void
ws_auth_forget_expired(ws_auth_t *auth, time_t now)
{
    ws_quota_t  *quota;
    ws_nonce_t  *entry;

    while (auth->oldest != NULL && auth->oldest->expires + 1 < now) {
        entry = auth->oldest;
        auth->oldest = entry->next;

        if (auth->oldest == NULL) {
            auth->newest = NULL;
        }

        quota = entry->quota;
        quota->full_logged = 0;

        if (--quota->count == 0) {
            tdelete(quota, &auth->quotas, ws_auth_quota_compare);
            free(quota);
        }

        tdelete(entry, &auth->nonces, ws_auth_nonce_compare);
        free(entry);
    }
}


/*
 * 0 remembered, 1 already used, 2 its organization has org_nonces_max in
 * use, -1 out of memory.
 */
static int
ws_auth_remember(ws_auth_t *auth, const inbox_ticket_claims_t *claims)
{
    void        *found;
    ws_quota_t  *quota, quota_key;
    ws_nonce_t  *entry, nonce_key;

    lws_strncpy(nonce_key.nonce, claims->nonce, sizeof(nonce_key.nonce));

    if (tfind(&nonce_key, &auth->nonces, ws_auth_nonce_compare) != NULL) {
        return 1;
    }

    lws_strncpy(quota_key.org_id, claims->org_id, sizeof(quota_key.org_id));

    found = tfind(&quota_key, &auth->quotas, ws_auth_quota_compare);

    if (found != NULL) {
        quota = *(ws_quota_t **) found;

        if (quota->count >= auth->org_nonces_max) {
            if (!quota->full_logged) {
                quota->full_logged = 1;
                lwsl_warn("ws-server: org %s has used %zu tickets within "
                          "a ticket's lifetime: refusing its next ones\n",
                          quota->org_id, quota->count);
            }

            return 2;
        }

    } else {
        quota = calloc(1, sizeof(ws_quota_t));
        if (quota == NULL) {
            return -1;
        }

        memcpy(quota->org_id, quota_key.org_id, sizeof(quota->org_id));

        if (tsearch(quota, &auth->quotas, ws_auth_quota_compare) == NULL) {
            free(quota);
            return -1;
        }
    }

    entry = calloc(1, sizeof(ws_nonce_t));

    if (entry != NULL) {
        memcpy(entry->nonce, nonce_key.nonce, sizeof(entry->nonce));
        entry->expires = claims->expires;
        entry->quota = quota;

        if (tsearch(entry, &auth->nonces, ws_auth_nonce_compare) == NULL) {
            free(entry);
            entry = NULL;
        }
    }

    if (entry == NULL) {
        /* a new organization's record holds nothing yet */
        if (quota->count == 0) {
            tdelete(quota, &auth->quotas, ws_auth_quota_compare);
            free(quota);
        }

        return -1;
    }

    quota->count++;

    if (auth->newest != NULL) {
        auth->newest->next = entry;
    } else {
        auth->oldest = entry;
    }

    auth->newest = entry;

    return 0;
}


/*
 * Writes a complete JSON error answer, naming field when not NULL, with
 * "Retry-After: retry_after" when not NULL; 1 when written, -1 otherwise.
 */
static int
ws_auth_reply(struct lws *wsi, unsigned int status, const char *code,
    const char *message, const char *field, const char *retry_after)
{
    int                   n, rc;
    char                  length[24];
    size_t                body_len;
    yajl_gen              gen;
    unsigned char        *start, *p, *end;
    const unsigned char  *body;
    unsigned char         buf[LWS_PRE + 1024];

    gen = yajl_gen_alloc(NULL);
    if (gen == NULL) {
        return -1;
    }

    rc = -1;

    if (yajl_gen_map_open(gen) != yajl_gen_status_ok
        || yajl_gen_string(gen, (const unsigned char *) "error", 5)
           != yajl_gen_status_ok
        || yajl_gen_map_open(gen) != yajl_gen_status_ok
        || yajl_gen_string(gen, (const unsigned char *) "code", 4)
           != yajl_gen_status_ok
        || yajl_gen_string(gen, (const unsigned char *) code, strlen(code))
           != yajl_gen_status_ok
        || yajl_gen_string(gen, (const unsigned char *) "message", 7)
           != yajl_gen_status_ok
        || yajl_gen_string(gen, (const unsigned char *) message,
                           strlen(message))
           != yajl_gen_status_ok)
    {
        goto done;
    }

    if (field != NULL
        && (yajl_gen_string(gen, (const unsigned char *) "field", 5)
            != yajl_gen_status_ok
            || yajl_gen_string(gen, (const unsigned char *) field,
                               strlen(field))
               != yajl_gen_status_ok))
    {
        goto done;
    }

    if (yajl_gen_map_close(gen) != yajl_gen_status_ok
        || yajl_gen_map_close(gen) != yajl_gen_status_ok
        || yajl_gen_get_buf(gen, &body, &body_len) != yajl_gen_status_ok)
    {
        goto done;
    }

    start = buf + LWS_PRE;
    p = start;
    end = buf + sizeof(buf);
    n = snprintf(length, sizeof(length), "%zu", body_len);

    if (lws_add_http_header_status(wsi, status, &p, end)
        || lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
               (const unsigned char *) "application/json", 16, &p, end)
        || lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH,
               (const unsigned char *) length, n, &p, end)
        || lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
               (const unsigned char *) "no-store", 8, &p, end)
        || (retry_after != NULL
            && lws_add_http_header_by_name(wsi,
                   (const unsigned char *) "retry-after:",
                   (const unsigned char *) retry_after,
                   (int) strlen(retry_after), &p, end))
        || lws_finalize_http_header(wsi, &p, end)
        || (size_t) (end - p) < body_len)
    {
        goto done;
    }

    memcpy(p, body, body_len);
    p += body_len;

    /* headers and body in one write, as lws_return_http_status does */
    n = lws_write(wsi, start, (size_t) (p - start), LWS_WRITE_HTTP);
    if (n == (int) (p - start)) {
        rc = 1;
    }

done:

    yajl_gen_free(gen);

    return rc;
}
