
/*
 * Group commit for carrier webhooks: inbound messages and delivery
 * reports.
 *
 * A worker keeps, for inbound messages and for delivery reports apart,
 * one list of pending webhooks and at most one batch in a pool thread:
 * a message never waits for a batch of reports.  A batch takes up to
 * inbox_batch_size of them; in the thread each is checked (item->check or
 * item->report_check: find the number, verify the signature, read the
 * webhook), then the inbound messages are stored by ONE
 * inbox_store_inbound_ingest call, or the reports by ONE
 * inbox_store_message_status_updates call, and the events go to
 * ws-server.  A campaign's messages bring two reports each, so without
 * this a send of hundreds a second would be as many write transactions,
 * each holding a pool thread while it waits for the store's one write
 * lock.  Back in the event loop each request is resumed
 * through its write event handler, which answers from item->status, and
 * the next batch is posted.
 */


#ifndef _NGX_HTTP_INBOX_BATCH_H_INCLUDED_
#define _NGX_HTTP_INBOX_BATCH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <inbox/carrier.h>
#include <inbox/error.h>
#include <inbox/form.h>
#include <inbox/model.h>
#include <inbox/phone.h>
#include <inbox/store.h>
#include <inbox/telnyx.h>


typedef struct ngx_http_inbox_item_s  ngx_http_inbox_item_t;

/*
 * In a pool thread: fills msg from the item or sets item->error and
 * returns its code.  msg may point into the item, which outlives the
 * batch; what msg owns (msg->owned) is the batch's to free.
 */
typedef inbox_status_t (*ngx_http_inbox_item_check_pt)(
    ngx_http_inbox_item_t *item, inbox_store_t *store, inbox_inbound_t *msg);

/*
 * In a pool thread: finds the organization's number a delivery report is
 * about, verifies the webhook and reads it: sets org_id and update, or
 * sets item->error (and item->note for the log) and returns its code.
 */
typedef inbox_status_t (*ngx_http_inbox_report_check_pt)(
    ngx_http_inbox_item_t *item, inbox_store_t *store,
    char org_id[INBOX_ID_MAX], inbox_status_update_t *update);


/*
 * A carrier's webhook as read in the event loop, waiting in the batch:
 * an inbound message (check) or a delivery report (report_check).
 */
struct ngx_http_inbox_item_s {
    ngx_queue_t                      queue;
    ngx_http_request_t              *request;
    ngx_thread_pool_t               *thread_pool;
    ngx_http_inbox_item_check_pt     check;
    ngx_http_inbox_report_check_pt   report_check;    /* NULL: inbound */
    inbox_carrier_t                  carrier;         /* a report's */

    /* what check reads; all of it lives as long as the request */
    inbox_form_t                     form;            /* Twilio's */
    const char                      *url;
    const char                      *signature;       /* NULL: missing */
    const char                      *default_country;

    /* Telnyx (ngx_http_inbox_webhook_telnyx.c): the raw body its
     * signature covers, telnyx-timestamp, and the event read from the
     * body (freed with the request) */
    ngx_str_t                        body;
    const char                      *timestamp;       /* NULL: missing */
    inbox_telnyx_event_t            *event;

    /* a delivery report, as report_check read it, and the message its
     * URL names ("": none) */
    char                             org_id[INBOX_ID_MAX];
    inbox_status_update_t            update;
    char                             message_id[INBOX_ID_MAX];

    /* the outcome: INBOX_OK (also for a duplicate) or error */
    inbox_status_t                   status;
    int                              duplicate;
    inbox_error_t                    error;
    char                             note[320];   /* for the log, or "" */

    /*
     * A refusal of a webhook for a number an organization has (its
     * e164, else ""), and what the operator should check (a static
     * string): the log says it at warn (ngx_http_inbox_webhook_log),
     * since the carrier does not send it again.
     */
    char                             refused[INBOX_PHONE_MAX];
    const char                      *advice;

    unsigned                         waiting:1;
};


/* Called from init_process: for each kind, room for batch_size items in
 * flight and 64 x batch_size pending. */
ngx_int_t ngx_http_inbox_batch_init(ngx_cycle_t *cycle,
    ngx_uint_t batch_size);

/*
 * Queues the item (allocated from its request's pool) and sets the
 * request waiting; r->write_event_handler must already be the one that
 * answers it (after checking item->waiting).  NGX_BUSY when the worker
 * already has 64 x batch_size webhooks waiting for the batch in flight
 * (the store is slow or stalled), NGX_ERROR when no batch could be posted
 * (the pool's queue is full): either way nothing was queued and the caller
 * answers 503 at once, so the carrier retries.
 */
ngx_int_t ngx_http_inbox_batch_add(ngx_http_inbox_item_t *item);


#endif /* _NGX_HTTP_INBOX_BATCH_H_INCLUDED_ */
