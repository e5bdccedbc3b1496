/*
 * webhook-load: posts signed Twilio inbound webhooks to an HTTP server as
 * fast as it answers, over N keep-alive connections, one request in flight
 * on each, and reports throughput, latency percentiles, answers by status
 * and socket errors.  Each thread runs its own epoll loop over its share
 * of the connections.
 *
 * After the duration (or the request count) no request is started; the
 * ones in flight are waited for, so that every request sent has its answer
 * counted, and a store's row count can be compared with the 200s.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "load_request.h"
#include "load_response.h"
#include "load_selftest.h"
#include "load_stats.h"


#define RESPONSE_MAX     16384
#define TICK_MS          50

typedef enum {
    CONN_CLOSED,
    CONN_CONNECTING,
    CONN_WRITING,
    CONN_READING
} conn_state_t;

typedef struct {
    int            fd;
    conn_state_t   state;
    uint32_t       events;      /* what epoll watches for now */
    int            in_flight;   /* a request was started, no answer yet */
    uint64_t       started_ns;
    size_t         request_len;
    size_t         request_sent;
    size_t         response_len;
    char           request[LOAD_REQUEST_MAX];
    char           response[RESPONSE_MAX];
} conn_t;

typedef struct {
    char             target[256];      /* http://host:port */
    char             public_url[256];
    char             path[256];
    char             host_header[256];
    char             to[32];
    char             token[128];
    char             account_sid[40];
    char             run_id[16];
    unsigned         connections;
    unsigned         threads;
    unsigned         contacts;
    uint64_t         duration_ns;
    uint64_t         requests;         /* 0: run for duration_ns */
    uint64_t         timeout_ns;
    struct sockaddr_storage  addr;
    socklen_t        addr_len;
} options_t;

typedef struct {
    unsigned             index;
    const options_t     *opt;
    load_request_gen_t   gen;
    conn_t              *conns;
    unsigned             nconns;
    int                  epfd;
    uint64_t             seq;
    uint64_t             budget;        /* UINT64_MAX: until the deadline */
    unsigned             in_flight;
    int                  stopping;
    uint64_t             deadline_ns;
    uint64_t             last_answer_ns;
    uint64_t             finished_ns;
    load_stats_t         stats;
    int                  failed;
    pthread_t            tid;
} worker_t;


static void *worker_run(void *data);
static int worker_stopping(worker_t *w, uint64_t now);
static void conn_open(worker_t *w, conn_t *c);
static void conn_close(worker_t *w, conn_t *c);
static void conn_fail(worker_t *w, conn_t *c, uint64_t *counter);
static void conn_watch(worker_t *w, conn_t *c, uint32_t events);
static void conn_connected(worker_t *w, conn_t *c);
static void conn_send_next(worker_t *w, conn_t *c);
static void conn_write(worker_t *w, conn_t *c);
static void conn_read(worker_t *w, conn_t *c);
static void check_timeouts(worker_t *w, uint64_t now);
static uint64_t now_ns(void);
static int parse_duration(const char *s, uint64_t *ns);
static int parse_target(options_t *opt);
static int parse_options(int argc, char **argv, options_t *opt);
static void usage(FILE *out);


int
main(int argc, char **argv)
{
    unsigned          i, share, extra;
    uint64_t          first_ns, last_ns;
    worker_t         *workers;
    options_t         opt;
    load_run_t        run;
    load_stats_t      total;
    struct rusage     usage_self;

    if (argc == 2 && strcmp(argv[1], "--selftest") == 0) {
        return load_selftest() == 0 ? 0 : 1;
    }

    if (parse_options(argc, argv, &opt) != 0) {
        return 2;
    }

    workers = calloc(opt.threads, sizeof(worker_t));
    if (workers == NULL) {
        fprintf(stderr, "webhook-load: out of memory\n");
        return 1;
    }

    first_ns = now_ns();

    for (i = 0; i < opt.threads; i++) {
        worker_t  *w = &workers[i];

        w->index = i;
        w->opt = &opt;
        w->epfd = -1;

        share = opt.connections / opt.threads;
        extra = opt.connections % opt.threads;
        w->nconns = share + (i < extra);

        if (opt.requests) {
            w->budget = opt.requests / opt.threads
                        + (i < opt.requests % opt.threads);
        } else {
            w->budget = UINT64_MAX;
            w->deadline_ns = first_ns + opt.duration_ns;
        }

        if (load_request_init(&w->gen, opt.public_url, opt.path,
                              opt.host_header, opt.token, opt.to,
                              opt.account_sid, opt.run_id, opt.contacts)
            != 0)
        {
            fprintf(stderr, "webhook-load: cannot set up HMAC-SHA1\n");
            return 1;
        }
    }

    for (i = 0; i < opt.threads; i++) {
        if (pthread_create(&workers[i].tid, NULL, worker_run, &workers[i])
            != 0)
        {
            fprintf(stderr, "webhook-load: cannot start a thread\n");
            return 1;
        }
    }

    memset(&total, 0, sizeof(total));
    last_ns = first_ns;

    for (i = 0; i < opt.threads; i++) {
        pthread_join(workers[i].tid, NULL);

        if (workers[i].failed) {
            fprintf(stderr, "webhook-load: thread %u failed\n", i);
            return 1;
        }

        /* Without any answer, the time it tried for. */
        if (workers[i].last_answer_ns > last_ns) {
            last_ns = workers[i].last_answer_ns;
        } else if (total.count == 0 && workers[i].stats.count == 0
                   && workers[i].finished_ns > last_ns)
        {
            last_ns = workers[i].finished_ns;
        }

        if (load_stats_merge(&total, &workers[i].stats) != 0) {
            fprintf(stderr, "webhook-load: out of memory\n");
            return 1;
        }

        load_request_free(&workers[i].gen);
    }

    getrusage(RUSAGE_SELF, &usage_self);

    run.path = opt.path;
    run.connections = opt.connections;
    run.threads = opt.threads;
    run.elapsed_s = (last_ns - first_ns) / 1e9;
    run.cpu_s = usage_self.ru_utime.tv_sec + usage_self.ru_stime.tv_sec
                + (usage_self.ru_utime.tv_usec
                   + usage_self.ru_stime.tv_usec) / 1e6;

    load_stats_report(&total, &run, stdout);

    load_stats_free(&total);
    free(workers);

    return 0;
}


static void *
worker_run(void *data)
{
    int                  i, n;
    worker_t            *w = data;
    unsigned             k;
    uint64_t             now, stop_ns, next_tick;
    struct epoll_event   events[256];

    w->conns = calloc(w->nconns, sizeof(conn_t));
    w->epfd = epoll_create1(EPOLL_CLOEXEC);

    if (w->conns == NULL || w->epfd == -1) {
        w->failed = 1;
        return NULL;
    }

    for (k = 0; k < w->nconns; k++) {
        w->conns[k].fd = -1;
        conn_open(w, &w->conns[k]);
    }

    stop_ns = 0;
    next_tick = now_ns() + TICK_MS * 1000000ULL;

    for ( ;; ) {
        now = now_ns();

        if (worker_stopping(w, now)) {
            if (stop_ns == 0) {
                stop_ns = now;

                /* Idle and connecting connections have nothing to wait
                 * for. */
                for (k = 0; k < w->nconns; k++) {
                    if (!w->conns[k].in_flight) {
                        conn_close(w, &w->conns[k]);
                    }
                }
            }

            if (w->in_flight == 0) {
                break;
            }
        }

        if (now >= next_tick) {
            check_timeouts(w, now);
            next_tick = now + TICK_MS * 1000000ULL;
        }

        n = epoll_wait(w->epfd, events, 256, TICK_MS);
        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }
            w->failed = 1;
            break;
        }

        for (i = 0; i < n; i++) {
            conn_t  *c = events[i].data.ptr;

            switch (c->state) {
            case CONN_CONNECTING:
                conn_connected(w, c);
                break;
            case CONN_WRITING:
                conn_write(w, c);
                break;
            case CONN_READING:
                conn_read(w, c);
                break;
            case CONN_CLOSED:
                break;
            }
        }
    }

    for (k = 0; k < w->nconns; k++) {
        conn_close(w, &w->conns[k]);
    }

    w->finished_ns = now_ns();
    close(w->epfd);
    free(w->conns);

    return NULL;
}


static int
worker_stopping(worker_t *w, uint64_t now)
{
    if (!w->stopping) {
        if (w->seq >= w->budget
            || (w->budget == UINT64_MAX && now >= w->deadline_ns))
        {
            w->stopping = 1;
        }
    }

    return w->stopping;
}


static void
conn_open(worker_t *w, conn_t *c)
{
    int  fd, one;

    c->state = CONN_CLOSED;
    c->events = 0;

    if (worker_stopping(w, now_ns())) {
        return;
    }

    fd = socket(w->opt->addr.ss_family,
                SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        w->stats.errors.connect++;
        return;
    }

    one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    c->fd = fd;

    if (connect(fd, (struct sockaddr *) &w->opt->addr, w->opt->addr_len)
        == -1 && errno != EINPROGRESS)
    {
        w->stats.errors.connect++;
        close(fd);
        c->fd = -1;
        return;
    }

    c->state = CONN_CONNECTING;
    conn_watch(w, c, EPOLLOUT);
}


static void
conn_close(worker_t *w, conn_t *c)
{
    if (c->fd != -1) {
        /* close() drops the fd from the epoll set. */
        close(c->fd);
        c->fd = -1;
    }

    if (c->in_flight) {
        c->in_flight = 0;
        w->in_flight--;
    }

    c->state = CONN_CLOSED;
    c->events = 0;
    c->response_len = 0;
}


/* Counts the error, drops the connection and opens a new one; a failed
 * connect is retried by check_timeouts() instead, to not spin. */
static void
conn_fail(worker_t *w, conn_t *c, uint64_t *counter)
{
    (*counter)++;
    conn_close(w, c);

    if (counter != &w->stats.errors.connect) {
        conn_open(w, c);
    }
}


static void
conn_watch(worker_t *w, conn_t *c, uint32_t events)
{
    int                  op;
    struct epoll_event   ev;

    if (c->events == events) {
        return;
    }

    op = c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

    ev.events = events;
    ev.data.ptr = c;

    if (epoll_ctl(w->epfd, op, c->fd, &ev) == -1) {
        w->failed = 1;
        return;
    }

    c->events = events;
}


static void
conn_connected(worker_t *w, conn_t *c)
{
    int        err;
    socklen_t  len;

    err = 0;
    len = sizeof(err);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1
        || err != 0)
    {
        conn_fail(w, c, &w->stats.errors.connect);
        return;
    }

    conn_send_next(w, c);
}


static void
conn_send_next(worker_t *w, conn_t *c)
{
    if (worker_stopping(w, now_ns())) {
        conn_close(w, c);
        return;
    }

    c->request_len = load_request_build(&w->gen, w->index, w->opt->threads,
                                        w->seq, c->request);
    if (c->request_len == 0) {
        w->failed = 1;
        w->stopping = 1;
        conn_close(w, c);
        return;
    }

    w->seq++;
    w->in_flight++;
    c->in_flight = 1;
    c->request_sent = 0;
    c->response_len = 0;
    c->started_ns = now_ns();
    c->state = CONN_WRITING;

    conn_write(w, c);
}


static void
conn_write(worker_t *w, conn_t *c)
{
    ssize_t  n;

    while (c->request_sent < c->request_len) {
        n = send(c->fd, c->request + c->request_sent,
                 c->request_len - c->request_sent, MSG_NOSIGNAL);

        if (n == -1) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                conn_watch(w, c, EPOLLOUT);
                return;
            }
            if (errno == EINTR) {
                continue;
            }
            conn_fail(w, c, &w->stats.errors.write);
            return;
        }

        c->request_sent += n;
    }

    c->state = CONN_READING;
    conn_watch(w, c, EPOLLIN);
}


static void
conn_read(worker_t *w, conn_t *c)
{
    int              rc;
    ssize_t          n;
    uint64_t         now;
    load_response_t  res;

    for ( ;; ) {
        n = recv(c->fd, c->response + c->response_len,
                 RESPONSE_MAX - c->response_len, 0);

        if (n == -1) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return;
            }
            if (errno == EINTR) {
                continue;
            }
            conn_fail(w, c, &w->stats.errors.read);
            return;
        }

        if (n == 0) {
            /* The server closed before answering in full. */
            conn_fail(w, c, &w->stats.errors.read);
            return;
        }

        c->response_len += n;

        rc = load_response_parse(c->response, c->response_len, &res);

        if (rc == 0 && c->response_len < RESPONSE_MAX) {
            continue;
        }

        if (rc != 1) {
            conn_fail(w, c, &w->stats.errors.parse);
            return;
        }

        now = now_ns();

        if (load_stats_record(&w->stats, res.status, now - c->started_ns)
            != 0)
        {
            w->failed = 1;
            w->stopping = 1;
        }

        w->last_answer_ns = now;
        c->in_flight = 0;
        w->in_flight--;

        if (!res.keep_alive) {
            w->stats.reconnects++;
            conn_close(w, c);
            conn_open(w, c);
            return;
        }

        conn_send_next(w, c);
        return;
    }
}


/* Requests past the timeout count as timeouts; connections whose connect
 * failed are retried here. */
static void
check_timeouts(worker_t *w, uint64_t now)
{
    unsigned   k;
    conn_t    *c;

    for (k = 0; k < w->nconns; k++) {
        c = &w->conns[k];

        if (c->in_flight && now - c->started_ns > w->opt->timeout_ns) {
            conn_fail(w, c, &w->stats.errors.timeout);

        } else if (c->state == CONN_CLOSED && !w->stopping) {
            conn_open(w, c);
        }
    }
}


static uint64_t
now_ns(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}


/* "8s", "500ms", "2m", or plain seconds. */
static int
parse_duration(const char *s, uint64_t *ns)
{
    char    *end;
    double   value;

    value = strtod(s, &end);
    if (end == s || value < 0) {
        return -1;
    }

    if (*end == '\0' || strcmp(end, "s") == 0) {
        *ns = value * 1e9;
    } else if (strcmp(end, "ms") == 0) {
        *ns = value * 1e6;
    } else if (strcmp(end, "m") == 0) {
        *ns = value * 60e9;
    } else {
        return -1;
    }

    return 0;
}


/* http://HOST[:PORT] into addr and the Host header. */
static int
parse_target(options_t *opt)
{
    int               rc;
    char              host[256], *colon, *slash;
    const char       *port;
    struct addrinfo   hints, *res;

    if (strncmp(opt->target, "http://", 7) != 0
        || strlen(opt->target + 7) >= sizeof(host))
    {
        fprintf(stderr, "webhook-load: --url must be http://HOST[:PORT]\n");
        return -1;
    }

    strcpy(host, opt->target + 7);

    slash = strchr(host, '/');
    if (slash) {
        *slash = '\0';
    }

    strcpy(opt->host_header, host);

    colon = strrchr(host, ':');
    port = "80";
    if (colon && strchr(host, ']') < colon) {
        *colon = '\0';
        port = colon + 1;
    }

    if (host[0] == '[') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;

    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "webhook-load: %s: %s\n", host, gai_strerror(rc));
        return -1;
    }

    memcpy(&opt->addr, res->ai_addr, res->ai_addrlen);
    opt->addr_len = res->ai_addrlen;
    freeaddrinfo(res);

    return 0;
}


static int
parse_options(int argc, char **argv, options_t *opt)
{
    int                   ch;
    unsigned              run_id;
    static struct option  long_options[] = {
        { "url",         required_argument, NULL, 'u' },
        { "path",        required_argument, NULL, 'P' },
        { "public-url",  required_argument, NULL, 'U' },
        { "connections", required_argument, NULL, 'c' },
        { "threads",     required_argument, NULL, 't' },
        { "duration",    required_argument, NULL, 'd' },
        { "requests",    required_argument, NULL, 'n' },
        { "contacts",    required_argument, NULL, 'C' },
        { "to",          required_argument, NULL, 'T' },
        { "token",       required_argument, NULL, 'k' },
        { "account-sid", required_argument, NULL, 'A' },
        { "run-id",      required_argument, NULL, 'r' },
        { "timeout",     required_argument, NULL, 'o' },
        { "baseline",    no_argument,       NULL, 'B' },
        { "help",        no_argument,       NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    memset(opt, 0, sizeof(*opt));
    strcpy(opt->target, "http://127.0.0.1:8080");
    strcpy(opt->path, "/webhooks/twilio/inbound");
    strcpy(opt->to, "+15005550006");
    strcpy(opt->token, "T");
    strcpy(opt->account_sid, "AC0123456789abcdef0123456789abcdef");
    opt->connections = 50;
    opt->threads = 1;
    opt->contacts = 1000;
    opt->duration_ns = 10000000000ULL;
    opt->timeout_ns = 10000000000ULL;

    if (getrandom(&run_id, sizeof(run_id), 0) != sizeof(run_id)) {
        run_id = (unsigned) time(NULL) ^ (unsigned) getpid();
    }
    snprintf(opt->run_id, sizeof(opt->run_id), "%08x", run_id);

#define COPY_ARG(field)                                                     \
    if (strlen(optarg) >= sizeof(opt->field)) {                             \
        fprintf(stderr, "webhook-load: %s is too long\n", optarg);          \
        return -1;                                                          \
    }                                                                       \
    strcpy(opt->field, optarg)

    while ((ch = getopt_long(argc, argv, "u:P:c:t:d:n:h", long_options,
                             NULL)) != -1)
    {
        switch (ch) {
        case 'u':
            COPY_ARG(target);
            break;
        case 'P':
            COPY_ARG(path);
            break;
        case 'U':
            COPY_ARG(public_url);
            break;
        case 'T':
            COPY_ARG(to);
            break;
        case 'k':
            COPY_ARG(token);
            break;
        case 'A':
            COPY_ARG(account_sid);
            break;
        case 'r':
            if (strlen(optarg) != 8
                || strspn(optarg, "0123456789abcdef") != 8)
            {
                fprintf(stderr, "webhook-load: --run-id is 8 hex digits\n");
                return -1;
            }
            strcpy(opt->run_id, optarg);
            break;
        case 'B':
            strcpy(opt->path, "/baseline");
            break;
        case 'c':
            opt->connections = strtoul(optarg, NULL, 10);
            break;
        case 't':
            opt->threads = strtoul(optarg, NULL, 10);
            break;
        case 'C':
            opt->contacts = strtoul(optarg, NULL, 10);
            break;
        case 'n':
            opt->requests = strtoull(optarg, NULL, 10);
            break;
        case 'd':
            if (parse_duration(optarg, &opt->duration_ns) != 0) {
                fprintf(stderr, "webhook-load: bad duration %s\n", optarg);
                return -1;
            }
            break;
        case 'o':
            if (parse_duration(optarg, &opt->timeout_ns) != 0) {
                fprintf(stderr, "webhook-load: bad timeout %s\n", optarg);
                return -1;
            }
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }

#undef COPY_ARG

    if (optind != argc || opt->connections == 0 || opt->threads == 0
        || opt->contacts == 0 || opt->threads > opt->connections
        || opt->threads > 0xffff)
    {
        usage(stderr);
        return -1;
    }

    if (opt->public_url[0] == '\0') {
        strcpy(opt->public_url, opt->target);
    }

    return parse_target(opt);
}


static void
usage(FILE *out)
{
    fprintf(out,
        "usage: webhook-load [options]\n"
        "       webhook-load --selftest\n"
        "  -u, --url URL          server, http://HOST[:PORT] "
        "(http://127.0.0.1:8080)\n"
        "  -P, --path PATH        /webhooks/twilio/inbound\n"
        "      --baseline         same as --path /baseline\n"
        "      --public-url URL   base of the signed URL (the --url)\n"
        "  -c, --connections N    50\n"
        "  -t, --threads N        1\n"
        "  -d, --duration D       10s (also 500ms, 1m)\n"
        "  -n, --requests N       stop after N requests instead\n"
        "      --contacts N       From rotates over N numbers (1000)\n"
        "      --to E164          +15005550006\n"
        "      --token TOKEN      auth token signing the requests (T)\n"
        "      --account-sid SID\n"
        "      --run-id HEX8      part of every MessageSid (random)\n"
        "      --timeout D        10s\n"
        "The report ends with one line of JSON.\n");
}
