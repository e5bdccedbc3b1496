/*
 * Fuzz target: a carrier's answer to the sender's question about a
 * message whose status report never came (status_check.h), as read from
 * Twilio and Telnyx, with a success status and an error each.
 */
#include <inbox/carrier.h>
#include "fuzz.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                    i;
    char                  *s;
    char                   why[INBOX_CARRIER_MESSAGE_MAX];
    inbox_status_update_t  update;

    static const int  statuses[] = { 200, 404, 500 };

    s = fuzz_string(data, size);
    if (s == NULL) {
        return 0;
    }

    for (i = 0; i < (int) (sizeof(statuses) / sizeof(statuses[0])); i++) {
        inbox_carrier_status_answer(INBOX_CARRIER_TWILIO, statuses[i], s,
                                    size, "SM0123456789abcdef0123456789abcdef",
                                    &update, why);
        inbox_carrier_status_answer(INBOX_CARRIER_TELNYX, statuses[i], s,
                                    size,
                                    "40385f64-5717-4562-b3fc-2c963f66afa6",
                                    &update, why);
    }

    free(s);
    return 0;
}
