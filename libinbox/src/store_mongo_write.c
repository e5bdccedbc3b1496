/*
 * The MongoDB backend: insert and update commands sent as retryable writes.
 *
 * mongo-c-driver resends a write after a lost connection or a primary's
 * step-down only when it knows the write to be retryable, and a generic
 * {"insert": ...} or {"update": ...} command is not one to it: only its
 * bulk API gives those the session's transaction number that lets the
 * server apply a resent write once.  (findAndModify is retryable either
 * way.)  So the command documents the operations build, the ones the
 * golden files show, are replayed here as a bulk operation, and the bulk
 * reply is put back in the shape of the command's own reply, for
 * inbox_mongo_run to judge and the operations to read (the contacts an
 * import's upserts made, the campaigns dispatch started).  The driver
 * checks each item as it is added, with no server: inbox_mongo_write_check
 * makes that same conversion for the golden tests, whose transport sees
 * the commands before the driver, and whose canned replies come back
 * through inbox_mongo_write_reply as a server's do.
 */
#include <string.h>
#include "store_mongo.h"


static mongoc_bulk_operation_t *inbox_mongo_write_bulk(
    mongoc_client_t *client, const char *db, const bson_t *command,
    mongoc_collection_t **collection, bson_error_t *error);
static bool inbox_mongo_write_add(mongoc_bulk_operation_t *bulk,
    int insert, const bson_t *item, bson_error_t *error);
static bool inbox_mongo_write_fields(bson_iter_t *iter, const char *a,
    const char *b, const char *c, const char *d, bson_error_t *error);


int
inbox_mongo_is_basic_write(const bson_t *command)
{
    bson_iter_t  iter;

    if (!bson_iter_init(&iter, command) || !bson_iter_next(&iter)) {
        return 0;
    }

    return strcmp(bson_iter_key(&iter), "insert") == 0
           || strcmp(bson_iter_key(&iter), "update") == 0;
}


bool
inbox_mongo_write_retryable(mongoc_client_t *client, const char *db,
    const bson_t *command, bson_t *reply, bson_error_t *error)
{
    bool                      done;
    bson_t                    result;
    mongoc_collection_t      *collection;
    mongoc_bulk_operation_t  *bulk;

    bson_init(reply);

    bulk = inbox_mongo_write_bulk(client, db, command, &collection, error);
    if (bulk == NULL) {
        return false;
    }

    done = mongoc_bulk_operation_execute(bulk, &result, error) != 0;
    inbox_mongo_write_reply(command, done, &result, error, reply);
    bson_destroy(&result);

    mongoc_bulk_operation_destroy(bulk);
    mongoc_collection_destroy(collection);

    return done;
}


bool
inbox_mongo_write_check(const char *db, const bson_t *command,
    bson_error_t *error)
{
    mongoc_client_t          *client;
    mongoc_collection_t      *collection;
    mongoc_bulk_operation_t  *bulk;

    if (!inbox_mongo_is_basic_write(command)) {
        return true;
    }

    /* A client connects at its first server selection, which building a
     * bulk operation never makes. */
    client = mongoc_client_new("mongodb://localhost");
    if (client == NULL) {
        bson_set_error(error, MONGOC_ERROR_CLIENT,
                       MONGOC_ERROR_CLIENT_NOT_READY,
                       "cannot make a mongoc client");
        return false;
    }

    mongoc_client_set_error_api(client, MONGOC_ERROR_API_VERSION_2);

    bulk = inbox_mongo_write_bulk(client, db, command, &collection, error);
    if (bulk != NULL) {
        mongoc_bulk_operation_destroy(bulk);
        mongoc_collection_destroy(collection);
    }

    mongoc_client_destroy(client);

    return bulk != NULL;
}


/*
 * The bulk operation command becomes on its collection (*collection, for
 * the caller to destroy with it), or NULL with error when the command is
 * malformed or the driver refuses one of its items: the driver checks
 * each item as it is added, and an empty bulk when it is executed, before
 * any server is asked.
 */
static mongoc_bulk_operation_t *
inbox_mongo_write_bulk(mongoc_client_t *client, const char *db,
    const bson_t *command, mongoc_collection_t **collection,
    bson_error_t *error)
{
    int                       insert;
    bool                      done;
    bson_t                    opts, item;
    uint32_t                  n;
    const char               *name;
    bson_iter_t               iter, items;
    mongoc_bulk_operation_t  *bulk;

    memset(error, 0, sizeof(bson_error_t));

    if (!bson_iter_init(&iter, command) || !bson_iter_next(&iter)
        || !BSON_ITER_HOLDS_UTF8(&iter))
    {
        bson_set_error(error, MONGOC_ERROR_COMMAND,
                       MONGOC_ERROR_COMMAND_INVALID_ARG,
                       "a write command names no collection");
        return NULL;
    }

    insert = strcmp(bson_iter_key(&iter), "insert") == 0;
    name = bson_iter_utf8(&iter, NULL);

    if (!inbox_mongo_write_fields(&iter,
                                  insert ? "documents" : "updates",
                                  "ordered", NULL, NULL, error))
    {
        return NULL;
    }

    *collection = mongoc_client_get_collection(client, db, name);

    bson_init(&opts);
    BSON_APPEND_BOOL(&opts, "ordered",
                     !bson_iter_init_find(&iter, command, "ordered")
                     || bson_iter_as_bool(&iter));
    bulk = mongoc_collection_create_bulk_operation_with_opts(*collection,
                                                             &opts);
    bson_destroy(&opts);

    done = bson_iter_init_find(&iter, command,
                               insert ? "documents" : "updates")
           && BSON_ITER_HOLDS_ARRAY(&iter)
           && bson_iter_recurse(&iter, &items);

    n = 0;

    while (done && bson_iter_next(&items)) {
        done = inbox_mongo_iter_doc(&items, &item)
               && inbox_mongo_write_add(bulk, insert, &item, error);
        n++;
    }

    if (done && n == 0) {
        /* as mongoc_bulk_operation_execute would say */
        bson_set_error(error, MONGOC_ERROR_COMMAND,
                       MONGOC_ERROR_COMMAND_INVALID_ARG,
                       "Cannot do an empty bulk write");
        done = false;
    }

    if (done) {
        return bulk;
    }

    if (error->domain == 0) {
        bson_set_error(error, MONGOC_ERROR_COMMAND,
                       MONGOC_ERROR_COMMAND_INVALID_ARG,
                       "a malformed write command");
    }

    mongoc_bulk_operation_destroy(bulk);
    mongoc_collection_destroy(*collection);

    return NULL;
}


/* One document to insert, or one {"q", "u", "upsert", "multi"}, u an
 * update document or an update pipeline (an array of stages). */
static bool
inbox_mongo_write_add(mongoc_bulk_operation_t *bulk, int insert,
    const bson_t *item, bson_error_t *error)
{
    bool            ok, many, pipeline, replace;
    bson_t          q, u, opts;
    uint32_t        len;
    bson_iter_t     iter, field;
    const uint8_t  *data;

    if (insert) {
        return mongoc_bulk_operation_insert_with_opts(bulk, item, NULL,
                                                      error);
    }

    if (!bson_iter_init(&iter, item)
        || !inbox_mongo_write_fields(&iter, "q", "u", "upsert", "multi",
                                     error))
    {
        return false;
    }

    if (!bson_iter_init_find(&iter, item, "q")
        || !inbox_mongo_iter_doc(&iter, &q)
        || !bson_iter_init_find(&iter, item, "u"))
    {
        return false;
    }

    /* the driver takes a pipeline as the array's own document */
    pipeline = BSON_ITER_HOLDS_ARRAY(&iter);

    if (pipeline) {
        bson_iter_array(&iter, &len, &data);
        if (!bson_init_static(&u, data, len)) {
            return false;
        }

    } else if (!inbox_mongo_iter_doc(&iter, &u)) {
        return false;
    }

    bson_init(&opts);
    BSON_APPEND_BOOL(&opts, "upsert",
                     bson_iter_init_find(&iter, item, "upsert")
                     && bson_iter_as_bool(&iter));
    many = bson_iter_init_find(&iter, item, "multi")
           && bson_iter_as_bool(&iter);

    /* Update operators ("$set"), a pipeline or a whole replacement
     * document; the server refuses a replacement of many, which the
     * driver would otherwise send as a replacement of one. */
    replace = !pipeline && bson_iter_init(&field, &u)
              && bson_iter_next(&field) && bson_iter_key(&field)[0] != '$';

    if (replace && many) {
        bson_set_error(error, MONGOC_ERROR_COMMAND,
                       MONGOC_ERROR_COMMAND_INVALID_ARG,
                       "multi update is not supported for replacement-style "
                       "update");
        ok = false;

    } else if (replace) {
        ok = mongoc_bulk_operation_replace_one_with_opts(bulk, &q, &u, &opts,
                                                         error);
    } else if (many) {
        ok = mongoc_bulk_operation_update_many_with_opts(bulk, &q, &u,
                                                         &opts, error);
    } else {
        ok = mongoc_bulk_operation_update_one_with_opts(bulk, &q, &u, &opts,
                                                        error);
    }

    bson_destroy(&opts);

    return ok;
}


/* The fields iter has still are among a, b, c and d (NULL: none): the
 * conversion sends no other (arrayFilters, a write concern), and a field
 * it dropped would make a server do what the command does not say. */
static bool
inbox_mongo_write_fields(bson_iter_t *iter, const char *a, const char *b,
    const char *c, const char *d, bson_error_t *error)
{
    const char  *key;

    while (bson_iter_next(iter)) {
        key = bson_iter_key(iter);

        if (strcmp(key, a) != 0 && strcmp(key, b) != 0
            && (c == NULL || strcmp(key, c) != 0)
            && (d == NULL || strcmp(key, d) != 0))
        {
            bson_set_error(error, MONGOC_ERROR_COMMAND,
                           MONGOC_ERROR_COMMAND_INVALID_ARG,
                           "a write's \"%s\" is not sent as a bulk "
                           "operation", key);
            return false;
        }
    }

    return true;
}


/*
 * The server's answer as the command's reply would have had it: "n"
 * (inserted, or matched and upserted); for an update "nModified" and
 * "upserted" ({index, _id} of each document an upsert inserted, index
 * counting the command's updates, as the driver merges them); the first
 * write error and write concern error, the error labels; a command error
 * (ok: 0, e.g. not primary after the retry) with its code.  No answer at
 * all (network, server selection) leaves reply empty, error saying why.
 */
void
inbox_mongo_write_reply(const bson_t *command, bool done,
    const bson_t *result, const bson_error_t *error, bson_t *reply)
{
    int          answered, update;
    bson_iter_t  iter, first;

    answered = done || error->domain == MONGOC_ERROR_SERVER
               || error->domain == MONGOC_ERROR_WRITE_CONCERN;

    if (!answered) {
        return;
    }

    update = bson_iter_init(&iter, command) && bson_iter_next(&iter)
             && strcmp(bson_iter_key(&iter), "update") == 0;

    if (bson_iter_init_find(&iter, result, "writeErrors")
        && BSON_ITER_HOLDS_ARRAY(&iter)
        && bson_iter_recurse(&iter, &first) && bson_iter_next(&first))
    {
        BSON_APPEND_INT32(reply, "ok", 1);
        BSON_APPEND_VALUE(reply, "writeErrors", bson_iter_value(&iter));

    } else if (bson_iter_init_find(&iter, result, "writeConcernErrors")
               && BSON_ITER_HOLDS_ARRAY(&iter)
               && bson_iter_recurse(&iter, &first) && bson_iter_next(&first))
    {
        BSON_APPEND_INT32(reply, "ok", 1);
        BSON_APPEND_VALUE(reply, "writeConcernError",
                          bson_iter_value(&first));

    } else if (!done) {
        BSON_APPEND_INT32(reply, "ok", 0);
        BSON_APPEND_INT32(reply, "code", (int32_t) error->code);
        BSON_APPEND_UTF8(reply, "errmsg", error->message);

    } else {
        BSON_APPEND_INT32(reply, "ok", 1);
    }

    BSON_APPEND_INT64(reply, "n",
                      inbox_mongo_get_int(result, "nInserted")
                      + inbox_mongo_get_int(result, "nMatched")
                      + inbox_mongo_get_int(result, "nUpserted"));

    if (update) {
        /* what dispatch counts as the campaigns it started */
        BSON_APPEND_INT64(reply, "nModified",
                          inbox_mongo_get_int(result, "nModified"));

        /* what an import counts as the contacts it made */
        if (bson_iter_init_find(&iter, result, "upserted")
            && BSON_ITER_HOLDS_ARRAY(&iter))
        {
            BSON_APPEND_VALUE(reply, "upserted", bson_iter_value(&iter));
        }
    }

    if (bson_iter_init_find(&iter, result, "errorLabels")) {
        BSON_APPEND_VALUE(reply, "errorLabels", bson_iter_value(&iter));
    }
}
