/*
 * The sender's log of replies refused for their number's account: the
 * first of a number and code in full, the rest within a minute counted
 * and said in one line once the minute is over.
 */
#include <stdio.h>
#include "check.h"
#include "sender_refusals.h"

#define MIN  SENDER_REFUSALS_MINUTE_MS
#define T0   ((int64_t) 1700000000000)

static const char  *A = "+15550001111";
static const char  *B = "+15550002222";


TEST(a_burst_of_one_number_logs_one_line_then_a_count_once_a_minute)
{
    static sender_refusals_t  r;
    sender_refusal_t          s;

    CHECK_INT(sender_refusals_wait(&r, T0), -1);

    CHECK_INT(sender_refusals_note(&r, A, "20003", 401, "m1", T0), 1);
    CHECK_INT(sender_refusals_note(&r, A, "20003", 401, "m2", T0 + 10), 0);
    CHECK_INT(sender_refusals_note(&r, A, "20003", 401, "m3", T0 + 20), 0);
    CHECK_INT(sender_refusals_note(&r, A, "20003", 401, "m4", T0 + 30), 0);

    /* nothing to say before the minute is over */
    CHECK_INT(sender_refusals_summary(&r, T0 + MIN - 1, 0, &s), 0);
    CHECK_INT(sender_refusals_wait(&r, T0 + 1000), MIN - 1000);

    CHECK_INT(sender_refusals_summary(&r, T0 + MIN, 0, &s), 1);
    CHECK_STR(s.from, A);
    CHECK_STR(s.code, "20003");
    CHECK_INT(s.http_status, 401);
    CHECK_INT(s.held, 3);
    CHECK_STR(s.last_id, "m4");
    CHECK_INT(sender_refusals_summary(&r, T0 + MIN, 0, &s), 0);
    CHECK_INT(sender_refusals_wait(&r, T0 + MIN), -1);

    /* the summary began the next minute: counted again */
    CHECK_INT(sender_refusals_note(&r, A, "20003", 401, "m5",
                                   T0 + MIN + 5), 0);
    CHECK_INT(sender_refusals_wait(&r, T0 + MIN + 5), MIN - 5);
    CHECK_INT(sender_refusals_summary(&r, T0 + 2 * MIN, 0, &s), 1);
    CHECK_INT(s.held, 1);
    CHECK_STR(s.last_id, "m5");

    /* a quiet minute after: the next is a first again */
    CHECK_INT(sender_refusals_summary(&r, T0 + 3 * MIN, 0, &s), 0);
    CHECK_INT(sender_refusals_note(&r, A, "20003", 401, "m6",
                                   T0 + 3 * MIN), 1);
}


TEST(another_number_or_code_is_logged_in_full)
{
    static sender_refusals_t  r;
    sender_refusal_t          s;

    CHECK_INT(sender_refusals_note(&r, A, "20003", 401, "m1", T0), 1);
    CHECK_INT(sender_refusals_note(&r, B, "20003", 401, "m2", T0 + 1), 1);
    CHECK_INT(sender_refusals_note(&r, A, "21606", 400, "m3", T0 + 2), 1);
    CHECK_INT(sender_refusals_note(&r, A, "20003", 401, "m4", T0 + 3), 0);
    CHECK_INT(sender_refusals_note(&r, B, "20003", 401, "m5", T0 + 4), 0);

    CHECK_INT(sender_refusals_summary(&r, T0 + MIN + 4, 0, &s), 1);
    CHECK_INT(s.held, 1);
    CHECK_INT(sender_refusals_summary(&r, T0 + MIN + 4, 0, &s), 1);
    CHECK_INT(s.held, 1);
    CHECK_INT(sender_refusals_summary(&r, T0 + MIN + 4, 0, &s), 0);
}


TEST(a_stopping_sender_says_every_count_at_once)
{
    static sender_refusals_t  r;
    sender_refusal_t          s;

    CHECK_INT(sender_refusals_note(&r, A, "10009", 401, "m1", T0), 1);
    CHECK_INT(sender_refusals_note(&r, A, "10009", 401, "m2", T0 + 1), 0);
    CHECK_INT(sender_refusals_summary(&r, T0 + 2, 0, &s), 0);
    CHECK_INT(sender_refusals_summary(&r, T0 + 2, 1, &s), 1);
    CHECK_INT(s.held, 1);
    CHECK_STR(s.last_id, "m2");
    CHECK_INT(sender_refusals_summary(&r, T0 + 2, 1, &s), 0);
}


TEST(more_numbers_than_slots_lose_no_count)
{
    static sender_refusals_t  r;
    sender_refusal_t          s;
    char                      from[INBOX_PHONE_MAX];
    unsigned long             held;
    int                       i, n;

    /* every slot with a count still to say */
    for (i = 0; i < SENDER_REFUSALS_MAX; i++) {
        snprintf(from, sizeof(from), "+1555000%04d", i);
        CHECK_INT(sender_refusals_note(&r, from, "20003", 401, "a", T0), 1);
        CHECK_INT(sender_refusals_note(&r, from, "20003", 401, "b", T0), 0);
    }

    /* one more number: logged in full, untracked, so logged again */
    CHECK_INT(sender_refusals_note(&r, B, "20003", 401, "c", T0), 1);
    CHECK_INT(sender_refusals_note(&r, B, "20003", 401, "d", T0), 1);

    held = 0;
    n = 0;
    while (sender_refusals_summary(&r, T0 + MIN, 0, &s)) {
        held += s.held;
        n++;
    }
    CHECK_INT(n, SENDER_REFUSALS_MAX);
    CHECK_INT(held, SENDER_REFUSALS_MAX);

    /* with nothing held, the one logged longest ago makes room */
    CHECK_INT(sender_refusals_note(&r, B, "20003", 401, "e", T0 + MIN), 1);
    CHECK_INT(sender_refusals_note(&r, B, "20003", 401, "f", T0 + MIN), 0);
}


RUN_TESTS()
