/*
 * The SQLite backend's internals, shared by its files (store_sqlite*.c):
 * the store handle, each thread's connection with its cache of prepared
 * statements, and helpers that turn SQLite results into inbox statuses.
 *
 * A connection belongs to one thread (pthread thread-specific data) and is
 * closed when the store is closed.  Statements
 * are prepared once per connection (SQLITE_PREPARE_PERSISTENT) and handed
 * out reset; callers reset them when done (inbox_sqlite_done) so no read
 * snapshot outlives a call.
 */
#ifndef INBOX_STORE_SQLITE_H
#define INBOX_STORE_SQLITE_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>
#include <sqlite3.h>
#include <inbox/search.h>
#include "store_backend.h"


/* Every cached statement has a slot; its SQL lives next to its user. */
typedef enum {
    INBOX_SQL_BEGIN = 0,
    INBOX_SQL_BEGIN_IMMEDIATE,
    INBOX_SQL_COMMIT,
    INBOX_SQL_ROLLBACK,
    INBOX_SQL_SAVEPOINT,
    INBOX_SQL_RELEASE,
    INBOX_SQL_ROLLBACK_TO,
    INBOX_SQL_PING,
    INBOX_SQL_UID,

    INBOX_SQL_ORG_CREATE,
    INBOX_SQL_ORG_FIND_BY_NAME,
    INBOX_SQL_NUMBER_ADD,
    INBOX_SQL_NUMBER_UPDATE,
    INBOX_SQL_NUMBER_FIND,
    INBOX_SQL_NUMBERS_LIST,
    INBOX_SQL_NUMBER_WAITING,
    INBOX_SQL_NUMBER_REMOVE,
    INBOX_SQL_USER_ADD,
    INBOX_SQL_USER_EMAIL_CHECK,
    INBOX_SQL_USER_FIND,
    INBOX_SQL_TOKEN_ADD,
    INBOX_SQL_TOKEN_FIND,
    INBOX_SQL_TOKENS_LIST,
    INBOX_SQL_TOKEN_REVOKE,
    INBOX_SQL_TOKEN_REVOKED,
    INBOX_SQL_ORG_EXISTS,
    INBOX_SQL_BILLING_SET,
    INBOX_SQL_PLAN_SET,
    INBOX_SQL_CONTACT_UPSERT,
    INBOX_SQL_CONVERSATION_ENSURE,
    INBOX_SQL_REALTIME_STATE,
    INBOX_SQL_STREAM_POSITION,

    INBOX_SQL_INGEST_NUMBER,
    INBOX_SQL_INGEST_CONTACT_FIND,
    INBOX_SQL_INGEST_CONTACT,
    INBOX_SQL_INGEST_CONVERSATION,
    INBOX_SQL_INGEST_MESSAGE,
    INBOX_SQL_INGEST_EXISTING,
    INBOX_SQL_INGEST_MEDIA,
    INBOX_SQL_INGEST_TOUCH,
    INBOX_SQL_INGEST_HELP_FIND,
    INBOX_SQL_INGEST_HELP_SET,
    INBOX_SQL_ORG_SEQ_ADVANCE,
    INBOX_SQL_EVENT_APPEND,
    INBOX_SQL_EVENTS_RESERVE,

    INBOX_SQL_COUNTS,
    INBOX_SQL_CONVERSATION_GET,
    INBOX_SQL_CONVERSATIONS_ALL,
    INBOX_SQL_CONVERSATIONS_UNREAD,
    INBOX_SQL_CONVERSATIONS_UNRESPONDED,
    INBOX_SQL_CONVERSATIONS_STARRED,
    INBOX_SQL_CONVERSATIONS_ARCHIVED,
    INBOX_SQL_SEARCH_CANDIDATES,
    INBOX_SQL_SEARCH_ALL,       /* then one per filter, as above */
    INBOX_SQL_SEARCH_ANY = INBOX_SQL_SEARCH_ALL + 5,
    INBOX_SQL_SEARCH_PENDING,
    INBOX_SQL_SEARCH_INDEX,
    INBOX_SQL_SEARCH_INDEXED,
    /* the search's plans (store_sqlite_search.c) */
    INBOX_SQL_SEARCH_PENDING_MATCH,
    INBOX_SQL_TAG_CANDIDATES,
    INBOX_SQL_CONTACTS_POPULATION,
    INBOX_SQL_ORG_CONTACTS,
    INBOX_SQL_IDS_TAGGED,
    INBOX_SQL_SET_WALK_ALL,     /* then one per filter */
    INBOX_SQL_CONTACTS_LOOKUP = INBOX_SQL_SET_WALK_ALL + 5,
    INBOX_SQL_CONTACTS_SET_WALK,
    INBOX_SQL_CONVERSATION_OWNED,
    INBOX_SQL_MESSAGES_PAGE,
    INBOX_SQL_MESSAGE_MEDIA,

    INBOX_SQL_CONVERSATION_ACT,
    INBOX_SQL_CONVERSATION_RESPOND,

    INBOX_SQL_CONTACT_GET,
    INBOX_SQL_CONTACT_INSERT,
    INBOX_SQL_CONTACT_RENAME,
    INBOX_SQL_CONTACT_TIMEZONE,
    INBOX_SQL_CONTACT_FIND_PHONE,
    INBOX_SQL_CONTACT_TAGS_CLEAR,
    INBOX_SQL_CONTACT_TAG_ADD,
    INBOX_SQL_CONTACT_TAG_HAS,
    INBOX_SQL_CONTACTS_LIST,
    INBOX_SQL_TAGS_LIST,

    /* organizations' list, users, the team and sessions
     * (store_sqlite_{admin,users,team,sessions}.c) */
    INBOX_SQL_ORGS_LIST,
    INBOX_SQL_ORG_GET,
    INBOX_SQL_USER_GET,
    INBOX_SQL_USER_BY_EMAIL,
    INBOX_SQL_USERS_LIST,
    INBOX_SQL_USER_PASSWORD_SET,
    INBOX_SQL_USER_ON_TEAM,
    INBOX_SQL_USER_PASSWORD_REHASH,
    INBOX_SQL_SESSIONS_END_USER,
    INBOX_SQL_TEAM_USER_ROLE,
    INBOX_SQL_TEAM_ROLE_SET,
    INBOX_SQL_TEAM_USER_REMOVE,
    INBOX_SQL_TEAM_TOKENS_REVOKE,
    INBOX_SQL_SESSION_ADD,
    INBOX_SQL_SESSION_FIND,
    INBOX_SQL_SESSION_TOUCH,
    INBOX_SQL_SESSION_DELETE,
    INBOX_SQL_SESSIONS_PURGE,

    /* opt-out, opt-in and settings (store_sqlite_optout.c,
     * store_sqlite_settings.c) */
    INBOX_SQL_CONTACT_OPT_OUT,
    INBOX_SQL_CONTACT_OPT_IN,
    INBOX_SQL_CONTACT_OPT_LATEST,
    INBOX_SQL_CONTACT_EVENT_ADD,
    INBOX_SQL_CONTACT_EVENTS,
    INBOX_SQL_CONTACT_EVENTS_AFTER,
    INBOX_SQL_SETTINGS_GET,
    INBOX_SQL_SETTINGS_UPDATE,
    /* media (store_sqlite_media.c) */
    INBOX_SQL_MEDIA_ADD,
    INBOX_SQL_MEDIA_GET,
    INBOX_SQL_MEDIA_DUE,
    INBOX_SQL_MEDIA_LEASE,
    INBOX_SQL_MEDIA_DONE,
    INBOX_SQL_MEDIA_FAILED,
    INBOX_SQL_MEDIA_GIVE_BACK,
    INBOX_SQL_MEDIA_STATE,
    INBOX_SQL_MEDIA_RETYPE_THREAD,
    INBOX_SQL_MEDIA_ATTACH,
    INBOX_SQL_MEDIA_UNATTACHED,
    INBOX_SQL_MEDIA_PURGING,
    INBOX_SQL_MEDIA_MARK,
    INBOX_SQL_MEDIA_PURGE,
    INBOX_SQL_MEDIA_NAMED,
    INBOX_SQL_MEDIA_FILES_NAMED,
    INBOX_SQL_MEDIA_RELEASE,
    INBOX_SQL_MESSAGE_GET,
    /* replies, the outbox and billing (store_sqlite_outbox.c,
     * store_sqlite_billing.c) */
    INBOX_SQL_REPLY_KEY_FIND,
    INBOX_SQL_REPLY_KEY_ADD,
    INBOX_SQL_REPLY_USER,
    INBOX_SQL_REPLY_ORG,
    INBOX_SQL_REPLY_NUMBER,
    INBOX_SQL_REPLY_MESSAGE,
    INBOX_SQL_REPLY_MEDIA,
    INBOX_SQL_REPLY_TOUCH,
    INBOX_SQL_RESEND_FIND,
    INBOX_SQL_RESEND_MARK,
    INBOX_SQL_OUTBOX_ADD,
    INBOX_SQL_OUTBOX_DUE,
    INBOX_SQL_OUTBOX_LEASE,
    INBOX_SQL_OUTBOX_GET,
    INBOX_SQL_OUTBOX_RETRY,
    INBOX_SQL_OUTBOX_PARK,
    INBOX_SQL_OUTBOX_UNPARK,
    INBOX_SQL_OUTBOX_PARK_CAMPAIGN,
    INBOX_SQL_HOLD_GIVE_BACK,
    INBOX_SQL_HOLD_READ,
    INBOX_SQL_HOLD_AGAIN,
    INBOX_SQL_OUTBOX_UNPARK_ORG,
    INBOX_SQL_OUTBOX_UNPARK_QUIET,
    INBOX_SQL_OUTBOX_UNPARK_QUIET_ORG,
    INBOX_SQL_RECIPIENTS_UNHOLD,
    INBOX_SQL_RECIPIENTS_UNHOLD_ORG,
    INBOX_SQL_RECIPIENT_UNSENT,
    INBOX_SQL_RECIPIENT_WAITS,
    INBOX_SQL_RECIPIENT_GOES,
    INBOX_SQL_OUTBOX_DONE,
    INBOX_SQL_OUTBOX_CONTACT,
    INBOX_SQL_OUTBOX_HELD,
    INBOX_SQL_MESSAGE_LOAD,
    INBOX_SQL_MESSAGE_PROVIDER,
    INBOX_SQL_MESSAGE_UNKNOWN,
    INBOX_SQL_MESSAGE_ADOPT,
    INBOX_SQL_DELIVERY_GET,
    INBOX_SQL_DELIVERY_SET,
    INBOX_SQL_HELP_UNANSWERED,
    INBOX_SQL_STATUS_FIND,
    INBOX_SQL_EARLY_ADD,
    INBOX_SQL_EARLY_TAKE,
    INBOX_SQL_EARLY_DONE,
    INBOX_SQL_EARLY_NAMED,
    INBOX_SQL_EARLY_LOOK,
    INBOX_SQL_EARLY_PURGE,
    INBOX_SQL_REPLY_KEYS_LOOK,
    INBOX_SQL_REPLY_KEYS_PURGE,
    INBOX_SQL_HOLD_SETTLE,
    INBOX_SQL_HOLDS_DUE,
    INBOX_SQL_CREDITS_MOVE,
    INBOX_SQL_LEDGER_ADD,
    INBOX_SQL_BILLING_GET,
    INBOX_SQL_LEDGER_PAGE,
    /* status checks (store_sqlite_status_checks.c) */
    INBOX_SQL_STATUS_CHECKS_FIRST,
    INBOX_SQL_STATUS_CHECKS_AGAIN,
    INBOX_SQL_STATUS_CHECK_SET,
    /* campaigns and polls (store_sqlite_campaigns.c) */
    INBOX_SQL_CAMPAIGN_INSERT,
    INBOX_SQL_CAMPAIGN_TAG_ADD,
    INBOX_SQL_CAMPAIGN_OPTION_ADD,
    INBOX_SQL_CAMPAIGN_MEDIA_ADD,
    INBOX_SQL_CAMPAIGN_EDIT,
    INBOX_SQL_CAMPAIGN_RESCHEDULE,
    INBOX_SQL_CAMPAIGN_DELETE,
    INBOX_SQL_CAMPAIGN_RECIPIENTS_DELETE,
    INBOX_SQL_RECIPIENTS_RESCHEDULE,
    INBOX_SQL_CAMPAIGN_TAGS_CLEAR,
    INBOX_SQL_CAMPAIGN_OPTIONS_CLEAR,
    INBOX_SQL_CAMPAIGN_MEDIA_CLEAR,
    INBOX_SQL_CAMPAIGN_GET,
    INBOX_SQL_CAMPAIGN_TAGS,
    INBOX_SQL_CAMPAIGN_OPTIONS,
    INBOX_SQL_CAMPAIGN_MEDIA,
    INBOX_SQL_CAMPAIGNS_PAGE,
    INBOX_SQL_CAMPAIGN_SET,
    INBOX_SQL_CAMPAIGN_OF_MESSAGE,
    INBOX_SQL_CAMPAIGN_REFUSED_NUMBER,
    INBOX_SQL_CAMPAIGN_AUDIENCE_ALL,
    INBOX_SQL_CAMPAIGN_AUDIENCE_TAGS,
    INBOX_SQL_CAMPAIGN_EXCLUDED,
    INBOX_SQL_CAMPAIGN_CANCEL_LEFT,
    INBOX_SQL_CAMPAIGNS_START,
    INBOX_SQL_CAMPAIGNS_SENDING,
    INBOX_SQL_CAMPAIGN_ORG,
    INBOX_SQL_CAMPAIGN_DUE,
    INBOX_SQL_RECIPIENT_SET,
    INBOX_SQL_RECIPIENT_HANDED,
    INBOX_SQL_CAMPAIGN_HANDED,
    INBOX_SQL_CAMPAIGN_LEFT,
    INBOX_SQL_CAMPAIGN_AHEAD,
    INBOX_SQL_CAMPAIGN_NUMBER,
    INBOX_SQL_CAMPAIGN_REPLIED,
    INBOX_SQL_CAMPAIGN_REPLY_POLLS,
    INBOX_SQL_POLL_REPLIED,
    INBOX_SQL_CAMPAIGN_ANSWER,
    INBOX_SQL_POLL_RESPONSES,
    INBOX_SQL_CONTACT_CAMPAIGNS,
    INBOX_SQL_CONTACT_POLLS,
    INBOX_SQL_CONTACT_OWNED,
    INBOX_SQL_AUDIENCE_ALL_COUNT,
    INBOX_SQL_AUDIENCE_TAGS_COUNT,
    INBOX_SQL_AUDIENCE_ALL_NO_MMS,
    INBOX_SQL_AUDIENCE_TAGS_NO_MMS,
    INBOX_SQL_CAMPAIGNS_ACTIVE,
    /* resume and retention (store_sqlite_events.c) */
    INBOX_SQL_EVENTS_OLDEST,
    INBOX_SQL_EVENTS_SINCE,
    INBOX_SQL_EVENTS_PRUNE_ORGS,
    INBOX_SQL_EVENTS_PRUNE_NEWEST,
    INBOX_SQL_EVENTS_PRUNE_WALK,
    INBOX_SQL_EVENTS_PRUNE_DELETE,
    INBOX_SQL_EVENTS_NEW_EPOCH,
    INBOX_SQL_SEARCH_CANDIDATES_CHECKED,

    INBOX_SQL_COUNT
} inbox_sql_id_t;


typedef struct inbox_sqlite_conn_s  inbox_sqlite_conn_t;

/* A new event stream's epoch: 16 random hex digits, never reused. */
#define INBOX_SQLITE_NEW_EPOCH  "lower(hex(randomblob(8)))"

/* store_info.uid: 32 hex digits. */
#define INBOX_SQLITE_UID_MAX  40

/*
 * The queue of writers across processes (store_sqlite_writer.c): a
 * robust, process-shared mutex in PATH-writer, waited on until a
 * writer's deadline.  Guarded by the store's write_lock.
 */
typedef struct inbox_sqlite_writer_shared_s  inbox_sqlite_writer_shared_t;

typedef struct {
    inbox_sqlite_writer_shared_t  *shared;  /* mapped; NULL: no queue */
    pid_t                          pid;     /* the process that mapped it */
    unsigned                       locked:1;
    unsigned                       tried:1; /* opened once, mapped or not */
} inbox_sqlite_writer_t;

void inbox_sqlite_writer_reset(inbox_sqlite_writer_t *w);
/* Waits for the queue until deadline (monotonic ms): -1 when it passed
 * first; 0 when this process's turn came, and when there is no queue
 * (the busy handler then does it all). */
int inbox_sqlite_writer_lock(inbox_sqlite_writer_t *w, const char *db_path,
    int64_t deadline);
void inbox_sqlite_writer_unlock(inbox_sqlite_writer_t *w);
/* Unmaps it: the next lock maps PATH-writer again (a store opened anew). */
void inbox_sqlite_writer_close(inbox_sqlite_writer_t *w);

typedef struct {
    inbox_store_t          base;         /* first: store.c casts to it */
    char                  *path;
    int                    full_sync;    /* synchronous=FULL */
    pthread_key_t          key;          /* this thread's connection */
    pthread_mutex_t        lock;         /* guards conns */
    pthread_mutex_t        write_lock;   /* queues this process's writers */
    inbox_sqlite_writer_t  queue;        /* of the processes' writers */
    inbox_sqlite_conn_t   *writer;       /* every write transaction's */
    int64_t                busy_at;      /* when a writer last gave up on
                                            another process's lock
                                            (monotonic ms; write_lock) */
    inbox_sqlite_conn_t   *conns;        /* every open connection */
    char                   uid[INBOX_SQLITE_UID_MAX];
                                         /* the store's identity: a file
                                            without it is not this store */
    dev_t                  dev;          /* the file opened: another one */
    ino_t                  ino;          /* at the path is not served */
} inbox_sqlite_store_t;

struct inbox_sqlite_conn_s {
    sqlite3                *db;
    inbox_sqlite_store_t   *store;
    pid_t                   pid;         /* a forked child opens its own */
    int                     writing;     /* holds store->write_lock */
    int64_t                 deadline;    /* when a writer waiting for the
                                            lock gives up (monotonic ms;
                                            0: the busy timeout's count) */
    inbox_sqlite_conn_t    *prev;
    inbox_sqlite_conn_t    *next;
    sqlite3_stmt           *stmts[INBOX_SQL_COUNT];
};


/*
 * The kind of the campaign or poll whose id is column (NULL: none), for a
 * message to say which route names it.  Read, not kept: a campaign's kind
 * never changes, a campaign that handed a message over is never deleted
 * (inbox_campaign_deletable), and one lookup by the primary key a row
 * read costs less than a column on every message.
 */
#define INBOX_SQLITE_CAMPAIGN_KIND(column)                                    \
    "(SELECT k.kind FROM campaigns k WHERE k.id = " column ")"

/*
 * The columns of a conversation with its contact, in the order
 * inbox_sqlite_conversation_read expects; its FROM ends with
 * INBOX_SQLITE_CONVERSATION_LAST, then a WHERE clause.  The last
 * message's campaign kind is its campaign's, and its delivery is read
 * from the message, never behind its moves: one lookup of each by its
 * key (a LEFT JOIN, none for a thread without a message), for the rows
 * read only (as INBOX_SQLITE_CAMPAIGN_KIND).
 */
#define INBOX_SQLITE_CONVERSATION_COLUMNS                                     \
    "SELECT c.id, ct.id, ct.name, ct.phone, ct.opted_out,"                   \
    " c.last_message_id, c.last_direction, c.last_preview,"                  \
    " c.last_message_at, c.last_activity_at, c.unread_count, c.archived,"    \
    " c.starred, c.unresponded_at, c.responded_at, c.last_media_type,"       \
    " c.last_sent_by, c.last_campaign_id, lk.kind, lm.status,"               \
    " lm.error_code"

/* The last message and its campaign, for INBOX_SQLITE_CONVERSATION_COLUMNS
 * (c: the conversation). */
#define INBOX_SQLITE_CONVERSATION_LAST                                        \
    " LEFT JOIN messages lm ON lm.id = c.last_message_id"                    \
    " LEFT JOIN campaigns lk ON lk.id = c.last_campaign_id"

#define INBOX_SQLITE_CONVERSATION_SELECT                                      \
    INBOX_SQLITE_CONVERSATION_COLUMNS                                        \
    " FROM conversations c JOIN contacts ct ON ct.id = c.contact_id"         \
    INBOX_SQLITE_CONVERSATION_LAST " "

/* One conversation of an organization: ?1 its id, ?2 the org id. */
#define INBOX_SQLITE_CONVERSATION_GET_SQL                                     \
    INBOX_SQLITE_CONVERSATION_SELECT "WHERE c.id = ?1 AND c.org_id = ?2"

/* Whether a message of time at (a parameter: "?2") becomes its
 * conversation's last message, in an UPDATE of conversations:
 * inbox_conversation_newer's rule. */
#define INBOX_SQLITE_NEWER(at)                                                \
    "(last_message_at IS NULL OR " at " >= last_message_at)"

/* Whether a thread is in the lists, in an UPDATE of conversations: it has
 * activity (INBOX_ACTIVITY_NONE is 0; inbox_filter_matches). */
#define INBOX_SQLITE_LISTED_SQL  "(last_activity_at > 0)"

/* The unread total the default view shows and the tabs' counts (kept by
 * triggers on conversations, see the migrations): ?1 is the org id. */
#define INBOX_SQLITE_COUNTS_SQL                                               \
    "SELECT unread_total, count_all, count_unread, count_unresponded,"       \
    " count_starred, count_archived FROM orgs WHERE id = ?1"


/* The calling thread's connection, opened on first use; NULL with err set
 * (INBOX_ERR_UNAVAILABLE) when the database cannot be opened, is gone,
 * read-only or another store. */
inbox_sqlite_conn_t *inbox_sqlite_conn(inbox_store_t *store,
    inbox_error_t *err);

/* The statement in slot id, prepared from sql on first use, reset and with
 * no bindings; NULL with err set on failure. */
sqlite3_stmt *inbox_sqlite_stmt(inbox_sqlite_conn_t *conn, inbox_sql_id_t id,
    const char *sql, inbox_error_t *err);

/* Resets a statement so it holds no lock or snapshot. */
void inbox_sqlite_done(sqlite3_stmt *stmt);

/* Runs a statement that returns no rows and resets it: 1 when it ran
 * (the error stays in sqlite3_errcode). */
int inbox_sqlite_step_done(sqlite3_stmt *stmt);

/* Transactions.  begin_write queues for the process's one writer
 * connection (write_lock, then the processes' queue in PATH-writer,
 * store_sqlite_writer.c) and takes SQLite's write lock (BEGIN
 * IMMEDIATE) on it; it returns that connection, or NULL with err set.
 * commit and rollback end either kind and release the queue. */
inbox_status_t inbox_sqlite_begin_read(inbox_sqlite_conn_t *conn,
    inbox_error_t *err);
inbox_sqlite_conn_t *inbox_sqlite_begin_write(inbox_store_t *store,
    inbox_error_t *err);
/* A purge's first step: look (?1 the time "before") is a query for one
 * row old enough, run on this thread's reader, since mostly none is due;
 * when one is, *conn is a write transaction begun for the purge, else
 * NULL (and INBOX_OK).  So a purge asked for every second takes the write
 * lock that webhook batches wait for only when it has work. */
inbox_status_t inbox_sqlite_purge_begin(inbox_store_t *store,
    inbox_sql_id_t look_id, const char *look, int64_t before,
    inbox_sqlite_conn_t **conn, inbox_error_t *err);
inbox_status_t inbox_sqlite_commit(inbox_sqlite_conn_t *conn,
    inbox_error_t *err);
void inbox_sqlite_rollback(inbox_sqlite_conn_t *conn);

/* Runs a cached statement that returns no rows (or whose rows are not
 * wanted); returns the SQLite result code. */
int inbox_sqlite_run(inbox_sqlite_conn_t *conn, inbox_sql_id_t id,
    const char *sql);

/* Steps a bound UPDATE of one row read earlier in this transaction and
 * releases it: INBOX_OK when it changed exactly that row. */
inbox_status_t inbox_sqlite_update_read_row(inbox_sqlite_conn_t *conn,
    sqlite3_stmt *stmt, inbox_error_t *err);

/* Turns an SQLite failure into a status and a message: busy, locked, full
 * or I/O errors are INBOX_ERR_UNAVAILABLE, the rest INBOX_ERR_INTERNAL. */
inbox_status_t inbox_sqlite_fail(inbox_sqlite_conn_t *conn, int rc,
    inbox_error_t *err);

/* Ids: decimal row ids.  parse_id returns 0, or -1 for anything that is not
 * a positive decimal integer. */
void inbox_sqlite_format_id(int64_t id, char out[INBOX_ID_MAX]);
int inbox_sqlite_parse_id(const char *s, int64_t *id);

/*
 * A search's or a tag's candidates and the plan that reads a list with
 * them (store_sqlite_search.c).  ids are contact ids in ascending order;
 * over: more than the most collected (ids then empty).
 */
typedef struct {
    int64_t  *ids;
    size_t    n;
    size_t    cap;
    int       over;
} inbox_sqlite_ids_t;

typedef enum {
    INBOX_SQLITE_PLAN_LOOKUP,      /* the candidates' rows, sorted */
    INBOX_SQLITE_PLAN_SET_WALK     /* the list's index newest first, each
                                      entry looked up in the candidates */
} inbox_sqlite_plan_t;

/* name : "..." OR (name : "..." AND ...) OR digits : "...", for
 * contacts_search MATCH: the words' keys, quotes doubled, and at most a
 * word each two bytes of q, each with its "name : " and AND */
#define INBOX_SQLITE_MATCH_MAX                                               \
    (4 * INBOX_SEARCH_KEY_MAX + 4 * INBOX_SEARCH_MAX                         \
     + 16 * (INBOX_SEARCH_MAX / 2) + 64)

/* What a plan is chosen for: a list of listed rows (each an entry of
 * the index a walk passes) and candidates drawn from population rows. */
typedef struct {
    int64_t   listed;
    int64_t   population;
    unsigned  limit;
    /* q has a short word: each candidate is checked as it is collected */
    int       checked;
} inbox_sqlite_list_t;

/* How many candidates to collect at most: past it, scanning the list and
 * checking each row costs less. */
size_t inbox_sqlite_collect_max(const inbox_sqlite_list_t *list);
/* The cheaper plan for k candidates. */
inbox_sqlite_plan_t inbox_sqlite_plan(size_t k,
    const inbox_sqlite_list_t *list);
/* The contacts (of every organization) q matches, indexed or pending;
 * search is q parsed with country (search.h). */
inbox_status_t inbox_sqlite_search_collect(inbox_sqlite_conn_t *conn,
    const inbox_search_t *search, const char *q, const char *country,
    size_t max, inbox_sqlite_ids_t *ids, inbox_error_t *err);
/* The organization's contacts with tag, in any ASCII case. */
inbox_status_t inbox_sqlite_tag_collect(inbox_sqlite_conn_t *conn,
    int64_t org, const char *tag, size_t max, inbox_sqlite_ids_t *ids,
    inbox_error_t *err);
/* Binds ids to parameter i as a JSON array, for json_each(). */
inbox_status_t inbox_sqlite_ids_bind(sqlite3_stmt *stmt, int i,
    const inbox_sqlite_ids_t *ids, inbox_error_t *err);
/* Keeps the ids whose contact has tag. */
inbox_status_t inbox_sqlite_ids_tagged(inbox_sqlite_conn_t *conn,
    inbox_sqlite_ids_t *ids, const char *tag, inbox_error_t *err);
void inbox_sqlite_ids_intersect(inbox_sqlite_ids_t *a,
    const inbox_sqlite_ids_t *b);
int inbox_sqlite_ids_has(const inbox_sqlite_ids_t *ids, int64_t id);
void inbox_sqlite_ids_free(inbox_sqlite_ids_t *ids);
/* The contacts of every organization, about: a search's population. */
inbox_status_t inbox_sqlite_contacts_population(inbox_sqlite_conn_t *conn,
    int64_t *population, inbox_error_t *err);
/* The organization's contacts (0 for no such organization). */
inbox_status_t inbox_sqlite_org_contacts(inbox_sqlite_conn_t *conn,
    int64_t org, int64_t *contacts, inbox_error_t *err);

/* SQL inbox_search_matches(q, country, name, phone): inbox_search_matches
 * for a row, q parsed (with country) once a statement. */
void inbox_sqlite_search_matches(sqlite3_context *ctx, int argc,
    sqlite3_value **argv);

/* SQL inbox_search_key(name): inbox_search_key of a name (NULL for
 * NULL, or a name it cannot fold); what contacts.search_name holds. */
void inbox_sqlite_search_key(sqlite3_context *ctx, int argc,
    sqlite3_value **argv);

/* SQL inbox_takes_mms(phone): inbox_phone_takes_mms, for a count of the
 * numbers pictures do not reach. */
void inbox_sqlite_takes_mms(sqlite3_context *ctx, int argc,
    sqlite3_value **argv);

/* Binds contacts.search_name for name: its key, NULL when name is NULL
 * or "" (no name) or cannot be folded. */
int inbox_sqlite_bind_search_name(sqlite3_stmt *stmt, int i,
    const char *name);

/* Binds a string, or NULL when s is NULL. */
int inbox_sqlite_bind_text(sqlite3_stmt *stmt, int i, const char *s);
/* Copies a text column (NULL as "") into out, truncating to size. */
void inbox_sqlite_column_copy(sqlite3_stmt *stmt, int i, char *out,
    size_t size);
/* A malloc'd copy of a text column, NULL when the column is NULL; sets
 * *oom when out of memory. */
char *inbox_sqlite_column_strdup(sqlite3_stmt *stmt, int i, int *oom);

/*
 * A number read from seven columns from col on: e164, carrier,
 * account_sid, auth_token, public_key, api_key, api_base (a number row's
 * own order); *oom set when a copy found no memory.
 */
void inbox_sqlite_number_columns(sqlite3_stmt *stmt, int col,
    inbox_number_t *number, int *oom);

/* Keyset cursors: base64url of "AT:ID". */
void inbox_sqlite_cursor_encode(int64_t at, int64_t id,
    char out[INBOX_CURSOR_MAX]);
int inbox_sqlite_cursor_decode(const char *cursor, int64_t *at, int64_t *id);

/* One conversation of org by id on conn; INBOX_ERR_NOT_FOUND when org has
 * no such conversation. */
inbox_status_t inbox_sqlite_conversation_load(inbox_sqlite_conn_t *conn,
    int64_t org, int64_t id, inbox_conversation_t *conversation,
    inbox_error_t *err);
/* Writes the wait of a conversation loaded on conn as
 * inbox_conversation_respond left it. */
inbox_status_t inbox_sqlite_conversation_respond_write(
    inbox_sqlite_conn_t *conn, const inbox_conversation_t *conversation,
    inbox_error_t *err);
/* Reads a row of INBOX_SQLITE_CONVERSATION_SELECT; INBOX_ERR_INTERNAL when
 * out of memory (conversation is then safe to free). */
inbox_status_t inbox_sqlite_conversation_read(sqlite3_stmt *stmt,
    inbox_conversation_t *conversation, inbox_error_t *err);


/* A failed write: a UNIQUE constraint is INBOX_ERR_CONFLICT ("what" names
 * the taken value), a foreign key one an organization that does not
 * exist (named by org_id as MongoDB's backend names it; NULL when the
 * caller has none), any other constraint INBOX_ERR_INTERNAL (values a
 * client gives are checked before the store). */
inbox_status_t inbox_sqlite_write_fail(inbox_sqlite_conn_t *conn, int rc,
    const char *what, const char *org_id, inbox_error_t *err);
/* An organization's id; INBOX_ERR_NOT_FOUND for one no store could have. */
inbox_status_t inbox_sqlite_org_id(const char *org_id, int64_t *id,
    inbox_error_t *err);

/* Organizations (store_sqlite_admin.c): the columns an organization is
 * read from, one such row read (INBOX_ERR_INTERNAL when out of memory),
 * and whether organization org exists (INBOX_OK, else
 * INBOX_ERR_NOT_FOUND naming org_id). */
#define INBOX_SQLITE_ORG_COLUMNS   "SELECT id, name, timezone, created_at"
inbox_status_t inbox_sqlite_org_read(sqlite3_stmt *stmt, inbox_org_t *org,
    inbox_error_t *err);
inbox_status_t inbox_sqlite_org_known(inbox_sqlite_conn_t *conn,
    int64_t org, const char *org_id, inbox_error_t *err);

/* Users (store_sqlite_users.c): a user's id, INBOX_ERR_NOT_FOUND for one
 * no store could have (an organization's is read by
 * inbox_sqlite_org_id); the columns a user is read from, and one such
 * row read. */
inbox_status_t inbox_sqlite_user_id(const char *s, int64_t *id,
    inbox_error_t *err);
#define INBOX_SQLITE_USER_COLUMNS  "SELECT id, org_id, email, role, created_at"
void inbox_sqlite_user_read(sqlite3_stmt *stmt, inbox_user_t *user);

/* One statement in its own write transaction (store_sqlite_sessions.c:
 * the session writes and a sign-in's rehash): *stmtp is the statement id
 * names, prepared on *connp, which holds the write lock (rolled back on
 * failure).  inbox_sqlite_write_one_finish steps it to its end, then
 * commits (or rolls back); *changes (may be NULL) gets the rows it
 * changed; a foreign key that fails is INBOX_ERR_NOT_FOUND, "No such
 * user for " what. */
inbox_status_t inbox_sqlite_write_one(inbox_store_t *store,
    sqlite3_stmt **stmtp, inbox_sqlite_conn_t **connp, inbox_sql_id_t id,
    const char *sql, inbox_error_t *err);
inbox_status_t inbox_sqlite_write_one_finish(inbox_sqlite_conn_t *conn,
    sqlite3_stmt *stmt, const char *what, size_t *changes,
    inbox_error_t *err);

/* The number e164 with its credentials, read on conn (inside a write
 * transaction too: store_sqlite_admin.c); INBOX_ERR_NOT_FOUND when no
 * organization has it. */
inbox_status_t inbox_sqlite_number_read(inbox_sqlite_conn_t *conn,
    const char *e164, inbox_number_t *number, inbox_error_t *err);

/* The contact's record (store_sqlite_contacts.c); INBOX_ERR_NOT_FOUND
 * when org has no such contact. */
inbox_status_t inbox_sqlite_contact_load(inbox_sqlite_conn_t *conn,
    int64_t org, int64_t id, inbox_contact_record_t *contact,
    inbox_error_t *err);

/* Inside a write transaction (store_sqlite_optout.c): writes what the
 * rule of optout.h made of the contact (after: opted out or not, its
 * newest opt time) and the event of its timeline, with the keyword
 * texted (NULL: none) and the message that said it (0: none). */
inbox_status_t inbox_sqlite_contact_opt_write(inbox_sqlite_conn_t *conn,
    int64_t org, int64_t contact, const inbox_contact_record_t *after,
    const char *keyword, int64_t message, int64_t at, inbox_error_t *err);
/* The same for a rule that changed nothing but the contact's newest opt
 * time (after->opt_latest_at): that alone is written, no event. */
inbox_status_t inbox_sqlite_contact_opt_latest_write(
    inbox_sqlite_conn_t *conn, int64_t contact,
    const inbox_contact_record_t *after, inbox_error_t *err);
/* messages */
/* A message's own columns, in the order inbox_sqlite_message_columns
 * reads them from a row (store_sqlite_messages.c). */
#define INBOX_SQLITE_MESSAGE_COLUMNS                                          \
    "direction, body, status, error_code, segments, credits, created_at,"    \
    " sent_by, campaign_id,"                                                 \
    " " INBOX_SQLITE_CAMPAIGN_KIND("messages.campaign_id") ","              \
    " resent_as, resent_at"
/* Reads INBOX_SQLITE_MESSAGE_COLUMNS into m from the row's column first
 * on (*oom set when a copy could not be made). */
void inbox_sqlite_message_columns(sqlite3_stmt *stmt, int first,
    inbox_message_t *m, int *oom);
/* media */
/* Appends message's media, in order, from message_media
 * (store_sqlite_messages.c). */
inbox_status_t inbox_sqlite_media_read(inbox_sqlite_conn_t *conn,
    int64_t message, inbox_message_t *m, inbox_error_t *err);
/* One message by id with its media, and its organization in *org;
 * INBOX_ERR_NOT_FOUND when there is none (store_sqlite_media.c). */
inbox_status_t inbox_sqlite_message_get(inbox_sqlite_conn_t *conn,
    int64_t id, int64_t *org, inbox_message_t *m, inbox_error_t *err);
/* Inside a write transaction: org's uploads of media[0..n-1] (by file)
 * are attached, not purged while so; inbox_media_gone's error for one
 * purged since it was read (store_sqlite_media.c). */
inbox_status_t inbox_sqlite_media_attach(inbox_sqlite_conn_t *conn,
    int64_t org, const inbox_media_t *media, size_t n, inbox_error_t *err);
/* Inside a write transaction, before a draft's images are replaced: the
 * uploads campaign names are released at now, left to the purge unless
 * attached again (an edit that keeps them does so next). */
inbox_status_t inbox_sqlite_media_release(inbox_sqlite_conn_t *conn,
    int64_t org, int64_t campaign, int64_t now, inbox_error_t *err);

/* The event stream (store_sqlite_events.c), inside a write transaction:
 * reserves org's next n org_seq (*first is the first) and reads its epoch
 * and unread total as they are now (the triggers on conversations keep
 * the total). */
inbox_status_t inbox_sqlite_events_reserve(inbox_sqlite_conn_t *conn,
    int64_t org, size_t n, int64_t *first, char epoch[INBOX_EPOCH_MAX],
    int64_t *unread_total, inbox_error_t *err);
/* Stores a rendered change's events as references (see event.h). */
inbox_status_t inbox_sqlite_events_store(inbox_sqlite_conn_t *conn,
    int64_t org, const char *epoch, const inbox_change_t *change, int64_t now,
    inbox_error_t *err);
/* The three in a row, inside the change's transaction: reserves the
 * change's org_seq numbers, gives it the unread total when it asks,
 * renders its frames and stores its events. */
inbox_status_t inbox_sqlite_events_record(inbox_sqlite_conn_t *conn,
    int64_t org, inbox_change_t *change, int64_t now, inbox_error_t *err);
/* The end of a change's write transaction: records its events, commits
 * and hands the frames to events (may be NULL) once durable.  On failure
 * the transaction is rolled back.  The change is freed either way. */
inbox_status_t inbox_sqlite_events_commit(inbox_sqlite_conn_t *conn,
    int64_t org, inbox_change_t *change, int64_t now,
    inbox_event_list_t *events, inbox_error_t *err);


/* inbox_sqlite_events_commit with the team's event of type
 * (INBOX_EVENT_USER_*) about user (store_sqlite_team.c). */
inbox_status_t inbox_sqlite_team_commit(inbox_sqlite_conn_t *conn,
    int64_t org, const char *type, int64_t user, inbox_event_list_t *events,
    inbox_error_t *err);


/* replies, the outbox and billing */
/* Reads the media of message into m (store_sqlite_messages.c). */
inbox_status_t inbox_sqlite_media_read(inbox_sqlite_conn_t *conn,
    int64_t message, inbox_message_t *m, inbox_error_t *err);
/* Inside a write transaction: moves org's credits as a ledger entry of
 * kind says (billing.h) and writes that entry (message 0: none).  A hold
 * takes only what the balance has and only while billing is active:
 * *moved (may be NULL) is 0 when it took nothing. */
inbox_status_t inbox_sqlite_credits_move(inbox_sqlite_conn_t *conn,
    int64_t org, inbox_ledger_kind_t kind, int64_t credits, int64_t message,
    int64_t now, int *moved, inbox_error_t *err);
/* The organization's billing as GET /api/v1/billing shows it, read on
 * conn (in its transaction, if any); org_id names it in a refusal. */
inbox_status_t inbox_sqlite_billing_load(inbox_sqlite_conn_t *conn,
    int64_t org, const char *org_id, inbox_billing_t *billing,
    inbox_error_t *err);
/* Inside a write transaction: a reply's (or notice's, or campaign's:
 * campaign not 0, of kind, inbox_campaign_kind_name's) message as
 * inbox_store_reply_accept stores it, once its checks passed;
 * result->conversation is its thread as loaded, and change gets its
 * events, rendered and stored (store_sqlite_outbox.c). */
inbox_status_t inbox_sqlite_reply_store(inbox_sqlite_conn_t *conn,
    int64_t org, const inbox_reply_t *reply, const char *fingerprint,
    int64_t user, int64_t campaign, const char *kind, const char *from,
    int64_t now, inbox_reply_result_t *result, inbox_change_t *change,
    inbox_error_t *err);
/* The same, but change gets its events unnumbered, for a caller that
 * numbers them itself (ingest: the batch hands out org_seq). */
inbox_status_t inbox_sqlite_reply_write(inbox_sqlite_conn_t *conn,
    int64_t org, const inbox_reply_t *reply, const char *fingerprint,
    int64_t user, int64_t campaign, const char *kind, const char *from,
    int64_t now, inbox_reply_result_t *result, inbox_change_t *change,
    inbox_error_t *err);
/* Inside a transaction: the organization's settings (settings.h). */
inbox_status_t inbox_sqlite_settings_load(inbox_sqlite_conn_t *conn,
    int64_t org, inbox_settings_t *settings, inbox_error_t *err);
/* A paused campaign's parked outbox entries due again at now (resume,
 * cancel), inside the caller's transaction; with backoffs also those
 * waiting out a retry, so that a cancel reports them at once. */
inbox_status_t inbox_sqlite_outbox_unpark(inbox_sqlite_conn_t *conn,
    int64_t campaign, int64_t now, int backoffs, inbox_error_t *err);
/* A campaign paused so that its outbox entries wait (inbox_campaign_
 * outbox): those the sender does not hold parked at once, each giving
 * back its hold (inbox_sqlite_hold_give_back), inside the caller's
 * transaction.  What the sender holds is parked when it gives it back. */
inbox_status_t inbox_sqlite_outbox_park_campaign(inbox_sqlite_conn_t *conn,
    int64_t campaign, int64_t now, inbox_error_t *err);
/* A parked campaign message holds nothing (outbox.h): its credits given
 * back (a release in the ledger), inside the caller's transaction; one
 * holding nothing already is left as it is. */
inbox_status_t inbox_sqlite_hold_give_back(inbox_sqlite_conn_t *conn,
    int64_t message, int64_t now, inbox_error_t *err);
/* The organization's parked campaign messages due again at now (its
 * billing is active again: inbox_outbox_billing), inside the caller's
 * transaction. */
inbox_status_t inbox_sqlite_outbox_unpark_org(inbox_sqlite_conn_t *conn,
    int64_t org, int64_t now, inbox_error_t *err);
/* The organization's campaign messages waiting for their recipients'
 * quiet hours (contact 0), or one contact's, due again (outbox entries at
 * now, recipients dispatch held at once): the window or a clock changed,
 * and the next claim or dispatch holds them for the rule as it is now;
 * inside the caller's transaction. */
inbox_status_t inbox_sqlite_outbox_unpark_quiet(inbox_sqlite_conn_t *conn,
    int64_t org, int64_t contact, int64_t now, inbox_error_t *err);

/* campaigns and polls (store_sqlite_campaigns.c) */
/* Inside ingest's transaction: an inbound message (message, at, body)
 * from contact answers one of its polls, or else replies to its latest
 * campaign message (see inbox_store_inbound_ingest in store.h). */
inbox_status_t inbox_sqlite_campaign_reply(inbox_sqlite_conn_t *conn,
    int64_t contact, int64_t message, int64_t at, const char *body,
    inbox_error_t *err);
/* In the caller's transaction: the campaign of message (none: nothing
 * done) paused as inbox_campaign_pause_carrier says, its number's
 * account refused by the carrier with code ("" none): the pause keeps
 * the message's sending number and code. */
inbox_status_t inbox_sqlite_campaign_carrier_refused(
    inbox_sqlite_conn_t *conn, int64_t message, const char *code,
    int64_t now, inbox_error_t *err);
/* In the caller's transaction: the campaign of message (none: nothing
 * done) paused for credits as inbox_campaign_pause_for says, a claim
 * finding the balance short of its parked message's hold. */
inbox_status_t inbox_sqlite_campaign_credits_short(
    inbox_sqlite_conn_t *conn, int64_t message, int64_t now,
    inbox_error_t *err);
/* A campaign of org with its counts, in the caller's transaction;
 * INBOX_ERR_NOT_FOUND for none. */
inbox_status_t inbox_sqlite_campaign_load(inbox_sqlite_conn_t *conn,
    int64_t org, int64_t id, inbox_campaign_t *c, inbox_error_t *err);


/* The operations (see store_backend.h), in the files named by their
 * nouns: store_sqlite_NOUN.c, as store_backend.h names for each group
 * (admin, users, team, sessions, contacts, ...). */
#define INBOX_SQLITE_OP(kind, name, params, args)                             \
    inbox_status_t inbox_sqlite_##name params;

INBOX_STORE_OPERATIONS(INBOX_SQLITE_OP)

#undef INBOX_SQLITE_OP

#endif
