/*
 * The domain structs' clean-up, the names the API and CLI use, and the
 * inbox's rules that every store backend follows (see model.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inbox/media.h>
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


const char *
inbox_filter_name(inbox_filter_t filter)
{
    static const char  *names[INBOX_FILTER_COUNT] = {
        "all", "unread", "unresponded", "starred", "archived"
    };

    return (unsigned) filter < INBOX_FILTER_COUNT ? names[filter] : "unknown";
}


int
inbox_filter_parse(const char *name, inbox_filter_t *filter)
{
    unsigned  f;

    for (f = 0; f < INBOX_FILTER_COUNT; f++) {
        if (strcmp(name, inbox_filter_name((inbox_filter_t) f)) == 0) {
            *filter = (inbox_filter_t) f;
            return 0;
        }
    }

    return -1;
}


const char *
inbox_action_name(inbox_action_t action)
{
    static const char  *names[] = {
        "read", "unread", "archive", "unarchive", "star", "unstar"
    };

    return (unsigned) action < sizeof(names) / sizeof(names[0])
           ? names[action] : "unknown";
}


int
inbox_action_parse(const char *name, inbox_action_t *action)
{
    inbox_action_t  a;

    for (a = INBOX_ACTION_READ; a <= INBOX_ACTION_UNSTAR; a++) {
        if (strcmp(name, inbox_action_name(a)) == 0) {
            *action = a;
            return 0;
        }
    }

    return -1;
}


unsigned
inbox_list_limit(unsigned limit)
{
    if (limit == 0) {
        return INBOX_LIST_LIMIT_DEFAULT;
    }

    return limit > INBOX_LIST_LIMIT_MAX ? INBOX_LIST_LIMIT_MAX : limit;
}


void
inbox_message_preview(const char *body, const inbox_media_t *media,
    size_t media_count, inbox_preview_t *out)
{
    size_t  len;

    body = body ? body : "";
    len = strlen(body);

    if (len > INBOX_PREVIEW_MAX - 1) {
        len = INBOX_PREVIEW_MAX - 1;

        /* step back over continuation bytes to a character's start */
        while (len > 0 && ((unsigned char) body[len] & 0xc0) == 0x80) {
            len--;
        }
    }

    memcpy(out->text, body, len);
    out->text[len] = '\0';

    inbox_media_type_plain(media != NULL && media_count > 0
                           ? media[0].content_type : "",
                           out->media_type, sizeof(out->media_type));
}


void
inbox_media_type_plain(const char *type, char *out, size_t size)
{
    size_t  i;

    /* "Image/JPEG; name=a.jpg" is image/jpeg: a type's name is ASCII in
     * any case, its parameters say nothing of what it is */
    for (i = 0; size > 0 && i < size - 1 && type[i] != '\0'
                && type[i] != ';' && type[i] != ' '; i++)
    {
        out[i] = (type[i] >= 'A' && type[i] <= 'Z') ? type[i] - 'A' + 'a'
                                                    : type[i];
    }

    if (size > 0) {
        out[i] = '\0';
    }
}


int
inbox_preview_copy_type(const char *content_type, char *out, size_t size)
{
    /* bytes of no known type say less than the carrier's name for them
     * ("video/mp4" reads "Video"; unknown bytes only "File") */
    if (content_type == NULL
        || strcmp(content_type, INBOX_MEDIA_TYPE_UNKNOWN) == 0)
    {
        return 0;
    }

    inbox_media_type_plain(content_type, out, size);

    return 1;
}


void
inbox_conversation_last_preview(inbox_conversation_t *c,
    const inbox_preview_t *preview)
{
    memcpy(c->last_message.preview, preview->text,
           sizeof(c->last_message.preview));
    memcpy(c->last_message.media_type, preview->media_type,
           sizeof(c->last_message.media_type));
}


int64_t
inbox_conversation_unread_shown(const inbox_conversation_t *c)
{
    return c->archived ? 0 : c->unread_count;
}


int
inbox_conversation_newer(const inbox_conversation_t *c, int64_t at)
{
    return !c->has_last_message || at >= c->last_message.at;
}


int
inbox_conversation_unresponded(const inbox_conversation_t *c)
{
    return c->unresponded_at != 0;
}


int
inbox_conversation_respond(inbox_conversation_t *c, int64_t at)
{
    int  changed;

    changed = 0;

    if (at > c->responded_at) {
        c->responded_at = at;
        changed = 1;
    }

    if (c->unresponded_at != 0 && at >= c->unresponded_at) {
        c->unresponded_at = 0;
        changed = 1;
    }

    return changed;
}


void
inbox_conversation_receive(inbox_conversation_t *c, const char *message_id,
    int64_t at, const inbox_preview_t *preview, inbox_wait_t wait)
{
    c->unread_count++;
    c->archived = 0;

    switch (wait) {

    case INBOX_WAIT_STARTS:
        /* a message older than the newest response was answered by it */
        if (at >= c->responded_at && at > c->unresponded_at) {
            c->unresponded_at = at;
        }
        break;

    case INBOX_WAIT_ENDS:
        (void) inbox_conversation_respond(c, at);
        break;

    case INBOX_WAIT_KEPT:
        break;
    }

    if (!inbox_conversation_newer(c, at)) {
        /* a thread that had only campaigns joins the lists with it */
        if (c->last_activity_at == INBOX_ACTIVITY_NONE) {
            c->last_activity_at = at;
        }

        return;
    }

    c->has_last_message = 1;
    snprintf(c->last_message.id, sizeof(c->last_message.id), "%s",
             message_id);
    c->last_message.direction = INBOX_INBOUND;
    inbox_conversation_last_preview(c, preview);
    c->last_message.at = at;
    c->last_message.sent_by[0] = '\0';
    c->last_message.campaign_id[0] = '\0';
    c->last_message.campaign_kind[0] = '\0';
    c->last_message.status[0] = '\0';
    c->last_message.error_code[0] = '\0';
    c->last_activity_at = at;
}


inbox_status_t
inbox_conversation_action_check(const inbox_conversation_t *c,
    inbox_action_t action, inbox_error_t *err)
{
    if (action == INBOX_ACTION_UNREAD
        && c->last_activity_at == INBOX_ACTIVITY_NONE)
    {
        return inbox_error_set(err, INBOX_ERR_CONFLICT,
                               "the conversation has no message to mark "
                               "unread yet");
    }

    return INBOX_OK;
}


int
inbox_conversation_apply(inbox_conversation_t *c, inbox_action_t action)
{
    inbox_conversation_t  before;

    before = *c;

    switch (action) {

    case INBOX_ACTION_READ:
        c->unread_count = 0;
        break;

    case INBOX_ACTION_UNREAD:
        if (c->unread_count < 1) {
            c->unread_count = 1;
        }
        break;

    case INBOX_ACTION_ARCHIVE:
        c->archived = 1;
        break;

    case INBOX_ACTION_UNARCHIVE:
        c->archived = 0;
        break;

    case INBOX_ACTION_STAR:
        c->starred = 1;
        break;

    case INBOX_ACTION_UNSTAR:
        c->starred = 0;
        break;
    }

    return c->unread_count != before.unread_count
           || c->archived != before.archived
           || c->starred != before.starred;
}


int
inbox_filter_matches(inbox_filter_t filter, const inbox_conversation_t *c)
{
    /* a contact's thread before its first two-way message (none, or
     * campaigns only) is in no list */
    if (c->last_activity_at == INBOX_ACTIVITY_NONE) {
        return 0;
    }

    switch (filter) {

    case INBOX_FILTER_ALL:
        return !c->archived;

    case INBOX_FILTER_UNREAD:
        return !c->archived && c->unread_count > 0;

    case INBOX_FILTER_UNRESPONDED:
        return !c->archived && inbox_conversation_unresponded(c);

    case INBOX_FILTER_STARRED:
        return !c->archived && c->starred;

    case INBOX_FILTER_ARCHIVED:
        return c->archived;
    }

    return 0;
}


int
inbox_query_any_archived(inbox_filter_t filter, const char *q)
{
    return filter == INBOX_FILTER_ALL && q != NULL && q[0] != '\0';
}


int
inbox_query_counted(const inbox_conversation_query_t *query)
{
    return query->cursor == NULL || query->cursor[0] == '\0';
}
