/*
 * Realtime tickets: a short-lived, single-use credential for one WebSocket
 * connection, signed by the HTTP API and checked by ws-server with a secret
 * they share (so ws-server never asks the store who the browser is).
 *
 * The ticket also carries the organization's stream position when it was
 * issued, which ws-server uses for its "hello" when it has seen nothing newer.
 *
 * Format: organization id "." base64url(JSON claims) "." base64url(
 * HMAC-SHA256(secret, the first two parts and their dot)).  The
 * organization leads in clear so that nginx can route a socket by its
 * ticket alone ("GET /ws?ticket=", the API contract's form): all of an
 * organization's sockets on one ws-server process.  It is signed with the
 * rest and must be the claims' org_id.
 */
#ifndef INBOX_TICKET_H
#define INBOX_TICKET_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <inbox/error.h>
#include <inbox/model.h>

#define INBOX_TICKET_MAX          672
#define INBOX_TICKET_NONCE_MAX    33      /* 16 random bytes in hex */
#define INBOX_TICKET_TTL          60      /* seconds */
#define INBOX_TICKET_SECRET_MIN   32      /* bytes */
#define INBOX_TICKET_NAME_MAX     65      /* 64 bytes and the NUL */

typedef struct {
    char                    org_id[INBOX_ID_MAX];
    char                    user_id[INBOX_ID_MAX];
    /* the API token it was issued to; "" for a session's */
    char                    token_id[INBOX_ID_MAX];
    /* the session it was issued to (its id, not its secret: a logout
     * names it); "" for a token's */
    char                    session_id[INBOX_ID_MAX];
    /* what colleagues see of the user (presence); "" for none */
    char                    user_name[INBOX_TICKET_NAME_MAX];
    char                    nonce[INBOX_TICKET_NONCE_MAX];
    int64_t                 expires;      /* Unix seconds */
    /* when the token or session it was issued on ends by itself (Unix
     * ms), unless a session is used again; 0 for never */
    int64_t                 ends_at;
    inbox_realtime_state_t  state;
} inbox_ticket_claims_t;

/* Fills in nonce and expires (now + INBOX_TICKET_TTL) and writes the
 * ticket into out. */
inbox_status_t inbox_ticket_issue(const unsigned char *secret,
    size_t secret_len, inbox_ticket_claims_t *claims, time_t now,
    char out[INBOX_TICKET_MAX], inbox_error_t *err);

/* INBOX_ERR_FORBIDDEN for a forged, malformed or expired ticket.  Use of
 * the nonce only once is the verifier's to track. */
inbox_status_t inbox_ticket_verify(const unsigned char *secret,
    size_t secret_len, const char *ticket, time_t now,
    inbox_ticket_claims_t *claims, inbox_error_t *err);

/* When the ticket was issued, in whole Unix seconds (what its claims
 * carry: expires less INBOX_TICKET_TTL). */
int64_t inbox_ticket_issued(const inbox_ticket_claims_t *claims);

/* 1 when, at now_ms (Unix ms), the token or session the ticket was issued
 * on has ended by itself: a socket it opened is closed then, and the
 * browser's next ticket tells a session used meanwhile from one that
 * lapsed. */
int inbox_ticket_lapsed(const inbox_ticket_claims_t *claims, int64_t now_ms);

/* The name a ticket shows of a user: users have an email address and no
 * other name yet, so the address when it fits, else its local part cut
 * short (at a character's start). */
void inbox_ticket_user_name(const char *email,
    char name[INBOX_TICKET_NAME_MAX]);

/* Reads a secret file (at least INBOX_TICKET_SECRET_MIN bytes) into buf;
 * returns its length, or 0 with err set. */
size_t inbox_ticket_secret_load(const char *path, unsigned char *buf,
    size_t size, inbox_error_t *err);

#endif
