/*
 * The MongoDB backend: an organization's event stream.  Each change a
 * browser must see reserves the organization's next event numbers on its
 * org document, then stores in events what each event refers to (ids, the
 * unread total), where resuming browsers will find them: the frames are
 * rendered again from the documents they name, never stored twice.  Which
 * events a change makes, and their frames, are libinbox's (event.h).  The
 * stream's position, for a WebSocket's "hello", is read here too.
 */
#include <stdio.h>
#include <stdlib.h>
#include "store_mongo.h"


inbox_status_t
inbox_mongo_events_reserve(inbox_mongo_store_t *ms, const bson_oid_t *org,
    int64_t n, int64_t *first, char epoch[INBOX_EPOCH_MAX],
    inbox_error_t *err)
{
    int             found;
    bson_t          value;
    inbox_status_t  rc;

    rc = inbox_mongo_run_find_and_modify(ms,
        BCON_NEW("findAndModify", BCON_UTF8("orgs"),
                 "query", "{", "_id", BCON_OID(org), "}",
                 "update", "{", "$inc", "{", "seq", BCON_INT64(n), "}", "}",
                 "fields", "{",
                     "seq", BCON_INT32(1), "epoch", BCON_INT32(1),
                 "}",
                 "new", BCON_BOOL(true)),
        &value, &found, err);

    if (rc == INBOX_OK && !found) {
        rc = inbox_error_set(err, INBOX_ERR_INTERNAL,
                             "The organization of this change does not "
                             "exist.");
    }

    /* the new seq is the last of the n reserved */
    *first = inbox_mongo_get_int(&value, "seq") - n + 1;
    inbox_mongo_get_str(&value, "epoch", epoch, INBOX_EPOCH_MAX);
    bson_destroy(&value);

    return rc;
}


inbox_status_t
inbox_mongo_events_append(inbox_mongo_store_t *ms, const bson_oid_t *org,
    inbox_change_t *change, inbox_event_list_t *events, inbox_error_t *err)
{
    char                   key[24], org_hex[INBOX_ID_MAX];
    char                   epoch[INBOX_EPOCH_MAX];
    bson_t                 docs, doc;
    bson_t                *command;
    size_t                 i;
    int64_t                now, first, unread_total;
    bson_oid_t             oid, ref;
    inbox_status_t         rc;
    inbox_change_event_t  *e;

    rc = inbox_mongo_events_reserve(ms, org, (int64_t) change->count, &first,
                                    epoch, err);
    if (rc != INBOX_OK) {
        goto done;
    }

    if (inbox_change_wants_total(change)) {
        rc = inbox_mongo_unread_total(ms, org, &unread_total, err);
        if (rc != INBOX_OK) {
            goto done;
        }

        inbox_change_set_total(change, unread_total);
    }

    if (inbox_change_render(change, first, epoch) != 0) {
        rc = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        goto done;
    }

    now = inbox_mongo_now(ms);
    bson_init(&docs);

    for (i = 0; i < change->count; i++) {
        e = &change->items[i];

        snprintf(key, sizeof(key), "%zu", i);
        inbox_mongo_new_id(ms, &oid);

        BSON_APPEND_DOCUMENT_BEGIN(&docs, key, &doc);
        BSON_APPEND_OID(&doc, "_id", &oid);
        BSON_APPEND_OID(&doc, "org_id", org);
        BSON_APPEND_INT64(&doc, "seq", e->org_seq);
        BSON_APPEND_UTF8(&doc, "type", e->type);
        BSON_APPEND_UTF8(&doc, "epoch", epoch);

        if (e->message_id != NULL
            && inbox_mongo_parse_id(e->message_id, &ref) == 0)
        {
            BSON_APPEND_OID(&doc, "message_id", &ref);
        }

        if (e->conversation_id != NULL
            && inbox_mongo_parse_id(e->conversation_id, &ref) == 0)
        {
            BSON_APPEND_OID(&doc, "conversation_id", &ref);
        }

        if (e->unread_total >= 0) {
            BSON_APPEND_INT64(&doc, "unread_total", e->unread_total);
        }

        BSON_APPEND_DATE_TIME(&doc, "created_at", now);
        bson_append_document_end(&docs, &doc);
    }

    command = BCON_NEW("insert", BCON_UTF8("events"),
                       "documents", BCON_ARRAY(&docs),
                       "ordered", BCON_BOOL(true));
    bson_destroy(&docs);

    rc = inbox_mongo_run_simple(ms, command, err);
    if (rc != INBOX_OK) {
        goto done;
    }

    inbox_mongo_id_hex(org, org_hex);

    if (inbox_change_push(change, org_hex, events) != 0) {
        rc = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

done:

    inbox_change_free(change);

    return rc;
}


inbox_status_t
inbox_mongo_realtime_state(inbox_store_t *store, const char *org_id,
    inbox_realtime_state_t *state, inbox_error_t *err)
{
    int                   found;
    bson_t                doc;
    bson_oid_t            org;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    memset(state, 0, sizeof(inbox_realtime_state_t));

    /* A malformed id names nothing, like another organization's. */
    if (inbox_mongo_parse_id(org_id, &org) != 0) {
        return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                               "No such organization.");
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_find_one(ms, "orgs", BCON_NEW("_id", BCON_OID(&org)),
                              BCON_NEW("seq", BCON_INT32(1),
                                       "epoch", BCON_INT32(1)),
                              &doc, &found, err);

    if (rc == INBOX_OK && !found) {
        rc = inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                             "No such organization.");
    }

    if (rc == INBOX_OK) {
        state->org_seq = inbox_mongo_get_int(&doc, "seq");
        inbox_mongo_get_str(&doc, "epoch", state->epoch,
                            sizeof(state->epoch));
    }

    bson_destroy(&doc);

    if (rc != INBOX_OK) {
        return rc;
    }

    return inbox_mongo_unread_total(ms, &org, &state->unread_total, err);
}
