/*
 * An outbound message's delivery status, and what each status does to
 * the credits held for it: the rules every store backend follows.
 *
 * Statuses only move forward: queued < sending < sent < a final one
 * (delivered, undelivered or failed).  Carriers report in any order and
 * repeat themselves: a status that is not ahead of the stored one, or
 * any status after a final one, changes nothing (a late "sent" never
 * overwrites "delivered").
 *
 * A reply's credits are held when it is accepted (the balance drops at
 * once) and the hold is settled once, by a final status: captured when
 * delivered (the held credits are spent), released on failure
 * (undelivered or failed, also after "sent": a failed send deducts
 * nothing), captured by a final report of "sent" (the carrier says no
 * receipt will come: Telnyx's message.finalized of delivery_unconfirmed;
 * the status stays "sent", and a later report moves it without touching
 * the credits), or captured when no final status came within a bounded
 * time (INBOX_HOLD_MAX_AGE_DEFAULT, inbox_store_holds_expire: some
 * carriers never confirm delivery and never say so).
 *
 * A carrier may report a status before the sender has recorded the
 * carrier's id for the message (its callback overtakes the answer to
 * the send).  Such an early report is kept, not refused: a carrier that
 * does not retry a refused callback would otherwise leave the message
 * at its first status for good.  When the sender records the id, the
 * early reports for it are applied as if they came then, by the same
 * rules (one kept final settles the hold as it would have).  One that
 * no message claims within INBOX_DELIVERY_EARLY_KEEP_MS is dropped.
 */
#ifndef INBOX_DELIVERY_H
#define INBOX_DELIVERY_H

typedef enum {
    INBOX_DELIVERY_QUEUED = 0,
    INBOX_DELIVERY_SENDING,
    INBOX_DELIVERY_SENT,
    INBOX_DELIVERY_DELIVERED,
    INBOX_DELIVERY_UNDELIVERED,
    INBOX_DELIVERY_FAILED
} inbox_delivery_t;

#define INBOX_DELIVERY_COUNT  (INBOX_DELIVERY_FAILED + 1)

/* How long an early report waits for its message's carrier id. */
#define INBOX_DELIVERY_EARLY_KEEP_MS  (24LL * 60 * 60 * 1000)

/* What a status does to the message's hold. */
typedef enum {
    INBOX_HOLD_KEEP = 0,
    INBOX_HOLD_CAPTURE,
    INBOX_HOLD_RELEASE
} inbox_hold_action_t;

/* The contract's name ("queued", ...); parse returns 0, or -1 for a name
 * that is not one of ours (a carrier's own words are mapped by the
 * carrier's code first). */
const char *inbox_delivery_name(inbox_delivery_t status);
int inbox_delivery_parse(const char *name, inbox_delivery_t *status);

/* Whether status is final (delivered, undelivered, failed). */
int inbox_delivery_final(inbox_delivery_t status);

/* Whether status says the message never reached the phone (undelivered,
 * failed). */
int inbox_delivery_missed(inbox_delivery_t status);

/* Whether a message at status from moves to to: 1 when to is ahead and
 * from is not final, else 0 (a repeat, a late report, anything after a
 * final status). */
int inbox_delivery_moves(inbox_delivery_t from, inbox_delivery_t to);

/* The statuses a message may be at for to to move it, in *from (room
 * for INBOX_DELIVERY_COUNT); returns how many (0 when to moves nothing).
 * For a backend that moves a status by compare-and-set. */
unsigned inbox_delivery_before(inbox_delivery_t to,
    inbox_delivery_t from[INBOX_DELIVERY_COUNT]);

/*
 * What a report does to a standing hold: status is the message's status
 * after it (the reported one when it moved, else the one it stays at),
 * final whether the carrier said it will report nothing more.  Delivered
 * captures, undelivered or failed release; a final report leaving any
 * other status (Telnyx's delivery_unconfirmed, "sent") captures, as the
 * hold's expiry would; anything else keeps it.
 */
inbox_hold_action_t inbox_delivery_hold(inbox_delivery_t status, int final);

#endif
