/*
 * The MongoDB backend: contacts.  A contact document names its
 * conversation, made with it (empty until the first message); the
 * conversation keeps a copy of the contact fields the list shows and
 * searches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inbox/import.h>
#include <inbox/phone.h>
#include "store_mongo.h"


inbox_status_t
inbox_mongo_contact_upsert(inbox_store_t *store, const char *org_id,
    const char *phone, const char *name, char id[INBOX_ID_MAX],
    inbox_error_t *err)
{
    int                   found;
    char                 *copy_name;
    bson_t                contact, update, insert, set, updates, entry;
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
        return inbox_error_org_unknown(err, org_id);
    }

    inbox_mongo_new_id(ms, &contact_oid);
    inbox_mongo_new_id(ms, &conversation_oid);
    now = inbox_mongo_now(ms);

    /* The contact: renamed when a name is given ("" forgets it), one
     * more version as a rename's (its conversation's copy is written at
     * it), made with the id of its future conversation when new. */
    bson_init(&update);
    if (name != NULL) {
        BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
        if (name[0] != '\0') {
            BSON_APPEND_UTF8(&set, "name", name);
        } else {
            BSON_APPEND_NULL(&set, "name");
        }
        inbox_mongo_append_search_name(&set, "search_name", name);
        bson_append_document_end(&update, &set);
        BCON_APPEND(&update, "$inc", "{", "version", BCON_INT64(1), "}");
    }

    BSON_APPEND_DOCUMENT_BEGIN(&update, "$setOnInsert", &insert);
    BSON_APPEND_OID(&insert, "_id", &contact_oid);
    BSON_APPEND_OID(&insert, "conversation_id", &conversation_oid);
    if (name == NULL) {
        BSON_APPEND_NULL(&insert, "name");
        BSON_APPEND_NULL(&insert, "search_name");
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

    /* Its conversation: made empty when missing; then, after a rename,
     * the copy of the contact the list shows and searches, as the
     * contact is now at its version, only where the copy is older (as a
     * rename writes it: of two at once the newer stays) */
    bson_init(&update);
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$setOnInsert", &insert);
    BSON_APPEND_OID(&insert, "contact.id", &contact_oid);
    BSON_APPEND_NULL(&insert, "contact.name");
    BSON_APPEND_NULL(&insert, "contact.search_name");
    BSON_APPEND_UTF8(&insert, "contact.phone", phone);
    BSON_APPEND_BOOL(&insert, "contact.opted_out",
                     inbox_mongo_get_bool(&contact, "opted_out"));
    BSON_APPEND_NULL(&insert, "last_message");
    BSON_APPEND_DATE_TIME(&insert, "last_activity_at", INBOX_ACTIVITY_NONE);
    BSON_APPEND_NULL(&insert, "unresponded_at");
    BSON_APPEND_NULL(&insert, "responded_at");
    BSON_APPEND_INT64(&insert, "unread_count", 0);
    BSON_APPEND_BOOL(&insert, "archived", false);
    BSON_APPEND_BOOL(&insert, "starred", false);
    bson_append_document_end(&update, &insert);

    bson_init(&updates);
    BSON_APPEND_DOCUMENT_BEGIN(&updates, "0", &entry);
    BCON_APPEND(&entry, "q", "{",
                    "_id", BCON_OID(&conversation_oid),
                    "org_id", BCON_OID(&org),
                "}");
    BSON_APPEND_DOCUMENT(&entry, "u", &update);
    BSON_APPEND_BOOL(&entry, "upsert", true);
    bson_append_document_end(&updates, &entry);
    bson_destroy(&update);

    if (name != NULL) {
        copy_name = inbox_mongo_dup_str(&contact, "name");
        inbox_mongo_append_contact_copy(&updates, "1", &org,
            &conversation_oid, copy_name,
            inbox_mongo_get_bool(&contact, "opted_out"),
            inbox_mongo_get_int(&contact, "version"));
        free(copy_name);
    }

    command = BCON_NEW("update", BCON_UTF8("conversations"),
                       "updates", BCON_ARRAY(&updates),
                       "ordered", BCON_BOOL(true));
    bson_destroy(&updates);

    rc = inbox_mongo_run_simple(ms, command, err);

    if (rc == INBOX_OK) {
        inbox_mongo_id_hex(&contact_oid, id);
    }

    bson_destroy(&contact);

    return rc;
}


/* What inbox_mongo_parse_contact reads: a find for it reads no more. */
const char *const inbox_mongo_contact_fields[] = {
    "name", "phone", "opted_out", "opted_out_at", "opt_out_source",
    "opt_out_keyword", "timezone", "opted_in_at", "opt_latest_at",
    "created_at", "conversation_id", "tags", NULL
};


/* The contact fields a record shows, with the tags and their keys. */
void
inbox_mongo_parse_contact(const bson_t *doc, inbox_contact_record_t *c)
{
    bson_iter_t  iter, child;

    memset(c, 0, sizeof(inbox_contact_record_t));

    inbox_mongo_get_id(doc, "_id", c->id);
    c->name = inbox_mongo_dup_str(doc, "name");
    inbox_mongo_get_str(doc, "phone", c->phone, sizeof(c->phone));
    c->opted_out = inbox_mongo_get_bool(doc, "opted_out");
    c->opted_out_at = inbox_mongo_get_date(doc, "opted_out_at");
    inbox_mongo_get_str(doc, "opt_out_source", c->opt_out_source,
                        sizeof(c->opt_out_source));
    inbox_mongo_get_str(doc, "opt_out_keyword", c->opt_out_keyword,
                        sizeof(c->opt_out_keyword));
    inbox_mongo_get_str(doc, "timezone", c->timezone, sizeof(c->timezone));
    c->opted_in_at = inbox_mongo_get_date(doc, "opted_in_at");
    c->opt_latest_at = inbox_mongo_get_date(doc, "opt_latest_at");
    c->created_at = inbox_mongo_get_date(doc, "created_at");
    inbox_mongo_get_id(doc, "conversation_id", c->conversation_id);

    if (bson_iter_init_find(&iter, doc, "tags")
        && BSON_ITER_HOLDS_ARRAY(&iter)
        && bson_iter_recurse(&iter, &child))
    {
        while (bson_iter_next(&child)) {
            if (BSON_ITER_HOLDS_UTF8(&child)) {
                inbox_tags_add_stored(&c->tags,
                                      bson_iter_utf8(&child, NULL), NULL);
            }
        }
    }
}


/* tags and tag_keys, as $set (or $addToSet $each) wants them. */
static void
inbox_mongo_append_tags(bson_t *doc, const inbox_tags_t *tags, int each)
{
    char         key[INBOX_TAG_KEY_MAX], index[16];
    bson_t       arr, keys, wrap;
    size_t       i;
    const char  *k;

    if (each) {
        BSON_APPEND_DOCUMENT_BEGIN(doc, "tags", &wrap);
        BSON_APPEND_ARRAY_BEGIN(&wrap, "$each", &arr);
    } else {
        BSON_APPEND_ARRAY_BEGIN(doc, "tags", &arr);
    }

    for (i = 0; i < tags->count; i++) {
        bson_uint32_to_string((uint32_t) i, &k, index, sizeof(index));
        BSON_APPEND_UTF8(&arr, k, tags->items[i]);
    }

    if (each) {
        bson_append_array_end(&wrap, &arr);
        bson_append_document_end(doc, &wrap);
        BSON_APPEND_DOCUMENT_BEGIN(doc, "tag_keys", &wrap);
        BSON_APPEND_ARRAY_BEGIN(&wrap, "$each", &keys);
    } else {
        bson_append_array_end(doc, &arr);
        BSON_APPEND_ARRAY_BEGIN(doc, "tag_keys", &keys);
    }

    for (i = 0; i < tags->count; i++) {
        bson_uint32_to_string((uint32_t) i, &k, index, sizeof(index));
        inbox_tag_key(tags->items[i], key);
        BSON_APPEND_UTF8(&keys, k, key);
    }

    if (each) {
        bson_append_array_end(&wrap, &keys);
        bson_append_document_end(doc, &wrap);
    } else {
        bson_append_array_end(doc, &keys);
    }
}


/* The copy of the contact a conversation keeps, made with it when it is
 * missing (ingest may have made it first), and the name following. */
static void
inbox_mongo_append_conversation_upsert(bson_t *updates, const char *index,
    const bson_oid_t *org, const bson_oid_t *conversation,
    const bson_oid_t *contact, const char *phone, int set_name,
    const char *name, int64_t now)
{
    bson_t  entry, q, u, set, insert;

    BSON_APPEND_DOCUMENT_BEGIN(updates, index, &entry);
    BSON_APPEND_DOCUMENT_BEGIN(&entry, "q", &q);
    BSON_APPEND_OID(&q, "_id", conversation);
    BSON_APPEND_OID(&q, "org_id", org);
    bson_append_document_end(&entry, &q);

    BSON_APPEND_DOCUMENT_BEGIN(&entry, "u", &u);

    if (set_name) {
        BSON_APPEND_DOCUMENT_BEGIN(&u, "$set", &set);
        if (name != NULL) {
            BSON_APPEND_UTF8(&set, "contact.name", name);
        } else {
            BSON_APPEND_NULL(&set, "contact.name");
        }
        inbox_mongo_append_search_name(&set, "contact.search_name", name);
        bson_append_document_end(&u, &set);
    }

    BSON_APPEND_DOCUMENT_BEGIN(&u, "$setOnInsert", &insert);
    BSON_APPEND_OID(&insert, "contact.id", contact);
    if (!set_name) {
        BSON_APPEND_NULL(&insert, "contact.name");
        BSON_APPEND_NULL(&insert, "contact.search_name");
    }
    BSON_APPEND_UTF8(&insert, "contact.phone", phone);
    BSON_APPEND_BOOL(&insert, "contact.opted_out", false);
    BSON_APPEND_NULL(&insert, "last_message");
    BSON_APPEND_DATE_TIME(&insert, "last_activity_at", INBOX_ACTIVITY_NONE);
    BSON_APPEND_NULL(&insert, "unresponded_at");
    BSON_APPEND_NULL(&insert, "responded_at");
    BSON_APPEND_INT64(&insert, "unread_count", 0);
    BSON_APPEND_BOOL(&insert, "archived", false);
    BSON_APPEND_BOOL(&insert, "starred", false);
    bson_append_document_end(&u, &insert);

    bson_append_document_end(&entry, &u);
    BSON_APPEND_BOOL(&entry, "upsert", true);
    bson_append_document_end(updates, &entry);
}


void
inbox_mongo_append_contact_copy(bson_t *updates, const char *index,
    const bson_oid_t *org, const bson_oid_t *conversation, const char *name,
    int opted_out, int64_t version)
{
    bson_t  entry, q, older, not, u, set;

    BSON_APPEND_DOCUMENT_BEGIN(updates, index, &entry);
    BSON_APPEND_DOCUMENT_BEGIN(&entry, "q", &q);
    BSON_APPEND_OID(&q, "_id", conversation);
    BSON_APPEND_OID(&q, "org_id", org);
    /* older, or absent (a copy from before versions) */
    BSON_APPEND_DOCUMENT_BEGIN(&q, "contact.version", &older);
    BSON_APPEND_DOCUMENT_BEGIN(&older, "$not", &not);
    BSON_APPEND_INT64(&not, "$gte", version);
    bson_append_document_end(&older, &not);
    bson_append_document_end(&q, &older);
    bson_append_document_end(&entry, &q);

    BSON_APPEND_DOCUMENT_BEGIN(&entry, "u", &u);
    BSON_APPEND_DOCUMENT_BEGIN(&u, "$set", &set);
    if (name != NULL) {
        BSON_APPEND_UTF8(&set, "contact.name", name);
    } else {
        BSON_APPEND_NULL(&set, "contact.name");
    }
    inbox_mongo_append_search_name(&set, "contact.search_name", name);
    BSON_APPEND_BOOL(&set, "contact.opted_out", opted_out != 0);
    BSON_APPEND_INT64(&set, "contact.version", version);
    bson_append_document_end(&u, &set);
    bson_append_document_end(&entry, &u);

    bson_append_document_end(updates, &entry);
}


inbox_status_t
inbox_mongo_contact_copy_write(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const inbox_contact_record_t *contact,
    int64_t version, inbox_error_t *err)
{
    bson_t      updates;
    bson_t     *command;
    bson_oid_t  conversation;

    if (inbox_mongo_parse_id(contact->conversation_id, &conversation) != 0) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL,
                               "A stored contact has no conversation.");
    }

    bson_init(&updates);
    inbox_mongo_append_contact_copy(&updates, "0", org, &conversation,
                                    contact->name, contact->opted_out,
                                    version);

    command = BCON_NEW("update", BCON_UTF8("conversations"),
                       "updates", BCON_ARRAY(&updates),
                       "ordered", BCON_BOOL(true));
    bson_destroy(&updates);

    return inbox_mongo_run_simple(ms, command, err);
}


inbox_status_t
inbox_mongo_contact_get(inbox_store_t *store, const char *org_id,
    const char *contact_id, inbox_contact_record_t *contact,
    inbox_error_t *err)
{
    int                   found;
    bson_t                doc;
    bson_oid_t            org, oid;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    memset(contact, 0, sizeof(inbox_contact_record_t));

    if (inbox_mongo_parse_id(org_id, &org) != 0
        || inbox_mongo_parse_id(contact_id, &oid) != 0)
    {
        return inbox_error_not_found(err, "contact");
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_find_one(ms, "contacts",
                              BCON_NEW("_id", BCON_OID(&oid),
                                       "org_id", BCON_OID(&org)),
                              NULL, &doc, &found, err);

    if (rc == INBOX_OK) {
        if (found) {
            inbox_mongo_parse_contact(&doc, contact);
        } else {
            rc = inbox_error_not_found(err, "contact");
        }
    }

    bson_destroy(&doc);

    return rc;
}


static inbox_status_t inbox_mongo_contact_announce(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const bson_oid_t *contact,
    const bson_oid_t *conversation, inbox_event_list_t *events,
    inbox_error_t *err);


/* The thread of org's contact phone, made where it is missing (an upsert
 * setting nothing on one there: its copy stays as its writes left it);
 * then, for a contact still unannounced (made by a text or an import
 * that failed before pushing it), its push
 * (inbox_mongo_contact_announce). */
static inbox_status_t
inbox_mongo_contact_thread_repair(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const char *phone, int64_t now,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int             found, unannounced;
    bson_t          doc, updates;
    bson_t         *command;
    bson_oid_t      contact, conversation;
    bson_iter_t     iter;
    inbox_status_t  rc;

    rc = inbox_mongo_find_one(ms, "contacts",
                              BCON_NEW("org_id", BCON_OID(org),
                                       "phone", BCON_UTF8(phone)),
                              BCON_NEW("_id", BCON_INT32(1),
                                       "conversation_id", BCON_INT32(1),
                                       "unannounced", BCON_INT32(1)),
                              &doc, &found, err);

    found = rc == INBOX_OK && found
            && bson_iter_init_find(&iter, &doc, "_id")
            && BSON_ITER_HOLDS_OID(&iter);
    if (found) {
        bson_oid_copy(bson_iter_oid(&iter), &contact);
        found = bson_iter_init_find(&iter, &doc, "conversation_id")
                && BSON_ITER_HOLDS_OID(&iter);
    }
    if (found) {
        bson_oid_copy(bson_iter_oid(&iter), &conversation);
    }

    unannounced = found && inbox_mongo_get_bool(&doc, "unannounced");

    bson_destroy(&doc);

    if (rc != INBOX_OK || !found) {
        return rc;
    }

    bson_init(&updates);
    inbox_mongo_append_conversation_upsert(&updates, "0", org, &conversation,
                                           &contact, phone, 0, NULL, now);

    command = BCON_NEW("update", BCON_UTF8("conversations"),
                       "updates", BCON_ARRAY(&updates),
                       "ordered", BCON_BOOL(true));
    bson_destroy(&updates);

    rc = inbox_mongo_run_simple(ms, command, err);

    if (rc == INBOX_OK && unannounced) {
        rc = inbox_mongo_contact_announce(ms, org, &contact, &conversation,
                                          events, err);
    }

    return rc;
}


/*
 * A contact found unannounced: nobody was told of it, so no Contacts
 * list shows it until its number's next text or an import.  It is
 * pushed now as made (contact.updated, the contact and its thread as
 * they are, as the ingest's retry pushes one, its thread's copy of it
 * written first, as an import finishing it writes it), then announced
 * ($unset, as inbox_mongo_ingest_announced), so that nothing pushes it
 * again.  A failure on the way is answered as such and leaves the flag:
 * the add sent again pushes it (twice at worst: the same contact whole,
 * changing nothing a list shows).
 */
static inbox_status_t
inbox_mongo_contact_announce(inbox_mongo_store_t *ms, const bson_oid_t *org,
    const bson_oid_t *contact, const bson_oid_t *conversation,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int                     found;
    bson_t                  doc;
    int64_t                 version;
    inbox_status_t          rc;
    inbox_change_t          change;
    inbox_conversation_t    thread;
    inbox_contact_record_t  record;

    version = 0;
    memset(&record, 0, sizeof(inbox_contact_record_t));
    memset(&thread, 0, sizeof(inbox_conversation_t));

    rc = inbox_mongo_find_one(ms, "contacts",
                              BCON_NEW("_id", BCON_OID(contact),
                                       "org_id", BCON_OID(org)),
                              NULL, &doc, &found, err);
    if (rc == INBOX_OK && found) {
        inbox_mongo_parse_contact(&doc, &record);
        version = inbox_mongo_get_int(&doc, "version");
    }
    bson_destroy(&doc);

    /* deleted in between: nothing to show */
    if (rc != INBOX_OK || !found) {
        inbox_contact_record_free(&record);
        return rc;
    }

    /* the repair may have just made the thread, its copy saying not
     * opted out, of a contact its STOP made */
    rc = inbox_mongo_contact_copy_write(ms, org, &record, version, err);
    if (rc != INBOX_OK) {
        inbox_contact_record_free(&record);
        return rc;
    }

    rc = inbox_mongo_find_one(ms, "conversations",
                              BCON_NEW("_id", BCON_OID(conversation),
                                       "org_id", BCON_OID(org)),
                              NULL, &doc, &found, err);
    if (rc == INBOX_OK && found) {
        inbox_mongo_parse_conversation(&doc, &thread);
    }
    bson_destroy(&doc);

    if (rc == INBOX_OK && found) {
        inbox_change_contact(&change, &record, &thread,
                             INBOX_CONTACT_CHANGED_CREATED);
        rc = inbox_mongo_events_append(ms, org, &change, events, err);
    }

    inbox_conversation_free(&thread);
    inbox_contact_record_free(&record);

    if (rc != INBOX_OK || !found) {
        return rc;
    }

    return inbox_mongo_run_simple(ms,
        BCON_NEW("update", BCON_UTF8("contacts"),
                 "updates", "[", "{",
                     "q", "{",
                         "_id", BCON_OID(contact),
                         "org_id", BCON_OID(org),
                     "}",
                     "u", "{", "$unset", "{", "unannounced", BCON_UTF8(""),
                     "}", "}",
                 "}", "]",
                 "ordered", BCON_BOOL(true)),
        err);
}


/* The contact first (its unique (org_id, phone) index refuses a number
 * that is a contact already), then its conversation, then its event
 * (inbox_change_contact: made), which names the thread just made as it
 * is (no message, the contact's copy).  Without a transaction a failure
 * between the first two leaves the contact without its thread: the
 * retry, told it is a contact already, gives it one
 * (inbox_mongo_contact_thread_repair); a failure of the event leaves
 * the contact made and answered so, unpushed (a list read again shows
 * it).  A contact that a text or an import made and failed to push
 * (unannounced) is pushed by the add that meets it, answered 409 all
 * the same: it was a contact already. */
inbox_status_t
inbox_mongo_contact_create(inbox_store_t *store, const char *org_id,
    const char *phone, const inbox_contact_edit_t *edit,
    inbox_contact_record_t *contact, inbox_event_list_t *events,
    inbox_error_t *err)
{
    bson_t                doc, updates;
    bson_t               *command;
    int64_t               now;
    bson_oid_t            org, oid, conversation;
    inbox_status_t        rc;
    inbox_tags_t          none;
    inbox_error_t         unpushed;
    inbox_change_t        change;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;
    inbox_conversation_t  thread;

    memset(contact, 0, sizeof(inbox_contact_record_t));
    memset(&none, 0, sizeof(none));

    if (inbox_mongo_parse_id(org_id, &org) != 0) {
        return inbox_error_org_unknown(err, org_id);
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    inbox_mongo_new_id(ms, &oid);
    inbox_mongo_new_id(ms, &conversation);
    now = inbox_mongo_now(ms);

    bson_init(&doc);
    BSON_APPEND_OID(&doc, "_id", &oid);
    BSON_APPEND_OID(&doc, "org_id", &org);
    BSON_APPEND_UTF8(&doc, "phone", phone);
    if (edit->set_name && edit->name != NULL) {
        BSON_APPEND_UTF8(&doc, "name", edit->name);
    } else {
        BSON_APPEND_NULL(&doc, "name");
    }
    inbox_mongo_append_search_name(&doc, "search_name",
                                   edit->set_name ? edit->name : NULL);
    inbox_mongo_append_tags(&doc, edit->set_tags ? &edit->tags : &none, 0);
    if (edit->set_timezone && edit->timezone[0] != '\0') {
        BSON_APPEND_UTF8(&doc, "timezone", edit->timezone);
    } else {
        BSON_APPEND_NULL(&doc, "timezone");
    }
    BSON_APPEND_BOOL(&doc, "opted_out", false);
    BSON_APPEND_DATE_TIME(&doc, "created_at", now);
    BSON_APPEND_OID(&doc, "conversation_id", &conversation);

    command = BCON_NEW("insert", BCON_UTF8("contacts"),
                       "documents", "[", BCON_DOCUMENT(&doc), "]");

    rc = inbox_mongo_run_simple(ms, command, err);

    if (rc == INBOX_ERR_CONFLICT) {
        rc = inbox_mongo_contact_thread_repair(ms, &org, phone, now, events,
                                               err);
        if (rc == INBOX_OK) {
            rc = inbox_error_set_field(err, INBOX_ERR_CONFLICT, "phone",
                                       "%s is a contact already.", phone);
        }
    }

    if (rc == INBOX_OK) {
        bson_init(&updates);
        inbox_mongo_append_conversation_upsert(&updates, "0", &org,
            &conversation, &oid, phone, 1,
            edit->set_name ? edit->name : NULL, now);

        command = BCON_NEW("update", BCON_UTF8("conversations"),
                           "updates", BCON_ARRAY(&updates),
                           "ordered", BCON_BOOL(true));
        bson_destroy(&updates);

        rc = inbox_mongo_run_simple(ms, command, err);
    }

    if (rc == INBOX_OK) {
        inbox_mongo_parse_contact(&doc, contact);

        memset(&thread, 0, sizeof(inbox_conversation_t));
        bson_oid_to_string(&conversation, thread.id);
        memcpy(thread.contact.id, contact->id, sizeof(thread.contact.id));
        thread.contact.name = contact->name;
        memcpy(thread.contact.phone, contact->phone,
               sizeof(thread.contact.phone));

        /* made, it is answered made: a failure to push it would have
         * the retry refused as a contact already */
        inbox_change_contact(&change, contact, &thread,
                             INBOX_CONTACT_CHANGED_CREATED);
        (void) inbox_mongo_events_append(ms, &org, &change, events,
                                         &unpushed);
    }

    bson_destroy(&doc);

    return rc;
}


/*
 * The contact as it was (findAndModify returns it), what the edit changes
 * in it (inbox_contact_edit_changes) applied to it in memory; a new name
 * goes to its conversation's copy too; then the event that change makes
 * (inbox_change_contact).
 */
inbox_status_t
inbox_mongo_contact_update(inbox_store_t *store, const char *org_id,
    const char *contact_id, const inbox_contact_edit_t *edit,
    inbox_contact_record_t *contact, inbox_event_list_t *events,
    inbox_error_t *err)
{
    int                   found;
    bson_t                before, update, set, updates, doc;
    bson_t               *command;
    size_t                i;
    int64_t               version;
    unsigned              changed;
    bson_oid_t            org, oid, conversation_oid;
    inbox_status_t        rc;
    inbox_change_t        change;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;
    inbox_conversation_t  conversation;

    memset(contact, 0, sizeof(inbox_contact_record_t));

    if (!edit->set_name && !edit->set_tags && !edit->set_timezone) {
        return inbox_mongo_contact_get(store, org_id, contact_id, contact,
                                       err);
    }

    if (inbox_mongo_parse_id(org_id, &org) != 0
        || inbox_mongo_parse_id(contact_id, &oid) != 0)
    {
        return inbox_error_not_found(err, "contact");
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    bson_init(&update);
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    if (edit->set_name) {
        if (edit->name != NULL) {
            BSON_APPEND_UTF8(&set, "name", edit->name);
        } else {
            BSON_APPEND_NULL(&set, "name");
        }
        inbox_mongo_append_search_name(&set, "search_name", edit->name);
    }
    if (edit->set_tags) {
        inbox_mongo_append_tags(&set, &edit->tags, 0);
    }
    if (edit->set_timezone) {
        if (edit->timezone[0] != '\0') {
            BSON_APPEND_UTF8(&set, "timezone", edit->timezone);
        } else {
            BSON_APPEND_NULL(&set, "timezone");
        }
    }
    bson_append_document_end(&update, &set);
    if (edit->set_name) {
        /* the version its conversation's copy is written at */
        BCON_APPEND(&update, "$inc", "{", "version", BCON_INT64(1), "}");
    }

    command = BCON_NEW("findAndModify", BCON_UTF8("contacts"),
                       "query", "{",
                           "_id", BCON_OID(&oid),
                           "org_id", BCON_OID(&org),
                       "}",
                       "update", BCON_DOCUMENT(&update),
                       "new", BCON_BOOL(false));
    bson_destroy(&update);

    rc = inbox_mongo_run_find_and_modify(ms, command, &before, &found, err);

    if (rc == INBOX_OK && !found) {
        rc = inbox_error_not_found(err, "contact");
    }

    if (rc != INBOX_OK) {
        bson_destroy(&before);
        return rc;
    }

    inbox_mongo_parse_contact(&before, contact);
    version = inbox_mongo_get_int(&before, "version") + 1;
    bson_destroy(&before);

    changed = inbox_contact_edit_changes(contact, edit);

    if (edit->set_name) {
        free(contact->name);
        contact->name = edit->name ? strdup(edit->name) : NULL;
    }

    if (edit->set_tags) {
        inbox_tags_free(&contact->tags);
        for (i = 0; i < edit->tags.count; i++) {
            inbox_tags_add(&contact->tags, edit->tags.items[i],
                           strlen(edit->tags.items[i]), NULL);
        }
    }

    if (changed & INBOX_CONTACT_CHANGED_TIMEZONE) {
        /* its clock changed: what waits for its quiet hours looks again */
        memcpy(contact->timezone, edit->timezone, sizeof(contact->timezone));
        rc = inbox_mongo_outbox_unpark_quiet(ms, &org, &oid, 1,
                                             inbox_mongo_now(ms), err);
        if (rc != INBOX_OK) {
            return rc;
        }
    }

    if (inbox_mongo_parse_id(contact->conversation_id, &conversation_oid)
        != 0)
    {
        return inbox_error_set(err, INBOX_ERR_INTERNAL,
                               "A stored contact has no conversation.");
    }

    /* the name its conversation's copy shows, also when it is the one
     * stored already: a failure after the contact's write left the copy
     * as it was, and the retry, which changes nothing, repairs it (a
     * copy at this version already is left alone) */
    if (edit->set_name) {
        bson_init(&updates);
        /* made when missing (ingest may make it first) */
        inbox_mongo_append_conversation_upsert(&updates, "0", &org,
            &conversation_oid, &oid, contact->phone, 0, NULL,
            inbox_mongo_now(ms));
        inbox_mongo_append_contact_copy(&updates, "1", &org,
                                        &conversation_oid, contact->name,
                                        contact->opted_out, version);

        command = BCON_NEW("update", BCON_UTF8("conversations"),
                           "updates", BCON_ARRAY(&updates),
                           "ordered", BCON_BOOL(true));
        bson_destroy(&updates);

        rc = inbox_mongo_run_simple(ms, command, err);
        if (rc != INBOX_OK) {
            return rc;
        }
    }

    if (changed == 0) {
        return INBOX_OK;
    }

    rc = inbox_mongo_find_one(ms, "conversations",
                              BCON_NEW("_id", BCON_OID(&conversation_oid),
                                       "org_id", BCON_OID(&org)),
                              NULL, &doc, &found, err);

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

    inbox_change_contact(&change, contact, &conversation, changed);

    rc = inbox_mongo_events_append(ms, &org, &change, events, err);

    inbox_conversation_free(&conversation);

    return rc;
}


inbox_status_t
inbox_mongo_contacts_list(inbox_store_t *store, const char *org_id,
    const inbox_contact_query_t *query, inbox_contact_page_t *page,
    inbox_error_t *err)
{
    int                       tagged, search;
    char                      key[INBOX_TAG_KEY_MAX];
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
    int                       keyset;

    memset(page, 0, sizeof(inbox_contact_page_t));

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

    limit = query->limit;
    tagged = query->tag != NULL && query->tag[0] != '\0';

    /* store.c refused a q too long */
    (void) inbox_search_parse(query->q, query->country, &parsed);

    bson_init(&filter);
    BSON_APPEND_OID(&filter, "org_id", &org);

    if (tagged) {
        inbox_tag_key(query->tag, key);
        BSON_APPEND_UTF8(&filter, "tag_keys", key);
    }

    bson_init(&search_or);
    search = parsed.name[0] != '\0'
             && inbox_mongo_append_search(&filter, &search_or, &parsed,
                                          "search_name", "phone");

    /*
     * Newest first on an index that holds the name's search_name and the
     * number too: the tag's entries (or the organization's) in order, the
     * search checked on index keys, until one more than the page.  The
     * hint names it, so no other index (and no sort in memory) is tried.
     */
    page_query = (inbox_mongo_page_query_t) {
        .collection = "contacts", .time_field = "created_at",
        .search = search ? &search_or : NULL,
        .after = keyset ? &cursor_oid : NULL,
        .after_ms = keyset ? cursor_ms : 0,
        .hint = tagged ? "org_tag_created_search" : "org_created_search",
        .limit = limit
    };

    rc = inbox_mongo_find_page(ms, &page_query, &filter, &batch, err);
    bson_destroy(&search_or);
    if (rc != INBOX_OK) {
        bson_destroy(&batch);
        return rc;
    }

    page->items = calloc(limit, sizeof(inbox_contact_record_t));
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

        inbox_mongo_parse_contact(&doc, &page->items[page->count++]);
    }

    bson_destroy(&batch);

    return INBOX_OK;
}


/* What the batch knows of one number: the contact it is (found, or made
 * by an earlier row), its tags' keys, its name and its time zone so far,
 * and what the batch changed in one found. */
typedef struct {
    const char    *phone;
    int            exists;
    int            made;            /* its ids made here, for its first
                                       row's upsert to insert */
    int            inserted;        /* and that upsert inserted it */
    int            unannounced;     /* found so: made by an import or a
                                       text that failed before pushing
                                       it, finished here as made */
    size_t         first;           /* its first row */
    bson_oid_t     contact;
    bson_oid_t     conversation;
    inbox_tags_t   keys;
    char          *name;            /* NULL: none */
    char           timezone[INBOX_TIMEZONE_MAX];
    unsigned       changed;         /* INBOX_CONTACT_CHANGED_* */
    int            named;           /* a row of it names it */
    int            capped;          /* a row gave it a tag it lacks
                                       past INBOX_TAGS_MAX */
} inbox_mongo_import_seen_t;

static inbox_status_t inbox_mongo_import_events(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const inbox_mongo_import_seen_t *seen,
    size_t nseen, inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t inbox_mongo_import_copies(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const inbox_mongo_import_seen_t *seen,
    size_t nseen, inbox_error_t *err);
static inbox_status_t inbox_mongo_import_announced(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const inbox_mongo_import_seen_t *seen,
    size_t nseen, inbox_error_t *err);


/* A contact the batch gives its thread, pushes as made and counts
 * created: one its upsert inserted, or one found unannounced, which an
 * attempt made and failed to finish (nobody was told of it). */
static int
inbox_mongo_import_new(const inbox_mongo_import_seen_t *s)
{
    return (s->made && s->inserted) || s->unannounced;
}


static inbox_mongo_import_seen_t *
inbox_mongo_import_find(inbox_mongo_import_seen_t *seen, size_t n,
    const char *phone)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (strcmp(seen[i].phone, phone) == 0) {
            return &seen[i];
        }
    }

    return NULL;
}


/* An entry of the update's "upserted" ({index, _id}): that row inserted
 * the contact made for it. */
static void
inbox_mongo_import_inserted(inbox_mongo_import_seen_t *seen, size_t nseen,
    const bson_iter_t *entry)
{
    size_t       i;
    int64_t      index;
    bson_iter_t  it;

    if (!BSON_ITER_HOLDS_DOCUMENT(entry)
        || !bson_iter_recurse(entry, &it)
        || !bson_iter_find(&it, "index"))
    {
        return;
    }

    index = bson_iter_as_int64(&it);

    for (i = 0; i < nseen; i++) {
        if (seen[i].made && (int64_t) seen[i].first == index) {
            seen[i].inserted = 1;
        }
    }
}


/* What inbox_mongo_import_lookup adds the contacts it finds to. */
typedef struct {
    inbox_mongo_import_seen_t  *seen;
    size_t                     *nseen;
    const inbox_contact_row_t  *rows;
    size_t                      n;
} inbox_mongo_import_found_t;

static inbox_status_t inbox_mongo_import_found(void *arg, const bson_t *doc,
    inbox_error_t *err);

/*
 * Reads the contacts of the count numbers in phones: each one not in seen
 * yet is added as existing (its ids and tags, its phone and first row
 * rows'), and one there already gets the ids found; either, whether it
 * is unannounced.
 */
static inbox_status_t
inbox_mongo_import_lookup(inbox_mongo_store_t *ms, const bson_oid_t *org,
    bson_t *phones, size_t count, const inbox_contact_row_t *rows, size_t n,
    inbox_mongo_import_seen_t *seen, size_t *nseen, inbox_error_t *err)
{
    bson_t                      batch;
    bson_t                     *command;
    inbox_status_t              rc;
    inbox_mongo_import_found_t  found;

    command = BCON_NEW("find", BCON_UTF8("contacts"),
                       "filter", "{",
                           "org_id", BCON_OID(org),
                           "phone", "{", "$in", BCON_ARRAY(phones), "}",
                       "}",
                       "projection", "{",
                           "phone", BCON_INT32(1),
                           "name", BCON_INT32(1),
                           "tags", BCON_INT32(1),
                           "timezone", BCON_INT32(1),
                           "conversation_id", BCON_INT32(1),
                           "unannounced", BCON_INT32(1),
                       "}",
                       "batchSize", BCON_INT32((int32_t) count),
                       "singleBatch", BCON_BOOL(true));

    rc = inbox_mongo_run_cursor(ms, command, &batch, err);

    if (rc == INBOX_OK) {
        found.seen = seen;
        found.nseen = nseen;
        found.rows = rows;
        found.n = n;
        rc = inbox_mongo_batch_each(&batch, inbox_mongo_import_found, &found,
                                    err);
    }

    bson_destroy(&batch);

    return rc;
}


static inbox_status_t
inbox_mongo_import_found(void *arg, const bson_t *doc, inbox_error_t *err)
{
    size_t                       i;
    inbox_contact_record_t       c;
    inbox_mongo_import_seen_t   *s;
    inbox_mongo_import_found_t  *found = arg;

    inbox_mongo_parse_contact(doc, &c);

    s = inbox_mongo_import_find(found->seen, *found->nseen, c.phone);

    for (i = 0; s == NULL && i < found->n; i++) {
        if (strcmp(found->rows[i].phone, c.phone) == 0) {
            s = &found->seen[(*found->nseen)++];
            s->phone = found->rows[i].phone;
            s->first = i;
            s->keys = c.tags;
            memset(&c.tags, 0, sizeof(inbox_tags_t));
            s->name = c.name;
            c.name = NULL;
            memcpy(s->timezone, c.timezone, sizeof(s->timezone));
        }
    }

    if (s != NULL) {
        s->exists = 1;
        s->unannounced = inbox_mongo_get_bool(doc, "unannounced");
        inbox_mongo_parse_id(c.id, &s->contact);
        inbox_mongo_parse_id(c.conversation_id, &s->conversation);
    }

    inbox_contact_record_free(&c);

    return INBOX_OK;
}


/*
 * The numbers whose ids were made here but whose upsert inserted nothing:
 * an inbound message, another import or a person made the contact in
 * between.  Their ids are read back, and they count as contacts that
 * existed (made 0), so that no thread is made for them, unless they are
 * unannounced (the maker failed, or has not pushed them yet: both may).
 */
static inbox_status_t
inbox_mongo_import_refind(inbox_mongo_store_t *ms, const bson_oid_t *org,
    inbox_mongo_import_seen_t *seen, size_t nseen, inbox_error_t *err)
{
    char            index[16];
    bson_t          phones;
    size_t          i, nraced;
    const char     *k;
    inbox_status_t  rc;

    bson_init(&phones);
    nraced = 0;

    for (i = 0; i < nseen; i++) {
        if (seen[i].made && !seen[i].inserted) {
            bson_uint32_to_string((uint32_t) nraced++, &k, index,
                                  sizeof(index));
            BSON_APPEND_UTF8(&phones, k, seen[i].phone);
            seen[i].made = 0;
        }
    }

    if (nraced == 0) {
        bson_destroy(&phones);
        return INBOX_OK;
    }

    rc = inbox_mongo_import_lookup(ms, org, &phones, nraced, NULL, 0, seen,
                                   &nseen, err);
    bson_destroy(&phones);

    return rc;
}


/*
 * One batch: the numbers that are contacts already (one find), then one
 * ordered update of contacts with an upsert per row (the tags a contact
 * has in another case, or past INBOX_TAGS_MAX, left out in memory: the
 * latter counted capped), then the conversations of those made and the
 * names of those renamed, then the events of those it made or changed,
 * then those made marked announced.
 *
 * Without a transaction, a failure after the upsert leaves contacts made
 * with no thread or unpushed.  A contact an import makes is unannounced
 * (its $setOnInsert, as the ingest's) until its event is written; the
 * retry finds it so and finishes it as one it made (its thread, whose
 * upsert changes one there in nothing; contact.updated; counted created,
 * as the import the failed one meant), and so does the next import of
 * the number after a failed one, or its next text (the ingest pushes a
 * contact it finds unannounced).  A failure after some events pushes
 * those contacts twice (the same contact whole, changing nothing a list
 * shows), and so may an import and a first text at the same moment.
 */
inbox_status_t
inbox_mongo_contacts_import(inbox_store_t *store, const char *org_id,
    const inbox_contact_row_t *rows, size_t n, inbox_import_count_t *count,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int                         renamed;
    char                        index[16];
    unsigned                    did;
    bson_t                      phones, updates, conv_updates;
    bson_t                      entry, q, u, set, add, insert, reply;
    bson_t                     *command;
    size_t                      i, j, nseen, nconv, nzoned;
    int64_t                     now;
    bson_oid_t                  org, *zoned;
    bson_iter_t                 iter, child;
    const char                 *k;
    inbox_tags_t                add_tags;
    inbox_status_t              rc;
    inbox_mongo_store_t        *ms = (inbox_mongo_store_t *) store;
    inbox_mongo_import_seen_t  *seen, *s;

    memset(count, 0, sizeof(inbox_import_count_t));

    if (n == 0) {
        return INBOX_OK;
    }

    if (inbox_mongo_parse_id(org_id, &org) != 0) {
        return inbox_error_org_unknown(err, org_id);
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    seen = calloc(n, sizeof(inbox_mongo_import_seen_t));
    zoned = calloc(n, sizeof(bson_oid_t));
    if (seen == NULL || zoned == NULL) {
        free(seen);
        free(zoned);
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    nseen = 0;
    now = inbox_mongo_now(ms);

    /* the numbers that are contacts already */
    bson_init(&phones);
    for (i = 0; i < n; i++) {
        bson_uint32_to_string((uint32_t) i, &k, index, sizeof(index));
        BSON_APPEND_UTF8(&phones, k, rows[i].phone);
    }

    rc = inbox_mongo_import_lookup(ms, &org, &phones, n, rows, n, seen,
                                   &nseen, err);
    bson_destroy(&phones);

    if (rc != INBOX_OK) {
        goto done;
    }

    /* one upsert per row, in order */
    bson_init(&updates);
    bson_init(&conv_updates);
    nconv = 0;

    for (i = 0; i < n; i++) {
        s = inbox_mongo_import_find(seen, nseen, rows[i].phone);

        if (s == NULL) {
            s = &seen[nseen++];
            s->phone = rows[i].phone;
            s->made = 1;
            s->first = i;
            inbox_mongo_new_id(ms, &s->contact);
            inbox_mongo_new_id(ms, &s->conversation);
        }

        /* a name given that is not the one a contact found has */
        renamed = !s->made && rows[i].name != NULL
                  && (s->name == NULL || strcmp(s->name, rows[i].name) != 0);

        if (renamed) {
            free(s->name);
            s->name = strdup(rows[i].name);
        }

        did = renamed ? INBOX_CONTACT_CHANGED_NAME : 0;

        /* a time zone given that is not the one it has */
        if (!s->made && rows[i].timezone[0] != '\0'
            && strcmp(s->timezone, rows[i].timezone) != 0)
        {
            did |= INBOX_CONTACT_CHANGED_TIMEZONE;
            memcpy(s->timezone, rows[i].timezone, sizeof(s->timezone));
        }

        /* the row's tags the contact lacks, while it has room */
        memset(&add_tags, 0, sizeof(inbox_tags_t));
        for (j = 0; j < rows[i].tags.count; j++) {
            if (inbox_tags_has(&s->keys, rows[i].tags.items[j])) {
                continue;
            }

            if (s->keys.count >= INBOX_TAGS_MAX) {
                s->capped = 1;
                continue;
            }

            inbox_tags_add(&s->keys, rows[i].tags.items[j],
                           strlen(rows[i].tags.items[j]), NULL);
            inbox_tags_add(&add_tags, rows[i].tags.items[j],
                           strlen(rows[i].tags.items[j]), NULL);
        }

        bson_uint32_to_string((uint32_t) i, &k, index, sizeof(index));
        BSON_APPEND_DOCUMENT_BEGIN(&updates, k, &entry);
        BSON_APPEND_DOCUMENT_BEGIN(&entry, "q", &q);
        BSON_APPEND_OID(&q, "org_id", &org);
        BSON_APPEND_UTF8(&q, "phone", rows[i].phone);
        bson_append_document_end(&entry, &q);

        BSON_APPEND_DOCUMENT_BEGIN(&entry, "u", &u);

        if (rows[i].name != NULL || rows[i].timezone[0] != '\0') {
            BSON_APPEND_DOCUMENT_BEGIN(&u, "$set", &set);
            if (rows[i].name != NULL) {
                BSON_APPEND_UTF8(&set, "name", rows[i].name);
                inbox_mongo_append_search_name(&set, "search_name",
                                               rows[i].name);
            }
            if (rows[i].timezone[0] != '\0') {
                BSON_APPEND_UTF8(&set, "timezone", rows[i].timezone);
            }
            bson_append_document_end(&u, &set);
        }

        if (rows[i].name != NULL) {
            /* one more version, as a rename's: its conversation's copy
             * is written at the one it has after the batch */
            BCON_APPEND(&u, "$inc", "{", "version", BCON_INT64(1), "}");
            s->named = 1;
        }

        if (add_tags.count > 0) {
            BSON_APPEND_DOCUMENT_BEGIN(&u, "$addToSet", &add);
            inbox_mongo_append_tags(&add, &add_tags, 1);
            bson_append_document_end(&u, &add);
        }

        BSON_APPEND_DOCUMENT_BEGIN(&u, "$setOnInsert", &insert);
        BSON_APPEND_OID(&insert, "_id", &s->contact);
        BSON_APPEND_OID(&insert, "conversation_id", &s->conversation);
        if (rows[i].name == NULL) {
            BSON_APPEND_NULL(&insert, "name");
            BSON_APPEND_NULL(&insert, "search_name");
        }
        BSON_APPEND_BOOL(&insert, "opted_out", false);
        BSON_APPEND_DATE_TIME(&insert, "created_at", now);
        BSON_APPEND_BOOL(&insert, "unannounced", true);
        bson_append_document_end(&u, &insert);

        bson_append_document_end(&entry, &u);
        BSON_APPEND_BOOL(&entry, "upsert", true);
        bson_append_document_end(&updates, &entry);

        if (!s->made && add_tags.count > 0) {
            did |= INBOX_CONTACT_CHANGED_TAGS;
        }

        s->changed |= did;

        inbox_tags_free(&add_tags);

        s->exists = 1;
    }

    command = BCON_NEW("update", BCON_UTF8("contacts"),
                       "updates", BCON_ARRAY(&updates),
                       "ordered", BCON_BOOL(true));
    bson_destroy(&updates);

    rc = inbox_mongo_run(ms, command, &reply, err);
    bson_destroy(command);

    if (rc == INBOX_OK && bson_iter_init_find(&iter, &reply, "upserted")
        && BSON_ITER_HOLDS_ARRAY(&iter) && bson_iter_recurse(&iter, &child))
    {
        while (bson_iter_next(&child)) {
            inbox_mongo_import_inserted(seen, nseen, &child);
        }
    }

    bson_destroy(&reply);

    /* a number that became a contact between the find and the upsert
     * kept its own ids: its thread is that contact's, read back */
    if (rc == INBOX_OK) {
        rc = inbox_mongo_import_refind(ms, &org, seen, nseen, err);
    }

    /* the conversations: made for a new contact (one a failed attempt
     * made may have none), and for a named one that has none (ingest
     * may make it first); their copies of the contacts named follow
     * once they are there */
    for (i = 0; rc == INBOX_OK && i < n; i++) {
        s = inbox_mongo_import_find(seen, nseen, rows[i].phone);

        if ((inbox_mongo_import_new(s) && s->first == i)
            || rows[i].name != NULL)
        {
            bson_uint32_to_string((uint32_t) nconv++, &k, index,
                                  sizeof(index));
            inbox_mongo_append_conversation_upsert(&conv_updates, k, &org,
                &s->conversation, &s->contact,
                rows[i].phone, 0, NULL, now);
        }
    }

    /* the contacts there before given a zone: their clocks may have
     * changed, what waits for their quiet hours looks again */
    for (i = 0, nzoned = 0; rc == INBOX_OK && i < n; i++) {
        s = inbox_mongo_import_find(seen, nseen, rows[i].phone);

        if (rows[i].timezone[0] != '\0' && !(s->made && s->inserted)) {
            bson_oid_copy(&s->contact, &zoned[nzoned++]);
        }
    }

    if (rc == INBOX_OK && nzoned > 0) {
        rc = inbox_mongo_outbox_unpark_quiet(ms, &org, zoned, nzoned, now,
                                             err);
    }

    if (rc == INBOX_OK) {
        /* a repeated row finds the contact an earlier one made or found */
        for (i = 0; i < n; i++) {
            count->repeated += rows[i].repeated != 0;
        }

        /* those it made are pushed as made and counted created; those
         * it capped counted */
        for (i = 0; i < nseen; i++) {
            if (inbox_mongo_import_new(&seen[i])) {
                seen[i].changed |= INBOX_CONTACT_CHANGED_CREATED;
                count->created++;
            }

            count->capped += seen[i].capped;
        }

        count->updated = n - count->created - count->repeated;

        command = BCON_NEW("update", BCON_UTF8("conversations"),
                           "updates", BCON_ARRAY(&conv_updates),
                           "ordered", BCON_BOOL(false));
        rc = nconv > 0 ? inbox_mongo_run_simple(ms, command, err)
                       : (bson_destroy(command), INBOX_OK);
    }

    bson_destroy(&conv_updates);

    if (rc == INBOX_OK) {
        rc = inbox_mongo_import_copies(ms, &org, seen, nseen, err);
    }

    if (rc == INBOX_OK) {
        rc = inbox_mongo_import_events(ms, &org, seen, nseen, events, err);
    }

    if (rc == INBOX_OK) {
        rc = inbox_mongo_import_announced(ms, &org, seen, nseen, err);
    }

done:

    for (i = 0; i < nseen; i++) {
        inbox_tags_free(&seen[i].keys);
        free(seen[i].name);
    }

    free(seen);
    free(zoned);

    if (rc != INBOX_OK) {
        memset(count, 0, sizeof(inbox_import_count_t));
    }

    return rc;
}


/*
 * The copies the conversations of the contacts named keep, as a rename
 * writes them: each contact read back after the batch (its name, opt-out
 * and version together, whatever renamed it last), its copy written at
 * that version only where older, so that an import renaming a contact
 * reaches its thread, and a rename or another import at once leaves the
 * newer name there.  Those of the contacts found unannounced too: the
 * batch may have made their threads, whose copies say not opted out,
 * and the text that made one may have opted it out.  A failure here
 * leaves copies older than their contacts, which the import run again
 * writes (it changes nothing else).
 */
static inbox_status_t
inbox_mongo_import_copies(inbox_mongo_store_t *ms, const bson_oid_t *org,
    const inbox_mongo_import_seen_t *seen, size_t nseen, inbox_error_t *err)
{
    char                    index[16];
    bson_t                  phones, batch, doc, updates;
    bson_t                 *command;
    size_t                  i, named, ncopies;
    bson_oid_t              conversation;
    const char             *k;
    bson_iter_t             iter;
    inbox_status_t          rc;
    inbox_contact_record_t  c;

    bson_init(&phones);
    named = 0;

    for (i = 0; i < nseen; i++) {
        if (seen[i].named || seen[i].unannounced) {
            bson_uint32_to_string((uint32_t) named++, &k, index,
                                  sizeof(index));
            BSON_APPEND_UTF8(&phones, k, seen[i].phone);
        }
    }

    if (named == 0) {
        bson_destroy(&phones);
        return INBOX_OK;
    }

    command = BCON_NEW("find", BCON_UTF8("contacts"),
                       "filter", "{",
                           "org_id", BCON_OID(org),
                           "phone", "{", "$in", BCON_ARRAY(&phones), "}",
                       "}",
                       "projection", "{",
                           "phone", BCON_INT32(1),
                           "name", BCON_INT32(1),
                           "opted_out", BCON_INT32(1),
                           "version", BCON_INT32(1),
                           "conversation_id", BCON_INT32(1),
                       "}",
                       "batchSize", BCON_INT32((int32_t) named),
                       "singleBatch", BCON_BOOL(true));
    bson_destroy(&phones);

    rc = inbox_mongo_run_cursor(ms, command, &batch, err);

    bson_init(&updates);
    ncopies = 0;
    bson_iter_init(&iter, &batch);

    while (rc == INBOX_OK && inbox_mongo_next_doc(&iter, &doc)) {
        inbox_mongo_parse_contact(&doc, &c);

        if (inbox_mongo_parse_id(c.conversation_id, &conversation) == 0) {
            bson_uint32_to_string((uint32_t) ncopies++, &k, index,
                                  sizeof(index));
            inbox_mongo_append_contact_copy(&updates, k, org, &conversation,
                c.name, c.opted_out, inbox_mongo_get_int(&doc, "version"));
        }

        inbox_contact_record_free(&c);
    }

    bson_destroy(&batch);

    if (rc == INBOX_OK && ncopies > 0) {
        rc = inbox_mongo_run_simple(ms,
            BCON_NEW("update", BCON_UTF8("conversations"),
                     "updates", BCON_ARRAY(&updates),
                     "ordered", BCON_BOOL(false)),
            err);
    }

    bson_destroy(&updates);

    return rc;
}


/*
 * The events of the contacts the batch made or changed
 * (inbox_import_push_each): each contact and its conversation as they
 * are now, read in one query per collection, then the event of what
 * changed (inbox_change_contact); or one contacts.imported.
 */
static inbox_status_t
inbox_mongo_import_events(inbox_mongo_store_t *ms, const bson_oid_t *org,
    const inbox_mongo_import_seen_t *seen, size_t nseen,
    inbox_event_list_t *events, inbox_error_t *err)
{
    bson_t                  contact_ids, conversation_ids;
    bson_t                  contacts, conversations, row;
    size_t                  i, nchanged;
    uint32_t                ncontacts, nconversations;
    inbox_change_t          change;
    inbox_status_t          rc;
    inbox_conversation_t    conversation;
    inbox_contact_record_t  contact;

    nchanged = 0;

    for (i = 0; i < nseen; i++) {
        nchanged += seen[i].changed != 0;
    }

    if (nchanged == 0) {
        return INBOX_OK;
    }

    if (!inbox_import_push_each(nchanged)) {
        inbox_change_imported(&change);
        return inbox_mongo_events_append(ms, org, &change, events, err);
    }

    bson_init(&contact_ids);
    bson_init(&conversation_ids);
    ncontacts = 0;
    nconversations = 0;

    for (i = 0; i < nseen; i++) {
        if (seen[i].changed) {
            inbox_mongo_array_add(&contact_ids, &ncontacts,
                                  &seen[i].contact);
            inbox_mongo_array_add(&conversation_ids, &nconversations,
                                  &seen[i].conversation);
        }
    }

    rc = inbox_mongo_find_in(ms, "contacts", org, &contact_ids, ncontacts,
                             inbox_mongo_contact_fields, &contacts, err);

    if (rc == INBOX_OK) {
        rc = inbox_mongo_find_in(ms, "conversations", org, &conversation_ids,
                                 nconversations,
                                 inbox_mongo_conversation_fields,
                                 &conversations, err);
    } else {
        bson_init(&conversations);
    }

    /* one gone since (deleted in between) has nothing to show */
    for (i = 0; rc == INBOX_OK && i < nseen; i++) {
        if (!seen[i].changed
            || !inbox_mongo_batch_get(&contacts, &seen[i].contact, &row))
        {
            continue;
        }

        inbox_mongo_parse_contact(&row, &contact);

        if (!inbox_mongo_batch_get(&conversations, &seen[i].conversation,
                                   &row))
        {
            inbox_contact_record_free(&contact);
            continue;
        }

        inbox_mongo_parse_conversation(&row, &conversation);

        inbox_change_contact(&change, &contact, &conversation,
                             seen[i].changed);
        rc = inbox_mongo_events_append(ms, org, &change, events, err);

        inbox_conversation_free(&conversation);
        inbox_contact_record_free(&contact);
    }

    bson_destroy(&contacts);
    bson_destroy(&conversations);
    bson_destroy(&contact_ids);
    bson_destroy(&conversation_ids);

    return rc;
}


/*
 * The contacts the batch made, pushed now (or within contacts.imported):
 * no longer unannounced, in one update of them all, so that no later
 * import or text pushes them as made.
 */
static inbox_status_t
inbox_mongo_import_announced(inbox_mongo_store_t *ms, const bson_oid_t *org,
    const inbox_mongo_import_seen_t *seen, size_t nseen, inbox_error_t *err)
{
    bson_t    ids;
    bson_t   *command;
    size_t    i;
    uint32_t  nids;

    bson_init(&ids);
    nids = 0;

    for (i = 0; i < nseen; i++) {
        if (inbox_mongo_import_new(&seen[i])) {
            inbox_mongo_array_add(&ids, &nids, &seen[i].contact);
        }
    }

    if (nids == 0) {
        bson_destroy(&ids);
        return INBOX_OK;
    }

    command = BCON_NEW("update", BCON_UTF8("contacts"),
                       "updates", "[", "{",
                           "q", "{",
                               "_id", "{", "$in", BCON_ARRAY(&ids), "}",
                               "org_id", BCON_OID(org),
                           "}",
                           "u", "{", "$unset", "{",
                               "unannounced", BCON_UTF8(""),
                           "}", "}",
                           "multi", BCON_BOOL(true),
                       "}", "]",
                       "ordered", BCON_BOOL(true));
    bson_destroy(&ids);

    return inbox_mongo_run_simple(ms, command, err);
}


/*
 * The organization's tags: one aggregate of its contacts (found by
 * org_id, the first key of their indexes), each contact's tag_keys
 * unwound with their places, grouped by key (as audiences match them),
 * in key order, one more than max.  tags and tag_keys are written
 * together, item for item (inbox_mongo_append_tags), so a key's place
 * in tag_keys is its spelling's in tags; the spelling kept is that of
 * the contact made first ($min of {at, id, tag} compares at, then id).
 * A spelling that is not its key's (the arrays out of step) gives way
 * to the key.
 */
inbox_status_t
inbox_mongo_tags_list(inbox_store_t *store, const char *org_id, size_t max,
    inbox_tag_page_t *page, inbox_error_t *err)
{
    char                  key[INBOX_TAG_KEY_MAX];
    char                  folded[INBOX_TAG_KEY_MAX];
    bson_t                batch, doc;
    bson_oid_t            org;
    bson_iter_t           iter;
    inbox_status_t        rc;
    inbox_tag_count_t    *t;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    rc = inbox_mongo_ids(org_id, &org, NULL, NULL, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    page->items = calloc(max > 0 ? max : 1, sizeof(inbox_tag_count_t));
    if (page->items == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("aggregate", BCON_UTF8("contacts"),
                 "pipeline", "[",
                     "{", "$match", "{", "org_id", BCON_OID(&org), "}", "}",
                     "{", "$unwind", "{",
                         "path", BCON_UTF8("$tag_keys"),
                         "includeArrayIndex", BCON_UTF8("i"),
                     "}", "}",
                     "{", "$group", "{",
                         "_id", BCON_UTF8("$tag_keys"),
                         "first", "{", "$min", "{",
                             "at", BCON_UTF8("$created_at"),
                             "id", BCON_UTF8("$_id"),
                             "tag", "{", "$arrayElemAt", "[",
                                 BCON_UTF8("$tags"), BCON_UTF8("$i"),
                             "]", "}",
                         "}", "}",
                         "contacts", "{", "$sum", BCON_INT32(1), "}",
                         "sendable", "{", "$sum", "{", "$cond", "[",
                             "{", "$eq", "[",
                                 BCON_UTF8("$opted_out"), BCON_BOOL(true),
                             "]", "}",
                             BCON_INT32(0), BCON_INT32(1),
                         "]", "}", "}",
                     "}", "}",
                     "{", "$sort", "{", "_id", BCON_INT32(1), "}", "}",
                     "{", "$limit", BCON_INT64((int64_t) max + 1), "}",
                 "]",
                 "cursor", "{",
                     "batchSize", BCON_INT32((int32_t) max + 1),
                 "}"),
        &batch, err);

    bson_iter_init(&iter, &batch);

    while (rc == INBOX_OK && inbox_mongo_next_doc(&iter, &doc)) {
        if (page->count == max) {
            page->more = 1;
            break;
        }

        t = &page->items[page->count];
        inbox_mongo_get_str(&doc, "_id", key, sizeof(key));
        inbox_mongo_get_str(&doc, "first.tag", t->tag, sizeof(t->tag));

        if (key[0] == '\0') {
            continue;
        }

        inbox_tag_key(t->tag, folded);
        if (strcmp(folded, key) != 0) {
            snprintf(t->tag, sizeof(t->tag), "%s", key);
        }

        t->contacts = inbox_mongo_get_int(&doc, "contacts");
        t->sendable = inbox_mongo_get_int(&doc, "sendable");
        page->count++;
    }

    bson_destroy(&batch);

    return rc;
}
