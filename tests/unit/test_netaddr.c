/*
 * Public network addresses: each closed range at its edges, in IPv4 and
 * in each IPv6 form that carries an IPv4 address.
 */
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <inbox/netaddr.h>
#include "check.h"

/* 1 or 0 as inbox_netaddr_is_public says of text (IPv4 or IPv6), -1 when
 * text is no address */
static int
is_public(const char *text)
{
    struct sockaddr_in   v4;
    struct sockaddr_in6  v6;

    memset(&v4, 0, sizeof(v4));
    memset(&v6, 0, sizeof(v6));

    if (inet_pton(AF_INET, text, &v4.sin_addr) == 1) {
        v4.sin_family = AF_INET;
        v4.sin_port = htons(443);
        return inbox_netaddr_is_public((struct sockaddr *) &v4, sizeof(v4));
    }

    if (inet_pton(AF_INET6, text, &v6.sin6_addr) == 1) {
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons(443);
        return inbox_netaddr_is_public((struct sockaddr *) &v6, sizeof(v6));
    }

    return -1;
}

#define CHECK_PUBLIC(text)  CHECK_INT(is_public(text), 1)
#define CHECK_CLOSED(text)  CHECK_INT(is_public(text), 0)

/* text (an IPv4 address) in every IPv6 form that reaches it */
#define CHECK_CLOSED_V4(text)                                               \
    do {                                                                    \
        CHECK_CLOSED(text);                                                 \
        CHECK_CLOSED("::ffff:" text);                                       \
        CHECK_CLOSED("64:ff9b::" text);                                     \
    } while (0)


TEST(public_ipv4_addresses_are_public)
{
    CHECK_PUBLIC("1.1.1.1");
    CHECK_PUBLIC("8.8.8.8");
    CHECK_PUBLIC("54.172.60.1");
    CHECK_PUBLIC("223.255.255.255");
    /* just outside each closed range */
    CHECK_PUBLIC("1.0.0.0");
    CHECK_PUBLIC("9.255.255.255");
    CHECK_PUBLIC("11.0.0.0");
    CHECK_PUBLIC("100.63.255.255");
    CHECK_PUBLIC("100.128.0.0");
    CHECK_PUBLIC("126.255.255.255");
    CHECK_PUBLIC("128.0.0.0");
    CHECK_PUBLIC("169.253.255.255");
    CHECK_PUBLIC("169.255.0.0");
    CHECK_PUBLIC("172.15.255.255");
    CHECK_PUBLIC("172.32.0.0");
    CHECK_PUBLIC("192.167.255.255");
    CHECK_PUBLIC("192.169.0.0");
    CHECK_PUBLIC("192.0.1.1");
    CHECK_PUBLIC("198.17.255.255");
    CHECK_PUBLIC("198.20.0.0");
}


TEST(loopback_is_closed)
{
    CHECK_CLOSED_V4("127.0.0.1");
    CHECK_CLOSED_V4("127.0.0.0");
    CHECK_CLOSED_V4("127.255.255.254");
    CHECK_CLOSED("::1");
}


TEST(private_networks_are_closed)
{
    CHECK_CLOSED_V4("10.0.0.0");
    CHECK_CLOSED_V4("10.1.2.3");
    CHECK_CLOSED_V4("10.255.255.255");
    CHECK_CLOSED_V4("172.16.0.0");
    CHECK_CLOSED_V4("172.20.1.1");
    CHECK_CLOSED_V4("172.31.255.255");
    CHECK_CLOSED_V4("192.168.0.0");
    CHECK_CLOSED_V4("192.168.1.1");
    CHECK_CLOSED_V4("192.168.255.255");
    CHECK_CLOSED("fc00::1");
    CHECK_CLOSED("fd12:3456:789a::1");
    CHECK_CLOSED("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}


TEST(link_local_and_the_metadata_service_are_closed)
{
    CHECK_CLOSED_V4("169.254.169.254");
    CHECK_CLOSED_V4("169.254.0.0");
    CHECK_CLOSED_V4("169.254.255.255");
    CHECK_CLOSED("fe80::1");
    CHECK_CLOSED("febf:ffff::1");
    /* site-local, deprecated */
    CHECK_CLOSED("fec0::1");
}


TEST(carrier_grade_nat_is_closed)
{
    CHECK_CLOSED_V4("100.64.0.0");
    CHECK_CLOSED_V4("100.100.100.200");
    CHECK_CLOSED_V4("100.127.255.255");
}


TEST(this_network_and_unspecified_are_closed)
{
    CHECK_CLOSED_V4("0.0.0.0");
    CHECK_CLOSED_V4("0.1.2.3");
    CHECK_CLOSED_V4("0.255.255.255");
    CHECK_CLOSED("::");
}


TEST(multicast_broadcast_and_reserved_are_closed)
{
    CHECK_CLOSED_V4("224.0.0.1");
    CHECK_CLOSED_V4("239.255.255.250");
    CHECK_CLOSED_V4("240.0.0.1");
    CHECK_CLOSED_V4("255.255.255.255");
    CHECK_CLOSED("ff02::1");
    CHECK_CLOSED("ff0e::1");
}


TEST(special_purpose_ipv4_blocks_are_closed)
{
    CHECK_CLOSED_V4("192.0.0.8");
    CHECK_CLOSED_V4("192.0.2.1");
    CHECK_CLOSED_V4("192.88.99.1");
    CHECK_CLOSED_V4("198.18.0.1");
    CHECK_CLOSED_V4("198.19.255.255");
    CHECK_CLOSED_V4("198.51.100.7");
    CHECK_CLOSED_V4("203.0.113.9");
}


TEST(ipv6_forms_of_a_public_ipv4_address_are_public)
{
    CHECK_PUBLIC("::ffff:8.8.8.8");
    CHECK_PUBLIC("64:ff9b::8.8.8.8");
    CHECK_PUBLIC("2002:808:808::1");
}


TEST(ipv6_forms_of_a_closed_ipv4_address_are_closed)
{
    /* the mapped forms are checked with every range above; these are
     * the same addresses as other IPv6 texts, and the other carriers */
    CHECK_CLOSED("::ffff:7f00:1");
    CHECK_CLOSED("::ffff:a9fe:a9fe");
    CHECK_CLOSED("2002:7f00:1::1");
    CHECK_CLOSED("2002:a00:1::1");
    CHECK_CLOSED("2002:a9fe:a9fe::1");
    /* IPv4-compatible, deprecated: outside 2000::/3 whatever it holds */
    CHECK_CLOSED("::127.0.0.1");
    CHECK_CLOSED("::8.8.8.8");
}


TEST(public_ipv6_addresses_are_public)
{
    CHECK_PUBLIC("2600:1f18:1234::1");
    CHECK_PUBLIC("2a00:1450:4001:80b::200e");
    CHECK_PUBLIC("2001:4860:4860::8888");
    CHECK_PUBLIC("3fff:1000::1");
}


TEST(ipv6_outside_global_unicast_or_in_its_special_blocks_is_closed)
{
    CHECK_CLOSED("100::1");
    CHECK_CLOSED("64:ff9b:1::1");
    CHECK_CLOSED("4000::1");
    CHECK_CLOSED("2001::1");
    CHECK_CLOSED("2001:0:ffff::1");
    CHECK_CLOSED("2001:2::1");
    CHECK_CLOSED("2001:db8::1");
    CHECK_CLOSED("3fff::1");
    CHECK_CLOSED("3fff:fff::1");
}


TEST(other_families_and_short_lengths_are_closed)
{
    struct sockaddr_in   v4;
    struct sockaddr_in6  v6;
    struct sockaddr      unix_addr;

    memset(&v4, 0, sizeof(v4));
    v4.sin_family = AF_INET;
    CHECK_INT(inet_pton(AF_INET, "8.8.8.8", &v4.sin_addr), 1);
    CHECK_INT(inbox_netaddr_is_public((struct sockaddr *) &v4, sizeof(v4)),
              1);
    CHECK_INT(inbox_netaddr_is_public((struct sockaddr *) &v4,
                                      sizeof(v4) - 1), 0);

    memset(&v6, 0, sizeof(v6));
    v6.sin6_family = AF_INET6;
    CHECK_INT(inet_pton(AF_INET6, "2001:4860::1", &v6.sin6_addr), 1);
    CHECK_INT(inbox_netaddr_is_public((struct sockaddr *) &v6, sizeof(v6)),
              1);
    CHECK_INT(inbox_netaddr_is_public((struct sockaddr *) &v6,
                                      sizeof(struct sockaddr_in)), 0);

    memset(&unix_addr, 0, sizeof(unix_addr));
    unix_addr.sa_family = AF_UNIX;
    CHECK_INT(inbox_netaddr_is_public(&unix_addr, sizeof(unix_addr)), 0);
    CHECK_INT(inbox_netaddr_is_public(NULL, 0), 0);
}


RUN_TESTS()
