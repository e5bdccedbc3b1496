
/*
 * Who is asking: an API token ("Authorization: Bearer TOKEN") or a
 * session cookie, the CSRF guard that goes with the cookie, and the
 * cookie itself.
 *
 * A bearer token wins when both come: a browser sends its cookies with
 * every request, even one another site makes it send, but only a script
 * of the page's own origin can set Authorization or X-Requested-With
 * (another origin's script would need CORS, which the inbox never
 * grants).  That is why a state-changing request authenticated by the
 * cookie alone must carry "X-Requested-With: inbox".
 *
 * The cookie is HttpOnly (no script reads it), SameSite=Lax, Path=/, and
 * Secure with the "__Host-" prefix when the public URL is https.
 */


#ifndef _NGX_HTTP_INBOX_AUTH_H_INCLUDED_
#define _NGX_HTTP_INBOX_AUTH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <inbox/error.h>
#include <inbox/store.h>

#include "ngx_http_inbox_api.h"


/* The header and value a cookie-authenticated change must carry. */
#define NGX_HTTP_INBOX_CSRF_HEADER  "X-Requested-With"
#define NGX_HTTP_INBOX_CSRF_VALUE   "inbox"


/*
 * In the event loop: reads the request's credential into api->credential
 * and api->credential_hash, and checks it against api->route->auth as far
 * as can be told without the store.  INBOX_OK; INBOX_ERR_UNAUTHENTICATED
 * when the route needs a credential the request lacks, or the one it sent
 * cannot be a token or a session (not of their form: the store would know
 * nobody by it); INBOX_ERR_FORBIDDEN for a cookie-authenticated change
 * without the CSRF header.  NGX_ERROR is never returned: the checks
 * allocate nothing.
 */
inbox_status_t ngx_http_inbox_auth_check(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, inbox_error_t *err);

/* In a pool thread: who api's credential acts as, into api->principal;
 * INBOX_ERR_UNAUTHENTICATED (with what to do) when the token or session
 * is not good. */
inbox_status_t ngx_http_inbox_auth_find(ngx_http_inbox_api_t *api,
    inbox_store_t *store, inbox_error_t *err);

/* Set-Cookie for a new session id, or one that makes the browser forget
 * it.  NGX_ERROR when out of memory. */
ngx_int_t ngx_http_inbox_auth_set_cookie(ngx_http_request_t *r,
    const char *session_id);
ngx_int_t ngx_http_inbox_auth_clear_cookie(ngx_http_request_t *r);


#endif /* _NGX_HTTP_INBOX_AUTH_H_INCLUDED_ */
