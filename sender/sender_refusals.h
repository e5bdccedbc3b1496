/*
 * The error log's lines for replies (a keyword's answer, a person's
 * reply) the carrier refused for their number's account or credentials
 * (the result's account).  They come at people's pace, but a number
 * whose token is wrong refuses every one: a burst of STOPs would log a
 * burst of the same line.  So the first refusal of a number (for one
 * carrier's code) is logged in full; those that follow within
 * SENDER_REFUSALS_MINUTE_MS are counted, and said in one line once that
 * minute is over, a line which begins the next minute: at most one line
 * a minute for a number and code, as a campaign's pause is logged once
 * a pause.  Another code is news (the token fixed, the number still not
 * the account's) and is logged in full at once.
 *
 * Plain bookkeeping on the times given: no clock of its own.
 */
#ifndef SENDER_REFUSALS_H
#define SENDER_REFUSALS_H

#include <stdint.h>
#include <inbox/carrier.h>
#include <inbox/model.h>
#include <inbox/phone.h>

#define SENDER_REFUSALS_MINUTE_MS  60000

/* Numbers (and codes) followed at once: beyond, a refusal is logged in
 * full rather than lose the count of one still held. */
#define SENDER_REFUSALS_MAX        32

typedef struct {
    char           from[INBOX_PHONE_MAX];        /* "": a free slot */
    char           code[INBOX_CARRIER_CODE_MAX];
    long           http_status;                  /* the latest's */
    int64_t        logged_at;    /* ms: the latest line for it */
    unsigned long  held;         /* refusals since, not logged */
    char           last_id[INBOX_ID_MAX];        /* the latest held */
} sender_refusal_t;

/* Zeroed before use. */
typedef struct {
    sender_refusal_t  numbers[SENDER_REFUSALS_MAX];
} sender_refusals_t;

/*
 * A reply (message_id) from number from refused at now (ms) with the
 * carrier's code and HTTP status: 1 when it is to be logged in full,
 * 0 when it is counted for the next summary.
 */
int sender_refusals_note(sender_refusals_t *r, const char *from,
    const char *code, long http_status, const char *message_id,
    int64_t now);

/*
 * One summary due at now (its minute is over; with all, any held, as
 * the sender stops): copies it to out, with its count, and begins its
 * next minute; 1, or 0 when none is due.  Called until 0.
 */
int sender_refusals_summary(sender_refusals_t *r, int64_t now, int all,
    sender_refusal_t *out);

/* How long until the next summary is due (ms, 0: now), -1 when none
 * waits. */
int64_t sender_refusals_wait(const sender_refusals_t *r, int64_t now);

#endif
