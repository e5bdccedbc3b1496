/*
 * Realtime tickets: org id "." base64url(JSON claims) "."
 * base64url(HMAC-SHA256) (ticket.h says why the org leads).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <yajl/yajl_tree.h>
#include <inbox/encoding.h>
#include <inbox/render.h>
#include <inbox/ticket.h>


#define INBOX_TICKET_MAC_LEN     32
#define INBOX_TICKET_NONCE_BYTES 16
#define INBOX_TICKET_CLAIMS_MAX  416      /* decoded JSON */
#define INBOX_SECRET_FILE_MAX    4096


static int inbox_ticket_mac(const unsigned char *secret, size_t secret_len,
    const char *data, size_t len, unsigned char mac[INBOX_TICKET_MAC_LEN]);
static int inbox_ticket_claims_parse(const char *json,
    inbox_ticket_claims_t *claims);
static int inbox_ticket_get_string(yajl_val root, const char *key,
    char *out, size_t size);
static int inbox_ticket_get_int(yajl_val root, const char *key,
    int64_t *out);


inbox_status_t
inbox_ticket_issue(const unsigned char *secret, size_t secret_len,
    inbox_ticket_claims_t *claims, time_t now, char out[INBOX_TICKET_MAX],
    inbox_error_t *err)
{
    char            *json;
    size_t           json_len, n, i, prefix;
    yajl_gen         g;
    unsigned char    nonce[INBOX_TICKET_NONCE_BYTES];
    unsigned char    mac[INBOX_TICKET_MAC_LEN];
    static const char  hex[] = "0123456789abcdef";

    out[0] = '\0';

    if (RAND_bytes(nonce, sizeof(nonce)) != 1) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL,
                   "the system has no randomness for a ticket nonce");
    }

    for (i = 0; i < sizeof(nonce); i++) {
        claims->nonce[2 * i] = hex[nonce[i] >> 4];
        claims->nonce[2 * i + 1] = hex[nonce[i] & 0xf];
    }
    claims->nonce[2 * sizeof(nonce)] = '\0';

    claims->expires = (int64_t) now + INBOX_TICKET_TTL;

    g = inbox_json_begin();
    if (g == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "out of memory");
    }

    yajl_gen_map_open(g);
    inbox_json_key(g, "org_id");
    inbox_json_string(g, claims->org_id);
    inbox_json_key(g, "user_id");
    inbox_json_string(g, claims->user_id);
    if (claims->token_id[0] != '\0') {
        inbox_json_key(g, "token_id");
        inbox_json_string(g, claims->token_id);
    }
    if (claims->session_id[0] != '\0') {
        inbox_json_key(g, "session_id");
        inbox_json_string(g, claims->session_id);
    }
    if (claims->user_name[0] != '\0') {
        inbox_json_key(g, "user_name");
        inbox_json_string(g, claims->user_name);
    }
    inbox_json_key(g, "nonce");
    inbox_json_string(g, claims->nonce);
    inbox_json_key(g, "expires");
    inbox_json_int(g, claims->expires);
    if (claims->ends_at != 0) {
        inbox_json_key(g, "ends_at");
        inbox_json_int(g, claims->ends_at);
    }
    inbox_json_key(g, "org_seq");
    inbox_json_int(g, claims->state.org_seq);
    inbox_json_key(g, "epoch");
    inbox_json_string(g, claims->state.epoch);
    inbox_json_key(g, "unread_total");
    inbox_json_int(g, claims->state.unread_total);
    yajl_gen_map_close(g);

    json = inbox_json_finish(g, &json_len);
    if (json == NULL) {
        return inbox_error_set(err, INBOX_ERR_INTERNAL, "out of memory");
    }

    /* the org, the claims, two dots, the MAC and the NUL must fit */
    prefix = strlen(claims->org_id) + 1;

    if (prefix + INBOX_BASE64_LEN(json_len) + 1
        + INBOX_BASE64_LEN(INBOX_TICKET_MAC_LEN) > INBOX_TICKET_MAX)
    {
        free(json);
        return inbox_error_set(err, INBOX_ERR_INTERNAL,
                   "ticket claims are too long");
    }

    memcpy(out, claims->org_id, prefix - 1);
    out[prefix - 1] = '.';

    n = prefix + inbox_base64url_encode((unsigned char *) json, json_len,
                                        out + prefix);
    free(json);

    if (!inbox_ticket_mac(secret, secret_len, out, n, mac)) {
        out[0] = '\0';
        return inbox_error_set(err, INBOX_ERR_INTERNAL,
                   "cannot sign the ticket");
    }

    out[n++] = '.';
    inbox_base64url_encode(mac, sizeof(mac), out + n);

    return INBOX_OK;
}


inbox_status_t
inbox_ticket_verify(const unsigned char *secret, size_t secret_len,
    const char *ticket, time_t now, inbox_ticket_claims_t *claims,
    inbox_error_t *err)
{
    long            n;
    size_t          len, body_len, org_len;
    const char     *dot, *claims_at;
    unsigned char   mac[INBOX_TICKET_MAC_LEN];
    unsigned char   given[INBOX_TICKET_MAC_LEN];
    char            json[INBOX_TICKET_CLAIMS_MAX + 1];

    memset(claims, 0, sizeof(*claims));

    len = ticket ? strnlen(ticket, INBOX_TICKET_MAX) : 0;
    if (len == 0 || len >= INBOX_TICKET_MAX) {
        return inbox_error_set(err, INBOX_ERR_FORBIDDEN,
                   "the realtime ticket is missing or too long");
    }

    /* org "." claims "." MAC, none of them empty */
    claims_at = strchr(ticket, '.');
    dot = claims_at ? strchr(claims_at + 1, '.') : NULL;
    if (dot == NULL || claims_at == ticket || dot == claims_at + 1
        || strchr(dot + 1, '.') != NULL)
    {
        return inbox_error_set(err, INBOX_ERR_FORBIDDEN,
                   "the realtime ticket is malformed");
    }

    org_len = (size_t) (claims_at - ticket);
    claims_at++;
    body_len = (size_t) (dot - ticket);

    n = inbox_base64url_decode(dot + 1, len - body_len - 1, given,
                               sizeof(given));
    if (n != INBOX_TICKET_MAC_LEN
        || !inbox_ticket_mac(secret, secret_len, ticket, body_len, mac)
        || CRYPTO_memcmp(mac, given, sizeof(mac)) != 0)
    {
        return inbox_error_set(err, INBOX_ERR_FORBIDDEN,
                   "the realtime ticket's signature is not valid");
    }

    n = inbox_base64url_decode(claims_at, (size_t) (dot - claims_at),
                               (unsigned char *) json,
                               INBOX_TICKET_CLAIMS_MAX);
    if (n <= 0) {
        return inbox_error_set(err, INBOX_ERR_FORBIDDEN,
                   "the realtime ticket is malformed");
    }
    json[n] = '\0';

    if (!inbox_ticket_claims_parse(json, claims)
        || strlen(claims->org_id) != org_len
        || memcmp(claims->org_id, ticket, org_len) != 0)
    {
        memset(claims, 0, sizeof(*claims));
        return inbox_error_set(err, INBOX_ERR_FORBIDDEN,
                   "the realtime ticket's claims are malformed");
    }

    if ((int64_t) now >= claims->expires) {
        return inbox_error_set(err, INBOX_ERR_FORBIDDEN,
                   "the realtime ticket has expired; ask for a new one");
    }

    return INBOX_OK;
}


int64_t
inbox_ticket_issued(const inbox_ticket_claims_t *claims)
{
    return claims->expires - INBOX_TICKET_TTL;
}


int
inbox_ticket_lapsed(const inbox_ticket_claims_t *claims, int64_t now_ms)
{
    return claims->ends_at != 0 && now_ms >= claims->ends_at;
}


size_t
inbox_ticket_secret_load(const char *path, unsigned char *buf, size_t size,
    inbox_error_t *err)
{
    FILE           *f;
    size_t          n, start, end;
    unsigned char  *raw;

    raw = malloc(INBOX_SECRET_FILE_MAX + 1);
    if (raw == NULL) {
        inbox_error_set(err, INBOX_ERR_INTERNAL, "out of memory");
        return 0;
    }

    f = fopen(path, "rb");
    if (f == NULL) {
        inbox_error_set(err, INBOX_ERR_INTERNAL,
                        "cannot open the realtime secret \"%s\": %s", path,
                        strerror(errno));
        free(raw);
        return 0;
    }

    n = fread(raw, 1, INBOX_SECRET_FILE_MAX + 1, f);
    if (ferror(f)) {
        inbox_error_set(err, INBOX_ERR_INTERNAL,
                        "cannot read the realtime secret \"%s\"", path);
        fclose(f);
        OPENSSL_cleanse(raw, INBOX_SECRET_FILE_MAX + 1);
        free(raw);
        return 0;
    }
    fclose(f);

    start = 0;
    end = n;
    while (start < end && isspace(raw[start])) {
        start++;
    }
    while (end > start && isspace(raw[end - 1])) {
        end--;
    }

    n = end - start;

    if (n < INBOX_TICKET_SECRET_MIN || n > size
        || n > INBOX_SECRET_FILE_MAX)
    {
        inbox_error_set(err, INBOX_ERR_INTERNAL,
                        "the realtime secret \"%s\" has %zu bytes; it needs "
                        "%d to %zu (e.g. 64 hex characters)", path, n,
                        INBOX_TICKET_SECRET_MIN,
                        size < INBOX_SECRET_FILE_MAX ? size
                                                     : INBOX_SECRET_FILE_MAX);
        OPENSSL_cleanse(raw, INBOX_SECRET_FILE_MAX + 1);
        free(raw);
        return 0;
    }

    memcpy(buf, raw + start, n);
    OPENSSL_cleanse(raw, INBOX_SECRET_FILE_MAX + 1);
    free(raw);

    return n;
}


static int
inbox_ticket_mac(const unsigned char *secret, size_t secret_len,
    const char *data, size_t len, unsigned char mac[INBOX_TICKET_MAC_LEN])
{
    size_t  n;

    if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret, secret_len,
                  (const unsigned char *) data, len, mac,
                  INBOX_TICKET_MAC_LEN, &n)
        == NULL)
    {
        return 0;
    }

    return n == INBOX_TICKET_MAC_LEN;
}


static int
inbox_ticket_claims_parse(const char *json, inbox_ticket_claims_t *claims)
{
    int       ok;
    yajl_val  root;

    root = yajl_tree_parse(json, NULL, 0);
    if (root == NULL) {
        return 0;
    }

    ok = YAJL_IS_OBJECT(root)
         && inbox_ticket_get_string(root, "org_id", claims->org_id,
                                    sizeof(claims->org_id))
         && claims->org_id[0] != '\0'
         && inbox_ticket_get_string(root, "user_id", claims->user_id,
                                    sizeof(claims->user_id))
         && inbox_ticket_get_string(root, "nonce", claims->nonce,
                                    sizeof(claims->nonce))
         && inbox_ticket_get_int(root, "expires", &claims->expires)
         && inbox_ticket_get_int(root, "org_seq", &claims->state.org_seq)
         && inbox_ticket_get_string(root, "epoch", claims->state.epoch,
                                    sizeof(claims->state.epoch))
         && inbox_ticket_get_int(root, "unread_total",
                                 &claims->state.unread_total);

    /* optional: not every ticket is a person's, nor a token's */
    if (ok && !inbox_ticket_get_string(root, "user_name", claims->user_name,
                                       sizeof(claims->user_name)))
    {
        claims->user_name[0] = '\0';
    }

    if (ok && !inbox_ticket_get_string(root, "token_id", claims->token_id,
                                       sizeof(claims->token_id)))
    {
        claims->token_id[0] = '\0';
    }

    if (ok && !inbox_ticket_get_string(root, "session_id",
                                       claims->session_id,
                                       sizeof(claims->session_id)))
    {
        claims->session_id[0] = '\0';
    }

    if (ok && !inbox_ticket_get_int(root, "ends_at", &claims->ends_at)) {
        claims->ends_at = 0;
    }

    yajl_tree_free(root);

    return ok;
}


static int
inbox_ticket_get_string(yajl_val root, const char *key, char *out,
    size_t size)
{
    size_t       len;
    yajl_val     v;
    const char  *path[2], *s;

    path[0] = key;
    path[1] = NULL;

    v = yajl_tree_get(root, path, yajl_t_string);
    s = YAJL_GET_STRING(v);
    if (s == NULL) {
        return 0;
    }

    len = strlen(s);
    if (len >= size) {
        return 0;
    }

    memcpy(out, s, len + 1);

    return 1;
}


static int
inbox_ticket_get_int(yajl_val root, const char *key, int64_t *out)
{
    yajl_val     v;
    const char  *path[2];

    path[0] = key;
    path[1] = NULL;

    v = yajl_tree_get(root, path, yajl_t_number);
    if (v == NULL || !YAJL_IS_INTEGER(v)) {
        return 0;
    }

    *out = YAJL_GET_INTEGER(v);

    return 1;
}


void
inbox_ticket_user_name(const char *email, char name[INBOX_TICKET_NAME_MAX])
{
    size_t       len;
    const char  *at;

    len = strlen(email);

    if (len >= INBOX_TICKET_NAME_MAX) {
        at = strchr(email, '@');
        len = at ? (size_t) (at - email) : len;

        if (len >= INBOX_TICKET_NAME_MAX) {
            len = INBOX_TICKET_NAME_MAX - 1;
            /* not inside a UTF-8 sequence */
            while (len > 0 && ((unsigned char) email[len] & 0xc0) == 0x80) {
                len--;
            }
        }
    }

    memcpy(name, email, len);
    name[len] = '\0';
}
