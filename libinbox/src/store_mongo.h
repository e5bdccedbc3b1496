/*
 * The MongoDB store backend (mongo-c-driver 1.23): internal interface.
 *
 * Building commands is kept apart from executing them.  Every operation is
 * a sequence of database command documents ({"find": ...}, {"insert": ...},
 * {"findAndModify": ...}, ...), each sent through inbox_mongo_run().  In
 * production inbox_mongo_run() pops a mongoc_client_t from a
 * mongoc_client_pool_t, runs the command and pushes the client back, so one
 * store serves any number of threads.  Tests replace the server with a
 * transport hook and compare the commands sent with golden files; the
 * hook of those tests also has every insert and update made into the
 * driver's bulk operation (inbox_mongo_write_check), since the hook sees
 * them before the driver would, and answers them through the rebuilding
 * of the bulk operation's result (inbox_mongo_write_reply).
 *
 * The pool is created lazily by the first command, never by the open call:
 * nginx opens the store while reading its configuration in the master and
 * only then forks its workers, and a mongoc pool made before fork() is
 * unusable in the children.  A pool found to belong to another process
 * (the store was used before a fork) is abandoned, not destroyed, and a new
 * one is made.
 *
 * Documents: orgs (with the event counter "seq" and the stream "epoch"),
 * numbers, users, tokens, contacts (the name and its search_name),
 * conversations (contact fields copied in for listing and search),
 * messages (media embedded), events (references to those), health (one
 * record, made with the store, that ping writes and one-off steps mark),
 * campaigns and campaign_recipients (store_mongo_campaigns.c).  A
 * message whose hold is being settled is marked "settling", and the
 * organization lists it in credits.pending (store_mongo_settle.c).
 * Ids are ObjectIds, shown as 24 hex digits; times are BSON dates.
 *
 * Operations are not yet wrapped in multi-document transactions (that is
 * part 6 of the roadmap: it needs a replica set).  Writes are ordered so
 * that a repeated webhook is still stored once: the message insert, checked
 * by its unique (org_id, provider, provider_id) index, comes before any
 * write a reader would notice.
 */
#ifndef INBOX_STORE_MONGO_H
#define INBOX_STORE_MONGO_H

#include <pthread.h>
#include <sys/types.h>
#include <mongoc/mongoc.h>
#include <inbox/search.h>
#include <inbox/settings.h>
#include "store_backend.h"

/*
 * Runs one command in database db instead of a server.  reply is an empty,
 * initialized document: the hook appends the server's answer to it.
 * Returns true when the answer came; false with error filled for a
 * transport failure (e.g. domain MONGOC_ERROR_SERVER_SELECTION).
 */
typedef bool (*inbox_mongo_transport_fn)(void *ctx, const char *db,
    const bson_t *command, bson_t *reply, bson_error_t *error);

/* Generated values, replaceable by tests to make commands deterministic. */
typedef void (*inbox_mongo_id_fn)(void *ctx, bson_oid_t *oid);
typedef int64_t (*inbox_mongo_clock_fn)(void *ctx);

typedef struct {
    inbox_store_t             base;

    mongoc_uri_t             *uri;
    char                      db[128];

    pthread_mutex_t           lock;
    mongoc_client_pool_t     *pool;          /* NULL until the first use */
    pid_t                     pool_pid;
    int                       indexes_ready;
    int                       create;        /* inbox_store_create: make
                                                the health record too */

    inbox_mongo_transport_fn  transport;     /* NULL: a real server */
    void                     *transport_ctx;

    /* events_prune's place in the organizations: the last one a round
     * finished, the next round starting after it (under lock) */
    bson_oid_t                prune_after;
    int                       prune_after_set;

    inbox_mongo_id_fn         make_id;
    inbox_mongo_clock_fn      clock;
    void                     *hooks_ctx;
} inbox_mongo_store_t;

/*
 * Opens the backend with the transport hook instead of a server; the URI
 * is parsed only for its database name ("inbox" when it names none).
 */
inbox_store_t *inbox_store_mongo_open_with_transport(const char *uri,
    inbox_mongo_transport_fn fn, void *ctx, inbox_error_t *err);

/* Replaces the ObjectId generator and the clock (NULL keeps the default). */
void inbox_mongo_set_test_hooks(inbox_store_t *store, inbox_mongo_id_fn id,
    inbox_mongo_clock_fn clock, void *ctx);

/*
 * Sends the createIndexes commands once (and, for a store opened with
 * inbox_store_create, makes the health record that ping updates), then
 * gives names stored before search_name theirs; every operation but ping
 * calls it first, and it is retried after a failure.
 */
inbox_status_t inbox_mongo_ensure_indexes(inbox_mongo_store_t *ms,
    inbox_error_t *err);

/*
 * Runs command in the store's database.  reply is initialized here and must
 * be destroyed by the caller, also after a failure.  A reply with ok:0,
 * writeErrors or a writeConcernError is a failure: a duplicate key (11000)
 * is INBOX_ERR_CONFLICT, an unreachable server INBOX_ERR_UNAVAILABLE.
 */
inbox_status_t inbox_mongo_run(inbox_mongo_store_t *ms,
    const bson_t *command, bson_t *reply, inbox_error_t *err);

/* Insert and update commands go to a server as bulk operations, which the
 * driver retries once after a lost connection or a step-down, with the
 * same transaction number (store_mongo_write.c).  Returns what
 * mongoc_client_write_command_with_opts would, reply in the same shape. */
int inbox_mongo_is_basic_write(const bson_t *command);
bool inbox_mongo_write_retryable(mongoc_client_t *client, const char *db,
    const bson_t *command, bson_t *reply, bson_error_t *error);
/* Whether the driver takes command as that bulk operation: the same
 * conversion, with a client that never connects, so no server is asked.
 * false, error saying why, when it refuses an item (a malformed update,
 * a replacement with operators, a key it does not let in) or the
 * conversion does (a replacement of many, a field it would not send);
 * true for a command that is not an insert or an update.  The golden
 * tests check every write they capture with it. */
bool inbox_mongo_write_check(const char *db, const bson_t *command,
    bson_error_t *error);
/* The command's reply, as a server gives it, made of what its bulk
 * operation gave (done, the result and error): "n", an update's
 * "nModified" and "upserted", the errors.  The golden tests answer their
 * writes through it, so that what it drops they miss too. */
void inbox_mongo_write_reply(const bson_t *command, bool done,
    const bson_t *result, const bson_error_t *error, bson_t *reply);

/* Same, destroying command (built with BCON_NEW) and the reply. */
inbox_status_t inbox_mongo_run_simple(inbox_mongo_store_t *ms,
    bson_t *command, inbox_error_t *err);

/* An update of one document: q and u (destroyed here); *matched whether
 * q matched one. */
inbox_status_t inbox_mongo_update_one(inbox_mongo_store_t *ms,
    const char *collection, bson_t *q, bson_t *u, int *matched,
    inbox_error_t *err);

/* Finds and aggregates are read to their end, every batch of their cursor
 * (store_mongo_read.c): the driver's cursor, with its session and server.
 * docs (an array, initialized here) gets every document; false, with
 * error and reply the server's error document (empty when none came), when
 * the read failed. */
bool inbox_mongo_read_all(mongoc_client_t *client, const char *db,
    const bson_t *command, bson_t *docs, bson_t *reply, bson_error_t *error);

/* Runs a find or aggregate, destroying command, and copies out every
 * document of its cursor (an array): its first batch and the rest, which
 * the getMore commands a driver sends fetch (a test's transport sees
 * them).  A query meant to read few names its limit. */
inbox_status_t inbox_mongo_run_cursor(inbox_mongo_store_t *ms,
    bson_t *command, bson_t *batch, inbox_error_t *err);

/* Runs findAndModify; *found says whether "value" is a document, copied
 * into value (always initialized; the caller destroys it). */
inbox_status_t inbox_mongo_run_find_and_modify(inbox_mongo_store_t *ms,
    bson_t *command, bson_t *value, int *found, inbox_error_t *err);

/* Runs {"find": collection, "filter": filter, "projection": projection,
 * "limit": 1}; destroys filter and projection (which may be NULL).  doc is
 * always initialized; *found says whether it is the document. */
inbox_status_t inbox_mongo_find_one(inbox_mongo_store_t *ms,
    const char *collection, bson_t *filter, bson_t *projection, bson_t *doc,
    int *found, inbox_error_t *err);

/* Helpers shared by the operation files (store_mongo_doc.c). */
/* doc is the document iter is at, read in place (valid while the
 * iterated document is): 0 when iter holds no document. */
int inbox_mongo_iter_doc(const bson_iter_t *iter, bson_t *doc);
/* Moves iter on to the next document of its array or batch, skipping
 * anything else, as inbox_mongo_iter_doc gives it: 0 at the end. */
int inbox_mongo_next_doc(bson_iter_t *iter, bson_t *doc);
/* Calls add for each document of a cursor's first batch (a run_cursor
 * answer); stops at the first failure. */
inbox_status_t inbox_mongo_batch_each(const bson_t *batch,
    inbox_status_t (*add)(void *list, const bson_t *doc, inbox_error_t *err),
    void *list, inbox_error_t *err);
/* Deletes every document of collection that query matches (query is
 * taken over); *removed (may be NULL) counts them. */
inbox_status_t inbox_mongo_delete(inbox_mongo_store_t *ms,
    const char *collection, bson_t *query, size_t *removed,
    inbox_error_t *err);
void inbox_mongo_new_id(inbox_mongo_store_t *ms, bson_oid_t *oid);
/* A new event stream's epoch: the random and counter bytes of a fresh
 * ObjectId, 16 hex digits. */
void inbox_mongo_new_epoch(inbox_mongo_store_t *ms,
    char epoch[INBOX_EPOCH_MAX]);
int64_t inbox_mongo_now(inbox_mongo_store_t *ms);
/* 0 when hex is an ObjectId as ids are written: 24 lower-case hex digits. */
int inbox_mongo_parse_id(const char *hex, bson_oid_t *oid);
void inbox_mongo_id_hex(const bson_oid_t *oid, char out[INBOX_ID_MAX]);

/* Reads a field of doc (dotted paths allowed); defaults when absent. */
void inbox_mongo_get_id(const bson_t *doc, const char *path,
    char out[INBOX_ID_MAX]);
void inbox_mongo_get_str(const bson_t *doc, const char *path, char *out,
    size_t size);
char *inbox_mongo_dup_str(const bson_t *doc, const char *path);
int64_t inbox_mongo_get_int(const bson_t *doc, const char *path);
int64_t inbox_mongo_get_date(const bson_t *doc, const char *path);
int inbox_mongo_get_bool(const bson_t *doc, const char *path);

/* Model structs from stored documents; the fields each reads, for the
 * projection of a find that reads for it (NULL-ended). */
void inbox_mongo_parse_conversation(const bson_t *doc,
    inbox_conversation_t *conversation);
extern const char *const inbox_mongo_conversation_fields[];
inbox_status_t inbox_mongo_parse_message(const bson_t *doc,
    inbox_message_t *message, inbox_error_t *err);
extern const char *const inbox_mongo_message_fields[];
inbox_status_t inbox_mongo_parse_number(const bson_t *doc,
    inbox_number_t *number, inbox_error_t *err);
/* Whether a message of time at becomes its conversation's last message,
 * as an expression of an update pipeline: inbox_conversation_newer's
 * rule.  The caller destroys it. */
bson_t *inbox_mongo_newer(int64_t at);

/* An aggregation expression: whether the thread is in the lists, having
 * activity (inbox_filter_matches).  The caller destroys it. */
bson_t *inbox_mongo_listed(void);
/* A thread's last_message as a write stores it: id, direction, preview,
 * media_type, at, and who sent it: sent_by, the user, and campaign_id
 * with its campaign_kind (each left out when none, NULL); an outbound
 * one's status, "queued" as every outbound message is stored (its moves
 * set it and its error_code after, inbox_mongo_delivery_announce).  The
 * caller destroys it. */
bson_t *inbox_mongo_last_message(const bson_oid_t *id,
    inbox_direction_t direction, const inbox_preview_t *preview,
    int64_t at, const bson_oid_t *sent_by, const bson_oid_t *campaign,
    const char *campaign_kind);

/* A contact document as a record (store_mongo_contacts.c), and the
 * fields it reads. */
void inbox_mongo_parse_contact(const bson_t *doc,
    inbox_contact_record_t *contact);
extern const char *const inbox_mongo_contact_fields[];

/* Opt-out and opt-in (store_mongo_optout.c): applies the change the rule
 * of optout.h made (after: opted out or not, its newest opt time) to the
 * contact document, if the stored one still is as before (opted out or
 * not, its newest opt time latest, 0: none): *changed says whether it
 * was; then, when it was, sets the copy in its conversation and adds the
 * timeline event at the change's time (keyword texted, NULL none;
 * message that said it, NULL none). */
inbox_status_t inbox_mongo_contact_opt_write(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const bson_oid_t *contact,
    const inbox_contact_record_t *after, int64_t latest,
    const char *keyword, const bson_oid_t *message, int *changed,
    inbox_error_t *err);
/* The same for a rule that moved only the newest opt time: that alone,
 * if the contact is still opted out or not as after and its time still
 * latest. */
inbox_status_t inbox_mongo_contact_opt_latest_write(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const bson_oid_t *contact,
    const inbox_contact_record_t *after, int64_t latest, int *changed,
    inbox_error_t *err);
/*
 * The copy of a contact its conversation keeps for the thread list (name,
 * its search key, opted out), as the contact stored them at version (its
 * "version", one more at each rename or opt change; absent: 0): an update
 * of updates at index, matching only a copy older than version (or from
 * before versions), so that of two writes the newer contact stays
 * whichever lands last, and one written already is left alone.
 */
void inbox_mongo_append_contact_copy(bson_t *updates, const char *index,
    const bson_oid_t *org, const bson_oid_t *conversation, const char *name,
    int opted_out, int64_t version);
/* The copy written from contact as stored at version: what a retry that
 * changes nothing does, so that a failure between the contact's write
 * and its copy's is repaired (a copy that is not older costs nothing). */
inbox_status_t inbox_mongo_contact_copy_write(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const inbox_contact_record_t *contact,
    int64_t version, inbox_error_t *err);
/* The contact as stored, and its version (NULL: not wanted);
 * INBOX_ERR_NOT_FOUND when org has none. */
inbox_status_t inbox_mongo_contact_read(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const bson_oid_t *oid,
    inbox_contact_record_t *contact, int64_t *version, inbox_error_t *err);
/* How many times a change is tried again when the contact changed
 * between its read and its compare-and-set write. */
#define INBOX_MONGO_OPT_TRIES  4

/* Keyset cursors "MS:HEX" (time, then id). */
void inbox_mongo_cursor_make(int64_t ms, const char *id_hex,
    char out[INBOX_CURSOR_MAX]);
inbox_status_t inbox_mongo_cursor_parse(const char *cursor, int64_t *ms,
    bson_oid_t *oid, inbox_error_t *err);

/* In a users filter (BCON): a user still on the team, not removed
 * (store_mongo_team.c). */
#define INBOX_MONGO_USER_ACTIVE                                               \
    "removed_at", "{", "$exists", BCON_BOOL(false), "}"

/* INBOX_OK when org_id names a stored organization (its id in *org),
 * else INBOX_ERR_NOT_FOUND (store_mongo_admin.c). */
inbox_status_t inbox_mongo_org_check(inbox_mongo_store_t *ms,
    const char *org_id, bson_oid_t *org, inbox_error_t *err);
/* An organization's document (its name, time zone and creation) into
 * org (store_mongo_admin.c); org->name NULL when out of memory. */
void inbox_mongo_org_read(const bson_t *doc, inbox_org_t *org);
/* org_id (and conversation_id, unless conversation is NULL) as ObjectIds;
 * a malformed id is INBOX_ERR_NOT_FOUND, like another organization's. */
inbox_status_t inbox_mongo_ids(const char *org_id, bson_oid_t *org,
    const char *conversation_id, bson_oid_t *conversation,
    inbox_error_t *err);
/* A search (inbox_search_t) on the fields key (a name's search_name)
 * and phone: the name clause into filter (returns 0), or with digits both
 * into the $or array or (returns 1) (store_mongo_search.c). */
int inbox_mongo_append_search(bson_t *filter, bson_t *or,
    const inbox_search_t *search, const char *key, const char *phone);
/* What a search compares of name (inbox_search_key) as field of doc,
 * written wherever a name is: null for no name (NULL or ""). */
void inbox_mongo_append_search_name(bson_t *doc, const char *field,
    const char *name);
/* Documents stored before search_name existed given theirs, a batch of
 * INBOX_MONGO_BACKFILL_BATCH a command, once a store (the health record
 * marks it done); run by inbox_mongo_ensure_indexes. */
#define INBOX_MONGO_BACKFILL_BATCH  500
/* The health record's mark of it (a store made now has it). */
/* Whether the store's health record carries the mark of a one-time
 * upgrade (*done); and marking it, once the upgrade is through. */
inbox_status_t inbox_mongo_upgrade_done(inbox_mongo_store_t *ms,
    const char *mark, int *done, inbox_error_t *err);
inbox_status_t inbox_mongo_upgrade_mark(inbox_mongo_store_t *ms,
    const char *mark, inbox_error_t *err);
/* The same for an upgrade that a later version of its rule runs again:
 * done when the mark is version or more; marked version. */
inbox_status_t inbox_mongo_upgrade_done_at(inbox_mongo_store_t *ms,
    const char *mark, int version, int *done, inbox_error_t *err);
inbox_status_t inbox_mongo_upgrade_mark_at(inbox_mongo_store_t *ms,
    const char *mark, int version, inbox_error_t *err);
/* An upgrade made of one aggregate that merges what it finds (command,
 * destroyed here): run unless the store's record has mark, then marked;
 * one that fails leaves it unmarked, to be run again. */
inbox_status_t inbox_mongo_upgrade_aggregate(inbox_mongo_store_t *ms,
    const char *mark, bson_t *command, inbox_error_t *err);
#define INBOX_MONGO_SEARCH_NAMES    "search_names"
inbox_status_t inbox_mongo_search_names_backfill(inbox_mongo_store_t *ms,
    inbox_error_t *err);
/* Keys made by an older rule (search.h's INBOX_SEARCH_KEY_RULE, which
 * the mark keeps: spaces and punctuation kept, a kana's voicing marks
 * dropped, an Indic script's marks and Й's breve dropped) made again
 * where they differ, once a rule, after the pass above; run by
 * inbox_mongo_ensure_indexes. */
#define INBOX_MONGO_SEARCH_KEYS     "search_keys"
inbox_status_t inbox_mongo_search_keys_backfill(inbox_mongo_store_t *ms,
    inbox_error_t *err);
/* Conversations stored before they kept their responses
 * (unresponded_at, responded_at: inbox_conversation_unresponded) given
 * theirs from their messages, once a store (the health record marks it
 * done); run by inbox_mongo_ensure_indexes (store_mongo_conversations.c). */
#define INBOX_MONGO_RESPONSES       "responses"
inbox_status_t inbox_mongo_responses_backfill(inbox_mongo_store_t *ms,
    inbox_error_t *err);
/* Threads that campaigns alone had listed (before inbox_conversation_bulk
 * gave such a thread no activity) taken out of the lists, once a store,
 * as SQLite's migration 41 does (store_mongo_conversations.c). */
#define INBOX_MONGO_TWO_WAY         "two_way"
inbox_status_t inbox_mongo_two_way_backfill(inbox_mongo_store_t *ms,
    inbox_error_t *err);
/* inbox_conversation_respond's rule for a response at at, as update
 * pipeline expressions: *unresponded, unresponded_at, and *responded,
 * responded_at, each written null when none.  The caller destroys both
 * (store_mongo_conversations.c). */
void inbox_mongo_respond_exprs(int64_t at, bson_t **unresponded,
    bson_t **responded);
/* Threads an opt-out the carrier answered had left waiting for a response
 * (before an opt-out ended the wait, inbox_keyword_wait) answered at its
 * time, once a store, as SQLite's migration 42 does. */
#define INBOX_MONGO_OPT_OUT_WAITS   "opt_out_waits"
inbox_status_t inbox_mongo_opt_out_waits_backfill(inbox_mongo_store_t *ms,
    inbox_error_t *err);
/* Campaigns' messages stored before they kept their campaign's kind
 * (campaign_kind) given it from the campaign, once a store
 * (store_mongo_backfill.c). */
#define INBOX_MONGO_MESSAGE_KINDS   "message_kinds"
inbox_status_t inbox_mongo_message_kinds_backfill(inbox_mongo_store_t *ms,
    inbox_error_t *err);
/* Threads whose last message was stored before it kept its campaign's
 * kind or its delivery status given them, from the campaign and the
 * message, once a store (store_mongo_backfill.c). */
#define INBOX_MONGO_LAST_MESSAGES   "last_messages"
inbox_status_t inbox_mongo_last_messages_backfill(inbox_mongo_store_t *ms,
    inbox_error_t *err);
/* A page of a list, newest first by (time_field, _id) (store_mongo_page.c).
 */
typedef struct {
    const char        *collection;
    const char        *time_field;
    /* a search's clauses (inbox_mongo_append_search's $or), or NULL */
    const bson_t      *search;
    /* after a cursor: its time and id; NULL for the first page */
    const bson_oid_t  *after;
    int64_t            after_ms;
    /* the index, named when the planner must not choose another; or NULL */
    const char        *hint;
    unsigned           limit;
} inbox_mongo_page_query_t;

/* Finds the page of filter (destroyed) that query names: one more than
 * query->limit, which tells whether another page follows, in batch
 * (always initialized; the caller destroys it). */
inbox_status_t inbox_mongo_find_page(inbox_mongo_store_t *ms,
    const inbox_mongo_page_query_t *query, bson_t *filter, bson_t *batch,
    inbox_error_t *err);
/* The two clauses "after (ms, oid)" in (time_field desc, _id desc)
 * order into the array or: an older time, or the same time and a smaller
 * id. */
void inbox_mongo_append_keyset(bson_t *or, const char *time_field,
    int64_t ms, const bson_oid_t *oid);

/* The organization's unread count, summed over its conversations. */
inbox_status_t inbox_mongo_unread_total(inbox_mongo_store_t *ms,
    const bson_oid_t *org, int64_t *total, inbox_error_t *err);
/* The same, and *listed (may be NULL): how many unread threads the unread
 * tab lists (those with a message). */
inbox_status_t inbox_mongo_unread_sum(inbox_mongo_store_t *ms,
    const bson_oid_t *org, int64_t *total, int64_t *listed,
    inbox_error_t *err);

/* The event stream (store_mongo_events.c): reserves the organization's
 * next n event numbers (*first is the first) and reads its epoch. */
inbox_status_t inbox_mongo_events_reserve(inbox_mongo_store_t *ms,
    const bson_oid_t *org, int64_t n, int64_t *first,
    char epoch[INBOX_EPOCH_MAX], inbox_error_t *err);
/* Reserves the numbers of a planned change (see event.h), reads the
 * organization's unread total when the change carries it, renders the
 * frames, stores the events (references to the message and conversation
 * documents, never a copy of them) and pushes the frames to events (which
 * may be NULL).  The change is freed whatever happens. */
inbox_status_t inbox_mongo_events_append(inbox_mongo_store_t *ms,
    const bson_oid_t *org, inbox_change_t *change, inbox_event_list_t *events,
    inbox_error_t *err);

/* The document of batch (what a query read) whose _id is id. */
int inbox_mongo_batch_get(const bson_t *batch, const bson_oid_t *id,
    bson_t *doc);
/* The organization's documents of collection whose _id is in ids (an
 * array of n), in one query; an empty batch for none.  Each comes with
 * its _id and the paths of fields (NULL-ended: what the caller reads,
 * so that a message's body and media are not sent for a page that shows
 * none of them), or whole for fields NULL. */
inbox_status_t inbox_mongo_find_in(inbox_mongo_store_t *ms,
    const char *collection, const bson_oid_t *org, const bson_t *ids,
    uint32_t n, const char *const *fields, bson_t *batch,
    inbox_error_t *err);
/* Appends oid to array as its element n, moving n on, unless it is
 * there already. */
void inbox_mongo_array_add(bson_t *array, uint32_t *n, const bson_oid_t *oid);

/* Ends what user had of access: its sessions deleted, its API tokens
 * revoked (store_mongo_team.c). */
inbox_status_t inbox_mongo_user_access_end(inbox_mongo_store_t *ms,
    const bson_oid_t *user, inbox_error_t *err);
/* Appends the team's event of type (INBOX_EVENT_USER_*) about user and
 * pushes its frame to events (may be NULL) (store_mongo_team.c). */
inbox_status_t inbox_mongo_team_event(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const char *type, const bson_oid_t *user,
    inbox_event_list_t *events, inbox_error_t *err);


/* Org's uploads of media[0..n-1] (by file) are attached, not purged
 * while so, each a compare-and-set against the purge's delete;
 * inbox_media_gone's error for one purged since it was read, those
 * before it released again (store_mongo_media.c). */
inbox_status_t inbox_mongo_media_attach(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const inbox_media_t *media, size_t n,
    inbox_error_t *err);
/* Org's uploads of media[0..n-1] but those of kept[0..n_kept-1] (by
 * file) released now: left to the purge, which removes one only when
 * nothing names it, so releasing one that something does is safe.  One
 * update, none when nothing is left to release. */
inbox_status_t inbox_mongo_media_release(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const inbox_media_t *media, size_t n,
    const inbox_media_t *kept, size_t n_kept, inbox_error_t *err);

/* replies, the outbox and billing */
/* What a reply (a notice, a campaign's message) is sent between: read
 * before anything is written. */
typedef struct {
    bson_oid_t            org;
    bson_oid_t            conversation;
    bson_oid_t            contact;
    bson_oid_t            user;
    int                   has_user;
    char                  from[INBOX_PHONE_MAX];
    char                  to[INBOX_PHONE_MAX];
    unsigned              charge;        /* what its plan takes */
    const char           *campaign_kind; /* a campaign's message: its
                                            campaign's kind, as
                                            inbox_campaign_kind_name
                                            names it */
} inbox_mongo_reply_t;

/* A reply's hold of reply->credits, then its writes (store_mongo_outbox.c):
 * a reply's uploads attached (campaign NULL), the message (naming
 * campaign unless NULL, which makes its outbox entry INBOX_OUTBOX_BULK),
 * the thread's last message into result, the events, the outbox entry.
 * *held is 0 when billing refused the hold (nothing written); a failure
 * after the hold gives the hold back. */
inbox_status_t inbox_mongo_reply_hold(inbox_mongo_store_t *ms,
    inbox_mongo_reply_t *r, const inbox_reply_t *reply,
    const bson_oid_t *message, const bson_oid_t *campaign, int64_t now,
    int *held, inbox_reply_result_t *result, inbox_event_list_t *events,
    inbox_error_t *err);
/* A keyword's answer among its inbound message's steps, under the id
 * that message named for it, written once however often a retry comes
 * (again): ingest's (store_mongo_outbox.c). */
inbox_status_t inbox_mongo_outbox_answer(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const bson_oid_t *conversation,
    const bson_oid_t *contact, const char *from, const char *to,
    const bson_oid_t *message, const char *body, unsigned segments,
    int64_t now, int again, inbox_event_list_t *events,
    inbox_error_t *err);
/* The entries of campaign that claims parked while it was paused
 * (outbox.h) due again at now: resume and cancel; with backoffs also
 * those waiting out a retry, so that a cancel reports them at once. */
inbox_status_t inbox_mongo_outbox_unpark(inbox_mongo_store_t *ms,
    const bson_oid_t *campaign, int64_t now, int backoffs,
    inbox_error_t *err);
/* The entries of campaign, paused so that they wait (a person's pause,
 * carrier_account), parked at once but those the sender holds, each
 * giving back its message's hold (outbox.h). */
inbox_status_t inbox_mongo_outbox_park_campaign(inbox_mongo_store_t *ms,
    const bson_oid_t *campaign, int64_t now, inbox_error_t *err);
/* A parked campaign message's hold given back (a release settled as
 * store_mongo_settle.c does, once) while its outbox entry is still
 * parked and not leased; one holding nothing is left. */
inbox_status_t inbox_mongo_hold_give_back(inbox_mongo_store_t *ms,
    const bson_oid_t *message, const bson_oid_t *entry, int64_t now,
    inbox_error_t *err);
/* The campaign paused for credits as inbox_campaign_pause_for says, from
 * the status read (store_mongo_campaigns.c): a claim found the balance
 * short of its parked message's hold. */
inbox_status_t inbox_mongo_campaign_credits_short(inbox_mongo_store_t *ms,
    const bson_oid_t *campaign, int64_t now, inbox_error_t *err);
/* The organization's campaign messages claims parked while its billing
 * was inactive (inbox_outbox_billing) due again at now. */
inbox_status_t inbox_mongo_outbox_unpark_org(inbox_mongo_store_t *ms,
    const bson_oid_t *org, int64_t now, inbox_error_t *err);
/* The organization's campaign messages waiting for their recipients'
 * quiet hours (n 0), or those of the n contacts, due again (outbox
 * entries at now, recipients dispatch held at once): the window or a
 * clock changed, and the next claim or dispatch holds them for the rule
 * as it is now. */
inbox_status_t inbox_mongo_outbox_unpark_quiet(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const bson_oid_t *contacts, size_t n, int64_t now,
    inbox_error_t *err);
/* The organization's number e164 of carrier ("" or no longer its: its
 * first of carrier) into number, with its credentials; number untouched
 * when it has none of carrier (store_mongo_media.c). */
inbox_status_t inbox_mongo_carrier_number(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const char *carrier, const char *e164,
    inbox_number_t *number, inbox_error_t *err);
/* The organization's first number (its e164, "" for none). */
inbox_status_t inbox_mongo_first_number(inbox_mongo_store_t *ms,
    const bson_oid_t *org, char from[INBOX_PHONE_MAX], inbox_error_t *err);
/* Moves org's credits as a ledger entry of kind says (billing.h), then
 * writes that entry (message NULL: none), store_mongo_billing.c: a grant,
 * a hold, or the release of a hold whose message was never stored (a
 * stored message's is inbox_mongo_settle's).  A hold
 * takes only what the balance has, only while billing is active: *moved
 * (may be NULL) is 0 when it took nothing, 1 when the credits moved,
 * even if the entry then failed. */
inbox_status_t inbox_mongo_credits_move(inbox_mongo_store_t *ms,
    const bson_oid_t *org, inbox_ledger_kind_t kind, int64_t credits,
    const bson_oid_t *message, int64_t now, int *moved, inbox_error_t *err);
/* A hold's settlement (store_mongo_settle.c): the message which (a
 * filter, "held": true added) finds first by sort (NULL: any) has its
 * hold captured or released as kind says, once, whoever else settles
 * it; *found whether one was.  An interruption (a failure, a crash)
 * leaves it marked "settling", for inbox_mongo_settle_recover. */
inbox_status_t inbox_mongo_settle(inbox_mongo_store_t *ms,
    const bson_t *which, const bson_t *sort, inbox_ledger_kind_t kind,
    int64_t now, int *found, inbox_error_t *err);
/* The release of a parked message's hold, as inbox_mongo_settle's, that
 * goes past marking the message settling only while its outbox entry is
 * still parked and not leased, else puts the hold back (*found 0): a
 * claim may have handed it out holding. */
inbox_status_t inbox_mongo_settle_parked(inbox_mongo_store_t *ms,
    const bson_oid_t *message, const bson_oid_t *entry, int64_t now,
    int *found, inbox_error_t *err);
/* Finishes at most max settlements whose settler's lease ended (a
 * settler that died or failed), *finished saying how many it took. */
inbox_status_t inbox_mongo_settle_recover(inbox_mongo_store_t *ms,
    int64_t now, size_t max, size_t *finished, inbox_error_t *err);
/* How long a settler has to finish before the recovery may: longer than
 * any one command of it takes. */
#define INBOX_MONGO_SETTLE_LEASE_MS  60000
/* org's billing as GET /api/v1/billing shows it; INBOX_ERR_NOT_FOUND
 * when there is no such organization. */
inbox_status_t inbox_mongo_billing_load(inbox_mongo_store_t *ms,
    const bson_oid_t *org, inbox_billing_t *billing, inbox_error_t *err);
/* After a change of org's billing (credits granted, billing set, the
 * plan): its billing.updated, with the billing read again. */
inbox_status_t inbox_mongo_billing_changed(inbox_mongo_store_t *ms,
    const bson_oid_t *org, inbox_error_t *err);

/* campaigns and polls (store_mongo_campaigns.c) */
/* An inbound message (message, at, body) from contact answers one of
 * its polls, or else replies to its latest campaign message (see
 * inbox_store_inbound_ingest in store.h). */
inbox_status_t inbox_mongo_campaign_reply(inbox_mongo_store_t *ms,
    const bson_oid_t *contact, const bson_oid_t *message, int64_t at,
    const char *body, inbox_error_t *err);
/* The campaign id names paused as inbox_campaign_pause_carrier says: the
 * carrier refused its number's account or credentials, the sending
 * number from with code ("" none), which the pause keeps. */
inbox_status_t inbox_mongo_campaign_carrier_refused(inbox_mongo_store_t *ms,
    const char *id, const char *from, const char *code, int64_t now,
    inbox_error_t *err);
/* A campaign's message moved to status to with error_code (as the
 * message has it after the move; NULL: none): its recipient's state
 * follows (inbox_recipient_of_delivery), only forward. */
inbox_status_t inbox_mongo_recipient_delivery(inbox_mongo_store_t *ms,
    const bson_oid_t *message, inbox_delivery_t to, const char *error_code,
    inbox_error_t *err);
/* A campaign's message reported never sent because its campaign was
 * cancelled: its recipient is counted in state
 * (inbox_recipient_of_unsent). */
inbox_status_t inbox_mongo_recipient_unsent(inbox_mongo_store_t *ms,
    const bson_oid_t *message, inbox_recipient_state_t state,
    inbox_error_t *err);
/* The recipients of n campaign messages put off for quiet hours (waits
 * 1: counted waiting for them), or claimed again (waits 0: counted
 * queued). */
inbox_status_t inbox_mongo_recipient_waits(inbox_mongo_store_t *ms,
    const bson_oid_t *messages, size_t n, int waits, inbox_error_t *err);
/* The recipients of n campaign messages the sender takes now to send:
 * sent at "at" (the campaigns' clock), from which a poll's answers count
 * (poll.h), however long each waited in the outbox; only forward. */
inbox_status_t inbox_mongo_recipients_sent(inbox_mongo_store_t *ms,
    const bson_oid_t *messages, size_t n, int64_t at, inbox_error_t *err);
/* An organization's settings from its org document, defaults for what
 * was never set (store_mongo_settings.c). */
void inbox_mongo_parse_settings(const bson_t *doc,
    inbox_settings_t *settings);
/* org's settings as GET /api/v1/settings shows them; INBOX_ERR_NOT_FOUND
 * when there is no such organization. */
inbox_status_t inbox_mongo_settings_load(inbox_mongo_store_t *ms,
    const bson_oid_t *org, inbox_settings_t *settings, inbox_error_t *err);
/* A campaign of org with its counts; INBOX_ERR_NOT_FOUND for none. */
inbox_status_t inbox_mongo_campaign_load(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const bson_oid_t *id, inbox_campaign_t *c,
    inbox_error_t *err);


/* The operations (see store_backend.h), in the files named by their
 * nouns: store_mongo_NOUN.c, as store_backend.h names for each group
 * (admin, users, team, sessions, contacts, ...). */
#define INBOX_MONGO_OP(kind, name, params, args)                              \
    inbox_status_t inbox_mongo_##name params;

INBOX_STORE_OPERATIONS(INBOX_MONGO_OP)

#undef INBOX_MONGO_OP

#endif
