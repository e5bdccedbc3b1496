/*
 * Times as the API and the carriers write them (clock.h): the API's
 * "Z" only, a carrier's with an offset too.
 */
#include <stdint.h>
#include <inbox/clock.h>
#include "check.h"


#define T0  1795748645678LL     /* 2026-11-27T03:04:05.678Z */


TEST(the_api_takes_utc_with_z_only)
{
    int64_t  ms;

    CHECK_INT(inbox_iso8601_parse("2026-11-27T03:04:05.678Z", &ms), 0);
    CHECK_INT(ms, T0);
    CHECK_INT(inbox_iso8601_parse("2026-11-27T03:04:05Z", &ms), 0);
    CHECK_INT(ms, T0 - 678);
    /* more digits than milliseconds are cut */
    CHECK_INT(inbox_iso8601_parse("2026-11-27T03:04:05.678999Z", &ms), 0);
    CHECK_INT(ms, T0);

    CHECK_INT(inbox_iso8601_parse("2026-11-27T03:04:05.678+00:00", &ms),
              -1);
    CHECK_INT(inbox_iso8601_parse("2026-11-27T05:04:05+02:00", &ms), -1);
    CHECK_INT(inbox_iso8601_parse("2026-11-27T03:04:05", &ms), -1);
    CHECK_INT(inbox_iso8601_parse("2026-11-27T03:04:05.Z", &ms), -1);
    CHECK_INT(inbox_iso8601_parse("2026-02-30T03:04:05Z", &ms), -1);
}


TEST(a_carriers_time_may_have_an_offset)
{
    int64_t  ms;

    /* as Telnyx writes occurred_at and received_at */
    CHECK_INT(inbox_iso8601_parse_offset("2026-11-27T03:04:05.678000+00:00",
                                         &ms), 0);
    CHECK_INT(ms, T0);
    CHECK_INT(inbox_iso8601_parse_offset("2026-11-27T03:04:05.678Z", &ms),
              0);
    CHECK_INT(ms, T0);

    /* the same instant in other zones */
    CHECK_INT(inbox_iso8601_parse_offset("2026-11-27T05:34:05.678+02:30",
                                         &ms), 0);
    CHECK_INT(ms, T0);
    CHECK_INT(inbox_iso8601_parse_offset("2026-11-26T22:04:05.678-05:00",
                                         &ms), 0);
    CHECK_INT(ms, T0);

    CHECK_INT(inbox_iso8601_parse_offset("2026-11-27T03:04:05", &ms), -1);
    CHECK_INT(inbox_iso8601_parse_offset("2026-11-27T03:04:05+0000", &ms),
              -1);
    CHECK_INT(inbox_iso8601_parse_offset("2026-11-27T03:04:05+00", &ms), -1);
    CHECK_INT(inbox_iso8601_parse_offset("2026-11-27T03:04:05+24:00", &ms),
              -1);
    CHECK_INT(inbox_iso8601_parse_offset("2026-11-27T03:04:05+00:60", &ms),
              -1);
    CHECK_INT(inbox_iso8601_parse_offset("2026-11-27T03:04:05+00:00x",
                                         &ms), -1);
    CHECK_INT(inbox_iso8601_parse_offset("2026-11-27T03:04:05Z+00:00", &ms),
              -1);
}


RUN_TESTS()
