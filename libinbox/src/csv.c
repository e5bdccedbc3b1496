/*
 * CSV read incrementally (see csv.h): a small state machine over bytes.
 */
#include <stdlib.h>
#include <string.h>
#include <inbox/csv.h>


enum {
    CSV_FIELD_START = 0,    /* at the start of a field */
    CSV_UNQUOTED,           /* in a field without quotes */
    CSV_QUOTED,             /* in a quoted field */
    CSV_QUOTE,              /* a quote in a quoted field: "" or the end */
    CSV_CR,                 /* a CR ended a record: skip an LF after it */
    CSV_BLANKS              /* spaces at a field's start: a quote may come */
};


static int inbox_csv_put(inbox_csv_t *csv, char c);
static int inbox_csv_fields_grow(inbox_csv_t *csv);
static int inbox_csv_field_end(inbox_csv_t *csv);
static int inbox_csv_record_end(inbox_csv_t *csv);


void
inbox_csv_init(inbox_csv_t *csv, inbox_csv_record_fn fn, void *ctx)
{
    memset(csv, 0, sizeof(inbox_csv_t));
    csv->fn = fn;
    csv->ctx = ctx;
    csv->line = 1;
    csv->record_line = 1;
    csv->empty = 1;
}


void
inbox_csv_free(inbox_csv_t *csv)
{
    free(csv->buf);
    free(csv->starts);
    free(csv->lens);
    free(csv->fields);
    csv->buf = NULL;
    csv->starts = NULL;
    csv->lens = NULL;
    csv->fields = NULL;
    csv->fields_cap = 0;
}


static int
inbox_csv_put(inbox_csv_t *csv, char c)
{
    char    *buf;
    size_t   cap;

    csv->empty = 0;

    if (csv->too_long) {
        return 0;
    }

    if (csv->len + 1 >= INBOX_CSV_RECORD_MAX) {
        csv->too_long = 1;
        return 0;
    }

    if (csv->len + 2 > csv->cap) {
        cap = csv->cap ? csv->cap * 2 : 256;
        buf = realloc(csv->buf, cap);
        if (buf == NULL) {
            return -1;
        }
        csv->buf = buf;
        csv->cap = cap;
    }

    csv->buf[csv->len++] = c;

    return 0;
}


/* Room for twice as many fields, up to INBOX_CSV_FIELDS_MAX: a file of
 * a few columns never holds the places of a thousand. */
static int
inbox_csv_fields_grow(inbox_csv_t *csv)
{
    size_t        cap, *starts, *lens;
    const char  **fields;

    cap = csv->fields_cap ? csv->fields_cap * 2 : 16;
    if (cap > INBOX_CSV_FIELDS_MAX) {
        cap = INBOX_CSV_FIELDS_MAX;
    }

    starts = realloc(csv->starts, cap * sizeof(size_t));
    if (starts == NULL) {
        return -1;
    }
    csv->starts = starts;

    lens = realloc(csv->lens, cap * sizeof(size_t));
    if (lens == NULL) {
        return -1;
    }
    csv->lens = lens;

    fields = realloc(csv->fields, cap * sizeof(const char *));
    if (fields == NULL) {
        return -1;
    }
    csv->fields = fields;

    csv->fields_cap = cap;

    return 0;
}


/* NUL-terminates the field and starts the next one. */
static int
inbox_csv_field_end(inbox_csv_t *csv)
{
    int  rc;

    if (csv->too_long) {
        return 0;
    }

    if (csv->count == INBOX_CSV_FIELDS_MAX) {
        /* a spreadsheet's used range adds empty columns: those are
         * dropped unseen, the others counted; their bytes stay, as
         * the line's length counts them */
        if (csv->len > csv->field) {
            csv->dropped++;
            csv->field = csv->len;
        }
        return 0;
    }

    if (csv->count == csv->fields_cap) {
        rc = inbox_csv_fields_grow(csv);
        if (rc != 0) {
            return rc;
        }
    }

    csv->starts[csv->count] = csv->field;
    csv->lens[csv->count] = csv->len - csv->field;
    rc = inbox_csv_put(csv, '\0');
    if (rc != 0 || csv->too_long) {
        return rc;
    }

    csv->count++;
    csv->field = csv->len;

    return 0;
}


static int
inbox_csv_record_end(inbox_csv_t *csv)
{
    int                 rc;
    size_t              i;
    inbox_csv_record_t  rec;

    rc = 0;

    /* a blank line is no record */
    if (!csv->empty) {
        rc = inbox_csv_field_end(csv);
        if (rc != 0) {
            return rc;
        }

        memset(&rec, 0, sizeof(rec));
        rec.line = csv->record_line;
        rec.too_long = csv->too_long;

        if (!csv->too_long) {
            rec.count = csv->count;
            rec.dropped = csv->dropped;

            /* the buffer may have moved since the fields began */
            for (i = 0; i < csv->count; i++) {
                csv->fields[i] = csv->buf + csv->starts[i];
            }

            rec.fields = csv->fields;
            rec.lens = csv->lens;
        }

        rc = csv->fn(csv->ctx, &rec);
    }

    csv->len = 0;
    csv->field = 0;
    csv->count = 0;
    csv->dropped = 0;
    csv->too_long = 0;
    csv->empty = 1;
    csv->record_line = csv->line;

    return rc;
}


int
inbox_csv_feed(inbox_csv_t *csv, const char *data, size_t len)
{
    int            rc;
    size_t         i, j;
    unsigned char  c;

    static const unsigned char  bom[] = { 0xef, 0xbb, 0xbf };

    for (i = 0; i < len; i++) {
        c = (unsigned char) data[i];

        if (!csv->started) {
            if (c == bom[csv->bom]) {
                if (++csv->bom == sizeof(bom)) {
                    csv->started = 1;
                }
                continue;
            }

            csv->started = 1;

            /* not a BOM after all: those bytes were data */
            for (j = 0; j < csv->bom; j++) {
                rc = inbox_csv_put(csv, (char) bom[j]);
                if (rc != 0) {
                    return rc;
                }
                csv->state = CSV_UNQUOTED;
            }
        }

        rc = 0;

        switch (csv->state) {

        case CSV_CR:
            csv->state = CSV_FIELD_START;
            if (c == '\n') {
                break;
            }
            /* fall through */

        case CSV_FIELD_START:
            if (c == ' ' || c == '\t') {
                rc = inbox_csv_put(csv, (char) c);
                csv->state = CSV_BLANKS;
                break;
            }
            /* fall through */

        case CSV_BLANKS:
            if (c == '"') {
                /* ', "Lee, Ann"' is quoted as much as ',"Lee, Ann"' */
                csv->len = csv->too_long ? csv->len : csv->field;
                csv->empty = 0;
                csv->state = CSV_QUOTED;
                break;
            }

            if (csv->state == CSV_BLANKS && (c == ' ' || c == '\t')) {
                rc = inbox_csv_put(csv, (char) c);
                break;
            }
            /* fall through */

        case CSV_UNQUOTED:
            if (c == ',') {
                csv->empty = 0;
                rc = inbox_csv_field_end(csv);
                csv->state = CSV_FIELD_START;

            } else if (c == '\n' || c == '\r') {
                csv->line++;
                rc = inbox_csv_record_end(csv);
                csv->state = (c == '\r') ? CSV_CR : CSV_FIELD_START;

            } else {
                rc = inbox_csv_put(csv, (char) c);
                csv->state = CSV_UNQUOTED;
            }
            break;

        case CSV_QUOTED:
            if (c == '"') {
                csv->quoted_cr = 0;
                csv->state = CSV_QUOTE;
                break;
            }

            /* a line break in the field: CRLF, LF or a CR alone */
            if (c == '\r' || (c == '\n' && !csv->quoted_cr)) {
                csv->line++;
            }

            csv->quoted_cr = (c == '\r');
            rc = inbox_csv_put(csv, (char) c);
            break;

        case CSV_QUOTE:
            if (c == '"') {
                rc = inbox_csv_put(csv, '"');
                csv->state = CSV_QUOTED;
                break;
            }

            /* the quoted part ended; what follows it joins the field
             * as it is (lenient, like spreadsheets) */
            csv->state = CSV_UNQUOTED;
            i--;
            break;
        }

        if (rc != 0) {
            return rc;
        }
    }

    return 0;
}


int
inbox_csv_finish(inbox_csv_t *csv)
{
    if (csv->state == CSV_QUOTED) {
        return -2;
    }

    if (!csv->started && csv->bom > 0) {
        /* input that was only the start of a BOM */
        return 0;
    }

    return inbox_csv_record_end(csv);
}
