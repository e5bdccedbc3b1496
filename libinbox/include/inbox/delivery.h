/*
 * An outbound message's delivery status: its names, and the rule that it
 * only moves forward.
 *
 *   queued -> sending -> sent -> delivered | undelivered | failed
 *
 * Carriers report in any order and repeat themselves: a status that does
 * not advance (a repeat, a late "sent" after "delivered") changes
 * nothing.  delivered, undelivered and failed are final: nothing moves a
 * message out of them, not even another final status.  undelivered and
 * failed mean the carrier did not deliver it (its credit hold is
 * released); each carrier's own names are mapped onto these in its file
 * (twilio.h, telnyx.h).
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

/* "queued", "sending", "sent", "delivered", "undelivered", "failed": the
 * contract's message.status. */
const char *inbox_delivery_name(inbox_delivery_t status);

/* 0, or -1 when name is none of the above. */
int inbox_delivery_parse(const char *name, inbox_delivery_t *status);

/* 1 when a message in status old moves to next: next is further along
 * and old is not final. */
int inbox_status_advances(inbox_delivery_t old, inbox_delivery_t next);

/* delivered, undelivered or failed. */
int inbox_delivery_final(inbox_delivery_t status);

/* undelivered or failed: the message did not reach the contact. */
int inbox_delivery_failed(inbox_delivery_t status);

#endif
