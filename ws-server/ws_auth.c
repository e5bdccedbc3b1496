/*
 * Who may open a WebSocket: ticket check in the upgrade request and the
 * memory of used nonces.
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

#define WS_AUTH_PATH     "/ws"

/* room for an overlong ticket, so that it is refused as bad (403) rather
 * than taken for a missing one (401) */
#define WS_AUTH_ARG_MAX  2048

typedef struct ws_nonce_s  ws_nonce_t;

struct ws_nonce_s {
    char         nonce[INBOX_TICKET_NONCE_MAX];
    int64_t      expires;
    ws_nonce_t  *next;               /* the one used after this one */
};

struct ws_auth_s {
    unsigned char          *secret;
    size_t                  secret_len;
    void                   *nonces;  /* tsearch(3) tree of ws_nonce_t */
    ws_nonce_t             *oldest;  /* the same entries in order of use */
    ws_nonce_t             *newest;
    size_t                  nonce_count;
    struct lws             *pending_wsi;
    inbox_ticket_claims_t   pending;
};


static int ws_auth_nonce_compare(const void *a, const void *b);
static void ws_auth_forget_expired(ws_auth_t *auth, time_t now);
static int ws_auth_remember(ws_auth_t *auth,
    const inbox_ticket_claims_t *claims);
static int ws_auth_reply(struct lws *wsi, unsigned int status,
    const char *code, const char *message);


ws_auth_t *
ws_auth_create(const unsigned char *secret, size_t secret_len)
{
    ws_auth_t  *auth;

    auth = calloc(1, sizeof(ws_auth_t));
    if (auth == NULL) {
        return NULL;
    }

    auth->secret = malloc(secret_len);
    if (auth->secret == NULL) {
        free(auth);
        return NULL;
    }

    memcpy(auth->secret, secret, secret_len);
    auth->secret_len = secret_len;

    return auth;
}


void
ws_auth_destroy(ws_auth_t *auth)
{
    if (auth == NULL) {
        return;
    }

    /* the tree and the FIFO hold the same entries: free them once */
    tdestroy(auth->nonces, free);

    OPENSSL_cleanse(auth->secret, auth->secret_len);
    free(auth->secret);
    free(auth);
}


int
ws_auth_confirm_upgrade(ws_auth_t *auth, struct lws *wsi,
    const char *upgrade)
{
    int                     n;
    char                    path[64];
    char                    arg[WS_AUTH_ARG_MAX];
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
                             "at /ws.");
    }

    ticket = lws_get_urlarg_by_name(wsi, "ticket=", arg, sizeof(arg));
    if (ticket == NULL || ticket[0] == '\0') {
        return ws_auth_reply(wsi, HTTP_STATUS_UNAUTHORIZED,
                             "unauthenticated",
                             "A realtime ticket is required: get one from "
                             "POST /api/v1/realtime/ticket.");
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
                             "get a new one.");
    }

    switch (ws_auth_remember(auth, &claims)) {

    case 0:
        break;

    case 1:
        lwsl_user("ws-server: ticket reused (org %s)\n", claims.org_id);
        return ws_auth_reply(wsi, HTTP_STATUS_FORBIDDEN, "forbidden",
                             "The realtime ticket was already used: get a "
                             "new one for each connection.");

    default:
        lwsl_warn("ws-server: too many tickets in use, refusing\n");
        return ws_auth_reply(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE,
                             "unavailable",
                             "The realtime server is busy: try again "
                             "shortly.");
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
                           "(subprotocol inbox.v1).");
    } else {
        rc = ws_auth_reply(wsi, HTTP_STATUS_NOT_FOUND, "not_found",
                           "There is nothing here: the WebSocket is at "
                           "/ws.");
    }

    if (rc < 0 || lws_http_transaction_completed(wsi)) {
        return -1;
    }

    return 0;
}


static int
ws_auth_nonce_compare(const void *a, const void *b)
{
    return strcmp(((const ws_nonce_t *) a)->nonce,
                  ((const ws_nonce_t *) b)->nonce);
}


/*
 * Entries leave in order of use; tickets all live INBOX_TICKET_TTL
 * seconds, so that is close to order of expiry, and one that outlives its
 * ticket briefly does no harm.  The extra second keeps a nonce remembered
 * for as long as inbox_ticket_verify could still accept its ticket.
 */
static void
ws_auth_forget_expired(ws_auth_t *auth, time_t now)
{
    ws_nonce_t  *entry;

    while (auth->oldest != NULL && auth->oldest->expires + 1 < now) {
        entry = auth->oldest;
        auth->oldest = entry->next;

        if (auth->oldest == NULL) {
            auth->newest = NULL;
        }

        tdelete(entry, &auth->nonces, ws_auth_nonce_compare);
        free(entry);
        auth->nonce_count--;
    }
}


/* 0 remembered, 1 already used, -1 full or out of memory. */
static int
ws_auth_remember(ws_auth_t *auth, const inbox_ticket_claims_t *claims)
{
    ws_nonce_t   *entry, **found;

    if (auth->nonce_count >= WS_AUTH_NONCES_MAX) {
        return -1;
    }

    entry = calloc(1, sizeof(ws_nonce_t));
    if (entry == NULL) {
        return -1;
    }

    memcpy(entry->nonce, claims->nonce, sizeof(entry->nonce));
    entry->nonce[sizeof(entry->nonce) - 1] = '\0';
    entry->expires = claims->expires;

    found = tsearch(entry, &auth->nonces, ws_auth_nonce_compare);
    if (found == NULL) {
        free(entry);
        return -1;
    }

    if (*found != entry) {
        free(entry);
        return 1;
    }

    if (auth->newest != NULL) {
        auth->newest->next = entry;
    } else {
        auth->oldest = entry;
    }

    auth->newest = entry;
    auth->nonce_count++;

    return 0;
}


/* Writes a complete JSON error answer; 1 when written, -1 otherwise. */
static int
ws_auth_reply(struct lws *wsi, unsigned int status, const char *code,
    const char *message)
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
           != yajl_gen_status_ok
        || yajl_gen_map_close(gen) != yajl_gen_status_ok
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
