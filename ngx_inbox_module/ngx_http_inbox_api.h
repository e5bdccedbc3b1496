
/*
 * The JSON API under /api/v1/: the route table, the dispatcher that
 * enforces what each route declares, and the helpers routes share.
 *
 * A route declares its method and path, who may call it (a session
 * cookie or a bearer token, a session cookie only, or anyone) and what
 * body it takes (none, JSON or binary, up to a size).  The dispatcher
 * answers, in the event loop and before reading any body: 404 and 405
 * (with Allow); 401 without a credential, or with one that cannot be a
 * token or a session; 403 for a cookie-authenticated change without
 * "X-Requested-With: inbox"; 415 for a body of another Content-Type; 413
 * for one larger than the route takes.
 *
 * A binary body (megabytes: a CSV import, an image) is read only for a
 * caller the store knows: a job of its own finds them first (401, or 403
 * for a route they may not call, the body unread), and its done handler
 * reads the body.
 *
 * Then the route's prepare function runs in the event loop: it reads the
 * path's {id}, the query and the body (ngx_http_inbox_api_json) into
 * api->args (allocated from the request pool) and names api->op; a
 * binary body stays where nginx put it (r->request_body: buffers or a
 * temporary file), for op to read in its pool thread.  Its
 * mistakes go to api->invalid, answered once the caller is authenticated
 * (at once for a route anyone may call).  Then one job (see
 * ngx_http_inbox_task.h) checks the token or session (unless the binary
 * body's job did) and, when it is good, runs op in a pool thread, which
 * answers through the job; api->done, if the route set one, sees that
 * answer in the event loop before it is sent.
 */


#ifndef _NGX_HTTP_INBOX_API_H_INCLUDED_
#define _NGX_HTTP_INBOX_API_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <inbox/error.h>
#include <inbox/form.h>
#include <inbox/model.h>
#include <inbox/request.h>
#include <inbox/store.h>
#include <inbox/token.h>

#include "ngx_http_inbox_task.h"


typedef struct ngx_http_inbox_api_s  ngx_http_inbox_api_t;

/* In a pool thread, for an authenticated request: answers the job. */
typedef void (*ngx_http_inbox_api_op_pt)(ngx_http_inbox_api_t *api,
    inbox_store_t *store, ngx_http_inbox_job_t *job);

/* In the event loop: NGX_OK, or NGX_ERROR when out of memory. */
typedef ngx_int_t (*ngx_http_inbox_api_prepare_pt)(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);


/* Who may call a route. */
typedef enum {
    NGX_HTTP_INBOX_AUTH_USER = 0,    /* a session cookie or a bearer token */
    NGX_HTTP_INBOX_AUTH_SESSION,     /* a session cookie only */
    NGX_HTTP_INBOX_AUTH_NONE,        /* anyone */
    NGX_HTTP_INBOX_AUTH_BILLING      /* as USER, of a billing user (a
                                        member and an organization-wide
                                        token get 403 forbidden) */
} ngx_http_inbox_auth_t;

/* What a request carried. */
typedef enum {
    NGX_HTTP_INBOX_CREDENTIAL_NONE = 0,
    NGX_HTTP_INBOX_CREDENTIAL_BEARER,
    NGX_HTTP_INBOX_CREDENTIAL_SESSION
} ngx_http_inbox_credential_t;

/* The body a route takes. */
typedef enum {
    NGX_HTTP_INBOX_BODY_NONE = 0,    /* whatever is sent is discarded */
    NGX_HTTP_INBOX_BODY_JSON,        /* application/json, up to max bytes */
    NGX_HTTP_INBOX_BODY_BINARY       /* one of .types (NULL: any, op
                                        reads the bytes), up to max
                                        bytes, left unread for op */
} ngx_http_inbox_body_t;


typedef struct {
    ngx_uint_t                      method;   /* GET also answers HEAD */
    const char                     *path;     /* "*" is one {id} segment,
                                                 never one a route names
                                                 in its place */
    ngx_http_inbox_auth_t           auth;
    ngx_http_inbox_body_t           body;
    size_t                          max;      /* the largest body, bytes;
                                                 0: the location's
                                                 client_max_body_size */
    const char                     *types;    /* BINARY: the Content-Types
                                                 taken, space separated */
    ngx_http_inbox_api_prepare_pt   prepare;
} ngx_http_inbox_api_route_t;


struct ngx_http_inbox_api_s {
    const ngx_http_inbox_api_route_t  *route;
    ngx_str_t                    id;          /* the path's {id}, or empty */
    ngx_http_inbox_credential_t  credential;
    /* only hashes travel: the store knows no plain tokens or sessions */
    char                         credential_hash[INBOX_TOKEN_HASH_MAX];
    ngx_str_t                    body;        /* a JSON body; a binary
                                                 one stays in
                                                 r->request_body */
    inbox_principal_t            principal;   /* set before op runs */
    inbox_error_t                invalid;     /* answered once
                                                 authenticated */
    ngx_msec_t                   wait;        /* set by prepare: post the
                                                 job this much later */
    unsigned                     authenticated:1;  /* principal found
                                                 before a binary body
                                                 was read */
    ngx_http_inbox_api_op_pt     op;
    void                        *args;
    ngx_http_inbox_job_done_pt   done;        /* may be NULL */
};


/* The query string, decoded (the form is freed with the request).  A
 * malformed one sets api->invalid (naming the field of a %00) and gives
 * an empty form; a name given twice sets api->invalid naming it.
 * NGX_ERROR when out of memory. */
ngx_int_t ngx_http_inbox_api_query(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, inbox_form_t **query);

/* "limit": 1..INBOX_LIST_LIMIT_MAX, INBOX_LIST_LIMIT_DEFAULT when absent;
 * anything else sets api->invalid naming the field. */
unsigned ngx_http_inbox_api_limit(ngx_http_inbox_api_t *api,
    const inbox_form_t *query);
/* The same within 1..max, dflt when absent (a list whose pages are of
 * another size: a poll's responses). */
unsigned ngx_http_inbox_api_limit_within(ngx_http_inbox_api_t *api,
    const inbox_form_t *query, unsigned dflt, unsigned max);

/* In a pool thread: the country a search q's number without its
 * country code is read in (search.h), as one added would be: the
 * organization's default country, else fallback, into buf, *country then
 * pointing at it; none is read for no search.  NGX_ERROR, with job's
 * error, when the organization's settings cannot be read. */
ngx_int_t ngx_http_inbox_api_search_country(ngx_http_inbox_api_t *api,
    inbox_store_t *store, const char *q, const char *fallback,
    const char **country, char buf[INBOX_COUNTRY_MAX],
    ngx_http_inbox_job_t *job);

/* The {id} as a string from the pool; an id no store could have is
 * answered 404 (through api->invalid).  NULL when out of memory. */
char *ngx_http_inbox_api_id(ngx_http_request_t *r, ngx_http_inbox_api_t *api,
    ngx_str_t *id);

/* The JSON body read against fields (see inbox/request.h), freed with the
 * request.  A body that does not fit sets api->invalid (400 naming the
 * field) and leaves req->root NULL.  NGX_ERROR when out of memory. */
ngx_int_t ngx_http_inbox_api_json(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, const inbox_field_t *fields,
    inbox_request_t **req);

/* A secret string field of req (a password) copied into the request's
 * pool, its length in *len, and wiped where the reader had it; the
 * caller wipes the copy when done with it.  NULL when out of memory. */
char *ngx_http_inbox_api_secret(ngx_http_request_t *r, inbox_request_t *req,
    const char *field, size_t *len);

/* For a route whose body carries secrets: api->args, size bytes zeroed
 * from the request's pool, with cleanup (which wipes the secrets copied
 * into them) run when the request ends.  NULL when out of memory. */
void *ngx_http_inbox_api_secret_args(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, size_t size, ngx_pool_cleanup_pt cleanup);

/* ngx_http_inbox_api_json for such a body, which is wiped once read: the
 * secrets live on only in the reader (ngx_http_inbox_api_secret takes
 * them out of it). */
ngx_int_t ngx_http_inbox_api_secret_json(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, const inbox_field_t *fields,
    inbox_request_t **req);


/* Routes (ngx_http_inbox_conversations.c, ngx_http_inbox_realtime.c,
 * ngx_http_inbox_session.c). */
ngx_int_t ngx_http_inbox_conversations_list(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);
ngx_int_t ngx_http_inbox_conversation_get(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);
ngx_int_t ngx_http_inbox_messages_list(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);
/* POST conversations/{id}/ACTION: read, unread, archive, unarchive, star,
 * unstar (the path's last segment names it). */
ngx_int_t ngx_http_inbox_conversation_action(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);
/* POST conversations/{id}/opt-out: the contact, by hand (source manual). */
ngx_int_t ngx_http_inbox_conversation_opt_out(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);
ngx_int_t ngx_http_inbox_realtime_ticket(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);
ngx_int_t ngx_http_inbox_session_login(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);
ngx_int_t ngx_http_inbox_session_logout(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);
ngx_int_t ngx_http_inbox_session_me(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);
/* A password guess (a sign-in, a password change) or a new user's
 * password to hash, charged to the client address's bucket of
 * inbox_login_address_rate (made into address_key; kind NULL for the
 * bucket sign-ins count on, else one of that kind of its own), then, if
 * that let it through, to the account's of inbox_login_rate
 * (account_key): NGX_OK with *wait the longer hold, or NGX_BUSY with
 * *retry_after, nothing charged. */
ngx_int_t ngx_http_inbox_login_guess(ngx_http_request_t *r,
    const char *kind, const u_char *account_key, u_char *address_key,
    ngx_msec_t *wait, ngx_uint_t *retry_after);
/* POST me/password (ngx_http_inbox_password.c). */
#define NGX_HTTP_INBOX_PASSWORD_BODY_MAX  4096
ngx_int_t ngx_http_inbox_password_change(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);

/* Contacts (ngx_http_inbox_contacts.c).  An import's body is as large as
 * its location's client_max_body_size (config/inbox-server.conf). */
#define NGX_HTTP_INBOX_CONTACT_BODY_MAX  (64 * 1024)
#define NGX_HTTP_INBOX_IMPORT_BODY_MAX   (16 * 1024 * 1024)

ngx_int_t ngx_http_inbox_contacts_list(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);
ngx_int_t ngx_http_inbox_contact_create(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);
ngx_int_t ngx_http_inbox_contacts_import(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);
ngx_int_t ngx_http_inbox_contact_get(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);
ngx_int_t ngx_http_inbox_contact_update(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);
ngx_int_t ngx_http_inbox_contact_timeline(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);
/* GET tags: the organization's tags with their contacts' counts. */
ngx_int_t ngx_http_inbox_tags_list(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);

/* media (ngx_http_inbox_media.c) */
/* POST media: an image of any declared type, decided by its bytes, as
 * large as its location's client_max_body_size. */
ngx_int_t ngx_http_inbox_media_upload(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);


/* The team (ngx_http_inbox_team.c): anyone of the organization lists
 * it, a billing user adds, changes and removes its users. */
#define NGX_HTTP_INBOX_USER_BODY_MAX  4096

ngx_int_t ngx_http_inbox_users_list(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);
ngx_int_t ngx_http_inbox_user_create(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);
ngx_int_t ngx_http_inbox_user_update(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);
ngx_int_t ngx_http_inbox_user_password(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);
ngx_int_t ngx_http_inbox_user_remove(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);


/* The organization's settings (ngx_http_inbox_settings.c): anyone of
 * it reads them, a billing user changes them. */
#define NGX_HTTP_INBOX_SETTINGS_BODY_MAX  4096

ngx_int_t ngx_http_inbox_settings_get(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);
ngx_int_t ngx_http_inbox_settings_update(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);


/* sending and billing (ngx_http_inbox_send.c) */
/* A reply's or an estimate's JSON: 1600 characters, each as a "\uXXXX"
 * pair at worst (12 bytes), and ten media ids. */
#define NGX_HTTP_INBOX_SEND_BODY_MAX  (32 * 1024)

/* POST conversations/{id}/messages: a reply, with an optional
 * Idempotency-Key header. */
ngx_int_t ngx_http_inbox_message_send(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);
/* POST messages/estimate: segments, characters and credits of a draft. */
ngx_int_t ngx_http_inbox_message_estimate(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);
/* GET billing (anyone of the organization), GET billing/ledger (a
 * billing user). */
ngx_int_t ngx_http_inbox_billing_get(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);
ngx_int_t ngx_http_inbox_ledger_list(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);
/* In a pool thread: the organization's uploads media_ids as a
 * message's media, at the public URL base (without "/"), each with its
 * upload's id; an unknown one is INBOX_ERR_INVALID naming its item
 * ("media_ids.1") as fields, the route's, call it. */
inbox_status_t ngx_http_inbox_api_media(inbox_store_t *store,
    const char *org_id, const char *base, const inbox_field_t *fields,
    const char *const *media_ids, size_t media_count, inbox_media_t *media,
    inbox_error_t *err);


/* campaigns and polls (ngx_http_inbox_campaigns.c) */
#define NGX_HTTP_INBOX_CAMPAIGN_BODY_MAX  (64 * 1024)
/* A poll's responses a page after the first, unless ?limit= says. */
#define NGX_HTTP_INBOX_RESPONSES_PAGE     100

/* GET campaigns and polls: the organization's, newest first. */
ngx_int_t ngx_http_inbox_campaigns_list(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);
/* POST campaigns and polls: a draft. */
ngx_int_t ngx_http_inbox_campaign_create(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);
/* GET polls/{id}/responses: a page of a poll's responses. */
ngx_int_t ngx_http_inbox_poll_responses(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);
/* PATCH campaigns/{id} and polls/{id}: a draft edited. */
ngx_int_t ngx_http_inbox_campaign_update(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);
/* DELETE campaigns/{id} and polls/{id}: a draft deleted, 204. */
ngx_int_t ngx_http_inbox_campaign_delete(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);
/* POST campaigns/estimate and polls/estimate: a send's preview. */
ngx_int_t ngx_http_inbox_campaign_estimate(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);
/* GET campaigns/{id}/estimate and polls/{id}/estimate: a stored draft's
 * preview, its images counted. */
ngx_int_t ngx_http_inbox_campaign_draft_estimate(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);
/* GET campaigns/{id}; GET polls/{id}, with its tally and responses. */
ngx_int_t ngx_http_inbox_campaign_get(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);
/* POST campaigns/{id}/ACTION and polls/{id}/ACTION: send, pause,
 * resume, cancel (the path's last segment). */
ngx_int_t ngx_http_inbox_campaign_action(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);


#endif /* _NGX_HTTP_INBOX_API_H_INCLUDED_ */
