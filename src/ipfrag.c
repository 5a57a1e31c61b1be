/* ipfrag.c - IP fragment reassembly (RFC 791, RFC 8200 section 4.5).
 * First copy wins where fragments overlap; every datagram given up is
 * reported through the drop callback, never silently. */
#include "sipladder/ipfrag.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sipladder/status.h"

#define NBUCKETS 4096u
#define MAX_DATAGRAM 65535u

typedef struct piece {
    struct piece *next;         /* sorted by offset */
    struct piece *next_arrival; /* in arrival order */
    uint32_t off, len, wire_len;
    uint8_t data[];
} piece;

typedef struct datagram {
    struct datagram *hnext;
    struct datagram *older, *newer;
    uint8_t version, proto;
    uint32_t id;
    sl_addr src, dst;
    sl_time_ns first_ts;
    uint64_t first_frame;
    piece *pieces;
    piece *first_arrival, *last_arrival;
    size_t n_pieces;
    uint32_t total;
    bool have_last, cut;
} datagram;

struct sl_ipfrag {
    datagram *buckets[NBUCKETS];
    datagram *oldest, *newest;
    size_t max_fragments;
    uint64_t timeout_ns;
    uint8_t *scratch; /* the reassembled datagram */
    uint8_t *filled;  /* which scratch bytes are written: first copy wins */
    sl_ipfrag_stats stats;
    sl_ipfrag_drop_fn drop;
    void *drop_ctx;
};

sl_ipfrag *sl_ipfrag_new(size_t max_fragments, uint64_t timeout_ns, sl_ipfrag_drop_fn drop, void *drop_ctx)
{
    sl_ipfrag *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->max_fragments = max_fragments ? max_fragments : 1;
    f->timeout_ns = timeout_ns;
    f->drop = drop;
    f->drop_ctx = drop_ctx;
    return f;
}

static unsigned bucket_of(uint8_t version, uint8_t proto, uint32_t id, const sl_addr *src, const sl_addr *dst)
{
    uint32_t h = 2166136261u;
    const uint8_t head[6] = {version, proto, (uint8_t)(id >> 24), (uint8_t)(id >> 16), (uint8_t)(id >> 8),
                             (uint8_t)id};
    for (size_t i = 0; i < sizeof head; i++)
        h = (h ^ head[i]) * 16777619u;
    for (size_t i = 0; i < 16; i++)
        h = (h ^ src->bytes[i] ^ (uint32_t)dst->bytes[i] << 8) * 16777619u;
    return h % NBUCKETS;
}

static void unlink_datagram(sl_ipfrag *f, datagram *d)
{
    datagram **pp = &f->buckets[bucket_of(d->version, d->proto, d->id, &d->src, &d->dst)];
    while (*pp != d)
        pp = &(*pp)->hnext;
    *pp = d->hnext;
    /* The ends are tested by identity (as in flow.c's lru_unlink), so that
     * the analyzer sees f->oldest move on before d is freed. */
    if (d->older)
        d->older->newer = d->newer;
    if (d->newer)
        d->newer->older = d->older;
    if (f->oldest == d)
        f->oldest = d->newer;
    if (f->newest == d)
        f->newest = d->older;
    for (piece *p = d->pieces, *next; p; p = next) {
        next = p->next;
        free(p);
    }
    f->stats.in_flight -= d->n_pieces;
    free(d);
}

static void give_up(sl_ipfrag *f, datagram *d, const char *why)
{
    f->stats.dropped_frags += d->n_pieces;
    if (f->drop)
        f->drop(f->drop_ctx, d->first_frame, d->n_pieces, why);
    unlink_datagram(f, d);
}

void sl_ipfrag_free(sl_ipfrag *f)
{
    if (!f)
        return;
    while (f->oldest)
        unlink_datagram(f, f->oldest);
    free(f->scratch);
    free(f->filled);
    free(f);
}

static datagram *find_or_add(sl_ipfrag *f, const sl_l3 *l3, uint64_t frame, sl_time_ns ts)
{
    unsigned b = bucket_of(l3->version, l3->proto, l3->ip_id, &l3->src, &l3->dst);
    for (datagram *d = f->buckets[b]; d; d = d->hnext)
        if (d->version == l3->version && d->proto == l3->proto && d->id == l3->ip_id &&
            sl_addr_equal(&d->src, &l3->src) && sl_addr_equal(&d->dst, &l3->dst))
            return d;
    datagram *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->version = l3->version;
    d->proto = l3->proto;
    d->id = l3->ip_id;
    d->src = l3->src;
    d->dst = l3->dst;
    d->first_ts = ts;
    d->first_frame = frame;
    d->hnext = f->buckets[b];
    f->buckets[b] = d;
    d->older = f->newest;
    if (f->newest)
        f->newest->newer = d;
    else
        f->oldest = d;
    f->newest = d;
    return d;
}

/* Insert by offset; count overlaps with what is held (first copy wins at
 * assembly, by arrival order). */
static int insert_piece(sl_ipfrag *f, datagram *d, const sl_l3 *l3)
{
    piece *p = malloc(sizeof *p + l3->payload_len);
    if (!p)
        return -SL_ENOMEM;
    p->off = l3->frag_offset;
    p->len = l3->payload_len;
    p->wire_len = l3->payload_wire_len;
    p->next_arrival = NULL;
    if (d->last_arrival)
        d->last_arrival->next_arrival = p;
    else
        d->first_arrival = p;
    d->last_arrival = p;
    memcpy(p->data, l3->payload, l3->payload_len);
    piece **pp = &d->pieces;
    bool overlap = false;
    for (; *pp && (*pp)->off <= p->off; pp = &(*pp)->next)
        overlap |= (*pp)->off + (*pp)->wire_len > p->off;
    if (*pp && p->off + p->wire_len > (*pp)->off)
        overlap = true;
    f->stats.overlaps += overlap;
    p->next = *pp;
    *pp = p;
    d->n_pieces++;
    f->stats.in_flight++;
    if (f->stats.in_flight > f->stats.peak_in_flight)
        f->stats.peak_in_flight = f->stats.in_flight;
    return 0;
}

/* True when fragments cover [0, total) on the wire. */
static bool is_complete(const datagram *d)
{
    if (!d->have_last)
        return false;
    uint32_t covered = 0;
    for (const piece *p = d->pieces; p; p = p->next) {
        if (p->off > covered)
            return false;
        if (p->off + p->wire_len > covered)
            covered = p->off + p->wire_len;
    }
    return covered >= d->total;
}

static int assemble(sl_ipfrag *f, datagram *d, const uint8_t **payload, size_t *len)
{
    if (!f->scratch) {
        /* calloc: scratch is read only where filled[] says written, which
         * the analyzer cannot follow; zeroing once costs nothing. */
        f->scratch = calloc(1, MAX_DATAGRAM);
        f->filled = malloc(MAX_DATAGRAM);
        if (!f->scratch || !f->filled)
            return -SL_ENOMEM;
    }
    memset(f->filled, 0, d->total);
    for (const piece *p = d->first_arrival; p; p = p->next_arrival) {
        if (p->off >= d->total)
            continue;
        uint32_t n = p->off + p->len > d->total ? d->total - p->off : p->len;
        bool differs = false;
        for (uint32_t i = 0; i < n; i++) {
            if (!f->filled[p->off + i]) {
                f->scratch[p->off + i] = p->data[i];
                f->filled[p->off + i] = 1;
            } else {
                differs |= f->scratch[p->off + i] != p->data[i];
            }
        }
        f->stats.conflicts += differs;
    }
    *payload = f->scratch;
    *len = d->total;
    return 0;
}

static void enforce_cap(sl_ipfrag *f, uint64_t frame)
{
    while (f->stats.in_flight >= f->max_fragments && f->oldest) {
        if (!f->stats.cap_frame)
            f->stats.cap_frame = frame;
        f->stats.evicted++;
        give_up(f, f->oldest, "too many IP fragments in flight (cap reached)");
    }
}

int sl_ipfrag_add(sl_ipfrag *f, const sl_l3 *l3, uint64_t frame, sl_time_ns ts, const uint8_t **payload,
                  size_t *len, uint64_t *first_frame, const char **why)
{
    *why = NULL;
    f->stats.fragments++;
    sl_ipfrag_expire(f, ts);
    uint64_t end = (uint64_t)l3->frag_offset + l3->payload_wire_len;
    if (end > MAX_DATAGRAM) {
        *why = "IP fragment reaches beyond 65535 bytes";
        return -SL_EMALFORMED;
    }
    enforce_cap(f, frame);
    datagram *d = find_or_add(f, l3, frame, ts);
    if (!d)
        return -SL_ENOMEM;
    if (!l3->more_fragments) {
        if (d->have_last && d->total != end) {
            *why = "two last IP fragments disagree on the datagram length";
            return -SL_EMALFORMED;
        }
        d->total = (uint32_t)end;
        d->have_last = true;
    }
    if (d->have_last && end > d->total) {
        *why = "IP fragment beyond the end of its datagram";
        return -SL_EMALFORMED;
    }
    int rc = insert_piece(f, d, l3);
    if (rc < 0)
        return rc;
    d->cut |= l3->payload_len < l3->payload_wire_len;
    if (!is_complete(d))
        return 0;
    if (d->cut) {
        give_up(f, d, "an IP fragment was cut short by the capture's snaplen");
        return 0;
    }
    rc = assemble(f, d, payload, len);
    *first_frame = d->first_frame;
    f->stats.reassembled++;
    unlink_datagram(f, d);
    return rc < 0 ? rc : 1;
}

void sl_ipfrag_expire(sl_ipfrag *f, sl_time_ns now)
{
    while (f->oldest && now - f->oldest->first_ts > (sl_time_ns)f->timeout_ns) {
        f->stats.expired++;
        give_up(f, f->oldest, "IP datagram never completed (fragment timeout)");
    }
}

void sl_ipfrag_drain(sl_ipfrag *f)
{
    while (f->oldest)
        give_up(f, f->oldest, "IP datagram still incomplete at the end of the capture");
}

const sl_ipfrag_stats *sl_ipfrag_stats_get(const sl_ipfrag *f) { return &f->stats; }
