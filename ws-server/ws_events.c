/*
 * Event intake: the unix datagram socket, adopted into the lws loop as a
 * raw file descriptor (model: libwebsockets' minimal-raw-file and
 * minimal-raw-adopt-udp), drained on each readable callback.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <yajl/yajl_parse.h>
#include <inbox/dgram.h>
#include <inbox/event.h>
#include "ws_events.h"
#include "ws_stream.h"

/*
 * Datagrams read per readable callback.  Each connection writes one frame
 * per turn of the loop, so reading a whole backlog at once would fill
 * queues faster than any client can empty them; poll is level triggered
 * and the rest is read on the next turn.
 */
#define WS_EVENTS_BATCH  64

#define WS_EVENTS_QLEN_SYSCTL  "/proc/sys/net/unix/max_dgram_qlen"
#define WS_EVENTS_QLEN_WANTED  1024

struct ws_events_s {
    int           fd;
    int           adopted;              /* lws owns (and closes) fd */
    char         *path;
    ws_fanout_t  *fanout;
    ws_stream_t  *stream;
    char          buf[INBOX_EVENT_DATAGRAM_MAX + 1];
};

enum {
    WS_SCAN_KEY_OTHER = 0,
    WS_SCAN_KEY_TYPE,
    WS_SCAN_KEY_EPOCH,
    WS_SCAN_KEY_COUNT
};

typedef struct {
    ws_event_info_t  *info;
    int               depth;
    int               key;              /* the top-level key being read */
} ws_scan_t;


static int ws_events_bind(const char *path);
static void ws_events_check_queue_length(void);
static void ws_events_drain(ws_events_t *events);
static void ws_events_dispatch(ws_events_t *events, size_t len);
static int ws_scan_null(void *ctx);
static int ws_scan_boolean(void *ctx, int value);
static int ws_scan_integer(void *ctx, long long value);
static int ws_scan_double(void *ctx, double value);
static int ws_scan_string(void *ctx, const unsigned char *value,
    size_t len);
static int ws_scan_start_map(void *ctx);
static int ws_scan_start_array(void *ctx);
static int ws_scan_map_key(void *ctx, const unsigned char *key,
    size_t len);
static int ws_scan_end(void *ctx);


static const yajl_callbacks  ws_scan_callbacks = {
    ws_scan_null,
    ws_scan_boolean,
    ws_scan_integer,
    ws_scan_double,
    NULL,                               /* number: integer/double instead */
    ws_scan_string,
    ws_scan_start_map,
    ws_scan_map_key,
    ws_scan_end,
    ws_scan_start_array,
    ws_scan_end
};


ws_events_t *
ws_events_open(const char *path, ws_fanout_t *fanout, const char *store_uri,
    unsigned keep_secs)
{
    ws_events_t  *events;

    events = calloc(1, sizeof(ws_events_t));
    if (events == NULL) {
        fprintf(stderr, "ws-server: out of memory\n");
        return NULL;
    }

    events->path = strdup(path);
    if (events->path == NULL) {
        fprintf(stderr, "ws-server: out of memory\n");
        free(events);
        return NULL;
    }

    events->fanout = fanout;
    events->stream = ws_stream_create(fanout, store_uri, keep_secs);
    events->fd = events->stream ? ws_events_bind(path) : -1;

    if (events->fd == -1) {
        ws_stream_destroy(events->stream);
        free(events->path);
        free(events);
        return NULL;
    }

    return events;
}


int
ws_events_adopt(ws_events_t *events, struct lws_vhost *vhost)
{
    struct lws             *wsi;
    lws_sock_file_fd_type   fd;

    fd.filefd = events->fd;
    events->adopted = 1;

    wsi = lws_adopt_descriptor_vhost(vhost, LWS_ADOPT_RAW_FILE_DESC, fd,
                                     WS_EVENTS_PROTOCOL, NULL);
    if (wsi == NULL) {
        events->fd = -1;
        return -1;
    }

    return ws_stream_start(events->stream, lws_get_context(wsi));
}


void
ws_events_stop(ws_events_t *events)
{
    if (events != NULL) {
        ws_stream_stop(events->stream);
    }
}


void
ws_events_close(ws_events_t *events)
{
    if (events == NULL) {
        return;
    }

    if (!events->adopted && events->fd != -1) {
        close(events->fd);
    }

    if (unlink(events->path) == -1 && errno != ENOENT) {
        lwsl_warn("ws-server: cannot remove %s: %s\n", events->path,
                  strerror(errno));
    }

    ws_stream_destroy(events->stream);
    free(events->path);
    free(events);
}


int
ws_events_callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
    ws_events_t                 *events;
    const struct lws_protocols  *protocol;

    protocol = lws_get_protocol(wsi);
    events = protocol ? protocol->user : NULL;

    switch (reason) {

    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        /* a client naming this protocol: it is not a WebSocket one */
        return 1;

    case LWS_CALLBACK_RAW_RX_FILE:
        ws_events_drain(events);
        return 0;

    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        /* the store thread answered (lws_cancel_service) */
        if (events != NULL) {
            ws_stream_store_answers(events->stream);
        }
        return 0;

    case LWS_CALLBACK_RAW_CLOSE_FILE:
        /* lws closes the descriptor itself */
        events->fd = -1;
        return 0;

    default:
        break;
    }

    return 0;
}


int
ws_events_scan(const char *frame, size_t len, ws_event_info_t *info)
{
    yajl_handle     parser;
    yajl_status     status;
    ws_scan_t       scan;

    memset(info, 0, sizeof(ws_event_info_t));
    scan.info = info;
    scan.depth = 0;
    scan.key = WS_SCAN_KEY_OTHER;

    parser = yajl_alloc(&ws_scan_callbacks, NULL, &scan);
    if (parser == NULL) {
        return -1;
    }

    status = yajl_parse(parser, (const unsigned char *) frame, len);
    if (status == yajl_status_ok) {
        status = yajl_complete_parse(parser);
    }

    yajl_free(parser);

    return status == yajl_status_ok ? 0 : -1;
}


/* Returns the bound socket, or -1 with a message on stderr. */
static int
ws_events_bind(const char *path)
{
    int   fd, size;
    char  err[256];

    fd = inbox_dgram_bind(path, err, sizeof(err));
    if (fd == -1) {
        fprintf(stderr, "ws-server: --events: %s\n", err);
        return -1;
    }

    /* beyond net.core.rmem_max only root may go (SO_RCVBUFFORCE) */
    size = WS_EVENTS_RCVBUF;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size))
        == -1
        && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) == -1)
    {
        lwsl_warn("ws-server: cannot enlarge the receive buffer of %s: "
                  "%s\n", path, strerror(errno));
    }

    ws_events_check_queue_length();

    return fd;
}


/*
 * Linux bounds a unix datagram socket's queue by datagrams, not bytes:
 * net.unix.max_dgram_qlen (often 10) at the time the socket is made, and
 * SO_RCVBUF does not change that.  Past it the module's sends wait, then
 * are shed (and the gap read from the store), so say so.
 */
static void
ws_events_check_queue_length(void)
{
    int    qlen;
    FILE  *file;

    file = fopen(WS_EVENTS_QLEN_SYSCTL, "r");
    if (file == NULL) {
        return;
    }

    if (fscanf(file, "%d", &qlen) == 1 && qlen < WS_EVENTS_QLEN_WANTED) {
        lwsl_notice("ws-server: %s is %d: nginx waits for room (a "
                    "little) or sheds datagrams while ws-server is busy, "
                    "and ws-server then reads the gap from the store; "
                    "consider sysctl net.unix.max_dgram_qlen=%d\n",
                    WS_EVENTS_QLEN_SYSCTL, qlen, WS_EVENTS_QLEN_WANTED);
    }

    fclose(file);
}


static void
ws_events_drain(ws_events_t *events)
{
    int      i;
    ssize_t  n;

    for (i = 0; i < WS_EVENTS_BATCH; i++) {

        /* MSG_TRUNC: the datagram's real length, to spot oversized ones */
        n = recv(events->fd, events->buf, INBOX_EVENT_DATAGRAM_MAX,
                 MSG_TRUNC | MSG_DONTWAIT);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                lwsl_err("ws-server: recv on %s: %s\n", events->path,
                         strerror(errno));
            }

            return;
        }

        if ((size_t) n > INBOX_EVENT_DATAGRAM_MAX) {
            lwsl_warn("ws-server: dropped an event of %zd bytes (at most "
                      "%d)\n", n, INBOX_EVENT_DATAGRAM_MAX);
            continue;
        }

        ws_events_dispatch(events, (size_t) n);
    }
}


/*
 * A datagram holds the records of one or more events, in org_seq order.
 * The record's header says all ws-server needs: the frame is not read.
 */
static void
ws_events_dispatch(ws_events_t *events, size_t len)
{
    int                   rc;
    size_t                offset;
    inbox_event_record_t  rec;

    offset = 0;

    while ((rc = inbox_event_record_next(events->buf, len, &offset, &rec))
           == 1)
    {
        lwsl_debug("ws-server: event org %s org_seq %lld %s (%zu bytes)\n",
                   rec.org_id, (long long) rec.org_seq, rec.type,
                   rec.frame_len);

        ws_stream_event(events->stream, &rec);
    }

    if (rc == -1) {
        lwsl_warn("ws-server: dropped the rest of a malformed event "
                  "datagram (%zu bytes)\n", len);
    }
}


static int
ws_scan_null(void *ctx)
{
    ((ws_scan_t *) ctx)->key = WS_SCAN_KEY_OTHER;
    return ((ws_scan_t *) ctx)->depth > 0;
}


static int
ws_scan_boolean(void *ctx, int value)
{
    return ws_scan_null(ctx);
}


static int
ws_scan_integer(void *ctx, long long value)
{
    ws_scan_t  *scan = ctx;

    if (scan->depth == 1 && scan->key == WS_SCAN_KEY_COUNT) {
        scan->info->has_count = 1;
        scan->info->count = value;
    }

    return ws_scan_null(ctx);
}


static int
ws_scan_double(void *ctx, double value)
{
    return ws_scan_null(ctx);
}


static int
ws_scan_string(void *ctx, const unsigned char *value, size_t len)
{
    char       *to;
    size_t      size;
    ws_scan_t  *scan = ctx;

    to = NULL;
    size = 0;

    if (scan->depth == 1 && scan->key == WS_SCAN_KEY_TYPE) {
        to = scan->info->type;
        size = sizeof(scan->info->type);

    } else if (scan->depth == 1 && scan->key == WS_SCAN_KEY_EPOCH) {
        to = scan->info->epoch;
        size = sizeof(scan->info->epoch);
    }

    if (to != NULL) {
        /* longer than any real type or epoch: keep none of it */
        if (len < size) {
            memcpy(to, value, len);
            to[len] = '\0';
        }
    }

    return ws_scan_null(ctx);
}


static int
ws_scan_start_map(void *ctx)
{
    ws_scan_t  *scan = ctx;

    scan->key = WS_SCAN_KEY_OTHER;
    scan->depth++;

    return 1;
}


static int
ws_scan_start_array(void *ctx)
{
    ws_scan_t  *scan = ctx;

    scan->key = WS_SCAN_KEY_OTHER;
    scan->depth++;

    /* the frame itself must be an object */
    return scan->depth > 1;
}


static int
ws_scan_map_key(void *ctx, const unsigned char *key, size_t len)
{
    ws_scan_t  *scan = ctx;

    if (scan->depth != 1) {
        return 1;
    }

    if (len == 4 && memcmp(key, "type", 4) == 0) {
        scan->key = WS_SCAN_KEY_TYPE;

    } else if (len == 5 && memcmp(key, "epoch", 5) == 0) {
        scan->key = WS_SCAN_KEY_EPOCH;

    } else if (len == 5 && memcmp(key, "count", 5) == 0) {
        scan->key = WS_SCAN_KEY_COUNT;

    } else {
        scan->key = WS_SCAN_KEY_OTHER;
    }

    return 1;
}


static int
ws_scan_end(void *ctx)
{
    ws_scan_t  *scan = ctx;

    scan->key = WS_SCAN_KEY_OTHER;
    scan->depth--;

    return 1;
}
