/* diagnose.c - the diagnosis driver: finds the capture point, runs the rule
 * families (TCP, TLS, SIP, DNS: one file each) and orders their verdicts.
 * The rules build each verdict with diagnose_verdict.c's helpers. */
#include <stdlib.h>
#include <string.h>

#include "diagnose_internal.h"
#include "sipladder/status.h"

void sl_diagnose_options_default(sl_diagnose_options *o)
{
    memset(o, 0, sizeof *o);
    o->min_bandwidth_kbps = 1152;
    o->oversize_bytes = 5000;
}

const char *sl_role_name(sl_role r)
{
    static const char *const names[] = {"client", "server", "network", "local", "remote"};
    return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "unknown";
}

/* The capture point, failing a relay (below): the address in the most
 * connections (legs count too).  A tie goes to the client of the earliest
 * connection among the tied. */
/* Every endpoint once, then sorted by address and summed: linear in the
 * connections up to the sort (a SYN flood holds 200,000 of them).  The
 * order of first appearance: 2 * connection index + side, legs after. */
typedef struct addr_tally {
    sl_addr_count *v;
    size_t n, cap;
} addr_tally;

static int tally_add(addr_tally *t, const sl_addr *a, uint64_t times, uint64_t order)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 256;
        sl_addr_count *v = realloc(t->v, cap * sizeof *v);
        if (!v)
            return -SL_ENOMEM;
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n++] = (sl_addr_count){.addr = *a, .n = times, .first = order};
    return 0;
}

static int addr_count_cmp(const void *p, const void *q)
{
    return sl_addr_cmp(&((const sl_addr_count *)p)->addr, &((const sl_addr_count *)q)->addr);
}

/* The address with the highest sum; among equals, the first to appear. */
static const sl_addr_count *tally_best(addr_tally *t)
{
    if (!t->n)
        return NULL;
    qsort(t->v, t->n, sizeof *t->v, addr_count_cmp);
    size_t groups = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (groups && sl_addr_equal(&t->v[groups - 1].addr, &t->v[i].addr)) {
            sl_addr_count *g = &t->v[groups - 1];
            g->n += t->v[i].n;
            g->first = t->v[i].first < g->first ? t->v[i].first : g->first;
        } else {
            t->v[groups++] = t->v[i];
        }
    }
    const sl_addr_count *best = &t->v[0];
    for (size_t i = 1; i < groups; i++)
        if (t->v[i].n > best->n || (t->v[i].n == best->n && t->v[i].first < best->first))
            best = &t->v[i];
    return best;
}

/* A capture that holds two hops of one call was taken on the host between
 * them: the receiver of hop 0 and the sender of hop 1 (two addresses when
 * it relays between two interfaces, as an Expressway-E does).  The first
 * call with two legs decides. */
static bool relay_of_calls(sl_dg_ctx *x)
{
    const sl_calls *c = x->calls;
    for (size_t i = 0; c && i < c->n_calls; i++) {
        const sl_call *call = &c->calls[i];
        if (call->n_legs < 2 || call->legs[0] >= c->n_legs || call->legs[1] >= c->n_legs)
            continue;
        uint32_t in = c->legs[call->legs[0]].host[1], out = c->legs[call->legs[1]].host[0];
        if (in >= c->n_hosts || out >= c->n_hosts)
            continue;
        x->cp.has_local = true;
        x->cp.local = c->hosts[in].addr;
        x->cp.has_local2 = !sl_addr_equal(&c->hosts[in].addr, &c->hosts[out].addr);
        x->cp.local2 = c->hosts[out].addr;
        return true;
    }
    return false;
}

static int find_capture_point(sl_dg_ctx *x)
{
    /* Best evidence: a Linux cooked capture says which frames the capturing
     * host sent (sl_dg_is_local reads the model's list). */
    if (x->m->n_local_addrs) {
        x->cp.has_local = x->cp.settled = true;
        x->cp.local = x->m->local_addrs[0];
        return 0;
    }
    if (relay_of_calls(x)) {
        x->cp.settled = true;
        return 0;
    }
    addr_tally list = {0};
    int rc = 0;
    /* Connections written early (call_stream.c) count as tallied. */
    const sl_conn_tally *t = &x->m->retired;
    for (size_t i = 0; rc == 0 && i < t->n_addrs; i++)
        rc = tally_add(&list, &t->addrs[i].addr, t->addrs[i].n, 2 * (uint64_t)t->addrs[i].first);
    for (size_t i = 0; rc == 0 && i < x->m->n_conns; i++)
        for (int s = 0; rc == 0 && s < 2; s++)
            rc = tally_add(&list, &x->m->conns[i].info.addr[s], 1, 2 * (uint64_t)x->m->conns[i].index + s);
    uint64_t after = 2 * ((uint64_t)sl_model_conns_total(x->m) + 1);
    for (size_t i = 0; rc == 0 && x->calls && i < x->calls->n_legs; i++)
        for (int s = 0; rc == 0 && s < 2; s++)
            if (x->calls->legs[i].host[s] < x->calls->n_hosts)
                rc = tally_add(&list, &x->calls->hosts[x->calls->legs[i].host[s]].addr, 1, after + 2 * i + s);
    const sl_addr_count *best = rc == 0 ? tally_best(&list) : NULL;
    if (best) {
        x->cp.has_local = true;
        x->cp.local = best->addr;
    }
    free(list.v);
    return rc;
}

int sl_diagnose_capture_point(const sl_model *m, const sl_calls *calls, sl_capture_point *out)
{
    sl_dg_ctx x = {.m = m, .calls = calls};
    int rc = find_capture_point(&x);
    *out = x.cp;
    return rc;
}

static void diagnosis_clear(sl_diagnosis *d)
{
    free(d->summary);
    for (size_t i = 0; i < d->n_causes; i++)
        free(d->causes[i]);
    free(d->causes);
    free(d->evidence);
}

void sl_diagnoses_clear(sl_diagnoses *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++)
        diagnosis_clear(&d->list[i]);
    free(d->list);
    d->list = NULL;
    d->n = 0;
}

void sl_other_traffic_add(sl_other_traffic *dst, const sl_other_traffic *src)
{
    dst->no_answer += src->no_answer;
    dst->refused += src->refused;
    dst->reset += src->reset;
    dst->handshake_incomplete += src->handshake_incomplete;
    for (size_t i = 0; i < src->n_ports; i++) {
        bool known = false;
        for (size_t k = 0; k < dst->n_ports && !known; k++)
            known = dst->ports[k] == src->ports[i];
        if (!known && dst->n_ports < SL_OTHER_PORTS)
            dst->ports[dst->n_ports++] = src->ports[i];
    }
}

static uint64_t first_frame(const sl_diagnosis *d) { return d->n_evidence ? d->evidence[0] : UINT64_MAX; }

/* Stable insertion sort by first evidence frame: n is small, and rules
 * appended in a meaningful order keep it among equals. */
static void sort_verdicts(sl_diagnoses *d)
{
    for (size_t i = 1; i < d->n; i++) {
        sl_diagnosis v = d->list[i];
        size_t j = i;
        while (j > 0 && first_frame(&d->list[j - 1]) > first_frame(&v)) {
            d->list[j] = d->list[j - 1];
            j--;
        }
        d->list[j] = v;
    }
}

/* A DNS verdict no call took: in a streamed batch it waits for the end;
 * at the end, one a streamed call took already is not repeated. */
static bool dns_dropped(const sl_diagnosis *d, const sl_diagnose_options *o)
{
    if (d->call >= 0 || strncmp(d->code, "dns.", 4) != 0)
        return false;
    if (o->calls_only)
        return true;
    for (size_t i = 0; d->n_evidence && i < o->n_dns_claimed; i++)
        if (o->dns_claimed[i] == d->evidence[0])
            return true;
    return false;
}

static void drop_unclaimed_dns(sl_diagnoses *d, const sl_diagnose_options *o)
{
    size_t kept = 0;
    for (size_t i = 0; i < d->n; i++) {
        if (dns_dropped(&d->list[i], o))
            diagnosis_clear(&d->list[i]);
        else
            d->list[kept++] = d->list[i];
    }
    d->n = kept;
}

int sl_diagnose(const sl_model *m, const sl_calls *calls, const sl_diagnose_options *o, sl_diagnoses *out)
{
    sl_diagnose_options defaults;
    if (!o) {
        sl_diagnose_options_default(&defaults);
        o = &defaults;
    }
    memset(out, 0, sizeof *out);
    sl_dg_ctx x = {.m = m, .calls = calls, .o = o, .out = out};
    x.conn_judged = calloc(m->n_conns ? m->n_conns : 1, sizeof *x.conn_judged);
    int rc = x.conn_judged ? 0 : -SL_ENOMEM;
    if (rc == 0 && o->capture_point)
        x.cp = *o->capture_point;
    else if (rc == 0)
        rc = find_capture_point(&x);
    out->capture_point = x.cp;
    x.unscoped = out->unscoped = sl_dg_unscoped(m, o);
    if (rc == 0)
        rc = sl_dg_scope_init(&x);
    if (o->other_before)
        sl_other_traffic_add(&out->other, o->other_before);
    /* Connections a streamed call's verdict named are judged already. */
    for (size_t i = 0; rc == 0 && i < m->n_conns; i++)
        x.conn_judged[i] = m->conns[i].judged;
    /* Order matters: a connection named by a TLS or SIP verdict is not
     * reported again as a bare TCP reset. */
    if (rc == 0 && !o->conns_only)
        rc = sl_dg_rules_dns(&x);
    if (rc == 0 && calls && !o->conns_only)
        rc = sl_dg_rules_sip(&x);
    if (rc == 0 && !o->calls_only)
        rc = sl_dg_rules_tls(&x);
    if (rc == 0 && !o->calls_only)
        rc = sl_dg_rules_tcp(&x);
    free(x.conn_judged);
    sl_dg_scope_free(&x);
    if (rc == 0)
        drop_unclaimed_dns(out, o);
    if (rc < 0) {
        sl_diagnoses_clear(out);
        return rc;
    }
    sort_verdicts(out);
    return 0;
}
