/*
 * Fuzz target: a JSON request body, read as a whole and against a field
 * table with every kind of field the API's routes declare (strings,
 * lists of strings, booleans, integers, a nested object, null).
 */
#include <inbox/request.h>
#include "fuzz.h"


static const inbox_field_t  fuzz_audience_fields[] = {
    { .name = "tags", .type = INBOX_FIELD_STRINGS, .max = 20,
      .item_max = 64 },
    { .name = "all", .type = INBOX_FIELD_BOOLEAN },
    { .name = NULL }
};

static const inbox_field_t  fuzz_fields[] = {
    { .name = "name", .type = INBOX_FIELD_STRING, .required = 1, .min = 1,
      .max = 100 },
    { .name = "body", .type = INBOX_FIELD_STRING, .max = 1600 },
    { .name = "media_ids", .type = INBOX_FIELD_STRINGS, .max = 10,
      .item_max = 40 },
    { .name = "audience", .type = INBOX_FIELD_OBJECT, .required = 1,
      .fields = fuzz_audience_fields },
    { .name = "send_at", .type = INBOX_FIELD_STRING, .nullable = 1,
      .max = 40 },
    { .name = "count", .type = INBOX_FIELD_INTEGER, .min = 1, .max = 1000 },
    { .name = NULL }
};


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char             *s;
    inbox_error_t     err;
    inbox_request_t   req;

    s = fuzz_string(data, size);
    if (s == NULL) {
        return 0;
    }

    memset(&req, 0, sizeof(req));
    (void) inbox_request_read(s, size, &req, &err);
    (void) inbox_request_string(&req, "audience.tags");
    inbox_request_free(&req);

    memset(&req, 0, sizeof(req));
    if (inbox_request_parse(s, size, fuzz_fields, &req, &err) == INBOX_OK) {
        (void) inbox_request_string(&req, "name");
        (void) inbox_request_has(&req, "audience.all");
    }
    inbox_request_free(&req);

    free(s);
    return 0;
}
