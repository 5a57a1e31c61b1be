/* analysis.c - the one pass: frames from pcap_in, headers from decode,
 * fragments from ipfrag, then each TCP segment or UDP datagram to its flow. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_internal.h"
#include "sipladder/pcap_in.h"
#include "sipladder/select.h"
#include "sipladder/status.h"

#define MAX_TUNNEL_DEPTH 4
#define PROGRESS_EVERY 65536
#define EXPIRE_EVERY 4096

void sl_analysis_anomaly(sl_analysis *a, uint64_t frame, uint32_t conn_index, const char *source,
                         const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    sl_model_add_anomaly(a->model, frame, conn_index, source, text);
}

static void on_flow_close(void *ctx, sl_flow *f, sl_flow_close_reason why)
{
    sl_analysis *a = ctx;
    if (why == SL_FLOW_CLOSE_CAP) {
        a->model->flows_evicted_cap++;
        if (!a->model->flow_cap_frame) {
            a->model->flow_cap_frame = a->frame;
            sl_analysis_anomaly(a, a->frame, 0, "core",
                                "more than %zu flows open at once: the least recently used are closed early "
                                "(--max-flows)",
                                a->cfg.limits.max_flows);
        }
    }
    if (f->proto == 6)
        sl_tcp_close(a, f);
    else
        sl_stream_release(a, f);
    sl_conn *c = sl_model_conn(a->model, f->conn_index); /* listed ones only */
    if (c) {
        c->complete = true;
        a->conns_completed++;
    }
}

/* Called between frames only: no connection record is in use. */
static void relieve_conns(sl_analysis *a)
{
    /* A batch is at least an eighth of what is held: each run of the hook
     * looks at every connection held, so its cost stays linear. */
    size_t batch = a->model->n_conns / 8 > SL_CONNS_COMPLETE_BATCH ? a->model->n_conns / 8 : SL_CONNS_COMPLETE_BATCH;
    if (!a->hooks.conns_complete || !a->conns_completed || (a->conns_completed < batch && !a->calls_written))
        return;
    a->hooks.conns_complete(a->hooks.ctx, a->model, a->ts);
    a->conns_completed = 0;
    a->calls_written = false;
}

static void on_frag_drop(void *ctx, uint64_t first_frame, size_t fragments, const char *why)
{
    sl_analysis *a = ctx;
    a->model->frags_dropped += fragments;
    sl_analysis_anomaly(a, first_frame, 0, "ipfrag", "%s (%zu fragments, first in frame %llu)", why, fragments,
                        (unsigned long long)first_frame);
}

sl_analysis *sl_analysis_new(const sl_config *cfg, const sl_registry *registry, const sl_analysis_hooks *hooks)
{
    sl_analysis *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->cfg = *cfg;
    a->registry = registry ? registry : sl_registry_builtin();
    if (hooks)
        a->hooks = *hooks;
    a->model = sl_model_new();
    if (a->model) {
        a->model->max_conns = cfg->limits.max_conns_kept;
        a->model->max_sip_bytes = cfg->limits.max_sip_memory;
        /* Ended calls are written early, well before the cap: memory
         * follows the calls open at once, not the capture. */
        a->sip_flush_at = cfg->limits.max_sip_memory / 8;
    }
    a->flows = sl_flow_table_new(cfg->limits.max_flows, cfg->limits.flow_idle_ns, cfg->limits.closed_flow_linger_ns,
                                 on_flow_close, a);
    a->frags = sl_ipfrag_new(cfg->limits.max_ip_fragments, cfg->limits.frag_timeout_ns, on_frag_drop, a);
    size_t nd = a->registry->n ? a->registry->n : 1;
    a->shared = calloc(nd, sizeof *a->shared);
    a->shared_made = calloc(nd, sizeof *a->shared_made);
    if (!a->model || !a->flows || !a->frags || !a->shared || !a->shared_made) {
        sl_analysis_free(a);
        return NULL;
    }
    sl_stream_sink_init(a);
    return a;
}

void sl_analysis_free(sl_analysis *a)
{
    if (!a)
        return;
    sl_flow_table_free(a->flows);
    /* Every flow state is gone: now the contexts they shared. */
    sl_stream_shared_free(a);
    sl_ipfrag_free(a->frags);
    sl_model_free(a->model);
    free(a);
}

int sl_analysis_decode_as(sl_analysis *a, uint16_t port, const char *dissector)
{
    const sl_dissector *d = sl_registry_find(a->registry, dissector);
    if (!d || a->n_decode_as == SL_MAX_DECODE_AS)
        return -SL_EUSAGE;
    a->decode_as[a->n_decode_as++] = (sl_decode_as){port, d};
    return 0;
}

const struct sl_model *sl_analysis_model(const sl_analysis *a) { return a->model; }
struct sl_model *sl_analysis_model_mut(sl_analysis *a) { return a->model; }

/* The flow of a packet, made when new.  For TCP the client is the sender of
 * the SYN (the receiver of a SYN-ACK), else the sender of the first packet. */
static sl_flow *flow_of(sl_analysis *a, const sl_l3 *l3, const sl_l4 *l4, sl_dir *dir)
{
    sl_flow *f = sl_flow_table_find(a->flows, l4->proto, &l3->src, l4->sport, &l3->dst, l4->dport, dir);
    bool syn_only = l4->proto == 6 && (l4->flags & (SL_TCP_SYN | SL_TCP_ACK | SL_TCP_RST)) == SL_TCP_SYN;
    if (f && f->closed && syn_only && !(*dir == SL_DIR_C2S && f->isn_known[0] && f->isn[0] == l4->seq)) {
        /* A new SYN on a finished connection: the port pair is reused. */
        sl_flow_table_remove(a->flows, f, SL_FLOW_CLOSE_EXPLICIT);
        f = NULL;
    }
    if (f) {
        sl_flow_table_touch(a->flows, f, a->ts, a->frame);
        return f;
    }
    bool synack = l4->proto == 6 && (l4->flags & (SL_TCP_SYN | SL_TCP_ACK)) == (SL_TCP_SYN | SL_TCP_ACK);
    if (synack)
        f = sl_flow_table_add(a->flows, l4->proto, &l3->dst, l4->dport, &l3->src, l4->sport, a->ts);
    else
        f = sl_flow_table_add(a->flows, l4->proto, &l3->src, l4->sport, &l3->dst, l4->dport, a->ts);
    if (!f)
        return NULL;
    *dir = synack ? SL_DIR_S2C : SL_DIR_C2S;
    sl_conn *c = sl_model_add_conn(a->model, &f->info, a->frame, a->ts);
    if (!c) {
        sl_flow_table_remove(a->flows, f, SL_FLOW_CLOSE_EXPLICIT);
        return NULL;
    }
    f->conn_index = c->index;
    /* Beyond the model's connection cap the flow is counted in the aggregate
     * record only; what it carries is tied to no listed connection. */
    f->info.conn_index = c->index == SL_CONN_OVERFLOW ? 0 : c->index;
    f->last_frame = a->frame;
    return f;
}

/* A frame not followed: counted, and by its reason. */
static void count_skipped(sl_analysis *a, const sl_skip *why)
{
    sl_capture_info *cap = &a->model->capture;
    cap->skipped++;
    for (size_t i = 0; i < cap->n_skip_reasons; i++) {
        sl_skip_reason *r = &cap->skip_reasons[i];
        if (r->kind == why->kind && r->value == why->value) {
            r->frames++;
            return;
        }
    }
    if (cap->n_skip_reasons == SL_MAX_SKIP_REASONS) {
        cap->skipped_other++;
        return;
    }
    cap->skip_reasons[cap->n_skip_reasons++] = (sl_skip_reason){why->kind, why->value, 1, a->frame};
}

static void handle_l4(sl_analysis *a, const sl_l3 *l3, const uint8_t *payload, size_t len, size_t wire_len,
                      uint64_t first_frame)
{
    const char *why;
    sl_l4 l4;
    sl_skip skipped;
    int rc = sl_decode_l4(l3->proto, payload, len, wire_len, &l4, &why, &skipped);
    if (rc == SL_DECODE_SKIP) {
        count_skipped(a, &skipped);
        return;
    }
    if (rc < 0) {
        if (rc == -SL_ETRUNC)
            a->model->capture.cut++;
        else
            a->model->capture.malformed++;
        sl_analysis_anomaly(a, a->frame, 0, "decode", "%s", why);
        return;
    }
    sl_dir dir;
    sl_flow *f = flow_of(a, l3, &l4, &dir);
    if (!f) {
        sl_analysis_anomaly(a, a->frame, 0, "core", "out of memory: packet not tracked");
        return;
    }
    if (l4.proto == 6) {
        sl_tcp_track(a, f, dir, l3, &l4);
        return;
    }
    sl_conn *c = sl_model_flow_conn(a->model, f->conn_index);
    c->packets[dir]++;
    c->bytes[dir] += l4.wire_len;
    c->last_frame = a->frame;
    c->last_ts = a->ts;
    if (l4.len < l4.wire_len) {
        c->gaps[dir]++;
        c->gap_bytes[dir] += l4.wire_len - l4.len;
        sl_analysis_anomaly(a, a->frame, f->conn_index, "decode",
                            "UDP datagram cut by the snaplen (%u of %u bytes): not dissected", l4.len, l4.wire_len);
        return;
    }
    sl_stream_udp(a, f, dir, l4.payload, l4.len, first_frame);
}

/* Fragment bookkeeping for one fragment; returns what sl_ipfrag_add did. */
static int add_fragment(sl_analysis *a, const sl_l3 *l3, const uint8_t **payload, size_t *len,
                        uint64_t *first_frame)
{
    const char *why = NULL;
    uint64_t conflicts = sl_ipfrag_stats_get(a->frags)->conflicts;
    int rc = sl_ipfrag_add(a->frags, l3, a->frame, a->ts, payload, len, first_frame, &why);
    if (rc < 0) {
        a->model->capture.malformed++;
        sl_analysis_anomaly(a, a->frame, 0, "ipfrag", "%s", why ? why : sl_strerror(rc));
    }
    if (sl_ipfrag_stats_get(a->frags)->conflicts != conflicts)
        sl_analysis_anomaly(a, a->frame, 0, "ipfrag",
                            "overlapping IP fragments carry different bytes (the first copy is kept, first "
                            "fragment in frame %llu)",
                            (unsigned long long)*first_frame);
    return rc;
}

/* Network layer onwards: fragments, tunnels, then TCP/UDP.  `frame_cut`:
 * the capture kept less than the wire had (snaplen), so a short IP packet
 * is the capture's doing, not the sender's. */
static void handle_ip(sl_analysis *a, const uint8_t *ip, size_t ip_len, bool frame_cut, int pkttype)
{
    const char *why;
    sl_l3 l3;
    for (int depth = 0;; depth++) {
        int rc = sl_decode_ip(ip, ip_len, &l3, &why);
        if (rc < 0) {
            if (rc == -SL_ETRUNC)
                a->model->capture.cut++;
            else
                a->model->capture.malformed++;
            sl_analysis_anomaly(a, a->frame, 0, "decode", "%s", why);
            return;
        }
        if (depth == 0 && pkttype == SL_PKTTYPE_OUTGOING)
            sl_model_note_local(a->model, &l3.src);
        else if (depth == 0 && pkttype == SL_PKTTYPE_HOST)
            sl_model_note_local(a->model, &l3.dst);
        if (!frame_cut && l3.payload_len < l3.payload_wire_len) {
            a->model->capture.malformed++;
            sl_analysis_anomaly(a, a->frame, 0, "decode",
                                "IPv%u length claims %u bytes more than the frame holds", l3.version,
                                l3.payload_wire_len - l3.payload_len);
            return;
        }
        const uint8_t *payload = l3.payload;
        size_t len = l3.payload_len, wire_len = l3.payload_wire_len;
        uint64_t first_frame = a->frame;
        if (l3.is_fragment) {
            if (add_fragment(a, &l3, &payload, &len, &first_frame) != 1)
                return;
            wire_len = len;
            l3.payload = payload;
            l3.payload_len = l3.payload_wire_len = (uint32_t)len;
        }
        const uint8_t *inner;
        size_t inner_len;
        sl_skip skipped;
        rc = sl_decode_tunnel(&l3, &inner, &inner_len, &why, &skipped);
        if (rc == 0 && depth == MAX_TUNNEL_DEPTH) {
            count_skipped(a, &(sl_skip){SL_SKIP_TUNNEL_DEPTH, MAX_TUNNEL_DEPTH});
            return;
        }
        if (rc == SL_DECODE_SKIP && skipped.kind != SL_SKIP_NONE) { /* a tunnel carrying what we do not follow */
            count_skipped(a, &skipped);
            return;
        }
        if (rc == 0) {
            ip = inner;
            ip_len = inner_len;
            continue;
        }
        if (rc < 0) {
            a->model->capture.malformed++;
            sl_analysis_anomaly(a, a->frame, 0, "decode", "%s", why);
            return;
        }
        handle_l4(a, &l3, payload, len, wire_len, first_frame);
        return;
    }
}

static void handle_frame(sl_analysis *a, const sl_pcap_frame *fr)
{
    sl_capture_info *cap = &a->model->capture;
    a->frame = fr->frame;
    a->ts = fr->ts;
    cap->frames = fr->frame;
    cap->bytes += fr->caplen;
    if (fr->frame == 1 || fr->ts < cap->first_ts)
        cap->first_ts = fr->ts;
    if (fr->ts > cap->last_ts)
        cap->last_ts = fr->ts;
    if (fr->caplen > fr->wirelen)
        sl_analysis_anomaly(a, fr->frame, 0, "capture", "record says %u bytes captured of %u on the wire",
                            fr->caplen, fr->wirelen);
    if (a->cfg.capture_filter &&
        !sl_capture_filter_match(a->cfg.capture_filter, fr->linktype, fr->data, fr->caplen, fr->wirelen)) {
        count_skipped(a, &(sl_skip){SL_SKIP_CAPTURE_FILTER, 0});
        return;
    }
    const uint8_t *ip;
    size_t ip_len;
    const char *why;
    sl_skip skipped;
    int rc = sl_decode_link(fr->linktype, fr->data, fr->caplen, &ip, &ip_len, &why, &skipped);
    if (rc == SL_DECODE_SKIP) {
        count_skipped(a, &skipped);
        return;
    }
    if (rc < 0) {
        if (rc == -SL_ETRUNC)
            cap->cut++;
        else
            cap->malformed++;
        sl_analysis_anomaly(a, fr->frame, 0, "decode", "%s", why);
        return;
    }
    handle_ip(a, ip, ip_len, fr->caplen < fr->wirelen, sl_decode_link_pkttype(fr->linktype, fr->data, fr->caplen));
}

static void on_pcap_warning(void *ctx, const char *msg)
{
    sl_analysis *a = ctx;
    sl_model_add_warning(a->model, msg);
}

static int record_files(sl_analysis *a, const sl_pcap_in *in, const char *const *files, size_t n)
{
    sl_capture_info *cap = &a->model->capture;
    /* Copied: the views name the files long after the caller's array. */
    char **names = calloc(n, sizeof *names);
    cap->files = (const char **)names;
    cap->linktypes = calloc(n, sizeof *cap->linktypes);
    if (!names || !cap->linktypes)
        return -SL_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!(names[i] = strdup(files[i])))
            return -SL_ENOMEM;
        cap->n_files = i + 1;
    }
    for (size_t i = 0; i < n; i++)
        cap->linktypes[i] = sl_pcap_in_linktype(in, i);
    return 0;
}

static int run_input(sl_analysis *a, sl_pcap_in *in);

/* -f compiled for each file's link type, as tcpdump compiles it for its
 * handle: an expression a link type cannot take is an error naming the file. */
static int prepare_filter(sl_analysis *a, const sl_pcap_in *in, const char *const *files, size_t n)
{
    for (size_t i = 0; a->cfg.capture_filter && i < n; i++) {
        char err[512], msg[1024];
        int rc = sl_capture_filter_prepare(a->cfg.capture_filter, sl_pcap_in_linktype(in, i), err, sizeof err);
        if (rc == -SL_EUSAGE) {
            snprintf(msg, sizeof msg, "%s: %s", files[i], err);
            sl_model_add_warning(a->model, msg);
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

int sl_analysis_run(sl_analysis *a, const char *const *files, size_t n_files)
{
    sl_pcap_in *in;
    char err[1024];
    int rc = sl_pcap_in_open(files, n_files, on_pcap_warning, a, &in, err, sizeof err);
    if (rc < 0) {
        sl_model_add_warning(a->model, err);
        return rc;
    }
    if (record_files(a, in, files, n_files) < 0) {
        sl_pcap_in_close(in);
        return -SL_ENOMEM;
    }
    if ((rc = prepare_filter(a, in, files, n_files)) < 0) {
        sl_pcap_in_close(in);
        return rc;
    }
    return run_input(a, in);
}

int sl_analysis_run_memory(sl_analysis *a, const uint8_t *data, size_t len)
{
    static const char *const name[] = {"<memory>"};
    sl_pcap_in *in;
    char err[1024];
    int rc = sl_pcap_in_open_memory(data, len, name[0], on_pcap_warning, a, &in, err, sizeof err);
    if (rc < 0) {
        sl_model_add_warning(a->model, err);
        return rc;
    }
    if (record_files(a, in, name, 1) < 0) {
        sl_pcap_in_close(in);
        return -SL_ENOMEM;
    }
    return run_input(a, in);
}

/* Every frame of an opened input, then the end of every flow. */
static int run_input(sl_analysis *a, sl_pcap_in *in)
{
    sl_pcap_frame fr;
    while (sl_pcap_in_next(in, &fr) == 1) {
        handle_frame(a, &fr);
        if (fr.frame % EXPIRE_EVERY == 0) {
            sl_flow_table_expire(a->flows, a->ts);
            sl_ipfrag_expire(a->frags, a->ts);
            relieve_conns(a);
        }
        if (a->hooks.progress && fr.frame % PROGRESS_EVERY == 0) {
            uint64_t done, total;
            sl_pcap_in_progress(in, &done, &total);
            a->hooks.progress(a->hooks.ctx, done, total);
        }
    }
    a->model->capture.truncated = sl_pcap_in_truncated(in);
    sl_pcap_in_close(in);
    sl_flow_table_drain(a->flows);
    /* Datagrams still waiting for fragments will never complete. */
    sl_ipfrag_drain(a->frags);
    return a->model->capture.truncated ? -SL_ETRUNC : 0;
}
