/*
 * Send again: a person's reply that did not reach the phone, sent again
 * as a new message (a reply naming it, inbox_reply_t's resend_of).  The
 * rule of which message may be, once for the server and every backend;
 * a message's JSON says it (can_send_again), which is what the browser
 * shows the button by.
 *
 * The store marks the failed message in the write that makes the new
 * one (resent_as, resent_at), so that only one Send again of it ever
 * goes, whichever browser pressed it.
 */
#ifndef INBOX_RESEND_H
#define INBOX_RESEND_H

#include <inbox/error.h>
#include <inbox/model.h>
#include <inbox/reply.h>

/*
 * Whether a message of reason error_code (status: its delivery's name)
 * did not reach the phone for a reason another try may mend: failed or
 * undelivered, and not the contact's opt-out (at the inbox or the
 * carrier), a number that takes no texts, a text or picture the carrier
 * does not take, the contact's block, a campaign's cancellation or a
 * keyword answer's lateness.
 */
int inbox_resend_worth(const char *status, const char *error_code);

/*
 * Whether m, as its row has it now, may be sent again: a person's reply
 * (sent_by, no campaign) that failed for a reason another try may mend
 * (inbox_resend_worth), not sent again yet.  A send naming it would pass
 * inbox_resend_check's own refusals (no 400 nor 409); the reply's (the
 * contact opted out since, billing) are the send's to say.
 */
int inbox_resend_can(const inbox_message_t *m);

/*
 * Whether reply (resend_of set) may send m again, m being the message
 * of that id as its store read it in the reply's write (found 0: none
 * of the organization): INBOX_ERR_NOT_FOUND naming "resend_of" when
 * there is none, or it is of another conversation; INBOX_ERR_INVALID
 * naming "resend_of" for one that is no person's reply that failed for a
 * reason another try may mend (inbox_resend_worth; a campaign's, an
 * automatic answer, an inbound message); INBOX_ERR_ALREADY_SENT_AGAIN,
 * err->last_message_id naming the new message, for one sent again
 * before.
 */
inbox_status_t inbox_resend_check(const inbox_reply_t *reply,
    const inbox_message_t *m, int found, inbox_error_t *err);

/* INBOX_ERR_ALREADY_SENT_AGAIN naming the message it went as (as), in
 * the same words whichever backend found it so. */
inbox_status_t inbox_resend_taken(inbox_error_t *err, const char *as);

#endif
