/*
 * The MongoDB backend: an organization's event stream.  Each change a
 * browser must see reserves the organization's next event numbers on its
 * org document, then stores in events what each event refers to (ids, the
 * unread total), where resuming browsers will find them: the frames are
 * rendered again from the documents they name, never stored twice.
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
inbox_mongo_events_store(inbox_mongo_store_t *ms, const bson_oid_t *org,
    int64_t first, const char *epoch, inbox_mongo_event_t *list, size_t n,
    inbox_event_list_t *events, inbox_error_t *err)
{
    char             key[24], org_hex[INBOX_ID_MAX];
    bson_t           docs, doc;
    bson_t          *command;
    size_t           i;
    int64_t          now;
    bson_oid_t       oid;
    inbox_status_t   rc;

    for (i = 0; i < n; i++) {
        if (list[i].frame == NULL) {
            rc = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
            goto free_frames;
        }
    }

    now = inbox_mongo_now(ms);
    bson_init(&docs);

    for (i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "%zu", i);
        inbox_mongo_new_id(ms, &oid);

        BSON_APPEND_DOCUMENT_BEGIN(&docs, key, &doc);
        BSON_APPEND_OID(&doc, "_id", &oid);
        BSON_APPEND_OID(&doc, "org_id", org);
        BSON_APPEND_INT64(&doc, "seq", first + (int64_t) i);
        BSON_APPEND_UTF8(&doc, "type", list[i].type);
        BSON_APPEND_UTF8(&doc, "epoch", epoch);

        if (list[i].message != NULL) {
            BSON_APPEND_OID(&doc, "message_id", list[i].message);
        }

        if (list[i].conversation != NULL) {
            BSON_APPEND_OID(&doc, "conversation_id", list[i].conversation);
        }

        if (list[i].unread_total >= 0) {
            BSON_APPEND_INT64(&doc, "unread_total", list[i].unread_total);
        }

        BSON_APPEND_DATE_TIME(&doc, "created_at", now);
        bson_append_document_end(&docs, &doc);
    }

    command = BCON_NEW("insert", BCON_UTF8("events"),
                       "documents", BCON_ARRAY(&docs),
                       "ordered", BCON_BOOL(true));
    bson_destroy(&docs);

    rc = inbox_mongo_run_simple(ms, command, err);

    if (rc != INBOX_OK || events == NULL) {
        /* a caller that pushes nothing may pass no list */
        goto free_frames;
    }

    inbox_mongo_id_hex(org, org_hex);

    for (i = 0; i < n; i++) {
        /* the list owns the frame from here, also when the push fails */
        if (inbox_event_list_push(events, org_hex, first + (int64_t) i,
                                  list[i].frame)
            != 0)
        {
            rc = inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
            i++;
            break;
        }
    }

    /* what the list did not take */
    for ( /* void */ ; i < n; i++) {
        free(list[i].frame);
    }

    return rc;

free_frames:

    for (i = 0; i < n; i++) {
        free(list[i].frame);
    }

    return rc;
}
