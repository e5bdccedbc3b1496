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


size_t
inbox_event_datagram(const inbox_event_t *event, char *buf, size_t size)
{
    int  n;

    n = snprintf(buf, size, "%s %lld\n", event->org_id,
                 (long long) event->org_seq);
    if (n < 0 || (size_t) n >= size || size - (size_t) n < event->len) {
        return 0;
    }

    memcpy(buf + n, event->json, event->len);

    return (size_t) n + event->len;
}


int
inbox_event_datagram_parse(const char *buf, size_t len,
    char org_id[INBOX_ID_MAX], int64_t *org_seq, const char **frame,
    size_t *frame_len)
{
    size_t       id_len, i;
    int64_t      seq;
    const char  *p, *nl, *space;

    nl = memchr(buf, '\n', len);
    if (nl == NULL) {
        return -1;
    }

    space = memchr(buf, ' ', (size_t) (nl - buf));
    if (space == NULL) {
        return -1;
    }

    id_len = (size_t) (space - buf);
    if (id_len == 0 || id_len >= INBOX_ID_MAX) {
        return -1;
    }

    for (i = 0; i < id_len; i++) {
        if (buf[i] <= ' ' || buf[i] > '~') {
            return -1;
        }
    }

    p = space + 1;
    if (p == nl || nl - p > 18) {
        return -1;
    }

    seq = 0;
    for ( /* void */ ; p < nl; p++) {
        if (*p < '0' || *p > '9') {
            return -1;
        }
        seq = seq * 10 + (*p - '0');
    }

    if (nl + 1 == buf + len) {
        return -1;
    }

    memcpy(org_id, buf, id_len);
    org_id[id_len] = '\0';
    *org_seq = seq;
    *frame = nl + 1;
    *frame_len = len - (size_t) (nl + 1 - buf);

    return 0;
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
