/*
 * ws-server: the realtime push server.  Browsers hold a WebSocket to /ws
 * (subprotocol inbox.v1, opened with a ticket from the HTTP API); the
 * nginx module sends each event as a datagram; ws-server forwards it to
 * the sockets of the event's organization.
 *
 *   ws-server --listen 127.0.0.1:PORT --events PATH --secret PATH
 *             [--store URI] [--origin URL]... [--max-queue N]
 *             [--tickets-per-org N]
 *             [--verbose]
 *
 * This file: options, the lws context and its one service thread, and
 * SIGINT/SIGTERM, read from a signalfd adopted into the same loop so that
 * nothing runs in a signal handler.
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
#include <sys/signalfd.h>
#include <openssl/crypto.h>
#include <libwebsockets.h>
#include <inbox/event.h>
#include <inbox/ticket.h>
#include "ws_auth.h"
#include "ws_events.h"
#include "ws_fanout.h"
#include "ws_origin.h"

#define WS_SERVER_VHOST             "inbox"
#define WS_SERVER_SIGNALS_PROTOCOL  "inbox-signals"
#define WS_SERVER_SECRET_MAX        1024
#define WS_SERVER_RX_MAX            4096    /* client messages are small */
#define WS_SERVER_PING_SECS         30
#define WS_SERVER_HANGUP_SECS       60
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
    int          verbose;
} ws_options_t;

typedef struct {
    int  fd;
    int  stop;
} ws_signals_t;


static int ws_server_options(int argc, char **argv, ws_options_t *options);
static int ws_server_listen_address(const char *listen,
    ws_options_t *options);
static int ws_server_count(const char *option, const char *value,
    unsigned long max, size_t *out);
static void ws_server_usage(FILE *out);
static int ws_server_signals_open(ws_signals_t *signals);
static int ws_server_signals_callback(struct lws *wsi,
    enum lws_callback_reasons reason, void *user, void *in, size_t len);


/* Idle connections are pinged after 30 s and dropped after 60 s. */
static const lws_retry_bo_t  ws_server_keepalive = {
    .secs_since_valid_ping = WS_SERVER_PING_SECS,
    .secs_since_valid_hangup = WS_SERVER_HANGUP_SECS,
};


int
main(int argc, char **argv)
{
    int                               rc, log_level;
    size_t                            secret_len;
    ws_auth_t                        *auth;
    ws_events_t                      *events;
    ws_fanout_t                      *fanout;
    ws_options_t                      options;
    ws_signals_t                      signals;
    ws_auth_conf_t                    auth_conf;
    inbox_error_t                     err;
    struct lws_vhost                 *vhost;
    struct lws_context               *context;
    lws_sock_file_fd_type             fd;
    struct lws_protocols              protocols[4];
    struct lws_context_creation_info  info;
    unsigned char                     secret[WS_SERVER_SECRET_MAX];

    rc = ws_server_options(argc, argv, &options);
    if (rc != 0) {
        return rc < 0 ? 0 : rc;
    }

    log_level = LLL_ERR | LLL_WARN;
    if (options.verbose) {
        log_level |= LLL_NOTICE | LLL_USER;
    }

    lws_set_log_level(log_level, NULL);

    auth = NULL;
    fanout = NULL;
    events = NULL;
    context = NULL;
    signals.fd = -1;
    signals.stop = 0;
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

    fanout = auth ? ws_fanout_create(auth, options.max_queue) : NULL;
    if (fanout == NULL) {
        fprintf(stderr, "ws-server: out of memory\n");
        goto done;
    }

    /* a vanished browser must not kill us: writes fail with EPIPE */
    signal(SIGPIPE, SIG_IGN);

    if (ws_server_signals_open(&signals) != 0) {
        goto done;
    }

    events = ws_events_open(options.events_path, fanout, options.store_uri);
    if (events == NULL) {
        goto done;
    }

    /* protocols[0] also answers plain HTTP and upgrades without a
     * subprotocol */
    memset(protocols, 0, sizeof(protocols));
    protocols[0].name = WS_FANOUT_PROTOCOL;
    protocols[0].callback = ws_fanout_callback;
    protocols[0].per_session_data_size = ws_fanout_session_size();
    protocols[0].rx_buffer_size = WS_SERVER_RX_MAX;
    protocols[0].user = fanout;
    /* a whole frame per send(), not rx_buffer_size pieces */
    protocols[0].tx_packet_size = INBOX_EVENT_DATAGRAM_MAX + LWS_PRE + 16;

    protocols[1].name = WS_EVENTS_PROTOCOL;
    protocols[1].callback = ws_events_callback;
    protocols[1].user = events;

    protocols[2].name = WS_SERVER_SIGNALS_PROTOCOL;
    protocols[2].callback = ws_server_signals_callback;
    protocols[2].user = &signals;

    memset(&info, 0, sizeof(info));
    info.vhost_name = WS_SERVER_VHOST;
    info.iface = options.host;
    info.port = options.port;
    info.protocols = protocols;
    info.retry_and_idle_policy = &ws_server_keepalive;
    info.gid = -1;
    info.uid = -1;
    if (!options.ipv6) {
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    }

    context = lws_create_context(&info);
    if (context == NULL) {
        fprintf(stderr, "ws-server: cannot listen on %s:%d\n",
                options.host, options.port);
        goto done;
    }

    vhost = lws_get_vhost_by_name(context, WS_SERVER_VHOST);
    if (vhost == NULL || lws_get_vhost_listen_port(vhost) <= 0) {
        fprintf(stderr, "ws-server: cannot listen on %s:%d\n",
                options.host, options.port);
        goto done;
    }

    fd.filefd = signals.fd;
    signals.fd = -1;            /* lws owns it now, even on failure */

    if (lws_adopt_descriptor_vhost(vhost, LWS_ADOPT_RAW_FILE_DESC, fd,
                                   WS_SERVER_SIGNALS_PROTOCOL, NULL)
        == NULL
        || ws_events_adopt(events, vhost) != 0)
    {
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

    while (!signals.stop) {
        if (lws_service(context, 0) < 0) {
            fprintf(stderr, "ws-server: the event loop failed\n");
            goto done;
        }
    }

    lwsl_user("ws-server: stopping\n");
    rc = 0;

done:

    /* closes every connection (their frames go back to the fan-out) and
     * the adopted descriptors */
    if (context != NULL) {
        lws_context_destroy(context);
    }

    if (signals.fd != -1) {
        close(signals.fd);
    }

    ws_events_close(events);
    ws_fanout_destroy(fanout);
    ws_auth_destroy(auth);

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
        { "verbose",         no_argument,       NULL, 'v' },
        { "help",            no_argument,       NULL, 'h' },
        { NULL,              0,                 NULL, 0 }
    };

    memset(options, 0, sizeof(ws_options_t));
    options->max_queue = WS_FANOUT_MAX_QUEUE;
    options->org_tickets = WS_AUTH_ORG_NONCES_MAX;
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
        "                 [--tickets-per-org N] [--verbose]\n"
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
        "  --verbose         log connections and events to stderr\n",
        WS_FANOUT_MAX_QUEUE, WS_AUTH_ORG_NONCES_MAX);
}


static int
ws_server_signals_open(ws_signals_t *signals)
{
    sigset_t          set;
    struct sigaction  old;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);

    /*
     * A SIGINT ignored by whoever started us (a shell's background job:
     * make run's supervisor stops us with SIGTERM) stays ignored: once
     * blocked for the signalfd, Linux would queue it all the same.
     */
    if (sigaction(SIGINT, NULL, &old) == 0 && old.sa_handler != SIG_IGN) {
        sigaddset(&set, SIGINT);
    }

    if (sigprocmask(SIG_BLOCK, &set, NULL) == -1) {
        fprintf(stderr, "ws-server: sigprocmask: %s\n", strerror(errno));
        return -1;
    }

    signals->fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (signals->fd == -1) {
        fprintf(stderr, "ws-server: signalfd: %s\n", strerror(errno));
        return -1;
    }

    return 0;
}


static int
ws_server_signals_callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
    ws_signals_t                *signals;
    struct signalfd_siginfo      siginfo;
    const struct lws_protocols  *protocol;

    protocol = lws_get_protocol(wsi);
    signals = protocol ? protocol->user : NULL;

    switch (reason) {

    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        /* a client naming this protocol: it is not a WebSocket one */
        return 1;

    case LWS_CALLBACK_RAW_RX_FILE:
        while (read(lws_get_socket_fd(wsi), &siginfo, sizeof(siginfo))
               == (ssize_t) sizeof(siginfo))
        {
            lwsl_user("ws-server: signal %u\n", siginfo.ssi_signo);
            signals->stop = 1;
        }
        return 0;

    default:
        break;
    }

    return 0;
}
