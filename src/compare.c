/* compare.c - read each side of a firewall into compact packet and flow
 * records, pair the flows and then the packets across the firewall, and
 * estimate the clock offset between the two captures.  The verdicts are
 * compare_verdicts.c's; the output compare_render.c's. */
#include <stdlib.h>
#include <string.h>

#include "sipladder/compare.h"
#include "sipladder/cursor.h"
#include "sipladder/decode.h"
#include "sipladder/pcap_in.h"
#include "sipladder/status.h"

#define DEFAULT_WINDOW (2 * SL_NS_PER_SEC)
#define MAX_TUNNEL_DEPTH 4

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}
#define FNV0 UINT64_C(0xcbf29ce484222325)

static uint64_t mix(uint64_t h, uint64_t v)
{
    return fnv(h, &v, sizeof v);
}

/* ---- one side's packets and flows ---- */

static uint64_t tuple_hash(uint8_t proto, const sl_addr *a, uint16_t pa, const sl_addr *b, uint16_t pb)
{
    /* Either direction hashes alike: the endpoints in a fixed order. */
    if (sl_addr_cmp(a, b) > 0 || (sl_addr_equal(a, b) && pa > pb)) {
        const sl_addr *t = a;
        a = b;
        b = t;
        uint16_t tp = pa;
        pa = pb;
        pb = tp;
    }
    uint64_t h = fnv(FNV0, &proto, 1);
    h = fnv(h, a->bytes, 16);
    h = fnv(h, &pa, 2);
    h = fnv(h, b->bytes, 16);
    return fnv(h, &pb, 2);
}

static bool flow_is(const sl_cmp_flow *f, uint8_t proto, const sl_addr *s, uint16_t sp, const sl_addr *d,
                    uint16_t dp, uint8_t *dir)
{
    if (f->proto != proto)
        return false;
    for (uint8_t k = 0; k < 2; k++) {
        if (sl_addr_equal(&f->addr[k], s) && f->port[k] == sp && sl_addr_equal(&f->addr[!k], d) &&
            f->port[!k] == dp) {
            *dir = k;
            return true;
        }
    }
    return false;
}

static int table_grow(sl_cmp_side *s)
{
    size_t size = s->table_size ? s->table_size * 2 : 1024;
    int64_t *t = calloc(size, sizeof *t);
    if (!t)
        return -SL_ENOMEM;
    for (size_t i = 0; i < s->n_flows; i++) {
        const sl_cmp_flow *f = &s->flows[i];
        size_t at =
            tuple_hash(f->proto, &f->addr[0], f->port[0], &f->addr[1], f->port[1]) & (size_t)(size - 1);
        while (t[at])
            at = (at + 1) & (size - 1);
        t[at] = (int64_t)i + 1;
    }
    free(s->table);
    s->table = t;
    s->table_size = size;
    return 0;
}

/* The flow of these addresses and ports, or -1 (nothing is made). */
static int64_t flow_lookup(const sl_cmp_side *s, uint8_t proto, const sl_addr *src, uint16_t sp,
                           const sl_addr *dst, uint16_t dp, uint8_t *dir)
{
    if (!s->table_size)
        return -1;
    size_t mask = s->table_size - 1;
    int64_t found = -1;
    /* The last flow of the tuple (a reused port pair): the most recent. */
    for (size_t at = tuple_hash(proto, src, sp, dst, dp) & mask; s->table[at]; at = (at + 1) & mask)
        if (flow_is(&s->flows[s->table[at] - 1], proto, src, sp, dst, dp, dir))
            found = s->table[at] - 1;
    if (found >= 0)
        (void)flow_is(&s->flows[found], proto, src, sp, dst, dp, dir);
    return found;
}

/* The flow of a packet; a SYN on a flow that already opened with another
 * ISN starts a new one (the port pair reused), which the table then finds. */
static int64_t flow_find(sl_cmp_side *s, const sl_l3 *l3, const sl_l4 *l4, uint8_t *dir)
{
    if ((s->n_flows + 1) * 2 > s->table_size && table_grow(s) < 0)
        return -1;
    uint64_t h = tuple_hash(l4->proto, &l3->src, l4->sport, &l3->dst, l4->dport);
    size_t mask = s->table_size - 1, at = h & mask;
    for (; s->table[at]; at = (at + 1) & mask) {
        sl_cmp_flow *f = &s->flows[s->table[at] - 1];
        if (!flow_is(f, l4->proto, &l3->src, l4->sport, &l3->dst, l4->dport, dir))
            continue;
        bool syn_only = l4->proto == 6 && (l4->flags & (SL_TCP_SYN | SL_TCP_ACK)) == SL_TCP_SYN;
        if (!(syn_only && f->syn_seen && (*dir != 0 || f->isn[0] != l4->seq)))
            return s->table[at] - 1;
        break; /* replaced in this slot below */
    }
    if (s->n_flows == s->cap_flows) {
        size_t cap = s->cap_flows ? s->cap_flows * 2 : 256;
        sl_cmp_flow *nf = realloc(s->flows, cap * sizeof *nf);
        if (!nf)
            return -1;
        s->flows = nf;
        s->cap_flows = cap;
    }
    sl_cmp_flow *f = &s->flows[s->n_flows];
    memset(f, 0, sizeof *f);
    bool synack = l4->proto == 6 && (l4->flags & (SL_TCP_SYN | SL_TCP_ACK)) == (SL_TCP_SYN | SL_TCP_ACK);
    f->proto = l4->proto;
    f->addr[0] = synack ? l3->dst : l3->src;
    f->port[0] = synack ? l4->dport : l4->sport;
    f->addr[1] = synack ? l3->src : l3->dst;
    f->port[1] = synack ? l4->sport : l4->dport;
    f->first_pkt = f->last_pkt = -1;
    f->peer = -1;
    f->enters[0] = f->enters[1] = -1;
    *dir = synack ? 1 : 0;
    s->table[at] = (int64_t)s->n_flows + 1;
    return (int64_t)s->n_flows++;
}

/* A SIP message's identity across an ALG: start line (method or status),
 * Call-ID and CSeq, none of which an ALG rewrites.  0: not SIP. */
static uint64_t sip_identity(const uint8_t *p, size_t len)
{
    static const char *const starts[] = {"SIP/2.0 ", "INVITE ",   "ACK ",       "BYE ",    "CANCEL ",
                                         "OPTIONS ", "REGISTER ", "PRACK ",     "UPDATE ", "INFO ",
                                         "REFER ",   "NOTIFY ",   "SUBSCRIBE ", "MESSAGE "};
    bool sip = false;
    for (size_t i = 0; i < sizeof starts / sizeof starts[0] && !sip; i++) {
        size_t n = strlen(starts[i]);
        sip = len >= n && memcmp(p, starts[i], n) == 0;
    }
    if (!sip)
        return 0;
    uint64_t h = FNV0;
    size_t pos = 0;
    for (int line = 0; pos < len && line < 200; line++) {
        size_t end = pos;
        while (end < len && p[end] != '\n')
            end++;
        size_t n = end - pos;
        if (n && p[pos + n - 1] == '\r')
            n--;
        if (n == 0)
            break; /* end of the headers */
        const uint8_t *l = p + pos;
        if (line == 0) {
            /* Method or status code only: the Request-URI may be rewritten. */
            size_t w = 0;
            while (w < n && l[w] != ' ')
                w++;
            size_t extra = (n > w + 4 && l[0] == 'S') ? 4 : 0; /* "SIP/2.0 200" */
            h = fnv(h, l, w + extra);
        } else if ((n > 8 && strncasecmp((const char *)l, "call-id:", 8) == 0) ||
                   (n > 2 && strncasecmp((const char *)l, "i:", 2) == 0) ||
                   (n > 5 && strncasecmp((const char *)l, "cseq:", 5) == 0)) {
            h = fnv(h, l, n);
        }
        pos = end + 1;
    }
    return h ? h : 1;
}

/* The SYN's signature: window and options (their kinds and values: the
 * timestamp in particular), except the MSS value a firewall may clamp. */
static uint64_t syn_signature(const sl_l3 *l3, const sl_l4 *l4)
{
    sl_cursor c;
    sl_cursor_init(&c, l3->payload, l3->payload_len);
    sl_cursor_skip(&c, 12);
    size_t doff = (size_t)(sl_cursor_u8(&c) >> 4) * 4;
    uint64_t h = mix(FNV0, l4->window);
    if (!sl_cursor_ok(&c) || doff < 20 || doff > l3->payload_len)
        return h;
    sl_cursor o;
    sl_cursor_init(&o, l3->payload + 20, doff - 20);
    while (sl_cursor_left(&o)) {
        uint8_t kind = sl_cursor_u8(&o);
        h = fnv(h, &kind, 1);
        if (kind == 0)
            break;
        if (kind == 1)
            continue;
        uint8_t len = sl_cursor_u8(&o);
        if (len < 2 || !sl_cursor_has(&o, (size_t)len - 2))
            break;
        const uint8_t *v = sl_cursor_bytes(&o, (size_t)len - 2);
        if (kind != 2) /* MSS may be clamped on the way */
            h = fnv(h, v, (size_t)len - 2);
    }
    return h;
}

static int add_packet(sl_cmp_side *s, const sl_pcap_frame *fr, const sl_l3 *l3, const sl_l4 *l4)
{
    uint8_t dir;
    int64_t fi = flow_find(s, l3, l4, &dir);
    if (fi < 0)
        return -SL_ENOMEM;
    if (s->n_pkts == s->cap_pkts) {
        size_t cap = s->cap_pkts ? s->cap_pkts * 2 : 1024;
        sl_cmp_pkt *np = realloc(s->pkts, cap * sizeof *np);
        if (!np)
            return -SL_ENOMEM;
        s->pkts = np;
        s->cap_pkts = cap;
    }
    sl_cmp_flow *f = &s->flows[fi];
    int64_t pi = (int64_t)s->n_pkts++;
    sl_cmp_pkt *p = &s->pkts[pi];
    *p = (sl_cmp_pkt){.frame = fr->frame,
                      .ts = fr->ts,
                      .seq = l4->seq,
                      .ack = l4->ack,
                      .len = l4->len,
                      .flow = (uint32_t)fi,
                      .next = -1,
                      .peer = -1,
                      .dir = dir,
                      .ttl = l3->ttl};
    p->flags = l4->proto == 6 ? l4->flags : 0;
    p->payload_hash = fnv(FNV0, l4->payload, l4->len);
    p->sip_key = sip_identity(l4->payload, l4->len);
    p->first_byte = l4->len ? l4->payload[0] : 0;
    memcpy(p->head, l4->payload, l4->len < sizeof p->head ? l4->len : sizeof p->head);
    if (l4->proto == 6 && (l4->flags & SL_TCP_SYN)) {
        f->syn_seen = true;
        f->isn[dir] = l4->seq;
        f->isn_known[dir] = true;
        if (dir == 0)
            f->key1 = mix(syn_signature(l3, l4), 6);
    }
    if (!f->key1 && l4->len)
        f->key1 = mix(mix(p->payload_hash, dir), l4->proto);
    if (!f->key2 && p->sip_key)
        f->key2 = mix(mix(p->sip_key, dir), l4->proto);
    if (f->last_pkt >= 0)
        s->pkts[f->last_pkt].next = pi;
    else {
        f->first_pkt = pi;
        f->first_frame = fr->frame;
        f->first_ts = fr->ts;
    }
    f->last_pkt = pi;
    f->last_ts = fr->ts;
    f->packets[dir]++;
    return 0;
}

/* An ICMP or ICMPv6 error about a flow of this side: the original
 * packet's header it quotes names the flow.  Other ICMP is skipped. */
static int add_icmp(sl_cmp_side *s, const sl_pcap_frame *fr, const sl_l3 *l3)
{
    sl_cursor c;
    sl_cursor_init(&c, l3->payload, l3->payload_len);
    uint8_t type = sl_cursor_u8(&c), code = sl_cursor_u8(&c);
    sl_cursor_skip(&c, 6);
    bool error = l3->version == 4 ? (type == 3 || type == 11 || type == 12) : (type >= 1 && type <= 4);
    if (!error || !sl_cursor_ok(&c)) {
        s->skipped++;
        return 0;
    }
    sl_addr src = {0}, dst = {0};
    uint8_t proto;
    if (l3->version == 4) {
        uint8_t vihl = sl_cursor_u8(&c);
        size_t ihl = (size_t)(vihl & 15) * 4;
        sl_cursor_skip(&c, 8);
        proto = sl_cursor_u8(&c);
        sl_cursor_skip(&c, 2);
        const uint8_t *a = sl_cursor_bytes(&c, 4), *b = sl_cursor_bytes(&c, 4);
        if ((vihl >> 4) != 4 || ihl < 20 || !a || !b || !sl_cursor_skip(&c, ihl - 20)) {
            s->malformed++;
            return 0;
        }
        src.family = dst.family = 4;
        memcpy(src.bytes, a, 4);
        memcpy(dst.bytes, b, 4);
    } else {
        sl_cursor_skip(&c, 6);
        proto = sl_cursor_u8(&c);
        sl_cursor_skip(&c, 1);
        const uint8_t *a = sl_cursor_bytes(&c, 16), *b = sl_cursor_bytes(&c, 16);
        if (!a || !b) {
            s->malformed++;
            return 0;
        }
        src.family = dst.family = 6;
        memcpy(src.bytes, a, 16);
        memcpy(dst.bytes, b, 16);
    }
    uint16_t sp = sl_cursor_u16be(&c), dp = sl_cursor_u16be(&c);
    uint8_t dir;
    int64_t fi = sl_cursor_ok(&c) && (proto == 6 || proto == 17)
                     ? flow_lookup(s, proto, &src, sp, &dst, dp, &dir)
                     : -1;
    if (fi < 0 || s->n_icmp == SL_CMP_MAX_ICMP) {
        s->icmp_not_kept++;
        return 0;
    }
    if (s->n_icmp == s->cap_icmp) {
        size_t cap = s->cap_icmp ? s->cap_icmp * 2 : 16;
        sl_cmp_icmp *n = realloc(s->icmp, cap * sizeof *n);
        if (!n)
            return -SL_ENOMEM;
        s->icmp = n;
        s->cap_icmp = cap;
    }
    s->icmp[s->n_icmp++] = (sl_cmp_icmp){.frame = fr->frame,
                                         .ts = fr->ts,
                                         .src = l3->src,
                                         .flow = fi,
                                         .dir = dir,
                                         .type = type,
                                         .code = code,
                                         .ttl = l3->ttl,
                                         .version = l3->version};
    return 0;
}

/* A frame's TCP or UDP header and payload: 1 with l3/l4 set, 2 for ICMP
 * (l3 set), 0 when it carries none we follow, -1 when malformed. */
static int decode_frame(const sl_pcap_frame *fr, sl_l3 *l3, sl_l4 *l4)
{
    const uint8_t *ip;
    size_t ip_len;
    const char *why;
    sl_skip skip;
    int rc = sl_decode_link(fr->linktype, fr->data, fr->caplen, &ip, &ip_len, &why, &skip);
    for (int depth = 0; rc == 0; depth++) {
        if (sl_decode_ip(ip, ip_len, l3, &why) < 0)
            return -1;
        if (l3->is_fragment || depth > MAX_TUNNEL_DEPTH) /* not followed here: counted */
            return 0;
        rc = sl_decode_tunnel(l3, &ip, &ip_len, &why, &skip);
        if (rc == 0)
            continue;
        if (rc < 0 || skip.kind != SL_SKIP_NONE)
            break;
        if ((l3->version == 4 && l3->proto == 1) || (l3->version == 6 && l3->proto == 58))
            return 2;
        rc = sl_decode_l4(l3->proto, l3->payload, l3->payload_len, l3->payload_wire_len, l4, &why, &skip);
        if (rc != 0)
            break;
        return 1;
    }
    return rc < 0 ? -1 : 0;
}

static int handle_frame(sl_cmp_side *s, const sl_pcap_frame *fr)
{
    s->frames++;
    if (s->frames == 1 || fr->ts < s->first_ts)
        s->first_ts = fr->ts;
    if (fr->ts > s->last_ts)
        s->last_ts = fr->ts;
    sl_l3 l3;
    sl_l4 l4;
    int rc = decode_frame(fr, &l3, &l4);
    if (rc == 1)
        return add_packet(s, fr, &l3, &l4);
    if (rc == 2)
        return add_icmp(s, fr, &l3);
    if (rc < 0)
        s->malformed++;
    else
        s->skipped++;
    return 0;
}

typedef struct wanted {
    uint64_t frame;
    size_t verdict;
} wanted;

static int cmp_wanted(const void *a, const void *b)
{
    const wanted *x = a, *y = b;
    return x->frame < y->frame ? -1 : x->frame > y->frame;
}

/* Second pass over a side: the payloads of the rewritten packets. */
static int fetch_payloads(sl_compare *c, int s, sl_pcap_in *in)
{
    size_t n = 0;
    wanted *w = malloc((c->n_verdicts ? c->n_verdicts : 1) * sizeof *w);
    if (!w) {
        sl_pcap_in_close(in);
        return -SL_ENOMEM;
    }
    for (size_t k = 0; k < c->n_verdicts; k++)
        if (c->verdicts[k].pkt[s] >= 0 && strcmp(c->verdicts[k].code, "fw.rewritten") == 0)
            w[n++] = (wanted){c->side[s].pkts[c->verdicts[k].pkt[s]].frame, k};
    qsort(w, n, sizeof *w, cmp_wanted);
    sl_pcap_frame fr;
    int rc = 0;
    for (size_t at = 0; rc == 0 && at < n && sl_pcap_in_next(in, &fr) == 1;) {
        if (fr.frame < w[at].frame)
            continue;
        sl_l3 l3;
        sl_l4 l4;
        bool ok = decode_frame(&fr, &l3, &l4) == 1;
        for (; at < n && w[at].frame == fr.frame; at++) {
            sl_cmp_verdict *v = &c->verdicts[w[at].verdict];
            uint32_t len = ok ? (l4.len < SL_CMP_MAX_SIP_COPY ? l4.len : SL_CMP_MAX_SIP_COPY) : 0;
            if (!(v->payload[s] = malloc(len ? len : 1))) {
                rc = -SL_ENOMEM;
                break;
            }
            if (len)
                memcpy(v->payload[s], l4.payload, len);
            v->payload_len[s] = len;
        }
    }
    sl_pcap_in_close(in);
    free(w);
    return rc;
}

static void on_warning(void *ctx, const char *msg)
{
    sl_cmp_side *s = ctx;
    if (!s->error)
        s->error = strdup(msg);
}

static int read_side(sl_cmp_side *s, sl_pcap_in *in)
{
    sl_pcap_frame fr;
    int rc = 0;
    while (rc == 0 && sl_pcap_in_next(in, &fr) == 1)
        rc = handle_frame(s, &fr);
    s->truncated = sl_pcap_in_truncated(in) != 0;
    sl_pcap_in_close(in);
    return rc;
}

/* ---- after the pass: relative sequence numbers and packet keys ---- */

/* What a packet's copy shares: direction, TCP flags and relative numbers,
 * length and payload. */
static uint64_t packet_key(uint8_t proto, const sl_cmp_pkt *p, uint32_t seq_rel, uint32_t ack_rel)
{
    uint64_t h = mix(mix(FNV0, proto), p->dir);
    if (proto == 6) {
        h = mix(h, p->flags & (SL_TCP_SYN | SL_TCP_FIN | SL_TCP_RST | SL_TCP_ACK));
        h = mix(h, seq_rel);
        h = mix(h, ack_rel);
    }
    return mix(mix(h, p->len), p->payload_hash);
}

static void finish_side(sl_cmp_side *s)
{
    for (size_t i = 0; i < s->n_flows; i++) {
        sl_cmp_flow *f = &s->flows[i];
        f->key3 = tuple_hash(f->proto, &f->addr[0], f->port[0], &f->addr[1], f->port[1]) | 1;
        /* Without a SYN, the first sequence number seen is the base. */
        for (int64_t k = f->first_pkt; k >= 0; k = s->pkts[k].next) {
            const sl_cmp_pkt *p = &s->pkts[k];
            if (f->proto == 6 && !f->isn_known[p->dir] && !(p->flags & SL_TCP_RST)) {
                f->isn[p->dir] = p->seq - (p->flags & SL_TCP_SYN ? 0 : 1);
                f->isn_known[p->dir] = true;
            }
        }
        unsigned ttl_n[2][256] = {{0}};
        for (int64_t k = f->first_pkt; k >= 0; k = s->pkts[k].next) {
            sl_cmp_pkt *p = &s->pkts[k];
            ttl_n[p->dir][p->ttl]++;
            if (f->proto == 6) {
                p->seq_rel = p->seq - f->isn[p->dir];
                p->ack_rel = (p->flags & SL_TCP_ACK) && f->isn_known[!p->dir] ? p->ack - f->isn[!p->dir] : 0;
            }
            p->key = packet_key(f->proto, p, p->seq_rel, p->ack_rel);
        }
        for (int d = 0; d < 2; d++) {
            unsigned best = 0;
            for (int t = 0; t < 256; t++)
                if (ttl_n[d][t] > best) {
                    best = ttl_n[d][t];
                    f->usual_ttl[d] = (uint8_t)t;
                }
        }
    }
}

/* ---- pairing ---- */

typedef struct key_slot {
    uint64_t key;
    int64_t head; /* first index with this key, chained through `chain` */
} key_slot;

typedef struct key_index {
    key_slot *slots;
    size_t size;
    int64_t *chain; /* per item: next item with the same key, -1 */
} key_index;

static void key_index_free(key_index *x)
{
    free(x->slots);
    free(x->chain);
}

/* keys[i] for n items (0: not indexed); chains in item order. */
static int key_index_build(key_index *x, size_t n, uint64_t (*key_of)(const void *, size_t), const void *ctx)
{
    x->size = 16;
    while (x->size < n * 2 + 16)
        x->size *= 2;
    x->slots = calloc(x->size, sizeof *x->slots);
    x->chain = malloc((n ? n : 1) * sizeof *x->chain);
    if (!x->slots || !x->chain)
        return -SL_ENOMEM;
    int64_t *tail = malloc(x->size * sizeof *tail);
    if (!tail)
        return -SL_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        x->chain[i] = -1;
        uint64_t k = key_of(ctx, i);
        if (!k)
            continue;
        size_t at = k & (x->size - 1);
        while (x->slots[at].key && x->slots[at].key != k)
            at = (at + 1) & (x->size - 1);
        if (!x->slots[at].key) {
            x->slots[at] = (key_slot){k, (int64_t)i};
        } else {
            x->chain[tail[at]] = (int64_t)i;
        }
        tail[at] = (int64_t)i;
    }
    free(tail);
    return 0;
}

static int64_t key_index_first(const key_index *x, uint64_t k)
{
    if (!k)
        return -1;
    for (size_t at = k & (x->size - 1); x->slots[at].key; at = (at + 1) & (x->size - 1))
        if (x->slots[at].key == k)
            return x->slots[at].head;
    return -1;
}

static uint64_t flow_key1(const void *ctx, size_t i)
{
    return ((const sl_cmp_side *)ctx)->flows[i].key1;
}
static uint64_t flow_key2(const void *ctx, size_t i)
{
    return ((const sl_cmp_side *)ctx)->flows[i].key2;
}
static uint64_t flow_key3(const void *ctx, size_t i)
{
    return ((const sl_cmp_side *)ctx)->flows[i].key3;
}

static int cmp_time(const void *a, const void *b)
{
    sl_time_ns x = *(const sl_time_ns *)a, y = *(const sl_time_ns *)b;
    return x < y ? -1 : x > y;
}

static sl_time_ns abs_ns(sl_time_ns t)
{
    return t < 0 ? -t : t;
}

typedef uint64_t (*flow_key_fn)(const void *, size_t);

/* Time differences of the flows whose key is unique on both sides (no
 * time constraint: the clocks may be far apart), appended to d. */
static int unique_pairs(const sl_compare *c, flow_key_fn key_of, sl_time_ns *d, size_t *n)
{
    const sl_cmp_side *a = &c->side[0], *b = &c->side[1];
    key_index xa = {0}, xb = {0};
    if (key_index_build(&xa, a->n_flows, key_of, a) < 0 || key_index_build(&xb, b->n_flows, key_of, b) < 0) {
        key_index_free(&xa);
        key_index_free(&xb);
        return -SL_ENOMEM;
    }
    for (size_t i = 0; i < a->n_flows; i++) {
        uint64_t k = key_of(a, i);
        int64_t j = key_index_first(&xb, k), ia = key_index_first(&xa, k);
        if (j < 0 || xb.chain[j] >= 0 || ia != (int64_t)i || xa.chain[ia] >= 0)
            continue;
        d[(*n)++] = b->flows[j].first_ts - a->flows[i].first_ts;
    }
    key_index_free(&xa);
    key_index_free(&xb);
    return 0;
}

/* A first offset, the median of the flows paired by a unique key: the
 * SYN signature or first payload, else (an ALG rewrote it) the SIP
 * identity, else (no NAT) the addresses and ports. */
static int rough_offset(sl_compare *c, sl_time_ns *offset)
{
    static const flow_key_fn keys[] = {flow_key1, flow_key2, flow_key3};
    size_t na = c->side[0].n_flows;
    sl_time_ns *d = malloc((na ? na : 1) * sizeof *d);
    if (!d)
        return -SL_ENOMEM;
    size_t n = 0;
    int rc = 0;
    for (size_t k = 0; k < sizeof keys / sizeof keys[0] && n == 0 && rc == 0; k++)
        rc = unique_pairs(c, keys[k], d, &n);
    *offset = 0;
    if (n) {
        qsort(d, n, sizeof *d, cmp_time);
        *offset = d[n / 2];
    }
    free(d);
    return rc;
}

static int64_t *key_index_head(key_index *x, uint64_t k);

/* Each side-0 flow (in order of first packet) with the nearest unpaired
 * side-1 flow of its key within the window.  A chain's head moves past
 * flows paired or too early for good, so alike keys (a keepalive, a SYN
 * signature repeated) keep the pass linear. */
static void pair_flows_by(sl_compare *c, key_index *xb, int which, sl_time_ns offset)
{
    sl_cmp_side *a = &c->side[0], *b = &c->side[1];
    sl_time_ns window = c->opts.window;
    for (size_t i = 0; i < a->n_flows; i++) {
        sl_cmp_flow *fa = &a->flows[i];
        if (fa->peer >= 0)
            continue;
        int64_t *head = key_index_head(xb, which == 1 ? fa->key1 : which == 2 ? fa->key2 : fa->key3);
        if (!head)
            continue;
        while (*head >= 0 &&
               (b->flows[*head].peer >= 0 || b->flows[*head].first_ts - offset - fa->first_ts < -window))
            *head = xb->chain[*head];
        int64_t best = -1;
        sl_time_ns best_gap = 0;
        for (int64_t j = *head; j >= 0; j = xb->chain[j]) {
            const sl_cmp_flow *fb = &b->flows[j];
            sl_time_ns d = fb->first_ts - offset - fa->first_ts;
            if (d > window)
                break;
            sl_time_ns gap = abs_ns(d);
            if (fb->peer >= 0 || fb->proto != fa->proto)
                continue;
            if (best < 0 || gap < best_gap) {
                best = j;
                best_gap = gap;
            }
            if (d >= 0)
                break; /* later ones are further */
        }
        if (best >= 0) {
            fa->peer = best;
            b->flows[best].peer = (int64_t)i;
        }
    }
}

static int64_t *key_index_head(key_index *x, uint64_t k)
{
    if (!k)
        return NULL;
    for (size_t at = k & (x->size - 1); x->slots[at].key; at = (at + 1) & (x->size - 1))
        if (x->slots[at].key == k)
            return &x->slots[at].head;
    return NULL;
}

/* How packets pair: by their key; by SIP identity (an ALG rewrote the
 * message); by their key with side 0's sequence numbers moved by what an
 * ALG added or removed before them (the segments after a rewrite). */
enum pair_mode { PAIR_EXACT, PAIR_SIP, PAIR_SHIFTED };

/* A packet's pairing key: its key (or SIP identity) within the pair of
 * flows, so that a chain holds one flow pair's candidates only. */
typedef struct pkt_keyer {
    const sl_cmp_side *side;
    bool by_sip;
} pkt_keyer;

static uint64_t pair_key_of(uint64_t k, int64_t pair, uint8_t dir, bool by_sip)
{
    if (!k || pair < 0)
        return 0;
    uint64_t h = mix(mix(mix(k, (uint64_t)pair), dir), by_sip);
    return h ? h : 1;
}

static uint64_t pkt_pair_key(const sl_cmp_side *s, const sl_cmp_pkt *p, int64_t pair, bool by_sip)
{
    (void)s;
    return pair_key_of(by_sip ? p->sip_key : p->key, pair, p->dir, by_sip);
}

/* Where an ALG changed a TCP stream's length: from side 0's stream offset
 * `end0` on (the end of a rewritten message), side 1's offsets are `delta`
 * further, in that flow's direction. */
typedef struct seq_shift {
    int64_t flow;
    uint8_t dir;
    uint32_t end0;
    int64_t delta;
} seq_shift;

typedef struct seq_shifts {
    seq_shift *v;
    size_t n;
} seq_shifts;

static int cmp_shift(const void *a, const void *b)
{
    const seq_shift *x = a, *y = b;
    if (x->flow != y->flow)
        return x->flow < y->flow ? -1 : 1;
    if (x->dir != y->dir)
        return x->dir < y->dir ? -1 : 1;
    return x->end0 < y->end0 ? -1 : x->end0 > y->end0;
}

/* The TCP messages paired by SIP identity whose copies end elsewhere in
 * their streams.  0 with none found is fine (nothing to shift). */
static int find_shifts(const sl_compare *c, seq_shifts *out)
{
    const sl_cmp_side *a = &c->side[0], *b = &c->side[1];
    out->v = NULL;
    out->n = 0;
    size_t cap = 0;
    for (size_t i = 0; i < a->n_pkts; i++) {
        const sl_cmp_pkt *p0 = &a->pkts[i];
        if (p0->peer < 0 || !p0->len || a->flows[p0->flow].proto != 6)
            continue;
        const sl_cmp_pkt *p1 = &b->pkts[p0->peer];
        int64_t delta = ((int64_t)p1->seq_rel + p1->len) - ((int64_t)p0->seq_rel + p0->len);
        if (delta == 0 && out->n == 0)
            continue;
        if (out->n == cap) {
            cap = cap ? cap * 2 : 16;
            seq_shift *v = realloc(out->v, cap * sizeof *v);
            if (!v)
                return -SL_ENOMEM;
            out->v = v;
        }
        out->v[out->n++] = (seq_shift){(int64_t)p0->flow, p0->dir, p0->seq_rel + p0->len, delta};
    }
    if (out->n)
        qsort(out->v, out->n, sizeof *out->v, cmp_shift);
    return 0;
}

/* Side 1's offset for side 0's offset x in a flow's direction. */
static uint32_t shifted(const seq_shifts *sh, int64_t flow, uint8_t dir, uint32_t x)
{
    size_t lo = 0, hi = sh->n;
    seq_shift key = {flow, dir, x, 0};
    while (lo < hi) { /* the first entry after (flow, dir, x) */
        size_t mid = (lo + hi) / 2;
        if (cmp_shift(&sh->v[mid], &key) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || sh->v[lo - 1].flow != flow || sh->v[lo - 1].dir != dir)
        return x;
    return (uint32_t)((int64_t)x + sh->v[lo - 1].delta);
}

static uint64_t pkt_key_b(const void *ctx, size_t i)
{
    const pkt_keyer *k = ctx;
    const sl_cmp_pkt *p = &k->side->pkts[i];
    /* Side 1's packet, named by side 0's flow of its pair. */
    return pkt_pair_key(k->side, p, k->side->flows[p->flow].peer, k->by_sip);
}

/* Each packet of side 0 with its copy on side 1: the same key, the first
 * not yet paired within the window, in time order.  A chain's head moves
 * past what is paired or too early for good, so the pass stays linear. */
static int pair_packets(sl_compare *c, sl_time_ns offset, enum pair_mode mode)
{
    sl_cmp_side *a = &c->side[0], *b = &c->side[1];
    bool by_sip = mode == PAIR_SIP;
    seq_shifts sh = {NULL, 0};
    if (mode == PAIR_SHIFTED && find_shifts(c, &sh) < 0)
        return -SL_ENOMEM;
    if (mode == PAIR_SHIFTED && sh.n == 0)
        return 0; /* no ALG changed a length */
    pkt_keyer kb = {b, by_sip};
    key_index xb = {0};
    if (key_index_build(&xb, b->n_pkts, pkt_key_b, &kb) < 0) {
        key_index_free(&xb);
        free(sh.v);
        return -SL_ENOMEM;
    }
    for (size_t i = 0; i < a->n_pkts; i++) {
        sl_cmp_pkt *pa = &a->pkts[i];
        const sl_cmp_flow *fa = &a->flows[pa->flow];
        if (pa->peer >= 0 || fa->peer < 0)
            continue;
        uint64_t k = pkt_pair_key(a, pa, (int64_t)pa->flow, by_sip);
        if (mode == PAIR_SHIFTED) {
            if (fa->proto != 6)
                continue;
            uint32_t seq = shifted(&sh, (int64_t)pa->flow, pa->dir, pa->seq_rel);
            uint32_t ack = pa->ack_rel ? shifted(&sh, (int64_t)pa->flow, (uint8_t)!pa->dir, pa->ack_rel) : 0;
            k = pair_key_of(packet_key(6, pa, seq, ack), (int64_t)pa->flow, pa->dir, false);
        }
        int64_t *head = key_index_head(&xb, k);
        if (!head)
            continue;
        while (*head >= 0 &&
               (b->pkts[*head].peer >= 0 || b->pkts[*head].ts - offset - pa->ts < -c->opts.window))
            *head = xb.chain[*head];
        for (int64_t j = *head; j >= 0; j = xb.chain[j]) {
            sl_cmp_pkt *pb = &b->pkts[j];
            if (pb->peer >= 0)
                continue;
            if (pb->ts - offset - pa->ts > c->opts.window)
                break;
            pa->peer = j;
            pb->peer = (int64_t)i;
            c->pairs++;
            break;
        }
    }
    key_index_free(&xb);
    free(sh.v);
    return 0;
}

/* An ICMP error and its copy: the same type and code about the same pair
 * of flows, within the window. */
static uint64_t icmp_key(const sl_cmp_icmp *m, int64_t flow0)
{
    return flow0 < 0 ? 0 : mix(mix(mix(FNV0, (uint64_t)flow0), m->type), m->code) | 1;
}

static uint64_t icmp_key_b(const void *ctx, size_t i)
{
    const sl_cmp_side *b = ctx;
    return icmp_key(&b->icmp[i], b->flows[b->icmp[i].flow].peer);
}

static int pair_icmp(sl_compare *c)
{
    sl_cmp_side *a = &c->side[0], *b = &c->side[1];
    key_index xb = {0};
    if (key_index_build(&xb, b->n_icmp, icmp_key_b, b) < 0) {
        key_index_free(&xb);
        return -SL_ENOMEM;
    }
    for (size_t i = 0; i < a->n_icmp; i++) {
        sl_cmp_icmp *m = &a->icmp[i];
        int64_t *head = key_index_head(&xb, a->flows[m->flow].peer >= 0 ? icmp_key(m, m->flow) : 0);
        if (!head)
            continue;
        while (*head >= 0 &&
               (b->icmp[*head].paired || b->icmp[*head].ts - c->offset - m->ts < -c->opts.window))
            *head = xb.chain[*head];
        if (*head >= 0 && b->icmp[*head].ts - c->offset - m->ts <= c->opts.window) {
            m->paired = b->icmp[*head].paired = true;
            *head = xb.chain[*head];
        }
    }
    key_index_free(&xb);
    return 0;
}

/* Which side each direction of a pair of flows enters on: the copy with
 * the higher TTL is the one before the routing hop; a firewall that does
 * not decrement the TTL (a bridge) leaves the earlier copy. */
static void entering_sides(sl_compare *c, sl_cmp_flow *fa, sl_time_ns offset)
{
    const sl_cmp_side *a = &c->side[0], *b = &c->side[1];
    long vote[2] = {0, 0}; /* > 0: enters on side 0 */
    for (int64_t i = fa->first_pkt; i >= 0; i = a->pkts[i].next) {
        const sl_cmp_pkt *pa = &a->pkts[i];
        if (pa->peer < 0)
            continue;
        const sl_cmp_pkt *pb = &b->pkts[pa->peer];
        if (pa->ttl != pb->ttl)
            vote[pa->dir] += pa->ttl > pb->ttl ? 1 : -1;
        else
            vote[pa->dir] += pb->ts - offset >= pa->ts ? 1 : -1;
    }
    for (int d = 0; d < 2; d++)
        if (vote[d])
            fa->enters[d] = vote[d] > 0 ? 0 : 1;
    for (int d = 0; d < 2; d++)
        if (fa->enters[d] < 0 && fa->enters[!d] >= 0)
            fa->enters[d] = (int8_t)!fa->enters[!d];
    if (fa->peer >= 0) {
        c->side[1].flows[fa->peer].enters[0] = fa->enters[0];
        c->side[1].flows[fa->peer].enters[1] = fa->enters[1];
    }
}

static sl_time_ns percentile(const sl_time_ns *v, size_t n, unsigned pct)
{
    if (!n)
        return 0;
    size_t at = (n * pct + 99) / 100;
    return v[at ? at - 1 : 0];
}

/* The offset from the pairs of both directions of travel (as NTP does: the
 * latency cancels out), then the latency of each direction. */
static int estimate_offset(sl_compare *c, sl_time_ns rough)
{
    const sl_cmp_side *a = &c->side[0], *b = &c->side[1];
    size_t n = c->pairs ? c->pairs : 1;
    sl_time_ns *d[2] = {malloc(n * sizeof(sl_time_ns)), malloc(n * sizeof(sl_time_ns))};
    uint64_t(*fr)[2] = malloc(n * 2 * sizeof *fr);
    size_t nd[2] = {0, 0};
    if (!d[0] || !d[1] || !fr) {
        free(d[0]);
        free(d[1]);
        free(fr);
        return -SL_ENOMEM;
    }
    for (size_t i = 0; i < a->n_pkts; i++) {
        const sl_cmp_pkt *pa = &a->pkts[i];
        if (pa->peer < 0)
            continue;
        int enters = a->flows[pa->flow].enters[pa->dir];
        int s = enters < 0 ? 0 : enters;
        d[s][nd[s]++] = b->pkts[pa->peer].ts - pa->ts;
    }
    sl_time_ns med[2] = {0, 0};
    for (int s = 0; s < 2; s++) {
        qsort(d[s], nd[s], sizeof(sl_time_ns), cmp_time);
        med[s] = nd[s] ? d[s][nd[s] / 2] : 0;
    }
    c->offset_pairs = nd[0] + nd[1];
    if (c->opts.offset_forced)
        c->offset = c->opts.offset;
    else if (nd[0] && nd[1])
        c->offset = (med[0] + med[1]) / 2;
    else if (nd[0] || nd[1]) {
        c->offset = nd[0] ? med[0] : med[1];
        c->offset_one_way = true;
    } else
        c->offset = rough;
    /* Spread: p10..p90 of each direction around its own median. */
    sl_time_ns spread = 0;
    for (int s = 0; s < 2; s++) {
        if (!nd[s])
            continue;
        sl_time_ns lo = med[s] - percentile(d[s], nd[s], 10), hi = percentile(d[s], nd[s], 90) - med[s];
        if (lo > spread)
            spread = lo;
        if (hi > spread)
            spread = hi;
    }
    c->offset_spread = spread;
    /* Latency of each direction: entering side 0 means t1 - t0 - offset. */
    for (int s = 0; s < 2; s++) {
        for (size_t i = 0; i < nd[s]; i++)
            d[s][i] = s == 0 ? d[s][i] - c->offset : c->offset - d[s][i];
        qsort(d[s], nd[s], sizeof(sl_time_ns), cmp_time);
        c->latency[s].pairs = nd[s];
        c->latency[s].median = nd[s] ? d[s][nd[s] / 2] : 0;
        c->latency[s].p99 = percentile(d[s], nd[s], 99);
        c->latency[s].max = nd[s] ? d[s][nd[s] - 1] : 0;
    }
    /* The slowest packet of each direction, for its frames. */
    for (size_t i = 0; i < a->n_pkts; i++) {
        const sl_cmp_pkt *pa = &a->pkts[i];
        if (pa->peer < 0)
            continue;
        int s = a->flows[pa->flow].enters[pa->dir] < 0 ? 0 : a->flows[pa->flow].enters[pa->dir];
        sl_time_ns dt = b->pkts[pa->peer].ts - pa->ts;
        sl_time_ns lat = s == 0 ? dt - c->offset : c->offset - dt;
        if (c->latency[s].pairs && lat == c->latency[s].max && !c->latency[s].max_frame[0]) {
            c->latency[s].max_frame[0] = pa->frame;
            c->latency[s].max_frame[1] = b->pkts[pa->peer].frame;
        }
    }
    free(d[0]);
    free(d[1]);
    free(fr);
    return 0;
}

static int compare_sides(sl_compare *c)
{
    finish_side(&c->side[0]);
    finish_side(&c->side[1]);
    key_index x1 = {0}, x2 = {0}, x3 = {0};
    int rc = key_index_build(&x1, c->side[1].n_flows, flow_key1, &c->side[1]);
    if (rc == 0)
        rc = key_index_build(&x2, c->side[1].n_flows, flow_key2, &c->side[1]);
    if (rc == 0)
        rc = key_index_build(&x3, c->side[1].n_flows, flow_key3, &c->side[1]);
    sl_time_ns rough = 0;
    if (rc == 0 && !c->opts.offset_forced)
        rc = rough_offset(c, &rough);
    if (c->opts.offset_forced)
        rough = c->opts.offset;
    if (rc == 0) {
        pair_flows_by(c, &x1, 1, rough);
        pair_flows_by(c, &x2, 2, rough); /* an ALG rewrote the first message */
        pair_flows_by(c, &x3, 3, rough); /* not NATed, its SYN's options changed on the way */
    }
    key_index_free(&x1);
    key_index_free(&x2);
    key_index_free(&x3);
    if (rc < 0)
        return rc;
    if ((rc = pair_packets(c, rough, PAIR_EXACT)) < 0 || (rc = pair_packets(c, rough, PAIR_SIP)) < 0 ||
        (rc = pair_packets(c, rough, PAIR_SHIFTED)) < 0)
        return rc;
    for (size_t i = 0; i < c->side[0].n_flows; i++)
        if (c->side[0].flows[i].peer >= 0)
            entering_sides(c, &c->side[0].flows[i], rough);
    if ((rc = estimate_offset(c, rough)) < 0 || (rc = pair_icmp(c)) < 0)
        return rc;
    return sl_compare_judge(c);
}

/* ---- entry points ---- */

static sl_compare *compare_new(const sl_compare_opts *opts)
{
    sl_compare *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (opts)
        c->opts = *opts;
    if (!c->opts.window)
        c->opts.window = DEFAULT_WINDOW;
    if (!c->opts.idle_min)
        c->opts.idle_min = 2 * SL_NS_PER_SEC;
    if (!c->opts.delay_p99)
        c->opts.delay_p99 = SL_NS_PER_SEC / 10;
    c->side[0].name = c->opts.names[0] ? c->opts.names[0] : "inside";
    c->side[1].name = c->opts.names[1] ? c->opts.names[1] : "outside";
    return c;
}

int sl_compare_run(const sl_compare_opts *opts, const char *const *files[2], const size_t n[2],
                   sl_compare **out)
{
    sl_compare *c = compare_new(opts);
    *out = c;
    if (!c)
        return -SL_ENOMEM;
    for (int s = 0; s < 2; s++) {
        sl_cmp_side *side = &c->side[s];
        side->files = calloc(n[s] ? n[s] : 1, sizeof *side->files);
        if (!side->files)
            return -SL_ENOMEM;
        for (size_t i = 0; i < n[s]; i++) {
            if (!(side->files[i] = strdup(files[s][i])))
                return -SL_ENOMEM;
            side->n_files = i + 1;
        }
        sl_pcap_in *in;
        char err[1024];
        if (sl_pcap_in_open(files[s], n[s], on_warning, side, &in, err, sizeof err) < 0) {
            free(side->error);
            side->error = strdup(err);
            return -SL_EIO;
        }
        int rc = read_side(side, in);
        if (rc < 0)
            return rc;
    }
    int rc = compare_sides(c);
    for (int s = 0; s < 2 && rc == 0; s++) {
        sl_pcap_in *in;
        char err[1024];
        if (sl_pcap_in_open(files[s], n[s], NULL, NULL, &in, err, sizeof err) == 0)
            rc = fetch_payloads(c, s, in);
    }
    if (rc == 0)
        rc = sl_compare_finish_rewritten(c);
    for (int s = 0; s < 2 && rc == 0; s++)
        rc = sl_compare_side_diagnoses(c, s, files[s], n[s], NULL, 0);
    return rc;
}

int sl_compare_run_memory(const sl_compare_opts *opts, const uint8_t *data[2], const size_t len[2],
                          sl_compare **out)
{
    sl_compare *c = compare_new(opts);
    *out = c;
    if (!c)
        return -SL_ENOMEM;
    for (int s = 0; s < 2; s++) {
        sl_pcap_in *in;
        char err[1024];
        if (sl_pcap_in_open_memory(data[s], len[s], "<memory>", on_warning, &c->side[s], &in, err,
                                   sizeof err) < 0) {
            free(c->side[s].error);
            c->side[s].error = strdup(err);
            return -SL_EIO;
        }
        int rc = read_side(&c->side[s], in);
        if (rc < 0)
            return rc;
    }
    int rc = compare_sides(c);
    for (int s = 0; s < 2 && rc == 0; s++) {
        sl_pcap_in *in;
        char err[1024];
        if (sl_pcap_in_open_memory(data[s], len[s], "<memory>", NULL, NULL, &in, err, sizeof err) == 0)
            rc = fetch_payloads(c, s, in);
    }
    if (rc == 0)
        rc = sl_compare_finish_rewritten(c);
    for (int s = 0; s < 2 && rc == 0; s++)
        rc = sl_compare_side_diagnoses(c, s, NULL, 0, data[s], len[s]);
    return rc;
}

void sl_compare_free(sl_compare *c)
{
    if (!c)
        return;
    for (int s = 0; s < 2; s++) {
        sl_cmp_side *side = &c->side[s];
        for (size_t i = 0; i < side->n_files; i++)
            free(side->files[i]);
        free(side->files);
        free(side->pkts);
        free(side->flows);
        free(side->table);
        free(side->icmp);
        free(side->error);
    }
    for (size_t i = 0; i < c->n_verdicts; i++) {
        free(c->verdicts[i].summary);
        free(c->verdicts[i].payload[0]);
        free(c->verdicts[i].payload[1]);
        for (size_t k = 0; k < c->verdicts[i].n_diff; k++)
            free(c->verdicts[i].diff[k]);
    }
    free(c->verdicts);
    sl_compare_side_verdicts_free(c);
    free(c);
}
