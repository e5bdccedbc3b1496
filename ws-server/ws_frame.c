/*
 * Frames as they go on the wire: built once per event, gathered per
 * connection.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "ws_frame.h"

#define WS_FRAME_FIN_TEXT   0x81        /* FIN, opcode 1 (text) */
#define WS_FRAME_FIN_CLOSE  0x88        /* FIN, opcode 8 (close) */
#define WS_FRAME_FIN_PING   0x89        /* FIN, opcode 9 (ping) */
#define WS_FRAME_REASON_MAX 123         /* control payloads: 125 bytes */


size_t
ws_frame_header(unsigned char out[WS_FRAME_HEADER_MAX], size_t payload_len)
{
    int       i;
    uint64_t  n;

    out[0] = WS_FRAME_FIN_TEXT;

    /* no mask bit: servers never mask */
    if (payload_len < 126) {
        out[1] = (unsigned char) payload_len;
        return 2;
    }

    if (payload_len <= 0xffff) {
        out[1] = 126;
        out[2] = (unsigned char) (payload_len >> 8);
        out[3] = (unsigned char) payload_len;
        return 4;
    }

    /* 64 bits, network order */
    out[1] = 127;
    n = (uint64_t) payload_len;

    for (i = 9; i >= 2; i--) {
        out[i] = (unsigned char) n;
        n >>= 8;
    }

    return 10;
}


size_t
ws_frame_close(unsigned char out[WS_FRAME_CLOSE_MAX], unsigned code,
    const char *reason)
{
    size_t  len;

    len = strlen(reason);
    if (len > WS_FRAME_REASON_MAX) {
        len = WS_FRAME_REASON_MAX;
    }

    out[0] = WS_FRAME_FIN_CLOSE;
    out[1] = (unsigned char) (2 + len);
    out[2] = (unsigned char) (code >> 8);
    out[3] = (unsigned char) code;
    memcpy(out + 4, reason, len);

    return 4 + len;
}


ws_frame_t *
ws_frame_new(const char *payload, size_t len)
{
    size_t          hlen;
    ws_frame_t     *frame;
    unsigned char   header[WS_FRAME_HEADER_MAX];

    hlen = ws_frame_header(header, len);

    frame = malloc(sizeof(ws_frame_t) + hlen + len);
    if (frame == NULL) {
        return NULL;
    }

    frame->refs = 0;
    frame->len = hlen + len;
    memcpy(frame->bytes, header, hlen);
    memcpy(frame->bytes + hlen, payload, len);

    return frame;
}


ws_frame_t *
ws_frame_ping(void)
{
    ws_frame_t  *frame;

    frame = malloc(sizeof(ws_frame_t) + 3);
    if (frame == NULL) {
        return NULL;
    }

    frame->refs = 0;
    frame->len = 3;
    frame->bytes[0] = WS_FRAME_FIN_PING;
    frame->bytes[1] = 1;
    frame->bytes[2] = 'k';

    return frame;
}


void
ws_frame_release(ws_frame_t *frame)
{
    if (--frame->refs == 0) {
        free(frame);
    }
}


size_t
ws_frame_gather(ws_frame_t *const *queue, size_t capacity, size_t head,
    size_t count, unsigned char *buf, size_t limit, size_t *taken)
{
    size_t       i, used;
    ws_frame_t  *frame;

    used = 0;

    for (i = 0; i < count; i++) {
        frame = queue[(head + i) % capacity];

        if (i > 0 && used + frame->len > limit) {
            break;
        }

        memcpy(buf + used, frame->bytes, frame->len);
        used += frame->len;
    }

    *taken = i;

    return used;
}
