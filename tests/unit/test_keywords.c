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


#define EN   INBOX_KEYWORD_LANG_EN
#define FR   INBOX_KEYWORD_LANG_FR


static inbox_keyword_t
kw(const char *s)
{
    return inbox_keyword_match(s, strlen(s), NULL);
}


/* The language of s as a keyword. */
static inbox_keyword_lang_t
lang_of(const char *s)
{
    inbox_keyword_lang_t  lang;

    lang = (inbox_keyword_lang_t) -1;
    (void) inbox_keyword_match(s, strlen(s), &lang);

    return lang;
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
        CHECK_INT(kw(out[i]), INBOX_KEYWORD_OPT_OUT);
    }

    for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        CHECK_INT(kw(in[i]), INBOX_KEYWORD_OPT_IN);
    }

    for (i = 0; i < sizeof(help) / sizeof(help[0]); i++) {
        CHECK_INT(kw(help[i]), INBOX_KEYWORD_HELP);
    }
}


/* Canada's French keywords are French, whatever their case or accent;
 * every other is English, and so is a message that is no keyword. */
TEST(each_keyword_carries_its_language)
{
    CHECK_INT(lang_of("ARR\xc3\x8aT"), FR);
    CHECK_INT(lang_of("Arr\xc3\xaat"), FR);
    CHECK_INT(lang_of(" arret! "), FR);
    CHECK_INT(lang_of("AIDE"), FR);
    CHECK_INT(lang_of("aide"), FR);

    CHECK_INT(lang_of("STOP"), EN);
    CHECK_INT(lang_of("opt-out"), EN);
    CHECK_INT(lang_of("START"), EN);
    CHECK_INT(lang_of("HELP"), EN);
    CHECK_INT(lang_of("INFO"), EN);
    CHECK_INT(lang_of("Bonjour"), EN);
    CHECK_INT(lang_of("arr\xc3\xaat svp"), EN);
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
    CHECK_INT(inbox_keyword_match("STOP\xff", 5, NULL), INBOX_KEYWORD_NONE);
    CHECK_INT(inbox_keyword_match("ST\0OP", 5, NULL), INBOX_KEYWORD_NONE);
}


TEST(long_messages_are_no_keyword)
{
    char  buf[INBOX_KEYWORD_BYTES_MAX + 8];

    /* within the limit, padding is trimmed */
    memset(buf, ' ', sizeof(buf));
    memcpy(buf + INBOX_KEYWORD_BYTES_MAX - 4, "STOP", 4);
    CHECK_INT(inbox_keyword_match(buf, INBOX_KEYWORD_BYTES_MAX, NULL),
              INBOX_KEYWORD_OPT_OUT);

    /* a key of 16 letters, the key buffer's size, is no keyword */
    CHECK_INT(inbox_keyword_match("abcdefghijklmnop", 16, NULL),
              INBOX_KEYWORD_NONE);

    /* beyond it, not read at all */
    CHECK_INT(inbox_keyword_match(buf, INBOX_KEYWORD_BYTES_MAX + 1,
                                  NULL),
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

    text = inbox_keyword_reply(INBOX_KEYWORD_OPT_OUT, EN, "  Acme Dental ",
                               "help@acme.example");
    CHECK_STR(text, "Acme Dental: you are unsubscribed and will get no "
                    "further messages. Reply START to resubscribe.");

    /* one GSM-7 segment, so that it costs the carrier the least */
    inbox_segments_count(text, strlen(text), &seg);
    CHECK_INT(seg.encoding, INBOX_SMS_GSM7);
    CHECK_INT(seg.segments, 1);
    free(text);

    text = inbox_keyword_reply(INBOX_KEYWORD_OPT_OUT, EN, NULL, NULL);
    CHECK_STR(text, "You are unsubscribed and will get no further "
                    "messages from this number. Reply START to "
                    "resubscribe.");
    free(text);

    text = inbox_keyword_reply(INBOX_KEYWORD_OPT_OUT, EN, " \n", NULL);
    CHECK(text != NULL && strncmp(text, "You are", 7) == 0);
    free(text);
}


TEST(opt_in_confirmation)
{
    char  *text;

    text = inbox_keyword_reply(INBOX_KEYWORD_OPT_IN, EN, "Acme", NULL);
    CHECK_STR(text, "Acme: you are subscribed again. Reply HELP for help, "
                    "STOP to unsubscribe.");
    free(text);

    text = inbox_keyword_reply(INBOX_KEYWORD_OPT_IN, EN, "", "x");
    CHECK_STR(text, "You are subscribed to this number again. Reply HELP "
                    "for help, STOP to unsubscribe.");
    free(text);
}


TEST(help_names_business_support_and_how_to_stop)
{
    char  *text;

    text = inbox_keyword_reply(INBOX_KEYWORD_HELP, EN, "Acme",
                               " support@acme.example or +1 555 0100 ");
    CHECK_STR(text, "Acme: for help, contact support@acme.example or "
                    "+1 555 0100. Reply STOP to unsubscribe.");
    free(text);

    /* without a support contact the inbox itself is one */
    text = inbox_keyword_reply(INBOX_KEYWORD_HELP, EN, "Acme", NULL);
    CHECK_STR(text, "Acme: for help, reply to this message. Reply STOP to "
                    "unsubscribe.");
    free(text);

    text = inbox_keyword_reply(INBOX_KEYWORD_HELP, EN, NULL, "help@x.example");
    CHECK_STR(text, "For help, contact help@x.example. Reply STOP to "
                    "unsubscribe.");
    free(text);

    /* a name in another script is kept as written */
    text = inbox_keyword_reply(INBOX_KEYWORD_HELP, EN,
                               "\xd0\x90\xd0\xba\xd0\xbc\xd0\xb5", NULL);
    CHECK(text != NULL
          && strncmp(text, "\xd0\x90\xd0\xba\xd0\xbc\xd0\xb5: ", 10) == 0);
    free(text);

    CHECK(inbox_keyword_reply(INBOX_KEYWORD_NONE, EN, "Acme", NULL) == NULL);
}


/* French (UCS-2 for its "ê" and "Ê"): two segments with a short name,
 * so that an ARRÊT costs the carrier two parts, not three. */
static void
check_two_ucs2_segments(const char *text)
{
    inbox_segments_t  seg;

    CHECK(text != NULL);
    if (text == NULL) {
        return;
    }

    inbox_segments_count(text, strlen(text), &seg);
    CHECK_INT(seg.encoding, INBOX_SMS_UCS2);
    CHECK_INT(seg.segments, 2);
}


TEST(arret_is_confirmed_in_french)
{
    char  *text;

    text = inbox_keyword_reply(INBOX_KEYWORD_OPT_OUT, FR, "  Acme Dental ",
                               "help@acme.example");
    CHECK_STR(text, "Acme Dental : vous \xc3\xaates d\xc3\xa9sabonn\xc3\xa9 "
                    "et ne recevrez plus de messages. R\xc3\xa9pondez START "
                    "pour vous r\xc3\xa9" "abonner.");
    check_two_ucs2_segments(text);
    free(text);

    text = inbox_keyword_reply(INBOX_KEYWORD_OPT_OUT, FR, NULL, NULL);
    CHECK_STR(text, "Vous \xc3\xaates d\xc3\xa9sabonn\xc3\xa9 et ne "
                    "recevrez plus de messages de ce num\xc3\xa9ro. "
                    "R\xc3\xa9pondez START pour vous r\xc3\xa9" "abonner.");
    check_two_ucs2_segments(text);
    free(text);
}


/* No French keyword opts in today (START is English), but the text is
 * there for one: in French, it names the French keywords. */
TEST(an_opt_in_in_french_names_aide_and_arret)
{
    char  *text;

    text = inbox_keyword_reply(INBOX_KEYWORD_OPT_IN, FR, "Acme", NULL);
    CHECK_STR(text, "Acme : vous \xc3\xaates de nouveau abonn\xc3\xa9. "
                    "R\xc3\xa9pondez AIDE pour de l'aide, ARR\xc3\x8aT pour "
                    "vous d\xc3\xa9sabonner.");
    check_two_ucs2_segments(text);
    free(text);

    text = inbox_keyword_reply(INBOX_KEYWORD_OPT_IN, FR, " ", "x");
    CHECK_STR(text, "Vous \xc3\xaates de nouveau abonn\xc3\xa9 \xc3\xa0 ce "
                    "num\xc3\xa9ro. R\xc3\xa9pondez AIDE pour de l'aide, "
                    "ARR\xc3\x8aT pour vous d\xc3\xa9sabonner.");
    check_two_ucs2_segments(text);
    free(text);
}


TEST(aide_is_answered_in_french)
{
    char  *text;

    text = inbox_keyword_reply(INBOX_KEYWORD_HELP, FR, "Acme",
                               " support@acme.example ");
    CHECK_STR(text, "Acme : pour de l'aide, contactez support@acme.example. "
                    "R\xc3\xa9pondez ARR\xc3\x8aT pour vous "
                    "d\xc3\xa9sabonner.");
    check_two_ucs2_segments(text);
    free(text);

    /* without a support contact the inbox itself is one */
    text = inbox_keyword_reply(INBOX_KEYWORD_HELP, FR, "Acme", NULL);
    CHECK_STR(text, "Acme : pour de l'aide, r\xc3\xa9pondez \xc3\xa0 ce "
                    "message. R\xc3\xa9pondez ARR\xc3\x8aT pour vous "
                    "d\xc3\xa9sabonner.");
    check_two_ucs2_segments(text);
    free(text);

    /* without a business name */
    text = inbox_keyword_reply(INBOX_KEYWORD_HELP, FR, NULL, "help@x.example");
    CHECK_STR(text, "Pour de l'aide, contactez help@x.example. "
                    "R\xc3\xa9pondez ARR\xc3\x8aT pour vous "
                    "d\xc3\xa9sabonner.");
    free(text);

    text = inbox_keyword_reply(INBOX_KEYWORD_HELP, FR, "", "");
    CHECK_STR(text, "Pour de l'aide, r\xc3\xa9pondez \xc3\xa0 ce message. "
                    "R\xc3\xa9pondez ARR\xc3\x8aT pour vous "
                    "d\xc3\xa9sabonner.");
    free(text);

    CHECK(inbox_keyword_reply(INBOX_KEYWORD_NONE, FR, "Acme", NULL) == NULL);
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
