/*
 * The MongoDB backend: credits and their ledger.  A grant, a hold and the
 * release of a hold no stored message has are each one conditional $inc
 * on the organization's document (a hold only where billing is active
 * and the balance covers it, so concurrent replies never take it below
 * zero) and then the ledger entry, with the balances the $inc answered.
 * A hold of nothing (a message its plan pays for) is the billing check
 * alone: no entry.  Without a transaction (see store_mongo.h) a crash
 * between the two leaves a change without its ledger entry.  A stored
 * message's hold is settled (captured or released) by
 * store_mongo_settle.c, which a crash cannot leave half done.
 */
#include <stdlib.h>
#include <string.h>
#include "store_mongo.h"


inbox_status_t
inbox_mongo_credits_move(inbox_mongo_store_t *ms, const bson_oid_t *org,
    inbox_ledger_kind_t kind, int64_t credits, const bson_oid_t *message,
    int64_t now, int *moved, inbox_error_t *err)
{
    int             found;
    bson_t          query, value, doc, reply, after;
    bson_t         *command;
    bson_oid_t      id;
    bson_iter_t     iter;
    inbox_error_t   entry_err;
    inbox_status_t  rc, moved_rc;

    if (moved != NULL) {
        *moved = 0;
    }

    bson_init(&query);
    BSON_APPEND_OID(&query, "_id", org);

    if (kind == INBOX_LEDGER_HOLD) {
        BSON_APPEND_BOOL(&query, "billing_active", true);
        BCON_APPEND(&query, "credits.balance", "{",
                        "$gte", BCON_INT64(credits),
                    "}");
    }

    command = BCON_NEW("findAndModify", BCON_UTF8("orgs"),
                       "query", BCON_DOCUMENT(&query),
                       "update", "{", "$inc", "{",
                           "credits.balance", BCON_INT64(
                               inbox_ledger_balance_change(kind, credits)),
                           "credits.held", BCON_INT64(
                               inbox_ledger_held_change(kind, credits)),
                       "}", "}",
                       "fields", "{", "credits", BCON_INT32(1), "}",
                       "new", BCON_BOOL(true));
    bson_destroy(&query);

    rc = inbox_mongo_run(ms, command, &reply, err);
    bson_destroy(command);

    /* the server's document after the $inc: applied, also when the
     * server could not have it confirmed (a writeConcernError, the
     * failure rc says), which the caller gives back like any failure
     * after the move: never left held by a reply that failed */
    found = (rc == INBOX_OK || bson_has_field(&reply, "writeConcernError"))
            && bson_iter_init_find(&iter, &reply, "value")
            && inbox_mongo_iter_doc(&iter, &after);

    if (found) {
        bson_copy_to(&after, &value);
    }

    bson_destroy(&reply);

    if (!found) {
        if (rc == INBOX_OK && !(kind == INBOX_LEDGER_HOLD && moved != NULL)) {
            rc = inbox_error_not_found(err, "organization");
        }

        return rc;
    }

    /* moved, even if its entry fails below: the caller gives it back */
    if (moved != NULL) {
        *moved = 1;
    }

    if (credits == 0) {
        bson_destroy(&value);
        return rc;
    }

    inbox_mongo_new_id(ms, &id);

    bson_init(&doc);
    BSON_APPEND_OID(&doc, "_id", &id);
    BSON_APPEND_OID(&doc, "org_id", org);
    BSON_APPEND_UTF8(&doc, "kind", inbox_ledger_kind_name(kind));
    BSON_APPEND_INT64(&doc, "credits", credits);
    BSON_APPEND_INT64(&doc, "balance",
                      inbox_mongo_get_int(&value, "credits.balance"));
    BSON_APPEND_INT64(&doc, "held",
                      inbox_mongo_get_int(&value, "credits.held"));

    if (message != NULL) {
        BSON_APPEND_OID(&doc, "message_id", message);
    } else {
        BSON_APPEND_NULL(&doc, "message_id");
    }

    BSON_APPEND_DATE_TIME(&doc, "created_at", now);
    bson_destroy(&value);

    /* the entry of a move the server applied, whatever it confirmed:
     * the ledger follows the balance (the move's failure is the one
     * told) */
    moved_rc = rc;
    rc = inbox_mongo_run_simple(ms,
        BCON_NEW("insert", BCON_UTF8("ledger"),
                 "documents", "[", BCON_DOCUMENT(&doc), "]",
                 "ordered", BCON_BOOL(true)),
        moved_rc == INBOX_OK ? err : &entry_err);
    bson_destroy(&doc);

    return moved_rc != INBOX_OK ? moved_rc : rc;
}


inbox_status_t
inbox_mongo_billing_get(inbox_store_t *store, const char *org_id,
    inbox_billing_t *billing, inbox_error_t *err)
{
    bson_oid_t            org;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    memset(billing, 0, sizeof(inbox_billing_t));

    rc = inbox_mongo_ids(org_id, &org, NULL, NULL, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    return inbox_mongo_billing_load(ms, &org, billing, err);
}


inbox_status_t
inbox_mongo_billing_load(inbox_mongo_store_t *ms, const bson_oid_t *org,
    inbox_billing_t *billing, inbox_error_t *err)
{
    int             found;
    bson_t          doc;
    inbox_status_t  rc;

    memset(billing, 0, sizeof(inbox_billing_t));

    rc = inbox_mongo_find_one(ms, "orgs", BCON_NEW("_id", BCON_OID(org)),
                              BCON_NEW("billing_active", BCON_INT32(1),
                                       "plan", BCON_INT32(1),
                                       "credits", BCON_INT32(1)),
                              &doc, &found, err);

    if (rc == INBOX_OK && !found) {
        rc = inbox_error_not_found(err, "organization");
    }

    if (rc == INBOX_OK) {
        billing->active = inbox_mongo_get_bool(&doc, "billing_active");
        inbox_mongo_get_str(&doc, "plan", billing->plan,
                            sizeof(billing->plan));
        billing->balance = inbox_mongo_get_int(&doc, "credits.balance");
        billing->held = inbox_mongo_get_int(&doc, "credits.held");

        /* organizations made before plans have the one plan there was */
        if (billing->plan[0] == '\0') {
            snprintf(billing->plan, sizeof(billing->plan), "per_message");
        }
    }

    bson_destroy(&doc);

    return rc;
}


/*
 * Only inboxctl changes billing, and it pushes nothing: ws-server finds
 * the event at its next look at the store (ws_stream.c).  Like the
 * change itself, it is written without a transaction: a crash between
 * them leaves browsers to see the change at their next read.
 */
inbox_status_t
inbox_mongo_billing_changed(inbox_mongo_store_t *ms, const bson_oid_t *org,
    inbox_error_t *err)
{
    inbox_status_t   rc;
    inbox_change_t   change;
    inbox_billing_t  billing;

    rc = inbox_mongo_billing_load(ms, org, &billing, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    inbox_change_billing(&change, &billing);

    return inbox_mongo_events_append(ms, org, &change, NULL, err);
}


/* What a ledger entry shows of its message, its thread and its
 * campaign: a message's body and media, a thread's last message, a
 * campaign's text and counts are not read. */
static const char *const inbox_mongo_ledger_message_fields[] = {
    "conversation_id", "campaign_id", "status", "error_code", NULL
};

static const char *const inbox_mongo_ledger_conversation_fields[] = {
    "contact.phone", "contact.name", NULL
};

static const char *const inbox_mongo_ledger_campaign_fields[] = {
    "kind", "name", NULL
};


/*
 * The campaign or poll each entry's message was sent for (its id in
 * e->campaign.id, put there from the message), named as it is now: one
 * query by _id for the page's few campaigns, their kind and name only
 * (a campaign's document holds its text and counts).  One not found
 * (not this organization's) is no campaign.
 */
static inbox_status_t
inbox_mongo_ledger_campaigns(inbox_mongo_store_t *ms, const bson_oid_t *org,
    inbox_ledger_page_t *page, inbox_error_t *err)
{
    char                   kind[INBOX_CAMPAIGN_KIND_MAX];
    size_t                 i;
    bson_t                 ids, campaigns, doc;
    uint32_t               n;
    bson_oid_t             oid;
    inbox_status_t         rc;
    inbox_ledger_entry_t  *e;

    bson_init(&ids);
    n = 0;

    for (i = 0; i < page->count; i++) {
        if (inbox_mongo_parse_id(page->items[i].campaign.id, &oid) == 0) {
            inbox_mongo_array_add(&ids, &n, &oid);
        }
    }

    if (n == 0) {
        bson_destroy(&ids);
        return INBOX_OK;
    }

    rc = inbox_mongo_find_in(ms, "campaigns", org, &ids, n,
                             inbox_mongo_ledger_campaign_fields, &campaigns,
                             err);

    for (i = 0; i < page->count; i++) {
        e = &page->items[i];

        if (e->campaign.id[0] == '\0') {
            continue;
        }

        if (rc != INBOX_OK
            || inbox_mongo_parse_id(e->campaign.id, &oid) != 0
            || !inbox_mongo_batch_get(&campaigns, &oid, &doc))
        {
            e->campaign.id[0] = '\0';
            continue;
        }

        inbox_mongo_get_str(&doc, "kind", kind, sizeof(kind));
        (void) inbox_campaign_kind_parse(kind, &e->campaign.kind);
        inbox_mongo_get_str(&doc, "name", e->campaign.name,
                            sizeof(e->campaign.name));
    }

    bson_destroy(&ids);
    bson_destroy(&campaigns);

    return rc;
}


/*
 * Whom each entry of page was for: its message's thread and contact (as
 * the thread names it) and campaign, and, for a release, why the
 * message failed, or INBOX_LEDGER_PAUSED for one not failed
 * (billing.h).  One query for the page's messages, one for their
 * threads, one for their campaigns, each of the fields shown alone; an
 * entry whose message is gone names nobody.
 */
static inbox_status_t
inbox_mongo_ledger_whom(inbox_mongo_store_t *ms, const bson_oid_t *org,
    inbox_ledger_page_t *page, inbox_error_t *err)
{
    char                   status[32];
    size_t                 i;
    bson_t                 message_ids, conversation_ids, messages;
    bson_t                 conversations, doc;
    uint32_t               n_messages, n_conversations;
    bson_oid_t             oid;
    inbox_status_t         rc;
    inbox_ledger_entry_t  *e;

    bson_init(&message_ids);
    bson_init(&conversation_ids);
    n_messages = 0;
    n_conversations = 0;

    for (i = 0; i < page->count; i++) {
        if (inbox_mongo_parse_id(page->items[i].message_id, &oid) == 0) {
            inbox_mongo_array_add(&message_ids, &n_messages, &oid);
        }
    }

    rc = inbox_mongo_find_in(ms, "messages", org, &message_ids, n_messages,
                             inbox_mongo_ledger_message_fields, &messages,
                             err);

    for (i = 0; rc == INBOX_OK && i < page->count; i++) {
        e = &page->items[i];

        if (inbox_mongo_parse_id(e->message_id, &oid) != 0
            || !inbox_mongo_batch_get(&messages, &oid, &doc))
        {
            continue;
        }

        inbox_mongo_get_id(&doc, "conversation_id", e->conversation_id);
        inbox_mongo_get_id(&doc, "campaign_id", e->campaign.id);

        if (e->kind == INBOX_LEDGER_RELEASE) {
            /* a message not failed was parked, its campaign paused */
            inbox_mongo_get_str(&doc, "status", status, sizeof(status));
            if (strcmp(status, "failed") == 0
                || strcmp(status, "undelivered") == 0)
            {
                inbox_mongo_get_str(&doc, "error_code", e->error_code,
                                    sizeof(e->error_code));
            } else {
                snprintf(e->error_code, sizeof(e->error_code), "%s",
                         INBOX_LEDGER_PAUSED);
            }
        }

        if (inbox_mongo_parse_id(e->conversation_id, &oid) == 0) {
            inbox_mongo_array_add(&conversation_ids, &n_conversations, &oid);
        }
    }

    if (rc == INBOX_OK) {
        rc = inbox_mongo_find_in(ms, "conversations", org,
                                 &conversation_ids, n_conversations,
                                 inbox_mongo_ledger_conversation_fields,
                                 &conversations, err);
    } else {
        bson_init(&conversations);
    }

    for (i = 0; rc == INBOX_OK && i < page->count; i++) {
        e = &page->items[i];

        if (inbox_mongo_parse_id(e->conversation_id, &oid) != 0) {
            continue;
        }

        if (!inbox_mongo_batch_get(&conversations, &oid, &doc)) {
            e->conversation_id[0] = '\0';
            continue;
        }

        inbox_mongo_get_str(&doc, "contact.phone", e->contact_phone,
                            sizeof(e->contact_phone));
        inbox_mongo_get_str(&doc, "contact.name", e->contact_name,
                            sizeof(e->contact_name));
    }

    bson_destroy(&message_ids);
    bson_destroy(&conversation_ids);
    bson_destroy(&messages);
    bson_destroy(&conversations);

    if (rc != INBOX_OK) {
        return rc;
    }

    return inbox_mongo_ledger_campaigns(ms, org, page, err);
}


inbox_status_t
inbox_mongo_ledger_list(inbox_store_t *store, const char *org_id,
    const char *cursor, unsigned limit, inbox_ledger_page_t *page,
    inbox_error_t *err)
{
    int                       keyset;
    char                      kind[16];
    bson_t                    filter, batch, doc;
    inbox_mongo_page_query_t  page_query;
    int64_t                   cursor_ms;
    bson_oid_t                org, cursor_oid;
    bson_iter_t               iter;
    inbox_status_t            rc;
    inbox_billing_t           billing;
    inbox_ledger_entry_t     *e;
    inbox_mongo_store_t      *ms = (inbox_mongo_store_t *) store;

    rc = inbox_mongo_ids(org_id, &org, NULL, NULL, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    keyset = cursor != NULL && cursor[0] != '\0';
    if (keyset) {
        rc = inbox_mongo_cursor_parse(cursor, &cursor_ms, &cursor_oid, err);
        if (rc != INBOX_OK) {
            return rc;
        }
    }

    /* another organization's, or none: a 404, not an empty list */
    rc = inbox_mongo_billing_get(store, org_id, &billing, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    bson_init(&filter);
    BSON_APPEND_OID(&filter, "org_id", &org);

    page_query = (inbox_mongo_page_query_t) {
        .collection = "ledger", .time_field = "created_at",
        .after = keyset ? &cursor_oid : NULL,
        .after_ms = keyset ? cursor_ms : 0, .limit = limit
    };

    rc = inbox_mongo_find_page(ms, &page_query, &filter, &batch, err);
    if (rc != INBOX_OK) {
        bson_destroy(&batch);
        return rc;
    }

    page->items = calloc(limit, sizeof(inbox_ledger_entry_t));
    if (page->items == NULL) {
        bson_destroy(&batch);
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    bson_iter_init(&iter, &batch);

    while (inbox_mongo_next_doc(&iter, &doc)) {
        if (page->count == limit) {
            inbox_mongo_cursor_make(page->items[limit - 1].at,
                                    page->items[limit - 1].id,
                                    page->next_cursor);
            break;
        }

        e = &page->items[page->count++];
        inbox_mongo_get_id(&doc, "_id", e->id);
        inbox_mongo_get_str(&doc, "kind", kind, sizeof(kind));
        (void) inbox_ledger_kind_parse(kind, &e->kind);
        e->credits = inbox_mongo_get_int(&doc, "credits");
        e->balance = inbox_mongo_get_int(&doc, "balance");
        e->held = inbox_mongo_get_int(&doc, "held");
        inbox_mongo_get_id(&doc, "message_id", e->message_id);
        e->at = inbox_mongo_get_date(&doc, "created_at");
    }

    bson_destroy(&batch);

    return inbox_mongo_ledger_whom(ms, &org, page, err);
}
