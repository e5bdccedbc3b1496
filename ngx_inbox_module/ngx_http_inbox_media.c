
/*
 * Media: POST /api/v1/media, and $inbox_media_dir.
 *
 * An upload is an image of any declared Content-Type: its own first bytes
 * say whether it is a JPEG, PNG or GIF (libinbox's media.h), anything else
 * is 415.  The dispatcher refused a larger Content-Length than the
 * location's client_max_body_size before reading; nginx keeps the body in
 * memory or a temporary file, and a pool thread copies it into the media
 * directory (a hidden temporary name, synced, renamed), then records it
 * in the store.  The answer is 201 with the image's URL, its path on this
 * origin as a message's media show it (inbox_media_url).  An upload no
 * reply or campaign attaches is purged later by the maintenance step,
 * which each upload runs too.
 *
 * Each API token or session may upload inbox_upload_rate megabytes (a
 * leaky bucket, ngx_http_inbox_limit.h), charged before anything is
 * written: past it 429 with Retry-After.  An upload that stores nothing
 * gives its charge back; a credential that is nobody's keeps no bucket.
 *
 * The files themselves are served by nginx's own static handling: the
 * "location /media/" of config/inbox-server.conf aliases
 * $inbox_media_dir, the directory of the inbox_media_dir directive.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <inbox/media.h>

#include "ngx_http_inbox_module.h"
#include "ngx_http_inbox_api.h"
#include "ngx_http_inbox_body.h"


typedef struct {
    ngx_array_t  *pieces;        /* ngx_http_inbox_piece_t */
    char         *dir;           /* the media directory */
    ngx_uint_t    charged;       /* megabytes charged to the credential */
    u_char        key[NGX_HTTP_INBOX_LIMIT_KEY_LEN];
} ngx_http_inbox_media_args_t;


/* What inbox_upload_rate counts: a started megabyte. */
#define NGX_HTTP_INBOX_UPLOAD_UNIT  (1024 * 1024)


static void ngx_http_inbox_media_upload_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);
static void ngx_http_inbox_media_charge(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_http_inbox_media_args_t *args);
static ngx_int_t ngx_http_inbox_media_upload_done(ngx_http_request_t *r,
    ngx_http_inbox_job_t *job);
static inbox_status_t ngx_http_inbox_media_write(void *data, const char *p,
    size_t len, inbox_error_t *err);
static ngx_int_t ngx_http_inbox_media_dir_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_str_t  ngx_http_inbox_media_dir_name =
    ngx_string("inbox_media_dir");


ngx_int_t
ngx_http_inbox_media_upload(ngx_http_request_t *r, ngx_http_inbox_api_t *api,
    ngx_str_t *id)
{
    ngx_http_inbox_main_conf_t   *imcf;
    ngx_http_inbox_media_args_t  *args;

    args = ngx_pcalloc(r->pool, sizeof(ngx_http_inbox_media_args_t));
    if (args == NULL) {
        return NGX_ERROR;
    }

    imcf = ngx_http_get_module_main_conf(r, ngx_http_inbox_module);

    args->dir = ngx_http_inbox_strdup(r->pool, &imcf->media_path->name);
    if (args->dir == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_inbox_body_pieces(r, &args->pieces) != NGX_OK) {
        return NGX_ERROR;
    }

    api->args = args;
    api->op = ngx_http_inbox_media_upload_op;
    api->done = ngx_http_inbox_media_upload_done;

    ngx_http_inbox_media_charge(r, api, args);

    return NGX_OK;
}


/*
 * The upload's megabytes, charged to its API token or session before the
 * pool thread writes anything; refused, it is answered 429 once the
 * credential is known good (a made-up one is 401 first).
 */

static void
ngx_http_inbox_media_charge(ngx_http_request_t *r, ngx_http_inbox_api_t *api,
    ngx_http_inbox_media_args_t *args)
{
    size_t                       bytes;
    ngx_uint_t                   i, n, retry_after;
    ngx_msec_t                   wait;
    ngx_http_inbox_piece_t      *piece;
    ngx_http_inbox_main_conf_t  *imcf;

    /* nobody to charge: the answer is 401 */
    if (ngx_http_inbox_limit_hex_key(api->credential_hash, args->key)
        != NGX_OK)
    {
        return;
    }

    bytes = 0;
    piece = args->pieces->elts;

    for (i = 0; i < args->pieces->nelts; i++) {
        bytes += piece[i].len;
    }

    n = ngx_max((bytes + NGX_HTTP_INBOX_UPLOAD_UNIT - 1)
                / NGX_HTTP_INBOX_UPLOAD_UNIT, 1);

    imcf = ngx_http_get_module_main_conf(r, ngx_http_inbox_module);

    if (ngx_http_inbox_limit_charge_n(&imcf->upload_limit, r->connection->log,
                                      args->key, n, &wait, &retry_after)
        != NGX_OK)
    {
        inbox_error_rate_limited(&api->invalid, (unsigned) retry_after,
                                 "Too many images were uploaded with this "
                                 "API token or session; wait %u seconds "
                                 "and try again.", (unsigned) retry_after);
        return;
    }

    args->charged = n;
    api->wait = wait;
}


/* In a pool thread: the type, the file, the record, the answer. */

static void
ngx_http_inbox_media_upload_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_media_args_t *args = api->args;

    char                      *json;
    size_t                     len;
    ssize_t                    n;
    u_char                     head[INBOX_MEDIA_SNIFF_LEN];
    inbox_media_writer_t       w;
    inbox_media_record_t       media;
    const inbox_media_type_t  *type;

    n = ngx_http_inbox_pieces_head(args->pieces, head, sizeof(head));
    if (n < 0) {
        inbox_error_set(&job->error, INBOX_ERR_INTERNAL,
                        "The upload could not be read back.");
        return;
    }

    /* whatever the Content-Type says: only the bytes count */
    type = inbox_image_type(head, (size_t) n);
    if (type == NULL) {
        inbox_error_set(&job->error, INBOX_ERR_UNSUPPORTED_MEDIA_TYPE,
                        "Send a JPEG, PNG or GIF image: these bytes are "
                        "none of them.");
        return;
    }

    if (inbox_media_write_begin(&w, args->dir, type, &job->error)
        != INBOX_OK)
    {
        return;
    }

    if (ngx_http_inbox_pieces_each(args->pieces, ngx_http_inbox_media_write,
                                   &w, &job->error)
        != INBOX_OK)
    {
        inbox_media_write_abort(&w);
        return;
    }

    if (inbox_media_write_commit(&w, &job->error) != INBOX_OK) {
        return;
    }

    ngx_memzero(&media, sizeof(inbox_media_record_t));
    ngx_cpystrn((u_char *) media.file, (u_char *) w.file, sizeof(media.file));
    ngx_cpystrn((u_char *) media.content_type, (u_char *) type->content_type,
                sizeof(media.content_type));
    media.bytes = w.bytes;

    if (inbox_store_media_add(store, api->principal.org_id, &media,
                              &job->error)
        != INBOX_OK)
    {
        /* no record: no file either */
        inbox_media_remove(args->dir, media.file);
        return;
    }

    json = inbox_render_media(&media, &len);
    ngx_http_inbox_job_document(job, NGX_HTTP_CREATED, json, len);
}


/* In the event loop: the charge stands only for an upload stored; the
 * maintenance step (purging what uploads leave unattached) may be due. */

static ngx_int_t
ngx_http_inbox_media_upload_done(ngx_http_request_t *r,
    ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_api_t *api = job->data;

    ngx_http_inbox_loc_conf_t    *ilcf;
    ngx_http_inbox_main_conf_t   *imcf;
    ngx_http_inbox_media_args_t  *args = api->args;

    imcf = ngx_http_get_module_main_conf(r, ngx_http_inbox_module);

    if (args->charged && job->error.code == INBOX_ERR_UNAUTHENTICATED) {
        /* a credential that is nobody's: made-up ones fill no zone */
        ngx_http_inbox_limit_clear(&imcf->upload_limit, args->key);

    } else if (args->charged && job->body == NULL) {
        ngx_http_inbox_limit_refund_n(&imcf->upload_limit, args->key,
                                      args->charged);
    }

    ilcf = ngx_http_get_module_loc_conf(r, ngx_http_inbox_module);

    ngx_http_inbox_maintain_after_write(ilcf->thread_pool);

    return NGX_DECLINED;
}


static inbox_status_t
ngx_http_inbox_media_write(void *data, const char *p, size_t len,
    inbox_error_t *err)
{
    return inbox_media_write(data, p, len, err);
}


ngx_int_t
ngx_http_inbox_media_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var;

    var = ngx_http_add_variable(cf, &ngx_http_inbox_media_dir_name, 0);
    if (var == NULL) {
        return NGX_ERROR;
    }

    var->get_handler = ngx_http_inbox_media_dir_variable;

    return NGX_OK;
}


/* $inbox_media_dir: the directory, without a trailing "/". */

static ngx_int_t
ngx_http_inbox_media_dir_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_inbox_main_conf_t  *imcf;

    imcf = ngx_http_get_module_main_conf(r, ngx_http_inbox_module);

    if (imcf == NULL || imcf->media_path == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = imcf->media_path->name.len;
    v->data = imcf->media_path->name.data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}
