/*
 * One HTTP exchange with a carrier: the easy handle, its headers and
 * body, and the answer collected into a capped buffer (or a file).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "sender_transfer.h"

static size_t sender_transfer_write(char *data, size_t size, size_t n,
    void *arg);
static size_t sender_transfer_read(char *buf, size_t size, size_t n,
    void *arg);
static int sender_transfer_seek(void *arg, curl_off_t offset, int origin);
static curl_socket_t sender_transfer_socket(void *arg,
    curlsocktype purpose, struct curl_sockaddr *address);


int
sender_transfer_init(sender_transfer_t *t, const char *method,
    const char *url, const char *const *headers, const char *body,
    size_t body_len, long timeout_ms)
{
    size_t              i;
    struct curl_slist  *list;

    t->easy = curl_easy_init();
    if (t->easy == NULL) {
        return -1;
    }

    for (i = 0; headers != NULL && headers[i] != NULL; i++) {
        list = curl_slist_append(t->headers, headers[i]);
        if (list == NULL) {
            goto failed;
        }
        t->headers = list;
    }

    /* curl would otherwise wait a second for "100 Continue" on a POST */
    list = curl_slist_append(t->headers, "Expect:");
    if (list == NULL) {
        goto failed;
    }
    t->headers = list;

    if (body != NULL) {
        t->body = malloc(body_len + 1);
        if (t->body == NULL) {
            goto failed;
        }
        memcpy(t->body, body, body_len);
        t->body[body_len] = '\0';
        t->body_len = body_len;

        /*
         * Read through a callback that cannot go back: a request sent on
         * a reused connection that then dropped is one curl would send
         * again by itself (a POSTFIELDS body can always be rewound), and
         * the carrier may have acted on the first.  curl ends it with
         * CURLE_SEND_FAIL_REWIND instead, an unknown outcome.
         */
        curl_easy_setopt(t->easy, CURLOPT_POST, 1L);
        curl_easy_setopt(t->easy, CURLOPT_READFUNCTION, sender_transfer_read);
        curl_easy_setopt(t->easy, CURLOPT_READDATA, t);
        curl_easy_setopt(t->easy, CURLOPT_SEEKFUNCTION, sender_transfer_seek);
        curl_easy_setopt(t->easy, CURLOPT_SEEKDATA, t);
        curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t) body_len);
    }

    curl_easy_setopt(t->easy, CURLOPT_URL, url);
    curl_easy_setopt(t->easy, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, sender_transfer_write);
    curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->error);
    curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
    curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT_MS,
                     timeout_ms < 5000 ? timeout_ms : 5000L);
    curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(t->easy, CURLOPT_USERAGENT, "inbox-sender/1");
    curl_easy_setopt(t->easy, CURLOPT_OPENSOCKETFUNCTION,
                     sender_transfer_socket);
    curl_easy_setopt(t->easy, CURLOPT_OPENSOCKETDATA, t);

    return 0;

failed:

    sender_transfer_cleanup(t);
    return -1;
}


int
sender_transfer_basic_auth(sender_transfer_t *t, const char *user,
    const char *password)
{
    if (curl_easy_setopt(t->easy, CURLOPT_HTTPAUTH, CURLAUTH_BASIC)
        != CURLE_OK
        || curl_easy_setopt(t->easy, CURLOPT_USERNAME, user) != CURLE_OK
        || curl_easy_setopt(t->easy, CURLOPT_PASSWORD, password) != CURLE_OK)
    {
        return -1;
    }

    return 0;
}


int
sender_transfer_follow(sender_transfer_t *t, const char *url)
{
    const char  *protocols;

    protocols = strncmp(url, "https:", 6) == 0 ? "https" : "http,https";

    if (curl_easy_setopt(t->easy, CURLOPT_FOLLOWLOCATION, 1L) != CURLE_OK
        || curl_easy_setopt(t->easy, CURLOPT_MAXREDIRS, 5L) != CURLE_OK
        || curl_easy_setopt(t->easy, CURLOPT_REDIR_PROTOCOLS_STR, protocols)
           != CURLE_OK)
    {
        return -1;
    }

    return 0;
}


void
sender_transfer_cleanup(sender_transfer_t *t)
{
    if (t->easy != NULL) {
        curl_easy_cleanup(t->easy);
        t->easy = NULL;
    }

    curl_slist_free_all(t->headers);
    t->headers = NULL;
    free(t->body);
    t->body = NULL;
    free(t->response);
    t->response = NULL;
    t->response_len = 0;
}


static size_t
sender_transfer_read(char *buf, size_t size, size_t n, void *arg)
{
    size_t              len;
    sender_transfer_t  *t = arg;

    len = t->body_len - t->body_read;
    if (len > size * n) {
        len = size * n;
    }

    memcpy(buf, t->body + t->body_read, len);
    t->body_read += len;

    return len;
}


/* Only to where it stands before a byte was read: a body curl took once
 * is not sent again by curl. */
static int
sender_transfer_seek(void *arg, curl_off_t offset, int origin)
{
    sender_transfer_t  *t = arg;

    if (origin == SEEK_SET && offset == 0 && t->body_read == 0) {
        return CURL_SEEKFUNC_OK;
    }

    return CURL_SEEKFUNC_CANTSEEK;
}


static size_t
sender_transfer_write(char *data, size_t size, size_t n, void *arg)
{
    char               *p;
    size_t              len, room, max;
    sender_transfer_t  *t = arg;

    len = size * n;

    max = t->response_max != 0 ? t->response_max : SENDER_RESPONSE_MAX;
    room = max - t->response_len;

    if (len > room) {
        t->response_cut = 1;
        if (t->response_fail) {
            return CURL_WRITEFUNC_ERROR;
        }
        len = room;
    }

    if (len > 0) {
        p = realloc(t->response, t->response_len + len + 1);
        if (p == NULL) {
            return CURL_WRITEFUNC_ERROR;
        }
        t->response = p;
        memcpy(p + t->response_len, data, len);
        t->response_len += len;
        p[t->response_len] = '\0';
    }

    /* the rest of a too-long answer is read and dropped */
    return size * n;
}


/*
 * The socket curl connects with, made as curl makes it, keeping why it
 * could not be: curl ends such a transfer with CURLE_COULDNT_CONNECT and
 * no errno (CURLINFO_OS_ERRNO is only a connect()'s), so a sender out of
 * descriptors could not be told from a carrier that is down.
 */
static curl_socket_t
sender_transfer_socket(void *arg, curlsocktype purpose,
    struct curl_sockaddr *address)
{
    int                 fd;
    sender_transfer_t  *t = arg;

    fd = socket(address->family, address->socktype, address->protocol);
    t->socket_errno = fd == -1 ? errno : 0;

    return fd == -1 ? CURL_SOCKET_BAD : fd;
}
