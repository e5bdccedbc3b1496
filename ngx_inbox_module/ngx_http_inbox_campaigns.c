
/*
 * Campaigns and polls: GET and POST /api/v1/campaigns, POST
 * /api/v1/campaigns/estimate, GET, PATCH and DELETE (a draft, or one
 * cancelled before it began) /api/v1/campaigns/{id}, POST
 * /api/v1/campaigns/{id}/send|pause|resume|cancel, and the same under
 * /api/v1/polls (a poll's GET has its tally and its newest responses,
 * GET /api/v1/polls/{id}/responses pages through the older ones; PATCH
 * edits a draft, the fields it leaves out as they are, and moves the
 * time of one scheduled or paused before it began when it names send_at
 * alone).
 *
 * The path's first segment says whether a campaign or a poll is meant:
 * a poll's id under /campaigns (or a campaign's under /polls) is 404.
 * The JSON is read in the event loop; libinbox's rules (campaign.h,
 * poll.h) judge it in the pool thread, where the store's answer (409
 * for a move the lifecycle refuses) is given.  Every move wakes the
 * sender, as a reply does: a send or a resume for the recipients due, a
 * pause or a cancel so that it starts nothing more of the campaign.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <stdlib.h>

#include <inbox/campaign.h>
#include <inbox/clock.h>
#include <inbox/media.h>
#include <inbox/poll.h>
#include <inbox/render.h>
#include <inbox/segments.h>

#include "ngx_http_inbox_module.h"
#include "ngx_http_inbox_api.h"


typedef struct {
    inbox_campaign_kind_t     kind;
    const char               *id;
    const char               *cursor;
    unsigned                  limit;
    inbox_campaign_action_t   action;
    inbox_campaign_new_t      c;
    inbox_tags_t              tags;
    const char               *options[INBOX_POLL_OPTIONS_MAX];
    const char               *media_ids[INBOX_MEDIA_MAX];
    const char               *base;        /* the public URL, no "/" */
    const inbox_request_t    *req;         /* the body read, which PATCH
                                              asks what it names */
} ngx_http_inbox_campaigns_args_t;


static ngx_http_inbox_campaigns_args_t *ngx_http_inbox_campaigns_args(
    ngx_http_request_t *r, ngx_http_inbox_api_t *api);
static void ngx_http_inbox_campaigns_cleanup(void *data);
static ngx_int_t ngx_http_inbox_campaign_body(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_http_inbox_campaigns_args_t *args);
static void ngx_http_inbox_campaigns_invalid(ngx_http_inbox_api_t *api,
    const char *field, const char *message);
static inbox_status_t ngx_http_inbox_campaign_of_kind(
    ngx_http_inbox_campaigns_args_t *args, inbox_store_t *store,
    const char *org_id, inbox_campaign_t *campaign, inbox_error_t *err);

static void ngx_http_inbox_campaigns_list_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);
static void ngx_http_inbox_campaign_create_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);
static void ngx_http_inbox_campaign_update_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);
static void ngx_http_inbox_campaign_delete_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);
static void ngx_http_inbox_campaign_keep(ngx_http_inbox_campaigns_args_t *args,
    const inbox_campaign_t *was);
static ngx_uint_t ngx_http_inbox_campaign_time_only(
    ngx_http_inbox_campaigns_args_t *args);
static inbox_status_t ngx_http_inbox_campaign_links_check(
    ngx_http_inbox_campaigns_args_t *args, inbox_error_t *err);
static void ngx_http_inbox_campaign_estimate_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);
static void ngx_http_inbox_campaign_draft_estimate_op(
    ngx_http_inbox_api_t *api, inbox_store_t *store,
    ngx_http_inbox_job_t *job);
static void ngx_http_inbox_campaign_get_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);
static void ngx_http_inbox_poll_responses_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);
static void ngx_http_inbox_campaign_action_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);


/* Types and sizes; each value's own rules are campaign.h's and poll.h's,
 * checked in the pool thread. */
static const inbox_field_t  ngx_http_inbox_audience_fields[] = {
    { .name = "all", .type = INBOX_FIELD_BOOLEAN },
    { .name = "tags", .type = INBOX_FIELD_STRINGS, .max = INBOX_TAGS_MAX,
      .item = "Tag" },
    { .name = NULL }
};

static const inbox_field_t  ngx_http_inbox_campaign_fields[] = {
    { .name = "name", .type = INBOX_FIELD_STRING },
    { .name = "body", .type = INBOX_FIELD_STRING },
    { .name = "media_ids", .type = INBOX_FIELD_STRINGS,
      .max = INBOX_MEDIA_MAX, .item_max = INBOX_ID_MAX - 1,
      .item = INBOX_MEDIA_ITEM },
    { .name = "audience", .type = INBOX_FIELD_OBJECT,
      .fields = ngx_http_inbox_audience_fields },
    { .name = "send_at", .type = INBOX_FIELD_STRING, .nullable = 1,
      .max = 64 },
    { .name = NULL }
};

static const inbox_field_t  ngx_http_inbox_poll_fields[] = {
    { .name = "name", .type = INBOX_FIELD_STRING },
    { .name = "question", .type = INBOX_FIELD_STRING },
    { .name = "options", .type = INBOX_FIELD_STRINGS,
      .max = INBOX_POLL_OPTIONS_MAX, .item = "Option" },
    { .name = "audience", .type = INBOX_FIELD_OBJECT,
      .fields = ngx_http_inbox_audience_fields },
    { .name = "send_at", .type = INBOX_FIELD_STRING, .nullable = 1,
      .max = 64 },
    { .name = NULL }
};


static ngx_str_t  ngx_http_inbox_polls_prefix = ngx_string("/api/v1/polls");


ngx_int_t
ngx_http_inbox_campaigns_list(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id)
{
    inbox_form_t                     *query;
    ngx_http_inbox_campaigns_args_t  *args;

    args = ngx_http_inbox_campaigns_args(r, api);
    if (args == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_inbox_api_query(r, api, &query) != NGX_OK) {
        return NGX_ERROR;
    }

    args->cursor = inbox_form_get(query, "cursor");
    args->limit = ngx_http_inbox_api_limit(api, query);

    api->op = ngx_http_inbox_campaigns_list_op;

    return NGX_OK;
}


/* Where carriers fetch a campaign's images from, and where its links
 * point for the recipients MMS does not reach. */
static ngx_int_t
ngx_http_inbox_campaign_base(ngx_http_request_t *r,
    ngx_http_inbox_campaigns_args_t *args)
{
    ngx_str_t  base;

    if (ngx_http_inbox_public_base(r, &base) != NGX_OK) {
        return NGX_ERROR;
    }

    args->base = ngx_http_inbox_strdup(r->pool, &base);

    return args->base != NULL ? NGX_OK : NGX_ERROR;
}


ngx_int_t
ngx_http_inbox_campaign_create(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id)
{
    ngx_http_inbox_campaigns_args_t  *args;

    args = ngx_http_inbox_campaigns_args(r, api);
    if (args == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_inbox_campaign_base(r, args) != NGX_OK) {
        return NGX_ERROR;
    }

    api->op = ngx_http_inbox_campaign_create_op;

    return ngx_http_inbox_campaign_body(r, api, args);
}


ngx_int_t
ngx_http_inbox_campaign_estimate(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id)
{
    ngx_http_inbox_campaigns_args_t  *args;

    args = ngx_http_inbox_campaigns_args(r, api);
    if (args == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_inbox_campaign_base(r, args) != NGX_OK) {
        return NGX_ERROR;
    }

    api->op = ngx_http_inbox_campaign_estimate_op;

    return ngx_http_inbox_campaign_body(r, api, args);
}


/* The arguments of a route that names one campaign or poll (an id that
 * none can have is answered 404); NULL when out of memory. */
static ngx_http_inbox_campaigns_args_t *
ngx_http_inbox_campaign_named(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id)
{
    ngx_http_inbox_campaigns_args_t  *args;

    args = ngx_http_inbox_campaigns_args(r, api);
    if (args == NULL) {
        return NULL;
    }

    args->id = ngx_http_inbox_api_id(r, api, id);

    return args->id != NULL ? args : NULL;
}


/* A poll's responses a page: ?limit= up to INBOX_POLL_RESPONSES_MAX (by
 * default that many with the poll, a hundred a page after it) and, after
 * the first, ?cursor=. */
static ngx_int_t
ngx_http_inbox_poll_page(ngx_http_request_t *r, ngx_http_inbox_api_t *api,
    ngx_http_inbox_campaigns_args_t *args, unsigned dflt)
{
    inbox_form_t  *query;

    if (ngx_http_inbox_api_query(r, api, &query) != NGX_OK) {
        return NGX_ERROR;
    }

    args->cursor = inbox_form_get(query, "cursor");
    args->limit = ngx_http_inbox_api_limit_within(api, query, dflt,
                                                  INBOX_POLL_RESPONSES_MAX);

    return NGX_OK;
}


ngx_int_t
ngx_http_inbox_campaign_get(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id)
{
    ngx_http_inbox_campaigns_args_t  *args;

    args = ngx_http_inbox_campaign_named(r, api, id);
    if (args == NULL) {
        return NGX_ERROR;
    }

    api->op = ngx_http_inbox_campaign_get_op;

    if (args->kind != INBOX_CAMPAIGN_KIND_POLL) {
        return NGX_OK;
    }

    return ngx_http_inbox_poll_page(r, api, args, INBOX_POLL_RESPONSES_MAX);
}


ngx_int_t
ngx_http_inbox_poll_responses(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id)
{
    ngx_http_inbox_campaigns_args_t  *args;

    args = ngx_http_inbox_campaign_named(r, api, id);
    if (args == NULL) {
        return NGX_ERROR;
    }

    api->op = ngx_http_inbox_poll_responses_op;

    return ngx_http_inbox_poll_page(r, api, args,
                                    NGX_HTTP_INBOX_RESPONSES_PAGE);
}


ngx_int_t
ngx_http_inbox_campaign_update(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id)
{
    ngx_http_inbox_campaigns_args_t  *args;

    args = ngx_http_inbox_campaign_named(r, api, id);
    if (args == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_inbox_campaign_base(r, args) != NGX_OK) {
        return NGX_ERROR;
    }

    api->op = ngx_http_inbox_campaign_update_op;

    return ngx_http_inbox_campaign_body(r, api, args);
}


ngx_int_t
ngx_http_inbox_campaign_delete(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id)
{
    ngx_http_inbox_campaigns_args_t  *args;

    args = ngx_http_inbox_campaign_named(r, api, id);
    if (args == NULL) {
        return NGX_ERROR;
    }

    api->op = ngx_http_inbox_campaign_delete_op;

    return NGX_OK;
}


ngx_int_t
ngx_http_inbox_campaign_draft_estimate(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id)
{
    ngx_http_inbox_campaigns_args_t  *args;

    args = ngx_http_inbox_campaign_named(r, api, id);
    if (args == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_inbox_campaign_base(r, args) != NGX_OK) {
        return NGX_ERROR;
    }

    api->op = ngx_http_inbox_campaign_draft_estimate_op;

    return NGX_OK;
}


ngx_int_t
ngx_http_inbox_campaign_action(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id)
{
    char                              name[16];
    u_char                           *p, *last;
    ngx_http_inbox_campaigns_args_t  *args;

    args = ngx_http_inbox_campaign_named(r, api, id);
    if (args == NULL) {
        return NGX_ERROR;
    }

    /* the route matched ".../{id}/NAME": NAME is one of libinbox's
     * action names */
    last = r->uri.data + r->uri.len;

    for (p = last; p > r->uri.data && p[-1] != '/'; p--) {
        /* void */
    }

    if ((size_t) (last - p) >= sizeof(name)) {
        return NGX_ERROR;
    }

    ngx_memcpy(name, p, last - p);
    name[last - p] = '\0';

    if (inbox_campaign_action_parse(name, &args->action) != 0) {
        /* the route table names no other */
        return NGX_ERROR;
    }

    api->op = ngx_http_inbox_campaign_action_op;

    return NGX_OK;
}


/* The request's arguments, its kind from the path, freed with it. */

static ngx_http_inbox_campaigns_args_t *
ngx_http_inbox_campaigns_args(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api)
{
    ngx_pool_cleanup_t               *cln;
    ngx_http_inbox_campaigns_args_t  *args;

    args = ngx_pcalloc(r->pool, sizeof(ngx_http_inbox_campaigns_args_t));
    if (args == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_inbox_campaigns_cleanup;
    cln->data = args;

    /* "/api/v1/polls" then the end or "/" */
    if (r->uri.len >= ngx_http_inbox_polls_prefix.len
        && ngx_strncmp(r->uri.data, ngx_http_inbox_polls_prefix.data,
                       ngx_http_inbox_polls_prefix.len) == 0
        && (r->uri.len == ngx_http_inbox_polls_prefix.len
            || r->uri.data[ngx_http_inbox_polls_prefix.len] == '/'))
    {
        args->kind = INBOX_CAMPAIGN_KIND_POLL;

    } else {
        args->kind = INBOX_CAMPAIGN_KIND_CAMPAIGN;
    }

    args->c.kind = args->kind;
    api->args = args;

    return args;
}


static void
ngx_http_inbox_campaigns_cleanup(void *data)
{
    ngx_http_inbox_campaigns_args_t  *args = data;

    inbox_tags_free(&args->tags);
}


static void
ngx_http_inbox_campaigns_invalid(ngx_http_inbox_api_t *api,
    const char *field, const char *message)
{
    if (api->invalid.code == INBOX_OK) {
        inbox_error_set_field(&api->invalid, INBOX_ERR_INVALID, field, "%s",
                              message);
    }
}


/*
 * A campaign's {"name","body","media_ids","audience","send_at"} or a
 * poll's {"name","question","options","audience","send_at"}, read by the
 * API's JSON reader; the audience's tags and send_at checked here, the
 * rest by inbox_campaign_check in the pool thread.  The strings point
 * into the parsed body, which lives as long as the request.
 */

static ngx_int_t
ngx_http_inbox_campaign_body(ngx_http_request_t *r, ngx_http_inbox_api_t *api,
    ngx_http_inbox_campaigns_args_t *args)
{
    size_t            i;
    yajl_val          v, all, tags;
    int64_t           at;
    const char       *s;
    inbox_error_t     err;
    inbox_request_t  *req;

    if (ngx_http_inbox_api_json(r, api,
                                args->kind == INBOX_CAMPAIGN_KIND_POLL
                                ? ngx_http_inbox_poll_fields
                                : ngx_http_inbox_campaign_fields,
                                &req)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (req->root == NULL) {
        return NGX_OK;
    }

    args->req = req;
    args->c.name = inbox_request_string(req, "name");
    args->c.body = inbox_request_string(req, "body");
    args->c.question = inbox_request_string(req, "question");

    v = inbox_request_get(req, "options");

    if (v != NULL && YAJL_IS_ARRAY(v)) {
        /* the reader took at most INBOX_POLL_OPTIONS_MAX strings */
        for (i = 0; i < v->u.array.len && i < INBOX_POLL_OPTIONS_MAX; i++) {
            args->options[i] = YAJL_GET_STRING(v->u.array.values[i]);
        }

        args->c.options = args->options;
        args->c.option_count = i;
    }

    v = inbox_request_get(req, "media_ids");

    if (v != NULL && YAJL_IS_ARRAY(v)) {
        for (i = 0; i < v->u.array.len && i < INBOX_MEDIA_MAX; i++) {
            args->media_ids[i] = YAJL_GET_STRING(v->u.array.values[i]);
        }

        args->c.media_count = i;
    }

    /* the audience: all contacts, or any of 1 to 50 tags (an empty
     * one is refused by inbox_campaign_check, naming it) */
    all = inbox_request_get(req, "audience.all");
    tags = inbox_request_get(req, "audience.tags");

    args->c.audience_all = all != NULL && YAJL_IS_TRUE(all);

    if (all != NULL && !args->c.audience_all) {
        ngx_http_inbox_campaigns_invalid(api, "audience",
                                         "audience.all is true or absent; "
                                         "name tags for fewer contacts.");
        return NGX_OK;
    }

    if (tags != NULL) {
        for (i = 0; i < tags->u.array.len; i++) {
            s = YAJL_GET_STRING(tags->u.array.values[i]);

            if (inbox_tags_add_named(&args->tags, s, ngx_strlen(s), &err)
                != INBOX_OK)
            {
                /* the reader let in at most INBOX_TAGS_MAX: the tag's */
                inbox_request_item_refused(
                    args->kind == INBOX_CAMPAIGN_KIND_POLL
                    ? ngx_http_inbox_poll_fields
                    : ngx_http_inbox_campaign_fields,
                    "audience.tags", i, &err);
                ngx_http_inbox_campaigns_invalid(api, err.field,
                                                 err.message);
                return NGX_OK;
            }
        }

        args->c.tags = &args->tags;

        if (args->tags.count == 0) {
            ngx_http_inbox_campaigns_invalid(api, "audience",
                                             "Name at least one tag, or "
                                             "send to all contacts with "
                                             "{\"all\": true}.");
            return NGX_OK;
        }
    }

    s = inbox_request_string(req, "send_at");

    if (s != NULL) {
        if (inbox_iso8601_parse(s, &at) != 0 || at <= 0) {
            ngx_http_inbox_campaigns_invalid(api, "send_at",
                                             "send_at is a UTC time such "
                                             "as 2030-01-31T09:00:00Z, or "
                                             "null to send when asked.");
            return NGX_OK;
        }

        args->c.send_at = at;
    }

    return NGX_OK;
}


/* The campaign the path names, of the path's kind (the other kind's id
 * is none: 404). */

static inbox_status_t
ngx_http_inbox_campaign_of_kind(ngx_http_inbox_campaigns_args_t *args,
    inbox_store_t *store, const char *org_id, inbox_campaign_t *campaign,
    inbox_error_t *err)
{
    /* named by the path's kind, whatever the store found or did not */
    return inbox_campaign_found(inbox_store_campaign_get(store, org_id,
                                                         args->id, campaign,
                                                         err),
                                campaign, args->kind, err);
}


/* The ops run in a pool thread. */

static void
ngx_http_inbox_campaigns_list_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_campaigns_args_t *args = api->args;

    char                   *json;
    size_t                  len;
    inbox_campaign_page_t   page;

    if (inbox_store_campaigns_list(store, api->principal.org_id, args->kind,
                                   args->cursor, args->limit, &page,
                                   &job->error)
        == INBOX_OK)
    {
        json = inbox_render_campaign_page(&page, &len);
        ngx_http_inbox_job_document(job, NGX_HTTP_OK, json, len);
    }

    inbox_campaign_page_free(&page);
}


static void
ngx_http_inbox_campaign_create_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_campaigns_args_t *args = api->args;

    char                *json;
    size_t               len;
    inbox_media_t        media[INBOX_MEDIA_MAX];
    inbox_campaign_t     campaign;
    inbox_event_list_t   events;

    ngx_memzero(&campaign, sizeof(inbox_campaign_t));
    ngx_memzero(&events, sizeof(inbox_event_list_t));

    /* what may be sent first: a mistake in the text is named before an
     * unknown image (the check needs only where the images will be) */
    args->c.media = args->c.media_count > 0 ? media : NULL;

    if (inbox_campaign_check(&args->c, &job->error) != INBOX_OK) {
        return;
    }

    if (args->c.media_count > 0
        && ngx_http_inbox_api_media(store, api->principal.org_id,
                                    args->base,
                                    ngx_http_inbox_campaign_fields,
                                    args->media_ids,
                                    args->c.media_count, media, &job->error)
           != INBOX_OK)
    {
        return;
    }

    if (ngx_http_inbox_campaign_links_check(args, &job->error) != INBOX_OK) {
        return;
    }

    if (inbox_store_campaign_create(store, api->principal.org_id, &args->c,
                                    inbox_now_ms(), &campaign, &events,
                                    &job->error)
        == INBOX_OK)
    {
        json = inbox_render_campaign(&campaign, &len);
        ngx_http_inbox_job_document(job, NGX_HTTP_CREATED, json, len);
    }

    /* campaign.updated: the other browsers' lists add it */
    ngx_http_inbox_events_send(&events);

    inbox_event_list_free(&events);
    inbox_campaign_free(&campaign);
}


/*
 * PATCH: the draft as stored, with what the body names in place of what
 * it had.  A campaign no longer a draft is refused before the body's
 * values are judged (they would not matter; a body of the wrong shape
 * was refused already, 400); the store checks again in its write, at
 * the revision read, so a send or another edit made meanwhile wins.
 * But a PATCH of a campaign no longer a draft naming send_at alone is a
 * move of its time, which the store judges (inbox_campaign_movable) in
 * its write.
 */
static void
ngx_http_inbox_campaign_update_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_campaigns_args_t *args = api->args;

    char                *json;
    size_t               len;
    inbox_media_t        media[INBOX_MEDIA_MAX];
    inbox_campaign_t     was, campaign;
    inbox_event_list_t   events;

    ngx_memzero(&campaign, sizeof(inbox_campaign_t));
    ngx_memzero(&events, sizeof(inbox_event_list_t));

    if (ngx_http_inbox_campaign_of_kind(args, store, api->principal.org_id,
                                        &was, &job->error)
        != INBOX_OK)
    {
        goto done;
    }

    /* a scheduled campaign's time is all of it that can move */
    if (was.status != INBOX_CAMPAIGN_DRAFT
        && ngx_http_inbox_campaign_time_only(args))
    {
        if (inbox_store_campaign_reschedule(store, api->principal.org_id,
                                            args->id, args->kind,
                                            args->c.send_at, inbox_now_ms(),
                                            &campaign, &events, &job->error)
            == INBOX_OK)
        {
            json = inbox_render_campaign(&campaign, &len);
            ngx_http_inbox_job_document(job, NGX_HTTP_OK, json, len);

            ngx_http_inbox_sender_wake();
        }

        goto done;
    }

    if (inbox_campaign_editable(was.status, &job->error) != INBOX_OK) {
        goto done;
    }

    ngx_http_inbox_campaign_keep(args, &was);

    if (inbox_request_has(args->req, "media_ids")) {
        args->c.media = args->c.media_count > 0 ? media : NULL;
    }

    if (inbox_campaign_check(&args->c, &job->error) != INBOX_OK) {
        goto done;
    }

    if (inbox_request_has(args->req, "media_ids")
        && args->c.media_count > 0
        && ngx_http_inbox_api_media(store, api->principal.org_id,
                                    args->base,
                                    ngx_http_inbox_campaign_fields,
                                    args->media_ids,
                                    args->c.media_count, media, &job->error)
           != INBOX_OK)
    {
        goto done;
    }

    if (ngx_http_inbox_campaign_links_check(args, &job->error) != INBOX_OK) {
        goto done;
    }

    if (inbox_store_campaign_update(store, api->principal.org_id, args->id,
                                    was.revision, &args->c, &campaign,
                                    &events, &job->error)
        == INBOX_OK)
    {
        json = inbox_render_campaign(&campaign, &len);
        ngx_http_inbox_job_document(job, NGX_HTTP_OK, json, len);
    }

done:

    /* campaign.updated: the other browsers' cards redrawn */
    ngx_http_inbox_events_send(&events);

    inbox_event_list_free(&events);
    inbox_campaign_free(&was);
    inbox_campaign_free(&campaign);
}


/* The store finds it deletable in its write (a send or start that came
 * first wins: 409); nothing to wake, the sender has nothing of a draft
 * or of one cancelled before it began. */
static void
ngx_http_inbox_campaign_delete_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_campaigns_args_t *args = api->args;

    inbox_event_list_t  events;

    ngx_memzero(&events, sizeof(inbox_event_list_t));

    if (inbox_store_campaign_delete(store, api->principal.org_id, args->id,
                                    args->kind, inbox_now_ms(), &events,
                                    &job->error)
        == INBOX_OK)
    {
        ngx_http_inbox_job_no_content(job);
    }

    /* campaign.deleted: the other browsers' lists drop it */
    ngx_http_inbox_events_send(&events);

    inbox_event_list_free(&events);
}


/* The text with its images' links, as the recipients pictures do not
 * reach get it, judged once its images are known (a PATCH naming
 * neither leaves a draft saved before the rule as it is). */
static inbox_status_t
ngx_http_inbox_campaign_links_check(ngx_http_inbox_campaigns_args_t *args,
    inbox_error_t *err)
{
    if (args->req != NULL && !inbox_request_has(args->req, "body")
        && !inbox_request_has(args->req, "media_ids"))
    {
        return INBOX_OK;
    }

    return inbox_campaign_links_check(args->c.body != NULL ? args->c.body
                                                           : "",
                                      args->base, args->c.media,
                                      args->c.media_count, err);
}


/* Whether the PATCH names send_at and no other field. */
static ngx_uint_t
ngx_http_inbox_campaign_time_only(ngx_http_inbox_campaigns_args_t *args)
{
    const inbox_field_t  *f;

    if (!inbox_request_has(args->req, "send_at")) {
        return 0;
    }

    for (f = args->kind == INBOX_CAMPAIGN_KIND_POLL
             ? ngx_http_inbox_poll_fields : ngx_http_inbox_campaign_fields;
         f->name != NULL;
         f++)
    {
        if (ngx_strcmp(f->name, "send_at") != 0
            && inbox_request_has(args->req, f->name))
        {
            return 0;
        }
    }

    return 1;
}


/*
 * What a PATCH leaves out stays as the draft has it: its name (a poll
 * named by its question follows a new question), text, options,
 * audience, images and time.  The strings point into was, which lives
 * until the op ends.
 */
static void
ngx_http_inbox_campaign_keep(ngx_http_inbox_campaigns_args_t *args,
    const inbox_campaign_t *was)
{
    size_t                  i;
    inbox_campaign_new_t   *c = &args->c;
    const inbox_request_t  *req = args->req;

    if (!inbox_request_has(req, "name")) {
        c->name = was->name;

        if (was->kind == INBOX_CAMPAIGN_KIND_POLL && was->question != NULL
            && was->name != NULL && strcmp(was->name, was->question) == 0)
        {
            c->name = NULL;
        }
    }

    if (!inbox_request_has(req, "body")) {
        c->body = was->body;
    }

    if (!inbox_request_has(req, "question")) {
        c->question = was->question;
    }

    if (!inbox_request_has(req, "options")) {
        for (i = 0; i < was->option_count; i++) {
            args->options[i] = was->options[i];
        }

        c->options = args->options;
        c->option_count = was->option_count;
    }

    if (!inbox_request_has(req, "audience")) {
        c->audience_all = was->audience_all;
        c->tags = was->audience_all ? NULL : &was->tags;
    }

    if (!inbox_request_has(req, "media_ids")) {
        c->media = was->media;
        c->media_count = was->media_count;
    }

    if (!inbox_request_has(req, "send_at")) {
        c->send_at = was->send_at;
    }
}


/*
 * What a send would be: its text's segments and credits (segments.h, as
 * the store counts a draft's, charged as the plan charges them), how
 * many contacts the audience has now, how many of them are opted out
 * and how many of the others get the images as links (and that SMS's
 * segments and credits), the credits of all, and the balance.  Nothing
 * is stored.  body is the text sent (a poll's question with its
 * options); base is where media's files are linked from.  A text too
 * long for its links is refused (400), as create refuses it.
 */
static void
ngx_http_inbox_campaign_estimated(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job, const char *base,
    int audience_all, const inbox_tags_t *tags, const char *body,
    inbox_media_t *media, size_t media_count)
{
    char                       *json;
    size_t                      len;
    inbox_billing_t             billing;
    inbox_campaign_t            c;
    inbox_campaign_messages_t   m;
    inbox_campaign_estimate_t   e;

    ngx_memzero(&e, sizeof(inbox_campaign_estimate_t));

    /* refused as create (or a draft's send from the web app) would */
    if (inbox_campaign_links_check(body, base, media, media_count,
                                   &job->error)
        != INBOX_OK)
    {
        return;
    }

    if (inbox_store_campaign_audience(store, api->principal.org_id,
                                      audience_all, tags, &e.audience,
                                      &e.suppressed,
                                      media_count > 0 ? &e.no_mms : NULL,
                                      &job->error)
        != INBOX_OK
        || inbox_store_billing_get(store, api->principal.org_id, &billing,
                                   &job->error)
           != INBOX_OK)
    {
        return;
    }

    inbox_segments_count(body, ngx_strlen(body), &e.seg);
    e.plan = inbox_plan_stored(billing.plan);
    e.balance = billing.balance;
    e.media_count = media_count;

    /* both messages as dispatch makes them */
    ngx_memzero(&c, sizeof(inbox_campaign_t));
    c.body = (char *) body;
    c.media = media;
    c.media_count = media_count;
    c.segments = inbox_message_segments(&e.seg, media_count);
    c.credits = inbox_message_credits(body, media_count);

    if (inbox_campaign_messages(&c, base, &m, &job->error) != INBOX_OK) {
        return;
    }

    e.segments = m.pictures.segments;
    e.credits = inbox_plan_charge(e.plan, m.pictures.credits);
    e.links_segments = m.links.segments;
    e.links_credits = inbox_plan_charge(e.plan, m.links.credits);

    inbox_campaign_messages_free(&m);

    json = inbox_render_campaign_estimate(&e, &len);
    ngx_http_inbox_job_document(job, NGX_HTTP_OK, json, len);
}


/* POST …/estimate: a campaign or poll being written. */
static void
ngx_http_inbox_campaign_estimate_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_campaigns_args_t *args = api->args;

    char           *text;
    size_t          i;
    inbox_media_t   media[INBOX_MEDIA_MAX];

    /* a preview needs no name yet, and counts the images without
     * reading them (create looks them up) */
    if (args->c.name == NULL) {
        args->c.name = "preview";
    }

    ngx_memzero(media, sizeof(media));
    args->c.media = args->c.media_count > 0 ? media : NULL;

    if (inbox_campaign_check(&args->c, &job->error) != INBOX_OK) {
        return;
    }

    /* each image's link as long as an upload's is (the uploads are not
     * read) */
    for (i = 0; i < args->c.media_count; i++) {
        ngx_memset(media[i].file, 'x', INBOX_MEDIA_UPLOAD_FILE_LEN);
    }

    if (args->kind == INBOX_CAMPAIGN_KIND_CAMPAIGN) {
        ngx_http_inbox_campaign_estimated(api, store, job, args->base,
                                          args->c.audience_all, args->c.tags,
                                          args->c.body,
                                          args->c.media_count > 0 ? media
                                                                  : NULL,
                                          args->c.media_count);
        return;
    }

    text = inbox_poll_text(args->c.question, args->c.options,
                           args->c.option_count);
    if (text == NULL) {
        inbox_error_set(&job->error, INBOX_ERR_INTERNAL, "out of memory");
        return;
    }

    ngx_http_inbox_campaign_estimated(api, store, job, args->base,
                                      args->c.audience_all, args->c.tags,
                                      text, NULL, 0);
    free(text);
}


/* GET …/{id}/estimate: a draft as it is stored, its images counted. */
static void
ngx_http_inbox_campaign_draft_estimate_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_campaigns_args_t *args = api->args;

    inbox_campaign_t  campaign;

    if (ngx_http_inbox_campaign_of_kind(args, store, api->principal.org_id,
                                        &campaign, &job->error)
        == INBOX_OK)
    {
        ngx_http_inbox_campaign_estimated(api, store, job, args->base,
                                          campaign.audience_all,
                                          &campaign.tags,
                                          campaign.body ? campaign.body : "",
                                          campaign.media,
                                          campaign.media_count);
    }

    inbox_campaign_free(&campaign);
}


static void
ngx_http_inbox_campaign_get_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_campaigns_args_t *args = api->args;

    char                   *json;
    size_t                  len;
    inbox_campaign_t        campaign;
    inbox_poll_results_t    results;

    if (args->kind == INBOX_CAMPAIGN_KIND_POLL) {
        /* a campaign's id is no poll: 404 */
        if (inbox_store_poll_results(store, api->principal.org_id, args->id,
                                     NULL, args->limit, &results,
                                     &job->error)
            == INBOX_OK)
        {
            json = inbox_render_poll_results(&results, &len);
            ngx_http_inbox_job_document(job, NGX_HTTP_OK, json, len);
        }

        inbox_poll_results_free(&results);
        return;
    }

    if (ngx_http_inbox_campaign_of_kind(args, store, api->principal.org_id,
                                        &campaign, &job->error)
        == INBOX_OK)
    {
        json = inbox_render_campaign(&campaign, &len);
        ngx_http_inbox_job_document(job, NGX_HTTP_OK, json, len);
    }

    inbox_campaign_free(&campaign);
}


/* The poll's responses after the cursor (a route of polls only); the
 * poll read with them says whether there is one (a campaign's id is
 * none: 404). */
static void
ngx_http_inbox_poll_responses_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_campaigns_args_t *args = api->args;

    char                  *json;
    size_t                 len;
    inbox_poll_results_t   results;

    if (inbox_store_poll_results(store, api->principal.org_id, args->id,
                                 args->cursor, args->limit, &results,
                                 &job->error)
        == INBOX_OK)
    {
        json = inbox_render_poll_responses(&results, &len);
        ngx_http_inbox_job_document(job, NGX_HTTP_OK, json, len);
    }

    inbox_poll_results_free(&results);
}


static void
ngx_http_inbox_campaign_action_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_campaigns_args_t *args = api->args;

    char                *json;
    size_t               len;
    inbox_campaign_t     campaign;
    inbox_event_list_t   events;

    if (ngx_http_inbox_campaign_of_kind(args, store, api->principal.org_id,
                                        &campaign, &job->error)
        != INBOX_OK)
    {
        inbox_campaign_free(&campaign);
        return;
    }

    inbox_campaign_free(&campaign);
    ngx_memzero(&events, sizeof(inbox_event_list_t));

    if (inbox_store_campaign_act(store, api->principal.org_id, args->id,
                                 args->action, inbox_now_ms(), &campaign,
                                 &events, &job->error)
        == INBOX_OK)
    {
        json = inbox_render_campaign(&campaign, &len);
        ngx_http_inbox_job_document(job, NGX_HTTP_OK, json, len);

        ngx_http_inbox_sender_wake();
    }

    /* campaign.updated (none for a repeat): the other browsers' cards */
    ngx_http_inbox_events_send(&events);

    inbox_event_list_free(&events);
    inbox_campaign_free(&campaign);
}
