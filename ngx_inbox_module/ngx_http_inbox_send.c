
/*
 * Sending from the inbox: POST /api/v1/conversations/{id}/messages (a
 * reply), POST /api/v1/messages/estimate (the composer's live count), and
 * billing: GET /api/v1/billing (anyone of the organization) and GET
 * /api/v1/billing/ledger (a billing user: the route table says so).
 *
 * A reply's JSON and its Idempotency-Key header are read in the event
 * loop; in the pool thread its media_ids become the organization's
 * uploads (an unknown one, another organization's too, is 400 naming
 * media_ids), libinbox's rules say whether it may be sent and count its
 * segments and credits (segments.h), and inbox_store_reply_accept takes
 * it in one transaction with every refusal of the contract (409 stale
 * when last_seen_message_id is not the thread's newest message, 409
 * contact_opted_out, 400 media_ids for an image to a number no MMS
 * reaches, 403 billing_inactive, 402 insufficient_credits with needed
 * and balance).  A reply naming resend_of sends that failed reply again
 * (resend.h): marked so in the same write, a second one is 409
 * already_sent_again naming the message it went as, and nothing goes.
 * The answer is 201 with the message, status queued; its events go to
 * ws-server and the sender process is woken.
 *
 * A retry under the same Idempotency-Key gets the first answer again:
 * 201 with the same message as it is now (its status may have moved on),
 * nothing stored, pushed or woken.  A client retries because it did not
 * see the first answer, so it gets exactly that one.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <inbox/media.h>
#include <inbox/render.h>
#include <inbox/reply.h>
#include <inbox/segments.h>

#include "ngx_http_inbox_module.h"
#include "ngx_http_inbox_api.h"


typedef struct {
    const char   *conversation_id;
    const char   *body;
    const char   *media_ids[INBOX_MEDIA_MAX];
    size_t        media_count;
    const char   *idempotency_key;     /* NULL: none */
    const char   *last_seen_message_id;    /* NULL: not checked */
    const char   *resend_of;           /* NULL: a new reply */
    const char   *base;                /* the public URL, without "/" */
} ngx_http_inbox_send_args_t;


typedef struct {
    const char   *body;
    size_t        media_count;
} ngx_http_inbox_estimate_args_t;


typedef struct {
    const char   *cursor;
    unsigned      limit;
} ngx_http_inbox_ledger_args_t;


static ngx_int_t ngx_http_inbox_send_key(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_http_inbox_send_args_t *args);
static void ngx_http_inbox_message_send_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);
static void ngx_http_inbox_message_estimate_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);
static void ngx_http_inbox_billing_get_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);
static void ngx_http_inbox_ledger_list_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);


static const inbox_field_t  ngx_http_inbox_send_fields[] = {
    /* its length is segments.h's to judge, with a message that says so;
     * null is no text, as "" (a picture alone) */
    { .name = "body", .type = INBOX_FIELD_STRING, .nullable = 1 },
    { .name = "media_ids", .type = INBOX_FIELD_STRINGS,
      .max = INBOX_MEDIA_MAX, .item_max = INBOX_ID_MAX - 1,
      .item = INBOX_MEDIA_ITEM },
    /* the stale-reply guard: the newest message the writer saw */
    { .name = "last_seen_message_id", .type = INBOX_FIELD_STRING,
      .nullable = 1, .min = 1, .max = INBOX_ID_MAX - 1 },
    /* Send again: the failed reply this one sends again */
    { .name = "resend_of", .type = INBOX_FIELD_STRING,
      .nullable = 1, .min = 1, .max = INBOX_ID_MAX - 1 },
    { .name = NULL }
};

static const inbox_field_t  ngx_http_inbox_estimate_fields[] = {
    { .name = "body", .type = INBOX_FIELD_STRING },
    { .name = "media_count", .type = INBOX_FIELD_INTEGER, .min = 0,
      .max = INBOX_MEDIA_MAX },
    { .name = NULL }
};


static ngx_str_t  ngx_http_inbox_idempotency_key =
    ngx_string("Idempotency-Key");


ngx_int_t
ngx_http_inbox_message_send(ngx_http_request_t *r, ngx_http_inbox_api_t *api,
    ngx_str_t *id)
{
    size_t                       i;
    yajl_val                     ids;
    ngx_str_t                    base;
    inbox_request_t             *req;
    ngx_http_inbox_send_args_t  *args;

    args = ngx_pcalloc(r->pool, sizeof(ngx_http_inbox_send_args_t));
    if (args == NULL) {
        return NGX_ERROR;
    }

    api->op = ngx_http_inbox_message_send_op;
    api->args = args;

    args->conversation_id = ngx_http_inbox_api_id(r, api, id);
    if (args->conversation_id == NULL) {
        return NGX_ERROR;
    }

    /* where carriers fetch the images from */
    if (ngx_http_inbox_public_base(r, &base) != NGX_OK) {
        return NGX_ERROR;
    }

    args->base = ngx_http_inbox_strdup(r->pool, &base);
    if (args->base == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_inbox_send_key(r, api, args) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_inbox_api_json(r, api, ngx_http_inbox_send_fields, &req)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    args->body = "";

    if (req->root == NULL) {
        return NGX_OK;
    }

    if (inbox_request_string(req, "body") != NULL) {
        args->body = inbox_request_string(req, "body");
    }

    args->last_seen_message_id = inbox_request_string(req,
                                                      "last_seen_message_id");
    args->resend_of = inbox_request_string(req, "resend_of");

    ids = inbox_request_get(req, "media_ids");

    if (ids != NULL && YAJL_IS_ARRAY(ids)) {
        /* the reader took at most INBOX_MEDIA_MAX strings */
        for (i = 0; i < ids->u.array.len && i < INBOX_MEDIA_MAX; i++) {
            args->media_ids[i] = YAJL_GET_STRING(ids->u.array.values[i]);
        }

        args->media_count = i;
    }

    return NGX_OK;
}


/* The Idempotency-Key header, once at most and well formed, else a 400
 * naming it. */

static ngx_int_t
ngx_http_inbox_send_key(ngx_http_request_t *r, ngx_http_inbox_api_t *api,
    ngx_http_inbox_send_args_t *args)
{
    ngx_str_t         *key;
    ngx_uint_t         i;
    inbox_error_t      err;
    ngx_list_part_t   *part;
    ngx_table_elt_t   *h;

    key = NULL;
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len != ngx_http_inbox_idempotency_key.len
            || ngx_strncasecmp(h[i].key.data,
                               ngx_http_inbox_idempotency_key.data,
                               h[i].key.len)
               != 0)
        {
            continue;
        }

        if (key != NULL) {
            if (api->invalid.code == INBOX_OK) {
                inbox_error_set_field(&api->invalid, INBOX_ERR_INVALID,
                                      "idempotency_key",
                                      "Send one Idempotency-Key header, "
                                      "not several.");
            }

            return NGX_OK;
        }

        key = &h[i].value;
    }

    if (key == NULL) {
        return NGX_OK;
    }

    if (inbox_reply_key_check((char *) key->data, key->len, &err)
        != INBOX_OK)
    {
        if (api->invalid.code == INBOX_OK) {
            api->invalid = err;
        }

        return NGX_OK;
    }

    args->idempotency_key = ngx_http_inbox_strdup(r->pool, key);
    if (args->idempotency_key == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_inbox_message_estimate(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id)
{
    yajl_val                         count;
    inbox_request_t                 *req;
    ngx_http_inbox_estimate_args_t  *args;

    args = ngx_pcalloc(r->pool, sizeof(ngx_http_inbox_estimate_args_t));
    if (args == NULL) {
        return NGX_ERROR;
    }

    api->op = ngx_http_inbox_message_estimate_op;
    api->args = args;
    args->body = "";

    if (ngx_http_inbox_api_json(r, api, ngx_http_inbox_estimate_fields,
                                &req)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (req->root == NULL) {
        return NGX_OK;
    }

    if (inbox_request_has(req, "body")) {
        args->body = inbox_request_string(req, "body");
    }

    count = inbox_request_get(req, "media_count");

    if (count != NULL && YAJL_IS_INTEGER(count)) {
        args->media_count = (size_t) YAJL_GET_INTEGER(count);
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_inbox_billing_get(ngx_http_request_t *r, ngx_http_inbox_api_t *api,
    ngx_str_t *id)
{
    api->op = ngx_http_inbox_billing_get_op;

    return NGX_OK;
}


ngx_int_t
ngx_http_inbox_ledger_list(ngx_http_request_t *r, ngx_http_inbox_api_t *api,
    ngx_str_t *id)
{
    inbox_form_t                  *query;
    ngx_http_inbox_ledger_args_t  *args;

    args = ngx_pcalloc(r->pool, sizeof(ngx_http_inbox_ledger_args_t));
    if (args == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_inbox_api_query(r, api, &query) != NGX_OK) {
        return NGX_ERROR;
    }

    args->cursor = inbox_form_get(query, "cursor");
    args->limit = ngx_http_inbox_api_limit(api, query);

    api->op = ngx_http_inbox_ledger_list_op;
    api->args = args;

    return NGX_OK;
}


/* The ops run in a pool thread. */

static void
ngx_http_inbox_message_send_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_send_args_t *args = api->args;

    char                  *json;
    size_t                 len;
    inbox_reply_t          reply;
    inbox_media_t          media[INBOX_MEDIA_MAX];
    inbox_segments_t       seg;
    inbox_event_list_t     events;
    inbox_reply_result_t   result;

    len = ngx_strlen(args->body);

    /* what may be sent: empty, too long, not text */
    if (inbox_message_check(args->body, len, args->media_count, &job->error)
        != INBOX_OK)
    {
        return;
    }

    if (args->media_count > 0
        && ngx_http_inbox_api_media(store, api->principal.org_id,
                                    args->base, ngx_http_inbox_send_fields,
                                    args->media_ids,
                                    args->media_count, media, &job->error)
           != INBOX_OK)
    {
        return;
    }

    inbox_segments_count(args->body, len, &seg);

    ngx_memzero(&reply, sizeof(inbox_reply_t));
    reply.conversation_id = args->conversation_id;
    reply.user_id = api->principal.user_id;
    reply.body = args->body;
    reply.media_count = args->media_count;
    reply.media = media;
    reply.segments = inbox_message_segments(&seg, args->media_count);
    reply.credits = inbox_message_credits(args->body, args->media_count);
    reply.idempotency_key = args->idempotency_key;
    reply.last_seen_message_id = args->last_seen_message_id;
    reply.resend_of = args->resend_of;

    ngx_memzero(&events, sizeof(inbox_event_list_t));

    if (inbox_store_reply_accept(store, api->principal.org_id, &reply,
                                 &result, &events, &job->error)
        == INBOX_OK)
    {
        json = inbox_render_message(&result.message, &len);
        ngx_http_inbox_job_document(job, NGX_HTTP_CREATED, json, len);

        /* a repeated request stored nothing: nothing to tell or send */
        if (!result.repeated) {
            ngx_http_inbox_events_send(&events);
            ngx_http_inbox_sender_wake();
        }
    }

    inbox_event_list_free(&events);
    inbox_reply_result_free(&result);
}


/* The organization's uploads media_ids, as a message's media: stored
 * already, at the public URL a carrier fetches; a campaign keeps which
 * upload each is, so that an edit names it again. */

inbox_status_t
ngx_http_inbox_api_media(inbox_store_t *store, const char *org_id,
    const char *base, const inbox_field_t *fields,
    const char *const *media_ids, size_t media_count, inbox_media_t *media,
    inbox_error_t *err)
{
    size_t                 i;
    inbox_status_t         rc;
    inbox_media_record_t   records[INBOX_MEDIA_MAX];

    rc = inbox_store_media_get(store, org_id, media_ids, media_count,
                               records, err);

    if (rc == INBOX_ERR_NOT_FOUND) {
        /* a mistake in the request, not a path that names nothing: the
         * first record left empty is the upload named unknown */
        err->code = INBOX_ERR_INVALID;

        for (i = 0; i + 1 < media_count && records[i].id[0] != '\0'; i++) {
            /* void */
        }

        return inbox_request_item_refused(fields, "media_ids", i, err);
    }

    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_media_message_check(records, media_count, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    ngx_memzero(media, media_count * sizeof(inbox_media_t));

    for (i = 0; i < media_count; i++) {
        if (inbox_media_public_url(base, records[i].file, media[i].url,
                                   sizeof(media[i].url))
            != 0)
        {
            return inbox_error_set(err, INBOX_ERR_INTERNAL,
                                   "The public URL is too long for a "
                                   "picture's address.");
        }

        ngx_cpystrn((u_char *) media[i].content_type,
                    (u_char *) records[i].content_type,
                    sizeof(media[i].content_type));
        media[i].state = INBOX_MEDIA_STORED;
        ngx_cpystrn((u_char *) media[i].file, (u_char *) records[i].file,
                    sizeof(media[i].file));
        media[i].bytes = records[i].bytes;
        ngx_cpystrn((u_char *) media[i].upload_id, (u_char *) records[i].id,
                    sizeof(media[i].upload_id));
    }

    return INBOX_OK;
}


/* No store work: the dispatcher's pool task authenticated the caller. */

static void
ngx_http_inbox_message_estimate_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_estimate_args_t *args = api->args;

    char              *json;
    size_t             len;
    const char        *refused;
    inbox_error_t      err;
    inbox_segments_t   seg;

    len = ngx_strlen(args->body);
    inbox_segments_count(args->body, len, &seg);

    /* the composer warns before a send would be refused (too long) */
    refused = NULL;

    if (inbox_message_check(args->body, len, args->media_count, &err)
        != INBOX_OK)
    {
        refused = err.message;
    }

    json = inbox_render_estimate(args->body, &seg,
                                 inbox_message_credits(args->body,
                                                       args->media_count),
                                 refused, &len);
    ngx_http_inbox_job_document(job, NGX_HTTP_OK, json, len);
}


static void
ngx_http_inbox_billing_get_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    char             *json;
    size_t            len;
    inbox_billing_t   billing;

    if (inbox_store_billing_get(store, api->principal.org_id, &billing,
                                &job->error)
        == INBOX_OK)
    {
        json = inbox_render_billing(&billing, &len);
        ngx_http_inbox_job_document(job, NGX_HTTP_OK, json, len);
    }
}


static void
ngx_http_inbox_ledger_list_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_ledger_args_t *args = api->args;

    char                 *json;
    size_t                len;
    inbox_ledger_page_t   page;

    if (inbox_store_ledger_list(store, api->principal.org_id, args->cursor,
                                args->limit, &page, &job->error)
        == INBOX_OK)
    {
        json = inbox_render_ledger_page(&page, &len);
        ngx_http_inbox_job_document(job, NGX_HTTP_OK, json, len);
    }

    inbox_ledger_page_free(&page);
}
