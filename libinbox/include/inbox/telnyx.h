/*
 * Telnyx: webhook signatures (Ed25519), its webhook events (an inbound
 * message, delivery reports), and the /v2/messages request and answer.
 */
#ifndef INBOX_TELNYX_H
#define INBOX_TELNYX_H

#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>
#include <inbox/carrier.h>
#include <inbox/delivery.h>
#include <inbox/error.h>
#include <inbox/model.h>

/* A signed webhook older or newer than this is refused (replays). */
#define INBOX_TELNYX_TOLERANCE_S   300

/* What an event is about. */
typedef enum {
    INBOX_TELNYX_EVENT_OTHER = 0,   /* anything else: answered, ignored */
    INBOX_TELNYX_EVENT_RECEIVED,    /* message.received: .inbound */
    INBOX_TELNYX_EVENT_STATUS       /* message.sent, message.finalized:
                                       .update */
} inbox_telnyx_kind_t;

/*
 * One webhook event, read.  number is the organization's number it is
 * about: the recipient of a received message, the sender of a reported
 * one ("" for OTHER): look it up, then verify the signature with its
 * public key (inbox_telnyx_webhook_verify).  inbound's strings point
 * into root: inbox_telnyx_event_free frees both.
 */
typedef struct {
    inbox_telnyx_kind_t    kind;
    char                   event_type[48];     /* "message.received" */
    char                   number[INBOX_PHONE_MAX];
    inbox_inbound_t        inbound;
    inbox_status_update_t  update;
    /* a report's message as the send's webhook_url named it (?message=,
     * the sender's; "" when none): in the signed body, unlike the URL
     * the report came to, which anyone may have changed */
    char                   message_id[INBOX_ID_MAX];
    yajl_val               root;
} inbox_telnyx_event_t;

/* 1 when sig (64 bytes) is public_key's (32 raw bytes) Ed25519
 * signature of msg (len bytes), with OpenSSL. */
int inbox_ed25519_valid(const unsigned char *public_key,
    const unsigned char *msg, size_t len, const unsigned char *sig);

/* 1 when public_key is one a signature can be checked with: base64 of a
 * 32-byte raw Ed25519 key, as Telnyx's portal shows it. */
int inbox_telnyx_public_key_valid(const char *public_key);

/*
 * 1 when signature (telnyx-signature-ed25519: base64 of 64 bytes) signs
 * "timestamp|body" with public_key (base64 of the 32-byte raw key, as
 * Telnyx's portal shows it), and timestamp (telnyx-timestamp: Unix
 * seconds, digits only) is within INBOX_TELNYX_TOLERANCE_S of now (Unix
 * seconds) either way.
 */
int inbox_telnyx_signature_valid(const char *public_key,
    const char *signature, const char *timestamp, const char *body,
    size_t len, int64_t now);

/*
 * INBOX_OK when number (NULL when no organization has the event's
 * number) is a Telnyx number with a public key and the signature and
 * timestamp are good for body; else INBOX_ERR_FORBIDDEN, the same for an
 * unknown number, a forgery and a stale timestamp but for its message.
 */
inbox_status_t inbox_telnyx_webhook_verify(const inbox_number_t *number,
    const char *signature, const char *timestamp, const char *body,
    size_t len, int64_t now, inbox_error_t *err);

/*
 * Reads a webhook body (len bytes, bounded by whoever read it) into ev.
 * INBOX_ERR_INVALID, with the JSON reader's reason or naming the field
 * (as "data.payload.text"), unless it is JSON with data.event_type, and:
 *
 * - message.received: payload.id (letters, digits, '-', '_'; at most 64),
 *   from.phone_number, to[0].phone_number (phone numbers, normalized with
 *   default_country), text (a string or absent), media (a list of at
 *   most INBOX_MEDIA_MAX {url, content_type}), parts (the segments,
 *   default 1); text and media are kept as inbound.h says for every
 *   carrier (a text too long cut, an item that cannot be fetched
 *   failed, a type null, absent or odd unknown until the copy reads it
 *   from the bytes);
 * - message.sent, message.finalized: payload.id, from.phone_number,
 *   to[0].status (queued, sending, sent, delivered, sending_failed,
 *   delivery_failed, expired, delivery_unconfirmed:
 *   inbox_telnyx_status_map),
 *   errors[0].code (when any); 40300 sets update.opted_out, finalized
 *   sets update.final (the store's report's final: the hold is settled
 *   even when "sent" stays).
 *
 * Other event types are INBOX_TELNYX_EVENT_OTHER, not an error.  On
 * INBOX_OK the caller frees ev with inbox_telnyx_event_free; on an error
 * ev holds nothing.
 */
inbox_status_t inbox_telnyx_event_parse(const char *body, size_t len,
    const char *default_country, inbox_telnyx_event_t *ev,
    inbox_error_t *err);

void inbox_telnyx_event_free(inbox_telnyx_event_t *ev);

/*
 * Telnyx's recipient statuses onto ours: queued, sending, sent and
 * delivered keep their name; sending_failed is failed (never left
 * Telnyx), delivery_failed and expired undelivered (the carrier could
 * not deliver, or gave up within the validity period: the hold is
 * released), delivery_unconfirmed sent (no receipt will come:
 * message.finalized is final, and a final "sent" captures the credit
 * hold, inbox_delivery_hold).  0, or -1 for any other.
 */
int inbox_telnyx_status_map(const char *telnyx_status,
    inbox_delivery_t *status);

/*
 * The request sending msg from number:
 *
 *   POST {api_base}/v2/messages
 *   Authorization: Bearer {api_key}
 *   Content-Type: application/json
 *   {"from","to","text" (when not empty),"media_urls" (when any),
 *    "webhook_url" (when msg->status_url is set)}
 *
 * api_base is number->api_base, or https://api.telnyx.com.
 * INBOX_ERR_INVALID naming api_key or api_base when the number lacks
 * what Telnyx needs, or the message's field at fault.  On INBOX_OK the
 * caller frees req with inbox_carrier_request_free.
 */
inbox_status_t inbox_telnyx_send_request(const inbox_number_t *number,
    const inbox_outbound_t *msg, inbox_carrier_request_t *req,
    inbox_error_t *err);

/*
 * Reads the answer to a send (see inbox_carrier_send_result): a 2xx with
 * data.id is accepted (data.to[0].status mapped); errors[].code 40300 is
 * opted out; other refusals as inbox_carrier_send_result says.
 */
void inbox_telnyx_send_result(long http_status, const char *body,
    size_t len, inbox_send_result_t *res);

/*
 * The message record of the message Telnyx took as id, asked about when
 * its webhooks never came:
 *
 *   GET {api_base}/v2/messages/{id}
 *   Authorization: Bearer {api_key}
 *
 * INBOX_ERR_INVALID naming api_key, api_base or provider_id.  On
 * INBOX_OK the caller frees req with inbox_carrier_request_free.
 */
inbox_status_t inbox_telnyx_status_request(const inbox_number_t *number,
    const char *id, inbox_carrier_request_t *req, inbox_error_t *err);

/*
 * Reads the answer (see inbox_carrier_status_answer): a 200 with
 * data.id the message's, data.to[0].status one Telnyx documents
 * (inbox_telnyx_status_map), data.errors[0].code when any (40300 sets
 * opted_out); final, as message.finalized is, when the status is final
 * or delivery_unconfirmed (no receipt will come: it stays "sent").  A
 * 404 with a JSON body (Telnyx's errors, 10005 "Resource not found") is
 * INBOX_CARRIER_STATUS_NO_SUCH_MESSAGE.
 */
int inbox_telnyx_status_answer(long http_status, const char *body,
    size_t len, const char *id, inbox_status_update_t *update,
    char why[INBOX_CARRIER_MESSAGE_MAX]);

#endif
