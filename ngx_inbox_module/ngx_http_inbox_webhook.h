
/*
 * What the carriers' webhooks share (ngx_http_inbox_webhook.c): reading
 * a webhook's body, and handing it to the batch.
 *
 * Each carrier's file reads its webhooks in the event loop into an
 * ngx_http_inbox_item_t (ngx_http_inbox_batch.h), which waits in the
 * worker's batch: an inbound message with its check, a delivery report
 * (Twilio's status callback, Telnyx's message.sent and
 * message.finalized) with its report_check.  The check finds the
 * organization's number the webhook is about and verifies the
 * signature; the batch stores what passed, pushes the events, and marks
 * the contact of a carrier's opt-out refusal (Twilio 21610, Telnyx
 * 40300) opted out (source carrier).  The carrier's 200 comes only after
 * that.
 *
 * A report for a message the store does not know yet is kept, and
 * answered 200: the carrier's callback can overtake the sender recording
 * what the carrier answered to the send (delivery.h).  The URL the
 * sender gave the carrier for a message's callbacks names the message
 * (?message=ID): a hint for one whose send's answer never came
 * (outbox.h); the carrier's id stays the key.  Twilio signs that URL,
 * query and all; Telnyx signs the body only.
 */


#ifndef _NGX_HTTP_INBOX_WEBHOOK_H_INCLUDED_
#define _NGX_HTTP_INBOX_WEBHOOK_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_inbox_batch.h"


/*
 * The content handler's part for a webhook: POST only (405), a body of
 * at most inbox_max_body (413, before reading it when its length says
 * so), read whole; then post_handler runs.  Returns what the content
 * handler returns.
 */
ngx_int_t ngx_http_inbox_webhook_read(ngx_http_request_t *r,
    ngx_http_client_body_handler_pt post_handler);

/*
 * In post_handler: the body read whole, and an item for it with a pool
 * cleanup for the caller to fill in (what the item holds until the
 * request ends), its message_id the URL's ?message= ("" when none, or
 * not an id).  NULL with *rc the answer (413 past inbox_max_body, or
 * 500).
 */
ngx_http_inbox_item_t *ngx_http_inbox_webhook_item(ngx_http_request_t *r,
    ngx_str_t *body, ngx_pool_cleanup_t **cln, ngx_int_t *rc);

/*
 * Hands the item (allocated from its request's pool, check or
 * report_check set) to the batch; answer, the request's write event
 * handler, answers it from item->status once the batch is done.
 * NGX_DONE, or a reply's code (503 when the batch cannot take it now).
 */
ngx_int_t ngx_http_inbox_webhook_enqueue(ngx_http_request_t *r,
    ngx_http_inbox_item_t *item, ngx_http_event_handler_pt answer);

/*
 * In the answer handler: logs why the webhook was refused, if it was
 * (item->note).  A refusal for a number an organization has
 * (item->refused) is a message lost (Twilio does not retry a 4xx), most
 * often a configuration the operator must fix: it is logged at warn,
 * with the URL the signature was checked against (Twilio's) and
 * item->advice, at most once a minute per number by each worker, so that
 * a carrier's retries or a burst do not flood the log; the others, and
 * refusals of unknown numbers (anyone can probe), at info.
 */
void ngx_http_inbox_webhook_log(ngx_http_request_t *r,
    ngx_http_inbox_item_t *item);


#endif /* _NGX_HTTP_INBOX_WEBHOOK_H_INCLUDED_ */
