/*
 * ws-server's wire frames: the shared header of an unmasked text frame at
 * each length boundary, the close frame, and the gathering of a
 * connection's queued frames into one send.
 */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "ws_frame.h"

TEST(a_frame_header_takes_2_4_or_10_bytes_and_is_never_masked)
{
    unsigned char  h[WS_FRAME_HEADER_MAX];

    /* 7-bit lengths up to 125 */
    CHECK(ws_frame_header(h, 0) == 2);
    CHECK(h[0] == 0x81 && h[1] == 0);
    CHECK(ws_frame_header(h, 125) == 2);
    CHECK(h[1] == 125);

    /* 126 to 65535: 126, then 16 bits big-endian */
    CHECK(ws_frame_header(h, 126) == 4);
    CHECK(h[1] == 126 && h[2] == 0 && h[3] == 126);
    CHECK(ws_frame_header(h, 693) == 4);
    CHECK(h[2] == 0x02 && h[3] == 0xb5);
    CHECK(ws_frame_header(h, 65535) == 4);
    CHECK(h[2] == 0xff && h[3] == 0xff);

    /* beyond: 127, then 64 bits big-endian; never the mask bit */
    CHECK(ws_frame_header(h, 65536) == 10);
    CHECK(h[0] == 0x81 && h[1] == 127);
    CHECK(h[2] == 0 && h[3] == 0 && h[4] == 0 && h[5] == 0);
    CHECK(h[6] == 0 && h[7] == 1 && h[8] == 0 && h[9] == 0);
}

TEST(a_frame_is_built_once_with_its_header_and_freed_on_the_last_release)
{
    ws_frame_t  *f;
    char        *big;

    f = ws_frame_new("{\"type\":\"hello\"}", 16);
    CHECK(f != NULL);
    CHECK(f->refs == 0);
    CHECK(f->len == 18);
    CHECK(f->bytes[0] == 0x81 && f->bytes[1] == 16);
    CHECK(memcmp(f->bytes + 2, "{\"type\":\"hello\"}", 16) == 0);
    f->refs = 2;
    ws_frame_release(f);
    CHECK(f->refs == 1);
    ws_frame_release(f);         /* freed: ASan would see a leak if not */

    big = malloc(70000);
    memset(big, 'x', 70000);
    f = ws_frame_new(big, 70000);
    CHECK(f != NULL && f->len == 70010 && f->bytes[1] == 127);
    CHECK(f->bytes[9 + 70000] == 'x');
    free(f);
    free(big);
}

TEST(the_close_frame_carries_code_and_reason_within_125_bytes)
{
    unsigned char  c[WS_FRAME_CLOSE_MAX];
    char           long_reason[200];

    CHECK(ws_frame_close(c, 4008, "slow consumer") == 17);
    CHECK(c[0] == 0x88 && c[1] == 15);
    CHECK(c[2] == 0x0f && c[3] == 0xa8);       /* 4008 */
    CHECK(memcmp(c + 4, "slow consumer", 13) == 0);

    /* a control frame's payload is at most 125 bytes */
    memset(long_reason, 'r', sizeof(long_reason) - 1);
    long_reason[sizeof(long_reason) - 1] = '\0';
    CHECK(ws_frame_close(c, 1000, long_reason) == 127);
    CHECK(c[1] == 125);
}

TEST(a_ping_carries_a_payload_so_that_its_pong_is_reported)
{
    ws_frame_t  *p;

    p = ws_frame_ping();
    CHECK(p != NULL && p->refs == 0 && p->len == 3);
    CHECK(p->bytes[0] == 0x89 && p->bytes[1] == 1);
    free(p);
}

TEST(queued_frames_are_gathered_whole_in_order_up_to_the_limit)
{
    size_t          n, taken, i;
    ws_frame_t     *ring[4];
    unsigned char   buf[256];
    static const char  *payloads[] = { "aaaa", "bb", "cccccc", "d" };

    for (i = 0; i < 4; i++) {
        ring[i] = ws_frame_new(payloads[i], strlen(payloads[i]));
        CHECK(ring[i] != NULL);
    }

    /* a wrapped ring: head 2, three frames: c, d, a */
    n = ws_frame_gather(ring, 4, 2, 3, buf, sizeof(buf), &taken);
    CHECK(taken == 3);
    CHECK(n == 8 + 3 + 6);
    CHECK(buf[0] == 0x81 && buf[1] == 6 && memcmp(buf + 2, "cccccc", 6) == 0);
    CHECK(buf[8] == 0x81 && buf[9] == 1 && buf[10] == 'd');
    CHECK(buf[11] == 0x81 && buf[12] == 4 && memcmp(buf + 13, "aaaa", 4) == 0);

    /* the limit stops before a frame that would not fit whole */
    n = ws_frame_gather(ring, 4, 0, 4, buf, 9, &taken);
    CHECK(taken == 1 && n == 6);
    n = ws_frame_gather(ring, 4, 0, 4, buf, 10, &taken);
    CHECK(taken == 2 && n == 10);

    /* the first frame always goes, whatever the limit */
    n = ws_frame_gather(ring, 4, 2, 1, buf, 1, &taken);
    CHECK(taken == 1 && n == 8);

    /* nothing queued */
    n = ws_frame_gather(ring, 4, 0, 0, buf, sizeof(buf), &taken);
    CHECK(taken == 0 && n == 0);

    for (i = 0; i < 4; i++) {
        free(ring[i]);
    }
}

RUN_TESTS()
