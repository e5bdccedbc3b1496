/*
 * Opt-out and opt-in: where an opt-out comes from and what an opt-out or
 * an opt-in does to a contact, the same for every store backend.
 *
 * A contact opts out by texting an opt-out keyword (see keywords.h), by
 * a person's hand from its thread (FCC 24-18: consent may be revoked "by
 * any reasonable means") or because its carrier refuses our sends
 * (Twilio 21610, Telnyx 40300).  Only the contact can opt back in, by
 * texting an opt-in keyword: no route or command undoes an opt-out.
 * Both are idempotent: a contact opted out stays opted out as it first
 * was (its time, source and keyword), and opting in a contact that is
 * not opted out changes nothing.  A carrier's refusal can come late (a
 * delivery report minutes after the send, or an opt-out the sender
 * tries again while the store is busy): one for a message the carrier
 * took or refused before the contact's last opt-in is older news than
 * that opt-in, and changes nothing.
 *
 * Keywords count in the order the contact sent them, not the order they
 * arrive: a carrier may deliver its webhooks out of order (a retry), and
 * a START sent before a STOP must not opt the contact back in because it
 * came after.  A contact keeps the time of the newest opt-out or opt-in
 * seen (opt_latest_at): a keyword's carrier time (when the carrier got
 * it, else its arrival), and a person's or the carrier's opt-out at its
 * own time, even when it changed nothing (a STOP to a contact opted out
 * already still makes an older START older news).  A keyword sent before
 * that time is stored and shown as ever but changes nothing, and is not
 * answered (keywords.h answers a change).  Each change is an event of the
 * contact's timeline (contact.h) and pushes contact.updated and
 * conversation.updated (event.h).
 */
#ifndef INBOX_OPTOUT_H
#define INBOX_OPTOUT_H

#include <stdint.h>
#include <inbox/contact.h>

typedef enum {
    INBOX_OPT_OUT_KEYWORD = 0,   /* the contact texted STOP or the like */
    INBOX_OPT_OUT_MANUAL,        /* a person, from the thread */
    INBOX_OPT_OUT_CARRIER        /* the carrier refused a send */
} inbox_opt_out_source_t;

#define INBOX_OPT_OUT_SOURCES  (INBOX_OPT_OUT_CARRIER + 1)

/* "keyword", "manual", "carrier"; NULL for anything else. */
const char *inbox_opt_out_source_name(inbox_opt_out_source_t source);

/*
 * The rules, applied to the contact in memory (a backend writes what they
 * decide, and only when they return 1).
 *
 * inbox_contact_opt_out: a contact not opted out becomes opted out at at,
 * from source, by keyword (NULL or "" unless the source is a keyword);
 * one opted out already is left as it is (0).  For the carrier's opt-out
 * sent_at is when the carrier took or refused the message it refused
 * (as the store recorded the carrier's answer): a contact that opted in
 * at or after it is left as it is (0).  Other sources ignore sent_at.
 *
 * A person's or the carrier's opt-out not refused so moves
 * opt_latest_at up to at, even for a contact opted out already.
 *
 * inbox_contact_opt_in: an opted-out contact is opted out no more at at:
 * its time, source and keyword are cleared, and at is its last opt-in;
 * one not opted out is left as it is (0).
 *
 * inbox_contact_opt_keyword: the contact sent keyword, an opt-out one
 * (opt_out 1) or an opt-in one, at sent_at by the carrier's clock (its
 * arrival when the carrier gives no time), its message stored at at.
 * One sent before opt_latest_at is older news: nothing changes (0).
 * Otherwise sent_at is opt_latest_at from now on, whether or not the
 * keyword changes the contact, and it opts out (source keyword) or in at
 * at as the two above do.  A backend writes opt_latest_at whenever it
 * moved, and the rest only when the rule returns 1.
 */
int inbox_contact_opt_out(inbox_contact_record_t *contact,
    inbox_opt_out_source_t source, const char *keyword, int64_t at,
    int64_t sent_at);
int inbox_contact_opt_in(inbox_contact_record_t *contact, int64_t at);
int inbox_contact_opt_keyword(inbox_contact_record_t *contact, int opt_out,
    const char *keyword, int64_t at, int64_t sent_at);

/* The keyword a message said, as its contact's record and timeline show
 * it: the message trimmed, ASCII letters in upper case ("  Stop " is
 * "STOP"), cut between characters to fit. */
void inbox_opt_keyword(const char *body, char out[INBOX_KEYWORD_MAX]);

#endif
