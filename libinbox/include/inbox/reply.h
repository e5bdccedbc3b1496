/*
 * A reply from the inbox (POST /api/v1/conversations/{id}/messages) as
 * the store takes it, and the rules around it that every backend
 * follows: what a well-formed reply is, when two requests are the same
 * request (Idempotency-Key), and what a reply does to its thread.
 *
 * The caller has done the rest: the body is valid UTF-8, the media are
 * the organization's uploads resolved to the URL a carrier fetches and
 * their type, and segments and credits were counted by the segment rules
 * (an SMS by its characters, an MMS a flat price).
 */
#ifndef INBOX_REPLY_H
#define INBOX_REPLY_H

#include <stddef.h>
#include <stdint.h>
#include <inbox/error.h>
#include <inbox/model.h>

/* An Idempotency-Key: 1 to 255 printable ASCII characters. */
#define INBOX_IDEMPOTENCY_KEY_MAX  255
/* A request's fingerprint: SHA-256 in hex. */
#define INBOX_FINGERPRINT_MAX      65

typedef struct {
    const char           *conversation_id;
    const char           *user_id;       /* who sends it (sent_by); NULL
                                            or "" for an organization-wide
                                            token */
    const char           *body;          /* "" when media say it all */
    size_t                media_count;   /* 0 .. INBOX_MEDIA_MAX */
    const inbox_media_t  *media;         /* media_count entries */
    unsigned              segments;      /* at least 1 */
    unsigned              credits;       /* what it costs, at least 1 */
    const char           *idempotency_key;   /* NULL or "": none */
    const char           *last_seen_message_id;
                                         /* NULL or "": not checked; else
                                            the newest message the writer
                                            saw (the stale-reply guard) */
    const char           *resend_of;     /* NULL or "": a new reply; else
                                            the failed reply it sends
                                            again (resend.h), marked
                                            sent again in its write */
    int                   notice;        /* a keyword's answer, queued as
                                            INBOX_OUTBOX_NOTICE (the
                                            stores' outbox_notice and
                                            ingest) */
} inbox_reply_t;

/* What the store answers for an accepted reply: the message (status
 * queued, or further along for a repeated request) and its thread as it
 * is after it.  Freed by inbox_reply_result_free, also after a failure. */
typedef struct {
    inbox_message_t       message;
    inbox_conversation_t  conversation;
    int                   repeated;   /* an earlier request with the same
                                         key: nothing new was stored */
    inbox_message_t       resent;     /* resend_of: the failed reply as
                                         marked sent again (resend.h) */
} inbox_reply_result_t;

void inbox_reply_result_free(inbox_reply_result_t *result);

/*
 * INBOX_ERR_INVALID, naming the field, for a reply the store must not
 * take: no conversation ("conversation_id"), no body and no media or a
 * body inbox_message_check refuses (blank, not UTF-8, an SMS over
 * INBOX_SMS_SEGMENTS_MAX segments, over INBOX_BODY_MAX UTF-16 units:
 * "body"), more than
 * INBOX_MEDIA_MAX media or one without a URL or type ("media_ids"), no
 * segments or credits counted ("body"), a malformed Idempotency-Key
 * ("idempotency_key").
 */
inbox_status_t inbox_reply_check(const inbox_reply_t *reply,
    inbox_error_t *err);

/* How long a reply's Idempotency-Key is remembered: a retry within a day
 * gets the same message; after it the key is forgotten and may name a new
 * one (as Stripe's keys). */
#define INBOX_REPLY_KEY_KEEP_MS  (24LL * 60 * 60 * 1000)

/* INBOX_ERR_INVALID naming "idempotency_key" unless key (len bytes, as a
 * client sent it) is 1 to INBOX_IDEMPOTENCY_KEY_MAX printable ASCII
 * characters (no space, no control character). */
inbox_status_t inbox_reply_key_check(const char *key, size_t len,
    inbox_error_t *err);

/*
 * What the reply says, as SHA-256 hex: its conversation, its sender, its
 * body, its media in order and the message it sends again (if any).  A
 * request that comes again with the same Idempotency-Key is the first
 * one again only when the fingerprints match; otherwise it is a
 * different request under a used key (409 conflict).
 */
void inbox_reply_fingerprint(const inbox_reply_t *reply,
    char out[INBOX_FINGERPRINT_MAX]);

/*
 * The stale-reply guard: INBOX_ERR_STALE (with err->last_message_id, and
 * field "last_seen_message_id") when the reply names the last message
 * its writer saw and c's newest message (inbound or outbound) is another
 * one; INBOX_OK without a name.  Each backend's reply_accept applies it
 * to the thread it read in its transaction, before the other refusals
 * (the newer message may be the contact's STOP).
 */
inbox_status_t inbox_reply_stale(const inbox_reply_t *reply,
    const inbox_conversation_t *c, inbox_error_t *err);

/*
 * The number a message to a thread goes from, a reply's and a campaign's
 * or poll's alike, so that its contact sees one conversation: the one
 * its contact last texted while the organization still has it (kept, as
 * the store reads the thread's number among the organization's; "" for
 * none: never texted, or removed since), else the organization's first
 * (first, "" when it has none).
 */
const char *inbox_reply_from(const char *kept, const char *first);

/*
 * Whether the reply can reach its contact (opted_out, phone: the
 * contact's own record, as the store reads it in the reply's
 * transaction): INBOX_ERR_CONTACT_OPTED_OUT for a contact who opted out;
 * INBOX_ERR_INVALID naming "media_ids" for an image to a number no MMS
 * reaches (inbox_phone_takes_mms), which would only come back failed
 * from the carrier.
 */
inbox_status_t inbox_reply_reaches(const inbox_reply_t *reply,
    int opted_out, const char *phone, inbox_error_t *err);

/*
 * INBOX_ERR_INSUFFICIENT_CREDITS for a reply that needs credits when
 * balance is left (err->needed, err->balance), its sentence agreeing
 * with both numbers ("needs 1 credit", "1 is left"): what each backend's
 * reply_accept answers.
 */
inbox_status_t inbox_reply_credits_short(unsigned credits, int64_t balance,
    inbox_error_t *err);

/*
 * INBOX_ERR_BILLING_INACTIVE for a reply while the organization's
 * billing is inactive: what each backend's reply_accept answers.
 */
inbox_status_t inbox_reply_billing_inactive(inbox_error_t *err);

/*
 * The reply as its store stored it, for the answer and the frames: m's
 * direction, body, media, status (queued), segments, credits and time;
 * the caller sets the ids (the message's, its thread's, its sender's).
 * INBOX_ERR_INTERNAL when memory runs out; inbox_message_free frees what
 * was copied either way.
 */
inbox_status_t inbox_reply_message(inbox_message_t *m,
    const inbox_reply_t *reply, int64_t now, inbox_error_t *err);

/*
 * A reply stored in c (m: its id, time, sender; preview), a person's or
 * a keyword's answer: it becomes the thread's last message unless a
 * newer message is there (inbox_conversation_newer: a keyword's answer
 * is timed just after its message, and a reply may have been stored
 * after that message was read and before it was written), moves its
 * activity up to its time (listing a thread that had none), and it is
 * the thread's response: the thread is no longer "unresponded"
 * (inbox_conversation_unresponded) unless an inbound message is newer
 * still.  Unread count, archive and star stay as the person left them.
 */
void inbox_conversation_reply(inbox_conversation_t *c,
    const inbox_message_t *m, const inbox_preview_t *preview);

/*
 * A campaign's or poll's message handed over to c: the thread's last
 * message as a reply's, but no response: a thread that waited for one
 * still waits (a mass send is no answer to what the contact wrote).  It
 * moves the activity of a thread that has some, and gives none to one
 * that has none: the inbox lists two-way threads, so a contact who only
 * got campaigns joins it with their first answer (or a person's reply).
 */
void inbox_conversation_bulk(inbox_conversation_t *c,
    const inbox_message_t *m, const inbox_preview_t *preview);

#endif
