/*
 * The MongoDB backend: a conversation's messages, newest first (media
 * embedded in each).
 */
#include <string.h>
#include "store_mongo.h"


inbox_status_t
inbox_mongo_messages_list(inbox_store_t *store, const char *org_id,
    const char *conversation_id, const char *cursor, unsigned limit,
    inbox_message_page_t *page, inbox_error_t *err)
{
    int                       found, keyset;
    bson_t                    filter, batch, doc;
    inbox_mongo_page_query_t  page_query;
    int64_t                   cursor_ms;
    bson_oid_t                org, oid, cursor_oid;
    bson_iter_t               iter;
    inbox_status_t            rc;
    inbox_mongo_store_t      *ms = (inbox_mongo_store_t *) store;

    memset(page, 0, sizeof(inbox_message_page_t));

    rc = inbox_mongo_ids(org_id, &org, conversation_id, &oid, err);
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

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    /* Another organization's conversation is a 404, not an empty list. */
    rc = inbox_mongo_find_one(ms, "conversations",
                              BCON_NEW("_id", BCON_OID(&oid),
                                       "org_id", BCON_OID(&org)),
                              BCON_NEW("_id", BCON_INT32(1)),
                              &doc, &found, err);
    bson_destroy(&doc);

    if (rc == INBOX_OK && !found) {
        rc = inbox_error_not_found(err, "conversation");
    }

    if (rc != INBOX_OK) {
        return rc;
    }

    bson_init(&filter);
    BSON_APPEND_OID(&filter, "org_id", &org);
    BSON_APPEND_OID(&filter, "conversation_id", &oid);
    /* an inbound message whose ingest has not finished shows once it has
     * (store_mongo_ingest.c) */
    BCON_APPEND(&filter, "threaded", "{", "$ne", BCON_BOOL(false), "}");

    page_query = (inbox_mongo_page_query_t) {
        .collection = "messages", .time_field = "created_at",
        .after = keyset ? &cursor_oid : NULL,
        .after_ms = keyset ? cursor_ms : 0, .limit = limit
    };

    rc = inbox_mongo_find_page(ms, &page_query, &filter, &batch, err);
    if (rc != INBOX_OK) {
        bson_destroy(&batch);
        return rc;
    }

    page->items = calloc(limit, sizeof(inbox_message_t));
    if (page->items == NULL) {
        bson_destroy(&batch);
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    bson_iter_init(&iter, &batch);

    while (inbox_mongo_next_doc(&iter, &doc)) {
        if (page->count == limit) {
            inbox_mongo_cursor_make(page->items[limit - 1].created_at,
                                    page->items[limit - 1].id,
                                    page->next_cursor);
            break;
        }

        /* Counted first: a half-parsed message is freed with the page. */
        rc = inbox_mongo_parse_message(&doc, &page->items[page->count++],
                                       err);
        if (rc != INBOX_OK) {
            break;
        }
    }

    bson_destroy(&batch);

    return rc;
}
