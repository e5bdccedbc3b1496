/*
 * The bulk window (sender_window.h): Vegas's estimate of the requests
 * queued at the carrier, once a round.
 */
#include "sender_window.h"


static int64_t sender_window_base(const sender_window_t *w);
static unsigned sender_window_excess(unsigned window, double queued);
static void sender_window_round(sender_window_t *w);


void
sender_window_init(sender_window_t *w, unsigned cap)
{
    w->cap = cap > 0 ? cap : 1;
    w->window = 1;
    w->starting = 1;
    w->base_now_us = 0;
    w->base_before_us = 0;
    w->period_start_ms = 0;
    w->answers = 0;
    w->total_us = 0;
    w->full = 0;
}


void
sender_window_answer(sender_window_t *w, int64_t rtt_us, unsigned in_flight,
    int64_t now_ms)
{
    if (rtt_us <= 0) {
        rtt_us = 1;
    }

    if (now_ms - w->period_start_ms >= SENDER_WINDOW_BASE_PERIOD_MS) {
        w->base_before_us = w->base_now_us;
        w->base_now_us = 0;
        w->period_start_ms = now_ms;
    }

    if (w->base_now_us == 0 || rtt_us < w->base_now_us) {
        w->base_now_us = rtt_us;
    }

    w->answers++;
    w->total_us += rtt_us;

    if (in_flight >= w->window) {
        w->full++;
    }

    if (w->answers >= w->window) {
        sender_window_round(w);
    }
}


static int64_t
sender_window_base(const sender_window_t *w)
{
    if (w->base_before_us > 0 && w->base_before_us < w->base_now_us) {
        return w->base_before_us;
    }

    return w->base_now_us;
}


/*
 * How far to come down when more than SENDER_WINDOW_QUEUE_HIGH wait:
 * to where the middle of the aim would wait, but by at most half the
 * window in one round.  One at a time is Vegas's step near the aim; far
 * above it (a window learnt at a quick carrier, now a one-lane queue)
 * that took a round per step, about a hundred answers from 16 to 4,
 * with a reply waiting behind each of them.  Half at most, so that one
 * round made slow by something else costs no more than a halving.
 */
static unsigned
sender_window_excess(unsigned window, double queued)
{
    double    aim;
    unsigned  excess;

    aim = (SENDER_WINDOW_QUEUE_LOW + SENDER_WINDOW_QUEUE_HIGH) / 2;
    excess = (unsigned) (queued - aim);

    if (excess > window / 2) {
        excess = window / 2;
    }

    return excess;
}


static void
sender_window_round(sender_window_t *w)
{
    int     short_wait;
    double  average, base, queued;

    average = (double) w->total_us / w->answers;
    base = (double) sender_window_base(w);
    queued = w->window * (1.0 - base / average);
    short_wait = (average - base < SENDER_WINDOW_DELAY_US);

    if (queued > SENDER_WINDOW_QUEUE_HIGH && !short_wait) {
        w->starting = 0;
        w->window -= sender_window_excess(w->window, queued);

    } else if ((queued < SENDER_WINDOW_QUEUE_LOW || short_wait)
               && w->window < w->cap && w->full * 2 >= w->answers)
    {
        /* only a window that was used says the carrier could take more */
        w->window = w->starting ? w->window * 2 : w->window + 1;

        if (w->window > w->cap) {
            w->window = w->cap;
        }

    } else if (queued >= SENDER_WINDOW_QUEUE_LOW && !short_wait) {
        w->starting = 0;
    }

    w->answers = 0;
    w->total_us = 0;
    w->full = 0;
}
