
/*
 * Request bodies: read whole, measured or in pieces, and what their
 * Content-Type says.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <stdlib.h>
#include <unistd.h>

#include "ngx_http_inbox_body.h"


#define NGX_HTTP_INBOX_PIECE_CHUNK  (64 * 1024)


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
            /* an empty chunked body leaves a buffer with no memory */
            if (b->last != b->pos) {
                p = ngx_cpymem(p, b->pos, b->last - b->pos);
            }
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


ngx_int_t
ngx_http_inbox_body_pieces(ngx_http_request_t *r, ngx_array_t **pieces)
{
    ngx_buf_t               *b;
    ngx_chain_t             *cl;
    ngx_http_inbox_piece_t  *piece;

    *pieces = ngx_array_create(r->pool, 4, sizeof(ngx_http_inbox_piece_t));
    if (*pieces == NULL) {
        return NGX_ERROR;
    }

    for (cl = r->request_body ? r->request_body->bufs : NULL; cl;
         cl = cl->next)
    {
        b = cl->buf;

        if (ngx_buf_size(b) == 0) {
            continue;
        }

        piece = ngx_array_push(*pieces);
        if (piece == NULL) {
            return NGX_ERROR;
        }

        if (b->in_file) {
            piece->pos = NULL;
            piece->fd = b->file->fd;
            piece->offset = b->file_pos;
            piece->len = b->file_last - b->file_pos;

        } else {
            piece->pos = b->pos;
            piece->fd = NGX_INVALID_FILE;
            piece->offset = 0;
            piece->len = b->last - b->pos;
        }
    }

    return NGX_OK;
}


/* In a pool thread: plain C only. */

inbox_status_t
ngx_http_inbox_pieces_each(ngx_array_t *pieces, ngx_http_inbox_piece_pt fn,
    void *data, inbox_error_t *err)
{
    char                    *chunk;
    size_t                   done, want;
    ssize_t                  n;
    ngx_uint_t               i;
    inbox_status_t           rc;
    ngx_http_inbox_piece_t  *piece;

    chunk = malloc(NGX_HTTP_INBOX_PIECE_CHUNK);
    if (chunk == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "out of memory");
    }

    piece = pieces->elts;
    rc = INBOX_OK;

    for (i = 0; rc == INBOX_OK && i < pieces->nelts; i++) {

        if (piece[i].pos != NULL) {
            rc = fn(data, (const char *) piece[i].pos, piece[i].len, err);
            continue;
        }

        for (done = 0; rc == INBOX_OK && done < piece[i].len; done += n) {
            want = piece[i].len - done;
            if (want > NGX_HTTP_INBOX_PIECE_CHUNK) {
                want = NGX_HTTP_INBOX_PIECE_CHUNK;
            }

            n = pread(piece[i].fd, chunk, want, piece[i].offset + done);

            if (n <= 0) {
                rc = inbox_error_set(err, INBOX_ERR_INTERNAL,
                                     "The upload could not be read back.");
                break;
            }

            rc = fn(data, chunk, (size_t) n, err);
        }
    }

    free(chunk);

    return rc;
}


ssize_t
ngx_http_inbox_pieces_head(ngx_array_t *pieces, u_char *buf, size_t n)
{
    size_t                   got, want;
    ssize_t                  k;
    ngx_uint_t               i;
    ngx_http_inbox_piece_t  *piece;

    piece = pieces->elts;
    got = 0;

    for (i = 0; got < n && i < pieces->nelts; i++) {
        want = ngx_min(n - got, piece[i].len);

        if (piece[i].pos != NULL) {
            ngx_memcpy(buf + got, piece[i].pos, want);
            got += want;
            continue;
        }

        k = pread(piece[i].fd, buf + got, want, piece[i].offset);

        if (k != (ssize_t) want) {
            return -1;
        }

        got += want;
    }

    return (ssize_t) got;
}


ngx_int_t
ngx_http_inbox_body_refuse(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    r->expect_tested = 1;

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    if (r->discard_body) {
        /* "Connection: close": a client waiting for "100 Continue" sends
         * nothing more, and one sending learns to stop */
        r->keepalive = 0;
    }

    return NGX_OK;
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
