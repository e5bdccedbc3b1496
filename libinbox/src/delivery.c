/*
 * Delivery statuses and the forward-only rule (see delivery.h).
 */
#include <string.h>
#include <inbox/delivery.h>


static const char  *inbox_delivery_names[] = {
    "queued", "sending", "sent", "delivered", "undelivered", "failed"
};

#define INBOX_DELIVERY_COUNT                                                 \
    (sizeof(inbox_delivery_names) / sizeof(inbox_delivery_names[0]))


const char *
inbox_delivery_name(inbox_delivery_t status)
{
    if ((unsigned) status >= INBOX_DELIVERY_COUNT) {
        return "failed";
    }

    return inbox_delivery_names[status];
}


int
inbox_delivery_parse(const char *name, inbox_delivery_t *status)
{
    size_t  i;

    for (i = 0; name != NULL && i < INBOX_DELIVERY_COUNT; i++) {
        if (strcmp(name, inbox_delivery_names[i]) == 0) {
            *status = (inbox_delivery_t) i;
            return 0;
        }
    }

    return -1;
}


int
inbox_status_advances(inbox_delivery_t old, inbox_delivery_t next)
{
    /* the three final statuses share one rank: none follows another */
    if (inbox_delivery_final(old)) {
        return 0;
    }

    return inbox_delivery_final(next) || next > old;
}


int
inbox_delivery_final(inbox_delivery_t status)
{
    return status == INBOX_DELIVERY_DELIVERED
           || status == INBOX_DELIVERY_UNDELIVERED
           || status == INBOX_DELIVERY_FAILED;
}


int
inbox_delivery_failed(inbox_delivery_t status)
{
    return status == INBOX_DELIVERY_UNDELIVERED
           || status == INBOX_DELIVERY_FAILED;
}
