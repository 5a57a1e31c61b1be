/* corr_hosts.c - every address seen is a host, with a label and, when known, a role. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlate_internal.h"
#include "sipladder/text.h"

static int host_add(sl_corr_build *b, const sl_addr *a, uint32_t *out)
{
    sl_calls *o = b->o;
    sl_ckey_reset(&b->key, 'H');
    sl_ckey_addr(&b->key, a);
    uint32_t h = sl_cmap_get(&b->cf->host_map, &b->key);
    if (h != SL_CALLS_NONE) {
        *out = h;
        return 0;
    }
    if (sl_corr_grow(&o->hosts, o->n_hosts, sizeof *o->hosts) < 0)
        return -SL_ENOMEM;
    h = (uint32_t)o->n_hosts;
    memset(&o->hosts[h], 0, sizeof o->hosts[h]);
    o->hosts[h].addr = *a;
    o->hosts[h].source = SL_LABEL_ADDRESS;
    if (sl_cmap_put(&b->cf->host_map, &b->key, h) < 0)
        return -SL_ENOMEM;
    o->n_hosts++;
    *out = h;
    return 0;
}

int sl_corr_hosts_collect(sl_corr_build *b)
{
    uint32_t h;
    for (size_t i = 0; i < b->n_recs; i++) {
        const sl_sip_record *r = b->recs[i];
        if (host_add(b, &r->src, &h) < 0)
            return -SL_ENOMEM;
        b->o->hosts[h].messages_sent++;
        if (host_add(b, &r->dst, &h) < 0)
            return -SL_ENOMEM;
    }
    /* Connections retired before the end (call_stream.c) are still flows
     * of their hosts; a streamed batch (corr_conns_after set) is not the end. */
    const sl_conn_tally *t = &b->m->retired;
    for (size_t i = 0; !b->m->corr_conns_after && i < t->n_addrs; i++) {
        if (host_add(b, &t->addrs[i].addr, &h) < 0)
            return -SL_ENOMEM;
        b->o->hosts[h].flows += t->addrs[i].flows;
    }
    for (size_t i = 0; i < b->m->n_conns; i++) {
        if (b->m->conns[i].last_ts < b->m->corr_conns_after)
            continue;
        const sl_flow_info *f = &b->m->conns[i].info;
        for (int s = 0; s < 2; s++) {
            if (host_add(b, &f->addr[s], &h) < 0)
                return -SL_ENOMEM;
            if (s == 0 || !sl_addr_equal(&f->addr[0], &f->addr[1])) /* 127.0.0.1 to itself: one flow */
                b->o->hosts[h].flows++;
        }
    }
    return 0;
}

uint32_t sl_corr_host_of(sl_corr_build *b, const sl_addr *a)
{
    sl_ckey_reset(&b->key, 'H');
    sl_ckey_addr(&b->key, a);
    return sl_cmap_get(&b->cf->host_map, &b->key);
}

static int set_label(sl_host *h, sl_label_source src, const char *text, size_t n)
{
    size_t need = sl_text_escape(text, n, NULL, 0);
    char *l = malloc(need + 1);
    if (!l)
        return -SL_ENOMEM;
    sl_text_escape(text, n, l, need + 1);
    free(h->label);
    h->label = l;
    h->source = src;
    return 0;
}

/* Known products: a role and a label; others keep their address. */
static int label_from_product(sl_host *h, sl_sip_str prod)
{
    static const struct { const char *prefix, *role, *label; } known[] = {
        {"TANDBERG/", "expressway", "Expressway"},
        {"Cisco-CUCM", "cucm", "CUCM"},
        {"Cisco-SIPGateway", "gateway", "Cisco gateway"},
    };
    if (!h->product) {
        size_t need = sl_text_escape(prod.p, prod.n, NULL, 0);
        if (!(h->product = malloc(need + 1)))
            return -SL_ENOMEM;
        sl_text_escape(prod.p, prod.n, h->product, need + 1);
    }
    for (size_t i = 0; i < sizeof known / sizeof *known; i++) {
        size_t n = strlen(known[i].prefix);
        if (prod.n < n || memcmp(prod.p, known[i].prefix, n) != 0)
            continue;
        if (!h->role)
            h->role = known[i].role;
        if (h->source <= SL_LABEL_PRODUCT)
            return 0;
        char text[128];
        const char *ver = memchr(prod.p, '(', prod.n);
        size_t vn = ver ? (size_t)(prod.p + prod.n - ver) : 0;
        if (strcmp(known[i].role, "cucm") == 0) {
            ver = prod.p + n;
            vn = prod.n - n;
        }
        int len = snprintf(text, sizeof text, "%s%s%.*s", known[i].label, vn ? " " : "",
                           (int)(vn > 60 ? 60 : vn), ver ? ver : "");
        return set_label(h, SL_LABEL_PRODUCT, text,
                         (size_t)len < sizeof text ? (size_t)len : sizeof text - 1);
    }
    return 0;
}

/* The host that added a Via with egress-zone (the request's sender, or the
 * receiver of a response) is an Expressway; so is the host that received a
 * Via it marked with ingress-zone (the sender of the next Via up). */
static int label_from_zone(sl_corr_build *b, const sl_sip_record *r)
{
    sl_sip_str zone = {NULL, 0};
    const sl_sip_via *v = r->f.vias;
    if (r->f.n_vias == 0)
        return 0;
    const sl_addr *who = r->f.is_request ? &r->src : &r->dst;
    bool own = sl_sip_param_get(v[0].params, v[0].n_params, "egress-zone", &zone);
    if (!own && r->f.is_request && r->f.n_vias >= 2)
        own = sl_sip_param_get(v[1].params, v[1].n_params, "ingress-zone", &zone);
    if (!own && !r->f.is_request) { /* it received the request that carried this Via */
        own = sl_sip_param_get(v[0].params, v[0].n_params, "ingress-zone", &zone);
        who = &r->src;
    }
    if (!own || !zone.p)
        return 0;
    uint32_t h = sl_corr_host_of(b, who);
    if (h == SL_CALLS_NONE)
        return 0;
    sl_host *host = &b->o->hosts[h];
    host->role = "expressway";
    if (host->source <= SL_LABEL_ZONE)
        return 0;
    char text[160];
    int len =
        snprintf(text, sizeof text, "Expressway (zone %.*s)", (int)(zone.n > 100 ? 100 : zone.n), zone.p);
    return set_label(host, SL_LABEL_ZONE, text, (size_t)len < sizeof text ? (size_t)len : sizeof text - 1);
}

/* A product named in a message its sender had itself received earlier
 * (a proxy passes Server and User-Agent through; so does a B2BUA, often)
 * says nothing about the sender. */
static int product_key(sl_corr_build *b, uint32_t host, sl_sip_str prod)
{
    sl_ckey_reset(&b->key, 'P');
    sl_ckey_u32(&b->key, host);
    sl_ckey_str(&b->key, prod);
    return b->key.oom ? -SL_ENOMEM : 0;
}

/* A response whose Vias are an earlier response's Vias less the top one
 * was relayed by a proxy (which may have another address on that side). */
static int response_relayed(sl_corr_build *b, sl_cmap *received, const sl_sip_record *r, bool *relayed)
{
    sl_corr_via_chain_key(&b->key, r, 0);
    sl_ckey_u32(&b->key, (uint32_t)r->f.status_code);
    *relayed = sl_cmap_get(received, &b->key) != SL_CALLS_NONE;
    if (r->f.n_vias < 2)
        return 0;
    sl_corr_via_chain_key(&b->key, r, 1);
    sl_ckey_u32(&b->key, (uint32_t)r->f.status_code);
    return sl_cmap_put(received, &b->key, 1);
}

/* User-Agent of a request it originated (one Via), Server of a response,
 * unless the sender had received that same product text before. */
static int label_product(sl_corr_build *b, sl_cmap *received, const sl_sip_record *r)
{
    sl_sip_str prod = r->f.is_request ? r->f.user_agent : r->f.server;
    uint32_t src = sl_corr_host_of(b, &r->src), dst = sl_corr_host_of(b, &r->dst);
    bool relayed = false;
    if (!r->f.is_request && response_relayed(b, received, r, &relayed) < 0)
        return -SL_ENOMEM;
    if (!prod.p || prod.n == 0 || src == SL_CALLS_NONE || dst == SL_CALLS_NONE || relayed)
        return 0;
    if (product_key(b, src, prod) < 0)
        return -SL_ENOMEM;
    relayed = sl_cmap_get(received, &b->key) != SL_CALLS_NONE;
    if (product_key(b, dst, prod) < 0 || sl_cmap_put(received, &b->key, 1) < 0)
        return -SL_ENOMEM;
    if (relayed || (r->f.is_request && r->f.n_vias != 1))
        return 0;
    return label_from_product(&b->o->hosts[src], prod);
}

static int label_user(sl_corr_build *b)
{
    for (size_t i = 0; b->labels && i < b->n_recs; i++) {
        const sl_sip_record *r = b->recs[i];
        const sl_addr *a[2] = {&r->src, &r->dst};
        uint16_t p[2] = {r->sport, r->dport};
        for (int s = 0; s < 2; s++) {
            uint32_t h = sl_corr_host_of(b, a[s]);
            const char *l = sl_labels_find(b->labels, a[s], p[s]);
            if (h != SL_CALLS_NONE && l && b->o->hosts[h].source != SL_LABEL_USER &&
                set_label(&b->o->hosts[h], SL_LABEL_USER, l, strlen(l)) < 0)
                return -SL_ENOMEM;
        }
    }
    for (size_t h = 0; b->labels && h < b->o->n_hosts; h++) {
        const char *l = sl_labels_find(b->labels, &b->o->hosts[h].addr, 0);
        if (l && b->o->hosts[h].source != SL_LABEL_USER &&
            set_label(&b->o->hosts[h], SL_LABEL_USER, l, strlen(l)) < 0)
            return -SL_ENOMEM;
    }
    return 0;
}

int sl_corr_hosts_label(sl_corr_build *b)
{
    sl_cmap received = {0};
    int rc = label_user(b);
    for (size_t i = 0; rc == 0 && i < b->n_recs; i++)
        if (label_from_zone(b, b->recs[i]) < 0 || label_product(b, &received, b->recs[i]) < 0)
            rc = -SL_ENOMEM;
    sl_cmap_clear(&received);
    if (rc < 0)
        return rc;
    for (size_t h = 0; h < b->o->n_hosts; h++) {
        sl_host *host = &b->o->hosts[h];
        if (host->label)
            continue;
        char text[SL_ADDR_PORT_STRLEN];
        sl_addr_format(&host->addr, text, sizeof text);
        if (set_label(host, SL_LABEL_ADDRESS, text, strlen(text)) < 0)
            return -SL_ENOMEM;
    }
    return 0;
}
