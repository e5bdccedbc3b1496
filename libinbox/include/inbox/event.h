/*
 * Events: what a browser must see change, as the JSON frames the
 * WebSocket pushes (see the Realtime part of the API contract).
 *
 * Each event carries its organization's org_seq (one more than the last
 * event of that organization) and the stream's epoch.  The store builds the
 * frames inside the transaction that makes the change; the nginx module
 * passes them to ws-server as datagrams; ws-server forwards the frame bytes
 * unchanged to the organization's sockets.
 */
#ifndef INBOX_EVENT_H
#define INBOX_EVENT_H

#include <stddef.h>
#include <stdint.h>
#include <inbox/model.h>

typedef struct {
    char      org_id[INBOX_ID_MAX];
    int64_t   org_seq;
    char     *json;      /* the frame, NUL terminated; owned by the list */
    size_t    len;
} inbox_event_t;

typedef struct {
    inbox_event_t  *items;
    size_t          count;
    size_t          capacity;
} inbox_event_list_t;

/* Takes ownership of json (malloc'd).  Returns 0, or -1 when out of memory
 * (json is freed then too). */
int inbox_event_list_push(inbox_event_list_t *list, const char *org_id,
    int64_t org_seq, char *json);
/* Keeps the first count events, dropping those after (a rolled back
 * savepoint). */
void inbox_event_list_truncate(inbox_event_list_t *list, size_t count);
void inbox_event_list_free(inbox_event_list_t *list);

/* Frames, malloc'd and NUL terminated; NULL when out of memory. */
char *inbox_event_hello(int64_t org_seq, const char *epoch,
    int64_t unread_total);
char *inbox_event_message_created(int64_t org_seq, const char *epoch,
    const inbox_message_t *message, const inbox_conversation_t *conversation);
char *inbox_event_conversation_updated(int64_t org_seq, const char *epoch,
    const inbox_conversation_t *conversation);
char *inbox_event_unread_total(int64_t org_seq, const char *epoch,
    int64_t count);

/*
 * The datagram from the module to ws-server: one line "ORG_ID ORG_SEQ\n"
 * then the frame.  ws-server reads the header and forwards the rest as is.
 * inbox_event_datagram returns the bytes written or 0 when buf is too small.
 */
#define INBOX_EVENT_DATAGRAM_MAX  (64 * 1024)

size_t inbox_event_datagram(const inbox_event_t *event, char *buf,
    size_t size);
/* Returns 0 and points *frame into buf, or -1 for a malformed datagram. */
int inbox_event_datagram_parse(const char *buf, size_t len,
    char org_id[INBOX_ID_MAX], int64_t *org_seq, const char **frame,
    size_t *frame_len);

#endif
