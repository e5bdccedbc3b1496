
/*
 * Contacts: GET /api/v1/contacts, POST /api/v1/contacts,
 * POST /api/v1/contacts/import, GET and PATCH /api/v1/contacts/{id},
 * GET /api/v1/contacts/{id}/timeline, and the organization's tags,
 * GET /api/v1/tags.
 *
 * JSON bodies are small and read in the event loop (the dispatcher's
 * reader); a CSV import is read in its pool thread, piece by piece, from
 * nginx's buffers or its temporary file, twice: once to check it, once
 * to store it.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <stdlib.h>

#include <inbox/contact.h>
#include <inbox/import.h>
#include <inbox/phone.h>
#include <inbox/render.h>

#include "ngx_http_inbox_module.h"
#include "ngx_http_inbox_api.h"
#include "ngx_http_inbox_body.h"
#include "ngx_http_inbox_reply.h"


typedef struct {
    const char                *id;
    const char                *cursor;
    unsigned                   limit;
    inbox_contact_query_t      query;
    const char                *phone;       /* as sent: read in the op */
    char                      *name;
    inbox_contact_edit_t       edit;
    const char                *country;     /* the server's, a fallback */
    ngx_array_t               *pieces;      /* ngx_http_inbox_piece_t */
    inbox_import_t            *im;
    inbox_event_list_t         events;      /* an import's, not sent yet */
} ngx_http_inbox_contacts_args_t;


/* Each field's own rules are contact.h's and phone.h's, checked after. */
static const inbox_field_t  ngx_http_inbox_contact_update_fields[] = {
    { .name = "name", .type = INBOX_FIELD_STRING, .nullable = 1 },
    { .name = "tags", .type = INBOX_FIELD_STRINGS, .item = "Tag" },
    { .name = "timezone", .type = INBOX_FIELD_STRING, .nullable = 1 },
    { .name = NULL }
};

static const inbox_field_t  ngx_http_inbox_contact_create_fields[] = {
    { .name = "phone", .type = INBOX_FIELD_STRING, .required = 1 },
    { .name = "name", .type = INBOX_FIELD_STRING, .nullable = 1 },
    { .name = "tags", .type = INBOX_FIELD_STRINGS, .item = "Tag" },
    { .name = "timezone", .type = INBOX_FIELD_STRING, .nullable = 1 },
    { .name = NULL }
};


static ngx_http_inbox_contacts_args_t *ngx_http_inbox_contacts_args(
    ngx_http_request_t *r, ngx_http_inbox_api_t *api);
static ngx_int_t ngx_http_inbox_contact_body(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_http_inbox_contacts_args_t *args,
    ngx_uint_t create);
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
static void ngx_http_inbox_tags_list_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);
static ngx_int_t ngx_http_inbox_contacts_import_done(ngx_http_request_t *r,
    ngx_http_inbox_job_t *job);
static inbox_status_t ngx_http_inbox_import_pass(
    ngx_http_inbox_contacts_args_t *args, inbox_error_t *err);
static void ngx_http_inbox_import_send(ngx_http_inbox_contacts_args_t *args);
static inbox_status_t ngx_http_inbox_import_feed(void *data, const char *p,
    size_t len, inbox_error_t *err);


ngx_int_t
ngx_http_inbox_contacts_list(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id)
{
    inbox_form_t                    *query;
    ngx_http_inbox_loc_conf_t       *ilcf;
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

    ilcf = ngx_http_get_module_loc_conf(r, ngx_http_inbox_module);
    args->country = (const char *) ilcf->default_country.data;

    api->op = ngx_http_inbox_contacts_list_op;

    return NGX_OK;
}


ngx_int_t
ngx_http_inbox_tags_list(ngx_http_request_t *r, ngx_http_inbox_api_t *api,
    ngx_str_t *id)
{
    api->op = ngx_http_inbox_tags_list_op;

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
    ngx_http_inbox_loc_conf_t       *ilcf;
    ngx_http_inbox_contacts_args_t  *args;

    args = ngx_http_inbox_contacts_args(r, api);
    if (args == NULL) {
        return NGX_ERROR;
    }

    ilcf = ngx_http_get_module_loc_conf(r, ngx_http_inbox_module);
    args->country = (const char *) ilcf->default_country.data;

    api->op = ngx_http_inbox_contacts_import_op;
    api->done = ngx_http_inbox_contacts_import_done;

    /* text/csv, as the route table says: the dispatcher checked it */
    return ngx_http_inbox_body_pieces(r, &args->pieces);
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
    inbox_event_list_free(&args->events);
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
 * {"name","tags","timezone"} for a PATCH (a timezone null or "" clears
 * it: the organization's is used), with "phone" (required) for a create,
 * read by the API's JSON reader (types, unknown and repeated fields); then
 * each value is checked by libinbox's rules (contact.h), the phone in the
 * op, with the organization's default country (phone.h).  Whatever does
 * not fit is a 400 naming the field, and nothing is stored.
 */

static ngx_int_t
ngx_http_inbox_contact_body(ngx_http_request_t *r, ngx_http_inbox_api_t *api,
    ngx_http_inbox_contacts_args_t *args, ngx_uint_t create)
{
    char                       *phone;
    size_t                      i, len;
    yajl_val                    tags;
    const char                 *s;
    inbox_error_t               err;
    inbox_request_t            *req;
    ngx_http_inbox_loc_conf_t  *ilcf;

    if (ngx_http_inbox_api_json(r, api,
                                create ? ngx_http_inbox_contact_create_fields
                                       : ngx_http_inbox_contact_update_fields,
                                &req)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (req->root == NULL) {
        return NGX_OK;
    }

    if (inbox_request_has(req, "name")) {
        s = inbox_request_string(req, "name");

        if (inbox_contact_name(s, s ? ngx_strlen(s) : 0, &args->name, &err)
            != INBOX_OK)
        {
            ngx_http_inbox_contacts_invalid(api, "name", err.message);
            return NGX_OK;
        }

        args->edit.set_name = 1;
        args->edit.name = args->name;
    }

    tags = inbox_request_get(req, "tags");

    if (tags != NULL) {
        for (i = 0; i < tags->u.array.len; i++) {
            s = YAJL_GET_STRING(tags->u.array.values[i]);

            if (inbox_tags_add(&args->edit.tags, s, ngx_strlen(s), &err)
                != INBOX_OK)
            {
                /* the tag refused is named, not the 51st of a full set */
                if (args->edit.tags.count < INBOX_TAGS_MAX) {
                    inbox_request_item_refused(
                        create ? ngx_http_inbox_contact_create_fields
                               : ngx_http_inbox_contact_update_fields,
                        "tags", i, &err);
                }

                ngx_http_inbox_contacts_invalid(api,
                                                err.field[0] ? err.field
                                                             : "tags",
                                                err.message);
                return NGX_OK;
            }
        }

        args->edit.set_tags = 1;
    }

    if (inbox_request_has(req, "timezone")) {
        s = inbox_request_string(req, "timezone");

        if (inbox_contact_timezone(s, s ? ngx_strlen(s) : 0,
                                   args->edit.timezone, &err)
            != INBOX_OK)
        {
            ngx_http_inbox_contacts_invalid(api, "timezone", err.message);
            return NGX_OK;
        }

        args->edit.set_timezone = 1;
    }

    if (create) {
        /* normalized in the op, with the organization's country */
        ilcf = ngx_http_get_module_loc_conf(r, ngx_http_inbox_module);
        args->country = (const char *) ilcf->default_country.data;

        s = inbox_request_string(req, "phone");
        len = ngx_strlen(s);

        phone = ngx_pnalloc(r->pool, len + 1);
        if (phone == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(phone, s, len + 1);
        args->phone = phone;
    }

    return NGX_OK;
}


/* The ops run in a pool thread. */

static void
ngx_http_inbox_contacts_list_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_contacts_args_t *args = api->args;

    char                   *json;
    char                    country[INBOX_COUNTRY_MAX];
    size_t                  len;
    inbox_search_t          search;
    inbox_contact_page_t    page;
    inbox_contact_query_t   query;

    memset(&page, 0, sizeof(inbox_contact_page_t));
    query = args->query;

    if (ngx_http_inbox_api_search_country(api, store, query.q,
                                          args->country, &query.country,
                                          country, job)
        != NGX_OK)
    {
        return;
    }

    if (inbox_store_contacts_list(store, api->principal.org_id, &query,
                                  &page, &job->error)
        == INBOX_OK)
    {
        /* the list read it so (a search too long was refused) */
        (void) inbox_search_parse(query.q, query.country, &search);

        json = inbox_render_contact_page(&page, &search, &len);
        ngx_http_inbox_job_document(job, NGX_HTTP_OK, json, len);
    }

    inbox_contact_page_free(&page);
}


static void
ngx_http_inbox_tags_list_op(ngx_http_inbox_api_t *api, inbox_store_t *store,
    ngx_http_inbox_job_t *job)
{
    char              *json;
    size_t             len;
    inbox_tag_page_t   page;

    if (inbox_store_tags_list(store, api->principal.org_id, &page,
                              &job->error)
        == INBOX_OK)
    {
        json = inbox_render_tag_page(&page, &len);
        ngx_http_inbox_job_document(job, NGX_HTTP_OK, json, len);
    }

    inbox_tag_page_free(&page);
}


static void
ngx_http_inbox_contact_get_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_contacts_args_t *args = api->args;

    char                       *json;
    size_t                      len;
    inbox_contact_record_t      contact;
    inbox_contact_campaigns_t   list;

    ngx_memzero(&list, sizeof(inbox_contact_campaigns_t));

    /* the record, with what it was sent and its poll answers */
    if (inbox_store_contact_get(store, api->principal.org_id, args->id,
                                &contact, &job->error)
        == INBOX_OK
        && inbox_store_contact_campaigns(store, api->principal.org_id,
                                         args->id, &list, &job->error)
           == INBOX_OK)
    {
        json = inbox_render_contact_record(&contact, &list, &len);
        ngx_http_inbox_job_document(job, NGX_HTTP_OK, json, len);
    }

    inbox_contact_campaigns_free(&list);
    inbox_contact_record_free(&contact);
}


static void
ngx_http_inbox_contact_create_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_contacts_args_t *args = api->args;

    char                       *json;
    char                        country[INBOX_COUNTRY_MAX];
    char                        phone[INBOX_PHONE_MAX];
    size_t                      len;
    inbox_error_t               err;
    inbox_event_list_t          events;
    inbox_contact_record_t      contact;
    inbox_contact_campaigns_t   none;

    if (inbox_store_default_country(store, api->principal.org_id,
                                    args->country, country, &job->error)
        != INBOX_OK)
    {
        return;
    }

    /* typed by a person: a length the country never gives is refused
     * here, not by the carrier once credits are held */
    if (inbox_phone_normalize_typed(args->phone, strlen(args->phone),
                                    country, phone, &err)
        != INBOX_OK)
    {
        /* the rule's own words: "has 9 digits; a number in US has 10"
         * tells the user what to fix; shown alone under the field, as
         * a sentence (an import's report puts them after "Line 3:") */
        inbox_error_set_field(&job->error, INBOX_ERR_INVALID, "phone",
                              "The %s.", err.message);
        return;
    }

    memset(&events, 0, sizeof(inbox_event_list_t));

    if (inbox_store_contact_create(store, api->principal.org_id, phone,
                                   &args->edit, &contact, &events,
                                   &job->error)
        == INBOX_OK)
    {
        /* the record as GET shows it; a new contact was sent nothing and
         * answered no poll, so its lists are empty without a read that
         * could fail once it is made (and a retry be 409) */
        ngx_memzero(&none, sizeof(inbox_contact_campaigns_t));

        json = inbox_render_contact_record(&contact, &none, &len);
        ngx_http_inbox_job_document(job, NGX_HTTP_CREATED, json, len);
    }

    /* every browser's Contacts list shows it: made here, or (a 409)
     * found made by a text or an import that never pushed it */
    ngx_http_inbox_events_send(&events);

    inbox_event_list_free(&events);
    inbox_contact_record_free(&contact);
}


/* The contact as the edit left it, the record GET shows (an edit is
 * idempotent: should the read of its campaigns fail, a retry is safe); a
 * new name goes to every browser of the organization as
 * conversation.updated, once it is durable. */

static void
ngx_http_inbox_contact_update_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_contacts_args_t *args = api->args;

    char                       *json;
    size_t                      len;
    inbox_event_list_t          events;
    inbox_contact_record_t      contact;
    inbox_contact_campaigns_t   list;

    memset(&events, 0, sizeof(inbox_event_list_t));
    ngx_memzero(&list, sizeof(inbox_contact_campaigns_t));

    if (inbox_store_contact_update(store, api->principal.org_id, args->id,
                                   &args->edit, &contact, &events,
                                   &job->error)
        == INBOX_OK)
    {
        if (inbox_store_contact_campaigns(store, api->principal.org_id,
                                          args->id, &list, &job->error)
            == INBOX_OK)
        {
            json = inbox_render_contact_record(&contact, &list, &len);
            ngx_http_inbox_job_document(job, NGX_HTTP_OK, json, len);
        }

        /* stored whatever the answer: the browsers are told */
        ngx_http_inbox_events_send(&events);

        if (args->edit.set_timezone) {
            /* what waited for its quiet hours may be due, and what the
             * sender holds for it may be in them now: looked at now */
            ngx_http_inbox_sender_wake_quiet(api->principal.org_id);
        }
    }

    inbox_contact_campaigns_free(&list);
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
 * rows, leaves the store as it was), then the import in batches, whose
 * events go to the browsers as each piece is stored.  A batch that fails
 * keeps those before it: the error then says what they stored and where
 * the import stopped, so that the user sends the file again.
 */

static void
ngx_http_inbox_contacts_import_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_contacts_args_t *args = api->args;

    char           *json;
    char            country[INBOX_COUNTRY_MAX];
    size_t          len;
    inbox_error_t   maintain_error;

    /* the organization's, else the server's inbox_default_country */
    if (inbox_store_default_country(store, api->principal.org_id,
                                    args->country, country, &job->error)
        != INBOX_OK)
    {
        return;
    }

    args->im = inbox_import_new(NULL, api->principal.org_id, country);
    if (args->im == NULL) {
        inbox_error_set(&job->error, INBOX_ERR_INTERNAL, "out of memory");
        return;
    }

    if (ngx_http_inbox_import_pass(args, &job->error) != INBOX_OK) {
        inbox_import_free(args->im);
        args->im = NULL;
        return;
    }

    inbox_import_free(args->im);

    args->im = inbox_import_new(store, api->principal.org_id, country);
    if (args->im == NULL) {
        inbox_error_set(&job->error, INBOX_ERR_INTERNAL, "out of memory");
        return;
    }

    inbox_import_set_events(args->im, &args->events);

    if (ngx_http_inbox_import_pass(args, &job->error) == INBOX_OK) {
        json = inbox_import_render(args->im, &len);
        ngx_http_inbox_job_document(job, NGX_HTTP_OK, json, len);

        /*
         * Housekeeping otherwise follows webhook batches only: index the
         * imported contacts now, so that searches do not scan them one by
         * one until the next inbound message.
         */
        (void) inbox_store_maintain(store, &maintain_error);

    } else if (inbox_import_stopped_at(args->im) > 0) {
        json = inbox_import_render_stopped(args->im, &job->error, &len);
        ngx_http_inbox_job_document(job, inbox_status_http(job->error.code),
                                    json, len);
    }

    /* a failed batch keeps those before it, and their events */
    ngx_http_inbox_import_send(args);

    if (inbox_import_moves_zones(args->im)) {
        /* as a contact's PATCH of its zone */
        ngx_http_inbox_sender_wake_quiet(api->principal.org_id);
    }

    inbox_import_free(args->im);
    args->im = NULL;
}


/* In the event loop: an import stopped partway answers its error with
 * the report of what it stored, logged as every error is. */

static ngx_int_t
ngx_http_inbox_contacts_import_done(ngx_http_request_t *r,
    ngx_http_inbox_job_t *job)
{
    if (job->body == NULL || job->error.code == INBOX_OK) {
        return NGX_DECLINED;
    }

    return ngx_http_inbox_reply_error_json(r, &job->error, job->body,
                                           job->len);
}


/* Feeds the body to args->im, a piece at a time. */

static inbox_status_t
ngx_http_inbox_import_pass(ngx_http_inbox_contacts_args_t *args,
    inbox_error_t *err)
{
    inbox_status_t  rc;

    rc = ngx_http_inbox_pieces_each(args->pieces, ngx_http_inbox_import_feed,
                                    args, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    return inbox_import_finish(args->im, err);
}


static inbox_status_t
ngx_http_inbox_import_feed(void *data, const char *p, size_t len,
    inbox_error_t *err)
{
    ngx_http_inbox_contacts_args_t *args = data;

    inbox_status_t  rc;

    rc = inbox_import_feed(args->im, p, len, err);

    ngx_http_inbox_import_send(args);

    return rc;
}


/* The events of the batches stored so far, once durable. */

static void
ngx_http_inbox_import_send(ngx_http_inbox_contacts_args_t *args)
{
    if (args->events.count > 0) {
        ngx_http_inbox_events_send(&args->events);
    }

    inbox_event_list_free(&args->events);
}
