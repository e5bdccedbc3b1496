/*
 * Binding the programs' local datagram sockets safely.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <inbox/dgram.h>


int
inbox_dgram_bind(const char *path, char *err, size_t err_len)
{
    int                 fd, rc;
    mode_t              mask;
    struct stat         st;
    struct sockaddr_un  addr;

    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        snprintf(err, err_len, "the socket path is too long (at most %zu "
                 "bytes): %s", sizeof(addr.sun_path) - 1, path);
        return -1;
    }

    memcpy(addr.sun_path, path, strlen(path));

    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        snprintf(err, err_len, "socket(): %s", strerror(errno));
        return -1;
    }

    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(err, err_len, "%s exists and is not a socket: not "
                     "replacing it", path);
            goto failed;
        }

        /* a socket someone still reads is not stale */
        if (connect(fd, (struct sockaddr *) &addr, sizeof(addr)) == 0) {
            snprintf(err, err_len, "%s is in use by another process", path);
            goto failed;
        }

        if (unlink(path) == -1) {
            snprintf(err, err_len, "cannot remove stale %s: %s", path,
                     strerror(errno));
            goto failed;
        }
    }

    /*
     * Whoever may send to the socket acts on what the program does next:
     * only our user and group (nginx's workers run as one of them) may.
     * The umask makes it so from the start, with no moment at a wider mode.
     */
    mask = umask(0117);
    rc = bind(fd, (struct sockaddr *) &addr, sizeof(addr));
    umask(mask);

    if (rc == -1) {
        snprintf(err, err_len, "cannot bind %s: %s", path, strerror(errno));
        goto failed;
    }

    if (chmod(path, 0660) == -1) {
        snprintf(err, err_len, "chmod %s: %s", path, strerror(errno));
        unlink(path);
        goto failed;
    }

    return fd;

failed:

    close(fd);
    return -1;
}


int
inbox_dgram_peer_open(inbox_dgram_peer_t *peer, const char *path,
    char *err, size_t err_len)
{
    memset(peer, 0, sizeof(inbox_dgram_peer_t));
    peer->addr.sun_family = AF_UNIX;
    peer->fd = -1;

    if (strlen(path) >= sizeof(peer->addr.sun_path)) {
        snprintf(err, err_len, "the socket path is too long (at most %zu "
                 "bytes): %s", sizeof(peer->addr.sun_path) - 1, path);
        return -1;
    }

    memcpy(peer->addr.sun_path, path, strlen(path));

    peer->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (peer->fd == -1) {
        snprintf(err, err_len, "socket(): %s", strerror(errno));
        return -1;
    }

    return 0;
}


void
inbox_dgram_peer_close(inbox_dgram_peer_t *peer)
{
    if (peer->fd != -1) {
        close(peer->fd);
        peer->fd = -1;
    }
}


int
inbox_dgram_send(const inbox_dgram_peer_t *peer, const void *buf,
    size_t len)
{
    if (peer->fd == -1) {
        errno = EBADF;
        return -1;
    }

    if (sendto(peer->fd, buf, len, MSG_DONTWAIT,
               (const struct sockaddr *) &peer->addr, sizeof(peer->addr))
        == -1)
    {
        return -1;
    }

    return 0;
}


int
inbox_dgram_peer_set_wait(inbox_dgram_peer_t *peer, int ms, char *err,
    size_t err_len)
{
    int             flags;
    struct timeval  tv;

    if (ms <= 0) {
        peer->wait_ms = 0;
        return 0;
    }

    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;

    /* inbox_dgram_send still never waits: it passes MSG_DONTWAIT */
    flags = fcntl(peer->fd, F_GETFL);
    if (flags == -1
        || fcntl(peer->fd, F_SETFL, flags & ~O_NONBLOCK) == -1
        || setsockopt(peer->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv))
           == -1)
    {
        snprintf(err, err_len, "cannot make the socket to %s wait: %s",
                 peer->addr.sun_path, strerror(errno));
        return -1;
    }

    peer->wait_ms = ms;

    return 0;
}


int
inbox_dgram_send_wait(inbox_dgram_peer_t *peer, const void *buf, size_t len)
{
    int      flags;
    ssize_t  n;
    int64_t  now;

    if (peer->fd == -1) {
        errno = EBADF;
        return -1;
    }

    flags = MSG_DONTWAIT;

    if (peer->wait_ms > 0) {
        now = inbox_dgram_now_ms();
        if (now >= __atomic_load_n(&peer->calm_until, __ATOMIC_RELAXED)) {
            flags = 0;
        }
    }

    do {
        n = sendto(peer->fd, buf, len, flags,
                   (const struct sockaddr *) &peer->addr, sizeof(peer->addr));
    } while (n == -1 && errno == EINTR);

    if (n == -1) {
        if (flags == 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* the reader is stopped or stuck: do not wait for it again
             * for a second */
            __atomic_store_n(&peer->calm_until,
                             inbox_dgram_now_ms() + 1000, __ATOMIC_RELAXED);
            errno = EAGAIN;
        }

        return -1;
    }

    return 0;
}


int64_t
inbox_dgram_now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
