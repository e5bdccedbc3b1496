
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

#include <stdlib.h>

#include <inbox/render.h>

#include "ngx_http_inbox_module.h"
#include "ngx_http_inbox_reply.h"


typedef struct {
    ngx_uint_t   status;
    const char  *code;
    const char  *message;
} ngx_http_inbox_error_page_t;


static const char  ngx_http_inbox_unavailable[] =
    "The service is unavailable for a moment; try again shortly.";


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

    { NGX_HTTP_SERVICE_UNAVAILABLE, "unavailable",
      ngx_http_inbox_unavailable },

    { 0, NULL, NULL }
};


static ngx_int_t ngx_http_inbox_error_page_handler(ngx_http_request_t *r);


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
    char                               *json;
    size_t                              len;
    yajl_gen                            g;
    ngx_int_t                           rc;
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

    } else {
        code = "internal";
        message = "Something went wrong on our side; try again, and tell "
                  "the operator if it lasts.";
    }

    /* nginx's own codes (494, 495–499) go out as the HTTP status they
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
        message = ngx_http_inbox_unavailable;

    } else if (status < NGX_HTTP_BAD_REQUEST) {
        status = NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the request is over whatever its method was: never read a body */
    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    r->err_status = 0;
    r->header_only = (r->method == NGX_HTTP_HEAD);

    g = inbox_json_begin();
    if (g == NULL) {
        return NGX_ERROR;
    }

    yajl_gen_map_open(g);
    inbox_json_key(g, "error");
    yajl_gen_map_open(g);
    inbox_json_key(g, "code");
    inbox_json_string(g, code);
    inbox_json_key(g, "message");
    inbox_json_string(g, message);
    yajl_gen_map_close(g);
    yajl_gen_map_close(g);

    json = inbox_json_finish(g, &len);
    if (json == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_inbox_reply_json(r, status, json, len);

    free(json);

    return rc;
}
