/*
 * The MongoDB backend: organizations, numbers, tokens, credits and billing
 * (the admin operations behind inboxctl).
 */
#include <ctype.h>
#include <string.h>
#include <inbox/token.h>
#include "store_mongo.h"


static inbox_status_t inbox_mongo_org_update(inbox_store_t *store,
    const char *org_id, bson_t *update, inbox_error_t *err);
static void inbox_mongo_append_opt(bson_t *doc, const char *key,
    const char *value);
static inbox_status_t inbox_mongo_token_user_stays(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const bson_oid_t *user_oid, const char *email,
    const bson_oid_t *token, inbox_error_t *err);
static inbox_status_t inbox_mongo_org_add(void *list, const bson_t *doc,
    inbox_error_t *err);


/* Checks that org_id names a stored organization. */
inbox_status_t
inbox_mongo_org_check(inbox_mongo_store_t *ms, const char *org_id,
    bson_oid_t *org, inbox_error_t *err)
{
    int             found;
    bson_t          doc;
    inbox_status_t  rc;

    if (inbox_mongo_parse_id(org_id, org) != 0) {
        return inbox_error_org_unknown(err, org_id);
    }

    rc = inbox_mongo_find_one(ms, "orgs", BCON_NEW("_id", BCON_OID(org)),
                              BCON_NEW("_id", BCON_INT32(1)), &doc, &found,
                              err);
    bson_destroy(&doc);

    if (rc == INBOX_OK && !found) {
        return inbox_error_org_unknown(err, org_id);
    }

    return rc;
}


inbox_status_t
inbox_mongo_org_create(inbox_store_t *store, const char *name,
    const char *timezone, char id[INBOX_ID_MAX], inbox_error_t *err)
{
    int64_t               now;
    bson_oid_t            oid;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;
    char                  epoch[INBOX_EPOCH_MAX];

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    inbox_mongo_new_id(ms, &oid);
    /* the epoch names this event stream */
    inbox_mongo_new_epoch(ms, epoch);
    now = inbox_mongo_now(ms);

    rc = inbox_mongo_run_simple(ms,
        BCON_NEW("insert", BCON_UTF8("orgs"),
                 "documents", "[", "{",
                     "_id", BCON_OID(&oid),
                     "name", BCON_UTF8(name),
                     "timezone", BCON_UTF8(timezone ? timezone : "UTC"),
                     "seq", BCON_INT64(0),
                     "epoch", BCON_UTF8(epoch),
                     "billing_active", BCON_BOOL(true),
                     "credits", "{",
                         "balance", BCON_INT64(0),
                         "held", BCON_INT64(0),
                     "}",
                     "created_at", BCON_DATE_TIME(now),
                 "}", "]",
                 "ordered", BCON_BOOL(true)),
        err);

    if (rc == INBOX_OK) {
        inbox_mongo_id_hex(&oid, id);
    }

    return rc;
}


inbox_status_t
inbox_mongo_org_find_by_name(inbox_store_t *store, const char *name,
    char id[INBOX_ID_MAX], inbox_error_t *err)
{
    int                   found;
    bson_t                batch;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    /* Names need not be unique: the oldest organization wins. */
    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("find", BCON_UTF8("orgs"),
                 "filter", "{", "name", BCON_UTF8(name), "}",
                 "projection", "{", "_id", BCON_INT32(1), "}",
                 "sort", "{", "_id", BCON_INT32(1), "}",
                 "limit", BCON_INT32(1),
                 "singleBatch", BCON_BOOL(true)),
        &batch, err);

    if (rc == INBOX_OK) {
        inbox_mongo_get_id(&batch, "0._id", id);
        found = id[0] != '\0';
        if (!found) {
            rc = inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                                 "No organization is named \"%s\".", name);
        }
    }

    bson_destroy(&batch);

    return rc;
}


void
inbox_mongo_org_read(const bson_t *doc, inbox_org_t *org)
{
    inbox_mongo_get_id(doc, "_id", org->id);
    org->name = inbox_mongo_dup_str(doc, "name");
    inbox_mongo_get_str(doc, "timezone", org->timezone,
                        sizeof(org->timezone));
    org->created_at = inbox_mongo_get_date(doc, "created_at");
}


static inbox_status_t
inbox_mongo_org_add(void *data, const bson_t *doc, inbox_error_t *err)
{
    inbox_org_t       *org;
    inbox_org_list_t  *list = data;

    if (list->count == INBOX_ACCOUNT_LIST_MAX) {
        list->truncated = 1;
        return INBOX_OK;
    }

    org = inbox_org_list_add(list);
    if (org == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    inbox_mongo_org_read(doc, org);

    if (org->name == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    return INBOX_OK;
}


inbox_status_t
inbox_mongo_orgs_list(inbox_store_t *store, inbox_org_list_t *list,
    inbox_error_t *err)
{
    bson_t                batch;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    /* oldest first (ObjectIds grow with time); one more than a listing
     * holds tells that there are more */
    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("find", BCON_UTF8("orgs"),
                 "filter", "{", "}",
                 "projection", "{",
                     "name", BCON_INT32(1),
                     "timezone", BCON_INT32(1),
                     "created_at", BCON_INT32(1),
                 "}",
                 "sort", "{", "_id", BCON_INT32(1), "}",
                 "limit", BCON_INT32(INBOX_ACCOUNT_LIST_MAX + 1),
                 "batchSize", BCON_INT32(INBOX_ACCOUNT_LIST_MAX + 1),
                 "singleBatch", BCON_BOOL(true)),
        &batch, err);

    if (rc == INBOX_OK) {
        rc = inbox_mongo_batch_each(&batch, inbox_mongo_org_add, list, err);
    }

    bson_destroy(&batch);

    if (rc != INBOX_OK) {
        inbox_org_list_free(list);
    }

    return rc;
}


static void
inbox_mongo_append_opt(bson_t *doc, const char *key, const char *value)
{
    /* Absent rather than null, so a reader finds NULL either way. */
    if (value != NULL) {
        bson_append_utf8(doc, key, -1, value, -1);
    }
}


inbox_status_t
inbox_mongo_number_add(inbox_store_t *store, const inbox_number_t *number,
    inbox_error_t *err)
{
    bson_t                doc;
    bson_t               *command;
    bson_oid_t            oid, org;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_org_check(ms, number->org_id, &org, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    inbox_mongo_new_id(ms, &oid);

    bson_init(&doc);
    BSON_APPEND_OID(&doc, "_id", &oid);
    BSON_APPEND_OID(&doc, "org_id", &org);
    BSON_APPEND_UTF8(&doc, "e164", number->e164);
    BSON_APPEND_UTF8(&doc, "carrier", inbox_carrier_name(number->carrier));
    inbox_mongo_append_opt(&doc, "account_sid", number->account_sid);
    inbox_mongo_append_opt(&doc, "auth_token", number->auth_token);
    inbox_mongo_append_opt(&doc, "public_key", number->public_key);
    inbox_mongo_append_opt(&doc, "api_key", number->api_key);
    inbox_mongo_append_opt(&doc, "api_base", number->api_base);
    BSON_APPEND_BOOL(&doc, "carrier_answers_keywords",
                     number->carrier_answers_keywords != 0);
    BSON_APPEND_DATE_TIME(&doc, "created_at", inbox_mongo_now(ms));

    command = BCON_NEW("insert", BCON_UTF8("numbers"),
                       "documents", "[", BCON_DOCUMENT(&doc), "]",
                       "ordered", BCON_BOOL(true));
    bson_destroy(&doc);

    rc = inbox_mongo_run_simple(ms, command, err);

    if (rc == INBOX_ERR_CONFLICT) {
        return inbox_error_set(err, INBOX_ERR_CONFLICT,
                               "The number %s already belongs to an "
                               "organization.", number->e164);
    }

    return rc;
}


inbox_status_t
inbox_mongo_number_update(inbox_store_t *store, const inbox_number_t *number,
    inbox_error_t *err)
{
    bson_t                set, unset, update, reply;
    bson_t               *command;
    bson_oid_t            org;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    static const char  *fields[] = {
        "account_sid", "auth_token", "public_key", "api_key", "api_base"
    };
    const char         *values[5];
    size_t              i;

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_org_check(ms, number->org_id, &org, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    values[0] = number->account_sid;
    values[1] = number->auth_token;
    values[2] = number->public_key;
    values[3] = number->api_key;
    values[4] = number->api_base;

    /* what the number no longer has is removed, as number_add leaves it
     * out */
    bson_init(&set);
    bson_init(&unset);
    BSON_APPEND_UTF8(&set, "carrier", inbox_carrier_name(number->carrier));
    for (i = 0; i < 5; i++) {
        if (values[i] != NULL) {
            BSON_APPEND_UTF8(&set, fields[i], values[i]);
        } else {
            BSON_APPEND_UTF8(&unset, fields[i], "");
        }
    }
    BSON_APPEND_BOOL(&set, "carrier_answers_keywords",
                     number->carrier_answers_keywords != 0);

    bson_init(&update);
    BSON_APPEND_DOCUMENT(&update, "$set", &set);
    if (!bson_empty(&unset)) {
        BSON_APPEND_DOCUMENT(&update, "$unset", &unset);
    }

    command = BCON_NEW("update", BCON_UTF8("numbers"),
                       "updates", "[", "{",
                           "q", "{", "e164", BCON_UTF8(number->e164),
                                     "org_id", BCON_OID(&org), "}",
                           "u", BCON_DOCUMENT(&update),
                       "}", "]",
                       "ordered", BCON_BOOL(true));
    bson_destroy(&set);
    bson_destroy(&unset);
    bson_destroy(&update);

    rc = inbox_mongo_run(ms, command, &reply, err);

    /* n counts the matched documents */
    if (rc == INBOX_OK && inbox_mongo_get_int(&reply, "n") == 0) {
        rc = inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                             "The organization has no number %s.",
                             number->e164);
    }

    bson_destroy(&reply);
    bson_destroy(command);

    return rc;
}


inbox_status_t
inbox_mongo_number_find(inbox_store_t *store, const char *e164,
    inbox_number_t *number, inbox_error_t *err)
{
    int                   found;
    bson_t                doc;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    memset(number, 0, sizeof(inbox_number_t));

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_find_one(ms, "numbers",
                              BCON_NEW("e164", BCON_UTF8(e164)), NULL,
                              &doc, &found, err);

    if (rc == INBOX_OK) {
        if (found) {
            rc = inbox_mongo_parse_number(&doc, number, err);
        } else {
            rc = inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                                 "No organization owns the number %s.", e164);
        }
    }

    bson_destroy(&doc);

    return rc;
}


inbox_status_t
inbox_mongo_number_remove(inbox_store_t *store, const char *org_id,
    const char *e164, int64_t *waiting, inbox_error_t *err)
{
    bson_t                reply;
    bson_t               *command;
    size_t                removed;
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

    /* what waits to go from it (the outbox is short: the replies and
     * each campaign's share); a reply queued between the count and the
     * delete is refused "number_removed", as SQLite's cannot be */
    command = BCON_NEW("count", BCON_UTF8("outbox"),
                       "query", "{",
                           "org_id", BCON_OID(&org),
                           "from", BCON_UTF8(e164),
                       "}");
    rc = inbox_mongo_run(ms, command, &reply, err);
    if (rc == INBOX_OK) {
        *waiting = inbox_mongo_get_int(&reply, "n");
    }
    bson_destroy(&reply);
    bson_destroy(command);

    if (rc != INBOX_OK) {
        return rc;
    }

    if (*waiting > 0) {
        return inbox_error_number_busy(err, e164, *waiting);
    }

    rc = inbox_mongo_delete(ms, "numbers",
                            BCON_NEW("e164", BCON_UTF8(e164),
                                     "org_id", BCON_OID(&org)),
                            &removed, err);

    if (rc == INBOX_OK && removed == 0) {
        rc = inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                             "The organization has no number %s.", e164);
    }

    return rc;
}


static inbox_status_t
inbox_mongo_number_add_to(void *data, const bson_t *doc, inbox_error_t *err)
{
    inbox_number_t       *number;
    inbox_number_list_t  *list = data;

    if (list->count == INBOX_ACCOUNT_LIST_MAX) {
        list->truncated = 1;
        return INBOX_OK;
    }

    number = inbox_number_list_add(list);
    if (number == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    return inbox_mongo_parse_number(doc, number, err);
}


inbox_status_t
inbox_mongo_numbers_list(inbox_store_t *store, const char *org_id,
    inbox_number_list_t *list, inbox_error_t *err)
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

    /* in the order they were added (index org_id); one more than a
     * listing holds tells that there are more */
    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("find", BCON_UTF8("numbers"),
                 "filter", "{", "org_id", BCON_OID(&org), "}",
                 "sort", "{", "_id", BCON_INT32(1), "}",
                 "limit", BCON_INT32(INBOX_ACCOUNT_LIST_MAX + 1),
                 "batchSize", BCON_INT32(INBOX_ACCOUNT_LIST_MAX + 1),
                 "singleBatch", BCON_BOOL(true)),
        &batch, err);

    if (rc == INBOX_OK) {
        rc = inbox_mongo_batch_each(&batch, inbox_mongo_number_add_to, list,
                                    err);
    }

    bson_destroy(&batch);

    if (rc != INBOX_OK) {
        inbox_number_list_free(list);
    }

    return rc;
}


inbox_status_t
inbox_mongo_token_add(inbox_store_t *store, const char *org_id,
    const char *user_email, const char *token_hash, const char *name,
    int64_t expires_at, char id[INBOX_ID_MAX], inbox_error_t *err)
{
    int                   found, has_user;
    char                 *lower;
    bson_t                user, doc;
    bson_t               *command;
    size_t                i;
    bson_oid_t            oid, org, user_oid;
    bson_iter_t           iter;
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

    has_user = 0;
    inbox_mongo_new_id(ms, &oid);

    bson_init(&doc);
    BSON_APPEND_OID(&doc, "_id", &oid);
    BSON_APPEND_UTF8(&doc, "token_hash", token_hash);
    BSON_APPEND_OID(&doc, "org_id", &org);

    if (user_email != NULL && user_email[0] != '\0') {
        lower = strdup(user_email);
        if (lower == NULL) {
            bson_destroy(&doc);
            return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        }

        for (i = 0; lower[i]; i++) {
            lower[i] = (char) tolower((unsigned char) lower[i]);
        }

        rc = inbox_mongo_find_one(ms, "users",
                                  BCON_NEW("org_id", BCON_OID(&org),
                                           "email", BCON_UTF8(lower),
                                           INBOX_MONGO_USER_ACTIVE),
                                  BCON_NEW("_id", BCON_INT32(1)),
                                  &user, &found, err);

        if (rc == INBOX_OK && found
            && bson_iter_init_find(&iter, &user, "_id")
            && BSON_ITER_HOLDS_OID(&iter))
        {
            bson_oid_copy(bson_iter_oid(&iter), &user_oid);
            BSON_APPEND_OID(&doc, "user_id", &user_oid);
            has_user = 1;

        } else if (rc == INBOX_OK) {
            rc = inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                                 "No user %s in that organization.", lower);
        }

        bson_destroy(&user);
        free(lower);

        if (rc != INBOX_OK) {
            bson_destroy(&doc);
            return rc;
        }

    } else {
        BSON_APPEND_NULL(&doc, "user_id");
    }

    /* null rather than absent: "none", "never" and "not revoked" */
    if (name != NULL) {
        BSON_APPEND_UTF8(&doc, "name", name);
    } else {
        BSON_APPEND_NULL(&doc, "name");
    }

    BSON_APPEND_DATE_TIME(&doc, "created_at", inbox_mongo_now(ms));

    if (expires_at != 0) {
        BSON_APPEND_DATE_TIME(&doc, "expires_at", expires_at);
    } else {
        BSON_APPEND_NULL(&doc, "expires_at");
    }

    BSON_APPEND_NULL(&doc, "revoked_at");

    command = BCON_NEW("insert", BCON_UTF8("tokens"),
                       "documents", "[", BCON_DOCUMENT(&doc), "]",
                       "ordered", BCON_BOOL(true));
    bson_destroy(&doc);

    rc = inbox_mongo_run_simple(ms, command, err);

    if (rc == INBOX_OK && has_user) {
        rc = inbox_mongo_token_user_stays(ms, &org, &user_oid, user_email,
                                          &oid, err);
    }

    if (rc == INBOX_OK) {
        inbox_mongo_id_hex(&oid, id);
    }

    return rc;
}


/*
 * A user removed between token_add's check and its insert had their
 * tokens revoked before this one existed: it is taken back, so that it
 * does not work again if they rejoin.  A removal after this read finds
 * the token and revokes it.
 */
static inbox_status_t
inbox_mongo_token_user_stays(inbox_mongo_store_t *ms, const bson_oid_t *org,
    const bson_oid_t *user_oid, const char *email, const bson_oid_t *token,
    inbox_error_t *err)
{
    int             found;
    bson_t          user;
    inbox_status_t  rc;

    rc = inbox_mongo_find_one(ms, "users",
                              BCON_NEW("_id", BCON_OID(user_oid),
                                       "org_id", BCON_OID(org),
                                       INBOX_MONGO_USER_ACTIVE),
                              BCON_NEW("_id", BCON_INT32(1)),
                              &user, &found, err);
    bson_destroy(&user);

    if (rc != INBOX_OK || found) {
        return rc;
    }

    rc = inbox_mongo_delete(ms, "tokens", BCON_NEW("_id", BCON_OID(token)),
                            NULL, err);

    return rc != INBOX_OK ? rc
                          : inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                                            "No user %s in that "
                                            "organization.", email);
}


inbox_status_t
inbox_mongo_token_find(inbox_store_t *store, const char *token_hash,
    inbox_principal_t *principal, inbox_token_t *token_info,
    inbox_error_t *err)
{
    int                   found;
    char                  role[16];
    bson_t                token, user;
    bson_oid_t            org, user_oid;
    bson_iter_t           iter;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    memset(principal, 0, sizeof(inbox_principal_t));

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_find_one(ms, "tokens",
                              BCON_NEW("token_hash", BCON_UTF8(token_hash)),
                              BCON_NEW("org_id", BCON_INT32(1),
                                       "user_id", BCON_INT32(1),
                                       "created_at", BCON_INT32(1),
                                       "expires_at", BCON_INT32(1),
                                       "revoked_at", BCON_INT32(1)),
                              &token, &found, err);

    if (rc != INBOX_OK || !found) {
        bson_destroy(&token);
        return rc != INBOX_OK ? rc : inbox_token_unknown(err);
    }

    inbox_mongo_get_id(&token, "org_id", principal->org_id);

    /* null or absent reads as 0: never expires, not revoked */
    inbox_mongo_get_id(&token, "_id", token_info->id);
    token_info->created_at = inbox_mongo_get_date(&token, "created_at");
    token_info->expires_at = inbox_mongo_get_date(&token, "expires_at");
    token_info->revoked_at = inbox_mongo_get_date(&token, "revoked_at");

    /* An organization-wide token acts as a member: the least that lets it
     * work the inbox. */
    principal->role = INBOX_ROLE_MEMBER;

    if (!bson_iter_init_find(&iter, &token, "user_id")
        || !BSON_ITER_HOLDS_OID(&iter)
        || inbox_mongo_parse_id(principal->org_id, &org) != 0)
    {
        bson_destroy(&token);
        return INBOX_OK;
    }

    bson_oid_copy(bson_iter_oid(&iter), &user_oid);
    bson_destroy(&token);

    /* The role is read now, not copied into the token, so a changed role
     * takes effect at once, and a removal too. */
    rc = inbox_mongo_find_one(ms, "users",
                              BCON_NEW("_id", BCON_OID(&user_oid),
                                       "org_id", BCON_OID(&org),
                                       INBOX_MONGO_USER_ACTIVE),
                              BCON_NEW("role", BCON_INT32(1)),
                              &user, &found, err);

    if (rc == INBOX_OK && !found) {
        rc = inbox_token_user_gone(err);
    }

    if (rc == INBOX_OK) {
        inbox_mongo_get_id(&user, "_id", principal->user_id);
        inbox_mongo_get_str(&user, "role", role, sizeof(role));
        if (strcmp(role, inbox_role_name(INBOX_ROLE_BILLING)) == 0) {
            principal->role = INBOX_ROLE_BILLING;
        }
    }

    bson_destroy(&user);

    return rc;
}


inbox_status_t
inbox_mongo_tokens_list(inbox_store_t *store, const char *org_id,
    inbox_token_list_t *list, inbox_error_t *err)
{
    bson_t                batch, doc;
    bson_oid_t            org;
    bson_iter_t           iter;
    inbox_token_t        *token;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    memset(list, 0, sizeof(inbox_token_list_t));

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_org_check(ms, org_id, &org, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    /* Oldest first (ObjectIds grow with time), each with its user's
     * email; one more than a listing holds tells that there are more. */
    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("aggregate", BCON_UTF8("tokens"),
                 "pipeline", "[",
                     "{", "$match", "{", "org_id", BCON_OID(&org), "}", "}",
                     "{", "$sort", "{", "_id", BCON_INT32(1), "}", "}",
                     "{", "$limit", BCON_INT32(INBOX_TOKEN_LIST_MAX + 1),
                     "}",
                     "{", "$lookup", "{",
                         "from", BCON_UTF8("users"),
                         "localField", BCON_UTF8("user_id"),
                         "foreignField", BCON_UTF8("_id"),
                         "as", BCON_UTF8("user"),
                     "}", "}",
                     "{", "$project", "{",
                         "name", BCON_INT32(1),
                         "created_at", BCON_INT32(1),
                         "expires_at", BCON_INT32(1),
                         "revoked_at", BCON_INT32(1),
                         "user.email", BCON_INT32(1),
                     "}", "}",
                 "]",
                 "cursor", "{",
                     "batchSize", BCON_INT32(INBOX_TOKEN_LIST_MAX + 1),
                 "}"),
        &batch, err);

    if (rc == INBOX_OK && bson_iter_init(&iter, &batch)) {
        while (inbox_mongo_next_doc(&iter, &doc)) {

            if (list->count == INBOX_TOKEN_LIST_MAX) {
                list->truncated = 1;
                break;
            }

            token = inbox_token_list_add(list);
            if (token == NULL) {
                rc = inbox_error_set(err, INBOX_ERR_INTERNAL,
                                     "Out of memory.");
                break;
            }

            inbox_mongo_get_id(&doc, "_id", token->id);
            inbox_mongo_get_str(&doc, "name", token->name,
                                sizeof(token->name));
            inbox_mongo_get_str(&doc, "user.0.email", token->user_email,
                                sizeof(token->user_email));
            token->created_at = inbox_mongo_get_date(&doc, "created_at");
            token->expires_at = inbox_mongo_get_date(&doc, "expires_at");
            token->revoked_at = inbox_mongo_get_date(&doc, "revoked_at");
        }
    }

    bson_destroy(&batch);

    if (rc != INBOX_OK) {
        inbox_token_list_free(list);
    }

    return rc;
}


/*
 * Sets revoked_at on a token that has none; when nothing matched, the
 * token is looked for again to tell "revoked already" (fine) from "no such
 * token" (and then the organization, for the message).
 */
inbox_status_t
inbox_mongo_token_revoke(inbox_store_t *store, const char *org_id,
    const char *token_id, const char *token_hash, char id[INBOX_ID_MAX],
    inbox_event_list_t *events, inbox_error_t *err)
{
    int                   found;
    bson_t                value, query;
    bson_t               *command;
    bson_oid_t            org, token;
    inbox_status_t        rc;
    inbox_change_t        change;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    id[0] = '\0';

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    if (inbox_mongo_parse_id(org_id, &org) != 0) {
        return inbox_error_org_unknown(err, org_id);
    }

    if (token_id != NULL && inbox_mongo_parse_id(token_id, &token) != 0) {
        goto not_found;
    }

    /* The token, of this organization, not revoked yet. */
    bson_init(&query);
    BSON_APPEND_OID(&query, "org_id", &org);

    if (token_id != NULL) {
        BSON_APPEND_OID(&query, "_id", &token);
    } else {
        BSON_APPEND_UTF8(&query, "token_hash", token_hash);
    }

    BSON_APPEND_NULL(&query, "revoked_at");

    command = BCON_NEW("findAndModify", BCON_UTF8("tokens"),
                       "query", BCON_DOCUMENT(&query),
                       "update", "{",
                           "$set", "{",
                               "revoked_at",
                               BCON_DATE_TIME(inbox_mongo_now(ms)),
                           "}",
                       "}",
                       "fields", "{", "_id", BCON_INT32(1), "}",
                       "new", BCON_BOOL(true));
    bson_destroy(&query);

    rc = inbox_mongo_run_find_and_modify(ms, command, &value, &found, err);

    if (rc == INBOX_OK && found) {
        inbox_mongo_get_id(&value, "_id", id);
    }

    bson_destroy(&value);

    if (rc != INBOX_OK) {
        return rc;
    }

    if (found) {
        /* the sockets it opened close on it (ws-server) */
        inbox_change_token(&change, id);
        return inbox_mongo_events_append(ms, &org, &change, events, err);
    }

    /* Revoked already? */
    rc = inbox_mongo_find_one(ms, "tokens",
                              token_id != NULL
                              ? BCON_NEW("org_id", BCON_OID(&org),
                                         "_id", BCON_OID(&token))
                              : BCON_NEW("org_id", BCON_OID(&org),
                                         "token_hash", BCON_UTF8(token_hash)),
                              BCON_NEW("_id", BCON_INT32(1)),
                              &value, &found, err);

    if (rc == INBOX_OK && found) {
        inbox_mongo_get_id(&value, "_id", id);
    }

    bson_destroy(&value);

    if (rc != INBOX_OK || found) {
        return rc;
    }

not_found:

    rc = inbox_mongo_org_check(ms, org_id, &org, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    if (token_id != NULL) {
        return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                               "Organization %s has no token with the id "
                               "\"%.32s\".", org_id, token_id);
    }

    return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                           "Organization %s has no such token.", org_id);
}


/* Applies update (taken over) to the organization org_id names. */
static inbox_status_t
inbox_mongo_org_update(inbox_store_t *store, const char *org_id,
    bson_t *update, inbox_error_t *err)
{
    bson_t                reply;
    bson_t               *command;
    bson_oid_t            org;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    rc = inbox_mongo_ensure_indexes(ms, err);

    if (rc == INBOX_OK && inbox_mongo_parse_id(org_id, &org) != 0) {
        rc = inbox_error_org_unknown(err, org_id);
    }

    if (rc != INBOX_OK) {
        bson_destroy(update);
        return rc;
    }

    command = BCON_NEW("update", BCON_UTF8("orgs"),
                       "updates", "[", "{",
                           "q", "{", "_id", BCON_OID(&org), "}",
                           "u", BCON_DOCUMENT(update),
                       "}", "]",
                       "ordered", BCON_BOOL(true));
    bson_destroy(update);

    rc = inbox_mongo_run(ms, command, &reply, err);

    /* n counts the matched documents. */
    if (rc == INBOX_OK && inbox_mongo_get_int(&reply, "n") == 0) {
        rc = inbox_error_org_unknown(err, org_id);
    }

    bson_destroy(&reply);
    bson_destroy(command);

    return rc;
}


/* The balance, then its ledger entry (store_mongo_billing.c). */
inbox_status_t
inbox_mongo_credits_grant(inbox_store_t *store, const char *org_id,
    int64_t credits, inbox_error_t *err)
{
    bson_oid_t            org;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    if (inbox_mongo_parse_id(org_id, &org) != 0) {
        return inbox_error_org_unknown(err, org_id);
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_credits_move(ms, &org, INBOX_LEDGER_GRANT, credits,
                                  NULL, inbox_mongo_now(ms), NULL, err);

    /* the move says "no such organization"; inboxctl names the id, as
     * SQLite's backend does */
    if (rc == INBOX_ERR_NOT_FOUND) {
        return inbox_error_org_unknown(err, org_id);
    }

    if (rc != INBOX_OK) {
        return rc;
    }

    return inbox_mongo_billing_changed(ms, &org, err);
}


/*
 * Billing active again makes due the campaign messages claims parked
 * while it was not (inbox_outbox_billing), after the organization is
 * written: a claim that read it inactive and parks later finds it active
 * when it looks again (inbox_mongo_outbox_billing_recheck).
 */
inbox_status_t
inbox_mongo_billing_set(inbox_store_t *store, const char *org_id,
    int active, inbox_error_t *err)
{
    bson_oid_t            org;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    rc = inbox_mongo_org_update(store, org_id,
        BCON_NEW("$set", "{", "billing_active", BCON_BOOL(active != 0), "}"),
        err);

    if (rc != INBOX_OK || inbox_mongo_parse_id(org_id, &org) != 0) {
        return rc;
    }

    if (active) {
        rc = inbox_mongo_outbox_unpark_org(ms, &org, inbox_mongo_now(ms),
                                           err);
        if (rc != INBOX_OK) {
            return rc;
        }
    }

    return inbox_mongo_billing_changed(ms, &org, err);
}


inbox_status_t
inbox_mongo_plan_set(inbox_store_t *store, const char *org_id,
    inbox_plan_t plan, inbox_error_t *err)
{
    bson_oid_t            org;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    rc = inbox_mongo_org_update(store, org_id,
        BCON_NEW("$set", "{", "plan", BCON_UTF8(inbox_plan_name(plan)), "}"),
        err);

    if (rc != INBOX_OK || inbox_mongo_parse_id(org_id, &org) != 0) {
        return rc;
    }

    return inbox_mongo_billing_changed(ms, &org, err);
}
