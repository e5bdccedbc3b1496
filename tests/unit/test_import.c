/*
 * CSV reading and the contact rules an import applies, without a store:
 * records split anywhere in the input come out the same, quoted fields
 * keep commas, quotes and line breaks, line numbers are those a person
 * sees in the file, and names, tags and time zones follow contact.h;
 * then an import into an SQLite store, for what the report and the
 * contacts show, also of an import a failing batch stopped partway.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include <inbox/contact.h>
#include <inbox/csv.h>
#include <inbox/import.h>
#include <inbox/store.h>
#include "check.h"


typedef struct {
    char    out[16384];
    size_t  records;
} sink_t;


/* Each record as "LINE:field|field|...;" */
static int
sink(void *ctx, const inbox_csv_record_t *rec)
{
    size_t   i, n;
    sink_t  *s = ctx;

    n = strlen(s->out);
    n += snprintf(s->out + n, sizeof(s->out) - n, "%zu:", rec->line);

    for (i = 0; i < rec->count; i++) {
        n += snprintf(s->out + n, sizeof(s->out) - n, "%s%.*s",
                      i ? "|" : "", (int) rec->lens[i], rec->fields[i]);
    }

    if (rec->dropped > 0) {
        n += snprintf(s->out + n, sizeof(s->out) - n, "(%zu dropped)",
                      rec->dropped);
    }

    if (rec->too_long) {
        n += snprintf(s->out + n, sizeof(s->out) - n, "(too long)");
    }

    snprintf(s->out + n, sizeof(s->out) - n, ";");
    s->records++;

    return 0;
}


/* Feeds text in pieces of step bytes. */
static int
read_csv(const char *text, size_t step, sink_t *s)
{
    int          rc;
    size_t       i, len, n;
    inbox_csv_t  csv;

    memset(s, 0, sizeof(sink_t));
    inbox_csv_init(&csv, sink, s);
    len = strlen(text);
    rc = 0;

    for (i = 0; rc == 0 && i < len; i += n) {
        n = len - i < step ? len - i : step;
        rc = inbox_csv_feed(&csv, text + i, n);
    }

    if (rc == 0) {
        rc = inbox_csv_finish(&csv);
    }

    inbox_csv_free(&csv);

    return rc;
}


TEST(csv_records_are_the_same_however_the_input_is_split)
{
    size_t       step;
    sink_t       s;
    const char  *text = "\xef\xbb\xbfphone,name\r\n"
                        "+1555,\"Lee, Ann\"\r\n"
                        "\r\n"
                        "2,\"say \"\"hi\"\"\nthere\",x\n"
                        "3,,\n"
                        "4";
    const char  *want = "1:phone|name;2:+1555|Lee, Ann;"
                        "4:2|say \"hi\"\nthere|x;6:3||;7:4;";

    for (step = 1; step <= strlen(text); step++) {
        CHECK_INT(read_csv(text, step, &s), 0);
        CHECK_STR(s.out, want);
    }
}


TEST(csv_reads_what_spreadsheets_write)
{
    size_t  step;
    sink_t  s;

    for (step = 1; step <= 8; step++) {
        /* CR alone ends lines, also inside a quoted field */
        CHECK_INT(read_csv("p,n\r1,\"a\rb\"\r2,c\r\"x\r\n\ny\"\r3", step,
                           &s), 0);
        CHECK_STR(s.out, "1:p|n;2:1|a\rb;4:2|c;5:x\r\n\ny;8:3;");

        /* spaces before a quote: quoted; elsewhere kept */
        CHECK_INT(read_csv("1, \"Lee, Ann\", vip\n", step, &s), 0);
        CHECK_STR(s.out, "1:1|Lee, Ann| vip;");
    }
}


TEST(csv_an_unclosed_quote_is_an_error_and_a_huge_line_is_flagged)
{
    char    *big;
    sink_t   s;

    CHECK_INT(read_csv("a\n\"open,b\n", 3, &s), -2);
    CHECK_STR(s.out, "1:a;");

    big = malloc(INBOX_CSV_RECORD_MAX + 16);
    memset(big, 'x', INBOX_CSV_RECORD_MAX + 8);
    memcpy(big + INBOX_CSV_RECORD_MAX + 8, "\nok\n", 5);
    CHECK_INT(read_csv(big, 4096, &s), 0);
    CHECK_STR(s.out, "1:(too long);2:ok;");
    free(big);

    /* a lone start of a BOM is data */
    CHECK_INT(read_csv("\xef" "a,b\n", 1, &s), 0);
    CHECK_STR(s.out, "1:\xef" "a|b;");
}


/* What Outlook's "Export to a file" writes first: 92 columns, each
 * name quoted, the mobile number in the 41st. */
static const char  *outlook[] = {
    "Title", "First Name", "Middle Name", "Last Name", "Suffix", "Company",
    "Department", "Job Title", "Business Street", "Business Street 2",
    "Business Street 3", "Business City", "Business State",
    "Business Postal Code", "Business Country/Region", "Home Street",
    "Home Street 2", "Home Street 3", "Home City", "Home State",
    "Home Postal Code", "Home Country/Region", "Other Street",
    "Other Street 2", "Other Street 3", "Other City", "Other State",
    "Other Postal Code", "Other Country/Region", "Assistant's Phone",
    "Business Fax", "Business Phone", "Business Phone 2", "Callback",
    "Car Phone", "Company Main Phone", "Home Fax", "Home Phone",
    "Home Phone 2", "ISDN", "Mobile Phone", "Other Fax", "Other Phone",
    "Pager", "Primary Phone", "Radio Phone", "TTY/TDD Phone", "Telex",
    "Account", "Anniversary", "Assistant's Name", "Billing Information",
    "Birthday", "Business Address PO Box", "Categories", "Children",
    "Directory Server", "E-mail Address", "E-mail Type",
    "E-mail Display Name", "E-mail 2 Address", "E-mail 2 Type",
    "E-mail 2 Display Name", "E-mail 3 Address", "E-mail 3 Type",
    "E-mail 3 Display Name", "Gender", "Government ID Number", "Hobby",
    "Home Address PO Box", "Initials", "Internet Free/Busy", "Keywords",
    "Language", "Location", "Manager's Name", "Mileage", "Notes",
    "Office Location", "Organizational ID Number", "Other Address PO Box",
    "Priority", "Private", "Profession", "Referred By", "Sensitivity",
    "Spouse", "User 1", "User 2", "User 3", "User 4", "Web Page"
};

#define OUTLOOK_COLUMNS  (sizeof(outlook) / sizeof(outlook[0]))


/* The Outlook header, then for each of the n people a row as Outlook
 * writes it: first and last name, mobile number, the rest empty. */
static char *
outlook_csv(const char *people[][3], size_t n)
{
    char    *csv;
    size_t   i, k, len;

    csv = malloc(4096 + n * 512);
    if (csv == NULL) {
        return NULL;
    }

    len = 0;
    for (k = 0; k < OUTLOOK_COLUMNS; k++) {
        len += sprintf(csv + len, "%s\"%s\"", k ? "," : "", outlook[k]);
    }
    len += sprintf(csv + len, "\r\n");

    for (i = 0; i < n; i++) {
        for (k = 0; k < OUTLOOK_COLUMNS; k++) {
            len += sprintf(csv + len, "%s\"%s\"", k ? "," : "",
                           k == 1 ? people[i][0] : k == 3 ? people[i][1]
                           : k == 40 ? people[i][2]
                           : k == 81 ? "Normal" : "");
        }
        len += sprintf(csv + len, "\r\n");
    }

    return csv;
}


TEST(csv_a_record_keeps_a_thousand_fields_and_counts_those_past)
{
    char    *line, *csv;
    size_t   i, len;
    sink_t   s;

    /* an Outlook export's 92 columns, split anywhere */
    csv = outlook_csv(NULL, 0);
    CHECK(csv != NULL);
    for (i = 1; csv != NULL && i <= 64; i *= 4) {
        CHECK_INT(read_csv(csv, i, &s), 0);
        CHECK(strncmp(s.out, "1:Title|First Name|Middle Name|", 31) == 0);
        CHECK(strstr(s.out, "|Mobile Phone|Other Fax|") != NULL);
        CHECK(strstr(s.out, "|User 4|Web Page;") != NULL);
    }
    free(csv);

    /* a field past the 1,024th with something in it is dropped and
     * counted; empty ones there (a spreadsheet's used range) are dropped
     * unseen; no line is too long for its fields, only for its bytes */
    line = malloc(8 * 1100 + 16);
    CHECK(line != NULL);
    if (line == NULL) {
        return;
    }

    len = 0;
    for (i = 0; i < INBOX_CSV_FIELDS_MAX; i++) {
        len += sprintf(line + len, i ? ",%zu" : "%zu", i + 1);
    }

    strcpy(line + len, ",,x,,\nc");
    CHECK_INT(read_csv(line, 7, &s), 0);
    CHECK(strncmp(s.out, "1:1|2|3|", 8) == 0);
    CHECK(strstr(s.out, "|1023|1024(1 dropped);2:c;") != NULL);

    strcpy(line + len, ",,,,,\nc");
    CHECK_INT(read_csv(line, 5, &s), 0);
    CHECK(strstr(s.out, "|1023|1024;2:c;") != NULL);

    free(line);
}


TEST(tags_are_trimmed_unique_in_any_case_and_bounded)
{
    int            i;
    char           tag[16], accents[80];
    inbox_tags_t   tags;
    inbox_error_t  err;

    memset(&tags, 0, sizeof(tags));
    CHECK_INT(inbox_tags_add(&tags, "  VIP ", 6, &err), INBOX_OK);
    CHECK_INT(inbox_tags_add(&tags, "vip", 3, &err), INBOX_OK);
    CHECK_INT(tags.count, 1);
    CHECK_STR(tags.items[0], "VIP");
    CHECK_INT(inbox_tags_add(&tags, " ", 1, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "tags");
    /* 40 characters, not bytes */
    for (i = 0; i < 40; i++) {
        memcpy(accents + 2 * i, "\xc3\xa9", 2);
    }
    CHECK_INT(inbox_tags_add(&tags, accents, 80, &err), INBOX_OK);
    CHECK_INT(inbox_tags_add(&tags, "12345678901234567890123456789012345678"
                             "901", 41, &err), INBOX_ERR_INVALID);
    CHECK_INT(inbox_tags_add(&tags, "a\tb", 3, &err), INBOX_ERR_INVALID);

    for (i = 0; tags.count < INBOX_TAGS_MAX; i++) {
        snprintf(tag, sizeof(tag), "t%d", i);
        CHECK_INT(inbox_tags_add(&tags, tag, strlen(tag), &err), INBOX_OK);
    }
    CHECK_INT(inbox_tags_add(&tags, "one more", 8, &err), INBOX_ERR_INVALID);
    CHECK_INT(inbox_tags_add(&tags, "Vip", 3, &err), INBOX_OK);
    CHECK_INT(tags.count, INBOX_TAGS_MAX);

    inbox_tags_free(&tags);
}


/* A tag refused, naming the field tags, in words that contain part. */
static void
check_tag_refused(const char *tag, const char *part)
{
    inbox_tags_t   tags;
    inbox_error_t  err;

    memset(&tags, 0, sizeof(tags));
    memset(&err, 0, sizeof(err));
    CHECK_INT(inbox_tags_add(&tags, tag, strlen(tag), &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "tags");
    if (strstr(err.message, part) == NULL) {
        fprintf(stderr, "tag \"%s\": \"%s\" lacks \"%s\"\n", tag,
                err.message, part);
        CHECK(0);
    }
    CHECK_INT(tags.count, 0);
    inbox_tags_free(&tags);
}


TEST(a_tag_holds_nothing_an_import_splits_or_that_hides_or_reorders_text)
{
    size_t         i;
    inbox_tags_t   tags;
    inbox_error_t  err;
    static const char  *fine[] = {
        "Donor, 2024",              /* a comma: the import keeps it */
        "caf\xc3\xa9",              /* é */
        "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d",      /* Hebrew, right to left */
        "a\xc2\xa0" "b",            /* a no-break space between letters */
        "\xe2\x98\x85 VIP",         /* ★ */
        /* joiners inside: a family emoji, a Persian word with its
         * non-joiner, and a subdivision flag's tag characters */
        "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d"
        "\xf0\x9f\x91\xa7",
        "\xd9\x85\xdb\x8c\xe2\x80\x8c\xd8\xae\xd9\x88\xd8\xa7\xd9\x87"
        "\xd9\x85",
        "\xf0\x9f\x8f\xb4\xf3\xa0\x81\xa7\xf3\xa0\x81\xa2\xf3\xa0\x81\xb3"
        "\xf3\xa0\x81\xa3\xf3\xa0\x81\xb4\xf3\xa0\x81\xbf",
    };

    /* a CSV import reads "a;b" as two tags */
    check_tag_refused("a;b", "\";\"");
    check_tag_refused(";", "\";\"");

    /* C1 controls, as C0 and DEL */
    check_tag_refused("a\xc2\x80" "b", "control");         /* U+0080 */
    check_tag_refused("a\xc2\x9f" "b", "control");         /* U+009F */
    check_tag_refused("a\xc2\x85" "b", "control");         /* NEL */
    check_tag_refused("a\x7f" "b", "control");

    /* bidi embeddings, overrides, isolates, marks; zero-width ones; the
     * word joiner, the BOM; line and paragraph separators */
    check_tag_refused("vip\xe2\x80\xae" "pil", "U+202E");
    check_tag_refused("\xe2\x80\xaa" "vip", "U+202A");
    check_tag_refused("vip\xe2\x81\xa6", "U+2066");
    check_tag_refused("vip\xe2\x81\xa9", "U+2069");
    check_tag_refused("v\xe2\x80\x8bip", "U+200B");
    check_tag_refused("\xe2\x80\x8dvip", "U+200D");  /* a joiner first */
    check_tag_refused("vip\xe2\x80\x8c", "U+200C");  /* or last */
    check_tag_refused("vip\xe2\x80\x8f", "U+200F");
    check_tag_refused("v\xe2\x81\xa0ip", "U+2060");
    check_tag_refused("\xef\xbb\xbfvip", "U+FEFF");
    check_tag_refused("a\xe2\x80\xa8" "b", "U+2028");
    check_tag_refused("a\xe2\x80\xa9" "b", "U+2029");

    /* nothing to see once trimmed: no-break, ideographic spaces, a
     * Hangul filler */
    check_tag_refused("\xc2\xa0", "empty");
    check_tag_refused(" \xc2\xa0\xc2\xa0 ", "empty");
    check_tag_refused("\xe3\x80\x80", "empty");
    check_tag_refused("\xe3\x85\xa4", "invisible");
    check_tag_refused("\xe2\x80\x8b\xe2\x80\x8b", "U+200B");

    /* bytes that are not UTF-8 (inboxctl's arguments are not checked
     * before) */
    check_tag_refused("a\xff", "UTF-8");

    memset(&tags, 0, sizeof(tags));
    for (i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
        CHECK_INT(inbox_tags_add(&tags, fine[i], strlen(fine[i]), &err),
                  INBOX_OK);
        CHECK_STR(tags.items[i], fine[i]);
    }

    /* Unicode's white space trimmed off the ends: one tag, not a
     * second that looks like it */
    CHECK_INT(inbox_tags_add(&tags, "\xe3\x80\x80Vip\xc2\xa0", 8, &err),
              INBOX_OK);
    CHECK_INT(inbox_tags_add(&tags, "vip", 3, &err), INBOX_OK);
    CHECK_INT(tags.count, i + 1);
    CHECK_STR(tags.items[i], "Vip");
    i++;

    /* an audience names tags that exist, some from before the rule:
     * trimmed, and refused only when empty */
    CHECK_INT(inbox_tags_add_named(&tags, " a;b\xc2\xa0", 6, &err),
              INBOX_OK);
    CHECK_STR(tags.items[i], "a;b");
    CHECK_INT(inbox_tags_add_named(&tags, "\xc2\xa0", 2, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "tags");
    inbox_tags_free(&tags);
    memset(&tags, 0, sizeof(tags));
    i = 0;

    /* a tag stored before the rule is read back as it is */
    CHECK_INT(inbox_tags_add_stored(&tags, "a;b", &err), INBOX_OK);
    CHECK_INT(inbox_tags_add_stored(&tags, "vip\xe2\x80\xae", &err),
              INBOX_OK);
    CHECK_INT(inbox_tags_add_stored(&tags, "VIP\xe2\x80\xae", &err),
              INBOX_OK);
    CHECK_INT(tags.count, i + 2);
    CHECK_STR(tags.items[i], "a;b");
    CHECK_STR(tags.items[i + 1], "vip\xe2\x80\xae");

    inbox_tags_free(&tags);
}


TEST(a_name_is_trimmed_empty_is_none_and_long_is_refused)
{
    char           *name, long_name[102];
    inbox_error_t   err;

    CHECK_INT(inbox_contact_name("  Ann Lee ", 10, &name, &err), INBOX_OK);
    CHECK_STR(name, "Ann Lee");
    free(name);
    CHECK_INT(inbox_contact_name("   ", 3, &name, &err), INBOX_OK);
    CHECK(name == NULL);
    memset(long_name, 'a', 101);
    long_name[101] = '\0';
    CHECK_INT(inbox_contact_name(long_name, 101, &name, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "name");
    CHECK_INT(inbox_contact_name(long_name, 100, &name, &err), INBOX_OK);
    free(name);
}


TEST(a_time_zone_is_a_tz_database_zone_quiet_hours_can_read)
{
    char           tz[INBOX_TIMEZONE_MAX];
    inbox_error_t  err;

    CHECK_INT(inbox_contact_timezone(" Asia/Tokyo ", 12, tz, &err),
              INBOX_OK);
    CHECK_STR(tz, "Asia/Tokyo");
    CHECK_INT(inbox_contact_timezone("America/New_York", 16, tz, &err),
              INBOX_OK);
    CHECK_STR(tz, "America/New_York");
    CHECK_INT(inbox_contact_timezone("  ", 2, tz, &err), INBOX_OK);
    CHECK_STR(tz, "");
    CHECK_INT(inbox_contact_timezone(NULL, 0, tz, &err), INBOX_OK);
    CHECK_STR(tz, "");

    /* not a zone, a directory, a table, a way out, an ICU alias only */
    CHECK_INT(inbox_contact_timezone("Mars/Base", 9, tz, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "timezone");
    CHECK_STR(tz, "");
    CHECK_INT(inbox_contact_timezone("America", 7, tz, &err),
              INBOX_ERR_INVALID);
    CHECK_INT(inbox_contact_timezone("zone.tab", 8, tz, &err),
              INBOX_ERR_INVALID);
    CHECK_INT(inbox_contact_timezone("../../etc/passwd", 16, tz, &err),
              INBOX_ERR_INVALID);
    CHECK_INT(inbox_contact_timezone("PST", 3, tz, &err),
              INBOX_ERR_INVALID);
}


TEST(the_check_pass_refuses_whole_requests_and_stores_nothing)
{
    inbox_error_t    err;
    inbox_import_t  *im;

    im = inbox_import_new(NULL, "1", "US");
    CHECK_INT(inbox_import_feed(im, "name,tags\nAnn,x\n", 16, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "phone");
    inbox_import_free(im);

    im = inbox_import_new(NULL, "1", "US");
    CHECK_INT(inbox_import_finish(im, &err), INBOX_ERR_INVALID);
    inbox_import_free(im);

    im = inbox_import_new(NULL, "1", "US");
    CHECK_INT(inbox_import_feed(im, " Phone ,x\n", 10, &err), INBOX_OK);
    CHECK_INT(inbox_import_finish(im, &err), INBOX_OK);
    inbox_import_free(im);
}


TEST(a_header_is_read_by_the_names_exports_use_and_a_wrong_one_says_why)
{
    size_t           i;
    inbox_error_t    err;
    inbox_import_t  *im;
    static const struct {
        const char  *csv;
        size_t       len;
        const char  *says;          /* NULL: taken */
        const char  *field;
    } cases[] = {
        { "Mobile Number,Full Name,Tag\n", 28, NULL, "" },
        { "Cell Phone\n", 11, NULL, "" },
        { "Telephone,Time Zone\n", 20, NULL, "" },
        { "Phone;Name;Tags\n2125550111;Ann;x\n", 34, "semicolons",
          "phone" },
        { "\xff\xfep\0h\0o\0n\0e\0\n\0", 14, "UTF-16", "phone" },
        { "Number,Name\n", 12, "\"phone\" column", "phone" },
        /* a column named twice: taking one would drop the other */
        { "phone,name,Phone\n", 17, "phone column twice (columns 1 and 3)",
          "phone" },
        { "phone,Name, NAME \n", 18, "name column twice", "name" },
        { "Mobile,Phone Number\n", 20, "phone column twice", "phone" },
        { "phone,tag,Tags\n", 15, "tags column twice", "tags" },
        { "phone,timezone,Time Zone\n", 25, "timezone column twice",
          "timezone" },
        { "First Name,phone,Given Name\n", 28,
          "first name column twice (columns 1 and 3)", "first_name" },
        { "Surname,phone,Last Name\n", 24, "last name column twice",
          "last_name" },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        im = inbox_import_new(NULL, "1", "US");
        memset(&err, 0, sizeof(err));
        if (inbox_import_feed(im, cases[i].csv, cases[i].len, &err)
            == INBOX_OK)
        {
            (void) inbox_import_finish(im, &err);
        }
        if (cases[i].says == NULL) {
            CHECK_INT(err.code, INBOX_OK);
        } else {
            CHECK_INT(err.code, INBOX_ERR_INVALID);
            CHECK(strstr(err.message, cases[i].says) != NULL);
        }
        CHECK_STR(err.field, cases[i].field);
        inbox_import_free(im);
    }
}


/* The check pass over csv: its error, and its report in *report. */
static inbox_status_t
check_pass(const char *csv, size_t len, inbox_error_t *err, char **report)
{
    inbox_import_t  *im;

    im = inbox_import_new(NULL, "1", "US");
    memset(err, 0, sizeof(inbox_error_t));
    if (inbox_import_feed(im, csv, len, err) == INBOX_OK) {
        (void) inbox_import_finish(im, err);
    }
    *report = inbox_import_render(im, NULL);
    inbox_import_free(im);

    return err->code;
}


TEST(a_header_of_many_columns_is_read_and_says_what_it_ignores)
{
    char           *csv, *report;
    size_t          i, len;
    inbox_error_t   err;

    /* Outlook's 92 columns; all but three named in the report */
    csv = outlook_csv(NULL, 0);
    CHECK(csv != NULL);
    if (csv == NULL) {
        return;
    }

    CHECK_INT(check_pass(csv, strlen(csv), &err, &report), INBOX_OK);
    CHECK(report != NULL && strstr(report, "\"ignored_columns\":[\"Title\","
                                   "\"Middle Name\",\"Suffix\",") != NULL);
    CHECK(report != NULL && strstr(report, "\"User 4\",\"Web Page\"],")
                            != NULL);
    CHECK(report != NULL && strstr(report, "\"Mobile Phone\"") == NULL);
    CHECK(report != NULL && strstr(report, "\"First Name\"") == NULL);
    CHECK(report != NULL && strstr(report, "\"Last Name\"") == NULL);
    free(report);
    free(csv);

    csv = malloc(INBOX_CSV_RECORD_MAX + 64);
    CHECK(csv != NULL);
    if (csv == NULL) {
        return;
    }

    /* a CRM's 73 columns, the number in the third */
    len = sprintf(csv, "Id,Owner,Mobile Phone");
    for (i = 3; i < 73; i++) {
        len += sprintf(csv + len, ",Field %zu", i + 1);
    }
    len += sprintf(csv + len, "\n1,me,2125550111\n");
    CHECK_INT(check_pass(csv, len, &err, &report), INBOX_OK);
    CHECK(report != NULL && strstr(report, "\"Id\",\"Owner\",\"Field 4\",")
                            != NULL);
    free(report);

    /* 65 columns, phone first */
    len = sprintf(csv, "phone");
    for (i = 1; i < 65; i++) {
        len += sprintf(csv + len, ",c%zu", i + 1);
    }
    CHECK_INT(check_pass(csv, len, &err, &report), INBOX_OK);
    free(report);

    /* more than the 1,024 columns a line keeps, and a first line over
     * 64 KB: refused, saying so */
    len = sprintf(csv, "phone");
    for (i = 1; i < 1100; i++) {
        len += sprintf(csv + len, ",c%zu", i + 1);
    }
    CHECK_INT(check_pass(csv, len, &err, &report), INBOX_ERR_INVALID);
    CHECK(strstr(err.message, "more than 1024 columns") != NULL);
    free(report);

    memset(csv, 'x', INBOX_CSV_RECORD_MAX + 8);
    memcpy(csv, "phone,", 6);
    CHECK_INT(check_pass(csv, INBOX_CSV_RECORD_MAX + 8, &err, &report),
              INBOX_ERR_INVALID);
    CHECK(strstr(err.message, "longer than 64 KB") != NULL);
    free(report);

    free(csv);
}


/* A new SQLite store in $TMPDIR with one organization, for an import. */
static inbox_store_t *
store_new(char path[256], char org[INBOX_ID_MAX])
{
    char            uri[300];
    const char     *dir;
    inbox_store_t  *store;

    dir = getenv("TMPDIR");
    snprintf(path, 256, "%s/inbox-test-import-%ld.db",
             dir != NULL && dir[0] != '\0' ? dir : "/tmp", (long) getpid());
    snprintf(uri, sizeof(uri), "sqlite:%s", path);
    unlink(path);

    store = inbox_store_create(uri, NULL);
    if (store != NULL
        && inbox_store_org_create(store, "Acme", "UTC", org, NULL)
           != INBOX_OK)
    {
        inbox_store_close(store);
        return NULL;
    }

    return store;
}


static void
store_remove(inbox_store_t *store, const char *path)
{
    char         name[300];
    const char  *ext[] = { "", "-wal", "-shm", "-writer" };
    size_t       i;

    inbox_store_close(store);
    for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
        snprintf(name, sizeof(name), "%s%s", path, ext[i]);
        unlink(name);
    }
}


/* Both passes, as the route makes them; the report in *report. */
static inbox_status_t
import(inbox_store_t *store, const char *org, const char *csv,
    char **report)
{
    inbox_error_t    err;
    inbox_import_t  *im;

    *report = NULL;
    if (check_pass(csv, strlen(csv), &err, report) != INBOX_OK) {
        return err.code;
    }
    free(*report);

    im = inbox_import_new(store, org, "US");
    if (inbox_import_feed(im, csv, strlen(csv), &err) == INBOX_OK) {
        (void) inbox_import_finish(im, &err);
    }
    *report = inbox_import_render(im, NULL);
    inbox_import_free(im);

    return err.code;
}


/* The name of the contact with that number; "(none)" for none. */
static void
name_of(inbox_store_t *store, const char *org, const char *phone,
    char *out, size_t size)
{
    size_t                 i;
    inbox_contact_page_t   page;
    inbox_contact_query_t  q;

    memset(&q, 0, sizeof(q));
    q.limit = 200;
    snprintf(out, size, "(no contact)");

    if (inbox_store_contacts_list(store, org, &q, &page, NULL) != INBOX_OK) {
        return;
    }

    for (i = 0; i < page.count; i++) {
        if (strcmp(page.items[i].phone, phone) == 0) {
            snprintf(out, size, "%s", page.items[i].name != NULL
                                      ? page.items[i].name : "(none)");
        }
    }

    inbox_contact_page_free(&page);
}


TEST(first_and_last_names_make_the_name_and_the_report_lists_the_rest)
{
    char            *csv, *report, path[256], org[INBOX_ID_MAX], name[128];
    inbox_store_t   *store;

    static const char  *people[][3] = {
        { "Ann", "Lee", "(555) 201-0101" },
        { "", " Cher ", "(555) 201-0102" },
        { "Bo", "", "(555) 201-0103" },
        { "", "", "(555) 201-0104" },
    };

    store = store_new(path, org);
    CHECK(store != NULL);
    if (store == NULL) {
        return;
    }

    /* an Outlook export as it is */
    csv = outlook_csv(people, 4);
    CHECK(csv != NULL);
    CHECK_INT(import(store, org, csv, &report), INBOX_OK);
    CHECK(report != NULL && strncmp(report, "{\"created\":4,\"updated\":0,"
                                    "\"repeated\":0,\"tags_capped\":0,"
                                    "\"invalid\":[],\"invalid_count\":0,"
                                    "\"ignored_columns\":[\"Title\","
                                    "\"Middle Name\",", 126) == 0);
    free(report);
    free(csv);

    name_of(store, org, "+15552010101", name, sizeof(name));
    CHECK_STR(name, "Ann Lee");
    name_of(store, org, "+15552010102", name, sizeof(name));
    CHECK_STR(name, "Cher");
    name_of(store, org, "+15552010103", name, sizeof(name));
    CHECK_STR(name, "Bo");
    name_of(store, org, "+15552010104", name, sizeof(name));
    CHECK_STR(name, "(none)");

    /* the reviewer's three columns */
    CHECK_INT(import(store, org, "First Name,Last Name,Mobile Phone\r\n"
                     "Ann,Lee,(555) 201-0105", &report), INBOX_OK);
    CHECK_STR(report, "{\"created\":1,\"updated\":0,\"repeated\":0,"
              "\"tags_capped\":0,"
              "\"invalid\":[],"
              "\"invalid_count\":0,\"ignored_columns\":[],"
              "\"country\":\"US\"}");
    free(report);
    name_of(store, org, "+15552010105", name, sizeof(name));
    CHECK_STR(name, "Ann Lee");

    /* a name column and first and last ones: the name where it has one,
     * else the first and last names; a joined name too long is the
     * name's rule's refusal */
    CHECK_INT(import(store, org, "Name,Given Name,Family Name,phone,Notes\n"
                     "Dr. Ann Lee,Ann,Lee,(555) 201-0106,x\n"
                     ",Bo,Diaz,(555) 201-0107,y\n"
                     ",Al,Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa,"
                     "(555) 201-0108,z\n", &report), INBOX_OK);
    CHECK_STR(report, "{\"created\":2,\"updated\":0,\"repeated\":0,"
              "\"tags_capped\":0,"
              "\"invalid\":[{\"line\":4,"
              "\"reason\":\"A name has at most 100 characters.\"}],"
              "\"invalid_count\":1,\"ignored_columns\":[\"Notes\"],"
              "\"country\":\"US\"}");
    free(report);
    name_of(store, org, "+15552010106", name, sizeof(name));
    CHECK_STR(name, "Dr. Ann Lee");
    name_of(store, org, "+15552010107", name, sizeof(name));
    CHECK_STR(name, "Bo Diaz");

    store_remove(store, path);
}


TEST(an_import_refuses_a_line_whose_tags_the_rule_refuses_in_its_words)
{
    char            *report, path[256], org[INBOX_ID_MAX];
    inbox_store_t   *store;

    store = store_new(path, org);
    CHECK(store != NULL);
    if (store == NULL) {
        return;
    }

    /* ";" separates, and a piece of white space alone (a no-break space
     * too) names no tag; a tag with a bidi override is the line's
     * refusal */
    CHECK_INT(import(store, org, "phone,tags\n"
                     "(555) 201-0301,vip;;Donor\n"
                     "(555) 201-0302,vip;\xc2\xa0\n"
                     "(555) 201-0303,\xe2\x80\xaeVIP\n", &report),
              INBOX_OK);
    CHECK_STR(report, "{\"created\":2,\"updated\":0,\"repeated\":0,"
              "\"tags_capped\":0,"
              "\"invalid\":["
              "{\"line\":4,\"reason\":\"A tag cannot hold invisible "
              "characters such as zero-width spaces, direction marks or "
              "line separators (it holds U+202E).\"}],"
              "\"invalid_count\":1,\"ignored_columns\":[],"
              "\"country\":\"US\"}");
    free(report);

    store_remove(store, path);
}


/*
 * Excel's "CSV (Comma delimited)" is in Windows-1252: an accent in a
 * column not imported leaves the contact whole; one in a column read is
 * the line's refusal, saying how to save the file.
 */
TEST(an_accent_of_another_code_page_refuses_only_a_column_imported)
{
    char            *report, path[256], org[INBOX_ID_MAX], name[64];
    inbox_store_t   *store;

    store = store_new(path, org);
    CHECK(store != NULL);
    if (store == NULL) {
        return;
    }

    CHECK_INT(import(store, org, "phone,name,company\r\n"
                     "5552010010,Ann Lee,Soci\xe9t\xe9 G\xe9n\xe9rale\r\n"
                     "5552010011,Ren\xe9 Roy,Acme\r\n", &report),
              INBOX_OK);
    CHECK_STR(report, "{\"created\":1,\"updated\":0,\"repeated\":0,"
              "\"tags_capped\":0,"
              "\"invalid\":["
              "{\"line\":3,\"reason\":\"a column imported is not valid "
              "UTF-8 (save the file as CSV UTF-8)\"}],"
              "\"invalid_count\":1,\"ignored_columns\":[\"company\"],"
              "\"country\":\"US\"}");
    free(report);
    name_of(store, org, "+15552010010", name, sizeof(name));
    CHECK_STR(name, "Ann Lee");

    store_remove(store, path);
}


/*
 * A number twice in a file is one contact: the second line is applied to
 * it (its name replaces, its tags are added) and counted repeated, not
 * updated, whether the number was new or a contact already, and however
 * far apart the lines are (another batch).
 */
TEST(a_number_twice_in_a_file_is_counted_repeated_not_updated)
{
    char            *csv, *report, *p, path[256], org[INBOX_ID_MAX];
    char             name[128];
    size_t           i;
    inbox_store_t   *store;

    store = store_new(path, org);
    CHECK(store != NULL);
    csv = malloc((INBOX_IMPORT_BATCH + 8) * 64);
    CHECK(csv != NULL);
    if (store == NULL || csv == NULL) {
        free(csv);
        return;
    }

    CHECK_INT(import(store, org, "phone,name\n(555) 201-0401,Old\n",
                     &report), INBOX_OK);
    free(report);

    /* a new number twice (written two ways), one there before twice */
    CHECK_INT(import(store, org, "phone,name,tags\n"
                     "(555) 201-0402,Ann,a\n"
                     "+1 555 201 0402,Ann Lee,b\n"
                     "(555) 201-0401,,c\n"
                     "5552010401,Bo,\n", &report), INBOX_OK);
    CHECK_STR(report, "{\"created\":1,\"updated\":1,\"repeated\":2,"
              "\"tags_capped\":0,"
              "\"invalid\":[],\"invalid_count\":0,\"ignored_columns\":[],"
              "\"country\":\"US\"}");
    free(report);
    name_of(store, org, "+15552010402", name, sizeof(name));
    CHECK_STR(name, "Ann Lee");
    name_of(store, org, "+15552010401", name, sizeof(name));
    CHECK_STR(name, "Bo");

    /* the first line's number again past the first batch */
    p = csv + sprintf(csv, "phone\n");
    for (i = 0; i < INBOX_IMPORT_BATCH; i++) {
        p += sprintf(p, "+1312555%04zu\n", i);
    }
    sprintf(p, "+13125550000\n");
    CHECK_INT(import(store, org, csv, &report), INBOX_OK);
    CHECK(report != NULL && strncmp(report, "{\"created\":1000,"
                                    "\"updated\":0,\"repeated\":1,", 41)
                            == 0);
    free(report);
    free(csv);

    store_remove(store, path);
}


/*
 * A contact keeps at most 50 tags: a file that adds more to one leaves
 * them out, and its report counts the contacts so capped, across the
 * lines that name one (a number twice counts once).
 */
TEST(the_contacts_whose_tags_were_capped_are_counted)
{
    char            *report, *p, path[256], org[INBOX_ID_MAX];
    char             csv[4096];
    size_t           i, j;
    inbox_store_t   *store;

    store = store_new(path, org);
    CHECK(store != NULL);
    if (store == NULL) {
        return;
    }

    /* 30 tags each */
    p = csv + sprintf(csv, "phone,tags\n(555) 201-0501,");
    for (i = 0; i < 30; i++) {
        p += sprintf(p, "%sold%zu", i > 0 ? ";" : "", i);
    }
    p += sprintf(p, "\n(555) 201-0502,");
    for (i = 0; i < 30; i++) {
        p += sprintf(p, "%sold%zu", i > 0 ? ";" : "", i);
    }
    CHECK_INT(import(store, org, csv, &report), INBOX_OK);
    free(report);

    /* 30 others to each, the first one twice, a third contact with 5 */
    p = csv + sprintf(csv, "phone,tags\n");
    for (i = 0; i < 3; i++) {
        p += sprintf(p, "%s,", i < 2 ? "(555) 201-0501" : "(555) 201-0502");
        p += sprintf(p, "new%zu", i);
        for (j = 1; j < 30; j++) {
            p += sprintf(p, ";new%zu-%zu", i, j);
        }
        p += sprintf(p, "\n");
    }
    sprintf(p, "(555) 201-0503,a;b;c;d;e\n");
    CHECK_INT(import(store, org, csv, &report), INBOX_OK);
    CHECK_STR(report, "{\"created\":1,\"updated\":2,\"repeated\":1,"
              "\"tags_capped\":2,"
              "\"invalid\":[],\"invalid_count\":0,\"ignored_columns\":[],"
              "\"country\":\"US\"}");
    free(report);

    store_remove(store, path);
}


/* Runs sql on the store's file beside the store, as an operator would. */
static void
store_sql(const char *path, const char *sql)
{
    sqlite3  *db;

    CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}


/* An import of 1,500 lines whose 1,201st row the store fails, then the
 * same file again: the first error says what the batch before stored and
 * where it stopped, the second finishes it, updating those contacts
 * (their tags once, an opt-out kept) and making the rest. */
TEST(an_import_stopped_by_the_store_says_what_it_stored_and_resumes)
{
    char                   *csv, *report, *p, path[256];
    char                    org[INBOX_ID_MAX];
    char                    message[INBOX_IMPORT_STOPPED_MAX];
    size_t                  i, len;
    inbox_error_t           err;
    inbox_store_t          *store;
    inbox_import_t         *im;
    inbox_contact_page_t    page;
    inbox_contact_query_t   q;
    const char             *told = "{\"error\":{\"code\":\"internal\","
                                   "\"message\":\"Something went wrong on "
                                   "our side; try again, and tell the "
                                   "operator if it lasts. The lines before "
                                   "line 1003 were imported (1000 created, "
                                   "0 updated, 1 refused)";

    store = store_new(path, org);
    CHECK(store != NULL);
    csv = malloc(1500 * 64);
    CHECK(csv != NULL);
    if (store == NULL || csv == NULL) {
        free(csv);
        return;
    }

    /* line i + 2; lines 5 and 1102 refused; the first batch ends with
     * line 1002, the row of line 1202 fails */
    p = csv + sprintf(csv, "phone,name,tags\n");
    for (i = 0; i < 1500; i++) {
        if (i == 3 || i == 1100) {
            p += sprintf(p, "%s,Bad,x\n", i == 3 ? "nope" : "12");
        } else {
            p += sprintf(p, "+1312555%04zu,N %zu,vip;Spring\n", i, i);
        }
    }
    len = p - csv;

    store_sql(path, "CREATE TRIGGER boom BEFORE INSERT ON contact_tags"
              " WHEN (SELECT phone FROM contacts WHERE id = NEW.contact_id)"
              " = '+13125551200'"
              " BEGIN SELECT RAISE(ABORT, 'disk I/O simulated'); END");

    im = inbox_import_new(store, org, "US");
    memset(&err, 0, sizeof(err));
    if (inbox_import_feed(im, csv, len, &err) == INBOX_OK) {
        (void) inbox_import_finish(im, &err);
    }
    CHECK_INT(err.code, INBOX_ERR_INTERNAL);
    CHECK_INT(inbox_import_stored(im), 1000);
    CHECK_INT(inbox_import_stopped_at(im), 1003);

    inbox_import_stopped_message(im, &err, message, sizeof(message));
    CHECK(strstr(message, "disk I/O simulated. The lines before line 1003 "
                 "were imported (1000 created, 0 updated, 1 refused)")
          != NULL);
    CHECK(strstr(message, "Send the same file again") != NULL);

    /* the refused line of the failed batch is not the report's: the
     * file sent again refuses it; a client is not told the store's
     * words, only that something failed on our side */
    report = inbox_import_render_stopped(im, &err, NULL);
    CHECK(report != NULL && strncmp(report, told, strlen(told)) == 0);
    CHECK(report != NULL && strstr(report, "disk I/O") == NULL);
    CHECK(report != NULL && strstr(report, "\",\"stopped_at_line\":1003,"
              "\"created\":1000,\"updated\":0,\"repeated\":0,"
              "\"tags_capped\":0,\"invalid\":[{\"line\":5,"
              "\"reason\":") != NULL);
    CHECK(report != NULL && strstr(report, "\"invalid_count\":1,"
                                   "\"ignored_columns\":[],"
                                   "\"country\":\"US\"}}") != NULL);
    free(report);
    inbox_import_free(im);

    /* nothing is left of the batch that failed */
    memset(&q, 0, sizeof(q));
    q.q = "+13125551001";
    CHECK_INT(inbox_store_contacts_list(store, org, &q, &page, NULL),
              INBOX_OK);
    CHECK_INT(page.count, 0);
    inbox_contact_page_free(&page);

    /* a contact of the batch stored opts out before the file is sent
     * again */
    q.q = "+13125550007";
    CHECK_INT(inbox_store_contacts_list(store, org, &q, &page, NULL),
              INBOX_OK);
    CHECK_INT(page.count, 1);
    CHECK(page.count == 1
          && inbox_store_contact_opt_out(store, org, page.items[0].id,
                                         INBOX_OPT_OUT_MANUAL, NULL, 0, 0,
                                         NULL, NULL, NULL)
             == INBOX_OK);
    inbox_contact_page_free(&page);

    store_sql(path, "DROP TRIGGER boom");

    CHECK_INT(import(store, org, csv, &report), INBOX_OK);
    CHECK(report != NULL && strncmp(report, "{\"created\":498,\"updated\":"
                                    "1000,\"repeated\":0,"
                                    "\"tags_capped\":0,"
                                    "\"invalid\":[{\"line\":5,", 77)
                            == 0);
    CHECK(report != NULL && strstr(report, "\"invalid_count\":2,") != NULL);
    free(report);

    CHECK_INT(inbox_store_contacts_list(store, org, &q, &page, NULL),
              INBOX_OK);
    CHECK_INT(page.count, 1);
    if (page.count == 1) {
        CHECK(page.items[0].opted_out);
        CHECK_INT(page.items[0].tags.count, 2);
    }
    inbox_contact_page_free(&page);

    free(csv);
    store_remove(store, path);
}


RUN_TESTS()
