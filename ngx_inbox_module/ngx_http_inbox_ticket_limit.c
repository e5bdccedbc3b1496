
/*
 * Realtime tickets per API token: a leaky bucket per token in a shared
 * memory zone (an rbtree of buckets and a queue of them by last use, as
 * ngx_http_limit_req_module keeps its states).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <inbox/token.h>

#include "ngx_http_inbox_module.h"
#include "ngx_http_inbox_ticket_limit.h"


#define NGX_HTTP_INBOX_TICKET_ZONE_SIZE  (1024 * 1024)
#define NGX_HTTP_INBOX_TICKET_HASH_LEN   32      /* SHA-256 */

/* inbox_ticket_rate 60r/m burst=20 */
#define NGX_HTTP_INBOX_TICKET_RATE       (60 * 1000 / 60)
#define NGX_HTTP_INBOX_TICKET_BURST      (20 * 1000)

/* an hour drains any bucket: longer idle times count as that */
#define NGX_HTTP_INBOX_TICKET_IDLE_MAX   (3600 * 1000)


typedef struct {
    ngx_rbtree_node_t   node;      /* key: the hash's first bytes */
    ngx_queue_t         queue;     /* in the zone's, last charged first */
    ngx_msec_t          last;      /* when it was last charged */
    ngx_int_t           excess;    /* tickets beyond the rate, x1000 */
    u_char              hash[NGX_HTTP_INBOX_TICKET_HASH_LEN];
} ngx_http_inbox_ticket_node_t;


typedef struct {
    ngx_rbtree_t        rbtree;
    ngx_rbtree_node_t   sentinel;
    ngx_queue_t         queue;
} ngx_http_inbox_ticket_shctx_t;


typedef struct {
    ngx_http_inbox_ticket_shctx_t  *sh;
    ngx_slab_pool_t                *shpool;
} ngx_http_inbox_ticket_zone_t;


static ngx_int_t ngx_http_inbox_ticket_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_inbox_ticket_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_http_inbox_ticket_node_t *ngx_http_inbox_ticket_lookup(
    ngx_http_inbox_ticket_zone_t *zone, ngx_rbtree_key_t key, u_char *hash);
static ngx_http_inbox_ticket_node_t *ngx_http_inbox_ticket_alloc(
    ngx_http_inbox_ticket_zone_t *zone, ngx_msec_t now, ngx_int_t rate);
static ngx_int_t ngx_http_inbox_ticket_charge(
    ngx_http_inbox_ticket_node_t *tn, ngx_msec_t now, ngx_int_t rate);
static void ngx_http_inbox_ticket_expire(ngx_http_inbox_ticket_zone_t *zone,
    ngx_msec_t now, ngx_int_t rate, ngx_uint_t force);


static ngx_str_t  ngx_http_inbox_ticket_zone_name =
    ngx_string("inbox_ticket_rate");


char *
ngx_http_inbox_ticket_rate(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_inbox_main_conf_t *imcf = conf;

    ngx_int_t    n, scale;
    ngx_str_t   *value, s;
    ngx_uint_t   i;

    if (imcf->ticket_rate != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts != 2) {
            return "takes no burst when off";
        }

        imcf->ticket_rate = 0;
        imcf->ticket_burst = 0;

        return NGX_CONF_OK;
    }

    /* "Nr/s" or "Nr/m" */

    s = value[1];
    scale = 0;

    if (s.len > 3 && ngx_strncmp(s.data + s.len - 3, "r/s", 3) == 0) {
        scale = 1;

    } else if (s.len > 3 && ngx_strncmp(s.data + s.len - 3, "r/m", 3) == 0) {
        scale = 60;
    }

    n = scale ? ngx_atoi(s.data, s.len - 3) : NGX_ERROR;

    if (n == NGX_ERROR || n == 0 || n > 1000000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid rate \"%V\": use \"off\" or a number of "
                           "tickets \"r/s\" or \"r/m\", such as \"60r/m\"",
                           &s);
        return NGX_CONF_ERROR;
    }

    imcf->ticket_rate = n * 1000 / scale;
    imcf->ticket_burst = 0;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "burst=", 6) == 0) {
            n = ngx_atoi(value[i].data + 6, value[i].len - 6);

            if (n == NGX_ERROR || n > 1000000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid burst \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            imcf->ticket_burst = n * 1000;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_inbox_ticket_limit_init(ngx_conf_t *cf,
    ngx_http_inbox_main_conf_t *imcf)
{
    ngx_shm_zone_t                *shm_zone;
    ngx_http_inbox_ticket_zone_t  *zone;

    if (imcf->ticket_rate == NGX_CONF_UNSET_UINT) {
        imcf->ticket_rate = NGX_HTTP_INBOX_TICKET_RATE;
        imcf->ticket_burst = NGX_HTTP_INBOX_TICKET_BURST;
    }

    if (!imcf->used || imcf->ticket_rate == 0) {
        return NGX_OK;
    }

    zone = ngx_pcalloc(cf->pool, sizeof(ngx_http_inbox_ticket_zone_t));
    if (zone == NULL) {
        return NGX_ERROR;
    }

    shm_zone = ngx_shared_memory_add(cf, &ngx_http_inbox_ticket_zone_name,
                                     NGX_HTTP_INBOX_TICKET_ZONE_SIZE,
                                     &ngx_http_inbox_module);
    if (shm_zone == NULL) {
        return NGX_ERROR;
    }

    shm_zone->init = ngx_http_inbox_ticket_init_zone;
    shm_zone->data = zone;

    imcf->ticket_zone = shm_zone;

    return NGX_OK;
}


ngx_int_t
ngx_http_inbox_ticket_limit(ngx_http_request_t *r, const char *token_hash,
    ngx_uint_t *retry_after)
{
    u_char                         hash[NGX_HTTP_INBOX_TICKET_HASH_LEN];
    ngx_int_t                      rate, burst, excess, n;
    ngx_uint_t                     i;
    ngx_msec_t                     now;
    ngx_rbtree_key_t               key;
    ngx_http_inbox_ticket_node_t  *tn;
    ngx_http_inbox_ticket_zone_t  *zone;
    ngx_http_inbox_main_conf_t    *imcf;

    imcf = ngx_http_get_module_main_conf(r, ngx_http_inbox_module);

    if (imcf->ticket_zone == NULL) {
        return NGX_OK;
    }

    /* the store's token hash is hex SHA-256: keep its 32 bytes */

    if (ngx_strlen(token_hash) != 2 * NGX_HTTP_INBOX_TICKET_HASH_LEN) {
        return NGX_OK;
    }

    for (i = 0; i < NGX_HTTP_INBOX_TICKET_HASH_LEN; i++) {
        n = ngx_hextoi((u_char *) token_hash + 2 * i, 2);
        if (n == NGX_ERROR) {
            return NGX_OK;
        }

        hash[i] = (u_char) n;
    }

    /* a SHA-256 is spread evenly already */
    key = ((ngx_rbtree_key_t) hash[0] << 24) | (hash[1] << 16)
          | (hash[2] << 8) | hash[3];

    zone = imcf->ticket_zone->data;
    rate = (ngx_int_t) imcf->ticket_rate;
    burst = (ngx_int_t) imcf->ticket_burst;
    now = ngx_current_msec;

    ngx_shmtx_lock(&zone->shpool->mutex);

    ngx_http_inbox_ticket_expire(zone, now, rate, 0);

    tn = ngx_http_inbox_ticket_lookup(zone, key, hash);

    if (tn != NULL) {
        ngx_queue_remove(&tn->queue);
        ngx_queue_insert_head(&zone->sh->queue, &tn->queue);

        excess = ngx_http_inbox_ticket_charge(tn, now, rate);

        if (excess > burst) {
            ngx_shmtx_unlock(&zone->shpool->mutex);

            /* until enough has leaked for this ticket to fit */
            *retry_after = ((excess - burst) * 1000 / rate + 999) / 1000;
            if (*retry_after == 0) {
                *retry_after = 1;
            }

            return NGX_BUSY;
        }

        tn->excess = excess;
        tn->last = now;

        ngx_shmtx_unlock(&zone->shpool->mutex);

        return NGX_OK;
    }

    tn = ngx_http_inbox_ticket_alloc(zone, now, rate);

    if (tn == NULL) {
        ngx_shmtx_unlock(&zone->shpool->mutex);

        /* the per-organization cap of ws-server still holds */
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "inbox: the \"%V\" zone is full; a ticket goes "
                      "uncounted", &ngx_http_inbox_ticket_zone_name);
        return NGX_OK;
    }

    tn->node.key = key;
    ngx_memcpy(tn->hash, hash, NGX_HTTP_INBOX_TICKET_HASH_LEN);
    tn->last = now;
    tn->excess = 0;

    ngx_rbtree_insert(&zone->sh->rbtree, &tn->node);
    ngx_queue_insert_head(&zone->sh->queue, &tn->queue);

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return NGX_OK;
}


static ngx_int_t
ngx_http_inbox_ticket_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_inbox_ticket_zone_t  *ozone = data;

    size_t                         len;
    ngx_http_inbox_ticket_zone_t  *zone;

    zone = shm_zone->data;

    /* a reload keeps the buckets */
    if (ozone) {
        zone->sh = ozone->sh;
        zone->shpool = ozone->shpool;
        return NGX_OK;
    }

    zone->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        zone->sh = zone->shpool->data;
        return NGX_OK;
    }

    zone->sh = ngx_slab_alloc(zone->shpool,
                              sizeof(ngx_http_inbox_ticket_shctx_t));
    if (zone->sh == NULL) {
        return NGX_ERROR;
    }

    zone->shpool->data = zone->sh;

    ngx_rbtree_init(&zone->sh->rbtree, &zone->sh->sentinel,
                    ngx_http_inbox_ticket_insert);
    ngx_queue_init(&zone->sh->queue);

    len = sizeof(" in inbox_ticket_rate zone \"\"") + shm_zone->shm.name.len;

    zone->shpool->log_ctx = ngx_slab_alloc(zone->shpool, len);
    if (zone->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(zone->shpool->log_ctx, " in inbox_ticket_rate zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* a full zone evicts the least recently charged bucket: no alert */
    zone->shpool->log_nomem = 0;

    return NGX_OK;
}


/* Ordered by key, then by the whole hash. */

static void
ngx_http_inbox_ticket_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t             **p;
    ngx_http_inbox_ticket_node_t   *tn, *tnt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            tn = (ngx_http_inbox_ticket_node_t *) node;
            tnt = (ngx_http_inbox_ticket_node_t *) temp;

            p = (ngx_memcmp(tn->hash, tnt->hash,
                            NGX_HTTP_INBOX_TICKET_HASH_LEN) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


static ngx_http_inbox_ticket_node_t *
ngx_http_inbox_ticket_lookup(ngx_http_inbox_ticket_zone_t *zone,
    ngx_rbtree_key_t key, u_char *hash)
{
    ngx_int_t                      rc;
    ngx_rbtree_node_t             *node, *sentinel;
    ngx_http_inbox_ticket_node_t  *tn;

    node = zone->sh->rbtree.root;
    sentinel = zone->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (key < node->key) {
            node = node->left;
            continue;
        }

        if (key > node->key) {
            node = node->right;
            continue;
        }

        tn = (ngx_http_inbox_ticket_node_t *) node;

        rc = ngx_memcmp(hash, tn->hash, NGX_HTTP_INBOX_TICKET_HASH_LEN);

        if (rc == 0) {
            return tn;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


/* A new bucket; when the zone is full the least recently charged ones
 * make room, drained or not.  NULL only when even that fails. */

static ngx_http_inbox_ticket_node_t *
ngx_http_inbox_ticket_alloc(ngx_http_inbox_ticket_zone_t *zone,
    ngx_msec_t now, ngx_int_t rate)
{
    ngx_uint_t                     tries;
    ngx_http_inbox_ticket_node_t  *tn;

    for (tries = 0; tries < 4; tries++) {

        tn = ngx_slab_alloc_locked(zone->shpool,
                                   sizeof(ngx_http_inbox_ticket_node_t));
        if (tn != NULL) {
            return tn;
        }

        if (ngx_queue_empty(&zone->sh->queue)) {
            break;
        }

        ngx_http_inbox_ticket_expire(zone, now, rate, 1);
    }

    return NULL;
}


/*
 * The bucket's excess with one more ticket now: what has leaked since the
 * last one is gone.  0 means the bucket is as good as new (the first
 * ticket of a new bucket also leaves it at 0).
 */

static ngx_int_t
ngx_http_inbox_ticket_charge(ngx_http_inbox_ticket_node_t *tn,
    ngx_msec_t now, ngx_int_t rate)
{
    ngx_int_t       excess;
    ngx_msec_int_t  ms;

    ms = (ngx_msec_int_t) (now - tn->last);

    /* the clock went back: count from now */
    if (ms < 0) {
        ms = 0;
    }

    if (ms > NGX_HTTP_INBOX_TICKET_IDLE_MAX) {
        ms = NGX_HTTP_INBOX_TICKET_IDLE_MAX;
    }

    excess = tn->excess - rate * ms / 1000 + 1000;

    return (excess < 0) ? 0 : excess;
}


/*
 * Frees up to two buckets as good as new from the least recently charged
 * end (a charge adds at most one bucket, so the zone keeps no more than
 * the live ones and forgetting them changes nothing); force frees the
 * oldest one whatever its state.
 */

static void
ngx_http_inbox_ticket_expire(ngx_http_inbox_ticket_zone_t *zone,
    ngx_msec_t now, ngx_int_t rate, ngx_uint_t force)
{
    ngx_uint_t                     n;
    ngx_queue_t                   *q;
    ngx_http_inbox_ticket_node_t  *tn;

    for (n = 0; n < 2; n++) {

        if (ngx_queue_empty(&zone->sh->queue)) {
            return;
        }

        q = ngx_queue_last(&zone->sh->queue);
        tn = ngx_queue_data(q, ngx_http_inbox_ticket_node_t, queue);

        if (!force && ngx_http_inbox_ticket_charge(tn, now, rate) != 0) {
            return;
        }

        force = 0;

        ngx_queue_remove(q);
        ngx_rbtree_delete(&zone->sh->rbtree, &tn->node);
        ngx_slab_free_locked(zone->shpool, tn);
    }
}
