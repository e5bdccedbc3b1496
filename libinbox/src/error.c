/*
 * Errors: codes for callers, messages for people.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <inbox/error.h>


/* The contract's code and HTTP status of each status, by its value. */
static const struct {
    inbox_status_t   status;
    const char      *code;
    int              http;
} inbox_error_codes[] = {
    { INBOX_OK,                          "ok",                     200 },
    { INBOX_ERR_INVALID,                 "invalid_request",        400 },
    { INBOX_ERR_UNAUTHENTICATED,         "unauthenticated",        401 },
    { INBOX_ERR_INSUFFICIENT_CREDITS,    "insufficient_credits",   402 },
    { INBOX_ERR_FORBIDDEN,               "forbidden",              403 },
    { INBOX_ERR_BILLING_INACTIVE,        "billing_inactive",       403 },
    { INBOX_ERR_NOT_FOUND,               "not_found",              404 },
    { INBOX_ERR_METHOD_NOT_ALLOWED,      "method_not_allowed",     405 },
    { INBOX_ERR_CONFLICT,                "conflict",               409 },
    { INBOX_ERR_CONTACT_OPTED_OUT,       "contact_opted_out",      409 },
    { INBOX_ERR_TOO_LARGE,               "too_large",              413 },
    { INBOX_ERR_UNSUPPORTED_MEDIA_TYPE,  "unsupported_media_type", 415 },
    { INBOX_ERR_RATE_LIMITED,            "rate_limited",           429 },
    { INBOX_ERR_UNAVAILABLE,             "unavailable",            503 },
    { INBOX_ERR_INTERNAL,                "internal",               500 },
    { INBOX_ERR_STALE,                   "stale",                  409 },
    { INBOX_ERR_ALREADY_SENT_AGAIN,      "already_sent_again",     409 },
};

#define INBOX_ERROR_NCODES \
    (sizeof(inbox_error_codes) / sizeof(inbox_error_codes[0]))


static void inbox_error_vset(inbox_error_t *err, inbox_status_t code,
    const char *field, const char *fmt, va_list args);


inbox_status_t
inbox_error_set(inbox_error_t *err, inbox_status_t code, const char *fmt,
    ...)
{
    va_list  args;

    va_start(args, fmt);
    inbox_error_vset(err, code, NULL, fmt, args);
    va_end(args);

    return code;
}


inbox_status_t
inbox_error_set_field(inbox_error_t *err, inbox_status_t code,
    const char *field, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    inbox_error_vset(err, code, field, fmt, args);
    va_end(args);

    return code;
}


inbox_status_t
inbox_error_insufficient_credits(inbox_error_t *err, int64_t needed,
    int64_t balance, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    inbox_error_vset(err, INBOX_ERR_INSUFFICIENT_CREDITS, NULL, fmt, args);
    va_end(args);

    if (err != NULL) {
        err->needed = needed;
        err->balance = balance;
    }

    return INBOX_ERR_INSUFFICIENT_CREDITS;
}


inbox_status_t
inbox_error_rate_limited(inbox_error_t *err, unsigned seconds,
    const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    inbox_error_vset(err, INBOX_ERR_RATE_LIMITED, NULL, fmt, args);
    va_end(args);

    if (err != NULL) {
        err->retry_after = seconds ? seconds : 1;
    }

    return INBOX_ERR_RATE_LIMITED;
}


inbox_status_t
inbox_error_not_found(inbox_error_t *err, const char *what)
{
    return inbox_error_set(err, INBOX_ERR_NOT_FOUND, "There is no such %s.",
                           what);
}


inbox_status_t
inbox_error_org_unknown(inbox_error_t *err, const char *org_id)
{
    /* bounded: an operator's typing reaches here unchecked */
    return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                           "There is no organization with the id \"%.64s\".",
                           org_id ? org_id : "");
}


inbox_status_t
inbox_error_number_busy(inbox_error_t *err, const char *e164,
    int64_t waiting)
{
    return inbox_error_set(err, INBOX_ERR_CONFLICT,
                           "%lld message%s still wait%s to go from %s; "
                           "remove it once the outbox has sent them (a "
                           "paused campaign's wait until it is resumed "
                           "or cancelled).", (long long) waiting,
                           waiting == 1 ? "" : "s", waiting == 1 ? "s" : "",
                           e164);
}


inbox_status_t
inbox_error_no_number(inbox_error_t *err)
{
    return inbox_error_set(err, INBOX_ERR_CONFLICT,
                           "This organization has no number to send from "
                           "yet.");
}


inbox_status_t
inbox_error_cursor(inbox_error_t *err)
{
    return inbox_error_set_field(err, INBOX_ERR_INVALID, "cursor",
                                 "This cursor was not given by this list; "
                                 "start again without it.");
}


static void
inbox_error_vset(inbox_error_t *err, inbox_status_t code, const char *field,
    const char *fmt, va_list args)
{
    if (err == NULL) {
        return;
    }

    err->code = code;
    vsnprintf(err->message, sizeof(err->message), fmt, args);
    snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
    err->needed = 0;
    err->balance = 0;
    err->retry_after = 0;
    err->last_message_id[0] = '\0';
}


void
inbox_error_clear(inbox_error_t *err)
{
    if (err == NULL) {
        return;
    }

    memset(err, 0, sizeof(inbox_error_t));
    err->code = INBOX_OK;
}


const char *
inbox_status_code(inbox_status_t status)
{
    size_t  i;

    for (i = 0; i < INBOX_ERROR_NCODES; i++) {
        if (inbox_error_codes[i].status == status) {
            return inbox_error_codes[i].code;
        }
    }

    return "internal";
}


int
inbox_status_http(inbox_status_t status)
{
    size_t  i;

    for (i = 0; i < INBOX_ERROR_NCODES; i++) {
        if (inbox_error_codes[i].status == status) {
            return inbox_error_codes[i].http;
        }
    }

    return 500;
}


const char *
inbox_status_server_message(inbox_status_t status)
{
    switch (status) {

    case INBOX_ERR_INTERNAL:
        return "Something went wrong on our side; try again, and tell the "
               "operator if it lasts.";

    case INBOX_ERR_UNAVAILABLE:
        return "The service is unavailable for a moment; try again "
               "shortly.";

    default:
        return NULL;
    }
}


const char *
inbox_error_client_message(const inbox_error_t *err)
{
    const char  *fixed;

    fixed = inbox_status_server_message(err ? err->code
                                             : INBOX_ERR_INTERNAL);

    return fixed ? fixed : err->message;
}
