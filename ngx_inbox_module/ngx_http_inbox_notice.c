
/*
 * What a stored batch of inbound messages asks of the sender: the one
 * text a keyword is answered with, and copies of the images that came.
 *
 * An opt-out keyword that opted its contact out, an opt-in keyword that
 * opted it back in, and HELP are each answered once by a text naming the
 * business (the organization's settings; keywords.h writes it), queued
 * free of credits with inbox_store_outbox_notice, from the number the
 * keyword was sent to, even though the contact just opted out: that
 * confirmation is the one text the rules allow.  Once: ingest names a
 * keyword only for a message it stored now, so a carrier's retry of the
 * same STOP asks for nothing, and a STOP from a contact opted out
 * already changes nothing and is not answered again.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <stdlib.h>

#include <inbox/keywords.h>

#include "ngx_http_inbox_module.h"


static inbox_status_t ngx_http_inbox_notice_queue(inbox_store_t *store,
    const inbox_inbound_t *msg, const inbox_ingest_result_t *result,
    inbox_error_t *err);


/* In the batch's pool thread, after its commit: plain C and libinbox. */

ngx_uint_t
ngx_http_inbox_inbound_stored(inbox_store_t *store,
    const inbox_inbound_t *msgs, const inbox_ingest_result_t *results,
    ngx_uint_t n, inbox_error_t *err)
{
    ngx_uint_t                    k, wake, failed;
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

        if (res->keyword == INBOX_KEYWORD_NONE
            || (res->keyword != INBOX_KEYWORD_HELP && !res->opt_changed))
        {
            continue;
        }

        if (ngx_http_inbox_notice_queue(store, &msgs[k], res, err)
            == INBOX_OK)
        {
            wake = 1;

        } else {
            failed++;
        }
    }

    if (wake) {
        ngx_http_inbox_sender_wake();
    }

    return failed;
}


static inbox_status_t
ngx_http_inbox_notice_queue(inbox_store_t *store, const inbox_inbound_t *msg,
    const inbox_ingest_result_t *result, inbox_error_t *err)
{
    char                  *text;
    inbox_status_t         rc;
    inbox_settings_t       settings;
    inbox_event_list_t     events;
    inbox_reply_result_t   notice;

    rc = inbox_store_settings_get(store, result->org_id, &settings, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    text = inbox_keyword_reply(result->keyword, settings.business_name,
                               settings.support_contact);
    if (text == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "out of memory");
    }

    ngx_memzero(&events, sizeof(inbox_event_list_t));

    rc = inbox_store_outbox_notice(store, result->org_id,
                                   result->conversation_id, msg->to, text,
                                   &notice, &events, err);
    if (rc == INBOX_OK) {
        ngx_http_inbox_events_send(&events);
    }

    inbox_event_list_free(&events);
    inbox_reply_result_free(&notice);
    free(text);

    return rc;
}
