/*
 * The store thread: one at a time, the queries the lws thread asks for,
 * answered through lws_cancel_service() (the only lws call made here).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inbox/store.h>
#include "ws_events.h"
#include "ws_store.h"

struct ws_store_s {
    inbox_store_t        *store;
    struct lws_context   *context;
    pthread_t             thread;
    int                   started;
    pthread_mutex_t       lock;
    pthread_cond_t        wake;
    int                   stop;
    int                   busy;         /* a query under way */
    int                   left;         /* ... and not waited for */
    ws_store_req_t       *asked, *asked_tail;       /* to run */
    ws_store_req_t       *answered, *answered_tail; /* to take */
};

/* A store whose thread was left in its query: kept whole to the end. */
static ws_store_t  *ws_store_left_one;


static void *ws_store_run(void *arg);
static void ws_store_query(ws_store_t *store, ws_store_req_t *req);
static void ws_store_free_list(ws_store_req_t *req);


ws_store_t *
ws_store_open(const char *uri)
{
    char            shown[INBOX_STORE_URI_LOG_MAX];
    ws_store_t     *store;
    inbox_error_t   err;

    store = calloc(1, sizeof(ws_store_t));
    if (store == NULL) {
        fprintf(stderr, "ws-server: out of memory\n");
        return NULL;
    }

    store->store = inbox_store_open(uri, &err);
    if (store->store == NULL) {
        fprintf(stderr, "ws-server: --store %s: %s\n",
                inbox_store_uri_redacted(uri, shown, sizeof(shown)),
                err.message);
        free(store);
        return NULL;
    }

    pthread_mutex_init(&store->lock, NULL);
    pthread_cond_init(&store->wake, NULL);

    return store;
}


int
ws_store_start(ws_store_t *store, struct lws_context *context)
{
    store->context = context;

    if (pthread_create(&store->thread, NULL, ws_store_run, store) != 0) {
        fprintf(stderr, "ws-server: cannot start the store thread\n");
        return -1;
    }

    store->started = 1;

    return 0;
}


void
ws_store_stop(ws_store_t *store)
{
    int  busy;

    if (store == NULL || !store->started) {
        return;
    }

    pthread_mutex_lock(&store->lock);
    store->stop = 1;
    busy = store->busy;
    pthread_cond_signal(&store->wake);
    pthread_mutex_unlock(&store->lock);

    store->started = 0;

    if (!busy) {
        pthread_join(store->thread, NULL);
        return;
    }

    /*
     * The driver gives no way to end a query early, and a store gone
     * silent holds it for its timeouts (a MongoDB server selection, a
     * socket's): the thread is left to the process's exit.  Seeing stop,
     * it neither wakes the loop nor frees anything when it returns.
     */
    fprintf(stderr, "ws-server: not waiting for the store query under "
            "way\n");
    pthread_detach(store->thread);
    store->left = 1;
}


void
ws_store_close(ws_store_t *store)
{
    if (store == NULL) {
        return;
    }

    ws_store_stop(store);

    if (store->left) {
        ws_store_left_one = store;
        return;
    }

    ws_store_free_list(store->asked);
    ws_store_free_list(store->answered);
    inbox_store_close(store->store);
    pthread_cond_destroy(&store->wake);
    pthread_mutex_destroy(&store->lock);
    free(store);
}


ws_store_req_t *
ws_store_req_new(ws_store_kind_e kind, void *owner)
{
    ws_store_req_t  *req;

    req = calloc(1, sizeof(ws_store_req_t));
    if (req == NULL) {
        return NULL;
    }

    req->kind = kind;
    req->owner = owner;

    return req;
}


void
ws_store_req_free(ws_store_req_t *req)
{
    if (req != NULL) {
        inbox_event_list_free(&req->events);
        free(req->positions);
        free(req);
    }
}


void
ws_store_ask(ws_store_t *store, ws_store_req_t *req)
{
    req->next = NULL;

    pthread_mutex_lock(&store->lock);

    if (store->asked_tail != NULL) {
        store->asked_tail->next = req;
    } else {
        store->asked = req;
    }

    store->asked_tail = req;
    pthread_cond_signal(&store->wake);
    pthread_mutex_unlock(&store->lock);
}


void
ws_store_drop(ws_store_t *store, ws_store_req_t *req)
{
    pthread_mutex_lock(&store->lock);
    req->owner = NULL;
    req->dropped = 1;
    pthread_mutex_unlock(&store->lock);
}


int
ws_store_left(void)
{
    return ws_store_left_one != NULL;
}


ws_store_req_t *
ws_store_answers(ws_store_t *store)
{
    ws_store_req_t  *list;

    pthread_mutex_lock(&store->lock);
    list = store->answered;
    store->answered = NULL;
    store->answered_tail = NULL;
    pthread_mutex_unlock(&store->lock);

    return list;
}


static void *
ws_store_run(void *arg)
{
    ws_store_t      *store = arg;
    ws_store_req_t  *req;

    pthread_mutex_lock(&store->lock);

    for ( ;; ) {
        while (store->asked == NULL && !store->stop) {
            pthread_cond_wait(&store->wake, &store->lock);
        }

        if (store->stop) {
            break;
        }

        req = store->asked;
        store->asked = req->next;
        if (store->asked == NULL) {
            store->asked_tail = NULL;
        }

        /* nobody waits for it: the lws thread holds it no more */
        if (req->dropped) {
            ws_store_req_free(req);
            continue;
        }

        store->busy = 1;
        pthread_mutex_unlock(&store->lock);

        ws_store_query(store, req);

        pthread_mutex_lock(&store->lock);
        store->busy = 0;

        req->next = NULL;
        if (store->answered_tail != NULL) {
            store->answered_tail->next = req;
        } else {
            store->answered = req;
        }
        store->answered_tail = req;

        /* left by ws_store_stop: the loop may be gone */
        if (store->stop) {
            break;
        }

        pthread_mutex_unlock(&store->lock);

        /* wakes the loop: LWS_CALLBACK_EVENT_WAIT_CANCELLED */
        lws_cancel_service(store->context);

        pthread_mutex_lock(&store->lock);
    }

    pthread_mutex_unlock(&store->lock);

    return NULL;
}


/* Where the streams stand, in one store call. */
static void
ws_store_positions(ws_store_t *store, ws_store_req_t *req)
{
    size_t                    i;
    const char               *ids[INBOX_STREAM_POSITIONS_MAX];
    inbox_stream_position_t   at[INBOX_STREAM_POSITIONS_MAX];

    for (i = 0; i < req->npositions; i++) {
        ids[i] = req->positions[i].org_id;
    }

    req->status = inbox_store_stream_positions(store->store, ids,
                                               req->npositions, at,
                                               &req->err);

    for (i = 0; req->status == INBOX_OK && i < req->npositions; i++) {
        req->positions[i].at = at[i];
    }
}


static void
ws_store_query(ws_store_t *store, ws_store_req_t *req)
{
    size_t            i;
    inbox_event_t    *e;
    ws_event_info_t   info;

    memset(&req->err, 0, sizeof(req->err));

    if (req->kind == WS_STORE_POSITIONS) {
        ws_store_positions(store, req);
        return;
    }

    req->status = inbox_store_events_since(store->store, req->org_id,
                                           req->epoch, req->after,
                                           req->until, req->limit,
                                           &req->events, &req->err);
    if (req->status != INBOX_OK) {
        return;
    }

    /* what the record header would carry, read here off the hot path */
    for (i = 0; i < req->events.count; i++) {
        e = &req->events.items[i];

        if (e->type[0] != '\0' && e->epoch[0] != '\0') {
            continue;
        }

        if (ws_events_scan(e->json, e->len, &info) == 0) {
            memcpy(e->type, info.type, sizeof(e->type));
            memcpy(e->epoch, info.epoch, sizeof(e->epoch));
            e->unread_total = info.has_count
                              && strcmp(info.type, "unread.total") == 0
                              ? info.count : -1;
        }
    }
}


static void
ws_store_free_list(ws_store_req_t *req)
{
    ws_store_req_t  *next;

    for ( /* void */ ; req != NULL; req = next) {
        next = req->next;
        ws_store_req_free(req);
    }
}
