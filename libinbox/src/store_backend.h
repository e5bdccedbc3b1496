/*
 * What a store backend implements.  store.c opens the backend named by the
 * URI scheme and forwards each inbox_store_* call to these operations; a
 * backend embeds inbox_store_t as its first member.
 */
#ifndef INBOX_STORE_BACKEND_H
#define INBOX_STORE_BACKEND_H

#include <inbox/store.h>

typedef struct {
    const char *name;

    void (*close)(inbox_store_t *store);
    inbox_status_t (*ping)(inbox_store_t *store, inbox_error_t *err);

    inbox_status_t (*org_create)(inbox_store_t *store, const char *name,
        const char *timezone, char id[INBOX_ID_MAX], inbox_error_t *err);
    inbox_status_t (*org_find_by_name)(inbox_store_t *store,
        const char *name, char id[INBOX_ID_MAX], inbox_error_t *err);
    inbox_status_t (*number_add)(inbox_store_t *store,
        const inbox_number_t *number, inbox_error_t *err);
    inbox_status_t (*number_find)(inbox_store_t *store, const char *e164,
        inbox_number_t *number, inbox_error_t *err);
    inbox_status_t (*user_add)(inbox_store_t *store, const char *org_id,
        const char *email, inbox_role_t role, const char *password_hash,
        char id[INBOX_ID_MAX], inbox_error_t *err);
    inbox_status_t (*token_add)(inbox_store_t *store, const char *org_id,
        const char *user_email, const char *token_hash, const char *name,
        int64_t expires_at, char id[INBOX_ID_MAX], inbox_error_t *err);
    /* Fills principal and token's times whatever they say: store.c
     * applies the rule (inbox_token_check). */
    inbox_status_t (*token_find)(inbox_store_t *store,
        const char *token_hash, inbox_principal_t *principal,
        inbox_token_t *token, inbox_error_t *err);
    inbox_status_t (*credits_grant)(inbox_store_t *store,
        const char *org_id, int64_t credits, inbox_error_t *err);
    inbox_status_t (*billing_set)(inbox_store_t *store, const char *org_id,
        int active, inbox_error_t *err);
    inbox_status_t (*contact_upsert)(inbox_store_t *store,
        const char *org_id, const char *phone, const char *name,
        char id[INBOX_ID_MAX], inbox_error_t *err);

    inbox_status_t (*inbound_ingest)(inbox_store_t *store,
        const inbox_inbound_t *msgs, size_t n,
        inbox_ingest_result_t *results, inbox_event_list_t *events,
        inbox_error_t *err);

    inbox_status_t (*conversations_list)(inbox_store_t *store,
        const char *org_id, const inbox_conversation_query_t *query,
        inbox_conversation_page_t *page, inbox_error_t *err);
    inbox_status_t (*conversation_get)(inbox_store_t *store,
        const char *org_id, const char *conversation_id,
        inbox_conversation_t *conversation, inbox_error_t *err);
    inbox_status_t (*messages_list)(inbox_store_t *store,
        const char *org_id, const char *conversation_id, const char *cursor,
        unsigned limit, inbox_message_page_t *page, inbox_error_t *err);
    inbox_status_t (*realtime_state)(inbox_store_t *store,
        const char *org_id, inbox_realtime_state_t *state,
        inbox_error_t *err);

    /* May be NULL: nothing to maintain. */
    inbox_status_t (*maintain)(inbox_store_t *store, inbox_error_t *err);

    inbox_status_t (*conversation_mark_read)(inbox_store_t *store,
        const char *org_id, const char *conversation_id,
        inbox_conversation_t *conversation, inbox_event_list_t *events,
        inbox_error_t *err);

    inbox_status_t (*tokens_list)(inbox_store_t *store, const char *org_id,
        inbox_token_list_t *list, inbox_error_t *err);
    inbox_status_t (*token_revoke)(inbox_store_t *store, const char *org_id,
        const char *token_id, const char *token_hash,
        char id[INBOX_ID_MAX], inbox_error_t *err);
    /* ---- accounts and sessions (store_*_sessions.c) ---- */
    inbox_status_t (*orgs_list)(inbox_store_t *store,
        inbox_org_list_t *list, inbox_error_t *err);
    inbox_status_t (*account_get)(inbox_store_t *store, const char *org_id,
        const char *user_id, inbox_account_t *account, inbox_error_t *err);
    /* email is normalized (inbox_email_normalize) */
    inbox_status_t (*user_find_by_email)(inbox_store_t *store,
        const char *email, inbox_user_t *user, char **password_hash,
        inbox_error_t *err);
    inbox_status_t (*users_list)(inbox_store_t *store, const char *org_id,
        inbox_user_list_t *list, inbox_error_t *err);
    inbox_status_t (*user_password_set)(inbox_store_t *store,
        const char *org_id, const char *email, const char *password_hash,
        char id[INBOX_ID_MAX], inbox_error_t *err);
    /* The times are store.c's to decide (session.h); backends record
     * them and hand them back. */
    inbox_status_t (*session_add)(inbox_store_t *store, const char *org_id,
        const char *user_id, const char *session_hash,
        const inbox_session_t *session, inbox_error_t *err);
    inbox_status_t (*session_find)(inbox_store_t *store,
        const char *session_hash, inbox_principal_t *principal,
        inbox_session_t *session, inbox_error_t *err);
    inbox_status_t (*session_touch)(inbox_store_t *store,
        const char *session_hash, const inbox_session_t *session,
        inbox_error_t *err);
    inbox_status_t (*session_delete)(inbox_store_t *store,
        const char *session_hash, inbox_error_t *err);
    inbox_status_t (*sessions_purge)(inbox_store_t *store, int64_t now,
        size_t *removed, inbox_error_t *err);
} inbox_store_ops_t;

struct inbox_store_s {
    const inbox_store_ops_t  *ops;
};

/* Each takes the URI without its scheme ("PATH" for sqlite:PATH, the whole
 * "mongodb://..." for MongoDB); create says whether a missing store may be
 * made (inbox_store_create) or not (inbox_store_open). */
inbox_store_t *inbox_store_sqlite_open(const char *path, int create,
    inbox_error_t *err);
inbox_store_t *inbox_store_mongo_open(const char *uri, int create,
    inbox_error_t *err);

#endif
