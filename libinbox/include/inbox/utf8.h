/*
 * UTF-8 as RFC 3629 defines it: no overlong forms, no surrogates, nothing
 * above U+10FFFF, no truncated sequences.
 *
 * Text that may be invalid (a carrier's message body, bytes read back from
 * an older store) is repaired the way the Unicode Standard recommends
 * (chapter 3, "U+FFFD Substitution of Maximal Subparts", as the WHATWG
 * decoder in browsers also does): each maximal subpart of an ill-formed
 * sequence becomes one U+FFFD.
 */
#ifndef INBOX_UTF8_H
#define INBOX_UTF8_H

#include <stddef.h>

/* U+FFFD REPLACEMENT CHARACTER, encoded. */
#define INBOX_UTF8_REPLACEMENT      "\xEF\xBF\xBD"
#define INBOX_UTF8_REPLACEMENT_LEN  3

/* 1 when the len bytes at s are well-formed UTF-8 (NUL is a character). */
int inbox_utf8_valid(const char *s, size_t len);

/* The characters in s once repaired: each code point and each maximal
 * invalid subpart counts one. */
size_t inbox_utf8_length(const char *s, size_t len);

/*
 * A malloc'd, NUL-terminated copy of s with each maximal invalid subpart
 * replaced by U+FFFD, its length in *out_len (when not NULL); NULL when out
 * of memory.  The caller frees it.
 */
char *inbox_utf8_repair(const char *s, size_t len, size_t *out_len);

#endif
