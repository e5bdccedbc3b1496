/*
 * The MongoDB backend: one page of a list, newest first, after a keyset
 * cursor (threads, contacts, messages, campaigns, the ledger, a contact's
 * events all page this way).
 */
#include "store_mongo.h"


/*
 * The search's $or and the keyset's $or cannot share the filter's one
 * "$or" key: with both, each is an item of an $and.  One more than the
 * page is asked for, which tells whether a next page exists, and a
 * single batch of that size needs no getMore.
 */
inbox_status_t
inbox_mongo_find_page(inbox_mongo_store_t *ms,
    const inbox_mongo_page_query_t *query, bson_t *filter, bson_t *batch,
    inbox_error_t *err)
{
    bson_t   keyset_or, and, item, sort;
    bson_t  *command;

    bson_init(&keyset_or);
    if (query->after != NULL) {
        inbox_mongo_append_keyset(&keyset_or, query->time_field,
                                  query->after_ms, query->after);
    }

    if (query->search != NULL && query->after != NULL) {
        BSON_APPEND_ARRAY_BEGIN(filter, "$and", &and);
        BSON_APPEND_DOCUMENT_BEGIN(&and, "0", &item);
        BSON_APPEND_ARRAY(&item, "$or", query->search);
        bson_append_document_end(&and, &item);
        BSON_APPEND_DOCUMENT_BEGIN(&and, "1", &item);
        BSON_APPEND_ARRAY(&item, "$or", &keyset_or);
        bson_append_document_end(&and, &item);
        bson_append_array_end(filter, &and);

    } else if (query->search != NULL) {
        BSON_APPEND_ARRAY(filter, "$or", query->search);

    } else if (query->after != NULL) {
        BSON_APPEND_ARRAY(filter, "$or", &keyset_or);
    }

    bson_destroy(&keyset_or);

    command = bson_new();
    BSON_APPEND_UTF8(command, "find", query->collection);
    BSON_APPEND_DOCUMENT(command, "filter", filter);
    BSON_APPEND_DOCUMENT_BEGIN(command, "sort", &sort);
    BSON_APPEND_INT32(&sort, query->time_field, -1);
    BSON_APPEND_INT32(&sort, "_id", -1);
    bson_append_document_end(command, &sort);
    BSON_APPEND_INT32(command, "limit", (int32_t) query->limit + 1);
    BSON_APPEND_INT32(command, "batchSize", (int32_t) query->limit + 1);
    BSON_APPEND_BOOL(command, "singleBatch", true);
    if (query->hint != NULL) {
        BSON_APPEND_UTF8(command, "hint", query->hint);
    }
    bson_destroy(filter);

    return inbox_mongo_run_cursor(ms, command, batch, err);
}


void
inbox_mongo_append_keyset(bson_t *or, const char *time_field, int64_t ms,
    const bson_oid_t *oid)
{
    bson_t  item, cmp;

    BSON_APPEND_DOCUMENT_BEGIN(or, "0", &item);
    BSON_APPEND_DOCUMENT_BEGIN(&item, time_field, &cmp);
    BSON_APPEND_DATE_TIME(&cmp, "$lt", ms);
    bson_append_document_end(&item, &cmp);
    bson_append_document_end(or, &item);

    BSON_APPEND_DOCUMENT_BEGIN(or, "1", &item);
    BSON_APPEND_DATE_TIME(&item, time_field, ms);
    BSON_APPEND_DOCUMENT_BEGIN(&item, "_id", &cmp);
    BSON_APPEND_OID(&cmp, "$lt", oid);
    bson_append_document_end(&item, &cmp);
    bson_append_document_end(or, &item);
}
