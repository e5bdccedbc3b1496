/*
 * The campaigns' clock (sender_clock.h): the real one, or an instant read
 * from a file that a test or a rehearsal rewrites.  A stat(2) a look, a
 * read only when the file changed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <inbox/clock.h>
#include "sender_clock.h"


static const char *sender_clock_read(sender_clock_t *clock,
    const struct stat *st);


int
sender_clock_open(sender_clock_t *clock, const char *path, char *err,
    size_t size)
{
    const char   *failed;
    struct stat   st;

    memset(clock, 0, sizeof(sender_clock_t));

    if (path == NULL) {
        return 0;
    }

    clock->path = path;

    if (stat(path, &st) == -1) {
        snprintf(err, size, "%s: %s", path, strerror(errno));
        return -1;
    }

    failed = sender_clock_read(clock, &st);
    if (failed != NULL) {
        snprintf(err, size, "%s: %s", path, failed);
        return -1;
    }

    return 0;
}


int64_t
sender_clock_last(const sender_clock_t *clock, int64_t real_now)
{
    return clock->path == NULL ? real_now : clock->at;
}


int64_t
sender_clock_now(sender_clock_t *clock, int64_t real_now, int *changed,
    const char **failed)
{
    const char   *why;
    struct stat   st;

    if (changed != NULL) {
        *changed = 0;
    }

    if (failed != NULL) {
        *failed = NULL;
    }

    if (clock->path == NULL) {
        return real_now;
    }

    if (stat(clock->path, &st) == -1) {
        why = "cannot see it";

    } else if (st.st_mtim.tv_sec == clock->mtime.tv_sec
               && st.st_mtim.tv_nsec == clock->mtime.tv_nsec
               && st.st_size == clock->size && st.st_ino == clock->ino)
    {
        return clock->at;

    } else {
        why = sender_clock_read(clock, &st);
    }

    if (why == NULL) {
        clock->failing = 0;

        if (changed != NULL) {
            *changed = 1;
        }

    } else if (!clock->failing) {
        /* said once, until the file is good again */
        clock->failing = 1;

        if (failed != NULL) {
            *failed = why;
        }
    }

    return clock->at;
}


/* The instant in the file, and the file's identity with it; NULL, or
 * what is wrong (clock->at is left as it was). */
static const char *
sender_clock_read(sender_clock_t *clock, const struct stat *st)
{
    int       fd;
    char      buf[64];
    size_t    len;
    ssize_t   n;
    int64_t   at;

    fd = open(clock->path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        return "cannot open it";
    }

    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);

    if (n < 0) {
        return "cannot read it";
    }

    len = (size_t) n;

    /* a trailing newline (echo, an editor) is no part of the instant */
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'
                       || buf[len - 1] == ' '))
    {
        len--;
    }

    buf[len] = '\0';

    if (inbox_iso8601_parse(buf, &at) != 0) {
        return "it holds no UTC instant such as 2026-03-01T15:00:00Z";
    }

    clock->at = at;
    clock->mtime = st->st_mtim;
    clock->size = st->st_size;
    clock->ino = st->st_ino;

    return NULL;
}
