/*
 * Delivery statuses: their order, and what each does to a hold.
 */
#include <string.h>
#include <inbox/delivery.h>


static const char  *inbox_delivery_names[INBOX_DELIVERY_COUNT] = {
    "queued", "sending", "sent", "delivered", "undelivered", "failed"
};

/* The order statuses move in; the final ones share the last rank. */
static const int  inbox_delivery_rank[INBOX_DELIVERY_COUNT] = {
    0, 1, 2, 3, 3, 3
};


const char *
inbox_delivery_name(inbox_delivery_t status)
{
    if ((unsigned) status >= INBOX_DELIVERY_COUNT) {
        return "queued";
    }

    return inbox_delivery_names[status];
}


int
inbox_delivery_parse(const char *name, inbox_delivery_t *status)
{
    unsigned  i;

    for (i = 0; name != NULL && i < INBOX_DELIVERY_COUNT; i++) {
        if (strcmp(name, inbox_delivery_names[i]) == 0) {
            *status = (inbox_delivery_t) i;
            return 0;
        }
    }

    return -1;
}


int
inbox_delivery_final(inbox_delivery_t status)
{
    return status == INBOX_DELIVERY_DELIVERED
           || status == INBOX_DELIVERY_UNDELIVERED
           || status == INBOX_DELIVERY_FAILED;
}


int
inbox_delivery_missed(inbox_delivery_t status)
{
    return status == INBOX_DELIVERY_UNDELIVERED
           || status == INBOX_DELIVERY_FAILED;
}


int
inbox_delivery_moves(inbox_delivery_t from, inbox_delivery_t to)
{
    if ((unsigned) from >= INBOX_DELIVERY_COUNT
        || (unsigned) to >= INBOX_DELIVERY_COUNT
        || inbox_delivery_final(from))
    {
        return 0;
    }

    return inbox_delivery_rank[to] > inbox_delivery_rank[from];
}


unsigned
inbox_delivery_before(inbox_delivery_t to,
    inbox_delivery_t from[INBOX_DELIVERY_COUNT])
{
    unsigned  i, n;

    n = 0;

    for (i = 0; i < INBOX_DELIVERY_COUNT; i++) {
        if (inbox_delivery_moves((inbox_delivery_t) i, to)) {
            from[n++] = (inbox_delivery_t) i;
        }
    }

    return n;
}


inbox_hold_action_t
inbox_delivery_hold(inbox_delivery_t status, int final)
{
    switch (status) {

    case INBOX_DELIVERY_DELIVERED:
        return INBOX_HOLD_CAPTURE;

    case INBOX_DELIVERY_UNDELIVERED:
    case INBOX_DELIVERY_FAILED:
        return INBOX_HOLD_RELEASE;

    default:
        /* no receipt will come: spent, as an expired hold is */
        return final ? INBOX_HOLD_CAPTURE : INBOX_HOLD_KEEP;
    }
}
