/*
 * Connections within the process's descriptors: one accepted on a
 * descriptor past the part kept for connections (inbox/nofile.h) is
 * closed at once, so that the store, the events socket and the next
 * accept always find one.  Refusals, and accepts that failed all the
 * same, are logged once an episode.
 *
 * Not libwebsockets' fd_limit_per_thread: lws 4.1 stops accepting at
 * that limit, but one below the process's limit also makes it look up
 * every socket's event by a linear search of all its connections.
 */
#ifndef WS_ACCEPT_H
#define WS_ACCEPT_H

#include <stdint.h>

/* Before the lws context is created: the limit in use (inbox_nofile_
 * raise), and lws' log lines through ws_accept_lws_log. */
void ws_accept_init(long limit, int log_level);

/* LWS_CALLBACK_FILTER_NETWORK_CONNECTION for the socket fd just
 * accepted: nonzero has lws close it. */
int ws_accept_filter(int fd);

/* Logs the end of an episode that had INBOX_NOFILE_CALM_MS without a
 * refusal or failure (the keepalive timer calls it). */
void ws_accept_calm(int64_t now_ms);

#endif
