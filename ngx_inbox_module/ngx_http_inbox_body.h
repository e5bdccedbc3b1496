
/*
 * Request bodies: read whole (for the JSON API and webhooks, whose bodies
 * are small and bounded) or only measured (a binary API body, which its
 * pool thread reads), and what their Content-Type says.
 */


#ifndef _NGX_HTTP_INBOX_BODY_H_INCLUDED_
#define _NGX_HTTP_INBOX_BODY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/*
 * The body ngx_http_read_client_request_body read, as one string
 * (NUL-terminated, from the pool), from memory buffers or the temporary
 * file.  NGX_DECLINED when it is longer than max (a chunked body has no
 * length to check beforehand); NGX_ERROR when out of memory or the file
 * cannot be read.
 */
ngx_int_t ngx_http_inbox_request_body(ngx_http_request_t *r, size_t max,
    ngx_str_t *body);

/* NGX_OK when the body ngx_http_read_client_request_body read, in memory
 * or in its temporary file, is at most max bytes, else NGX_DECLINED; the
 * body itself is not touched (a large one is read in a pool thread). */
ngx_int_t ngx_http_inbox_request_body_size(ngx_http_request_t *r,
    size_t max);

/* 1 when the request's Content-Type is the media type type ("a/b", any
 * case), with or without parameters. */
ngx_uint_t ngx_http_inbox_content_type_is(ngx_http_request_t *r,
    const char *type);


#endif /* _NGX_HTTP_INBOX_BODY_H_INCLUDED_ */
