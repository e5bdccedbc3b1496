/*
 * SMS segments and credits: the encoding a body needs, the 160/153 and
 * 70/67 edges, and what never straddles two parts (an escape pair, a
 * surrogate pair, a grapheme cluster), each where naive counting would
 * give another answer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inbox/segments.h>
#include "check.h"


#define CYR    "\xd0\xb6"                  /* U+0436, UCS-2, 1 unit */
#define EURO   "\xe2\x82\xac"              /* GSM-7 extension: 2 septets */
#define GRIN   "\xf0\x9f\x98\x80"          /* U+1F600: a surrogate pair */
#define FLAG   "\xf0\x9f\x87\xba\xf0\x9f\x87\xb8"      /* US: 2 RIs */
#define FAMILY "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d" \
               "\xf0\x9f\x91\xa7\xe2\x80\x8d\xf0\x9f\x91\xa6"
#define THUMB  "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd"      /* + skin tone */
#define HEART  "\xe2\x9d\xa4\xef\xb8\x8f"  /* U+2764 U+FE0F */
#define E_ACUTE_COMBINING  "e\xcc\x81"     /* e + U+0301 */


/* A malloc'd string of the pieces given, each repeated its count:
 * rep(3, "a", 1, EURO, 0) is "aaa€". */
static char *
rep(int n, const char *s, ...)
{
    char        *out;
    size_t       len, cap;
    va_list      ap;
    const char  *piece;
    int          count, i;

    cap = 1;
    va_start(ap, s);
    for (piece = s, count = n; piece != NULL; ) {
        cap += strlen(piece) * (size_t) count;
        count = va_arg(ap, int);
        if (count == 0) {
            break;
        }
        piece = va_arg(ap, const char *);
    }
    va_end(ap);

    out = malloc(cap);
    len = 0;

    va_start(ap, s);
    for (piece = s, count = n; piece != NULL; ) {
        for (i = 0; i < count; i++) {
            memcpy(out + len, piece, strlen(piece));
            len += strlen(piece);
        }
        count = va_arg(ap, int);
        if (count == 0) {
            break;
        }
        piece = va_arg(ap, const char *);
    }
    va_end(ap);

    out[len] = '\0';
    return out;
}


typedef struct {
    const char  *name;
    char        *body;
    const char  *encoding;
    unsigned     segments;
    unsigned     units;
    unsigned     remaining;
    unsigned     characters;
} seg_case_t;


static void
check_case(const seg_case_t *c)
{
    inbox_segments_t  seg;

    inbox_segments_count(c->body, strlen(c->body), &seg);

    if (strcmp(inbox_sms_encoding_name(seg.encoding), c->encoding) != 0
        || seg.segments != c->segments || seg.units != c->units
        || seg.remaining != c->remaining || seg.characters != c->characters)
    {
        fprintf(stderr, "    %s: %s %u segments, %u units, %u left, "
                "%u characters; expected %s %u, %u, %u, %u\n", c->name,
                inbox_sms_encoding_name(seg.encoding), seg.segments,
                seg.units, seg.remaining, seg.characters, c->encoding,
                c->segments, c->units, c->remaining, c->characters);
        check_failed_now = 1;
    }
}


static void
run_cases(seg_case_t *cases, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        check_case(&cases[i]);
        free(cases[i].body);
    }
}


TEST(gsm7_edges)
{
    seg_case_t  cases[] = {
        { "empty", rep(0, "a", 0), "GSM-7", 0, 0, 160, 0 },
        { "one", rep(1, "a", 0), "GSM-7", 1, 1, 159, 1 },
        { "160", rep(160, "a", 0), "GSM-7", 1, 160, 0, 160 },
        { "161", rep(161, "a", 0), "GSM-7", 2, 161, 145, 161 },
        { "153x2", rep(306, "a", 0), "GSM-7", 2, 306, 0, 306 },
        { "153x2+1", rep(307, "a", 0), "GSM-7", 3, 307, 152, 307 },
        { "153x3", rep(459, "a", 0), "GSM-7", 3, 459, 0, 459 },
        { "153x3+1", rep(460, "a", 0), "GSM-7", 4, 460, 152, 460 },
        { "153x10", rep(1530, "a", 0), "GSM-7", 10, 1530, 0, 1530 },
        /* the whole basic table outside ASCII stays GSM-7 */
        { "latin and greek",
          rep(1, "\xc2\xa1\xc2\xa3\xc2\xa4\xc2\xa5\xc2\xa7\xc2\xbf\xc3\x84"
              "\xc3\x85\xc3\x86\xc3\x87\xc3\x89\xc3\x91\xc3\x96\xc3\x98"
              "\xc3\x9c\xc3\x9f\xc3\xa0\xc3\xa4\xc3\xa5\xc3\xa6\xc3\xa8"
              "\xc3\xa9\xc3\xac\xc3\xb1\xc3\xb2\xc3\xb6\xc3\xb8\xc3\xb9"
              "\xc3\xbc\xce\x93\xce\x94\xce\x98\xce\x9b\xce\x9e\xce\xa0"
              "\xce\xa3\xce\xa6\xce\xa8\xce\xa9@$_\n\r", 0),
          "GSM-7", 1, 44, 116, 44 },
        /* CR LF is one grapheme cluster, two septets */
        { "crlf", rep(1, "a\r\nb", 0), "GSM-7", 1, 4, 156, 3 },
    };

    run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}


TEST(gsm7_escapes)
{
    seg_case_t  cases[] = {
        { "each extension character takes two septets",
          rep(1, "^{}\\[]~|" EURO "\f", 0), "GSM-7", 1, 20, 140, 10 },
        { "80 euros fill one segment", rep(80, EURO, 0),
          "GSM-7", 1, 160, 0, 80 },
        { "81 euros", rep(81, EURO, 0), "GSM-7", 2, 162, 143, 81 },
        /* 152 + escape: the pair does not fit the first part's last
         * septet and moves whole; naive counting says 306 = 2 x 153 */
        { "escape at the boundary", rep(152, "a", 1, EURO, 152, "a", 0),
          "GSM-7", 3, 306, 152, 305 },
        { "escape just before the boundary",
          rep(151, "a", 1, EURO, 153, "a", 0), "GSM-7", 2, 306, 0, 305 },
    };

    run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}


TEST(ucs2_edges)
{
    seg_case_t  cases[] = {
        { "70", rep(70, CYR, 0), "UCS-2", 1, 70, 0, 70 },
        { "71", rep(71, CYR, 0), "UCS-2", 2, 71, 63, 71 },
        { "67x2", rep(134, CYR, 0), "UCS-2", 2, 134, 0, 134 },
        { "67x2+1", rep(135, CYR, 0), "UCS-2", 3, 135, 66, 135 },
        { "67x3", rep(201, CYR, 0), "UCS-2", 3, 201, 0, 201 },
        { "67x3+1", rep(202, CYR, 0), "UCS-2", 4, 202, 66, 202 },
        /* one character outside GSM-7 makes everything UCS-2: the euro
         * then costs one unit, not two septets */
        { "one outside GSM-7", rep(1, CYR, 69, EURO, 0),
          "UCS-2", 1, 70, 0, 70 },
        { "a backtick is not GSM-7", rep(160, "a", 1, "`", 0),
          "UCS-2", 3, 161, 40, 161 },
        { "a curly quote is not GSM-7", rep(1, "it\xe2\x80\x99s", 0),
          "UCS-2", 1, 4, 66, 4 },
        { "a tab is not GSM-7", rep(1, "a\tb", 0), "UCS-2", 1, 3, 67, 3 },
    };

    run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}


TEST(emoji_and_clusters)
{
    seg_case_t  cases[] = {
        { "an emoji is a surrogate pair", rep(1, GRIN, 0),
          "UCS-2", 1, 2, 68, 1 },
        { "35 emoji fill one segment", rep(35, GRIN, 0),
          "UCS-2", 1, 70, 0, 35 },
        { "36 emoji", rep(36, GRIN, 0), "UCS-2", 2, 72, 61, 36 },
        /* 66 + pair: the pair does not fit the last unit and moves;
         * naive counting says 134 = 2 x 67 */
        { "surrogate pair at the boundary",
          rep(66, CYR, 1, GRIN, 66, CYR, 0), "UCS-2", 3, 134, 66, 133 },
        { "a flag is one character of four units", rep(1, FLAG, 0),
          "UCS-2", 1, 4, 66, 1 },
        { "two flags", rep(2, FLAG, 0), "UCS-2", 1, 8, 62, 2 },
        { "a ZWJ family is one character of eleven units",
          rep(1, FAMILY, 0), "UCS-2", 1, 11, 59, 1 },
        { "emoji modifier", rep(1, THUMB, 0), "UCS-2", 1, 4, 66, 1 },
        { "variation selector", rep(1, HEART, 0), "UCS-2", 1, 2, 68, 1 },
        { "combining mark", rep(1, E_ACUTE_COMBINING, 0),
          "UCS-2", 1, 2, 68, 1 },
        /* 65 + flag: cutting between its pairs would fill the first part
         * exactly and need 2; whole, it moves and needs 3 */
        { "flag at the boundary", rep(65, CYR, 1, FLAG, 64, CYR, 0),
          "UCS-2", 3, 133, 66, 130 },
        { "ZWJ family at the boundary",
          rep(60, CYR, 1, FAMILY, 60, CYR, 0), "UCS-2", 3, 131, 63, 121 },
        { "combining mark at the boundary",
          rep(66, CYR, 1, E_ACUTE_COMBINING, 66, CYR, 0),
          "UCS-2", 3, 134, 66, 133 },
    };

    run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}


TEST(cluster_longer_than_a_part_is_cut_between_code_points)
{
    inbox_segments_t  seg;
    char             *body;

    /* "a" with 100 combining acute accents: one character of 101 units */
    body = rep(1, "a", 100, "\xcc\x81", 0);
    inbox_segments_count(body, strlen(body), &seg);
    CHECK_STR(inbox_sms_encoding_name(seg.encoding), "UCS-2");
    CHECK_INT(seg.characters, 1);
    CHECK_INT(seg.units, 101);
    CHECK_INT(seg.segments, 2);
    CHECK_INT(seg.remaining, 33);
    free(body);
}


/* The character the composer names as what made a body UCS-2: the
 * whole grapheme cluster of the first code point outside GSM-7. */
static void
check_first_ucs2(const char *body, const char *expected)
{
    size_t            len;
    inbox_segments_t  seg;

    inbox_segments_count(body, strlen(body), &seg);

    len = expected ? strlen(expected) : 0;

    if (seg.first_ucs2_len != len
        || (len && (seg.first_ucs2 + len > strlen(body)
                    || memcmp(body + seg.first_ucs2, expected, len) != 0)))
    {
        fprintf(stderr, "    \"%s\": the first UCS-2 character at %zu, "
                "%zu bytes; expected \"%s\"\n", body, seg.first_ucs2,
                seg.first_ucs2_len, expected ? expected : "(none)");
        check_failed_now = 1;
    }
}


TEST(first_ucs2_names_what_made_the_body_ucs2)
{
    /* GSM-7, escapes included: nothing to name */
    check_first_ucs2("", NULL);
    check_first_ucs2("Hello {world} " EURO, NULL);

    check_first_ucs2("it\xe2\x80\x99s", "\xe2\x80\x99");
    check_first_ucs2("see you " GRIN " later " CYR, GRIN);
    check_first_ucs2("a`b", "`");

    /* the whole character as a person sees it, not half of it */
    check_first_ucs2("go " FAMILY "!", FAMILY);
    check_first_ucs2("ok " THUMB, THUMB);
    check_first_ucs2("ok " FLAG, FLAG);
    /* GSM-7 "e" with a combining accent: the accented letter */
    check_first_ucs2("caf" E_ACUTE_COMBINING " " GRIN, E_ACUTE_COMBINING);
    /* an invalid byte counts as U+FFFD, outside GSM-7 */
    check_first_ucs2("a\xff" "b", "\xff");
}


TEST(invalid_utf8_counts_as_replacement)
{
    inbox_segments_t  seg;

    inbox_segments_count("a\xff" "b", 3, &seg);
    CHECK_STR(inbox_sms_encoding_name(seg.encoding), "UCS-2");
    CHECK_INT(seg.units, 3);
    CHECK_INT(seg.code_points, 3);

    /* a truncated sequence at the end */
    inbox_segments_count("ab\xf0\x9f", 4, &seg);
    CHECK_INT(seg.code_points, 3);
}


TEST(credits_per_started_block_of_480_characters)
{
    char  *body;

    CHECK_INT(inbox_message_credits("", 0), 0);
    CHECK_INT(inbox_message_credits("hi", 0), 1);

    body = rep(480, "a", 0);
    CHECK_INT(inbox_message_credits(body, 0), 1);
    free(body);

    body = rep(481, "a", 0);
    CHECK_INT(inbox_message_credits(body, 0), 2);
    free(body);

    /* domain.md's example */
    body = rep(700, "a", 0);
    CHECK_INT(inbox_message_credits(body, 0), 2);
    free(body);

    body = rep(961, "a", 0);
    CHECK_INT(inbox_message_credits(body, 0), 3);
    free(body);

    /* characters are what a person sees: 480 flags are 480, not 960
     * code points or 1920 units */
    body = rep(480, FLAG, 0);
    CHECK_INT(inbox_message_credits(body, 0), 1);
    free(body);

    body = rep(240, FAMILY, 241, "a", 0);
    CHECK_INT(inbox_message_credits(body, 0), 2);
    free(body);
}


TEST(mms_costs_two_whatever_its_length)
{
    char  *body;

    CHECK_INT(inbox_message_credits("", 1), 2);
    CHECK_INT(inbox_message_credits("look", 3), 2);

    body = rep(1600, "a", 0);
    CHECK_INT(inbox_message_credits(body, 1), 2);
    free(body);
}


TEST(message_check)
{
    char           *body;
    inbox_error_t   err;

    CHECK_INT(inbox_message_check("hi", 2, 0, &err), INBOX_OK);
    CHECK_INT(inbox_message_check("", 0, 1, &err), INBOX_OK);

    CHECK_INT(inbox_message_check("", 0, 0, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "body");
    CHECK(strstr(err.message, "empty") != NULL);

    /* blank is empty, Unicode spaces too */
    CHECK_INT(inbox_message_check(" \n\xe3\x80\x80", 5, 0, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "body");

    CHECK_INT(inbox_message_check("a\xff", 2, 0, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "body");

    CHECK_INT(inbox_message_check("hi", 2, 11, &err), INBOX_ERR_INVALID);
    CHECK_STR(err.field, "media_ids");
    CHECK_INT(inbox_message_check("hi", 2, 10, &err), INBOX_OK);

    /* an MMS's text: too long for an SMS, not for Twilio */
    body = rep(1600, CYR, 0);
    CHECK_INT(inbox_message_check(body, strlen(body), 1, &err), INBOX_OK);
    free(body);

    body = rep(1601, "a", 0);
    CHECK_INT(inbox_message_check(body, strlen(body), 1, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "body");
    CHECK(strstr(err.message, "is 1 character too long") != NULL);
    CHECK(strstr(err.message, "1600") != NULL);
    /* nothing here counts 2: no word of emoji */
    CHECK(strstr(err.message, "emoji") == NULL);
    free(body);
}


TEST(body_limit_is_counted_in_utf16_units_as_twilio_counts_it)
{
    char           *body;
    inbox_error_t   err;

    /* an MMS's text (an SMS is held to 10 segments first): 800 emoji
     * are 1600 units, what Twilio takes */
    body = rep(800, GRIN, 0);
    CHECK_INT(inbox_message_check(body, strlen(body), 1, &err), INBOX_OK);
    free(body);

    /* 900 are 900 code points but 1800 units: Twilio's 21617, so refused
     * here, saying by how much */
    body = rep(900, GRIN, 0);
    CHECK_INT(inbox_message_check(body, strlen(body), 1, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "body");
    CHECK(strstr(err.message, "200 characters too long") != NULL);
    CHECK(strstr(err.message, "emoji as 2") != NULL);
    CHECK(strstr(err.message, "1800") != NULL);
    free(body);

    /* one unit over */
    body = rep(799, GRIN, 3, "a", 0);
    CHECK_INT(inbox_message_check(body, strlen(body), 1, &err),
              INBOX_ERR_INVALID);
    CHECK(strstr(err.message, "1 character too long") != NULL);
    free(body);

    /* BMP characters count one whatever their bytes: 1600 of U+2764 */
    body = rep(1600, "\xe2\x9d\xa4", 0);
    CHECK_INT(inbox_message_check(body, strlen(body), 1, &err), INBOX_OK);
    free(body);
}


TEST(an_sms_is_at_most_ten_segments)
{
    char           *body;
    inbox_error_t   err;

    CHECK_INT(INBOX_SMS_SEGMENTS_MAX, 10);

    /* GSM-7: 10 parts of 153 septets go, one more septet does not */
    body = rep(1530, "a", 0);
    CHECK_INT(inbox_message_check(body, strlen(body), 0, &err), INBOX_OK);
    free(body);

    body = rep(1531, "a", 0);
    CHECK_INT(inbox_message_check(body, strlen(body), 0, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "body");
    CHECK_STR(err.message, "The message is 11 segments (GSM-7): the limit "
              "is 10, so shorten it.");
    free(body);

    /* 1700 characters: over Twilio's 1600 too, but the segments are
     * said (shortening by 100 would not make it go) */
    body = rep(1700, "a", 0);
    CHECK_INT(inbox_message_check(body, strlen(body), 0, &err),
              INBOX_ERR_INVALID);
    CHECK(strstr(err.message, "is 12 segments") != NULL);
    CHECK(strstr(err.message, "too long") == NULL);
    free(body);

    /* the limit is parts as packed, not septets over 153: an escape pair
     * is never cut, so a part holds 76 euros and 761 (1522 septets, under
     * 1530) are 11 parts */
    body = rep(760, EURO, 0);
    CHECK_INT(inbox_message_check(body, strlen(body), 0, &err), INBOX_OK);
    free(body);

    body = rep(761, EURO, 0);
    CHECK_INT(inbox_message_check(body, strlen(body), 0, &err),
              INBOX_ERR_INVALID);
    CHECK(strstr(err.message, "11 segments (GSM-7)") != NULL);
    free(body);

    /* UCS-2: 10 parts of 67 units, 670 characters */
    body = rep(670, CYR, 0);
    CHECK_INT(inbox_message_check(body, strlen(body), 0, &err), INBOX_OK);
    free(body);

    body = rep(671, CYR, 0);
    CHECK_INT(inbox_message_check(body, strlen(body), 0, &err),
              INBOX_ERR_INVALID);
    CHECK_STR(err.field, "body");
    CHECK(strstr(err.message, "11 segments (UCS-2)") != NULL);
    free(body);

    /* 900 emoji: the segments are said, not Twilio's 1600 (the tighter
     * limit, and the one shortening by 200 would not meet) */
    body = rep(900, GRIN, 0);
    CHECK_INT(inbox_message_check(body, strlen(body), 0, &err),
              INBOX_ERR_INVALID);
    CHECK(strstr(err.message, "28 segments (UCS-2)") != NULL);
    free(body);

    /* an MMS is one message: no segment limit */
    body = rep(1531, "a", 0);
    CHECK_INT(inbox_message_check(body, strlen(body), 1, &err), INBOX_OK);
    free(body);
}


TEST(an_mms_is_sent_as_one_segment_whatever_its_text)
{
    char              *body;
    inbox_segments_t   seg;

    body = rep(400, "a", 0);
    inbox_segments_count(body, strlen(body), &seg);
    CHECK_INT(seg.segments, 3);
    CHECK_INT(inbox_message_segments(&seg, 0), 3);
    CHECK_INT(inbox_message_segments(&seg, 1), 1);
    free(body);

    /* a picture alone */
    inbox_segments_count("", 0, &seg);
    CHECK_INT(inbox_message_segments(&seg, 1), 1);
}


RUN_TESTS()
