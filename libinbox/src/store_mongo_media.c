/*
 * The MongoDB backend: uploads (the media collection) and the copies of
 * inbound MMS images, kept in each message's embedded media: "state"
 * ("pending", "stored", "failed"), "fetch_at" (when a pending one is due;
 * a claim moves it to the end of its lease), "attempts", and once stored
 * "file" and "bytes".
 *
 * Without transactions, a claim is a compare-and-set per media: an update
 * that matches only while that media is still pending and due, so two
 * fetchers never both get it.  Likewise an upload is attached (a reply's
 * or campaign's, "attached": true) by an update that matches only while
 * it is there and not marked purging, and marked for its purge
 * ("purging_at", gone from then on; its file is unlinked next, its
 * record deleted last) by one that matches only while it is not
 * attached: one of the two finds the other's work done.  Uploads made
 * before "attached" was written have none, and are never purged.
 *
 * An upload a draft's edit drops, or that a write which failed after
 * attaching it never named, is released ("attached": false,
 * "released_at"): the purge takes it once it has been neither made nor
 * released for the grace period, and only when no message and no
 * campaign names its file; one that something names is attached again.
 * A writer attaches before it writes what names the file, and the two
 * are milliseconds apart, far less than the grace: a purge that finds
 * nothing naming an upload released that long ago cannot meet a writer
 * about to name it without its attach coming first, which its delete
 * then misses.  A release lost (a crash after the edit) leaves the
 * upload attached, kept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store_mongo.h"


static inbox_status_t inbox_mongo_media_lease(inbox_mongo_store_t *ms,
    const bson_oid_t *message, unsigned idx, int64_t now,
    int64_t lease_until, int *leased, inbox_error_t *err);
static inbox_status_t inbox_mongo_media_retype_thread(
    inbox_mongo_store_t *ms, const bson_oid_t *org, const bson_oid_t *id,
    const inbox_message_t *message, const char *content_type,
    inbox_conversation_t *conversation, int *retyped, inbox_error_t *err);
static inbox_status_t inbox_mongo_media_settle(inbox_mongo_store_t *ms,
    const char *message_id, unsigned idx, bson_t *set, int give_back,
    int final, const char *stored_type, inbox_event_list_t *events,
    inbox_error_t *err);


inbox_status_t
inbox_mongo_media_add(inbox_store_t *store, const char *org_id,
    inbox_media_record_t *media, inbox_error_t *err)
{
    bson_oid_t            org, oid;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    rc = inbox_mongo_org_check(ms, org_id, &org, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    inbox_mongo_new_id(ms, &oid);
    media->created_at = inbox_mongo_now(ms);

    rc = inbox_mongo_run_simple(ms,
        BCON_NEW("insert", BCON_UTF8("media"),
                 "documents", "[", "{",
                     "_id", BCON_OID(&oid),
                     "org_id", BCON_OID(&org),
                     "file", BCON_UTF8(media->file),
                     "content_type", BCON_UTF8(media->content_type),
                     "bytes", BCON_INT64(media->bytes),
                     "created_at", BCON_DATE_TIME(media->created_at),
                     "attached", BCON_BOOL(false),
                 "}", "]"),
        err);

    if (rc == INBOX_OK) {
        inbox_mongo_id_hex(&oid, media->id);
    }

    return rc;
}


inbox_status_t
inbox_mongo_media_get(inbox_store_t *store, const char *org_id,
    const char *const *ids, size_t n, inbox_media_record_t *media,
    inbox_error_t *err)
{
    char                  key[24], hex[INBOX_ID_MAX];
    size_t                i, k, found;
    bson_t                in, batch, doc;
    bson_t               *command;
    bson_oid_t            org, oid;
    bson_iter_t           iter;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    if (inbox_mongo_parse_id(org_id, &org) != 0) {
        return inbox_error_org_unknown(err, org_id);
    }

    bson_init(&in);

    /* one that is no id is left out, unknown as one not found, so that
     * the first unknown is named whatever makes it so */
    for (i = 0, k = 0; i < n; i++) {
        if (inbox_mongo_parse_id(ids[i], &oid) == 0) {
            snprintf(key, sizeof(key), "%zu", k++);
            BSON_APPEND_OID(&in, key, &oid);
        }
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        bson_destroy(&in);
        return rc;
    }

    /* another organization's ids match nothing, as made-up ones */
    /* one a purge marked is gone already */
    command = BCON_NEW("find", BCON_UTF8("media"),
                       "filter", "{",
                           "_id", "{", "$in", BCON_ARRAY(&in), "}",
                           "org_id", BCON_OID(&org),
                           "purging_at", "{",
                               "$exists", BCON_BOOL(false),
                           "}",
                       "}",
                       "limit", BCON_INT32((int32_t) n),
                       "singleBatch", BCON_BOOL(true));
    bson_destroy(&in);

    rc = inbox_mongo_run_cursor(ms, command, &batch, err);
    if (rc != INBOX_OK) {
        bson_destroy(&batch);
        return rc;
    }

    bson_iter_init(&iter, &batch);

    while (inbox_mongo_next_doc(&iter, &doc)) {
        inbox_mongo_get_id(&doc, "_id", hex);

        /* in the order asked, the same id as often as asked */
        for (i = 0; i < n; i++) {
            if (strcmp(ids[i], hex) != 0) {
                continue;
            }

            memcpy(media[i].id, hex, INBOX_ID_MAX);
            inbox_mongo_get_str(&doc, "file", media[i].file,
                                sizeof(media[i].file));
            inbox_mongo_get_str(&doc, "content_type", media[i].content_type,
                                sizeof(media[i].content_type));
            media[i].bytes = inbox_mongo_get_int(&doc, "bytes");
            media[i].created_at = inbox_mongo_get_date(&doc, "created_at");
        }
    }

    bson_destroy(&batch);

    for (found = 0; found < n && media[found].id[0] != '\0'; found++) {
        /* void */
    }

    if (found < n) {
        /* those found are kept: the unknown one is the first empty */
        rc = inbox_error_set_field(err, INBOX_ERR_NOT_FOUND, "media_ids",
                                   "There is no image with the id "
                                   "\"%.32s\".", ids[found]);
    }

    return rc;
}


inbox_status_t
inbox_mongo_media_attach(inbox_mongo_store_t *ms, const bson_oid_t *org,
    const inbox_media_t *media, size_t n, inbox_error_t *err)
{
    int             matched;
    size_t          i;
    inbox_status_t  rc;

    for (i = 0; i < n; i++) {
        rc = inbox_mongo_update_one(ms, "media",
                 BCON_NEW("file", BCON_UTF8(media[i].file),
                          "org_id", BCON_OID(org),
                          "purging_at", "{",
                              "$exists", BCON_BOOL(false),
                          "}"),
                 BCON_NEW("$set", "{", "attached", BCON_BOOL(true), "}"),
                 &matched, err);
        if (rc != INBOX_OK) {
            return rc;
        }

        /* purged (or being purged) since the request read it: nothing
         * may name its file, and those attached before it are named by
         * nothing either */
        if (!matched) {
            (void) inbox_mongo_media_release(ms, org, media, i, NULL, 0,
                                             NULL);
            return inbox_media_gone(i, err);
        }
    }

    return INBOX_OK;
}


inbox_status_t
inbox_mongo_media_release(inbox_mongo_store_t *ms, const bson_oid_t *org,
    const inbox_media_t *media, size_t n, const inbox_media_t *kept,
    size_t n_kept, inbox_error_t *err)
{
    char            key[24];
    size_t          i, j, k;
    bson_t          files;
    inbox_error_t   fallback;

    if (err == NULL) {
        err = &fallback;
    }

    bson_init(&files);

    for (i = 0, k = 0; i < n; i++) {
        for (j = 0; j < n_kept; j++) {
            if (strcmp(media[i].file, kept[j].file) == 0) {
                break;
            }
        }

        if (j == n_kept && media[i].file[0] != '\0') {
            snprintf(key, sizeof(key), "%zu", k++);
            BSON_APPEND_UTF8(&files, key, media[i].file);
        }
    }

    if (k == 0) {
        bson_destroy(&files);
        return INBOX_OK;
    }

    return inbox_mongo_run_simple(ms,
        BCON_NEW("update", BCON_UTF8("media"),
                 "updates", "[", "{",
                     "q", "{",
                         "org_id", BCON_OID(org),
                         "file", "{", "$in", BCON_ARRAY(&files), "}",
                     "}",
                     "u", "{", "$set", "{",
                         "attached", BCON_BOOL(false),
                         "released_at", BCON_DATE_TIME(inbox_mongo_now(ms)),
                     "}", "}",
                     "multi", BCON_BOOL(true),
                 "}", "]",
                 "ordered", BCON_BOOL(true)),
        err);
}


/* An upload the purge may take: its id and file, and whether something
 * names the file. */
typedef struct {
    bson_oid_t  id;
    char        file[INBOX_MEDIA_FILE_MAX];
    int         named;
} inbox_mongo_upload_due_t;


/* The purge's window in query: not attached, made and (if ever)
 * released before "before", not marked purging already. */
static void
inbox_mongo_media_due(bson_t *query, int64_t before)
{
    BCON_APPEND(query,
                "attached", BCON_BOOL(false),
                "created_at", "{", "$lt", BCON_DATE_TIME(before), "}",
                "released_at", "{",
                    "$not", "{", "$gte", BCON_DATE_TIME(before), "}",
                "}",
                "purging_at", "{", "$exists", BCON_BOOL(false), "}");
}


/*
 * The purge's first phase: those a round left marked (one find, on
 * "purging"), then the oldest uploads of the window up to max in all
 * (one find), then which of them a message or a campaign names (one
 * message looked for each, on media_file; the campaigns for all at
 * once): those attached again, in one update, and the others marked one
 * at a time, each by a findAndModify that matches only while it is in
 * the window still (an attach since is left alone; an attach after it
 * misses it) and hands back its file.
 */
inbox_status_t
inbox_mongo_media_purge(inbox_store_t *store, int64_t now, int64_t before,
    size_t max, char (*files)[INBOX_MEDIA_FILE_MAX], size_t *marked,
    inbox_error_t *err)
{
    int                        found;
    char                       key[24], hex[INBOX_ID_MAX];
    char                       file[INBOX_MEDIA_FILE_MAX];
    size_t                     i, n, k, room;
    bson_t                     batch, doc, item, value, query, list;
    bson_iter_t                iter, media, each;
    inbox_status_t             rc;
    inbox_mongo_store_t       *ms = (inbox_mongo_store_t *) store;
    inbox_mongo_upload_due_t  *due;

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    /* those a round left marked come first: their files may be there */
    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("find", BCON_UTF8("media"),
                 "filter", "{",
                     "purging_at", "{", "$exists", BCON_BOOL(true), "}",
                 "}",
                 "sort", "{", "purging_at", BCON_INT32(1), "}",
                 "projection", "{", "file", BCON_INT32(1), "}",
                 "limit", BCON_INT64((int64_t) max),
                 "batchSize", BCON_INT64((int64_t) max)),
        &batch, err);

    bson_iter_init(&iter, &batch);

    while (rc == INBOX_OK && *marked < max
           && inbox_mongo_next_doc(&iter, &doc))
    {
        inbox_mongo_get_str(&doc, "file", files[*marked],
                            INBOX_MEDIA_FILE_MAX);
        (*marked)++;
    }

    bson_destroy(&batch);

    if (rc != INBOX_OK || *marked == max) {
        return rc;
    }

    room = max - *marked;

    bson_init(&query);
    inbox_mongo_media_due(&query, before);

    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("find", BCON_UTF8("media"),
                 "filter", BCON_DOCUMENT(&query),
                 "sort", "{", "created_at", BCON_INT32(1), "}",
                 "projection", "{", "file", BCON_INT32(1), "}",
                 "limit", BCON_INT64((int64_t) room),
                 "batchSize", BCON_INT64((int64_t) room)),
        &batch, err);
    bson_destroy(&query);

    if (rc != INBOX_OK) {
        bson_destroy(&batch);
        return rc;
    }

    due = calloc(room, sizeof(inbox_mongo_upload_due_t));
    if (due == NULL) {
        bson_destroy(&batch);
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    n = 0;
    bson_iter_init(&iter, &batch);

    while (n < room && inbox_mongo_next_doc(&iter, &doc)) {
        inbox_mongo_get_id(&doc, "_id", hex);
        inbox_mongo_get_str(&doc, "file", due[n].file, INBOX_MEDIA_FILE_MAX);

        if (inbox_mongo_parse_id(hex, &due[n].id) == 0) {
            n++;
        }
    }

    bson_destroy(&batch);

    /* a reply's or a campaign message's (an inbound copy is no upload) */
    for (i = 0; rc == INBOX_OK && i < n; i++) {
        rc = inbox_mongo_find_one(ms, "messages",
                                  BCON_NEW("media.file",
                                           BCON_UTF8(due[i].file)),
                                  BCON_NEW("_id", BCON_INT32(1)),
                                  &doc, &due[i].named, err);
        bson_destroy(&doc);
    }

    /* a campaign's or a poll's, draft or sent */
    bson_init(&list);

    for (i = 0, k = 0; i < n; i++) {
        if (!due[i].named) {
            snprintf(key, sizeof(key), "%zu", k++);
            BSON_APPEND_UTF8(&list, key, due[i].file);
        }
    }

    if (rc == INBOX_OK && k > 0) {
        rc = inbox_mongo_run_cursor(ms,
            BCON_NEW("find", BCON_UTF8("campaigns"),
                     "filter", "{",
                         "media.file", "{", "$in", BCON_ARRAY(&list), "}",
                     "}",
                     "projection", "{", "media.file", BCON_INT32(1), "}"),
            &batch, err);

        bson_iter_init(&iter, &batch);

        while (rc == INBOX_OK && inbox_mongo_next_doc(&iter, &doc)) {
            if (!bson_iter_init_find(&media, &doc, "media")
                || !BSON_ITER_HOLDS_ARRAY(&media)
                || !bson_iter_recurse(&media, &each))
            {
                continue;
            }

            while (inbox_mongo_next_doc(&each, &item)) {
                inbox_mongo_get_str(&item, "file", file, sizeof(file));

                for (i = 0; i < n; i++) {
                    if (strcmp(due[i].file, file) == 0) {
                        due[i].named = 1;
                    }
                }
            }
        }

        bson_destroy(&batch);
    }

    bson_destroy(&list);

    /* named after all: out of the window until released again */
    bson_init(&list);

    for (i = 0, k = 0; i < n; i++) {
        if (due[i].named) {
            snprintf(key, sizeof(key), "%zu", k++);
            BSON_APPEND_OID(&list, key, &due[i].id);
        }
    }

    if (rc == INBOX_OK && k > 0) {
        bson_init(&query);
        BCON_APPEND(&query, "_id", "{", "$in", BCON_ARRAY(&list), "}");
        inbox_mongo_media_due(&query, before);

        rc = inbox_mongo_run_simple(ms,
            BCON_NEW("update", BCON_UTF8("media"),
                     "updates", "[", "{",
                         "q", BCON_DOCUMENT(&query),
                         "u", "{", "$set", "{",
                             "attached", BCON_BOOL(true),
                         "}", "}",
                         "multi", BCON_BOOL(true),
                     "}", "]",
                     "ordered", BCON_BOOL(true)),
            err);
        bson_destroy(&query);
    }

    bson_destroy(&list);

    for (i = 0; rc == INBOX_OK && i < n && *marked < max; i++) {
        if (due[i].named) {
            continue;
        }

        bson_init(&query);
        BSON_APPEND_OID(&query, "_id", &due[i].id);
        inbox_mongo_media_due(&query, before);

        rc = inbox_mongo_run_find_and_modify(ms,
            BCON_NEW("findAndModify", BCON_UTF8("media"),
                     "query", BCON_DOCUMENT(&query),
                     "update", "{", "$set", "{",
                         "purging_at", BCON_DATE_TIME(now),
                     "}", "}",
                     "fields", "{", "file", BCON_INT32(1), "}"),
            &value, &found, err);
        bson_destroy(&query);

        if (rc == INBOX_OK && found) {
            inbox_mongo_get_str(&value, "file", files[*marked],
                                INBOX_MEDIA_FILE_MAX);
            (*marked)++;
        }

        bson_destroy(&value);
    }

    free(due);

    return rc;
}


/* The purge's second phase: the records of the files gone, those still
 * marked only (another round's may have gone first), in one delete. */
inbox_status_t
inbox_mongo_media_purge_done(inbox_store_t *store,
    char (*files)[INBOX_MEDIA_FILE_MAX], size_t n, inbox_error_t *err)
{
    char                  key[24];
    size_t                i;
    bson_t                list;
    bson_t               *query;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    bson_init(&list);

    for (i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "%zu", i);
        BSON_APPEND_UTF8(&list, key, files[i]);
    }

    query = BCON_NEW("file", "{", "$in", BCON_ARRAY(&list), "}",
                     "purging_at", "{", "$exists", BCON_BOOL(true), "}");
    bson_destroy(&list);

    return inbox_mongo_delete(ms, "media", query, NULL, err);
}


/* Marks named[i] for each of the n files the documents in batch name:
 * their "file" (an upload's) or, with field "_id", the file an
 * aggregation grouped by. */
static void
inbox_mongo_media_named_in(bson_t *batch, const char *field,
    char (*files)[INBOX_MEDIA_FILE_MAX], size_t n, unsigned char *named)
{
    char         file[INBOX_MEDIA_FILE_MAX];
    size_t       i;
    bson_t       doc;
    bson_iter_t  iter;

    bson_iter_init(&iter, batch);

    while (inbox_mongo_next_doc(&iter, &doc)) {
        file[0] = '\0';
        inbox_mongo_get_str(&doc, field, file, sizeof(file));

        for (i = 0; i < n; i++) {
            if (strcmp(files[i], file) == 0) {
                named[i] = 1;
            }
        }
    }
}


/*
 * Which files a record names: the uploads in one find (file_unique),
 * then the messages' and the campaigns' media each in one aggregation
 * that finds the documents on media_file and hands back each file named
 * once (a campaign's image is in every one of its messages).
 */
inbox_status_t
inbox_mongo_media_files_named(inbox_store_t *store,
    char (*files)[INBOX_MEDIA_FILE_MAX], size_t n, unsigned char *named,
    inbox_error_t *err)
{
    char                  key[24];
    size_t                i, c;
    bson_t                list, batch;
    inbox_status_t        rc;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    static const char    *collections[] = { "messages", "campaigns" };

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    bson_init(&list);

    for (i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "%zu", i);
        BSON_APPEND_UTF8(&list, key, files[i]);
    }

    rc = inbox_mongo_run_cursor(ms,
        BCON_NEW("find", BCON_UTF8("media"),
                 "filter", "{",
                     "file", "{", "$in", BCON_ARRAY(&list), "}",
                 "}",
                 "projection", "{", "file", BCON_INT32(1), "}",
                 "batchSize", BCON_INT64((int64_t) n)),
        &batch, err);

    if (rc == INBOX_OK) {
        inbox_mongo_media_named_in(&batch, "file", files, n, named);
    }

    bson_destroy(&batch);

    for (c = 0; rc == INBOX_OK && c < 2; c++) {
        rc = inbox_mongo_run_cursor(ms,
            BCON_NEW("aggregate", BCON_UTF8(collections[c]),
                     "pipeline", "[",
                         "{", "$match", "{",
                             "media.file", "{",
                                 "$in", BCON_ARRAY(&list),
                             "}",
                         "}", "}",
                         "{", "$unwind", BCON_UTF8("$media"), "}",
                         "{", "$match", "{",
                             "media.file", "{",
                                 "$in", BCON_ARRAY(&list),
                             "}",
                         "}", "}",
                         "{", "$group", "{",
                             "_id", BCON_UTF8("$media.file"),
                         "}", "}",
                     "]",
                     "cursor", "{",
                         "batchSize", BCON_INT64((int64_t) n),
                     "}"),
            &batch, err);

        if (rc == INBOX_OK) {
            inbox_mongo_media_named_in(&batch, "_id", files, n, named);
        }

        bson_destroy(&batch);
    }

    bson_destroy(&list);

    if (rc != INBOX_OK) {
        memset(named, 0, n);
    }

    return rc;
}


/*
 * The messages with media due, then each due media leased by its own
 * compare-and-set (a concurrent claim of the same one leases nothing),
 * until limit media are claimed.
 */
inbox_status_t
inbox_mongo_media_fetch_claim(inbox_store_t *store, int64_t now,
    int64_t lease_until, unsigned limit, inbox_media_fetch_list_t *list,
    inbox_error_t *err)
{
    int                   leased;
    char                  state[16], carrier[16], key[16];
    char                  to[INBOX_PHONE_MAX];
    bson_t                batch, doc, media, item;
    bson_t               *command;
    int64_t               fetch_at;
    uint32_t              len;
    unsigned              idx;
    bson_oid_t            message, org;
    bson_iter_t           iter, media_iter, id_iter;
    const uint8_t        *data;
    inbox_status_t        rc;
    inbox_media_fetch_t  *it;
    inbox_mongo_store_t  *ms = (inbox_mongo_store_t *) store;

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    list->items = calloc(limit, sizeof(inbox_media_fetch_t));
    if (list->items == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "Out of memory.");
    }

    command = BCON_NEW("find", BCON_UTF8("messages"),
                       "filter", "{",
                           "media.state", BCON_UTF8("pending"),
                           "media", "{", "$elemMatch", "{",
                               "state", BCON_UTF8("pending"),
                               "fetch_at", "{",
                                   "$lte", BCON_DATE_TIME(now),
                               "}",
                           "}", "}",
                       "}",
                       "projection", "{",
                           "org_id", BCON_INT32(1),
                           "provider", BCON_INT32(1),
                           "to", BCON_INT32(1),
                           "media", BCON_INT32(1),
                       "}",
                       "limit", BCON_INT32((int32_t) limit),
                       "singleBatch", BCON_BOOL(true));

    rc = inbox_mongo_run_cursor(ms, command, &batch, err);
    if (rc != INBOX_OK) {
        bson_destroy(&batch);
        inbox_media_fetch_list_free(list);
        return rc;
    }

    bson_iter_init(&iter, &batch);

    while (rc == INBOX_OK && list->count < limit
           && inbox_mongo_next_doc(&iter, &doc))
    {
        if (!bson_iter_init_find(&id_iter, &doc, "_id")
            || !BSON_ITER_HOLDS_OID(&id_iter)
            || !bson_iter_init_find(&media_iter, &doc, "media")
            || !BSON_ITER_HOLDS_ARRAY(&media_iter))
        {
            continue;
        }

        bson_oid_copy(bson_iter_oid(&id_iter), &message);
        inbox_mongo_get_str(&doc, "provider", carrier, sizeof(carrier));
        inbox_mongo_get_str(&doc, "to", to, sizeof(to));

        bson_iter_array(&media_iter, &len, &data);
        if (!bson_init_static(&media, data, len)) {
            continue;
        }

        for (idx = 0; rc == INBOX_OK && list->count < limit; idx++) {
            snprintf(key, sizeof(key), "%u", idx);

            if (!bson_iter_init_find(&media_iter, &media, key)) {
                break;
            }

            if (!inbox_mongo_iter_doc(&media_iter, &item)) {
                continue;
            }

            inbox_mongo_get_str(&item, "state", state, sizeof(state));
            fetch_at = inbox_mongo_get_date(&item, "fetch_at");

            if (strcmp(state, "pending") != 0 || fetch_at > now) {
                continue;
            }

            rc = inbox_mongo_media_lease(ms, &message, idx, now, lease_until,
                                         &leased, err);
            if (rc != INBOX_OK || !leased) {
                continue;
            }

            it = &list->items[list->count++];
            inbox_mongo_id_hex(&message, it->message_id);
            inbox_mongo_get_id(&doc, "org_id", it->org_id);
            it->idx = idx;
            inbox_mongo_get_str(&item, "url", it->url, sizeof(it->url));
            inbox_mongo_get_str(&item, "content_type", it->content_type,
                                sizeof(it->content_type));
            it->attempts = (unsigned) inbox_mongo_get_int(&item, "attempts")
                           + 1;

            if (inbox_mongo_parse_id(it->org_id, &org) == 0) {
                rc = inbox_mongo_carrier_number(ms, &org, carrier, to,
                                              &it->number, err);
            }
        }
    }

    bson_destroy(&batch);

    if (rc != INBOX_OK) {
        inbox_media_fetch_list_free(list);
    }

    return rc;
}


/* Leases media idx of message while it is still pending and due. */
static inbox_status_t
inbox_mongo_media_lease(inbox_mongo_store_t *ms, const bson_oid_t *message,
    unsigned idx, int64_t now, int64_t lease_until, int *leased,
    inbox_error_t *err)
{
    char            state[32], fetch_at[32], attempts[32];
    bson_t          reply;
    bson_t         *command;
    inbox_status_t  rc;

    snprintf(state, sizeof(state), "media.%u.state", idx);
    snprintf(fetch_at, sizeof(fetch_at), "media.%u.fetch_at", idx);
    snprintf(attempts, sizeof(attempts), "media.%u.attempts", idx);

    command = BCON_NEW("update", BCON_UTF8("messages"),
                       "updates", "[", "{",
                           "q", "{",
                               "_id", BCON_OID(message),
                               state, BCON_UTF8("pending"),
                               fetch_at, "{",
                                   "$lte", BCON_DATE_TIME(now),
                               "}",
                           "}",
                           "u", "{",
                               "$set", "{",
                                   fetch_at, BCON_DATE_TIME(lease_until),
                               "}",
                               "$inc", "{", attempts, BCON_INT32(1), "}",
                           "}",
                       "}", "]");

    rc = inbox_mongo_run(ms, command, &reply, err);

    *leased = (rc == INBOX_OK && inbox_mongo_get_int(&reply, "n") == 1);

    bson_destroy(&reply);
    bson_destroy(command);

    return rc;
}


/* The organization's number e164 of that carrier (e164 "": none), else
 * its first of that carrier; none: no credentials, not an error. */
inbox_status_t
inbox_mongo_carrier_number(inbox_mongo_store_t *ms, const bson_oid_t *org,
    const char *carrier, const char *e164, inbox_number_t *number,
    inbox_error_t *err)
{
    int             found, round;
    bson_t          batch;
    bson_t         *command, *filter;
    bson_iter_t     iter;
    bson_t          doc;
    inbox_status_t  rc;

    rc = INBOX_OK;
    found = 0;

    /* the message's own number (its account's credentials reach it),
     * else the organization's first of that carrier */
    for (round = e164[0] == '\0'; rc == INBOX_OK && !found && round < 2;
         round++)
    {
        filter = BCON_NEW("org_id", BCON_OID(org),
                          "carrier", BCON_UTF8(carrier));
        if (round == 0) {
            BSON_APPEND_UTF8(filter, "e164", e164);
        }

        command = BCON_NEW("find", BCON_UTF8("numbers"),
                           "filter", BCON_DOCUMENT(filter),
                           "sort", "{", "_id", BCON_INT32(1), "}",
                           "limit", BCON_INT32(1),
                           "singleBatch", BCON_BOOL(true));
        bson_destroy(filter);

        rc = inbox_mongo_run_cursor(ms, command, &batch, err);

        found = rc == INBOX_OK
                && bson_iter_init_find(&iter, &batch, "0")
                && inbox_mongo_iter_doc(&iter, &doc);

        if (found) {
            rc = inbox_mongo_parse_number(&doc, number, err);
        }

        bson_destroy(&batch);
    }

    return rc;
}


inbox_status_t
inbox_mongo_media_fetch_done(inbox_store_t *store, const char *message_id,
    unsigned idx, const char *file, const char *content_type, int64_t bytes,
    inbox_event_list_t *events, inbox_error_t *err)
{
    char    path[48];
    bson_t  set;

    bson_init(&set);

    snprintf(path, sizeof(path), "media.%u.state", idx);
    BSON_APPEND_UTF8(&set, path, inbox_media_state_name(INBOX_MEDIA_STORED));
    snprintf(path, sizeof(path), "media.%u.file", idx);
    BSON_APPEND_UTF8(&set, path, file);
    snprintf(path, sizeof(path), "media.%u.content_type", idx);
    BSON_APPEND_UTF8(&set, path, content_type);
    snprintf(path, sizeof(path), "media.%u.bytes", idx);
    BSON_APPEND_INT64(&set, path, bytes);

    return inbox_mongo_media_settle((inbox_mongo_store_t *) store, message_id,
                                    idx, &set, 0, 1, content_type, events,
                                    err);
}


inbox_status_t
inbox_mongo_media_fetch_failed(inbox_store_t *store, const char *message_id,
    unsigned idx, int64_t retry_at, inbox_event_list_t *events,
    inbox_error_t *err)
{
    char    path[48];
    bson_t  set;

    bson_init(&set);

    if (retry_at > 0) {
        snprintf(path, sizeof(path), "media.%u.fetch_at", idx);
        BSON_APPEND_DATE_TIME(&set, path, retry_at);

    } else {
        snprintf(path, sizeof(path), "media.%u.state", idx);
        BSON_APPEND_UTF8(&set, path,
                         inbox_media_state_name(INBOX_MEDIA_FAILED));
    }

    return inbox_mongo_media_settle((inbox_mongo_store_t *) store, message_id,
                                    idx, &set, 0, retry_at <= 0, NULL, events,
                                    err);
}


/* due_at is never 0 (store.c): the media stays pending, nothing pushed */
inbox_status_t
inbox_mongo_media_fetch_give_back(inbox_store_t *store,
    const char *message_id, unsigned idx, int64_t due_at, inbox_error_t *err)
{
    char    path[48];
    bson_t  set;

    bson_init(&set);

    snprintf(path, sizeof(path), "media.%u.fetch_at", idx);
    BSON_APPEND_DATE_TIME(&set, path, due_at);

    return inbox_mongo_media_settle((inbox_mongo_store_t *) store, message_id,
                                    idx, &set, 1, 0, NULL, NULL, err);
}


/*
 * Sets set (destroyed here) on the message while media idx is pending;
 * with give_back, also takes back the attempt its claim counted (only
 * from one that has one); when final, message.updated with the message
 * as it is then, and with stored_type (a copy's type, else NULL) the
 * thread's row retyped as inbox_mongo_media_retype_thread says.  A media
 * that is not pending (or has no attempt to take back) is a conflict;
 * one that is not there, not found.
 */
static inbox_status_t
inbox_mongo_media_settle(inbox_mongo_store_t *ms, const char *message_id,
    unsigned idx, bson_t *set, int give_back, int final,
    const char *stored_type, inbox_event_list_t *events, inbox_error_t *err)
{
    int                   found, retyped;
    char                  state[32], attempts[32], item[32];
    char                  org_hex[INBOX_ID_MAX];
    bson_t                value, doc, query, update;
    bson_oid_t            oid, org;
    inbox_change_t        change;
    inbox_status_t        rc;
    inbox_error_t         ignored;
    inbox_message_t       message;
    inbox_conversation_t  conversation;

    memset(&message, 0, sizeof(inbox_message_t));
    memset(&conversation, 0, sizeof(inbox_conversation_t));

    if (inbox_mongo_parse_id(message_id, &oid) != 0) {
        bson_destroy(set);
        return inbox_error_not_found(err, "message");
    }

    rc = inbox_mongo_ensure_indexes(ms, err);
    if (rc != INBOX_OK) {
        bson_destroy(set);
        return rc;
    }

    snprintf(state, sizeof(state), "media.%u.state", idx);
    snprintf(attempts, sizeof(attempts), "media.%u.attempts", idx);
    snprintf(item, sizeof(item), "media.%u", idx);

    bson_init(&query);
    BSON_APPEND_OID(&query, "_id", &oid);
    BSON_APPEND_UTF8(&query, state, "pending");

    bson_init(&update);
    BSON_APPEND_DOCUMENT(&update, "$set", set);

    if (give_back) {
        BCON_APPEND(&query, attempts, "{", "$gt", BCON_INT32(0), "}");
        BCON_APPEND(&update, "$inc", "{", attempts, BCON_INT32(-1), "}");
    }

    rc = inbox_mongo_run_find_and_modify(ms,
        BCON_NEW("findAndModify", BCON_UTF8("messages"),
                 "query", BCON_DOCUMENT(&query),
                 "update", BCON_DOCUMENT(&update),
                 "new", BCON_BOOL(true)),
        &value, &found, err);
    bson_destroy(set);
    bson_destroy(&query);
    bson_destroy(&update);

    if (rc == INBOX_OK && !found) {
        bson_destroy(&value);

        rc = inbox_mongo_find_one(ms, "messages",
                                  BCON_NEW("_id", BCON_OID(&oid),
                                           item, "{",
                                               "$exists", BCON_BOOL(true),
                                           "}"),
                                  BCON_NEW("_id", BCON_INT32(1)),
                                  &doc, &found, err);
        bson_destroy(&doc);

        if (rc != INBOX_OK) {
            return rc;
        }

        if (found) {
            return inbox_error_set(err, INBOX_ERR_CONFLICT,
                                   "This image has a copy already, or was "
                                   "given up.");
        }

        return inbox_error_set(err, INBOX_ERR_NOT_FOUND,
                               "There is no such image.");
    }

    if (rc != INBOX_OK || !final) {
        bson_destroy(&value);
        return rc;
    }

    rc = inbox_mongo_parse_message(&value, &message, err);

    if (rc == INBOX_OK) {
        inbox_mongo_get_id(&value, "org_id", org_hex);

        if (inbox_mongo_parse_id(org_hex, &org) != 0) {
            rc = inbox_error_set(err, INBOX_ERR_INTERNAL,
                                 "The message has no organization.");
        }
    }

    bson_destroy(&value);

    retyped = 0;

    /* a write of its own after the copy's: one that fails leaves the row
     * as the carrier named it, and the copy stands (a failure here would
     * have its file removed under a stored message) */
    if (rc == INBOX_OK && stored_type != NULL && idx == 0
        && inbox_mongo_media_retype_thread(ms, &org, &oid, &message,
                                           stored_type, &conversation,
                                           &retyped, &ignored)
           != INBOX_OK)
    {
        retyped = 0;
    }

    if (rc == INBOX_OK) {
        inbox_change_media(&change, &message,
                           retyped ? &conversation : NULL);
        rc = inbox_mongo_events_append(ms, &org, &change, events, err);
    }

    inbox_message_free(&message);
    inbox_conversation_free(&conversation);

    return rc;
}


/*
 * The copy of message's first attachment is content_type: when message is
 * its thread's last one, the thread's list row says so from now on
 * (*retyped, and the thread as it is then in *conversation), unless it
 * said so already or the copy's type says less
 * (inbox_preview_copy_type).
 */
static inbox_status_t
inbox_mongo_media_retype_thread(inbox_mongo_store_t *ms,
    const bson_oid_t *org, const bson_oid_t *id,
    const inbox_message_t *message, const char *content_type,
    inbox_conversation_t *conversation, int *retyped, inbox_error_t *err)
{
    char            plain[INBOX_CONTENT_TYPE_MAX];
    bson_t          value;
    bson_oid_t      conversation_id;
    inbox_status_t  rc;

    if (inbox_mongo_parse_id(message->conversation_id, &conversation_id)
        != 0)
    {
        return inbox_error_set(err, INBOX_ERR_INTERNAL,
                               "The message has no conversation.");
    }

    *retyped = 0;

    if (!inbox_preview_copy_type(content_type, plain, sizeof(plain))) {
        return INBOX_OK;
    }

    rc = inbox_mongo_run_find_and_modify(ms,
        BCON_NEW("findAndModify", BCON_UTF8("conversations"),
                 "query", "{",
                     "_id", BCON_OID(&conversation_id),
                     "org_id", BCON_OID(org),
                     "last_message.id", BCON_OID(id),
                     "last_message.media_type", "{",
                         "$ne", BCON_UTF8(plain),
                     "}",
                 "}",
                 "update", "{", "$set", "{",
                     "last_message.media_type", BCON_UTF8(plain),
                 "}", "}",
                 "new", BCON_BOOL(true)),
        &value, retyped, err);

    if (rc == INBOX_OK && *retyped) {
        inbox_mongo_parse_conversation(&value, conversation);
    }

    bson_destroy(&value);

    return rc;
}
