/*
 * The store front: opens the backend a URI names and forwards each
 * operation to it (see store_backend.h): the PLAIN ones as they are, the
 * RULED ones after (or before) applying libinbox's rule.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inbox/clock.h>
#include <inbox/keywords.h>
#include <inbox/phone.h>
#include <inbox/quiet.h>
#include <inbox/search.h>
#include <inbox/segments.h>
#include <inbox/store.h>
#include "store_backend.h"


static inbox_store_t *inbox_store_open_uri(const char *uri, int create,
    inbox_error_t *err);
static inbox_status_t inbox_store_e164(const char *phone,
    inbox_error_t *err);
static inbox_status_t inbox_store_outbox_rule(inbox_outbox_record_t *record,
    int64_t now, inbox_outbox_ruled_t *ruled);


inbox_store_t *
inbox_store_open(const char *uri, inbox_error_t *err)
{
    return inbox_store_open_uri(uri, 0, err);
}


inbox_store_t *
inbox_store_create(const char *uri, inbox_error_t *err)
{
    return inbox_store_open_uri(uri, 1, err);
}


inbox_status_t
inbox_store_uri_check(const char *uri, const char **file, inbox_error_t *err)
{
    int             full_sync;
    char            shown[INBOX_STORE_URI_LOG_MAX];
    size_t          path_len;
    inbox_status_t  rc;

    if (file != NULL) {
        *file = NULL;
    }

    if (uri == NULL || uri[0] == '\0') {
        return inbox_error_set(err, INBOX_ERR_INVALID,
                               "There is no store URI; use sqlite:PATH or "
                               "mongodb://HOST/DATABASE.");
    }

    if (strncmp(uri, "sqlite:", sizeof("sqlite:") - 1) == 0) {
        /* its file and options are checked too: nginx -t says so */
        rc = inbox_store_sqlite_uri(uri + sizeof("sqlite:") - 1, &path_len,
                                    &full_sync, err);
        if (rc != INBOX_OK) {
            return rc;
        }

        if (file != NULL) {
            *file = uri + sizeof("sqlite:") - 1;
        }

        return INBOX_OK;
    }

    if (strncmp(uri, "mongodb://", sizeof("mongodb://") - 1) == 0
        || strncmp(uri, "mongodb+srv://", sizeof("mongodb+srv://") - 1) == 0)
    {
        return INBOX_OK;
    }

    return inbox_error_set(err, INBOX_ERR_INVALID,
                           "Unknown store URI \"%.64s\"; use sqlite:PATH or "
                           "mongodb://HOST/DATABASE.",
                           inbox_store_uri_redacted(uri, shown,
                                                    sizeof(shown)));
}


char *
inbox_store_uri_redacted(const char *uri, char *buf, size_t size)
{
    size_t       authority_len, user_len;
    const char  *authority, *p, *at, *colon;

    if (size == 0) {
        return buf;
    }

    authority = strstr(uri, "://");

    if (authority == NULL) {
        snprintf(buf, size, "%s", uri);
        return buf;
    }

    authority += sizeof("://") - 1;
    authority_len = strcspn(authority, "/?#");

    /* the last "@": a password's own is percent-encoded, but a raw one
     * must not show its tail either */
    at = NULL;
    for (p = authority; p < authority + authority_len; p++) {
        if (*p == '@') {
            at = p;
        }
    }

    user_len = at ? strcspn(authority, ":@") : 0;
    colon = authority + user_len;

    if (at == NULL || colon >= at) {
        snprintf(buf, size, "%s", uri);
        return buf;
    }

    snprintf(buf, size, "%.*s:***%s", (int) (colon - uri), uri, at);

    return buf;
}


static inbox_store_t *
inbox_store_open_uri(const char *uri, int create, inbox_error_t *err)
{
    const char  *file;

    if (inbox_store_uri_check(uri, &file, err) != INBOX_OK) {
        return NULL;
    }

    if (file != NULL) {
        return inbox_store_sqlite_open(file, create, err);
    }

    return inbox_store_mongo_open(uri, create, err);
}


void
inbox_store_close(inbox_store_t *store)
{
    if (store != NULL) {
        store->ops->close(store);
    }
}


char *
inbox_store_schema_expected(char *buf, size_t size)
{
    snprintf(buf, size, "sqlite schema %d, mongodb none",
             inbox_store_sqlite_schema_version());

    return buf;
}


char *
inbox_store_schema(const inbox_store_t *store, char *buf, size_t size)
{
    if (store->schema_version == 0) {
        snprintf(buf, size, "%s, no schema version", store->ops->name);

    } else {
        snprintf(buf, size, "%s schema %d", store->ops->name,
                 store->schema_version);
    }

    return buf;
}


const char *
inbox_store_backend(const inbox_store_t *store)
{
    return store->ops->name;
}


/* The PLAIN operations: forwarded as they are. */

#define INBOX_STORE_FORWARD_PLAIN(name, params, args)                         \
    inbox_status_t                                                            \
    inbox_store_##name params                                                 \
    {                                                                         \
        return store->ops->name args;                                         \
    }

#define INBOX_STORE_FORWARD_RULED(name, params, args)

#define INBOX_STORE_FORWARD(kind, name, params, args)                         \
    INBOX_STORE_FORWARD_##kind(name, params, args)

INBOX_STORE_OPERATIONS(INBOX_STORE_FORWARD)


/* The RULED operations. */

inbox_status_t
inbox_store_org_create(inbox_store_t *store, const char *name,
    const char *timezone, char id[INBOX_ID_MAX], inbox_error_t *err)
{
    inbox_settings_edit_t  edit;

    /* its name is its business name until one is set (the opt-out
     * confirmation names it): the same rule */
    if (inbox_settings_set_business_name(&edit, name, err) != INBOX_OK) {
        if (err != NULL) {
            snprintf(err->field, sizeof(err->field), "name");
        }
        return INBOX_ERR_INVALID;
    }

    if (timezone == NULL || timezone[0] == '\0') {
        timezone = NULL;

    } else if (inbox_settings_set_timezone(&edit, timezone, err)
               != INBOX_OK)
    {
        return INBOX_ERR_INVALID;
    }

    return store->ops->org_create(store, name, timezone, id, err);
}


inbox_status_t
inbox_store_user_add(inbox_store_t *store, const char *org_id,
    const char *email, inbox_role_t role, const char *password_hash,
    char id[INBOX_ID_MAX], inbox_event_list_t *events, inbox_error_t *err)
{
    char  normalized[INBOX_EMAIL_MAX];

    /* stored as it is looked up (account.h), the same in every backend */
    if (inbox_email_normalize(email, normalized, sizeof(normalized)) != 0) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "email",
                                     "A user needs an email address.");
    }

    return store->ops->user_add(store, org_id, normalized, role,
                                password_hash, id, events, err);
}


inbox_status_t
inbox_store_user_email_check(inbox_store_t *store, const char *org_id,
    const char *email, inbox_error_t *err)
{
    char  normalized[INBOX_EMAIL_MAX];

    /* as user_add would refuse it */
    if (inbox_email_normalize(email, normalized, sizeof(normalized)) != 0) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "email",
                                     "A user needs an email address.");
    }

    return store->ops->user_email_check(store, org_id, normalized, err);
}


inbox_status_t
inbox_store_token_add(inbox_store_t *store, const char *org_id,
    const char *user_email, const char *token_hash, const char *name,
    int64_t expires_at, char id[INBOX_ID_MAX], inbox_error_t *err)
{
    char  unused[INBOX_ID_MAX];

    if (name != NULL && name[0] != '\0' && !inbox_token_name_valid(name)) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "name",
                                     "A token's name is 1 to 64 letters, "
                                     "digits or punctuation marks, without "
                                     "spaces.");
    }

    if (expires_at < 0 || (expires_at != 0 && expires_at <= inbox_now_ms()))
    {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "expires_at",
                                     "A token's expiry must be in the "
                                     "future.");
    }

    return store->ops->token_add(store, org_id, user_email, token_hash,
                                 name && name[0] ? name : NULL, expires_at,
                                 id ? id : unused, err);
}


/* The backend reads the token; whether it still counts is decided here,
 * the same way for every backend. */
inbox_status_t
inbox_store_token_find(inbox_store_t *store, const char *token_hash,
    inbox_principal_t *principal, inbox_error_t *err)
{
    inbox_token_t   token;
    inbox_status_t  rc;

    memset(&token, 0, sizeof(inbox_token_t));

    rc = store->ops->token_find(store, token_hash, principal, &token, err);

    if (rc == INBOX_OK) {
        rc = inbox_token_check(token.expires_at, token.revoked_at,
                               inbox_now_ms(), err);
        /* which token, and until when: a WebSocket it opens closes when
         * it is revoked or expires */
        memcpy(principal->token_id, token.id, INBOX_ID_MAX);
        principal->ends_at = token.expires_at;
    }

    if (rc != INBOX_OK) {
        memset(principal, 0, sizeof(inbox_principal_t));
    }

    return rc;
}


inbox_status_t
inbox_store_credits_grant(inbox_store_t *store, const char *org_id,
    int64_t credits, inbox_error_t *err)
{
    if (credits <= 0 || credits > INBOX_CREDITS_GRANT_MAX) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "credits",
                                     "A grant is 1 to %lld credits.",
                                     (long long) INBOX_CREDITS_GRANT_MAX);
    }

    return store->ops->credits_grant(store, org_id, credits, err);
}


inbox_status_t
inbox_store_token_revoke(inbox_store_t *store, const char *org_id,
    const char *token_id, const char *token_hash, char id[INBOX_ID_MAX],
    inbox_event_list_t *events, inbox_error_t *err)
{
    char  unused[INBOX_ID_MAX];

    if ((token_id == NULL || token_id[0] == '\0')
        && (token_hash == NULL || token_hash[0] == '\0'))
    {
        return inbox_error_set(err, INBOX_ERR_INVALID,
                               "Name the token to revoke by its id.");
    }

    return store->ops->token_revoke(store, org_id,
                                    token_id && token_id[0] ? token_id : NULL,
                                    token_hash, id ? id : unused, events,
                                    err);
}


inbox_status_t
inbox_store_contact_upsert(inbox_store_t *store, const char *org_id,
    const char *phone, const char *name, char id[INBOX_ID_MAX],
    inbox_error_t *err)
{
    inbox_status_t  status;

    status = inbox_store_e164(phone, err);
    if (status != INBOX_OK) {
        return status;
    }

    return store->ops->contact_upsert(store, org_id, phone, name, id, err);
}


/* The store keeps numbers in E.164 only: callers normalize first (a
 * typed number with inbox_phone_normalize_typed; this is the form alone,
 * as a carrier's number is stored whatever its length). */
static inbox_status_t
inbox_store_e164(const char *phone, inbox_error_t *err)
{
    char  e164[INBOX_PHONE_MAX];

    if (phone == NULL
        || inbox_phone_normalize(phone, strlen(phone), NULL, e164, NULL)
           != INBOX_OK
        || strcmp(e164, phone) != 0)
    {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "phone",
                                     "The phone number must be in E.164 "
                                     "form (+15551234567).");
    }

    return INBOX_OK;
}


/*
 * A number that is a contact already said as people read it and with the
 * contact's name, if it has one, so that whoever added it knows whom:
 * "+1 (500) 555-0101 is a contact already: Ana Lima."
 */
static void
inbox_store_contact_already(inbox_store_t *store, const char *org_id,
    const char *phone, inbox_error_t *err)
{
    size_t                 i;
    const char            *name;
    inbox_contact_page_t   page;
    inbox_contact_query_t  query;
    char                   shown[INBOX_PHONE_DISPLAY_MAX];

    memset(&query, 0, sizeof(inbox_contact_query_t));
    query.q = phone;
    query.limit = INBOX_LIST_LIMIT_MAX;

    inbox_phone_display(phone, shown);
    name = NULL;

    if (inbox_store_contacts_list(store, org_id, &query, &page, NULL)
        == INBOX_OK)
    {
        for (i = 0; i < page.count; i++) {
            if (strcmp(page.items[i].phone, phone) == 0) {
                name = page.items[i].name;
                break;
            }
        }
    }

    if (name != NULL && name[0] != '\0') {
        inbox_error_set_field(err, INBOX_ERR_CONFLICT, "phone",
                              "%s is a contact already: %s.", shown, name);
    } else {
        inbox_error_set_field(err, INBOX_ERR_CONFLICT, "phone",
                              "%s is a contact already.", shown);
    }

    inbox_contact_page_free(&page);
}


inbox_status_t
inbox_store_contact_create(inbox_store_t *store, const char *org_id,
    const char *phone, const inbox_contact_edit_t *edit,
    inbox_contact_record_t *contact, inbox_event_list_t *events,
    inbox_error_t *err)
{
    inbox_status_t  status;

    memset(contact, 0, sizeof(inbox_contact_record_t));

    status = inbox_store_e164(phone, err);
    if (status != INBOX_OK) {
        return status;
    }

    status = store->ops->contact_create(store, org_id, phone, edit, contact,
                                        events, err);

    if (status == INBOX_ERR_CONFLICT && err != NULL
        && strcmp(err->field, "phone") == 0)
    {
        inbox_store_contact_already(store, org_id, phone, err);
    }

    return status;
}


inbox_status_t
inbox_store_contacts_list(inbox_store_t *store, const char *org_id,
    const inbox_contact_query_t *query, inbox_contact_page_t *page,
    inbox_error_t *err)
{
    inbox_search_t         search;
    inbox_contact_query_t  q;

    memset(page, 0, sizeof(inbox_contact_page_t));

    /* q matches as a conversation search does (search.h) */
    if (inbox_search_parse(query->q, query->country, &search) != 0) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "q",
                                     "The search is too long; shorten "
                                     "it.");
    }

    q = *query;
    q.limit = inbox_list_limit(query->limit);

    if (search.name[0] == '\0') {
        /* nothing but invisible characters is no search */
        q.q = NULL;
    }

    return store->ops->contacts_list(store, org_id, &q, page, err);
}


/* The cap is the rule: every backend lists at most INBOX_TAGS_LIST_MAX. */
inbox_status_t
inbox_store_tags_list(inbox_store_t *store, const char *org_id,
    inbox_tag_page_t *page, inbox_error_t *err)
{
    memset(page, 0, sizeof(inbox_tag_page_t));

    return store->ops->tags_list(store, org_id, INBOX_TAGS_LIST_MAX, page,
                                 err);
}


/*
 * The timeline, opt-out, opt-in and settings
 */


/*
 * The timeline merges three streams, each newest first: the messages of
 * the contact's conversation (inbox_store_messages_list, with its own
 * cursor), the contact's opt-out and opt-in events, and its campaigns
 * (each handed over) and poll answers (the contact_campaigns operation,
 * a page's worth of each from the cursor's place: a contact may have
 * been sent more than its record lists).  At the same time an event
 * comes first, then an answer, then a campaign, then the message.  A
 * cursor says where each stream stands: "AT.ID.MESSAGES.CAT.CKEY", the
 * last event shown (AT 0 and ID "" before any), the messages' cursor
 * ("-" once every message was shown) and the last campaign item shown
 * (CKEY "c" for a send or "p" for an answer, and its send_id; CAT 0 and
 * CKEY "" before any).  Neither a message cursor
 * (base64url, or MongoDB's "MS:HEX") nor an id holds a ".".
 */
static int
inbox_store_timeline_cursor(const char *cursor, int64_t *at, char *id,
    char *messages, int64_t *cat, char *ckey)
{
    char        *end;
    size_t       i, len[5];
    const char  *part[5], *p, *dot;

    *at = 0;
    *cat = 0;
    id[0] = '\0';
    messages[0] = '\0';
    ckey[0] = '\0';

    if (cursor == NULL || cursor[0] == '\0') {
        return 0;
    }

    for (i = 0, p = cursor; i < 5; i++) {
        dot = strchr(p, '.');

        if ((dot == NULL) != (i == 4)) {
            return -1;
        }

        part[i] = p;
        len[i] = dot ? (size_t) (dot - p) : strlen(p);
        p = dot ? dot + 1 : p;
    }

    if (len[0] == 0 || len[3] == 0 || len[1] >= INBOX_ID_MAX
        || len[2] >= INBOX_CURSOR_MAX || len[4] >= INBOX_ID_MAX + 1)
    {
        return -1;
    }

    *at = strtoll(part[0], &end, 10);
    if (end != part[0] + len[0] || *at < 0) {
        return -1;
    }

    *cat = strtoll(part[3], &end, 10);
    if (end != part[3] + len[3] || *cat < 0) {
        return -1;
    }

    memcpy(id, part[1], len[1]);
    id[len[1]] = '\0';
    memcpy(messages, part[2], len[2]);
    messages[len[2]] = '\0';
    memcpy(ckey, part[4], len[4]);
    ckey[len[4]] = '\0';

    return 0;
}


static void
inbox_store_timeline_key(const inbox_timeline_item_t *item,
    char key[INBOX_ID_MAX + 1])
{
    snprintf(key, INBOX_ID_MAX + 1, "%c%s",
             item->type == INBOX_TIMELINE_POLL_ANSWER ? 'p' : 'c',
             item->campaign.send_id);
}


/*
 * The contact's campaign items after (cat, ckey), newest first, in a
 * malloc'd array of *n (each owns its strings): at most limit sends and
 * limit answers, merged.
 */
static inbox_status_t
inbox_store_timeline_campaigns(inbox_store_t *store, const char *org_id,
    const char *contact_id, int64_t cat, const char *ckey, unsigned limit,
    inbox_timeline_item_t **items, size_t *n, inbox_error_t *err)
{
    size_t                            i, j, k, total;
    inbox_status_t                    status;
    inbox_timeline_item_t            *all, *item;
    inbox_contact_poll_t             *p;
    inbox_contact_campaign_t         *c;
    inbox_contact_campaigns_t         list;
    inbox_contact_campaigns_after_t   after;

    *items = NULL;
    *n = 0;
    memset(&list, 0, sizeof(inbox_contact_campaigns_t));
    memset(&after, 0, sizeof(inbox_contact_campaigns_after_t));

    /* at the same time an answer comes before a send: after a send, every
     * answer of its time was shown; after an answer, no send of it was */
    if (ckey[0] == 'c') {
        after.sent_at = cat;
        snprintf(after.sent_id, INBOX_ID_MAX, "%s", ckey + 1);
        after.answered_at = cat;

    } else if (ckey[0] == 'p') {
        after.sent_at = cat < INT64_MAX ? cat + 1 : cat;
        after.answered_at = cat;
        snprintf(after.answered_id, INBOX_ID_MAX, "%s", ckey + 1);

    } else if (ckey[0] != '\0') {
        return inbox_error_cursor(err);
    }

    status = store->ops->contact_campaigns(store, org_id, contact_id,
                                           ckey[0] != '\0' ? &after : NULL,
                                           limit, &list, err);
    if (status != INBOX_OK) {
        return status;
    }

    total = list.campaign_count + list.poll_count;
    all = calloc(total ? total : 1, sizeof(inbox_timeline_item_t));
    if (all == NULL) {
        inbox_contact_campaigns_free(&list);
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    /* both lists newest first: merged, the strings moving into the
     * items */
    for (i = 0, j = 0, k = 0; k < total; k++) {
        item = &all[k];

        if (j < list.poll_count
            && (i == list.campaign_count
                || list.polls[j].answered_at >= list.campaigns[i].sent_at))
        {
            p = &list.polls[j++];
            item->type = INBOX_TIMELINE_POLL_ANSWER;
            item->at = p->answered_at;
            snprintf(item->campaign.id, INBOX_ID_MAX, "%s", p->poll_id);
            snprintf(item->campaign.send_id, INBOX_ID_MAX, "%s",
                     p->send_id);
            item->campaign.poll = 1;
            item->campaign.name = p->question;
            p->question = NULL;
            item->campaign.answer = p->answer;
            item->campaign.answer_text = p->answer_text;
            p->answer_text = NULL;
            continue;
        }

        c = &list.campaigns[i++];
        item->type = INBOX_TIMELINE_CAMPAIGN;
        item->at = c->sent_at;
        snprintf(item->campaign.id, INBOX_ID_MAX, "%s", c->id);
        snprintf(item->campaign.send_id, INBOX_ID_MAX, "%s", c->send_id);
        item->campaign.poll = c->kind == INBOX_CAMPAIGN_KIND_POLL;
        item->campaign.name = c->name;
        c->name = NULL;
        snprintf(item->campaign.status, sizeof(item->campaign.status), "%s",
                 c->status);
        snprintf(item->campaign.state, sizeof(item->campaign.state), "%s",
                 inbox_recipient_state_name(c->state));
    }

    inbox_contact_campaigns_free(&list);

    *items = all;
    *n = total;

    return INBOX_OK;
}


inbox_status_t
inbox_store_contact_timeline(inbox_store_t *store, const char *org_id,
    const char *contact_id, const char *cursor, unsigned limit,
    inbox_timeline_page_t *page, inbox_error_t *err)
{
    int                          more;
    char                         event_id[INBOX_ID_MAX];
    char                         ckey[INBOX_ID_MAX + 1];
    char                         message_cursor[INBOX_CURSOR_MAX];
    size_t                       i, j, c, n, taken, ncampaigns;
    int64_t                      event_at, cat;
    inbox_status_t               status;
    inbox_message_page_t         messages, rest;
    inbox_timeline_item_t       *campaigns;
    inbox_contact_record_t       contact;
    inbox_contact_event_page_t   events;

    memset(page, 0, sizeof(inbox_timeline_page_t));
    memset(&messages, 0, sizeof(messages));
    memset(&events, 0, sizeof(events));
    campaigns = NULL;
    ncampaigns = 0;

    limit = inbox_list_limit(limit);

    if (inbox_store_timeline_cursor(cursor, &event_at, event_id,
                                    message_cursor, &cat, ckey) != 0)
    {
        return inbox_error_cursor(err);
    }

    status = inbox_store_contact_get(store, org_id, contact_id, &contact,
                                     err);
    if (status != INBOX_OK) {
        inbox_contact_record_free(&contact);
        return status;
    }

    if (strcmp(message_cursor, "-") != 0) {
        status = inbox_store_messages_list(store, org_id,
                                           contact.conversation_id,
                                           message_cursor, limit, &messages,
                                           err);
    }

    if (status == INBOX_OK) {
        status = inbox_store_contact_events_list(store, org_id, contact_id,
                                                 event_at, event_id, limit,
                                                 &events, err);
    }

    if (status == INBOX_OK) {
        /* one more than a page of each: whether more follow */
        status = inbox_store_timeline_campaigns(store, org_id, contact_id,
                                                cat, ckey, limit + 1,
                                                &campaigns, &ncampaigns,
                                                err);
    }

    if (status == INBOX_OK) {
        page->items = calloc(limit, sizeof(inbox_timeline_item_t));
        if (page->items == NULL) {
            status = inbox_error_set(err, INBOX_ERR_INTERNAL,
                                     "Out of memory.");
        }
    }

    if (status != INBOX_OK) {
        goto done;
    }

    /* the newest of the three heads: at the same time an event, then a
     * campaign item, then a message; a campaign's or poll's message is
     * its send's item (which says its tick), not an entry again */
    for (i = 0, j = 0, c = 0, n = 0; n < limit; n++) {
        while (i < messages.count
               && messages.items[i].campaign_id[0] != '\0')
        {
            i++;
        }

        if (j < events.count
            && (i == messages.count || events.items[j].at
                                       >= messages.items[i].created_at)
            && (c == ncampaigns || events.items[j].at >= campaigns[c].at))
        {
            page->items[n].type = events.items[j].type;
            page->items[n].at = events.items[j].at;
            page->items[n].event = events.items[j];
            event_at = events.items[j].at;
            snprintf(event_id, sizeof(event_id), "%s", events.items[j].id);
            j++;

        } else if (c < ncampaigns
                   && (i == messages.count
                       || campaigns[c].at >= messages.items[i].created_at))
        {
            /* the item (and its strings) moves into the page */
            page->items[n] = campaigns[c];
            memset(&campaigns[c], 0, sizeof(inbox_timeline_item_t));
            cat = page->items[n].at;
            inbox_store_timeline_key(&page->items[n], ckey);
            c++;

        } else if (i < messages.count) {
            /* the message moves into the entry */
            page->items[n].type = INBOX_TIMELINE_MESSAGE;
            page->items[n].at = messages.items[i].created_at;
            page->items[n].message = messages.items[i];
            memset(&messages.items[i], 0, sizeof(inbox_message_t));
            i++;

        } else {
            break;
        }
    }

    page->count = n;

    /* the sends' messages the page ends on were shown by their sends */
    while (i < messages.count && messages.items[i].campaign_id[0] != '\0') {
        i++;
    }

    taken = i;

    more = j < events.count || events.more || i < messages.count
           || messages.next_cursor[0] != '\0' || c < ncampaigns;

    if (i == messages.count) {
        snprintf(message_cursor, sizeof(message_cursor), "%s",
                 messages.next_cursor[0] ? messages.next_cursor : "-");

    } else if (taken > 0) {
        /* the messages' cursor after the last one shown: its page of
         * that many (a cursor is the backend's to make) */
        status = inbox_store_messages_list(store, org_id,
                                           contact.conversation_id,
                                           message_cursor, (unsigned) taken,
                                           &rest, err);
        if (status == INBOX_OK) {
            snprintf(message_cursor, sizeof(message_cursor), "%s",
                     rest.next_cursor);
        }

        inbox_message_page_free(&rest);

        if (status != INBOX_OK) {
            goto done;
        }
    }

    if (more) {
        if ((size_t) snprintf(page->next_cursor, sizeof(page->next_cursor),
                              "%lld.%s.%s.%lld.%s", (long long) event_at,
                              event_id, message_cursor, (long long) cat,
                              ckey)
            >= sizeof(page->next_cursor))
        {
            status = inbox_error_set(err, INBOX_ERR_INTERNAL,
                                     "A timeline cursor is too long.");
        }
    }

done:

    if (status != INBOX_OK) {
        inbox_timeline_page_free(page);
    }

    for (c = 0; c < ncampaigns; c++) {
        free(campaigns[c].campaign.name);
        free(campaigns[c].campaign.answer_text);
    }

    free(campaigns);
    inbox_message_page_free(&messages);
    inbox_contact_event_page_free(&events);
    inbox_contact_record_free(&contact);

    return status;
}


inbox_status_t
inbox_store_contact_opt_out(inbox_store_t *store, const char *org_id,
    const char *contact_id, inbox_opt_out_source_t source,
    const char *keyword, int64_t at, int64_t sent_at,
    inbox_contact_record_t *contact, inbox_event_list_t *events,
    inbox_error_t *err)
{
    inbox_status_t          status;
    inbox_contact_record_t  unused;

    if (contact == NULL) {
        contact = &unused;
    }

    memset(contact, 0, sizeof(inbox_contact_record_t));

    if (inbox_opt_out_source_name(source) == NULL) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "source",
                                     "The opt-out source is not keyword, "
                                     "manual or carrier.");
    }

    if (source != INBOX_OPT_OUT_KEYWORD || keyword == NULL
        || keyword[0] == '\0')
    {
        keyword = NULL;
    }

    /* at 0 is read by the backend under its write lock */
    if (source != INBOX_OPT_OUT_CARRIER || sent_at < 0) {
        sent_at = 0;
    }

    status = store->ops->contact_opt_out(store, org_id, contact_id, source,
                                         keyword, at > 0 ? at : 0, sent_at,
                                         contact, events, err);

    if (contact == &unused) {
        inbox_contact_record_free(&unused);
    }

    return status;
}


inbox_status_t
inbox_store_contact_opt_in(inbox_store_t *store, const char *org_id,
    const char *contact_id, const char *keyword, int64_t at,
    inbox_contact_record_t *contact, inbox_event_list_t *events,
    inbox_error_t *err)
{
    inbox_status_t          status;
    inbox_contact_record_t  unused;

    if (contact == NULL) {
        contact = &unused;
    }

    memset(contact, 0, sizeof(inbox_contact_record_t));

    status = store->ops->contact_opt_in(store, org_id, contact_id,
                                        keyword && keyword[0] ? keyword
                                                              : NULL,
                                        at > 0 ? at : 0, contact, events,
                                        err);

    if (contact == &unused) {
        inbox_contact_record_free(&unused);
    }

    return status;
}


inbox_status_t
inbox_store_contact_events_list(inbox_store_t *store, const char *org_id,
    const char *contact_id, int64_t after_at, const char *after_id,
    unsigned limit, inbox_contact_event_page_t *page, inbox_error_t *err)
{
    memset(page, 0, sizeof(inbox_contact_event_page_t));

    return store->ops->contact_events_list(store, org_id, contact_id,
                                           after_at,
                                           after_id && after_id[0]
                                           ? after_id : NULL,
                                           inbox_list_limit(limit), page,
                                           err);
}


inbox_status_t
inbox_store_settings_get(inbox_store_t *store, const char *org_id,
    inbox_settings_t *settings, inbox_error_t *err)
{
    memset(settings, 0, sizeof(inbox_settings_t));

    return store->ops->settings_get(store, org_id, settings, err);
}


inbox_status_t
inbox_store_settings_update(inbox_store_t *store, const char *org_id,
    const inbox_settings_edit_t *edit, inbox_settings_t *settings,
    inbox_event_list_t *events, inbox_error_t *err)
{
    inbox_status_t    status;
    inbox_settings_t  unused;

    if (settings == NULL) {
        settings = &unused;
    }

    memset(settings, 0, sizeof(inbox_settings_t));

    status = inbox_settings_edit_check(edit, err);
    if (status != INBOX_OK) {
        return status;
    }

    return store->ops->settings_update(store, org_id, edit, settings,
                                       events, err);
}


inbox_status_t
inbox_store_default_country(inbox_store_t *store, const char *org_id,
    const char *fallback, char out[INBOX_COUNTRY_MAX], inbox_error_t *err)
{
    inbox_status_t    status;
    inbox_settings_t  settings;

    out[0] = '\0';

    status = inbox_store_settings_get(store, org_id, &settings, err);
    if (status != INBOX_OK) {
        return status;
    }

    snprintf(out, INBOX_COUNTRY_MAX, "%s",
             inbox_settings_country(&settings, fallback));

    return INBOX_OK;
}


inbox_status_t
inbox_store_conversations_list(inbox_store_t *store, const char *org_id,
    const inbox_conversation_query_t *query, inbox_conversation_page_t *page,
    inbox_error_t *err)
{
    inbox_status_t              status;
    inbox_search_t              search;
    inbox_conversation_query_t  q;

    memset(page, 0, sizeof(inbox_conversation_page_t));

    if ((unsigned) query->filter >= INBOX_FILTER_COUNT) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "filter",
                                     "The filter is not all, unread, "
                                     "unresponded, starred or archived.");
    }

    if (inbox_search_parse(query->q, query->country, &search) != 0) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "q",
                                     "The search is too long; shorten "
                                     "it.");
    }

    q = *query;
    q.limit = inbox_list_limit(query->limit);

    if (search.name[0] == '\0') {
        /* nothing but invisible characters is no search: the archive
         * stays out of the default view */
        q.q = NULL;
    }

    q.any_archived = inbox_query_any_archived(query->filter, q.q);

    status = store->ops->conversations_list(store, org_id, &q, page, err);

    if (status == INBOX_OK && !inbox_query_counted(&q)) {
        /* a backend that has them anyway (SQLite reads them to plan)
         * answers as one that does not read them */
        page->has_counts = 0;
        memset(page->counts, 0, sizeof(page->counts));
    }

    return status;
}


inbox_status_t
inbox_store_messages_list(inbox_store_t *store, const char *org_id,
    const char *conversation_id, const char *cursor, unsigned limit,
    inbox_message_page_t *page, inbox_error_t *err)
{
    memset(page, 0, sizeof(inbox_message_page_t));

    return store->ops->messages_list(store, org_id, conversation_id, cursor,
                                     inbox_list_limit(limit), page, err);
}


/*
 * Accounts and sessions
 * The backends persist and query; what an email address is and when a
 * session ends are decided here (account.h, session.h).
 */


inbox_status_t
inbox_store_orgs_list(inbox_store_t *store, inbox_org_list_t *list,
    inbox_error_t *err)
{
    memset(list, 0, sizeof(inbox_org_list_t));

    return store->ops->orgs_list(store, list, err);
}


inbox_status_t
inbox_store_number_remove(inbox_store_t *store, const char *org_id,
    const char *e164, int64_t *waiting, inbox_error_t *err)
{
    int64_t  unused;

    waiting = waiting != NULL ? waiting : &unused;
    *waiting = 0;

    return store->ops->number_remove(store, org_id, e164 ? e164 : "",
                                     waiting, err);
}


inbox_status_t
inbox_store_numbers_list(inbox_store_t *store, const char *org_id,
    inbox_number_list_t *list, inbox_error_t *err)
{
    memset(list, 0, sizeof(inbox_number_list_t));

    return store->ops->numbers_list(store, org_id, list, err);
}


inbox_status_t
inbox_store_account_get(inbox_store_t *store, const char *org_id,
    const char *user_id, inbox_account_t *account, inbox_error_t *err)
{
    memset(account, 0, sizeof(inbox_account_t));

    return store->ops->account_get(store, org_id,
                                   user_id && user_id[0] ? user_id : NULL,
                                   account, err);
}


inbox_status_t
inbox_store_user_find_by_email(inbox_store_t *store, const char *email,
    inbox_user_t *user, char **password_hash, inbox_error_t *err)
{
    char  normalized[INBOX_EMAIL_MAX];

    memset(user, 0, sizeof(inbox_user_t));
    *password_hash = NULL;

    /* what cannot be an address belongs to nobody */
    if (inbox_email_normalize(email, normalized, sizeof(normalized)) != 0) {
        return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                               "No user has that email address.");
    }

    return store->ops->user_find_by_email(store, normalized, user,
                                          password_hash, err);
}


inbox_status_t
inbox_store_users_list(inbox_store_t *store, const char *org_id,
    inbox_user_list_t *list, inbox_error_t *err)
{
    memset(list, 0, sizeof(inbox_user_list_t));

    return store->ops->users_list(store, org_id, list, err);
}


inbox_status_t
inbox_store_user_password_rehash(inbox_store_t *store, const char *org_id,
    const char *user_id, const char *old_hash, const char *new_hash,
    int *replaced, inbox_error_t *err)
{
    int  unused;

    if (replaced == NULL) {
        replaced = &unused;
    }

    *replaced = 0;

    if (old_hash == NULL || old_hash[0] == '\0' || new_hash == NULL
        || new_hash[0] == '\0')
    {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "password",
                                     "A password hash is required.");
    }

    return store->ops->user_password_rehash(store, org_id, user_id,
                                            old_hash, new_hash, replaced,
                                            err);
}


inbox_status_t
inbox_store_user_password_set(inbox_store_t *store, const char *org_id,
    const char *email, const char *old_hash, const char *password_hash,
    char id[INBOX_ID_MAX], inbox_event_list_t *events, inbox_error_t *err)
{
    char  normalized[INBOX_EMAIL_MAX], unused[INBOX_ID_MAX];

    if (password_hash == NULL || password_hash[0] == '\0') {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "password",
                                     "A password hash is required.");
    }

    if (inbox_email_normalize(email, normalized, sizeof(normalized)) != 0) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "email",
                                     "\"%.64s\" is not an email address.",
                                     email ? email : "");
    }

    return store->ops->user_password_set(store, org_id, normalized,
                                         old_hash, password_hash,
                                         id ? id : unused, events, err);
}


inbox_status_t
inbox_store_session_create(inbox_store_t *store, const char *org_id,
    const char *user_id, const char *session_hash, inbox_error_t *err)
{
    return inbox_store_session_sign_in(store, org_id, user_id, NULL,
                                       session_hash, err);
}


inbox_status_t
inbox_store_session_sign_in(inbox_store_t *store, const char *org_id,
    const char *user_id, const char *password_hash, const char *session_hash,
    inbox_error_t *err)
{
    int64_t          now;
    inbox_session_t  session;

    if (session_hash == NULL || session_hash[0] == '\0' || user_id == NULL
        || user_id[0] == '\0')
    {
        return inbox_error_set(err, INBOX_ERR_INVALID,
                               "A session needs a user and an id.");
    }

    now = inbox_now_ms();
    session.created_at = now;
    session.last_seen_at = now;
    session.expires_at = inbox_session_expiry(now, now);

    return store->ops->session_add(store, org_id, user_id, password_hash,
                                   session_hash, &session, err);
}


inbox_status_t
inbox_store_session_find(inbox_store_t *store, const char *session_hash,
    inbox_principal_t *principal, inbox_error_t *err)
{
    int64_t          now;
    inbox_status_t   rc;
    inbox_session_t  session;

    memset(principal, 0, sizeof(inbox_principal_t));
    memset(&session, 0, sizeof(inbox_session_t));

    rc = store->ops->session_find(store, session_hash, principal, &session,
                                  err);

    if (rc == INBOX_ERR_NOT_FOUND) {
        rc = inbox_error_set(err, INBOX_ERR_UNAUTHENTICATED,
                             "Your session has ended; sign in again.");
    }

    now = inbox_now_ms();

    if (rc == INBOX_OK) {
        rc = inbox_session_check(&session, now, err);
    }

    if (rc != INBOX_OK) {
        memset(principal, 0, sizeof(inbox_principal_t));
        return rc;
    }

    if (inbox_session_needs_touch(&session, now)) {
        session.last_seen_at = now;
        session.expires_at = inbox_session_expiry(session.created_at, now);

        /* a use that could not be recorded still counts: the session is
         * good, and the next request records it */
        (void) store->ops->session_touch(store, session_hash, &session,
                                         NULL);
    }

    /* a WebSocket the session opens closes then */
    principal->ends_at = inbox_session_ends_at(&session);

    return INBOX_OK;
}


inbox_status_t
inbox_store_sessions_purge(inbox_store_t *store, int64_t now,
    size_t *removed, inbox_error_t *err)
{
    size_t  unused;

    return store->ops->sessions_purge(store, now, removed ? removed : &unused,
                                      err);
}


/* resume */

inbox_status_t
inbox_store_events_since(inbox_store_t *store, const char *org_id,
    const char *epoch, int64_t after_seq, int64_t until_seq, size_t limit,
    inbox_event_list_t *events, inbox_error_t *err)
{
    if (epoch == NULL || after_seq < 0) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "org_seq",
                                     "A position to resume from is an "
                                     "epoch and an org_seq of 0 or more.");
    }

    if (limit == 0) {
        return inbox_error_set(err, INBOX_ERR_INVALID,
                               "Ask for at least one event.");
    }

    if (limit > INBOX_EVENTS_SINCE_MAX) {
        limit = INBOX_EVENTS_SINCE_MAX;
    }

    return store->ops->events_since(store, org_id, epoch, after_seq,
                                    until_seq, limit, events, err);
}


inbox_status_t
inbox_store_stream_positions(inbox_store_t *store, const char *const *org_ids,
    size_t n, inbox_stream_position_t *positions, inbox_error_t *err)
{
    if (n > INBOX_STREAM_POSITIONS_MAX) {
        return inbox_error_set(err, INBOX_ERR_INVALID,
                               "At most %d organizations at once.",
                               INBOX_STREAM_POSITIONS_MAX);
    }

    if (n == 0) {
        return INBOX_OK;
    }

    memset(positions, 0, n * sizeof(inbox_stream_position_t));

    return store->ops->stream_positions(store, org_ids, n, positions, err);
}


inbox_status_t
inbox_store_events_prune(inbox_store_t *store, int64_t now,
    const inbox_event_retention_t *keep, size_t max, size_t *removed,
    inbox_error_t *err)
{
    size_t  unused;

    if (removed == NULL) {
        removed = &unused;
    }

    *removed = 0;

    if (keep->keep_ms < 0 || keep->keep_count < 0 || max == 0) {
        return inbox_error_set(err, INBOX_ERR_INVALID,
                               "Retention bounds are 0 or more, and a "
                               "round deletes at least one event.");
    }

    return store->ops->events_prune(store, now, keep, max, removed, err);
}



/* media */

inbox_status_t
inbox_store_media_add(inbox_store_t *store, const char *org_id,
    inbox_media_record_t *media, inbox_error_t *err)
{
    const inbox_media_type_t  *type;

    type = inbox_media_type_named(media->content_type);

    /* only names media.h makes: never a path out of the directory; and
     * only what a carrier sends */
    if (type == NULL || !type->uploadable
        || !inbox_media_file_is(media->file, media->content_type)
        || media->bytes <= 0)
    {
        return inbox_error_set(err, INBOX_ERR_INVALID,
                               "This is not a media file name, type "
                               "and size.");
    }

    media->id[0] = '\0';

    return store->ops->media_add(store, org_id, media, err);
}


inbox_status_t
inbox_store_media_get(inbox_store_t *store, const char *org_id,
    const char *const *ids, size_t n, inbox_media_record_t *media,
    inbox_error_t *err)
{
    if (n == 0 || n > INBOX_MEDIA_MAX) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "media_ids",
                                     "A message has 1 to %d images.",
                                     INBOX_MEDIA_MAX);
    }

    memset(media, 0, n * sizeof(inbox_media_record_t));

    return store->ops->media_get(store, org_id, ids, n, media, err);
}


inbox_status_t
inbox_store_media_fetch_claim(inbox_store_t *store, int64_t now,
    unsigned limit, inbox_media_fetch_list_t *list, inbox_error_t *err)
{
    memset(list, 0, sizeof(inbox_media_fetch_list_t));

    if (limit == 0) {
        limit = 1;
    }

    if (limit > INBOX_MEDIA_FETCH_LIMIT_MAX) {
        limit = INBOX_MEDIA_FETCH_LIMIT_MAX;
    }

    return store->ops->media_fetch_claim(store, now,
                                         now + INBOX_MEDIA_FETCH_LEASE_MS,
                                         limit, list, err);
}


inbox_status_t
inbox_store_media_fetch_done(inbox_store_t *store, const char *message_id,
    unsigned idx, const char *file, const char *content_type, int64_t bytes,
    inbox_event_list_t *events, inbox_error_t *err)
{
    if (!inbox_media_file_is(file, content_type) || bytes <= 0)
    {
        return inbox_error_set(err, INBOX_ERR_INVALID,
                               "This is not a media file name, type "
                               "and size.");
    }

    return store->ops->media_fetch_done(store, message_id, idx, file,
                                        content_type, bytes, events, err);
}


inbox_status_t
inbox_store_media_fetch_give_back(inbox_store_t *store,
    const char *message_id, unsigned idx, int64_t due_at, inbox_error_t *err)
{
    /* a time of 0 is the backends' "never again" */
    if (due_at <= 0) {
        return inbox_error_set(err, INBOX_ERR_INVALID,
                               "A copy given back is due again at a "
                               "time.");
    }

    return store->ops->media_fetch_give_back(store, message_id, idx, due_at,
                                             err);
}


inbox_status_t
inbox_store_media_purge(inbox_store_t *store, int64_t now, int64_t keep_ms,
    size_t max, const char *dir, char (*files)[INBOX_MEDIA_FILE_MAX],
    size_t *removed, inbox_error_t *err)
{
    return inbox_store_media_purge_reporting(store, now, keep_ms, max, dir,
                                             files, removed, NULL, NULL,
                                             err);
}


inbox_status_t
inbox_store_media_purge_reporting(inbox_store_t *store, int64_t now,
    int64_t keep_ms, size_t max, const char *dir,
    char (*files)[INBOX_MEDIA_FILE_MAX], size_t *removed,
    inbox_media_unlinked_pt failed, void *data, inbox_error_t *err)
{
    size_t          i, n, marked;
    inbox_status_t  status;

    *removed = 0;

    if (max == 0) {
        return INBOX_OK;
    }

    if (max > INBOX_MEDIA_PURGE_MAX || keep_ms < 0 || dir == NULL) {
        return inbox_error_set(err, INBOX_ERR_INVALID,
                               "A purge takes 1 to %d uploads, kept 0 ms "
                               "or more, from a directory.",
                               INBOX_MEDIA_PURGE_MAX);
    }

    marked = 0;
    status = store->ops->media_purge(store, now, now - keep_ms, max, files,
                                     &marked, err);

    /* the files before the records: a round that stops here leaves them
     * marked, gone for every send, for the next round to finish; a file
     * that may still be there (its unlink failed) keeps its record.  A
     * name media.h does not make is no file the media URLs serve: only
     * its record goes. */
    for (i = 0, n = 0; i < marked; i++) {
        if (!inbox_media_file_valid(files[i])
            || inbox_media_remove(dir, files[i]) == 0)
        {
            memmove(files[n++], files[i], INBOX_MEDIA_FILE_MAX);

        } else if (failed != NULL) {
            failed(files[i], errno, data);
        }
    }

    if (n == 0) {
        return status;
    }

    status = store->ops->media_purge_done(store, files, n, err);
    if (status != INBOX_OK) {
        return status;
    }

    *removed = n;

    return INBOX_OK;
}


inbox_status_t
inbox_store_media_files_named(inbox_store_t *store,
    char (*files)[INBOX_MEDIA_FILE_MAX], size_t n, unsigned char *named,
    inbox_error_t *err)
{
    size_t  i;

    if (n == 0 || n > INBOX_MEDIA_NAMED_MAX) {
        return inbox_error_set(err, INBOX_ERR_INVALID,
                               "The store is asked about 1 to %d media "
                               "files at a time.", INBOX_MEDIA_NAMED_MAX);
    }

    /* a name media.h never makes is no record's, and none reaches the
     * backends' queries */
    for (i = 0; i < n; i++) {
        if (!inbox_media_file_valid(files[i])) {
            return inbox_error_set(err, INBOX_ERR_INVALID,
                                   "This is not a media file name.");
        }
    }

    memset(named, 0, n);

    return store->ops->media_files_named(store, files, n, named, err);
}


/*
 * Replies, the outbox and billing
 * The backends persist; what a reply is, how a send that failed is
 * retried and what each outcome says are decided here (reply.h,
 * outbox.h).
 */


inbox_status_t
inbox_store_reply_accept(inbox_store_t *store, const char *org_id,
    const inbox_reply_t *reply, inbox_reply_result_t *result,
    inbox_event_list_t *events, inbox_error_t *err)
{
    char            fingerprint[INBOX_FINGERPRINT_MAX];
    inbox_status_t  status;

    memset(result, 0, sizeof(inbox_reply_result_t));

    status = inbox_reply_check(reply, err);
    if (status != INBOX_OK) {
        return status;
    }

    fingerprint[0] = '\0';

    if (reply->idempotency_key != NULL && reply->idempotency_key[0] != '\0')
    {
        inbox_reply_fingerprint(reply, fingerprint);

        if (fingerprint[0] == '\0') {
            return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        }
    }

    return store->ops->reply_accept(store, org_id, reply, fingerprint,
                                    inbox_now_ms(), result, events, err);
}


inbox_status_t
inbox_store_outbox_claim(inbox_store_t *store, int64_t now,
    int64_t quiet_now, size_t max, int64_t lease,
    inbox_outbox_priority_t priority_max, const inbox_outbox_paces_t *paces,
    inbox_outbox_batch_t *batch, inbox_error_t *err)
{
    memset(batch, 0, sizeof(inbox_outbox_batch_t));

    if (max == 0) {
        max = 1;
    }

    if (max > INBOX_OUTBOX_CLAIM_MAX) {
        max = INBOX_OUTBOX_CLAIM_MAX;
    }

    if (lease <= 0) {
        lease = INBOX_OUTBOX_LEASE_DEFAULT;
    }

    return store->ops->outbox_claim(store, now, quiet_now, max, lease,
                                    priority_max, paces, batch, err);
}


inbox_status_t
inbox_store_outbox_recheck(inbox_store_t *store,
    const char *const *message_ids,
    const inbox_outbox_priority_t *priorities, size_t n, int64_t quiet_now,
    inbox_outbox_held_t *held, inbox_error_t *err)
{
    size_t                    i;
    inbox_status_t            rc;
    inbox_outbox_held_read_t  reads[INBOX_OUTBOX_CLAIM_MAX];

    if (n == 0 || n > INBOX_OUTBOX_CLAIM_MAX) {
        return inbox_error_set(err, INBOX_ERR_INVALID,
                               "A claim takes 1 to %d messages.",
                               INBOX_OUTBOX_CLAIM_MAX);
    }

    memset(reads, 0, n * sizeof(inbox_outbox_held_read_t));

    rc = store->ops->outbox_held(store, message_ids, priorities, n, reads,
                                 err);

    for (i = 0; i < n; i++) {
        held[i] = rc == INBOX_OK
                  ? inbox_outbox_held(priorities[i], &reads[i], quiet_now)
                  : INBOX_OUTBOX_HELD_GOES;
    }

    return rc;
}


/* One result: the batch of one. */
inbox_status_t
inbox_store_outbox_result(inbox_store_t *store, const char *entry_id,
    unsigned attempt, const inbox_send_result_t *result, int64_t now,
    inbox_send_report_t *report, inbox_event_list_t *events,
    inbox_error_t *err)
{
    inbox_status_t         rc;
    inbox_outbox_record_t  record;

    memset(&record, 0, sizeof(inbox_outbox_record_t));
    record.entry_id = entry_id;
    record.attempt = attempt;
    record.result = *result;

    rc = inbox_store_outbox_results(store, &record, 1, now, events, err);

    if (rc == INBOX_OK && record.status != INBOX_OK) {
        rc = record.status;

        if (err != NULL) {
            *err = record.error;
        }
    }

    if (report != NULL) {
        *report = record.report;
    }

    return rc;
}


inbox_status_t
inbox_store_outbox_results(inbox_store_t *store,
    inbox_outbox_record_t *records, size_t n, int64_t now,
    inbox_event_list_t *events, inbox_error_t *err)
{
    size_t                 i, m;
    inbox_status_t         rc;
    inbox_outbox_ruled_t  *ruled, one;

    if (n == 0) {
        return INBOX_OK;
    }

    ruled = (n == 1) ? &one : malloc(n * sizeof(inbox_outbox_ruled_t));

    if (ruled == NULL) {
        for (i = 0; i < n; i++) {
            memset(&records[i].report, 0, sizeof(inbox_send_report_t));
            records[i].status = inbox_error_set(&records[i].error,
                                                INBOX_ERR_INTERNAL,
                                                "Out of memory.");
        }

        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    /* the backend sees only the records the rule lets through */
    m = 0;

    for (i = 0; i < n; i++) {
        if (inbox_store_outbox_rule(&records[i], now, &ruled[m])
            == INBOX_OK)
        {
            m++;
        }
    }

    rc = (m > 0) ? store->ops->outbox_results(store, ruled, m, now, events,
                                              err)
                 : INBOX_OK;

    if (ruled != &one) {
        free(ruled);
    }

    return rc;
}


/*
 * One result as the backends record it (outbox.h): a retry past the last
 * attempt fails, and every failure carries its error code.  INBOX_OK
 * with *ruled made, or the record refused (its status and error set).
 */
static inbox_status_t
inbox_store_outbox_rule(inbox_outbox_record_t *record, int64_t now,
    inbox_outbox_ruled_t *ruled)
{
    inbox_error_t        *err;
    inbox_send_result_t  *r;

    memset(&record->report, 0, sizeof(inbox_send_report_t));
    memset(&record->error, 0, sizeof(inbox_error_t));
    record->status = INBOX_OK;

    ruled->record = record;
    ruled->result = record->result;
    ruled->next_at = 0;

    r = &ruled->result;
    err = &record->error;

    switch (r->outcome) {

    case INBOX_SEND_ACCEPTED:
        if (r->provider_id[0] == '\0') {
            record->status = inbox_error_set_field(err, INBOX_ERR_INVALID,
                                                   "provider_id",
                                                   "An accepted send needs "
                                                   "the carrier's message "
                                                   "id.");
            return record->status;
        }

        if (r->status != INBOX_DELIVERY_QUEUED
            && r->status != INBOX_DELIVERY_SENDING
            && r->status != INBOX_DELIVERY_SENT)
        {
            record->status = inbox_error_set_field(err, INBOX_ERR_INVALID,
                                                   "status",
                                                   "A carrier that takes a "
                                                   "message says queued, "
                                                   "sending or sent.");
            return record->status;
        }

        break;

    case INBOX_SEND_RETRY:
        if (record->attempt >= INBOX_OUTBOX_ATTEMPTS_MAX) {
            r->outcome = INBOX_SEND_REFUSED;
            snprintf(r->error_code, sizeof(r->error_code), "%s",
                     INBOX_SEND_ERROR_UNAVAILABLE);
            break;
        }

        ruled->next_at = now + inbox_outbox_backoff(record->attempt);
        break;

    case INBOX_SEND_REFUSED:
        /* the number's settings, not the message: one code for a person
         * to act on, whichever of the carrier's codes said it */
        if (r->account) {
            snprintf(r->error_code, sizeof(r->error_code), "%s",
                     INBOX_SEND_ERROR_ACCOUNT);

        } else if (r->error_code[0] == '\0') {
            snprintf(r->error_code, sizeof(r->error_code), "%s",
                     INBOX_SEND_ERROR_REFUSED);
        }

        break;

    case INBOX_SEND_OPTED_OUT:
    case INBOX_SEND_WITHDRAWN:
        snprintf(r->error_code, sizeof(r->error_code), "%s",
                 INBOX_SEND_ERROR_OPTED_OUT);
        break;

    case INBOX_SEND_UNKNOWN:
        snprintf(r->error_code, sizeof(r->error_code), "%s",
                 INBOX_SEND_ERROR_UNKNOWN);
        break;

    case INBOX_SEND_RELEASED:
        /* never started: due again as if never claimed, at once or when
         * the sender can send it (a carrier's hold on its number) */
        ruled->next_at = r->due_at > now ? r->due_at : now;
        break;

    case INBOX_SEND_CANCELLED:
        snprintf(r->error_code, sizeof(r->error_code), "%s",
                 INBOX_SEND_ERROR_CANCELLED);
        break;

    default:
        record->status = inbox_error_set_field(err, INBOX_ERR_INVALID,
                                               "outcome",
                                               "Unknown send outcome.");
        return record->status;
    }

    if (record->entry_id == NULL || record->entry_id[0] == '\0') {
        record->status = inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                                         "No such outbox entry.");
        return record->status;
    }

    return INBOX_OK;
}


/*
 * One report as the backends store it: a report with no carrier id or an
 * unknown status is refused on its own, and the carrier's "the contact
 * opted out" is said as a refused send says it.
 */
static void
inbox_store_status_report_rule(inbox_status_report_t *r)
{
    r->changed = 0;
    r->contact_id[0] = '\0';
    r->sent_at = 0;
    inbox_error_clear(&r->error);
    r->status = INBOX_OK;

    if (r->provider_id == NULL || r->provider_id[0] == '\0') {
        r->status = inbox_error_set(&r->error, INBOX_ERR_NOT_FOUND,
                                    "No message has that carrier's id.");
        return;
    }

    if ((unsigned) r->delivery >= INBOX_DELIVERY_COUNT) {
        r->status = inbox_error_set_field(&r->error, INBOX_ERR_INVALID,
                                          "status",
                                          "Unknown delivery status.");
        return;
    }

    if (r->error_code != NULL
        && strcmp(r->error_code, r->carrier == INBOX_CARRIER_TELNYX
                                 ? INBOX_TELNYX_OPTED_OUT
                                 : INBOX_TWILIO_OPTED_OUT) == 0)
    {
        r->error_code = INBOX_SEND_ERROR_OPTED_OUT;
    }

    if (r->error_code != NULL && r->error_code[0] == '\0') {
        r->error_code = NULL;
    }

    if (r->message_id != NULL && r->message_id[0] == '\0') {
        r->message_id = NULL;
    }
}


inbox_status_t
inbox_store_message_status_updates(inbox_store_t *store,
    inbox_status_report_t *reports, size_t n, inbox_event_list_t *events,
    inbox_error_t *err)
{
    size_t          i;
    inbox_status_t  rc;
    inbox_error_t   fallback;

    if (err == NULL) {
        err = &fallback;
    }

    for (i = 0; i < n; i++) {
        inbox_store_status_report_rule(&reports[i]);
    }

    if (n == 0) {
        return INBOX_OK;
    }

    rc = store->ops->message_status_updates(store, reports, n,
                                            inbox_now_ms(), events, err);

    if (rc != INBOX_OK) {
        for (i = 0; i < n; i++) {
            reports[i].status = rc;
            reports[i].error = *err;
            reports[i].changed = 0;
            reports[i].contact_id[0] = '\0';
            reports[i].sent_at = 0;
        }
    }

    return rc;
}


inbox_status_t
inbox_store_message_status_update(inbox_store_t *store, const char *org_id,
    inbox_carrier_t carrier, const char *provider_id,
    inbox_delivery_t status, const char *error_code, int *changed,
    char contact_id[INBOX_ID_MAX], inbox_event_list_t *events,
    inbox_error_t *err)
{
    inbox_status_t         rc;
    inbox_status_report_t  r;

    memset(&r, 0, sizeof(inbox_status_report_t));
    r.org_id = org_id;
    r.carrier = carrier;
    r.provider_id = provider_id;
    r.delivery = status;
    r.error_code = error_code;
    r.find_contact = (contact_id != NULL);

    rc = inbox_store_message_status_updates(store, &r, 1, events, err);

    if (rc == INBOX_OK && r.status != INBOX_OK) {
        rc = r.status;

        if (err != NULL) {
            *err = r.error;
        }
    }

    if (changed != NULL) {
        *changed = r.changed;
    }

    if (contact_id != NULL) {
        memcpy(contact_id, r.contact_id, INBOX_ID_MAX);
    }

    return rc;
}


/* The purges' rule: nothing asked, nothing done; removed may be NULL. */
static size_t *
inbox_store_purge_count(size_t max, size_t *removed, size_t *unused)
{
    if (removed == NULL) {
        removed = unused;
    }

    *removed = 0;

    return max == 0 ? NULL : removed;
}


inbox_status_t
inbox_store_early_reports_purge(inbox_store_t *store, int64_t now,
    size_t max, size_t *removed, inbox_error_t *err)
{
    size_t  unused;

    removed = inbox_store_purge_count(max, removed, &unused);
    if (removed == NULL) {
        return INBOX_OK;
    }

    return store->ops->early_reports_purge(store,
                                           now - INBOX_DELIVERY_EARLY_KEEP_MS,
                                           max, removed, err);
}


inbox_status_t
inbox_store_reply_keys_purge(inbox_store_t *store, int64_t now, size_t max,
    size_t *removed, inbox_error_t *err)
{
    size_t  unused;

    removed = inbox_store_purge_count(max, removed, &unused);
    if (removed == NULL) {
        return INBOX_OK;
    }

    return store->ops->reply_keys_purge(store, now - INBOX_REPLY_KEY_KEEP_MS,
                                        max, removed, err);
}


inbox_status_t
inbox_store_holds_expire(inbox_store_t *store, int64_t now, int64_t max_age,
    size_t *captured, inbox_error_t *err)
{
    size_t  unused;

    if (captured == NULL) {
        captured = &unused;
    }

    *captured = 0;

    if (max_age <= 0) {
        max_age = INBOX_HOLD_MAX_AGE_DEFAULT;
    }

    return store->ops->holds_expire(store, now - max_age, now,
                                    INBOX_HOLDS_EXPIRE_MAX, captured, err);
}


/* status checks: a message whose report never came (status_check.h) */

inbox_status_t
inbox_store_status_checks_claim(inbox_store_t *store, int64_t now,
    int64_t after, unsigned limit, inbox_status_check_list_t *list,
    inbox_error_t *err)
{
    memset(list, 0, sizeof(*list));

    if (after < 0 || limit == 0 || limit > INBOX_STATUS_CHECK_CLAIM_MAX) {
        return inbox_error_set(err, INBOX_ERR_INVALID,
                               "A status check claim takes 1 to %d "
                               "messages, asked about after a time not "
                               "below zero.", INBOX_STATUS_CHECK_CLAIM_MAX);
    }

    if (after == 0) {
        after = INBOX_STATUS_CHECK_AFTER_DEFAULT;
    }

    return store->ops->status_checks_claim(store, now, after,
                                           INBOX_STATUS_CHECK_GIVE_UP_MS,
                                           limit, list, err);
}


inbox_status_t
inbox_store_status_checks_end(inbox_store_t *store,
    const char *const *message_ids, size_t n, inbox_error_t *err)
{
    if (n == 0) {
        return INBOX_OK;
    }

    if (n > INBOX_STATUS_CHECK_CLAIM_MAX) {
        return inbox_error_set(err, INBOX_ERR_INVALID,
                               "At most %d status checks end at once.",
                               INBOX_STATUS_CHECK_CLAIM_MAX);
    }

    return store->ops->status_checks_end(store, message_ids, n, err);
}


/* notices: a keyword's answer */

/* What may be sent and its segments are segments.h's to say; a notice
 * costs nothing, so no credits are counted. */
inbox_status_t
inbox_store_outbox_notice(inbox_store_t *store, const char *org_id,
    const char *conversation_id, const char *from, const char *body,
    inbox_reply_result_t *result, inbox_event_list_t *events,
    inbox_error_t *err)
{
    size_t            len;
    inbox_status_t    status;
    inbox_segments_t  seg;

    memset(result, 0, sizeof(inbox_reply_result_t));

    if (body == NULL) {
        body = "";
    }

    len = strlen(body);

    status = inbox_message_check(body, len, 0, err);
    if (status != INBOX_OK) {
        return status;
    }

    if (conversation_id == NULL || conversation_id[0] == '\0') {
        return inbox_error_not_found(err, "conversation");
    }

    inbox_segments_count(body, len, &seg);

    return store->ops->outbox_notice(store, org_id, conversation_id,
                                     from && from[0] ? from : NULL, body,
                                     inbox_message_segments(&seg, 0),
                                     inbox_now_ms(), result, events, err);
}


/* Ingest's, in both backends: the rule was inbox_keyword_answered's. */
inbox_status_t
inbox_store_keyword_text(const inbox_ingest_result_t *result,
    const inbox_settings_t *settings, char **text, unsigned *segments,
    inbox_error_t *err)
{
    size_t            len;
    inbox_status_t    status;
    inbox_segments_t  seg;

    /* in the keyword's own language: an ARRÊT is confirmed in French */
    *text = inbox_keyword_reply(result->keyword, result->keyword_lang,
                                settings->business_name,
                                settings->support_contact);
    if (*text == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    len = strlen(*text);

    /* a business name and support contact within their limits always
     * fit; checked all the same, as every text sent is */
    status = inbox_message_check(*text, len, 0, err);
    if (status != INBOX_OK) {
        free(*text);
        *text = NULL;
        return status;
    }

    inbox_segments_count(*text, len, &seg);
    *segments = inbox_message_segments(&seg, 0);

    return INBOX_OK;
}


inbox_status_t
inbox_store_ledger_list(inbox_store_t *store, const char *org_id,
    const char *cursor, unsigned limit, inbox_ledger_page_t *page,
    inbox_error_t *err)
{
    memset(page, 0, sizeof(inbox_ledger_page_t));

    return store->ops->ledger_list(store, org_id, cursor,
                                   inbox_list_limit(limit), page, err);
}


/* campaigns and polls */

/*
 * What a campaign's row holds of c, checked (inbox_campaign_check): its
 * name and the text sent (a poll's made, in *text to free, and named by
 * its question unless named), with that text's segments and credits.
 */
static inbox_status_t
inbox_store_campaign_content(const inbox_campaign_new_t *c, char **text,
    const char **name, const char **body, unsigned *segments,
    unsigned *credits, inbox_error_t *err)
{
    inbox_status_t    status;
    inbox_segments_t  seg;

    *text = NULL;

    status = inbox_campaign_check(c, err);
    if (status != INBOX_OK) {
        return status;
    }

    if (c->kind == INBOX_CAMPAIGN_KIND_POLL) {
        *text = inbox_poll_text(c->question, c->options, c->option_count);
        if (*text == NULL) {
            return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        }

        *body = *text;
        *name = c->name != NULL ? c->name : c->question;

    } else {
        *body = c->body;
        *name = c->name;
    }

    inbox_segments_count(*body, strlen(*body), &seg);
    *segments = inbox_message_segments(&seg, c->media_count);
    *credits = inbox_message_credits(*body, c->media_count);

    return INBOX_OK;
}


inbox_status_t
inbox_store_campaign_create(inbox_store_t *store, const char *org_id,
    const inbox_campaign_new_t *c, int64_t now, inbox_campaign_t *campaign,
    inbox_event_list_t *events, inbox_error_t *err)
{
    char            *text;
    unsigned         segments, credits;
    const char      *body, *name;
    inbox_status_t   status;

    memset(campaign, 0, sizeof(inbox_campaign_t));

    status = inbox_store_campaign_content(c, &text, &name, &body, &segments,
                                          &credits, err);
    if (status == INBOX_OK) {
        status = store->ops->campaign_create(store, org_id, c, name, body,
                                             segments, credits, now,
                                             campaign, events, err);
    }

    free(text);

    return status;
}


inbox_status_t
inbox_store_campaign_update(inbox_store_t *store, const char *org_id,
    const char *campaign_id, int64_t revision, const inbox_campaign_new_t *c,
    inbox_campaign_t *campaign, inbox_event_list_t *events,
    inbox_error_t *err)
{
    char            *text;
    unsigned         segments, credits;
    const char      *body, *name;
    inbox_status_t   status;

    memset(campaign, 0, sizeof(inbox_campaign_t));

    status = inbox_store_campaign_content(c, &text, &name, &body, &segments,
                                          &credits, err);
    if (status == INBOX_OK) {
        status = store->ops->campaign_update(store, org_id, campaign_id,
                                             revision, c, name, body,
                                             segments, credits, campaign,
                                             events, err);
    }

    free(text);

    return status;
}


inbox_status_t
inbox_store_campaigns_list(inbox_store_t *store, const char *org_id,
    inbox_campaign_kind_t kind, const char *cursor, unsigned limit,
    inbox_campaign_page_t *page, inbox_error_t *err)
{
    memset(page, 0, sizeof(inbox_campaign_page_t));

    return store->ops->campaigns_list(store, org_id, kind, cursor,
                                      inbox_list_limit(limit), page, err);
}


inbox_status_t
inbox_store_campaign_reschedule(inbox_store_t *store, const char *org_id,
    const char *campaign_id, inbox_campaign_kind_t kind, int64_t send_at,
    int64_t now, inbox_campaign_t *campaign, inbox_event_list_t *events,
    inbox_error_t *err)
{
    memset(campaign, 0, sizeof(inbox_campaign_t));

    return store->ops->campaign_reschedule(store, org_id, campaign_id, kind,
                                           inbox_campaign_due_at(send_at,
                                                                 now),
                                           now, campaign, events, err);
}


inbox_status_t
inbox_store_campaign_act(inbox_store_t *store, const char *org_id,
    const char *campaign_id, inbox_campaign_action_t action, int64_t now,
    inbox_campaign_t *campaign, inbox_event_list_t *events,
    inbox_error_t *err)
{
    memset(campaign, 0, sizeof(inbox_campaign_t));

    return store->ops->campaign_act(store, org_id, campaign_id, action, now,
                                    campaign, events, err);
}


inbox_status_t
inbox_store_campaign_dispatch(inbox_store_t *store, int64_t now, size_t max,
    const char *media_base, inbox_campaign_dispatch_t *result,
    inbox_event_list_t *events, inbox_error_t *err)
{
    memset(result, 0, sizeof(inbox_campaign_dispatch_t));

    if (max == 0) {
        return INBOX_OK;
    }

    if (max > INBOX_CAMPAIGN_DISPATCH_MAX) {
        max = INBOX_CAMPAIGN_DISPATCH_MAX;
    }

    return store->ops->campaign_dispatch(store, now, max, media_base,
                                         result, events, err);
}


inbox_status_t
inbox_store_campaigns_active(inbox_store_t *store, int64_t since,
    const char *cursor, inbox_campaign_page_t *page, inbox_error_t *err)
{
    memset(page, 0, sizeof(inbox_campaign_page_t));

    return store->ops->campaigns_active(store, since,
                                        cursor != NULL ? cursor : "", page,
                                        err);
}


inbox_status_t
inbox_store_campaign_progress(inbox_store_t *store, const char *org_id,
    const char *campaign_id, int64_t now, inbox_campaign_t *campaign,
    inbox_event_list_t *events, inbox_error_t *err)
{
    inbox_status_t    status;
    inbox_campaign_t  own;

    if (campaign == NULL) {
        memset(&own, 0, sizeof(own));
        status = store->ops->campaign_progress(store, org_id, campaign_id,
                                               now, &own, events, err);
        inbox_campaign_free(&own);
        return status;
    }

    memset(campaign, 0, sizeof(inbox_campaign_t));

    return store->ops->campaign_progress(store, org_id, campaign_id, now,
                                         campaign, events, err);
}


inbox_status_t
inbox_store_poll_results(inbox_store_t *store, const char *org_id,
    const char *poll_id, const char *cursor, unsigned limit,
    inbox_poll_results_t *results, inbox_error_t *err)
{
    memset(results, 0, sizeof(inbox_poll_results_t));

    if (limit == 0 || limit > INBOX_POLL_RESPONSES_MAX) {
        limit = INBOX_POLL_RESPONSES_MAX;
    }

    return store->ops->poll_results(store, org_id, poll_id, cursor, limit,
                                    results, err);
}


inbox_status_t
inbox_store_contact_campaigns(inbox_store_t *store, const char *org_id,
    const char *contact_id, inbox_contact_campaigns_t *list,
    inbox_error_t *err)
{
    memset(list, 0, sizeof(inbox_contact_campaigns_t));

    /* the record's: the newest, so many of each */
    return store->ops->contact_campaigns(store, org_id, contact_id, NULL,
                                         INBOX_CONTACT_CAMPAIGNS_MAX, list,
                                         err);
}


/* A PATCH of the time zone alone. */
inbox_status_t
inbox_store_contact_timezone_set(inbox_store_t *store, const char *org_id,
    const char *contact_id, const char *timezone, inbox_error_t *err)
{
    inbox_status_t          status;
    inbox_contact_edit_t    edit;
    inbox_contact_record_t  contact;

    memset(&edit, 0, sizeof(inbox_contact_edit_t));
    edit.set_timezone = 1;

    status = inbox_contact_timezone(timezone,
                                    timezone != NULL ? strlen(timezone) : 0,
                                    edit.timezone, err);
    if (status != INBOX_OK) {
        return status;
    }

    status = store->ops->contact_update(store, org_id, contact_id, &edit,
                                        &contact, NULL, err);
    inbox_contact_record_free(&contact);

    return status;
}
