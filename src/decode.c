/* decode.c - link (Ethernet/802.1Q/MPLS, Linux SLL and SLL2, raw IP,
 * BSD loopback), IPv4 (RFC 791), IPv6 (RFC 8200) with extension headers,
 * tunnels (RFC 2003 IP-in-IP, RFC 2784 GRE, ERSPAN II/III) and TCP/UDP. */
#include "sipladder/decode.h"

#include <pcap/dlt.h>
#include <string.h>

#include "sipladder/cursor.h"
#include "sipladder/status.h"

#define MAX_VLAN_TAGS 8
#define MAX_MPLS_LABELS 8
#define MAX_IPV6_EXT 16

enum {
    ETH_IPV4 = 0x0800,
    ETH_IPV6 = 0x86DD,
    ETH_VLAN = 0x8100,
    ETH_QINQ = 0x88A8,
    ETH_QINQ_OLD = 0x9100,
    ETH_MPLS = 0x8847,
    ETH_MPLS_MC = 0x8848,
    ETH_PPPOE = 0x8864,
    ETH_TEB = 0x6558, /* transparent Ethernet bridging over GRE */
    ETH_ERSPAN2 = 0x88BE,
    ETH_ERSPAN3 = 0x22EB,
};

static int fail(const char **why, const char *reason, int code)
{
    *why = reason;
    return code;
}

/* Pick IPv4 or IPv6 by the version nibble (raw IP, MPLS payloads). */
static int ip_by_version(sl_cursor *c, const uint8_t **ip, size_t *ip_len, const char **why)
{
    uint8_t first;
    if (!sl_cursor_peek_u8(c, 0, &first))
        return fail(why, "frame ends before the IP header", -SL_ETRUNC);
    if ((first >> 4) != 4 && (first >> 4) != 6)
        return fail(why, "not IPv4 or IPv6", SL_DECODE_SKIP);
    *ip_len = sl_cursor_left(c);
    *ip = sl_cursor_bytes(c, *ip_len);
    return 0;
}

/* After an ethertype: VLAN tags, MPLS, PPPoE, then IP. */
static int decode_ethertype(sl_cursor *c, uint16_t type, const uint8_t **ip, size_t *ip_len, const char **why)
{
    for (int tags = 0; type == ETH_VLAN || type == ETH_QINQ || type == ETH_QINQ_OLD; tags++) {
        if (tags == MAX_VLAN_TAGS)
            return fail(why, "more than 8 stacked 802.1Q tags", -SL_EMALFORMED);
        sl_cursor_skip(c, 2); /* priority, DEI, VLAN id */
        type = sl_cursor_u16be(c);
        if (!sl_cursor_ok(c))
            return fail(why, "frame ends inside an 802.1Q tag", -SL_ETRUNC);
    }
    if (type == ETH_MPLS || type == ETH_MPLS_MC) {
        for (int labels = 0;; labels++) {
            if (labels == MAX_MPLS_LABELS)
                return fail(why, "more than 8 MPLS labels", -SL_EMALFORMED);
            uint32_t entry = sl_cursor_u32be(c);
            if (!sl_cursor_ok(c))
                return fail(why, "frame ends inside an MPLS label", -SL_ETRUNC);
            if (entry & 0x100) /* bottom of stack */
                break;
        }
        return ip_by_version(c, ip, ip_len, why);
    }
    if (type == ETH_PPPOE) {
        sl_cursor_skip(c, 6);
        uint16_t ppp = sl_cursor_u16be(c);
        if (!sl_cursor_ok(c))
            return fail(why, "frame ends inside a PPPoE header", -SL_ETRUNC);
        if (ppp == 0x0021)
            type = ETH_IPV4;
        else if (ppp == 0x0057)
            type = ETH_IPV6;
        else
            return fail(why, "PPPoE without IP", SL_DECODE_SKIP);
    }
    if (type != ETH_IPV4 && type != ETH_IPV6)
        return fail(why, "not IP (ethertype)", SL_DECODE_SKIP);
    *ip_len = sl_cursor_left(c);
    *ip = sl_cursor_bytes(c, *ip_len);
    return 0;
}

static int decode_ethernet(sl_cursor *c, const uint8_t **ip, size_t *ip_len, const char **why)
{
    sl_cursor_skip(c, 12);
    uint16_t type = sl_cursor_u16be(c);
    if (!sl_cursor_ok(c))
        return fail(why, "frame shorter than an Ethernet header", -SL_ETRUNC);
    if (type < 0x0600)
        return fail(why, "802.3 frame without IP", SL_DECODE_SKIP);
    return decode_ethertype(c, type, ip, ip_len, why);
}

static int decode_bsd_null(sl_cursor *c, bool network_order, const uint8_t **ip, size_t *ip_len,
                           const char **why)
{
    uint32_t fam = network_order ? sl_cursor_u32be(c) : sl_cursor_u32le(c);
    if (!sl_cursor_ok(c))
        return fail(why, "frame shorter than a loopback header", -SL_ETRUNC);
    /* DLT_NULL is in the writer's byte order, which the file does not say. */
    if (!network_order && (fam & 0xFFFF) == 0)
        fam = fam >> 24 | (fam >> 8 & 0xFF00);
    switch (fam) {
    case 2:                            /* AF_INET everywhere */
    case 24: case 28: case 30: case 10: /* AF_INET6 on BSDs, macOS, Linux */
        return ip_by_version(c, ip, ip_len, why);
    default:
        return fail(why, "loopback frame without IP", SL_DECODE_SKIP);
    }
}

int sl_decode_link(int linktype, const uint8_t *frame, size_t caplen, const uint8_t **ip, size_t *ip_len,
                   const char **why)
{
    sl_cursor c;
    sl_cursor_init(&c, frame, caplen);
    *why = NULL;
    switch (linktype) {
    case DLT_EN10MB:
        return decode_ethernet(&c, ip, ip_len, why);
    case DLT_LINUX_SLL: {
        sl_cursor_skip(&c, 14);
        uint16_t proto = sl_cursor_u16be(&c);
        if (!sl_cursor_ok(&c))
            return fail(why, "frame shorter than a Linux cooked (SLL) header", -SL_ETRUNC);
        return decode_ethertype(&c, proto, ip, ip_len, why);
    }
    case DLT_LINUX_SLL2: {
        uint16_t proto = sl_cursor_u16be(&c);
        sl_cursor_skip(&c, 18);
        if (!sl_cursor_ok(&c))
            return fail(why, "frame shorter than a Linux cooked v2 (SLL2) header", -SL_ETRUNC);
        return decode_ethertype(&c, proto, ip, ip_len, why);
    }
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
        return ip_by_version(&c, ip, ip_len, why);
    case DLT_NULL:
        return decode_bsd_null(&c, false, ip, ip_len, why);
    case DLT_LOOP:
        return decode_bsd_null(&c, true, ip, ip_len, why);
    default:
        return fail(why, "unsupported link type", SL_DECODE_SKIP);
    }
}

int sl_decode_link_pkttype(int linktype, const uint8_t *frame, size_t caplen)
{
    sl_cursor c;
    sl_cursor_init(&c, frame, caplen);
    if (linktype == DLT_LINUX_SLL) {
        uint16_t type = sl_cursor_u16be(&c);
        return sl_cursor_ok(&c) ? type : -1;
    }
    if (linktype == DLT_LINUX_SLL2) {
        sl_cursor_skip(&c, 10);
        uint8_t type = sl_cursor_u8(&c);
        return sl_cursor_ok(&c) ? type : -1;
    }
    return -1;
}

static int decode_ipv4(sl_cursor *c, size_t len, sl_l3 *out, const char **why)
{
    uint8_t vihl = sl_cursor_u8(c);
    size_t ihl = (size_t)(vihl & 0x0F) * 4;
    sl_cursor_skip(c, 1);
    size_t total = sl_cursor_u16be(c);
    out->ip_id = sl_cursor_u16be(c);
    uint16_t frag = sl_cursor_u16be(c);
    out->ttl = sl_cursor_u8(c);
    out->proto = sl_cursor_u8(c);
    sl_cursor_skip(c, 2);
    const uint8_t *src = sl_cursor_bytes(c, 4), *dst = sl_cursor_bytes(c, 4);
    if (!sl_cursor_ok(c))
        return fail(why, "frame ends inside the IPv4 header", -SL_ETRUNC);
    if (ihl < 20)
        return fail(why, "IPv4 header length below 20 bytes", -SL_EMALFORMED);
    if (ihl > len)
        return fail(why, "frame ends inside the IPv4 options", -SL_ETRUNC);
    /* Total length 0 is what TCP segmentation offload leaves in captures
     * taken on the sender: trust the frame then. */
    if (total == 0)
        total = len;
    if (total < ihl)
        return fail(why, "IPv4 total length shorter than its header", -SL_EMALFORMED);
    out->version = 4;
    out->src.family = out->dst.family = 4;
    memcpy(out->src.bytes, src, 4);
    memcpy(out->dst.bytes, dst, 4);
    out->more_fragments = (frag & 0x2000) != 0;
    out->frag_offset = (uint32_t)(frag & 0x1FFF) * 8;
    out->is_fragment = out->more_fragments || out->frag_offset != 0;
    out->payload = c->buf + ihl;
    out->payload_wire_len = (uint32_t)(total - ihl);
    out->payload_len = (uint32_t)((len < total ? len : total) - ihl);
    return 0;
}

static bool ipv6_is_extension(uint8_t nh)
{
    return nh == 0 || nh == 43 || nh == 44 || nh == 60 || nh == 51 || nh == 135 || nh == 139 || nh == 140;
}

static int decode_ipv6(sl_cursor *c, size_t len, sl_l3 *out, const char **why)
{
    sl_cursor_skip(c, 4);
    size_t plen = sl_cursor_u16be(c);
    uint8_t nh = sl_cursor_u8(c);
    out->ttl = sl_cursor_u8(c);
    const uint8_t *src = sl_cursor_bytes(c, 16), *dst = sl_cursor_bytes(c, 16);
    if (!sl_cursor_ok(c))
        return fail(why, "frame ends inside the IPv6 header", -SL_ETRUNC);
    out->version = 6;
    out->src.family = out->dst.family = 6;
    memcpy(out->src.bytes, src, 16);
    memcpy(out->dst.bytes, dst, 16);
    if (plen == 0) /* jumbogram or offload: trust the frame */
        plen = len - 40;
    size_t end = 40 + plen; /* wire end of the datagram */
    for (int n = 0; ipv6_is_extension(nh); n++) {
        if (n == MAX_IPV6_EXT)
            return fail(why, "more than 16 IPv6 extension headers", -SL_EMALFORMED);
        uint8_t next = sl_cursor_u8(c);
        uint8_t hlen = sl_cursor_u8(c);
        size_t ext_len = nh == 51 ? ((size_t)hlen + 2) * 4 : ((size_t)hlen + 1) * 8;
        if (nh == 44) {
            uint16_t off = sl_cursor_u16be(c);
            out->ip_id = sl_cursor_u32be(c);
            out->frag_offset = (uint32_t)(off & 0xFFF8);
            out->more_fragments = (off & 1) != 0;
            out->is_fragment = true;
            if (!sl_cursor_ok(c))
                return fail(why, "frame ends inside an IPv6 fragment header", -SL_ETRUNC);
        } else if (!sl_cursor_skip(c, ext_len - 2)) {
            return fail(why, "IPv6 extension header runs past the frame", -SL_ETRUNC);
        }
        if (c->pos > end)
            return fail(why, "IPv6 extension headers longer than the payload length", -SL_EMALFORMED);
        nh = next;
        if (out->is_fragment && out->frag_offset != 0)
            break; /* the rest of the chain is in the first fragment */
    }
    if (!sl_cursor_ok(c))
        return fail(why, "frame ends inside an IPv6 extension header", -SL_ETRUNC);
    out->proto = nh;
    out->payload = c->buf + c->pos;
    out->payload_wire_len = (uint32_t)(end - c->pos);
    size_t have = len < end ? len : end;
    out->payload_len = (uint32_t)(have - c->pos);
    return 0;
}

int sl_decode_ip(const uint8_t *ip, size_t len, sl_l3 *out, const char **why)
{
    sl_cursor c;
    uint8_t first;
    memset(out, 0, sizeof *out);
    *why = NULL;
    sl_cursor_init(&c, ip, len);
    if (!sl_cursor_peek_u8(&c, 0, &first))
        return fail(why, "frame ends before the IP header", -SL_ETRUNC);
    if (first >> 4 == 4)
        return decode_ipv4(&c, len, out, why);
    if (first >> 4 == 6)
        return decode_ipv6(&c, len, out, why);
    return fail(why, "IP version is neither 4 nor 6", -SL_EMALFORMED);
}

static int decode_gre(const sl_l3 *l3, const uint8_t **ip, size_t *ip_len, const char **why)
{
    sl_cursor c;
    sl_cursor_init(&c, l3->payload, l3->payload_len);
    uint16_t flags = sl_cursor_u16be(&c);
    uint16_t proto = sl_cursor_u16be(&c);
    if (!sl_cursor_ok(&c))
        return fail(why, "packet ends inside a GRE header", -SL_ETRUNC);
    if ((flags & 0x0007) > 1)
        return fail(why, "GRE version other than 0 or 1", SL_DECODE_SKIP);
    size_t opt = ((flags & 0x8000) ? 4 : 0) + ((flags & 0x2000) ? 4 : 0) + ((flags & 0x1000) ? 4 : 0);
    if (!sl_cursor_skip(&c, opt))
        return fail(why, "packet ends inside GRE options", -SL_ETRUNC);
    if (proto == ETH_ERSPAN2) {
        if (!(flags & 0x1000)) /* no sequence number: ERSPAN type I, bare Ethernet */
            return decode_ethernet(&c, ip, ip_len, why);
        sl_cursor_skip(&c, 8);
        return decode_ethernet(&c, ip, ip_len, why);
    }
    if (proto == ETH_ERSPAN3) {
        sl_cursor_skip(&c, 11);
        uint8_t last = sl_cursor_u8(&c);
        if (last & 0x01) /* optional platform-specific subheader */
            sl_cursor_skip(&c, 8);
        return decode_ethernet(&c, ip, ip_len, why);
    }
    if (proto == ETH_TEB)
        return decode_ethernet(&c, ip, ip_len, why);
    return decode_ethertype(&c, proto, ip, ip_len, why);
}

int sl_decode_tunnel(const sl_l3 *l3, const uint8_t **ip, size_t *ip_len, const char **why)
{
    sl_cursor c;
    *why = NULL;
    switch (l3->proto) {
    case 4:  /* IPv4 in IP */
    case 41: /* IPv6 in IP */
        sl_cursor_init(&c, l3->payload, l3->payload_len);
        return ip_by_version(&c, ip, ip_len, why);
    case 47:
        return decode_gre(l3, ip, ip_len, why);
    default:
        return SL_DECODE_SKIP;
    }
}

int sl_decode_l4(uint8_t proto, const uint8_t *payload, size_t len, size_t wire_len, sl_l4 *out,
                 const char **why)
{
    sl_cursor c;
    memset(out, 0, sizeof *out);
    *why = NULL;
    sl_cursor_init(&c, payload, len);
    out->proto = proto;
    if (proto == 17) {
        out->sport = sl_cursor_u16be(&c);
        out->dport = sl_cursor_u16be(&c);
        size_t ulen = sl_cursor_u16be(&c);
        sl_cursor_skip(&c, 2);
        if (!sl_cursor_ok(&c))
            return fail(why, "packet ends inside the UDP header", -SL_ETRUNC);
        if (ulen < 8)
            return fail(why, "UDP length below the 8-byte header", -SL_EMALFORMED);
        if (ulen > wire_len)
            return fail(why, "UDP length beyond the IP payload", -SL_EMALFORMED);
        out->payload = payload + 8;
        out->wire_len = (uint32_t)(ulen - 8);
        out->len = (uint32_t)((len < ulen ? len : ulen) - 8);
        return 0;
    }
    if (proto != 6)
        return fail(why, "neither TCP nor UDP", SL_DECODE_SKIP);
    out->sport = sl_cursor_u16be(&c);
    out->dport = sl_cursor_u16be(&c);
    out->seq = sl_cursor_u32be(&c);
    out->ack = sl_cursor_u32be(&c);
    uint8_t off = sl_cursor_u8(&c);
    out->flags = sl_cursor_u8(&c);
    out->window = sl_cursor_u16be(&c);
    if (!sl_cursor_ok(&c))
        return fail(why, "packet ends inside the TCP header", -SL_ETRUNC);
    size_t doff = (size_t)(off >> 4) * 4;
    if (doff < 20)
        return fail(why, "TCP data offset below 20 bytes", -SL_EMALFORMED);
    if (doff > wire_len)
        return fail(why, "TCP data offset beyond the IP payload", -SL_EMALFORMED);
    /* Options cut by the snaplen still leave a usable fixed header (a SYN
     * in a 68-byte capture): the segment counts, its payload is all cut. */
    size_t have = doff < len ? doff : len;
    out->payload = payload + have;
    out->len = (uint32_t)(len - have);
    out->wire_len = (uint32_t)(wire_len - doff);
    return 0;
}
