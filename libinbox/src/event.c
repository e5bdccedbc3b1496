/*
 * Events: the list the store fills inside a transaction, the WebSocket
 * frames, and the datagram that carries a frame to ws-server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inbox/event.h>
#include <inbox/render.h>


static yajl_gen inbox_event_begin(const char *type, int64_t org_seq,
    const char *epoch);
static char *inbox_event_finish(yajl_gen g);


int
inbox_event_list_push(inbox_event_list_t *list, const char *org_id,
    int64_t org_seq, char *json)
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
inbox_event_hello(int64_t org_seq, const char *epoch, int64_t unread_total)
{
    yajl_gen  g;

    g = inbox_event_begin("hello", org_seq, epoch);
    if (g == NULL) {
        return NULL;
    }

    inbox_json_key(g, "unread_total");
    inbox_json_int(g, unread_total);

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


int
inbox_event_record_append(const inbox_event_t *event, char *buf,
    size_t size, size_t *used)
{
    int     n;
    size_t  room;

    room = size - *used;

    n = snprintf(buf + *used, room, "%s %lld %zu\n", event->org_id,
                 (long long) event->org_seq, event->len);

    if (n < 0 || (size_t) n >= room || room - (size_t) n < event->len) {
        return -1;
    }

    memcpy(buf + *used + n, event->json, event->len);
    *used += (size_t) n + event->len;

    return 0;
}


/* Reads a decimal number of at most 18 digits ending at end. */
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


int
inbox_event_record_next(const char *buf, size_t len, size_t *offset,
    char org_id[INBOX_ID_MAX], int64_t *org_seq, const char **frame,
    size_t *frame_len)
{
    size_t       id_len, i;
    int64_t      seq, flen;
    const char  *start, *end, *nl, *sp1, *sp2;

    if (*offset >= len) {
        return 0;
    }

    start = buf + *offset;
    end = buf + len;

    nl = memchr(start, '\n', (size_t) (end - start));
    if (nl == NULL) {
        return -1;
    }

    sp1 = memchr(start, ' ', (size_t) (nl - start));
    if (sp1 == NULL) {
        return -1;
    }

    sp2 = memchr(sp1 + 1, ' ', (size_t) (nl - sp1 - 1));
    if (sp2 == NULL) {
        return -1;
    }

    id_len = (size_t) (sp1 - start);
    if (id_len == 0 || id_len >= INBOX_ID_MAX) {
        return -1;
    }

    for (i = 0; i < id_len; i++) {
        if (start[i] <= ' ' || start[i] > '~') {
            return -1;
        }
    }

    if (inbox_event_number(sp1 + 1, sp2, &seq) != 0
        || inbox_event_number(sp2 + 1, nl, &flen) != 0
        || flen == 0 || flen > end - (nl + 1))
    {
        return -1;
    }

    memcpy(org_id, start, id_len);
    org_id[id_len] = '\0';
    *org_seq = seq;
    *frame = nl + 1;
    *frame_len = (size_t) flen;
    *offset = (size_t) (nl + 1 + flen - buf);

    return 1;
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
