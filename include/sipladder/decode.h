/* decode.h - link, network and transport headers of one frame.
 *
 * Pure functions over borrowed bytes: no allocation, no state.  Fragments
 * are recognised here and put back together by ipfrag.h; tunnels (IP-in-IP,
 * GRE, ERSPAN) are peeled one layer per sl_decode_tunnel() call. */
#ifndef SIPLADDER_DECODE_H
#define SIPLADDER_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sipladder/addr.h"

/* Return values of the decoders besides 0 (decoded) and -SL_E*: the frame
 * is fine but carries nothing we follow (ARP, ICMP, ...). */
#define SL_DECODE_SKIP 1

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
 * *ip_len set; SL_DECODE_SKIP for non-IP; -SL_ETRUNC / -SL_EMALFORMED with a
 * static reason in *why. */
int sl_decode_link(int linktype, const uint8_t *frame, size_t caplen, const uint8_t **ip, size_t *ip_len,
                   const char **why);

/* Linux cooked captures (SLL, SLL2: `tcpdump -i any`) record whether the
 * capturing host sent or received each frame.  Returns that packet type
 * (SL_PKTTYPE_*), or -1 for other link types or a frame too short. */
enum { SL_PKTTYPE_HOST = 0, SL_PKTTYPE_OUTGOING = 4 };
int sl_decode_link_pkttype(int linktype, const uint8_t *frame, size_t caplen);

/* Decode an IPv4 or IPv6 header (with extension headers).  `len` is the
 * captured length from the header on; the payload is trimmed to what the
 * header says (link padding dropped). */
int sl_decode_ip(const uint8_t *ip, size_t len, sl_l3 *out, const char **why);

/* When l3 carries a tunnel (IPv4/IPv6 in IP, GRE with IP, Ethernet or
 * ERSPAN II/III inside), find the inner IP header: 0 with ip and ip_len set;
 * SL_DECODE_SKIP when l3 is no tunnel or carries no IP; -SL_E* on damage. */
int sl_decode_tunnel(const sl_l3 *l3, const uint8_t **ip, size_t *ip_len, const char **why);

/* Decode TCP or UDP from an IP payload.  SL_DECODE_SKIP for other protocols. */
int sl_decode_l4(uint8_t proto, const uint8_t *payload, size_t len, size_t wire_len, sl_l4 *out,
                 const char **why);

#endif
