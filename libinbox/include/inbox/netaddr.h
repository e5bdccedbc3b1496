/*
 * Which network addresses are public: the ones anyone on the Internet
 * reaches as the same host.  A request the inbox makes to a URL someone
 * else chose (an inbound MMS's media URL, named in a webhook a tenant can
 * sign) connects only to those, so that it cannot reach the inbox's own
 * host, its private network or a cloud's metadata service (server-side
 * request forgery).
 */
#ifndef INBOX_NETADDR_H
#define INBOX_NETADDR_H

#include <sys/socket.h>

/*
 * 1 when addr (AF_INET or AF_INET6, len its size) is a public unicast
 * address; 0 for any other family, a short len, and every address that
 * is not: IPv4 0/8 (this network), 10/8, 172.16/12 and 192.168/16
 * (private), 100.64/10 (carrier-grade NAT), 127/8 (loopback),
 * 169.254/16 (link-local), 192.0.0/24 (protocol assignments), the
 * documentation and benchmarking blocks (192.0.2/24, 198.18/15,
 * 198.51.100/24, 203.0.113/24), 192.88.99/24 (the 6to4 relay), 224/4
 * (multicast), 240/4 (reserved, with the broadcast 255.255.255.255); of
 * IPv6 everything outside global unicast 2000::/3 (:: unspecified, ::1
 * loopback, fc00::/7 unique local, fe80::/10 link-local, ff00::/8
 * multicast, IPv4-compatible ::a.b.c.d, ...) and within it Teredo
 * 2001::/32, benchmarking 2001:2::/48, documentation 2001:db8::/32 and
 * 3fff::/20.  An IPv6 address carrying an IPv4 one the host would reach
 * (IPv4-mapped ::ffff:a.b.c.d, NAT64 64:ff9b::a.b.c.d, 6to4
 * 2002:AABB:CCDD::) is public only when that IPv4 address is.
 */
int inbox_netaddr_is_public(const struct sockaddr *addr, socklen_t len);

#endif
