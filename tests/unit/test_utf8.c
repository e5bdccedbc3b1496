/*
 * Strict UTF-8 (RFC 3629) and repair by substitution of maximal subparts,
 * checked against the Unicode Standard's own example (table 3-8) and the
 * forms a lenient check lets through.
 */
#include <stdlib.h>
#include <string.h>
#include <inbox/utf8.h>
#include "check.h"


#define R  INBOX_UTF8_REPLACEMENT


static void
check_repair(const char *in, size_t len, const char *expected,
    size_t expected_chars)
{
    char    *out;
    size_t   out_len;

    out = inbox_utf8_repair(in, len, &out_len);
    CHECK(out != NULL);
    if (out == NULL) {
        return;
    }

    CHECK_STR(out, expected);
    CHECK_INT(out_len, strlen(expected));
    CHECK(inbox_utf8_valid(out, out_len));
    CHECK_INT(inbox_utf8_length(in, len), expected_chars);
    free(out);
}


TEST(utf8_accepts_every_well_formed_sequence_kind)
{
    static const char  ok[] =
        "a\x7F" "\xC2\x80\xDF\xBF" "\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80"
        "\xEF\xBF\xBF" "\xF0\x90\x80\x80\xF4\x8F\xBF\xBF";

    CHECK(inbox_utf8_valid("", 0));
    CHECK(inbox_utf8_valid(ok, sizeof(ok) - 1));
    CHECK_INT(inbox_utf8_length(ok, sizeof(ok) - 1), 10);
    /* a NUL is a character; the length says where the string ends */
    CHECK(inbox_utf8_valid("a\0b", 3));
}


TEST(utf8_refuses_overlongs_surrogates_beyond_max_and_truncation)
{
    CHECK(!inbox_utf8_valid("\xC0\xAF", 2));            /* overlong '/' */
    CHECK(!inbox_utf8_valid("\xC1\xBF", 2));
    CHECK(!inbox_utf8_valid("\xE0\x9F\xBF", 3));        /* overlong */
    CHECK(!inbox_utf8_valid("\xF0\x8F\xBF\xBF", 4));    /* overlong */
    CHECK(!inbox_utf8_valid("\xED\xA0\x80", 3));        /* U+D800 */
    CHECK(!inbox_utf8_valid("\xED\xBF\xBF", 3));        /* U+DFFF */
    CHECK(!inbox_utf8_valid("\xF4\x90\x80\x80", 4));    /* U+110000 */
    CHECK(!inbox_utf8_valid("\xF5\x80\x80\x80", 4));
    CHECK(!inbox_utf8_valid("\xFF", 1));
    CHECK(!inbox_utf8_valid("\x80", 1));                /* lone trail */
    CHECK(!inbox_utf8_valid("\xE2\x82", 2));            /* truncated */
    CHECK(!inbox_utf8_valid("\xF0\x9F\x91", 3));
    CHECK(!inbox_utf8_valid("ok\xC3", 3));
}


TEST(utf8_repair_follows_the_unicode_example)
{
    /* Unicode Standard, table 3-8 */
    check_repair("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64", 13,
                 "a" R R R "b" R "c" R R "d", 10);
}


TEST(utf8_repair_of_each_ill_formed_kind)
{
    /* the surrogate's lead cannot take A0: three subparts of one byte */
    check_repair("s\xED\xA0\x80", 4, "s" R R R, 4);
    check_repair("o\xC0\xAF", 3, "o" R R, 3);
    check_repair("f\xF5", 2, "f" R, 2);
    check_repair("m\xF4\x90\x80\x80", 5, "m" R R R R, 5);
    /* a truncated sequence is one subpart, however long */
    check_repair("t\xF0\x9F\x91!", 5, "t" R "!", 3);
    check_repair("e\xE2\x82", 3, "e" R, 2);
    /* valid text comes out unchanged */
    check_repair("caf\xC3\xA9 \xF0\x9F\x91\x8B", 10,
                 "caf\xC3\xA9 \xF0\x9F\x91\x8B", 6);
    check_repair("", 0, "", 0);
}


RUN_TESTS()
