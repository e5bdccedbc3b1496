/*
 * base64 and base64url over OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock.
 *
 * EVP_DecodeBlock is lenient (it skips whitespace and counts padding as
 * zero bytes), so input is checked here first and the padding subtracted.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <inbox/encoding.h>


static long inbox_base64_decode_padded(const char *in, size_t len,
    unsigned char *out, size_t size);
static int inbox_base64_char(int c);


size_t
inbox_base64_encode(const unsigned char *in, size_t len, char *out)
{
    return (size_t) EVP_EncodeBlock((unsigned char *) out, in, (int) len);
}


size_t
inbox_base64url_encode(const unsigned char *in, size_t len, char *out)
{
    size_t  n, i;

    n = inbox_base64_encode(in, len, out);

    while (n > 0 && out[n - 1] == '=') {
        n--;
    }
    out[n] = '\0';

    for (i = 0; i < n; i++) {
        if (out[i] == '+') {
            out[i] = '-';

        } else if (out[i] == '/') {
            out[i] = '_';
        }
    }

    return n;
}


long
inbox_base64_decode(const char *in, size_t len, unsigned char *out,
    size_t size)
{
    size_t  i, pad;

    if (len % 4 != 0) {
        return -1;
    }

    pad = 0;
    if (len > 0 && in[len - 1] == '=') {
        pad++;
        if (in[len - 2] == '=') {
            pad++;
        }
    }

    for (i = 0; i < len - pad; i++) {
        if (!inbox_base64_char((unsigned char) in[i])) {
            return -1;
        }
    }

    return inbox_base64_decode_padded(in, len, out, size);
}


long
inbox_base64url_decode(const char *in, size_t len, unsigned char *out,
    size_t size)
{
    char    *padded;
    long     n;
    size_t   i, plen;

    if (len % 4 == 1) {
        return -1;
    }

    plen = (len + 3) / 4 * 4;
    padded = malloc(plen + 1);
    if (padded == NULL) {
        return -1;
    }

    for (i = 0; i < len; i++) {
        switch (in[i]) {
        case '-':
            padded[i] = '+';
            break;
        case '_':
            padded[i] = '/';
            break;
        case '+':
        case '/':
            free(padded);
            return -1;
        default:
            if (!inbox_base64_char((unsigned char) in[i])) {
                free(padded);
                return -1;
            }
            padded[i] = in[i];
        }
    }

    for ( /* void */ ; i < plen; i++) {
        padded[i] = '=';
    }
    padded[plen] = '\0';

    n = inbox_base64_decode_padded(padded, plen, out, size);
    free(padded);

    return n;
}


/* in is checked: alphabet characters, then at most two '='. */
static long
inbox_base64_decode_padded(const char *in, size_t len, unsigned char *out,
    size_t size)
{
    unsigned char  *tmp;
    size_t          pad;
    int             n;

    if (len == 0) {
        return 0;
    }

    pad = (in[len - 1] == '=') + (in[len - 2] == '=');

    tmp = malloc(len / 4 * 3 + 1);
    if (tmp == NULL) {
        return -1;
    }

    n = EVP_DecodeBlock(tmp, (const unsigned char *) in, (int) len);
    if (n < 0 || (size_t) n < pad || (size_t) n - pad > size) {
        free(tmp);
        return -1;
    }

    n -= (int) pad;
    memcpy(out, tmp, (size_t) n);
    free(tmp);

    return n;
}


static int
inbox_base64_char(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '+' || c == '/';
}
