/*
 * Sending through a carrier, as plain data: the HTTP request to make, the
 * carrier's answer as we read it, and a delivery report.  No I/O here:
 * the sender process makes the request (libcurl) and hands the answer
 * back; the webhooks read the reports.  Each carrier's wire format lives
 * in its own file (twilio.h, telnyx.h); these functions pick by carrier,
 * so that the sender treats them alike.
 */
#ifndef INBOX_CARRIER_H
#define INBOX_CARRIER_H

#include <stddef.h>
#include <stdint.h>
#include <inbox/delivery.h>
#include <inbox/error.h>
#include <inbox/model.h>

#define INBOX_PROVIDER_ID_MAX      65     /* a carrier's message id, NUL */
#define INBOX_CARRIER_CODE_MAX     32     /* an error code (a carrier's or
                                             outbox.h's), NUL */
#define INBOX_CARRIER_MESSAGE_MAX  256
#define INBOX_CARRIER_HEADERS_MAX  4
/* The most of a carrier's answer that is read: a longer one is not. */
#define INBOX_CARRIER_ANSWER_MAX   65536

/* Carriers' own error codes for "this contact texted STOP to you". */
#define INBOX_TWILIO_OPTED_OUT     "21610"
#define INBOX_TELNYX_OPTED_OUT     "40300"
/* Twilio's own error code, with its HTTP 404, for "no such resource". */
#define INBOX_TWILIO_NOT_FOUND     "20404"

/* A message to send.  Everything is borrowed from the caller. */
typedef struct {
    const char          *from;         /* E.164: the sending number */
    const char          *to;           /* E.164 */
    const char          *body;         /* UTF-8; "" with media only */
    const char * const  *media_urls;   /* media_count public URLs */
    size_t               media_count;
    const char          *status_url;   /* where the carrier reports
                                          statuses; NULL: nowhere */
} inbox_outbound_t;

/*
 * An HTTP request as a libcurl caller makes it: CURLOPT_CUSTOMREQUEST or
 * CURLOPT_POST with method, CURLOPT_URL with url, each header as one
 * curl_slist line, CURLOPT_POSTFIELDS/POSTFIELDSIZE with body and len.
 * Everything but method (a static string) is malloc'd and belongs to the
 * struct: inbox_carrier_request_free frees it, and first wipes the
 * headers, which hold the carrier credentials.
 */
typedef struct {
    const char  *method;                               /* "POST" */
    char        *url;
    char        *headers[INBOX_CARRIER_HEADERS_MAX];   /* "Name: value" */
    size_t       header_count;
    char        *body;                                 /* NUL after len */
    size_t       len;
} inbox_carrier_request_t;

/* What to do with a send, once the carrier has answered. */
typedef enum {
    INBOX_SEND_ACCEPTED = 0,  /* the carrier took it: provider_id is set */
    INBOX_SEND_RETRY,         /* not taken, try again later with
                                 backoff: a 429, or the carrier's own
                                 error that says so (in a 5xx: a 503;
                                 Twilio 21730; in a 4xx: Twilio
                                 21611); slow_down says when it
                                 is the number to hold, not the
                                 message */
    INBOX_SEND_REFUSED,       /* any other refusal: final, never retried */
    INBOX_SEND_OPTED_OUT,     /* refused because the contact opted out at
                                 the carrier (Twilio 21610, Telnyx 40300):
                                 final, and the contact is opted out
                                 (source "carrier") */
    INBOX_SEND_WITHDRAWN,     /* not sent: the contact opted out after the
                                 message was accepted (outbox.h) */
    INBOX_SEND_UNKNOWN,       /* a 2xx we cannot read, no answer at all
                                 (HTTP status 0), or any other 5xx (a
                                 gateway's 502 or 504, a page that is
                                 not the carrier's, Twilio's 500): it may
                                 have been sent, so it is reported,
                                 never repeated */
    INBOX_SEND_RELEASED,      /* not sent, given back: the sender stopped,
                                 the message's campaign was paused or
                                 cancelled, or a carrier's slow_down
                                 held its number, before it started
                                 (outbox.h) */
    INBOX_SEND_CANCELLED      /* not sent: the message's campaign was
                                 cancelled before it left (outbox.h) */
} inbox_send_outcome_t;

/* A carrier's answer to a send, read.  Plain buffers: nothing to free. */
typedef struct {
    inbox_send_outcome_t  outcome;
    inbox_carrier_t       carrier;       /* who answered */
    char                  provider_id[INBOX_PROVIDER_ID_MAX];  /* "" unless
                                                                  accepted */
    inbox_delivery_t      status;        /* ACCEPTED: the carrier's status
                                            mapped onto ours (queued
                                            mostly) */
    char                  error_code[INBOX_CARRIER_CODE_MAX];  /* the
                                            carrier's code, "" when none */
    char                  message[INBOX_CARRIER_MESSAGE_MAX];  /* what
                                            happened, for a person */
    int64_t               due_at;        /* RELEASED: not due again before
                                            then (ms), 0: at once */
    int                   slow_down;     /* RETRY: the carrier refuses
                                            the number's sends for now,
                                            this one among them (a 429;
                                            Twilio 21611, the number's
                                            queue full): hold the number
                                            and give the message back,
                                            no attempt counted, rather
                                            than retry it alone */
    int                   account;       /* REFUSED: the carrier refused
                                            the sending number's account
                                            or credentials, so nothing
                                            from the number can go
                                            (inbox_carrier_account_refused:
                                            Twilio 20003, Telnyx 10009,
                                            ...): a campaign's message is
                                            given back and its campaign
                                            paused (carrier_account),
                                            not failed; a reply fails
                                            carrier_account (outbox.h) */
} inbox_send_result_t;

/* A delivery report from a carrier's webhook.  Nothing to free. */
typedef struct {
    char              provider_id[INBOX_PROVIDER_ID_MAX];
    inbox_delivery_t  status;       /* the carrier's, mapped onto ours */
    char              error_code[INBOX_CARRIER_CODE_MAX];     /* "" none */
    int               opted_out;    /* the carrier refused it because the
                                       contact opted out (21610, 40300) */
    int               final;        /* the carrier will report nothing more
                                       (a final status; Telnyx's
                                       message.finalized): the hold is
                                       settled (inbox_delivery_hold) */
} inbox_status_update_t;

/*
 * The request that sends msg from number, by number->carrier (see
 * inbox_twilio_send_request, inbox_telnyx_send_request).  On INBOX_OK
 * the caller frees req with inbox_carrier_request_free; on an error req
 * holds nothing.  INBOX_ERR_INVALID (naming the field) when number lacks
 * the credentials its carrier needs or msg cannot be sent as it is.
 */
inbox_status_t inbox_carrier_send_request(const inbox_number_t *number,
    const inbox_outbound_t *msg, inbox_carrier_request_t *req,
    inbox_error_t *err);

/*
 * Reads a carrier's answer to a send request: its HTTP status (0 when
 * none came) and body (len bytes, need not be NUL-terminated; at most
 * INBOX_CARRIER_ANSWER_MAX are read).  Always fills res: an answer that
 * is not what the carrier documents is a clear outcome too (a 2xx or a
 * 5xx is UNKNOWN, a 429 or 408 RETRY, anything else REFUSED), never a
 * crash; inbox_carrier_refusal in carrier.c is the rule, and the same
 * table of carrier errors says which RETRY is a slow_down.
 */
void inbox_carrier_send_result(inbox_carrier_t carrier, long http_status,
    const char *body, size_t len, inbox_send_result_t *res);

/* Whether carrier's 4xx answer with error code refuses the sending
 * number's account or credentials, not one message (the result's
 * account): the one rule, for both carriers, in carrier.c. */
int inbox_carrier_account_refused(inbox_carrier_t carrier,
    long http_status, const char *code);

void inbox_carrier_request_free(inbox_carrier_request_t *req);

/*
 * The request asking number's carrier (number->carrier) about the
 * message it took as provider_id, when its report never came
 * (status_check.h): see inbox_twilio_status_request,
 * inbox_telnyx_status_request.  On INBOX_OK the caller frees req with
 * inbox_carrier_request_free; INBOX_ERR_INVALID (naming the field) when
 * the number lacks the credentials or provider_id is not an id of that
 * carrier.
 */
inbox_status_t inbox_carrier_status_request(const inbox_number_t *number,
    const char *provider_id, inbox_carrier_request_t *req,
    inbox_error_t *err);

/* inbox_carrier_status_answer: the carrier has no such message. */
#define INBOX_CARRIER_STATUS_NO_SUCH_MESSAGE  1

/*
 * Reads carrier's answer to that request (HTTP status, 0 when none came;
 * body of len bytes, need not be NUL-terminated) into update, as the
 * carrier's status callback would have said it: its status mapped onto
 * ours, its error code, opted_out, and final when the carrier will report
 * nothing more.  0, or -1 with why (for a person, for the log) when the
 * answer says nothing to store: no answer, an error, another message, no
 * status the carrier documents.  INBOX_CARRIER_STATUS_NO_SUCH_MESSAGE,
 * with why in the carrier's words, when it says it has no message of
 * that id under these credentials (Twilio: HTTP 404 with its error 20404;
 * Telnyx: HTTP 404 with a JSON body): the sender asks only once the
 * carrier took the message long ago, so asking again cannot help.  Never
 * a crash, whatever the bytes.
 */
int inbox_carrier_status_answer(inbox_carrier_t carrier, long http_status,
    const char *body, size_t len, const char *provider_id,
    inbox_status_update_t *update, char why[INBOX_CARRIER_MESSAGE_MAX]);


/* "accepted", "retry", "refused", "opted_out", "withdrawn", "unknown",
 * "released", "cancelled". */
const char *inbox_send_outcome_name(inbox_send_outcome_t outcome);

/*
 * Whether value (len bytes) may be kept as a media URL (url: http or
 * https, printable ASCII without spaces) or content type (printable
 * ASCII) in a buffer of size bytes: the same caps for every carrier's
 * intake.
 */
int inbox_media_field_valid(const char *value, size_t len, int url,
    size_t size);

#endif
