
/*
 * The inbox module: directives, configuration, and what each worker opens
 * for its pool threads (the store, the events sockets of the ws-server
 * processes, the sender's wake-up socket, the ticket secret).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <pthread.h>
#include <sys/un.h>
#include <inbox/build.h>
#include <inbox/phone.h>

#include "ngx_http_inbox_module.h"
#include "ngx_http_inbox_batch.h"
#include "ngx_http_inbox_limit.h"


#define NGX_HTTP_INBOX_BATCH_MAX  4096

/*
 * The rate limits' defaults, as docs/directives.md states them:
 *   inbox_ticket_rate 60r/m burst=20;
 *   inbox_login_rate 1r/m burst=10 delay=3;
 *   inbox_login_address_rate 10r/m burst=30 delay=10;
 *   inbox_upload_rate 2r/m burst=50 (megabytes).
 * A limit without a delay answers its whole burst at once: its delay is
 * its burst.
 */
#define NGX_HTTP_INBOX_TICKET_PER_MINUTE         60
#define NGX_HTTP_INBOX_TICKET_BURST              20
#define NGX_HTTP_INBOX_LOGIN_PER_MINUTE          1
#define NGX_HTTP_INBOX_LOGIN_BURST               10
#define NGX_HTTP_INBOX_LOGIN_DELAY               3
#define NGX_HTTP_INBOX_LOGIN_ADDRESS_PER_MINUTE  10
#define NGX_HTTP_INBOX_LOGIN_ADDRESS_BURST       30
#define NGX_HTTP_INBOX_LOGIN_ADDRESS_DELAY       10
#define NGX_HTTP_INBOX_UPLOAD_PER_MINUTE         2
#define NGX_HTTP_INBOX_UPLOAD_BURST              50


static ngx_int_t ngx_http_inbox_init_process(ngx_cycle_t *cycle);
static void ngx_http_inbox_exit_process(ngx_cycle_t *cycle);
static void *ngx_http_inbox_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_inbox_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_inbox_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_inbox_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static void ngx_http_inbox_store_report(void);
static char *ngx_http_inbox_store_uri(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_inbox_thread_pool(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_inbox_url(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_inbox_socket_path(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_inbox_events_socket(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_inbox_socket_path_check(ngx_conf_t *cf,
    ngx_str_t *path);
static char *ngx_http_inbox_realtime_secret(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_inbox_country(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_inbox_handler(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


static ngx_conf_num_bounds_t  ngx_http_inbox_batch_bounds = {
    ngx_conf_check_num_bounds, 1, NGX_HTTP_INBOX_BATCH_MAX
};


/* inbox_media_keep_unused's first name, from before a draft's edit could
 * leave an upload unused: still taken, with a warning naming the new */
static ngx_conf_deprecated_t  ngx_http_inbox_media_keep_unattached = {
    ngx_conf_deprecated, "inbox_media_keep_unattached",
    "inbox_media_keep_unused"
};


static ngx_command_t  ngx_http_inbox_commands[] = {

    { ngx_string("inbox_store"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_inbox_store_uri,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_inbox_main_conf_t, store),
      NULL },

    { ngx_string("inbox_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_inbox_thread_pool,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("inbox_public_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_inbox_url,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_inbox_loc_conf_t, public_url),
      NULL },

    { ngx_string("inbox_events_socket"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_inbox_events_socket,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("inbox_sender_socket"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_inbox_socket_path,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_inbox_main_conf_t, sender_socket),
      NULL },

    { ngx_string("inbox_realtime_secret"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_inbox_realtime_secret,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_inbox_main_conf_t, realtime_secret),
      NULL },

    { ngx_string("inbox_realtime_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_inbox_url,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_inbox_loc_conf_t, realtime_url),
      NULL },

    { ngx_string("inbox_ticket_rate"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE123,
      ngx_http_inbox_limit_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_inbox_main_conf_t, ticket_limit),
      NULL },

    { ngx_string("inbox_login_rate"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1234,
      ngx_http_inbox_limit_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_inbox_main_conf_t, login_limit),
      NULL },

    { ngx_string("inbox_login_address_rate"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1234,
      ngx_http_inbox_limit_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_inbox_main_conf_t, login_address_limit),
      NULL },

    { ngx_string("inbox_upload_rate"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE123,
      ngx_http_inbox_limit_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_inbox_main_conf_t, upload_limit),
      NULL },

    { ngx_string("inbox_default_country"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_inbox_country,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_inbox_loc_conf_t, default_country),
      NULL },

    { ngx_string("inbox_batch_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_inbox_main_conf_t, batch_size),
      &ngx_http_inbox_batch_bounds },

    { ngx_string("inbox_events_keep_seconds"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_inbox_main_conf_t, events_keep_seconds),
      NULL },

    { ngx_string("inbox_events_keep_count"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_inbox_main_conf_t, events_keep_count),
      NULL },

    { ngx_string("inbox_max_body"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_inbox_loc_conf_t, max_body),
      NULL },

    { ngx_string("inbox_twilio_inbound"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_inbox_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      ngx_http_inbox_twilio_inbound_handler },

    /* carrier webhooks: delivery reports, Telnyx */
    { ngx_string("inbox_twilio_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_inbox_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      ngx_http_inbox_twilio_status_handler },

    { ngx_string("inbox_telnyx"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_inbox_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      ngx_http_inbox_telnyx_handler },

    { ngx_string("inbox_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_inbox_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      ngx_http_inbox_api_handler },

    { ngx_string("inbox_health"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_inbox_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      ngx_http_inbox_health_handler },

    { ngx_string("inbox_media_dir"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_path_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_inbox_main_conf_t, media_path),
      NULL },

    { ngx_string("inbox_media_keep_unused"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_inbox_main_conf_t, media_keep),
      NULL },

    { ngx_string("inbox_media_sweep_interval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_inbox_media_sweep_interval,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("inbox_media_keep_unattached"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_inbox_main_conf_t, media_keep),
      &ngx_http_inbox_media_keep_unattached },

    { ngx_string("inbox_error_page"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_inbox_error_page,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_inbox_module_ctx = {
    ngx_http_inbox_media_variables,        /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_inbox_create_main_conf,       /* create main configuration */
    ngx_http_inbox_init_main_conf,         /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_inbox_create_loc_conf,        /* create location configuration */
    ngx_http_inbox_merge_loc_conf          /* merge location configuration */
};


ngx_module_t  ngx_http_inbox_module = {
    NGX_MODULE_V1,
    &ngx_http_inbox_module_ctx,            /* module context */
    ngx_http_inbox_commands,               /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_inbox_init_process,           /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_inbox_exit_process,           /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/*
 * The worker's store.  Pool threads share it (the backends keep what must
 * not be shared per thread); the mutex guards only opening it again, and
 * why the last open failed: /healthz answers with it, and the event loop
 * logs it (ngx_http_inbox_report), once a minute at most while it stays
 * the same.
 */

#define NGX_HTTP_INBOX_STORE_LOG_EVERY  60

static struct {
    pthread_mutex_t   mutex;
    inbox_store_t    *store;
    const char       *uri;           /* NULL when not configured */
    char              uri_shown[INBOX_STORE_URI_LOG_MAX];  /* logged */
    time_t            last_try;
    inbox_error_t     error;         /* the last failed open's; "" if none */
    ngx_uint_t        failed;        /* opens failed since the last report */
    char              logged[INBOX_ERROR_MESSAGE_MAX];
    time_t            logged_at;
} ngx_http_inbox_worker = { .mutex = PTHREAD_MUTEX_INITIALIZER };


static ngx_int_t
ngx_http_inbox_init_process(ngx_cycle_t *cycle)
{
    char                         expected[64], schema[64];
    inbox_error_t                err;
    ngx_http_inbox_main_conf_t  *imcf;

    imcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_inbox_module);

    if (imcf == NULL || !imcf->used) {
        return NGX_OK;
    }

    if (ngx_http_inbox_batch_init(cycle, imcf->batch_size) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_inbox_worker.uri = (char *) imcf->store.data;
    inbox_store_uri_redacted(ngx_http_inbox_worker.uri,
                             ngx_http_inbox_worker.uri_shown,
                             INBOX_STORE_URI_LOG_MAX);
    ngx_http_inbox_worker.last_try = ngx_time();
    ngx_http_inbox_worker.store = inbox_store_open(ngx_http_inbox_worker.uri,
                                                   &err);

    if (ngx_http_inbox_worker.store == NULL) {
        /* answered 503 until it opens: a store may come back */
        ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                      "inbox: cannot open the store \"%s\": %s",
                      ngx_http_inbox_worker.uri_shown, err.message);

        ngx_http_inbox_worker.error = err;
        ngx_cpystrn((u_char *) ngx_http_inbox_worker.logged,
                    (u_char *) err.message, INBOX_ERROR_MESSAGE_MAX);
        ngx_http_inbox_worker.logged_at = ngx_time();
    }

    /* a reload keeps the module the master loaded first (README.md,
     * "Upgrading"): a worker on an old build shows here */
    ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                  "inbox: worker started: build %s (%s); store \"%s\" %s%s",
                  inbox_build(),
                  inbox_store_schema_expected(expected, sizeof(expected)),
                  ngx_http_inbox_worker.uri_shown,
                  ngx_http_inbox_worker.store ? "is at " : "not open",
                  ngx_http_inbox_worker.store
                  ? inbox_store_schema(ngx_http_inbox_worker.store, schema,
                                       sizeof(schema))
                  : "");

    if (imcf->events_sockets
        && ngx_http_inbox_events_open(cycle, imcf->events_sockets)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (imcf->sender_socket.len
        && ngx_http_inbox_sender_open(cycle, &imcf->sender_socket) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (imcf->realtime_secret.len) {
        (void) ngx_http_inbox_secret_load(cycle, &imcf->realtime_secret);
    }

    ngx_http_inbox_maintain_start(cycle, imcf->thread_pool);
    ngx_http_inbox_media_sweep_start(cycle, imcf->thread_pool);

    return NGX_OK;
}


static void
ngx_http_inbox_exit_process(ngx_cycle_t *cycle)
{
    /* the thread pools have stopped by now: they exit first */

    if (ngx_http_inbox_worker.store) {
        inbox_store_close(ngx_http_inbox_worker.store);
        ngx_http_inbox_worker.store = NULL;
    }

    ngx_http_inbox_events_close();
    ngx_http_inbox_sender_close();
    ngx_http_inbox_secret_clear();
}


inbox_store_t *
ngx_http_inbox_store(inbox_error_t *err)
{
    time_t          now;
    inbox_store_t  *store;

    pthread_mutex_lock(&ngx_http_inbox_worker.mutex);

    store = ngx_http_inbox_worker.store;

    if (store == NULL && ngx_http_inbox_worker.uri) {
        now = time(NULL);

        if (now != ngx_http_inbox_worker.last_try) {
            ngx_http_inbox_worker.last_try = now;
            store = inbox_store_open(ngx_http_inbox_worker.uri, err);
            ngx_http_inbox_worker.store = store;

            if (store == NULL) {
                ngx_http_inbox_worker.error = *err;
                __atomic_add_fetch(&ngx_http_inbox_worker.failed, 1,
                                   __ATOMIC_RELAXED);

            } else {
                /* a failure after this one is news again */
                ngx_http_inbox_worker.error.message[0] = '\0';
                ngx_http_inbox_worker.logged[0] = '\0';
            }
        }
    }

    pthread_mutex_unlock(&ngx_http_inbox_worker.mutex);

    if (store == NULL) {
        inbox_error_set(err, INBOX_ERR_UNAVAILABLE,
                        "The store cannot be reached; try again later.");
    }

    return store;
}


void
ngx_http_inbox_store_failure(inbox_error_t *err)
{
    pthread_mutex_lock(&ngx_http_inbox_worker.mutex);

    if (ngx_http_inbox_worker.store == NULL
        && ngx_http_inbox_worker.error.message[0] != '\0')
    {
        *err = ngx_http_inbox_worker.error;
        err->code = INBOX_ERR_UNAVAILABLE;
    }

    pthread_mutex_unlock(&ngx_http_inbox_worker.mutex);
}


/* In the event loop, after pool threads' work: what they left to log. */

void
ngx_http_inbox_report(void)
{
    ngx_http_inbox_store_report();
    ngx_http_inbox_events_report();
    ngx_http_inbox_sender_report();
}


static void
ngx_http_inbox_store_report(void)
{
    char    message[INBOX_ERROR_MESSAGE_MAX];
    time_t  now;

    /* after every pool job: nothing to lock for while the store opens */
    if (__atomic_load_n(&ngx_http_inbox_worker.failed, __ATOMIC_RELAXED)
        == 0)
    {
        return;
    }

    now = ngx_time();
    message[0] = '\0';

    pthread_mutex_lock(&ngx_http_inbox_worker.mutex);

    if (ngx_http_inbox_worker.failed) {
        ngx_http_inbox_worker.failed = 0;

        if (ngx_strcmp(ngx_http_inbox_worker.error.message,
                       ngx_http_inbox_worker.logged)
            != 0
            || now - ngx_http_inbox_worker.logged_at
               >= NGX_HTTP_INBOX_STORE_LOG_EVERY)
        {
            ngx_cpystrn((u_char *) message,
                        (u_char *) ngx_http_inbox_worker.error.message,
                        INBOX_ERROR_MESSAGE_MAX);
            ngx_memcpy(ngx_http_inbox_worker.logged, message,
                       INBOX_ERROR_MESSAGE_MAX);
            ngx_http_inbox_worker.logged_at = now;
        }
    }

    pthread_mutex_unlock(&ngx_http_inbox_worker.mutex);

    if (message[0] != '\0') {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "inbox: cannot open the store \"%s\": %s",
                      ngx_http_inbox_worker.uri_shown, message);
    }
}


ngx_int_t
ngx_http_inbox_public_base(ngx_http_request_t *r, ngx_str_t *base)
{
    u_char                     *p;
    ngx_str_t                   scheme, host;
    ngx_table_elt_t            *proto;
    ngx_http_inbox_loc_conf_t  *ilcf;

    ilcf = ngx_http_get_module_loc_conf(r, ngx_http_inbox_module);

    if (ilcf->public_url.len) {
        *base = ilcf->public_url;
        return NGX_OK;
    }

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        ngx_str_set(&scheme, "https");

    } else
#endif
    {
        ngx_str_set(&scheme, "http");
    }

    proto = ngx_http_inbox_header(r, "X-Forwarded-Proto");

    if (proto) {
        if (proto->value.len == 5
            && ngx_strncasecmp(proto->value.data, (u_char *) "https", 5) == 0)
        {
            ngx_str_set(&scheme, "https");

        } else if (proto->value.len == 4
                   && ngx_strncasecmp(proto->value.data, (u_char *) "http", 4)
                      == 0)
        {
            ngx_str_set(&scheme, "http");
        }
    }

    if (r->headers_in.host) {
        host = r->headers_in.host->value;

    } else {
        host = r->headers_in.server;
    }

    base->len = scheme.len + sizeof("://") - 1 + host.len;

    p = ngx_pnalloc(r->pool, base->len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    base->data = p;

    p = ngx_cpymem(p, scheme.data, scheme.len);
    p = ngx_cpymem(p, "://", sizeof("://") - 1);
    ngx_memcpy(p, host.data, host.len);

    return NGX_OK;
}


char *
ngx_http_inbox_strdup(ngx_pool_t *pool, ngx_str_t *s)
{
    u_char  *p;

    p = ngx_pnalloc(pool, s->len + 1);
    if (p == NULL) {
        return NULL;
    }

    *ngx_cpymem(p, s->data, s->len) = '\0';

    return (char *) p;
}


ngx_table_elt_t *
ngx_http_inbox_header(ngx_http_request_t *r, const char *name)
{
    size_t            len;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    len = ngx_strlen(name);
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i];
        }
    }
}


static void *
ngx_http_inbox_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_inbox_main_conf_t  *imcf;

    imcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_inbox_main_conf_t));
    if (imcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     imcf->store = { 0, NULL };
     *     imcf->events_sockets = NULL;
     *     imcf->sender_socket = { 0, NULL };
     *     imcf->realtime_secret = { 0, NULL };
     *     imcf->ticket_limit.zone = NULL;
     *     imcf->login_limit.zone = NULL;
     *     imcf->login_address_limit.zone = NULL;
     *     imcf->upload_limit.zone = NULL;
     *     imcf->used = 0;
     *     imcf->thread_pool = NULL;
     *     imcf->media_path = NULL;
     */

    imcf->batch_size = NGX_CONF_UNSET_UINT;
    imcf->events_keep_seconds = NGX_CONF_UNSET;
    imcf->events_keep_count = NGX_CONF_UNSET;
    imcf->media_keep = NGX_CONF_UNSET;
    imcf->media_sweep_interval = NGX_CONF_UNSET;
    imcf->ticket_limit.rate = NGX_CONF_UNSET_UINT;
    imcf->login_limit.rate = NGX_CONF_UNSET_UINT;
    imcf->login_address_limit.rate = NGX_CONF_UNSET_UINT;
    imcf->upload_limit.rate = NGX_CONF_UNSET_UINT;

    return imcf;
}


static char *
ngx_http_inbox_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_inbox_main_conf_t  *imcf = conf;

    ngx_conf_init_uint_value(imcf->batch_size, 64);
    ngx_conf_init_value(imcf->events_keep_seconds,
                        INBOX_EVENTS_KEEP_MS_DEFAULT / 1000);
    ngx_conf_init_value(imcf->events_keep_count,
                        INBOX_EVENTS_KEEP_COUNT_DEFAULT);
    ngx_conf_init_value(imcf->media_keep,
                        INBOX_MEDIA_KEEP_UNUSED_MS / 1000);
    ngx_conf_init_value(imcf->media_sweep_interval,
                        NGX_HTTP_INBOX_MEDIA_SWEEP_INTERVAL);

    if (imcf->used && imcf->store.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"inbox_store\" is required where inbox "
                           "handlers are used");
        return NGX_CONF_ERROR;
    }

    /* made by nginx at start, like its temporary directories, for its
     * workers' user: the media uploads and copies are written into */

    if (imcf->used) {
        if (imcf->media_path == NULL) {
            imcf->media_path = ngx_pcalloc(cf->pool, sizeof(ngx_path_t));
            if (imcf->media_path == NULL) {
                return NGX_CONF_ERROR;
            }

            ngx_str_set(&imcf->media_path->name, NGX_HTTP_INBOX_MEDIA_DIR);

            if (ngx_conf_full_name(cf->cycle, &imcf->media_path->name, 0)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }
        }

        if (ngx_add_path(cf, &imcf->media_path) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        if (imcf->media_sweep_interval != 0
            && ngx_http_inbox_media_sweep_zone(cf, imcf) != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    /* the rate limits not configured take their defaults (above) */
    if (ngx_http_inbox_limit_init(cf, &imcf->ticket_limit,
                                  "inbox_ticket_rate", imcf->used,
                                  NGX_HTTP_INBOX_TICKET_PER_MINUTE,
                                  NGX_HTTP_INBOX_TICKET_BURST,
                                  NGX_HTTP_INBOX_TICKET_BURST)
        != NGX_OK
        || ngx_http_inbox_limit_init(cf, &imcf->login_limit,
                                     "inbox_login_rate", imcf->used,
                                     NGX_HTTP_INBOX_LOGIN_PER_MINUTE,
                                     NGX_HTTP_INBOX_LOGIN_BURST,
                                     NGX_HTTP_INBOX_LOGIN_DELAY)
           != NGX_OK
        || ngx_http_inbox_limit_init(cf, &imcf->login_address_limit,
                                     "inbox_login_address_rate", imcf->used,
                                     NGX_HTTP_INBOX_LOGIN_ADDRESS_PER_MINUTE,
                                     NGX_HTTP_INBOX_LOGIN_ADDRESS_BURST,
                                     NGX_HTTP_INBOX_LOGIN_ADDRESS_DELAY)
           != NGX_OK
        || ngx_http_inbox_limit_init(cf, &imcf->upload_limit,
                                     "inbox_upload_rate", imcf->used,
                                     NGX_HTTP_INBOX_UPLOAD_PER_MINUTE,
                                     NGX_HTTP_INBOX_UPLOAD_BURST,
                                     NGX_HTTP_INBOX_UPLOAD_BURST)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_inbox_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_inbox_loc_conf_t  *ilcf;

    ilcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_inbox_loc_conf_t));
    if (ilcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     ilcf->thread_pool = NULL;
     *     ilcf->public_url = { 0, NULL };
     *     ilcf->realtime_url = { 0, NULL };
     *     ilcf->default_country = { 0, NULL };
     *     ilcf->handler = 0;
     */

    ilcf->max_body = NGX_CONF_UNSET_SIZE;

    return ilcf;
}


static char *
ngx_http_inbox_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_inbox_loc_conf_t *prev = parent;
    ngx_http_inbox_loc_conf_t *conf = child;

    ngx_http_inbox_main_conf_t  *imcf;

    if (conf->thread_pool == NULL) {
        conf->thread_pool = prev->thread_pool;
    }

    /* only locations that answer need a pool: "default" unless named */

    if (conf->thread_pool == NULL && conf->handler) {
        conf->thread_pool = ngx_thread_pool_add(cf, NULL);
        if (conf->thread_pool == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    /* the maintenance outside requests uses the first one's */

    imcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_inbox_module);

    if (imcf->thread_pool == NULL && conf->handler) {
        imcf->thread_pool = conf->thread_pool;
    }

    ngx_conf_merge_str_value(conf->public_url, prev->public_url, "");
    ngx_conf_merge_str_value(conf->realtime_url, prev->realtime_url, "");
    ngx_conf_merge_str_value(conf->default_country, prev->default_country,
                             "US");
    ngx_conf_merge_size_value(conf->max_body, prev->max_body, 64 * 1024);

    return NGX_CONF_OK;
}


/*
 * inbox_store URI: its form is checked by nginx -t, not at the first
 * request; a relative SQLite path is under nginx's prefix, as
 * inbox_media_dir's is, not under the directory nginx was started from.
 */

static char *
ngx_http_inbox_store_uri(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_inbox_main_conf_t *imcf = conf;

    u_char         *p;
    size_t          scheme;
    ngx_str_t      *value, name;
    const char     *file;
    inbox_error_t   err;

    if (imcf->store.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    /* configuration tokens end in a NUL */
    if (inbox_store_uri_check((char *) value[1].data, &file, &err)
        != INBOX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "inbox_store: %s",
                           err.message);
        return NGX_CONF_ERROR;
    }

    imcf->store = value[1];

    if (file == NULL || file[0] == '/') {
        return NGX_CONF_OK;
    }

    scheme = (u_char *) file - value[1].data;
    name.len = value[1].len - scheme;
    name.data = (u_char *) file;

    if (ngx_conf_full_name(cf->cycle, &name, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* the worker opens it as a C string */
    p = ngx_pnalloc(cf->pool, scheme + name.len + 1);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    imcf->store.len = scheme + name.len;
    imcf->store.data = p;

    p = ngx_cpymem(p, value[1].data, scheme);
    p = ngx_cpymem(p, name.data, name.len);
    *p = '\0';

    return NGX_CONF_OK;
}


static char *
ngx_http_inbox_thread_pool(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_inbox_loc_conf_t *ilcf = conf;

    ngx_str_t  *value;

    if (ilcf->thread_pool) {
        return "is duplicate";
    }

    value = cf->args->elts;

    ilcf->thread_pool = ngx_thread_pool_add(cf, &value[1]);
    if (ilcf->thread_pool == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* An absolute http(s) or ws(s) URL, kept without its trailing "/". */

static char *
ngx_http_inbox_url(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t  *field, *value, url;

    field = (ngx_str_t *) (p + cmd->offset);

    if (field->data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    url = value[1];

    if (ngx_strncmp(url.data, "http://", 7) != 0
        && ngx_strncmp(url.data, "https://", 8) != 0
        && ngx_strncmp(url.data, "ws://", 5) != 0
        && ngx_strncmp(url.data, "wss://", 6) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must be an absolute http(s):// or "
                           "ws(s):// URL, not \"%V\"", &cmd->name, &url);
        return NGX_CONF_ERROR;
    }

    while (url.len && url.data[url.len - 1] == '/') {
        url.len--;
    }

    field->len = url.len;
    field->data = (u_char *) ngx_http_inbox_strdup(cf->pool, &url);
    if (field->data == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * The socket and file paths: a relative one is under nginx's prefix, as
 * inbox_store's and inbox_media_dir's are, not under the directory nginx
 * was started from (each is opened as a C string: ngx_conf_full_name's
 * ends in a NUL, as a configuration token does).
 */

static char *
ngx_http_inbox_socket_path(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    char       *rv;
    ngx_str_t  *path;

    rv = ngx_conf_set_str_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    path = (ngx_str_t *) (p + cmd->offset);

    if (ngx_conf_full_name(cf->cycle, path, 0) != NGX_OK
        || ngx_http_inbox_socket_path_check(cf, path) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * inbox_realtime_secret file: read by nginx -t as a worker reads it at
 * start, so that a missing or short secret stops the configuration, not
 * each ticket later with a 503.
 */

static char *
ngx_http_inbox_realtime_secret(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_inbox_main_conf_t *imcf = conf;

    char  *rv;

    rv = ngx_conf_set_str_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (ngx_conf_full_name(cf->cycle, &imcf->realtime_secret, 0) != NGX_OK
        || ngx_http_inbox_secret_check(cf, &imcf->realtime_secret)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * inbox_events_socket path ...: one ws-server process per path, each
 * given every event; the directive may also be repeated.
 */

static char *
ngx_http_inbox_events_socket(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_inbox_main_conf_t *imcf = conf;

    ngx_str_t   *value, *path, *known;
    ngx_uint_t   i, k;

    if (imcf->events_sockets == NULL) {
        imcf->events_sockets = ngx_array_create(cf->pool, 2,
                                                sizeof(ngx_str_t));
        if (imcf->events_sockets == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        /* under the prefix when relative, as ngx_http_inbox_socket_path */
        if (ngx_conf_full_name(cf->cycle, &value[i], 0) != NGX_OK
            || ngx_http_inbox_socket_path_check(cf, &value[i]) != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        known = imcf->events_sockets->elts;

        for (k = 0; k < imcf->events_sockets->nelts; k++) {
            if (known[k].len == value[i].len
                && ngx_strncmp(known[k].data, value[i].data, value[i].len)
                   == 0)
            {
                /* a ws-server given each event twice */
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "the events socket \"%V\" is named "
                                   "twice", &value[i]);
                return NGX_CONF_ERROR;
            }
        }

        if (imcf->events_sockets->nelts == INBOX_EVENTS_PEERS_MAX) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "at most %d events sockets",
                               INBOX_EVENTS_PEERS_MAX);
            return NGX_CONF_ERROR;
        }

        path = ngx_array_push(imcf->events_sockets);
        if (path == NULL) {
            return NGX_CONF_ERROR;
        }

        /* NUL-terminated: a token, or ngx_conf_full_name's copy */
        *path = value[i];
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_inbox_socket_path_check(ngx_conf_t *cf, ngx_str_t *path)
{
    struct sockaddr_un  sun;

    if (path->len == 0 || path->len >= sizeof(sun.sun_path)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the socket path \"%V\" must be 1 to %uz bytes",
                           path, sizeof(sun.sun_path) - 1);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* A country of libinbox's rule (phone.h), in upper case: one it does not
 * know would refuse every national number of an import, line by line. */

static char *
ngx_http_inbox_country(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char            country[INBOX_COUNTRY_MAX];
    ngx_str_t      *value;
    inbox_error_t   err;

    value = cf->args->elts;

    if (inbox_phone_country_check((char *) value[1].data, NULL, country,
                                  &err)
        != INBOX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "inbox_default_country %s",
                           err.message);
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(value[1].data, country, 2);

    return ngx_conf_set_str_slot(cf, cmd, conf);
}


static char *
ngx_http_inbox_handler(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_inbox_loc_conf_t *ilcf = conf;

    ngx_http_core_loc_conf_t    *clcf;
    ngx_http_inbox_main_conf_t  *imcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler) {
        return "is duplicate";
    }

    clcf->handler = (ngx_http_handler_pt) cmd->post;
    ilcf->handler = 1;

    imcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_inbox_module);
    imcf->used = 1;

    return NGX_CONF_OK;
}
