
/*
 * Leaky buckets in shared memory (see ngx_http_inbox_limit.h): per zone,
 * an rbtree of buckets and a queue of them by last use, as
 * ngx_http_limit_req_module keeps its states.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/evp.h>

#include "ngx_http_inbox_module.h"
#include "ngx_http_inbox_limit.h"
#include "ngx_http_inbox_bucket.h"


#define NGX_HTTP_INBOX_LIMIT_ZONE_SIZE  (1024 * 1024)

/* what a full zone with no bucket to look at asks a new key to wait */
#define NGX_HTTP_INBOX_LIMIT_IDLE_MAX   (3600 * 1000)

/* past delay, each charge waits a second more, up to this */
#define NGX_HTTP_INBOX_LIMIT_WAIT_MAX   5000

/* how many of the least recently charged buckets a full zone looks at
 * for drained ones before it refuses a new key */
#define NGX_HTTP_INBOX_LIMIT_SWEEP      64

/* a zone that stays full says so once a minute at most */
#define NGX_HTTP_INBOX_LIMIT_WARN_EVERY (60 * 1000)


typedef struct {
    ngx_rbtree_node_t   node;      /* key: the hash's first bytes */
    ngx_queue_t         queue;     /* in the zone's, last charged first */
    ngx_msec_t          last;      /* when it was last charged */
    ngx_int_t           excess;    /* charges beyond the rate, x1000 */
    u_char              hash[NGX_HTTP_INBOX_LIMIT_KEY_LEN];
} ngx_http_inbox_limit_node_t;


typedef struct {
    ngx_rbtree_t        rbtree;
    ngx_rbtree_node_t   sentinel;
    ngx_queue_t         queue;
    ngx_msec_t          warned;    /* when it last logged being full */
} ngx_http_inbox_limit_shctx_t;


typedef struct {
    ngx_http_inbox_limit_shctx_t  *sh;
    ngx_slab_pool_t                *shpool;
} ngx_http_inbox_limit_zone_t;


static ngx_int_t ngx_http_inbox_limit_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_inbox_limit_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_http_inbox_limit_node_t *ngx_http_inbox_limit_lookup(
    ngx_http_inbox_limit_zone_t *zone, ngx_rbtree_key_t key, u_char *hash);
static ngx_http_inbox_limit_node_t *ngx_http_inbox_limit_alloc(
    ngx_http_inbox_limit_zone_t *zone, ngx_msec_t now, ngx_int_t rate,
    ngx_msec_t *drains);
static ngx_int_t ngx_http_inbox_limit_leak(
    ngx_http_inbox_limit_node_t *tn, ngx_msec_t now, ngx_int_t rate);
static ngx_uint_t ngx_http_inbox_limit_expire(
    ngx_http_inbox_limit_zone_t *zone, ngx_msec_t now, ngx_int_t rate,
    ngx_uint_t look, ngx_msec_t *drains);


char *
ngx_http_inbox_limit_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    char  *p = conf;

    ssize_t                  size;
    ngx_int_t                n, scale;
    ngx_str_t               *value, s;
    ngx_uint_t               i, delay_set;
    ngx_http_inbox_limit_t  *limit;

    limit = (ngx_http_inbox_limit_t *) (p + cmd->offset);

    if (limit->rate != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts != 2) {
            return "takes nothing more when off";
        }

        limit->rate = 0;
        limit->burst = 0;
        limit->delay = 0;

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
                           "invalid rate \"%V\": use \"off\" or a number "
                           "\"r/s\" or \"r/m\", such as \"60r/m\"", &s);
        return NGX_CONF_ERROR;
    }

    limit->rate = n * 1000 / scale;
    limit->burst = 0;
    delay_set = 0;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "burst=", 6) == 0) {
            n = ngx_atoi(value[i].data + 6, value[i].len - 6);

            if (n == NGX_ERROR || n > 1000000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid burst \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            limit->burst = n * 1000;
            continue;
        }

        if (ngx_strncmp(value[i].data, "size=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            size = ngx_parse_size(&s);

            /* as limit_req_zone's smallest */
            if (size == NGX_ERROR || size < (ssize_t) (8 * ngx_pagesize)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid size \"%V\": at least %uz",
                                   &value[i], 8 * ngx_pagesize);
                return NGX_CONF_ERROR;
            }

            limit->size = size;
            continue;
        }

        if (ngx_strncmp(value[i].data, "delay=", 6) == 0) {
            n = ngx_atoi(value[i].data + 6, value[i].len - 6);

            if (n == NGX_ERROR || n > 1000000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid delay \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            limit->delay = n * 1000;
            delay_set = 1;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    /* as limit_req's nodelay: nothing waits unless asked */
    if (!delay_set || limit->delay > limit->burst) {
        limit->delay = limit->burst;
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_inbox_limit_init(ngx_conf_t *cf, ngx_http_inbox_limit_t *limit,
    const char *name, ngx_uint_t used, ngx_uint_t per_minute,
    ngx_uint_t burst, ngx_uint_t delay)
{
    ngx_str_t                     zone_name;
    ngx_shm_zone_t               *shm_zone;
    ngx_http_inbox_limit_zone_t  *zone;

    if (limit->rate == NGX_CONF_UNSET_UINT) {
        limit->rate = per_minute * 1000 / 60;
        limit->burst = burst * 1000;
        limit->delay = delay * 1000;
    }

    if (!used || limit->rate == 0) {
        return NGX_OK;
    }

    zone = ngx_pcalloc(cf->pool, sizeof(ngx_http_inbox_limit_zone_t));
    if (zone == NULL) {
        return NGX_ERROR;
    }

    zone_name.data = (u_char *) name;
    zone_name.len = ngx_strlen(name);

    if (limit->size == 0) {
        limit->size = NGX_HTTP_INBOX_LIMIT_ZONE_SIZE;
    }

    shm_zone = ngx_shared_memory_add(cf, &zone_name, limit->size,
                                     &ngx_http_inbox_module);
    if (shm_zone == NULL) {
        return NGX_ERROR;
    }

    shm_zone->init = ngx_http_inbox_limit_init_zone;
    shm_zone->data = zone;

    limit->zone = shm_zone;

    return NGX_OK;
}


ngx_int_t
ngx_http_inbox_limit_charge(ngx_http_inbox_limit_t *limit, ngx_log_t *log,
    const u_char *key, ngx_msec_t *wait, ngx_uint_t *retry_after)
{
    return ngx_http_inbox_limit_charge_n(limit, log, key, 1, wait,
                                         retry_after);
}


ngx_int_t
ngx_http_inbox_limit_charge_n(ngx_http_inbox_limit_t *limit, ngx_log_t *log,
    const u_char *key, ngx_uint_t n, ngx_msec_t *wait,
    ngx_uint_t *retry_after)
{
    ngx_int_t                     rate, burst, delay, excess, more;
    ngx_msec_t                    now, drains;
    ngx_rbtree_key_t              node_key;
    ngx_http_inbox_limit_node_t  *tn;
    ngx_http_inbox_limit_zone_t  *zone;

    *wait = 0;

    if (limit->zone == NULL) {
        return NGX_OK;
    }

    /* a SHA-256 is spread evenly already */
    node_key = ((ngx_rbtree_key_t) key[0] << 24) | (key[1] << 16)
               | (key[2] << 8) | key[3];

    zone = limit->zone->data;
    rate = (ngx_int_t) limit->rate;
    burst = (ngx_int_t) limit->burst;
    delay = (ngx_int_t) limit->delay;
    now = ngx_current_msec;

    /* a charge of n is n ones at once: beyond the first, as one more
     * charge each; one larger than the bucket fills it, so that it fits
     * an empty one rather than never */
    more = ngx_min((ngx_int_t) (n - 1) * 1000, burst);

    ngx_shmtx_lock(&zone->shpool->mutex);

    (void) ngx_http_inbox_limit_expire(zone, now, rate, 2, &drains);

    tn = ngx_http_inbox_limit_lookup(zone, node_key, (u_char *) key);

    if (tn != NULL) {
        ngx_queue_remove(&tn->queue);
        ngx_queue_insert_head(&zone->sh->queue, &tn->queue);

        excess = ngx_http_inbox_limit_leak(tn, now, rate) + more;

        if (excess > burst) {
            ngx_shmtx_unlock(&zone->shpool->mutex);

            /* until enough has leaked for this charge to fit */
            *retry_after = ((excess - burst) * 1000 / rate + 999) / 1000;
            if (*retry_after == 0) {
                *retry_after = 1;
            }

            return NGX_BUSY;
        }

        tn->excess = excess;
        tn->last = now;

        ngx_shmtx_unlock(&zone->shpool->mutex);

        if (excess > delay) {
            *wait = ngx_min((ngx_msec_t) (excess - delay + 999) / 1000
                            * 1000, NGX_HTTP_INBOX_LIMIT_WAIT_MAX);
        }

        return NGX_OK;
    }

    tn = ngx_http_inbox_limit_alloc(zone, now, rate, &drains);

    if (tn == NULL) {
        /* forgetting a live bucket would reset its limit: the new key
         * waits until one drains */
        *retry_after = ngx_max((drains + 999) / 1000, 1);

        if (zone->sh->warned != 0
            && now - zone->sh->warned < NGX_HTTP_INBOX_LIMIT_WARN_EVERY)
        {
            ngx_shmtx_unlock(&zone->shpool->mutex);
            return NGX_BUSY;
        }

        zone->sh->warned = now;

        ngx_shmtx_unlock(&zone->shpool->mutex);

        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "inbox: the \"%V\" zone is full of buckets that "
                      "have not drained; new keys are refused until some "
                      "do", &limit->zone->shm.name);
        return NGX_BUSY;
    }

    tn->node.key = node_key;
    ngx_memcpy(tn->hash, key, NGX_HTTP_INBOX_LIMIT_KEY_LEN);
    tn->last = now;
    tn->excess = more;

    ngx_rbtree_insert(&zone->sh->rbtree, &tn->node);
    ngx_queue_insert_head(&zone->sh->queue, &tn->queue);

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return NGX_OK;
}


void
ngx_http_inbox_limit_refund(ngx_http_inbox_limit_t *limit, const u_char *key)
{
    ngx_http_inbox_limit_refund_n(limit, key, 1);
}


void
ngx_http_inbox_limit_refund_n(ngx_http_inbox_limit_t *limit,
    const u_char *key, ngx_uint_t n)
{
    ngx_int_t                     less;
    ngx_rbtree_key_t              node_key;
    ngx_http_inbox_limit_node_t  *tn;
    ngx_http_inbox_limit_zone_t  *zone;

    if (limit->zone == NULL) {
        return;
    }

    node_key = ((ngx_rbtree_key_t) key[0] << 24) | (key[1] << 16)
               | (key[2] << 8) | key[3];

    zone = limit->zone->data;

    ngx_shmtx_lock(&zone->shpool->mutex);

    tn = ngx_http_inbox_limit_lookup(zone, node_key, (u_char *) key);

    if (tn != NULL) {
        less = (ngx_int_t) n * 1000;
        tn->excess = (tn->excess > less) ? tn->excess - less : 0;
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);
}


void
ngx_http_inbox_limit_clear(ngx_http_inbox_limit_t *limit, const u_char *key)
{
    ngx_rbtree_key_t              node_key;
    ngx_http_inbox_limit_node_t  *tn;
    ngx_http_inbox_limit_zone_t  *zone;

    if (limit->zone == NULL) {
        return;
    }

    node_key = ((ngx_rbtree_key_t) key[0] << 24) | (key[1] << 16)
               | (key[2] << 8) | key[3];

    zone = limit->zone->data;

    ngx_shmtx_lock(&zone->shpool->mutex);

    tn = ngx_http_inbox_limit_lookup(zone, node_key, (u_char *) key);

    if (tn != NULL) {
        ngx_queue_remove(&tn->queue);
        ngx_rbtree_delete(&zone->sh->rbtree, &tn->node);
        ngx_slab_free_locked(zone->shpool, tn);
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);
}


void
ngx_http_inbox_limit_key(const char *kind, const u_char *data, size_t len,
    u_char *key)
{
    unsigned int   n;
    EVP_MD_CTX    *md;
    u_char         digest[EVP_MAX_MD_SIZE];

    n = 0;
    md = EVP_MD_CTX_new();

    if (md == NULL
        || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1
        || EVP_DigestUpdate(md, kind, ngx_strlen(kind) + 1) != 1
        || EVP_DigestUpdate(md, data, len) != 1
        || EVP_DigestFinal_ex(md, digest, &n) != 1
        || n != NGX_HTTP_INBOX_LIMIT_KEY_LEN)
    {
        /* never seen in practice; a key of its own kind still counts */
        ngx_memzero(digest, NGX_HTTP_INBOX_LIMIT_KEY_LEN);
        ngx_memcpy(digest, kind,
                   ngx_min(ngx_strlen(kind), NGX_HTTP_INBOX_LIMIT_KEY_LEN));
    }

    EVP_MD_CTX_free(md);

    ngx_memcpy(key, digest, NGX_HTTP_INBOX_LIMIT_KEY_LEN);
}


ngx_int_t
ngx_http_inbox_limit_hex_key(const char *hex, u_char *key)
{
    ngx_int_t   n;
    ngx_uint_t  i;

    if (ngx_strlen(hex) != 2 * NGX_HTTP_INBOX_LIMIT_KEY_LEN) {
        return NGX_ERROR;
    }

    for (i = 0; i < NGX_HTTP_INBOX_LIMIT_KEY_LEN; i++) {
        n = ngx_hextoi((u_char *) hex + 2 * i, 2);
        if (n == NGX_ERROR) {
            return NGX_ERROR;
        }

        key[i] = (u_char) n;
    }

    return NGX_OK;
}


/* The client's address: an IPv6 one by its /64, the block one subscriber
 * usually has, and an IPv4-mapped one as the IPv4 address it is. */

void
ngx_http_inbox_limit_address_key(ngx_http_request_t *r, u_char *key)
{
    struct sockaddr      *sa;
    struct sockaddr_in   *sin;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6  *sin6;
#endif

    sa = r->connection->sockaddr;

    switch (sa->sa_family) {

#if (NGX_HAVE_INET6)
    case AF_INET6:
        sin6 = (struct sockaddr_in6 *) sa;

        /* an IPv4 client of a dual-stack listener (::ffff:a.b.c.d): its
         * /64 would be every IPv4 client's */
        if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
            ngx_http_inbox_limit_key("ipv4", &sin6->sin6_addr.s6_addr[12],
                                     4, key);
            return;
        }

        ngx_http_inbox_limit_key("ipv6/64", sin6->sin6_addr.s6_addr, 8,
                                 key);
        return;
#endif

    case AF_INET:
        sin = (struct sockaddr_in *) sa;
        ngx_http_inbox_limit_key("ipv4", (u_char *) &sin->sin_addr.s_addr,
                                 4, key);
        return;

    default:
        /* a unix socket: whatever is in front of it counts as one */
        ngx_http_inbox_limit_key("local", (u_char *) "", 0, key);
        return;
    }
}


static ngx_int_t
ngx_http_inbox_limit_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_inbox_limit_zone_t  *ozone = data;

    size_t                         len;
    ngx_http_inbox_limit_zone_t  *zone;

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
                              sizeof(ngx_http_inbox_limit_shctx_t));
    if (zone->sh == NULL) {
        return NGX_ERROR;
    }

    zone->shpool->data = zone->sh;

    ngx_rbtree_init(&zone->sh->rbtree, &zone->sh->sentinel,
                    ngx_http_inbox_limit_insert);
    ngx_queue_init(&zone->sh->queue);
    zone->sh->warned = 0;

    len = sizeof(" in zone \"\"") + shm_zone->shm.name.len;

    zone->shpool->log_ctx = ngx_slab_alloc(zone->shpool, len);
    if (zone->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(zone->shpool->log_ctx, " in zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* a full zone refuses new keys, said by the charge: no alert */
    zone->shpool->log_nomem = 0;

    return NGX_OK;
}


/* Ordered by key, then by the whole hash. */

static void
ngx_http_inbox_limit_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t             **p;
    ngx_http_inbox_limit_node_t   *tn, *tnt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            tn = (ngx_http_inbox_limit_node_t *) node;
            tnt = (ngx_http_inbox_limit_node_t *) temp;

            p = (ngx_memcmp(tn->hash, tnt->hash,
                            NGX_HTTP_INBOX_LIMIT_KEY_LEN) < 0)
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


static ngx_http_inbox_limit_node_t *
ngx_http_inbox_limit_lookup(ngx_http_inbox_limit_zone_t *zone,
    ngx_rbtree_key_t key, u_char *hash)
{
    ngx_int_t                      rc;
    ngx_rbtree_node_t             *node, *sentinel;
    ngx_http_inbox_limit_node_t  *tn;

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

        tn = (ngx_http_inbox_limit_node_t *) node;

        rc = ngx_memcmp(hash, tn->hash, NGX_HTTP_INBOX_LIMIT_KEY_LEN);

        if (rc == 0) {
            return tn;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


/* A new bucket; when the zone is full, the drained ones among the least
 * recently charged make room.  NULL when none had drained, with *drains
 * the milliseconds until the first of those looked at will. */

static ngx_http_inbox_limit_node_t *
ngx_http_inbox_limit_alloc(ngx_http_inbox_limit_zone_t *zone,
    ngx_msec_t now, ngx_int_t rate, ngx_msec_t *drains)
{
    ngx_http_inbox_limit_node_t  *tn;

    tn = ngx_slab_alloc_locked(zone->shpool,
                               sizeof(ngx_http_inbox_limit_node_t));
    if (tn != NULL) {
        return tn;
    }

    if (ngx_http_inbox_limit_expire(zone, now, rate,
                                    NGX_HTTP_INBOX_LIMIT_SWEEP, drains)
        == 0)
    {
        return NULL;
    }

    return ngx_slab_alloc_locked(zone->shpool,
                                 sizeof(ngx_http_inbox_limit_node_t));
}


/* The bucket's excess with one more charge now (see
 * ngx_http_inbox_bucket_leak). */

static ngx_int_t
ngx_http_inbox_limit_leak(ngx_http_inbox_limit_node_t *tn,
    ngx_msec_t now, ngx_int_t rate)
{
    return (ngx_int_t) ngx_http_inbox_bucket_leak(tn->excess,
               (ngx_msec_int_t) (now - tn->last), rate);
}


/*
 * Frees the buckets as good as new among the look least recently charged
 * ones, and says how many it freed.  Only those: forgetting one that has
 * not drained would reset its limit (a full zone refuses new keys
 * instead), so *drains is the milliseconds until the first of the others
 * would drain.
 */

static ngx_uint_t
ngx_http_inbox_limit_expire(ngx_http_inbox_limit_zone_t *zone,
    ngx_msec_t now, ngx_int_t rate, ngx_uint_t look, ngx_msec_t *drains)
{
    ngx_int_t                      excess;
    ngx_uint_t                     freed;
    ngx_msec_t                     ms;
    ngx_queue_t                   *q, *prev;
    ngx_http_inbox_limit_node_t  *tn;

    freed = 0;
    *drains = NGX_HTTP_INBOX_LIMIT_IDLE_MAX;

    q = ngx_queue_last(&zone->sh->queue);

    while (look-- && q != ngx_queue_sentinel(&zone->sh->queue)) {

        prev = ngx_queue_prev(q);
        tn = ngx_queue_data(q, ngx_http_inbox_limit_node_t, queue);

        excess = ngx_http_inbox_limit_leak(tn, now, rate);

        if (excess != 0) {
            ms = (ngx_msec_t) excess * 1000 / rate;
            *drains = ngx_min(*drains, ms);

        } else {
            ngx_queue_remove(q);
            ngx_rbtree_delete(&zone->sh->rbtree, &tn->node);
            ngx_slab_free_locked(zone->shpool, tn);
            freed++;
        }

        q = prev;
    }

    return freed;
}
