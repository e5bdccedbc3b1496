/*
 * Campaigns and polls: one text (or image) to many contacts, and the
 * rules of their lifecycle and progress, the same for every store
 * backend, route and command.  (A poll is a campaign whose text is its
 * question and options, poll.h; every rule here holds for both.)
 *
 * Lifecycle:
 *
 *   draft --send--> sending      (or scheduled while send_at is ahead)
 *   scheduled --its time--> sending
 *   scheduled, paused before it began --moved (a new send_at)--> the same
 *   scheduled, sending --pause--> paused (manual)
 *   sending --no credits / billing inactive--> paused (insufficient_
 *                                  credits / billing_inactive)
 *   paused --resume--> sending   (or scheduled while send_at is ahead)
 *   sending --every recipient handed to the outbox or suppressed--> done
 *   draft, scheduled, sending, paused --cancel--> cancelled (manual)
 *   scheduled --its time, its text refused by a rule made since-->
 *                                  cancelled (text_refused, inbox_
 *                                  campaign_sendable)
 *
 * Sending what is scheduled or sending, pausing what is paused, resuming
 * what is sending and cancelling what is cancelled change nothing and
 * succeed (a client's retry); any other
 * move is INBOX_ERR_CONFLICT.  done and cancelled are final.
 *
 * The audience is fixed by send: every contact of it (all, or any of
 * the tags) at that moment; those opted out then are excluded (counted
 * "suppressed", never queued), and the others are its recipients, a
 * number that never changes after the send (inbox_campaign_recipients,
 * shown as "recipients"): a recipient who opts out while the campaign
 * sends moves to "suppressed" but stays a recipient.  Each contact of
 * the audience is then in one state, and the counts are how many are in
 * each (they add up to the audience; all but the excluded add up to the
 * recipients, so queued, waiting_quiet_hours, sent, delivered, failed,
 * cancelled and the suppressed not excluded make "recipients", and what
 * is left to go is queued and waiting_quiet_hours):
 *
 *   queued               due, or handed to the outbox and not yet sent
 *                        (its message queued or sending: waiting in the
 *                        outbox, or taken by the carrier, submitted_at)
 *   waiting_quiet_hours  held until quiet hours end (quiet.h)
 *   sent, delivered      its message's status
 *   failed               its message undelivered or failed
 *   suppressed           never sent because of an opt-out: opted out
 *                        when sending started (the excluded, never
 *                        recipients), or a recipient who opted out since
 *                        (it gets nothing more; a message the carrier
 *                        refuses or fails because the contact opted out
 *                        there counts here too)
 *   cancelled            never handed over: the campaign was cancelled
 *
 * and "replied" counts those who texted back (a poll's answers among
 * them) after the carrier took their message (submitted_at: accepted,
 * or an unknown outcome, which it may have) and while it had not failed.
 * One still queued in the outbox (the sender behind, a retry's backoff)
 * has not been read: a text then replies to nothing of it.  A text
 * counts on one campaign at most: the poll it answers (poll.h), else
 * the newest campaign or poll message the contact got before it.
 *
 * A recipient's message holds its credits when it is handed to the
 * outbox (the outbox, holds and ledger of replies, outbox.h and
 * billing.h), with priority INBOX_OUTBOX_BULK so that every reply of the
 * same number goes first.  A hand-off that billing refuses pauses the
 * campaign instead (billing_inactive; insufficient_credits when the
 * balance does not cover one message), and resume goes on from there.
 * While its messages wait parked in the outbox (a person's pause,
 * carrier_account) they hold nothing, and each holds again as a claim
 * hands it to the sender: one the balance no longer covers pauses the
 * campaign insufficient_credits (outbox.h).
 */
#ifndef INBOX_CAMPAIGN_H
#define INBOX_CAMPAIGN_H

#include <stddef.h>
#include <stdint.h>
#include <inbox/carrier.h>
#include <inbox/contact.h>
#include <inbox/delivery.h>
#include <inbox/error.h>
#include <inbox/keywords.h>
#include <inbox/model.h>
#include <inbox/poll.h>

#define INBOX_CAMPAIGN_NAME_MAX  100    /* characters */

typedef enum {
    INBOX_CAMPAIGN_KIND_CAMPAIGN = 0,
    INBOX_CAMPAIGN_KIND_POLL
} inbox_campaign_kind_t;

typedef enum {
    INBOX_CAMPAIGN_DRAFT = 0,
    INBOX_CAMPAIGN_SCHEDULED,
    INBOX_CAMPAIGN_SENDING,
    INBOX_CAMPAIGN_PAUSED,
    INBOX_CAMPAIGN_DONE,
    INBOX_CAMPAIGN_CANCELLED
} inbox_campaign_status_t;

typedef enum {
    INBOX_PAUSE_NONE = 0,
    INBOX_PAUSE_MANUAL,
    INBOX_PAUSE_INSUFFICIENT_CREDITS,
    INBOX_PAUSE_BILLING_INACTIVE,
    INBOX_PAUSE_CARRIER_ACCOUNT     /* the carrier refused the number's
                                       account or credentials
                                       (inbox_send_result_t account) */
} inbox_pause_reason_t;

/* Why a campaign is cancelled: a person cancelled it, or the dispatch
 * that would have started it found its text refused by a rule made
 * since it was sent.  NONE for one not cancelled, or cancelled before
 * stores kept the reason (nobody can tell which it was). */
typedef enum {
    INBOX_CANCEL_NONE = 0,
    INBOX_CANCEL_MANUAL,
    INBOX_CANCEL_TEXT_REFUSED
} inbox_cancel_reason_t;

typedef enum {
    INBOX_CAMPAIGN_SEND = 0,
    INBOX_CAMPAIGN_PAUSE,
    INBOX_CAMPAIGN_RESUME,
    INBOX_CAMPAIGN_CANCEL
} inbox_campaign_action_t;

/* A recipient's state, as stored. */
typedef enum {
    INBOX_RECIPIENT_DUE = 0,       /* to be handed over when due_at comes */
    INBOX_RECIPIENT_WAITING,       /* quiet hours: due again at due_at */
    INBOX_RECIPIENT_QUEUED,        /* handed over: its message's status */
    INBOX_RECIPIENT_SENT,
    INBOX_RECIPIENT_DELIVERED,
    INBOX_RECIPIENT_FAILED,
    INBOX_RECIPIENT_SUPPRESSED,
    INBOX_RECIPIENT_CANCELLED
} inbox_recipient_state_t;

typedef struct {
    int64_t  audience;     /* every contact send fixed, suppressed too */
    int64_t  excluded;     /* of them, opted out at the send: counted in
                              suppressed, never recipients */
    int64_t  suppressed;
    int64_t  waiting_quiet_hours;
    int64_t  queued;
    int64_t  sent;
    int64_t  delivered;
    int64_t  failed;
    int64_t  cancelled;
    int64_t  replied;
} inbox_campaign_counts_t;

/* A campaign or a poll as the store hands it out; freed by
 * inbox_campaign_free, also after a failure. */
typedef struct {
    char                     id[INBOX_ID_MAX];
    char                     org_id[INBOX_ID_MAX];  /* its organization */
    inbox_campaign_kind_t    kind;
    char                    *name;
    char                    *body;        /* the text sent (a poll's:
                                             inbox_poll_text) */
    char                    *question;    /* a poll's; NULL otherwise */
    char                    *options[INBOX_POLL_OPTIONS_MAX];
    size_t                   option_count;
    int                      audience_all;
    inbox_tags_t             tags;        /* the audience's, unless all */
    size_t                   media_count;
    inbox_media_t           *media;       /* media_count entries, ours */
    unsigned                 segments;    /* a message is sent as: of
                                             body, 1 for an MMS
                                             (segments.h) */
    unsigned                 credits;     /* a message's (segments.h) */
    inbox_campaign_status_t  status;
    inbox_pause_reason_t     paused_reason;
    inbox_cancel_reason_t    cancelled_reason;
    char                    *cancelled_message;
                                          /* text_refused: the refusal's
                                             words, as send says them
                                             (inbox_campaign_sendable);
                                             NULL otherwise */
    char                     paused_number[INBOX_PHONE_MAX];
    char                     paused_error_code[INBOX_CARRIER_CODE_MAX];
                                          /* carrier_account: the
                                             sending number the carrier
                                             refused and its code ("":
                                             none said); stale otherwise */
    inbox_campaign_counts_t  counts;
    int64_t                  tally[INBOX_POLL_OPTIONS_MAX];
                                          /* a poll's answers by option
                                             (each recipient's last) */
    int64_t                  send_at;     /* 0: at once */
    int64_t                  revision;    /* the edits made to it as a
                                             draft: an edit names the one
                                             it read */
    int64_t                  created_at;
    int64_t                  started_at;  /* 0: not yet */
    int64_t                  finished_at; /* 0: not yet */
    int64_t                  handed_at;   /* its first message handed
                                             over (in a contact's thread,
                                             with its outbox entry);
                                             0: none ever was */
} inbox_campaign_t;

void inbox_campaign_free(inbox_campaign_t *campaign);

typedef struct {
    inbox_campaign_t  *items;
    size_t             count;
    char               next_cursor[INBOX_CURSOR_MAX];   /* "" is null */
} inbox_campaign_page_t;

void inbox_campaign_page_free(inbox_campaign_page_t *page);

/* What one inbox_store_campaign_dispatch did. */
typedef struct {
    size_t  handed;        /* messages handed to the outbox */
    size_t  waiting;       /* recipients held for quiet hours now */
    size_t  suppressed;    /* recipients opted out since sending began */
    size_t  started;       /* scheduled campaigns whose time came */
    size_t  refused;       /* of them, cancelled as they started: their
                              text the rules refuse since their send
                              (inbox_campaign_sendable) */
    size_t  paused;        /* campaigns billing paused */
    size_t  finished;      /* campaigns now done */
    size_t  outbox_full;   /* campaigns whose share of the outbox is full:
                              given none (INBOX_CAMPAIGN_AHEAD_MAX of their
                              messages wait in it) or all it had room for */
} inbox_campaign_dispatch_t;

#define INBOX_CAMPAIGN_DISPATCH_MAX  500     /* recipients a dispatch */

/*
 * A sending campaign's messages that may wait in the outbox at once (due,
 * or claimed by the sender and not answered yet): a dispatch hands a
 * campaign more only while it has fewer, so each campaign goes at its
 * number's own pace, its credits held and its opt-outs checked only just
 * before its messages leave, and a campaign started later, of the same
 * organization or another, waits behind at most this many messages of a
 * big one, never behind its whole audience.  At the sender's default
 * rate (10 a second a number) 2.5 s of sending.
 */
#define INBOX_CAMPAIGN_AHEAD_MAX     25

/* Campaigns a page of inbox_store_campaigns_active lists, the oldest
 * first. */
#define INBOX_CAMPAIGNS_ACTIVE_MAX   200

/* A poll's answer from one recipient. */
typedef struct {
    char      contact_id[INBOX_ID_MAX];
    char      phone[INBOX_PHONE_MAX];
    char     *name;                         /* NULL: none */
    unsigned  answer;                       /* 1..option_count */
    int64_t   answered_at;
    char      message_id[INBOX_ID_MAX];     /* the answering message */
} inbox_poll_response_t;

/* At most this many responses are listed a page, the newest first; the
 * poll's tally counts them all. */
#define INBOX_POLL_RESPONSES_MAX  1000

typedef struct {
    inbox_campaign_t        poll;         /* its tally too */
    inbox_poll_response_t  *responses;    /* a page of them */
    size_t                  count;
    char                    next_cursor[INBOX_CURSOR_MAX];
                                          /* the older ones; "" none */
} inbox_poll_results_t;

void inbox_poll_results_free(inbox_poll_results_t *results);

/* What a contact's record lists: the campaigns and polls it was sent,
 * newest first, and its answers to polls. */
typedef struct {
    char                     id[INBOX_ID_MAX];
    char                     send_id[INBOX_ID_MAX];     /* the store's id
                                               of this send: a place in
                                               the list */
    inbox_campaign_kind_t    kind;
    char                    *name;
    int64_t                  sent_at;       /* when its message went
                                               to the carrier (the
                                               sender's last claim of
                                               it), else handed over */
    char                     status[16];    /* its message's status */
    inbox_recipient_state_t  state;         /* how its campaign counts
                                               it: a message never sent
                                               (suppressed, cancelled)
                                               is failed all the same */
} inbox_contact_campaign_t;

typedef struct {
    char      poll_id[INBOX_ID_MAX];
    char      send_id[INBOX_ID_MAX];        /* the poll's send it answers */
    char     *question;
    unsigned  answer;                       /* 1..9 */
    char     *answer_text;                  /* that option's text */
    int64_t   answered_at;
} inbox_contact_poll_t;

typedef struct {
    inbox_contact_campaign_t  *campaigns;
    size_t                     campaign_count;
    inbox_contact_poll_t      *polls;
    size_t                     poll_count;
} inbox_contact_campaigns_t;

/* The most campaigns, and the most poll answers, a contact's record
 * lists: the newest (a contact texted every day for years stays one
 * page). */
#define INBOX_CONTACT_CAMPAIGNS_MAX  1000

/* Where a read of a contact's campaigns goes on from, in each of its two
 * lists (newest first, a time then its send_id): the sends after the one
 * at (sent_at, sent_id), the answers after the one at (answered_at,
 * answered_id); an id "" is after every one at its time. */
typedef struct {
    int64_t  sent_at;
    char     sent_id[INBOX_ID_MAX];
    int64_t  answered_at;
    char     answered_id[INBOX_ID_MAX];
} inbox_contact_campaigns_after_t;

void inbox_contact_campaigns_free(inbox_contact_campaigns_t *list);

/* What a new campaign or poll is made of (POST /api/v1/campaigns and
 * /polls), before inbox_campaign_check. */
typedef struct {
    inbox_campaign_kind_t  kind;
    const char            *name;         /* a poll: NULL is its question */
    const char            *body;         /* a campaign's text; "" with
                                            media only */
    const char            *question;     /* a poll's */
    const char *const     *options;      /* a poll's, option_count */
    size_t                 option_count;
    int                    audience_all;
    const inbox_tags_t    *tags;         /* unless audience_all */
    size_t                 media_count;
    const inbox_media_t   *media;        /* ours, resolved by the caller,
                                            each naming its upload
                                            (upload_id), which is stored
                                            with it */
    int64_t                send_at;      /* 0: when sent */
} inbox_campaign_new_t;

/*
 * INBOX_ERR_INVALID naming the field for a campaign the store must not
 * take: a name of 1 to 100 characters ("name"; a poll without one is
 * named by its question), a body a message may have ("body", segments.h;
 * a poll's "question" and "options", poll.h, and its whole text), an
 * audience of all contacts or of 1 to 50 tags, not both ("audience"),
 * at most INBOX_MEDIA_MAX media ("media_ids"), send_at not negative.
 */
inbox_status_t inbox_campaign_check(const inbox_campaign_new_t *c,
    inbox_error_t *err);

/*
 * Whether a stored campaign or poll may be sent as it is: its text
 * judged by inbox_campaign_check's rule, in its words and naming the
 * same field ("body"; a poll's "question" or "options", its text being
 * the stored one sent).  A draft saved before a rule existed (a text
 * past INBOX_SMS_SEGMENTS_MAX segments) is refused here, before its
 * recipients are fixed or a credit is held.
 */
inbox_status_t inbox_campaign_sendable(const inbox_campaign_t *campaign,
    inbox_error_t *err);

/*
 * A campaign's message as each recipient gets it.  Pictures reach only
 * numbers in the US and Canada (inbox_phone_takes_mms): any other
 * recipient of a campaign with images gets its text, then each image's
 * public address on a line of its own, as one SMS at an SMS's price,
 * which is what Twilio's MMS converter does for a phone that cannot take
 * MMS.  A campaign without images is the same message to everyone.
 * base is the inbox as carriers and phones reach it (the sender's
 * --public-url, from which the MMS's pictures are fetched too).
 */
typedef struct {
    const char           *body;
    const inbox_media_t  *media;
    size_t                media_count;
    unsigned              segments;     /* as sent (segments.h) */
    unsigned              credits;      /* before the plan */
} inbox_campaign_message_t;

typedef struct {
    inbox_campaign_message_t  pictures;  /* to numbers that take them */
    inbox_campaign_message_t  links;     /* to the others */
    char                     *owned;     /* links' body, when it is not
                                            the campaign's */
} inbox_campaign_messages_t;

/*
 * c's two messages into m (free with inbox_campaign_messages_free); base
 * NULL: no links, its pictures for everyone.  A text that with its links
 * would be refused as an SMS (too long: create and update refuse it,
 * inbox_campaign_links_check, but a campaign saved before that rule may
 * have one) keeps its pictures for everyone.
 * INBOX_ERR_INTERNAL when out of memory.
 */
inbox_status_t inbox_campaign_messages(const inbox_campaign_t *c,
    const char *base, inbox_campaign_messages_t *m, inbox_error_t *err);
const inbox_campaign_message_t *inbox_campaign_message_to(
    const inbox_campaign_messages_t *m, const char *phone);
void inbox_campaign_messages_free(inbox_campaign_messages_t *m);

/*
 * INBOX_ERR_INVALID naming "body" when body with a link to each of
 * media (their files at base) is more than an SMS may be, as the
 * recipients outside the US and Canada would get it.
 */
inbox_status_t inbox_campaign_links_check(const char *body,
    const char *base, const inbox_media_t *media, size_t media_count,
    inbox_error_t *err);

/*
 * What action does to a campaign in *status (paused for *reason,
 * cancelled for *cancelled), at now with its send_at: INBOX_OK with
 * *status and *reason moved, *cancelled INBOX_CANCEL_MANUAL when it
 * cancels it (or all left, for a repeat: *changed 0), or
 * INBOX_ERR_CONFLICT with a message naming the state, nothing moved.
 */
inbox_status_t inbox_campaign_act(inbox_campaign_action_t action,
    int64_t send_at, int64_t now, inbox_campaign_status_t *status,
    inbox_pause_reason_t *reason, inbox_cancel_reason_t *cancelled,
    int *changed, inbox_error_t *err);

/*
 * What a read of the campaign a request named as kind (its path's
 * /campaigns or /polls) found: rc as it is, but INBOX_ERR_NOT_FOUND
 * naming the kind ("There is no such poll.") when the read found none
 * or one of the other kind, whose id names nothing there.
 */
inbox_status_t inbox_campaign_found(inbox_status_t rc,
    const inbox_campaign_t *c, inbox_campaign_kind_t kind,
    inbox_error_t *err);

/*
 * Whether a campaign in status may be edited (its text, images, audience
 * or time replaced): only a draft may, since send fixes who gets what;
 * INBOX_ERR_CONFLICT naming the state otherwise.
 */
inbox_status_t inbox_campaign_editable(inbox_campaign_status_t status,
    inbox_error_t *err);
/*
 * Whether a campaign may be deleted: a draft, which nobody got, or one
 * cancelled before any message of it was handed over (handed_at 0:
 * cancelled as a draft, or before its time, or while every recipient
 * waited for quiet hours or was suppressed, or for its text as its time
 * came), whose recipients, if send fixed them, were never handed a
 * message, so that no contact's thread or record names it.  One
 * scheduled, sending or paused is cancelled instead; one that handed a
 * message over stays, its contacts' records naming it.
 * INBOX_ERR_CONFLICT saying which otherwise.
 */
inbox_status_t inbox_campaign_deletable(const inbox_campaign_t *c,
    inbox_error_t *err);
/*
 * Whether a campaign may have its time moved (a PATCH naming send_at
 * alone): one scheduled, or paused before it began (started_at 0: a
 * resume then schedules it for the new time), whose recipients send
 * fixed and none of whom is handed over yet.  INBOX_ERR_CONFLICT saying
 * why otherwise: a draft's time is edited with the rest of it, and a
 * campaign that began sending or ended has no time to move.
 */
inbox_status_t inbox_campaign_movable(const inbox_campaign_t *c,
    inbox_error_t *err);

/* INBOX_ERR_CONFLICT for an edit of a draft edited since it was read
 * (its revision moved): what it left out would undo the other edit. */
inbox_status_t inbox_campaign_edited_since(inbox_error_t *err);

/* A sending campaign that billing stopped: paused for reason.  0, or -1
 * when it was not sending (nothing changes). */
int inbox_campaign_pause_for(inbox_campaign_status_t *status,
    inbox_pause_reason_t *reason, inbox_pause_reason_t why);

/*
 * A campaign one of whose messages the carrier refused for its number's
 * account or credentials (inbox_send_result_t account): paused for
 * carrier_account when sending or scheduled, and so too when paused for
 * credits
 * (what it handed over would go on being refused, and the carrier's is
 * the reason a person can act on).  0, or -1 when it stays as it is (a
 * person's pause or billing park its messages already; it ended).
 */
int inbox_campaign_pause_carrier(inbox_campaign_status_t *status,
    inbox_pause_reason_t *reason);

/* 1 when a campaign in status hands messages over (only "sending"). */
int inbox_campaign_dispatching(inbox_campaign_status_t status);

/* What becomes of a campaign's messages already in the outbox (outbox.h):
 * they go, wait (paused by a person, or for the carrier's refusal of its
 * number's account: parked until resume or cancel, holding nothing
 * meanwhile, outbox.h), or
 * are reported cancelled unsent.  A pause for credits or billing stops
 * only the dispatch here: what was handed over holds its credits and
 * goes, though while billing is inactive a claim parks it all the same
 * (inbox_outbox_billing). */
typedef enum {
    INBOX_OUTBOX_GOES = 0,
    INBOX_OUTBOX_WAITS,
    INBOX_OUTBOX_CANCELLED
} inbox_campaign_outbox_t;

inbox_campaign_outbox_t inbox_campaign_outbox(inbox_campaign_status_t status,
    inbox_pause_reason_t reason);

/* The same from the names a store keeps: an unknown or missing status is
 * no campaign's (the entry goes), an unknown reason none. */
inbox_campaign_outbox_t inbox_campaign_outbox_named(const char *status,
    const char *reason);

/* When the recipients a send fixes at now are due: at the send time the
 * campaign names (past or ahead), else now.  (On one clock the same as
 * "not before now"; with the sender on another, its --clock-file, a
 * campaign dated on that clock is sent on it.) */
int64_t inbox_campaign_due_at(int64_t send_at, int64_t now);

/* 1 for done and cancelled. */
int inbox_campaign_final(inbox_campaign_status_t status);

/* The state a handed-over recipient is in when its message has status
 * and error_code (NULL: none): failed or undelivered is failed, but
 * suppressed when the contact opted out (INBOX_SEND_ERROR_OPTED_OUT: the
 * sender withdrew it after an opt-out in the inbox, or the carrier
 * refused it or reported it so, Twilio 21610, Telnyx 40300), as send
 * counts one opted out before.  Its credits are the message's, released
 * as for any failure (inbox_delivery_hold). */
inbox_recipient_state_t inbox_recipient_of_delivery(inbox_delivery_t status,
    const char *error_code);

/* The state a handed-over recipient whose message never left is counted
 * in, though the message itself is failed: cancelled when its campaign
 * was; 0 then, -1 for any other outcome (the message's status and error
 * code rule, inbox_recipient_of_delivery: a withdrawn one is failed
 * contact_opted_out, suppressed). */
int inbox_recipient_of_unsent(inbox_send_outcome_t outcome,
    inbox_recipient_state_t *state);

/* 1 when an inbound message that matched keyword (keywords.h) may be a
 * reply to the contact's campaigns and an answer to its polls: an
 * opt-out or HELP speaks to the service, not to the campaign, and counts
 * in neither; an opt-in word ("Yes") may be a poll's option (poll.h) and
 * counts as any other text. */
int inbox_campaign_reply_counts(inbox_keyword_t keyword);

/* Where a recipient in state is counted: its inbox_campaign_counts_t
 * member (audience and replied are not states). */
int64_t *inbox_campaign_count_of(inbox_campaign_counts_t *counts,
    inbox_recipient_state_t state);

/* The recipients of an audience: its contacts not opted out when the
 * send fixed them (excluded), what the API, its events and inboxctl call
 * "recipients", the same from the send on (a recipient who opts out
 * since is counted suppressed too).  For a send's preview, excluded is
 * those opted out now. */
int64_t inbox_campaign_recipients(int64_t audience, int64_t excluded);

/* Names as stored and on the wire; parse returns 0, or -1 when unknown. */
const char *inbox_campaign_kind_name(inbox_campaign_kind_t kind);
const char *inbox_campaign_status_name(inbox_campaign_status_t status);
const char *inbox_pause_reason_name(inbox_pause_reason_t reason);
const char *inbox_cancel_reason_name(inbox_cancel_reason_t reason);
const char *inbox_recipient_state_name(inbox_recipient_state_t state);
int inbox_campaign_kind_parse(const char *name, inbox_campaign_kind_t *kind);
int inbox_campaign_status_parse(const char *name,
    inbox_campaign_status_t *status);
int inbox_pause_reason_parse(const char *name, inbox_pause_reason_t *reason);
int inbox_cancel_reason_parse(const char *name,
    inbox_cancel_reason_t *reason);
int inbox_recipient_state_parse(const char *name,
    inbox_recipient_state_t *state);
int inbox_campaign_action_parse(const char *name,
    inbox_campaign_action_t *action);

#endif
