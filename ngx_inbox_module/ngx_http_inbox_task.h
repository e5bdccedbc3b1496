
/*
 * Blocking work for one request, run in the location's thread pool.
 *
 * The handler makes a job, fills its arguments and posts it; the request
 * waits (r->main->blocked, r->aio) while a pool thread runs job->run, and
 * is answered in the event loop afterwards: job->body with job->status,
 * or job->error.  run may use only plain C and libinbox: no pools, no
 * logging, nothing of the request but the job.
 */


#ifndef _NGX_HTTP_INBOX_TASK_H_INCLUDED_
#define _NGX_HTTP_INBOX_TASK_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <inbox/error.h>


typedef struct ngx_http_inbox_job_s  ngx_http_inbox_job_t;

typedef void (*ngx_http_inbox_job_run_pt)(ngx_http_inbox_job_t *job);

/* In the event loop, after run: NGX_DECLINED to answer as usual, or the
 * code of an answer it sent itself, for ngx_http_finalize_request. */
typedef ngx_int_t (*ngx_http_inbox_job_done_pt)(ngx_http_request_t *r,
    ngx_http_inbox_job_t *job);


struct ngx_http_inbox_job_s {
    ngx_http_inbox_job_run_pt   run;
    void                       *data;      /* run's arguments */
    ngx_http_inbox_job_done_pt  done;      /* may be NULL */

    /* What run answers: a JSON document, or an error when body is NULL.
     * body is malloc'd; the request pool's cleanup frees it. */
    ngx_uint_t                  status;
    char                       *body;
    size_t                      len;
    inbox_error_t               error;

    ngx_thread_task_t          *task;
    unsigned                    running:1;
};


/* A job that lives as long as the request (it is the request's module
 * context); NULL when out of memory. */
ngx_http_inbox_job_t *ngx_http_inbox_job_create(ngx_http_request_t *r,
    ngx_http_inbox_job_run_pt run, void *data);

/*
 * Posts the job and returns NGX_DONE (the content handler returns it);
 * the request is answered when the job is done.  When the pool's queue is
 * full it answers 503 unavailable at once (a body not read yet left
 * unread) and returns that reply's code.
 */
ngx_int_t ngx_http_inbox_job_post(ngx_http_request_t *r,
    ngx_http_inbox_job_t *job);

/*
 * A worker that is shutting down exits as soon as no timer is left, and
 * nothing else times a request that waits for a pool thread: every waiting
 * request holds the worker until it is answered.
 */
void ngx_http_inbox_hold(void);
void ngx_http_inbox_release(void);

/* For run: answer json (malloc'd; the job takes it) with status, or 500
 * internal when json is NULL (out of memory). */
void ngx_http_inbox_job_document(ngx_http_inbox_job_t *job,
    ngx_uint_t status, char *json, size_t len);
/* The job's answer is 204, no body. */
void ngx_http_inbox_job_no_content(ngx_http_inbox_job_t *job);


#endif /* _NGX_HTTP_INBOX_TASK_H_INCLUDED_ */
