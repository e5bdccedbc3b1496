/*
 * The domain structs' clean-up, and the names the API and CLI use.
 */
#include <stdlib.h>
#include <string.h>
#include <inbox/model.h>


void
inbox_number_free(inbox_number_t *number)
{
    if (number == NULL) {
        return;
    }

    free(number->account_sid);
    free(number->auth_token);
    free(number->public_key);
    free(number->api_key);
    free(number->api_base);

    number->account_sid = NULL;
    number->auth_token = NULL;
    number->public_key = NULL;
    number->api_key = NULL;
    number->api_base = NULL;
}


void
inbox_conversation_free(inbox_conversation_t *conversation)
{
    if (conversation == NULL) {
        return;
    }

    free(conversation->contact.name);
    conversation->contact.name = NULL;
}


void
inbox_inbound_free(inbox_inbound_t *msg)
{
    if (msg == NULL) {
        return;
    }

    free(msg->owned);
    msg->owned = NULL;
    msg->body = "";
}


void
inbox_message_free(inbox_message_t *message)
{
    if (message == NULL) {
        return;
    }

    free(message->body);
    free(message->media);
    message->body = NULL;
    message->media = NULL;
    message->media_count = 0;
}


void
inbox_conversation_page_free(inbox_conversation_page_t *page)
{
    size_t  i;

    if (page == NULL) {
        return;
    }

    for (i = 0; page->items != NULL && i < page->count; i++) {
        inbox_conversation_free(&page->items[i]);
    }

    free(page->items);
    page->items = NULL;
    page->count = 0;
}


void
inbox_message_page_free(inbox_message_page_t *page)
{
    size_t  i;

    if (page == NULL) {
        return;
    }

    for (i = 0; page->items != NULL && i < page->count; i++) {
        inbox_message_free(&page->items[i]);
    }

    free(page->items);
    page->items = NULL;
    page->count = 0;
}


const char *
inbox_carrier_name(inbox_carrier_t carrier)
{
    return carrier == INBOX_CARRIER_TELNYX ? "telnyx" : "twilio";
}


int
inbox_carrier_parse(const char *name, inbox_carrier_t *carrier)
{
    if (strcmp(name, "twilio") == 0) {
        *carrier = INBOX_CARRIER_TWILIO;
        return 0;
    }

    if (strcmp(name, "telnyx") == 0) {
        *carrier = INBOX_CARRIER_TELNYX;
        return 0;
    }

    return -1;
}


const char *
inbox_role_name(inbox_role_t role)
{
    return role == INBOX_ROLE_BILLING ? "billing" : "member";
}


int
inbox_role_parse(const char *name, inbox_role_t *role)
{
    if (strcmp(name, "member") == 0) {
        *role = INBOX_ROLE_MEMBER;
        return 0;
    }

    if (strcmp(name, "billing") == 0) {
        *role = INBOX_ROLE_BILLING;
        return 0;
    }

    return -1;
}


const char *
inbox_direction_name(inbox_direction_t direction)
{
    return direction == INBOX_OUTBOUND ? "outbound" : "inbound";
}


int
inbox_filter_parse(const char *name, inbox_filter_t *filter)
{
    static const struct {
        const char      *name;
        inbox_filter_t   filter;
    } filters[] = {
        { "all", INBOX_FILTER_ALL },
        { "unread", INBOX_FILTER_UNREAD },
        { "unresponded", INBOX_FILTER_UNRESPONDED },
        { "starred", INBOX_FILTER_STARRED },
        { "archived", INBOX_FILTER_ARCHIVED },
    };

    size_t  i;

    for (i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
        if (strcmp(name, filters[i].name) == 0) {
            *filter = filters[i].filter;
            return 0;
        }
    }

    return -1;
}
