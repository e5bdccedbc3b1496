/*
 * Quiet hours: when a campaign's or a poll's message waits (replies from
 * the inbox never do).
 *
 * The window is the organization's (settings.h: start and end in minutes
 * after local midnight, 21:00 to 08:00 by default; start > end crosses
 * midnight) and is read on the recipient's own clock: the contact's time
 * zone when it is known, else the organization's, else UTC.  Local times
 * come from the tz database through ICU's calendar (DST included), never
 * from a fixed offset.  A message due inside the window waits until the
 * window opens: the first instant the recipient's clock reads end (on a
 * night whose end falls in a DST gap, the first valid instant after it).
 *
 * Every function takes "now" from its caller, so tests (and a store
 * replaying a schedule) set the clock.
 */
#ifndef INBOX_QUIET_H
#define INBOX_QUIET_H

#include <stdint.h>

/* The zone a recipient's clock is read in: contact_tz when it is a known
 * zone, else org_tz when known, else "UTC".  Never NULL. */
const char *inbox_quiet_zone(const char *contact_tz, const char *org_tz);

/* 1 when ICU's tz database knows zone (an IANA name such as
 * "America/New_York"). */
int inbox_quiet_zone_known(const char *zone);

/*
 * Whether now (ms) is inside the window [start, end) on the clock of
 * inbox_quiet_zone(contact_tz, org_tz).  Returns 1 and sets *opens_at to
 * when the window next opens (ms, after now), or 0 and sets *opens_at to
 * now.  start == end is no window at all; minutes outside 0..1439 are
 * treated as no window too.
 */
int inbox_quiet_hours(const char *contact_tz, const char *org_tz, int start,
    int end, int64_t now, int64_t *opens_at);

#endif
