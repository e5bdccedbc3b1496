/*
 * Quiet hours (see quiet.h), on ICU's calendar: the local time of an
 * instant in a zone, and the instant of a local time, DST included.
 */
#include <string.h>
#include <unicode/ucal.h>
#include <unicode/ustring.h>
#include <inbox/quiet.h>
#include <inbox/settings.h>


#define INBOX_MINUTES_A_DAY  (24 * 60)


static UCalendar *inbox_quiet_calendar(const char *zone);
static int64_t inbox_quiet_at(UCalendar *cal, int minutes, UErrorCode *st);


int
inbox_quiet_zone_known(const char *zone)
{
    int32_t     len;
    UBool       system;
    UErrorCode  status;
    UChar       id[INBOX_TIMEZONE_MAX];
    UChar       canonical[INBOX_TIMEZONE_MAX * 2];

    if (zone == NULL || zone[0] == '\0'
        || strlen(zone) >= INBOX_TIMEZONE_MAX)
    {
        return 0;
    }

    u_uastrncpy(id, zone, INBOX_TIMEZONE_MAX);

    status = U_ZERO_ERROR;
    system = 0;
    len = ucal_getCanonicalTimeZoneID(id, -1, canonical,
                                      INBOX_TIMEZONE_MAX * 2, &system,
                                      &status);

    return U_SUCCESS(status) && system && len > 0;
}


const char *
inbox_quiet_zone(const char *contact_tz, const char *org_tz)
{
    if (inbox_quiet_zone_known(contact_tz)) {
        return contact_tz;
    }

    if (inbox_quiet_zone_known(org_tz)) {
        return org_tz;
    }

    return "UTC";
}


int
inbox_quiet_hours(const char *contact_tz, const char *org_tz, int start,
    int end, int64_t now, int64_t *opens_at)
{
    int         minute, quiet;
    int64_t     at;
    UCalendar  *cal;
    UErrorCode  status;

    *opens_at = now;

    if (start == end || start < 0 || start >= INBOX_MINUTES_A_DAY
        || end < 0 || end >= INBOX_MINUTES_A_DAY)
    {
        return 0;
    }

    cal = inbox_quiet_calendar(inbox_quiet_zone(contact_tz, org_tz));
    if (cal == NULL) {
        return 0;
    }

    status = U_ZERO_ERROR;
    ucal_setMillis(cal, (UDate) now, &status);

    minute = ucal_get(cal, UCAL_HOUR_OF_DAY, &status) * 60
             + ucal_get(cal, UCAL_MINUTE, &status);

    if (start < end) {
        quiet = minute >= start && minute < end;

    } else {
        quiet = minute >= start || minute < end;
    }

    if (!quiet || U_FAILURE(status)) {
        ucal_close(cal);
        return 0;
    }

    /* today's end when it is still ahead, else tomorrow's */
    at = inbox_quiet_at(cal, end, &status);

    if (U_SUCCESS(status) && at <= now) {
        /* an end in the hour a fall back repeats, passed once already:
         * its second occurrence, not tomorrow's */
        ucal_setAttribute(cal, UCAL_REPEATED_WALL_TIME,
                          UCAL_WALLTIME_LAST);
        ucal_setMillis(cal, (UDate) now, &status);
        at = inbox_quiet_at(cal, end, &status);
        ucal_setAttribute(cal, UCAL_REPEATED_WALL_TIME,
                          UCAL_WALLTIME_FIRST);
    }

    if (U_SUCCESS(status) && at <= now) {
        ucal_setMillis(cal, (UDate) now, &status);
        ucal_add(cal, UCAL_DATE, 1, &status);
        at = inbox_quiet_at(cal, end, &status);
    }

    ucal_close(cal);

    if (U_FAILURE(status) || at <= now) {
        return 0;
    }

    *opens_at = at;

    return 1;
}


/* A Gregorian calendar in zone (known: inbox_quiet_zone checked), whose
 * local times that a DST gap skips resolve to the first valid instant
 * after them, and repeated ones to their first occurrence. */
static UCalendar *
inbox_quiet_calendar(const char *zone)
{
    UCalendar  *cal;
    UErrorCode  status;
    UChar       id[INBOX_TIMEZONE_MAX];

    u_uastrncpy(id, zone, INBOX_TIMEZONE_MAX);

    status = U_ZERO_ERROR;
    cal = ucal_open(id, -1, "en_US_POSIX", UCAL_GREGORIAN, &status);

    if (U_FAILURE(status)) {
        if (cal != NULL) {
            ucal_close(cal);
        }

        return NULL;
    }

    ucal_setAttribute(cal, UCAL_SKIPPED_WALL_TIME, UCAL_WALLTIME_NEXT_VALID);
    ucal_setAttribute(cal, UCAL_REPEATED_WALL_TIME, UCAL_WALLTIME_FIRST);

    return cal;
}


/* The instant the calendar's current local day reads minutes. */
static int64_t
inbox_quiet_at(UCalendar *cal, int minutes, UErrorCode *status)
{
    ucal_set(cal, UCAL_HOUR_OF_DAY, minutes / 60);
    ucal_set(cal, UCAL_MINUTE, minutes % 60);
    ucal_set(cal, UCAL_SECOND, 0);
    ucal_set(cal, UCAL_MILLISECOND, 0);

    return (int64_t) ucal_getMillis(cal, status);
}
