/*
 * Public network addresses (netaddr.h): IANA's special-purpose address
 * registries, on the address itself, never on a name.
 */
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>
#include <inbox/netaddr.h>

typedef struct {
    uint32_t  net;
    unsigned  bits;
} inbox_netaddr_v4_block_t;

typedef struct {
    uint8_t   net[16];
    unsigned  bits;
} inbox_netaddr_v6_block_t;

static const inbox_netaddr_v4_block_t  inbox_netaddr_v4_closed[] = {
    { 0x00000000, 8 },     /* 0/8: "this network", 0.0.0.0 unspecified */
    { 0x0a000000, 8 },     /* 10/8: private */
    { 0x64400000, 10 },    /* 100.64/10: carrier-grade NAT */
    { 0x7f000000, 8 },     /* 127/8: loopback */
    { 0xa9fe0000, 16 },    /* 169.254/16: link-local, cloud metadata */
    { 0xac100000, 12 },    /* 172.16/12: private */
    { 0xc0000000, 24 },    /* 192.0.0/24: protocol assignments */
    { 0xc0000200, 24 },    /* 192.0.2/24: documentation */
    { 0xc0586300, 24 },    /* 192.88.99/24: the 6to4 relay, withdrawn */
    { 0xc0a80000, 16 },    /* 192.168/16: private */
    { 0xc6120000, 15 },    /* 198.18/15: benchmarking */
    { 0xc6336400, 24 },    /* 198.51.100/24: documentation */
    { 0xcb007100, 24 },    /* 203.0.113/24: documentation */
    { 0xe0000000, 4 },     /* 224/4: multicast */
    { 0xf0000000, 4 },     /* 240/4: reserved, 255.255.255.255 broadcast */
};

/* Within global unicast 2000::/3, the blocks that are not public. */
static const inbox_netaddr_v6_block_t  inbox_netaddr_v6_closed[] = {
    { { 0x20, 0x01, 0x00, 0x00 }, 32 },              /* Teredo */
    { { 0x20, 0x01, 0x00, 0x02, 0x00, 0x00 }, 48 },  /* benchmarking */
    { { 0x20, 0x01, 0x0d, 0xb8 }, 32 },              /* documentation */
    { { 0x3f, 0xff, 0x00 }, 20 },                    /* documentation */
};

static const uint8_t  inbox_netaddr_v4_mapped[12] =
    { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
static const uint8_t  inbox_netaddr_nat64[12] =
    { 0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };

static int inbox_netaddr_v4_is_public(const uint8_t *a);
static int inbox_netaddr_v6_is_public(const uint8_t *a);
static int inbox_netaddr_v6_within(const uint8_t *a,
    const inbox_netaddr_v6_block_t *block);


int
inbox_netaddr_is_public(const struct sockaddr *addr, socklen_t len)
{
    const struct sockaddr_in   *v4;
    const struct sockaddr_in6  *v6;

    if (addr == NULL) {
        return 0;
    }

    if (addr->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        v4 = (const struct sockaddr_in *) addr;
        return inbox_netaddr_v4_is_public(
                   (const uint8_t *) &v4->sin_addr.s_addr);
    }

    if (addr->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        v6 = (const struct sockaddr_in6 *) addr;
        return inbox_netaddr_v6_is_public(v6->sin6_addr.s6_addr);
    }

    return 0;
}


/* a: 4 bytes in network order */
static int
inbox_netaddr_v4_is_public(const uint8_t *a)
{
    size_t    i;
    uint32_t  ip, mask;

    ip = (uint32_t) a[0] << 24 | (uint32_t) a[1] << 16
         | (uint32_t) a[2] << 8 | (uint32_t) a[3];

    for (i = 0; i < sizeof(inbox_netaddr_v4_closed)
                    / sizeof(inbox_netaddr_v4_closed[0]); i++)
    {
        mask = 0xffffffffu << (32 - inbox_netaddr_v4_closed[i].bits);
        if ((ip & mask) == inbox_netaddr_v4_closed[i].net) {
            return 0;
        }
    }

    return 1;
}


/*
 * The addresses that carry an IPv4 one reach the host that one names
 * (the kernel itself for a mapped one, a translator for the others), so
 * they are judged by it.  Everything else outside 2000::/3 is some
 * network's own (loopback, unique local, link-local, multicast) or not
 * routed at all.
 */
static int
inbox_netaddr_v6_is_public(const uint8_t *a)
{
    size_t  i;

    if (memcmp(a, inbox_netaddr_v4_mapped, 12) == 0
        || memcmp(a, inbox_netaddr_nat64, 12) == 0)
    {
        return inbox_netaddr_v4_is_public(a + 12);
    }

    if (a[0] == 0x20 && a[1] == 0x02) {
        /* 6to4: 2002:AABB:CCDD::/48 reaches a.b.c.d's network */
        return inbox_netaddr_v4_is_public(a + 2);
    }

    if ((a[0] & 0xe0) != 0x20) {
        return 0;
    }

    for (i = 0; i < sizeof(inbox_netaddr_v6_closed)
                    / sizeof(inbox_netaddr_v6_closed[0]); i++)
    {
        if (inbox_netaddr_v6_within(a, &inbox_netaddr_v6_closed[i])) {
            return 0;
        }
    }

    return 1;
}


static int
inbox_netaddr_v6_within(const uint8_t *a,
    const inbox_netaddr_v6_block_t *block)
{
    unsigned  whole, rest;
    uint8_t   mask;

    whole = block->bits / 8;
    rest = block->bits % 8;

    if (memcmp(a, block->net, whole) != 0) {
        return 0;
    }

    if (rest == 0) {
        return 1;
    }

    mask = (uint8_t) (0xff << (8 - rest));

    return (a[whole] & mask) == (block->net[whole] & mask);
}
