/*
 * JSON request bodies: one reader for every route that takes one.
 *
 * A route declares the fields it takes (name, type, required, nullable,
 * limits); inbox_request_parse reads the body with yajl's tree API and
 * refuses, as INBOX_ERR_INVALID naming the field, whatever does not fit:
 * not JSON, not an object, a field of the wrong type, a required one
 * missing, an unknown or repeated one, a string too long or not valid
 * UTF-8 or holding NUL, or half of a UTF-16 surrogate pair escaped alone
 * ("\ud800", which yajl would store as '?').  Unknown fields are refused
 * rather than ignored, so that a misspelt field ("nmae") never passes
 * silently for one that changed nothing.  Nested objects name their
 * fields with a dot ("quiet_hours.start"), and one item of an array of
 * strings by its index from 0 ("options.2"), in words that number it from
 * 1 ("Option 3 must be text."); a refusal of the whole array (not an
 * array, too many items) names the array.
 */
#ifndef INBOX_REQUEST_H
#define INBOX_REQUEST_H

#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>
#include <inbox/error.h>

/* How deep arrays and objects may nest in a body. */
#define INBOX_REQUEST_DEPTH_MAX  16

typedef enum {
    INBOX_FIELD_STRING = 0,
    INBOX_FIELD_INTEGER,
    INBOX_FIELD_BOOLEAN,
    INBOX_FIELD_STRINGS,          /* an array of strings */
    INBOX_FIELD_OBJECT            /* checked against .fields */
} inbox_field_type_t;

typedef struct inbox_field_s  inbox_field_t;

struct inbox_field_s {
    const char           *name;       /* NULL ends a list */
    inbox_field_type_t    type;
    unsigned              required:1;
    unsigned              nullable:1; /* null is a value (else refused) */
    /* STRING: at most this many characters (code points), and at least
     * min; STRINGS: at most this many items, each of at most item_max
     * characters; INTEGER: from min to max.  0 max: no limit. */
    int64_t               min;
    int64_t               max;
    size_t                item_max;
    const inbox_field_t  *fields;     /* OBJECT: what it holds */
    /* STRINGS: what one item is called in a refusal, capitalized
     * ("Option": "Option 3 must be text."); NULL: "Item 3 of tags" */
    const char           *item;
};

/* A parsed body; freed with inbox_request_free, also after a failure. */
typedef struct {
    yajl_val  root;
} inbox_request_t;

/* Parses body (len bytes, NUL-terminated or not) against fields.
 * INBOX_ERR_INVALID with field and message when it does not fit. */
inbox_status_t inbox_request_parse(const char *body, size_t len,
    const inbox_field_t *fields, inbox_request_t *req, inbox_error_t *err);
void inbox_request_free(inbox_request_t *req);

/* Reads any JSON value from body with the same checks (no NUL, bounded
 * nesting) but no declared fields: for JSON that others write (carriers'
 * answers and webhooks), whose unknown fields are ignored and whose lone
 * surrogates are let through as yajl reads them.  Freed with
 * inbox_request_free, also after a failure. */
inbox_status_t inbox_request_read(const char *body, size_t len,
    inbox_request_t *req, inbox_error_t *err);

/*
 * Item i (from 0) of the array at path ("tags", "audience.tags") that
 * fields declare, refused by a rule run after the parse (a tag contact.h
 * refuses, an upload the store does not have), which named the array:
 * err's field becomes the item's, as the parse names it ("tags.2"), and
 * its message is said of the item numbered from 1 in the route's word
 * ("Tag 3: a tag cannot hold ...").  Returns err->code.
 */
inbox_status_t inbox_request_item_refused(const inbox_field_t *fields,
    const char *path, size_t i, inbox_error_t *err);

/* A top-level field's value (path: "name" or "a.b"), NULL when absent; a
 * JSON null is a yajl_val for which YAJL_IS_NULL holds. */
yajl_val inbox_request_get(const inbox_request_t *req, const char *path);
/* The string at path, NULL when absent or null. */
const char *inbox_request_string(const inbox_request_t *req,
    const char *path);
/* 1 when path is present (null included). */
int inbox_request_has(const inbox_request_t *req, const char *path);

#endif
