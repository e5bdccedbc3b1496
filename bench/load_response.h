/*
 * Just enough of an HTTP/1.1 response parser for the load tool: the status
 * code, whether the connection stays open, and where the response ends
 * (Content-Length, chunked, or no body).  It works on the bytes read so
 * far and keeps no state: call it again when more arrive.
 */
#ifndef LOAD_RESPONSE_H
#define LOAD_RESPONSE_H

#include <stddef.h>

typedef struct {
    int      status;       /* 100..599 */
    int      keep_alive;   /* 0 when the server will close */
    size_t   length;       /* bytes of buf the whole response takes */
} load_response_t;

/* 1 with res filled when buf holds a whole response, 0 when more bytes
 * are needed, -1 when the bytes are not an HTTP/1.x response. */
int load_response_parse(const char *buf, size_t len, load_response_t *res);

#endif
