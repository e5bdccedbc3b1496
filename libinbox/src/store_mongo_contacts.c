/*
 * The MongoDB backend: contacts.  A contact document names its
 * conversation, made with it (empty until the first message); the
 * conversation keeps a copy of the contact fields the list shows and
 * searches.
 */
#include <string.h>
#include "store_mongo.h"


inbox_status_t
inbox_mongo_contact_upsert(inbox_store_t *store, const char *org_id,
    const char *phone, const char *name, char id[INBOX_ID_MAX],
    inbox_error_t *err)
{
    int                   found;
    bson_t                contact, update, insert, set;
    bson_t               *command;
    bson_oid_t            org, contact_oid, conversation_oid;
    bson_iter_t           iter;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;
    int64_t               now;

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    if (inbox_mongo_parse_id(org_id, &org) != 0) {
        return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                               "No organization has the id \"%s\".", org_id);
    }

    inbox_mongo_new_id(ms, &contact_oid);
    inbox_mongo_new_id(ms, &conversation_oid);
    now = inbox_mongo_now(ms);

    /* The contact: renamed when a name is given ("" forgets it), made
     * with the id of its future conversation when new. */
    bson_init(&update);
    if (name != NULL) {
        BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
        if (name[0] != '\0') {
            BSON_APPEND_UTF8(&set, "name", name);
        } else {
            BSON_APPEND_NULL(&set, "name");
        }
        bson_append_document_end(&update, &set);
    }

    BSON_APPEND_DOCUMENT_BEGIN(&update, "$setOnInsert", &insert);
    BSON_APPEND_OID(&insert, "_id", &contact_oid);
    BSON_APPEND_OID(&insert, "conversation_id", &conversation_oid);
    if (name == NULL) {
        BSON_APPEND_NULL(&insert, "name");
    }
    BSON_APPEND_BOOL(&insert, "opted_out", false);
    BSON_APPEND_DATE_TIME(&insert, "created_at", now);
    bson_append_document_end(&update, &insert);

    command = BCON_NEW("findAndModify", BCON_UTF8("contacts"),
                       "query", "{",
                           "org_id", BCON_OID(&org),
                           "phone", BCON_UTF8(phone),
                       "}",
                       "update", BCON_DOCUMENT(&update),
                       "upsert", BCON_BOOL(true),
                       "new", BCON_BOOL(true));
    bson_destroy(&update);

    rc = inbox_mongo_run_find_and_modify(ms, command, &contact, &found, err);

    if (rc == INBOX_OK
        && !(found
             && bson_iter_init_find(&iter, &contact, "_id")
             && BSON_ITER_HOLDS_OID(&iter)))
    {
        rc = inbox_error_set(err, INBOX_ERR_INTERNAL,
                             "MongoDB returned no contact after an upsert.");
    }

    if (rc == INBOX_OK) {
        bson_oid_copy(bson_iter_oid(&iter), &contact_oid);

        if (bson_iter_init_find(&iter, &contact, "conversation_id")
            && BSON_ITER_HOLDS_OID(&iter))
        {
            bson_oid_copy(bson_iter_oid(&iter), &conversation_oid);
        } else {
            rc = inbox_error_set(err, INBOX_ERR_INTERNAL,
                                 "A stored contact has no conversation.");
        }
    }

    if (rc != INBOX_OK) {
        bson_destroy(&contact);
        return rc;
    }

    /* Its conversation: made empty when missing; the copy of the name the
     * list searches follows a rename. */
    bson_init(&update);
    if (name != NULL) {
        BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
        if (name[0] != '\0') {
            BSON_APPEND_UTF8(&set, "contact.name", name);
        } else {
            BSON_APPEND_NULL(&set, "contact.name");
        }
        bson_append_document_end(&update, &set);
    }

    BSON_APPEND_DOCUMENT_BEGIN(&update, "$setOnInsert", &insert);
    BSON_APPEND_OID(&insert, "contact.id", &contact_oid);
    if (name == NULL) {
        BSON_APPEND_NULL(&insert, "contact.name");
    }
    BSON_APPEND_UTF8(&insert, "contact.phone", phone);
    BSON_APPEND_BOOL(&insert, "contact.opted_out",
                     inbox_mongo_get_bool(&contact, "opted_out"));
    BSON_APPEND_NULL(&insert, "last_message");
    BSON_APPEND_DATE_TIME(&insert, "last_activity_at", now);
    BSON_APPEND_INT64(&insert, "unread_count", 0);
    BSON_APPEND_BOOL(&insert, "archived", false);
    BSON_APPEND_BOOL(&insert, "starred", false);
    bson_append_document_end(&update, &insert);

    command = BCON_NEW("update", BCON_UTF8("conversations"),
                       "updates", "[", "{",
                           "q", "{",
                               "_id", BCON_OID(&conversation_oid),
                               "org_id", BCON_OID(&org),
                           "}",
                           "u", BCON_DOCUMENT(&update),
                           "upsert", BCON_BOOL(true),
                       "}", "]",
                       "ordered", BCON_BOOL(true));
    bson_destroy(&update);

    rc = inbox_mongo_run_simple(ms, command, err);

    if (rc == INBOX_OK) {
        inbox_mongo_id_hex(&contact_oid, id);
    }

    bson_destroy(&contact);

    return rc;
}
