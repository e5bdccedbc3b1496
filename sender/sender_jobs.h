/*
 * The sender's jobs, each a pump that sender.c calls every turn of the
 * loop (see sender_pump_pt): each starts what is due and says when it
 * wants to look again.
 */
#ifndef SENDER_JOBS_H
#define SENDER_JOBS_H

#include "sender.h"

/* The outbox: messages to carriers (sender_outbox.c). */
int64_t sender_outbox_pump(sender_t *s, int64_t now_ms);
/* Records what the carriers answered (the pump does first thing): while
 * the sender stops, when no pump runs, with the sends it never started
 * given back.  Returns when to call it again, or -1 when nothing waits. */
int64_t sender_outbox_flush(sender_t *s, int64_t now_ms);
/* The answers a stopping sender still waits to record: those whose
 * claims are still leased at now (after that the store reports them
 * unknown whatever the sender says). */
unsigned sender_outbox_unrecorded(sender_t *s, int64_t now_ms);
/* The last call: records what was answered, logs what the store refused
 * (and so dropped). */
void sender_outbox_stop(sender_t *s);
/* Copies of inbound MMS media, fetched with the carrier's credentials
 * (sender_media.c). */
int64_t sender_media_pump(sender_t *s, int64_t now_ms);
/* Credit holds no final status settled in time (sender_holds.c). */
int64_t sender_holds_pump(sender_t *s, int64_t now_ms);
/* Carriers asked about messages whose status report never came
 * (sender_status_checks.c). */
int64_t sender_status_checks_pump(sender_t *s, int64_t now_ms);
/* Campaigns: their recipients handed to the outbox as it drains, and
 * their progress pushed (sender_campaigns.c). */
int64_t sender_campaigns_pump(sender_t *s, int64_t now_ms);

/* Carriers' opt-outs the store could not take yet, tried again
 * (sender_optouts.c). */
int64_t sender_optouts_pump(sender_t *s, int64_t now_ms);

/* A wake-up came: every job looks at once. */
void sender_jobs_wake(sender_t *s);
void sender_media_wake(sender_t *s);
void sender_campaigns_wake(sender_t *s);
/* A wake-up came that the campaigns job has not looked at yet (it does
 * in the turn it came): a campaign may have been paused or cancelled. */
int sender_campaigns_unseen(sender_t *s);

/* Campaign messages whose result the store recorded (they left the
 * outbox, or wait out a retry) since the sender started
 * (sender_outbox.c). */
unsigned long sender_outbox_bulk_recorded(sender_t *s);
/* Campaign messages were just queued: claim them. */
void sender_outbox_bulk_queued(sender_t *s);
/* Campaign messages were queued since the outbox's pump last ran: the
 * loop runs it again in the same turn (sender.c). */
int sender_outbox_bulk_handed(sender_t *s);
/* The campaign was paused by a person or cancelled (sender_campaigns.c
 * saw it): its sends in hand not started yet do not start
 * (sender_outbox.c). */
void sender_outbox_campaign_stopped(sender_t *s, const char *campaign_id,
    int cancelled);
/* org_id's quiet hours or a zone moved ("" for every organization's:
 * a "q" wake-up, wake.h): its campaign sends in hand not started yet go
 * back, so that the next claim holds them for the rule as it is now
 * (sender_outbox.c); org_id NULL: those the outbox's look found inside
 * quiet hours now. */
void sender_outbox_quiet_moved(sender_t *s, const char *org_id);

#endif
