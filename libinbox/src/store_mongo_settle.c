/*
 * The MongoDB backend: a hold's settlement (its capture or release),
 * applied once and finished after any interruption, without a
 * transaction.  It writes three documents, the message, the
 * organization's credits and a ledger entry, so each step is made safe
 * to repeat and the message records that a settlement is under way:
 *
 *   1. findAndModify messages  held true -> false, settling: "capture"
 *                              or "release", settling_since: the
 *                              server's $$NOW; only one settler matches
 *   2. findAndModify orgs      the $inc, with $push of the settlement's
 *                              key to credits.pending, where pending
 *                              does not hold it yet: a repeat applies
 *                              nothing
 *   3. insert ledger           the entry, unique by the key: a repeat is
 *                              a duplicate key, taken as done
 *   4. update orgs             $pull of the key from credits.pending
 *   5. update messages         settling and settling_since unset
 *
 * The key is the message's and its hold's: a message whose campaign's
 * pause gave its hold back is held again as it goes (store_mongo_
 * outbox.c), "holds" counting the holds taken again, so that the
 * release and the later capture are two settlements.  Its first hold
 * (holds absent or 0, as every message of before) is keyed by the
 * message's id alone: the id in pending, the entry's _id the message's.
 * A later one's is {message, hold} in pending and an entry of its own
 * _id with message_id and hold, unique by the ledger's partial index
 * message_hold_unique.
 *
 * settling_since starts a lease of INBOX_MONGO_SETTLE_LEASE_MS on the
 * server's clock.  The recovery (inbox_mongo_settle_recover, run by the
 * holds job through holds_expire) takes a settlement whose lease ran
 * out, starting a new lease as step 1 does, and finishes it: if the
 * ledger has its entry, only steps 4 and 5 are left; else step 2,
 * which applies nothing where pending holds the key (the balances its
 * entry gives are then the organization's as it reads them), then 3 to
 * 5.  Steps 2 and 4 match only before their settler's lease ends
 * ($expr on $$NOW), so leases never overlap in what they may change: a
 * settler stalled past its lease cannot $inc again after a recovery's
 * $pull, nor $pull the key before a recovery that found no entry yet
 * looks at pending.  A settler whose step 2 or 4 finds its lease over
 * stops and leaves the rest to the recovery.  Until step 5 the message
 * reads as settled (held false); the API shows nothing of settling.
 *
 * The release of a parked message's hold (a campaign's pause, a claim
 * that parks) looks at its outbox entry between steps 1 and 2
 * (inbox_mongo_settle_parked): a pause and a resume close together may
 * have had a claim hand the message out holding, and only while the
 * entry is still parked and not leased is the hold given back; else
 * step 1 is undone and the message goes holding.
 */
#include <string.h>
#include "store_mongo.h"


/* What a settlement needs of its message's document. */
typedef struct {
    bson_oid_t           message;
    bson_oid_t           org;
    inbox_ledger_kind_t  kind;
    int64_t              credits;
    int64_t              hold;           /* the message's holds: which
                                            of its holds this settles */
    int64_t              lease_end;      /* server time, ms */
} inbox_mongo_settlement_t;


static inbox_status_t inbox_mongo_settle_one(inbox_mongo_store_t *ms,
    const bson_t *which, const bson_t *sort, inbox_ledger_kind_t kind,
    const bson_oid_t *entry, int64_t now, int *found, inbox_error_t *err);
static inbox_status_t inbox_mongo_settle_still_parked(
    inbox_mongo_store_t *ms, const inbox_mongo_settlement_t *s,
    const bson_oid_t *entry, int *found, inbox_error_t *err);
static int inbox_mongo_settlement_read(const bson_t *doc,
    inbox_mongo_settlement_t *s);
static inbox_status_t inbox_mongo_settle_finish(inbox_mongo_store_t *ms,
    const inbox_mongo_settlement_t *s, int recovering, int64_t now,
    inbox_error_t *err);
static inbox_status_t inbox_mongo_settle_apply(inbox_mongo_store_t *ms,
    const inbox_mongo_settlement_t *s, int *applied, int64_t *balance,
    int64_t *held, inbox_error_t *err);
static inbox_status_t inbox_mongo_settle_entry(inbox_mongo_store_t *ms,
    const inbox_mongo_settlement_t *s, int64_t balance, int64_t held,
    int64_t now, inbox_error_t *err);
static bson_t *inbox_mongo_settle_in_lease(const inbox_mongo_settlement_t *s);
static void inbox_mongo_settle_key(bson_t *doc, const char *name,
    const inbox_mongo_settlement_t *s);


/* The fields of a settling message that steps 1 and the recovery read. */
#define INBOX_MONGO_SETTLING_FIELDS                                           \
    "fields", "{",                                                            \
        "org_id", BCON_INT32(1), "credits", BCON_INT32(1),                    \
        "settling", BCON_INT32(1), "settling_since", BCON_INT32(1),           \
        "holds", BCON_INT32(1),                                               \
    "}"


inbox_status_t
inbox_mongo_settle(inbox_mongo_store_t *ms, const bson_t *which,
    const bson_t *sort, inbox_ledger_kind_t kind, int64_t now, int *found,
    inbox_error_t *err)
{
    return inbox_mongo_settle_one(ms, which, sort, kind, NULL, now, found,
                                  err);
}


inbox_status_t
inbox_mongo_settle_parked(inbox_mongo_store_t *ms, const bson_oid_t *message,
    const bson_oid_t *entry, int64_t now, int *found, inbox_error_t *err)
{
    bson_t         *which;
    inbox_status_t  rc;

    which = BCON_NEW("_id", BCON_OID(message));
    rc = inbox_mongo_settle_one(ms, which, NULL, INBOX_LEDGER_RELEASE, entry,
                                now, found, err);
    bson_destroy(which);

    return rc;
}


/* Step 1, then (entry not NULL) the entry's look, then the rest. */
static inbox_status_t
inbox_mongo_settle_one(inbox_mongo_store_t *ms, const bson_t *which,
    const bson_t *sort, inbox_ledger_kind_t kind, const bson_oid_t *entry,
    int64_t now, int *found, inbox_error_t *err)
{
    bson_t                    query, value;
    bson_t                   *command;
    inbox_status_t            rc;
    inbox_mongo_settlement_t  s;

    *found = 0;

    bson_init(&query);
    bson_concat(&query, which);
    BSON_APPEND_BOOL(&query, "held", true);

    command = BCON_NEW("findAndModify", BCON_UTF8("messages"),
                       "query", BCON_DOCUMENT(&query),
                       "update", "[", "{", "$set", "{",
                           "held", BCON_BOOL(false),
                           "settling", BCON_UTF8(inbox_ledger_kind_name(kind)),
                           "settling_since", BCON_UTF8("$$NOW"),
                       "}", "}", "]",
                       INBOX_MONGO_SETTLING_FIELDS,
                       "new", BCON_BOOL(true));
    bson_destroy(&query);

    if (sort != NULL) {
        BSON_APPEND_DOCUMENT(command, "sort", sort);
    }

    rc = inbox_mongo_run_find_and_modify(ms, command, &value, found, err);

    if (rc == INBOX_OK && *found) {
        /* a document without its organization cannot be settled: it is
         * left settling, as the recovery would leave it */
        if (inbox_mongo_settlement_read(&value, &s) == 0) {
            if (entry != NULL) {
                rc = inbox_mongo_settle_still_parked(ms, &s, entry, found,
                                                     err);
            }

            if (rc == INBOX_OK && *found) {
                rc = inbox_mongo_settle_finish(ms, &s, 0, now, err);
            }
        }
    }

    bson_destroy(&value);

    return rc;
}


/*
 * The release of a parked message's hold goes on past step 1 only while
 * its outbox entry is still parked and not leased (*found kept 1): a
 * compare-and-set on the entry, after the message is marked settling.
 * A claim that hands the entry out reads the message after it leased
 * it: before step 1 it found the message held and handed it out
 * holding, and this look finds the entry leased; after, it found it
 * settling and put it back, not parked.  Either way the hold is kept
 * (*found 0): step 1 undone, on this settler's lease.  A failure undoes
 * it too, as the look's answer is not known.
 */
static inbox_status_t
inbox_mongo_settle_still_parked(inbox_mongo_store_t *ms,
    const inbox_mongo_settlement_t *s, const bson_oid_t *entry, int *found,
    inbox_error_t *err)
{
    int             matched;
    inbox_error_t   undo;
    inbox_status_t  rc, undone;

    rc = inbox_mongo_update_one(ms, "outbox",
                                BCON_NEW("_id", BCON_OID(entry),
                                         "due_at", BCON_DATE_TIME(
                                             INBOX_OUTBOX_PARKED),
                                         "lease_until", BCON_NULL),
                                BCON_NEW("$set", "{",
                                    "due_at", BCON_DATE_TIME(
                                        INBOX_OUTBOX_PARKED),
                                "}"),
                                found, err);

    if (rc == INBOX_OK && *found) {
        return INBOX_OK;
    }

    *found = 0;

    /* a failure here leaves it settling: the recovery releases it */
    undone = inbox_mongo_update_one(ms, "messages",
        BCON_NEW("_id", BCON_OID(&s->message),
                 "settling", BCON_UTF8(inbox_ledger_kind_name(s->kind)),
                 "settling_since", BCON_DATE_TIME(
                     s->lease_end - INBOX_MONGO_SETTLE_LEASE_MS)),
        BCON_NEW("$set", "{", "held", BCON_BOOL(true), "}",
                 "$unset", "{",
                     "settling", BCON_UTF8(""),
                     "settling_since", BCON_UTF8(""),
                 "}"),
        &matched, rc == INBOX_OK ? err : &undo);

    return rc != INBOX_OK ? rc : undone;
}


inbox_status_t
inbox_mongo_settle_recover(inbox_mongo_store_t *ms, int64_t now, size_t max,
    size_t *finished, inbox_error_t *err)
{
    int                       found;
    bson_t                    value;
    inbox_status_t            rc;
    inbox_mongo_settlement_t  s;

    *finished = 0;
    rc = INBOX_OK;

    /* each one taken gets a new lease, so none is taken twice a call */
    while (rc == INBOX_OK && *finished < max) {
        rc = inbox_mongo_run_find_and_modify(ms,
            BCON_NEW("findAndModify", BCON_UTF8("messages"),
                     "query", "{",
                         "settling", "{", "$exists", BCON_BOOL(true), "}",
                         /* the index's bound, on our clock ... */
                         "settling_since", "{",
                             "$lte", BCON_DATE_TIME(
                                 now - INBOX_MONGO_SETTLE_LEASE_MS),
                         "}",
                         /* ... and the lease's, on the server's */
                         "$expr", "{", "$lte", "[",
                             BCON_UTF8("$settling_since"),
                             "{", "$subtract", "[",
                                 BCON_UTF8("$$NOW"),
                                 BCON_INT64(INBOX_MONGO_SETTLE_LEASE_MS),
                             "]", "}",
                         "]", "}",
                     "}",
                     "sort", "{", "settling_since", BCON_INT32(1), "}",
                     "update", "[", "{", "$set", "{",
                         "settling_since", BCON_UTF8("$$NOW"),
                     "}", "}", "]",
                     INBOX_MONGO_SETTLING_FIELDS,
                     "new", BCON_BOOL(true)),
            &value, &found, err);

        if (rc == INBOX_OK && found) {
            if (inbox_mongo_settlement_read(&value, &s) == 0) {
                rc = inbox_mongo_settle_finish(ms, &s, 1, now, err);
            }

            (*finished)++;
        }

        bson_destroy(&value);

        if (!found) {
            break;
        }
    }

    return rc;
}


/* 0 when doc (a settling message, as step 1 or the recovery answered
 * it) names all a settlement needs. */
static int
inbox_mongo_settlement_read(const bson_t *doc, inbox_mongo_settlement_t *s)
{
    char         kind[16];
    bson_iter_t  iter;

    memset(s, 0, sizeof(inbox_mongo_settlement_t));

    if (!bson_iter_init_find(&iter, doc, "_id")
        || !BSON_ITER_HOLDS_OID(&iter))
    {
        return -1;
    }
    bson_oid_copy(bson_iter_oid(&iter), &s->message);

    if (!bson_iter_init_find(&iter, doc, "org_id")
        || !BSON_ITER_HOLDS_OID(&iter))
    {
        return -1;
    }
    bson_oid_copy(bson_iter_oid(&iter), &s->org);

    inbox_mongo_get_str(doc, "settling", kind, sizeof(kind));
    if (inbox_ledger_kind_parse(kind, &s->kind) != 0
        || (s->kind != INBOX_LEDGER_CAPTURE
            && s->kind != INBOX_LEDGER_RELEASE))
    {
        return -1;
    }

    s->credits = inbox_mongo_get_int(doc, "credits");
    s->hold = inbox_mongo_get_int(doc, "holds");
    s->lease_end = inbox_mongo_get_date(doc, "settling_since")
                   + INBOX_MONGO_SETTLE_LEASE_MS;

    return 0;
}


/* Steps 2 to 5 (see the top of this file); recovering: the ledger may
 * have the entry already. */
static inbox_status_t
inbox_mongo_settle_finish(inbox_mongo_store_t *ms,
    const inbox_mongo_settlement_t *s, int recovering, int64_t now,
    inbox_error_t *err)
{
    int             found, applied, matched;
    bson_t          doc;
    bson_t         *entry, *pull;
    int64_t         balance, held;
    inbox_status_t  rc;

    found = 0;
    balance = 0;
    held = 0;

    if (recovering) {
        /* a message's first hold's entry is under its id, a later one's
         * under (message_id, hold) */
        entry = s->hold == 0
                ? BCON_NEW("_id", BCON_OID(&s->message))
                : BCON_NEW("message_id", BCON_OID(&s->message),
                           "hold", BCON_INT64(s->hold));
        rc = inbox_mongo_find_one(ms, "ledger", entry,
                                  BCON_NEW("_id", BCON_INT32(1)),
                                  &doc, &found, err);
        bson_destroy(&doc);

        if (rc != INBOX_OK) {
            return rc;
        }
    }

    if (!found) {
        rc = inbox_mongo_settle_apply(ms, s, &applied, &balance, &held, err);

        if (rc != INBOX_OK || !applied) {
            return rc;
        }

        rc = inbox_mongo_settle_entry(ms, s, balance, held, now, err);
        if (rc != INBOX_OK) {
            return rc;
        }
    }

    pull = bson_new();
    inbox_mongo_settle_key(pull, "credits.pending", s);
    rc = inbox_mongo_update_one(ms, "orgs", inbox_mongo_settle_in_lease(s),
                                BCON_NEW("$pull", BCON_DOCUMENT(pull)),
                                &matched, err);
    bson_destroy(pull);

    if (rc != INBOX_OK || !matched) {
        return rc;
    }

    return inbox_mongo_update_one(ms, "messages",
                                  BCON_NEW("_id", BCON_OID(&s->message),
                                           "settling", "{",
                                               "$exists", BCON_BOOL(true),
                                           "}"),
                                  BCON_NEW("$unset", "{",
                                      "settling", BCON_UTF8(""),
                                      "settling_since", BCON_UTF8(""),
                                  "}"),
                                  &matched, err);
}


/*
 * Step 2: the organization's $inc, once.  *applied is 1 when the
 * credits have moved, by this command (*balance and *held as it left
 * them) or an earlier one whose id pending still holds (the balances
 * as they are now); 0 when neither, the lease having ended: the rest is
 * the recovery's.  A failure leaves it to the recovery too, even a
 * writeConcernError that applied it: pending holds the id then.
 */
static inbox_status_t
inbox_mongo_settle_apply(inbox_mongo_store_t *ms,
    const inbox_mongo_settlement_t *s, int *applied, int64_t *balance,
    int64_t *held, inbox_error_t *err)
{
    bson_t          value, ne;
    bson_t         *query, *push, *mine;
    inbox_status_t  rc;

    query = inbox_mongo_settle_in_lease(s);
    BSON_APPEND_DOCUMENT_BEGIN(query, "credits.pending", &ne);
    inbox_mongo_settle_key(&ne, "$ne", s);
    bson_append_document_end(query, &ne);

    push = bson_new();
    inbox_mongo_settle_key(push, "credits.pending", s);

    rc = inbox_mongo_run_find_and_modify(ms,
        BCON_NEW("findAndModify", BCON_UTF8("orgs"),
                 "query", BCON_DOCUMENT(query),
                 "update", "{",
                     "$inc", "{",
                         "credits.balance", BCON_INT64(
                             inbox_ledger_balance_change(s->kind,
                                                         s->credits)),
                         "credits.held", BCON_INT64(
                             inbox_ledger_held_change(s->kind, s->credits)),
                     "}",
                     "$push", BCON_DOCUMENT(push),
                 "}",
                 "fields", "{", "credits", BCON_INT32(1), "}",
                 "new", BCON_BOOL(true)),
        &value, applied, err);
    bson_destroy(query);
    bson_destroy(push);

    if (rc == INBOX_OK && !*applied) {
        /* moved before, or the lease is over */
        bson_destroy(&value);
        mine = BCON_NEW("_id", BCON_OID(&s->org));
        inbox_mongo_settle_key(mine, "credits.pending", s);
        rc = inbox_mongo_find_one(ms, "orgs", mine,
                                  BCON_NEW("credits", BCON_INT32(1)),
                                  &value, applied, err);
    }

    if (rc == INBOX_OK && *applied) {
        *balance = inbox_mongo_get_int(&value, "credits.balance");
        *held = inbox_mongo_get_int(&value, "credits.held");
    }

    bson_destroy(&value);

    if (rc != INBOX_OK) {
        *applied = 0;
    }

    return rc;
}


/* Step 3: the ledger entry, under the message's id (its first hold's)
 * or unique by (message_id, hold) (a later one's, held again after its
 * campaign's pause gave it back); one there already (a repeat) is the
 * same entry.  A settlement of nothing has none. */
static inbox_status_t
inbox_mongo_settle_entry(inbox_mongo_store_t *ms,
    const inbox_mongo_settlement_t *s, int64_t balance, int64_t held,
    int64_t now, inbox_error_t *err)
{
    bson_t          doc;
    bson_oid_t      id;
    inbox_status_t  rc;

    if (s->credits == 0) {
        return INBOX_OK;
    }

    if (s->hold == 0) {
        bson_oid_copy(&s->message, &id);
    } else {
        inbox_mongo_new_id(ms, &id);
    }

    bson_init(&doc);
    BSON_APPEND_OID(&doc, "_id", &id);
    BSON_APPEND_OID(&doc, "org_id", &s->org);
    BSON_APPEND_UTF8(&doc, "kind", inbox_ledger_kind_name(s->kind));
    BSON_APPEND_INT64(&doc, "credits", s->credits);
    BSON_APPEND_INT64(&doc, "balance", balance);
    BSON_APPEND_INT64(&doc, "held", held);
    BSON_APPEND_OID(&doc, "message_id", &s->message);
    if (s->hold != 0) {
        BSON_APPEND_INT64(&doc, "hold", s->hold);
    }
    BSON_APPEND_DATE_TIME(&doc, "created_at", now);

    rc = inbox_mongo_run_simple(ms,
        BCON_NEW("insert", BCON_UTF8("ledger"),
                 "documents", "[", BCON_DOCUMENT(&doc), "]",
                 "ordered", BCON_BOOL(true)),
        err);
    bson_destroy(&doc);

    return rc == INBOX_ERR_CONFLICT ? INBOX_OK : rc;
}


/* The organization's filter of steps 2 and 4: only while the lease
 * lasts, on the server's clock.  The caller destroys it. */
static bson_t *
inbox_mongo_settle_in_lease(const inbox_mongo_settlement_t *s)
{
    return BCON_NEW("_id", BCON_OID(&s->org),
                    "$expr", "{", "$lt", "[",
                        BCON_UTF8("$$NOW"), BCON_DATE_TIME(s->lease_end),
                    "]", "}");
}


/* The settlement's key in credits.pending, appended to doc as name: the
 * message's id for its first hold (as every settlement of before was
 * keyed), {message, hold} for a later one. */
static void
inbox_mongo_settle_key(bson_t *doc, const char *name,
    const inbox_mongo_settlement_t *s)
{
    bson_t  key;

    if (s->hold == 0) {
        BSON_APPEND_OID(doc, name, &s->message);
        return;
    }

    BSON_APPEND_DOCUMENT_BEGIN(doc, name, &key);
    BSON_APPEND_OID(&key, "message", &s->message);
    BSON_APPEND_INT64(&key, "hold", s->hold);
    bson_append_document_end(doc, &key);
}
