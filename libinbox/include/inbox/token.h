/*
 * API tokens: random, shown once, stored only as a SHA-256 hash.
 */
#ifndef INBOX_TOKEN_H
#define INBOX_TOKEN_H

#include <stddef.h>

#define INBOX_TOKEN_MAX       64     /* "ibx_" + base64url(32 bytes) + NUL */
#define INBOX_TOKEN_HASH_MAX  65     /* hex SHA-256 + NUL */

/* Returns 0, or -1 when the system has no randomness to give. */
int inbox_token_generate(char out[INBOX_TOKEN_MAX]);
void inbox_token_hash(const char *token, size_t len,
    char out[INBOX_TOKEN_HASH_MAX]);

#endif
