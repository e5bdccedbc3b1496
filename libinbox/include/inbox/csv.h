/*
 * CSV (RFC 4180) read incrementally: bytes go in as they arrive, in
 * pieces of any size, and each record comes out through a callback.
 *
 * Fields are separated by commas, records by CRLF, LF or a CR alone; a
 * field in double quotes (spaces before the quote are dropped) may hold
 * commas, line breaks and "" for a quote.  A UTF-8 byte order mark
 * before the first record is skipped (spreadsheets write one).  A record
 * may have up to INBOX_CSV_FIELDS_MAX fields (an Outlook export has 92,
 * a CRM's more); past that they are dropped, and those with something in
 * them counted.  A record longer than INBOX_CSV_RECORD_MAX bytes is
 * handed over with too_long set and no fields, so one bad line cannot
 * take the memory of a whole upload: a reader holds at most one record
 * and its fields' places.  Bytes are not checked for UTF-8 here.
 */
#ifndef INBOX_CSV_H
#define INBOX_CSV_H

#include <stddef.h>

#define INBOX_CSV_RECORD_MAX  (64 * 1024)
#define INBOX_CSV_FIELDS_MAX  1024

typedef struct {
    size_t              line;       /* the line the record starts on,
                                       from 1 */
    size_t              count;      /* fields */
    const char *const  *fields;     /* NUL-terminated */
    const size_t       *lens;
    size_t              dropped;    /* fields past INBOX_CSV_FIELDS_MAX
                                       with something in them */
    int                 too_long;   /* over INBOX_CSV_RECORD_MAX bytes */
} inbox_csv_record_t;

/* Returns 0 to go on, anything else to stop (inbox_csv_feed returns it). */
typedef int (*inbox_csv_record_fn)(void *ctx, const inbox_csv_record_t *rec);

typedef struct {
    inbox_csv_record_fn   fn;
    void                 *ctx;
    int                   state;
    int                   started;       /* past a possible BOM */
    size_t                bom;           /* BOM bytes seen */
    size_t                line;          /* the current line */
    size_t                record_line;
    char                 *buf;           /* the record's fields, each
                                            NUL-terminated */
    size_t                len;
    size_t                cap;
    size_t                field;         /* where the current field began */
    size_t               *starts;        /* the fields', in buf */
    size_t               *lens;
    const char          **fields;        /* handed over in a record */
    size_t                fields_cap;
    size_t                count;
    size_t                dropped;
    int                   too_long;
    int                   empty;         /* nothing in the record yet */
    int                   quoted_cr;     /* the last byte quoted was CR */
} inbox_csv_t;

void inbox_csv_init(inbox_csv_t *csv, inbox_csv_record_fn fn, void *ctx);
/* 0, the callback's non-zero answer, or -1 when out of memory. */
int inbox_csv_feed(inbox_csv_t *csv, const char *data, size_t len);
/* Ends the input: the last record (without a final line break) goes out.
 * Returns as inbox_csv_feed; -2 when a quoted field is never closed (the
 * record is not handed over: it has no certain end). */
int inbox_csv_finish(inbox_csv_t *csv);
void inbox_csv_free(inbox_csv_t *csv);

#endif
