/*
 * ws-server: the realtime push server.  Browsers hold a WebSocket to /ws
 * (subprotocol inbox.v1, opened with a ticket from the HTTP API); the
 * nginx module sends each event as a datagram; ws-server forwards it to
 * the sockets of the event's organization.
 *
 *   ws-server --listen 127.0.0.1:PORT --events PATH --secret PATH
 *             [--store URI] [--origin URL]... [--max-queue N]
 *             [--tickets-per-org N] [--ping-secs N] [--keep-secs N]
 *             [--verbose]
 *
 * This file: options, the lws context on a libuv loop we own, and
 * SIGINT/SIGTERM/SIGHUP through uv_signal, so nothing runs in a signal
 * handler.  SIGHUP (a terminal gone) stops it as SIGTERM does.
 *
 * Why libuv: lws' default loop poll()s every connection on every turn,
 * so its cost follows the connections held, not the work (see
 * docs/BENCHMARKS.md); libuv waits with epoll.  The loop is ours
 * ("foreign" to lws) so that a stop can close every connection through
 * the loop and then return from uv_run.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <inbox/clock.h>
#include <uv.h>                 /* before libwebsockets.h: its uv parts */
#include <libwebsockets.h>
#include <inbox/event.h>
#include <inbox/nofile.h>
#include <inbox/ticket.h>
#include "ws_accept.h"
#include "ws_auth.h"
#include "ws_events.h"
#include "ws_fanout.h"
#include "ws_origin.h"
#include "ws_store.h"
#include "ws_stream.h"

#define WS_SERVER_VHOST             "inbox"
#define WS_SERVER_SECRET_MAX        1024
/* lws allocates this per connection: client messages are small (a
 * longer one arrives in pieces, see lws_is_final_fragment) */
#define WS_SERVER_RX_MAX            512
#define WS_SERVER_PING_SECS         30
#define WS_SERVER_ORIGINS_MAX       16

typedef struct {
    char         host[INET6_ADDRSTRLEN];
    int          port;
    int          ipv6;
    const char  *events_path;
    const char  *secret_path;
    const char  *store_uri;
    size_t       max_queue;
    size_t       org_tickets;
    const char  *origins[WS_SERVER_ORIGINS_MAX];
    size_t       norigins;
    size_t       ping_secs;
    size_t       keep_secs;
    int          verbose;
} ws_options_t;

/* The loop's own handles: the stop signals and the write flush. */
typedef struct {
    uv_loop_t            loop;
    uv_signal_t          term;
    uv_signal_t          intr;
    uv_signal_t          hup;
    uv_check_t           flush;
    uv_idle_t            nudge;         /* a flush waits: poll, don't block */
    uv_timer_t           keepalive;
    uv_timer_t           lapse;
    int64_t              lapse_due;     /* when lapse fires, 0 stopped */
    uint32_t             ping_ms;
    int                  intr_on;
    int                  stopping;
    struct lws_context  *context;
    ws_fanout_t         *fanout;
    ws_events_t         *events;        /* stopped before the context */
} ws_loop_t;


static int ws_server_options(int argc, char **argv, ws_options_t *options);
static int ws_server_listen_address(const char *listen,
    ws_options_t *options);
static int ws_server_count(const char *option, const char *value,
    unsigned long max, size_t *out);
static void ws_server_usage(FILE *out);
static void ws_server_loop_open(ws_loop_t *lp, ws_fanout_t *fanout,
    uint32_t ping_secs);
static void ws_server_on_signal(uv_signal_t *handle, int signo);
static void ws_server_on_check(uv_check_t *handle);
static void ws_server_wake(void *data);
static void ws_server_on_nudge(uv_idle_t *handle);
static void ws_server_on_keepalive(uv_timer_t *handle);
static void ws_server_on_lapse(uv_timer_t *handle);
static void ws_server_arm_lapse(ws_loop_t *lp);
static void ws_server_loop_close(ws_loop_t *lp);
static void ws_server_close_handles(ws_loop_t *lp);


/*
 * No lws keepalive: it keeps a timer per connection in one sorted list,
 * and each new connection walked all of them (connecting took O(n)).
 * ws_fanout_keepalive pings idle connections instead.
 */
static const lws_retry_bo_t  ws_server_no_keepalive = {
    .secs_since_valid_ping = 0,
    .secs_since_valid_hangup = 0,
};


int
main(int argc, char **argv)
{
    int                               rc, log_level;
    long                              nofile;
    size_t                            secret_len;
    void                             *loops[1];
    ws_auth_t                        *auth;
    ws_loop_t                         lp;
    ws_events_t                      *events;
    ws_fanout_t                      *fanout;
    ws_options_t                      options;
    ws_auth_conf_t                    auth_conf;
    inbox_error_t                     err;
    struct lws_vhost                 *vhost;
    struct lws_protocols              protocols[3];
    struct lws_context_creation_info  info;
    unsigned char                     secret[WS_SERVER_SECRET_MAX];
    char                              nofile_err[256];

    rc = ws_server_options(argc, argv, &options);
    if (rc != 0) {
        return rc < 0 ? 0 : rc;
    }

    log_level = LLL_ERR | LLL_WARN;
    if (options.verbose) {
        log_level |= LLL_NOTICE | LLL_USER;
    }

    /* before the lws context, which sizes its tables by the limit */
    nofile = inbox_nofile_raise(nofile_err, sizeof(nofile_err));
    if (nofile_err[0] != '\0') {
        fprintf(stderr, "ws-server: %s\n", nofile_err);
    }

    ws_accept_init(nofile, log_level);

    auth = NULL;
    fanout = NULL;
    events = NULL;
    rc = 1;

    secret_len = inbox_ticket_secret_load(options.secret_path, secret,
                                          sizeof(secret), &err);
    if (secret_len == 0) {
        fprintf(stderr, "ws-server: %s\n", err.message);
        return 1;
    }

    auth_conf.secret = secret;
    auth_conf.secret_len = secret_len;
    auth_conf.org_nonces_max = options.org_tickets;
    auth_conf.origins = options.origins;
    auth_conf.norigins = options.norigins;

    auth = ws_auth_create(&auth_conf);
    OPENSSL_cleanse(secret, sizeof(secret));

    fanout = auth ? ws_fanout_create(auth, options.max_queue,
                                     (uint32_t) options.ping_secs * 1000)
                  : NULL;
    if (fanout == NULL) {
        fprintf(stderr, "ws-server: out of memory\n");
        ws_auth_destroy(auth);
        return 1;
    }

    /* a vanished browser must not kill us: writes fail with EPIPE */
    signal(SIGPIPE, SIG_IGN);

    ws_server_loop_open(&lp, fanout, (uint32_t) options.ping_secs);

    events = ws_events_open(options.events_path, fanout, options.store_uri,
                            (unsigned) options.keep_secs);
    if (events == NULL) {
        goto done;
    }

    lp.events = events;

    /* protocols[0] also answers plain HTTP and upgrades without a
     * subprotocol */
    memset(protocols, 0, sizeof(protocols));
    protocols[0].name = WS_FANOUT_PROTOCOL;
    protocols[0].callback = ws_fanout_callback;
    protocols[0].per_session_data_size = ws_fanout_session_size();
    protocols[0].rx_buffer_size = WS_SERVER_RX_MAX;
    protocols[0].user = fanout;
    /* one send() may carry all of a connection's queued frames */
    protocols[0].tx_packet_size = WS_FANOUT_WRITE_MAX;

    protocols[1].name = WS_EVENTS_PROTOCOL;
    protocols[1].callback = ws_events_callback;
    protocols[1].user = events;

    loops[0] = &lp.loop;

    memset(&info, 0, sizeof(info));
    info.vhost_name = WS_SERVER_VHOST;
    info.iface = options.host;
    info.port = options.port;
    info.protocols = protocols;
    info.retry_and_idle_policy = &ws_server_no_keepalive;
    info.gid = -1;
    info.uid = -1;
    info.options = LWS_SERVER_OPTION_LIBUV;
    info.foreign_loops = loops;
    info.pcontext = &lp.context;
    if (!options.ipv6) {
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    }

    lp.context = lws_create_context(&info);
    if (lp.context == NULL) {
        fprintf(stderr, "ws-server: cannot listen on %s:%d\n",
                options.host, options.port);
        goto done;
    }

    vhost = lws_get_vhost_by_name(lp.context, WS_SERVER_VHOST);
    if (vhost == NULL || lws_get_vhost_listen_port(vhost) <= 0) {
        fprintf(stderr, "ws-server: cannot listen on %s:%d\n",
                options.host, options.port);
        /*
         * Debian's lws 4.1 crashes in the loop while it tears down a
         * context whose vhost never listened (a handle's callback is
         * gone).  No connection is open yet: remove the events socket
         * and leave without the teardown.
         */
        ws_events_close(events);
        _exit(1);
    }

    if (ws_events_adopt(events, vhost) != 0) {
        fprintf(stderr, "ws-server: cannot add descriptors to the event "
                "loop\n");
        goto done;
    }

    fprintf(stderr, options.ipv6 ? "ws-server listening on [%s]:%d\n"
                                 : "ws-server listening on %s:%d\n",
            options.host, lws_get_vhost_listen_port(vhost));

    if (options.norigins == 0) {
        fprintf(stderr, "ws-server: no --origin given: browsers will be "
                "refused\n");
    }

    /* returns once a signal has closed every handle */
    uv_run(&lp.loop, UV_RUN_DEFAULT);

    fprintf(stderr, "ws-server: stopped\n");
    rc = 0;

done:

    ws_server_loop_close(&lp);
    ws_events_close(events);
    ws_fanout_destroy(fanout);
    ws_auth_destroy(auth);

    /* a store thread still in its query (ws_store_stop) runs on in the
     * driver: exit's handlers (OpenSSL's cleanup) would pull its state
     * from under it */
    if (ws_store_left()) {
        fflush(NULL);
        _exit(rc);
    }

    return rc;
}


/* 0 to run, -1 to exit successfully (--help), else the exit status. */
static int
ws_server_options(int argc, char **argv, ws_options_t *options)
{
    int                  c;
    char                 origin[WS_ORIGIN_MAX];
    const char          *listen;
    static const struct option  longopts[] = {
        { "listen",          required_argument, NULL, 'l' },
        { "events",          required_argument, NULL, 'e' },
        { "secret",          required_argument, NULL, 's' },
        { "store",           required_argument, NULL, 'S' },
        { "origin",          required_argument, NULL, 'o' },
        { "max-queue",       required_argument, NULL, 'q' },
        { "tickets-per-org", required_argument, NULL, 't' },
        { "ping-secs",       required_argument, NULL, 'p' },
        { "keep-secs",       required_argument, NULL, 'k' },
        { "verbose",         no_argument,       NULL, 'v' },
        { "help",            no_argument,       NULL, 'h' },
        { NULL,              0,                 NULL, 0 }
    };

    memset(options, 0, sizeof(ws_options_t));
    options->max_queue = WS_FANOUT_MAX_QUEUE;
    options->org_tickets = WS_AUTH_ORG_NONCES_MAX;
    options->ping_secs = WS_SERVER_PING_SECS;
    options->keep_secs = WS_STREAM_KEEP_SECS;
    listen = NULL;

    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {

        case 'l':
            listen = optarg;
            break;

        case 'e':
            options->events_path = optarg;
            break;

        case 's':
            options->secret_path = optarg;
            break;

        case 'S':
            options->store_uri = optarg;
            break;

        case 'o':
            if (ws_origin_canonical(optarg, origin) != 0) {
                fprintf(stderr, "ws-server: --origin wants an http(s) URL "
                        "such as https://inbox.example.com, not \"%s\"\n",
                        optarg);
                return 2;
            }

            if (options->norigins == WS_SERVER_ORIGINS_MAX) {
                fprintf(stderr, "ws-server: at most %d --origin\n",
                        WS_SERVER_ORIGINS_MAX);
                return 2;
            }

            options->origins[options->norigins++] = optarg;
            break;

        case 'q':
            if (ws_server_count("--max-queue", optarg, 1024 * 1024,
                                &options->max_queue)
                != 0)
            {
                return 2;
            }
            break;

        case 't':
            if (ws_server_count("--tickets-per-org", optarg, 1024 * 1024,
                                &options->org_tickets)
                != 0)
            {
                return 2;
            }
            break;

        case 'p':
            if (ws_server_count("--ping-secs", optarg, 3600,
                                &options->ping_secs)
                != 0)
            {
                return 2;
            }
            break;

        case 'k':
            if (ws_server_count("--keep-secs", optarg, 24 * 3600,
                                &options->keep_secs)
                != 0)
            {
                return 2;
            }
            break;

        case 'v':
            options->verbose = 1;
            break;

        case 'h':
            ws_server_usage(stdout);
            return -1;

        default:
            ws_server_usage(stderr);
            return 2;
        }
    }

    if (optind != argc || listen == NULL || options->events_path == NULL
        || options->secret_path == NULL)
    {
        ws_server_usage(stderr);
        return 2;
    }

    if (ws_server_listen_address(listen, options) != 0) {
        fprintf(stderr, "ws-server: --listen wants IP:PORT (or "
                "[IPv6]:PORT), not \"%s\"\n", listen);
        return 2;
    }

    return 0;
}


static int
ws_server_listen_address(const char *listen, ws_options_t *options)
{
    char           *end;
    size_t          host_len;
    const char     *colon, *host;
    unsigned long   port;
    unsigned char   addr[sizeof(struct in6_addr)];

    colon = strrchr(listen, ':');
    if (colon == NULL || colon == listen) {
        return -1;
    }

    host = listen;
    host_len = (size_t) (colon - listen);

    if (host[0] == '[' && host[host_len - 1] == ']') {
        host++;
        host_len -= 2;
        options->ipv6 = 1;
    }

    if (host_len == 0 || host_len >= sizeof(options->host)) {
        return -1;
    }

    memcpy(options->host, host, host_len);
    options->host[host_len] = '\0';

    if (inet_pton(options->ipv6 ? AF_INET6 : AF_INET, options->host, addr)
        != 1)
    {
        return -1;
    }

    errno = 0;
    port = strtoul(colon + 1, &end, 10);
    if (errno != 0 || end == colon + 1 || *end != '\0' || port > 65535) {
        return -1;
    }

    /* 0: the kernel picks one, and the "listening" line tells which */
    options->port = (int) port;

    return 0;
}


/* A number from 1 to max for option; 0, or -1 after saying why. */
static int
ws_server_count(const char *option, const char *value, unsigned long max,
    size_t *out)
{
    char           *end;
    unsigned long   n;

    errno = 0;
    n = strtoul(value, &end, 10);

    if (errno != 0 || end == value || *end != '\0' || value[0] == '-'
        || n == 0 || n > max)
    {
        fprintf(stderr, "ws-server: %s wants a number from 1 to %lu, not "
                "\"%s\"\n", option, max, value);
        return -1;
    }

    *out = n;

    return 0;
}


static void
ws_server_usage(FILE *out)
{
    fprintf(out,
        "usage: ws-server --listen IP:PORT --events PATH --secret PATH\n"
        "                 [--store URI] [--origin URL]... [--max-queue N]\n"
        "                 [--tickets-per-org N] [--ping-secs N]\n"
        "                 [--keep-secs N] [--verbose]\n"
        "\n"
        "  --listen IP:PORT  where browsers (or nginx) connect to /ws\n"
        "  --events PATH     the unix datagram socket nginx sends events "
        "to\n"
        "  --secret PATH     the realtime ticket secret shared with nginx\n"
        "  --store URI       the store nginx writes (sqlite:PATH or\n"
        "                    mongodb://...): events a datagram did not\n"
        "                    bring and resumes older than the recent ones\n"
        "                    are read from it; without it they are resets\n"
        "  --origin URL      a page address browsers may connect from (the\n"
        "                    inbox's public URL); repeat for more.  Browsers\n"
        "                    of any other origin are refused (403), also\n"
        "                    all of them when there is no --origin; clients\n"
        "                    that send no Origin need only a ticket\n"
        "  --max-queue N     frames queued per connection before it is\n"
        "                    closed as a slow consumer (default %d)\n"
        "  --tickets-per-org N\n"
        "                    tickets one organization may have used within\n"
        "                    a ticket's lifetime; more are refused with 429\n"
        "                    (default %d)\n"

        "  --ping-secs N     send a connection that sent or was sent\n"
        "                    nothing for N seconds a ping and a\n"
        "                    {\"type\":\"ping\"} frame (hello tells it N),\n"
        "                    close one that sent nothing for 2 N\n"
        "                    (default %d)\n"
        "  --keep-secs N     keep an organization's recent frames N seconds\n"
        "                    after its last connection closes, for quick\n"
        "                    resumes; later ones read --store (default %d)\n"
        "  --verbose         log connections and events to stderr\n"
        "\n"
        "SIGTERM, SIGINT or SIGHUP stops it: every connection is closed\n"
        "(browsers connect again) and it exits 0.\n",
        WS_FANOUT_MAX_QUEUE, WS_AUTH_ORG_NONCES_MAX, WS_SERVER_PING_SECS,
        WS_STREAM_KEEP_SECS);
}


/*
 * A SIGINT or SIGHUP ignored by whoever started us (a shell's background
 * job, nohup: make run's supervisor stops us with SIGTERM) stays ignored:
 * uv_signal would install a handler over it.
 */
static void
ws_server_loop_open(ws_loop_t *lp, ws_fanout_t *fanout, uint32_t ping_secs)
{
    uint64_t          every;
    struct sigaction  old;

    memset(lp, 0, sizeof(ws_loop_t));
    lp->fanout = fanout;
    lp->ping_ms = ping_secs * 1000;

    uv_loop_init(&lp->loop);

    uv_signal_init(&lp->loop, &lp->term);
    uv_signal_start(&lp->term, ws_server_on_signal, SIGTERM);
    lp->term.data = lp;

    uv_signal_init(&lp->loop, &lp->intr);
    lp->intr.data = lp;
    if (sigaction(SIGINT, NULL, &old) == 0 && old.sa_handler != SIG_IGN) {
        uv_signal_start(&lp->intr, ws_server_on_signal, SIGINT);
        lp->intr_on = 1;
    }

    uv_signal_init(&lp->loop, &lp->hup);
    lp->hup.data = lp;
    if (sigaction(SIGHUP, NULL, &old) == 0 && old.sa_handler != SIG_IGN) {
        uv_signal_start(&lp->hup, ws_server_on_signal, SIGHUP);
    }

    /* after each turn's I/O: write what that turn queued */
    uv_check_init(&lp->loop, &lp->flush);
    lp->flush.data = lp;
    uv_check_start(&lp->flush, ws_server_on_check);

    /* frames queued by a timer (a resume's hold, a gap filled, a ping)
     * come before the turn's poll: an active idle handle keeps that poll
     * from sleeping until the next event, and the check flushes them */
    uv_idle_init(&lp->loop, &lp->nudge);
    lp->nudge.data = lp;
    ws_fanout_set_wake(fanout, ws_server_wake, lp);

    /* silences are counted from the sweep before they began, so a
     * connection is sent something after half of ping_secs to all of it
     * without (ws_fanout_keepalive) */
    every = lp->ping_ms / 2;
    uv_timer_init(&lp->loop, &lp->keepalive);
    lp->keepalive.data = lp;
    uv_timer_start(&lp->keepalive, ws_server_on_keepalive, 0, every);

    /* armed for the earliest session or token end (ws_server_arm_lapse) */
    uv_timer_init(&lp->loop, &lp->lapse);
    lp->lapse.data = lp;
}


/* Closes every connection through the loop; uv_run returns when done. */
static void
ws_server_on_signal(uv_signal_t *handle, int signo)
{
    ws_loop_t  *lp = handle->data;

    if (lp->stopping) {
        return;
    }

    /* in the log whatever --verbose says: a stop is worth a line */
    fprintf(stderr, "ws-server: stopping on signal %d (%s)\n", signo,
            signo == SIGHUP ? "hangup" : signo == SIGINT ? "interrupt"
                                                         : "terminate");

    ws_server_close_handles(lp);

    /* the store thread and every timer, while the context is whole */
    ws_events_stop(lp->events);

    /* its closed connections hand their frames back to the fan-out */
    lws_context_destroy(lp->context);
}


static void
ws_server_on_keepalive(uv_timer_t *handle)
{
    ws_loop_t  *lp = handle->data;

    ws_fanout_keepalive(lp->fanout, (uint32_t) uv_now(&lp->loop));
    ws_accept_calm(inbox_now_ms());
}


static void
ws_server_on_lapse(uv_timer_t *handle)
{
    ws_loop_t  *lp = handle->data;

    ws_fanout_close_lapsed(lp->fanout, inbox_now_ms());

    /* at once: the check after this turn may wait for I/O */
    lp->lapse_due = 0;
    ws_server_arm_lapse(lp);
}


/* (Re)starts the lapse timer when the earliest end moved. */
static void
ws_server_arm_lapse(ws_loop_t *lp)
{
    int64_t  due, now;

    due = ws_fanout_next_lapse(lp->fanout);

    if (due == lp->lapse_due || lp->stopping) {
        return;
    }

    lp->lapse_due = due;

    if (due == 0) {
        uv_timer_stop(&lp->lapse);
        return;
    }

    now = inbox_now_ms();
    uv_timer_start(&lp->lapse, ws_server_on_lapse,
                   due > now ? (uint64_t) (due - now) : 0, 0);
}


static void
ws_server_wake(void *data)
{
    ws_loop_t  *lp = data;

    if (!lp->stopping) {
        uv_idle_start(&lp->nudge, ws_server_on_nudge);
    }
}


static void
ws_server_on_nudge(uv_idle_t *handle)
{
    /* nothing: being active is its work */
}


static void
ws_server_on_check(uv_check_t *handle)
{
    ws_loop_t  *lp = handle->data;

    uv_idle_stop(&lp->nudge);
    ws_fanout_flush(lp->fanout);

    /* a connection that joined this turn may end before the others */
    ws_server_arm_lapse(lp);
}


/*
 * The loop's own handles, closed once, every one: a nudge a frame started
 * earlier in the turn a signal came in, left open, would keep uv_run
 * turning for good with nothing to do.
 */
static void
ws_server_close_handles(ws_loop_t *lp)
{
    if (lp->stopping) {
        return;
    }

    lp->stopping = 1;
    uv_close((uv_handle_t *) &lp->term, NULL);
    uv_close((uv_handle_t *) &lp->intr, NULL);
    uv_close((uv_handle_t *) &lp->hup, NULL);
    uv_close((uv_handle_t *) &lp->flush, NULL);
    uv_close((uv_handle_t *) &lp->nudge, NULL);
    uv_close((uv_handle_t *) &lp->keepalive, NULL);
    uv_close((uv_handle_t *) &lp->lapse, NULL);
}


/* Finishes what a signal began, or undoes a failed start. */
static void
ws_server_loop_close(ws_loop_t *lp)
{
    ws_server_close_handles(lp);

    if (lp->context != NULL) {
        ws_events_stop(lp->events);
    }

    /* on a foreign loop each call advances the close; the loop runs the
     * handle closes in between; lws sets lp->context to NULL when done */
    if (lp->context != NULL) {
        lws_context_destroy(lp->context);
        uv_run(&lp->loop, UV_RUN_DEFAULT);
    }

    if (lp->context != NULL) {
        lws_context_destroy(lp->context);
        uv_run(&lp->loop, UV_RUN_DEFAULT);
    }

    uv_run(&lp->loop, UV_RUN_DEFAULT);

    if (uv_loop_close(&lp->loop) != 0) {
        lwsl_warn("ws-server: the event loop still had handles\n");
    }
}
