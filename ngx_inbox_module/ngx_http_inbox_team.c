
/*
 * The team: GET /api/v1/users (anyone of the organization), and for a
 * billing contact POST /api/v1/users (a new user with a first password,
 * which they change), PATCH /api/v1/users/{id} (their role), POST
 * /api/v1/users/{id}/password (a colleague who forgot theirs gets a new
 * first one, and is signed out everywhere; one's own is changed with the
 * current one, POST /api/v1/me/password) and DELETE /api/v1/users/{id}.
 * The store keeps one billing contact at least (409 conflict) and signs
 * a removed user out everywhere.
 *
 * A password given is hashed in the pool thread (Argon2id is slow on
 * purpose) and wiped from the request as soon as it is copied out.
 * That pool is every organization's sign-ins' too, so a taken email is
 * refused before any hashing, and each new user asked for is charged in
 * the event loop, as a password change is, to a bucket of the client
 * address (in inbox_login_address_rate's zone, apart from the one its
 * sign-ins count on, so adding a team does not lock the office out) and
 * to one of the session's or token's own (in inbox_login_rate's zone):
 * past them 429, nothing hashed.  Only the server's own failure gives the
 * charges back; a credential that is nobody's leaves no bucket (the address
 * keeps its charge), so made-up tokens cannot fill the zone sign-ins need.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <sodium.h>

#include <inbox/account.h>
#include <inbox/password.h>
#include <inbox/render.h>

#include "ngx_http_inbox_module.h"
#include "ngx_http_inbox_api.h"
#include "ngx_http_inbox_limit.h"


typedef struct {
    char          *user_id;                /* PATCH, DELETE, a password */
    char          *email;                  /* POST */
    char          *password;               /* POST, a password: wiped with
                                              the request */
    size_t         password_len;
    inbox_role_t   role;                   /* POST and PATCH */
    u_char         credential_key[NGX_HTTP_INBOX_LIMIT_KEY_LEN];  /* POST */
    u_char         address_key[NGX_HTTP_INBOX_LIMIT_KEY_LEN];
    unsigned       charged:1;
} ngx_http_inbox_team_args_t;


static ngx_http_inbox_team_args_t *ngx_http_inbox_team_args(
    ngx_http_request_t *r, ngx_http_inbox_api_t *api);
static ngx_int_t ngx_http_inbox_team_role(ngx_http_inbox_api_t *api,
    inbox_request_t *req, ngx_http_inbox_team_args_t *args);
static ngx_int_t ngx_http_inbox_team_password(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, inbox_request_t *req,
    ngx_http_inbox_team_args_t *args);
static ngx_int_t ngx_http_inbox_team_charge(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_http_inbox_team_args_t *args,
    const char *kind, const char *too_many);
static ngx_int_t ngx_http_inbox_team_charged_done(ngx_http_request_t *r,
    ngx_http_inbox_job_t *job);
static void ngx_http_inbox_team_cleanup(void *data);
static void ngx_http_inbox_users_list_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);
static void ngx_http_inbox_user_create_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);
static void ngx_http_inbox_user_update_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);
static void ngx_http_inbox_user_password_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);
static void ngx_http_inbox_user_remove_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);


static const inbox_field_t  ngx_http_inbox_user_create_fields[] = {
    { .name = "email", .type = INBOX_FIELD_STRING, .required = 1,
      .min = 1, .max = INBOX_EMAIL_MAX - 1 },
    { .name = "role", .type = INBOX_FIELD_STRING, .required = 1,
      .max = 16 },
    { .name = "password", .type = INBOX_FIELD_STRING, .required = 1,
      .max = INBOX_PASSWORD_MAX },
    { .name = NULL }
};

static const inbox_field_t  ngx_http_inbox_user_password_fields[] = {
    { .name = "password", .type = INBOX_FIELD_STRING, .required = 1,
      .max = INBOX_PASSWORD_MAX },
    { .name = NULL }
};

static const inbox_field_t  ngx_http_inbox_user_update_fields[] = {
    { .name = "role", .type = INBOX_FIELD_STRING, .required = 1,
      .max = 16 },
    { .name = NULL }
};


ngx_int_t
ngx_http_inbox_users_list(ngx_http_request_t *r, ngx_http_inbox_api_t *api,
    ngx_str_t *id)
{
    api->op = ngx_http_inbox_users_list_op;

    return NGX_OK;
}


ngx_int_t
ngx_http_inbox_user_create(ngx_http_request_t *r, ngx_http_inbox_api_t *api,
    ngx_str_t *id)
{
    char                        normalized[INBOX_EMAIL_MAX];
    ngx_str_t                   email;
    inbox_request_t            *req;
    ngx_http_inbox_team_args_t *args;

    args = ngx_http_inbox_team_args(r, api);
    if (args == NULL) {
        return NGX_ERROR;
    }

    api->op = ngx_http_inbox_user_create_op;
    api->done = ngx_http_inbox_team_charged_done;

    if (ngx_http_inbox_api_secret_json(r, api,
                                       ngx_http_inbox_user_create_fields,
                                       &req)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (req->root == NULL) {
        return NGX_OK;
    }

    email.data = (u_char *) inbox_request_string(req, "email");
    email.len = ngx_strlen(email.data);

    args->email = ngx_http_inbox_strdup(r->pool, &email);
    if (args->email == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_inbox_team_role(api, req, args) != NGX_OK) {
        return NGX_OK;
    }

    if (inbox_email_normalize(args->email, normalized, sizeof(normalized))
        != 0)
    {
        inbox_error_set_field(&api->invalid, INBOX_ERR_INVALID, "email",
                              "Give an email address such as "
                              "name@example.com.");
        return NGX_OK;
    }

    if (ngx_http_inbox_team_password(r, api, req, args) != NGX_OK) {
        return api->invalid.code != INBOX_OK ? NGX_OK : NGX_ERROR;
    }

    return ngx_http_inbox_team_charge(r, api, args, "user add",
                                      "Too many users added at once; wait "
                                      "%u seconds and try again.");
}


ngx_int_t
ngx_http_inbox_user_password(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id)
{
    inbox_request_t            *req;
    ngx_http_inbox_team_args_t *args;

    args = ngx_http_inbox_team_args(r, api);
    if (args == NULL) {
        return NGX_ERROR;
    }

    api->op = ngx_http_inbox_user_password_op;
    api->done = ngx_http_inbox_team_charged_done;

    args->user_id = ngx_http_inbox_api_id(r, api, id);
    if (args->user_id == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_inbox_api_secret_json(r, api,
                                       ngx_http_inbox_user_password_fields,
                                       &req)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (req->root == NULL) {
        return NGX_OK;
    }

    if (ngx_http_inbox_team_password(r, api, req, args) != NGX_OK) {
        return api->invalid.code != INBOX_OK ? NGX_OK : NGX_ERROR;
    }

    return ngx_http_inbox_team_charge(r, api, args, "user password",
                                      "Too many passwords set at once; "
                                      "wait %u seconds and try again.");
}


ngx_int_t
ngx_http_inbox_user_update(ngx_http_request_t *r, ngx_http_inbox_api_t *api,
    ngx_str_t *id)
{
    inbox_request_t            *req;
    ngx_http_inbox_team_args_t *args;

    args = ngx_http_inbox_team_args(r, api);
    if (args == NULL) {
        return NGX_ERROR;
    }

    api->op = ngx_http_inbox_user_update_op;

    args->user_id = ngx_http_inbox_api_id(r, api, id);
    if (args->user_id == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_inbox_api_json(r, api, ngx_http_inbox_user_update_fields,
                                &req)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (req->root != NULL) {
        (void) ngx_http_inbox_team_role(api, req, args);
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_inbox_user_remove(ngx_http_request_t *r, ngx_http_inbox_api_t *api,
    ngx_str_t *id)
{
    ngx_http_inbox_team_args_t  *args;

    args = ngx_http_inbox_team_args(r, api);
    if (args == NULL) {
        return NGX_ERROR;
    }

    api->op = ngx_http_inbox_user_remove_op;

    args->user_id = ngx_http_inbox_api_id(r, api, id);
    if (args->user_id == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The body's password, copied out of the request and checked: NGX_OK, or
 * NGX_DECLINED with api->invalid set, or NGX_ERROR.
 */

static ngx_int_t
ngx_http_inbox_team_password(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, inbox_request_t *req,
    ngx_http_inbox_team_args_t *args)
{
    inbox_error_t  err;

    args->password = ngx_http_inbox_api_secret(r, req, "password",
                                               &args->password_len);
    if (args->password == NULL) {
        return NGX_ERROR;
    }

    if (inbox_password_check(args->password, args->password_len, &err)
        != INBOX_OK)
    {
        api->invalid = err;
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * A password to hash, charged as a password guess: to the address, then
 * to the session's or token's bucket, of a kind of its own so that
 * managing the team never counts against its owner's password change.
 */

static ngx_int_t
ngx_http_inbox_team_charge(ngx_http_request_t *r, ngx_http_inbox_api_t *api,
    ngx_http_inbox_team_args_t *args, const char *kind, const char *too_many)
{
    ngx_uint_t  retry_after;

    ngx_http_inbox_limit_key(kind, (u_char *) api->credential_hash,
                             ngx_strlen(api->credential_hash),
                             args->credential_key);

    if (ngx_http_inbox_login_guess(r, kind, args->credential_key,
                                   args->address_key, &api->wait,
                                   &retry_after)
        != NGX_OK)
    {
        inbox_error_rate_limited(&api->invalid, (unsigned) retry_after,
                                 too_many, (unsigned) retry_after);
        return NGX_OK;
    }

    args->charged = 1;

    return NGX_OK;
}


/* In the event loop: the server's own failure gives the charges back, a
 * credential that found nobody keeps only the address's. */

static ngx_int_t
ngx_http_inbox_team_charged_done(ngx_http_request_t *r,
    ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_api_t *api = job->data;

    ngx_http_inbox_main_conf_t  *imcf;
    ngx_http_inbox_team_args_t  *args = api->args;

    if (!args->charged) {
        return NGX_DECLINED;
    }

    imcf = ngx_http_get_module_main_conf(r, ngx_http_inbox_module);

    switch (job->error.code) {

    case INBOX_ERR_UNAUTHENTICATED:
        ngx_http_inbox_limit_clear(&imcf->login_limit, args->credential_key);
        break;

    case INBOX_ERR_UNAVAILABLE:
    case INBOX_ERR_INTERNAL:
        ngx_http_inbox_limit_refund(&imcf->login_limit, args->credential_key);
        ngx_http_inbox_limit_refund(&imcf->login_address_limit,
                                    args->address_key);
        break;

    default:
        /* added, or refused by the store: either was asked of it */
        break;
    }

    return NGX_DECLINED;
}


static ngx_http_inbox_team_args_t *
ngx_http_inbox_team_args(ngx_http_request_t *r, ngx_http_inbox_api_t *api)
{
    return ngx_http_inbox_api_secret_args(r, api,
                                          sizeof(ngx_http_inbox_team_args_t),
                                          ngx_http_inbox_team_cleanup);
}


static ngx_int_t
ngx_http_inbox_team_role(ngx_http_inbox_api_t *api, inbox_request_t *req,
    ngx_http_inbox_team_args_t *args)
{
    if (inbox_role_parse(inbox_request_string(req, "role"), &args->role)
        == 0)
    {
        return NGX_OK;
    }

    if (api->invalid.code == INBOX_OK) {
        inbox_error_set_field(&api->invalid, INBOX_ERR_INVALID, "role",
                              "The role is \"member\" or \"billing\".");
    }

    return NGX_DECLINED;
}


static void
ngx_http_inbox_team_cleanup(void *data)
{
    ngx_http_inbox_team_args_t  *args = data;

    if (args->password != NULL) {
        ngx_explicit_memzero(args->password, args->password_len);
    }
}


/* The ops run in a pool thread. */

static void
ngx_http_inbox_users_list_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    char               *json;
    size_t              len;
    inbox_user_list_t   list;

    ngx_memzero(&list, sizeof(inbox_user_list_t));

    if (inbox_store_users_list(store, api->principal.org_id, &list,
                               &job->error)
        == INBOX_OK)
    {
        json = inbox_render_users(&list, &len);
        ngx_http_inbox_job_document(job, NGX_HTTP_OK, json, len);
        inbox_user_list_free(&list);
    }
}


static void
ngx_http_inbox_user_create_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_team_args_t *args = api->args;

    char                *json, id[INBOX_ID_MAX];
    char                 hash[INBOX_PASSWORD_HASH_MAX];
    size_t               len;
    inbox_status_t       rc;
    inbox_account_t      account;
    inbox_event_list_t   events;

    /* a taken email costs a read, not a hash: the add below still
     * refuses one taken meanwhile */
    rc = inbox_store_user_email_check(store, api->principal.org_id,
                                      args->email, &job->error);

    if (rc == INBOX_OK) {
        rc = inbox_password_hash(args->password, args->password_len, hash,
                                 &job->error);
    }

    sodium_memzero(args->password, args->password_len);

    ngx_memzero(&events, sizeof(inbox_event_list_t));

    if (rc == INBOX_OK) {
        rc = inbox_store_user_add(store, api->principal.org_id, args->email,
                                  args->role, hash, id, &events,
                                  &job->error);
    }

    sodium_memzero(hash, sizeof(hash));

    if (rc != INBOX_OK) {
        return;
    }

    ngx_http_inbox_events_send(&events);
    inbox_event_list_free(&events);

    ngx_memzero(&account, sizeof(inbox_account_t));

    if (inbox_store_account_get(store, api->principal.org_id, id, &account,
                                &job->error)
        == INBOX_OK)
    {
        json = inbox_render_user(&account.user, &len);
        ngx_http_inbox_job_document(job, NGX_HTTP_CREATED, json, len);
        inbox_account_free(&account);
    }
}


static void
ngx_http_inbox_user_update_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_team_args_t *args = api->args;

    char                *json;
    size_t               len;
    inbox_user_t         user;
    inbox_event_list_t   events;

    ngx_memzero(&events, sizeof(inbox_event_list_t));

    if (inbox_store_user_role_set(store, api->principal.org_id,
                                  args->user_id, args->role, &user, &events,
                                  &job->error)
        == INBOX_OK)
    {
        ngx_http_inbox_events_send(&events);
        inbox_event_list_free(&events);

        json = inbox_render_user(&user, &len);
        ngx_http_inbox_job_document(job, NGX_HTTP_OK, json, len);
    }
}


static void
ngx_http_inbox_user_password_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_team_args_t *args = api->args;

    char                 id[INBOX_ID_MAX];
    char                 hash[INBOX_PASSWORD_HASH_MAX];
    inbox_status_t       rc;
    inbox_account_t      account;
    inbox_event_list_t   events;

    /* this route asks no current password: one's own needs it */
    if (ngx_strcmp(args->user_id, api->principal.user_id) == 0) {
        sodium_memzero(args->password, args->password_len);
        inbox_error_set(&job->error, INBOX_ERR_FORBIDDEN,
                        "Change your own password with your current one, "
                        "under Your password.");
        return;
    }

    ngx_memzero(&account, sizeof(inbox_account_t));

    rc = inbox_store_account_get(store, api->principal.org_id, args->user_id,
                                 &account, &job->error);

    if (rc == INBOX_OK) {
        rc = inbox_password_hash(args->password, args->password_len, hash,
                                 &job->error);
    }

    sodium_memzero(args->password, args->password_len);

    ngx_memzero(&events, sizeof(inbox_event_list_t));

    if (rc == INBOX_OK) {
        rc = inbox_store_user_password_set(store, api->principal.org_id,
                                           account.user.email, NULL, hash,
                                           id, &events, &job->error);
    }

    sodium_memzero(hash, sizeof(hash));
    inbox_account_free(&account);

    if (rc != INBOX_OK) {
        return;
    }

    /* ws-server closes the user's WebSockets on it */
    ngx_http_inbox_events_send(&events);
    inbox_event_list_free(&events);

    ngx_http_inbox_job_no_content(job);
}


static void
ngx_http_inbox_user_remove_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_team_args_t *args = api->args;

    inbox_event_list_t   events;

    ngx_memzero(&events, sizeof(inbox_event_list_t));

    if (inbox_store_user_remove(store, api->principal.org_id, args->user_id,
                                &events, &job->error)
        != INBOX_OK)
    {
        return;
    }

    /* ws-server closes the user's WebSockets on it */
    ngx_http_inbox_events_send(&events);
    inbox_event_list_free(&events);

    ngx_http_inbox_job_no_content(job);
}
