
/*
 * The JSON API under /api/v1/: the route table and the dispatcher (see
 * ngx_http_inbox_api.h).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <inbox/media.h>

#include "ngx_http_inbox_module.h"
#include "ngx_http_inbox_api.h"
#include "ngx_http_inbox_auth.h"
#include "ngx_http_inbox_body.h"
#include "ngx_http_inbox_reply.h"
#include "ngx_http_inbox_task.h"


#define NGX_HTTP_INBOX_JSON  "application/json"


static ngx_int_t ngx_http_inbox_api_match(ngx_str_t *path,
    const char *pattern, ngx_str_t *id);
static ngx_uint_t ngx_http_inbox_api_named(const char *pattern, size_t n,
    u_char *segment, size_t len);
static ngx_int_t ngx_http_inbox_api_not_allowed(ngx_http_request_t *r,
    ngx_str_t *path);
static const char *ngx_http_inbox_api_method_name(ngx_uint_t method);
static ngx_int_t ngx_http_inbox_api_refuse(ngx_http_request_t *r,
    const inbox_error_t *err);
static ngx_uint_t ngx_http_inbox_api_type_ok(ngx_http_request_t *r,
    const ngx_http_inbox_api_route_t *route);
static size_t ngx_http_inbox_api_max(ngx_http_request_t *r,
    const ngx_http_inbox_api_route_t *route);
static ngx_int_t ngx_http_inbox_api_read(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api);
static ngx_int_t ngx_http_inbox_api_authenticate(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api);
static void ngx_http_inbox_api_auth_run(ngx_http_inbox_job_t *job);
static ngx_int_t ngx_http_inbox_api_authenticated(ngx_http_request_t *r,
    ngx_http_inbox_job_t *job);
static void ngx_http_inbox_api_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_inbox_api_start(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api);
static void ngx_http_inbox_api_delayed(ngx_http_request_t *r);
static ngx_int_t ngx_http_inbox_api_post(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api);
static void ngx_http_inbox_api_run(ngx_http_inbox_job_t *job);
static inbox_status_t ngx_http_inbox_api_who(ngx_http_inbox_api_t *api,
    inbox_store_t *store, inbox_error_t *err);
static ngx_int_t ngx_http_inbox_api_done(ngx_http_request_t *r,
    ngx_http_inbox_job_t *job);
static void ngx_http_inbox_api_query_cleanup(void *data);
static void ngx_http_inbox_api_json_cleanup(void *data);


static ngx_str_t  ngx_http_inbox_api_prefix = ngx_string("/api/v1/");


/*
 * Every route: method, path, who may call it, the body it takes and its
 * largest size, the Content-Types of a binary body, and its prepare
 * function.
 */

#define USER     NGX_HTTP_INBOX_AUTH_USER
#define BILLING  NGX_HTTP_INBOX_AUTH_BILLING
#define SESSION  NGX_HTTP_INBOX_AUTH_SESSION
#define ANYONE   NGX_HTTP_INBOX_AUTH_NONE
#define NOBODY   NGX_HTTP_INBOX_BODY_NONE, 0, NULL
#define JSON(n)  NGX_HTTP_INBOX_BODY_JSON, (n), NULL
#define BINARY(n, types)  NGX_HTTP_INBOX_BODY_BINARY, (n), (types)

static const ngx_http_inbox_api_route_t  ngx_http_inbox_api_routes[] = {

    { NGX_HTTP_POST, "auth/login", ANYONE, JSON(4096),
      ngx_http_inbox_session_login },

    { NGX_HTTP_POST, "auth/logout", SESSION, NOBODY,
      ngx_http_inbox_session_logout },

    { NGX_HTTP_GET, "me", USER, NOBODY,
      ngx_http_inbox_session_me },

    { NGX_HTTP_POST, "me/password", USER,
      JSON(NGX_HTTP_INBOX_PASSWORD_BODY_MAX),
      ngx_http_inbox_password_change },

    { NGX_HTTP_GET, "conversations", USER, NOBODY,
      ngx_http_inbox_conversations_list },

    { NGX_HTTP_GET, "conversations/*", USER, NOBODY,
      ngx_http_inbox_conversation_get },

    { NGX_HTTP_GET, "conversations/*/messages", USER, NOBODY,
      ngx_http_inbox_messages_list },

    /* a person's actions on a thread (the path's last segment) */
    { NGX_HTTP_POST, "conversations/*/read", USER, NOBODY,
      ngx_http_inbox_conversation_action },

    { NGX_HTTP_POST, "conversations/*/unread", USER, NOBODY,
      ngx_http_inbox_conversation_action },

    { NGX_HTTP_POST, "conversations/*/archive", USER, NOBODY,
      ngx_http_inbox_conversation_action },

    { NGX_HTTP_POST, "conversations/*/unarchive", USER, NOBODY,
      ngx_http_inbox_conversation_action },

    { NGX_HTTP_POST, "conversations/*/star", USER, NOBODY,
      ngx_http_inbox_conversation_action },

    { NGX_HTTP_POST, "conversations/*/unstar", USER, NOBODY,
      ngx_http_inbox_conversation_action },

    /* staff opt a contact out (source manual); only the contact opts
     * back in, by text: there is no route for it */
    { NGX_HTTP_POST, "conversations/*/opt-out", USER, NOBODY,
      ngx_http_inbox_conversation_opt_out },

    { NGX_HTTP_POST, "realtime/ticket", USER, NOBODY,
      ngx_http_inbox_realtime_ticket },

    /* the organization's settings (ngx_http_inbox_settings.c) */
    { NGX_HTTP_GET, "settings", USER, NOBODY,
      ngx_http_inbox_settings_get },

    { NGX_HTTP_PATCH, "settings", BILLING,
      JSON(NGX_HTTP_INBOX_SETTINGS_BODY_MAX),
      ngx_http_inbox_settings_update },

    /* the team (ngx_http_inbox_team.c) */
    { NGX_HTTP_GET, "users", USER, NOBODY,
      ngx_http_inbox_users_list },

    { NGX_HTTP_POST, "users", BILLING,
      JSON(NGX_HTTP_INBOX_USER_BODY_MAX),
      ngx_http_inbox_user_create },

    { NGX_HTTP_PATCH, "users/*", BILLING,
      JSON(NGX_HTTP_INBOX_USER_BODY_MAX),
      ngx_http_inbox_user_update },

    { NGX_HTTP_POST, "users/*/password", BILLING,
      JSON(NGX_HTTP_INBOX_USER_BODY_MAX),
      ngx_http_inbox_user_password },

    { NGX_HTTP_DELETE, "users/*", BILLING, NOBODY,
      ngx_http_inbox_user_remove },

    /* contacts (ngx_http_inbox_contacts.c) */
    { NGX_HTTP_GET, "contacts", USER, NOBODY,
      ngx_http_inbox_contacts_list },

    { NGX_HTTP_POST, "contacts", USER,
      JSON(NGX_HTTP_INBOX_CONTACT_BODY_MAX),
      ngx_http_inbox_contact_create },

    /* as large as its location's client_max_body_size */
    { NGX_HTTP_POST, "contacts/import", USER,
      BINARY(NGX_HTTP_INBOX_IMPORT_BODY_MAX, "text/csv"),
      ngx_http_inbox_contacts_import },

    { NGX_HTTP_GET, "contacts/*", USER, NOBODY,
      ngx_http_inbox_contact_get },

    { NGX_HTTP_PATCH, "contacts/*", USER,
      JSON(NGX_HTTP_INBOX_CONTACT_BODY_MAX),
      ngx_http_inbox_contact_update },

    { NGX_HTTP_GET, "contacts/*/timeline", USER, NOBODY,
      ngx_http_inbox_contact_timeline },

    /* the organization's tags (ngx_http_inbox_contacts.c) */
    { NGX_HTTP_GET, "tags", USER, NOBODY,
      ngx_http_inbox_tags_list },

    /* media (ngx_http_inbox_media.c): any type, the bytes decide;
     * as large as its location's client_max_body_size */
    { NGX_HTTP_POST, "media", USER, BINARY(0, NULL),
      ngx_http_inbox_media_upload },

    /* sending and billing (ngx_http_inbox_send.c) */
    { NGX_HTTP_POST, "conversations/*/messages", USER,
      JSON(NGX_HTTP_INBOX_SEND_BODY_MAX),
      ngx_http_inbox_message_send },

    { NGX_HTTP_POST, "messages/estimate", USER,
      JSON(NGX_HTTP_INBOX_SEND_BODY_MAX),
      ngx_http_inbox_message_estimate },

    { NGX_HTTP_GET, "billing", USER, NOBODY,
      ngx_http_inbox_billing_get },

    { NGX_HTTP_GET, "billing/ledger", BILLING, NOBODY,
      ngx_http_inbox_ledger_list },

    /* campaigns and polls (ngx_http_inbox_campaigns.c): the path's
     * first segment says which */
    { NGX_HTTP_GET, "campaigns", USER, NOBODY,
      ngx_http_inbox_campaigns_list },

    { NGX_HTTP_POST, "campaigns", USER,
      JSON(NGX_HTTP_INBOX_CAMPAIGN_BODY_MAX),
      ngx_http_inbox_campaign_create },

    { NGX_HTTP_POST, "campaigns/estimate", USER,
      JSON(NGX_HTTP_INBOX_CAMPAIGN_BODY_MAX),
      ngx_http_inbox_campaign_estimate },

    { NGX_HTTP_GET, "campaigns/*", USER, NOBODY,
      ngx_http_inbox_campaign_get },

    { NGX_HTTP_PATCH, "campaigns/*", USER,
      JSON(NGX_HTTP_INBOX_CAMPAIGN_BODY_MAX),
      ngx_http_inbox_campaign_update },

    { NGX_HTTP_DELETE, "campaigns/*", USER, NOBODY,
      ngx_http_inbox_campaign_delete },

    { NGX_HTTP_GET, "campaigns/*/estimate", USER, NOBODY,
      ngx_http_inbox_campaign_draft_estimate },

    { NGX_HTTP_POST, "campaigns/*/send", USER, NOBODY,
      ngx_http_inbox_campaign_action },

    { NGX_HTTP_POST, "campaigns/*/pause", USER, NOBODY,
      ngx_http_inbox_campaign_action },

    { NGX_HTTP_POST, "campaigns/*/resume", USER, NOBODY,
      ngx_http_inbox_campaign_action },

    { NGX_HTTP_POST, "campaigns/*/cancel", USER, NOBODY,
      ngx_http_inbox_campaign_action },

    { NGX_HTTP_GET, "polls", USER, NOBODY,
      ngx_http_inbox_campaigns_list },

    { NGX_HTTP_POST, "polls", USER,
      JSON(NGX_HTTP_INBOX_CAMPAIGN_BODY_MAX),
      ngx_http_inbox_campaign_create },

    { NGX_HTTP_POST, "polls/estimate", USER,
      JSON(NGX_HTTP_INBOX_CAMPAIGN_BODY_MAX),
      ngx_http_inbox_campaign_estimate },

    { NGX_HTTP_GET, "polls/*", USER, NOBODY,
      ngx_http_inbox_campaign_get },

    { NGX_HTTP_PATCH, "polls/*", USER,
      JSON(NGX_HTTP_INBOX_CAMPAIGN_BODY_MAX),
      ngx_http_inbox_campaign_update },

    { NGX_HTTP_DELETE, "polls/*", USER, NOBODY,
      ngx_http_inbox_campaign_delete },

    { NGX_HTTP_GET, "polls/*/responses", USER, NOBODY,
      ngx_http_inbox_poll_responses },

    { NGX_HTTP_GET, "polls/*/estimate", USER, NOBODY,
      ngx_http_inbox_campaign_draft_estimate },

    { NGX_HTTP_POST, "polls/*/send", USER, NOBODY,
      ngx_http_inbox_campaign_action },

    { NGX_HTTP_POST, "polls/*/pause", USER, NOBODY,
      ngx_http_inbox_campaign_action },

    { NGX_HTTP_POST, "polls/*/resume", USER, NOBODY,
      ngx_http_inbox_campaign_action },

    { NGX_HTTP_POST, "polls/*/cancel", USER, NOBODY,
      ngx_http_inbox_campaign_action },

    { 0, NULL, 0, 0, 0, NULL, NULL }
};

#undef USER
#undef BILLING
#undef SESSION
#undef ANYONE
#undef NOBODY
#undef JSON
#undef BINARY


ngx_int_t
ngx_http_inbox_api_handler(ngx_http_request_t *r)
{
    ngx_int_t                          rc;
    ngx_str_t                          path, id;
    ngx_uint_t                         known, method;
    inbox_error_t                      err;
    ngx_http_inbox_api_t              *api;
    const ngx_http_inbox_api_route_t  *route;

    if (r->uri.len < ngx_http_inbox_api_prefix.len
        || ngx_strncmp(r->uri.data, ngx_http_inbox_api_prefix.data,
                       ngx_http_inbox_api_prefix.len) != 0)
    {
        inbox_error_set(&err, INBOX_ERR_NOT_FOUND,
                        "There is nothing at this path.");
        return ngx_http_inbox_api_refuse(r, &err);
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

    if (route->path == NULL) {
        if (known) {
            rc = ngx_http_inbox_body_refuse(r);

            if (rc != NGX_OK) {
                return rc;
            }

            return ngx_http_inbox_api_not_allowed(r, &path);
        }

        inbox_error_set(&err, INBOX_ERR_NOT_FOUND,
                        "There is nothing at this path.");
        return ngx_http_inbox_api_refuse(r, &err);
    }

    api = ngx_pcalloc(r->pool, sizeof(ngx_http_inbox_api_t));
    if (api == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    api->route = route;
    api->id = id;

    if (ngx_http_inbox_auth_check(r, api, &err) != INBOX_OK) {

        /* a cookie that can be no session is forgotten by the browser */
        if (err.code == INBOX_ERR_UNAUTHENTICATED
            && api->credential == NGX_HTTP_INBOX_CREDENTIAL_SESSION
            && ngx_http_inbox_auth_clear_cookie(r) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_inbox_api_refuse(r, &err);
    }

    if (route->body == NGX_HTTP_INBOX_BODY_NONE) {
        rc = ngx_http_discard_request_body(r);

        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_inbox_api_start(r, api);
    }

    /* a body: what it is and how large, before a byte of it is read */

    if (!ngx_http_inbox_api_type_ok(r, route)) {
        if (route->body == NGX_HTTP_INBOX_BODY_JSON) {
            inbox_error_set(&err, INBOX_ERR_UNSUPPORTED_MEDIA_TYPE,
                            "Send the body as JSON, with \"Content-Type: "
                            NGX_HTTP_INBOX_JSON "\".");

        } else {
            inbox_error_set(&err, INBOX_ERR_UNSUPPORTED_MEDIA_TYPE,
                            "The body must have one of these types: %s.",
                            route->types);
        }

        return ngx_http_inbox_api_refuse(r, &err);
    }

    if (r->headers_in.content_length_n
        > (off_t) ngx_http_inbox_api_max(r, route))
    {
        inbox_error_set(&err, INBOX_ERR_TOO_LARGE,
                        "The request body is larger than the %zu bytes "
                        "this request takes.",
                        ngx_http_inbox_api_max(r, route));
        return ngx_http_inbox_api_refuse(r, &err);
    }

    if (route->body == NGX_HTTP_INBOX_BODY_BINARY
        && route->auth != NGX_HTTP_INBOX_AUTH_NONE)
    {
        /* a large body (megabytes, spilled to disk): read only for a
         * caller the store knows and the route is for */
        return ngx_http_inbox_api_authenticate(r, api);
    }

    return ngx_http_inbox_api_read(r, api);
}


static ngx_int_t
ngx_http_inbox_api_read(ngx_http_request_t *r, ngx_http_inbox_api_t *api)
{
    ngx_int_t  rc;

    ngx_http_set_ctx(r, api, ngx_http_inbox_module);

    rc = ngx_http_read_client_request_body(r,
                                          ngx_http_inbox_api_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/* A job of its own that only finds who is asking, before the body. */

static ngx_int_t
ngx_http_inbox_api_authenticate(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api)
{
    ngx_http_inbox_job_t  *job;

    job = ngx_http_inbox_job_create(r, ngx_http_inbox_api_auth_run, api);
    if (job == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    job->done = ngx_http_inbox_api_authenticated;

    return ngx_http_inbox_job_post(r, job);
}


/* In a pool thread. */

static void
ngx_http_inbox_api_auth_run(ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_api_t  *api = job->data;

    inbox_store_t  *store;

    store = ngx_http_inbox_store(&job->error);
    if (store == NULL) {
        return;
    }

    (void) ngx_http_inbox_api_who(api, store, &job->error);
}


/*
 * In the event loop: the caller is known, and the body is read now (the
 * route's job then runs without finding them again); or they are
 * refused, and it never is.
 */

static ngx_int_t
ngx_http_inbox_api_authenticated(ngx_http_request_t *r,
    ngx_http_inbox_job_t *job)
{
    ngx_int_t              rc;
    ngx_http_inbox_api_t  *api = job->data;

    if (job->error.code != INBOX_OK) {
        rc = ngx_http_inbox_body_refuse(r);

        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_inbox_api_done(r, job);
    }

    api->authenticated = 1;

    return ngx_http_inbox_api_read(r, api);
}


/* An answer before the body was read: the body is never read. */

static ngx_int_t
ngx_http_inbox_api_refuse(ngx_http_request_t *r, const inbox_error_t *err)
{
    ngx_int_t  rc;

    rc = ngx_http_inbox_body_refuse(r);

    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_inbox_reply_error(r, err);
}


static ngx_uint_t
ngx_http_inbox_api_type_ok(ngx_http_request_t *r,
    const ngx_http_inbox_api_route_t *route)
{
    u_char       type[64];
    size_t       len;
    const char  *p, *end;

    if (route->body == NGX_HTTP_INBOX_BODY_JSON) {
        return ngx_http_inbox_content_type_is(r, NGX_HTTP_INBOX_JSON);
    }

    if (route->types == NULL) {
        /* the route reads the bytes themselves */
        return 1;
    }

    for (p = route->types; p && *p; p = end) {

        while (*p == ' ') {
            p++;
        }

        for (end = p; *end && *end != ' '; end++) {
            /* void */
        }

        len = end - p;

        if (len == 0 || len >= sizeof(type)) {
            continue;
        }

        ngx_memcpy(type, p, len);
        type[len] = '\0';

        if (ngx_http_inbox_content_type_is(r, (char *) type)) {
            return 1;
        }
    }

    return 0;
}


/* The route's largest body: its own, or its location's. */

static size_t
ngx_http_inbox_api_max(ngx_http_request_t *r,
    const ngx_http_inbox_api_route_t *route)
{
    ngx_http_core_loc_conf_t  *clcf;

    if (route->max) {
        return route->max;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    /* 0 would be no limit: the inbox always has one */
    return clcf->client_max_body_size ? (size_t) clcf->client_max_body_size
                                      : INBOX_MEDIA_SIZE_DEFAULT;
}


static void
ngx_http_inbox_api_body_handler(ngx_http_request_t *r)
{
    size_t                 max;
    ngx_int_t              rc;
    inbox_error_t          err;
    ngx_http_inbox_api_t  *api;

    api = ngx_http_get_module_ctx(r, ngx_http_inbox_module);

    max = ngx_http_inbox_api_max(r, api->route);

    if (api->route->body == NGX_HTTP_INBOX_BODY_BINARY) {
        /* left where nginx put it, for the pool thread to read */
        rc = ngx_http_inbox_request_body_size(r, max);

    } else {
        rc = ngx_http_inbox_request_body(r, max, &api->body);
    }

    if (rc == NGX_DECLINED) {
        /* a chunked body, which had no length to check before */
        inbox_error_set(&err, INBOX_ERR_TOO_LARGE,
                        "The request body is larger than the %zu bytes "
                        "this request takes.", max);
        rc = ngx_http_inbox_reply_error(r, &err);

    } else if (rc != NGX_OK) {
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;

    } else {
        rc = ngx_http_inbox_api_start(r, api);
    }

    ngx_http_finalize_request(r, rc);
}


/*
 * The route's prepare, then the job: at once, or api->wait later (a
 * sign-in slowed after failures).  NGX_DONE, or a reply's code.
 */

static ngx_int_t
ngx_http_inbox_api_start(ngx_http_request_t *r, ngx_http_inbox_api_t *api)
{
    ngx_event_t  *wev;

    if (api->route->prepare(r, api, &api->id) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* nobody to authenticate first: a mistake is answered now */
    if (api->route->auth == NGX_HTTP_INBOX_AUTH_NONE
        && api->invalid.code != INBOX_OK)
    {
        return ngx_http_inbox_reply_error(r, &api->invalid);
    }

    if (api->wait == 0) {
        return ngx_http_inbox_api_post(r, api);
    }

    /* as limit_req delays: the write event's timer, the client watched */

    ngx_http_set_ctx(r, api, ngx_http_inbox_module);

    if (!r->discard_body) {
        r->read_event_handler = ngx_http_test_reading;
    }

    r->write_event_handler = ngx_http_inbox_api_delayed;

    wev = r->connection->write;
    wev->delayed = 1;
    ngx_add_timer(wev, api->wait);

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_inbox_api_delayed(ngx_http_request_t *r)
{
    ngx_event_t           *wev;
    ngx_http_inbox_api_t  *api;

    wev = r->connection->write;

    if (wev->delayed) {
        /* woken before the timer: wait on */
        if (ngx_handle_write_event(wev, 0) != NGX_OK) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        }

        return;
    }

    r->write_event_handler = ngx_http_request_empty_handler;

    api = ngx_http_get_module_ctx(r, ngx_http_inbox_module);

    ngx_http_finalize_request(r, ngx_http_inbox_api_post(r, api));
}


static ngx_int_t
ngx_http_inbox_api_post(ngx_http_request_t *r, ngx_http_inbox_api_t *api)
{
    ngx_http_inbox_job_t  *job;

    job = ngx_http_inbox_job_create(r, ngx_http_inbox_api_run, api);
    if (job == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    job->done = ngx_http_inbox_api_done;

    return ngx_http_inbox_job_post(r, job);
}


/*
 * 1 when path is pattern, with id pointing at the "*" segment if any.  A
 * "*" is no segment a route names in its place ("contacts/import" is
 * never the contact "import"): such a path is that route's alone, and
 * its other methods are 405 with that route's Allow.
 */

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

            if (p == start
                || ngx_http_inbox_api_named(pattern, q - pattern, start,
                                            p - start))
            {
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


/* 1 when a route's path, the same as pattern's first n characters, goes
 * on with segment there. */

static ngx_uint_t
ngx_http_inbox_api_named(const char *pattern, size_t n, u_char *segment,
    size_t len)
{
    const char                        *named;
    const ngx_http_inbox_api_route_t  *route;

    for (route = ngx_http_inbox_api_routes; route->path; route++) {
        named = route->path;

        if (ngx_strncmp(named, pattern, n) == 0
            && named[n] != '*'
            && ngx_strncmp(named + n, segment, len) == 0
            && (named[n + len] == '/' || named[n + len] == '\0'))
        {
            return 1;
        }
    }

    return 0;
}


static ngx_int_t
ngx_http_inbox_api_not_allowed(ngx_http_request_t *r, ngx_str_t *path)
{
    u_char                            *allow, *p;
    ngx_str_t                          id;
    const char                        *name;
    const ngx_http_inbox_api_route_t  *route;

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

        name = ngx_http_inbox_api_method_name(route->method);
        p = ngx_cpymem(p, name, ngx_strlen(name));

        if (route->method == NGX_HTTP_GET) {
            p = ngx_cpymem(p, ", HEAD", 6);
        }
    }

    *p = '\0';

    return ngx_http_inbox_reply_not_allowed(r, (char *) allow);
}


static const char *
ngx_http_inbox_api_method_name(ngx_uint_t method)
{
    switch (method) {
    case NGX_HTTP_GET:
        return "GET";
    case NGX_HTTP_POST:
        return "POST";
    case NGX_HTTP_PUT:
        return "PUT";
    case NGX_HTTP_PATCH:
        return "PATCH";
    case NGX_HTTP_DELETE:
        return "DELETE";
    default:
        return "OPTIONS";
    }
}


/* In a pool thread: who is asking, then what they asked. */

static void
ngx_http_inbox_api_run(ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_api_t  *api = job->data;

    inbox_store_t  *store;

    store = ngx_http_inbox_store(&job->error);
    if (store == NULL) {
        return;
    }

    if (api->route->auth != NGX_HTTP_INBOX_AUTH_NONE
        && !api->authenticated
        && ngx_http_inbox_api_who(api, store, &job->error) != INBOX_OK)
    {
        return;
    }

    if (api->invalid.code != INBOX_OK) {
        job->error = api->invalid;
        return;
    }

    api->op(api, store, job);
}


/* In a pool thread: who api's credential acts as, and whether the route
 * is for them. */

static inbox_status_t
ngx_http_inbox_api_who(ngx_http_inbox_api_t *api, inbox_store_t *store,
    inbox_error_t *err)
{
    if (ngx_http_inbox_auth_find(api, store, err) != INBOX_OK) {
        return err->code;
    }

    /* a member is refused before anything it sent is looked at */
    if (api->route->auth == NGX_HTTP_INBOX_AUTH_BILLING
        && api->principal.role != INBOX_ROLE_BILLING)
    {
        return inbox_error_set(err, INBOX_ERR_FORBIDDEN,
                               "Only a billing admin can do this; contact "
                               "your billing admin.");
    }

    return INBOX_OK;
}


/* In the event loop: the route's own done, then a session that no longer
 * counts is forgotten by the browser too. */

static ngx_int_t
ngx_http_inbox_api_done(ngx_http_request_t *r, ngx_http_inbox_job_t *job)
{
    ngx_int_t              rc;
    ngx_http_inbox_api_t  *api = job->data;

    if (api->done) {
        rc = api->done(r, job);

        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    if (job->body == NULL
        && job->error.code == INBOX_ERR_UNAUTHENTICATED
        && api->credential == NGX_HTTP_INBOX_CREDENTIAL_SESSION
        && api->route->auth != NGX_HTTP_INBOX_AUTH_NONE
        && ngx_http_inbox_auth_clear_cookie(r) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_inbox_api_query(ngx_http_request_t *r, ngx_http_inbox_api_t *api,
    inbox_form_t **query)
{
    const char          *name;
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

        if (err.code == INBOX_ERR_INVALID && err.field[0] != '\0') {
            /* a %00, which libinbox names the field of */
            api->invalid = err;
            return NGX_OK;
        }

        if (err.code == INBOX_ERR_INVALID) {
            inbox_error_set(&api->invalid, INBOX_ERR_INVALID,
                            "The query string has a malformed %%-escape.");
            return NGX_OK;
        }

        return NGX_ERROR;
    }

    if (inbox_form_repeated(form, &name, &err) != INBOX_OK) {
        return NGX_ERROR;
    }

    if (name != NULL && api->invalid.code == INBOX_OK) {
        /* the first would win silently: "limit=5&limit=500" is 5 */
        inbox_error_set_field(&api->invalid, INBOX_ERR_INVALID, name,
                              "%s is given twice in the query string.",
                              name);
    }

    return NGX_OK;
}


unsigned
ngx_http_inbox_api_limit(ngx_http_inbox_api_t *api, const inbox_form_t *query)
{
    return ngx_http_inbox_api_limit_within(api, query,
                                           INBOX_LIST_LIMIT_DEFAULT,
                                           INBOX_LIST_LIMIT_MAX);
}


ngx_int_t
ngx_http_inbox_api_search_country(ngx_http_inbox_api_t *api,
    inbox_store_t *store, const char *q, const char *fallback,
    const char **country, char buf[INBOX_COUNTRY_MAX],
    ngx_http_inbox_job_t *job)
{
    if (q == NULL || q[0] == '\0') {
        return NGX_OK;
    }

    if (inbox_store_default_country(store, api->principal.org_id, fallback,
                                    buf, &job->error)
        != INBOX_OK)
    {
        return NGX_ERROR;
    }

    *country = buf;

    return NGX_OK;
}


unsigned
ngx_http_inbox_api_limit_within(ngx_http_inbox_api_t *api,
    const inbox_form_t *query, unsigned dflt, unsigned max)
{
    ngx_int_t    n;
    const char  *value;

    value = inbox_form_get(query, "limit");

    if (value == NULL) {
        return dflt;
    }

    n = ngx_atoi((u_char *) value, ngx_strlen(value));

    if (n < 1 || (ngx_uint_t) n > max) {
        if (api->invalid.code == INBOX_OK) {
            inbox_error_set_field(&api->invalid, INBOX_ERR_INVALID, "limit",
                                  "limit must be a number from 1 to %u.",
                                  max);
        }

        return dflt;
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


char *
ngx_http_inbox_api_secret(ngx_http_request_t *r, inbox_request_t *req,
    const char *field, size_t *len)
{
    char        *copy;
    const char  *value;

    value = inbox_request_string(req, field);
    *len = ngx_strlen(value);

    copy = ngx_pnalloc(r->pool, *len + 1);
    if (copy == NULL) {
        return NULL;
    }

    ngx_memcpy(copy, value, *len + 1);
    ngx_explicit_memzero((void *) value, *len);

    return copy;
}


void *
ngx_http_inbox_api_secret_args(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, size_t size, ngx_pool_cleanup_pt cleanup)
{
    void                *args;
    ngx_pool_cleanup_t  *cln;

    args = ngx_pcalloc(r->pool, size);
    if (args == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = cleanup;
    cln->data = args;

    api->args = args;

    return args;
}


ngx_int_t
ngx_http_inbox_api_secret_json(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, const inbox_field_t *fields,
    inbox_request_t **req)
{
    if (ngx_http_inbox_api_json(r, api, fields, req) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_explicit_memzero(api->body.data, api->body.len);

    return NGX_OK;
}


static void
ngx_http_inbox_api_query_cleanup(void *data)
{
    inbox_form_t  *form = data;

    inbox_form_free(form);
}


ngx_int_t
ngx_http_inbox_api_json(ngx_http_request_t *r, ngx_http_inbox_api_t *api,
    const inbox_field_t *fields, inbox_request_t **req)
{
    inbox_error_t        err;
    inbox_request_t     *parsed;
    ngx_pool_cleanup_t  *cln;

    parsed = ngx_pcalloc(r->pool, sizeof(inbox_request_t));
    if (parsed == NULL) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_inbox_api_json_cleanup;
    cln->data = parsed;

    *req = parsed;

    if (inbox_request_parse((char *) api->body.data, api->body.len, fields,
                            parsed, &err)
        != INBOX_OK)
    {
        if (err.code == INBOX_ERR_INTERNAL) {
            return NGX_ERROR;
        }

        if (api->invalid.code == INBOX_OK) {
            api->invalid = err;
        }
    }

    return NGX_OK;
}


static void
ngx_http_inbox_api_json_cleanup(void *data)
{
    inbox_request_t  *req = data;

    inbox_request_free(req);
}
