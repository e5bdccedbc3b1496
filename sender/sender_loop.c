/*
 * The sender's event loop on libcurl's multi interface.  curl_multi_poll
 * waits on curl's own sockets and on ours (wake-ups, signals) in one
 * call, so the loop needs no event library of its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <unistd.h>
#include "sender_loop.h"

struct sender_loop_s {
    CURLM     *multi;
    unsigned   active;
};

static void sender_loop_finish(sender_loop_t *loop, CURLMsg *msg);
static sender_reach_t sender_loop_reach(sender_transfer_t *t, CURL *easy,
    CURLcode rc);
static int sender_loop_no_descriptor(sender_transfer_t *t, CURL *easy,
    CURLcode rc);
static int sender_loop_descriptor_free(void);


sender_loop_t *
sender_loop_create(long max_per_host, long max_connections)
{
    sender_loop_t  *loop;

    loop = calloc(1, sizeof(sender_loop_t));
    if (loop == NULL) {
        return NULL;
    }

    loop->multi = curl_multi_init();
    if (loop->multi == NULL) {
        free(loop);
        return NULL;
    }

    /* HTTP/2 where the carrier offers it, one connection carrying many
     * sends; else keep-alive HTTP/1.1 connections, at most max_per_host */
    curl_multi_setopt(loop->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    curl_multi_setopt(loop->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                      max_per_host);
    /* idle ones kept alive included: a transfer past it waits in curl
     * for one to close, and never takes the descriptors kept for the
     * store and the sender's own sockets */
    curl_multi_setopt(loop->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                      max_connections);

    return loop;
}


void
sender_loop_destroy(sender_loop_t *loop)
{
    if (loop == NULL) {
        return;
    }

    curl_multi_cleanup(loop->multi);
    free(loop);
}


int
sender_loop_start(sender_loop_t *loop, sender_transfer_t *t)
{
    CURLMcode  rc;

    rc = curl_multi_add_handle(loop->multi, t->easy);
    if (rc != CURLM_OK) {
        snprintf(t->error, sizeof(t->error), "curl_multi_add_handle: %s",
                 curl_multi_strerror(rc));
        return -1;
    }

    loop->active++;
    return 0;
}


unsigned
sender_loop_active(sender_loop_t *loop)
{
    return loop->active;
}


int
sender_loop_turn(sender_loop_t *loop, const int *fds, int *ready,
    unsigned nfds, int timeout_ms)
{
    int              running, left;
    unsigned         i;
    CURLMsg         *msg;
    struct curl_waitfd  extra[SENDER_LOOP_FDS_MAX];

    if (nfds > SENDER_LOOP_FDS_MAX) {
        return -1;
    }

    for (i = 0; i < nfds; i++) {
        extra[i].fd = fds[i];
        extra[i].events = CURL_WAIT_POLLIN;
        extra[i].revents = 0;
    }

    if (curl_multi_poll(loop->multi, extra, nfds, timeout_ms, NULL)
        != CURLM_OK)
    {
        return -1;
    }

    for (i = 0; i < nfds; i++) {
        ready[i] = (extra[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
    }

    if (curl_multi_perform(loop->multi, &running) != CURLM_OK) {
        return -1;
    }

    while ((msg = curl_multi_info_read(loop->multi, &left)) != NULL) {
        if (msg->msg == CURLMSG_DONE) {
            sender_loop_finish(loop, msg);
        }
    }

    return 0;
}


static void
sender_loop_finish(sender_loop_t *loop, CURLMsg *msg)
{
    CURL               *easy;
    CURLcode            rc;
    curl_off_t          retry_after = 0, elapsed = 0;
    sender_transfer_t  *t = NULL;

    easy = msg->easy_handle;
    rc = msg->data.result;

    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &t);
    curl_multi_remove_handle(loop->multi, easy);
    loop->active--;

    t->reach = sender_loop_reach(t, easy, rc);
    /* also for an answer cut short by its sink: the status line came */
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &t->status);

    /* seconds, or an HTTP date made seconds from now, by curl */
    if (curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &retry_after)
        == CURLE_OK && retry_after > 0)
    {
        t->retry_after_ms = (int64_t) retry_after * 1000;
    }

    if (curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &elapsed)
        == CURLE_OK)
    {
        t->elapsed_us = (int64_t) elapsed;
    }

    if (t->error[0] == '\0' && rc != CURLE_OK) {
        strncpy(t->error, curl_easy_strerror(rc), sizeof(t->error) - 1);
    }

    t->done(t);
}


/*
 * Whether the carrier may have acted on a request that ended with rc:
 * only a request that never left (no connection, or nothing uploaded
 * before the error) is safe to send again, or one that left only in
 * attempts whose HTTP/2 stream the server refused (sender_transfer.h).
 */
static sender_reach_t
sender_loop_reach(sender_transfer_t *t, CURL *easy, CURLcode rc)
{
    int         left;
    curl_off_t  request, uploaded = 0;

    if (rc == CURLE_OK) {
        return SENDER_ANSWERED;
    }

    request = sender_transfer_sent(t);

    if (t->stream_refused) {
        /* the last attempt was refused too: curl gave up retrying */
        t->refused_request = request;

    } else {
        /* the last attempt's body, when curl counted no headers */
        curl_easy_getinfo(easy, CURLINFO_SIZE_UPLOAD_T, &uploaded);
    }

    left = request > t->refused_request || uploaded != 0;

    /* a request that went out on one connection is not undone by another
     * attempt's socket() failing (an IPv6 and an IPv4 address tried side
     * by side, or curl's retry): given back as never sent, it would go
     * twice */
    if (!left && sender_loop_no_descriptor(t, easy, rc)) {
        return SENDER_NO_DESCRIPTOR;
    }

    switch (rc) {
    case CURLE_SEND_FAIL_REWIND:
        /* curl wanted to send the body again: the first may have
         * reached the carrier (sender_transfer_seek) */
        return SENDER_SENT_MAYBE;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
        /*
         * No connection: nothing went to the carrier on this attempt
         * (what a proxy's CONNECT counts went to the proxy), but curl
         * retries a request on a reused connection that died with no
         * answer, and the retry's connect refused (the carrier
         * restarting) leaves the first attempt's request out there.
         */
        left = t->retried_request > t->refused_request;
        break;
    default:
        break;
    }

    return left ? SENDER_SENT_MAYBE : SENDER_SENT_NOTHING;
}


/*
 * Whether a request failed before it left because the process had no
 * descriptor free: its socket() said so (sender_transfer_socket), or
 * curl did; or its host name could not be looked up and no descriptor
 * can be opened now (curl's resolver thread needs a socket pair, and
 * then says only that the name failed).
 */
static int
sender_loop_no_descriptor(sender_transfer_t *t, CURL *easy, CURLcode rc)
{
    long  os_errno = 0;

    if (t->socket_errno == EMFILE || t->socket_errno == ENFILE) {
        return 1;
    }

    if (curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno) == CURLE_OK
        && (os_errno == EMFILE || os_errno == ENFILE))
    {
        return 1;
    }

    return (rc == CURLE_COULDNT_RESOLVE_HOST
            || rc == CURLE_COULDNT_RESOLVE_PROXY)
           && !sender_loop_descriptor_free();
}


static int
sender_loop_descriptor_free(void)
{
    int  fd;

    fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        return errno != EMFILE && errno != ENFILE;
    }

    close(fd);
    return 1;
}
