
/*
 * Carrier webhooks: reading their bodies, and delivery reports stored in
 * a pool thread (see ngx_http_inbox_webhook.h).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_inbox_module.h"
#include "ngx_http_inbox_reply.h"
#include "ngx_http_inbox_task.h"
#include "ngx_http_inbox_webhook.h"


typedef struct {
    ngx_http_inbox_item_t           *item;
    ngx_http_inbox_report_check_pt   check;
    inbox_carrier_t                  carrier;
    const char                      *content_type;
    const char                      *answer;
} ngx_http_inbox_report_t;


static void ngx_http_inbox_report_run(ngx_http_inbox_job_t *job);
static inbox_status_t ngx_http_inbox_report_store(
    ngx_http_inbox_report_t *report, inbox_store_t *store,
    const char *org_id, const inbox_status_update_t *update);
static ngx_int_t ngx_http_inbox_report_done(ngx_http_request_t *r,
    ngx_http_inbox_job_t *job);


ngx_int_t
ngx_http_inbox_webhook_read(ngx_http_request_t *r,
    ngx_http_client_body_handler_pt post_handler)
{
    ngx_int_t                   rc;
    ngx_http_inbox_loc_conf_t  *ilcf;

    if (r->method != NGX_HTTP_POST) {
        rc = ngx_http_discard_request_body(r);

        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_inbox_reply_not_allowed(r, "POST");
    }

    ilcf = ngx_http_get_module_loc_conf(r, ngx_http_inbox_module);

    if (r->headers_in.content_length_n > (off_t) ilcf->max_body) {
        rc = ngx_http_discard_request_body(r);

        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_inbox_reply_status(r, INBOX_ERR_TOO_LARGE, NULL,
                                           "The request body is too large.");
    }

    rc = ngx_http_read_client_request_body(r, post_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


ngx_int_t
ngx_http_inbox_report_post(ngx_http_request_t *r,
    ngx_http_inbox_item_t *item, inbox_carrier_t carrier,
    ngx_http_inbox_report_check_pt check, const char *content_type,
    const char *answer)
{
    ngx_http_inbox_job_t     *job;
    ngx_http_inbox_report_t  *report;

    report = ngx_pcalloc(r->pool, sizeof(ngx_http_inbox_report_t));
    if (report == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    report->item = item;
    report->check = check;
    report->carrier = carrier;
    report->content_type = content_type;
    report->answer = answer;

    job = ngx_http_inbox_job_create(r, ngx_http_inbox_report_run, report);
    if (job == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    job->done = ngx_http_inbox_report_done;

    return ngx_http_inbox_job_post(r, job);
}


/* In a pool thread: plain C and libinbox only. */

static void
ngx_http_inbox_report_run(ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_report_t  *report = job->data;

    char                    org_id[INBOX_ID_MAX];
    inbox_store_t          *store;
    inbox_status_t          rc;
    inbox_status_update_t   update;
    ngx_http_inbox_item_t  *item;

    item = report->item;

    store = ngx_http_inbox_store(&item->error);

    if (store == NULL) {
        item->status = item->error.code;
        return;
    }

    org_id[0] = '\0';
    ngx_memzero(&update, sizeof(inbox_status_update_t));

    rc = report->check(item, store, org_id, &update);

    if (rc == INBOX_OK) {
        rc = ngx_http_inbox_report_store(report, store, org_id, &update);
    }

    item->status = rc;
}


/*
 * The status, then the carrier's opt-out, each in its own transaction
 * and each pushed once stored.  A retry after a failure in between
 * changes no status but finds the contact again (and an opt-out is
 * kept once), so nothing is lost.  A report that came before the sender
 * recorded the carrier's id is kept by the store and applied, opt-out
 * included, when the sender records it (delivery.h).
 */

static inbox_status_t
ngx_http_inbox_report_store(ngx_http_inbox_report_t *report,
    inbox_store_t *store, const char *org_id,
    const inbox_status_update_t *update)
{
    int                     changed;
    char                    contact[INBOX_ID_MAX];
    inbox_status_t          rc;
    inbox_event_list_t      events;
    ngx_http_inbox_item_t  *item;

    item = report->item;

    ngx_memzero(&events, sizeof(inbox_event_list_t));

    rc = inbox_store_message_status_update(store, org_id, report->carrier,
                                           update->provider_id,
                                           update->status,
                                           update->error_code, &changed,
                                           update->opted_out ? contact
                                                             : NULL,
                                           &events, &item->error);

    if (rc != INBOX_OK) {
        inbox_event_list_free(&events);
        return rc;
    }

    ngx_http_inbox_events_send(&events);
    inbox_event_list_free(&events);

    if (!update->opted_out) {
        return INBOX_OK;
    }

    if (contact[0] == '\0') {
        snprintf(item->note, sizeof(item->note),
                 "an opt-out reported for %s before the sender recorded "
                 "it: applied when it does", update->provider_id);
        return INBOX_OK;
    }

    rc = inbox_store_contact_opt_out(store, org_id, contact,
                                     INBOX_OPT_OUT_CARRIER, NULL, 0, NULL,
                                     &events, &item->error);

    if (rc == INBOX_OK) {
        ngx_http_inbox_events_send(&events);
    }

    inbox_event_list_free(&events);

    return rc;
}


/* Back in the event loop. */

static ngx_int_t
ngx_http_inbox_report_done(ngx_http_request_t *r, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_report_t  *report = job->data;

    ngx_http_inbox_item_t      *item;
    ngx_http_inbox_loc_conf_t  *ilcf;

    item = report->item;

    if (item->note[0] != '\0') {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "inbox: %s", item->note);
    }

    ilcf = ngx_http_get_module_loc_conf(r, ngx_http_inbox_module);
    ngx_http_inbox_maintain_after_write(ilcf->thread_pool);

    if (item->status != INBOX_OK) {
        return ngx_http_inbox_reply_error(r, &item->error);
    }

    return ngx_http_inbox_reply(r, NGX_HTTP_OK, report->content_type,
                                report->answer,
                                ngx_strlen(report->answer));
}
