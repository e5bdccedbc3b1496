/*
 * The MongoDB backend: the team, as a billing contact manages it (roles
 * and removal; adding is user_add, store_mongo_users.c).
 *
 * Without a transaction the rule that an organization keeps a billing
 * contact (inbox_team_keeps_billing) is kept by writing first and
 * looking after: a change that
 * takes a billing contact away is undone when no other one is left.  Two
 * billing contacts demoting each other at once may then both be refused,
 * never both succeed.
 *
 * A removal marks the user first and then ends their sessions and API
 * tokens; sign-in, sessions and tokens all ignore a removed user, so a
 * failure between the two leaves nothing that still works.
 */
#include <string.h>
#include "store_mongo.h"


static inbox_status_t inbox_mongo_team_ids(const char *org_id,
    const char *user_id, bson_oid_t *org, bson_oid_t *user,
    inbox_error_t *err);
static inbox_status_t inbox_mongo_team_missing(inbox_mongo_store_t *ms,
    const char *org_id, const char *user_id, inbox_error_t *err);
static inbox_status_t inbox_mongo_team_billing_others(
    inbox_mongo_store_t *ms, const bson_oid_t *org, const bson_oid_t *user,
    int *others, inbox_error_t *err);


inbox_status_t
inbox_mongo_user_role_set(inbox_store_t *store, const char *org_id,
    const char *user_id, inbox_role_t role, inbox_user_t *user,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int                   found, billing, stays, others, undone;
    char                  was[16];
    bson_t                value;
    inbox_error_t         undo_err;
    bson_oid_t            org, oid;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    rc = inbox_mongo_team_ids(org_id, user_id, &org, &oid, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    /* the document as it was, for its role before */
    rc = inbox_mongo_run_find_and_modify(ms,
        BCON_NEW("findAndModify", BCON_UTF8("users"),
                 "query", "{",
                     "_id", BCON_OID(&oid),
                     "org_id", BCON_OID(&org),
                     INBOX_MONGO_USER_ACTIVE,
                 "}",
                 "update", "{",
                     "$set", "{", "role", BCON_UTF8(inbox_role_name(role)),
                     "}",
                 "}",
                 "fields", "{",
                     "org_id", BCON_INT32(1),
                     "email", BCON_INT32(1),
                     "role", BCON_INT32(1),
                     "created_at", BCON_INT32(1),
                 "}",
                 "new", BCON_BOOL(false)),
        &value, &found, err);

    if (rc == INBOX_OK && found && user != NULL) {
        inbox_mongo_get_id(&value, "_id", user->id);
        inbox_mongo_get_id(&value, "org_id", user->org_id);
        inbox_mongo_get_str(&value, "email", user->email,
                            sizeof(user->email));
        user->role = role;
        user->created_at = inbox_mongo_get_date(&value, "created_at");
    }

    inbox_mongo_get_str(&value, "role", was, sizeof(was));
    bson_destroy(&value);

    if (rc != INBOX_OK) {
        return rc;
    }

    if (!found) {
        return inbox_mongo_team_missing(ms, org_id, user_id, err);
    }

    billing = strcmp(was, inbox_role_name(INBOX_ROLE_BILLING)) == 0;
    stays = role == INBOX_ROLE_BILLING;

    /* allowed even with no other billing contact: nothing to look at */
    if (inbox_team_keeps_billing(billing, stays, 0, NULL) == INBOX_OK) {
        return inbox_mongo_team_event(ms, &org, INBOX_EVENT_USER_UPDATED,
                                      &oid, events, err);
    }

    rc = inbox_mongo_team_billing_others(ms, &org, &oid, &others, err);

    if (rc == INBOX_OK) {
        rc = inbox_team_keeps_billing(billing, stays, others, err);
        if (rc == INBOX_OK) {
            return inbox_mongo_team_event(ms, &org, INBOX_EVENT_USER_UPDATED,
                                          &oid, events, err);
        }
    }

    /* the last billing contact: undone (also when the look failed, as
     * nothing says another one is left) */
    (void) inbox_mongo_update_one(ms, "users",
        BCON_NEW("_id", BCON_OID(&oid)),
        BCON_NEW("$set", "{",
                     "role", BCON_UTF8(inbox_role_name(INBOX_ROLE_BILLING)),
                 "}"),
        &undone, &undo_err);

    return rc;
}


inbox_status_t
inbox_mongo_user_remove(inbox_store_t *store, const char *org_id,
    const char *user_id, inbox_event_list_t *events, inbox_error_t *err)
{
    int                   found, billing, others, undone;
    char                  was[16], *hash;
    bson_t                value, *undo;
    inbox_error_t         undo_err;
    bson_oid_t            org, oid;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    rc = inbox_mongo_team_ids(org_id, user_id, &org, &oid, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_run_find_and_modify(ms,
        BCON_NEW("findAndModify", BCON_UTF8("users"),
                 "query", "{",
                     "_id", BCON_OID(&oid),
                     "org_id", BCON_OID(&org),
                     INBOX_MONGO_USER_ACTIVE,
                 "}",
                 "update", "{",
                     "$set", "{",
                         "removed_at", BCON_DATE_TIME(inbox_mongo_now(ms)),
                     "}",
                     "$unset", "{", "password_hash", BCON_UTF8(""), "}",
                 "}",
                 "fields", "{",
                     "role", BCON_INT32(1),
                     "password_hash", BCON_INT32(1),
                 "}",
                 "new", BCON_BOOL(false)),
        &value, &found, err);

    inbox_mongo_get_str(&value, "role", was, sizeof(was));
    hash = (rc == INBOX_OK && found)
           ? inbox_mongo_dup_str(&value, "password_hash") : NULL;
    bson_destroy(&value);

    if (rc != INBOX_OK) {
        return rc;
    }

    if (!found) {
        /* removed already, perhaps by a removal that failed after the
         * mark (no transaction): its retry ends what it left, its
         * WebSockets first, and is told the user is not on the team */
        rc = inbox_mongo_find_one(ms, "users",
                                  BCON_NEW("_id", BCON_OID(&oid),
                                           "org_id", BCON_OID(&org),
                                           "removed_at", "{",
                                               "$exists", BCON_BOOL(true),
                                           "}"),
                                  BCON_NEW("_id", BCON_INT32(1)), &value,
                                  &found, err);
        bson_destroy(&value);

        if (rc == INBOX_OK && found) {
            rc = inbox_mongo_team_event(ms, &org, INBOX_EVENT_USER_REMOVED,
                                        &oid, events, err);
        }

        if (rc == INBOX_OK && found) {
            rc = inbox_mongo_user_access_end(ms, &oid, err);
        }

        if (rc != INBOX_OK) {
            return rc;
        }

        return inbox_mongo_team_missing(ms, org_id, user_id, err);
    }

    others = 0;
    billing = strcmp(was, inbox_role_name(INBOX_ROLE_BILLING)) == 0;

    if (billing) {
        rc = inbox_mongo_team_billing_others(ms, &org, &oid, &others, err);
    }

    if (rc == INBOX_OK) {
        rc = inbox_team_keeps_billing(billing, 0, others, err);
    }

    if (rc != INBOX_OK) {
        /* undone: back on the team with the password they had */
        undo = hash != NULL
               ? BCON_NEW("$unset", "{", "removed_at", BCON_UTF8(""), "}",
                          "$set", "{", "password_hash", BCON_UTF8(hash), "}")
               : BCON_NEW("$unset", "{", "removed_at", BCON_UTF8(""), "}");
        (void) inbox_mongo_update_one(ms, "users",
                                      BCON_NEW("_id", BCON_OID(&oid)), undo,
                                      &undone, &undo_err);
        bson_free(hash);

        return rc;
    }

    bson_free(hash);

    /* before the sessions go, so that a failure after it leaves no
     * WebSocket open */
    rc = inbox_mongo_team_event(ms, &org, INBOX_EVENT_USER_REMOVED, &oid,
                                events, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    return inbox_mongo_user_access_end(ms, &oid, err);
}


inbox_status_t
inbox_mongo_user_access_end(inbox_mongo_store_t *ms, const bson_oid_t *user,
    inbox_error_t *err)
{
    inbox_status_t  rc;

    rc = inbox_mongo_delete(ms, "sessions",
                            BCON_NEW("user_id", BCON_OID(user)), NULL, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    return inbox_mongo_run_simple(ms,
        BCON_NEW("update", BCON_UTF8("tokens"),
                 "updates", "[", "{",
                     "q", "{",
                         "user_id", BCON_OID(user),
                         "revoked_at", BCON_NULL,
                     "}",
                     "u", "{",
                         "$set", "{",
                             "revoked_at",
                             BCON_DATE_TIME(inbox_mongo_now(ms)),
                         "}",
                     "}",
                     "multi", BCON_BOOL(true),
                 "}", "]",
                 "ordered", BCON_BOOL(true)),
        err);
}


inbox_status_t
inbox_mongo_team_event(inbox_mongo_store_t *ms, const bson_oid_t *org,
    const char *type, const bson_oid_t *user, inbox_event_list_t *events,
    inbox_error_t *err)
{
    char            user_hex[INBOX_ID_MAX];
    inbox_change_t  change;

    inbox_mongo_id_hex(user, user_hex);
    inbox_change_user(&change, type, user_hex);

    /* frees the change */
    return inbox_mongo_events_append(ms, org, &change, events, err);
}


static inbox_status_t
inbox_mongo_team_ids(const char *org_id, const char *user_id,
    bson_oid_t *org, bson_oid_t *user, inbox_error_t *err)
{
    if (inbox_mongo_parse_id(org_id, org) != 0) {
        return inbox_error_org_unknown(err, org_id);
    }

    if (inbox_mongo_parse_id(user_id, user) != 0) {
        return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                               "The organization has no user with the id "
                               "\"%.32s\".", user_id ? user_id : "");
    }

    return INBOX_OK;
}


/* No such user on the team: said of the organization when it is not
 * there either. */
static inbox_status_t
inbox_mongo_team_missing(inbox_mongo_store_t *ms, const char *org_id,
    const char *user_id, inbox_error_t *err)
{
    bson_oid_t      org;
    inbox_status_t  rc;

    rc = inbox_mongo_org_check(ms, org_id, &org, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                           "The organization has no user with the id "
                           "\"%.32s\".", user_id);
}


/* *others: 1 when org has a billing contact on the team besides user,
 * else 0 (one is all the rule needs). */
static inbox_status_t
inbox_mongo_team_billing_others(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const bson_oid_t *user, int *others,
    inbox_error_t *err)
{
    bson_t          doc;
    inbox_status_t  rc;

    rc = inbox_mongo_find_one(ms, "users",
                              BCON_NEW("org_id", BCON_OID(org),
                                       "role", BCON_UTF8(inbox_role_name(
                                                   INBOX_ROLE_BILLING)),
                                       INBOX_MONGO_USER_ACTIVE,
                                       "_id", "{", "$ne", BCON_OID(user),
                                       "}"),
                              BCON_NEW("_id", BCON_INT32(1)),
                              &doc, others, err);
    bson_destroy(&doc);

    return rc;
}
