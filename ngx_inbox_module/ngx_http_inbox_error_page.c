
/*
 * The contract's JSON for errors nginx itself answers: a malformed request
 * line or header, a body over client_max_body_size, an upstream (ws-server)
 * that is down.  config/inbox-server.conf sends them here with
 *
 *     error_page 400 413 ... /.inbox/error;
 *     location = /.inbox/error { internal; inbox_error_page; }
 *
 * so that every error a client of /api/, /webhooks/ or /ws sees has the
 * same shape, whichever part of nginx produced it.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_inbox_module.h"
#include "ngx_http_inbox_body.h"
#include "ngx_http_inbox_reply.h"


typedef struct {
    ngx_uint_t   status;
    const char  *code;
    const char  *message;
} ngx_http_inbox_error_page_t;


static const ngx_http_inbox_error_page_t  ngx_http_inbox_error_pages[] = {

    { NGX_HTTP_BAD_REQUEST, "invalid_request",
      "The request is malformed (its request line, a header or the URL) "
      "or its headers are too large; correct it and try again." },

    { NGX_HTTP_UNAUTHORIZED, "unauthenticated",
      "Sign in or send a valid API token." },

    { NGX_HTTP_FORBIDDEN, "forbidden",
      "You are not allowed to do this." },

    { NGX_HTTP_NOT_FOUND, "not_found",
      "Nothing is here; check the URL." },

    { NGX_HTTP_NOT_ALLOWED, "method_not_allowed",
      "This method is not allowed here." },

    { NGX_HTTP_REQUEST_TIME_OUT, "request_timeout",
      "The request took too long to arrive; send it again." },

    { NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "too_large",
      "The request body is larger than this endpoint accepts." },

    { NGX_HTTP_REQUEST_URI_TOO_LARGE, "too_large",
      "The URL is longer than this server accepts." },

    { 429, "rate_limited",
      "Too many requests; wait a moment and try again." },

    { NGX_HTTP_REQUEST_HEADER_TOO_LARGE, "too_large",
      "The request headers are larger than this server accepts." },

    { NGX_HTTP_RANGE_NOT_SATISFIABLE, "invalid_request",
      "The requested range is not within the file." },

    { NGX_HTTP_NOT_IMPLEMENTED, "invalid_request",
      "This server does not support the request's method or transfer "
      "coding." },


    { NGX_HTTP_VERSION_NOT_SUPPORTED, "invalid_request",
      "This server does not support the request's HTTP version." },

    { 0, NULL, NULL }
};


static ngx_int_t ngx_http_inbox_error_page_handler(ngx_http_request_t *r);
static void ngx_http_inbox_error_page_forget(ngx_http_request_t *r);
static ngx_uint_t ngx_http_inbox_error_page_allows(ngx_http_request_t *r);


char *
ngx_http_inbox_error_page(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler) {
        return "is duplicate";
    }

    clcf->handler = ngx_http_inbox_error_page_handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_inbox_error_page_handler(ngx_http_request_t *r)
{
    ngx_uint_t                          status;
    const char                         *code, *message;
    const ngx_http_inbox_error_page_t  *page;

    /* an error page keeps the status it stands for in err_status */
    status = r->err_status ? r->err_status : r->headers_out.status;

    for (page = ngx_http_inbox_error_pages; page->status; page++) {
        if (page->status == status) {
            break;
        }
    }

    if (page->status) {
        code = page->code;
        message = page->message;

    } else if (status >= NGX_HTTP_BAD_REQUEST
               && status < NGX_HTTP_INTERNAL_SERVER_ERROR)
    {
        code = "invalid_request";
        message = "The request cannot be served as sent.";

    } else if (status == NGX_HTTP_SERVICE_UNAVAILABLE) {
        code = "unavailable";
        message = inbox_status_server_message(INBOX_ERR_UNAVAILABLE);

    } else {
        code = "internal";
        message = inbox_status_server_message(INBOX_ERR_INTERNAL);
    }

    /* nginx's own codes (494 to 499) go out as the HTTP status they
     * stand for; a proxied service that is down is "unavailable" */

    if (status >= NGX_HTTP_REQUEST_HEADER_TOO_LARGE
        && status < NGX_HTTP_INTERNAL_SERVER_ERROR)
    {
        status = NGX_HTTP_BAD_REQUEST;

    } else if (status == NGX_HTTP_BAD_GATEWAY
               || status == NGX_HTTP_GATEWAY_TIME_OUT)
    {
        status = NGX_HTTP_SERVICE_UNAVAILABLE;
        code = "unavailable";
        message = inbox_status_server_message(INBOX_ERR_UNAVAILABLE);

    } else if (status < NGX_HTTP_BAD_REQUEST) {
        status = NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the request is over whatever its method was: never read a body */
    if (ngx_http_inbox_body_refuse(r) != NGX_OK) {
        r->keepalive = 0;
    }

    r->err_status = 0;
    r->header_only = (r->method == NGX_HTTP_HEAD);

    ngx_http_inbox_error_page_forget(r);

    /* a 405 names what is allowed (RFC 9110); nginx's own (a static
     * file's POST or DELETE, TRACE anywhere) come without: its files
     * take GET and HEAD */
    if (status == NGX_HTTP_NOT_ALLOWED
        && !ngx_http_inbox_error_page_allows(r)
        && ngx_http_inbox_reply_header(r, "Allow", "GET, HEAD") != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_inbox_reply_code(r, status, code, message);
}


/* 1 when the answer has an Allow header already. */

static ngx_uint_t
ngx_http_inbox_error_page_allows(ngx_http_request_t *r)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return 0;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash != 0
            && h[i].key.len == sizeof("Allow") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Allow",
                               h[i].key.len) == 0)
        {
            return 1;
        }
    }
}


/*
 * Headers the failed location set for its success stay on the request
 * through the redirect here: a media file's year-long Cache-Control,
 * added before the range filter turned the answer into a 416, must not
 * go out with the error, nor its Content-Disposition (the error is no
 * download), nor its nosniff twice (this location adds its own).
 */
static ngx_str_t  ngx_http_inbox_error_page_forgotten[] = {
    ngx_string("Cache-Control"),
    ngx_string("Content-Disposition"),
    ngx_string("X-Content-Type-Options"),
};


static void
ngx_http_inbox_error_page_forget(ngx_http_request_t *r)
{
    ngx_uint_t        i, k;
    ngx_str_t        *name;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        for (k = 0; k < sizeof(ngx_http_inbox_error_page_forgotten)
                        / sizeof(ngx_str_t); k++)
        {
            name = &ngx_http_inbox_error_page_forgotten[k];

            if (h[i].key.len == name->len
                && ngx_strncasecmp(h[i].key.data, name->data, name->len)
                   == 0)
            {
                h[i].hash = 0;
            }
        }
    }

#if (nginx_version < 1023000)
    r->headers_out.cache_control.nelts = 0;
#else
    r->headers_out.cache_control = NULL;
#endif
}
