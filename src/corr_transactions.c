/* corr_transactions.c - requests, their copies and responses grouped into transactions (RFC 3261 17). */
#include "correlate_internal.h"

/* The sent-by port, the transport's default when absent (RFC 3261 18.2.2:
 * "192.0.2.1" and "192.0.2.1:5060" are the same sent-by over UDP). */
static sl_sip_str via_port(const sl_sip_via *v)
{
    if (v->port.p && v->port.n)
        return v->port;
    bool tls = str_is(v->transport, "TLS") || str_is(v->transport, "tls");
    return tls ? (sl_sip_str){"5061", 4} : (sl_sip_str){"5060", 4};
}

/* A request's Vias from `from` down: branch and sent-by of each. */
void sl_corr_via_chain_key(sl_ckey *k, const sl_sip_record *r, size_t from)
{
    sl_ckey_reset(k, 'V');
    for (size_t i = from; i < r->f.n_vias; i++) {
        const sl_sip_via *v = &r->f.vias[i];
        sl_ckey_str(k, v->branch);
        sl_ckey_lower(k, v->host);
        sl_ckey_str(k, via_port(v));
    }
}

static const sl_sip_str M_INVITE = {"INVITE", 6}, M_ACK = {"ACK", 3}, M_CANCEL = {"CANCEL", 6};

/* RFC 3261 17.2.3: top Via branch + sent-by + method; for a pre-3261 branch,
 * Call-ID + CSeq number + From tag + top Via (the older rule). */
static void tx_key(sl_ckey *k, const sl_sip_record *r, sl_sip_str method)
{
    const sl_sip_via *v = r->f.n_vias ? &r->f.vias[0] : NULL;
    sl_sip_str none = {NULL, 0};
    if (v && is_rfc3261_branch(v->branch)) {
        sl_ckey_reset(k, 'B');
        sl_ckey_str(k, v->branch);
    } else {
        sl_ckey_reset(k, 'C');
        sl_ckey_str(k, r->f.call_id);
        sl_ckey_u32(k, r->f.cseq);
        sl_ckey_str(k, r->f.from_tag);
        sl_ckey_str(k, v ? v->branch : none);
    }
    sl_ckey_lower(k, v ? v->host : none);
    sl_ckey_str(k, v ? via_port(v) : none);
    sl_ckey_str(k, method);
}

static uint32_t tx_find(sl_corr_build *b, const sl_sip_record *r, sl_sip_str method)
{
    tx_key(&b->key, r, method);
    return sl_cmap_get(&b->tx_map, &b->key);
}

/* RFC 3261 17.1.3: the client matches a response on branch and CSeq method
 * alone; the sent-by is a server-side check.  A NAT or ALG that rewrites
 * the Via port on the way back (5260 -> 5860;rport=5260) leaves only this. */
static void branch_key(sl_ckey *k, const sl_sip_record *r, sl_sip_str method)
{
    sl_ckey_reset(k, 'b');
    sl_ckey_str(k, r->f.vias[0].branch);
    sl_ckey_str(k, method);
}

static int tx_put(sl_corr_build *b, const sl_sip_record *r, sl_sip_str method, uint32_t t)
{
    tx_key(&b->key, r, method);
    if (sl_cmap_put(&b->tx_map, &b->key, t) < 0)
        return -SL_ENOMEM;
    if (!r->f.is_request || !r->f.n_vias || !is_rfc3261_branch(r->f.vias[0].branch))
        return 0;
    branch_key(&b->key, r, method);
    return sl_cmap_put(&b->tx_map, &b->key, t);
}

/* A response's transaction when its Via sent-by was rewritten: by branch
 * alone, on the same leg. */
static uint32_t tx_find_by_branch(sl_corr_build *b, const sl_sip_record *r, uint32_t leg)
{
    if (!r->f.n_vias || !is_rfc3261_branch(r->f.vias[0].branch))
        return SL_CALLS_NONE;
    branch_key(&b->key, r, r->f.cseq_method);
    uint32_t t = sl_cmap_get(&b->tx_map, &b->key);
    return t != SL_CALLS_NONE && b->o->transactions[t].leg == leg ? t : SL_CALLS_NONE;
}

/* The key that finds an INVITE from its 2xx ACK: the leg (a proxy that
 * keeps Call-ID and tags shows one dialog on two hops), the dialog and the
 * CSeq. */
void sl_corr_ack_key(sl_ckey *k, const sl_sip_record *r, uint32_t leg)
{
    sl_ckey_reset(k, 'A');
    sl_ckey_u32(k, leg);
    sl_ckey_str(k, r->f.call_id);
    sl_ckey_str(k, r->f.from_tag);
    sl_ckey_str(k, r->f.to_tag);
    sl_ckey_u32(k, r->f.cseq);
}

static int tx_new(sl_corr_build *b, const sl_sip_record *req, uint32_t leg, uint32_t *out)
{
    sl_calls *o = b->o;
    if (o->n_transactions >= SL_CALLS_NONE - 1 ||
        sl_corr_grow(&o->transactions, o->n_transactions, sizeof *o->transactions) < 0 ||
        sl_corr_grow(&b->tx_last_copy, o->n_transactions, sizeof *b->tx_last_copy) < 0)
        return -SL_ENOMEM;
    uint32_t t = (uint32_t)o->n_transactions++;
    memset(&o->transactions[t], 0, sizeof o->transactions[t]);
    o->transactions[t].leg = leg;
    o->transactions[t].dialog = SL_CALLS_NONE;
    o->transactions[t].request = req;
    o->transactions[t].request_copies = req ? 1 : 0;
    b->tx_last_copy[t] = req ? req->span.last_ts : 0;
    *out = t;
    if (leg == SL_CALLS_NONE)
        return 0;
    return sl_corr_push_u32(&o->legs[leg].transactions, &o->legs[leg].n_transactions, t);
}

/* Another copy of a request: resent by its sender, or the same message seen
 * again by the capture within SL_CALLS_DUPLICATE_NS. */
static void tx_copy(sl_corr_build *b, uint32_t t, const sl_sip_record *r)
{
    sl_transaction *x = &b->o->transactions[t];
    if (!x->request) {
        x->request = r;
        x->request_copies = 1;
    } else if (r->span.last_ts - b->tx_last_copy[t] < SL_CALLS_DUPLICATE_NS) {
        x->duplicates++;
    } else {
        x->request_copies++;
    }
    b->tx_last_copy[t] = r->span.last_ts;
}

/* Found, or made and indexed under `method`; *made says which. */
static int tx_request_plain(sl_corr_build *b, const sl_sip_record *r, sl_sip_str method, uint32_t leg,
                            uint32_t *out, bool *made)
{
    uint32_t t = tx_find(b, r, method);
    *made = t == SL_CALLS_NONE;
    if (!*made) {
        tx_copy(b, t, r);
        *out = t;
        return 0;
    }
    if (tx_new(b, r, leg, out) < 0 || tx_put(b, r, method, *out) < 0)
        return -SL_ENOMEM;
    return 0;
}

/* ACK of a non-2xx: part of its INVITE (same branch).  ACK of a 2xx: a
 * transaction of its own, and the ack of the dialog's INVITE with its CSeq. */
static int tx_ack(sl_corr_build *b, const sl_sip_record *r, uint32_t leg, uint32_t *out, bool *made)
{
    sl_transaction *txs = b->o->transactions;
    uint32_t t = tx_find(b, r, M_INVITE);
    if (t != SL_CALLS_NONE) {
        if (!txs[t].ack)
            txs[t].ack = r;
        *made = false;
        *out = t;
        return 0;
    }
    sl_corr_ack_key(&b->key, r, leg);
    uint32_t inv = sl_cmap_get(&b->ack_map, &b->key);
    if (inv != SL_CALLS_NONE && !txs[inv].ack)
        txs[inv].ack = r;
    return tx_request_plain(b, r, M_ACK, leg, out, made);
}

/* CANCEL: part of the INVITE it cancels (same branch), else its own. */
static int tx_cancel(sl_corr_build *b, const sl_sip_record *r, uint32_t leg, uint32_t *out, bool *made)
{
    uint32_t t = tx_find(b, r, M_INVITE);
    if (t == SL_CALLS_NONE)
        return tx_request_plain(b, r, M_CANCEL, leg, out, made);
    if (!b->o->transactions[t].cancel)
        b->o->transactions[t].cancel = r;
    b->o->transactions[t].cancel_copies++;
    *made = false;
    *out = t;
    return tx_put(b, r, M_CANCEL, t);
}

int sl_corr_tx_request(sl_corr_build *b, const sl_sip_record *r, uint32_t leg, uint32_t *out, bool *made)
{
    if (str_is(r->f.method, "ACK"))
        return tx_ack(b, r, leg, out, made);
    if (str_is(r->f.method, "CANCEL"))
        return tx_cancel(b, r, leg, out, made);
    return tx_request_plain(b, r, r->f.method, leg, out, made);
}

/* The transaction a response belongs to (made with no request when the
 * request was not captured). */
int sl_corr_tx_response(sl_corr_build *b, const sl_sip_record *r, uint32_t leg, uint32_t *out)
{
    uint32_t t = tx_find(b, r, r->f.cseq_method);
    if (t == SL_CALLS_NONE)
        t = tx_find_by_branch(b, r, leg);
    sl_transaction *txs = b->o->transactions;
    if (t != SL_CALLS_NONE && str_is(r->f.cseq_method, "CANCEL") && txs[t].cancel) {
        if (!txs[t].cancel_response)
            txs[t].cancel_response = r;
        *out = t;
        return 0;
    }
    if (t == SL_CALLS_NONE && (tx_new(b, NULL, leg, &t) < 0 || tx_put(b, r, r->f.cseq_method, t) < 0))
        return -SL_ENOMEM;
    sl_transaction *x = &b->o->transactions[t];
    if (sl_corr_push_rec(&x->responses, &x->n_responses, r) < 0)
        return -SL_ENOMEM;
    if (r->f.status_code >= 200 && !x->final)
        x->final = r;
    *out = t;
    return 0;
}
