/* fuzz_feed.c - FUZZ-ONLY dissector driver (see fuzz_feed.h). */
#include "fuzz_feed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void sink_emit(void *ctx, const sl_event *ev)
{
    fz_feeder *f = ctx;
    if (!ev || (ev->dir != SL_DIR_C2S && ev->dir != SL_DIR_S2C))
        abort(); /* contract: every event names its direction */
    if (f->on_event)
        f->on_event(f->ctx, ev);
}

static void sink_span(void *ctx, size_t start, size_t end, sl_span *out)
{
    fz_feeder *f = ctx;
    /* Contract: offsets into the buffer being fed (sl_sink_span turns an
     * empty range at `start` into [start, start + 1)). */
    if (start > f->cur_len || end > f->cur_len + 1 || end <= start)
        abort();
    *out = (sl_span){f->frame, f->frame, (sl_time_ns)f->frame * 1000, (sl_time_ns)f->frame * 1000};
}

static const sl_sink_ops fz_sink_ops = {sink_emit, sink_span};

int fz_feeder_init(fz_feeder *f, const sl_dissector *d, sl_transport t, fz_event_fn on_event, void *ctx)
{
    memset(f, 0, sizeof *f);
    f->d = d;
    f->on_event = on_event;
    f->ctx = ctx;
    sl_limits_default(&f->cfg.limits);
    f->flow.transport = t;
    f->flow.addr[0] = (sl_addr){.family = 4, .bytes = {192, 0, 2, 1}};
    f->flow.addr[1] = (sl_addr){.family = 4, .bytes = {192, 0, 2, 2}};
    f->flow.port[0] = 50000;
    f->flow.port[1] = t == SL_TRANSPORT_TCP ? 5061 : 5060;
    f->flow.conn_index = 1;
    f->sink = (sl_sink){&fz_sink_ops, f};
    /* The per-analysis shared context when the dissector has one, as the
     * core passes it (the TLS certificate cache), so it is fuzzed too; the
     * lone-flow path (NULL) is the unit tests'. */
    if (d->shared_new)
        f->shared = d->shared_new(&f->cfg);
    f->state = d->state_new(&f->flow, &f->cfg, f->shared);
    return f->state ? 0 : -1;
}

void fz_feeder_done(fz_feeder *f)
{
    f->d->state_free(f->state);
    if (f->d->shared_free)
        f->d->shared_free(f->shared);
    free(f->pending[0]);
    free(f->pending[1]);
    memset(f, 0, sizeof *f);
}

static size_t call_feed(fz_feeder *f, sl_dir dir, const uint8_t *buf, size_t len)
{
    size_t used = 0;
    f->cur_len = len;
    f->frame++;
    int rc = f->d->feed(f->state, dir, buf, len, &used, &f->sink);
    if (used > len)
        abort(); /* contract: *used <= len */
    if (rc < 0) {
        /* As the core does: resynchronise as after a gap. */
        f->d->gap(f->state, dir, 0);
        used = len;
    }
    return used;
}

void fz_feed(fz_feeder *f, sl_dir dir, const uint8_t *data, size_t len)
{
    if (f->d->probe)
        (void)f->d->probe(data, len, dir, f->flow.transport);
    if (f->flow.transport == SL_TRANSPORT_UDP) {
        /* A private copy: reads past the datagram then hit ASan's redzone. */
        uint8_t *dg = malloc(len ? len : 1);
        if (!dg)
            return;
        if (len)
            memcpy(dg, data, len);
        (void)call_feed(f, dir, dg, len);
        free(dg);
        return;
    }
    size_t need = f->n_pending[dir] + len;
    if (need != f->cap[dir] || !f->pending[dir]) {
        /* Exact size so that ASan sees any read past the end. */
        uint8_t *p = realloc(f->pending[dir], need ? need : 1);
        if (!p)
            return;
        f->pending[dir] = p;
        f->cap[dir] = need;
    }
    if (len)
        memcpy(f->pending[dir] + f->n_pending[dir], data, len);
    f->n_pending[dir] = need;
    size_t used = call_feed(f, dir, f->pending[dir], need);
    if (used < need)
        memmove(f->pending[dir], f->pending[dir] + used, need - used);
    f->n_pending[dir] = need - used;
}

void fz_gap(fz_feeder *f, sl_dir dir, uint64_t missing)
{
    f->n_pending[dir] = 0;
    f->frame++;
    f->d->gap(f->state, dir, missing);
}

uint32_t fz_rand(uint32_t *s)
{
    uint32_t x = *s ? *s : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

void *fz_devnull(void)
{
    FILE *fp = fopen("/dev/null", "w");
    if (!fp)
        abort();
    return fp;
}
