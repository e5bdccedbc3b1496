/*
 * One HTTP exchange with a carrier, driven by the sender's loop (libcurl's
 * multi interface).  The caller fills the request, the loop runs it and
 * calls done with what came back; nothing here knows which carrier or
 * which job it is.
 */
#ifndef SENDER_TRANSFER_H
#define SENDER_TRANSFER_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <curl/curl.h>

/* Carrier answers are small JSON; a bigger one is cut here (and then
 * fails to parse, which is the answer's fault) unless response_max says
 * otherwise. */
#define SENDER_RESPONSE_MAX  (64 * 1024)

typedef struct sender_transfer_s  sender_transfer_t;

typedef void (*sender_transfer_done_pt)(sender_transfer_t *t);

typedef enum {
    SENDER_SENT_NOTHING = 0,  /* no byte reached the carrier: safe to retry */
    SENDER_SENT_MAYBE,        /* the request may have been acted on */
    SENDER_ANSWERED,          /* a whole HTTP answer came back */
    SENDER_NO_DESCRIPTOR      /* never left: the sender had no file
                                 descriptor free (EMFILE, ENFILE), the
                                 carrier was never tried */
} sender_reach_t;

struct sender_transfer_s {
    CURL                     *easy;
    struct curl_slist        *headers;
    char                     *body;          /* owned, may be NULL */
    size_t                    body_len;
    size_t                    body_read;     /* by curl, this attempt */

    /* the answer */
    sender_reach_t            reach;
    long                      status;        /* HTTP status, 0 if none */
    int64_t                   retry_after_ms;  /* its Retry-After, 0 if
                                                  none */
    char                     *response;      /* owned, NUL-terminated */
    size_t                    response_len;
    int                       response_cut;  /* longer than the cap */
    int64_t                   elapsed_us;    /* from start to the end */
    int                       socket_errno;  /* of a socket() that failed,
                                                else 0 (curl keeps none) */
    /*
     * curl's attempts (it retries a request on a reused connection that
     * died with no answer): how much of the request had gone out
     * (CURLINFO_REQUEST_SIZE, which adds up over them; a body follows
     * its headers) when curl last retried, and how much went in attempts
     * whose HTTP/2 stream the server refused, so never acted on;
     * stream_refused: curl said the last one was (sender_transfer_debug),
     * not yet counted.
     */
    curl_off_t                retried_request;
    curl_off_t                refused_request;
    int                       stream_refused;
    char                      error[CURL_ERROR_SIZE];

    /* where the answer goes; the caller keeps its own state in data */
    sender_transfer_done_pt   done;
    void                     *data;
    /* the longest answer kept (0: SENDER_RESPONSE_MAX); with
     * response_fail, a longer one ends the transfer instead */
    size_t                    response_max;
    int                       response_fail;

    /* set by sender_transfer_public_only */
    int                       public_only;
    char                     *trusted_origin;  /* owned, may be NULL */
    /* a connection went to an address that is not public, allowed as
     * the trusted origin's */
    int                       reached_private;
    /* the last address a connection was refused to ("ADDRESS port N"),
     * "" if none was */
    char                      refused[INET6_ADDRSTRLEN + 16];
    /* the hop (redirects followed before it, plus one; 0: none) of the
     * last connection to an address it may reach and of the last one
     * refused: a refusal is final unless an address of the same hop was
     * allowed (a name of a private and a public address) */
    long                      allowed_hop;
    long                      refused_hop;
};

/*
 * Prepares t (zeroed by the caller) for method and url with the given
 * headers (NULL-terminated, copied) and body (copied; NULL for none).
 * Returns 0, or -1 when out of memory (t is then cleaned up).
 */
int sender_transfer_init(sender_transfer_t *t, const char *method,
    const char *url, const char *const *headers, const char *body,
    size_t body_len, long timeout_ms);
/* Basic authentication, for carriers that use it. */
int sender_transfer_basic_auth(sender_transfer_t *t, const char *user,
    const char *password);
/* Follows redirects (a carrier's media moved to its CDN), at most 5, from
 * an https url to https only; credentials stay with the first host
 * (curl's default).  Sends follow none: a carrier's send endpoint that
 * redirects is refused, not posted elsewhere.  0 or -1. */
int sender_transfer_follow(sender_transfer_t *t, const char *url);
/*
 * For a URL someone else chose (an inbound MMS's media): connects only to
 * public addresses (netaddr.h), whatever the URL's host resolves to and
 * wherever a redirect leads, except for a request to trusted_base's own
 * origin (scheme, host and port; NULL for none), the carrier API the
 * operator configured, which may be on a private network or loopback.
 * Each connection is checked before it is made, and one curl would reuse
 * before a request goes on it; a refused one ends the transfer
 * (CURLE_COULDNT_CONNECT or CURLE_ABORTED_BY_CALLBACK) with refused
 * set.  A proxy from the environment is not used: through one, the
 * address connected to would be the proxy's.  0, or -1 when out of
 * memory (a trusted_base that is no URL trusts nothing).
 */
int sender_transfer_public_only(sender_transfer_t *t,
    const char *trusted_base);
/* How much of the request went out so far, over curl's attempts. */
curl_off_t sender_transfer_sent(sender_transfer_t *t);
/* Frees what init allocated; t itself is the caller's. */
void sender_transfer_cleanup(sender_transfer_t *t);

#endif
