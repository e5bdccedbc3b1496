
/*
 * What a stored batch of inbound messages asks of the sender: the one
 * text a keyword is answered with, and copies of the images that came.
 *
 * Whether a keyword is answered, and with what, is libinbox's to say
 * (inbox_keyword_answered, keywords.h), and ingest queues the answer in
 * the message's own transaction (inbox_store_inbound_ingest), so that a
 * message is never acknowledged without it: all that is left here is to
 * wake the sender.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_inbox_module.h"


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

        /* a keyword's answer queued, or images to copy at once */
        if (results[k].answered || msgs[k].media_count > 0) {
            ngx_http_inbox_sender_wake();
            return;
        }
    }
}
