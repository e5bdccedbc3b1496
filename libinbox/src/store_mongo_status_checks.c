/*
 * The MongoDB backend's status checks (status_check.h): the messages a
 * carrier took whose final status never came, handed to the sender to
 * ask the carrier about.  Each is claimed by a compare-and-set of its
 * next ask (status_check_at: absent while never asked, the epoch once no
 * ask is left), so that two senders never ask about one at once.  The
 * index status_check_submitted answers both reads: the statuses that
 * are not final, then the next ask, then when the carrier took it.
 */
#include <stdlib.h>
#include <string.h>
#include "store_mongo.h"


static inbox_status_t inbox_mongo_status_checks_take(
    inbox_mongo_store_t *ms, bson_t *filter, const char *sort, int64_t now,
    int64_t after, int64_t give_up, unsigned limit,
    inbox_status_check_list_t *list, inbox_error_t *err);
static inbox_status_t inbox_mongo_status_check_claim(
    inbox_mongo_store_t *ms, const bson_t *doc, int64_t now, int64_t after,
    int64_t give_up, inbox_status_check_t *item, int *claimed,
    inbox_error_t *err);


/*
 * The statuses that are not final, as the filters and the index say, of
 * a message with the carrier's id: one whose send's outcome is unknown
 * (outbox.h) has none to ask about, and waits for a callback naming it
 * or its hold's expiry.
 */
static void
inbox_mongo_status_askable(bson_t *filter)
{
    BCON_APPEND(filter, "status", "{", "$in", "[",
                    BCON_UTF8(inbox_delivery_name(INBOX_DELIVERY_QUEUED)),
                    BCON_UTF8(inbox_delivery_name(INBOX_DELIVERY_SENDING)),
                    BCON_UTF8(inbox_delivery_name(INBOX_DELIVERY_SENT)),
                "]", "}",
                "error_code", "{",
                    "$ne", BCON_UTF8(INBOX_SEND_ERROR_UNKNOWN),
                "}");
}


inbox_status_t
inbox_mongo_status_checks_claim(inbox_store_t *store, int64_t now,
    int64_t after, int64_t give_up, unsigned limit,
    inbox_status_check_list_t *list, inbox_error_t *err)
{
    bson_t               *filter;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    list->items = calloc(limit, sizeof(inbox_status_check_t));
    if (list->items == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    /* never asked: taken between give_up and after ago, oldest first */
    filter = bson_new();
    inbox_mongo_status_askable(filter);
    BCON_APPEND(filter,
                "status_check_at", BCON_NULL,
                "submitted_at", "{",
                    "$gte", BCON_DATE_TIME(now - give_up),
                    "$lte", BCON_DATE_TIME(now - after),
                "}");

    rc = inbox_mongo_status_checks_take(ms, filter, "submitted_at", now,
                                        after, give_up, limit, list, err);

    /* then those due again, longest due first */
    if (rc == INBOX_OK && list->count < limit) {
        filter = bson_new();
        inbox_mongo_status_askable(filter);
        BCON_APPEND(filter,
                    "status_check_at", "{",
                        "$gt", BCON_DATE_TIME(0),
                        "$lte", BCON_DATE_TIME(now),
                    "}",
                    "submitted_at", "{",
                        "$gte", BCON_DATE_TIME(now - give_up),
                    "}");

        rc = inbox_mongo_status_checks_take(ms, filter, "status_check_at",
                                            now, after, give_up, limit, list,
                                            err);
    }

    if (rc != INBOX_OK) {
        inbox_status_check_list_free(list);
    }

    return rc;
}


/* The messages filter (destroyed here) finds, by sort, claimed one by
 * one into list while it has room. */
static inbox_status_t
inbox_mongo_status_checks_take(inbox_mongo_store_t *ms, bson_t *filter,
    const char *sort, int64_t now, int64_t after, int64_t give_up,
    unsigned limit, inbox_status_check_list_t *list, inbox_error_t *err)
{
    int             claimed;
    bson_t          batch, doc;
    bson_t         *command;
    bson_iter_t     iter;
    inbox_status_t  rc;

    command = BCON_NEW("find", BCON_UTF8("messages"),
                       "filter", BCON_DOCUMENT(filter),
                       "sort", "{", sort, BCON_INT32(1), "}",
                       "projection", "{",
                           "org_id", BCON_INT32(1),
                           "campaign_id", BCON_INT32(1),
                           "from", BCON_INT32(1),
                           "provider", BCON_INT32(1),
                           "provider_id", BCON_INT32(1),
                           "submitted_at", BCON_INT32(1),
                           "status_check_at", BCON_INT32(1),
                       "}",
                       "limit", BCON_INT32((int32_t) (limit - list->count)),
                       "singleBatch", BCON_BOOL(true));
    bson_destroy(filter);

    rc = inbox_mongo_run_cursor(ms, command, &batch, err);
    if (rc != INBOX_OK) {
        bson_destroy(&batch);
        return rc;
    }

    bson_iter_init(&iter, &batch);

    while (rc == INBOX_OK && list->count < limit
           && inbox_mongo_next_doc(&iter, &doc))
    {
        rc = inbox_mongo_status_check_claim(ms, &doc, now, after, give_up,
                                            &list->items[list->count],
                                            &claimed, err);
        if (rc == INBOX_OK && claimed) {
            list->count++;
        }
    }

    bson_destroy(&batch);

    return rc;
}


/* The message doc into item, its next ask set unless another sender's
 * claim moved it first (*claimed 0; item left empty). */
static inbox_status_t
inbox_mongo_status_check_claim(inbox_mongo_store_t *ms, const bson_t *doc,
    int64_t now, int64_t after, int64_t give_up, inbox_status_check_t *item,
    int *claimed, inbox_error_t *err)
{
    char            carrier[16], from[INBOX_PHONE_MAX];
    bson_t         *q;
    int64_t         next;
    bson_oid_t      message, org;
    bson_iter_t     iter;
    inbox_status_t  rc;

    *claimed = 0;

    if (!bson_iter_init_find(&iter, doc, "_id")
        || !BSON_ITER_HOLDS_OID(&iter))
    {
        return INBOX_OK;
    }

    bson_oid_copy(bson_iter_oid(&iter), &message);

    memset(item, 0, sizeof(*item));
    inbox_mongo_get_id(doc, "org_id", item->org_id);
    inbox_mongo_get_str(doc, "provider", carrier, sizeof(carrier));
    inbox_mongo_get_str(doc, "from", from, sizeof(from));
    inbox_mongo_get_str(doc, "provider_id", item->provider_id,
                        sizeof(item->provider_id));
    item->submitted_at = inbox_mongo_get_date(doc, "submitted_at");

    if (inbox_carrier_parse(carrier, &item->carrier) != 0
        || inbox_mongo_parse_id(item->org_id, &org) != 0)
    {
        /* no carrier took it: nobody to ask */
        memset(item, 0, sizeof(*item));
        return INBOX_OK;
    }

    if (bson_iter_init_find(&iter, doc, "campaign_id")
        && BSON_ITER_HOLDS_OID(&iter))
    {
        inbox_mongo_id_hex(bson_iter_oid(&iter), item->campaign_id);
    }

    next = inbox_status_check_next(item->submitted_at, now, after, give_up);
    item->last = (next == 0);

    /* as read: absent (never asked), or the time that was due */
    q = BCON_NEW("_id", BCON_OID(&message));
    if (bson_iter_init_find(&iter, doc, "status_check_at")
        && BSON_ITER_HOLDS_DATE_TIME(&iter))
    {
        BSON_APPEND_DATE_TIME(q, "status_check_at",
                              bson_iter_date_time(&iter));
    } else {
        BSON_APPEND_NULL(q, "status_check_at");
    }

    rc = inbox_mongo_update_one(ms, "messages", q,
                                BCON_NEW("$set", "{",
                                             "status_check_at",
                                             BCON_DATE_TIME(next),
                                         "}"),
                                claimed, err);

    if (rc == INBOX_OK && *claimed) {
        inbox_mongo_id_hex(&message, item->message_id);
        memcpy(item->number.org_id, item->org_id, INBOX_ID_MAX);
        rc = inbox_mongo_carrier_number(ms, &org, carrier, from,
                                        &item->number, err);
    }

    if (rc != INBOX_OK || !*claimed) {
        inbox_number_free(&item->number);
        memset(item, 0, sizeof(*item));
    }

    return rc;
}


inbox_status_t
inbox_mongo_status_checks_end(inbox_store_t *store,
    const char *const *message_ids, size_t n, inbox_error_t *err)
{
    size_t                i;
    bson_t                ids;
    bson_oid_t            oid;
    uint32_t              count;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    bson_init(&ids);
    count = 0;

    for (i = 0; i < n; i++) {
        if (inbox_mongo_parse_id(message_ids[i], &oid) == 0) {
            inbox_mongo_array_add(&ids, &count, &oid);
        }
    }

    if (count == 0) {
        bson_destroy(&ids);
        return INBOX_OK;
    }

    rc = inbox_mongo_run_simple(ms,
        BCON_NEW("update", BCON_UTF8("messages"),
                 "updates", "[", "{",
                     "q", "{", "_id", "{", "$in", BCON_ARRAY(&ids), "}", "}",
                     "u", "{", "$set", "{",
                         "status_check_at", BCON_DATE_TIME(0),
                     "}", "}",
                     "multi", BCON_BOOL(true),
                 "}", "]",
                 "ordered", BCON_BOOL(true)),
        err);

    bson_destroy(&ids);

    return rc;
}
