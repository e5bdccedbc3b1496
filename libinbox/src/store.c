/*
 * The store front: opens the backend a URI names and forwards each
 * operation to it (see store_backend.h): the PLAIN ones as they are, the
 * RULED ones after (or before) applying libinbox's rule.
 */
#include <stdlib.h>
#include <string.h>
#include <inbox/clock.h>
#include <inbox/phone.h>
#include <inbox/search.h>
#include <inbox/store.h>
#include "store_backend.h"


static inbox_store_t *inbox_store_open_uri(const char *uri, int create,
    inbox_error_t *err);
static inbox_status_t inbox_store_e164(const char *phone,
    inbox_error_t *err);


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


/* The PLAIN operations: forwarded as they are. */

#define INBOX_STORE_FORWARD_PLAIN(name, params, args)                         \
    inbox_status_t                                                            \
    inbox_store_##name params                                                 \
    {                                                                         \
        return store->ops->name args;                                         \
    }

#define INBOX_STORE_FORWARD_RULED(name, params, args)

#define INBOX_STORE_FORWARD(kind, name, params, args)                         \
    INBOX_STORE_FORWARD_##kind(name, params, args)

INBOX_STORE_OPERATIONS(INBOX_STORE_FORWARD)


/* The RULED operations. */

inbox_status_t
inbox_store_user_add(inbox_store_t *store, const char *org_id,
    const char *email, inbox_role_t role, const char *password_hash,
    char id[INBOX_ID_MAX], inbox_error_t *err)
{
    char  normalized[INBOX_EMAIL_MAX];

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
inbox_store_token_revoke(inbox_store_t *store, const char *org_id,
    const char *token_id, const char *token_hash, char id[INBOX_ID_MAX],
    inbox_error_t *err)
{
    char  unused[INBOX_ID_MAX];

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
inbox_store_contact_upsert(inbox_store_t *store, const char *org_id,
    const char *phone, const char *name, char id[INBOX_ID_MAX],
    inbox_error_t *err)
{
    inbox_status_t  status;

    status = inbox_store_e164(phone, err);
    if (status != INBOX_OK) {
        return status;
    }

    return store->ops->contact_upsert(store, org_id, phone, name, id, err);
}


/* The store keeps numbers in E.164 only: callers normalize first. */
static inbox_status_t
inbox_store_e164(const char *phone, inbox_error_t *err)
{
    char  e164[INBOX_PHONE_MAX];

    if (phone == NULL
        || inbox_phone_normalize(phone, strlen(phone), NULL, e164, NULL)
           != INBOX_OK
        || strcmp(e164, phone) != 0)
    {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "phone",
                                     "the phone number must be in E.164 "
                                     "form (+15551234567)");
    }

    return INBOX_OK;
}


inbox_status_t
inbox_store_contact_create(inbox_store_t *store, const char *org_id,
    const char *phone, const inbox_contact_edit_t *edit,
    inbox_contact_record_t *contact, inbox_error_t *err)
{
    inbox_status_t  status;

    memset(contact, 0, sizeof(inbox_contact_record_t));

    status = inbox_store_e164(phone, err);
    if (status != INBOX_OK) {
        return status;
    }

    return store->ops->contact_create(store, org_id, phone, edit, contact,
                                      err);
}


inbox_status_t
inbox_store_contacts_list(inbox_store_t *store, const char *org_id,
    const inbox_contact_query_t *query, inbox_contact_page_t *page,
    inbox_error_t *err)
{
    inbox_search_t         search;
    inbox_contact_query_t  q;

    memset(page, 0, sizeof(inbox_contact_page_t));

    /* q matches as a conversation search does (search.h) */
    if (inbox_search_parse(query->q, &search) != 0) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "q",
                                     "the search is too long");
    }

    q = *query;
    q.limit = inbox_list_limit(query->limit);

    return store->ops->contacts_list(store, org_id, &q, page, err);
}


/* The messages of the contact's conversation, as timeline entries; the
 * other kinds join here when the store keeps them. */
inbox_status_t
inbox_store_contact_timeline(inbox_store_t *store, const char *org_id,
    const char *contact_id, const char *cursor, unsigned limit,
    inbox_timeline_page_t *page, inbox_error_t *err)
{
    size_t                   i;
    inbox_status_t           status;
    inbox_message_page_t     messages;
    inbox_contact_record_t   contact;

    memset(page, 0, sizeof(inbox_timeline_page_t));

    status = inbox_store_contact_get(store, org_id, contact_id, &contact,
                                     err);
    if (status != INBOX_OK) {
        inbox_contact_record_free(&contact);
        return status;
    }

    status = inbox_store_messages_list(store, org_id,
                                       contact.conversation_id, cursor,
                                       limit, &messages, err);
    inbox_contact_record_free(&contact);

    if (status != INBOX_OK) {
        inbox_message_page_free(&messages);
        return status;
    }

    if (messages.count > 0) {
        page->items = calloc(messages.count, sizeof(inbox_timeline_item_t));
        if (page->items == NULL) {
            inbox_message_page_free(&messages);
            return inbox_error_set(err, INBOX_ERR_INTERNAL, "out of memory");
        }
    }

    /* the messages move into the entries */
    for (i = 0; i < messages.count; i++) {
        page->items[i].type = INBOX_TIMELINE_MESSAGE;
        page->items[i].at = messages.items[i].created_at;
        page->items[i].message = messages.items[i];
    }

    page->count = messages.count;
    memcpy(page->next_cursor, messages.next_cursor,
           sizeof(page->next_cursor));

    free(messages.items);

    return INBOX_OK;
}


inbox_status_t
inbox_store_conversations_list(inbox_store_t *store, const char *org_id,
    const inbox_conversation_query_t *query, inbox_conversation_page_t *page,
    inbox_error_t *err)
{
    inbox_search_t              search;
    inbox_conversation_query_t  q;

    memset(page, 0, sizeof(inbox_conversation_page_t));

    if ((unsigned) query->filter >= INBOX_FILTER_COUNT) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "filter",
                                     "unknown filter");
    }

    if (inbox_search_parse(query->q, &search) != 0) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "q",
                                     "the search is too long");
    }

    q = *query;
    q.limit = inbox_list_limit(query->limit);
    q.any_archived = inbox_query_any_archived(query->filter, query->q);

    return store->ops->conversations_list(store, org_id, &q, page, err);
}


inbox_status_t
inbox_store_messages_list(inbox_store_t *store, const char *org_id,
    const char *conversation_id, const char *cursor, unsigned limit,
    inbox_message_page_t *page, inbox_error_t *err)
{
    memset(page, 0, sizeof(inbox_message_page_t));

    return store->ops->messages_list(store, org_id, conversation_id, cursor,
                                     inbox_list_limit(limit), page, err);
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

    return store->ops->orgs_list(store, list, err);
}


inbox_status_t
inbox_store_account_get(inbox_store_t *store, const char *org_id,
    const char *user_id, inbox_account_t *account, inbox_error_t *err)
{
    memset(account, 0, sizeof(inbox_account_t));

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

    return store->ops->users_list(store, org_id, list, err);
}


inbox_status_t
inbox_store_user_password_set(inbox_store_t *store, const char *org_id,
    const char *email, const char *password_hash, char id[INBOX_ID_MAX],
    inbox_error_t *err)
{
    char  normalized[INBOX_EMAIL_MAX], unused[INBOX_ID_MAX];

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

    if (inbox_session_needs_touch(&session, now)) {
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
inbox_store_sessions_purge(inbox_store_t *store, int64_t now,
    size_t *removed, inbox_error_t *err)
{
    size_t  unused;

    return store->ops->sessions_purge(store, now, removed ? removed : &unused,
                                      err);
}
