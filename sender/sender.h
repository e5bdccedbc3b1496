/*
 * What the sender's jobs share: the store, the loop, the pacing, the
 * options, and a log line writer.  Each job (replies to carriers, copies
 * of inbound media) lives in its own file and is driven by sender.c.
 */
#ifndef SENDER_H
#define SENDER_H

#include <stdint.h>
#include <inbox/clock.h>
#include <inbox/dgram.h>
#include <inbox/event.h>
#include <inbox/store.h>
#include "sender_clock.h"
#include "sender_loop.h"
#include "sender_rate.h"

typedef struct {
    const char  *store_uri;
    const char  *wake_path;      /* datagrams here mean "look again" */
    /* ws-server's sockets, one per process (--events, repeated) */
    const char  *events_paths[INBOX_EVENTS_PEERS_MAX];
    unsigned     events_count;
    const char  *public_url;     /* the inbox as carriers reach it */
    const char  *media_dir;      /* where inbound media copies go */
    double       rate;           /* sends a second per number */
    unsigned     burst;
    unsigned     max_active;     /* transfers in flight at most */
    long         timeout_ms;     /* one carrier request at most */
    int64_t      lease_ms;       /* a claim's lease (0: the store's) */
    const char  *clock_path;     /* the campaigns' clock (NULL: real) */
    int64_t      status_check_after_ms;  /* a message without a final
                                            status this long after the
                                            carrier took it is asked
                                            about (0: never) */
    double       status_check_rate;      /* such asks a second */
    int          verbose;
} sender_options_t;

/* With nothing due, a job looks anyway this often: leases run out. */
#define SENDER_IDLE_LOOK_MS  5000

typedef struct {
    sender_options_t   options;
    inbox_dgram_peer_t events[INBOX_EVENTS_PEERS_MAX];  /* ws-servers' */
    inbox_store_t     *store;
    sender_loop_t     *loop;
    sender_rate_t     *rate;
    sender_clock_t     clock;     /* the campaigns' (sender_clock.h) */
    long               nofile;    /* the file descriptor limit in use */
    int                wake_fd;   /* nginx's wake-ups come here */
    int                stopping;  /* start nothing new, finish the rest
                                     (2: a second signal, at once) */
} sender_t;

/* A job: starts what is due; returns when it wants to look again (ms
 * from now, 0 at once, -1 when only a wake-up brings new work). */
typedef int64_t (*sender_pump_pt)(sender_t *s, int64_t now_ms);

/* Hands events to each ws-server (browsers resume what is lost here). */
void sender_publish(sender_t *s, const inbox_event_list_t *events);
/* The carrier refused a contact as opted out: the store marks it so
 * (source "carrier", stamped by the store as it commits, unless the
 * contact opted in after sent_at, the report's opted_out_sent_at) and
 * browsers hear of it; while the store cannot, it is tried again
 * (sender_optouts.c). */
void sender_opt_out(sender_t *s, const char *org_id,
    const char *contact_id, int64_t sent_at);

/* A job's request found no file descriptor free (SENDER_NO_DESCRIPTOR):
 * counted in the sender's shortage, which is logged once an episode.
 * Returns when to try it again (ms); the job gives it back to the store
 * due then, with no attempt counted (sender_nofile.c). */
int64_t sender_no_descriptor(sender_t *s, int64_t now_ms);
/* Ends a shortage that has been over long enough, logging how many
 * requests it gave back; once a turn of the loop. */
void sender_no_descriptor_calm(sender_t *s, int64_t now_ms);

/* Starts a job's request t on the loop (sender_loop_start): 0, which
 * ends an episode of sender_start_failed, or -1 with curl's reason in
 * t->error. */
int sender_start(sender_t *s, sender_transfer_t *t);
/* A request the sender could not start (curl refused it, no memory for
 * it: a send, a media copy, a status ask): returns when to try it again
 * (ms), 1 s later, twice as late each round none starts; the job puts
 * it off until then (a send or a copy given back to the store, with no
 * attempt counted; an ask kept in hand).  Logged once an episode, with
 * why (sender_start.c). */
int64_t sender_start_failed(sender_t *s, int64_t now_ms, const char *why);

/* A wake-up waits, not read yet (the loop reads it at its next turn). */
int sender_wake_pending(sender_t *s);

void sender_log(sender_t *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sender_debug(sender_t *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
