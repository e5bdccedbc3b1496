/*
 * Errors: a code a caller can branch on, and a message a person can act on.
 *
 * Every fallible libinbox call takes an inbox_error_t * (which may be NULL)
 * and returns an inbox_status_t.  The caller owns the error struct; nothing
 * in it is heap allocated.
 */
#ifndef INBOX_ERROR_H
#define INBOX_ERROR_H

typedef enum {
    INBOX_OK = 0,
    INBOX_ERR_INVALID,          /* 400 invalid_request */
    INBOX_ERR_UNAUTHENTICATED,  /* 401 unauthenticated */
    INBOX_ERR_FORBIDDEN,        /* 403 forbidden (also a forged signature) */
    INBOX_ERR_NOT_FOUND,        /* 404 not_found */
    INBOX_ERR_CONFLICT,         /* 409 conflict */
    INBOX_ERR_TOO_LARGE,        /* 413 too_large */
    INBOX_ERR_RATE_LIMITED,     /* 429 rate_limited */
    INBOX_ERR_UNAVAILABLE,      /* 503 unavailable: store down or busy */
    INBOX_ERR_INTERNAL          /* 500 internal: a bug or out of memory */
} inbox_status_t;

#define INBOX_ERROR_MESSAGE_MAX  256
#define INBOX_ERROR_FIELD_MAX    64

typedef struct {
    inbox_status_t  code;
    char            message[INBOX_ERROR_MESSAGE_MAX];
    char            field[INBOX_ERROR_FIELD_MAX];   /* "" when not about one */
} inbox_error_t;

/* Fills err (if not NULL) and returns code, so callers can write
 * "return inbox_error_set(err, INBOX_ERR_INVALID, "...")". */
inbox_status_t inbox_error_set(inbox_error_t *err, inbox_status_t code,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Same, naming the offending request field. */
inbox_status_t inbox_error_set_field(inbox_error_t *err, inbox_status_t code,
    const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

void inbox_error_clear(inbox_error_t *err);

/* The contract's snake_case code ("invalid_request", ...) and HTTP status. */
const char *inbox_status_code(inbox_status_t status);
int inbox_status_http(inbox_status_t status);

#endif
