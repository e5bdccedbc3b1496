/*
 * Handing events to ws-server: as few datagrams as the records fit in,
 * since Linux queues only a handful of datagrams on a unix socket
 * whatever their size; each may wait a little for room (back-pressure),
 * and what is shed all the same is counted for the caller's log.  With
 * several ws-server processes each datagram is built once and sent to
 * every one of them, each peer keeping its own wait and count.
 */
#include <stdlib.h>
#include <inbox/event.h>


static void inbox_event_publish_flush(inbox_dgram_peer_t *peers,
    size_t npeers, const char *buf, size_t len, size_t records,
    size_t *lost);


size_t
inbox_events_publish(inbox_dgram_peer_t *peer,
    const inbox_event_list_t *events)
{
    size_t  lost;

    lost = 0;
    inbox_events_publish_each(peer, 1, events, &lost);

    return lost;
}


void
inbox_events_publish_each(inbox_dgram_peer_t *peers, size_t npeers,
    const inbox_event_list_t *events, size_t *lost)
{
    char    *buf;
    size_t   i, p, len, records;

    for (p = 0; p < npeers; p++) {
        lost[p] = 0;
    }

    if (events == NULL || events->count == 0) {
        return;
    }

    buf = malloc(INBOX_EVENT_DATAGRAM_MAX);
    if (buf == NULL) {
        for (p = 0; p < npeers; p++) {
            lost[p] = peers[p].fd == -1 ? 0 : events->count;
        }
        return;
    }

    len = 0;
    records = 0;

    for (i = 0; i < events->count; i++) {

        if (inbox_event_record_append(&events->items[i], buf,
                                      INBOX_EVENT_DATAGRAM_MAX, &len)
            == 0)
        {
            records++;
            continue;
        }

        inbox_event_publish_flush(peers, npeers, buf, len, records, lost);
        len = 0;
        records = 0;

        /* a frame too large for any datagram is left to resume */
        if (inbox_event_record_append(&events->items[i], buf,
                                      INBOX_EVENT_DATAGRAM_MAX, &len)
            == 0)
        {
            records++;

        } else {
            for (p = 0; p < npeers; p++) {
                lost[p] += peers[p].fd == -1 ? 0 : 1;
            }
        }
    }

    inbox_event_publish_flush(peers, npeers, buf, len, records, lost);

    free(buf);
}


/* Sends one datagram of records to each open peer; adds to lost[p] the
 * records peer p did not get. */
static void
inbox_event_publish_flush(inbox_dgram_peer_t *peers, size_t npeers,
    const char *buf, size_t len, size_t records, size_t *lost)
{
    size_t  p;

    if (records == 0) {
        return;
    }

    for (p = 0; p < npeers; p++) {
        if (peers[p].fd != -1
            && inbox_dgram_send_wait(&peers[p], buf, len) != 0)
        {
            lost[p] += records;
        }
    }
}


void
inbox_events_shed_add(inbox_dgram_peer_t *peer, size_t lost)
{
    if (lost > 0) {
        __atomic_add_fetch(&peer->shed, (uint64_t) lost, __ATOMIC_RELAXED);
    }
}


int
inbox_events_shed_report(inbox_dgram_peer_t *peer, size_t lost,
    uint64_t *since, uint64_t *total)
{
    int64_t   now, at;
    uint64_t  shed, logged;

    inbox_events_shed_add(peer, lost);

    shed = __atomic_load_n(&peer->shed, __ATOMIC_RELAXED);
    logged = __atomic_load_n(&peer->shed_logged, __ATOMIC_RELAXED);

    if (shed == logged) {
        return 0;
    }

    now = inbox_dgram_now_ms();
    at = __atomic_load_n(&peer->shed_log_at, __ATOMIC_RELAXED);

    /* one thread wins the second's line */
    if (now < at
        || !__atomic_compare_exchange_n(&peer->shed_log_at, &at, now + 1000,
                                        0, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED))
    {
        return 0;
    }

    __atomic_store_n(&peer->shed_logged, shed, __ATOMIC_RELAXED);

    *since = shed - logged;
    *total = shed;

    return 1;
}
