
/*
 * The JSON API under /api/v1/: routing and bearer authentication.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_inbox_module.h"
#include "ngx_http_inbox_api.h"
#include "ngx_http_inbox_reply.h"
#include "ngx_http_inbox_task.h"


typedef struct {
    const char                     *path;     /* "*" is one {id} segment */
    ngx_uint_t                      method;   /* GET also answers HEAD */
    const char                     *method_name;
    ngx_http_inbox_api_prepare_pt   prepare;
    off_t                           body;     /* the largest body read for
                                                 prepare; 0: discarded */
} ngx_http_inbox_api_route_t;


static ngx_int_t ngx_http_inbox_api_match(ngx_str_t *path,
    const char *pattern, ngx_str_t *id);
static ngx_int_t ngx_http_inbox_api_not_allowed(ngx_http_request_t *r,
    ngx_str_t *path);
static ngx_int_t ngx_http_inbox_api_bearer(ngx_http_request_t *r,
    ngx_str_t *token);
static void ngx_http_inbox_api_body_done(ngx_http_request_t *r);
static ngx_int_t ngx_http_inbox_api_start(ngx_http_request_t *r,
    ngx_http_inbox_job_t *job);
static void ngx_http_inbox_api_run(ngx_http_inbox_job_t *job);
static void ngx_http_inbox_api_query_cleanup(void *data);


static ngx_str_t  ngx_http_inbox_api_prefix = ngx_string("/api/v1/");


static ngx_http_inbox_api_route_t  ngx_http_inbox_api_routes[] = {

    { "conversations", NGX_HTTP_GET, "GET",
      ngx_http_inbox_conversations_list, 0 },

    { "conversations/*", NGX_HTTP_GET, "GET",
      ngx_http_inbox_conversation_get, 0 },

    { "conversations/*/messages", NGX_HTTP_GET, "GET",
      ngx_http_inbox_messages_list, 0 },

    /* a person's actions on a thread (the path's last segment) */
    { "conversations/*/read", NGX_HTTP_POST, "POST",
      ngx_http_inbox_conversation_action, 0 },
    { "conversations/*/unread", NGX_HTTP_POST, "POST",
      ngx_http_inbox_conversation_action, 0 },
    { "conversations/*/archive", NGX_HTTP_POST, "POST",
      ngx_http_inbox_conversation_action, 0 },
    { "conversations/*/unarchive", NGX_HTTP_POST, "POST",
      ngx_http_inbox_conversation_action, 0 },
    { "conversations/*/star", NGX_HTTP_POST, "POST",
      ngx_http_inbox_conversation_action, 0 },
    { "conversations/*/unstar", NGX_HTTP_POST, "POST",
      ngx_http_inbox_conversation_action, 0 },

    { "realtime/ticket", NGX_HTTP_POST, "POST",
      ngx_http_inbox_realtime_ticket, 0 },

    /* contacts (ngx_http_inbox_contacts.c) */
    { "contacts", NGX_HTTP_GET, "GET",
      ngx_http_inbox_contacts_list, 0 },
    { "contacts", NGX_HTTP_POST, "POST",
      ngx_http_inbox_contact_create, NGX_HTTP_INBOX_CONTACT_BODY_MAX },
    /* the location's client_max_body_size bounds it */
    { "contacts/import", NGX_HTTP_POST, "POST",
      ngx_http_inbox_contacts_import, NGX_MAX_OFF_T_VALUE },
    { "contacts/*", NGX_HTTP_GET, "GET",
      ngx_http_inbox_contact_get, 0 },
    { "contacts/*", NGX_HTTP_PATCH, "PATCH",
      ngx_http_inbox_contact_update, NGX_HTTP_INBOX_CONTACT_BODY_MAX },
    { "contacts/*/timeline", NGX_HTTP_GET, "GET",
      ngx_http_inbox_contact_timeline, 0 },

    { NULL, 0, NULL, NULL, 0 }
};


ngx_int_t
ngx_http_inbox_api_handler(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_str_t                    path, id, token;
    ngx_uint_t                   known, method;
    ngx_http_inbox_api_t        *api;
    ngx_http_inbox_job_t        *job;
    ngx_http_inbox_api_route_t  *route;

    if (r->uri.len < ngx_http_inbox_api_prefix.len
        || ngx_strncmp(r->uri.data, ngx_http_inbox_api_prefix.data,
                       ngx_http_inbox_api_prefix.len) != 0)
    {
        return ngx_http_inbox_reply_status(r, INBOX_ERR_NOT_FOUND, NULL,
                                           "There is nothing at this path.");
    }

    path.data = r->uri.data + ngx_http_inbox_api_prefix.len;
    path.len = r->uri.len - ngx_http_inbox_api_prefix.len;

    method = (r->method == NGX_HTTP_HEAD) ? NGX_HTTP_GET : r->method;
    known = 0;

    for (route = ngx_http_inbox_api_routes; route->path; route++) {

        if (!ngx_http_inbox_api_match(&path, route->path, &id)) {
            continue;
        }

        known = 1;

        if (route->method == method) {
            break;
        }
    }

    /* a body is read only for a route that takes one, from a caller
     * with a token, up to the route's size */
    token.len = 0;

    if (route->path == NULL || route->body == 0
        || ngx_http_inbox_api_bearer(r, &token) != NGX_OK
        || r->headers_in.content_length_n > route->body)
    {
        rc = ngx_http_discard_request_body(r);

        if (rc != NGX_OK) {
            return rc;
        }
    }

    if (route->path == NULL) {
        if (known) {
            return ngx_http_inbox_api_not_allowed(r, &path);
        }

        return ngx_http_inbox_reply_status(r, INBOX_ERR_NOT_FOUND, NULL,
                                           "There is nothing at this path.");
    }

    if (token.len == 0
        && ngx_http_inbox_api_bearer(r, &token) != NGX_OK)
    {
        return ngx_http_inbox_reply_status(r, INBOX_ERR_UNAUTHENTICATED,
                   NULL, "Sign in, or send an API token as "
                   "\"Authorization: Bearer TOKEN\".");
    }

    if (r->headers_in.content_length_n > route->body && route->body != 0) {
        return ngx_http_inbox_reply_status(r, INBOX_ERR_TOO_LARGE, NULL,
                                           "The request body is too large.");
    }

    api = ngx_pcalloc(r->pool, sizeof(ngx_http_inbox_api_t));
    if (api == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* only the hash travels: the store knows no plain tokens */
    inbox_token_hash((char *) token.data, token.len, api->token_hash);

    api->prepare = route->prepare;
    api->id = id;

    job = ngx_http_inbox_job_create(r, ngx_http_inbox_api_run, api);
    if (job == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (route->body == 0) {
        return ngx_http_inbox_api_start(r, job);
    }

    rc = ngx_http_read_client_request_body(r, ngx_http_inbox_api_body_done);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_inbox_api_body_done(ngx_http_request_t *r)
{
    ngx_http_inbox_job_t  *job;

    job = ngx_http_get_module_ctx(r, ngx_http_inbox_module);

    ngx_http_finalize_request(r, ngx_http_inbox_api_start(r, job));
}


/* The route reads its arguments (and body), then the job is posted. */

static ngx_int_t
ngx_http_inbox_api_start(ngx_http_request_t *r, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_api_t  *api = job->data;

    if (api->prepare(r, api, &api->id) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    job->done = api->done;

    return ngx_http_inbox_job_post(r, job);
}


/* 1 when path is pattern, with id pointing at the "*" segment if any. */

static ngx_int_t
ngx_http_inbox_api_match(ngx_str_t *path, const char *pattern, ngx_str_t *id)
{
    u_char      *p, *end, *start;
    const char  *q;

    p = path->data;
    end = p + path->len;

    ngx_str_null(id);

    for (q = pattern; *q; q++) {

        if (*q == '*') {
            start = p;

            while (p < end && *p != '/') {
                p++;
            }

            if (p == start) {
                return 0;
            }

            id->data = start;
            id->len = p - start;
            continue;
        }

        if (p == end || *p != (u_char) *q) {
            return 0;
        }

        p++;
    }

    return p == end;
}


static ngx_int_t
ngx_http_inbox_api_not_allowed(ngx_http_request_t *r, ngx_str_t *path)
{
    u_char                      *allow, *p;
    ngx_str_t                    id;
    ngx_http_inbox_api_route_t  *route;

    allow = ngx_pnalloc(r->pool, 128);
    if (allow == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = allow;

    for (route = ngx_http_inbox_api_routes; route->path; route++) {

        if (!ngx_http_inbox_api_match(path, route->path, &id)) {
            continue;
        }

        if (p != allow) {
            p = ngx_cpymem(p, ", ", 2);
        }

        p = ngx_cpymem(p, route->method_name,
                       ngx_strlen(route->method_name));

        if (route->method == NGX_HTTP_GET) {
            p = ngx_cpymem(p, ", HEAD", 6);
        }
    }

    *p = '\0';

    return ngx_http_inbox_reply_not_allowed(r, (char *) allow);
}


/* "Authorization: Bearer TOKEN": NGX_DECLINED when it is not there. */

static ngx_int_t
ngx_http_inbox_api_bearer(ngx_http_request_t *r, ngx_str_t *token)
{
    u_char     *p, *end;
    ngx_str_t  *value;

    if (r->headers_in.authorization == NULL) {
        return NGX_DECLINED;
    }

    value = &r->headers_in.authorization->value;

    if (value->len < sizeof("Bearer ") - 1
        || ngx_strncasecmp(value->data, (u_char *) "Bearer ",
                           sizeof("Bearer ") - 1) != 0)
    {
        return NGX_DECLINED;
    }

    p = value->data + sizeof("Bearer ") - 1;
    end = value->data + value->len;

    while (p < end && *p == ' ') {
        p++;
    }

    while (end > p && end[-1] == ' ') {
        end--;
    }

    if (p == end) {
        return NGX_DECLINED;
    }

    token->data = p;
    token->len = end - p;

    return NGX_OK;
}


/* In a pool thread: who is asking, then what they asked. */

static void
ngx_http_inbox_api_run(ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_api_t  *api = job->data;

    inbox_status_t   rc;
    inbox_store_t   *store;

    store = ngx_http_inbox_store(&job->error);
    if (store == NULL) {
        return;
    }

    /* read on every request, never cached: a revoked or expired token
     * fails from the next request on, with libinbox's message */
    rc = inbox_store_token_find(store, api->token_hash, &api->principal,
                                &job->error);

    if (rc != INBOX_OK) {
        return;
    }

    if (api->invalid.code != INBOX_OK) {
        job->error = api->invalid;
        return;
    }

    api->op(api, store, job);
}


ngx_int_t
ngx_http_inbox_api_query(ngx_http_request_t *r, ngx_http_inbox_api_t *api,
    inbox_form_t **query)
{
    inbox_form_t        *form;
    inbox_error_t        err;
    ngx_pool_cleanup_t  *cln;

    form = ngx_pcalloc(r->pool, sizeof(inbox_form_t));
    if (form == NULL) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_inbox_api_query_cleanup;
    cln->data = form;

    *query = form;

    if (inbox_form_parse((char *) r->args.data, r->args.len, form, &err)
        != INBOX_OK)
    {
        inbox_form_free(form);
        ngx_memzero(form, sizeof(inbox_form_t));

        if (err.code == INBOX_ERR_INVALID) {
            inbox_error_set(&api->invalid, INBOX_ERR_INVALID,
                            "The query string has a malformed %%-escape.");
            return NGX_OK;
        }

        return NGX_ERROR;
    }

    return NGX_OK;
}


unsigned
ngx_http_inbox_api_limit(ngx_http_inbox_api_t *api, const inbox_form_t *query)
{
    ngx_int_t    n;
    const char  *value;

    value = inbox_form_get(query, "limit");

    if (value == NULL) {
        return INBOX_LIST_LIMIT_DEFAULT;
    }

    n = ngx_atoi((u_char *) value, ngx_strlen(value));

    if (n < 1 || n > INBOX_LIST_LIMIT_MAX) {
        if (api->invalid.code == INBOX_OK) {
            inbox_error_set_field(&api->invalid, INBOX_ERR_INVALID, "limit",
                                  "limit must be a number from 1 to %d.",
                                  INBOX_LIST_LIMIT_MAX);
        }

        return INBOX_LIST_LIMIT_DEFAULT;
    }

    return (unsigned) n;
}


char *
ngx_http_inbox_api_id(ngx_http_request_t *r, ngx_http_inbox_api_t *api,
    ngx_str_t *id)
{
    u_char      c;
    ngx_uint_t  i, valid;

    /* ids are short and plain: letters, digits, "-" and "_" */

    valid = (id->len < INBOX_ID_MAX);

    for (i = 0; valid && i < id->len; i++) {
        c = id->data[i];
        valid = (c >= '0' && c <= '9') || ((c | 0x20) >= 'a'
                                           && (c | 0x20) <= 'z')
                || c == '-' || c == '_';
    }

    if (!valid && api->invalid.code == INBOX_OK) {
        inbox_error_set(&api->invalid, INBOX_ERR_NOT_FOUND,
                        "There is nothing with this id.");
    }

    return ngx_http_inbox_strdup(r->pool, id);
}


static void
ngx_http_inbox_api_query_cleanup(void *data)
{
    inbox_form_t  *form = data;

    inbox_form_free(form);
}
