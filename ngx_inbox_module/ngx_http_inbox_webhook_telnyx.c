
/*
 * POST /webhooks/telnyx: Telnyx's webhook events, JSON.
 *
 * The event is read here, in the event loop, to learn which of our
 * numbers it is about; in a pool thread that number's public key checks
 * telnyx-signature-ed25519 over "telnyx-timestamp|body" (5 minutes
 * either way).  message.received, and message.sent and message.finalized
 * (delivery reports), join the worker's batch, the same intake as
 * Twilio's webhooks (ngx_http_inbox_webhook.h).  Each is answered 200
 * only once stored.
 * Other event types are answered 200 and ignored: they name no number
 * whose key could check them, and they store nothing.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <inbox/telnyx.h>

#include "ngx_http_inbox_module.h"
#include "ngx_http_inbox_batch.h"
#include "ngx_http_inbox_reply.h"
#include "ngx_http_inbox_webhook.h"


static void ngx_http_inbox_telnyx_body_handler(ngx_http_request_t *r);
static ngx_http_inbox_item_t *ngx_http_inbox_telnyx_read(
    ngx_http_request_t *r, ngx_int_t *rc);
static inbox_status_t ngx_http_inbox_telnyx_check(ngx_http_inbox_item_t *item,
    inbox_store_t *store, inbox_inbound_t *msg);
static inbox_status_t ngx_http_inbox_telnyx_status_check(
    ngx_http_inbox_item_t *item, inbox_store_t *store,
    char org_id[INBOX_ID_MAX], inbox_status_update_t *update);
static inbox_status_t ngx_http_inbox_telnyx_verify(
    ngx_http_inbox_item_t *item, inbox_store_t *store,
    char org_id[INBOX_ID_MAX]);
static void ngx_http_inbox_telnyx_answer(ngx_http_request_t *r);
static void ngx_http_inbox_telnyx_cleanup(void *data);


ngx_int_t
ngx_http_inbox_telnyx_handler(ngx_http_request_t *r)
{
    return ngx_http_inbox_webhook_read(r, ngx_http_inbox_telnyx_body_handler);
}


static void
ngx_http_inbox_telnyx_body_handler(ngx_http_request_t *r)
{
    ngx_int_t               rc;
    ngx_http_inbox_item_t  *item;

    item = ngx_http_inbox_telnyx_read(r, &rc);

    if (item == NULL) {
        ngx_http_finalize_request(r, rc);
        return;
    }

    switch (item->event->kind) {

    case INBOX_TELNYX_EVENT_RECEIVED:
        item->check = ngx_http_inbox_telnyx_check;
        rc = ngx_http_inbox_webhook_enqueue(r, item,
                                            ngx_http_inbox_telnyx_answer);
        break;

    case INBOX_TELNYX_EVENT_STATUS:
        item->report_check = ngx_http_inbox_telnyx_status_check;
        item->carrier = INBOX_CARRIER_TELNYX;
        rc = ngx_http_inbox_webhook_enqueue(r, item,
                                            ngx_http_inbox_telnyx_answer);
        break;

    default:
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "inbox: Telnyx event \"%s\" ignored",
                       item->event->event_type);

        rc = ngx_http_inbox_reply(r, NGX_HTTP_OK, "text/plain", "", 0);
    }

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }

    /* else the batch answers */
}


/*
 * The raw body, its signature headers and the event read from it, in a
 * new item; or NULL, *rc being a reply's code (400 for a body that is
 * not one of Telnyx's events).
 */

static ngx_http_inbox_item_t *
ngx_http_inbox_telnyx_read(ngx_http_request_t *r, ngx_int_t *rc)
{
    ngx_str_t                   body;
    inbox_error_t               err;
    ngx_table_elt_t            *h;
    ngx_pool_cleanup_t         *cln;
    inbox_telnyx_event_t       *ev;
    ngx_http_inbox_item_t      *item;
    ngx_http_inbox_loc_conf_t  *ilcf;

    ilcf = ngx_http_get_module_loc_conf(r, ngx_http_inbox_module);

    item = ngx_http_inbox_webhook_item(r, &body, &cln, rc);
    if (item == NULL) {
        return NULL;
    }

    ev = ngx_pcalloc(r->pool, sizeof(inbox_telnyx_event_t));
    if (ev == NULL) {
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NULL;
    }

    if (inbox_telnyx_event_parse((char *) body.data, body.len,
                                 (char *) ilcf->default_country.data, ev,
                                 &err)
        != INBOX_OK)
    {
        *rc = ngx_http_inbox_reply_error(r, &err);
        return NULL;
    }

    /* the event holds what it read until the request ends */
    item->event = ev;
    cln->handler = ngx_http_inbox_telnyx_cleanup;
    cln->data = item;

    item->body = body;

    h = ngx_http_inbox_header(r, "telnyx-signature-ed25519");

    if (h) {
        item->signature = ngx_http_inbox_strdup(r->pool, &h->value);
        if (item->signature == NULL) {
            *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
            return NULL;
        }
    }

    h = ngx_http_inbox_header(r, "telnyx-timestamp");

    if (h) {
        item->timestamp = ngx_http_inbox_strdup(r->pool, &h->value);
        if (item->timestamp == NULL) {
            *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
            return NULL;
        }
    }

    item->request = r;
    item->thread_pool = ilcf->thread_pool;
    item->default_country = (char *) ilcf->default_country.data;

    return item;
}


static inbox_status_t
ngx_http_inbox_telnyx_check(ngx_http_inbox_item_t *item,
    inbox_store_t *store, inbox_inbound_t *msg)
{
    char            org_id[INBOX_ID_MAX];
    inbox_status_t  rc;

    rc = ngx_http_inbox_telnyx_verify(item, store, org_id);

    if (rc != INBOX_OK) {
        return rc;
    }

    *msg = item->event->inbound;
    item->event->inbound.owned = NULL;

    return INBOX_OK;
}


/*
 * In a pool thread: a delivery report, once its signature is good.  The
 * message it is about, when the answer to its send was lost, is the one
 * its signed body's webhook_url names: Telnyx signs the body, not the
 * URL it posts to, whose ?message= a replayed report could change.
 */

static inbox_status_t
ngx_http_inbox_telnyx_status_check(ngx_http_inbox_item_t *item,
    inbox_store_t *store, char org_id[INBOX_ID_MAX],
    inbox_status_update_t *update)
{
    inbox_status_t  rc;

    rc = ngx_http_inbox_telnyx_verify(item, store, org_id);

    if (rc == INBOX_OK) {
        *update = item->event->update;
        ngx_cpystrn((u_char *) item->message_id,
                    (u_char *) item->event->message_id, INBOX_ID_MAX);
    }

    return rc;
}


/*
 * In a pool thread: the event's number (ours: the recipient of a message
 * received, the sender of one reported) is looked up and its public key
 * checks the signature and the timestamp; 403 for an unknown number, a
 * forgery and a stale or replayed webhook alike.  org_id gets the
 * number's organization.
 */

static inbox_status_t
ngx_http_inbox_telnyx_verify(ngx_http_inbox_item_t *item,
    inbox_store_t *store, char org_id[INBOX_ID_MAX])
{
    int              found;
    const char      *number_e164;
    inbox_status_t   rc;
    inbox_number_t   number;

    number_e164 = item->event->number;

    ngx_memzero(&number, sizeof(inbox_number_t));

    rc = inbox_store_number_find(store, number_e164, &number, &item->error);

    if (rc != INBOX_OK && rc != INBOX_ERR_NOT_FOUND) {
        inbox_number_free(&number);
        return rc;
    }

    found = (rc == INBOX_OK);

    rc = inbox_telnyx_webhook_verify(found ? &number : NULL, item->signature,
                                     item->timestamp,
                                     (char *) item->body.data,
                                     item->body.len, (int64_t) time(NULL),
                                     &item->error);

    if (rc == INBOX_OK) {
        ngx_cpystrn((u_char *) org_id, (u_char *) number.org_id,
                    INBOX_ID_MAX);

    } else if (!found || number.carrier != INBOX_CARRIER_TELNYX
               || number.public_key == NULL)
    {
        snprintf(item->note, sizeof(item->note),
                 "Telnyx %s about %s, which no organization has as a "
                 "Telnyx number with a public key", item->event->event_type,
                 number_e164);

    } else {
        snprintf(item->note, sizeof(item->note),
                 "Telnyx %s about %s with a %s telnyx-signature-ed25519 or "
                 "a telnyx-timestamp %s", item->event->event_type,
                 number_e164, item->signature ? "wrong" : "missing",
                 item->timestamp ? item->timestamp : "missing");

        /* the log says it at warn (ngx_http_inbox_webhook_log) */
        ngx_cpystrn((u_char *) item->refused, (u_char *) number_e164,
                    INBOX_PHONE_MAX);
        item->advice = "check that the number's public key is the one of "
                       "its Telnyx account (Keys & Credentials; inboxctl "
                       "number set), that a proxy passes the telnyx-* "
                       "headers and the body unchanged, and that this "
                       "host's clock is right (5 minutes either way)";
    }

    inbox_number_free(&number);

    return rc;
}


/* The request's write event handler while it waits in the batch. */

static void
ngx_http_inbox_telnyx_answer(ngx_http_request_t *r)
{
    ngx_int_t               rc;
    ngx_http_inbox_item_t  *item;

    item = ngx_http_get_module_ctx(r, ngx_http_inbox_module);

    if (item == NULL || item->waiting) {
        return;
    }

    r->write_event_handler = ngx_http_request_empty_handler;

    ngx_http_inbox_webhook_log(r, item);

    if (item->status == INBOX_OK) {
        rc = ngx_http_inbox_reply(r, NGX_HTTP_OK, "text/plain", "", 0);

    } else {
        rc = ngx_http_inbox_reply_error(r, &item->error);
    }

    ngx_http_finalize_request(r, rc);
}


static void
ngx_http_inbox_telnyx_cleanup(void *data)
{
    ngx_http_inbox_item_t  *item = data;

    inbox_telnyx_event_free(item->event);
}
