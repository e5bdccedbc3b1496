/*
 * The MongoDB backend: sessions (the "sessions" collection: the SHA-256
 * of the cookie's id, the user and organization, and the times
 * session.h decides): made at sign-in, found (and their use recorded) by
 * each request, ended at logout, purged once expired.
 */
#include <stdlib.h>
#include <string.h>
#include "store_mongo.h"


static inbox_status_t inbox_mongo_session_refused(const char *password_hash,
    const char *org_id, const char *user_id, inbox_error_t *err);
static inbox_status_t inbox_mongo_session_insert(inbox_mongo_store_t *ms,
    const bson_oid_t *oid, const bson_oid_t *org, const bson_oid_t *user,
    const char *session_hash, const inbox_session_t *session,
    inbox_error_t *err);


inbox_status_t
inbox_mongo_session_add(inbox_store_t *store, const char *org_id,
    const char *user_id, const char *password_hash, const char *session_hash,
    const inbox_session_t *session, inbox_error_t *err)
{
    int                   found;
    bson_t                doc, *filter;
    bson_oid_t            org, user, oid;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    if (inbox_mongo_parse_id(org_id, &org) != 0
        || inbox_mongo_parse_id(user_id, &user) != 0)
    {
        return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                               "No such user for the session.");
    }

    /* the user must be the organization's, on the team and (for a
     * sign-in) with the password that was checked */
    filter = BCON_NEW("_id", BCON_OID(&user), "org_id", BCON_OID(&org),
                      INBOX_MONGO_USER_ACTIVE);
    if (password_hash != NULL) {
        BSON_APPEND_UTF8(filter, "password_hash", password_hash);
    }

    rc = inbox_mongo_find_one(ms, "users", bson_copy(filter),
                              BCON_NEW("_id", BCON_INT32(1)),
                              &doc, &found, err);
    bson_destroy(&doc);

    if (rc == INBOX_OK && !found) {
        rc = inbox_mongo_session_refused(password_hash, org_id, user_id, err);
    }

    inbox_mongo_new_id(ms, &oid);

    if (rc == INBOX_OK) {
        rc = inbox_mongo_session_insert(ms, &oid, &org, &user, session_hash,
                                        session, err);
    }

    /* a password change (or removal) sets the user, then deletes the
     * sessions: one that came between the look and the insert left this
     * session alive, and is seen now */
    if (rc == INBOX_OK && password_hash != NULL) {
        rc = inbox_mongo_find_one(ms, "users", bson_copy(filter),
                                  BCON_NEW("_id", BCON_INT32(1)),
                                  &doc, &found, err);
        bson_destroy(&doc);

        if (rc == INBOX_OK && !found) {
            rc = inbox_mongo_delete(ms, "sessions",
                                    BCON_NEW("_id", BCON_OID(&oid)), NULL,
                                    err);
            if (rc == INBOX_OK) {
                rc = inbox_mongo_session_refused(password_hash, org_id,
                                                 user_id, err);
            }
        }
    }

    bson_destroy(filter);

    return rc;
}


static inbox_status_t
inbox_mongo_session_refused(const char *password_hash, const char *org_id,
    const char *user_id, inbox_error_t *err)
{
    return password_hash != NULL
           ? inbox_error_set(err, INBOX_ERR_UNAUTHENTICATED,
                             "The password changed, or the user left the "
                             "team, while it was checked.")
           : inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                             "Organization %.32s has no user %.32s.",
                             org_id, user_id);
}


static inbox_status_t
inbox_mongo_session_insert(inbox_mongo_store_t *ms, const bson_oid_t *oid,
    const bson_oid_t *org, const bson_oid_t *user, const char *session_hash,
    const inbox_session_t *session, inbox_error_t *err)
{
    return inbox_mongo_run_simple(ms,
        BCON_NEW("insert", BCON_UTF8("sessions"),
                 "documents", "[", "{",
                     "_id", BCON_OID(oid),
                     "session_hash", BCON_UTF8(session_hash),
                     "org_id", BCON_OID(org),
                     "user_id", BCON_OID(user),
                     "created_at", BCON_DATE_TIME(session->created_at),
                     "last_seen_at", BCON_DATE_TIME(session->last_seen_at),
                     "expires_at", BCON_DATE_TIME(session->expires_at),
                 "}", "]",
                 "ordered", BCON_BOOL(true)),
        err);
}


inbox_status_t
inbox_mongo_session_find(inbox_store_t *store, const char *session_hash,
    inbox_principal_t *principal, inbox_session_t *session,
    inbox_error_t *err)
{
    int                   found;
    char                  role[16], session_id[INBOX_ID_MAX];
    bson_t                doc;
    bson_oid_t            org, user;
    bson_iter_t           iter;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_find_one(ms, "sessions",
                              BCON_NEW("session_hash",
                                       BCON_UTF8(session_hash
                                                 ? session_hash : "")),
                              BCON_NEW("org_id", BCON_INT32(1),
                                       "user_id", BCON_INT32(1),
                                       "created_at", BCON_INT32(1),
                                       "last_seen_at", BCON_INT32(1),
                                       "expires_at", BCON_INT32(1)),
                              &doc, &found, err);

    if (rc == INBOX_OK && found) {
        session->created_at = inbox_mongo_get_date(&doc, "created_at");
        session->last_seen_at = inbox_mongo_get_date(&doc, "last_seen_at");
        session->expires_at = inbox_mongo_get_date(&doc, "expires_at");
        inbox_mongo_get_id(&doc, "_id", session_id);

        found = bson_iter_init_find(&iter, &doc, "org_id")
                && BSON_ITER_HOLDS_OID(&iter);
        if (found) {
            bson_oid_copy(bson_iter_oid(&iter), &org);
        }

        found = found && bson_iter_init_find(&iter, &doc, "user_id")
                && BSON_ITER_HOLDS_OID(&iter);
        if (found) {
            bson_oid_copy(bson_iter_oid(&iter), &user);
        }
    }

    bson_destroy(&doc);

    if (rc != INBOX_OK) {
        return rc;
    }

    if (!found) {
        return inbox_error_set(err, INBOX_ERR_NOT_FOUND, "No such session.");
    }

    /* the role as it is now: a changed role counts from the next request,
     * and a removed user's session from then on is none */
    rc = inbox_mongo_find_one(ms, "users",
                              BCON_NEW("_id", BCON_OID(&user),
                                       "org_id", BCON_OID(&org),
                                       INBOX_MONGO_USER_ACTIVE),
                              BCON_NEW("role", BCON_INT32(1)),
                              &doc, &found, err);

    if (rc == INBOX_OK && found) {
        inbox_mongo_id_hex(&org, principal->org_id);
        inbox_mongo_id_hex(&user, principal->user_id);
        memcpy(principal->session_id, session_id, INBOX_ID_MAX);
        inbox_mongo_get_str(&doc, "role", role, sizeof(role));
        principal->role = (strcmp(role, inbox_role_name(INBOX_ROLE_BILLING))
                           == 0) ? INBOX_ROLE_BILLING : INBOX_ROLE_MEMBER;
    }

    bson_destroy(&doc);

    if (rc == INBOX_OK && !found) {
        rc = inbox_error_set(err, INBOX_ERR_NOT_FOUND, "No such session.");
    }

    return rc;
}


inbox_status_t
inbox_mongo_session_touch(inbox_store_t *store, const char *session_hash,
    const inbox_session_t *session, inbox_error_t *err)
{
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    return inbox_mongo_run_simple(ms,
        BCON_NEW("update", BCON_UTF8("sessions"),
                 "updates", "[", "{",
                     "q", "{", "session_hash", BCON_UTF8(session_hash), "}",
                     "u", "{", "$set", "{",
                         "last_seen_at",
                         BCON_DATE_TIME(session->last_seen_at),
                         "expires_at", BCON_DATE_TIME(session->expires_at),
                     "}", "}",
                 "}", "]",
                 "ordered", BCON_BOOL(true)),
        err);
}


/*
 * Deletes the session, then appends its session.ended: a ticket asked
 * for between the two either finds no session (401) or was issued at a
 * position below the event's, which ws-server refuses.
 */
inbox_status_t
inbox_mongo_session_delete(inbox_store_t *store, const char *session_hash,
    inbox_event_list_t *events, inbox_error_t *err)
{
    int                   found;
    char                  id[INBOX_ID_MAX];
    bson_t                value;
    bson_oid_t            org;
    bson_iter_t           iter;
    inbox_status_t        rc;
    inbox_change_t        change;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_run_find_and_modify(ms,
        BCON_NEW("findAndModify", BCON_UTF8("sessions"),
                 "query", "{",
                     "session_hash",
                     BCON_UTF8(session_hash ? session_hash : ""),
                 "}",
                 "remove", BCON_BOOL(true),
                 "fields", "{", "org_id", BCON_INT32(1), "}"),
        &value, &found, err);

    if (rc == INBOX_OK && found) {
        inbox_mongo_get_id(&value, "_id", id);
        found = id[0] != '\0'
                && bson_iter_init_find(&iter, &value, "org_id")
                && BSON_ITER_HOLDS_OID(&iter);
        if (found) {
            bson_oid_copy(bson_iter_oid(&iter), &org);
        }
    }

    bson_destroy(&value);

    /* no such session: nothing ended, nothing to push */
    if (rc != INBOX_OK || !found) {
        return rc;
    }

    /* the sockets it opened close on it (ws-server) */
    inbox_change_session(&change, id);

    return inbox_mongo_events_append(ms, &org, &change, events, err);
}


inbox_status_t
inbox_mongo_sessions_purge(inbox_store_t *store, int64_t now,
    size_t *removed, inbox_error_t *err)
{
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    *removed = 0;

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    return inbox_mongo_delete(ms, "sessions",
                              BCON_NEW("expires_at", "{",
                                           "$lte", BCON_DATE_TIME(now),
                                       "}"),
                              removed, err);
}
