/*
 * Handing events to ws-server: as few datagrams as the records fit in,
 * since Linux queues only a handful of datagrams on a unix socket
 * whatever their size; each may wait a little for room (back-pressure),
 * and what is shed all the same is counted for the caller's log.
 */
#include <stdlib.h>
#include <inbox/event.h>


static size_t inbox_event_publish_flush(inbox_dgram_peer_t *peer,
    const char *buf, size_t len, size_t records);


size_t
inbox_events_publish(inbox_dgram_peer_t *peer,
    const inbox_event_list_t *events)
{
    char    *buf;
    size_t   i, len, records, lost;

    if (peer->fd == -1 || events == NULL || events->count == 0) {
        return 0;
    }

    buf = malloc(INBOX_EVENT_DATAGRAM_MAX);
    if (buf == NULL) {
        return events->count;
    }

    len = 0;
    records = 0;
    lost = 0;

    for (i = 0; i < events->count; i++) {

        if (inbox_event_record_append(&events->items[i], buf,
                                      INBOX_EVENT_DATAGRAM_MAX, &len)
            == 0)
        {
            records++;
            continue;
        }

        lost += inbox_event_publish_flush(peer, buf, len, records);
        len = 0;
        records = 0;

        /* a frame too large for any datagram is left to resume */
        if (inbox_event_record_append(&events->items[i], buf,
                                      INBOX_EVENT_DATAGRAM_MAX, &len)
            == 0)
        {
            records++;

        } else {
            lost++;
        }
    }

    lost += inbox_event_publish_flush(peer, buf, len, records);

    free(buf);

    return lost;
}


/* Sends one datagram of records; returns how many were lost with it. */
static size_t
inbox_event_publish_flush(inbox_dgram_peer_t *peer, const char *buf,
    size_t len, size_t records)
{
    if (records == 0) {
        return 0;
    }

    return inbox_dgram_send_wait(peer, buf, len) == 0 ? 0 : records;
}


int
inbox_events_shed_report(inbox_dgram_peer_t *peer, size_t lost,
    uint64_t *since, uint64_t *total)
{
    int64_t   now, at;
    uint64_t  shed, logged;

    if (lost > 0) {
        __atomic_add_fetch(&peer->shed, (uint64_t) lost, __ATOMIC_RELAXED);
    }

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
