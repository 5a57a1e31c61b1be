/* tcp_track.c - TCP connection events (RFC 9293) into the model: SYN tries,
 * SYN-ACK, handshake time, FIN and RST with their sender and TTL, zero
 * windows; and the segments into per-direction reassembly. */
#include <stdlib.h>
#include <string.h>

#include "analysis_internal.h"
#include "sipladder/status.h"

static sl_reasm *reasm_for(sl_analysis *a, sl_flow *f, sl_dir dir)
{
    if (!f->reasm[dir]) {
        f->side[dir].analysis = a;
        sl_reasm_consumer consumer = {sl_stream_tcp_data, sl_stream_tcp_gap, &f->side[dir]};
        f->reasm[dir] = sl_reasm_new(a->cfg.limits.max_tcp_buffer, &consumer);
        if (!f->reasm[dir])
            sl_analysis_anomaly(a, a->frame, f->conn_index, "tcp",
                                "out of memory: this direction's bytes are not reassembled");
    }
    return f->reasm[dir];
}

/* An ACK beyond a hole proves the bytes were sent and not captured.  It is
 * applied only once the flow has moved on (a second of capture time or 64
 * packets), or at the end: captures stored out of time order (merged
 * interfaces, offload) often hold the data a few frames after the ACK that
 * covers it. */
#define ACK_DELAY_NS INT64_C(1000000000)
#define ACK_DELAY_PACKETS 64

static void apply_pending_acks(sl_flow *f, sl_time_ns now, bool force)
{
    for (int d = 0; d < 2; d++) {
        if (!f->ack_pending[d])
            continue;
        f->pending_packets[d]++;
        if (!force && now - f->pending_since[d] < ACK_DELAY_NS && f->pending_packets[d] < ACK_DELAY_PACKETS)
            continue;
        if (f->reasm[d])
            sl_reasm_ack(f->reasm[d], f->pending_ack[d], f->pending_ack_frame[d]);
        f->ack_pending[d] = false;
    }
}

static void hold_ack(sl_flow *f, sl_dir d, uint32_t ack, uint64_t frame, sl_time_ns ts)
{
    if (!f->ack_pending[d]) {
        f->ack_pending[d] = true;
        f->pending_since[d] = ts;
        f->pending_packets[d] = 0;
    }
    f->pending_ack[d] = ack; /* cumulative: the latest covers the earlier */
    f->pending_ack_frame[d] = frame;
}

static sl_close_event close_event(const sl_analysis *a, const sl_flow *f, sl_dir dir, const sl_l3 *l3)
{
    sl_close_event e = {.frame = a->frame, .ts = a->ts, .side = (uint8_t)dir, .ttl = l3->ttl};
    if (f->ttl_known[dir]) {
        e.usual_ttl = f->usual_ttl[dir];
        e.ttl_differs = l3->ttl != f->usual_ttl[dir];
    }
    return e;
}

/* Copy a direction's reassembly counters into its connection record. */
static void take_stats(sl_conn *c, sl_dir dir, const sl_reasm *r)
{
    const sl_reasm_stats *s = sl_reasm_stats_get(r);
    c->retransmissions[dir] = s->retransmissions + s->overlaps;
    c->conflicts[dir] = s->conflicts;
    c->out_of_order[dir] = s->out_of_order;
    c->buffer_cap_hits[dir] = s->cap_hits;
    c->acked[dir] = s->acked;
    /* The aggregate of connections beyond the cap keeps no list. */
    if (c->index == SL_CONN_OVERFLOW || !s->n_retx)
        return;
    free(c->retx[dir]);
    c->n_retx[dir] = 0;
    c->retx[dir] = malloc(s->n_retx * sizeof *c->retx[dir]);
    if (!c->retx[dir])
        return; /* out of memory: the count above still says how many */
    memcpy(c->retx[dir], s->retx, s->n_retx * sizeof *c->retx[dir]);
    c->n_retx[dir] = s->n_retx;
}

/* No more bytes will come: deliver what is queued, report what is left. */
static void finish_streams(sl_analysis *a, sl_flow *f)
{
    sl_conn *c = sl_model_flow_conn(a->model, f->conn_index);
    for (int d = 0; d < 2; d++) {
        sl_reasm *r = f->reasm[d];
        if (!r)
            continue;
        if (f->ack_pending[d])
            sl_reasm_ack(r, f->pending_ack[d], f->pending_ack_frame[d]);
        f->ack_pending[d] = false;
        sl_reasm_flush(r, a->frame);
        size_t left = sl_reasm_buffered(r);
        if (left && f->stream_state == SL_STREAM_CLAIMED)
            sl_analysis_anomaly(a, f->last_frame, f->conn_index, f->dissector->name,
                                "%zu bytes of an unfinished %s record at the end of the %s stream", left,
                                f->dissector->name, d == SL_DIR_C2S ? "client" : "server");
        take_stats(c, (sl_dir)d, r);
        sl_reasm_free(r);
        f->reasm[d] = NULL;
    }
    sl_stream_release(a, f);
}

/* An RST that came before any other packet of its side (e.g. forged ahead
 * of the SYN-ACK) can only be judged by TTL once the side has spoken. */
static void judge_rst_ttl(sl_conn *c, const sl_flow *f)
{
    sl_close_event *r = &c->rst;
    if (!c->rst_count || r->ttl_differs || r->usual_ttl || !f->ttl_known[r->side])
        return;
    r->usual_ttl = f->usual_ttl[r->side];
    r->ttl_differs = r->ttl != r->usual_ttl;
}

void sl_tcp_close(sl_analysis *a, sl_flow *f)
{
    judge_rst_ttl(sl_model_flow_conn(a->model, f->conn_index), f);
    finish_streams(a, f);
}

static void track_flags(sl_analysis *a, sl_flow *f, sl_conn *c, sl_dir dir, const sl_l3 *l3, const sl_l4 *l4)
{
    bool syn = l4->flags & SL_TCP_SYN, ack = l4->flags & SL_TCP_ACK;
    if (syn && !ack && dir == SL_DIR_C2S) {
        if (c->syn_count < SL_MAX_SYN_FRAMES) {
            c->syn_frames[c->syn_count] = a->frame;
            c->syn_ts[c->syn_count] = a->ts;
        }
        c->syn_count++;
        c->syn_seen = true;
    } else if (syn && ack && dir == SL_DIR_S2C) {
        if (!c->synack_count) {
            c->synack_frame = a->frame;
            c->synack_ts = a->ts;
        }
        if (c->synack_count < SL_MAX_SYN_FRAMES)
            c->synack_frames[c->synack_count] = a->frame;
        c->synack_count++;
        c->refused = false; /* an RST before it was not the server's answer */
    } else if (!syn && ack && dir == SL_DIR_C2S && c->synack_count && !c->established_frame &&
               f->isn_known[SL_DIR_S2C] && l4->ack == f->isn[SL_DIR_S2C] + 1) {
        c->established_frame = a->frame;
        c->handshake_rtt = c->syn_count ? a->ts - c->syn_ts[0] : 0;
    }
    if (syn) {
        f->isn[dir] = l4->seq;
        f->isn_known[dir] = true;
    }
    if (l4->flags & SL_TCP_RST) {
        if (!c->rst_count) {
            c->rst = close_event(a, f, dir, l3);
            c->before_rst[0] = c->data[0];
            c->before_rst[1] = c->data[1];
        }
        c->rst_count++;
        if (dir == SL_DIR_S2C && c->syn_count && !c->synack_count)
            c->refused = true;
    } else {
        /* A payload packet off its sender's TTL is kept as a suspect, and
         * does not become the usual TTL: the next genuine packet is not odd. */
        bool odd = f->ttl_known[dir] && l3->ttl != f->usual_ttl[dir] && l4->wire_len > 0;
        if (odd && c->n_odd_ttl < sizeof c->odd_ttl / sizeof c->odd_ttl[0])
            c->odd_ttl[c->n_odd_ttl++] = close_event(a, f, dir, l3);
        if (!odd) {
            f->usual_ttl[dir] = l3->ttl;
            f->ttl_known[dir] = true;
        }
    }
    if ((l4->flags & SL_TCP_FIN) && !c->fin[dir].frame)
        c->fin[dir] = close_event(a, f, dir, l3);
    if (l4->window == 0 && !syn && !(l4->flags & SL_TCP_RST))
        c->zero_windows[dir]++;
}

void sl_tcp_track(sl_analysis *a, sl_flow *f, sl_dir dir, const sl_l3 *l3, const sl_l4 *l4)
{
    sl_conn *c = sl_model_flow_conn(a->model, f->conn_index);
    c->packets[dir]++;
    c->bytes[dir] += l4->wire_len;
    c->last_frame = a->frame;
    c->last_ts = a->ts;
    bool syn = l4->flags & SL_TCP_SYN, fin = l4->flags & SL_TCP_FIN, rst = l4->flags & SL_TCP_RST;
    if (l4->wire_len && !rst)
        c->data[dir] = (sl_data_mark){c->data[dir].bytes + l4->wire_len, a->frame, a->ts};
    track_flags(a, f, c, dir, l3, l4);
    /* An RST is not part of the stream (RFC 9293 3.5.3: any data it carries
     * is diagnostic text), so its sequence number never sets a stream's
     * base: a stale or forged one would put every later byte out of window. */
    if ((l4->wire_len || syn || fin) && !rst) {
        sl_reasm *r = reasm_for(a, f, dir);
        if (r) {
            sl_tcp_segment seg = {.seq = l4->seq, .data = l4->payload, .len = l4->len,
                                  .wire_len = l4->wire_len, .syn = syn, .fin = fin,
                                  .frame = a->frame, .ts = a->ts};
            sl_reasm_segment(r, &seg);
        }
    }
    apply_pending_acks(f, a->ts, false);
    sl_dir peer = dir == SL_DIR_C2S ? SL_DIR_S2C : SL_DIR_C2S;
    if ((l4->flags & SL_TCP_ACK) && !(l4->flags & SL_TCP_RST) && f->reasm[peer])
        hold_ack(f, peer, l4->ack, a->frame, a->ts);
    if (fin)
        f->fin_seen[dir] = true;
    /* Deliver what is queued now, so events keep their order; the streams
     * stay, since data after an injected RST is still real data. */
    if (!f->closed && ((l4->flags & SL_TCP_RST) || (f->fin_seen[0] && f->fin_seen[1]))) {
        f->closed = true;
        sl_flow_table_mark_closed(a->flows, f);
        apply_pending_acks(f, a->ts, true);
        for (int d = 0; d < 2; d++)
            if (f->reasm[d])
                sl_reasm_flush(f->reasm[d], a->frame);
    }
}
