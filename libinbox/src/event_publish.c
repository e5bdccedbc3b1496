/*
 * Handing events to ws-server: as few datagrams as the records fit in,
 * since Linux queues only a handful of datagrams on a unix socket
 * whatever their size.
 */
#include <stdlib.h>
#include <inbox/event.h>


static size_t inbox_event_publish_flush(const inbox_dgram_peer_t *peer,
    const char *buf, size_t len, size_t records);


size_t
inbox_events_publish(const inbox_dgram_peer_t *peer,
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
inbox_event_publish_flush(const inbox_dgram_peer_t *peer, const char *buf,
    size_t len, size_t records)
{
    if (records == 0) {
        return 0;
    }

    return inbox_dgram_send(peer, buf, len) == 0 ? 0 : records;
}
