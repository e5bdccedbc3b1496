/*
 * Origins in one canonical form, for the --origin allow-list.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "ws_origin.h"


static int ws_origin_host_char(int c, int bracketed);


int
ws_origin_canonical(const char *origin, char out[WS_ORIGIN_MAX])
{
    int            https, bracketed, n;
    size_t         i, host_len, scheme_len;
    const char    *host, *p;
    unsigned long  port;
    char           lower[WS_ORIGIN_MAX];

    if (strncasecmp(origin, "https://", 8) == 0) {
        https = 1;
        scheme_len = 8;

    } else if (strncasecmp(origin, "http://", 7) == 0) {
        https = 0;
        scheme_len = 7;

    } else {
        return -1;
    }

    host = origin + scheme_len;
    bracketed = host[0] == '[';

    /* the host: a name, an IPv4 address or a bracketed IPv6 one */
    for (p = host; *p != '\0'; p++) {
        if (bracketed && *p == ']') {
            p++;
            break;
        }

        if (!ws_origin_host_char((unsigned char) *p, bracketed)
            && !(p == host && bracketed))
        {
            break;
        }
    }

    host_len = (size_t) (p - host);

    if (host_len == 0 || (bracketed && p[-1] != ']')
        || host_len >= sizeof(lower))
    {
        return -1;
    }

    for (i = 0; i < host_len; i++) {
        lower[i] = (char) tolower((unsigned char) host[i]);
    }

    lower[host_len] = '\0';

    port = https ? 443 : 80;

    if (*p == ':') {
        p++;

        if (!isdigit((unsigned char) *p)) {
            return -1;
        }

        port = 0;

        while (isdigit((unsigned char) *p)) {
            port = port * 10 + (unsigned long) (*p++ - '0');

            if (port > 65535) {
                return -1;
            }
        }

        if (port == 0) {
            return -1;
        }
    }

    /* an origin ends here; a URL may go on with its path */
    if (*p != '\0' && *p != '/' && *p != '?' && *p != '#') {
        return -1;
    }

    if (port == (https ? 443UL : 80UL)) {
        n = snprintf(out, WS_ORIGIN_MAX, "%s://%s",
                     https ? "https" : "http", lower);

    } else {
        n = snprintf(out, WS_ORIGIN_MAX, "%s://%s:%lu",
                     https ? "https" : "http", lower, port);
    }

    if (n < 0 || n >= WS_ORIGIN_MAX) {
        return -1;
    }

    return 0;
}


void
ws_origin_printable(const char *text, char *out, size_t size)
{
    size_t  i;

    if (size == 0) {
        return;
    }

    for (i = 0; i < size - 1 && text[i] != '\0'; i++) {
        out[i] = (text[i] >= 0x20 && text[i] < 0x7f) ? text[i] : '?';
    }

    out[i] = '\0';
}


static int
ws_origin_host_char(int c, int bracketed)
{
    if (isalnum(c) || c == '-' || c == '.') {
        return 1;
    }

    /* an IPv6 address between brackets */
    return bracketed && c == ':';
}
