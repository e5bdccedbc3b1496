/*
 * The campaigns' clock: the time the campaigns job gives the store, for
 * what time decides (a scheduled campaign's send_at, quiet hours on each
 * recipient's clock, the times dispatch and progress record).  It is the
 * real clock, or, with --clock-file PATH (for tests and rehearsals), the
 * UTC instant that file holds ("2026-03-01T15:00:00Z"): the clock stands
 * still there until the file changes, and is read again only then (its
 * modification time, size or inode moved).  Everything else in the
 * sender (the outbox, its retries and leases, the pacing, credit holds)
 * keeps the real clock: a message handed over at an instant ahead of the
 * real clock waits in the outbox until the real clock reaches it, so
 * tests set instants at or behind it (nginx stamps a send on the real
 * clock: a campaign to be sent on the file's names its send_at, when
 * its recipients are due, campaign.h).
 */
#ifndef SENDER_CLOCK_H
#define SENDER_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

typedef struct {
    const char       *path;      /* NULL: the real clock */
    struct timespec   mtime;     /* the file as last read */
    off_t             size;
    ino_t             ino;
    int64_t           at;        /* its instant, ms */
    int               failing;   /* the last look failed (said once) */
} sender_clock_t;

/* With path (not NULL), reads it once: 0, or -1 with why in err when
 * the file cannot be read or holds no instant. */
int sender_clock_open(sender_clock_t *clock, const char *path, char *err,
    size_t size);

/* The campaigns' time now: real_now, or the file's instant (read again
 * when it changed; a file that went bad keeps the last good instant, and
 * *changed or *failed, which may be NULL, say what happened for the
 * caller to log). */
int64_t sender_clock_now(sender_clock_t *clock, int64_t real_now,
    int *changed, const char **failed);

/* The campaigns' time as sender_clock_now last read it, without looking
 * at the file (that look, and its log, are the campaigns job's). */
int64_t sender_clock_last(const sender_clock_t *clock, int64_t real_now);

#endif
