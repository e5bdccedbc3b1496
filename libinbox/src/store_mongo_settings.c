/*
 * The MongoDB backend: an organization's settings (settings.h), fields of
 * its org document; a field never set (or null) is the default.
 */
#include <string.h>
#include <inbox/settings.h>
#include "store_mongo.h"


void
inbox_mongo_parse_settings(const bson_t *doc, inbox_settings_t *settings)
{
    char         name[INBOX_SETTINGS_TEXT_SIZE(INBOX_BUSINESS_NAME_MAX)];
    bson_iter_t  iter;

    inbox_mongo_get_str(doc, "name", name, sizeof(name));
    inbox_settings_defaults(settings, name);

    if (bson_iter_init_find(&iter, doc, "timezone")
        && BSON_ITER_HOLDS_UTF8(&iter))
    {
        inbox_mongo_get_str(doc, "timezone", settings->timezone,
                            sizeof(settings->timezone));
    }

    if (bson_iter_init_find(&iter, doc, "quiet_start")
        && BSON_ITER_HOLDS_NUMBER(&iter))
    {
        settings->quiet_start = (int) inbox_mongo_get_int(doc, "quiet_start");
        settings->quiet_end = (int) inbox_mongo_get_int(doc, "quiet_end");
    }

    if (bson_iter_init_find(&iter, doc, "business_name")
        && BSON_ITER_HOLDS_UTF8(&iter))
    {
        inbox_mongo_get_str(doc, "business_name", settings->business_name,
                            sizeof(settings->business_name));
    }

    inbox_mongo_get_str(doc, "support_contact", settings->support_contact,
                        sizeof(settings->support_contact));
    inbox_mongo_get_str(doc, "default_country", settings->default_country,
                        sizeof(settings->default_country));
}


#define INBOX_MONGO_SETTINGS_FIELDS                                           \
    "name", BCON_INT32(1), "timezone", BCON_INT32(1),                        \
    "quiet_start", BCON_INT32(1), "quiet_end", BCON_INT32(1),                \
    "business_name", BCON_INT32(1), "support_contact", BCON_INT32(1),       \
    "default_country", BCON_INT32(1)


inbox_status_t
inbox_mongo_settings_get(inbox_store_t *store, const char *org_id,
    inbox_settings_t *settings, inbox_error_t *err)
{
    bson_oid_t            org;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    if (inbox_mongo_parse_id(org_id, &org) != 0) {
        return inbox_error_not_found(err, "organization");
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    return inbox_mongo_settings_load(ms, &org, settings, err);
}


inbox_status_t
inbox_mongo_settings_load(inbox_mongo_store_t *ms, const bson_oid_t *org,
    inbox_settings_t *settings, inbox_error_t *err)
{
    int             found;
    bson_t          doc;
    inbox_status_t  rc;

    rc = inbox_mongo_find_one(ms, "orgs", BCON_NEW("_id", BCON_OID(org)),
                              BCON_NEW(INBOX_MONGO_SETTINGS_FIELDS),
                              &doc, &found, err);

    if (rc == INBOX_OK && !found) {
        rc = inbox_error_not_found(err, "organization");
    }

    if (rc == INBOX_OK) {
        inbox_mongo_parse_settings(&doc, settings);
    }

    bson_destroy(&doc);

    return rc;
}


inbox_status_t
inbox_mongo_settings_update(inbox_store_t *store, const char *org_id,
    const inbox_settings_edit_t *edit, inbox_settings_t *settings,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int                   found, changed;
    char                  name[INBOX_SETTINGS_TEXT_SIZE(
                              INBOX_BUSINESS_NAME_MAX)];
    bson_t                set, value;
    bson_t               *command;
    bson_oid_t            org;
    inbox_status_t        rc;
    inbox_change_t        change;
    inbox_settings_t      before;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    if (inbox_mongo_parse_id(org_id, &org) != 0) {
        return inbox_error_not_found(err, "organization");
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    /* "" is the default again: null */
    bson_init(&set);

    if (edit->set_timezone) {
        BSON_APPEND_UTF8(&set, "timezone", edit->timezone);
    }

    if (edit->set_quiet_hours) {
        BSON_APPEND_INT32(&set, "quiet_start", edit->quiet_start);
        BSON_APPEND_INT32(&set, "quiet_end", edit->quiet_end);
    }

    if (edit->set_business_name) {
        if (edit->business_name[0] != '\0') {
            BSON_APPEND_UTF8(&set, "business_name", edit->business_name);
        } else {
            BSON_APPEND_NULL(&set, "business_name");
        }
    }

    if (edit->set_support_contact) {
        if (edit->support_contact[0] != '\0') {
            BSON_APPEND_UTF8(&set, "support_contact", edit->support_contact);
        } else {
            BSON_APPEND_NULL(&set, "support_contact");
        }
    }

    if (edit->set_default_country) {
        if (edit->default_country[0] != '\0') {
            BSON_APPEND_UTF8(&set, "default_country", edit->default_country);
        } else {
            BSON_APPEND_NULL(&set, "default_country");
        }
    }

    if (bson_empty(&set)) {
        bson_destroy(&set);
        return inbox_mongo_settings_get(store, org_id, settings, err);
    }

    /* the document as it was, read by the write itself: whether it
     * changed the settings, which are the edit applied to them */
    command = BCON_NEW("findAndModify", BCON_UTF8("orgs"),
                       "query", "{", "_id", BCON_OID(&org), "}",
                       "update", "{", "$set", BCON_DOCUMENT(&set), "}",
                       "fields", "{", INBOX_MONGO_SETTINGS_FIELDS, "}",
                       "new", BCON_BOOL(false));
    bson_destroy(&set);

    rc = inbox_mongo_run_find_and_modify(ms, command, &value, &found, err);

    if (rc == INBOX_OK && !found) {
        rc = inbox_error_not_found(err, "organization");
    }

    changed = 0;

    if (rc == INBOX_OK) {
        inbox_mongo_parse_settings(&value, &before);
        inbox_mongo_get_str(&value, "name", name, sizeof(name));
        *settings = before;
        inbox_settings_apply(settings, edit, name);
        changed = !inbox_settings_same(&before, settings);
    }

    bson_destroy(&value);

    /* after the write: a claim or dispatch that read the settings before
     * it and holds a message after this (a narrow race, no transaction)
     * holds it until the opening it read */
    if (rc == INBOX_OK && inbox_settings_edit_moves_quiet_hours(edit)) {
        rc = inbox_mongo_outbox_unpark_quiet(ms, &org, NULL, 0,
                                             inbox_mongo_now(ms), err);
    }

    /* after the write, as every event of this backend: a crash between
     * them leaves browsers to see the change at their next read */
    if (rc == INBOX_OK && changed) {
        inbox_change_settings(&change, settings);
        rc = inbox_mongo_events_append(ms, &org, &change, events, err);
    }

    return rc;
}
