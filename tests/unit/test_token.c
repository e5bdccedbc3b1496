/*
 * API tokens (their form, names, and the rule that says whether one still
 * counts), the durations they last, and the base64 flavours they and
 * tickets are written in.
 */
#include <string.h>
#include <inbox/clock.h>
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


TEST(a_revoked_token_is_revoked_whatever_its_expiry)
{
    CHECK_INT(inbox_token_state(0, 0, 1000), INBOX_TOKEN_ACTIVE);
    CHECK_INT(inbox_token_state(1001, 0, 1000), INBOX_TOKEN_ACTIVE);
    CHECK_INT(inbox_token_state(1000, 0, 1000), INBOX_TOKEN_EXPIRED);
    CHECK_INT(inbox_token_state(999, 0, 1000), INBOX_TOKEN_EXPIRED);
    CHECK_INT(inbox_token_state(0, 500, 1000), INBOX_TOKEN_REVOKED);
    CHECK_INT(inbox_token_state(999, 500, 1000), INBOX_TOKEN_REVOKED);
    CHECK_STR(inbox_token_state_name(INBOX_TOKEN_ACTIVE), "active");
    CHECK_STR(inbox_token_state_name(INBOX_TOKEN_EXPIRED), "expired");
    CHECK_STR(inbox_token_state_name(INBOX_TOKEN_REVOKED), "revoked");
}


TEST(token_check_tells_the_holder_what_to_do)
{
    inbox_error_t  err;

    CHECK_INT(inbox_token_check(0, 0, 1000, &err), INBOX_OK);

    /* 2026-01-01T00:00:00Z */
    CHECK_INT(inbox_token_check(1767225600000LL, 0, 1767225600001LL, &err),
              INBOX_ERR_UNAUTHENTICATED);
    CHECK_STR(err.message, "This API token expired at 2026-01-01T00:00:00Z; "
                           "ask for a new one.");

    CHECK_INT(inbox_token_check(0, 5, 1000, &err), INBOX_ERR_UNAUTHENTICATED);
    CHECK_STR(err.message, "This API token was revoked; ask for a new one.");

    CHECK_INT(inbox_token_unknown(&err), INBOX_ERR_UNAUTHENTICATED);
    CHECK(strstr(err.message, "ask for a new one") != NULL);
}


TEST(token_names_are_short_printable_words)
{
    char  name[80];

    CHECK(inbox_token_name_valid("demo"));
    CHECK(inbox_token_name_valid("ci:deploy/2026-01"));
    CHECK(!inbox_token_name_valid(NULL));
    CHECK(!inbox_token_name_valid(""));
    CHECK(!inbox_token_name_valid("two words"));
    CHECK(!inbox_token_name_valid("tab\t"));
    CHECK(!inbox_token_name_valid("caf\xc3\xa9"));

    memset(name, 'x', sizeof(name));
    name[64] = '\0';
    CHECK(inbox_token_name_valid(name));
    name[64] = 'x';
    name[65] = '\0';
    CHECK(!inbox_token_name_valid(name));
}


TEST(a_token_is_told_from_its_id)
{
    char  token[INBOX_TOKEN_MAX];

    CHECK_INT(inbox_token_generate(token), 0);
    CHECK(inbox_token_is_secret(token));
    CHECK(!inbox_token_is_secret("12"));
    CHECK(!inbox_token_is_secret("665000000000000000000001"));
}


TEST(only_the_form_of_a_token_can_be_one)
{
    char  token[INBOX_TOKEN_MAX], bad[INBOX_TOKEN_MAX + 1];

    CHECK_INT(inbox_token_generate(token), 0);
    CHECK(inbox_token_valid(token, strlen(token)));

    /* the prefix and 43 base64url characters, no more, no fewer */
    memcpy(bad, token, sizeof(token));
    bad[4] = '-';
    bad[5] = '_';
    CHECK(inbox_token_valid(bad, strlen(bad)));
    CHECK(!inbox_token_valid(bad, strlen(bad) - 1));
    strcat(bad, "A");
    CHECK(!inbox_token_valid(bad, strlen(bad)));

    memcpy(bad, token, sizeof(token));
    bad[46] = '=';
    CHECK(!inbox_token_valid(bad, strlen(bad)));
    bad[46] = '+';
    CHECK(!inbox_token_valid(bad, strlen(bad)));
    memcpy(bad, "IBX_", 4);
    bad[46] = 'A';
    CHECK(!inbox_token_valid(bad, strlen(bad)));

    CHECK(!inbox_token_valid("", 0));
    CHECK(!inbox_token_valid("ibx_not-a-token", 15));
    CHECK(!inbox_token_valid("665000000000000000000001", 24));
}


TEST(durations_are_a_number_and_a_unit)
{
    int64_t  ms;

    CHECK_INT(inbox_duration_parse("90s", &ms), 0);
    CHECK_INT(ms, 90000);
    CHECK_INT(inbox_duration_parse("45m", &ms), 0);
    CHECK_INT(ms, 45 * 60000);
    CHECK_INT(inbox_duration_parse("12h", &ms), 0);
    CHECK_INT(ms, 12 * 3600000LL);
    CHECK_INT(inbox_duration_parse("30d", &ms), 0);
    CHECK_INT(ms, 30 * 86400000LL);
    CHECK_INT(inbox_duration_parse("2w", &ms), 0);
    CHECK_INT(ms, 14 * 86400000LL);
    CHECK_INT(inbox_duration_parse("3650d", &ms), 0);
    CHECK_INT(ms, INBOX_DURATION_MAX_MS);

    CHECK_INT(inbox_duration_parse("3651d", &ms), -1);
    CHECK_INT(inbox_duration_parse("99999999999999999999s", &ms), -1);
    CHECK_INT(inbox_duration_parse("0d", &ms), -1);
    CHECK_INT(inbox_duration_parse("30", &ms), -1);
    CHECK_INT(inbox_duration_parse("d", &ms), -1);
    CHECK_INT(inbox_duration_parse("", &ms), -1);
    CHECK_INT(inbox_duration_parse("-1d", &ms), -1);
    CHECK_INT(inbox_duration_parse("1.5h", &ms), -1);
    CHECK_INT(inbox_duration_parse("30days", &ms), -1);
    CHECK_INT(inbox_duration_parse("1y", &ms), -1);
}


RUN_TESTS()
