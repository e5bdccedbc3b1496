
/*
 * Twilio's webhooks, read and parsed here, in the event loop:
 *
 * - POST /webhooks/twilio/inbound: an inbound SMS or MMS;
 * - POST /webhooks/twilio/status: a status callback for a message sent
 *   from one of our numbers (its From), a delivery report.
 *
 * The number's lookup, the signature check and the store happen in the
 * worker's batch (see ngx_http_inbox_webhook.h).
 *
 * Both are checked against the auth token of the number's organization
 * and answered with empty TwiML only once stored.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <inbox/form.h>
#include <inbox/phone.h>
#include <inbox/twilio.h>

#include "ngx_http_inbox_module.h"
#include "ngx_http_inbox_batch.h"
#include "ngx_http_inbox_reply.h"
#include "ngx_http_inbox_webhook.h"


static void ngx_http_inbox_twilio_body_handler(ngx_http_request_t *r);
static void ngx_http_inbox_twilio_status_body_handler(ngx_http_request_t *r);
static ngx_http_inbox_item_t *ngx_http_inbox_twilio_read(
    ngx_http_request_t *r, ngx_int_t *rc);
static inbox_status_t ngx_http_inbox_twilio_check(ngx_http_inbox_item_t *item,
    inbox_store_t *store, inbox_inbound_t *msg);
static inbox_status_t ngx_http_inbox_twilio_status_check(
    ngx_http_inbox_item_t *item, inbox_store_t *store,
    char org_id[INBOX_ID_MAX], inbox_status_update_t *update);
static inbox_status_t ngx_http_inbox_twilio_lookup(
    ngx_http_inbox_item_t *item, inbox_store_t *store, const char *field,
    char e164[INBOX_PHONE_MAX], inbox_number_t *number, int *found);
static inbox_status_t ngx_http_inbox_twilio_credentials(inbox_store_t *store,
    const char *e164, inbox_number_t *number, int *found, inbox_error_t *err);
static void ngx_http_inbox_twilio_refused(ngx_http_inbox_item_t *item,
    const char *what, const char *e164, int found);
static void ngx_http_inbox_twilio_invalid(ngx_http_inbox_item_t *item,
    const char *what, const char *e164);
static void ngx_http_inbox_twilio_answer(ngx_http_request_t *r);
static void ngx_http_inbox_twilio_cleanup(void *data);


static const char  ngx_http_inbox_twiml_empty[] = "<Response></Response>";


/*
 * The organization, auth token and account SID of the number webhooks
 * were last sent to (or from), as the store said, kept by each pool
 * thread for a second: a burst to one number looks it up once a second
 * per thread instead of once per message, and new credentials are
 * honoured within a second.  Only plain bytes: nothing to free when the
 * thread ends.
 */

#define NGX_HTTP_INBOX_TWILIO_TOKEN_MAX  128

typedef struct {
    char     e164[INBOX_PHONE_MAX];
    char     org_id[INBOX_ID_MAX];
    char     auth_token[NGX_HTTP_INBOX_TWILIO_TOKEN_MAX];
    char     account_sid[INBOX_TWILIO_SID_MAX];
    time_t   at;
} ngx_http_inbox_twilio_number_t;

static __thread ngx_http_inbox_twilio_number_t  ngx_http_inbox_twilio_number;


ngx_int_t
ngx_http_inbox_twilio_inbound_handler(ngx_http_request_t *r)
{
    return ngx_http_inbox_webhook_read(r, ngx_http_inbox_twilio_body_handler);
}


ngx_int_t
ngx_http_inbox_twilio_status_handler(ngx_http_request_t *r)
{
    return ngx_http_inbox_webhook_read(r,
                                   ngx_http_inbox_twilio_status_body_handler);
}


static void
ngx_http_inbox_twilio_body_handler(ngx_http_request_t *r)
{
    ngx_int_t               rc;
    ngx_http_inbox_item_t  *item;

    item = ngx_http_inbox_twilio_read(r, &rc);

    if (item != NULL) {
        item->check = ngx_http_inbox_twilio_check;
        rc = ngx_http_inbox_webhook_enqueue(r, item,
                                            ngx_http_inbox_twilio_answer);
    }

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }

    /* else the batch answers */
}


static void
ngx_http_inbox_twilio_status_body_handler(ngx_http_request_t *r)
{
    ngx_int_t               rc;
    ngx_http_inbox_item_t  *item;

    item = ngx_http_inbox_twilio_read(r, &rc);

    if (item != NULL) {
        item->report_check = ngx_http_inbox_twilio_status_check;
        item->carrier = INBOX_CARRIER_TWILIO;
        rc = ngx_http_inbox_webhook_enqueue(r, item,
                                            ngx_http_inbox_twilio_answer);
    }

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }
}


/*
 * The webhook's form, the URL Twilio signed and its X-Twilio-Signature,
 * in a new item; or NULL, *rc being a reply's code.
 */

static ngx_http_inbox_item_t *
ngx_http_inbox_twilio_read(ngx_http_request_t *r, ngx_int_t *rc)
{
    ngx_str_t                   body, base;
    inbox_error_t               err;
    ngx_table_elt_t            *h;
    ngx_pool_cleanup_t         *cln;
    ngx_http_inbox_item_t      *item;
    ngx_http_inbox_loc_conf_t  *ilcf;

    ilcf = ngx_http_get_module_loc_conf(r, ngx_http_inbox_module);

    item = ngx_http_inbox_webhook_item(r, &body, &cln, rc);
    if (item == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_inbox_twilio_cleanup;
    cln->data = item;

    if (inbox_form_parse((char *) body.data, body.len, &item->form, &err)
        != INBOX_OK)
    {
        *rc = ngx_http_inbox_reply_error(r, &err);
        return NULL;
    }

    /* the URL Twilio signed: the public base and the path with its query */

    if (ngx_http_inbox_public_base(r, &base) != NGX_OK) {
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NULL;
    }

    item->url = ngx_pnalloc(r->pool, base.len + r->unparsed_uri.len + 1);
    if (item->url == NULL) {
        *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NULL;
    }

    *ngx_cpymem(ngx_cpymem((u_char *) item->url, base.data, base.len),
                r->unparsed_uri.data, r->unparsed_uri.len) = '\0';

    h = ngx_http_inbox_header(r, "X-Twilio-Signature");

    if (h) {
        item->signature = ngx_http_inbox_strdup(r->pool, &h->value);
        if (item->signature == NULL) {
            *rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
            return NULL;
        }
    }

    item->request = r;
    item->thread_pool = ilcf->thread_pool;
    item->default_country = (char *) ilcf->default_country.data;

    return item;
}


/*
 * In a pool thread: To must be a phone number (400); then libinbox checks
 * the signature against the number's credentials (403, also when no
 * organization has the number), the form (400) and its AccountSid (403).
 * Why a webhook was refused goes to item->note for the log.
 */

static inbox_status_t
ngx_http_inbox_twilio_check(ngx_http_inbox_item_t *item,
    inbox_store_t *store, inbox_inbound_t *msg)
{
    int              found;
    char             e164[INBOX_PHONE_MAX];
    inbox_status_t   rc;
    inbox_number_t   number;

    rc = ngx_http_inbox_twilio_lookup(item, store, "To", e164, &number,
                                      &found);

    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_twilio_inbound_check(&item->form, item->url, item->signature,
                                    found ? &number : NULL,
                                    item->default_country, msg,
                                    &item->error);

    if (rc == INBOX_ERR_FORBIDDEN) {
        ngx_http_inbox_twilio_refused(item, "webhook to", e164, found);

    } else if (rc == INBOX_ERR_INVALID) {
        ngx_http_inbox_twilio_invalid(item, "webhook to", e164);
    }

    return rc;
}


/*
 * In a pool thread: a status callback is about a message sent from From,
 * a number of ours; checked like an inbound message against that
 * number's credentials.
 */

static inbox_status_t
ngx_http_inbox_twilio_status_check(ngx_http_inbox_item_t *item,
    inbox_store_t *store, char org_id[INBOX_ID_MAX],
    inbox_status_update_t *update)
{
    int              found;
    char             e164[INBOX_PHONE_MAX];
    inbox_status_t   rc;
    inbox_number_t   number;

    rc = ngx_http_inbox_twilio_lookup(item, store, "From", e164, &number,
                                      &found);

    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_twilio_status_check(&item->form, item->url, item->signature,
                                   found ? &number : NULL, update,
                                   &item->error);

    if (rc == INBOX_ERR_FORBIDDEN) {
        ngx_http_inbox_twilio_refused(item, "status callback from", e164,
                                      found);

    } else if (rc == INBOX_ERR_INVALID) {
        ngx_http_inbox_twilio_invalid(item, "status callback from", e164);
    }

    if (rc == INBOX_OK) {
        ngx_cpystrn((u_char *) org_id, (u_char *) number.org_id,
                    INBOX_ID_MAX);
    }

    return rc;
}


/*
 * The number the form's field (To or From) names: it must be a phone
 * number (400), normalized into e164; its credentials as
 * ngx_http_inbox_twilio_credentials finds them.
 */

static inbox_status_t
ngx_http_inbox_twilio_lookup(ngx_http_inbox_item_t *item,
    inbox_store_t *store, const char *field, char e164[INBOX_PHONE_MAX],
    inbox_number_t *number, int *found)
{
    const char  *value;

    value = inbox_form_get(&item->form, field);

    if (value == NULL || value[0] == '\0') {
        return inbox_error_set_field(&item->error, INBOX_ERR_INVALID, field,
                                     "The %s number is missing.", field);
    }

    /* the carrier's number: normalized as inbox_twilio_parse does, not
     * checked as a typed one (a webhook refused is a message lost) */
    if (inbox_phone_normalize(value, strlen(value), item->default_country,
                              e164, NULL)
        != INBOX_OK)
    {
        return inbox_error_set_field(&item->error, INBOX_ERR_INVALID, field,
                                     "The %s number is not a phone number.",
                                     field);
    }

    return ngx_http_inbox_twilio_credentials(store, e164, number, found,
                                             &item->error);
}


/*
 * The credentials webhooks to e164 are checked against, pointing into the
 * thread's cache (valid until the thread's next call); *found is 0 when no
 * organization has e164 as a Twilio number with an auth token.
 */

static inbox_status_t
ngx_http_inbox_twilio_credentials(inbox_store_t *store, const char *e164,
    inbox_number_t *number, int *found, inbox_error_t *err)
{
    time_t                           now;
    inbox_status_t                   rc;
    inbox_number_t                   stored;
    ngx_http_inbox_twilio_number_t  *cached = &ngx_http_inbox_twilio_number;

    now = time(NULL);
    *found = 0;

    if (cached->at != now || strcmp(cached->e164, e164) != 0) {
        cached->at = 0;

        memset(&stored, 0, sizeof(inbox_number_t));

        rc = inbox_store_number_find(store, e164, &stored, err);

        if (rc == INBOX_ERR_NOT_FOUND) {
            return INBOX_OK;
        }

        if (rc != INBOX_OK) {
            return rc;
        }

        if (stored.carrier == INBOX_CARRIER_TWILIO
            && stored.auth_token != NULL
            && strlen(stored.auth_token) < NGX_HTTP_INBOX_TWILIO_TOKEN_MAX)
        {
            strcpy(cached->e164, e164);
            strcpy(cached->org_id, stored.org_id);
            strcpy(cached->auth_token, stored.auth_token);

            /* one that is not a SID can match no AccountSid anyway */
            if (stored.account_sid != NULL
                && strlen(stored.account_sid) < INBOX_TWILIO_SID_MAX)
            {
                strcpy(cached->account_sid, stored.account_sid);

            } else {
                cached->account_sid[0] = '\0';
            }

            cached->at = now;
        }

        inbox_number_free(&stored);

        if (cached->at != now) {
            return INBOX_OK;
        }
    }

    memset(number, 0, sizeof(inbox_number_t));
    ngx_cpystrn((u_char *) number->e164, (u_char *) e164, INBOX_PHONE_MAX);
    ngx_cpystrn((u_char *) number->org_id, (u_char *) cached->org_id,
                INBOX_ID_MAX);
    number->carrier = INBOX_CARRIER_TWILIO;
    number->auth_token = cached->auth_token;
    number->account_sid = cached->account_sid[0] ? cached->account_sid
                                                 : NULL;
    *found = 1;

    return INBOX_OK;
}


/*
 * Why a webhook about e164 was refused 403, for the log; for a number an
 * organization has, what the operator should check (the log says it at
 * warn: ngx_http_inbox_webhook_log).
 */

static void
ngx_http_inbox_twilio_refused(ngx_http_inbox_item_t *item, const char *what,
    const char *e164, int found)
{
    if (!found) {
        snprintf(item->note, sizeof(item->note),
                 "Twilio %s %s, which no organization has as a Twilio "
                 "number with an auth token", what, e164);
        return;
    }

    ngx_cpystrn((u_char *) item->refused, (u_char *) e164, INBOX_PHONE_MAX);

    if (item->error.field[0] == '\0') {
        snprintf(item->note, sizeof(item->note),
                 "Twilio %s %s with a %s X-Twilio-Signature", what, e164,
                 item->signature ? "wrong" : "missing");

        /* Twilio signs the URL it posts to, as configured at Twilio */
        item->advice = "check that inbox_public_url is the scheme, host "
                       "and port of the URL set at Twilio (https and the "
                       "public host behind a proxy), that a proxy passes "
                       "X-Twilio-Signature, and that the number's auth "
                       "token is the account's current one (inboxctl "
                       "number set); Twilio does not send a refused "
                       "webhook again";

    } else {
        snprintf(item->note, sizeof(item->note),
                 "Twilio %s %s, signed, but with an AccountSid that is not "
                 "the number's", what, e164);

        item->advice = "check the number's account SID (inboxctl number "
                       "set); Twilio does not send a refused webhook again";
    }
}


/*
 * A webhook signed for one of our numbers (the signature is checked
 * first) whose form was refused: Twilio does not send it again, so the
 * message is lost, which the operator must hear of as of a forgery.
 */

static void
ngx_http_inbox_twilio_invalid(ngx_http_inbox_item_t *item, const char *what,
    const char *e164)
{
    u_char  *end;

    ngx_cpystrn((u_char *) item->refused, (u_char *) e164, INBOX_PHONE_MAX);

    /* cut to the room there is: the reason comes first */
    end = ngx_snprintf((u_char *) item->note, sizeof(item->note) - 1,
                       "Twilio %s %s, signed, refused: %s%s%s", what, e164,
                       item->error.message,
                       item->error.field[0] ? " field: " : "",
                       item->error.field);
    *end = '\0';

    item->advice = "Twilio does not send a refused webhook again, so what "
                   "it carried is lost; please report the form's shape "
                   "to the inbox's maintainers";
}


/* The request's write event handler while it waits in the batch. */

static void
ngx_http_inbox_twilio_answer(ngx_http_request_t *r)
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
        rc = ngx_http_inbox_reply(r, NGX_HTTP_OK, "text/xml",
                                  ngx_http_inbox_twiml_empty,
                                  sizeof(ngx_http_inbox_twiml_empty) - 1);

    } else {
        rc = ngx_http_inbox_reply_error(r, &item->error);
    }

    ngx_http_finalize_request(r, rc);
}


static void
ngx_http_inbox_twilio_cleanup(void *data)
{
    ngx_http_inbox_item_t  *item = data;

    inbox_form_free(&item->form);
}
