/* decode.c - link (Ethernet/802.1Q/MPLS/PPPoE/Cisco MetaData, Linux SLL
 * and SLL2, raw IP, BSD loopback), IPv4 (RFC 791), IPv6 (RFC 8200) with
 * extension headers, tunnels (RFC 2003 IP-in-IP, RFC 2784/2890 GRE, ERSPAN
 * I/II/III, WCCP, VXLAN RFC 7348, Geneve RFC 8926, GTP-U 3GPP TS 29.281)
 * and TCP/UDP; and the names of what is not followed. */
#include "sipladder/decode.h"

#include <pcap/dlt.h>
#include <stdio.h>
#include <string.h>

#include "sipladder/cursor.h"
#include "sipladder/status.h"

#define MAX_VLAN_TAGS 8
#define MAX_MPLS_LABELS 8
#define MAX_IPV6_EXT 16
#define MAX_GRE_SRE 16
#define MAX_GTP_EXT 16

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
    ETH_CISCO_METADATA = 0x8909, /* Cisco TrustSec: carries the SGT */
    ETH_WCCP = 0x883E,           /* WCCP redirection over GRE */
    ETH_PPTP = 0x880B,           /* PPP inside GRE version 1 */
};

enum { UDP_GTPU = 2152, UDP_VXLAN = 4789, UDP_GENEVE = 6081 };

/* The decoder's verdict on one frame: why it stops (damage), or what it
 * does not follow. */
typedef struct note {
    const char **why;
    sl_skip *skip;
} note;

static int fail(const char **why, const char *reason, int code)
{
    *why = reason;
    return code;
}

static int skip(const note *n, const char *reason, uint16_t kind, uint32_t value)
{
    *n->why = reason;
    n->skip->kind = kind;
    n->skip->value = value;
    return SL_DECODE_SKIP;
}

/* Pick IPv4 or IPv6 by the version nibble (raw IP, MPLS payloads). */
static int ip_by_version(sl_cursor *c, const uint8_t **ip, size_t *ip_len, const note *n)
{
    uint8_t first;
    if (!sl_cursor_peek_u8(c, 0, &first))
        return fail(n->why, "frame ends before the IP header", -SL_ETRUNC);
    if ((first >> 4) != 4 && (first >> 4) != 6)
        return skip(n, "not IPv4 or IPv6", SL_SKIP_NOT_IP, first >> 4);
    *ip_len = sl_cursor_left(c);
    *ip = sl_cursor_bytes(c, *ip_len);
    return 0;
}

/* A Cisco MetaData header after its EtherType: version, length in 8-byte
 * units (the whole header, inner EtherType included), options (the SGT),
 * then the inner EtherType.  Returns that EtherType, or -SL_E*. */
static int cisco_metadata(sl_cursor *c, const char **why)
{
    sl_cursor_skip(c, 1); /* version */
    size_t len = (size_t)sl_cursor_u8(c) * 8;
    if (!sl_cursor_ok(c))
        return fail(why, "frame ends inside a Cisco MetaData header", -SL_ETRUNC);
    if (len < 4)
        return fail(why, "Cisco MetaData header length below 4 bytes", -SL_EMALFORMED);
    if (!sl_cursor_skip(c, len - 4)) /* the options; version and length are read */
        return fail(why, "frame ends inside the Cisco MetaData options", -SL_ETRUNC);
    uint16_t type = sl_cursor_u16be(c);
    if (!sl_cursor_ok(c))
        return fail(why, "frame ends inside a Cisco MetaData header", -SL_ETRUNC);
    return type;
}

/* After an ethertype: VLAN and Cisco MetaData tags in any order, MPLS,
 * PPPoE, then IP. */
static int decode_ethertype(sl_cursor *c, uint16_t type, const uint8_t **ip, size_t *ip_len, const note *n)
{
    for (int tags = 0; type == ETH_VLAN || type == ETH_QINQ || type == ETH_QINQ_OLD || type == ETH_CISCO_METADATA;
         tags++) {
        if (tags == MAX_VLAN_TAGS)
            return fail(n->why, "more than 8 stacked 802.1Q or Cisco MetaData tags", -SL_EMALFORMED);
        if (type == ETH_CISCO_METADATA) {
            int inner = cisco_metadata(c, n->why);
            if (inner < 0)
                return inner;
            type = (uint16_t)inner;
            continue;
        }
        sl_cursor_skip(c, 2); /* priority, DEI, VLAN id */
        type = sl_cursor_u16be(c);
        if (!sl_cursor_ok(c))
            return fail(n->why, "frame ends inside an 802.1Q tag", -SL_ETRUNC);
    }
    if (type == ETH_MPLS || type == ETH_MPLS_MC) {
        for (int labels = 0;; labels++) {
            if (labels == MAX_MPLS_LABELS)
                return fail(n->why, "more than 8 MPLS labels", -SL_EMALFORMED);
            uint32_t entry = sl_cursor_u32be(c);
            if (!sl_cursor_ok(c))
                return fail(n->why, "frame ends inside an MPLS label", -SL_ETRUNC);
            if (entry & 0x100) /* bottom of stack */
                break;
        }
        return ip_by_version(c, ip, ip_len, n);
    }
    if (type == ETH_PPPOE) {
        sl_cursor_skip(c, 6);
        uint16_t ppp = sl_cursor_u16be(c);
        if (!sl_cursor_ok(c))
            return fail(n->why, "frame ends inside a PPPoE header", -SL_ETRUNC);
        if (ppp == 0x0021)
            type = ETH_IPV4;
        else if (ppp == 0x0057)
            type = ETH_IPV6;
        else
            return skip(n, "PPPoE without IP", SL_SKIP_PPP, ppp);
    }
    if (type != ETH_IPV4 && type != ETH_IPV6)
        return skip(n, "not IP (ethertype)", SL_SKIP_ETHERTYPE, type);
    *ip_len = sl_cursor_left(c);
    *ip = sl_cursor_bytes(c, *ip_len);
    return 0;
}

static int decode_ethernet(sl_cursor *c, const uint8_t **ip, size_t *ip_len, const note *n)
{
    sl_cursor_skip(c, 12);
    uint16_t type = sl_cursor_u16be(c);
    if (!sl_cursor_ok(c))
        return fail(n->why, "frame shorter than an Ethernet header", -SL_ETRUNC);
    if (type < 0x0600)
        return skip(n, "802.3 frame without IP", SL_SKIP_LLC, 0);
    return decode_ethertype(c, type, ip, ip_len, n);
}

static int decode_bsd_null(sl_cursor *c, bool network_order, const uint8_t **ip, size_t *ip_len, const note *n)
{
    uint32_t fam = network_order ? sl_cursor_u32be(c) : sl_cursor_u32le(c);
    if (!sl_cursor_ok(c))
        return fail(n->why, "frame shorter than a loopback header", -SL_ETRUNC);
    /* DLT_NULL is in the writer's byte order, which the file does not say. */
    if (!network_order && (fam & 0xFFFF) == 0)
        fam = fam >> 24 | (fam >> 8 & 0xFF00);
    switch (fam) {
    case 2:                            /* AF_INET everywhere */
    case 24: case 28: case 30: case 10: /* AF_INET6 on BSDs, macOS, Linux */
        return ip_by_version(c, ip, ip_len, n);
    default:
        return skip(n, "loopback frame without IP", SL_SKIP_LOOP_FAMILY, fam);
    }
}

int sl_decode_link(int linktype, const uint8_t *frame, size_t caplen, const uint8_t **ip, size_t *ip_len,
                   const char **why, sl_skip *skipped)
{
    sl_cursor c;
    note n = {why, skipped};
    sl_cursor_init(&c, frame, caplen);
    *why = NULL;
    *skipped = (sl_skip){SL_SKIP_NONE, 0};
    switch (linktype) {
    case DLT_EN10MB:
        return decode_ethernet(&c, ip, ip_len, &n);
    case DLT_LINUX_SLL: {
        sl_cursor_skip(&c, 14);
        uint16_t proto = sl_cursor_u16be(&c);
        if (!sl_cursor_ok(&c))
            return fail(why, "frame shorter than a Linux cooked (SLL) header", -SL_ETRUNC);
        return decode_ethertype(&c, proto, ip, ip_len, &n);
    }
    case DLT_LINUX_SLL2: {
        uint16_t proto = sl_cursor_u16be(&c);
        sl_cursor_skip(&c, 18);
        if (!sl_cursor_ok(&c))
            return fail(why, "frame shorter than a Linux cooked v2 (SLL2) header", -SL_ETRUNC);
        return decode_ethertype(&c, proto, ip, ip_len, &n);
    }
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
        return ip_by_version(&c, ip, ip_len, &n);
    case DLT_NULL:
        return decode_bsd_null(&c, false, ip, ip_len, &n);
    case DLT_LOOP:
        return decode_bsd_null(&c, true, ip, ip_len, &n);
    default:
        return skip(&n, "unsupported link type", SL_SKIP_LINKTYPE, (uint32_t)linktype);
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


/* ERSPAN III: 12 bytes, an optional 8-byte platform subheader (O bit),
 * and a frame type saying Ethernet (0) or bare IP (2). */
static int decode_erspan3(sl_cursor *c, const uint8_t **ip, size_t *ip_len, const note *n)
{
    sl_cursor_skip(c, 10);
    uint16_t last = sl_cursor_u16be(c);
    if (!sl_cursor_ok(c))
        return fail(n->why, "packet ends inside an ERSPAN III header", -SL_ETRUNC);
    if ((last & 0x0001) && !sl_cursor_skip(c, 8))
        return fail(n->why, "packet ends inside an ERSPAN III subheader", -SL_ETRUNC);
    if (((last >> 10) & 0x1F) == 2)
        return ip_by_version(c, ip, ip_len, n);
    return decode_ethernet(c, ip, ip_len, n);
}

/* What an EtherType-numbered tunnel payload (GRE, Geneve) carries. */
static int decode_tunnel_proto(sl_cursor *c, uint16_t proto, const uint8_t **ip, size_t *ip_len, const note *n)
{
    switch (proto) {
    case ETH_TEB:
        return decode_ethernet(c, ip, ip_len, n);
    case ETH_IPV4:
    case ETH_IPV6:
    case ETH_VLAN:
    case ETH_QINQ:
    case ETH_QINQ_OLD:
    case ETH_MPLS:
    case ETH_MPLS_MC:
    case ETH_PPPOE:
    case ETH_CISCO_METADATA:
        return decode_ethertype(c, proto, ip, ip_len, n);
    default:
        return skip(n, "tunnel carries neither IP nor Ethernet", SL_SKIP_TUNNEL_PROTO, proto);
    }
}

/* GRE (RFC 2784, RFC 2890 key and sequence, RFC 1701 routing), then what
 * its protocol type says. */
static int decode_gre(const sl_l3 *l3, const uint8_t **ip, size_t *ip_len, const note *n)
{
    sl_cursor c;
    sl_cursor_init(&c, l3->payload, l3->payload_len);
    uint16_t flags = sl_cursor_u16be(&c);
    uint16_t proto = sl_cursor_u16be(&c);
    if (!sl_cursor_ok(&c))
        return fail(n->why, "packet ends inside a GRE header", -SL_ETRUNC);
    /* Version 1 is PPTP's enhanced GRE: PPP, nearly always MPPE-encrypted. */
    if ((flags & 0x0007) != 0)
        return skip(n, "GRE version other than 0", SL_SKIP_GRE_VERSION, flags & 0x0007);
    bool routing = (flags & 0x4000) != 0;
    size_t opt = ((flags & 0x8000) || routing ? 4 : 0) + ((flags & 0x2000) ? 4 : 0) + ((flags & 0x1000) ? 4 : 0);
    if (!sl_cursor_skip(&c, opt))
        return fail(n->why, "packet ends inside GRE options", -SL_ETRUNC);
    for (int sre = 0; routing; sre++) { /* source route entries up to a null one */
        if (sre == MAX_GRE_SRE)
            return fail(n->why, "more than 16 GRE source route entries", -SL_EMALFORMED);
        uint16_t family = sl_cursor_u16be(&c);
        sl_cursor_skip(&c, 1);
        uint8_t sre_len = sl_cursor_u8(&c);
        if (!sl_cursor_ok(&c) || !sl_cursor_skip(&c, sre_len))
            return fail(n->why, "packet ends inside GRE routing", -SL_ETRUNC);
        routing = family != 0 || sre_len != 0;
    }
    if (proto == ETH_ERSPAN2) {
        /* Without a sequence number it is ERSPAN type I: bare Ethernet. */
        if ((flags & 0x1000) && !sl_cursor_skip(&c, 8))
            return fail(n->why, "packet ends inside an ERSPAN II header", -SL_ETRUNC);
        return decode_ethernet(&c, ip, ip_len, n);
    }
    if (proto == ETH_ERSPAN3)
        return decode_erspan3(&c, ip, ip_len, n);
    if (proto == ETH_WCCP) {
        /* WCCPv2 puts a 4-byte redirect header (first nibble 0-3) before
         * the IP packet, WCCPv1 none. */
        uint8_t first;
        if (sl_cursor_peek_u8(&c, 0, &first) && first >> 4 != 4)
            sl_cursor_skip(&c, 4);
        return ip_by_version(&c, ip, ip_len, n);
    }
    return decode_tunnel_proto(&c, proto, ip, ip_len, n);
}

/* VXLAN (RFC 7348; also its Group Based Policy form): the I flag, then an
 * Ethernet frame.  SL_DECODE_SKIP with no reason when the header does not
 * fit: then it is plain UDP to that port. */
static int decode_vxlan(sl_cursor *c, const uint8_t **ip, size_t *ip_len, const note *n)
{
    uint8_t flags = sl_cursor_u8(c);
    if (!sl_cursor_skip(c, 7) || !(flags & 0x08))
        return SL_DECODE_SKIP;
    return decode_ethernet(c, ip, ip_len, n);
}

/* Geneve (RFC 8926): version 0, options, then the protocol type's payload. */
static int decode_geneve(sl_cursor *c, const uint8_t **ip, size_t *ip_len, const note *n)
{
    uint8_t first = sl_cursor_u8(c);
    sl_cursor_skip(c, 1);
    uint16_t proto = sl_cursor_u16be(c);
    if (!sl_cursor_skip(c, 4) || first >> 6 != 0)
        return SL_DECODE_SKIP;
    if (!sl_cursor_skip(c, (size_t)(first & 0x3F) * 4))
        return fail(n->why, "packet ends inside Geneve options", -SL_ETRUNC);
    return decode_tunnel_proto(c, proto, ip, ip_len, n);
}

/* GTP-U version 1 (3GPP TS 29.281): a G-PDU (message 255) carries the
 * user's IP packet after the optional fields and extension headers; other
 * messages (echo, error indication, end marker) are the tunnel's own. */
static int decode_gtpu(sl_cursor *c, const uint8_t **ip, size_t *ip_len, const note *n)
{
    uint8_t flags = sl_cursor_u8(c);
    uint8_t type = sl_cursor_u8(c);
    sl_cursor_skip(c, 6); /* length, TEID */
    if (!sl_cursor_ok(c) || flags >> 5 != 1 || !(flags & 0x10))
        return SL_DECODE_SKIP; /* not GTPv1-U (GTP' has PT 0) */
    if (type != 0xFF)
        return skip(n, "GTP-U message other than user data", SL_SKIP_GTP_MESSAGE, type);
    if (flags & 0x07) {
        sl_cursor_skip(c, 3); /* sequence number, N-PDU number */
        uint8_t next = sl_cursor_u8(c);
        for (int ext = 0; next != 0 && sl_cursor_ok(c); ext++) {
            if (ext == MAX_GTP_EXT)
                return fail(n->why, "more than 16 GTP-U extension headers", -SL_EMALFORMED);
            size_t ext_len = (size_t)sl_cursor_u8(c) * 4; /* length and next type included */
            if (!sl_cursor_ok(c))
                break;
            if (ext_len == 0)
                return fail(n->why, "GTP-U extension header of length 0", -SL_EMALFORMED);
            sl_cursor_skip(c, ext_len - 2);
            next = sl_cursor_u8(c);
        }
        if (!sl_cursor_ok(c))
            return fail(n->why, "packet ends inside GTP-U extension headers", -SL_ETRUNC);
    }
    return ip_by_version(c, ip, ip_len, n);
}

/* A UDP datagram to a tunnel's port.  The checks of plain UDP decoding
 * come later: a header that does not fit is left to it. */
static int decode_udp_tunnel(const sl_l3 *l3, const uint8_t **ip, size_t *ip_len, const note *n)
{
    sl_cursor c;
    sl_cursor_init(&c, l3->payload, l3->payload_len);
    uint16_t sport = sl_cursor_u16be(&c), dport = sl_cursor_u16be(&c);
    size_t ulen = sl_cursor_u16be(&c);
    sl_cursor_skip(&c, 2);
    if (!sl_cursor_ok(&c) || ulen < 8 || ulen > l3->payload_wire_len)
        return SL_DECODE_SKIP;
    size_t body = sl_cursor_left(&c) < ulen - 8 ? sl_cursor_left(&c) : ulen - 8;
    sl_cursor inner = sl_cursor_sub(&c, body);
    if (dport == UDP_VXLAN)
        return decode_vxlan(&inner, ip, ip_len, n);
    if (dport == UDP_GENEVE)
        return decode_geneve(&inner, ip, ip_len, n);
    if (dport == UDP_GTPU || sport == UDP_GTPU)
        return decode_gtpu(&inner, ip, ip_len, n);
    return SL_DECODE_SKIP;
}

int sl_decode_tunnel(const sl_l3 *l3, const uint8_t **ip, size_t *ip_len, const char **why, sl_skip *skipped)
{
    sl_cursor c;
    note n = {why, skipped};
    *why = NULL;
    *skipped = (sl_skip){SL_SKIP_NONE, 0};
    switch (l3->proto) {
    case 4:  /* IPv4 in IP */
    case 41: /* IPv6 in IP */
        sl_cursor_init(&c, l3->payload, l3->payload_len);
        return ip_by_version(&c, ip, ip_len, &n);
    case 47:
        return decode_gre(l3, ip, ip_len, &n);
    case 17:
        return decode_udp_tunnel(l3, ip, ip_len, &n);
    default:
        return SL_DECODE_SKIP;
    }
}

int sl_decode_l4(uint8_t proto, const uint8_t *payload, size_t len, size_t wire_len, sl_l4 *out,
                 const char **why, sl_skip *skipped)
{
    sl_cursor c;
    memset(out, 0, sizeof *out);
    *why = NULL;
    *skipped = (sl_skip){SL_SKIP_NONE, 0};
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
    if (proto != 6) {
        note n = {why, skipped};
        return skip(&n, "neither TCP nor UDP", SL_SKIP_IP_PROTO, proto);
    }
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

/* ---- names of what is not followed ---- */

const char *sl_skip_kind_name(uint16_t kind)
{
    static const char *const names[SL_SKIP_KINDS] = {
        [SL_SKIP_NONE] = "none",           [SL_SKIP_LINKTYPE] = "link_type",
        [SL_SKIP_ETHERTYPE] = "ethertype", [SL_SKIP_LLC] = "llc",
        [SL_SKIP_PPP] = "ppp_protocol",    [SL_SKIP_LOOP_FAMILY] = "loopback_family",
        [SL_SKIP_NOT_IP] = "not_ip",       [SL_SKIP_IP_PROTO] = "ip_protocol",
        [SL_SKIP_GRE_VERSION] = "gre_version", [SL_SKIP_TUNNEL_PROTO] = "tunnel_protocol",
        [SL_SKIP_GTP_MESSAGE] = "gtp_message", [SL_SKIP_TUNNEL_DEPTH] = "tunnel_depth",
        [SL_SKIP_CAPTURE_FILTER] = "capture_filter",
    };
    return kind < SL_SKIP_KINDS ? names[kind] : "unknown";
}

typedef struct named {
    uint32_t value;
    const char *name;
    bool by_design; /* control traffic that never carries signalling */
} named;

static const named ETHERTYPES[] = {
    {0x0806, "ARP", true},         {0x8035, "RARP", true},       {0x88CC, "LLDP", true},
    {0x888E, "EAPOL", true},       {0x8809, "LACP/slow protocols", true},
    {0x8863, "PPPoE discovery", true}, {0x88F7, "PTP", true},    {0x9000, "loopback test", true},
    {0x8902, "CFM", true},         {0x88E5, "MACsec", false},    {0x88E7, "PBB", false},
    {0x8137, "IPX", false},        {0x88B5, "local experimental", false},
};
static const named IP_PROTOS[] = {
    {1, "ICMP", true},   {2, "IGMP", true},   {58, "ICMPv6", true}, {59, "no next header", true},
    {88, "EIGRP", true}, {89, "OSPF", true},  {103, "PIM", true},   {112, "VRRP", true},
    {47, "GRE", false},  {50, "ESP", false},  {51, "AH", false},    {115, "L2TP", false},
    {132, "SCTP", false}, {136, "UDP-Lite", false}, {33, "DCCP", false},
};
static const named PPP_PROTOS[] = {
    {0xC021, "LCP", true}, {0x8021, "IPCP", true}, {0x8057, "IPv6CP", true},
    {0xC023, "PAP", true}, {0xC223, "CHAP", true}, {0x00FD, "compressed (CCP)", false},
};
static const named GTP_MESSAGES[] = {
    {1, "echo request", true},  {2, "echo response", true}, {26, "error indication", true},
    {31, "supported extension headers notification", true}, {254, "end marker", true},
};

static const named *find_named(const named *t, size_t n, uint32_t value)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].value == value)
            return &t[i];
    return NULL;
}

#define FIND(table, v) find_named(table, sizeof table / sizeof table[0], v)

static const named *skip_named(const sl_skip *s)
{
    switch (s->kind) {
    case SL_SKIP_ETHERTYPE: return FIND(ETHERTYPES, s->value);
    case SL_SKIP_IP_PROTO: return FIND(IP_PROTOS, s->value);
    case SL_SKIP_PPP: return FIND(PPP_PROTOS, s->value);
    case SL_SKIP_GTP_MESSAGE: return FIND(GTP_MESSAGES, s->value);
    default: return NULL;
    }
}

bool sl_skip_by_design(const sl_skip *s)
{
    if (s->kind == SL_SKIP_LLC || s->kind == SL_SKIP_CAPTURE_FILTER) /* switch control; left out by -f */
        return true;
    const named *nm = skip_named(s);
    return nm && nm->by_design;
}

const char *sl_skip_describe(const sl_skip *s, char *buf, size_t len)
{
    const named *nm = skip_named(s);
    char name[64] = "";
    if (nm)
        snprintf(name, sizeof name, " (%s)", nm->name);
    switch (s->kind) {
    case SL_SKIP_LINKTYPE: snprintf(buf, len, "link type %u", s->value); break;
    case SL_SKIP_ETHERTYPE: snprintf(buf, len, "EtherType 0x%04X%s", s->value, name); break;
    case SL_SKIP_LLC: snprintf(buf, len, "802.3 LLC (STP, CDP...)"); break;
    case SL_SKIP_PPP: snprintf(buf, len, "PPP protocol 0x%04X%s", s->value, name); break;
    case SL_SKIP_LOOP_FAMILY: snprintf(buf, len, "loopback address family %u", s->value); break;
    case SL_SKIP_NOT_IP: snprintf(buf, len, "payload neither IPv4 nor IPv6 (version %u)", s->value); break;
    case SL_SKIP_IP_PROTO: snprintf(buf, len, "IP protocol %u%s", s->value, name); break;
    case SL_SKIP_GRE_VERSION:
        snprintf(buf, len, "GRE version %u%s", s->value, s->value == 1 ? " (PPTP)" : "");
        break;
    case SL_SKIP_TUNNEL_PROTO: snprintf(buf, len, "GRE or Geneve carrying protocol 0x%04X", s->value); break;
    case SL_SKIP_GTP_MESSAGE: snprintf(buf, len, "GTP-U message type %u%s", s->value, name); break;
    case SL_SKIP_TUNNEL_DEPTH: snprintf(buf, len, "tunnels nested more than %u deep", s->value); break;
    case SL_SKIP_CAPTURE_FILTER: snprintf(buf, len, "no match for the capture filter (-f)"); break;
    default: snprintf(buf, len, "unknown reason"); break;
    }
    return buf;
}
