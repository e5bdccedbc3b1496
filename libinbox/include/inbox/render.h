/*
 * JSON for the HTTP API, through yajl: the contract's shapes of a
 * conversation, a message and an error.
 *
 * The inbox_render_* functions return a malloc'd, NUL-terminated document
 * (its length in *len when len is not NULL), or NULL when out of memory.
 * The inbox_json_* functions add one value to an open yajl generator, so
 * events and pages share the same shapes.
 */
#ifndef INBOX_RENDER_H
#define INBOX_RENDER_H

#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>
#include <inbox/account.h>
#include <inbox/error.h>
#include <inbox/model.h>
#include <inbox/contact.h>
#include <inbox/campaign.h>
#include <inbox/settings.h>
#include <inbox/billing.h>
#include <inbox/segments.h>
#include <inbox/search.h>

/* NULL is null; invalid UTF-8 is written repaired (see utf8.h), so no
 * answer or frame ever carries any. */
void inbox_json_string(yajl_gen g, const char *s);
void inbox_json_key(yajl_gen g, const char *key);
void inbox_json_int(yajl_gen g, int64_t v);
void inbox_json_bool(yajl_gen g, int v);
void inbox_json_time(yajl_gen g, int64_t ms);          /* ISO-8601, "Z" */
void inbox_json_time_or_null(yajl_gen g, int64_t ms);  /* 0: null */
/* A contact's number as two keys of the open map: "phone", its E.164,
 * and "phone_display", as people read it (inbox_phone_display), so that
 * every client shows numbers by the one rule. */
void inbox_json_phone(yajl_gen g, const char *e164);
void inbox_json_conversation(yajl_gen g, const inbox_conversation_t *c);
void inbox_json_message(yajl_gen g, const inbox_message_t *m);
/* One of a message's media: {"id","url","content_type","state",
 * "bytes"}, "id" (its upload's) only when known (render.c); its keys
 * but "id" alone, in a map the caller opened, for a campaign's, which
 * writes its upload's "id" (null when not known). */
void inbox_json_media(yajl_gen g, const inbox_media_t *media);
void inbox_json_media_fields(yajl_gen g, const inbox_media_t *media);

/* A new generator, and its buffer copied out as a malloc'd string (the
 * generator is freed either way). */
yajl_gen inbox_json_begin(void);
char *inbox_json_finish(yajl_gen g, size_t *len);

/* A list page as every list route answers it: {"items":[…],
 * "next_cursor"} (null when empty), each of the count items (size bytes
 * apart) written by item. */
typedef void (*inbox_json_item_pt)(yajl_gen g, const void *item);
char *inbox_json_page(const void *items, size_t count, size_t size,
    inbox_json_item_pt item, const char *next_cursor, size_t *len);

/* A list's search as inbox_search_parse read it, as a key of the open
 * map (NULL or none: nothing): "search":{"phone_digits":[...]}, the
 * digits a contact's number (E.164 without its "+") contains, one of
 * them, for the search to find it by number ([] for a name's search
 * only: "Suite 4"), so that a client checks a thread the list has not
 * shown yet (a new message meanwhile), and marks the digits a number
 * was found by, by the server's rule (search.h: a trunk "0", Mexico's
 * retired "1", the organization's country). */
void inbox_json_search(yajl_gen g, const inbox_search_t *search);

/* A campaign or poll as others name it, {"id","kind","name"}, left open
 * for the caller's own keys (a ledger entry's has none, a contact's
 * campaign its status), who closes the map. */
void inbox_json_campaign_ref_open(yajl_gen g, const char *id,
    inbox_campaign_kind_t kind, const char *name);

char *inbox_render_conversation(const inbox_conversation_t *c, size_t *len);
/* search: the list's search (inbox_json_search). */
char *inbox_render_conversation_page(const inbox_conversation_page_t *page,
    const inbox_search_t *search, size_t *len);
char *inbox_render_message_page(const inbox_message_page_t *page,
    size_t *len);
/* A contact (render_contact.c) as a list item and contact.updated show
 * it: without "campaigns" and "polls", which they do not read (a page of
 * contacts with their histories would be heavy). */
void inbox_json_contact(yajl_gen g, const inbox_contact_record_t *c);
/* A contact's record (GET contacts/{id}, and the answers of POST
 * contacts and PATCH contacts/{id}) with what list says: campaigns
 * [{"id","kind","name","sent_at","status"}] and polls [{"poll_id",
 * "question","answer" (the option's text),"answer_number",
 * "answered_at"}]. */
char *inbox_render_contact_record(const inbox_contact_record_t *c,
    const inbox_contact_campaigns_t *list, size_t *len);
/* search: the list's search (inbox_json_search), as for conversations. */
char *inbox_render_contact_page(const inbox_contact_page_t *page,
    const inbox_search_t *search, size_t *len);
/* The organization's tags (GET tags): {"items":[{"tag","contacts",
 * "sendable"}],"more"}, see inbox_tag_page_t. */
char *inbox_render_tag_page(const inbox_tag_page_t *page, size_t *len);
/* Entries {"type","at",...}: a message is {"type":"message","at",
 * "message":{...}}; an opt-out or opt-in {"type":"opt_out"|"opt_in","at",
 * "source","keyword","message_id"}; a campaign or poll handed over
 * {"type":"campaign","at","campaign":{"id","kind","name","status"}}; a
 * poll's answer {"type":"poll_answer","at","poll_id","question",
 * "answer","answer_number"}. */
char *inbox_render_timeline_page(const inbox_timeline_page_t *page,
    size_t *len);
/* {"error":{"code":…,"message":…[,"field":…]}} from err, with the extra
 * fields of its code: "needed" and "balance" (insufficient_credits),
 * "retry_after" in seconds (rate_limited).  The message is what a client
 * is told (inbox_error_client_message): a fixed sentence for internal and
 * unavailable, whose own message is for the server's log. */
char *inbox_render_error(const inbox_error_t *err, size_t *len);
/* Opens {"error":{ and writes err's code, message (message when not NULL,
 * else inbox_error_client_message's) and field: the caller adds its own
 * keys and closes both maps. */
void inbox_json_error_open(yajl_gen g, const inbox_error_t *err,
    const char *message);

/* An organization's settings (render_settings.c): {"timezone",
 * "quiet_hours":{"start","end"} ("HH:MM"),"business_name",
 * "support_contact","default_country"} (the last two null when none),
 * and "countries": the codes default_country may be (phone.h): GET
 * /api/v1/settings, and the settings of a settings.updated frame. */
void inbox_json_settings(yajl_gen g, const inbox_settings_t *settings);
char *inbox_render_settings(const inbox_settings_t *settings, size_t *len);

/* Who is signed in (render_account.c): {"user":{"id","email"} | null
 * (an organization-wide API token),"role":"member"|"billing",
 * "organization":{"id","name","timezone"}}, as POST /api/v1/auth/login
 * and GET /api/v1/me answer. */
char *inbox_render_account(const inbox_account_t *account, size_t *len);
/* The team (render_account.c): a user {"id","email","role","created_at"},
 * and the list {"items":[user…],"next_cursor":null} (a team is one
 * page). */
char *inbox_render_user(const inbox_user_t *user, size_t *len);
char *inbox_render_users(const inbox_user_list_t *list, size_t *len);

/* billing (render_billing.c) */
/* {"active","plan","credits":{"balance","held"}}: GET /api/v1/billing,
 * and the billing of a billing.updated frame. */
void inbox_json_billing(yajl_gen g, const inbox_billing_t *billing);
char *inbox_render_billing(const inbox_billing_t *billing, size_t *len);
/* {"items":[{"id","kind","credits","balance","held","message_id"|null,
 * "conversation_id"|null,"contact":{"name"|null,"phone"}|null,
 * "campaign":{"id","kind","name"}|null,"error_code"|null,"at"}],
 * "next_cursor"}: the ledger, for the billing role
 * (inbox_ledger_entry_t says what each is). */
char *inbox_render_ledger_page(const inbox_ledger_page_t *page,
    size_t *len);

/* sending (render_send.c) */
/* One message, the shape of inbox_json_message: a reply's answer. */
char *inbox_render_message(const inbox_message_t *m, size_t *len);
/* The composer's count of body (what inbox_segments_count made of it,
 * and what it costs): {"encoding":"GSM-7"|"UCS-2","segments",
 * "characters","remaining","credits","ucs2_because":string|null,
 * "refused":string|null}, ucs2_because being the character that made
 * body UCS-2 (seg->first_ucs2), refused why a send of it would be
 * refused (inbox_message_check's message: too long, say), or NULL. */
char *inbox_render_estimate(const char *body, const inbox_segments_t *seg,
    unsigned credits, const char *refused, size_t *len);

/* campaigns and polls (render_campaign.c) */
/* A campaign or poll: {"id","kind","name","body","question","options",
 * "media","audience":{"all":true}|{"tags":[…]},"send_at","status",
 * "paused_reason","paused_number","paused_number_display",
 * "paused_error_code","cancelled_reason","cancelled_message","segments",
 * "credits","counts":{"recipients","suppressed","waiting_quiet_hours",
 * "queued","sent","delivered","failed","cancelled","replied"},
 * "created_at","started_at","finished_at"} (question and options null
 * for a campaign). */
void inbox_json_campaign(yajl_gen g, const inbox_campaign_t *c);
/* Why a cancelled campaign is, as its JSON and campaign.progress say it:
 * "cancelled_reason" ("manual", "text_refused"; null when not cancelled,
 * or not known) and "cancelled_message" (a text_refused one's refusal,
 * as send words it; null otherwise), keys in a map the caller opened. */
void inbox_json_campaign_cancelled(yajl_gen g, const inbox_campaign_t *c);
/* Which number a campaign paused carrier_account had refused, as its
 * JSON and campaign.progress say it: "paused_number" (E.164),
 * "paused_number_display" (as people read it, inbox_phone_display) and
 * "paused_error_code" (the carrier's code), each null unless it is
 * paused so and it was said, keys in a map the caller opened. */
void inbox_json_campaign_refused(yajl_gen g, const inbox_campaign_t *c);
/* The campaign's "counts" object, as its JSON and campaign.progress show
 * it. */
void inbox_json_campaign_counts(yajl_gen g,
    const inbox_campaign_counts_t *n);
char *inbox_render_campaign(const inbox_campaign_t *c, size_t *len);
char *inbox_render_campaign_page(const inbox_campaign_page_t *page,
    size_t *len);
/* A poll's tally, [{"number","option","count"}] by option, as its JSON
 * and its campaign.progress show it. */
void inbox_json_poll_tally(yajl_gen g, const inbox_campaign_t *poll);
/* A poll with "tally":[{"number","option","count"}], "responses":
 * [{"contact":{"id","name","phone"},"answer","answer_number",
 * "answered_at","message_id"}], the newest first, and
 * "responses_next_cursor" (null when none is older). */
char *inbox_render_poll_results(const inbox_poll_results_t *results,
    size_t *len);
/* The responses alone as a page: {"items":[…],"next_cursor"}. */
char *inbox_render_poll_responses(const inbox_poll_results_t *results,
    size_t *len);
/* A send's preview: {"recipients" (the audience's contacts not opted
 * out),"suppressed" (those opted out),"encoding","segments",
 * "characters","credits" (what a message takes from the balance on the
 * plan),"without_mms" (null without images; else {"recipients" (those
 * of the recipients pictures do not reach, who get links in their
 * place),"segments","credits"} of their SMS),"total_credits" (credits
 * for every recipient),"balance","plan"}. */
typedef struct {
    int64_t            audience;       /* opted out too */
    int64_t            suppressed;     /* opted out */
    inbox_segments_t   seg;
    unsigned           segments;       /* a message is sent as
                                          (inbox_message_segments) */
    unsigned           credits;        /* a message's, on the plan */
    size_t             media_count;
    int64_t            no_mms;         /* recipients pictures do not
                                          reach */
    unsigned           links_segments; /* their message's */
    unsigned           links_credits;  /* their message's, on the plan */
    int64_t            balance;        /* available now */
    inbox_plan_t       plan;
} inbox_campaign_estimate_t;

char *inbox_render_campaign_estimate(const inbox_campaign_estimate_t *e,
    size_t *len);

#endif
