/*
 * Wall-clock time as the inbox stores and shows it.
 */
#ifndef INBOX_CLOCK_H
#define INBOX_CLOCK_H

#include <stdint.h>

#define INBOX_ISO8601_MAX  25    /* "2026-11-27T03:04:05.678Z" + NUL */

int64_t inbox_now_ms(void);
void inbox_iso8601(int64_t ms, char out[INBOX_ISO8601_MAX]);
/* A time as the API takes it: "YYYY-MM-DDTHH:MM:SS" with optional
 * fractional seconds (milliseconds kept) and "Z" (UTC; an offset is
 * refused, so a time is never read in the server's zone).  0 with *ms
 * set, or -1. */
int inbox_iso8601_parse(const char *s, int64_t *ms);
/* The same, or with an offset "+HH:MM" or "-HH:MM" in place of "Z", as
 * a carrier writes its times ("2026-01-31T10:00:05.123+00:00"). */
int inbox_iso8601_parse_offset(const char *s, int64_t *ms);

/* The longest duration inbox_duration_parse takes: ten years. */
#define INBOX_DURATION_MAX_MS  (3650LL * 86400000)

/* A duration as a person writes it, a positive whole number and a unit:
 * "90s", "45m", "12h", "30d" or "2w".  Returns 0 with *ms set, or -1 for
 * anything else or more than INBOX_DURATION_MAX_MS. */
int inbox_duration_parse(const char *s, int64_t *ms);

#endif
