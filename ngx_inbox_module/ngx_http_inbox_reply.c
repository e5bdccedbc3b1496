
/*
 * Responses: JSON documents, the contract's JSON errors and TwiML.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <stdlib.h>

#include <inbox/render.h>

#include "ngx_http_inbox_reply.h"


static ngx_int_t ngx_http_inbox_reply_rendered(ngx_http_request_t *r,
    ngx_uint_t status, char *json, size_t len);
static ngx_int_t ngx_http_inbox_reply_error_head(ngx_http_request_t *r,
    const inbox_error_t *err);


ngx_int_t
ngx_http_inbox_reply(ngx_http_request_t *r, ngx_uint_t status,
    const char *content_type, const char *body, size_t len)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    r->headers_out.status = status;
    r->headers_out.content_length_n = len;
    r->headers_out.content_type.data = (u_char *) content_type;
    r->headers_out.content_type.len = ngx_strlen(content_type);
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    if (len == 0) {
        r->header_only = 1;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_cpymem(b->last, body, len);
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_http_inbox_reply_json(ngx_http_request_t *r, ngx_uint_t status,
    const char *json, size_t len)
{
    if (ngx_http_inbox_reply_header(r, "Cache-Control", "no-store")
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_inbox_reply(r, status, "application/json", json, len);
}


ngx_int_t
ngx_http_inbox_reply_error(ngx_http_request_t *r, const inbox_error_t *err)
{
    char    *json;
    size_t   len;

    if (ngx_http_inbox_reply_error_head(r, err) != NGX_OK) {
        return NGX_ERROR;
    }

    json = inbox_render_error(err, &len);

    return ngx_http_inbox_reply_rendered(r, inbox_status_http(err->code),
                                         json, len);
}


ngx_int_t
ngx_http_inbox_reply_error_json(ngx_http_request_t *r,
    const inbox_error_t *err, const char *json, size_t len)
{
    if (ngx_http_inbox_reply_error_head(r, err) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_inbox_reply_json(r, inbox_status_http(err->code), json,
                                     len);
}


/* An error's log line and what HTTP says of it besides the body. */

static ngx_int_t
ngx_http_inbox_reply_error_head(ngx_http_request_t *r,
    const inbox_error_t *err)
{
    int          status;
    u_char      *value;
    ngx_uint_t   level;

    status = inbox_status_http(err->code);

    level = (status >= NGX_HTTP_INTERNAL_SERVER_ERROR) ? NGX_LOG_ERR
                                                       : NGX_LOG_INFO;

    ngx_log_error(level, r->connection->log, 0,
                  "inbox: %d %s: %s%s%s", status,
                  inbox_status_code(err->code), err->message,
                  err->field[0] ? " field: " : "", err->field);

    if (err->code == INBOX_ERR_RATE_LIMITED) {
        value = ngx_pnalloc(r->pool, NGX_INT_T_LEN + 1);
        if (value == NULL) {
            return NGX_ERROR;
        }

        ngx_sprintf(value, "%ui%Z",
                    (ngx_uint_t) (err->retry_after ? err->retry_after : 1));

        if (ngx_http_inbox_reply_header(r, "Retry-After", (char *) value)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_inbox_reply_status(ngx_http_request_t *r, inbox_status_t code,
    const char *field, const char *message)
{
    inbox_error_t  err;

    if (field) {
        inbox_error_set_field(&err, code, field, "%s", message);

    } else {
        inbox_error_set(&err, code, "%s", message);
    }

    return ngx_http_inbox_reply_error(r, &err);
}


ngx_int_t
ngx_http_inbox_reply_rate_limited(ngx_http_request_t *r, ngx_uint_t seconds,
    const char *message)
{
    inbox_error_t  err;

    inbox_error_rate_limited(&err, (unsigned) seconds, "%s", message);

    return ngx_http_inbox_reply_error(r, &err);
}


ngx_int_t
ngx_http_inbox_reply_not_allowed(ngx_http_request_t *r, const char *allow)
{
    if (ngx_http_inbox_reply_header(r, "Allow", allow) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_inbox_reply_status(r, INBOX_ERR_METHOD_NOT_ALLOWED, NULL,
                                       "This method is not allowed here; "
                                       "see the Allow header for the ones "
                                       "that are.");
}


ngx_int_t
ngx_http_inbox_reply_header(ngx_http_request_t *r, const char *name,
    const char *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value.data = (u_char *) value;
    h->value.len = ngx_strlen(value);
    h->lowcase_key = NULL;

    return NGX_OK;
}


ngx_int_t
ngx_http_inbox_reply_code(ngx_http_request_t *r, ngx_uint_t status,
    const char *code, const char *message)
{
    char      *json;
    size_t     len;
    yajl_gen   g;

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

    return ngx_http_inbox_reply_rendered(r, status, json, len);
}


/* Sends a malloc'd JSON document and frees it. */

static ngx_int_t
ngx_http_inbox_reply_rendered(ngx_http_request_t *r, ngx_uint_t status,
    char *json, size_t len)
{
    ngx_int_t  rc;

    if (json == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "inbox: out of memory rendering a response");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_inbox_reply_json(r, status, json, len);

    free(json);

    return rc;
}
