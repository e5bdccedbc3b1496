/*
 * CSV import of contacts (see import.h): each line checked by the rules
 * of contact.h and phone.h, written in batches.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <inbox/contact.h>
#include <inbox/csv.h>
#include <inbox/import.h>
#include <inbox/phone.h>
#include <inbox/render.h>
#include <inbox/utf8.h>


typedef struct {
    size_t  line;
    char    reason[INBOX_ERROR_MESSAGE_MAX];
} inbox_import_invalid_t;

struct inbox_import_s {
    inbox_store_t           *store;         /* NULL: the check pass */
    char                     org_id[INBOX_ID_MAX];
    char                     country[8];
    inbox_csv_t              csv;
    int                      header;         /* the header was read */
    int                      col_phone;      /* -1: none */
    int                      col_name;
    int                      col_first_name;
    int                      col_last_name;
    int                      col_tags;
    int                      col_timezone;
    char                    *ignored;        /* the header's names no
                                                column goes by, each
                                                NUL-terminated */
    size_t                   ignored_len;
    char                     last_timezone[INBOX_TIMEZONE_MAX];
    size_t                   rows;
    inbox_contact_row_t     *batch;
    size_t                   batched;
    inbox_import_count_t     count;
    uint64_t                *numbers;        /* the rows' numbers so far,
                                                inbox_import_repeats */
    size_t                   numbers_cap;
    size_t                   numbers_used;
    size_t                   pending_line;   /* the first row not stored
                                                yet, 0: none */
    size_t                   pending_refused; /* lines refused before it */
    inbox_event_list_t      *events;         /* NULL: nobody pushes */
    inbox_import_invalid_t  *invalid;
    size_t                   invalid_count;
    inbox_error_t            err;            /* why the import stopped */
};


static int inbox_import_record(void *ctx, const inbox_csv_record_t *rec);
static int inbox_import_header(inbox_import_t *im,
    const inbox_csv_record_t *rec);
static void inbox_import_header_refused(inbox_import_t *im,
    const inbox_csv_record_t *rec);
static const char *inbox_import_trim(const char *s, size_t *len);
static int inbox_import_ignore(inbox_import_t *im,
    const inbox_csv_record_t *rec, const char *name, size_t len);
static inbox_status_t inbox_import_name(inbox_import_t *im,
    const inbox_csv_record_t *rec, char **out, inbox_error_t *err);
static int inbox_import_blank(const inbox_csv_record_t *rec);
static int inbox_import_row(inbox_import_t *im,
    const inbox_csv_record_t *rec);
static inbox_status_t inbox_import_timezone(inbox_import_t *im,
    const char *tz, size_t len, char out[INBOX_TIMEZONE_MAX],
    inbox_error_t *err);
static int inbox_import_refuse(inbox_import_t *im, size_t line,
    const char *reason);
static int inbox_import_flush(inbox_import_t *im);
static int inbox_import_repeats(inbox_import_t *im, const char *phone);
static int inbox_import_numbers_grow(inbox_import_t *im);
static size_t inbox_import_stopped_refused(const inbox_import_t *im);
static void inbox_import_stopped_say(const inbox_import_t *im,
    const char *message, char *buf, size_t size);
static void inbox_import_report(const inbox_import_t *im, yajl_gen g,
    size_t refused);


inbox_import_t *
inbox_import_new(inbox_store_t *store, const char *org_id,
    const char *default_country)
{
    inbox_import_t  *im;

    im = calloc(1, sizeof(inbox_import_t));
    if (im == NULL) {
        return NULL;
    }

    if (store != NULL) {
        im->batch = calloc(INBOX_IMPORT_BATCH, sizeof(inbox_contact_row_t));
        im->invalid = calloc(INBOX_IMPORT_INVALID_MAX,
                             sizeof(inbox_import_invalid_t));
        if (im->batch == NULL || im->invalid == NULL) {
            inbox_import_free(im);
            return NULL;
        }
    }

    im->store = store;
    snprintf(im->org_id, sizeof(im->org_id), "%s", org_id ? org_id : "");
    snprintf(im->country, sizeof(im->country), "%s",
             default_country ? default_country : "US");
    im->col_phone = -1;
    im->col_name = -1;
    im->col_first_name = -1;
    im->col_last_name = -1;
    im->col_tags = -1;
    im->col_timezone = -1;

    inbox_csv_init(&im->csv, inbox_import_record, im);

    return im;
}


void
inbox_import_free(inbox_import_t *im)
{
    size_t  i;

    if (im == NULL) {
        return;
    }

    for (i = 0; im->batch != NULL && i < im->batched; i++) {
        inbox_contact_row_free(&im->batch[i]);
    }

    inbox_csv_free(&im->csv);
    free(im->numbers);
    free(im->ignored);
    free(im->batch);
    free(im->invalid);
    free(im);
}


inbox_status_t
inbox_import_feed(inbox_import_t *im, const char *data, size_t len,
    inbox_error_t *err)
{
    int  rc;

    if (im->err.code != INBOX_OK) {
        goto stopped;
    }

    rc = inbox_csv_feed(&im->csv, data, len);

    if (rc == -1) {
        inbox_error_set(&im->err, INBOX_ERR_INTERNAL, "out of memory");
    }

    if (rc != 0) {
        goto stopped;
    }

    return INBOX_OK;

stopped:

    if (err != NULL) {
        *err = im->err;
    }

    return im->err.code;
}


inbox_status_t
inbox_import_finish(inbox_import_t *im, inbox_error_t *err)
{
    int  rc;

    if (im->err.code == INBOX_OK) {
        rc = inbox_csv_finish(&im->csv);

        if (rc == -2) {
            inbox_error_set_field(&im->err, INBOX_ERR_INVALID, "body",
                                  "A quoted field that starts on line %zu "
                                  "is never closed.", im->csv.record_line);
        } else if (rc == -1) {
            inbox_error_set(&im->err, INBOX_ERR_INTERNAL, "out of memory");
        }
    }

    if (im->err.code == INBOX_OK && !im->header) {
        inbox_error_set_field(&im->err, INBOX_ERR_INVALID, "body",
                              "The file is empty: it needs a header row "
                              "naming its columns (phone, name, tags).");
    }

    if (im->err.code == INBOX_OK) {
        inbox_import_flush(im);
    }

    if (err != NULL) {
        *err = im->err;
    }

    return im->err.code;
}


static int
inbox_import_record(void *ctx, const inbox_csv_record_t *rec)
{
    inbox_import_t  *im = ctx;

    if (!im->header) {
        return inbox_import_header(im, rec);
    }

    /* a row of empty cells, as spreadsheets write the blank rows of
     * their range: no line to report */
    if (inbox_import_blank(rec)) {
        return 0;
    }

    if (++im->rows > INBOX_IMPORT_ROWS_MAX) {
        inbox_error_set(&im->err, INBOX_ERR_TOO_LARGE,
                        "An import takes at most %d rows; split the file.",
                        INBOX_IMPORT_ROWS_MAX);
        return 1;
    }

    if (im->store == NULL) {
        return 0;
    }

    return inbox_import_row(im, rec);
}


/* The names a column goes by in the exports of spreadsheets, phones
 * and CRMs, any case. */
typedef enum {
    INBOX_IMPORT_PHONE,
    INBOX_IMPORT_NAME,
    INBOX_IMPORT_FIRST_NAME,
    INBOX_IMPORT_LAST_NAME,
    INBOX_IMPORT_TAGS,
    INBOX_IMPORT_TIMEZONE
} inbox_import_column_t;

static const struct {
    const char             *name;
    inbox_import_column_t   column;
    const char             *field;      /* its name in an error */
    const char             *label;      /* and in its message */
} inbox_import_columns[] = {
    { "phone",         INBOX_IMPORT_PHONE,       "phone",      "phone" },
    { "phone number",  INBOX_IMPORT_PHONE,       "phone",      "phone" },
    { "mobile",        INBOX_IMPORT_PHONE,       "phone",      "phone" },
    { "mobile number", INBOX_IMPORT_PHONE,       "phone",      "phone" },
    { "mobile phone",  INBOX_IMPORT_PHONE,       "phone",      "phone" },
    { "cell",          INBOX_IMPORT_PHONE,       "phone",      "phone" },
    { "cell phone",    INBOX_IMPORT_PHONE,       "phone",      "phone" },
    { "telephone",     INBOX_IMPORT_PHONE,       "phone",      "phone" },
    { "name",          INBOX_IMPORT_NAME,        "name",       "name" },
    { "full name",     INBOX_IMPORT_NAME,        "name",       "name" },
    { "first name",    INBOX_IMPORT_FIRST_NAME,  "first_name", "first name" },
    { "firstname",     INBOX_IMPORT_FIRST_NAME,  "first_name", "first name" },
    { "given name",    INBOX_IMPORT_FIRST_NAME,  "first_name", "first name" },
    { "last name",     INBOX_IMPORT_LAST_NAME,   "last_name",  "last name" },
    { "lastname",      INBOX_IMPORT_LAST_NAME,   "last_name",  "last name" },
    { "family name",   INBOX_IMPORT_LAST_NAME,   "last_name",  "last name" },
    { "surname",       INBOX_IMPORT_LAST_NAME,   "last_name",  "last name" },
    { "tags",          INBOX_IMPORT_TAGS,        "tags",       "tags" },
    { "tag",           INBOX_IMPORT_TAGS,        "tags",       "tags" },
    { "timezone",      INBOX_IMPORT_TIMEZONE,    "timezone",   "timezone" },
    { "time zone",     INBOX_IMPORT_TIMEZONE,    "timezone",   "timezone" },
};


/* Where the import keeps the index of that column. */
static int *
inbox_import_column(inbox_import_t *im, inbox_import_column_t column)
{
    switch (column) {
    case INBOX_IMPORT_NAME:
        return &im->col_name;
    case INBOX_IMPORT_FIRST_NAME:
        return &im->col_first_name;
    case INBOX_IMPORT_LAST_NAME:
        return &im->col_last_name;
    case INBOX_IMPORT_TAGS:
        return &im->col_tags;
    case INBOX_IMPORT_TIMEZONE:
        return &im->col_timezone;
    default:
        return &im->col_phone;
    }
}


static int
inbox_import_header(inbox_import_t *im, const inbox_csv_record_t *rec)
{
    int          i, *col;
    size_t       len, k;
    const char  *s;

    im->header = 1;

    if (rec->too_long || rec->dropped > 0) {
        inbox_import_header_refused(im, rec);
        return 1;
    }

    for (i = 0; i < (int) rec->count; i++) {
        len = rec->lens[i];
        s = inbox_import_trim(rec->fields[i], &len);

        for (k = 0; k < sizeof(inbox_import_columns)
                        / sizeof(inbox_import_columns[0]); k++)
        {
            if (len == strlen(inbox_import_columns[k].name)
                && strncasecmp(s, inbox_import_columns[k].name, len) == 0)
            {
                break;
            }
        }

        if (k == sizeof(inbox_import_columns)
                 / sizeof(inbox_import_columns[0]))
        {
            if (inbox_import_ignore(im, rec, s, len) != 0) {
                return 1;
            }
            continue;
        }

        col = inbox_import_column(im, inbox_import_columns[k].column);

        if (*col >= 0) {
            /* taking either would drop the other's data unseen */
            inbox_error_set_field(&im->err, INBOX_ERR_INVALID,
                                  inbox_import_columns[k].field,
                                  "The first line names the %s column "
                                  "twice (columns %d and %d): keep one "
                                  "of them.",
                                  inbox_import_columns[k].label,
                                  *col + 1, i + 1);
            return 1;
        }

        *col = i;
    }

    if (im->col_phone < 0) {
        inbox_import_header_refused(im, rec);
        return 1;
    }

    return 0;
}


/* Spaces around a cell, as contact.h's rules trim them. */
static const char *
inbox_import_trim(const char *s, size_t *len)
{
    size_t  n = *len;

    while (n > 0 && memchr(" \t\r\n\f\v", *s, 6) != NULL) {
        s++;
        n--;
    }

    while (n > 0 && memchr(" \t\r\n\f\v", s[n - 1], 6) != NULL) {
        n--;
    }

    *len = n;
    return s;
}


/* A header's name no column goes by, kept for the report: the user
 * sees what was not imported ("Middle Name", "Company"). */
static int
inbox_import_ignore(inbox_import_t *im, const inbox_csv_record_t *rec,
    const char *name, size_t len)
{
    size_t  i, size;

    /* one string each in the report, whatever bytes the name holds */
    len = strnlen(name, len);

    /* an unnamed column, as spreadsheets' used ranges add */
    if (len == 0) {
        return 0;
    }

    if (im->ignored == NULL) {
        /* room for every name of the line, once */
        for (i = 0, size = 0; i < rec->count; i++) {
            size += rec->lens[i] + 1;
        }

        im->ignored = malloc(size);
        if (im->ignored == NULL) {
            inbox_error_set(&im->err, INBOX_ERR_INTERNAL, "out of memory");
            return 1;
        }
    }

    memcpy(im->ignored + im->ignored_len, name, len);
    im->ignored_len += len;
    im->ignored[im->ignored_len++] = '\0';

    return 0;
}


/* Why a first line names no phone column, in words that say what to do
 * for the two exports that most often cause it. */
static void
inbox_import_header_refused(inbox_import_t *im, const inbox_csv_record_t *rec)
{
    const char  *first;

    if (rec->too_long) {
        inbox_error_set_field(&im->err, INBOX_ERR_INVALID, "phone",
                              "The first line is longer than %d KB: it "
                              "must name the columns, with a \"phone\" "
                              "column.", INBOX_CSV_RECORD_MAX / 1024);
        return;
    }

    if (rec->dropped > 0) {
        inbox_error_set_field(&im->err, INBOX_ERR_INVALID, "phone",
                              "The first line names more than %d columns: "
                              "remove those you do not import and save "
                              "the file again.", INBOX_CSV_FIELDS_MAX);
        return;
    }

    first = rec->count > 0 ? rec->fields[0] : "";

    if ((unsigned char) first[0] == 0xff || (unsigned char) first[0] == 0xfe)
    {
        inbox_error_set_field(&im->err, INBOX_ERR_INVALID, "phone",
                              "The file is UTF-16 text: save it as \"CSV "
                              "UTF-8\" and import that.");
        return;
    }

    if (rec->count == 1 && strchr(first, ';') != NULL) {
        inbox_error_set_field(&im->err, INBOX_ERR_INVALID, "phone",
                              "The columns are separated by semicolons: "
                              "save the file as CSV with commas (\"CSV "
                              "UTF-8\") and import that.");
        return;
    }

    inbox_error_set_field(&im->err, INBOX_ERR_INVALID, "phone",
                          "The first line must name the columns, with a "
                          "\"phone\" column (and \"name\" or \"first "
                          "name\" and \"last name\", \"tags\" if you "
                          "have them).");
}


/* 1 when every field of the record is spaces or nothing. */
static int
inbox_import_blank(const inbox_csv_record_t *rec)
{
    size_t  i;

    if (rec->too_long) {
        return 0;
    }

    for (i = 0; i < rec->count; i++) {
        if (strspn(rec->fields[i], " \t") < rec->lens[i]) {
            return 0;
        }
    }

    return 1;
}


/* 1 when every column the import reads is valid UTF-8 in rec. */
static int
inbox_import_read_utf8(const inbox_import_t *im,
    const inbox_csv_record_t *rec)
{
    size_t  i;
    int     read[6];

    read[0] = im->col_phone;
    read[1] = im->col_name;
    read[2] = im->col_first_name;
    read[3] = im->col_last_name;
    read[4] = im->col_tags;
    read[5] = im->col_timezone;

    for (i = 0; i < sizeof(read) / sizeof(read[0]); i++) {
        if (read[i] >= 0 && (size_t) read[i] < rec->count
            && !inbox_utf8_valid(rec->fields[read[i]], rec->lens[read[i]]))
        {
            return 0;
        }
    }

    return 1;
}


/* One line: checked, then added to the batch or refused. */
static int
inbox_import_row(inbox_import_t *im, const inbox_csv_record_t *rec)
{
    size_t                i, start;
    const char           *tags;
    inbox_error_t         err;
    inbox_contact_row_t  *row;

    if (rec->too_long) {
        return inbox_import_refuse(im, rec->line, "the line is too long");
    }

    /* only the columns read: a spreadsheet's export in its own code page
     * (Excel's "CSV" is Windows-1252) may have accents in an ignored
     * one, and the contact is still whole */
    if (!inbox_import_read_utf8(im, rec)) {
        return inbox_import_refuse(im, rec->line,
                                   "a column imported is not valid UTF-8 "
                                   "(save the file as CSV UTF-8)");
    }

    if ((size_t) im->col_phone >= rec->count
        || rec->lens[im->col_phone] == 0)
    {
        return inbox_import_refuse(im, rec->line, "no phone number");
    }

    row = &im->batch[im->batched];
    memset(row, 0, sizeof(inbox_contact_row_t));

    /* a file people wrote: checked as a number typed (the API's import
     * and inboxctl's alike) */
    if (inbox_phone_normalize_typed(rec->fields[im->col_phone],
                                    rec->lens[im->col_phone], im->country,
                                    row->phone, &err)
        != INBOX_OK)
    {
        /* the rule's own words: "has 9 digits; a number in US has 10" */
        return inbox_import_refuse(im, rec->line, err.message);
    }

    if (inbox_import_name(im, rec, &row->name, &err) != INBOX_OK) {
        inbox_contact_row_free(row);
        return inbox_import_refuse(im, rec->line, err.message);
    }

    if (im->col_tags >= 0 && (size_t) im->col_tags < rec->count) {
        tags = rec->fields[im->col_tags];
        start = 0;

        for (i = 0; i <= rec->lens[im->col_tags]; i++) {
            if (i < rec->lens[im->col_tags] && tags[i] != ';') {
                continue;
            }

            /* "a;;b" and a trailing ";" name no empty tag */
            if (!inbox_tag_blank(tags + start, i - start)
                && inbox_tags_add(&row->tags, tags + start, i - start, &err)
                   != INBOX_OK)
            {
                inbox_contact_row_free(row);
                return inbox_import_refuse(im, rec->line, err.message);
            }

            start = i + 1;
        }
    }

    if (im->col_timezone >= 0 && (size_t) im->col_timezone < rec->count
        && inbox_import_timezone(im, rec->fields[im->col_timezone],
                                 rec->lens[im->col_timezone], row->timezone,
                                 &err)
           != INBOX_OK)
    {
        inbox_contact_row_free(row);
        return inbox_import_refuse(im, rec->line, err.message);
    }

    row->repeated = inbox_import_repeats(im, row->phone);

    if (row->repeated < 0) {
        inbox_contact_row_free(row);
        inbox_error_set(&im->err, INBOX_ERR_INTERNAL, "out of memory");
        return 1;
    }

    /* where a failed batch leaves the import: its lines before were
     * stored or refused */
    if (im->pending_line == 0) {
        im->pending_line = rec->line;
        im->pending_refused = im->invalid_count;
    }

    im->batched++;

    if (im->batched == INBOX_IMPORT_BATCH) {
        return inbox_import_flush(im);
    }

    return 0;
}


/* A row's name: its name column's, or where that is empty or missing,
 * its first and last names joined ("Ann Lee"), as exports from Outlook
 * and CRMs split it; contact.h's rule either way. */
static inbox_status_t
inbox_import_name(inbox_import_t *im, const inbox_csv_record_t *rec,
    char **out, inbox_error_t *err)
{
    char            *name;
    size_t           len, first_len, last_len;
    const char      *first, *last;
    inbox_status_t   rc;

    *out = NULL;

    if (im->col_name >= 0 && (size_t) im->col_name < rec->count) {
        rc = inbox_contact_name(rec->fields[im->col_name],
                                rec->lens[im->col_name], out, err);
        if (rc != INBOX_OK || *out != NULL) {
            return rc;
        }
    }

    first = "";
    first_len = 0;
    last = "";
    last_len = 0;

    if (im->col_first_name >= 0
        && (size_t) im->col_first_name < rec->count)
    {
        first_len = rec->lens[im->col_first_name];
        first = inbox_import_trim(rec->fields[im->col_first_name],
                                  &first_len);
    }

    if (im->col_last_name >= 0 && (size_t) im->col_last_name < rec->count) {
        last_len = rec->lens[im->col_last_name];
        last = inbox_import_trim(rec->fields[im->col_last_name], &last_len);
    }

    if (first_len == 0 && last_len == 0) {
        return INBOX_OK;
    }

    name = malloc(first_len + last_len + 2);
    if (name == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "out of memory");
    }

    memcpy(name, first, first_len);
    len = first_len;

    if (first_len > 0 && last_len > 0) {
        name[len++] = ' ';
    }

    memcpy(name + len, last, last_len);
    len += last_len;

    rc = inbox_contact_name(name, len, out, err);
    free(name);

    return rc;
}


/* A row's time zone (contact.h's rule); the last one accepted is not
 * looked up again, as a file's rows share a few zones. */
static inbox_status_t
inbox_import_timezone(inbox_import_t *im, const char *tz, size_t len,
    char out[INBOX_TIMEZONE_MAX], inbox_error_t *err)
{
    if (len > 0 && len < INBOX_TIMEZONE_MAX
        && strncmp(im->last_timezone, tz, len) == 0
        && im->last_timezone[len] == '\0')
    {
        memcpy(out, im->last_timezone, len + 1);
        return INBOX_OK;
    }

    if (inbox_contact_timezone(tz, len, out, err) != INBOX_OK) {
        return err->code;
    }

    if (out[0] != '\0' && strlen(out) == len) {
        memcpy(im->last_timezone, out, len + 1);
    }

    return INBOX_OK;
}


static int
inbox_import_refuse(inbox_import_t *im, size_t line, const char *reason)
{
    inbox_import_invalid_t  *inv;

    if (im->invalid_count < INBOX_IMPORT_INVALID_MAX) {
        inv = &im->invalid[im->invalid_count];
        inv->line = line;
        snprintf(inv->reason, sizeof(inv->reason), "%s", reason);
    }

    im->invalid_count++;

    return 0;
}


static int
inbox_import_flush(inbox_import_t *im)
{
    size_t                i;
    inbox_status_t        rc;
    inbox_import_count_t  count;

    if (im->store == NULL || im->batched == 0) {
        return 0;
    }

    memset(&count, 0, sizeof(count));

    rc = inbox_store_contacts_import(im->store, im->org_id, im->batch,
                                     im->batched, &count, im->events,
                                     &im->err);

    for (i = 0; i < im->batched; i++) {
        inbox_contact_row_free(&im->batch[i]);
    }

    im->batched = 0;

    if (rc != INBOX_OK) {
        return 1;
    }

    im->count.created += count.created;
    im->count.updated += count.updated;
    im->count.repeated += count.repeated;
    im->count.capped += count.capped;
    im->pending_line = 0;

    return 0;
}


/*
 * 1 when an earlier row of this import has the number phone (E.164), 0
 * when none has (it is noted), -1 when out of memory.  The numbers are
 * kept as keys, each its digits' value times 16 plus how many there are
 * (never 0: 0 is an empty slot), in a table open-addressed and at most
 * half full: 100,000 rows take 2 MB.
 */
static int
inbox_import_repeats(inbox_import_t *im, const char *phone)
{
    size_t       i, mask;
    uint64_t     key, digits;
    const char  *p;

    key = 0;
    digits = 0;

    for (p = phone; *p != '\0'; p++) {
        if (*p >= '0' && *p <= '9') {
            key = key * 10 + (uint64_t) (*p - '0');
            digits++;
        }
    }

    key = key * 16 + digits;

    if ((im->numbers_used + 1) * 2 > im->numbers_cap
        && inbox_import_numbers_grow(im) != 0)
    {
        return -1;
    }

    mask = im->numbers_cap - 1;

    for (i = (size_t) ((key * 0x9e3779b97f4a7c15ULL) >> 32) & mask;
         im->numbers[i] != 0;
         i = (i + 1) & mask)
    {
        if (im->numbers[i] == key) {
            return 1;
        }
    }

    im->numbers[i] = key;
    im->numbers_used++;

    return 0;
}


/* The table of numbers twice as large (1,024 slots at first), its keys
 * placed again; 0, or -1 when out of memory. */
static int
inbox_import_numbers_grow(inbox_import_t *im)
{
    size_t     i, j, cap, mask;
    uint64_t  *numbers;

    cap = im->numbers_cap != 0 ? im->numbers_cap * 2 : 1024;
    numbers = calloc(cap, sizeof(uint64_t));
    if (numbers == NULL) {
        return -1;
    }

    mask = cap - 1;

    for (i = 0; i < im->numbers_cap; i++) {
        if (im->numbers[i] == 0) {
            continue;
        }

        j = (size_t) ((im->numbers[i] * 0x9e3779b97f4a7c15ULL) >> 32) & mask;

        while (numbers[j] != 0) {
            j = (j + 1) & mask;
        }

        numbers[j] = im->numbers[i];
    }

    free(im->numbers);
    im->numbers = numbers;
    im->numbers_cap = cap;

    return 0;
}


void
inbox_import_set_events(inbox_import_t *im, inbox_event_list_t *events)
{
    im->events = events;
}


int
inbox_import_push_each(size_t n)
{
    return n <= INBOX_IMPORT_EVENTS_MAX;
}


size_t
inbox_import_stored(const inbox_import_t *im)
{
    return im->count.created + im->count.updated + im->count.repeated;
}


size_t
inbox_import_refused(const inbox_import_t *im)
{
    return im->invalid_count;
}


size_t
inbox_import_tags_capped(const inbox_import_t *im)
{
    return im->count.capped;
}


int
inbox_import_moves_zones(const inbox_import_t *im)
{
    return im->col_timezone >= 0 && inbox_import_stored(im) > 0;
}


size_t
inbox_import_stopped_at(const inbox_import_t *im)
{
    if (im->store == NULL || inbox_import_stored(im) == 0) {
        return 0;
    }

    /* no row waits: it stopped in the record being read */
    return im->pending_line != 0 ? im->pending_line : im->csv.record_line;
}


void
inbox_import_stopped_message(const inbox_import_t *im,
    const inbox_error_t *err, char *buf, size_t size)
{
    inbox_import_stopped_say(im, err != NULL ? err->message : "", buf,
                             size);
}


/* message, then what was imported before the line the import stopped
 * at and that the same file finishes it */
static void
inbox_import_stopped_say(const inbox_import_t *im, const char *message,
    char *buf, size_t size)
{
    char    repeated[64];
    size_t  n;

    if (message[0] == '\0') {
        message = "something went wrong";
    }

    n = strlen(message);

    /* a message of its own ends with a full stop, a store's not */
    /* lines with an earlier line's number are rare: named when some */
    repeated[0] = '\0';
    if (im->count.repeated > 0) {
        snprintf(repeated, sizeof(repeated), ", %zu with the number of a "
                 "line above", im->count.repeated);
    }

    snprintf(buf, size, "%s%s The lines before line %zu were imported "
             "(%zu created, %zu updated%s, %zu refused) and the import "
             "stopped there. Send the same file again to finish it: the "
             "contacts already imported are updated, not duplicated.",
             message, n > 0 && message[n - 1] == '.' ? "" : ".",
             inbox_import_stopped_at(im), im->count.created,
             im->count.updated, repeated, inbox_import_stopped_refused(im));
}


char *
inbox_import_render_stopped(const inbox_import_t *im,
    const inbox_error_t *err, size_t *len)
{
    char      message[INBOX_IMPORT_STOPPED_MAX];
    yajl_gen  g;

    /* a client's words: the store's own are for the server's log */
    inbox_import_stopped_say(im, inbox_error_client_message(err), message,
                             sizeof(message));

    g = inbox_json_begin();
    if (g == NULL) {
        return NULL;
    }

    inbox_json_error_open(g, err, message);

    inbox_json_key(g, "stopped_at_line");
    inbox_json_int(g, (int64_t) inbox_import_stopped_at(im));
    inbox_import_report(im, g, inbox_import_stopped_refused(im));

    yajl_gen_map_close(g);
    yajl_gen_map_close(g);

    return inbox_json_finish(g, len);
}


char *
inbox_import_render(const inbox_import_t *im, size_t *len)
{
    yajl_gen  g;

    g = inbox_json_begin();
    if (g == NULL) {
        return NULL;
    }

    yajl_gen_map_open(g);
    inbox_import_report(im, g, im->invalid_count);
    yajl_gen_map_close(g);

    return inbox_json_finish(g, len);
}


/* The lines refused before the line an import stopped at. */
static size_t
inbox_import_stopped_refused(const inbox_import_t *im)
{
    return im->pending_line != 0 ? im->pending_refused : im->invalid_count;
}


/* The report's keys, into an open map: the first refused lines up to
 * refused of them. */
static void
inbox_import_report(const inbox_import_t *im, yajl_gen g, size_t refused)
{
    size_t  i, n;

    inbox_json_key(g, "created");
    inbox_json_int(g, (int64_t) im->count.created);
    inbox_json_key(g, "updated");
    inbox_json_int(g, (int64_t) im->count.updated);
    inbox_json_key(g, "repeated");
    inbox_json_int(g, (int64_t) im->count.repeated);
    inbox_json_key(g, "tags_capped");
    inbox_json_int(g, (int64_t) im->count.capped);

    inbox_json_key(g, "invalid");
    yajl_gen_array_open(g);

    n = refused < INBOX_IMPORT_INVALID_MAX ? refused
                                           : INBOX_IMPORT_INVALID_MAX;

    for (i = 0; im->invalid != NULL && i < n; i++) {
        yajl_gen_map_open(g);
        inbox_json_key(g, "line");
        inbox_json_int(g, (int64_t) im->invalid[i].line);
        inbox_json_key(g, "reason");
        inbox_json_string(g, im->invalid[i].reason);
        yajl_gen_map_close(g);
    }

    yajl_gen_array_close(g);
    inbox_json_key(g, "invalid_count");
    inbox_json_int(g, (int64_t) refused);

    inbox_json_key(g, "ignored_columns");
    yajl_gen_array_open(g);

    for (i = 0; i < im->ignored_len; i += strlen(im->ignored + i) + 1) {
        inbox_json_string(g, im->ignored + i);
    }

    yajl_gen_array_close(g);

    /* a number without a country code was read as this country's */
    inbox_json_key(g, "country");
    inbox_json_string(g, im->country);
}
