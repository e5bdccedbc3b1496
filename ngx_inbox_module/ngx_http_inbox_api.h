
/*
 * The JSON API under /api/v1/: routes, bearer authentication and the
 * helpers routes share.
 *
 * A route's prepare function runs in the event loop: it reads the path's
 * {id} and the query into api->args (allocated from the request pool) and
 * names api->op.  Then one job (see ngx_http_inbox_task.h) finds the token
 * and, when it is good, runs op in a pool thread, which answers through
 * the job; api->done, if the route set one, sees that answer in the event
 * loop before it is sent.
 */


#ifndef _NGX_HTTP_INBOX_API_H_INCLUDED_
#define _NGX_HTTP_INBOX_API_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <inbox/error.h>
#include <inbox/form.h>
#include <inbox/model.h>
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


struct ngx_http_inbox_api_s {
    ngx_http_inbox_api_prepare_pt  prepare;
    ngx_str_t                   id;          /* the path's {id}, or empty */
    char                        token_hash[INBOX_TOKEN_HASH_MAX];
    inbox_principal_t           principal;   /* set before op runs */
    inbox_error_t               invalid;     /* answered once authenticated */
    ngx_http_inbox_api_op_pt    op;
    void                       *args;
    ngx_http_inbox_job_done_pt  done;        /* may be NULL */
};


/* The query string, decoded (the form is freed with the request).  A
 * malformed one sets api->invalid and gives an empty form.  NGX_ERROR when
 * out of memory. */
ngx_int_t ngx_http_inbox_api_query(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, inbox_form_t **query);

/* "limit": 1..INBOX_LIST_LIMIT_MAX, INBOX_LIST_LIMIT_DEFAULT when absent;
 * anything else sets api->invalid naming the field. */
unsigned ngx_http_inbox_api_limit(ngx_http_inbox_api_t *api,
    const inbox_form_t *query);

/* The {id} as a string from the pool; an id no store could have is
 * answered 404 (through api->invalid).  NULL when out of memory. */
char *ngx_http_inbox_api_id(ngx_http_request_t *r, ngx_http_inbox_api_t *api,
    ngx_str_t *id);


/* Routes (ngx_http_inbox_conversations.c, ngx_http_inbox_realtime.c). */
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
ngx_int_t ngx_http_inbox_realtime_ticket(ngx_http_request_t *r,
    ngx_http_inbox_api_t *api, ngx_str_t *id);

/* Contacts (ngx_http_inbox_contacts.c).  A route with a body finds it
 * read (r->request_body) when prepare runs. */
#define NGX_HTTP_INBOX_CONTACT_BODY_MAX  (64 * 1024)

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


#endif /* _NGX_HTTP_INBOX_API_H_INCLUDED_ */
