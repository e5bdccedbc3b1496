/*
 * One HTTP exchange with a carrier: the easy handle, its headers and
 * body, and the answer collected into a capped buffer (or a file).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <inbox/netaddr.h>
#include "sender_transfer.h"

static size_t sender_transfer_write(char *data, size_t size, size_t n,
    void *arg);
static size_t sender_transfer_read(char *buf, size_t size, size_t n,
    void *arg);
static int sender_transfer_seek(void *arg, curl_off_t offset, int origin);
static int sender_transfer_debug(CURL *easy, curl_infotype type,
    char *data, size_t size, void *arg);
static curl_socket_t sender_transfer_socket(void *arg,
    curlsocktype purpose, struct curl_sockaddr *address);
static int sender_transfer_prereq(void *arg, char *primary_ip,
    char *local_ip, int primary_port, int local_port);
static int sender_transfer_may_connect(sender_transfer_t *t,
    const struct sockaddr *addr, socklen_t len);
static int sender_transfer_origin(const char *url, char **origin);
static long sender_transfer_hop(sender_transfer_t *t);


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

        /*
         * curl says a refused HTTP/2 stream, and its retries, only in its
         * informational text (sender_transfer_debug); only for a body,
         * which curl cannot send again by itself: the text costs some
         * formatting (a line per TLS record too), and a request without
         * one is sent again by curl as it sees fit.
         */
        curl_easy_setopt(t->easy, CURLOPT_DEBUGFUNCTION,
                         sender_transfer_debug);
        curl_easy_setopt(t->easy, CURLOPT_DEBUGDATA, t);
        curl_easy_setopt(t->easy, CURLOPT_VERBOSE, 1L);
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


int
sender_transfer_public_only(sender_transfer_t *t, const char *trusted_base)
{
    if (trusted_base != NULL
        && sender_transfer_origin(trusted_base, &t->trusted_origin) == -1)
    {
        return -1;
    }

    t->public_only = 1;

    /* an empty proxy is none, whatever http_proxy and the like say */
    if (curl_easy_setopt(t->easy, CURLOPT_PROXY, "") != CURLE_OK
        || curl_easy_setopt(t->easy, CURLOPT_PREREQFUNCTION,
                            sender_transfer_prereq)
           != CURLE_OK
        || curl_easy_setopt(t->easy, CURLOPT_PREREQDATA, t) != CURLE_OK)
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
    free(t->trusted_origin);
    t->trusted_origin = NULL;
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


/*
 * Only to where it stands before a byte was read: a body curl took once
 * is not sent again by curl, which retries a request on a reused
 * connection that died with no answer, though the server may have acted
 * on it.  Unless the server refused its HTTP/2 stream (REFUSED_STREAM, or
 * a GOAWAY below it, RFC 9113 8.7: not processed, safe to send again):
 * then curl sends it again, on a new connection, and what the refused
 * attempts sent is known never to have been acted on.
 */
static int
sender_transfer_seek(void *arg, curl_off_t offset, int origin)
{
    sender_transfer_t  *t = arg;

    if (origin != SEEK_SET || offset != 0) {
        return CURL_SEEKFUNC_CANTSEEK;
    }

    if (t->stream_refused) {
        t->stream_refused = 0;
        t->refused_request = sender_transfer_sent(t);
        t->body_read = 0;
        return CURL_SEEKFUNC_OK;
    }

    return t->body_read == 0 ? CURL_SEEKFUNC_OK : CURL_SEEKFUNC_CANTSEEK;
}


/*
 * curl's informational text (CURLOPT_VERBOSE), read for what curl says
 * nowhere else, its retries (Curl_retry_request):
 *   "Connection died, retrying a fresh connect": a request on a reused
 *   connection that died with no answer goes again on a new one; what
 *   went out on the first may have been acted on, whatever the second
 *   attempt's connect does (every libcurl);
 *   "REFUSED_STREAM, retrying a fresh connect" (libcurl 7.60 and later,
 *   for a stream on a new connection) and "HTTP/2 stream N refused by
 *   server" (8.19 and later, for any): the server refused the request's
 *   HTTP/2 stream, so never processed it (RFC 9113 8.7).
 * libcurl 7.88 (Debian 12) knows of a stream refused on a reused
 * connection (data->state.refused_stream) but does not say it: its retry
 * reads as a connection that died, an unknown outcome.
 */
static int
sender_transfer_debug(CURL *easy, curl_infotype type, char *data,
    size_t size, void *arg)
{
    sender_transfer_t  *t = arg;

    if (type != CURLINFO_TEXT) {
        return 0;
    }

    if (size >= 25 && memcmp(data, "Connection died, retrying", 25) == 0) {
        t->retried_request = sender_transfer_sent(t);

    } else if ((size >= 14 && memcmp(data, "REFUSED_STREAM", 14) == 0)
               || memmem(data, size, " refused by server", 18) != NULL)
    {
        t->stream_refused = 1;
    }

    return 0;
}


curl_off_t
sender_transfer_sent(sender_transfer_t *t)
{
    long  request_size = 0;

    curl_easy_getinfo(t->easy, CURLINFO_REQUEST_SIZE, &request_size);

    return request_size;
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
 * descriptors could not be told from a carrier that is down.  It is also
 * where a public-only transfer is kept from an address it may not reach,
 * before any packet goes there: curl tries the name's next address, and
 * ends with CURLE_COULDNT_CONNECT when none is left.
 */
static curl_socket_t
sender_transfer_socket(void *arg, curlsocktype purpose,
    struct curl_sockaddr *address)
{
    int                 fd;
    sender_transfer_t  *t = arg;

    if (t->public_only
        && !sender_transfer_may_connect(t, &address->addr, address->addrlen))
    {
        t->socket_errno = 0;
        return CURL_SOCKET_BAD;
    }

    fd = socket(address->family, address->socktype, address->protocol);
    t->socket_errno = fd == -1 ? errno : 0;

    return fd == -1 ? CURL_SOCKET_BAD : fd;
}


/*
 * Before each request of a public-only transfer: a connection curl takes
 * from its pool was opened by another transfer (a send to a carrier API
 * on a private address, allowed there) and never passed through
 * sender_transfer_socket for this one.
 */
static int
sender_transfer_prereq(void *arg, char *primary_ip, char *local_ip,
    int primary_port, int local_port)
{
    struct sockaddr_in   v4;
    struct sockaddr_in6  v6;
    sender_transfer_t   *t = arg;

    memset(&v4, 0, sizeof(v4));
    memset(&v6, 0, sizeof(v6));

    if (inet_pton(AF_INET, primary_ip, &v4.sin_addr) == 1) {
        v4.sin_family = AF_INET;
        v4.sin_port = htons((uint16_t) primary_port);

        return sender_transfer_may_connect(t, (struct sockaddr *) &v4,
                                           sizeof(v4))
               ? CURL_PREREQFUNC_OK : CURL_PREREQFUNC_ABORT;
    }

    if (inet_pton(AF_INET6, primary_ip, &v6.sin6_addr) == 1) {
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons((uint16_t) primary_port);

        return sender_transfer_may_connect(t, (struct sockaddr *) &v6,
                                           sizeof(v6))
               ? CURL_PREREQFUNC_OK : CURL_PREREQFUNC_ABORT;
    }

    snprintf(t->refused, sizeof(t->refused), "%s port %d", primary_ip,
             primary_port);
    t->refused_hop = sender_transfer_hop(t);

    return CURL_PREREQFUNC_ABORT;
}


/*
 * Whether a public-only transfer may reach addr: a public address, or
 * any when the URL it is requesting now (after the redirects so far) is
 * of the trusted origin.  A refused one is kept in t->refused.
 */
static int
sender_transfer_may_connect(sender_transfer_t *t, const struct sockaddr *addr,
    socklen_t len)
{
    int                         same;
    char                       *url, *origin, text[INET6_ADDRSTRLEN];
    const void                 *ip;
    unsigned                    port;
    const struct sockaddr_in   *v4;
    const struct sockaddr_in6  *v6;

    if (inbox_netaddr_is_public(addr, len)) {
        t->allowed_hop = sender_transfer_hop(t);
        return 1;
    }

    url = NULL;

    if (t->trusted_origin != NULL
        && curl_easy_getinfo(t->easy, CURLINFO_EFFECTIVE_URL, &url)
           == CURLE_OK
        && url != NULL)
    {
        /* out of memory: refused, as a URL it cannot read */
        same = sender_transfer_origin(url, &origin) == 0
               && strcmp(origin, t->trusted_origin) == 0;
        free(origin);

        if (same) {
            t->reached_private = 1;
            t->allowed_hop = sender_transfer_hop(t);
            return 1;
        }
    }

    if (addr->sa_family == AF_INET6 && len >= sizeof(*v6)) {
        v6 = (const struct sockaddr_in6 *) addr;
        ip = &v6->sin6_addr;
        port = ntohs(v6->sin6_port);

    } else if (addr->sa_family == AF_INET && len >= sizeof(*v4)) {
        v4 = (const struct sockaddr_in *) addr;
        ip = &v4->sin_addr;
        port = ntohs(v4->sin_port);

    } else {
        snprintf(t->refused, sizeof(t->refused), "an address of family %d",
                 addr->sa_family);
        t->refused_hop = sender_transfer_hop(t);
        return 0;
    }

    if (inet_ntop(addr->sa_family, ip, text, sizeof(text)) == NULL) {
        strcpy(text, "?");
    }

    snprintf(t->refused, sizeof(t->refused), "%s port %u", text, port);
    t->refused_hop = sender_transfer_hop(t);

    return 0;
}


/* Which request of the transfer connects now: 1 for the first, one more
 * for each redirect followed. */
static long
sender_transfer_hop(sender_transfer_t *t)
{
    long  redirects;

    if (curl_easy_getinfo(t->easy, CURLINFO_REDIRECT_COUNT, &redirects)
        != CURLE_OK)
    {
        redirects = 0;
    }

    return redirects + 1;
}


/*
 * url's origin as "scheme://host:port" into *origin (to free), the port
 * always written (the scheme's default when the URL has none) and the
 * host in lower case, so that two ways of writing one origin compare
 * equal.  0; 1 when url is no URL (*origin NULL); -1 when out of memory.
 */
static int
sender_transfer_origin(const char *url, char **origin)
{
    int         n = 0, rc;
    char       *scheme, *host, *port, *p;
    CURLU      *u;
    CURLUcode   uc;

    *origin = NULL;
    scheme = host = port = NULL;

    u = curl_url();
    if (u == NULL) {
        return -1;
    }

    uc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc == CURLUE_OK) {
        uc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    }
    if (uc == CURLUE_OK) {
        uc = curl_url_get(u, CURLUPART_HOST, &host, 0);
    }
    if (uc == CURLUE_OK) {
        uc = curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    }

    if (uc == CURLUE_OK) {
        n = snprintf(NULL, 0, "%s://%s:%s", scheme, host, port);
        *origin = malloc((size_t) n + 1);
    }

    if (*origin != NULL) {
        snprintf(*origin, (size_t) n + 1, "%s://%s:%s", scheme, host, port);

        for (p = *origin; *p != '\0'; p++) {
            *p = (char) tolower((unsigned char) *p);
        }

        rc = 0;

    } else {
        rc = uc == CURLUE_OK || uc == CURLUE_OUT_OF_MEMORY ? -1 : 1;
    }

    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);

    return rc;
}
