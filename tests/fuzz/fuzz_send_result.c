/*
 * Fuzz target: a carrier's answer to a send, as the sender reads it from
 * Twilio and Telnyx, with a success status and a refusal each.
 */
#include <inbox/telnyx.h>
#include <inbox/twilio.h>
#include "fuzz.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                   i;
    char                 *s;
    inbox_send_result_t   result;

    static const int  statuses[] = { 200, 201, 400, 422, 429, 500 };

    s = fuzz_string(data, size);
    if (s == NULL) {
        return 0;
    }

    for (i = 0; i < (int) (sizeof(statuses) / sizeof(statuses[0])); i++) {
        memset(&result, 0, sizeof(result));
        inbox_twilio_send_result(statuses[i], s, size, &result);
        memset(&result, 0, sizeof(result));
        inbox_telnyx_send_result(statuses[i], s, size, &result);
    }

    free(s);
    return 0;
}
