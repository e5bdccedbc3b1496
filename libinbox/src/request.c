/*
 * JSON request bodies through yajl's tree API, checked against the
 * fields a route declares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inbox/request.h>
#include <inbox/utf8.h>


#define INBOX_REQUEST_NAMES_MAX  160


static inbox_status_t inbox_request_load(const char *body, size_t len,
    const inbox_field_t *fields, inbox_request_t *req, inbox_error_t *err);
static inbox_status_t inbox_request_scan(const char *body, size_t len,
    const inbox_field_t *fields, inbox_error_t *err);
static long inbox_request_unit(const char *s, size_t len);
static inbox_status_t inbox_request_check(yajl_val object,
    const inbox_field_t *fields, const char *prefix, inbox_error_t *err);
static inbox_status_t inbox_request_value(yajl_val v,
    const inbox_field_t *field, const char *path, inbox_error_t *err);
static inbox_status_t inbox_request_text(const char *s,
    const inbox_field_t *field, size_t max, const char *path,
    const char *said, inbox_error_t *err);
static const inbox_field_t *inbox_request_field(const inbox_field_t *fields,
    const char *name);
static const inbox_field_t *inbox_request_declared(
    const inbox_field_t *fields, const char *path, size_t len);
static void inbox_request_item(const inbox_field_t *field, const char *path,
    size_t len, size_t i, char *out, size_t size);
static void inbox_request_item_path(const char *path, size_t i, char *out,
    size_t size);
static void inbox_request_names(const inbox_field_t *fields, char *out,
    size_t size);
static size_t inbox_request_chars(const char *s);
static const char *inbox_request_type_name(inbox_field_type_t type);


inbox_status_t
inbox_request_parse(const char *body, size_t len, const inbox_field_t *fields,
    inbox_request_t *req, inbox_error_t *err)
{
    inbox_status_t   rc;

    rc = inbox_request_load(body, len, fields, req, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    if (!YAJL_IS_OBJECT(req->root)) {
        inbox_request_free(req);
        return inbox_error_set(err, INBOX_ERR_INVALID,
                               "The request body must be a JSON object.");
    }

    rc = inbox_request_check(req->root, fields, "", err);

    if (rc != INBOX_OK) {
        inbox_request_free(req);
    }

    return rc;
}


inbox_status_t
inbox_request_read(const char *body, size_t len, inbox_request_t *req,
    inbox_error_t *err)
{
    return inbox_request_load(body, len, NULL, req, err);
}


/* fields: refuse half a surrogate pair, which yajl would make '?', saying
 * an array's item as fields call it; NULL: let it through */
static inbox_status_t
inbox_request_load(const char *body, size_t len,
    const inbox_field_t *fields, inbox_request_t *req, inbox_error_t *err)
{
    char            *copy, *nl;
    char             errbuf[128];
    inbox_status_t   rc;

    req->root = NULL;

    if (len == 0) {
        return inbox_error_set(err, INBOX_ERR_INVALID,
                               "The request needs a JSON object as its "
                               "body.");
    }

    rc = inbox_request_scan(body, len, fields, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    /* yajl_tree_parse wants a C string */
    copy = malloc(len + 1);
    if (copy == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    memcpy(copy, body, len);
    copy[len] = '\0';

    errbuf[0] = '\0';
    req->root = yajl_tree_parse(copy, errbuf, sizeof(errbuf));
    free(copy);

    if (req->root == NULL) {
        /* yajl's first line says what; the rest draws a caret */
        nl = strchr(errbuf, '\n');
        if (nl != NULL) {
            *nl = '\0';
        }

        return inbox_error_set(err, INBOX_ERR_INVALID,
                               "The request body is not valid JSON (%s).",
                               errbuf[0] ? errbuf : "parse error");
    }

    return INBOX_OK;
}


void
inbox_request_free(inbox_request_t *req)
{
    if (req != NULL && req->root != NULL) {
        yajl_tree_free(req->root);
        req->root = NULL;
    }
}


/*
 * What the tree cannot show: a NUL byte, or a "\u0000" escape (yajl's tree
 * hands out C strings, which would end there silently), half of a
 * surrogate pair escaped alone (yajl makes "\ud800" a '?', and joins it
 * to any escape after it), and nesting deeper than any request needs
 * (yajl_tree_free recurses).  The path of keys ("quiet_hours.start") is
 * followed, raw, with an array's items by their index ("options.2"), so
 * that a lone surrogate names its field or item.
 */
static inbox_status_t
inbox_request_scan(const char *body, size_t len, const inbox_field_t *fields,
    inbox_error_t *err)
{
    char    path[INBOX_ERROR_FIELD_MAX], said[INBOX_ERROR_FIELD_MAX];
    char    object[INBOX_REQUEST_DEPTH_MAX + 1];
    size_t  i, key, base[INBOX_REQUEST_DEPTH_MAX + 1], plen;
    size_t  item[INBOX_REQUEST_DEPTH_MAX + 1];
    long    unit, low;
    int     in_string, in_key, want_key, depth;

    in_string = 0;
    in_key = 0;
    want_key = 0;
    depth = 0;
    key = 0;
    plen = 0;
    path[0] = '\0';
    object[0] = 0;
    base[0] = 0;
    item[0] = 0;

    for (i = 0; i < len; i++) {

        if (body[i] == '\0') {
            return inbox_error_set(err, INBOX_ERR_INVALID,
                                   "The request body holds a NUL byte.");
        }

        if (in_string) {
            if (body[i] == '"') {
                in_string = 0;

                if (in_key) {
                    /* the key replaces its object's last one */
                    in_key = 0;
                    plen = base[depth];
                    plen += snprintf(path + plen, sizeof(path) - plen,
                                     "%s%.*s", plen ? "." : "",
                                     (int) (i - key), body + key);
                    if (plen >= sizeof(path)) {
                        plen = sizeof(path) - 1;
                    }
                }

            } else if (body[i] == '\\' && i + 1 < len) {
                i++;

                if (body[i] != 'u') {
                    continue;
                }

                unit = inbox_request_unit(body + i + 1, len - i - 1);

                if (unit == 0) {
                    return inbox_error_set(err, INBOX_ERR_INVALID,
                                           "Strings in the request may not "
                                           "hold NUL (\\u0000).");
                }

                if (fields == NULL || unit < 0xd800 || unit > 0xdfff) {
                    continue;
                }

                if (unit < 0xdc00 && i + 10 < len && body[i + 5] == '\\'
                    && body[i + 6] == 'u')
                {
                    low = inbox_request_unit(body + i + 7, len - i - 7);

                    if (low >= 0xdc00 && low <= 0xdfff) {
                        i += 10;
                        continue;
                    }
                }

                /* a key's, or an item of a body that is an array */
                if (in_key || plen == 0 || (depth == 1 && !object[1])) {
                    return inbox_error_set(err, INBOX_ERR_INVALID,
                                           "The request holds \\u%.4s, "
                                           "half of a UTF-16 surrogate pair "
                                           "without the other half.",
                                           body + i + 1);
                }

                if (object[depth]) {
                    snprintf(said, sizeof(said), "%s", path);
                } else {
                    inbox_request_item(inbox_request_declared(fields, path,
                                           base[depth]),
                                       path, base[depth], item[depth],
                                       said, sizeof(said));
                }

                return inbox_error_set_field(err, INBOX_ERR_INVALID, path,
                                             "%s holds \\u%.4s, half of a "
                                             "UTF-16 surrogate pair without "
                                             "the other half.", said,
                                             body + i + 1);
            }

            continue;
        }

        /* an array's item is named by its index: "options.2" */
        if (depth > 0 && !object[depth]
            && (body[i] == '"' || body[i] == '{' || body[i] == '['))
        {
            plen = base[depth];
            plen += snprintf(path + plen, sizeof(path) - plen, "%s%zu",
                             plen ? "." : "", item[depth]);
            if (plen >= sizeof(path)) {
                plen = sizeof(path) - 1;
            }
        }

        switch (body[i]) {

        case '"':
            in_string = 1;
            in_key = want_key;
            want_key = 0;
            key = i + 1;
            break;

        case '{':
        case '[':
            if (++depth > INBOX_REQUEST_DEPTH_MAX) {
                return inbox_error_set(err, INBOX_ERR_INVALID,
                                       "The request body nests more than "
                                       "%d levels deep.",
                                       INBOX_REQUEST_DEPTH_MAX);
            }

            if (depth > 0) {
                object[depth] = body[i] == '{';
                base[depth] = plen;
                item[depth] = 0;
            }

            want_key = depth > 0 && body[i] == '{';
            break;

        case ',':
            want_key = depth > 0 && object[depth];
            if (depth > 0 && !object[depth]) {
                item[depth]++;
            }
            break;

        case '}':
        case ']':
            if (depth > 0) {
                plen = base[depth];
                path[plen] = '\0';
            }

            depth--;
            want_key = 0;
            break;

        default:
            break;
        }
    }

    return INBOX_OK;
}


/* The code unit of the four hex digits at s, or -1. */
static long
inbox_request_unit(const char *s, size_t len)
{
    char  hex[5];

    if (len < 4) {
        return -1;
    }

    memcpy(hex, s, 4);
    hex[4] = '\0';

    if (strspn(hex, "0123456789abcdefABCDEF") != 4) {
        return -1;
    }

    return strtol(hex, NULL, 16);
}


static inbox_status_t
inbox_request_check(yajl_val object, const inbox_field_t *fields,
    const char *prefix, inbox_error_t *err)
{
    char                  path[INBOX_ERROR_FIELD_MAX];
    char                  names[INBOX_REQUEST_NAMES_MAX];
    size_t                i, j, n;
    yajl_val              v;
    const char           *key;
    inbox_status_t        rc;
    const inbox_field_t  *field;

    n = object->u.object.len;

    for (i = 0; i < n; i++) {
        key = object->u.object.keys[i];
        snprintf(path, sizeof(path), "%s%s", prefix, key);

        if (!inbox_utf8_valid(key, strlen(key))) {
            return inbox_error_set(err, INBOX_ERR_INVALID,
                                   "A field name in the request is not "
                                   "valid UTF-8.");
        }

        for (j = 0; j < i; j++) {
            if (strcmp(object->u.object.keys[j], key) == 0) {
                return inbox_error_set_field(err, INBOX_ERR_INVALID, path,
                                             "%s is given twice.", path);
            }
        }

        if (inbox_request_field(fields, key) == NULL) {
            inbox_request_names(fields, names, sizeof(names));
            return inbox_error_set_field(err, INBOX_ERR_INVALID, path,
                                         "%s is not a field of this "
                                         "request; it takes %s.", path,
                                         names);
        }
    }

    for (field = fields; field->name != NULL; field++) {
        snprintf(path, sizeof(path), "%s%s", prefix, field->name);

        v = NULL;
        for (i = 0; i < n; i++) {
            if (strcmp(object->u.object.keys[i], field->name) == 0) {
                v = object->u.object.values[i];
                break;
            }
        }

        if (v == NULL) {
            if (field->required) {
                return inbox_error_set_field(err, INBOX_ERR_INVALID, path,
                                             "%s is required.", path);
            }

            continue;
        }

        if (YAJL_IS_NULL(v)) {
            if (field->nullable) {
                continue;
            }

            return inbox_error_set_field(err, INBOX_ERR_INVALID, path,
                                         "%s must be %s, not null.", path,
                                         inbox_request_type_name(
                                             field->type));
        }

        rc = inbox_request_value(v, field, path, err);
        if (rc != INBOX_OK) {
            return rc;
        }
    }

    return INBOX_OK;
}


static inbox_status_t
inbox_request_value(yajl_val v, const inbox_field_t *field, const char *path,
    inbox_error_t *err)
{
    char            prefix[INBOX_ERROR_FIELD_MAX];
    char            said[INBOX_ERROR_FIELD_MAX];
    size_t          i;
    int64_t         n;
    inbox_status_t  rc;
    int             fits;

    switch (field->type) {

    case INBOX_FIELD_STRING:
        fits = YAJL_IS_STRING(v);
        break;

    case INBOX_FIELD_INTEGER:
        fits = YAJL_IS_INTEGER(v);
        break;

    case INBOX_FIELD_BOOLEAN:
        fits = YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v);
        break;

    case INBOX_FIELD_STRINGS:
        fits = YAJL_IS_ARRAY(v);
        break;

    case INBOX_FIELD_OBJECT:
    default:
        fits = YAJL_IS_OBJECT(v);
        break;
    }

    if (!fits) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, path,
                                     "%s must be %s.", path,
                                     inbox_request_type_name(field->type));
    }

    switch (field->type) {

    case INBOX_FIELD_STRING:
        return inbox_request_text(YAJL_GET_STRING(v), field,
                                  (size_t) field->max, path, path, err);

    case INBOX_FIELD_INTEGER:
        n = YAJL_GET_INTEGER(v);

        if (n < field->min || (field->max != 0 && n > field->max)) {
            return inbox_error_set_field(err, INBOX_ERR_INVALID, path,
                                         "%s must be from %lld to %lld.",
                                         path, (long long) field->min,
                                         (long long) field->max);
        }

        return INBOX_OK;

    case INBOX_FIELD_STRINGS:
        if (field->max != 0 && v->u.array.len > (size_t) field->max) {
            return inbox_error_set_field(err, INBOX_ERR_INVALID, path,
                                         "%s may have at most %lld items.",
                                         path, (long long) field->max);
        }

        /* one item refused is named by its index, said from 1 */
        for (i = 0; i < v->u.array.len; i++) {
            inbox_request_item_path(path, i, prefix, sizeof(prefix));
            inbox_request_item(field, path, strlen(path), i, said,
                               sizeof(said));

            if (!YAJL_IS_STRING(v->u.array.values[i])) {
                return inbox_error_set_field(err, INBOX_ERR_INVALID, prefix,
                                             "%s must be text.", said);
            }

            rc = inbox_request_text(YAJL_GET_STRING(v->u.array.values[i]),
                                    field, field->item_max, prefix, said,
                                    err);
            if (rc != INBOX_OK) {
                return rc;
            }
        }

        return INBOX_OK;

    case INBOX_FIELD_OBJECT:
        if (snprintf(prefix, sizeof(prefix), "%s.", path)
            >= (int) sizeof(prefix))
        {
            return inbox_error_set(err, INBOX_ERR_INVALID,
                                   "The request nests its fields too "
                                   "deep.");
        }

        return inbox_request_check(v, field->fields, prefix, err);

    default:
        return INBOX_OK;
    }
}


/* path: the field refused; said: the words for it ("Option 3") */
static inbox_status_t
inbox_request_text(const char *s, const inbox_field_t *field, size_t max,
    const char *path, const char *said, inbox_error_t *err)
{
    size_t  chars;

    if (!inbox_utf8_valid(s, strlen(s))) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, path,
                                     "%s is not valid UTF-8.", said);
    }

    chars = inbox_request_chars(s);

    if (chars < (size_t) (field->min > 0 ? field->min : 0)) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, path,
                                     chars == 0 ? "%s may not be empty."
                                                : "%s is too short.",
                                     said);
    }

    if (max != 0 && chars > max) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, path,
                                     "%s may have at most %zu characters.",
                                     said, max);
    }

    return INBOX_OK;
}


static const inbox_field_t *
inbox_request_field(const inbox_field_t *fields, const char *name)
{
    for (; fields->name != NULL; fields++) {
        if (strcmp(fields->name, name) == 0) {
            return fields;
        }
    }

    return NULL;
}


/* The field declared at path's first len bytes ("audience.tags"), or
 * NULL. */
static const inbox_field_t *
inbox_request_declared(const inbox_field_t *fields, const char *path,
    size_t len)
{
    char                  name[INBOX_ERROR_FIELD_MAX];
    size_t                n;
    const char           *dot;
    const inbox_field_t  *field;

    field = NULL;

    while (fields != NULL && len > 0) {
        dot = memchr(path, '.', len);
        n = dot ? (size_t) (dot - path) : len;

        if (n >= sizeof(name)) {
            return NULL;
        }

        memcpy(name, path, n);
        name[n] = '\0';

        field = inbox_request_field(fields, name);
        if (field == NULL || dot == NULL) {
            return field;
        }

        fields = field->type == INBOX_FIELD_OBJECT ? field->fields : NULL;
        path += n + 1;
        len -= n + 1;
    }

    return NULL;
}


/* Item i (from 0) of the array at path's first len bytes, in words that
 * number it from 1: "Option 3", else "Item 3 of tags". */
static void
inbox_request_item(const inbox_field_t *field, const char *path, size_t len,
    size_t i, char *out, size_t size)
{
    if (field != NULL && field->item != NULL) {
        snprintf(out, size, "%s %zu", field->item, i + 1);
        return;
    }

    snprintf(out, size, "Item %zu of %.*s", i + 1, (int) len, path);
}


/* The field of item i of the array at path: "tags.2"; the array's when
 * that is too long for a field. */
static void
inbox_request_item_path(const char *path, size_t i, char *out, size_t size)
{
    if (snprintf(out, size, "%s.%zu", path, i) >= (int) size) {
        snprintf(out, size, "%s", path);
    }
}


inbox_status_t
inbox_request_item_refused(const inbox_field_t *fields, const char *path,
    size_t i, inbox_error_t *err)
{
    char    said[INBOX_ERROR_FIELD_MAX];
    char    message[INBOX_ERROR_MESSAGE_MAX];
    size_t  len;

    if (err == NULL) {
        return INBOX_ERR_INVALID;
    }

    len = strlen(path);
    inbox_request_item(inbox_request_declared(fields, path, len), path, len,
                       i, said, sizeof(said));

    /* the rule's sentence goes on after the item's name: "A tag" is "a
     * tag" there, an acronym ("URL") stays as it is */
    snprintf(message, sizeof(message), "%s", err->message);
    if (message[0] >= 'A' && message[0] <= 'Z'
        && (message[1] == ' ' || (message[1] >= 'a' && message[1] <= 'z')))
    {
        message[0] = (char) (message[0] - 'A' + 'a');
    }

    snprintf(err->message, sizeof(err->message), "%s: %s", said, message);
    inbox_request_item_path(path, i, err->field, sizeof(err->field));

    return err->code;
}


/* "a", "a and b", "a, b and c" */
static void
inbox_request_names(const inbox_field_t *fields, char *out, size_t size)
{
    size_t  n, i, len;

    for (n = 0; fields[n].name != NULL; n++) {
        /* void */
    }

    out[0] = '\0';

    if (n == 0) {
        snprintf(out, size, "no fields");
        return;
    }

    for (i = 0; i < n; i++) {
        len = strlen(out);
        snprintf(out + len, size - len, "%s%s",
                 i == 0 ? "" : (i + 1 == n ? " and " : ", "),
                 fields[i].name);
    }
}


static size_t
inbox_request_chars(const char *s)
{
    size_t  n;

    /* valid UTF-8: every byte but continuation bytes starts a character */
    for (n = 0; *s; s++) {
        if (((unsigned char) *s & 0xc0) != 0x80) {
            n++;
        }
    }

    return n;
}


static const char *
inbox_request_type_name(inbox_field_type_t type)
{
    switch (type) {
    case INBOX_FIELD_STRING:
        return "a string";
    case INBOX_FIELD_INTEGER:
        return "a whole number";
    case INBOX_FIELD_BOOLEAN:
        return "true or false";
    case INBOX_FIELD_STRINGS:
        return "an array of strings";
    case INBOX_FIELD_OBJECT:
    default:
        return "an object";
    }
}


yajl_val
inbox_request_get(const inbox_request_t *req, const char *path)
{
    char         part[INBOX_ERROR_FIELD_MAX];
    size_t       i, len;
    yajl_val     v;
    const char  *dot;

    v = req->root;

    while (v != NULL && *path) {
        if (!YAJL_IS_OBJECT(v)) {
            return NULL;
        }

        dot = strchr(path, '.');
        len = dot ? (size_t) (dot - path) : strlen(path);

        if (len >= sizeof(part)) {
            return NULL;
        }

        memcpy(part, path, len);
        part[len] = '\0';
        path += len + (dot != NULL);

        for (i = 0; i < v->u.object.len; i++) {
            if (strcmp(v->u.object.keys[i], part) == 0) {
                break;
            }
        }

        v = i < v->u.object.len ? v->u.object.values[i] : NULL;
    }

    return v;
}


const char *
inbox_request_string(const inbox_request_t *req, const char *path)
{
    yajl_val  v;

    v = inbox_request_get(req, path);

    return (v != NULL && YAJL_IS_STRING(v)) ? YAJL_GET_STRING(v) : NULL;
}


int
inbox_request_has(const inbox_request_t *req, const char *path)
{
    return inbox_request_get(req, path) != NULL;
}
