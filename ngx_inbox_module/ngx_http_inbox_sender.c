
/*
 * Waking the sender process: one datagram on its socket (wake.h) after a
 * commit that left work for a carrier.  A plain wake-up carries nothing,
 * so one lost because the sender's queue is full (it has wake-ups
 * pending and will look anyway) or because it is down (it looks at the
 * outbox when it starts) loses nothing; but a sender that is down sends
 * nothing, so the worker says so, once a minute at most.  One saying an
 * organization's quiet hours moved waits a little for room, and one that
 * found none is counted and logged: the sender finds the move itself at
 * its look at what it holds, every 300 ms for what waited, and what
 * starts before may go by the old rule (ARCHITECTURE.md's known limits).
 *
 * A stored batch of inbound messages wakes it for the text a keyword is
 * answered with and for copies of the images that came.  Whether a
 * keyword is answered, and with what, is libinbox's to say
 * (inbox_keyword_answered, keywords.h), and ingest queues the answer in
 * the message's own transaction (inbox_store_inbound_ingest), so that a
 * message is never acknowledged without it: all that is left here is to
 * wake the sender.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <inbox/dgram.h>
#include <inbox/wake.h>

#include "ngx_http_inbox_module.h"


#define NGX_HTTP_INBOX_SENDER_WARN_EVERY  60
/* how long a pool thread waits for room for a quiet-hours wake-up */
#define NGX_HTTP_INBOX_SENDER_QUIET_WAIT  100


/* Per worker; pool threads only read it. */
static inbox_dgram_peer_t  ngx_http_inbox_sender_peer = { .fd = -1 };
/* why the last wake-up found nobody (errno), 0 if none since the report;
 * set by pool threads (atomics), read by the event loop */
static int                 ngx_http_inbox_sender_down;
static time_t              ngx_http_inbox_sender_warned;
/* quiet-hours wake-ups the sender's queue had no room for (atomics) */
static ngx_atomic_t        ngx_http_inbox_sender_quiet_lost;
static ngx_atomic_uint_t   ngx_http_inbox_sender_quiet_logged;


ngx_int_t
ngx_http_inbox_sender_open(ngx_cycle_t *cycle, ngx_str_t *path)
{
    char  err[256];

    /* the path's length was checked with the directive */
    if (inbox_dgram_peer_open(&ngx_http_inbox_sender_peer,
                              (char *) path->data, err, sizeof(err))
        != 0)
    {
        ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                      "inbox: the sender socket: %s", err);
        return NGX_ERROR;
    }

    if (inbox_dgram_peer_set_wait(&ngx_http_inbox_sender_peer,
                                  NGX_HTTP_INBOX_SENDER_QUIET_WAIT,
                                  err, sizeof(err))
        != 0)
    {
        ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                      "inbox: the sender socket: %s", err);
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_http_inbox_sender_close(void)
{
    inbox_dgram_peer_close(&ngx_http_inbox_sender_peer);
}


static void ngx_http_inbox_sender_failed(int quiet);


void
ngx_http_inbox_sender_wake(void)
{
    if (inbox_wake_send(&ngx_http_inbox_sender_peer) != 0) {
        ngx_http_inbox_sender_failed(0);
    }
}


/* org_id's quiet hours moved: the sender gives back the campaign
 * messages of that organization it holds unstarted, so that the next
 * claim holds them for the rule as it is. */
void
ngx_http_inbox_sender_wake_quiet(const char *org_id)
{
    if (inbox_wake_send_quiet(&ngx_http_inbox_sender_peer, org_id) != 0) {
        ngx_http_inbox_sender_failed(1);
    }
}


static void
ngx_http_inbox_sender_failed(int quiet)
{
    /* EAGAIN: it is behind, with wake-ups pending; it will look */
    if (errno == ENOENT || errno == ECONNREFUSED) {
        __atomic_store_n(&ngx_http_inbox_sender_down, errno,
                         __ATOMIC_RELAXED);

    } else if (quiet) {
        (void) ngx_atomic_fetch_add(&ngx_http_inbox_sender_quiet_lost, 1);
    }
}


/* In the batch's pool thread, after its commit: plain C and libinbox. */

void
ngx_http_inbox_inbound_stored(const inbox_inbound_t *msgs,
    const inbox_ingest_result_t *results, ngx_uint_t n)
{
    ngx_uint_t  k;

    for (k = 0; k < n; k++) {
        if (results[k].status != INBOX_OK || results[k].duplicate) {
            continue;
        }

        /* a keyword's answer queued, or media to copy at once */
        if (results[k].answered || msgs[k].media_count > 0) {
            ngx_http_inbox_sender_wake();
            return;
        }
    }
}


void
ngx_http_inbox_sender_report(void)
{
    int                err;
    time_t             now;
    ngx_atomic_uint_t  lost;

    lost = ngx_http_inbox_sender_quiet_lost;

    if (lost != ngx_http_inbox_sender_quiet_logged) {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "inbox: %uA quiet-hours wake-ups found the sender's "
                      "queue full (%uA since the worker started): the "
                      "campaign messages it holds are looked at again "
                      "within 300 ms of waiting, what starts before goes "
                      "by the quiet hours it was claimed under",
                      lost - ngx_http_inbox_sender_quiet_logged, lost);
        ngx_http_inbox_sender_quiet_logged = lost;
    }

    /* after every pool job: a read, no write, while the sender listens */
    if (__atomic_load_n(&ngx_http_inbox_sender_down, __ATOMIC_RELAXED) == 0) {
        return;
    }

    err = __atomic_exchange_n(&ngx_http_inbox_sender_down, 0,
                              __ATOMIC_RELAXED);
    if (err == 0) {
        return;
    }

    now = ngx_time();

    if (ngx_http_inbox_sender_warned
        && now - ngx_http_inbox_sender_warned
           < NGX_HTTP_INBOX_SENDER_WARN_EVERY)
    {
        return;
    }

    ngx_http_inbox_sender_warned = now;

    ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, err,
                  "inbox: the sender is not listening at %s: replies, "
                  "keyword answers and campaigns wait until it runs",
                  ngx_http_inbox_sender_peer.addr.sun_path);
}
