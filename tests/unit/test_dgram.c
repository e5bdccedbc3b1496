/*
 * The channel from nginx to ws-server: a full queue makes the sender wait
 * (up to its bound) instead of dropping at once, and what is shed all the
 * same is counted for a log line.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <inbox/dgram.h>
#include <inbox/event.h>
#include <inbox/wake.h>
#include "check.h"


typedef struct {
    char                 dir[64];
    char                 path[128];
    int                  reader;
    inbox_dgram_peer_t   peer;
    inbox_event_list_t   events;
} channel_t;


static void
channel_open(channel_t *c, int wait_ms)
{
    char  err[256];

    memset(c, 0, sizeof(*c));
    strcpy(c->dir, "/tmp/inbox-dgram-XXXXXX");
    CHECK(mkdtemp(c->dir) != NULL);
    snprintf(c->path, sizeof(c->path), "%s/events.sock", c->dir);

    c->reader = inbox_dgram_bind(c->path, err, sizeof(err));
    CHECK(c->reader != -1);
    CHECK_INT(inbox_dgram_peer_open(&c->peer, c->path, err, sizeof(err)), 0);
    CHECK_INT(inbox_dgram_peer_set_wait(&c->peer, wait_ms, err, sizeof(err)),
              0);

    CHECK_INT(inbox_event_list_add(&c->events, "org1", 1, "unread.total",
                                   "E", 3,
                                   inbox_event_unread_total(1, "E", 3)), 0);
}


/* Sends datagrams that never wait until the reader's queue is full. */
static int
channel_fill(channel_t *c)
{
    int  n;

    for (n = 0; n < 100000; n++) {
        if (inbox_dgram_send(&c->peer, "x", 1) != 0) {
            CHECK(errno == EAGAIN || errno == EWOULDBLOCK);
            return n;
        }
    }

    return n;
}


static void
channel_close(channel_t *c)
{
    inbox_event_list_free(&c->events);
    inbox_dgram_peer_close(&c->peer);
    close(c->reader);
    unlink(c->path);
    rmdir(c->dir);
}


static void *
read_one_later(void *arg)
{
    char        buf[256];
    channel_t  *c = arg;

    usleep(60 * 1000);
    (void) recv(c->reader, buf, sizeof(buf), 0);

    return NULL;
}


TEST(a_full_queue_makes_the_publisher_wait_for_room)
{
    int64_t    t0, waited;
    channel_t  c;
    pthread_t  thread;

    channel_open(&c, 2000);
    CHECK(channel_fill(&c) > 0);

    /* the old channel dropped here at once; now it waits for the read */
    CHECK_INT(pthread_create(&thread, NULL, read_one_later, &c), 0);
    t0 = inbox_dgram_now_ms();
    CHECK_INT(inbox_events_publish(&c.peer, &c.events), 0);
    waited = inbox_dgram_now_ms() - t0;
    pthread_join(thread, NULL);

    CHECK(waited >= 40);
    CHECK(waited < 1500);

    channel_close(&c);
}


TEST(a_stuck_reader_sheds_after_the_bound_counted_and_reported)
{
    int64_t    t0, waited;
    uint64_t   since, total;
    channel_t  c;

    channel_open(&c, 50);
    CHECK(channel_fill(&c) > 0);

    t0 = inbox_dgram_now_ms();
    CHECK_INT(inbox_events_publish(&c.peer, &c.events), 1);
    waited = inbox_dgram_now_ms() - t0;
    CHECK(waited >= 40);

    since = total = 0;
    CHECK_INT(inbox_events_shed_report(&c.peer, 1, &since, &total), 1);
    CHECK_INT(since, 1);
    CHECK_INT(total, 1);

    /* within the next second: no wait again, and no second line */
    t0 = inbox_dgram_now_ms();
    CHECK_INT(inbox_events_publish(&c.peer, &c.events), 1);
    CHECK(inbox_dgram_now_ms() - t0 < 30);
    CHECK_INT(inbox_events_shed_report(&c.peer, 1, &since, &total), 0);
    CHECK_INT(inbox_events_shed_report(&c.peer, 0, &since, &total), 0);

    /* the next line, a second later, counts what came since */
    usleep(1050 * 1000);
    CHECK_INT(inbox_events_shed_report(&c.peer, 0, &since, &total), 1);
    CHECK_INT(since, 1);
    CHECK_INT(total, 2);
    CHECK_INT(inbox_events_shed_report(&c.peer, 0, &since, &total), 0);

    channel_close(&c);
}


TEST(nobody_reading_sheds_without_waiting)
{
    int64_t    t0;
    channel_t  c;

    channel_open(&c, 2000);
    close(c.reader);
    unlink(c.path);
    c.reader = -1;

    t0 = inbox_dgram_now_ms();
    CHECK_INT(inbox_events_publish(&c.peer, &c.events), 1);
    CHECK(inbox_dgram_now_ms() - t0 < 100);

    channel_close(&c);
}


TEST(each_ws_server_gets_every_datagram_and_its_own_count)
{
    char                 buf[INBOX_EVENT_DATAGRAM_MAX];
    size_t               lost[3];
    ssize_t              n;
    int64_t              t0;
    channel_t            a, b;
    inbox_dgram_peer_t   peers[3];

    channel_open(&a, 50);
    channel_open(&b, 50);

    /* b's reader is stuck with a full queue; the third peer is closed */
    CHECK(channel_fill(&b) > 0);
    peers[0] = a.peer;
    peers[1] = b.peer;
    memset(&peers[2], 0, sizeof(inbox_dgram_peer_t));
    peers[2].fd = -1;

    t0 = inbox_dgram_now_ms();
    inbox_events_publish_each(peers, 3, &a.events, lost);
    CHECK(inbox_dgram_now_ms() - t0 >= 40);     /* b's bound, once */
    CHECK_INT(lost[0], 0);
    CHECK_INT(lost[1], 1);
    CHECK_INT(lost[2], 0);

    /* a got the record all the same, whole */
    n = recv(a.reader, buf, sizeof(buf), MSG_DONTWAIT);
    CHECK(n > 0);
    CHECK(memmem(buf, (size_t) n, "org1 1 E unread.total 3 ", 24) == buf);

    /* b stays calm for a second: a is not held up by it again */
    t0 = inbox_dgram_now_ms();
    inbox_events_publish_each(peers, 2, &a.events, lost);
    CHECK(inbox_dgram_now_ms() - t0 < 30);
    CHECK_INT(lost[0], 0);
    CHECK_INT(lost[1], 1);
    CHECK(recv(a.reader, buf, sizeof(buf), MSG_DONTWAIT) > 0);

    a.peer = peers[0];
    b.peer = peers[1];
    channel_close(&a);
    channel_close(&b);
}


/* The sender's wake-ups (wake.h): a plain one, and one naming the
 * organization whose quiet hours moved, which waits for room rather than
 * being dropped at once. */
TEST(a_quiet_hours_wake_up_names_its_organization_and_waits_for_room)
{
    char       buf[64], org[INBOX_ID_MAX];
    ssize_t    n;
    int64_t    t0;
    channel_t  c;

    channel_open(&c, 200);

    CHECK_INT(inbox_wake_send(&c.peer), 0);
    CHECK_INT(inbox_wake_send_quiet(&c.peer, "42"), 0);
    CHECK_INT(inbox_wake_send_quiet(&c.peer, ""), 0);

    n = read(c.reader, buf, sizeof(buf));
    CHECK_INT(inbox_wake_read(buf, (size_t) n, org), INBOX_WAKE_PLAIN);
    n = read(c.reader, buf, sizeof(buf));
    CHECK_INT(inbox_wake_read(buf, (size_t) n, org), INBOX_WAKE_QUIET);
    CHECK_STR(org, "42");
    n = read(c.reader, buf, sizeof(buf));
    CHECK_INT(inbox_wake_read(buf, (size_t) n, org), INBOX_WAKE_QUIET);
    CHECK_STR(org, "");

    /* a full queue: the plain one is dropped at once, the quiet one
     * waits its bound and says EAGAIN */
    (void) channel_fill(&c);
    CHECK_INT(inbox_wake_send(&c.peer), -1);
    t0 = inbox_dgram_now_ms();
    CHECK_INT(inbox_wake_send_quiet(&c.peer, "42"), -1);
    CHECK_INT(errno, EAGAIN);
    CHECK(inbox_dgram_now_ms() - t0 >= 150);

    channel_close(&c);
}


RUN_TESTS()
