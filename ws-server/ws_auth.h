/*
 * Who may open a WebSocket: the realtime ticket in "?ticket=" is checked
 * in the HTTP upgrade request, before anything is accepted, and each
 * ticket's nonce is remembered until the ticket expires so that it opens
 * one connection only.  That memory does not outlive the process, so a
 * ticket issued before the process started opens nothing.
 *
 * Refusals are plain HTTP answers with the contract's JSON error body:
 * 400 for a subprotocol other than inbox.v1, 401 without a ticket, 403
 * for a page of another origin or a forged, expired or reused ticket (or
 * one issued before this process started), 404 for another path, 426 for
 * a request that does not ask for a WebSocket, 429 when the ticket's
 * organization has too many tickets in use.
 */
#ifndef WS_AUTH_H
#define WS_AUTH_H

#include <stddef.h>
#include <libwebsockets.h>
#include <inbox/ticket.h>

/*
 * Nonces remembered per organization, by default: one more ticket of an
 * organization that has this many in use (used within a ticket's
 * lifetime) is refused with 429, and only that organization's.
 */
#define WS_AUTH_ORG_NONCES_MAX  4096

typedef struct {
    const unsigned char   *secret;
    size_t                 secret_len;
    size_t                 org_nonces_max;
    /* the pages that may connect, as given to --origin (checked and
     * copied); none: no browser may connect */
    const char *const     *origins;
    size_t                 norigins;
} ws_auth_conf_t;

typedef struct ws_auth_s  ws_auth_t;

/* Copies what it needs of conf.  NULL when out of memory or an origin is
 * not an http(s) URL.  Free with ws_auth_destroy. */
ws_auth_t *ws_auth_create(const ws_auth_conf_t *conf);
void ws_auth_destroy(ws_auth_t *auth);

/*
 * For LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: checks the path and the ticket
 * and uses up its nonce.  Returns what the callback must return: 0 to let
 * the upgrade go on, 1 when a refusal was written, -1 to hang up.
 */
int ws_auth_confirm_upgrade(ws_auth_t *auth, struct lws *wsi,
    const char *upgrade);

/*
 * For LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION, which lws calls right
 * after a successful confirmation of the same connection: copies the
 * ticket's claims.  Returns 0, or -1 when this connection's ticket was not
 * confirmed (it must then be refused).
 */
int ws_auth_take_claims(ws_auth_t *auth, struct lws *wsi,
    inbox_ticket_claims_t *claims);

/* For LWS_CALLBACK_HTTP: a request that is not an upgrade.  Returns what
 * the callback must return. */
int ws_auth_refuse_http(struct lws *wsi);

#endif
