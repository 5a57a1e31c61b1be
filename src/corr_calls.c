/* corr_calls.c - legs (one Call-ID between two hosts) joined into calls; hops and outcomes. */
#include <stdlib.h>
#include <string.h>

#include "correlate_internal.h"

/* ---- legs: one Call-ID between two addresses ----------------------------- */

int sl_corr_leg_of(sl_corr_build *b, const sl_sip_record *r, uint32_t *out)
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
    if (leg == SL_CALLS_NONE || !r->f.is_request || r->f.n_vias < 2 ||
        !is_rfc3261_branch(r->f.vias[1].branch))
        return;
    sl_corr_via_chain_key(&b->key, r, 1);
    uint32_t other = sl_cmap_get(&b->via_map, &b->key);
    if (other != SL_CALLS_NONE)
        uf_union(b->leg_parent, leg, other);
}

/* Each leg joins the call of its root; legs are numbered by their first
 * message, so calls are too. */
static int calls_number(sl_corr_build *b)
{
    sl_calls *o = b->o;
    if (!(b->leg_call = malloc((o->n_legs ? o->n_legs : 1) * sizeof *b->leg_call)))
        return -SL_ENOMEM;
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
    return 0;
}

/* Every message of a call, by frame, and the time it spans. */
static int calls_messages(sl_corr_build *b)
{
    sl_calls *o = b->o;
    for (size_t i = 0; i < b->n_recs; i++) {
        if (b->rec_leg[i] == SL_CALLS_NONE)
            continue;
        sl_call *c = &o->calls[b->leg_call[b->rec_leg[i]]];
        const sl_sip_record *r = b->recs[i];
        bool first = c->n_messages == 0 && c->messages_not_kept == 0;
        if (first || r->span.first_ts < c->first_ts)
            c->first_ts = r->span.first_ts;
        if (first || r->span.last_ts > c->last_ts)
            c->last_ts = r->span.last_ts;
        /* --max-call-messages: the first ones are kept, the rest counted
         * (the views say so); the call's times still span them all. */
        if (b->max_messages && c->n_messages >= b->max_messages)
            c->messages_not_kept++;
        else if (sl_corr_push_rec(&c->messages, &c->n_messages, r) < 0)
            return -SL_ENOMEM;
    }
    return 0;
}

int sl_corr_calls_make(sl_corr_build *b)
{
    for (size_t i = 0; i < b->n_recs; i++)
        if (join_message(b, i) < 0)
            return -SL_ENOMEM;
    for (size_t i = 0; i < b->n_recs; i++)
        join_via_chain(b, i);
    if (calls_number(b) < 0 || calls_messages(b) < 0)
        return -SL_ENOMEM;
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
    uint32_t next = 0;
    for (size_t i = 0; i < c->n_legs; i++) {
        c->legs[i] = h[i].leg;
        sl_leg *l = &o->legs[h[i].leg];
        /* The same sender with the same Call-ID to another host is another
         * target for the same request (SRV/DNS failover, a serial fork),
         * not one hop further: it shares the hop of the first. */
        const sl_leg *first = NULL;
        for (size_t j = 0; j < i && !first; j++) {
            const sl_leg *e = &o->legs[c->legs[j]];
            if (e->host[0] == l->host[0] && e->call_id.n == l->call_id.n &&
                memcmp(e->call_id.p, l->call_id.p, l->call_id.n) == 0)
                first = e;
        }
        l->hop = first ? first->hop : next++;
    }
    free(h);
    return 0;
}

/* An initial INVITE: no To tag yet. */
static bool is_initial_invite(const sl_sip_record *r)
{
    return r && r->f.is_request && str_is(r->f.method, "INVITE") && !r->f.to_tag.p;
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
    else if (t->final && (t->final->f.status_code == 401 || t->final->f.status_code == 407))
        decide(c, SL_CALL_CHALLENGED, t->final); /* a challenge, not a refusal: the retry was not captured */
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

int sl_corr_calls_finish(sl_corr_build *b)
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
        uint32_t first_hop = 0;
        /* The caller's hop decides; when it tried several targets (same
         * hop), one that answered makes the call answered, else the last
         * target tried decides. */
        bool decided = false;
        for (size_t i = 0; i < c->n_legs && !(decided && c->outcome == SL_CALL_ANSWERED); i++) {
            const sl_transaction *t = deciding_invite(o, c->legs[i]);
            uint32_t hop = o->legs[c->legs[i]].hop;
            if (!t || (decided && hop != first_hop))
                continue;
            outcome_of_invite(c, t);
            first_hop = hop;
            decided = true;
        }
    }
    return 0;
}
