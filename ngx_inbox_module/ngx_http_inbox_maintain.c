
/*
 * Store housekeeping off the request path: after a batch of webhooks, at
 * most every 100 ms, a pool thread runs inbox_store_maintain (for SQLite a
 * passive checkpoint of the write-ahead log) while the next batch goes on,
 * instead of the checkpoint landing on whichever batch crosses SQLite's
 * threshold.  At most every second the same task also prunes the event
 * streams (inbox_events_keep_seconds, inbox_events_keep_count) in chunks,
 * each its own short write transaction, so a batch waits for one chunk at
 * most, and drops a chunk of the carriers' early status reports that no
 * message claimed within a day (delivery.h), one of the replies'
 * Idempotency-Keys older than a day (reply.h), and one of the uploads
 * nothing has named for inbox_media_keep_unused (media.h: never
 * sent, or dropped by a draft's edit): marked, then their files, then
 * their records, so that a worker that dies between leaves records
 * marked, which the next round finishes, never a file that no record
 * names and its URL still serves.  Uploads run it too, and so does a
 * timer in each worker once no round ran for a while, so a server that
 * takes no webhooks and no uploads (staff only replying, a quiet night)
 * still prunes its events and purges what uploads left.  A file the
 * purge cannot unlink (EACCES, EIO, EROFS...) keeps its upload marked
 * and is tried again every round; it is logged once by each worker, not
 * every round, and once more when a round removes it at last.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <inbox/clock.h>
#include <inbox/media.h>

#include "ngx_http_inbox_module.h"


/* Often enough that the log stays small and SQLite's own checkpoint, on
 * a writer's path, never comes due. */
#define NGX_HTTP_INBOX_MAINTAIN_INTERVAL  100

/* Retention: a round a second of at most 8 chunks of 500 events (a few
 * milliseconds of the write lock each) keeps up with 4,000 events a
 * second, far more than intake makes. */
#define NGX_HTTP_INBOX_PRUNE_INTERVAL     1000
#define NGX_HTTP_INBOX_PRUNE_CHUNK        500
#define NGX_HTTP_INBOX_PRUNE_CHUNKS       8

/* A round when none ran for 5 s: an idle worker's round costs SQLite a
 * few index seeks and the checkpoint of an empty log, MongoDB a handful
 * of round trips, a fifth of what a busy worker's prune does each
 * second; what it purges is kept for hours (24 h by default), so seconds
 * late is on time. */
#define NGX_HTTP_INBOX_IDLE_INTERVAL      5000


/* An unlink of the purge that failed (errnum), or, errnum 0, one of a
 * file logged so that a round removed at last. */
typedef struct {
    int                      errnum;
    char                     file[INBOX_MEDIA_FILE_MAX];
} ngx_http_inbox_unlink_news_t;


typedef struct {
    ngx_uint_t               prune;     /* this round prunes too */
    inbox_event_retention_t  keep;
    int64_t                  media_keep_ms;
    char                    *media_dir;
    char                     files[INBOX_MEDIA_PURGE_MAX]
                                  [INBOX_MEDIA_FILE_MAX];

    /* the round's news for the event loop to log: at most a round's
     * files, each failed or removed */
    ngx_uint_t               nnews;
    ngx_http_inbox_unlink_news_t  news[INBOX_MEDIA_PURGE_MAX];

    /* the files whose failure was logged, "" for none: a ring, as many
     * as a round tries, so those a round keeps failing stay in it */
    ngx_uint_t               nlogged;
    ngx_uint_t               logged_next;
    char                     logged[INBOX_MEDIA_PURGE_MAX]
                                   [INBOX_MEDIA_FILE_MAX];
} ngx_http_inbox_maintain_ctx_t;


static void ngx_http_inbox_maintain_thread(void *data, ngx_log_t *log);
static void ngx_http_inbox_maintain_unlink_failed(const char *file,
    int errnum, void *data);
static void ngx_http_inbox_maintain_removed(
    ngx_http_inbox_maintain_ctx_t *ctx, size_t removed);
static ngx_int_t ngx_http_inbox_maintain_logged(
    ngx_http_inbox_maintain_ctx_t *ctx, const char *file);
static void ngx_http_inbox_maintain_done(ngx_event_t *ev);
static void ngx_http_inbox_maintain_idle(ngx_event_t *ev);


/* Per worker. */
static ngx_thread_task_t  *ngx_http_inbox_maintain_task;
static ngx_msec_t          ngx_http_inbox_maintain_last;
static ngx_msec_t          ngx_http_inbox_prune_last;
static ngx_uint_t          ngx_http_inbox_maintain_running;
static ngx_event_t         ngx_http_inbox_maintain_timer;


void
ngx_http_inbox_maintain_start(ngx_cycle_t *cycle, ngx_thread_pool_t *tp)
{
    ngx_event_t  *ev;

    /* only where the thread pools run: not in the cache's helpers */

    if (tp == NULL
        || (ngx_process != NGX_PROCESS_WORKER
            && ngx_process != NGX_PROCESS_SINGLE))
    {
        return;
    }

    ev = &ngx_http_inbox_maintain_timer;

    ev->handler = ngx_http_inbox_maintain_idle;
    ev->data = tp;
    ev->log = cycle->log;

    /* a graceful shutdown does not wait for it */
    ev->cancelable = 1;

    ngx_add_timer(ev, NGX_HTTP_INBOX_IDLE_INTERVAL);
}


void
ngx_http_inbox_maintain_after_write(ngx_thread_pool_t *tp)
{
    ngx_thread_task_t              *task;
    ngx_http_inbox_main_conf_t     *imcf;
    ngx_http_inbox_maintain_ctx_t  *ctx;

    if (ngx_http_inbox_maintain_running
        || ngx_current_msec - ngx_http_inbox_maintain_last
           < NGX_HTTP_INBOX_MAINTAIN_INTERVAL)
    {
        return;
    }

    task = ngx_http_inbox_maintain_task;

    if (task == NULL) {
        task = ngx_thread_task_alloc(ngx_cycle->pool,
                                     sizeof(ngx_http_inbox_maintain_ctx_t));
        if (task == NULL) {
            return;
        }

        imcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                                   ngx_http_inbox_module);
        ctx = task->ctx;

        ctx->media_dir = ngx_http_inbox_strdup(ngx_cycle->pool,
                                               &imcf->media_path->name);
        if (ctx->media_dir == NULL) {
            return;
        }

        task->handler = ngx_http_inbox_maintain_thread;
        task->event.handler = ngx_http_inbox_maintain_done;
        ngx_http_inbox_maintain_task = task;
    }

    ctx = task->ctx;
    imcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_inbox_module);

    ctx->prune = ngx_current_msec - ngx_http_inbox_prune_last
                 >= NGX_HTTP_INBOX_PRUNE_INTERVAL;
    ctx->keep.keep_ms = (int64_t) imcf->events_keep_seconds * 1000;
    ctx->keep.keep_count = imcf->events_keep_count;
    ctx->media_keep_ms = (int64_t) imcf->media_keep * 1000;

    ngx_http_inbox_maintain_last = ngx_current_msec;

    if (ctx->prune) {
        ngx_http_inbox_prune_last = ngx_current_msec;
    }

    /* a full queue skips this round: requests come first */

    if (ngx_thread_task_post(tp, task) == NGX_OK) {
        ngx_http_inbox_maintain_running = 1;
    }
}


/* In a pool thread: plain C and libinbox only. */

static void
ngx_http_inbox_maintain_thread(void *data, ngx_log_t *log)
{
    ngx_http_inbox_maintain_ctx_t  *ctx = data;

    size_t          removed;
    int64_t         now;
    ngx_uint_t      i;
    inbox_error_t   err;
    inbox_store_t  *store;

    store = ngx_http_inbox_store(&err);

    if (store == NULL) {
        return;
    }

    (void) inbox_store_maintain(store, &err);

    if (!ctx->prune) {
        return;
    }

    now = inbox_now_ms();

    (void) inbox_store_early_reports_purge(store, now,
                                           NGX_HTTP_INBOX_PRUNE_CHUNK,
                                           &removed, &err);
    (void) inbox_store_reply_keys_purge(store, now,
                                        NGX_HTTP_INBOX_PRUNE_CHUNK,
                                        &removed, &err);

    ctx->nnews = 0;

    if (inbox_store_media_purge_reporting(store, now, ctx->media_keep_ms,
                                          INBOX_MEDIA_PURGE_MAX,
                                          ctx->media_dir, ctx->files,
                                          &removed,
                                          ngx_http_inbox_maintain_unlink_failed,
                                          ctx, &err)
        == INBOX_OK)
    {
        ngx_http_inbox_maintain_removed(ctx, removed);
    }

    for (i = 0; i < NGX_HTTP_INBOX_PRUNE_CHUNKS; i++) {
        if (inbox_store_events_prune(store, now, &ctx->keep,
                                     NGX_HTTP_INBOX_PRUNE_CHUNK, &removed,
                                     &err)
            != INBOX_OK
            || removed < NGX_HTTP_INBOX_PRUNE_CHUNK)
        {
            break;
        }
    }
}


/* In the pool thread: a file whose unlink failed is news the first time
 * only. */

static void
ngx_http_inbox_maintain_unlink_failed(const char *file, int errnum,
    void *data)
{
    ngx_http_inbox_maintain_ctx_t  *ctx = data;

    char  *slot;

    if (ngx_http_inbox_maintain_logged(ctx, file) != NGX_DECLINED
        || ctx->nnews == INBOX_MEDIA_PURGE_MAX)
    {
        return;
    }

    slot = ctx->logged[ctx->logged_next];

    if (slot[0] == '\0') {
        ctx->nlogged++;
    }

    ngx_cpystrn((u_char *) slot, (u_char *) file, INBOX_MEDIA_FILE_MAX);
    ctx->logged_next = (ctx->logged_next + 1) % INBOX_MEDIA_PURGE_MAX;

    ctx->news[ctx->nnews].errnum = errnum;
    ngx_cpystrn((u_char *) ctx->news[ctx->nnews].file, (u_char *) file,
                INBOX_MEDIA_FILE_MAX);
    ctx->nnews++;
}


/* In the pool thread: of the files the purge removed, those logged as
 * failing are news again, and leave the ring. */

static void
ngx_http_inbox_maintain_removed(ngx_http_inbox_maintain_ctx_t *ctx,
    size_t removed)
{
    size_t     i;
    ngx_int_t  slot;

    for (i = 0; i < removed && ctx->nlogged > 0; i++) {
        slot = ngx_http_inbox_maintain_logged(ctx, ctx->files[i]);

        if (slot == NGX_DECLINED || ctx->nnews == INBOX_MEDIA_PURGE_MAX) {
            continue;
        }

        ctx->logged[slot][0] = '\0';
        ctx->nlogged--;

        ctx->news[ctx->nnews].errnum = 0;
        ngx_cpystrn((u_char *) ctx->news[ctx->nnews].file,
                    (u_char *) ctx->files[i], INBOX_MEDIA_FILE_MAX);
        ctx->nnews++;
    }
}


/* The slot of the ring that holds file, or NGX_DECLINED. */

static ngx_int_t
ngx_http_inbox_maintain_logged(ngx_http_inbox_maintain_ctx_t *ctx,
    const char *file)
{
    ngx_uint_t  i;

    if (ctx->nlogged == 0) {
        return NGX_DECLINED;
    }

    for (i = 0; i < INBOX_MEDIA_PURGE_MAX; i++) {
        if (ngx_strcmp(ctx->logged[i], file) == 0) {
            return i;
        }
    }

    return NGX_DECLINED;
}


static void
ngx_http_inbox_maintain_done(ngx_event_t *ev)
{
    ngx_uint_t                      i;
    ngx_http_inbox_unlink_news_t   *news;
    ngx_http_inbox_maintain_ctx_t  *ctx;

    ngx_http_inbox_maintain_running = 0;

    ctx = ngx_http_inbox_maintain_task->ctx;

    for (i = 0; i < ctx->nnews; i++) {
        news = &ctx->news[i];

        if (news->errnum != 0) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, news->errnum,
                          "inbox: the media file \"%s/%s\" of an unused "
                          "upload could not be removed; its upload stays "
                          "marked and every round tries it again (logged "
                          "once)", ctx->media_dir, news->file);

        } else {
            ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                          "inbox: the media file \"%s/%s\" of an unused "
                          "upload is removed at last", ctx->media_dir,
                          news->file);
        }
    }

    ctx->nnews = 0;

    /* a store the round could not open is logged now, not at the next
     * request's job: an idle worker's round may be the only one */
    ngx_http_inbox_report();
}


/* In the event loop: the round, unless one ran in the last interval (the
 * round's own limits apply); then again an interval after the last. */

static void
ngx_http_inbox_maintain_idle(ngx_event_t *ev)
{
    ngx_msec_t  quiet;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    quiet = ngx_current_msec - ngx_http_inbox_maintain_last;

    if (quiet >= NGX_HTTP_INBOX_IDLE_INTERVAL) {
        ngx_http_inbox_maintain_after_write(ev->data);
        quiet = 0;
    }

    ngx_add_timer(ev, NGX_HTTP_INBOX_IDLE_INTERVAL - quiet);
}
