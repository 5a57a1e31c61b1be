/* flow.c - hash table of open flows with LRU lists for idle eviction and
 * the open-flow cap: one for flows under way, one for closed flows, which
 * only wait out late packets and so go sooner. */
#include "sipladder/flow.h"

#include <stdlib.h>
#include <string.h>

struct sl_flow_table {
    sl_flow **buckets;
    size_t n_buckets; /* power of two */
    size_t count;
    size_t max_flows;
    uint64_t idle_ns, closed_idle_ns;
    sl_flow_lru open, closed;
    uint64_t cap_evictions;
    sl_flow_close_fn on_close;
    void *ctx;
};

/* Symmetric in the two endpoints, so both directions land in one bucket. */
static uint32_t flow_hash(uint8_t proto, const sl_addr *a, uint16_t pa, const sl_addr *b, uint16_t pb)
{
    uint32_t ha = 2166136261u, hb = 2166136261u;
    for (size_t i = 0; i < 16; i++) {
        ha = (ha ^ a->bytes[i]) * 16777619u;
        hb = (hb ^ b->bytes[i]) * 16777619u;
    }
    ha = (ha ^ pa) * 16777619u;
    hb = (hb ^ pb) * 16777619u;
    uint32_t h = (ha + hb) ^ (ha * hb) ^ proto;
    h ^= h >> 16;
    h *= 0x45d9f3bu;
    h ^= h >> 16;
    return h;
}

sl_flow_table *sl_flow_table_new(size_t max_flows, uint64_t idle_ns, uint64_t closed_idle_ns, sl_flow_close_fn on_close,
                                 void *ctx)
{
    sl_flow_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->n_buckets = 1024;
    t->buckets = calloc(t->n_buckets, sizeof *t->buckets); // NOLINT(bugprone-sizeof-expression): an array of pointers, sized as such
    if (!t->buckets) {
        free(t);
        return NULL;
    }
    t->max_flows = max_flows ? max_flows : 1;
    t->idle_ns = idle_ns;
    t->closed_idle_ns = closed_idle_ns < idle_ns ? closed_idle_ns : idle_ns;
    t->on_close = on_close;
    t->ctx = ctx;
    return t;
}

void sl_flow_table_free(sl_flow_table *t)
{
    if (!t)
        return;
    sl_flow_table_drain(t);
    free(t->buckets);
    free(t);
}

static bool same_endpoints(const sl_flow *f, const sl_addr *src, uint16_t sport, const sl_addr *dst,
                           uint16_t dport)
{
    return f->info.port[0] == sport && f->info.port[1] == dport && sl_addr_equal(&f->info.addr[0], src) &&
           sl_addr_equal(&f->info.addr[1], dst);
}

sl_flow *sl_flow_table_find(sl_flow_table *t, uint8_t proto, const sl_addr *src, uint16_t sport,
                            const sl_addr *dst, uint16_t dport, sl_dir *dir)
{
    uint32_t h = flow_hash(proto, src, sport, dst, dport);
    for (sl_flow *f = t->buckets[h & (t->n_buckets - 1)]; f; f = f->hnext) {
        if (f->hash != h || f->proto != proto)
            continue;
        if (same_endpoints(f, src, sport, dst, dport)) {
            *dir = SL_DIR_C2S;
            return f;
        }
        if (same_endpoints(f, dst, dport, src, sport)) {
            *dir = SL_DIR_S2C;
            return f;
        }
    }
    return NULL;
}

static sl_flow_lru *lru_of(sl_flow_table *t, const sl_flow *f) { return f->in_closed_lru ? &t->closed : &t->open; }

static void lru_unlink(sl_flow_lru *l, sl_flow *f)
{
    /* The ends are tested by identity, not inferred from a NULL neighbour:
     * same result, and the analyzer can see that the list's oldest moves on. */
    if (f->newer)
        f->newer->older = f->older;
    if (f->older)
        f->older->newer = f->newer;
    if (l->newest == f)
        l->newest = f->older;
    if (l->oldest == f)
        l->oldest = f->newer;
    f->newer = f->older = NULL;
}

static void lru_push(sl_flow_lru *l, sl_flow *f)
{
    f->older = l->newest;
    f->newer = NULL;
    if (l->newest)
        l->newest->newer = f;
    else
        l->oldest = f;
    l->newest = f;
}

static void grow_buckets(sl_flow_table *t)
{
    size_t n = t->n_buckets * 2;
    sl_flow **b = calloc(n, sizeof *b); // NOLINT(bugprone-sizeof-expression): an array of pointers, sized as such
    if (!b)
        return; /* keep working with longer chains */
    for (size_t i = 0; i < t->n_buckets; i++) {
        for (sl_flow *f = t->buckets[i], *next; f; f = next) {
            next = f->hnext;
            f->hnext = b[f->hash & (n - 1)];
            b[f->hash & (n - 1)] = f;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->n_buckets = n;
}

sl_flow *sl_flow_table_add(sl_flow_table *t, uint8_t proto, const sl_addr *src, uint16_t sport,
                           const sl_addr *dst, uint16_t dport, sl_time_ns ts)
{
    /* At the cap a closed flow goes first: it only waits for late packets. */
    while (t->count >= t->max_flows && (t->closed.oldest || t->open.oldest)) {
        t->cap_evictions++;
        sl_flow_table_remove(t, t->closed.oldest ? t->closed.oldest : t->open.oldest, SL_FLOW_CLOSE_CAP);
    }
    sl_flow *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->proto = proto;
    f->info.transport = proto == 6 ? SL_TRANSPORT_TCP : SL_TRANSPORT_UDP;
    f->info.addr[0] = *src;
    f->info.addr[1] = *dst;
    f->info.port[0] = sport;
    f->info.port[1] = dport;
    f->hash = flow_hash(proto, src, sport, dst, dport);
    f->last_ts = ts;
    for (int d = 0; d < 2; d++) {
        f->side[d].flow = f;
        f->side[d].dir = (sl_dir)d;
    }
    if (t->count >= t->n_buckets)
        grow_buckets(t);
    sl_flow **b = &t->buckets[f->hash & (t->n_buckets - 1)];
    f->hnext = *b;
    *b = f;
    lru_push(lru_of(t, f), f);
    t->count++;
    return f;
}

void sl_flow_table_touch(sl_flow_table *t, sl_flow *f, sl_time_ns ts, uint64_t frame)
{
    f->last_ts = ts;
    f->last_frame = frame;
    sl_flow_lru *l = lru_of(t, f);
    if (l->newest != f) {
        lru_unlink(l, f);
        lru_push(l, f);
    }
}

void sl_flow_table_mark_closed(sl_flow_table *t, sl_flow *f)
{
    if (f->in_closed_lru)
        return;
    lru_unlink(&t->open, f);
    f->in_closed_lru = true;
    lru_push(&t->closed, f);
}

/* Close and free f, taken from its list l (the caller's, when it knows). */
static void flow_close(sl_flow_table *t, sl_flow_lru *l, sl_flow *f, sl_flow_close_reason why)
{
    if (t->on_close)
        t->on_close(t->ctx, f, why);
    sl_flow **pp = &t->buckets[f->hash & (t->n_buckets - 1)];
    while (*pp != f)
        pp = &(*pp)->hnext;
    *pp = f->hnext;
    lru_unlink(l, f);
    t->count--;
    free(f);
}

void sl_flow_table_remove(sl_flow_table *t, sl_flow *f, sl_flow_close_reason why)
{
    flow_close(t, lru_of(t, f), f, why);
}

/* Close the flows of list l, oldest first: those idle longer than idle_ns
 * at now, or all of them (END). */
static void close_oldest(sl_flow_table *t, sl_flow_lru *l, sl_time_ns now, uint64_t idle_ns, sl_flow_close_reason why)
{
    sl_flow *f;
    while ((f = l->oldest) && (why == SL_FLOW_CLOSE_END || now - f->last_ts > (sl_time_ns)idle_ns))
        flow_close(t, l, f, why);
}

void sl_flow_table_expire(sl_flow_table *t, sl_time_ns now)
{
    /* Captures merged from several files can step back in time a little;
     * only flows idle by the full timeout go. */
    close_oldest(t, &t->open, now, t->idle_ns, SL_FLOW_CLOSE_IDLE);
    close_oldest(t, &t->closed, now, t->closed_idle_ns, SL_FLOW_CLOSE_IDLE);
}

void sl_flow_table_drain(sl_flow_table *t)
{
    /* Oldest first, as the flows would have gone: closed ones, then the rest. */
    close_oldest(t, &t->closed, 0, 0, SL_FLOW_CLOSE_END);
    close_oldest(t, &t->open, 0, 0, SL_FLOW_CLOSE_END);
}

size_t sl_flow_table_count(const sl_flow_table *t) { return t->count; }
uint64_t sl_flow_table_cap_evictions(const sl_flow_table *t) { return t->cap_evictions; }
