/*
 * What a store backend implements: every operation, listed once.
 *
 * INBOX_STORE_OPERATIONS(X) calls X(kind, name, params, args) for each
 * operation a backend provides.  Each returns inbox_status_t; params is
 * its parameter list, args the same names as a call's arguments.  From
 * this one list come:
 *   - the operations table inbox_store_ops_t (one member per operation),
 *   - each backend's prototypes and its table, filled by name (see the
 *     end of this file): a backend that lacks an operation does not link,
 *     and two operations cannot swap,
 *   - store.c's public inbox_store_NAME function for each PLAIN operation,
 *     which only forwards.  A RULED operation's public function is written
 *     out in store.c, because libinbox applies a rule around the backend
 *     (limits, token checks, ...); its public signature may differ.
 * Each public function is documented once, in <inbox/store.h>; a public
 * prototype that drifts from this list fails to compile.
 */
#ifndef INBOX_STORE_BACKEND_H
#define INBOX_STORE_BACKEND_H

#include <inbox/store.h>


/* media: store_BACKEND_media.c (uploads, copies of inbound MMS) */
/* media is checked (file name, type: media.h): store.c did; fills
 * media->id and created_at */
#define INBOX_STORE_MEDIA_OPERATIONS(X)                                       \
    X(RULED, media_add,                                                       \
      (inbox_store_t *store, const char *org_id,                              \
       inbox_media_record_t *media, inbox_error_t *err),                      \
      (store, org_id, media, err))                                            \
    /* 1 <= n <= INBOX_MEDIA_MAX */                                           \
    X(RULED, media_get,                                                       \
      (inbox_store_t *store, const char *org_id, const char *const *ids,      \
       size_t n, inbox_media_record_t *media, inbox_error_t *err),            \
      (store, org_id, ids, n, media, err))                                    \
    /* claimed ones are due again at lease_until; 1 <= limit <=               \
     * INBOX_MEDIA_FETCH_LIMIT_MAX; list zeroed by store.c */                 \
    X(RULED, media_fetch_claim,                                               \
      (inbox_store_t *store, int64_t now, int64_t lease_until,                \
       unsigned limit, inbox_media_fetch_list_t *list, inbox_error_t *err),   \
      (store, now, lease_until, limit, list, err))                            \
    /* file and content_type checked (media.h): store.c did */                \
    X(RULED, media_fetch_done,                                                \
      (inbox_store_t *store, const char *message_id, unsigned idx,            \
       const char *file, const char *content_type, int64_t bytes,             \
       inbox_event_list_t *events, inbox_error_t *err),                       \
      (store, message_id, idx, file, content_type, bytes, events, err))       \
    X(PLAIN, media_fetch_failed,                                              \
      (inbox_store_t *store, const char *message_id, unsigned idx,            \
       int64_t retry_at, inbox_event_list_t *events, inbox_error_t *err),     \
      (store, message_id, idx, retry_at, events, err))                        \
    /* due_at > 0: store.c checked */                                         \
    X(RULED, media_fetch_give_back,                                           \
      (inbox_store_t *store, const char *message_id, unsigned idx,            \
       int64_t due_at, inbox_error_t *err),                                   \
      (store, message_id, idx, due_at, err))                                  \
    /* the purge's first phase: the uploads marked purging before (by a       \
     * round that did not finish), then those neither made nor released       \
     * since "before", not attached, nor marked: those nothing names          \
     * marked purging at now, the others attached again; files names the      \
     * marked ones, at most max (1..INBOX_MEDIA_PURGE_MAX), *marked 0; a      \
     * failure leaves *marked counting (and files naming) those marked        \
     * before it */                                                           \
    X(RULED, media_purge,                                                     \
      (inbox_store_t *store, int64_t now, int64_t before, size_t max,         \
       char (*files)[INBOX_MEDIA_FILE_MAX], size_t *marked,                   \
       inbox_error_t *err),                                                   \
      (store, now, before, max, files, marked, err))                          \
    /* its second, once their files are gone: the records of the n            \
     * (1..INBOX_MEDIA_PURGE_MAX) uploads of files that are marked purging    \
     * deleted (one deleted already is no error) */                           \
    X(RULED, media_purge_done,                                                \
      (inbox_store_t *store, char (*files)[INBOX_MEDIA_FILE_MAX], size_t n,   \
       inbox_error_t *err),                                                   \
      (store, files, n, err))                                                 \
    /* 1 <= n <= INBOX_MEDIA_NAMED_MAX valid names: store.c checked;          \
     * named zeroed by store.c */                                             \
    X(RULED, media_files_named,                                               \
      (inbox_store_t *store, char (*files)[INBOX_MEDIA_FILE_MAX], size_t n,   \
       unsigned char *named, inbox_error_t *err),                             \
      (store, files, n, named, err))


/*
 * One result as the backends record it (inbox_store_outbox_results):
 * store.c applied outbox.h's rule, so a retry has attempts left (next_at)
 * and a failure (refused, opted_out, withdrawn, unknown) its error_code.
 */
typedef struct {
    inbox_outbox_record_t  *record;     /* entry_id, attempt; status,
                                           error and report: out */
    inbox_send_result_t     result;
    int64_t                 next_at;    /* a retry: when it is due again */
} inbox_outbox_ruled_t;


#define INBOX_STORE_OPERATIONS(X)                                             \
                                                                              \
    /* the backend's core: store_BACKEND.c */                                 \
    X(PLAIN, ping,                                                            \
      (inbox_store_t *store, inbox_error_t *err),                             \
      (store, err))                                                           \
    X(PLAIN, maintain,                                                        \
      (inbox_store_t *store, inbox_error_t *err),                             \
      (store, err))                                                           \
                                                                              \
    /* admin: store_BACKEND_admin.c */                                        \
    /* timezone NULL or valid (settings.h): store.c checked */                \
    X(RULED, org_create,                                                      \
      (inbox_store_t *store, const char *name, const char *timezone,          \
       char id[INBOX_ID_MAX], inbox_error_t *err),                            \
      (store, name, timezone, id, err))                                       \
    X(PLAIN, org_find_by_name,                                                \
      (inbox_store_t *store, const char *name, char id[INBOX_ID_MAX],         \
       inbox_error_t *err),                                                   \
      (store, name, id, err))                                                 \
    /* list is zeroed */                                                      \
    X(RULED, orgs_list,                                                       \
      (inbox_store_t *store, inbox_org_list_t *list, inbox_error_t *err),     \
      (store, list, err))                                                     \
    X(PLAIN, number_add,                                                      \
      (inbox_store_t *store, const inbox_number_t *number,                    \
       inbox_error_t *err),                                                   \
      (store, number, err))                                                   \
    X(PLAIN, number_update,                                                   \
      (inbox_store_t *store, const inbox_number_t *number,                    \
       inbox_error_t *err),                                                   \
      (store, number, err))                                                   \
    X(PLAIN, number_find,                                                     \
      (inbox_store_t *store, const char *e164, inbox_number_t *number,        \
       inbox_error_t *err),                                                   \
      (store, e164, number, err))                                             \
    /* *waiting is 0 */                                                       \
    X(RULED, number_remove,                                                   \
      (inbox_store_t *store, const char *org_id, const char *e164,            \
       int64_t *waiting, inbox_error_t *err),                                 \
      (store, org_id, e164, waiting, err))                                    \
    /* list is zeroed */                                                      \
    X(RULED, numbers_list,                                                    \
      (inbox_store_t *store, const char *org_id, inbox_number_list_t *list,   \
       inbox_error_t *err),                                                   \
      (store, org_id, list, err))                                             \
    /* name is NULL or valid, id never NULL: store.c checked */               \
    X(RULED, token_add,                                                       \
      (inbox_store_t *store, const char *org_id, const char *user_email,      \
       const char *token_hash, const char *name, int64_t expires_at,          \
       char id[INBOX_ID_MAX], inbox_error_t *err),                            \
      (store, org_id, user_email, token_hash, name, expires_at, id, err))     \
    /* fills principal and token's times whatever they say: store.c           \
     * applies the rule (inbox_token_check) */                                \
    X(RULED, token_find,                                                      \
      (inbox_store_t *store, const char *token_hash,                          \
       inbox_principal_t *principal, inbox_token_t *token,                    \
       inbox_error_t *err),                                                   \
      (store, token_hash, principal, token, err))                             \
    X(PLAIN, tokens_list,                                                     \
      (inbox_store_t *store, const char *org_id, inbox_token_list_t *list,    \
       inbox_error_t *err),                                                   \
      (store, org_id, list, err))                                             \
    /* token_id NULL: by token_hash; id never NULL */                         \
    X(RULED, token_revoke,                                                    \
      (inbox_store_t *store, const char *org_id, const char *token_id,        \
       const char *token_hash, char id[INBOX_ID_MAX],                         \
       inbox_event_list_t *events, inbox_error_t *err),                       \
      (store, org_id, token_id, token_hash, id, events, err))                 \
    X(RULED, credits_grant,                                                   \
      (inbox_store_t *store, const char *org_id, int64_t credits,             \
       inbox_error_t *err),                                                   \
      (store, org_id, credits, err))                                          \
    X(PLAIN, billing_set,                                                     \
      (inbox_store_t *store, const char *org_id, int active,                  \
       inbox_error_t *err),                                                   \
      (store, org_id, active, err))                                           \
    X(PLAIN, plan_set,                                                        \
      (inbox_store_t *store, const char *org_id, inbox_plan_t plan,           \
       inbox_error_t *err),                                                   \
      (store, org_id, plan, err))                                             \
                                                                              \
    /* contacts: store_BACKEND_contacts.c; phone is E.164 */                  \
    X(RULED, contact_upsert,                                                  \
      (inbox_store_t *store, const char *org_id, const char *phone,           \
       const char *name, char id[INBOX_ID_MAX], inbox_error_t *err),          \
      (store, org_id, phone, name, id, err))                                  \
    X(PLAIN, contact_get,                                                     \
      (inbox_store_t *store, const char *org_id, const char *contact_id,      \
       inbox_contact_record_t *contact, inbox_error_t *err),                  \
      (store, org_id, contact_id, contact, err))                              \
    /* phone is E.164, edit checked (contact.h): store.c did */               \
    X(RULED, contact_create,                                                  \
      (inbox_store_t *store, const char *org_id, const char *phone,           \
       const inbox_contact_edit_t *edit, inbox_contact_record_t *contact,     \
       inbox_event_list_t *events, inbox_error_t *err),                       \
      (store, org_id, phone, edit, contact, events, err))                     \
    X(PLAIN, contact_update,                                                  \
      (inbox_store_t *store, const char *org_id, const char *contact_id,      \
       const inbox_contact_edit_t *edit, inbox_contact_record_t *contact,     \
       inbox_event_list_t *events, inbox_error_t *err),                       \
      (store, org_id, contact_id, edit, contact, events, err))                \
    /* query->limit 1..INBOX_LIST_LIMIT_MAX */                                \
    X(RULED, contacts_list,                                                   \
      (inbox_store_t *store, const char *org_id,                              \
       const inbox_contact_query_t *query, inbox_contact_page_t *page,        \
       inbox_error_t *err),                                                   \
      (store, org_id, query, page, err))                                      \
    /* page zeroed; max tags at most, more set when there are others */    \
    X(RULED, tags_list,                                                       \
      (inbox_store_t *store, const char *org_id, size_t max,                  \
       inbox_tag_page_t *page, inbox_error_t *err),                           \
      (store, org_id, max, page, err))                                        \
    X(PLAIN, contacts_import,                                                 \
      (inbox_store_t *store, const char *org_id,                              \
       const inbox_contact_row_t *rows, size_t n,                             \
       inbox_import_count_t *count, inbox_event_list_t *events,               \
       inbox_error_t *err),                                                   \
      (store, org_id, rows, n, count, events, err))                           \
                                                                              \
    /* ingest: store_BACKEND_ingest.c */                                      \
    X(PLAIN, inbound_ingest,                                                  \
      (inbox_store_t *store, const inbox_inbound_t *msgs, size_t n,           \
       inbox_ingest_result_t *results, inbox_event_list_t *events,            \
       inbox_error_t *err),                                                   \
      (store, msgs, n, results, events, err))                                 \
                                                                              \
    /* conversations: store_BACKEND_conversations.c */                        \
    /* query->filter is known, query->limit 1..INBOX_LIST_LIMIT_MAX */        \
    X(RULED, conversations_list,                                              \
      (inbox_store_t *store, const char *org_id,                              \
       const inbox_conversation_query_t *query,                               \
       inbox_conversation_page_t *page, inbox_error_t *err),                  \
      (store, org_id, query, page, err))                                      \
    X(PLAIN, conversation_get,                                                \
      (inbox_store_t *store, const char *org_id,                              \
       const char *conversation_id, inbox_conversation_t *conversation,       \
       inbox_error_t *err),                                                   \
      (store, org_id, conversation_id, conversation, err))                    \
    X(PLAIN, conversation_act,                                                \
      (inbox_store_t *store, const char *org_id,                              \
       const char *conversation_id, inbox_action_t action,                    \
       inbox_conversation_t *conversation, inbox_event_list_t *events,        \
       inbox_error_t *err),                                                   \
      (store, org_id, conversation_id, action, conversation, events, err))    \
                                                                              \
    /* messages: store_BACKEND_messages.c; limit 1..INBOX_LIST_LIMIT_MAX */   \
    X(RULED, messages_list,                                                   \
      (inbox_store_t *store, const char *org_id,                              \
       const char *conversation_id, const char *cursor, unsigned limit,       \
       inbox_message_page_t *page, inbox_error_t *err),                       \
      (store, org_id, conversation_id, cursor, limit, page, err))             \
                                                                              \
    /* events: store_BACKEND_events.c */                                      \
    X(PLAIN, realtime_state,                                                  \
      (inbox_store_t *store, const char *org_id,                              \
       inbox_realtime_state_t *state, inbox_error_t *err),                    \
      (store, org_id, state, err))                                            \
    /* 1 <= n <= INBOX_STREAM_POSITIONS_MAX, positions zeroed */            \
    X(RULED, stream_positions,                                                \
      (inbox_store_t *store, const char *const *org_ids, size_t n,            \
       inbox_stream_position_t *positions, inbox_error_t *err),               \
      (store, org_ids, n, positions, err))                                    \
    /* resume: epoch never NULL, 0 <= after_seq, limit                     \
     * 1..INBOX_EVENTS_SINCE_MAX: store.c checked */                        \
    X(RULED, events_since,                                                    \
      (inbox_store_t *store, const char *org_id, const char *epoch,           \
       int64_t after_seq, int64_t until_seq, size_t limit,                    \
       inbox_event_list_t *events, inbox_error_t *err),                       \
      (store, org_id, epoch, after_seq, until_seq, limit, events, err))       \
    /* keep's bounds >= 0, max >= 1: store.c checked */                       \
    X(RULED, events_prune,                                                    \
      (inbox_store_t *store, int64_t now,                                     \
       const inbox_event_retention_t *keep, size_t max, size_t *removed,      \
       inbox_error_t *err),                                                   \
      (store, now, keep, max, removed, err))                                  \
    /* orgs may be NULL */                                                    \
    X(PLAIN, events_new_epoch,                                                \
      (inbox_store_t *store, size_t *orgs, inbox_error_t *err),               \
      (store, orgs, err))                                                     \
    /* store_BACKEND.c; backup a file's path */                               \
    X(PLAIN, restore,                                                         \
      (inbox_store_t *store, const char *backup, inbox_error_t *err),         \
      (store, backup, err))                                                   \
                                                                              \
    /* users: store_BACKEND_users.c; lists are zeroed, emails normalized      \
     * (inbox_email_normalize), user_id NULL for none */                      \
    X(RULED, user_add,                                                        \
      (inbox_store_t *store, const char *org_id, const char *email,           \
       inbox_role_t role, const char *password_hash, char id[INBOX_ID_MAX],   \
       inbox_event_list_t *events, inbox_error_t *err),                       \
      (store, org_id, email, role, password_hash, id, events, err))           \
    X(RULED, user_email_check,                                                \
      (inbox_store_t *store, const char *org_id, const char *email,           \
       inbox_error_t *err),                                                   \
      (store, org_id, email, err))                                            \
    X(RULED, account_get,                                                     \
      (inbox_store_t *store, const char *org_id, const char *user_id,         \
       inbox_account_t *account, inbox_error_t *err),                         \
      (store, org_id, user_id, account, err))                                 \
    X(RULED, user_find_by_email,                                              \
      (inbox_store_t *store, const char *email, inbox_user_t *user,           \
       char **password_hash, inbox_error_t *err),                             \
      (store, email, user, password_hash, err))                               \
    X(RULED, users_list,                                                      \
      (inbox_store_t *store, const char *org_id, inbox_user_list_t *list,     \
       inbox_error_t *err),                                                   \
      (store, org_id, list, err))                                             \
    X(RULED, user_password_set,                                               \
      (inbox_store_t *store, const char *org_id, const char *email,           \
       const char *old_hash, const char *password_hash,                       \
       char id[INBOX_ID_MAX], inbox_event_list_t *events,                     \
       inbox_error_t *err),                                                   \
      (store, org_id, email, old_hash, password_hash, id, events, err))       \
    X(RULED, user_password_rehash,                                            \
      (inbox_store_t *store, const char *org_id, const char *user_id,         \
       const char *old_hash, const char *new_hash, int *replaced,             \
       inbox_error_t *err),                                                   \
      (store, org_id, user_id, old_hash, new_hash, replaced, err))            \
                                                                              \
    /* the team: store_BACKEND_team.c */                                      \
    X(PLAIN, user_role_set,                                                   \
      (inbox_store_t *store, const char *org_id, const char *user_id,         \
       inbox_role_t role, inbox_user_t *user, inbox_event_list_t *events,     \
       inbox_error_t *err),                                                   \
      (store, org_id, user_id, role, user, events, err))                      \
    X(PLAIN, user_remove,                                                     \
      (inbox_store_t *store, const char *org_id, const char *user_id,         \
       inbox_event_list_t *events, inbox_error_t *err),                       \
      (store, org_id, user_id, events, err))                                  \
                                                                              \
    /* sessions: store_BACKEND_sessions.c */                                  \
    /* a session's times are store.c's to decide (session.h): backends        \
     * record them and hand them back; session_add and session_touch are      \
     * called by inbox_store_session_create and _find only */                 \
    X(RULED, session_add,                                                     \
      (inbox_store_t *store, const char *org_id, const char *user_id,         \
       const char *password_hash, const char *session_hash,                   \
       const inbox_session_t *session, inbox_error_t *err),                   \
      (store, org_id, user_id, password_hash, session_hash, session, err))    \
    X(RULED, session_find,                                                    \
      (inbox_store_t *store, const char *session_hash,                        \
       inbox_principal_t *principal, inbox_session_t *session,                \
       inbox_error_t *err),                                                   \
      (store, session_hash, principal, session, err))                         \
    X(RULED, session_touch,                                                   \
      (inbox_store_t *store, const char *session_hash,                        \
       const inbox_session_t *session, inbox_error_t *err),                   \
      (store, session_hash, session, err))                                    \
    X(PLAIN, session_delete,                                                  \
      (inbox_store_t *store, const char *session_hash,                        \
       inbox_event_list_t *events, inbox_error_t *err),                       \
      (store, session_hash, events, err))                                     \
    X(RULED, sessions_purge,                                                  \
      (inbox_store_t *store, int64_t now, size_t *removed,                    \
       inbox_error_t *err),                                                   \
      (store, now, removed, err))                                             \
                                                                              \
    /* opt-out and opt-in: store_BACKEND_optout.c; source known,              \
     * keyword NULL unless the source is a keyword, at 0 for now (read once   \
     * the write lock is held), sent_at 0 unless the source is the carrier,   \
     * contact zeroed: store.c did */                                         \
    X(RULED, contact_opt_out,                                                 \
      (inbox_store_t *store, const char *org_id, const char *contact_id,      \
       inbox_opt_out_source_t source, const char *keyword, int64_t at,        \
       int64_t sent_at, inbox_contact_record_t *contact,                      \
       inbox_event_list_t *events, inbox_error_t *err),                       \
      (store, org_id, contact_id, source, keyword, at, sent_at, contact,      \
       events, err))                                                          \
    X(RULED, contact_opt_in,                                                  \
      (inbox_store_t *store, const char *org_id, const char *contact_id,      \
       const char *keyword, int64_t at, inbox_contact_record_t *contact,      \
       inbox_event_list_t *events, inbox_error_t *err),                       \
      (store, org_id, contact_id, keyword, at, contact, events, err))         \
    /* after_id NULL: from the newest; limit 1..INBOX_LIST_LIMIT_MAX */       \
    X(RULED, contact_events_list,                                             \
      (inbox_store_t *store, const char *org_id, const char *contact_id,      \
       int64_t after_at, const char *after_id, unsigned limit,                \
       inbox_contact_event_page_t *page, inbox_error_t *err),                 \
      (store, org_id, contact_id, after_at, after_id, limit, page, err))      \
                                                                              \
    /* settings: store_BACKEND_settings.c; the edit checked by                \
     * store.c (settings.h) */                                                \
    X(RULED, settings_get,                                                    \
      (inbox_store_t *store, const char *org_id, inbox_settings_t *settings,  \
       inbox_error_t *err),                                                   \
      (store, org_id, settings, err))                                         \
    X(RULED, settings_update,                                                 \
      (inbox_store_t *store, const char *org_id,                              \
       const inbox_settings_edit_t *edit, inbox_settings_t *settings,         \
       inbox_event_list_t *events, inbox_error_t *err),                       \
      (store, org_id, edit, settings, events, err))                           \
    INBOX_STORE_MEDIA_OPERATIONS(X)                                           \
    /* replies, the outbox and billing:                                       \
     * store_BACKEND_outbox.c, store_BACKEND_billing.c; times in ms */        \
    /* reply checked (inbox_reply_check); fingerprint "" without a key */     \
    X(RULED, reply_accept,                                                    \
      (inbox_store_t *store, const char *org_id, const inbox_reply_t *reply,  \
       const char *fingerprint, int64_t now, inbox_reply_result_t *result,    \
       inbox_event_list_t *events, inbox_error_t *err),                       \
      (store, org_id, reply, fingerprint, now, result, events, err))          \
    /* max 1..INBOX_OUTBOX_CLAIM_MAX, lease > 0, batch zeroed; paces     \
     * NULL or counted with inbox_outbox_pacing_take */                       \
    X(RULED, outbox_claim,                                                    \
      (inbox_store_t *store, int64_t now, int64_t quiet_now, size_t max,      \
       int64_t lease, inbox_outbox_priority_t priority_max,                   \
       const inbox_outbox_paces_t *paces, inbox_outbox_batch_t *batch,        \
       inbox_error_t *err),                                                   \
      (store, now, quiet_now, max, lease, priority_max, paces, batch, err))   \
    /* 1 <= n <= INBOX_OUTBOX_CLAIM_MAX, reads zeroed: store.c did; each      \
     * message's contact's opt-out, and for a bulk one (priorities) its       \
     * contact's zone and its organization's quiet hours */                   \
    X(RULED, outbox_held,                                                     \
      (inbox_store_t *store, const char *const *message_ids,                  \
       const inbox_outbox_priority_t *priorities, size_t n,                   \
       inbox_outbox_held_read_t *reads, inbox_error_t *err),                  \
      (store, message_ids, priorities, n, reads, err))                        \
    /* n >= 1 records as store.c made them (inbox_outbox_ruled_t), each    \
     * record's status INBOX_OK and report zeroed; the backend sets a         \
     * refused one's status and error */                                      \
    X(RULED, outbox_results,                                                  \
      (inbox_store_t *store, inbox_outbox_ruled_t *records, size_t n,         \
       int64_t now, inbox_event_list_t *events, inbox_error_t *err),          \
      (store, records, n, now, events, err))                                  \
    /* the reports as store.c ruled them: those not INBOX_OK are skipped;   \
     * error_code NULL for none */                                            \
    X(RULED, message_status_updates,                                          \
      (inbox_store_t *store, inbox_status_report_t *reports, size_t n,        \
       int64_t now, inbox_event_list_t *events, inbox_error_t *err),          \
      (store, reports, n, now, events, err))                                  \
    /* early reports received before "before"; max >= 1 */                 \
    X(RULED, early_reports_purge,                                             \
      (inbox_store_t *store, int64_t before, size_t max, size_t *removed,     \
       inbox_error_t *err),                                                   \
      (store, before, max, removed, err))                                     \
    /* replies' Idempotency-Keys made before "before"; max >= 1 */          \
    X(RULED, reply_keys_purge,                                                \
      (inbox_store_t *store, int64_t before, size_t max, size_t *removed,     \
       inbox_error_t *err),                                                   \
      (store, before, max, removed, err))                                     \
    /* holds of messages the carrier took at or before "before", after     \
     * the settlements an interruption left (none in SQLite) */             \
    X(RULED, holds_expire,                                                    \
      (inbox_store_t *store, int64_t before, int64_t now, size_t max,         \
       size_t *captured, inbox_error_t *err),                                 \
      (store, before, now, max, captured, err))                               \
    /* status checks: store_BACKEND_status_checks.c (status_check.h);     \
     * 1 <= limit <= INBOX_STATUS_CHECK_CLAIM_MAX, after and give_up > 0,   \
     * list zeroed: store.c did */                                          \
    X(RULED, status_checks_claim,                                             \
      (inbox_store_t *store, int64_t now, int64_t after, int64_t give_up,     \
       unsigned limit, inbox_status_check_list_t *list, inbox_error_t *err),  \
      (store, now, after, give_up, limit, list, err))                         \
    /* 1 <= n <= INBOX_STATUS_CHECK_CLAIM_MAX */                              \
    X(RULED, status_checks_end,                                               \
      (inbox_store_t *store, const char *const *message_ids, size_t n,        \
       inbox_error_t *err),                                                   \
      (store, message_ids, n, err))                                           \
    X(PLAIN, billing_get,                                                     \
      (inbox_store_t *store, const char *org_id, inbox_billing_t *billing,    \
       inbox_error_t *err),                                                   \
      (store, org_id, billing, err))                                          \
    /* limit 1..INBOX_LIST_LIMIT_MAX, page zeroed */                          \
    X(RULED, ledger_list,                                                     \
      (inbox_store_t *store, const char *org_id, const char *cursor,          \
       unsigned limit, inbox_ledger_page_t *page, inbox_error_t *err),        \
      (store, org_id, cursor, limit, page, err))                              \
    /* notices: a keyword's answer; body checked and segments                 \
     * counted by store.c (segments.h), from NULL for the first number;       \
     * result zeroed */                                                       \
    X(RULED, outbox_notice,                                                   \
      (inbox_store_t *store, const char *org_id,                              \
       const char *conversation_id, const char *from, const char *body,       \
       unsigned segments, int64_t now, inbox_reply_result_t *result,          \
       inbox_event_list_t *events, inbox_error_t *err),                       \
      (store, org_id, conversation_id, from, body, segments, now, result,     \
       events, err))                                                          \
    /* campaigns and polls: store_BACKEND_campaigns.c;                    \
     * times in ms */                                                       \
    /* c checked (inbox_campaign_check), name and body (the text sent)      \
     * made, segments and credits counted: store.c did; campaign zeroed */  \
    X(RULED, campaign_create,                                                 \
      (inbox_store_t *store, const char *org_id,                              \
       const inbox_campaign_new_t *c, const char *name, const char *body,     \
       unsigned segments, unsigned credits, int64_t now,                      \
       inbox_campaign_t *campaign, inbox_event_list_t *events,                \
       inbox_error_t *err),                                                   \
      (store, org_id, c, name, body, segments, credits, now, campaign,        \
       events, err))                                                          \
    /* as campaign_create's; campaign zeroed */                               \
    X(RULED, campaign_update,                                                 \
      (inbox_store_t *store, const char *org_id, const char *campaign_id,     \
       int64_t revision, const inbox_campaign_new_t *c, const char *name,     \
       const char *body, unsigned segments, unsigned credits,                 \
       inbox_campaign_t *campaign, inbox_event_list_t *events,                \
       inbox_error_t *err),                                                   \
      (store, org_id, campaign_id, revision, c, name, body, segments,         \
       credits, campaign, events, err))                                       \
    /* send_at the time to send at, now's for 0; campaign zeroed */           \
    X(RULED, campaign_reschedule,                                             \
      (inbox_store_t *store, const char *org_id, const char *campaign_id,     \
       inbox_campaign_kind_t kind, int64_t send_at, int64_t now,              \
       inbox_campaign_t *campaign, inbox_event_list_t *events,                \
       inbox_error_t *err),                                                   \
      (store, org_id, campaign_id, kind, send_at, now, campaign, events,      \
       err))                                                                  \
    /* now: when its images were released (the purge's grace from it) */   \
    X(PLAIN, campaign_delete,                                                 \
      (inbox_store_t *store, const char *org_id, const char *campaign_id,     \
       inbox_campaign_kind_t kind, int64_t now, inbox_event_list_t *events,   \
       inbox_error_t *err),                                                   \
      (store, org_id, campaign_id, kind, now, events, err))                   \
    X(PLAIN, campaign_get,                                                    \
      (inbox_store_t *store, const char *org_id, const char *campaign_id,     \
       inbox_campaign_t *campaign, inbox_error_t *err),                       \
      (store, org_id, campaign_id, campaign, err))                            \
    /* limit 1..INBOX_LIST_LIMIT_MAX, page zeroed */                          \
    X(RULED, campaigns_list,                                                  \
      (inbox_store_t *store, const char *org_id, inbox_campaign_kind_t kind,  \
       const char *cursor, unsigned limit, inbox_campaign_page_t *page,       \
       inbox_error_t *err),                                                   \
      (store, org_id, kind, cursor, limit, page, err))                        \
    /* campaign zeroed */                                                     \
    X(RULED, campaign_act,                                                    \
      (inbox_store_t *store, const char *org_id, const char *campaign_id,     \
       inbox_campaign_action_t action, int64_t now,                           \
       inbox_campaign_t *campaign, inbox_event_list_t *events,                \
       inbox_error_t *err),                                                   \
      (store, org_id, campaign_id, action, now, campaign, events, err))       \
    /* max 1..INBOX_CAMPAIGN_DISPATCH_MAX, result zeroed */                   \
    X(RULED, campaign_dispatch,                                               \
      (inbox_store_t *store, int64_t now, size_t max,                         \
       const char *media_base, inbox_campaign_dispatch_t *result,             \
       inbox_event_list_t *events, inbox_error_t *err),                       \
      (store, now, max, media_base, result, events, err))                     \
    /* limit 1..INBOX_POLL_RESPONSES_MAX, results zeroed */                   \
    X(RULED, poll_results,                                                    \
      (inbox_store_t *store, const char *org_id, const char *poll_id,         \
       const char *cursor, unsigned limit, inbox_poll_results_t *results,     \
       inbox_error_t *err),                                                   \
      (store, org_id, poll_id, cursor, limit, results, err))                  \
    /* each list after its place in after (NULL: from the newest), at most  \
     * limit (1..INBOX_CONTACT_CAMPAIGNS_MAX) of each; list zeroed;           \
     * INBOX_ERR_INVALID (field "cursor") for an id no list gave */           \
    X(RULED, contact_campaigns,                                               \
      (inbox_store_t *store, const char *org_id, const char *contact_id,      \
       const inbox_contact_campaigns_after_t *after, unsigned limit,          \
       inbox_contact_campaigns_t *list, inbox_error_t *err),                  \
      (store, org_id, contact_id, after, limit, list, err))                   \
    /* tags NULL when audience_all */                                         \
    X(PLAIN, campaign_audience,                                               \
      (inbox_store_t *store, const char *org_id, int audience_all,            \
       const inbox_tags_t *tags, int64_t *recipients, int64_t *suppressed,    \
       int64_t *no_mms, inbox_error_t *err),                                  \
      (store, org_id, audience_all, tags, recipients, suppressed, no_mms,     \
       err))                                                                  \
    /* page zeroed, cursor "" for the first page */                           \
    X(RULED, campaigns_active,                                                \
      (inbox_store_t *store, int64_t since, const char *cursor,               \
       inbox_campaign_page_t *page, inbox_error_t *err),                      \
      (store, since, cursor, page, err))                                      \
    /* campaign zeroed (the caller's, or store.c's own) */                    \
    X(RULED, campaign_progress,                                               \
      (inbox_store_t *store, const char *org_id, const char *campaign_id,     \
       int64_t now, inbox_campaign_t *campaign, inbox_event_list_t *events,   \
       inbox_error_t *err),                                                   \
      (store, org_id, campaign_id, now, campaign, events, err))               \


#define INBOX_STORE_OP_MEMBER(kind, name, params, args)                       \
    inbox_status_t (*name) params;

typedef struct {
    const char  *name;               /* "sqlite", "mongodb" */
    void       (*close)(inbox_store_t *store);

    INBOX_STORE_OPERATIONS(INBOX_STORE_OP_MEMBER)
} inbox_store_ops_t;


/*
 * A backend whose functions are named PREFIX_NAME declares them in its
 * header with
 *     #define PREFIX_OP(kind, name, params, args)
 *         inbox_status_t PREFIX_##name params;
 *     INBOX_STORE_OPERATIONS(PREFIX_OP)
 * and fills its table in its core file with
 *     #define PREFIX_OP(kind, name, params, args)  .name = PREFIX_##name,
 *     static const inbox_store_ops_t  ops = {
 *         .name = "...", .close = ..., INBOX_STORE_OPERATIONS(PREFIX_OP)
 *     };
 */


struct inbox_store_s {
    const inbox_store_ops_t  *ops;
    /* the store's schema version as opened (which the open migrated it
     * to, or refused it), 0 for a backend that keeps none (MongoDB) */
    int                       schema_version;
};

/*
 * The text an inbound keyword message is answered with, once
 * inbox_keyword_answered said it is (each backend's ingest, in the
 * message's own transaction or steps): inbox_keyword_reply in the
 * keyword's language (result->keyword_lang) with the organization's
 * business name and support contact, checked as any text sent
 * (segments.h), and its segments.  *text is malloc'd.
 */
inbox_status_t inbox_store_keyword_text(const inbox_ingest_result_t *result,
    const inbox_settings_t *settings, char **text, unsigned *segments,
    inbox_error_t *err);

/* Each takes the URI without its scheme ("PATH" for sqlite:PATH, the whole
 * "mongodb://..." for MongoDB); create says whether a missing store may be
 * made (inbox_store_create) or not (inbox_store_open). */
inbox_store_t *inbox_store_sqlite_open(const char *path, int create,
    inbox_error_t *err);
/* The SQLite URI's form without its scheme ("PATH" or "PATH?option"):
 * the path's length and whether commits sync fully, or INBOX_ERR_INVALID
 * with why (inbox_store_uri_check asks it, so that nginx -t does). */
inbox_status_t inbox_store_sqlite_uri(const char *uri, size_t *path_len,
    int *full_sync, inbox_error_t *err);
/* The schema version this build keeps an SQLite store at. */
int inbox_store_sqlite_schema_version(void);
inbox_store_t *inbox_store_mongo_open(const char *uri, int create,
    inbox_error_t *err);

#endif
