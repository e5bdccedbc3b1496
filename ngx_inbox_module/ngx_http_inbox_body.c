
/*
 * Request bodies: read whole or measured, and what their Content-Type
 * says.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_inbox_body.h"


ngx_int_t
ngx_http_inbox_request_body(ngx_http_request_t *r, size_t max,
    ngx_str_t *body)
{
    u_char       *p;
    size_t        len, size;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    len = 0;

    if (r->request_body == NULL) {
        ngx_str_set(body, "");
        return NGX_OK;
    }

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        len += ngx_buf_size(cl->buf);
    }

    if (len > max) {
        return NGX_DECLINED;
    }

    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (!b->in_file) {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
            continue;
        }

        /* a small file (at most max bytes): reading it blocks briefly */

        size = (size_t) (b->file_last - b->file_pos);

        n = ngx_read_file(b->file, p, size, b->file_pos);

        if (n != (ssize_t) size) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "inbox: could not read the request body from %V",
                          &b->file->name);
            return NGX_ERROR;
        }

        p += size;
    }

    *p = '\0';
    body->len = p - body->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_inbox_request_body_size(ngx_http_request_t *r, size_t max)
{
    off_t         len;
    ngx_chain_t  *cl;

    len = 0;

    if (r->request_body != NULL) {
        for (cl = r->request_body->bufs; cl; cl = cl->next) {
            len += ngx_buf_size(cl->buf);
        }
    }

    return (len > (off_t) max) ? NGX_DECLINED : NGX_OK;
}


ngx_uint_t
ngx_http_inbox_content_type_is(ngx_http_request_t *r, const char *type)
{
    size_t      len;
    u_char     *p, *end;
    ngx_str_t  *value;

    if (r->headers_in.content_type == NULL) {
        return 0;
    }

    value = &r->headers_in.content_type->value;
    len = ngx_strlen(type);

    if (value->len < len
        || ngx_strncasecmp(value->data, (u_char *) type, len) != 0)
    {
        return 0;
    }

    /* then nothing, or parameters ("; charset=utf-8") */

    p = value->data + len;
    end = value->data + value->len;

    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }

    return p == end || *p == ';';
}
