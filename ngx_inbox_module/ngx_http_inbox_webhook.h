
/*
 * What the carriers' webhooks share (ngx_http_inbox_webhook.c): reading
 * a webhook's body, and delivery reports.
 *
 * Each carrier's file reads its webhooks in the event loop into an
 * ngx_http_inbox_item_t (ngx_http_inbox_batch.h).  An inbound message
 * joins the worker's batch.  A delivery report (Twilio's status
 * callback, Telnyx's message.sent and message.finalized) runs alone in a
 * pool thread: the carrier's check finds the organization's number it
 * is about and verifies the signature, then the status is stored
 * (inbox_store_message_status_update: only forward, a repeat or a late
 * report changes nothing), an opt-out refusal of the carrier (Twilio
 * 21610, Telnyx 40300) marks the contact opted out (source carrier), and
 * the events go to ws-server.  The carrier's 200 comes only after that.
 *
 * A report for a message the store does not know is answered 503, not
 * 404: the carrier's callback can overtake the sender recording what the
 * carrier answered to the send, and only a retry finds the message then.
 */


#ifndef _NGX_HTTP_INBOX_WEBHOOK_H_INCLUDED_
#define _NGX_HTTP_INBOX_WEBHOOK_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <inbox/carrier.h>
#include <inbox/store.h>

#include "ngx_http_inbox_batch.h"


/*
 * In a pool thread: finds the organization's number the report is
 * about, verifies the webhook and reads it: sets org_id and update, or
 * sets item->error (and item->note for the log) and returns its code.
 */
typedef inbox_status_t (*ngx_http_inbox_report_check_pt)(
    ngx_http_inbox_item_t *item, inbox_store_t *store,
    char org_id[INBOX_ID_MAX], inbox_status_update_t *update);


/*
 * The content handler's part for a webhook: POST only (405), a body of
 * at most inbox_max_body (413, before reading it when its length says
 * so), read whole; then post_handler runs.  Returns what the content
 * handler returns.
 */
ngx_int_t ngx_http_inbox_webhook_read(ngx_http_request_t *r,
    ngx_http_client_body_handler_pt post_handler);

/*
 * Runs the delivery report item (allocated from its request's pool,
 * filled by the carrier's file) in a pool thread: check, then the
 * status, the carrier's opt-out and their events.  The request is
 * answered afterwards: 200 with answer (a constant, "" for an empty
 * body) of content_type once stored, else the error (400, 403, 503).
 * NGX_DONE, or a reply's code (503 when the pool's queue is full).
 */
ngx_int_t ngx_http_inbox_report_post(ngx_http_request_t *r,
    ngx_http_inbox_item_t *item, inbox_carrier_t carrier,
    ngx_http_inbox_report_check_pt check, const char *content_type,
    const char *answer);


#endif /* _NGX_HTTP_INBOX_WEBHOOK_H_INCLUDED_ */
