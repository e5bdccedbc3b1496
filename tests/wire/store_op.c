/*
 * store_op: runs one store operation against the store a URI names and
 * prints its outcome as one JSON line, for tests that play the server's
 * part on the wire (tests/wire/test_mongo_wire.py, with mockupdb).
 *
 *   store_op URI ingest TO FROM PROVIDER_ID BODY
 *   store_op URI mark-read ORG_ID CONVERSATION_ID
 *   store_op URI token-find TOKEN_HASH
 *   store_op URI ping
 *
 * The line: {"op", "result": {…} (what the operation returned: the
 * message's fate for ingest, the conversation for mark-read, the
 * principal for token-find), "status" (the contract's code, "ok" for
 * success), "http", "message", "ms" (how long the operation took),
 * "events": [org_seq…]}.
 * Only the public libinbox API is used: what nginx calls is what is
 * tested.  The exit status is 0 whenever the line was printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inbox/clock.h>
#include <inbox/error.h>
#include <inbox/event.h>
#include <inbox/render.h>
#include <inbox/store.h>


static inbox_status_t op_ingest(inbox_store_t *store, char **argv,
    yajl_gen g, inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t op_mark_read(inbox_store_t *store, char **argv,
    yajl_gen g, inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t op_token_find(inbox_store_t *store, char **argv,
    yajl_gen g, inbox_event_list_t *events, inbox_error_t *err);
static inbox_status_t op_ping(inbox_store_t *store, char **argv,
    yajl_gen g, inbox_event_list_t *events, inbox_error_t *err);
static void usage(void);


typedef inbox_status_t (*op_fn)(inbox_store_t *store, char **argv,
    yajl_gen g, inbox_event_list_t *events, inbox_error_t *err);

static const struct {
    const char  *name;
    int          argc;
    op_fn        fn;
} ops[] = {
    { "ingest",     4, op_ingest },
    { "mark-read",  2, op_mark_read },
    { "token-find", 1, op_token_find },
    { "ping",       0, op_ping },
};


int
main(int argc, char **argv)
{
    char                *line;
    size_t               i, k;
    int64_t              start, took;
    yajl_gen             g;
    inbox_error_t        err;
    inbox_status_t       rc;
    inbox_store_t       *store;
    inbox_event_list_t   events;

    if (argc < 3) {
        usage();
        return 2;
    }

    for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (strcmp(argv[2], ops[i].name) == 0) {
            break;
        }
    }

    if (i == sizeof(ops) / sizeof(ops[0]) || argc != 3 + ops[i].argc) {
        usage();
        return 2;
    }

    inbox_error_clear(&err);
    memset(&events, 0, sizeof(inbox_event_list_t));

    g = inbox_json_begin();
    yajl_gen_map_open(g);
    inbox_json_key(g, "op");
    inbox_json_string(g, ops[i].name);
    inbox_json_key(g, "result");
    yajl_gen_map_open(g);

    start = inbox_now_ms();
    took = 0;

    store = inbox_store_open(argv[1], &err);
    if (store == NULL) {
        rc = err.code;
    } else {
        rc = ops[i].fn(store, argv + 3, g, &events, &err);
        took = inbox_now_ms() - start;
        inbox_store_close(store);
    }

    yajl_gen_map_close(g);
    inbox_json_key(g, "status");
    inbox_json_string(g, rc == INBOX_OK ? "ok" : inbox_status_code(rc));
    inbox_json_key(g, "http");
    inbox_json_int(g, inbox_status_http(rc));
    inbox_json_key(g, "message");
    inbox_json_string(g, rc == INBOX_OK ? "" : err.message);
    inbox_json_key(g, "ms");
    inbox_json_int(g, took);
    inbox_json_key(g, "events");
    yajl_gen_array_open(g);
    for (k = 0; k < events.count; k++) {
        inbox_json_int(g, events.items[k].org_seq);
    }
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);

    inbox_event_list_free(&events);

    line = inbox_json_finish(g, NULL);
    if (line == NULL) {
        return 1;
    }

    printf("%s\n", line);
    free(line);

    return 0;
}


static inbox_status_t
op_ingest(inbox_store_t *store, char **argv, yajl_gen g,
    inbox_event_list_t *events, inbox_error_t *err)
{
    inbox_status_t         rc;
    inbox_inbound_t        msg;
    inbox_ingest_result_t  result;

    memset(&msg, 0, sizeof(inbox_inbound_t));
    msg.carrier = INBOX_CARRIER_TWILIO;
    snprintf(msg.to, sizeof(msg.to), "%s", argv[0]);
    snprintf(msg.from, sizeof(msg.from), "%s", argv[1]);
    msg.provider_id = argv[2];
    msg.body = argv[3];
    msg.segments = 1;

    rc = inbox_store_inbound_ingest(store, &msg, 1, &result, events, err);

    inbox_json_key(g, "status");
    inbox_json_string(g, result.status == INBOX_OK
                         ? "ok" : inbox_status_code(result.status));
    inbox_json_key(g, "duplicate");
    inbox_json_bool(g, result.duplicate);
    inbox_json_key(g, "message_id");
    inbox_json_string(g, result.message_id);
    inbox_json_key(g, "conversation_id");
    inbox_json_string(g, result.conversation_id);

    return rc;
}


static inbox_status_t
op_mark_read(inbox_store_t *store, char **argv, yajl_gen g,
    inbox_event_list_t *events, inbox_error_t *err)
{
    inbox_status_t        rc;
    inbox_conversation_t  conversation;

    memset(&conversation, 0, sizeof(inbox_conversation_t));

    rc = inbox_store_conversation_act(store, argv[0], argv[1],
                                      INBOX_ACTION_READ, &conversation,
                                      events, err);

    if (rc == INBOX_OK) {
        inbox_json_key(g, "id");
        inbox_json_string(g, conversation.id);
        inbox_json_key(g, "unread_count");
        inbox_json_int(g, conversation.unread_count);
    }

    inbox_conversation_free(&conversation);

    return rc;
}


static inbox_status_t
op_token_find(inbox_store_t *store, char **argv, yajl_gen g,
    inbox_event_list_t *events, inbox_error_t *err)
{
    inbox_status_t     rc;
    inbox_principal_t  principal;

    memset(&principal, 0, sizeof(inbox_principal_t));

    rc = inbox_store_token_find(store, argv[0], &principal, err);

    if (rc == INBOX_OK) {
        inbox_json_key(g, "org_id");
        inbox_json_string(g, principal.org_id);
        inbox_json_key(g, "user_id");
        inbox_json_string(g, principal.user_id);
    }

    return rc;
}


static inbox_status_t
op_ping(inbox_store_t *store, char **argv, yajl_gen g,
    inbox_event_list_t *events, inbox_error_t *err)
{
    return inbox_store_ping(store, err);
}


static void
usage(void)
{
    fprintf(stderr,
            "usage: store_op URI ingest TO FROM PROVIDER_ID BODY\n"
            "       store_op URI mark-read ORG_ID CONVERSATION_ID\n"
            "       store_op URI token-find TOKEN_HASH\n"
            "       store_op URI ping\n");
}
