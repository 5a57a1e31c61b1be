/* diagnose_sip.c - SIP verdicts, per call and per registration, over the
 * correlation (calls.h).  A rejection is blamed on the host that
 * ORIGINATED it: following the legs outward by hop, the farthest leg whose
 * initial INVITE got the same final error; a proxy that only relayed the
 * far end's error is not the rejecter.  Reads struct fields only, so this
 * file does not depend on correlate.c's functions. */
#include <stdio.h>
#include <string.h>

#include "diagnose_internal.h"
#include "sipladder/status.h"

static bool is_method(const sl_sip_record *r, const char *m)
{
    return r && r->f.is_request && sl_sip_str_eq(r->f.method, m);
}

/* The initial INVITE transaction (no To tag) of a leg, or NULL. */
static const sl_transaction *leg_invite(const sl_calls *c, const sl_leg *leg)
{
    for (size_t i = 0; i < leg->n_transactions; i++) {
        const sl_transaction *t = &c->transactions[leg->transactions[i]];
        if (is_method(t->request, "INVITE") && !t->request->f.to_tag.p)
            return t;
    }
    return NULL;
}

static sl_role side_of(const sl_dg_ctx *x, const sl_addr *a)
{
    return x->has_local && sl_addr_equal(&x->local, a) ? SL_ROLE_LOCAL : SL_ROLE_REMOTE;
}

static void reject_record_src(const sl_dg_ctx *x, sl_diagnosis *d, const sl_sip_record *r)
{
    sl_dg_reject(x, d, &r->src, r->sport, side_of(x, &r->src));
}

static int transaction_evidence(sl_diagnosis *d, const sl_transaction *t)
{
    /* request is NULL when only responses were captured (calls.h). */
    int rc = t->request ? sl_dg_evidence(d, t->request->span.last_frame) : 0;
    for (size_t i = 0; rc == 0 && i < t->n_responses; i++)
        rc = sl_dg_evidence(d, t->responses[i]->span.last_frame);
    if (rc == 0 && t->cancel)
        rc = sl_dg_evidence(d, t->cancel->span.last_frame);
    return rc;
}

/* The leg that originated final status `status`: the farthest hop whose
 * initial INVITE got it (legs are listed by hop). */
static const sl_leg *originating_leg(const sl_calls *c, const sl_call *call, int status, const sl_transaction **tx)
{
    const sl_leg *best = NULL;
    for (size_t i = 0; i < call->n_legs; i++) {
        const sl_leg *leg = &c->legs[call->legs[i]];
        const sl_transaction *t = leg_invite(c, leg);
        if (t && t->final && t->final->f.status_code == status && (!best || leg->hop > best->hop)) {
            best = leg;
            *tx = t;
        }
    }
    return best;
}

static bool policy_warning(const sl_sip_record *r)
{
    if (r->f.warning_code != 399 || !r->f.warning_text.p)
        return false;
    for (size_t i = 0; i + 15 <= r->f.warning_text.n; i++)
        if (strncmp(r->f.warning_text.p + i, "Policy Response", 15) == 0)
            return true;
    return false;
}

/* b=AS of the offer: session level, else the first audio/video m= line; -1. */
static int64_t offer_bandwidth(const sl_sip_record *r)
{
    if (!r->has_sdp)
        return -1;
    if (r->sdp.bw_as >= 0)
        return r->sdp.bw_as;
    for (size_t i = 0; i < r->sdp.n_media; i++)
        if (r->sdp.media[i].bw_as >= 0)
            return r->sdp.media[i].bw_as;
    return -1;
}

static int rejected_call(sl_dg_ctx *x, int ci, const sl_call *call)
{
    const sl_calls *c = x->calls;
    const sl_transaction *t = NULL;
    const sl_leg *leg = originating_leg(c, call, call->final_status, &t);
    if (!leg)
        return 0;
    const sl_sip_record *fin = t->final;
    char code[64], who[SL_ADDR_PORT_STRLEN + 80], agent[128], reason[128];
    bool policy = (fin->f.status_code == 403 || fin->f.status_code == 404) && policy_warning(fin);
    /* Our offer: the caller's INVITE (the first leg's). */
    int64_t bw = offer_bandwidth(call->initial ? call->initial : t->request);
    bool bandwidth = !policy && fin->f.status_code == 404 && bw >= 0 && bw < (int64_t)x->o->min_bandwidth_kbps;
    if (policy)
        snprintf(code, sizeof code, "sip.policy_reject");
    else if (bandwidth)
        snprintf(code, sizeof code, "sip.bandwidth_reject");
    else
        snprintf(code, sizeof code, "sip.response.%d", fin->f.status_code);
    sl_diagnosis *d = sl_dg_add(x, code, ci, fin->conn_index);
    if (!d)
        return -SL_ENOMEM;
    reject_record_src(x, d, fin);
    sl_dg_endpoint(x, &fin->src, fin->sport, who, sizeof who);
    sl_dg_text(fin->f.reason_phrase.p, fin->f.reason_phrase.n, reason, sizeof reason);
    int rc = sl_dg_summary(d, "%s answered the INVITE with %d %s (hop %u of %zu)%s", who, fin->f.status_code, reason,
                           leg->hop + 1, call->n_legs,
                           leg->hop + 1 < call->n_legs ? "" : ": it originated the rejection");
    for (size_t i = 0; rc == 0 && i < call->n_legs; i++) {
        const sl_transaction *lt = leg_invite(c, &c->legs[call->legs[i]]);
        if (lt && lt->final && lt->final->f.status_code == fin->f.status_code)
            rc = transaction_evidence(d, lt);
    }
    if (rc == 0 && policy)
        rc = sl_dg_cause(d, "a call policy (CPL) rule on %s refused the call (Warning: 399 %s \"Policy Response\")",
                         who, sl_dg_text(fin->f.warning_agent.p, fin->f.warning_agent.n, agent, sizeof agent));
    if (rc == 0 && bandwidth)
        rc = sl_dg_cause(d, "the offer's b=AS:%lld is below %u kbit/s: bandwidth pipes/regions too low",
                         (long long)bw, x->o->min_bandwidth_kbps);
    if (rc == 0 && (fin->f.status_code == 404 || fin->f.status_code == 480))
        rc = sl_dg_cause(d, "no search rule or route matched the destination on %s", who);
    if (rc == 0 && fin->f.status_code == 403 && !policy)
        rc = sl_dg_cause(d, "%s refused the caller or the route (policy, preloaded Route, authorisation)", who);
    if (rc == 0 && !d->n_causes)
        rc = sl_dg_cause(d, "%s refused the call with %d", who, fin->f.status_code);
    return rc;
}

/* Only 100 Trying came back (no 18x): the far end never really answered. */
static bool only_trying(const sl_transaction *t)
{
    for (size_t i = 0; i < t->n_responses; i++)
        if (t->responses[i]->f.status_code > 100 && t->responses[i]->f.status_code < 200)
            return false;
    return true;
}

static int no_final_response(sl_dg_ctx *x, int ci, const sl_call *call)
{
    const sl_calls *c = x->calls;
    const sl_leg *far = NULL;
    const sl_transaction *t = NULL;
    for (size_t i = 0; i < call->n_legs; i++) {
        const sl_leg *leg = &c->legs[call->legs[i]];
        const sl_transaction *lt = leg_invite(c, leg);
        if (lt && (!far || leg->hop > far->hop)) {
            far = leg;
            t = lt;
        }
    }
    if (!t || !only_trying(t) || (t->final && t->final->f.status_code != 408 && t->final->f.status_code != 487))
        return 0;
    const sl_sip_record *inv = t->request;
    sl_diagnosis *d = sl_dg_add(x, "sip.no_final_response", ci, inv->conn_index);
    if (!d)
        return -SL_ENOMEM;
    sl_dg_reject(x, d, &inv->dst, inv->dport, side_of(x, &inv->dst));
    char who[SL_ADDR_PORT_STRLEN + 80];
    sl_dg_endpoint(x, &inv->dst, inv->dport, who, sizeof who);
    const char *end = t->cancel ? "then the caller cancelled"
                      : t->final ? "then it timed out (408)" : "the capture ends before an answer";
    int rc = sl_dg_summary(d, "%s got the INVITE but answered no more than 100 Trying; %s", who, end);
    for (size_t i = 0; rc == 0 && i < call->n_legs; i++) {
        const sl_transaction *lt = leg_invite(c, &c->legs[call->legs[i]]);
        if (lt)
            rc = transaction_evidence(d, lt);
    }
    if (rc == 0 && inv->f.content_length == 0)
        rc = sl_dg_cause(d, "Delayed Offer: the INVITE has no SDP (Content-Length: 0) and the far end does not "
                            "send an offer");
    if (rc == 0)
        rc = sl_dg_cause(d, "%s does not process the call (overloaded, a routing loop, or the INVITE is stuck "
                            "beyond it)", who);
    return rc;
}

/* A 2xx whose SDP refuses audio (m=audio 0), or a BYE with Q.850 cause 47. */
static int codec_refused(sl_dg_ctx *x, int ci, const sl_call *call)
{
    const sl_sip_record *refusal = NULL, *bye47 = NULL;
    for (size_t i = 0; i < call->n_messages; i++) {
        const sl_sip_record *r = call->messages[i];
        if (!refusal && !r->f.is_request && r->f.status_code / 100 == 2 && r->has_sdp)
            for (size_t k = 0; k < r->sdp.n_media; k++)
                if (strcmp(r->sdp.media[k].media, "audio") == 0 && r->sdp.media[k].port == 0)
                    refusal = r;
        if (!bye47 && is_method(r, "BYE") && r->f.reason_cause == 47)
            bye47 = r;
    }
    if (!refusal && !bye47)
        return 0;
    const sl_sip_record *by = refusal ? refusal : bye47;
    sl_diagnosis *d = sl_dg_add(x, "sip.codec_refused", ci, by->conn_index);
    if (!d)
        return -SL_ENOMEM;
    reject_record_src(x, d, by);
    char who[SL_ADDR_PORT_STRLEN + 80];
    sl_dg_endpoint(x, &by->src, by->sport, who, sizeof who);
    int rc = sl_dg_summary(d, "%s refused the offered audio codecs%s%s", who,
                           refusal ? " (answer SDP m=audio 0)" : "",
                           bye47 ? " and the call ended with BYE Reason: Q.850;cause=47" : "");
    if (rc == 0 && refusal)
        rc = sl_dg_evidence(d, refusal->span.last_frame);
    if (rc == 0 && bye47)
        rc = sl_dg_evidence(d, bye47->span.last_frame);
    if (rc == 0)
        rc = sl_dg_cause(d, "no common audio codec: the offer lacks what the far end accepts (e.g. only G.729 "
                            "offered, G.711/G.722/AAC-LD wanted)");
    return rc;
}

static int registration(sl_dg_ctx *x, const sl_registration *reg)
{
    const sl_calls *c = x->calls;
    if (!reg->n_transactions || reg->host[1] >= c->n_hosts)
        return 0;
    const sl_transaction *last = &c->transactions[reg->transactions[reg->n_transactions - 1]];
    bool ok = reg->last_status / 100 == 2;
    const char *code = reg->auth_failed ? "sip.register.auth_failed"
                       : ok             ? "sip.register.ok"
                                        : NULL;
    char buf[64], aor[160], who[SL_ADDR_PORT_STRLEN + 80];
    if (!code) {
        if (reg->last_status < 300)
            return 0; /* no final answer yet: nothing to judge */
        snprintf(buf, sizeof buf, "sip.response.%d", reg->last_status);
        code = buf;
    }
    /* The REGISTER itself may be missing (capture started after it: only
     * responses seen, calls.h), never both it and its final response. */
    const sl_sip_record *ans = last->final ? last->final : last->request;
    if (!ans)
        return 0;
    sl_diagnosis *d = sl_dg_add(x, code, -1, ans->conn_index);
    if (!d)
        return -SL_ENOMEM;
    if (last->final)
        reject_record_src(x, d, last->final);
    else
        sl_dg_reject(x, d, &last->request->dst, last->request->dport, side_of(x, &last->request->dst));
    d->healthy = ok && !reg->auth_failed;
    sl_dg_endpoint(x, &ans->src, ans->sport, who, sizeof who);
    sl_dg_text(reg->aor.p, reg->aor.n, aor, sizeof aor);
    int rc;
    if (d->healthy)
        rc = sl_dg_summary(d, "%s registered at %s for %lld s%s; AR_SK %s by the client, %s by the registrar", aor,
                           who, (long long)reg->expires, reg->auth_challenged ? " after a challenge" : "",
                           reg->ar_sk_offered ? "offered" : "not offered",
                           reg->ar_sk_supported ? "supported" : "not returned");
    else if (reg->auth_failed)
        rc = sl_dg_summary(d, "%s: REGISTER with credentials still refused by %s (%d)", aor, who, reg->last_status);
    else
        rc = sl_dg_summary(d, "%s: REGISTER refused by %s with %d", aor, who, reg->last_status);
    for (size_t i = 0; rc == 0 && i < reg->n_transactions; i++)
        rc = transaction_evidence(d, &c->transactions[reg->transactions[i]]);
    if (rc == 0 && reg->auth_failed)
        rc = sl_dg_cause(d, "wrong credentials (user name, password or realm) for %s", aor);
    if (rc == 0 && d->healthy)
        rc = sl_dg_cause(d, "healthy: no action needed");
    return rc;
}

int sl_dg_rules_sip(sl_dg_ctx *x)
{
    const sl_calls *c = x->calls;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < c->n_calls; i++) {
        const sl_call *call = &c->calls[i];
        if (!call->initial)
            continue;
        int ci = (int)i;
        if (call->outcome == SL_CALL_REJECTED && call->final_status != 408)
            rc = rejected_call(x, ci, call);
        else if (call->outcome == SL_CALL_NO_ANSWER || call->outcome == SL_CALL_CANCELLED ||
                 (call->outcome == SL_CALL_REJECTED && call->final_status == 408))
            rc = no_final_response(x, ci, call);
        else if (call->outcome == SL_CALL_ANSWERED)
            rc = codec_refused(x, ci, call);
    }
    for (size_t i = 0; rc == 0 && i < c->n_registrations; i++)
        rc = registration(x, &c->registrations[i]);
    return rc;
}
