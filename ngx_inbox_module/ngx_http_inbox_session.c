
/*
 * Signing in as a person: POST /api/v1/auth/login, POST
 * /api/v1/auth/logout and GET /api/v1/me.
 *
 * The password is checked in a pool thread (Argon2id is slow on purpose);
 * an unknown email address costs as long and is answered the same way as
 * a wrong password.  Before that, in the event loop, the attempt is
 * charged to two buckets, the client address's (inbox_login_address_rate)
 * then the email address's (inbox_login_rate): past their delay an
 * attempt waits, past their burst it is refused with 429 and Retry-After
 * without any password being checked.  A sign-in that turns out right
 * gives its charge back, so only failures add up.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <stdlib.h>
#include <sodium.h>

#include <inbox/account.h>
#include <inbox/clock.h>
#include <inbox/password.h>
#include <inbox/render.h>
#include <inbox/session.h>

#include "ngx_http_inbox_module.h"
#include "ngx_http_inbox_api.h"
#include "ngx_http_inbox_auth.h"
#include "ngx_http_inbox_limit.h"
#include "ngx_http_inbox_reply.h"


typedef struct {
    const char  *email;
    char        *password;                 /* wiped with the request */
    size_t       password_len;
    char         session[INBOX_SESSION_MAX];   /* made by the op */
    char         rehash_error[INBOX_ERROR_MESSAGE_MAX]; /* "": none */
    char         user_id[INBOX_ID_MAX];         /* whose rehash failed */
    u_char       email_key[NGX_HTTP_INBOX_LIMIT_KEY_LEN];
    u_char       address_key[NGX_HTTP_INBOX_LIMIT_KEY_LEN];
    unsigned     charged:1;
} ngx_http_inbox_login_args_t;


static ngx_int_t ngx_http_inbox_login_charge(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_http_inbox_login_args_t *args);
static void ngx_http_inbox_login_rehash(inbox_store_t *store,
    const inbox_user_t *user, const char *old_hash,
    char current[INBOX_PASSWORD_HASH_MAX],
    ngx_http_inbox_login_args_t *args);
static void ngx_http_inbox_login_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);
static ngx_int_t ngx_http_inbox_login_done(ngx_http_request_t *r,
    ngx_http_inbox_job_t *job);
static void ngx_http_inbox_login_cleanup(void *data);
static void ngx_http_inbox_logout_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);
static ngx_int_t ngx_http_inbox_logout_done(ngx_http_request_t *r,
    ngx_http_inbox_job_t *job);
static void ngx_http_inbox_me_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);
static void ngx_http_inbox_account_answer(ngx_http_inbox_job_t *job,
    inbox_store_t *store, const char *org_id, const char *user_id);


/* No field is longer than a sign-in needs; a wrong password of any
 * length is simply wrong (401), the rules of a new one are inboxctl's. */
static const inbox_field_t  ngx_http_inbox_login_fields[] = {
    { .name = "email", .type = INBOX_FIELD_STRING, .required = 1,
      .min = 1, .max = INBOX_EMAIL_MAX - 1 },
    { .name = "password", .type = INBOX_FIELD_STRING, .required = 1,
      .min = 1, .max = INBOX_PASSWORD_MAX },
    { .name = NULL }
};


static const char  ngx_http_inbox_login_refused[] =
    "The email address or password is not right.";


ngx_int_t
ngx_http_inbox_session_login(ngx_http_request_t *r, ngx_http_inbox_api_t *api,
    ngx_str_t *id)
{
    ngx_str_t                     email;
    inbox_request_t              *req;
    ngx_http_inbox_login_args_t  *args;

    args = ngx_http_inbox_api_secret_args(r, api,
               sizeof(ngx_http_inbox_login_args_t),
               ngx_http_inbox_login_cleanup);
    if (args == NULL) {
        return NGX_ERROR;
    }

    api->op = ngx_http_inbox_login_op;
    api->done = ngx_http_inbox_login_done;

    if (ngx_http_inbox_api_secret_json(r, api, ngx_http_inbox_login_fields,
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

    args->password = ngx_http_inbox_api_secret(r, req, "password",
                                               &args->password_len);
    if (args->password == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_inbox_login_charge(r, api, args);
}


/*
 * Charges the email address's and the client address's buckets: refused
 * (api->invalid, 429) when either is full, else waiting as long as the
 * fuller one says.
 */

static ngx_int_t
ngx_http_inbox_login_charge(ngx_http_request_t *r, ngx_http_inbox_api_t *api,
    ngx_http_inbox_login_args_t *args)
{
    char        email[INBOX_EMAIL_MAX];
    ngx_uint_t  retry_after;

    /* "Pat@x" and "pat@x" are one account, and one bucket */
    if (inbox_email_normalize(args->email, email, sizeof(email)) != 0) {
        ngx_cpystrn((u_char *) email, (u_char *) args->email, sizeof(email));
    }

    ngx_http_inbox_limit_key("email", (u_char *) email, ngx_strlen(email),
                             args->email_key);

    if (ngx_http_inbox_login_guess(r, NULL, args->email_key,
                                   args->address_key, &api->wait,
                                   &retry_after)
        != NGX_OK)
    {
        inbox_error_rate_limited(&api->invalid, (unsigned) retry_after,
                                 "Too many failed sign-ins; wait %u seconds "
                                 "and try again.", (unsigned) retry_after);
        return NGX_OK;
    }

    args->charged = 1;

    return NGX_OK;
}


ngx_int_t
ngx_http_inbox_login_guess(ngx_http_request_t *r, const char *kind,
    const u_char *account_key, u_char *address_key, ngx_msec_t *wait,
    ngx_uint_t *retry_after)
{
    u_char                       address[NGX_HTTP_INBOX_LIMIT_KEY_LEN];
    ngx_msec_t                   address_wait;
    ngx_http_inbox_main_conf_t  *imcf;

    imcf = ngx_http_get_module_main_conf(r, ngx_http_inbox_module);

    ngx_http_inbox_limit_address_key(r, address);

    if (kind != NULL) {
        ngx_http_inbox_limit_key(kind, address, sizeof(address),
                                 address_key);

    } else {
        ngx_memcpy(address_key, address, sizeof(address));
    }

    /* the address first: one address sending random accounts makes no
     * account buckets past its own limit */
    if (ngx_http_inbox_limit_charge(&imcf->login_address_limit,
                                    r->connection->log, address_key,
                                    &address_wait, retry_after)
        != NGX_OK)
    {
        return NGX_BUSY;
    }

    if (ngx_http_inbox_limit_charge(&imcf->login_limit, r->connection->log,
                                    account_key, wait, retry_after)
        != NGX_OK)
    {
        ngx_http_inbox_limit_refund(&imcf->login_address_limit, address_key);
        return NGX_BUSY;
    }

    *wait = ngx_max(*wait, address_wait);

    return NGX_OK;
}


/*
 * In a pool thread: a hash made under older limits is made again now that
 * the password is at hand.  Signing in does not depend on it: a failure
 * leaves the old hash, which still verifies, for the next sign-in.
 */

static void
ngx_http_inbox_login_rehash(inbox_store_t *store, const inbox_user_t *user,
    const char *old_hash, char current[INBOX_PASSWORD_HASH_MAX],
    ngx_http_inbox_login_args_t *args)
{
    int            replaced;
    char           new_hash[INBOX_PASSWORD_HASH_MAX];
    inbox_error_t  err;

    replaced = 0;

    if (inbox_password_hash(args->password, args->password_len, new_hash,
                            &err)
        != INBOX_OK
        || inbox_store_user_password_rehash(store, user->org_id, user->id,
                                            old_hash, new_hash, &replaced,
                                            &err)
           != INBOX_OK)
    {
        /* logged in the event loop (ngx_http_inbox_login_done) */
        ngx_cpystrn((u_char *) args->user_id, (u_char *) user->id,
                    sizeof(args->user_id));
        ngx_cpystrn((u_char *) args->rehash_error, (u_char *) err.message,
                    sizeof(args->rehash_error));
    }

    /* the session is made for the hash the user has now */
    if (replaced) {
        ngx_cpystrn((u_char *) current, (u_char *) new_hash,
                    INBOX_PASSWORD_HASH_MAX);
    }

    sodium_memzero(new_hash, sizeof(new_hash));
}


/* In a pool thread. */

static void
ngx_http_inbox_login_op(ngx_http_inbox_api_t *api, inbox_store_t *store,
    ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_login_args_t *args = api->args;

    int             good;
    char           *hash, session_hash[INBOX_SESSION_HASH_MAX];
    char            checked[INBOX_PASSWORD_HASH_MAX];
    inbox_user_t    user;
    inbox_status_t  rc;

    hash = NULL;

    rc = inbox_store_user_find_by_email(store, args->email, &user, &hash,
                                        &job->error);

    if (rc != INBOX_OK && rc != INBOX_ERR_NOT_FOUND) {
        return;
    }

    /* nobody by that address: the decoy hash is verified instead, so the
     * answer takes as long as for a wrong password */
    good = inbox_password_verify(rc == INBOX_OK ? hash : NULL,
                                 args->password, args->password_len);

    checked[0] = '\0';

    if (good) {
        ngx_cpystrn((u_char *) checked, (u_char *) hash, sizeof(checked));

        if (inbox_password_needs_rehash(hash)) {
            ngx_http_inbox_login_rehash(store, &user, hash, checked, args);
        }
    }

    free(hash);
    sodium_memzero(args->password, args->password_len);

    if (!good) {
        inbox_error_set(&job->error, INBOX_ERR_UNAUTHENTICATED, "%s",
                        ngx_http_inbox_login_refused);
        return;
    }

    if (inbox_session_generate(args->session) != 0) {
        inbox_error_set(&job->error, INBOX_ERR_INTERNAL,
                        "The server has no randomness to give; try again.");
        return;
    }

    inbox_session_hash(args->session, ngx_strlen(args->session),
                       session_hash);

    /* made only while the password checked is still the user's: a new
     * one set meanwhile ended every session, and would not end this */
    rc = inbox_store_session_sign_in(store, user.org_id, user.id, checked,
                                     session_hash, &job->error);
    sodium_memzero(checked, sizeof(checked));

    if (rc != INBOX_OK) {
        sodium_memzero(args->session, sizeof(args->session));

        if (rc == INBOX_ERR_UNAUTHENTICATED || rc == INBOX_ERR_NOT_FOUND) {
            inbox_error_set(&job->error, INBOX_ERR_UNAUTHENTICATED, "%s",
                            ngx_http_inbox_login_refused);
        }

        return;
    }

    /* sessions that ended go when someone signs in: no timer needed */
    (void) inbox_store_sessions_purge(store, inbox_now_ms(), NULL, NULL);

    ngx_http_inbox_account_answer(job, store, user.org_id, user.id);

    if (job->error.code == INBOX_ERR_NOT_FOUND) {
        /* removed from the team this moment: the session finds nobody */
        sodium_memzero(args->session, sizeof(args->session));
        inbox_error_set(&job->error, INBOX_ERR_UNAUTHENTICATED, "%s",
                        ngx_http_inbox_login_refused);
    }
}


/*
 * In the event loop: the cookie goes with a good answer.  Only a refused
 * password keeps its charge; a right one also forgets the email's earlier
 * failures (the person is who they said: a later typo is not the last
 * straw), while the address keeps its own, which other accounts' guesses
 * filled.
 */

static ngx_int_t
ngx_http_inbox_login_done(ngx_http_request_t *r, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_api_t *api = job->data;

    ngx_http_inbox_main_conf_t   *imcf;
    ngx_http_inbox_login_args_t  *args = api->args;

    imcf = ngx_http_get_module_main_conf(r, ngx_http_inbox_module);

    if (args->rehash_error[0] != '\0') {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "inbox: user %s's password was not rehashed under "
                      "today's limits: %s", args->user_id,
                      args->rehash_error);
    }

    if (args->charged && job->error.code != INBOX_ERR_UNAUTHENTICATED) {
        if (args->session[0] != '\0') {
            ngx_http_inbox_limit_clear(&imcf->login_limit, args->email_key);

        } else {
            ngx_http_inbox_limit_refund(&imcf->login_limit, args->email_key);
        }

        ngx_http_inbox_limit_refund(&imcf->login_address_limit,
                                    args->address_key);
    }

    if (job->body != NULL && args->session[0] != '\0') {
        if (ngx_http_inbox_auth_set_cookie(r, args->session) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return NGX_DECLINED;
}


static void
ngx_http_inbox_login_cleanup(void *data)
{
    ngx_http_inbox_login_args_t  *args = data;

    if (args->password != NULL) {
        ngx_explicit_memzero(args->password, args->password_len);
    }

    ngx_explicit_memzero(args->session, sizeof(args->session));
}


ngx_int_t
ngx_http_inbox_session_logout(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id)
{
    api->op = ngx_http_inbox_logout_op;
    api->done = ngx_http_inbox_logout_done;

    return NGX_OK;
}


static void
ngx_http_inbox_logout_op(ngx_http_inbox_api_t *api, inbox_store_t *store,
    ngx_http_inbox_job_t *job)
{
    inbox_event_list_t   events;

    ngx_memzero(&events, sizeof(inbox_event_list_t));

    if (inbox_store_session_delete(store, api->credential_hash, &events,
                                   &job->error)
        != INBOX_OK)
    {
        return;
    }

    /* ws-server closes the session's WebSockets on it, whoever holds
     * them (another tab, or someone with a copy of the cookie) */
    ngx_http_inbox_events_send(&events);
    inbox_event_list_free(&events);

    ngx_http_inbox_job_no_content(job);
}


/* Signed out, the browser forgets the cookie (a session that had ended
 * already is forgotten as every 401 of a session is). */

static ngx_int_t
ngx_http_inbox_logout_done(ngx_http_request_t *r, ngx_http_inbox_job_t *job)
{
    if (job->body != NULL && ngx_http_inbox_auth_clear_cookie(r) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_inbox_session_me(ngx_http_request_t *r, ngx_http_inbox_api_t *api,
    ngx_str_t *id)
{
    api->op = ngx_http_inbox_me_op;

    return NGX_OK;
}


static void
ngx_http_inbox_me_op(ngx_http_inbox_api_t *api, inbox_store_t *store,
    ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_account_answer(job, store, api->principal.org_id,
                                  api->principal.user_id);
}


/* 200 with the account (see inbox_render_account). */

static void
ngx_http_inbox_account_answer(ngx_http_inbox_job_t *job,
    inbox_store_t *store, const char *org_id, const char *user_id)
{
    char             *json;
    size_t            len;
    inbox_account_t   account;

    if (inbox_store_account_get(store, org_id, user_id, &account,
                                &job->error)
        == INBOX_OK)
    {
        json = inbox_render_account(&account, &len);
        ngx_http_inbox_job_document(job, NGX_HTTP_OK, json, len);
    }

    inbox_account_free(&account);
}
