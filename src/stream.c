/* stream.c - attach a dissector to a flow and feed it: probe the first
 * bytes (a user's --decode first, then the bytes, ports only as a last
 * resort), hand over ordered bytes, and route its events to the model and
 * the hooks with the frames that carried them. */
#include <stdio.h>
#include <stdlib.h>

#include "analysis_internal.h"
#include "sipladder/dns.h"
#include "sipladder/signalling.h"
#include "sipladder/sip_record.h"
#include "sipladder/tls_session.h"
#include "sipladder/status.h"

/* How many bytes of one direction probes may see before we give up. */
#define PROBE_WINDOW 4096

static const sl_dissector *decode_as_for(const sl_analysis *a, const sl_flow *f)
{
    for (size_t i = 0; i < a->n_decode_as; i++)
        if (a->decode_as[i].port == f->info.port[0] || a->decode_as[i].port == f->info.port[1])
            return a->decode_as[i].dissector;
    return NULL;
}

/* d's shared context for this analysis, made on its first claim; NULL when
 * it has none, is not in the registry, or is out of memory. */
static void *shared_of(sl_analysis *a, const sl_dissector *d)
{
    if (!d->shared_new)
        return NULL;
    for (size_t i = 0; i < a->registry->n; i++) {
        if (a->registry->list[i] != d)
            continue;
        if (!a->shared_made[i]) {
            a->shared[i] = d->shared_new(&a->cfg);
            a->shared_made[i] = a->shared[i] != NULL;
        }
        return a->shared[i];
    }
    return NULL;
}

void sl_stream_shared_free(sl_analysis *a)
{
    for (size_t i = 0; a->shared && a->shared_made && i < a->registry->n; i++)
        if (a->shared_made[i])
            a->registry->list[i]->shared_free(a->shared[i]);
    free(a->shared);
    free(a->shared_made);
    a->shared = NULL;
    a->shared_made = NULL;
}

static int claim(sl_analysis *a, sl_flow *f, const sl_dissector *d)
{
    f->dissector_state = d->state_new(&f->info, &a->cfg, shared_of(a, d));
    if (!f->dissector_state) {
        sl_analysis_anomaly(a, a->frame, f->conn_index, "core", "out of memory starting the %s dissector",
                            d->name);
        f->stream_state = SL_STREAM_NONE;
        return -SL_ENOMEM;
    }
    f->dissector = d;
    f->stream_state = SL_STREAM_CLAIMED;
    sl_model_flow_conn(a->model, f->conn_index)->dissector = d->name;
    a->model->signalling_seen |= sl_signalling_dissector(d->name);
    return 0;
}

/* Decide who dissects this flow.  Returns 1 when claimed, 0 when the bytes
 * are not enough yet, -1 when nobody will. */
static int choose(sl_analysis *a, sl_flow *f, sl_dir dir, const uint8_t *buf, size_t len, bool final)
{
    const sl_dissector *d = decode_as_for(a, f);
    int more = 0;
    if (!d)
        d = sl_registry_probe(a->registry, buf, len, dir, f->info.transport, f->info.port[0], f->info.port[1],
                              &more);
    if (!d && more && !final && len < PROBE_WINDOW)
        return 0;
    /* Like Wireshark's port table: an unrecognised start on a protocol's own
     * port (a capture begun mid-message) is still given to it to resync. */
    if (!d)
        d = sl_registry_by_port(a->registry, f->info.port[0], f->info.port[1]);
    if (!d) {
        f->stream_state = SL_STREAM_NONE;
        return -1;
    }
    return claim(a, f, d) == 0 ? 1 : -1;
}

/* Feed a claimed dissector; returns bytes used. */
static size_t feed(sl_analysis *a, sl_flow *f, sl_dir dir, const uint8_t *buf, size_t len)
{
    size_t used = 0;
    a->feed_flow = f;
    int rc = f->dissector->feed(f->dissector_state, dir, buf, len, &used, &a->sink);
    if (used > len)
        used = len; /* a dissector bug must not become ours */
    if (rc < 0) {
        sl_analysis_anomaly(a, a->frame, f->conn_index, f->dissector->name,
                            "%s dissector gave up on %zu bytes (%s); resynchronising", f->dissector->name,
                            len - used, sl_strerror(rc));
        f->dissector->gap(f->dissector_state, dir, 0);
        used = len;
    }
    a->feed_flow = NULL;
    return used;
}

size_t sl_stream_tcp_data(void *side_ctx, const uint8_t *buf, size_t len, const sl_frame_map *map)
{
    struct sl_flow_side *side = side_ctx;
    sl_flow *f = side->flow;
    sl_analysis *a = side->analysis;
    if (f->stream_state == SL_STREAM_PROBING && choose(a, f, side->dir, buf, len, false) == 0)
        return 0;
    if (f->stream_state != SL_STREAM_CLAIMED)
        return len;
    a->feed.map = map;
    size_t used = feed(a, f, side->dir, buf, len);
    a->feed.map = NULL;
    return used;
}

void sl_stream_tcp_gap(void *side_ctx, uint64_t missing, size_t dropped, uint64_t frame)
{
    struct sl_flow_side *side = side_ctx;
    sl_flow *f = side->flow;
    sl_analysis *a = side->analysis;
    sl_conn *c = sl_model_flow_conn(a->model, f->conn_index);
    c->gaps[side->dir]++;
    c->gap_bytes[side->dir] += missing;
    if (dropped && f->stream_state == SL_STREAM_CLAIMED)
        sl_analysis_anomaly(a, frame, f->conn_index, f->dissector->name,
                            "%zu bytes of an unfinished %s record discarded: %llu bytes after them were not "
                            "captured",
                            dropped, f->dissector->name, (unsigned long long)missing);
    if (f->stream_state == SL_STREAM_CLAIMED)
        f->dissector->gap(f->dissector_state, side->dir, missing);
}

void sl_stream_udp(sl_analysis *a, sl_flow *f, sl_dir dir, const uint8_t *buf, size_t len, uint64_t first_frame)
{
    if (len == 0)
        return;
    /* A UDP flow that did not look like anything may still carry SIP later
     * (e.g. after RTP on a reused port pair): every datagram is probed. */
    if (f->stream_state != SL_STREAM_CLAIMED && choose(a, f, dir, buf, len, true) != 1)
        return;
    a->feed.datagram = (sl_span){first_frame, a->frame, a->ts, a->ts};
    size_t used = feed(a, f, dir, buf, len);
    if (used < len)
        sl_analysis_anomaly(a, a->frame, f->conn_index, f->dissector->name,
                            "%zu bytes at the end of a %s datagram were not parsed", len - used,
                            f->dissector->name);
}

void sl_stream_release(sl_analysis *a, sl_flow *f)
{
    (void)a;
    if (f->dissector && f->dissector_state)
        f->dissector->state_free(f->dissector_state);
    f->dissector_state = NULL;
}

static void sink_span(void *ctx, size_t start, size_t end, sl_span *out)
{
    const sl_analysis *a = ctx;
    if (!a->feed.map) {
        *out = a->feed.datagram;
        return;
    }
    const sl_frame_mark *first = sl_frame_map_at(a->feed.map, start);
    const sl_frame_mark *last = sl_frame_map_at(a->feed.map, end - 1);
    out->first_frame = first ? first->frame : a->frame;
    out->first_ts = first ? first->ts : a->ts;
    out->last_frame = last ? last->frame : a->frame;
    out->last_ts = last ? last->ts : a->ts;
}

/* Past the flush mark, let the hook write ended calls and free them. */
static void relieve_sip(sl_analysis *a, size_t cost)
{
    sl_model *m = a->model;
    /* Sizes are below 2^40 (the --max-sip-memory limit): no overflow.  At
     * the cap itself the hook gets a last chance before the record is
     * dropped (and every one after it: sl_model_add_sip). */
    bool at_cap = m->sip_bytes + cost > m->max_sip_bytes;
    if (!a->hooks.sip_pressure || m->sip_not_kept || (m->sip_bytes + cost < a->sip_flush_at && !at_cap))
        return;
    a->hooks.sip_pressure(a->hooks.ctx, m, a->ts);
    a->calls_written = true;
    /* The next flush only after another sixteenth of the cap: one that
     * frees little (calls still open) must not run again for every message. */
    a->sip_flush_at = m->sip_bytes + m->max_sip_bytes / 16;
}

static void keep_sip(sl_analysis *a, const sl_flow *f, const sl_event *ev)
{
    sl_sip_record *r = sl_sip_record_new(ev->u.sip, &ev->span, &f->info, ev->dir);
    if (r)
        relieve_sip(a, sl_model_sip_cost(r));
    if (!r || sl_model_add_sip(a->model, r) < 0)
        sl_analysis_anomaly(a, ev->span.last_frame, f->conn_index, "core",
                            "out of memory: a SIP message was not kept");
}

static void keep_dns(sl_analysis *a, const sl_flow *f, const sl_event *ev)
{
    sl_dns_record *r = sl_dns_record_new(ev->u.any, &ev->span, &f->info, ev->dir);
    if (!r || sl_model_add_dns(a->model, r) < 0)
        sl_analysis_anomaly(a, ev->span.last_frame, f->conn_index, "core",
                            "out of memory: a DNS message was not kept");
}

static void keep_tls(sl_analysis *a, sl_conn *c, const sl_event *ev)
{
    if (c->index == SL_CONN_OVERFLOW)
        return; /* not listed (model cap): sessions of many flows must not mix */
    sl_tls_session *s = sl_model_conn_tls(c);
    if (!s || sl_tls_session_add_event(s, ev) < 0)
        sl_analysis_anomaly(a, ev->span.last_frame, c->index, "core",
                            "out of memory: part of a TLS handshake was not kept");
}

static void sink_emit(void *ctx, const sl_event *ev)
{
    sl_analysis *a = ctx;
    sl_flow *f = a->feed_flow;
    if (!f)
        return;
    sl_conn *c = sl_model_flow_conn(a->model, f->conn_index);
    if ((unsigned)ev->kind < sizeof c->events / sizeof c->events[0])
        c->events[ev->kind]++;
    if (ev->kind == SL_EV_ANOMALY)
        sl_model_add_anomaly(a->model, ev->span.last_frame, f->conn_index,
                             ev->dissector ? ev->dissector : f->dissector->name, ev->u.anomaly->text);
    else if (ev->kind == SL_EV_SIP)
        keep_sip(a, f, ev);
    else if (ev->kind == SL_EV_DNS)
        keep_dns(a, f, ev);
    if (ev->kind == SL_EV_TLS || (ev->kind == SL_EV_ANOMALY && c->tls))
        keep_tls(a, c, ev);
    if (a->hooks.event)
        a->hooks.event(a->hooks.ctx, &f->info, ev);
}

static const sl_sink_ops sink_ops = {sink_emit, sink_span};

void sl_stream_sink_init(sl_analysis *a)
{
    a->sink.ops = &sink_ops;
    a->sink.ctx = a;
}
