/*
 * A contact's record (GET /api/v1/contacts/{id}), its name and tags, and
 * the rules they follow, the same for every store backend and route.
 *
 * Tags: at most INBOX_TAGS_MAX a contact, each 1 to INBOX_TAG_MAX
 * characters once trimmed, unique without regard to ASCII case ("VIP"
 * and "vip" are one tag: the first spelling given is kept), with a
 * visible character, and without ";" (a CSV import's separator of
 * tags), control characters (C0, DEL, C1), format characters (Cf:
 * zero-width and bidi ones, U+FEFF) or line and paragraph separators;
 * tags stored before that rule are kept as they are.  A name: at
 * most INBOX_NAME_MAX characters once trimmed; an empty one is no name
 * (null).  A time zone (what quiet hours read the contact's clock in,
 * quiet.h): a zone of the system's tz database that ICU's calendar knows
 * too ("America/New_York"); none (null) is the organization's.  Strings
 * are valid UTF-8 (the request reader and the CSV import check before
 * these run).
 */
#ifndef INBOX_CONTACT_H
#define INBOX_CONTACT_H

#include <stddef.h>
#include <stdint.h>
#include <inbox/error.h>
#include <inbox/model.h>
#include <inbox/settings.h>

#define INBOX_TAGS_MAX   50
#define INBOX_TAG_MAX    40      /* characters */
#define INBOX_NAME_MAX   100     /* characters */
#define INBOX_KEYWORD_MAX  32    /* bytes of a keyword as texted ("STOP") */

/* A contact's tags in the order they were given; items and each string
 * are malloc'd and freed by inbox_tags_free. */
typedef struct {
    char    **items;
    size_t    count;
} inbox_tags_t;

void inbox_tags_free(inbox_tags_t *tags);

/*
 * Adds one tag as a person typed it (len bytes): trimmed (Unicode's
 * white space too), checked by the rule above, and left out when the set
 * has it already in any ASCII case.  INBOX_ERR_INVALID (field "tags", the
 * message saying which part of the rule) for a tag the rule refuses or one
 * more than INBOX_TAGS_MAX; INBOX_ERR_INTERNAL when out of memory.  Every tag
 * that comes in goes through it: a contact's create and edit, an import's
 * rows.
 */
inbox_status_t inbox_tags_add(inbox_tags_t *tags, const char *tag,
    size_t len, inbox_error_t *err);

/* Whether tag (len bytes) is nothing once trimmed as inbox_tags_add
 * trims it: a list's empty piece ("a;;b", "a; " with a no-break space). */
int inbox_tag_blank(const char *tag, size_t len);

/*
 * Adds one tag a person names to choose contacts by (a campaign's or
 * poll's audience), trimmed as inbox_tags_add trims: INBOX_ERR_INVALID
 * (field "tags") only for an empty or too long one, since it picks
 * among the tags that exist, some stored before today's rule.
 */
inbox_status_t inbox_tags_add_named(inbox_tags_t *tags, const char *tag,
    size_t len, inbox_error_t *err);

/*
 * Adds one tag as a store holds it, not checked again: a tag stored
 * before a rule it breaks is read as it is (a contact keeps it, a
 * campaign's audience saved before keeps naming it).  Left out when the
 * set has it already in any ASCII case; INBOX_ERR_INVALID for one more
 * than INBOX_TAGS_MAX, INBOX_ERR_INTERNAL when out of memory.
 */
inbox_status_t inbox_tags_add_stored(inbox_tags_t *tags, const char *tag,
    inbox_error_t *err);

/* A tag's key: the tag with ASCII letters in lower case, what tags are
 * told apart and filtered by (a backend without NOCASE stores it). */
#define INBOX_TAG_KEY_MAX  (INBOX_TAG_MAX * 4 + 1)
void inbox_tag_key(const char *tag, char out[INBOX_TAG_KEY_MAX]);

/* 1 when the set holds tag in any ASCII case. */
int inbox_tags_has(const inbox_tags_t *tags, const char *tag);

/* A stored list of tags as a JSON array of strings ("[]", or NULL for
 * none); INBOX_ERR_INTERNAL when it is not one or out of memory. */
inbox_status_t inbox_tags_from_json(const char *json, inbox_tags_t *tags,
    inbox_error_t *err);

/*
 * A name as a person typed it (len bytes), trimmed into a malloc'd
 * string in *out: NULL when it is empty (no name).  INBOX_ERR_INVALID
 * (field "name") when it is too long or holds a control character.
 */
inbox_status_t inbox_contact_name(const char *name, size_t len, char **out,
    inbox_error_t *err);

/*
 * A time zone as a person typed it (len bytes), trimmed into out: "" when
 * it is empty (none).  INBOX_ERR_INVALID (field "timezone") when it is no
 * zone of the tz database that quiet hours can read.
 */
inbox_status_t inbox_contact_timezone(const char *tz, size_t len,
    char out[INBOX_TIMEZONE_MAX], inbox_error_t *err);

/* The record a contact route answers. */
typedef struct {
    char          id[INBOX_ID_MAX];
    char         *name;                    /* NULL when unknown */
    char          phone[INBOX_PHONE_MAX];
    inbox_tags_t  tags;
    int           opted_out;
    int64_t       opted_out_at;            /* 0: null */
    char          opt_out_source[16];      /* "keyword", "manual",
                                              "carrier"; "" is null */
    char          opt_out_keyword[INBOX_KEYWORD_MAX];
                                           /* the keyword that opted out
                                              ("STOP"); "" is null */
    int64_t       opted_in_at;             /* the last opt-in, 0: none
                                              (optout.h); not shown */
    int64_t       opt_latest_at;           /* the newest opt-out or
                                              opt-in seen, as optout.h
                                              orders them, 0: none; not
                                              shown */
    char          timezone[INBOX_TIMEZONE_MAX];  /* "" is null: the
                                              organization's */
    int64_t       created_at;
    char          conversation_id[INBOX_ID_MAX];
} inbox_contact_record_t;

void inbox_contact_record_free(inbox_contact_record_t *contact);

/* What a create or PATCH sets: a field is left as it is unless its set_
 * flag says otherwise.  name NULL is no name; tags are checked ones
 * (inbox_tags_add) and replace the contact's; timezone a checked one
 * (inbox_contact_timezone), "" none. */
typedef struct {
    int            set_name;
    const char    *name;
    int            set_tags;
    inbox_tags_t   tags;
    int            set_timezone;
    char           timezone[INBOX_TIMEZONE_MAX];
} inbox_contact_edit_t;

/* What a change did to a contact, which says what it pushes
 * (inbox_change_contact, inbox_change_add_contact, event.h); CREATED:
 * the change made it; OPT: a message's keyword opted it out or in. */
#define INBOX_CONTACT_CHANGED_NAME      0x01
#define INBOX_CONTACT_CHANGED_TAGS      0x02
#define INBOX_CONTACT_CHANGED_TIMEZONE  0x04
#define INBOX_CONTACT_CHANGED_CREATED   0x08
#define INBOX_CONTACT_CHANGED_OPT       0x10

/*
 * What edit changes in contact (as it is before it): a field set to what
 * the contact has already is not changed.  Tags are stored as given and
 * shown in that order, so the same tags in another order or another case
 * are a change; 0 for an edit that changes nothing.
 */
unsigned inbox_contact_edit_changes(const inbox_contact_record_t *contact,
    const inbox_contact_edit_t *edit);

/* GET /api/v1/contacts: newest contacts first, keyset paginated. */
typedef struct {
    const char  *q;         /* NULL or "": no search; else part of a name
                               or of the number, whatever the formatting */
    const char  *country;   /* q's number without its country code is
                               read as written there (search.h): the
                               organization's default country; NULL:
                               "US" */
    const char  *tag;       /* NULL or "": any; else exactly this tag, in
                               any ASCII case */
    const char  *cursor;    /* NULL or "": the first page */
    unsigned     limit;     /* as inbox_list_limit says */
} inbox_contact_query_t;

typedef struct {
    inbox_contact_record_t  *items;
    size_t                   count;
    char                     next_cursor[INBOX_CURSOR_MAX];   /* "" null */
} inbox_contact_page_t;

void inbox_contact_page_free(inbox_contact_page_t *page);

/*
 * GET /api/v1/tags: the organization's tags, one per tag key (tags are
 * told apart as inbox_tag_key says, as audiences and the list's filter
 * match them), in key order (case-insensitive), at most
 * INBOX_TAGS_LIST_MAX of them (more says whether others follow).  Each
 * is spelled as the contact made first that carries it writes it, and
 * counts the contacts that carry it in any case and, of them, those
 * not opted out: the ones a campaign to that tag would send to (send
 * suppresses the others).
 */
#define INBOX_TAGS_LIST_MAX  1000

typedef struct {
    char     tag[INBOX_TAG_KEY_MAX];    /* as first written */
    int64_t  contacts;
    int64_t  sendable;                  /* not opted out */
} inbox_tag_count_t;

typedef struct {
    inbox_tag_count_t  *items;          /* malloc'd */
    size_t              count;
    int                 more;           /* tags past the first
                                           INBOX_TAGS_LIST_MAX */
} inbox_tag_page_t;

void inbox_tag_page_free(inbox_tag_page_t *page);

/* One line of an import, checked: the number in E.164, the name (NULL:
 * keep the contact's), the tags to add to the contact's and the time zone
 * ("": keep the contact's); repeated when an earlier line of the same
 * import has its number (import.h). */
typedef struct {
    char           phone[INBOX_PHONE_MAX];
    char          *name;
    inbox_tags_t   tags;
    char           timezone[INBOX_TIMEZONE_MAX];
    int            repeated;
} inbox_contact_row_t;

void inbox_contact_row_free(inbox_contact_row_t *row);

/* What a batch of an import did: a repeated row (which finds the
 * contact an earlier row made or found) is counted apart, not updated;
 * capped counts the contacts (once each in a batch) that a row gave a
 * tag they lack but could not take, having INBOX_TAGS_MAX already. */
typedef struct {
    size_t  created;
    size_t  updated;
    size_t  repeated;
    size_t  capped;
} inbox_import_count_t;

/* The contact's timeline (GET /api/v1/contacts/{id}/timeline): its
 * messages, its opt-out and opt-in events (see optout.h), the campaigns
 * and polls handed over to it and its poll answers (campaign.h). */
typedef enum {
    INBOX_TIMELINE_MESSAGE = 0,
    INBOX_TIMELINE_OPT_OUT,
    INBOX_TIMELINE_OPT_IN,
    INBOX_TIMELINE_CAMPAIGN,
    INBOX_TIMELINE_POLL_ANSWER
} inbox_timeline_type_t;

/* A campaign or poll sent to the contact, or its answer to a poll. */
typedef struct {
    char      id[INBOX_ID_MAX];   /* the campaign's or poll's */
    char      send_id[INBOX_ID_MAX];  /* the store's id of the send (the
                                     one answered): the cursor's place */
    int       poll;               /* 1: a poll */
    char     *name;               /* its name; a poll answer: the question */
    char      status[16];         /* _CAMPAIGN: its message's status */
    char      state[24];          /* and the recipient's state (campaign.h:
                                     "suppressed", "cancelled": never
                                     sent) */
    unsigned  answer;             /* _POLL_ANSWER: the option, 1..9 */
    char     *answer_text;        /* and its text */
} inbox_timeline_campaign_t;

/* An opt-out or opt-in of the contact, as its timeline keeps it. */
typedef struct {
    char                   id[INBOX_ID_MAX];
    inbox_timeline_type_t  type;          /* _OPT_OUT or _OPT_IN */
    int64_t                at;
    char                   source[16];    /* "keyword", "manual",
                                             "carrier" */
    char                   keyword[INBOX_KEYWORD_MAX];  /* "" none */
    char                   message_id[INBOX_ID_MAX];    /* the message
                                             that said it; "" none */
} inbox_contact_event_t;

/* The contact's events after a position, newest first (a store's
 * contact_events_list); more says whether others follow. */
typedef struct {
    inbox_contact_event_t  *items;
    size_t                  count;
    int                     more;
} inbox_contact_event_page_t;

void inbox_contact_event_page_free(inbox_contact_event_page_t *page);

typedef struct {
    inbox_timeline_type_t  type;
    int64_t                at;
    inbox_message_t        message;     /* INBOX_TIMELINE_MESSAGE */
    inbox_contact_event_t  event;       /* _OPT_OUT, _OPT_IN */
    inbox_timeline_campaign_t  campaign;    /* _CAMPAIGN, _POLL_ANSWER */
} inbox_timeline_item_t;

/* A timeline's cursor holds each of its streams' places. */
#define INBOX_TIMELINE_CURSOR_MAX  (INBOX_CURSOR_MAX + 2 * INBOX_ID_MAX + 48)

typedef struct {
    inbox_timeline_item_t  *items;
    size_t                  count;
    char                    next_cursor[INBOX_TIMELINE_CURSOR_MAX];
                                                             /* "" null */
} inbox_timeline_page_t;

void inbox_timeline_page_free(inbox_timeline_page_t *page);
const char *inbox_timeline_type_name(inbox_timeline_type_t type);

#endif
