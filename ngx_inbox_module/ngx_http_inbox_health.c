
/*
 * GET /healthz: 200 when the store takes a write (inbox_store_ping writes
 * a row of its own), 503 otherwise: missing, deleted or replaced,
 * read-only, its disk full, locked, unreachable, or why the worker could
 * not open it.  The reason is for the error log (reply_error logs it); the
 * answer, open to anyone, says only that the service is unavailable.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <stdlib.h>
#include <string.h>

#include "ngx_http_inbox_module.h"
#include "ngx_http_inbox_reply.h"
#include "ngx_http_inbox_task.h"


static void ngx_http_inbox_health_run(ngx_http_inbox_job_t *job);


ngx_int_t
ngx_http_inbox_health_handler(ngx_http_request_t *r)
{
    ngx_int_t              rc;
    ngx_http_inbox_job_t  *job;

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return ngx_http_inbox_reply_not_allowed(r, "GET, HEAD");
    }

    job = ngx_http_inbox_job_create(r, ngx_http_inbox_health_run, NULL);
    if (job == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_inbox_job_post(r, job);
}


/* In a pool thread. */

static void
ngx_http_inbox_health_run(ngx_http_inbox_job_t *job)
{
    static const char  ok[] = "{\"status\":\"ok\"}";

    inbox_store_t  *store;

    store = ngx_http_inbox_store(&job->error);
    if (store == NULL) {
        /* the operator's question, why not, for the error log */
        ngx_http_inbox_store_failure(&job->error);
        return;
    }

    if (inbox_store_ping(store, &job->error) != INBOX_OK) {
        /* whatever went wrong, the store does not answer */
        job->error.code = INBOX_ERR_UNAVAILABLE;
        return;
    }

    ngx_http_inbox_job_document(job, NGX_HTTP_OK, strdup(ok),
                                sizeof(ok) - 1);
}
