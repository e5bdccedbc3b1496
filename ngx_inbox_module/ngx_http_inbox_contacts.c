
/*
 * Contacts: GET /api/v1/contacts, POST /api/v1/contacts,
 * POST /api/v1/contacts/import, GET and PATCH /api/v1/contacts/{id},
 * GET /api/v1/contacts/{id}/timeline.
 *
 * JSON bodies are small and read in the event loop; a CSV import is read
 * in its pool thread, piece by piece, from nginx's buffers or its
 * temporary file, twice: once to check it, once to store it.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <stdlib.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include <inbox/contact.h>
#include <inbox/import.h>
#include <inbox/phone.h>
#include <inbox/render.h>
#include <inbox/utf8.h>

#include "ngx_http_inbox_module.h"
#include "ngx_http_inbox_api.h"


#define NGX_HTTP_INBOX_IMPORT_CHUNK  (64 * 1024)


/* One piece of a request body: in memory, or a range of its file. */
typedef struct {
    u_char        *pos;          /* NULL: in the file */
    ngx_fd_t       fd;
    off_t          offset;
    size_t         len;
} ngx_http_inbox_piece_t;


typedef struct {
    const char                *id;
    const char                *cursor;
    unsigned                   limit;
    inbox_contact_query_t      query;
    char                       phone[INBOX_PHONE_MAX];
    char                      *name;
    inbox_contact_edit_t       edit;
    const char                *country;
    ngx_array_t               *pieces;      /* ngx_http_inbox_piece_t */
} ngx_http_inbox_contacts_args_t;


static ngx_http_inbox_contacts_args_t *ngx_http_inbox_contacts_args(
    ngx_http_request_t *r, ngx_http_inbox_api_t *api);
static ngx_int_t ngx_http_inbox_contact_body(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_http_inbox_contacts_args_t *args,
    ngx_uint_t create);
static ngx_int_t ngx_http_inbox_body_string(ngx_http_request_t *r,
    ngx_str_t *body);
static ngx_int_t ngx_http_inbox_body_pieces(ngx_http_request_t *r,
    ngx_http_inbox_contacts_args_t *args);
static void ngx_http_inbox_contacts_cleanup(void *data);
static void ngx_http_inbox_contacts_invalid(ngx_http_inbox_api_t *api,
    const char *field, const char *message);

static void ngx_http_inbox_contacts_list_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);
static void ngx_http_inbox_contact_get_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);
static void ngx_http_inbox_contact_create_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);
static void ngx_http_inbox_contact_update_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);
static void ngx_http_inbox_contact_timeline_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);
static void ngx_http_inbox_contacts_import_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);
static inbox_status_t ngx_http_inbox_import_pass(
    ngx_http_inbox_contacts_args_t *args, inbox_import_t *im,
    inbox_error_t *err);


ngx_int_t
ngx_http_inbox_contacts_list(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id)
{
    inbox_form_t                    *query;
    ngx_http_inbox_contacts_args_t  *args;

    args = ngx_http_inbox_contacts_args(r, api);
    if (args == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_inbox_api_query(r, api, &query) != NGX_OK) {
        return NGX_ERROR;
    }

    args->query.q = inbox_form_get(query, "q");
    args->query.tag = inbox_form_get(query, "tag");
    args->query.cursor = inbox_form_get(query, "cursor");
    args->query.limit = ngx_http_inbox_api_limit(api, query);

    api->op = ngx_http_inbox_contacts_list_op;

    return NGX_OK;
}


ngx_int_t
ngx_http_inbox_contact_get(ngx_http_request_t *r, ngx_http_inbox_api_t *api,
    ngx_str_t *id)
{
    ngx_http_inbox_contacts_args_t  *args;

    args = ngx_http_inbox_contacts_args(r, api);
    if (args == NULL) {
        return NGX_ERROR;
    }

    args->id = ngx_http_inbox_api_id(r, api, id);
    if (args->id == NULL) {
        return NGX_ERROR;
    }

    api->op = ngx_http_inbox_contact_get_op;

    return NGX_OK;
}


ngx_int_t
ngx_http_inbox_contact_timeline(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id)
{
    inbox_form_t                    *query;
    ngx_http_inbox_contacts_args_t  *args;

    args = ngx_http_inbox_contacts_args(r, api);
    if (args == NULL) {
        return NGX_ERROR;
    }

    args->id = ngx_http_inbox_api_id(r, api, id);
    if (args->id == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_inbox_api_query(r, api, &query) != NGX_OK) {
        return NGX_ERROR;
    }

    args->cursor = inbox_form_get(query, "cursor");
    args->limit = ngx_http_inbox_api_limit(api, query);

    api->op = ngx_http_inbox_contact_timeline_op;

    return NGX_OK;
}


ngx_int_t
ngx_http_inbox_contact_update(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id)
{
    ngx_http_inbox_contacts_args_t  *args;

    args = ngx_http_inbox_contacts_args(r, api);
    if (args == NULL) {
        return NGX_ERROR;
    }

    args->id = ngx_http_inbox_api_id(r, api, id);
    if (args->id == NULL) {
        return NGX_ERROR;
    }

    api->op = ngx_http_inbox_contact_update_op;

    return ngx_http_inbox_contact_body(r, api, args, 0);
}


ngx_int_t
ngx_http_inbox_contact_create(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id)
{
    ngx_http_inbox_contacts_args_t  *args;

    args = ngx_http_inbox_contacts_args(r, api);
    if (args == NULL) {
        return NGX_ERROR;
    }

    api->op = ngx_http_inbox_contact_create_op;

    return ngx_http_inbox_contact_body(r, api, args, 1);
}


ngx_int_t
ngx_http_inbox_contacts_import(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id)
{
    ngx_str_t                       *type;
    ngx_http_inbox_loc_conf_t       *ilcf;
    ngx_http_inbox_contacts_args_t  *args;

    args = ngx_http_inbox_contacts_args(r, api);
    if (args == NULL) {
        return NGX_ERROR;
    }

    ilcf = ngx_http_get_module_loc_conf(r, ngx_http_inbox_module);
    args->country = (const char *) ilcf->default_country.data;

    api->op = ngx_http_inbox_contacts_import_op;

    type = r->headers_in.content_type ? &r->headers_in.content_type->value
                                      : NULL;

    if (type == NULL || type->len < sizeof("text/csv") - 1
        || ngx_strncasecmp(type->data, (u_char *) "text/csv",
                           sizeof("text/csv") - 1) != 0
        || (type->len > sizeof("text/csv") - 1
            && type->data[sizeof("text/csv") - 1] != ';'
            && type->data[sizeof("text/csv") - 1] != ' '))
    {
        ngx_http_inbox_contacts_invalid(api, "Content-Type",
                                        "Send the file as text/csv.");
        return NGX_OK;
    }

    return ngx_http_inbox_body_pieces(r, args);
}


static ngx_http_inbox_contacts_args_t *
ngx_http_inbox_contacts_args(ngx_http_request_t *r, ngx_http_inbox_api_t *api)
{
    ngx_pool_cleanup_t              *cln;
    ngx_http_inbox_contacts_args_t  *args;

    args = ngx_pcalloc(r->pool, sizeof(ngx_http_inbox_contacts_args_t));
    if (args == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_inbox_contacts_cleanup;
    cln->data = args;

    api->args = args;

    return args;
}


static void
ngx_http_inbox_contacts_cleanup(void *data)
{
    ngx_http_inbox_contacts_args_t  *args = data;

    free(args->name);
    inbox_tags_free(&args->edit.tags);
}


static void
ngx_http_inbox_contacts_invalid(ngx_http_inbox_api_t *api, const char *field,
    const char *message)
{
    if (api->invalid.code == INBOX_OK) {
        inbox_error_set_field(&api->invalid, INBOX_ERR_INVALID, field, "%s",
                              message);
    }
}


/*
 * {"name","tags"} for a PATCH, with "phone" (required) for a create.
 * Each field is checked by libinbox's rules (contact.h); whatever does
 * not fit is a 400 naming the field, and nothing is stored.
 */

static ngx_int_t
ngx_http_inbox_contact_body(ngx_http_request_t *r, ngx_http_inbox_api_t *api,
    ngx_http_inbox_contacts_args_t *args, ngx_uint_t create)
{
    char                        errbuf[128];
    size_t                      i, j;
    yajl_val                    root, v, item;
    ngx_str_t                   body;
    const char                 *key, *s;
    inbox_error_t               err;
    ngx_http_inbox_loc_conf_t  *ilcf;

    switch (ngx_http_inbox_body_string(r, &body)) {

    case NGX_OK:
        break;

    case NGX_DECLINED:
        if (api->invalid.code == INBOX_OK) {
            inbox_error_set(&api->invalid, INBOX_ERR_TOO_LARGE,
                            "The request body is too large.");
        }
        return NGX_OK;

    default:
        return NGX_ERROR;
    }

    root = yajl_tree_parse((const char *) body.data, errbuf, sizeof(errbuf));

    if (root == NULL || !YAJL_IS_OBJECT(root)
        || !inbox_utf8_valid((const char *) body.data, body.len))
    {
        yajl_tree_free(root);
        ngx_http_inbox_contacts_invalid(api, "body",
                                        "The body must be a JSON object.");
        return NGX_OK;
    }

    for (i = 0; i < root->u.object.len; i++) {
        key = root->u.object.keys[i];
        v = root->u.object.values[i];

        for (j = 0; j < i; j++) {
            if (ngx_strcmp(root->u.object.keys[j], key) == 0) {
                break;
            }
        }

        if (j < i) {
            ngx_http_inbox_contacts_invalid(api, key,
                                            "A field is given twice.");
            break;
        }

        if (ngx_strcmp(key, "name") == 0) {
            if (!YAJL_IS_STRING(v) && !YAJL_IS_NULL(v)) {
                ngx_http_inbox_contacts_invalid(api, "name",
                    "name must be a string, or null to clear it.");
                break;
            }

            s = YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;

            if (inbox_contact_name(s, s ? ngx_strlen(s) : 0, &args->name,
                                   &err)
                != INBOX_OK)
            {
                ngx_http_inbox_contacts_invalid(api, "name", err.message);
                break;
            }

            args->edit.set_name = 1;
            args->edit.name = args->name;

        } else if (ngx_strcmp(key, "tags") == 0) {
            if (!YAJL_IS_ARRAY(v)) {
                ngx_http_inbox_contacts_invalid(api, "tags",
                    "tags must be a list of strings.");
                break;
            }

            for (j = 0; j < v->u.array.len; j++) {
                item = v->u.array.values[j];

                if (!YAJL_IS_STRING(item)) {
                    ngx_http_inbox_contacts_invalid(api, "tags",
                        "tags must be a list of strings.");
                    break;
                }

                s = YAJL_GET_STRING(item);

                if (inbox_tags_add(&args->edit.tags, s, ngx_strlen(s), &err)
                    != INBOX_OK)
                {
                    ngx_http_inbox_contacts_invalid(api, "tags",
                                                    err.message);
                    break;
                }
            }

            if (j < v->u.array.len) {
                break;
            }

            args->edit.set_tags = 1;

        } else if (create && ngx_strcmp(key, "phone") == 0) {
            if (!YAJL_IS_STRING(v)) {
                ngx_http_inbox_contacts_invalid(api, "phone",
                    "phone must be a string.");
                break;
            }

            ilcf = ngx_http_get_module_loc_conf(r, ngx_http_inbox_module);
            s = YAJL_GET_STRING(v);

            if (inbox_phone_normalize(s, ngx_strlen(s),
                                      (const char *)
                                          ilcf->default_country.data,
                                      args->phone, &err)
                != INBOX_OK)
            {
                ngx_http_inbox_contacts_invalid(api, "phone",
                    "phone is not a phone number.");
                break;
            }

        } else {
            /* a misspelt field never passes for one that changed nothing */
            ngx_http_inbox_contacts_invalid(api, key,
                                            "There is no such field.");
            break;
        }
    }

    yajl_tree_free(root);

    if (create && args->phone[0] == '\0') {
        ngx_http_inbox_contacts_invalid(api, "phone",
                                        "phone is required.");
    }

    return NGX_OK;
}


/* A small body (up to NGX_HTTP_INBOX_CONTACT_BODY_MAX, else
 * NGX_DECLINED: a chunked body declares no length), whole and
 * NUL-terminated, from its buffers or its file. */

static ngx_int_t
ngx_http_inbox_body_string(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char       *p;
    size_t        len;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    len = 0;

    if (r->request_body != NULL) {
        for (cl = r->request_body->bufs; cl; cl = cl->next) {
            b = cl->buf;
            len += b->in_file ? (size_t) (b->file_last - b->file_pos)
                              : (size_t) (b->last - b->pos);
        }
    }

    if (len > NGX_HTTP_INBOX_CONTACT_BODY_MAX) {
        return NGX_DECLINED;
    }

    body->data = ngx_pnalloc(r->pool, len + 1);
    if (body->data == NULL) {
        return NGX_ERROR;
    }

    p = body->data;

    for (cl = r->request_body ? r->request_body->bufs : NULL; cl;
         cl = cl->next)
    {
        b = cl->buf;

        if (b->in_file) {
            n = ngx_read_file(b->file, p, b->file_last - b->file_pos,
                              b->file_pos);
            if (n != b->file_last - b->file_pos) {
                return NGX_ERROR;
            }

            p += n;

        } else {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
        }
    }

    *p = '\0';
    body->len = p - body->data;

    return NGX_OK;
}


/* Where the import's body is, for the pool thread to read. */

static ngx_int_t
ngx_http_inbox_body_pieces(ngx_http_request_t *r,
    ngx_http_inbox_contacts_args_t *args)
{
    ngx_buf_t               *b;
    ngx_chain_t             *cl;
    ngx_http_inbox_piece_t  *piece;

    args->pieces = ngx_array_create(r->pool, 4,
                                    sizeof(ngx_http_inbox_piece_t));
    if (args->pieces == NULL) {
        return NGX_ERROR;
    }

    for (cl = r->request_body ? r->request_body->bufs : NULL; cl;
         cl = cl->next)
    {
        b = cl->buf;

        piece = ngx_array_push(args->pieces);
        if (piece == NULL) {
            return NGX_ERROR;
        }

        if (b->in_file) {
            piece->pos = NULL;
            piece->fd = b->file->fd;
            piece->offset = b->file_pos;
            piece->len = b->file_last - b->file_pos;

        } else {
            piece->pos = b->pos;
            piece->fd = NGX_INVALID_FILE;
            piece->offset = 0;
            piece->len = b->last - b->pos;
        }
    }

    return NGX_OK;
}


/* The ops run in a pool thread. */

static void
ngx_http_inbox_contacts_list_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_contacts_args_t *args = api->args;

    char                  *json;
    size_t                 len;
    inbox_contact_page_t   page;

    memset(&page, 0, sizeof(inbox_contact_page_t));

    if (inbox_store_contacts_list(store, api->principal.org_id, &args->query,
                                  &page, &job->error)
        == INBOX_OK)
    {
        json = inbox_render_contact_page(&page, &len);
        ngx_http_inbox_job_document(job, NGX_HTTP_OK, json, len);
    }

    inbox_contact_page_free(&page);
}


static void
ngx_http_inbox_contact_get_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_contacts_args_t *args = api->args;

    char                    *json;
    size_t                   len;
    inbox_contact_record_t   contact;

    if (inbox_store_contact_get(store, api->principal.org_id, args->id,
                                &contact, &job->error)
        == INBOX_OK)
    {
        json = inbox_render_contact(&contact, &len);
        ngx_http_inbox_job_document(job, NGX_HTTP_OK, json, len);
    }

    inbox_contact_record_free(&contact);
}


static void
ngx_http_inbox_contact_create_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_contacts_args_t *args = api->args;

    char                    *json;
    size_t                   len;
    inbox_contact_record_t   contact;

    if (inbox_store_contact_create(store, api->principal.org_id,
                                   args->phone, &args->edit, &contact,
                                   &job->error)
        == INBOX_OK)
    {
        json = inbox_render_contact(&contact, &len);
        ngx_http_inbox_job_document(job, NGX_HTTP_CREATED, json, len);
    }

    inbox_contact_record_free(&contact);
}


/* The contact as the edit left it; a new name goes to every browser of
 * the organization as conversation.updated, once it is durable. */

static void
ngx_http_inbox_contact_update_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_contacts_args_t *args = api->args;

    char                    *json;
    size_t                   len;
    inbox_event_list_t       events;
    inbox_contact_record_t   contact;

    memset(&events, 0, sizeof(inbox_event_list_t));

    if (inbox_store_contact_update(store, api->principal.org_id, args->id,
                                   &args->edit, &contact, &events,
                                   &job->error)
        == INBOX_OK)
    {
        json = inbox_render_contact(&contact, &len);
        ngx_http_inbox_job_document(job, NGX_HTTP_OK, json, len);

        ngx_http_inbox_events_send(&events);
    }

    inbox_event_list_free(&events);
    inbox_contact_record_free(&contact);
}


static void
ngx_http_inbox_contact_timeline_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_contacts_args_t *args = api->args;

    char                   *json;
    size_t                  len;
    inbox_timeline_page_t   page;

    if (inbox_store_contact_timeline(store, api->principal.org_id, args->id,
                                     args->cursor, args->limit, &page,
                                     &job->error)
        == INBOX_OK)
    {
        json = inbox_render_timeline_page(&page, &len);
        ngx_http_inbox_job_document(job, NGX_HTTP_OK, json, len);
    }

    inbox_timeline_page_free(&page);
}


/*
 * Two passes over the body: a check that stores nothing (a request that
 * fails as a whole, such as one without a phone column or with too many
 * rows, leaves the store as it was), then the import in batches.
 */

static void
ngx_http_inbox_contacts_import_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_contacts_args_t *args = api->args;

    char            *json;
    size_t           len;
    inbox_import_t  *im;

    im = inbox_import_new(NULL, api->principal.org_id, args->country);
    if (im == NULL) {
        inbox_error_set(&job->error, INBOX_ERR_INTERNAL, "out of memory");
        return;
    }

    if (ngx_http_inbox_import_pass(args, im, &job->error) != INBOX_OK) {
        inbox_import_free(im);
        return;
    }

    inbox_import_free(im);

    im = inbox_import_new(store, api->principal.org_id, args->country);
    if (im == NULL) {
        inbox_error_set(&job->error, INBOX_ERR_INTERNAL, "out of memory");
        return;
    }

    if (ngx_http_inbox_import_pass(args, im, &job->error) == INBOX_OK) {
        json = inbox_import_render(im, &len);
        ngx_http_inbox_job_document(job, NGX_HTTP_OK, json, len);
    }

    inbox_import_free(im);
}


/* Feeds the body to im, a piece at a time. */

static inbox_status_t
ngx_http_inbox_import_pass(ngx_http_inbox_contacts_args_t *args,
    inbox_import_t *im, inbox_error_t *err)
{
    char                    *chunk;
    size_t                   done, want;
    ssize_t                  n;
    ngx_uint_t               i;
    inbox_status_t           rc;
    ngx_http_inbox_piece_t  *pieces;

    chunk = malloc(NGX_HTTP_INBOX_IMPORT_CHUNK);
    if (chunk == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "out of memory");
    }

    pieces = args->pieces->elts;
    rc = INBOX_OK;

    for (i = 0; rc == INBOX_OK && i < args->pieces->nelts; i++) {

        if (pieces[i].pos != NULL) {
            rc = inbox_import_feed(im, (const char *) pieces[i].pos,
                                   pieces[i].len, err);
            continue;
        }

        for (done = 0; rc == INBOX_OK && done < pieces[i].len; done += n) {
            want = pieces[i].len - done;
            if (want > NGX_HTTP_INBOX_IMPORT_CHUNK) {
                want = NGX_HTTP_INBOX_IMPORT_CHUNK;
            }

            n = pread(pieces[i].fd, chunk, want, pieces[i].offset + done);

            if (n <= 0) {
                rc = inbox_error_set(err, INBOX_ERR_INTERNAL,
                                     "The upload could not be read back.");
                break;
            }

            rc = inbox_import_feed(im, chunk, (size_t) n, err);
        }
    }

    free(chunk);

    if (rc != INBOX_OK) {
        return rc;
    }

    return inbox_import_finish(im, err);
}
