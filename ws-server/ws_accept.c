/*
 * Connections within the process's descriptors (ws_accept.h).
 *
 * Descriptors are numbered lowest first, so one numbered past the part
 * kept for connections means all below it are taken: refusing those
 * keeps connections below it and the reserve free, whatever order
 * connections close in.  Refused, the connection is accepted and closed
 * (the browser tries again later), not left in the listen queue: lws
 * 4.1 has no public way to stop polling its listener, and one that
 * stays readable while accept() fails is polled again at once: most of
 * a core, and megabytes a second of "accept: errno 24" in the log.
 *
 * One process, one listener: the state is this file's (lws' log hook
 * has no user pointer).
 */
#include <stdio.h>
#include <string.h>
#include <inbox/clock.h>
#include <inbox/nofile.h>
#include <uv.h>                 /* before libwebsockets.h: its uv parts */
#include <libwebsockets.h>
#include "ws_accept.h"

typedef struct {
    long                    limit;
    long                    connections;   /* fds numbered below this */
    inbox_nofile_episode_t  refused;
    inbox_nofile_episode_t  failed;        /* accept() itself failed */
} ws_accept_t;

static ws_accept_t  ws_accept;

static void ws_accept_lws_log(int level, const char *line);


void
ws_accept_init(long limit, int log_level)
{
    memset(&ws_accept, 0, sizeof(ws_accept));
    ws_accept.limit = limit;
    ws_accept.connections = inbox_nofile_connections(limit);

    lws_set_log_level(log_level, ws_accept_lws_log);

    fprintf(stderr, "ws-server: %ld file descriptors (RLIMIT_NOFILE): "
            "connections may take the first %ld, the rest is kept for the "
            "store and the events socket\n", limit, ws_accept.connections);
}


int
ws_accept_filter(int fd)
{
    if (fd < ws_accept.connections) {
        return 0;
    }

    if (inbox_nofile_short(&ws_accept.refused, inbox_now_ms())) {
        fprintf(stderr, "ws-server: refusing new connections: the %ld "
                "file descriptors connections may take (of %ld) are in use; "
                "logged once until none is refused for %d s\n",
                ws_accept.connections, ws_accept.limit,
                INBOX_NOFILE_CALM_MS / 1000);
    }

    return 1;
}


void
ws_accept_calm(int64_t now_ms)
{
    uint64_t  n;

    n = inbox_nofile_calm(&ws_accept.refused, now_ms);
    if (n > 0) {
        fprintf(stderr, "ws-server: accepting connections again, %llu "
                "refused meanwhile\n", (unsigned long long) n);
    }

    n = inbox_nofile_calm(&ws_accept.failed, now_ms);
    if (n > 0) {
        fprintf(stderr, "ws-server: accepting connections again, %llu "
                "accepts failed meanwhile\n", (unsigned long long) n);
    }
}


/*
 * lws logs each failed accept() (4.1: "accept: errno N"): once an
 * episode here.  With the reserve kept that is no longer a full
 * process, but EMFILE could still come from a store that took more
 * than the reserve, ENFILE from the system's table, ENOBUFS...
 */
static void
ws_accept_lws_log(int level, const char *line)
{
    if (strstr(line, "accept: errno") == NULL) {
        lwsl_emit_stderr(level, line);
        return;
    }

    if (inbox_nofile_short(&ws_accept.failed, inbox_now_ms())) {
        lwsl_emit_stderr(level, line);
        fprintf(stderr, "ws-server: connections wait while accepts fail; "
                "logged once until none fails for %d s\n",
                INBOX_NOFILE_CALM_MS / 1000);
    }
}
