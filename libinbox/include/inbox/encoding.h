/*
 * base64 (standard, padded) and base64url (no padding), over OpenSSL.
 */
#ifndef INBOX_ENCODING_H
#define INBOX_ENCODING_H

#include <stddef.h>

/* Output sizes including the NUL. */
#define INBOX_BASE64_LEN(n)     (((n) + 2) / 3 * 4 + 1)

/* Write the encoding and a NUL into out; return its length. */
size_t inbox_base64_encode(const unsigned char *in, size_t len, char *out);
size_t inbox_base64url_encode(const unsigned char *in, size_t len,
    char *out);

/* Return the decoded length, or -1 for bad input or when out (of size
 * bytes) is too small. */
long inbox_base64_decode(const char *in, size_t len, unsigned char *out,
    size_t size);
long inbox_base64url_decode(const char *in, size_t len, unsigned char *out,
    size_t size);

#endif
