/*
 * Parses the responses the load tool reads back.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "load_response.h"


static int header_is(const char *line, size_t len, const char *name);
static int header_has_token(const char *line, size_t len, const char *name,
    const char *token);
static int chunked_length(const char *buf, size_t len, size_t *length);


int
load_response_parse(const char *buf, size_t len, load_response_t *res)
{
    int          chunked, http10;
    size_t       head_len, body_len, line_len;
    const char  *end, *line, *next;

    end = memmem(buf, len, "\r\n\r\n", 4);
    if (end == NULL) {
        return len > 16384 ? -1 : 0;
    }

    head_len = end - buf + 4;

    if (head_len < 12 || memcmp(buf, "HTTP/1.", 7) != 0
        || !isdigit((unsigned char) buf[9])
        || !isdigit((unsigned char) buf[10])
        || !isdigit((unsigned char) buf[11]))
    {
        return -1;
    }

    http10 = (buf[7] == '0');
    res->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10
                  + (buf[11] - '0');
    res->keep_alive = !http10;

    chunked = 0;
    body_len = 0;

    line = memchr(buf, '\n', head_len) + 1;

    while (line < end) {
        next = memchr(line, '\n', end + 2 - line);
        line_len = next - line - 1;

        if (header_is(line, line_len, "Content-Length")) {
            body_len = strtoul(line + sizeof("Content-Length"), NULL, 10);

        } else if (header_has_token(line, line_len, "Transfer-Encoding",
                                    "chunked"))
        {
            chunked = 1;

        } else if (header_has_token(line, line_len, "Connection", "close")) {
            res->keep_alive = 0;

        } else if (header_has_token(line, line_len, "Connection",
                                    "keep-alive"))
        {
            res->keep_alive = 1;
        }

        line = next + 1;
    }

    /* 1xx, 204 and 304 have no body whatever the headers say. */
    if (res->status < 200 || res->status == 204 || res->status == 304) {
        res->length = head_len;
        return 1;
    }

    if (chunked) {
        switch (chunked_length(buf + head_len, len - head_len, &body_len)) {
        case 1:
            break;
        case 0:
            return 0;
        default:
            return -1;
        }
    }

    if (len < head_len + body_len) {
        return 0;
    }

    res->length = head_len + body_len;

    return 1;
}


static int
header_is(const char *line, size_t len, const char *name)
{
    size_t  n;

    n = strlen(name);

    return len > n && line[n] == ':' && strncasecmp(line, name, n) == 0;
}


static int
header_has_token(const char *line, size_t len, const char *name,
    const char *token)
{
    size_t       n, tlen;
    const char  *p, *last;

    if (!header_is(line, len, name)) {
        return 0;
    }

    n = strlen(name) + 1;
    tlen = strlen(token);
    last = line + len;

    for (p = line + n; p + tlen <= last; p++) {
        if (strncasecmp(p, token, tlen) == 0) {
            return 1;
        }
    }

    return 0;
}


/* 1 with the chunked body's whole length, 0 when incomplete, -1 when
 * malformed. */
static int
chunked_length(const char *buf, size_t len, size_t *length)
{
    char         *num_end;
    size_t        pos, size;
    const char   *crlf;

    pos = 0;

    for ( ;; ) {
        crlf = memmem(buf + pos, len - pos, "\r\n", 2);
        if (crlf == NULL) {
            return 0;
        }

        size = strtoul(buf + pos, &num_end, 16);
        if (num_end == buf + pos) {
            return -1;
        }

        pos = crlf - buf + 2;

        if (size == 0) {
            /* No trailers from the servers we measure: the final CRLF. */
            if (len - pos < 2) {
                return 0;
            }
            *length = pos + 2;
            return 1;
        }

        if (len - pos < size + 2) {
            return 0;
        }

        pos += size + 2;
    }
}
