/*
 * Billing: an organization's plan and credits as GET /api/v1/billing
 * shows them, and the ledger that explains every change of its balance.
 *
 * Credits are counted twice: the balance (what can still be spent) and
 * what is held (spent from the balance by replies whose outcome is not
 * known yet, see delivery.h).  Each change of either is one ledger entry,
 * written in the same transaction as the change:
 *   grant    balance + credits                 (inboxctl credits grant)
 *   hold     balance - credits, held + credits (a reply accepted)
 *   release  balance + credits, held - credits (the reply failed, or
 *                                               its campaign paused
 *                                               with it in the outbox:
 *                                               held again, a new hold,
 *                                               as it is handed out)
 *   capture  held - credits                    (the reply went out, or
 *                                               the carrier's last report
 *                                               said "sent", or no final
 *                                               status came)
 * so the entries add up to the balance and to what is held, and each
 * says what both were after it.  Neither ever goes below zero.
 *
 * The plan says who pays for a message: on "per_message" its credits
 * are held from the balance as above; on "unlimited" (a subscription)
 * the subscription has paid, so nothing is held, no ledger entry is
 * written and the balance is not looked at.  Either way nothing is sent
 * while billing is inactive.
 */
#ifndef INBOX_BILLING_H
#define INBOX_BILLING_H

#include <stddef.h>
#include <stdint.h>
#include <inbox/model.h>
#include <inbox/campaign.h>
#include <inbox/contact.h>

/* A hold with no final status this long after the carrier took the
 * message is captured (inbox_store_holds_expire): some carriers never
 * confirm delivery, and not all say so (Telnyx's delivery_unconfirmed
 * captures it at once, delivery.h). */
#define INBOX_HOLD_MAX_AGE_DEFAULT  (72LL * 3600 * 1000)

#define INBOX_PLAN_MAX  24

/* The most one grant adds: a mistyped number must not overflow the
 * balance (64-bit, and SQLite's integers turn to floating point past
 * it). */
#define INBOX_CREDITS_GRANT_MAX  1000000000LL

typedef enum {
    INBOX_PLAN_PER_MESSAGE = 0,      /* a credit balance */
    INBOX_PLAN_UNLIMITED             /* a subscription */
} inbox_plan_t;

typedef struct {
    int      active;                 /* 0: billing lapsed, nothing sent */
    char     plan[INBOX_PLAN_MAX];   /* inbox_plan_name's */
    int64_t  balance;
    int64_t  held;
} inbox_billing_t;

typedef enum {
    INBOX_LEDGER_GRANT = 0,
    INBOX_LEDGER_HOLD,
    INBOX_LEDGER_RELEASE,
    INBOX_LEDGER_CAPTURE
} inbox_ledger_kind_t;

/*
 * An entry as the ledger lists it: what it moved, and, read with it from
 * its message as that is now, the message's thread and contact (whom the
 * credits were for), the campaign or poll it was sent for (what spent
 * them, during a big send) and, for a release, the message's error_code:
 * why it failed and its credits came back (outbox.h's codes, or a
 * carrier's), or INBOX_LEDGER_PAUSED when it did not fail: its campaign
 * paused.
 */
/* A release's error_code when its message was not failed but parked, its
 * campaign paused (outbox.h): it is held again as it goes. */
#define INBOX_LEDGER_PAUSED  "campaign_paused"

typedef struct {
    char                 id[INBOX_ID_MAX];
    inbox_ledger_kind_t  kind;
    int64_t              credits;      /* how many moved (positive) */
    int64_t              balance;      /* the balance after it */
    int64_t              held;         /* what was held after it */
    char                 message_id[INBOX_ID_MAX];  /* "" for a grant */
    int64_t              at;           /* ms */
    /* "" when there is no message (a grant) or it is gone */
    char                 conversation_id[INBOX_ID_MAX];
    char                 contact_phone[INBOX_PHONE_MAX];
    char                 contact_name[INBOX_SETTINGS_TEXT_SIZE(
                                          INBOX_NAME_MAX)];  /* "": none */
    char                 error_code[32];    /* a release's; "" otherwise */
    /* the campaign or poll its message was sent for, as it is named
     * now; id "" when none (a reply, a grant, a message gone) */
    struct {
        char                   id[INBOX_ID_MAX];
        inbox_campaign_kind_t  kind;
        char                   name[INBOX_SETTINGS_TEXT_SIZE(
                                        INBOX_CAMPAIGN_NAME_MAX)];
    } campaign;
} inbox_ledger_entry_t;

typedef struct {
    inbox_ledger_entry_t  *items;
    size_t                 count;
    char                   next_cursor[INBOX_CURSOR_MAX];   /* "" is null */
} inbox_ledger_page_t;

void inbox_ledger_page_free(inbox_ledger_page_t *page);

/* "grant", "hold", "release", "capture"; parse returns 0, or -1. */
const char *inbox_ledger_kind_name(inbox_ledger_kind_t kind);
int inbox_ledger_kind_parse(const char *name, inbox_ledger_kind_t *kind);

/* What an entry of kind moves the balance and the held credits by. */
int64_t inbox_ledger_balance_change(inbox_ledger_kind_t kind,
    int64_t credits);
int64_t inbox_ledger_held_change(inbox_ledger_kind_t kind, int64_t credits);

/* "per_message", "unlimited"; parse returns 0, or -1. */
const char *inbox_plan_name(inbox_plan_t plan);
int inbox_plan_parse(const char *name, inbox_plan_t *plan);
/* The plan as stored: what an organization made before plans has, or a
 * name this release does not know, is charged per message, so a
 * message is never sent unpaid by mistake. */
inbox_plan_t inbox_plan_stored(const char *name);
/* What a message of price credits takes from the balance on plan. */
unsigned inbox_plan_charge(inbox_plan_t plan, unsigned credits);

#endif
