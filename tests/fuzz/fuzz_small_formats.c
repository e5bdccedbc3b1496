/*
 * Fuzz target: the small formats a request carries: base64 and base64url
 * (signatures, keys), a realtime ticket, a settings time ("21:00"), a
 * time zone's name and an uploaded image's first bytes.
 */
#include <inbox/encoding.h>
#include <inbox/media.h>
#include <inbox/settings.h>
#include <inbox/ticket.h>
#include "fuzz.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                   *s;
    unsigned char           out[4096];
    inbox_error_t           err;
    inbox_ticket_claims_t   claims;

    static const unsigned char  key[32] = { 1 };

    s = fuzz_string(data, size);
    if (s == NULL) {
        return 0;
    }

    if (size < 3000) {
        (void) inbox_base64_decode(s, size, out, sizeof(out));
        (void) inbox_base64url_decode(s, size, out, sizeof(out));
    }

    (void) inbox_ticket_verify(key, sizeof(key), s, 1700000000, &claims,
                               &err);
    (void) inbox_settings_time_parse(s);
    (void) inbox_timezone_valid(s);
    (void) inbox_image_type(s, size);

    free(s);
    return 0;
}
