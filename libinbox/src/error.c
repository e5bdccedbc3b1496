/*
 * Errors: codes for callers, messages for people.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <inbox/error.h>


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
}


void
inbox_error_clear(inbox_error_t *err)
{
    if (err == NULL) {
        return;
    }

    err->code = INBOX_OK;
    err->message[0] = '\0';
    err->field[0] = '\0';
}


const char *
inbox_status_code(inbox_status_t status)
{
    switch (status) {
    case INBOX_OK:
        return "ok";
    case INBOX_ERR_INVALID:
        return "invalid_request";
    case INBOX_ERR_UNAUTHENTICATED:
        return "unauthenticated";
    case INBOX_ERR_FORBIDDEN:
        return "forbidden";
    case INBOX_ERR_NOT_FOUND:
        return "not_found";
    case INBOX_ERR_CONFLICT:
        return "conflict";
    case INBOX_ERR_TOO_LARGE:
        return "too_large";
    case INBOX_ERR_RATE_LIMITED:
        return "rate_limited";
    case INBOX_ERR_UNAVAILABLE:
        return "unavailable";
    case INBOX_ERR_INTERNAL:
    default:
        return "internal";
    }
}


int
inbox_status_http(inbox_status_t status)
{
    switch (status) {
    case INBOX_OK:
        return 200;
    case INBOX_ERR_INVALID:
        return 400;
    case INBOX_ERR_UNAUTHENTICATED:
        return 401;
    case INBOX_ERR_FORBIDDEN:
        return 403;
    case INBOX_ERR_NOT_FOUND:
        return 404;
    case INBOX_ERR_CONFLICT:
        return 409;
    case INBOX_ERR_TOO_LARGE:
        return 413;
    case INBOX_ERR_RATE_LIMITED:
        return 429;
    case INBOX_ERR_UNAVAILABLE:
        return 503;
    case INBOX_ERR_INTERNAL:
    default:
        return 500;
    }
}
