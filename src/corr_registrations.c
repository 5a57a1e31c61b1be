/* corr_registrations.c - REGISTER transactions per address of record, and what came of them. */
#include <strings.h>

#include "correlate_internal.h"

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

/* A challenge that says the nonce expired (RFC 2617 3.2.1 stale=TRUE):
 * the credentials were right, the client must only redo them. */
static bool stale_challenge(const sl_sip_record *r)
{
    static const char *const names[] = {"WWW-Authenticate", "Proxy-Authenticate"};
    for (size_t h = 0; h < 2; h++) {
        sl_sip_str v;
        for (size_t idx = 0; sl_sip_header_get(&r->f, names[h], idx, &v); idx++)
            for (size_t i = 0; v.p && i + 10 <= v.n; i++) {
                if (strncasecmp(v.p + i, "stale=", 6) != 0)
                    continue;
                size_t k = i + 6 + (v.p[i + 6] == '"'); /* the value may be quoted */
                if (k + 4 <= v.n && strncasecmp(v.p + k, "true", 4) == 0)
                    return true;
            }
    }
    return false;
}

static bool has_creds(const sl_transaction *t)
{
    return t->request && (t->request->f.has_authorization || t->request->f.has_proxy_authorization);
}

/* The 401/407 -> credentials -> 200 (or 401/403 again) story.  A 401/407 to
 * credentials is a refusal only when it is not a stale-nonce challenge and
 * no credentials for this address of record were accepted in the capture
 * (then the new challenge only renews the nonce); a 403 always is. */
static void registration_story(const sl_calls *o, sl_registration *g)
{
    bool challenged = false, creds_refused = false, creds_accepted = false;
    g->expires = -1;
    for (size_t i = 0; i < g->n_transactions; i++) {
        const sl_transaction *t = &o->transactions[g->transactions[i]];
        if (has_creds(t) && t->final && t->final->f.status_code / 100 == 2)
            creds_accepted = true;
    }
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
        if (creds && (s == 401 || s == 407) && (creds_accepted || stale_challenge(t->final)))
            g->nonce_renewed = true;
        else if (creds && (s == 401 || s == 403 || s == 407))
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

int sl_corr_registrations_make(sl_corr_build *b)
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
