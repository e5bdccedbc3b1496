/*
 * Wall-clock time as the inbox stores and shows it.
 */
#ifndef INBOX_CLOCK_H
#define INBOX_CLOCK_H

#include <stdint.h>

#define INBOX_ISO8601_MAX  25    /* "2026-11-27T03:04:05.678Z" + NUL */

int64_t inbox_now_ms(void);
void inbox_iso8601(int64_t ms, char out[INBOX_ISO8601_MAX]);

#endif
