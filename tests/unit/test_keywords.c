/*
 * Keywords: the whole message, trimmed (Unicode white space too) and case
 * folded, is compared; anything more is an ordinary message.  And the
 * texts that answer them name the business and say what they must.
 */
#include <stdlib.h>
#include <string.h>
#include <inbox/keywords.h>
#include <inbox/segments.h>
#include "check.h"


#define T0   1767225600000LL     /* 2026-01-01T00:00:00Z */
#define DAY  (24 * 3600000LL)


static inbox_keyword_t
kw(const char *s)
{
    return inbox_keyword_match(s, strlen(s));
}


TEST(every_keyword_of_each_kind)
{
    size_t              i;
    static const char  *out[] = {
        "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE",
        "OPTOUT", "stop all", "opt out", "ARRET", "ARR\xc3\x8aT",
        "Arr\xc3\xaat"
    };
    static const char  *in[] = { "START", "UNSTOP", "YES" };
    static const char  *help[] = { "HELP", "INFO", "AIDE" };

    for (i = 0; i < sizeof(out) / sizeof(out[0]); i++) {
        CHECK_STR(inbox_keyword_name(kw(out[i])), "opt_out");
    }

    for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        CHECK_STR(inbox_keyword_name(kw(in[i])), "opt_in");
    }

    for (i = 0; i < sizeof(help) / sizeof(help[0]); i++) {
        CHECK_STR(inbox_keyword_name(kw(help[i])), "help");
    }
}


TEST(case_folded)
{
    CHECK_INT(kw("stop"), INBOX_KEYWORD_OPT_OUT);
    CHECK_INT(kw("Stop"), INBOX_KEYWORD_OPT_OUT);
    CHECK_INT(kw("sToP"), INBOX_KEYWORD_OPT_OUT);
    CHECK_INT(kw("Stop All"), INBOX_KEYWORD_OPT_OUT);
    CHECK_INT(kw("OPT OUT"), INBOX_KEYWORD_OPT_OUT);
    CHECK_INT(kw("Yes"), INBOX_KEYWORD_OPT_IN);
    CHECK_INT(kw("help"), INBOX_KEYWORD_HELP);

    /* full-width letters, as some keyboards write them */
    CHECK_INT(kw("\xef\xbc\xb3\xef\xbc\xb4\xef\xbc\xaf\xef\xbc\xb0"),
              INBOX_KEYWORD_OPT_OUT);
}


TEST(trimmed_of_unicode_white_space)
{
    CHECK_INT(kw("  STOP  "), INBOX_KEYWORD_OPT_OUT);
    CHECK_INT(kw("\tstop\r\n"), INBOX_KEYWORD_OPT_OUT);
    /* no-break space, ideographic space, line separator */
    CHECK_INT(kw("\xc2\xa0STOP\xe3\x80\x80"), INBOX_KEYWORD_OPT_OUT);
    CHECK_INT(kw("START\xe2\x80\xa8"), INBOX_KEYWORD_OPT_IN);
    /* a zero-width space is default-ignorable */
    CHECK_INT(kw("STOP\xe2\x80\x8b"), INBOX_KEYWORD_OPT_OUT);
    /* runs inside a phrase are one space */
    CHECK_INT(kw(" stop \n all "), INBOX_KEYWORD_OPT_OUT);
    CHECK_INT(kw("opt\xc2\xa0out"), INBOX_KEYWORD_OPT_OUT);
}


TEST(punctuation_symbols_and_repeats_are_the_keyword_still)
{
    CHECK_INT(kw("Stop."), INBOX_KEYWORD_OPT_OUT);
    CHECK_INT(kw("STOP!!!"), INBOX_KEYWORD_OPT_OUT);
    CHECK_INT(kw("\"STOP\""), INBOX_KEYWORD_OPT_OUT);
    CHECK_INT(kw("stop \xf0\x9f\x9b\x91"), INBOX_KEYWORD_OPT_OUT);
    CHECK_INT(kw("STOP STOP"), INBOX_KEYWORD_OPT_OUT);
    CHECK_INT(kw("Stop stop stop!"), INBOX_KEYWORD_OPT_OUT);
    CHECK_INT(kw("Unsubscribe."), INBOX_KEYWORD_OPT_OUT);
    CHECK_INT(kw("Cancel."), INBOX_KEYWORD_OPT_OUT);
    CHECK_INT(kw("END."), INBOX_KEYWORD_OPT_OUT);
    CHECK_INT(kw("Opt-out"), INBOX_KEYWORD_OPT_OUT);
    CHECK_INT(kw("opt_out"), INBOX_KEYWORD_OPT_OUT);
    CHECK_INT(kw("stop all!"), INBOX_KEYWORD_OPT_OUT);
    CHECK_INT(kw("Start!"), INBOX_KEYWORD_OPT_IN);
    CHECK_INT(kw("Help?"), INBOX_KEYWORD_HELP);
}


TEST(anything_more_is_no_keyword)
{
    CHECK_INT(kw("STOP please"), INBOX_KEYWORD_NONE);
    CHECK_INT(kw("please stop"), INBOX_KEYWORD_NONE);
    CHECK_INT(kw("stop, thanks"), INBOX_KEYWORD_NONE);
    CHECK_INT(kw("STOP 2"), INBOX_KEYWORD_NONE);
    CHECK_INT(kw("stop stopall"), INBOX_KEYWORD_NONE);
    CHECK_INT(kw("st.op"), INBOX_KEYWORD_NONE);
    CHECK_INT(kw("STOPP"), INBOX_KEYWORD_NONE);
    CHECK_INT(kw("stopall all"), INBOX_KEYWORD_NONE);
    CHECK_INT(kw("st op"), INBOX_KEYWORD_NONE);
    CHECK_INT(kw("optout out"), INBOX_KEYWORD_NONE);
    CHECK_INT(kw("yes please"), INBOX_KEYWORD_NONE);
    CHECK_INT(kw("helpful"), INBOX_KEYWORD_NONE);
    CHECK_INT(kw("Hello"), INBOX_KEYWORD_NONE);
    CHECK_INT(kw(""), INBOX_KEYWORD_NONE);
    CHECK_INT(kw("   "), INBOX_KEYWORD_NONE);
    CHECK_INT(kw("\xf0\x9f\x9b\x91"), INBOX_KEYWORD_NONE);
    CHECK_INT(inbox_keyword_match("STOP\xff", 5), INBOX_KEYWORD_NONE);
    CHECK_INT(inbox_keyword_match("ST\0OP", 5), INBOX_KEYWORD_NONE);
}


TEST(long_messages_are_no_keyword)
{
    char  buf[INBOX_KEYWORD_BYTES_MAX + 8];

    /* within the limit, padding is trimmed */
    memset(buf, ' ', sizeof(buf));
    memcpy(buf + INBOX_KEYWORD_BYTES_MAX - 4, "STOP", 4);
    CHECK_INT(inbox_keyword_match(buf, INBOX_KEYWORD_BYTES_MAX),
              INBOX_KEYWORD_OPT_OUT);

    /* a key of 16 letters, the key buffer's size, is no keyword */
    CHECK_INT(inbox_keyword_match("abcdefghijklmnop", 16),
              INBOX_KEYWORD_NONE);

    /* beyond it, not read at all */
    CHECK_INT(inbox_keyword_match(buf, INBOX_KEYWORD_BYTES_MAX + 1),
              INBOX_KEYWORD_NONE);

    /* a letter that expands under NFKC (U+FDFA: 18 letters) fits no
     * buffer of keywords and is no keyword */
    memset(buf, 0, sizeof(buf));
    while (strlen(buf) + 3 < INBOX_KEYWORD_BYTES_MAX) {
        strcat(buf, "\xef\xb7\xba");
    }
    CHECK_INT(kw(buf), INBOX_KEYWORD_NONE);
}


TEST(opt_out_confirmation_names_the_business)
{
    char              *text;
    inbox_segments_t   seg;

    text = inbox_keyword_reply(INBOX_KEYWORD_OPT_OUT, "  Acme Dental ",
                               "help@acme.example");
    CHECK_STR(text, "Acme Dental: you are unsubscribed and will get no "
                    "further messages. Reply START to resubscribe.");

    /* one GSM-7 segment, so that it costs the carrier the least */
    inbox_segments_count(text, strlen(text), &seg);
    CHECK_INT(seg.encoding, INBOX_SMS_GSM7);
    CHECK_INT(seg.segments, 1);
    free(text);

    text = inbox_keyword_reply(INBOX_KEYWORD_OPT_OUT, NULL, NULL);
    CHECK_STR(text, "You are unsubscribed and will get no further "
                    "messages from this number. Reply START to "
                    "resubscribe.");
    free(text);

    text = inbox_keyword_reply(INBOX_KEYWORD_OPT_OUT, " \n", NULL);
    CHECK(text != NULL && strncmp(text, "You are", 7) == 0);
    free(text);
}


TEST(opt_in_confirmation)
{
    char  *text;

    text = inbox_keyword_reply(INBOX_KEYWORD_OPT_IN, "Acme", NULL);
    CHECK_STR(text, "Acme: you are subscribed again. Reply HELP for help, "
                    "STOP to unsubscribe.");
    free(text);

    text = inbox_keyword_reply(INBOX_KEYWORD_OPT_IN, "", "x");
    CHECK_STR(text, "You are subscribed to this number again. Reply HELP "
                    "for help, STOP to unsubscribe.");
    free(text);
}


TEST(help_names_business_support_and_how_to_stop)
{
    char  *text;

    text = inbox_keyword_reply(INBOX_KEYWORD_HELP, "Acme",
                               " support@acme.example or +1 555 0100 ");
    CHECK_STR(text, "Acme: for help, contact support@acme.example or "
                    "+1 555 0100. Reply STOP to unsubscribe.");
    free(text);

    /* without a support contact the inbox itself is one */
    text = inbox_keyword_reply(INBOX_KEYWORD_HELP, "Acme", NULL);
    CHECK_STR(text, "Acme: for help, reply to this message. Reply STOP to "
                    "unsubscribe.");
    free(text);

    text = inbox_keyword_reply(INBOX_KEYWORD_HELP, NULL, "help@x.example");
    CHECK_STR(text, "For help, contact help@x.example. Reply STOP to "
                    "unsubscribe.");
    free(text);

    /* a name in another script is kept as written */
    text = inbox_keyword_reply(INBOX_KEYWORD_HELP,
                               "\xd0\x90\xd0\xba\xd0\xbc\xd0\xb5", NULL);
    CHECK(text != NULL
          && strncmp(text, "\xd0\x90\xd0\xba\xd0\xbc\xd0\xb5: ", 10) == 0);
    free(text);

    CHECK(inbox_keyword_reply(INBOX_KEYWORD_NONE, "Acme", NULL) == NULL);
}


TEST(the_inbox_answers_a_change_or_help_unless_the_carrier_does)
{
    /* a STOP or START that changed the contact, and a first HELP */
    CHECK(inbox_keyword_answered(INBOX_KEYWORD_OPT_OUT, 1, 0, 0, T0));
    CHECK(inbox_keyword_answered(INBOX_KEYWORD_OPT_IN, 1, 0, 0, T0));
    CHECK(inbox_keyword_answered(INBOX_KEYWORD_HELP, 0, 0, 0, T0));

    /* a repeated STOP, a YES from a contact never opted out, no keyword */
    CHECK(!inbox_keyword_answered(INBOX_KEYWORD_OPT_OUT, 0, 0, 0, T0));
    CHECK(!inbox_keyword_answered(INBOX_KEYWORD_OPT_IN, 0, 0, 0, T0));
    CHECK(!inbox_keyword_answered(INBOX_KEYWORD_NONE, 0, 0, 0, T0));

    /* the carrier answers each itself */
    CHECK(!inbox_keyword_answered(INBOX_KEYWORD_OPT_OUT, 1, 1, 0, T0));
    CHECK(!inbox_keyword_answered(INBOX_KEYWORD_OPT_IN, 1, 1, 0, T0));
    CHECK(!inbox_keyword_answered(INBOX_KEYWORD_HELP, 0, 1, 0, T0));
}


/* A HELP is answered free, billing or not: once a day per contact, so
 * that texting it again and again sends nothing more. */
TEST(help_is_answered_once_a_day)
{
    CHECK(!inbox_keyword_answered(INBOX_KEYWORD_HELP, 0, 0, T0,
                                  T0 + 1));
    CHECK(!inbox_keyword_answered(INBOX_KEYWORD_HELP, 0, 0, T0,
                                  T0 + DAY - 1));
    CHECK(inbox_keyword_answered(INBOX_KEYWORD_HELP, 0, 0, T0, T0 + DAY));
    CHECK(inbox_keyword_answered(INBOX_KEYWORD_HELP, 0, 0, T0,
                                 T0 + 3 * DAY));

    /* a late HELP, older than the one answered */
    CHECK(!inbox_keyword_answered(INBOX_KEYWORD_HELP, 0, 0, T0,
                                  T0 - 60000));

    /* STOP and START are not counted with it */
    CHECK(inbox_keyword_answered(INBOX_KEYWORD_OPT_OUT, 1, 0, T0, T0 + 1));
    CHECK(inbox_keyword_answered(INBOX_KEYWORD_OPT_IN, 1, 0, T0, T0 + 1));
}


RUN_TESTS()
