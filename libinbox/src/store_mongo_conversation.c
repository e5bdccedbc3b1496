/*
 * The MongoDB backend: what an agent does to one conversation.
 *
 * Marking it read, in this order (see store_mongo.h on transactions):
 *   findAndModify the conversation  (org-scoped, only while unread > 0:
 *                                    unread 0, last_read_at now)
 *   find the conversation           (only when nothing matched: read
 *                                    already, or not the org's -> 404)
 * and, only when it changed:
 *   findAndModify the org           ($inc seq by 2: the events' numbers)
 *   aggregate the unread total
 *   insert the two events          (references: the conversation's id,
 *                                    the total)
 */
#include <stdlib.h>
#include <string.h>
#include "store_mongo.h"


#define INBOX_MONGO_READ_EVENTS  2


static inbox_status_t inbox_mongo_mark_read_events(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const bson_oid_t *oid,
    const inbox_conversation_t *conversation, inbox_event_list_t *events,
    inbox_error_t *err);


inbox_status_t
inbox_mongo_conversation_mark_read(inbox_store_t *store, const char *org_id,
    const char *conversation_id, inbox_conversation_t *conversation,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int                   found;
    bson_t                value;
    bson_oid_t            org, oid;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    memset(conversation, 0, sizeof(inbox_conversation_t));

    /* A malformed id names nothing, like another organization's. */
    if (inbox_mongo_parse_id(org_id, &org) != 0
        || inbox_mongo_parse_id(conversation_id, &oid) != 0)
    {
        return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                               "No such conversation.");
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    /* Matches only an unread thread, so a second read writes nothing. */
    rc = inbox_mongo_run_find_and_modify(ms,
        BCON_NEW("findAndModify", BCON_UTF8("conversations"),
                 "query", "{",
                     "_id", BCON_OID(&oid),
                     "org_id", BCON_OID(&org),
                     "unread_count", "{", "$gt", BCON_INT32(0), "}",
                 "}",
                 "update", "{", "$set", "{",
                     "unread_count", BCON_INT64(0),
                     "last_read_at", BCON_DATE_TIME(inbox_mongo_now(ms)),
                 "}", "}",
                 "new", BCON_BOOL(true)),
        &value, &found, err);

    if (rc != INBOX_OK) {
        bson_destroy(&value);
        return rc;
    }

    if (found) {
        inbox_mongo_parse_conversation(&value, conversation);
        bson_destroy(&value);

        return inbox_mongo_mark_read_events(ms, &org, &oid, conversation,
                                            events, err);
    }

    bson_destroy(&value);

    /* Read already (nothing to do), or not this organization's. */
    rc = inbox_mongo_find_one(ms, "conversations",
                              BCON_NEW("_id", BCON_OID(&oid),
                                       "org_id", BCON_OID(&org)),
                              NULL, &value, &found, err);

    if (rc == INBOX_OK) {
        if (found) {
            inbox_mongo_parse_conversation(&value, conversation);
        } else {
            rc = inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                                 "No such conversation.");
        }
    }

    bson_destroy(&value);

    return rc;
}


static inbox_status_t
inbox_mongo_mark_read_events(inbox_mongo_store_t *ms, const bson_oid_t *org,
    const bson_oid_t *oid, const inbox_conversation_t *conversation,
    inbox_event_list_t *events, inbox_error_t *err)
{
    char                 epoch[INBOX_EPOCH_MAX];
    int64_t              first, unread_total;
    inbox_status_t       rc;
    inbox_mongo_event_t  list[INBOX_MONGO_READ_EVENTS];

    rc = inbox_mongo_events_reserve(ms, org, INBOX_MONGO_READ_EVENTS, &first,
                                    epoch, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_unread_total(ms, org, &unread_total, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    list[0].type = "conversation.updated";
    list[0].message = NULL;
    list[0].conversation = oid;
    list[0].unread_total = -1;
    list[0].frame = inbox_event_conversation_updated(first, epoch,
                                                     conversation);

    list[1].type = "unread.total";
    list[1].message = NULL;
    list[1].conversation = NULL;
    list[1].unread_total = unread_total;
    list[1].frame = inbox_event_unread_total(first + 1, epoch, unread_total);

    return inbox_mongo_events_store(ms, org, first, epoch, list,
                                    INBOX_MONGO_READ_EVENTS, events, err);
}
