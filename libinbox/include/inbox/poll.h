/*
 * Polls: a question with 2 to 9 options, sent as one text, and what
 * counts as a recipient's answer.
 *
 * The text sent is the question, then one line per option, numbered
 * from 1: "Which day?\n1) Monday\n2) Friday".
 *
 * An inbound message from a recipient is an answer when it comes within
 * INBOX_POLL_ANSWER_WINDOW_MS of the poll's message going to that
 * recipient (the sender's claim of it to send, on the campaigns' clock;
 * one handed over then parked by a pause or by billing, put off for
 * quiet hours or waiting out a retry counts from when it went, not from
 * its hand-over), the carrier took that message by then (accepted it, or
 * may have: an unknown outcome) and it has not failed since (one still
 * waiting in the outbox, or that failed, was never read: nothing answers
 * it), and, folded as keywords are (fold.h), it is
 *   - an option's number, alone or with one "." or ")" after it ("2",
 *     " 2. ", "2)", full-width digits too), or
 *   - an option's text, both folded,
 * each without trailing ".", "!", "?" or "," and without parentheses
 * around it all ("(2)", "2?", and "yes", "Yes?" and "(Yes!)" answer
 * "YES").
 * The last answer counts; every message still lands in the inbox.
 *
 * Of the recipient's polls within the window (the newest
 * INBOX_POLL_ANSWER_POLLS_MAX, however many campaigns came between), a
 * message answers the newest it names an option of ("1" the newest),
 * and that poll alone counts its recipient replied: not also a campaign
 * the recipient got since (campaign.h).
 */
#ifndef INBOX_POLL_H
#define INBOX_POLL_H

#include <stddef.h>
#include <stdint.h>
#include <inbox/error.h>

#define INBOX_POLL_OPTIONS_MIN       2
#define INBOX_POLL_OPTIONS_MAX       9
#define INBOX_POLL_OPTION_MAX        100    /* characters */
#define INBOX_POLL_ANSWER_WINDOW_MS  (7LL * 24 * 3600 * 1000)
#define INBOX_POLL_ANSWER_POLLS_MAX  16     /* a recipient's newest polls */

/*
 * INBOX_ERR_INVALID unless there are 2 to 9 options (else naming
 * "options"), each 1 to INBOX_POLL_OPTION_MAX characters of UTF-8 once
 * trimmed, none with a control character, no two the same once folded,
 * none that reads as another option's number ("2" may be option 2, not
 * option 1), and none that is an opt-out or help keyword (keywords.h: an
 * answer "Cancel" would unsubscribe the recipient; opt-in words such as
 * "Yes" change nothing for a subscribed recipient and are allowed).  A
 * refusal of one option names it by its index from 0, "options.2" (of
 * two the same, the later), and says it as the poll numbers it, from 1:
 * "Option 3 is the same as option 1."
 */
inbox_status_t inbox_poll_options_check(const char *const *options,
    size_t n, inbox_error_t *err);

/* The text a poll sends (see above; options trimmed); malloc'd, the
 * caller frees; NULL when out of memory. */
char *inbox_poll_text(const char *question, const char *const *options,
    size_t n);

/* s (*len bytes) without ASCII white space at either end: where it
 * starts, *len its length now.  Options are stored so. */
const char *inbox_poll_trim(const char *s, size_t *len);

/* Which option (1..n) body (len bytes) answers, 0 for none. */
unsigned inbox_poll_answer(const char *body, size_t len,
    const char *const *options, size_t n);

/* The earliest time (ms) a poll's message may have gone to its
 * recipient to be answered by a message at "at":
 * INBOX_POLL_ANSWER_WINDOW_MS before it.  A message answers only what
 * went from then to "at" and the carrier took by "at"; each backend's
 * query is bounded by the two on the recipient's sent_at (the hand-over,
 * moved to each claim that takes its message to send: the campaigns'
 * clock, as sending is), which keeps it to the contact's recent
 * recipients. */
int64_t inbox_poll_answer_since(int64_t at);

#endif
