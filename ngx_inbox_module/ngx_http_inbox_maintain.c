
/*
 * Store housekeeping off the request path: after a batch of webhooks, at
 * most every 100 ms, a pool thread runs inbox_store_maintain (for SQLite a
 * passive checkpoint of the write-ahead log) while the next batch goes on,
 * instead of the checkpoint landing on whichever batch crosses SQLite's
 * threshold.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_inbox_module.h"


/* Often enough that the log stays small and SQLite's own checkpoint, on
 * a writer's path, never comes due. */
#define NGX_HTTP_INBOX_MAINTAIN_INTERVAL  100


static void ngx_http_inbox_maintain_thread(void *data, ngx_log_t *log);
static void ngx_http_inbox_maintain_done(ngx_event_t *ev);


/* Per worker. */
static ngx_thread_task_t  *ngx_http_inbox_maintain_task;
static ngx_msec_t          ngx_http_inbox_maintain_last;
static ngx_uint_t          ngx_http_inbox_maintain_running;


void
ngx_http_inbox_maintain_after_write(ngx_thread_pool_t *tp)
{
    ngx_thread_task_t  *task;

    if (ngx_http_inbox_maintain_running
        || ngx_current_msec - ngx_http_inbox_maintain_last
           < NGX_HTTP_INBOX_MAINTAIN_INTERVAL)
    {
        return;
    }

    task = ngx_http_inbox_maintain_task;

    if (task == NULL) {
        task = ngx_thread_task_alloc(ngx_cycle->pool, 0);
        if (task == NULL) {
            return;
        }

        task->handler = ngx_http_inbox_maintain_thread;
        task->event.handler = ngx_http_inbox_maintain_done;
        ngx_http_inbox_maintain_task = task;
    }

    ngx_http_inbox_maintain_last = ngx_current_msec;

    /* a full queue skips this round: requests come first */

    if (ngx_thread_task_post(tp, task) == NGX_OK) {
        ngx_http_inbox_maintain_running = 1;
    }
}


/* In a pool thread: plain C and libinbox only. */

static void
ngx_http_inbox_maintain_thread(void *data, ngx_log_t *log)
{
    inbox_error_t   err;
    inbox_store_t  *store;

    store = ngx_http_inbox_store(&err);

    if (store != NULL) {
        (void) inbox_store_maintain(store, &err);
    }
}


static void
ngx_http_inbox_maintain_done(ngx_event_t *ev)
{
    ngx_http_inbox_maintain_running = 0;
}
