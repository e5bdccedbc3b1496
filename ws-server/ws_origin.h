/*
 * Which web pages may open a WebSocket: the browser's "Origin" header of
 * the upgrade request against the list given with --origin.
 *
 * Origins are compared in one canonical form, "scheme://host[:port]":
 * scheme and host in lower case, no path, and no port when it is the
 * scheme's default (browsers leave it out).
 */
#ifndef WS_ORIGIN_H
#define WS_ORIGIN_H

#include <stddef.h>

#define WS_ORIGIN_MAX  256

/*
 * The canonical form of an http(s) origin or URL ("https://Inbox.example
 * .com:443/app/" gives "https://inbox.example.com") into out.  Returns 0,
 * or -1 for anything else: another scheme, no host, "null", too long.
 */
int ws_origin_canonical(const char *origin, char out[WS_ORIGIN_MAX]);

/* A copy of text for a log line or an error message: printable ASCII
 * only (others become '?'), at most size - 1 bytes. */
void ws_origin_printable(const char *text, char *out, size_t size);

#endif
