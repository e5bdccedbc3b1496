
/*
 * The inbox nginx module: configuration and what every worker process
 * shares with its pool threads (the store, the events sockets of the
 * ws-server processes, the sender's wake-up socket, the ticket secret).
 */


#ifndef _NGX_HTTP_INBOX_MODULE_H_INCLUDED_
#define _NGX_HTTP_INBOX_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <inbox/error.h>
#include <inbox/event.h>
#include <inbox/store.h>

#include "ngx_http_inbox_limit.h"


typedef struct {
    ngx_str_t            store;             /* inbox_store URI, NUL ended */
    ngx_array_t         *events_sockets;    /* of ngx_str_t, NUL ended;
                                               NULL: nothing is pushed */
    ngx_str_t            sender_socket;     /* "" when nothing is sent */
    ngx_str_t            realtime_secret;   /* path of the secret file */
    ngx_uint_t           batch_size;
    ngx_http_inbox_limit_t  ticket_limit;   /* per API token or session */
    ngx_http_inbox_limit_t  login_limit;    /* per email address */
    ngx_http_inbox_limit_t  login_address_limit;  /* per client address */
    ngx_http_inbox_limit_t  upload_limit;   /* MB per API token or
                                               session */
    ngx_flag_t           used;              /* some location has a handler */
    ngx_thread_pool_t   *thread_pool;       /* the first such location's:
                                               the idle maintenance's */
    ngx_path_t          *media_path;        /* inbox_media_dir */
    time_t               events_keep_seconds;  /* inbox_events_keep_... */
    ngx_int_t            events_keep_count;
    time_t               media_keep;        /* inbox_media_keep_unused */
    time_t               media_sweep_interval;  /* 0: off */
    ngx_shm_zone_t      *media_sweep_zone;  /* when the next sweep is due */
} ngx_http_inbox_main_conf_t;


typedef struct {
    ngx_thread_pool_t   *thread_pool;
    ngx_str_t            public_url;        /* no trailing "/"; may be "" */
    ngx_str_t            realtime_url;      /* may be "" */
    ngx_str_t            default_country;   /* NUL ended */
    size_t               max_body;
    ngx_flag_t           handler;           /* this location answers */
} ngx_http_inbox_loc_conf_t;


/*
 * The worker's store, opened in init_process (or again, at most once a
 * second, when that failed).  Safe to call from pool threads; NULL with
 * err set (INBOX_ERR_UNAVAILABLE) when it cannot be opened.
 */
inbox_store_t *ngx_http_inbox_store(inbox_error_t *err);
/* When the store is not open: why its last open failed, into err (left
 * as it is when none did), for /healthz; err's message then names paths
 * and causes, which the API and webhooks do not show. */
void ngx_http_inbox_store_failure(inbox_error_t *err);
/* In the event loop, after a pool thread's work: logs what the threads
 * left to log (a failed open of the store, events shed, a sender that
 * does not listen), each rate-limited. */
void ngx_http_inbox_report(void);

/*
 * The scheme, host and port clients and carriers use to reach us, without
 * a trailing "/": inbox_public_url, else the request's scheme (or
 * X-Forwarded-Proto) and Host.  base->data is allocated from r->pool.
 */
ngx_int_t ngx_http_inbox_public_base(ngx_http_request_t *r, ngx_str_t *base);

/* A NUL-terminated copy of s from the pool, or NULL. */
char *ngx_http_inbox_strdup(ngx_pool_t *pool, ngx_str_t *s);

/* The first request header called name, or NULL. */
ngx_table_elt_t *ngx_http_inbox_header(ngx_http_request_t *r,
    const char *name);

/* Realtime (ngx_http_inbox_realtime.c): the events sockets (one per
 * ws-server process) and the ticket secret, set up in init_process and
 * torn down in exit_process. */
ngx_int_t ngx_http_inbox_events_open(ngx_cycle_t *cycle,
    ngx_array_t *paths);
void ngx_http_inbox_events_close(void);
/* Hands events to every ws-server (inbox_events_publish_each), waiting a
 * bounded time for room; a missing ws-server is not an error, what is
 * shed is counted.  Safe to call from pool threads. */
void ngx_http_inbox_events_send(const inbox_event_list_t *events);
/* In the event loop, after a pool thread's work: logs what was shed (at
 * most a line a second per ws-server). */
void ngx_http_inbox_events_report(void);
ngx_int_t ngx_http_inbox_secret_load(ngx_cycle_t *cycle, ngx_str_t *path);
/* For nginx -t: the secret file at path (absolute, NUL-terminated) can be
 * read and is long enough, else an emerg saying why and NGX_ERROR. */
ngx_int_t ngx_http_inbox_secret_check(ngx_conf_t *cf, ngx_str_t *path);
void ngx_http_inbox_secret_clear(void);

/* The sender (ngx_http_inbox_sender.c): wakes the sender process when
 * something waits for a carrier (a queued reply, inbound media to copy);
 * never waits, safe to call from pool threads, and a missing sender is
 * not an error (it looks at the outbox when it starts), only logged. */
ngx_int_t ngx_http_inbox_sender_open(ngx_cycle_t *cycle, ngx_str_t *path);
void ngx_http_inbox_sender_close(void);
void ngx_http_inbox_sender_wake(void);
/* The same, as org_id's quiet hours or a zone moved (a settings edit, a
 * contact's zone, an import with zones): what the sender holds of that
 * organization's campaigns is looked at again.  Waits a little for room
 * (pool threads only); one that found none is counted and logged. */
void ngx_http_inbox_sender_wake_quiet(const char *org_id);
/* In the event loop: a warning, at most once a minute, when wake-ups
 * found nobody listening at the sender's socket. */
void ngx_http_inbox_sender_report(void);
/* In a stored inbound batch's pool thread, after its commit: wakes the
 * sender when a new message left it something to do (a keyword's answer,
 * which ingest queued with the message, or images to copy). */
void ngx_http_inbox_inbound_stored(const inbox_inbound_t *msgs,
    const inbox_ingest_result_t *results, ngx_uint_t n);

/* After a batch or an upload is stored: housekeeping in a pool thread,
 * at most every 100 ms, purges at most once a second
 * (ngx_http_inbox_maintain.c). */
void ngx_http_inbox_maintain_after_write(ngx_thread_pool_t *tp);
/* In init_process: a timer that runs the same round in tp when no write
 * did for a while, so that an idle worker still prunes and purges; none
 * outside worker processes, nor once the worker is shutting down. */
void ngx_http_inbox_maintain_start(ngx_cycle_t *cycle,
    ngx_thread_pool_t *tp);

/* inbox_media_sweep_interval: how often nginx sweeps the media
 * directory's orphans (ngx_http_inbox_media_sweep.c); its default. */
#define NGX_HTTP_INBOX_MEDIA_SWEEP_INTERVAL  (6 * 60 * 60)
char *ngx_http_inbox_media_sweep_interval(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
/* In init_main_conf, the sweep on: the shared zone that keeps when the
 * next sweep is due across reloads. */
ngx_int_t ngx_http_inbox_media_sweep_zone(ngx_conf_t *cf,
    ngx_http_inbox_main_conf_t *imcf);
/* In init_process: worker 0's timer that sweeps them in tp; none when
 * off, nor outside worker processes. */
void ngx_http_inbox_media_sweep_start(ngx_cycle_t *cycle,
    ngx_thread_pool_t *tp);

/* Content handlers. */
ngx_int_t ngx_http_inbox_twilio_inbound_handler(ngx_http_request_t *r);
/* carrier webhooks: delivery reports, Telnyx */
ngx_int_t ngx_http_inbox_twilio_status_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_inbox_telnyx_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_inbox_api_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_inbox_health_handler(ngx_http_request_t *r);

/* media (ngx_http_inbox_media.c) */
/* The inbox_media_dir directive's default, below nginx's prefix. */
#define NGX_HTTP_INBOX_MEDIA_DIR  "media"
/* Adds $inbox_media_dir (preconfiguration). */
ngx_int_t ngx_http_inbox_media_variables(ngx_conf_t *cf);

/* The inbox_error_page directive: nginx's own errors as the contract's
 * JSON (ngx_http_inbox_error_page.c). */
char *ngx_http_inbox_error_page(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


extern ngx_module_t  ngx_http_inbox_module;


#endif /* _NGX_HTTP_INBOX_MODULE_H_INCLUDED_ */
