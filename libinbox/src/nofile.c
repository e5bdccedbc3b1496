/*
 * A server process's file descriptor limit, and its shortages.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <inbox/nofile.h>

/* What a process has when it cannot even read its limit: the usual
 * soft limit. */
#define INBOX_NOFILE_ASSUMED  1024


long
inbox_nofile_raise(char *err, size_t err_len)
{
    rlim_t         want;
    struct rlimit  rl;

    err[0] = '\0';

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        snprintf(err, err_len, "cannot read the file descriptor limit "
                 "(%s): assuming %d", strerror(errno), INBOX_NOFILE_ASSUMED);
        return INBOX_NOFILE_ASSUMED;
    }

    want = rl.rlim_max;
    if (want == RLIM_INFINITY || want > (rlim_t) INBOX_NOFILE_MAX) {
        want = (rlim_t) INBOX_NOFILE_MAX;
    }

    /* never lowered: a soft limit above the cap stays as it was */
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
        rl.rlim_cur = want;

        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            snprintf(err, err_len, "cannot raise the file descriptor limit "
                     "to %llu (%s)", (unsigned long long) want,
                     strerror(errno));

            if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
                return INBOX_NOFILE_ASSUMED;
            }
        }
    }

    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t) LONG_MAX) {
        return LONG_MAX;
    }

    return (long) rl.rlim_cur;
}


long
inbox_nofile_connections(long limit)
{
    if (limit > 2 * INBOX_NOFILE_RESERVE) {
        return limit - INBOX_NOFILE_RESERVE;
    }

    return limit / 2;
}


int
inbox_nofile_short(inbox_nofile_episode_t *e, int64_t now)
{
    int  starts;

    starts = e->last == 0;

    if (starts) {
        e->count = 0;
    }

    e->count++;
    /* 0 means none is on: a clock at 0 is taken as 1 ms later */
    e->last = now > 0 ? now : 1;

    return starts;
}


uint64_t
inbox_nofile_calm(inbox_nofile_episode_t *e, int64_t now)
{
    uint64_t  count;

    if (e->last == 0 || now - e->last < INBOX_NOFILE_CALM_MS) {
        return 0;
    }

    count = e->count;
    e->last = 0;
    e->count = 0;

    return count;
}
