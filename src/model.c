/* model.c - storage of what the analysis found. */
#include "sipladder/model.h"

#include <stdlib.h>
#include <string.h>

#include "sipladder/dns.h"
#include "sipladder/signalling.h"
#include "sipladder/sip_record.h"
#include "sipladder/tls_session.h"
#include "sipladder/status.h"

#define DEFAULT_MAX_ANOMALIES 10000

sl_model *sl_model_new(void)
{
    sl_model *m = calloc(1, sizeof *m);
    if (m) {
        m->max_anomalies = DEFAULT_MAX_ANOMALIES;
        m->max_conns = SL_MODEL_MAX_CONNS;
        m->max_sip_bytes = SL_MODEL_MAX_SIP_BYTES;
        m->overflow.index = SL_CONN_OVERFLOW;
    }
    return m;
}

void sl_model_free(sl_model *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_anomalies; i++)
        free(m->anomalies[i].text);
    for (size_t i = 0; i < m->n_warnings; i++)
        free(m->warnings[i]);
    for (size_t i = 0; i < m->n_sip; i++)
        sl_sip_record_free(m->sip[i]);
    free(m->sip);
    for (size_t i = 0; i < m->n_dns; i++)
        sl_dns_record_free(m->dns[i]);
    free(m->dns);
    for (size_t i = 0; i < m->n_conns; i++) {
        sl_tls_session_free(m->conns[i].tls);
        free(m->conns[i].retx[0]);
        free(m->conns[i].retx[1]);
    }
    sl_tls_session_free(m->overflow.tls);
    free(m->retired.addrs);
    free(m->anomalies);
    free(m->warnings);
    free(m->conns);
    free(m->capture.linktypes);
    for (size_t i = 0; i < m->capture.n_files; i++)
        free((char *)m->capture.files[i]); // NOLINT: owned names, const for the readers
    free((void *)m->capture.files);
    free(m);
}

/* Grow *arr (of *cap elements of size `size`) to hold n+1. */
static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 64;
    void *p = realloc(*arr, ncap * size);
    if (!p)
        return -SL_ENOMEM;
    *arr = p;
    *cap = ncap;
    return 0;
}

/* A connection beyond max_conns: only counted, in the aggregate record
 * (a SYN flood must not cost memory per SYN). */
static sl_conn *overflow_conn(sl_model *m, uint64_t frame, sl_time_ns ts)
{
    sl_conn *c = &m->overflow;
    if (!m->conns_not_kept++) {
        m->conn_cap_frame = frame;
        c->first_frame = frame;
        c->first_ts = ts;
    }
    c->last_frame = frame;
    c->last_ts = ts;
    return c;
}

sl_conn *sl_model_add_conn(sl_model *m, const sl_flow_info *info, uint64_t frame, sl_time_ns ts)
{
    m->signalling_seen |= sl_signalling_port(info->port[1]);
    if (m->n_conns >= m->max_conns)
        return overflow_conn(m, frame, ts);
    if (grow((void **)&m->conns, &m->cap_conns, m->n_conns, sizeof *m->conns) < 0)
        return NULL;
    sl_conn *c = &m->conns[m->n_conns++];
    memset(c, 0, sizeof *c);
    c->index = (uint32_t)sl_model_conns_total(m);
    c->info = *info;
    c->info.conn_index = c->index;
    c->first_frame = c->last_frame = frame;
    c->first_ts = c->last_ts = ts;
    return c;
}

const sl_conn *sl_model_conn_const(const sl_model *m, uint32_t index)
{
    if (index == 0 || index > sl_model_conns_total(m))
        return NULL; /* SL_CONN_OVERFLOW too */
    /* Indices ascend.  Counted from the newest, the position is exact for
     * every connection newer than the last one retired: the ones packets
     * mostly reach (per-packet path, sl_model_flow_conn). */
    size_t from_end = sl_model_conns_total(m) - index;
    if (from_end < m->n_conns && m->conns[m->n_conns - 1 - from_end].index == index)
        return &m->conns[m->n_conns - 1 - from_end];
    size_t lo = 0, hi = m->n_conns;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->conns[mid].index < index)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->n_conns && m->conns[lo].index == index ? &m->conns[lo] : NULL;
}

sl_conn *sl_model_conn(sl_model *m, uint32_t index)
{
    return (sl_conn *)sl_model_conn_const(m, index); // NOLINT: the same record, writable through a writable model
}

static void tally_addr(sl_conn_tally *t, const sl_addr *a, uint32_t conn, bool flow)
{
    size_t lo = 0, hi = t->n_addrs; /* sorted: the first not below a */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sl_addr_cmp(&t->addrs[mid].addr, a) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < t->n_addrs && sl_addr_equal(&t->addrs[lo].addr, a)) {
        sl_addr_count *hit = &t->addrs[lo];
        hit->n++;
        hit->flows += flow;
        hit->first = conn < hit->first ? conn : hit->first;
        return;
    }
    if (t->n_addrs == SL_MODEL_MAX_TALLY)
        return;
    if (!t->addrs && !(t->addrs = malloc(SL_MODEL_MAX_TALLY * sizeof *t->addrs)))
        return; /* out of memory: the capture point may be chosen with less */
    memmove(&t->addrs[lo + 1], &t->addrs[lo], (t->n_addrs - lo) * sizeof *t->addrs);
    t->addrs[lo] = (sl_addr_count){.addr = *a, .n = 1, .flows = flow, .first = conn};
    t->n_addrs++;
}

void sl_model_retire_conns(sl_model *m, const bool *retire)
{
    size_t kept = 0;
    for (size_t i = 0; i < m->n_conns; i++) {
        sl_conn *c = &m->conns[i];
        if (!retire[i]) {
            m->conns[kept++] = *c;
            continue;
        }
        for (int s = 0; s < 2; s++) /* 127.0.0.1 to itself: one flow */
            tally_addr(&m->retired, &c->info.addr[s], c->index,
                       s == 0 || !sl_addr_equal(&c->info.addr[0], &c->info.addr[1]));
        uint64_t hits = c->buffer_cap_hits[0] + c->buffer_cap_hits[1];
        m->retired.cap_hits += hits;
        m->retired.capped += hits != 0;
        sl_tls_session_free(c->tls);
        free(c->retx[0]);
        free(c->retx[1]);
        m->n_conns_retired++;
    }
    m->n_conns = kept;
    /* Give back what a burst of connections took. */
    if (m->cap_conns > 256 && kept < m->cap_conns / 4) {
        sl_conn *shrunk = realloc(m->conns, m->cap_conns / 2 * sizeof *shrunk);
        if (shrunk) {
            m->conns = shrunk;
            m->cap_conns /= 2;
        }
    }
}

int sl_model_add_anomaly(sl_model *m, uint64_t frame, uint32_t conn_index, const char *source, const char *text)
{
    m->anomalies_total++;
    sl_conn *c = sl_model_flow_conn(m, conn_index);
    if (c)
        c->anomalies++;
    if (conn_index == SL_CONN_OVERFLOW)
        conn_index = 0; /* not listed: the anomaly stands on its own */
    if (m->n_anomalies >= m->max_anomalies)
        return 0;
    if (grow((void **)&m->anomalies, &m->cap_anomalies, m->n_anomalies, sizeof *m->anomalies) < 0)
        return -SL_ENOMEM;
    char *copy = strdup(text);
    if (!copy)
        return -SL_ENOMEM;
    m->anomalies[m->n_anomalies++] =
        (sl_model_anomaly){.frame = frame, .conn_index = conn_index, .source = source, .text = copy};
    return 0;
}

int sl_model_add_warning(sl_model *m, const char *text)
{
    char **w = realloc(m->warnings, (m->n_warnings + 1) * sizeof *w);
    if (!w)
        return -SL_ENOMEM;
    m->warnings = w;
    if (!(w[m->n_warnings] = strdup(text)))
        return -SL_ENOMEM;
    m->n_warnings++;
    return 0;
}

int sl_model_add_dns(sl_model *m, struct sl_dns_record *r)
{
    if (m->n_dns >= SL_MODEL_MAX_DNS) {
        m->dns_not_kept++;
        sl_dns_record_free(r);
        return 0;
    }
    if (grow((void **)&m->dns, &m->cap_dns, m->n_dns, sizeof *m->dns) < 0) { // NOLINT(bugprone-sizeof-expression): an array of pointers, sized as such
        sl_dns_record_free(r);
        return -SL_ENOMEM;
    }
    m->dns[m->n_dns++] = r;
    return 0;
}

size_t sl_model_sip_cost(const struct sl_sip_record *r)
{
    /* The record and its slot in m->sip. */
    return r->mem_bytes + sizeof(struct sl_sip_record *);
}

int sl_model_add_sip(sl_model *m, struct sl_sip_record *r)
{
    size_t cost = sl_model_sip_cost(r);
    if (cost > m->max_sip_bytes - m->sip_bytes || m->sip_not_kept) {
        /* Once full, stay full: the kept messages are the first ones, in order. */
        if (!m->sip_not_kept++)
            m->sip_cap_frame = r->span.last_frame;
        sl_sip_record_free(r);
        return 0;
    }
    m->sip_bytes += cost;
    if (grow((void **)&m->sip, &m->cap_sip, m->n_sip, sizeof *m->sip) < 0) { // NOLINT(bugprone-sizeof-expression): an array of pointers, sized as such
        sl_sip_record_free(r);
        return -SL_ENOMEM;
    }
    m->sip[m->n_sip++] = r;
    return 0;
}

void sl_model_release_sip(sl_model *m, const bool *release)
{
    size_t kept = 0;
    for (size_t i = 0; i < m->n_sip; i++) {
        sl_sip_record *r = m->sip[i];
        if (!release[i]) {
            m->sip[kept++] = r;
            continue;
        }
        m->sip_bytes -= sl_model_sip_cost(r);
        m->sip_released++;
        sl_sip_record_free(r);
    }
    m->n_sip = kept;
}

struct sl_tls_session *sl_model_conn_tls(sl_conn *c)
{
    if (!c->tls)
        c->tls = sl_tls_session_new();
    return c->tls;
}

/* How TCP ended, as the TLS outcome wants it: the RST, else the first FIN. */
static sl_tcp_end tcp_end(const sl_conn *c)
{
    sl_tcp_end e = {.kind = SL_TCP_END_OPEN};
    const sl_close_event *fin = NULL;
    if (c->fin[0].frame && (!c->fin[1].frame || c->fin[0].frame < c->fin[1].frame))
        fin = &c->fin[0];
    else if (c->fin[1].frame)
        fin = &c->fin[1];
    if (c->rst_count && (!fin || c->rst.frame < fin->frame))
        e = (sl_tcp_end){SL_TCP_END_RST, (sl_dir)c->rst.side, c->rst.frame, c->rst.ts};
    else if (fin)
        e = (sl_tcp_end){SL_TCP_END_FIN, (sl_dir)fin->side, fin->frame, fin->ts};
    return e;
}

int sl_model_tls_outcome(const sl_conn *c, const struct sl_tls_options *opts, struct sl_tls_outcome *out)
{
    if (!c->tls)
        return -SL_EUSAGE;
    sl_tcp_end end = tcp_end(c);
    return sl_tls_session_outcome(c->tls, &end, opts, out);
}

void sl_model_note_local(sl_model *m, const sl_addr *a)
{
    if (sl_model_is_local(m, a) || m->n_local_addrs == SL_MAX_LOCAL_ADDRS)
        return;
    m->local_addrs[m->n_local_addrs++] = *a;
}

bool sl_model_is_local(const sl_model *m, const sl_addr *a)
{
    for (size_t i = 0; i < m->n_local_addrs; i++)
        if (sl_addr_equal(&m->local_addrs[i], a))
            return true;
    return false;
}
