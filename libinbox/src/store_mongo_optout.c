/*
 * The MongoDB backend: opt-out and opt-in (optout.h).
 *
 * Without transactions (see store_mongo.h), a change is written where
 * the contact is still as it was read (opted out or not, its newest opt
 * time: compare and set), then the copy its conversation keeps, then its
 * timeline event (contact_events), then the events browsers get.  Two
 * changes at once cannot both apply on the same read: the one that lost
 * reads the contact again and applies the rule to it as it is then; a
 * failure between the writes leaves the contact's own state right, which
 * is what sends are checked against.
 */
#include <stdlib.h>
#include <string.h>
#include <inbox/clock.h>
#include <inbox/optout.h>
#include "store_mongo.h"


static inbox_status_t inbox_mongo_contact_opt(inbox_store_t *store,
    const char *org_id, const char *contact_id, int opt_out,
    inbox_opt_out_source_t source, const char *keyword, int64_t at,
    int64_t sent_at, inbox_contact_record_t *contact,
    inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t inbox_mongo_contact_event_write(
    inbox_mongo_store_t *ms, const bson_oid_t *org, const bson_oid_t *contact,
    const inbox_contact_record_t *after, const char *keyword,
    const bson_oid_t *message, inbox_error_t *err);
static inbox_status_t inbox_mongo_contact_opt_repeat(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const bson_oid_t *oid,
    const inbox_contact_record_t *contact, int64_t version,
    inbox_error_t *err);
static inbox_status_t inbox_mongo_conversation_respond(
    inbox_mongo_store_t *ms, const bson_oid_t *org,
    const bson_oid_t *conversation, int64_t at, bson_t *doc, int *found,
    inbox_error_t *err);


inbox_status_t
inbox_mongo_contact_opt_out(inbox_store_t *store, const char *org_id,
    const char *contact_id, inbox_opt_out_source_t source,
    const char *keyword, int64_t at, int64_t sent_at,
    inbox_contact_record_t *contact, inbox_event_list_t *events,
    inbox_error_t *err)
{
    return inbox_mongo_contact_opt(store, org_id, contact_id, 1, source,
                                   keyword, at, sent_at, contact, events,
                                   err);
}


inbox_status_t
inbox_mongo_contact_opt_in(inbox_store_t *store, const char *org_id,
    const char *contact_id, const char *keyword, int64_t at,
    inbox_contact_record_t *contact, inbox_event_list_t *events,
    inbox_error_t *err)
{
    return inbox_mongo_contact_opt(store, org_id, contact_id, 0,
                                   INBOX_OPT_OUT_KEYWORD, keyword, at, 0,
                                   contact, events, err);
}


static inbox_status_t
inbox_mongo_contact_opt(inbox_store_t *store, const char *org_id,
    const char *contact_id, int opt_out, inbox_opt_out_source_t source,
    const char *keyword, int64_t at, int64_t sent_at,
    inbox_contact_record_t *contact, inbox_event_list_t *events,
    inbox_error_t *err)
{
    int                   found, changed, written, tries;
    int64_t               latest, version;
    bson_t                doc;
    bson_oid_t            org, oid, conversation_oid;
    inbox_status_t        rc;
    inbox_change_t        change;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;
    inbox_conversation_t  conversation;

    if (inbox_mongo_parse_id(org_id, &org) != 0
        || inbox_mongo_parse_id(contact_id, &oid) != 0)
    {
        return inbox_error_not_found(err, "contact");
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    /* now, as late as this backend can: it has no write lock to wait
     * for, only the write itself */
    if (at <= 0) {
        at = inbox_now_ms();
    }

    /* the rule on the contact as read, written where it is still so;
     * another change between (a keyword, a carrier's report): the rule
     * again on the contact as it is then, which it may have made older
     * news */
    for (tries = 1; /* void */ ; tries++) {
        rc = inbox_mongo_contact_read(ms, &org, &oid, contact, &version,
                                      err);
        if (rc != INBOX_OK) {
            return rc;
        }

        /* a keyword said without a message is said at at */
        latest = contact->opt_latest_at;
        changed = opt_out && source != INBOX_OPT_OUT_KEYWORD
                  ? inbox_contact_opt_out(contact, source, keyword, at,
                                          sent_at)
                  : inbox_contact_opt_keyword(contact, opt_out, keyword, at,
                                              at);

        if (changed) {
            rc = inbox_mongo_contact_opt_write(ms, &org, &oid, contact,
                                               latest, keyword, NULL,
                                               &written, err);

        } else if (contact->opt_latest_at != latest) {
            rc = inbox_mongo_contact_opt_latest_write(ms, &org, &oid,
                                                      contact, latest,
                                                      &written, err);

        } else {
            /* as the contact was read: a retry after a failure past
             * the contact's write finishes it */
            return inbox_mongo_contact_opt_repeat(ms, &org, &oid, contact,
                                                  version, err);
        }

        if (rc != INBOX_OK) {
            return rc;
        }

        if (written) {
            break;
        }

        inbox_contact_record_free(contact);

        if (tries == INBOX_MONGO_OPT_TRIES) {
            /* changed by others all along: as it is now, theirs to
             * push */
            return inbox_mongo_contact_read(ms, &org, &oid, contact, NULL,
                                            err);
        }
    }

    if (!changed) {
        /* only the newest opt time moved (not a copied field): as the
         * contact was read, as above */
        return inbox_mongo_contact_opt_repeat(ms, &org, &oid, contact,
                                              version, err);
    }

    if (inbox_mongo_parse_id(contact->conversation_id, &conversation_oid)
        != 0)
    {
        return inbox_error_set(err, INBOX_ERR_INTERNAL,
                               "A stored contact has no conversation.");
    }

    if (contact->opted_out) {
        rc = inbox_mongo_conversation_respond(ms, &org, &conversation_oid,
                                              contact->opted_out_at, &doc,
                                              &found, err);
    } else {
        rc = inbox_mongo_find_one(ms, "conversations",
                                  BCON_NEW("_id", BCON_OID(&conversation_oid),
                                           "org_id", BCON_OID(&org)),
                                  NULL, &doc, &found, err);
    }

    if (rc == INBOX_OK && !found) {
        rc = inbox_error_set(err, INBOX_ERR_INTERNAL,
                             "A contact's conversation is missing.");
    }

    if (rc != INBOX_OK) {
        bson_destroy(&doc);
        return rc;
    }

    inbox_mongo_parse_conversation(&doc, &conversation);
    bson_destroy(&doc);

    inbox_change_opt(&change, contact, &conversation);

    rc = inbox_mongo_events_append(ms, &org, &change, events, err);

    inbox_conversation_free(&conversation);

    return rc;
}


inbox_status_t
inbox_mongo_contact_read(inbox_mongo_store_t *ms, const bson_oid_t *org,
    const bson_oid_t *oid, inbox_contact_record_t *contact, int64_t *version,
    inbox_error_t *err)
{
    int             found;
    bson_t          doc;
    inbox_status_t  rc;

    /* empty when none is read: what a caller frees either way */
    memset(contact, 0, sizeof(inbox_contact_record_t));

    rc = inbox_mongo_find_one(ms, "contacts",
                              BCON_NEW("_id", BCON_OID(oid),
                                       "org_id", BCON_OID(org)),
                              NULL, &doc, &found, err);

    if (rc == INBOX_OK && !found) {
        rc = inbox_error_not_found(err, "contact");
    }

    if (rc == INBOX_OK) {
        inbox_mongo_parse_contact(&doc, contact);
    }

    if (version != NULL) {
        *version = inbox_mongo_get_int(&doc, "version");
    }

    bson_destroy(&doc);

    return rc;
}


/* The newest opt time in a compare-and-set's filter: still latest. */
static void
inbox_mongo_opt_latest_filter(bson_t *query, int64_t latest)
{
    if (latest > 0) {
        BSON_APPEND_DATE_TIME(query, "opt_latest_at", latest);
    } else {
        /* none: missing too, as on a contact from before it */
        BSON_APPEND_NULL(query, "opt_latest_at");
    }
}


inbox_status_t
inbox_mongo_contact_opt_latest_write(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const bson_oid_t *contact,
    const inbox_contact_record_t *after, int64_t latest, int *changed,
    inbox_error_t *err)
{
    int             found;
    bson_t          query, value;
    bson_t         *command;
    inbox_status_t  rc;

    *changed = 0;

    bson_init(&query);
    BSON_APPEND_OID(&query, "_id", contact);
    BSON_APPEND_OID(&query, "org_id", org);

    if (after->opted_out) {
        BSON_APPEND_BOOL(&query, "opted_out", true);
    } else {
        command = BCON_NEW("$ne", BCON_BOOL(true));
        BSON_APPEND_DOCUMENT(&query, "opted_out", command);
        bson_destroy(command);
    }

    inbox_mongo_opt_latest_filter(&query, latest);

    command = BCON_NEW("findAndModify", BCON_UTF8("contacts"),
                       "query", BCON_DOCUMENT(&query),
                       "update", "{", "$set", "{",
                           "opt_latest_at",
                           BCON_DATE_TIME(after->opt_latest_at),
                       "}", "}",
                       "fields", "{", "_id", BCON_INT32(1), "}",
                       "new", BCON_BOOL(true));
    bson_destroy(&query);

    rc = inbox_mongo_run_find_and_modify(ms, command, &value, &found, err);
    bson_destroy(&value);

    *changed = rc == INBOX_OK && found;

    return rc;
}


/*
 * An opt-out, however it came, is the response to what came before it,
 * as a STOP's is (inbox_conversation_respond): no reply can go to the
 * contact now.  doc is the conversation as it is then.
 */
static inbox_status_t
inbox_mongo_conversation_respond(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const bson_oid_t *conversation, int64_t at,
    bson_t *doc, int *found, inbox_error_t *err)
{
    bson_t  *unresponded, *responded, *command;

    inbox_mongo_respond_exprs(at, &unresponded, &responded);

    command = BCON_NEW("findAndModify", BCON_UTF8("conversations"),
                       "query", "{",
                           "_id", BCON_OID(conversation),
                           "org_id", BCON_OID(org),
                       "}",
                       "update", "[", "{", "$set", "{",
                           "unresponded_at", BCON_DOCUMENT(unresponded),
                           "responded_at", BCON_DOCUMENT(responded),
                       "}", "}", "]",
                       "new", BCON_BOOL(true));
    bson_destroy(unresponded);
    bson_destroy(responded);

    return inbox_mongo_run_find_and_modify(ms, command, doc, found, err);
}


inbox_status_t
inbox_mongo_contact_opt_write(inbox_mongo_store_t *ms, const bson_oid_t *org,
    const bson_oid_t *contact, const inbox_contact_record_t *after,
    int64_t latest, const char *keyword, const bson_oid_t *message,
    int *changed, inbox_error_t *err)
{
    int             found;
    char           *name;
    bson_t          query, set, value, updates;
    bson_t         *command;
    bson_oid_t      conversation;
    inbox_status_t  rc;

    *changed = 0;

    /* compare and set: only a contact still as the rule found it, no
     * newer opt-out or opt-in seen since */
    bson_init(&query);
    BSON_APPEND_OID(&query, "_id", contact);
    BSON_APPEND_OID(&query, "org_id", org);
    inbox_mongo_opt_latest_filter(&query, latest);

    bson_init(&set);
    BSON_APPEND_DATE_TIME(&set, "opt_latest_at", after->opt_latest_at);

    if (after->opted_out) {
        command = BCON_NEW("$ne", BCON_BOOL(true));
        BSON_APPEND_DOCUMENT(&query, "opted_out", command);
        bson_destroy(command);

        /* the carrier's rule read the last opt-in too: still that one */
        if (strcmp(after->opt_out_source,
                   inbox_opt_out_source_name(INBOX_OPT_OUT_CARRIER)) == 0)
        {
            if (after->opted_in_at > 0) {
                BSON_APPEND_DATE_TIME(&query, "opted_in_at",
                                      after->opted_in_at);
            } else {
                BSON_APPEND_NULL(&query, "opted_in_at");
            }
        }

        BSON_APPEND_BOOL(&set, "opted_out", true);
        BSON_APPEND_DATE_TIME(&set, "opted_out_at", after->opted_out_at);
        BSON_APPEND_UTF8(&set, "opt_out_source", after->opt_out_source);

        if (after->opt_out_keyword[0] != '\0') {
            BSON_APPEND_UTF8(&set, "opt_out_keyword", after->opt_out_keyword);
        } else {
            BSON_APPEND_NULL(&set, "opt_out_keyword");
        }

    } else {
        BSON_APPEND_BOOL(&query, "opted_out", true);

        BSON_APPEND_BOOL(&set, "opted_out", false);
        BSON_APPEND_NULL(&set, "opted_out_at");
        BSON_APPEND_NULL(&set, "opt_out_source");
        BSON_APPEND_NULL(&set, "opt_out_keyword");
        BSON_APPEND_DATE_TIME(&set, "opted_in_at", after->opted_in_at);
    }

    /* a new version for the copy, which is written with the name as
     * stored now (a rename may have come since the read) */
    command = BCON_NEW("findAndModify", BCON_UTF8("contacts"),
                       "query", BCON_DOCUMENT(&query),
                       "update", "{",
                           "$set", BCON_DOCUMENT(&set),
                           "$inc", "{", "version", BCON_INT64(1), "}",
                       "}",
                       "fields", "{",
                           "conversation_id", BCON_INT32(1),
                           "name", BCON_INT32(1),
                           "version", BCON_INT32(1),
                       "}",
                       "new", BCON_BOOL(true));
    bson_destroy(&query);
    bson_destroy(&set);

    rc = inbox_mongo_run_find_and_modify(ms, command, &value, &found, err);

    if (rc == INBOX_OK && found) {
        *changed = 1;

        if (inbox_mongo_parse_id(after->conversation_id, &conversation)
            != 0)
        {
            rc = inbox_error_set(err, INBOX_ERR_INTERNAL,
                                 "A stored contact has no conversation.");
        }
    }

    if (rc != INBOX_OK || !*changed) {
        bson_destroy(&value);
        return rc;
    }

    /* the copy the thread list shows */
    name = inbox_mongo_dup_str(&value, "name");
    bson_init(&updates);
    inbox_mongo_append_contact_copy(&updates, "0", org, &conversation, name,
                                    after->opted_out,
                                    inbox_mongo_get_int(&value, "version"));
    free(name);
    bson_destroy(&value);

    command = BCON_NEW("update", BCON_UTF8("conversations"),
                       "updates", BCON_ARRAY(&updates),
                       "ordered", BCON_BOOL(true));
    bson_destroy(&updates);

    rc = inbox_mongo_run_simple(ms, command, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    return inbox_mongo_contact_event_write(ms, org, contact, after, keyword,
                                           message, err);
}


/*
 * The contact's timeline entry of its opt state as after has it (an
 * opt-out at opted_out_at, else an opt-in at opted_in_at), written once:
 * an upsert on the contact, the kind and the time, so that a repeat
 * finishing what a failed change left (inbox_mongo_contact_opt_repeat)
 * and the change itself never make two.
 */
static inbox_status_t
inbox_mongo_contact_event_write(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const bson_oid_t *contact,
    const inbox_contact_record_t *after, const char *keyword,
    const bson_oid_t *message, inbox_error_t *err)
{
    bson_t      q, doc;
    bson_t     *command;
    bson_oid_t  oid;

    inbox_mongo_new_id(ms, &oid);

    bson_init(&q);
    BSON_APPEND_OID(&q, "org_id", org);
    BSON_APPEND_OID(&q, "contact_id", contact);
    BSON_APPEND_UTF8(&q, "type", after->opted_out ? "opt_out" : "opt_in");
    BSON_APPEND_DATE_TIME(&q, "at", after->opted_out ? after->opted_out_at
                                                     : after->opted_in_at);

    bson_init(&doc);
    BSON_APPEND_OID(&doc, "_id", &oid);
    BSON_APPEND_UTF8(&doc, "source", after->opted_out ? after->opt_out_source
                                                      : "keyword");
    if (keyword != NULL) {
        BSON_APPEND_UTF8(&doc, "keyword", keyword);
    } else {
        BSON_APPEND_NULL(&doc, "keyword");
    }
    if (message != NULL) {
        BSON_APPEND_OID(&doc, "message_id", message);
    } else {
        BSON_APPEND_NULL(&doc, "message_id");
    }

    command = BCON_NEW("update", BCON_UTF8("contact_events"),
                       "updates", "[", "{",
                           "q", BCON_DOCUMENT(&q),
                           "u", "{", "$setOnInsert", BCON_DOCUMENT(&doc), "}",
                           "upsert", BCON_BOOL(true),
                       "}", "]",
                       "ordered", BCON_BOOL(true));
    bson_destroy(&q);
    bson_destroy(&doc);

    return inbox_mongo_run_simple(ms, command, err);
}


/*
 * A change that changed nothing (the contact was so already, perhaps by
 * this very request's earlier try, which failed after the contact's
 * write): what such a change leaves behind it is written, each write
 * idempotent, so that a retry finishes it: the copy its conversation
 * keeps, the timeline entry of its state, and, opted out, its thread's
 * wait ended.  Nothing is pushed: the browsers were told by the change,
 * or see it when they next read.
 */
static inbox_status_t
inbox_mongo_contact_opt_repeat(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const bson_oid_t *oid,
    const inbox_contact_record_t *contact, int64_t version,
    inbox_error_t *err)
{
    int             found;
    bson_t          doc;
    bson_oid_t      conversation;
    inbox_status_t  rc;

    rc = inbox_mongo_contact_copy_write(ms, org, contact, version, err);

    if (rc != INBOX_OK || (!contact->opted_out && contact->opted_in_at <= 0))
    {
        return rc;
    }

    rc = inbox_mongo_contact_event_write(ms, org, oid, contact,
                                         contact->opted_out
                                         && contact->opt_out_keyword[0]
                                         ? contact->opt_out_keyword : NULL,
                                         NULL, err);

    if (rc != INBOX_OK || !contact->opted_out
        || inbox_mongo_parse_id(contact->conversation_id, &conversation) != 0)
    {
        return rc;
    }

    rc = inbox_mongo_conversation_respond(ms, org, &conversation,
                                          contact->opted_out_at, &doc,
                                          &found, err);
    bson_destroy(&doc);

    return rc;
}


inbox_status_t
inbox_mongo_contact_events_list(inbox_store_t *store, const char *org_id,
    const char *contact_id, int64_t after_at, const char *after_id,
    unsigned limit, inbox_contact_event_page_t *page, inbox_error_t *err)
{
    char                      type[16];
    bson_t                    filter, batch, doc;
    inbox_mongo_page_query_t  page_query;
    bson_oid_t                org, oid, after_oid;
    bson_iter_t               iter;
    inbox_status_t            rc;
    inbox_contact_event_t    *e;
    inbox_contact_record_t    contact;
    inbox_mongo_store_t      *ms = (inbox_mongo_store_t *) store;

    if (inbox_mongo_parse_id(org_id, &org) != 0
        || inbox_mongo_parse_id(contact_id, &oid) != 0)
    {
        return inbox_error_not_found(err, "contact");
    }

    if (after_id != NULL && inbox_mongo_parse_id(after_id, &after_oid) != 0)
    {
        return inbox_error_cursor(err);
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    /* another organization's contact is a 404, not an empty list */
    rc = inbox_mongo_contact_read(ms, &org, &oid, &contact, NULL, err);
    inbox_contact_record_free(&contact);

    if (rc != INBOX_OK) {
        return rc;
    }

    bson_init(&filter);
    BSON_APPEND_OID(&filter, "org_id", &org);
    BSON_APPEND_OID(&filter, "contact_id", &oid);

    page_query = (inbox_mongo_page_query_t) {
        .collection = "contact_events", .time_field = "at",
        .after = after_id != NULL ? &after_oid : NULL,
        .after_ms = after_id != NULL ? after_at : 0, .limit = limit
    };

    rc = inbox_mongo_find_page(ms, &page_query, &filter, &batch, err);
    if (rc != INBOX_OK) {
        bson_destroy(&batch);
        return rc;
    }

    page->items = calloc(limit, sizeof(inbox_contact_event_t));
    if (page->items == NULL) {
        bson_destroy(&batch);
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    bson_iter_init(&iter, &batch);

    while (inbox_mongo_next_doc(&iter, &doc)) {
        if (page->count == limit) {
            page->more = 1;
            break;
        }

        e = &page->items[page->count++];
        inbox_mongo_get_id(&doc, "_id", e->id);
        inbox_mongo_get_str(&doc, "type", type, sizeof(type));
        e->type = strcmp(type, "opt_in") == 0 ? INBOX_TIMELINE_OPT_IN
                                              : INBOX_TIMELINE_OPT_OUT;
        e->at = inbox_mongo_get_date(&doc, "at");
        inbox_mongo_get_str(&doc, "source", e->source, sizeof(e->source));
        inbox_mongo_get_str(&doc, "keyword", e->keyword, sizeof(e->keyword));
        inbox_mongo_get_id(&doc, "message_id", e->message_id);
    }

    bson_destroy(&batch);

    return INBOX_OK;
}
