/* check_decode.c - link, IP, tunnel and TCP/UDP decoding on crafted frames. */
#include <check.h>
#include <pcap/dlt.h>
#include <stdlib.h>
#include <string.h>

#include "sipladder/decode.h"
#include "sipladder/status.h"
#include "check_run.h"

/* A frame under construction. */
typedef struct frame {
    uint8_t b[2048];
    size_t n;
} frame;

static void put(frame *f, const void *p, size_t n)
{
    ck_assert_uint_le(f->n + n, sizeof f->b);
    memcpy(f->b + f->n, p, n);
    f->n += n;
}
static void put8(frame *f, unsigned v) { uint8_t b = (uint8_t)v; put(f, &b, 1); }
static void put16(frame *f, unsigned v) { put8(f, v >> 8); put8(f, v & 0xff); }
static void put32(frame *f, uint32_t v) { put16(f, v >> 16); put16(f, v & 0xffff); }

static void eth(frame *f, unsigned type)
{
    static const uint8_t macs[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
    put(f, macs, sizeof macs);
    put16(f, type);
}

/* IPv4 header with the given payload length, proto, flags/offset word. */
static void ipv4(frame *f, unsigned proto, unsigned payload, unsigned frag, unsigned ttl)
{
    put8(f, 0x45); put8(f, 0); put16(f, 20 + payload); put16(f, 0x1234); put16(f, frag);
    put8(f, ttl); put8(f, proto); put16(f, 0);
    put32(f, 0x0a000001); put32(f, 0x0a000002);
}

static void ipv6(frame *f, unsigned nh, unsigned payload)
{
    put32(f, 0x60000000); put16(f, payload); put8(f, nh); put8(f, 64);
    uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8}, b[16] = {0x20, 0x01, 0x0d, 0xb8};
    a[15] = 1; b[15] = 2;
    put(f, a, 16); put(f, b, 16);
}

static void udp(frame *f, unsigned sport, unsigned dport, const char *data)
{
    size_t n = strlen(data);
    put16(f, sport); put16(f, dport); put16(f, 8 + (unsigned)n); put16(f, 0);
    put(f, data, n);
}

static void tcp(frame *f, unsigned flags, uint32_t seq, const char *data)
{
    put16(f, 40000); put16(f, 5060); put32(f, seq); put32(f, 0); put8(f, 5 << 4); put8(f, flags);
    put16(f, 65535); put32(f, 0);
    put(f, data, strlen(data));
}

/* Decode a whole frame down to L4; returns the first non-zero code. */
static int decode_all(int linktype, const frame *f, sl_l3 *l3, sl_l4 *l4)
{
    const uint8_t *ip;
    size_t ip_len;
    const char *why;
    sl_skip skip;
    int rc = sl_decode_link(linktype, f->b, f->n, &ip, &ip_len, &why, &skip);
    if (rc)
        return rc;
    for (int depth = 0; depth < 4; depth++) {
        if ((rc = sl_decode_ip(ip, ip_len, l3, &why)) != 0)
            return rc;
        rc = sl_decode_tunnel(l3, &ip, &ip_len, &why, &skip);
        if (rc < 0)
            return rc;
        if (rc == SL_DECODE_SKIP)
            break;
    }
    return sl_decode_l4(l3->proto, l3->payload, l3->payload_len, l3->payload_wire_len, l4, &why, &skip);
}

START_TEST(ethernet_ipv4_udp)
{
    frame f = {0};
    sl_l3 l3;
    sl_l4 l4;
    eth(&f, 0x0800);
    ipv4(&f, 17, 8 + 5, 0, 64);
    udp(&f, 5060, 5061, "hello");
    put(&f, "\0\0\0\0\0\0", 6); /* Ethernet padding is not payload */
    ck_assert_int_eq(decode_all(DLT_EN10MB, &f, &l3, &l4), 0);
    ck_assert_uint_eq(l3.version, 4);
    ck_assert_uint_eq(l3.ttl, 64);
    ck_assert_uint_eq(l3.src.bytes[3], 1);
    ck_assert_uint_eq(l4.sport, 5060);
    ck_assert_uint_eq(l4.dport, 5061);
    ck_assert_uint_eq(l4.len, 5);
    ck_assert_mem_eq(l4.payload, "hello", 5);
}
END_TEST

START_TEST(vlan_qinq_and_too_many_tags)
{
    frame f = {0};
    sl_l3 l3;
    sl_l4 l4;
    eth(&f, 0x88a8);
    put16(&f, 100); put16(&f, 0x8100); put16(&f, 200); put16(&f, 0x0800);
    ipv4(&f, 6, 20 + 3, 0, 64);
    tcp(&f, 0x18, 1000, "abc");
    ck_assert_int_eq(decode_all(DLT_EN10MB, &f, &l3, &l4), 0);
    ck_assert_uint_eq(l4.seq, 1000);
    ck_assert_uint_eq(l4.flags, 0x18);
    ck_assert_uint_eq(l4.len, 3);

    frame g = {0};
    const uint8_t *ip;
    size_t ip_len;
    const char *why;
    sl_skip skip;
    eth(&g, 0x8100);
    for (int i = 0; i < 100; i++) {
        put16(&g, 1);
        put16(&g, 0x8100);
    }
    ck_assert_int_eq(sl_decode_link(DLT_EN10MB, g.b, g.n, &ip, &ip_len, &why, &skip), -SL_EMALFORMED);
    ck_assert_ptr_nonnull(why);
}
END_TEST

START_TEST(linux_cooked_v1_and_v2)
{
    frame f = {0};
    sl_l3 l3;
    sl_l4 l4;
    put16(&f, 0); put16(&f, 1); put16(&f, 6); put32(&f, 0); put32(&f, 0); put16(&f, 0x86dd);
    ipv6(&f, 17, 8 + 2);
    udp(&f, 1, 2, "hi");
    ck_assert_int_eq(decode_all(DLT_LINUX_SLL, &f, &l3, &l4), 0);
    ck_assert_uint_eq(l3.version, 6);
    ck_assert_uint_eq(l4.len, 2);

    frame g = {0};
    put16(&g, 0x0800); put16(&g, 0); put32(&g, 3); put16(&g, 1); put8(&g, 4); put8(&g, 6);
    put32(&g, 0); put32(&g, 0);
    ipv4(&g, 17, 8 + 2, 0, 64);
    udp(&g, 1, 2, "hi");
    ck_assert_int_eq(decode_all(DLT_LINUX_SLL2, &g, &l3, &l4), 0);
    ck_assert_uint_eq(l3.version, 4);
    ck_assert_uint_eq(l4.dport, 2);
    /* Who sent it, per the cooked header: SLL2 byte 10, SLL bytes 0-1. */
    ck_assert_int_eq(sl_decode_link_pkttype(DLT_LINUX_SLL2, g.b, g.n), SL_PKTTYPE_OUTGOING);
    ck_assert_int_eq(sl_decode_link_pkttype(DLT_LINUX_SLL, f.b, f.n), SL_PKTTYPE_HOST);
    ck_assert_int_eq(sl_decode_link_pkttype(DLT_LINUX_SLL2, g.b, 10), -1);
    ck_assert_int_eq(sl_decode_link_pkttype(DLT_EN10MB, g.b, g.n), -1);
}
END_TEST

START_TEST(raw_and_loopback)
{
    frame f = {0};
    sl_l3 l3;
    sl_l4 l4;
    ipv4(&f, 17, 8 + 1, 0, 1);
    udp(&f, 7, 8, "x");
    ck_assert_int_eq(decode_all(DLT_RAW, &f, &l3, &l4), 0);

    frame le = {0}, be = {0};
    put8(&le, 2); put8(&le, 0); put8(&le, 0); put8(&le, 0); /* AF_INET, little-endian writer */
    put32(&be, 30);                                          /* AF_INET6 (macOS), big-endian */
    ipv4(&le, 17, 8 + 1, 0, 1);
    udp(&le, 7, 8, "x");
    ipv6(&be, 17, 8 + 1);
    udp(&be, 7, 8, "x");
    ck_assert_int_eq(decode_all(DLT_NULL, &le, &l3, &l4), 0);
    ck_assert_uint_eq(l3.version, 4);
    ck_assert_int_eq(decode_all(DLT_NULL, &be, &l3, &l4), 0);
    ck_assert_uint_eq(l3.version, 6);
    ck_assert_int_eq(decode_all(DLT_LOOP, &be, &l3, &l4), 0);
}
END_TEST

START_TEST(ipv6_extension_headers_and_fragment)
{
    frame f = {0};
    sl_l3 l3;
    const char *why;
    ipv6(&f, 0, 8 + 8 + 8 + 4);
    put8(&f, 44); put8(&f, 0); put16(&f, 0); put32(&f, 0); /* hop-by-hop */
    put8(&f, 17); put8(&f, 0); put16(&f, 0x0001); put32(&f, 0xabcdef01); /* fragment, offset 0, M */
    put16(&f, 1); put16(&f, 2); put16(&f, 100); put16(&f, 0); put32(&f, 0);
    ck_assert_int_eq(sl_decode_ip(f.b, f.n, &l3, &why), 0);
    ck_assert(l3.is_fragment);
    ck_assert(l3.more_fragments);
    ck_assert_uint_eq(l3.ip_id, 0xabcdef01);
    ck_assert_uint_eq(l3.proto, 17);
    ck_assert_uint_eq(l3.payload_len, 12);

    frame g = {0};
    ipv6(&g, 60, 200); /* destination options running past the frame */
    put8(&g, 17); put8(&g, 20);
    ck_assert_int_eq(sl_decode_ip(g.b, g.n, &l3, &why), -SL_ETRUNC);
}
END_TEST

START_TEST(ipv4_fragment_fields_and_bad_headers)
{
    frame f = {0};
    sl_l3 l3;
    const char *why;
    ipv4(&f, 17, 16, 0x2000 | 185, 64); /* MF, offset 1480 */
    put(&f, "0123456789abcdef", 16);
    ck_assert_int_eq(sl_decode_ip(f.b, f.n, &l3, &why), 0);
    ck_assert(l3.is_fragment && l3.more_fragments);
    ck_assert_uint_eq(l3.frag_offset, 1480);

    f.b[0] = 0x44; /* IHL 16 bytes */
    ck_assert_int_eq(sl_decode_ip(f.b, f.n, &l3, &why), -SL_EMALFORMED);
    f.b[0] = 0x45;
    ck_assert_int_eq(sl_decode_ip(f.b, 12, &l3, &why), -SL_ETRUNC);
    f.b[0] = 0x35;
    ck_assert_int_eq(sl_decode_ip(f.b, f.n, &l3, &why), -SL_EMALFORMED);
}
END_TEST

START_TEST(snaplen_cut_payload_keeps_wire_length)
{
    frame f = {0};
    sl_l3 l3;
    sl_l4 l4;
    eth(&f, 0x0800);
    ipv4(&f, 6, 20 + 1000, 0, 64);
    tcp(&f, 0x18, 5, "only-this");
    ck_assert_int_eq(decode_all(DLT_EN10MB, &f, &l3, &l4), 0);
    ck_assert_uint_eq(l4.len, 9);
    ck_assert_uint_eq(l4.wire_len, 1000);
}
END_TEST

START_TEST(tcp_bad_data_offset)
{
    frame f = {0};
    sl_l4 l4;
    const char *why;
    sl_skip skip;
    tcp(&f, 0x02, 1, "");
    f.b[12] = 4 << 4;
    ck_assert_int_eq(sl_decode_l4(6, f.b, f.n, f.n, &l4, &why, &skip), -SL_EMALFORMED);
    f.b[12] = 15 << 4; /* 60 bytes of header in a 20-byte segment */
    ck_assert_int_eq(sl_decode_l4(6, f.b, f.n, f.n, &l4, &why, &skip), -SL_EMALFORMED);
    ck_assert_int_eq(sl_decode_l4(6, f.b, 10, 10, &l4, &why, &skip), -SL_ETRUNC);
    /* Options cut by the snaplen: the fixed header still counts. */
    frame g = {0};
    tcp(&g, 0x02, 77, "");
    g.b[12] = 10 << 4; /* 40 bytes of header, 20 captured */
    ck_assert_int_eq(sl_decode_l4(6, g.b, g.n, 40, &l4, &why, &skip), 0);
    ck_assert_uint_eq(l4.seq, 77);
    ck_assert_uint_eq(l4.flags, 0x02);
    ck_assert_uint_eq(l4.len, 0);
    ck_assert_uint_eq(l4.wire_len, 0);
    ck_assert_int_eq(sl_decode_l4(1, f.b, f.n, f.n, &l4, &why, &skip), SL_DECODE_SKIP);
}
END_TEST

START_TEST(udp_length_disagreement)
{
    frame f = {0};
    sl_l4 l4;
    const char *why;
    sl_skip skip;
    udp(&f, 1, 2, "abcd");
    f.b[5] = 200;
    ck_assert_int_eq(sl_decode_l4(17, f.b, f.n, f.n, &l4, &why, &skip), -SL_EMALFORMED);
    f.b[5] = 8; /* zero-length payload is fine */
    ck_assert_int_eq(sl_decode_l4(17, f.b, f.n, f.n, &l4, &why, &skip), 0);
    ck_assert_uint_eq(l4.len, 0);
    f.b[5] = 0; /* length 0: below the header itself */
    ck_assert_int_eq(sl_decode_l4(17, f.b, f.n, f.n, &l4, &why, &skip), -SL_EMALFORMED);
}
END_TEST

START_TEST(tunnels_ipip_gre_erspan)
{
    frame f = {0};
    sl_l3 l3;
    sl_l4 l4;
    eth(&f, 0x0800);
    ipv4(&f, 4, 20 + 8 + 2, 0, 64); /* IP in IP */
    ipv4(&f, 17, 8 + 2, 0, 33);
    udp(&f, 5060, 5060, "in");
    ck_assert_int_eq(decode_all(DLT_EN10MB, &f, &l3, &l4), 0);
    ck_assert_uint_eq(l3.ttl, 33);
    ck_assert_mem_eq(l4.payload, "in", 2);

    frame g = {0};
    eth(&g, 0x0800);
    ipv4(&g, 47, 4 + 4 + 8 + 14 + 20 + 8 + 2, 0, 64);
    put16(&g, 0x1000); put16(&g, 0x88be); put32(&g, 7); /* GRE with sequence: ERSPAN II */
    put32(&g, 0x10000000); put32(&g, 0);                  /* ERSPAN header */
    eth(&g, 0x0800);
    ipv4(&g, 17, 8 + 2, 0, 22);
    udp(&g, 5060, 5060, "er");
    ck_assert_int_eq(decode_all(DLT_EN10MB, &g, &l3, &l4), 0);
    ck_assert_uint_eq(l3.ttl, 22);
    ck_assert_mem_eq(l4.payload, "er", 2);
}
END_TEST

START_TEST(non_ip_is_skipped_not_malformed)
{
    frame f = {0};
    const uint8_t *ip;
    size_t ip_len;
    const char *why;
    sl_skip skip;
    eth(&f, 0x0806); /* ARP */
    put32(&f, 0);
    ck_assert_int_eq(sl_decode_link(DLT_EN10MB, f.b, f.n, &ip, &ip_len, &why, &skip), SL_DECODE_SKIP);
    ck_assert_int_eq(sl_decode_link(DLT_EN10MB, f.b, 5, &ip, &ip_len, &why, &skip), -SL_ETRUNC);
    ck_assert_int_eq(sl_decode_link(9999, f.b, f.n, &ip, &ip_len, &why, &skip), SL_DECODE_SKIP);
}
END_TEST

/* Decode down to L4 and say why it stopped when it did (0: no reason). */
static int decode_why(int linktype, const frame *f, sl_l3 *l3, sl_l4 *l4, sl_skip *skip)
{
    const uint8_t *ip;
    size_t ip_len;
    const char *why;
    int rc = sl_decode_link(linktype, f->b, f->n, &ip, &ip_len, &why, skip);
    if (rc)
        return rc;
    for (int depth = 0; depth < 4; depth++) {
        if ((rc = sl_decode_ip(ip, ip_len, l3, &why)) != 0)
            return rc;
        rc = sl_decode_tunnel(l3, &ip, &ip_len, &why, skip);
        if (rc < 0 || (rc == SL_DECODE_SKIP && skip->kind != SL_SKIP_NONE))
            return rc;
        if (rc == SL_DECODE_SKIP)
            break;
    }
    return sl_decode_l4(l3->proto, l3->payload, l3->payload_len, l3->payload_wire_len, l4, &why, skip);
}

/* Cisco MetaData (0x8909): version, length in 8-byte units, the SGT
 * option, then the inner EtherType; before or after an 802.1Q tag. */
START_TEST(cisco_metadata_sgt)
{
    frame f = {0};
    sl_l3 l3;
    sl_l4 l4;
    sl_skip skip;
    eth(&f, 0x8909);
    put8(&f, 1); put8(&f, 1); put16(&f, 0x0001); put16(&f, 42); put16(&f, 0x0800);
    ipv4(&f, 17, 8 + 3, 0, 61);
    udp(&f, 5060, 5060, "sgt");
    ck_assert_int_eq(decode_why(DLT_EN10MB, &f, &l3, &l4, &skip), 0);
    ck_assert_uint_eq(l3.ttl, 61);
    ck_assert_mem_eq(l4.payload, "sgt", 3);

    frame g = {0};
    eth(&g, 0x8100);
    put16(&g, 10); put16(&g, 0x8909);
    put8(&g, 1); put8(&g, 2); put16(&g, 0x0001); put16(&g, 42); put32(&g, 0); put32(&g, 0); put16(&g, 0x86dd);
    ipv6(&g, 6, 20 + 2);
    tcp(&g, 0x18, 5, "v6");
    ck_assert_int_eq(decode_why(DLT_EN10MB, &g, &l3, &l4, &skip), 0);
    ck_assert_uint_eq(l3.version, 6);
    ck_assert_mem_eq(l4.payload, "v6", 2);

    frame h = {0}; /* length 0: no room even for the inner EtherType */
    eth(&h, 0x8909);
    put8(&h, 1); put8(&h, 0); put16(&h, 0x0001); put16(&h, 42); put16(&h, 0x0800);
    ck_assert_int_eq(decode_why(DLT_EN10MB, &h, &l3, &l4, &skip), -SL_EMALFORMED);
}
END_TEST

/* GRE with checksum, key and sequence; over IPv6; Ethernet bridged
 * (0x6558); ERSPAN I and III; version 1 (PPTP) and an unknown protocol are
 * named, not decoded. */
START_TEST(gre_variants)
{
    sl_l3 l3;
    sl_l4 l4;
    sl_skip skip;
    frame f = {0};
    eth(&f, 0x86dd);
    ipv6(&f, 47, 4 + 12 + 20 + 8 + 2);
    put16(&f, 0xB000); put16(&f, 0x0800); put32(&f, 0); put32(&f, 77); put32(&f, 9); /* C, K, S */
    ipv4(&f, 17, 8 + 2, 0, 21);
    udp(&f, 5060, 5060, "k6");
    ck_assert_int_eq(decode_why(DLT_EN10MB, &f, &l3, &l4, &skip), 0);
    ck_assert_uint_eq(l3.ttl, 21);
    ck_assert_mem_eq(l4.payload, "k6", 2);

    frame g = {0};
    eth(&g, 0x0800);
    ipv4(&g, 47, 8 + 14 + 20 + 8 + 2, 0, 64);
    put16(&g, 0x2000); put16(&g, 0x6558); put32(&g, 0x00abcd00); /* NVGRE-style: key, bridged Ethernet */
    eth(&g, 0x0800);
    ipv4(&g, 17, 8 + 2, 0, 23);
    udp(&g, 5060, 5060, "eb");
    ck_assert_int_eq(decode_why(DLT_EN10MB, &g, &l3, &l4, &skip), 0);
    ck_assert_uint_eq(l3.ttl, 23);

    frame h = {0};
    eth(&h, 0x0800);
    ipv4(&h, 47, 4 + 14 + 20 + 8 + 2, 0, 64);
    put16(&h, 0x0000); put16(&h, 0x88be); /* no sequence: ERSPAN type I */
    eth(&h, 0x0800);
    ipv4(&h, 17, 8 + 2, 0, 24);
    udp(&h, 5060, 5060, "e1");
    ck_assert_int_eq(decode_why(DLT_EN10MB, &h, &l3, &l4, &skip), 0);
    ck_assert_uint_eq(l3.ttl, 24);

    frame e3 = {0};
    eth(&e3, 0x0800);
    ipv4(&e3, 47, 8 + 12 + 8 + 14 + 20 + 8 + 2, 0, 64);
    put16(&e3, 0x1000); put16(&e3, 0x22eb); put32(&e3, 3);
    put32(&e3, 0x20000001); put32(&e3, 0x12345678); put16(&e3, 0); put16(&e3, 0x0001); /* O: subheader */
    put32(&e3, 0); put32(&e3, 0);
    eth(&e3, 0x0800);
    ipv4(&e3, 17, 8 + 2, 0, 25);
    udp(&e3, 5060, 5060, "e3");
    ck_assert_int_eq(decode_why(DLT_EN10MB, &e3, &l3, &l4, &skip), 0);
    ck_assert_uint_eq(l3.ttl, 25);

    frame ip3 = {0}; /* ERSPAN III frame type 2: IP without Ethernet */
    eth(&ip3, 0x0800);
    ipv4(&ip3, 47, 8 + 12 + 20 + 8 + 2, 0, 64);
    put16(&ip3, 0x1000); put16(&ip3, 0x22eb); put32(&ip3, 3);
    put32(&ip3, 0x20000001); put32(&ip3, 0); put16(&ip3, 0); put16(&ip3, 2 << 10);
    ipv4(&ip3, 17, 8 + 2, 0, 26);
    udp(&ip3, 5060, 5060, "i3");
    ck_assert_int_eq(decode_why(DLT_EN10MB, &ip3, &l3, &l4, &skip), 0);
    ck_assert_uint_eq(l3.ttl, 26);

    frame p = {0};
    eth(&p, 0x0800);
    ipv4(&p, 47, 12 + 4, 0, 64);
    put16(&p, 0x3081); put16(&p, 0x880b); put32(&p, 0x00040001); put32(&p, 1); put32(&p, 0xff030021);
    ck_assert_int_eq(decode_why(DLT_EN10MB, &p, &l3, &l4, &skip), SL_DECODE_SKIP);
    ck_assert_uint_eq(skip.kind, SL_SKIP_GRE_VERSION);
    ck_assert_uint_eq(skip.value, 1);
    char buf[96];
    ck_assert_str_eq(sl_skip_describe(&skip, buf, sizeof buf), "GRE version 1 (PPTP)");
    ck_assert(!sl_skip_by_design(&skip));

    frame k = {0};
    eth(&k, 0x0800);
    ipv4(&k, 47, 4, 0, 64);
    put16(&k, 0); put16(&k, 0x0000); /* a keepalive-like protocol 0 */
    ck_assert_int_eq(decode_why(DLT_EN10MB, &k, &l3, &l4, &skip), SL_DECODE_SKIP);
    ck_assert_uint_eq(skip.kind, SL_SKIP_TUNNEL_PROTO);
}
END_TEST

/* VXLAN and Geneve: Ethernet inside UDP to 4789 / 6081; a datagram to
 * 4789 that is no VXLAN (no I flag) stays plain UDP. */
START_TEST(vxlan_and_geneve)
{
    sl_l3 l3;
    sl_l4 l4;
    sl_skip skip;
    frame f = {0};
    eth(&f, 0x0800);
    ipv4(&f, 17, 8 + 8 + 14 + 20 + 8 + 2, 0, 64);
    put16(&f, 51000); put16(&f, 4789); put16(&f, 8 + 8 + 14 + 20 + 8 + 2); put16(&f, 0);
    put32(&f, 0x08000000); put32(&f, 0x00006400);
    eth(&f, 0x0800);
    ipv4(&f, 17, 8 + 2, 0, 31);
    udp(&f, 5060, 5060, "vx");
    put(&f, "\0\0\0\0", 4); /* outer padding is not the inner frame's */
    ck_assert_int_eq(decode_why(DLT_EN10MB, &f, &l3, &l4, &skip), 0);
    ck_assert_uint_eq(l3.ttl, 31);
    ck_assert_uint_eq(l4.len, 2);
    ck_assert_mem_eq(l4.payload, "vx", 2);

    frame g = {0};
    eth(&g, 0x0800);
    ipv4(&g, 17, 8 + 5, 0, 64);
    udp(&g, 5060, 4789, "INVIT");
    ck_assert_int_eq(decode_why(DLT_EN10MB, &g, &l3, &l4, &skip), 0);
    ck_assert_uint_eq(l3.ttl, 64);
    ck_assert_uint_eq(l4.dport, 4789);

    frame h = {0};
    eth(&h, 0x0800);
    ipv4(&h, 17, 8 + 8 + 4 + 20 + 8 + 2, 0, 64);
    put16(&h, 51000); put16(&h, 6081); put16(&h, 8 + 8 + 4 + 20 + 8 + 2); put16(&h, 0);
    put8(&h, 1); put8(&h, 0); put16(&h, 0x0800); put32(&h, 0x00000100); put32(&h, 0x01020304); /* one option word */
    ipv4(&h, 17, 8 + 2, 0, 32);
    udp(&h, 5060, 5060, "gn");
    ck_assert_int_eq(decode_why(DLT_EN10MB, &h, &l3, &l4, &skip), 0);
    ck_assert_uint_eq(l3.ttl, 32);
}
END_TEST

/* GTP-U: a G-PDU's IP packet after the optional fields and an extension
 * header; an echo request is named and not followed, by design. */
START_TEST(gtpu)
{
    sl_l3 l3;
    sl_l4 l4;
    sl_skip skip;
    frame f = {0};
    eth(&f, 0x0800);
    ipv4(&f, 17, 8 + 12 + 4 + 20 + 8 + 2, 0, 64);
    put16(&f, 2152); put16(&f, 2152); put16(&f, 8 + 12 + 4 + 20 + 8 + 2); put16(&f, 0);
    put8(&f, 0x34); put8(&f, 0xff); put16(&f, 4 + 4 + 20 + 8 + 2); put32(&f, 0x1234);
    put16(&f, 0); put8(&f, 0); put8(&f, 0x85); /* next: PDU session container */
    put8(&f, 1); put8(&f, 0x10); put8(&f, 9); put8(&f, 0);
    ipv4(&f, 17, 8 + 2, 0, 41);
    udp(&f, 5060, 5060, "gt");
    ck_assert_int_eq(decode_why(DLT_EN10MB, &f, &l3, &l4, &skip), 0);
    ck_assert_uint_eq(l3.ttl, 41);
    ck_assert_mem_eq(l4.payload, "gt", 2);

    frame g = {0};
    eth(&g, 0x0800);
    ipv4(&g, 17, 8 + 12, 0, 64);
    put16(&g, 40000); put16(&g, 2152); put16(&g, 8 + 12); put16(&g, 0);
    put8(&g, 0x32); put8(&g, 1); put16(&g, 4); put32(&g, 0); put32(&g, 0x00010000);
    ck_assert_int_eq(decode_why(DLT_EN10MB, &g, &l3, &l4, &skip), SL_DECODE_SKIP);
    ck_assert_uint_eq(skip.kind, SL_SKIP_GTP_MESSAGE);
    ck_assert(sl_skip_by_design(&skip));

    frame h = {0}; /* an extension header of length 0 */
    eth(&h, 0x0800);
    ipv4(&h, 17, 8 + 12 + 4, 0, 64);
    put16(&h, 2152); put16(&h, 2152); put16(&h, 8 + 12 + 4); put16(&h, 0);
    put8(&h, 0x34); put8(&h, 0xff); put16(&h, 8); put32(&h, 1); put16(&h, 0); put8(&h, 0); put8(&h, 0x85);
    put32(&h, 0);
    ck_assert_int_eq(decode_why(DLT_EN10MB, &h, &l3, &l4, &skip), -SL_EMALFORMED);
}
END_TEST

/* Each stop is named: the reasons the analysis counts. */
START_TEST(skip_reasons_named)
{
    sl_l3 l3;
    sl_l4 l4;
    sl_skip skip;
    char buf[96];
    frame f = {0};
    eth(&f, 0x88b5);
    put32(&f, 0);
    ck_assert_int_eq(decode_why(DLT_EN10MB, &f, &l3, &l4, &skip), SL_DECODE_SKIP);
    ck_assert_uint_eq(skip.kind, SL_SKIP_ETHERTYPE);
    ck_assert_str_eq(sl_skip_describe(&skip, buf, sizeof buf), "EtherType 0x88B5 (local experimental)");
    ck_assert(!sl_skip_by_design(&skip));

    frame g = {0};
    eth(&g, 0x0806);
    put32(&g, 0);
    ck_assert_int_eq(decode_why(DLT_EN10MB, &g, &l3, &l4, &skip), SL_DECODE_SKIP);
    ck_assert(sl_skip_by_design(&skip));
    ck_assert_str_eq(sl_skip_kind_name(skip.kind), "ethertype");

    frame h = {0};
    eth(&h, 0x0800);
    ipv4(&h, 1, 8, 0, 64);
    put32(&h, 0x08000000); put32(&h, 0);
    ck_assert_int_eq(decode_why(DLT_EN10MB, &h, &l3, &l4, &skip), SL_DECODE_SKIP);
    ck_assert_uint_eq(skip.kind, SL_SKIP_IP_PROTO);
    ck_assert_str_eq(sl_skip_describe(&skip, buf, sizeof buf), "IP protocol 1 (ICMP)");
    ck_assert(sl_skip_by_design(&skip));

    frame e = {0};
    eth(&e, 0x0800);
    ipv4(&e, 50, 8, 0, 64);
    put32(&e, 1); put32(&e, 1);
    ck_assert_int_eq(decode_why(DLT_EN10MB, &e, &l3, &l4, &skip), SL_DECODE_SKIP);
    ck_assert(!sl_skip_by_design(&skip));

    frame l = {0};
    eth(&l, 0x0026); /* 802.3 length: STP */
    put32(&l, 0x42420300);
    ck_assert_int_eq(decode_why(DLT_EN10MB, &l, &l3, &l4, &skip), SL_DECODE_SKIP);
    ck_assert_uint_eq(skip.kind, SL_SKIP_LLC);
    ck_assert(sl_skip_by_design(&skip));

    ck_assert_int_eq(decode_why(9999, &l, &l3, &l4, &skip), SL_DECODE_SKIP);
    ck_assert_uint_eq(skip.kind, SL_SKIP_LINKTYPE);
    ck_assert_uint_eq(skip.value, 9999);
}
END_TEST

/* Every prefix of a valid frame decodes or fails cleanly (ASan watches). */
START_TEST(every_cut_is_safe)
{
    frame f = {0};
    sl_l3 l3;
    sl_l4 l4;
    eth(&f, 0x8100);
    put16(&f, 5); put16(&f, 0x86dd);
    ipv6(&f, 44, 8 + 20 + 4);
    put8(&f, 6); put8(&f, 0); put16(&f, 0); put32(&f, 9);
    tcp(&f, 0x18, 1, "data");
    for (size_t cut = 0; cut <= f.n; cut++) {
        frame g = {0};
        put(&g, f.b, cut);
        int rc = decode_all(DLT_EN10MB, &g, &l3, &l4);
        ck_assert(rc == 0 || rc == SL_DECODE_SKIP || rc == -SL_ETRUNC || rc == -SL_EMALFORMED);
        if (cut == f.n)
            ck_assert_int_eq(rc, 0);
    }
}
END_TEST

/* Every prefix of each tunnel form decodes or fails cleanly. */
START_TEST(every_cut_of_a_tunnel_is_safe)
{
    sl_l3 l3;
    sl_l4 l4;
    sl_skip skip;
    frame f = {0};
    eth(&f, 0x8909);
    put8(&f, 1); put8(&f, 1); put16(&f, 1); put16(&f, 2); put16(&f, 0x0800);
    ipv4(&f, 17, 8 + 12 + 4 + 20 + 8 + 8 + 14 + 4 + 20 + 8 + 12 + 20 + 8 + 2, 0, 64);
    put16(&f, 2152); put16(&f, 2152); put16(&f, 8 + 12 + 4 + 20 + 8 + 8 + 14 + 4 + 20 + 8 + 12 + 20 + 8 + 2);
    put16(&f, 0);
    put8(&f, 0x34); put8(&f, 0xff); put16(&f, 0); put32(&f, 1); put16(&f, 0); put8(&f, 0); put8(&f, 0x85);
    put8(&f, 1); put8(&f, 0); put8(&f, 0); put8(&f, 0);
    ipv4(&f, 17, 8 + 8 + 14 + 4 + 20 + 8 + 12 + 20 + 8 + 2, 0, 64);
    put16(&f, 1); put16(&f, 4789); put16(&f, 8 + 8 + 14 + 4 + 20 + 8 + 12 + 20 + 8 + 2); put16(&f, 0);
    put32(&f, 0x08000000); put32(&f, 0);
    eth(&f, 0x8100);
    put16(&f, 5); put16(&f, 0x0800);
    ipv4(&f, 47, 8 + 12 + 20 + 8 + 2, 0, 64);
    put16(&f, 0x1000); put16(&f, 0x22eb); put32(&f, 3);
    put32(&f, 0x20000001); put32(&f, 0); put16(&f, 0); put16(&f, 2 << 10);
    ipv4(&f, 17, 8 + 2, 0, 9);
    udp(&f, 5060, 5060, "ok");
    for (size_t cut = 0; cut <= f.n; cut++) {
        frame g = {0};
        put(&g, f.b, cut);
        int rc = decode_why(DLT_EN10MB, &g, &l3, &l4, &skip);
        ck_assert(rc == 0 || rc == SL_DECODE_SKIP || rc == -SL_ETRUNC || rc == -SL_EMALFORMED);
        if (cut == f.n) {
            ck_assert_int_eq(rc, 0);
            ck_assert_uint_eq(l3.ttl, 9);
        }
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("decode");
    TCase *tc = tcase_create("frames");
    tcase_add_test(tc, ethernet_ipv4_udp);
    tcase_add_test(tc, vlan_qinq_and_too_many_tags);
    tcase_add_test(tc, linux_cooked_v1_and_v2);
    tcase_add_test(tc, raw_and_loopback);
    tcase_add_test(tc, ipv6_extension_headers_and_fragment);
    tcase_add_test(tc, ipv4_fragment_fields_and_bad_headers);
    tcase_add_test(tc, snaplen_cut_payload_keeps_wire_length);
    tcase_add_test(tc, tcp_bad_data_offset);
    tcase_add_test(tc, udp_length_disagreement);
    tcase_add_test(tc, tunnels_ipip_gre_erspan);
    tcase_add_test(tc, non_ip_is_skipped_not_malformed);
    tcase_add_test(tc, every_cut_is_safe);
    tcase_add_test(tc, cisco_metadata_sgt);
    tcase_add_test(tc, gre_variants);
    tcase_add_test(tc, vxlan_and_geneve);
    tcase_add_test(tc, gtpu);
    tcase_add_test(tc, skip_reasons_named);
    tcase_add_test(tc, every_cut_of_a_tunnel_is_safe);
    suite_add_tcase(s, tc);
    return sl_check_run(s);
}
