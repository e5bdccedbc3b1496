/*
 * Access that ended: a user removed from the team (user.removed) or
 * signed out everywhere by a new password (user.signed_out), an API
 * token revoked (token.revoked), or a session signed out (session.ended).
 *
 * When such an event is delivered, in order, the open WebSockets of the
 * user (or opened with the token or session) in its organization are
 * closed with WS_ACCESS_CLOSE_ENDED, and for a ticket's lifetime a
 * connection whose ticket was issued before the event (its stream
 * position is below the event's org_seq) is closed as it opens: the
 * ticket outlived what it was issued on.  A ticket also carries when its
 * session or token ends by itself (inbox_ticket_lapsed); past that its
 * connection is closed the same way.  A browser then asks for a new
 * ticket, which a removed user, an ended session or a revoked token does
 * not get.
 *
 * Everything runs on the lws service thread.
 */
#ifndef WS_ACCESS_H
#define WS_ACCESS_H

#include <stddef.h>
#include <stdint.h>
#include <inbox/ticket.h>
#include "ws_fanout.h"

#define WS_ACCESS_CLOSE_ENDED  4003
/* what is remembered of an ending outlives every ticket issued before
 * it (tickets live INBOX_TICKET_TTL seconds) */
#define WS_ACCESS_KEEP_MS      ((INBOX_TICKET_TTL + 5) * 1000)

/* whom an ending names (the key inbox_event_ends_access gives) */
typedef enum {
    WS_ACCESS_USER = 0,
    WS_ACCESS_TOKEN,
    WS_ACCESS_SESSION
} ws_access_kind_t;

typedef struct {
    ws_access_kind_t  kind;
    char              id[INBOX_ID_MAX];
    int64_t           org_seq;      /* of the event that ended it */
    char              epoch[INBOX_EPOCH_MAX];
    int64_t           until_ms;     /* forgotten then */
} ws_access_ended_t;

/* An organization's endings of the last WS_ACCESS_KEEP_MS, and since
 * where its stream was watched here: only endings after that position
 * went through this process. */
typedef struct {
    ws_access_ended_t  *items;
    size_t              count;
    size_t              capacity;
    char                epoch[INBOX_EPOCH_MAX];   /* "": not yet */
    int64_t             since;
} ws_access_org_t;

/* The organization's stream is delivered here, in order, after since
 * (in epoch): where it began, or began again. */
void ws_access_watch(ws_access_org_t *access, const char *epoch,
    int64_t since);

/* An event of org_id delivered at org_seq: when its type ends someone's
 * access (inbox_event_ends_access), the user, token or session its frame
 * names is closed out and remembered. */
void ws_access_event(ws_access_org_t *access, ws_fanout_t *fanout,
    const char *org_id, int64_t org_seq, const char *epoch,
    const char *type, const char *frame, size_t len, int64_t now_ms);

/* A connection that just opened (or joins after its resume): closed when
 * its ticket was issued before its user's access ended, or its token or
 * session has ended by itself since (inbox_ticket_lapsed; joined ones
 * are closed at their end, ws_fanout_close_lapsed), or before the
 * stream was watched here (an ending in between would be unknown: after
 * a restart, say; a new ticket is past it).  Returns 1 when closed, else
 * 0. */
int ws_access_check(ws_access_org_t *access, ws_conn_t *conn,
    int64_t now_ms);

/* The organization's events up to org_seq to (in epoch) went by unread
 * here: a gap nobody was connected to read, or that the store could not
 * fill.  An ending among them is unknown, so a ticket issued before them
 * opens nothing, and the sockets that had not got past them are closed
 * (WS_ACCESS_CLOSE_ENDED): a new ticket proves their access again. */
void ws_access_skipped(ws_access_org_t *access, ws_fanout_t *fanout,
    const char *org_id, const char *epoch, int64_t to);

void ws_access_clear(ws_access_org_t *access);

#endif
