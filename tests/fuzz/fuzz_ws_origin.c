/*
 * Fuzz target: a WebSocket upgrade's Origin header, as ws-server
 * compares and logs it.
 */
#include "ws_origin.h"
#include "fuzz.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char  *s, canonical[WS_ORIGIN_MAX], printable[64];

    s = fuzz_string(data, size);
    if (s == NULL) {
        return 0;
    }

    (void) ws_origin_canonical(s, canonical);
    ws_origin_printable(s, printable, sizeof(printable));

    free(s);
    return 0;
}
