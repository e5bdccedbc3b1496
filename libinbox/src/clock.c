/*
 * Wall-clock time in milliseconds, its ISO-8601 form, and durations.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <inbox/clock.h>


int64_t
inbox_now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


void
inbox_iso8601(int64_t ms, char out[INBOX_ISO8601_MAX])
{
    size_t     n;
    int64_t    secs, millis;
    time_t     t;
    struct tm  tm;

    /* floor division, so times before 1970 still read right */
    secs = ms / 1000;
    millis = ms % 1000;
    if (millis < 0) {
        millis += 1000;
        secs--;
    }

    t = (time_t) secs;
    if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999
        || tm.tm_year + 1900 < 1000)
    {
        snprintf(out, INBOX_ISO8601_MAX, "1970-01-01T00:00:00.000Z");
        return;
    }

    n = strftime(out, INBOX_ISO8601_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, INBOX_ISO8601_MAX - n, ".%03dZ", (int) millis);
}


static int inbox_iso8601_read(const char *s, int offsets, int64_t *ms);


int
inbox_iso8601_parse(const char *s, int64_t *ms)
{
    return inbox_iso8601_read(s, 0, ms);
}


int
inbox_iso8601_parse_offset(const char *s, int64_t *ms)
{
    return inbox_iso8601_read(s, 1, ms);
}


static int
inbox_iso8601_read(const char *s, int offsets, int64_t *ms)
{
    int        n, frac, digits, sign, off_hour, off_min;
    time_t     t;
    struct tm  tm, back;

    memset(&tm, 0, sizeof(struct tm));
    n = 0;

    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
               &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n)
        != 6 || n != 19)
    {
        return -1;
    }

    s += n;
    frac = 0;

    if (*s == '.') {
        /* milliseconds: the first three digits count, more are cut */
        for (s++, digits = 0; *s >= '0' && *s <= '9'; s++, digits++) {
            if (digits < 3) {
                frac = frac * 10 + (*s - '0');
            }
        }

        if (digits == 0) {
            return -1;
        }

        for ( /* void */ ; digits < 3; digits++) {
            frac *= 10;
        }
    }

    /* UTC, or where taken an explicit offset ("+00:00", as Telnyx
     * writes its times): either says which instant is meant */
    off_hour = 0;
    off_min = 0;
    sign = 1;

    if (s[0] == 'Z') {
        if (s[1] != '\0') {
            return -1;
        }

    } else if (offsets && (s[0] == '+' || s[0] == '-')) {
        sign = s[0] == '-' ? -1 : 1;

        if (!(s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9'
              && s[3] == ':' && s[4] >= '0' && s[4] <= '9'
              && s[5] >= '0' && s[5] <= '9' && s[6] == '\0'))
        {
            return -1;
        }

        off_hour = (s[1] - '0') * 10 + (s[2] - '0');
        off_min = (s[4] - '0') * 10 + (s[5] - '0');

        if (off_hour > 23 || off_min > 59) {
            return -1;
        }

    } else {
        return -1;
    }

    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    back = tm;

    t = timegm(&tm);

    /* timegm normalizes: "02-30" would be March the 2nd */
    if (t == (time_t) -1 || tm.tm_year != back.tm_year
        || tm.tm_mon != back.tm_mon || tm.tm_mday != back.tm_mday
        || tm.tm_hour != back.tm_hour || tm.tm_min != back.tm_min
        || tm.tm_sec != back.tm_sec)
    {
        return -1;
    }

    /* local time less its offset is UTC */
    *ms = ((int64_t) t - sign * ((int64_t) off_hour * 3600 + off_min * 60))
          * 1000 + frac;

    return 0;
}


int
inbox_duration_parse(const char *s, int64_t *ms)
{
    int64_t      n, unit;
    const char  *p;

    n = 0;

    for (p = s; *p >= '0' && *p <= '9'; p++) {
        n = n * 10 + (*p - '0');

        /* past the longest duration in any unit: stop before overflow */
        if (n > INBOX_DURATION_MAX_MS / 1000) {
            return -1;
        }
    }

    if (p == s || n == 0 || p[0] == '\0' || p[1] != '\0') {
        return -1;
    }

    switch (*p) {
    case 's':
        unit = 1000;
        break;
    case 'm':
        unit = 60 * 1000;
        break;
    case 'h':
        unit = 3600 * 1000;
        break;
    case 'd':
        unit = 86400 * 1000;
        break;
    case 'w':
        unit = 7 * 86400 * 1000;
        break;
    default:
        return -1;
    }

    if (n > INBOX_DURATION_MAX_MS / unit) {
        return -1;
    }

    *ms = n * unit;

    return 0;
}
