/*
 * Passwords: Argon2id through libsodium, and the rule of what a password
 * may be.
 */
#include <pthread.h>
#include <string.h>
#include <sodium.h>
#include <inbox/password.h>
#include <inbox/utf8.h>

/* the limits every new hash is made under; older ones are rehashed */
#define INBOX_PASSWORD_OPSLIMIT  crypto_pwhash_OPSLIMIT_INTERACTIVE
#define INBOX_PASSWORD_MEMLIMIT  crypto_pwhash_MEMLIMIT_INTERACTIVE


static void inbox_password_init(void);


static pthread_once_t  inbox_password_once = PTHREAD_ONCE_INIT;
/* verified when there is no user: "" until made, and if making it failed */
static char            inbox_password_decoy[INBOX_PASSWORD_HASH_MAX];


/* sodium_init picks the fastest implementations; then the decoy hash. */
static void
inbox_password_init(void)
{
    unsigned char  random[32];
    char           secret[65];

    if (sodium_init() < 0) {
        return;
    }

    /* a password nobody knows: it never matches */
    randombytes_buf(random, sizeof(random));
    sodium_bin2hex(secret, sizeof(secret), random, sizeof(random));

    if (crypto_pwhash_str(inbox_password_decoy, secret, strlen(secret),
                          INBOX_PASSWORD_OPSLIMIT,
                          INBOX_PASSWORD_MEMLIMIT)
        != 0)
    {
        inbox_password_decoy[0] = '\0';
    }

    sodium_memzero(secret, sizeof(secret));
}


inbox_status_t
inbox_password_check(const char *password, size_t len, inbox_error_t *err)
{
    size_t  i, chars;

    if (password == NULL || len > INBOX_PASSWORD_MAX) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "password",
                                     "A password has at most %d bytes.",
                                     INBOX_PASSWORD_MAX);
    }

    if (memchr(password, '\0', len) != NULL || !inbox_utf8_valid(password,
                                                                 len))
    {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "password",
                                     "A password is text: valid UTF-8 "
                                     "without NUL characters.");
    }

    /* characters, not bytes: count the bytes that start one */
    chars = 0;
    for (i = 0; i < len; i++) {
        if (((unsigned char) password[i] & 0xc0) != 0x80) {
            chars++;
        }
    }

    if (chars < INBOX_PASSWORD_MIN) {
        return inbox_error_set_field(err, INBOX_ERR_INVALID, "password",
                                     "A password has at least %d "
                                     "characters.", INBOX_PASSWORD_MIN);
    }

    return INBOX_OK;
}


inbox_status_t
inbox_password_hash(const char *password, size_t len,
    char out[INBOX_PASSWORD_HASH_MAX], inbox_error_t *err)
{
    inbox_status_t  rc;

    out[0] = '\0';

    rc = inbox_password_check(password, len, err);
    if (rc != INBOX_OK) {
        return rc;
    }

    pthread_once(&inbox_password_once, inbox_password_init);

    if (crypto_pwhash_str(out, password, len,
                          INBOX_PASSWORD_OPSLIMIT,
                          INBOX_PASSWORD_MEMLIMIT)
        != 0)
    {
        out[0] = '\0';
        return inbox_error_set(err, INBOX_ERR_INTERNAL,
                               "Not enough memory to hash the password.");
    }

    return INBOX_OK;
}


int
inbox_password_needs_rehash(const char *hash)
{
    pthread_once(&inbox_password_once, inbox_password_init);

    /* -1: not an Argon2id string of this libsodium's */
    return crypto_pwhash_str_needs_rehash(hash,
                                          INBOX_PASSWORD_OPSLIMIT,
                                          INBOX_PASSWORD_MEMLIMIT)
           != 0;
}


int
inbox_password_verify(const char *hash, const char *password, size_t len)
{
    int          matches;
    const char  *against;

    pthread_once(&inbox_password_once, inbox_password_init);

    against = (hash != NULL && hash[0] != '\0') ? hash
                                                : inbox_password_decoy;

    if (against[0] == '\0' || password == NULL) {
        return 0;
    }

    matches = crypto_pwhash_str_verify(against, password, len) == 0;

    return matches && against != inbox_password_decoy;
}
