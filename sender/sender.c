/*
 * The sender: the one process that talks to carriers.  It drains the
 * outbox (replies, and later campaign messages) and copies inbound media,
 * on its own event loop (libcurl's multi interface), so that no carrier
 * call ever runs in nginx.  nginx's workers wake it with a datagram when
 * they queue something; it also looks again when a retry falls due.
 *
 *   sender --store URI --wake PATH --public-url URL [--events PATH]...
 *          [--media-dir DIR] [--rate N] [--burst N] [--max-active N]
 *          [--timeout MS] [--lease MS] [--clock-file PATH]
 *          [--status-check-after MS] [--status-check-rate N] [--verbose]
 *
 * This file: options, the wake-up socket, signals (SIGTERM, SIGINT and
 * SIGHUP through a signalfd polled with everything else) and the loop
 * that asks each job for work.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <inbox/clock.h>
#include <inbox/dgram.h>
#include <inbox/nofile.h>
#include <inbox/wake.h>
#include "sender.h"
#include "sender_jobs.h"

/* How long the loop may wait for room in ws-server's queue. */
#define SENDER_EVENTS_WAIT_MS  5

static int sender_options(int argc, char **argv, sender_options_t *o);
static int sender_media_dir_check(const char *dir);
static void sender_usage(FILE *out);
static int sender_signals_open(void);
static void sender_drain(int fd);
static void sender_wake_drain(sender_t *s);
static void sender_vlog(const char *level, const char *fmt, va_list args);


/* The outbox first: a reply woken in a turn is claimed before that
 * turn's campaign dispatch takes the store's write lock; what the
 * dispatch hands over, the outbox claims after the jobs, in the same
 * turn (main). */
static const sender_pump_pt  sender_jobs[] = {
    sender_outbox_pump,
    sender_campaigns_pump,
    sender_media_pump,
    sender_holds_pump,
    sender_optouts_pump,
    sender_status_checks_pump,
};


int
main(int argc, char **argv)
{
    int          fds[2], ready[2], rc;
    size_t       i;
    long         connections;
    char         err[256], when[INBOX_ISO8601_MAX];
    char         store_shown[INBOX_STORE_URI_LOG_MAX];
    int64_t      now, next, wait;
    sender_t     s;
    inbox_error_t  store_err;

    memset(&s, 0, sizeof(s));

    if (sender_options(argc, argv, &s.options) != 0) {
        return 2;
    }

    s.nofile = inbox_nofile_raise(err, sizeof(err));
    if (err[0] != '\0') {
        sender_log(&s, "%s", err);
    }

    connections = inbox_nofile_connections(s.nofile);
    if (connections < 1) {
        connections = 1;
    }

    sender_log(&s, "%ld file descriptors (RLIMIT_NOFILE): carrier "
               "connections take %ld at most, the rest is kept for the "
               "store and the sender's own sockets", s.nofile, connections);

    if (sender_clock_open(&s.clock, s.options.clock_path, err, sizeof(err))
        != 0)
    {
        fprintf(stderr, "sender: --clock-file %s\n", err);
        return 1;
    }

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "sender: curl_global_init failed\n");
        return 1;
    }

    fds[0] = inbox_dgram_bind(s.options.wake_path, err, sizeof(err));
    if (fds[0] == -1) {
        fprintf(stderr, "sender: --wake: %s\n", err);
        return 1;
    }

    s.wake_fd = fds[0];

    fds[1] = sender_signals_open();
    if (fds[1] == -1) {
        return 1;
    }

    for (i = 0; i < s.options.events_count; i++) {
        if (inbox_dgram_peer_open(&s.events[i], s.options.events_paths[i],
                                  err, sizeof(err))
            != 0)
        {
            fprintf(stderr, "sender: --events: %s\n", err);
            return 1;
        }

        /* the loop drives transfers: it may hardly wait for ws-server */
        if (inbox_dgram_peer_set_wait(&s.events[i], SENDER_EVENTS_WAIT_MS,
                                      err, sizeof(err))
            != 0)
        {
            fprintf(stderr, "sender: --events: %s\n", err);
        }
    }

    /* else each inbound file is tried for hours, then given up */
    if (s.options.media_dir != NULL
        && sender_media_dir_check(s.options.media_dir) != 0)
    {
        return 1;
    }

    /* the URI as logged: without a MongoDB password */
    inbox_store_uri_redacted(s.options.store_uri, store_shown,
                             sizeof(store_shown));

    s.store = inbox_store_open(s.options.store_uri, &store_err);
    if (s.store == NULL) {
        fprintf(stderr, "sender: cannot open the store %s: %s\n",
                store_shown, store_err.message);
        return 1;
    }

    /* a transfer past the connections would wait inside curl, where
     * its time runs and its claim does too */
    if ((long) s.options.max_active > connections) {
        sender_log(&s, "--max-active %u: %ld at most, the carrier "
                   "connections the file descriptor limit leaves",
                   s.options.max_active, connections);
        s.options.max_active = (unsigned) connections;
    }

    s.loop = sender_loop_create(s.options.max_active, connections);
    s.rate = sender_rate_create(s.options.rate, s.options.burst);
    if (s.loop == NULL || s.rate == NULL) {
        fprintf(stderr, "sender: out of memory\n");
        return 1;
    }

    sender_log(&s, "started: store %s, wake %s, %.1f sends/s per number",
               store_shown, s.options.wake_path, s.options.rate);

    if (s.options.clock_path != NULL) {
        inbox_iso8601(s.clock.at, when);
        sender_log(&s, "campaigns run on the clock of %s: %s",
                   s.options.clock_path, when);
    }

    rc = 0;

    /*
     * On SIGTERM, SIGINT or SIGHUP: start nothing new, let what is in
     * flight end, and record what the carriers answered: while the store
     * refuses it, again at the retry's pace, until the claims' leases
     * end (the store then reports them unknown anyway) or a second
     * signal comes.
     */
    for ( ;; ) {
        now = inbox_now_ms();
        next = SENDER_IDLE_LOOK_MS;

        sender_no_descriptor_calm(&s, now);

        for (i = 0; !s.stopping && i < sizeof(sender_jobs)
                                      / sizeof(sender_jobs[0]); i++)
        {
            wait = sender_jobs[i](&s, now);
            if (wait >= 0 && wait < next) {
                next = wait;
            }
        }

        /*
         * What the campaigns job handed to the outbox in this turn is
         * claimed in it: the outbox's pump ran before the dispatch, and
         * its wait was worked out already, so a campaign's first
         * messages waited for the next turn (300 ms, a second when
         * idle) after a person pressed Send.
         */
        if (!s.stopping && sender_outbox_bulk_handed(&s)) {
            wait = sender_outbox_pump(&s, now);
            if (wait >= 0 && wait < next) {
                next = wait;
            }
        }

        if (s.stopping) {
            /* nothing new starts; what was answered is still recorded */
            wait = sender_outbox_flush(&s, now);
            if (wait >= 0 && wait < next) {
                next = wait;
            }

            if (sender_loop_active(s.loop) == 0
                && sender_outbox_unrecorded(&s, inbox_now_ms()) == 0)
            {
                break;
            }
        }

        if (sender_loop_turn(s.loop, fds, ready, 2, (int) next) != 0) {
            sender_log(&s, "the event loop failed");
            rc = 1;
            break;
        }

        if (ready[0]) {
            sender_wake_drain(&s);
            sender_jobs_wake(&s);
        }

        if (ready[1]) {
            if (s.stopping) {
                sender_log(&s, "second signal: stopping now, %u requests "
                           "in flight (their outcome is reported when the "
                           "sender starts again)",
                           sender_loop_active(s.loop));
                s.stopping = 2;
                break;
            }
            sender_drain(fds[1]);
            s.stopping = 1;
            sender_log(&s, "stopping after %u requests in flight",
                       sender_loop_active(s.loop));
        }
    }

    /* every answer the carriers gave, also after a second signal */
    sender_outbox_stop(&s);

    unlink(s.options.wake_path);
    for (i = 0; i < s.options.events_count; i++) {
        inbox_dgram_peer_close(&s.events[i]);
    }
    sender_loop_destroy(s.loop);
    sender_rate_destroy(s.rate);
    inbox_store_close(s.store);
    curl_global_cleanup();

    sender_log(&s, "stopped");
    return rc;
}


static int
sender_options(int argc, char **argv, sender_options_t *o)
{
    int    c;
    char  *end;

    static const struct option  longopts[] = {
        { "store",       required_argument, NULL, 's' },
        { "wake",        required_argument, NULL, 'w' },
        { "events",      required_argument, NULL, 'e' },
        { "public-url",  required_argument, NULL, 'u' },
        { "media-dir",   required_argument, NULL, 'm' },
        { "rate",        required_argument, NULL, 'r' },
        { "burst",       required_argument, NULL, 'b' },
        { "max-active",  required_argument, NULL, 'a' },
        { "timeout",     required_argument, NULL, 't' },
        { "lease",       required_argument, NULL, 'l' },
        { "clock-file",  required_argument, NULL, 'c' },
        { "status-check-after", required_argument, NULL, 'A' },
        { "status-check-rate",  required_argument, NULL, 'R' },
        { "verbose",     no_argument,       NULL, 'v' },
        { "help",        no_argument,       NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    o->rate = 10.0;
    o->burst = 10;
    o->max_active = 64;
    o->timeout_ms = 15000;
    o->status_check_after_ms = INBOX_STATUS_CHECK_AFTER_DEFAULT;
    o->status_check_rate = 1.0;

    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        end = NULL;

        switch (c) {
        case 's': o->store_uri = optarg; break;
        case 'w': o->wake_path = optarg; break;
        case 'e':
            if (o->events_count == INBOX_EVENTS_PEERS_MAX) {
                fprintf(stderr, "sender: at most %d --events\n",
                        INBOX_EVENTS_PEERS_MAX);
                return -1;
            }
            o->events_paths[o->events_count++] = optarg;
            break;
        case 'u': o->public_url = optarg; break;
        case 'm': o->media_dir = optarg; break;
        case 'r': o->rate = strtod(optarg, &end); break;
        case 'b': o->burst = (unsigned) strtoul(optarg, &end, 10); break;
        case 'a': o->max_active = (unsigned) strtoul(optarg, &end, 10); break;
        case 't': o->timeout_ms = strtol(optarg, &end, 10); break;
        case 'l': o->lease_ms = strtoll(optarg, &end, 10); break;
        case 'c': o->clock_path = optarg; break;
        case 'A': o->status_check_after_ms = strtoll(optarg, &end, 10); break;
        case 'R': o->status_check_rate = strtod(optarg, &end); break;
        case 'v': o->verbose = 1; break;
        case 'h': sender_usage(stdout); exit(0);
        default: sender_usage(stderr); return -1;
        }

        if (end != NULL && (*end != '\0' || end == optarg)) {
            fprintf(stderr, "sender: not a number: %s\n", optarg);
            return -1;
        }
    }

    if (o->store_uri == NULL || o->wake_path == NULL
        || o->public_url == NULL)
    {
        fprintf(stderr, "sender: --store, --wake and --public-url are "
                "required\n");
        sender_usage(stderr);
        return -1;
    }

    /* the store is looked at as often as that: not in a busy loop */
    if ((o->status_check_after_ms != 0 && o->status_check_after_ms < 1000)
        || o->status_check_rate <= 0 || o->status_check_rate > 100)
    {
        fprintf(stderr, "sender: --status-check-after must be 0 (never) "
                "or at least 1000, --status-check-rate above 0 and at most "
                "100\n");
        return -1;
    }

    /* a request must end within its claim: the store's default lease
     * counts when --lease is not given */
    if (o->rate <= 0 || o->burst == 0 || o->max_active == 0
        || o->timeout_ms < 100 || o->lease_ms < 0
        || (o->lease_ms > 0 ? o->lease_ms : INBOX_OUTBOX_LEASE_DEFAULT)
           <= o->timeout_ms)
    {
        fprintf(stderr, "sender: --rate, --burst and --max-active must be "
                "positive, --timeout at least 100 ms, --lease longer than "
                "--timeout\n");
        return -1;
    }

    return 0;
}


/* 0 when dir is a directory the sender may write copies into; -1 after
 * saying why not. */
static int
sender_media_dir_check(const char *dir)
{
    const char   *why;
    struct stat   st;

    why = stat(dir, &st) != 0 ? strerror(errno)
          : !S_ISDIR(st.st_mode) ? "not a directory" : NULL;

    if (why != NULL) {
        fprintf(stderr, "sender: --media-dir %s: %s (nginx's "
                "inbox_media_dir, which nginx makes when it starts)\n", dir,
                why);
        return -1;
    }

    if (access(dir, W_OK | X_OK) != 0) {
        fprintf(stderr, "sender: --media-dir %s: %s: inbound media "
                "cannot be copied into it\n", dir, strerror(errno));
        return -1;
    }

    return 0;
}


static void
sender_usage(FILE *out)
{
    fprintf(out,
        "usage: sender --store URI --wake PATH --public-url URL\n"
        "              [--events PATH] [--media-dir DIR] [--rate N]\n"
        "              [--burst N] [--max-active N] [--timeout MS]\n"
        "              [--lease MS] [--clock-file PATH]\n"
        "              [--status-check-after MS] [--status-check-rate N]\n"
        "              [--verbose]\n"
        "  --store URI       sqlite:PATH or mongodb://...\n"
        "  --wake PATH       the datagram socket nginx wakes the sender on\n"
        "  --events PATH     ws-server's event socket (delivery statuses);\n"
        "                    once per ws-server process\n"
        "  --public-url URL  the inbox as carriers reach it (status\n"
        "                    callbacks, media)\n"
        "  --media-dir DIR   where copies of inbound media are kept:\n"
        "                    nginx's inbox_media_dir, which must exist\n"
        "                    and be writable\n"
        "  --rate N          segments a second per sending number (10)\n"
        "  --burst N         sends at once per number (10)\n"
        "  --max-active N    carrier requests in flight at most (64; fewer\n"
        "                    when the file descriptor limit leaves fewer\n"
        "                    connections)\n"
        "  --timeout MS      one carrier request at most (15000)\n"
        "  --lease MS        how long a claim is the sender's; a sender\n"
        "                    that died comes back to its claims after it\n"
        "                    (the store's default: 60000)\n"
        "  --clock-file PATH for tests and rehearsals: campaigns and polls\n"
        "                    run on the UTC instant this file holds\n"
        "                    (2026-03-01T15:00:00Z), standing still until\n"
        "                    the file changes (send_at, quiet hours, the\n"
        "                    times they record); all else keeps the real\n"
        "                    clock, so set it at or behind the real time\n"
        "                    (messages handed over ahead of it wait in the\n"
        "                    outbox until the real clock comes)\n"
        "  --status-check-after MS  a message the carrier took that has\n"
        "                    no final status this long after is asked\n"
        "                    about, its status callback taken as lost,\n"
        "                    then again further apart, for 72 hours\n"
        "                    (600000, ten minutes; at least 1000;\n"
        "                    0: never)\n"
        "  --status-check-rate N  such asks a second at most (1)\n"
        "\n"
        "SIGTERM, SIGINT or SIGHUP stops it: nothing new starts, requests\n"
        "in flight end and what the carriers answered is recorded (while\n"
        "the store is busy, tried again until the claims' leases end); a\n"
        "second signal stops it at once.\n");
}


static int
sender_signals_open(void)
{
    int               fd;
    sigset_t          set;
    struct sigaction  old;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);

    /* a SIGINT or SIGHUP ignored by whoever started us stays ignored
     * (nohup; make run's supervisor stops us with SIGTERM): blocked for
     * signalfd, it would come all the same.  A SIGHUP (a terminal gone)
     * otherwise stops us as SIGTERM does, not at once. */
    if (sigaction(SIGINT, NULL, &old) == 0 && old.sa_handler != SIG_IGN) {
        sigaddset(&set, SIGINT);
    }

    if (sigaction(SIGHUP, NULL, &old) == 0 && old.sa_handler != SIG_IGN) {
        sigaddset(&set, SIGHUP);
    }

    if (sigprocmask(SIG_BLOCK, &set, NULL) == -1) {
        fprintf(stderr, "sender: sigprocmask: %s\n", strerror(errno));
        return -1;
    }

    fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd == -1) {
        fprintf(stderr, "sender: signalfd: %s\n", strerror(errno));
    }

    /* a closed pipe is an error to handle, not a reason to die */
    signal(SIGPIPE, SIG_IGN);

    return fd;
}


/* Reads every datagram (until EAGAIN). */
static void
sender_drain(int fd)
{
    char  buf[256];

    while (read(fd, buf, sizeof(buf)) >= 0) {
        /* nothing to read in a signal's: it came */
    }
}


/*
 * Reads every wake-up (until EAGAIN); one saying an organization's quiet
 * hours moved gives back what the sender holds of its campaigns (wake.h).
 */
static void
sender_wake_drain(sender_t *s)
{
    char     buf[256], org_id[INBOX_ID_MAX];
    ssize_t  n;

    while ((n = read(s->wake_fd, buf, sizeof(buf))) >= 0) {
        if (inbox_wake_read(buf, (size_t) n, org_id) == INBOX_WAKE_QUIET) {
            sender_outbox_quiet_moved(s, org_id);
        }
    }
}


int
sender_wake_pending(sender_t *s)
{
    struct pollfd  wake;

    wake.fd = s->wake_fd;
    wake.events = POLLIN;
    wake.revents = 0;

    return poll(&wake, 1, 0) == 1 && (wake.revents & POLLIN);
}


void
sender_publish(sender_t *s, const inbox_event_list_t *events)
{
    size_t    i, lost[INBOX_EVENTS_PEERS_MAX];
    uint64_t  since, total;

    if (s->options.events_count == 0) {
        return;
    }

    inbox_events_publish_each(s->events, s->options.events_count, events,
                              lost);

    for (i = 0; i < s->options.events_count; i++) {
        if (inbox_events_shed_report(&s->events[i], lost[i], &since,
                                     &total))
        {
            sender_log(s, "%llu events not handed to ws-server at %s (%llu "
                       "in all): it is down or did not read for %d ms; it "
                       "fills the gap from the store",
                       (unsigned long long) since, s->events[i].addr.sun_path,
                       (unsigned long long) total, SENDER_EVENTS_WAIT_MS);
        }
    }
}


void
sender_log(sender_t *s, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    sender_vlog("", fmt, args);
    va_end(args);
}


void
sender_debug(sender_t *s, const char *fmt, ...)
{
    va_list  args;

    if (!s->options.verbose) {
        return;
    }

    va_start(args, fmt);
    sender_vlog("debug: ", fmt, args);
    va_end(args);
}


static void
sender_vlog(const char *level, const char *fmt, va_list args)
{
    char       when[INBOX_ISO8601_MAX];

    inbox_iso8601(inbox_now_ms(), when);
    fprintf(stderr, "%s sender: %s", when, level);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
}
