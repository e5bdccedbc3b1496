
/*
 * The media directory's orphans swept by nginx itself: the files a crash
 * leaves that no record names (an upload's written before its record, an
 * inbound copy's before it was recorded), which otherwise only an
 * operator's inboxctl media sweep removes, so that on an install nobody
 * looks after they fill the disk for good.  Every
 * inbox_media_sweep_interval a pool thread runs libinbox's sweep
 * (inbox_store_media_sweep_orphans: the walk, the grace, the store asked
 * in batches), in worker 0 only: one sweep is enough for the directory
 * all workers share, and a worker's number needs no shared memory (a
 * worker that dies is started again with its number; a reload's new
 * workers have one 0 too).  The first comes an interval after start, at
 * most NGX_HTTP_INBOX_SWEEP_FIRST: never in the burst of a start's
 * work.  When the next is due is kept in a small shared memory zone,
 * which a reload keeps: a reload's worker 0 sweeps when the one before
 * would have, so that reloads more frequent than the interval do not put
 * the sweep off for good.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <inbox/media.h>

#include "ngx_http_inbox_module.h"


/* ms: the first sweep after start, at the latest */
#define NGX_HTTP_INBOX_SWEEP_FIRST       (10 * 60 * 1000)

/* ms: a sweep the thread pool's full queue refused is tried again */
#define NGX_HTTP_INBOX_SWEEP_RETRY       (60 * 1000)

/* s: the least grace, whatever inbox_media_keep_unused says: a file
 * written is recorded within moments, an hour covers any store's stall,
 * and inbox_media_keep_unused 0 (purge unused uploads at once) must not
 * make the sweep take a file being recorded now */
#define NGX_HTTP_INBOX_SWEEP_GRACE_MIN   3600

/* the files whose unlink failed named in one sweep's log; the rest
 * counted */
#define NGX_HTTP_INBOX_SWEEP_NAMED       10


/* In the shared zone: when the next sweep is due (s, wall clock), 0
 * before the first worker's start. */
typedef struct {
    ngx_atomic_t            due;
} ngx_http_inbox_sweep_shm_t;


typedef struct {
    char                   *dir;
    time_t                  grace;          /* s */
    ngx_uint_t              no_store;       /* it could not be opened */
    inbox_status_t          status;
    inbox_error_t           err;
    inbox_media_orphans_t   swept;
    ngx_uint_t              nfailed;
    int                     errnum[NGX_HTTP_INBOX_SWEEP_NAMED];
    char                    failed[NGX_HTTP_INBOX_SWEEP_NAMED]
                                  [INBOX_MEDIA_FILE_MAX];
} ngx_http_inbox_sweep_ctx_t;


static void ngx_http_inbox_sweep_due(ngx_event_t *ev);
static void ngx_http_inbox_sweep_thread(void *data, ngx_log_t *log);
static void ngx_http_inbox_sweep_unlinked(const char *file, int errnum,
    void *data);
static void ngx_http_inbox_sweep_done(ngx_event_t *ev);
static void ngx_http_inbox_sweep_log(ngx_http_inbox_sweep_ctx_t *ctx);
static ngx_int_t ngx_http_inbox_sweep_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_inbox_sweep_next(ngx_msec_t delay);


/* Per worker (worker 0's only). */
static ngx_thread_task_t  *ngx_http_inbox_sweep_task;
static ngx_event_t         ngx_http_inbox_sweep_timer;
static ngx_msec_t          ngx_http_inbox_sweep_interval;
static ngx_shm_zone_t     *ngx_http_inbox_sweep_zone;   /* the cycle's */


/* inbox_media_sweep_interval time | off */

char *
ngx_http_inbox_media_sweep_interval(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_inbox_main_conf_t *imcf = conf;

    ngx_str_t  *value;

    if (imcf->media_sweep_interval != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        imcf->media_sweep_interval = 0;
        return NGX_CONF_OK;
    }

    imcf->media_sweep_interval = ngx_parse_time(&value[1], 1);

    /* 0 would be a sweep without end: "off" says what it means */
    if (imcf->media_sweep_interval == (time_t) NGX_ERROR
        || imcf->media_sweep_interval == 0)
    {
        return "invalid value";
    }

    return NGX_CONF_OK;
}


/* From init_main_conf, the sweep on: the zone that keeps its schedule
 * across reloads (the same name, size and tag: nginx hands the new
 * cycle the old one's). */

ngx_int_t
ngx_http_inbox_media_sweep_zone(ngx_conf_t *cf,
    ngx_http_inbox_main_conf_t *imcf)
{
    ngx_str_t        name = ngx_string("inbox_media_sweep");
    ngx_shm_zone_t  *zone;

    zone = ngx_shared_memory_add(cf, &name, 8 * ngx_pagesize,
                                 &ngx_http_inbox_module);
    if (zone == NULL) {
        return NGX_ERROR;
    }

    zone->init = ngx_http_inbox_sweep_init_zone;
    imcf->media_sweep_zone = zone;

    return NGX_OK;
}


static ngx_int_t
ngx_http_inbox_sweep_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_slab_pool_t             *shpool;
    ngx_http_inbox_sweep_shm_t  *state;

    if (data != NULL) {
        /* a reload: the schedule as the workers before left it */
        shm_zone->data = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    state = ngx_slab_alloc(shpool, sizeof(ngx_http_inbox_sweep_shm_t));
    if (state == NULL) {
        return NGX_ERROR;
    }

    state->due = 0;
    shpool->data = state;
    shm_zone->data = state;

    return NGX_OK;
}


/* The next sweep armed delay ms from now, and said in the zone. */

static void
ngx_http_inbox_sweep_next(ngx_msec_t delay)
{
    ngx_http_inbox_sweep_shm_t  *state;

    state = ngx_http_inbox_sweep_zone->data;
    state->due = (ngx_atomic_uint_t) (ngx_time() + (delay + 999) / 1000);

    ngx_add_timer(&ngx_http_inbox_sweep_timer, delay);
}


void
ngx_http_inbox_media_sweep_start(ngx_cycle_t *cycle, ngx_thread_pool_t *tp)
{
    time_t                       now, due;
    ngx_msec_t                   first;
    ngx_event_t                 *ev;
    ngx_thread_task_t           *task;
    ngx_http_inbox_main_conf_t  *imcf;
    ngx_http_inbox_sweep_ctx_t  *ctx;
    ngx_http_inbox_sweep_shm_t  *state;

    imcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_inbox_module);

    if (tp == NULL || imcf == NULL || imcf->media_path == NULL
        || imcf->media_sweep_interval == 0 || ngx_worker != 0
        || imcf->media_sweep_zone == NULL
        || (ngx_process != NGX_PROCESS_WORKER
            && ngx_process != NGX_PROCESS_SINGLE))
    {
        return;
    }

    ngx_http_inbox_sweep_zone = imcf->media_sweep_zone;

    task = ngx_thread_task_alloc(cycle->pool,
                                 sizeof(ngx_http_inbox_sweep_ctx_t));
    if (task == NULL) {
        return;
    }

    ctx = task->ctx;

    ctx->dir = ngx_http_inbox_strdup(cycle->pool, &imcf->media_path->name);
    if (ctx->dir == NULL) {
        return;
    }

    ctx->grace = ngx_max(imcf->media_keep, NGX_HTTP_INBOX_SWEEP_GRACE_MIN);

    task->handler = ngx_http_inbox_sweep_thread;
    task->event.handler = ngx_http_inbox_sweep_done;
    ngx_http_inbox_sweep_task = task;

    ngx_http_inbox_sweep_interval =
        (ngx_msec_t) imcf->media_sweep_interval * 1000;

    ev = &ngx_http_inbox_sweep_timer;

    ev->handler = ngx_http_inbox_sweep_due;
    ev->data = tp;
    ev->log = cycle->log;

    /* a graceful shutdown does not wait for it */
    ev->cancelable = 1;

    first = ngx_min(ngx_http_inbox_sweep_interval,
                    NGX_HTTP_INBOX_SWEEP_FIRST);

    /* the schedule the workers before left, unless there is none or an
     * interval made shorter since puts it sooner */
    state = ngx_http_inbox_sweep_zone->data;
    due = (time_t) state->due;
    now = ngx_time();

    if (due == 0 || due - now > (time_t) (first / 1000)) {
        ngx_http_inbox_sweep_next(first);
        return;
    }

    ngx_add_timer(ev, due > now ? (ngx_msec_t) (due - now) * 1000 : 1);
}


/* In the event loop: the sweep, posted to the pool; the next is armed
 * once it is done. */

static void
ngx_http_inbox_sweep_due(ngx_event_t *ev)
{
    ngx_http_inbox_sweep_ctx_t  *ctx;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    ctx = ngx_http_inbox_sweep_task->ctx;
    ctx->nfailed = 0;

    /* a full queue: requests come first, the sweep a minute later */

    if (ngx_thread_task_post(ev->data, ngx_http_inbox_sweep_task)
        != NGX_OK)
    {
        ngx_http_inbox_sweep_next(ngx_min(ngx_http_inbox_sweep_interval,
                                          NGX_HTTP_INBOX_SWEEP_RETRY));
        return;
    }

    /* a reload's worker 0 does not run this one again meanwhile */
    ((ngx_http_inbox_sweep_shm_t *) ngx_http_inbox_sweep_zone->data)->due =
        (ngx_atomic_uint_t) (ngx_time()
                             + ngx_http_inbox_sweep_interval / 1000);
}


/* In a pool thread: plain C and libinbox only. */

static void
ngx_http_inbox_sweep_thread(void *data, ngx_log_t *log)
{
    ngx_http_inbox_sweep_ctx_t  *ctx = data;

    inbox_store_t  *store;

    store = ngx_http_inbox_store(&ctx->err);

    ctx->no_store = (store == NULL);

    if (store == NULL) {
        return;
    }

    ctx->status = inbox_store_media_sweep_orphans(store, ctx->dir,
                      time(NULL) - ctx->grace, 0,
                      ngx_http_inbox_sweep_unlinked, ctx, &ctx->swept,
                      &ctx->err);
}


static void
ngx_http_inbox_sweep_unlinked(const char *file, int errnum, void *data)
{
    ngx_http_inbox_sweep_ctx_t  *ctx = data;

    if (errnum == 0 || ctx->nfailed == NGX_HTTP_INBOX_SWEEP_NAMED) {
        return;
    }

    ctx->errnum[ctx->nfailed] = errnum;
    ngx_cpystrn((u_char *) ctx->failed[ctx->nfailed], (u_char *) file,
                INBOX_MEDIA_FILE_MAX);
    ctx->nfailed++;
}


/* In the event loop: what the sweep did, logged. */

static void
ngx_http_inbox_sweep_log(ngx_http_inbox_sweep_ctx_t *ctx)
{
    ngx_uint_t  i, level;

    for (i = 0; i < ctx->nfailed; i++) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, ctx->errnum[i],
                      "inbox: the media sweep could not remove \"%s/%s\", "
                      "a file no record names", ctx->dir, ctx->failed[i]);
    }

    if (ctx->swept.failed > ctx->nfailed) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "inbox: the media sweep could not remove %uz more "
                      "files of \"%s\" that no record names",
                      ctx->swept.failed - ctx->nfailed, ctx->dir);
    }

    if (ctx->status != INBOX_OK) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "inbox: the media sweep of \"%s\" stopped, %uz "
                      "files removed before: %s", ctx->dir,
                      ctx->swept.removed, ctx->err.message);
        return;
    }

    /* a sweep that found nothing is no news */
    level = ctx->swept.removed ? NGX_LOG_NOTICE : NGX_LOG_INFO;

    ngx_log_error(level, ngx_cycle->log, 0,
                  "inbox: the media sweep removed %uz files no record "
                  "names, of %uz older than %T s in \"%s\" (%uz a record "
                  "names, %uz younger left alone)",
                  ctx->swept.removed, ctx->swept.looked, ctx->grace,
                  ctx->dir, ctx->swept.kept, ctx->swept.recent);
}


/* In the event loop, after the sweep: the next armed. */

static void
ngx_http_inbox_sweep_done(ngx_event_t *ev)
{
    ngx_http_inbox_sweep_ctx_t  *ctx;

    ctx = ngx_http_inbox_sweep_task->ctx;

    /* a store the sweep could not open is logged as for any job's; the
     * next sweep is an interval later */
    ngx_http_inbox_report();

    if (!ctx->no_store) {
        ngx_http_inbox_sweep_log(ctx);
    }

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    ngx_http_inbox_sweep_next(ngx_http_inbox_sweep_interval);
}
