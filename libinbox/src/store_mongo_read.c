/*
 * The MongoDB backend: find and aggregate commands read to their end.
 *
 * A server answers a find or an aggregate with its first batch only (101
 * documents unless batchSize says otherwise, 16 MiB at most) and keeps a
 * cursor open for the rest, which getMore commands fetch.  Those must come
 * in the session that made the cursor and go to the server that holds it,
 * which the driver's generic command calls do not know: so the command
 * documents the operations build, the ones the golden files show, are
 * replayed here as the driver's own cursor (mongoc_collection_find_with_opts
 * or mongoc_collection_aggregate), which keeps its session and server,
 * retries its first command once after a lost connection as the generic
 * call does, and is followed until the server has nothing left.
 */
#include <string.h>
#include "store_mongo.h"


static mongoc_cursor_t *inbox_mongo_read_cursor(mongoc_client_t *client,
    const char *db, const bson_t *command, mongoc_collection_t **collection,
    bson_error_t *error);


bool
inbox_mongo_read_all(mongoc_client_t *client, const char *db,
    const bson_t *command, bson_t *docs, bson_t *reply, bson_error_t *error)
{
    bool                  done;
    char                  buf[16];
    uint32_t              n;
    const char           *key;
    const bson_t         *doc, *failure;
    mongoc_cursor_t      *cursor;
    mongoc_collection_t  *collection;

    bson_init(docs);
    bson_init(reply);

    cursor = inbox_mongo_read_cursor(client, db, command, &collection,
                                     error);
    if (cursor == NULL) {
        return false;
    }

    n = 0;
    done = true;

    while (mongoc_cursor_next(cursor, &doc)) {
        bson_uint32_to_string(n++, &key, buf, sizeof(buf));
        if (!bson_append_document(docs, key, -1, doc)) {
            bson_set_error(error, MONGOC_ERROR_BSON,
                           MONGOC_ERROR_BSON_INVALID,
                           "the documents read are too large together");
            done = false;
            break;
        }
    }

    if (done && mongoc_cursor_error_document(cursor, error, &failure)) {
        /* the server's answer, if one came, says what failed */
        bson_destroy(reply);
        bson_copy_to(failure, reply);
        done = false;
    }

    mongoc_cursor_destroy(cursor);
    mongoc_collection_destroy(collection);

    if (!done) {
        bson_reinit(docs);
    }

    return done;
}


/* The driver's cursor for a find or an aggregate command: the collection
 * it names, the filter or pipeline, and the rest as options (an
 * aggregate's cursor.batchSize as batchSize). */
static mongoc_cursor_t *
inbox_mongo_read_cursor(mongoc_client_t *client, const char *db,
    const bson_t *command, mongoc_collection_t **collection,
    bson_error_t *error)
{
    int               find;
    bson_t            opts, filter, pipeline;
    const char       *key;
    bson_iter_t       iter, cursor;
    mongoc_cursor_t  *c;

    *collection = NULL;

    if (!bson_iter_init(&iter, command) || !bson_iter_next(&iter)
        || !BSON_ITER_HOLDS_UTF8(&iter)
        || (strcmp(bson_iter_key(&iter), "find") != 0
            && strcmp(bson_iter_key(&iter), "aggregate") != 0))
    {
        bson_set_error(error, MONGOC_ERROR_COMMAND,
                       MONGOC_ERROR_COMMAND_INVALID_ARG,
                       "not a find or aggregate of a collection");
        return NULL;
    }

    find = strcmp(bson_iter_key(&iter), "find") == 0;
    *collection = mongoc_client_get_collection(client, db,
                                               bson_iter_utf8(&iter, NULL));

    bson_init(&opts);
    bson_init(&filter);
    bson_init(&pipeline);

    while (bson_iter_next(&iter)) {
        key = bson_iter_key(&iter);

        if (find && strcmp(key, "filter") == 0) {
            /* points into command: the cursor copies it */
            (void) inbox_mongo_iter_doc(&iter, &filter);

        } else if (!find && strcmp(key, "pipeline") == 0) {
            bson_append_iter(&pipeline, "pipeline", -1, &iter);

        } else if (!find && strcmp(key, "cursor") == 0) {
            if (bson_iter_recurse(&iter, &cursor)
                && bson_iter_find(&cursor, "batchSize"))
            {
                bson_append_iter(&opts, "batchSize", -1, &cursor);
            }

        } else {
            bson_append_iter(&opts, key, -1, &iter);
        }
    }

    /* the collection's read preference and concern are the URI's, as
     * the generic read command's are */
    if (find) {
        c = mongoc_collection_find_with_opts(*collection, &filter, &opts,
                                             NULL);
    } else {
        c = mongoc_collection_aggregate(*collection, MONGOC_QUERY_NONE,
                                        &pipeline, &opts, NULL);
    }

    bson_destroy(&opts);
    bson_destroy(&filter);
    bson_destroy(&pipeline);

    return c;
}
