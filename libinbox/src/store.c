/*
 * The store front: opens the backend a URI names and forwards each
 * operation to it (see store_backend.h).
 */
#include <string.h>
#include <inbox/clock.h>
#include <inbox/store.h>
#include "store_backend.h"


static inbox_store_t *inbox_store_open_uri(const char *uri, int create,
    inbox_error_t *err);
static inbox_status_t inbox_store_unsupported(inbox_store_t *store,
    const char *operation, inbox_error_t *err);


inbox_store_t *
inbox_store_open(const char *uri, inbox_error_t *err)
{
    return inbox_store_open_uri(uri, 0, err);
}


inbox_store_t *
inbox_store_create(const char *uri, inbox_error_t *err)
{
    return inbox_store_open_uri(uri, 1, err);
}


static inbox_store_t *
inbox_store_open_uri(const char *uri, int create, inbox_error_t *err)
{
    if (uri == NULL || uri[0] == '\0') {
        inbox_error_set(err, INBOX_ERR_INVALID,
                        "no store URI; use sqlite:PATH or mongodb://...");
        return NULL;
    }

    if (strncmp(uri, "sqlite:", sizeof("sqlite:") - 1) == 0) {
        if (uri[sizeof("sqlite:") - 1] == '\0') {
            inbox_error_set(err, INBOX_ERR_INVALID,
                            "the store URI \"%s\" names no file; "
                            "use sqlite:PATH", uri);
            return NULL;
        }

        return inbox_store_sqlite_open(uri + sizeof("sqlite:") - 1, create,
                                        err);
    }

    if (strncmp(uri, "mongodb://", sizeof("mongodb://") - 1) == 0
        || strncmp(uri, "mongodb+srv://", sizeof("mongodb+srv://") - 1) == 0)
    {
        return inbox_store_mongo_open(uri, create, err);
    }

    inbox_error_set(err, INBOX_ERR_INVALID,
                    "unknown store URI \"%.64s\"; use sqlite:PATH or "
                    "mongodb://...", uri);

    return NULL;
}


void
inbox_store_close(inbox_store_t *store)
{
    if (store != NULL) {
        store->ops->close(store);
    }
}


const char *
inbox_store_backend(const inbox_store_t *store)
{
    return store->ops->name;
}


inbox_status_t
inbox_store_ping(inbox_store_t *store, inbox_error_t *err)
{
    if (store->ops->ping == NULL) {
        return inbox_store_unsupported(store, "ping", err);
    }

    return store->ops->ping(store, err);
}


inbox_status_t
inbox_store_maintain(inbox_store_t *store, inbox_error_t *err)
{
    if (store->ops->maintain == NULL) {
        return INBOX_OK;
    }

    return store->ops->maintain(store, err);
}


inbox_status_t
inbox_store_org_create(inbox_store_t *store, const char *name,
    const char *timezone, char id[INBOX_ID_MAX], inbox_error_t *err)
{
    if (store->ops->org_create == NULL) {
        return inbox_store_unsupported(store, "org_create", err);
    }

    return store->ops->org_create(store, name, timezone, id, err);
}


inbox_status_t
inbox_store_org_find_by_name(inbox_store_t *store, const char *name,
    char id[INBOX_ID_MAX], inbox_error_t *err)
{
    if (store->ops->org_find_by_name == NULL) {
        return inbox_store_unsupported(store, "org_find_by_name", err);
    }

    return store->ops->org_find_by_name(store, name, id, err);
}


inbox_status_t
inbox_store_number_add(inbox_store_t *store, const inbox_number_t *number,
    inbox_error_t *err)
{
    if (store->ops->number_add == NULL) {
        return inbox_store_unsupported(store, "number_add", err);
    }

    return store->ops->number_add(store, number, err);
}


inbox_status_t
inbox_store_number_find(inbox_store_t *store, const char *e164,
    inbox_number_t *number, inbox_error_t *err)
{
    if (store->ops->number_find == NULL) {
        return inbox_store_unsupported(store, "number_find", err);
    }

    return store->ops->number_find(store, e164, number, err);
}


inbox_status_t
inbox_store_user_add(inbox_store_t *store, const char *org_id,
    const char *email, inbox_role_t role, const char *password_hash,
    char id[INBOX_ID_MAX], inbox_error_t *err)
{
    char  normalized[INBOX_EMAIL_MAX];

    if (store->ops->user_add == NULL) {
        return inbox_store_unsupported(store, "user_add", err);
    }

    /* stored as it is looked up (account.h), the same in every backend */
    if (inbox_email_normalize(email, normalized, sizeof(normalized)) != 0) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "email",
                                     "A user needs an email address.");
    }

    return store->ops->user_add(store, org_id, normalized, role,
                                password_hash, id, err);
}


inbox_status_t
inbox_store_token_add(inbox_store_t *store, const char *org_id,
    const char *user_email, const char *token_hash, const char *name,
    int64_t expires_at, char id[INBOX_ID_MAX], inbox_error_t *err)
{
    char  unused[INBOX_ID_MAX];

    if (store->ops->token_add == NULL) {
        return inbox_store_unsupported(store, "token_add", err);
    }

    if (name != NULL && name[0] != '\0' && !inbox_token_name_valid(name)) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "name",
                                     "a token's name is 1 to 64 letters, "
                                     "digits or punctuation marks, without "
                                     "spaces");
    }

    if (expires_at < 0 || (expires_at != 0 && expires_at <= inbox_now_ms()))
    {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "expires_at",
                                     "a token's expiry must be in the "
                                     "future");
    }

    return store->ops->token_add(store, org_id, user_email, token_hash,
                                 name && name[0] ? name : NULL, expires_at,
                                 id ? id : unused, err);
}


/* The backend reads the token; whether it still counts is decided here,
 * the same way for every backend. */
inbox_status_t
inbox_store_token_find(inbox_store_t *store, const char *token_hash,
    inbox_principal_t *principal, inbox_error_t *err)
{
    inbox_token_t   token;
    inbox_status_t  rc;

    if (store->ops->token_find == NULL) {
        return inbox_store_unsupported(store, "token_find", err);
    }

    memset(&token, 0, sizeof(inbox_token_t));

    rc = store->ops->token_find(store, token_hash, principal, &token, err);

    if (rc == INBOX_OK) {
        rc = inbox_token_check(token.expires_at, token.revoked_at,
                               inbox_now_ms(), err);
    }

    if (rc != INBOX_OK) {
        memset(principal, 0, sizeof(inbox_principal_t));
    }

    return rc;
}


inbox_status_t
inbox_store_tokens_list(inbox_store_t *store, const char *org_id,
    inbox_token_list_t *list, inbox_error_t *err)
{
    memset(list, 0, sizeof(inbox_token_list_t));

    if (store->ops->tokens_list == NULL) {
        return inbox_store_unsupported(store, "tokens_list", err);
    }

    return store->ops->tokens_list(store, org_id, list, err);
}


inbox_status_t
inbox_store_token_revoke(inbox_store_t *store, const char *org_id,
    const char *token_id, const char *token_hash, char id[INBOX_ID_MAX],
    inbox_error_t *err)
{
    char  unused[INBOX_ID_MAX];

    if (store->ops->token_revoke == NULL) {
        return inbox_store_unsupported(store, "token_revoke", err);
    }

    if ((token_id == NULL || token_id[0] == '\0')
        && (token_hash == NULL || token_hash[0] == '\0'))
    {
        return inbox_error_set(err, INBOX_ERR_INVALID,
                               "name the token to revoke by its id");
    }

    return store->ops->token_revoke(store, org_id,
                                    token_id && token_id[0] ? token_id : NULL,
                                    token_hash, id ? id : unused, err);
}


inbox_status_t
inbox_store_credits_grant(inbox_store_t *store, const char *org_id,
    int64_t credits, inbox_error_t *err)
{
    if (store->ops->credits_grant == NULL) {
        return inbox_store_unsupported(store, "credits_grant", err);
    }

    return store->ops->credits_grant(store, org_id, credits, err);
}


inbox_status_t
inbox_store_billing_set(inbox_store_t *store, const char *org_id,
    int active, inbox_error_t *err)
{
    if (store->ops->billing_set == NULL) {
        return inbox_store_unsupported(store, "billing_set", err);
    }

    return store->ops->billing_set(store, org_id, active, err);
}


inbox_status_t
inbox_store_contact_upsert(inbox_store_t *store, const char *org_id,
    const char *phone, const char *name, char id[INBOX_ID_MAX],
    inbox_error_t *err)
{
    if (store->ops->contact_upsert == NULL) {
        return inbox_store_unsupported(store, "contact_upsert", err);
    }

    return store->ops->contact_upsert(store, org_id, phone, name, id, err);
}


inbox_status_t
inbox_store_inbound_ingest(inbox_store_t *store, const inbox_inbound_t *msgs,
    size_t n, inbox_ingest_result_t *results, inbox_event_list_t *events,
    inbox_error_t *err)
{
    if (store->ops->inbound_ingest == NULL) {
        return inbox_store_unsupported(store, "inbound_ingest", err);
    }

    return store->ops->inbound_ingest(store, msgs, n, results, events, err);
}


inbox_status_t
inbox_store_conversations_list(inbox_store_t *store, const char *org_id,
    const inbox_conversation_query_t *query, inbox_conversation_page_t *page,
    inbox_error_t *err)
{
    if (store->ops->conversations_list == NULL) {
        return inbox_store_unsupported(store, "conversations_list", err);
    }

    return store->ops->conversations_list(store, org_id, query, page, err);
}


inbox_status_t
inbox_store_conversation_get(inbox_store_t *store, const char *org_id,
    const char *conversation_id, inbox_conversation_t *conversation,
    inbox_error_t *err)
{
    if (store->ops->conversation_get == NULL) {
        return inbox_store_unsupported(store, "conversation_get", err);
    }

    return store->ops->conversation_get(store, org_id, conversation_id,
                                        conversation, err);
}


inbox_status_t
inbox_store_conversation_mark_read(inbox_store_t *store, const char *org_id,
    const char *conversation_id, inbox_conversation_t *conversation,
    inbox_event_list_t *events, inbox_error_t *err)
{
    if (store->ops->conversation_mark_read == NULL) {
        memset(conversation, 0, sizeof(inbox_conversation_t));
        return inbox_store_unsupported(store, "conversation_mark_read", err);
    }

    return store->ops->conversation_mark_read(store, org_id, conversation_id,
                                              conversation, events, err);
}


inbox_status_t
inbox_store_messages_list(inbox_store_t *store, const char *org_id,
    const char *conversation_id, const char *cursor, unsigned limit,
    inbox_message_page_t *page, inbox_error_t *err)
{
    if (store->ops->messages_list == NULL) {
        return inbox_store_unsupported(store, "messages_list", err);
    }

    return store->ops->messages_list(store, org_id, conversation_id, cursor,
                                     limit, page, err);
}


inbox_status_t
inbox_store_realtime_state(inbox_store_t *store, const char *org_id,
    inbox_realtime_state_t *state, inbox_error_t *err)
{
    if (store->ops->realtime_state == NULL) {
        return inbox_store_unsupported(store, "realtime_state", err);
    }

    return store->ops->realtime_state(store, org_id, state, err);
}


/* A backend still without an operation: a bug, not the caller's fault. */
static inbox_status_t
inbox_store_unsupported(inbox_store_t *store, const char *operation,
    inbox_error_t *err)
{
    return inbox_error_set(err, INBOX_ERR_INTERNAL,
               "the %s store does not support %s", store->ops->name,
               operation);
}


/*
 * ---- Accounts and sessions ----
 * The backends persist and query; what an email address is and when a
 * session ends are decided here (account.h, session.h).
 */


inbox_status_t
inbox_store_orgs_list(inbox_store_t *store, inbox_org_list_t *list,
    inbox_error_t *err)
{
    memset(list, 0, sizeof(inbox_org_list_t));

    if (store->ops->orgs_list == NULL) {
        return inbox_store_unsupported(store, "orgs_list", err);
    }

    return store->ops->orgs_list(store, list, err);
}


inbox_status_t
inbox_store_account_get(inbox_store_t *store, const char *org_id,
    const char *user_id, inbox_account_t *account, inbox_error_t *err)
{
    memset(account, 0, sizeof(inbox_account_t));

    if (store->ops->account_get == NULL) {
        return inbox_store_unsupported(store, "account_get", err);
    }

    return store->ops->account_get(store, org_id,
                                   user_id && user_id[0] ? user_id : NULL,
                                   account, err);
}


inbox_status_t
inbox_store_user_find_by_email(inbox_store_t *store, const char *email,
    inbox_user_t *user, char **password_hash, inbox_error_t *err)
{
    char  normalized[INBOX_EMAIL_MAX];

    memset(user, 0, sizeof(inbox_user_t));
    *password_hash = NULL;

    if (store->ops->user_find_by_email == NULL) {
        return inbox_store_unsupported(store, "user_find_by_email", err);
    }

    /* what cannot be an address belongs to nobody */
    if (inbox_email_normalize(email, normalized, sizeof(normalized)) != 0) {
        return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                               "No user has that email address.");
    }

    return store->ops->user_find_by_email(store, normalized, user,
                                          password_hash, err);
}


inbox_status_t
inbox_store_users_list(inbox_store_t *store, const char *org_id,
    inbox_user_list_t *list, inbox_error_t *err)
{
    memset(list, 0, sizeof(inbox_user_list_t));

    if (store->ops->users_list == NULL) {
        return inbox_store_unsupported(store, "users_list", err);
    }

    return store->ops->users_list(store, org_id, list, err);
}


inbox_status_t
inbox_store_user_password_set(inbox_store_t *store, const char *org_id,
    const char *email, const char *password_hash, char id[INBOX_ID_MAX],
    inbox_error_t *err)
{
    char  normalized[INBOX_EMAIL_MAX], unused[INBOX_ID_MAX];

    if (store->ops->user_password_set == NULL) {
        return inbox_store_unsupported(store, "user_password_set", err);
    }

    if (password_hash == NULL || password_hash[0] == '\0') {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "password",
                                     "A password hash is required.");
    }

    if (inbox_email_normalize(email, normalized, sizeof(normalized)) != 0) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "email",
                                     "\"%.64s\" is not an email address.",
                                     email ? email : "");
    }

    return store->ops->user_password_set(store, org_id, normalized,
                                         password_hash, id ? id : unused,
                                         err);
}


inbox_status_t
inbox_store_session_create(inbox_store_t *store, const char *org_id,
    const char *user_id, const char *session_hash, inbox_error_t *err)
{
    int64_t          now;
    inbox_session_t  session;

    if (store->ops->session_add == NULL) {
        return inbox_store_unsupported(store, "session_add", err);
    }

    if (session_hash == NULL || session_hash[0] == '\0' || user_id == NULL
        || user_id[0] == '\0')
    {
        return inbox_error_set(err, INBOX_ERR_INVALID,
                               "A session needs a user and an id.");
    }

    now = inbox_now_ms();
    session.created_at = now;
    session.last_seen_at = now;
    session.expires_at = inbox_session_expiry(now, now);

    return store->ops->session_add(store, org_id, user_id, session_hash,
                                   &session, err);
}


inbox_status_t
inbox_store_session_find(inbox_store_t *store, const char *session_hash,
    inbox_principal_t *principal, inbox_error_t *err)
{
    int64_t          now;
    inbox_status_t   rc;
    inbox_session_t  session;

    memset(principal, 0, sizeof(inbox_principal_t));
    memset(&session, 0, sizeof(inbox_session_t));

    if (store->ops->session_find == NULL) {
        return inbox_store_unsupported(store, "session_find", err);
    }

    rc = store->ops->session_find(store, session_hash, principal, &session,
                                  err);

    if (rc == INBOX_ERR_NOT_FOUND) {
        rc = inbox_error_set(err, INBOX_ERR_UNAUTHENTICATED,
                             "Your session has ended; sign in again.");
    }

    now = inbox_now_ms();

    if (rc == INBOX_OK) {
        rc = inbox_session_check(&session, now, err);
    }

    if (rc != INBOX_OK) {
        memset(principal, 0, sizeof(inbox_principal_t));
        return rc;
    }

    if (inbox_session_needs_touch(&session, now)
        && store->ops->session_touch != NULL)
    {
        session.last_seen_at = now;
        session.expires_at = inbox_session_expiry(session.created_at, now);

        /* a use that could not be recorded still counts: the session is
         * good, and the next request records it */
        (void) store->ops->session_touch(store, session_hash, &session,
                                         NULL);
    }

    return INBOX_OK;
}


inbox_status_t
inbox_store_session_delete(inbox_store_t *store, const char *session_hash,
    inbox_error_t *err)
{
    if (store->ops->session_delete == NULL) {
        return inbox_store_unsupported(store, "session_delete", err);
    }

    return store->ops->session_delete(store, session_hash, err);
}


inbox_status_t
inbox_store_sessions_purge(inbox_store_t *store, int64_t now,
    size_t *removed, inbox_error_t *err)
{
    size_t  unused;

    if (store->ops->sessions_purge == NULL) {
        return inbox_store_unsupported(store, "sessions_purge", err);
    }

    return store->ops->sessions_purge(store, now, removed ? removed : &unused,
                                      err);
}
