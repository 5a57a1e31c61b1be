/* decode.h - link, network and transport headers of one frame.
 *
 * Pure functions over borrowed bytes: no allocation, no state.  Fragments
 * are recognised here and put back together by ipfrag.h; tunnels (IP-in-IP,
 * GRE, ERSPAN, VXLAN, Geneve, GTP-U) are peeled one layer per
 * sl_decode_tunnel() call.  What is not followed is named by an sl_skip, so
 * that nothing is dropped without a count by reason. */
#ifndef SIPLADDER_DECODE_H
#define SIPLADDER_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sipladder/addr.h"

/* Return values of the decoders besides 0 (decoded) and -SL_E*: the frame
 * is fine but carries nothing we follow (ARP, ICMP, ...). */
#define SL_DECODE_SKIP 1

/* Why a frame, or the packet inside a tunnel, was not followed: the layer
 * that stopped and the number naming what it carried. */
typedef enum sl_skip_kind {
    SL_SKIP_NONE = 0,
    SL_SKIP_LINKTYPE,     /* value: the DLT_* link type */
    SL_SKIP_ETHERTYPE,    /* value: the EtherType */
    SL_SKIP_LLC,          /* 802.3 frame with a length, not a type (STP, CDP, ...) */
    SL_SKIP_PPP,          /* PPPoE session without IP; value: the PPP protocol */
    SL_SKIP_LOOP_FAMILY,  /* value: the BSD loopback address family */
    SL_SKIP_NOT_IP,       /* raw IP, MPLS or GTP-U payload; value: its version nibble */
    SL_SKIP_IP_PROTO,     /* value: the IP protocol (ICMP 1, ESP 50, SCTP 132, ...) */
    SL_SKIP_GRE_VERSION,  /* value: the GRE version (1: PPTP) */
    SL_SKIP_TUNNEL_PROTO, /* value: the protocol type inside GRE or Geneve */
    SL_SKIP_GTP_MESSAGE,  /* GTP-U other than user data (echo, end marker...); value: message type */
    SL_SKIP_TUNNEL_DEPTH, /* tunnels nested deeper than followed; value: that depth */
    SL_SKIP_CAPTURE_FILTER, /* not matching the user's BPF filter (-f, select.h) */
    SL_SKIP_KINDS
} sl_skip_kind;

typedef struct sl_skip {
    uint16_t kind; /* sl_skip_kind */
    uint32_t value;
} sl_skip;

/* A stable name of the kind for JSON ("ethertype", "ip_protocol", ...). */
const char *sl_skip_kind_name(uint16_t kind);

/* What was not followed, for people: "EtherType 0x88B5", "IP protocol 1
 * (ICMP)", "GRE version 1 (PPTP)".  Returns buf. */
const char *sl_skip_describe(const sl_skip *s, char *buf, size_t len);

/* True when the reason is not followed by design: control traffic that
 * never carries signalling (ARP, LLDP, ICMP, OSPF, GTP-U echo...).  False:
 * it could carry SIP or TLS and was not decoded (an unknown EtherType,
 * ESP, SCTP, PPTP...). */
bool sl_skip_by_design(const sl_skip *s);

typedef struct sl_l3 {
    uint8_t version; /* 4 or 6 */
    sl_addr src, dst;
    uint8_t ttl;     /* hop limit for IPv6 */
    uint32_t ip_id;  /* IPv4 identification, or IPv6 fragment id */
    uint8_t proto;   /* upper-layer protocol after IPv6 extension headers */
    const uint8_t *payload;    /* borrowed */
    uint32_t payload_len;      /* captured bytes of payload */
    uint32_t payload_wire_len; /* payload bytes per the IP header */
    bool is_fragment;
    bool more_fragments;
    uint32_t frag_offset; /* bytes */
} sl_l3;

typedef struct sl_l4 {
    uint8_t proto; /* 6 TCP, 17 UDP */
    uint16_t sport, dport;
    uint32_t seq, ack; /* TCP */
    uint8_t flags;     /* TCP flags: FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 */
    uint16_t window;
    const uint8_t *payload; /* borrowed */
    uint32_t len;           /* captured payload bytes */
    uint32_t wire_len;      /* payload bytes on the wire */
} sl_l4;

enum { SL_TCP_FIN = 0x01, SL_TCP_SYN = 0x02, SL_TCP_RST = 0x04, SL_TCP_PSH = 0x08, SL_TCP_ACK = 0x10 };

/* Find the IP header inside a frame of `linktype` (DLT_*).  0 with *ip and
 * *ip_len set; SL_DECODE_SKIP for non-IP, with *skip saying why;
 * -SL_ETRUNC / -SL_EMALFORMED with a static reason in *why. */
int sl_decode_link(int linktype, const uint8_t *frame, size_t caplen, const uint8_t **ip, size_t *ip_len,
                   const char **why, sl_skip *skip);

/* Linux cooked captures (SLL, SLL2: `tcpdump -i any`) record whether the
 * capturing host sent or received each frame.  Returns that packet type
 * (SL_PKTTYPE_*), or -1 for other link types or a frame too short. */
enum { SL_PKTTYPE_HOST = 0, SL_PKTTYPE_OUTGOING = 4 };
int sl_decode_link_pkttype(int linktype, const uint8_t *frame, size_t caplen);

/* Decode an IPv4 or IPv6 header (with extension headers).  `len` is the
 * captured length from the header on; the payload is trimmed to what the
 * header says (link padding dropped). */
int sl_decode_ip(const uint8_t *ip, size_t len, sl_l3 *out, const char **why);

/* When l3 carries a tunnel, find the inner IP header: 0 with ip and ip_len
 * set; -SL_E* on damage; SL_DECODE_SKIP otherwise: skip->kind is
 * SL_SKIP_NONE when l3 is no tunnel (decode its TCP/UDP), else it names
 * what the tunnel carries that is not followed.  Tunnels: IPv4/IPv6 in IP;
 * GRE (RFC 2784/2890 key and sequence, RFC 1701 routing) with IP, MPLS,
 * Ethernet (0x6558, NVGRE), ERSPAN I/II/III or WCCP; VXLAN (UDP 4789),
 * Geneve (UDP 6081) and GTP-U G-PDUs (UDP 2152), each recognised by its
 * port and a header that fits. */
int sl_decode_tunnel(const sl_l3 *l3, const uint8_t **ip, size_t *ip_len, const char **why, sl_skip *skip);

/* Decode TCP or UDP from an IP payload.  SL_DECODE_SKIP for other protocols
 * (*skip: SL_SKIP_IP_PROTO). */
int sl_decode_l4(uint8_t proto, const uint8_t *payload, size_t len, size_t wire_len, sl_l4 *out,
                 const char **why, sl_skip *skip);

#endif
