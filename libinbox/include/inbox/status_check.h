/*
 * Asking a carrier about a message's status when its report never came.
 *
 * A status callback can be lost: Twilio does not retry one that our
 * nginx answered 5xx (the store briefly unavailable) nor one that never
 * arrived, and Telnyx's retries end during a long outage.  The message
 * would stay "sent" for good and a campaign's delivered and failed
 * counts would never finish.  So the sender asks the carrier about a
 * message it took that has no final status (delivered, undelivered,
 * failed) some time after it took it (the sender's --status-check-after,
 * INBOX_STATUS_CHECK_AFTER_DEFAULT): inbox_carrier_status_request and
 * inbox_carrier_status_answer (carrier.h), and the answer is stored as
 * the callback would have been (inbox_store_message_status_updates).
 *
 * The store hands such messages out in bounded batches and remembers
 * when each is to be asked next (inbox_store_status_checks_claim), so
 * that a restarted sender does not ask about everything at once.  A
 * message still not final is asked about again, further apart as it
 * ages (inbox_status_check_next), and not after
 * INBOX_STATUS_CHECK_GIVE_UP_MS; one the carrier says it will report
 * nothing more about (Telnyx's delivery_unconfirmed, which leaves it
 * "sent"), or says it has no such message (a 404: asked with other
 * credentials than those it went with, or deleted at the carrier), is not
 * asked about again (inbox_store_status_checks_end).  A message the
 * carrier has no record of keeps its status, and its credit hold (the
 * carrier took it) is captured by the holds' expiry (billing.h), as when
 * the asks end at INBOX_STATUS_CHECK_GIVE_UP_MS without a final answer.
 */
#ifndef INBOX_STATUS_CHECK_H
#define INBOX_STATUS_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <inbox/carrier.h>
#include <inbox/model.h>

/* The first ask, this long after the carrier took the message. */
#define INBOX_STATUS_CHECK_AFTER_DEFAULT  (10LL * 60 * 1000)
/* Asks at most this far apart. */
#define INBOX_STATUS_CHECK_APART_MAX      (12LL * 3600 * 1000)
/* None after the message is this old: the hold's own end (billing.h). */
#define INBOX_STATUS_CHECK_GIVE_UP_MS     (72LL * 3600 * 1000)
/* A claim hands out at most this many. */
#define INBOX_STATUS_CHECK_CLAIM_MAX      100

/* One message to ask its carrier about. */
typedef struct {
    char             message_id[INBOX_ID_MAX];
    char             org_id[INBOX_ID_MAX];
    char             campaign_id[INBOX_ID_MAX];   /* "" for a reply */
    inbox_carrier_t  carrier;
    char             provider_id[INBOX_PROVIDER_ID_MAX];
    int64_t          submitted_at;    /* when the carrier took it */
    int              last;            /* the last ask: none comes after
                                         it, whatever the answer */
    inbox_number_t   number;          /* the organization's number of
                                         that carrier it went from (else
                                         its first): credentials; e164
                                         "" when it has none any more */
} inbox_status_check_t;

typedef struct {
    inbox_status_check_t  *items;
    size_t                 count;
} inbox_status_check_list_t;

void inbox_status_check_list_free(inbox_status_check_list_t *list);

/*
 * When a message the carrier took at submitted_at, asked about at now,
 * is asked about next: half its age later (so asks come further apart
 * as it ages, about a dozen over three days), at least after apart and
 * at most INBOX_STATUS_CHECK_APART_MAX later, and never past
 * submitted_at + give_up: 0 when that ask would be, this one being the
 * last.
 */
int64_t inbox_status_check_next(int64_t submitted_at, int64_t now,
    int64_t after, int64_t give_up);

#endif
