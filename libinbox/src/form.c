/*
 * application/x-www-form-urlencoded parsing into one allocation: the field
 * array first, then every decoded name and value.
 */
#include <stdlib.h>
#include <string.h>
#include <inbox/form.h>


static int inbox_form_hex(int c);
static int inbox_form_name_cmp(const void *a, const void *b);
static char *inbox_form_decode(const char *p, const char *end, char *dst,
    int *bad);


inbox_status_t
inbox_form_parse(const char *body, size_t len, inbox_form_t *form,
    inbox_error_t *err)
{
    int                  bad;
    char                *dst;
    size_t               count, i;
    const char          *p, *end, *seg_end, *eq;
    inbox_form_field_t  *field;

    form->fields = NULL;
    form->count = 0;
    form->storage = NULL;

    count = 0;
    end = body + len;

    for (p = body; p < end; p = seg_end + 1) {
        seg_end = memchr(p, '&', (size_t) (end - p));
        if (seg_end == NULL) {
            seg_end = end;
        }
        if (seg_end > p) {
            count++;
        }
    }

    if (count == 0) {
        return INBOX_OK;
    }

    /* decoding only shrinks: len bytes and two NULs a field suffice */
    form->storage = malloc(count * sizeof(inbox_form_field_t) + len
                           + 2 * count);
    if (form->storage == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "out of memory");
    }

    form->fields = (inbox_form_field_t *) (void *) form->storage;
    dst = form->storage + count * sizeof(inbox_form_field_t);
    bad = 0;
    i = 0;

    for (p = body; p < end; p = seg_end + 1) {
        seg_end = memchr(p, '&', (size_t) (end - p));
        if (seg_end == NULL) {
            seg_end = end;
        }
        if (seg_end == p) {
            continue;
        }

        eq = memchr(p, '=', (size_t) (seg_end - p));
        field = &form->fields[i++];

        field->name = dst;
        dst = inbox_form_decode(p, eq ? eq : seg_end, dst, &bad);
        field->name_len = (size_t) (dst - field->name) - 1;

        field->value = dst;
        dst = inbox_form_decode(eq ? eq + 1 : seg_end, seg_end, dst, &bad);
        field->value_len = (size_t) (dst - field->value) - 1;

        if (bad) {
            inbox_form_free(form);
            return inbox_error_set(err, INBOX_ERR_INVALID,
                       "the form body has a malformed %%-escape");
        }

        if (strlen(field->name) != field->name_len
            || strlen(field->value) != field->value_len)
        {
            inbox_error_set_field(err, INBOX_ERR_INVALID, field->name,
                "%s has a NUL byte (%%00), which no text may hold.",
                field->name);
            inbox_form_free(form);
            return INBOX_ERR_INVALID;
        }
    }

    form->count = count;

    return INBOX_OK;
}


const char *
inbox_form_get(const inbox_form_t *form, const char *name)
{
    size_t  i;

    for (i = 0; i < form->count; i++) {
        if (strcmp(form->fields[i].name, name) == 0) {
            return form->fields[i].value;
        }
    }

    return NULL;
}


/* Sorted, repeats are neighbours: a long query costs no n * n. */
inbox_status_t
inbox_form_repeated(const inbox_form_t *form, const char **name,
    inbox_error_t *err)
{
    size_t        i;
    const char  **names;

    *name = NULL;

    if (form->count < 2) {
        return INBOX_OK;
    }

    names = malloc(form->count * sizeof(char *));
    if (names == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "out of memory");
    }

    for (i = 0; i < form->count; i++) {
        names[i] = form->fields[i].name;
    }

    qsort(names, form->count, sizeof(char *), inbox_form_name_cmp);

    for (i = 1; i < form->count; i++) {
        if (strcmp(names[i - 1], names[i]) == 0) {
            *name = names[i];
            break;
        }
    }

    free(names);

    return INBOX_OK;
}


static int
inbox_form_name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char * const *) a, *(const char * const *) b);
}


void
inbox_form_free(inbox_form_t *form)
{
    free(form->storage);
    form->storage = NULL;
    form->fields = NULL;
    form->count = 0;
}


/* Decodes [p, end) into dst with a NUL; returns the byte after the NUL. */
static char *
inbox_form_decode(const char *p, const char *end, char *dst, int *bad)
{
    int  hi, lo;

    while (p < end) {
        if (*p == '+') {
            *dst++ = ' ';
            p++;

        } else if (*p == '%') {
            if (end - p < 3) {
                *bad = 1;
                break;
            }

            hi = inbox_form_hex((unsigned char) p[1]);
            lo = inbox_form_hex((unsigned char) p[2]);
            if (hi < 0 || lo < 0) {
                *bad = 1;
                break;
            }

            *dst++ = (char) (hi << 4 | lo);
            p += 3;

        } else {
            *dst++ = *p++;
        }
    }

    *dst++ = '\0';

    return dst;
}


static int
inbox_form_hex(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }

    return -1;
}


char *
inbox_form_encode(const char * const *pairs, size_t count, size_t *len)
{
    int           c;
    char         *out, *p;
    size_t        i, size;
    const char   *s;
    static const char  hex[] = "0123456789ABCDEF";

    /* at worst every byte as %XX, '=' and '&' */
    size = 1;
    for (i = 0; i < 2 * count; i++) {
        size += 3 * strlen(pairs[i]) + 1;
    }

    out = malloc(size);
    if (out == NULL) {
        return NULL;
    }

    p = out;

    for (i = 0; i < 2 * count; i++) {
        if (i > 0) {
            *p++ = i % 2 ? '=' : '&';
        }

        for (s = pairs[i]; *s; s++) {
            c = (unsigned char) *s;

            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                || (c >= '0' && c <= '9') || c == '-' || c == '.'
                || c == '_' || c == '~')
            {
                *p++ = (char) c;

            } else if (c == ' ') {
                *p++ = '+';

            } else {
                *p++ = '%';
                *p++ = hex[c >> 4];
                *p++ = hex[c & 0xF];
            }
        }
    }

    *p = '\0';
    *len = (size_t) (p - out);

    return out;
}
