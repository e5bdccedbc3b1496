/*
 * Events: what a browser must see change, as the JSON frames the
 * WebSocket pushes (see the Realtime part of the API contract).
 *
 * Each event carries its organization's org_seq (one more than the last
 * event of that organization) and the stream's epoch.  The store builds the
 * frames inside the transaction that makes the change, from the data it
 * has in memory, and stores the event itself only as a reference (type,
 * position, the ids it is about): what the frame shows is in the other
 * tables already.  The nginx module passes the frames to ws-server as
 * datagrams; ws-server forwards the frame bytes unchanged to the
 * organization's sockets.
 */
#ifndef INBOX_EVENT_H
#define INBOX_EVENT_H

#include <stddef.h>
#include <stdint.h>
#include <inbox/dgram.h>
#include <inbox/model.h>
#include <inbox/contact.h>
#include <inbox/campaign.h>
#include <inbox/billing.h>
#include <inbox/settings.h>
#include <inbox/error.h>

#define INBOX_EVENT_TYPE_MAX  32

typedef struct {
    char      org_id[INBOX_ID_MAX];
    int64_t   org_seq;
    /* what ws-server needs without reading the frame: "" when unknown */
    char      type[INBOX_EVENT_TYPE_MAX];      /* "message.created", ... */
    char      epoch[INBOX_EPOCH_MAX];
    int64_t   unread_total;      /* the count of an unread.total; else -1 */
    char     *json;      /* the frame, NUL terminated; owned by the list */
    size_t    len;
} inbox_event_t;

typedef struct {
    inbox_event_t  *items;
    size_t          count;
    size_t          capacity;
} inbox_event_list_t;

/* Takes ownership of json (malloc'd).  Returns 0, or -1 when out of memory
 * (json is freed then too).  type and epoch may be NULL (unknown);
 * unread_total is -1 unless the event is an unread.total. */
int inbox_event_list_add(inbox_event_list_t *list, const char *org_id,
    int64_t org_seq, const char *type, const char *epoch,
    int64_t unread_total, char *json);
/* Keeps the first count events, dropping those after (a rolled back
 * savepoint). */
void inbox_event_list_truncate(inbox_event_list_t *list, size_t count);
void inbox_event_list_free(inbox_event_list_t *list);

/* Frames, malloc'd and NUL terminated; NULL when out of memory. */
/* ping_secs: the socket hears something at least that often (ws-server's
 * {"type":"ping"} when nothing else goes), so a client that hears nothing
 * for twice that may take it for dead. */
char *inbox_event_hello(int64_t org_seq, const char *epoch,
    int64_t unread_total, unsigned ping_secs);
char *inbox_event_message_created(int64_t org_seq, const char *epoch,
    const inbox_message_t *message, const inbox_conversation_t *conversation);
char *inbox_event_conversation_updated(int64_t org_seq, const char *epoch,
    const inbox_conversation_t *conversation);
char *inbox_event_unread_total(int64_t org_seq, const char *epoch,
    int64_t count);
/* {"type":"contact.updated",…,"contact":{…}}: the contact as
 * GET /api/v1/contacts/{id} shows it (its campaigns and polls aside),
 * once made, after a change of its opt-out state, or of its tags or time
 * zone without a new name (inbox_change_contact), for which a browser
 * showing the contact reads it again and a Contacts list shows it (a
 * contact newer than it lists, a new one, joins it). */
char *inbox_event_contact_updated(int64_t org_seq, const char *epoch,
    const inbox_contact_record_t *contact);
/* media */
/* "message.updated" with the message as it is now: a copy of an inbound
 * image landed (or will never come), so browsers show it. */
char *inbox_event_message_updated(int64_t org_seq, const char *epoch,
    const inbox_message_t *message);
/* replies and delivery */
/* {"type":"message.status","org_seq","epoch","id","conversation_id",
 * "status","error_code","can_send_again"}: a message's delivery moved
 * (can_send_again: resend.h's inbox_resend_can). */
char *inbox_event_message_status(int64_t org_seq, const char *epoch,
    const inbox_message_t *message);
/* campaigns */
/* {"type":"campaign.progress","org_seq","epoch","id","status",
 * "paused_reason","paused_number","paused_number_display",
 * "paused_error_code","cancelled_reason","cancelled_message",
 * "counts":{"recipients","suppressed","waiting_quiet_hours","queued",
 * "sent","delivered","failed","cancelled","replied"}}, and a poll's
 * "tally":[{"number","option","count"}]: where a campaign or poll
 * stands (inbox_json_campaign_refused: which number the carrier
 * refused; inbox_json_campaign_cancelled: why it was cancelled). */
char *inbox_event_campaign_progress(int64_t org_seq, const char *epoch,
    const inbox_campaign_t *campaign);
/*
 * {"type":"campaign.updated","org_seq","epoch","campaign":{…}}: a
 * campaign or poll made, edited, moved, sent, paused, resumed or
 * cancelled through the API, as GET /api/v1/campaigns/{id} shows it, so
 * that every browser's list adds or redraws its card.
 * {"type":"campaign.deleted","org_seq","epoch","id","kind"}: one deleted
 * ("campaign" or "poll"), so that every list drops its card.  A
 * campaign.updated or campaign.progress whose campaign was deleted
 * since resumes as campaign.deleted (kind null when the event was
 * stored without it), which is what a browser must show of it now.
 */
#define INBOX_EVENT_CAMPAIGN_UPDATED  "campaign.updated"
#define INBOX_EVENT_CAMPAIGN_DELETED  "campaign.deleted"

char *inbox_event_campaign_updated(int64_t org_seq, const char *epoch,
    const inbox_campaign_t *campaign);
/* kind: "campaign", "poll" or NULL (unknown) */
char *inbox_event_campaign_deleted(int64_t org_seq, const char *epoch,
    const char *campaign_id, const char *kind);
/*
 * The team
 * {"type":"user.updated"|"user.removed"|"user.signed_out","org_seq",
 * "epoch","user_id"}: a user was added or their role changed; a user was
 * removed; a user's sessions were all ended (a new password).  They name
 * the user only: a browser showing the team reads it again, and one
 * signed in as that user reads who it is again.
 */
#define INBOX_EVENT_USER_UPDATED     "user.updated"
#define INBOX_EVENT_USER_REMOVED     "user.removed"
#define INBOX_EVENT_USER_SIGNED_OUT  "user.signed_out"

char *inbox_event_user(const char *type, int64_t org_seq, const char *epoch,
    const char *user_id);
/* {"type":"token.revoked","org_seq","epoch","token_id"}: an API token was
 * revoked (its id is what inboxctl token list shows). */
#define INBOX_EVENT_TOKEN_REVOKED    "token.revoked"

char *inbox_event_token(int64_t org_seq, const char *epoch,
    const char *token_id);
/* {"type":"session.ended","org_seq","epoch","session_id"}: a session
 * was signed out (logout); its id is the store's, never its secret. */
#define INBOX_EVENT_SESSION_ENDED    "session.ended"

char *inbox_event_session(int64_t org_seq, const char *epoch,
    const char *session_id);
/*
 * Whether an event of type ends someone's access: the key of its frame
 * that names them, "user_id" (user.removed, user.signed_out: the user),
 * "token_id" (token.revoked: what that token opened) or "session_id"
 * (session.ended: what that session opened), else NULL.  ws-server
 * closes the WebSockets of the one named and refuses tickets issued
 * before the event.
 */
const char *inbox_event_ends_access(const char *type);
/* contacts */
/* {"type":"contacts.imported","org_seq","epoch"}: an import changed more
 * contacts than it pushes one by one (INBOX_IMPORT_EVENTS_MAX): browsers
 * read their lists, open thread and contact again. */
#define INBOX_EVENT_CONTACTS_IMPORTED  "contacts.imported"

char *inbox_event_contacts_imported(int64_t org_seq, const char *epoch);
/* billing */
/* {"type":"billing.updated","org_seq","epoch","billing":{"active","plan",
 * "credits":{"balance","held"}}}: credits were granted, billing was made
 * active or inactive, or the plan changed (inboxctl), with the billing
 * as GET /api/v1/billing shows it.  A reply's hold, capture or release
 * makes none: its message.status tells browsers, which read the
 * billing then, and one event per message would double the stream. */
#define INBOX_EVENT_BILLING_UPDATED  "billing.updated"

char *inbox_event_billing_updated(int64_t org_seq, const char *epoch,
    const inbox_billing_t *billing);
/* settings */
/* {"type":"settings.updated","org_seq","epoch","settings":{…}}: a
 * settings edit (the API's PATCH, inboxctl settings set) changed what
 * GET /api/v1/settings shows, with the settings as it shows them, so
 * that every browser's Settings view and whatever reads the zone or
 * quiet hours follow.  An edit that changes nothing makes none. */
#define INBOX_EVENT_SETTINGS_UPDATED  "settings.updated"

char *inbox_event_settings_updated(int64_t org_seq, const char *epoch,
    const inbox_settings_t *settings);

/*
 * Resume: a stored event rendered again
 * A stored event is a reference (type, org_seq, epoch, the ids, the unread
 * total).  Its frame is rendered again from the rows as they are now, by
 * the same renderers as the live frame, with the stored org_seq and
 * epoch: resume and live never differ in shape.  A backend asks which
 * rows a type needs, loads them, and renders.
 */
#define INBOX_EVENT_NEEDS_MESSAGE       0x1
#define INBOX_EVENT_NEEDS_CONVERSATION  0x2
#define INBOX_EVENT_NEEDS_CONTACT       0x4   /* the conversation's contact */
#define INBOX_EVENT_NEEDS_CAMPAIGN      0x8   /* with its counts */
#define INBOX_EVENT_NEEDS_USER          0x10  /* the user's id, no row */
#define INBOX_EVENT_NEEDS_TOKEN         0x20  /* the token's id, no row */
#define INBOX_EVENT_NEEDS_SESSION       0x40  /* the session's id, no row */
#define INBOX_EVENT_NEEDS_NOTHING       0x80  /* the type alone */
#define INBOX_EVENT_NEEDS_BILLING       0x100 /* the organization's */
#define INBOX_EVENT_NEEDS_CAMPAIGN_ID   0x200 /* its id and kind, no row */
#define INBOX_EVENT_NEEDS_SETTINGS      0x400 /* the organization's */

typedef struct {
    const char                    *type;
    int64_t                        org_seq;
    const char                    *epoch;
    int64_t                        unread_total;   /* unread.total's */
    const inbox_message_t         *message;        /* NULL: none loaded */
    const inbox_conversation_t    *conversation;   /* NULL: none loaded */
    const inbox_contact_record_t  *contact;        /* NULL: none loaded */
    const inbox_campaign_t        *campaign;       /* NULL: none loaded */
    const char                    *user_id;        /* NULL: none */
    const char                    *token_id;       /* NULL: none */
    const char                    *session_id;     /* NULL: none */
    const inbox_billing_t         *billing;        /* NULL: none loaded */
    const inbox_settings_t        *settings;       /* NULL: none loaded */
    /* a campaign event's: what a deleted one's frame names */
    const char                    *campaign_id;    /* NULL: none */
    const char                    *campaign_kind;  /* NULL: unknown */
} inbox_event_ref_t;

/* The rows (INBOX_EVENT_NEEDS_*) a type's frame is made of; 0 for a type
 * this version does not know. */
unsigned inbox_event_ref_needs(const char *type);

/* The frame (malloc'd, NUL terminated) in *frame.  Returns 0, -1 when
 * out of memory, or 1 when it cannot be rendered: a type not known or a
 * row it needs not given (deleted since). */
int inbox_event_ref_render(const inbox_event_ref_t *ref, char **frame);
/* The unread total the record header carries: unread.total's, else -1. */
int64_t inbox_event_ref_unread(const inbox_event_ref_t *ref);

/* How many events inbox_store_events_since returns at most a call. */
#define INBOX_EVENTS_SINCE_MAX  1000

/*
 * Whether the events (after_seq, newest_seq] of a stream whose epoch is
 * current_epoch can be replayed to a client that saw epoch: INBOX_OK, or
 * INBOX_ERR_CONFLICT with err->field "epoch" (another stream: the store
 * was made again) or "org_seq" (some of them are no longer kept: oldest
 * is the oldest event kept, 0 for none).  Both mean "reset".  Retention
 * deletes an organization's events oldest first, so the ones kept are
 * always the newest, without a hole.
 */
inbox_status_t inbox_events_replayable(const char *epoch,
    const char *current_epoch, int64_t after_seq, int64_t newest_seq,
    int64_t oldest, inbox_error_t *err);

/*
 * Retention: an organization keeps its events younger than keep_ms and
 * its newest keep_count, whichever keeps more; older ones are deleted
 * oldest first by inbox_store_events_prune.
 */
#define INBOX_EVENTS_KEEP_MS_DEFAULT     (24 * 3600 * 1000LL)
#define INBOX_EVENTS_KEEP_COUNT_DEFAULT  10000

typedef struct {
    int64_t  keep_ms;       /* >= 0 */
    int64_t  keep_count;    /* >= 0 */
} inbox_event_retention_t;

/* Whether the event org_seq, made at created_at, of a stream whose newest
 * event is newest_seq may be deleted at now: neither bound keeps it. */
int inbox_event_prunable(const inbox_event_retention_t *keep, int64_t now,
    int64_t newest_seq, int64_t org_seq, int64_t created_at);

/* The same rule as two bounds a store's query can hold: the event may be
 * deleted when its org_seq is at most *max_seq and it was made before
 * *before. */
void inbox_event_prune_bounds(const inbox_event_retention_t *keep,
    int64_t now, int64_t newest_seq, int64_t *max_seq, int64_t *before);


/*
 * Which events a change makes, decided here for every store backend.  A
 * backend plans the change (inbox_change_message, inbox_change_action),
 * reserves change.count org_seq numbers, gives the organization's unread
 * total when the change asks for it, renders, stores each item as its
 * reference (type, org_seq, the ids, the total) in the same transaction,
 * and after that pushes the frames to the caller's list.
 */
#define INBOX_CHANGE_EVENTS_MAX  4

typedef struct {
    const char  *type;              /* "message.created", ... */
    int64_t      org_seq;           /* set by inbox_change_render */
    const char  *message_id;        /* NULL: none; borrowed */
    const char  *conversation_id;   /* NULL: none; borrowed */
    const char  *campaign_id;       /* NULL: none; borrowed */
    const char  *campaign_kind;     /* its kind's name; NULL: none */
    const char  *user_id;           /* NULL: none; borrowed */
    const char  *token_id;          /* NULL: none; borrowed */
    const char  *session_id;        /* NULL: none; borrowed */
    int64_t      unread_total;      /* -1: none */
    char        *frame;             /* malloc'd by inbox_change_render */
} inbox_change_event_t;

typedef struct {
    size_t                       count;
    inbox_change_event_t         items[INBOX_CHANGE_EVENTS_MAX];
    const inbox_message_t       *message;        /* borrowed; may be NULL */
    const inbox_conversation_t  *conversation;   /* borrowed */
    const inbox_contact_record_t  *contact;      /* borrowed; may be NULL */
    const inbox_campaign_t      *campaign;       /* borrowed; may be NULL */
    const inbox_billing_t       *billing;        /* borrowed; may be NULL */
    const inbox_settings_t      *settings;       /* borrowed; may be NULL */
    char                         epoch[INBOX_EPOCH_MAX];  /* of render */
} inbox_change_t;

/* A new message in conversation (as it is after the message): always
 * message.created, conversation.updated and unread.total (an inbound
 * message always raises the total). */
void inbox_change_message(inbox_change_t *change,
    const inbox_message_t *message, const inbox_conversation_t *conversation);
/* An action on a thread that changed it (before, after): conversation.
 * updated, and unread.total only when the organization's total moved
 * (inbox_conversation_unread_shown). */
void inbox_change_action(inbox_change_t *change,
    const inbox_conversation_t *before, const inbox_conversation_t *after);
/*
 * A contact made or changed by a create, a PATCH or an import (changed:
 * what changed, INBOX_CONTACT_CHANGED_*, contact.h), as it is now with
 * its conversation.  Made: contact.updated, whatever it was given, so
 * every Contacts list shown adds it (its thread, without messages, is
 * in no thread list, and a list's conversation.updated has no tags).
 * Renamed: conversation.updated for its conversation, so every list,
 * the thread's header and its contact panel show the name.  Else its
 * tags or time zone: contact.updated, so the browsers showing its
 * contact panel or its Contacts row show them.  Nothing changed (0): no
 * event.  Every store write that makes or changes a contact decides
 * here.
 */
void inbox_change_contact(inbox_change_t *change,
    const inbox_contact_record_t *contact,
    const inbox_conversation_t *conversation, unsigned changed);
/* An import batch that changed more contacts than INBOX_IMPORT_EVENTS_MAX:
 * one contacts.imported for all of them. */
void inbox_change_imported(inbox_change_t *change);
/*
 * Opt-out and opt-in (optout.h)
 * A contact opted out or in: contact.updated (its opt-out state) and
 * conversation.updated (its conversation, as it is then, which shows
 * opted_out in every browser's list).  The event refers to the
 * contact's conversation, which names the contact.
 */
void inbox_change_opt(inbox_change_t *change,
    const inbox_contact_record_t *contact,
    const inbox_conversation_t *conversation);
/*
 * A new message that made its contact (an inbound text from a new
 * number: INBOX_CONTACT_CHANGED_CREATED, so that every Contacts list
 * shown adds it, as one made by hand), or opted it out or in (a
 * keyword: INBOX_CONTACT_CHANGED_OPT), or both: the message's events
 * (inbox_change_message, the conversation as it is after it), then one
 * contact.updated with the contact as it is after it.  Nothing (0): no
 * event, as for a message of a contact that was there and kept as it
 * was.
 */
void inbox_change_add_contact(inbox_change_t *change,
    const inbox_contact_record_t *contact, unsigned changed);

/* media */
/* A message's media changed (a copy stored or given up): message.updated
 * with the message, which the browsers showing its thread redraw; and
 * conversation.updated when conversation is not NULL: the copy of the
 * thread's last message's first attachment told what it really is
 * (last_message.media_type, the list row's "Contact card"). */
void inbox_change_media(inbox_change_t *change,
    const inbox_message_t *message, const inbox_conversation_t *conversation);
/* replies and delivery */
/* A failed reply sent again (resend.h), as marked: message.updated with
 * it, so that every browser showing it drops its Send again. */
void inbox_change_resent(inbox_change_t *change,
    const inbox_message_t *message);
/* A reply stored in conversation (as it is after it): message.created
 * and conversation.updated; the unread total does not move. */
void inbox_change_reply(inbox_change_t *change,
    const inbox_message_t *message, const inbox_conversation_t *conversation);
/* A message's delivery status moved (message as it is now):
 * message.status.  A repeat or a late report moves nothing and makes no
 * change at all. */
void inbox_change_status(inbox_change_t *change,
    const inbox_message_t *message);
/* campaigns */
/* Where a campaign stands (its counts moved): campaign.progress, which
 * refers to the campaign.  The sender makes it, at most a few a second
 * a campaign (inbox_store_campaign_progress). */
void inbox_change_campaign(inbox_change_t *change,
    const inbox_campaign_t *campaign);
/* A campaign or poll made or changed through the API (as it is after
 * the change): campaign.updated, which refers to it.  Every store write
 * a person's create, edit, move, send, pause, resume or cancel makes
 * decides here. */
void inbox_change_campaign_updated(inbox_change_t *change,
    const inbox_campaign_t *campaign);
/* A campaign or poll deleted: campaign.deleted naming campaign_id
 * (borrowed) and its kind. */
void inbox_change_campaign_deleted(inbox_change_t *change,
    const char *campaign_id, inbox_campaign_kind_t kind);
/* A change to the team: one event of type (INBOX_EVENT_USER_*) naming
 * user_id (borrowed). */
void inbox_change_user(inbox_change_t *change, const char *type,
    const char *user_id);
/* A token revoked: token.revoked naming token_id (borrowed). */
void inbox_change_token(inbox_change_t *change, const char *token_id);
/* A session signed out: session.ended naming session_id (borrowed). */
void inbox_change_session(inbox_change_t *change, const char *session_id);
/* Credits granted, billing set or the plan changed: billing.updated with
 * billing (borrowed), the organization's as it is after the change. */
void inbox_change_billing(inbox_change_t *change,
    const inbox_billing_t *billing);
/* A settings edit that changed them (inbox_settings_same says not the
 * same before and after): settings.updated with settings (borrowed), as
 * they are after it.  A backend calls it only then. */
void inbox_change_settings(inbox_change_t *change,
    const inbox_settings_t *settings);
/* Whether the change carries the organization's unread total, which the
 * backend then gives with inbox_change_set_total before rendering. */
int inbox_change_wants_total(const inbox_change_t *change);
void inbox_change_set_total(inbox_change_t *change, int64_t unread_total);
/* Numbers the events first .. first + count - 1 and renders their frames;
 * 0, or -1 when out of memory. */
int inbox_change_render(inbox_change_t *change, int64_t first,
    const char *epoch);
/* Hands the frames over to list (which may be NULL: nobody pushes), in
 * order; 0, or -1 when out of memory (then the list has none of them). */
int inbox_change_push(inbox_change_t *change, const char *org_id,
    inbox_event_list_t *list);
/* Frees the frames not handed over. */
void inbox_change_free(inbox_change_t *change);

/*
 * The datagrams from the module to ws-server carry one or more records,
 * each a header line
 *
 *     ORG_ID ORG_SEQ EPOCH TYPE UNREAD LEN\n
 *
 * and then the LEN bytes of the frame.  EPOCH and TYPE are "-" when
 * unknown, UNREAD is the count of an unread.total and "-" for any other
 * type.  ws-server reads the header only and forwards the frame as is.  A
 * batch's events travel together in a few datagrams: Linux queues only a
 * handful of datagrams on a unix socket (net.unix.max_dgram_qlen),
 * however small.
 */
#define INBOX_EVENT_DATAGRAM_MAX  (64 * 1024)

/*
 * Sends events to ws-server through peer as datagrams of as many records
 * as fit.  Each datagram waits for room in ws-server's queue up to the
 * peer's wait bound (inbox_dgram_peer_set_wait); past it, or when nobody
 * reads, the rest of the list is shed (ws-server fills the gap from the
 * store and browsers resume from org_seq).  Returns how many events were
 * not handed over (their datagram was refused, or a frame fits in no
 * datagram); inbox_events_shed_report counts them for a log line.
 */
size_t inbox_events_publish(inbox_dgram_peer_t *peer,
    const inbox_event_list_t *events);

/*
 * The same for several ws-server processes: each datagram is built once
 * and sent to every open peer in turn, each waiting up to its own bound.
 * lost[p] (npeers of them) is how many events peer p did not get; a
 * closed peer (fd -1) gets and loses nothing.
 */
void inbox_events_publish_each(inbox_dgram_peer_t *peers, size_t npeers,
    const inbox_event_list_t *events, size_t *lost);

/* At most this many ws-server sockets (inbox_events_socket, the sender's
 * --events). */
#define INBOX_EVENTS_PEERS_MAX  16

/* Adds lost to peer's count of shed events, for a thread that may not
 * log: another reports them (inbox_events_shed_report with lost 0). */
void inbox_events_shed_add(inbox_dgram_peer_t *peer, size_t lost);

/*
 * Adds lost to peer's count of shed events.  Returns 1 when the caller
 * should log a line now (at most one a second per peer), with the events
 * shed since the last line in *since and all of them in *total; else 0.
 * Safe from several threads at once.
 */
int inbox_events_shed_report(inbox_dgram_peer_t *peer, size_t lost,
    uint64_t *since, uint64_t *total);

/* Appends event's record to buf (of size bytes) at *used, moving *used
 * past it.  Returns 0, or -1 (buf unchanged) when it does not fit. */
int inbox_event_record_append(const inbox_event_t *event, char *buf,
    size_t size, size_t *used);

/* One record as read: strings copied, the frame pointing into the
 * datagram. */
typedef struct {
    char         org_id[INBOX_ID_MAX];
    int64_t      org_seq;
    char         type[INBOX_EVENT_TYPE_MAX];   /* "" when unknown */
    char         epoch[INBOX_EPOCH_MAX];       /* "" when unknown */
    int64_t      unread_total;                 /* -1: none */
    const char  *frame;
    size_t       frame_len;
} inbox_event_record_t;

/*
 * Reads the record at buf + *offset into record and moves *offset past
 * it.  Returns 1 for a record, 0 at the end of buf, or -1 for a malformed
 * record (the rest of buf cannot be trusted).
 */
int inbox_event_record_next(const char *buf, size_t len, size_t *offset,
    inbox_event_record_t *record);

#endif
