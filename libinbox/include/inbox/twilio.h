/*
 * Twilio: webhook signatures, the inbound message form and the status
 * callback (twilio.c); the Messages API request and its answer
 * (twilio_send.c).
 */
#ifndef INBOX_TWILIO_H
#define INBOX_TWILIO_H

#include <stddef.h>
#include <inbox/carrier.h>
#include <inbox/delivery.h>
#include <inbox/error.h>
#include <inbox/form.h>
#include <inbox/model.h>

/* base64 of a 20-byte HMAC-SHA1 digest, and its NUL. */
#define INBOX_TWILIO_SIGNATURE_MAX  29

/* A Twilio SID: two letters and 32 hex digits, and its NUL. */
#define INBOX_TWILIO_SID_MAX        35

/*
 * X-Twilio-Signature: the URL Twilio called, then every POST parameter as
 * name and value (every byte of each), sorted by name (then value) in byte
 * order, HMAC-SHA1 with the auth token, base64.
 */
void inbox_twilio_signature(const char *url, const inbox_form_t *params,
    const char *auth_token, char out[INBOX_TWILIO_SIGNATURE_MAX]);

/*
 * The connection overrides README tells operators to end the inbound
 * webhook URL with: Twilio tries a message the inbox answered 5xx (could
 * not store) again.  Twilio does not send a fragment, and does not say
 * whether it signs the URL with it (its validators take "the URL you
 * configured", fragment and all): a signature over the URL with this one
 * is taken too, so that inbound messages are not refused either way.
 */
#define INBOX_TWILIO_RETRY_FRAGMENT  "#rp=5xx,ct&rc=3"

/*
 * 1 when signature is right for url and params; compares in constant time.
 * Twilio signs an https URL without its port, and has signed some with
 * the default one added, so every official validator tries the URL as
 * called, without its port, and with the scheme's default port: so does
 * this one, each also ending in INBOX_TWILIO_RETRY_FRAGMENT.
 */
int inbox_twilio_signature_valid(const char *url, const inbox_form_t *params,
    const char *auth_token, const char *signature);

/* 1 when sid is prefix ("AC", "SM", ...) followed by exactly 32 hex digits
 * (either case), as Twilio's SIDs are. */
int inbox_twilio_sid_valid(const char *sid, const char *prefix);

/*
 * An inbound message webhook to number (NULL when no organization has the
 * To number), checked and read into msg:
 *
 * - INBOX_ERR_FORBIDDEN unless number is a Twilio number with an auth
 *   token and signature is right for url and the form.  An unknown number
 *   gets the same error as a wrong signature, so that the answer does not
 *   tell which numbers exist.
 * - INBOX_ERR_INVALID, naming the field, unless the form is one Twilio
 *   sends (see inbox_twilio_inbound_parse).
 * - INBOX_ERR_FORBIDDEN when its AccountSid is not the number's.
 *
 * On INBOX_OK the caller frees msg with inbox_inbound_free; form must
 * outlive msg.
 */
inbox_status_t inbox_twilio_inbound_check(const inbox_form_t *form,
    const char *url, const char *signature, const inbox_number_t *number,
    const char *default_country, inbox_inbound_t *msg, inbox_error_t *err);

/*
 * Reads an inbound message form into msg.  Because Twilio signs names and
 * values run together, a signed form can be re-cut (a name moved into the
 * value before it) and still pass: so only what Twilio really sends is
 * taken.  INBOX_ERR_INVALID, naming the field, unless
 *
 * - MessageSid is SM or MM and 32 hex digits, and SmsSid and SmsMessageSid,
 *   when present, are the same;
 * - AccountSid is AC and 32 hex digits; From and To are phone numbers;
 * - NumMedia (required when any MediaUrlN or MediaContentTypeN is there)
 *   is 0 to 10, and exactly MediaUrl0..N-1 and MediaContentType0..N-1
 *   are there, none empty;
 * - none of these fields comes twice.
 *
 * Other fields are ignored: Twilio adds fields without notice.  Body and
 * the media are kept as inbound.h says: repaired, cut when too long, an
 * item that cannot be fetched failed, never the webhook refused.  On
 * INBOX_OK the caller frees msg with inbox_inbound_free; form must
 * outlive msg.
 */
inbox_status_t inbox_twilio_inbound_parse(const inbox_form_t *form,
    const char *default_country, inbox_inbound_t *msg, inbox_error_t *err);

/*
 * A status callback (POST /webhooks/twilio/status) from number, the
 * organization's number the message was sent from (the callback's From;
 * NULL when no organization has it), checked like an inbound message:
 * INBOX_ERR_FORBIDDEN unless the signature is right for number's auth
 * token (an unknown number looks the same) and its AccountSid is the
 * number's; INBOX_ERR_INVALID, naming the field, unless the form is one
 * Twilio sends (see inbox_twilio_status_parse).
 */
inbox_status_t inbox_twilio_status_check(const inbox_form_t *form,
    const char *url, const char *signature, const inbox_number_t *number,
    inbox_status_update_t *update, inbox_error_t *err);

/*
 * Reads a status callback into update.  INBOX_ERR_INVALID, naming the
 * field, unless MessageSid is SM or MM and 32 hex digits, AccountSid AC
 * and 32 hex digits, MessageStatus one of Twilio's outbound statuses
 * (inbox_twilio_status_map), ErrorCode (when present and not empty) 1 to
 * 15 digits, and none of these comes twice.  Other fields are ignored.
 * ErrorCode 21610 sets update->opted_out.
 */
inbox_status_t inbox_twilio_status_parse(const inbox_form_t *form,
    inbox_status_update_t *update, inbox_error_t *err);

/*
 * Twilio's message statuses onto ours: queued, accepted and scheduled
 * are queued; sending, sent, delivered, undelivered and failed keep their
 * name; read and partially_delivered are delivered (the contact got it:
 * the hold is captured); canceled is failed.  0, or -1 for any other
 * (receiving and received are inbound statuses).
 */
int inbox_twilio_status_map(const char *twilio_status,
    inbox_delivery_t *status);

/*
 * The Messages API request sending msg from number:
 *
 *   POST {api_base}/2010-04-01/Accounts/{AccountSid}/Messages.json
 *   Authorization: Basic base64(AccountSid:AuthToken)
 *   Content-Type: application/x-www-form-urlencoded
 *   To, From, Body (when not empty), MediaUrl (once per media),
 *   StatusCallback (when msg->status_url is set)
 *
 * api_base is number->api_base, or https://api.twilio.com.
 * INBOX_ERR_INVALID naming account_sid, auth_token or api_base when the
 * number lacks what Twilio needs, or naming the message's field at fault
 * (to, from, body, media_urls).  On INBOX_OK the caller frees req with
 * inbox_carrier_request_free.
 */
inbox_status_t inbox_twilio_send_request(const inbox_number_t *number,
    const inbox_outbound_t *msg, inbox_carrier_request_t *req,
    inbox_error_t *err);

/*
 * Reads the Messages API's answer (see inbox_carrier_send_result): a 2xx
 * with a message SID ("sid", SM or MM) is accepted, its "status" mapped;
 * errors carry "code" and "message": 21610 is opted out; other refusals
 * as inbox_carrier_send_result says.
 */
void inbox_twilio_send_result(long http_status, const char *body,
    size_t len, inbox_send_result_t *res);

/*
 * The Message resource of the message Twilio took as sid (SM or MM and
 * 32 hex digits), asked about when its status callback never came:
 *
 *   GET {api_base}/2010-04-01/Accounts/{AccountSid}/Messages/{sid}.json
 *   Authorization: Basic base64(AccountSid:AuthToken)
 *
 * INBOX_ERR_INVALID naming account_sid, auth_token, api_base or
 * provider_id.  On INBOX_OK the caller frees req with
 * inbox_carrier_request_free.
 */
inbox_status_t inbox_twilio_status_request(const inbox_number_t *number,
    const char *sid, inbox_carrier_request_t *req, inbox_error_t *err);

/*
 * Reads the answer (see inbox_carrier_status_answer): a 200 with the
 * Message resource of sid, its "status" one of Twilio's outbound
 * statuses (inbox_twilio_status_map), "error_code" null or 1 to 15
 * digits (21610 sets opted_out); final when the status is.  A 404 with
 * Twilio's error 20404 (no such resource: the account has no such
 * message) is INBOX_CARRIER_STATUS_NO_SUCH_MESSAGE.
 */
int inbox_twilio_status_answer(long http_status, const char *body,
    size_t len, const char *sid, inbox_status_update_t *update,
    char why[INBOX_CARRIER_MESSAGE_MAX]);

#endif
