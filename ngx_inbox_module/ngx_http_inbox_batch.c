
/*
 * Group commit for carrier webhooks: one pending list and at most one
 * batch in flight per worker and kind (inbound messages, delivery
 * reports), so a burst of webhooks costs a few transactions instead of
 * one each.  The pending list is bounded, so a
 * stalled store turns webhooks away (503) instead of piling them up.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <stdlib.h>

#include "ngx_http_inbox_module.h"
#include "ngx_http_inbox_batch.h"
#include "ngx_http_inbox_task.h"


/* How many batches' worth of webhooks may wait for the one in flight. */
#define NGX_HTTP_INBOX_BATCH_PENDING  64

/*
 * Delivery reports wait this long for others (unless a whole batch of
 * them waits): a campaign's callbacks come one by one, and every commit
 * makes the other connections to the store drop their page caches, so a
 * commit each made every read of the inbox re-read its pages.  At a
 * number's pace of 150 a second, 5 ms gathered one or two reports a
 * batch; 50 ms gathers about seven and costs nginx an eighth less CPU a
 * campaign message (BENCHMARKS.md, session 19), while a carrier waits
 * on its callback's answer no more than on any other and a status tick
 * in a browser comes a twentieth of a second later.  Inbound messages,
 * which a person waits for, never linger.
 */
#define NGX_HTTP_INBOX_REPORT_LINGER  50


typedef struct {
    ngx_queue_t               pending;
    ngx_uint_t                npending;
    ngx_uint_t                max_pending;
    ngx_uint_t                size;        /* inbox_batch_size */
    ngx_thread_task_t        *task;        /* reused by every batch */
    ngx_http_inbox_item_t   **items;       /* the batch in flight */
    ngx_uint_t                nitems;
    ngx_msec_t                linger;      /* before a batch of fewer */
    ngx_event_t               linger_ev;
    unsigned                  in_flight:1;
} ngx_http_inbox_batch_t;


static ngx_int_t ngx_http_inbox_batch_init_one(ngx_cycle_t *cycle,
    ngx_http_inbox_batch_t *batch, ngx_uint_t batch_size);
static ngx_int_t ngx_http_inbox_batch_post(ngx_http_inbox_batch_t *batch);
static void ngx_http_inbox_batch_thread(void *data, ngx_log_t *log);
static void ngx_http_inbox_batch_ingest(ngx_http_inbox_batch_t *batch,
    inbox_store_t *store, inbox_inbound_t *msgs, ngx_uint_t *which,
    ngx_uint_t n);
static void ngx_http_inbox_batch_reports(ngx_http_inbox_batch_t *batch,
    inbox_store_t *store, ngx_uint_t *which, ngx_uint_t n);
static void ngx_http_inbox_batch_opt_out(ngx_http_inbox_item_t *item,
    inbox_store_t *store, const char *contact_id, int64_t sent_at);
static void ngx_http_inbox_batch_event_handler(ngx_event_t *ev);
static void ngx_http_inbox_batch_linger(ngx_http_inbox_batch_t *batch);
static void ngx_http_inbox_batch_linger_handler(ngx_event_t *ev);
static void ngx_http_inbox_batch_post_pending(ngx_http_inbox_batch_t *batch);
static void ngx_http_inbox_batch_fail(ngx_http_inbox_batch_t *batch);
static void ngx_http_inbox_batch_resume(ngx_http_inbox_item_t *item);


/*
 * Per worker (each process has its own copies), two pipelines: inbound
 * messages and delivery reports.  A campaign brings reports by the
 * hundred a second; in their own batches, an inbound message never
 * waits for a batch of them to be stored before its own may start.
 */
static ngx_http_inbox_batch_t  ngx_http_inbox_batches[2];


ngx_int_t
ngx_http_inbox_batch_init(ngx_cycle_t *cycle, ngx_uint_t batch_size)
{
    ngx_uint_t  i;

    for (i = 0; i < 2; i++) {
        if (ngx_http_inbox_batch_init_one(cycle, &ngx_http_inbox_batches[i],
                                          batch_size)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    ngx_http_inbox_batches[1].linger = NGX_HTTP_INBOX_REPORT_LINGER;

    return NGX_OK;
}


static ngx_int_t
ngx_http_inbox_batch_init_one(ngx_cycle_t *cycle,
    ngx_http_inbox_batch_t *batch, ngx_uint_t batch_size)
{
    ngx_queue_init(&batch->pending);

    batch->npending = 0;
    batch->max_pending = NGX_HTTP_INBOX_BATCH_PENDING * batch_size;
    batch->size = batch_size;
    batch->nitems = 0;
    batch->in_flight = 0;

    batch->items = ngx_palloc(cycle->pool,
                              batch_size * sizeof(ngx_http_inbox_item_t *));
    if (batch->items == NULL) {
        return NGX_ERROR;
    }

    batch->task = ngx_thread_task_alloc(cycle->pool, 0);
    if (batch->task == NULL) {
        return NGX_ERROR;
    }

    batch->task->ctx = batch;
    batch->task->handler = ngx_http_inbox_batch_thread;
    batch->task->event.data = batch;
    batch->task->event.handler = ngx_http_inbox_batch_event_handler;

    batch->linger = 0;
    batch->linger_ev.data = batch;
    batch->linger_ev.handler = ngx_http_inbox_batch_linger_handler;
    batch->linger_ev.log = cycle->log;

    return NGX_OK;
}


ngx_int_t
ngx_http_inbox_batch_add(ngx_http_inbox_item_t *item)
{
    ngx_http_request_t      *r;
    ngx_http_inbox_batch_t  *batch;

    r = item->request;
    batch = &ngx_http_inbox_batches[item->report_check != NULL];

    /* inbound messages are pending only while a batch is in flight;
     * reports also while they linger */

    if (batch->npending >= batch->max_pending) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "inbox batch: %ui webhooks pending, one refused",
                       batch->npending);
        return NGX_BUSY;
    }

    ngx_queue_insert_tail(&batch->pending, &item->queue);
    batch->npending++;

    item->waiting = 1;
    r->main->blocked++;
    r->aio = 1;
    ngx_http_inbox_hold();

    if (batch->in_flight) {
        return NGX_OK;
    }

    if (batch->linger) {
        /* the timer posts it, with the others that come meanwhile */
        ngx_http_inbox_batch_linger(batch);
        return NGX_OK;
    }

    if (ngx_http_inbox_batch_post(batch) == NGX_OK) {
        return NGX_OK;
    }

    /* nothing was in flight, so the failed batch was this item alone */

    batch->nitems = 0;
    item->waiting = 0;
    r->main->blocked--;
    r->aio = 0;
    ngx_http_inbox_release();

    return NGX_ERROR;
}


/*
 * Moves up to batch->size pending items into the batch and posts it.
 * Requests whose client went away are let go instead.  NGX_ERROR when the
 * thread pool refused the batch (its items stay in batch->items).
 */

static ngx_int_t
ngx_http_inbox_batch_post(ngx_http_inbox_batch_t *batch)
{
    ngx_queue_t            *q;
    ngx_http_inbox_item_t  *item;

    batch->nitems = 0;

    while (!ngx_queue_empty(&batch->pending)
           && batch->nitems < batch->size)
    {
        q = ngx_queue_head(&batch->pending);
        ngx_queue_remove(q);
        batch->npending--;

        item = ngx_queue_data(q, ngx_http_inbox_item_t, queue);

        if (item->request->connection->error) {
            ngx_http_inbox_batch_resume(item);
            continue;
        }

        batch->items[batch->nitems++] = item;
    }

    if (batch->nitems == 0) {
        return NGX_OK;
    }

    if (ngx_thread_task_post(batch->items[0]->thread_pool, batch->task)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    batch->in_flight = 1;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "inbox batch of %ui posted, %s pending",
                   batch->nitems,
                   ngx_queue_empty(&batch->pending) ? "none" : "more");

    return NGX_OK;
}


/* In a pool thread: no pools, no logging, nothing but the items. */

static void
ngx_http_inbox_batch_thread(void *data, ngx_log_t *log)
{
    ngx_http_inbox_batch_t  *batch = data;

    ngx_uint_t              i, n, nreports, *which, *reports;
    inbox_error_t           err;
    inbox_store_t          *store;
    inbox_inbound_t        *msgs;
    ngx_http_inbox_item_t  *item;

    store = ngx_http_inbox_store(&err);

    msgs = calloc(batch->nitems, sizeof(inbox_inbound_t));
    which = calloc(batch->nitems, sizeof(ngx_uint_t));
    reports = calloc(batch->nitems, sizeof(ngx_uint_t));

    if (store != NULL && (msgs == NULL || which == NULL || reports == NULL))
    {
        store = NULL;
        inbox_error_set(&err, INBOX_ERR_INTERNAL,
                        "The server ran out of memory; try again.");
    }

    n = 0;
    nreports = 0;

    for (i = 0; i < batch->nitems; i++) {
        item = batch->items[i];

        if (store == NULL) {
            item->status = err.code;
            item->error = err;
            continue;
        }

        if (item->report_check != NULL) {
            item->status = item->report_check(item, store, item->org_id,
                                              &item->update);

            if (item->status == INBOX_OK) {
                reports[nreports++] = i;
            }

            continue;
        }

        item->status = item->check(item, store, &msgs[n]);

        if (item->status == INBOX_OK) {
            which[n++] = i;
        }
    }

    if (n) {
        ngx_http_inbox_batch_ingest(batch, store, msgs, which, n);
    }

    if (nreports) {
        ngx_http_inbox_batch_reports(batch, store, reports, nreports);
    }

    for (i = 0; i < n; i++) {
        inbox_inbound_free(&msgs[i]);
    }

    free(msgs);
    free(which);
    free(reports);
}


/* One transaction for the n checked messages; items[which[k]] sent
 * msgs[k]. */

static void
ngx_http_inbox_batch_ingest(ngx_http_inbox_batch_t *batch,
    inbox_store_t *store, inbox_inbound_t *msgs, ngx_uint_t *which,
    ngx_uint_t n)
{
    ngx_uint_t              k;
    inbox_error_t           err;
    inbox_status_t          rc;
    inbox_event_list_t      events;
    inbox_ingest_result_t  *results;
    ngx_http_inbox_item_t  *item;

    ngx_memzero(&events, sizeof(inbox_event_list_t));
    inbox_error_clear(&err);

    results = calloc(n, sizeof(inbox_ingest_result_t));

    if (results == NULL) {
        rc = inbox_error_set(&err, INBOX_ERR_INTERNAL,
                             "The server ran out of memory; try again.");

    } else {
        rc = inbox_store_inbound_ingest(store, msgs, n, results, &events,
                                        &err);
    }

    for (k = 0; k < n; k++) {
        item = batch->items[which[k]];

        /* a failed batch may have stored the messages before the one it
         * failed on (MongoDB): those are answered, and pushed, as stored,
         * or the carrier would retry each of them */
        if (rc != INBOX_OK
            && (results == NULL || results[k].status != INBOX_OK))
        {
            item->status = rc;
            item->error = err;
            continue;
        }

        item->status = results[k].status;
        item->duplicate = results[k].duplicate;

        switch (item->status) {

        case INBOX_OK:
            break;

        case INBOX_ERR_NOT_FOUND:
            inbox_error_set_field(&item->error, item->status, "To",
                                  "No organization owns the number %s.",
                                  msgs[k].to);
            break;

        case INBOX_ERR_INTERNAL:
            /* nothing of it was stored (SQLite: its savepoint; MongoDB:
             * unfinished): a 503, so that the carrier retries */
            item->status = INBOX_ERR_UNAVAILABLE;
            /* fall through */

        case INBOX_ERR_UNAVAILABLE:
            inbox_error_set(&item->error, item->status,
                            "The message could not be stored now; "
                            "send it again later.");
            break;

        default:
            inbox_error_set(&item->error, item->status,
                            "The message could not be stored.");
        }
    }

    ngx_http_inbox_events_send(&events);

    if (results != NULL) {
        /* keyword answers, media to copy: the sender's work */
        ngx_http_inbox_inbound_stored(msgs, results, n);
    }

    inbox_event_list_free(&events);
    free(results);
}


/*
 * One transaction for the n checked delivery reports (items[which[k]]):
 * each status moves only forward, a repeat or a late one changes nothing,
 * and one that overtook the sender's record of the carrier's id is kept
 * for it (delivery.h).  Then the carrier's opt-outs, each in its own
 * transaction: a retry after a failure in between changes no status but
 * finds the contact again, so nothing is lost.
 */

static void
ngx_http_inbox_batch_reports(ngx_http_inbox_batch_t *batch,
    inbox_store_t *store, ngx_uint_t *which, ngx_uint_t n)
{
    ngx_uint_t              k;
    inbox_error_t           err;
    inbox_event_list_t      events;
    inbox_status_report_t  *reports, *report;
    ngx_http_inbox_item_t  *item;

    reports = calloc(n, sizeof(inbox_status_report_t));

    if (reports == NULL) {
        for (k = 0; k < n; k++) {
            item = batch->items[which[k]];
            item->status = inbox_error_set(&item->error, INBOX_ERR_INTERNAL,
                                           "The server ran out of memory; "
                                           "try again.");
        }

        return;
    }

    for (k = 0; k < n; k++) {
        item = batch->items[which[k]];
        report = &reports[k];

        report->org_id = item->org_id;
        report->carrier = item->carrier;
        report->provider_id = item->update.provider_id;
        report->delivery = item->update.status;
        report->error_code = item->update.error_code;
        report->final = item->update.final;
        report->message_id = item->message_id[0] ? item->message_id : NULL;
        report->find_contact = item->update.opted_out;
    }

    ngx_memzero(&events, sizeof(inbox_event_list_t));

    if (inbox_store_message_status_updates(store, reports, n, &events, &err)
        == INBOX_OK)
    {
        ngx_http_inbox_events_send(&events);
    }

    inbox_event_list_free(&events);

    for (k = 0; k < n; k++) {
        item = batch->items[which[k]];
        report = &reports[k];

        item->status = report->status;

        if (report->status != INBOX_OK) {
            item->error = report->error;
            continue;
        }

        if (item->update.opted_out) {
            ngx_http_inbox_batch_opt_out(item, store, report->contact_id,
                                         report->sent_at);
        }
    }

    free(reports);
}


/* The carrier refused a message because its contact opted out (unless
 * the contact opted in since the carrier took it: optout.h). */

static void
ngx_http_inbox_batch_opt_out(ngx_http_inbox_item_t *item,
    inbox_store_t *store, const char *contact_id, int64_t sent_at)
{
    inbox_event_list_t  events;

    if (contact_id[0] == '\0') {
        snprintf(item->note, sizeof(item->note),
                 "an opt-out reported for %s before the sender recorded "
                 "it: applied when it does", item->update.provider_id);
        return;
    }

    ngx_memzero(&events, sizeof(inbox_event_list_t));

    item->status = inbox_store_contact_opt_out(store, item->org_id,
                                               contact_id,
                                               INBOX_OPT_OUT_CARRIER, NULL, 0,
                                               sent_at, NULL, &events,
                                               &item->error);

    if (item->status == INBOX_OK) {
        ngx_http_inbox_events_send(&events);
    }

    inbox_event_list_free(&events);
}


/* Back in the event loop: answer the batch, then post the next one. */

static void
ngx_http_inbox_batch_event_handler(ngx_event_t *ev)
{
    ngx_uint_t               i, n;
    ngx_thread_pool_t       *tp;
    ngx_http_inbox_batch_t  *batch = ev->data;

    batch->in_flight = 0;

    ngx_http_inbox_report();

    n = batch->nitems;
    batch->nitems = 0;

    /* the items may be gone once answered */
    tp = n ? batch->items[0]->thread_pool : NULL;

    for (i = 0; i < n; i++) {
        ngx_http_inbox_batch_resume(batch->items[i]);
    }

    if (!ngx_queue_empty(&batch->pending)) {
        if (batch->linger) {
            ngx_http_inbox_batch_linger(batch);

        } else {
            ngx_http_inbox_batch_post_pending(batch);
        }
    }

    if (tp) {
        ngx_http_inbox_maintain_after_write(tp);
    }
}


/*
 * The pending reports wait for others, up to batch->linger; a batch's
 * worth goes at the next turn of the loop.
 */

static void
ngx_http_inbox_batch_linger(ngx_http_inbox_batch_t *batch)
{
    ngx_msec_t  delay;

    delay = (batch->npending >= batch->size) ? 0 : batch->linger;

    if (batch->linger_ev.timer_set) {
        if (delay) {
            return;
        }

        /* a timer moved by less than NGX_TIMER_LAZY_DELAY stays */
        ngx_del_timer(&batch->linger_ev);
    }

    ngx_add_timer(&batch->linger_ev, delay);
}


static void
ngx_http_inbox_batch_linger_handler(ngx_event_t *ev)
{
    ngx_http_inbox_batch_t  *batch = ev->data;

    if (!batch->in_flight) {
        ngx_http_inbox_batch_post_pending(batch);
    }

    /* else the batch in flight posts them when it is done */
}


/* Posts the next batch; a batch the pool refuses is answered 503. */

static void
ngx_http_inbox_batch_post_pending(ngx_http_inbox_batch_t *batch)
{
    if (batch->linger_ev.timer_set) {
        ngx_del_timer(&batch->linger_ev);
    }

    while (!ngx_queue_empty(&batch->pending)) {

        if (ngx_http_inbox_batch_post(batch) == NGX_OK) {
            break;
        }

        ngx_http_inbox_batch_fail(batch);
    }
}


/* The thread pool refused the batch: its webhooks are answered 503, so
 * the carrier sends them again. */

static void
ngx_http_inbox_batch_fail(ngx_http_inbox_batch_t *batch)
{
    ngx_uint_t              i, n;
    ngx_http_inbox_item_t  *item;

    n = batch->nitems;
    batch->nitems = 0;

    for (i = 0; i < n; i++) {
        item = batch->items[i];
        item->status = inbox_error_set(&item->error, INBOX_ERR_UNAVAILABLE,
                                       "The server is too busy to take "
                                       "this message now; send it again "
                                       "later.");
        ngx_http_inbox_batch_resume(item);
    }
}


/* The request may be gone once this returns. */

static void
ngx_http_inbox_batch_resume(ngx_http_inbox_item_t *item)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = item->request;
    c = r->connection;

    item->waiting = 0;
    r->main->blocked--;
    r->aio = 0;
    ngx_http_inbox_release();

    ngx_http_set_log_request(c->log, r);

    /* the item's answer, or nginx's finalizer if the client went away */
    c->write->handler(c->write);
}
