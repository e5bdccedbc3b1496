/*
 * Twilio inbound webhook requests for the load tool: the form body, the
 * X-Twilio-Signature over it, and the whole HTTP/1.1 request.
 *
 * Each generator owns an OpenSSL MAC context keyed with the auth token, so
 * a generator belongs to one thread.  load_request_init() allocates it,
 * load_request_free() frees it; strings passed in are copied.
 */
#ifndef LOAD_REQUEST_H
#define LOAD_REQUEST_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>

/* base64 of a 20-byte HMAC-SHA1 digest, and its NUL. */
#define LOAD_SIGNATURE_MAX  29

/* Enough for the headers and a ~600 byte form body with room to spare. */
#define LOAD_REQUEST_MAX    4096

typedef struct {
    const char  *name;
    const char  *value;     /* decoded */
} load_param_t;

typedef struct {
    char          url[512];        /* public URL + path: what is signed */
    char          path[256];
    char          host[256];       /* Host header value */
    char          to[32];
    char          account_sid[40];
    char          run_id[16];      /* hex, part of every MessageSid */
    unsigned      contacts;        /* From rotates over this many numbers */
    unsigned      sorted[32];      /* field indexes in signing order */
    char          encoded[32][128];  /* the fixed fields, form-encoded */
    EVP_MAC      *mac;
    EVP_MAC_CTX  *mac_ctx;         /* keyed with the auth token */
} load_request_gen_t;

/* 0 on success, -1 when OpenSSL fails or a string does not fit. */
int load_request_init(load_request_gen_t *gen, const char *public_url,
    const char *path, const char *host, const char *auth_token,
    const char *to, const char *account_sid, const char *run_id,
    unsigned contacts);
void load_request_free(load_request_gen_t *gen);

/*
 * Writes request number seq of thread into buf (LOAD_REQUEST_MAX bytes):
 * MessageSid "SM" + run id + thread + seq (34 characters, unique per run),
 * From the contact seq * nthreads + thread modulo contacts.  Returns the
 * request's length, or 0 when signing fails.
 */
size_t load_request_build(load_request_gen_t *gen, unsigned thread,
    unsigned nthreads, uint64_t seq, char *buf);

/*
 * The Twilio signature of url and params (sorted here by name, then value,
 * in byte order; params itself is reordered), HMAC-SHA1 keyed by mac_ctx's
 * key, base64.  0 on success, -1 when OpenSSL fails.
 */
int load_twilio_signature(EVP_MAC_CTX *mac_ctx, const char *url,
    load_param_t *params, size_t n, char out[LOAD_SIGNATURE_MAX]);

/* Appends value form-encoded (space as '+', reserved bytes as %XX) to out,
 * which has room for 3 * strlen(value) bytes; returns the bytes written. */
size_t load_form_encode(const char *value, char *out);

#endif
