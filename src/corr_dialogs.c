/* corr_dialogs.c - dialogs (RFC 3261 12): Call-ID and both tags per leg, early, forked, ended. */
#include "correlate_internal.h"

/* The leg is part of the key: a proxy that keeps Call-ID and tags shows the
 * same identifiers on both of its hops.  Connections and ports are not. */
static void dialog_key(sl_ckey *k, uint32_t leg, sl_sip_str call_id, sl_sip_str a, sl_sip_str b)
{
    bool swap = b.p && (!a.p || a.n > b.n || (a.n == b.n && memcmp(a.p, b.p, a.n) > 0));
    sl_ckey_reset(k, 'D');
    sl_ckey_u32(k, leg);
    sl_ckey_str(k, call_id);
    sl_ckey_str(k, swap ? b : a);
    sl_ckey_str(k, swap ? a : b);
}

static int dialog_new(sl_corr_build *b, const sl_sip_record *r, uint32_t leg, sl_sip_str to_tag,
                      uint32_t *out)
{
    sl_calls *o = b->o;
    if (o->n_dialogs >= SL_CALLS_NONE - 1 || sl_corr_grow(&o->dialogs, o->n_dialogs, sizeof *o->dialogs) < 0)
        return -SL_ENOMEM;
    uint32_t d = (uint32_t)o->n_dialogs++;
    sl_dialog *x = &o->dialogs[d];
    memset(x, 0, sizeof *x);
    x->leg = leg;
    x->call_id = r->f.call_id;
    x->from_tag = r->f.from_tag;
    x->to_tag = to_tag;
    *out = d;
    if (sl_corr_push_u32(&o->legs[leg].dialogs, &o->legs[leg].n_dialogs, d) < 0)
        return -SL_ENOMEM;
    if (!to_tag.p)
        return 0;
    dialog_key(&b->key, leg, r->f.call_id, r->f.from_tag, to_tag);
    return sl_cmap_put(&b->dlg_map, &b->key, d);
}

static int dialog_add_tx(sl_corr_build *b, uint32_t d, uint32_t t)
{
    sl_dialog *x = &b->o->dialogs[d];
    if (x->n_transactions && x->transactions[x->n_transactions - 1] == t)
        return 0;
    if (b->o->transactions[t].dialog == SL_CALLS_NONE)
        b->o->transactions[t].dialog = d;
    return sl_corr_push_u32(&x->transactions, &x->n_transactions, t);
}

/* A new request transaction: an initial INVITE/SUBSCRIBE opens an early
 * dialog; a request with a To tag joins its dialog (made when the capture
 * missed its start), whatever connection or direction it came on. */
int sl_corr_dialog_request(sl_corr_build *b, const sl_sip_record *r, uint32_t leg, uint32_t t)
{
    uint32_t d;
    if (!r->f.to_tag.p) {
        if (!str_is(r->f.method, "INVITE") && !str_is(r->f.method, "SUBSCRIBE"))
            return 0;
        if (dialog_new(b, r, leg, r->f.to_tag, &d) < 0)
            return -SL_ENOMEM;
        return dialog_add_tx(b, d, t);
    }
    if (str_is(r->f.method, "CANCEL"))
        return 0;
    dialog_key(&b->key, leg, r->f.call_id, r->f.from_tag, r->f.to_tag);
    d = sl_cmap_get(&b->dlg_map, &b->key);
    if (d == SL_CALLS_NONE && dialog_new(b, r, leg, r->f.to_tag, &d) < 0)
        return -SL_ENOMEM;
    return dialog_add_tx(b, d, t);
}

/* The dialog a tagged response to transaction t belongs to: its own, the
 * early one still waiting for a tag, or a new one (a fork). */
static int dialog_for_response(sl_corr_build *b, const sl_sip_record *r, uint32_t t, uint32_t *out)
{
    sl_calls *o = b->o;
    dialog_key(&b->key, o->transactions[t].leg, r->f.call_id, r->f.from_tag, r->f.to_tag);
    uint32_t d = sl_cmap_get(&b->dlg_map, &b->key);
    if (d == SL_CALLS_NONE && o->transactions[t].dialog != SL_CALLS_NONE) {
        sl_dialog *early = &o->dialogs[o->transactions[t].dialog];
        if (!early->to_tag.p) {
            d = o->transactions[t].dialog;
            early->to_tag = r->f.to_tag;
            if (sl_cmap_put(&b->dlg_map, &b->key, d) < 0)
                return -SL_ENOMEM;
        }
    }
    if (d == SL_CALLS_NONE) {
        uint32_t leg = o->transactions[t].leg;
        if (dialog_new(b, r, leg, r->f.to_tag, &d) < 0)
            return -SL_ENOMEM;
    }
    *out = d;
    return dialog_add_tx(b, d, t);
}

int sl_corr_dialog_response(sl_corr_build *b, const sl_sip_record *r, uint32_t t)
{
    sl_transaction *x = &b->o->transactions[t];
    bool invite = str_is(r->f.cseq_method, "INVITE");
    uint32_t d = x->dialog;
    if (r->f.status_code <= 100 || (d == SL_CALLS_NONE && !invite))
        return 0;
    if (r->f.to_tag.p && (invite || d == SL_CALLS_NONE)) {
        if (dialog_for_response(b, r, t, &d) < 0)
            return -SL_ENOMEM;
    }
    if (d == SL_CALLS_NONE)
        return 0;
    sl_dialog *g = &b->o->dialogs[d];
    int s = r->f.status_code;
    if (invite && s >= 200 && s < 300) {
        g->confirmed = true;
        sl_corr_ack_key(&b->key, r, x->leg);
        if (sl_cmap_put(&b->ack_map, &b->key, t) < 0)
            return -SL_ENOMEM;
    } else if ((invite && s >= 300 && !g->confirmed) || (str_is(r->f.cseq_method, "BYE") && s >= 200 && s < 300)) {
        g->terminated = true; /* a failed INVITE before any 2xx, or BYE answered */
    }
    return 0;
}
