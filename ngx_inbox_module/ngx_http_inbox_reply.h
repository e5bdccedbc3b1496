
/*
 * Responses: JSON documents, the contract's JSON errors and TwiML.
 *
 * Each function sends the header and the whole body and returns what
 * ngx_http_output_filter returned, for ngx_http_finalize_request.  Bodies
 * are copied into the request pool: the caller keeps what it passed.
 */


#ifndef _NGX_HTTP_INBOX_REPLY_H_INCLUDED_
#define _NGX_HTTP_INBOX_REPLY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <inbox/error.h>


ngx_int_t ngx_http_inbox_reply(ngx_http_request_t *r, ngx_uint_t status,
    const char *content_type, const char *body, size_t len);

/* With "Content-Type: application/json" and "Cache-Control: no-store". */
ngx_int_t ngx_http_inbox_reply_json(ngx_http_request_t *r, ngx_uint_t status,
    const char *json, size_t len);

/* inbox_render_error's body with the error's HTTP status (and
 * Retry-After for rate_limited); logs it once (5xx as errors, the
 * client's mistakes at the info level). */
ngx_int_t ngx_http_inbox_reply_error(ngx_http_request_t *r,
    const inbox_error_t *err);

/* The same with a body of its own that says more than err (an import
 * stopped partway: what it stored); the caller keeps json. */
ngx_int_t ngx_http_inbox_reply_error_json(ngx_http_request_t *r,
    const inbox_error_t *err, const char *json, size_t len);

/* The same for an error made here, from a constant message. */
ngx_int_t ngx_http_inbox_reply_status(ngx_http_request_t *r,
    inbox_status_t code, const char *field, const char *message);

/* 429 rate_limited, with "Retry-After: seconds". */
ngx_int_t ngx_http_inbox_reply_rate_limited(ngx_http_request_t *r,
    ngx_uint_t seconds, const char *message);

/* {"error":{"code","message"}} for an error that has no inbox_status_t
 * (nginx's own errors); not logged. */
ngx_int_t ngx_http_inbox_reply_code(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *message);

/* 405 method_not_allowed, with "Allow: allow". */
ngx_int_t ngx_http_inbox_reply_not_allowed(ngx_http_request_t *r,
    const char *allow);

/* Adds a response header; name and value must outlive the request (a
 * constant, or the request pool). */
ngx_int_t ngx_http_inbox_reply_header(ngx_http_request_t *r,
    const char *name, const char *value);


#endif /* _NGX_HTTP_INBOX_REPLY_H_INCLUDED_ */
