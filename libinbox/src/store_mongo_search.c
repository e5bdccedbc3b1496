/*
 * The MongoDB backend: a search (search.h) as regular expressions on the
 * list's own fields, so that a search filters index keys, not documents.
 *
 * A name is stored as typed and, beside it, as a search compares it
 * (search_name: inbox_search_key, as SQLite's contacts.search_name), so
 * the search, folded the same way, is looked for in it as it is: no case
 * flag, no classes of letters, every script alike.  Documents stored
 * before search_name existed are given theirs once, at the store's first
 * use (inbox_mongo_search_names_backfill), and keys made by an older rule
 * (with a name's spaces and punctuation, or without a kana's voicing
 * marks, an Indic script's marks or Й's breve) made again once a rule
 * after that (inbox_mongo_search_keys_backfill).
 */
#include <stdlib.h>
#include <string.h>
#include <inbox/fold.h>
#include <inbox/search.h>
#include "store_mongo.h"


static char *inbox_mongo_name_pattern(const inbox_search_t *search);
static char *inbox_mongo_pattern_escape(char *p, const char *text);
static inbox_status_t inbox_mongo_search_names_of(inbox_mongo_store_t *ms,
    const char *collection, const char *copy, const char *name,
    const char *key, int remake, inbox_error_t *err);
static inbox_status_t inbox_mongo_search_names_round(
    inbox_mongo_store_t *ms, const char *collection, const char *copy,
    const char *name, const char *key, int remake, bson_value_t *after,
    size_t *n, inbox_error_t *err);


int
inbox_mongo_append_search(bson_t *filter, bson_t *or,
    const inbox_search_t *search, const char *key, const char *phone)
{
    char    *pattern, *digits;
    bson_t   item;

    pattern = inbox_mongo_name_pattern(search);

    if (search->digits[0] == '\0') {
        BSON_APPEND_REGEX(filter, key, pattern, "");
        bson_free(pattern);
        return 0;
    }

    BSON_APPEND_DOCUMENT_BEGIN(or, "0", &item);
    BSON_APPEND_REGEX(&item, key, pattern, "");
    bson_append_document_end(or, &item);

    BSON_APPEND_DOCUMENT_BEGIN(or, "1", &item);
    if (search->dialled[0] == '\0') {
        BSON_APPEND_REGEX(&item, phone, search->digits, "");
    } else {
        /* digits only: nothing to escape */
        digits = bson_strdup_printf("%s|%s", search->digits,
                                    search->dialled);
        BSON_APPEND_REGEX(&item, phone, digits, "");
        bson_free(digits);
    }
    bson_append_document_end(or, &item);

    bson_free(pattern);

    return 1;
}


void
inbox_mongo_append_search_name(bson_t *doc, const char *field,
    const char *name)
{
    int   n;
    char  key[INBOX_FOLD_MAX];

    n = name != NULL && name[0] != '\0'
        ? inbox_search_key(name, key, sizeof(key)) : -1;

    if (n < 0) {
        BSON_APPEND_NULL(doc, field);
        return;
    }

    bson_append_utf8(doc, field, -1, key, n);
}


/*
 * Contacts, then conversations' copies, without a search_name are given
 * theirs a batch at a time, in _id order (each batch read after the last
 * one's, so the whole is one pass), then the store's record is marked so
 * that later uses skip it (a store made now is marked when made).  Each
 * write is to a document still without one, so a rename meanwhile
 * (which writes its own) is never undone; several processes may do it at
 * once.
 */
inbox_status_t
inbox_mongo_search_names_backfill(inbox_mongo_store_t *ms,
    inbox_error_t *err)
{
    int             done;
    inbox_status_t  rc;

    rc = inbox_mongo_upgrade_done(ms, INBOX_MONGO_SEARCH_NAMES, &done, err);
    if (rc != INBOX_OK || done) {
        return rc;
    }

    rc = inbox_mongo_search_names_of(ms, "contacts", NULL, "name",
                                     "search_name", 0, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_search_names_of(ms, "conversations", "contact",
                                     "contact.name", "contact.search_name",
                                     0, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    return inbox_mongo_upgrade_mark(ms, INBOX_MONGO_SEARCH_NAMES, err);
}


/*
 * Every key (after the pass above: every name's) made again by the rule
 * of now, where it differs: read in _id order, a batch at a time, as
 * above, each written only where it still is the key read, so that a
 * rename meanwhile (which writes its own) is never undone.  Marked
 * INBOX_MONGO_SEARCH_KEYS, at the rule's version (INBOX_SEARCH_KEY_RULE),
 * when through, so that the next rule runs it again; a store made now
 * has the mark.
 */
inbox_status_t
inbox_mongo_search_keys_backfill(inbox_mongo_store_t *ms,
    inbox_error_t *err)
{
    int             done;
    inbox_status_t  rc;

    rc = inbox_mongo_upgrade_done_at(ms, INBOX_MONGO_SEARCH_KEYS,
                                     INBOX_SEARCH_KEY_RULE, &done, err);
    if (rc != INBOX_OK || done) {
        return rc;
    }

    rc = inbox_mongo_search_names_of(ms, "contacts", NULL, "name",
                                     "search_name", 1, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_search_names_of(ms, "conversations", "contact",
                                     "contact.name", "contact.search_name",
                                     1, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    return inbox_mongo_upgrade_mark_at(ms, INBOX_MONGO_SEARCH_KEYS,
                                       INBOX_SEARCH_KEY_RULE, err);
}


/* Every document of collection without key (in the object copy, NULL:
 * the document itself), or (remake) with a key that is a string, given
 * the key of its name, batch after batch. */
static inbox_status_t
inbox_mongo_search_names_of(inbox_mongo_store_t *ms, const char *collection,
    const char *copy, const char *name, const char *key, int remake,
    inbox_error_t *err)
{
    size_t          n;
    bson_value_t    after;
    inbox_status_t  rc;

    after.value_type = BSON_TYPE_EOD;

    do {
        rc = inbox_mongo_search_names_round(ms, collection, copy, name, key,
                                            remake, &after, &n, err);
    } while (rc == INBOX_OK && n == INBOX_MONGO_BACKFILL_BATCH);

    bson_value_destroy(&after);

    return rc;
}


/* One batch of those after the _id *after (none: EOD), moved on to the
 * batch's last; *n how many there were.  Remade, a key that is already
 * the name's is left as it is. */
static inbox_status_t
inbox_mongo_search_names_round(inbox_mongo_store_t *ms,
    const char *collection, const char *copy, const char *name,
    const char *key, int remake, bson_value_t *after, size_t *n,
    inbox_error_t *err)
{
    int             len;
    char            index[16], *value, *old;
    char            now[INBOX_FOLD_MAX];
    bson_t          batch, doc, filter, projection, updates, entry, q, u,
                    set;
    bson_t         *command;
    size_t          written;
    bson_iter_t     iter, id;
    const char     *k;
    inbox_status_t  rc;

    *n = 0;
    written = 0;

    bson_init(&filter);
    if (after->value_type != BSON_TYPE_EOD) {
        BSON_APPEND_DOCUMENT_BEGIN(&filter, "_id", &q);
        BSON_APPEND_VALUE(&q, "$gt", after);
        bson_append_document_end(&filter, &q);
    }
    BSON_APPEND_DOCUMENT_BEGIN(&filter, key, &q);
    if (remake) {
        BSON_APPEND_UTF8(&q, "$type", "string");
    } else {
        BSON_APPEND_BOOL(&q, "$exists", false);
    }
    bson_append_document_end(&filter, &q);
    if (copy != NULL && !remake) {
        /* a copy to write into: never a field made in a null */
        BSON_APPEND_DOCUMENT_BEGIN(&filter, copy, &q);
        BSON_APPEND_UTF8(&q, "$type", "object");
        bson_append_document_end(&filter, &q);
    }

    bson_init(&projection);
    BSON_APPEND_INT32(&projection, name, 1);
    if (remake) {
        BSON_APPEND_INT32(&projection, key, 1);
    }

    command = BCON_NEW("find", BCON_UTF8(collection),
                       "filter", BCON_DOCUMENT(&filter),
                       "sort", "{", "_id", BCON_INT32(1), "}",
                       "hint", "{", "_id", BCON_INT32(1), "}",
                       "projection", BCON_DOCUMENT(&projection),
                       "limit", BCON_INT32(INBOX_MONGO_BACKFILL_BATCH),
                       "batchSize", BCON_INT32(INBOX_MONGO_BACKFILL_BATCH),
                       "singleBatch", BCON_BOOL(true));
    bson_destroy(&filter);
    bson_destroy(&projection);

    rc = inbox_mongo_run_cursor(ms, command, &batch, err);
    if (rc != INBOX_OK) {
        bson_destroy(&batch);
        return rc;
    }

    bson_init(&updates);
    bson_iter_init(&iter, &batch);

    while (inbox_mongo_next_doc(&iter, &doc)) {
        (*n)++;

        if (!bson_iter_init_find(&id, &doc, "_id")) {
            continue;
        }

        bson_value_destroy(after);
        bson_value_copy(bson_iter_value(&id), after);

        value = inbox_mongo_dup_str(&doc, name);
        old = remake ? inbox_mongo_dup_str(&doc, key) : NULL;

        if (remake) {
            len = value != NULL && value[0] != '\0'
                  ? inbox_search_key(value, now, sizeof(now)) : -1;

            if (old != NULL && len >= 0 && strcmp(old, now) == 0) {
                free(value);
                free(old);
                continue;
            }
        }

        bson_uint32_to_string((uint32_t) written++, &k, index,
                              sizeof(index));
        BSON_APPEND_DOCUMENT_BEGIN(&updates, k, &entry);

        /* where the key is still the one read (or still missing) */
        BSON_APPEND_DOCUMENT_BEGIN(&entry, "q", &q);
        bson_append_iter(&q, "_id", 3, &id);
        if (old != NULL) {
            BSON_APPEND_UTF8(&q, key, old);
        } else {
            BSON_APPEND_DOCUMENT_BEGIN(&q, key, &set);
            BSON_APPEND_BOOL(&set, "$exists", false);
            bson_append_document_end(&q, &set);
        }
        bson_append_document_end(&entry, &q);

        BSON_APPEND_DOCUMENT_BEGIN(&entry, "u", &u);
        BSON_APPEND_DOCUMENT_BEGIN(&u, "$set", &set);
        inbox_mongo_append_search_name(&set, key, value);
        bson_append_document_end(&u, &set);
        bson_append_document_end(&entry, &u);
        free(value);
        free(old);

        bson_append_document_end(&updates, &entry);
    }

    bson_destroy(&batch);

    if (written == 0) {
        bson_destroy(&updates);
        return INBOX_OK;
    }

    command = BCON_NEW("update", BCON_UTF8(collection),
                       "updates", BCON_ARRAY(&updates),
                       "ordered", BCON_BOOL(false));
    bson_destroy(&updates);

    return inbox_mongo_run_simple(ms, command, err);
}


/*
 * The folded search as a pattern, unanchored (search.h: a name that
 * contains it), regular expressions' own characters escaped; with q's
 * words (search.h), or a name that contains each, in any order:
 * "mar" "lop" as "marlop|^(?=.*mar)(?=.*lop)", one pattern still, which
 * the index's keys are filtered by.
 */
static char *
inbox_mongo_name_pattern(const inbox_search_t *search)
{
    int          i;
    char        *pattern, *p;
    size_t       size;
    const char  *word;

    size = strlen(search->name) * 2 + 8;
    for (i = 0, word = search->words; i < search->nwords; i++) {
        size += strlen(word) * 2 + 8;
        word += strlen(word) + 1;
    }

    pattern = bson_malloc(size);
    p = inbox_mongo_pattern_escape(pattern, search->name);

    if (search->nwords > 0) {
        p = stpcpy(p, "|^");
    }

    for (i = 0, word = search->words; i < search->nwords; i++) {
        p = stpcpy(p, "(?=.*");
        p = inbox_mongo_pattern_escape(p, word);
        *p++ = ')';
        word += strlen(word) + 1;
    }

    *p = '\0';

    return pattern;
}


/* text at p, regular expressions' own characters escaped; the end. */
static char *
inbox_mongo_pattern_escape(char *p, const char *text)
{
    for (/* void */; *text; text++) {
        if (strchr("\\^$.|?*+()[]{}", *text) != NULL) {
            *p++ = '\\';
        }
        *p++ = *text;
    }

    return p;
}
