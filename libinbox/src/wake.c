#include <string.h>

#include <inbox/wake.h>


int
inbox_wake_send(const inbox_dgram_peer_t *peer)
{
    return inbox_dgram_send(peer, "w", 1);
}


int
inbox_wake_send_quiet(inbox_dgram_peer_t *peer, const char *org_id)
{
    char    buf[INBOX_WAKE_MAX];
    size_t  len;

    len = strlen(org_id);
    if (len >= INBOX_ID_MAX) {
        /* not an id: every organization's, rather than none */
        len = 0;
    }

    buf[0] = 'q';
    memcpy(buf + 1, org_id, len);

    return inbox_dgram_send_wait(peer, buf, len + 1);
}


inbox_wake_kind_t
inbox_wake_read(const char *buf, size_t len, char *org_id)
{
    if (len == 0 || buf[0] != 'q') {
        return INBOX_WAKE_PLAIN;
    }

    len--;
    if (len >= INBOX_ID_MAX) {
        len = 0;
    }

    memcpy(org_id, buf + 1, len);
    org_id[len] = '\0';

    return INBOX_WAKE_QUIET;
}
