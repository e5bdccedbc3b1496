/*
 * The SQLite backend: opening the database, versioned schema migrations,
 * one connection per thread with its prepared statements, and the helpers
 * the other store_sqlite_*.c files share.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <inbox/clock.h>
#include <inbox/encoding.h>
#include "store_sqlite.h"


#define INBOX_SQLITE_USER_MAX         64     /* "uid N (name)" */
#define INBOX_SQLITE_BUSY_TIMEOUT_MS  5000
/* a writer's wait for a lock that just stalled a whole timeout */
#define INBOX_SQLITE_BUSY_STALLED_MS  250

/* Less free disk than this and the store reports itself unhealthy, before
 * a batch fails for want of room. */
#define INBOX_SQLITE_MIN_FREE         (1024 * 1024)


static void inbox_sqlite_close(inbox_store_t *store);
static void inbox_sqlite_conn_drop(inbox_sqlite_conn_t *conn);
static void inbox_sqlite_end(inbox_sqlite_conn_t *conn);
static inbox_sqlite_conn_t *inbox_sqlite_conn_open(inbox_sqlite_store_t *s,
    inbox_error_t *err);
static void inbox_sqlite_conn_free(inbox_sqlite_conn_t *conn);
static int inbox_sqlite_configure(sqlite3 *db, int full_sync);
static int64_t inbox_sqlite_monotonic_ms(void);
static inbox_sqlite_store_t *inbox_sqlite_store_new(const char *path,
    int full_sync, int create, inbox_error_t *err);
static inbox_status_t inbox_sqlite_create_file(const char *path,
    inbox_error_t *err);
static inbox_status_t inbox_sqlite_migrate(const char *path, int create,
    char uid[INBOX_SQLITE_UID_MAX], inbox_error_t *err);
static int inbox_sqlite_uid(sqlite3 *db, char uid[INBOX_SQLITE_UID_MAX]);
static int inbox_sqlite_keys_check(sqlite3 *db, char **msg);
static int inbox_sqlite_moved(sqlite3 *db);
static int inbox_sqlite_at_path(inbox_sqlite_store_t *s);
static inbox_status_t inbox_sqlite_free_space(inbox_sqlite_store_t *s,
    inbox_error_t *err);
static int inbox_sqlite_user_version(sqlite3 *db, int *version);
static const char *inbox_sqlite_open_failure(sqlite3 *db, int rc,
    char *buf, size_t size);
static const char *inbox_sqlite_user(char *buf, size_t size);
static int inbox_sqlite_busy(void *data, int count);
static inbox_status_t inbox_sqlite_search_index(inbox_store_t *store,
    inbox_sqlite_conn_t *reader, inbox_error_t *err);


/*
 * What a conversation row r adds to its organization's unread total and
 * to each tab's count (see inbox_conversation_unread_shown and
 * inbox_filter_matches in model.c).  The unresponded share is the
 * rule's of the migration that writes the triggers: U5 (migration 5:
 * the last message is inbound), U31 (migration 31: an inbound message
 * waits for a response, inbox_conversation_unresponded).
 */
#define INBOX_SQLITE_SHOWN_UNREAD(r)                                          \
    "(" r ".archived = 0) * " r ".unread_count"
#define INBOX_SQLITE_IN_ALL(r)        "(" r ".archived = 0)"
#define INBOX_SQLITE_IN_UNREAD(r)                                             \
    "(" r ".archived = 0 AND " r ".unread_count > 0)"
#define INBOX_SQLITE_IN_UNRESPONDED_U5(r)                                     \
    "(" r ".archived = 0 AND " r ".last_direction IS 'inbound')"
#define INBOX_SQLITE_IN_UNRESPONDED_U31(r)                                    \
    "(" r ".archived = 0 AND " r ".unresponded_at IS NOT NULL)"
#define INBOX_SQLITE_IN_STARRED(r)                                            \
    "(" r ".archived = 0 AND " r ".starred <> 0)"
#define INBOX_SQLITE_IN_ARCHIVED(r)   "(" r ".archived <> 0)"

/*
 * Which rows the tabs count, by the migration that writes the triggers:
 * L5 every row (migration 5), L32 those with a message (migration 32:
 * a thread without one has no activity, INBOX_ACTIVITY_NONE, and is in
 * no list), as a factor of each tab's share.  The unread total counts
 * every row's unread, as it did.
 */
#define INBOX_SQLITE_LISTED_L5(r)     ""
#define INBOX_SQLITE_LISTED_L32(r)    " * (" r ".last_activity_at > 0)"

/* Each counter with the share of row r, as "col = EXPR(col, share)";
 * U is the unresponded rule, L the rows counted (above). */
#define INBOX_SQLITE_COUNTS(U, L, EXPR, r)                                    \
    " unread_total = " EXPR("unread_total", INBOX_SQLITE_SHOWN_UNREAD(r)) "," \
    " count_all = " EXPR("count_all",                                        \
        INBOX_SQLITE_IN_ALL(r) INBOX_SQLITE_LISTED_##L(r)) ","               \
    " count_unread = " EXPR("count_unread",                                  \
        INBOX_SQLITE_IN_UNREAD(r) INBOX_SQLITE_LISTED_##L(r)) ","            \
    " count_unresponded = " EXPR("count_unresponded",                        \
        INBOX_SQLITE_IN_UNRESPONDED_##U(r) INBOX_SQLITE_LISTED_##L(r)) ","   \
    " count_starred = " EXPR("count_starred",                                \
        INBOX_SQLITE_IN_STARRED(r) INBOX_SQLITE_LISTED_##L(r)) ","           \
    " count_archived = " EXPR("count_archived",                              \
        INBOX_SQLITE_IN_ARCHIVED(r) INBOX_SQLITE_LISTED_##L(r))

#define INBOX_SQLITE_ADD(col, share)  col " + " share
#define INBOX_SQLITE_SUB(col, share)  col " - " share
#define INBOX_SQLITE_SUM(col, share)                                          \
    "(SELECT coalesce(sum(" share "), 0) FROM conversations c"               \
    " WHERE c.org_id = orgs.id)"

/* An updated row moves each counter by its new share less its old one. */
#define INBOX_SQLITE_COUNTS_MOVED(U, L)                                       \
    " unread_total = unread_total - " INBOX_SQLITE_SHOWN_UNREAD("OLD")       \
        " + " INBOX_SQLITE_SHOWN_UNREAD("NEW") ","                           \
    INBOX_SQLITE_COUNT_MOVED("count_all", INBOX_SQLITE_IN_ALL, L) ","        \
    INBOX_SQLITE_COUNT_MOVED("count_unread", INBOX_SQLITE_IN_UNREAD, L) ","  \
    INBOX_SQLITE_COUNT_MOVED("count_unresponded",                            \
                             INBOX_SQLITE_IN_UNRESPONDED_##U, L) ","         \
    INBOX_SQLITE_COUNT_MOVED("count_starred", INBOX_SQLITE_IN_STARRED, L) "," \
    INBOX_SQLITE_COUNT_MOVED("count_archived", INBOX_SQLITE_IN_ARCHIVED, L)

#define INBOX_SQLITE_COUNT_MOVED(col, IN, L)                                  \
    " " col " = " col " - " IN("OLD") INBOX_SQLITE_LISTED_##L("OLD")         \
        " + " IN("NEW") INBOX_SQLITE_LISTED_##L("NEW")

/* How much of the file a reader maps (1 GiB). */
#define INBOX_SQLITE_MMAP  "1073741824"

/* What contacts_search held of a contact (migrations 8 to 17): its name
 * folded and its phone number's digits (E.164: "+" and the digits). */
#define INBOX_SQLITE_SEARCH_ROW(row)                                         \
    "lower(" row ".name), substr(" row ".phone, 2)"

/* What it holds since migration 18: the name as a search compares it
 * (search.h; kept by the store in contacts.search_name, made again by
 * migrations 56, 58 and 59), the digits. */
#define INBOX_SQLITE_SEARCH_KEYS(row)                                        \
    row ".search_name, substr(" row ".phone, 2)"

/*
 * Every key made again by the rule of now (search.h), and the index with
 * it, as 18 made them: the index emptied and every contact noted (each
 * in exactly one of them, so the update trigger takes nothing out of
 * the index), the keys that change written, then every contact indexed
 * at once, in one compact pass, and none left noted (migrations 56, 58,
 * 59).
 */
#define INBOX_SQLITE_SEARCH_KEYS_AGAIN                                       \
    "INSERT INTO contacts_search (contacts_search) VALUES ('delete-all');"   \
    "INSERT INTO contacts_search_pending SELECT id FROM contacts"            \
    "  WHERE id NOT IN (SELECT contact_id FROM contacts_search_pending);"    \
    "UPDATE contacts SET search_name = inbox_search_key(name)"               \
    "  WHERE name IS NOT NULL AND name <> ''"                                \
    "  AND search_name IS NOT inbox_search_key(name);"                       \
    "INSERT INTO contacts_search (rowid, name, digits)"                      \
    "  SELECT id, " INBOX_SQLITE_SEARCH_KEYS("contacts") " FROM contacts;"   \
    "DELETE FROM contacts_search_pending;"

/* A campaign recipient's states (campaign.h), each counted in a column
 * n_STATE of its campaign (migration 13). */
#define INBOX_SQLITE_RECIPIENT_STATES(X)                                     \
    X("due") X("waiting_quiet_hours") X("queued") X("sent")                  \
    X("delivered") X("failed") X("suppressed") X("cancelled")

#define INBOX_SQLITE_STATE_COLUMN(s)  "  n_" s " INTEGER NOT NULL DEFAULT 0,"
#define INBOX_SQLITE_STATE_ADD(s)                                            \
    "    n_" s " = n_" s " + (NEW.state = '" s "'),"
#define INBOX_SQLITE_STATE_MOVE(s)                                           \
    "    n_" s " = n_" s " - (OLD.state = '" s "') + (NEW.state = '" s "'),"

/* A poll's options by number (poll.h: at most 9), each answered by
 * n_answer_N recipients (migration 15). */
#define INBOX_SQLITE_POLL_OPTIONS(X)                                         \
    X("1") X("2") X("3") X("4") X("5") X("6") X("7") X("8") X("9")

#define INBOX_SQLITE_ANSWER_COLUMN(n)                                        \
    "ALTER TABLE campaigns ADD COLUMN n_answer_" n                           \
    " INTEGER NOT NULL DEFAULT 0;"
#define INBOX_SQLITE_ANSWER_COUNT(n)                                         \
    "  n_answer_" n " = (SELECT count(*) FROM campaign_recipients r"         \
    "    WHERE r.campaign_id = campaigns.id AND r.answer = " n "),"
#define INBOX_SQLITE_ANSWER_MOVE(n)                                          \
    "    n_answer_" n " = n_answer_" n " - (OLD.answer IS " n ")"           \
    " + (NEW.answer IS " n "),"

/*
 * The schema, one step per version.  PRAGMA user_version counts the steps
 * that ran; a step is never edited once released, only new ones appended.
 */
static const char *inbox_sqlite_migrations[] = {

    /* 1: the inbox */
    "CREATE TABLE orgs ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  timezone TEXT NOT NULL DEFAULT 'UTC',"
    "  epoch TEXT NOT NULL,"
    "  seq INTEGER NOT NULL DEFAULT 0,"
    "  credits_balance INTEGER NOT NULL DEFAULT 0,"
    "  credits_held INTEGER NOT NULL DEFAULT 0,"
    "  billing_active INTEGER NOT NULL DEFAULT 1,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX orgs_by_name ON orgs (name);"

    "CREATE TABLE numbers ("
    "  id INTEGER PRIMARY KEY,"
    "  e164 TEXT NOT NULL UNIQUE,"
    "  org_id INTEGER NOT NULL REFERENCES orgs (id),"
    "  carrier TEXT NOT NULL CHECK (carrier IN ('twilio', 'telnyx')),"
    "  account_sid TEXT,"
    "  auth_token TEXT,"
    "  public_key TEXT,"
    "  api_key TEXT,"
    "  api_base TEXT,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX numbers_by_org ON numbers (org_id);"

    "CREATE TABLE users ("
    "  id INTEGER PRIMARY KEY,"
    "  org_id INTEGER NOT NULL REFERENCES orgs (id),"
    "  email TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    "  role TEXT NOT NULL CHECK (role IN ('member', 'billing')),"
    "  password_hash TEXT,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX users_by_org ON users (org_id);"

    "CREATE TABLE tokens ("
    "  id INTEGER PRIMARY KEY,"
    "  token_hash TEXT NOT NULL UNIQUE,"
    "  org_id INTEGER NOT NULL REFERENCES orgs (id),"
    "  user_id INTEGER REFERENCES users (id),"
    "  created_at INTEGER NOT NULL"
    ");"

    "CREATE TABLE contacts ("
    "  id INTEGER PRIMARY KEY,"
    "  org_id INTEGER NOT NULL REFERENCES orgs (id),"
    "  phone TEXT NOT NULL,"
    "  name TEXT,"
    "  opted_out INTEGER NOT NULL DEFAULT 0,"
    "  opted_out_at INTEGER,"
    "  opt_out_source TEXT"
    "    CHECK (opt_out_source IN ('keyword', 'manual')),"
    "  created_at INTEGER NOT NULL,"
    "  UNIQUE (org_id, phone)"
    ");"

    "CREATE TABLE conversations ("
    "  id INTEGER PRIMARY KEY,"
    "  org_id INTEGER NOT NULL REFERENCES orgs (id),"
    "  contact_id INTEGER NOT NULL UNIQUE REFERENCES contacts (id),"
    "  last_message_id INTEGER,"
    "  last_direction TEXT CHECK (last_direction IN ('inbound', 'outbound')),"
    "  last_preview TEXT,"
    "  last_message_at INTEGER,"
    "  last_activity_at INTEGER NOT NULL,"
    "  unread_count INTEGER NOT NULL DEFAULT 0,"
    "  last_read_at INTEGER,"
    "  archived INTEGER NOT NULL DEFAULT 0,"
    "  starred INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX conversations_by_activity ON conversations"
    "  (org_id, archived, last_activity_at DESC, id DESC);"
    /* small indexes for the filters that pick a few threads out of many */
    "CREATE INDEX conversations_unread ON conversations"
    "  (org_id, last_activity_at DESC, id DESC)"
    "  WHERE unread_count > 0 AND archived = 0;"
    "CREATE INDEX conversations_starred ON conversations"
    "  (org_id, last_activity_at DESC, id DESC)"
    "  WHERE starred = 1 AND archived = 0;"

    "CREATE TABLE messages ("
    "  id INTEGER PRIMARY KEY,"
    "  org_id INTEGER NOT NULL REFERENCES orgs (id),"
    "  conversation_id INTEGER NOT NULL REFERENCES conversations (id),"
    "  direction TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),"
    "  body TEXT NOT NULL,"
    "  status TEXT,"
    "  error_code TEXT,"
    "  segments INTEGER NOT NULL DEFAULT 1,"
    "  credits INTEGER NOT NULL DEFAULT 0,"
    "  provider TEXT,"
    "  provider_id TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  sent_by INTEGER REFERENCES users (id),"
    "  UNIQUE (org_id, provider, provider_id)"
    ");"
    "CREATE INDEX messages_by_conversation ON messages"
    "  (conversation_id, created_at DESC, id DESC);"

    "CREATE TABLE message_media ("
    "  message_id INTEGER NOT NULL REFERENCES messages (id),"
    "  idx INTEGER NOT NULL,"
    "  url TEXT NOT NULL,"
    "  content_type TEXT NOT NULL,"
    "  PRIMARY KEY (message_id, idx)"
    ") WITHOUT ROWID;"

    "CREATE TABLE events ("
    "  org_id INTEGER NOT NULL REFERENCES orgs (id),"
    "  seq INTEGER NOT NULL,"
    "  type TEXT NOT NULL,"
    "  payload TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (org_id, seq)"
    ");",

    /*
     * 2: the organization's unread total (what the default view counts:
     * unread messages of threads not archived) kept by triggers, so every
     * operation that reads, archives or receives keeps it right and no one
     * sums thousands of threads per message.
     */
    "ALTER TABLE orgs ADD COLUMN unread_total INTEGER NOT NULL DEFAULT 0;"
    "UPDATE orgs SET unread_total = (SELECT coalesce(sum(unread_count), 0)"
    "  FROM conversations c WHERE c.org_id = orgs.id AND c.archived = 0);"

    "CREATE TRIGGER conversations_unread_insert AFTER INSERT ON conversations"
    "  WHEN NEW.archived = 0 AND NEW.unread_count <> 0 "
    "BEGIN"
    "  UPDATE orgs SET unread_total = unread_total + NEW.unread_count"
    "    WHERE id = NEW.org_id;"
    "END;"

    "CREATE TRIGGER conversations_unread_update"
    "  AFTER UPDATE OF unread_count, archived ON conversations"
    "  WHEN (OLD.archived = 0) * OLD.unread_count"
    "       <> (NEW.archived = 0) * NEW.unread_count "
    "BEGIN"
    "  UPDATE orgs SET unread_total = unread_total"
    "    - (OLD.archived = 0) * OLD.unread_count"
    "    + (NEW.archived = 0) * NEW.unread_count"
    "    WHERE id = NEW.org_id;"
    "END;"

    "CREATE TRIGGER conversations_unread_delete AFTER DELETE ON conversations"
    "  WHEN OLD.archived = 0 AND OLD.unread_count <> 0 "
    "BEGIN"
    "  UPDATE orgs SET unread_total = unread_total - OLD.unread_count"
    "    WHERE id = OLD.org_id;"
    "END;",

    /* 3: API tokens get a name, an expiry and a revocation, and an
     * organization lists its own (NULL: none, never, not revoked) */
    "ALTER TABLE tokens ADD COLUMN name TEXT;"
    "ALTER TABLE tokens ADD COLUMN expires_at INTEGER;"
    "ALTER TABLE tokens ADD COLUMN revoked_at INTEGER;"
    "CREATE INDEX tokens_by_org ON tokens (org_id);",

    /*
     * 4: the store's identity, which tells a file put back (a backup of
     * this store) from another store put in its place, and the row the
     * health check writes.
     *
     * Events become references: the type, the stream position and the
     * ids of what the other tables hold (resume renders the frames from
     * them again), no longer a copy of each frame.  Stored frames are
     * read for their ids once, here.
     */
    "CREATE TABLE store_info ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  uid TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  checked_at INTEGER"
    ");"
    "INSERT INTO store_info (id, uid, created_at)"
    "  VALUES (1, lower(hex(randomblob(16))),"
    "    CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));"

    "CREATE TABLE events_compact ("
    "  org_id INTEGER NOT NULL REFERENCES orgs (id),"
    "  seq INTEGER NOT NULL,"
    "  type TEXT NOT NULL,"
    "  epoch TEXT NOT NULL,"
    "  message_id INTEGER,"
    "  conversation_id INTEGER,"
    "  unread_total INTEGER,"
    "  created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (org_id, seq)"
    ") WITHOUT ROWID;"
    "INSERT INTO events_compact (org_id, seq, type, epoch, message_id,"
    "  conversation_id, unread_total, created_at)"
    "  SELECT org_id, seq, type, coalesce(payload ->> '$.epoch', ''),"
    "    payload ->> '$.message.id', payload ->> '$.conversation.id',"
    "    CASE type WHEN 'unread.total' THEN payload ->> '$.count' END,"
    "    created_at FROM events;"
    "DROP TABLE events;"
    "ALTER TABLE events_compact RENAME TO events;",

    /*
     * 5: the tabs' counts, kept on orgs by the triggers that kept the
     * unread total (which they replace), so that a list answers its five
     * counts by reading one row.  Each count is a filter of
     * inbox_filter_matches (model.c); the contract suite checks them.
     */
    "ALTER TABLE orgs ADD COLUMN count_all INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE orgs ADD COLUMN count_unread INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE orgs ADD COLUMN count_unresponded INTEGER NOT NULL"
    "  DEFAULT 0;"
    "ALTER TABLE orgs ADD COLUMN count_starred INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE orgs ADD COLUMN count_archived INTEGER NOT NULL DEFAULT 0;"
    "UPDATE orgs SET" INBOX_SQLITE_COUNTS(U5, L5, INBOX_SQLITE_SUM, "c") ";"

    "DROP TRIGGER conversations_unread_insert;"
    "DROP TRIGGER conversations_unread_update;"
    "DROP TRIGGER conversations_unread_delete;"

    "CREATE TRIGGER conversations_count_insert AFTER INSERT ON conversations "
    "BEGIN"
    "  UPDATE orgs SET" INBOX_SQLITE_COUNTS(U5, L5, INBOX_SQLITE_ADD, "NEW")
    "  WHERE id = NEW.org_id;"
    "END;"

    "CREATE TRIGGER conversations_count_update"
    "  AFTER UPDATE OF unread_count, archived, starred, last_direction"
    "  ON conversations"
    "  WHEN OLD.unread_count <> NEW.unread_count"
    "    OR OLD.archived <> NEW.archived OR OLD.starred <> NEW.starred"
    "    OR OLD.last_direction IS NOT NEW.last_direction "
    "BEGIN"
    "  UPDATE orgs SET" INBOX_SQLITE_COUNTS_MOVED(U5, L5)
    "  WHERE id = NEW.org_id;"
    "END;"

    "CREATE TRIGGER conversations_count_delete AFTER DELETE ON conversations "
    "BEGIN"
    "  UPDATE orgs SET" INBOX_SQLITE_COUNTS(U5, L5, INBOX_SQLITE_SUB, "OLD")
    "  WHERE id = OLD.org_id;"
    "END;",

    /*
     * 6: sessions of people signed in with a password: the SHA-256 of
     * the cookie's random id, never the id; when each ends is stored so
     * that expired ones are found by an index and purged.
     */
    "CREATE TABLE sessions ("
    "  id INTEGER PRIMARY KEY,"
    "  session_hash TEXT NOT NULL UNIQUE,"
    "  org_id INTEGER NOT NULL REFERENCES orgs (id),"
    "  user_id INTEGER NOT NULL REFERENCES users (id),"
    "  created_at INTEGER NOT NULL,"
    "  last_seen_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX sessions_by_expiry ON sessions (expires_at);"
    "CREATE INDEX sessions_by_user ON sessions (user_id);",

    /*
     * 7: contacts' tags, one row each in the order given (rowid), unique
     * per contact in any ASCII case (NOCASE, as contact.h says), found
     * by tag for the contacts list's filter; the contacts list, newest
     * first.
     */
    "CREATE TABLE contact_tags ("
    "  id INTEGER PRIMARY KEY,"
    "  contact_id INTEGER NOT NULL REFERENCES contacts (id),"
    "  org_id INTEGER NOT NULL REFERENCES orgs (id),"
    "  tag TEXT NOT NULL COLLATE NOCASE,"
    "  UNIQUE (contact_id, tag)"
    ");"
    "CREATE INDEX contact_tags_by_tag ON contact_tags (org_id, tag);"
    "CREATE INDEX contacts_by_created ON contacts"
    "  (org_id, created_at DESC, id DESC);",

    /*
     * 8: the search index: each contact's name (folded as inbox_search
     * folds it: SQLite's lower()) and the digits of its phone number, cut
     * into every three-character piece (FTS5's trigram tokenizer), so
     * that a name or number in part is looked up rather than scanned for.
     * Contentless (contacts holds the text): a contentless row is deleted
     * by giving back what was indexed.
     *
     * A new or changed contact is not indexed at once (a new FTS5
     * segment every batch slowed ingest by a third) but noted in
     * contacts_search_pending, which inbox_store_maintain moves into the
     * index; a search reads both.  A contact is in exactly one of them.
     * (No OR IGNORE in the triggers: an upsert's policy overrides it.)
     */
    "CREATE VIRTUAL TABLE contacts_search USING fts5(name, digits,"
    "  content='', columnsize=0,"
    "  tokenize='trigram case_sensitive 1');"
    "INSERT INTO contacts_search (rowid, name, digits)"
    "  SELECT id, " INBOX_SQLITE_SEARCH_ROW("contacts") " FROM contacts;"

    "CREATE TABLE contacts_search_pending ("
    "  contact_id INTEGER PRIMARY KEY"
    ");"

    "CREATE TRIGGER contacts_search_insert AFTER INSERT ON contacts "
    "BEGIN"
    "  INSERT INTO contacts_search_pending VALUES (NEW.id);"
    "END;"

    "CREATE TRIGGER contacts_search_update AFTER UPDATE OF name, phone"
    "  ON contacts"
    "  WHEN OLD.name IS NOT NEW.name OR OLD.phone IS NOT NEW.phone "
    "BEGIN"
    "  INSERT INTO contacts_search (contacts_search, rowid, name, digits)"
    "    SELECT 'delete', OLD.id, " INBOX_SQLITE_SEARCH_ROW("OLD")
    "    WHERE NOT EXISTS (SELECT 1 FROM contacts_search_pending"
    "                      WHERE contact_id = OLD.id);"
    "  INSERT INTO contacts_search_pending SELECT NEW.id"
    "    WHERE NOT EXISTS (SELECT 1 FROM contacts_search_pending"
    "                      WHERE contact_id = NEW.id);"
    "END;"

    "CREATE TRIGGER contacts_search_delete AFTER DELETE ON contacts "
    "BEGIN"
    "  INSERT INTO contacts_search (contacts_search, rowid, name, digits)"
    "    SELECT 'delete', OLD.id, " INBOX_SQLITE_SEARCH_ROW("OLD")
    "    WHERE NOT EXISTS (SELECT 1 FROM contacts_search_pending"
    "                      WHERE contact_id = OLD.id);"
    "  DELETE FROM contacts_search_pending WHERE contact_id = OLD.id;"
    "END;",

    /*
     * 9: opt-out and settings.
     *
     * A contact may also be opted out by its carrier (source 'carrier'),
     * and keeps the keyword that opted it out.  SQLite cannot change a
     * CHECK, so contacts is made again as SQLite's ALTER TABLE page
     * says: a new table, the rows copied with their ids (conversations,
     * contact_tags and the contentless search index refer to them, and
     * stay right), the old one dropped (with its index and triggers),
     * the new one renamed, then its index and the search triggers of
     * step 8 made again.  Migrations run with foreign keys off and
     * checked before each step commits (inbox_sqlite_migrate).
     *
     * The contact's opt-out and opt-in events, for its timeline; the
     * organization's settings (settings.h: NULL business name is the
     * organization's name, quiet hours in minutes after midnight).
     */
    "CREATE TABLE contacts_rebuilt ("
    "  id INTEGER PRIMARY KEY,"
    "  org_id INTEGER NOT NULL REFERENCES orgs (id),"
    "  phone TEXT NOT NULL,"
    "  name TEXT,"
    "  opted_out INTEGER NOT NULL DEFAULT 0,"
    "  opted_out_at INTEGER,"
    "  opt_out_source TEXT"
    "    CHECK (opt_out_source IN ('keyword', 'manual', 'carrier')),"
    "  opt_out_keyword TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  UNIQUE (org_id, phone)"
    ");"
    "INSERT INTO contacts_rebuilt (id, org_id, phone, name, opted_out,"
    "  opted_out_at, opt_out_source, created_at)"
    "  SELECT id, org_id, phone, name, opted_out, opted_out_at,"
    "    opt_out_source, created_at FROM contacts;"
    "DROP TABLE contacts;"
    "ALTER TABLE contacts_rebuilt RENAME TO contacts;"

    "CREATE INDEX contacts_by_created ON contacts"
    "  (org_id, created_at DESC, id DESC);"

    "CREATE TRIGGER contacts_search_insert AFTER INSERT ON contacts "
    "BEGIN"
    "  INSERT INTO contacts_search_pending VALUES (NEW.id);"
    "END;"

    "CREATE TRIGGER contacts_search_update AFTER UPDATE OF name, phone"
    "  ON contacts"
    "  WHEN OLD.name IS NOT NEW.name OR OLD.phone IS NOT NEW.phone "
    "BEGIN"
    "  INSERT INTO contacts_search (contacts_search, rowid, name, digits)"
    "    SELECT 'delete', OLD.id, " INBOX_SQLITE_SEARCH_ROW("OLD")
    "    WHERE NOT EXISTS (SELECT 1 FROM contacts_search_pending"
    "                      WHERE contact_id = OLD.id);"
    "  INSERT INTO contacts_search_pending SELECT NEW.id"
    "    WHERE NOT EXISTS (SELECT 1 FROM contacts_search_pending"
    "                      WHERE contact_id = NEW.id);"
    "END;"

    "CREATE TRIGGER contacts_search_delete AFTER DELETE ON contacts "
    "BEGIN"
    "  INSERT INTO contacts_search (contacts_search, rowid, name, digits)"
    "    SELECT 'delete', OLD.id, " INBOX_SQLITE_SEARCH_ROW("OLD")
    "    WHERE NOT EXISTS (SELECT 1 FROM contacts_search_pending"
    "                      WHERE contact_id = OLD.id);"
    "  DELETE FROM contacts_search_pending WHERE contact_id = OLD.id;"
    "END;"

    "CREATE TABLE contact_events ("
    "  id INTEGER PRIMARY KEY,"
    "  org_id INTEGER NOT NULL REFERENCES orgs (id),"
    "  contact_id INTEGER NOT NULL REFERENCES contacts (id),"
    "  type TEXT NOT NULL CHECK (type IN ('opt_out', 'opt_in')),"
    "  source TEXT CHECK (source IN ('keyword', 'manual', 'carrier')),"
    "  keyword TEXT,"
    "  message_id INTEGER REFERENCES messages (id),"
    "  at INTEGER NOT NULL"
    ");"
    "CREATE INDEX contact_events_by_contact ON contact_events"
    "  (contact_id, at DESC, id DESC);"

    "ALTER TABLE orgs ADD COLUMN business_name TEXT;"
    "ALTER TABLE orgs ADD COLUMN support_contact TEXT;"
    "ALTER TABLE orgs ADD COLUMN quiet_start INTEGER NOT NULL DEFAULT 1260;"
    "ALTER TABLE orgs ADD COLUMN quiet_end INTEGER NOT NULL DEFAULT 480;",

    /*
     * 10: media.  Uploads, one row each
     * (the file in the media directory, its type and size), and the
     * copies of inbound MMS images: a message's media gains its state
     * ('pending' until copied, 'stored' with its file and size, 'failed'
     * when given up), when a pending one is due (fetch_at: 0 at once; a
     * claim moves it to the end of its lease) and how many attempts were
     * made.  The defaults are an inbound media's, the only kind stored so
     * far; an outbound message's media (ours already) is inserted
     * 'stored' with its file.
     */
    "CREATE TABLE media ("
    "  id INTEGER PRIMARY KEY,"
    "  org_id INTEGER NOT NULL REFERENCES orgs (id),"
    "  file TEXT NOT NULL UNIQUE,"
    "  content_type TEXT NOT NULL,"
    "  bytes INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL"
    ");"
    "ALTER TABLE message_media ADD COLUMN state TEXT NOT NULL"
    "  DEFAULT 'pending' CHECK (state IN ('pending', 'stored', 'failed'));"
    "ALTER TABLE message_media ADD COLUMN fetch_at INTEGER NOT NULL"
    "  DEFAULT 0;"
    "ALTER TABLE message_media ADD COLUMN attempts INTEGER NOT NULL"
    "  DEFAULT 0;"
    "ALTER TABLE message_media ADD COLUMN file TEXT;"
    "ALTER TABLE message_media ADD COLUMN bytes INTEGER;"
    "CREATE INDEX message_media_due ON message_media (fetch_at)"
    "  WHERE state = 'pending';",

    /*
     * 11: replies.  The outbox (what the sender process sends, each
     * entry leased to one sender at a time: due_at is when it may be
     * claimed, the lease's end while claimed), the Idempotency-Keys of
     * accepted replies, the credit ledger (one entry per change of the
     * balance or of what is held, in the order of the changes: by id;
     * the balances before it are its first grants), the organization's
     * plan.  A message holds its credits
     * (held) until a status or the expiry settles them; submitted_at is
     * when the carrier took it.  No balance ever goes below zero.
     */
    "ALTER TABLE orgs ADD COLUMN plan TEXT NOT NULL DEFAULT 'per_message';"
    "ALTER TABLE messages ADD COLUMN held INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE messages ADD COLUMN submitted_at INTEGER;"
    "CREATE INDEX messages_holds ON messages (submitted_at)"
    "  WHERE held = 1;"

    "CREATE TABLE outbox ("
    "  id INTEGER PRIMARY KEY,"
    "  org_id INTEGER NOT NULL REFERENCES orgs (id),"
    "  message_id INTEGER NOT NULL UNIQUE REFERENCES messages (id),"
    "  priority INTEGER NOT NULL,"
    "  from_e164 TEXT NOT NULL,"
    "  due_at INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  lease_until INTEGER,"
    "  last_error TEXT,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX outbox_due ON outbox (priority, due_at, id);"

    "CREATE TABLE reply_keys ("
    "  org_id INTEGER NOT NULL REFERENCES orgs (id),"
    "  key TEXT NOT NULL,"
    "  user_id INTEGER REFERENCES users (id),"
    "  fingerprint TEXT NOT NULL,"
    "  message_id INTEGER NOT NULL REFERENCES messages (id),"
    "  created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (org_id, key)"
    ") WITHOUT ROWID;"

    "CREATE TABLE credit_ledger ("
    "  id INTEGER PRIMARY KEY,"
    "  org_id INTEGER NOT NULL REFERENCES orgs (id),"
    "  kind TEXT NOT NULL"
    "    CHECK (kind IN ('grant', 'hold', 'release', 'capture')),"
    "  credits INTEGER NOT NULL CHECK (credits > 0),"
    "  balance INTEGER NOT NULL,"
    "  held INTEGER NOT NULL,"
    "  message_id INTEGER REFERENCES messages (id),"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX credit_ledger_by_org ON credit_ledger (org_id, id);"
    "INSERT INTO credit_ledger (org_id, kind, credits, balance, held,"
    "  created_at)"
    "  SELECT id, 'grant', credits_balance, credits_balance, 0,"
    "    CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"
    "  FROM orgs WHERE credits_balance > 0;"

    "CREATE TRIGGER orgs_credits_never_negative"
    "  BEFORE UPDATE OF credits_balance, credits_held ON orgs"
    "  WHEN NEW.credits_balance < 0 OR NEW.credits_held < 0 "
    "BEGIN"
    "  SELECT RAISE(ABORT, 'credits below zero');"
    "END;",

    /*
     * 12: the lists' indexes also hold what a search's walk reads, so
     * that a walk newest first reads index entries only (about a fifth
     * of reading each row): the thread's contact (is it a candidate?),
     * the filter's own columns (SQLite reads them to check the partial
     * indexes' conditions) and, for unresponded, the last direction; a
     * tag's contacts.  The columns added change only when the entry
     * moves anyway (a new message, read, archived, starred): ingest
     * writes no more.
     */
    "DROP INDEX conversations_by_activity;"
    "CREATE INDEX conversations_by_activity ON conversations"
    "  (org_id, archived, last_activity_at DESC, id DESC, contact_id,"
    "   last_direction);"
    "DROP INDEX conversations_unread;"
    "CREATE INDEX conversations_unread ON conversations"
    "  (org_id, last_activity_at DESC, id DESC, contact_id, unread_count,"
    "   archived)"
    "  WHERE unread_count > 0 AND archived = 0;"
    "DROP INDEX conversations_starred;"
    "CREATE INDEX conversations_starred ON conversations"
    "  (org_id, last_activity_at DESC, id DESC, contact_id, starred,"
    "   archived)"
    "  WHERE starred = 1 AND archived = 0;"
    "DROP INDEX contact_tags_by_tag;"
    "CREATE INDEX contact_tags_by_tag ON contact_tags"
    "  (org_id, tag, contact_id);",

    /*
     * 13: campaigns and polls (campaign.h, poll.h).  A campaign keeps
     * the text it sends (a poll's made of its question and options,
     * campaign_options), its audience (all, or campaign_tags), its
     * images (ours, as a message's) and, once sent, one row per
     * recipient fixed then.  A recipient's state (campaign.h) is
     * counted on its campaign by triggers, one column per state, so
     * that progress reads one row; a handed-over recipient's state
     * follows its message's status (messages.campaign_id says which
     * messages are a campaign's).  Contacts gain a time zone (quiet
     * hours read the recipient's clock; NULL: the organization's).
     */
    "ALTER TABLE contacts ADD COLUMN timezone TEXT;"

    "CREATE TABLE campaigns ("
    "  id INTEGER PRIMARY KEY,"
    "  org_id INTEGER NOT NULL REFERENCES orgs (id),"
    "  kind TEXT NOT NULL CHECK (kind IN ('campaign', 'poll')),"
    "  name TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  question TEXT,"
    "  audience_all INTEGER NOT NULL,"
    "  segments INTEGER NOT NULL,"
    "  credits INTEGER NOT NULL,"
    "  status TEXT NOT NULL CHECK (status IN ('draft', 'scheduled',"
    "    'sending', 'paused', 'done', 'cancelled')),"
    "  paused_reason TEXT CHECK (paused_reason IN ('manual',"
    "    'insufficient_credits', 'billing_inactive')),"
    "  send_at INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  started_at INTEGER,"
    "  finished_at INTEGER,"
    INBOX_SQLITE_RECIPIENT_STATES(INBOX_SQLITE_STATE_COLUMN)
    "  n_recipients INTEGER NOT NULL DEFAULT 0,"
    "  n_replied INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE INDEX campaigns_by_org ON campaigns (org_id, kind, id DESC);"
    "CREATE INDEX campaigns_active ON campaigns (status)"
    "  WHERE status IN ('scheduled', 'sending');"

    "CREATE TABLE campaign_tags ("
    "  campaign_id INTEGER NOT NULL REFERENCES campaigns (id),"
    "  idx INTEGER NOT NULL,"
    "  tag TEXT NOT NULL COLLATE NOCASE,"
    "  PRIMARY KEY (campaign_id, idx)"
    ") WITHOUT ROWID;"

    "CREATE TABLE campaign_options ("
    "  campaign_id INTEGER NOT NULL REFERENCES campaigns (id),"
    "  idx INTEGER NOT NULL,"
    "  text TEXT NOT NULL,"
    "  PRIMARY KEY (campaign_id, idx)"
    ") WITHOUT ROWID;"

    "CREATE TABLE campaign_media ("
    "  campaign_id INTEGER NOT NULL REFERENCES campaigns (id),"
    "  idx INTEGER NOT NULL,"
    "  url TEXT NOT NULL,"
    "  content_type TEXT NOT NULL,"
    "  file TEXT NOT NULL,"
    "  bytes INTEGER NOT NULL,"
    "  PRIMARY KEY (campaign_id, idx)"
    ") WITHOUT ROWID;"

    "CREATE TABLE campaign_recipients ("
    "  id INTEGER PRIMARY KEY,"
    "  campaign_id INTEGER NOT NULL REFERENCES campaigns (id),"
    "  contact_id INTEGER NOT NULL REFERENCES contacts (id),"
    "  state TEXT NOT NULL CHECK (state IN ('due', 'waiting_quiet_hours',"
    "    'queued', 'sent', 'delivered', 'failed', 'suppressed',"
    "    'cancelled')),"
    "  due_at INTEGER NOT NULL,"
    "  message_id INTEGER REFERENCES messages (id),"
    "  sent_at INTEGER,"
    "  replied_at INTEGER,"
    "  answer INTEGER,"
    "  answered_at INTEGER,"
    "  answer_message_id INTEGER REFERENCES messages (id),"
    "  UNIQUE (campaign_id, contact_id)"
    ");"
    "CREATE INDEX campaign_recipients_due ON campaign_recipients"
    "  (campaign_id, due_at, id)"
    "  WHERE state IN ('due', 'waiting_quiet_hours');"
    "CREATE INDEX campaign_recipients_by_contact ON campaign_recipients"
    "  (contact_id, sent_at DESC) WHERE sent_at IS NOT NULL;"
    "CREATE INDEX campaign_recipients_by_message ON campaign_recipients"
    "  (message_id) WHERE message_id IS NOT NULL;"
    "CREATE INDEX campaign_recipients_answers ON campaign_recipients"
    "  (campaign_id, answered_at DESC, id DESC) WHERE answer IS NOT NULL;"

    /* no REFERENCES: a column in a foreign key cannot be dropped, and
     * campaign_recipients.message_id is the link kept checked */
    "ALTER TABLE messages ADD COLUMN campaign_id INTEGER;"

    "CREATE TRIGGER campaign_recipients_count_insert"
    "  AFTER INSERT ON campaign_recipients "
    "BEGIN"
    "  UPDATE campaigns SET n_recipients = n_recipients + 1,"
    INBOX_SQLITE_RECIPIENT_STATES(INBOX_SQLITE_STATE_ADD)
    "    n_replied = n_replied + (NEW.replied_at IS NOT NULL)"
    "  WHERE id = NEW.campaign_id;"
    "END;"

    "CREATE TRIGGER campaign_recipients_count_update"
    "  AFTER UPDATE OF state, replied_at ON campaign_recipients"
    "  WHEN OLD.state <> NEW.state"
    "    OR OLD.replied_at IS NULL AND NEW.replied_at IS NOT NULL "
    "BEGIN"
    "  UPDATE campaigns SET"
    INBOX_SQLITE_RECIPIENT_STATES(INBOX_SQLITE_STATE_MOVE)
    "    n_replied = n_replied + (OLD.replied_at IS NULL"
    "                             AND NEW.replied_at IS NOT NULL)"
    "  WHERE id = NEW.campaign_id;"
    "END;"

    /* inbox_recipient_of_delivery, in SQL (the contract suite checks
     * the counts it makes; 37 makes it again with the error code) */
    "CREATE TRIGGER messages_campaign_status"
    "  AFTER UPDATE OF status ON messages"
    "  WHEN NEW.campaign_id IS NOT NULL AND OLD.status IS NOT NEW.status "
    "BEGIN"
    "  UPDATE campaign_recipients SET state = CASE NEW.status"
    "    WHEN 'sent' THEN 'sent' WHEN 'delivered' THEN 'delivered'"
    "    WHEN 'undelivered' THEN 'failed' WHEN 'failed' THEN 'failed'"
    "    ELSE 'queued' END"
    "  WHERE message_id = NEW.id;"
    "END;",

    /* 14: a carrier's status reports that came before the sender had
     * recorded the carrier's id (delivery.h, early reports) */
    "CREATE TABLE early_reports ("
    "  id INTEGER PRIMARY KEY,"
    "  org_id INTEGER NOT NULL REFERENCES orgs (id),"
    "  provider TEXT NOT NULL,"
    "  provider_id TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  error_code TEXT,"
    "  received_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX early_reports_by_id"
    "  ON early_reports (org_id, provider, provider_id);"
    "CREATE INDEX early_reports_by_age ON early_reports (received_at);",

    /*
     * 15: a poll's tally on its row, kept by a trigger as the state
     * counts are (so progress and a poll's page read one row, however
     * many answered), and answered_at, its latest answer's time: the
     * sender pushes the progress of a poll answered lately, long after
     * its sending ended.  campaigns_active also counts paused ones, and
     * finished_at and answered_at are indexed, for the sender's look at
     * what may move (a union of the three, each from its index).
     */
    INBOX_SQLITE_POLL_OPTIONS(INBOX_SQLITE_ANSWER_COLUMN)
    "ALTER TABLE campaigns ADD COLUMN answered_at INTEGER;"
    "UPDATE campaigns SET"
    INBOX_SQLITE_POLL_OPTIONS(INBOX_SQLITE_ANSWER_COUNT)
    "  answered_at = (SELECT max(r.answered_at) FROM campaign_recipients r"
    "    WHERE r.campaign_id = campaigns.id)"
    " WHERE kind = 'poll';"

    "CREATE TRIGGER campaign_recipients_answer"
    "  AFTER UPDATE OF answer, answered_at ON campaign_recipients"
    "  WHEN OLD.answer IS NOT NEW.answer"
    "    OR OLD.answered_at IS NOT NEW.answered_at "
    "BEGIN"
    "  UPDATE campaigns SET"
    INBOX_SQLITE_POLL_OPTIONS(INBOX_SQLITE_ANSWER_MOVE)
    "    answered_at = max(coalesce(answered_at, 0),"
    "                      coalesce(NEW.answered_at, 0))"
    "  WHERE id = NEW.campaign_id;"
    "END;"

    "DROP INDEX campaigns_active;"
    "CREATE INDEX campaigns_active ON campaigns (status)"
    "  WHERE status IN ('scheduled', 'sending', 'paused');"
    "CREATE INDEX campaigns_finished ON campaigns (finished_at)"
    "  WHERE finished_at IS NOT NULL;"
    "CREATE INDEX campaigns_answered ON campaigns (answered_at)"
    "  WHERE answered_at IS NOT NULL;",

    /* 16: replies' Idempotency-Keys by age, for the day's purge */
    "CREATE INDEX reply_keys_by_age ON reply_keys (created_at);",

    /*
     * 17: a user removed from the team keeps the row (their messages,
     * tokens and ledger entries refer to it) but no longer signs in,
     * shows in the list or counts as a billing contact.  Tokens by user,
     * for revoking a removed user's.
     */
    "ALTER TABLE users ADD COLUMN removed_at INTEGER;"
    "CREATE INDEX tokens_by_user ON tokens (user_id)"
    "  WHERE user_id IS NOT NULL;",

    /*
     * 18: a search finds a name without its case or accents ("jose" is
     * José, search.h).  The folding is ICU's, so the store writes the
     * name's key beside it (search_name) and the index holds the key;
     * the triggers read the stored key (a sqlite3 shell renaming a
     * contact leaves its search as it was, and fails nothing).  The
     * index is made again with the keys: contentless, it forgets all
     * at once.
     */
    "ALTER TABLE contacts ADD COLUMN search_name TEXT;"
    "UPDATE contacts SET search_name = inbox_search_key(name)"
    "  WHERE name IS NOT NULL AND name <> '';"
    "INSERT INTO contacts_search (contacts_search) VALUES ('delete-all');"
    "INSERT INTO contacts_search (rowid, name, digits)"
    "  SELECT id, " INBOX_SQLITE_SEARCH_KEYS("contacts") " FROM contacts"
    "  WHERE id NOT IN (SELECT contact_id FROM contacts_search_pending);"

    "DROP TRIGGER contacts_search_update;"
    "CREATE TRIGGER contacts_search_update"
    "  AFTER UPDATE OF search_name, phone ON contacts"
    "  WHEN OLD.search_name IS NOT NEW.search_name"
    "    OR OLD.phone IS NOT NEW.phone "
    "BEGIN"
    "  INSERT INTO contacts_search (contacts_search, rowid, name, digits)"
    "    SELECT 'delete', OLD.id, " INBOX_SQLITE_SEARCH_KEYS("OLD")
    "    WHERE NOT EXISTS (SELECT 1 FROM contacts_search_pending"
    "                      WHERE contact_id = OLD.id);"
    "  INSERT INTO contacts_search_pending SELECT NEW.id"
    "    WHERE NOT EXISTS (SELECT 1 FROM contacts_search_pending"
    "                      WHERE contact_id = NEW.id);"
    "END;"

    "DROP TRIGGER contacts_search_delete;"
    "CREATE TRIGGER contacts_search_delete AFTER DELETE ON contacts "
    "BEGIN"
    "  INSERT INTO contacts_search (contacts_search, rowid, name, digits)"
    "    SELECT 'delete', OLD.id, " INBOX_SQLITE_SEARCH_KEYS("OLD")
    "    WHERE NOT EXISTS (SELECT 1 FROM contacts_search_pending"
    "                      WHERE contact_id = OLD.id);"
    "  DELETE FROM contacts_search_pending WHERE contact_id = OLD.id;"
    "END;",

    /*
     * 19: an inbound image remembers the number it came to: its copy is
     * fetched with that number's account (an organization's numbers may
     * be on several), the first of the carrier's for the images before.
     */
    "ALTER TABLE message_media ADD COLUMN number_id INTEGER;",

    /*
     * 20: a thread without messages (a contact added or imported) has no
     * activity, and is listed after every thread with a message rather
     * than as new as its contact.
     */
    "UPDATE conversations SET last_activity_at = 0"
    "  WHERE last_message_id IS NULL;",

    /*
     * 21: a contact keeps when it last opted in, so that a carrier's
     * refusal of a send before then opts it out no more (optout.h); the
     * contacts that opted in before, from their timelines.
     */
    "ALTER TABLE contacts ADD COLUMN opted_in_at INTEGER;"
    "UPDATE contacts SET opted_in_at = (SELECT max(e.at)"
    "  FROM contact_events e"
    "  WHERE e.contact_id = contacts.id AND e.type = 'opt_in')"
    "  WHERE id IN (SELECT contact_id FROM contact_events"
    "    WHERE type = 'opt_in');",

    /*
     * 22: a number whose carrier answers STOP, START and HELP itself
     * (inbox_number_t); the inbox answers on those before, as it did.
     */
    "ALTER TABLE numbers ADD COLUMN carrier_answers_keywords INTEGER"
    "  NOT NULL DEFAULT 0;",

    /*
     * 23: a contact keeps when its last HELP was answered, so that HELP
     * is answered once a day (keywords.h); none before, so a contact's
     * next HELP is answered.
     */
    "ALTER TABLE contacts ADD COLUMN help_answered_at INTEGER;",

    /*
     * 24: an early report keeps whether the carrier said it was its last
     * (Telnyx's message.finalized), so that the sender's record settles
     * the hold as the report would have; those kept before were not.
     */
    "ALTER TABLE early_reports ADD COLUMN final INTEGER NOT NULL"
    "  DEFAULT 0;",

    /*
     * 25: an organization's default country (settings.h), read for its
     * numbers written without a country code; none (NULL) before, so
     * the server's is read for them as it was.
     */
    "ALTER TABLE orgs ADD COLUMN default_country TEXT;",

    /*
     * 26: a conversation keeps the organization's number its contact
     * last texted (an organization may have several), which its replies
     * go from; none for the threads before: their first number, as then.
     */
    "ALTER TABLE conversations ADD COLUMN number TEXT;",

    /*
     * 27: an upload remembers whether a reply or a campaign attached it:
     * those none did are purged after a while (media.h).  The uploads
     * messages or campaigns name already are attached.
     */
    "ALTER TABLE media ADD COLUMN attached INTEGER NOT NULL DEFAULT 0;"
    "UPDATE media SET attached = 1"
    "  WHERE file IN (SELECT file FROM message_media WHERE file IS NOT NULL)"
    "  OR file IN (SELECT file FROM campaign_media);"
    "CREATE INDEX media_unattached ON media (created_at)"
    "  WHERE attached = 0;",

    /*
     * 28: the unresponded threads on an index of their own, as unread's
     * and starred's (migration 12): walked newest first in
     * conversations_by_activity, a page of them passed every answered
     * thread newer than its last (all of them, for an empty page).  Its
     * condition is the filter's as store_sqlite_conversations.c writes
     * it, and its columns hold what the walk and the condition read.
     */
    "CREATE INDEX conversations_unresponded ON conversations"
    "  (org_id, last_activity_at DESC, id DESC, contact_id, last_direction,"
    "   archived)"
    "  WHERE archived = 0 AND last_direction = 'inbound';",

    /*
     * 29: a contact keeps the time of the newest opt-out or opt-in seen,
     * so that a keyword a carrier delivers late changes nothing when a
     * newer one was seen (optout.h).  None before (NULL): the next
     * keyword counts, as it did.
     */
    "ALTER TABLE contacts ADD COLUMN opt_latest_at INTEGER;",

    /*
     * 30: the organization's tags with their counts, one row a tag in
     * NOCASE (as audiences match them), so that GET tags reads as many
     * rows as it shows rather than every contact_tags row and its
     * contact's.  tag is spelled as the tag of first_contact_id, the
     * smallest contact id carrying it (the contact made first); contacts
     * counts its contacts, sendable those not opted out.  Triggers keep
     * them in the transaction of every change: a tag added, or removed
     * (a replacement removes them all first; a row left at no contacts
     * is deleted, and one whose first contact went takes the next one's
     * spelling from contact_tags_by_tag), and an opt-out or opt-in.
     * Contacts are never deleted, and contact_tags rows never updated;
     * a contact deleted would have to lose its tags first (their
     * foreign key).  A migration that makes contacts again must make
     * tag_counts_opt again.
     */
    "CREATE TABLE tag_counts ("
    "  org_id INTEGER NOT NULL REFERENCES orgs (id),"
    "  tag TEXT NOT NULL COLLATE NOCASE,"
    "  first_contact_id INTEGER NOT NULL,"
    "  contacts INTEGER NOT NULL,"
    "  sendable INTEGER NOT NULL,"
    "  PRIMARY KEY (org_id, tag)"
    ") WITHOUT ROWID;"
    /* the bare t.tag is that of the row min() chose */
    "INSERT INTO tag_counts (org_id, tag, first_contact_id, contacts,"
    "  sendable)"
    "  SELECT t.org_id, t.tag, min(t.contact_id), count(*),"
    "    sum(ct.opted_out = 0)"
    "  FROM contact_tags t CROSS JOIN contacts ct ON ct.id = t.contact_id"
    "  GROUP BY t.org_id, t.tag;"

    "CREATE TRIGGER tag_counts_insert AFTER INSERT ON contact_tags "
    "BEGIN"
    "  INSERT INTO tag_counts (org_id, tag, first_contact_id, contacts,"
    "    sendable)"
    "    SELECT NEW.org_id, NEW.tag, NEW.contact_id, 1, opted_out = 0"
    "    FROM contacts WHERE id = NEW.contact_id"
    "  ON CONFLICT (org_id, tag) DO UPDATE SET"
    "    contacts = contacts + 1,"
    "    sendable = sendable + excluded.sendable,"
    "    tag = iif(excluded.first_contact_id < first_contact_id,"
    "              excluded.tag, tag),"
    "    first_contact_id = min(first_contact_id,"
    "                           excluded.first_contact_id);"
    "END;"

    "CREATE TRIGGER tag_counts_delete AFTER DELETE ON contact_tags "
    "BEGIN"
    "  UPDATE tag_counts SET contacts = contacts - 1,"
    "    sendable = sendable - (SELECT opted_out = 0 FROM contacts"
    "                           WHERE id = OLD.contact_id)"
    "  WHERE org_id = OLD.org_id AND tag = OLD.tag;"
    "  DELETE FROM tag_counts"
    "  WHERE org_id = OLD.org_id AND tag = OLD.tag AND contacts = 0;"
    "  UPDATE tag_counts SET (tag, first_contact_id) ="
    "    (SELECT t.tag, t.contact_id FROM contact_tags t"
    "     WHERE t.org_id = OLD.org_id AND t.tag = OLD.tag"
    "     ORDER BY t.contact_id LIMIT 1)"
    "  WHERE org_id = OLD.org_id AND tag = OLD.tag"
    "    AND first_contact_id = OLD.contact_id;"
    "END;"

    "CREATE TRIGGER tag_counts_opt AFTER UPDATE OF opted_out ON contacts"
    "  WHEN OLD.opted_out <> NEW.opted_out "
    "BEGIN"
    "  UPDATE tag_counts"
    "    SET sendable = sendable + (NEW.opted_out = 0) - (OLD.opted_out = 0)"
    "  WHERE org_id = NEW.org_id"
    "    AND tag IN (SELECT tag FROM contact_tags"
    "                WHERE contact_id = NEW.id);"
    "END;",

    /*
     * 31: a thread is unresponded while an inbound message waits for a
     * response (inbox_conversation_unresponded): a campaign's or poll's
     * message is its last one but no response.  Each thread keeps the
     * newest inbound message's time while it waits (unresponded_at,
     * NULL otherwise) and its newest response's (responded_at: a
     * message of ours that is no campaign's), both read from its
     * messages here (at the same time, the one stored last counts); its
     * index, count and triggers follow it instead of the last direction.
     */
    "ALTER TABLE conversations ADD COLUMN unresponded_at INTEGER;"
    "ALTER TABLE conversations ADD COLUMN responded_at INTEGER;"
    "UPDATE conversations SET"
    "  responded_at = (SELECT max(m.created_at) FROM messages m"
    "    WHERE m.conversation_id = conversations.id"
    "    AND m.direction = 'outbound' AND m.campaign_id IS NULL),"
    "  unresponded_at = (SELECT CASE m.direction WHEN 'inbound'"
    "      THEN m.created_at END FROM messages m"
    "    WHERE m.conversation_id = conversations.id"
    "    AND (m.direction = 'inbound' OR m.campaign_id IS NULL)"
    "    ORDER BY m.created_at DESC, m.id DESC LIMIT 1)"
    "  WHERE last_message_id IS NOT NULL;"

    "DROP INDEX conversations_unresponded;"
    "CREATE INDEX conversations_unresponded ON conversations"
    "  (org_id, last_activity_at DESC, id DESC, contact_id, unresponded_at,"
    "   archived)"
    "  WHERE archived = 0 AND unresponded_at IS NOT NULL;"

    "UPDATE orgs SET" INBOX_SQLITE_COUNTS(U31, L5, INBOX_SQLITE_SUM, "c") ";"

    "DROP TRIGGER conversations_count_insert;"
    "DROP TRIGGER conversations_count_update;"
    "DROP TRIGGER conversations_count_delete;"

    "CREATE TRIGGER conversations_count_insert AFTER INSERT ON conversations "
    "BEGIN"
    "  UPDATE orgs SET" INBOX_SQLITE_COUNTS(U31, L5, INBOX_SQLITE_ADD, "NEW")
    "  WHERE id = NEW.org_id;"
    "END;"

    "CREATE TRIGGER conversations_count_update"
    "  AFTER UPDATE OF unread_count, archived, starred, unresponded_at"
    "  ON conversations"
    "  WHEN OLD.unread_count <> NEW.unread_count"
    "    OR OLD.archived <> NEW.archived OR OLD.starred <> NEW.starred"
    "    OR (OLD.unresponded_at IS NULL) <> (NEW.unresponded_at IS NULL) "
    "BEGIN"
    "  UPDATE orgs SET" INBOX_SQLITE_COUNTS_MOVED(U31, L5)
    "  WHERE id = NEW.org_id;"
    "END;"

    "CREATE TRIGGER conversations_count_delete AFTER DELETE ON conversations "
    "BEGIN"
    "  UPDATE orgs SET" INBOX_SQLITE_COUNTS(U31, L5, INBOX_SQLITE_SUB, "OLD")
    "  WHERE id = OLD.org_id;"
    "END;",

    /*
     * 32: a thread without a message (a contact added or imported) is in
     * no list nor tab's count: the counts and their triggers count the
     * threads with activity only, which every message gives (a thread
     * has none before its first, migration 20); the unread total is as
     * it was.  The lists bound their walks by it (no index changes).
     */
    "UPDATE orgs SET" INBOX_SQLITE_COUNTS(U31, L32, INBOX_SQLITE_SUM, "c") ";"

    "DROP TRIGGER conversations_count_insert;"
    "DROP TRIGGER conversations_count_update;"
    "DROP TRIGGER conversations_count_delete;"

    "CREATE TRIGGER conversations_count_insert AFTER INSERT ON conversations "
    "BEGIN"
    "  UPDATE orgs SET" INBOX_SQLITE_COUNTS(U31, L32, INBOX_SQLITE_ADD, "NEW")
    "  WHERE id = NEW.org_id;"
    "END;"

    "CREATE TRIGGER conversations_count_update"
    "  AFTER UPDATE OF unread_count, archived, starred, unresponded_at,"
    "  last_activity_at ON conversations"
    "  WHEN OLD.unread_count <> NEW.unread_count"
    "    OR OLD.archived <> NEW.archived OR OLD.starred <> NEW.starred"
    "    OR (OLD.unresponded_at IS NULL) <> (NEW.unresponded_at IS NULL)"
    "    OR (OLD.last_activity_at > 0) <> (NEW.last_activity_at > 0) "
    "BEGIN"
    "  UPDATE orgs SET" INBOX_SQLITE_COUNTS_MOVED(U31, L32)
    "  WHERE id = NEW.org_id;"
    "END;"

    "CREATE TRIGGER conversations_count_delete AFTER DELETE ON conversations "
    "BEGIN"
    "  UPDATE orgs SET" INBOX_SQLITE_COUNTS(U31, L32, INBOX_SQLITE_SUB, "OLD")
    "  WHERE id = OLD.org_id;"
    "END;",

    /*
     * 33: why a campaign is cancelled (inbox_cancel_reason_t): by a
     * person, or by the dispatch that would have started it, its text
     * refused by a rule made since it was sent, with the refusal's
     * words.  NULL for one cancelled before: nobody kept which it was.
     */
    "ALTER TABLE campaigns ADD COLUMN cancelled_reason TEXT"
    "  CHECK (cancelled_reason IN ('manual', 'text_refused'));"
    "ALTER TABLE campaigns ADD COLUMN cancelled_message TEXT;",

    /*
     * 34: status checks (status_check.h): a message a carrier took whose
     * final status never came is asked about.  status_check_at is when
     * next: NULL while never asked (the first ask counts from
     * submitted_at), 0 once no ask is left.  The index holds the
     * messages without a final status only (a final one leaves it), by
     * the next ask, then by when the carrier took them: the never asked
     * ones, by their age, then the due ones, by their time.
     */
    "ALTER TABLE messages ADD COLUMN status_check_at INTEGER;"
    "CREATE INDEX messages_status_checks ON messages"
    "  (status_check_at, submitted_at)"
    "  WHERE status IN ('queued', 'sending', 'sent');",

    /*
     * 35: the number an outbound message goes from, fixed as it is
     * written (its outbox entry's), so that a status check asks with
     * that number's credentials: two numbers of one carrier can be on
     * two accounts, and the other account has no such message.  One
     * still in the outbox takes its entry's; NULL for one sent before,
     * whose check asks with its thread's number of its carrier, else
     * the first.
     */
    "ALTER TABLE messages ADD COLUMN from_e164 TEXT;"
    "UPDATE messages SET from_e164 ="
    "  (SELECT o.from_e164 FROM outbox o WHERE o.message_id = messages.id)"
    "  WHERE id IN (SELECT message_id FROM outbox);",

    /*
     * 36: the message an early report's callback URL names (?message=),
     * NULL for none: a report that overtook the sender's record of an
     * unknown outcome (outbox.h) gives that message its carrier id when
     * the record comes.  Looked up with org_id and provider, by
     * early_reports_by_id's first two columns: an organization's early
     * reports are few (a day's at most).
     */
    "ALTER TABLE early_reports ADD COLUMN message_id INTEGER;",

    /*
     * 37: inbox_recipient_of_delivery as it is now: a campaign's message
     * failed or undelivered because its contact opted out (withdrawn by
     * the sender, or refused or reported so by the carrier:
     * contact_opted_out, written with the status) counts its recipient
     * suppressed, not failed.  Recipients counted before stay as they
     * are (MongoDB's counts are not gone over either).
     */
    "DROP TRIGGER messages_campaign_status;"
    "CREATE TRIGGER messages_campaign_status"
    "  AFTER UPDATE OF status ON messages"
    "  WHEN NEW.campaign_id IS NOT NULL AND OLD.status IS NOT NEW.status "
    "BEGIN"
    "  UPDATE campaign_recipients SET state = CASE"
    "    WHEN NEW.status IN ('undelivered', 'failed')"
    "      AND NEW.error_code IS 'contact_opted_out' THEN 'suppressed'"
    "    WHEN NEW.status IN ('undelivered', 'failed') THEN 'failed'"
    "    WHEN NEW.status IN ('sent', 'delivered') THEN NEW.status"
    "    ELSE 'queued' END"
    "  WHERE message_id = NEW.id;"
    "END;",

    /*
     * 38: a thread keeps the type of its last message's first attachment
     * (inbox_message_preview), so that a list can say what a message
     * without text carries ("Contact card"); NULL for none.  Threads
     * whose last message has attachments get it from them.
     */
    "ALTER TABLE conversations ADD COLUMN last_media_type TEXT;"
    "UPDATE conversations SET last_media_type ="
    "  (SELECT nullif(content_type, '') FROM message_media"
    "   WHERE message_id = conversations.last_message_id AND idx = 0)"
    "  WHERE last_message_id IS NOT NULL;",

    /*
     * 39: a draft's revision, one more at each edit, so that an edit of
     * some fields made from a read does not undo another made since
     * (inbox_store_campaign_update).
     */
    "ALTER TABLE campaigns ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;",

    /*
     * 40: a thread keeps who sent its last message (the user, else the
     * campaign or poll), so that a list can say "You:", a colleague's
     * name or the campaign before its preview; NULL for an inbound one.
     * Threads whose last message is outbound get it from the message.
     */
    "ALTER TABLE conversations ADD COLUMN last_sent_by INTEGER;"
    "ALTER TABLE conversations ADD COLUMN last_campaign_id INTEGER;"
    "UPDATE conversations SET"
    "  (last_sent_by, last_campaign_id) ="
    "  (SELECT sent_by, campaign_id FROM messages"
    "   WHERE id = conversations.last_message_id)"
    "  WHERE last_direction = 'outbound';",

    /*
     * 41: a campaign's or poll's message alone lists no thread
     * (inbox_conversation_bulk): the threads with no other message lose
     * the activity their campaigns gave them, and leave the lists (the
     * counts follow, by their trigger).
     */
    "UPDATE conversations SET last_activity_at = 0"
    "  WHERE last_activity_at > 0 AND NOT EXISTS ("
    "    SELECT 1 FROM messages m WHERE m.conversation_id = conversations.id"
    "    AND (m.direction = 'inbound' OR m.campaign_id IS NULL));",

    /*
     * 42: an opt-out is the response to what came before it (no reply
     * can go to the contact; inbox_keyword_wait): the threads an opt-out
     * the carrier answered had left waiting are answered at its time.
     */
    "UPDATE conversations SET"
    "  responded_at = max(coalesce(responded_at, 0),"
    "    (SELECT opted_out_at FROM contacts"
    "     WHERE id = conversations.contact_id)),"
    "  unresponded_at = NULL"
    "  WHERE unresponded_at IS NOT NULL AND EXISTS ("
    "    SELECT 1 FROM contacts ct WHERE ct.id = conversations.contact_id"
    "    AND ct.opted_out = 1"
    "    AND ct.opted_out_at >= conversations.unresponded_at);",

    /*
     * 43: a contact's answered HELP names its answer, so that an answer
     * that fails gives the day back (the next HELP is answered); none
     * before, so a HELP answered and failed before still counts.
     */
    "ALTER TABLE contacts ADD COLUMN help_answer_id INTEGER;",

    /*
     * 44: the organization counts its contacts, for the contacts list's
     * plans (inbox_sqlite_org_contacts): the tabs' counts it added up
     * leave out, since 32, the threads of contacts never written to,
     * most of an import, and a tag's or a name's few among 300,000
     * imported were walked for page after empty page.
     */
    "ALTER TABLE orgs ADD COLUMN count_contacts INTEGER NOT NULL DEFAULT 0;"
    "UPDATE orgs SET count_contacts ="
    "  (SELECT count(*) FROM contacts WHERE contacts.org_id = orgs.id);"
    "CREATE TRIGGER contacts_counted AFTER INSERT ON contacts BEGIN"
    "  UPDATE orgs SET count_contacts = count_contacts + 1"
    "  WHERE id = NEW.org_id;"
    "END;"
    "CREATE TRIGGER contacts_uncounted AFTER DELETE ON contacts BEGIN"
    "  UPDATE orgs SET count_contacts = count_contacts - 1"
    "  WHERE id = OLD.org_id;"
    "END;",

    /*
     * 45: a campaign's image names the upload it is, so that an edit
     * names it again rather than a copy (campaign media's "id").  Those
     * of before get their organization's upload of the same file; NULL
     * where there is none.
     */
    "ALTER TABLE campaign_media ADD COLUMN media_id INTEGER;"
    "UPDATE campaign_media SET media_id ="
    "  (SELECT m.id FROM media m JOIN campaigns c ON c.org_id = m.org_id"
    "   WHERE c.id = campaign_media.campaign_id"
    "   AND m.file = campaign_media.file);",

    /*
     * 46: a campaign keeps its latest reply's time, as a poll its latest
     * answer's (15), so that the sender pushes the replied count of a
     * campaign replied to long after its sending ended; indexed for the
     * sender's look at what may move.  Campaigns replied to before are
     * past that look's minutes: none is filled in.
     */
    "ALTER TABLE campaigns ADD COLUMN replied_at INTEGER;"
    "CREATE TRIGGER campaign_recipients_replied"
    "  AFTER UPDATE OF replied_at ON campaign_recipients"
    "  WHEN NEW.replied_at IS NOT NULL "
    "BEGIN"
    "  UPDATE campaigns"
    "    SET replied_at = max(coalesce(replied_at, 0), NEW.replied_at)"
    "  WHERE id = NEW.campaign_id;"
    "END;"
    "CREATE INDEX campaigns_replied ON campaigns (replied_at)"
    "  WHERE replied_at IS NOT NULL;",

    /*
     * 47: a contact's poll answers newest first, for its timeline's pages
     * (inbox_sqlite_contact_campaigns): campaign_recipients_by_contact
     * has every send of the contact, answered or not, in send order.
     */
    "CREATE INDEX campaign_recipients_answered ON campaign_recipients"
    "  (contact_id, answered_at DESC, id DESC) WHERE answer IS NOT NULL;",

    /*
     * 48: a campaign keeps how many of its audience were opted out when
     * its send fixed them (inbox_campaign_counts_t's excluded), so that
     * its recipients stay what the send made them while those who opt
     * out since move to suppressed.  Campaigns sent before cannot tell
     * the two apart: they keep the recipients they showed (every one
     * suppressed so far taken as excluded).
     */
    "ALTER TABLE campaigns ADD COLUMN n_excluded INTEGER NOT NULL DEFAULT 0;"
    "UPDATE campaigns SET n_excluded = n_suppressed WHERE n_suppressed > 0;",

    /*
     * 49: an upload a draft's edit drops is no longer attached, from the
     * edit's time (media.released_at), and the purge takes it once
     * nothing names it (media.h): the files messages and campaigns name
     * are indexed for that look.  Those edits dropped before are found
     * now, released from now.
     */
    "ALTER TABLE media ADD COLUMN released_at INTEGER;"
    "CREATE INDEX message_media_file ON message_media (file)"
    "  WHERE file IS NOT NULL;"
    "CREATE INDEX campaign_media_file ON campaign_media (file);"
    "UPDATE media SET attached = 0, released_at ="
    "    CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"
    "  WHERE attached = 1"
    "  AND NOT EXISTS (SELECT 1 FROM message_media mm"
    "    WHERE mm.file = media.file)"
    "  AND NOT EXISTS (SELECT 1 FROM campaign_media cm"
    "    WHERE cm.file = media.file);",

    /*
     * 50: a campaign may be paused because the carrier refused its
     * number's account or credentials (paused_reason carrier_account).
     * A CHECK that only takes one more value is changed in place, as
     * SQLite's ALTER TABLE page allows for a change no stored row can
     * break: the table's SQL edited, the schema read again (RESET), and
     * an index made again so that every other connection reads it too
     * (the schema's cookie moves).
     */
    "PRAGMA writable_schema = ON;"
    "UPDATE sqlite_schema SET sql = replace(sql,"
    "    '''insufficient_credits'', ''billing_inactive'')',"
    "    '''insufficient_credits'', ''billing_inactive'','"
    "    || ' ''carrier_account'')')"
    "  WHERE type = 'table' AND name = 'campaigns';"
    "PRAGMA writable_schema = RESET;"
    "DROP INDEX campaigns_by_org;"
    "CREATE INDEX campaigns_by_org ON campaigns (org_id, kind, id DESC);",

    /*
     * 51: an upload the purge removes is marked first (media.purging_at,
     * gone for every send from then on), its file unlinked next, its
     * record deleted last, so that a purge that dies between leaves
     * records marked, not files no record names: the next round finds
     * them on media_purging and finishes them.
     */
    "ALTER TABLE media ADD COLUMN purging_at INTEGER;"
    "CREATE INDEX media_purging ON media (purging_at)"
    "  WHERE purging_at IS NOT NULL;",

    /*
     * 52: a campaign event keeps its campaign's kind, "campaign" or
     * "poll" (campaign.updated, campaign.progress, campaign.deleted), so
     * that one deleted is named as such when its row is gone: a resume
     * renders it as campaign.deleted.  Those stored before have none.
     */
    "ALTER TABLE events ADD COLUMN campaign_kind TEXT;",

    /*
     * 53: a campaign keeps when its first message was handed over
     * (campaigns.handed_at, set in dispatch's write), so that one
     * cancelled after it started but before any hand-over (every
     * recipient waiting for quiet hours, or suppressed) can be deleted:
     * no contact's thread or record names it.  Those of before take the
     * earliest send time their recipients with a message keep.
     */
    "ALTER TABLE campaigns ADD COLUMN handed_at INTEGER;"
    "UPDATE campaigns SET handed_at ="
    "    (SELECT min(coalesce(r.sent_at, campaigns.started_at))"
    "      FROM campaign_recipients r"
    "      WHERE r.campaign_id = campaigns.id"
    "      AND r.message_id IS NOT NULL)"
    "  WHERE started_at IS NOT NULL;",

    /*
     * 54: a campaign's id is never given again (AUTOINCREMENT): since
     * drafts can be deleted, the newest one's id went to the next
     * campaign made, so a browser still holding the deleted draft (an
     * Edit form open, a card not yet removed) acted on a colleague's new
     * one.  SQLite cannot add it to a table, so campaigns is made again
     * as step 9 made contacts, its rows copied with their ids (its tags,
     * options, images, recipients and messages refer to them).  The
     * rename runs with legacy_alter_table on: the triggers of
     * campaign_recipients name campaigns, which is missing between the
     * drop and the rename, and would fail the modern rename's check.
     */
    "PRAGMA legacy_alter_table = ON;"
    "CREATE TABLE campaigns_rebuilt ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  org_id INTEGER NOT NULL REFERENCES orgs (id),"
    "  kind TEXT NOT NULL CHECK (kind IN ('campaign', 'poll')),"
    "  name TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  question TEXT,"
    "  audience_all INTEGER NOT NULL,"
    "  segments INTEGER NOT NULL,"
    "  credits INTEGER NOT NULL,"
    "  status TEXT NOT NULL CHECK (status IN ('draft', 'scheduled',"
    "    'sending', 'paused', 'done', 'cancelled')),"
    "  paused_reason TEXT CHECK (paused_reason IN ('manual',"
    "    'insufficient_credits', 'billing_inactive', 'carrier_account')),"
    "  send_at INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  started_at INTEGER,"
    "  finished_at INTEGER,"
    "  n_due INTEGER NOT NULL DEFAULT 0,"
    "  n_waiting_quiet_hours INTEGER NOT NULL DEFAULT 0,"
    "  n_queued INTEGER NOT NULL DEFAULT 0,"
    "  n_sent INTEGER NOT NULL DEFAULT 0,"
    "  n_delivered INTEGER NOT NULL DEFAULT 0,"
    "  n_failed INTEGER NOT NULL DEFAULT 0,"
    "  n_suppressed INTEGER NOT NULL DEFAULT 0,"
    "  n_cancelled INTEGER NOT NULL DEFAULT 0,"
    "  n_recipients INTEGER NOT NULL DEFAULT 0,"
    "  n_replied INTEGER NOT NULL DEFAULT 0,"
    "  n_answer_1 INTEGER NOT NULL DEFAULT 0,"
    "  n_answer_2 INTEGER NOT NULL DEFAULT 0,"
    "  n_answer_3 INTEGER NOT NULL DEFAULT 0,"
    "  n_answer_4 INTEGER NOT NULL DEFAULT 0,"
    "  n_answer_5 INTEGER NOT NULL DEFAULT 0,"
    "  n_answer_6 INTEGER NOT NULL DEFAULT 0,"
    "  n_answer_7 INTEGER NOT NULL DEFAULT 0,"
    "  n_answer_8 INTEGER NOT NULL DEFAULT 0,"
    "  n_answer_9 INTEGER NOT NULL DEFAULT 0,"
    "  answered_at INTEGER,"
    "  cancelled_reason TEXT"
    "    CHECK (cancelled_reason IN ('manual', 'text_refused')),"
    "  cancelled_message TEXT,"
    "  revision INTEGER NOT NULL DEFAULT 0,"
    "  replied_at INTEGER,"
    "  n_excluded INTEGER NOT NULL DEFAULT 0,"
    "  handed_at INTEGER"
    ");"
    "INSERT INTO campaigns_rebuilt ("
    "  id, org_id, kind, name, body, question, audience_all, segments, "
    "  credits, status, paused_reason, send_at, created_at, started_at, "
    "  finished_at, n_due, n_waiting_quiet_hours, n_queued, n_sent, "
    "  n_delivered, n_failed, n_suppressed, n_cancelled, n_recipients, "
    "  n_replied, n_answer_1, n_answer_2, n_answer_3, n_answer_4, "
    "  n_answer_5, n_answer_6, n_answer_7, n_answer_8, n_answer_9, "
    "  answered_at, cancelled_reason, cancelled_message, revision, "
    "  replied_at, n_excluded, handed_at)"
    "  SELECT "
    "  id, org_id, kind, name, body, question, audience_all, segments, "
    "  credits, status, paused_reason, send_at, created_at, started_at, "
    "  finished_at, n_due, n_waiting_quiet_hours, n_queued, n_sent, "
    "  n_delivered, n_failed, n_suppressed, n_cancelled, n_recipients, "
    "  n_replied, n_answer_1, n_answer_2, n_answer_3, n_answer_4, "
    "  n_answer_5, n_answer_6, n_answer_7, n_answer_8, n_answer_9, "
    "  answered_at, cancelled_reason, cancelled_message, revision, "
    "  replied_at, n_excluded, handed_at"
    "  FROM campaigns;"
    "DROP TABLE campaigns;"
    "ALTER TABLE campaigns_rebuilt RENAME TO campaigns;"
    "PRAGMA legacy_alter_table = OFF;"
    "CREATE INDEX campaigns_active ON campaigns (status)"
    "  WHERE status IN ('scheduled', 'sending', 'paused');"
    "CREATE INDEX campaigns_finished ON campaigns (finished_at)"
    "  WHERE finished_at IS NOT NULL;"
    "CREATE INDEX campaigns_answered ON campaigns (answered_at)"
    "  WHERE answered_at IS NOT NULL;"
    "CREATE INDEX campaigns_replied ON campaigns (replied_at)"
    "  WHERE replied_at IS NOT NULL;"
    "CREATE INDEX campaigns_by_org ON campaigns (org_id, kind, id DESC);",

    /*
     * 55: a failed reply sent again says which message it went as, and
     * when (resend.h), set in the write that makes that message, so
     * that a second Send again of it, from any browser, sends nothing.
     */
    "ALTER TABLE messages ADD COLUMN resent_as INTEGER"
    "  REFERENCES messages (id);"
    "ALTER TABLE messages ADD COLUMN resent_at INTEGER;",

    /*
     * 56: a name's key leaves out white space and punctuation (search.h:
     * "oconnor" finds O'Connor, "jean luc" and "jeanluc" Jean-Luc), so
     * every key is made again and the index with it, as 18 made them.
     */
    INBOX_SQLITE_SEARCH_KEYS_AGAIN,

    /*
     * 57: a campaign paused carrier_account keeps the sending number the
     * carrier refused and the carrier's code, so that the person who
     * fixes the number's settings is told which (campaign.h).  Those
     * paused so before say neither.
     */
    "ALTER TABLE campaigns ADD COLUMN paused_number TEXT;"
    "ALTER TABLE campaigns ADD COLUMN paused_error_code TEXT;",

    /*
     * 58: a name's key keeps a kana's voicing marks (fold.h, search.h's
     * rule 2: "ション" no longer finds "ジョン"), so every key is made
     * again and the index with it, as 56 made them.
     */
    INBOX_SQLITE_SEARCH_KEYS_AGAIN,

    /*
     * 59: a name's key keeps the marks of Indic and Southeast Asian
     * scripts and Cyrillic's Й, Ў and Ї (fold.h, search.h's rule 3:
     * "समित" no longer finds "सुमित", nor "Иоанна" "Йоанна"), so every key
     * is made again and the index with it, as 56 made them.
     */
    INBOX_SQLITE_SEARCH_KEYS_AGAIN
};

#define INBOX_SQLITE_VERSION                                                  \
    ((int) (sizeof(inbox_sqlite_migrations)                                  \
            / sizeof(inbox_sqlite_migrations[0])))


int
inbox_store_sqlite_schema_version(void)
{
    return INBOX_SQLITE_VERSION;
}


#define INBOX_SQLITE_OP(kind, name, params, args)  .name = inbox_sqlite_##name,

static const inbox_store_ops_t  inbox_sqlite_ops = {
    .name = "sqlite",
    .close = inbox_sqlite_close,
    INBOX_STORE_OPERATIONS(INBOX_SQLITE_OP)
};

#undef INBOX_SQLITE_OP


/*
 * "PATH" or "PATH?synchronous=full" (or "=normal", the default): the one
 * option, since what a commit survives is the operator's choice.
 */
inbox_status_t
inbox_store_sqlite_uri(const char *uri, size_t *path_len, int *full_sync,
    inbox_error_t *err)
{
    const char  *query;

    if (uri == NULL || uri[0] == '\0' || uri[0] == '?') {
        return inbox_error_set(err, INBOX_ERR_INVALID,
                               "The SQLite store needs a file path "
                               "(sqlite:PATH).");
    }

    query = strchr(uri, '?');
    *full_sync = 0;

    if (query != NULL) {
        if (strcmp(query, "?synchronous=full") == 0) {
            *full_sync = 1;

        } else if (strcmp(query, "?synchronous=normal") != 0) {
            return inbox_error_set(err, INBOX_ERR_INVALID,
                                   "Unknown SQLite store option \"%.64s\"; "
                                   "the one option is "
                                   "synchronous=normal|full.", query + 1);
        }
    }

    *path_len = query ? (size_t) (query - uri) : strlen(uri);

    return INBOX_OK;
}


inbox_store_t *
inbox_store_sqlite_open(const char *uri, int create, inbox_error_t *err)
{
    int                    full_sync;
    char                  *path;
    size_t                 path_len;
    inbox_sqlite_store_t  *s;

    if (inbox_store_sqlite_uri(uri, &path_len, &full_sync, err) != INBOX_OK) {
        return NULL;
    }

    path = strndup(uri, path_len);
    if (path == NULL) {
        inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        return NULL;
    }

    s = inbox_sqlite_store_new(path, full_sync, create, err);
    free(path);

    return s ? &s->base : NULL;
}


static inbox_sqlite_store_t *
inbox_sqlite_store_new(const char *path, int full_sync, int create,
    inbox_error_t *err)
{
    char                   uid[INBOX_SQLITE_UID_MAX];
    struct stat            st;
    inbox_sqlite_store_t  *s;

    if (sqlite3_threadsafe() == 0) {
        inbox_error_set(err, INBOX_ERR_INTERNAL,
                        "This SQLite library is built without thread "
                        "support.");
        return NULL;
    }

    if (inbox_sqlite_migrate(path, create, uid, err) != INBOX_OK) {
        return NULL;
    }

    if (stat(path, &st) == -1) {
        inbox_error_set(err, INBOX_ERR_UNAVAILABLE,
                        "The store's database file is missing (deleted or "
                        "moved away).");
        return NULL;
    }

    s = calloc(1, sizeof(inbox_sqlite_store_t));
    if (s == NULL) {
        goto nomem;
    }

    s->path = strdup(path);
    if (s->path == NULL) {
        free(s);
        goto nomem;
    }

    /*
     * No destructor: a thread's connection is closed with the store, not
     * when the thread exits.  nginx lets its pool threads exit while the
     * worker unloads the module, and a destructor would then run code that
     * is being unloaded.  Threads that use a store live as long as it.
     */
    if (pthread_key_create(&s->key, NULL) != 0) {
        free(s->path);
        free(s);
        goto nomem;
    }

    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->write_lock, NULL);
    inbox_sqlite_writer_reset(&s->queue);
    s->full_sync = full_sync;
    memcpy(s->uid, uid, sizeof(s->uid));
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    s->base.ops = &inbox_sqlite_ops;
    /* the migration left the file at this build's version, or failed */
    s->base.schema_version = INBOX_SQLITE_VERSION;

    return s;

nomem:

    inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    return NULL;
}


/* The caller guarantees no other thread still uses the store. */
static void
inbox_sqlite_close(inbox_store_t *store)
{
    inbox_sqlite_store_t  *s = (inbox_sqlite_store_t *) store;
    inbox_sqlite_conn_t   *conn, *next;

    if (s == NULL) {
        return;
    }

    pthread_key_delete(s->key);

    pthread_mutex_lock(&s->lock);

    for (conn = s->conns; conn != NULL; conn = next) {
        next = conn->next;

        if (conn->pid == getpid()) {
            inbox_sqlite_conn_free(conn);

        } else {
            /* a connection inherited over fork() is the parent's */
            free(conn);
        }
    }

    s->conns = NULL;
    pthread_mutex_unlock(&s->lock);

    inbox_sqlite_writer_close(&s->queue);

    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->write_lock);
    free(s->path);
    free(s);
}


inbox_sqlite_conn_t *
inbox_sqlite_conn(inbox_store_t *store, inbox_error_t *err)
{
    inbox_sqlite_conn_t   *conn;
    inbox_sqlite_store_t  *s = (inbox_sqlite_store_t *) store;

    conn = pthread_getspecific(s->key);

    if (conn != NULL && conn->pid == getpid()) {
        if (!inbox_sqlite_moved(conn->db)) {
            return conn;
        }

        /* its file was deleted or replaced: what it reads is stale */
        pthread_setspecific(s->key, NULL);
        inbox_sqlite_conn_drop(conn);
    }

    /* none yet, gone, or forked: the parent's must not be touched here */

    conn = inbox_sqlite_conn_open(s, err);
    if (conn == NULL) {
        return NULL;
    }

    /*
     * A reader maps the file: a list walks pages all over a large store,
     * and a mapped page costs no read() and no copy (a third of a search
     * on a million threads).  The writer does not: its pages are written
     * and mapping them measured slower for ingest.
     */
    (void) sqlite3_exec(conn->db, "PRAGMA mmap_size = " INBOX_SQLITE_MMAP,
                        NULL, NULL, NULL);

    if (pthread_setspecific(s->key, conn) != 0) {
        inbox_sqlite_conn_drop(conn);
        inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        return NULL;
    }

    return conn;
}


/*
 * A new connection, on the store's list so that closing it closes this.
 * Only the file the store was opened on is served: moved away and back,
 * it serves again.  Any other file at the path (a copy put back, another
 * store) is refused until the store is opened again, because the -wal
 * and -shm beside it may still be the old file's, in use by other
 * processes, and SQLite would read that log's pages into the new file.
 * The messages name no path: they reach clients.
 */
static inbox_sqlite_conn_t *
inbox_sqlite_conn_open(inbox_sqlite_store_t *s, inbox_error_t *err)
{
    int                   rc, at_path;
    char                  uid[INBOX_SQLITE_UID_MAX];
    char                  why[INBOX_ERROR_MESSAGE_MAX];
    sqlite3              *db;
    inbox_sqlite_conn_t  *conn;

    db = NULL;

    at_path = inbox_sqlite_at_path(s);

    if (at_path == -1) {
        inbox_error_set(err, INBOX_ERR_UNAVAILABLE,
                        "The store's database file is missing (deleted or "
                        "moved away); it serves again once it is moved "
                        "back.");
        return NULL;
    }

    if (at_path == 0) {
        goto replaced;
    }

    /* never SQLITE_OPEN_CREATE: an empty new file would lose everything */
    rc = sqlite3_open_v2(s->path, &db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);

    if (rc == SQLITE_OK) {
        rc = inbox_sqlite_configure(db, s->full_sync);
    }

    if (rc != SQLITE_OK) {
        inbox_error_set(err, INBOX_ERR_UNAVAILABLE,
                        "The store's database cannot be opened: %s",
                        inbox_sqlite_open_failure(db, rc, why, sizeof(why)));
        goto failed;
    }

    /* swapped between the look and the open */
    if (inbox_sqlite_moved(db) || inbox_sqlite_at_path(s) != 1) {
        goto replaced;
    }

    if (sqlite3_db_readonly(db, "main") == 1) {
        inbox_error_set(err, INBOX_ERR_UNAVAILABLE,
                        "The store's database file is read-only: it cannot "
                        "take writes.");
        goto failed;
    }

    rc = inbox_sqlite_uid(db, uid);

    if ((rc & 0xff) == SQLITE_BUSY) {
        inbox_error_set(err, INBOX_ERR_UNAVAILABLE,
                        "The database is busy; try again shortly.");
        goto failed;
    }

    /* the same file, written over in place by another store */
    if (rc != SQLITE_OK || strcmp(uid, s->uid) != 0) {
        goto replaced;
    }

    conn = calloc(1, sizeof(inbox_sqlite_conn_t));
    if (conn == NULL) {
        sqlite3_close(db);
        inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        return NULL;
    }

    conn->db = db;

    /* the busy handler reads the writer's deadline */
    sqlite3_busy_handler(db, inbox_sqlite_busy, conn);
    conn->store = s;
    conn->pid = getpid();

    pthread_mutex_lock(&s->lock);
    conn->next = s->conns;
    if (s->conns) {
        s->conns->prev = conn;
    }
    s->conns = conn;
    pthread_mutex_unlock(&s->lock);

    return conn;

replaced:

    inbox_error_set(err, INBOX_ERR_UNAVAILABLE,
                    "The store's database file was replaced by another "
                    "file: it is served once nginx, the sender and "
                    "ws-server are restarted (sqlite3's .restore brings a "
                    "backup back while they run).");

failed:

    sqlite3_close(db);
    return NULL;
}


/* Unlinks and closes a connection that its thread cannot keep. */
static void
inbox_sqlite_conn_drop(inbox_sqlite_conn_t *conn)
{
    inbox_sqlite_store_t  *s = conn->store;

    pthread_mutex_lock(&s->lock);

    if (conn->prev) {
        conn->prev->next = conn->next;
    } else {
        s->conns = conn->next;
    }

    if (conn->next) {
        conn->next->prev = conn->prev;
    }

    pthread_mutex_unlock(&s->lock);

    if (conn->pid == getpid()) {
        inbox_sqlite_conn_free(conn);

    } else {
        free(conn);
    }
}


static void
inbox_sqlite_conn_free(inbox_sqlite_conn_t *conn)
{
    int  i, persist;

    for (i = 0; i < INBOX_SQL_COUNT; i++) {
        sqlite3_finalize(conn->stmts[i]);
    }

    if (inbox_sqlite_moved(conn->db)) {
        /*
         * The last connection to a database deletes its -wal and -shm by
         * name when it closes; those at the path may now belong to
         * another file, or be this one's, needed when it is moved back.
         */
        persist = 1;
        sqlite3_file_control(conn->db, "main", SQLITE_FCNTL_PERSIST_WAL,
                             &persist);
    }

    sqlite3_close(conn->db);
    free(conn);
}


/*
 * Another process (an nginx worker) holds the write lock, usually for the
 * millisecond or two of one batch.  SQLite's own busy timeout sleeps in
 * steps of up to 100 ms; this one retries within a fraction of a
 * millisecond, backing off to 2 ms, and gives up after
 * INBOX_SQLITE_BUSY_TIMEOUT_MS.
 */
static int
inbox_sqlite_busy(void *data, int count)
{
    inbox_sqlite_conn_t  *conn = data;

    /* a writer that queued for the lock has only what its wait left */
    if (conn != NULL && conn->deadline != 0
        && inbox_sqlite_monotonic_ms() >= conn->deadline)
    {
        return 0;
    }

    if (count < 5) {
        usleep(50u << count);               /* 50 us .. 800 us */
        return 1;
    }

    if ((count - 5) * 2 >= INBOX_SQLITE_BUSY_TIMEOUT_MS) {
        return 0;
    }

    usleep(2000);

    return 1;
}


/*
 * Per-connection settings; WAL itself is a property of the file.
 *
 * synchronous: NORMAL syncs the log only at checkpoints, so a commit
 * survives any crash of the process but the last ones may be lost with
 * the machine's power; FULL syncs every commit (one per batch).
 * temp_store: savepoint journals stay in memory, not in /var/tmp.
 * wal_autocheckpoint: checkpoints are inbox_store_maintain's, off the
 * writers' path; this is only the backstop for a caller that never calls
 * it (32 MB of log).
 */
static int
inbox_sqlite_configure(sqlite3 *db, int full_sync)
{
    int  rc;

    sqlite3_extended_result_codes(db, 1);

    rc = sqlite3_busy_handler(db, inbox_sqlite_busy, NULL);
    if (rc != SQLITE_OK) {
        return rc;
    }

    rc = sqlite3_create_function(db, "inbox_search_matches", 4,
                                 SQLITE_UTF8 | SQLITE_DETERMINISTIC
                                 | SQLITE_INNOCUOUS, NULL,
                                 inbox_sqlite_search_matches, NULL, NULL);
    if (rc != SQLITE_OK) {
        return rc;
    }

    /* migration 18's; no trigger calls it (a sqlite3 shell has none) */
    rc = sqlite3_create_function(db, "inbox_search_key", 1,
                                 SQLITE_UTF8 | SQLITE_DETERMINISTIC
                                 | SQLITE_INNOCUOUS, NULL,
                                 inbox_sqlite_search_key, NULL, NULL);
    if (rc != SQLITE_OK) {
        return rc;
    }

    rc = sqlite3_create_function(db, "inbox_takes_mms", 1,
                                 SQLITE_UTF8 | SQLITE_DETERMINISTIC
                                 | SQLITE_INNOCUOUS, NULL,
                                 inbox_sqlite_takes_mms, NULL, NULL);
    if (rc != SQLITE_OK) {
        return rc;
    }

    rc = sqlite3_exec(db, full_sync ? "PRAGMA synchronous = FULL;"
                                    : "PRAGMA synchronous = NORMAL;",
                      NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        return rc;
    }

    return sqlite3_exec(db, "PRAGMA temp_store = MEMORY;"
                            "PRAGMA wal_autocheckpoint = 8192;"
                            "PRAGMA foreign_keys = ON;", NULL, NULL, NULL);
}


/*
 * The file of a new store, readable and writable by its owner only: it
 * holds carriers' auth tokens.  SQLite gives the -wal and -shm files it
 * makes the database file's mode.  An existing file is left as it is.
 */
static inbox_status_t
inbox_sqlite_create_file(const char *path, inbox_error_t *err)
{
    int  fd;

    fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd == -1) {
        return inbox_error_set(err, INBOX_ERR_UNAVAILABLE,
                               "The database \"%s\" cannot be created: %s",
                               path, strerror(errno));
    }

    close(fd);

    return INBOX_OK;
}


/*
 * Brings the file to the current schema and reads the store's uid.  Each
 * step runs in its own BEGIN IMMEDIATE transaction and checks user_version
 * again once it holds the write lock, so two processes opening the store
 * at once run each step exactly once.  Without create, a missing file, an
 * empty one or one that cannot be written is refused: only the first
 * setup makes a store.
 */
static inbox_status_t
inbox_sqlite_migrate(const char *path, int create,
    char uid[INBOX_SQLITE_UID_MAX], inbox_error_t *err)
{
    int             rc, version, tries;
    char           *msg;
    char            why[INBOX_ERROR_MESSAGE_MAX];
    sqlite3        *db;
    struct stat     st;
    inbox_status_t  status;

    db = NULL;
    msg = NULL;

    if (create) {
        status = inbox_sqlite_create_file(path, err);
        if (status != INBOX_OK) {
            return status;
        }

    } else if (stat(path, &st) == -1 && errno == ENOENT) {
        return inbox_error_set(err, INBOX_ERR_UNAVAILABLE,
                               "The database \"%s\" does not exist, and a "
                               "server never makes a new store: put the "
                               "store's file back, or make a new store with "
                               "inboxctl (org create, seed-demo).", path);
    }

    rc = sqlite3_open_v2(path, &db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        goto failed;
    }

    if (sqlite3_db_readonly(db, "main") == 1) {
        sqlite3_close(db);
        return inbox_error_set(err, INBOX_ERR_UNAVAILABLE,
                               "The database \"%s\" is read-only: the "
                               "store cannot take writes; the file and its "
                               "directory must be readable and writable by "
                               "this process's user, %s.", path,
                               inbox_sqlite_user(why, sizeof(why)));
    }

    rc = inbox_sqlite_configure(db, 0);
    if (rc != SQLITE_OK) {
        goto failed;
    }

    /* a step may make a table again (SQLite's way to change a CHECK): it
     * drops the old one while others still refer to it, so keys are
     * checked once the step is done instead (see below) */
    rc = sqlite3_exec(db, "PRAGMA foreign_keys = OFF", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        goto failed;
    }

    rc = inbox_sqlite_user_version(db, &version);
    if (rc != SQLITE_OK) {
        goto failed;
    }

    if (version == 0 && !create) {
        sqlite3_close(db);
        return inbox_error_set(err, INBOX_ERR_UNAVAILABLE,
                               "The database \"%s\" is empty, not an inbox "
                               "store, and a server never makes a new store: "
                               "put the store's file back, or make a new "
                               "store with inboxctl (org create, seed-demo).",
                               path);
    }

    /* switching to WAL may report busy without waiting: retry a while */
    for (tries = 0; ; tries++) {
        rc = sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);

        if ((rc & 0xff) != SQLITE_BUSY || tries == 500) {
            break;
        }

        usleep(10000);
    }

    if (rc != SQLITE_OK) {
        goto failed;
    }

    for ( ;; ) {
        rc = inbox_sqlite_user_version(db, &version);
        if (rc != SQLITE_OK) {
            goto failed;
        }

        if (version > INBOX_SQLITE_VERSION) {
            sqlite3_close(db);
            return inbox_error_set(err, INBOX_ERR_INTERNAL,
                                   "The database \"%s\" has schema version "
                                   "%d, newer than this program's %d: "
                                   "upgrade the program.", path, version,
                                   INBOX_SQLITE_VERSION);
        }

        if (version == INBOX_SQLITE_VERSION) {
            break;
        }

        rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            goto failed;
        }

        rc = inbox_sqlite_user_version(db, &version);

        if (rc == SQLITE_OK && version < INBOX_SQLITE_VERSION) {
            rc = sqlite3_exec(db, inbox_sqlite_migrations[version], NULL,
                              NULL, &msg);

            if (rc == SQLITE_OK) {
                rc = inbox_sqlite_keys_check(db, &msg);
            }

            if (rc == SQLITE_OK) {
                char  pragma[64];

                snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d",
                         version + 1);
                rc = sqlite3_exec(db, pragma, NULL, NULL, NULL);
            }
        }

        if (rc == SQLITE_OK) {
            rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        }

        if (rc != SQLITE_OK) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            goto failed;
        }
    }

    rc = inbox_sqlite_uid(db, uid);
    if (rc != SQLITE_OK) {
        goto failed;
    }

    sqlite3_close(db);
    return INBOX_OK;

failed:

    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
        status = INBOX_ERR_UNAVAILABLE;
        break;
    default:
        status = INBOX_ERR_INTERNAL;
    }

    inbox_error_set(err, status, "The database \"%s\" cannot be opened: %s",
                    path,
                    msg ? msg : inbox_sqlite_open_failure(db, rc, why,
                                                          sizeof(why)));
    sqlite3_free(msg);
    sqlite3_close(db);

    return status;
}


/*
 * Why SQLite failed, as a message.  SQLite says only "unable to open
 * database file" or "attempt to write a readonly database" when the
 * system refused it a file: the system's reason is added, and, as that
 * is most often a user that may not write the file or make its -wal,
 * -shm and journal files beside it, which user this process is.
 */
static const char *
inbox_sqlite_open_failure(sqlite3 *db, int rc, char *buf, size_t size)
{
    int          sys_errno;
    char         user[INBOX_SQLITE_USER_MAX];
    const char  *message;

    message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);

    if ((rc & 0xff) != SQLITE_CANTOPEN && (rc & 0xff) != SQLITE_READONLY) {
        return message;
    }

    sys_errno = db ? sqlite3_system_errno(db) : 0;

    snprintf(buf, size, "%s%s%s%s; the file and its directory must be "
             "readable and writable by this process's user, %s", message,
             sys_errno ? " (" : "", sys_errno ? strerror(sys_errno) : "",
             sys_errno ? ")" : "", inbox_sqlite_user(user, sizeof(user)));

    return buf;
}


/* This process's user as "uid N (name)", or "uid N" without a name. */
static const char *
inbox_sqlite_user(char *buf, size_t size)
{
    char            names[1024];
    uid_t           uid;
    struct passwd   pw, *found;

    uid = geteuid();

    /* getpwuid_r: a pool thread of nginx may be opening another store */
    if (getpwuid_r(uid, &pw, names, sizeof(names), &found) != 0) {
        found = NULL;
    }

    snprintf(buf, size, "uid %lu%s%s%s", (unsigned long) uid,
             found ? " (" : "", found ? found->pw_name : "",
             found ? ")" : "");

    return buf;
}


/* After a step, as with foreign keys on: SQLITE_CONSTRAINT (and *msg)
 * when a row refers to one that is not there. */
static int
inbox_sqlite_keys_check(sqlite3 *db, char **msg)
{
    int            rc;
    sqlite3_stmt  *stmt;

    rc = sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &stmt, NULL);
    if (rc != SQLITE_OK) {
        return rc;
    }

    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        *msg = sqlite3_mprintf("a migration left a row of %s referring to "
                               "a row of %s that is not there",
                               sqlite3_column_text(stmt, 0),
                               sqlite3_column_text(stmt, 2));
        rc = SQLITE_CONSTRAINT;

    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    }

    sqlite3_finalize(stmt);

    return rc;
}


/* The store's identity, made by migration 4. */
static int
inbox_sqlite_uid(sqlite3 *db, char uid[INBOX_SQLITE_UID_MAX])
{
    int            rc;
    sqlite3_stmt  *stmt;

    rc = sqlite3_prepare_v2(db, "SELECT uid FROM store_info WHERE id = 1",
                            -1, &stmt, NULL);
    if (rc != SQLITE_OK) {
        return rc;
    }

    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        inbox_sqlite_column_copy(stmt, 0, uid, INBOX_SQLITE_UID_MAX);
        rc = SQLITE_OK;

    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_NOTFOUND;
    }

    sqlite3_finalize(stmt);
    return rc;
}


/* A database and its -wal and -shm, if there. */
static void
inbox_sqlite_remove(const char *path)
{
    char  side[PATH_MAX];

    (void) unlink(path);

    if (snprintf(side, sizeof(side), "%s-wal", path) < (int) sizeof(side)) {
        (void) unlink(side);
    }

    if (snprintf(side, sizeof(side), "%s-shm", path) < (int) sizeof(side)) {
        (void) unlink(side);
    }
}


/*
 * A backup made under an older schema is copied beside the store, brought
 * to this schema there by the steps any store takes when opened, and
 * restored from that copy: the live file never holds an older schema,
 * which the processes that have it open could not read.  On success *src
 * is the upgraded copy, read-only, and tmp its path (to remove).
 */
static inbox_status_t
inbox_sqlite_restore_upgraded(inbox_sqlite_store_t *s, sqlite3 **src,
    char *tmp, size_t size, inbox_error_t *err)
{
    int              rc;
    char             uid[INBOX_SQLITE_UID_MAX];
    sqlite3         *copy_db;
    sqlite3_backup  *copy;
    inbox_status_t   status;

    if (snprintf(tmp, size, "%s.restore-%ld", s->path, (long) getpid())
        >= (int) size)
    {
        tmp[0] = '\0';
        return inbox_error_set(err, INBOX_ERR_INVALID,
                               "The store's path is too long.");
    }

    inbox_sqlite_remove(tmp);

    status = inbox_sqlite_create_file(tmp, err);
    if (status != INBOX_OK) {
        return status;
    }

    copy_db = NULL;
    rc = sqlite3_open_v2(tmp, &copy_db, SQLITE_OPEN_READWRITE, NULL);

    if (rc == SQLITE_OK) {
        copy = sqlite3_backup_init(copy_db, "main", *src, "main");
        if (copy == NULL) {
            rc = sqlite3_errcode(copy_db);

        } else {
            (void) sqlite3_backup_step(copy, -1);
            rc = sqlite3_backup_finish(copy);
        }
    }

    sqlite3_close(copy_db);

    if (rc != SQLITE_OK) {
        return inbox_error_set(err, INBOX_ERR_UNAVAILABLE,
                               "The backup could not be copied beside the "
                               "store to upgrade it: %s", sqlite3_errstr(rc));
    }

    status = inbox_sqlite_migrate(tmp, 0, uid, err);
    if (status != INBOX_OK) {
        return status;
    }

    sqlite3_close(*src);
    *src = NULL;

    rc = sqlite3_open_v2(tmp, src, SQLITE_OPEN_READONLY, NULL);
    if (rc != SQLITE_OK) {
        return inbox_error_set(err, INBOX_ERR_UNAVAILABLE,
                               "The upgraded backup cannot be opened: %s",
                               sqlite3_errstr(rc));
    }

    return INBOX_OK;
}


/*
 * The backup is checked first (this store's, a schema this program
 * knows; an older one upgraded in a copy), then copied by SQLite's backup
 * API into a connection of our own on the live file: every page goes
 * through the write-ahead log like any commit, so the other connections
 * read the restored store at their next transaction.
 */
inbox_status_t
inbox_sqlite_restore(inbox_store_t *store, const char *backup,
    inbox_error_t *err)
{
    int                    rc, version, tries;
    char                   uid[INBOX_SQLITE_UID_MAX], tmp[PATH_MAX];
    sqlite3               *src;
    sqlite3_backup        *copy;
    inbox_status_t         status;
    inbox_sqlite_conn_t   *conn;
    inbox_sqlite_store_t  *s = (inbox_sqlite_store_t *) store;

    src = NULL;
    tmp[0] = '\0';

    rc = sqlite3_open_v2(backup, &src, SQLITE_OPEN_READONLY, NULL);

    if (rc != SQLITE_OK) {
        status = inbox_error_set(err, INBOX_ERR_INVALID,
                                 "The backup cannot be opened: %s",
                                 src ? sqlite3_errmsg(src)
                                     : sqlite3_errstr(rc));
        goto done;
    }

    if (inbox_sqlite_user_version(src, &version) != SQLITE_OK
        || inbox_sqlite_uid(src, uid) != SQLITE_OK)
    {
        status = inbox_error_set(err, INBOX_ERR_INVALID,
                                 "The backup is not an inbox store.");
        goto done;
    }

    if (strcmp(uid, s->uid) != 0) {
        status = inbox_error_set(err, INBOX_ERR_INVALID,
                                 "The backup is of another store; only "
                                 "this store's own backups come back "
                                 "here.");
        goto done;
    }

    if (version > INBOX_SQLITE_VERSION) {
        status = inbox_error_set(err, INBOX_ERR_INVALID,
                                 "The backup's schema is version %d, newer "
                                 "than this program's %d: restore it with "
                                 "the release that made it.", version,
                                 INBOX_SQLITE_VERSION);
        goto done;
    }

    if (version < INBOX_SQLITE_VERSION) {
        status = inbox_sqlite_restore_upgraded(s, &src, tmp, sizeof(tmp),
                                               err);
        if (status != INBOX_OK) {
            goto done;
        }
    }

    conn = inbox_sqlite_conn_open(s, err);
    if (conn == NULL) {
        status = err->code;
        goto done;
    }

    copy = sqlite3_backup_init(conn->db, "main", src, "main");

    if (copy == NULL) {
        status = inbox_error_set(err, INBOX_ERR_INTERNAL,
                                 "The backup cannot be copied: %s",
                                 sqlite3_errmsg(conn->db));
        inbox_sqlite_conn_drop(conn);
        goto done;
    }

    /* the live store's writers hold its lock a millisecond at a time */
    for (tries = 0; tries < INBOX_SQLITE_BUSY_TIMEOUT_MS / 10; tries++) {
        rc = sqlite3_backup_step(copy, -1);
        if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) {
            break;
        }

        usleep(10000);
    }

    (void) sqlite3_backup_finish(copy);
    inbox_sqlite_conn_drop(conn);

    if (rc != SQLITE_DONE) {
        status = inbox_error_set(err, INBOX_ERR_UNAVAILABLE,
                                 "The backup could not be written into "
                                 "the store (%s); try again.",
                                 sqlite3_errstr(rc));
        goto done;
    }

    /* its numbering went back: browsers and ws-server start anew */
    status = inbox_sqlite_events_new_epoch(store, NULL, err);

done:

    sqlite3_close(src);

    if (tmp[0] != '\0') {
        inbox_sqlite_remove(tmp);
    }

    return status;
}


/*
 * Whether the file a connection has open is no longer the one at its
 * path (deleted, renamed, replaced): SQLite's own check, one stat().
 * Writing on would store into a file no one will ever open again.
 */
static int
inbox_sqlite_moved(sqlite3 *db)
{
    int  moved;

    moved = 0;

    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_HAS_MOVED, &moved)
        != SQLITE_OK)
    {
        return 0;
    }

    return moved;
}


/* 1 when the file at the store's path is the one it was opened on, 0 when
 * it is another, -1 when there is none. */
static int
inbox_sqlite_at_path(inbox_sqlite_store_t *s)
{
    struct stat  st;

    if (stat(s->path, &st) == -1) {
        return -1;
    }

    return st.st_dev == s->dev && st.st_ino == s->ino;
}


static int
inbox_sqlite_user_version(sqlite3 *db, int *version)
{
    int            rc;
    sqlite3_stmt  *stmt;

    rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL);
    if (rc != SQLITE_OK) {
        return rc;
    }

    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        *version = sqlite3_column_int(stmt, 0);
        rc = SQLITE_OK;
    }

    sqlite3_finalize(stmt);
    return rc;
}


sqlite3_stmt *
inbox_sqlite_stmt(inbox_sqlite_conn_t *conn, inbox_sql_id_t id,
    const char *sql, inbox_error_t *err)
{
    int            rc;
    sqlite3_stmt  *stmt;

    stmt = conn->stmts[id];

    if (stmt != NULL) {
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
        return stmt;
    }

    rc = sqlite3_prepare_v3(conn->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
                            &stmt, NULL);
    if (rc != SQLITE_OK) {
        inbox_sqlite_fail(conn, rc, err);
        return NULL;
    }

    conn->stmts[id] = stmt;
    return stmt;
}


void
inbox_sqlite_done(sqlite3_stmt *stmt)
{
    if (stmt != NULL) {
        sqlite3_reset(stmt);
    }
}


int
inbox_sqlite_step_done(sqlite3_stmt *stmt)
{
    int  rc;

    rc = sqlite3_step(stmt);
    inbox_sqlite_done(stmt);

    return rc == SQLITE_DONE;
}


inbox_status_t
inbox_sqlite_update_read_row(inbox_sqlite_conn_t *conn, sqlite3_stmt *stmt,
    inbox_error_t *err)
{
    int  rc;

    rc = sqlite3_step(stmt);
    inbox_sqlite_done(stmt);

    if (rc == SQLITE_DONE && sqlite3_changes(conn->db) != 1) {
        rc = SQLITE_INTERNAL;    /* read in this transaction a moment ago */
    }

    if (rc != SQLITE_DONE) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    return INBOX_OK;
}


int
inbox_sqlite_run(inbox_sqlite_conn_t *conn, inbox_sql_id_t id,
    const char *sql)
{
    int            rc;
    sqlite3_stmt  *stmt;

    stmt = inbox_sqlite_stmt(conn, id, sql, NULL);
    if (stmt == NULL) {
        return sqlite3_errcode(conn->db);
    }

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        /* void */
    }

    sqlite3_reset(stmt);

    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}


inbox_status_t
inbox_sqlite_begin_read(inbox_sqlite_conn_t *conn, inbox_error_t *err)
{
    int  rc;

    rc = inbox_sqlite_run(conn, INBOX_SQL_BEGIN, "BEGIN");
    if (rc != SQLITE_OK) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    return INBOX_OK;
}


/*
 * Every write transaction of the process runs on one connection, whichever
 * thread runs it: the writers queue for it anyway, and SQLite empties a
 * connection's page cache whenever another connection wrote, so a writer
 * connection per pool thread would start every batch cold.  Threads of
 * one process queue on a mutex, processes on the writers' queue
 * (store_sqlite_writer.c), rather than on SQLite's busy handler, which
 * polls with sleeps.
 */
inbox_sqlite_conn_t *
inbox_sqlite_begin_write(inbox_store_t *store, inbox_error_t *err)
{
    int                    rc;
    int64_t                asked;
    inbox_sqlite_conn_t   *conn;
    inbox_sqlite_store_t  *s = (inbox_sqlite_store_t *) store;

    asked = inbox_sqlite_monotonic_ms();

    pthread_mutex_lock(&s->write_lock);

    conn = s->writer;

    if (conn != NULL && conn->pid == getpid() && inbox_sqlite_moved(conn->db))
    {
        /* its file was deleted or replaced: open the path again, and the
         * lock file beside it too */
        s->writer = NULL;
        inbox_sqlite_conn_drop(conn);
        conn = NULL;

        inbox_sqlite_writer_close(&s->queue);
    }

    if (conn == NULL || conn->pid != getpid()) {
        conn = inbox_sqlite_conn_open(s, err);
        if (conn == NULL) {
            pthread_mutex_unlock(&s->write_lock);
            return NULL;
        }

        s->writer = conn;
    }

    conn->writing = 1;

    /*
     * A writer waits one busy timeout in all, its time in the queues of
     * this process and of the others included: one that queued behind a
     * writer that waited out another process's lock, here or in another
     * worker, does not wait a timeout of its own after it, so that the
     * Nth writer in the queue does not wait N timeouts.  Within a timeout
     * of such a stall a writer only tries briefly: it may have waited a
     * timeout already, for a pool thread, before it asked.
     */
    conn->deadline = asked
                     + (s->busy_at != 0
                        && asked - s->busy_at < INBOX_SQLITE_BUSY_TIMEOUT_MS
                        ? INBOX_SQLITE_BUSY_STALLED_MS
                        : INBOX_SQLITE_BUSY_TIMEOUT_MS);

    if (s->busy_at > asked
        || inbox_sqlite_writer_lock(&s->queue, s->path, conn->deadline)
           != 0
        || inbox_sqlite_monotonic_ms() >= conn->deadline)
    {
        /* a stall seen from this process too (a writer of another
         * worker waited it out): those after try briefly */
        if (s->busy_at <= asked) {
            s->busy_at = inbox_sqlite_monotonic_ms();
        }

        inbox_error_set(err, INBOX_ERR_UNAVAILABLE,
                        "The database is busy; try again shortly.");
        inbox_sqlite_end(conn);
        return NULL;
    }

    rc = inbox_sqlite_run(conn, INBOX_SQL_BEGIN_IMMEDIATE, "BEGIN IMMEDIATE");
    conn->deadline = 0;

    if (rc != SQLITE_OK) {
        if ((rc & 0xff) == SQLITE_BUSY) {
            s->busy_at = inbox_sqlite_monotonic_ms();
        }

        (void) inbox_sqlite_fail(conn, rc, err);
        inbox_sqlite_end(conn);
        return NULL;
    }

    return conn;
}


inbox_status_t
inbox_sqlite_purge_begin(inbox_store_t *store, inbox_sql_id_t look_id,
    const char *look, int64_t before, inbox_sqlite_conn_t **conn,
    inbox_error_t *err)
{
    int                   rc;
    sqlite3_stmt         *stmt;
    inbox_sqlite_conn_t  *reader;

    *conn = NULL;

    reader = inbox_sqlite_conn(store, err);
    if (reader == NULL) {
        return err->code;
    }

    stmt = inbox_sqlite_stmt(reader, look_id, look, err);
    if (stmt == NULL) {
        return err->code;
    }

    sqlite3_bind_int64(stmt, 1, before);
    rc = sqlite3_step(stmt);
    inbox_sqlite_done(stmt);

    if (rc == SQLITE_DONE) {
        return INBOX_OK;
    }

    if (rc != SQLITE_ROW) {
        return inbox_sqlite_fail(reader, rc, err);
    }

    *conn = inbox_sqlite_begin_write(store, err);

    return *conn != NULL ? INBOX_OK : err->code;
}


static int64_t
inbox_sqlite_monotonic_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


static void
inbox_sqlite_end(inbox_sqlite_conn_t *conn)
{
    if (conn->writing) {
        conn->writing = 0;

        inbox_sqlite_writer_unlock(&conn->store->queue);

        pthread_mutex_unlock(&conn->store->write_lock);
    }
}


inbox_status_t
inbox_sqlite_commit(inbox_sqlite_conn_t *conn, inbox_error_t *err)
{
    int             rc;
    inbox_status_t  status;

    rc = inbox_sqlite_run(conn, INBOX_SQL_COMMIT, "COMMIT");

    if (rc == SQLITE_OK) {
        inbox_sqlite_end(conn);
        return INBOX_OK;
    }

    status = inbox_sqlite_fail(conn, rc, err);
    inbox_sqlite_rollback(conn);

    return status;
}


void
inbox_sqlite_rollback(inbox_sqlite_conn_t *conn)
{
    if (!sqlite3_get_autocommit(conn->db)) {
        inbox_sqlite_run(conn, INBOX_SQL_ROLLBACK, "ROLLBACK");
    }

    inbox_sqlite_end(conn);
}


inbox_status_t
inbox_sqlite_fail(inbox_sqlite_conn_t *conn, int rc, inbox_error_t *err)
{
    switch (rc & 0xff) {

    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return inbox_error_set(err, INBOX_ERR_UNAVAILABLE,
                               "The database is busy; try again shortly.");

    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_PROTOCOL:
        return inbox_error_set(err, INBOX_ERR_UNAVAILABLE,
                               "The database cannot be written or read: %s",
                               sqlite3_errmsg(conn->db));

    case SQLITE_NOMEM:
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");

    default:
        return inbox_error_set(err, INBOX_ERR_INTERNAL,
                               "The database failed: %s",
                               sqlite3_errmsg(conn->db));
    }
}


/*
 * A write of its own, as a batch would make it: begin_write notices a
 * file deleted or replaced, the UPDATE a read-only one, the COMMIT a disk
 * that takes nothing more; the free space is checked first, since a full
 * disk may still take this one small page.  One row, one page of the log.
 */
inbox_status_t
inbox_sqlite_ping(inbox_store_t *store, inbox_error_t *err)
{
    int                    rc;
    char                   uid[INBOX_SQLITE_UID_MAX];
    sqlite3_stmt          *stmt;
    inbox_status_t         status;
    inbox_sqlite_conn_t   *conn;
    inbox_sqlite_store_t  *s = (inbox_sqlite_store_t *) store;

    status = inbox_sqlite_free_space(s, err);
    if (status != INBOX_OK) {
        return status;
    }

    conn = inbox_sqlite_begin_write(store, err);
    if (conn == NULL) {
        return INBOX_ERR_UNAVAILABLE;
    }

    stmt = inbox_sqlite_stmt(conn, INBOX_SQL_PING,
        "UPDATE store_info SET checked_at = ?1 WHERE id = 1 RETURNING uid",
        err);
    if (stmt == NULL) {
        inbox_sqlite_rollback(conn);
        return INBOX_ERR_UNAVAILABLE;
    }

    sqlite3_bind_int64(stmt, 1, inbox_now_ms());
    uid[0] = '\0';

    rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        inbox_sqlite_column_copy(stmt, 0, uid, sizeof(uid));
        rc = sqlite3_step(stmt);
    }

    inbox_sqlite_done(stmt);

    if (rc != SQLITE_DONE) {
        inbox_sqlite_fail(conn, rc, err);
        inbox_sqlite_rollback(conn);
        return INBOX_ERR_UNAVAILABLE;
    }

    if (strcmp(uid, s->uid) != 0) {
        /* overwritten in place, under the open connection */
        inbox_sqlite_rollback(conn);
        return inbox_error_set(err, INBOX_ERR_UNAVAILABLE,
                               "The store's database file was replaced by "
                               "another one.");
    }

    if (inbox_sqlite_commit(conn, err) != INBOX_OK) {
        return INBOX_ERR_UNAVAILABLE;
    }

    return INBOX_OK;
}


static inbox_status_t
inbox_sqlite_free_space(inbox_sqlite_store_t *s, inbox_error_t *err)
{
    uint64_t        room;
    struct statvfs  fs;

    if (statvfs(s->path, &fs) == -1) {
        return INBOX_OK;    /* a missing file: the write tells what is up */
    }

    /* what an unprivileged writer may still use */
    room = (uint64_t) fs.f_bavail * fs.f_frsize;

    if (room < INBOX_SQLITE_MIN_FREE) {
        return inbox_error_set(err, INBOX_ERR_UNAVAILABLE,
                               "The disk that holds the store is full (%llu "
                               "KB free): free some space.",
                               (unsigned long long) room / 1024);
    }

    return INBOX_OK;
}


/* The most noted contacts one write transaction indexes: an import of
 * 100,000 leaves the writer to webhooks between batches. */
#define INBOX_SQLITE_SEARCH_BATCH  2000
#define INBOX_SQLITE_STR(x)        INBOX_SQLITE_STR_(x)
#define INBOX_SQLITE_STR_(x)       #x

/* The batch: the lowest noted ids, the same in both statements of one
 * transaction. */
#define INBOX_SQLITE_SEARCH_NOTED                                             \
    "(SELECT contact_id FROM contacts_search_pending ORDER BY contact_id"     \
    " LIMIT " INBOX_SQLITE_STR(INBOX_SQLITE_SEARCH_BATCH) ")"


/*
 * Moves the contacts noted since the last time (contacts_search_pending)
 * into the search index, off the ingest path: a statement, and a new FTS5
 * segment, per batch of INBOX_SQLITE_SEARCH_BATCH, each its own write
 * transaction.  The note is read first on the reader connection so that
 * a store with nothing pending does not queue for the writer.
 */
static inbox_status_t
inbox_sqlite_search_index(inbox_store_t *store, inbox_sqlite_conn_t *reader,
    inbox_error_t *err)
{
    int                   rc, pending;
    sqlite3_stmt         *stmt;
    inbox_status_t        status;
    inbox_sqlite_conn_t  *conn;

    stmt = inbox_sqlite_stmt(reader, INBOX_SQL_SEARCH_PENDING,
        "SELECT EXISTS (SELECT 1 FROM contacts_search_pending)", err);
    if (stmt == NULL) {
        return err->code;
    }

    rc = sqlite3_step(stmt);
    pending = rc == SQLITE_ROW && sqlite3_column_int(stmt, 0);
    inbox_sqlite_done(stmt);

    if (rc != SQLITE_ROW) {
        return inbox_sqlite_fail(reader, rc, err);
    }

    while (pending) {
        conn = inbox_sqlite_begin_write(store, err);
        if (conn == NULL) {
            return err->code;
        }

        rc = inbox_sqlite_run(conn, INBOX_SQL_SEARCH_INDEX,
            "INSERT INTO contacts_search (rowid, name, digits)"
            " SELECT c.id, " INBOX_SQLITE_SEARCH_KEYS("c")
            " FROM " INBOX_SQLITE_SEARCH_NOTED " p"
            " JOIN contacts c ON c.id = p.contact_id");

        if (rc == SQLITE_OK) {
            rc = inbox_sqlite_run(conn, INBOX_SQL_SEARCH_INDEXED,
                "DELETE FROM contacts_search_pending WHERE contact_id IN "
                INBOX_SQLITE_SEARCH_NOTED);
        }

        if (rc != SQLITE_OK) {
            status = inbox_sqlite_fail(conn, rc, err);
            inbox_sqlite_rollback(conn);
            return status;
        }

        /* a full batch may have left more */
        pending = sqlite3_changes(conn->db) == INBOX_SQLITE_SEARCH_BATCH;

        status = inbox_sqlite_commit(conn, err);
        if (status != INBOX_OK) {
            return status;
        }
    }

    return INBOX_OK;
}


inbox_status_t
inbox_sqlite_maintain(inbox_store_t *store, inbox_error_t *err)
{
    int                   rc;
    inbox_status_t        status;
    inbox_sqlite_conn_t  *conn;

    conn = inbox_sqlite_conn(store, err);
    if (conn == NULL) {
        return err->code;
    }

    status = inbox_sqlite_search_index(store, conn, err);
    if (status != INBOX_OK) {
        return status;
    }

    /* SQLITE_BUSY: another checkpoint runs; it does the work */
    rc = sqlite3_wal_checkpoint_v2(conn->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                   NULL, NULL);

    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        return inbox_sqlite_fail(conn, rc, err);
    }

    return INBOX_OK;
}


void
inbox_sqlite_format_id(int64_t id, char out[INBOX_ID_MAX])
{
    snprintf(out, INBOX_ID_MAX, "%" PRId64, id);
}


int
inbox_sqlite_parse_id(const char *s, int64_t *id)
{
    char       *end;
    long long   v;

    if (s == NULL || *s < '1' || *s > '9') {
        return -1;
    }

    errno = 0;
    v = strtoll(s, &end, 10);

    if (errno != 0 || *end != '\0') {
        return -1;
    }

    *id = v;
    return 0;
}


int
inbox_sqlite_bind_text(sqlite3_stmt *stmt, int i, const char *s)
{
    if (s == NULL) {
        return sqlite3_bind_null(stmt, i);
    }

    return sqlite3_bind_text(stmt, i, s, -1, SQLITE_STATIC);
}


void
inbox_sqlite_column_copy(sqlite3_stmt *stmt, int i, char *out, size_t size)
{
    size_t                len;
    const unsigned char  *text;

    text = sqlite3_column_text(stmt, i);
    len = text ? (size_t) sqlite3_column_bytes(stmt, i) : 0;

    if (len >= size) {
        len = size - 1;
    }

    if (len) {
        memcpy(out, text, len);
    }

    out[len] = '\0';
}


void
inbox_sqlite_number_columns(sqlite3_stmt *stmt, int col,
    inbox_number_t *number, int *oom)
{
    const char  *carrier;

    inbox_sqlite_column_copy(stmt, col, number->e164, sizeof(number->e164));
    carrier = (const char *) sqlite3_column_text(stmt, col + 1);
    inbox_carrier_parse(carrier ? carrier : "", &number->carrier);
    number->account_sid = inbox_sqlite_column_strdup(stmt, col + 2, oom);
    number->auth_token = inbox_sqlite_column_strdup(stmt, col + 3, oom);
    number->public_key = inbox_sqlite_column_strdup(stmt, col + 4, oom);
    number->api_key = inbox_sqlite_column_strdup(stmt, col + 5, oom);
    number->api_base = inbox_sqlite_column_strdup(stmt, col + 6, oom);
}


char *
inbox_sqlite_column_strdup(sqlite3_stmt *stmt, int i, int *oom)
{
    char                 *copy;
    size_t                len;
    const unsigned char  *text;

    if (sqlite3_column_type(stmt, i) == SQLITE_NULL) {
        return NULL;
    }

    text = sqlite3_column_text(stmt, i);
    len = (size_t) sqlite3_column_bytes(stmt, i);

    copy = malloc(len + 1);
    if (copy == NULL || text == NULL) {
        free(copy);
        *oom = 1;
        return NULL;
    }

    memcpy(copy, text, len);
    copy[len] = '\0';

    return copy;
}


void
inbox_sqlite_cursor_encode(int64_t at, int64_t id,
    char out[INBOX_CURSOR_MAX])
{
    int   len;
    char  raw[48];

    len = snprintf(raw, sizeof(raw), "%" PRId64 ":%" PRId64, at, id);
    inbox_base64url_encode((const unsigned char *) raw, (size_t) len, out);
}


int
inbox_sqlite_cursor_decode(const char *cursor, int64_t *at, int64_t *id)
{
    long   len;
    char  *colon, *end;
    char   raw[48];

    len = inbox_base64url_decode(cursor, strlen(cursor),
                                 (unsigned char *) raw, sizeof(raw) - 1);
    if (len <= 0) {
        return -1;
    }

    raw[len] = '\0';

    colon = strchr(raw, ':');
    if (colon == NULL) {
        return -1;
    }

    *colon = '\0';

    errno = 0;
    *at = strtoll(raw, &end, 10);
    if (errno != 0 || end == raw || *end != '\0') {
        return -1;
    }

    *id = strtoll(colon + 1, &end, 10);
    if (errno != 0 || end == colon + 1 || *end != '\0') {
        return -1;
    }

    return 0;
}


/*
 * A UNIQUE constraint failure is the caller's mistake, a conflict ("what"
 * names the taken value: "the phone number"), a foreign key one an
 * organization that does not exist.  Any other (a CHECK, a NOT NULL, a
 * trigger's) is ours: every value a client gives is checked before it
 * gets here, so the client has nothing to correct, and SQLite's words (a
 * table and its column) are for the server's log.
 */
inbox_status_t
inbox_sqlite_write_fail(inbox_sqlite_conn_t *conn, int rc, const char *what,
    const char *org_id, inbox_error_t *err)
{
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        /* what is a phrase ("the phone number") that begins it */
        return inbox_error_set(err, INBOX_ERR_CONFLICT,
                               "%c%s is taken already.",
                               toupper((unsigned char) what[0]), what + 1);
    }

    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
        return org_id != NULL ? inbox_error_org_unknown(err, org_id)
                              : inbox_error_not_found(err, "organization");
    }

    if ((rc & 0xff) == SQLITE_CONSTRAINT) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL,
                               "The store refused %s: %s", what,
                               sqlite3_errmsg(conn->db));
    }

    return inbox_sqlite_fail(conn, rc, err);
}


inbox_status_t
inbox_sqlite_org_id(const char *org_id, int64_t *id, inbox_error_t *err)
{
    if (inbox_sqlite_parse_id(org_id, id) != 0) {
        return inbox_error_org_unknown(err, org_id);
    }

    return INBOX_OK;
}
