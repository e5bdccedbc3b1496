/*
 * Strict UTF-8, and its repair by substitution of maximal subparts.
 *
 * One scanner serves all three functions: at each position it reports
 * either a well-formed sequence or the maximal subpart that is not (the
 * longest prefix of a well-formed sequence, or one byte), so validating,
 * counting and repairing can never disagree.
 */
#include <stdlib.h>
#include <string.h>
#include <inbox/utf8.h>


static size_t inbox_utf8_scan(const unsigned char *p, size_t len,
    int *valid);


int
inbox_utf8_valid(const char *s, size_t len)
{
    int                   valid;
    size_t                n;
    const unsigned char  *p, *end;

    p = (const unsigned char *) s;
    end = p + len;

    while (p < end) {
        n = inbox_utf8_scan(p, (size_t) (end - p), &valid);
        if (!valid) {
            return 0;
        }
        p += n;
    }

    return 1;
}


size_t
inbox_utf8_length(const char *s, size_t len)
{
    int                   valid;
    size_t                count;
    const unsigned char  *p, *end;

    p = (const unsigned char *) s;
    end = p + len;
    count = 0;

    while (p < end) {
        p += inbox_utf8_scan(p, (size_t) (end - p), &valid);
        count++;
    }

    return count;
}


char *
inbox_utf8_repair(const char *s, size_t len, size_t *out_len)
{
    int                   valid;
    char                 *out, *dst;
    size_t                n;
    const unsigned char  *p, *end;

    /* a subpart is at least one byte and becomes three */
    out = malloc(len * INBOX_UTF8_REPLACEMENT_LEN + 1);
    if (out == NULL) {
        return NULL;
    }

    dst = out;
    p = (const unsigned char *) s;
    end = p + len;

    while (p < end) {
        n = inbox_utf8_scan(p, (size_t) (end - p), &valid);

        if (valid) {
            memcpy(dst, p, n);
            dst += n;

        } else {
            memcpy(dst, INBOX_UTF8_REPLACEMENT, INBOX_UTF8_REPLACEMENT_LEN);
            dst += INBOX_UTF8_REPLACEMENT_LEN;
        }

        p += n;
    }

    *dst = '\0';

    if (out_len != NULL) {
        *out_len = (size_t) (dst - out);
    }

    return out;
}


/*
 * The sequence at p (len > 0): its length, and *valid.  The well-formed
 * sequences are those of the Unicode Standard's table 3-7: the lead byte
 * fixes the length and the range of the second byte (which is where
 * overlong forms, surrogates and code points above U+10FFFF are ruled
 * out); every further byte is 80..BF.  An ill-formed sequence is its
 * maximal subpart: the lead and the bytes that still fitted, or the lone
 * byte when it cannot start a sequence.
 */
static size_t
inbox_utf8_scan(const unsigned char *p, size_t len, int *valid)
{
    size_t         n, i;
    unsigned char  lo, hi;

    *valid = 1;

    if (p[0] < 0x80) {
        return 1;
    }

    lo = 0x80;
    hi = 0xBF;

    if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        n = 2;

    } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        n = 3;
        if (p[0] == 0xE0) {
            lo = 0xA0;                  /* below: overlong */
        } else if (p[0] == 0xED) {
            hi = 0x9F;                  /* above: surrogates */
        }

    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        n = 4;
        if (p[0] == 0xF0) {
            lo = 0x90;                  /* below: overlong */
        } else if (p[0] == 0xF4) {
            hi = 0x8F;                  /* above: beyond U+10FFFF */
        }

    } else {
        /* 80..BF continuation, C0 C1 overlong, F5..FF beyond U+10FFFF */
        *valid = 0;
        return 1;
    }

    for (i = 1; i < n; i++) {
        if (i >= len || p[i] < lo || p[i] > hi) {
            *valid = 0;
            return i;
        }

        lo = 0x80;
        hi = 0xBF;
    }

    return n;
}
