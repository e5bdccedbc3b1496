/*
 * API tokens, and the base64 flavours they and tickets are written in.
 */
#include <string.h>
#include <inbox/encoding.h>
#include <inbox/token.h>
#include "check.h"


TEST(token_is_prefixed_base64url_of_32_bytes)
{
    char           token[INBOX_TOKEN_MAX];
    unsigned char  raw[64];
    size_t         i;

    CHECK_INT(inbox_token_generate(token), 0);
    CHECK(strncmp(token, "ibx_", 4) == 0);
    CHECK_INT(strlen(token), 4 + 43);
    for (i = 4; token[i]; i++) {
        CHECK(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789-_", token[i]) != NULL);
    }
    CHECK_INT(inbox_base64url_decode(token + 4, strlen(token + 4), raw,
                                     sizeof(raw)), 32);
}


TEST(tokens_differ)
{
    char  a[INBOX_TOKEN_MAX], b[INBOX_TOKEN_MAX];

    CHECK_INT(inbox_token_generate(a), 0);
    CHECK_INT(inbox_token_generate(b), 0);
    CHECK(strcmp(a, b) != 0);
}


TEST(token_hash_is_hex_sha256)
{
    char  hash[INBOX_TOKEN_HASH_MAX];

    /* SHA-256("abc") from FIPS 180-2 */
    inbox_token_hash("abc", 3, hash);
    CHECK_STR(hash, "ba7816bf8f01cfea414140de5dae2223"
                    "b00361a396177a9cb410ff61f20015ad");

    /* only len bytes count */
    inbox_token_hash("abcdef", 3, hash);
    CHECK_STR(hash, "ba7816bf8f01cfea414140de5dae2223"
                    "b00361a396177a9cb410ff61f20015ad");
}


TEST(base64_round_trips)
{
    char           enc[INBOX_BASE64_LEN(5)];
    unsigned char  dec[8];

    CHECK_INT(inbox_base64_encode((const unsigned char *) "\xfb\xff\x01hi",
                                  5, enc), 8);
    CHECK_STR(enc, "+/8BaGk=");
    CHECK_INT(inbox_base64_decode(enc, 8, dec, sizeof(dec)), 5);
    CHECK(memcmp(dec, "\xfb\xff\x01hi", 5) == 0);

    CHECK_INT(inbox_base64url_encode((const unsigned char *) "\xfb\xff\x01hi",
                                     5, enc), 7);
    CHECK_STR(enc, "-_8BaGk");
    CHECK_INT(inbox_base64url_decode(enc, 7, dec, sizeof(dec)), 5);
    CHECK(memcmp(dec, "\xfb\xff\x01hi", 5) == 0);
}


TEST(base64_decode_rejects_bad_input_and_small_buffers)
{
    unsigned char  dec[8];

    CHECK_INT(inbox_base64_decode("aGk", 3, dec, sizeof(dec)), -1);
    CHECK_INT(inbox_base64_decode("a Gk=", 5, dec, sizeof(dec)), -1);
    CHECK_INT(inbox_base64_decode("-_8B", 4, dec, sizeof(dec)), -1);
    CHECK_INT(inbox_base64_decode("a=Gk", 4, dec, sizeof(dec)), -1);
    CHECK_INT(inbox_base64url_decode("+/8B", 4, dec, sizeof(dec)), -1);
    CHECK_INT(inbox_base64url_decode("aGk=", 4, dec, sizeof(dec)), -1);
    CHECK_INT(inbox_base64url_decode("a", 1, dec, sizeof(dec)), -1);
    /* "hi" needs 2 bytes */
    CHECK_INT(inbox_base64_decode("aGk=", 4, dec, 1), -1);
    CHECK_INT(inbox_base64_decode("aGk=", 4, dec, 2), 2);
    CHECK_INT(inbox_base64url_decode("aGk", 3, dec, 2), 2);
}


RUN_TESTS()
