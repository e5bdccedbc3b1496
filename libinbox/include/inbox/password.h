/*
 * Users' passwords: what a password must be, and its hash (libsodium's
 * crypto_pwhash_str, Argon2id with the "interactive" limits: about 64 MB
 * and a tenth of a second a hash, on purpose).
 *
 * Hashing and verifying are slow by design: call them from a thread that
 * may block (nginx: a pool thread), never from an event loop.
 */
#ifndef INBOX_PASSWORD_H
#define INBOX_PASSWORD_H

#include <stddef.h>
#include <inbox/error.h>

#define INBOX_PASSWORD_MIN       8      /* characters */
#define INBOX_PASSWORD_MAX       1024   /* bytes */
#define INBOX_PASSWORD_HASH_MAX  128    /* crypto_pwhash_STRBYTES */

/* INBOX_OK when password (len bytes) may be a user's password: valid
 * UTF-8 without NUL, at least INBOX_PASSWORD_MIN characters and at most
 * INBOX_PASSWORD_MAX bytes; else INBOX_ERR_INVALID naming the field
 * "password". */
inbox_status_t inbox_password_check(const char *password, size_t len,
    inbox_error_t *err);

/* The hash to store for password (checked with inbox_password_check
 * first), NUL-terminated in out. */
inbox_status_t inbox_password_hash(const char *password, size_t len,
    char out[INBOX_PASSWORD_HASH_MAX], inbox_error_t *err);

/* 1 when password matches hash, 0 when it does not or hash is NULL, empty
 * or not a hash.  When hash is NULL (no such user, or one without a
 * password) a hash made once for the purpose is verified instead, so that
 * the answer takes as long either way: timing tells nobody which email
 * addresses have an account. */
int inbox_password_verify(const char *hash, const char *password,
    size_t len);

/* 1 when a hash that verified was made under other limits (or another
 * algorithm) than inbox_password_hash uses now: the sign-in that knows
 * the password hashes it again (inbox_store_user_password_rehash). */
int inbox_password_needs_rehash(const char *hash);

#endif
