/*
 * Events: the list the store fills inside a transaction, the WebSocket
 * frames, and the datagram that carries a frame to ws-server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inbox/event.h>
#include <inbox/render.h>
#include <inbox/resend.h>


static yajl_gen inbox_event_begin(const char *type, int64_t org_seq,
    const char *epoch);
static char *inbox_event_finish(yajl_gen g);
static inbox_change_event_t *inbox_change_append(inbox_change_t *change,
    const char *type, const char *conversation_id, const char *message_id);


int
inbox_event_list_add(inbox_event_list_t *list, const char *org_id,
    int64_t org_seq, const char *type, const char *epoch,
    int64_t unread_total, char *json)
{
    size_t          capacity;
    inbox_event_t  *items, *event;

    if (json == NULL) {
        return -1;
    }

    if (list->count == list->capacity) {
        capacity = list->capacity ? list->capacity * 2 : 8;
        items = realloc(list->items, capacity * sizeof(inbox_event_t));
        if (items == NULL) {
            free(json);
            return -1;
        }

        list->items = items;
        list->capacity = capacity;
    }

    event = &list->items[list->count++];
    snprintf(event->org_id, sizeof(event->org_id), "%s", org_id);
    event->org_seq = org_seq;
    snprintf(event->type, sizeof(event->type), "%s", type ? type : "");
    snprintf(event->epoch, sizeof(event->epoch), "%s", epoch ? epoch : "");
    event->unread_total = unread_total;
    event->json = json;
    event->len = strlen(json);

    return 0;
}


/* Keeps the first count events: what was there at the savepoint. */
void
inbox_event_list_truncate(inbox_event_list_t *list, size_t count)
{
    while (list->count > count) {
        list->count--;
        free(list->items[list->count].json);
        list->items[list->count].json = NULL;
    }
}


void
inbox_event_list_free(inbox_event_list_t *list)
{
    inbox_event_list_truncate(list, 0);
    free(list->items);
    list->items = NULL;
    list->capacity = 0;
}


char *
inbox_event_hello(int64_t org_seq, const char *epoch, int64_t unread_total,
    unsigned ping_secs)
{
    yajl_gen  g;

    g = inbox_event_begin("hello", org_seq, epoch);
    if (g == NULL) {
        return NULL;
    }

    inbox_json_key(g, "unread_total");
    inbox_json_int(g, unread_total);
    inbox_json_key(g, "ping_secs");
    inbox_json_int(g, ping_secs);

    return inbox_event_finish(g);
}


char *
inbox_event_message_created(int64_t org_seq, const char *epoch,
    const inbox_message_t *message, const inbox_conversation_t *conversation)
{
    yajl_gen  g;

    g = inbox_event_begin("message.created", org_seq, epoch);
    if (g == NULL) {
        return NULL;
    }

    inbox_json_key(g, "message");
    inbox_json_message(g, message);
    inbox_json_key(g, "conversation");
    inbox_json_conversation(g, conversation);

    return inbox_event_finish(g);
}


char *
inbox_event_conversation_updated(int64_t org_seq, const char *epoch,
    const inbox_conversation_t *conversation)
{
    yajl_gen  g;

    g = inbox_event_begin("conversation.updated", org_seq, epoch);
    if (g == NULL) {
        return NULL;
    }

    inbox_json_key(g, "conversation");
    inbox_json_conversation(g, conversation);

    return inbox_event_finish(g);
}


char *
inbox_event_unread_total(int64_t org_seq, const char *epoch, int64_t count)
{
    yajl_gen  g;

    g = inbox_event_begin("unread.total", org_seq, epoch);
    if (g == NULL) {
        return NULL;
    }

    inbox_json_key(g, "count");
    inbox_json_int(g, count);

    return inbox_event_finish(g);
}


char *
inbox_event_contact_updated(int64_t org_seq, const char *epoch,
    const inbox_contact_record_t *contact)
{
    yajl_gen  g;

    g = inbox_event_begin("contact.updated", org_seq, epoch);
    if (g == NULL) {
        return NULL;
    }

    inbox_json_key(g, "contact");
    inbox_json_contact(g, contact);

    return inbox_event_finish(g);
}


/* media: a message whose files were fetched or failed */


char *
inbox_event_message_updated(int64_t org_seq, const char *epoch,
    const inbox_message_t *message)
{
    yajl_gen  g;

    g = inbox_event_begin("message.updated", org_seq, epoch);
    if (g == NULL) {
        return NULL;
    }

    inbox_json_key(g, "message");
    inbox_json_message(g, message);

    return inbox_event_finish(g);
}


/* A header word: printable ASCII without spaces, "-" when empty. */
static const char *
inbox_event_word(const char *s)
{
    const char  *p;

    if (s == NULL || s[0] == '\0') {
        return "-";
    }

    for (p = s; *p; p++) {
        if (*p <= ' ' || *p > '~') {
            return "-";
        }
    }

    return s;
}


int
inbox_event_record_append(const inbox_event_t *event, char *buf,
    size_t size, size_t *used)
{
    int     n;
    char    unread[24];
    size_t  room;

    room = size - *used;

    if (event->unread_total >= 0) {
        snprintf(unread, sizeof(unread), "%lld",
                 (long long) event->unread_total);
    } else {
        unread[0] = '-';
        unread[1] = '\0';
    }

    n = snprintf(buf + *used, room, "%s %lld %s %s %s %zu\n", event->org_id,
                 (long long) event->org_seq, inbox_event_word(event->epoch),
                 inbox_event_word(event->type), unread, event->len);

    if (n < 0 || (size_t) n >= room || room - (size_t) n < event->len) {
        return -1;
    }

    memcpy(buf + *used + n, event->json, event->len);
    *used += (size_t) n + event->len;

    return 0;
}


/* Reads a decimal number of at most 18 digits in [p, end). */
static int
inbox_event_number(const char *p, const char *end, int64_t *value)
{
    int64_t  v;

    if (p == end || end - p > 18) {
        return -1;
    }

    for (v = 0; p < end; p++) {
        if (*p < '0' || *p > '9') {
            return -1;
        }

        v = v * 10 + (*p - '0');
    }

    *value = v;

    return 0;
}


/*
 * Copies the header word at *p (ending at a space, or at end for the
 * last) into out, "-" as "", and moves *p past its space.
 */
static int
inbox_event_field(const char **p, const char *end, int last, char *out,
    size_t size)
{
    size_t       len, i;
    const char  *start, *stop;

    start = *p;

    if (last) {
        stop = end;

    } else {
        stop = memchr(start, ' ', (size_t) (end - start));
        if (stop == NULL) {
            return -1;
        }
    }

    len = (size_t) (stop - start);
    if (len == 0 || len >= size) {
        return -1;
    }

    for (i = 0; i < len; i++) {
        if (start[i] <= ' ' || start[i] > '~') {
            return -1;
        }
    }

    if (len == 1 && start[0] == '-') {
        out[0] = '\0';

    } else {
        memcpy(out, start, len);
        out[len] = '\0';
    }

    *p = last ? stop : stop + 1;

    return 0;
}


int
inbox_event_record_next(const char *buf, size_t len, size_t *offset,
    inbox_event_record_t *record)
{
    char         seq[20], unread[20], flen[20];
    int64_t      n;
    const char  *p, *end, *nl;

    if (*offset >= len) {
        return 0;
    }

    p = buf + *offset;
    end = buf + len;

    nl = memchr(p, '\n', (size_t) (end - p));
    if (nl == NULL) {
        return -1;
    }

    /* an org id of "-" would read as "": refused below */
    if (inbox_event_field(&p, nl, 0, record->org_id,
                          sizeof(record->org_id)) != 0
        || record->org_id[0] == '\0'
        || inbox_event_field(&p, nl, 0, seq, sizeof(seq)) != 0
        || inbox_event_field(&p, nl, 0, record->epoch,
                             sizeof(record->epoch)) != 0
        || inbox_event_field(&p, nl, 0, record->type,
                             sizeof(record->type)) != 0
        || inbox_event_field(&p, nl, 0, unread, sizeof(unread)) != 0
        || inbox_event_field(&p, nl, 1, flen, sizeof(flen)) != 0)
    {
        return -1;
    }

    if (inbox_event_number(seq, seq + strlen(seq), &record->org_seq) != 0
        || inbox_event_number(flen, flen + strlen(flen), &n) != 0
        || n == 0 || n > end - (nl + 1))
    {
        return -1;
    }

    if (unread[0] == '\0') {
        record->unread_total = -1;

    } else if (inbox_event_number(unread, unread + strlen(unread),
                                  &record->unread_total) != 0)
    {
        return -1;
    }

    record->frame = nl + 1;
    record->frame_len = (size_t) n;
    *offset = (size_t) (nl + 1 + n - buf);

    return 1;
}


void
inbox_change_message(inbox_change_t *change, const inbox_message_t *message,
    const inbox_conversation_t *conversation)
{
    memset(change, 0, sizeof(inbox_change_t));

    change->message = message;
    change->conversation = conversation;

    inbox_change_append(change, "message.created", conversation->id,
                        message->id);
    inbox_change_append(change, "conversation.updated", conversation->id,
                        NULL);
    inbox_change_append(change, "unread.total", NULL, NULL)->unread_total = 0;
}


void
inbox_change_action(inbox_change_t *change,
    const inbox_conversation_t *before, const inbox_conversation_t *after)
{
    memset(change, 0, sizeof(inbox_change_t));

    change->conversation = after;

    inbox_change_append(change, "conversation.updated", after->id, NULL);

    if (inbox_conversation_unread_shown(before)
        != inbox_conversation_unread_shown(after))
    {
        inbox_change_append(change, "unread.total", NULL, NULL)
            ->unread_total = 0;
    }
}


void
inbox_change_contact(inbox_change_t *change,
    const inbox_contact_record_t *contact,
    const inbox_conversation_t *conversation, unsigned changed)
{
    memset(change, 0, sizeof(inbox_change_t));

    if (changed == 0) {
        return;
    }

    change->conversation = conversation;
    change->contact = contact;

    inbox_change_append(change,
                        (changed & INBOX_CONTACT_CHANGED_NAME)
                        && !(changed & INBOX_CONTACT_CHANGED_CREATED)
                            ? "conversation.updated" : "contact.updated",
                        conversation->id, NULL);
}


void
inbox_change_imported(inbox_change_t *change)
{
    memset(change, 0, sizeof(inbox_change_t));

    inbox_change_append(change, INBOX_EVENT_CONTACTS_IMPORTED, NULL, NULL);
}


/* Opt-out and opt-in */

void
inbox_change_opt(inbox_change_t *change,
    const inbox_contact_record_t *contact,
    const inbox_conversation_t *conversation)
{
    memset(change, 0, sizeof(inbox_change_t));

    change->conversation = conversation;
    change->contact = contact;

    inbox_change_append(change, "contact.updated", conversation->id, NULL);
    inbox_change_append(change, "conversation.updated", conversation->id,
                        NULL);
}


void
inbox_change_add_contact(inbox_change_t *change,
    const inbox_contact_record_t *contact, unsigned changed)
{
    if (changed != 0
        && inbox_change_append(change, "contact.updated",
                               change->conversation->id, NULL)
           != NULL)
    {
        change->contact = contact;
    }
}


/* media */


void
inbox_change_media(inbox_change_t *change, const inbox_message_t *message,
    const inbox_conversation_t *conversation)
{
    memset(change, 0, sizeof(inbox_change_t));

    change->message = message;
    change->conversation = conversation;

    inbox_change_append(change, "message.updated", message->conversation_id,
                        message->id);

    if (conversation != NULL) {
        inbox_change_append(change, "conversation.updated", conversation->id,
                            NULL);
    }
}


/* replies and delivery */


void
inbox_change_resent(inbox_change_t *change, const inbox_message_t *message)
{
    memset(change, 0, sizeof(inbox_change_t));

    change->message = message;

    inbox_change_append(change, "message.updated", message->conversation_id,
                        message->id);
}


char *
inbox_event_message_status(int64_t org_seq, const char *epoch,
    const inbox_message_t *message)
{
    yajl_gen  g;

    g = inbox_event_begin("message.status", org_seq, epoch);
    if (g == NULL) {
        return NULL;
    }

    inbox_json_key(g, "id");
    inbox_json_string(g, message->id);
    inbox_json_key(g, "conversation_id");
    inbox_json_string(g, message->conversation_id);
    inbox_json_key(g, "status");
    inbox_json_string(g, message->status[0] ? message->status : NULL);
    inbox_json_key(g, "error_code");
    inbox_json_string(g, message->error_code[0] ? message->error_code
                                                : NULL);
    /* a reply that failed live offers Send again with no read */
    inbox_json_key(g, "can_send_again");
    yajl_gen_bool(g, inbox_resend_can(message));

    return inbox_event_finish(g);
}


void
inbox_change_reply(inbox_change_t *change, const inbox_message_t *message,
    const inbox_conversation_t *conversation)
{
    memset(change, 0, sizeof(inbox_change_t));

    change->message = message;
    change->conversation = conversation;

    inbox_change_append(change, "message.created", conversation->id,
                        message->id);
    inbox_change_append(change, "conversation.updated", conversation->id,
                        NULL);
}


void
inbox_change_status(inbox_change_t *change, const inbox_message_t *message)
{
    memset(change, 0, sizeof(inbox_change_t));

    change->message = message;

    inbox_change_append(change, "message.status", message->conversation_id,
                        message->id);
}


/* campaigns */


char *
inbox_event_campaign_progress(int64_t org_seq, const char *epoch,
    const inbox_campaign_t *campaign)
{
    yajl_gen  g;

    g = inbox_event_begin("campaign.progress", org_seq, epoch);
    if (g == NULL) {
        return NULL;
    }

    inbox_json_key(g, "id");
    inbox_json_string(g, campaign->id);
    inbox_json_key(g, "status");
    inbox_json_string(g, inbox_campaign_status_name(campaign->status));
    /* a scheduled one's time moves */
    inbox_json_key(g, "send_at");
    inbox_json_time_or_null(g, campaign->send_at);
    inbox_json_key(g, "paused_reason");
    inbox_json_string(g, campaign->paused_reason == INBOX_PAUSE_NONE
                         ? NULL
                         : inbox_pause_reason_name(campaign->paused_reason));
    inbox_json_campaign_refused(g, campaign);
    inbox_json_campaign_cancelled(g, campaign);
    inbox_json_key(g, "counts");
    inbox_json_campaign_counts(g, &campaign->counts);

    /* a poll's tally, as GET /api/v1/polls/{id} has it: a browser
     * shows answers as they come without asking */
    if (campaign->kind == INBOX_CAMPAIGN_KIND_POLL) {
        inbox_json_key(g, "tally");
        inbox_json_poll_tally(g, campaign);
    }

    return inbox_event_finish(g);
}


char *
inbox_event_campaign_updated(int64_t org_seq, const char *epoch,
    const inbox_campaign_t *campaign)
{
    yajl_gen  g;

    g = inbox_event_begin(INBOX_EVENT_CAMPAIGN_UPDATED, org_seq, epoch);
    if (g == NULL) {
        return NULL;
    }

    inbox_json_key(g, "campaign");
    inbox_json_campaign(g, campaign);

    return inbox_event_finish(g);
}


char *
inbox_event_campaign_deleted(int64_t org_seq, const char *epoch,
    const char *campaign_id, const char *kind)
{
    yajl_gen  g;

    g = inbox_event_begin(INBOX_EVENT_CAMPAIGN_DELETED, org_seq, epoch);
    if (g == NULL) {
        return NULL;
    }

    inbox_json_key(g, "id");
    inbox_json_string(g, campaign_id);
    inbox_json_key(g, "kind");
    inbox_json_string(g, kind);

    return inbox_event_finish(g);
}


/* One event of type about campaign, whose kind the store keeps with it
 * for the day it is deleted. */
static void
inbox_change_campaign_event(inbox_change_t *change, const char *type,
    const inbox_campaign_t *campaign)
{
    inbox_change_event_t  *e;

    memset(change, 0, sizeof(inbox_change_t));

    change->campaign = campaign;

    e = inbox_change_append(change, type, NULL, NULL);
    e->campaign_id = campaign->id;
    e->campaign_kind = inbox_campaign_kind_name(campaign->kind);
}


void
inbox_change_campaign(inbox_change_t *change,
    const inbox_campaign_t *campaign)
{
    inbox_change_campaign_event(change, "campaign.progress", campaign);
}


void
inbox_change_campaign_updated(inbox_change_t *change,
    const inbox_campaign_t *campaign)
{
    inbox_change_campaign_event(change, INBOX_EVENT_CAMPAIGN_UPDATED,
                                campaign);
}


void
inbox_change_campaign_deleted(inbox_change_t *change,
    const char *campaign_id, inbox_campaign_kind_t kind)
{
    inbox_change_event_t  *e;

    memset(change, 0, sizeof(inbox_change_t));

    e = inbox_change_append(change, INBOX_EVENT_CAMPAIGN_DELETED, NULL,
                            NULL);
    e->campaign_id = campaign_id;
    e->campaign_kind = inbox_campaign_kind_name(kind);
}


/* the team */


/* A frame that names one thing by its id under key. */
static char *
inbox_event_naming(const char *type, int64_t org_seq, const char *epoch,
    const char *key, const char *id)
{
    yajl_gen  g;

    g = inbox_event_begin(type, org_seq, epoch);
    if (g == NULL) {
        return NULL;
    }

    inbox_json_key(g, key);
    inbox_json_string(g, id);

    return inbox_event_finish(g);
}


char *
inbox_event_user(const char *type, int64_t org_seq, const char *epoch,
    const char *user_id)
{
    return inbox_event_naming(type, org_seq, epoch, "user_id", user_id);
}


char *
inbox_event_token(int64_t org_seq, const char *epoch, const char *token_id)
{
    return inbox_event_naming(INBOX_EVENT_TOKEN_REVOKED, org_seq, epoch,
                              "token_id", token_id);
}


char *
inbox_event_session(int64_t org_seq, const char *epoch,
    const char *session_id)
{
    return inbox_event_naming(INBOX_EVENT_SESSION_ENDED, org_seq, epoch,
                              "session_id", session_id);
}


const char *
inbox_event_ends_access(const char *type)
{
    if (strcmp(type, INBOX_EVENT_USER_REMOVED) == 0
        || strcmp(type, INBOX_EVENT_USER_SIGNED_OUT) == 0)
    {
        return "user_id";
    }

    if (strcmp(type, INBOX_EVENT_TOKEN_REVOKED) == 0) {
        return "token_id";
    }

    if (strcmp(type, INBOX_EVENT_SESSION_ENDED) == 0) {
        return "session_id";
    }

    return NULL;
}


/* contacts */


char *
inbox_event_contacts_imported(int64_t org_seq, const char *epoch)
{
    yajl_gen  g;

    g = inbox_event_begin(INBOX_EVENT_CONTACTS_IMPORTED, org_seq, epoch);
    if (g == NULL) {
        return NULL;
    }

    return inbox_event_finish(g);
}


/* billing */


char *
inbox_event_billing_updated(int64_t org_seq, const char *epoch,
    const inbox_billing_t *billing)
{
    yajl_gen  g;

    g = inbox_event_begin(INBOX_EVENT_BILLING_UPDATED, org_seq, epoch);
    if (g == NULL) {
        return NULL;
    }

    inbox_json_key(g, "billing");
    inbox_json_billing(g, billing);

    return inbox_event_finish(g);
}


void
inbox_change_billing(inbox_change_t *change, const inbox_billing_t *billing)
{
    memset(change, 0, sizeof(inbox_change_t));

    change->billing = billing;
    inbox_change_append(change, INBOX_EVENT_BILLING_UPDATED, NULL, NULL);
}


/* settings */


char *
inbox_event_settings_updated(int64_t org_seq, const char *epoch,
    const inbox_settings_t *settings)
{
    yajl_gen  g;

    g = inbox_event_begin(INBOX_EVENT_SETTINGS_UPDATED, org_seq, epoch);
    if (g == NULL) {
        return NULL;
    }

    inbox_json_key(g, "settings");
    inbox_json_settings(g, settings);

    return inbox_event_finish(g);
}


void
inbox_change_settings(inbox_change_t *change,
    const inbox_settings_t *settings)
{
    memset(change, 0, sizeof(inbox_change_t));

    change->settings = settings;
    inbox_change_append(change, INBOX_EVENT_SETTINGS_UPDATED, NULL, NULL);
}


void
inbox_change_user(inbox_change_t *change, const char *type,
    const char *user_id)
{
    memset(change, 0, sizeof(inbox_change_t));

    inbox_change_append(change, type, NULL, NULL)->user_id = user_id;
}


void
inbox_change_token(inbox_change_t *change, const char *token_id)
{
    memset(change, 0, sizeof(inbox_change_t));

    inbox_change_append(change, INBOX_EVENT_TOKEN_REVOKED, NULL, NULL)
        ->token_id = token_id;
}


void
inbox_change_session(inbox_change_t *change, const char *session_id)
{
    memset(change, 0, sizeof(inbox_change_t));

    inbox_change_append(change, INBOX_EVENT_SESSION_ENDED, NULL, NULL)
        ->session_id = session_id;
}


/*
 * Appends an event of type to change: NULL when change holds as many as
 * it can (only inbox_change_add_contact adds to a change already made).
 */
static inbox_change_event_t *
inbox_change_append(inbox_change_t *change, const char *type,
    const char *conversation_id, const char *message_id)
{
    inbox_change_event_t  *e;

    if (change->count == INBOX_CHANGE_EVENTS_MAX) {
        return NULL;
    }

    e = &change->items[change->count++];

    memset(e, 0, sizeof(inbox_change_event_t));
    e->type = type;
    e->conversation_id = conversation_id;
    e->message_id = message_id;
    e->unread_total = -1;

    return e;
}


int
inbox_change_wants_total(const inbox_change_t *change)
{
    size_t  i;

    for (i = 0; i < change->count; i++) {
        if (change->items[i].unread_total >= 0) {
            return 1;
        }
    }

    return 0;
}


void
inbox_change_set_total(inbox_change_t *change, int64_t unread_total)
{
    size_t  i;

    for (i = 0; i < change->count; i++) {
        if (change->items[i].unread_total >= 0) {
            change->items[i].unread_total = unread_total;
        }
    }
}


int
inbox_change_render(inbox_change_t *change, int64_t first, const char *epoch)
{
    size_t                 i;
    inbox_event_ref_t      ref;
    inbox_change_event_t  *e;

    snprintf(change->epoch, sizeof(change->epoch), "%s", epoch ? epoch : "");

    for (i = 0; i < change->count; i++) {
        e = &change->items[i];
        e->org_seq = first + (int64_t) i;

        free(e->frame);
        e->frame = NULL;

        /* the live frame is the stored reference rendered now */
        ref.type = e->type;
        ref.org_seq = e->org_seq;
        ref.epoch = epoch;
        ref.unread_total = e->unread_total;
        ref.message = change->message;
        ref.conversation = change->conversation;
        ref.contact = change->contact;
        ref.campaign = change->campaign;
        ref.user_id = e->user_id;
        ref.token_id = e->token_id;
        ref.session_id = e->session_id;
        ref.billing = change->billing;
        ref.settings = change->settings;
        ref.campaign_id = e->campaign_id;
        ref.campaign_kind = e->campaign_kind;

        if (inbox_event_ref_render(&ref, &e->frame) != 0) {
            return -1;
        }
    }

    return 0;
}


/* resume */


int64_t
inbox_event_ref_unread(const inbox_event_ref_t *ref)
{
    return strcmp(ref->type, "unread.total") == 0 ? ref->unread_total : -1;
}


unsigned
inbox_event_ref_needs(const char *type)
{
    if (strcmp(type, "message.created") == 0) {
        return INBOX_EVENT_NEEDS_MESSAGE | INBOX_EVENT_NEEDS_CONVERSATION;
    }

    if (strcmp(type, "message.updated") == 0
        || strcmp(type, "message.status") == 0)
    {
        return INBOX_EVENT_NEEDS_MESSAGE;
    }

    if (strcmp(type, "conversation.updated") == 0) {
        return INBOX_EVENT_NEEDS_CONVERSATION;
    }

    if (strcmp(type, "contact.updated") == 0) {
        return INBOX_EVENT_NEEDS_CONVERSATION | INBOX_EVENT_NEEDS_CONTACT;
    }

    if (strcmp(type, "campaign.progress") == 0
        || strcmp(type, INBOX_EVENT_CAMPAIGN_UPDATED) == 0)
    {
        return INBOX_EVENT_NEEDS_CAMPAIGN | INBOX_EVENT_NEEDS_CAMPAIGN_ID;
    }

    if (strcmp(type, INBOX_EVENT_CAMPAIGN_DELETED) == 0) {
        return INBOX_EVENT_NEEDS_CAMPAIGN_ID;
    }

    if (strcmp(type, INBOX_EVENT_USER_UPDATED) == 0
        || strcmp(type, INBOX_EVENT_USER_REMOVED) == 0
        || strcmp(type, INBOX_EVENT_USER_SIGNED_OUT) == 0)
    {
        return INBOX_EVENT_NEEDS_USER;
    }

    if (strcmp(type, INBOX_EVENT_TOKEN_REVOKED) == 0) {
        return INBOX_EVENT_NEEDS_TOKEN;
    }

    if (strcmp(type, INBOX_EVENT_SESSION_ENDED) == 0) {
        return INBOX_EVENT_NEEDS_SESSION;
    }

    if (strcmp(type, INBOX_EVENT_CONTACTS_IMPORTED) == 0) {
        return INBOX_EVENT_NEEDS_NOTHING;
    }

    if (strcmp(type, INBOX_EVENT_BILLING_UPDATED) == 0) {
        return INBOX_EVENT_NEEDS_BILLING;
    }

    if (strcmp(type, INBOX_EVENT_SETTINGS_UPDATED) == 0) {
        return INBOX_EVENT_NEEDS_SETTINGS;
    }

    return 0;
}


int
inbox_event_ref_render(const inbox_event_ref_t *ref, char **frame)
{
    unsigned     needs;
    const char  *type;

    *frame = NULL;
    type = ref->type;

    if (strcmp(type, "unread.total") == 0) {
        *frame = inbox_event_unread_total(ref->org_seq, ref->epoch,
                                          ref->unread_total);
        return *frame ? 0 : -1;
    }

    needs = inbox_event_ref_needs(type);

    /* a campaign deleted since its event: what a browser must show of
     * it now is that it is gone */
    if ((needs & INBOX_EVENT_NEEDS_CAMPAIGN_ID)
        && ref->campaign_id != NULL && ref->campaign_id[0] != '\0'
        && (ref->campaign == NULL
            || strcmp(type, INBOX_EVENT_CAMPAIGN_DELETED) == 0))
    {
        *frame = inbox_event_campaign_deleted(ref->org_seq, ref->epoch,
                                              ref->campaign_id,
                                              ref->campaign_kind);
        return *frame ? 0 : -1;
    }

    if (needs == 0
        || ((needs & INBOX_EVENT_NEEDS_MESSAGE) && ref->message == NULL)
        || ((needs & INBOX_EVENT_NEEDS_CONVERSATION)
            && ref->conversation == NULL)
        || ((needs & INBOX_EVENT_NEEDS_CONTACT) && ref->contact == NULL)
        || ((needs & INBOX_EVENT_NEEDS_CAMPAIGN) && ref->campaign == NULL)
        || ((needs & INBOX_EVENT_NEEDS_USER)
            && (ref->user_id == NULL || ref->user_id[0] == '\0'))
        || ((needs & INBOX_EVENT_NEEDS_TOKEN)
            && (ref->token_id == NULL || ref->token_id[0] == '\0'))
        || ((needs & INBOX_EVENT_NEEDS_SESSION)
            && (ref->session_id == NULL || ref->session_id[0] == '\0'))
        || ((needs & INBOX_EVENT_NEEDS_BILLING) && ref->billing == NULL)
        || ((needs & INBOX_EVENT_NEEDS_SETTINGS) && ref->settings == NULL)
        || needs == INBOX_EVENT_NEEDS_CAMPAIGN_ID)
    {
        return 1;
    }

    if (strcmp(type, "message.created") == 0) {
        *frame = inbox_event_message_created(ref->org_seq, ref->epoch,
                                             ref->message, ref->conversation);

    } else if (strcmp(type, "message.updated") == 0) {
        *frame = inbox_event_message_updated(ref->org_seq, ref->epoch,
                                             ref->message);

    } else if (strcmp(type, "message.status") == 0) {
        *frame = inbox_event_message_status(ref->org_seq, ref->epoch,
                                            ref->message);

    } else if (strcmp(type, "conversation.updated") == 0) {
        *frame = inbox_event_conversation_updated(ref->org_seq, ref->epoch,
                                                  ref->conversation);

    } else if (strcmp(type, "campaign.progress") == 0) {
        *frame = inbox_event_campaign_progress(ref->org_seq, ref->epoch,
                                               ref->campaign);

    } else if (strcmp(type, INBOX_EVENT_CAMPAIGN_UPDATED) == 0) {
        *frame = inbox_event_campaign_updated(ref->org_seq, ref->epoch,
                                              ref->campaign);

    } else if (needs & INBOX_EVENT_NEEDS_USER) {
        *frame = inbox_event_user(type, ref->org_seq, ref->epoch,
                                  ref->user_id);

    } else if (needs & INBOX_EVENT_NEEDS_TOKEN) {
        *frame = inbox_event_token(ref->org_seq, ref->epoch, ref->token_id);

    } else if (needs & INBOX_EVENT_NEEDS_SESSION) {
        *frame = inbox_event_session(ref->org_seq, ref->epoch,
                                     ref->session_id);

    } else if (needs & INBOX_EVENT_NEEDS_BILLING) {
        *frame = inbox_event_billing_updated(ref->org_seq, ref->epoch,
                                             ref->billing);

    } else if (needs & INBOX_EVENT_NEEDS_SETTINGS) {
        *frame = inbox_event_settings_updated(ref->org_seq, ref->epoch,
                                              ref->settings);

    } else if (needs & INBOX_EVENT_NEEDS_NOTHING) {
        *frame = inbox_event_contacts_imported(ref->org_seq, ref->epoch);

    } else {
        *frame = inbox_event_contact_updated(ref->org_seq, ref->epoch,
                                             ref->contact);
    }

    return *frame ? 0 : -1;
}


inbox_status_t
inbox_events_replayable(const char *epoch, const char *current_epoch,
    int64_t after_seq, int64_t newest_seq, int64_t oldest,
    inbox_error_t *err)
{
    if (strcmp(epoch, current_epoch) != 0) {
        return inbox_error_set_field(err, INBOX_ERR_CONFLICT, "epoch",
                                     "These events are of another stream: "
                                     "reload.");
    }

    if (after_seq >= newest_seq) {
        return INBOX_OK;
    }

    /* kept events are the newest, with no hole: the first one needed is
     * there when the oldest kept is at or before it */
    if (oldest == 0 || oldest > after_seq + 1) {
        return inbox_error_set_field(err, INBOX_ERR_CONFLICT, "org_seq",
                                     "Events after %lld are no longer "
                                     "kept: reload.", (long long) after_seq);
    }

    return INBOX_OK;
}


int
inbox_event_prunable(const inbox_event_retention_t *keep, int64_t now,
    int64_t newest_seq, int64_t org_seq, int64_t created_at)
{
    int64_t  max_seq, before;

    inbox_event_prune_bounds(keep, now, newest_seq, &max_seq, &before);

    return created_at < before && org_seq <= max_seq;
}


void
inbox_event_prune_bounds(const inbox_event_retention_t *keep, int64_t now,
    int64_t newest_seq, int64_t *max_seq, int64_t *before)
{
    *max_seq = newest_seq - keep->keep_count;
    *before = now - keep->keep_ms;
}




int
inbox_change_push(inbox_change_t *change, const char *org_id,
    inbox_event_list_t *list)
{
    size_t  i, first;

    if (list == NULL) {
        inbox_change_free(change);
        return 0;
    }

    first = list->count;

    for (i = 0; i < change->count; i++) {
        /* the list owns the frame from here, also when the push fails */
        if (inbox_event_list_add(list, org_id, change->items[i].org_seq,
                                 change->items[i].type, change->epoch,
                                 change->items[i].unread_total,
                                 change->items[i].frame)
            != 0)
        {
            change->items[i].frame = NULL;
            inbox_event_list_truncate(list, first);
            inbox_change_free(change);
            return -1;
        }

        change->items[i].frame = NULL;
    }

    return 0;
}


void
inbox_change_free(inbox_change_t *change)
{
    size_t  i;

    for (i = 0; i < change->count; i++) {
        free(change->items[i].frame);
        change->items[i].frame = NULL;
    }
}


static yajl_gen
inbox_event_begin(const char *type, int64_t org_seq, const char *epoch)
{
    yajl_gen  g;

    g = inbox_json_begin();
    if (g == NULL) {
        return NULL;
    }

    yajl_gen_map_open(g);
    inbox_json_key(g, "type");
    inbox_json_string(g, type);
    inbox_json_key(g, "org_seq");
    inbox_json_int(g, org_seq);
    inbox_json_key(g, "epoch");
    inbox_json_string(g, epoch ? epoch : "");

    return g;
}


static char *
inbox_event_finish(yajl_gen g)
{
    yajl_gen_map_close(g);

    return inbox_json_finish(g, NULL);
}
