/*
 * The store: every durable fact of the inbox, behind domain operations.
 *
 * Callers never see SQL or MongoDB documents.  A store is opened from a URI:
 *   sqlite:PATH          the embedded default (WAL, one connection per thread)
 *   mongodb://...        MongoDB through mongo-c-driver
 *
 * An inbox_store_t may be shared by threads: each backend keeps what must
 * not be shared (an SQLite connection, a mongoc client) per thread.  Calls
 * block; in nginx they run in a thread pool, never on the event loop.
 *
 * Every operation that changes what a browser shows also appends its events
 * (with the organization's next org_seq) in the same transaction, and hands
 * them back in an inbox_event_list_t for the caller to push (a caller that
 * pushes nothing passes NULL).  Which events a change makes is decided in
 * libinbox (inbox_change_*, event.h), the same for every backend, as are
 * previews, page limits and unread counting (model.h): a backend only
 * persists and queries.  The operations a backend implements are listed
 * once, in libinbox/src/store_backend.h.
 *
 * Output structs are filled by the store and freed by the caller with their
 * _free function (see model.h), also after a failure.
 */
#ifndef INBOX_STORE_H
#define INBOX_STORE_H

#include <stdint.h>
#include <inbox/error.h>
#include <inbox/model.h>
#include <inbox/contact.h>
#include <inbox/event.h>
#include <inbox/token.h>
#include <inbox/account.h>
#include <inbox/session.h>
#include <inbox/optout.h>
#include <inbox/settings.h>
#include <inbox/keywords.h>
#include <inbox/media.h>
#include <inbox/billing.h>
#include <inbox/delivery.h>
#include <inbox/status_check.h>
#include <inbox/outbox.h>
#include <inbox/reply.h>
#include <inbox/campaign.h>

typedef struct inbox_store_s  inbox_store_t;

typedef struct {
    inbox_status_t  status;      /* INBOX_OK, or why this one failed */
    int             duplicate;   /* stored before: nothing changed now */
    char            message_id[INBOX_ID_MAX];
    char            conversation_id[INBOX_ID_MAX];
    /* a message stored now (not a duplicate) that is a keyword
     * (keywords.h) and its language (its answer's), whether it opted its
     * contact out or in (a repeated STOP changes nothing), whether the
     * number texted has its carrier answer keywords (inbox_number_t),
     * and whether its answer was queued with it (answered: the caller
     * wakes the sender) */
    inbox_keyword_t  keyword;
    inbox_keyword_lang_t  keyword_lang;
    int              opt_changed;
    int              carrier_answers_keywords;
    int              answered;
    char             org_id[INBOX_ID_MAX];
} inbox_ingest_result_t;

/*
 * Opens (and migrates to the current schema) the store named by uri.  It
 * never makes a new, empty store: a store that does not exist, is not an
 * inbox store or cannot be written is INBOX_ERR_UNAVAILABLE, so that a
 * server answers 503 (carriers retry) instead of starting over empty.
 */
inbox_store_t *inbox_store_open(const char *uri, inbox_error_t *err);
/* The same, but makes the store when it does not exist yet (an SQLite
 * file readable by its owner only): first setup, inboxctl's business. */
inbox_store_t *inbox_store_create(const char *uri, inbox_error_t *err);
void inbox_store_close(inbox_store_t *store);
/* Checks uri's form without opening anything: INBOX_OK when it names a
 * backend (sqlite:PATH with its option if any, mongodb://... or
 * mongodb+srv://...), else INBOX_ERR_INVALID with why.  Sets *file (unless
 * file is NULL) to the SQLite file's path within uri (its options after it),
 * or NULL for another backend: a server resolves a relative path against its
 * own directory. */
inbox_status_t inbox_store_uri_check(const char *uri, const char **file,
    inbox_error_t *err);

/*
 * uri as a log may show it: a password in it (mongodb://USER:PASSWORD@...)
 * replaced by "***", the rest as it is; cut to size - 1 bytes.  Every
 * program that logs a store URI logs this instead.  Returns buf.
 */
#define INBOX_STORE_URI_LOG_MAX  512
char *inbox_store_uri_redacted(const char *uri, char *buf, size_t size);

/*
 * For the log, so that a program older than its store shows: the schema
 * this build keeps each backend's store at ("sqlite schema 36, mongodb
 * none"), and the one an open store has ("sqlite schema 36", or
 * "mongodb, no schema version").  Each returns buf.
 */
char *inbox_store_schema_expected(char *buf, size_t size);
char *inbox_store_schema(const inbox_store_t *store, char *buf, size_t size);

/* "sqlite" or "mongodb". */
const char *inbox_store_backend(const inbox_store_t *store);

/* INBOX_OK when the store answers and takes a write now (a tiny one of its
 * own, in its own transaction); INBOX_ERR_UNAVAILABLE, with why, when it
 * does not: gone, replaced, read-only, its disk full, unreachable. */
inbox_status_t inbox_store_ping(inbox_store_t *store, inbox_error_t *err);

/*
 * Housekeeping that must not delay a request, for the caller to run now
 * and then off its hot path (nginx: in a pool thread, at most every
 * 100 ms while webhooks arrive; after an import).  SQLite indexes the
 * contacts noted for search and copies its write-ahead log back into the
 * database (a passive checkpoint, which never blocks writers); a backend
 * with nothing to do returns INBOX_OK.
 */
inbox_status_t inbox_store_maintain(inbox_store_t *store,
    inbox_error_t *err);

/* Organizations, numbers, users, tokens, credits and billing: the admin
 * operations behind inboxctl. */
/* timezone NULL or "" for UTC, else a zone of the system's time zone
 * database (INBOX_ERR_INVALID naming "timezone" otherwise). */
inbox_status_t inbox_store_org_create(inbox_store_t *store, const char *name,
    const char *timezone, char id[INBOX_ID_MAX], inbox_error_t *err);
/* INBOX_ERR_NOT_FOUND when no organization has that name. */
inbox_status_t inbox_store_org_find_by_name(inbox_store_t *store,
    const char *name, char id[INBOX_ID_MAX], inbox_error_t *err);
/* INBOX_ERR_CONFLICT when the number already belongs to an organization.
 * number->carrier_answers_keywords: the carrier answers STOP, START and
 * HELP on it, so the inbox does not (inbox_keyword_answered). */
inbox_status_t inbox_store_number_add(inbox_store_t *store,
    const inbox_number_t *number, inbox_error_t *err);
/* Replaces the carrier, credentials and carrier_answers_keywords of the
 * organization's number number->e164 (new credentials, another API base,
 * the carrier's keyword answers turned on or off): INBOX_ERR_NOT_FOUND
 * when the organization has no such number. */
inbox_status_t inbox_store_number_update(inbox_store_t *store,
    const inbox_number_t *number, inbox_error_t *err);
/* INBOX_ERR_NOT_FOUND when no organization owns e164. */
inbox_status_t inbox_store_number_find(inbox_store_t *store,
    const char *e164, inbox_number_t *number, inbox_error_t *err);
/*
 * The organization gives up its number e164 (a number released at the
 * carrier): from then on a thread that texted it is answered from the
 * organization's first number, an inbound message to it is refused as to
 * any number no organization has, and the number's credentials are gone
 * (a carrier's late report of what it sent is refused; the messages
 * keep the status they had).  INBOX_ERR_NOT_FOUND when the organization
 * has no such number (another's included).  INBOX_ERR_CONFLICT while
 * messages wait in the outbox to go from it (*waiting says how many):
 * removed, they would fail "number_removed" instead of going out.
 */
inbox_status_t inbox_store_number_remove(inbox_store_t *store,
    const char *org_id, const char *e164, int64_t *waiting,
    inbox_error_t *err);
/* The organization's numbers in the order they were added (the first is
 * the one campaigns and threads with no number of their own send from),
 * each with its carrier and credentials (account.h); truncated past
 * INBOX_ACCOUNT_LIST_MAX.  INBOX_ERR_NOT_FOUND when there is no such
 * organization. */
inbox_status_t inbox_store_numbers_list(inbox_store_t *store,
    const char *org_id, inbox_number_list_t *list, inbox_error_t *err);
/* password_hash is libsodium's crypto_pwhash_str output.  INBOX_ERR_CONFLICT
 * when the email is taken; a user removed from this organization comes
 * back (same id) with the new role and password.  The team's events
 * (user.updated here, see event.h) go to events, which may be NULL. */
inbox_status_t inbox_store_user_add(inbox_store_t *store, const char *org_id,
    const char *email, inbox_role_t role, const char *password_hash,
    char id[INBOX_ID_MAX], inbox_event_list_t *events, inbox_error_t *err);
/* A read that answers as inbox_store_user_add would about email, before
 * a password is hashed for it: INBOX_OK when the organization could add
 * it (nobody has it, or a user removed from this organization, who would
 * come back), INBOX_ERR_CONFLICT naming "email" when anyone else has it.
 * The add still refuses an email taken meanwhile. */
inbox_status_t inbox_store_user_email_check(inbox_store_t *store,
    const char *org_id, const char *email, inbox_error_t *err);
/* Stores the hash of a new API token (see token.h): user_email NULL for an
 * organization-wide token, name NULL or "" for none (else see
 * inbox_token_name_valid), expires_at 0 for never (else ms).  id (may be
 * NULL) gets the token's id.  INBOX_ERR_NOT_FOUND when the user is not on
 * the team, also when removed while the token was being made (so that no
 * token outlives a removal to work again if they rejoin). */
inbox_status_t inbox_store_token_add(inbox_store_t *store, const char *org_id,
    const char *user_email, const char *token_hash, const char *name,
    int64_t expires_at, char id[INBOX_ID_MAX], inbox_error_t *err);
/* Who the token with that hash acts as.  INBOX_ERR_UNAUTHENTICATED, with a
 * message for its holder, when no token has that hash, it is revoked or
 * expired (inbox_token_check), or its user is no longer on the team;
 * nothing is cached, so a revocation counts from the next call. */
inbox_status_t inbox_store_token_find(inbox_store_t *store,
    const char *token_hash, inbox_principal_t *principal, inbox_error_t *err);
/* The organization's tokens, oldest first (see inbox_token_list_t).
 * INBOX_ERR_NOT_FOUND when there is no such organization. */
inbox_status_t inbox_store_tokens_list(inbox_store_t *store,
    const char *org_id, inbox_token_list_t *list, inbox_error_t *err);
/* Revokes the organization's token named by token_id or, when token_id is
 * NULL, by token_hash; id (may be NULL) gets its id.  A revocation is a
 * token.revoked event (which closes the WebSockets the token opened),
 * handed to events (may be NULL).  Revoking a revoked token changes
 * nothing and succeeds.  INBOX_ERR_NOT_FOUND when the organization has no
 * such token (also another organization's). */
inbox_status_t inbox_store_token_revoke(inbox_store_t *store,
    const char *org_id, const char *token_id, const char *token_hash,
    char id[INBOX_ID_MAX], inbox_event_list_t *events, inbox_error_t *err);
/*
 * Billing changes (inboxctl's): each writes the organization's
 * billing.updated (event.h) with the billing as it is after it, pushed
 * by nobody: ws-server finds it at its next look at the store.
 */
/* Adds credits (1 to INBOX_CREDITS_GRANT_MAX) to the balance, with its
 * ledger entry ("grant"). */
inbox_status_t inbox_store_credits_grant(inbox_store_t *store,
    const char *org_id, int64_t credits, inbox_error_t *err);
/* Billing active or not: while it is not, nothing is sent but keyword
 * answers (inbox_outbox_billing); active again, the campaign messages
 * claims parked meanwhile are due at once. */
inbox_status_t inbox_store_billing_set(inbox_store_t *store,
    const char *org_id, int active, inbox_error_t *err);
/* Moves the organization to plan (billing.h); the credits it holds stay
 * as they are, for a later per-message plan.  A reply being accepted
 * while the plan changes may be charged by either plan. */
inbox_status_t inbox_store_plan_set(inbox_store_t *store,
    const char *org_id, inbox_plan_t plan, inbox_error_t *err);
/* Creates the contact (and its empty conversation) or renames it: name
 * NULL keeps its name, "" forgets it (null).  INBOX_ERR_INVALID for a
 * phone number not in E.164 form. */
inbox_status_t inbox_store_contact_upsert(inbox_store_t *store,
    const char *org_id, const char *phone, const char *name,
    char id[INBOX_ID_MAX], inbox_error_t *err);
/* The contact's record.  INBOX_ERR_NOT_FOUND also for another
 * organization's contact or a malformed id. */
inbox_status_t inbox_store_contact_get(inbox_store_t *store,
    const char *org_id, const char *contact_id,
    inbox_contact_record_t *contact, inbox_error_t *err);
/* A new contact with phone (E.164, else INBOX_ERR_INVALID naming
 * "phone") and what edit sets, and its empty conversation; *contact gets
 * its record.  It is pushed as inbox_change_contact says of a contact
 * made (contact.updated, with the organization's next org_seq), so that
 * every browser's Contacts list shows it.  INBOX_ERR_CONFLICT when the
 * number is a contact already. */
inbox_status_t inbox_store_contact_create(inbox_store_t *store,
    const char *org_id, const char *phone, const inbox_contact_edit_t *edit,
    inbox_contact_record_t *contact, inbox_event_list_t *events,
    inbox_error_t *err);
/*
 * Sets what edit sets (a PATCH) and fills *contact with the record as it
 * is then.  A new name shows at once in the thread list and its search.
 * What the edit changed (inbox_contact_edit_changes) is pushed as
 * inbox_change_contact says, with the organization's next org_seq: a new
 * name conversation.updated, new tags or time zone alone contact.updated
 * (so every browser showing the thread or the contact's panel shows the
 * change), an edit that leaves the contact as it was nothing.
 * INBOX_ERR_NOT_FOUND as for inbox_store_contact_get.
 */
inbox_status_t inbox_store_contact_update(inbox_store_t *store,
    const char *org_id, const char *contact_id,
    const inbox_contact_edit_t *edit, inbox_contact_record_t *contact,
    inbox_event_list_t *events, inbox_error_t *err);
/* Newest contacts first, keyset paginated (see inbox_contact_query_t).
 * INBOX_ERR_INVALID (with the field) for a cursor this list did not
 * give. */
inbox_status_t inbox_store_contacts_list(inbox_store_t *store,
    const char *org_id, const inbox_contact_query_t *query,
    inbox_contact_page_t *page, inbox_error_t *err);
/* The organization's tags with how many contacts carry each, as
 * inbox_tag_page_t says (at most INBOX_TAGS_LIST_MAX; page->more when
 * there are others).  One read of the organization's tags only. */
inbox_status_t inbox_store_tags_list(inbox_store_t *store,
    const char *org_id, inbox_tag_page_t *page, inbox_error_t *err);
/*
 * One batch of an import (see import.h), in one transaction: each row's
 * number becomes a contact (with its empty conversation), or the contact
 * it is gets the row's name (when it has one) and the row's tags added
 * to its own.  Opt-outs are never touched.  A number twice in the batch
 * is created once and then updated; a row marked repeated (an earlier row
 * of the import has its number) is counted repeated, not updated.  A
 * contact keeps at most INBOX_TAGS_MAX tags: one that a row gives a tag
 * it lacks past them is counted capped (once a batch).  Each contact
 * the batch made, and each that was there before it and that it
 * renamed, gave a new tag or another time zone, is pushed as
 * inbox_change_contact says (one event, with the organization's next
 * org_seq, so every browser showing its Contacts list, its thread or its
 * contact panel shows it); more than INBOX_IMPORT_EVENTS_MAX of them make
 * one contacts.imported instead.
 */
inbox_status_t inbox_store_contacts_import(inbox_store_t *store,
    const char *org_id, const inbox_contact_row_t *rows, size_t n,
    inbox_import_count_t *count, inbox_event_list_t *events,
    inbox_error_t *err);
/* The contact's timeline, newest first, keyset paginated (cursor NULL or
 * "" for the first page; limit as inbox_list_limit says): its messages,
 * its opt-out and opt-in events (an event before the message of the
 * same time: the STOP that caused it is older), and every campaign and
 * poll sent to it and every poll answer, not only those its record
 * lists (an answer, then a send, before a message of the same time; an
 * event before both).  INBOX_ERR_NOT_FOUND as
 * for inbox_store_contact_get; INBOX_ERR_INVALID (field "cursor") for a
 * cursor this timeline did not give. */
inbox_status_t inbox_store_contact_timeline(inbox_store_t *store,
    const char *org_id, const char *contact_id, const char *cursor,
    unsigned limit, inbox_timeline_page_t *page, inbox_error_t *err);

/*
 * Stores a batch of inbound messages in one transaction (group commit):
 * for each, the organization is the owner of msgs[i].to; the contact and
 * its conversation are created or updated, the message and its media are
 * inserted unless (org, carrier, provider_id) is already stored, the unread
 * count rises, an archived conversation comes back to the default view,
 * the conversation keeps msgs[i].to as the number its contact last texted
 * (its replies go from it, inbox_store_reply_accept), and the events
 * message.created, conversation.updated and unread.total are appended.
 * A message that is an opt-out or opt-in keyword (keywords.h) also opts
 * its contact out (source keyword) or back in, in the same transaction
 * (MongoDB: see store_mongo_ingest.c), with its timeline event and
 * contact.updated.  A keyword the inbox answers
 * (inbox_keyword_answered) has its answer queued in that transaction
 * too, as inbox_store_outbox_notice queues one (its text
 * inbox_keyword_reply's, with the organization's business name and
 * support contact; its events message.created and conversation.updated
 * after the message's), so that the message is never stored without
 * it: a failure there fails the message, for the carrier to retry.
 * results[i] tells each message's fate
 * (INBOX_ERR_NOT_FOUND for an unknown number) without failing the
 * others.  The return value is
 * INBOX_OK when the batch is durable, else nothing of it was stored
 * (SQLite: one transaction).  MongoDB, without one, keeps the messages
 * before the one it failed on (results[i].status INBOX_OK, their events
 * in the list) and may have stored the one it failed on without its
 * thread and events: hidden until the carrier's retry finishes it (not a
 * duplicate; see store_mongo_ingest.c).
 */
inbox_status_t inbox_store_inbound_ingest(inbox_store_t *store,
    const inbox_inbound_t *msgs, size_t n, inbox_ingest_result_t *results,
    inbox_event_list_t *events, inbox_error_t *err);

/* Newest activity first, keyset paginated (see inbox_conversation_query_t;
 * its limit follows inbox_list_limit).  q matches a name or a phone number
 * in part; a search from INBOX_FILTER_ALL also finds archived threads
 * (inbox_query_any_archived).  page->unread_total and page->counts (each
 * filter's threads, for the tabs, whatever q) count the whole
 * organization; the counts come with a first page only (has_counts,
 * inbox_query_counted), the unread total with every page.
 * INBOX_ERR_INVALID (with the field) for an unknown filter or a cursor
 * this list did not give. */
inbox_status_t inbox_store_conversations_list(inbox_store_t *store,
    const char *org_id, const inbox_conversation_query_t *query,
    inbox_conversation_page_t *page, inbox_error_t *err);
/* INBOX_ERR_NOT_FOUND also for another organization's conversation. */
inbox_status_t inbox_store_conversation_get(inbox_store_t *store,
    const char *org_id, const char *conversation_id,
    inbox_conversation_t *conversation, inbox_error_t *err);
/*
 * A person's action on a thread (read, unread, archive, unarchive, star,
 * unstar; the rules are inbox_conversation_apply's, see model.h), in one
 * transaction: when it changes the thread, conversation.updated (and
 * unread.total with the organization's new total, when that moved) are
 * appended with the organization's next org_seq.  An action that changes
 * nothing (every action is idempotent) writes and appends nothing, but
 * still fills *conversation.  Reading a thread also notes when.
 * INBOX_ERR_NOT_FOUND also for another organization's conversation or a
 * malformed id; INBOX_ERR_CONFLICT for an action the thread cannot take
 * (inbox_conversation_action_check).
 */
inbox_status_t inbox_store_conversation_act(inbox_store_t *store,
    const char *org_id, const char *conversation_id, inbox_action_t action,
    inbox_conversation_t *conversation, inbox_event_list_t *events,
    inbox_error_t *err);
/* Newest first; cursor NULL or "" for the first page; limit as
 * inbox_list_limit says. */
inbox_status_t inbox_store_messages_list(inbox_store_t *store,
    const char *org_id, const char *conversation_id, const char *cursor,
    unsigned limit, inbox_message_page_t *page, inbox_error_t *err);

inbox_status_t inbox_store_realtime_state(inbox_store_t *store,
    const char *org_id, inbox_realtime_state_t *state, inbox_error_t *err);

/* Where the streams of n organizations stand (n at most
 * INBOX_STREAM_POSITIONS_MAX), in one query: positions[i] for
 * org_ids[i], zeroed for an id that names no organization.  Cheaper than
 * inbox_store_realtime_state (no unread total), for ws-server's periodic
 * look at the organizations it holds sockets of. */
inbox_status_t inbox_store_stream_positions(inbox_store_t *store,
    const char *const *org_ids, size_t n, inbox_stream_position_t *positions,
    inbox_error_t *err);

/*
 * Resume: an organization's events again, for a client
 * that missed them (store_sqlite_events.c, store_mongo_events.c)
 *
 * Pushes onto events (not cleared first) the organization's events with
 * after_seq < org_seq <= until_seq (until_seq <= 0: up to the newest), at
 * most limit (1..INBOX_EVENTS_SINCE_MAX; more is taken as the most), in
 * org_seq order, each rendered as its frame from the data as it is now,
 * with its stored org_seq and epoch (inbox_event_ref_render).  Fewer than
 * asked, without a reset, means the rest is not stored yet (MongoDB: a
 * change numbered but still being written); ask again from the last one.
 * INBOX_ERR_CONFLICT means "reset": err->field "epoch" when epoch is not
 * the stream's, "org_seq" when some event asked for is no longer kept (or
 * a row it refers to is gone).  after_seq at or past the newest: INBOX_OK
 * and no events.  INBOX_ERR_NOT_FOUND for an unknown organization,
 * INBOX_ERR_INVALID for a negative after_seq or a limit of 0.
 */
inbox_status_t inbox_store_events_since(inbox_store_t *store,
    const char *org_id, const char *epoch, int64_t after_seq,
    int64_t until_seq, size_t limit, inbox_event_list_t *events,
    inbox_error_t *err);

/*
 * Retention: deletes, in one short write transaction, at most max events
 * that keep no longer holds (inbox_event_prunable), each organization's
 * oldest first and stopping at its first one kept; *removed (may be NULL)
 * says how many.  Called again while *removed == max, it goes on.  Run by
 * the maintenance step (the nginx module's inbox_events_keep_seconds and
 * inbox_events_keep_count).
 */
inbox_status_t inbox_store_events_prune(inbox_store_t *store, int64_t now,
    const inbox_event_retention_t *keep, size_t max, size_t *removed,
    inbox_error_t *err);

/*
 * A new epoch for every organization's event stream, once a backup is
 * restored: its numbering went back with it, and a browser or ws-server
 * that saw numbers past it would take the new events for ones it has.
 * With the new epoch each of them resets (reloads) instead.  *orgs (may
 * be NULL): how many organizations.  `inboxctl events new-epoch`.
 */
inbox_status_t inbox_store_events_new_epoch(inbox_store_t *store,
    size_t *orgs, inbox_error_t *err);

/*
 * Brings a backup back while everything runs (`inboxctl store restore`):
 * SQLite writes the backup file into the live store through its own log,
 * as sqlite3's .restore does, then starts a new epoch (above).  The
 * backup must be this store's (its identity), else INBOX_ERR_INVALID
 * saying so; one of an older schema is upgraded in a copy beside the
 * store first, one of a newer schema is INBOX_ERR_INVALID.
 * INBOX_ERR_UNAVAILABLE while the
 * store stays busy.  MongoDB: INBOX_ERR_INVALID (mongorestore does it;
 * then inbox_store_events_new_epoch).
 */
inbox_status_t inbox_store_restore(inbox_store_t *store, const char *backup,
    inbox_error_t *err);

/*
 * Accounts and sessions: sign-in, "me", the team and inboxctl's listings
 * (each backend's store_BACKEND_admin.c for the organizations' list,
 * _users.c for users, _team.c for roles and removal, _sessions.c for
 * sessions; user_add and user_email_check above are _users.c's too)
 */

/* Every organization, oldest first; truncated past INBOX_ACCOUNT_LIST_MAX. */
inbox_status_t inbox_store_orgs_list(inbox_store_t *store,
    inbox_org_list_t *list, inbox_error_t *err);
/* The organization org_id and, unless user_id is NULL or "", its user
 * user_id.  INBOX_ERR_NOT_FOUND when either is not there (a user of
 * another organization included). */
inbox_status_t inbox_store_account_get(inbox_store_t *store,
    const char *org_id, const char *user_id, inbox_account_t *account,
    inbox_error_t *err);
/* The user whose email address is email (in any case), with the stored
 * password hash in *password_hash (malloc'd, the caller frees it; NULL
 * when the user has none).  INBOX_ERR_NOT_FOUND when nobody has it. */
inbox_status_t inbox_store_user_find_by_email(inbox_store_t *store,
    const char *email, inbox_user_t *user, char **password_hash,
    inbox_error_t *err);
/* The organization's users, oldest first.  INBOX_ERR_NOT_FOUND when there
 * is no such organization. */
inbox_status_t inbox_store_users_list(inbox_store_t *store,
    const char *org_id, inbox_user_list_t *list, inbox_error_t *err);
/* Gives the organization's user email a new password hash (see
 * password.h) and ends all of that user's sessions, in one transaction
 * with its user.signed_out event (which closes their WebSockets); id (may
 * be NULL) gets the user's id.  A change of one's own password names the
 * hash its current password was verified against (old_hash; NULL for a
 * reset, which replaces whatever it is): INBOX_ERR_CONFLICT, nothing
 * changed, when it is no longer the user's (a colleague's reset
 * meanwhile is not undone).  INBOX_ERR_NOT_FOUND when the organization
 * has no such user. */
#define INBOX_PASSWORD_CHANGED_MEANWHILE                                     \
    "Your password was changed elsewhere while this change was being "       \
    "made, so this one was not made; sign in with the new password."
inbox_status_t inbox_store_user_password_set(inbox_store_t *store,
    const char *org_id, const char *email, const char *old_hash,
    const char *password_hash, char id[INBOX_ID_MAX],
    inbox_event_list_t *events, inbox_error_t *err);
/* The team (a billing contact's to manage; an organization always keeps
 * one).  User user_id takes role; *user (may be NULL) gets the user as
 * stored now.  INBOX_ERR_NOT_FOUND when the organization has no such
 * user (a removed one included); INBOX_ERR_CONFLICT when it is the last
 * billing contact becoming a member. */
inbox_status_t inbox_store_user_role_set(inbox_store_t *store,
    const char *org_id, const char *user_id, inbox_role_t role,
    inbox_user_t *user, inbox_event_list_t *events, inbox_error_t *err);
/* Removes user user_id from the organization, in one transaction with
 * its user.removed event (which closes their WebSockets): no sign-in, no
 * session and no API token of theirs works any more, and they leave the
 * list.  What they did stays (the messages they sent name
 * them), and user_add with their email brings them back to this
 * organization.  INBOX_ERR_NOT_FOUND and INBOX_ERR_CONFLICT as for
 * inbox_store_user_role_set (the last billing contact stays). */
inbox_status_t inbox_store_user_remove(inbox_store_t *store,
    const char *org_id, const char *user_id, inbox_event_list_t *events,
    inbox_error_t *err);
/* A sign-in's rehash (password.h, inbox_password_needs_rehash): user
 * user_id's password hash becomes new_hash if it is still old_hash.  The
 * password is the same, so the user's sessions stay.  *replaced (may be
 * NULL) says whether it did; a user gone, or whose hash changed since it
 * was read (a new password meanwhile), keeps what it has: INBOX_OK, 0. */
inbox_status_t inbox_store_user_password_rehash(inbox_store_t *store,
    const char *org_id, const char *user_id, const char *old_hash,
    const char *new_hash, int *replaced, inbox_error_t *err);
/* Stores a new session of the user, made now, by the hash of its id (see
 * session.h); when it ends is decided by session.h's rules. */
inbox_status_t inbox_store_session_create(inbox_store_t *store,
    const char *org_id, const char *user_id, const char *session_hash,
    inbox_error_t *err);
/* The same for a sign-in that verified password_hash: made only while
 * it is still the user's and the user is on the team, else
 * INBOX_ERR_UNAUTHENTICATED (a new password, or a removal, that came
 * while the password was being checked ends every session, this one
 * too). */
inbox_status_t inbox_store_session_sign_in(inbox_store_t *store,
    const char *org_id, const char *user_id, const char *password_hash,
    const char *session_hash, inbox_error_t *err);
/* Who the session with that hash acts as (the user's role as it is now,
 * and the session's id), recording its use when the last one is a minute
 * old.  INBOX_ERR_UNAUTHENTICATED, asking to sign in again, when there is
 * no such session or it has ended (inbox_session_check). */
inbox_status_t inbox_store_session_find(inbox_store_t *store,
    const char *session_hash, inbox_principal_t *principal,
    inbox_error_t *err);
/* Ends the session (a logout), with its session.ended event naming the
 * session's id (which closes the WebSockets it opened), handed to events
 * (may be NULL); ending one that is not there is not an error, and makes
 * no event. */
inbox_status_t inbox_store_session_delete(inbox_store_t *store,
    const char *session_hash, inbox_event_list_t *events,
    inbox_error_t *err);
/* Removes the sessions that have ended by now; *removed (may be NULL)
 * counts them. */
inbox_status_t inbox_store_sessions_purge(inbox_store_t *store, int64_t now,
    size_t *removed, inbox_error_t *err);

/*
 * Opt-out, opt-in and the organization's settings
 * (store_sqlite_optout.c, store_mongo_optout.c; the rules: optout.h and
 * settings.h)
 */

/*
 * Opts the contact out (see optout.h) at at (0: now, read once the
 * store's write lock is held, so that a message accepted before the
 * opt-out commits is never stamped after it and is withdrawn), from source, by
 * keyword (the keyword's name for INBOX_OPT_OUT_KEYWORD, else NULL), in
 * one transaction with its timeline event, contact.updated and
 * conversation.updated; *contact (may be NULL) gets its record as it is
 * then.  For INBOX_OPT_OUT_CARRIER, sent_at is when the carrier took or
 * refused the message it refused (a status report's sent_at, a send
 * report's opted_out_sent_at): a contact that opted in since stays
 * opted in, compared in the same transaction (optout.h).  A contact
 * opted out already stays as it was: nothing is written or pushed, and
 * it is no error.  INBOX_ERR_NOT_FOUND as for inbox_store_contact_get;
 * INBOX_ERR_INVALID for an unknown source.
 */
inbox_status_t inbox_store_contact_opt_out(inbox_store_t *store,
    const char *org_id, const char *contact_id,
    inbox_opt_out_source_t source, const char *keyword, int64_t at,
    int64_t sent_at, inbox_contact_record_t *contact,
    inbox_event_list_t *events, inbox_error_t *err);
/*
 * Opts an opted-out contact back in because it texted keyword (the
 * keyword's name: only the contact opts back in, see optout.h), as
 * inbox_store_contact_opt_out does; a contact not opted out stays as it
 * is.  Ingest does this itself for an opt-in keyword, in the message's
 * transaction.
 */
inbox_status_t inbox_store_contact_opt_in(inbox_store_t *store,
    const char *org_id, const char *contact_id, const char *keyword,
    int64_t at, inbox_contact_record_t *contact, inbox_event_list_t *events,
    inbox_error_t *err);
/* The contact's opt-out and opt-in events, newest first, after the one at
 * (after_at, after_id) (after_id NULL or "": from the newest), at most
 * limit (as inbox_list_limit says); page->more says whether more follow.
 * INBOX_ERR_NOT_FOUND as for inbox_store_contact_get; INBOX_ERR_INVALID
 * (field "cursor") for an after_id the store did not give. */
inbox_status_t inbox_store_contact_events_list(inbox_store_t *store,
    const char *org_id, const char *contact_id, int64_t after_at,
    const char *after_id, unsigned limit, inbox_contact_event_page_t *page,
    inbox_error_t *err);

/* The organization's settings, with the defaults for what was never set
 * (settings.h).  INBOX_ERR_NOT_FOUND when there is no such organization. */
inbox_status_t inbox_store_settings_get(inbox_store_t *store,
    const char *org_id, inbox_settings_t *settings, inbox_error_t *err);
/* Changes what edit sets (checked first: INBOX_ERR_INVALID naming the
 * field, and nothing is stored) and fills *settings (may be NULL) with
 * the settings as they are then.  INBOX_ERR_NOT_FOUND as above.  An
 * edit that changed what GET shows writes the organization's
 * settings.updated (event.h; SQLite: in its transaction, MongoDB: after
 * it), whose frame goes to events (may be NULL: nobody pushes, and
 * ws-server finds it at its next look at the store, as inboxctl's);
 * one that changed nothing writes none. */
inbox_status_t inbox_store_settings_update(inbox_store_t *store,
    const char *org_id, const inbox_settings_edit_t *edit,
    inbox_settings_t *settings, inbox_event_list_t *events,
    inbox_error_t *err);
/* The country the organization's numbers without a country code are
 * read as (inbox_settings_country): its default_country, else fallback
 * (the server's; NULL is "US"), into out.  INBOX_ERR_NOT_FOUND as
 * above. */
inbox_status_t inbox_store_default_country(inbox_store_t *store,
    const char *org_id, const char *fallback, char out[INBOX_COUNTRY_MAX],
    inbox_error_t *err);

/*
 * Media: uploads and the copies of inbound MMS images (media.h)
 * (store_sqlite_media.c, store_mongo_media.c)
 */

/* Records an upload of the organization: media->file (a name
 * inbox_media_file_name made, else INBOX_ERR_INVALID), content_type (one
 * of media.h's types) and bytes; fills media->id and created_at.
 * INBOX_ERR_NOT_FOUND when there is no such organization. */
inbox_status_t inbox_store_media_add(inbox_store_t *store, const char *org_id,
    inbox_media_record_t *media, inbox_error_t *err);
/* The organization's uploads ids[0..n-1] (1 to INBOX_MEDIA_MAX of them),
 * in that order, into media[].  INBOX_ERR_NOT_FOUND naming "media_ids"
 * when any is unknown (another organization's too), its message the first
 * unknown id, whose record is the first left empty (id ""): which item of
 * a request's media_ids to name. */
inbox_status_t inbox_store_media_get(inbox_store_t *store, const char *org_id,
    const char *const *ids, size_t n, inbox_media_record_t *media,
    inbox_error_t *err);
/*
 * Up to limit (1..INBOX_MEDIA_FETCH_LIMIT_MAX) inbound media that need a
 * copy and are due by now, longest waiting first, each with the
 * organization's number of the message's carrier (its credentials).  Each
 * is leased for INBOX_MEDIA_FETCH_LEASE_MS: nobody else claims it
 * meanwhile, and it comes back by itself if no done or failed follows.
 * Each claim counts an attempt.  An empty list when none is due.
 */
inbox_status_t inbox_store_media_fetch_claim(inbox_store_t *store,
    int64_t now, unsigned limit, inbox_media_fetch_list_t *list,
    inbox_error_t *err);
/*
 * The copy of media idx of message_id is file (in the media directory),
 * content_type (what its bytes are) and bytes long; message.updated (the
 * message with its media's URL) is appended, so browsers show it.  When
 * it is the first attachment of its thread's last message, the thread's
 * last_message.media_type becomes content_type (the carrier may have
 * named it otherwise, or not at all), with conversation.updated if that
 * changed it.
 * INBOX_ERR_NOT_FOUND for no such media; INBOX_ERR_CONFLICT when it has a
 * copy already or was given up; INBOX_ERR_INVALID for a file name or type
 * media.h does not make: with these three no record points at file (the
 * caller removes it).  Another error may come after the copy was
 * recorded (MongoDB writes it before reading the message back and
 * appending the events): the caller keeps its file.
 */
inbox_status_t inbox_store_media_fetch_done(inbox_store_t *store,
    const char *message_id, unsigned idx, const char *file,
    const char *content_type, int64_t bytes, inbox_event_list_t *events,
    inbox_error_t *err);
/* A copy failed: it is due again at retry_at (see
 * inbox_media_fetch_retry_at), or, with retry_at 0, given up for good
 * (its state "failed", and message.updated appended).  Errors as for
 * inbox_store_media_fetch_done. */
inbox_status_t inbox_store_media_fetch_failed(inbox_store_t *store,
    const char *message_id, unsigned idx, int64_t retry_at,
    inbox_event_list_t *events, inbox_error_t *err);
/*
 * A claimed copy that never reached the carrier (the fetcher itself had
 * no file descriptor free): its lease ends and the attempt its claim
 * counted is taken back, so the next claim counts the same attempt
 * again; it is due again at due_at (> 0, else INBOX_ERR_INVALID).
 * Nothing a browser shows changes.  Errors as for
 * inbox_store_media_fetch_done; INBOX_ERR_CONFLICT also for one with no
 * attempt counted (never claimed).
 */
inbox_status_t inbox_store_media_fetch_give_back(inbox_store_t *store,
    const char *message_id, unsigned idx, int64_t due_at,
    inbox_error_t *err);
/*
 * Housekeeping: removes at most max (1..INBOX_MEDIA_PURGE_MAX) uploads
 * that nothing has used since now - keep_ms (media.h:
 * INBOX_MEDIA_KEEP_UNUSED_MS unless configured): made before it, and
 * neither attached since (by a reply or a campaign) nor released since
 * (a draft's edit dropped it), oldest first; their files from the media
 * directory dir, and their records.  Only an upload no message and no
 * campaign (draft or sent) names is removed; one released that
 * something still names (a reply sent with it, another draft) is
 * attached again instead.  In two phases, so that no file is ever left
 * that no record names (GET /media/FILE would serve it for good): the
 * uploads to remove are first marked purging, in one write (from then
 * on they are gone: a reply or campaign, inbox_store_reply_accept,
 * inbox_store_campaign_create and _update, attaches its uploads in the
 * write that stores it and is refused with inbox_media_gone's error for
 * one marked first; inbox_store_media_get finds none), then their files
 * are unlinked (one absent already is gone), then the records of those
 * whose file is gone are deleted.  Uploads a round left marked (a
 * process that died between, an unlink or a delete that failed) come
 * first in the next, any process's: their files unlinked again, their
 * records deleted.  files[0..*removed - 1] names those removed.  An
 * error means none was removed (*removed 0); those marked wait for the
 * next round.
 */
inbox_status_t inbox_store_media_purge(inbox_store_t *store, int64_t now,
    int64_t keep_ms, size_t max, const char *dir,
    char (*files)[INBOX_MEDIA_FILE_MAX], size_t *removed,
    inbox_error_t *err);

/* A media file unlinked (errnum 0), or whose unlink failed (errnum is
 * errno's value then: the file is still there). */
typedef void (*inbox_media_unlinked_pt)(const char *file, int errnum,
    void *data);

/*
 * inbox_store_media_purge, telling failed (when not NULL) of each upload
 * whose file could not be unlinked (EACCES, EIO, EROFS...): it stays
 * marked, and is tried again in the next round, so without this nobody
 * learns that its disk space is not freed.  Called once a file a round.
 */
inbox_status_t inbox_store_media_purge_reporting(inbox_store_t *store,
    int64_t now, int64_t keep_ms, size_t max, const char *dir,
    char (*files)[INBOX_MEDIA_FILE_MAX], size_t *removed,
    inbox_media_unlinked_pt failed, void *data, inbox_error_t *err);

/*
 * Which of the n (1..INBOX_MEDIA_NAMED_MAX) files, each a name
 * inbox_media_file_valid accepts, a record names: an upload (marked
 * purging or not), a message's media (an outbound MMS's, a reply's, a
 * campaign message's, an inbound copy) or a campaign's or a poll's,
 * draft, sent or cancelled; named[i] 1 or 0.  One read whatever n
 * (MongoDB: three commands).  INBOX_ERR_INVALID for another name or n.
 */
inbox_status_t inbox_store_media_files_named(inbox_store_t *store,
    char (*files)[INBOX_MEDIA_FILE_MAX], size_t n, unsigned char *named,
    inbox_error_t *err);

/*
 * The files a crash can leave in the media directory that no record
 * names (an upload's written before its record, a copy's before it was
 * recorded), which nothing else removes: dir is walked, and of the
 * regular files with a name inbox_media_file_valid accepts (nothing else
 * is looked at) those last changed before `before` (seconds since the
 * epoch: a file being written, or written and not yet recorded, is
 * younger than the grace), the store is asked in batches
 * (inbox_store_media_files_named) and those no record names unlinked,
 * or only counted when dry_run.  each, when not NULL, is called with
 * every one removed (or, dry_run, to remove), errnum 0, and with every
 * one whose unlink failed, errnum why (it counts as failed).  An error
 * (dir unreadable, the store's) stops the walk; *result counts what was
 * done before it.
 */
typedef struct {
    size_t  looked;       /* media files older than the grace */
    size_t  recent;       /* media files younger: left alone */
    size_t  kept;         /* a record names them */
    size_t  removed;      /* (dry_run: to remove) */
    size_t  failed;       /* their unlink failed: still there */
} inbox_media_orphans_t;

inbox_status_t inbox_store_media_sweep_orphans(inbox_store_t *store,
    const char *dir, time_t before, int dry_run, inbox_media_unlinked_pt each,
    void *data, inbox_media_orphans_t *result, inbox_error_t *err);

/*
 * Replies, the outbox and billing
 * (store_sqlite_outbox.c, store_sqlite_billing.c and their MongoDB
 * twins; the rules are reply.h's, outbox.h's, delivery.h's and
 * billing.h's)
 */

/*
 * Accepts a reply in one transaction: the checks, in this order
 * (nothing is stored when one fails):
 *   INBOX_ERR_INVALID (the field)    a malformed reply (inbox_reply_check)
 *   INBOX_ERR_NOT_FOUND              no such conversation (also another
 *                                    organization's), or user
 *   INBOX_ERR_CONTACT_OPTED_OUT      the contact opted out (409)
 *   INBOX_ERR_BILLING_INACTIVE       billing lapsed (403)
 *   INBOX_ERR_INSUFFICIENT_CREDITS   the balance is short (402, with
 *                                    err->needed and err->balance)
 *   INBOX_ERR_CONFLICT               the organization has no sending
 *                                    number, or the Idempotency-Key was
 *                                    used for a different request
 * then the credits held (the balance drops by reply->credits, what is
 * held rises; a ledger "hold"), the message (outbound, status queued,
 * sent_by the user) with its media, an outbox entry (priority reply, due
 * now) from the organization's number the contact last texted (the
 * thread keeps it, inbox_store_inbound_ingest) or, when it never texted
 * one the organization still has, from its first number, the thread's
 * last message (inbox_conversation_reply), and the events
 * message.created and conversation.updated.  *result gets the message
 * and the thread.  Quiet hours never hold a reply.
 *
 * A reply with an Idempotency-Key that the organization used before for
 * the same request (inbox_reply_fingerprint) stores nothing and answers
 * the first one's message as it is now, result->repeated set: a client's
 * retry never sends twice.  Only an accepted reply keeps its key: a
 * refused one may be tried again under it.
 *
 * Concurrent replies never spend more than the balance: it never goes
 * below zero.
 */
inbox_status_t inbox_store_reply_accept(inbox_store_t *store,
    const char *org_id, const inbox_reply_t *reply,
    inbox_reply_result_t *result, inbox_event_list_t *events,
    inbox_error_t *err);

/*
 * For the sender: claims up to max (0: 1; at most INBOX_OUTBOX_CLAIM_MAX)
 * due entries of every organization of priority_max or before
 * (INBOX_OUTBOX_REPLY: replies only; INBOX_OUTBOX_BULK: all), replies
 * first, then the oldest, each leased until now + lease (0:
 * INBOX_OUTBOX_LEASE_DEFAULT), with what sending it takes (see
 * inbox_outbox_item_t).  An entry whose lease ran out without a result
 * comes back interrupted (see outbox.h), and a bulk one in its
 * recipient's quiet hours is put off until they end (inbox_outbox_quiet,
 * on the campaigns' clock quiet_now, which is now but for a rehearsal's
 * clock: the entry waits as long as that clock has to go), its
 * recipient counted waiting_quiet_hours until a claim hands it out; a
 * campaign's message handed out (not interrupted or cancelled) has its
 * recipient sent at quiet_now, from which its poll's answers count
 * (poll.h).  paces (NULL: none) caps the segments taken of each sending
 * number (inbox_outbox_paces_t): those past a cap are left due,
 * untouched.  An empty batch when nothing is due.
 */
inbox_status_t inbox_store_outbox_claim(inbox_store_t *store, int64_t now,
    int64_t quiet_now, size_t max, int64_t lease,
    inbox_outbox_priority_t priority_max, const inbox_outbox_paces_t *paces,
    inbox_outbox_batch_t *batch, inbox_error_t *err);

/*
 * For the sender, before what waited in its hands starts: what becomes of
 * each of the n claimed messages (1..INBOX_OUTBOX_CLAIM_MAX, each with
 * the priority it was claimed at) now (inbox_outbox_held): withdrawn,
 * its contact having opted out since the claim (the sender reports it
 * INBOX_SEND_WITHDRAWN); put off, a campaign or poll message inside its
 * recipient's quiet hours on the campaigns' clock quiet_now by its
 * contact's zone and its organization's zone and quiet hours as they are
 * now (the sender gives it back, released, and the next claim holds it
 * until they end); or it goes (so does a message no longer there).  One
 * read for them all: a lost wake-up saying quiet hours moved is made up
 * for by it.
 */
inbox_status_t inbox_store_outbox_recheck(inbox_store_t *store,
    const char *const *message_ids,
    const inbox_outbox_priority_t *priorities, size_t n, int64_t quiet_now,
    inbox_outbox_held_t *held, inbox_error_t *err);

/*
 * Records what the carrier said about the claimed entry entry_id (its
 * attempt as claimed), in one transaction: see outbox.h for each outcome.
 * A status change appends message.status; a hold settled writes its
 * ledger entry.  *report (may be NULL) says what happened.
 * INBOX_ERR_NOT_FOUND when no such entry waits (a result recorded
 * already), INBOX_ERR_CONFLICT when the claim was lost (its lease ran
 * out and the entry was claimed again), INBOX_ERR_INVALID for an
 * accepted send without the carrier's id or with a final status.  An
 * accepted send takes the early reports kept for its carrier's id
 * (inbox_store_message_status_update) in the same transaction: the
 * furthest of them moves the message, a final one among them settles
 * its hold (inbox_delivery_hold), and the carrier's opt-out among
 * them names the contact in report->opted_out_contact (with
 * report->opted_out_sent_at, for inbox_store_contact_opt_out).
 */
inbox_status_t inbox_store_outbox_result(inbox_store_t *store,
    const char *entry_id, unsigned attempt, const inbox_send_result_t *result,
    int64_t now, inbox_send_report_t *report, inbox_event_list_t *events,
    inbox_error_t *err);

/*
 * The same for n results at once (the sender's answers of one turn),
 * each recorded as inbox_store_outbox_result records one, their events
 * appended in order.  A record refused (INBOX_ERR_NOT_FOUND, _CONFLICT,
 * _INVALID) has that status and error and undoes none of the others.
 * INBOX_OK when the batch was stored, in one transaction where the
 * backend has them (SQLite).  Else the store's error (UNAVAILABLE,
 * INTERNAL): SQLite stored nothing (every record's status is the error);
 * MongoDB, which records one after another, stored those whose status is
 * INBOX_OK, and the rest have the error.  A record whose status is the
 * store's error may be recorded again.
 */
inbox_status_t inbox_store_outbox_results(inbox_store_t *store,
    inbox_outbox_record_t *records, size_t n, int64_t now,
    inbox_event_list_t *events, inbox_error_t *err);

/*
 * A carrier's status report for the organization's message that the
 * carrier knows as provider_id, in one transaction: the status moves
 * only forward (inbox_delivery_moves), error_code (NULL: none) is kept
 * with it (the carrier's opt-out code, Twilio 21610 or Telnyx 40300, as
 * INBOX_SEND_ERROR_OPTED_OUT, as a refused send says it), and a move
 * appends message.status and settles the hold as
 * inbox_delivery_hold says (a ledger entry; a report of one is not
 * final: inbox_store_message_status_updates takes final ones).  A
 * repeat or a late report
 * changes nothing and appends nothing; *changed (may be NULL) says
 * which.  contact_id (may be NULL) gets the message's contact, moved or
 * not, for the caller to mark opted out (source carrier) when the
 * carrier said so (Twilio 21610, Telnyx 40300): a repeated report finds
 * it too (inbox_store_message_status_updates also says when the carrier
 * took the message, for the opt-out's rule).  When the organization has
 * no message with that id from that carrier (yet: the sender records it
 * when the carrier answers), the report is kept as an early report
 * (delivery.h) and applied by inbox_store_outbox_result: INBOX_OK,
 * *changed 0, contact_id "".
 */
inbox_status_t inbox_store_message_status_update(inbox_store_t *store,
    const char *org_id, inbox_carrier_t carrier, const char *provider_id,
    inbox_delivery_t status, const char *error_code, int *changed,
    char contact_id[INBOX_ID_MAX], inbox_event_list_t *events,
    inbox_error_t *err);

/*
 * One carrier's delivery report of a batch
 * (inbox_store_message_status_updates): in, what
 * inbox_store_message_status_update takes (find_contact for its
 * contact_id); out, what it answers, the report's own error included.
 */
typedef struct {
    const char        *org_id;
    inbox_carrier_t    carrier;
    const char        *provider_id;
    inbox_delivery_t   delivery;
    const char        *error_code;          /* NULL or "": none */
    int                final;               /* the carrier will report
                                               nothing more (Telnyx's
                                               message.finalized) */
    const char        *message_id;          /* the message the callback's
                                               URL names (NULL: none): a
                                               hint only, for one whose
                                               send's outcome is unknown */
    int                find_contact;

    inbox_status_t     status;              /* out: INBOX_OK or its error */
    inbox_error_t      error;               /* out, unless INBOX_OK */
    int                changed;             /* out */
    char               contact_id[INBOX_ID_MAX];   /* out */
    int64_t            sent_at;             /* out, with contact_id: when
                                               the carrier took the
                                               message (0: unknown) */
} inbox_status_report_t;

/*
 * The n reports (a carrier's callbacks that arrived together) in ONE
 * transaction, each as inbox_store_message_status_update stores one: a
 * report refused on its own (an unknown organization or status) is
 * refused in its status and error, and the others are stored.  A final
 * report settles the hold as inbox_delivery_hold says for a final one,
 * whether or not it moves the status: Telnyx's message.finalized of
 * delivery_unconfirmed after message.sent leaves the message "sent"
 * (no event) and captures its hold; kept as an early report, it is
 * kept final, and captures the hold when the sender records the send.
 * A report whose carrier id no message has, but whose message_id names
 * a message of its organization and carrier whose send's outcome is
 * unknown (outbox.h: status sending, error code "unknown_outcome", no
 * carrier id), gives that message the carrier's id (its error code
 * cleared: the carrier has it) and moves it as any report would, the
 * reports kept for that id before included; any other message_id (of
 * another organization, of a message with a carrier id) changes
 * nothing, and the report is kept as an early one, with its
 * message_id, which a later record of that message's unknown outcome
 * takes.  The events of every move go to events, in the reports' order.
 * INBOX_OK
 * when the batch was stored, else the store's error: nothing of it was,
 * and every report has that error too.
 */
inbox_status_t inbox_store_message_status_updates(inbox_store_t *store,
    inbox_status_report_t *reports, size_t n, inbox_event_list_t *events,
    inbox_error_t *err);

/*
 * Housekeeping: deletes at most max early reports (delivery.h) received
 * before now - INBOX_DELIVERY_EARLY_KEEP_MS, which no message claimed;
 * *removed (may be NULL) says how many.
 */
inbox_status_t inbox_store_early_reports_purge(inbox_store_t *store,
    int64_t now, size_t max, size_t *removed, inbox_error_t *err);

/*
 * Housekeeping: forgets at most max replies' Idempotency-Keys made before
 * now - INBOX_REPLY_KEY_KEEP_MS (reply.h), oldest first; their messages
 * stay.  *removed (may be NULL) says how many.
 */
inbox_status_t inbox_store_reply_keys_purge(inbox_store_t *store,
    int64_t now, size_t max, size_t *removed, inbox_error_t *err);

/*
 * Housekeeping: captures the holds of messages that a carrier took more
 * than max_age ago (0: INBOX_HOLD_MAX_AGE_DEFAULT) and that no final
 * status settled, at most INBOX_HOLDS_EXPIRE_MAX a call (call again
 * while *captured, which may be NULL, says that many), each with its
 * ledger entry.  Messages still in the outbox keep their holds.  First
 * it finishes, once, up to as many settlements (captures, releases)
 * that a crash or failure stopped halfway at least a minute ago: MongoDB
 * writes one in steps (store_mongo_settle.c); SQLite's is one
 * transaction, so it has none to finish.
 */
#define INBOX_HOLDS_EXPIRE_MAX  500
inbox_status_t inbox_store_holds_expire(inbox_store_t *store, int64_t now,
    int64_t max_age, size_t *captured, inbox_error_t *err);

/*
 * Status checks (status_check.h), for the sender: up to limit (1 to
 * INBOX_STATUS_CHECK_CLAIM_MAX) messages a carrier took that have no
 * final status, to ask the carrier about now: those never asked about
 * that it took at least after (0: INBOX_STATUS_CHECK_AFTER_DEFAULT) and
 * at most INBOX_STATUS_CHECK_GIVE_UP_MS ago, oldest first, then those
 * whose next ask is due, longest due first.  Each comes with the
 * organization's number of that carrier (its conversation's, else the
 * first), and is given its next ask (inbox_status_check_next), so that
 * nobody else claims it meanwhile and a restarted sender asks then; the
 * one whose next would be past the give-up is the last (item->last) and
 * is not handed out again.  An empty list when none is due.
 */
inbox_status_t inbox_store_status_checks_claim(inbox_store_t *store,
    int64_t now, int64_t after, unsigned limit,
    inbox_status_check_list_t *list, inbox_error_t *err);
/*
 * The carrier said it will report nothing more about messages
 * message_ids[0..n-1] (n at most INBOX_STATUS_CHECK_CLAIM_MAX; Telnyx's
 * delivery_unconfirmed leaves one "sent"): none is asked about again.
 * An id that names no message is passed over.
 */
inbox_status_t inbox_store_status_checks_end(inbox_store_t *store,
    const char *const *message_ids, size_t n, inbox_error_t *err);

/* The organization's billing as GET /api/v1/billing shows it.
 * INBOX_ERR_NOT_FOUND when there is no such organization. */
inbox_status_t inbox_store_billing_get(inbox_store_t *store,
    const char *org_id, inbox_billing_t *billing, inbox_error_t *err);

/*
 * Notices: the one text an inbound keyword is answered with
 *
 * Queues body (inbox_keyword_reply's text) to the contact of
 * conversation_id, from the organization's number from (NULL or "": its
 * first), in one transaction: an outbound message (status queued,
 * sent_by null, credits 0, nothing held, no ledger entry), its outbox
 * entry (priority reply, due now), the thread's last message
 * (inbox_conversation_reply) and the events message.created and
 * conversation.updated.  *result gets the message and the thread
 * (result->repeated is 0).
 *
 * None of a reply's checks, by design: the contact may just have opted
 * out (a STOP's confirmation is the one text the rules allow after it,
 * FCC 24-18), and a notice is free, so neither the balance nor billing
 * holds it back.  Ingest queues a keyword's answer itself, the same
 * way, with the message (inbox_store_inbound_ingest).
 * INBOX_ERR_INVALID (field "body") for an empty or too long body,
 * INBOX_ERR_NOT_FOUND for no such conversation (also another
 * organization's), INBOX_ERR_CONFLICT when the organization has no such
 * number.
 */
inbox_status_t inbox_store_outbox_notice(inbox_store_t *store,
    const char *org_id, const char *conversation_id, const char *from,
    const char *body, inbox_reply_result_t *result,
    inbox_event_list_t *events, inbox_error_t *err);

/* The organization's ledger, newest first, keyset paginated (cursor
 * NULL or "" for the first page; limit as inbox_list_limit says).
 * INBOX_ERR_INVALID (field "cursor") for a cursor this list did not
 * give, INBOX_ERR_NOT_FOUND for no such organization. */
inbox_status_t inbox_store_ledger_list(inbox_store_t *store,
    const char *org_id, const char *cursor, unsigned limit,
    inbox_ledger_page_t *page, inbox_error_t *err);

/* campaigns and polls (campaign.h, poll.h, quiet.h) */

/*
 * A new campaign or poll of org_id, status draft: c is checked
 * (inbox_campaign_check: INBOX_ERR_INVALID naming the field, nothing
 * stored), a poll's text made (inbox_poll_text) and named by its
 * question unless named, the text's segments and credits counted
 * (segments.h).  *campaign gets it as stored.
 */
inbox_status_t inbox_store_campaign_create(inbox_store_t *store,
    const char *org_id, const inbox_campaign_new_t *c, int64_t now,
    inbox_campaign_t *campaign, inbox_event_list_t *events,
    inbox_error_t *err);
/*
 * A draft edited: its name, text (a poll's question and options), images,
 * audience and send_at replaced by c's, checked and counted as create
 * does, in one write, its revision one more.  revision is the one the
 * caller read (c is made from it).  INBOX_ERR_NOT_FOUND for no such
 * campaign of c->kind (also another organization's); INBOX_ERR_CONFLICT
 * for one no longer a draft (inbox_campaign_editable) or edited since it
 * was read, nothing changed.  Images it no longer has are released
 * (inbox_store_media_purge removes them once unused for the grace
 * period), and so are new ones MongoDB attached before it found the
 * draft gone or edited (its attach is a write of its own); a cancelled
 * draft keeps its images.  *campaign gets it as stored.
 */
inbox_status_t inbox_store_campaign_update(inbox_store_t *store,
    const char *org_id, const char *campaign_id, int64_t revision,
    const inbox_campaign_new_t *c, inbox_campaign_t *campaign,
    inbox_event_list_t *events, inbox_error_t *err);
/*
 * A scheduled campaign or poll of kind (or one paused before it began)
 * moved to send_at (0 or a time gone: at once, inbox_campaign_due_at),
 * so that the sender starts it then: its time, and its due recipients'
 * to the earlier of theirs and send_at (a recipient is taken only once
 * its campaign sends, so being due before it holds nothing up; both
 * backends keep the same times).  INBOX_ERR_NOT_FOUND for no such
 * campaign of kind (also another organization's); INBOX_ERR_CONFLICT
 * for one that may not move (inbox_campaign_movable: it began sending
 * meanwhile, or a person cancelled it), nothing changed.  *campaign
 * gets it as stored.
 */
inbox_status_t inbox_store_campaign_reschedule(inbox_store_t *store,
    const char *org_id, const char *campaign_id, inbox_campaign_kind_t kind,
    int64_t send_at, int64_t now, inbox_campaign_t *campaign,
    inbox_event_list_t *events, inbox_error_t *err);
/*
 * A campaign or poll of kind deleted, a draft or one cancelled before
 * any of its messages was handed over, with its tags, options and
 * images' rows and the recipients a send fixed (none handed a message),
 * in one write that finds it so (inbox_campaign_deletable), so that a
 * send or its start at the same time either comes first (the delete is
 * refused) or finds none.  Its uploads are released at now, so that
 * inbox_store_media_purge removes those nothing else names once unused
 * for the grace period.
 * INBOX_ERR_NOT_FOUND for no such campaign of kind (also another
 * organization's); INBOX_ERR_CONFLICT for one the rule keeps (or, in
 * MongoDB, one a send is fixing the recipients of), nothing changed.
 */
inbox_status_t inbox_store_campaign_delete(inbox_store_t *store,
    const char *org_id, const char *campaign_id, inbox_campaign_kind_t kind,
    int64_t now, inbox_event_list_t *events, inbox_error_t *err);
/* One campaign or poll with its counts; INBOX_ERR_NOT_FOUND for none
 * (also another organization's). */
inbox_status_t inbox_store_campaign_get(inbox_store_t *store,
    const char *org_id, const char *campaign_id, inbox_campaign_t *campaign,
    inbox_error_t *err);
/* The organization's campaigns (or polls), newest first, keyset
 * paginated as the ledger is. */
inbox_status_t inbox_store_campaigns_list(inbox_store_t *store,
    const char *org_id, inbox_campaign_kind_t kind, const char *cursor,
    unsigned limit, inbox_campaign_page_t *page, inbox_error_t *err);
/*
 * send, pause, resume or cancel (inbox_campaign_act's rule; a move it
 * refuses is INBOX_ERR_CONFLICT and changes nothing), in one
 * transaction.  send refuses a text the rule of a new one refuses
 * (inbox_campaign_sendable: INBOX_ERR_INVALID naming the field, nothing
 * changed) and, while the organization has no number to send from, is
 * INBOX_ERR_CONFLICT as a reply is (inbox_error_no_number), nothing
 * changed; else fixes the recipients: every contact of the audience
 * now, those opted out suppressed, the others due at once (or at
 * send_at); cancel cancels those not handed over yet, the campaign
 * cancelled for INBOX_CANCEL_MANUAL.  *campaign gets it as it is after.
 */
inbox_status_t inbox_store_campaign_act(inbox_store_t *store,
    const char *org_id, const char *campaign_id,
    inbox_campaign_action_t action, int64_t now, inbox_campaign_t *campaign,
    inbox_event_list_t *events, inbox_error_t *err);
/*
 * The sender's turn, for every organization, in one transaction: starts
 * the scheduled campaigns whose time came (and cancels at once, counted
 * refused, one whose text inbox_campaign_sendable refuses now: one sent
 * before a rule existed; cancelled for INBOX_CANCEL_TEXT_REFUSED with
 * the refusal's words), then takes up to max due recipients of
 * sending campaigns, each campaign's oldest due first: each sending
 * campaign its share of max (what is left over, to those that had more
 * due than their share), and none to one that has
 * INBOX_CAMPAIGN_AHEAD_MAX messages waiting in the outbox (counted in
 * outbox_full), so that a campaign is not held up by another's
 * audience; for each recipient
 *   - opted out since: suppressed, nothing sent;
 *   - inside quiet hours on its clock (quiet.h, the organization's
 *     window): waiting_quiet_hours, due again when the window opens;
 *   - billing inactive, or a balance short of the recipient's message:
 *     the campaign pauses (billing_inactive, insufficient_credits) and
 *     keeps the recipient due for its resume;
 *   - else handed over: a message in the contact's thread (queued, its
 *     credits held, a ledger entry; to a number pictures do not reach,
 *     a campaign's images as links to their files at media_base, the
 *     sender's public URL: inbox_campaign_messages), an outbox entry of
 *     priority INBOX_OUTBOX_BULK due now, from the organization's first
 *     number (whichever number the contact texted, unlike a reply), the
 *     thread's last message, and message.created and
 *     conversation.updated appended to events.
 * A sending campaign with no recipient left due or waiting, nor a
 * message in the outbox, is done; one with only its outbox left while
 * billing is inactive pauses (billing_inactive: a claim parks those
 * messages, inbox_outbox_billing) rather than stay "sending" unmoving.
 * max is capped at INBOX_CAMPAIGN_DISPATCH_MAX.
 */
inbox_status_t inbox_store_campaign_dispatch(inbox_store_t *store,
    int64_t now, size_t max, const char *media_base,
    inbox_campaign_dispatch_t *result, inbox_event_list_t *events,
    inbox_error_t *err);
/*
 * For the sender, which pushes their progress: every organization's
 * campaigns and polls that may still move, scheduled, sending or paused,
 * those done or cancelled at or after since (delivery reports still
 * come), polls whose tally an answer moved and campaigns a reply was
 * counted for at or after since (answers and replies come for days),
 * each with its org_id, counts and tally, the
 * oldest first, INBOX_CAMPAIGNS_ACTIVE_MAX a page: cursor NULL or "" for
 * the first, else a page's next_cursor ("" after the last page).
 * INBOX_ERR_INVALID for a cursor no page gave.
 */
inbox_status_t inbox_store_campaigns_active(inbox_store_t *store,
    int64_t since, const char *cursor, inbox_campaign_page_t *page,
    inbox_error_t *err);
/*
 * Appends campaign.progress for the campaign as it is now (its status
 * and counts, inbox_change_campaign) to its organization's events, in one
 * transaction; *campaign (may be NULL) gets what the frame shows.
 * INBOX_ERR_NOT_FOUND for no such campaign.
 */
inbox_status_t inbox_store_campaign_progress(inbox_store_t *store,
    const char *org_id, const char *campaign_id, int64_t now,
    inbox_campaign_t *campaign, inbox_event_list_t *events,
    inbox_error_t *err);
/*
 * A poll with its tally (every answer's last) and a page of its
 * responses, newest first (by answer time, keyset paginated: cursor NULL
 * or "" for the newest, else a page's next_cursor; limit 1..
 * INBOX_POLL_RESPONSES_MAX, 0 for that most).  INBOX_ERR_NOT_FOUND for
 * no such poll (a campaign is none); INBOX_ERR_INVALID (field "cursor")
 * for a cursor no page gave.  An answer changed since a page was read
 * moves to the top: it is not read again further down.
 */
inbox_status_t inbox_store_poll_results(inbox_store_t *store,
    const char *org_id, const char *poll_id, const char *cursor,
    unsigned limit, inbox_poll_results_t *results, inbox_error_t *err);
/* The campaigns and polls sent to a contact and its poll answers, the
 * newest INBOX_CONTACT_CAMPAIGNS_MAX of each; INBOX_ERR_NOT_FOUND for no
 * such contact. */
inbox_status_t inbox_store_contact_campaigns(inbox_store_t *store,
    const char *org_id, const char *contact_id,
    inbox_contact_campaigns_t *list, inbox_error_t *err);
/* A contact's time zone for quiet hours (NULL or "": unknown, the
 * organization's is used); INBOX_ERR_INVALID (field "timezone") for a
 * zone quiet.h does not know, INBOX_ERR_NOT_FOUND for no such contact. */
inbox_status_t inbox_store_contact_timezone_set(inbox_store_t *store,
    const char *org_id, const char *contact_id, const char *timezone,
    inbox_error_t *err);
/* A send's preview: how many contacts the audience (all of the
 * organization's, or those with any of tags) has now, how many of
 * them are opted out (what send would suppress) and, unless no_mms is
 * NULL, how many of the others have a number pictures do not reach
 * (inbox_phone_takes_mms: they get a campaign's images as links). */
inbox_status_t inbox_store_campaign_audience(inbox_store_t *store,
    const char *org_id, int audience_all, const inbox_tags_t *tags,
    int64_t *audience, int64_t *suppressed, int64_t *no_mms,
    inbox_error_t *err);
/*
 * Inbound ingest (inbox_store_inbound_ingest) also, in the message's own
 * transaction, looks at its contact's campaign and poll messages that
 * went to the carrier at most INBOX_POLL_ANSWER_WINDOW_MS before (poll.h:
 * from the sender's claim of each, however long it waited in the outbox
 * after its hand-over), taken by the carrier by then and not failed
 * since (one still in the outbox was never read): when the message
 * answers one of those polls (the newest it names an option of, however
 * many campaigns came since), it records the answer (the last one
 * counts) and marks that poll's message replied; any other message
 * marks the latest of them, of any kind, replied.  One message counts
 * as a reply to one campaign at most.
 */

#endif
