/*
 * Sessions: random ids stored as SHA-256, and when a session ends.
 */
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <inbox/encoding.h>
#include <inbox/session.h>
#include <inbox/token.h>


#define INBOX_SESSION_BYTES  32


int
inbox_session_generate(char out[INBOX_SESSION_MAX])
{
    unsigned char  bytes[INBOX_SESSION_BYTES];

    out[0] = '\0';

    if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
        return -1;
    }

    inbox_base64url_encode(bytes, sizeof(bytes), out);
    OPENSSL_cleanse(bytes, sizeof(bytes));

    return 0;
}


void
inbox_session_hash(const char *id, size_t len,
    char out[INBOX_SESSION_HASH_MAX])
{
    /* the same digest as an API token's: one way to hash a secret */
    inbox_token_hash(id, len, out);
}


int
inbox_session_id_valid(const char *s, size_t len)
{
    size_t  i;

    /* base64url of 32 bytes, unpadded: 43 characters */
    if (len != (INBOX_SESSION_BYTES * 4 + 2) / 3) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
        {
            return 0;
        }
    }

    return 1;
}


int64_t
inbox_session_expiry(int64_t created_at, int64_t last_seen_at)
{
    int64_t  idle, absolute;

    idle = last_seen_at + INBOX_SESSION_IDLE_MS;
    absolute = created_at + INBOX_SESSION_ABSOLUTE_MS;

    return idle < absolute ? idle : absolute;
}


int64_t
inbox_session_ends_at(const inbox_session_t *session)
{
    int64_t  rule;

    rule = inbox_session_expiry(session->created_at, session->last_seen_at);

    return session->expires_at < rule ? session->expires_at : rule;
}


inbox_status_t
inbox_session_check(const inbox_session_t *session, int64_t now,
    inbox_error_t *err)
{
    if (now >= inbox_session_ends_at(session)) {
        return inbox_error_set(err, INBOX_ERR_UNAUTHENTICATED,
                               "Your session has ended; sign in again.");
    }

    return INBOX_OK;
}


int
inbox_session_needs_touch(const inbox_session_t *session, int64_t now)
{
    return now - session->last_seen_at >= INBOX_SESSION_TOUCH_MS;
}
