
/*
 * Request bodies: read whole (for the JSON API and webhooks, whose bodies
 * are small and bounded) or only measured (a binary API body, which its
 * pool thread reads, piece by piece), and what their Content-Type says.
 */


#ifndef _NGX_HTTP_INBOX_BODY_H_INCLUDED_
#define _NGX_HTTP_INBOX_BODY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <inbox/error.h>


/* One piece of a request body: in memory, or a range of its file. */
typedef struct {
    u_char        *pos;          /* NULL: in the file */
    ngx_fd_t       fd;
    off_t          offset;
    size_t         len;
} ngx_http_inbox_piece_t;

/* Takes a chunk of the body; INBOX_OK to go on. */
typedef inbox_status_t (*ngx_http_inbox_piece_pt)(void *data,
    const char *p, size_t len, inbox_error_t *err);


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

/* Where the body ngx_http_read_client_request_body read is, as an array
 * of ngx_http_inbox_piece_t from the pool, for a pool thread to read
 * while the request (which keeps the buffers and the file) waits for it.
 * NGX_ERROR when out of memory. */
ngx_int_t ngx_http_inbox_body_pieces(ngx_http_request_t *r,
    ngx_array_t **pieces);

/* In a pool thread: hands the body to fn a chunk at a time, in order (the
 * file's pieces read 64 KB at a time).  fn's status when it is not
 * INBOX_OK; INBOX_ERR_INTERNAL when the file cannot be read back. */
inbox_status_t ngx_http_inbox_pieces_each(ngx_array_t *pieces,
    ngx_http_inbox_piece_pt fn, void *data, inbox_error_t *err);

/* In a pool thread: the body's first n bytes (fewer for a shorter body)
 * into buf; their number, or -1 when the file cannot be read back. */
ssize_t ngx_http_inbox_pieces_head(ngx_array_t *pieces, u_char *buf,
    size_t n);

/*
 * For an answer that refuses the request before its body was read: the
 * body is discarded without being asked for (no "100 Continue", as for
 * nginx's own 413), and when more of it is still to come the connection
 * closes after the answer rather than stay open for the rest.  NGX_OK, or
 * a code for ngx_http_finalize_request.
 */
ngx_int_t ngx_http_inbox_body_refuse(ngx_http_request_t *r);

/* 1 when the request's Content-Type is the media type type ("a/b", any
 * case), with or without parameters. */
ngx_uint_t ngx_http_inbox_content_type_is(ngx_http_request_t *r,
    const char *type);


#endif /* _NGX_HTTP_INBOX_BODY_H_INCLUDED_ */
