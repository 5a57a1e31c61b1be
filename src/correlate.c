/* correlate.c - SIP messages grouped into transactions (RFC 3261 17.1.3,
 * 17.2.3), dialogs (RFC 3261 12), legs, calls across hops (Call-ID, RFC 7989
 * Session-ID, X-TAATag, Cisco-Guid, Via chain) and registrations per address
 * of record; hosts with labels.  Every lookup goes through a hash of a byte
 * key and legs are joined with union-find, so the work is O(n log n) in the
 * number of messages whatever the capture holds. */
#include <stdlib.h>
#include <string.h>

#include "sipladder/text.h"
#include "correlate_internal.h"

static bool is_register(const sl_sip_record *r)
{
    return r->f.is_request ? str_is(r->f.method, "REGISTER") : str_is(r->f.cseq_method, "REGISTER");
}

/* An initial INVITE: no To tag yet. */
static bool is_initial_invite(const sl_sip_record *r)
{
    return r && r->f.is_request && str_is(r->f.method, "INVITE") && !r->f.to_tag.p;
}

/* ---- legs: one Call-ID between two addresses ----------------------------- */

static int sl_corr_leg_of(sl_corr_build *b, const sl_sip_record *r, uint32_t *out)
{
    sl_calls *o = b->o;
    uint32_t hs = sl_corr_host_of(b, &r->src), hd = sl_corr_host_of(b, &r->dst);
    uint32_t lo = hs < hd ? hs : hd, hi = hs < hd ? hd : hs;
    sl_ckey_reset(&b->key, 'L');
    sl_ckey_str(&b->key, r->f.call_id);
    sl_ckey_u32(&b->key, lo);
    sl_ckey_u32(&b->key, hi);
    uint32_t l = sl_cmap_get(&b->leg_map, &b->key);
    if (l == SL_CALLS_NONE) {
        if (o->n_legs >= SL_CALLS_NONE - 1 || sl_corr_grow(&o->legs, o->n_legs, sizeof *o->legs) < 0 ||
            sl_corr_grow(&b->leg_parent, o->n_legs, sizeof *b->leg_parent) < 0)
            return -SL_ENOMEM;
        l = (uint32_t)o->n_legs;
        memset(&o->legs[l], 0, sizeof o->legs[l]);
        o->legs[l].call_id = r->f.call_id;
        o->legs[l].host[0] = r->f.is_request ? hs : hd; /* the side that sent the request */
        o->legs[l].host[1] = r->f.is_request ? hd : hs;
        b->leg_parent[l] = l;
        if (sl_cmap_put(&b->leg_map, &b->key, l) < 0)
            return -SL_ENOMEM;
        o->n_legs++;
    }
    *out = l;
    return sl_corr_push_rec(&o->legs[l].messages, &o->legs[l].n_messages, r);
}

/* ---- pass over every message in frame order ------------------------------ */

static int place_message(sl_corr_build *b, size_t i)
{
    const sl_sip_record *r = b->recs[i];
    uint32_t leg = SL_CALLS_NONE, t;
    b->rec_leg[i] = SL_CALLS_NONE;
    b->rec_tx[i] = SL_CALLS_NONE;
    if (!r->f.call_id.p || r->f.malformed)
        return 0; /* nothing to correlate on; the model still lists it */
    if (!is_register(r) && sl_corr_leg_of(b, r, &leg) < 0)
        return -SL_ENOMEM;
    b->rec_leg[i] = leg;
    if (r->f.is_request) {
        bool made;
        if (sl_corr_tx_request(b, r, leg, &t, &made) < 0)
            return -SL_ENOMEM;
        if (made && leg != SL_CALLS_NONE && sl_corr_dialog_request(b, r, leg, t) < 0)
            return -SL_ENOMEM;
    } else {
        if (!r->f.cseq_method.p)
            return 0;
        if (sl_corr_tx_response(b, r, leg, &t) < 0)
            return -SL_ENOMEM;
        if (leg != SL_CALLS_NONE && sl_corr_dialog_response(b, r, t) < 0)
            return -SL_ENOMEM;
    }
    b->rec_tx[i] = t;
    return 0;
}

/* ---- calls: legs joined by union-find ------------------------------------ */

static uint32_t uf_find(uint32_t *parent, uint32_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

static void uf_union(uint32_t *parent, uint32_t a, uint32_t b)
{
    a = uf_find(parent, a);
    b = uf_find(parent, b);
    if (a != b)
        parent[a < b ? b : a] = a < b ? a : b; /* the earlier leg stays the root */
}

/* Join leg with the first leg that showed the same key. */
static int join_on(sl_corr_build *b, uint32_t leg)
{
    uint32_t other = sl_cmap_get(&b->join_map, &b->key);
    if (other != SL_CALLS_NONE) {
        uf_union(b->leg_parent, leg, other);
        return 0;
    }
    return sl_cmap_put(&b->join_map, &b->key, leg);
}

static bool uuid_is_zero(sl_sip_str s)
{
    for (size_t i = 0; i < s.n; i++)
        if (s.p[i] != '0' && s.p[i] != '-')
            return false;
    return true;
}

static int join_token(sl_corr_build *b, uint32_t leg, char tag, sl_sip_str v)
{
    if (!v.p || v.n == 0 || uuid_is_zero(v))
        return 0;
    sl_ckey_reset(&b->key, tag);
    sl_ckey_lower(&b->key, v);
    return join_on(b, leg);
}

static int join_message(sl_corr_build *b, size_t i)
{
    const sl_sip_record *r = b->recs[i];
    uint32_t leg = b->rec_leg[i];
    if (leg == SL_CALLS_NONE)
        return 0;
    if (join_token(b, leg, 'I', r->f.call_id) < 0 || join_token(b, leg, 'S', r->f.session_id_local) < 0 ||
        join_token(b, leg, 'S', r->f.session_id_remote) < 0 || join_token(b, leg, 'T', r->f.taatag) < 0 ||
        join_token(b, leg, 'G', r->f.cisco_guid) < 0)
        return -SL_ENOMEM;
    if (!r->f.is_request || r->f.n_vias == 0 || !is_rfc3261_branch(r->f.vias[0].branch))
        return 0;
    sl_corr_via_chain_key(&b->key, r, 0);
    if (sl_cmap_get(&b->via_map, &b->key) == SL_CALLS_NONE && sl_cmap_put(&b->via_map, &b->key, leg) < 0)
        return -SL_ENOMEM;
    return 0;
}

/* A request whose Vias below the top one are another request's whole Via
 * list was forwarded by the hop that added the top one. */
static void join_via_chain(sl_corr_build *b, size_t i)
{
    const sl_sip_record *r = b->recs[i];
    uint32_t leg = b->rec_leg[i];
    if (leg == SL_CALLS_NONE || !r->f.is_request || r->f.n_vias < 2 || !is_rfc3261_branch(r->f.vias[1].branch))
        return;
    sl_corr_via_chain_key(&b->key, r, 1);
    uint32_t other = sl_cmap_get(&b->via_map, &b->key);
    if (other != SL_CALLS_NONE)
        uf_union(b->leg_parent, leg, other);
}

static int sl_corr_calls_make(sl_corr_build *b)
{
    sl_calls *o = b->o;
    for (size_t i = 0; i < b->n_recs; i++)
        if (join_message(b, i) < 0)
            return -SL_ENOMEM;
    for (size_t i = 0; i < b->n_recs; i++)
        join_via_chain(b, i);
    if (!(b->leg_call = malloc((o->n_legs ? o->n_legs : 1) * sizeof *b->leg_call)))
        return -SL_ENOMEM;
    /* Legs are numbered by their first message, so calls are too. */
    for (uint32_t l = 0; l < o->n_legs; l++) {
        uint32_t root = uf_find(b->leg_parent, l);
        if (root == l) {
            if (sl_corr_grow(&o->calls, o->n_calls, sizeof *o->calls) < 0)
                return -SL_ENOMEM;
            memset(&o->calls[o->n_calls], 0, sizeof o->calls[o->n_calls]);
            o->calls[o->n_calls].id = (uint32_t)o->n_calls + 1;
            b->leg_call[l] = (uint32_t)o->n_calls++;
        } else {
            b->leg_call[l] = b->leg_call[root];
        }
        o->legs[l].call = b->leg_call[l];
        sl_call *c = &o->calls[b->leg_call[l]];
        if (sl_corr_push_u32(&c->legs, &c->n_legs, l) < 0)
            return -SL_ENOMEM;
    }
    for (size_t i = 0; i < b->n_recs; i++) {
        if (b->rec_leg[i] == SL_CALLS_NONE)
            continue;
        sl_call *c = &o->calls[b->leg_call[b->rec_leg[i]]];
        const sl_sip_record *r = b->recs[i];
        if (c->n_messages == 0 || r->span.first_ts < c->first_ts)
            c->first_ts = r->span.first_ts;
        if (c->n_messages == 0 || r->span.last_ts > c->last_ts)
            c->last_ts = r->span.last_ts;
        if (sl_corr_push_rec(&c->messages, &c->n_messages, r) < 0)
            return -SL_ENOMEM;
    }
    return 0;
}

/* ---- hops and outcomes --------------------------------------------------- */

typedef struct hop_order {
    uint64_t invite_frame, first_frame;
    uint32_t leg;
} hop_order;

static int by_hop(const void *a, const void *b)
{
    const hop_order *x = a, *y = b;
    if (x->invite_frame != y->invite_frame)
        return x->invite_frame < y->invite_frame ? -1 : 1;
    if (x->first_frame != y->first_frame)
        return x->first_frame < y->first_frame ? -1 : 1;
    return x->leg < y->leg ? -1 : x->leg > y->leg;
}

static hop_order leg_hop_key(const sl_leg *l, uint32_t index)
{
    hop_order h = {UINT64_MAX, l->n_messages ? l->messages[0]->span.last_frame : UINT64_MAX, index};
    for (size_t i = 0; i < l->n_messages; i++) {
        if (l->messages[i]->f.is_request && str_is(l->messages[i]->f.method, "INVITE")) {
            h.invite_frame = l->messages[i]->span.last_frame;
            break;
        }
    }
    return h;
}

static int order_hops(sl_calls *o, sl_call *c)
{
    hop_order *h = malloc(c->n_legs * sizeof *h);
    if (!h)
        return -SL_ENOMEM;
    for (size_t i = 0; i < c->n_legs; i++)
        h[i] = leg_hop_key(&o->legs[c->legs[i]], c->legs[i]);
    qsort(h, c->n_legs, sizeof *h, by_hop);
    for (size_t i = 0; i < c->n_legs; i++) {
        c->legs[i] = h[i].leg;
        o->legs[h[i].leg].hop = (uint32_t)i;
    }
    free(h);
    return 0;
}

/* The last initial INVITE transaction of the caller's leg: after a 401/407
 * or a 3xx the caller sends a new INVITE with the same Call-ID. */
static const sl_transaction *deciding_invite(const sl_calls *o, uint32_t leg)
{
    const sl_leg *l = &o->legs[leg];
    for (size_t i = l->n_transactions; i-- > 0;) {
        const sl_transaction *t = &o->transactions[l->transactions[i]];
        if (is_initial_invite(t->request))
            return t;
    }
    return NULL;
}

static void decide(sl_call *c, sl_call_outcome outcome, const sl_sip_record *by)
{
    c->outcome = outcome;
    c->decided_by = by;
    c->final_status = by && !by->f.is_request ? by->f.status_code : 0;
}

static void outcome_of_invite(sl_call *c, const sl_transaction *t)
{
    for (size_t i = 0; i < t->n_responses; i++) {
        int s = t->responses[i]->f.status_code;
        if (s >= 200 && s < 300) {
            decide(c, SL_CALL_ANSWERED, t->responses[i]);
            return;
        }
    }
    if (t->final && t->final->f.status_code == 487 && t->cancel)
        decide(c, SL_CALL_CANCELLED, t->final);
    else if (t->final)
        decide(c, SL_CALL_REJECTED, t->final);
    else if (t->cancel)
        decide(c, SL_CALL_CANCELLED, t->cancel);
    else
        decide(c, SL_CALL_NO_ANSWER, NULL);
}

/* No INVITE: the first request says who talked to whom, its final response
 * what came of it (an OPTIONS ping's 404, a MESSAGE's 200). */
static void outcome_other(const sl_calls *o, sl_call *c)
{
    const sl_leg *l = &o->legs[c->legs[0]];
    decide(c, SL_CALL_OTHER, NULL);
    for (size_t i = 0; i < l->n_transactions; i++) {
        const sl_transaction *t = &o->transactions[l->transactions[i]];
        const sl_sip_record *r = t->request ? t->request : t->responses[0];
        c->caller = r->f.from_uri; /* a response echoes From and To */
        c->callee = r->f.to_uri.p || !t->request ? r->f.to_uri : r->f.request_uri;
        if (t->final)
            decide(c, SL_CALL_OTHER, t->final);
        return;
    }
}

static int sl_corr_calls_finish(sl_corr_build *b)
{
    sl_calls *o = b->o;
    for (size_t k = 0; k < o->n_calls; k++) {
        sl_call *c = &o->calls[k];
        if (order_hops(o, c) < 0)
            return -SL_ENOMEM;
        for (size_t i = 0; i < c->n_messages && !c->initial; i++)
            if (is_initial_invite(c->messages[i]))
                c->initial = c->messages[i];
        if (!c->initial) {
            outcome_other(o, c);
            continue;
        }
        c->caller = c->initial->f.from_uri;
        c->callee = c->initial->f.to_uri.p ? c->initial->f.to_uri : c->initial->f.request_uri;
        for (size_t i = 0; i < c->n_legs; i++) {
            const sl_transaction *t = deciding_invite(o, c->legs[i]);
            if (t) {
                outcome_of_invite(c, t);
                break;
            }
        }
    }
    return 0;
}

/* ---- connections --------------------------------------------------------- */

static int sl_corr_legs_conns(sl_corr_build *b)
{
    sl_calls *o = b->o;
    for (size_t i = 0; i < b->n_recs; i++) {
        if (b->rec_leg[i] == SL_CALLS_NONE)
            continue;
        sl_leg *l = &o->legs[b->rec_leg[i]];
        uint32_t conn = b->recs[i]->conn_index;
        if (conn && (l->n_conns == 0 || l->conns[l->n_conns - 1] != conn) && sl_corr_push_u32(&l->conns, &l->n_conns, conn) < 0)
            return -SL_ENOMEM;
    }
    for (size_t i = 0; i < o->n_legs; i++) {
        sl_leg *l = &o->legs[i];
        sl_corr_sort_unique(l->conns, &l->n_conns);
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
        x->hc[i].max_last = first || x->hc[i - 1].max_last < x->hc[i].last ? x->hc[i].last : x->hc[i - 1].max_last;
        x->start[x->hc[i].host + 1] = i + 1;
    }
    for (size_t h = 1; h <= o->n_hosts; h++)
        if (x->start[h] < x->start[h - 1])
            x->start[h] = x->start[h - 1];
    return 0;
}

/* Up to two calls of host h running within [lo, hi]. */
static void host_candidates(const host_index *x, uint32_t h, sl_time_ns lo, sl_time_ns hi, uint32_t *cand, size_t *n)
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

#define CONN_SLACK_NS (2 * SL_NS_PER_SEC)

static int sl_corr_conns_attach(sl_corr_build *b)
{
    sl_calls *o = b->o;
    const sl_model *m = b->m;
    bool *has_sip = calloc(m->n_conns + 1, sizeof *has_sip);
    host_index x;
    int rc = host_index_make(o, &x);
    for (size_t i = 0; has_sip && i < b->n_recs; i++)
        if (b->recs[i]->conn_index <= m->n_conns)
            has_sip[b->recs[i]->conn_index] = true;
    for (size_t i = 0; rc == 0 && has_sip && i < m->n_conns; i++) {
        const sl_conn *cn = &m->conns[i];
        if (cn->info.transport != SL_TRANSPORT_TCP || has_sip[cn->index <= m->n_conns ? cn->index : 0])
            continue;
        uint32_t cand[2];
        size_t n = 0;
        for (int s = 0; s < 2 && n < 2; s++) {
            uint32_t h = sl_corr_host_of(b, &cn->info.addr[s]);
            if (h != SL_CALLS_NONE && !(s == 1 && sl_addr_equal(&cn->info.addr[0], &cn->info.addr[1])))
                host_candidates(&x, h, cn->first_ts - CONN_SLACK_NS, cn->last_ts + CONN_SLACK_NS, cand, &n);
        }
        sl_call *c = n == 1 ? &o->calls[cand[0]] : NULL;
        rc = c ? sl_corr_push_u32(&c->conns, &c->n_conns, cn->index) : sl_corr_push_u32(&o->orphan_conns, &o->n_orphan_conns, cn->index);
    }
    for (size_t k = 0; rc == 0 && k < o->n_calls; k++)
        sl_corr_sort_unique(o->calls[k].conns, &o->calls[k].n_conns);
    bool ok = has_sip != NULL;
    free(x.hc);
    free(x.start);
    free(has_sip);
    return ok ? rc : -SL_ENOMEM;
}

/* ---- registrations per address of record --------------------------------- */

static const sl_sip_record *tx_first(const sl_transaction *t)
{
    return t->request ? t->request : t->responses[0];
}

static int64_t granted_expires(const sl_sip_record *ok)
{
    for (size_t i = 0; i < ok->f.n_contacts; i++) {
        sl_sip_str v;
        const sl_sip_addr *a = &ok->f.contacts[i];
        if (sl_sip_param_get(a->params, a->n_params, "expires", &v) && v.p && v.n > 0 && v.n < 12) {
            int64_t e = 0;
            size_t k = 0;
            while (k < v.n && v.p[k] >= '0' && v.p[k] <= '9')
                e = e * 10 + (v.p[k++] - '0');
            if (k == v.n)
                return e;
        }
    }
    return ok->f.expires;
}

/* The 401/407 -> credentials -> 200 (or 401/403 again) story. */
static void registration_story(const sl_calls *o, sl_registration *g)
{
    bool challenged = false, creds_refused = false;
    g->expires = -1;
    for (size_t i = 0; i < g->n_transactions; i++) {
        const sl_transaction *t = &o->transactions[g->transactions[i]];
        int s = t->final ? t->final->f.status_code : 0;
        bool creds = t->request && (t->request->f.has_authorization || t->request->f.has_proxy_authorization);
        if (t->request && t->request->f.mra_ar_sk_offered)
            g->ar_sk_offered = true;
        for (size_t k = 0; k < t->n_responses; k++)
            if (t->responses[k]->f.ar_sk_supported)
                g->ar_sk_supported = true;
        if (creds && challenged)
            g->auth_challenged = true;
        if (creds && (s == 401 || s == 403 || s == 407))
            creds_refused = true;
        if (s == 401 || s == 407)
            challenged = true;
        if (s) {
            g->last_status = s;
            if (s >= 200 && s < 300)
                g->expires = granted_expires(t->final);
        }
    }
    g->auth_failed = creds_refused && !(g->last_status >= 200 && g->last_status < 300);
}

static int sl_corr_registrations_make(sl_corr_build *b)
{
    sl_calls *o = b->o;
    for (uint32_t i = 0; i < o->n_transactions; i++) {
        const sl_transaction *t = &o->transactions[i];
        if (t->leg != SL_CALLS_NONE)
            continue;
        const sl_sip_record *r = tx_first(t);
        sl_ckey_reset(&b->key, 'R');
        sl_ckey_str(&b->key, r->f.to_uri);
        uint32_t g = sl_cmap_get(&b->reg_map, &b->key);
        if (g == SL_CALLS_NONE) {
            if (sl_corr_grow(&o->registrations, o->n_registrations, sizeof *o->registrations) < 0)
                return -SL_ENOMEM;
            g = (uint32_t)o->n_registrations++;
            sl_registration *x = &o->registrations[g];
            memset(x, 0, sizeof *x);
            x->aor = r->f.to_uri;
            if (sl_cmap_put(&b->reg_map, &b->key, g) < 0) /* before sl_corr_host_of() reuses the key */
                return -SL_ENOMEM;
            x->host[0] = sl_corr_host_of(b, r->f.is_request ? &r->src : &r->dst);
            x->host[1] = sl_corr_host_of(b, r->f.is_request ? &r->dst : &r->src);
        }
        sl_registration *x = &o->registrations[g];
        if (sl_corr_push_u32(&x->transactions, &x->n_transactions, i) < 0)
            return -SL_ENOMEM;
    }
    for (size_t g = 0; g < o->n_registrations; g++)
        registration_story(o, &o->registrations[g]);
    return 0;
}

/* ---- record -> call lookup ----------------------------------------------- */

static int by_rec(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const sl_rec_call *)a)->rec, y = (uintptr_t)((const sl_rec_call *)b)->rec;
    return x < y ? -1 : x > y;
}

static int rec_calls_make(sl_corr_build *b)
{
    sl_calls_full *cf = b->cf;
    if (!(cf->rec_call = malloc((b->n_recs ? b->n_recs : 1) * sizeof *cf->rec_call)))
        return -SL_ENOMEM;
    for (size_t i = 0; i < b->n_recs; i++)
        if (b->rec_leg[i] != SL_CALLS_NONE)
            cf->rec_call[cf->n_rec_call++] = (sl_rec_call){b->recs[i], b->leg_call[b->rec_leg[i]]};
    qsort(cf->rec_call, cf->n_rec_call, sizeof *cf->rec_call, by_rec);
    return 0;
}

/* ---- the whole build ----------------------------------------------------- */

typedef struct ordered {
    const sl_sip_record *rec;
    size_t seq;
} ordered;

static int by_frame(const void *a, const void *b)
{
    const ordered *x = a, *y = b;
    if (x->rec->span.last_frame != y->rec->span.last_frame)
        return x->rec->span.last_frame < y->rec->span.last_frame ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Messages by the frame that completed them (as the messages view). */
static int order_records(sl_corr_build *b)
{
    const sl_model *m = b->m;
    size_t n = m->n_sip ? m->n_sip : 1;
    ordered *tmp = malloc(n * sizeof *tmp);
    b->recs = malloc(n * sizeof *b->recs);
    b->rec_leg = malloc(n * sizeof *b->rec_leg);
    b->rec_tx = malloc(n * sizeof *b->rec_tx);
    if (!tmp || !b->recs || !b->rec_leg || !b->rec_tx) {
        free(tmp);
        return -SL_ENOMEM;
    }
    for (size_t i = 0; i < m->n_sip; i++)
        tmp[i] = (ordered){m->sip[i], i};
    qsort(tmp, m->n_sip, sizeof *tmp, by_frame);
    for (size_t i = 0; i < m->n_sip; i++)
        b->recs[i] = tmp[i].rec;
    b->n_recs = m->n_sip;
    free(tmp);
    return 0;
}

static void build_clear(sl_corr_build *b)
{
    free(b->recs);
    free(b->rec_leg);
    free(b->rec_tx);
    free(b->tx_last_copy);
    free(b->leg_parent);
    free(b->leg_call);
    free(b->key.p);
    sl_cmap *maps[] = {&b->leg_map, &b->tx_map, &b->ack_map, &b->dlg_map, &b->join_map, &b->via_map, &b->reg_map};
    for (size_t i = 0; i < sizeof maps / sizeof *maps; i++)
        sl_cmap_clear(maps[i]);
}

/* Most captures hold a few messages per transaction and per call: room for
 * that up front spares the rehashing of growing maps. */
static int maps_reserve(sl_corr_build *b)
{
    size_t n = b->n_recs / 2;
    if (sl_cmap_reserve(&b->tx_map, n, 48) < 0 || sl_cmap_reserve(&b->join_map, n, 40) < 0 ||
        sl_cmap_reserve(&b->via_map, n, 40) < 0 || sl_cmap_reserve(&b->leg_map, n / 2, 40) < 0 ||
        sl_cmap_reserve(&b->dlg_map, n / 2, 48) < 0)
        return -SL_ENOMEM;
    return 0;
}

static int build_all(sl_corr_build *b)
{
    if (order_records(b) < 0 || maps_reserve(b) < 0 || sl_corr_hosts_collect(b) < 0)
        return -SL_ENOMEM;
    for (size_t i = 0; i < b->n_recs; i++)
        if (place_message(b, i) < 0)
            return -SL_ENOMEM;
    if (sl_corr_calls_make(b) < 0 || sl_corr_calls_finish(b) < 0 || sl_corr_legs_conns(b) < 0 || sl_corr_conns_attach(b) < 0 ||
        sl_corr_registrations_make(b) < 0 || rec_calls_make(b) < 0 || sl_corr_hosts_label(b) < 0)
        return -SL_ENOMEM;
    return 0;
}

sl_calls *sl_calls_build(const sl_model *m, const sl_labels *labels)
{
    sl_calls_full *cf = calloc(1, sizeof *cf);
    if (!cf)
        return NULL;
    sl_corr_build b = {.m = m, .labels = labels, .cf = cf, .o = &cf->pub};
    int rc = build_all(&b);
    build_clear(&b);
    if (rc < 0) {
        sl_calls_free(&cf->pub);
        return NULL;
    }
    return &cf->pub;
}

void sl_calls_free(sl_calls *c)
{
    if (!c)
        return;
    sl_calls_full *cf = (sl_calls_full *)c;
    for (size_t i = 0; i < c->n_hosts; i++) {
        free(c->hosts[i].label);
        free(c->hosts[i].product);
    }
    for (size_t i = 0; i < c->n_transactions; i++)
        free(c->transactions[i].responses);
    for (size_t i = 0; i < c->n_dialogs; i++)
        free(c->dialogs[i].transactions);
    for (size_t i = 0; i < c->n_legs; i++) {
        free(c->legs[i].messages);
        free(c->legs[i].conns);
        free(c->legs[i].transactions);
        free(c->legs[i].dialogs);
    }
    for (size_t i = 0; i < c->n_calls; i++) {
        free(c->calls[i].legs);
        free(c->calls[i].messages);
        free(c->calls[i].conns);
    }
    for (size_t i = 0; i < c->n_registrations; i++)
        free(c->registrations[i].transactions);
    free(c->hosts);
    free(c->transactions);
    free(c->dialogs);
    free(c->legs);
    free(c->calls);
    free(c->registrations);
    free(c->orphan_conns);
    sl_cmap_clear(&cf->host_map);
    free(cf->rec_call);
    free(cf);
}

int sl_calls_host_of(const sl_calls *c, const sl_addr *a)
{
    const sl_calls_full *cf = (const sl_calls_full *)c;
    char buf[32]; /* tag + family + 16 bytes: never grows */
    sl_ckey k = {buf, 0, sizeof buf, false};
    sl_ckey_reset(&k, 'H');
    sl_ckey_addr(&k, a);
    uint32_t h = sl_cmap_get(&cf->host_map, &k);
    return h == SL_CALLS_NONE ? -1 : (int)h;
}

int sl_calls_call_of(const sl_calls *c, const sl_sip_record *r)
{
    const sl_calls_full *cf = (const sl_calls_full *)c;
    size_t a = 0, z = cf->n_rec_call;
    while (a < z) {
        size_t mid = a + (z - a) / 2;
        uintptr_t at = (uintptr_t)cf->rec_call[mid].rec;
        if (at == (uintptr_t)r)
            return (int)cf->rec_call[mid].call;
        if (at < (uintptr_t)r)
            a = mid + 1;
        else
            z = mid;
    }
    return -1;
}

const char *sl_call_outcome_name(sl_call_outcome o)
{
    switch (o) {
    case SL_CALL_ANSWERED: return "answered";
    case SL_CALL_REJECTED: return "rejected";
    case SL_CALL_CANCELLED: return "cancelled";
    case SL_CALL_NO_ANSWER: return "no-answer";
    case SL_CALL_OTHER: return "other";
    }
    return "?";
}
