/*
 * The MongoDB backend: users, the people of an organization's team who
 * sign in with an email address and a password: adding one (or bringing
 * back one removed), the look for a taken email before a new user's
 * password is hashed, sign-in's look-up, "me", the team's list, and
 * password changes.  Roles and removal, under the rule that an
 * organization keeps a billing contact, are store_mongo_team.c.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "store_mongo.h"


static void inbox_mongo_user_read(const bson_t *doc, inbox_user_t *user);
static inbox_status_t inbox_mongo_user_add_item(void *list,
    const bson_t *doc, inbox_error_t *err);
static inbox_status_t inbox_mongo_user_return(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const char *email, inbox_role_t role,
    const char *password_hash, bson_oid_t *oid, inbox_error_t *err);


static void
inbox_mongo_user_read(const bson_t *doc, inbox_user_t *user)
{
    char  role[16];

    inbox_mongo_get_id(doc, "_id", user->id);
    inbox_mongo_get_id(doc, "org_id", user->org_id);
    inbox_mongo_get_str(doc, "email", user->email, sizeof(user->email));
    inbox_mongo_get_str(doc, "role", role, sizeof(role));
    user->role = (strcmp(role, inbox_role_name(INBOX_ROLE_BILLING)) == 0)
                 ? INBOX_ROLE_BILLING : INBOX_ROLE_MEMBER;
    user->created_at = inbox_mongo_get_date(doc, "created_at");
}


static inbox_status_t
inbox_mongo_user_add_item(void *data, const bson_t *doc, inbox_error_t *err)
{
    inbox_user_t       *user;
    inbox_user_list_t  *list = data;

    if (list->count == INBOX_ACCOUNT_LIST_MAX) {
        list->truncated = 1;
        return INBOX_OK;
    }

    user = inbox_user_list_add(list);
    if (user == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    inbox_mongo_user_read(doc, user);

    return INBOX_OK;
}


/* A user removed from org (store_mongo_team.c) comes back with the new
 * role and password, and nothing of what they had before: a session or
 * token a removal that failed half-way left does not come back to life.
 * Anyone else holding the email is a conflict. */
static inbox_status_t
inbox_mongo_user_return(inbox_mongo_store_t *ms, const bson_oid_t *org,
    const char *email, inbox_role_t role, const char *password_hash,
    bson_oid_t *oid, inbox_error_t *err)
{
    int             found;
    bson_t          value;
    bson_iter_t     iter;
    inbox_status_t  rc;

    rc = inbox_mongo_run_find_and_modify(ms,
        BCON_NEW("findAndModify", BCON_UTF8("users"),
                 "query", "{",
                     "email", BCON_UTF8(email),
                     "org_id", BCON_OID(org),
                     "removed_at", "{", "$exists", BCON_BOOL(true), "}",
                 "}",
                 "update", "{",
                     "$set", "{",
                         "role", BCON_UTF8(inbox_role_name(role)),
                         "password_hash", BCON_UTF8(password_hash),
                     "}",
                     "$unset", "{", "removed_at", BCON_UTF8(""), "}",
                 "}",
                 "fields", "{", "_id", BCON_INT32(1), "}",
                 "new", BCON_BOOL(true)),
        &value, &found, err);

    found = found && bson_iter_init_find(&iter, &value, "_id")
            && BSON_ITER_HOLDS_OID(&iter);

    if (rc == INBOX_OK && found) {
        bson_oid_copy(bson_iter_oid(&iter), oid);
    }

    bson_destroy(&value);

    if (rc == INBOX_OK && found) {
        rc = inbox_mongo_user_access_end(ms, oid, err);
    }

    if (rc == INBOX_OK && !found) {
        rc = inbox_error_set_field(err, INBOX_ERR_CONFLICT, "email",
                                   "A user with the email %.200s exists "
                                   "already.", email);
    }

    return rc;
}


inbox_status_t
inbox_mongo_user_add(inbox_store_t *store, const char *org_id,
    const char *email, inbox_role_t role, const char *password_hash,
    char id[INBOX_ID_MAX], inbox_event_list_t *events, inbox_error_t *err)
{
    char                 *lower;
    size_t                i;
    bson_oid_t            oid, org;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_org_check(ms, org_id, &org, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    /* Stored lower case, so the unique index also sees "A@x" == "a@x". */
    lower = strdup(email);
    if (lower == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    for (i = 0; lower[i]; i++) {
        lower[i] = (char) tolower((unsigned char) lower[i]);
    }

    inbox_mongo_new_id(ms, &oid);

    rc = inbox_mongo_run_simple(ms,
        BCON_NEW("insert", BCON_UTF8("users"),
                 "documents", "[", "{",
                     "_id", BCON_OID(&oid),
                     "org_id", BCON_OID(&org),
                     "email", BCON_UTF8(lower),
                     "role", BCON_UTF8(inbox_role_name(role)),
                     "password_hash", BCON_UTF8(password_hash),
                     "created_at", BCON_DATE_TIME(inbox_mongo_now(ms)),
                 "}", "]",
                 "ordered", BCON_BOOL(true)),
        err);

    if (rc == INBOX_ERR_CONFLICT) {
        rc = inbox_mongo_user_return(ms, &org, lower, role, password_hash,
                                     &oid, err);
    }

    free(lower);

    if (rc != INBOX_OK) {
        return rc;
    }

    inbox_mongo_id_hex(&oid, id);

    return inbox_mongo_team_event(ms, &org, INBOX_EVENT_USER_UPDATED, &oid,
                                  events, err);
}


inbox_status_t
inbox_mongo_user_email_check(inbox_store_t *store, const char *org_id,
    const char *email, inbox_error_t *err)
{
    int                   found;
    bson_t                doc;
    bson_oid_t            org;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_ids(org_id, &org, NULL, NULL, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    /* taken as the unique index sees it, but for this organization's
     * removed user, whom inbox_mongo_user_add brings back */
    rc = inbox_mongo_find_one(ms, "users",
                              BCON_NEW("email", BCON_UTF8(email),
                                       "$or", "[",
                                           "{", "org_id", "{",
                                               "$ne", BCON_OID(&org),
                                           "}", "}",
                                           "{", INBOX_MONGO_USER_ACTIVE, "}",
                                       "]"),
                              BCON_NEW("_id", BCON_INT32(1)),
                              &doc, &found, err);
    bson_destroy(&doc);

    if (rc == INBOX_OK && found) {
        rc = inbox_error_set_field(err, INBOX_ERR_CONFLICT, "email",
                                   "A user with the email %.200s exists "
                                   "already.", email);
    }

    return rc;
}


inbox_status_t
inbox_mongo_account_get(inbox_store_t *store, const char *org_id,
    const char *user_id, inbox_account_t *account, inbox_error_t *err)
{
    int                   found;
    bson_t                doc;
    bson_oid_t            org, user;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    if (inbox_mongo_parse_id(org_id, &org) != 0) {
        return inbox_error_org_unknown(err, org_id);
    }

    if (user_id != NULL && inbox_mongo_parse_id(user_id, &user) != 0) {
        return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                               "The organization has no user with the id "
                               "\"%.32s\".", user_id);
    }

    rc = inbox_mongo_find_one(ms, "orgs", BCON_NEW("_id", BCON_OID(&org)),
                              BCON_NEW("name", BCON_INT32(1),
                                       "timezone", BCON_INT32(1),
                                       "created_at", BCON_INT32(1)),
                              &doc, &found, err);

    if (rc == INBOX_OK && found) {
        inbox_mongo_org_read(&doc, &account->org);
    }

    bson_destroy(&doc);

    if (rc != INBOX_OK) {
        return rc;
    }

    if (!found) {
        return inbox_error_org_unknown(err, org_id);
    }

    if (user_id == NULL) {
        return INBOX_OK;
    }

    rc = inbox_mongo_find_one(ms, "users",
                              BCON_NEW("_id", BCON_OID(&user),
                                       "org_id", BCON_OID(&org),
                                       INBOX_MONGO_USER_ACTIVE),
                              BCON_NEW("org_id", BCON_INT32(1),
                                       "email", BCON_INT32(1),
                                       "role", BCON_INT32(1),
                                       "created_at", BCON_INT32(1)),
                              &doc, &found, err);

    if (rc == INBOX_OK && found) {
        inbox_mongo_user_read(&doc, &account->user);
        account->has_user = 1;
    }

    bson_destroy(&doc);

    if (rc == INBOX_OK && !found) {
        rc = inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                             "The organization has no user with the id "
                             "\"%.32s\".", user_id);
    }

    return rc;
}


inbox_status_t
inbox_mongo_user_find_by_email(inbox_store_t *store, const char *email,
    inbox_user_t *user, char **password_hash, inbox_error_t *err)
{
    int                   found;
    bson_t                doc;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    /* stored lower case (inbox_mongo_user_add), as email now is: the
     * unique index answers */
    rc = inbox_mongo_find_one(ms, "users",
                              BCON_NEW("email", BCON_UTF8(email),
                                       INBOX_MONGO_USER_ACTIVE),
                              BCON_NEW("org_id", BCON_INT32(1),
                                       "email", BCON_INT32(1),
                                       "role", BCON_INT32(1),
                                       "created_at", BCON_INT32(1),
                                       "password_hash", BCON_INT32(1)),
                              &doc, &found, err);

    if (rc == INBOX_OK && found) {
        inbox_mongo_user_read(&doc, user);
        *password_hash = inbox_mongo_dup_str(&doc, "password_hash");
    }

    bson_destroy(&doc);

    if (rc == INBOX_OK && !found) {
        rc = inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                             "No user has that email address.");
    }

    return rc;
}


inbox_status_t
inbox_mongo_users_list(inbox_store_t *store, const char *org_id,
    inbox_user_list_t *list, inbox_error_t *err)
{
    bson_t                batch;
    bson_oid_t            org;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_org_check(ms, org_id, &org, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("find", BCON_UTF8("users"),
                 "filter", "{",
                     "org_id", BCON_OID(&org),
                     INBOX_MONGO_USER_ACTIVE,
                 "}",
                 "projection", "{",
                     "org_id", BCON_INT32(1),
                     "email", BCON_INT32(1),
                     "role", BCON_INT32(1),
                     "created_at", BCON_INT32(1),
                 "}",
                 "sort", "{", "_id", BCON_INT32(1), "}",
                 "limit", BCON_INT32(INBOX_ACCOUNT_LIST_MAX + 1),
                 "batchSize", BCON_INT32(INBOX_ACCOUNT_LIST_MAX + 1),
                 "singleBatch", BCON_BOOL(true)),
        &batch, err);

    if (rc == INBOX_OK) {
        rc = inbox_mongo_batch_each(&batch, inbox_mongo_user_add_item, list,
                                    err);
    }

    bson_destroy(&batch);

    if (rc != INBOX_OK) {
        inbox_user_list_free(list);
    }

    return rc;
}


/*
 * The new hash first, then the user's sessions go: without a transaction
 * a failure between the two leaves sessions that a retry ends.
 */
inbox_status_t
inbox_mongo_user_password_set(inbox_store_t *store, const char *org_id,
    const char *email, const char *old_hash, const char *password_hash,
    char id[INBOX_ID_MAX], inbox_event_list_t *events, inbox_error_t *err)
{
    int                   found;
    bson_t                query, value, doc;
    bson_oid_t            org, user;
    bson_iter_t           iter;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    if (inbox_mongo_parse_id(org_id, &org) != 0) {
        return inbox_error_org_unknown(err, org_id);
    }

    /* one's own change: only over the hash its password was verified
     * against (compare and set) */
    bson_init(&query);
    BCON_APPEND(&query, "org_id", BCON_OID(&org), "email", BCON_UTF8(email),
                INBOX_MONGO_USER_ACTIVE);
    if (old_hash != NULL) {
        BSON_APPEND_UTF8(&query, "password_hash", old_hash);
    }

    rc = inbox_mongo_run_find_and_modify(ms,
        BCON_NEW("findAndModify", BCON_UTF8("users"),
                 "query", BCON_DOCUMENT(&query),
                 "update", "{",
                     "$set", "{",
                         "password_hash", BCON_UTF8(password_hash),
                     "}",
                 "}",
                 "fields", "{", "_id", BCON_INT32(1), "}",
                 "new", BCON_BOOL(true)),
        &value, &found, err);
    bson_destroy(&query);

    found = found && bson_iter_init_find(&iter, &value, "_id")
            && BSON_ITER_HOLDS_OID(&iter);

    if (rc == INBOX_OK && found) {
        bson_oid_copy(bson_iter_oid(&iter), &user);
    }

    bson_destroy(&value);

    if (rc != INBOX_OK) {
        return rc;
    }

    if (!found && old_hash != NULL) {
        /* set by someone else meanwhile, or gone */
        rc = inbox_mongo_find_one(ms, "users",
                                  BCON_NEW("org_id", BCON_OID(&org),
                                           "email", BCON_UTF8(email),
                                           INBOX_MONGO_USER_ACTIVE),
                                  BCON_NEW("_id", BCON_INT32(1)), &doc,
                                  &found, err);
        bson_destroy(&doc);

        if (rc != INBOX_OK) {
            return rc;
        }

        if (found) {
            return inbox_error_set(err, INBOX_ERR_CONFLICT, "%s",
                                   INBOX_PASSWORD_CHANGED_MEANWHILE);
        }
    }

    if (!found) {
        rc = inbox_mongo_org_check(ms, org_id, &org, err);
        if (rc != INBOX_OK) {
            return rc;
        }

        return inbox_error_set_field(err, INBOX_ERR_NOT_FOUND, "email",
                                     "Organization %.32s has no user "
                                     "%.200s.", org_id, email);
    }

    rc = inbox_mongo_delete(ms, "sessions",
                            BCON_NEW("user_id", BCON_OID(&user)), NULL, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    inbox_mongo_id_hex(&user, id);

    /* closes their WebSockets (ws-server, on the event) */
    return inbox_mongo_team_event(ms, &org, INBOX_EVENT_USER_SIGNED_OUT,
                                  &user, events, err);
}


inbox_status_t
inbox_mongo_user_password_rehash(inbox_store_t *store, const char *org_id,
    const char *user_id, const char *old_hash, const char *new_hash,
    int *replaced, inbox_error_t *err)
{
    bson_oid_t            org, user;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    /* no such ids: no such user, whose hash is then not old_hash */
    if (inbox_mongo_parse_id(org_id, &org) != 0
        || inbox_mongo_parse_id(user_id, &user) != 0)
    {
        return INBOX_OK;
    }

    return inbox_mongo_update_one(ms, "users",
        BCON_NEW("_id", BCON_OID(&user),
                 "org_id", BCON_OID(&org),
                 "password_hash", BCON_UTF8(old_hash)),
        BCON_NEW("$set", "{", "password_hash", BCON_UTF8(new_hash), "}"),
        replaced, err);
}
