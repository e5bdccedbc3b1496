/*
 * The MongoDB backend: conversations.  The list (filters, search, keyset
 * pages), one conversation, and a person's action on one.  Every query is
 * scoped by org_id, so another organization's ids find nothing.
 */
#include <string.h>
#include <inbox/search.h>
#include "store_mongo.h"


static void inbox_mongo_append_filter(bson_t *filter, inbox_filter_t which,
    int any_archived);
static const char *inbox_mongo_filter_index(inbox_filter_t which);
static inbox_status_t inbox_mongo_counts(inbox_mongo_store_t *ms,
    const bson_oid_t *org, int counted, inbox_conversation_page_t *page,
    inbox_error_t *err);
static inbox_status_t inbox_mongo_act_write(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const bson_oid_t *oid,
    const inbox_conversation_t *before, const inbox_conversation_t *after,
    inbox_action_t action, int *written, inbox_conversation_t *conversation,
    inbox_error_t *err);


static void
inbox_mongo_append_filter(bson_t *filter, inbox_filter_t which,
    int any_archived)
{
    /* Archived threads are left out unless asked for, or searched for
     * from the default view: then both values, so that the index gives
     * each in activity order and they are merged, not sorted. */
    if (any_archived) {
        BCON_APPEND(filter, "archived", "{", "$in", "[", BCON_BOOL(false),
                    BCON_BOOL(true), "]", "}");
    } else {
        BSON_APPEND_BOOL(filter, "archived", which == INBOX_FILTER_ARCHIVED);
    }

    /* A thread without a message (INBOX_ACTIVITY_NONE) is in no list:
     * a bound of the activity every list's index is ordered by. */
    BCON_APPEND(filter, "last_activity_at", "{",
                "$gt", BCON_DATE_TIME(INBOX_ACTIVITY_NONE), "}");

    switch (which) {

    case INBOX_FILTER_UNREAD:
        BCON_APPEND(filter, "unread_count", "{", "$gt", BCON_INT32(0), "}");
        break;

    case INBOX_FILTER_UNRESPONDED:
        /* a time while it waits, null otherwise (no date's type) */
        BCON_APPEND(filter, "unresponded_at", "{", "$gt", BCON_DATE_TIME(0),
                    "}");
        break;

    case INBOX_FILTER_STARRED:
        BSON_APPEND_BOOL(filter, "starred", true);
        break;

    default:
        break;
    }
}


/* The index a filter's list is read from and its tab counted on: the
 * unread, unresponded and starred threads each alone (named: on the
 * organization's, a page would pass every other thread newer than its
 * last); the default view and the archive the organization's, by
 * archived.  A query on a partial one holds its partial filter, which a
 * hint requires (inbox_mongo_append_filter writes it). */
static const char *
inbox_mongo_filter_index(inbox_filter_t which)
{
    switch (which) {

    case INBOX_FILTER_UNREAD:
        return "org_unread_activity_search";

    case INBOX_FILTER_UNRESPONDED:
        return "org_awaiting_activity_search";

    case INBOX_FILTER_STARRED:
        return "org_starred_activity_search";

    default:
        return "org_archived_activity_search";
    }
}


inbox_status_t
inbox_mongo_conversations_list(inbox_store_t *store, const char *org_id,
    const inbox_conversation_query_t *query, inbox_conversation_page_t *page,
    inbox_error_t *err)
{
    int                       search, keyset;
    const char               *hint;
    bson_t                    filter, search_or, batch;
    bson_t                    doc;
    inbox_mongo_page_query_t  page_query;
    int64_t                   cursor_ms;
    unsigned                  limit;
    bson_oid_t                org, cursor_oid;
    bson_iter_t               iter;
    inbox_search_t            parsed;
    inbox_status_t            rc;
    inbox_mongo_store_t      *ms = (inbox_mongo_store_t *) store;

    memset(page, 0, sizeof(inbox_conversation_page_t));

    rc = inbox_mongo_ids(org_id, &org, NULL, NULL, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    keyset = query->cursor != NULL && query->cursor[0] != '\0';
    if (keyset) {
        rc = inbox_mongo_cursor_parse(query->cursor, &cursor_ms, &cursor_oid,
                                      err);
        if (rc != INBOX_OK) {
            return rc;
        }
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    /* store.c refused a q too long */
    (void) inbox_search_parse(query->q, query->country, &parsed);

    limit = query->limit;
    search = parsed.name[0] != '\0';

    bson_init(&filter);
    BSON_APPEND_OID(&filter, "org_id", &org);
    inbox_mongo_append_filter(&filter, query->filter, query->any_archived);

    bson_init(&search_or);
    if (search) {
        search = inbox_mongo_append_search(&filter, &search_or, &parsed,
                                           "contact.search_name",
                                           "contact.phone");
    }

    /* A search from the default view reads both values of archived on
     * the organization's index, merged; any other list its filter's. */
    hint = query->any_archived ? NULL
                               : inbox_mongo_filter_index(query->filter);

    page_query = (inbox_mongo_page_query_t) {
        .collection = "conversations", .time_field = "last_activity_at",
        .search = search ? &search_or : NULL,
        .after = keyset ? &cursor_oid : NULL,
        .after_ms = keyset ? cursor_ms : 0, .hint = hint, .limit = limit
    };

    rc = inbox_mongo_find_page(ms, &page_query, &filter, &batch, err);
    bson_destroy(&search_or);
    if (rc != INBOX_OK) {
        bson_destroy(&batch);
        return rc;
    }

    page->items = calloc(limit, sizeof(inbox_conversation_t));
    if (page->items == NULL) {
        bson_destroy(&batch);
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    bson_iter_init(&iter, &batch);

    while (inbox_mongo_next_doc(&iter, &doc)) {
        if (page->count == limit) {
            /* There is more: continue after the last one shown. */
            inbox_mongo_cursor_make(page->items[limit - 1].last_activity_at,
                                    page->items[limit - 1].id,
                                    page->next_cursor);
            break;
        }

        inbox_mongo_parse_conversation(&doc, &page->items[page->count++]);
    }

    bson_destroy(&batch);

    return inbox_mongo_counts(ms, &org, inbox_query_counted(query), page,
                              err);
}


/*
 * The organization's unread total, and the tabs' counts when counted (a
 * first page, inbox_query_counted), each read from
 * index keys, no document, where the server can (the conditions are
 * inbox_filter_matches', written by inbox_mongo_append_filter as the
 * lists' are).  The default view's and the archive's are a range of
 * org_archived_activity_search (the organization, archived, an activity
 * after the epoch: a thread without a message, INBOX_ACTIVITY_NONE, is
 * in none), counted on the keys.  The unresponded and starred threads'
 * are counted on their partial index, whose filter the query holds: a
 * server of 7.0 or later drops those conditions and counts the keys, an
 * older one fetches the threads it counts, no others.  The unread tab's
 * comes with the unread total (inbox_mongo_unread_sum).  Counted, not
 * kept: nothing can drift without transactions; each count is of its
 * own moment, as the page's items are.
 */
static inbox_status_t
inbox_mongo_counts(inbox_mongo_store_t *ms, const bson_oid_t *org,
    int counted, inbox_conversation_page_t *page, inbox_error_t *err)
{
    size_t          i;
    bson_t          query, reply;
    bson_t         *command;
    inbox_filter_t  which;
    inbox_status_t  rc;

    static const inbox_filter_t  tabs[] = {
        INBOX_FILTER_ALL, INBOX_FILTER_UNRESPONDED, INBOX_FILTER_STARRED,
        INBOX_FILTER_ARCHIVED
    };

    if (!counted) {
        return inbox_mongo_unread_total(ms, org, &page->unread_total, err);
    }

    rc = inbox_mongo_unread_sum(ms, org, &page->unread_total,
                                &page->counts[INBOX_FILTER_UNREAD], err);

    for (i = 0; rc == INBOX_OK && i < sizeof(tabs) / sizeof(tabs[0]); i++) {
        which = tabs[i];

        bson_init(&query);
        BSON_APPEND_OID(&query, "org_id", org);
        inbox_mongo_append_filter(&query, which, 0);

        command = BCON_NEW("count", BCON_UTF8("conversations"),
                           "query", BCON_DOCUMENT(&query),
                           "hint",
                           BCON_UTF8(inbox_mongo_filter_index(which)));
        bson_destroy(&query);

        rc = inbox_mongo_run(ms, command, &reply, err);
        if (rc == INBOX_OK) {
            page->counts[which] = inbox_mongo_get_int(&reply, "n");
        }

        bson_destroy(&reply);
        bson_destroy(command);
    }

    page->has_counts = rc == INBOX_OK;

    return rc;
}


inbox_status_t
inbox_mongo_conversation_get(inbox_store_t *store, const char *org_id,
    const char *conversation_id, inbox_conversation_t *conversation,
    inbox_error_t *err)
{
    int                   found;
    bson_t                doc;
    bson_oid_t            org, oid;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    memset(conversation, 0, sizeof(inbox_conversation_t));

    rc = inbox_mongo_ids(org_id, &org, conversation_id, &oid, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_find_one(ms, "conversations",
                              BCON_NEW("_id", BCON_OID(&oid),
                                       "org_id", BCON_OID(&org)),
                              NULL, &doc, &found, err);

    if (rc == INBOX_OK) {
        if (found) {
            inbox_mongo_parse_conversation(&doc, conversation);
        } else {
            rc = inbox_error_not_found(err, "conversation");
        }
    }

    bson_destroy(&doc);

    return rc;
}


/*
 * A person's action, in this order (see store_mongo.h on transactions):
 *   find the conversation           (org-scoped: another org's is a 404;
 *                                    one the action cannot be taken on
 *                                    a 409, inbox_conversation_action_check)
 * and, only when libinbox's rule says the action changes it:
 *   findAndModify the conversation  (only while its flags are still those
 *                                    read: a concurrent change makes it
 *                                    match nothing, and it is read again)
 *   findAndModify the org           ($inc seq: the events' numbers)
 *   aggregate the unread total      (when the change carries it)
 *   insert the events
 */
#define INBOX_MONGO_ACT_ATTEMPTS  5

inbox_status_t
inbox_mongo_conversation_act(inbox_store_t *store, const char *org_id,
    const char *conversation_id, inbox_action_t action,
    inbox_conversation_t *conversation, inbox_event_list_t *events,
    inbox_error_t *err)
{
    int                   found, written, attempt;
    bson_t                doc;
    bson_oid_t            org, oid;
    inbox_change_t        change;
    inbox_status_t        rc;
    inbox_conversation_t  before, after;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    memset(conversation, 0, sizeof(inbox_conversation_t));

    rc = inbox_mongo_ids(org_id, &org, conversation_id, &oid, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    for (attempt = 0; attempt < INBOX_MONGO_ACT_ATTEMPTS; attempt++) {
        inbox_conversation_free(conversation);

        rc = inbox_mongo_find_one(ms, "conversations",
                                  BCON_NEW("_id", BCON_OID(&oid),
                                           "org_id", BCON_OID(&org)),
                                  NULL, &doc, &found, err);

        if (rc == INBOX_OK && !found) {
            rc = inbox_error_not_found(err, "conversation");
        }

        if (rc == INBOX_OK) {
            inbox_mongo_parse_conversation(&doc, conversation);
            rc = inbox_conversation_action_check(conversation, action, err);
        }

        bson_destroy(&doc);

        if (rc != INBOX_OK) {
            inbox_conversation_free(conversation);
            memset(conversation, 0, sizeof(inbox_conversation_t));
            return rc;
        }

        /* the flags only: the name stays the conversation's */
        before = *conversation;
        after = *conversation;

        if (!inbox_conversation_apply(&after, action)) {
            return INBOX_OK;
        }

        rc = inbox_mongo_act_write(ms, &org, &oid, &before, &after, action,
                                   &written, conversation, err);
        if (rc != INBOX_OK) {
            return rc;
        }

        if (written) {
            inbox_change_action(&change, &before, conversation);

            return inbox_mongo_events_append(ms, &org, &change, events, err);
        }
    }

    return inbox_error_set(err, INBOX_ERR_UNAVAILABLE,
                           "The conversation keeps changing; try again.");
}


/* Sets after's flags where before's are still stored; *written says
 * whether it matched, and conversation becomes the stored document. */
static inbox_status_t
inbox_mongo_act_write(inbox_mongo_store_t *ms, const bson_oid_t *org,
    const bson_oid_t *oid, const inbox_conversation_t *before,
    const inbox_conversation_t *after, inbox_action_t action, int *written,
    inbox_conversation_t *conversation, inbox_error_t *err)
{
    bson_t          set, value;
    bson_t         *command;
    inbox_status_t  rc;

    bson_init(&set);
    BSON_APPEND_INT64(&set, "unread_count", after->unread_count);
    BSON_APPEND_BOOL(&set, "archived", after->archived != 0);
    BSON_APPEND_BOOL(&set, "starred", after->starred != 0);

    if (action == INBOX_ACTION_READ) {
        BSON_APPEND_DATE_TIME(&set, "last_read_at", inbox_mongo_now(ms));
    }

    command = BCON_NEW("findAndModify", BCON_UTF8("conversations"),
                       "query", "{",
                           "_id", BCON_OID(oid),
                           "org_id", BCON_OID(org),
                           "unread_count", BCON_INT64(before->unread_count),
                           "archived", BCON_BOOL(before->archived != 0),
                           "starred", BCON_BOOL(before->starred != 0),
                       "}",
                       "update", "{", "$set", BCON_DOCUMENT(&set), "}",
                       "new", BCON_BOOL(true));
    bson_destroy(&set);

    rc = inbox_mongo_run_find_and_modify(ms, command, &value, written, err);

    if (rc == INBOX_OK && *written) {
        inbox_conversation_free(conversation);
        inbox_mongo_parse_conversation(&value, conversation);
    }

    bson_destroy(&value);

    return rc;
}


/*
 * A conversation's responses' times from its messages: the newest
 * inbound one while no response (an outbound message that is no
 * campaign's) is as new, the newest response.  One aggregate of the
 * store's messages merged into their conversations, each still without
 * them: every write since the upgrade writes both (null for none), so a
 * thread written meanwhile keeps what that write made of it.  Then the
 * store's record is marked so that later uses skip it.
 */
inbox_status_t
inbox_mongo_responses_backfill(inbox_mongo_store_t *ms, inbox_error_t *err)
{
    inbox_status_t  rc;

#define INBOX_MONGO_UNWRITTEN                                                 \
    "{", "$eq", "[", "{", "$type", BCON_UTF8("$responded_at"), "}",          \
        BCON_UTF8("missing"), "]", "}"

    rc = inbox_mongo_upgrade_aggregate(ms, INBOX_MONGO_RESPONSES,
        BCON_NEW("aggregate", BCON_UTF8("messages"),
                 "pipeline", "[",
                     "{", "$match", "{", "$or", "[",
                         "{", "direction", BCON_UTF8(
                             inbox_direction_name(INBOX_INBOUND)), "}",
                         "{", "campaign_id", "{", "$exists", BCON_BOOL(false),
                         "}", "}",
                     "]", "}", "}",
                     "{", "$sort", "{",
                         "conversation_id", BCON_INT32(1),
                         "created_at", BCON_INT32(-1),
                         "_id", BCON_INT32(-1),
                     "}", "}",
                     "{", "$group", "{",
                         "_id", BCON_UTF8("$conversation_id"),
                         "newest", "{", "$first", "{",
                             "direction", BCON_UTF8("$direction"),
                             "at", BCON_UTF8("$created_at"),
                         "}", "}",
                         "responded_at", "{", "$max", "{", "$cond", "[",
                             "{", "$eq", "[", BCON_UTF8("$direction"),
                                 BCON_UTF8(inbox_direction_name(
                                               INBOX_OUTBOUND)),
                             "]", "}",
                             BCON_UTF8("$created_at"), BCON_NULL,
                         "]", "}", "}",
                     "}", "}",
                     "{", "$project", "{",
                         "unresponded_at", "{", "$cond", "[",
                             "{", "$eq", "[", BCON_UTF8("$newest.direction"),
                                 BCON_UTF8(inbox_direction_name(
                                               INBOX_INBOUND)),
                             "]", "}",
                             BCON_UTF8("$newest.at"), BCON_NULL,
                         "]", "}",
                         "responded_at", "{", "$ifNull", "[",
                             BCON_UTF8("$responded_at"), BCON_NULL,
                         "]", "}",
                     "}", "}",
                     "{", "$merge", "{",
                         "into", BCON_UTF8("conversations"),
                         "on", BCON_UTF8("_id"),
                         "whenMatched", "[", "{", "$set", "{",
                             "unresponded_at", "{", "$cond", "[",
                                 INBOX_MONGO_UNWRITTEN,
                                 BCON_UTF8("$$new.unresponded_at"),
                                 BCON_UTF8("$unresponded_at"),
                             "]", "}",
                             "responded_at", "{", "$cond", "[",
                                 INBOX_MONGO_UNWRITTEN,
                                 BCON_UTF8("$$new.responded_at"),
                                 BCON_UTF8("$responded_at"),
                             "]", "}",
                         "}", "}", "]",
                         "whenNotMatched", BCON_UTF8("discard"),
                     "}", "}",
                 "]",
                 "allowDiskUse", BCON_BOOL(true),
                 "cursor", "{", "}"),
        err);

#undef INBOX_MONGO_UNWRITTEN

    return rc;
}


/*
 * The threads whose messages are all campaigns' (none inbound, none a
 * reply) lose the activity those gave them: one aggregate of the store's
 * messages merged into their conversations.  A thread written since the
 * aggregate read it keeps its activity: one a contact wrote to has an
 * unread message or a wait, one a person replied to a response, and a
 * newer campaign's moved its activity past what was read.  Then the
 * store's record is marked so that later uses skip it.
 */
inbox_status_t
inbox_mongo_two_way_backfill(inbox_mongo_store_t *ms, inbox_error_t *err)
{
    return inbox_mongo_upgrade_aggregate(ms, INBOX_MONGO_TWO_WAY,
        BCON_NEW("aggregate", BCON_UTF8("messages"),
                 "pipeline", "[",
                     "{", "$group", "{",
                         "_id", BCON_UTF8("$conversation_id"),
                         "two_way", "{", "$max", "{", "$or", "[",
                             "{", "$eq", "[", BCON_UTF8("$direction"),
                                 BCON_UTF8(inbox_direction_name(
                                               INBOX_INBOUND)),
                             "]", "}",
                             "{", "$eq", "[",
                                 "{", "$ifNull", "[",
                                     BCON_UTF8("$campaign_id"), BCON_NULL,
                                 "]", "}",
                                 BCON_NULL,
                             "]", "}",
                         "]", "}", "}",
                         "newest", "{", "$max", BCON_UTF8("$created_at"),
                         "}",
                     "}", "}",
                     "{", "$match", "{", "two_way", BCON_BOOL(false), "}",
                     "}",
                     "{", "$merge", "{",
                         "into", BCON_UTF8("conversations"),
                         "on", BCON_UTF8("_id"),
                         "whenMatched", "[", "{", "$set", "{",
                             "last_activity_at", "{", "$cond", "[",
                                 "{", "$and", "[",
                                     "{", "$lte", "[",
                                         BCON_UTF8("$last_activity_at"),
                                         BCON_UTF8("$$new.newest"),
                                     "]", "}",
                                     "{", "$lte", "[",
                                         "{", "$ifNull", "[",
                                             BCON_UTF8("$unread_count"),
                                             BCON_INT32(0),
                                         "]", "}",
                                         BCON_INT32(0),
                                     "]", "}",
                                     "{", "$eq", "[",
                                         "{", "$ifNull", "[",
                                             BCON_UTF8("$responded_at"),
                                             BCON_NULL,
                                         "]", "}",
                                         BCON_NULL,
                                     "]", "}",
                                     "{", "$eq", "[",
                                         "{", "$ifNull", "[",
                                             BCON_UTF8("$unresponded_at"),
                                             BCON_NULL,
                                         "]", "}",
                                         BCON_NULL,
                                     "]", "}",
                                 "]", "}",
                                 BCON_DATE_TIME(INBOX_ACTIVITY_NONE),
                                 BCON_UTF8("$last_activity_at"),
                             "]", "}",
                         "}", "}", "]",
                         "whenNotMatched", BCON_UTF8("discard"),
                     "}", "}",
                 "]",
                 "allowDiskUse", BCON_BOOL(true),
                 "cursor", "{", "}"),
        err);
}


void
inbox_mongo_respond_exprs(int64_t at, bson_t **unresponded,
    bson_t **responded)
{
    /* unless what it waits for is newer */
    *unresponded = BCON_NEW("$cond", "[",
                                "{", "$gte", "[",
                                    BCON_DATE_TIME(at),
                                    "{", "$ifNull", "[",
                                        BCON_UTF8("$unresponded_at"),
                                        BCON_DATE_TIME(INT64_MIN),
                                    "]", "}",
                                "]", "}",
                                BCON_NULL,
                                "{", "$ifNull", "[",
                                    BCON_UTF8("$unresponded_at"), BCON_NULL,
                                "]", "}",
                            "]");
    *responded = BCON_NEW("$max", "[",
                              BCON_UTF8("$responded_at"),
                              "{", "$literal", BCON_DATE_TIME(at), "}",
                          "]");
}


/*
 * The opted-out contacts' threads still waiting for a response to what
 * came before the opt-out are answered at its time: one aggregate of the
 * opted-out contacts merged into their conversations, each changed only
 * while its wait is still that old (a message since waits on).  Then the
 * store's record is marked so that later uses skip it.
 */
inbox_status_t
inbox_mongo_opt_out_waits_backfill(inbox_mongo_store_t *ms,
    inbox_error_t *err)
{
    inbox_status_t  rc;

#define INBOX_MONGO_WAITS_BEFORE                                              \
    "{", "$and", "[",                                                         \
        "{", "$ne", "[",                                                      \
            "{", "$ifNull", "[", BCON_UTF8("$unresponded_at"), BCON_NULL,    \
            "]", "}",                                                         \
            BCON_NULL,                                                        \
        "]", "}",                                                             \
        "{", "$lte", "[",                                                     \
            BCON_UTF8("$unresponded_at"), BCON_UTF8("$$new.opted_out_at"),   \
        "]", "}",                                                             \
    "]", "}"

    rc = inbox_mongo_upgrade_aggregate(ms, INBOX_MONGO_OPT_OUT_WAITS,
        BCON_NEW("aggregate", BCON_UTF8("contacts"),
                 "pipeline", "[",
                     "{", "$match", "{",
                         "opted_out", BCON_BOOL(true),
                         "conversation_id", "{", "$exists", BCON_BOOL(true),
                         "}",
                     "}", "}",
                     "{", "$project", "{",
                         "_id", BCON_UTF8("$conversation_id"),
                         "opted_out_at", BCON_INT32(1),
                     "}", "}",
                     "{", "$merge", "{",
                         "into", BCON_UTF8("conversations"),
                         "on", BCON_UTF8("_id"),
                         "whenMatched", "[", "{", "$set", "{",
                             "responded_at", "{", "$cond", "[",
                                 INBOX_MONGO_WAITS_BEFORE,
                                 "{", "$max", "[",
                                     BCON_UTF8("$responded_at"),
                                     BCON_UTF8("$$new.opted_out_at"),
                                 "]", "}",
                                 BCON_UTF8("$responded_at"),
                             "]", "}",
                             "unresponded_at", "{", "$cond", "[",
                                 INBOX_MONGO_WAITS_BEFORE,
                                 BCON_NULL,
                                 BCON_UTF8("$unresponded_at"),
                             "]", "}",
                         "}", "}", "]",
                         "whenNotMatched", BCON_UTF8("discard"),
                     "}", "}",
                 "]",
                 "allowDiskUse", BCON_BOOL(true),
                 "cursor", "{", "}"),
        err);

#undef INBOX_MONGO_WAITS_BEFORE

    return rc;
}
