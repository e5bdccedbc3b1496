/*
 * Fuzz target: a contacts CSV file, fed to the CSV reader in pieces of
 * every size from 1 to 7 bytes (a line split anywhere between two reads)
 * and to the import, whose report is rendered.
 */
#include <inbox/csv.h>
#include <inbox/import.h>
#include "fuzz.h"


static int
fuzz_record(void *ctx, const inbox_csv_record_t *record)
{
    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char            *s, *report;
    size_t           i, step, n;
    inbox_csv_t      csv;
    inbox_error_t    err;
    inbox_import_t  *import;

    s = fuzz_string(data, size);
    if (s == NULL) {
        return 0;
    }

    step = 1 + size % 7;
    inbox_csv_init(&csv, fuzz_record, NULL);
    for (i = 0; i < size; i += step) {
        n = size - i < step ? size - i : step;
        (void) inbox_csv_feed(&csv, s + i, n);
    }
    (void) inbox_csv_finish(&csv);
    inbox_csv_free(&csv);

    import = inbox_import_new(NULL, "1", "US");
    if (import != NULL) {
        if (inbox_import_feed(import, s, size, &err) == INBOX_OK) {
            (void) inbox_import_finish(import, &err);
        }
        report = inbox_import_render(import, NULL);
        free(report);
        inbox_import_free(import);
    }

    free(s);
    return 0;
}
