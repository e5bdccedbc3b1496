
/*
 * GET /api/v1/conversations, /api/v1/conversations/{id} and
 * /api/v1/conversations/{id}/messages; POST /api/v1/conversations/{id}/
 * read, unread, archive, unarchive, star, unstar and opt-out.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <stdlib.h>

#include <inbox/render.h>

#include "ngx_http_inbox_module.h"
#include "ngx_http_inbox_api.h"


typedef struct {
    inbox_conversation_query_t   query;
    const char                  *id;
    const char                  *cursor;
    unsigned                     limit;
    inbox_action_t               action;
    const char                  *country;   /* the server's, a fallback */
} ngx_http_inbox_conversations_args_t;


static ngx_int_t ngx_http_inbox_conversation_op(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id, ngx_http_inbox_api_op_pt op);
static void ngx_http_inbox_conversations_list_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);
static void ngx_http_inbox_conversation_get_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);
static void ngx_http_inbox_messages_list_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);
static void ngx_http_inbox_conversation_action_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);
static void ngx_http_inbox_conversation_opt_out_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);


ngx_int_t
ngx_http_inbox_conversations_list(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id)
{
    const char                           *filter;
    inbox_form_t                         *query;
    ngx_http_inbox_loc_conf_t            *ilcf;
    ngx_http_inbox_conversations_args_t  *args;

    args = ngx_pcalloc(r->pool, sizeof(ngx_http_inbox_conversations_args_t));
    if (args == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_inbox_api_query(r, api, &query) != NGX_OK) {
        return NGX_ERROR;
    }

    args->query.filter = INBOX_FILTER_ALL;

    filter = inbox_form_get(query, "filter");

    if (filter && filter[0]
        && inbox_filter_parse(filter, &args->query.filter) != 0
        && api->invalid.code == INBOX_OK)
    {
        inbox_error_set_field(&api->invalid, INBOX_ERR_INVALID, "filter",
                              "filter must be one of all, unread, "
                              "unresponded, starred or archived.");
    }

    args->query.q = inbox_form_get(query, "q");
    args->query.cursor = inbox_form_get(query, "cursor");
    args->query.limit = ngx_http_inbox_api_limit(api, query);

    ilcf = ngx_http_get_module_loc_conf(r, ngx_http_inbox_module);
    args->country = (const char *) ilcf->default_country.data;

    api->op = ngx_http_inbox_conversations_list_op;
    api->args = args;

    return NGX_OK;
}


ngx_int_t
ngx_http_inbox_conversation_get(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id)
{
    return ngx_http_inbox_conversation_op(r, api, id,
                                          ngx_http_inbox_conversation_get_op);
}


ngx_int_t
ngx_http_inbox_messages_list(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id)
{
    inbox_form_t                         *query;
    ngx_http_inbox_conversations_args_t  *args;

    args = ngx_pcalloc(r->pool, sizeof(ngx_http_inbox_conversations_args_t));
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

    api->op = ngx_http_inbox_messages_list_op;
    api->args = args;

    return NGX_OK;
}


ngx_int_t
ngx_http_inbox_conversation_action(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id)
{
    char                                  name[16];
    u_char                               *p, *last;
    ngx_http_inbox_conversations_args_t  *args;

    if (ngx_http_inbox_conversation_op(r, api, id,
                                       ngx_http_inbox_conversation_action_op)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    args = api->args;

    /* the route matched ".../{id}/NAME": NAME is the path's last segment,
     * one of libinbox's action names */
    last = r->uri.data + r->uri.len;

    for (p = last; p > r->uri.data && p[-1] != '/'; p--) {
        /* void */
    }

    if ((size_t) (last - p) >= sizeof(name)) {
        return NGX_ERROR;
    }

    ngx_memcpy(name, p, last - p);
    name[last - p] = '\0';

    if (inbox_action_parse(name, &args->action) != 0) {
        /* the route table names no other */
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_inbox_conversation_opt_out(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id)
{
    ngx_http_inbox_api_op_pt  op;

    op = ngx_http_inbox_conversation_opt_out_op;

    return ngx_http_inbox_conversation_op(r, api, id, op);
}


/* An operation on the conversation named by the path's {id}. */

static ngx_int_t
ngx_http_inbox_conversation_op(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id, ngx_http_inbox_api_op_pt op)
{
    ngx_http_inbox_conversations_args_t  *args;

    args = ngx_pcalloc(r->pool, sizeof(ngx_http_inbox_conversations_args_t));
    if (args == NULL) {
        return NGX_ERROR;
    }

    args->id = ngx_http_inbox_api_id(r, api, id);
    if (args->id == NULL) {
        return NGX_ERROR;
    }

    api->op = op;
    api->args = args;

    return NGX_OK;
}


/* The ops run in a pool thread. */

static void
ngx_http_inbox_conversations_list_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_conversations_args_t *args = api->args;

    char                        *json;
    char                         country[INBOX_COUNTRY_MAX];
    size_t                       len;
    inbox_search_t               search;
    inbox_conversation_page_t    page;
    inbox_conversation_query_t   query;

    memset(&page, 0, sizeof(inbox_conversation_page_t));
    query = args->query;

    if (ngx_http_inbox_api_search_country(api, store, query.q,
                                          args->country, &query.country,
                                          country, job)
        != NGX_OK)
    {
        return;
    }

    if (inbox_store_conversations_list(store, api->principal.org_id,
                                       &query, &page, &job->error)
        == INBOX_OK)
    {
        /* the list read it so (a search too long was refused) */
        (void) inbox_search_parse(query.q, query.country, &search);

        json = inbox_render_conversation_page(&page, &search, &len);
        ngx_http_inbox_job_document(job, NGX_HTTP_OK, json, len);
    }

    inbox_conversation_page_free(&page);
}


static void
ngx_http_inbox_conversation_get_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_conversations_args_t *args = api->args;

    char                  *json;
    size_t                 len;
    inbox_conversation_t   conversation;

    memset(&conversation, 0, sizeof(inbox_conversation_t));

    if (inbox_store_conversation_get(store, api->principal.org_id, args->id,
                                     &conversation, &job->error)
        == INBOX_OK)
    {
        json = inbox_render_conversation(&conversation, &len);
        ngx_http_inbox_job_document(job, NGX_HTTP_OK, json, len);
    }

    inbox_conversation_free(&conversation);
}


static void
ngx_http_inbox_messages_list_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_conversations_args_t *args = api->args;

    char                  *json;
    size_t                 len;
    inbox_message_page_t   page;

    memset(&page, 0, sizeof(inbox_message_page_t));

    if (inbox_store_messages_list(store, api->principal.org_id, args->id,
                                  args->cursor, args->limit, &page,
                                  &job->error)
        == INBOX_OK)
    {
        json = inbox_render_message_page(&page, &len);
        ngx_http_inbox_job_document(job, NGX_HTTP_OK, json, len);
    }

    inbox_message_page_free(&page);
}


/*
 * The conversation as the action left it; once that is durable, its
 * events (none when the action changed nothing) go to ws-server from
 * here, as a webhook batch's do, so every browser of the organization
 * sees the change.
 */

static void
ngx_http_inbox_conversation_action_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_conversations_args_t *args = api->args;

    char                  *json;
    size_t                 len;
    inbox_event_list_t     events;
    inbox_conversation_t   conversation;

    memset(&events, 0, sizeof(inbox_event_list_t));
    memset(&conversation, 0, sizeof(inbox_conversation_t));

    if (inbox_store_conversation_act(store, api->principal.org_id, args->id,
                                     args->action, &conversation, &events,
                                     &job->error)
        == INBOX_OK)
    {
        json = inbox_render_conversation(&conversation, &len);
        ngx_http_inbox_job_document(job, NGX_HTTP_OK, json, len);

        ngx_http_inbox_events_send(&events);
    }

    inbox_event_list_free(&events);
    inbox_conversation_free(&conversation);
}


/*
 * The thread's contact opted out by hand (idempotent: a contact opted
 * out already stays as it first was), and the thread as it is then; the
 * change's events go to ws-server once it is durable.
 */

static void
ngx_http_inbox_conversation_opt_out_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_conversations_args_t *args = api->args;

    char                  *json;
    size_t                 len;
    inbox_event_list_t     events;
    inbox_conversation_t   conversation;

    memset(&events, 0, sizeof(inbox_event_list_t));

    /* also tells another organization's thread: 404 */
    if (inbox_store_conversation_get(store, api->principal.org_id, args->id,
                                     &conversation, &job->error)
        != INBOX_OK)
    {
        inbox_conversation_free(&conversation);
        return;
    }

    if (inbox_store_contact_opt_out(store, api->principal.org_id,
                                    conversation.contact.id,
                                    INBOX_OPT_OUT_MANUAL, NULL, 0, 0, NULL,
                                    &events, &job->error)
        == INBOX_OK)
    {
        ngx_http_inbox_events_send(&events);

        if (events.count > 0) {
            /* what the sender holds for the contact is withdrawn before
             * it starts: looked at now, as after a STOP */
            ngx_http_inbox_sender_wake();
        }

        inbox_conversation_free(&conversation);

        if (inbox_store_conversation_get(store, api->principal.org_id,
                                         args->id, &conversation,
                                         &job->error)
            == INBOX_OK)
        {
            json = inbox_render_conversation(&conversation, &len);
            ngx_http_inbox_job_document(job, NGX_HTTP_OK, json, len);
        }
    }

    inbox_event_list_free(&events);
    inbox_conversation_free(&conversation);
}
