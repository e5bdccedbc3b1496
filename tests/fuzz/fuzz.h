/*
 * What every fuzz target shares: libFuzzer calls LLVMFuzzerTestOneInput
 * with arbitrary bytes (tests/fuzz/README.md says how to run them, and
 * replay.c feeds a target its saved inputs in make test).  The parsers
 * take strings, so each target copies the bytes into a NUL-terminated
 * buffer of its own: a read past the end shows as an overflow.
 */
#ifndef INBOX_FUZZ_H
#define INBOX_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a string (malloc'd, exactly size bytes and a NUL); NULL
 * when out of memory. */
static inline char *
fuzz_string(const uint8_t *data, size_t size)
{
    char  *s;

    s = malloc(size + 1);
    if (s != NULL) {
        memcpy(s, data, size);
        s[size] = '\0';
    }

    return s;
}

#endif
