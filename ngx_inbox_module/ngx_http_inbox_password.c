
/*
 * A person changes their own password: POST /api/v1/me/password
 * {"current_password","new_password"}.
 *
 * The current password is verified in a pool thread, as at sign-in, and
 * a wrong one is 400 naming current_password (not 401, which would end
 * the session in the browser).  Each attempt is charged in the event loop
 * to the account's sign-in rate (inbox_login_rate), by the session or
 * token it came with, and to the client address's
 * (inbox_login_address_rate): a stolen session cannot be used to guess
 * the password faster than signing in could, from one address or many.
 * A right one keeps its charges too, as it costs two hashes in the pool
 * every sign-in waits on.  A session or token that is nobody's (401)
 * keeps the address's charge, as a wrong password does, and leaves no
 * bucket of its own: made-up tokens from one address are refused with
 * its guesses, and never crowd the sign-in zone (one not even of a
 * token's form is refused before this is reached).
 *
 * The new password ends every session of the user; one made with a
 * session cookie gets a new session in its answer (204 with Set-Cookie),
 * so the browser that changed it stays signed in.  An organization-wide
 * token has no user, and no password: 403.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <stdlib.h>
#include <sodium.h>

#include <inbox/account.h>
#include <inbox/password.h>
#include <inbox/session.h>

#include "ngx_http_inbox_module.h"
#include "ngx_http_inbox_api.h"
#include "ngx_http_inbox_auth.h"
#include "ngx_http_inbox_limit.h"


typedef struct {
    char        *current;                  /* both wiped with the request */
    size_t       current_len;
    char        *next;
    size_t       next_len;
    char         session[INBOX_SESSION_MAX];   /* made by the op */
    u_char       credential_key[NGX_HTTP_INBOX_LIMIT_KEY_LEN];
    u_char       address_key[NGX_HTTP_INBOX_LIMIT_KEY_LEN];
    unsigned     charged:1;
} ngx_http_inbox_password_args_t;


static void ngx_http_inbox_password_op(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);
static inbox_status_t ngx_http_inbox_password_verify(inbox_store_t *store,
    const inbox_principal_t *who, ngx_http_inbox_password_args_t *args,
    char email[INBOX_EMAIL_MAX], char current[INBOX_PASSWORD_HASH_MAX],
    inbox_error_t *err);
static ngx_int_t ngx_http_inbox_password_done(ngx_http_request_t *r,
    ngx_http_inbox_job_t *job);
static void ngx_http_inbox_password_cleanup(void *data);


static const inbox_field_t  ngx_http_inbox_password_fields[] = {
    { .name = "current_password", .type = INBOX_FIELD_STRING,
      .required = 1, .min = 1, .max = INBOX_PASSWORD_MAX },
    { .name = "new_password", .type = INBOX_FIELD_STRING, .required = 1,
      .max = INBOX_PASSWORD_MAX },
    { .name = NULL }
};


ngx_int_t
ngx_http_inbox_password_change(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id)
{
    ngx_uint_t                       retry_after;
    inbox_error_t                    err;
    inbox_request_t                 *req;
    ngx_http_inbox_password_args_t  *args;

    args = ngx_http_inbox_api_secret_args(r, api,
               sizeof(ngx_http_inbox_password_args_t),
               ngx_http_inbox_password_cleanup);
    if (args == NULL) {
        return NGX_ERROR;
    }

    api->op = ngx_http_inbox_password_op;
    api->done = ngx_http_inbox_password_done;

    if (ngx_http_inbox_api_secret_json(r, api,
                                       ngx_http_inbox_password_fields, &req)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (req->root == NULL) {
        return NGX_OK;
    }

    args->current = ngx_http_inbox_api_secret(r, req, "current_password",
                                              &args->current_len);
    args->next = ngx_http_inbox_api_secret(r, req, "new_password",
                                           &args->next_len);
    if (args->current == NULL || args->next == NULL) {
        return NGX_ERROR;
    }

    if (inbox_password_check(args->next, args->next_len, &err) != INBOX_OK) {
        api->invalid = err;
        ngx_cpystrn((u_char *) api->invalid.field, (u_char *) "new_password",
                    sizeof(api->invalid.field));
        return NGX_OK;
    }

    /* who it is is the pool's to find: the credential stands for them */
    if (ngx_http_inbox_limit_hex_key(api->credential_hash, args->credential_key)
        != NGX_OK)
    {
        ngx_http_inbox_limit_key("user", (u_char *) "", 0,
                                 args->credential_key);
    }

    if (ngx_http_inbox_login_guess(r, NULL, args->credential_key,
                                   args->address_key, &api->wait,
                                   &retry_after)
        != NGX_OK)
    {
        inbox_error_rate_limited(&api->invalid, (unsigned) retry_after,
                                 "Too many wrong passwords; wait %u seconds "
                                 "and try again.", (unsigned) retry_after);
        return NGX_OK;
    }

    args->charged = 1;

    return NGX_OK;
}


/* In a pool thread. */

static void
ngx_http_inbox_password_op(ngx_http_inbox_api_t *api, inbox_store_t *store,
    ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_password_args_t *args = api->args;

    char                 email[INBOX_EMAIL_MAX];
    char                 hash[INBOX_PASSWORD_HASH_MAX], id[INBOX_ID_MAX];
    char                 current[INBOX_PASSWORD_HASH_MAX];
    char                 session_hash[INBOX_SESSION_HASH_MAX];
    inbox_status_t       rc;
    inbox_event_list_t   events;

    if (api->principal.user_id[0] == '\0') {
        inbox_error_set(&job->error, INBOX_ERR_FORBIDDEN,
                        "An organization-wide API token has no password; "
                        "sign in as a person to change yours.");
        return;
    }

    rc = ngx_http_inbox_password_verify(store, &api->principal, args, email,
                                        current, &job->error);
    sodium_memzero(args->current, args->current_len);

    if (rc == INBOX_OK) {
        rc = inbox_password_hash(args->next, args->next_len, hash,
                                 &job->error);
    }

    sodium_memzero(args->next, args->next_len);

    if (rc != INBOX_OK) {
        return;
    }

    ngx_memzero(&events, sizeof(inbox_event_list_t));

    /* over the hash verified only: a colleague's reset meanwhile stands */
    rc = inbox_store_user_password_set(store, api->principal.org_id, email,
                                       current, hash, id, &events,
                                       &job->error);
    sodium_memzero(current, sizeof(current));

    if (rc != INBOX_OK) {
        sodium_memzero(hash, sizeof(hash));
        return;
    }

    /* the user's WebSockets close, this browser's too: it opens a new one
     * with the session below */
    ngx_http_inbox_events_send(&events);
    inbox_event_list_free(&events);

    /* every session ended with the old password: this browser's goes on
     * in a new one */
    if (api->credential == NGX_HTTP_INBOX_CREDENTIAL_SESSION) {

        if (inbox_session_generate(args->session) != 0) {
            inbox_error_set(&job->error, INBOX_ERR_INTERNAL,
                            "Your password was changed, but the server "
                            "had no randomness for a new session: sign "
                            "in again.");
            sodium_memzero(hash, sizeof(hash));
            return;
        }

        inbox_session_hash(args->session, ngx_strlen(args->session),
                           session_hash);

        /* as a sign-in with the new password: none if it is no longer
         * theirs or they left the team since */
        if (inbox_store_session_sign_in(store, api->principal.org_id,
                                        api->principal.user_id, hash,
                                        session_hash, &job->error)
            != INBOX_OK)
        {
            sodium_memzero(hash, sizeof(hash));
            sodium_memzero(args->session, sizeof(args->session));
            return;
        }
    }

    sodium_memzero(hash, sizeof(hash));

    ngx_http_inbox_job_no_content(job);
}


/* The user's email, and the hash the current password was verified
 * against, when it is theirs; a wrong one is 400 naming
 * current_password. */

static inbox_status_t
ngx_http_inbox_password_verify(inbox_store_t *store,
    const inbox_principal_t *who, ngx_http_inbox_password_args_t *args,
    char email[INBOX_EMAIL_MAX], char current[INBOX_PASSWORD_HASH_MAX],
    inbox_error_t *err)
{
    int              good;
    char            *hash;
    inbox_user_t     user;
    inbox_status_t   rc;
    inbox_account_t  account;

    ngx_memzero(&account, sizeof(inbox_account_t));

    rc = inbox_store_account_get(store, who->org_id, who->user_id, &account,
                                 err);
    if (rc != INBOX_OK) {
        return rc;
    }

    ngx_cpystrn((u_char *) email, (u_char *) account.user.email,
                INBOX_EMAIL_MAX);
    inbox_account_free(&account);

    hash = NULL;

    rc = inbox_store_user_find_by_email(store, email, &user, &hash, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    good = inbox_password_verify(hash, args->current, args->current_len);
    ngx_cpystrn((u_char *) current, (u_char *) (hash ? hash : ""),
                INBOX_PASSWORD_HASH_MAX);
    free(hash);

    if (!good) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID,
                                     "current_password",
                                     "Your current password is not right.");
    }

    return INBOX_OK;
}


/* In the event loop: an attempt keeps its charges when its password was
 * hashed, a credential that found nobody keeps only the address's, and a
 * new session goes with the answer. */

static ngx_int_t
ngx_http_inbox_password_done(ngx_http_request_t *r, ngx_http_inbox_job_t *job)
{
    ngx_http_inbox_api_t *api = job->data;

    ngx_http_inbox_main_conf_t      *imcf;
    ngx_http_inbox_password_args_t  *args = api->args;

    imcf = ngx_http_get_module_main_conf(r, ngx_http_inbox_module);

    switch (args->charged ? job->error.code : INBOX_OK) {

    case INBOX_OK:
    case INBOX_ERR_INVALID:
        /* a wrong current password, or a right one followed by the new
         * one's hash: either costs the pool every sign-in waits on, so a
         * loop of changes with the right password (each giving the
         * browser a new session) is limited by its address as guesses
         * are */
        break;

    case INBOX_ERR_UNAUTHENTICATED:
        /* a credential that is nobody's: its bucket goes, or made-up ones
         * would fill the zone and lock everyone out of signing in; the
         * address keeps its charge, so that it makes no more of them
         * than it may guess passwords */
        ngx_http_inbox_limit_clear(&imcf->login_limit, args->credential_key);
        break;

    default:
        /* an organization's token, or the server's own failure */
        ngx_http_inbox_limit_refund(&imcf->login_limit, args->credential_key);
        ngx_http_inbox_limit_refund(&imcf->login_address_limit,
                                    args->address_key);
        break;
    }

    if (job->body != NULL && args->session[0] != '\0') {
        if (ngx_http_inbox_auth_set_cookie(r, args->session) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return NGX_DECLINED;
}


static void
ngx_http_inbox_password_cleanup(void *data)
{
    ngx_http_inbox_password_args_t  *args = data;

    if (args->current != NULL) {
        ngx_explicit_memzero(args->current, args->current_len);
    }

    if (args->next != NULL) {
        ngx_explicit_memzero(args->next, args->next_len);
    }

    ngx_explicit_memzero(args->session, sizeof(args->session));
}
