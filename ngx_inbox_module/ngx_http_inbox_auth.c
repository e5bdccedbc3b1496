
/*
 * Credentials: bearer tokens, session cookies and the CSRF guard (see
 * ngx_http_inbox_auth.h).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <inbox/session.h>
#include <inbox/token.h>

#include "ngx_http_inbox_module.h"
#include "ngx_http_inbox_auth.h"
#include "ngx_http_inbox_reply.h"


static inbox_status_t ngx_http_inbox_auth_nobody(ngx_http_inbox_api_t *api,
    inbox_error_t *err);
static ngx_int_t ngx_http_inbox_auth_bearer(ngx_http_request_t *r,
    ngx_str_t *token);
static ngx_int_t ngx_http_inbox_auth_cookie(ngx_http_request_t *r,
    ngx_str_t *value);
static ngx_uint_t ngx_http_inbox_auth_secure(ngx_http_request_t *r);
static ngx_int_t ngx_http_inbox_auth_cookie_header(ngx_http_request_t *r,
    const char *value, const char *max_age);


inbox_status_t
ngx_http_inbox_auth_check(ngx_http_request_t *r, ngx_http_inbox_api_t *api,
    inbox_error_t *err)
{
    ngx_str_t         value;
    ngx_uint_t        cookie_first;
    ngx_table_elt_t  *h;

    /* what cannot be a token or a session id finds none (an empty
     * hash); a route for sessions only (logout) takes the cookie even
     * beside a bearer token, which a browser may send with it */

    cookie_first = api->route->auth == NGX_HTTP_INBOX_AUTH_SESSION
                   && ngx_http_inbox_auth_cookie(r, &value) == NGX_OK;

    if (cookie_first) {
        api->credential = NGX_HTTP_INBOX_CREDENTIAL_SESSION;

        if (inbox_session_id_valid((char *) value.data, value.len)) {
            inbox_session_hash((char *) value.data, value.len,
                               api->credential_hash);
        }

    } else if (ngx_http_inbox_auth_bearer(r, &value) == NGX_OK) {
        api->credential = NGX_HTTP_INBOX_CREDENTIAL_BEARER;

        if (inbox_token_valid((char *) value.data, value.len)) {
            inbox_token_hash((char *) value.data, value.len,
                             api->credential_hash);
        }

    } else if (ngx_http_inbox_auth_cookie(r, &value) == NGX_OK) {
        api->credential = NGX_HTTP_INBOX_CREDENTIAL_SESSION;

        if (inbox_session_id_valid((char *) value.data, value.len)) {
            inbox_session_hash((char *) value.data, value.len,
                               api->credential_hash);
        }
    }

    switch (api->route->auth) {

    case NGX_HTTP_INBOX_AUTH_NONE:
        return INBOX_OK;

    case NGX_HTTP_INBOX_AUTH_SESSION:
        if (api->credential == NGX_HTTP_INBOX_CREDENTIAL_BEARER) {
            return inbox_error_set_field(err, INBOX_ERR_INVALID,
                                         "authorization",
                                         "Signing out ends a browser "
                                         "session; an API token stays "
                                         "valid until an operator revokes "
                                         "it (inboxctl token revoke).");
        }

        if (api->credential != NGX_HTTP_INBOX_CREDENTIAL_SESSION) {
            return inbox_error_set(err, INBOX_ERR_UNAUTHENTICATED,
                                   "You are not signed in.");
        }
        break;

    default:
        if (api->credential == NGX_HTTP_INBOX_CREDENTIAL_NONE) {
            return inbox_error_set(err, INBOX_ERR_UNAUTHENTICATED,
                                   "Sign in, or send an API token as "
                                   "\"Authorization: Bearer TOKEN\".");
        }
        break;
    }

    /* refused here, before any body is read: the store knows nobody by
     * it */
    if (api->credential_hash[0] == '\0') {
        return ngx_http_inbox_auth_nobody(api, err);
    }

    if (api->credential != NGX_HTTP_INBOX_CREDENTIAL_SESSION
        || r->method == NGX_HTTP_GET || r->method == NGX_HTTP_HEAD)
    {
        return INBOX_OK;
    }

    h = ngx_http_inbox_header(r, NGX_HTTP_INBOX_CSRF_HEADER);

    if (h == NULL
        || h->value.len != sizeof(NGX_HTTP_INBOX_CSRF_VALUE) - 1
        || ngx_strncasecmp(h->value.data,
                           (u_char *) NGX_HTTP_INBOX_CSRF_VALUE,
                           h->value.len) != 0)
    {
        return inbox_error_set(err, INBOX_ERR_FORBIDDEN,
                               "A change made with a session cookie must "
                               "carry the header \"" NGX_HTTP_INBOX_CSRF_HEADER
                               ": " NGX_HTTP_INBOX_CSRF_VALUE "\".");
    }

    return INBOX_OK;
}


/* In a pool thread. */

inbox_status_t
ngx_http_inbox_auth_find(ngx_http_inbox_api_t *api, inbox_store_t *store,
    inbox_error_t *err)
{
    /* read on every request, never cached: a revoked token or ended
     * session fails from the next request on, with libinbox's message */

    if (api->credential_hash[0] == '\0') {
        return ngx_http_inbox_auth_nobody(api, err);
    }

    if (api->credential == NGX_HTTP_INBOX_CREDENTIAL_BEARER) {
        return inbox_store_token_find(store, api->credential_hash,
                                      &api->principal, err);
    }

    return inbox_store_session_find(store, api->credential_hash,
                                    &api->principal, err);
}


/* The 401 of a credential that is no token or session, or none. */

static inbox_status_t
ngx_http_inbox_auth_nobody(ngx_http_inbox_api_t *api, inbox_error_t *err)
{
    switch (api->credential) {

    case NGX_HTTP_INBOX_CREDENTIAL_BEARER:
        /* as the store answers a token it does not know */
        return inbox_token_unknown(err);

    case NGX_HTTP_INBOX_CREDENTIAL_SESSION:
        return inbox_error_set(err, INBOX_ERR_UNAUTHENTICATED,
                               "Your session has ended; sign in again.");

    default:
        return inbox_error_set(err, INBOX_ERR_UNAUTHENTICATED,
                               "You are not signed in.");
    }
}


/* "Authorization: Bearer TOKEN": NGX_DECLINED when it is not there. */

static ngx_int_t
ngx_http_inbox_auth_bearer(ngx_http_request_t *r, ngx_str_t *token)
{
    u_char     *p, *end;
    ngx_str_t  *value;

    if (r->headers_in.authorization == NULL) {
        return NGX_DECLINED;
    }

    value = &r->headers_in.authorization->value;

    if (value->len < sizeof("Bearer ") - 1
        || ngx_strncasecmp(value->data, (u_char *) "Bearer ",
                           sizeof("Bearer ") - 1) != 0)
    {
        return NGX_DECLINED;
    }

    p = value->data + sizeof("Bearer ") - 1;
    end = value->data + value->len;

    while (p < end && *p == ' ') {
        p++;
    }

    while (end > p && end[-1] == ' ') {
        end--;
    }

    if (p == end) {
        return NGX_DECLINED;
    }

    token->data = p;
    token->len = end - p;

    return NGX_OK;
}


/* The session cookie's value: NGX_DECLINED when there is none. */

static ngx_int_t
ngx_http_inbox_auth_cookie(ngx_http_request_t *r, ngx_str_t *value)
{
    ngx_str_t  name;

    if (ngx_http_inbox_auth_secure(r)) {
        ngx_str_set(&name, INBOX_SESSION_COOKIE_SECURE);

    } else {
        ngx_str_set(&name, INBOX_SESSION_COOKIE);
    }

#if (nginx_version >= 1023000)
    if (ngx_http_parse_multi_header_lines(r, r->headers_in.cookie, &name,
                                          value)
        == NULL)
    {
        return NGX_DECLINED;
    }
#else
    if (ngx_http_parse_multi_header_lines(&r->headers_in.cookies, &name,
                                          value)
        == NGX_DECLINED)
    {
        return NGX_DECLINED;
    }
#endif

    return value->len ? NGX_OK : NGX_DECLINED;
}


/* Whether the inbox is reached over https: the cookie is Secure then. */

static ngx_uint_t
ngx_http_inbox_auth_secure(ngx_http_request_t *r)
{
    ngx_str_t  base;

    if (ngx_http_inbox_public_base(r, &base) != NGX_OK) {
        /* out of memory: the safer cookie */
        return 1;
    }

    return base.len > 8 && ngx_strncasecmp(base.data, (u_char *) "https://",
                                           8) == 0;
}


ngx_int_t
ngx_http_inbox_auth_set_cookie(ngx_http_request_t *r, const char *session_id)
{
    static u_char  max_age[NGX_INT64_LEN + 1];

    /* the browser may keep it as long as the session can last; the
     * server ends it sooner when it is left idle */
    ngx_sprintf(max_age, "%L%Z",
                (int64_t) (INBOX_SESSION_ABSOLUTE_MS / 1000));

    return ngx_http_inbox_auth_cookie_header(r, session_id,
                                             (char *) max_age);
}


ngx_int_t
ngx_http_inbox_auth_clear_cookie(ngx_http_request_t *r)
{
    return ngx_http_inbox_auth_cookie_header(r, "", "0");
}


static ngx_int_t
ngx_http_inbox_auth_cookie_header(ngx_http_request_t *r, const char *value,
    const char *max_age)
{
    u_char      *cookie, *p;
    size_t       len;
    ngx_uint_t   secure;
    const char  *name;

    secure = ngx_http_inbox_auth_secure(r);
    name = secure ? INBOX_SESSION_COOKIE_SECURE : INBOX_SESSION_COOKIE;

    len = ngx_strlen(name) + 1 + ngx_strlen(value)
          + sizeof("; Path=/; Max-Age=") - 1 + ngx_strlen(max_age)
          + sizeof("; HttpOnly; SameSite=Lax; Secure");

    cookie = ngx_pnalloc(r->pool, len);
    if (cookie == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(cookie, "%s=%s; Path=/; Max-Age=%s; HttpOnly; "
                    "SameSite=Lax", name, value, max_age);

    if (secure) {
        p = ngx_cpymem(p, "; Secure", sizeof("; Secure") - 1);
    }

    *p = '\0';

    return ngx_http_inbox_reply_header(r, "Set-Cookie", (char *) cookie);
}
