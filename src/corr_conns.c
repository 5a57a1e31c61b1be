/* corr_conns.c - connections attached to calls: those that carried SIP, and the others by host and time. */
#include <stdlib.h>
#include <string.h>

#include "correlate_internal.h"

int sl_corr_legs_conns(sl_corr_build *b)
{
    sl_calls *o = b->o;
    for (size_t i = 0; i < b->n_recs; i++) {
        if (b->rec_leg[i] == SL_CALLS_NONE)
            continue;
        sl_leg *l = &o->legs[b->rec_leg[i]];
        uint32_t conn = b->recs[i]->conn_index;
        if (conn && (l->n_conns == 0 || l->conns[l->n_conns - 1] != conn) &&
            sl_corr_push_u32(&l->conns, &l->n_conns, conn) < 0)
            return -SL_ENOMEM;
    }
    for (size_t i = 0; i < o->n_legs; i++) {
        sl_leg *l = &o->legs[i];
        sl_calls_sort_unique(l->conns, &l->n_conns);
        sl_call *c = &o->calls[l->call];
        for (size_t k = 0; k < l->n_conns; k++)
            if (sl_corr_push_u32(&c->conns, &c->n_conns, l->conns[k]) < 0)
                return -SL_ENOMEM;
    }
    return 0;
}

/* Calls each host took part in, by start time, with the latest end so far:
 * a backwards scan stops once no earlier call can still be running. */
typedef struct host_call {
    uint32_t host, call;
    sl_time_ns first, last, max_last;
} host_call;

static int by_host_time(const void *a, const void *b)
{
    const host_call *x = a, *y = b;
    if (x->host != y->host)
        return x->host < y->host ? -1 : 1;
    if (x->first != y->first)
        return x->first < y->first ? -1 : 1;
    return x->call < y->call ? -1 : x->call > y->call;
}

typedef struct host_index {
    host_call *hc;
    size_t n;
    size_t *start; /* per host: first entry; start[n_hosts] = n */
} host_index;

static int host_index_make(const sl_calls *o, host_index *x)
{
    memset(x, 0, sizeof *x);
    size_t n = 0;
    for (size_t i = 0; i < o->n_legs; i++)
        n += 2;
    x->hc = malloc((n ? n : 1) * sizeof *x->hc);
    x->start = calloc(o->n_hosts + 1, sizeof *x->start);
    if (!x->hc || !x->start)
        return -SL_ENOMEM;
    for (size_t i = 0; i < o->n_legs; i++) {
        const sl_call *c = &o->calls[o->legs[i].call];
        for (int s = 0; s < 2; s++)
            x->hc[x->n++] = (host_call){o->legs[i].host[s], o->legs[i].call, c->first_ts, c->last_ts, 0};
    }
    qsort(x->hc, x->n, sizeof *x->hc, by_host_time);
    size_t w = 0;
    for (size_t i = 0; i < x->n; i++) /* one entry per (host, call) */
        if (w == 0 || x->hc[w - 1].host != x->hc[i].host || x->hc[w - 1].call != x->hc[i].call)
            x->hc[w++] = x->hc[i];
    x->n = w;
    for (size_t i = 0; i < x->n; i++) {
        bool first = i == 0 || x->hc[i - 1].host != x->hc[i].host;
        x->hc[i].max_last =
            first || x->hc[i - 1].max_last < x->hc[i].last ? x->hc[i].last : x->hc[i - 1].max_last;
        x->start[x->hc[i].host + 1] = i + 1;
    }
    for (size_t h = 1; h <= o->n_hosts; h++)
        if (x->start[h] < x->start[h - 1])
            x->start[h] = x->start[h - 1];
    return 0;
}

/* Up to two calls of host h running within [lo, hi]. */
static void host_candidates(const host_index *x, uint32_t h, sl_time_ns lo, sl_time_ns hi, uint32_t *cand,
                            size_t *n)
{
    size_t a = x->start[h], z = x->start[h + 1];
    while (a < z) { /* first entry starting after hi */
        size_t mid = a + (z - a) / 2;
        if (x->hc[mid].first <= hi)
            a = mid + 1;
        else
            z = mid;
    }
    for (size_t i = a; i-- > x->start[h] && *n < 2;) {
        if (x->hc[i].max_last < lo)
            break;
        if (x->hc[i].last >= lo && (*n == 0 || cand[0] != x->hc[i].call))
            cand[(*n)++] = x->hc[i].call;
    }
}

int sl_corr_conns_attach(sl_corr_build *b)
{
    sl_calls *o = b->o;
    const sl_model *m = b->m;
    size_t total = sl_model_conns_total(m);
    bool *has_sip = calloc(total + 1, sizeof *has_sip);
    host_index x;
    int rc = host_index_make(o, &x);
    for (size_t i = 0; has_sip && i < b->n_recs; i++)
        if (b->recs[i]->conn_index <= total)
            has_sip[b->recs[i]->conn_index] = true;
    for (size_t i = 0; rc == 0 && has_sip && i < m->n_conns; i++) {
        const sl_conn *cn = &m->conns[i];
        /* SIP events count too: a streamed batch holds only some records.
         * A connection a written call took is not offered again. */
        if (cn->info.transport != SL_TRANSPORT_TCP || has_sip[cn->index <= total ? cn->index : 0] ||
            cn->events[SL_EV_SIP] || cn->attached || cn->last_ts < m->corr_conns_after)
            continue;
        uint32_t cand[2] = {0, 0}; /* read only up to n */
        size_t n = 0;
        for (int s = 0; s < 2 && n < 2; s++) {
            uint32_t h = sl_corr_host_of(b, &cn->info.addr[s]);
            if (h != SL_CALLS_NONE && !(s == 1 && sl_addr_equal(&cn->info.addr[0], &cn->info.addr[1])))
                host_candidates(&x, h, cn->first_ts - SL_CALLS_CONN_SLACK_NS, cn->last_ts + SL_CALLS_CONN_SLACK_NS,
                                cand, &n);
        }
        /* Ambiguous once (streamed: with calls written since), always. */
        sl_call *c = n == 1 && !cn->ambiguous ? &o->calls[cand[0]] : NULL;
        rc = c ? sl_corr_push_u32(&c->conns, &c->n_conns, cn->index)
               : sl_corr_push_u32(&o->orphan_conns, &o->n_orphan_conns, cn->index);
        if (rc == 0 && n == 2)
            rc = sl_corr_push_u32(&o->ambiguous_conns, &o->n_ambiguous_conns, cn->index);
    }
    for (size_t k = 0; rc == 0 && k < o->n_calls; k++)
        sl_calls_sort_unique(o->calls[k].conns, &o->calls[k].n_conns);
    bool ok = has_sip != NULL;
    free(x.hc);
    free(x.start);
    free(has_sip);
    return ok ? rc : -SL_ENOMEM;
}
