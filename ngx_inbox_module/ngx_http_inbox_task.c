
/*
 * Blocking work for one request, run in the location's thread pool:
 * the dance of ngx_http_copy_thread_handler, for a content handler.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <stdlib.h>

#include "ngx_http_inbox_module.h"
#include "ngx_http_inbox_body.h"
#include "ngx_http_inbox_reply.h"
#include "ngx_http_inbox_task.h"


static void ngx_http_inbox_job_thread(void *data, ngx_log_t *log);
static void ngx_http_inbox_job_event_handler(ngx_event_t *ev);
static void ngx_http_inbox_job_answer(ngx_http_request_t *r);
static void ngx_http_inbox_job_cleanup(void *data);
static void ngx_http_inbox_hold_handler(ngx_event_t *ev);


#define NGX_HTTP_INBOX_HOLD_INTERVAL  1000


/* Per worker: the timer that keeps it alive while requests wait. */
static ngx_event_t       ngx_http_inbox_hold_event;
static ngx_connection_t  ngx_http_inbox_hold_dummy;   /* for debug logs */
static ngx_uint_t        ngx_http_inbox_holds;


ngx_http_inbox_job_t *
ngx_http_inbox_job_create(ngx_http_request_t *r,
    ngx_http_inbox_job_run_pt run, void *data)
{
    ngx_pool_cleanup_t    *cln;
    ngx_thread_task_t     *task;
    ngx_http_inbox_job_t  *job;

    task = ngx_thread_task_alloc(r->pool, sizeof(ngx_http_inbox_job_t));
    if (task == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    /* ngx_thread_task_alloc zeroed the job */
    job = task->ctx;
    job->run = run;
    job->data = data;
    job->task = task;

    cln->handler = ngx_http_inbox_job_cleanup;
    cln->data = job;

    ngx_http_set_ctx(r, job, ngx_http_inbox_module);

    return job;
}


ngx_int_t
ngx_http_inbox_job_post(ngx_http_request_t *r, ngx_http_inbox_job_t *job)
{
    ngx_int_t                   rc;
    ngx_thread_task_t          *task;
    ngx_http_inbox_loc_conf_t  *ilcf;

    ilcf = ngx_http_get_module_loc_conf(r, ngx_http_inbox_module);

    task = job->task;
    task->handler = ngx_http_inbox_job_thread;
    task->event.data = r;
    task->event.handler = ngx_http_inbox_job_event_handler;

    if (ngx_thread_task_post(ilcf->thread_pool, task) != NGX_OK) {

        /* a body not read yet (one a job authenticates first) never is */
        rc = ngx_http_inbox_body_refuse(r);

        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_inbox_reply_status(r, INBOX_ERR_UNAVAILABLE, NULL,
                   "The server is too busy to take this request now; "
                   "try again shortly.");
    }

    job->running = 1;
    ngx_http_inbox_hold();

    r->main->blocked++;
    r->aio = 1;
    r->main->count++;

    r->write_event_handler = ngx_http_inbox_job_answer;

    /* notice a client that goes away while the job runs */
    if (!r->discard_body) {
        r->read_event_handler = ngx_http_test_reading;
    }

    return NGX_DONE;
}


void
ngx_http_inbox_job_document(ngx_http_inbox_job_t *job, ngx_uint_t status,
    char *json, size_t len)
{
    if (json == NULL) {
        inbox_error_set(&job->error, INBOX_ERR_INTERNAL,
                        "The server ran out of memory; try again.");
        return;
    }

    job->status = status;
    job->body = json;
    job->len = len;
}


void
ngx_http_inbox_job_no_content(ngx_http_inbox_job_t *job)
{
    char  *nothing;

    /* the job frees its document: an empty one of its own */
    nothing = malloc(1);
    if (nothing != NULL) {
        nothing[0] = '\0';
    }

    ngx_http_inbox_job_document(job, NGX_HTTP_NO_CONTENT, nothing, 0);
}


/* In a pool thread. */

static void
ngx_http_inbox_job_thread(void *data, ngx_log_t *log)
{
    ngx_http_inbox_job_t  *job = data;

    job->run(job);
}


static void
ngx_http_inbox_job_event_handler(ngx_event_t *ev)
{
    ngx_connection_t      *c;
    ngx_http_request_t    *r;
    ngx_http_inbox_job_t  *job;

    r = ev->data;
    c = r->connection;
    job = ngx_http_get_module_ctx(r, ngx_http_inbox_module);

    ngx_http_set_log_request(c->log, r);

    r->main->blocked--;
    r->aio = 0;
    job->running = 0;
    ngx_http_inbox_release();
    ngx_http_inbox_report();

    /*
     * Runs r->write_event_handler: ngx_http_inbox_job_answer, or the
     * finalizer nginx put there if the client went away meanwhile.
     */
    c->write->handler(c->write);
}


static void
ngx_http_inbox_job_answer(ngx_http_request_t *r)
{
    ngx_int_t              rc;
    ngx_http_inbox_job_t  *job;

    job = ngx_http_get_module_ctx(r, ngx_http_inbox_module);

    if (job == NULL || job->running) {
        /* a write event while the job runs */
        return;
    }

    r->write_event_handler = ngx_http_request_empty_handler;

    if (job->done) {
        rc = job->done(r, job);

        if (rc != NGX_DECLINED) {
            ngx_http_finalize_request(r, rc);
            return;
        }
    }

    if (job->body) {
        rc = ngx_http_inbox_reply_json(r, job->status, job->body, job->len);

    } else {
        if (job->error.code == INBOX_OK) {
            /* run answered nothing: a bug, not the client's fault */
            inbox_error_set(&job->error, INBOX_ERR_INTERNAL,
                            "The server failed to answer; try again.");
        }

        rc = ngx_http_inbox_reply_error(r, &job->error);
    }

    ngx_http_finalize_request(r, rc);
}


void
ngx_http_inbox_hold(void)
{
    ngx_event_t  *ev = &ngx_http_inbox_hold_event;

    if (ngx_http_inbox_holds++ == 0) {
        ngx_http_inbox_hold_dummy.fd = (ngx_socket_t) -1;

        ev->handler = ngx_http_inbox_hold_handler;
        ev->data = &ngx_http_inbox_hold_dummy;
        ev->log = ngx_cycle->log;
        ngx_add_timer(ev, NGX_HTTP_INBOX_HOLD_INTERVAL);
    }
}


void
ngx_http_inbox_release(void)
{
    ngx_event_t  *ev = &ngx_http_inbox_hold_event;

    if (--ngx_http_inbox_holds == 0 && ev->timer_set) {
        ngx_del_timer(ev);
    }
}


static void
ngx_http_inbox_hold_handler(ngx_event_t *ev)
{
    if (ngx_http_inbox_holds) {
        ngx_add_timer(ev, NGX_HTTP_INBOX_HOLD_INTERVAL);
    }
}


static void
ngx_http_inbox_job_cleanup(void *data)
{
    ngx_http_inbox_job_t  *job = data;

    free(job->body);
    job->body = NULL;
}
