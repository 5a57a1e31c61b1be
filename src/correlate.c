/* correlate.c - the driver: sl_calls_build() runs each step in order; sl_calls_free(); the lookups.
 * Messages are grouped into transactions (RFC 3261 17; corr_transactions.c),
 * dialogs (RFC 3261 12; corr_dialogs.c), legs and calls across hops
 * (Call-ID, RFC 7989 Session-ID, X-TAATag, Cisco-Guid, Via chain;
 * corr_calls.c), registrations per address of record (corr_registrations.c);
 * calls get their connections (corr_conns.c) and hosts their labels
 * (corr_hosts.c).  Every lookup goes through a hash of a byte key
 * (corr_map.c) and legs are joined with union-find, so the work is
 * O(n log n) in the number of messages whatever the capture holds. */
#include <stdlib.h>

#include "correlate_internal.h"

static bool is_register(const sl_sip_record *r)
{
    return r->f.is_request ? str_is(r->f.method, "REGISTER") : str_is(r->f.cseq_method, "REGISTER");
}

/* ---- pass over every message in frame order ------------------------------ */

static bool correlated(const sl_sip_record *r)
{
    return r->f.call_id.p && !r->f.malformed;
}

/* The Call-IDs that requests carry: a response with none of them (its
 * request, and every other request of its Call-ID, before the capture
 * started or filtered out) is listed as an orphan, not made a call. */
static int requests_index(sl_corr_build *b)
{
    for (size_t i = 0; i < b->n_recs; i++) {
        const sl_sip_record *r = b->recs[i];
        if (!r->f.is_request || !correlated(r) || is_register(r))
            continue;
        sl_ckey_reset(&b->key, 'Q');
        sl_ckey_str(&b->key, r->f.call_id);
        if (sl_cmap_get(&b->req_map, &b->key) == SL_CALLS_NONE && sl_cmap_put(&b->req_map, &b->key, 1) < 0)
            return -SL_ENOMEM;
    }
    return 0;
}

static bool orphan_response(sl_corr_build *b, const sl_sip_record *r)
{
    if (r->f.is_request || is_register(r))
        return false;
    sl_ckey_reset(&b->key, 'Q');
    sl_ckey_str(&b->key, r->f.call_id);
    return sl_cmap_get(&b->req_map, &b->key) == SL_CALLS_NONE;
}

static int place_message(sl_corr_build *b, size_t i)
{
    const sl_sip_record *r = b->recs[i];
    uint32_t leg = SL_CALLS_NONE, t;
    b->rec_leg[i] = SL_CALLS_NONE;
    b->rec_tx[i] = SL_CALLS_NONE;
    if (!correlated(r))
        return 0; /* nothing to correlate on; the model still lists it */
    if (orphan_response(b, r))
        return sl_corr_push_rec(&b->o->orphan_responses, &b->o->n_orphan_responses, r);
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
    /* a message read from an Expressway log alone has no frame: by time */
    if ((!x->rec->span.last_frame || !y->rec->span.last_frame) && x->rec->span.last_ts != y->rec->span.last_ts)
        return x->rec->span.last_ts < y->rec->span.last_ts ? -1 : 1;
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
    b->recs = malloc(n * sizeof *b->recs); // NOLINT(bugprone-sizeof-expression): an array of pointers, sized as such
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
    sl_cmap *maps[] = {&b->leg_map,  &b->tx_map,  &b->ack_map, &b->dlg_map,
                       &b->join_map, &b->via_map, &b->reg_map, &b->req_map};
    for (size_t i = 0; i < sizeof maps / sizeof *maps; i++) // NOLINT(bugprone-sizeof-expression): element count of an array of pointers
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
    if (order_records(b) < 0 || maps_reserve(b) < 0 || sl_corr_hosts_collect(b) < 0 || requests_index(b) < 0)
        return -SL_ENOMEM;
    for (size_t i = 0; i < b->n_recs; i++)
        if (place_message(b, i) < 0)
            return -SL_ENOMEM;
    if (sl_corr_calls_make(b) < 0 || sl_corr_calls_finish(b) < 0 || sl_corr_legs_conns(b) < 0 ||
        sl_corr_conns_attach(b) < 0 || rec_calls_make(b) < 0)
        return -SL_ENOMEM;
    if (!b->group_only && (sl_corr_registrations_make(b) < 0 || sl_corr_hosts_label(b) < 0))
        return -SL_ENOMEM;
    return 0;
}

static sl_calls *build(const sl_model *m, const sl_labels *labels, size_t max_messages_per_call, bool group_only)
{
    sl_calls_full *cf = calloc(1, sizeof *cf);
    if (!cf)
        return NULL;
    sl_corr_build b = {.m = m,
                       .labels = labels,
                       .max_messages = max_messages_per_call,
                       .group_only = group_only,
                       .cf = cf,
                       .o = &cf->pub};
    cf->pub.lookup = cf; /* the steps look hosts up as they go */
    int rc = build_all(&b);
    build_clear(&b);
    if (rc < 0) {
        sl_calls_free(&cf->pub);
        return NULL;
    }
    return &cf->pub;
}

sl_calls *sl_calls_build(const sl_model *m, const sl_labels *labels, size_t max_messages_per_call)
{
    return build(m, labels, max_messages_per_call, false);
}

sl_calls *sl_calls_group(const sl_model *m) { return build(m, NULL, 0, true); }

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
    free(c->ambiguous_conns);
    free(c->orphan_responses);
    sl_cmap_clear(&cf->host_map);
    free(cf->rec_call);
    free(cf);
}

int sl_calls_host_of(const sl_calls *c, const sl_addr *a)
{
    const sl_calls_full *cf = c->lookup;
    if (!cf)
        return -1;
    char buf[32]; /* tag + family + 16 bytes: never grows */
    sl_ckey k = {buf, 0, sizeof buf, false};
    sl_ckey_reset(&k, 'H');
    sl_ckey_addr(&k, a);
    uint32_t h = sl_cmap_get(&cf->host_map, &k);
    return h == SL_CALLS_NONE ? -1 : (int)h;
}

int sl_calls_call_of(const sl_calls *c, const sl_sip_record *r)
{
    const sl_calls_full *cf = c->lookup;
    if (!cf)
        return -1;
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
    case SL_CALL_CHALLENGED: return "challenged";
    }
    return "?";
}
