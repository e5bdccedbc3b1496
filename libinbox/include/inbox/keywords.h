/*
 * Opt-out, opt-in and help keywords in an inbound message, and the texts
 * that answer them.
 *
 * A message is a keyword only as a whole: "STOP please" is not one.  It
 * is compared once normalized:
 *
 * - NFKC_Casefold (ICU): case folded, and compatibility forms made plain,
 *   so that "Stop", "ＳＴＯＰ" (full-width) and "STOP" with a zero-width
 *   space all match; default-ignorable characters are dropped, and so are
 *   accents ("ARRÊT" is "arret");
 * - trimmed of Unicode white space (White_Space: also no-break and
 *   ideographic spaces, line breaks), and runs of it inside made one
 *   space ("stop  all" is "stop all");
 * - punctuation and symbols, emoji among them, are white space too:
 *   "Stop.", "STOP!!", "\"stop\"" and "🛑 stop" are STOP, "opt-out" is
 *   "opt out" (FCC 24-18: the word itself revokes consent);
 * - one word said again and again is said once: "STOP STOP".
 *
 * Words beside it are still not a keyword ("STOP please", "stop, thanks"),
 * nor is anything with digits, another script or bytes that are not
 * UTF-8.
 *
 * Opt-out: stop, stopall, unsubscribe, cancel, end, quit, revoke, optout,
 * "stop all", "opt out", and Canada's French arret ("ARRÊT").  Opt-in:
 * start, unstop, yes.  Help: help, info, aide.
 * A message longer than INBOX_KEYWORD_BYTES_MAX bytes is none of them.
 *
 * Each keyword is English or French, and is answered in its own language:
 * Canada's bilingual rule (CWTA) wants ARRÊT and AIDE to work and to be
 * answered in French.  Every opt-in keyword is English today, so START
 * is answered in English.
 */
#ifndef INBOX_KEYWORDS_H
#define INBOX_KEYWORDS_H

#include <stddef.h>
#include <stdint.h>

#define INBOX_KEYWORD_BYTES_MAX  256
/* HELP is answered at most once a day per contact (ms) */
#define INBOX_KEYWORD_HELP_INTERVAL_MS  (24 * 60 * 60 * 1000LL)

typedef enum {
    INBOX_KEYWORD_NONE = 0,
    INBOX_KEYWORD_OPT_OUT,
    INBOX_KEYWORD_OPT_IN,
    INBOX_KEYWORD_HELP
} inbox_keyword_t;

/* The language a keyword was written in, and its answer is written in. */
typedef enum {
    INBOX_KEYWORD_LANG_EN = 0,
    INBOX_KEYWORD_LANG_FR
} inbox_keyword_lang_t;

/* What body (len bytes of UTF-8; invalid bytes count as U+FFFD) is, and
 * (unless lang is NULL) the keyword's language: English for
 * INBOX_KEYWORD_NONE. */
inbox_keyword_t inbox_keyword_match(const char *body, size_t len,
    inbox_keyword_lang_t *lang);

/*
 * What a message does to its thread's wait for a response
 * (inbox_conversation_unresponded), by its keyword (INBOX_KEYWORD_NONE:
 * none) and whether it opted its contact out or in (opt_changed): a
 * message waits for one; HELP and an opt-in that opted back in do not
 * (the inbox or the carrier answers them); an opt-out ends the wait of
 * the messages before it too, since no reply can go to the contact now
 * (it counts as their response).  An opt-in word from a contact who was
 * not opted out ("Yes") is a message like any other, and waits.
 */
typedef enum {
    INBOX_WAIT_STARTS = 0,
    INBOX_WAIT_KEPT,
    INBOX_WAIT_ENDS
} inbox_wait_t;

inbox_wait_t inbox_keyword_wait(inbox_keyword_t keyword, int opt_changed);

/*
 * Whether the inbox answers a keyword message it stored now (at, ms): an
 * opt-out that opted its contact out (opt_changed), an opt-in that opted
 * it back in, each once (a repeated STOP changes nothing and is not
 * answered again), and HELP when the contact's last answered HELP
 * (help_answered_at, 0 for none) is INBOX_KEYWORD_HELP_INTERVAL_MS or
 * more before at: an answer is free and goes even with billing inactive,
 * so a contact (or a bot) texting HELP again and again gets one a day;
 * never when the number's carrier answers keywords itself
 * (carrier_answers: Twilio's default opt-out handling and Telnyx answer
 * STOP, START and HELP, and refuse any send after a STOP, so the inbox's
 * confirmation would fail and HELP be answered twice).
 */
int inbox_keyword_answered(inbox_keyword_t keyword, int opt_changed,
    int carrier_answers, int64_t help_answered_at, int64_t at);

/*
 * The one text a keyword is answered with, in lang (the keyword's own,
 * from inbox_keyword_match), naming the business (the organization's
 * business_name; NULL or blank: the texts speak of "this number"
 * instead):
 *
 *   opt-out  the business, no further messages, how to opt back in
 *   opt-in   the business, subscribed again, HELP and STOP (French: AIDE
 *            and ARRÊT)
 *   help     the business, its support contact (support_contact; NULL
 *            or blank: replying to this number), how to stop
 *
 * No marketing in any of them (FCC 24-18 allows one confirmation, nothing
 * more).  The English texts are GSM-7, one segment with a short name; the
 * French ones are UCS-2 ("ê", "Ê"), two segments with a short name; the
 * names are as given, trimmed.  A malloc'd, NUL-terminated string the
 * caller frees; NULL for INBOX_KEYWORD_NONE or when out of memory.
 */
char *inbox_keyword_reply(inbox_keyword_t keyword, inbox_keyword_lang_t lang,
    const char *business_name, const char *support_contact);

#endif
