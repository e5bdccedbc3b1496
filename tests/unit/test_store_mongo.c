/*
 * The MongoDB backend without a server: a fake transport records every
 * command the backend sends and answers with canned replies.  The commands
 * are compared, as canonical extended JSON, with the golden files in
 * tests/unit/golden/mongo/; INBOX_UPDATE_GOLDEN=1 rewrites those files
 * (read every change before committing it).  Every insert and update is
 * also made into the driver's bulk operation, as it is for a server
 * (inbox_mongo_write_check): a test fails when the driver refuses one.
 * Their replies, written as a server answers the command, come back as
 * they do from a server: made into the bulk operation's result, then
 * into a reply again by inbox_mongo_write_reply, so that a field it
 * drops is missing here too.
 */
#include <stdlib.h>
#include <yajl/yajl_tree.h>
#include <inbox/clock.h>
#include <inbox/contact.h>
#include <inbox/store.h>
#include "store_mongo.h"
#include "check.h"

/* the sender's --public-url: where a campaign's images are linked from */
#define MEDIA_BASE  "https://x.test"


#define OID(hex)        "{\"$oid\": \"" hex "\"}"
#define DATE(ms)        "{\"$date\": {\"$numberLong\": \"" ms "\"}}"
#define CURSOR(docs)    "{\"cursor\": {\"id\": {\"$numberLong\": \"0\"}, " \
                        "\"ns\": \"inbox.x\", \"firstBatch\": [" docs  \
                        "]}, \"ok\": 1}"
#define EMPTY_CURSOR    CURSOR("")
/* A first batch with more to come (cursor 42), and getMore's last. */
#define CURSOR_ON(docs) "{\"cursor\": {\"id\": {\"$numberLong\": \"42\"}, " \
                        "\"ns\": \"inbox.x\", \"firstBatch\": [" docs  \
                        "]}, \"ok\": 1}"
#define GETMORE(docs)   "{\"cursor\": {\"id\": {\"$numberLong\": \"0\"}, " \
                        "\"ns\": \"inbox.x\", \"nextBatch\": [" docs   \
                        "]}, \"ok\": 1}"

#define ORG_ID          "64f1a0000000000000000001"
#define CONTACT_ID      "64f1a0000000000000000b01"
#define CONTACT2_ID     "64f1a0000000000000000b02"
#define CONV_ID         "64f1a0000000000000000c01"
#define CONV2_ID        "64f1a0000000000000000c02"
#define CONV3_ID        "64f1a0000000000000000c03"
#define MSG_ID          "64f1a0000000000000000d01"
#define MSG2_ID         "64f1a0000000000000000d02"
#define USER_ID         "64f1a0000000000000000e01"
#define USER2_ID        "64f1a0000000000000000e02"
#define NOW             "1767225600000"     /* 2026-01-01T00:00:00Z */
#define EARLIER         "1767225000000"
#define LATER           "4102444800000"     /* 2100-01-01T00:00:00Z */
#define LATER_MS        4102444800000LL

/* The ids the fake generator hands out, in order. */
#define GEN_1           "665000000000000000000001"
#define GEN_2           "665000000000000000000002"
#define GEN_3           "665000000000000000000003"
#define GEN_4           "665000000000000000000004"

#define FAKE_REPLIES    24
/* a claim's read of its organizations' billing: active */
#define ORG_BILLING_ACTIVE  CURSOR("{\"_id\": " OID(ORG_ID) ","            \
                                   " \"billing_active\": true}")
/* the organization's billing as a find answers it */
#define BILLING_DOC(active, plan)                                           \
    CURSOR("{\"_id\": " OID(ORG_ID) ", \"billing_active\": " active ","  \
           " \"plan\": \"" plan "\", \"credits\": {\"balance\": 520,"    \
           " \"held\": 3}}")
/* the organization's findAndModify that reserves an event number */
#define SEQ_RESERVED    "{\"ok\": 1, \"value\": {\"_id\": " OID(ORG_ID)     \
                        ", \"seq\": {\"$numberLong\": \"12\"},"            \
                        " \"epoch\": \"a1b2c3d4e5f60708\"}}"


typedef struct {
    char    *data;
    size_t   len;
    size_t   cap;
} buf_t;


typedef struct {
    const char  *replies[FAKE_REPLIES];   /* NULL: a plain success */
    size_t       next;
    int          unreachable;
    size_t       commands;
    buf_t        log;
    unsigned     ids;
} fake_t;


static void
buf_add(buf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->data = realloc(b->data, b->cap);
    }

    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}


static void
buf_puts(buf_t *b, const char *s)
{
    buf_add(b, s, strlen(s));
}


/* The answer a server gives to a command that simply works. */
static char *
fake_default_reply(const bson_t *command)
{
    char          reply[128];
    uint32_t      n;
    const char   *name;
    bson_iter_t   iter, docs;

    bson_iter_init(&iter, command);
    bson_iter_next(&iter);
    name = bson_iter_key(&iter);

    if (strcmp(name, "find") == 0 || strcmp(name, "aggregate") == 0) {
        return strdup(EMPTY_CURSOR);
    }

    if (strcmp(name, "findAndModify") == 0) {
        return strdup("{\"ok\": 1, \"value\": null}");
    }

    if (strcmp(name, "insert") == 0) {
        n = 0;
        if (bson_iter_init_find(&iter, command, "documents")
            && bson_iter_recurse(&iter, &docs))
        {
            while (bson_iter_next(&docs)) {
                n++;
            }
        }

        snprintf(reply, sizeof(reply), "{\"ok\": 1, \"n\": %u}", n);
        return strdup(reply);
    }

    if (strcmp(name, "update") == 0) {
        return strdup("{\"ok\": 1, \"n\": 1, \"nModified\": 1}");
    }

    return strdup("{\"ok\": 1}");
}


/*
 * The reply to a write as the backend has it from a server: canned (the
 * server's reply to the command) made into the bulk operation's result as
 * mongo-c-driver makes it of one command's reply (n is nInserted, or
 * nMatched and nUpserted; upserted and writeErrors keep their indexes;
 * the writeConcernError goes into writeConcernErrors; the execution fails
 * with the command's error, the first write error or the write concern
 * error), then rebuilt by inbox_mongo_write_reply.  Returns what the
 * execution returns.
 */
static bool
fake_bulk_reply(const bson_t *command, const bson_t *canned, bson_t *reply,
    bson_error_t *error)
{
    bool          done;
    bson_t        result, errors, doc;
    int64_t       n, upserted;
    bson_iter_t   iter, item;
    const char   *name;
    char          message[128];

    bson_iter_init(&iter, command);
    bson_iter_next(&iter);
    name = bson_iter_key(&iter);

    n = inbox_mongo_get_int(canned, "n");
    upserted = 0;
    if (bson_iter_init_find(&iter, canned, "upserted")
        && bson_iter_recurse(&iter, &item))
    {
        while (bson_iter_next(&item)) {
            upserted++;
        }
    }

    bson_init(&result);
    BSON_APPEND_INT32(&result, "nInserted",
                      strcmp(name, "insert") == 0 ? (int32_t) n : 0);
    BSON_APPEND_INT32(&result, "nMatched",
                      strcmp(name, "update") == 0 && n > upserted
                      ? (int32_t) (n - upserted) : 0);
    BSON_APPEND_INT32(&result, "nModified",
                      (int32_t) inbox_mongo_get_int(canned, "nModified"));
    BSON_APPEND_INT32(&result, "nRemoved", 0);
    BSON_APPEND_INT32(&result, "nUpserted", (int32_t) upserted);
    if (upserted > 0 && bson_iter_init_find(&iter, canned, "upserted")) {
        BSON_APPEND_VALUE(&result, "upserted", bson_iter_value(&iter));
    }

    if (bson_iter_init_find(&iter, canned, "writeErrors")) {
        BSON_APPEND_VALUE(&result, "writeErrors", bson_iter_value(&iter));
    } else {
        bson_init(&errors);
        BSON_APPEND_ARRAY(&result, "writeErrors", &errors);
        bson_destroy(&errors);
    }

    if (bson_iter_init_find(&iter, canned, "writeConcernError")) {
        BSON_APPEND_ARRAY_BEGIN(&result, "writeConcernErrors", &errors);
        BSON_APPEND_VALUE(&errors, "0", bson_iter_value(&iter));
        bson_append_array_end(&result, &errors);
    }

    if (bson_iter_init_find(&iter, canned, "errorLabels")) {
        BSON_APPEND_VALUE(&result, "errorLabels", bson_iter_value(&iter));
    }

    /* the error the execution fails with, if any */
    done = true;
    memset(error, 0, sizeof(bson_error_t));

    if (bson_iter_init_find(&iter, canned, "ok")
        && !bson_iter_as_bool(&iter))
    {
        inbox_mongo_get_str(canned, "errmsg", message, sizeof(message));
        bson_set_error(error, MONGOC_ERROR_SERVER,
                       (uint32_t) inbox_mongo_get_int(canned, "code"), "%s",
                       message);
        done = false;

    } else if (bson_iter_init_find(&iter, &result, "writeErrors")
               && bson_iter_recurse(&iter, &item)
               && inbox_mongo_next_doc(&item, &doc))
    {
        inbox_mongo_get_str(&doc, "errmsg", message, sizeof(message));
        bson_set_error(error, MONGOC_ERROR_SERVER,
                       (uint32_t) inbox_mongo_get_int(&doc, "code"), "%s",
                       message);
        done = false;

    } else if (bson_iter_init_find(&iter, canned, "writeConcernError")
               && inbox_mongo_iter_doc(&iter, &doc))
    {
        inbox_mongo_get_str(&doc, "errmsg", message, sizeof(message));
        bson_set_error(error, MONGOC_ERROR_WRITE_CONCERN,
                       (uint32_t) inbox_mongo_get_int(&doc, "code"), "%s",
                       message);
        done = false;
    }

    inbox_mongo_write_reply(command, done, &result, error, reply);
    bson_destroy(&result);

    return done;
}


/* Whether each array within iter's document (or array, keyed) counts
 * its elements "0", "1", … as BSON requires: libbson only warns when
 * asked to append one that does not. */
static bool
fake_arrays_keyed(bson_iter_t *iter, bool keyed)
{
    char         key[16];
    unsigned     i = 0;
    bson_iter_t  child;

    while (bson_iter_next(iter)) {
        snprintf(key, sizeof(key), "%u", i++);
        if (keyed && strcmp(bson_iter_key(iter), key) != 0) {
            return false;
        }
        if ((BSON_ITER_HOLDS_DOCUMENT(iter) || BSON_ITER_HOLDS_ARRAY(iter))
            && (!bson_iter_recurse(iter, &child)
                || !fake_arrays_keyed(&child, BSON_ITER_HOLDS_ARRAY(iter))))
        {
            return false;
        }
    }

    return true;
}


static bool
fake_transport(void *ctx, const char *db, const bson_t *command,
    bson_t *reply, bson_error_t *error)
{
    bool           done;
    char          *json, *text;
    bson_t        *entry, *canned;
    fake_t        *fake = ctx;
    bson_iter_t    keys;
    bson_error_t   parse_error;

    entry = BCON_NEW("db", BCON_UTF8(db), "command", BCON_DOCUMENT(command));
    json = bson_as_canonical_extended_json(entry, NULL);
    if (fake->commands++ > 0) {
        buf_puts(&fake->log, ",\n");
    }
    buf_puts(&fake->log, json);
    bson_free(json);
    bson_destroy(entry);

    CHECK(bson_iter_init(&keys, command) && fake_arrays_keyed(&keys, false));

    /* What the driver makes of a write before any server sees it: a
     * command it refuses never reaches a real server. */
    if (!inbox_mongo_write_check(db, command, error)) {
        json = bson_as_canonical_extended_json(command, NULL);
        fprintf(stderr, "    the driver refuses %s: %s\n", json,
                error->message);
        bson_free(json);
        CHECK(!"a write command the driver refuses");
        return false;
    }

    if (fake->unreachable) {
        bson_set_error(error, MONGOC_ERROR_SERVER_SELECTION,
                       MONGOC_ERROR_SERVER_SELECTION_FAILURE,
                       "No suitable servers found");
        return false;
    }

    if (fake->next < FAKE_REPLIES && fake->replies[fake->next] != NULL) {
        text = strdup(fake->replies[fake->next]);
    } else {
        text = fake_default_reply(command);
    }
    fake->next++;

    canned = bson_new_from_json((const uint8_t *) text, -1, &parse_error);
    if (canned == NULL) {
        fprintf(stderr, "    bad canned reply %s: %s\n", text,
                parse_error.message);
        free(text);
        return false;
    }

    /* a write's reply: as the driver's bulk operation gives it back */
    done = true;
    if (inbox_mongo_is_basic_write(command)) {
        done = fake_bulk_reply(command, canned, reply, error);
    } else {
        bson_concat(reply, canned);
    }

    bson_destroy(canned);
    free(text);

    return done;
}


static void
fake_id(void *ctx, bson_oid_t *oid)
{
    char     hex[25];
    fake_t  *fake = ctx;

    snprintf(hex, sizeof(hex), "6650000000000000%08x", ++fake->ids);
    bson_oid_init_from_string(oid, hex);
}


static int64_t
fake_clock(void *ctx)
{
    return 1767225600000LL;
}


static void
fake_reset(fake_t *fake)
{
    free(fake->log.data);
    memset(fake->replies, 0, sizeof(fake->replies));
    memset(&fake->log, 0, sizeof(buf_t));
    fake->next = 0;
    fake->commands = 0;
}


/* A store whose indexes are made already, so a test sees only the
 * commands of its own operation. */
static inbox_store_t *
fake_open(fake_t *fake)
{
    inbox_error_t   err;
    inbox_store_t  *store;

    memset(fake, 0, sizeof(fake_t));

    store = inbox_store_mongo_open_with_transport(
                "mongodb://db.example:27017/inbox", fake_transport, fake,
                &err);
    if (store == NULL) {
        fprintf(stderr, "    open: %s\n", err.message);
        abort();
    }

    inbox_mongo_set_test_hooks(store, fake_id, fake_clock, fake);
    CHECK_INT(inbox_mongo_ensure_indexes((inbox_mongo_store_t *) store, &err),
              INBOX_OK);
    fake_reset(fake);

    return store;
}


static void
fake_close(fake_t *fake, inbox_store_t *store)
{
    inbox_store_close(store);
    fake_reset(fake);
}


/* JSON laid out for reading: a value stays on one line when it fits. */
static void
json_string(buf_t *b, const char *s)
{
    char  esc[8];

    buf_puts(b, "\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') {
            esc[0] = '\\';
            esc[1] = *s;
            buf_add(b, esc, 2);
        } else if ((unsigned char) *s < 0x20) {
            snprintf(esc, sizeof(esc), "\\u%04x", (unsigned char) *s);
            buf_puts(b, esc);
        } else {
            buf_add(b, s, 1);
        }
    }
    buf_puts(b, "\"");
}


static void
json_compact(buf_t *b, yajl_val v)
{
    size_t  i;

    if (YAJL_IS_OBJECT(v)) {
        buf_puts(b, "{");
        for (i = 0; i < v->u.object.len; i++) {
            buf_puts(b, i ? ", " : "");
            json_string(b, v->u.object.keys[i]);
            buf_puts(b, ": ");
            json_compact(b, v->u.object.values[i]);
        }
        buf_puts(b, "}");

    } else if (YAJL_IS_ARRAY(v)) {
        buf_puts(b, "[");
        for (i = 0; i < v->u.array.len; i++) {
            buf_puts(b, i ? ", " : "");
            json_compact(b, v->u.array.values[i]);
        }
        buf_puts(b, "]");

    } else if (YAJL_IS_STRING(v)) {
        json_string(b, YAJL_GET_STRING(v));

    } else if (YAJL_IS_NUMBER(v)) {
        buf_puts(b, v->u.number.r);

    } else {
        buf_puts(b, YAJL_IS_TRUE(v) ? "true"
                    : YAJL_IS_FALSE(v) ? "false" : "null");
    }
}


static void
json_pretty(buf_t *b, yajl_val v, size_t indent, size_t column)
{
    size_t  i, n;
    buf_t   flat = { NULL, 0, 0 };
    char    pad[128];

    json_compact(&flat, v);

    n = YAJL_IS_OBJECT(v) ? v->u.object.len
        : YAJL_IS_ARRAY(v) ? v->u.array.len : 0;

    if (n == 0 || column + flat.len <= 78) {
        buf_puts(b, flat.data);
        free(flat.data);
        return;
    }

    free(flat.data);
    memset(pad, ' ', sizeof(pad));
    buf_puts(b, YAJL_IS_OBJECT(v) ? "{\n" : "[\n");

    for (i = 0; i < n; i++) {
        buf_add(b, pad, indent + 2);
        if (YAJL_IS_OBJECT(v)) {
            json_string(b, v->u.object.keys[i]);
            buf_puts(b, ": ");
            json_pretty(b, v->u.object.values[i], indent + 2,
                        indent + 6 + strlen(v->u.object.keys[i]));
        } else {
            json_pretty(b, v->u.array.values[i], indent + 2, indent + 2);
        }
        buf_puts(b, i + 1 < n ? ",\n" : "\n");
    }

    buf_add(b, pad, indent);
    buf_puts(b, YAJL_IS_OBJECT(v) ? "}" : "]");
}


static const char *
golden_dir(void)
{
    static char  dir[512];
    const char  *env, *slash;

    env = getenv("INBOX_GOLDEN_DIR");
    if (env != NULL) {
        return env;
    }

    /* Next to this source file, as the Makefile names it from the top. */
    slash = strrchr(__FILE__, '/');
    snprintf(dir, sizeof(dir), "%.*s/golden/mongo",
             slash ? (int) (slash - __FILE__) : 1, slash ? __FILE__ : ".");

    return dir;
}


/* Compares the commands recorded since the last reset with the golden
 * file NAME.json. */
static void
golden_check(fake_t *fake, const char *name)
{
    FILE      *f;
    char       path[640], errbuf[256];
    buf_t      all = { NULL, 0, 0 }, pretty = { NULL, 0, 0 };
    buf_t      expected = { NULL, 0, 0 };
    size_t     n;
    yajl_val   tree;
    char       chunk[4096];
    const char *update;

    buf_puts(&all, "[");
    buf_puts(&all, fake->log.data ? fake->log.data : "");
    buf_puts(&all, "]");

    tree = yajl_tree_parse(all.data, errbuf, sizeof(errbuf));
    CHECK(tree != NULL);
    if (tree == NULL) {
        fprintf(stderr, "    %s: %s\n", name, errbuf);
        free(all.data);
        return;
    }

    json_pretty(&pretty, tree, 0, 0);
    buf_puts(&pretty, "\n");
    yajl_tree_free(tree);
    free(all.data);

    snprintf(path, sizeof(path), "%s/%s.json", golden_dir(), name);

    update = getenv("INBOX_UPDATE_GOLDEN");
    if (update != NULL && strcmp(update, "1") == 0) {
        f = fopen(path, "w");
        CHECK(f != NULL);
        if (f != NULL) {
            fwrite(pretty.data, 1, pretty.len, f);
            fclose(f);
            printf("# updated %s\n", path);
        }
        free(pretty.data);
        return;
    }

    f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "    %s is missing (INBOX_UPDATE_GOLDEN=1 makes "
                "it)\n", path);
        CHECK(f != NULL);
        free(pretty.data);
        return;
    }

    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        buf_add(&expected, chunk, n);
    }
    fclose(f);

    if (expected.data == NULL || strcmp(expected.data, pretty.data) != 0) {
        fprintf(stderr, "    commands differ from %s; sent:\n%s", path,
                pretty.data);
        CHECK_STR(pretty.data, expected.data ? expected.data : "");
    }

    free(expected.data);
    free(pretty.data);
}


/* The command documents sent, one per line, for ad hoc checks. */
static int
log_has(fake_t *fake, const char *needle)
{
    return fake->log.data != NULL && strstr(fake->log.data, needle) != NULL;
}


TEST(indexes_are_created_once_and_retried_after_failure)
{
    fake_t          fake;
    inbox_error_t   err;
    inbox_store_t  *store;
    char            id[INBOX_ID_MAX];

    memset(&fake, 0, sizeof(fake));
    store = inbox_store_mongo_open_with_transport(
                "mongodb://db.example:27017/inbox", fake_transport, &fake,
                &err);
    CHECK(store != NULL);
    inbox_mongo_set_test_hooks(store, fake_id, fake_clock, &fake);

    /* Opening talks to nobody: nginx forks after it. */
    CHECK_INT(fake.commands, 0);

    fake.unreachable = 1;
    CHECK_INT(inbox_store_org_create(store, "Acme", NULL, id, &err),
              INBOX_ERR_UNAVAILABLE);
    CHECK_INT(err.code, INBOX_ERR_UNAVAILABLE);

    fake_reset(&fake);
    fake.unreachable = 0;
    CHECK_INT(inbox_mongo_ensure_indexes((inbox_mongo_store_t *) store, &err),
              INBOX_OK);
    golden_check(&fake, "indexes");

    /* Sent once: the next operation sends only its own command. */
    fake_reset(&fake);
    CHECK_INT(inbox_store_org_create(store, "Acme", NULL, id, &err),
              INBOX_OK);
    CHECK_INT(fake.commands, 1);

    fake_close(&fake, store);
}


/* The check every captured write goes through refuses what the driver
 * would never send, and takes each form of write the backend uses. */
TEST(writes_the_driver_refuses_fail_the_golden_tests)
{
    size_t          i;
    bson_t         *command;
    fake_t          fake;
    bson_error_t    error;
    inbox_store_t  *store;

    static const struct {
        const char  *json;
        int          taken;
    } writes[] = {
        { "{\"insert\": \"c\", \"documents\": [{\"a\": 1}, {\"b\": 2}]}", 1 },
        { "{\"update\": \"c\", \"updates\": [{\"q\": {}, \"u\":"
          " {\"$set\": {\"a\": 1}}, \"upsert\": true}]}", 1 },
        { "{\"update\": \"c\", \"updates\": [{\"q\": {}, \"u\":"
          " {\"a\": 1}}]}", 1 },
        { "{\"update\": \"c\", \"updates\": [{\"q\": {}, \"u\":"
          " [{\"$set\": {\"a\": 1}}], \"multi\": true}]}", 1 },
        { "{\"find\": \"c\", \"filter\": {}}", 1 },
        /* operators and fields mixed: neither update nor replacement */
        { "{\"update\": \"c\", \"updates\": [{\"q\": {}, \"u\":"
          " {\"a\": 1, \"$set\": {\"b\": 1}}}]}", 0 },
        { "{\"update\": \"c\", \"updates\": [{\"q\": {}, \"u\":"
          " {\"$set\": {\"b\": 1}, \"a\": 1}}]}", 0 },
        /* a replacement cannot update many */
        { "{\"update\": \"c\", \"updates\": [{\"q\": {}, \"u\":"
          " {\"a\": 1}, \"multi\": true}]}", 0 },
        { "{\"update\": \"c\", \"updates\": [{\"q\": {}, \"u\": 1}]}", 0 },
        { "{\"update\": \"c\", \"updates\": [{\"u\": {\"$set\":"
          " {\"a\": 1}}}]}", 0 },
        { "{\"update\": \"c\", \"updates\": []}", 0 },
        /* fields the bulk operation would drop */
        { "{\"update\": \"c\", \"updates\": [{\"q\": {}, \"u\":"
          " {\"$set\": {\"a.$[x]\": 1}}, \"arrayFilters\":"
          " [{\"x\": 1}]}]}", 0 },
        { "{\"insert\": \"c\", \"documents\": [{\"a\": 1}],"
          " \"writeConcern\": {\"w\": 0}}", 0 },
        { "{\"insert\": \"c\", \"documents\": [{\"\": 1}]}", 0 },
        { "{\"insert\": \"c\"}", 0 }
    };

    store = fake_open(&fake);

    for (i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
        command = bson_new_from_json((const uint8_t *) writes[i].json, -1,
                                     &error);
        CHECK(command != NULL);
        if (command == NULL) {
            continue;
        }

        memset(&error, 0, sizeof(error));
        if (inbox_mongo_write_check("inbox", command, &error)
            != writes[i].taken)
        {
            fprintf(stderr, "    %s: %s, expected %s (%s)\n", writes[i].json,
                    writes[i].taken ? "refused" : "taken",
                    writes[i].taken ? "taken" : "refused", error.message);
            CHECK(0);
        }

        bson_destroy(command);
    }

    fake_close(&fake, store);
}


TEST(org_create)
{
    fake_t          fake;
    inbox_error_t   err;
    inbox_store_t  *store;
    char            id[INBOX_ID_MAX];

    store = fake_open(&fake);

    CHECK_INT(inbox_store_org_create(store, "Acme Dental", "America/Chicago",
                                     id, &err), INBOX_OK);
    CHECK_STR(id, GEN_1);
    golden_check(&fake, "org_create");

    fake_close(&fake, store);
}


TEST(org_find_by_name)
{
    fake_t          fake;
    inbox_error_t   err;
    inbox_store_t  *store;
    char            id[INBOX_ID_MAX];

    store = fake_open(&fake);

    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) "}");
    CHECK_INT(inbox_store_org_find_by_name(store, "Acme Dental", id, &err),
              INBOX_OK);
    CHECK_STR(id, ORG_ID);
    golden_check(&fake, "org_find_by_name");

    fake_reset(&fake);
    CHECK_INT(inbox_store_org_find_by_name(store, "Nobody", id, &err),
              INBOX_ERR_NOT_FOUND);

    fake_close(&fake, store);
}


TEST(number_add_and_conflict)
{
    fake_t          fake;
    inbox_error_t   err;
    inbox_store_t  *store;
    inbox_number_t  number;

    store = fake_open(&fake);

    memset(&number, 0, sizeof(number));
    snprintf(number.org_id, sizeof(number.org_id), "%s", ORG_ID);
    snprintf(number.e164, sizeof(number.e164), "+15550001111");
    number.carrier = INBOX_CARRIER_TWILIO;
    number.account_sid = "AC123";
    number.auth_token = "secret-token";
    number.api_base = "http://127.0.0.1:9999";
    number.carrier_answers_keywords = 1;

    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) "}");
    CHECK_INT(inbox_store_number_add(store, &number, &err), INBOX_OK);
    golden_check(&fake, "number_add");

    /* The unique index on e164 answers with a write error. */
    fake_reset(&fake);
    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) "}");
    fake.replies[1] = "{\"ok\": 1, \"n\": 0, \"writeErrors\": [{\"index\": 0,"
                      " \"code\": 11000, \"errmsg\": \"E11000 duplicate key "
                      "error collection: inbox.numbers\"}]}";
    CHECK_INT(inbox_store_number_add(store, &number, &err),
              INBOX_ERR_CONFLICT);
    CHECK(strstr(err.message, "+15550001111") != NULL);

    /* No such organization: nothing inserted. */
    fake_reset(&fake);
    CHECK_INT(inbox_store_number_add(store, &number, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(fake.commands, 1);

    fake_close(&fake, store);
}


TEST(number_update_sets_and_unsets)
{
    fake_t          fake;
    inbox_error_t   err;
    inbox_store_t  *store;
    inbox_number_t  number;

    store = fake_open(&fake);

    memset(&number, 0, sizeof(number));
    snprintf(number.org_id, sizeof(number.org_id), "%s", ORG_ID);
    snprintf(number.e164, sizeof(number.e164), "+15550001111");
    number.carrier = INBOX_CARRIER_TWILIO;
    number.account_sid = "AC123";
    number.auth_token = "rotated";

    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) "}");
    fake.replies[1] = "{\"ok\": 1, \"n\": 1, \"nModified\": 1}";
    CHECK_INT(inbox_store_number_update(store, &number, &err), INBOX_OK);
    golden_check(&fake, "number_update");

    /* the organization has no such number */
    fake_reset(&fake);
    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) "}");
    fake.replies[1] = "{\"ok\": 1, \"n\": 0, \"nModified\": 0}";
    CHECK_INT(inbox_store_number_update(store, &number, &err),
              INBOX_ERR_NOT_FOUND);

    fake_close(&fake, store);
}


TEST(number_find_parses_the_stored_number)
{
    fake_t          fake;
    inbox_error_t   err;
    inbox_store_t  *store;
    inbox_number_t  number;

    store = fake_open(&fake);

    fake.replies[0] = CURSOR(
        "{\"_id\": " OID(GEN_1) ", \"org_id\": " OID(ORG_ID) ","
        " \"e164\": \"+15550002222\", \"carrier\": \"telnyx\","
        " \"public_key\": \"cHVibGlj\", \"api_key\": \"KEY1\","
        " \"created_at\": " DATE(NOW) "}");
    CHECK_INT(inbox_store_number_find(store, "+15550002222", &number, &err),
              INBOX_OK);
    CHECK_STR(number.org_id, ORG_ID);
    CHECK_STR(number.e164, "+15550002222");
    CHECK_INT(number.carrier, INBOX_CARRIER_TELNYX);
    CHECK_STR(number.public_key, "cHVibGlj");
    CHECK_STR(number.api_key, "KEY1");
    CHECK(number.auth_token == NULL);
    CHECK(number.account_sid == NULL);
    CHECK(number.api_base == NULL);
    CHECK_INT(number.carrier_answers_keywords, 0);
    golden_check(&fake, "number_find");
    inbox_number_free(&number);

    /* the carrier answers keywords on it */
    fake_reset(&fake);
    fake.replies[0] = CURSOR(
        "{\"_id\": " OID(GEN_1) ", \"org_id\": " OID(ORG_ID) ","
        " \"e164\": \"+15550002222\", \"carrier\": \"twilio\","
        " \"auth_token\": \"t\", \"carrier_answers_keywords\": true,"
        " \"created_at\": " DATE(NOW) "}");
    CHECK_INT(inbox_store_number_find(store, "+15550002222", &number, &err),
              INBOX_OK);
    CHECK_INT(number.carrier_answers_keywords, 1);
    inbox_number_free(&number);

    fake_reset(&fake);
    CHECK_INT(inbox_store_number_find(store, "+15550009999", &number, &err),
              INBOX_ERR_NOT_FOUND);
    inbox_number_free(&number);

    fake_close(&fake, store);
}


TEST(user_add_and_taken_email)
{
    fake_t               fake;
    inbox_error_t        err;
    inbox_store_t       *store;
    char                 id[INBOX_ID_MAX];
    inbox_event_list_t   events;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) "}");
    fake.replies[2] = SEQ_RESERVED;
    CHECK_INT(inbox_store_user_add(store, ORG_ID, "Pat@Example.COM",
                                   INBOX_ROLE_BILLING, "$argon2id$v=19$x",
                                   id, &events, &err), INBOX_OK);
    CHECK_STR(id, GEN_1);
    golden_check(&fake, "user_add");
    /* the team's browsers read it again */
    CHECK_INT(events.count, 1);
    CHECK_STR(events.items[0].type, "user.updated");
    CHECK_INT(events.items[0].org_seq, 12);
    CHECK(strstr(events.items[0].json, "\"user_id\":\"" GEN_1 "\"") != NULL);
    inbox_event_list_free(&events);

    fake_reset(&fake);
    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) "}");
    fake.replies[1] = "{\"ok\": 1, \"n\": 0, \"writeErrors\": [{\"index\": 0,"
                      " \"code\": 11000, \"errmsg\": \"E11000 dup\"}]}";
    CHECK_INT(inbox_store_user_add(store, ORG_ID, "pat@example.com",
                                   INBOX_ROLE_MEMBER, "$argon2id$v=19$x",
                                   id, NULL, &err), INBOX_ERR_CONFLICT);
    CHECK_STR(err.field, "email");

    /* a user removed from this organization comes back with the new
     * role and password, and no session or token of before */
    fake_reset(&fake);
    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) "}");
    fake.replies[1] = "{\"ok\": 1, \"n\": 0, \"writeErrors\": [{\"index\": 0,"
                      " \"code\": 11000, \"errmsg\": \"E11000 dup\"}]}";
    fake.replies[2] = "{\"ok\": 1, \"value\": {\"_id\": " OID(USER_ID) "}}";
    fake.replies[5] = SEQ_RESERVED;
    CHECK_INT(inbox_store_user_add(store, ORG_ID, "Pat@example.com",
                                   INBOX_ROLE_MEMBER, "$argon2id$v=19$y",
                                   id, NULL, &err), INBOX_OK);
    CHECK_STR(id, USER_ID);
    golden_check(&fake, "user_add_returning");
    CHECK(log_has(&fake, "\"delete\" : \"sessions\""));
    CHECK(log_has(&fake, "\"update\" : \"tokens\""));

    fake_close(&fake, store);
}


/* Asked before a password is hashed: one read, taken as the unique index
 * sees it but for this organization's removed user. */
TEST(user_email_check_reads_one_user)
{
    fake_t          fake;
    inbox_error_t   err;
    inbox_store_t  *store;

    store = fake_open(&fake);

    fake.replies[0] = CURSOR("{\"_id\": " OID(USER_ID) "}");
    CHECK_INT(inbox_store_user_email_check(store, ORG_ID, "Pat@Example.COM",
                                           &err), INBOX_ERR_CONFLICT);
    golden_check(&fake, "user_email_check");
    CHECK_STR(err.field, "email");
    CHECK(strstr(err.message, "pat@example.com") != NULL);

    fake_reset(&fake);
    CHECK_INT(inbox_store_user_email_check(store, ORG_ID, "new@example.com",
                                           &err), INBOX_OK);
    CHECK_INT(fake.commands, 1);

    /* not an address, or no organization's id: the server is not asked */
    fake_reset(&fake);
    CHECK_INT(inbox_store_user_email_check(store, ORG_ID, "nobody", &err),
              INBOX_ERR_INVALID);
    CHECK_INT(inbox_store_user_email_check(store, "nonsense",
                                           "new@example.com", &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(fake.commands, 0);

    fake_close(&fake, store);
}


TEST(token_add_for_a_user)
{
    char            id[INBOX_ID_MAX];
    fake_t          fake;
    inbox_error_t   err;
    inbox_store_t  *store;

    store = fake_open(&fake);

    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) "}");
    fake.replies[1] = CURSOR("{\"_id\": " OID(USER_ID) "}");
    fake.replies[3] = CURSOR("{\"_id\": " OID(USER_ID) "}");
    CHECK_INT(inbox_store_token_add(store, ORG_ID, "pat@example.com",
                                    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"
                                    "2b0b822cd15d6c15b0f00a08", "ci-deploy",
                                    LATER_MS, id, &err),
              INBOX_OK);
    CHECK_STR(id, GEN_1);
    golden_check(&fake, "token_add");

    /* The user was removed between the check and the insert: their
     * tokens were revoked before this one existed, so it is taken back
     * rather than left to work again if they rejoin. */
    fake_reset(&fake);
    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) "}");
    fake.replies[1] = CURSOR("{\"_id\": " OID(USER_ID) "}");
    fake.replies[3] = EMPTY_CURSOR;
    CHECK_INT(inbox_store_token_add(store, ORG_ID, "pat@example.com", "abc",
                                    NULL, 0, id, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK(strstr(err.message, "pat@example.com") != NULL);
    CHECK(log_has(&fake, "\"delete\" : \"tokens\""));

    /* An organization-wide token with no name and no expiry. */
    fake_reset(&fake);
    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) "}");
    CHECK_INT(inbox_store_token_add(store, ORG_ID, NULL, "abc", NULL, 0, id,
                                    &err), INBOX_OK);
    CHECK(log_has(&fake, "\"user_id\" : null"));
    CHECK(log_has(&fake, "\"name\" : null"));
    CHECK(log_has(&fake, "\"expires_at\" : null"));
    CHECK(log_has(&fake, "\"revoked_at\" : null"));

    /* A user of another organization is not found. */
    fake_reset(&fake);
    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) "}");
    CHECK_INT(inbox_store_token_add(store, ORG_ID, "eve@example.com",
                                    "abc", NULL, 0, id, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK(!log_has(&fake, "\"insert\""));

    /* A bad name or a past expiry is refused before anything is sent. */
    fake_reset(&fake);
    CHECK_INT(inbox_store_token_add(store, ORG_ID, NULL, "abc", "two words",
                                    0, id, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "name");
    CHECK_INT(inbox_store_token_add(store, ORG_ID, NULL, "abc", NULL,
                                    inbox_now_ms() - 1, id, &err),
              INBOX_ERR_INVALID);
    CHECK_INT(fake.commands, 0);

    fake_close(&fake, store);
}


TEST(token_find_reads_the_users_role)
{
    fake_t             fake;
    inbox_error_t      err;
    inbox_store_t     *store;
    inbox_principal_t  principal;

    store = fake_open(&fake);

    fake.replies[0] = CURSOR("{\"_id\": " OID(GEN_1) ", \"org_id\": "
                             OID(ORG_ID) ", \"user_id\": " OID(USER_ID) ","
                             " \"created_at\": " DATE(EARLIER) ","
                             " \"expires_at\": " DATE(LATER) ","
                             " \"revoked_at\": null}");
    fake.replies[1] = CURSOR("{\"_id\": " OID(USER_ID) ", \"role\": "
                             "\"billing\"}");
    CHECK_INT(inbox_store_token_find(store, "9f86d0", &principal, &err),
              INBOX_OK);
    CHECK_STR(principal.org_id, ORG_ID);
    CHECK_STR(principal.user_id, USER_ID);
    CHECK_INT(principal.role, INBOX_ROLE_BILLING);
    golden_check(&fake, "token_find");

    /* An organization-wide token, stored before tokens had expiries. */
    fake_reset(&fake);
    fake.replies[0] = CURSOR("{\"_id\": " OID(GEN_1) ", \"org_id\": "
                             OID(ORG_ID) ", \"user_id\": null}");
    CHECK_INT(inbox_store_token_find(store, "9f86d0", &principal, &err),
              INBOX_OK);
    CHECK_STR(principal.org_id, ORG_ID);
    CHECK_STR(principal.user_id, "");
    CHECK_INT(fake.commands, 1);

    fake_reset(&fake);
    CHECK_INT(inbox_store_token_find(store, "nope", &principal, &err),
              INBOX_ERR_UNAUTHENTICATED);
    CHECK(strstr(err.message, "not valid") != NULL);

    fake_close(&fake, store);
}


TEST(token_find_refuses_revoked_and_expired_tokens)
{
    fake_t             fake;
    inbox_error_t      err;
    inbox_store_t     *store;
    inbox_principal_t  principal;

    store = fake_open(&fake);

    fake.replies[0] = CURSOR("{\"_id\": " OID(GEN_1) ", \"org_id\": "
                             OID(ORG_ID) ", \"user_id\": null,"
                             " \"expires_at\": null,"
                             " \"revoked_at\": " DATE(EARLIER) "}");
    CHECK_INT(inbox_store_token_find(store, "9f86d0", &principal, &err),
              INBOX_ERR_UNAUTHENTICATED);
    CHECK(strstr(err.message, "revoked") != NULL);
    CHECK_STR(principal.org_id, "");

    /* NOW is in the past of the real clock the rule reads */
    fake_reset(&fake);
    fake.replies[0] = CURSOR("{\"_id\": " OID(GEN_1) ", \"org_id\": "
                             OID(ORG_ID) ", \"user_id\": null,"
                             " \"expires_at\": " DATE(NOW) ","
                             " \"revoked_at\": null}");
    CHECK_INT(inbox_store_token_find(store, "9f86d0", &principal, &err),
              INBOX_ERR_UNAUTHENTICATED);
    CHECK(strstr(err.message, "expired at 2026-01-01T00:00:00Z; ask for a "
                              "new one") != NULL);
    CHECK_STR(principal.org_id, "");

    fake_close(&fake, store);
}


TEST(number_remove_counts_what_waits_then_deletes)
{
    fake_t          fake;
    int64_t         waiting;
    inbox_error_t   err;
    inbox_store_t  *store;

    store = fake_open(&fake);

    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) "}");
    fake.replies[1] = "{\"ok\": 1, \"n\": 0}";
    fake.replies[2] = "{\"ok\": 1, \"n\": 1}";
    CHECK_INT(inbox_store_number_remove(store, ORG_ID, "+15550001111",
                                        &waiting, &err), INBOX_OK);
    golden_check(&fake, "number_remove");
    CHECK_INT(waiting, 0);

    /* a reply waits to go from it: nothing deleted */
    fake_reset(&fake);
    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) "}");
    fake.replies[1] = "{\"ok\": 1, \"n\": 2}";
    CHECK_INT(inbox_store_number_remove(store, ORG_ID, "+15550001111",
                                        &waiting, &err), INBOX_ERR_CONFLICT);
    CHECK_INT(waiting, 2);
    CHECK_INT(fake.commands, 2);

    /* not the organization's */
    fake_reset(&fake);
    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) "}");
    fake.replies[1] = "{\"ok\": 1, \"n\": 0}";
    fake.replies[2] = "{\"ok\": 1, \"n\": 0}";
    CHECK_INT(inbox_store_number_remove(store, ORG_ID, "+15550001111",
                                        &waiting, &err), INBOX_ERR_NOT_FOUND);

    fake_close(&fake, store);
}


TEST(numbers_list_reads_each_number_of_the_org)
{
    fake_t               fake;
    inbox_error_t        err;
    inbox_store_t       *store;
    inbox_number_list_t  list;

    store = fake_open(&fake);

    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) "}");
    fake.replies[1] = CURSOR(
        "{\"_id\": " OID(GEN_1) ", \"org_id\": " OID(ORG_ID) ","
        " \"e164\": \"+15550001111\", \"carrier\": \"twilio\","
        " \"account_sid\": \"AC123\", \"auth_token\": \"secret\"},"
        "{\"_id\": " OID(GEN_2) ", \"org_id\": " OID(ORG_ID) ","
        " \"e164\": \"+15550001112\", \"carrier\": \"telnyx\","
        " \"api_key\": \"KEY1\", \"public_key\": \"cGs=\","
        " \"api_base\": \"http://127.0.0.1:9999\","
        " \"carrier_answers_keywords\": true}");
    CHECK_INT(inbox_store_numbers_list(store, ORG_ID, &list, &err),
              INBOX_OK);
    golden_check(&fake, "numbers_list");

    CHECK_INT(list.count, 2);
    if (list.count == 2) {
        CHECK_STR(list.items[0].org_id, ORG_ID);
        CHECK_STR(list.items[0].e164, "+15550001111");
        CHECK_INT(list.items[0].carrier, INBOX_CARRIER_TWILIO);
        CHECK_STR(list.items[0].auth_token, "secret");
        CHECK(list.items[0].api_key == NULL);
        CHECK_INT(list.items[0].carrier_answers_keywords, 0);
        CHECK_INT(list.items[1].carrier, INBOX_CARRIER_TELNYX);
        CHECK_STR(list.items[1].api_key, "KEY1");
        CHECK_STR(list.items[1].api_base, "http://127.0.0.1:9999");
        CHECK_INT(list.items[1].carrier_answers_keywords, 1);
    }
    inbox_number_list_free(&list);

    /* no such organization: nothing more asked */
    fake_reset(&fake);
    CHECK_INT(inbox_store_numbers_list(store, ORG_ID, &list, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(fake.commands, 1);
    CHECK_INT(list.count, 0);

    fake_close(&fake, store);
}


TEST(tokens_list_shows_each_tokens_user_and_times)
{
    fake_t              fake;
    inbox_error_t       err;
    inbox_store_t      *store;
    inbox_token_list_t  list;

    store = fake_open(&fake);

    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) "}");
    fake.replies[1] = CURSOR(
        "{\"_id\": " OID(GEN_1) ", \"name\": \"demo\","
        " \"created_at\": " DATE(EARLIER) ", \"expires_at\": null,"
        " \"revoked_at\": " DATE(NOW) ","
        " \"user\": [{\"email\": \"pat@example.com\"}]},"
        "{\"_id\": " OID(GEN_2) ", \"name\": null,"
        " \"created_at\": " DATE(NOW) ", \"expires_at\": " DATE(LATER) ","
        " \"revoked_at\": null, \"user\": []},"
        "{\"_id\": " OID(GEN_3) ", \"created_at\": " DATE(NOW) ","
        " \"user\": []}");
    CHECK_INT(inbox_store_tokens_list(store, ORG_ID, &list, &err), INBOX_OK);
    golden_check(&fake, "tokens_list");

    CHECK_INT(list.count, 3);
    CHECK_INT(list.truncated, 0);
    if (list.count == 3) {
        CHECK_STR(list.items[0].id, GEN_1);
        CHECK_STR(list.items[0].name, "demo");
        CHECK_STR(list.items[0].user_email, "pat@example.com");
        CHECK_INT(list.items[0].created_at, 1767225000000LL);
        CHECK_INT(list.items[0].expires_at, 0);
        CHECK_INT(list.items[0].revoked_at, 1767225600000LL);
        CHECK_STR(list.items[1].name, "");
        CHECK_STR(list.items[1].user_email, "");
        CHECK_INT(list.items[1].expires_at, LATER_MS);
        CHECK_INT(list.items[1].revoked_at, 0);
        /* stored before tokens had names, expiries and revocations */
        CHECK_STR(list.items[2].id, GEN_3);
        CHECK_INT(list.items[2].expires_at, 0);
        CHECK_INT(list.items[2].revoked_at, 0);
    }
    inbox_token_list_free(&list);

    /* No such organization: nothing listed. */
    fake_reset(&fake);
    CHECK_INT(inbox_store_tokens_list(store, ORG_ID, &list, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(fake.commands, 1);
    CHECK_INT(inbox_store_tokens_list(store, "nope", &list, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(list.count, 0);

    fake_close(&fake, store);
}


TEST(token_revoke_by_id_or_hash_keeps_the_first_time)
{
    char                 id[INBOX_ID_MAX];
    fake_t               fake;
    inbox_error_t        err;
    inbox_store_t       *store;
    inbox_event_list_t   events;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    /* the revocation, then its event: the token's sockets close */
    fake.replies[0] = "{\"ok\": 1, \"value\": {\"_id\": " OID(GEN_1) "}}";
    fake.replies[1] = SEQ_RESERVED;
    CHECK_INT(inbox_store_token_revoke(store, ORG_ID, GEN_1, NULL, id,
                                       &events, &err),
              INBOX_OK);
    CHECK_STR(id, GEN_1);
    golden_check(&fake, "token_revoke");
    CHECK_INT(events.count, 1);
    CHECK_STR(events.items[0].type, "token.revoked");
    CHECK(strstr(events.items[0].json, "\"token_id\":\"" GEN_1 "\"")
          != NULL);
    inbox_event_list_free(&events);

    /* By the hash of a token in hand. */
    fake_reset(&fake);
    fake.replies[0] = "{\"ok\": 1, \"value\": {\"_id\": " OID(GEN_2) "}}";
    fake.replies[1] = SEQ_RESERVED;
    CHECK_INT(inbox_store_token_revoke(store, ORG_ID, NULL, "9f86d0", id,
                                       NULL, &err), INBOX_OK);
    CHECK_STR(id, GEN_2);
    CHECK(log_has(&fake, "\"token_hash\" : \"9f86d0\""));

    /* Revoked already: found again, nothing changes, success. */
    fake_reset(&fake);
    fake.replies[1] = CURSOR("{\"_id\": " OID(GEN_1) "}");
    CHECK_INT(inbox_store_token_revoke(store, ORG_ID, GEN_1, NULL, id,
                                       &events, &err),
              INBOX_OK);
    CHECK_STR(id, GEN_1);
    golden_check(&fake, "token_revoke_again");
    CHECK_INT(events.count, 0);

    /* No such token in an organization that exists. */
    fake_reset(&fake);
    fake.replies[2] = CURSOR("{\"_id\": " OID(ORG_ID) "}");
    CHECK_INT(inbox_store_token_revoke(store, ORG_ID, GEN_3, NULL, id,
                                       NULL, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK(strstr(err.message, "no token") != NULL);
    CHECK_INT(fake.commands, 3);

    /* No such organization. */
    fake_reset(&fake);
    CHECK_INT(inbox_store_token_revoke(store, ORG_ID, GEN_3, NULL, id,
                                       NULL, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK(strstr(err.message, "There is no organization with the id")
          != NULL);

    /* An id that is no ObjectId names no token: nothing is updated. */
    fake_reset(&fake);
    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) "}");
    CHECK_INT(inbox_store_token_revoke(store, ORG_ID, "12", NULL, id,
                                       NULL, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK(!log_has(&fake, "findAndModify"));

    fake_close(&fake, store);
}


TEST(credits_grant_and_billing_set)
{
    fake_t          fake;
    inbox_error_t   err;
    inbox_store_t  *store;

    store = fake_open(&fake);

    /* the balance, then its ledger entry with the balances after it,
     * then billing.updated with the billing read again */
    fake.replies[0] = "{\"ok\": 1, \"value\": {\"_id\": " OID(ORG_ID)
                      ", \"credits\": {\"balance\": 520, \"held\": 3}}}";
    fake.replies[2] = BILLING_DOC("true", "per_message");
    fake.replies[3] = SEQ_RESERVED;
    CHECK_INT(inbox_store_credits_grant(store, ORG_ID, 500, &err), INBOX_OK);
    CHECK(log_has(&fake, "\"balance\" : { \"$numberLong\" : \"520\" }"));
    CHECK(log_has(&fake, "\"type\" : \"billing.updated\""));
    CHECK_INT(fake.commands, 5);
    golden_check(&fake, "credits_grant");

    fake_reset(&fake);
    fake.replies[1] = BILLING_DOC("false", "per_message");
    fake.replies[2] = SEQ_RESERVED;
    CHECK_INT(inbox_store_billing_set(store, ORG_ID, 0, &err), INBOX_OK);
    CHECK_INT(fake.commands, 4);
    golden_check(&fake, "billing_set");

    /* active again: what claims parked meanwhile is due */
    fake_reset(&fake);
    fake.replies[2] = BILLING_DOC("true", "per_message");
    fake.replies[3] = SEQ_RESERVED;
    CHECK_INT(inbox_store_billing_set(store, ORG_ID, 1, &err), INBOX_OK);
    CHECK_INT(fake.commands, 5);
    golden_check(&fake, "billing_set_active");

    fake_reset(&fake);
    fake.replies[1] = BILLING_DOC("true", "unlimited");
    fake.replies[2] = SEQ_RESERVED;
    CHECK_INT(inbox_store_plan_set(store, ORG_ID, INBOX_PLAN_UNLIMITED, &err),
              INBOX_OK);
    CHECK(log_has(&fake, "\"type\" : \"billing.updated\""));
    golden_check(&fake, "plan_set");

    /* No document matched. */
    fake_reset(&fake);
    fake.replies[0] = "{\"ok\": 1, \"n\": 0, \"nModified\": 0}";
    CHECK_INT(inbox_store_credits_grant(store, ORG_ID, 5, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_STR(err.message,
              "There is no organization with the id \"" ORG_ID "\".");
    CHECK_INT(inbox_store_billing_set(store, "not-an-id", 1, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_STR(err.message,
              "There is no organization with the id \"not-an-id\".");
    CHECK_INT(inbox_store_plan_set(store, "not-an-id", INBOX_PLAN_UNLIMITED,
                                   &err), INBOX_ERR_NOT_FOUND);

    fake_close(&fake, store);
}


TEST(contact_upsert)
{
    fake_t          fake;
    inbox_error_t   err;
    inbox_store_t  *store;
    char            id[INBOX_ID_MAX];

    store = fake_open(&fake);

    /* An existing contact keeps its ids; renamed, one more version (its
     * third) as a rename's, and the conversation's copy follows at it
     * where it is older. */
    fake.replies[0] = "{\"ok\": 1, \"value\": {\"_id\": " OID(CONTACT_ID)
                      ", \"org_id\": " OID(ORG_ID) ", \"phone\": "
                      "\"+15551230001\", \"conversation_id\": " OID(CONV_ID)
                      ", \"name\": \"Ann Lee\", \"opted_out\": true,"
                      " \"version\": 3}}";
    CHECK_INT(inbox_store_contact_upsert(store, ORG_ID, "+15551230001",
                                         "Ann Lee", id, &err), INBOX_OK);
    CHECK_STR(id, CONTACT_ID);
    CHECK(log_has(&fake, "\"$inc\" : { \"version\""));
    CHECK(log_has(&fake, "\"contact.version\" : { \"$numberLong\" : "
                         "\"3\" }"));
    golden_check(&fake, "contact_upsert");

    fake_close(&fake, store);
}


/* A stored contact with tags, and its conversation. */
static const char  stored_contact[] =
    "{\"_id\": " OID(CONTACT_ID) ", \"org_id\": " OID(ORG_ID) ","
    " \"phone\": \"+15551230001\", \"name\": \"Ann Lee\","
    " \"tags\": [\"VIP\", \"Spring\"], \"tag_keys\": [\"vip\", \"spring\"],"
    " \"opted_out\": true, \"opted_out_at\": " DATE(EARLIER) ","
    " \"opt_out_source\": \"keyword\", \"created_at\": " DATE(EARLIER) ","
    " \"conversation_id\": " OID(CONV_ID) "}";

static const char  stored_contact_cursor[] =
    CURSOR("{\"_id\": " OID(CONTACT_ID) ", \"org_id\": " OID(ORG_ID) ","
           " \"phone\": \"+15551230001\", \"name\": \"Ann Lee\","
           " \"opted_out\": true, \"opted_out_at\": " DATE(EARLIER) ","
           " \"opt_out_source\": \"keyword\", \"created_at\": "
           DATE(EARLIER) ", \"conversation_id\": " OID(CONV_ID) "}");


TEST(contact_get)
{
    fake_t                  fake;
    inbox_error_t           err;
    inbox_store_t          *store;
    inbox_contact_record_t  c;

    store = fake_open(&fake);

    fake.replies[0] = CURSOR("{\"_id\": " OID(CONTACT_ID) ", \"org_id\": "
        OID(ORG_ID) ", \"phone\": \"+15551230001\", \"name\": \"Ann Lee\","
        " \"tags\": [\"VIP\", \"Spring\"], \"tag_keys\": [\"vip\","
        " \"spring\"], \"opted_out\": true, \"opted_out_at\": "
        DATE(EARLIER) ", \"opt_out_source\": \"keyword\", \"created_at\": "
        DATE(EARLIER) ", \"conversation_id\": " OID(CONV_ID) "}");
    CHECK_INT(inbox_store_contact_get(store, ORG_ID, CONTACT_ID, &c, &err),
              INBOX_OK);
    golden_check(&fake, "contact_get");
    CHECK_STR(c.id, CONTACT_ID);
    CHECK_STR(c.name, "Ann Lee");
    CHECK_INT(c.tags.count, 2);
    if (c.tags.count == 2) {
        CHECK_STR(c.tags.items[1], "Spring");
    }
    CHECK_INT(c.opted_out, 1);
    CHECK_STR(c.opt_out_source, "keyword");
    CHECK_STR(c.conversation_id, CONV_ID);
    inbox_contact_record_free(&c);

    /* another organization's (or a malformed) id is not found */
    fake_reset(&fake);
    CHECK_INT(inbox_store_contact_get(store, ORG_ID, CONTACT_ID, &c, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(inbox_store_contact_get(store, ORG_ID, "12", &c, &err),
              INBOX_ERR_NOT_FOUND);
    inbox_contact_record_free(&c);

    fake_close(&fake, store);
}


TEST(contact_create)
{
    fake_t                  fake;
    inbox_error_t           err;
    inbox_store_t          *store;
    inbox_event_list_t      events;
    inbox_contact_edit_t    edit;
    inbox_contact_record_t  c;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));
    memset(&edit, 0, sizeof(edit));
    edit.set_name = 1;
    edit.name = "Eli Park";
    edit.set_tags = 1;
    CHECK_INT(inbox_tags_add(&edit.tags, "Lead", 4, NULL), INBOX_OK);

    /* the contact, its thread, then its event: contact.updated naming
     * the thread just made, with the contact as a list shows it */
    fake.replies[2] = "{\"ok\": 1, \"value\": {\"_id\": " OID(ORG_ID)
                      ", \"seq\": {\"$numberLong\": \"16\"}, \"epoch\":"
                      " \"a1b2c3d4e5f60708\"}}";
    CHECK_INT(inbox_store_contact_create(store, ORG_ID, "+15551230002",
                                         &edit, &c, &events, &err),
              INBOX_OK);
    golden_check(&fake, "contact_create");
    CHECK_STR(c.id, GEN_1);
    CHECK_STR(c.conversation_id, GEN_2);
    CHECK_STR(c.name, "Eli Park");
    CHECK_INT(events.count, 1);
    if (events.count == 1) {
        CHECK_STR(events.items[0].type, "contact.updated");
        CHECK_INT(events.items[0].org_seq, 16);
        CHECK(strstr(events.items[0].json, "\"name\":\"Eli Park\"")
              != NULL);
        CHECK(strstr(events.items[0].json, "\"tags\":[\"Lead\"]") != NULL);
        CHECK(strstr(events.items[0].json,
                     "\"conversation_id\":\"" GEN_2 "\"") != NULL);
    }
    inbox_contact_record_free(&c);
    inbox_event_list_free(&events);
    memset(&events, 0, sizeof(events));

    /* the unique index refuses a number that is a contact; its thread
     * is made where a create that failed after the contact left none
     * (an upsert that sets nothing on one there) */
    fake_reset(&fake);
    fake.replies[0] = "{\"ok\": 1, \"n\": 0, \"writeErrors\": [{\"index\": 0,"
                      " \"code\": 11000, \"errmsg\": \"E11000 duplicate key"
                      "\"}]}";
    fake.replies[1] = CURSOR("{\"_id\": " OID(CONTACT_ID) ","
                             " \"conversation_id\": " OID(CONV_ID) "}");
    CHECK_INT(inbox_store_contact_create(store, ORG_ID, "+15551230002",
                                         &edit, &c, NULL, &err),
              INBOX_ERR_CONFLICT);
    CHECK_STR(err.field, "phone");
    CHECK(strstr(err.message, "is a contact already") != NULL);
    golden_check(&fake, "contact_create_repairs_the_thread");
    CHECK(!log_has(&fake, "\"$set\""));
    inbox_contact_record_free(&c);

    /* made, it is answered made though its event could not be stored
     * (the organization's seq not answered): a retry would be refused
     * as a contact already */
    fake_reset(&fake);
    CHECK_INT(inbox_store_contact_create(store, ORG_ID, "+15551230003",
                                         &edit, &c, &events, &err),
              INBOX_OK);
    CHECK_INT(fake.commands, 3);
    CHECK_INT(events.count, 0);
    inbox_contact_record_free(&c);

    inbox_tags_free(&edit.tags);
    fake_close(&fake, store);
}


/*
 * A number a text (or an import) made a contact of and failed to push:
 * still unannounced, in no Contacts list.  Added by hand, it is a
 * contact already (409), but the add that meets it gives it its thread
 * (there already here: the upsert changes nothing), writes the thread's
 * copy as the contact is (opted out by its STOP), pushes it as made
 * (contact.updated with it whole, naming its thread) and announces it;
 * added again, it is pushed no more.
 */
TEST(contact_create_pushes_a_contact_left_unannounced)
{
    fake_t                  fake;
    inbox_error_t           err;
    inbox_store_t          *store;
    inbox_event_list_t      events;
    inbox_contact_edit_t    edit;
    inbox_contact_record_t  c;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));
    memset(&edit, 0, sizeof(edit));
    edit.set_name = 1;
    edit.name = "Eli Park";

    /* [0] the insert refused; [1] the contact found, unannounced; [2]
     * its thread's upsert; [3] the contact whole; [4] its copy; [5] the
     * thread; [6] the event's number; [7] the event; [8] the $unset */
    fake.replies[0] = "{\"ok\": 1, \"n\": 0, \"writeErrors\": [{\"index\": 0,"
                      " \"code\": 11000, \"errmsg\": \"E11000 duplicate key"
                      "\"}]}";
    fake.replies[1] = CURSOR("{\"_id\": " OID(CONTACT_ID) ","
                             " \"conversation_id\": " OID(CONV_ID) ","
                             " \"unannounced\": true}");
    fake.replies[3] = CURSOR("{\"_id\": " OID(CONTACT_ID) ", \"org_id\": "
        OID(ORG_ID) ", \"phone\": \"+15551230002\", \"name\": null,"
        " \"tags\": [], \"opted_out\": true, \"opted_out_at\": "
        DATE(EARLIER) ", \"opt_out_source\": \"keyword\", \"created_at\": "
        DATE(EARLIER) ", \"conversation_id\": " OID(CONV_ID) ","
        " \"unannounced\": true}");
    fake.replies[5] = CURSOR("{\"_id\": " OID(CONV_ID) ", \"org_id\": "
        OID(ORG_ID) ", \"contact\": {\"id\": " OID(CONTACT_ID) ", \"name\":"
        " null, \"phone\": \"+15551230002\", \"opted_out\": true},"
        " \"last_message\": null, \"last_activity_at\": " DATE(EARLIER)
        ", \"unread_count\": {\"$numberLong\": \"1\"}, \"archived\":"
        " false, \"starred\": false}");
    fake.replies[6] = SEQ_RESERVED;

    CHECK_INT(inbox_store_contact_create(store, ORG_ID, "+15551230002",
                                         &edit, &c, &events, &err),
              INBOX_ERR_CONFLICT);
    CHECK_STR(err.field, "phone");
    CHECK(strstr(err.message, "is a contact already") != NULL);
    golden_check(&fake, "contact_create_pushes_a_contact_left_unannounced");
    /* the last: the contacts of the number, for the refusal to name it */
    CHECK_INT(fake.commands, 10);
    CHECK_INT(events.count, 1);
    if (events.count == 1) {
        CHECK_STR(events.items[0].type, "contact.updated");
        CHECK_INT(events.items[0].org_seq, 12);
        CHECK(strstr(events.items[0].json, "\"+15551230002\"") != NULL);
        CHECK(strstr(events.items[0].json, "\"opted_out\":true") != NULL);
        CHECK(strstr(events.items[0].json,
                     "\"conversation_id\":\"" CONV_ID "\"") != NULL);
    }
    CHECK(log_has(&fake, "\"$unset\" : { \"unannounced\""));
    inbox_contact_record_free(&c);
    inbox_event_list_free(&events);
    memset(&events, 0, sizeof(events));

    /* announced: the add meets a contact like any other */
    fake_reset(&fake);
    fake.replies[0] = "{\"ok\": 1, \"n\": 0, \"writeErrors\": [{\"index\": 0,"
                      " \"code\": 11000, \"errmsg\": \"E11000 duplicate key"
                      "\"}]}";
    fake.replies[1] = CURSOR("{\"_id\": " OID(CONTACT_ID) ","
                             " \"conversation_id\": " OID(CONV_ID) "}");
    CHECK_INT(inbox_store_contact_create(store, ORG_ID, "+15551230002",
                                         &edit, &c, &events, &err),
              INBOX_ERR_CONFLICT);
    /* and the contacts of the number, for the refusal to name it */
    CHECK_INT(fake.commands, 4);
    CHECK_INT(events.count, 0);
    CHECK(!log_has(&fake, "\"$unset\""));
    inbox_contact_record_free(&c);

    fake_close(&fake, store);
}


TEST(contact_update)
{
    fake_t                  fake;
    inbox_error_t           err;
    inbox_store_t          *store;
    inbox_event_list_t      events;
    inbox_contact_edit_t    edit;
    inbox_contact_record_t  c;
    char                    before[1024];

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));
    memset(&edit, 0, sizeof(edit));
    snprintf(before, sizeof(before), "{\"ok\": 1, \"value\": %s}",
             stored_contact);

    /* a new name: the contact, its conversation's copy, the event */
    edit.set_name = 1;
    edit.name = "Ann Lee-Park";
    edit.set_tags = 1;
    CHECK_INT(inbox_tags_add(&edit.tags, "vip", 3, NULL), INBOX_OK);
    fake.replies[0] = before;
    fake.replies[2] = CURSOR("{\"_id\": " OID(CONV_ID) ", \"org_id\": "
        OID(ORG_ID) ", \"contact\": {\"id\": " OID(CONTACT_ID) ", \"name\":"
        " \"Ann Lee-Park\", \"phone\": \"+15551230001\", \"opted_out\":"
        " true}, \"last_message\": null, \"last_activity_at\": " DATE(NOW)
        ", \"unread_count\": {\"$numberLong\": \"0\"}, \"archived\": false,"
        " \"starred\": false}");
    fake.replies[3] = "{\"ok\": 1, \"value\": {\"_id\": " OID(ORG_ID)
                      ", \"seq\": {\"$numberLong\": \"14\"}, \"epoch\":"
                      " \"a1b2c3d4e5f60708\"}}";

    CHECK_INT(inbox_store_contact_update(store, ORG_ID, CONTACT_ID, &edit,
                                         &c, &events, &err), INBOX_OK);
    golden_check(&fake, "contact_update_rename");
    CHECK_STR(c.name, "Ann Lee-Park");
    CHECK_INT(c.tags.count, 1);
    CHECK_INT(c.opted_out, 1);
    CHECK_INT(events.count, 1);
    if (events.count == 1) {
        CHECK(strstr(events.items[0].json, "\"conversation.updated\"")
              != NULL);
        CHECK(strstr(events.items[0].json, "Ann Lee-Park") != NULL);
        CHECK_INT(events.items[0].org_seq, 14);
    }
    inbox_contact_record_free(&c);
    inbox_event_list_free(&events);
    inbox_tags_free(&edit.tags);

    /* its tags in another order, the same name: the copy written where
     * it is older than the contact's version, the conversation read,
     * contact.updated with the tags as they are now */
    fake_reset(&fake);
    memset(&edit, 0, sizeof(edit));
    edit.set_name = 1;
    edit.name = "Ann Lee";
    edit.set_tags = 1;
    CHECK_INT(inbox_tags_add(&edit.tags, "Spring", 6, NULL), INBOX_OK);
    CHECK_INT(inbox_tags_add(&edit.tags, "VIP", 3, NULL), INBOX_OK);
    fake.replies[0] = before;
    fake.replies[2] = CURSOR("{\"_id\": " OID(CONV_ID) ", \"org_id\": "
        OID(ORG_ID) ", \"contact\": {\"id\": " OID(CONTACT_ID) ", \"name\":"
        " \"Ann Lee\", \"phone\": \"+15551230001\", \"opted_out\": true},"
        " \"last_message\": null, \"last_activity_at\": " DATE(NOW) ","
        " \"unread_count\": {\"$numberLong\": \"0\"}, \"archived\": false,"
        " \"starred\": false}");
    fake.replies[3] = "{\"ok\": 1, \"value\": {\"_id\": " OID(ORG_ID)
                      ", \"seq\": {\"$numberLong\": \"15\"}, \"epoch\":"
                      " \"a1b2c3d4e5f60708\"}}";
    CHECK_INT(inbox_store_contact_update(store, ORG_ID, CONTACT_ID, &edit,
                                         &c, &events, &err), INBOX_OK);
    golden_check(&fake, "contact_update_tags");
    CHECK_INT(c.tags.count, 2);
    CHECK_INT(events.count, 1);
    if (events.count == 1) {
        CHECK_STR(events.items[0].type, "contact.updated");
        CHECK_INT(events.items[0].org_seq, 15);
        CHECK(strstr(events.items[0].json,
                     "\"tags\":[\"Spring\",\"VIP\"]") != NULL);
    }
    inbox_contact_record_free(&c);
    inbox_event_list_free(&events);
    inbox_tags_free(&edit.tags);

    /* the tags and the name it has: the contact, and its copy where
     * older (a retry's repair after a failure between the two), no
     * event */
    fake_reset(&fake);
    CHECK_INT(inbox_tags_add(&edit.tags, "VIP", 3, NULL), INBOX_OK);
    CHECK_INT(inbox_tags_add(&edit.tags, "Spring", 6, NULL), INBOX_OK);
    fake.replies[0] = before;
    CHECK_INT(inbox_store_contact_update(store, ORG_ID, CONTACT_ID, &edit,
                                         &c, &events, &err), INBOX_OK);
    CHECK_INT(fake.commands, 2);
    CHECK(log_has(&fake, "\"contact.version\" : { \"$not\""));
    CHECK_INT(c.tags.count, 2);
    CHECK_INT(events.count, 0);
    inbox_contact_record_free(&c);
    inbox_tags_free(&edit.tags);

    /* another organization's contact */
    fake_reset(&fake);
    CHECK_INT(inbox_store_contact_update(store, ORG_ID, CONTACT_ID, &edit,
                                         &c, &events, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(fake.commands, 1);
    inbox_contact_record_free(&c);

    fake_close(&fake, store);
}


TEST(contacts_list)
{
    fake_t                  fake;
    inbox_error_t           err;
    inbox_store_t          *store;
    inbox_contact_page_t    page;
    inbox_contact_query_t   query;

    store = fake_open(&fake);

    memset(&query, 0, sizeof(query));
    query.q = "(555) 12";
    query.tag = "VIP";
    query.cursor = NOW ":" CONTACT_ID;
    query.limit = 1;
    {
        static char  two[4096];

        snprintf(two, sizeof(two), CURSOR("%s, %s"), stored_contact,
                 stored_contact);
        fake.replies[0] = two;
    }

    CHECK_INT(inbox_store_contacts_list(store, ORG_ID, &query, &page, &err),
              INBOX_OK);
    golden_check(&fake, "contacts_list");
    CHECK_INT(page.count, 1);
    CHECK_STR(page.next_cursor, EARLIER ":" CONTACT_ID);
    inbox_contact_page_free(&page);

    /* a name: q folded (search.h) in the folded search_name, on the
     * organization's index of contacts newest first */
    fake_reset(&fake);
    memset(&query, 0, sizeof(query));
    query.q = "Walk";
    query.limit = 1;
    CHECK_INT(inbox_store_contacts_list(store, ORG_ID, &query, &page, &err),
              INBOX_OK);
    golden_check(&fake, "contacts_list_name");
    inbox_contact_page_free(&page);

    /* a name's words, in any order (search.h): the joined key, or one
     * lookahead a word, one pattern still on the same index's keys */
    fake_reset(&fake);
    memset(&query, 0, sizeof(query));
    query.q = "lopez O.";
    query.limit = 1;
    CHECK_INT(inbox_store_contacts_list(store, ORG_ID, &query, &page, &err),
              INBOX_OK);
    golden_check(&fake, "contacts_list_words");
    inbox_contact_page_free(&page);

    /* invisible characters alone are no search: as no q at all */
    fake_reset(&fake);
    memset(&query, 0, sizeof(query));
    query.limit = 1;
    CHECK_INT(inbox_store_contacts_list(store, ORG_ID, &query, &page, &err),
              INBOX_OK);
    golden_check(&fake, "contacts_list_all");
    inbox_contact_page_free(&page);

    fake_reset(&fake);
    query.q = "\xe2\x80\x8b\xe2\x81\xa0";
    CHECK_INT(inbox_store_contacts_list(store, ORG_ID, &query, &page, &err),
              INBOX_OK);
    golden_check(&fake, "contacts_list_all");
    inbox_contact_page_free(&page);

    fake_reset(&fake);
    memset(&query, 0, sizeof(query));
    query.cursor = "garbage";
    CHECK_INT(inbox_store_contacts_list(store, ORG_ID, &query, &page, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "cursor");
    inbox_contact_page_free(&page);

    fake_close(&fake, store);
}


TEST(contacts_import)
{
    fake_t                fake;
    size_t                i;
    inbox_error_t         err;
    inbox_store_t        *store;
    inbox_event_list_t    events;
    inbox_contact_row_t   rows[4];
    inbox_import_count_t  count;

    store = fake_open(&fake);
    memset(rows, 0, sizeof(rows));
    memset(&events, 0, sizeof(events));

    /* an existing contact renamed, tagged ("vip" it has as "VIP") and
     * given a zone (what waits for its quiet hours is looked for), a new
     * one, the new one again (marked repeated, as import.c marks it),
     * and an existing one given another time zone; all three pushed */
    snprintf(rows[0].phone, sizeof(rows[0].phone), "+15551230001");
    rows[0].name = strdup("Ann Lee");
    snprintf(rows[0].timezone, sizeof(rows[0].timezone), "Europe/Lisbon");
    inbox_tags_add(&rows[0].tags, "vip", 3, NULL);
    inbox_tags_add(&rows[0].tags, "Fall", 4, NULL);
    snprintf(rows[1].phone, sizeof(rows[1].phone), "+15551230009");
    inbox_tags_add(&rows[1].tags, "new", 3, NULL);
    snprintf(rows[1].timezone, sizeof(rows[1].timezone), "Asia/Tokyo");
    snprintf(rows[2].phone, sizeof(rows[2].phone), "+15551230009");
    rows[2].name = strdup("Nia");
    inbox_tags_add(&rows[2].tags, "NEW", 3, NULL);
    rows[2].repeated = 1;
    snprintf(rows[3].phone, sizeof(rows[3].phone), "+15551230002");
    snprintf(rows[3].timezone, sizeof(rows[3].timezone), "Europe/Paris");

    fake.replies[0] = CURSOR("{\"_id\": " OID(CONTACT_ID) ", \"phone\":"
        " \"+15551230001\", \"name\": \"Ann\", \"tags\": [\"VIP\","
        " \"Spring\"], \"conversation_id\": " OID(CONV_ID) "},"
        " {\"_id\": " OID(CONTACT2_ID) ", \"phone\": \"+15551230002\","
        " \"name\": \"Bo\", \"tags\": [], \"timezone\": \"Asia/Tokyo\","
        " \"conversation_id\": " OID(CONV2_ID) "}");
    fake.replies[1] = "{\"ok\": 1, \"n\": 4, \"nModified\": 3, \"upserted\":"
                      " [{\"index\": 1, \"_id\": " OID(GEN_1) "}]}";
    /* [2]: no campaign sending waits for their quiet hours; [3] the
     * threads made where missing; the contacts named read back, their
     * threads' copies written at the versions they have now (Ann renamed
     * a third time, Nia made with her name); the contacts changed
     * pushed: they and their threads read, the renamed one's
     * conversation.updated, the other's contact.updated */
    fake.replies[4] = CURSOR("{\"_id\": " OID(CONTACT_ID) ", \"phone\":"
        " \"+15551230001\", \"name\": \"Ann Lee\", \"opted_out\": false,"
        " \"version\": 3, \"conversation_id\": " OID(CONV_ID) "},"
        " {\"_id\": " OID(GEN_1) ", \"phone\": \"+15551230009\","
        " \"name\": \"Nia\", \"opted_out\": false, \"version\": 1,"
        " \"conversation_id\": " OID(GEN_2) "}");
    fake.replies[6] = CURSOR("{\"_id\": " OID(CONTACT_ID) ", \"phone\":"
        " \"+15551230001\", \"name\": \"Ann Lee\", \"tags\": [\"VIP\","
        " \"Spring\", \"Fall\"], \"conversation_id\": " OID(CONV_ID) "},"
        " {\"_id\": " OID(CONTACT2_ID) ", \"phone\": \"+15551230002\","
        " \"name\": \"Bo\", \"tags\": [], \"timezone\": \"Europe/Paris\","
        " \"conversation_id\": " OID(CONV2_ID) "},"
        " {\"_id\": " OID(GEN_1) ", \"phone\": \"+15551230009\","
        " \"name\": \"Nia\", \"tags\": [\"new\"], \"timezone\":"
        " \"Asia/Tokyo\", \"conversation_id\": " OID(GEN_2) "}");
    fake.replies[7] = CURSOR("{\"_id\": " OID(CONV_ID) ", \"org_id\": "
        OID(ORG_ID) ", \"contact\": {\"id\": " OID(CONTACT_ID) ", \"name\":"
        " \"Ann Lee\", \"phone\": \"+15551230001\", \"opted_out\":"
        " false}, \"last_message\": null, \"last_activity_at\": " DATE(NOW)
        ", \"unread_count\": {\"$numberLong\": \"0\"}, \"archived\": false,"
        " \"starred\": false}, {\"_id\": " OID(CONV2_ID) ", \"org_id\": "
        OID(ORG_ID) ", \"contact\": {\"id\": " OID(CONTACT2_ID) ", \"name\":"
        " \"Bo\", \"phone\": \"+15551230002\", \"opted_out\": false},"
        " \"last_message\": null, \"last_activity_at\": " DATE(NOW) ","
        " \"unread_count\": {\"$numberLong\": \"0\"}, \"archived\": false,"
        " \"starred\": false}, {\"_id\": " OID(GEN_2) ", \"org_id\": "
        OID(ORG_ID) ", \"contact\": {\"id\": " OID(GEN_1) ", \"name\":"
        " \"Nia\", \"phone\": \"+15551230009\", \"opted_out\": false},"
        " \"last_message\": null, \"last_activity_at\": null,"
        " \"unread_count\": {\"$numberLong\": \"0\"}, \"archived\": false,"
        " \"starred\": false}");
    fake.replies[8] = "{\"ok\": 1, \"value\": {\"_id\": " OID(ORG_ID)
                      ", \"seq\": {\"$numberLong\": \"14\"}, \"epoch\":"
                      " \"a1b2c3d4e5f60708\"}}";
    fake.replies[10] = "{\"ok\": 1, \"value\": {\"_id\": " OID(ORG_ID)
                      ", \"seq\": {\"$numberLong\": \"15\"}, \"epoch\":"
                      " \"a1b2c3d4e5f60708\"}}";
    fake.replies[12] = "{\"ok\": 1, \"value\": {\"_id\": " OID(ORG_ID)
                      ", \"seq\": {\"$numberLong\": \"16\"}, \"epoch\":"
                      " \"a1b2c3d4e5f60708\"}}";

    CHECK_INT(inbox_store_contacts_import(store, ORG_ID, rows, 4, &count,
                                          &events, &err), INBOX_OK);
    golden_check(&fake, "contacts_import");
    CHECK_INT(count.created, 1);
    CHECK_INT(count.updated, 2);
    CHECK_INT(count.repeated, 1);
    CHECK_INT(count.capped, 0);
    CHECK_INT(events.count, 3);
    if (events.count == 3) {
        CHECK_STR(events.items[0].type, "conversation.updated");
        CHECK(strstr(events.items[0].json, "Ann Lee") != NULL);
        CHECK_INT(events.items[0].org_seq, 14);
        CHECK_STR(events.items[1].type, "contact.updated");
        CHECK(strstr(events.items[1].json, "\"timezone\":\"Europe/Paris\"")
              != NULL);
        CHECK_INT(events.items[1].org_seq, 15);
        /* the one it made, named: contact.updated all the same */
        CHECK_STR(events.items[2].type, "contact.updated");
        CHECK(strstr(events.items[2].json, "\"name\":\"Nia\"") != NULL);
        CHECK(strstr(events.items[2].json, "\"tags\":[\"new\"]") != NULL);
        CHECK_INT(events.items[2].org_seq, 16);
    }
    inbox_event_list_free(&events);

    for (i = 0; i < 4; i++) {
        inbox_contact_row_free(&rows[i]);
    }

    fake_close(&fake, store);
}


/* A number no contact had at the find, made one (an inbound text) before
 * the upsert: nothing inserted, its ids are read back, and no thread is
 * made under the ids made here; its name goes to its own thread.  Only
 * the one the batch inserted is pushed as made. */
TEST(contacts_import_of_a_number_that_became_a_contact_meanwhile)
{
    fake_t                fake;
    inbox_error_t         err;
    inbox_store_t        *store;
    inbox_event_list_t    events;
    inbox_contact_row_t   rows[2];
    inbox_import_count_t  count;

    store = fake_open(&fake);
    memset(rows, 0, sizeof(rows));
    memset(&events, 0, sizeof(events));

    snprintf(rows[0].phone, sizeof(rows[0].phone), "+15551230001");
    rows[0].name = strdup("Ann Lee");
    snprintf(rows[1].phone, sizeof(rows[1].phone), "+15551230009");

    fake.replies[0] = CURSOR("");
    fake.replies[1] = "{\"ok\": 1, \"n\": 2, \"nModified\": 0, \"upserted\":"
                      " [{\"index\": 1, \"_id\": " OID(GEN_3) "}]}";
    fake.replies[2] = CURSOR("{\"_id\": " OID(CONTACT_ID) ", \"phone\":"
        " \"+15551230001\", \"conversation_id\": " OID(CONV_ID) "}");
    /* [3] the threads; Ann read back, the copy of her own thread's
     * written at her version */
    fake.replies[4] = CURSOR("{\"_id\": " OID(CONTACT_ID) ", \"phone\":"
        " \"+15551230001\", \"name\": \"Ann Lee\", \"opted_out\": false,"
        " \"version\": 1, \"conversation_id\": " OID(CONV_ID) "}");
    /* [5] the copy; the one made read with its thread, then pushed */
    fake.replies[6] = CURSOR("{\"_id\": " OID(GEN_3) ", \"phone\":"
        " \"+15551230009\", \"name\": null, \"tags\": [],"
        " \"conversation_id\": " OID(GEN_4) "}");
    fake.replies[7] = CURSOR("{\"_id\": " OID(GEN_4) ", \"org_id\": "
        OID(ORG_ID) ", \"contact\": {\"id\": " OID(GEN_3) ", \"name\":"
        " null, \"phone\": \"+15551230009\", \"opted_out\": false},"
        " \"last_message\": null, \"last_activity_at\": null,"
        " \"unread_count\": {\"$numberLong\": \"0\"}, \"archived\": false,"
        " \"starred\": false}");
    fake.replies[8] = "{\"ok\": 1, \"value\": {\"_id\": " OID(ORG_ID)
                      ", \"seq\": {\"$numberLong\": \"14\"}, \"epoch\":"
                      " \"a1b2c3d4e5f60708\"}}";

    CHECK_INT(inbox_store_contacts_import(store, ORG_ID, rows, 2, &count,
                                          &events, &err), INBOX_OK);
    golden_check(&fake, "contacts_import_raced");
    CHECK_INT(count.created, 1);
    CHECK_INT(count.updated, 1);
    CHECK_INT(events.count, 1);
    if (events.count == 1) {
        CHECK_STR(events.items[0].type, "contact.updated");
        CHECK(strstr(events.items[0].json, "\"+15551230009\"") != NULL);
    }
    inbox_event_list_free(&events);

    inbox_contact_row_free(&rows[0]);
    inbox_contact_row_free(&rows[1]);
    fake_close(&fake, store);
}


/* The contacts of the retry's rows, read for its events: Bo is one a
 * failed import made, Nia one her failed STOP made. */
#define IMPORT_NIA                                                          \
    "{\"_id\": " OID("64f1a0000000000000000b03") ", \"phone\":"             \
    " \"+15551230009\", \"name\": null, \"opted_out\": true, \"tags\": [],"  \
    " \"conversation_id\": " OID(CONV3_ID)
#define IMPORT_BO                                                           \
    "{\"_id\": " OID(CONTACT2_ID) ", \"phone\": \"+15551230002\","         \
    " \"name\": \"Bo\", \"tags\": [], \"conversation_id\": " OID(CONV2_ID)


/*
 * An import finding contacts still unannounced (without a transaction):
 * Bo, made by its own first attempt, which failed before the threads,
 * and Nia, made by her STOP, which failed before her thread.  It
 * finishes them as made: each given its thread (an upsert: one there is
 * left as it is) with its copy of the contact as it is (Nia opted out),
 * pushed, counted created, then marked announced in one update; the
 * contact that was there before, unchanged, is neither.  The same
 * import again makes and pushes nothing.
 */
TEST(contacts_import_finishes_the_contacts_a_failed_one_made)
{
    size_t                i;
    fake_t                fake;
    inbox_error_t         err;
    inbox_store_t        *store;
    inbox_event_list_t    events;
    inbox_contact_row_t   rows[3];
    inbox_import_count_t  count;

    store = fake_open(&fake);
    memset(rows, 0, sizeof(rows));
    memset(&events, 0, sizeof(events));

    snprintf(rows[0].phone, sizeof(rows[0].phone), "+15551230009");
    snprintf(rows[1].phone, sizeof(rows[1].phone), "+15551230002");
    rows[1].name = strdup("Bo");
    snprintf(rows[2].phone, sizeof(rows[2].phone), "+15551230001");

    fake.replies[0] = CURSOR(IMPORT_NIA ", \"unannounced\": true}, "
        IMPORT_BO ", \"unannounced\": true}, {\"_id\": " OID(CONTACT_ID)
        ", \"phone\": \"+15551230001\", \"name\": \"Ann\", \"tags\": [],"
        " \"conversation_id\": " OID(CONV_ID) "}");
    fake.replies[1] = "{\"ok\": 1, \"n\": 3, \"nModified\": 1}";
    /* [2] the threads of the two; the two read back for their threads'
     * copies, [4] written; the two read with their threads, then
     * pushed */
    fake.replies[3] = CURSOR("{\"_id\": " OID("64f1a0000000000000000b03")
        ", \"phone\": \"+15551230009\", \"name\": null, \"opted_out\":"
        " true, \"conversation_id\": " OID(CONV3_ID) "}, {\"_id\": "
        OID(CONTACT2_ID) ", \"phone\": \"+15551230002\", \"name\": \"Bo\","
        " \"opted_out\": false, \"version\": 2, \"conversation_id\": "
        OID(CONV2_ID) "}");
    fake.replies[5] = CURSOR(IMPORT_NIA "}, " IMPORT_BO "}");
    fake.replies[6] = CURSOR("{\"_id\": " OID(CONV3_ID) ", \"org_id\": "
        OID(ORG_ID) ", \"contact\": {\"id\": " OID("64f1a0000000000000000b03")
        ", \"name\": null, \"phone\": \"+15551230009\", \"opted_out\":"
        " true}, \"last_message\": null, \"last_activity_at\": null,"
        " \"unread_count\": {\"$numberLong\": \"0\"}, \"archived\": false,"
        " \"starred\": false}, {\"_id\": " OID(CONV2_ID) ", \"org_id\": "
        OID(ORG_ID) ", \"contact\": {\"id\": " OID(CONTACT2_ID) ", \"name\":"
        " \"Bo\", \"phone\": \"+15551230002\", \"opted_out\": false},"
        " \"last_message\": null, \"last_activity_at\": null,"
        " \"unread_count\": {\"$numberLong\": \"0\"}, \"archived\": false,"
        " \"starred\": false}");
    fake.replies[7] = "{\"ok\": 1, \"value\": {\"_id\": " OID(ORG_ID)
                      ", \"seq\": {\"$numberLong\": \"14\"}, \"epoch\":"
                      " \"a1b2c3d4e5f60708\"}}";
    fake.replies[9] = "{\"ok\": 1, \"value\": {\"_id\": " OID(ORG_ID)
                      ", \"seq\": {\"$numberLong\": \"15\"}, \"epoch\":"
                      " \"a1b2c3d4e5f60708\"}}";

    CHECK_INT(inbox_store_contacts_import(store, ORG_ID, rows, 3, &count,
                                          &events, &err), INBOX_OK);
    golden_check(&fake, "contacts_import_unannounced");
    CHECK_INT(count.created, 2);
    CHECK_INT(count.updated, 1);
    CHECK_INT(events.count, 2);
    if (events.count == 2) {
        CHECK_STR(events.items[0].type, "contact.updated");
        CHECK(strstr(events.items[0].json, "\"+15551230009\"") != NULL);
        CHECK(strstr(events.items[0].json, "\"opted_out\":true") != NULL);
        CHECK_STR(events.items[1].type, "contact.updated");
        CHECK(strstr(events.items[1].json, "\"name\":\"Bo\"") != NULL);
    }
    CHECK(log_has(&fake, "\"$unset\" : { \"unannounced\""));
    inbox_event_list_free(&events);

    /* announced: updated, no thread made, nothing pushed */
    fake_reset(&fake);
    fake.replies[0] = CURSOR(IMPORT_NIA "}, " IMPORT_BO "}, {\"_id\": "
        OID(CONTACT_ID) ", \"phone\": \"+15551230001\", \"name\": \"Ann\","
        " \"tags\": [], \"conversation_id\": " OID(CONV_ID) "}");
    fake.replies[1] = "{\"ok\": 1, \"n\": 3, \"nModified\": 1}";
    fake.replies[3] = CURSOR("{\"_id\": " OID(CONTACT2_ID) ", \"phone\":"
        " \"+15551230002\", \"name\": \"Bo\", \"opted_out\": false,"
        " \"version\": 3, \"conversation_id\": " OID(CONV2_ID) "}");

    CHECK_INT(inbox_store_contacts_import(store, ORG_ID, rows, 3, &count,
                                          &events, &err), INBOX_OK);
    CHECK_INT(count.created, 0);
    CHECK_INT(count.updated, 3);
    CHECK_INT(events.count, 0);
    CHECK(!log_has(&fake, "\"contact.phone\" : \"+15551230009\""));
    CHECK(!log_has(&fake, "\"$unset\""));

    for (i = 0; i < 3; i++) {
        inbox_contact_row_free(&rows[i]);
    }

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


/*
 * A contact keeps at most INBOX_TAGS_MAX tags: a row's tags it lacks are
 * added while it has room, the rest left out, and the batch counts the
 * contacts so capped, once each however many of its rows; tags it has
 * in another case cap nothing.
 */
TEST(contacts_import_counts_the_contacts_whose_tags_were_capped)
{
    char                  reply[4096], *p;
    size_t                i;
    fake_t                fake;
    inbox_error_t         err;
    inbox_store_t        *store;
    inbox_contact_row_t   rows[4];
    inbox_import_count_t  count;

    store = fake_open(&fake);
    memset(rows, 0, sizeof(rows));

    /* Ann has 49 tags, Bo 50 */
    p = reply + sprintf(reply, "{\"cursor\": {\"id\": {\"$numberLong\":"
                        " \"0\"}, \"ns\": \"inbox.x\", \"firstBatch\":"
                        " [{\"_id\": " OID(CONTACT_ID) ", \"phone\":"
                        " \"+15551230001\", \"tags\": [");
    for (i = 1; i < INBOX_TAGS_MAX; i++) {
        p += sprintf(p, "%s\"t%zu\"", i > 1 ? ", " : "", i);
    }
    p += sprintf(p, "], \"conversation_id\": " OID(CONV_ID) "},"
                 " {\"_id\": " OID(CONTACT2_ID) ", \"phone\":"
                 " \"+15551230002\", \"tags\": [");
    for (i = 1; i <= INBOX_TAGS_MAX; i++) {
        p += sprintf(p, "%s\"t%zu\"", i > 1 ? ", " : "", i);
    }
    sprintf(p, "], \"conversation_id\": " OID(CONV2_ID) "}]}, \"ok\": 1}");
    fake.replies[0] = reply;
    fake.replies[1] = "{\"ok\": 1, \"n\": 4, \"nModified\": 2}";

    /* Ann: two new, one taken; again, one more; Bo: one he has as "T1",
     * then a new one */
    snprintf(rows[0].phone, sizeof(rows[0].phone), "+15551230001");
    inbox_tags_add(&rows[0].tags, "x", 1, NULL);
    inbox_tags_add(&rows[0].tags, "y", 1, NULL);
    snprintf(rows[1].phone, sizeof(rows[1].phone), "+15551230001");
    inbox_tags_add(&rows[1].tags, "z", 1, NULL);
    rows[1].repeated = 1;
    snprintf(rows[2].phone, sizeof(rows[2].phone), "+15551230002");
    inbox_tags_add(&rows[2].tags, "T1", 2, NULL);

    CHECK_INT(inbox_store_contacts_import(store, ORG_ID, rows, 3, &count,
                                          NULL, &err), INBOX_OK);
    CHECK_INT(count.updated, 2);
    CHECK_INT(count.repeated, 1);
    CHECK_INT(count.capped, 1);
    CHECK(log_has(&fake, "\"x\""));
    CHECK(!log_has(&fake, "\"y\""));
    CHECK(!log_has(&fake, "\"z\""));

    fake_reset(&fake);
    fake.replies[0] = reply;
    fake.replies[1] = "{\"ok\": 1, \"n\": 1, \"nModified\": 0}";
    snprintf(rows[3].phone, sizeof(rows[3].phone), "+15551230002");
    inbox_tags_add(&rows[3].tags, "new", 3, NULL);
    CHECK_INT(inbox_store_contacts_import(store, ORG_ID, rows + 3, 1,
                                          &count, NULL, &err), INBOX_OK);
    CHECK_INT(count.capped, 1);
    CHECK(!log_has(&fake, "$addToSet"));

    for (i = 0; i < 4; i++) {
        inbox_contact_row_free(&rows[i]);
    }

    fake_close(&fake, store);
}


static const char  ingest_number[] =
    CURSOR("{\"_id\": " OID(GEN_1) ", \"org_id\": " OID(ORG_ID) "}");

static const char  ingest_contact[] =
    "{\"ok\": 1, \"lastErrorObject\": {\"n\": 1, \"updatedExisting\": true},"
    " \"value\": {\"_id\": " OID(CONTACT_ID) ", \"org_id\": " OID(ORG_ID)
    ", \"phone\": \"+15551230001\", \"conversation_id\": " OID(CONV_ID)
    ", \"name\": \"Ann Lee\", \"opted_out\": false}}";

static const char  ingest_conversation[] =
    "{\"ok\": 1, \"value\": {\"_id\": " OID(CONV_ID) ", \"org_id\": "
    OID(ORG_ID) ", \"contact\": {\"id\": " OID(CONTACT_ID) ", \"name\":"
    " \"Ann Lee\", \"phone\": \"+15551230001\", \"opted_out\": false},"
    " \"last_message\": {\"id\": " OID(GEN_3) ", \"direction\": \"inbound\","
    " \"preview\": \"Is Tuesday ok?\", \"at\": " DATE(NOW) "},"
    " \"last_activity_at\": " DATE(NOW) ", \"unread_count\":"
    " {\"$numberLong\": \"2\"}, \"archived\": false, \"starred\": true}}";

static const char  ingest_org[] =
    "{\"ok\": 1, \"value\": {\"_id\": " OID(ORG_ID) ", \"seq\":"
    " {\"$numberLong\": \"12\"}, \"epoch\": \"a1b2c3d4e5f60708\"}}";

static const char  ingest_unread[] =
    CURSOR("{\"_id\": null, \"total\": {\"$numberLong\": \"5\"}}");


static void
ingest_message(inbox_inbound_t *msg, const char *provider_id)
{
    memset(msg, 0, sizeof(inbox_inbound_t));
    msg->carrier = INBOX_CARRIER_TWILIO;
    msg->provider_id = provider_id;
    snprintf(msg->from, sizeof(msg->from), "+15551230001");
    snprintf(msg->to, sizeof(msg->to), "+15550001111");
    msg->body = "Is Tuesday ok?";
    msg->segments = 1;
    msg->media_count = 2;
    snprintf(msg->media[0].url, sizeof(msg->media[0].url),
             "https://api.twilio.com/media/ME1");
    snprintf(msg->media[0].content_type, sizeof(msg->media[0].content_type),
             "image/jpeg");
    snprintf(msg->media[1].url, sizeof(msg->media[1].url),
             "https://api.twilio.com/media/ME2");
    snprintf(msg->media[1].content_type, sizeof(msg->media[1].content_type),
             "image/png");
    msg->received_at = 1767225600000LL;
}


TEST(inbound_ingest_new_message)
{
    fake_t                 fake;
    inbox_error_t          err;
    inbox_store_t         *store;
    inbox_inbound_t        msg;
    inbox_event_list_t     events;
    inbox_ingest_result_t  result;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));
    ingest_message(&msg, "SM0001");

    fake.replies[0] = ingest_number;
    fake.replies[1] = ingest_contact;
    fake.replies[2] = NULL;                 /* the message insert */
    fake.replies[3] = ingest_conversation;
    fake.replies[4] = ingest_org;
    fake.replies[5] = ingest_unread;

    CHECK_INT(inbox_store_inbound_ingest(store, &msg, 1, &result, &events,
                                         &err), INBOX_OK);
    CHECK_INT(result.status, INBOX_OK);
    CHECK_INT(result.duplicate, 0);
    CHECK_STR(result.message_id, GEN_3);
    CHECK_STR(result.conversation_id, CONV_ID);
    golden_check(&fake, "inbound_ingest_new");

    /* Three events numbered from the reserved block 10..12. */
    CHECK_INT(events.count, 3);
    if (events.count == 3) {
        CHECK_STR(events.items[0].org_id, ORG_ID);
        CHECK_INT(events.items[0].org_seq, 10);
        CHECK_INT(events.items[1].org_seq, 11);
        CHECK_INT(events.items[2].org_seq, 12);
        CHECK(strstr(events.items[0].json, "\"message.created\"") != NULL);
        CHECK(strstr(events.items[0].json, "Is Tuesday ok?") != NULL);
        /* the media waits for its copy: the carrier's URL (which needs
         * credentials) is never shown */
        CHECK(strstr(events.items[0].json, "\"state\":\"pending\"")
              != NULL);
        CHECK(strstr(events.items[0].json, "ME2") == NULL);
        CHECK(strstr(events.items[0].json, "a1b2c3d4e5f60708") != NULL);
        CHECK(strstr(events.items[1].json, "\"conversation.updated\"")
              != NULL);
        CHECK(strstr(events.items[1].json, "\"unread_count\":2") != NULL);
        CHECK(strstr(events.items[2].json, "\"unread.total\"") != NULL);
        CHECK(strstr(events.items[2].json, "\"count\":5") != NULL);
        /* The stored events refer to the message; the frames are not
         * stored (see the golden file for what is). */
        CHECK(!log_has(&fake, "\"frame\""));
    }

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


/* A new number: the upsert made the contact, with the ids it was given
 * (GEN_1, its thread to be GEN_2) and the message's time. */
static const char  ingest_contact_made[] =
    "{\"ok\": 1, \"lastErrorObject\": {\"n\": 1, \"updatedExisting\": false,"
    " \"upserted\": " OID(GEN_1) "}, \"value\": {\"_id\": " OID(GEN_1)
    ", \"org_id\": " OID(ORG_ID) ", \"phone\": \"+15551230001\","
    " \"conversation_id\": " OID(GEN_2) ", \"name\": null,"
    " \"search_name\": null, \"opted_out\": false, \"created_at\": "
    DATE(NOW) ", \"unannounced\": true}}";

static const char  ingest_conversation_made[] =
    "{\"ok\": 1, \"value\": {\"_id\": " OID(GEN_2) ", \"org_id\": "
    OID(ORG_ID) ", \"contact\": {\"id\": " OID(GEN_1) ", \"name\": null,"
    " \"phone\": \"+15551230001\", \"opted_out\": false},"
    " \"last_message\": {\"id\": " OID(GEN_3) ", \"direction\": \"inbound\","
    " \"preview\": \"Is Tuesday ok?\", \"at\": " DATE(NOW) "},"
    " \"last_activity_at\": " DATE(NOW) ", \"unread_count\":"
    " {\"$numberLong\": \"1\"}, \"archived\": false, \"starred\": false}}";


/* A text from a new number pushes the contact it made (contact.updated,
 * after the message's three, in the same insert), as a Contacts list
 * shows it; no command more. */
TEST(inbound_ingest_new_number_pushes_its_contact)
{
    fake_t                 fake;
    inbox_error_t          err;
    inbox_store_t         *store;
    inbox_inbound_t        msg;
    inbox_event_list_t     events;
    inbox_ingest_result_t  result;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));
    ingest_message(&msg, "SM0001");

    fake.replies[0] = ingest_number;
    fake.replies[1] = ingest_contact_made;
    fake.replies[2] = NULL;                 /* the message insert */
    fake.replies[3] = ingest_conversation_made;
    fake.replies[4] = ingest_org;
    fake.replies[5] = ingest_unread;

    CHECK_INT(inbox_store_inbound_ingest(store, &msg, 1, &result, &events,
                                         &err), INBOX_OK);
    CHECK_INT(result.status, INBOX_OK);
    CHECK_STR(result.conversation_id, GEN_2);
    golden_check(&fake, "inbound_ingest_new_contact");

    /* four numbered from the reserved block 9..12 */
    CHECK_INT(events.count, 4);
    if (events.count == 4) {
        CHECK(strstr(events.items[0].json, "\"message.created\"") != NULL);
        CHECK_STR(events.items[3].type, "contact.updated");
        CHECK_INT(events.items[3].org_seq, 12);
        CHECK(strstr(events.items[3].json, "\"contact\":{\"id\":\"" GEN_1
                     "\",\"name\":null,\"phone\":\"+15551230001\"")
              != NULL);
        CHECK(strstr(events.items[3].json, "\"tags\":[]") != NULL);
        CHECK(strstr(events.items[3].json, "\"opted_out\":false") != NULL);
        CHECK(strstr(events.items[3].json,
                     "\"created_at\":\"2026-01-01T00:00:00.000Z\","
                     "\"conversation_id\":\"" GEN_2 "\"") != NULL);
    }
    CHECK(log_has(&fake, "\"$inc\" : { \"seq\" : { \"$numberLong\" : "
                         "\"4\" } }"));
    /* pushed: no later text pushes it as made */
    CHECK(log_has(&fake, "\"$unset\" : { \"unannounced\""));

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


/* The commands sent after the last one named name (e.g. "\"insert\" :
 * \"events\""); the whole log when none is. */
static const char *
log_from_last(fake_t *fake, const char *name)
{
    const char  *p, *last;

    last = NULL;

    for (p = fake->log.data; p && (p = strstr(p, name)) != NULL; p++) {
        last = p;
    }

    return last ? last : (fake->log.data ? fake->log.data : "");
}


/* A message as long as Twilio sends them: its frame carries the body,
 * the stored events only the ids. */
TEST(stored_events_refer_to_a_long_message_without_copying_it)
{
    char                   body[1601];
    fake_t                 fake;
    inbox_error_t          err;
    inbox_store_t         *store;
    const char            *stored;
    inbox_inbound_t        msg;
    inbox_event_list_t     events;
    inbox_ingest_result_t  result;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));
    ingest_message(&msg, "SM0002");

    memset(body, 'x', sizeof(body) - 1);
    body[sizeof(body) - 1] = '\0';
    memcpy(body, "LONGBODY", 8);
    msg.body = body;

    fake.replies[0] = ingest_number;
    fake.replies[1] = ingest_contact;
    fake.replies[2] = NULL;
    fake.replies[3] = ingest_conversation;
    fake.replies[4] = ingest_org;
    fake.replies[5] = ingest_unread;

    CHECK_INT(inbox_store_inbound_ingest(store, &msg, 1, &result, &events,
                                         &err), INBOX_OK);
    CHECK_INT(events.count, 3);
    if (events.count == 3) {
        CHECK(strstr(events.items[0].json, body) != NULL);
    }

    /* the message itself is stored once, in messages */
    CHECK(log_has(&fake, body));

#define EVENTS_INSERT  "\"insert\" : \"events\""
    stored = log_from_last(&fake, EVENTS_INSERT);
    CHECK(strncmp(stored, EVENTS_INSERT, strlen(EVENTS_INSERT)) == 0);
    CHECK(strstr(stored, "LONGBODY") == NULL);
    CHECK(strstr(stored, "\"message_id\"") != NULL);
    /* the insert, the two finds of campaign messages (polls, then any)
     * and the two updates that finish the message after it */
    CHECK(strlen(stored) < 3600);

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


TEST(inbound_ingest_duplicate_writes_nothing_more)
{
    fake_t                 fake;
    inbox_error_t          err;
    inbox_store_t         *store;
    inbox_inbound_t        msg;
    inbox_event_list_t     events;
    inbox_ingest_result_t  result;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));
    ingest_message(&msg, "SM0001");

    fake.replies[0] = ingest_number;
    fake.replies[1] = ingest_contact;
    fake.replies[2] = "{\"ok\": 1, \"n\": 0, \"writeErrors\": [{\"index\": 0,"
                      " \"code\": 11000, \"errmsg\": \"E11000 duplicate key "
                      "error collection: inbox.messages index: "
                      "org_provider_id_unique\"}]}";
    fake.replies[3] = CURSOR("{\"_id\": " OID(MSG_ID) ", \"conversation_id\": "
                             OID(CONV_ID) "}");

    CHECK_INT(inbox_store_inbound_ingest(store, &msg, 1, &result, &events,
                                         &err), INBOX_OK);
    CHECK_INT(result.status, INBOX_OK);
    CHECK_INT(result.duplicate, 1);
    CHECK_STR(result.message_id, MSG_ID);
    CHECK_STR(result.conversation_id, CONV_ID);
    CHECK_INT(events.count, 0);
    CHECK_INT(fake.commands, 4);
    CHECK(!log_has(&fake, "\"conversations\""));
    CHECK(!log_has(&fake, "\"events\""));
    golden_check(&fake, "inbound_ingest_duplicate");

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


/* The duplicate key of a message whose first attempt failed after its
 * insert (threaded false): a carrier's retry of a webhook answered 503. */
static const char  ingest_dup_key[] =
    "{\"ok\": 1, \"n\": 0, \"writeErrors\": [{\"index\": 0,"
    " \"code\": 11000, \"errmsg\": \"E11000 duplicate key error collection:"
    " inbox.messages index: org_provider_id_unique\"}]}";

static const char  ingest_unfinished[] =
    CURSOR("{\"_id\": " OID(MSG_ID) ", \"conversation_id\": " OID(CONV_ID)
           ", \"created_at\": " DATE("1767225500000") ", \"threaded\":"
           " false}");


TEST(inbound_ingest_retry_finishes_an_unfinished_message)
{
    fake_t                 fake;
    inbox_error_t          err;
    inbox_store_t         *store;
    inbox_inbound_t        msg;
    inbox_event_list_t     events;
    inbox_ingest_result_t  result;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));
    ingest_message(&msg, "SM0001");

    fake.replies[0] = ingest_number;
    fake.replies[1] = ingest_contact;
    fake.replies[2] = ingest_dup_key;
    fake.replies[3] = ingest_unfinished;
    fake.replies[4] = ingest_conversation;
    fake.replies[5] = NULL;                 /* no events of it yet */
    fake.replies[6] = ingest_org;
    fake.replies[7] = ingest_unread;

    CHECK_INT(inbox_store_inbound_ingest(store, &msg, 1, &result, &events,
                                         &err), INBOX_OK);
    golden_check(&fake, "inbound_ingest_unfinished");

    /* stored now, as the first attempt would have: the thread (its
     * unread counted unless the message is in receiving), the events
     * pushed, the message shown */
    CHECK_INT(result.status, INBOX_OK);
    CHECK_INT(result.duplicate, 0);
    CHECK_STR(result.message_id, MSG_ID);
    CHECK_STR(result.conversation_id, CONV_ID);
    CHECK_INT(events.count, 3);
    if (events.count == 3) {
        CHECK(strstr(events.items[0].json, "\"message.created\"") != NULL);
        CHECK(strstr(events.items[0].json, MSG_ID) != NULL);
        CHECK(strstr(events.items[0].json, "2025-12-31T23:58:20") != NULL);
    }
    CHECK(log_has(&fake, "\"$unset\" : { \"threaded\""));
    inbox_event_list_free(&events);

    /* its events were written before the failure: not again */
    fake_reset(&fake);
    fake.replies[0] = ingest_number;
    fake.replies[1] = ingest_contact;
    fake.replies[2] = ingest_dup_key;
    fake.replies[3] = ingest_unfinished;
    fake.replies[4] = ingest_conversation;
    fake.replies[5] = CURSOR("{\"_id\": " OID(GEN_1) "}");

    CHECK_INT(inbox_store_inbound_ingest(store, &msg, 1, &result, &events,
                                         &err), INBOX_OK);
    golden_check(&fake, "inbound_ingest_unfinished_events_written");
    CHECK_INT(result.status, INBOX_OK);
    CHECK_STR(result.message_id, MSG_ID);
    CHECK_INT(events.count, 0);
    CHECK(!log_has(&fake, "\"orgs\""));
    CHECK(!log_has(&fake, "\"insert\" : \"events\""));
    CHECK(log_has(&fake, "\"$unset\" : { \"threaded\""));

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


/* The contact a failed first attempt made: still unannounced. */
static const char  ingest_contact_made_before[] =
    "{\"ok\": 1, \"lastErrorObject\": {\"n\": 1, \"updatedExisting\": true},"
    " \"value\": {\"_id\": " OID(CONTACT_ID) ", \"org_id\": " OID(ORG_ID)
    ", \"phone\": \"+15551230001\", \"conversation_id\": " OID(CONV_ID)
    ", \"name\": null, \"opted_out\": false, \"created_at\": "
    DATE("1767225500000") ", \"unannounced\": true}}";


/* A new number's text whose first attempt made the contact and stored
 * the message, then failed before its events: the retry pushes the
 * contact with the message's events, as that attempt would have; once
 * they are written, a retry pushes neither. */
TEST(inbound_ingest_retry_pushes_the_contact_its_first_attempt_made)
{
    fake_t                 fake;
    inbox_error_t          err;
    inbox_store_t         *store;
    inbox_inbound_t        msg;
    inbox_event_list_t     events;
    inbox_ingest_result_t  result;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));
    ingest_message(&msg, "SM0001");

    fake.replies[0] = ingest_number;
    fake.replies[1] = ingest_contact_made_before;
    fake.replies[2] = ingest_dup_key;
    fake.replies[3] = ingest_unfinished;
    fake.replies[4] = ingest_conversation;
    fake.replies[5] = NULL;                 /* no events of it yet */
    fake.replies[6] = ingest_org;
    fake.replies[7] = ingest_unread;

    CHECK_INT(inbox_store_inbound_ingest(store, &msg, 1, &result, &events,
                                         &err), INBOX_OK);
    golden_check(&fake, "inbound_ingest_unfinished_new_contact");
    CHECK_INT(result.status, INBOX_OK);
    CHECK_INT(result.duplicate, 0);
    CHECK_INT(events.count, 4);
    if (events.count == 4) {
        CHECK_STR(events.items[3].type, "contact.updated");
        CHECK(strstr(events.items[3].json, "\"contact\":{\"id\":\""
                     CONTACT_ID "\"") != NULL);
        CHECK(strstr(events.items[3].json,
                     "\"created_at\":\"2025-12-31T23:58:20.000Z\"")
              != NULL);
    }
    inbox_event_list_free(&events);

    /* its events were written before the failure: none again */
    fake_reset(&fake);
    fake.replies[0] = ingest_number;
    fake.replies[1] = ingest_contact_made_before;
    fake.replies[2] = ingest_dup_key;
    fake.replies[3] = ingest_unfinished;
    fake.replies[4] = ingest_conversation;
    fake.replies[5] = CURSOR("{\"_id\": " OID(GEN_1) "}");

    CHECK_INT(inbox_store_inbound_ingest(store, &msg, 1, &result, &events,
                                         &err), INBOX_OK);
    CHECK_INT(result.status, INBOX_OK);
    CHECK_INT(events.count, 0);
    CHECK(!log_has(&fake, "\"insert\" : \"events\""));

    /* finished: a duplicate, nothing written */
    fake_reset(&fake);
    fake.replies[0] = ingest_number;
    fake.replies[1] = ingest_contact_made_before;
    fake.replies[2] = ingest_dup_key;
    fake.replies[3] = CURSOR("{\"_id\": " OID(MSG_ID) ", \"conversation_id\": "
                             OID(CONV_ID) ", \"created_at\": "
                             DATE("1767225500000") "}");

    CHECK_INT(inbox_store_inbound_ingest(store, &msg, 1, &result, &events,
                                         &err), INBOX_OK);
    CHECK_INT(result.duplicate, 1);
    CHECK_INT(events.count, 0);
    CHECK(!log_has(&fake, "\"events\""));

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


/* A new number's text whose first attempt made the contact, then failed
 * before storing the message (the contact still unannounced): the retry
 * stores the message and pushes the contact with its events, then marks
 * it announced; the number's next text pushes its message alone. */
TEST(inbound_ingest_retry_pushes_a_contact_made_before_its_message)
{
    fake_t                 fake;
    inbox_error_t          err;
    inbox_store_t         *store;
    inbox_inbound_t        msg;
    inbox_event_list_t     events;
    inbox_ingest_result_t  result;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));
    ingest_message(&msg, "SM0001");

    fake.replies[0] = ingest_number;
    fake.replies[1] = ingest_contact_made_before;
    fake.replies[2] = NULL;                 /* the message insert */
    fake.replies[3] = ingest_conversation;
    fake.replies[4] = ingest_org;
    fake.replies[5] = ingest_unread;

    CHECK_INT(inbox_store_inbound_ingest(store, &msg, 1, &result, &events,
                                         &err), INBOX_OK);
    golden_check(&fake, "inbound_ingest_contact_made_before_its_message");
    CHECK_INT(result.status, INBOX_OK);
    CHECK_INT(result.duplicate, 0);
    CHECK_INT(events.count, 4);
    if (events.count == 4) {
        CHECK_STR(events.items[3].type, "contact.updated");
        CHECK(strstr(events.items[3].json, "\"contact\":{\"id\":\""
                     CONTACT_ID "\"") != NULL);
    }
    CHECK(log_has(&fake, "\"$unset\" : { \"unannounced\""));
    inbox_event_list_free(&events);

    /* announced: the next text pushes its three */
    fake_reset(&fake);
    ingest_message(&msg, "SM0002");
    fake.replies[0] = ingest_number;
    fake.replies[1] = ingest_contact;
    fake.replies[2] = NULL;
    fake.replies[3] = ingest_conversation;
    fake.replies[4] = ingest_org;
    fake.replies[5] = ingest_unread;

    CHECK_INT(inbox_store_inbound_ingest(store, &msg, 1, &result, &events,
                                         &err), INBOX_OK);
    CHECK_INT(events.count, 3);
    CHECK(!log_has(&fake, "\"unannounced\" : \"\""));

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


/* A STOP whose first attempt opted the contact out, stored its message
 * and failed: the retry finishes it with the change and its confirmation
 * (opt_changed), not as a keyword that changed nothing. */
TEST(inbound_stop_retry_finishes_its_opt_out)
{
    fake_t                 fake;
    inbox_error_t          err;
    inbox_store_t         *store;
    inbox_inbound_t        msg;
    inbox_event_list_t     events;
    inbox_ingest_result_t  result;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));
    ingest_message(&msg, "SM0001");
    msg.body = "STOP";
    msg.media_count = 0;

    fake.replies[0] = ingest_number;
    fake.replies[1] =
        "{\"ok\": 1, \"value\": {\"_id\": " OID(CONTACT_ID) ", \"org_id\": "
        OID(ORG_ID) ", \"phone\": \"+15551230001\", \"conversation_id\": "
        OID(CONV_ID) ", \"name\": \"Ann Lee\", \"opted_out\": true,"
        " \"opted_out_at\": " DATE("1767225500000") ", \"opt_out_source\":"
        " \"keyword\", \"opt_out_keyword\": \"STOP\", \"opt_latest_at\": "
        DATE("1767225500000") "}}";
    /* the retry, later, would move the newest opt time: its message is
     * found first, and nothing is written */
    fake.replies[2] = CURSOR("{\"_id\": " OID(MSG_ID) "}");
    fake.replies[3] = ingest_unfinished;
    fake.replies[4] = ingest_conversation;
    fake.replies[6] = ingest_org;
    fake.replies[7] = ingest_unread;

    CHECK_INT(inbox_store_inbound_ingest(store, &msg, 1, &result, &events,
                                         &err), INBOX_OK);
    CHECK_INT(result.status, INBOX_OK);
    CHECK_INT(result.duplicate, 0);
    CHECK_INT(result.keyword, INBOX_KEYWORD_OPT_OUT);
    CHECK_INT(result.opt_changed, 1);
    CHECK(!log_has(&fake, "\"contact_events\""));
    CHECK_INT(events.count, 4);
    if (events.count == 4) {
        CHECK(strstr(events.items[3].json, "\"contact.updated\"") != NULL);
    }
    inbox_event_list_free(&events);

    /* opted out by an earlier STOP: this one changed nothing */
    fake_reset(&fake);
    fake.replies[0] = ingest_number;
    fake.replies[1] =
        "{\"ok\": 1, \"value\": {\"_id\": " OID(CONTACT_ID) ", \"org_id\": "
        OID(ORG_ID) ", \"phone\": \"+15551230001\", \"conversation_id\": "
        OID(CONV_ID) ", \"name\": \"Ann Lee\", \"opted_out\": true,"
        " \"opted_out_at\": " DATE("1767225000000") ", \"opt_out_source\":"
        " \"keyword\", \"opt_out_keyword\": \"STOP\", \"opt_latest_at\": "
        DATE("1767225500000") "}}";
    fake.replies[2] = CURSOR("{\"_id\": " OID(MSG_ID) "}");
    fake.replies[3] = ingest_unfinished;
    fake.replies[4] = ingest_conversation;
    fake.replies[6] = ingest_org;
    fake.replies[7] = ingest_unread;

    CHECK_INT(inbox_store_inbound_ingest(store, &msg, 1, &result, &events,
                                         &err), INBOX_OK);
    CHECK_INT(result.keyword, INBOX_KEYWORD_OPT_OUT);
    CHECK_INT(result.opt_changed, 0);
    CHECK_INT(events.count, 3);

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


TEST(inbound_ingest_unknown_number_fails_alone)
{
    fake_t                 fake;
    inbox_error_t          err;
    inbox_store_t         *store;
    inbox_inbound_t        msgs[2];
    inbox_event_list_t     events;
    inbox_ingest_result_t  results[2];

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));
    ingest_message(&msgs[0], "SM0002");
    snprintf(msgs[0].to, sizeof(msgs[0].to), "+15559990000");
    ingest_message(&msgs[1], "SM0003");

    fake.replies[0] = EMPTY_CURSOR;
    fake.replies[1] = ingest_number;
    fake.replies[2] = ingest_contact;
    fake.replies[3] = NULL;
    fake.replies[4] = ingest_conversation;
    fake.replies[5] = ingest_org;
    fake.replies[6] = ingest_unread;

    CHECK_INT(inbox_store_inbound_ingest(store, msgs, 2, results, &events,
                                         &err), INBOX_OK);
    CHECK_INT(results[0].status, INBOX_ERR_NOT_FOUND);
    CHECK_INT(results[1].status, INBOX_OK);
    CHECK_STR(results[1].conversation_id, CONV_ID);
    CHECK_INT(events.count, 3);

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


TEST(unreachable_server_is_unavailable)
{
    fake_t                 fake;
    inbox_error_t          err;
    inbox_store_t         *store;
    inbox_inbound_t        msg;
    inbox_event_list_t     events;
    inbox_ingest_result_t  result;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));
    ingest_message(&msg, "SM0001");

    fake.unreachable = 1;
    CHECK_INT(inbox_store_ping(store, &err), INBOX_ERR_UNAVAILABLE);
    CHECK_INT(inbox_store_inbound_ingest(store, &msg, 1, &result, &events,
                                         &err), INBOX_ERR_UNAVAILABLE);
    CHECK_INT(err.code, INBOX_ERR_UNAVAILABLE);
    CHECK_INT(events.count, 0);

    /* A primary stepping down is passing too; other failures are not. */
    fake.unreachable = 0;
    fake_reset(&fake);
    fake.replies[0] = "{\"ok\": 0, \"code\": 10107, \"errmsg\": "
                      "\"not primary\"}";
    CHECK_INT(inbox_store_ping(store, &err), INBOX_ERR_UNAVAILABLE);
    fake.replies[1] = "{\"ok\": 0, \"code\": 2, \"errmsg\": \"bad value\"}";
    CHECK_INT(inbox_store_ping(store, &err), INBOX_ERR_INTERNAL);

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


TEST(events_new_epoch_sets_one_for_every_organization)
{
    size_t          orgs;
    fake_t          fake;
    inbox_error_t   err;
    inbox_store_t  *store;

    store = fake_open(&fake);

    fake.replies[0] = "{\"ok\": 1, \"n\": 3, \"nModified\": 3}";
    orgs = 0;
    CHECK_INT(inbox_store_events_new_epoch(store, &orgs, &err), INBOX_OK);
    CHECK_INT(orgs, 3);
    golden_check(&fake, "events_new_epoch");

    /* a server that refuses it: an error, no count */
    fake_reset(&fake);
    fake.replies[0] = "{\"ok\": 0, \"code\": 13, \"errmsg\": \"not "
                      "authorized\"}";
    orgs = 0;
    CHECK(inbox_store_events_new_epoch(store, &orgs, &err) != INBOX_OK);
    CHECK_INT(orgs, 0);

    fake_close(&fake, store);
}


TEST(reply_keys_purge_deletes_the_keys_older_than_a_day)
{
    size_t          removed;
    fake_t          fake;
    inbox_error_t   err;
    inbox_store_t  *store;

    store = fake_open(&fake);

    fake.replies[0] = "{\"ok\": 1, \"n\": 2}";
    /* a day after NOW: the keys made before NOW go */
    CHECK_INT(inbox_store_reply_keys_purge(store,
                                           1767225600000LL
                                           + INBOX_REPLY_KEY_KEEP_MS,
                                           500, &removed, &err), INBOX_OK);
    CHECK_INT(removed, 2);
    golden_check(&fake, "reply_keys_purge");

    fake_close(&fake, store);
}


TEST(restore_is_mongorestores_and_sends_nothing)
{
    fake_t          fake;
    inbox_error_t   err;
    inbox_store_t  *store;

    store = fake_open(&fake);

    CHECK_INT(inbox_store_restore(store, "/tmp/backup.db", &err),
              INBOX_ERR_INVALID);
    CHECK(strstr(err.message, "mongorestore") != NULL);
    CHECK_INT(fake.commands, 0);

    fake_close(&fake, store);
}


TEST(ping_writes_the_health_record_and_misses_a_dropped_database)
{
    fake_t          fake;
    inbox_error_t   err;
    inbox_store_t  *store;

    store = fake_open(&fake);

    CHECK_INT(inbox_store_ping(store, &err), INBOX_OK);
    golden_check(&fake, "ping");

    /* a server that answers but takes no write */
    fake_reset(&fake);
    fake.replies[1] = "{\"ok\": 1, \"n\": 0, \"writeErrors\": [{\"index\": 0,"
                      " \"code\": 14031, \"errmsg\": \"disk full\"}]}";
    CHECK(inbox_store_ping(store, &err) != INBOX_OK);

    /* a dropped database: nothing to update */
    fake_reset(&fake);
    fake.replies[1] = "{\"ok\": 1, \"n\": 0, \"nModified\": 0}";
    CHECK_INT(inbox_store_ping(store, &err), INBOX_ERR_UNAVAILABLE);
    CHECK(strstr(err.message, "dropped") != NULL);

    fake_close(&fake, store);
}


TEST(only_a_created_store_makes_its_health_record)
{
    fake_t          fake;
    inbox_error_t   err;
    inbox_store_t  *store;

    memset(&fake, 0, sizeof(fake));
    store = inbox_store_mongo_open_with_transport(
                "mongodb://db.example:27017/inbox", fake_transport, &fake,
                &err);
    CHECK(store != NULL);
    if (store == NULL) {
        return;
    }

    inbox_mongo_set_test_hooks(store, fake_id, fake_clock, &fake);

    /* what inbox_store_create asks for */
    ((inbox_mongo_store_t *) store)->create = 1;
    CHECK_INT(inbox_mongo_ensure_indexes((inbox_mongo_store_t *) store, &err),
              INBOX_OK);
    golden_check(&fake, "indexes_create");
    CHECK(log_has(&fake, "\"upsert\" : true"));

    fake_close(&fake, store);

    /* an opened one (fake_open's) sends the indexes, and reads the record
     * (and marks it) for its search names, but never makes it */
    store = fake_open(&fake);
    fake_reset(&fake);
    ((inbox_mongo_store_t *) store)->indexes_ready = 0;
    CHECK_INT(inbox_mongo_ensure_indexes((inbox_mongo_store_t *) store, &err),
              INBOX_OK);
    CHECK(!log_has(&fake, "\"upsert\" : true"));
    fake_close(&fake, store);
}


/*
 * Names stored before search_name existed (a store of an older version)
 * are given theirs at the store's first use, contacts then conversations'
 * copies, each written only where it is still missing; the store's record
 * is marked, so that later uses only read it.  Without them a search
 * would never find those names.
 */
TEST(names_stored_before_search_names_are_given_theirs_once)
{
    int             i;
    char           *full;
    fake_t          fake;
    size_t          len;
    inbox_error_t   err;
    inbox_store_t  *store;

    store = fake_open(&fake);

    fake.replies[0] = CURSOR("{\"_id\": \"store\", \"created_at\": "
                             DATE(EARLIER) "}");
    fake.replies[1] = CURSOR(
        "{\"_id\": " OID(CONTACT_ID) ","
        " \"name\": \"\u0419\u043e\u0441\u0438\u0444 Stalin\"},"
        "{\"_id\": " OID("64f1a0000000000000000b02") ", \"name\": null},"
        "{\"_id\": " OID("64f1a0000000000000000b03") ","
        " \"name\": \"Stra\u00dfe M\u00fcller\"}");
    fake.replies[3] = CURSOR(
        "{\"_id\": " OID(CONV_ID) ", \"contact\": {\"name\":"
        " \"\u0386\u03bd\u03bd\u03b1 Pappa\"}},"
        "{\"_id\": " OID(CONV2_ID) ", \"contact\": {\"name\":"
        " \"\uff26\uff35\uff2c\uff2c Width\"}}");

    CHECK_INT(inbox_mongo_search_names_backfill((inbox_mongo_store_t *) store,
                                                &err), INBOX_OK);
    golden_check(&fake, "search_names_backfill");
    CHECK_INT(fake.commands, 6);
    /* the keys search.h makes: Й stays a letter of its own (й), ß is
     * ss, Ά α, full-width plain, no spaces */
    CHECK(log_has(&fake, "\"search_name\" : \"\xd0\xb9\xd0\xbe\xd1\x81"
                         "\xd0\xb8\xd1\x84stalin\""));
    CHECK(log_has(&fake, "\"search_name\" : \"strassemuller\""));
    CHECK(log_has(&fake, "\"contact.search_name\" : \"\xce\xb1\xce\xbd"
                         "\xce\xbd\xce\xb1pappa\""));
    CHECK(log_has(&fake, "\"contact.search_name\" : \"fullwidth\""));

    /* marked: read, nothing else */
    fake_reset(&fake);
    fake.replies[0] = CURSOR("{\"_id\": \"store\", \"search_names\":"
                             " {\"$numberInt\": \"1\"}}");
    CHECK_INT(inbox_mongo_search_names_backfill((inbox_mongo_store_t *) store,
                                                &err), INBOX_OK);
    CHECK_INT(fake.commands, 1);

    /* a full batch: the next is read after its last _id (one pass over
     * the collection), until one comes short */
    fake_reset(&fake);
    len = 64 * INBOX_MONGO_BACKFILL_BATCH + 128;
    full = malloc(len);
    CHECK(full != NULL);
    if (full == NULL) {
        fake_close(&fake, store);
        return;
    }
    strcpy(full, "{\"cursor\": {\"id\": 0, \"ns\": \"inbox.x\","
                 " \"firstBatch\": [");
    for (i = 0; i < INBOX_MONGO_BACKFILL_BATCH; i++) {
        snprintf(full + strlen(full), len - strlen(full),
                 "%s{\"_id\": %d, \"name\": \"N %d\"}", i ? ", " : "",
                 i, i);
    }
    strcat(full, "]}, \"ok\": 1}");
    fake.replies[1] = full;
    CHECK_INT(inbox_mongo_search_names_backfill((inbox_mongo_store_t *) store,
                                                &err), INBOX_OK);
    /* health, contacts, their update, contacts again (none), conversations
     * (none), the mark */
    CHECK_INT(fake.commands, 6);
    CHECK(log_has(&fake, "\"search_name\" : \"n499\""));
    CHECK(log_has(&fake, "\"_id\" : { \"$gt\" : { \"$numberInt\" :"
                         " \"499\" } }"));
    free(full);

    /* a write that fails leaves the store unmarked, to be done again */
    fake_reset(&fake);
    fake.replies[1] = CURSOR("{\"_id\": " OID(CONTACT_ID) ","
                             " \"name\": \"Ann\"}");
    fake.replies[2] = "{\"ok\": 0, \"code\": 10107,"
                      " \"errmsg\": \"not primary\"}";
    CHECK(inbox_mongo_search_names_backfill((inbox_mongo_store_t *) store,
                                            &err) != INBOX_OK);
    CHECK_INT(fake.commands, 3);
    CHECK(!log_has(&fake, "\"update\" : \"health\""));

    fake_close(&fake, store);
}


/*
 * Keys made before a name's spaces and punctuation were left out of them
 * (search.h) are made again once, contacts then conversations' copies:
 * only those that differ, each written where it is still the key read
 * (a rename meanwhile is kept); a name gone gives null, and the store's
 * record is marked.  Without it "oconnor" would never find an O'Connor
 * stored before.
 */
TEST(keys_of_an_older_rule_are_made_again_once)
{
    fake_t          fake;
    inbox_error_t   err;
    inbox_store_t  *store;

    store = fake_open(&fake);

    fake.replies[0] = CURSOR("{\"_id\": \"store\", \"search_names\":"
                             " {\"$numberInt\": \"1\"}}");
    fake.replies[1] = CURSOR(
        "{\"_id\": " OID(CONTACT_ID) ", \"name\": \"Dan O\u2019Connor\","
        " \"search_name\": \"dan o'connor\"},"
        "{\"_id\": " OID("64f1a0000000000000000b02") ", \"name\": \"Ann\","
        " \"search_name\": \"ann\"},"
        "{\"_id\": " OID("64f1a0000000000000000b03") ", \"name\": null,"
        " \"search_name\": \"gone\"}");
    fake.replies[3] = CURSOR(
        "{\"_id\": " OID(CONV_ID) ", \"contact\": {\"name\":"
        " \"Jean-Luc St. John\", \"search_name\": \"jean-luc st. john\"}},"
        "{\"_id\": " OID(CONV2_ID) ", \"contact\": {\"name\":"
        " \"Bo\", \"search_name\": \"bo\"}}");

    CHECK_INT(inbox_mongo_search_keys_backfill((inbox_mongo_store_t *) store,
                                               &err), INBOX_OK);
    golden_check(&fake, "search_keys_backfill");
    CHECK_INT(fake.commands, 6);
    CHECK(log_has(&fake, "\"search_name\" : \"danoconnor\""));
    CHECK(log_has(&fake, "\"contact.search_name\" : \"jeanlucstjohn\""));
    CHECK(!log_has(&fake, "\"search_name\" : \"ann\" }"));

    /* marked by the rule of now: read, nothing else */
    fake_reset(&fake);
    fake.replies[0] = CURSOR("{\"_id\": \"store\", \"search_keys\":"
                             " {\"$numberInt\": \"3\"}}");
    CHECK_INT(inbox_mongo_search_keys_backfill((inbox_mongo_store_t *) store,
                                               &err), INBOX_OK);
    CHECK_INT(fake.commands, 1);

    fake_close(&fake, store);
}


/*
 * A store marked by the rule of before (1: a kana's voicing marks
 * dropped) has its keys made again once more: "ジョン" kept as "ション"
 * is made "ジョン" (else "ション" finds John), a key already right is
 * left, and the mark says the rule of now (3 since, as the test below).
 */
TEST(keys_of_the_rule_before_a_kanas_voicing_marks_are_made_again)
{
    fake_t          fake;
    inbox_error_t   err;
    inbox_store_t  *store;

    store = fake_open(&fake);

    fake.replies[0] = CURSOR("{\"_id\": \"store\", \"search_names\":"
                             " {\"$numberInt\": \"1\"}, \"search_keys\":"
                             " {\"$numberInt\": \"1\"}}");
    /* ジョン kept as ション; ガルシア as カルシア; Ann's right */
    fake.replies[1] = CURSOR(
        "{\"_id\": " OID(CONTACT_ID) ", \"name\": \"\u30b8\u30e7\u30f3\","
        " \"search_name\": \"\u30b7\u30e7\u30f3\"},"
        "{\"_id\": " OID("64f1a0000000000000000b02") ", \"name\": \"Ann\","
        " \"search_name\": \"ann\"}");
    fake.replies[3] = CURSOR(
        "{\"_id\": " OID(CONV_ID) ", \"contact\": {\"name\":"
        " \"\u30ac\u30eb\u30b7\u30a2\","
        " \"search_name\": \"\u30ab\u30eb\u30b7\u30a2\"}}");

    CHECK_INT(inbox_mongo_search_keys_backfill((inbox_mongo_store_t *) store,
                                               &err), INBOX_OK);
    golden_check(&fake, "search_keys_backfill_kana");
    CHECK_INT(fake.commands, 6);
    /* ジョン, ガルシア */
    CHECK(log_has(&fake, "\"search_name\" : \"\xe3\x82\xb8\xe3\x83\xa7"
                         "\xe3\x83\xb3\""));
    CHECK(log_has(&fake, "\"contact.search_name\" : \"\xe3\x82\xac"
                         "\xe3\x83\xab\xe3\x82\xb7\xe3\x82\xa2\""));
    CHECK(!log_has(&fake, "\"search_name\" : \"ann\" }"));
    CHECK(log_has(&fake, "\"$set\" : { \"search_keys\" : {"
                         " \"$numberInt\" : \"3\" } }"));

    fake_close(&fake, store);
}


/*
 * A store marked by rule 2 (the marks of Indic scripts and Й's breve
 * dropped) has its keys made again once more: "सुमित" (Sumit) kept as
 * "समित" (Samit) is made "सुमित", "Йоанна" kept as "иоанна" "йоанна"
 * (else "समित" finds Sumit, "Иоанна" Йоанна), a key already right is
 * left, and the mark says the rule of now, 3.
 */
TEST(keys_of_the_rule_before_indic_marks_and_cyrillic_letters_are_made_again)
{
    fake_t          fake;
    inbox_error_t   err;
    inbox_store_t  *store;

    store = fake_open(&fake);

    fake.replies[0] = CURSOR("{\"_id\": \"store\", \"search_names\":"
                             " {\"$numberInt\": \"1\"}, \"search_keys\":"
                             " {\"$numberInt\": \"2\"}}");
    /* सुमित kept as समित; Йоанна as иоанна; Ann's right */
    fake.replies[1] = CURSOR(
        "{\"_id\": " OID(CONTACT_ID) ", \"name\":"
        " \"\u0938\u0941\u092e\u093f\u0924\","
        " \"search_name\": \"\u0938\u092e\u093f\u0924\"},"
        "{\"_id\": " OID("64f1a0000000000000000b02") ", \"name\": \"Ann\","
        " \"search_name\": \"ann\"}");
    fake.replies[3] = CURSOR(
        "{\"_id\": " OID(CONV_ID) ", \"contact\": {\"name\":"
        " \"\u0419\u043e\u0430\u043d\u043d\u0430\","
        " \"search_name\": \"\u0438\u043e\u0430\u043d\u043d\u0430\"}}");

    CHECK_INT(inbox_mongo_search_keys_backfill((inbox_mongo_store_t *) store,
                                               &err), INBOX_OK);
    golden_check(&fake, "search_keys_backfill_marks");
    CHECK_INT(fake.commands, 6);
    /* सुमित, йоанна */
    CHECK(log_has(&fake, "\"search_name\" : \"\xe0\xa4\xb8\xe0\xa5\x81"
                         "\xe0\xa4\xae\xe0\xa4\xbf\xe0\xa4\xa4\""));
    CHECK(log_has(&fake, "\"contact.search_name\" : \"\xd0\xb9\xd0\xbe"
                         "\xd0\xb0\xd0\xbd\xd0\xbd\xd0\xb0\""));
    CHECK(!log_has(&fake, "\"search_name\" : \"ann\" }"));
    CHECK(log_has(&fake, "\"$set\" : { \"search_keys\" : {"
                         " \"$numberInt\" : \"3\" } }"));

    fake_close(&fake, store);
}


/*
 * A one-time upgrade of the store (upgrade, marked mark): at its first use
 * the record is read, one aggregate (which shows, and golden holds) is
 * merged into the threads and the record marked; once marked, only the
 * record is read; an aggregate that fails leaves it unmarked, to be run
 * again.
 */
static void
upgrade_runs_once(inbox_status_t (*upgrade)(inbox_mongo_store_t *,
    inbox_error_t *), const char *mark, const char *golden,
    const char *shows)
{
    char            marked[256];
    fake_t          fake;
    inbox_error_t   err;
    inbox_store_t  *store;

    store = fake_open(&fake);

    fake.replies[0] = CURSOR("{\"_id\": \"store\", \"created_at\": "
                             DATE(EARLIER) "}");
    CHECK_INT(upgrade((inbox_mongo_store_t *) store, &err), INBOX_OK);
    golden_check(&fake, golden);
    /* the record, the aggregate merged in, the mark */
    CHECK_INT(fake.commands, 3);
    CHECK(log_has(&fake, shows));
    CHECK(log_has(&fake, "\"$merge\""));
    snprintf(marked, sizeof(marked),
             "\"%s\" : { \"$numberInt\" : \"1\" }", mark);
    CHECK(log_has(&fake, marked));

    /* marked: read, nothing else */
    fake_reset(&fake);
    snprintf(marked, sizeof(marked),
             CURSOR("{\"_id\": \"store\", \"%s\": {\"$numberInt\": \"1\"}}"),
             mark);
    fake.replies[0] = marked;
    CHECK_INT(upgrade((inbox_mongo_store_t *) store, &err), INBOX_OK);
    CHECK_INT(fake.commands, 1);

    /* an aggregate that fails leaves the store unmarked */
    fake_reset(&fake);
    fake.replies[1] = "{\"ok\": 0, \"code\": 10107,"
                      " \"errmsg\": \"not primary\"}";
    CHECK(upgrade((inbox_mongo_store_t *) store, &err) != INBOX_OK);
    CHECK_INT(fake.commands, 2);
    CHECK(!log_has(&fake, "\"update\" : \"health\""));

    fake_close(&fake, store);
}


/*
 * Threads stored before their responses' times existed are given them at
 * the store's first use, from their messages (campaigns' left out), only
 * where a write since has not.
 */
TEST(threads_stored_before_their_responses_times_are_given_them_once)
{
    upgrade_runs_once(inbox_mongo_responses_backfill, INBOX_MONGO_RESPONSES,
                      "responses_backfill",
                      "\"campaign_id\" : { \"$exists\" : false }");
}


/*
 * Threads that campaigns alone had listed leave the lists at the store's
 * first use, as SQLite's migration 41 takes them out: the messages of
 * each thread grouped, those with none inbound and none a reply merged
 * in, unlisted only where no write since gave them a message, a wait or
 * a response.
 */
TEST(threads_campaigns_alone_listed_leave_the_lists_once)
{
    upgrade_runs_once(inbox_mongo_two_way_backfill, INBOX_MONGO_TWO_WAY,
                      "two_way_backfill", "\"two_way\" : false");
}


/*
 * Threads an opt-out the carrier answered had left waiting are answered
 * at the store's first use, as SQLite's migration 42 does: the opted-out
 * contacts merged into their threads, changed only while the wait is no
 * newer than the opt-out.
 */
TEST(threads_an_opt_out_left_waiting_are_answered_once)
{
    upgrade_runs_once(inbox_mongo_opt_out_waits_backfill,
                      INBOX_MONGO_OPT_OUT_WAITS, "opt_out_waits_backfill",
                      "\"$$new.opted_out_at\"");
}


/*
 * Campaigns' and polls' messages stored before they kept their kind are
 * given their campaign's at the store's first use, so that a client
 * reads a poll's name on the polls' route at once: each recipient's
 * message given its campaign's kind, merged in only where none was
 * written since.
 */
TEST(campaigns_messages_stored_before_their_kind_are_given_it_once)
{
    upgrade_runs_once(inbox_mongo_message_kinds_backfill,
                      INBOX_MONGO_MESSAGE_KINDS, "message_kinds_backfill",
                      "\"into\" : \"messages\"");
}


/*
 * Threads whose last message was stored before it kept its campaign's
 * kind or its delivery status are given them at the store's first use,
 * so that the list marks a reply that failed before the upgrade (a
 * failed one never moves again to set it): each thread's newest message
 * and its campaign, each field written only while the last message is
 * that one and still without it.
 */
TEST(threads_last_messages_stored_before_their_status_are_given_it_once)
{
    upgrade_runs_once(inbox_mongo_last_messages_backfill,
                      INBOX_MONGO_LAST_MESSAGES, "last_messages_backfill",
                      "\"last_message.status\" : { \"$cond\"");
}


TEST(real_driver_without_a_server_is_unavailable)
{
    char             id[INBOX_ID_MAX];
    inbox_error_t    err;
    inbox_store_t   *store;

    CHECK(inbox_store_open("mongodb://", &err) == NULL);
    CHECK_INT(err.code, INBOX_ERR_INVALID);

    /* Nothing listens on port 1: the pool made by the first call finds
     * no server, and a webhook would get its 503. */
    store = inbox_store_open("mongodb://127.0.0.1:1/inbox_test"
                             "?serverSelectionTimeoutMS=300", &err);
    CHECK(store != NULL);
    if (store == NULL) {
        return;
    }

    CHECK_STR(inbox_store_backend(store), "mongodb");
    CHECK_INT(inbox_store_ping(store, &err), INBOX_ERR_UNAVAILABLE);
    CHECK_INT(inbox_store_org_create(store, "Acme", NULL, id, &err),
              INBOX_ERR_UNAVAILABLE);
    inbox_store_close(store);
}


static const char  list_page[] = CURSOR(
    "{\"_id\": " OID(CONV_ID) ", \"org_id\": " OID(ORG_ID) ", \"contact\":"
    " {\"id\": " OID(CONTACT_ID) ", \"name\": \"Ann Lee\", \"phone\":"
    " \"+15551230001\", \"opted_out\": false}, \"last_message\": {\"id\": "
    OID(MSG_ID) ", \"direction\": \"outbound\", \"preview\": \"See you\","
    " \"at\": " DATE(NOW) ", \"campaign_id\": " OID("64f1a0000000000000000f01")
    ", \"campaign_kind\": \"poll\", \"status\": \"undelivered\","
    " \"error_code\": \"30003\"}, \"last_activity_at\": " DATE(NOW) ","
    " \"unread_count\": {\"$numberLong\": \"0\"}, \"archived\": false,"
    " \"starred\": true},"
    "{\"_id\": " OID(CONV2_ID) ", \"org_id\": " OID(ORG_ID) ", \"contact\":"
    " {\"id\": " OID(GEN_1) ", \"name\": null, \"phone\": \"+15551230002\","
    " \"opted_out\": true}, \"last_message\": null, \"last_activity_at\": "
    DATE(EARLIER) ", \"unread_count\": {\"$numberLong\": \"0\"},"
    " \"archived\": false, \"starred\": false},"
    "{\"_id\": " OID(CONV3_ID) ", \"org_id\": " OID(ORG_ID) ", \"contact\":"
    " {\"id\": " OID(GEN_2) ", \"name\": \"Bo\", \"phone\": \"+15551230003\","
    " \"opted_out\": false}, \"last_message\": null, \"last_activity_at\": "
    DATE(EARLIER) ", \"unread_count\": 3, \"archived\": false,"
    " \"starred\": false}");


TEST(conversations_list_first_page)
{
    fake_t                      fake;
    inbox_error_t               err;
    inbox_store_t              *store;
    inbox_conversation_page_t   page;
    inbox_conversation_query_t  query;

    store = fake_open(&fake);

    memset(&query, 0, sizeof(query));
    query.filter = INBOX_FILTER_ALL;
    query.limit = 2;

    fake.replies[0] = list_page;
    /* the unread total with the unread tab's threads, then a count
     * each of the default view, unresponded, starred and the archive */
    fake.replies[1] = CURSOR("{\"_id\": null, \"total\": 7,"
                             " \"listed\": 3}");
    fake.replies[2] = "{\"ok\": 1, \"n\": 9}";
    fake.replies[3] = "{\"ok\": 1, \"n\": 4}";
    fake.replies[4] = "{\"ok\": 1, \"n\": 1}";
    fake.replies[5] = "{\"ok\": 1, \"n\": 2}";

    CHECK_INT(inbox_store_conversations_list(store, ORG_ID, &query, &page,
                                             &err), INBOX_OK);
    golden_check(&fake, "conversations_list_first_page");

    /* the tabs' counts: the unread tab's from the total's pass */
    CHECK_INT(page.has_counts, 1);
    CHECK_INT(page.counts[INBOX_FILTER_ALL], 9);
    CHECK_INT(page.counts[INBOX_FILTER_UNREAD], 3);
    CHECK_INT(page.counts[INBOX_FILTER_UNRESPONDED], 4);
    CHECK_INT(page.counts[INBOX_FILTER_STARRED], 1);
    CHECK_INT(page.counts[INBOX_FILTER_ARCHIVED], 2);

    /* Two shown, the third only proves there is a next page. */
    CHECK_INT(page.count, 2);
    CHECK_INT(page.unread_total, 7);
    CHECK_STR(page.next_cursor, EARLIER ":" CONV2_ID);
    if (page.count == 2) {
        CHECK_STR(page.items[0].id, CONV_ID);
        CHECK_STR(page.items[0].contact.id, CONTACT_ID);
        CHECK_STR(page.items[0].contact.name, "Ann Lee");
        CHECK_STR(page.items[0].contact.phone, "+15551230001");
        CHECK_INT(page.items[0].has_last_message, 1);
        CHECK_STR(page.items[0].last_message.id, MSG_ID);
        CHECK_INT(page.items[0].last_message.direction, INBOX_OUTBOUND);
        CHECK_STR(page.items[0].last_message.preview, "See you");
        CHECK_INT(page.items[0].last_message.at, 1767225600000LL);
        CHECK_STR(page.items[0].last_message.campaign_id,
                  "64f1a0000000000000000f01");
        CHECK_STR(page.items[0].last_message.campaign_kind, "poll");
        /* the list marks a reply that did not reach the phone */
        CHECK_STR(page.items[0].last_message.status, "undelivered");
        CHECK_STR(page.items[0].last_message.error_code, "30003");
        CHECK_INT(page.items[0].starred, 1);
        CHECK(page.items[1].contact.name == NULL);
        CHECK_INT(page.items[1].contact.opted_out, 1);
        CHECK_INT(page.items[1].has_last_message, 0);
        CHECK_INT(page.items[1].last_activity_at, 1767225000000LL);
    }
    inbox_conversation_page_free(&page);

    /* The cursor handed out selects the page after it. */
    fake_reset(&fake);
    query.cursor = EARLIER ":" CONV2_ID;
    CHECK_INT(inbox_store_conversations_list(store, ORG_ID, &query, &page,
                                             &err), INBOX_OK);
    CHECK(log_has(&fake, "\"_id\" : { \"$lt\" : { \"$oid\" : \"" CONV2_ID));
    /* a later page: the unread total, no tab counted */
    CHECK(!log_has(&fake, "\"count\""));
    CHECK(!log_has(&fake, "\"listed\""));
    CHECK_INT(page.has_counts, 0);
    CHECK_INT(page.count, 0);
    CHECK_STR(page.next_cursor, "");
    inbox_conversation_page_free(&page);

    query.cursor = "yesterday";
    CHECK_INT(inbox_store_conversations_list(store, ORG_ID, &query, &page,
                                             &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "cursor");
    inbox_conversation_page_free(&page);

    /* a search of invisible characters alone (U+200B, U+2060 U+FEFF) is
     * none: the very commands of the first page, archive left out */
    fake_reset(&fake);
    query.cursor = NULL;
    query.q = "\xe2\x80\x8b";
    fake.replies[0] = list_page;
    CHECK_INT(inbox_store_conversations_list(store, ORG_ID, &query, &page,
                                             &err), INBOX_OK);
    golden_check(&fake, "conversations_list_first_page");
    inbox_conversation_page_free(&page);

    fake_reset(&fake);
    query.q = "\xe2\x81\xa0\xef\xbb\xbf";
    fake.replies[0] = list_page;
    CHECK_INT(inbox_store_conversations_list(store, ORG_ID, &query, &page,
                                             &err), INBOX_OK);
    golden_check(&fake, "conversations_list_first_page");
    inbox_conversation_page_free(&page);

    fake_close(&fake, store);
}


TEST(conversations_list_filters_with_search_and_cursor)
{
    size_t                      i;
    fake_t                      fake;
    char                        name[64];
    inbox_error_t               err;
    inbox_store_t              *store;
    inbox_conversation_page_t   page;
    inbox_conversation_query_t  query;
    static const struct {
        inbox_filter_t  filter;
        const char     *name;
    } filters[] = {
        { INBOX_FILTER_ALL, "all" },
        { INBOX_FILTER_UNREAD, "unread" },
        { INBOX_FILTER_UNRESPONDED, "unresponded" },
        { INBOX_FILTER_STARRED, "starred" },
        { INBOX_FILTER_ARCHIVED, "archived" }
    };

    store = fake_open(&fake);

    for (i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
        fake_reset(&fake);
        memset(&query, 0, sizeof(query));
        query.filter = filters[i].filter;
        query.q = "(555) 12";
        query.cursor = NOW ":" CONV_ID;
        query.limit = 50;

        CHECK_INT(inbox_store_conversations_list(store, ORG_ID, &query,
                                                 &page, &err), INBOX_OK);
        snprintf(name, sizeof(name), "conversations_list_%s",
                 filters[i].name);
        golden_check(&fake, name);
        inbox_conversation_page_free(&page);
    }

    /* A name search: q folded in the folded contact.search_name, regex
     * characters matched as typed; without digits no phone clause. */
    fake_reset(&fake);
    memset(&query, 0, sizeof(query));
    query.q = "lee.+";
    CHECK_INT(inbox_store_conversations_list(store, ORG_ID, &query, &page,
                                             &err), INBOX_OK);
    golden_check(&fake, "conversations_list_search_name");
    inbox_conversation_page_free(&page);

    /* a name's words in any order, each escaped: "lopez maria" finds
     * Maria Lopez */
    fake_reset(&fake);
    memset(&query, 0, sizeof(query));
    query.q = "lopez  m.ria";
    CHECK_INT(inbox_store_conversations_list(store, ORG_ID, &query, &page,
                                             &err), INBOX_OK);
    golden_check(&fake, "conversations_list_search_words");
    inbox_conversation_page_free(&page);

    /* any script: "Йосиф" folded as its stored key is ("йосиф"), looked
     * for as it is, not as letter classes nor without case */
    fake_reset(&fake);
    memset(&query, 0, sizeof(query));
    query.q = "\xd0\x99\xd0\xbe\xd1\x81\xd0\xb8\xd1\x84";
    CHECK_INT(inbox_store_conversations_list(store, ORG_ID, &query, &page,
                                             &err), INBOX_OK);
    CHECK(log_has(&fake, "\"contact.search_name\" : { \"$regularExpression\""
                         " : { \"pattern\" : \"\xd0\xb9\xd0\xbe\xd1\x81"
                         "\xd0\xb8\xd1\x84\", \"options\" : \"\" } }"));
    inbox_conversation_page_free(&page);

    /* A number as it is dialled: its digits, or those after the prefix */
    fake_reset(&fake);
    memset(&query, 0, sizeof(query));
    query.q = "07700 900123";
    CHECK_INT(inbox_store_conversations_list(store, ORG_ID, &query, &page,
                                             &err), INBOX_OK);
    golden_check(&fake, "conversations_list_search_dialled");
    inbox_conversation_page_free(&page);

    /* Mexico's retired mobile 1 in an organization of MX: the number as
     * stored looked for too (search.h) */
    fake_reset(&fake);
    memset(&query, 0, sizeof(query));
    query.q = "1 55 1234";
    query.country = "MX";
    CHECK_INT(inbox_store_conversations_list(store, ORG_ID, &query, &page,
                                             &err), INBOX_OK);
    CHECK(log_has(&fake, "\"contact.phone\" : { \"$regularExpression\" : "
                         "{ \"pattern\" : \"1551234|52551234\""));
    inbox_conversation_page_free(&page);

    fake_close(&fake, store);
}


TEST(conversation_get)
{
    fake_t                fake;
    inbox_error_t         err;
    inbox_store_t        *store;
    inbox_conversation_t  conversation;

    store = fake_open(&fake);

    fake.replies[0] = list_page;
    CHECK_INT(inbox_store_conversation_get(store, ORG_ID, CONV_ID,
                                           &conversation, &err), INBOX_OK);
    CHECK_STR(conversation.id, CONV_ID);
    CHECK_STR(conversation.contact.name, "Ann Lee");
    golden_check(&fake, "conversation_get");
    inbox_conversation_free(&conversation);

    /* Another organization's (or a malformed) id is not found. */
    fake_reset(&fake);
    CHECK_INT(inbox_store_conversation_get(store, ORG_ID, CONV2_ID,
                                           &conversation, &err),
              INBOX_ERR_NOT_FOUND);
    inbox_conversation_free(&conversation);
    CHECK_INT(inbox_store_conversation_get(store, ORG_ID, "12",
                                           &conversation, &err),
              INBOX_ERR_NOT_FOUND);
    inbox_conversation_free(&conversation);

    fake_close(&fake, store);
}


TEST(messages_list)
{
    fake_t                fake;
    inbox_error_t         err;
    inbox_store_t        *store;
    inbox_message_page_t  page;

    store = fake_open(&fake);

    fake.replies[0] = CURSOR("{\"_id\": " OID(CONV_ID) "}");
    fake.replies[1] = CURSOR(
        "{\"_id\": " OID(MSG2_ID) ", \"org_id\": " OID(ORG_ID) ","
        " \"conversation_id\": " OID(CONV_ID) ", \"direction\": \"outbound\","
        " \"body\": \"See you\", \"media\": [{\"url\": \"https://i/1\","
        " \"content_type\": \"image/png\", \"state\": \"stored\","
        " \"file\": \"f1.png\", \"bytes\": 100, \"upload_id\": "
        OID("64f1a0000000000000000f05") "}, {\"url\": \"https://i/2\","
        " \"content_type\": \"image/png\", \"state\": \"stored\","
        " \"file\": \"f2.png\", \"bytes\": 100}],"
        " \"status\": \"delivered\","
        " \"error_code\": null, \"segments\": 1, \"credits\": 1,"
        " \"sent_by\": " OID(USER_ID) ", \"created_at\": " DATE(NOW) ","
        " \"campaign_id\": " OID("64f1a0000000000000000f01") "},"
        "{\"_id\": " OID(MSG_ID) ", \"org_id\": " OID(ORG_ID) ","
        " \"conversation_id\": " OID(CONV_ID) ", \"direction\": \"inbound\","
        " \"body\": \"Is Tuesday ok?\", \"media\": [{\"url\": \"https://m/1\","
        " \"content_type\": \"image/jpeg\"}, {\"url\": \"https://m/2\","
        " \"content_type\": \"image/gif\"}], \"status\": null,"
        " \"error_code\": null, \"segments\": 1, \"credits\": 0,"
        " \"sent_by\": null, \"created_at\": " DATE(EARLIER) "}");

    CHECK_INT(inbox_store_messages_list(store, ORG_ID, CONV_ID,
                                        NOW ":" MSG2_ID "", 2, &page, &err),
              INBOX_OK);
    golden_check(&fake, "messages_list");

    CHECK_INT(page.count, 2);
    CHECK_STR(page.next_cursor, "");
    if (page.count == 2) {
        CHECK_STR(page.items[0].id, MSG2_ID);
        CHECK_INT(page.items[0].direction, INBOX_OUTBOUND);
        CHECK_STR(page.items[0].status, "delivered");
        CHECK_STR(page.items[0].sent_by, USER_ID);
        CHECK_STR(page.items[0].campaign_id, "64f1a0000000000000000f01");
        /* stored before messages kept their campaign's kind: not known */
        CHECK_STR(page.items[0].campaign_kind, "");
        CHECK_INT(page.items[0].credits, 1);
        /* its uploads, but for one stored before they were kept */
        CHECK_INT(page.items[0].media_count, 2);
        if (page.items[0].media_count == 2) {
            CHECK_STR(page.items[0].media[0].upload_id,
                      "64f1a0000000000000000f05");
            CHECK_STR(page.items[0].media[1].upload_id, "");
        }
        CHECK_STR(page.items[1].conversation_id, CONV_ID);
        CHECK_STR(page.items[1].body, "Is Tuesday ok?");
        CHECK_STR(page.items[1].status, "");
        CHECK_STR(page.items[1].sent_by, "");
        CHECK_STR(page.items[1].campaign_id, "");
        CHECK_INT(page.items[1].media_count, 2);
        if (page.items[1].media_count == 2) {
            CHECK_STR(page.items[1].media[1].url, "https://m/2");
            CHECK_STR(page.items[1].media[1].content_type, "image/gif");
            CHECK_STR(page.items[1].media[0].upload_id, "");
        }
        CHECK_INT(page.items[1].created_at, 1767225000000LL);
    }
    inbox_message_page_free(&page);

    /* One asked, two there: a cursor at the first. */
    fake_reset(&fake);
    fake.replies[0] = CURSOR("{\"_id\": " OID(CONV_ID) "}");
    fake.replies[1] = CURSOR(
        "{\"_id\": " OID(MSG2_ID) ", \"created_at\": " DATE(NOW) "},"
        "{\"_id\": " OID(MSG_ID) ", \"created_at\": " DATE(EARLIER) "}");
    CHECK_INT(inbox_store_messages_list(store, ORG_ID, CONV_ID, NULL, 1,
                                        &page, &err), INBOX_OK);
    CHECK_INT(page.count, 1);
    CHECK_STR(page.next_cursor, NOW ":" MSG2_ID);
    inbox_message_page_free(&page);

    /* Another organization's conversation: 404, messages never read. */
    fake_reset(&fake);
    CHECK_INT(inbox_store_messages_list(store, ORG_ID, CONV2_ID, NULL, 50,
                                        &page, &err), INBOX_ERR_NOT_FOUND);
    CHECK_INT(fake.commands, 1);
    inbox_message_page_free(&page);

    fake_close(&fake, store);
}


/*
 * Opt-out, opt-in and settings (store_mongo_optout.c,
 * store_mongo_settings.c)
 */

/* A contact not opted out, and its conversation as the opt-out left it. */
static const char  optout_contact[] =
    CURSOR("{\"_id\": " OID(CONTACT_ID) ", \"org_id\": " OID(ORG_ID) ","
           " \"phone\": \"+15551230001\", \"name\": \"Ann Lee\","
           " \"tags\": [], \"tag_keys\": [], \"opted_out\": false,"
           " \"created_at\": " DATE(EARLIER) ","
           " \"conversation_id\": " OID(CONV_ID) "}");

#define OPTOUT_CONVERSATION                                                   \
    "{\"_id\": " OID(CONV_ID) ", \"org_id\": " OID(ORG_ID) ","                 \
    " \"contact\": {\"id\": " OID(CONTACT_ID) ","                              \
    " \"name\": \"Ann Lee\", \"phone\": \"+15551230001\","                     \
    " \"opted_out\": true}, \"last_message\": null,"                           \
    " \"last_activity_at\": " DATE(NOW) ","                                    \
    " \"unread_count\": {\"$numberLong\": \"0\"},"                             \
    " \"archived\": false, \"starred\": false, \"unresponded_at\": null}"

static const char  optout_conversation[] = CURSOR(OPTOUT_CONVERSATION);

/* the same, as the opt-out's answer to the thread's wait returns it */
static const char  optout_conversation_answered[] =
    "{\"ok\": 1, \"value\": " OPTOUT_CONVERSATION "}";

static const char  optout_cas_won[] =
    "{\"ok\": 1, \"value\": {\"_id\": " OID(CONTACT_ID) ","
    " \"conversation_id\": " OID(CONV_ID) "}}";

static const char  optout_org[] =
    "{\"ok\": 1, \"value\": {\"_id\": " OID(ORG_ID) ", \"seq\":"
    " {\"$numberLong\": \"21\"}, \"epoch\": \"a1b2c3d4e5f60708\"}}";


TEST(contact_opt_out_sets_the_contact_its_thread_and_its_timeline)
{
    fake_t                  fake;
    inbox_error_t           err;
    inbox_store_t          *store;
    inbox_event_list_t      events;
    inbox_contact_record_t  c;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    fake.replies[0] = optout_contact;
    fake.replies[1] = optout_cas_won;
    fake.replies[4] = optout_conversation_answered;
    fake.replies[5] = optout_org;

    CHECK_INT(inbox_store_contact_opt_out(store, ORG_ID, CONTACT_ID,
                                          INBOX_OPT_OUT_MANUAL, NULL,
                                          LATER_MS, 0, &c, &events, &err),
              INBOX_OK);
    golden_check(&fake, "contact_opt_out");
    CHECK_INT(c.opted_out, 1);
    CHECK_INT(c.opted_out_at, LATER_MS);
    CHECK_STR(c.opt_out_source, "manual");
    CHECK_INT(events.count, 2);
    if (events.count == 2) {
        CHECK_INT(events.items[0].org_seq, 20);
        CHECK(strstr(events.items[0].json, "\"contact.updated\"") != NULL);
        CHECK(strstr(events.items[0].json, "\"opt_out_source\":\"manual\"")
              != NULL);
        CHECK_INT(events.items[1].org_seq, 21);
        CHECK(strstr(events.items[1].json, "\"conversation.updated\"")
              != NULL);
    }
    inbox_contact_record_free(&c);
    inbox_event_list_free(&events);

    /* opted out already: only its newest opt time is written (a START
     * sent before now is older news), where the contact is still opted
     * out with the time read, then what a retry finishes: its copy where
     * older, its opt-out's timeline entry where missing, its thread's
     * wait ended; nothing pushed */
    fake_reset(&fake);
    fake.replies[0] = CURSOR("{\"_id\": " OID(CONTACT_ID) ", \"org_id\": "
                             OID(ORG_ID) ", \"opted_out\": true,"
                             " \"opted_out_at\": " DATE(EARLIER) ","
                             " \"opt_out_source\": \"keyword\","
                             " \"opt_out_keyword\": \"STOP\","
                             " \"opt_latest_at\": " DATE(EARLIER) ","
                             " \"conversation_id\": " OID(CONV_ID) "}");
    fake.replies[1] = "{\"ok\": 1, \"value\": {\"_id\": " OID(CONTACT_ID)
                      "}}";
    CHECK_INT(inbox_store_contact_opt_out(store, ORG_ID, CONTACT_ID,
                                          INBOX_OPT_OUT_CARRIER, NULL, 0, 0,
                                          &c, &events, &err), INBOX_OK);
    CHECK_INT(fake.commands, 5);
    CHECK(log_has(&fake, "\"opt_latest_at\" : { \"$date\""));
    CHECK(log_has(&fake, "\"type\" : \"opt_out\", \"at\" : { \"$date\" : "
                         "{ \"$numberLong\" : \"" EARLIER "\" } }"));
    CHECK(log_has(&fake, "\"upsert\" : true"));
    CHECK(log_has(&fake, "\"findAndModify\" : \"conversations\""));
    CHECK(c.opt_latest_at > 1767225000000LL);
    CHECK_INT(events.count, 0);
    CHECK_STR(c.opt_out_source, "keyword");
    CHECK_STR(c.opt_out_keyword, "STOP");
    inbox_contact_record_free(&c);

    /* changed by someone else between the read and the write: the rule
     * again on the contact as it is then (opted out by a keyword: only
     * the newest opt time written), and nothing pushed (theirs to
     * push) */
    fake_reset(&fake);
    fake.replies[0] = optout_contact;
    fake.replies[1] = "{\"ok\": 1, \"value\": null}";
    fake.replies[2] = stored_contact_cursor;
    fake.replies[3] = "{\"ok\": 1, \"value\": {\"_id\": " OID(CONTACT_ID)
                      "}}";
    CHECK_INT(inbox_store_contact_opt_out(store, ORG_ID, CONTACT_ID,
                                          INBOX_OPT_OUT_MANUAL, NULL, 0, 0,
                                          &c, &events, &err), INBOX_OK);
    CHECK_INT(fake.commands, 7);
    CHECK_INT(events.count, 0);
    CHECK_INT(c.opted_out, 1);
    CHECK_STR(c.opt_out_source, "keyword");
    inbox_contact_record_free(&c);

    /* another organization's (or no) contact */
    fake_reset(&fake);
    CHECK_INT(inbox_store_contact_opt_out(store, ORG_ID, CONTACT_ID,
                                          INBOX_OPT_OUT_MANUAL, NULL, 0, 0,
                                          &c, &events, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(fake.commands, 1);
    inbox_contact_record_free(&c);

    fake_close(&fake, store);
}


/* A contact that texted START at NOW: a carrier's refusal of a send
 * before it is read and dropped; one after it is written where the
 * contact still has that last opt-in. */
TEST(contact_opt_out_by_the_carrier_counts_after_the_last_opt_in)
{
    fake_t                  fake;
    inbox_error_t           err;
    inbox_store_t          *store;
    inbox_event_list_t      events;
    inbox_contact_record_t  c;
    static const char       opted_in[] =
        CURSOR("{\"_id\": " OID(CONTACT_ID) ", \"org_id\": " OID(ORG_ID) ","
               " \"phone\": \"+15551230001\", \"opted_out\": false,"
               " \"opted_in_at\": " DATE(NOW) ","
               " \"created_at\": " DATE(EARLIER) ","
               " \"conversation_id\": " OID(CONV_ID) "}");

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    fake.replies[0] = opted_in;
    CHECK_INT(inbox_store_contact_opt_out(store, ORG_ID, CONTACT_ID,
                                          INBOX_OPT_OUT_CARRIER, NULL, 0,
                                          1767225000000LL, &c, &events,
                                          &err), INBOX_OK);
    /* the read, the copy where older than the contact read, and the
     * opt-in's timeline entry where missing */
    CHECK_INT(fake.commands, 3);
    CHECK_INT(events.count, 0);
    CHECK_INT(c.opted_out, 0);
    CHECK_INT(c.opted_in_at, 1767225600000LL);
    inbox_contact_record_free(&c);

    fake_reset(&fake);
    fake.replies[0] = opted_in;
    fake.replies[1] = optout_cas_won;
    fake.replies[4] = optout_conversation_answered;
    fake.replies[5] = optout_org;
    CHECK_INT(inbox_store_contact_opt_out(store, ORG_ID, CONTACT_ID,
                                          INBOX_OPT_OUT_CARRIER, NULL,
                                          LATER_MS, 1767225600001LL, &c,
                                          &events, &err), INBOX_OK);
    golden_check(&fake, "contact_opt_out_carrier");
    CHECK_INT(c.opted_out, 1);
    CHECK_STR(c.opt_out_source, "carrier");
    CHECK_INT(events.count, 2);
    inbox_contact_record_free(&c);
    inbox_event_list_free(&events);

    fake_close(&fake, store);
}


TEST(contact_opt_in_clears_the_opt_out)
{
    fake_t                  fake;
    inbox_error_t           err;
    inbox_store_t          *store;
    inbox_event_list_t      events;
    inbox_contact_record_t  c;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    fake.replies[0] = stored_contact_cursor;
    fake.replies[1] = optout_cas_won;
    fake.replies[4] = optout_conversation;
    fake.replies[5] = optout_org;

    CHECK_INT(inbox_store_contact_opt_in(store, ORG_ID, CONTACT_ID, "START",
                                         LATER_MS, &c, &events, &err),
              INBOX_OK);
    golden_check(&fake, "contact_opt_in");
    CHECK_INT(c.opted_out, 0);
    CHECK_INT(c.opted_out_at, 0);
    CHECK_STR(c.opt_out_source, "");
    CHECK_INT(events.count, 2);
    inbox_contact_record_free(&c);
    inbox_event_list_free(&events);

    fake_close(&fake, store);
}


TEST(contact_events_list_newest_first_after_a_position)
{
    fake_t                      fake;
    inbox_error_t               err;
    inbox_store_t              *store;
    inbox_contact_event_page_t  page;

    store = fake_open(&fake);

    fake.replies[0] = optout_contact;
    fake.replies[1] = CURSOR(
        "{\"_id\": " OID(MSG2_ID) ", \"type\": \"opt_in\", \"source\":"
        " \"keyword\", \"keyword\": \"START\", \"message_id\": " OID(MSG_ID)
        ", \"at\": " DATE(NOW) "},"
        "{\"_id\": " OID(GEN_1) ", \"type\": \"opt_out\", \"source\":"
        " \"manual\", \"keyword\": null, \"message_id\": null, \"at\": "
        DATE(EARLIER) "}");

    CHECK_INT(inbox_store_contact_events_list(store, ORG_ID, CONTACT_ID,
                                              LATER_MS, MSG_ID, 1, &page,
                                              &err), INBOX_OK);
    golden_check(&fake, "contact_events_list");
    CHECK_INT(page.count, 1);
    CHECK_INT(page.more, 1);
    if (page.count == 1) {
        CHECK_STR(page.items[0].id, MSG2_ID);
        CHECK_INT(page.items[0].type, INBOX_TIMELINE_OPT_IN);
        CHECK_STR(page.items[0].keyword, "START");
        CHECK_STR(page.items[0].message_id, MSG_ID);
        CHECK_INT(page.items[0].at, 1767225600000LL);
    }
    inbox_contact_event_page_free(&page);

    /* a position this store did not give */
    fake_reset(&fake);
    CHECK_INT(inbox_store_contact_events_list(store, ORG_ID, CONTACT_ID,
                                              LATER_MS, "42", 1, &page,
                                              &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "cursor");
    CHECK_INT(fake.commands, 0);
    inbox_contact_event_page_free(&page);

    /* another organization's (or no) contact: a 404, nothing of a
     * record never read freed */
    fake_reset(&fake);
    CHECK_INT(inbox_store_contact_events_list(store, ORG_ID, CONTACT_ID, 0,
                                              NULL, 10, &page, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(fake.commands, 1);
    inbox_contact_event_page_free(&page);

    fake_close(&fake, store);
}


/* A keyword's answer, among its message's steps: the organization's
 * settings, then the notice's writes under the id the message names. */
static const char  answer_settings[] =
    CURSOR("{\"_id\": " OID(ORG_ID) ", \"name\": \"Acme Dental\","
           " \"timezone\": \"UTC\"}");

static const char  answer_conversation[] =
    "{\"ok\": 1, \"value\": {\"_id\": " OID(CONV_ID) ", \"org_id\": "
    OID(ORG_ID) ", \"contact\": {\"id\": " OID(CONTACT_ID) ", \"name\":"
    " \"Ann Lee\", \"phone\": \"+15551230001\", \"opted_out\": true},"
    " \"last_message\": {\"id\": " OID(GEN_4) ", \"direction\":"
    " \"outbound\", \"preview\": \"Acme Dental: you are unsubscribed\","
    " \"at\": " DATE(NOW) "}, \"last_activity_at\": " DATE(NOW) ","
    " \"unread_count\": {\"$numberLong\": \"2\"}, \"archived\": false,"
    " \"starred\": true}}";


TEST(inbound_stop_opts_out_before_its_message_is_stored)
{
    fake_t                 fake;
    inbox_error_t          err;
    inbox_store_t         *store;
    inbox_inbound_t        msg;
    inbox_event_list_t     events;
    inbox_ingest_result_t  result;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));
    ingest_message(&msg, "SM0001");
    msg.body = " Stop ";
    msg.media_count = 0;

    fake.replies[0] = ingest_number;
    fake.replies[1] = ingest_contact;
    fake.replies[2] = NULL;                 /* no such message yet */
    fake.replies[3] = optout_cas_won;
    fake.replies[7] = ingest_conversation;
    fake.replies[8] = ingest_org;
    fake.replies[9] = ingest_unread;
    fake.replies[11] = answer_settings;
    fake.replies[13] = answer_conversation;
    fake.replies[14] = SEQ_RESERVED;

    CHECK_INT(inbox_store_inbound_ingest(store, &msg, 1, &result, &events,
                                         &err), INBOX_OK);
    golden_check(&fake, "inbound_ingest_stop");
    CHECK_INT(result.status, INBOX_OK);
    CHECK_INT(result.keyword, INBOX_KEYWORD_OPT_OUT);
    CHECK_INT(result.opt_changed, 1);
    CHECK_INT(result.answered, 1);
    CHECK_STR(result.org_id, ORG_ID);
    CHECK_STR(result.message_id, GEN_3);
    CHECK_INT(result.carrier_answers_keywords, 0);

    /* the message's events, contact.updated, then the answer's, before
     * the message is finished: one 503 and the retry queues it */
    CHECK_INT(events.count, 6);
    if (events.count == 6) {
        CHECK_INT(events.items[0].org_seq, 9);
        CHECK(strstr(events.items[3].json, "\"contact.updated\"") != NULL);
        CHECK(strstr(events.items[3].json, "\"opt_out_keyword\":\"STOP\"")
              != NULL);
        CHECK_INT(events.items[3].org_seq, 12);
        CHECK(strstr(events.items[4].json, "\"message.created\"") != NULL);
        CHECK(strstr(events.items[4].json, "Acme Dental: you are"
                                           " unsubscribed") != NULL);
    }
    CHECK(log_has(&fake, "\"answer_id\""));
    CHECK_INT(fake.commands, 19);
    inbox_event_list_free(&events);

    /* a carrier's retry of a STOP already stored: found before anything
     * is written, a duplicate */
    fake_reset(&fake);
    fake.replies[0] = ingest_number;
    fake.replies[1] = ingest_contact;
    fake.replies[2] = CURSOR("{\"_id\": " OID(MSG_ID) "}");
    fake.replies[3] = CURSOR("{\"_id\": " OID(MSG_ID) ", \"conversation_id\": "
                             OID(CONV_ID) "}");
    CHECK_INT(inbox_store_inbound_ingest(store, &msg, 1, &result, &events,
                                         &err), INBOX_OK);
    CHECK_INT(result.duplicate, 1);
    CHECK_INT(result.keyword, INBOX_KEYWORD_NONE);
    CHECK_INT(result.opt_changed, 0);
    CHECK_STR(result.message_id, MSG_ID);
    CHECK_INT(fake.commands, 4);
    CHECK(!log_has(&fake, "\"contact_events\""));
    CHECK_INT(events.count, 0);

    fake_close(&fake, store);
}


/* A STOP to a number whose carrier answers keywords: the same commands
 * (the contact opted out, its events), and no answer asked for. */
TEST(inbound_stop_to_a_number_whose_carrier_answers_keywords)
{
    fake_t                 fake;
    inbox_error_t          err;
    inbox_store_t         *store;
    inbox_inbound_t        msg;
    inbox_event_list_t     events;
    inbox_ingest_result_t  result;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));
    ingest_message(&msg, "SM0001");
    msg.body = "STOP";
    msg.media_count = 0;

    fake.replies[0] = CURSOR("{\"_id\": " OID(GEN_1) ", \"org_id\": "
                             OID(ORG_ID) ", \"carrier_answers_keywords\":"
                             " true}");
    fake.replies[1] = ingest_contact;
    fake.replies[2] = NULL;                 /* no such message yet */
    fake.replies[3] = optout_cas_won;
    fake.replies[7] = ingest_conversation;
    fake.replies[8] = ingest_org;
    fake.replies[9] = ingest_unread;

    CHECK_INT(inbox_store_inbound_ingest(store, &msg, 1, &result, &events,
                                         &err), INBOX_OK);
    golden_check(&fake, "inbound_ingest_stop_carrier_answers");
    CHECK_INT(result.status, INBOX_OK);
    CHECK_INT(result.keyword, INBOX_KEYWORD_OPT_OUT);
    CHECK_INT(result.opt_changed, 1);
    CHECK_INT(result.carrier_answers_keywords, 1);
    CHECK_INT(events.count, 4);
    if (events.count == 4) {
        CHECK(strstr(events.items[3].json, "\"contact.updated\"") != NULL);
    }
    /* nothing read for an answer, nothing queued */
    CHECK_INT(result.answered, 0);
    CHECK(!log_has(&fake, "\"outbox\""));
    CHECK(!log_has(&fake, "\"help_answered_at\""));
    inbox_event_list_free(&events);

    fake_close(&fake, store);
}


/* A STOP stored with its answer's id (answer_id) by an attempt that
 * failed before the answer was queued, or while it was: the carrier's
 * retry queues it under that id, so exactly one answer goes. */
#define ANSWER_ID  "64f1a0000000000000000e01"

static const char  stop_opted_out[] =
    "{\"ok\": 1, \"value\": {\"_id\": " OID(CONTACT_ID) ", \"org_id\": "
    OID(ORG_ID) ", \"phone\": \"+15551230001\", \"conversation_id\": "
    OID(CONV_ID) ", \"name\": \"Ann Lee\", \"opted_out\": true,"
    " \"opted_out_at\": " DATE("1767225500000") ", \"opt_out_source\":"
    " \"keyword\", \"opt_out_keyword\": \"STOP\", \"opt_latest_at\": "
    DATE("1767225500000") "}}";

/* The retry, later, would move the newest opt time: its message is found
 * before anything is written. */
static const char  stop_stored[] = CURSOR("{\"_id\": " OID(MSG_ID) "}");

static const char  stop_unfinished[] =
    CURSOR("{\"_id\": " OID(MSG_ID) ", \"conversation_id\": " OID(CONV_ID)
           ", \"created_at\": " DATE("1767225500000") ", \"threaded\":"
           " false, \"answer_id\": " OID(ANSWER_ID) "}");

static const char  answer_dup_key[] =
    "{\"ok\": 1, \"n\": 0, \"writeErrors\": [{\"index\": 0,"
    " \"code\": 11000, \"errmsg\": \"E11000 duplicate key error\"}]}";


TEST(inbound_stop_retry_queues_its_answer_once)
{
    fake_t                 fake;
    inbox_error_t          err;
    inbox_store_t         *store;
    inbox_inbound_t        msg;
    inbox_event_list_t     events;
    inbox_ingest_result_t  result;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));
    ingest_message(&msg, "SM0001");
    msg.body = "STOP";
    msg.media_count = 0;

    /* failed after the message, before its answer: queued now */
    fake.replies[0] = ingest_number;
    fake.replies[1] = stop_opted_out;
    fake.replies[2] = stop_stored;
    fake.replies[3] = stop_unfinished;
    fake.replies[4] = ingest_conversation;
    fake.replies[5] = NULL;                 /* no events of it yet */
    fake.replies[6] = ingest_org;
    fake.replies[7] = ingest_unread;
    fake.replies[9] = answer_settings;
    fake.replies[11] = answer_conversation;
    fake.replies[12] = SEQ_RESERVED;

    CHECK_INT(inbox_store_inbound_ingest(store, &msg, 1, &result, &events,
                                         &err), INBOX_OK);
    golden_check(&fake, "inbound_ingest_unfinished_answer");
    CHECK_INT(result.status, INBOX_OK);
    CHECK_INT(result.duplicate, 0);
    CHECK_INT(result.opt_changed, 1);
    CHECK_INT(result.answered, 1);
    CHECK_INT(events.count, 6);
    if (events.count == 6) {
        CHECK(strstr(events.items[4].json, ANSWER_ID) != NULL);
    }
    CHECK(log_has(&fake, "\"insert\" : \"outbox\""));
    CHECK(log_has(&fake, "\"$unset\" : { \"threaded\""));
    inbox_event_list_free(&events);

    /* failed with its answer stored, its events and entry written: the
     * retry finds each (duplicate keys, its message.created) and writes
     * none of them again */
    fake_reset(&fake);
    fake.replies[0] = ingest_number;
    fake.replies[1] = stop_opted_out;
    fake.replies[2] = stop_stored;
    fake.replies[3] = stop_unfinished;
    fake.replies[4] = ingest_conversation;
    fake.replies[5] = CURSOR("{\"_id\": " OID(GEN_1) "}");
    fake.replies[6] = answer_settings;
    fake.replies[7] = answer_dup_key;
    fake.replies[8] = CURSOR("{\"_id\": " OID(ANSWER_ID) ", \"status\":"
                             " \"queued\", \"created_at\": "
                             DATE("1767225500001") "}");
    fake.replies[9] = answer_conversation;
    fake.replies[10] = CURSOR("{\"_id\": " OID(GEN_2) "}");
    fake.replies[11] = answer_dup_key;

    CHECK_INT(inbox_store_inbound_ingest(store, &msg, 1, &result, &events,
                                         &err), INBOX_OK);
    golden_check(&fake, "inbound_ingest_unfinished_answer_stored");
    CHECK_INT(result.status, INBOX_OK);
    CHECK_INT(result.answered, 1);
    CHECK_INT(events.count, 0);
    CHECK(!log_has(&fake, "\"insert\" : \"events\""));
    CHECK(log_has(&fake, "\"$unset\" : { \"threaded\""));
    CHECK_INT(fake.commands, 14);
    inbox_event_list_free(&events);

    /* the sender has taken it since: nothing more of it is written */
    fake_reset(&fake);
    fake.replies[0] = ingest_number;
    fake.replies[1] = stop_opted_out;
    fake.replies[2] = stop_stored;
    fake.replies[3] = stop_unfinished;
    fake.replies[4] = ingest_conversation;
    fake.replies[5] = CURSOR("{\"_id\": " OID(GEN_1) "}");
    fake.replies[6] = answer_settings;
    fake.replies[7] = answer_dup_key;
    fake.replies[8] = CURSOR("{\"_id\": " OID(ANSWER_ID) ", \"status\":"
                             " \"sent\", \"created_at\": "
                             DATE("1767225500001") "}");

    CHECK_INT(inbox_store_inbound_ingest(store, &msg, 1, &result, &events,
                                         &err), INBOX_OK);
    CHECK_INT(result.status, INBOX_OK);
    CHECK_INT(result.answered, 1);
    CHECK(!log_has(&fake, "\"insert\" : \"outbox\""));
    CHECK(log_has(&fake, "\"$unset\" : { \"threaded\""));
    CHECK_INT(fake.commands, 11);

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


/* HELP is answered once a day per contact: the first takes the day on
 * its contact (compare and set), one within the day is stored and not
 * answered, and one that lost the day to another HELP at the same moment
 * is not answered either. */
TEST(inbound_help_is_answered_once_a_day)
{
    fake_t                 fake;
    inbox_error_t          err;
    inbox_store_t         *store;
    inbox_inbound_t        msg;
    inbox_event_list_t     events;
    inbox_ingest_result_t  result;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));
    ingest_message(&msg, "SM0001");
    msg.body = "HELP";
    msg.media_count = 0;

    fake.replies[0] = ingest_number;
    fake.replies[1] = ingest_contact;
    fake.replies[3] = ingest_conversation;
    fake.replies[4] = ingest_org;
    fake.replies[5] = ingest_unread;
    fake.replies[8] = answer_settings;
    fake.replies[10] = answer_conversation;
    fake.replies[11] = SEQ_RESERVED;

    CHECK_INT(inbox_store_inbound_ingest(store, &msg, 1, &result, &events,
                                         &err), INBOX_OK);
    golden_check(&fake, "inbound_ingest_help");
    CHECK_INT(result.keyword, INBOX_KEYWORD_HELP);
    CHECK_INT(result.answered, 1);
    CHECK_INT(events.count, 5);
    CHECK(log_has(&fake, "\"help_answered_at\""));
    inbox_event_list_free(&events);

    /* answered an hour ago: stored, shown, not answered */
    fake_reset(&fake);
    fake.replies[0] = ingest_number;
    fake.replies[1] =
        "{\"ok\": 1, \"value\": {\"_id\": " OID(CONTACT_ID) ", \"org_id\": "
        OID(ORG_ID) ", \"phone\": \"+15551230001\", \"conversation_id\": "
        OID(CONV_ID) ", \"name\": \"Ann Lee\", \"opted_out\": false,"
        " \"help_answered_at\": " DATE("1767222000000") "}}";
    fake.replies[3] = ingest_conversation;
    fake.replies[4] = ingest_org;
    fake.replies[5] = ingest_unread;

    CHECK_INT(inbox_store_inbound_ingest(store, &msg, 1, &result, &events,
                                         &err), INBOX_OK);
    CHECK_INT(result.status, INBOX_OK);
    CHECK_INT(result.answered, 0);
    CHECK_INT(events.count, 3);
    CHECK(!log_has(&fake, "\"answer_id\""));
    CHECK(!log_has(&fake, "\"help_answered_at\""));
    CHECK(!log_has(&fake, "\"outbox\""));
    CHECK(log_has(&fake, "\"$unset\" : { \"threaded\""));
    inbox_event_list_free(&events);

    /* another HELP took the day since the contact was read */
    fake_reset(&fake);
    fake.replies[0] = ingest_number;
    fake.replies[1] = ingest_contact;
    fake.replies[3] = ingest_conversation;
    fake.replies[4] = ingest_org;
    fake.replies[5] = ingest_unread;
    fake.replies[7] = "{\"ok\": 1, \"n\": 0, \"nModified\": 0}";

    CHECK_INT(inbox_store_inbound_ingest(store, &msg, 1, &result, &events,
                                         &err), INBOX_OK);
    CHECK_INT(result.status, INBOX_OK);
    CHECK_INT(result.answered, 0);
    CHECK(!log_has(&fake, "\"outbox\""));
    CHECK(log_has(&fake, "\"$unset\" : { \"threaded\""));

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


/* Canada's AIDE is answered in French: the language its match gave is
 * the answer's, queued with the business's name as HELP's is. */
TEST(inbound_aide_is_answered_in_french)
{
    fake_t                 fake;
    inbox_error_t          err;
    inbox_store_t         *store;
    inbox_inbound_t        msg;
    inbox_event_list_t     events;
    inbox_ingest_result_t  result;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));
    ingest_message(&msg, "SM0001");
    msg.body = "Aide";
    msg.media_count = 0;

    fake.replies[0] = ingest_number;
    fake.replies[1] = ingest_contact;
    fake.replies[3] = ingest_conversation;
    fake.replies[4] = ingest_org;
    fake.replies[5] = ingest_unread;
    fake.replies[8] = answer_settings;
    fake.replies[10] = answer_conversation;
    fake.replies[11] = SEQ_RESERVED;

    CHECK_INT(inbox_store_inbound_ingest(store, &msg, 1, &result, &events,
                                         &err), INBOX_OK);
    CHECK_INT(result.keyword, INBOX_KEYWORD_HELP);
    CHECK_INT(result.keyword_lang, INBOX_KEYWORD_LANG_FR);
    CHECK_INT(result.answered, 1);
    CHECK(log_has(&fake, "\"body\" : \"Acme Dental : pour de l'aide, "
                         "r\xc3\xa9pondez \xc3\xa0 ce message. R\xc3\xa9pondez "
                         "ARR\xc3\x8aT pour vous d\xc3\xa9sabonner.\""));
    CHECK(!log_has(&fake, "Reply STOP"));

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


/* A HELP stored after a reply written since it was read: its answer,
 * timed just after it, takes the thread's last message only if it is not
 * older (the update's $cond, the same as the golden inbound_ingest_help
 * has), and the thread it pushes is the one stored, the reply last. */
TEST(inbound_help_answer_older_than_the_thread_leaves_its_last_message)
{
    const char            *frame;
    fake_t                 fake;
    inbox_error_t          err;
    inbox_store_t         *store;
    inbox_inbound_t        msg;
    inbox_event_list_t     events;
    inbox_ingest_result_t  result;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));
    ingest_message(&msg, "SM0001");
    msg.body = "HELP";
    msg.media_count = 0;

    fake.replies[0] = ingest_number;
    fake.replies[1] = ingest_contact;
    fake.replies[3] = ingest_conversation;
    fake.replies[4] = ingest_org;
    fake.replies[5] = ingest_unread;
    fake.replies[8] = answer_settings;
    /* the thread after the answer's update: the agent's reply, newer */
    fake.replies[10] =
        "{\"ok\": 1, \"value\": {\"_id\": " OID(CONV_ID) ", \"org_id\": "
        OID(ORG_ID) ", \"contact\": {\"id\": " OID(CONTACT_ID) ","
        " \"phone\": \"+15551230001\"}, \"last_message\": {\"id\": "
        OID(MSG2_ID) ", \"direction\": \"outbound\", \"preview\":"
        " \"Agent reply\", \"at\": " DATE("1767225605000") "},"
        " \"last_activity_at\": " DATE("1767225605000") ","
        " \"unread_count\": {\"$numberLong\": \"1\"}}}";
    fake.replies[11] = SEQ_RESERVED;

    CHECK_INT(inbox_store_inbound_ingest(store, &msg, 1, &result, &events,
                                         &err), INBOX_OK);
    CHECK_INT(result.answered, 1);
    CHECK(log_has(&fake, "\"last_message\" : { \"$cond\" : [ { \"$gte\" : "
                  "[ { \"$date\" : { \"$numberLong\" : \"1767225600001\" "
                  "} }, { \"$ifNull\" : [ \"$last_message.at\""));
    CHECK_INT(events.count, 5);
    if (events.count == 5) {
        frame = events.items[4].json;
        CHECK(strstr(frame, "\"conversation.updated\"") != NULL);
        CHECK(strstr(frame, "Agent reply") != NULL);
        CHECK(strstr(frame, "for help") == NULL);
    }

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


TEST(settings_get_and_update)
{
    fake_t                 fake;
    inbox_error_t          err;
    inbox_store_t         *store;
    inbox_settings_t       s;
    inbox_event_list_t     events;
    inbox_settings_edit_t  edit;

    store = fake_open(&fake);

    /* never set: the defaults, the organization's name */
    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) ", \"name\":"
                             " \"Acme Dental\", \"timezone\": \"UTC\"}");
    CHECK_INT(inbox_store_settings_get(store, ORG_ID, &s, &err), INBOX_OK);
    golden_check(&fake, "settings_get");
    CHECK_STR(s.timezone, "UTC");
    CHECK_INT(s.quiet_start, 21 * 60);
    CHECK_INT(s.quiet_end, 8 * 60);
    CHECK_STR(s.business_name, "Acme Dental");
    CHECK_STR(s.support_contact, "");

    fake_reset(&fake);
    memset(&edit, 0, sizeof(edit));
    CHECK_INT(inbox_settings_set_quiet_hours(&edit, "20:30", "09:00", NULL),
              INBOX_OK);
    CHECK_INT(inbox_settings_set_business_name(&edit, "", NULL), INBOX_OK);
    CHECK_INT(inbox_settings_set_support_contact(&edit, "+15550009999",
                                                 NULL), INBOX_OK);
    /* the write answers the document as it was: the settings after it
     * are the edit applied to them */
    fake.replies[0] = "{\"ok\": 1, \"value\": {\"_id\": " OID(ORG_ID) ","
                      " \"name\": \"Acme Dental\", \"timezone\": \"UTC\","
                      " \"business_name\": \"Acme\"}}";
    /* new quiet hours: the campaign sending has its held recipients and
     * its entries put off by a claim looked at again */
    fake.replies[1] = CURSOR("{\"_id\": " OID("64f1a0000000000000000f01")
                             "}");
    fake.replies[3] = CURSOR("{\"_id\": " OID("64f1a0000000000000000a11")
                             "}");
    /* then settings.updated, with them */
    fake.replies[5] = SEQ_RESERVED;
    memset(&events, 0, sizeof(events));
    CHECK_INT(inbox_store_settings_update(store, ORG_ID, &edit, &s, &events,
                                          &err),
              INBOX_OK);
    CHECK_INT(fake.commands, 7);
    golden_check(&fake, "settings_update");
    CHECK_INT(s.quiet_start, 20 * 60 + 30);
    CHECK_INT(s.quiet_end, 9 * 60);
    CHECK_STR(s.business_name, "Acme Dental");
    CHECK_STR(s.support_contact, "+15550009999");
    CHECK_INT(events.count, 1);
    if (events.count == 1) {
        CHECK(strstr(events.items[0].json,
                     "{\"type\":\"settings.updated\",\"org_seq\":12,"
                     "\"epoch\":\"a1b2c3d4e5f60708\",\"settings\":{"
                     "\"timezone\":\"UTC\",\"quiet_hours\":{\"start\":"
                     "\"20:30\",\"end\":\"09:00\"},\"business_name\":"
                     "\"Acme Dental\",\"support_contact\":\"+15550009999\","
                     "\"default_country\":null,\"countries\":[")
              == events.items[0].json);
    }
    inbox_event_list_free(&events);

    /* the same again: stored, but nothing changed, so no event */
    fake_reset(&fake);
    fake.replies[0] = "{\"ok\": 1, \"value\": {\"_id\": " OID(ORG_ID) ","
                      " \"name\": \"Acme Dental\", \"timezone\": \"UTC\","
                      " \"quiet_start\": 1230, \"quiet_end\": 540,"
                      " \"business_name\": null,"
                      " \"support_contact\": \"+15550009999\"}}";
    memset(&events, 0, sizeof(events));
    CHECK_INT(inbox_store_settings_update(store, ORG_ID, &edit, &s, &events,
                                          &err),
              INBOX_OK);
    CHECK(!log_has(&fake, "settings.updated"));
    CHECK_INT(events.count, 0);
    CHECK_INT(s.quiet_start, 20 * 60 + 30);
    CHECK_STR(s.business_name, "Acme Dental");
    inbox_event_list_free(&events);

    /* no such organization */
    fake_reset(&fake);
    CHECK_INT(inbox_store_settings_update(store, ORG_ID, &edit, &s, NULL, &err),
              INBOX_ERR_NOT_FOUND);

    fake_close(&fake, store);
}


/* The default country is a field of the org's document, null when the
 * server's is read; one that moves no quiet hours wakes nothing. */
TEST(settings_default_country)
{
    char                   country[INBOX_COUNTRY_MAX];
    fake_t                 fake;
    inbox_error_t          err;
    inbox_store_t         *store;
    inbox_settings_t       s;
    inbox_settings_edit_t  edit;

    store = fake_open(&fake);

    memset(&edit, 0, sizeof(edit));
    CHECK_INT(inbox_settings_set_default_country(&edit, "gb", NULL),
              INBOX_OK);
    fake.replies[0] = "{\"ok\": 1, \"value\": {\"_id\": " OID(ORG_ID) ","
                      " \"name\": \"Acme Dental\"}}";
    fake.replies[1] = SEQ_RESERVED;
    CHECK_INT(inbox_store_settings_update(store, ORG_ID, &edit, &s, NULL, &err),
              INBOX_OK);
    CHECK_INT(fake.commands, 3);
    golden_check(&fake, "settings_default_country");
    CHECK_STR(s.default_country, "GB");

    /* GB again: nothing changed, no event */
    fake_reset(&fake);
    fake.replies[0] = "{\"ok\": 1, \"value\": {\"_id\": " OID(ORG_ID) ","
                      " \"name\": \"Acme Dental\","
                      " \"default_country\": \"GB\"}}";
    CHECK_INT(inbox_store_settings_update(store, ORG_ID, &edit, &s, NULL, &err),
              INBOX_OK);
    CHECK_INT(fake.commands, 1);
    CHECK_STR(s.default_country, "GB");

    /* "" is the server's again: null */
    fake_reset(&fake);
    memset(&edit, 0, sizeof(edit));
    CHECK_INT(inbox_settings_set_default_country(&edit, "", NULL), INBOX_OK);
    fake.replies[0] = "{\"ok\": 1, \"value\": {\"_id\": " OID(ORG_ID) ","
                      " \"name\": \"Acme Dental\","
                      " \"default_country\": \"GB\"}}";
    fake.replies[1] = SEQ_RESERVED;
    CHECK_INT(inbox_store_settings_update(store, ORG_ID, &edit, &s, NULL, &err),
              INBOX_OK);
    CHECK(log_has(&fake, "\"default_country\" : null"));
    CHECK_STR(s.default_country, "");

    /* the country numbers are read as: the org's, else the fallback */
    fake_reset(&fake);
    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) ", \"name\":"
                             " \"Acme Dental\", \"default_country\":"
                             " \"GB\"}");
    CHECK_INT(inbox_store_default_country(store, ORG_ID, "US", country,
                                          &err), INBOX_OK);
    CHECK_STR(country, "GB");

    fake_reset(&fake);
    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) ", \"name\":"
                             " \"Acme Dental\"}");
    CHECK_INT(inbox_store_default_country(store, ORG_ID, "FR", country,
                                          &err), INBOX_OK);
    CHECK_STR(country, "FR");

    fake_close(&fake, store);
}


TEST(realtime_state)
{
    fake_t                  fake;
    inbox_error_t           err;
    inbox_store_t          *store;
    inbox_realtime_state_t  state;

    store = fake_open(&fake);

    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) ", \"seq\":"
                             " {\"$numberLong\": \"42\"}, \"epoch\":"
                             " \"a1b2c3d4e5f60708\"}");
    fake.replies[1] = CURSOR("{\"_id\": null, \"total\": 9}");
    CHECK_INT(inbox_store_realtime_state(store, ORG_ID, &state, &err),
              INBOX_OK);
    CHECK_INT(state.org_seq, 42);
    CHECK_STR(state.epoch, "a1b2c3d4e5f60708");
    CHECK_INT(state.unread_total, 9);
    golden_check(&fake, "realtime_state");

    fake_reset(&fake);
    CHECK_INT(inbox_store_realtime_state(store, ORG_ID, &state, &err),
              INBOX_ERR_NOT_FOUND);

    fake_close(&fake, store);
}

TEST(stream_positions)
{
    const char               *ids[3] = { ORG_ID, "bad", CONV_ID };
    fake_t                    fake;
    inbox_error_t             err;
    inbox_store_t            *store;
    inbox_stream_position_t   at[3];

    store = fake_open(&fake);

    /* one find for all; an id it does not return stays zeroed */
    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) ", \"seq\":"
                             " {\"$numberLong\": \"42\"}, \"epoch\":"
                             " \"a1b2c3d4e5f60708\"}");
    CHECK_INT(inbox_store_stream_positions(store, ids, 3, at, &err),
              INBOX_OK);
    CHECK_INT(at[0].org_seq, 42);
    CHECK_STR(at[0].epoch, "a1b2c3d4e5f60708");
    CHECK_INT(at[1].org_seq, 0);
    CHECK_INT(at[2].org_seq, 0);
    CHECK_INT(fake.commands, 1);
    golden_check(&fake, "stream_positions");

    fake_close(&fake, store);
}

static const char  read_conversation[] =
    "{\"ok\": 1, \"value\": {\"_id\": " OID(CONV_ID) ", \"org_id\": "
    OID(ORG_ID) ", \"contact\": {\"id\": " OID(CONTACT_ID) ", \"name\":"
    " \"Ann Lee\", \"phone\": \"+15551230001\", \"opted_out\": false},"
    " \"last_message\": {\"id\": " OID(MSG_ID) ", \"direction\": \"inbound\","
    " \"preview\": \"Is Tuesday ok?\", \"at\": " DATE(NOW) "},"
    " \"last_activity_at\": " DATE(NOW) ", \"unread_count\":"
    " {\"$numberLong\": \"0\"}, \"last_read_at\": " DATE(NOW) ","
    " \"archived\": false, \"starred\": false}}";

static const char  read_org[] =
    "{\"ok\": 1, \"value\": {\"_id\": " OID(ORG_ID) ", \"seq\":"
    " {\"$numberLong\": \"14\"}, \"epoch\": \"a1b2c3d4e5f60708\"}}";


/* The thread as found before the read: two unread. */
static const char  unread_conversation[] = CURSOR(
    "{\"_id\": " OID(CONV_ID) ", \"org_id\": " OID(ORG_ID) ", \"contact\":"
    " {\"id\": " OID(CONTACT_ID) ", \"name\": \"Ann Lee\", \"phone\":"
    " \"+15551230001\", \"opted_out\": false}, \"last_message\": {\"id\": "
    OID(MSG_ID) ", \"direction\": \"inbound\", \"preview\": \"Is Tuesday"
    " ok?\", \"at\": " DATE(NOW) "}, \"last_activity_at\": " DATE(NOW) ","
    " \"unread_count\": {\"$numberLong\": \"2\"}, \"archived\": false,"
    " \"starred\": false}");


TEST(conversation_read_changes_an_unread_thread)
{
    fake_t                fake;
    inbox_error_t         err;
    inbox_store_t        *store;
    inbox_event_list_t    events;
    inbox_conversation_t  conversation;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    fake.replies[0] = unread_conversation;
    fake.replies[1] = read_conversation;
    fake.replies[2] = read_org;
    fake.replies[3] = CURSOR("{\"_id\": null, \"total\": 4}");

    CHECK_INT(inbox_store_conversation_act(store, ORG_ID, CONV_ID,
                                           INBOX_ACTION_READ, &conversation,
                                           &events, &err), INBOX_OK);
    golden_check(&fake, "conversation_mark_read");

    CHECK_STR(conversation.id, CONV_ID);
    CHECK_STR(conversation.contact.name, "Ann Lee");
    CHECK_INT(conversation.unread_count, 0);
    inbox_conversation_free(&conversation);

    /* Two events numbered from the reserved block 13..14. */
    CHECK_INT(events.count, 2);
    if (events.count == 2) {
        CHECK_STR(events.items[0].org_id, ORG_ID);
        CHECK_INT(events.items[0].org_seq, 13);
        CHECK_INT(events.items[1].org_seq, 14);
        CHECK(strstr(events.items[0].json, "\"conversation.updated\"")
              != NULL);
        CHECK(strstr(events.items[0].json, "\"unread_count\":0") != NULL);
        CHECK(strstr(events.items[0].json, "a1b2c3d4e5f60708") != NULL);
        CHECK(strstr(events.items[1].json, "\"unread.total\"") != NULL);
        CHECK(strstr(events.items[1].json, "\"count\":4") != NULL);
        CHECK(!log_has(&fake, "\"frame\""));
    }

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


TEST(conversation_read_of_a_read_thread_writes_nothing)
{
    fake_t                fake;
    inbox_error_t         err;
    inbox_store_t        *store;
    inbox_event_list_t    events;
    inbox_conversation_t  conversation;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    /* Read already: found, and nothing more is sent. */
    fake.replies[0] = list_page;

    CHECK_INT(inbox_store_conversation_act(store, ORG_ID, CONV_ID,
                                           INBOX_ACTION_READ, &conversation,
                                           &events, &err), INBOX_OK);
    golden_check(&fake, "conversation_mark_read_unchanged");
    CHECK_INT(fake.commands, 1);
    CHECK(!log_has(&fake, "\"findAndModify\""));
    CHECK(!log_has(&fake, "\"events\""));
    CHECK_INT(events.count, 0);
    CHECK_STR(conversation.id, CONV_ID);
    CHECK_STR(conversation.contact.name, "Ann Lee");
    inbox_conversation_free(&conversation);

    /* Another organization's thread: the org-scoped find has none. */
    fake_reset(&fake);
    CHECK_INT(inbox_store_conversation_act(store, ORG_ID, CONV2_ID,
                                           INBOX_ACTION_READ, &conversation,
                                           &events, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(fake.commands, 1);
    CHECK(!log_has(&fake, "\"events\""));
    inbox_conversation_free(&conversation);

    /* A malformed id asks the server nothing. */
    fake_reset(&fake);
    CHECK_INT(inbox_store_conversation_act(store, ORG_ID, "12",
                                           INBOX_ACTION_READ, &conversation,
                                           &events, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(fake.commands, 0);
    CHECK_INT(events.count, 0);
    inbox_conversation_free(&conversation);

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


/* Archiving an unread thread moves the total: two events; starring a
 * thread does not: one event, and no aggregate. */
TEST(conversation_archive_and_star)
{
    fake_t                fake;
    inbox_error_t         err;
    inbox_store_t        *store;
    inbox_event_list_t    events;
    inbox_conversation_t  conversation;

    static const char     archived[] =
        "{\"ok\": 1, \"value\": {\"_id\": " OID(CONV_ID) ", \"org_id\": "
        OID(ORG_ID) ", \"contact\": {\"id\": " OID(CONTACT_ID) ", \"name\":"
        " \"Ann Lee\", \"phone\": \"+15551230001\", \"opted_out\": false},"
        " \"last_message\": null, \"last_activity_at\": " DATE(NOW) ","
        " \"unread_count\": {\"$numberLong\": \"2\"}, \"archived\": true,"
        " \"starred\": false}}";
    static const char     starred[] =
        "{\"ok\": 1, \"value\": {\"_id\": " OID(CONV_ID) ", \"org_id\": "
        OID(ORG_ID) ", \"contact\": {\"id\": " OID(CONTACT_ID) ", \"name\":"
        " \"Ann Lee\", \"phone\": \"+15551230001\", \"opted_out\": false},"
        " \"last_message\": null, \"last_activity_at\": " DATE(NOW) ","
        " \"unread_count\": {\"$numberLong\": \"2\"}, \"archived\": false,"
        " \"starred\": true}}";

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    fake.replies[0] = unread_conversation;
    fake.replies[1] = archived;
    fake.replies[2] = read_org;
    fake.replies[3] = CURSOR("{\"_id\": null, \"total\": 1}");

    CHECK_INT(inbox_store_conversation_act(store, ORG_ID, CONV_ID,
                                           INBOX_ACTION_ARCHIVE,
                                           &conversation, &events, &err),
              INBOX_OK);
    golden_check(&fake, "conversation_archive");
    CHECK_INT(conversation.archived, 1);
    inbox_conversation_free(&conversation);
    CHECK_INT(events.count, 2);
    if (events.count == 2) {
        CHECK(strstr(events.items[0].json, "\"archived\":true") != NULL);
        CHECK(strstr(events.items[1].json, "\"count\":1") != NULL);
    }
    inbox_event_list_free(&events);

    fake_reset(&fake);
    fake.replies[0] = unread_conversation;
    fake.replies[1] = starred;
    fake.replies[2] = read_org;

    CHECK_INT(inbox_store_conversation_act(store, ORG_ID, CONV_ID,
                                           INBOX_ACTION_STAR, &conversation,
                                           &events, &err), INBOX_OK);
    golden_check(&fake, "conversation_star");
    CHECK_INT(conversation.starred, 1);
    inbox_conversation_free(&conversation);
    CHECK_INT(events.count, 1);
    CHECK(!log_has(&fake, "\"aggregate\""));
    if (events.count == 1) {
        CHECK_INT(events.items[0].org_seq, 14);
        CHECK(strstr(events.items[0].json, "\"starred\":true") != NULL);
    }

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


/* A concurrent change between the find and the write: read again. */
TEST(conversation_act_reads_again_after_a_concurrent_change)
{
    fake_t                fake;
    inbox_error_t         err;
    inbox_store_t        *store;
    inbox_event_list_t    events;
    inbox_conversation_t  conversation;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    fake.replies[0] = unread_conversation;
    fake.replies[1] = "{\"ok\": 1, \"value\": null}";
    fake.replies[2] = unread_conversation;
    fake.replies[3] = read_conversation;
    fake.replies[4] = read_org;
    fake.replies[5] = CURSOR("{\"_id\": null, \"total\": 4}");

    CHECK_INT(inbox_store_conversation_act(store, ORG_ID, CONV_ID,
                                           INBOX_ACTION_READ, &conversation,
                                           &events, &err), INBOX_OK);
    CHECK_INT(fake.commands, 7);
    CHECK_INT(events.count, 2);
    CHECK_INT(conversation.unread_count, 0);
    inbox_conversation_free(&conversation);

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


/*
 * Accounts and sessions (store_mongo_users.c, store_mongo_sessions.c)
 */

#define OTHER_ORG_ID    "64f1a0000000000000000002"


TEST(orgs_list_oldest_first)
{
    fake_t             fake;
    inbox_error_t      err;
    inbox_store_t     *store;
    inbox_org_list_t   list;

    store = fake_open(&fake);

    fake.replies[0] = CURSOR(
        "{\"_id\": " OID(ORG_ID) ", \"name\": \"Acme\", \"timezone\": "
        "\"America/Chicago\", \"created_at\": " DATE(EARLIER) "},"
        "{\"_id\": " OID(OTHER_ORG_ID) ", \"name\": \"Other\", "
        "\"timezone\": \"UTC\", \"created_at\": " DATE(NOW) "}");
    CHECK_INT(inbox_store_orgs_list(store, &list, &err), INBOX_OK);
    golden_check(&fake, "orgs_list");
    CHECK_INT(list.count, 2);
    CHECK_STR(list.items[0].id, ORG_ID);
    CHECK_STR(list.items[0].name, "Acme");
    CHECK_STR(list.items[0].timezone, "America/Chicago");
    CHECK_INT(list.items[1].created_at, 1767225600000LL);
    inbox_org_list_free(&list);

    fake_close(&fake, store);
}


TEST(account_get_reads_the_org_and_its_own_user)
{
    fake_t            fake;
    inbox_error_t     err;
    inbox_store_t    *store;
    inbox_account_t   account;

    store = fake_open(&fake);

    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) ", \"name\": "
                             "\"Acme\", \"timezone\": \"UTC\"}");
    fake.replies[1] = CURSOR("{\"_id\": " OID(USER_ID) ", \"org_id\": "
                             OID(ORG_ID) ", \"email\": \"pat@example.com\","
                             " \"role\": \"billing\"}");
    CHECK_INT(inbox_store_account_get(store, ORG_ID, USER_ID, &account,
                                      &err), INBOX_OK);
    golden_check(&fake, "account_get");
    CHECK_STR(account.org.name, "Acme");
    CHECK(account.has_user);
    CHECK_STR(account.user.email, "pat@example.com");
    CHECK_INT(account.user.role, INBOX_ROLE_BILLING);
    inbox_account_free(&account);

    /* the filter names the organization: another's user is not found */
    fake_reset(&fake);
    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) ", \"name\": "
                             "\"Acme\"}");
    CHECK_INT(inbox_store_account_get(store, ORG_ID, USER_ID, &account,
                                      &err), INBOX_ERR_NOT_FOUND);
    inbox_account_free(&account);

    /* no user asked for: one command */
    fake_reset(&fake);
    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) ", \"name\": "
                             "\"Acme\"}");
    CHECK_INT(inbox_store_account_get(store, ORG_ID, "", &account, &err),
              INBOX_OK);
    CHECK(!account.has_user);
    CHECK_INT(fake.commands, 1);
    inbox_account_free(&account);

    /* an id is spelt one way, as stored: the same in capitals names no
     * one (a route comparing it with the caller's own would take it for
     * another's) */
    fake_reset(&fake);
    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) ", \"name\": "
                             "\"Acme\"}");
    CHECK_INT(inbox_store_account_get(store, ORG_ID,
                                      "64F1A0000000000000000E01", &account,
                                      &err), INBOX_ERR_NOT_FOUND);
    CHECK(!log_has(&fake, "\"users\""));
    inbox_account_free(&account);

    fake_close(&fake, store);
}


TEST(user_find_by_email_asks_in_lower_case)
{
    char           *hash;
    fake_t          fake;
    inbox_user_t    user;
    inbox_error_t   err;
    inbox_store_t  *store;

    store = fake_open(&fake);

    fake.replies[0] = CURSOR("{\"_id\": " OID(USER_ID) ", \"org_id\": "
                             OID(ORG_ID) ", \"email\": \"pat@example.com\","
                             " \"role\": \"member\", \"password_hash\": "
                             "\"$argon2id$v=19$x\"}");
    CHECK_INT(inbox_store_user_find_by_email(store, "Pat@Example.COM", &user,
                                             &hash, &err), INBOX_OK);
    golden_check(&fake, "user_find_by_email");
    CHECK_STR(user.id, USER_ID);
    CHECK_STR(user.org_id, ORG_ID);
    CHECK_INT(user.role, INBOX_ROLE_MEMBER);
    CHECK_STR(hash, "$argon2id$v=19$x");
    free(hash);

    fake_reset(&fake);
    CHECK_INT(inbox_store_user_find_by_email(store, "nobody@example.com",
                                             &user, &hash, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK(hash == NULL);

    /* not an address: the server is not asked */
    fake_reset(&fake);
    CHECK_INT(inbox_store_user_find_by_email(store, "nobody", &user, &hash,
                                             &err), INBOX_ERR_NOT_FOUND);
    CHECK_INT(fake.commands, 0);

    fake_close(&fake, store);
}


TEST(users_list_of_one_organization)
{
    fake_t              fake;
    inbox_error_t       err;
    inbox_store_t      *store;
    inbox_user_list_t   list;

    store = fake_open(&fake);

    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) "}");
    fake.replies[1] = CURSOR("{\"_id\": " OID(USER_ID) ", \"org_id\": "
                             OID(ORG_ID) ", \"email\": \"pat@example.com\","
                             " \"role\": \"billing\", \"created_at\": "
                             DATE(NOW) "}");
    CHECK_INT(inbox_store_users_list(store, ORG_ID, &list, &err), INBOX_OK);
    golden_check(&fake, "users_list");
    CHECK_INT(list.count, 1);
    CHECK_STR(list.items[0].email, "pat@example.com");
    CHECK_INT(list.items[0].role, INBOX_ROLE_BILLING);
    inbox_user_list_free(&list);

    fake_reset(&fake);
    CHECK_INT(inbox_store_users_list(store, ORG_ID, &list, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(fake.commands, 1);

    fake_close(&fake, store);
}


TEST(user_password_set_ends_the_users_sessions)
{
    fake_t               fake;
    inbox_error_t        err;
    inbox_store_t       *store;
    char                 id[INBOX_ID_MAX];
    inbox_event_list_t   events;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    fake.replies[0] = "{\"ok\": 1, \"value\": {\"_id\": " OID(USER_ID) "}}";
    fake.replies[1] = "{\"ok\": 1, \"n\": 2}";
    fake.replies[2] = SEQ_RESERVED;
    CHECK_INT(inbox_store_user_password_set(store, ORG_ID, "PAT@example.com",
                                            NULL, "$argon2id$v=19$new", id,
                                            &events, &err),
              INBOX_OK);
    golden_check(&fake, "user_password_set");
    CHECK_STR(id, USER_ID);
    /* which closes the user's WebSockets */
    CHECK_INT(events.count, 1);
    CHECK_STR(events.items[0].type, "user.signed_out");
    CHECK(strstr(events.items[0].json, USER_ID) != NULL);
    inbox_event_list_free(&events);

    /* no such user in an organization that exists: nothing deleted */
    fake_reset(&fake);
    fake.replies[1] = CURSOR("{\"_id\": " OID(ORG_ID) "}");
    CHECK_INT(inbox_store_user_password_set(store, ORG_ID, "sam@other.test",
                                            NULL, "$argon2id$v=19$new", id,
                                            NULL, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_STR(err.field, "email");
    CHECK(!log_has(&fake, "\"delete\""));

    /* nor in one that does not */
    fake_reset(&fake);
    CHECK_INT(inbox_store_user_password_set(store, ORG_ID, "sam@other.test",
                                            NULL, "$argon2id$v=19$new", id,
                                            NULL, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_STR(err.field, "");

    /* one's own change, over the hash verified only: another set since
     * (the user is still there), nothing deleted */
    fake_reset(&fake);
    fake.replies[1] = CURSOR("{\"_id\": " OID(USER_ID) "}");
    CHECK_INT(inbox_store_user_password_set(store, ORG_ID, "pat@example.com",
                                            "$argon2id$v=19$old",
                                            "$argon2id$v=19$new", id, NULL,
                                            &err), INBOX_ERR_CONFLICT);
    golden_check(&fake, "user_password_change_conflict");
    CHECK(!log_has(&fake, "\"delete\""));

    fake_close(&fake, store);
}


#define TEAM_USER(role)                                                       \
    "{\"ok\": 1, \"value\": {\"_id\": " OID(USER_ID) ", \"org_id\": "         \
    OID(ORG_ID) ", \"email\": \"pat@example.com\", \"role\": \"" role "\","  \
    " \"password_hash\": \"$argon2id$v=19$x\", \"created_at\": " DATE(NOW)   \
    "}}"


TEST(user_role_set_keeps_a_billing_contact)
{
    fake_t          fake;
    inbox_user_t    user;
    inbox_error_t   err;
    inbox_store_t  *store;

    store = fake_open(&fake);

    /* a billing contact steps down while another stays */
    fake.replies[0] = TEAM_USER("billing");
    fake.replies[1] = CURSOR("{\"_id\": " OID(USER2_ID) "}");
    fake.replies[2] = SEQ_RESERVED;
    CHECK_INT(inbox_store_user_role_set(store, ORG_ID, USER_ID,
                                        INBOX_ROLE_MEMBER, &user, NULL, &err),
              INBOX_OK);
    golden_check(&fake, "user_role_set");
    CHECK_STR(user.id, USER_ID);
    CHECK_STR(user.email, "pat@example.com");
    CHECK_INT(user.role, INBOX_ROLE_MEMBER);
    CHECK_INT(user.created_at, 1767225600000LL);

    /* the last one: the change is undone */
    fake_reset(&fake);
    fake.replies[0] = TEAM_USER("billing");
    CHECK_INT(inbox_store_user_role_set(store, ORG_ID, USER_ID,
                                        INBOX_ROLE_MEMBER, &user, NULL, &err),
              INBOX_ERR_CONFLICT);
    golden_check(&fake, "user_role_set_last_billing");

    /* a member made billing: nothing to look at */
    fake_reset(&fake);
    fake.replies[0] = TEAM_USER("member");
    fake.replies[1] = SEQ_RESERVED;
    CHECK_INT(inbox_store_user_role_set(store, ORG_ID, USER_ID,
                                        INBOX_ROLE_BILLING, &user, NULL, &err),
              INBOX_OK);
    CHECK_INT(fake.commands, 3);      /* the user, then its event */
    CHECK_INT(user.role, INBOX_ROLE_BILLING);

    /* no such user on the team, in an organization that exists */
    fake_reset(&fake);
    fake.replies[1] = CURSOR("{\"_id\": " OID(ORG_ID) "}");
    CHECK_INT(inbox_store_user_role_set(store, ORG_ID, USER_ID,
                                        INBOX_ROLE_BILLING, &user, NULL, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK(strstr(err.message, "no user") != NULL);

    fake_reset(&fake);
    CHECK_INT(inbox_store_user_role_set(store, ORG_ID, "nonsense",
                                        INBOX_ROLE_BILLING, &user, NULL, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(fake.commands, 0);

    fake_close(&fake, store);
}


TEST(user_remove_marks_the_user_then_ends_sessions_and_tokens)
{
    fake_t               fake;
    inbox_error_t        err;
    inbox_store_t       *store;
    inbox_event_list_t   events;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    fake.replies[0] = TEAM_USER("member");
    fake.replies[1] = SEQ_RESERVED;
    CHECK_INT(inbox_store_user_remove(store, ORG_ID, USER_ID, &events, &err),
              INBOX_OK);
    golden_check(&fake, "user_remove");
    CHECK_INT(events.count, 1);
    CHECK_STR(events.items[0].type, "user.removed");
    CHECK(strstr(events.items[0].json, USER_ID) != NULL);
    inbox_event_list_free(&events);

    /* the last billing contact: back on the team, password and all */
    fake_reset(&fake);
    fake.replies[0] = TEAM_USER("billing");
    CHECK_INT(inbox_store_user_remove(store, ORG_ID, USER_ID, NULL, &err),
              INBOX_ERR_CONFLICT);
    golden_check(&fake, "user_remove_last_billing");
    CHECK(!log_has(&fake, "\"delete\""));

    /* never there */
    fake_reset(&fake);
    fake.replies[2] = CURSOR("{\"_id\": " OID(ORG_ID) "}");
    CHECK_INT(inbox_store_user_remove(store, ORG_ID, USER_ID, NULL, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK(!log_has(&fake, "\"delete\""));

    /* removed already, perhaps by a removal that failed after its mark:
     * what it left is ended (its WebSockets closed first), and the user
     * is not on the team */
    fake_reset(&fake);
    fake.replies[1] = CURSOR("{\"_id\": " OID(USER_ID) "}");
    fake.replies[2] = SEQ_RESERVED;
    fake.replies[5] = CURSOR("{\"_id\": " OID(ORG_ID) "}");
    CHECK_INT(inbox_store_user_remove(store, ORG_ID, USER_ID, &events, &err),
              INBOX_ERR_NOT_FOUND);
    golden_check(&fake, "user_remove_finished_by_its_retry");
    CHECK_INT(events.count, 1);
    CHECK_STR(events.items[0].type, "user.removed");
    inbox_event_list_free(&events);

    fake_close(&fake, store);
}


TEST(user_password_rehash_replaces_only_the_hash_it_read)
{
    int             replaced;
    fake_t          fake;
    inbox_error_t   err;
    inbox_store_t  *store;

    store = fake_open(&fake);

    fake.replies[0] = "{\"ok\": 1, \"n\": 1, \"nModified\": 1}";
    CHECK_INT(inbox_store_user_password_rehash(store, ORG_ID, USER_ID,
                                               "$argon2id$v=19$old",
                                               "$argon2id$v=19$new",
                                               &replaced, &err), INBOX_OK);
    golden_check(&fake, "user_password_rehash");
    CHECK_INT(replaced, 1);

    /* another hash by now, or no such user: nothing matched */
    fake_reset(&fake);
    fake.replies[0] = "{\"ok\": 1, \"n\": 0, \"nModified\": 0}";
    CHECK_INT(inbox_store_user_password_rehash(store, ORG_ID, USER_ID,
                                               "$argon2id$v=19$old",
                                               "$argon2id$v=19$new",
                                               &replaced, &err), INBOX_OK);
    CHECK_INT(replaced, 0);

    /* an id that names nobody: nothing sent */
    fake_reset(&fake);
    CHECK_INT(inbox_store_user_password_rehash(store, ORG_ID, "nonsense",
                                               "$argon2id$v=19$old",
                                               "$argon2id$v=19$new",
                                               &replaced, &err), INBOX_OK);
    CHECK_INT(replaced, 0);
    CHECK_INT(fake.commands, 0);

    fake_close(&fake, store);
}


TEST(session_create_needs_the_organizations_user)
{
    fake_t          fake;
    inbox_error_t   err;
    inbox_store_t  *store;

    store = fake_open(&fake);

    fake.replies[0] = CURSOR("{\"_id\": " OID(USER_ID) "}");
    CHECK_INT(inbox_store_session_create(store, ORG_ID, USER_ID, "5e55", &err),
              INBOX_OK);
    CHECK_INT(fake.commands, 2);
    /* the times are the real clock's (session.h): check the rest */
    CHECK(log_has(&fake, "\"insert\" : \"sessions\""));
    CHECK(log_has(&fake, "\"session_hash\" : \"5e55\""));
    CHECK(log_has(&fake, "\"expires_at\" : { \"$date\""));

    fake_reset(&fake);
    CHECK_INT(inbox_store_session_create(store, ORG_ID, USER_ID, "5e55", &err),
              INBOX_ERR_NOT_FOUND);
    CHECK(!log_has(&fake, "\"insert\""));

    fake_close(&fake, store);
}


/* A sign-in's session is made only for a user still on the team with
 * the password it checked, looked at again after the insert: a new
 * password set in between (the user set, then the sessions deleted)
 * is seen then, and the session deleted. */
TEST(session_sign_in_needs_the_password_it_checked)
{
    fake_t          fake;
    inbox_error_t   err;
    inbox_store_t  *store;

    store = fake_open(&fake);

    fake.replies[0] = CURSOR("{\"_id\": " OID(USER_ID) "}");
    fake.replies[2] = CURSOR("{\"_id\": " OID(USER_ID) "}");
    CHECK_INT(inbox_store_session_sign_in(store, ORG_ID, USER_ID, "$argon2",
                                          "5e55", &err), INBOX_OK);
    CHECK_INT(fake.commands, 3);
    CHECK(log_has(&fake, "\"password_hash\" : \"$argon2\""));
    CHECK(log_has(&fake, "\"removed_at\" : { \"$exists\" : false }"));

    /* changed before the look: nothing inserted */
    fake_reset(&fake);
    CHECK_INT(inbox_store_session_sign_in(store, ORG_ID, USER_ID, "$argon2",
                                          "5e55", &err),
              INBOX_ERR_UNAUTHENTICATED);
    CHECK(!log_has(&fake, "\"insert\""));

    /* changed between the look and the insert: the session deleted */
    fake_reset(&fake);
    fake.replies[0] = CURSOR("{\"_id\": " OID(USER_ID) "}");
    CHECK_INT(inbox_store_session_sign_in(store, ORG_ID, USER_ID, "$argon2",
                                          "5e55", &err),
              INBOX_ERR_UNAUTHENTICATED);
    CHECK_INT(fake.commands, 4);
    CHECK(log_has(&fake, "\"delete\" : \"sessions\""));

    fake_close(&fake, store);
}


TEST(session_find_checks_times_and_records_a_stale_use)
{
    char               session[512];
    fake_t             fake;
    int64_t            now;
    inbox_error_t      err;
    inbox_store_t     *store;
    inbox_principal_t  who;

    store = fake_open(&fake);
    now = inbox_now_ms();

    /* used a moment ago: found, nothing written */
    snprintf(session, sizeof(session),
             CURSOR("{\"_id\": " OID(GEN_1) ", \"org_id\": " OID(ORG_ID) ","
                    " \"user_id\": " OID(USER_ID) ", \"created_at\": "
                    "{\"$date\": {\"$numberLong\": \"%lld\"}},"
                    " \"last_seen_at\": {\"$date\": {\"$numberLong\": "
                    "\"%lld\"}}, \"expires_at\": {\"$date\": "
                    "{\"$numberLong\": \"%lld\"}}}"),
             (long long) now - 1000, (long long) now - 1000,
             (long long) now + 3600000);
    fake.replies[0] = session;
    fake.replies[1] = CURSOR("{\"_id\": " OID(USER_ID) ", \"role\": "
                             "\"billing\"}");
    CHECK_INT(inbox_store_session_find(store, "5e55", &who, &err), INBOX_OK);
    golden_check(&fake, "session_find");
    CHECK_STR(who.org_id, ORG_ID);
    CHECK_STR(who.user_id, USER_ID);
    CHECK_STR(who.session_id, GEN_1);
    CHECK_INT(who.role, INBOX_ROLE_BILLING);

    /* last used two minutes ago: the use is recorded */
    fake_reset(&fake);
    snprintf(session, sizeof(session),
             CURSOR("{\"_id\": " OID(GEN_1) ", \"org_id\": " OID(ORG_ID) ","
                    " \"user_id\": " OID(USER_ID) ", \"created_at\": "
                    "{\"$date\": {\"$numberLong\": \"%lld\"}},"
                    " \"last_seen_at\": {\"$date\": {\"$numberLong\": "
                    "\"%lld\"}}, \"expires_at\": {\"$date\": "
                    "{\"$numberLong\": \"%lld\"}}}"),
             (long long) now - 120000, (long long) now - 120000,
             (long long) now + 3600000);
    fake.replies[0] = session;
    fake.replies[1] = CURSOR("{\"_id\": " OID(USER_ID) ", \"role\": "
                             "\"member\"}");
    CHECK_INT(inbox_store_session_find(store, "5e55", &who, &err), INBOX_OK);
    CHECK_INT(fake.commands, 3);
    CHECK(log_has(&fake, "\"update\" : \"sessions\""));
    CHECK_INT(who.role, INBOX_ROLE_MEMBER);

    /* idle past its expiry: refused, nothing written */
    fake_reset(&fake);
    snprintf(session, sizeof(session),
             CURSOR("{\"_id\": " OID(GEN_1) ", \"org_id\": " OID(ORG_ID) ","
                    " \"user_id\": " OID(USER_ID) ", \"created_at\": "
                    "{\"$date\": {\"$numberLong\": \"%lld\"}},"
                    " \"last_seen_at\": {\"$date\": {\"$numberLong\": "
                    "\"%lld\"}}, \"expires_at\": {\"$date\": "
                    "{\"$numberLong\": \"%lld\"}}}"),
             (long long) now - 13 * 3600000LL,
             (long long) now - 13 * 3600000LL,
             (long long) now - 3600000LL);
    fake.replies[0] = session;
    fake.replies[1] = CURSOR("{\"_id\": " OID(USER_ID) ", \"role\": "
                             "\"member\"}");
    CHECK_INT(inbox_store_session_find(store, "5e55", &who, &err),
              INBOX_ERR_UNAUTHENTICATED);
    CHECK_STR(who.org_id, "");
    CHECK(!log_has(&fake, "\"update\""));

    /* unknown, or its user gone */
    fake_reset(&fake);
    CHECK_INT(inbox_store_session_find(store, "nope", &who, &err),
              INBOX_ERR_UNAUTHENTICATED);
    CHECK(strstr(err.message, "sign in again") != NULL);

    fake_close(&fake, store);
}


TEST(session_delete_and_purge)
{
    size_t               removed;
    fake_t               fake;
    inbox_error_t        err;
    inbox_store_t       *store;
    inbox_event_list_t   events;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    /* a logout: the session goes, then its event closes its sockets */
    fake.replies[0] = "{\"ok\": 1, \"value\": {\"_id\": " OID(GEN_3) ","
                      " \"org_id\": " OID(ORG_ID) "}}";
    fake.replies[1] = SEQ_RESERVED;
    CHECK_INT(inbox_store_session_delete(store, "5e55", &events, &err),
              INBOX_OK);
    golden_check(&fake, "session_delete");
    CHECK_INT(events.count, 1);
    if (events.count == 1) {
        CHECK_STR(events.items[0].type, "session.ended");
        CHECK_STR(events.items[0].org_id, ORG_ID);
        CHECK(strstr(events.items[0].json, "\"session_id\":\"" GEN_3 "\"")
              != NULL);
    }
    inbox_event_list_free(&events);

    /* not there (ended already): nothing else is written */
    fake_reset(&fake);
    CHECK_INT(inbox_store_session_delete(store, "5e55", &events, &err),
              INBOX_OK);
    CHECK_INT(fake.commands, 1);
    CHECK_INT(events.count, 0);

    fake_reset(&fake);
    fake.replies[0] = "{\"ok\": 1, \"n\": 3}";
    CHECK_INT(inbox_store_sessions_purge(store, 1767225600000LL, &removed,
                                         &err), INBOX_OK);
    golden_check(&fake, "sessions_purge");
    CHECK_INT(removed, 3);

    fake_close(&fake, store);
}



/* media: uploads and the copies of inbound MMS images */

#define MEDIA_FILE  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.png"
/* a purge's media directory with no files: each one's unlink finds it
 * gone already */
#define NO_DIR      "/nonexistent/inbox-test-media"
#define MEDIA_ID    "64f1a0000000000000000f01"
#define MEDIA2_ID   "64f1a0000000000000000f02"

static const char  media_org[] = CURSOR("{\"_id\": " OID(ORG_ID) "}");


TEST(media_add)
{
    fake_t                fake;
    inbox_error_t         err;
    inbox_store_t        *store;
    inbox_media_record_t  m;

    store = fake_open(&fake);

    memset(&m, 0, sizeof(m));
    strcpy(m.file, MEDIA_FILE);
    strcpy(m.content_type, "image/png");
    m.bytes = 1234;

    fake.replies[0] = media_org;
    CHECK_INT(inbox_store_media_add(store, ORG_ID, &m, &err), INBOX_OK);
    CHECK_STR(m.id, GEN_1);
    golden_check(&fake, "media_add");

    /* no such organization: nothing inserted */
    fake_reset(&fake);
    CHECK_INT(inbox_store_media_add(store, ORG_ID, &m, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(fake.commands, 1);

    fake_close(&fake, store);
}


/* The media of a message or campaign: the upload MEDIA_FILE, whose id
 * is MEDIA_ID (each keeps it). */
static void
media_upload(inbox_media_t *media)
{
    memset(media, 0, sizeof(inbox_media_t));
    strcpy(media->url, "https://inbox.test/media/" MEDIA_FILE);
    strcpy(media->content_type, "image/png");
    strcpy(media->file, MEDIA_FILE);
    media->state = INBOX_MEDIA_STORED;
    strcpy(media->upload_id, MEDIA_ID);
}


#define MEDIA_NOT_MATCHED  "{\"ok\": 1, \"n\": 0, \"nModified\": 0}"


#define MEDIA2_FILE  "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB.png"
/* the purge's window: the uploads of MEDIA_ID and MEDIA2_ID */
#define MEDIA_DUE_BOTH                                                      \
    CURSOR("{\"_id\": " OID(MEDIA_ID) ", \"file\": \"" MEDIA_FILE "\"},"  \
           "{\"_id\": " OID(MEDIA2_ID) ", \"file\": \"" MEDIA2_FILE "\"}")
/* a findAndModify's mark on the upload of file (the document before) */
#define MEDIA_MARKED(file)                                                  \
    "{\"ok\": 1, \"value\": {\"_id\": " OID(MEDIA2_ID) ", \"file\": \""    \
    file "\"}}"
#define MEDIA_NOT_PRIMARY  "{\"ok\": 0, \"code\": 10107, \"errmsg\":"        \
                           " \"not primary\"}"


/*
 * The purge: those a round left marked in one find, then the window's
 * oldest uploads in one find, a message naming each looked for, and the
 * campaigns naming any in one find; those named are attached again in
 * one update, the others marked one at a time, each only while in the
 * window still; then, their files gone, the records of the marked ones
 * in one delete.
 */
TEST(media_purge_marks_the_uploads_nothing_names_then_deletes_them)
{
    char            files[INBOX_MEDIA_PURGE_MAX][INBOX_MEDIA_FILE_MAX];
    size_t          removed;
    fake_t          fake;
    inbox_error_t   err;
    inbox_store_t  *store;

    store = fake_open(&fake);

    /* none left marked; the first a reply names: attached again; the
     * second nothing names: marked, its file unlinked, its record
     * deleted */
    fake.replies[1] = MEDIA_DUE_BOTH;
    fake.replies[2] = CURSOR("{\"_id\": " OID(GEN_2) "}");
    fake.replies[6] = MEDIA_MARKED(MEDIA2_FILE);
    CHECK_INT(inbox_store_media_purge(store,
                                      1767225600000LL
                                      + INBOX_MEDIA_KEEP_UNUSED_MS,
                                      INBOX_MEDIA_KEEP_UNUSED_MS,
                                      INBOX_MEDIA_PURGE_MAX, NO_DIR, files,
                                      &removed, &err), INBOX_OK);
    CHECK_INT(removed, 1);
    CHECK_STR(files[0], MEDIA2_FILE);
    CHECK_INT(fake.commands, 8);
    golden_check(&fake, "media_purge");

    /* the second a campaign names (a draft's or a sent one's): both
     * attached again, none marked */
    fake_reset(&fake);
    fake.replies[1] = MEDIA_DUE_BOTH;
    fake.replies[2] = CURSOR("{\"_id\": " OID(GEN_2) "}");
    fake.replies[4] = CURSOR("{\"_id\": " OID(GEN_3) ", \"media\": ["
                             "{\"file\": \"" MEDIA2_FILE "\"}]}");
    CHECK_INT(inbox_store_media_purge(store, 1767225600000LL, 0,
                                      INBOX_MEDIA_PURGE_MAX, NO_DIR, files,
                                      &removed, &err), INBOX_OK);
    CHECK_INT(removed, 0);
    CHECK_INT(fake.commands, 6);
    golden_check(&fake, "media_purge_named");

    /* none due: two finds */
    fake_reset(&fake);
    CHECK_INT(inbox_store_media_purge(store, 1767225600000LL, 0,
                                      INBOX_MEDIA_PURGE_MAX, NO_DIR, files,
                                      &removed, &err), INBOX_OK);
    CHECK_INT(removed, 0);
    CHECK_INT(fake.commands, 2);

    /* one a round left marked (it died before its deletes): its file
     * unlinked again and its record deleted first, the window then read
     * for the rest */
    fake_reset(&fake);
    fake.replies[0] = CURSOR("{\"_id\": " OID(MEDIA_ID) ", \"file\": \""
                             MEDIA_FILE "\"}");
    CHECK_INT(inbox_store_media_purge(store, 1767225600000LL, 0,
                                      INBOX_MEDIA_PURGE_MAX, NO_DIR, files,
                                      &removed, &err), INBOX_OK);
    CHECK_INT(removed, 1);
    CHECK_STR(files[0], MEDIA_FILE);
    CHECK(log_has(&fake, "\"limit\" : { \"$numberLong\" : \"499\" }"));
    CHECK_INT(fake.commands, 3);
    golden_check(&fake, "media_purge_left_marked");

    /* as many left marked as a round takes: no window read */
    fake_reset(&fake);
    fake.replies[0] = CURSOR("{\"_id\": " OID(MEDIA_ID) ", \"file\": \""
                             MEDIA_FILE "\"}");
    CHECK_INT(inbox_store_media_purge(store, 1767225600000LL, 0, 1, NO_DIR,
                                      files, &removed, &err), INBOX_OK);
    CHECK_INT(removed, 1);
    CHECK_INT(fake.commands, 2);

    /* the deletes refused: an error, nothing removed, the record left
     * marked for the next round */
    fake_reset(&fake);
    fake.replies[0] = CURSOR("{\"_id\": " OID(MEDIA_ID) ", \"file\": \""
                             MEDIA_FILE "\"}");
    fake.replies[2] = MEDIA_NOT_PRIMARY;
    CHECK(inbox_store_media_purge(store, 1767225600000LL, 0,
                                  INBOX_MEDIA_PURGE_MAX, NO_DIR, files,
                                  &removed, &err) != INBOX_OK);
    CHECK_INT(removed, 0);
    CHECK_INT(fake.commands, 3);

    /* attached since the window was read: its mark misses it */
    fake_reset(&fake);
    fake.replies[1] = MEDIA_DUE_BOTH;
    fake.replies[6] = MEDIA_MARKED(MEDIA2_FILE);
    CHECK_INT(inbox_store_media_purge(store, 1767225600000LL, 0,
                                      INBOX_MEDIA_PURGE_MAX, NO_DIR, files,
                                      &removed, &err), INBOX_OK);
    CHECK_INT(removed, 1);
    CHECK_STR(files[0], MEDIA2_FILE);
    CHECK_INT(fake.commands, 8);

    /* failing after one is marked: that one is finished (its file, its
     * record), the rest waits for the next round */
    fake_reset(&fake);
    fake.replies[1] = MEDIA_DUE_BOTH;
    fake.replies[5] = MEDIA_MARKED(MEDIA_FILE);
    fake.replies[6] = MEDIA_NOT_PRIMARY;
    CHECK_INT(inbox_store_media_purge(store, 1767225600000LL, 0,
                                      INBOX_MEDIA_PURGE_MAX, NO_DIR, files,
                                      &removed, &err), INBOX_OK);
    CHECK_INT(removed, 1);
    CHECK_STR(files[0], MEDIA_FILE);
    CHECK_INT(fake.commands, 8);

    /* a look that fails: an error, nothing marked */
    fake_reset(&fake);
    fake.replies[1] = MEDIA_DUE_BOTH;
    fake.replies[3] = MEDIA_NOT_PRIMARY;
    CHECK(inbox_store_media_purge(store, 1767225600000LL, 0,
                                  INBOX_MEDIA_PURGE_MAX, NO_DIR, files,
                                  &removed, &err) != INBOX_OK);
    CHECK_INT(removed, 0);
    CHECK_INT(fake.commands, 4);

    fake_reset(&fake);
    fake.replies[1] = MEDIA_DUE_BOTH;
    fake.replies[4] = MEDIA_NOT_PRIMARY;
    CHECK(inbox_store_media_purge(store, 1767225600000LL, 0,
                                  INBOX_MEDIA_PURGE_MAX, NO_DIR, files,
                                  &removed, &err) != INBOX_OK);
    CHECK_INT(removed, 0);
    CHECK_INT(fake.commands, 5);

    /* at most max: the window of one */
    fake_reset(&fake);
    fake.replies[1] = CURSOR("{\"_id\": " OID(MEDIA_ID) ", \"file\": \""
                             MEDIA_FILE "\"}");
    fake.replies[4] = MEDIA_MARKED(MEDIA_FILE);
    CHECK_INT(inbox_store_media_purge(store, 1767225600000LL, 0, 1, NO_DIR,
                                      files, &removed, &err), INBOX_OK);
    CHECK_INT(removed, 1);
    CHECK(log_has(&fake, "\"limit\" : { \"$numberLong\" : \"1\" }"));
    CHECK_INT(fake.commands, 6);

    fake_close(&fake, store);
}


#define MEDIA3_FILE  "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC.jpg"
#define MEDIA4_FILE  "DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD.gif"


/*
 * Which files a record names, for the media directory's sweep: the
 * uploads of the batch in one find, then the messages' and the
 * campaigns' media each in one aggregation that hands back each file
 * named once, whatever the batch's size.
 */
TEST(media_files_named_asks_three_times_a_batch)
{
    char            files[4][INBOX_MEDIA_FILE_MAX];
    unsigned char   named[4];
    fake_t          fake;
    inbox_error_t   err;
    inbox_store_t  *store;

    store = fake_open(&fake);

    strcpy(files[0], MEDIA_FILE);
    strcpy(files[1], MEDIA2_FILE);
    strcpy(files[2], MEDIA3_FILE);
    strcpy(files[3], MEDIA4_FILE);

    /* the first an upload's, the second a message's, the third a
     * campaign's, the fourth nothing's */
    fake.replies[0] = CURSOR("{\"_id\": " OID(MEDIA_ID) ", \"file\": \""
                             MEDIA_FILE "\"}");
    fake.replies[1] = CURSOR("{\"_id\": \"" MEDIA2_FILE "\"}");
    fake.replies[2] = CURSOR("{\"_id\": \"" MEDIA3_FILE "\"}");
    CHECK_INT(inbox_store_media_files_named(store, files, 4, named, &err),
              INBOX_OK);
    CHECK_INT(named[0], 1);
    CHECK_INT(named[1], 1);
    CHECK_INT(named[2], 1);
    CHECK_INT(named[3], 0);
    CHECK_INT(fake.commands, 3);
    golden_check(&fake, "media_files_named");

    /* a look that fails: an error, none named */
    fake_reset(&fake);
    fake.replies[0] = CURSOR("{\"_id\": " OID(MEDIA_ID) ", \"file\": \""
                             MEDIA_FILE "\"}");
    fake.replies[1] = MEDIA_NOT_PRIMARY;
    CHECK(inbox_store_media_files_named(store, files, 4, named, &err)
          != INBOX_OK);
    CHECK_INT(named[0], 0);
    CHECK_INT(fake.commands, 2);

    /* a name media.h never makes: nothing asked */
    fake_reset(&fake);
    strcpy(files[3], "../../etc/passwd");
    CHECK_INT(inbox_store_media_files_named(store, files, 4, named, &err),
              INBOX_ERR_INVALID);
    CHECK_INT(fake.commands, 0);

    fake_close(&fake, store);
}


TEST(media_get_in_one_organization)
{
    fake_t                fake;
    const char           *ids[2] = { MEDIA2_ID, MEDIA_ID };
    inbox_error_t         err;
    inbox_store_t        *store;
    inbox_media_record_t  m[2];

    store = fake_open(&fake);

    fake.replies[0] = CURSOR(
        "{\"_id\": " OID(MEDIA_ID) ", \"org_id\": " OID(ORG_ID) ","
        " \"file\": \"" MEDIA_FILE "\", \"content_type\": \"image/png\","
        " \"bytes\": {\"$numberLong\": \"1234\"},"
        " \"created_at\": " DATE(NOW) "},"
        "{\"_id\": " OID(MEDIA2_ID) ", \"org_id\": " OID(ORG_ID) ","
        " \"file\": \"" MEDIA_FILE "\", \"content_type\": \"image/png\","
        " \"bytes\": {\"$numberLong\": \"99\"},"
        " \"created_at\": " DATE(NOW) "}");
    CHECK_INT(inbox_store_media_get(store, ORG_ID, ids, 2, m, &err),
              INBOX_OK);
    golden_check(&fake, "media_get");
    CHECK_STR(m[0].id, MEDIA2_ID);
    CHECK_INT(m[0].bytes, 99);
    CHECK_STR(m[1].id, MEDIA_ID);
    CHECK_STR(m[1].file, MEDIA_FILE);
    CHECK_INT(m[1].bytes, 1234);

    /* one missing (another organization's): not found */
    fake_reset(&fake);
    fake.replies[0] = CURSOR(
        "{\"_id\": " OID(MEDIA_ID) ", \"file\": \"" MEDIA_FILE "\"}");
    CHECK_INT(inbox_store_media_get(store, ORG_ID, ids, 2, m, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_STR(err.field, "media_ids");
    /* the unknown one is the first left empty, the one found kept */
    CHECK_STR(m[0].id, "");
    CHECK_STR(m[1].file, MEDIA_FILE);

    fake_close(&fake, store);
}


TEST(media_fetch_claim_leases_each_due_image)
{
    fake_t                    fake;
    inbox_error_t             err;
    inbox_store_t            *store;
    inbox_media_fetch_list_t  due;

    store = fake_open(&fake);

    /* one message: its first image stored, its second due, its third
     * leased by another fetcher until later */
    fake.replies[0] = CURSOR(
        "{\"_id\": " OID(MSG_ID) ", \"org_id\": " OID(ORG_ID) ","
        " \"provider\": \"twilio\", \"to\": \"+15550002222\","
        " \"media\": ["
        "{\"url\": \"https://m/0\", \"content_type\": \"image/jpeg\","
        " \"state\": \"stored\", \"file\": \"" MEDIA_FILE "\"},"
        "{\"url\": \"https://m/1\", \"content_type\": \"image/gif\","
        " \"state\": \"pending\", \"fetch_at\": " DATE(EARLIER) ","
        " \"attempts\": 2},"
        "{\"url\": \"https://m/2\", \"content_type\": \"image/gif\","
        " \"state\": \"pending\", \"fetch_at\": " DATE(LATER) ","
        " \"attempts\": 0}]}");
    fake.replies[1] = NULL;                 /* the lease: n 1 */
    /* the number it came to is gone: the organization's first */
    fake.replies[2] = NULL;
    fake.replies[3] = CURSOR(
        "{\"_id\": " OID("64f1a0000000000000000a01") ","
        " \"org_id\": " OID(ORG_ID) ", \"e164\": \"+15550001111\","
        " \"carrier\": \"twilio\", \"account_sid\": \"AC1\","
        " \"auth_token\": \"tok\"}");

    CHECK_INT(inbox_store_media_fetch_claim(store, 1767225600000LL, 10, &due,
                                            &err), INBOX_OK);
    golden_check(&fake, "media_fetch_claim");
    CHECK_INT(due.count, 1);
    if (due.count == 1) {
        CHECK_STR(due.items[0].message_id, MSG_ID);
        CHECK_STR(due.items[0].org_id, ORG_ID);
        CHECK_INT(due.items[0].idx, 1);
        CHECK_STR(due.items[0].url, "https://m/1");
        CHECK_INT(due.items[0].attempts, 3);
        CHECK_STR(due.items[0].number.account_sid, "AC1");
        CHECK_STR(due.items[0].number.auth_token, "tok");
    }
    inbox_media_fetch_list_free(&due);

    /* the number it came to, on its own account */
    fake_reset(&fake);
    fake.replies[0] = CURSOR(
        "{\"_id\": " OID(MSG_ID) ", \"org_id\": " OID(ORG_ID) ","
        " \"provider\": \"twilio\", \"to\": \"+15550002222\","
        " \"media\": [{\"url\": \"https://m/0\", \"state\": \"pending\","
        " \"fetch_at\": " DATE(EARLIER) "}]}");
    fake.replies[2] = CURSOR(
        "{\"_id\": " OID("64f1a0000000000000000a02") ","
        " \"org_id\": " OID(ORG_ID) ", \"e164\": \"+15550002222\","
        " \"carrier\": \"twilio\", \"account_sid\": \"AC2\","
        " \"auth_token\": \"tok2\"}");
    CHECK_INT(inbox_store_media_fetch_claim(store, 1767225600000LL, 10, &due,
                                            &err), INBOX_OK);
    CHECK_INT(fake.commands, 3);
    CHECK(log_has(&fake, "\"e164\" : \"+15550002222\""));
    CHECK_INT(due.count, 1);
    if (due.count == 1) {
        CHECK_STR(due.items[0].number.account_sid, "AC2");
    }
    inbox_media_fetch_list_free(&due);

    /* another fetcher leased it first: the update matches nothing */
    fake_reset(&fake);
    fake.replies[0] = CURSOR(
        "{\"_id\": " OID(MSG_ID) ", \"org_id\": " OID(ORG_ID) ","
        " \"provider\": \"twilio\", \"media\": ["
        "{\"url\": \"https://m/0\", \"state\": \"pending\","
        " \"fetch_at\": " DATE(EARLIER) "}]}");
    fake.replies[1] = "{\"ok\": 1, \"n\": 0, \"nModified\": 0}";
    CHECK_INT(inbox_store_media_fetch_claim(store, 1767225600000LL, 10, &due,
                                            &err), INBOX_OK);
    CHECK_INT(due.count, 0);
    CHECK_INT(fake.commands, 2);
    inbox_media_fetch_list_free(&due);

    fake_close(&fake, store);
}


static const char  media_message_stored[] =
    "{\"ok\": 1, \"value\": {\"_id\": " OID(MSG_ID) ","
    " \"org_id\": " OID(ORG_ID) ", \"conversation_id\": " OID(CONV_ID) ","
    " \"direction\": \"inbound\", \"body\": \"\", \"media\": ["
    "{\"url\": \"https://m/0\", \"content_type\": \"image/png\","
    " \"state\": \"stored\", \"file\": \"" MEDIA_FILE "\","
    " \"bytes\": {\"$numberLong\": \"1234\"}}],"
    " \"created_at\": " DATE(EARLIER) "}}";

static const char  media_org_seq[] =
    "{\"ok\": 1, \"value\": {\"_id\": " OID(ORG_ID) ", \"seq\":"
    " {\"$numberLong\": \"20\"}, \"epoch\": \"a1b2c3d4e5f60708\"}}";


TEST(media_fetch_done_pushes_the_message)
{
    fake_t               fake;
    inbox_error_t        err;
    inbox_store_t       *store;
    inbox_event_list_t   events;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    /* the first attachment: its thread's row takes the copy's type when
     * the message is the thread's last and the row said otherwise; here
     * it matches nothing (the row said image/png already) */
    fake.replies[0] = media_message_stored;
    fake.replies[1] = "{\"ok\": 1, \"value\": null}";
    fake.replies[2] = media_org_seq;
    CHECK_INT(inbox_store_media_fetch_done(store, MSG_ID, 0, MEDIA_FILE,
                                           "image/png", 1234, &events, &err),
              INBOX_OK);
    golden_check(&fake, "media_fetch_done");
    CHECK_INT(events.count, 1);
    if (events.count == 1) {
        CHECK_INT(events.items[0].org_seq, 20);
        CHECK(strstr(events.items[0].json, "\"message.updated\"") != NULL);
        CHECK(strstr(events.items[0].json, "\"url\":\"/media/" MEDIA_FILE
                     "\"") != NULL);
    }
    inbox_event_list_free(&events);

    /* a row the copy retyped is pushed too */
    fake_reset(&fake);
    fake.replies[0] = media_message_stored;
    fake.replies[1] =
        "{\"ok\": 1, \"value\": {\"_id\": " OID(CONV_ID) ", \"org_id\": "
        OID(ORG_ID) ", \"contact\": {\"id\": " OID(CONTACT_ID) ", \"name\":"
        " \"Ann Lee\", \"phone\": \"+15551230001\", \"opted_out\": false},"
        " \"last_message\": {\"id\": " OID(MSG_ID) ", \"direction\":"
        " \"inbound\", \"preview\": \"\", \"media_type\": \"image/png\","
        " \"at\": " DATE(EARLIER) "}, \"last_activity_at\": " DATE(EARLIER)
        ", \"unread_count\": {\"$numberLong\": \"1\"}, \"archived\": false,"
        " \"starred\": false}}";
    fake.replies[2] = media_org_seq;
    CHECK_INT(inbox_store_media_fetch_done(store, MSG_ID, 0, MEDIA_FILE,
                                           "image/png", 1234, &events, &err),
              INBOX_OK);
    CHECK_INT(events.count, 2);
    if (events.count == 2) {
        CHECK(strstr(events.items[0].json, "\"message.updated\"") != NULL);
        CHECK(strstr(events.items[1].json, "\"conversation.updated\"")
              != NULL);
        CHECK(strstr(events.items[1].json, "\"media_type\":\"image/png\"")
              != NULL);
    }
    inbox_event_list_free(&events);

    /* a row that cannot be retyped stays as the carrier named it: the
     * copy is stored all the same */
    fake_reset(&fake);
    fake.replies[0] = media_message_stored;
    fake.replies[1] = "{\"ok\": 0, \"code\": 91, \"errmsg\":"
                      " \"shutting down\"}";
    fake.replies[2] = media_org_seq;
    CHECK_INT(inbox_store_media_fetch_done(store, MSG_ID, 0, MEDIA_FILE,
                                           "image/png", 1234, &events, &err),
              INBOX_OK);
    CHECK_INT(events.count, 1);
    inbox_event_list_free(&events);

    /* any other attachment leaves the row alone */
    fake_reset(&fake);
    fake.replies[0] = media_message_stored;
    fake.replies[1] = media_org_seq;
    CHECK_INT(inbox_store_media_fetch_done(store, MSG_ID, 1, MEDIA_FILE,
                                           "image/png", 1234, &events, &err),
              INBOX_OK);
    CHECK(fake.log.data != NULL
          && strstr(fake.log.data, "\"conversations\"") == NULL);
    CHECK_INT(events.count, 1);
    inbox_event_list_free(&events);

    /* not pending any more: the message is there, so a conflict */
    fake_reset(&fake);
    fake.replies[1] = CURSOR("{\"_id\": " OID(MSG_ID) "}");
    CHECK_INT(inbox_store_media_fetch_done(store, MSG_ID, 0, MEDIA_FILE,
                                           "image/png", 1234, &events, &err),
              INBOX_ERR_CONFLICT);
    golden_check(&fake, "media_fetch_done_conflict");
    CHECK_INT(events.count, 0);

    /* no such media */
    fake_reset(&fake);
    CHECK_INT(inbox_store_media_fetch_done(store, MSG_ID, 3, MEDIA_FILE,
                                           "image/png", 1234, &events, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(events.count, 0);

    fake_close(&fake, store);
}


TEST(media_fetch_failed_retries_or_gives_up)
{
    fake_t               fake;
    inbox_error_t        err;
    inbox_store_t       *store;
    inbox_event_list_t   events;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    fake.replies[0] = media_message_stored;
    CHECK_INT(inbox_store_media_fetch_failed(store, MSG_ID, 0, LATER_MS,
                                             &events, &err), INBOX_OK);
    golden_check(&fake, "media_fetch_failed_retry");
    CHECK_INT(events.count, 0);
    CHECK_INT(fake.commands, 1);

    fake_reset(&fake);
    fake.replies[0] = media_message_stored;
    fake.replies[1] = media_org_seq;
    CHECK_INT(inbox_store_media_fetch_failed(store, MSG_ID, 0, 0, &events,
                                             &err), INBOX_OK);
    golden_check(&fake, "media_fetch_failed_final");
    CHECK_INT(events.count, 1);
    inbox_event_list_free(&events);

    fake_close(&fake, store);
}


/* only from a pending one with an attempt counted, which it takes back;
 * nothing pushed */
TEST(media_fetch_give_back_takes_the_attempt_back)
{
    fake_t          fake;
    inbox_error_t   err;
    inbox_store_t  *store;

    store = fake_open(&fake);

    fake.replies[0] = media_message_stored;
    CHECK_INT(inbox_store_media_fetch_give_back(store, MSG_ID, 0, LATER_MS,
                                                &err), INBOX_OK);
    golden_check(&fake, "media_fetch_give_back");
    CHECK_INT(fake.commands, 1);

    /* not pending, or nothing counted: the message is there, a conflict */
    fake_reset(&fake);
    fake.replies[1] = CURSOR("{\"_id\": " OID(MSG_ID) "}");
    CHECK_INT(inbox_store_media_fetch_give_back(store, MSG_ID, 0, LATER_MS,
                                                &err), INBOX_ERR_CONFLICT);

    fake_close(&fake, store);
}


/* replies, the outbox and billing */


#define NUMBER_E164     "+15550001111"
#define REPLY_CONV      CURSOR("{\"_id\": " OID(CONV_ID) ", \"org_id\": " \
                        OID(ORG_ID) ", \"contact\": {\"id\": "            \
                        OID(CONTACT_ID) ", \"name\": null, \"phone\":"    \
                        " \"+15551234567\", \"opted_out\": false},"       \
                        " \"unread_count\": 1, \"archived\": false,"      \
                        " \"starred\": false}")
#define REPLY_CONTACT   CURSOR("{\"_id\": " OID(CONTACT_ID) ", \"phone\":" \
                        " \"+15551234567\", \"opted_out\": false}")
#define REPLY_ORG(bal)  CURSOR("{\"_id\": " OID(ORG_ID) ","               \
                        " \"billing_active\": true, \"credits\":"         \
                        " {\"balance\": " bal ", \"held\": 0}}")
#define REPLY_NUMBER    CURSOR("{\"_id\": " OID(GEN_1) ", \"e164\": \""   \
                        NUMBER_E164 "\"}")
#define CREDITS(b, h)   "{\"ok\": 1, \"value\": {\"_id\": " OID(ORG_ID)   \
                        ", \"credits\": {\"balance\": " b ", \"held\": "  \
                        h "}}}"
#define SEQ             "{\"ok\": 1, \"value\": {\"_id\": " OID(ORG_ID)   \
                        ", \"seq\": 7, \"epoch\": \"e1\"}}"
/* A hold's settlement begun (store_mongo_settle.c): the message held no
 * more, settling as kind says since the server's now. */
#define SETTLING(id, kind)                                                    \
    "{\"ok\": 1, \"value\": {\"_id\": " OID(id) ", \"org_id\": "          \
    OID(ORG_ID) ", \"credits\": 1, \"settling\": \"" kind "\","          \
    " \"settling_since\": " DATE(NOW) "}}"


static void
reply_of(inbox_reply_t *r, const char *key)
{
    memset(r, 0, sizeof(inbox_reply_t));
    r->conversation_id = CONV_ID;
    r->body = "See you at 3";
    r->segments = 1;
    r->credits = 1;
    r->idempotency_key = key;
}


TEST(reply_accept)
{
    fake_t                fake;
    inbox_reply_t         r;
    inbox_error_t         err;
    inbox_store_t        *store;
    inbox_event_list_t    events;
    inbox_reply_result_t  result;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));
    reply_of(&r, "key-1");

    fake.replies[0] = NULL;                 /* no such key yet */
    fake.replies[1] = REPLY_CONV;
    fake.replies[2] = REPLY_CONTACT;
    fake.replies[3] = REPLY_ORG("10");
    fake.replies[4] = REPLY_NUMBER;
    fake.replies[5] = NULL;                 /* the key */
    fake.replies[6] = CREDITS("9", "1");    /* the hold */
    fake.replies[7] = NULL;                 /* its ledger entry */
    fake.replies[8] = NULL;                 /* the message */
    fake.replies[9] = "{\"ok\": 1, \"value\": {\"_id\": " OID(CONV_ID)
                      ", \"contact\": {\"id\": " OID(CONTACT_ID) ","
                      " \"phone\": \"+15551234567\"}, \"last_message\":"
                      " {\"id\": " OID(GEN_1) ", \"direction\":"
                      " \"outbound\", \"preview\": \"See you at 3\","
                      " \"at\": " DATE(NOW) "}, \"unread_count\": 1}}";
    fake.replies[10] = SEQ;

    CHECK_INT(inbox_store_reply_accept(store, ORG_ID, &r, &result, &events,
                                       &err), INBOX_OK);
    CHECK_STR(result.message.id, GEN_1);
    CHECK_STR(result.message.status, "queued");
    CHECK_INT(result.conversation.last_message.direction, INBOX_OUTBOUND);
    CHECK_INT(events.count, 2);
    if (events.count == 2) {
        CHECK_INT(events.items[0].org_seq, 6);
        CHECK(strstr(events.items[0].json, "\"message.created\"") != NULL);
    }
    golden_check(&fake, "reply_accept");
    inbox_reply_result_free(&result);

    /* the same key again: the first answer, nothing written */
    fake_reset(&fake);
    fake.replies[0] = CURSOR("{\"_id\": " OID(GEN_2) ", \"fingerprint\": "
                             "\"nope\", \"message_id\": " OID(MSG_ID) "}");
    CHECK_INT(inbox_store_reply_accept(store, ORG_ID, &r, &result, &events,
                                       &err), INBOX_ERR_CONFLICT);
    CHECK_INT(fake.commands, 1);

    /* too few credits: refused on reading, nothing written */
    fake_reset(&fake);
    reply_of(&r, NULL);
    fake.replies[0] = REPLY_CONV;
    fake.replies[1] = REPLY_CONTACT;
    fake.replies[2] = REPLY_ORG("0");
    CHECK_INT(inbox_store_reply_accept(store, ORG_ID, &r, &result, &events,
                                       &err), INBOX_ERR_INSUFFICIENT_CREDITS);
    CHECK_INT(err.needed, 1);
    CHECK_INT(err.balance, 0);
    CHECK_INT(fake.commands, 3);

    /* spent by another reply in between: the hold's filter refuses */
    fake_reset(&fake);
    reply_of(&r, "key-2");
    fake.replies[1] = REPLY_CONV;
    fake.replies[2] = REPLY_CONTACT;
    fake.replies[3] = REPLY_ORG("1");
    fake.replies[4] = REPLY_NUMBER;
    fake.replies[7] = NULL;                 /* the key removed */
    fake.replies[8] = REPLY_ORG("0");
    CHECK_INT(inbox_store_reply_accept(store, ORG_ID, &r, &result, &events,
                                       &err), INBOX_ERR_INSUFFICIENT_CREDITS);
    CHECK_INT(err.balance, 0);
    golden_check(&fake, "reply_accept_spent_meanwhile");
    CHECK_INT(events.count, 2);

    /* on an unlimited plan, with nothing in the balance: the hold is the
     * billing check alone, of nothing, and has no ledger entry */
    fake_reset(&fake);
    reply_of(&r, NULL);
    fake.replies[0] = REPLY_CONV;
    fake.replies[1] = REPLY_CONTACT;
    fake.replies[2] = CURSOR("{\"_id\": " OID(ORG_ID) ", \"billing_active\":"
                             " true, \"plan\": \"unlimited\", \"credits\":"
                             " {\"balance\": 0, \"held\": 0}}");
    fake.replies[3] = REPLY_NUMBER;
    fake.replies[4] = CREDITS("0", "0");    /* the hold */
    fake.replies[5] = NULL;                 /* the message */
    fake.replies[6] = "{\"ok\": 1, \"value\": {\"_id\": " OID(CONV_ID)
                      ", \"contact\": {\"id\": " OID(CONTACT_ID) ","
                      " \"phone\": \"+15551234567\"}, \"last_message\":"
                      " {\"id\": " OID(GEN_1) ", \"direction\":"
                      " \"outbound\", \"preview\": \"See you at 3\","
                      " \"at\": " DATE(NOW) "}, \"unread_count\": 1}}";
    fake.replies[7] = SEQ;
    CHECK_INT(inbox_store_reply_accept(store, ORG_ID, &r, &result, NULL,
                                       &err), INBOX_OK);
    CHECK_INT(result.message.credits, 0);
    CHECK(!log_has(&fake, "\"ledger\""));
    golden_check(&fake, "reply_accept_unlimited");
    inbox_reply_result_free(&result);

    /* billing off and on again between the read and the hold: the hold
     * of nothing found no active billing, and the reply is not said to
     * lack credits it never needed */
    fake_reset(&fake);
    reply_of(&r, NULL);
    fake.replies[0] = REPLY_CONV;
    fake.replies[1] = REPLY_CONTACT;
    fake.replies[2] = CURSOR("{\"_id\": " OID(ORG_ID) ", \"billing_active\":"
                             " true, \"plan\": \"unlimited\", \"credits\":"
                             " {\"balance\": 0, \"held\": 0}}");
    fake.replies[3] = REPLY_NUMBER;
    fake.replies[4] = NULL;                 /* the hold matched nothing */
    fake.replies[5] = REPLY_ORG("0");       /* active again */
    CHECK_INT(inbox_store_reply_accept(store, ORG_ID, &r, &result, NULL,
                                       &err), INBOX_ERR_CONFLICT);
    CHECK(strstr(err.message, "try again") != NULL);

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


/* Send again: the failed reply read (its thread, a person's, failed),
 * marked by a findAndModify on resent_as null before the hold, and its
 * message.updated appended after the reply's writes.  Marked by another
 * Send again in between: refused already_sent_again naming that one's
 * message, before anything is held. */
#define RESEND_FAILED(more)                                                  \
    CURSOR("{\"_id\": " OID(MSG_ID) ", \"org_id\": " OID(ORG_ID)             \
           ", \"conversation_id\": " OID(CONV_ID) ", \"direction\":"         \
           " \"outbound\", \"body\": \"See you at 3\", \"status\":"          \
           " \"failed\", \"error_code\": \"30003\", \"sent_by\": "           \
           OID(USER_ID) ", \"created_at\": " DATE("1000") more "}")

TEST(reply_accept_resend)
{
    fake_t                fake;
    inbox_reply_t         r;
    inbox_error_t         err;
    inbox_store_t        *store;
    inbox_event_list_t    events;
    inbox_reply_result_t  result;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));
    reply_of(&r, NULL);
    r.resend_of = MSG_ID;

    fake.replies[0] = RESEND_FAILED("");
    fake.replies[1] = REPLY_CONV;
    fake.replies[2] = REPLY_CONTACT;
    fake.replies[3] = REPLY_ORG("10");
    fake.replies[4] = REPLY_NUMBER;
    fake.replies[5] = "{\"ok\": 1, \"value\": {\"_id\": " OID(MSG_ID)
                      "}}";                 /* the mark */
    fake.replies[6] = CREDITS("9", "1");    /* the hold */
    fake.replies[7] = NULL;                 /* its ledger entry */
    fake.replies[8] = NULL;                 /* the message */
    fake.replies[9] = "{\"ok\": 1, \"value\": {\"_id\": " OID(CONV_ID)
                      ", \"contact\": {\"id\": " OID(CONTACT_ID) ","
                      " \"phone\": \"+15551234567\"}, \"unread_count\":"
                      " 1}}";
    fake.replies[10] = SEQ;
    fake.replies[13] = SEQ;

    CHECK_INT(inbox_store_reply_accept(store, ORG_ID, &r, &result, &events,
                                       &err), INBOX_OK);
    CHECK_STR(result.message.id, GEN_1);
    CHECK_STR(result.resent.resent_as, GEN_1);
    CHECK_INT(events.count, 3);
    if (events.count == 3) {
        CHECK(strstr(events.items[2].json, "\"message.updated\"") != NULL);
        CHECK(strstr(events.items[2].json,
                     "\"resent_as\":\"" GEN_1 "\"") != NULL);
    }
    golden_check(&fake, "reply_accept_resend");
    inbox_reply_result_free(&result);
    inbox_event_list_free(&events);

    /* marked by another in between: refused, nothing held */
    fake_reset(&fake);
    fake.replies[0] = RESEND_FAILED("");
    fake.replies[1] = REPLY_CONV;
    fake.replies[2] = REPLY_CONTACT;
    fake.replies[3] = REPLY_ORG("10");
    fake.replies[4] = REPLY_NUMBER;
    fake.replies[5] = NULL;                 /* the mark: taken */
    fake.replies[6] = RESEND_FAILED(", \"resent_as\": " OID(GEN_2)
                                    ", \"resent_at\": " DATE("2000"));
    CHECK_INT(inbox_store_reply_accept(store, ORG_ID, &r, &result, &events,
                                       &err), INBOX_ERR_ALREADY_SENT_AGAIN);
    CHECK_STR(err.last_message_id, GEN_2);
    CHECK_INT(fake.commands, 7);
    CHECK_INT(events.count, 0);

    /* read marked already: refused on reading */
    fake_reset(&fake);
    fake.replies[0] = RESEND_FAILED(", \"resent_as\": " OID(GEN_2)
                                    ", \"resent_at\": " DATE("2000"));
    CHECK_INT(inbox_store_reply_accept(store, ORG_ID, &r, &result, &events,
                                       &err), INBOX_ERR_ALREADY_SENT_AGAIN);
    CHECK_INT(fake.commands, 1);

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


/* A person's reply: the thread's last message names them, as written and
 * as read back. */
TEST(reply_accept_by_a_person_names_them_as_the_last_sender)
{
    fake_t                fake;
    inbox_reply_t         r;
    inbox_error_t         err;
    inbox_store_t        *store;
    inbox_reply_result_t  result;

    store = fake_open(&fake);
    reply_of(&r, NULL);
    r.user_id = USER_ID;

    fake.replies[0] = REPLY_CONV;
    fake.replies[1] = CURSOR("{\"_id\": " OID(USER_ID) "}");
    fake.replies[2] = REPLY_CONTACT;
    fake.replies[3] = REPLY_ORG("10");
    fake.replies[4] = REPLY_NUMBER;
    fake.replies[5] = CREDITS("9", "1");    /* the hold */
    fake.replies[6] = NULL;                 /* its ledger entry */
    fake.replies[7] = NULL;                 /* the message */
    fake.replies[8] = "{\"ok\": 1, \"value\": {\"_id\": " OID(CONV_ID)
                      ", \"contact\": {\"id\": " OID(CONTACT_ID) ","
                      " \"phone\": \"+15551234567\"}, \"last_message\":"
                      " {\"id\": " OID(GEN_1) ", \"direction\":"
                      " \"outbound\", \"preview\": \"See you at 3\","
                      " \"at\": " DATE(NOW) ", \"sent_by\": " OID(USER_ID)
                      "}, \"unread_count\": 1}}";
    fake.replies[9] = SEQ;

    CHECK_INT(inbox_store_reply_accept(store, ORG_ID, &r, &result, NULL,
                                       &err), INBOX_OK);
    CHECK_STR(result.message.sent_by, USER_ID);
    CHECK_STR(result.conversation.last_message.sent_by, USER_ID);
    CHECK_STR(result.conversation.last_message.campaign_id, "");
    golden_check(&fake, "reply_accept_by_a_person");
    inbox_reply_result_free(&result);

    fake_close(&fake, store);
}


/* a write the server refuses (a validation error): not a passing one */
#define WRITE_REFUSED   "{\"ok\": 1, \"n\": 0, \"writeErrors\": [{\"index\":" \
                        " 0, \"code\": 121, \"errmsg\": \"Document "      \
                        "failed validation\"}]}"
#define NOT_PRIMARY     "{\"ok\": 0, \"code\": 10107, \"errmsg\": "        \
                        "\"not primary\"}"
/* the hold's $inc, and the release's that gives it back */
#define TAKES_ONE       "\"credits.balance\" : { \"$numberLong\" : \"-1\" }"
#define GIVES_ONE       "\"credits.balance\" : { \"$numberLong\" : \"1\" }"
#define REPLY_THREAD    "{\"ok\": 1, \"value\": {\"_id\": " OID(CONV_ID)     \
                        ", \"contact\": {\"id\": " OID(CONTACT_ID) ","      \
                        " \"phone\": \"+15551234567\"}, \"last_message\":"  \
                        " {\"id\": " OID(GEN_1) ", \"direction\":"          \
                        " \"outbound\", \"preview\": \"See you at 3\","     \
                        " \"at\": " DATE(NOW) "}, \"unread_count\": 1}}"


#define TEXTED_E164     "+15550002222"
#define TEXTED_CONV     CURSOR("{\"_id\": " OID(CONV_ID) ", \"org_id\": " \
                        OID(ORG_ID) ", \"contact\": {\"id\": "            \
                        OID(CONTACT_ID) ", \"name\": null, \"phone\":"    \
                        " \"+15551234567\", \"opted_out\": false},"       \
                        " \"unread_count\": 1, \"archived\": false,"      \
                        " \"starred\": false, \"number\": \""            \
                        TEXTED_E164 "\"}")


/* A reply attaches its uploads after the hold, just before its message:
 * one refused before (billing, a key) leaves them to the purge. */
TEST(reply_accept_attaches_its_uploads_after_the_hold)
{
    fake_t                fake;
    inbox_reply_t         r;
    inbox_error_t         err;
    inbox_media_t         media;
    inbox_store_t        *store;
    inbox_reply_result_t  result;

    store = fake_open(&fake);
    reply_of(&r, "key-1");
    media_upload(&media);
    r.media = &media;
    r.media_count = 1;

    /* purged between the read and the attach: refused, the hold given
     * back and the key removed */
    fake.replies[1] = REPLY_CONV;
    fake.replies[2] = REPLY_CONTACT;
    fake.replies[3] = REPLY_ORG("10");
    fake.replies[4] = REPLY_NUMBER;
    fake.replies[6] = CREDITS("9", "1");    /* the hold */
    fake.replies[8] = MEDIA_NOT_MATCHED;
    fake.replies[9] = NULL;                 /* no message holds them */
    fake.replies[10] = CREDITS("10", "0");  /* given back */

    CHECK_INT(inbox_store_reply_accept(store, ORG_ID, &r, &result, NULL,
                                       &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "media_ids.0");
    CHECK(log_has(&fake, GIVES_ONE));
    CHECK(log_has(&fake, "\"delete\" : \"reply_keys\""));
    CHECK(!log_has(&fake, "\"insert\" : \"messages\""));
    golden_check(&fake, "reply_accept_media_gone");

    /* spent by another reply in between: refused 402 with its upload
     * unattached, so that the purge takes it */
    fake_reset(&fake);
    reply_of(&r, NULL);
    r.media = &media;
    r.media_count = 1;
    fake.replies[0] = REPLY_CONV;
    fake.replies[1] = REPLY_CONTACT;
    fake.replies[2] = REPLY_ORG("1");
    fake.replies[3] = REPLY_NUMBER;
    fake.replies[4] = NULL;                 /* the hold matched nothing */
    fake.replies[5] = REPLY_ORG("0");

    CHECK_INT(inbox_store_reply_accept(store, ORG_ID, &r, &result, NULL,
                                       &err), INBOX_ERR_INSUFFICIENT_CREDITS);
    CHECK(!log_has(&fake, "\"update\" : \"media\""));
    CHECK_INT(fake.commands, 6);

    /* its message refused after the attach: the upload released, left
     * to the purge (which looks for a message naming it first) */
    fake_reset(&fake);
    reply_of(&r, "key-1");
    r.media = &media;
    r.media_count = 1;
    fake.replies[1] = REPLY_CONV;
    fake.replies[2] = REPLY_CONTACT;
    fake.replies[3] = REPLY_ORG("10");
    fake.replies[4] = REPLY_NUMBER;
    fake.replies[6] = CREDITS("9", "1");    /* the hold */
    fake.replies[9] = WRITE_REFUSED;        /* the message */

    CHECK(inbox_store_reply_accept(store, ORG_ID, &r, &result, NULL,
                                   &err) != INBOX_OK);
    CHECK(log_has(&fake, "\"attached\" : true"));
    CHECK(log_has(&fake, "\"attached\" : false, \"released_at\""));
    CHECK(log_has(&fake, "\"$in\" : [ \"" MEDIA_FILE "\" ]"));

    fake_close(&fake, store);
}


/* A reply's pictures keep which upload each is, in its order, for Send
 * again to name them: its message's media items, its answer and its
 * message.created.  One whose upload is not known (a campaign's kept
 * from before) has none. */
TEST(reply_accept_keeps_its_uploads_ids)
{
    fake_t                fake;
    inbox_reply_t         r;
    inbox_error_t         err;
    inbox_media_t         media[3];
    inbox_store_t        *store;
    inbox_event_list_t    events;
    inbox_reply_result_t  result;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));
    reply_of(&r, "key-1");
    r.credits = 2;
    media_upload(&media[1]);
    media[1].bytes = 100;
    media[0] = media[1];
    strcpy(media[0].file, MEDIA2_FILE);
    strcpy(media[0].url, "https://inbox.test/media/" MEDIA2_FILE);
    strcpy(media[0].upload_id, MEDIA2_ID);
    media[2] = media[1];
    media[2].upload_id[0] = '\0';
    r.media = media;
    r.media_count = 3;

    fake.replies[0] = NULL;                 /* no such key yet */
    fake.replies[1] = REPLY_CONV;
    fake.replies[2] = REPLY_CONTACT;
    fake.replies[3] = REPLY_ORG("10");
    fake.replies[4] = REPLY_NUMBER;
    fake.replies[5] = NULL;                 /* the key */
    fake.replies[6] = CREDITS("8", "2");    /* the hold */
    fake.replies[11] = NULL;                /* the message */
    fake.replies[12] = "{\"ok\": 1, \"value\": {\"_id\": " OID(CONV_ID)
                       ", \"contact\": {\"id\": " OID(CONTACT_ID) ","
                       " \"phone\": \"+15551234567\"}, \"last_message\":"
                       " {\"id\": " OID(GEN_1) ", \"direction\":"
                       " \"outbound\", \"preview\": \"See you at 3\","
                       " \"at\": " DATE(NOW) "}, \"unread_count\": 1}}";
    fake.replies[13] = SEQ;

    CHECK_INT(inbox_store_reply_accept(store, ORG_ID, &r, &result, &events,
                                       &err), INBOX_OK);
    golden_check(&fake, "reply_accept_media");
    CHECK_INT(result.message.media_count, 3);
    if (result.message.media_count == 3) {
        CHECK_STR(result.message.media[0].upload_id, MEDIA2_ID);
        CHECK_STR(result.message.media[1].upload_id, MEDIA_ID);
        CHECK_STR(result.message.media[2].upload_id, "");
    }
    CHECK(events.count > 0
          && strstr(events.items[0].json,
                    "\"media\":[{\"id\":\"" MEDIA2_ID "\","
                    "\"url\":\"/media/" MEDIA2_FILE "\"") != NULL
          && strstr(events.items[0].json,
                    "{\"id\":\"" MEDIA_ID "\","
                    "\"url\":\"/media/" MEDIA_FILE "\"") != NULL
          && strstr(events.items[0].json,
                    "},{\"url\":\"/media/" MEDIA_FILE "\"") != NULL);
    inbox_event_list_free(&events);
    inbox_reply_result_free(&result);

    fake_close(&fake, store);
}


/* A thread keeps the number its contact last texted: the reply goes from
 * it while the organization has it (one read of it, as the first number
 * was read), else from the first number. */
TEST(reply_accept_from_the_number_texted)
{
    fake_t                fake;
    inbox_reply_t         r;
    inbox_error_t         err;
    inbox_store_t        *store;
    inbox_reply_result_t  result;

    store = fake_open(&fake);
    reply_of(&r, NULL);

    fake.replies[0] = TEXTED_CONV;
    fake.replies[1] = REPLY_CONTACT;
    fake.replies[2] = REPLY_ORG("10");
    fake.replies[3] = CURSOR("{\"_id\": " OID(GEN_2) ", \"e164\": \""
                             TEXTED_E164 "\"}");
    fake.replies[4] = CREDITS("9", "1");    /* the hold */
    fake.replies[5] = NULL;                 /* its ledger entry */
    fake.replies[6] = NULL;                 /* the message */
    fake.replies[7] = REPLY_THREAD;
    fake.replies[8] = SEQ;

    CHECK_INT(inbox_store_reply_accept(store, ORG_ID, &r, &result, NULL,
                                       &err), INBOX_OK);
    CHECK_INT(fake.commands, 11);
    CHECK(!log_has(&fake, NUMBER_E164));
    golden_check(&fake, "reply_accept_texted");
    inbox_reply_result_free(&result);

    /* the number is the organization's no more: its first */
    fake_reset(&fake);
    fake.replies[0] = TEXTED_CONV;
    fake.replies[1] = REPLY_CONTACT;
    fake.replies[2] = REPLY_ORG("10");
    fake.replies[3] = EMPTY_CURSOR;
    fake.replies[4] = REPLY_NUMBER;
    fake.replies[5] = CREDITS("9", "1");
    fake.replies[6] = NULL;
    fake.replies[7] = NULL;
    fake.replies[8] = REPLY_THREAD;
    fake.replies[9] = SEQ;

    CHECK_INT(inbox_store_reply_accept(store, ORG_ID, &r, &result, NULL,
                                       &err), INBOX_OK);
    CHECK_INT(fake.commands, 12);
    golden_check(&fake, "reply_accept_texted_gone");
    inbox_reply_result_free(&result);

    fake_close(&fake, store);
}


/* A write that fails after the hold gives the hold back, as SQLite's
 * rollback does: the balance is what it was, the key free for a retry. */
TEST(reply_accept_failed_after_the_hold_gives_it_back)
{
    fake_t                fake;
    inbox_reply_t         r;
    inbox_error_t         err;
    inbox_store_t        *store;
    inbox_event_list_t    events;
    inbox_reply_result_t  result;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    /* the message refused: no message holds the credits, so the
     * organization gets them back itself */
    reply_of(&r, "key-1");
    fake.replies[1] = REPLY_CONV;
    fake.replies[2] = REPLY_CONTACT;
    fake.replies[3] = REPLY_ORG("10");
    fake.replies[4] = REPLY_NUMBER;
    fake.replies[6] = CREDITS("9", "1");    /* the hold */
    fake.replies[8] = WRITE_REFUSED;        /* the message */
    fake.replies[9] = NULL;                 /* no message holds them */
    fake.replies[10] = CREDITS("10", "0");  /* given back */
    CHECK_INT(inbox_store_reply_accept(store, ORG_ID, &r, &result, &events,
                                       &err), INBOX_ERR_INTERNAL);
    CHECK(strstr(err.message, "validation") != NULL);
    CHECK(log_has(&fake, TAKES_ONE));
    CHECK(log_has(&fake, GIVES_ONE));
    CHECK(log_has(&fake, "\"kind\" : \"release\""));
    CHECK(log_has(&fake, "\"delete\" : \"reply_keys\""));
    CHECK_INT(events.count, 0);
    golden_check(&fake, "reply_accept_message_failed");

    /* the outbox entry refused after the message was stored: the
     * message's own hold is settled, once */
    fake_reset(&fake);
    fake.replies[1] = REPLY_CONV;
    fake.replies[2] = REPLY_CONTACT;
    fake.replies[3] = REPLY_ORG("10");
    fake.replies[4] = REPLY_NUMBER;
    fake.replies[6] = CREDITS("9", "1");    /* the hold */
    fake.replies[9] = REPLY_THREAD;
    fake.replies[10] = SEQ;
    fake.replies[12] = NOT_PRIMARY;         /* the outbox entry */
    fake.replies[13] = SETTLING(GEN_1, "release");
    fake.replies[14] = CREDITS("10", "0");  /* given back */
    CHECK_INT(inbox_store_reply_accept(store, ORG_ID, &r, &result, &events,
                                       &err), INBOX_ERR_UNAVAILABLE);
    CHECK(log_has(&fake, GIVES_ONE));
    golden_check(&fake, "reply_accept_outbox_failed");
    inbox_event_list_free(&events);
    memset(&events, 0, sizeof(events));

    /* the same, but the message no longer holds them (its entry was
     * stored after all, and a sender settled it): nothing given twice */
    fake_reset(&fake);
    fake.replies[1] = REPLY_CONV;
    fake.replies[2] = REPLY_CONTACT;
    fake.replies[3] = REPLY_ORG("10");
    fake.replies[4] = REPLY_NUMBER;
    fake.replies[6] = CREDITS("9", "1");
    fake.replies[9] = REPLY_THREAD;
    fake.replies[10] = SEQ;
    fake.replies[12] = NOT_PRIMARY;
    fake.replies[13] = NULL;                /* settled already */
    CHECK_INT(inbox_store_reply_accept(store, ORG_ID, &r, &result, &events,
                                       &err), INBOX_ERR_UNAVAILABLE);
    CHECK(!log_has(&fake, GIVES_ONE));
    CHECK(!log_has(&fake, "\"kind\" : \"release\""));
    CHECK_INT(fake.commands, 15);
    inbox_event_list_free(&events);
    memset(&events, 0, sizeof(events));

    /* the hold's own ledger entry refused: the credits had moved */
    fake_reset(&fake);
    reply_of(&r, NULL);
    fake.replies[0] = REPLY_CONV;
    fake.replies[1] = REPLY_CONTACT;
    fake.replies[2] = REPLY_ORG("10");
    fake.replies[3] = REPLY_NUMBER;
    fake.replies[4] = CREDITS("9", "1");    /* the hold */
    fake.replies[5] = WRITE_REFUSED;        /* its ledger entry */
    fake.replies[7] = CREDITS("10", "0");   /* given back */
    CHECK_INT(inbox_store_reply_accept(store, ORG_ID, &r, &result, &events,
                                       &err), INBOX_ERR_INTERNAL);
    CHECK(log_has(&fake, GIVES_ONE));
    CHECK_INT(fake.commands, 9);

    /* the hold's own command failed: it may not have been taken, so
     * nothing is given back */
    fake_reset(&fake);
    fake.replies[0] = REPLY_CONV;
    fake.replies[1] = REPLY_CONTACT;
    fake.replies[2] = REPLY_ORG("10");
    fake.replies[3] = REPLY_NUMBER;
    fake.replies[4] = NOT_PRIMARY;          /* the hold */
    CHECK_INT(inbox_store_reply_accept(store, ORG_ID, &r, &result, &events,
                                       &err), INBOX_ERR_UNAVAILABLE);
    CHECK_INT(fake.commands, 5);

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


/* notices: a keyword's answer */
TEST(outbox_notice)
{
    fake_t                fake;
    inbox_error_t         err;
    inbox_store_t        *store;
    inbox_event_list_t    events;
    inbox_reply_result_t  result;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    /* no key, no contact, billing or balance read, no hold: the thread,
     * the number texted, then a reply's writes */
    fake.replies[0] = REPLY_CONV;
    fake.replies[1] = REPLY_NUMBER;
    fake.replies[2] = NULL;                 /* the message */
    fake.replies[3] = "{\"ok\": 1, \"value\": {\"_id\": " OID(CONV_ID)
                      ", \"contact\": {\"id\": " OID(CONTACT_ID) ","
                      " \"phone\": \"+15551234567\"}, \"last_message\":"
                      " {\"id\": " OID(GEN_1) ", \"direction\":"
                      " \"outbound\", \"preview\": \"Acme: no more"
                      " messages.\", \"at\": " DATE(NOW) "},"
                      " \"unread_count\": 1}}";
    fake.replies[4] = SEQ;

    CHECK_INT(inbox_store_outbox_notice(store, ORG_ID, CONV_ID, NUMBER_E164,
                                        "Acme: no more messages.", &result,
                                        &events, &err), INBOX_OK);
    CHECK_STR(result.message.id, GEN_1);
    CHECK_STR(result.message.status, "queued");
    CHECK_INT(result.message.credits, 0);
    CHECK_STR(result.message.sent_by, "");
    CHECK_INT(events.count, 2);
    golden_check(&fake, "outbox_notice");
    inbox_reply_result_free(&result);
    inbox_event_list_free(&events);

    /* a number the organization does not have: nothing written */
    fake_reset(&fake);
    fake.replies[0] = REPLY_CONV;
    CHECK_INT(inbox_store_outbox_notice(store, ORG_ID, CONV_ID,
                                        "+15550009999", "hi", &result,
                                        &events, &err), INBOX_ERR_CONFLICT);
    CHECK_INT(fake.commands, 2);
    CHECK_INT(events.count, 0);

    fake_close(&fake, store);
}


TEST(outbox_claim)
{
    fake_t                fake;
    inbox_error_t         err;
    inbox_store_t        *store;
    inbox_outbox_batch_t  batch;

    store = fake_open(&fake);

    fake.replies[0] = "{\"ok\": 1, \"value\": {\"_id\": " OID(GEN_3) ","
                      " \"org_id\": " OID(ORG_ID) ", \"message_id\": "
                      OID(MSG_ID) ", \"priority\": 0, \"from\": \""
                      NUMBER_E164 "\", \"attempts\": 1, \"lease_until\": "
                      DATE(EARLIER) "}}";
    fake.replies[1] = NULL;                 /* nothing more due */
    fake.replies[2] = ORG_BILLING_ACTIVE;
    fake.replies[3] = CURSOR("{\"_id\": " OID(MSG_ID) ", \"conversation_id\":"
                             " " OID(CONV_ID) ", \"direction\": \"outbound\","
                             " \"contact_id\": " OID(CONTACT_ID) ","
                             " \"to\": \"+15551234567\", \"body\": \"hi\","
                             " \"status\": \"queued\", \"credits\": 1,"
                             " \"segments\": 1, \"media\": [],"
                             " \"created_at\": " DATE(EARLIER) "}");
    /* the contact opted out after the message was written */
    fake.replies[4] = CURSOR("{\"_id\": " OID(CONTACT_ID) ", \"opted_out\":"
                             " true, \"opted_out_at\": " DATE(NOW) "}");
    fake.replies[5] = CURSOR("{\"_id\": " OID(GEN_1) ", \"org_id\": "
                             OID(ORG_ID) ", \"e164\": \"" NUMBER_E164 "\","
                             " \"carrier\": \"twilio\", \"account_sid\":"
                             " \"AC1\", \"auth_token\": \"tok\"}");

    CHECK_INT(inbox_store_outbox_claim(store, 1767225600000LL,
                                       1767225600000LL, 2, 30000,
                                       INBOX_OUTBOX_BULK, NULL,
                                       &batch, &err), INBOX_OK);
    CHECK_INT(batch.count, 1);
    if (batch.count == 1) {
        CHECK_STR(batch.items[0].id, GEN_3);
        CHECK_INT(batch.items[0].attempt, 2);
        CHECK_INT(batch.items[0].interrupted, 1);
        CHECK_INT(batch.items[0].withdrawn, 1);
        CHECK_STR(batch.items[0].to, "+15551234567");
        CHECK_STR(batch.items[0].message.body, "hi");
        CHECK_STR(batch.items[0].number.auth_token, "tok");
        CHECK_STR(batch.items[0].campaign_id, "");
        CHECK_INT(batch.items[0].cancelled, 0);
    }
    /* a reply: no campaign to look at */
    CHECK(!log_has(&fake, "\"campaigns\""));
    golden_check(&fake, "outbox_claim");
    inbox_outbox_batch_free(&batch);

    fake_close(&fake, store);
}


/* Paced: a number at its cap is left out of the next take. */
TEST(outbox_claim_paced)
{
    fake_t                fake;
    inbox_error_t         err;
    inbox_store_t        *store;
    inbox_outbox_batch_t  batch;
    inbox_outbox_pace_t   held;
    inbox_outbox_paces_t  paces;

    store = fake_open(&fake);

    fake.replies[0] = "{\"ok\": 1, \"value\": {\"_id\": " OID(GEN_3) ","
                      " \"org_id\": " OID(ORG_ID) ", \"message_id\": "
                      OID(MSG_ID) ", \"priority\": 0, \"from\": \""
                      NUMBER_E164 "\", \"attempts\": 0}}";
    fake.replies[1] = NULL;                 /* nothing more due */
    /* but from the held number */
    fake.replies[2] = CURSOR("{\"_id\": " OID(GEN_2) "}");
    fake.replies[3] = ORG_BILLING_ACTIVE;
    fake.replies[4] = CURSOR("{\"_id\": " OID(MSG_ID) ", \"conversation_id\":"
                             " " OID(CONV_ID) ", \"direction\": \"outbound\","
                             " \"contact_id\": " OID(CONTACT_ID) ","
                             " \"to\": \"+15551234567\", \"body\": \"hi\","
                             " \"status\": \"queued\", \"credits\": 1,"
                             " \"segments\": 1, \"media\": [],"
                             " \"created_at\": " DATE(EARLIER) "}");
    fake.replies[5] = CURSOR("{\"_id\": " OID(CONTACT_ID) "}");
    fake.replies[6] = CURSOR("{\"_id\": " OID(GEN_1) ", \"org_id\": "
                             OID(ORG_ID) ", \"e164\": \"" NUMBER_E164 "\","
                             " \"carrier\": \"twilio\", \"account_sid\":"
                             " \"AC1\", \"auth_token\": \"tok\"}");

    /* a number held (none), any other one at a time */
    held.from = "+15559999999";
    held.max = 0;
    paces.numbers = &held;
    paces.n = 1;
    paces.other = 1;

    CHECK_INT(inbox_store_outbox_claim(store, 1767225600000LL,
                                       1767225600000LL, 2, 30000,
                                       INBOX_OUTBOX_REPLY, &paces,
                                       &batch, &err), INBOX_OK);
    CHECK_INT(batch.count, 1);
    if (batch.count == 1) {
        CHECK_STR(batch.items[0].id, GEN_3);
        CHECK_INT(batch.items[0].attempt, 1);
        CHECK_INT(batch.items[0].interrupted, 0);
    }
    CHECK_INT(batch.passed_over, 1);
    CHECK(log_has(&fake, "\"$nin\""));
    golden_check(&fake, "outbox_claim_paced");
    inbox_outbox_batch_free(&batch);

    fake_close(&fake, store);
}


/*
 * Paced in segments: an entry is learnt long as it is leased, and one
 * longer than what its number has left is put back at once, as it was
 * (due as it was, its attempt not counted), the number left out after
 * it so that its entries go in order.
 */
TEST(outbox_claim_paced_by_segments)
{
    fake_t                fake;
    inbox_error_t         err;
    inbox_store_t        *store;
    inbox_outbox_batch_t  batch;
    inbox_outbox_paces_t  paces;

    store = fake_open(&fake);

    /* one segment of the number's two, then two */
    fake.replies[0] = "{\"ok\": 1, \"value\": {\"_id\": " OID(GEN_3) ","
                      " \"org_id\": " OID(ORG_ID) ", \"message_id\": "
                      OID(MSG_ID) ", \"priority\": 0, \"from\": \""
                      NUMBER_E164 "\", \"segments\": 1, \"due_at\": "
                      DATE(EARLIER) ", \"attempts\": 0}}";
    fake.replies[1] = "{\"ok\": 1, \"value\": {\"_id\": " OID(GEN_4) ","
                      " \"org_id\": " OID(ORG_ID) ", \"message_id\": "
                      OID(GEN_2) ", \"priority\": 0, \"from\": \""
                      NUMBER_E164 "\", \"segments\": 2, \"due_at\": "
                      DATE(EARLIER) ", \"attempts\": 0,"
                      " \"lease_until\": null}}";
    fake.replies[2] = NULL;                 /* put back */
    fake.replies[3] = NULL;                 /* nothing more due */
    fake.replies[4] = ORG_BILLING_ACTIVE;
    fake.replies[5] = CURSOR("{\"_id\": " OID(MSG_ID) ", \"conversation_id\":"
                             " " OID(CONV_ID) ", \"direction\": \"outbound\","
                             " \"contact_id\": " OID(CONTACT_ID) ","
                             " \"to\": \"+15551234567\", \"body\": \"hi\","
                             " \"status\": \"queued\", \"credits\": 1,"
                             " \"segments\": 1, \"media\": [],"
                             " \"created_at\": " DATE(EARLIER) "}");
    fake.replies[6] = CURSOR("{\"_id\": " OID(CONTACT_ID) "}");
    fake.replies[7] = CURSOR("{\"_id\": " OID(GEN_1) ", \"org_id\": "
                             OID(ORG_ID) ", \"e164\": \"" NUMBER_E164 "\","
                             " \"carrier\": \"twilio\", \"account_sid\":"
                             " \"AC1\", \"auth_token\": \"tok\"}");

    /* every number a full bucket of two */
    paces.numbers = NULL;
    paces.n = 0;
    paces.other = 2;

    CHECK_INT(inbox_store_outbox_claim(store, 1767225600000LL,
                                       1767225600000LL, 3, 30000,
                                       INBOX_OUTBOX_REPLY, &paces,
                                       &batch, &err), INBOX_OK);
    CHECK_INT(batch.count, 1);
    if (batch.count == 1) {
        CHECK_STR(batch.items[0].id, GEN_3);
    }
    CHECK_INT(batch.passed_over, 1);
    /* the two-segment one put back, and the number left out after it */
    CHECK(log_has(&fake, GEN_4));
    CHECK(log_has(&fake, "\"$nin\""));
    golden_check(&fake, "outbox_claim_paced_by_segments");
    inbox_outbox_batch_free(&batch);

    fake_close(&fake, store);
}


TEST(outbox_claim_gives_back_what_it_could_not_read)
{
    fake_t                fake;
    inbox_error_t         err;
    inbox_store_t        *store;
    inbox_outbox_batch_t  batch;

    store = fake_open(&fake);

    /* two entries leased, one of them interrupted before */
    fake.replies[0] = "{\"ok\": 1, \"value\": {\"_id\": " OID(GEN_3) ","
                      " \"org_id\": " OID(ORG_ID) ", \"message_id\": "
                      OID(MSG_ID) ", \"priority\": 0, \"from\": \""
                      NUMBER_E164 "\", \"attempts\": 1, \"lease_until\": "
                      DATE(EARLIER) "}}";
    fake.replies[1] = "{\"ok\": 1, \"value\": {\"_id\": " OID(GEN_2) ","
                      " \"org_id\": " OID(ORG_ID) ", \"message_id\": "
                      OID(MSG2_ID) ", \"priority\": 0, \"from\": \""
                      NUMBER_E164 "\", \"attempts\": 0}}";
    fake.replies[2] = ORG_BILLING_ACTIVE;
    /* the first message's read fails: a primary stepping down */
    fake.replies[3] = "{\"ok\": 0, \"code\": 10107, \"errmsg\": "
                      "\"not primary\"}";

    CHECK_INT(inbox_store_outbox_claim(store, 1767225600000LL,
                                       1767225600000LL, 2, 30000,
                                       INBOX_OUTBOX_BULK, NULL,
                                       &batch, &err), INBOX_ERR_UNAVAILABLE);
    CHECK_INT(batch.count, 0);
    CHECK(batch.items == NULL);

    /*
     * Both are due again at once, at the attempts they had, the first
     * still interrupted: not left leased for 30 s and then reported as
     * perhaps sent.
     */
    CHECK(log_has(&fake, "\"update\" : \"outbox\""));
    CHECK(log_has(&fake, "\"due_at\" : { \"$date\" : { \"$numberLong\" : \""
                  NOW "\" } }"));
    golden_check(&fake, "outbox_claim_given_back");

    fake_close(&fake, store);
}


#define OUTBOX_ENTRY    CURSOR("{\"_id\": " OID(GEN_3) ", \"org_id\": "    \
                        OID(ORG_ID) ", \"message_id\": " OID(MSG_ID) ","  \
                        " \"attempts\": 1}")
/* the outbox entry removed, the last step of a result */
#define OUTBOX_LEFT     "{\"ok\": 1, \"value\": {\"_id\": " OID(GEN_3) "}}"
#define MOVED(status)   "{\"ok\": 1, \"value\": {\"_id\": " OID(MSG_ID)    \
                        ", \"conversation_id\": " OID(CONV_ID) ","        \
                        " \"contact_id\": " OID(CONTACT_ID) ","           \
                        " \"status\": \"" status "\", \"held\": true,"    \
                        " \"credits\": 1}}"


TEST(outbox_result)
{
    fake_t               fake;
    inbox_error_t        err;
    inbox_store_t       *store;
    inbox_event_list_t   events;
    inbox_send_result_t  res;
    inbox_send_report_t  report;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    /* accepted as sent: the carrier's id, the status, the capture */
    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_ACCEPTED;
    res.carrier = INBOX_CARRIER_TWILIO;
    snprintf(res.provider_id, sizeof(res.provider_id), "SM900");
    res.status = INBOX_DELIVERY_SENT;

    fake.replies[0] = OUTBOX_ENTRY;
    /* the carrier's callbacks came first: delivered, then a late sent */
    fake.replies[2] = CURSOR("{\"status\": \"delivered\", \"error_code\":"
                             " \"\"}, {\"status\": \"sent\","
                             " \"error_code\": \"\"}");
    fake.replies[3] = MOVED("delivered");
    fake.replies[4] = SETTLING(MSG_ID, "capture");
    fake.replies[5] = CREDITS("9", "0");
    fake.replies[9] = SEQ;
    fake.replies[14] = OUTBOX_LEFT;

    CHECK_INT(inbox_store_outbox_result(store, GEN_3, 1, &res,
                                        1767225600000LL, &report, &events,
                                        &err), INBOX_OK);
    CHECK_INT(report.done, 1);
    CHECK_INT(report.status, INBOX_DELIVERY_DELIVERED);
    CHECK_STR(report.message_id, MSG_ID);
    CHECK_INT(events.count, 1);
    golden_check(&fake, "outbox_result_accepted");

    /* a retry: due again after the backoff, at its attempt only */
    fake_reset(&fake);
    res.outcome = INBOX_SEND_RETRY;
    snprintf(res.error_code, sizeof(res.error_code), "503");
    fake.replies[0] = OUTBOX_ENTRY;
    fake.replies[2] = CURSOR("{\"_id\": " OID(MSG_ID) ", \"status\":"
                             " \"queued\"}");
    CHECK_INT(inbox_store_outbox_result(store, GEN_3, 1, &res,
                                        1767225600000LL, &report, &events,
                                        &err), INBOX_OK);
    CHECK_INT(report.done, 0);
    CHECK_INT(report.next_attempt_at, 1767225605000LL);
    golden_check(&fake, "outbox_result_retry");

    /* a lost claim */
    fake_reset(&fake);
    fake.replies[0] = OUTBOX_ENTRY;
    CHECK_INT(inbox_store_outbox_result(store, GEN_3, 2, &res,
                                        1767225600000LL, &report, &events,
                                        &err), INBOX_ERR_CONFLICT);
    CHECK_INT(fake.commands, 1);

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


/* A keyword's answer (free) that fails: if it was a HELP's answer of
 * the day, its contact's next HELP is answered. */
TEST(outbox_result_failed_help_answer_gives_the_day_back)
{
    int                  changed;
    fake_t               fake;
    inbox_error_t        err;
    inbox_store_t       *store;
    inbox_event_list_t   events;
    inbox_send_result_t  res;
    inbox_send_report_t  report;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_REFUSED;
    snprintf(res.error_code, sizeof(res.error_code), "%s",
             INBOX_SEND_ERROR_LATE);

    fake.replies[0] = OUTBOX_ENTRY;
    fake.replies[1] = "{\"ok\": 1, \"value\": {\"_id\": " OID(MSG_ID)
                      ", \"conversation_id\": " OID(CONV_ID) ","
                      " \"contact_id\": " OID(CONTACT_ID) ","
                      " \"status\": \"failed\", \"held\": false,"
                      " \"credits\": 0}}";
    fake.replies[3] = SEQ;
    fake.replies[7] = OUTBOX_LEFT;

    CHECK_INT(inbox_store_outbox_result(store, GEN_3, 1, &res,
                                        1767225600000LL, &report, &events,
                                        &err), INBOX_OK);
    CHECK_INT(report.done, 1);
    CHECK(log_has(&fake, "\"help_answer_id\" : { \"$oid\" : \"" MSG_ID));
    golden_check(&fake, "outbox_result_help_failed");

    /* the carrier's report that it never reached the phone, the same;
     * and its repeat, the status it has already */
    fake_reset(&fake);
    fake.replies[0] = "{\"ok\": 1, \"value\": {\"_id\": " OID(MSG_ID)
                      ", \"conversation_id\": " OID(CONV_ID) ","
                      " \"contact_id\": " OID(CONTACT_ID) ","
                      " \"status\": \"undelivered\", \"held\": false,"
                      " \"credits\": 0}}";
    fake.replies[2] = SEQ;
    CHECK_INT(inbox_store_message_status_update(store, ORG_ID,
                  INBOX_CARRIER_TWILIO, "SM900", INBOX_DELIVERY_UNDELIVERED,
                  "30003", &changed, NULL, &events, &err), INBOX_OK);
    CHECK_INT(changed, 1);
    CHECK(log_has(&fake, "\"update\" : \"contacts\""));

    fake_reset(&fake);
    fake.replies[1] = CURSOR("{\"_id\": " OID(MSG_ID) ", \"status\":"
                             " \"undelivered\", \"contact_id\": "
                             OID(CONTACT_ID) ", \"held\": false,"
                             " \"credits\": 0}");
    CHECK_INT(inbox_store_message_status_update(store, ORG_ID,
                  INBOX_CARRIER_TWILIO, "SM900", INBOX_DELIVERY_UNDELIVERED,
                  "30003", &changed, NULL, &events, &err), INBOX_OK);
    CHECK_INT(changed, 0);
    CHECK(log_has(&fake, "\"update\" : \"contacts\""));

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


/* Refused for its number's account (the result's account): the message
 * fails "carrier_account", as in SQLite, the carrier's code not kept. */
TEST(outbox_result_refused_for_the_numbers_account)
{
    fake_t               fake;
    inbox_error_t        err;
    inbox_store_t       *store;
    inbox_event_list_t   events;
    inbox_send_result_t  res;
    inbox_send_report_t  report;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_REFUSED;
    res.carrier = INBOX_CARRIER_TELNYX;
    res.account = 1;
    snprintf(res.error_code, sizeof(res.error_code), "10010");

    fake.replies[0] = OUTBOX_ENTRY;
    fake.replies[1] = "{\"ok\": 1, \"value\": {\"_id\": " OID(MSG_ID)
                      ", \"conversation_id\": " OID(CONV_ID) ","
                      " \"contact_id\": " OID(CONTACT_ID) ","
                      " \"status\": \"failed\", \"held\": false,"
                      " \"credits\": 0}}";
    fake.replies[3] = SEQ;
    fake.replies[7] = OUTBOX_LEFT;

    CHECK_INT(inbox_store_outbox_result(store, GEN_3, 1, &res,
                                        1767225600000LL, &report, &events,
                                        &err), INBOX_OK);
    CHECK_INT(report.done, 1);
    CHECK_INT(report.status, INBOX_DELIVERY_FAILED);
    CHECK(log_has(&fake, "\"error_code\" : \"carrier_account\""));
    CHECK(!log_has(&fake, "10010"));

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


/* One record after another with the commands of one: a lost claim is
 * refused alone, the retry after it recorded. */
TEST(outbox_results)
{
    fake_t                 fake;
    inbox_error_t          err;
    inbox_store_t         *store;
    inbox_event_list_t     events;
    inbox_outbox_record_t  rec[2];

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));
    memset(rec, 0, sizeof(rec));

    rec[0].entry_id = GEN_3;
    rec[0].attempt = 2;
    rec[0].result.outcome = INBOX_SEND_UNKNOWN;
    rec[1].entry_id = GEN_3;
    rec[1].attempt = 1;
    rec[1].result.outcome = INBOX_SEND_RETRY;
    snprintf(rec[1].result.error_code, sizeof(rec[1].result.error_code),
             "503");

    fake.replies[0] = OUTBOX_ENTRY;
    fake.replies[1] = OUTBOX_ENTRY;
    fake.replies[3] = CURSOR("{\"_id\": " OID(MSG_ID) ", \"status\":"
                             " \"queued\"}");

    CHECK_INT(inbox_store_outbox_results(store, rec, 2, 1767225600000LL,
                                         &events, &err), INBOX_OK);
    CHECK_INT(rec[0].status, INBOX_ERR_CONFLICT);
    CHECK_INT(rec[1].status, INBOX_OK);
    CHECK_INT(rec[1].report.done, 0);
    CHECK_INT(rec[1].report.next_attempt_at, 1767225605000LL);
    CHECK_STR(rec[1].report.message_id, MSG_ID);
    CHECK_INT(events.count, 0);
    golden_check(&fake, "outbox_results");

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


TEST(message_status_update)
{
    int                    changed;
    char                   contact[INBOX_ID_MAX];
    inbox_status_report_t  batch[3];
    fake_t                 fake;
    inbox_error_t          err;
    inbox_store_t         *store;
    inbox_event_list_t     events;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    fake.replies[0] = MOVED("undelivered");
    fake.replies[1] = SETTLING(MSG_ID, "release");
    fake.replies[2] = CREDITS("10", "0");
    fake.replies[6] = SEQ;

    CHECK_INT(inbox_store_message_status_update(store, ORG_ID,
                  INBOX_CARRIER_TWILIO, "SM900", INBOX_DELIVERY_UNDELIVERED,
                  "30003", &changed, contact, &events, &err), INBOX_OK);
    CHECK_INT(changed, 1);
    CHECK_STR(contact, CONTACT_ID);
    CHECK_INT(events.count, 1);
    if (events.count == 1) {
        CHECK(strstr(events.items[0].json, "\"message.status\"") != NULL);
    }
    golden_check(&fake, "message_status_update");

    /* a late report: the compare-and-set matches nothing, nothing more */
    fake_reset(&fake);
    fake.replies[1] = CURSOR("{\"_id\": " OID(MSG_ID) ", \"status\":"
                             " \"delivered\", \"contact_id\": "
                             OID(CONTACT_ID) "}");
    contact[0] = '\0';
    CHECK_INT(inbox_store_message_status_update(store, ORG_ID,
                  INBOX_CARRIER_TWILIO, "SM900", INBOX_DELIVERY_SENT, NULL,
                  &changed, contact, &events, &err), INBOX_OK);
    CHECK_INT(changed, 0);
    CHECK_STR(contact, CONTACT_ID);
    CHECK_INT(events.count, 1);
    golden_check(&fake, "message_status_late");

    /* the carrier's retry of a report whose move was stored but whose
     * hold was not settled (no transaction spans the two): settled now,
     * and no second move or event */
    fake_reset(&fake);
    fake.replies[1] = CURSOR("{\"_id\": " OID(MSG_ID) ", \"status\":"
                             " \"undelivered\", \"contact_id\": "
                             OID(CONTACT_ID) ", \"held\": true,"
                             " \"credits\": 2}");
    fake.replies[2] = SETTLING(MSG_ID, "release");
    fake.replies[3] = CREDITS("10", "0");
    CHECK_INT(inbox_store_message_status_update(store, ORG_ID,
                  INBOX_CARRIER_TWILIO, "SM900", INBOX_DELIVERY_UNDELIVERED,
                  "30003", &changed, contact, &events, &err), INBOX_OK);
    CHECK_INT(changed, 0);
    CHECK_INT(events.count, 1);     /* the first report's, none more */
    CHECK_INT(fake.commands, 7);
    golden_check(&fake, "message_status_settled_late");

    /* no such message yet: kept as an early report, looked for again */
    fake_reset(&fake);
    CHECK_INT(inbox_store_message_status_update(store, ORG_ID,
                  INBOX_CARRIER_TWILIO, "SM901", INBOX_DELIVERY_SENT, NULL,
                  &changed, NULL, &events, &err), INBOX_OK);
    CHECK_INT(changed, 0);
    CHECK_INT(events.count, 1);
    golden_check(&fake, "message_status_early");

    /* a batch: each report's commands in turn, one refused with none */
    fake_reset(&fake);
    fake.replies[0] = MOVED("undelivered");
    fake.replies[1] = SETTLING(MSG_ID, "release");
    fake.replies[2] = CREDITS("10", "0");
    fake.replies[6] = SEQ;
    memset(batch, 0, sizeof(batch));
    batch[0].org_id = ORG_ID;
    batch[0].provider_id = "SM900";
    batch[0].delivery = INBOX_DELIVERY_UNDELIVERED;
    batch[0].error_code = "30003";
    batch[1].org_id = "nope";
    batch[1].provider_id = "SM900";
    batch[2].org_id = ORG_ID;
    batch[2].provider_id = "SM901";
    batch[2].delivery = INBOX_DELIVERY_SENT;
    CHECK_INT(inbox_store_message_status_updates(store, batch, 3, &events,
                                                 &err), INBOX_OK);
    CHECK_INT(batch[0].status, INBOX_OK);
    CHECK_INT(batch[0].changed, 1);
    CHECK_INT(batch[1].status, INBOX_ERR_NOT_FOUND);
    CHECK_INT(batch[2].status, INBOX_OK);
    CHECK_INT(batch[2].changed, 0);
    CHECK_INT(events.count, 2);
    golden_check(&fake, "message_status_batch");

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


/*
 * Telnyx's message.finalized of delivery_unconfirmed (a final "sent"):
 * after message.sent it moves nothing, pushes nothing and captures the
 * hold; first, it moves to "sent" and captures.  Not final, the hold
 * stays.
 */
TEST(message_status_final_sent)
{
    inbox_status_report_t  batch[1];
    fake_t                 fake;
    inbox_error_t          err;
    inbox_store_t         *store;
    inbox_event_list_t     events;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    fake.replies[1] = CURSOR("{\"_id\": " OID(MSG_ID) ", \"status\":"
                             " \"sent\", \"contact_id\": "
                             OID(CONTACT_ID) ", \"held\": true,"
                             " \"credits\": 1}");
    fake.replies[2] = SETTLING(MSG_ID, "capture");
    fake.replies[3] = CREDITS("9", "0");
    memset(batch, 0, sizeof(batch));
    batch[0].org_id = ORG_ID;
    batch[0].carrier = INBOX_CARRIER_TELNYX;
    batch[0].provider_id = "40f1a001";
    batch[0].delivery = INBOX_DELIVERY_SENT;
    batch[0].final = 1;
    CHECK_INT(inbox_store_message_status_updates(store, batch, 1, &events,
                                                 &err), INBOX_OK);
    CHECK_INT(batch[0].status, INBOX_OK);
    CHECK_INT(batch[0].changed, 0);
    CHECK_INT(events.count, 0);
    CHECK_INT(fake.commands, 7);
    golden_check(&fake, "message_status_final_sent");

    /* the same "sent" not final (message.sent again): the hold stays */
    fake_reset(&fake);
    fake.replies[1] = CURSOR("{\"_id\": " OID(MSG_ID) ", \"status\":"
                             " \"sent\", \"contact_id\": "
                             OID(CONTACT_ID) ", \"held\": true,"
                             " \"credits\": 1}");
    batch[0].final = 0;
    CHECK_INT(inbox_store_message_status_updates(store, batch, 1, &events,
                                                 &err), INBOX_OK);
    CHECK_INT(batch[0].status, INBOX_OK);
    CHECK_INT(batch[0].changed, 0);
    CHECK_INT(fake.commands, 2);

    /* finalized first: moves to "sent" and captures */
    fake_reset(&fake);
    fake.replies[0] = MOVED("sent");
    fake.replies[1] = SETTLING(MSG_ID, "capture");
    fake.replies[2] = CREDITS("9", "0");
    fake.replies[6] = SEQ;
    batch[0].final = 1;
    CHECK_INT(inbox_store_message_status_updates(store, batch, 1, &events,
                                                 &err), INBOX_OK);
    CHECK_INT(batch[0].status, INBOX_OK);
    CHECK_INT(batch[0].changed, 1);
    CHECK_INT(events.count, 1);
    golden_check(&fake, "message_status_final_sent_moved");

    /* finalized before the sender recorded the id: kept as final */
    fake_reset(&fake);
    CHECK_INT(inbox_store_message_status_updates(store, batch, 1, &events,
                                                 &err), INBOX_OK);
    CHECK_INT(batch[0].status, INBOX_OK);
    CHECK_INT(batch[0].changed, 0);
    CHECK_INT(events.count, 1);
    golden_check(&fake, "message_status_final_sent_early");

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


/* The sender records a send Telnyx has finalized already (an early
 * report, final, of "sent"): the message moves to "sent" and its hold
 * is captured. */
TEST(outbox_result_early_final)
{
    fake_t               fake;
    inbox_error_t        err;
    inbox_store_t       *store;
    inbox_event_list_t   events;
    inbox_send_result_t  res;
    inbox_send_report_t  report;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_ACCEPTED;
    res.carrier = INBOX_CARRIER_TELNYX;
    snprintf(res.provider_id, sizeof(res.provider_id), "40f1a001");
    res.status = INBOX_DELIVERY_QUEUED;

    /* a first try that failed at the move leaves the reports for the
     * retry: what they say is not lost */
    fake.replies[0] = OUTBOX_ENTRY;
    fake.replies[2] = CURSOR("{\"status\": \"sent\", \"error_code\": \"\","
                             " \"final\": true}");
    fake.replies[3] = NOT_PRIMARY;
    CHECK_INT(inbox_store_outbox_result(store, GEN_3, 1, &res,
                                        1767225600000LL, &report, &events,
                                        &err), INBOX_ERR_UNAVAILABLE);
    CHECK(!log_has(&fake, "\"delete\" : \"early_reports\""));
    CHECK(!log_has(&fake, "\"remove\""));

    fake_reset(&fake);
    fake.replies[0] = OUTBOX_ENTRY;
    fake.replies[2] = CURSOR("{\"status\": \"sent\", \"error_code\": \"\","
                             " \"final\": true}");
    fake.replies[3] = MOVED("sent");
    fake.replies[4] = SETTLING(MSG_ID, "capture");
    fake.replies[5] = CREDITS("9", "0");
    fake.replies[9] = SEQ;
    fake.replies[14] = OUTBOX_LEFT;

    CHECK_INT(inbox_store_outbox_result(store, GEN_3, 1, &res,
                                        1767225600000LL, &report, &events,
                                        &err), INBOX_OK);
    CHECK_INT(report.done, 1);
    CHECK_INT(report.status, INBOX_DELIVERY_SENT);
    CHECK_INT(events.count, 1);
    CHECK(log_has(&fake, "\"delete\" : \"early_reports\""));
    golden_check(&fake, "outbox_result_early_final");

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


/*
 * A send whose answer never came (outbox.h): sending, "unknown_outcome",
 * taken now, its hold kept, and the early reports naming the message
 * looked for before and after (no transaction spans the record and a
 * callback).  One that did name it: recorded as accepted with its id.
 */
TEST(outbox_result_unknown)
{
    fake_t               fake;
    inbox_error_t        err;
    inbox_store_t       *store;
    inbox_event_list_t   events;
    inbox_send_result_t  res;
    inbox_send_report_t  report;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_UNKNOWN;
    res.carrier = INBOX_CARRIER_TWILIO;

    fake.replies[0] = OUTBOX_ENTRY;
    fake.replies[3] = MOVED("sending");
    fake.replies[4] = SEQ;
    fake.replies[9] = OUTBOX_LEFT;

    CHECK_INT(inbox_store_outbox_result(store, GEN_3, 1, &res,
                                        1767225600000LL, &report, &events,
                                        &err), INBOX_OK);
    CHECK_INT(report.done, 1);
    CHECK_INT(report.status, INBOX_DELIVERY_SENDING);
    CHECK_INT(events.count, 1);
    CHECK_INT(fake.commands, 10);
    golden_check(&fake, "outbox_result_unknown");

    /* its callbacks came first, naming it: their id, delivered */
    fake_reset(&fake);
    fake.replies[0] = OUTBOX_ENTRY;
    fake.replies[1] = CURSOR("{\"provider_id\": \"SMfast\"}");
    fake.replies[3] = CURSOR("{\"status\": \"sent\", \"error_code\": \"\"},"
                             " {\"status\": \"delivered\","
                             " \"error_code\": \"\"}");
    fake.replies[4] = MOVED("delivered");
    fake.replies[5] = SETTLING(MSG_ID, "capture");
    fake.replies[6] = CREDITS("9", "0");
    fake.replies[10] = SEQ;
    fake.replies[15] = OUTBOX_LEFT;

    CHECK_INT(inbox_store_outbox_result(store, GEN_3, 1, &res,
                                        1767225600000LL, &report, &events,
                                        &err), INBOX_OK);
    CHECK_INT(report.done, 1);
    CHECK_INT(report.status, INBOX_DELIVERY_DELIVERED);
    CHECK_INT(events.count, 2);
    golden_check(&fake, "outbox_result_unknown_named");

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


/*
 * A callback whose carrier id no message has, its URL naming a message:
 * kept with that message's id, then the message takes the carrier's id
 * if its outcome is unknown (a compare-and-set), and what was kept for
 * the id moves it.  Not taken (another organization's, one with an id):
 * nothing more.
 */
TEST(message_status_naming_an_unknown_outcome)
{
    inbox_status_report_t  batch[1];
    fake_t                 fake;
    inbox_error_t          err;
    inbox_store_t         *store;
    inbox_event_list_t     events;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    memset(batch, 0, sizeof(batch));
    batch[0].org_id = ORG_ID;
    batch[0].carrier = INBOX_CARRIER_TWILIO;
    batch[0].provider_id = "SMlost";
    batch[0].delivery = INBOX_DELIVERY_DELIVERED;
    batch[0].message_id = MSG_ID;

    fake.replies[5] = "{\"ok\": 1, \"value\": {\"_id\": " OID(MSG_ID)
                      ", \"conversation_id\": " OID(CONV_ID) "}}";
    fake.replies[7] = CURSOR("{\"status\": \"delivered\","
                             " \"error_code\": \"\"}");
    fake.replies[8] = MOVED("delivered");
    fake.replies[9] = SETTLING(MSG_ID, "capture");
    fake.replies[10] = CREDITS("9", "0");
    fake.replies[14] = SEQ;

    CHECK_INT(inbox_store_message_status_updates(store, batch, 1, &events,
                                                 &err), INBOX_OK);
    CHECK_INT(batch[0].status, INBOX_OK);
    CHECK_INT(batch[0].changed, 1);
    CHECK_INT(events.count, 1);
    /* its thread's row no more says why it was still sending, while it
     * is the last message; then it says delivered */
    CHECK(log_has(&fake, "\"last_message.error_code\" : "
                  "\"unknown_outcome\""));
    CHECK(log_has(&fake, "\"last_message.status\" : \"delivered\""));
    golden_check(&fake, "message_status_naming_unknown");

    /* no such message to take it: kept, nothing more */
    fake_reset(&fake);
    CHECK_INT(inbox_store_message_status_updates(store, batch, 1, &events,
                                                 &err), INBOX_OK);
    CHECK_INT(batch[0].status, INBOX_OK);
    CHECK_INT(batch[0].changed, 0);
    CHECK_INT(events.count, 1);
    CHECK_INT(fake.commands, 6);

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


TEST(holds_expire)
{
    size_t          captured;
    fake_t          fake;
    inbox_error_t   err;
    inbox_store_t  *store;

    store = fake_open(&fake);

    /* no settlement to finish; one hold expired: settling, the $inc and
     * its id in pending, the entry under the message's id, the id
     * pulled, the mark unset */
    fake.replies[1] = SETTLING(MSG_ID, "capture");
    fake.replies[2] = CREDITS("8", "0");

    CHECK_INT(inbox_store_holds_expire(store, 1767225600000LL, 0, &captured,
                                       &err), INBOX_OK);
    CHECK_INT(captured, 1);
    CHECK_INT(fake.commands, 7);
    golden_check(&fake, "holds_expire");

    fake_close(&fake, store);
}


/* A settlement an interruption left (store_mongo_settle.c), taken again
 * by the holds job once its lease ended, is finished once: the $inc
 * only where pending does not hold its id, the entry only where the
 * ledger has none. */
TEST(holds_expire_finishes_an_interrupted_settlement)
{
    size_t          captured;
    fake_t          fake;
    inbox_error_t   err;
    inbox_store_t  *store;

    store = fake_open(&fake);

    /* stopped after step 1: all of it */
    fake.replies[0] = SETTLING(MSG_ID, "release");
    fake.replies[2] = CREDITS("10", "0");
    CHECK_INT(inbox_store_holds_expire(store, 1767225600000LL, 0, &captured,
                                       &err), INBOX_OK);
    CHECK_INT(captured, 0);
    CHECK_INT(fake.commands, 8);
    golden_check(&fake, "holds_expire_settling");

    /* stopped after the $inc: pending holds the id, so nothing moves
     * again; the entry is written with the balances as they are */
    fake_reset(&fake);
    fake.replies[0] = SETTLING(MSG_ID, "release");
    fake.replies[3] = CURSOR("{\"_id\": " OID(ORG_ID) ", \"credits\":"
                             " {\"balance\": 10, \"held\": 0,"
                             " \"pending\": [" OID(MSG_ID) "]}}");
    CHECK_INT(inbox_store_holds_expire(store, 1767225600000LL, 0, &captured,
                                       &err), INBOX_OK);
    CHECK_INT(fake.commands, 9);
    CHECK(log_has(&fake, "\"insert\" : \"ledger\""));
    CHECK(log_has(&fake, "\"balance\" : { \"$numberLong\" : \"10\" }"));
    golden_check(&fake, "holds_expire_settling_moved");

    /* stopped after the entry: only the id pulled and the mark unset */
    fake_reset(&fake);
    fake.replies[0] = SETTLING(MSG_ID, "release");
    fake.replies[1] = CURSOR("{\"_id\": " OID(MSG_ID) "}");
    CHECK_INT(inbox_store_holds_expire(store, 1767225600000LL, 0, &captured,
                                       &err), INBOX_OK);
    CHECK_INT(fake.commands, 6);
    CHECK(!log_has(&fake, "\"$inc\""));
    CHECK(!log_has(&fake, "\"insert\" : \"ledger\""));
    CHECK(log_has(&fake, "\"$pull\""));
    CHECK(log_has(&fake, "\"$unset\""));

    fake_close(&fake, store);
}


/* A settler whose lease ended before its $inc (it stalled) moves nothing
 * and leaves the rest, settling, to the recovery; so does one whose
 * $inc failed. */
TEST(holds_expire_leaves_a_settlement_past_its_lease)
{
    size_t          captured;
    fake_t          fake;
    inbox_error_t   err;
    inbox_store_t  *store;

    store = fake_open(&fake);

    fake.replies[1] = SETTLING(MSG_ID, "capture");
    CHECK_INT(inbox_store_holds_expire(store, 1767225600000LL, 0, &captured,
                                       &err), INBOX_OK);
    /* the next expired hold's look follows */
    CHECK_INT(fake.commands, 5);
    CHECK(!log_has(&fake, "\"insert\" : \"ledger\""));
    CHECK(!log_has(&fake, "\"$pull\""));
    CHECK(!log_has(&fake, "\"$unset\""));

    fake_reset(&fake);
    fake.replies[1] = SETTLING(MSG_ID, "capture");
    fake.replies[2] = NOT_PRIMARY;
    CHECK_INT(inbox_store_holds_expire(store, 1767225600000LL, 0, &captured,
                                       &err), INBOX_ERR_UNAVAILABLE);
    CHECK_INT(fake.commands, 3);

    fake_close(&fake, store);
}


/* The same, of a message held again (its holds counted): its settlement
 * is keyed by (message, hold). */
#define SETTLING_HOLD(id, kind, n)                                            \
    "{\"ok\": 1, \"value\": {\"_id\": " OID(id) ", \"org_id\": "          \
    OID(ORG_ID) ", \"credits\": 1, \"settling\": \"" kind "\","          \
    " \"settling_since\": " DATE(NOW) ", \"holds\": " n "}}"


/*
 * A message's later hold (held again after its campaign's pause gave
 * the first back) is settled apart from its first: {message, hold} in
 * credits.pending and an entry of its own (unique by message_id and
 * hold), which the recovery looks for so; the first's stays keyed by
 * the message's id, as every settlement of before is.
 */
TEST(settlement_of_a_later_hold_is_keyed_by_its_count)
{
    size_t          captured;
    fake_t          fake;
    inbox_error_t   err;
    inbox_store_t  *store;

    store = fake_open(&fake);

    fake.replies[1] = SETTLING_HOLD(MSG_ID, "capture", "2");
    fake.replies[2] = CREDITS("8", "0");
    CHECK_INT(inbox_store_holds_expire(store, 1767225600000LL, 0, &captured,
                                       &err), INBOX_OK);
    CHECK_INT(captured, 1);
    CHECK_INT(fake.commands, 7);
    CHECK(log_has(&fake, "\"hold\" : { \"$numberLong\" : \"2\" }"));
    CHECK(log_has(&fake, "\"_id\" : { \"$oid\" : \"" GEN_1 "\" }"));
    golden_check(&fake, "settle_later_hold");

    /* stopped after its entry: found by (message_id, hold), so only the
     * key pulled and the mark unset */
    fake_reset(&fake);
    fake.replies[0] = SETTLING_HOLD(MSG_ID, "release", "2");
    fake.replies[1] = CURSOR("{\"_id\": " OID(GEN_1) "}");
    CHECK_INT(inbox_store_holds_expire(store, 1767225600000LL, 0, &captured,
                                       &err), INBOX_OK);
    CHECK_INT(fake.commands, 6);
    CHECK(!log_has(&fake, "\"$inc\""));
    CHECK(!log_has(&fake, "\"insert\" : \"ledger\""));
    golden_check(&fake, "settle_later_hold_recovered");

    fake_close(&fake, store);
}


TEST(status_checks_claim_and_end)
{
    fake_t                     fake;
    inbox_error_t              err;
    inbox_store_t             *store;
    const char                *ids[3];
    inbox_status_check_list_t  list;

    store = fake_open(&fake);

    /* never asked: taken ten minutes ago, from a number still there */
    fake.replies[0] = CURSOR(
        "{\"_id\": " OID(MSG_ID) ", \"org_id\": " OID(ORG_ID) ","
        " \"provider\": \"twilio\", \"provider_id\": \"SMa\","
        " \"from\": \"+15550001111\", \"submitted_at\": " DATE(EARLIER)
        "}");
    fake.replies[1] = NULL;                 /* claimed: n 1 */
    fake.replies[2] = CURSOR(
        "{\"_id\": " OID("64f1a0000000000000000a01") ","
        " \"org_id\": " OID(ORG_ID) ", \"e164\": \"+15550001111\","
        " \"carrier\": \"twilio\", \"account_sid\": \"AC1\","
        " \"auth_token\": \"tok\"}");
    /* due again: a campaign's, taken three hours ago; and one another
     * sender claimed first */
    fake.replies[3] = CURSOR(
        "{\"_id\": " OID(MSG2_ID) ", \"org_id\": " OID(ORG_ID) ","
        " \"campaign_id\": " OID("64f1a0000000000000000f01") ","
        " \"provider\": \"telnyx\", \"provider_id\": \"t-b\","
        " \"submitted_at\": " DATE("1767214800000") ","
        " \"status_check_at\": " DATE(EARLIER) "},"
        "{\"_id\": " OID("64f1a0000000000000000d03") ","
        " \"org_id\": " OID(ORG_ID) ", \"provider\": \"twilio\","
        " \"provider_id\": \"SMc\", \"submitted_at\": " DATE(EARLIER) ","
        " \"status_check_at\": " DATE(EARLIER) "}");
    fake.replies[4] = NULL;
    fake.replies[5] = CURSOR(
        "{\"_id\": " OID("64f1a0000000000000000a02") ","
        " \"org_id\": " OID(ORG_ID) ", \"e164\": \"+15550002222\","
        " \"carrier\": \"telnyx\", \"api_key\": \"KEY\"}");
    fake.replies[6] = "{\"ok\": 1, \"n\": 0, \"nModified\": 0}";

    CHECK_INT(inbox_store_status_checks_claim(store, 1767225600000LL, 0, 5,
                                              &list, &err), INBOX_OK);
    golden_check(&fake, "status_checks_claim");
    CHECK_INT(list.count, 2);
    if (list.count == 2) {
        CHECK_STR(list.items[0].message_id, MSG_ID);
        CHECK_STR(list.items[0].org_id, ORG_ID);
        CHECK_INT(list.items[0].carrier, INBOX_CARRIER_TWILIO);
        CHECK_STR(list.items[0].provider_id, "SMa");
        CHECK_STR(list.items[0].campaign_id, "");
        CHECK_STR(list.items[0].number.account_sid, "AC1");
        CHECK_INT(list.items[0].last, 0);
        CHECK_STR(list.items[1].message_id, MSG2_ID);
        CHECK_INT(list.items[1].carrier, INBOX_CARRIER_TELNYX);
        CHECK_STR(list.items[1].campaign_id, "64f1a0000000000000000f01");
        CHECK_STR(list.items[1].number.api_key, "KEY");
    }
    inbox_status_check_list_free(&list);

    fake_reset(&fake);
    ids[0] = MSG_ID;
    ids[1] = "not an id";
    ids[2] = MSG2_ID;
    CHECK_INT(inbox_store_status_checks_end(store, ids, 3, &err), INBOX_OK);
    golden_check(&fake, "status_checks_end");

    fake_close(&fake, store);
}


TEST(billing_get_and_ledger_list)
{
    fake_t               fake;
    inbox_error_t        err;
    inbox_store_t       *store;
    inbox_billing_t      billing;
    inbox_ledger_page_t  page;

    store = fake_open(&fake);

    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) ", \"billing_active\":"
                             " false, \"credits\": {\"balance\": 7,"
                             " \"held\": 2}}");
    CHECK_INT(inbox_store_billing_get(store, ORG_ID, &billing, &err),
              INBOX_OK);
    CHECK_INT(billing.active, 0);
    CHECK_STR(billing.plan, "per_message");
    CHECK_INT(billing.balance, 7);
    CHECK_INT(billing.held, 2);
    golden_check(&fake, "billing_get");

    /* a release: whom its message was for, the campaign it was sent
     * for, and why it failed, from the message, its thread and its
     * campaign (one query each, the campaigns' for their kind and name
     * only); a poll's message whose poll is not found (another
     * organization's) names none, nor does a reply */
    fake_reset(&fake);
    fake.replies[0] = REPLY_ORG("7");
    fake.replies[1] = CURSOR(
        "{\"_id\": " OID(GEN_4) ", \"kind\": \"release\", \"credits\": 1,"
        " \"balance\": 7, \"held\": 0, \"message_id\": " OID(MSG_ID) ","
        " \"created_at\": " DATE(NOW) "},"
        "{\"_id\": " OID(GEN_3) ", \"kind\": \"hold\", \"credits\": 1,"
        " \"balance\": 6, \"held\": 1, \"message_id\": " OID(MSG2_ID) ","
        " \"created_at\": " DATE(NOW) "},"
        "{\"_id\": " OID(GEN_2) ", \"kind\": \"hold\", \"credits\": 1,"
        " \"balance\": 7, \"held\": 1, \"message_id\": "
        OID("64f1a0000000000000000d03") ", \"created_at\": " DATE(NOW) "},"
        "{\"_id\": " OID(GEN_1) ", \"kind\": \"grant\", \"credits\": 8,"
        " \"balance\": 8, \"held\": 0, \"message_id\": null,"
        " \"created_at\": " DATE(EARLIER) "}");
    fake.replies[2] = CURSOR(
        "{\"_id\": " OID(MSG_ID) ", \"org_id\": " OID(ORG_ID) ","
        " \"conversation_id\": " OID(CONV_ID) ", \"status\": \"failed\","
        " \"error_code\": \"campaign_cancelled\","
        " \"campaign_id\": " OID("64f1a0000000000000000f01") ","
        " \"campaign_kind\": \"campaign\"},"
        "{\"_id\": " OID(MSG2_ID) ", \"org_id\": " OID(ORG_ID) ","
        " \"conversation_id\": " OID(CONV_ID) ", \"status\": \"queued\","
        " \"campaign_id\": " OID("64f1a0000000000000000f02") ","
        " \"campaign_kind\": \"poll\"},"
        "{\"_id\": " OID("64f1a0000000000000000d03") ","
        " \"org_id\": " OID(ORG_ID) ","
        " \"conversation_id\": " OID(CONV_ID) ", \"status\": \"queued\"}");
    fake.replies[3] = CURSOR(
        "{\"_id\": " OID(CONV_ID) ", \"org_id\": " OID(ORG_ID) ","
        " \"contact\": {\"id\": " OID(CONTACT_ID) ", \"name\": \"Ann Lee\","
        " \"phone\": \"+15551230001\"}}");
    fake.replies[4] = CURSOR(
        "{\"_id\": " OID("64f1a0000000000000000f01") ","
        " \"kind\": \"campaign\", \"name\": \"Spring sale\"}");
    CHECK_INT(inbox_store_ledger_list(store, ORG_ID, NULL, 3, &page, &err),
              INBOX_OK);
    CHECK_INT(page.count, 3);
    if (page.count == 3) {
        CHECK_INT(page.items[0].kind, INBOX_LEDGER_RELEASE);
        CHECK_STR(page.items[0].message_id, MSG_ID);
        CHECK_INT(page.items[0].balance, 7);
        CHECK_STR(page.items[0].conversation_id, CONV_ID);
        CHECK_STR(page.items[0].contact_name, "Ann Lee");
        CHECK_STR(page.items[0].contact_phone, "+15551230001");
        CHECK_STR(page.items[0].error_code, "campaign_cancelled");
        CHECK_STR(page.items[0].campaign.id, "64f1a0000000000000000f01");
        CHECK_INT(page.items[0].campaign.kind, INBOX_CAMPAIGN_KIND_CAMPAIGN);
        CHECK_STR(page.items[0].campaign.name, "Spring sale");
        CHECK_STR(page.items[1].contact_name, "Ann Lee");
        CHECK_STR(page.items[1].campaign.id, "");
        CHECK_STR(page.items[1].campaign.name, "");
        CHECK_STR(page.items[2].contact_name, "Ann Lee");
        CHECK_STR(page.items[2].campaign.id, "");
    }
    CHECK_STR(page.next_cursor, NOW ":" GEN_2);
    golden_check(&fake, "ledger_list");
    inbox_ledger_page_free(&page);

    fake_close(&fake, store);
}





/* resume and retention */

#define EVENTS_ORG  CURSOR("{\"_id\": " OID(ORG_ID) ", \"seq\":"             \
                           " {\"$numberLong\": \"12\"}, \"epoch\":"         \
                           " \"a1b2c3d4e5f60708\"}")
#define OLDEST(n)   CURSOR("{\"_id\": " OID(GEN_1) ", \"seq\":"              \
                           " {\"$numberLong\": \"" n "\"}}")


TEST(events_since)
{
    fake_t              fake;
    inbox_error_t       err;
    inbox_store_t      *store;
    inbox_event_list_t  events;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    fake.replies[0] = EVENTS_ORG;
    fake.replies[1] = OLDEST("9");
    fake.replies[2] = CURSOR(
        "{\"_id\": " OID(GEN_1) ", \"org_id\": " OID(ORG_ID) ", \"seq\":"
        " {\"$numberLong\": \"10\"}, \"type\": \"message.created\","
        " \"epoch\": \"a1b2c3d4e5f60708\", \"message_id\": " OID(MSG_ID) ","
        " \"conversation_id\": " OID(CONV_ID) "},"
        "{\"_id\": " OID(GEN_2) ", \"org_id\": " OID(ORG_ID) ", \"seq\":"
        " {\"$numberLong\": \"11\"}, \"type\": \"contact.updated\","
        " \"epoch\": \"a1b2c3d4e5f60708\", \"conversation_id\": "
        OID(CONV_ID) "},"
        "{\"_id\": " OID(GEN_3) ", \"org_id\": " OID(ORG_ID) ", \"seq\":"
        " {\"$numberLong\": \"12\"}, \"type\": \"unread.total\","
        " \"epoch\": \"a1b2c3d4e5f60708\", \"unread_total\":"
        " {\"$numberLong\": \"4\"}}");
    fake.replies[3] = CURSOR(
        "{\"_id\": " OID(MSG_ID) ", \"org_id\": " OID(ORG_ID) ","
        " \"conversation_id\": " OID(CONV_ID) ", \"direction\": \"inbound\","
        " \"body\": \"Is Tuesday ok?\", \"media\": [],"
        " \"created_at\": " DATE(NOW) "}");
    fake.replies[4] = CURSOR(
        "{\"_id\": " OID(CONV_ID) ", \"org_id\": " OID(ORG_ID) ","
        " \"contact\": {\"id\": " OID(CONTACT_ID) ", \"name\": \"Ann Lee\","
        " \"phone\": \"+15551230001\", \"opted_out\": true},"
        " \"last_activity_at\": " DATE(NOW) ", \"unread_count\": 4,"
        " \"archived\": false, \"starred\": false}");
    fake.replies[5] = CURSOR(
        "{\"_id\": " OID(CONTACT_ID) ", \"org_id\": " OID(ORG_ID) ","
        " \"name\": \"Ann Lee\", \"phone\": \"+15551230001\","
        " \"opted_out\": true, \"opted_out_at\": " DATE(NOW) ","
        " \"opt_out_source\": \"manual\", \"conversation_id\": "
        OID(CONV_ID) "}");

    CHECK_INT(inbox_store_events_since(store, ORG_ID, "a1b2c3d4e5f60708", 9,
                                       0, 50, &events, &err), INBOX_OK);
    CHECK_INT(events.count, 3);
    if (events.count == 3) {
        CHECK_INT(events.items[0].org_seq, 10);
        CHECK_STR(events.items[0].org_id, ORG_ID);
        CHECK(strstr(events.items[0].json, "\"type\":\"message.created\","
                     "\"org_seq\":10,\"epoch\":\"a1b2c3d4e5f60708\"")
              != NULL);
        CHECK(strstr(events.items[0].json, "\"body\":\"Is Tuesday ok?\"")
              != NULL);
        CHECK(strstr(events.items[0].json, "\"unread_count\":4") != NULL);
        CHECK(strstr(events.items[1].json, "\"type\":\"contact.updated\"")
              != NULL);
        CHECK(strstr(events.items[1].json, "\"opt_out_source\":\"manual\"")
              != NULL);
        CHECK_STR(events.items[2].json, "{\"type\":\"unread.total\","
                  "\"org_seq\":12,\"epoch\":\"a1b2c3d4e5f60708\","
                  "\"count\":4}");
    }
    golden_check(&fake, "events_since");
    inbox_event_list_free(&events);

    /* another epoch: a reset before any event is read */
    fake_reset(&fake);
    fake.replies[0] = EVENTS_ORG;
    fake.replies[1] = OLDEST("9");
    CHECK_INT(inbox_store_events_since(store, ORG_ID, "ffff", 9, 0, 50,
                                       &events, &err), INBOX_ERR_CONFLICT);
    CHECK_STR(err.field, "epoch");
    CHECK_INT(fake.commands, 2);

    /* events 10 and 11 pruned */
    fake_reset(&fake);
    fake.replies[0] = EVENTS_ORG;
    fake.replies[1] = OLDEST("12");
    CHECK_INT(inbox_store_events_since(store, ORG_ID, "a1b2c3d4e5f60708", 9,
                                       0, 50, &events, &err),
              INBOX_ERR_CONFLICT);
    CHECK_STR(err.field, "org_seq");
    CHECK_INT(events.count, 0);

    /* 11 numbered but not written yet: the answer stops before it */
    fake_reset(&fake);
    fake.replies[0] = EVENTS_ORG;
    fake.replies[1] = OLDEST("1");
    fake.replies[2] = CURSOR(
        "{\"_id\": " OID(GEN_1) ", \"seq\": {\"$numberLong\": \"10\"},"
        " \"type\": \"unread.total\", \"epoch\": \"a1b2c3d4e5f60708\","
        " \"unread_total\": 1},"
        "{\"_id\": " OID(GEN_3) ", \"seq\": {\"$numberLong\": \"12\"},"
        " \"type\": \"unread.total\", \"epoch\": \"a1b2c3d4e5f60708\","
        " \"unread_total\": 2}");
    CHECK_INT(inbox_store_events_since(store, ORG_ID, "a1b2c3d4e5f60708", 9,
                                       0, 50, &events, &err), INBOX_OK);
    CHECK_INT(events.count, 1);
    CHECK_INT(fake.commands, 3);
    inbox_event_list_free(&events);

    /* a message gone since: a reset, nothing half handed out */
    fake_reset(&fake);
    fake.replies[0] = EVENTS_ORG;
    fake.replies[1] = OLDEST("1");
    fake.replies[2] = CURSOR(
        "{\"_id\": " OID(GEN_1) ", \"seq\": {\"$numberLong\": \"10\"},"
        " \"type\": \"unread.total\", \"epoch\": \"a1b2c3d4e5f60708\","
        " \"unread_total\": 1},"
        "{\"_id\": " OID(GEN_2) ", \"seq\": {\"$numberLong\": \"11\"},"
        " \"type\": \"message.status\", \"epoch\": \"a1b2c3d4e5f60708\","
        " \"message_id\": " OID(MSG_ID) "}");
    CHECK_INT(inbox_store_events_since(store, ORG_ID, "a1b2c3d4e5f60708", 9,
                                       0, 50, &events, &err),
              INBOX_ERR_CONFLICT);
    CHECK_STR(err.field, "org_seq");
    CHECK_INT(events.count, 0);
    inbox_event_list_free(&events);

    /* billing.updated: the billing as it is now, read once for both */
    fake_reset(&fake);
    fake.replies[0] = EVENTS_ORG;
    fake.replies[1] = OLDEST("1");
    fake.replies[2] = CURSOR(
        "{\"_id\": " OID(GEN_1) ", \"seq\": {\"$numberLong\": \"10\"},"
        " \"type\": \"billing.updated\", \"epoch\": \"a1b2c3d4e5f60708\"},"
        "{\"_id\": " OID(GEN_2) ", \"seq\": {\"$numberLong\": \"11\"},"
        " \"type\": \"billing.updated\", \"epoch\": \"a1b2c3d4e5f60708\"}");
    fake.replies[3] = BILLING_DOC("true", "per_message");
    CHECK_INT(inbox_store_events_since(store, ORG_ID, "a1b2c3d4e5f60708", 9,
                                       0, 50, &events, &err), INBOX_OK);
    CHECK_INT(events.count, 2);
    CHECK_INT(fake.commands, 4);
    if (events.count == 2) {
        CHECK_STR(events.items[1].json, "{\"type\":\"billing.updated\","
                  "\"org_seq\":11,\"epoch\":\"a1b2c3d4e5f60708\","
                  "\"billing\":{\"active\":true,\"plan\":\"per_message\","
                  "\"credits\":{\"balance\":520,\"held\":3}}}");
    }
    golden_check(&fake, "events_since_billing");
    inbox_event_list_free(&events);

    /* settings.updated: the settings as they are now, read once for
     * both */
    fake_reset(&fake);
    fake.replies[0] = EVENTS_ORG;
    fake.replies[1] = OLDEST("1");
    fake.replies[2] = CURSOR(
        "{\"_id\": " OID(GEN_1) ", \"seq\": {\"$numberLong\": \"10\"},"
        " \"type\": \"settings.updated\", \"epoch\": \"a1b2c3d4e5f60708\"},"
        "{\"_id\": " OID(GEN_2) ", \"seq\": {\"$numberLong\": \"11\"},"
        " \"type\": \"settings.updated\", \"epoch\": \"a1b2c3d4e5f60708\"}");
    fake.replies[3] = CURSOR("{\"_id\": " OID(ORG_ID) ", \"name\":"
                             " \"Acme Dental\", \"timezone\":"
                             " \"Europe/Paris\", \"quiet_start\": 1320,"
                             " \"quiet_end\": 450}");
    CHECK_INT(inbox_store_events_since(store, ORG_ID, "a1b2c3d4e5f60708", 9,
                                       0, 50, &events, &err), INBOX_OK);
    CHECK_INT(events.count, 2);
    CHECK_INT(fake.commands, 4);
    if (events.count == 2) {
        CHECK(strstr(events.items[1].json, "{\"type\":\"settings.updated\","
                     "\"org_seq\":11,\"epoch\":\"a1b2c3d4e5f60708\","
                     "\"settings\":{\"timezone\":\"Europe/Paris\","
                     "\"quiet_hours\":{\"start\":\"22:00\",\"end\":"
                     "\"07:30\"},\"business_name\":\"Acme Dental\",")
              == events.items[1].json);
    }
    golden_check(&fake, "events_since_settings");
    inbox_event_list_free(&events);

    /* no such organization */
    fake_reset(&fake);
    CHECK_INT(inbox_store_events_since(store, ORG_ID, "a1b2c3d4e5f60708", 9,
                                       0, 50, &events, &err),
              INBOX_ERR_NOT_FOUND);

    fake_close(&fake, store);
}


TEST(events_prune)
{
    size_t                   removed;
    fake_t                   fake;
    inbox_error_t            err;
    inbox_store_t           *store;
    inbox_event_retention_t  keep;

    store = fake_open(&fake);

    /* events 1 and 2 are ten minutes old, 3 is new: a minute's age
     * keeps 3 only, and what stays has no hole */
    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) ", \"seq\":"
                             " {\"$numberLong\": \"3\"}}");
    /* the oldest alone: it goes, so the next ones are read */
    fake.replies[1] = CURSOR(
        "{\"_id\": " OID(GEN_1) ", \"seq\": {\"$numberLong\": \"1\"},"
        " \"created_at\": " DATE(EARLIER) "}");
    fake.replies[2] = CURSOR(
        "{\"_id\": " OID(GEN_1) ", \"seq\": {\"$numberLong\": \"1\"},"
        " \"created_at\": " DATE(EARLIER) "},"
        "{\"_id\": " OID(GEN_2) ", \"seq\": {\"$numberLong\": \"2\"},"
        " \"created_at\": " DATE(EARLIER) "},"
        "{\"_id\": " OID(GEN_3) ", \"seq\": {\"$numberLong\": \"3\"},"
        " \"created_at\": " DATE(NOW) "}");
    fake.replies[3] = "{\"ok\": 1, \"n\": 2}";

    keep.keep_ms = 60000;
    keep.keep_count = 0;
    CHECK_INT(inbox_store_events_prune(store, 1767225600000LL, &keep, 500,
                                       &removed, &err), INBOX_OK);
    CHECK_INT(removed, 2);
    golden_check(&fake, "events_prune");

    /* the count keeps them all: no event is read, none deleted */
    fake_reset(&fake);
    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) ", \"seq\":"
                             " {\"$numberLong\": \"3\"}}");
    keep.keep_count = 3;
    CHECK_INT(inbox_store_events_prune(store, 1767225600000LL, &keep, 500,
                                       &removed, &err), INBOX_OK);
    CHECK_INT(removed, 0);
    CHECK_INT(fake.commands, 1);

    /* the count lets the oldest go, its age keeps it: that one event is
     * read, and nothing deleted */
    fake_reset(&fake);
    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) ", \"seq\":"
                             " {\"$numberLong\": \"3\"}}");
    fake.replies[1] = CURSOR(
        "{\"_id\": " OID(GEN_1) ", \"seq\": {\"$numberLong\": \"1\"},"
        " \"created_at\": " DATE(NOW) "}");
    keep.keep_count = 1;
    CHECK_INT(inbox_store_events_prune(store, 1767225600000LL, &keep, 500,
                                       &removed, &err), INBOX_OK);
    CHECK_INT(removed, 0);
    CHECK_INT(fake.commands, 2);
    CHECK(log_has(&fake, "\"seq\" : { \"$lte\" : { \"$numberLong\" : "
                         "\"2\" } }"));
    CHECK(log_has(&fake, "\"limit\" : { \"$numberInt\" : \"1\" }"));

    fake_close(&fake, store);
}


/* A page of organizations a round: the next round reads the page after
 * it, so an organization past the first 10,000 has its events pruned
 * too; after the last page the rounds begin again from the first. */
TEST(events_prune_pages_through_orgs)
{
    char                    *page;
    size_t                   removed, i;
    buf_t                    docs = { NULL, 0, 0 };
    fake_t                   fake;
    inbox_error_t            err;
    inbox_store_t           *store;
    inbox_event_retention_t  keep;
    char                     doc[128];

    store = fake_open(&fake);

    keep.keep_ms = 60000;
    keep.keep_count = 10;

    /* a full page: 10,000 organizations, their oldest events young */
    buf_puts(&docs, "{\"cursor\": {\"id\": {\"$numberLong\": \"0\"},"
                    " \"ns\": \"inbox.orgs\", \"firstBatch\": [");
    for (i = 0; i < 10000; i++) {
        snprintf(doc, sizeof(doc),
                 "%s{\"_id\": {\"$oid\": \"64f1a00000000000000%05zx\"},"
                 " \"seq\": {\"$numberLong\": \"20\"}}",
                 i ? ", " : "", i + 1);
        buf_puts(&docs, doc);
    }
    buf_puts(&docs, "]}, \"ok\": 1}");
    page = docs.data;

    fake.replies[0] = page;
    CHECK_INT(inbox_store_events_prune(store, 1767225600000LL, &keep, 500,
                                       &removed, &err), INBOX_OK);
    CHECK_INT(removed, 0);
    CHECK_INT(fake.commands, 10001);
    CHECK(!log_has(&fake, "\"$gt\" : { \"$oid\""));

    /* the next round: the organizations after the page's last, the
     * first of them with events to prune */
    fake_reset(&fake);
    fake.replies[0] = CURSOR("{\"_id\": {\"$oid\":"
                             " \"64f1a0000000000000002711\"},"
                             " \"seq\": {\"$numberLong\": \"20\"}}");
    fake.replies[1] = CURSOR(
        "{\"_id\": " OID(GEN_1) ", \"seq\": {\"$numberLong\": \"1\"},"
        " \"created_at\": " DATE(EARLIER) "}");
    fake.replies[2] = CURSOR(
        "{\"_id\": " OID(GEN_1) ", \"seq\": {\"$numberLong\": \"1\"},"
        " \"created_at\": " DATE(EARLIER) "}");
    fake.replies[3] = "{\"ok\": 1, \"n\": 1}";
    CHECK_INT(inbox_store_events_prune(store, 1767225600000LL, &keep, 500,
                                       &removed, &err), INBOX_OK);
    CHECK_INT(removed, 1);
    golden_check(&fake, "events_prune_next_page");

    /* that was the last page: the first again */
    fake_reset(&fake);
    CHECK_INT(inbox_store_events_prune(store, 1767225600000LL, &keep, 500,
                                       &removed, &err), INBOX_OK);
    CHECK_INT(fake.commands, 1);
    CHECK(!log_has(&fake, "\"$gt\" : { \"$oid\""));

    fake_close(&fake, store);
    free(page);
}


/* The stale-reply guard reads the thread and writes nothing. */
TEST(reply_accept_stale)
{
    fake_t                fake;
    inbox_reply_t         r;
    inbox_error_t         err;
    inbox_store_t        *store;
    inbox_reply_result_t  result;

    store = fake_open(&fake);
    reply_of(&r, NULL);
    r.last_seen_message_id = MSG2_ID;

    fake.replies[0] = CURSOR("{\"_id\": " OID(CONV_ID) ", \"org_id\": "
                             OID(ORG_ID) ", \"contact\": {\"id\": "
                             OID(CONTACT_ID) ", \"phone\": \"+15551234567\","
                             " \"opted_out\": false}, \"last_message\":"
                             " {\"id\": " OID(MSG_ID) ", \"direction\":"
                             " \"inbound\", \"preview\": \"Wait\", \"at\": "
                             DATE(NOW) "}, \"unread_count\": 1}");

    CHECK_INT(inbox_store_reply_accept(store, ORG_ID, &r, &result, NULL,
                                       &err), INBOX_ERR_STALE);
    CHECK_STR(err.last_message_id, MSG_ID);
    CHECK_INT(fake.commands, 1);
    CHECK(!log_has(&fake, "\"insert\""));
    CHECK(!log_has(&fake, "\"findAndModify\""));
    inbox_reply_result_free(&result);

    fake_close(&fake, store);
}


/* An image to a number no MMS reaches is refused on the contact's own
 * record, before the organization is read and before any write. */
TEST(reply_accept_an_image_abroad)
{
    fake_t                fake;
    inbox_reply_t         r;
    inbox_error_t         err;
    inbox_media_t         media;
    inbox_store_t        *store;
    inbox_reply_result_t  result;

    store = fake_open(&fake);
    reply_of(&r, NULL);
    media_upload(&media);
    r.media = &media;
    r.media_count = 1;

    fake.replies[0] = REPLY_CONV;
    fake.replies[1] = CURSOR("{\"_id\": " OID(CONTACT_ID) ", \"phone\":"
                             " \"+18765550123\", \"opted_out\": false}");

    CHECK_INT(inbox_store_reply_accept(store, ORG_ID, &r, &result, NULL,
                                       &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "media_ids");
    CHECK_INT(fake.commands, 2);
    CHECK(!log_has(&fake, "\"insert\""));
    CHECK(!log_has(&fake, "\"findAndModify\""));
    inbox_reply_result_free(&result);

    fake_close(&fake, store);
}


/* campaigns and polls */

#define CAMPAIGN_ID     "64f1a0000000000000000f01"
#define POLL_ID         "64f1a0000000000000000f02"
#define RCPT1_ID        "64f1a0000000000000000a01"
#define RCPT2_ID        "64f1a0000000000000000a02"
#define RCPT3_ID        "64f1a0000000000000000a03"
#define CONTACT3_ID     "64f1a0000000000000000b03"
#define NOON            "1767268800000"     /* 2026-01-01T12:00:00Z */
#define NOON_MS         1767268800000LL
#define DAY_MS          (24LL * 3600 * 1000)
#define NOTHING_MOVED   "{\"ok\": 1, \"n\": 0, \"nModified\": 0}"

/* A stored campaign to the tag VIP in status, as a find answers it. */
#define CAMPAIGN_DOC(status)  CAMPAIGN_DOC_WHY(status, "null")

/* The same paused for reason (a JSON string or null). */
#define CAMPAIGN_DOC_WHY(status, reason)                                      \
    CAMPAIGN_DOC_CANCELLED(status, reason, "null", "null")

/* The same cancelled for cancelled, with message (JSON strings or
 * null). */
#define CAMPAIGN_DOC_CANCELLED(status, reason, cancelled, message)            \
    "{\"_id\": " OID(CAMPAIGN_ID) ", \"org_id\": " OID(ORG_ID) ","            \
    " \"kind\": \"campaign\", \"name\": \"Spring sale\", \"body\": \"Sale!\","\
    " \"question\": null, \"options\": [], \"audience_all\": false,"         \
    " \"tags\": [\"VIP\"], \"tag_keys\": [\"vip\"], \"media\": [],"          \
    " \"segments\": 1, \"credits\": 1, \"status\": \"" status "\","          \
    " \"paused_reason\": " reason ", \"cancelled_reason\": " cancelled ","     \
    " \"cancelled_message\": " message ", \"send_at\": " DATE("0") ","        \
    " \"created_at\": " DATE(NOW) ", \"started_at\": null,"                  \
    " \"finished_at\": null}"

#define POLL_DOC                                                              \
    "{\"_id\": " OID(POLL_ID) ", \"org_id\": " OID(ORG_ID) ","                \
    " \"kind\": \"poll\", \"name\": \"Which day?\", \"body\":"               \
    " \"Which day?\\n1) Monday\\n2) Friday\", \"question\": \"Which day?\"," \
    " \"options\": [\"Monday\", \"Friday\"], \"audience_all\": true,"        \
    " \"tags\": [], \"tag_keys\": [], \"media\": [], \"segments\": 1,"       \
    " \"credits\": 1, \"status\": \"done\", \"paused_reason\": null,"        \
    " \"send_at\": " DATE("0") ", \"created_at\": " DATE(NOW) ","            \
    " \"started_at\": " DATE(NOW) ", \"finished_at\": " DATE(NOW) "}"

/* A poll sending, as a find answers it. */
#define SENDING_POLL                                                          \
    "{\"_id\": " OID(POLL_ID) ", \"org_id\": " OID(ORG_ID) ","                \
    " \"kind\": \"poll\", \"name\": \"Which day?\", \"body\":"               \
    " \"Which day?\\n1) Monday\\n2) Friday\", \"question\": \"Which day?\"," \
    " \"options\": [\"Monday\", \"Friday\"], \"audience_all\": true,"        \
    " \"tags\": [], \"tag_keys\": [], \"media\": [], \"segments\": 1,"       \
    " \"credits\": 1, \"status\": \"sending\", \"paused_reason\": null,"     \
    " \"send_at\": " DATE("0") ", \"created_at\": " DATE(NOW) ","            \
    " \"started_at\": " DATE(NOW) ", \"finished_at\": null}"

/* Its status as dispatch reads it again after a claim. */
#define STILL_SENDING                                                         \
    CURSOR("{\"_id\": " OID(CAMPAIGN_ID) ", \"status\": \"sending\"}")

/* Its recipients by state, as the counts' aggregate answers. */
#define CAMPAIGN_COUNTS                                                       \
    CURSOR("{\"_id\": {\"campaign\": " OID(CAMPAIGN_ID) ", \"state\":"        \
           " \"due\"}, \"n\": 2, \"replied\": 0},"                            \
           " {\"_id\": {\"campaign\": " OID(CAMPAIGN_ID) ", \"state\":"       \
           " \"sent\"}, \"n\": 3, \"replied\": 1},"                           \
           " {\"_id\": {\"campaign\": " OID(CAMPAIGN_ID) ", \"state\":"       \
           " \"suppressed\"}, \"n\": 1, \"replied\": 0}")

/* A poll's recipients by state and answer: 4 answered 1 and 7 answered
 * 2 of 13 delivered. */
#define POLL_COUNTS                                                           \
    CURSOR("{\"_id\": {\"campaign\": " OID(POLL_ID) ", \"state\":"            \
           " \"delivered\", \"answer\": null}, \"n\": 2, \"replied\": 1},"    \
           " {\"_id\": {\"campaign\": " OID(POLL_ID) ", \"state\":"           \
           " \"delivered\", \"answer\": 1}, \"n\": 4, \"replied\": 4},"       \
           " {\"_id\": {\"campaign\": " OID(POLL_ID) ", \"state\":"           \
           " \"delivered\", \"answer\": 2}, \"n\": 7, \"replied\": 7}")

/* The organization as dispatch reads it: London, billing, balance. */
/* The organization on an unlimited plan, billing active, no credits. */
#define UNLIMITED_ORG                                                         \
    CURSOR("{\"_id\": " OID(ORG_ID) ", \"name\": \"Acme\", \"timezone\":"     \
           " \"Europe/London\", \"billing_active\": true, \"plan\":"          \
           " \"unlimited\", \"credits\": {\"balance\": 0, \"held\": 0}}")
#define SENDER_ORG(active, bal)                                               \
    CURSOR("{\"_id\": " OID(ORG_ID) ", \"name\": \"Acme\", \"timezone\":"     \
           " \"Europe/London\", \"billing_active\": " active ","              \
           " \"credits\": {\"balance\": " bal ", \"held\": 0}}")

/* Due recipients with their contacts: Ann opted out since, Bob in Tokyo
 * (21:00 there at noon UTC: quiet), Cy in the organization's zone. */
#define DUE_ANN                                                               \
    "{\"_id\": " OID(RCPT1_ID) ", \"state\": \"due\", \"contact_id\": "       \
    OID(CONTACT2_ID) ", \"contact\": [{\"phone\": \"+15551230002\","          \
    " \"opted_out\": true, \"conversation_id\": " OID(CONV2_ID) "}]}"
#define DUE_BOB                                                               \
    "{\"_id\": " OID(RCPT2_ID) ", \"state\": \"due\", \"contact_id\": "       \
    OID(CONTACT3_ID) ", \"contact\": [{\"phone\": \"+15551230003\","          \
    " \"opted_out\": false, \"timezone\": \"Asia/Tokyo\","                    \
    " \"conversation_id\": " OID(CONV3_ID) "}]}"
#define DUE_CY                                                                \
    "{\"_id\": " OID(RCPT3_ID) ", \"state\": \"waiting_quiet_hours\","        \
    " \"contact_id\": " OID(CONTACT_ID) ", \"contact\": [{\"phone\":"         \
    " \"+15551234567\", \"opted_out\": false, \"timezone\": null,"           \
    " \"conversation_id\": " OID(CONV_ID) "}]}"


static void
campaign_tags(inbox_tags_t *tags, const char *tag)
{
    memset(tags, 0, sizeof(inbox_tags_t));
    (void) inbox_tags_add(tags, tag, strlen(tag), NULL);
}


TEST(campaign_create_stores_a_poll_with_its_options_and_tags)
{
    fake_t                fake;
    inbox_tags_t          tags;
    inbox_error_t         err;
    inbox_store_t        *store;
    inbox_campaign_t      c;
    inbox_campaign_new_t  n;

    static const char *const  options[] = { " Monday ", "Friday" };

    store = fake_open(&fake);
    campaign_tags(&tags, "VIP");

    memset(&n, 0, sizeof(n));
    n.kind = INBOX_CAMPAIGN_KIND_POLL;
    n.question = "Which day?";
    n.options = options;
    n.option_count = 2;
    n.tags = &tags;
    n.send_at = NOON_MS;

    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) "}");

    /* the organization checked, then one insert: options trimmed, the
     * tags with their keys */
    fake.replies[2] = SEQ;     /* campaign.updated or .deleted */
    CHECK_INT(inbox_store_campaign_create(store, ORG_ID, &n, NOON_MS, &c,
                                          NULL, &err), INBOX_OK);
    CHECK_STR(c.id, GEN_1);
    CHECK_STR(c.name, "Which day?");
    CHECK_STR(c.body, "Which day?\n1) Monday\n2) Friday");
    CHECK_INT(c.option_count, 2);
    CHECK_STR(c.options[0], "Monday");
    CHECK_INT(c.tags.count, 1);
    CHECK_INT(c.status, INBOX_CAMPAIGN_DRAFT);
    CHECK_INT(c.credits, 1);
    CHECK(c.send_at == NOON_MS);
    golden_check(&fake, "campaign_create");
    inbox_campaign_free(&c);

    /* another organization's id: nothing stored */
    fake_reset(&fake);
    CHECK_INT(inbox_store_campaign_create(store, ORG_ID, &n, NOON_MS, &c,
                                          NULL, &err), INBOX_ERR_NOT_FOUND);
    CHECK_INT(fake.commands, 1);
    inbox_campaign_free(&c);

    inbox_tags_free(&tags);
    fake_close(&fake, store);
}


TEST(campaign_create_attaches_its_upload)
{
    fake_t                fake;
    inbox_error_t         err;
    inbox_media_t         media;
    inbox_store_t        *store;
    inbox_campaign_t      c;
    inbox_campaign_new_t  n;

    store = fake_open(&fake);
    media_upload(&media);

    memset(&n, 0, sizeof(n));
    n.name = "Pictures";
    n.body = "Look";
    n.audience_all = 1;
    n.media = &media;
    n.media_count = 1;

    /* the organization checked, the upload attached, then the insert */
    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) "}");
    fake.replies[3] = SEQ;     /* campaign.updated or .deleted */
    CHECK_INT(inbox_store_campaign_create(store, ORG_ID, &n, NOON_MS, &c,
                                          NULL, &err), INBOX_OK);
    CHECK_INT(c.media_count, 1);
    if (c.media_count == 1) {
        CHECK_STR(c.media[0].upload_id, MEDIA_ID);
    }
    golden_check(&fake, "campaign_create_media");
    inbox_campaign_free(&c);

    /* purged since it was read: refused, nothing stored */
    fake_reset(&fake);
    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) "}");
    fake.replies[1] = MEDIA_NOT_MATCHED;
    CHECK_INT(inbox_store_campaign_create(store, ORG_ID, &n, NOON_MS, &c,
                                          NULL, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "media_ids.0");
    CHECK_INT(fake.commands, 2);
    inbox_campaign_free(&c);

    fake_close(&fake, store);
}


/* An edit: one findAndModify that matches only a draft of its kind;
 * none matched, the campaign read says why. */
TEST(campaign_update_replaces_a_draft_only)
{
    fake_t                fake;
    inbox_tags_t          tags;
    inbox_error_t         err;
    inbox_media_t         media;
    inbox_store_t        *store;
    inbox_campaign_t      c;
    inbox_campaign_new_t  n;

    store = fake_open(&fake);
    campaign_tags(&tags, "VIP");
    media_upload(&media);

    memset(&n, 0, sizeof(n));
    n.name = "Spring sale";
    n.body = "Sale!";
    n.tags = &tags;
    n.media = &media;
    n.media_count = 1;
    n.send_at = NOON_MS;

    /* the upload attached, then the draft's fields set */
    fake.replies[1] = "{\"ok\": 1, \"value\": " CAMPAIGN_DOC("draft") "}";
    fake.replies[2] = SEQ;     /* campaign.updated or .deleted */
    CHECK_INT(inbox_store_campaign_update(store, ORG_ID, CAMPAIGN_ID, 0, &n, &c,
                                          NULL, &err), INBOX_OK);
    CHECK_STR(c.id, CAMPAIGN_ID);
    CHECK_INT(c.status, INBOX_CAMPAIGN_DRAFT);
    golden_check(&fake, "campaign_update");
    inbox_campaign_free(&c);

    /* an image kept from a document of before, its upload not known:
     * set without one */
    media.upload_id[0] = '\0';
    fake_reset(&fake);
    fake.replies[1] = "{\"ok\": 1, \"value\": " CAMPAIGN_DOC("draft") "}";
    fake.replies[2] = SEQ;     /* campaign.updated or .deleted */
    CHECK_INT(inbox_store_campaign_update(store, ORG_ID, CAMPAIGN_ID, 0, &n, &c,
                                          NULL, &err), INBOX_OK);
    CHECK(log_has(&fake, "\"file\" : \"" MEDIA_FILE "\""));
    CHECK(!log_has(&fake, "upload_id"));
    inbox_campaign_free(&c);
    strcpy(media.upload_id, MEDIA_ID);

    /* sent meanwhile: read again, 409 in its words, nothing else */
    n.media_count = 0;
    n.media = NULL;
    fake_reset(&fake);
    fake.replies[1] = CURSOR(CAMPAIGN_DOC("sending"));
    CHECK_INT(inbox_store_campaign_update(store, ORG_ID, CAMPAIGN_ID, 0, &n, &c,
                                          NULL, &err), INBOX_ERR_CONFLICT);
    CHECK_STR(err.message, "Only a draft can be edited; this one is "
              "sending.");
    inbox_campaign_free(&c);

    /* a draft edited since the revision read: 409, nothing else */
    fake_reset(&fake);
    fake.replies[1] = CURSOR(CAMPAIGN_DOC("draft"));
    CHECK_INT(inbox_store_campaign_update(store, ORG_ID, CAMPAIGN_ID, 3, &n,
                                          &c, NULL, &err), INBOX_ERR_CONFLICT);
    CHECK_STR(err.message, "This draft was edited meanwhile; read it "
              "again.");
    CHECK(log_has(&fake, "\"revision\" : { \"$numberLong\" : \"3\" }"));
    inbox_campaign_free(&c);

    /* none, or the other kind's: 404 */
    fake_reset(&fake);
    CHECK_INT(inbox_store_campaign_update(store, ORG_ID, CAMPAIGN_ID, 0, &n, &c,
                                          NULL, &err), INBOX_ERR_NOT_FOUND);
    CHECK_INT(fake.commands, 2);
    inbox_campaign_free(&c);

    fake_reset(&fake);
    fake.replies[1] = CURSOR(POLL_DOC);
    CHECK_INT(inbox_store_campaign_update(store, ORG_ID, POLL_ID, 0, &n, &c,
                                          NULL, &err), INBOX_ERR_NOT_FOUND);
    CHECK_STR(err.message, "There is no such campaign.");
    inbox_campaign_free(&c);

    /* its upload purged since it was read: refused, nothing set */
    n.media = &media;
    n.media_count = 1;
    fake_reset(&fake);
    fake.replies[0] = MEDIA_NOT_MATCHED;
    CHECK_INT(inbox_store_campaign_update(store, ORG_ID, CAMPAIGN_ID, 0, &n, &c,
                                          NULL, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "media_ids.0");
    CHECK_INT(fake.commands, 1);
    inbox_campaign_free(&c);

    inbox_tags_free(&tags);
    fake_close(&fake, store);
}


/*
 * An edit answers the draft as it was: the images it had that the edit
 * leaves out are released after it, those it keeps are not; an edit
 * refused, or a campaign whose insert failed, releases what its attach
 * attached, and an attach that finds an upload gone releases those it
 * attached before it.
 */
TEST(campaign_edits_release_the_uploads_they_drop)
{
    fake_t                fake;
    inbox_error_t         err;
    inbox_media_t         media[2];
    inbox_store_t        *store;
    inbox_campaign_t      c;
    inbox_campaign_new_t  n;

    store = fake_open(&fake);
    media_upload(&media[0]);
    media_upload(&media[1]);
    strcpy(media[1].url, "https://inbox.test/media/" MEDIA2_FILE);
    strcpy(media[1].file, MEDIA2_FILE);
    strcpy(media[1].upload_id, MEDIA2_ID);

    memset(&n, 0, sizeof(n));
    n.name = "Spring sale";
    n.body = "Sale!";
    n.audience_all = 1;
    n.media = &media[1];
    n.media_count = 1;

    /* the draft had both: the first is released, the second kept */
    fake.replies[1] = "{\"ok\": 1, \"value\": {\"_id\": " OID(CAMPAIGN_ID)
        ", \"org_id\": " OID(ORG_ID) ", \"kind\": \"campaign\","
        " \"name\": \"Sale\", \"body\": \"Old\", \"audience_all\": true,"
        " \"media\": [{\"url\": \"u\", \"content_type\": \"image/png\","
        " \"file\": \"" MEDIA_FILE "\", \"upload_id\": " OID(MEDIA_ID) "},"
        " {\"url\": \"u\", \"content_type\": \"image/png\","
        " \"file\": \"" MEDIA2_FILE "\", \"upload_id\": " OID(MEDIA2_ID)
        "}], \"status\": \"draft\", \"revision\": 4,"
        " \"created_at\": " DATE(NOW) ", \"counts\": {}}}";
    fake.replies[3] = SEQ;     /* campaign.updated or .deleted */
    CHECK_INT(inbox_store_campaign_update(store, ORG_ID, CAMPAIGN_ID, 4, &n,
                                          &c, NULL, &err), INBOX_OK);
    golden_check(&fake, "campaign_update_release");

    /* answered as it is now: the edit's fields, the next revision */
    CHECK_STR(c.name, "Spring sale");
    CHECK_STR(c.body, "Sale!");
    CHECK_INT(c.revision, 5);
    CHECK_INT(c.status, INBOX_CAMPAIGN_DRAFT);
    CHECK_INT(c.media_count, 1);
    if (c.media_count == 1) {
        CHECK_STR(c.media[0].file, MEDIA2_FILE);
        CHECK_STR(c.media[0].upload_id, MEDIA2_ID);
    }
    inbox_campaign_free(&c);

    /* edited since: refused, what it attached released */
    fake_reset(&fake);
    /* the attach, the edit, the draft read (and its recipients grouped),
     * the release */
    fake.replies[2] = CURSOR(CAMPAIGN_DOC("draft"));
    CHECK_INT(inbox_store_campaign_update(store, ORG_ID, CAMPAIGN_ID, 3, &n,
                                          &c, NULL, &err), INBOX_ERR_CONFLICT);
    CHECK(log_has(&fake, "\"attached\" : false, \"released_at\""));
    CHECK(log_has(&fake, "\"$in\" : [ \"" MEDIA2_FILE "\" ]"));
    CHECK_INT(fake.commands, 5);
    inbox_campaign_free(&c);

    /* a new draft whose insert failed: the same */
    fake_reset(&fake);
    fake.replies[0] = CURSOR("{\"_id\": " OID(ORG_ID) "}");
    fake.replies[2] = WRITE_REFUSED;
    CHECK(inbox_store_campaign_create(store, ORG_ID, &n, NOON_MS, &c, NULL,
                                      &err)
          != INBOX_OK);
    CHECK(log_has(&fake, "\"$in\" : [ \"" MEDIA2_FILE "\" ]"));
    CHECK_INT(fake.commands, 4);
    inbox_campaign_free(&c);

    /* the second image purged since it was read: the first released */
    fake_reset(&fake);
    n.media = media;
    n.media_count = 2;
    fake.replies[1] = MEDIA_NOT_MATCHED;
    CHECK_INT(inbox_store_campaign_update(store, ORG_ID, CAMPAIGN_ID, 3, &n,
                                          &c, NULL, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "media_ids.1");
    CHECK(strncmp(err.message, "Attachment 2: this image is no longer "
                  "there", 40) == 0);
    CHECK(log_has(&fake, "\"$in\" : [ \"" MEDIA_FILE "\" ]"));
    CHECK_INT(fake.commands, 3);
    inbox_campaign_free(&c);

    fake_close(&fake, store);
}


/* A campaign cancelled after it began sending (started_at set). */
#define CAMPAIGN_DOC_BEGUN_CANCELLED                                          \
    "{\"_id\": " OID(CAMPAIGN_ID) ", \"org_id\": " OID(ORG_ID) ","            \
    " \"kind\": \"campaign\", \"name\": \"Spring sale\", \"body\": \"Sale!\","\
    " \"audience_all\": true, \"media\": [], \"status\": \"cancelled\","    \
    " \"cancelled_reason\": \"manual\", \"send_at\": " DATE("0") ","          \
    " \"created_at\": " DATE(NOW) ", \"started_at\": " DATE(NOW) ","          \
    " \"finished_at\": " DATE(NOW) "}"

/* The same, of now: its first message handed over at when (a JSON date
 * or null: none was). */
#define CAMPAIGN_DOC_BEGUN_HANDED(when)                                       \
    "{\"_id\": " OID(CAMPAIGN_ID) ", \"org_id\": " OID(ORG_ID) ","            \
    " \"kind\": \"campaign\", \"name\": \"Spring sale\", \"body\": \"Sale!\","\
    " \"audience_all\": true, \"media\": [], \"status\": \"cancelled\","    \
    " \"cancelled_reason\": \"manual\", \"send_at\": " DATE("0") ","          \
    " \"created_at\": " DATE(NOW) ", \"started_at\": " DATE(NOW) ","          \
    " \"finished_at\": " DATE(NOW) ", \"handed_at\": " when "}"

/*
 * A delete: one findAndModify removing only a draft of its kind, or one
 * cancelled before any of its messages was handed over (handed_at null;
 * one of before: started_at null, or cancelled for its text), that no
 * send holds the lease of, then its recipients and its images released;
 * none removed, the campaign read says why.
 */
TEST(campaign_delete_removes_a_draft_or_one_never_begun_only)
{
    fake_t          fake;
    inbox_error_t   err;
    inbox_store_t  *store;

    store = fake_open(&fake);

    fake.replies[0] = "{\"ok\": 1, \"value\": {\"_id\": " OID(CAMPAIGN_ID)
        ", \"org_id\": " OID(ORG_ID) ", \"kind\": \"campaign\","
        " \"name\": \"Sale\", \"body\": \"Old\", \"audience_all\": true,"
        " \"media\": [{\"url\": \"u\", \"content_type\": \"image/png\","
        " \"file\": \"" MEDIA_FILE "\", \"upload_id\": " OID(MEDIA_ID) "}],"
        " \"status\": \"draft\", \"revision\": 4,"
        " \"created_at\": " DATE(NOW) ", \"counts\": {}}}";
    fake.replies[3] = SEQ;     /* campaign.updated or .deleted */
    CHECK_INT(inbox_store_campaign_delete(store, ORG_ID, CAMPAIGN_ID,
                                          INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                          NOON_MS, NULL, &err), INBOX_OK);
    golden_check(&fake, "campaign_delete");

    /* sent meanwhile: read again (its recipients grouped, a document
     * of before keeping no counts), 409 in its words, nothing else */
    fake_reset(&fake);
    fake.replies[1] = CURSOR(CAMPAIGN_DOC("sending"));
    CHECK_INT(inbox_store_campaign_delete(store, ORG_ID, CAMPAIGN_ID,
                                          INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                          NOON_MS, NULL, &err),
              INBOX_ERR_CONFLICT);
    CHECK_STR(err.message, "Only a draft, or one cancelled before any of "
                           "its messages was handed over, can be deleted; "
                           "this one is sending: cancel it instead.");
    CHECK_INT(fake.commands, 3);

    /* cancelled before it began: removed, its recipients with it */
    fake_reset(&fake);
    fake.replies[0] = "{\"ok\": 1, \"value\": "
        CAMPAIGN_DOC_CANCELLED("cancelled", "null", "\"manual\"", "null")
        "}";
    fake.replies[2] = SEQ;     /* campaign.updated or .deleted */
    CHECK_INT(inbox_store_campaign_delete(store, ORG_ID, CAMPAIGN_ID,
                                          INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                          NOON_MS, NULL, &err), INBOX_OK);
    CHECK(log_has(&fake, "\"delete\" : \"campaign_recipients\""));

    /* cancelled after it began, nothing handed over (every recipient
     * waiting for quiet hours): removed, its recipients with it */
    fake_reset(&fake);
    fake.replies[0] = "{\"ok\": 1, \"value\": "
        CAMPAIGN_DOC_BEGUN_HANDED("null") "}";
    fake.replies[2] = SEQ;     /* campaign.deleted */
    CHECK_INT(inbox_store_campaign_delete(store, ORG_ID, CAMPAIGN_ID,
                                          INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                          NOON_MS, NULL, &err), INBOX_OK);
    CHECK(log_has(&fake, "\"delete\" : \"campaign_recipients\""));

    /* cancelled after a hand-over: read again, 409, nothing else */
    fake_reset(&fake);
    fake.replies[1] = CURSOR(CAMPAIGN_DOC_BEGUN_HANDED(DATE(NOW)));
    CHECK_INT(inbox_store_campaign_delete(store, ORG_ID, CAMPAIGN_ID,
                                          INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                          NOON_MS, NULL, &err),
              INBOX_ERR_CONFLICT);
    CHECK_STR(err.message, "Messages of this campaign were handed over for "
                           "sending before it was cancelled; it stays in "
                           "its contacts' records.");
    CHECK_INT(fake.commands, 3);

    /* one of before that began (no handed_at): taken as handed over */
    fake_reset(&fake);
    fake.replies[1] = CURSOR(CAMPAIGN_DOC_BEGUN_CANCELLED);
    CHECK_INT(inbox_store_campaign_delete(store, ORG_ID, CAMPAIGN_ID,
                                          INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                          NOON_MS, NULL, &err),
              INBOX_ERR_CONFLICT);
    CHECK_STR(err.message, "Messages of this campaign were handed over for "
                           "sending before it was cancelled; it stays in "
                           "its contacts' records.");
    CHECK_INT(fake.commands, 3);

    /* a draft still: a send holds its lease */
    fake_reset(&fake);
    fake.replies[1] = CURSOR(CAMPAIGN_DOC("draft"));
    CHECK_INT(inbox_store_campaign_delete(store, ORG_ID, CAMPAIGN_ID,
                                          INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                          NOON_MS, NULL, &err),
              INBOX_ERR_CONFLICT);
    CHECK_STR(err.message, "This draft is being sent; it can be cancelled "
              "once it is.");
    CHECK_INT(fake.commands, 3);

    /* cancelled as a draft while a send holds its lease: not "a draft" */
    fake_reset(&fake);
    fake.replies[1] = CURSOR(CAMPAIGN_DOC("cancelled"));
    CHECK_INT(inbox_store_campaign_delete(store, ORG_ID, CAMPAIGN_ID,
                                          INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                          NOON_MS, NULL, &err),
              INBOX_ERR_CONFLICT);
    CHECK_STR(err.message, "This campaign was cancelled while its send was "
                           "fixing its recipients; it can be deleted once "
                           "that send stops, within two minutes.");
    CHECK_INT(fake.commands, 3);

    /* none, or the other kind's: 404 */
    fake_reset(&fake);
    CHECK_INT(inbox_store_campaign_delete(store, ORG_ID, CAMPAIGN_ID,
                                          INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                          NOON_MS, NULL, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(fake.commands, 2);

    fake_reset(&fake);
    fake.replies[1] = CURSOR(POLL_DOC);
    CHECK_INT(inbox_store_campaign_delete(store, ORG_ID, POLL_ID,
                                          INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                          NOON_MS, NULL, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_STR(err.message, "There is no such campaign.");

    fake_close(&fake, store);
}


/* A campaign's images are read with the uploads they are; one from a
 * document of before names none. */
TEST(campaign_get_reads_the_uploads_of_its_images)
{
    fake_t            fake;
    inbox_error_t     err;
    inbox_store_t    *store;
    inbox_campaign_t  c;

    store = fake_open(&fake);

    fake.replies[0] = CURSOR(
        "{\"_id\": " OID(CAMPAIGN_ID) ", \"org_id\": " OID(ORG_ID) ","
        " \"kind\": \"campaign\", \"name\": \"Pictures\","
        " \"body\": \"Look\", \"audience_all\": true,"
        " \"media\": [{\"url\": \"x\", \"content_type\": \"image/png\","
        " \"file\": \"" MEDIA_FILE "\", \"bytes\": 10,"
        " \"upload_id\": " OID(MEDIA2_ID) "},"
        " {\"url\": \"x\", \"content_type\": \"image/png\","
        " \"file\": \"" MEDIA_FILE "\", \"bytes\": 10}],"
        " \"status\": \"draft\", \"send_at\": " DATE("0") ","
        " \"created_at\": " DATE(NOW) "}");

    CHECK_INT(inbox_store_campaign_get(store, ORG_ID, CAMPAIGN_ID, &c, &err),
              INBOX_OK);
    CHECK_INT(c.media_count, 2);
    if (c.media_count == 2) {
        CHECK_STR(c.media[0].upload_id, MEDIA2_ID);
        CHECK_INT(c.media[0].bytes, 10);
        CHECK_STR(c.media[1].upload_id, "");
        CHECK_STR(c.media[1].file, MEDIA_FILE);
    }
    inbox_campaign_free(&c);

    fake_close(&fake, store);
}

TEST(campaign_get_and_list_count_recipients_by_state)
{
    fake_t                 fake;
    inbox_error_t          err;
    inbox_store_t         *store;
    inbox_campaign_t       c;
    inbox_campaign_page_t  page;

    store = fake_open(&fake);

    fake.replies[0] = CURSOR(CAMPAIGN_DOC("sending"));
    fake.replies[1] = CAMPAIGN_COUNTS;

    CHECK_INT(inbox_store_campaign_get(store, ORG_ID, CAMPAIGN_ID, &c, &err),
              INBOX_OK);
    CHECK_STR(c.name, "Spring sale");
    CHECK_INT(c.status, INBOX_CAMPAIGN_SENDING);
    CHECK_INT(c.audience_all, 0);
    CHECK_INT(c.tags.count, 1);
    /* due ones are counted queued */
    CHECK_INT(c.counts.queued, 2);
    CHECK_INT(c.counts.sent, 3);
    CHECK_INT(c.counts.suppressed, 1);
    CHECK_INT(c.counts.audience, 6);
    CHECK_INT(c.counts.replied, 1);
    /* sent before counts were kept: its suppressed read as excluded */
    CHECK_INT(c.counts.excluded, 1);
    golden_check(&fake, "campaign_get");
    inbox_campaign_free(&c);

    /* none such: one find */
    fake_reset(&fake);
    CHECK_INT(inbox_store_campaign_get(store, ORG_ID, CAMPAIGN_ID, &c, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(fake.commands, 1);

    /* a page after a cursor, one more than asked: the next cursor */
    fake_reset(&fake);
    fake.replies[0] = CURSOR(CAMPAIGN_DOC("sending") ", "
                             CAMPAIGN_DOC("draft"));
    fake.replies[1] = CAMPAIGN_COUNTS;
    CHECK_INT(inbox_store_campaigns_list(store, ORG_ID,
                                         INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                         NOW ":" MSG_ID, 1, &page, &err),
              INBOX_OK);
    CHECK_INT(page.count, 1);
    CHECK_STR(page.next_cursor, NOW ":" CAMPAIGN_ID);
    if (page.count == 1) {
        CHECK_INT(page.items[0].counts.audience, 6);
    }
    golden_check(&fake, "campaigns_list");
    inbox_campaign_page_free(&page);

    fake_close(&fake, store);
}


TEST(campaign_send_fixes_the_recipients_then_moves_the_status)
{
    int                i;
    fake_t             fake;
    inbox_error_t      err;
    inbox_store_t     *store;
    inbox_campaign_t   c;

    store = fake_open(&fake);

    /* the campaign and its counts; the number it would go from; the
     * draft's lease at the revision read, what a send before left of
     * recipients dropped, the recipients merged on the server (opted-out
     * contacts suppressed), grouped by state into the counts it keeps
     * from now on, while it is a draft; the status if still a draft, at
     * that revision, with the lease; the campaign again */
    fake.replies[0] = CURSOR(CAMPAIGN_DOC("draft"));
    fake.replies[2] = REPLY_NUMBER;
    fake.replies[6] = CURSOR("{\"_id\": \"due\", \"n\": 5},"
                             " {\"_id\": \"suppressed\", \"n\": 1}");
    fake.replies[9] = CURSOR(CAMPAIGN_DOC("sending"));
    fake.replies[10] = CAMPAIGN_COUNTS;

    fake.replies[11] = SEQ;     /* campaign.updated or .deleted */
    CHECK_INT(inbox_store_campaign_act(store, ORG_ID, CAMPAIGN_ID,
                                       INBOX_CAMPAIGN_SEND, NOON_MS, &c,
                                       NULL, &err), INBOX_OK);
    CHECK_INT(c.status, INBOX_CAMPAIGN_SENDING);
    CHECK_INT(c.counts.audience, 6);
    /* the one opted out now is excluded: never a recipient, whoever
     * opts out since */
    CHECK(log_has(&fake, "\"counts.excluded\" : { \"$numberLong\" : "
                         "\"1\" }"));
    golden_check(&fake, "campaign_send");
    inbox_campaign_free(&c);

    /* sent by someone else meanwhile: the compare-and-set misses, and
     * the campaign read again is sending: a repeat, answered as it is */
    fake_reset(&fake);
    fake.replies[0] = CURSOR(CAMPAIGN_DOC("draft"));
    fake.replies[2] = REPLY_NUMBER;
    fake.replies[6] = CURSOR("{\"_id\": \"due\", \"n\": 5}");
    fake.replies[8] = NOTHING_MOVED;
    fake.replies[9] = CURSOR(CAMPAIGN_DOC("sending"));
    CHECK_INT(inbox_store_campaign_act(store, ORG_ID, CAMPAIGN_ID,
                                       INBOX_CAMPAIGN_SEND, NOON_MS, &c,
                                       NULL, &err), INBOX_OK);
    CHECK_INT(c.status, INBOX_CAMPAIGN_SENDING);
    CHECK_INT(fake.commands, 11);
    inbox_campaign_free(&c);

    /* another send holds the draft's lease, or it was edited since it
     * was read: nothing of its recipients touched; read again, it is
     * sending (that other send's): answered as it is */
    fake_reset(&fake);
    fake.replies[0] = CURSOR(CAMPAIGN_DOC("draft"));
    fake.replies[2] = REPLY_NUMBER;
    fake.replies[3] = NOTHING_MOVED;
    fake.replies[4] = CURSOR(CAMPAIGN_DOC("sending"));
    CHECK_INT(inbox_store_campaign_act(store, ORG_ID, CAMPAIGN_ID,
                                       INBOX_CAMPAIGN_SEND, NOON_MS, &c,
                                       NULL, &err), INBOX_OK);
    CHECK_INT(c.status, INBOX_CAMPAIGN_SENDING);
    CHECK_INT(fake.commands, 6);
    CHECK(!log_has(&fake, "\"delete\" : \"campaign_recipients\""));
    CHECK(!log_has(&fake, "$merge"));
    inbox_campaign_free(&c);

    /* held all along by another send: refused, saying so */
    fake_reset(&fake);
    for (i = 0; i < 5; i++) {
        fake.replies[4 * i] = CURSOR(CAMPAIGN_DOC("draft"));
        fake.replies[4 * i + 2] = REPLY_NUMBER;
        fake.replies[4 * i + 3] = NOTHING_MOVED;
    }
    CHECK_INT(inbox_store_campaign_act(store, ORG_ID, CAMPAIGN_ID,
                                       INBOX_CAMPAIGN_SEND, NOON_MS, &c,
                                       NULL, &err), INBOX_ERR_CONFLICT);
    CHECK(strstr(err.message, "being sent by another request") != NULL);
    CHECK(!log_has(&fake, "\"delete\" : \"campaign_recipients\""));
    CHECK(!log_has(&fake, "$merge"));

    /* no number to send from: refused as a reply is, nothing written */
    fake_reset(&fake);
    fake.replies[0] = CURSOR(CAMPAIGN_DOC("draft"));
    CHECK_INT(inbox_store_campaign_act(store, ORG_ID, CAMPAIGN_ID,
                                       INBOX_CAMPAIGN_SEND, NOON_MS, &c,
                                       NULL, &err), INBOX_ERR_CONFLICT);
    CHECK_STR(err.message, "This organization has no number to send from "
              "yet.");
    CHECK_INT(fake.commands, 3);
    CHECK(log_has(&fake, "\"find\" : \"numbers\""));

    /* sending again (a retry) answers the campaign as it is, read only */
    fake_reset(&fake);
    fake.replies[0] = CURSOR(CAMPAIGN_DOC("sending"));
    CHECK_INT(inbox_store_campaign_act(store, ORG_ID, CAMPAIGN_ID,
                                       INBOX_CAMPAIGN_SEND, NOON_MS, &c,
                                       NULL, &err), INBOX_OK);
    CHECK_INT(c.status, INBOX_CAMPAIGN_SENDING);
    CHECK_INT(fake.commands, 2);
    inbox_campaign_free(&c);

    /* pausing what is paused: the campaign as it is, its outbox looked
     * at again (a pause before may have stopped short of its park),
     * nothing written where nothing is left to park */
    fake_reset(&fake);
    fake.replies[0] = CURSOR(CAMPAIGN_DOC_WHY("paused", "\"manual\""));
    fake.replies[3] = CURSOR(CAMPAIGN_DOC_WHY("paused", "\"manual\""));
    CHECK_INT(inbox_store_campaign_act(store, ORG_ID, CAMPAIGN_ID,
                                       INBOX_CAMPAIGN_PAUSE, NOON_MS, &c,
                                       NULL, &err), INBOX_OK);
    CHECK_INT(c.status, INBOX_CAMPAIGN_PAUSED);
    CHECK_INT(fake.commands, 5);
    CHECK(log_has(&fake, "\"find\" : \"outbox\""));
    CHECK(!log_has(&fake, "\"update\""));
    inbox_campaign_free(&c);

    fake_close(&fake, store);
}


/* The stored campaign as a find answers it, with a text of 1,600
 * characters (11 segments: saved before the rule of 10), in status,
 * started at started_at (a JSON date or null). */
static const char *
campaign_too_long(char *out, size_t size, const char *status,
    const char *started_at)
{
    char  body[1601];

    memset(body, 'x', 1600);
    body[1600] = '\0';

    snprintf(out, size, CURSOR(
        "{\"_id\": " OID(CAMPAIGN_ID) ", \"org_id\": " OID(ORG_ID) ","
        " \"kind\": \"campaign\", \"name\": \"Old\", \"body\": \"%s\","
        " \"question\": null, \"options\": [], \"audience_all\": true,"
        " \"tags\": [], \"tag_keys\": [], \"media\": [],"
        " \"segments\": 11, \"credits\": 4, \"status\": \"%s\","
        " \"paused_reason\": null, \"send_at\": " DATE("0") ","
        " \"created_at\": " DATE(NOW) ", \"started_at\": %s,"
        " \"finished_at\": null}"), body, status, started_at);

    return out;
}


/* A draft whose text the rules refuse now is refused at send, read
 * only; one scheduled before them is cancelled as it starts. */
TEST(campaign_send_refuses_a_text_the_rules_refuse_now)
{
    char                       doc[4096];
    fake_t                     fake;
    inbox_error_t              err;
    inbox_store_t             *store;
    inbox_campaign_t           c;
    inbox_event_list_t         events;
    inbox_campaign_dispatch_t  d;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    fake.replies[0] = campaign_too_long(doc, sizeof(doc), "draft", "null");
    CHECK_INT(inbox_store_campaign_act(store, ORG_ID, CAMPAIGN_ID,
                                       INBOX_CAMPAIGN_SEND, NOON_MS, &c,
                                       NULL, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "body");
    CHECK_STR(err.message, "The message is 11 segments (GSM-7): the limit "
              "is 10, so shorten it.");
    CHECK_INT(fake.commands, 2);

    /* its time came in this turn: the status from sending, then its
     * recipients, as a cancel; nothing handed over */
    fake_reset(&fake);
    fake.replies[1] = campaign_too_long(doc, sizeof(doc), "sending",
                                        DATE(NOON));
    CHECK_INT(inbox_store_campaign_dispatch(store, NOON_MS, 10, MEDIA_BASE, &d,
                                            &events, &err), INBOX_OK);
    CHECK_INT(d.started, 1);
    CHECK_INT(d.refused, 1);
    CHECK_INT(d.handed, 0);
    CHECK_INT(events.count, 0);
    golden_check(&fake, "campaign_dispatch_refused");

    /* a campaign started before (resumed) is left to go */
    fake_reset(&fake);
    fake.replies[0] = NOTHING_MOVED;
    fake.replies[1] = campaign_too_long(doc, sizeof(doc), "sending",
                                        DATE(NOW));
    fake.replies[3] = SENDER_ORG("true", "5");
    fake.replies[4] = REPLY_NUMBER;
    CHECK_INT(inbox_store_campaign_dispatch(store, NOON_MS, 10, MEDIA_BASE, &d,
                                            &events, &err), INBOX_OK);
    CHECK_INT(d.refused, 0);
    CHECK(log_has(&fake, "\"find\" : \"orgs\""));

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


TEST(campaign_cancel_moves_the_status_then_cancels_those_left)
{
    fake_t             fake;
    inbox_error_t      err;
    inbox_store_t     *store;
    inbox_campaign_t   c;

    store = fake_open(&fake);

    /* the campaign and its counts; what claims parked due again; the
     * status; what a claim parked meanwhile due again; the recipients
     * not handed over, those due (3 of them: counted cancelled, not
     * queued) and those waiting (none: no count moves); the campaign
     * again */
    fake.replies[0] = CURSOR(CAMPAIGN_DOC("sending"));
    fake.replies[5] = "{\"ok\": 1, \"n\": 3, \"nModified\": 3}";
    fake.replies[7] = NOTHING_MOVED;
    fake.replies[8] = CURSOR(CAMPAIGN_DOC_CANCELLED("cancelled", "null",
                                                    "\"manual\"", "null"));

    /* written cancelled by a person (the golden), read so */
    fake.replies[10] = SEQ;     /* campaign.updated or .deleted */
    CHECK_INT(inbox_store_campaign_act(store, ORG_ID, CAMPAIGN_ID,
                                       INBOX_CAMPAIGN_CANCEL,
                                       NOON_MS + 60000, &c, NULL, &err),
              INBOX_OK);
    CHECK_INT(c.status, INBOX_CAMPAIGN_CANCELLED);
    CHECK_INT(c.cancelled_reason, INBOX_CANCEL_MANUAL);
    CHECK(c.cancelled_message == NULL);
    golden_check(&fake, "campaign_cancel");
    inbox_campaign_free(&c);

    /* the same cancel again, as after one that failed once the status
     * was written: what it left is finished (those parked due again,
     * the recipients left cancelled), and it answers 200 as it is */
    fake_reset(&fake);
    fake.replies[0] = CURSOR(CAMPAIGN_DOC_CANCELLED("cancelled", "null",
                                                    "\"manual\"", "null"));
    fake.replies[3] = "{\"ok\": 1, \"n\": 3, \"nModified\": 3}";
    fake.replies[5] = NOTHING_MOVED;
    fake.replies[6] = CURSOR(CAMPAIGN_DOC_CANCELLED("cancelled", "null",
                                                    "\"manual\"", "null"));
    fake.replies[8] = SEQ;     /* campaign.updated or .deleted */
    CHECK_INT(inbox_store_campaign_act(store, ORG_ID, CAMPAIGN_ID,
                                       INBOX_CAMPAIGN_CANCEL,
                                       NOON_MS + 120000, &c, NULL, &err),
              INBOX_OK);
    CHECK_INT(c.status, INBOX_CAMPAIGN_CANCELLED);
    CHECK(log_has(&fake, "\"update\" : \"outbox\""));
    CHECK(log_has(&fake, "\"update\" : \"campaign_recipients\""));
    golden_check(&fake, "campaign_cancel_repeated");
    inbox_campaign_free(&c);

    /* one the dispatch cancelled reads with its refusal */
    fake_reset(&fake);
    fake.replies[0] = CURSOR(CAMPAIGN_DOC_CANCELLED("cancelled", "null",
                                 "\"text_refused\"",
                                 "\"The message is 11 segments.\""));
    CHECK_INT(inbox_store_campaign_get(store, ORG_ID, CAMPAIGN_ID, &c,
                                       &err), INBOX_OK);
    CHECK_INT(c.cancelled_reason, INBOX_CANCEL_TEXT_REFUSED);
    CHECK(c.cancelled_message != NULL);
    CHECK_STR(c.cancelled_message, "The message is 11 segments.");
    inbox_campaign_free(&c);

    fake_close(&fake, store);
}


/* A scheduled campaign's due recipients move to the earlier of their
 * time and the new one, then its time moves on the status read; one that
 * started meanwhile is judged again: 409 (its recipients, due no later,
 * hold nothing up). */
TEST(campaign_reschedule_moves_the_time_then_the_recipients)
{
    fake_t             fake;
    inbox_error_t      err;
    inbox_store_t     *store;
    inbox_campaign_t   c;

    store = fake_open(&fake);

    fake.replies[0] = CURSOR(CAMPAIGN_DOC("scheduled"));
    fake.replies[4] = CURSOR(CAMPAIGN_DOC("scheduled"));
    fake.replies[6] = SEQ;     /* campaign.updated or .deleted */
    CHECK_INT(inbox_store_campaign_reschedule(store, ORG_ID, CAMPAIGN_ID,
                                              INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                              NOON_MS + DAY_MS, NOON_MS, &c,
                                              NULL, &err), INBOX_OK);
    CHECK_INT(c.status, INBOX_CAMPAIGN_SCHEDULED);
    CHECK(log_has(&fake, "\"$min\" : { \"due_at\""));
    golden_check(&fake, "campaign_reschedule");
    inbox_campaign_free(&c);

    fake_reset(&fake);
    fake.replies[0] = CURSOR(CAMPAIGN_DOC("scheduled"));
    fake.replies[3] = NOTHING_MOVED;
    fake.replies[4] = CURSOR(CAMPAIGN_DOC("sending"));
    CHECK_INT(inbox_store_campaign_reschedule(store, ORG_ID, CAMPAIGN_ID,
                                              INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                              NOON_MS + DAY_MS, NOON_MS, &c,
                                              NULL, &err), INBOX_ERR_CONFLICT);
    CHECK(strstr(err.message, "this one is sending") != NULL);
    CHECK_INT(fake.commands, 6);

    /* a poll's id named as a campaign's: none */
    fake_reset(&fake);
    fake.replies[0] = CURSOR(POLL_DOC);
    CHECK_INT(inbox_store_campaign_reschedule(store, ORG_ID, POLL_ID,
                                              INBOX_CAMPAIGN_KIND_CAMPAIGN,
                                              NOON_MS + DAY_MS, NOON_MS, &c,
                                              NULL, &err), INBOX_ERR_NOT_FOUND);
    CHECK(!log_has(&fake, "\"update\""));

    fake_close(&fake, store);
}


/* A person's move that misses because the sender moved the campaign
 * first (a pause for credits, done) is decided again on the campaign
 * read again: 409 only when that refuses it, or when it keeps
 * changing. */
TEST(campaign_act_decides_again_on_a_campaign_moved_meanwhile)
{
    int                i;
    fake_t             fake;
    inbox_error_t      err;
    inbox_store_t     *store;
    inbox_campaign_t   c;

    store = fake_open(&fake);

    /* a pause as the sender paused it for credits: paused by the person
     * now, written from paused */
    fake.replies[0] = CURSOR(CAMPAIGN_DOC("sending"));
    fake.replies[2] = NOTHING_MOVED;
    fake.replies[3] = CURSOR(CAMPAIGN_DOC_WHY("paused",
                                              "\"insufficient_credits\""));
    /* [6]: the park's look at its outbox entries (none) */
    fake.replies[7] = CURSOR(CAMPAIGN_DOC_WHY("paused", "\"manual\""));
    fake.replies[9] = SEQ;     /* campaign.updated or .deleted */
    CHECK_INT(inbox_store_campaign_act(store, ORG_ID, CAMPAIGN_ID,
                                       INBOX_CAMPAIGN_PAUSE, NOON_MS, &c,
                                       NULL, &err), INBOX_OK);
    CHECK_INT(c.status, INBOX_CAMPAIGN_PAUSED);
    CHECK_INT(c.paused_reason, INBOX_PAUSE_MANUAL);
    golden_check(&fake, "campaign_pause_raced");
    inbox_campaign_free(&c);

    /* a cancel as the sender finished it: a done campaign is refused */
    fake_reset(&fake);
    fake.replies[0] = CURSOR(CAMPAIGN_DOC("sending"));
    fake.replies[3] = NOTHING_MOVED;
    fake.replies[4] = CURSOR(CAMPAIGN_DOC("done"));
    CHECK_INT(inbox_store_campaign_act(store, ORG_ID, CAMPAIGN_ID,
                                       INBOX_CAMPAIGN_CANCEL, NOON_MS, &c,
                                       NULL, &err), INBOX_ERR_CONFLICT);
    CHECK_STR(err.message, "A done campaign cannot be cancelled.");
    CHECK_INT(fake.commands, 6);

    /* one that keeps changing: read and tried 5 times, then 409 */
    fake_reset(&fake);
    for (i = 0; i < 5; i++) {
        fake.replies[3 * i] = CURSOR(CAMPAIGN_DOC("sending"));
        fake.replies[3 * i + 2] = NOTHING_MOVED;
    }
    CHECK_INT(inbox_store_campaign_act(store, ORG_ID, CAMPAIGN_ID,
                                       INBOX_CAMPAIGN_PAUSE, NOON_MS, &c,
                                       NULL, &err), INBOX_ERR_CONFLICT);
    CHECK_STR(err.message, "This campaign changed meanwhile; read it again.");
    CHECK_INT(fake.commands, 15);

    fake_close(&fake, store);
}


TEST(campaign_dispatch_suppresses_waits_and_hands_over)
{
    fake_t                     fake;
    inbox_error_t              err;
    inbox_store_t             *store;
    inbox_event_list_t         events;
    inbox_campaign_dispatch_t  d;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    fake.replies[0] = NOTHING_MOVED;        /* no scheduled one starts */
    fake.replies[1] = CURSOR(CAMPAIGN_DOC("sending"));
    fake.replies[3] = SENDER_ORG("true", "5");
    fake.replies[4] = REPLY_NUMBER;
    fake.replies[5] = CURSOR(DUE_ANN ", " DUE_BOB ", " DUE_CY);
    fake.replies[6] = NULL;                 /* Ann suppressed */
    fake.replies[7] = NULL;                 /* and counted so */
    fake.replies[8] = NULL;                 /* Bob waits */
    fake.replies[9] = NULL;                 /* and is counted waiting */
    fake.replies[10] = NULL;                /* Cy claimed */
    fake.replies[11] = NULL;                /* and counted queued */
    fake.replies[12] = NULL;                /* marked handed over */
    fake.replies[13] = STILL_SENDING;       /* and its campaign still is */
    fake.replies[14] = CREDITS("4", "1");   /* the hold */
    fake.replies[15] = NULL;                /* its ledger entry */
    fake.replies[16] = NULL;                /* the message */
    fake.replies[17] = "{\"ok\": 1, \"value\": {\"_id\": " OID(CONV_ID)
                       ", \"contact\": {\"id\": " OID(CONTACT_ID) ","
                       " \"phone\": \"+15551234567\"}, \"last_message\":"
                       " {\"id\": " OID(GEN_1) ", \"direction\":"
                       " \"outbound\", \"preview\": \"Sale!\", \"at\": "
                       DATE(NOON) "}, \"unread_count\": 0}}";
    fake.replies[18] = SEQ;
    fake.replies[21] = CURSOR("{\"_id\": " OID(RCPT2_ID) "}");

    CHECK_INT(inbox_store_campaign_dispatch(store, NOON_MS, 10, MEDIA_BASE, &d,
                                            &events, &err), INBOX_OK);
    CHECK_INT(d.started, 0);
    CHECK_INT(d.suppressed, 1);
    CHECK_INT(d.waiting, 1);
    CHECK_INT(d.handed, 1);
    CHECK_INT(d.finished, 0);
    CHECK_INT(events.count, 2);
    /* Bob waits until 08:00 in Tokyo (23:00Z); Cy's message is a bulk
     * entry of the outbox and names its campaign */
    CHECK(log_has(&fake, "\"$numberLong\" : \"1767308400000\""));
    CHECK(log_has(&fake, "\"campaign_id\" : { \"$oid\" : \"" CAMPAIGN_ID));
    golden_check(&fake, "campaign_dispatch");
    inbox_event_list_free(&events);

    /* nothing left due or waiting, but a message still in the outbox:
     * still sending (it can be paused or cancelled) */
    fake_reset(&fake);
    fake.replies[1] = CURSOR(CAMPAIGN_DOC("sending"));
    fake.replies[3] = SENDER_ORG("true", "5");
    fake.replies[4] = REPLY_NUMBER;
    fake.replies[7] = CURSOR("{\"_id\": " OID(GEN_1) "}");
    CHECK_INT(inbox_store_campaign_dispatch(store, NOON_MS, 10, MEDIA_BASE, &d,
                                            &events, &err), INBOX_OK);
    CHECK_INT(d.finished, 0);
    CHECK(log_has(&fake, "\"find\" : \"outbox\""));
    CHECK_INT(fake.commands, 8);

    /* nothing left due or waiting, nor in the outbox, but a claim that
     * lost its message (a dispatch failed before storing it): due again,
     * the campaign still sending */
    fake_reset(&fake);
    fake.replies[1] = CURSOR(CAMPAIGN_DOC("sending"));
    fake.replies[3] = SENDER_ORG("true", "5");
    fake.replies[4] = REPLY_NUMBER;
    fake.replies[8] = CURSOR("{\"_id\": " OID(RCPT1_ID) ", \"message_id\": "
                             OID(MSG_ID) "}");
    CHECK_INT(inbox_store_campaign_dispatch(store, NOON_MS, 10, MEDIA_BASE, &d,
                                            &events, &err), INBOX_OK);
    CHECK_INT(d.finished, 0);
    CHECK(log_has(&fake, "\"$lookup\" : { \"from\" : \"messages\""));
    golden_check(&fake, "campaign_dispatch_claim_lost");

    /* nothing left due or waiting, nor in the outbox: done */
    fake_reset(&fake);
    fake.replies[1] = CURSOR(CAMPAIGN_DOC("sending"));
    fake.replies[3] = SENDER_ORG("true", "5");
    fake.replies[4] = REPLY_NUMBER;
    CHECK_INT(inbox_store_campaign_dispatch(store, NOON_MS, 10, MEDIA_BASE, &d,
                                            &events, &err), INBOX_OK);
    CHECK_INT(d.started, 1);
    CHECK_INT(d.finished, 1);
    CHECK_INT(d.handed, 0);
    golden_check(&fake, "campaign_dispatch_done");

    fake_close(&fake, store);
}


/* A campaign with a picture to a number MMS does not reach (Britain):
 * its text and the picture's link as an SMS, held at an SMS's price. */
TEST(campaign_dispatch_sends_pictures_abroad_as_links)
{
    fake_t                     fake;
    inbox_error_t              err;
    inbox_store_t             *store;
    inbox_event_list_t         events;
    inbox_campaign_dispatch_t  d;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    fake.replies[0] = NOTHING_MOVED;
    fake.replies[1] = CURSOR("{\"_id\": " OID(CAMPAIGN_ID) ", \"org_id\": "
        OID(ORG_ID) ", \"kind\": \"campaign\", \"name\": \"Spring sale\","
        " \"body\": \"Sale!\", \"options\": [], \"audience_all\": true,"
        " \"tags\": [], \"media\": [{\"url\": \"https://x.test/media/a.png\","
        " \"content_type\": \"image/png\", \"file\": \"a.png\", \"bytes\":"
        " 100}], \"segments\": 1, \"credits\": 2, \"status\": \"sending\","
        " \"paused_reason\": null, \"send_at\": " DATE("0") ","
        " \"created_at\": " DATE(NOW) ", \"started_at\": " DATE(NOW) "}");
    fake.replies[3] = SENDER_ORG("true", "5");
    fake.replies[4] = REPLY_NUMBER;
    fake.replies[5] = CURSOR("{\"_id\": " OID(RCPT3_ID) ", \"state\":"
        " \"due\", \"contact_id\": " OID(CONTACT_ID) ", \"contact\":"
        " [{\"phone\": \"+447911123456\", \"opted_out\": false,"
        " \"conversation_id\": " OID(CONV_ID) "}]}");
    fake.replies[6] = NULL;                 /* claimed (due: no count
                                               to move) */
    fake.replies[7] = STILL_SENDING;
    fake.replies[8] = CREDITS("4", "1");    /* the hold: 1 credit */
    fake.replies[9] = NULL;                 /* its ledger entry */
    fake.replies[10] = NULL;                /* the message */
    fake.replies[11] = "{\"ok\": 1, \"value\": {\"_id\": " OID(CONV_ID)
                       ", \"contact\": {\"id\": " OID(CONTACT_ID) ","
                       " \"phone\": \"+447911123456\"}, \"last_message\":"
                       " {\"id\": " OID(GEN_1) ", \"direction\":"
                       " \"outbound\", \"preview\": \"Sale!\", \"at\": "
                       DATE(NOON) "}, \"unread_count\": 0}}";
    fake.replies[12] = SEQ;

    CHECK_INT(inbox_store_campaign_dispatch(store, NOON_MS, 10, MEDIA_BASE, &d,
                                            &events, &err), INBOX_OK);
    CHECK_INT(d.handed, 1);
    CHECK(log_has(&fake, "\"body\" : \"Sale!\\nhttps://x.test/media/a.png\""));
    CHECK(!log_has(&fake, "\"media\" : [ { \"url\""));
    CHECK(log_has(&fake, "\"credits.held\" : { \"$numberLong\" : \"1\" }"));
    golden_check(&fake, "campaign_dispatch_abroad");
    inbox_event_list_free(&events);

    fake_close(&fake, store);
}


/* A due recipient Cy whose thread keeps the number texted, with that
 * number's document as the dispatch's join answers it (org: its owner). */
#define DUE_CY_TEXTED(org)                                                    \
    CURSOR("{\"_id\": " OID(RCPT3_ID) ", \"state\": \"due\","              \
           " \"contact_id\": " OID(CONTACT_ID) ", \"contact\":"              \
           " [{\"phone\": \"+15551234567\", \"opted_out\": false,"          \
           " \"conversation_id\": " OID(CONV_ID) "}], \"texted\":"           \
           " [{\"e164\": \"+15550002222\", \"org_id\": " OID(org) "}]}")

/* Handing Cy over, from the claim on (the hold, the message, the
 * thread's write, its events' sequence). */
static void
dispatch_cy(fake_t *fake, const char *due)
{
    fake->replies[0] = NOTHING_MOVED;
    fake->replies[1] = CURSOR(CAMPAIGN_DOC("sending"));
    fake->replies[3] = SENDER_ORG("true", "5");
    fake->replies[4] = REPLY_NUMBER;
    fake->replies[5] = due;
    fake->replies[6] = NULL;                /* claimed */
    fake->replies[7] = NULL;                /* marked handed over */
    fake->replies[8] = STILL_SENDING;
    fake->replies[9] = CREDITS("4", "1");   /* the hold */
    fake->replies[10] = NULL;               /* its ledger entry */
    fake->replies[11] = NULL;               /* the message */
    fake->replies[12] = "{\"ok\": 1, \"value\": {\"_id\": " OID(CONV_ID)
                        ", \"contact\": {\"id\": " OID(CONTACT_ID) ","
                        " \"phone\": \"+15551234567\"}, \"last_message\":"
                        " {\"id\": " OID(GEN_1) ", \"direction\":"
                        " \"outbound\", \"preview\": \"Sale!\", \"at\": "
                        DATE(NOON) "}, \"unread_count\": 0}}";
    fake->replies[13] = SEQ;
}


/* A campaign's message goes from the number its recipient's thread keeps
 * (the one its contact last texted), as a reply does, read with the due
 * recipients in one aggregate (the thread and the number joined); one
 * the organization no longer has (another's now) goes from its first. */
TEST(campaign_dispatch_goes_from_the_number_texted)
{
    fake_t                     fake;
    inbox_error_t              err;
    inbox_store_t             *store;
    inbox_event_list_t         events;
    inbox_campaign_dispatch_t  d;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    dispatch_cy(&fake, DUE_CY_TEXTED(ORG_ID));
    CHECK_INT(inbox_store_campaign_dispatch(store, NOON_MS, 10, MEDIA_BASE, &d,
                                            &events, &err), INBOX_OK);
    CHECK_INT(d.handed, 1);
    CHECK(log_has(&fake, "\"from\" : \"+15550002222\""));
    CHECK(!log_has(&fake, "\"from\" : \"" NUMBER_E164 "\""));
    golden_check(&fake, "campaign_dispatch_from_texted");
    inbox_event_list_free(&events);

    fake_reset(&fake);
    dispatch_cy(&fake, DUE_CY_TEXTED(OTHER_ORG_ID));
    CHECK_INT(inbox_store_campaign_dispatch(store, NOON_MS, 10, MEDIA_BASE, &d,
                                            &events, &err), INBOX_OK);
    CHECK_INT(d.handed, 1);
    CHECK(log_has(&fake, "\"from\" : \"" NUMBER_E164 "\""));
    CHECK(!log_has(&fake, "\"from\" : \"+15550002222\""));
    inbox_event_list_free(&events);

    fake_close(&fake, store);
}


/* More campaigns sending than a server's first batch holds (101): the
 * sender reads the others with getMore and sends them too, not only the
 * first batch's. */
TEST(campaign_dispatch_reads_every_batch)
{
    fake_t                     fake;
    inbox_error_t              err;
    inbox_store_t             *store;
    inbox_event_list_t         events;
    inbox_campaign_dispatch_t  d;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    /* two campaigns, nothing left of either: both done */
    fake.replies[1] = CURSOR_ON(CAMPAIGN_DOC("sending"));
    fake.replies[2] = GETMORE(SENDING_POLL);
    fake.replies[4] = SENDER_ORG("true", "5");
    fake.replies[5] = REPLY_NUMBER;
    fake.replies[11] = SENDER_ORG("true", "5");
    fake.replies[12] = REPLY_NUMBER;

    CHECK_INT(inbox_store_campaign_dispatch(store, NOON_MS, 10, MEDIA_BASE, &d,
                                            &events, &err), INBOX_OK);
    CHECK_INT(d.finished, 2);
    CHECK(log_has(&fake, "\"getMore\" : { \"$numberLong\" : \"42\" }, "
                         "\"collection\" : \"campaigns\""));
    CHECK(log_has(&fake, "\"$oid\" : \"" POLL_ID));
    golden_check(&fake, "campaign_dispatch_next_batch");

    /* a getMore that fails fails the turn: nothing is sent on a part */
    fake_reset(&fake);
    fake.replies[1] = CURSOR_ON(CAMPAIGN_DOC("sending"));
    fake.replies[2] = "{\"ok\": 0, \"code\": 43, \"errmsg\": \"cursor id 42"
                      " not found\"}";
    CHECK_INT(inbox_store_campaign_dispatch(store, NOON_MS, 10, MEDIA_BASE, &d,
                                            &events, &err), INBOX_ERR_INTERNAL);
    CHECK_INT(fake.commands, 3);

    fake_close(&fake, store);
}


TEST(campaign_dispatch_pauses_for_credits_and_billing)
{
    fake_t                     fake;
    inbox_error_t              err;
    inbox_store_t             *store;
    inbox_event_list_t         events;
    inbox_campaign_dispatch_t  d;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    /* a balance short of one message: paused, Cy left due */
    fake.replies[0] = NOTHING_MOVED;
    fake.replies[1] = CURSOR(CAMPAIGN_DOC("sending"));
    fake.replies[3] = SENDER_ORG("true", "0");
    fake.replies[4] = REPLY_NUMBER;
    fake.replies[5] = CURSOR(DUE_CY);
    CHECK_INT(inbox_store_campaign_dispatch(store, NOON_MS, 10, MEDIA_BASE, &d,
                                            &events, &err), INBOX_OK);
    CHECK_INT(d.paused, 1);
    CHECK_INT(d.handed, 0);
    CHECK(log_has(&fake, "\"insufficient_credits\""));
    golden_check(&fake, "campaign_dispatch_no_credits");

    /* billing inactive: paused for it */
    fake_reset(&fake);
    fake.replies[0] = NOTHING_MOVED;
    fake.replies[1] = CURSOR(CAMPAIGN_DOC("sending"));
    fake.replies[3] = SENDER_ORG("false", "5");
    fake.replies[4] = REPLY_NUMBER;
    fake.replies[5] = CURSOR(DUE_CY);
    CHECK_INT(inbox_store_campaign_dispatch(store, NOON_MS, 10, MEDIA_BASE, &d,
                                            &events, &err), INBOX_OK);
    CHECK_INT(d.paused, 1);
    CHECK(log_has(&fake, "\"billing_inactive\""));
    golden_check(&fake, "campaign_dispatch_billing_inactive");

    /* billing inactive with every recipient handed over, its messages
     * parked in the outbox: paused for it all the same */
    fake_reset(&fake);
    fake.replies[1] = CURSOR(CAMPAIGN_DOC("sending"));
    fake.replies[3] = SENDER_ORG("false", "5");
    fake.replies[4] = REPLY_NUMBER;
    fake.replies[7] = CURSOR("{\"_id\": " OID(GEN_1) "}");
    CHECK_INT(inbox_store_campaign_dispatch(store, NOON_MS, 10, MEDIA_BASE, &d,
                                            &events, &err), INBOX_OK);
    CHECK_INT(d.paused, 1);
    CHECK_INT(d.finished, 0);
    CHECK(log_has(&fake, "\"billing_inactive\""));
    golden_check(&fake, "campaign_dispatch_billing_inactive_handed_over");

    /* and with nothing left anywhere, done: billing stops nothing */
    fake_reset(&fake);
    fake.replies[1] = CURSOR(CAMPAIGN_DOC("sending"));
    fake.replies[3] = SENDER_ORG("false", "5");
    fake.replies[4] = REPLY_NUMBER;
    CHECK_INT(inbox_store_campaign_dispatch(store, NOON_MS, 10, MEDIA_BASE, &d,
                                            &events, &err), INBOX_OK);
    CHECK_INT(d.paused, 0);
    CHECK_INT(d.finished, 1);

    /* spent by a reply between the read and the hold: the claim is given
     * back, the organization read again, the campaign paused */
    fake_reset(&fake);
    fake.replies[0] = NOTHING_MOVED;
    fake.replies[1] = CURSOR(CAMPAIGN_DOC("sending"));
    fake.replies[3] = SENDER_ORG("true", "1");
    fake.replies[4] = REPLY_NUMBER;
    fake.replies[5] = CURSOR(DUE_CY);
    fake.replies[6] = NULL;                 /* the claim */
    fake.replies[7] = NULL;                 /* counted queued */
    fake.replies[8] = NULL;                 /* marked handed over */
    fake.replies[9] = STILL_SENDING;        /* and its campaign still is */
    fake.replies[10] = NULL;                /* the hold finds no balance */
    fake.replies[11] = NULL;                /* the claim given back */
    fake.replies[12] = NULL;                /* counted waiting again */
    fake.replies[13] = SENDER_ORG("true", "0");
    fake.replies[14] = REPLY_NUMBER;
    CHECK_INT(inbox_store_campaign_dispatch(store, NOON_MS, 10, MEDIA_BASE, &d,
                                            &events, &err), INBOX_OK);
    CHECK_INT(d.paused, 1);
    CHECK_INT(d.handed, 0);
    CHECK_INT(events.count, 0);
    golden_check(&fake, "campaign_dispatch_spent_meanwhile");

    /* on an unlimited plan an empty balance pauses nothing: the hold is
     * of nothing, the billing check alone, with no ledger entry */
    fake_reset(&fake);
    fake.replies[0] = NOTHING_MOVED;
    fake.replies[1] = CURSOR(CAMPAIGN_DOC("sending"));
    fake.replies[3] = UNLIMITED_ORG;
    fake.replies[4] = REPLY_NUMBER;
    fake.replies[5] = CURSOR(DUE_CY);
    fake.replies[6] = NULL;                 /* Cy claimed */
    fake.replies[7] = NULL;                 /* counted queued */
    fake.replies[8] = NULL;                 /* marked handed over */
    fake.replies[9] = STILL_SENDING;        /* and its campaign still is */
    fake.replies[10] = CREDITS("0", "0");   /* the hold of nothing */
    fake.replies[11] = NULL;                /* the message */
    fake.replies[12] = "{\"ok\": 1, \"value\": {\"_id\": " OID(CONV_ID)
                      ", \"contact\": {\"id\": " OID(CONTACT_ID) ","
                      " \"phone\": \"+15551234567\"}, \"last_message\":"
                      " {\"id\": " OID(GEN_1) ", \"direction\":"
                      " \"outbound\", \"preview\": \"Sale!\", \"at\": "
                      DATE(NOON) "}, \"unread_count\": 0}}";
    fake.replies[13] = SEQ;
    CHECK_INT(inbox_store_campaign_dispatch(store, NOON_MS, 10, MEDIA_BASE, &d,
                                            &events, &err), INBOX_OK);
    CHECK_INT(d.paused, 0);
    CHECK_INT(d.handed, 1);
    CHECK(!log_has(&fake, "\"ledger\""));
    CHECK(log_has(&fake, "\"credits\" : { \"$numberInt\" : \"0\" }"));
    golden_check(&fake, "campaign_dispatch_unlimited");

    /* billing off a moment between the read and the hold of nothing, on
     * again when read after: not paused, Cy due again for the next turn */
    fake_reset(&fake);
    fake.replies[0] = NOTHING_MOVED;
    fake.replies[1] = CURSOR(CAMPAIGN_DOC("sending"));
    fake.replies[3] = UNLIMITED_ORG;
    fake.replies[4] = REPLY_NUMBER;
    fake.replies[5] = CURSOR(DUE_CY);
    fake.replies[6] = NULL;                 /* Cy claimed */
    fake.replies[7] = NULL;                 /* counted queued */
    fake.replies[8] = NULL;                 /* marked handed over */
    fake.replies[9] = STILL_SENDING;        /* and its campaign still is */
    fake.replies[10] = NULL;                /* the hold matched nothing */
    fake.replies[11] = NULL;                /* the claim given back */
    fake.replies[12] = NULL;                /* counted waiting again */
    fake.replies[13] = UNLIMITED_ORG;
    fake.replies[14] = REPLY_NUMBER;
    CHECK_INT(inbox_store_campaign_dispatch(store, NOON_MS, 10, MEDIA_BASE, &d,
                                            &events, &err), INBOX_OK);
    CHECK_INT(d.paused, 0);
    CHECK_INT(d.handed, 0);
    CHECK(!log_has(&fake, "\"insufficient_credits\""));

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


/* A claim made as a person paused or cancelled the campaign (after its
 * status was written, before a cancel reached the recipients) hands
 * nothing over: no hold, no message in the thread, no outbox entry. */
TEST(campaign_dispatch_gives_back_a_claim_of_a_stopped_campaign)
{
    fake_t                     fake;
    inbox_error_t              err;
    inbox_store_t             *store;
    inbox_event_list_t         events;
    inbox_campaign_dispatch_t  d;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    /* cancelled: the recipient is cancelled, the turn ends */
    fake.replies[0] = NOTHING_MOVED;
    fake.replies[1] = CURSOR(CAMPAIGN_DOC("sending"));
    fake.replies[3] = SENDER_ORG("true", "5");
    fake.replies[4] = REPLY_NUMBER;
    fake.replies[5] = CURSOR(DUE_CY ", " DUE_BOB);
    fake.replies[6] = NULL;                 /* Cy claimed */
    fake.replies[7] = NULL;                 /* counted queued */
    fake.replies[8] = NULL;                 /* marked handed over */
    fake.replies[9] = CURSOR("{\"_id\": " OID(CAMPAIGN_ID) ","
                             " \"status\": \"cancelled\"}");
    CHECK_INT(inbox_store_campaign_dispatch(store, NOON_MS, 10, MEDIA_BASE, &d,
                                            &events, &err), INBOX_OK);
    CHECK_INT(d.handed, 0);
    CHECK_INT(d.waiting, 0);
    CHECK_INT(d.paused, 0);
    CHECK_INT(events.count, 0);
    CHECK_INT(fake.commands, 12);
    CHECK(!log_has(&fake, "\"findAndModify\" : \"orgs\""));
    golden_check(&fake, "campaign_dispatch_cancelled_meanwhile");

    /* paused by a person: the recipient as it was, for the resume */
    fake_reset(&fake);
    fake.replies[0] = NOTHING_MOVED;
    fake.replies[1] = CURSOR(CAMPAIGN_DOC("sending"));
    fake.replies[3] = SENDER_ORG("true", "5");
    fake.replies[4] = REPLY_NUMBER;
    fake.replies[5] = CURSOR(DUE_CY);
    fake.replies[6] = NULL;                 /* Cy claimed */
    fake.replies[7] = NULL;                 /* counted queued */
    fake.replies[8] = NULL;                 /* marked handed over */
    fake.replies[9] = CURSOR("{\"_id\": " OID(CAMPAIGN_ID) ","
                             " \"status\": \"paused\"}");
    CHECK_INT(inbox_store_campaign_dispatch(store, NOON_MS, 10, MEDIA_BASE, &d,
                                            &events, &err), INBOX_OK);
    CHECK_INT(d.handed, 0);
    CHECK_INT(d.paused, 0);
    CHECK_INT(events.count, 0);
    CHECK_INT(fake.commands, 12);
    CHECK(log_has(&fake, "\"state\" : \"waiting_quiet_hours\", "
                         "\"message_id\" : null"));

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


/* A campaign's message that fails after its hold gives the hold back,
 * as a reply's does. */
TEST(campaign_dispatch_failed_after_the_hold_gives_it_back)
{
    fake_t                     fake;
    inbox_error_t              err;
    inbox_store_t             *store;
    inbox_event_list_t         events;
    inbox_campaign_dispatch_t  d;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    fake.replies[0] = NOTHING_MOVED;
    fake.replies[1] = CURSOR(CAMPAIGN_DOC("sending"));
    fake.replies[3] = SENDER_ORG("true", "5");
    fake.replies[4] = REPLY_NUMBER;
    fake.replies[5] = CURSOR(DUE_CY);
    fake.replies[6] = NULL;                 /* Cy claimed */
    fake.replies[7] = NULL;                 /* counted queued */
    fake.replies[8] = NULL;                 /* marked handed over */
    fake.replies[9] = STILL_SENDING;        /* and its campaign still is */
    fake.replies[10] = CREDITS("4", "1");   /* the hold */
    fake.replies[12] = WRITE_REFUSED;       /* the message */
    fake.replies[13] = NULL;                /* no message holds them */
    fake.replies[14] = CREDITS("5", "0");   /* given back */
    CHECK_INT(inbox_store_campaign_dispatch(store, NOON_MS, 10, MEDIA_BASE, &d,
                                            &events, &err), INBOX_ERR_INTERNAL);
    CHECK(log_has(&fake, TAKES_ONE));
    CHECK(log_has(&fake, GIVES_ONE));
    CHECK(log_has(&fake, "\"kind\" : \"release\""));
    CHECK_INT(events.count, 0);
    golden_check(&fake, "campaign_dispatch_message_failed");

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


/* A campaign's message moving on moves its recipient, only forward. */
TEST(message_status_moves_a_campaign_recipient)
{
    int                  changed;
    fake_t               fake;
    inbox_error_t        err;
    inbox_store_t       *store;
    inbox_event_list_t   events;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    fake.replies[0] = "{\"ok\": 1, \"value\": {\"_id\": " OID(MSG_ID)
                      ", \"conversation_id\": " OID(CONV_ID) ","
                      " \"contact_id\": " OID(CONTACT_ID) ","
                      " \"status\": \"delivered\", \"held\": true,"
                      " \"credits\": 1, \"campaign_id\": " OID(CAMPAIGN_ID)
                      "}}";
    fake.replies[1] = SETTLING(MSG_ID, "capture");
    fake.replies[2] = CREDITS("9", "0");
    /* its recipient as it was: sent, counted delivered now */
    fake.replies[6] = "{\"ok\": 1, \"value\": {\"_id\": " OID(RCPT1_ID) ","
                      " \"campaign_id\": " OID(CAMPAIGN_ID) ","
                      " \"state\": \"sent\"}}";
    fake.replies[8] = SEQ;

    CHECK_INT(inbox_store_message_status_update(store, ORG_ID,
                  INBOX_CARRIER_TWILIO, "SM900", INBOX_DELIVERY_DELIVERED,
                  NULL, &changed, NULL, &events, &err), INBOX_OK);
    CHECK_INT(changed, 1);
    CHECK_INT(events.count, 1);
    CHECK(log_has(&fake, "\"$inc\" : { \"counts.sent\" : { \"$numberLong\""
                         " : \"-1\" }, \"counts.delivered\""));
    golden_check(&fake, "message_status_campaign");

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


#define ENTRY1_ID       "64f1a0000000000000000901"
#define ENTRY2_ID       "64f1a0000000000000000902"
#define ENTRY3_ID       "64f1a0000000000000000903"
#define MSG3_ID         "64f1a0000000000000000d03"

/* A bulk entry of campaign as a claim finds it (before the claim). */
#define BULK_ENTRY(id, msg, campaign, attempts, lease)                        \
    "{\"ok\": 1, \"value\": {\"_id\": " OID(id) ", \"org_id\": " OID(ORG_ID)  \
    ", \"message_id\": " OID(msg) ", \"priority\": 1, \"from\": \""          \
    NUMBER_E164 "\", \"attempts\": " attempts ", \"lease_until\": " lease    \
    ", \"campaign_id\": " OID(campaign) "}}"

/* The campaign as a claim reads its status: paused by a person. */
#define CAMPAIGN_PAUSED_BY_HAND                                               \
    "{\"_id\": " OID(CAMPAIGN_ID) ", \"status\": \"paused\","                 \
    " \"paused_reason\": \"manual\"}"


/*
 * The entries of a campaign paused by a person are parked (as they were
 * before the claim,
 * an interrupted one still so, due at INBOX_OUTBOX_PARKED) and counted
 * against max; a cancelled campaign's is handed out marked so; the
 * campaigns are read in one find.
 */
TEST(outbox_claim_parks_a_paused_campaigns_and_marks_a_cancelled_ones)
{
    fake_t                fake;
    inbox_error_t         err;
    inbox_store_t        *store;
    inbox_outbox_batch_t  batch;

    store = fake_open(&fake);

    fake.replies[0] = BULK_ENTRY(ENTRY1_ID, MSG_ID, CAMPAIGN_ID, "0", "null");
    fake.replies[1] = BULK_ENTRY(ENTRY2_ID, MSG2_ID, POLL_ID, "0", "null");
    /* claimed before, its lease ran out: interrupted */
    fake.replies[2] = BULK_ENTRY(ENTRY3_ID, MSG3_ID, CAMPAIGN_ID, "2",
                                 DATE(EARLIER));
    fake.replies[3] = CURSOR(CAMPAIGN_PAUSED_BY_HAND ","
                             " {\"_id\": " OID(POLL_ID) ","
                             " \"status\": \"cancelled\"}");
    fake.replies[4] = ORG_BILLING_ACTIVE;
    fake.replies[5] = NULL;                 /* the two parked */
    /* [6]: the first's hold given back (found given back already); not
     * the interrupted one's: it may have gone */
    /* read again after the park: still paused, so nothing unparked */
    fake.replies[7] = CURSOR(CAMPAIGN_PAUSED_BY_HAND);
    fake.replies[8] = CURSOR("{\"_id\": " OID(MSG2_ID) ", \"conversation_id\":"
                             " " OID(CONV_ID) ", \"direction\": \"outbound\","
                             " \"contact_id\": " OID(CONTACT_ID) ","
                             " \"to\": \"+15551234567\", \"body\": \"Which"
                             " day?\", \"status\": \"queued\", \"credits\":"
                             " 1, \"segments\": 1, \"media\": [],"
                             " \"created_at\": " DATE(EARLIER) ","
                             " \"campaign_id\": " OID(POLL_ID) "}");
    fake.replies[9] = CURSOR("{\"_id\": " OID(CONTACT_ID) ", \"opted_out\":"
                             " false}");
    fake.replies[10] = CURSOR("{\"_id\": " OID(GEN_1) ", \"org_id\": "
                             OID(ORG_ID) ", \"e164\": \"" NUMBER_E164 "\","
                             " \"carrier\": \"twilio\", \"account_sid\":"
                             " \"AC1\", \"auth_token\": \"tok\"}");

    CHECK_INT(inbox_store_outbox_claim(store, 1767225600000LL,
                                       1767225600000LL, 3, 30000,
                                       INBOX_OUTBOX_BULK, NULL,
                                       &batch, &err), INBOX_OK);
    CHECK_INT(batch.count, 1);
    if (batch.count == 1) {
        CHECK_STR(batch.items[0].id, ENTRY2_ID);
        CHECK_INT(batch.items[0].attempt, 1);
        CHECK_INT(batch.items[0].cancelled, 1);
        CHECK_INT(batch.items[0].withdrawn, 0);
        CHECK_STR(batch.items[0].campaign_id, POLL_ID);
        CHECK_STR(batch.items[0].message.body, "Which day?");
    }
    /* three claimed (max), so no fourth findAndModify */
    CHECK_INT(fake.commands, 11);
    golden_check(&fake, "outbox_claim_parked");
    inbox_outbox_batch_free(&batch);

    fake_close(&fake, store);
}


/*
 * Billing inactive: the reply is handed out marked to be reported
 * refused, the campaign's message parked (as it was), not unparked by
 * the campaign's read after the park, since its campaign is sending; the
 * organization read again after the park is active by then, so what was
 * parked for billing is due at once.
 */
TEST(outbox_claim_while_billing_is_inactive)
{
    fake_t                fake;
    inbox_error_t         err;
    inbox_store_t        *store;
    inbox_outbox_batch_t  batch;

    store = fake_open(&fake);

    fake.replies[0] = "{\"ok\": 1, \"value\": {\"_id\": " OID(ENTRY2_ID) ","
                      " \"org_id\": " OID(ORG_ID) ", \"message_id\": "
                      OID(MSG2_ID) ", \"priority\": 0, \"from\": \""
                      NUMBER_E164 "\", \"attempts\": 0}}";
    fake.replies[1] = BULK_ENTRY(ENTRY1_ID, MSG_ID, CAMPAIGN_ID, "0", "null");
    fake.replies[2] = CURSOR("{\"_id\": " OID(CAMPAIGN_ID) ", \"status\":"
                             " \"sending\"}");
    fake.replies[3] = CURSOR("{\"_id\": " OID(ORG_ID) ","
                             " \"billing_active\": false}");
    fake.replies[4] = NULL;                 /* parked */
    /* [5]: its hold given back (found given back already) */
    fake.replies[6] = ORG_BILLING_ACTIVE;   /* read again: active */
    fake.replies[7] = NULL;                 /* unparked */
    fake.replies[8] = CURSOR("{\"_id\": " OID(MSG2_ID) ", \"conversation_id\":"
                             " " OID(CONV_ID) ", \"direction\": \"outbound\","
                             " \"contact_id\": " OID(CONTACT_ID) ","
                             " \"to\": \"+15551234567\", \"body\": \"hi\","
                             " \"status\": \"queued\", \"credits\": 1,"
                             " \"segments\": 1, \"media\": [],"
                             " \"created_at\": " DATE(EARLIER) "}");
    fake.replies[9] = CURSOR("{\"_id\": " OID(CONTACT_ID) ", \"opted_out\":"
                             " false}");

    CHECK_INT(inbox_store_outbox_claim(store, 1767225600000LL,
                                       1767225600000LL, 2, 30000,
                                       INBOX_OUTBOX_BULK, NULL,
                                       &batch, &err), INBOX_OK);
    CHECK_INT(batch.count, 1);
    if (batch.count == 1) {
        CHECK_STR(batch.items[0].id, ENTRY2_ID);
        CHECK_INT(batch.items[0].billing_inactive, 1);
    }
    CHECK(log_has(&fake, "\"find\" : \"orgs\""));
    /* the campaign was not read again: nothing of it parked by hand */
    CHECK_INT(fake.commands, 11);
    golden_check(&fake, "outbox_claim_billing_inactive");
    inbox_outbox_batch_free(&batch);

    fake_close(&fake, store);
}


/* A campaign's entry claimed in its recipient's quiet hours (midnight in
 * London, quiet 21:00-08:00) is put back as it was, due at 08:00, and
 * leaves the batch; the organization's settings are read once. */
/* The replies to a claim of one bulk entry of a sending campaign, to a
 * contact in London of an organization in UTC (default quiet hours), up
 * to the organization's settings. */
static void
london_bulk_entry(fake_t *fake)
{
    fake->replies[0] = BULK_ENTRY(ENTRY1_ID, MSG_ID, CAMPAIGN_ID, "0", "null");
    fake->replies[1] = CURSOR("{\"_id\": " OID(CAMPAIGN_ID) ", \"status\":"
                             " \"sending\"}");
    fake->replies[2] = ORG_BILLING_ACTIVE;
    fake->replies[3] = CURSOR("{\"_id\": " OID(MSG_ID) ", \"conversation_id\":"
                             " " OID(CONV_ID) ", \"direction\": \"outbound\","
                             " \"contact_id\": " OID(CONTACT_ID) ","
                             " \"to\": \"+15551234567\", \"body\": \"Sale\","
                             " \"status\": \"queued\", \"credits\": 1,"
                             " \"segments\": 1, \"media\": [],"
                             " \"created_at\": " DATE(EARLIER) ","
                             " \"campaign_id\": " OID(CAMPAIGN_ID) "}");
    fake->replies[4] = CURSOR("{\"_id\": " OID(CONTACT_ID) ", \"opted_out\":"
                             " false, \"timezone\": \"Europe/London\"}");
    fake->replies[5] = CURSOR("{\"_id\": " OID(GEN_1) ", \"org_id\": "
                             OID(ORG_ID) ", \"e164\": \"" NUMBER_E164 "\","
                             " \"carrier\": \"twilio\", \"account_sid\":"
                             " \"AC1\", \"auth_token\": \"tok\"}");
    fake->replies[6] = CURSOR("{\"_id\": " OID(ORG_ID) ", \"name\": \"Acme\","
                             " \"timezone\": \"UTC\"}");
}


TEST(outbox_claim_puts_off_a_bulk_entry_in_its_recipients_quiet_hours)
{
    fake_t                fake;
    inbox_error_t         err;
    inbox_store_t        *store;
    inbox_outbox_batch_t  batch;

    store = fake_open(&fake);

    london_bulk_entry(&fake);
    fake.replies[7] = NULL;                 /* put back */
    /* its recipient's campaign, then the recipient waits, counted so */
    fake.replies[8] = CURSOR("{\"campaign_id\": " OID(CAMPAIGN_ID) "}");

    CHECK_INT(inbox_store_outbox_claim(store, 1767225600000LL,
                                       1767225600000LL, 1, 30000,
                                       INBOX_OUTBOX_BULK, NULL,
                                       &batch, &err), INBOX_OK);
    CHECK_INT(batch.count, 0);
    CHECK_INT(fake.commands, 11);
    CHECK(log_has(&fake, "\"counts.queued\" : { \"$numberLong\" : \"-1\" }"
                         ", \"counts.waiting_quiet_hours\""));
    /* due at 08:00 London, its attempt back at 0, no lease */
    CHECK(log_has(&fake, "1767254400000"));
    golden_check(&fake, "outbox_claim_quiet_hours");
    inbox_outbox_batch_free(&batch);

    fake_close(&fake, store);
}


/* The message a claimed bulk entry names, as a claim reads it. */
#define BULK_MESSAGE(msg)                                                     \
    CURSOR("{\"_id\": " OID(msg) ", \"conversation_id\": " OID(CONV_ID)     \
           ", \"direction\": \"outbound\", \"contact_id\": "               \
           OID(CONTACT_ID) ", \"to\": \"+15551234567\", \"body\":"          \
           " \"Sale\", \"status\": \"queued\", \"credits\": 1,"             \
           " \"segments\": 1, \"media\": [], \"created_at\": "             \
           DATE(EARLIER) ", \"campaign_id\": " OID(CAMPAIGN_ID) "}")

/* The lease_until the first statement about entry of the last command
 * sets (the one that applies: it takes the attempt): "null", "date" or
 * "" (none). */
static const char *
put_back_lease(fake_t *fake, const char *entry)
{
    const char  *last, *next, *at, *lease;

    last = NULL;
    next = fake->log.data;

    while ((next = strstr(next, "\"update\" : \"outbox\"")) != NULL) {
        last = next++;
    }

    at = last ? strstr(last, entry) : NULL;
    lease = at ? strstr(at, "\"lease_until\" : ") : NULL;

    if (lease == NULL) {
        return "";
    }

    lease += strlen("\"lease_until\" : ");

    return strncmp(lease, "null", 4) == 0 ? "null" : "date";
}


/*
 * A claim that fails after it put off one entry for its recipient's quiet
 * hours gives the others back each with its own lease: an interrupted
 * entry (its lease ran out: perhaps sent) stays interrupted, so that it
 * is not sent again as if it never went.
 */
TEST(outbox_claim_that_fails_after_a_put_off_keeps_each_lease)
{
    fake_t                fake;
    inbox_error_t         err;
    inbox_store_t        *store;
    inbox_outbox_batch_t  batch;

    store = fake_open(&fake);

    /* the first due in its quiet hours, the second interrupted */
    fake.replies[0] = BULK_ENTRY(ENTRY1_ID, MSG_ID, CAMPAIGN_ID, "0", "null");
    fake.replies[1] = BULK_ENTRY(ENTRY2_ID, MSG2_ID, CAMPAIGN_ID, "1",
                                 DATE(EARLIER));
    fake.replies[2] = CURSOR("{\"_id\": " OID(CAMPAIGN_ID) ", \"status\":"
                             " \"sending\"}");
    fake.replies[3] = ORG_BILLING_ACTIVE;
    fake.replies[4] = BULK_MESSAGE(MSG_ID);
    fake.replies[5] = CURSOR("{\"_id\": " OID(CONTACT_ID) ", \"opted_out\":"
                             " false, \"timezone\": \"Europe/London\"}");
    fake.replies[6] = CURSOR("{\"_id\": " OID(GEN_1) ", \"org_id\": "
                             OID(ORG_ID) ", \"e164\": \"" NUMBER_E164 "\","
                             " \"carrier\": \"twilio\", \"account_sid\":"
                             " \"AC1\", \"auth_token\": \"tok\"}");
    fake.replies[7] = BULK_MESSAGE(MSG2_ID);
    fake.replies[8] = fake.replies[5];
    fake.replies[9] = fake.replies[6];
    fake.replies[10] = CURSOR("{\"_id\": " OID(ORG_ID) ", \"name\":"
                              " \"Acme\", \"timezone\": \"UTC\"}");
    fake.replies[12] = NOT_PRIMARY;         /* the recipient waits */

    CHECK_INT(inbox_store_outbox_claim(store, 1767225600000LL,
                                       1767225600000LL, 2, 30000,
                                       INBOX_OUTBOX_BULK, NULL,
                                       &batch, &err), INBOX_ERR_UNAVAILABLE);
    /* the interrupted one given back interrupted: its lease kept */
    CHECK_STR(put_back_lease(&fake, ENTRY2_ID), "date");
    golden_check(&fake, "outbox_claim_fails_after_a_put_off");

    fake_close(&fake, store);
}


/* The same entry claimed at noon in London goes, and its recipient, put
 * off by an earlier claim perhaps, is counted queued again. */
TEST(outbox_claim_queues_again_a_bulk_entrys_recipient)
{
    fake_t                fake;
    inbox_error_t         err;
    inbox_store_t        *store;
    inbox_outbox_batch_t  batch;

    store = fake_open(&fake);

    london_bulk_entry(&fake);
    /* [7]: its message not parked before (none found holding nothing);
     * its recipient's campaign, then the recipient queued again,
     * counted so, and sent now on the campaigns' clock: its poll's
     * answers count from then, however long it waited */
    fake.replies[8] = CURSOR("{\"campaign_id\": " OID(CAMPAIGN_ID) "}");

    CHECK_INT(inbox_store_outbox_claim(store, 1767225600000LL,
                                       1767268800000LL, 1, 30000,
                                       INBOX_OUTBOX_BULK, NULL,
                                       &batch, &err), INBOX_OK);
    CHECK_INT(batch.count, 1);
    CHECK_INT(fake.commands, 12);
    CHECK(log_has(&fake, "\"$max\" : { \"sent_at\" : { \"$date\" : "
                         "{ \"$numberLong\" : \"1767268800000\" } } }"));
    golden_check(&fake, "outbox_claim_queues_again");
    inbox_outbox_batch_free(&batch);

    fake_close(&fake, store);
}


/* A resume between the claim's read of the statuses and its park: the
 * read after the park sees the campaign sending and unparks its entries,
 * which would otherwise wait for a resume that already happened. */
TEST(outbox_claim_unparks_what_it_parked_after_a_resume)
{
    fake_t                fake;
    inbox_error_t         err;
    inbox_store_t        *store;
    inbox_outbox_batch_t  batch;

    store = fake_open(&fake);

    fake.replies[0] = BULK_ENTRY(ENTRY1_ID, MSG_ID, CAMPAIGN_ID, "0", "null");
    fake.replies[1] = CURSOR(CAMPAIGN_PAUSED_BY_HAND);
    fake.replies[2] = ORG_BILLING_ACTIVE;
    fake.replies[3] = NULL;                 /* parked */
    /* [4]: its hold given back (found given back already): the claim
     * that hands it out holds it again */
    fake.replies[5] = CURSOR("{\"_id\": " OID(CAMPAIGN_ID) ", \"status\":"
                             " \"sending\"}");
    fake.replies[6] = NULL;                 /* unparked */

    CHECK_INT(inbox_store_outbox_claim(store, 1767225600000LL,
                                       1767225600000LL, 1, 30000,
                                       INBOX_OUTBOX_BULK, NULL,
                                       &batch, &err), INBOX_OK);
    CHECK_INT(batch.count, 0);
    CHECK_INT(fake.commands, 7);
    golden_check(&fake, "outbox_claim_unparks_after_a_resume");
    inbox_outbox_batch_free(&batch);

    fake_close(&fake, store);
}


/* The sender's look at what waits in its hands: the messages' contacts
 * and organizations, then those contacts, then the organizations of the
 * campaign messages among them, three reads for the batch; the one
 * opted out is withdrawn, a keyword's answer to it is not, a message not
 * found is not, a campaign message whose contact's zone (Tokyo: 21:00 at
 * noon UTC) is in the organization's quiet hours is put off.  A batch
 * of replies asks for no organization. */
TEST(outbox_recheck_reads_the_batch_at_once)
{
    fake_t                    fake;
    inbox_error_t             err;
    inbox_store_t            *store;
    inbox_outbox_held_t       held[4];
    const char               *ids[4] = { MSG_ID, MSG2_ID, MSG_ID,
                                         "64f1a0000000000000000d09" };
    inbox_outbox_priority_t   priorities[4] = { INBOX_OUTBOX_REPLY,
                                                INBOX_OUTBOX_BULK,
                                                INBOX_OUTBOX_NOTICE,
                                                INBOX_OUTBOX_REPLY };

    store = fake_open(&fake);

    fake.replies[0] = CURSOR("{\"_id\": " OID(MSG_ID) ", \"contact_id\": "
                             OID(CONTACT_ID) ", \"org_id\": " OID(ORG_ID)
                             "}, {\"_id\": " OID(MSG2_ID)
                             ", \"contact_id\": "
                             OID("64f1a0000000000000000b02")
                             ", \"org_id\": " OID(ORG_ID) "}");
    fake.replies[1] = CURSOR("{\"_id\": " OID(CONTACT_ID) ","
                             " \"opted_out\": true, \"opted_out_at\": "
                             DATE(EARLIER) "}, {\"_id\": "
                             OID("64f1a0000000000000000b02") ","
                             " \"opted_out\": false,"
                             " \"timezone\": \"Asia/Tokyo\"}");
    fake.replies[2] = CURSOR("{\"_id\": " OID(ORG_ID) ","
                             " \"timezone\": \"UTC\", \"quiet_start\": 1260,"
                             " \"quiet_end\": 480}");
    CHECK_INT(inbox_store_outbox_recheck(store, ids, priorities, 4,
                                         1767268800000LL, held, &err),
              INBOX_OK);
    CHECK_INT(held[0], INBOX_OUTBOX_HELD_WITHDRAWN);
    CHECK_INT(held[1], INBOX_OUTBOX_HELD_QUIET);
    CHECK_INT(held[2], INBOX_OUTBOX_HELD_GOES);
    CHECK_INT(held[3], INBOX_OUTBOX_HELD_GOES);
    CHECK_INT(fake.commands, 3);
    golden_check(&fake, "outbox_recheck");

    fake_close(&fake, store);
}


/* Given back (released): due again at once (or at its due_at, a
 * carrier's hold's end) at its attempt, not counted, its last error kept;
 * reported cancelled: failed campaign_cancelled, the hold released, the
 * recipient counted cancelled. */
TEST(outbox_result_released_and_cancelled)
{
    fake_t               fake;
    inbox_error_t        err;
    inbox_store_t       *store;
    inbox_event_list_t   events;
    inbox_send_result_t  res;
    inbox_send_report_t  report;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_RELEASED;
    fake.replies[0] = OUTBOX_ENTRY;
    fake.replies[2] = CURSOR("{\"_id\": " OID(MSG_ID) ", \"status\":"
                             " \"queued\"}");
    CHECK_INT(inbox_store_outbox_result(store, GEN_3, 1, &res, NOON_MS,
                                        &report, &events, &err), INBOX_OK);
    CHECK_INT(report.done, 0);
    CHECK(report.next_attempt_at == NOON_MS);
    CHECK_INT(report.status, INBOX_DELIVERY_QUEUED);
    CHECK_INT(events.count, 0);
    CHECK(!log_has(&fake, "last_error"));
    golden_check(&fake, "outbox_result_released");

    /* given back until a carrier's hold on its number ends: due then */
    fake_reset(&fake);
    res.due_at = NOON_MS + 30000;
    fake.replies[0] = OUTBOX_ENTRY;
    fake.replies[2] = CURSOR("{\"_id\": " OID(MSG_ID) ", \"status\":"
                             " \"queued\"}");
    CHECK_INT(inbox_store_outbox_result(store, GEN_3, 1, &res, NOON_MS,
                                        &report, &events, &err), INBOX_OK);
    CHECK(report.next_attempt_at == NOON_MS + 30000);
    golden_check(&fake, "outbox_result_released_until_a_hold_ends");
    res.due_at = 0;

    /* a lost claim gives nothing back */
    fake_reset(&fake);
    fake.replies[0] = OUTBOX_ENTRY;
    CHECK_INT(inbox_store_outbox_result(store, GEN_3, 2, &res, NOON_MS,
                                        &report, &events, &err),
              INBOX_ERR_CONFLICT);
    CHECK_INT(fake.commands, 1);

    fake_reset(&fake);
    res.outcome = INBOX_SEND_CANCELLED;
    fake.replies[0] = OUTBOX_ENTRY;
    fake.replies[1] = "{\"ok\": 1, \"value\": {\"_id\": " OID(MSG_ID)
                      ", \"conversation_id\": " OID(CONV_ID) ","
                      " \"contact_id\": " OID(CONTACT_ID) ","
                      " \"status\": \"failed\", \"error_code\":"
                      " \"campaign_cancelled\", \"held\": true,"
                      " \"credits\": 1, \"campaign_id\": " OID(CAMPAIGN_ID)
                      "}}";
    fake.replies[2] = SETTLING(MSG_ID, "release");
    fake.replies[3] = CREDITS("10", "0");
    fake.replies[8] = SEQ;
    fake.replies[13] = OUTBOX_LEFT;
    CHECK_INT(inbox_store_outbox_result(store, GEN_3, 1, &res, NOON_MS,
                                        &report, &events, &err), INBOX_OK);
    CHECK_INT(report.done, 1);
    CHECK_INT(report.status, INBOX_DELIVERY_FAILED);
    CHECK_INT(events.count, 1);
    CHECK(log_has(&fake, "\"campaign_cancelled\""));
    CHECK(log_has(&fake, "\"state\" : \"cancelled\""));
    golden_check(&fake, "outbox_result_cancelled");

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


/* Given back because the carrier refused its number's account (the
 * result's account): released as any, and its campaign (read from the
 * entry) paused for carrier_account from the status it was read in,
 * naming the entry's number and the carrier's code; one a person paused
 * stays as it is. */
TEST(outbox_result_released_for_the_numbers_account)
{
    fake_t               fake;
    inbox_error_t        err;
    inbox_store_t       *store;
    inbox_event_list_t   events;
    inbox_send_result_t  res;
    inbox_send_report_t  report;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_RELEASED;
    res.account = 1;
    snprintf(res.error_code, sizeof(res.error_code), "20003");
    fake.replies[0] = CURSOR("{\"_id\": " OID(GEN_3) ", \"org_id\": "
                             OID(ORG_ID) ", \"message_id\": " OID(MSG_ID)
                             ", \"attempts\": 1, \"campaign_id\": "
                             OID(CAMPAIGN_ID) ", \"from\": \""
                             NUMBER_E164 "\"}");
    fake.replies[2] = CURSOR("{\"_id\": " OID(MSG_ID) ", \"status\":"
                             " \"queued\"}");
    fake.replies[3] = CURSOR("{\"_id\": " OID(CAMPAIGN_ID) ", \"status\":"
                             " \"sending\", \"paused_reason\": null}");
    CHECK_INT(inbox_store_outbox_result(store, GEN_3, 1, &res, NOON_MS,
                                        &report, &events, &err), INBOX_OK);
    CHECK_INT(report.done, 0);
    CHECK_INT(report.status, INBOX_DELIVERY_QUEUED);
    /* then its other entries the sender does not hold parked, giving
     * their holds back (none here) */
    CHECK_INT(fake.commands, 6);
    CHECK(log_has(&fake, "\"paused_reason\" : \"carrier_account\""));
    CHECK(log_has(&fake, "\"find\" : \"outbox\""));
    /* the number refused and the carrier's code kept with the pause */
    CHECK(log_has(&fake, "\"paused_number\" : \"" NUMBER_E164 "\""));
    CHECK(log_has(&fake, "\"paused_error_code\" : \"20003\""));
    golden_check(&fake, "outbox_result_released_for_the_numbers_account");

    /* paused by a person meanwhile: its messages wait parked already */
    fake_reset(&fake);
    fake.replies[0] = CURSOR("{\"_id\": " OID(GEN_3) ", \"org_id\": "
                             OID(ORG_ID) ", \"message_id\": " OID(MSG_ID)
                             ", \"attempts\": 1, \"campaign_id\": "
                             OID(CAMPAIGN_ID) "}");
    fake.replies[2] = CURSOR("{\"_id\": " OID(MSG_ID) ", \"status\":"
                             " \"queued\"}");
    fake.replies[3] = CURSOR("{\"_id\": " OID(CAMPAIGN_ID) ", \"status\":"
                             " \"paused\", \"paused_reason\": \"manual\"}");
    CHECK_INT(inbox_store_outbox_result(store, GEN_3, 1, &res, NOON_MS,
                                        &report, &events, &err), INBOX_OK);
    CHECK_INT(fake.commands, 4);
    CHECK(!log_has(&fake, "carrier_account"));

    CHECK_INT(events.count, 0);
    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


/* Withdrawn (the contact opted out in the inbox since): failed
 * contact_opted_out, but the contact is not named to be opted out again
 * as a carrier's refusal names it.  A campaign's message either way: its
 * recipient counted suppressed, by the code the message has now. */
TEST(outbox_result_withdrawn_names_no_contact)
{
    size_t               i;
    fake_t               fake;
    inbox_error_t        err;
    inbox_store_t       *store;
    inbox_event_list_t   events;
    inbox_send_result_t  res;
    inbox_send_report_t  report;

    /* withdrawn names nobody; the carrier's own refusal names the
     * contact */
    static const struct {
        inbox_send_outcome_t   outcome;
        const char            *named;
    } cases[] = {
        { INBOX_SEND_WITHDRAWN, "" },
        { INBOX_SEND_OPTED_OUT, CONTACT_ID },
    };

    store = fake_open(&fake);

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fake_reset(&fake);
        memset(&events, 0, sizeof(events));
        memset(&res, 0, sizeof(res));
        res.outcome = cases[i].outcome;

        fake.replies[0] = OUTBOX_ENTRY;
        fake.replies[1] = "{\"ok\": 1, \"value\": {\"_id\": " OID(MSG_ID)
                          ", \"conversation_id\": " OID(CONV_ID) ","
                          " \"contact_id\": " OID(CONTACT_ID) ","
                          " \"status\": \"failed\", \"error_code\":"
                          " \"contact_opted_out\", \"held\": true,"
                          " \"credits\": 1, \"campaign_id\": "
                          OID(CAMPAIGN_ID) "}}";
        fake.replies[2] = SETTLING(MSG_ID, "release");
        fake.replies[3] = CREDITS("10", "0");
        fake.replies[8] = SEQ;
        fake.replies[12] = OUTBOX_LEFT;

        CHECK_INT(inbox_store_outbox_result(store, GEN_3, 1, &res, NOON_MS,
                                            &report, &events, &err),
                  INBOX_OK);
        CHECK_INT(report.done, 1);
        CHECK_INT(report.status, INBOX_DELIVERY_FAILED);
        CHECK_STR(report.opted_out_contact, cases[i].named);
        CHECK(log_has(&fake, "\"contact_opted_out\""));
        /* withdrawn or refused, the contact opted out: suppressed */
        CHECK(log_has(&fake, "\"state\" : \"suppressed\""));

        inbox_event_list_free(&events);
    }

    fake_close(&fake, store);
}


/*
 * A result whose record failed halfway (an election after the message
 * moved, before its hold was settled) leaves its entry in the outbox:
 * the sender's retry finds it, and the steps done already do nothing
 * twice while the rest are done (the hold given back, the entry gone).
 */
TEST(outbox_result_failed_halfway_is_recorded_by_its_retry)
{
    fake_t               fake;
    inbox_error_t        err;
    inbox_store_t       *store;
    inbox_event_list_t   events;
    inbox_send_result_t  res;
    inbox_send_report_t  report;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    memset(&res, 0, sizeof(res));
    res.outcome = INBOX_SEND_REFUSED;
    res.carrier = INBOX_CARRIER_TWILIO;
    snprintf(res.error_code, sizeof(res.error_code), "21211");

    fake.replies[0] = OUTBOX_ENTRY;
    fake.replies[1] = "{\"ok\": 1, \"value\": {\"_id\": " OID(MSG_ID)
                      ", \"conversation_id\": " OID(CONV_ID) ","
                      " \"contact_id\": " OID(CONTACT_ID) ","
                      " \"status\": \"failed\", \"error_code\":"
                      " \"21211\", \"held\": true, \"credits\": 1}}";
    fake.replies[2] = NOT_PRIMARY;          /* the hold's settlement */

    CHECK_INT(inbox_store_outbox_result(store, GEN_3, 1, &res, NOON_MS,
                                        &report, &events, &err),
              INBOX_ERR_UNAVAILABLE);
    CHECK_INT(report.done, 0);
    CHECK(!log_has(&fake, "\"remove\""));
    /* the move marks the message until its event is written */
    CHECK(log_has(&fake, "\"unannounced\" : \"failed\""));
    CHECK_INT(events.count, 0);

    /* the retry: the message failed already, its hold not settled and
     * its move not announced: settled, then message.status appended as
     * SQLite's one transaction would have, and the mark taken off */
    fake_reset(&fake);
    fake.replies[0] = OUTBOX_ENTRY;
    fake.replies[2] = CURSOR("{\"_id\": " OID(MSG_ID) ", \"contact_id\": "
                             OID(CONTACT_ID) ", \"conversation_id\": "
                             OID(CONV_ID) ", \"status\": \"failed\","
                             " \"error_code\": \"21211\", \"held\": true,"
                             " \"credits\": 1, \"unannounced\": \"failed\"}");
    fake.replies[3] = SETTLING(MSG_ID, "release");
    fake.replies[4] = CREDITS("10", "0");
    fake.replies[8] = SEQ;
    fake.replies[12] = OUTBOX_LEFT;

    CHECK_INT(inbox_store_outbox_result(store, GEN_3, 1, &res, NOON_MS,
                                        &report, &events, &err), INBOX_OK);
    CHECK_INT(report.done, 1);
    CHECK_INT(report.status, INBOX_DELIVERY_FAILED);
    CHECK(log_has(&fake, GIVES_ONE));
    CHECK(log_has(&fake, "\"remove\" : true"));
    CHECK(log_has(&fake, "\"$unset\" : { \"unannounced\" : \"\" }"));
    /* and its thread's row says it failed, while it is the last */
    CHECK(log_has(&fake, "\"last_message.status\" : \"failed\", "
                  "\"last_message.error_code\" : \"21211\""));
    CHECK_INT(fake.commands, 13);
    CHECK_INT(events.count, 1);
    if (events.count == 1) {
        CHECK(strstr(events.items[0].json, "\"message.status\"") != NULL);
        CHECK(strstr(events.items[0].json, "\"status\":\"failed\"")
              != NULL);
        CHECK(strstr(events.items[0].json, "21211") != NULL);
    }
    golden_check(&fake, "outbox_result_halfway_retry");

    /* retried again (its removal from the outbox lost): the mark gone,
     * no second event */
    fake_reset(&fake);
    fake.replies[0] = OUTBOX_ENTRY;
    fake.replies[2] = CURSOR("{\"_id\": " OID(MSG_ID) ", \"contact_id\": "
                             OID(CONTACT_ID) ", \"status\": \"failed\","
                             " \"held\": false, \"credits\": 1}");
    fake.replies[3] = OUTBOX_LEFT;
    CHECK_INT(inbox_store_outbox_result(store, GEN_3, 1, &res, NOON_MS,
                                        &report, &events, &err), INBOX_OK);
    CHECK_INT(report.done, 1);
    CHECK_INT(fake.commands, 4);
    CHECK_INT(events.count, 1);

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


/* Resume makes what claims parked due again (before the status moves,
 * and after it for what a claim parked in between); pause does not. */
TEST(campaign_resume_unparks_its_outbox_entries)
{
    fake_t             fake;
    inbox_error_t      err;
    inbox_store_t     *store;
    inbox_campaign_t   c;

    store = fake_open(&fake);

    fake.replies[0] = CURSOR(CAMPAIGN_DOC("paused"));
    fake.replies[5] = CURSOR(CAMPAIGN_DOC("sending"));

    fake.replies[7] = SEQ;     /* campaign.updated or .deleted */
    CHECK_INT(inbox_store_campaign_act(store, ORG_ID, CAMPAIGN_ID,
                                       INBOX_CAMPAIGN_RESUME, NOON_MS, &c,
                                       NULL, &err), INBOX_OK);
    CHECK_INT(c.status, INBOX_CAMPAIGN_SENDING);
    golden_check(&fake, "campaign_resume");
    inbox_campaign_free(&c);

    /* resumed by someone else meanwhile: read again, a repeat, which
     * makes due what a claim parked in between (as a resume that failed
     * after its move left it) and answers as it is */
    fake_reset(&fake);
    fake.replies[0] = CURSOR(CAMPAIGN_DOC("paused"));
    fake.replies[3] = NOTHING_MOVED;
    fake.replies[4] = CURSOR(CAMPAIGN_DOC("sending"));
    fake.replies[7] = CURSOR(CAMPAIGN_DOC("sending"));
    CHECK_INT(inbox_store_campaign_act(store, ORG_ID, CAMPAIGN_ID,
                                       INBOX_CAMPAIGN_RESUME, NOON_MS, &c,
                                       NULL, &err), INBOX_OK);
    CHECK_INT(c.status, INBOX_CAMPAIGN_SENDING);
    CHECK_INT(fake.commands, 9);
    golden_check(&fake, "campaign_resume_repeated");
    inbox_campaign_free(&c);

    /* a pause unparks nothing: it parks what the sender does not hold
     * (here nothing), after its move */
    fake_reset(&fake);
    fake.replies[0] = CURSOR(CAMPAIGN_DOC("sending"));
    fake.replies[4] = CURSOR(CAMPAIGN_DOC("paused"));
    fake.replies[6] = SEQ;     /* campaign.updated or .deleted */
    CHECK_INT(inbox_store_campaign_act(store, ORG_ID, CAMPAIGN_ID,
                                       INBOX_CAMPAIGN_PAUSE, NOON_MS, &c,
                                       NULL, &err), INBOX_OK);
    CHECK_INT(c.status, INBOX_CAMPAIGN_PAUSED);
    CHECK(log_has(&fake, "\"find\" : \"outbox\""));
    CHECK(!log_has(&fake, "\"update\" : \"outbox\""));
    inbox_campaign_free(&c);

    fake_close(&fake, store);
}


/*
 * A person's pause parks, after its move, what the sender does not hold
 * of the campaign, one compare-and-set each (still not leased), and
 * gives back each parked one's hold (a release settled as any) while
 * its entry is still parked and not leased; one the sender leased
 * meanwhile is its own, and keeps its hold.  A pause repeated parks
 * what one before left.
 */
TEST(campaign_pause_gives_back_what_its_parked_entries_held)
{
    fake_t             fake;
    inbox_error_t      err;
    inbox_store_t     *store;
    inbox_campaign_t   c;

    store = fake_open(&fake);

    fake.replies[0] = CURSOR(CAMPAIGN_DOC("sending"));
    /* [2]: paused; its entries the sender does not hold */
    fake.replies[3] = CURSOR("{\"_id\": " OID(ENTRY1_ID) ", \"message_id\": "
                             OID(MSG_ID) "}, {\"_id\": " OID(ENTRY2_ID)
                             ", \"message_id\": " OID(MSG2_ID) "}");
    /* [4]: the first parked; its hold given back, [6] its entry still
     * parked */
    fake.replies[5] = SETTLING(MSG_ID, "release");
    fake.replies[7] = CREDITS("5", "1");
    /* the second leased meanwhile: left to the claim */
    fake.replies[11] = NOTHING_MOVED;
    fake.replies[12] = CURSOR(CAMPAIGN_DOC_WHY("paused", "\"manual\""));
    fake.replies[14] = SEQ;    /* campaign.updated */
    CHECK_INT(inbox_store_campaign_act(store, ORG_ID, CAMPAIGN_ID,
                                       INBOX_CAMPAIGN_PAUSE, NOON_MS, &c,
                                       NULL, &err), INBOX_OK);
    CHECK_INT(c.status, INBOX_CAMPAIGN_PAUSED);
    CHECK(log_has(&fake, "\"settling\" : \"release\""));
    CHECK(log_has(&fake, "\"kind\" : \"release\""));
    CHECK(!log_has(&fake, MSG2_ID "\" }, \"held\""));
    golden_check(&fake, "campaign_pause_parks");
    inbox_campaign_free(&c);

    /*
     * A resume and a claim between the park and the release: the claim
     * found the message held and handed it out holding.  The release
     * finds its entry no longer parked (leased) and puts the hold back:
     * the message goes holding, nothing moves.
     */
    fake_reset(&fake);
    fake.replies[0] = CURSOR(CAMPAIGN_DOC("sending"));
    fake.replies[3] = CURSOR("{\"_id\": " OID(ENTRY1_ID) ", \"message_id\": "
                             OID(MSG_ID) "}");
    fake.replies[5] = SETTLING(MSG_ID, "release");
    fake.replies[6] = NOTHING_MOVED;        /* leased by the claim */
    fake.replies[8] = CURSOR(CAMPAIGN_DOC_WHY("paused", "\"manual\""));
    fake.replies[10] = SEQ;    /* campaign.updated */
    CHECK_INT(inbox_store_campaign_act(store, ORG_ID, CAMPAIGN_ID,
                                       INBOX_CAMPAIGN_PAUSE, NOON_MS, &c,
                                       NULL, &err), INBOX_OK);
    CHECK_INT(c.status, INBOX_CAMPAIGN_PAUSED);
    CHECK(!log_has(&fake, "\"credits.balance\""));
    CHECK(!log_has(&fake, "\"insert\" : \"ledger\""));
    CHECK(log_has(&fake, "\"held\" : true"));
    golden_check(&fake, "campaign_pause_resumed_and_claimed");
    inbox_campaign_free(&c);

    /*
     * A pause repeated after one that stopped after its move (a crash,
     * a failure), its entries not parked: the repeat parks them and
     * gives back their holds, moving nothing else.
     */
    fake_reset(&fake);
    fake.replies[0] = CURSOR(CAMPAIGN_DOC_WHY("paused", "\"manual\""));
    fake.replies[2] = CURSOR("{\"_id\": " OID(ENTRY1_ID) ", \"message_id\": "
                             OID(MSG_ID) "}");
    fake.replies[4] = SETTLING(MSG_ID, "release");
    fake.replies[6] = CREDITS("5", "1");
    fake.replies[10] = CURSOR(CAMPAIGN_DOC_WHY("paused", "\"manual\""));
    CHECK_INT(inbox_store_campaign_act(store, ORG_ID, CAMPAIGN_ID,
                                       INBOX_CAMPAIGN_PAUSE, NOON_MS, &c,
                                       NULL, &err), INBOX_OK);
    CHECK_INT(c.status, INBOX_CAMPAIGN_PAUSED);
    CHECK(log_has(&fake, "\"kind\" : \"release\""));
    CHECK(!log_has(&fake, "\"update\" : \"campaigns\""));
    CHECK_INT(fake.commands, 12);
    golden_check(&fake, "campaign_pause_repeated_parks");
    inbox_campaign_free(&c);

    fake_close(&fake, store);
}


/* The message a claim finds holding nothing: parked before, its hold
 * given back. */
#define UNHELD_MESSAGE                                                        \
    CURSOR("{\"_id\": " OID(MSG_ID) ", \"org_id\": " OID(ORG_ID) ","       \
           " \"credits\": 1}")


/*
 * A campaign's message parked before, holding nothing, is held again as
 * a claim hands it out: the organization's $inc and its entry, then the
 * message held, its holds counted (its settlement is keyed by them).
 * One the balance no longer covers is parked again and its campaign
 * paused for credits, from the status read.
 */
TEST(outbox_claim_holds_a_parked_message_again)
{
    fake_t                fake;
    inbox_error_t         err;
    inbox_store_t        *store;
    inbox_outbox_batch_t  batch;

    store = fake_open(&fake);

    london_bulk_entry(&fake);
    fake.replies[7] = UNHELD_MESSAGE;
    fake.replies[8] = CREDITS("4", "1");    /* held again */
    /* [9] its entry, [10] the message held; then its recipient */
    fake.replies[11] = CURSOR("{\"campaign_id\": " OID(CAMPAIGN_ID) "}");

    CHECK_INT(inbox_store_outbox_claim(store, 1767225600000LL,
                                       1767268800000LL, 1, 30000,
                                       INBOX_OUTBOX_BULK, NULL,
                                       &batch, &err), INBOX_OK);
    CHECK_INT(batch.count, 1);
    CHECK_INT(fake.commands, 15);
    CHECK(log_has(&fake, "\"kind\" : \"hold\""));
    CHECK(log_has(&fake, "\"holds\""));
    golden_check(&fake, "outbox_claim_holds_again");
    inbox_outbox_batch_free(&batch);

    /* the balance short of it: parked again, nothing handed out, the
     * campaign paused insufficient_credits */
    fake_reset(&fake);
    london_bulk_entry(&fake);
    fake.replies[7] = UNHELD_MESSAGE;
    /* [8] the $inc finds no balance for it, [9] put back parked */
    fake.replies[10] = CURSOR("{\"_id\": " OID(CAMPAIGN_ID) ", \"status\":"
                              " \"sending\", \"paused_reason\": null}");

    CHECK_INT(inbox_store_outbox_claim(store, 1767225600000LL,
                                       1767268800000LL, 1, 30000,
                                       INBOX_OUTBOX_BULK, NULL,
                                       &batch, &err), INBOX_OK);
    CHECK_INT(batch.count, 0);
    CHECK(!log_has(&fake, "\"kind\" : \"hold\""));
    CHECK(log_has(&fake, "\"paused_reason\" : \"insufficient_credits\""));
    golden_check(&fake, "outbox_claim_short_of_a_hold");
    inbox_outbox_batch_free(&batch);

    /* its last hold still being given back (settling): left for a
     * minute, the campaign as it is */
    fake_reset(&fake);
    london_bulk_entry(&fake);
    fake.replies[7] = CURSOR("{\"_id\": " OID(MSG_ID) ", \"org_id\": "
                             OID(ORG_ID) ", \"credits\": 1, \"settling\":"
                             " \"release\"}");

    CHECK_INT(inbox_store_outbox_claim(store, 1767225600000LL,
                                       1767268800000LL, 1, 30000,
                                       INBOX_OUTBOX_BULK, NULL,
                                       &batch, &err), INBOX_OK);
    CHECK_INT(batch.count, 0);
    CHECK(!log_has(&fake, "\"findAndModify\" : \"orgs\""));
    CHECK(!log_has(&fake, "\"update\" : \"campaigns\""));
    CHECK(log_has(&fake, "1767225660000"));  /* due a minute on */
    inbox_outbox_batch_free(&batch);

    /* the message's write fails after the $inc: given back through the
     * message if the server held it after all (here not: held by
     * nobody), else directly, and the claim fails, handing out nothing */
    fake_reset(&fake);
    london_bulk_entry(&fake);
    fake.replies[7] = UNHELD_MESSAGE;
    fake.replies[8] = CREDITS("4", "1");    /* held again */
    fake.replies[10] = NOT_PRIMARY;         /* the message held */
    fake.replies[12] = CREDITS("5", "0");   /* given back */

    CHECK_INT(inbox_store_outbox_claim(store, 1767225600000LL,
                                       1767268800000LL, 1, 30000,
                                       INBOX_OUTBOX_BULK, NULL,
                                       &batch, &err), INBOX_ERR_UNAVAILABLE);
    CHECK_INT(batch.count, 0);
    CHECK(log_has(&fake, "\"settling\" : \"release\""));
    CHECK(log_has(&fake, "\"kind\" : \"release\""));
    golden_check(&fake, "outbox_claim_hold_again_failed");

    fake_close(&fake, store);
}


static void
answer_message(inbox_inbound_t *msg, const char *provider_id,
    const char *body)
{
    ingest_message(msg, provider_id);
    msg->body = body;
    msg->media_count = 0;
}


/* What ingest reads after the message's events: the contact's polls,
 * then, when it answers none, its newest campaign message, each a
 * recipient (of campaign); two updates then mark the message
 * finished. */
#define RECIPIENT_FOUND(rcpt, campaign)                                       \
    CURSOR("{\"_id\": " OID(rcpt) ", \"campaign_id\": " OID(campaign) "}")
#define POLL_OPTIONS                                                          \
    CURSOR("{\"_id\": " OID(POLL_ID) ", \"options\":"                        \
           " [\"Monday\", \"Friday\"]}")


/* The poll's recipient as its answer's write found it: answered before
 * (its option's number) or not (null). */
#define ANSWER_BEFORE(answer)                                                 \
    "{\"ok\": 1, \"value\": {\"_id\": " OID(RCPT1_ID) ", \"answer\": "      \
    answer "}}"


static void
ingest_replies(fake_t *fake)
{
    fake->replies[0] = ingest_number;
    fake->replies[1] = ingest_contact;
    fake->replies[3] = ingest_conversation;
    fake->replies[4] = ingest_org;
    fake->replies[5] = ingest_unread;
}


TEST(inbound_ingest_answers_a_poll_by_number_or_text)
{
    fake_t                 fake;
    inbox_error_t          err;
    inbox_store_t         *store;
    inbox_inbound_t        msg;
    inbox_event_list_t     events;
    inbox_ingest_result_t  result;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    /* "2" an hour after the poll: replied (counted so), and option 2
     * unless a later answer is there (counted in the tally); no other
     * campaign is looked for */
    answer_message(&msg, "SM0101", " 2. ");
    ingest_replies(&fake);
    fake.replies[7] = RECIPIENT_FOUND(RCPT1_ID, POLL_ID);
    fake.replies[8] = POLL_OPTIONS;
    fake.replies[12] = ANSWER_BEFORE("null");
    CHECK_INT(inbox_store_inbound_ingest(store, &msg, 1, &result, &events,
                                         &err), INBOX_OK);
    CHECK_INT(result.status, INBOX_OK);
    CHECK_INT(fake.commands, 17);
    CHECK(log_has(&fake, "\"$inc\" : { \"counts.replied\" : { "
                         "\"$numberLong\" : \"1\" } }"));
    CHECK(log_has(&fake, "\"$inc\" : { \"tally.2\" : { "
                         "\"$numberLong\" : \"1\" } }"));
    CHECK(log_has(&fake, "\"poll\" : true"));
    CHECK(log_has(&fake, "\"$max\" : { \"answered_at\""));
    CHECK(log_has(&fake, "\"$max\" : { \"replied_at\""));
    golden_check(&fake, "inbound_ingest_poll_answer");

    /* by an option's text, replacing the recipient's answer 1: the
     * tally moves from 1 to 2 */
    fake_reset(&fake);
    answer_message(&msg, "SM0102", "friday!");
    ingest_replies(&fake);
    fake.replies[7] = RECIPIENT_FOUND(RCPT1_ID, POLL_ID);
    fake.replies[8] = POLL_OPTIONS;
    fake.replies[12] = ANSWER_BEFORE("1");
    CHECK_INT(inbox_store_inbound_ingest(store, &msg, 1, &result, &events,
                                         &err), INBOX_OK);
    CHECK_INT(fake.commands, 17);
    CHECK(log_has(&fake, "\"answer\" : { \"$numberInt\" : \"2\" }"));
    CHECK(log_has(&fake, "\"$inc\" : { \"tally.2\" : { "
                         "\"$numberLong\" : \"1\" }, \"tally.1\" : { "
                         "\"$numberLong\" : \"-1\" } }"));
    golden_check(&fake, "inbound_ingest_poll_answer_text");

    /* not an option: the newest message (the poll) replied, no
     * answer */
    fake_reset(&fake);
    answer_message(&msg, "SM0103", "maybe");
    ingest_replies(&fake);
    fake.replies[7] = RECIPIENT_FOUND(RCPT1_ID, POLL_ID);
    fake.replies[8] = POLL_OPTIONS;
    fake.replies[9] = RECIPIENT_FOUND(RCPT1_ID, POLL_ID);
    CHECK_INT(inbox_store_inbound_ingest(store, &msg, 1, &result, &events,
                                         &err), INBOX_OK);
    CHECK_INT(fake.commands, 15);
    CHECK(!log_has(&fake, "\"answer\" : { \"$numberInt\""));
    CHECK(log_has(&fake, "\"$inc\" : { \"counts.replied\" : { "
                         "\"$numberLong\" : \"1\" } }"));

    /* a campaign's (not a poll's) reply, no poll sent: replied only */
    fake_reset(&fake);
    answer_message(&msg, "SM0104", "1");
    ingest_replies(&fake);
    fake.replies[8] = RECIPIENT_FOUND(RCPT2_ID, CAMPAIGN_ID);
    CHECK_INT(inbox_store_inbound_ingest(store, &msg, 1, &result, &events,
                                         &err), INBOX_OK);
    CHECK_INT(fake.commands, 14);
    golden_check(&fake, "inbound_ingest_campaign_reply");

    /* a poll, then a campaign: the poll (read on its own) answered and
     * replied to, the campaign, newer, not replied to: one text counts
     * on one campaign */
    fake_reset(&fake);
    answer_message(&msg, "SM0105", "Friday");
    ingest_replies(&fake);
    fake.replies[7] = RECIPIENT_FOUND(RCPT1_ID, POLL_ID);
    fake.replies[8] = POLL_OPTIONS;
    fake.replies[12] = ANSWER_BEFORE("null");
    CHECK_INT(inbox_store_inbound_ingest(store, &msg, 1, &result, &events,
                                         &err), INBOX_OK);
    CHECK_INT(fake.commands, 17);
    CHECK(!log_has(&fake, "\"$limit\" : { \"$numberInt\" : \"1\" }"));
    CHECK(!log_has(&fake, CAMPAIGN_ID));
    golden_check(&fake, "inbound_ingest_older_poll_answer");

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


TEST(inbound_ingest_ignores_an_answer_after_seven_days)
{
    fake_t                 fake;
    inbox_error_t          err;
    inbox_store_t         *store;
    inbox_inbound_t        msg;
    inbox_event_list_t     events;
    inbox_ingest_result_t  result;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    /* the poll went out eight days before: still in the inbox, no reply
     * or answer recorded.  The window is the query's (sent_at at most
     * seven days before), so the server finds nothing */
    answer_message(&msg, "SM0201", "1");
    msg.received_at = NOON_MS + 8 * DAY_MS;
    ingest_replies(&fake);
    CHECK_INT(inbox_store_inbound_ingest(store, &msg, 1, &result, &events,
                                         &err), INBOX_OK);
    CHECK_INT(result.status, INBOX_OK);
    CHECK_INT(fake.commands, 11);
    CHECK(log_has(&fake, "\"$gte\" : { \"$date\" : { \"$numberLong\" : "
                         "\"1767355200000\" } }"));
    golden_check(&fake, "inbound_ingest_late_answer");

    inbox_event_list_free(&events);
    fake_close(&fake, store);
}


TEST(poll_results_tally_and_responses)
{
    char                  cursor[INBOX_CURSOR_MAX];
    fake_t                fake;
    inbox_error_t         err;
    inbox_store_t        *store;
    inbox_poll_results_t  r;

    store = fake_open(&fake);

    /* the tally comes with the counts, grouped by answer too */
    fake.replies[0] = CURSOR(POLL_DOC);
    fake.replies[1] = POLL_COUNTS;
    fake.replies[2] = CURSOR("{\"_id\": " OID(RCPT1_ID) ", \"contact_id\": "
                             OID(CONTACT_ID) ", \"answer\": 2,"
                             " \"answered_at\": " DATE(NOON) ","
                             " \"answer_message_id\": " OID(MSG_ID) ","
                             " \"contact\": [{\"phone\": \"+15551234567\","
                             " \"name\": \"Ann Lee\"}]}");

    CHECK_INT(inbox_store_poll_results(store, ORG_ID, POLL_ID, NULL, 0, &r,
                                       &err), INBOX_OK);
    CHECK_INT(r.poll.tally[0], 4);
    CHECK_INT(r.poll.tally[1], 7);
    CHECK_INT(r.poll.counts.delivered, 13);
    CHECK_INT(r.count, 1);
    if (r.count == 1) {
        CHECK_STR(r.responses[0].phone, "+15551234567");
        CHECK_STR(r.responses[0].name, "Ann Lee");
        CHECK_INT(r.responses[0].answer, 2);
        CHECK_STR(r.responses[0].message_id, MSG_ID);
        CHECK(r.responses[0].answered_at == NOON_MS);
    }
    golden_check(&fake, "poll_results");
    inbox_poll_results_free(&r);

    /* a page after a cursor: the keyset in the match, one more asked
     * than the page, whose last answer is where the next begins */
    fake_reset(&fake);
    fake.replies[0] = CURSOR(POLL_DOC);
    fake.replies[1] = POLL_COUNTS;
    fake.replies[2] = CURSOR("{\"_id\": " OID(RCPT1_ID) ", \"contact_id\": "
                             OID(CONTACT_ID) ", \"answer\": 2,"
                             " \"answered_at\": " DATE(NOON) "}, "
                             "{\"_id\": " OID(RCPT2_ID) ", \"contact_id\": "
                             OID(CONTACT3_ID) ", \"answer\": 1,"
                             " \"answered_at\": " DATE(NOON) "}");
    inbox_mongo_cursor_make(NOON_MS + 60000, RCPT3_ID, cursor);
    CHECK_INT(inbox_store_poll_results(store, ORG_ID, POLL_ID, cursor, 1, &r,
                                       &err), INBOX_OK);
    CHECK_INT(r.count, 1);
    inbox_mongo_cursor_make(NOON_MS, RCPT1_ID, cursor);
    CHECK_STR(r.next_cursor, cursor);
    golden_check(&fake, "poll_results_page");
    inbox_poll_results_free(&r);

    /* a cursor no page gave: nothing asked */
    fake_reset(&fake);
    CHECK_INT(inbox_store_poll_results(store, ORG_ID, POLL_ID, "nope", 1, &r,
                                       &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "cursor");
    CHECK_INT(fake.commands, 0);

    /* a campaign is not a poll */
    fake_reset(&fake);
    fake.replies[0] = CURSOR(CAMPAIGN_DOC("done"));
    CHECK_INT(inbox_store_poll_results(store, ORG_ID, CAMPAIGN_ID, NULL, 0,
                                       &r, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(fake.commands, 2);

    fake_close(&fake, store);
}


#define CONTACT_DOC_TOKYO                                                     \
    "{\"_id\": " OID(CONTACT_ID) ", \"org_id\": " OID(ORG_ID) ","             \
    " \"phone\": \"+15551230001\", \"name\": null, \"tags\": [],"            \
    " \"tag_keys\": [], \"timezone\": \"Asia/Tokyo\", \"opted_out\": false,"  \
    " \"created_at\": " DATE(NOON) ", \"conversation_id\": " OID(CONV_ID) "}"


TEST(contact_campaigns_and_timezone)
{
    fake_t                     fake;
    inbox_error_t              err;
    inbox_store_t             *store;
    inbox_timeline_page_t      page;
    inbox_contact_campaigns_t  list;

    store = fake_open(&fake);

    fake.replies[0] = CURSOR("{\"_id\": " OID(CONTACT_ID) "}");
    fake.replies[1] = CURSOR("{\"_id\": " OID(RCPT1_ID) ", \"campaign_id\": "
                             OID(POLL_ID) ", \"sent_at\": " DATE(NOON) ","
                             " \"state\": \"delivered\","
                             " \"campaign\": [{\"kind\": \"poll\", \"name\":"
                             " \"Which day?\"}], \"message\": [{\"status\":"
                             " \"delivered\"}]}");
    fake.replies[2] = CURSOR("{\"_id\": " OID(RCPT1_ID) ", \"campaign_id\": "
                             OID(POLL_ID) ", \"answer\": 2, \"answered_at\": "
                             DATE(NOON) ", \"campaign\": [{\"question\":"
                             " \"Which day?\", \"options\": [\"Monday\","
                             " \"Friday\"]}]}");

    CHECK_INT(inbox_store_contact_campaigns(store, ORG_ID, CONTACT_ID, &list,
                                            &err), INBOX_OK);
    CHECK_INT(list.campaign_count, 1);
    if (list.campaign_count == 1) {
        CHECK_STR(list.campaigns[0].id, POLL_ID);
        CHECK_INT(list.campaigns[0].kind, INBOX_CAMPAIGN_KIND_POLL);
        CHECK_STR(list.campaigns[0].name, "Which day?");
        CHECK_STR(list.campaigns[0].status, "delivered");
        CHECK_INT(list.campaigns[0].state, INBOX_RECIPIENT_DELIVERED);
        CHECK_STR(list.campaigns[0].send_id, RCPT1_ID);
    }
    CHECK_INT(list.poll_count, 1);
    if (list.poll_count == 1) {
        CHECK_INT(list.polls[0].answer, 2);
        CHECK_STR(list.polls[0].answer_text, "Friday");
        CHECK_STR(list.polls[0].send_id, RCPT1_ID);
    }
    golden_check(&fake, "contact_campaigns");
    inbox_contact_campaigns_free(&list);

    /* a timeline's page after a send (every message shown): a page of the
     * sends after it, of the answers older than its time, each from its
     * index's keys */
    fake_reset(&fake);
    fake.replies[0] = CURSOR(CONTACT_DOC_TOKYO);
    fake.replies[1] = CURSOR(CONTACT_DOC_TOKYO);
    fake.replies[3] = CURSOR("{\"_id\": " OID(CONTACT_ID) "}");
    CHECK_INT(inbox_store_contact_timeline(store, ORG_ID, CONTACT_ID,
                                           "0..-." NOON ".c" RCPT2_ID, 20,
                                           &page, &err), INBOX_OK);
    CHECK_INT(page.count, 0);
    CHECK_STR(page.next_cursor, "");
    golden_check(&fake, "contact_timeline_campaigns_page");
    inbox_timeline_page_free(&page);

    /* a send's id no list gave */
    fake_reset(&fake);
    fake.replies[0] = CURSOR(CONTACT_DOC_TOKYO);
    fake.replies[1] = CURSOR(CONTACT_DOC_TOKYO);
    CHECK_INT(inbox_store_contact_timeline(store, ORG_ID, CONTACT_ID,
                                           "0..-." NOON ".pnonsense", 20,
                                           &page, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "cursor");
    inbox_timeline_page_free(&page);

    /* no such contact */
    fake_reset(&fake);
    CHECK_INT(inbox_store_contact_campaigns(store, ORG_ID, CONTACT_ID, &list,
                                            &err), INBOX_ERR_NOT_FOUND);
    CHECK_INT(fake.commands, 1);

    /* the zone it has (a contact's update that changes nothing: one
     * command), then none (the organization's): contact.updated */
    fake_reset(&fake);
    fake.replies[0] = "{\"ok\": 1, \"value\": " CONTACT_DOC_TOKYO "}";
    fake.replies[1] = "{\"ok\": 1, \"value\": " CONTACT_DOC_TOKYO "}";
    fake.replies[2] = CURSOR("{\"_id\": " OID(CAMPAIGN_ID) "}");
    fake.replies[4] = CURSOR("{\"_id\": " OID("64f1a0000000000000000a11")
                             "}");
    fake.replies[6] = CURSOR("{\"_id\": " OID(CONV_ID) ", \"org_id\": "
        OID(ORG_ID) ", \"contact\": {\"id\": " OID(CONTACT_ID) ", \"name\":"
        " null, \"phone\": \"+15551230001\", \"opted_out\": false},"
        " \"last_message\": null, \"last_activity_at\": " DATE(NOON) ","
        " \"unread_count\": {\"$numberLong\": \"0\"}, \"archived\": false,"
        " \"starred\": false}");
    fake.replies[7] = "{\"ok\": 1, \"value\": {\"_id\": " OID(ORG_ID)
                      ", \"seq\": {\"$numberLong\": \"9\"}, \"epoch\":"
                      " \"a1b2c3d4e5f60708\"}}";
    CHECK_INT(inbox_store_contact_timezone_set(store, ORG_ID, CONTACT_ID,
                                               "Asia/Tokyo", &err), INBOX_OK);
    CHECK_INT(fake.commands, 1);
    CHECK_INT(inbox_store_contact_timezone_set(store, ORG_ID, CONTACT_ID, "",
                                               &err), INBOX_OK);
    /* the first changed nothing; the second its clock: in the campaign
     * sending, its recipient held and its entry put off are due again,
     * and its thread read for contact.updated */
    CHECK_INT(fake.commands, 9);
    golden_check(&fake, "contact_timezone_set");

    /* not a zone: nothing asked */
    fake_reset(&fake);
    CHECK_INT(inbox_store_contact_timezone_set(store, ORG_ID, CONTACT_ID,
                                               "Mars/Base", &err),
              INBOX_ERR_INVALID);
    CHECK_INT(fake.commands, 0);

    fake_reset(&fake);
    CHECK_INT(inbox_store_contact_timezone_set(store, ORG_ID, CONTACT_ID,
                                               "Asia/Tokyo", &err),
              INBOX_ERR_NOT_FOUND);

    fake_close(&fake, store);
}


/*
 * The organization's tags: one aggregate of its contacts grouped by tag
 * key, in key order, one more than the most asked.  Each is spelled as
 * the server chose (the first contact's), unless that spelling is not
 * its key's; a document past the cap says there are more.
 */
TEST(tags_list)
{
    fake_t             fake;
    inbox_error_t      err;
    inbox_store_t     *store;
    inbox_tag_page_t   page;

    store = fake_open(&fake);

    fake.replies[0] = CURSOR(
        "{\"_id\": \"spring\", \"first\": {\"at\": 1, \"tag\": \"Spring\"},"
        " \"contacts\": 2, \"sendable\": 2},"
        "{\"_id\": \"vip\", \"first\": {\"at\": 1, \"tag\": \"VIP\"},"
        " \"contacts\": {\"$numberLong\": \"3\"}, \"sendable\": 2},"
        "{\"_id\": \"zeta\", \"first\": {\"at\": 1, \"tag\": \"other\"},"
        " \"contacts\": 1, \"sendable\": 0}");
    CHECK_INT(inbox_store_tags_list(store, ORG_ID, &page, &err), INBOX_OK);
    golden_check(&fake, "tags_list");
    CHECK_INT(page.count, 3);
    CHECK_INT(page.more, 0);
    if (page.count == 3) {
        CHECK_STR(page.items[0].tag, "Spring");
        CHECK_INT(page.items[0].contacts, 2);
        CHECK_STR(page.items[1].tag, "VIP");
        CHECK_INT(page.items[1].contacts, 3);
        CHECK_INT(page.items[1].sendable, 2);
        CHECK_STR(page.items[2].tag, "zeta");
        CHECK_INT(page.items[2].sendable, 0);
    }
    inbox_tag_page_free(&page);

    /* one more than the most: more, and the last one not listed */
    fake_reset(&fake);
    {
        static char  many[(INBOX_TAGS_LIST_MAX + 1) * 80 + 256];
        size_t       i, at;

        at = (size_t) snprintf(many, sizeof(many), "%s",
                               "{\"cursor\": {\"id\": 0, \"ns\": "
                               "\"inbox.x\", \"firstBatch\": [");
        for (i = 0; i <= INBOX_TAGS_LIST_MAX; i++) {
            at += (size_t) snprintf(many + at, sizeof(many) - at,
                                    "%s{\"_id\": \"t%04zu\", \"first\": "
                                    "{\"tag\": \"T%04zu\"}, \"contacts\": 1,"
                                    " \"sendable\": 1}", i ? ", " : "", i, i);
        }
        snprintf(many + at, sizeof(many) - at, "]}, \"ok\": 1}");
        fake.replies[0] = many;
    }
    CHECK_INT(inbox_store_tags_list(store, ORG_ID, &page, &err), INBOX_OK);
    CHECK_INT(page.count, INBOX_TAGS_LIST_MAX);
    CHECK_INT(page.more, 1);
    if (page.count == INBOX_TAGS_LIST_MAX) {
        CHECK_STR(page.items[INBOX_TAGS_LIST_MAX - 1].tag, "T0999");
    }
    inbox_tag_page_free(&page);

    /* a malformed organization id asks nothing */
    fake_reset(&fake);
    CHECK_INT(inbox_store_tags_list(store, "nonsense", &page, &err),
              INBOX_ERR_NOT_FOUND);
    CHECK_INT(fake.commands, 0);
    inbox_tag_page_free(&page);

    fake_close(&fake, store);
}


/* A send's preview: one aggregate of the audience's contacts. */
TEST(campaign_audience)
{
    fake_t          fake;
    int64_t         n, out, no_mms;
    inbox_tags_t    tags;
    inbox_error_t   err;
    inbox_store_t  *store;

    store = fake_open(&fake);
    memset(&tags, 0, sizeof(tags));
    CHECK_INT(inbox_tags_add(&tags, "VIP", 3, &err), INBOX_OK);
    CHECK_INT(inbox_tags_add(&tags, "Spring", 6, &err), INBOX_OK);

    /* two counts, each on an index: the audience, then its opted-out
     * ones (the partial index of those alone) */
    fake.replies[0] = CURSOR("{\"n\": 3}");
    fake.replies[1] = CURSOR("{\"n\": 1}");
    CHECK_INT(inbox_store_campaign_audience(store, ORG_ID, 0, &tags, &n,
                                            &out, NULL, &err), INBOX_OK);
    CHECK_INT(n, 3);
    CHECK_INT(out, 1);
    CHECK_INT(fake.commands, 2);
    CHECK(!log_has(&fake, "\"$group\""));

    /* no contact at all: no document */
    fake.replies[2] = CURSOR("");
    fake.replies[3] = CURSOR("");
    CHECK_INT(inbox_store_campaign_audience(store, ORG_ID, 1, NULL, &n,
                                            &out, NULL, &err), INBOX_OK);
    CHECK_INT(n, 0);
    CHECK_INT(out, 0);

    /* a campaign with pictures: of 5 contacts, 1 opted out, 3 have a
     * number pictures reach (inbox_phone_takes_mms's own pattern), 1 of
     * them opted out: 2 of the 4 recipients get links */
    fake.replies[4] = CURSOR("{\"n\": 5}");
    fake.replies[5] = CURSOR("{\"n\": 1}");
    fake.replies[6] = CURSOR("{\"n\": 3}");
    fake.replies[7] = CURSOR("{\"n\": 1}");
    CHECK_INT(inbox_store_campaign_audience(store, ORG_ID, 1, NULL, &n,
                                            &out, &no_mms, &err), INBOX_OK);
    CHECK_INT(n, 5);
    CHECK_INT(out, 1);
    CHECK_INT(no_mms, 2);
    CHECK(log_has(&fake, "(?!242|246|"));
    CHECK(!log_has(&fake, "$not"));
    CHECK(!log_has(&fake, "$ne"));
    golden_check(&fake, "campaign_audience");

    inbox_tags_free(&tags);
    fake_close(&fake, store);
}


TEST(campaign_progress_and_the_campaigns_that_may_move)
{
    fake_t                 fake;
    inbox_error_t          err;
    inbox_store_t         *store;
    inbox_campaign_t       c;
    inbox_event_list_t     events;
    inbox_campaign_page_t  page;

    store = fake_open(&fake);
    memset(&events, 0, sizeof(events));

    /* every organization's: one find, the counts in one aggregate */
    fake.replies[0] = CURSOR(CAMPAIGN_DOC("sending"));
    fake.replies[1] = CAMPAIGN_COUNTS;
    CHECK_INT(inbox_store_campaigns_active(store, 1767225600000LL, NULL,
                                           &page, &err), INBOX_OK);
    CHECK_INT(page.count, 1);
    if (page.count == 1) {
        CHECK_STR(page.items[0].org_id, ORG_ID);
        CHECK_INT(page.items[0].counts.audience, 6);
    }
    CHECK_STR(page.next_cursor, "");
    golden_check(&fake, "campaigns_active");
    inbox_campaign_page_free(&page);

    /* a next page: after the last one's _id */
    fake_reset(&fake);
    fake.replies[0] = CURSOR(CAMPAIGN_DOC("sending"));
    fake.replies[1] = CAMPAIGN_COUNTS;
    CHECK_INT(inbox_store_campaigns_active(store, 1767225600000LL,
                                           CAMPAIGN_ID, &page, &err),
              INBOX_OK);
    golden_check(&fake, "campaigns_active_next_page");
    inbox_campaign_page_free(&page);

    /* the campaign read, a number reserved, the event stored */
    fake_reset(&fake);
    fake.replies[0] = CURSOR(CAMPAIGN_DOC("sending"));
    fake.replies[1] = CAMPAIGN_COUNTS;
    fake.replies[2] = SEQ;
    CHECK_INT(inbox_store_campaign_progress(store, ORG_ID, CAMPAIGN_ID,
                                            1767225600000LL, &c, &events,
                                            &err), INBOX_OK);
    CHECK_INT(c.counts.sent, 3);
    CHECK_INT(events.count, 1);
    if (events.count == 1) {
        CHECK_INT(events.items[0].org_seq, 7);
        CHECK_STR(events.items[0].type, "campaign.progress");
        CHECK(strstr(events.items[0].json, "\"sent\":3") != NULL);
    }
    golden_check(&fake, "campaign_progress");
    inbox_campaign_free(&c);
    inbox_event_list_free(&events);

    /* a poll's frame carries its tally, counted with the states */
    fake_reset(&fake);
    fake.replies[0] = CURSOR(POLL_DOC);
    fake.replies[1] = POLL_COUNTS;
    fake.replies[2] = SEQ;
    CHECK_INT(inbox_store_campaign_progress(store, ORG_ID, POLL_ID,
                                            1767225600000LL, &c, &events,
                                            &err), INBOX_OK);
    CHECK_INT(c.tally[0], 4);
    CHECK_INT(c.tally[1], 7);
    CHECK_INT(c.counts.replied, 12);
    CHECK_INT(events.count, 1);
    if (events.count == 1) {
        CHECK(strstr(events.items[0].json, "\"tally\":[{\"number\":1,"
                     "\"option\":\"Monday\",\"count\":4},{\"number\":2,"
                     "\"option\":\"Friday\",\"count\":7}]") != NULL);
    }
    CHECK_INT(fake.commands, 4);
    inbox_campaign_free(&c);
    inbox_event_list_free(&events);

    /* resumed: rendered from the campaign as it is now, read once for
     * two events of it */
    fake_reset(&fake);
    fake.replies[0] = EVENTS_ORG;
    fake.replies[1] = OLDEST("1");
    fake.replies[2] = CURSOR(
        "{\"_id\": " OID(GEN_1) ", \"seq\": {\"$numberLong\": \"10\"},"
        " \"type\": \"campaign.progress\", \"epoch\": \"a1b2c3d4e5f60708\","
        " \"campaign_id\": " OID(CAMPAIGN_ID) "},"
        "{\"_id\": " OID(GEN_2) ", \"seq\": {\"$numberLong\": \"11\"},"
        " \"type\": \"campaign.progress\", \"epoch\": \"a1b2c3d4e5f60708\","
        " \"campaign_id\": " OID(CAMPAIGN_ID) "}");
    fake.replies[3] = CURSOR(CAMPAIGN_DOC("done"));
    fake.replies[4] = CAMPAIGN_COUNTS;
    CHECK_INT(inbox_store_events_since(store, ORG_ID, "a1b2c3d4e5f60708", 9,
                                       11, 50, &events, &err), INBOX_OK);
    CHECK_INT(events.count, 2);
    CHECK_INT(fake.commands, 5);
    if (events.count == 2) {
        CHECK(strstr(events.items[1].json, "\"status\":\"done\"")
              != NULL);
    }
    golden_check(&fake, "events_since_campaign");
    inbox_event_list_free(&events);

    /* a campaign gone since (deleted): campaign.deleted, named by the
     * kind stored with the event, no reset */
    fake_reset(&fake);
    fake.replies[0] = EVENTS_ORG;
    fake.replies[1] = OLDEST("1");
    fake.replies[2] = CURSOR(
        "{\"_id\": " OID(GEN_1) ", \"seq\": {\"$numberLong\": \"10\"},"
        " \"type\": \"campaign.progress\", \"epoch\": \"a1b2c3d4e5f60708\","
        " \"campaign_id\": " OID(CAMPAIGN_ID) ","
        " \"campaign_kind\": \"poll\"}");
    CHECK_INT(inbox_store_events_since(store, ORG_ID, "a1b2c3d4e5f60708", 9,
                                       10, 50, &events, &err), INBOX_OK);
    CHECK_INT(events.count, 1);
    if (events.count == 1) {
        CHECK_INT(events.items[0].org_seq, 10);
        CHECK_STR(events.items[0].json,
                  "{\"type\":\"campaign.deleted\",\"org_seq\":10,"
                  "\"epoch\":\"a1b2c3d4e5f60708\",\"id\":\"" CAMPAIGN_ID "\","
                  "\"kind\":\"poll\"}");
    }
    inbox_event_list_free(&events);

    fake_close(&fake, store);
}


/* A campaign sent since campaigns keep their counts, as a find answers
 * it: 2 queued, 4 waiting for quiet hours to end, 3 sent (1 replied), 1
 * suppressed. */
#define KEPT_CAMPAIGN_DOC                                                     \
    "{\"_id\": " OID(CAMPAIGN_ID) ", \"org_id\": " OID(ORG_ID) ","            \
    " \"kind\": \"campaign\", \"name\": \"Spring sale\", \"body\": \"Sale!\","\
    " \"question\": null, \"options\": [], \"audience_all\": true,"          \
    " \"tags\": [], \"tag_keys\": [], \"media\": [], \"segments\": 1,"       \
    " \"credits\": 1, \"status\": \"sending\", \"paused_reason\": null,"     \
    " \"send_at\": " DATE("0") ", \"created_at\": " DATE(NOW) ","            \
    " \"started_at\": " DATE(NOW) ", \"finished_at\": null,"                 \
    " \"counts\": {\"queued\": 2, \"waiting_quiet_hours\": 4, \"sent\": 3,"  \
    " \"suppressed\": 1, \"replied\": 1}}"

/* The same sent since campaigns keep those opted out at the send: none
 * then, the one suppressed opted out since, still a recipient. */
#define KEPT_EXCLUDED_DOC                                                     \
    "{\"_id\": " OID(CAMPAIGN_ID) ", \"org_id\": " OID(ORG_ID) ","            \
    " \"kind\": \"campaign\", \"name\": \"Spring sale\", \"body\": \"Sale!\","\
    " \"question\": null, \"options\": [], \"audience_all\": true,"          \
    " \"tags\": [], \"tag_keys\": [], \"media\": [], \"segments\": 1,"       \
    " \"credits\": 1, \"status\": \"sending\", \"paused_reason\": null,"     \
    " \"send_at\": " DATE("0") ", \"created_at\": " DATE(NOW) ","            \
    " \"started_at\": " DATE(NOW) ", \"finished_at\": null,"                 \
    " \"counts\": {\"queued\": 2, \"waiting_quiet_hours\": 4, \"sent\": 3,"  \
    " \"suppressed\": 1, \"excluded\": 0, \"replied\": 1}}"

/* A poll likewise: 13 delivered, 4 answered 1 and 7 answered 2. */
#define KEPT_POLL_DOC                                                         \
    "{\"_id\": " OID(POLL_ID) ", \"org_id\": " OID(ORG_ID) ","                \
    " \"kind\": \"poll\", \"name\": \"Which day?\", \"body\":"               \
    " \"Which day?\\n1) Monday\\n2) Friday\", \"question\": \"Which day?\"," \
    " \"options\": [\"Monday\", \"Friday\"], \"audience_all\": true,"        \
    " \"tags\": [], \"tag_keys\": [], \"media\": [], \"segments\": 1,"       \
    " \"credits\": 1, \"status\": \"sending\", \"paused_reason\": null,"     \
    " \"send_at\": " DATE("0") ", \"created_at\": " DATE(NOW) ","            \
    " \"started_at\": " DATE(NOW) ", \"finished_at\": null,"                 \
    " \"counts\": {\"delivered\": 13, \"replied\": 12},"                     \
    " \"tally\": {\"1\": 4, \"2\": 7}}"


/* The sender's look every 300 ms reads the campaigns alone when they
 * keep their counts: none of their recipients is read.  Only one sent
 * before they kept them has its recipients grouped. */
TEST(campaign_counts_kept_are_read_with_the_campaign)
{
    fake_t                 fake;
    inbox_error_t          err;
    inbox_store_t         *store;
    inbox_campaign_t       c;
    inbox_campaign_page_t  page;

    store = fake_open(&fake);

    fake.replies[0] = CURSOR(KEPT_CAMPAIGN_DOC ", " KEPT_POLL_DOC);
    CHECK_INT(inbox_store_campaigns_active(store, 1767225600000LL, NULL,
                                           &page, &err), INBOX_OK);
    CHECK_INT(fake.commands, 1);
    CHECK(!log_has(&fake, "\"campaign_recipients\""));
    CHECK_INT(page.count, 2);
    if (page.count == 2) {
        CHECK_INT(page.items[0].counts.queued, 2);
        CHECK_INT(page.items[0].counts.waiting_quiet_hours, 4);
        CHECK_INT(page.items[0].counts.sent, 3);
        CHECK_INT(page.items[0].counts.suppressed, 1);
        CHECK_INT(page.items[0].counts.audience, 10);
        CHECK_INT(page.items[0].counts.replied, 1);
        /* sent before it kept excluded: its suppressed read so */
        CHECK_INT(page.items[0].counts.excluded, 1);
        CHECK_INT(page.items[1].counts.delivered, 13);
        CHECK_INT(page.items[1].counts.audience, 13);
        CHECK_INT(page.items[1].counts.replied, 12);
        CHECK_INT(page.items[1].tally[0], 4);
        CHECK_INT(page.items[1].tally[1], 7);
    }
    inbox_campaign_page_free(&page);

    /* with one of before: its recipients alone are grouped */
    fake_reset(&fake);
    fake.replies[0] = CURSOR(KEPT_POLL_DOC ", " CAMPAIGN_DOC("sending"));
    fake.replies[1] = CAMPAIGN_COUNTS;
    CHECK_INT(inbox_store_campaigns_active(store, 1767225600000LL, NULL,
                                           &page, &err), INBOX_OK);
    CHECK_INT(fake.commands, 2);
    CHECK(!log_has(&fake, "\"$oid\" : \"" POLL_ID "\" } ] }"));
    CHECK(log_has(&fake, "\"$in\" : [ { \"$oid\" : \"" CAMPAIGN_ID
                         "\" } ]"));
    CHECK_INT(page.count, 2);
    if (page.count == 2) {
        CHECK_INT(page.items[0].counts.audience, 13);
        CHECK_INT(page.items[1].counts.audience, 6);
    }
    inbox_campaign_page_free(&page);

    /* one campaign read alone: one find */
    fake_reset(&fake);
    fake.replies[0] = CURSOR(KEPT_CAMPAIGN_DOC);
    CHECK_INT(inbox_store_campaign_get(store, ORG_ID, CAMPAIGN_ID, &c, &err),
              INBOX_OK);
    CHECK_INT(fake.commands, 1);
    CHECK_INT(c.counts.sent, 3);
    inbox_campaign_free(&c);

    /* one that keeps its excluded: the one who opted out since is
     * suppressed and still one of its 10 recipients */
    fake_reset(&fake);
    fake.replies[0] = CURSOR(KEPT_EXCLUDED_DOC);
    CHECK_INT(inbox_store_campaign_get(store, ORG_ID, CAMPAIGN_ID, &c, &err),
              INBOX_OK);
    CHECK_INT(c.counts.suppressed, 1);
    CHECK_INT(c.counts.excluded, 0);
    CHECK_INT(inbox_campaign_recipients(c.counts.audience,
                                        c.counts.excluded), 10);
    inbox_campaign_free(&c);

    fake_close(&fake, store);
}


RUN_TESTS()
