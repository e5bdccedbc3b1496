/*
 * API tokens: "ibx_" and 32 random bytes in base64url; stored as the hex
 * SHA-256 of the whole token.  Also the rule that says whether a stored
 * token still authenticates.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <inbox/encoding.h>
#include <inbox/clock.h>
#include <inbox/token.h>


#define INBOX_TOKEN_BYTES   32


int
inbox_token_generate(char out[INBOX_TOKEN_MAX])
{
    unsigned char  bytes[INBOX_TOKEN_BYTES];
    char           encoded[INBOX_BASE64_LEN(INBOX_TOKEN_BYTES)];

    out[0] = '\0';

    if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
        return -1;
    }

    inbox_base64url_encode(bytes, sizeof(bytes), encoded);
    OPENSSL_cleanse(bytes, sizeof(bytes));

    memcpy(out, INBOX_TOKEN_PREFIX, sizeof(INBOX_TOKEN_PREFIX) - 1);
    strcpy(out + sizeof(INBOX_TOKEN_PREFIX) - 1, encoded);

    return 0;
}


void
inbox_token_hash(const char *token, size_t len,
    char out[INBOX_TOKEN_HASH_MAX])
{
    static const char  hex[] = "0123456789abcdef";
    unsigned int       i, n;
    unsigned char      digest[EVP_MAX_MD_SIZE];

    n = 0;
    if (EVP_Digest(token, len, digest, &n, EVP_sha256(), NULL) != 1
        || n != 32)
    {
        out[0] = '\0';
        return;
    }

    for (i = 0; i < n; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 0xf];
    }
    out[2 * n] = '\0';
}


int
inbox_token_is_secret(const char *s)
{
    return strncmp(s, INBOX_TOKEN_PREFIX, sizeof(INBOX_TOKEN_PREFIX) - 1)
           == 0;
}


int
inbox_token_valid(const char *s, size_t len)
{
    size_t  i, prefix;

    prefix = sizeof(INBOX_TOKEN_PREFIX) - 1;

    /* the prefix, then base64url of the bytes, unpadded: 43 characters */
    if (len != prefix + (INBOX_TOKEN_BYTES * 4 + 2) / 3
        || memcmp(s, INBOX_TOKEN_PREFIX, prefix) != 0)
    {
        return 0;
    }

    for (i = prefix; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
        {
            return 0;
        }
    }

    return 1;
}


int
inbox_token_name_valid(const char *name)
{
    size_t  i;

    if (name == NULL || name[0] == '\0') {
        return 0;
    }

    for (i = 0; name[i]; i++) {
        if (i == INBOX_TOKEN_NAME_MAX - 1
            || name[i] <= ' ' || name[i] > '~')
        {
            return 0;
        }
    }

    return 1;
}


inbox_token_state_t
inbox_token_state(int64_t expires_at, int64_t revoked_at, int64_t now)
{
    if (revoked_at != 0) {
        return INBOX_TOKEN_REVOKED;
    }

    if (expires_at != 0 && expires_at <= now) {
        return INBOX_TOKEN_EXPIRED;
    }

    return INBOX_TOKEN_ACTIVE;
}


const char *
inbox_token_state_name(inbox_token_state_t state)
{
    switch (state) {
    case INBOX_TOKEN_EXPIRED:
        return "expired";
    case INBOX_TOKEN_REVOKED:
        return "revoked";
    default:
        return "active";
    }
}


inbox_status_t
inbox_token_check(int64_t expires_at, int64_t revoked_at, int64_t now,
    inbox_error_t *err)
{
    char  at[INBOX_ISO8601_MAX];

    switch (inbox_token_state(expires_at, revoked_at, now)) {

    case INBOX_TOKEN_REVOKED:
        return inbox_error_set(err, INBOX_ERR_UNAUTHENTICATED,
                               "This API token was revoked; ask for a new "
                               "one.");

    case INBOX_TOKEN_EXPIRED:
        inbox_iso8601(expires_at, at);
        return inbox_error_set(err, INBOX_ERR_UNAUTHENTICATED,
                               "This API token expired at %.19sZ; ask for a "
                               "new one.", at);

    default:
        return INBOX_OK;
    }
}


inbox_status_t
inbox_token_unknown(inbox_error_t *err)
{
    return inbox_error_set(err, INBOX_ERR_UNAUTHENTICATED,
                           "This API token is not valid; ask for a new one.");
}


inbox_status_t
inbox_token_user_gone(inbox_error_t *err)
{
    return inbox_error_set(err, INBOX_ERR_UNAUTHENTICATED,
                           "The API token's user no longer exists.");
}


void
inbox_token_list_free(inbox_token_list_t *list)
{
    if (list == NULL) {
        return;
    }

    free(list->items);
    list->items = NULL;
    list->count = 0;
    list->truncated = 0;
}


inbox_token_t *
inbox_token_list_add(inbox_token_list_t *list)
{
    size_t          cap;
    inbox_token_t  *items;

    /* grows by doubling: capacity is the next power of two of count */
    cap = 8;
    while (cap < list->count) {
        cap *= 2;
    }

    if (list->count == 0 || list->count == cap) {
        items = realloc(list->items, (list->count ? cap * 2 : cap)
                                     * sizeof(inbox_token_t));
        if (items == NULL) {
            return NULL;
        }

        list->items = items;
    }

    memset(&list->items[list->count], 0, sizeof(inbox_token_t));

    return &list->items[list->count++];
}
