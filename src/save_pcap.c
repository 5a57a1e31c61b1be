/* save_pcap.c - the frames of what a selection shows, copied into a pcap
 * file (save_pcap.h): flows learned from the selected reports, then a
 * second pass over the captures with decode.c's decoders. */
#include "sipladder/save_pcap.h"

#include <ctype.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipladder/decode.h"
#include "sipladder/dns.h"
#include "sipladder/pcap_in.h"
#include "sipladder/sip_record.h"
#include "sipladder/status.h"

#define MAX_TUNNEL_DEPTH 4 /* as the analysis follows them */
#define MAX_OUTPUTS 8
/* A fragment goes with a datagram whose first fragment is this recent
 * (IP ids wrap: an old one with the same id is another datagram). */
#define FRAG_WINDOW_NS (60 * SL_NS_PER_SEC)
/* Media of a call that ended may trail its last message by a little. */
#define MEDIA_TRAIL_NS (2 * SL_NS_PER_SEC)

/* A flow whichever way its packets go: the lower endpoint first. */
typedef struct flow_key {
    uint8_t proto;
    sl_addr a[2];
    uint16_t p[2];
} flow_key;

typedef struct whole_flow {
    flow_key k;
    uint64_t first, last; /* frames; last UINT64_MAX: open when learned */
    bool closed;          /* TCP: a FIN or RST seen */
    bool done;            /* TCP: a new SYN after the close: another connection */
} whole_flow;

typedef struct media {
    sl_addr addr;
    uint16_t port;
    sl_time_ns from, to;
} media;

typedef struct frag_key {
    sl_addr src, dst;
    uint32_t id;
    uint8_t proto;
    sl_time_ns ts;
} frag_key;

struct sl_save {
    whole_flow *flows;
    size_t n_flows, cap_flows;
    uint64_t *frames;
    size_t n_frames, cap_frames;
    media *media;
    size_t n_media, cap_media;
    frag_key *frags;
    size_t n_frags, cap_frags;
    char *names[MAX_OUTPUTS];
    int status;
};

sl_save *sl_save_new(void) { return calloc(1, sizeof(sl_save)); }

void sl_save_free(sl_save *s)
{
    if (!s)
        return;
    free(s->flows);
    free(s->frames);
    free(s->media);
    free(s->frags);
    for (size_t i = 0; i < MAX_OUTPUTS; i++)
        free(s->names[i]);
    free(s);
}

/* Grow *arr (elements of `size`) to hold one more. */
static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? 2 * *cap : 64;
    void *p = realloc(*arr, ncap * size);
    if (!p)
        return -SL_ENOMEM;
    *arr = p;
    *cap = ncap;
    return 0;
}

static int endpoint_cmp(const sl_addr *a, uint16_t pa, const sl_addr *b, uint16_t pb)
{
    int c = sl_addr_cmp(a, b);
    return c ? c : (pa > pb) - (pa < pb);
}

static flow_key make_key(uint8_t proto, const sl_addr *a, uint16_t pa, const sl_addr *b, uint16_t pb)
{
    flow_key k = {.proto = proto};
    bool swap = endpoint_cmp(a, pa, b, pb) > 0;
    k.a[0] = swap ? *b : *a;
    k.p[0] = swap ? pb : pa;
    k.a[1] = swap ? *a : *b;
    k.p[1] = swap ? pa : pb;
    return k;
}

static int key_cmp(const flow_key *x, const flow_key *y)
{
    if (x->proto != y->proto)
        return x->proto < y->proto ? -1 : 1;
    int c = endpoint_cmp(&x->a[0], x->p[0], &y->a[0], y->p[0]);
    return c ? c : endpoint_cmp(&x->a[1], x->p[1], &y->a[1], y->p[1]);
}

static int flow_cmp(const void *a, const void *b)
{
    const whole_flow *x = a, *y = b;
    int c = key_cmp(&x->k, &y->k);
    return c ? c : (x->first > y->first) - (x->first < y->first);
}

static int media_cmp(const void *a, const void *b)
{
    const media *x = a, *y = b;
    return endpoint_cmp(&x->addr, x->port, &y->addr, y->port);
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int add_frame(sl_save *s, uint64_t frame)
{
    if (grow((void **)&s->frames, &s->cap_frames, s->n_frames, sizeof *s->frames) < 0)
        return -SL_ENOMEM;
    s->frames[s->n_frames++] = frame;
    return 0;
}

static int add_flow(sl_save *s, const sl_conn *c)
{
    if (grow((void **)&s->flows, &s->cap_flows, s->n_flows, sizeof *s->flows) < 0)
        return -SL_ENOMEM;
    uint8_t proto = c->info.transport == SL_TRANSPORT_TCP ? 6 : 17;
    s->flows[s->n_flows++] = (whole_flow){
        .k = make_key(proto, &c->info.addr[0], c->info.port[0], &c->info.addr[1], c->info.port[1]),
        .first = c->first_frame,
        .last = c->complete ? c->last_frame : UINT64_MAX,
    };
    return 0;
}

static int add_media(sl_save *s, const sl_addr *a, uint16_t port, sl_time_ns from, sl_time_ns to)
{
    if (grow((void **)&s->media, &s->cap_media, s->n_media, sizeof *s->media) < 0)
        return -SL_ENOMEM;
    s->media[s->n_media++] = (media){*a, port, from, to};
    return 0;
}

/* The media a message's SDP names: each m= port (and +1, RTCP) at its
 * c= address (the media's, else the session's). */
static int learn_sdp(sl_save *s, const sl_sip_record *r, sl_time_ns from, sl_time_ns to)
{
    for (size_t i = 0; r->has_sdp && i < r->sdp.n_media; i++) {
        const sl_sdp_media *m = &r->sdp.media[i];
        const char *text = m->conn_addr[0] ? m->conn_addr : r->sdp.conn_addr;
        sl_addr a;
        if (m->port == 0 || m->port > 65535 || !text[0] || sl_addr_parse(text, &a) != 0)
            continue;
        if (add_media(s, &a, (uint16_t)m->port, from, to) < 0)
            return -SL_ENOMEM;
        if (m->port < 65535 && add_media(s, &a, (uint16_t)(m->port + 1), from, to) < 0)
            return -SL_ENOMEM;
    }
    return 0;
}

static bool has_bye(const sl_call *k)
{
    for (size_t i = 0; i < k->n_messages; i++) {
        const sl_sip_str *m = &k->messages[i]->f.method;
        if (m->p && m->n == 3 && memcmp(m->p, "BYE", 3) == 0)
            return true;
    }
    return false;
}

static int learn_calls(sl_save *s, const sl_calls *c)
{
    for (size_t i = 0; c && i < c->n_calls; i++) {
        const sl_call *k = &c->calls[i];
        /* An answered call without its BYE: the media may run to the end. */
        sl_time_ns to = k->outcome == SL_CALL_ANSWERED && !has_bye(k) ? INT64_MAX : k->last_ts + MEDIA_TRAIL_NS;
        for (size_t j = 0; j < k->n_messages; j++)
            if (learn_sdp(s, k->messages[j], k->first_ts, to) < 0)
                return -SL_ENOMEM;
    }
    return 0;
}

int sl_save_learn(void *ctx, const sl_report *r)
{
    sl_save *s = ctx;
    const sl_model *m = r->model;
    for (size_t i = 0; i < m->n_conns; i++) {
        const sl_conn *c = &m->conns[i];
        /* UDP signalling flows carry other calls too: their messages go one by one. */
        bool by_message = c->info.transport != SL_TRANSPORT_TCP && (c->events[SL_EV_SIP] || c->events[SL_EV_DNS]);
        if (!by_message && add_flow(s, c) < 0)
            return -SL_ENOMEM;
    }
    for (size_t i = 0; i < m->n_sip; i++)
        if (add_frame(s, m->sip[i]->span.first_frame) < 0 || add_frame(s, m->sip[i]->span.last_frame) < 0)
            return -SL_ENOMEM;
    for (size_t i = 0; i < m->n_dns; i++)
        if (add_frame(s, m->dns[i]->span.first_frame) < 0 || add_frame(s, m->dns[i]->span.last_frame) < 0)
            return -SL_ENOMEM;
    return learn_calls(s, r->calls);
}

/* ---- the second pass ---- */

/* What a frame carries, after its link layer and tunnels. */
typedef struct frame_flow {
    bool has_tuple;
    uint8_t proto;
    sl_addr src, dst;
    uint16_t sport, dport;
    uint8_t tcp_flags;
    bool is_fragment, is_head; /* an IP fragment; the one at offset 0 */
    frag_key frag;
} frame_flow;

static void decode_frame(const sl_pcap_frame *fr, frame_flow *out)
{
    *out = (frame_flow){0};
    const uint8_t *ip;
    size_t ip_len;
    const char *why;
    sl_skip skip;
    if (sl_decode_link(fr->linktype, fr->data, fr->caplen, &ip, &ip_len, &why, &skip) != 0)
        return;
    for (int depth = 0; depth <= MAX_TUNNEL_DEPTH; depth++) {
        sl_l3 l3;
        if (sl_decode_ip(ip, ip_len, &l3, &why) != 0)
            return;
        if (l3.is_fragment) {
            out->is_fragment = true;
            out->is_head = l3.frag_offset == 0;
            out->frag = (frag_key){l3.src, l3.dst, l3.ip_id, l3.proto, fr->ts};
            if (!out->is_head)
                return;
        }
        const uint8_t *inner;
        size_t inner_len;
        /* A first fragment holds the TCP/UDP header, not the whole datagram
         * its header claims: no tunnel is opened inside it. */
        int rc = l3.is_fragment ? SL_DECODE_SKIP : sl_decode_tunnel(&l3, &inner, &inner_len, &why, &skip);
        if (rc == 0) {
            ip = inner;
            ip_len = inner_len;
            continue;
        }
        if (rc < 0 || (rc == SL_DECODE_SKIP && !l3.is_fragment && skip.kind != SL_SKIP_NONE))
            return;
        sl_l4 l4;
        size_t wire = l3.is_fragment ? 65535 : l3.payload_wire_len;
        if (sl_decode_l4(l3.proto, l3.payload, l3.payload_len, wire, &l4, &why, &skip) != 0)
            return;
        *out = (frame_flow){.has_tuple = true, .proto = l3.proto, .src = l3.src, .dst = l3.dst, .sport = l4.sport,
                            .dport = l4.dport, .tcp_flags = l4.flags, .is_fragment = out->is_fragment,
                            .is_head = out->is_head, .frag = out->frag};
        return;
    }
}

static bool frag_known(sl_save *s, const frag_key *k)
{
    for (size_t i = 0; i < s->n_frags; i++) {
        const frag_key *f = &s->frags[i];
        if (f->id == k->id && f->proto == k->proto && sl_addr_equal(&f->src, &k->src) &&
            sl_addr_equal(&f->dst, &k->dst) && k->ts - f->ts < FRAG_WINDOW_NS && f->ts - k->ts < FRAG_WINDOW_NS)
            return true;
    }
    return false;
}

static int frag_note(sl_save *s, const frag_key *k)
{
    if (frag_known(s, k))
        return 0;
    size_t kept = 0; /* forget datagrams long complete */
    for (size_t i = 0; i < s->n_frags; i++)
        if (k->ts - s->frags[i].ts < FRAG_WINDOW_NS)
            s->frags[kept++] = s->frags[i];
    s->n_frags = kept;
    if (grow((void **)&s->frags, &s->cap_frags, s->n_frags, sizeof *s->frags) < 0)
        return -SL_ENOMEM;
    s->frags[s->n_frags++] = *k;
    return 0;
}

/* A TCP connection or UDP flow learned whole that this frame is part of. */
static bool in_whole_flow(sl_save *s, const frame_flow *ff, uint64_t frame)
{
    whole_flow key = {.k = make_key(ff->proto, &ff->src, ff->sport, &ff->dst, ff->dport)};
    size_t lo = 0, hi = s->n_flows;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (key_cmp(&s->flows[mid].k, &key.k) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < s->n_flows && key_cmp(&s->flows[i].k, &key.k) == 0; i++) {
        whole_flow *w = &s->flows[i];
        if (frame < w->first || frame > w->last || w->done)
            continue;
        if (ff->proto == 6) {
            bool syn = (ff->tcp_flags & (SL_TCP_SYN | SL_TCP_ACK)) == SL_TCP_SYN;
            if (syn && w->closed && frame > w->first) { /* the ports reused by a new connection */
                w->done = true;
                continue;
            }
            if (ff->tcp_flags & (SL_TCP_FIN | SL_TCP_RST))
                w->closed = true;
        }
        return true;
    }
    return false;
}

static bool in_media(const sl_save *s, const sl_addr *a, uint16_t port, sl_time_ns ts)
{
    media key = {.addr = *a, .port = port};
    size_t lo = 0, hi = s->n_media;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (media_cmp(&s->media[mid], &key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < s->n_media && media_cmp(&s->media[i], &key) == 0; i++)
        if (ts >= s->media[i].from && ts <= s->media[i].to)
            return true;
    return false;
}

static bool frame_wanted(sl_save *s, const sl_pcap_frame *fr, const frame_flow *ff)
{
    if (s->n_frames && bsearch(&fr->frame, s->frames, s->n_frames, sizeof fr->frame, u64_cmp))
        return true;
    if (ff->is_fragment && !ff->is_head)
        return frag_known(s, &ff->frag);
    if (!ff->has_tuple)
        return false;
    if (in_whole_flow(s, ff, fr->frame))
        return true;
    return ff->proto == 17 && (in_media(s, &ff->src, ff->sport, fr->ts) || in_media(s, &ff->dst, ff->dport, fr->ts));
}

/* The output for a link type: `out` for the first, `out.NAME.pcap` after. */
typedef struct outputs {
    int linktype[MAX_OUTPUTS];
    pcap_t *dead[MAX_OUTPUTS];
    pcap_dumper_t *dump[MAX_OUTPUTS];
    size_t n;
} outputs;

static int output_for(sl_save *s, outputs *o, int linktype, const char *out, sl_save_result *res, char *err,
                      size_t errlen)
{
    for (size_t i = 0; i < o->n; i++)
        if (o->linktype[i] == linktype)
            return (int)i;
    if (o->n == MAX_OUTPUTS) {
        snprintf(err, errlen, "more than %d link types: the rest is not written", MAX_OUTPUTS);
        return -SL_EIO;
    }
    size_t i = o->n;
    char *name;
    if (i == 0) {
        name = strdup(out);
    } else {
        const char *dlt = pcap_datalink_val_to_name(linktype);
        char lower[64];
        snprintf(lower, sizeof lower, "%s", dlt ? dlt : "linktype");
        for (char *p = lower; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        size_t n = strlen(out) + strlen(lower) + 32;
        name = malloc(n);
        if (name)
            snprintf(name, n, "%s.%s.pcap", out, lower);
    }
    if (!name)
        return -SL_ENOMEM;
    free(s->names[i]);
    s->names[i] = name;
    o->dead[i] = pcap_open_dead_with_tstamp_precision(linktype, 262144, PCAP_TSTAMP_PRECISION_NANO);
    if (!o->dead[i])
        return -SL_ENOMEM;
    o->dump[i] = pcap_dump_open(o->dead[i], name);
    if (!o->dump[i]) {
        snprintf(err, errlen, "cannot write %s: %s", name, pcap_geterr(o->dead[i]));
        pcap_close(o->dead[i]);
        return -SL_EIO;
    }
    o->linktype[i] = linktype;
    o->n++;
    res->files[i] = name;
    res->n_files = o->n;
    return (int)i;
}

static int close_outputs(outputs *o, sl_save_result *res, char *err, size_t errlen, int rc)
{
    for (size_t i = 0; i < o->n; i++) {
        bool failed = pcap_dump_flush(o->dump[i]) != 0 || ferror(pcap_dump_file(o->dump[i]));
        pcap_dump_close(o->dump[i]);
        pcap_close(o->dead[i]);
        if (failed && rc == 0) {
            snprintf(err, errlen, "cannot write %s", res->files[i]);
            rc = -SL_EIO;
        }
    }
    return rc;
}

static void on_warning(void *ctx, const char *msg)
{
    (void)ctx;
    (void)msg; /* the first pass reported it already */
}

int sl_save_write(sl_save *s, const char *const *files, size_t n_files, const sl_capture_filter *filter,
                  bool everything, const char *out, sl_save_result *res, char *err, size_t errlen)
{
    *res = (sl_save_result){0};
    if (s->n_flows)
        qsort(s->flows, s->n_flows, sizeof *s->flows, flow_cmp);
    if (s->n_media)
        qsort(s->media, s->n_media, sizeof *s->media, media_cmp);
    if (s->n_frames)
        qsort(s->frames, s->n_frames, sizeof *s->frames, u64_cmp);
    sl_pcap_in *in;
    int rc = sl_pcap_in_open(files, n_files, on_warning, NULL, &in, err, errlen);
    if (rc < 0)
        return rc;
    outputs o = {0};
    sl_pcap_frame fr;
    while (rc == 0 && sl_pcap_in_next(in, &fr) == 1) {
        res->frames_read++;
        if (filter && !sl_capture_filter_match(filter, fr.linktype, fr.data, fr.caplen, fr.wirelen))
            continue;
        frame_flow ff;
        decode_frame(&fr, &ff);
        if (!everything && !frame_wanted(s, &fr, &ff))
            continue;
        if (ff.is_fragment && frag_note(s, &ff.frag) < 0) { /* the rest of its datagram follows */
            rc = -SL_ENOMEM;
            break;
        }
        int i = output_for(s, &o, fr.linktype, out, res, err, errlen);
        if (i < 0) {
            rc = i;
            break;
        }
        struct pcap_pkthdr h = {.caplen = fr.caplen, .len = fr.wirelen};
        /* Nanosecond precision: the second field holds nanoseconds. */
        h.ts.tv_sec = (time_t)(fr.ts / SL_NS_PER_SEC);
        h.ts.tv_usec = (suseconds_t)(fr.ts % SL_NS_PER_SEC);
        if (h.ts.tv_usec < 0) { /* before 1970 */
            h.ts.tv_sec--;
            h.ts.tv_usec += SL_NS_PER_SEC;
        }
        pcap_dump((u_char *)o.dump[i], &h, fr.data);
        res->frames_written++;
        res->frames_in[i]++;
    }
    bool truncated = sl_pcap_in_truncated(in);
    sl_pcap_in_close(in);
    rc = close_outputs(&o, res, err, errlen, rc);
    return rc == 0 && truncated ? -SL_ETRUNC : rc;
}
