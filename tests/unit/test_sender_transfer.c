/*
 * Whether a failed send may have reached the carrier, as the sender's
 * loop tells it (sender_reach_t), against a carrier on loopback that
 * misbehaves on cue: a thread here speaks just enough HTTP/1.1, or
 * HTTP/2 (cleartext, with prior knowledge, as curl speaks it over TLS to
 * a carrier that offers it), to refuse a request's stream or to drop a
 * kept-alive connection after reading a request, and then to take no
 * more connections.  libcurl itself runs: what it retries, and how it
 * ends, is what is tested.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "sender_loop.h"
#include "check.h"

#define BODY  "To=%2B15551230001&From=%2B15550001111&Body=hi"

typedef enum {
    CARRIER_H2_REFUSE_THEN_ANSWER,  /* stream refused, then a 200 */
    CARRIER_H2_REFUSE_THEN_GONE,    /* stream refused, then no listener */
    CARRIER_H1_ANSWER_THEN_DROP     /* a 200 kept alive, then the next
                                       request read and the carrier gone */
} carrier_script_t;

typedef struct {
    carrier_script_t  script;
    int               listener;
    int               port;
    int               requests;     /* read whole, on any connection */
    pthread_t         thread;
} carrier_t;

typedef struct {
    sender_transfer_t  t;
    int                done;
} send_t;


static int
read_full(int fd, void *buf, size_t len)
{
    ssize_t  n;
    size_t   got = 0;

    while (got < len) {
        n = read(fd, (char *) buf + got, len - got);
        if (n <= 0) {
            return -1;
        }
        got += (size_t) n;
    }

    return 0;
}


static void
write_all(int fd, const void *buf, size_t len)
{
    if (write(fd, buf, len) != (ssize_t) len) {
        fprintf(stderr, "    the carrier could not write\n");
    }
}


static void
h2_frame(int fd, uint8_t type, uint8_t flags, uint32_t stream,
    const void *payload, size_t len)
{
    unsigned char  head[9];

    head[0] = (unsigned char) (len >> 16);
    head[1] = (unsigned char) (len >> 8);
    head[2] = (unsigned char) len;
    head[3] = type;
    head[4] = flags;
    head[5] = (unsigned char) (stream >> 24);
    head[6] = (unsigned char) (stream >> 16);
    head[7] = (unsigned char) (stream >> 8);
    head[8] = (unsigned char) stream;

    write_all(fd, head, 9);
    if (len > 0) {
        write_all(fd, payload, len);
    }
}


/* An HTTP/2 connection's preface and frames up to the end of the first
 * request's stream; 0, or -1 when the client went. */
static int
h2_read_request(int fd)
{
    size_t         len;
    unsigned char  preface[24], head[9], payload[16384];

    if (read_full(fd, preface, sizeof(preface)) != 0
        || memcmp(preface, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24) != 0)
    {
        return -1;
    }

    /* the server's preface: its (empty) settings */
    h2_frame(fd, 4, 0, 0, NULL, 0);

    for ( ;; ) {
        if (read_full(fd, head, 9) != 0) {
            return -1;
        }

        len = ((size_t) head[0] << 16) | ((size_t) head[1] << 8) | head[2];
        if (len > sizeof(payload) || read_full(fd, payload, len) != 0) {
            return -1;
        }

        if (head[3] == 4 && !(head[4] & 1)) {
            h2_frame(fd, 4, 1, 0, NULL, 0);            /* SETTINGS ACK */
        }

        /* DATA or HEADERS that end the stream: the request is whole */
        if ((head[3] == 0 || head[3] == 1) && (head[4] & 1)) {
            return 0;
        }
    }
}


/* Waits for the client to close the connection, then closes it. */
static void
drain_and_close(int fd)
{
    char  buf[4096];

    while (read(fd, buf, sizeof(buf)) > 0) {
        /* void */
    }

    close(fd);
}


/* An HTTP/1.1 request, headers and Content-Length body; 0 or -1. */
static int
h1_read_request(int fd)
{
    char    buf[8192], *end, *cl;
    size_t  got = 0, want;
    ssize_t n;

    for ( ;; ) {
        n = read(fd, buf + got, sizeof(buf) - 1 - got);
        if (n <= 0) {
            return -1;
        }
        got += (size_t) n;
        buf[got] = '\0';

        end = strstr(buf, "\r\n\r\n");
        if (end == NULL) {
            continue;
        }

        cl = strcasestr(buf, "Content-Length:");
        want = (size_t) (end + 4 - buf)
               + (cl != NULL ? (size_t) atol(cl + 15) : 0);
        if (got >= want) {
            return 0;
        }
    }
}


static void *
carrier_run(void *arg)
{
    int         fd;
    carrier_t  *c = arg;
    static const char  ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                              "Content-Type: application/json\r\n\r\n{}";
    /* REFUSED_STREAM (RFC 9113 7) */
    static const unsigned char  refused[4] = { 0, 0, 0, 7 };
    /* HPACK's static table, index 8: ":status: 200" */
    static const unsigned char  status_200[1] = { 0x88 };

    fd = accept(c->listener, NULL, NULL);
    if (fd == -1) {
        return NULL;
    }

    switch (c->script) {

    case CARRIER_H2_REFUSE_THEN_ANSWER:
    case CARRIER_H2_REFUSE_THEN_GONE:
        if (h2_read_request(fd) != 0) {
            close(fd);
            return NULL;
        }
        c->requests++;

        if (c->script == CARRIER_H2_REFUSE_THEN_GONE) {
            /* no listener before the refusal: curl's retry finds none */
            close(c->listener);
            c->listener = -1;
        }

        h2_frame(fd, 3, 0, 1, refused, sizeof(refused));   /* RST_STREAM */
        drain_and_close(fd);

        if (c->script == CARRIER_H2_REFUSE_THEN_GONE) {
            return NULL;
        }

        fd = accept(c->listener, NULL, NULL);
        if (fd == -1 || h2_read_request(fd) != 0) {
            return NULL;
        }
        c->requests++;

        /* HEADERS, END_STREAM | END_HEADERS */
        h2_frame(fd, 1, 0x5, 1, status_200, sizeof(status_200));
        drain_and_close(fd);
        return NULL;

    case CARRIER_H1_ANSWER_THEN_DROP:
        if (h1_read_request(fd) != 0) {
            close(fd);
            return NULL;
        }
        c->requests++;
        write_all(fd, ok, sizeof(ok) - 1);

        /* the next request comes on the connection kept alive */
        if (h1_read_request(fd) != 0) {
            close(fd);
            return NULL;
        }
        c->requests++;

        /* gone (a restart) with it unanswered, taking no connection */
        close(c->listener);
        c->listener = -1;
        close(fd);
        return NULL;
    }

    return NULL;
}


static void
carrier_start(carrier_t *c, carrier_script_t script)
{
    int                 one = 1;
    socklen_t           len;
    struct sockaddr_in  sin;

    memset(c, 0, sizeof(*c));
    c->script = script;

    c->listener = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(c->listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    CHECK(bind(c->listener, (struct sockaddr *) &sin, sizeof(sin)) == 0);
    CHECK(listen(c->listener, 8) == 0);

    len = sizeof(sin);
    getsockname(c->listener, (struct sockaddr *) &sin, &len);
    c->port = ntohs(sin.sin_port);

    CHECK(pthread_create(&c->thread, NULL, carrier_run, c) == 0);
}


static void
carrier_stop(carrier_t *c)
{
    pthread_join(c->thread, NULL);
    if (c->listener != -1) {
        close(c->listener);
    }
}


static void
send_done(sender_transfer_t *t)
{
    ((send_t *) t->data)->done = 1;
}


/* POSTs a carrier's form to the carrier's port and runs the loop until it
 * ends. */
static void
send_run(sender_loop_t *loop, send_t *send, int port, int h2)
{
    int          i;
    char         url[64];
    const char  *headers[] = {
        "Content-Type: application/x-www-form-urlencoded", NULL
    };

    memset(send, 0, sizeof(*send));
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/Messages.json", port);

    CHECK(sender_transfer_init(&send->t, "POST", url, headers, BODY,
                               sizeof(BODY) - 1, 5000) == 0);
    send->t.done = send_done;
    send->t.data = send;

    if (h2) {
        curl_easy_setopt(send->t.easy, CURLOPT_HTTP_VERSION,
                         (long) CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
    }

    CHECK(sender_loop_start(loop, &send->t) == 0);

    for (i = 0; i < 100 && !send->done; i++) {
        CHECK(sender_loop_turn(loop, NULL, NULL, 0, 100) == 0);
    }

    CHECK(send->done);
}


/*
 * A carrier's HTTP/2 server that refuses the stream (REFUSED_STREAM, as
 * one draining for a deploy does) never processed the request: curl
 * sends it again on a new connection, and the answer to that one is the
 * carrier's.  The sender used to refuse curl's rewind (a body it may not
 * send twice) and report the send an unknown outcome.
 */
TEST(a_refused_http2_stream_is_sent_again_on_a_new_connection)
{
    send_t          send;
    carrier_t       carrier;
    sender_loop_t  *loop;

    loop = sender_loop_create(4, 16);
    carrier_start(&carrier, CARRIER_H2_REFUSE_THEN_ANSWER);

    send_run(loop, &send, carrier.port, 1);

    CHECK_INT(send.t.reach, SENDER_ANSWERED);
    CHECK_INT(send.t.status, 200);
    sender_transfer_cleanup(&send.t);
    sender_loop_destroy(loop);

    carrier_stop(&carrier);
    CHECK_INT(carrier.requests, 2);
}


/* Refused, and the carrier takes no connection for curl's retry: nothing
 * reached it that it acted on, so the send is tried again, not taken as
 * perhaps sent. */
TEST(a_refused_http2_stream_whose_retry_cannot_connect_sent_nothing)
{
    send_t          send;
    carrier_t       carrier;
    sender_loop_t  *loop;

    loop = sender_loop_create(4, 16);
    carrier_start(&carrier, CARRIER_H2_REFUSE_THEN_GONE);

    send_run(loop, &send, carrier.port, 1);

    CHECK_INT(send.t.reach, SENDER_SENT_NOTHING);
    sender_transfer_cleanup(&send.t);
    sender_loop_destroy(loop);

    carrier_stop(&carrier);
    CHECK_INT(carrier.requests, 1);
}


/*
 * A request sent on a kept-alive connection that the carrier then drops
 * unanswered (it restarts) may have been acted on.  curl retries it on a
 * new connection, whose connect is refused: that says nothing of the
 * first, which is an unknown outcome, not a send to retry (it was
 * reported "the carrier could not be reached" and sent again).
 */
TEST(a_request_dropped_unanswered_then_no_connection_may_have_been_sent)
{
    send_t          first, second;
    carrier_t       carrier;
    sender_loop_t  *loop;

    loop = sender_loop_create(4, 16);
    carrier_start(&carrier, CARRIER_H1_ANSWER_THEN_DROP);

    send_run(loop, &first, carrier.port, 0);
    CHECK_INT(first.t.reach, SENDER_ANSWERED);
    sender_transfer_cleanup(&first.t);

    send_run(loop, &second, carrier.port, 0);
    CHECK_INT(second.t.reach, SENDER_SENT_MAYBE);
    sender_transfer_cleanup(&second.t);
    sender_loop_destroy(loop);

    carrier_stop(&carrier);
    CHECK_INT(carrier.requests, 2);
}


/* A carrier that takes no connection at all: nothing was sent. */
TEST(no_connection_at_all_sent_nothing)
{
    int                 fd;
    send_t              send;
    socklen_t           len;
    sender_loop_t      *loop;
    struct sockaddr_in  sin;

    /* a port nobody listens on: bound, never listened to */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(fd, (struct sockaddr *) &sin, sizeof(sin)) == 0);
    len = sizeof(sin);
    getsockname(fd, (struct sockaddr *) &sin, &len);

    loop = sender_loop_create(4, 16);
    send_run(loop, &send, ntohs(sin.sin_port), 0);

    CHECK_INT(send.t.reach, SENDER_SENT_NOTHING);
    sender_transfer_cleanup(&send.t);
    sender_loop_destroy(loop);
    close(fd);
}


RUN_TESTS()
