/*
 * Sessions: what a person signed in with email and password holds.
 *
 * The browser keeps a random session id in an HttpOnly cookie; the store
 * keeps only its SHA-256 (as for API tokens), with the user, when it was
 * made and last used, and when it expires.  A session ends after
 * INBOX_SESSION_IDLE_MS without use or INBOX_SESSION_ABSOLUTE_MS after
 * sign-in, whichever comes first, at logout, and when the user's password
 * is set again.  These rules are decided here, once, for every backend:
 * the store records the times it is given and inbox_store_session_find
 * applies inbox_session_check.
 */
#ifndef INBOX_SESSION_H
#define INBOX_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <inbox/error.h>

#define INBOX_SESSION_MAX          48     /* base64url(32 bytes) + NUL */
#define INBOX_SESSION_HASH_MAX     65     /* hex SHA-256 + NUL */

#define INBOX_SESSION_IDLE_MS      (12LL * 3600 * 1000)       /* 12 hours */
#define INBOX_SESSION_ABSOLUTE_MS  (7LL * 24 * 3600 * 1000)   /* 7 days */
/* How stale the recorded last use may get before a request records it
 * again: reads stay reads, but for one write a minute per session. */
#define INBOX_SESSION_TOUCH_MS     (60LL * 1000)

/* The cookie that carries the id; with the "__Host-" prefix when it is
 * Secure (the browser then refuses it from anything but this host over
 * https, with Path=/ and no Domain). */
#define INBOX_SESSION_COOKIE         "inbox_session"
#define INBOX_SESSION_COOKIE_SECURE  "__Host-inbox_session"

/* A stored session's times, ms. */
typedef struct {
    int64_t  created_at;
    int64_t  last_seen_at;
    int64_t  expires_at;
} inbox_session_t;

/* A new random session id; 0, or -1 when the system gives no randomness. */
int inbox_session_generate(char out[INBOX_SESSION_MAX]);
/* What the store keeps of a session id (len bytes). */
void inbox_session_hash(const char *id, size_t len,
    char out[INBOX_SESSION_HASH_MAX]);
/* 1 when s (len bytes) has the form of a session id: what a cookie
 * holding anything else is refused for before the store is asked. */
int inbox_session_id_valid(const char *s, size_t len);

/* When a session made at created_at and last used at last_seen_at ends:
 * the earlier of the idle and the absolute limit. */
int64_t inbox_session_expiry(int64_t created_at, int64_t last_seen_at);
/* When a stored session ends unless it is used again: the stored expiry
 * or the rule's, whichever comes first (a row written under older limits
 * ends by the earlier). */
int64_t inbox_session_ends_at(const inbox_session_t *session);
/* INBOX_OK when session is still good at now, else
 * INBOX_ERR_UNAUTHENTICATED asking to sign in again. */
inbox_status_t inbox_session_check(const inbox_session_t *session,
    int64_t now, inbox_error_t *err);
/* 1 when a use at now should be recorded (see INBOX_SESSION_TOUCH_MS). */
int inbox_session_needs_touch(const inbox_session_t *session, int64_t now);

#endif
