/*
 * API tokens: random, shown once, stored only as a SHA-256 hash, with an
 * optional name and expiry, and revocable.
 *
 * Whether a stored token may still authenticate is decided here, once, for
 * every backend: the store hands out the token's times and
 * inbox_store_token_find applies inbox_token_check.
 */
#ifndef INBOX_TOKEN_H
#define INBOX_TOKEN_H

#include <stddef.h>
#include <stdint.h>
#include <inbox/error.h>
#include <inbox/model.h>

#define INBOX_TOKEN_MAX       64     /* "ibx_" + base64url(32 bytes) + NUL */
#define INBOX_TOKEN_HASH_MAX  65     /* hex SHA-256 + NUL */
#define INBOX_TOKEN_PREFIX    "ibx_"
#define INBOX_TOKEN_NAME_MAX  65     /* a name of up to 64 bytes + NUL */
#define INBOX_TOKEN_EMAIL_MAX 256
/* What one listing holds at most (the oldest tokens first). */
#define INBOX_TOKEN_LIST_MAX  1000

typedef enum {
    INBOX_TOKEN_ACTIVE = 0,
    INBOX_TOKEN_EXPIRED,
    INBOX_TOKEN_REVOKED
} inbox_token_state_t;

/* A stored token as an operator sees it: never its secret nor its hash. */
typedef struct {
    char     id[INBOX_ID_MAX];                   /* the store's id */
    char     name[INBOX_TOKEN_NAME_MAX];         /* "" when it has none */
    char     user_email[INBOX_TOKEN_EMAIL_MAX];  /* "" for an org-wide one */
    int64_t  created_at;                         /* ms */
    int64_t  expires_at;                         /* ms; 0: never */
    int64_t  revoked_at;                         /* ms; 0: not revoked */
} inbox_token_t;

/* An organization's tokens, oldest first; truncated when it has more than
 * INBOX_TOKEN_LIST_MAX.  Freed with inbox_token_list_free. */
typedef struct {
    inbox_token_t  *items;
    size_t          count;
    int             truncated;
} inbox_token_list_t;

void inbox_token_list_free(inbox_token_list_t *list);
/* For the store: a new zeroed item at the end of list, or NULL when out
 * of memory. */
inbox_token_t *inbox_token_list_add(inbox_token_list_t *list);

/* Returns 0, or -1 when the system has no randomness to give. */
int inbox_token_generate(char out[INBOX_TOKEN_MAX]);
void inbox_token_hash(const char *token, size_t len,
    char out[INBOX_TOKEN_HASH_MAX]);
/* 1 when s has the form of a token (rather than of a token's id). */
int inbox_token_is_secret(const char *s);
/* 1 when the len bytes at s are a whole token as inbox_token_generate
 * writes them; anything else authenticates nobody, and can be refused
 * without asking the store. */
int inbox_token_valid(const char *s, size_t len);

/* 1 when name may name a token: 1 to 64 printable ASCII characters, no
 * spaces (so that a listing's columns stay columns). */
int inbox_token_name_valid(const char *name);

/* The rule: a revoked token is revoked whatever its expiry; one whose
 * expiry has come (expires_at <= now) is expired. */
inbox_token_state_t inbox_token_state(int64_t expires_at, int64_t revoked_at,
    int64_t now);
/* "active", "expired" or "revoked". */
const char *inbox_token_state_name(inbox_token_state_t state);

/* INBOX_OK when a token with these times may authenticate at now, else
 * INBOX_ERR_UNAUTHENTICATED with a message for the person holding it. */
inbox_status_t inbox_token_check(int64_t expires_at, int64_t revoked_at,
    int64_t now, inbox_error_t *err);

/* The message for a token the store does not know. */
inbox_status_t inbox_token_unknown(inbox_error_t *err);
/* The message for a person's token whose person is no longer on the
 * team (removed, perhaps while the token was being made): it does not
 * authenticate, in any backend. */
inbox_status_t inbox_token_user_gone(inbox_error_t *err);

#endif
