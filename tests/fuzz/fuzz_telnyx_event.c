/*
 * Fuzz target: a Telnyx webhook's JSON event (message.received,
 * message.sent, message.finalized and whatever else arrives).
 */
#include <inbox/telnyx.h>
#include "fuzz.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                  *s;
    inbox_error_t          err;
    inbox_telnyx_event_t   event;

    s = fuzz_string(data, size);
    if (s == NULL) {
        return 0;
    }

    memset(&event, 0, sizeof(event));
    if (inbox_telnyx_event_parse(s, size, "US", &event, &err) == INBOX_OK) {
        inbox_telnyx_event_free(&event);
    }

    free(s);
    return 0;
}
