
/*
 * Leaky buckets in shared memory, as ngx_http_limit_req_module keeps its
 * states: one zone per limit, so that every worker process counts against
 * the same buckets and a reload keeps them.  A bucket is keyed by 32
 * bytes (a SHA-256: of an API token or session, an email address, a
 * client address).
 *
 * A limit is "RATE [burst=N] [delay=N]", as limit_req's: each charge adds
 * one to the bucket, which leaks RATE a second.  A charge that leaves more
 * than burst in it is refused (and charges nothing); one that leaves more
 * than delay is let through late, by how far it is over delay.  Three
 * limits use it:
 *
 *   inbox_ticket_rate         realtime tickets per API token or session,
 *                             charged once the ticket is made;
 *   inbox_login_rate,         sign-in attempts per email address and per
 *   inbox_login_address_rate  client address (IPv6 by its /64), charged
 *                             before the password is checked, the
 *                             address first (an attempt it refuses
 *                             makes no email bucket): failures count; a
 *                             right password empties the email's bucket
 *                             and gives the address its charge back; a
 *                             refused attempt (429) is not checked and
 *                             charges nothing.  A password change is
 *                             charged by its session or token, whose
 *                             bucket goes if it is nobody's (the
 *                             address keeps that charge); so is a new
 *                             user asked for (POST /users, a bucket of
 *                             the session's or token's own), which
 *                             keeps its charges.
 *   inbox_upload_rate         megabytes of uploads per API token or
 *                             session, charged before the file is
 *                             written (a started megabyte one each);
 *                             given back when nothing was stored, and
 *                             the bucket gone when the credential is
 *                             nobody's.
 *
 * A zone (1 MB unless size= says, about 8,000 buckets) forgets a bucket
 * only once it has drained; while it is full of live ones a new key is
 * refused.
 */


#ifndef _NGX_HTTP_INBOX_LIMIT_H_INCLUDED_
#define _NGX_HTTP_INBOX_LIMIT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#define NGX_HTTP_INBOX_LIMIT_KEY_LEN  32


typedef struct {
    ngx_uint_t        rate;       /* a second, x1000; 0: off;
                                     NGX_CONF_UNSET_UINT: not set */
    ngx_uint_t        burst;      /* x1000 */
    ngx_uint_t        delay;      /* x1000; burst when not given */
    size_t            size;       /* the zone's; 0: the default, 1 MB */
    ngx_shm_zone_t   *zone;       /* NULL when off or unused */
} ngx_http_inbox_limit_t;


/* A directive setting the ngx_http_inbox_limit_t at cmd->offset of the
 * main configuration: "RATE [burst=N] [delay=N] [size=SIZE]" or "off". */
char *ngx_http_inbox_limit_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* From init_main_conf: the defaults (a rate such as "60r/m" with burst
 * and delay) when the directive name was not given, and the zone, named
 * as the directive, when used and not off. */
ngx_int_t ngx_http_inbox_limit_init(ngx_conf_t *cf,
    ngx_http_inbox_limit_t *limit, const char *name, ngx_uint_t used,
    ngx_uint_t per_minute, ngx_uint_t burst, ngx_uint_t delay);

/*
 * Charges key's bucket with one: NGX_OK when it fits, with *wait the
 * milliseconds to hold the answer back (0 up to delay); or NGX_BUSY, with
 * *retry_after the seconds until a charge would fit again.  A key without
 * a bucket in a zone full of buckets that have not drained is NGX_BUSY
 * too: a bucket is forgotten only once it has drained, so no flood of
 * new keys resets another key's limit.  A limit that is off always fits.
 * In the event loop only.
 */
ngx_int_t ngx_http_inbox_limit_charge(ngx_http_inbox_limit_t *limit,
    ngx_log_t *log, const u_char *key, ngx_msec_t *wait,
    ngx_uint_t *retry_after);
/* The same with n at once (an upload's started megabytes): refused
 * whole or charged whole; one larger than the bucket fits an empty one
 * and fills it. */
ngx_int_t ngx_http_inbox_limit_charge_n(ngx_http_inbox_limit_t *limit,
    ngx_log_t *log, const u_char *key, ngx_uint_t n, ngx_msec_t *wait,
    ngx_uint_t *retry_after);

/* Takes one charge back (a sign-in that failed for the server's own
 * reason). */
void ngx_http_inbox_limit_refund(ngx_http_inbox_limit_t *limit,
    const u_char *key);
void ngx_http_inbox_limit_refund_n(ngx_http_inbox_limit_t *limit,
    const u_char *key, ngx_uint_t n);
/* Forgets the bucket: as good as new (the email's, once its password was
 * right). */
void ngx_http_inbox_limit_clear(ngx_http_inbox_limit_t *limit,
    const u_char *key);

/* Keys: the SHA-256 of len bytes, with a kind prefix so that keys of
 * different things never meet; or a hex SHA-256 (an API token's or
 * session's stored hash) read back into its bytes (NGX_ERROR when it is
 * not one). */
void ngx_http_inbox_limit_key(const char *kind, const u_char *data,
    size_t len, u_char *key);
ngx_int_t ngx_http_inbox_limit_hex_key(const char *hex, u_char *key);
/* The client's address as a key: an IPv6 address by its /64, the block
 * one subscriber usually has; an IPv4 client of a dual-stack listener
 * (::ffff:a.b.c.d) by its IPv4 address, as on an IPv4 listener. */
void ngx_http_inbox_limit_address_key(ngx_http_request_t *r, u_char *key);


#endif /* _NGX_HTTP_INBOX_LIMIT_H_INCLUDED_ */
