/*
 * The holds job: some carriers never report a final status, so a credit
 * hold that none settled in time is captured (billing.h), once a minute;
 * the same call finishes the settlements a crash or failure stopped
 * halfway (MongoDB's, which are not one transaction).
 */
#include "sender_jobs.h"

#define SENDER_HOLDS_EVERY_MS  60000

static int64_t  sender_holds_due;


int64_t
sender_holds_pump(sender_t *s, int64_t now)
{
    size_t         captured;
    inbox_error_t  err;

    if (now < sender_holds_due) {
        return sender_holds_due - now;
    }

    do {
        captured = 0;

        if (inbox_store_holds_expire(s->store, now, 0, &captured, &err)
            != INBOX_OK)
        {
            sender_log(s, "cannot capture expired holds: %s", err.message);
            break;
        }

        if (captured > 0) {
            sender_log(s, "captured %zu credit holds no final status "
                       "settled", captured);
        }

    } while (captured == INBOX_HOLDS_EXPIRE_MAX);

    sender_holds_due = now + SENDER_HOLDS_EVERY_MS;

    return SENDER_HOLDS_EVERY_MS;
}
