
/*
 * The organization's settings: GET /api/v1/settings (anyone of the
 * organization) and PATCH /api/v1/settings (a billing user: the route
 * table says so, and the dispatcher answers a member 403).
 *
 * A PATCH body is read by the API's JSON reader (types, unknown and
 * repeated fields; "countries", which GET adds, taken and ignored), then
 * each value by libinbox's rules (settings.h):
 * whatever does not fit is a 400 naming the field, and nothing is
 * stored.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <inbox/render.h>
#include <inbox/settings.h>

#include "ngx_http_inbox_module.h"
#include "ngx_http_inbox_api.h"


static const inbox_field_t  ngx_http_inbox_quiet_hours_fields[] = {
    { .name = "start", .type = INBOX_FIELD_STRING, .required = 1, .max = 5 },
    { .name = "end", .type = INBOX_FIELD_STRING, .required = 1, .max = 5 },
    { .name = NULL }
};

static const inbox_field_t  ngx_http_inbox_settings_fields[] = {
    { .name = "timezone", .type = INBOX_FIELD_STRING,
      .max = INBOX_TIMEZONE_MAX - 1 },
    { .name = "quiet_hours", .type = INBOX_FIELD_OBJECT,
      .fields = ngx_http_inbox_quiet_hours_fields },
    { .name = "business_name", .type = INBOX_FIELD_STRING, .nullable = 1,
      .max = INBOX_BUSINESS_NAME_MAX },
    { .name = "support_contact", .type = INBOX_FIELD_STRING, .nullable = 1,
      .max = INBOX_SUPPORT_CONTACT_MAX },
    /* no length of its own: a code of any other is the rule's 400 */
    { .name = "default_country", .type = INBOX_FIELD_STRING,
      .nullable = 1 },
    /*
     * Read-only, as GET renders it, taken and ignored: a client that
     * edits the object it read saves it as it is (any other field
     * unknown is still a 400)
     */
    { .name = "countries", .type = INBOX_FIELD_STRINGS, .nullable = 1,
      .item = "Country" },
    { .name = NULL }
};


static void ngx_http_inbox_settings_get_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);
static void ngx_http_inbox_settings_update_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);


ngx_int_t
ngx_http_inbox_settings_get(ngx_http_request_t *r, ngx_http_inbox_api_t *api,
    ngx_str_t *id)
{
    api->op = ngx_http_inbox_settings_get_op;

    return NGX_OK;
}


ngx_int_t
ngx_http_inbox_settings_update(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id)
{
    inbox_error_t           err;
    inbox_status_t          rc;
    inbox_request_t        *req;
    inbox_settings_edit_t  *edit;

    edit = ngx_pcalloc(r->pool, sizeof(inbox_settings_edit_t));
    if (edit == NULL) {
        return NGX_ERROR;
    }

    api->op = ngx_http_inbox_settings_update_op;
    api->args = edit;

    if (ngx_http_inbox_api_json(r, api, ngx_http_inbox_settings_fields, &req)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (req->root == NULL) {
        return NGX_OK;
    }

    rc = INBOX_OK;

    if (inbox_request_has(req, "timezone")) {
        rc = inbox_settings_set_timezone(edit,
                                         inbox_request_string(req, "timezone"),
                                         &err);
    }

    if (rc == INBOX_OK && inbox_request_has(req, "quiet_hours")) {
        rc = inbox_settings_set_quiet_hours(edit,
                 inbox_request_string(req, "quiet_hours.start"),
                 inbox_request_string(req, "quiet_hours.end"), &err);
    }

    if (rc == INBOX_OK && inbox_request_has(req, "business_name")) {
        rc = inbox_settings_set_business_name(edit,
                 inbox_request_string(req, "business_name"), &err);
    }

    if (rc == INBOX_OK && inbox_request_has(req, "support_contact")) {
        rc = inbox_settings_set_support_contact(edit,
                 inbox_request_string(req, "support_contact"), &err);
    }

    if (rc == INBOX_OK && inbox_request_has(req, "default_country")) {
        rc = inbox_settings_set_default_country(edit,
                 inbox_request_string(req, "default_country"), &err);
    }

    if (rc == INBOX_ERR_INTERNAL) {
        return NGX_ERROR;
    }

    if (rc != INBOX_OK && api->invalid.code == INBOX_OK) {
        api->invalid = err;
    }

    return NGX_OK;
}


/* The ops run in a pool thread. */

static void
ngx_http_inbox_settings_get_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    char              *json;
    size_t             len;
    inbox_settings_t   settings;

    if (inbox_store_settings_get(store, api->principal.org_id, &settings,
                                 &job->error)
        == INBOX_OK)
    {
        json = inbox_render_settings(&settings, &len);
        ngx_http_inbox_job_document(job, NGX_HTTP_OK, json, len);
    }
}


/* The settings as the edit left them; one that changed them goes to
 * every browser of the organization as settings.updated, once it is
 * durable. */

static void
ngx_http_inbox_settings_update_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    inbox_settings_edit_t *edit = api->args;

    char                *json;
    size_t               len;
    inbox_settings_t     settings;
    inbox_event_list_t   events;

    ngx_memzero(&events, sizeof(inbox_event_list_t));

    if (inbox_store_settings_update(store, api->principal.org_id, edit,
                                    &settings, &events, &job->error)
        == INBOX_OK)
    {
        json = inbox_render_settings(&settings, &len);
        ngx_http_inbox_job_document(job, NGX_HTTP_OK, json, len);

        ngx_http_inbox_events_send(&events);

        if (inbox_settings_edit_moves_quiet_hours(edit)) {
            /* what waited for quiet hours is due, and what the sender
             * holds may be in them now: looked at now */
            ngx_http_inbox_sender_wake_quiet(api->principal.org_id);
        }
    }

    inbox_event_list_free(&events);
}
