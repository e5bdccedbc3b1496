/*
 * Asking a carrier about a message whose report never came: when to ask
 * again (status_check.h).
 */
#include <stdlib.h>
#include <string.h>
#include <inbox/status_check.h>


void
inbox_status_check_list_free(inbox_status_check_list_t *list)
{
    size_t  i;

    if (list == NULL) {
        return;
    }

    for (i = 0; i < list->count; i++) {
        inbox_number_free(&list->items[i].number);
    }

    free(list->items);
    list->items = NULL;
    list->count = 0;
}


int64_t
inbox_status_check_next(int64_t submitted_at, int64_t now, int64_t after,
    int64_t give_up)
{
    int64_t  apart, next;

    apart = (now - submitted_at) / 2;

    if (apart < after) {
        apart = after;
    }

    if (apart > INBOX_STATUS_CHECK_APART_MAX) {
        apart = INBOX_STATUS_CHECK_APART_MAX;
    }

    next = now + apart;

    return next > submitted_at + give_up ? 0 : next;
}
