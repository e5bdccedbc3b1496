
/*
 * Waking the sender process: one empty datagram on its socket after a
 * commit that left work for a carrier.  A wake-up carries nothing, so
 * one lost because the sender's queue is full (it has wake-ups pending
 * and will look anyway) or because it is down (it looks at the outbox
 * when it starts) loses nothing.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <inbox/dgram.h>

#include "ngx_http_inbox_module.h"


/* Per worker; pool threads only read it. */
static inbox_dgram_peer_t  ngx_http_inbox_sender_peer = { .fd = -1 };


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

    return NGX_OK;
}


void
ngx_http_inbox_sender_close(void)
{
    inbox_dgram_peer_close(&ngx_http_inbox_sender_peer);
}


void
ngx_http_inbox_sender_wake(void)
{
    (void) inbox_dgram_send(&ngx_http_inbox_sender_peer, "w", 1);
}
