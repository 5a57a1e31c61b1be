/* diagnose_dns.c - DNS verdicts about SIP server lookups (RFC 3263):
 * dns.srv_failed when an SRV query for _sip/_sips._tcp/_udp.X got NXDOMAIN,
 * SERVFAIL, an empty answer or no response at all; dns.srv_port_mismatch
 * when the SRV answer sends the caller to target:port and the connection
 * to that port then fails (the SRV record says 5061, the service needs
 * 5062: a zone without the override). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diagnose_internal.h"
#include "sipladder/dns.h"
#include "sipladder/status.h"

static bool sip_srv_name(const char *q)
{
    return (strncmp(q, "_sip._", 6) == 0 || strncmp(q, "_sips._", 7) == 0) &&
           (strstr(q, "._tcp.") || strstr(q, "._udp.") || strstr(q, "._tls."));
}

static bool is_srv_query(const sl_dns_record *r)
{
    return r->has_question && r->qtype == SL_DNS_TYPE_SRV && sip_srv_name(r->qname);
}

/* The response to query q: same id and question, addresses reversed. */
static const sl_dns_record *response_to(const sl_model *m, const sl_dns_record *q)
{
    for (size_t i = 0; i < m->n_dns; i++) {
        const sl_dns_record *r = m->dns[i];
        if (r->response && r->id == q->id && r->qtype == q->qtype && strcmp(r->qname, q->qname) == 0 &&
            sl_addr_equal(&r->src, &q->dst) && r->sport == q->dport && r->span.last_frame > q->span.last_frame)
            return r;
    }
    return NULL;
}

static bool has_srv_answer(const sl_dns_record *r)
{
    for (size_t i = 0; i < r->n_answers; i++)
        if (r->answers[i].type == SL_DNS_TYPE_SRV)
            return true;
    return false;
}

static sl_role side_of(const sl_dg_ctx *x, const sl_addr *a)
{
    return sl_dg_is_local(x, a) ? SL_ROLE_LOCAL : SL_ROLE_REMOTE;
}

static int same_failures(sl_dg_ctx *x, sl_diagnosis *d, size_t first, size_t *n);

static int srv_failed(sl_dg_ctx *x, size_t qi, const sl_dns_record *r)
{
    const sl_dns_record *q = x->m->dns[qi];
    sl_diagnosis *d = sl_dg_add(x, "dns.srv_failed", -1, 0);
    if (!d)
        return -SL_ENOMEM;
    char who[SL_ADDR_PORT_STRLEN + 80];
    sl_dg_endpoint(x, &q->dst, q->dport, who, sizeof who);
    int rc;
    if (!r) {
        sl_dg_reject(x, d, &q->dst, q->dport, SL_ROLE_NETWORK);
        rc = sl_dg_summary(d, "SRV query %s to %s got no response", q->qname, who);
    } else {
        sl_dg_reject(x, d, &r->src, r->sport, side_of(x, &r->src));
        const char *rcode = sl_dns_rcode_name(r->rcode);
        rc = r->rcode ? sl_dg_summary(d, "SRV query %s: %s answered %s", q->qname, who, rcode ? rcode : "an error")
                      : sl_dg_summary(d, "SRV query %s: %s answered with no SRV record", q->qname, who);
    }
    if (rc == 0)
        rc = sl_dg_evidence(d, q->span.last_frame);
    if (rc == 0 && r)
        rc = sl_dg_evidence(d, r->span.last_frame);
    size_t n = 1;
    if (rc == 0)
        rc = same_failures(x, d, qi, &n);
    if (rc == 0 && n > 1) {
        char *one = d->summary;
        d->summary = NULL;
        rc = sl_dg_summary(d, "%s (%zu queries, first frames shown)", one, n);
        free(one);
    }
    if (rc == 0)
        rc = sl_dg_cause(d, "the DNS zone has no SRV record for %s: the call fails with 404 Not Found and no "
                            "outbound attempt", q->qname);
    if (rc == 0 && !r)
        rc = sl_dg_cause(d, "the DNS server is unreachable or the capture ends before its answer");
    return rc;
}

static bool conn_failed(const sl_conn *c)
{
    return c->info.transport == SL_TRANSPORT_TCP &&
           (c->refused || (c->syn_count && !c->synack_count) ||
            (c->rst_count && c->synack_frame && c->rst.frame <= c->synack_frame + 2));
}

/* The address of an A/AAAA answer for `target` in any DNS response, or NULL. */
static const sl_addr *target_addr(const sl_model *m, const char *target, size_t *k)
{
    for (; *k < m->n_dns; (*k)++) {
        const sl_dns_record *r = m->dns[*k];
        for (size_t i = 0; r->response && i < r->n_answers; i++)
            if ((r->answers[i].type == SL_DNS_TYPE_A || r->answers[i].type == SL_DNS_TYPE_AAAA) &&
                strcmp(r->answers[i].name, target) == 0) {
                const sl_addr *a = &r->answers[i].addr;
                (*k)++;
                return a;
            }
    }
    return NULL;
}

/* The query answered by response r (frame), or 0. */
static uint64_t query_frame(const sl_model *m, const sl_dns_record *r)
{
    for (size_t i = 0; i < m->n_dns; i++) {
        const sl_dns_record *q = m->dns[i];
        if (!q->response && q->id == r->id && q->qtype == r->qtype && strcmp(q->qname, r->qname) == 0 &&
            sl_addr_equal(&q->dst, &r->src) && q->dport == r->sport && q->span.last_frame < r->span.last_frame)
            return q->span.last_frame;
    }
    return 0;
}

static int port_mismatch(sl_dg_ctx *x, const sl_dns_record *r, const sl_dns_answer *srv, const sl_conn *c)
{
    sl_diagnosis *d = sl_dg_add(x, "dns.srv_port_mismatch", -1, c->index);
    if (!d)
        return -SL_ENOMEM;
    sl_dg_reject(x, d, &r->src, r->sport, side_of(x, &r->src));
    char to[SL_ADDR_PORT_STRLEN + 80];
    sl_dg_endpoint(x, &c->info.addr[1], c->info.port[1], to, sizeof to);
    int rc = sl_dg_summary(d, "SRV %s sends callers to %s port %u, and the connection to %s then failed (%s)",
                           r->qname, srv->target, srv->port, to, c->refused ? "refused" : "no answer");
    if (rc == 0)
        rc = sl_dg_evidence(d, query_frame(x->m, r));
    if (rc == 0)
        rc = sl_dg_evidence(d, r->span.last_frame);
    for (uint32_t i = 0; rc == 0 && i < c->syn_count && i < SL_MAX_SYN_FRAMES; i++)
        rc = sl_dg_evidence(d, c->syn_frames[i]);
    if (rc == 0 && c->rst.frame)
        rc = sl_dg_evidence(d, c->rst.frame);
    if (rc == 0)
        rc = sl_dg_cause(d, "the SRV record's port (%u) is not the port the service listens on (e.g. 5061 "
                            "published, 5062 needed for mutual TLS): fix the zone or add a DNS override", srv->port);
    return rc;
}

/* How long after the SRV answer a connection from the asker to the SRV port
 * still counts as its use, when the target's address is not known. */
#define SRV_USE_NS (5 * INT64_C(1000000000))

/* The querier's own first connection to the SRV port soon after the answer,
 * when no A/AAAA answer names the target (the model keeps the answer
 * section only; servers put the target's address in the additional one). */
static const sl_conn *querier_conn(const sl_dg_ctx *x, const sl_dns_record *r, uint16_t port)
{
    for (size_t ci = 0; ci < x->m->n_conns; ci++) {
        const sl_conn *c = &x->m->conns[ci];
        if (c->first_frame > r->span.last_frame && c->info.transport == SL_TRANSPORT_TCP &&
            sl_addr_equal(&c->info.addr[0], &r->dst) && c->first_ts - r->span.last_ts <= SRV_USE_NS)
            return c->info.port[1] == port && !x->conn_judged[ci] && conn_failed(c) ? c : NULL;
    }
    return NULL;
}

/* After the SRV answer, the first connection to target:port that failed. */
static int check_srv_ports(sl_dg_ctx *x, const sl_dns_record *r)
{
    const sl_model *m = x->m;
    for (size_t i = 0; i < r->n_answers; i++) {
        const sl_dns_answer *srv = &r->answers[i];
        if (srv->type != SL_DNS_TYPE_SRV)
            continue;
        size_t k = 0;
        const sl_addr *a;
        if (!target_addr(m, srv->target, &k)) {
            const sl_conn *c = querier_conn(x, r, srv->port);
            if (c)
                return port_mismatch(x, r, srv, c);
            continue;
        }
        k = 0;
        while ((a = target_addr(m, srv->target, &k)) != NULL) {
            for (size_t ci = 0; ci < m->n_conns; ci++) {
                const sl_conn *c = &m->conns[ci];
                if (c->first_frame > r->span.last_frame && !x->conn_judged[ci] && c->info.port[1] == srv->port &&
                    sl_addr_equal(&c->info.addr[1], a) && conn_failed(c))
                    return port_mismatch(x, r, srv, c);
            }
        }
    }
    return 0;
}

/* Queries for the same name to the same server are judged once, together
 * (clients repeat an unanswered SRV lookup many times). */
static bool repeated(const sl_model *m, size_t i)
{
    const sl_dns_record *q = m->dns[i];
    for (size_t j = 0; j < i; j++) {
        const sl_dns_record *p = m->dns[j];
        if (!p->response && sl_addr_equal(&p->dst, &q->dst) && sl_addr_equal(&p->src, &q->src) &&
            p->qtype == q->qtype && strcmp(p->qname, q->qname) == 0)
            return true;
    }
    return false;
}

#define DNS_EVIDENCE_CAP 8

/* Every later query like q that also failed: counted, the first few as evidence. */
static int same_failures(sl_dg_ctx *x, sl_diagnosis *d, size_t first, size_t *n)
{
    const sl_model *m = x->m;
    const sl_dns_record *q = m->dns[first];
    int rc = 0;
    *n = 1;
    for (size_t j = first + 1; rc == 0 && j < m->n_dns; j++) {
        const sl_dns_record *p = m->dns[j];
        if (p->response || !sl_addr_equal(&p->dst, &q->dst) || !sl_addr_equal(&p->src, &q->src) ||
            p->qtype != q->qtype || strcmp(p->qname, q->qname) != 0)
            continue;
        const sl_dns_record *r = response_to(m, p);
        if (r && !r->rcode && has_srv_answer(r))
            continue;
        (*n)++;
        if (d->n_evidence < DNS_EVIDENCE_CAP)
            rc = sl_dg_evidence(d, p->span.last_frame);
        if (rc == 0 && r && d->n_evidence < DNS_EVIDENCE_CAP)
            rc = sl_dg_evidence(d, r->span.last_frame);
    }
    return rc;
}

int sl_dg_rules_dns(sl_dg_ctx *x)
{
    const sl_model *m = x->m;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < m->n_dns; i++) {
        const sl_dns_record *q = m->dns[i];
        if (q->response || !is_srv_query(q) || repeated(m, i))
            continue;
        const sl_dns_record *r = response_to(m, q);
        if (!r || r->rcode || !has_srv_answer(r))
            rc = srv_failed(x, i, r);
        else
            rc = check_srv_ports(x, r);
    }
    return rc;
}
