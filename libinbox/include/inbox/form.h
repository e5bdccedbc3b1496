/*
 * application/x-www-form-urlencoded bodies, as carriers post them.
 */
#ifndef INBOX_FORM_H
#define INBOX_FORM_H

#include <stddef.h>
#include <inbox/error.h>

typedef struct {
    char    *name;        /* decoded, NUL terminated */
    char    *value;       /* decoded, NUL terminated */
    size_t   name_len;    /* bytes before the NUL */
    size_t   value_len;
} inbox_form_field_t;

typedef struct {
    inbox_form_field_t  *fields;   /* in body order */
    size_t               count;
    char                *storage;  /* one allocation behind all strings */
} inbox_form_t;

/* Parses body into form (which the caller later frees with
 * inbox_form_free).  '+' is a space, %XX is a byte; a malformed escape is
 * INBOX_ERR_INVALID, and so is %00: a NUL would end the C string early,
 * and whatever read it (a signature, the store) would see less than was
 * sent. */
inbox_status_t inbox_form_parse(const char *body, size_t len,
    inbox_form_t *form, inbox_error_t *err);

/* The first value of name, or NULL.  The string belongs to form. */
const char *inbox_form_get(const inbox_form_t *form, const char *name);

/*
 * *name: a name form holds more than once (the first in byte order), or
 * NULL when each is there once.  A query string's names must be: which of
 * two values was meant cannot be told (a carrier's form may repeat one).
 * INBOX_ERR_INTERNAL when out of memory.
 */
inbox_status_t inbox_form_repeated(const inbox_form_t *form,
    const char **name, inbox_error_t *err);

void inbox_form_free(inbox_form_t *form);

/*
 * Encodes count name and value pairs (pairs[2i] the name, pairs[2i+1] the
 * value): letters, digits and "-._~" as they are, a space as '+', every
 * other byte as %XX, pairs joined by '&'.  A malloc'd, NUL-terminated
 * string the caller frees, its length in *len; NULL when out of memory.
 */
char *inbox_form_encode(const char * const *pairs, size_t count,
    size_t *len);

#endif
