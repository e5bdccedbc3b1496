/*
 * API tokens: "ibx_" and 32 random bytes in base64url; stored as the hex
 * SHA-256 of the whole token.
 */
#include <string.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <inbox/encoding.h>
#include <inbox/token.h>


#define INBOX_TOKEN_BYTES   32
#define INBOX_TOKEN_PREFIX  "ibx_"


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
