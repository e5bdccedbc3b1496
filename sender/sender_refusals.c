/*
 * The replies' refusals for their number's account, logged in full once
 * a minute a number and code, the rest counted (sender_refusals.h).
 */
#include <string.h>
#include "sender_refusals.h"


static sender_refusal_t *sender_refusals_find(sender_refusals_t *r,
    const char *from, const char *code);
static sender_refusal_t *sender_refusals_slot(sender_refusals_t *r);


int
sender_refusals_note(sender_refusals_t *r, const char *from,
    const char *code, long http_status, const char *message_id,
    int64_t now)
{
    sender_refusal_t  *e;

    e = sender_refusals_find(r, from, code);

    if (e != NULL) {
        /* within its minute, or a summary still to say: counted there */
        if (now - e->logged_at < SENDER_REFUSALS_MINUTE_MS || e->held > 0) {
            e->held++;
            e->http_status = http_status;
            strncpy(e->last_id, message_id, sizeof(e->last_id) - 1);
            e->last_id[sizeof(e->last_id) - 1] = '\0';
            return 0;
        }

        /* a quiet minute went by: a first refusal again */
        e->logged_at = now;
        return 1;
    }

    e = sender_refusals_slot(r);
    if (e == NULL) {
        /* every slot holds a count still to say: this one is logged */
        return 1;
    }

    memset(e, 0, sizeof(sender_refusal_t));
    strncpy(e->from, from, sizeof(e->from) - 1);
    strncpy(e->code, code, sizeof(e->code) - 1);
    e->http_status = http_status;
    e->logged_at = now;

    return 1;
}


int
sender_refusals_summary(sender_refusals_t *r, int64_t now, int all,
    sender_refusal_t *out)
{
    size_t             i;
    sender_refusal_t  *e;

    for (i = 0; i < SENDER_REFUSALS_MAX; i++) {
        e = &r->numbers[i];

        if (e->from[0] == '\0' || e->held == 0
            || (!all && now - e->logged_at < SENDER_REFUSALS_MINUTE_MS))
        {
            continue;
        }

        *out = *e;
        e->held = 0;
        e->last_id[0] = '\0';
        e->logged_at = now;

        return 1;
    }

    return 0;
}


int64_t
sender_refusals_wait(const sender_refusals_t *r, int64_t now)
{
    size_t                   i;
    int64_t                  wait, next;
    const sender_refusal_t  *e;

    next = -1;

    for (i = 0; i < SENDER_REFUSALS_MAX; i++) {
        e = &r->numbers[i];

        if (e->from[0] == '\0' || e->held == 0) {
            continue;
        }

        wait = e->logged_at + SENDER_REFUSALS_MINUTE_MS - now;
        if (wait < 0) {
            wait = 0;
        }

        if (next < 0 || wait < next) {
            next = wait;
        }
    }

    return next;
}


static sender_refusal_t *
sender_refusals_find(sender_refusals_t *r, const char *from,
    const char *code)
{
    size_t  i;

    for (i = 0; i < SENDER_REFUSALS_MAX; i++) {
        if (r->numbers[i].from[0] != '\0'
            && strcmp(r->numbers[i].from, from) == 0
            && strcmp(r->numbers[i].code, code) == 0)
        {
            return &r->numbers[i];
        }
    }

    return NULL;
}


/* A free slot, else the one logged longest ago with nothing held (it
 * only forgets that its minute is still on), else NULL. */
static sender_refusal_t *
sender_refusals_slot(sender_refusals_t *r)
{
    size_t             i;
    sender_refusal_t  *e, *oldest;

    oldest = NULL;

    for (i = 0; i < SENDER_REFUSALS_MAX; i++) {
        e = &r->numbers[i];

        if (e->from[0] == '\0') {
            return e;
        }

        if (e->held == 0
            && (oldest == NULL || e->logged_at < oldest->logged_at))
        {
            oldest = e;
        }
    }

    return oldest;
}
