
/*
 * How many realtime tickets one API token may take: a leaky bucket per
 * token (inbox_ticket_rate RATE burst=N), kept in a shared memory zone so
 * that every worker process counts against the same bucket.
 *
 * Only tickets actually issued are counted: the bucket is charged in the
 * event loop once the token has been found good and the ticket made, so a
 * stream of unknown tokens neither fills the zone nor pushes a real
 * token's bucket out of it.
 */


#ifndef _NGX_HTTP_INBOX_TICKET_LIMIT_H_INCLUDED_
#define _NGX_HTTP_INBOX_TICKET_LIMIT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_inbox_module.h"


/* The "inbox_ticket_rate" directive. */
char *ngx_http_inbox_ticket_rate(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* From init_main_conf: the default rate, and the zone when the module is
 * used and the limit is not off. */
ngx_int_t ngx_http_inbox_ticket_limit_init(ngx_conf_t *cf,
    ngx_http_inbox_main_conf_t *imcf);

/*
 * Charges token_hash's bucket with one ticket: NGX_OK when it fits, or
 * NGX_BUSY with *retry_after, the seconds until one would.  In the event
 * loop only.
 */
ngx_int_t ngx_http_inbox_ticket_limit(ngx_http_request_t *r,
    const char *token_hash, ngx_uint_t *retry_after);


#endif /* _NGX_HTTP_INBOX_TICKET_LIMIT_H_INCLUDED_ */
