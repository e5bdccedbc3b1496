/*
 * Contacts a carrier refused as opted out (Twilio's 21610, Telnyx's
 * 40300): the store marks each so, source "carrier", and browsers hear
 * of it.  The carrier says it once, in an answer the outbox has already
 * recorded, so an opt-out the store could not take (busy, or down for a
 * moment) waits here and is tried again, a second later and then at
 * least a second apart, until it is taken, unless the contact opted in
 * meanwhile (optout.h).
 * What still waits when the sender stops is lost; the carrier refuses
 * the contact's next message the same way, which brings it back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inbox/clock.h>
#include <inbox/optout.h>
#include "sender.h"
#include "sender_jobs.h"

#define SENDER_OPTOUTS_RETRY_MS  1000
/* a store down for long: the oldest are dropped (and logged) past this */
#define SENDER_OPTOUTS_MAX       10000


typedef struct sender_optout_s  sender_optout_t;

struct sender_optout_s {
    sender_optout_t  *next;
    char              org_id[INBOX_ID_MAX];
    char              contact_id[INBOX_ID_MAX];
    int64_t           sent_at;       /* of the refused message: an opt-in
                                        since outweighs it (optout.h) */
};


static struct {
    sender_optout_t   *head;
    sender_optout_t  **tail;
    unsigned           count;
    int64_t            retry_at;
} sender_optouts = { NULL, &sender_optouts.head, 0, 0 };


static inbox_status_t sender_optout_store(sender_t *s, const char *org_id,
    const char *contact_id, int64_t sent_at, inbox_error_t *err);
static void sender_optout_wait(sender_t *s, const char *org_id,
    const char *contact_id, int64_t sent_at);


void
sender_opt_out(sender_t *s, const char *org_id, const char *contact_id,
    int64_t sent_at)
{
    inbox_status_t  rc;
    inbox_error_t   err;

    /* behind those waiting: they were refused first */
    rc = sender_optouts.head != NULL
         ? INBOX_ERR_UNAVAILABLE
         : sender_optout_store(s, org_id, contact_id, sent_at, &err);

    if (rc == INBOX_ERR_UNAVAILABLE) {
        sender_optout_wait(s, org_id, contact_id, sent_at);

    } else if (rc != INBOX_OK) {
        /* gone, or never a contact of that organization */
        sender_log(s, "cannot mark contact %s opted out at the carrier: %s",
                   contact_id, err.message);
    }
}


int64_t
sender_optouts_pump(sender_t *s, int64_t now_ms)
{
    inbox_status_t    rc;
    inbox_error_t     err;
    sender_optout_t  *o;

    if (sender_optouts.head == NULL) {
        return -1;
    }

    if (now_ms < sender_optouts.retry_at) {
        return sender_optouts.retry_at - now_ms;
    }

    while ((o = sender_optouts.head) != NULL) {
        rc = sender_optout_store(s, o->org_id, o->contact_id, o->sent_at,
                                 &err);

        if (rc == INBOX_ERR_UNAVAILABLE) {
            sender_optouts.retry_at = now_ms + SENDER_OPTOUTS_RETRY_MS;
            return SENDER_OPTOUTS_RETRY_MS;
        }

        if (rc != INBOX_OK) {
            sender_log(s, "cannot mark contact %s opted out at the "
                       "carrier: %s", o->contact_id, err.message);

        } else {
            sender_log(s, "contact %s marked opted out at the carrier, "
                       "after the store came back", o->contact_id);
        }

        sender_optouts.head = o->next;
        sender_optouts.count--;
        free(o);
    }

    sender_optouts.tail = &sender_optouts.head;

    return -1;
}


static inbox_status_t
sender_optout_store(sender_t *s, const char *org_id, const char *contact_id,
    int64_t sent_at, inbox_error_t *err)
{
    inbox_status_t      rc;
    inbox_event_list_t  events;

    memset(&events, 0, sizeof(events));

    /* stamped by the store as it commits (at 0); a START taken while
     * this waited wins */
    rc = inbox_store_contact_opt_out(s->store, org_id, contact_id,
                                     INBOX_OPT_OUT_CARRIER, NULL, 0, sent_at,
                                     NULL, &events, err);
    if (rc == INBOX_OK) {
        sender_publish(s, &events);
    }

    inbox_event_list_free(&events);

    return rc;
}


static void
sender_optout_wait(sender_t *s, const char *org_id, const char *contact_id,
    int64_t sent_at)
{
    sender_optout_t  *o, *oldest;

    if (sender_optouts.count == SENDER_OPTOUTS_MAX) {
        oldest = sender_optouts.head;
        sender_log(s, "cannot mark contact %s opted out at the carrier: "
                   "%u opt-outs wait for the store already",
                   oldest->contact_id, sender_optouts.count);

        sender_optouts.head = oldest->next;
        sender_optouts.count--;
        if (sender_optouts.head == NULL) {
            sender_optouts.tail = &sender_optouts.head;
        }
        free(oldest);
    }

    o = calloc(1, sizeof(sender_optout_t));
    if (o == NULL) {
        sender_log(s, "cannot mark contact %s opted out at the carrier: "
                   "out of memory", contact_id);
        return;
    }

    snprintf(o->org_id, sizeof(o->org_id), "%s", org_id);
    snprintf(o->contact_id, sizeof(o->contact_id), "%s", contact_id);
    o->sent_at = sent_at;

    if (sender_optouts.head == NULL) {
        sender_log(s, "the store cannot take contact %s's opt-out at the "
                   "carrier now: tried again every %d ms", contact_id,
                   SENDER_OPTOUTS_RETRY_MS);
        sender_optouts.retry_at = inbox_now_ms() + SENDER_OPTOUTS_RETRY_MS;
    }

    *sender_optouts.tail = o;
    sender_optouts.tail = &o->next;
    sender_optouts.count++;
}
