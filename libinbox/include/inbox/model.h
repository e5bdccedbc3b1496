/*
 * The domain as the store hands it out: organizations, numbers, contacts,
 * conversations and messages.
 *
 * Ids are opaque strings (the SQLite backend uses decimal row ids, the
 * MongoDB backend ObjectId hex).  Times are milliseconds since the Unix
 * epoch, UTC.  Fixed-size buffers hold short bounded strings; heap strings
 * (char *) belong to the struct and are freed by its _free function.
 */
#ifndef INBOX_MODEL_H
#define INBOX_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <inbox/keywords.h>
#include <inbox/phone.h>

#define INBOX_ID_MAX        32
#define INBOX_MEDIA_MAX     10     /* Twilio's limit per message */
#define INBOX_BODY_MAX      1600   /* Twilio's limit on what we send,
                                      counted in UTF-16 units, as Twilio
                                      does (segments.h); what intake
                                      keeps: inbound.h */
/* A carrier's media URL and NUL: Telnyx's own limit on a URL (its
 * inbound media are long signed URLs) */
#define INBOX_MEDIA_URL_CARRIER_MAX  2048
#define INBOX_PREVIEW_MAX   161    /* bytes of body shown in a thread list */
#define INBOX_CONTENT_TYPE_MAX  128    /* a media type as a carrier names it */
#define INBOX_CURSOR_MAX    96
#define INBOX_EPOCH_MAX     24
#define INBOX_CAMPAIGN_KIND_MAX  12   /* "campaign" or "poll" and NUL */
#define INBOX_LIST_LIMIT_DEFAULT  50     /* a page, when not asked */
#define INBOX_LIST_LIMIT_MAX      200    /* a page, at most */

typedef enum {
    INBOX_CARRIER_TWILIO = 0,
    INBOX_CARRIER_TELNYX
} inbox_carrier_t;

typedef enum {
    INBOX_ROLE_MEMBER = 0,
    INBOX_ROLE_BILLING
} inbox_role_t;

typedef enum {
    INBOX_INBOUND = 0,
    INBOX_OUTBOUND
} inbox_direction_t;

typedef enum {
    INBOX_FILTER_ALL = 0,       /* everything not archived (with a
                                   message, as every filter) */
    INBOX_FILTER_UNREAD,
    INBOX_FILTER_UNRESPONDED,   /* an inbound message waits for a
                                   response (inbox_conversation_unresponded) */
    INBOX_FILTER_STARRED,
    INBOX_FILTER_ARCHIVED
} inbox_filter_t;

#define INBOX_FILTER_COUNT  (INBOX_FILTER_ARCHIVED + 1)

/* What a person does to a thread (POST /conversations/{id}/NAME). */
typedef enum {
    INBOX_ACTION_READ = 0,
    INBOX_ACTION_UNREAD,
    INBOX_ACTION_ARCHIVE,
    INBOX_ACTION_UNARCHIVE,
    INBOX_ACTION_STAR,
    INBOX_ACTION_UNSTAR
} inbox_action_t;

/* A sending number and the carrier credentials that go with it. */
typedef struct {
    char             org_id[INBOX_ID_MAX];
    char             e164[INBOX_PHONE_MAX];
    inbox_carrier_t  carrier;
    char            *account_sid;   /* may be NULL */
    char            *auth_token;    /* Twilio: signs webhooks; may be NULL */
    char            *public_key;    /* Telnyx: base64 Ed25519; may be NULL */
    char            *api_key;       /* may be NULL */
    char            *api_base;      /* may be NULL: the carrier's real one */
    /* the carrier answers STOP, START and HELP itself (Twilio's default
     * opt-out handling, Telnyx): the inbox records them, answers none */
    int              carrier_answers_keywords;
} inbox_number_t;

void inbox_number_free(inbox_number_t *number);

/* Who a request acts as, once its token or session is checked. */
typedef struct {
    char          org_id[INBOX_ID_MAX];
    char          user_id[INBOX_ID_MAX];   /* "" for an org-wide token */
    char          token_id[INBOX_ID_MAX];  /* "" for a session */
    /* the session's own id (not its secret): "" for a token */
    char          session_id[INBOX_ID_MAX];
    inbox_role_t  role;
    /* when the token or session ends by itself, unless a session is used
     * again (ms); 0 for never */
    int64_t       ends_at;
} inbox_principal_t;

/* media (see media.h) */

/* A stored file's name: a token of 43 base64url characters, ".", the
 * extension of its type (up to 4 characters: "jpg", "webp"), NUL. */
#define INBOX_MEDIA_FILE_MAX  49

/* Whether a message's media has a copy a browser may fetch. */
typedef enum {
    INBOX_MEDIA_PENDING = 0,    /* only at the carrier's url (which needs
                                   the carrier's credentials): a copy is
                                   still to be made */
    INBOX_MEDIA_STORED,         /* ours: file, in the media directory */
    INBOX_MEDIA_FAILED          /* no copy will be made */
} inbox_media_state_t;

typedef struct {
    /* the carrier's; "" when intake could not keep it (inbound.h) */
    char                 url[INBOX_MEDIA_URL_CARRIER_MAX];
    char                 content_type[INBOX_CONTENT_TYPE_MAX];
                                         /* stored: the type its bytes
                                                are; else the carrier's,
                                                "" when it gave none */
    inbox_media_state_t  state;
    char                 file[INBOX_MEDIA_FILE_MAX];  /* "" unless stored */
    int64_t              bytes;          /* stored: its size */
    char                 upload_id[INBOX_ID_MAX];
                                         /* the upload it is (media.h's
                                            inbox_media_record_t), which
                                            a campaign's edit or a
                                            message's Send again names
                                            again; "" when not known: a
                                            copy, a campaign's or a
                                            MongoDB message stored
                                            before */
} inbox_media_t;

/*
 * One inbound message as a carrier reported it, before it is stored.  Its
 * strings are valid UTF-8.  body usually points into the carrier's form;
 * when intake had to repair it, into owned, which inbox_inbound_free frees
 * (a message built by hand leaves owned NULL).
 */
typedef struct {
    inbox_carrier_t  carrier;
    const char      *provider_id;         /* MessageSid: idempotency key */
    char             from[INBOX_PHONE_MAX];
    char             to[INBOX_PHONE_MAX];
    const char      *body;                /* never NULL; may be "" */
    unsigned         segments;            /* as the carrier counted them */
    size_t           media_count;
    inbox_media_t    media[INBOX_MEDIA_MAX];
    int64_t          received_at;         /* ms */
    int64_t          carrier_at;          /* ms: when the carrier got it
                                             from the contact, as it says
                                             (Telnyx), at most
                                             received_at; 0: unknown */
    char            *owned;               /* NULL, or what body points to */
} inbox_inbound_t;

void inbox_inbound_free(inbox_inbound_t *msg);

typedef struct {
    char   id[INBOX_ID_MAX];
    char  *name;                          /* NULL when unknown */
    char   phone[INBOX_PHONE_MAX];
    int    opted_out;
} inbox_contact_t;

/*
 * A contact's thread before its first two-way message (a contact added or
 * imported, who may have been sent campaigns and polls since) has no
 * activity (and only it: every other message moves the activity to its
 * time): no list shows it nor counts it (inbox_filter_matches), so an
 * import of 100,000 contacts and a campaign to them add nothing to the
 * inbox; it is read by its id (the contact's record names it), its
 * last_activity_at null (its last_message too, unless a campaign's), and
 * joins the lists with the contact's first message or a person's reply.
 */
#define INBOX_ACTIVITY_NONE  0

typedef struct {
    char               id[INBOX_ID_MAX];
    inbox_contact_t    contact;
    int                has_last_message;
    struct {
        char               id[INBOX_ID_MAX];
        inbox_direction_t  direction;
        char               preview[INBOX_PREVIEW_MAX];
        char               media_type[INBOX_CONTENT_TYPE_MAX];
        int64_t            at;
        /* who sent an outbound one, for a list to say ("You:", a
         * colleague, a campaign): the user, else the campaign or poll;
         * both "" for an inbound one, an automatic answer or an
         * organization-wide API token's reply */
        char               sent_by[INBOX_ID_MAX];
        char               campaign_id[INBOX_ID_MAX];
        char               campaign_kind[INBOX_CAMPAIGN_KIND_MAX];
        /* an outbound one's delivery as its message has it now, so that
         * a list can mark a reply that did not reach the phone; both ""
         * (null) for an inbound one */
        char               status[16];
        char               error_code[32];
    } last_message;
    int64_t            last_activity_at;    /* INBOX_ACTIVITY_NONE: no
                                               message yet */
    int64_t            unread_count;
    int                archived;
    int                starred;
    /* the newest inbound message's time while no response is as new
     * (inbox_conversation_unresponded); 0: none waits */
    int64_t            unresponded_at;
    /* the newest response's time: a person's reply or a keyword's
     * answer, never a campaign's or poll's bulk send; 0: none yet */
    int64_t            responded_at;
} inbox_conversation_t;

void inbox_conversation_free(inbox_conversation_t *conversation);

typedef struct {
    char               id[INBOX_ID_MAX];
    char               conversation_id[INBOX_ID_MAX];
    inbox_direction_t  direction;
    char              *body;
    size_t             media_count;
    inbox_media_t     *media;                /* media_count entries */
    char               status[16];           /* "" for inbound (null) */
    char               error_code[32];       /* "" when none (null) */
    unsigned           segments;
    unsigned           credits;
    int64_t            created_at;
    char               sent_by[INBOX_ID_MAX];  /* user id; "" is null */
    char               campaign_id[INBOX_ID_MAX];
                                             /* the campaign or poll it
                                                was sent for; "" none */
    char               campaign_kind[INBOX_CAMPAIGN_KIND_MAX];
                                             /* which of the two, so a
                                                client asks the right
                                                route; "" none, or not
                                                known (a MongoDB document
                                                stored before it was
                                                kept) */
    /* a failed reply sent again (resend.h): the message it went as, and
     * when; "" and 0 while it was not */
    char               resent_as[INBOX_ID_MAX];
    int64_t            resent_at;
} inbox_message_t;

void inbox_message_free(inbox_message_t *message);

typedef struct {
    inbox_conversation_t  *items;
    size_t                 count;
    char                   next_cursor[INBOX_CURSOR_MAX];  /* "" is null */
    int64_t                unread_total;
    /* how many threads of the organization each filter shows (the tabs),
     * whatever the search, indexed by inbox_filter_t; on a first page
     * only (has_counts, inbox_query_counted) */
    int64_t                counts[INBOX_FILTER_COUNT];
    int                    has_counts;
} inbox_conversation_page_t;

void inbox_conversation_page_free(inbox_conversation_page_t *page);

typedef struct {
    inbox_message_t  *items;
    size_t            count;
    char              next_cursor[INBOX_CURSOR_MAX];       /* "" is null */
} inbox_message_page_t;

void inbox_message_page_free(inbox_message_page_t *page);

typedef struct {
    inbox_filter_t  filter;
    const char     *q;          /* NULL or "": no search */
    /* q's number without its country code is read as written there
     * (search.h): the organization's default country; NULL: "US" */
    const char     *country;
    const char     *cursor;     /* NULL or "": the first page */
    unsigned        limit;      /* 1..INBOX_LIST_LIMIT_MAX */
    /* set by inbox_store_conversations_list (callers leave it 0): the
     * filter also shows archived threads (inbox_query_any_archived) */
    int             any_archived;
} inbox_conversation_query_t;

/* Where an organization's event stream stands, for a WebSocket "hello". */
typedef struct {
    int64_t  org_seq;
    char     epoch[INBOX_EPOCH_MAX];
    int64_t  unread_total;
} inbox_realtime_state_t;

/* Where an organization's event stream stands, without its unread total:
 * what ws-server compares with the events it was sent. */
typedef struct {
    int64_t  org_seq;                   /* 0 for an unknown organization */
    char     epoch[INBOX_EPOCH_MAX];
} inbox_stream_position_t;

#define INBOX_STREAM_POSITIONS_MAX  500     /* asked at once */

const char *inbox_carrier_name(inbox_carrier_t carrier);
/* The parse functions return 0, or -1 for an unknown name. */
int inbox_carrier_parse(const char *name, inbox_carrier_t *carrier);
const char *inbox_role_name(inbox_role_t role);
int inbox_role_parse(const char *name, inbox_role_t *role);
const char *inbox_direction_name(inbox_direction_t direction);
int inbox_filter_parse(const char *name, inbox_filter_t *filter);
const char *inbox_action_name(inbox_action_t action);
int inbox_action_parse(const char *name, inbox_action_t *action);


/*
 * The inbox's rules, the same for every store backend: a backend persists
 * and queries what these decide.
 */

/* A page's size: limit, INBOX_LIST_LIMIT_DEFAULT for 0, at most
 * INBOX_LIST_LIMIT_MAX. */
unsigned inbox_list_limit(unsigned limit);

/*
 * The thread list's line for a message: the body's first bytes (at most
 * INBOX_PREVIEW_MAX - 1), cut between two UTF-8 characters, and the type
 * of its first attachment as the carrier named it (or the upload's; ""
 * for none, or one the carrier did not name), as a name alone
 * (inbox_media_type_plain); once that attachment's copy is stored, the
 * type its bytes are (the store sets it, inbox_store_media_fetch_done).
 * A message without text
 * has the text "": a client says what it carries by that type (the web
 * app: "Picture message", "Contact card").
 */
typedef struct {
    char  text[INBOX_PREVIEW_MAX];
    char  media_type[INBOX_CONTENT_TYPE_MAX];
} inbox_preview_t;

void inbox_message_preview(const char *body, const inbox_media_t *media,
    size_t media_count, inbox_preview_t *out);

/* A carrier's media type as a name alone, in lower case and without
 * parameters ("Text/VCard; charset=utf-8" is "text/vcard"), into out (of
 * size bytes). */
void inbox_media_type_plain(const char *type, char *out, size_t size);

/* The type a thread's row takes once the copy of its last message's first
 * attachment is stored as content_type (what its bytes are): 1 and the
 * name in out, or 0 to keep what the carrier said (bytes of no known type
 * tell less than a carrier's "video/mp4"). */
int inbox_preview_copy_type(const char *content_type, char *out,
    size_t size);

/*
 * What a conversation adds to its organization's unread total (and so to
 * the badge of the default view): its unread_count, or 0 while archived.
 */
int64_t inbox_conversation_unread_shown(const inbox_conversation_t *c);

/*
 * Whether a message of time at becomes c's last message: at or after the
 * one there (its newest by time, which the web app answers and a reply's
 * last_seen_message_id names), so that a message stored late with an
 * earlier time (a carrier's retry, a keyword's answer timed just after
 * its message) never hides a newer one.  Each backend's writes of a
 * message (SQLite's UPDATE, MongoDB's update pipeline) say the same.
 */
int inbox_conversation_newer(const inbox_conversation_t *c, int64_t at);

/*
 * Whether c waits for a response ("unresponded"): its newest inbound
 * message that is no keyword is newer than its newest response, a
 * person's reply, a keyword's answer or an opt-out (at the same time,
 * the one stored last).  A
 * campaign's or poll's bulk send is no response: a contact whose
 * question went unanswered still waits after the next campaign, though
 * that campaign is the thread's last message.  Kept as unresponded_at
 * and responded_at by inbox_conversation_receive,
 * inbox_conversation_respond, inbox_conversation_reply and
 * inbox_conversation_bulk (reply.h), which
 * each backend's writes follow; shown as the conversation's
 * "unresponded".
 */
int inbox_conversation_unresponded(const inbox_conversation_t *c);

/* c's last message's preview becomes preview (for the rules below). */
void inbox_conversation_last_preview(inbox_conversation_t *c,
    const inbox_preview_t *preview);

/*
 * A new inbound message in c (as stored: its id, when, preview, and what
 * it does to the wait, inbox_keyword_wait): one more unread, an archived
 * thread comes back to the default view, and the last message and
 * activity follow it unless an older message arrives late (a carrier's
 * retry), which leaves them on the newer one (inbox_conversation_newer).
 * It waits for a response unless one is newer
 * (inbox_conversation_unresponded) or it is a keyword answered; an
 * opt-out is the response to what came before it.
 */
void inbox_conversation_receive(inbox_conversation_t *c,
    const char *message_id, int64_t at, const inbox_preview_t *preview,
    inbox_wait_t wait);

/*
 * A response to c at at (a person's reply, a keyword's answer, an
 * opt-out however it came): what came before it waits no longer, a
 * message newer than it still waits, and a carrier's late retry of an
 * older one will not wait.  Returns 1 when c changed.
 */
int inbox_conversation_respond(inbox_conversation_t *c, int64_t at);

/*
 * A person's action on c, changing its flags in place.  Returns 1 when c
 * changed, 0 when the action changes nothing (every action is idempotent:
 * the store then writes nothing and pushes nothing).
 *   read       unread_count 0
 *   unread     unread_count at least 1: the last message counts as unread
 *              again (in a thread without any inbound message too, so
 *              that the badge shows what the person asked for; not in
 *              one without any message, inbox_conversation_action_check);
 *              a new inbound message adds to it
 *   archive    archived (its unread leaves the organization's total)
 *   unarchive  back in the default view
 *   star, unstar
 */
int inbox_conversation_apply(inbox_conversation_t *c, inbox_action_t action);

/* INBOX_ERR_CONFLICT when a person's action cannot be taken on c: unread
 * on a thread without a message (INBOX_ACTIVITY_NONE: a contact added or
 * imported, or sent only campaigns), which no list shows, so it would
 * count in the unread total and nowhere a person could find it. */
inbox_status_t inbox_conversation_action_check(const inbox_conversation_t *c,
    inbox_action_t action, inbox_error_t *err);

/* Whether the filter's list shows c (without a search): the test the
 * backends' queries make, and what page->counts counts.  A thread
 * without a message is in none (INBOX_ACTIVITY_NONE). */
int inbox_filter_matches(inbox_filter_t filter, const inbox_conversation_t *c);

/* A search from the default view (INBOX_FILTER_ALL) also finds archived
 * threads (each says it is archived), so that nothing put away is lost;
 * the other filters keep their own rule. */
int inbox_query_any_archived(inbox_filter_t filter, const char *q);

/* Whether a list's page comes with the tabs' counts: a first page (no
 * cursor) does; a later one reads on the list whose counts the first
 * showed, and live events move them since.  The unread total comes with
 * every page (the API's contract). */
int inbox_query_counted(const inbox_conversation_query_t *query);

const char *inbox_filter_name(inbox_filter_t filter);

#endif
