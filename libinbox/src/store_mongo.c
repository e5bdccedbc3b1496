/*
 * The MongoDB backend: opening, the client pool, running one command and
 * judging its reply, and the indexes.  See store_mongo.h.
 */
#include <string.h>
#include <unistd.h>
#include <inbox/clock.h>
#include <inbox/search.h>
#include "store_mongo.h"


#define INBOX_MONGO_SELECTION_TIMEOUT_MS  5000
#define INBOX_MONGO_SOCKET_TIMEOUT_MS     5000
#define INBOX_MONGO_DUPLICATE_KEY         11000


static void inbox_mongo_init_driver(void);
static void inbox_mongo_log(mongoc_log_level_t level, const char *domain,
    const char *message, void *data);
static inbox_mongo_store_t *inbox_mongo_store_new(const char *uri,
    inbox_error_t *err);
static inbox_status_t inbox_mongo_health_record(inbox_mongo_store_t *ms,
    inbox_error_t *err);
static void inbox_mongo_close(inbox_store_t *store);
static mongoc_client_t *inbox_mongo_client_pop(inbox_mongo_store_t *ms,
    mongoc_client_pool_t **pool, inbox_error_t *err);
static inbox_status_t inbox_mongo_follow(inbox_mongo_store_t *ms,
    const bson_t *command, bson_t *batch, inbox_error_t *err);
static int inbox_mongo_batch_add(const bson_t *reply, const char *field,
    bson_t *batch, uint32_t *n, int64_t *id);
static int inbox_mongo_is_read(const bson_t *command);
static int inbox_mongo_last_stage_is(bson_iter_t *pipeline,
    const char *name);
static inbox_status_t inbox_mongo_check_reply(const bson_t *command,
    bool sent, const bson_t *reply, const bson_error_t *error,
    inbox_error_t *err);
static inbox_status_t inbox_mongo_server_error(const char *op, int64_t code,
    const char *message, const bson_t *reply, inbox_error_t *err);
static void inbox_mongo_default_id(void *ctx, bson_oid_t *oid);
static int64_t inbox_mongo_default_clock(void *ctx);


static pthread_once_t  inbox_mongo_once = PTHREAD_ONCE_INIT;


#define INBOX_MONGO_OP(kind, name, params, args)  .name = inbox_mongo_##name,

static const inbox_store_ops_t  inbox_mongo_ops = {
    .name = "mongodb",
    .close = inbox_mongo_close,
    INBOX_STORE_OPERATIONS(INBOX_MONGO_OP)
};

#undef INBOX_MONGO_OP


/*
 * The indexes every query relies on.  Names are given so that sending them
 * again is a no-op.  conversations and messages are read newest first
 * with keyset cursors, hence the descending (time, _id) suffixes.  The
 * contacts list is read newest first by organization or by tag, and the
 * conversations list by activity, on indexes that hold the name's
 * search_name and the number too, so that a search filters index keys
 * (they replace org_created, org_tag_keys, org_created_contact,
 * org_tag_created_contact and org_archived_activity_contact, which a
 * store made before keeps unused).
 */
static const char  *inbox_mongo_indexes[] = {
    "{\"createIndexes\": \"orgs\", \"indexes\": ["
        "{\"key\": {\"name\": 1}, \"name\": \"name\"}]}",
    /* numbers: by their own number; an organization's in the order they
     * were added, its first one (sort _id, limit 1) without a sort, the
     * carrier's first too (the few numbers of the organization) */
    "{\"createIndexes\": \"numbers\", \"indexes\": ["
        "{\"key\": {\"e164\": 1}, \"name\": \"e164_unique\","
        " \"unique\": true},"
        "{\"key\": {\"org_id\": 1, \"_id\": 1}, \"name\": \"org_id\"}]}",
    /* users: by email; an organization's team in the order it was
     * made (the list, the check for another billing contact) */
    "{\"createIndexes\": \"users\", \"indexes\": ["
        "{\"key\": {\"email\": 1}, \"name\": \"email_unique\","
        " \"unique\": true},"
        "{\"key\": {\"org_id\": 1, \"_id\": 1}, \"name\": \"org_id\"}]}",
    "{\"createIndexes\": \"tokens\", \"indexes\": ["
        "{\"key\": {\"token_hash\": 1}, \"name\": \"token_hash_unique\","
        " \"unique\": true},"
        "{\"key\": {\"org_id\": 1, \"_id\": 1}, \"name\": \"org_id\"},"
        "{\"key\": {\"user_id\": 1}, \"name\": \"user_id\","
        " \"partialFilterExpression\":"
        " {\"user_id\": {\"$type\": \"objectId\"}}}]}",
    "{\"createIndexes\": \"contacts\", \"indexes\": ["
        "{\"key\": {\"org_id\": 1, \"phone\": 1},"
        " \"name\": \"org_phone_unique\", \"unique\": true},"
        "{\"key\": {\"org_id\": 1, \"created_at\": -1, \"_id\": -1,"
        " \"search_name\": 1, \"phone\": 1},"
        " \"name\": \"org_created_search\"},"
        "{\"key\": {\"org_id\": 1, \"tag_keys\": 1, \"created_at\": -1,"
        " \"_id\": -1, \"search_name\": 1, \"phone\": 1},"
        " \"name\": \"org_tag_created_search\"},"
        /* the opted-out contacts alone, by tag: an audience's suppressed
         * ones counted without reading the others (opted_out a key too,
         * so that the query's opted_out: true is met in the index, not
         * by fetching each contact) */
        "{\"key\": {\"org_id\": 1, \"opted_out\": 1, \"tag_keys\": 1},"
        " \"name\": \"org_opted_out_tags\","
        " \"partialFilterExpression\": {\"opted_out\": true}}]}",
    "{\"createIndexes\": \"conversations\", \"indexes\": ["
        "{\"key\": {\"org_id\": 1, \"archived\": 1,"
        " \"last_activity_at\": -1, \"_id\": -1,"
        " \"contact.search_name\": 1, \"contact.phone\": 1},"
        " \"name\": \"org_archived_activity_search\"}]}",
    /* the unread, unresponded and starred threads each alone (the
     * filter's own conditions, as inbox_mongo_append_filter writes them),
     * for a list of them that passes no other thread; the unread one
     * holds what the unread total sums too.  The unresponded threads'
     * are those awaiting a response (unresponded_at, a time while it
     * waits, null otherwise: only a time is after the epoch's);
     * org_unresponded_activity_search, on the last message's direction,
     * stays unused in a store made before */
    "{\"createIndexes\": \"conversations\", \"indexes\": ["
        "{\"key\": {\"org_id\": 1, \"last_activity_at\": -1,"
        " \"_id\": -1, \"contact.search_name\": 1,"
        " \"contact.phone\": 1},"
        " \"name\": \"org_awaiting_activity_search\","
        " \"partialFilterExpression\": {\"archived\": false,"
        " \"unresponded_at\": {\"$gt\": {\"$date\":"
        " {\"$numberLong\": \"0\"}}}}},"
        "{\"key\": {\"org_id\": 1, \"last_activity_at\": -1,"
        " \"_id\": -1, \"contact.search_name\": 1,"
        " \"contact.phone\": 1, \"unread_count\": 1},"
        " \"name\": \"org_unread_activity_search\","
        " \"partialFilterExpression\": {\"archived\": false,"
        " \"unread_count\": {\"$gt\": 0}}},"
        "{\"key\": {\"org_id\": 1, \"last_activity_at\": -1,"
        " \"_id\": -1, \"contact.search_name\": 1,"
        " \"contact.phone\": 1},"
        " \"name\": \"org_starred_activity_search\","
        " \"partialFilterExpression\": {\"archived\": false,"
        " \"starred\": true}}]}",
    "{\"createIndexes\": \"messages\", \"indexes\": ["
        "{\"key\": {\"org_id\": 1, \"provider\": 1, \"provider_id\": 1},"
        " \"name\": \"org_provider_id_unique\", \"unique\": true},"
        "{\"key\": {\"conversation_id\": 1, \"created_at\": -1,"
        " \"_id\": -1}, \"name\": \"conversation_created\"}]}",
    /* a contact's opt-out and opt-in events, newest first */
    "{\"createIndexes\": \"contact_events\", \"indexes\": ["
        "{\"key\": {\"contact_id\": 1, \"at\": -1, \"_id\": -1},"
        " \"name\": \"contact_at\"}]}",
    "{\"createIndexes\": \"events\", \"indexes\": ["
        "{\"key\": {\"org_id\": 1, \"seq\": 1},"
        " \"name\": \"org_seq_unique\", \"unique\": true}]}",
    /* an inbound message's message.created, which the retry of an ingest
     * that failed looks for (store_mongo_ingest.c): only those events,
     * so the index stays a fraction of the stream */
    "{\"createIndexes\": \"events\", \"indexes\": ["
        "{\"key\": {\"org_id\": 1, \"message_id\": 1},"
        " \"name\": \"org_message_created\","
        " \"partialFilterExpression\":"
        " {\"type\": \"message.created\"}}]}",
    /* sessions: found by hash, ended by user, purged by expiry (the TTL
     * index lets the server remove them too) */
    "{\"createIndexes\": \"sessions\", \"indexes\": ["
        "{\"key\": {\"session_hash\": 1},"
        " \"name\": \"session_hash_unique\", \"unique\": true},"
        "{\"key\": {\"user_id\": 1}, \"name\": \"user_id\"},"
        "{\"key\": {\"expires_at\": 1}, \"name\": \"expires_at_ttl\","
        " \"expireAfterSeconds\": 0}]}",
    /* media: uploads by their file, the unattached ones by age (the
     * purge's), those a purge marked (which the next finishes); messages
     * with a copy to make; the messages and the campaigns that name a
     * file, which the purge looks for before it removes an upload */
    "{\"createIndexes\": \"media\", \"indexes\": ["
        "{\"key\": {\"file\": 1}, \"name\": \"file_unique\","
        " \"unique\": true},"
        "{\"key\": {\"created_at\": 1}, \"name\": \"unattached_created\","
        " \"partialFilterExpression\": {\"attached\": false}},"
        "{\"key\": {\"purging_at\": 1}, \"name\": \"purging\","
        " \"partialFilterExpression\": {\"purging_at\": {\"$exists\":"
        " true}}}]}",
    "{\"createIndexes\": \"messages\", \"indexes\": ["
        "{\"key\": {\"media.fetch_at\": 1}, \"name\": \"media_due\","
        " \"partialFilterExpression\": {\"media.state\": \"pending\"}},"
        "{\"key\": {\"media.file\": 1}, \"name\": \"media_file\","
        " \"partialFilterExpression\": {\"media.file\": {\"$exists\":"
        " true}}}]}",
    "{\"createIndexes\": \"campaigns\", \"indexes\": ["
        "{\"key\": {\"media.file\": 1}, \"name\": \"media_file\"}]}",
    /* replies: the sender's due entries in claim order, Idempotency-Keys
     * per organization, the ledger newest first, the holds waiting for
     * their expiry */
    "{\"createIndexes\": \"outbox\", \"indexes\": ["
        "{\"key\": {\"priority\": 1, \"due_at\": 1, \"_id\": 1},"
        " \"name\": \"priority_due\"}]}",
    /* a campaign's entries still in the outbox: whether it is done, and
     * those a pause parked or a retry put off, which a resume or cancel
     * makes due (each filter names campaign_id and priority, and due_at
     * when it looks for parked or put-off ones) */
    "{\"createIndexes\": \"outbox\", \"indexes\": ["
        "{\"key\": {\"campaign_id\": 1, \"priority\": 1,"
        " \"due_at\": 1}, \"name\": \"campaign_priority_due\"}]}",
    /* carriers' early status reports, by carrier id and by age */
    "{\"createIndexes\": \"early_reports\", \"indexes\": ["
        "{\"key\": {\"org_id\": 1, \"provider\": 1, \"provider_id\": 1},"
        " \"name\": \"by_provider_id\"},"
        "{\"key\": {\"received_at\": 1}, \"name\": \"by_age\"}]}",
    "{\"createIndexes\": \"reply_keys\", \"indexes\": ["
        "{\"key\": {\"org_id\": 1, \"key\": 1},"
        " \"name\": \"org_key_unique\", \"unique\": true},"
        "{\"key\": {\"created_at\": 1}, \"name\": \"created_at\"}]}",
    "{\"createIndexes\": \"ledger\", \"indexes\": ["
        "{\"key\": {\"org_id\": 1, \"created_at\": -1, \"_id\": -1},"
        " \"name\": \"org_created\"}]}",
    /* a settlement of a message's later hold (held again after its
     * campaign's pause gave the first back): one entry each, as the
     * first's is one under the message's id (store_mongo_settle.c) */
    "{\"createIndexes\": \"ledger\", \"indexes\": ["
        "{\"key\": {\"message_id\": 1, \"hold\": 1},"
        " \"name\": \"message_hold_unique\", \"unique\": true,"
        " \"partialFilterExpression\": {\"hold\": {\"$exists\":"
        " true}}}]}",
    "{\"createIndexes\": \"messages\", \"indexes\": ["
        "{\"key\": {\"held\": 1, \"submitted_at\": 1},"
        " \"name\": \"held_submitted\","
        " \"partialFilterExpression\": {\"held\": true}}]}",
    /* settlements an interruption left, oldest first: the recovery's
     * (store_mongo_settle.c); only those under way are in it */
    "{\"createIndexes\": \"messages\", \"indexes\": ["
        "{\"key\": {\"settling_since\": 1},"
        " \"name\": \"settling_since\","
        " \"partialFilterExpression\": {\"settling\": {\"$exists\":"
        " true}}}]}",
    /* status checks (status_check.h): the messages a carrier took that
     * have no final status, by their next ask (absent while never
     * asked), then by when the carrier took them */
    "{\"createIndexes\": \"messages\", \"indexes\": ["
        "{\"key\": {\"status\": 1, \"status_check_at\": 1,"
        " \"submitted_at\": 1}, \"name\": \"status_check_submitted\","
        " \"partialFilterExpression\": {\"submitted_at\": {\"$gt\":"
        " {\"$date\": {\"$numberLong\": \"0\"}}}}}]}",
    /* campaigns and polls: an organization's newest first, the sending
     * ones in the order they started, those that ended or were answered
     * lately (the sender's progress); a campaign's recipients once per
     * contact (what send's $merge matches on), its due ones by time and
     * its counts by state, a contact's campaign messages and its poll
     * answers newest first, a message's recipient, a poll's answers
     * newest first */
    "{\"createIndexes\": \"campaigns\", \"indexes\": ["
        "{\"key\": {\"org_id\": 1, \"kind\": 1, \"created_at\": -1,"
        " \"_id\": -1}, \"name\": \"org_kind_created\"},"
        "{\"key\": {\"status\": 1, \"started_at\": 1, \"_id\": 1},"
        " \"name\": \"status_started\"},"
        "{\"key\": {\"finished_at\": 1}, \"name\": \"finished\"},"
        "{\"key\": {\"answered_at\": 1}, \"name\": \"answered\"},"
        "{\"key\": {\"replied_at\": 1}, \"name\": \"replied\"}]}",
    "{\"createIndexes\": \"campaign_recipients\", \"indexes\": ["
        "{\"key\": {\"campaign_id\": 1, \"contact_id\": 1},"
        " \"name\": \"campaign_contact_unique\", \"unique\": true},"
        "{\"key\": {\"campaign_id\": 1, \"state\": 1, \"due_at\": 1,"
        " \"_id\": 1}, \"name\": \"campaign_state_due\"},"
        "{\"key\": {\"contact_id\": 1, \"sent_at\": -1, \"_id\": -1},"
        " \"name\": \"contact_sent\"},"
        "{\"key\": {\"contact_id\": 1, \"answered_at\": -1, \"_id\": -1},"
        " \"name\": \"contact_answered\"},"
        "{\"key\": {\"message_id\": 1}, \"name\": \"message\"},"
        "{\"key\": {\"campaign_id\": 1, \"answered_at\": -1,"
        " \"_id\": -1}, \"name\": \"campaign_answered\"}]}"
};


/*
 * MongoDB makes a database on its first write, so "open" cannot refuse a
 * missing one here; the health record stands for the store instead: only
 * create makes it, and ping reports a database without it (dropped).
 */
inbox_store_t *
inbox_store_mongo_open(const char *uri, int create, inbox_error_t *err)
{
    inbox_mongo_store_t  *ms;

    /* No connection here: the pool is made by the first command, after
     * nginx has forked its workers. */
    ms = inbox_mongo_store_new(uri, err);
    if (ms == NULL) {
        return NULL;
    }

    ms->create = create;

    return &ms->base;
}


inbox_store_t *
inbox_store_mongo_open_with_transport(const char *uri,
    inbox_mongo_transport_fn fn, void *ctx, inbox_error_t *err)
{
    inbox_mongo_store_t  *ms;

    ms = inbox_mongo_store_new(uri, err);
    if (ms == NULL) {
        return NULL;
    }

    ms->transport = fn;
    ms->transport_ctx = ctx;

    return &ms->base;
}


void
inbox_mongo_set_test_hooks(inbox_store_t *store, inbox_mongo_id_fn id,
    inbox_mongo_clock_fn clock, void *ctx)
{
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    ms->make_id = id ? id : inbox_mongo_default_id;
    ms->clock = clock ? clock : inbox_mongo_default_clock;
    ms->hooks_ctx = ctx;
}


static void
inbox_mongo_init_driver(void)
{
    /* Once per process, never undone: mongoc_cleanup() would pull the
     * driver from under other threads. */
    mongoc_init();
    mongoc_log_set_handler(inbox_mongo_log, NULL);
}


static void
inbox_mongo_log(mongoc_log_level_t level, const char *domain,
    const char *message, void *data)
{
    /* Failures reach callers as inbox errors; the driver's chatter about
     * monitoring would only fill the error log. */
    if (level <= MONGOC_LOG_LEVEL_WARNING) {
        mongoc_log_default_handler(level, domain, message, data);
    }
}


static inbox_mongo_store_t *
inbox_mongo_store_new(const char *uri, inbox_error_t *err)
{
    const char           *db;
    bson_error_t          error;
    inbox_mongo_store_t  *ms;

    pthread_once(&inbox_mongo_once, inbox_mongo_init_driver);

    ms = calloc(1, sizeof(inbox_mongo_store_t));
    if (ms == NULL) {
        inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
        return NULL;
    }

    ms->uri = mongoc_uri_new_with_error(uri, &error);
    if (ms->uri == NULL) {
        free(ms);
        inbox_error_set(err, INBOX_ERR_INVALID,
                        "The MongoDB URI is not valid: %s", error.message);
        return NULL;
    }

    /* The driver waits 30 s for a server by default; a webhook should
     * rather get its 503 and let the carrier retry. */
    if (!mongoc_uri_has_option(ms->uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS)) {
        mongoc_uri_set_option_as_int32(ms->uri,
                                       MONGOC_URI_SERVERSELECTIONTIMEOUTMS,
                                       INBOX_MONGO_SELECTION_TIMEOUT_MS);
    }

    /* And 5 minutes for an answer: a server gone silent (a partition,
     * no reset) would hold a pool thread past any carrier's patience. */
    if (!mongoc_uri_has_option(ms->uri, MONGOC_URI_SOCKETTIMEOUTMS)) {
        mongoc_uri_set_option_as_int32(ms->uri, MONGOC_URI_SOCKETTIMEOUTMS,
                                       INBOX_MONGO_SOCKET_TIMEOUT_MS);
    }

    if (!mongoc_uri_has_option(ms->uri, MONGOC_URI_APPNAME)) {
        mongoc_uri_set_appname(ms->uri, "inbox");
    }

    db = mongoc_uri_get_database(ms->uri);
    snprintf(ms->db, sizeof(ms->db), "%s", db && db[0] ? db : "inbox");

    pthread_mutex_init(&ms->lock, NULL);
    ms->base.ops = &inbox_mongo_ops;
    ms->make_id = inbox_mongo_default_id;
    ms->clock = inbox_mongo_default_clock;

    return ms;
}


static void
inbox_mongo_close(inbox_store_t *store)
{
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    if (ms == NULL) {
        return;
    }

    /* A pool inherited through fork() shares its sockets with the parent:
     * destroying it here would end the parent's sessions. */
    if (ms->pool != NULL && ms->pool_pid == getpid()) {
        mongoc_client_pool_destroy(ms->pool);
    }

    mongoc_uri_destroy(ms->uri);
    pthread_mutex_destroy(&ms->lock);
    free(ms);
}


/*
 * The server answers (ping), then takes a write of the store's own: a
 * server without a primary, out of disk or refusing this user's writes
 * fails it, and a dropped database has no record to update.
 */
/* A MongoDB store comes back with MongoDB's own tools. */
inbox_status_t
inbox_mongo_restore(inbox_store_t *store, const char *backup,
    inbox_error_t *err)
{
    return inbox_error_set(err, INBOX_ERR_INVALID,
                           "A MongoDB store is restored with mongorestore; "
                           "then run inboxctl events new-epoch.");
}


inbox_status_t
inbox_mongo_ping(inbox_store_t *store, inbox_error_t *err)
{
    bson_t               *command;
    bson_t                reply;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    rc = inbox_mongo_run_simple(ms, BCON_NEW("ping", BCON_INT32(1)), err);
    if (rc != INBOX_OK) {
        return rc;
    }

    command = BCON_NEW("update", BCON_UTF8("health"),
                       "updates", "[", "{",
                           "q", "{", "_id", BCON_UTF8("store"), "}",
                           "u", "{", "$set", "{",
                               "checked_at",
                               BCON_DATE_TIME(inbox_mongo_now(ms)),
                           "}", "}",
                       "}", "]",
                       "ordered", BCON_BOOL(true));

    rc = inbox_mongo_run(ms, command, &reply, err);

    /* n counts the matched documents. */
    if (rc == INBOX_OK && inbox_mongo_get_int(&reply, "n") == 0) {
        rc = inbox_error_set(err, INBOX_ERR_UNAVAILABLE,
                             "The store's database has no health record: "
                             "it was dropped, or never set up (inboxctl "
                             "makes a store).");
    }

    bson_destroy(&reply);
    bson_destroy(command);

    return rc;
}


/* The server does its own housekeeping. */
inbox_status_t
inbox_mongo_maintain(inbox_store_t *store, inbox_error_t *err)
{
    return INBOX_OK;
}


/* Made once, with the store; kept by later setups.  A store made now
 * has no name without its search_name to give one, nor a conversation
 * without its responses' times. */
inbox_status_t
inbox_mongo_upgrade_done(inbox_mongo_store_t *ms, const char *mark,
    int *done, inbox_error_t *err)
{
    return inbox_mongo_upgrade_done_at(ms, mark, 1, done, err);
}


inbox_status_t
inbox_mongo_upgrade_done_at(inbox_mongo_store_t *ms, const char *mark,
    int version, int *done, inbox_error_t *err)
{
    int             found;
    bson_t          doc;
    inbox_status_t  rc;

    rc = inbox_mongo_find_one(ms, "health",
                              BCON_NEW("_id", BCON_UTF8("store")),
                              BCON_NEW(mark, BCON_INT32(1)),
                              &doc, &found, err);

    *done = rc == INBOX_OK && found
            && inbox_mongo_get_int(&doc, mark) >= version;

    bson_destroy(&doc);

    return rc;
}


inbox_status_t
inbox_mongo_upgrade_mark(inbox_mongo_store_t *ms, const char *mark,
    inbox_error_t *err)
{
    return inbox_mongo_upgrade_mark_at(ms, mark, 1, err);
}


inbox_status_t
inbox_mongo_upgrade_mark_at(inbox_mongo_store_t *ms, const char *mark,
    int version, inbox_error_t *err)
{
    return inbox_mongo_run_simple(ms,
        BCON_NEW("update", BCON_UTF8("health"),
                 "updates", "[", "{",
                     "q", "{", "_id", BCON_UTF8("store"), "}",
                     "u", "{", "$set", "{", mark, BCON_INT32(version), "}",
                     "}",
                 "}", "]",
                 "ordered", BCON_BOOL(true)),
        err);
}


inbox_status_t
inbox_mongo_upgrade_aggregate(inbox_mongo_store_t *ms, const char *mark,
    bson_t *command, inbox_error_t *err)
{
    int             done;
    bson_t          batch;
    inbox_status_t  rc;

    rc = inbox_mongo_upgrade_done(ms, mark, &done, err);
    if (rc != INBOX_OK || done) {
        bson_destroy(command);
        return rc;
    }

    rc = inbox_mongo_run_cursor(ms, command, &batch, err);
    bson_destroy(&batch);

    if (rc != INBOX_OK) {
        return rc;
    }

    return inbox_mongo_upgrade_mark(ms, mark, err);
}


static inbox_status_t
inbox_mongo_health_record(inbox_mongo_store_t *ms, inbox_error_t *err)
{
    return inbox_mongo_run_simple(ms,
        BCON_NEW("update", BCON_UTF8("health"),
                 "updates", "[", "{",
                     "q", "{", "_id", BCON_UTF8("store"), "}",
                     "u", "{", "$setOnInsert", "{",
                         "created_at", BCON_DATE_TIME(inbox_mongo_now(ms)),
                         INBOX_MONGO_SEARCH_NAMES, BCON_INT32(1),
                         INBOX_MONGO_SEARCH_KEYS,
                         BCON_INT32(INBOX_SEARCH_KEY_RULE),
                         INBOX_MONGO_RESPONSES, BCON_INT32(1),
                         INBOX_MONGO_TWO_WAY, BCON_INT32(1),
                         INBOX_MONGO_OPT_OUT_WAITS, BCON_INT32(1),
                         INBOX_MONGO_MESSAGE_KINDS, BCON_INT32(1),
                         INBOX_MONGO_LAST_MESSAGES, BCON_INT32(1),
                     "}", "}",
                     "upsert", BCON_BOOL(true),
                 "}", "]",
                 "ordered", BCON_BOOL(true)),
        err);
}


inbox_status_t
inbox_mongo_ensure_indexes(inbox_mongo_store_t *ms, inbox_error_t *err)
{
    int             ready;
    size_t          i;
    bson_t         *command;
    bson_error_t    error;
    inbox_status_t  rc;

    pthread_mutex_lock(&ms->lock);
    ready = ms->indexes_ready;
    pthread_mutex_unlock(&ms->lock);

    if (ready) {
        return INBOX_OK;
    }

    /* Two threads may both send them at first; createIndexes of an index
     * that exists with the same spec is a no-op. */
    for (i = 0; i < sizeof(inbox_mongo_indexes) / sizeof(char *); i++) {
        command = bson_new_from_json((const uint8_t *) inbox_mongo_indexes[i],
                                     -1, &error);
        if (command == NULL) {
            return inbox_error_set(err, INBOX_ERR_INTERNAL,
                                   "An index spec is not valid JSON: %s",
                                   error.message);
        }

        rc = inbox_mongo_run_simple(ms, command, err);
        if (rc != INBOX_OK) {
            return rc;
        }
    }

    if (ms->create) {
        rc = inbox_mongo_health_record(ms, err);
        if (rc != INBOX_OK) {
            return rc;
        }
    }

    rc = inbox_mongo_search_names_backfill(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_search_keys_backfill(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_responses_backfill(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_two_way_backfill(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_opt_out_waits_backfill(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_message_kinds_backfill(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_last_messages_backfill(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    pthread_mutex_lock(&ms->lock);
    ms->indexes_ready = 1;
    pthread_mutex_unlock(&ms->lock);

    return INBOX_OK;
}


/* Pops a client from the pool (made here on first use) and says which
 * pool it goes back to. */
static mongoc_client_t *
inbox_mongo_client_pop(inbox_mongo_store_t *ms, mongoc_client_pool_t **pool,
    inbox_error_t *err)
{
    pid_t         pid;
    bson_error_t  error;

    pid = getpid();

    pthread_mutex_lock(&ms->lock);

    if (ms->pool == NULL || ms->pool_pid != pid) {
        /* First use in this process (see store_mongo.h): a parent's pool
         * is left alone. */
        ms->pool = mongoc_client_pool_new_with_error(ms->uri, &error);
        if (ms->pool == NULL) {
            pthread_mutex_unlock(&ms->lock);
            inbox_error_set(err, INBOX_ERR_UNAVAILABLE,
                            "Cannot set up MongoDB clients: %s",
                            error.message);
            return NULL;
        }

        mongoc_client_pool_set_error_api(ms->pool,
                                         MONGOC_ERROR_API_VERSION_2);
        ms->pool_pid = pid;
    }

    *pool = ms->pool;

    pthread_mutex_unlock(&ms->lock);

    return mongoc_client_pool_pop(*pool);
}


inbox_status_t
inbox_mongo_run(inbox_mongo_store_t *ms, const bson_t *command, bson_t *reply,
    inbox_error_t *err)
{
    bool                   sent;
    bson_error_t           error;
    mongoc_client_t       *client;
    mongoc_client_pool_t  *pool;

    memset(&error, 0, sizeof(bson_error_t));

    if (ms->transport != NULL) {
        bson_init(reply);
        sent = ms->transport(ms->transport_ctx, ms->db, command, reply,
                             &error);
        return inbox_mongo_check_reply(command, sent, reply, &error, err);
    }

    client = inbox_mongo_client_pop(ms, &pool, err);
    if (client == NULL) {
        bson_init(reply);
        return INBOX_ERR_UNAVAILABLE;
    }

    /* The read and write variants apply the URI's read preference, read
     * concern and write concern; both always initialize reply. */
    if (inbox_mongo_is_read(command)) {
        sent = mongoc_client_read_command_with_opts(client, ms->db, command,
                                                    NULL, NULL, reply,
                                                    &error);
    } else if (inbox_mongo_is_basic_write(command)) {
        sent = inbox_mongo_write_retryable(client, ms->db, command, reply,
                                           &error);
    } else {
        sent = mongoc_client_write_command_with_opts(client, ms->db, command,
                                                     NULL, reply, &error);
    }

    mongoc_client_pool_push(pool, client);

    return inbox_mongo_check_reply(command, sent, reply, &error, err);
}


inbox_status_t
inbox_mongo_run_simple(inbox_mongo_store_t *ms, bson_t *command,
    inbox_error_t *err)
{
    bson_t          reply;
    inbox_status_t  rc;

    rc = inbox_mongo_run(ms, command, &reply, err);

    bson_destroy(&reply);
    bson_destroy(command);

    return rc;
}


inbox_status_t
inbox_mongo_update_one(inbox_mongo_store_t *ms, const char *collection,
    bson_t *q, bson_t *u, int *matched, inbox_error_t *err)
{
    bson_t          reply;
    bson_t         *command;
    inbox_status_t  rc;

    command = BCON_NEW("update", BCON_UTF8(collection),
                       "updates", "[", "{",
                           "q", BCON_DOCUMENT(q),
                           "u", BCON_DOCUMENT(u),
                       "}", "]",
                       "ordered", BCON_BOOL(true));
    bson_destroy(q);
    bson_destroy(u);

    rc = inbox_mongo_run(ms, command, &reply, err);
    *matched = rc == INBOX_OK && inbox_mongo_get_int(&reply, "n") > 0;

    bson_destroy(&reply);
    bson_destroy(command);

    return rc;
}


inbox_status_t
inbox_mongo_run_cursor(inbox_mongo_store_t *ms, bson_t *command,
    bson_t *batch, inbox_error_t *err)
{
    bool                   done;
    bson_t                 reply;
    bson_error_t           error;
    inbox_status_t         rc;
    mongoc_client_t       *client;
    mongoc_client_pool_t  *pool;

    if (ms->transport != NULL) {
        rc = inbox_mongo_follow(ms, command, batch, err);
        bson_destroy(command);
        return rc;
    }

    client = inbox_mongo_client_pop(ms, &pool, err);
    if (client == NULL) {
        bson_destroy(command);
        bson_init(batch);
        return INBOX_ERR_UNAVAILABLE;
    }

    memset(&error, 0, sizeof(bson_error_t));

    done = inbox_mongo_read_all(client, ms->db, command, batch, &reply,
                                &error);

    mongoc_client_pool_push(pool, client);

    rc = INBOX_OK;

    if (!done) {
        rc = inbox_mongo_check_reply(command, !bson_empty(&reply), &reply,
                                     &error, err);
        if (rc == INBOX_OK) {
            /* an answer that was no cursor, or a batch that was none */
            rc = inbox_error_set(err, INBOX_ERR_INTERNAL,
                                 "MongoDB query failed: %s", error.message);
        }
    }

    bson_destroy(&reply);
    bson_destroy(command);

    return rc;
}


/* The test transport's cursors, as a driver follows them: the first batch
 * of command's answer, then getMore for the next while the cursor's id is
 * not 0, each batch's documents appended to batch. */
static inbox_status_t
inbox_mongo_follow(inbox_mongo_store_t *ms, const bson_t *command,
    bson_t *batch, inbox_error_t *err)
{
    bson_t          reply, size;
    bson_t         *more;
    int64_t         id;
    uint32_t        n;
    const char     *coll, *field;
    bson_iter_t     iter, found;
    inbox_status_t  rc;

    bson_init(batch);
    bson_init(&size);

    coll = "";
    if (bson_iter_init(&iter, command) && bson_iter_next(&iter)
        && BSON_ITER_HOLDS_UTF8(&iter))
    {
        coll = bson_iter_utf8(&iter, NULL);
    }

    /* getMore asks for batches of the size the command asked for */
    if (bson_iter_init(&iter, command)
        && (bson_iter_find_descendant(&iter, "batchSize", &found)
            || (bson_iter_init(&iter, command)
                && bson_iter_find_descendant(&iter, "cursor.batchSize",
                                             &found)))
        && BSON_ITER_HOLDS_NUMBER(&found))
    {
        BSON_APPEND_INT64(&size, "batchSize", bson_iter_as_int64(&found));
    }

    n = 0;
    more = NULL;
    field = "cursor.firstBatch";

    rc = inbox_mongo_run(ms, command, &reply, err);

    while (rc == INBOX_OK) {
        if (!inbox_mongo_batch_add(&reply, field, batch, &n, &id)) {
            rc = inbox_error_set(err, INBOX_ERR_INTERNAL,
                                 "MongoDB answered a query without a "
                                 "cursor.");
            break;
        }

        if (id == 0) {
            break;
        }

        bson_destroy(&reply);
        bson_destroy(more);

        more = BCON_NEW("getMore", BCON_INT64(id),
                        "collection", BCON_UTF8(coll));
        bson_concat(more, &size);
        field = "cursor.nextBatch";

        rc = inbox_mongo_run(ms, more, &reply, err);
    }

    bson_destroy(&reply);
    bson_destroy(more);
    bson_destroy(&size);

    if (rc != INBOX_OK) {
        bson_reinit(batch);
    }

    return rc;
}


/* Appends the documents of reply's batch (field) to batch, *n counting
 * them; *id the cursor's id, 0 when the server has nothing more.  0 when
 * reply has no such batch. */
static int
inbox_mongo_batch_add(const bson_t *reply, const char *field, bson_t *batch,
    uint32_t *n, int64_t *id)
{
    char          buf[16];
    const char   *key;
    bson_iter_t   iter, docs;

    *id = 0;

    if (!bson_iter_init(&iter, reply)
        || !bson_iter_find_descendant(&iter, field, &docs)
        || !BSON_ITER_HOLDS_ARRAY(&docs)
        || !bson_iter_recurse(&docs, &docs))
    {
        return 0;
    }

    while (bson_iter_next(&docs)) {
        bson_uint32_to_string((*n)++, &key, buf, sizeof(buf));
        if (!bson_append_iter(batch, key, -1, &docs)) {
            return 0;
        }
    }

    if (bson_iter_init(&iter, reply)
        && bson_iter_find_descendant(&iter, "cursor.id", &iter)
        && BSON_ITER_HOLDS_NUMBER(&iter))
    {
        *id = bson_iter_as_int64(&iter);
    }

    return 1;
}


inbox_status_t
inbox_mongo_run_find_and_modify(inbox_mongo_store_t *ms, bson_t *command,
    bson_t *value, int *found, inbox_error_t *err)
{
    bson_t          reply;
    bson_t          doc;
    bson_iter_t     iter;
    inbox_status_t  rc;

    *found = 0;

    rc = inbox_mongo_run(ms, command, &reply, err);
    bson_destroy(command);

    if (rc == INBOX_OK
        && bson_iter_init_find(&iter, &reply, "value")
        && inbox_mongo_iter_doc(&iter, &doc))
    {
        bson_copy_to(&doc, value);
        *found = 1;
    }

    if (!*found) {
        bson_init(value);
    }

    bson_destroy(&reply);

    return rc;
}


inbox_status_t
inbox_mongo_find_one(inbox_mongo_store_t *ms, const char *collection,
    bson_t *filter, bson_t *projection, bson_t *doc, int *found,
    inbox_error_t *err)
{
    bson_t          first;
    bson_t          batch;
    bson_t         *command;
    bson_iter_t     iter;
    inbox_status_t  rc;

    *found = 0;

    command = bson_new();
    BSON_APPEND_UTF8(command, "find", collection);
    BSON_APPEND_DOCUMENT(command, "filter", filter);
    if (projection != NULL) {
        BSON_APPEND_DOCUMENT(command, "projection", projection);
        bson_destroy(projection);
    }
    BSON_APPEND_INT32(command, "limit", 1);
    BSON_APPEND_BOOL(command, "singleBatch", true);
    bson_destroy(filter);

    rc = inbox_mongo_run_cursor(ms, command, &batch, err);

    if (rc == INBOX_OK
        && bson_iter_init_find(&iter, &batch, "0")
        && inbox_mongo_iter_doc(&iter, &first))
    {
        bson_copy_to(&first, doc);
        *found = 1;
    }

    if (!*found) {
        bson_init(doc);
    }

    bson_destroy(&batch);

    return rc;
}


static int
inbox_mongo_is_read(const bson_t *command)
{
    const char   *name;
    bson_iter_t   iter, stage, last;

    if (!bson_iter_init(&iter, command) || !bson_iter_next(&iter)) {
        return 0;
    }

    name = bson_iter_key(&iter);

    if (strcmp(name, "aggregate") == 0) {
        /* one that ends in $merge writes: the write concern applies */
        return !(bson_iter_init(&iter, command)
                 && bson_iter_find_descendant(&iter, "pipeline", &stage)
                 && BSON_ITER_HOLDS_ARRAY(&stage)
                 && bson_iter_recurse(&stage, &last)
                 && inbox_mongo_last_stage_is(&last, "$merge"));
    }

    return strcmp(name, "find") == 0 || strcmp(name, "count") == 0
           || strcmp(name, "ping") == 0;
}


/* Whether the last stage of a pipeline (an iterator on its array) is
 * the stage named name. */
static int
inbox_mongo_last_stage_is(bson_iter_t *pipeline, const char *name)
{
    int          is;
    bson_iter_t  stage;

    is = 0;

    while (bson_iter_next(pipeline)) {
        is = BSON_ITER_HOLDS_DOCUMENT(pipeline)
             && bson_iter_recurse(pipeline, &stage)
             && bson_iter_next(&stage)
             && strcmp(bson_iter_key(&stage), name) == 0;
    }

    return is;
}


static inbox_status_t
inbox_mongo_check_reply(const bson_t *command, bool sent, const bson_t *reply,
    const bson_error_t *error, inbox_error_t *err)
{
    bson_t        doc;
    const char   *op = "command";
    bson_iter_t   iter, item;
    char          message[128];

    if (bson_iter_init(&iter, command) && bson_iter_next(&iter)) {
        op = bson_iter_key(&iter);
    }

    if (!bson_iter_init_find(&iter, reply, "ok")) {
        if (sent) {
            return inbox_error_set(err, INBOX_ERR_INTERNAL,
                                   "MongoDB answered %s without \"ok\".", op);
        }

        /* No answer at all: the server could not be reached, or would not
         * let us in. */
        if (error->domain == MONGOC_ERROR_SERVER_SELECTION
            || error->domain == MONGOC_ERROR_STREAM
            || error->domain == MONGOC_ERROR_CLIENT)
        {
            return inbox_error_set(err, INBOX_ERR_UNAVAILABLE,
                                   "The MongoDB store is unavailable: %s",
                                   error->message);
        }

        return inbox_error_set(err, INBOX_ERR_INTERNAL,
                               "MongoDB %s failed: %s", op, error->message);
    }

    if (!bson_iter_as_bool(&iter)) {
        inbox_mongo_get_str(reply, "errmsg", message, sizeof(message));
        return inbox_mongo_server_error(op,
                   inbox_mongo_get_int(reply, "code"), message, reply, err);
    }

    /* ok:1 may still carry the failure of a write. */
    if (bson_iter_init_find(&iter, reply, "writeErrors")
        && BSON_ITER_HOLDS_ARRAY(&iter)
        && bson_iter_recurse(&iter, &item) && bson_iter_next(&item)
        && inbox_mongo_iter_doc(&item, &doc))
    {
        inbox_mongo_get_str(&doc, "errmsg", message, sizeof(message));
        return inbox_mongo_server_error(op, inbox_mongo_get_int(&doc, "code"),
                                        message, &doc, err);
    }

    if (bson_has_field(reply, "writeConcernError")) {
        return inbox_error_set(err, INBOX_ERR_UNAVAILABLE,
                               "MongoDB could not confirm the %s: the write "
                               "concern was not satisfied.", op);
    }

    return INBOX_OK;
}


static inbox_status_t
inbox_mongo_server_error(const char *op, int64_t code, const char *message,
    const bson_t *reply, inbox_error_t *err)
{
    bson_iter_t  iter, label;

    if (code == INBOX_MONGO_DUPLICATE_KEY) {
        return inbox_error_set(err, INBOX_ERR_CONFLICT,
                               "MongoDB %s: duplicate key: %s", op, message);
    }

    /* Errors the driver's retryable-writes rules also treat as passing:
     * no primary, shutting down, timed out, network. */
    switch (code) {
    case 6: case 7: case 89: case 91: case 189: case 262: case 9001:
    case 10107: case 11600: case 11602: case 13435: case 13436:
        return inbox_error_set(err, INBOX_ERR_UNAVAILABLE,
                               "The MongoDB store is unavailable (%s: %s).",
                               op, message);
    }

    if (bson_iter_init_find(&label, reply, "errorLabels")
        && BSON_ITER_HOLDS_ARRAY(&label)
        && bson_iter_recurse(&label, &iter))
    {
        while (bson_iter_next(&iter)) {
            if (BSON_ITER_HOLDS_UTF8(&iter)
                && (strcmp(bson_iter_utf8(&iter, NULL),
                           "RetryableWriteError") == 0
                    || strcmp(bson_iter_utf8(&iter, NULL),
                              "TransientTransactionError") == 0))
            {
                return inbox_error_set(err, INBOX_ERR_UNAVAILABLE,
                                       "The MongoDB store is unavailable "
                                       "(%s: %s).", op, message);
            }
        }
    }

    return inbox_error_set(err, INBOX_ERR_INTERNAL,
                           "MongoDB %s failed (%lld): %s", op,
                           (long long) code, message);
}


static void
inbox_mongo_default_id(void *ctx, bson_oid_t *oid)
{
    bson_oid_init(oid, NULL);
}


static int64_t
inbox_mongo_default_clock(void *ctx)
{
    return inbox_now_ms();
}
