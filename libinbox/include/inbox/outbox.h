/*
 * The outbox: accepted messages waiting for the sender process, and what
 * the sender reports back, with the rules of claims, retries and
 * outcomes that every store backend follows.
 *
 * The sender claims due entries (inbox_store_outbox_claim): replies
 * before anything else, then the oldest first.  A claim is a lease: the
 * entry is the claimer's until lease_until, and comes back to the next
 * claim when no result was recorded by then (the sender crashed or hung).
 * Such an entry is marked interrupted: the request may have reached the
 * carrier already, so a sender never sends it again blindly, it reports
 * it INBOX_SEND_UNKNOWN.  Each claim counts an attempt; the attempt
 * number is the claim's token, and a result with a stale one (the lease
 * ran out and the entry was claimed again) is refused.
 *
 * What the carrier said (inbox_store_outbox_results):
 *   accepted   the carrier took it: its message id is kept (status
 *              webhooks find the message by it) and its status is the
 *              carrier's (queued, sending or sent); "sent" captures the
 *              hold.  The entry leaves the outbox.
 *   retry      not taken, safe to try again (a connection refused, a
 *              429, the carrier's own 503): due again after a backoff
 *              (inbox_outbox_backoff); after INBOX_OUTBOX_ATTEMPTS_MAX
 *              attempts it fails ("carrier_unavailable").
 *   refused    the carrier said no for good (a 4xx): status failed with
 *              the carrier's error code, the hold released; refused for
 *              its number's account or credentials (the result's
 *              account: a reply, a keyword's answer) with
 *              "carrier_account", whichever code the carrier gave (the
 *              sender logs that).
 *   opted_out  the carrier's own block list (Twilio 21610, Telnyx
 *              40300): status failed with error code "contact_opted_out",
 *              the hold released, and the report names the contact,
 *              which the caller marks opted out (source "carrier").
 *   withdrawn  never sent: the contact opted out after the message was
 *              accepted (the claim says so, inbox_outbox_withdrawn, or
 *              the sender's look before a claimed message that waited
 *              starts, inbox_store_outbox_recheck):
 *              status failed with error code "contact_opted_out", the
 *              hold released.
 *   unknown    the request may have reached the carrier but no answer
 *              says what became of it (a timeout after sending, an
 *              interrupted claim, a gateway's 502 or 504); the result
 *              names the carrier it went to.  The carrier may have
 *              delivered it, so it is not final and keeps its hold:
 *              status sending with error code "unknown_outcome", taken
 *              by that carrier now (submitted_at: the hold is captured
 *              at its expiry, delivery.h, unless a report settles it
 *              first), never sent again by itself.  Its carrier id is
 *              not known: the status callback's URL names the message
 *              (the sender's ?message=), and a report naming it gives
 *              it the carrier's id (inbox_store_message_status_updates),
 *              even one kept early, before this result: then the
 *              message is recorded as accepted with that id.  A person
 *              who sees it may look before sending it again.
 *   released   never started: the sender gives the entry back (it is
 *              stopping, the entry's campaign was paused or cancelled
 *              while the entry waited in its hands, its number is held
 *              past the claim by a carrier's slow_down, a 429 or
 *              Twilio's 21611, or by its own rate, or the sender had
 *              no file descriptor for the request).  Due again at
 *              once, or at the result's due_at (the hold's end, the
 *              number's next turn, a second later), its attempt not
 *              counted, the message unchanged: the sender's own wait
 *              never uses up attempts.  A campaign's message the
 *              carrier refused for its number's account (the result's
 *              account) is given back so too, and its campaign paused
 *              carrier_account in the same write
 *              (inbox_campaign_pause_carrier).
 *   cancelled  never sent: its campaign was cancelled (the claim says
 *              so, item.cancelled): status failed with error code
 *              "campaign_cancelled", the hold released, the recipient
 *              counted cancelled.
 * Every status change appends message.status.
 *
 * A person's pause of a campaign reaches the outbox too: a claim parks
 * the entries of a campaign paused by hand (paused_reason manual, or
 * carrier_account: nothing from its number can go either)
 * instead of handing them out (due_at INBOX_OUTBOX_PARKED, no attempt
 * counted), and resume or cancel makes them due again, so that a paused
 * or cancelled campaign sends nothing more beyond what the sender had
 * already started.  A parked entry holds nothing: its message's hold is
 * given back (a release in the ledger) when it is parked, at the pause
 * for those the sender does not hold (so that the balance shows them
 * and a reply can use them while it waits, for days perhaps), at the
 * claim that parks it for the others, but never one whose lease ran
 * out (it may have gone: reported unknown, it keeps its hold).  A claim
 * that hands a campaign's message out holds it again first, so nothing
 * is sent without its hold; one the balance no longer covers is parked
 * again and its campaign paused insufficient_credits, as dispatch
 * pauses it, until a resume.  A pause for credits only stops the
 * campaign's dispatch: what was handed over holds its credits and goes
 * (it is not parked: giving its hold back would only have it held again
 * by the next claim).  Inactive billing stops everything but keyword
 * answers at the claim (inbox_outbox_billing), which parks a campaign's
 * messages holding nothing too.  (Both backends: MongoDB keys each
 * settlement by the message and its hold's number, store_mongo_settle.c.)
 */
#ifndef INBOX_OUTBOX_H
#define INBOX_OUTBOX_H

#include <stddef.h>
#include <stdint.h>
#include <inbox/carrier.h>
#include <inbox/delivery.h>
#include <inbox/error.h>
#include <inbox/model.h>
#include <inbox/reply.h>
#include <inbox/settings.h>

/* What comes first: a lower priority is claimed before a higher one. */
typedef enum {
    INBOX_OUTBOX_NOTICE = -1,   /* a keyword's free answer: the one text
                                   an opted-out contact still gets */
    INBOX_OUTBOX_REPLY = 0,     /* a person answering: never waits */
    INBOX_OUTBOX_BULK = 1       /* campaigns, polls */
} inbox_outbox_priority_t;

#define INBOX_OUTBOX_LEASE_DEFAULT   (60LL * 1000)      /* a claim, ms */
#define INBOX_OUTBOX_CLAIM_MAX       100                /* entries a claim */
#define INBOX_OUTBOX_ATTEMPTS_MAX    8
#define INBOX_OUTBOX_PARKED          INT64_MAX          /* due_at: paused */

/* The error codes the inbox gives a failed message itself (a carrier's
 * own codes are kept as the carrier said them). */
#define INBOX_SEND_ERROR_UNKNOWN      "unknown_outcome"
#define INBOX_SEND_ERROR_OPTED_OUT    "contact_opted_out"
#define INBOX_SEND_ERROR_UNAVAILABLE  "carrier_unavailable"
#define INBOX_SEND_ERROR_REFUSED      "refused"
#define INBOX_SEND_ERROR_CANCELLED    "campaign_cancelled"
#define INBOX_SEND_ERROR_BILLING      "billing_inactive"
/* the number it was to go from was removed before it went */
#define INBOX_SEND_ERROR_NUMBER_GONE  "number_removed"
/* refused for its number's account or credentials (the result's account):
 * a person fixes the number's settings, whatever the carrier's code, and
 * the same word as a campaign's pause for it (paused_reason) */
#define INBOX_SEND_ERROR_ACCOUNT      "carrier_account"
/* a keyword's answer that could not go in time (inbox_outbox_notice_late) */
#define INBOX_SEND_ERROR_LATE         "answer_late"

/*
 * Whether a queued message is withdrawn because its contact is opted out
 * (opted_out_at, 0 when the contact is in): an opt-out stops whatever is
 * queued, whenever it was accepted (a reply written while the STOP was
 * on its way was written after the contact said it, by the carrier's
 * clock or not).  Only a keyword's answer (INBOX_OUTBOX_NOTICE: the one
 * confirmation, or HELP's) still goes; no reply or campaign message can
 * be accepted for an opted-out contact at all.  (Not "what costs
 * nothing": on the unlimited plan every message does.)
 */
int inbox_outbox_withdrawn(inbox_outbox_priority_t priority,
    int64_t opted_out_at);

/* The priority a message the store takes is queued with: a campaign's is
 * INBOX_OUTBOX_BULK, a keyword's answer INBOX_OUTBOX_NOTICE, any other
 * a reply. */
inbox_outbox_priority_t inbox_outbox_priority_of(const inbox_reply_t *reply,
    int in_campaign);

/* The message a status callback's ?message= value (len bytes) names,
 * into out: the sender writes a message's id there (outbox.h, unknown),
 * and anything not of an id's form (letters and digits, shorter than
 * INBOX_ID_MAX) names none, "". */
void inbox_outbox_callback_message(const char *value, size_t len,
    char out[INBOX_ID_MAX]);

/* How long after its attempt-th attempt failed an entry is due again:
 * 5 s, doubling, at most 10 minutes. */
int64_t inbox_outbox_backoff(unsigned attempt);

/* One claimed entry: the message to send, from which number (with the
 * carrier's credentials) to whom. */
typedef struct {
    char             id[INBOX_ID_MAX];
    char             org_id[INBOX_ID_MAX];
    unsigned         attempt;          /* this claim's: give it back with
                                          the result */
    int              interrupted;      /* an earlier claim ran out without
                                          a result: report it unknown */
    int              withdrawn;        /* its contact opted out after it
                                          was accepted: report it
                                          withdrawn, never send it */
    int              cancelled;        /* its campaign was cancelled:
                                          report it cancelled, never
                                          send it */
    int              billing_inactive; /* a reply while its
                                          organization's billing is
                                          inactive: report it refused
                                          ("billing_inactive"), never
                                          send it */
    int64_t          lease_until;      /* ms */
    inbox_outbox_priority_t  priority;
    char             campaign_id[INBOX_ID_MAX];  /* "" for a reply */
    inbox_message_t  message;          /* body, media, credits, ... */
    char             to[INBOX_PHONE_MAX];        /* the contact's phone */
    inbox_number_t   number;           /* the sending number; e164 "" when
                                          it was removed since */
} inbox_outbox_item_t;

typedef struct {
    inbox_outbox_item_t  *items;
    size_t                count;
    int                   passed_over;  /* due entries were left to
                                           their number's cap (paces) */
} inbox_outbox_batch_t;

void inbox_outbox_batch_free(inbox_outbox_batch_t *batch);

/*
 * How much of each sending number a claim may take: what the sender can
 * start at once (its rate, a carrier's hold), so that it never holds a
 * claim it cannot start.  A claim counts an attempt and leases the
 * entry; one that waited in a sender that then died would come back
 * interrupted, reported unknown though it never left.  A cap is in
 * segments, as a number's rate counts them (carriers count a number's
 * throughput so): every entry a claim hands out counts its message's
 * segments against its number (inbox_outbox_pace_cost), and needs them
 * left under the cap, but never more than paces->other, a full
 * bucket's (a longer text goes from a full bucket).  A number's
 * entries are taken in order: once one does not fit, the claim takes
 * no more of that number (a shorter one after it would take the tokens
 * the longer waits for, again at each claim).  The entries past a
 * number's cap stay due, as they are, and the batch says some were
 * (passed_over).  Those it parks or puts off start no request: SQLite
 * takes them whatever the cap (a night's worth is parked in one claim);
 * MongoDB, which leases an entry before it reads what it is, counts
 * them too, so it parks them at the number's pace; it learns an entry's
 * segments as it leases it, and puts one that does not fit back at
 * once, as it was.
 */
typedef struct {
    const char  *from;          /* a sending number, E.164 */
    unsigned     max;           /* the segments a claim may take of it */
} inbox_outbox_pace_t;

typedef struct {
    const inbox_outbox_pace_t  *numbers;   /* n of them, each once */
    size_t                      n;
    unsigned                    other;     /* any number not listed, and
                                              the most an entry needs;
                                              0: no cap */
} inbox_outbox_paces_t;

/* The cap of number from (UINT_MAX: none); paces NULL caps nothing. */
unsigned inbox_outbox_pace(const inbox_outbox_paces_t *paces,
    const char *from);

/* What an entry of a message of segments segments counts against its
 * number: them, and one for an MMS or an unknown count (0). */
unsigned inbox_outbox_pace_cost(unsigned segments);

/* What a claim took so far of each number it met, by paces. */
typedef struct {
    char      from[INBOX_PHONE_MAX];
    unsigned  taken;            /* segments */
    int       full;             /* an entry did not fit: no more */
} inbox_outbox_paced_t;

typedef struct {
    const inbox_outbox_paces_t  *paces;     /* NULL: no cap */
    inbox_outbox_paced_t        *numbers;
    size_t                       n;
    size_t                       size;
} inbox_outbox_pacing_t;

void inbox_outbox_pacing_init(inbox_outbox_pacing_t *pacing,
    const inbox_outbox_paces_t *paces);
void inbox_outbox_pacing_free(inbox_outbox_pacing_t *pacing);

/*
 * Whether the claim pacing counts may take the next entry of number from,
 * of segments segments: 1, and it is counted; 0, and the number gives
 * no more to this claim; -1 when out of memory.
 */
int inbox_outbox_pacing_take(inbox_outbox_pacing_t *pacing,
    const char *from, unsigned segments);

/* Whether the claim may take no entry at all of number from now. */
int inbox_outbox_pacing_full(const inbox_outbox_pacing_t *pacing,
    const char *from);

/*
 * Whether a claimed entry waits for its recipient's quiet hours to end
 * (*opens, ms) instead of being handed out: a campaign or poll message
 * (priority bulk) is held at hand-over (inbox_quiet_hours), but a pause
 * and resume, a retry's backoff or a stopped sender can bring it to the
 * claim inside them all the same.  A reply never waits; neither does an
 * entry that is only to be reported (interrupted, cancelled).
 * contact_tz may be "" (the organization's zone is used).
 */
int inbox_outbox_quiet(const inbox_outbox_item_t *item,
    const char *contact_tz, const char *org_tz, int quiet_start,
    int quiet_end, int64_t now, int64_t *opens);

/*
 * What the sender's look at a claimed message it still holds, not
 * started, says (inbox_store_outbox_recheck): it goes; it is withdrawn,
 * its contact having opted out since the claim (inbox_outbox_withdrawn);
 * or it is put off, a campaign or poll message now inside its
 * recipient's quiet hours by the zones and the quiet hours as they are
 * now (inbox_outbox_quiet: they moved since the claim, and the wake-up
 * saying so was lost, or the clock reached them while it waited): given
 * back unsent as that wake-up has it given back, for the next claim to
 * hold it until they end.  An opt-out comes first: such a message is
 * withdrawn, whatever the hour.
 */
typedef enum {
    INBOX_OUTBOX_HELD_GOES = 0,
    INBOX_OUTBOX_HELD_WITHDRAWN,
    INBOX_OUTBOX_HELD_QUIET
} inbox_outbox_held_t;

/*
 * What a store reads of a claimed message for that look: its contact's
 * opt-out and zone, its organization's zone and quiet hours (found 0: no
 * such message, or its contact gone; it goes, the claim or the result's
 * record says the rest).
 */
typedef struct {
    int      found;
    int64_t  opted_out_at;                  /* 0 while opted in */
    char     contact_tz[INBOX_TIMEZONE_MAX];     /* "" none */
    char     org_tz[INBOX_TIMEZONE_MAX];
    int      quiet_start;                   /* minutes after midnight */
    int      quiet_end;
} inbox_outbox_held_read_t;

/* The look's answer for a message of priority and what was read of it,
 * quiet hours on the campaigns' clock quiet_now (inbox_outbox_withdrawn,
 * then inbox_outbox_quiet). */
inbox_outbox_held_t inbox_outbox_held(inbox_outbox_priority_t priority,
    const inbox_outbox_held_read_t *read, int64_t quiet_now);


/*
 * What a claim does with an entry while its organization's billing is
 * inactive, when nothing is sent, replies included: a keyword's answer
 * still goes (it costs nothing, and it is the confirmation an opt-out
 * owes); a campaign's message is parked until billing is active again
 * (inbox_store_billing_set makes it due); a reply fails, so that the
 * person who wrote it sees why at once and sends it again once billing
 * is back, rather than it going out unannounced hours later.  An entry
 * only to be reported (interrupted, cancelled) is reported.
 */
typedef enum {
    INBOX_OUTBOX_BILLING_GOES = 0,
    INBOX_OUTBOX_BILLING_PARKS,
    INBOX_OUTBOX_BILLING_FAILS
} inbox_outbox_billing_t;

inbox_outbox_billing_t inbox_outbox_billing(const inbox_outbox_item_t *item,
    int billing_active);

/* How long after its keyword a keyword's answer may still go. */
#define INBOX_OUTBOX_NOTICE_WITHIN_MS  (5LL * 60 * 1000)

/*
 * Whether a keyword's answer (INBOX_OUTBOX_NOTICE) is too late to send at
 * now: written more than INBOX_OUTBOX_NOTICE_WITHIN_MS before (a sender
 * that was down, a carrier that kept failing).  The one confirmation of
 * an opt-out the FCC allows is sent within 5 minutes (FCC 24-18) or not
 * at all, and a later HELP or START answer answers a moment long gone;
 * the sender fails it (INBOX_SEND_ERROR_LATE) instead.  Nothing else is
 * ever late: a reply or a campaign's message goes whenever it can.
 */
int inbox_outbox_notice_late(const inbox_outbox_item_t *item, int64_t now);


/* What recording a result did. */
typedef struct {
    char              message_id[INBOX_ID_MAX];
    inbox_delivery_t  status;           /* the message's status now */
    int               done;             /* the entry left the outbox */
    int64_t           next_attempt_at;  /* retry: when it is due again */
    char              opted_out_contact[INBOX_ID_MAX];
                                        /* opted_out: the contact to mark
                                           opted out (source carrier) */
    int64_t           opted_out_sent_at;
                                        /* with it: when the carrier's
                                           answer was recorded, the
                                           sent_at of that opt-out */
} inbox_send_report_t;

/* One result to record (inbox_store_outbox_results). */
typedef struct {
    const char            *entry_id;     /* in */
    unsigned               attempt;      /* in */
    inbox_send_result_t    result;       /* in */
    inbox_status_t         status;       /* out: INBOX_OK or this one's
                                            error */
    inbox_error_t          error;        /* out, when status != INBOX_OK */
    inbox_send_report_t    report;       /* out, when INBOX_OK */
} inbox_outbox_record_t;


#endif
