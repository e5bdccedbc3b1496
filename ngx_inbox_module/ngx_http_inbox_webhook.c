
/*
 * Carrier webhooks: reading their bodies, and handing them to the batch
 * (see ngx_http_inbox_webhook.h).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <inbox/outbox.h>

#include "ngx_http_inbox_module.h"
#include "ngx_http_inbox_body.h"
#include "ngx_http_inbox_reply.h"
#include "ngx_http_inbox_webhook.h"


/*
 * The numbers whose refusal each worker last logged at warn, and when;
 * only the event loop reads and writes them.  Past NUMBERS_KEPT numbers
 * refused within a minute, the one logged longest ago is forgotten (and
 * may be logged again before its minute is out).
 */

#define NGX_HTTP_INBOX_REFUSAL_LOG_EVERY    60
#define NGX_HTTP_INBOX_REFUSAL_NUMBERS_KEPT 64

typedef struct {
    char    e164[INBOX_PHONE_MAX];
    time_t  logged_at;
} ngx_http_inbox_refusal_t;

static ngx_http_inbox_refusal_t
    ngx_http_inbox_refusals[NGX_HTTP_INBOX_REFUSAL_NUMBERS_KEPT];


static ngx_uint_t ngx_http_inbox_webhook_refusal_news(const char *e164);
static void ngx_http_inbox_webhook_message(ngx_http_request_t *r,
    ngx_http_inbox_item_t *item);


ngx_int_t
ngx_http_inbox_webhook_read(ngx_http_request_t *r,
    ngx_http_client_body_handler_pt post_handler)
{
    ngx_int_t                   rc;
    ngx_http_inbox_loc_conf_t  *ilcf;

    if (r->method != NGX_HTTP_POST) {
        rc = ngx_http_inbox_body_refuse(r);

        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_inbox_reply_not_allowed(r, "POST");
    }

    ilcf = ngx_http_get_module_loc_conf(r, ngx_http_inbox_module);

    if (r->headers_in.content_length_n > (off_t) ilcf->max_body) {
        rc = ngx_http_inbox_body_refuse(r);

        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_inbox_reply_status(r, INBOX_ERR_TOO_LARGE, NULL,
                                           "The request body is too large.");
    }

    rc = ngx_http_read_client_request_body(r, post_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


ngx_http_inbox_item_t *
ngx_http_inbox_webhook_item(ngx_http_request_t *r, ngx_str_t *body,
    ngx_pool_cleanup_t **cln, ngx_int_t *rc)
{
    ngx_http_inbox_item_t      *item;
    ngx_http_inbox_loc_conf_t  *ilcf;

    ilcf = ngx_http_get_module_loc_conf(r, ngx_http_inbox_module);

    *rc = ngx_http_inbox_request_body(r, ilcf->max_body, body);

    if (*rc == NGX_DECLINED) {
        *rc = ngx_http_inbox_reply_status(r, INBOX_ERR_TOO_LARGE, NULL,
                                          "The request body is too large.");
        return NULL;
    }

    if (*rc != NGX_OK) {
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NULL;
    }

    item = ngx_pcalloc(r->pool, sizeof(ngx_http_inbox_item_t));
    if (item == NULL) {
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NULL;
    }

    *cln = ngx_pool_cleanup_add(r->pool, 0);
    if (*cln == NULL) {
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NULL;
    }

    ngx_http_inbox_webhook_message(r, item);

    return item;
}


/* The message the sender's callback URL names (?message=ID), by the
 * outbox's rule (inbox_outbox_callback_message). */

static void
ngx_http_inbox_webhook_message(ngx_http_request_t *r,
    ngx_http_inbox_item_t *item)
{
    ngx_str_t  value;

    if (ngx_http_arg(r, (u_char *) "message", sizeof("message") - 1, &value)
        != NGX_OK)
    {
        item->message_id[0] = '\0';
        return;
    }

    inbox_outbox_callback_message((char *) value.data, value.len,
                                  item->message_id);
}


ngx_int_t
ngx_http_inbox_webhook_enqueue(ngx_http_request_t *r,
    ngx_http_inbox_item_t *item, ngx_http_event_handler_pt answer)
{
    r->write_event_handler = answer;
    r->read_event_handler = ngx_http_test_reading;

    ngx_http_set_ctx(r, item, ngx_http_inbox_module);

    if (ngx_http_inbox_batch_add(item) != NGX_OK) {
        r->write_event_handler = ngx_http_request_empty_handler;

        return ngx_http_inbox_reply_status(r, INBOX_ERR_UNAVAILABLE, NULL,
                   "The server is too busy to take this webhook now; "
                   "send it again later.");
    }

    return NGX_DONE;
}


void
ngx_http_inbox_webhook_log(ngx_http_request_t *r,
    ngx_http_inbox_item_t *item)
{
    if (item->note[0] == '\0') {
        return;
    }

    if (item->refused[0] == '\0'
        || !ngx_http_inbox_webhook_refusal_news(item->refused))
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "inbox: %s", item->note);
        return;
    }

    /* a forgery's line names what the signature was checked against;
     * a signed webhook refused for its form has no use for it */
    if (item->url && item->error.code == INBOX_ERR_FORBIDDEN) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "inbox: %s; the signature was checked against the "
                      "URL \"%s\"; %s (said once a minute at most per "
                      "number and worker)", item->note, item->url,
                      item->advice);

    } else {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "inbox: %s; %s (said once a minute at most per "
                      "number and worker)", item->note, item->advice);
    }
}


/* Whether a refusal for e164 is to be logged at warn now, noted if so. */

static ngx_uint_t
ngx_http_inbox_webhook_refusal_news(const char *e164)
{
    time_t                     now;
    ngx_uint_t                 i;
    ngx_http_inbox_refusal_t  *refusal, *oldest;

    now = ngx_time();
    oldest = &ngx_http_inbox_refusals[0];

    for (i = 0; i < NGX_HTTP_INBOX_REFUSAL_NUMBERS_KEPT; i++) {
        refusal = &ngx_http_inbox_refusals[i];

        if (ngx_strcmp(refusal->e164, e164) == 0) {
            if (now - refusal->logged_at < NGX_HTTP_INBOX_REFUSAL_LOG_EVERY) {
                return 0;
            }

            oldest = refusal;
            break;
        }

        if (refusal->logged_at < oldest->logged_at) {
            oldest = refusal;
        }
    }

    ngx_cpystrn((u_char *) oldest->e164, (u_char *) e164, INBOX_PHONE_MAX);
    oldest->logged_at = now;

    return 1;
}
