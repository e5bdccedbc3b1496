/*
 * Errors: a code a caller can branch on, and a message a person can act on.
 *
 * Every fallible libinbox call takes an inbox_error_t * (which may be NULL)
 * and returns an inbox_status_t.  The caller owns the error struct; nothing
 * in it is heap allocated.
 *
 * Each status is one of the API contract's error codes, with its HTTP
 * status (inbox_status_code, inbox_status_http): not one code per HTTP
 * status, since 403 is both forbidden and billing_inactive and 409 both
 * conflict and contact_opted_out.  Some codes carry more than a message:
 * the request field at fault (invalid_request, and any error about one
 * field), what a send would cost and what the organization has
 * (insufficient_credits), when to try again (rate_limited).  render.h
 * writes each as the contract names it.
 *
 * A message is written for whoever reads it, and a failure on our side
 * (internal, unavailable) is written for the operator: it may name the
 * store's file, a table or column, a MongoDB host.  A client is told a
 * fixed sentence of its code instead (inbox_error_client_message); the
 * servers log the message.
 */
#ifndef INBOX_ERROR_H
#define INBOX_ERROR_H

#include <stdint.h>

typedef enum {
    INBOX_OK = 0,
    INBOX_ERR_INVALID,          /* 400 invalid_request (+ field) */
    INBOX_ERR_UNAUTHENTICATED,  /* 401 unauthenticated */
    INBOX_ERR_INSUFFICIENT_CREDITS,
                                /* 402 insufficient_credits (+ needed,
                                   balance) */
    INBOX_ERR_FORBIDDEN,        /* 403 forbidden (also a forged signature) */
    INBOX_ERR_BILLING_INACTIVE, /* 403 billing_inactive */
    INBOX_ERR_NOT_FOUND,        /* 404 not_found */
    INBOX_ERR_METHOD_NOT_ALLOWED,
                                /* 405 method_not_allowed */
    INBOX_ERR_CONFLICT,         /* 409 conflict */
    INBOX_ERR_CONTACT_OPTED_OUT,
                                /* 409 contact_opted_out */
    INBOX_ERR_TOO_LARGE,        /* 413 too_large */
    INBOX_ERR_UNSUPPORTED_MEDIA_TYPE,
                                /* 415 unsupported_media_type */
    INBOX_ERR_RATE_LIMITED,     /* 429 rate_limited (+ retry_after) */
    INBOX_ERR_UNAVAILABLE,      /* 503 unavailable: store down or busy */
    INBOX_ERR_INTERNAL,         /* 500 internal: a bug or out of memory */
    INBOX_ERR_STALE,            /* 409 stale (+ last_message_id): a reply
                                   written before the thread's newest
                                   message */
    INBOX_ERR_ALREADY_SENT_AGAIN
                                /* 409 already_sent_again (+ message_id):
                                   a failed reply's Send again when it
                                   went again before */
} inbox_status_t;

#define INBOX_ERROR_MESSAGE_MAX  256
#define INBOX_ERROR_FIELD_MAX    64

typedef struct {
    inbox_status_t  code;
    char            message[INBOX_ERROR_MESSAGE_MAX];
    char            field[INBOX_ERROR_FIELD_MAX];   /* "" when not about one */
    /* INBOX_ERR_INSUFFICIENT_CREDITS: credits the action needs, and the
     * organization's balance; 0 otherwise */
    int64_t         needed;
    int64_t         balance;
    /* INBOX_ERR_RATE_LIMITED: seconds until a retry may succeed (at least
     * 1; HTTP's Retry-After); 0 otherwise */
    unsigned        retry_after;
    /* INBOX_ERR_STALE: the id of the thread's newest message, which the
     * writer has not seen; INBOX_ERR_ALREADY_SENT_AGAIN: the message the
     * failed reply went again as; "" otherwise */
    char            last_message_id[INBOX_ERROR_FIELD_MAX];
} inbox_error_t;

/* Fills err (if not NULL) and returns code, so callers can write
 * "return inbox_error_set(err, INBOX_ERR_INVALID, "...")".  The extra
 * fields are cleared. */
inbox_status_t inbox_error_set(inbox_error_t *err, inbox_status_t code,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Same, naming the offending request field. */
inbox_status_t inbox_error_set_field(inbox_error_t *err, inbox_status_t code,
    const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* INBOX_ERR_INSUFFICIENT_CREDITS with what is needed and what there is. */
inbox_status_t inbox_error_insufficient_credits(inbox_error_t *err,
    int64_t needed, int64_t balance, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* INBOX_ERR_RATE_LIMITED, to be tried again after seconds (0 counts as
 * 1). */
inbox_status_t inbox_error_rate_limited(inbox_error_t *err, unsigned seconds,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* INBOX_ERR_NOT_FOUND: "There is no such WHAT." (what: "conversation",
 * "contact", ...), in the same words whichever store backend looked. */
inbox_status_t inbox_error_not_found(inbox_error_t *err, const char *what);

/* INBOX_ERR_NOT_FOUND: "There is no organization with the id \"ID\".", for
 * an organization named by its id (inboxctl's, a session's), in the same
 * words whichever store backend looked. */
inbox_status_t inbox_error_org_unknown(inbox_error_t *err,
    const char *org_id);

/* INBOX_ERR_CONFLICT: waiting messages are still to go from the number
 * e164 an operator removes (inbox_store_number_remove). */
inbox_status_t inbox_error_number_busy(inbox_error_t *err, const char *e164,
    int64_t waiting);
/* INBOX_ERR_CONFLICT: the organization has no number to send from (a
 * reply, a campaign's or poll's send), in the same words whichever store
 * backend looked. */
inbox_status_t inbox_error_no_number(inbox_error_t *err);

/* INBOX_ERR_INVALID naming "cursor": a list's cursor that no page of it
 * gave out, in the same words for every list and backend. */
inbox_status_t inbox_error_cursor(inbox_error_t *err);

void inbox_error_clear(inbox_error_t *err);

/* The contract's snake_case code ("invalid_request", ...) and HTTP status. */
const char *inbox_status_code(inbox_status_t status);
int inbox_status_http(inbox_status_t status);

/* The sentence a client is told of a failure on our side (500 internal,
 * 503 unavailable), whatever went wrong; NULL for any other status, whose
 * messages are written for the client. */
const char *inbox_status_server_message(inbox_status_t status);

/* What a client is told of err: that sentence for a failure on our side,
 * else err's own message ("" when it has none).  NULL err is internal. */
const char *inbox_error_client_message(const inbox_error_t *err);

#endif
