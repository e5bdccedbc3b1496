/*
 * The SQLite backend: the queue of writers across processes.
 *
 * nginx's workers, the sender and inboxctl each queue their own writers
 * on a mutex; between processes they queue on a process-shared, robust
 * pthread mutex kept in PATH-writer, mapped by each.  Waiting on it, a
 * writer is handed the lock the moment the holder lets go (priority
 * inheritance: the kernel passes it to the first waiter, so a busy
 * process cannot take it back in turn after turn; SQLite's busy handler
 * can only poll), and it waits no longer than its deadline: a holder
 * that was stopped (^Z on inboxctl, a debugger, a paused container)
 * costs a 503 the carrier retries, not a hang of every writer.  A holder
 * that died leaves the mutex to the next one (EOWNERDEAD); what it left
 * half done is SQLite's to roll back.
 *
 * A mutex outlives its processes in the file: one left locked by a
 * machine that went down, or copied along with the store, would hold
 * every writer off for good.  So the file also names the boot and the
 * file (its inode) the mutex was made in, and a process that finds
 * others makes it anew.
 *
 * The queue only orders writers: SQLite's own lock keeps them apart.  So
 * whatever keeps the queue from working (a read-only directory, a file
 * of another user, a process of an older release queueing on flock())
 * leaves the busy handler to do it all, never a wrong write.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "store_sqlite.h"


/* "inboxwq1": the mutex in the file was made by this code */
#define INBOX_SQLITE_WRITER_MAGIC  0x31717778626e69ULL


#define INBOX_SQLITE_BOOT_ID_MAX  40


struct inbox_sqlite_writer_shared_s {
    uint64_t         magic;
    uint64_t         ino;                /* the file it was made in */
    char             boot_id[INBOX_SQLITE_BOOT_ID_MAX];
    pthread_mutex_t  mutex;
};


static int inbox_sqlite_writer_map(inbox_sqlite_writer_t *w, int fd,
    int64_t deadline);
static int inbox_sqlite_writer_init(inbox_sqlite_writer_shared_t *shared,
    uint64_t ino, const char *boot_id);
static void inbox_sqlite_writer_boot_id(char id[INBOX_SQLITE_BOOT_ID_MAX]);
static int64_t inbox_sqlite_writer_now(clockid_t clock);


void
inbox_sqlite_writer_reset(inbox_sqlite_writer_t *w)
{
    w->shared = NULL;
    w->pid = 0;
    w->locked = 0;
    w->tried = 0;
}


int
inbox_sqlite_writer_lock(inbox_sqlite_writer_t *w, const char *db_path,
    int64_t deadline)
{
    int              fd, rc;
    char             path[4096];
    int64_t          left;
    struct timespec  until;

    if (w->shared != NULL && w->pid != getpid()) {
        /* inherited over fork(): the mapping is the same file's, and the
         * mutex knows its owner by thread, so it serves the child too */
        w->pid = getpid();
    }

    if (w->shared == NULL && !w->tried) {
        w->tried = 1;

        if ((size_t) snprintf(path, sizeof(path), "%s-writer", db_path)
            >= sizeof(path))
        {
            return 0;
        }

        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd == -1) {
            return 0;
        }

        rc = inbox_sqlite_writer_map(w, fd, deadline);
        close(fd);

        if (rc != 0) {
            /* another process held the file past the deadline: try
             * again next time */
            w->tried = 0;
            return -1;
        }
    }

    if (w->shared == NULL) {
        return 0;
    }

    /* the deadline is monotonic; timedlock counts on the real clock */
    left = deadline - inbox_sqlite_writer_now(CLOCK_MONOTONIC);
    if (left < 0) {
        left = 0;
    }

    left += inbox_sqlite_writer_now(CLOCK_REALTIME);
    until.tv_sec = left / 1000;
    until.tv_nsec = (long) (left % 1000) * 1000000;

    rc = pthread_mutex_timedlock(&w->shared->mutex, &until);

    if (rc == EOWNERDEAD) {
        /* its holder died: SQLite rolls back what it left */
        (void) pthread_mutex_consistent(&w->shared->mutex);
        rc = 0;
    }

    if (rc == ETIMEDOUT) {
        return -1;
    }

    /* any other failure: no queue, the busy handler waits */
    w->locked = rc == 0;

    return 0;
}


void
inbox_sqlite_writer_unlock(inbox_sqlite_writer_t *w)
{
    if (w->locked) {
        w->locked = 0;
        (void) pthread_mutex_unlock(&w->shared->mutex);
    }
}


void
inbox_sqlite_writer_close(inbox_sqlite_writer_t *w)
{
    if (w->shared != NULL) {
        (void) munmap(w->shared, sizeof(inbox_sqlite_writer_shared_t));
    }

    inbox_sqlite_writer_reset(w);
}


/*
 * Maps fd's mutex, made first by whoever finds none (under the file's
 * flock, which an older release queued its writers on: asked for without
 * blocking until deadline, as a writer of it may be stopped).  Returns
 * -1 when the deadline passed first; 0 otherwise, mapped or not.
 */
static int
inbox_sqlite_writer_map(inbox_sqlite_writer_t *w, int fd, int64_t deadline)
{
    void                          *p;
    char                           boot_id[INBOX_SQLITE_BOOT_ID_MAX];
    struct stat                    st;
    inbox_sqlite_writer_shared_t  *shared;

    inbox_sqlite_writer_boot_id(boot_id);

    while (flock(fd, LOCK_EX | LOCK_NB) == -1) {
        if (errno == EINTR) {
            continue;
        }

        if (errno != EWOULDBLOCK) {
            return 0;
        }

        if (inbox_sqlite_writer_now(CLOCK_MONOTONIC) >= deadline) {
            return -1;
        }

        usleep(200);
    }

    p = MAP_FAILED;

    if (fstat(fd, &st) == 0
        && (st.st_size >= (off_t) sizeof(inbox_sqlite_writer_shared_t)
            || ftruncate(fd, sizeof(inbox_sqlite_writer_shared_t)) == 0))
    {
        p = mmap(NULL, sizeof(inbox_sqlite_writer_shared_t),
                 PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    }

    if (p != MAP_FAILED) {
        shared = p;

        if ((shared->magic == INBOX_SQLITE_WRITER_MAGIC
             && shared->ino == (uint64_t) st.st_ino
             && memcmp(shared->boot_id, boot_id, sizeof(boot_id)) == 0)
            || inbox_sqlite_writer_init(shared, st.st_ino, boot_id) == 0)
        {
            w->shared = shared;
            w->pid = getpid();

        } else {
            (void) munmap(p, sizeof(inbox_sqlite_writer_shared_t));
        }
    }

    (void) flock(fd, LOCK_UN);

    return 0;
}


static int
inbox_sqlite_writer_init(inbox_sqlite_writer_shared_t *shared, uint64_t ino,
    const char *boot_id)
{
    int                  rc;
    pthread_mutexattr_t  attr;

    shared->magic = 0;
    shared->ino = ino;
    memcpy(shared->boot_id, boot_id, INBOX_SQLITE_BOOT_ID_MAX);

    if (pthread_mutexattr_init(&attr) != 0) {
        return -1;
    }

    rc = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED) != 0
         || pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST) != 0
         || pthread_mutexattr_setprotocol(&attr, PTHREAD_PRIO_INHERIT) != 0
         || pthread_mutex_init(&shared->mutex, &attr) != 0;

    (void) pthread_mutexattr_destroy(&attr);

    if (rc) {
        return -1;
    }

    /* the others check it before they use the mutex */
    __atomic_store_n(&shared->magic, INBOX_SQLITE_WRITER_MAGIC,
                     __ATOMIC_RELEASE);

    return 0;
}


/* This boot's id ("" when the kernel does not say). */
static void
inbox_sqlite_writer_boot_id(char id[INBOX_SQLITE_BOOT_ID_MAX])
{
    int      fd;
    ssize_t  n;

    memset(id, 0, INBOX_SQLITE_BOOT_ID_MAX);

    fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        return;
    }

    n = read(fd, id, INBOX_SQLITE_BOOT_ID_MAX - 1);
    close(fd);

    if (n < 0) {
        memset(id, 0, INBOX_SQLITE_BOOT_ID_MAX);
    }
}


static int64_t
inbox_sqlite_writer_now(clockid_t clock)
{
    struct timespec  ts;

    clock_gettime(clock, &ts);

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
