
/*
 * What a stored batch of inbound messages asks of the sender: the one
 * text a keyword is answered with, and copies of the images that came.
 *
 * Whether a keyword is answered, and with what, is libinbox's to say
 * (inbox_store_keyword_answer, keywords.h): an opt-out keyword that
 * opted its contact out, an opt-in keyword that opted it back in, and
 * HELP are each answered once by a text naming the business, queued free
 * of credits from the number the keyword was sent to; none of them when
 * that number's carrier answers keywords itself.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_inbox_module.h"


/* In the batch's pool thread, after its commit: plain C and libinbox. */

ngx_uint_t
ngx_http_inbox_inbound_stored(inbox_store_t *store,
    const inbox_inbound_t *msgs, const inbox_ingest_result_t *results,
    ngx_uint_t n, inbox_error_t *err)
{
    int                           queued;
    ngx_uint_t                    k, wake, failed;
    inbox_event_list_t            events;
    const inbox_ingest_result_t  *res;

    wake = 0;
    failed = 0;

    for (k = 0; k < n; k++) {
        res = &results[k];

        if (res->status != INBOX_OK || res->duplicate) {
            continue;
        }

        /* the sender copies a carrier's images as soon as they come */
        if (msgs[k].media_count > 0) {
            wake = 1;
        }

        ngx_memzero(&events, sizeof(inbox_event_list_t));

        if (inbox_store_keyword_answer(store, &msgs[k], res, &queued,
                                       &events, err)
            != INBOX_OK)
        {
            failed++;

        } else if (queued) {
            ngx_http_inbox_events_send(&events);
            wake = 1;
        }

        inbox_event_list_free(&events);
    }

    if (wake) {
        ngx_http_inbox_sender_wake();
    }

    return failed;
}
