
/*
 * Carrier webhooks: reading their bodies, and handing them to the batch
 * (see ngx_http_inbox_webhook.h).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_inbox_module.h"
#include "ngx_http_inbox_body.h"
#include "ngx_http_inbox_reply.h"
#include "ngx_http_inbox_webhook.h"


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

    return item;
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
