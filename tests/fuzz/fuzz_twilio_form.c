/*
 * Fuzz target: a Twilio webhook's form body, read as an inbound message
 * and as a status callback (what POST /webhooks/twilio/... accepts from
 * anyone who can reach it, before the signature is even known good).
 */
#include <inbox/form.h>
#include <inbox/twilio.h>
#include "fuzz.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                   *s;
    inbox_form_t            form;
    inbox_error_t           err;
    inbox_inbound_t         message;
    inbox_status_update_t   update;

    s = fuzz_string(data, size);
    if (s == NULL) {
        return 0;
    }

    if (inbox_form_parse(s, size, &form, &err) == INBOX_OK) {
        memset(&message, 0, sizeof(message));
        if (inbox_twilio_inbound_parse(&form, "US", &message, &err)
            == INBOX_OK)
        {
            inbox_inbound_free(&message);
        }

        memset(&update, 0, sizeof(update));
        (void) inbox_twilio_status_parse(&form, &update, &err);

        inbox_form_free(&form);
    }

    free(s);
    return 0;
}
