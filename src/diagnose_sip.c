/* diagnose_sip.c - SIP verdicts, per call and per registration, over the
 * correlation (calls.h).  A rejection is blamed on the host that
 * ORIGINATED it: following the legs outward by hop, the farthest leg whose
 * initial INVITE got the same final error; a proxy that only relayed the
 * far end's error is not the rejecter.  Reads struct fields only, so this
 * file does not depend on correlate.c's functions. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "diagnose_internal.h"
#include "sipladder/status.h"

static bool is_method(const sl_sip_record *r, const char *m)
{
    return r && r->f.is_request && sl_sip_str_eq(r->f.method, m);
}

static bool is_initial_invite(const sl_transaction *t)
{
    return is_method(t->request, "INVITE") && !t->request->f.to_tag.p;
}

/* The initial INVITE transaction (no To tag) that decided a leg, or NULL:
 * the last one, as corr_calls.c decides the outcome (after a 401/407 or a
 * 3xx the caller sends a new INVITE with the same Call-ID). */
static const sl_transaction *leg_invite(const sl_calls *c, const sl_leg *leg)
{
    for (size_t i = leg->n_transactions; i-- > 0;) {
        const sl_transaction *t = &c->transactions[leg->transactions[i]];
        if (is_initial_invite(t))
            return t;
    }
    return NULL;
}

static bool is_challenge(int status)
{
    return status == 401 || status == 407;
}

/* The port a host listens on for SIP, for naming it as a rejecter: `port`
 * itself, unless that is the ephemeral client end of a TCP connection (a
 * UA answering on the connection it opened); then the sent-by port of the
 * top Via of a request it sent (where it wants its responses), else 0.  A
 * host that answers on a port it listens on keeps that port, even when its
 * own requests leave from another (a B2BUA's second side). */
static uint16_t listening_port(const sl_dg_ctx *x, const sl_sip_record *r, const sl_addr *a, uint16_t port)
{
    const sl_conn *conn = r->transport == SL_TRANSPORT_UDP ? NULL : sl_model_conn_const(x->m, r->conn_index);
    bool ephemeral = conn && sl_addr_equal(&conn->info.addr[SL_DIR_C2S], a) && conn->info.port[SL_DIR_C2S] == port &&
                     port != 5060 && port != 5061;
    if (!ephemeral)
        return port;
    const sl_calls *c = x->calls;
    for (size_t i = 0; c && i < c->n_transactions; i++) {
        const sl_sip_record *q = c->transactions[i].request;
        if (!q || !q->f.n_vias || !sl_addr_equal(&q->src, a))
            continue;
        /* Only a Via that names this very address (not one behind a NAT). */
        char ip[SL_ADDR_PORT_STRLEN];
        sl_addr_format(a, ip, sizeof ip);
        sl_sip_str vh = q->f.vias[0].host;
        if (!vh.p || vh.n != strlen(ip) || strncasecmp(vh.p, ip, vh.n) != 0)
            continue;
        sl_sip_str vp = q->f.vias[0].port;
        unsigned v = 0;
        size_t k = 0;
        while (vp.p && k < vp.n && k < 6 && vp.p[k] >= '0' && vp.p[k] <= '9')
            v = v * 10 + (unsigned)(vp.p[k++] - '0');
        if (vp.p && k == vp.n && v > 0 && v <= 65535)
            return (uint16_t)v;
        if (!vp.p)
            return q->f.vias[0].transport.n == 3 && strncasecmp(q->f.vias[0].transport.p, "TLS", 3) == 0 ? 5061 : 5060;
    }
    return 0;
}

#define SL_MSG_AT 300 /* "frame N" or "log FILE:LINE" */

/* Where a message is: "frame 12", or "log exp-e.txt:340" for one read
 * from an Expressway log only (frame 0). */
static const char *msg_at(const sl_sip_record *r, char *buf, size_t len)
{
    if (r->span.last_frame || !r->log_file)
        snprintf(buf, len, "frame %llu", (unsigned long long)r->span.last_frame);
    else
        snprintf(buf, len, "log %s:%u", r->log_file, r->log_line);
    return buf;
}

/* Like sl_dg_endpoint, without ":0" when the port is not known. */
static const char *endpoint(const sl_dg_ctx *x, const sl_addr *a, uint16_t port, char *buf, size_t len)
{
    sl_dg_endpoint(x, a, port, buf, len);
    char *colon = port ? NULL : strstr(buf, ":0");
    if (colon && (colon[2] == '\0' || colon[2] == ' '))
        memmove(colon, colon + 2, strlen(colon + 2) + 1);
    return buf;
}

static sl_role side_of(const sl_dg_ctx *x, const sl_addr *a)
{
    return sl_dg_is_local(x, a) ? SL_ROLE_LOCAL : SL_ROLE_REMOTE;
}

/* The sender of r (a response) rejected: named by the port it listens on. */
static void reject_record_src(const sl_dg_ctx *x, sl_diagnosis *d, const sl_sip_record *r)
{
    sl_dg_reject(x, d, &r->src, listening_port(x, r, &r->src, r->sport), side_of(x, &r->src));
}

/* Its text name, with the same port. */
static const char *record_src(const sl_dg_ctx *x, const sl_sip_record *r, char *buf, size_t len)
{
    return endpoint(x, &r->src, listening_port(x, r, &r->src, r->sport), buf, len);
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

/* A DNS verdict (dns.srv_failed, dns.srv_port_mismatch) about a lookup the
 * originating hop made while it held the INVITE explains its error: the
 * call gets that verdict (with the INVITE and the error as evidence)
 * instead of a sip.response one.  Returns 1 when it did. */
static int dns_explains(sl_dg_ctx *x, int ci, const sl_transaction *t)
{
    const sl_sip_record *fin = t->final;
    uint64_t from = t->request ? t->request->span.last_frame : 0;
    for (size_t i = 0; i < x->out->n; i++) {
        sl_diagnosis *d = &x->out->list[i];
        if (d->call >= 0 || strncmp(d->code, "dns.", 4) != 0 || !d->n_evidence || d->evidence[0] < from ||
            d->evidence[0] > fin->span.last_frame)
            continue;
        d->call = ci;
        char who[SL_ADDR_PORT_STRLEN + 80], reason[96];
        sl_dg_endpoint(x, &fin->src, fin->sport, who, sizeof who);
        int rc = transaction_evidence(d, t);
        if (rc == 0)
            rc = sl_dg_cause(d, "so %s answered the INVITE with %d %s", who, fin->f.status_code,
                             sl_dg_text(fin->f.reason_phrase.p, fin->f.reason_phrase.n, reason, sizeof reason));
        return rc == 0 ? 1 : rc;
    }
    return 0;
}

/* The digest challenges (401/407) on a leg before its deciding INVITE t:
 * evidence, and a cause that says the refusal came after credentials. */
static int challenge_history(const sl_dg_ctx *x, sl_diagnosis *d, const sl_leg *leg, const sl_transaction *t)
{
    const sl_calls *c = x->calls;
    const sl_transaction *ch = NULL;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < leg->n_transactions; i++) {
        const sl_transaction *lt = &c->transactions[leg->transactions[i]];
        if (lt == t)
            break;
        if (is_initial_invite(lt) && lt->final && is_challenge(lt->final->f.status_code)) {
            ch = lt;
            rc = transaction_evidence(d, lt);
            if (rc == 0 && lt->ack)
                rc = sl_dg_evidence(d, lt->ack->span.last_frame);
        }
    }
    if (rc != 0 || !ch || !t->request)
        return rc;
    bool creds = t->request->f.has_authorization || t->request->f.has_proxy_authorization;
    char at1[SL_MSG_AT], at2[SL_MSG_AT];
    return sl_dg_cause(d, "the INVITE was first challenged (%d, %s); the retry (%s) %s and got %d",
                       ch->final->f.status_code, msg_at(ch->final, at1, sizeof at1),
                       msg_at(t->request, at2, sizeof at2),
                       creds ? "carried credentials" : "carried no credentials", t->final->f.status_code);
}

static int rejected_call(sl_dg_ctx *x, int ci, const sl_call *call)
{
    const sl_calls *c = x->calls;
    const sl_transaction *t = NULL;
    const sl_leg *leg = originating_leg(c, call, call->final_status, &t);
    if (!leg)
        return 0;
    const sl_sip_record *fin = t->final;
    int explained = dns_explains(x, ci, t);
    if (explained)
        return explained < 0 ? explained : 0;
    char code[64], who[SL_ADDR_PORT_STRLEN + 80], agent[128], reason[128];
    bool policy = (fin->f.status_code == 403 || fin->f.status_code == 404) && policy_warning(fin);
    /* Our offer: the caller's INVITE (the first leg's). */
    int64_t bw = offer_bandwidth(call->initial ? call->initial : t->request);
    bool bandwidth = !policy && fin->f.status_code == 404 && bw >= 0 && bw < (int64_t)x->o->min_bandwidth_kbps;
    if (policy)
        snprintf(code, sizeof code, "sip.policy_reject");
    /* cppcheck-suppress knownConditionTrueFalse ; false positive: bandwidth can hold when policy is false */
    else if (bandwidth)
        snprintf(code, sizeof code, "sip.bandwidth_reject");
    else
        snprintf(code, sizeof code, "sip.response.%d", fin->f.status_code);
    sl_diagnosis *d = sl_dg_add(x, code, ci, fin->conn_index);
    if (!d)
        return -SL_ENOMEM;
    reject_record_src(x, d, fin);
    record_src(x, fin, who, sizeof who);
    sl_dg_text(fin->f.reason_phrase.p, fin->f.reason_phrase.n, reason, sizeof reason);
    int rc = sl_dg_summary(d, "%s answered the INVITE with %d %s (hop %u of %zu)%s", who, fin->f.status_code, reason,
                           leg->hop + 1, call->n_legs,
                           leg->hop + 1 < call->n_legs ? "" : ": it originated the rejection");
    for (size_t i = 0; rc == 0 && i < call->n_legs; i++) {
        const sl_transaction *lt = leg_invite(c, &c->legs[call->legs[i]]);
        if (lt && lt->final && lt->final->f.status_code == fin->f.status_code)
            rc = transaction_evidence(d, lt);
    }
    if (rc == 0)
        rc = challenge_history(x, d, leg, t);
    if (rc == 0 && policy)
        rc = sl_dg_cause(d, "a call policy (CPL) rule on %s refused the call (Warning: 399 %s \"Policy Response\")",
                         who, sl_dg_text(fin->f.warning_agent.p, fin->f.warning_agent.n, agent, sizeof agent));
    if (rc == 0 && bandwidth)
        rc = sl_dg_cause(d, "the offer's b=AS:%lld is below %u kbit/s: bandwidth pipes/regions too low",
                         (long long)bw, x->o->min_bandwidth_kbps);
    if (rc == 0 && !bandwidth && (fin->f.status_code == 404 || fin->f.status_code == 480))
        rc = sl_dg_cause(d, "no search rule or route matched the destination on %s", who);
    if (rc == 0 && fin->f.status_code == 403 && !policy)
        rc = sl_dg_cause(d, "%s refused the caller or the route (policy, preloaded Route, authorisation)", who);
    if (rc == 0 && !d->n_causes)
        rc = sl_dg_cause(d, "%s refused the call with %d", who, fin->f.status_code);
    return rc;
}

static sl_sip_str top_branch(const sl_sip_record *r)
{
    return r->f.n_vias ? r->f.vias[0].branch : (sl_sip_str){NULL, 0};
}

static bool str_same(sl_sip_str a, sl_sip_str b)
{
    return a.p && b.p && a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
}

/* Another copy of request r: same direction, branch, CSeq and method. */
static bool copy_of(const sl_sip_record *q, const sl_sip_record *r)
{
    return q->f.is_request && q->f.cseq == r->f.cseq && str_same(q->f.method, r->f.method) &&
           str_same(top_branch(q), top_branch(r)) && str_same(q->f.call_id, r->f.call_id) &&
           sl_addr_equal(&q->src, &r->src) && q->sport == r->sport;
}

/* ---- requests nobody answered (sip.no_response) ------------------------- */

/* 64 x T1 (RFC 3261 17.1.1.2 Timer B, 17.1.2.2 Timer F): a client
 * transaction gives up after this long without a response. */
#define SIP_TIMEOUT_NS (32 * SL_NS_PER_SEC)

/* Every copy of t's request (each retransmission) into the evidence; the
 * last copy's record into *last. */
static int copies_evidence(const sl_dg_ctx *x, const sl_transaction *t, sl_diagnosis *d, const sl_sip_record **last)
{
    const sl_calls *c = x->calls;
    const sl_sip_record *req = t->request;
    *last = req;
    int rc = sl_dg_evidence(d, req->span.last_frame);
    if (t->request_copies + t->duplicates < 2)
        return rc;
    const sl_sip_record *const *list = (const sl_sip_record *const *)x->m->sip;
    size_t n = x->m->n_sip;
    if (t->leg != SL_CALLS_NONE) {
        list = c->legs[t->leg].messages;
        n = c->legs[t->leg].n_messages;
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (list[i] != req && copy_of(list[i], req)) {
            rc = sl_dg_evidence(d, list[i]->span.last_frame);
            if (list[i]->span.last_ts > (*last)->span.last_ts)
                *last = list[i];
        }
    return rc;
}

/* A request with no response at all is a failure only when the frames
 * prove its sender waited: it resent it (UDP), the capture runs past its
 * transaction timeout, or another hop gave up on it (`upstream`). */
static bool silence_proven(const sl_dg_ctx *x, const sl_transaction *t, bool upstream)
{
    return upstream || t->request_copies >= 2 ||
           x->m->capture.last_ts - t->request->span.first_ts >= SIP_TIMEOUT_NS;
}

/* sip.no_response: t's request was never answered by its destination.
 * `upstream` (may be NULL): the same request on the hop before, whose
 * answer (a 408 from the proxy, say) is the effect. */
static int no_response_verdict(sl_dg_ctx *x, int ci, const sl_transaction *t, const sl_transaction *upstream)
{
    const sl_sip_record *req = t->request;
    sl_diagnosis *d = sl_dg_add(x, "sip.no_response", ci, req->conn_index);
    if (!d)
        return -SL_ENOMEM;
    sl_dg_reject(x, d, &req->dst, req->dport, SL_ROLE_NETWORK);
    const sl_sip_record *last = req;
    int rc = copies_evidence(x, t, d, &last);
    char from[SL_ADDR_PORT_STRLEN + 80], to[SL_ADDR_PORT_STRLEN + 80], method[32], up[SL_ADDR_PORT_STRLEN + 160 + SL_MSG_AT] = "";
    sl_dg_endpoint(x, &req->src, req->sport, from, sizeof from);
    sl_dg_endpoint(x, &req->dst, req->dport, to, sizeof to);
    sl_dg_text(req->f.method.p, req->f.method.n, method, sizeof method);
    const sl_sip_record *ufin = upstream ? upstream->final : NULL;
    if (ufin) {
        char who[SL_ADDR_PORT_STRLEN + 80], reason[64], at[SL_MSG_AT];
        snprintf(up, sizeof up, "; %s answered %d %s upstream (%s)", record_src(x, ufin, who, sizeof who),
                 ufin->f.status_code, sl_dg_text(ufin->f.reason_phrase.p, ufin->f.reason_phrase.n, reason, sizeof reason),
                 msg_at(ufin, at, sizeof at));
    }
    double span = sl_time_seconds(last->span.last_ts - req->span.last_ts);
    if (rc == 0 && t->request_copies >= 2)
        rc = sl_dg_summary(d, "%s sent the %s (CSeq %u) to %s %u times over %.1f s and got no response at all%s",
                           from, method, req->f.cseq, to, t->request_copies, span, up);
    else if (rc == 0)
        rc = sl_dg_summary(d, "%s sent the %s (CSeq %u) to %s over %s and got no response at all in the %.1f s the "
                              "capture goes on%s", from, method, req->f.cseq, to,
                           req->transport == SL_TRANSPORT_UDP ? "UDP" : "TCP/TLS (no SIP retransmission)",
                           sl_time_seconds(x->m->capture.last_ts - req->span.last_ts), up);
    if (rc == 0 && upstream)
        rc = transaction_evidence(d, upstream);
    if (rc == 0)
        rc = sl_dg_cause(d, "%s is down or does not listen there, or the path drops the request or its responses "
                            "(firewall, NAT, routing)", to);
    return rc == 0 ? 1 : rc;
}

/* Requests of a call, not INVITEs that started it (no_final_response
 * judges those) nor ACKs, that got no response: each reported once, on the
 * farthest hop that carried it (same method and CSeq further on). */
static int unanswered_requests(sl_dg_ctx *x, int ci, const sl_call *call)
{
    const sl_calls *c = x->calls;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < call->n_legs; i++) {
        const sl_leg *leg = &c->legs[call->legs[i]];
        for (size_t k = 0; rc == 0 && k < leg->n_transactions; k++) {
            const sl_transaction *t = &c->transactions[leg->transactions[k]];
            if (!t->request || t->n_responses || is_initial_invite(t) || is_method(t->request, "ACK") ||
                !silence_proven(x, t, false))
                continue;
            const sl_transaction *further = NULL, *before = NULL;
            for (size_t j = 0; j < call->n_legs; j++) {
                const sl_leg *o = &c->legs[call->legs[j]];
                for (size_t m = 0; o != leg && m < o->n_transactions; m++) {
                    const sl_transaction *u = &c->transactions[o->transactions[m]];
                    if (!u->request || u->request->f.cseq != t->request->f.cseq ||
                        !str_same(u->request->f.method, t->request->f.method))
                        continue;
                    if (o->hop > leg->hop && !u->n_responses)
                        further = u;
                    else if (o->hop < leg->hop)
                        before = u;
                }
            }
            if (!further)
                rc = no_response_verdict(x, ci, t, before);
            rc = rc < 0 ? rc : 0;
        }
    }
    return rc;
}

/* ---- failures inside an established dialog ------------------------------ */

static bool offers_t38(const sl_sip_record *r)
{
    for (size_t i = 0; r && r->has_sdp && i < r->sdp.n_media; i++)
        if (strcmp(r->sdp.media[i].media, "image") == 0 && r->sdp.media[i].port != 0)
            return true;
    return false;
}

/* A later transaction of the same method on the leg that got a 2xx: a 491
 * (glare) that was simply retried. */
static bool retried_ok(const sl_calls *c, const sl_leg *leg, size_t from, const sl_transaction *t)
{
    for (size_t k = from + 1; k < leg->n_transactions; k++) {
        const sl_transaction *u = &c->transactions[leg->transactions[k]];
        if (u->request && u->final && u->final->f.status_code / 100 == 2 &&
            str_same(u->request->f.method, t->request->f.method))
            return true;
    }
    return false;
}

static bool in_dialog_failed(const sl_calls *c, const sl_leg *leg, size_t k)
{
    const sl_transaction *t = &c->transactions[leg->transactions[k]];
    if (!t->request || !t->request->f.to_tag.p || !t->final || t->final->f.status_code < 300 ||
        !(is_method(t->request, "INVITE") || is_method(t->request, "UPDATE")))
        return false;
    int st = t->final->f.status_code;
    return !is_challenge(st) && !(st == 491 && retried_ok(c, leg, k, t));
}

static int in_dialog_verdict(sl_dg_ctx *x, int ci, const sl_call *call, const sl_leg *leg, const sl_transaction *t)
{
    const sl_calls *c = x->calls;
    const sl_sip_record *req = t->request, *fin = t->final;
    char code[64], who[SL_ADDR_PORT_STRLEN + 80], reason[96], method[32];
    snprintf(code, sizeof code, "sip.in_dialog.response.%d", fin->f.status_code);
    sl_diagnosis *d = sl_dg_add(x, code, ci, fin->conn_index);
    if (!d)
        return -SL_ENOMEM;
    reject_record_src(x, d, fin);
    record_src(x, fin, who, sizeof who);
    sl_dg_text(req->f.method.p, req->f.method.n, method, sizeof method);
    bool t38 = offers_t38(req);
    int st = fin->f.status_code;
    /* RFC 5057 5.1: these end the dialog; any other failure leaves the
     * session as it was before the request. */
    bool ends = st == 481 || st == 408;
    char at[SL_MSG_AT];
    int rc = sl_dg_summary(d, "%s answered the mid-call %s%s (CSeq %u, %s) with %d %s (hop %u of %zu)%s", who,
                           is_method(req, "INVITE") ? "re-" : "", method, req->f.cseq,
                           msg_at(req, at, sizeof at), st,
                           sl_dg_text(fin->f.reason_phrase.p, fin->f.reason_phrase.n, reason, sizeof reason),
                           leg->hop + 1, call->n_legs,
                           ends ? "; that ends the dialog" : "; the call stays up as it was before it");
    /* The same failure relayed on the other hops, as evidence. */
    for (size_t i = 0; rc == 0 && i < call->n_legs; i++) {
        const sl_leg *o = &c->legs[call->legs[i]];
        for (size_t k = 0; rc == 0 && k < o->n_transactions; k++) {
            const sl_transaction *u = &c->transactions[o->transactions[k]];
            if (u == t || (in_dialog_failed(c, o, k) && u->final->f.status_code == st &&
                           str_same(u->request->f.method, req->f.method) &&
                           u->request->span.last_ts <= fin->span.last_ts && u->final->span.last_ts >= req->span.last_ts))
                rc = transaction_evidence(d, u);
        }
    }
    if (rc == 0 && t38 && (st == 488 || st == 606 || st == 415))
        rc = sl_dg_cause(d, "%s refused the switch to T.38 fax (the offer has m=image udptl t38): T.38 is not "
                            "enabled or not supported there; the fax falls back to G.711 or fails", who);
    else if (rc == 0 && (st == 488 || st == 606))
        rc = sl_dg_cause(d, "%s does not accept the new session description (codec, media or address change)", who);
    if (rc == 0 && !d->n_causes)
        rc = sl_dg_cause(d, "%s refused the mid-call %s with %d", who, method, st);
    return rc;
}

/* Each mid-dialog re-INVITE/UPDATE refused (3xx-6xx, not a digest
 * challenge, not a 491 that was retried), once, on the farthest hop. */
static int in_dialog_failures(sl_dg_ctx *x, int ci, const sl_call *call)
{
    const sl_calls *c = x->calls;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < call->n_legs; i++) {
        const sl_leg *leg = &c->legs[call->legs[i]];
        for (size_t k = 0; rc == 0 && k < leg->n_transactions; k++) {
            if (!in_dialog_failed(c, leg, k))
                continue;
            const sl_transaction *t = &c->transactions[leg->transactions[k]];
            bool further = false;
            for (size_t j = 0; !further && j < call->n_legs; j++) {
                const sl_leg *o = &c->legs[call->legs[j]];
                for (size_t m = 0; !further && o->hop > leg->hop && m < o->n_transactions; m++) {
                    const sl_transaction *u = &c->transactions[o->transactions[m]];
                    further = in_dialog_failed(c, o, m) && u->final->f.status_code == t->final->f.status_code &&
                              str_same(u->request->f.method, t->request->f.method) &&
                              u->request->span.last_ts >= t->request->span.last_ts &&
                              u->request->span.last_ts <= t->final->span.last_ts;
                }
            }
            if (!further)
                rc = in_dialog_verdict(x, ci, call, leg, t);
        }
    }
    return rc;
}

/* ---- outcomes that are not rejections ----------------------------------- */

/* The INVITE's last answer is a digest challenge (401/407) and the retry
 * with credentials is not in the capture: a note, not a refusal. */
static int challenged_call(sl_dg_ctx *x, int ci, const sl_call *call)
{
    const sl_calls *c = x->calls;
    const sl_transaction *t = NULL;
    const sl_leg *leg = originating_leg(c, call, call->final_status, &t);
    if (!leg)
        return 0;
    const sl_sip_record *fin = t->final;
    sl_diagnosis *d = sl_dg_add(x, "sip.challenged", ci, fin->conn_index);
    if (!d)
        return -SL_ENOMEM;
    reject_record_src(x, d, fin);
    d->healthy = true;
    char who[SL_ADDR_PORT_STRLEN + 80];
    record_src(x, fin, who, sizeof who);
    int rc = sl_dg_summary(d, "%s challenged the INVITE with %d (digest authentication); the retry with credentials "
                              "is not in the capture", who, fin->f.status_code);
    for (size_t i = 0; rc == 0 && i < call->n_legs; i++) {
        const sl_transaction *lt = leg_invite(c, &c->legs[call->legs[i]]);
        if (lt && lt->final && lt->final->f.status_code == fin->f.status_code) {
            rc = transaction_evidence(d, lt);
            if (rc == 0 && lt->ack)
                rc = sl_dg_evidence(d, lt->ack->span.last_frame);
        }
    }
    if (rc == 0)
        rc = sl_dg_cause(d, "a challenge is not a refusal: the caller answers it with a new INVITE (same Call-ID) "
                            "carrying credentials; the capture ends or was filtered before it");
    return rc;
}

/* An answered call whose sender first tried another target for the same
 * request (same Call-ID and hop: SRV/DNS failover) that refused it: a
 * successful call, with a note of the target that failed. */
static int failover_note(sl_dg_ctx *x, int ci, const sl_call *call)
{
    const sl_calls *c = x->calls;
    const sl_sip_record *ok = call->decided_by;
    const sl_transaction *failed = NULL;
    const sl_leg *ok_leg = NULL;
    for (size_t i = 0; ok && i < call->n_legs; i++) {
        const sl_leg *leg = &c->legs[call->legs[i]];
        for (size_t k = 0; k < leg->n_messages; k++)
            if (leg->messages[k] == ok)
                ok_leg = leg;
    }
    for (size_t i = 0; ok_leg && !failed && i < call->n_legs; i++) {
        const sl_leg *leg = &c->legs[call->legs[i]];
        const sl_transaction *t = leg_invite(c, leg);
        if (leg != ok_leg && leg->hop == ok_leg->hop && leg->host[0] == ok_leg->host[0] && t && t->request &&
            t->final && t->final->f.status_code >= 300 && t->final->span.last_ts <= ok->span.last_ts)
            failed = t;
    }
    if (!failed)
        return 0;
    const sl_sip_record *fin = failed->final;
    sl_diagnosis *d = sl_dg_add(x, "sip.failover", ci, ok->conn_index);
    if (!d)
        return -SL_ENOMEM;
    reject_record_src(x, d, fin);
    d->healthy = true;
    char first[SL_ADDR_PORT_STRLEN + 80], next[SL_ADDR_PORT_STRLEN + 80], reason[64], ra[64] = "";
    record_src(x, fin, first, sizeof first);
    record_src(x, ok, next, sizeof next);
    sl_sip_str v;
    if (sl_sip_header_get(&fin->f, "Retry-After", 0, &v)) {
        char t[40];
        snprintf(ra, sizeof ra, " (Retry-After: %s)", sl_dg_text(v.p, v.n, t, sizeof t));
    }
    int rc = sl_dg_summary(d, "the call succeeded on another target: %s answered %d %s%s, then the same INVITE "
                              "(same Call-ID) went to %s, which answered %d",
                           first, fin->f.status_code,
                           sl_dg_text(fin->f.reason_phrase.p, fin->f.reason_phrase.n, reason, sizeof reason), ra,
                           next, ok->f.status_code);
    if (rc == 0)
        rc = transaction_evidence(d, failed);
    if (rc == 0 && failed->ack)
        rc = sl_dg_evidence(d, failed->ack->span.last_frame);
    if (rc == 0)
        rc = sl_dg_evidence(d, ok->span.last_frame);
    if (rc == 0)
        rc = sl_dg_cause(d, "failover to the next target (DNS SRV or a route list) worked: the two targets are "
                            "alternatives, not hops; %s may need a look if it keeps refusing", first);
    return rc;
}

/* CANCELled by the caller after the far end had answered more than 100
 * Trying (it rang): the caller's choice, not a rejection. */
static int cancelled_call(sl_dg_ctx *x, int ci, const sl_call *call)
{
    const sl_calls *c = x->calls;
    const sl_transaction *t = NULL;
    for (size_t i = 0; !t && i < call->n_legs; i++) {
        const sl_transaction *lt = leg_invite(c, &c->legs[call->legs[i]]);
        if (lt && lt->request && lt->cancel)
            t = lt;
    }
    if (!t)
        return 0;
    const sl_sip_record *cancel = t->cancel, *inv = t->request;
    sl_diagnosis *d = sl_dg_add(x, "sip.cancelled", ci, cancel->conn_index);
    if (!d)
        return -SL_ENOMEM;
    sl_dg_reject(x, d, &cancel->src, cancel->sport, side_of(x, &cancel->src));
    d->healthy = true;
    char who[SL_ADDR_PORT_STRLEN + 80], reason[64];
    sl_dg_endpoint(x, &cancel->src, cancel->sport, who, sizeof who);
    const sl_sip_record *ring = NULL;
    for (size_t i = 0; i < t->n_responses; i++)
        if (t->responses[i]->f.status_code > 100 && t->responses[i]->f.status_code < 200)
            ring = t->responses[i];
    int rc;
    if (ring)
        rc = sl_dg_summary(d, "cancelled by the caller: %s sent CANCEL %.1f s after the INVITE, after %d %s", who,
                           sl_time_seconds(cancel->span.last_ts - inv->span.last_ts), ring->f.status_code,
                           sl_dg_text(ring->f.reason_phrase.p, ring->f.reason_phrase.n, reason, sizeof reason));
    else
        rc = sl_dg_summary(d, "cancelled by the caller: %s sent CANCEL %.1f s after the INVITE", who,
                           sl_time_seconds(cancel->span.last_ts - inv->span.last_ts));
    if (rc == 0)
        rc = transaction_evidence(d, t);
    if (rc == 0 && t->cancel_response)
        rc = sl_dg_evidence(d, t->cancel_response->span.last_frame);
    if (rc == 0)
        rc = sl_dg_cause(d, "the caller hung up (or its timer ran out) before anyone answered: not a rejection");
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
    if (!t || !t->request)
        return 0;
    if (!t->n_responses) {
        /* Its destination answered nothing at all (not even 100 Trying):
         * what came back to the caller came from a hop before. */
        const sl_transaction *up = NULL;
        for (size_t i = 0; i < call->n_legs; i++) {
            const sl_leg *leg = &c->legs[call->legs[i]];
            const sl_transaction *lt = leg_invite(c, leg);
            if (leg != far && lt && lt->final && leg->hop < far->hop)
                up = lt;
        }
        if (!silence_proven(x, t, up != NULL))
            return 0;
        int rc = no_response_verdict(x, ci, t, up);
        return rc < 0 ? rc : 0;
    }
    if (!only_trying(t))
        return call->outcome == SL_CALL_CANCELLED ? cancelled_call(x, ci, call) : 0;
    if (t->final && t->final->f.status_code != 408 && t->final->f.status_code != 487)
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
        const sl_sip_record *last_copy;
        if (lt)
            rc = transaction_evidence(d, lt);
        if (rc == 0 && lt && lt->request) /* every retransmission of it too */
            rc = copies_evidence(x, lt, d, &last_copy);
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
    /* cppcheck-suppress nullPointerRedundantCheck ; by is refusal or bye47, not both NULL (returned above) */
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
    /* The offer it refused: the INVITE that 2xx answered. */
    for (size_t i = 0; rc == 0 && refusal && i < x->calls->n_transactions; i++) {
        const sl_transaction *t = &x->calls->transactions[i];
        for (size_t k = 0; t->request && k < t->n_responses; k++)
            if (t->responses[k] == refusal)
                rc = sl_dg_evidence(d, t->request->span.last_frame);
    }
    if (rc == 0 && bye47)
        rc = sl_dg_evidence(d, bye47->span.last_frame);
    if (rc == 0)
        rc = sl_dg_cause(d, "no common audio codec: the offer lacks what the far end accepts (e.g. only G.729 "
                            "offered, G.711/G.722/AAC-LD wanted)");
    return rc;
}

/* The response that decided an auth failure: the earliest 401/403/407 to
 * a REGISTER that carried credentials (a later REGISTER may get something
 * else, or nothing; and across hops the registrar's answer comes before
 * the proxies' copies of it), or NULL. */
static const sl_sip_record *decisive_refusal(const sl_calls *c, const sl_registration *reg)
{
    const sl_sip_record *best = NULL;
    for (size_t i = 0; i < reg->n_transactions; i++) {
        const sl_transaction *t = &c->transactions[reg->transactions[i]];
        if (!t->request || !t->final || !(t->request->f.has_authorization || t->request->f.has_proxy_authorization))
            continue;
        int st = t->final->f.status_code;
        if ((st == 401 || st == 403 || st == 407) && (!best || t->final->span.last_frame < best->span.last_frame))
            best = t->final;
    }
    return best;
}

static bool has_creds_tx(const sl_transaction *t)
{
    return t->request && (t->request->f.has_authorization || t->request->f.has_proxy_authorization);
}

static int registration(sl_dg_ctx *x, const sl_registration *reg)
{
    const sl_calls *c = x->calls;
    if (!reg->n_transactions || reg->host[1] >= c->n_hosts)
        return 0;
    const sl_transaction *last = &c->transactions[reg->transactions[reg->n_transactions - 1]];
    if (last->request && !last->n_responses) {
        /* The last REGISTER got nothing back: judged when that is proven. */
        int rc = silence_proven(x, last, false) ? no_response_verdict(x, -1, last, NULL) : 0;
        return rc < 0 ? rc : 0;
    }
    bool ok = reg->last_status / 100 == 2;
    bool challenged = !reg->auth_failed && is_challenge(reg->last_status);
    const char *code = reg->auth_failed ? "sip.register.auth_failed"
                       : ok             ? "sip.register.ok"
                       : challenged     ? "sip.challenged"
                                        : NULL;
    char buf[64], aor[160], who[SL_ADDR_PORT_STRLEN + 80], reason[96], at[SL_MSG_AT];
    if (!code) {
        if (reg->last_status < 300)
            return 0; /* no final answer yet: nothing to judge */
        snprintf(buf, sizeof buf, "sip.response.%d", reg->last_status);
        code = buf;
    }
    /* The REGISTER itself may be missing (capture started after it: only
     * responses seen, calls.h), never both it and its final response. */
    const sl_sip_record *ans = last->final ? last->final : last->request;
    const sl_sip_record *decisive = reg->auth_failed ? decisive_refusal(c, reg) : NULL;
    if (decisive)
        ans = decisive;
    if (!ans)
        return 0;
    sl_diagnosis *d = sl_dg_add(x, code, -1, ans->conn_index);
    if (!d)
        return -SL_ENOMEM;
    if (decisive)
        reject_record_src(x, d, decisive);
    else if (last->final)
        reject_record_src(x, d, last->final);
    else
        sl_dg_reject(x, d, &last->request->dst, last->request->dport, side_of(x, &last->request->dst));
    d->healthy = (ok && !reg->auth_failed) || challenged;
    if (ans == last->request)
        sl_dg_endpoint(x, &ans->src, ans->sport, who, sizeof who);
    else
        record_src(x, ans, who, sizeof who);
    sl_dg_text(reg->aor.p, reg->aor.n, aor, sizeof aor);
    int rc;
    /* Why a 401/407 to credentials was only a new nonce: the frame where
     * credentials for this address of record were accepted, if any. */
    char accepted_note[SL_MSG_AT + 64] = "";
    const char *renewal = reg->nonce_renewed ? ": a new nonce, not a refusal" : "";
    for (size_t i = 0; reg->nonce_renewed && i < reg->n_transactions; i++) {
        const sl_transaction *t = &c->transactions[reg->transactions[i]];
        if (has_creds_tx(t) && t->final && t->final->f.status_code / 100 == 2)
            snprintf(accepted_note, sizeof accepted_note, " (credentials for it were accepted at %s)",
                     msg_at(t->final, at, sizeof at));
    }
    if (reg->nonce_renewed && !accepted_note[0])
        snprintf(accepted_note, sizeof accepted_note, " (the challenge says stale=true)");
    if (challenged && has_creds_tx(last))
        rc = sl_dg_summary(d, "%s: the REGISTER with credentials was challenged again by %s (%d %s, %s)%s%s; "
                              "the retry is not in the capture", aor, who, reg->last_status,
                           sl_dg_text(ans->f.reason_phrase.p, ans->f.reason_phrase.n, reason, sizeof reason),
                           msg_at(ans, at, sizeof at),
                           renewal, accepted_note);
    else if (challenged)
        rc = sl_dg_summary(d, "%s: %s challenged the REGISTER with %d (digest authentication); the retry with "
                              "credentials is not in the capture", aor, who, reg->last_status);
    else if (d->healthy)
        rc = sl_dg_summary(d, "%s registered at %s for %lld s%s; AR_SK %s by the client, %s by the registrar", aor,
                           who, (long long)reg->expires, reg->auth_challenged ? " after a challenge" : "",
                           reg->ar_sk_offered ? "offered" : "not offered",
                           reg->ar_sk_supported ? "supported" : "not returned");
    else if (reg->auth_failed && decisive)
        rc = sl_dg_summary(d, "%s: REGISTER with credentials still refused by %s: %d %s (%s)", aor, who,
                           decisive->f.status_code,
                           sl_dg_text(decisive->f.reason_phrase.p, decisive->f.reason_phrase.n, reason, sizeof reason),
                           msg_at(decisive, at, sizeof at));
    else if (reg->auth_failed)
        rc = sl_dg_summary(d, "%s: REGISTER with credentials still refused by %s (%d)", aor, who, reg->last_status);
    else
        rc = sl_dg_summary(d, "%s: REGISTER refused by %s with %d", aor, who, reg->last_status);
    for (size_t i = 0; rc == 0 && i < reg->n_transactions; i++)
        rc = transaction_evidence(d, &c->transactions[reg->transactions[i]]);
    if (rc == 0 && reg->auth_failed)
        rc = sl_dg_cause(d, "wrong credentials (user name, password or realm) for %s", aor);
    if (rc == 0 && challenged)
        rc = sl_dg_cause(d, "a challenge is not a refusal: the client answers it with credentials");
    else if (rc == 0 && d->healthy)
        rc = sl_dg_cause(d, "healthy: no action needed");
    if (rc == 0 && ok && reg->nonce_renewed)
        rc = sl_dg_cause(d, "a 401/407 to credentials on the way was a nonce renewal (stale=true, or the same "
                            "address of record was accepted), not wrong credentials");
    return rc;
}

/* ---- Rules over a call's dialog and its hops: oversize_reset,
 * refresh_lost, param_stripped.  Each returns 1 when it gave the call its
 * verdict (the generic sip.response verdict is then not added), 0 when it
 * did not apply, or -SL_E*. */

static const sl_conn *conn_of(const sl_model *m, uint32_t index)
{
    return sl_model_conn_const(m, index);
}

/* The transaction whose first request copy is r, or NULL. */
static const sl_transaction *transaction_of(const sl_calls *c, const sl_sip_record *r)
{
    for (size_t i = 0; i < c->n_transactions; i++)
        if (c->transactions[i].request == r)
            return &c->transactions[i];
    return NULL;
}

/* How the receiver of r (its side of r's TCP connection) ended it after r:
 * its RST, else its FIN; NULL when it did not. */
static const sl_close_event *receiver_close(const sl_conn *conn, const sl_sip_record *r)
{
    uint8_t rx = r->dir == SL_DIR_C2S ? SL_SIDE_SERVER : SL_SIDE_CLIENT;
    if (conn->rst_count && conn->rst.frame > r->span.last_frame && conn->rst.side == rx)
        return &conn->rst;
    if (conn->fin[rx].frame > r->span.last_frame)
        return &conn->fin[rx];
    return NULL;
}

/* The final response the caller got (first leg), as evidence of the effect. */
static int caller_final_evidence(const sl_calls *c, const sl_call *call, sl_diagnosis *d)
{
    const sl_transaction *t = call->n_legs ? leg_invite(c, &c->legs[call->legs[0]]) : NULL;
    int rc = t && t->request ? sl_dg_evidence(d, t->request->span.last_frame) : 0;
    if (rc == 0 && t && t->final)
        rc = sl_dg_evidence(d, t->final->span.last_frame);
    return rc;
}

static int oversize_verdict(sl_dg_ctx *x, int ci, const sl_call *call, const sl_sip_record *r,
                            const sl_conn *conn, const sl_close_event *end)
{
    sl_diagnosis *d = sl_dg_add(x, "sip.oversize_reset", ci, conn->index);
    if (!d)
        return -SL_ENOMEM;
    sl_dg_reject(x, d, &r->dst, r->dport, side_of(x, &r->dst));
    char who[SL_ADDR_PORT_STRLEN + 80], method[32];
    sl_dg_endpoint(x, &r->dst, r->dport, who, sizeof who);
    sl_dg_text(r->f.method.p, r->f.method.n, method, sizeof method);
    int rc = sl_dg_summary(d, "%s got a %zu-byte %s over TCP and %s the connection %.1f s later without answering it",
                           who, r->raw_len, method, end == &conn->rst ? "reset" : "closed",
                           sl_time_seconds(end->ts - r->span.last_ts));
    if (rc == 0)
        rc = sl_dg_evidence(d, r->span.last_frame);
    if (rc == 0)
        rc = sl_dg_evidence(d, end->frame);
    if (rc == 0)
        rc = caller_final_evidence(x->calls, call, d);
    if (rc == 0)
        rc = sl_dg_cause(d, "the message is larger than %s accepts (over %zu bytes; CUCM: SIP max incoming message "
                            "size): raise that limit, or trim the SDP/headers", who, x->o->oversize_bytes);
    return rc == 0 ? 1 : rc;
}

/* A request larger than the threshold sent over TCP, never answered, and
 * its receiver closed or reset the connection after it. */
static int oversize_reset(sl_dg_ctx *x, int ci, const sl_call *call)
{
    const sl_calls *c = x->calls;
    for (size_t i = 0; i < call->n_messages; i++) {
        const sl_sip_record *r = call->messages[i];
        if (!r->f.is_request || r->transport != SL_TRANSPORT_TCP || r->raw_len <= x->o->oversize_bytes)
            continue;
        const sl_conn *conn = conn_of(x->m, r->conn_index);
        const sl_transaction *t = transaction_of(c, r);
        const sl_close_event *end = conn ? receiver_close(conn, r) : NULL;
        if (!end || !t || t->n_responses)
            continue;
        return oversize_verdict(x, ci, call, r, conn, end);
    }
    return 0;
}

/* TCP's own copies of request r (a SIP UA sends one copy over TCP): the
 * segments its sender resent whose first copy carried r's bytes, none of
 * them acknowledged while the bytes before them were (the peer was
 * answering at the TCP level until then).  How many, at most `max` in out. */
static size_t tcp_resends(const sl_conn *conn, const sl_sip_record *r, const sl_reasm_retx **out, size_t max)
{
    if (!conn || conn->info.transport != SL_TRANSPORT_TCP || r->transport != SL_TRANSPORT_TCP)
        return 0;
    size_t n = 0;
    uint64_t acked = conn->acked[r->dir];
    for (uint32_t i = 0; i < conn->n_retx[r->dir]; i++) {
        const sl_reasm_retx *x = &conn->retx[r->dir][i];
        if (x->first_frame < r->span.first_frame || x->first_frame > r->span.last_frame)
            continue;
        if (acked >= x->end || acked < x->start)
            return 0; /* acknowledged in the end, or the peer's ACKs are not in the capture */
        if (n < max)
            out[n] = x;
        n++;
    }
    return n;
}

/* A refresh lost for good: over UDP resent by the SIP layer, over TCP by
 * TCP at least twice (a backed-off RTO, not one lost segment). */
#define REFRESH_MIN_TCP_RESENDS 2

/* A mid-dialog re-INVITE/UPDATE resent with no answer at all, farthest hop
 * first; *tcp_n: the TCP retransmissions that carried it, when that is how. */
static const sl_transaction *lost_refresh(const sl_dg_ctx *x, const sl_call *call, const sl_leg **on, size_t *tcp_n)
{
    const sl_calls *c = x->calls;
    const sl_transaction *best = NULL;
    const sl_reasm_retx *none[1];
    for (size_t i = 0; i < call->n_legs; i++) {
        const sl_leg *leg = &c->legs[call->legs[i]];
        for (size_t k = 0; k < leg->n_transactions; k++) {
            const sl_transaction *t = &c->transactions[leg->transactions[k]];
            if (!t->request || !t->request->f.to_tag.p || t->n_responses ||
                !(is_method(t->request, "INVITE") || is_method(t->request, "UPDATE")))
                continue;
            size_t n = tcp_resends(conn_of(x->m, t->request->conn_index), t->request, none, 0);
            if (t->request_copies < 2 && n < REFRESH_MIN_TCP_RESENDS)
                continue;
            if (!best || leg->hop > (*on)->hop) {
                best = t;
                *on = leg;
                *tcp_n = t->request_copies < 2 ? n : 0;
            }
        }
    }
    return best;
}

/* The last message of the dialog's leg before r: where the idle spell began. */
static const sl_sip_record *last_before(const sl_leg *leg, const sl_sip_record *r)
{
    const sl_sip_record *last = NULL;
    for (size_t i = 0; i < leg->n_messages; i++)
        if (leg->messages[i]->span.last_frame < r->span.first_frame)
            last = leg->messages[i];
    return last;
}

/* The far end's own request after r on another TCP connection that it
 * opened (it sent the SYN): alive, and reaching r's sender by another path. */
static const sl_sip_record *far_end_new_conn(const sl_dg_ctx *x, const sl_call *call, const sl_sip_record *r,
                                             const sl_conn **conn)
{
    for (size_t i = 0; i < call->n_messages; i++) {
        const sl_sip_record *m = call->messages[i];
        if (!m->f.is_request || m->span.first_frame <= r->span.last_frame || m->conn_index == r->conn_index ||
            m->transport != SL_TRANSPORT_TCP || !sl_addr_equal(&m->src, &r->dst) || !sl_addr_equal(&m->dst, &r->src))
            continue;
        const sl_conn *c = conn_of(x->m, m->conn_index);
        if (c && c->syn_count && c->syn_frames[0] > r->span.last_frame &&
            sl_addr_equal(&c->info.addr[SL_DIR_C2S], &r->dst)) {
            *conn = c;
            return m;
        }
    }
    return NULL;
}

/* The same refresh on the other legs (same CSeq method, joined by the call)
 * and its final answer there: the effect upstream. */
static int refresh_upstream_evidence(const sl_calls *c, const sl_call *call, const sl_leg *lost,
                                     const sl_sip_record *req, sl_diagnosis *d)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < call->n_legs; i++) {
        const sl_leg *leg = &c->legs[call->legs[i]];
        for (size_t k = 0; rc == 0 && leg != lost && k < leg->n_transactions; k++) {
            const sl_transaction *t = &c->transactions[leg->transactions[k]];
            if (!t->request || !t->request->f.to_tag.p || !str_same(t->request->f.method, req->f.method) ||
                t->request->span.last_ts > req->span.last_ts)
                continue;
            rc = sl_dg_evidence(d, t->request->span.last_frame);
            if (rc == 0 && t->final)
                rc = sl_dg_evidence(d, t->final->span.last_frame);
        }
    }
    return rc;
}

/* Over TCP: the copies TCP resent, the idle spell before, the new
 * connection the far end opened after; the summary says what they show. */
static int refresh_lost_tcp(sl_dg_ctx *x, sl_diagnosis *d, const sl_call *call, const sl_leg *leg,
                            const sl_sip_record *req, const char *what, const char *from, const char *to,
                            const sl_sip_record **later, const sl_conn **nc)
{
    const sl_reasm_retx *rx[SL_REASM_MAX_RETX];
    size_t n = tcp_resends(conn_of(x->m, req->conn_index), req, rx, SL_REASM_MAX_RETX);
    size_t kept = n < SL_REASM_MAX_RETX ? n : SL_REASM_MAX_RETX;
    int rc = sl_dg_evidence(d, req->span.last_frame);
    char frames[160] = "";
    size_t at = 0;
    for (size_t i = 0; rc == 0 && i < kept; i++) {
        rc = sl_dg_evidence(d, rx[i]->frame);
        if (at < sizeof frames)
            at += (size_t)snprintf(frames + at, sizeof frames - at, "%s%llu", i ? ", " : "",
                                   (unsigned long long)rx[i]->frame);
    }
    if (at >= sizeof frames)
        snprintf(frames + sizeof frames - 5, 5, "...");
    const sl_sip_record *prev = last_before(leg, req);
    char idle[96] = "";
    if (prev) {
        snprintf(idle, sizeof idle, " after %.1f s of silence in the dialog (last message: frame %llu)",
                 sl_time_seconds(req->span.first_ts - prev->span.last_ts), (unsigned long long)prev->span.last_frame);
        if (rc == 0)
            rc = sl_dg_evidence(d, prev->span.last_frame);
    }
    if (rc == 0)
        rc = sl_dg_summary(d, "the mid-call %s from %s to %s (frame %llu)%s was retransmitted by TCP %zu times "
                              "(frames %s) over %.1f s: no ACK and no SIP answer came back",
                           what, from, to, (unsigned long long)req->span.last_frame, idle, n, frames,
                           sl_time_seconds(rx[kept - 1]->ts - req->span.last_ts));
    *later = far_end_new_conn(x, call, req, nc);
    if (rc == 0 && *later)
        rc = sl_dg_evidence(d, (*nc)->syn_frames[0]);
    if (rc == 0 && *later)
        rc = sl_dg_evidence(d, (*later)->span.last_frame);
    return rc;
}

/* The far end opened a new connection after the lost refresh: it is alive. */
static int far_end_alive_cause(sl_diagnosis *d, const sl_sip_record *req, const sl_sip_record *later,
                               const sl_conn *nc, const char *to)
{
    char method[32];
    sl_dg_text(later->f.method.p, later->f.method.n, method, sizeof method);
    return sl_dg_cause(d, "%s is alive: %.1f s later it opened a new TCP connection (conn %u, SYN frame %llu) for "
                          "its own %s (frame %llu); the old connection's path is what stopped carrying segments",
                       to, sl_time_seconds(nc->syn_ts[0] - req->span.last_ts), nc->index,
                       (unsigned long long)nc->syn_frames[0], method, (unsigned long long)later->span.last_frame);
}

static int refresh_lost(sl_dg_ctx *x, int ci, const sl_call *call)
{
    const sl_calls *c = x->calls;
    const sl_leg *leg = NULL;
    size_t tcp_n = 0;
    const sl_transaction *t = lost_refresh(x, call, &leg, &tcp_n);
    if (!t)
        return 0;
    const sl_sip_record *req = t->request;
    sl_diagnosis *d = sl_dg_add(x, "sip.refresh_lost", ci, req->conn_index);
    if (!d)
        return -SL_ENOMEM;
    sl_dg_reject(x, d, &req->dst, req->dport, SL_ROLE_NETWORK);
    char from[SL_ADDR_PORT_STRLEN + 80], to[SL_ADDR_PORT_STRLEN + 80], method[32], what[64];
    sl_dg_endpoint(x, &req->src, req->sport, from, sizeof from);
    sl_dg_endpoint(x, &req->dst, req->dport, to, sizeof to);
    sl_dg_text(req->f.method.p, req->f.method.n, method, sizeof method);
    snprintf(what, sizeof what, "%s%s (CSeq %u)", is_method(req, "INVITE") ? "re-" : "", method, req->f.cseq);
    int rc = 0;
    const sl_sip_record *later = NULL;
    const sl_conn *nc = NULL;
    if (tcp_n) {
        rc = refresh_lost_tcp(x, d, call, leg, req, what, from, to, &later, &nc);
    } else {
        const sl_sip_record *last = req;
        for (size_t i = 0; rc == 0 && i < leg->n_messages; i++)
            if (copy_of(leg->messages[i], req)) {
                rc = sl_dg_evidence(d, leg->messages[i]->span.last_frame);
                last = leg->messages[i];
            }
        if (rc == 0)
            rc = sl_dg_summary(d, "the mid-call %s (CSeq %u) from %s to %s was sent %u times over %.1f s and never "
                                  "answered", method, req->f.cseq, from, to, t->request_copies,
                               sl_time_seconds(last->span.last_ts - req->span.last_ts));
    }
    if (rc == 0)
        rc = refresh_upstream_evidence(c, call, leg, req, d);
    sl_sip_str se;
    char se_text[64];
    if (rc == 0 && sl_sip_header_get(&req->f, "Session-Expires", 0, &se))
        rc = sl_dg_cause(d, "a firewall or NAT dropped the call's idle flow before the session refresh (its idle "
                            "timeout is shorter than Session-Expires: %s)", sl_dg_text(se.p, se.n, se_text, sizeof se_text));
    else if (rc == 0)
        rc = sl_dg_cause(d, "a firewall or NAT dropped the call's idle flow before the session refresh (idle "
                            "timeout shorter than the session timer)");
    if (rc == 0 && later)
        rc = far_end_alive_cause(d, req, later, nc, to);
    else if (rc == 0)
        rc = sl_dg_cause(d, "%s went away during the call", to);
    return rc == 0 ? 1 : rc;
}

/* Contact/Via parameters that must survive a hop (SCENARIOS.md,
 * sip.param_stripped).  Only these are compared: proxies rewrite Contacts
 * and add Via parameters all the time, and that is healthy. */
static const struct kept_param {
    const char *name;
    const char *why;
} KEPT_PARAMS[] = {
    /* Webex hybrid call service: marks a call to/from the Webex cloud; the
     * far side routes it as a hybrid call only when it is there. */
    {"call-type", "marks the call as a Webex hybrid call (call-type=squared)"},
    /* Jabber MRA: the client's high-availability (AR_SK) registration
     * offer; without it the registrar cannot pair the keepalive sessions. */
    {"x-cisco-mra-ha", "carries the MRA client's AR_SK high-availability offer"},
    /* TIP (Telepresence Interoperability Protocol) multiscreen support:
     * without it a multiscreen endpoint is treated as one screen. */
    {"x-cisco-tip", "announces TIP multiscreen support"},
    /* RFC 4579: the Contact of a conference focus; without it the far end
     * does not subscribe to the conference or show its roster. */
    {"isfocus", "marks a conference focus (RFC 4579)"},
};

static bool addrs_have(const sl_sip_addr *a, size_t n, const char *name)
{
    sl_sip_str v;
    for (size_t i = 0; i < n; i++)
        if (sl_sip_param_get(a[i].params, a[i].n_params, name, &v))
            return true;
    return false;
}

/* A kept parameter on a Via of `in` whose copy (same branch) in `out` lost it. */
static bool via_lost(const sl_sip_record *in, const sl_sip_record *out, const char *name)
{
    sl_sip_str v;
    for (size_t i = 0; i < in->f.n_vias; i++) {
        const sl_sip_via *vi = &in->f.vias[i];
        if (!sl_sip_param_get(vi->params, vi->n_params, name, &v))
            continue;
        for (size_t k = 0; k < out->f.n_vias; k++)
            if (str_same(out->f.vias[k].branch, vi->branch) &&
                !sl_sip_param_get(out->f.vias[k].params, out->f.vias[k].n_params, name, &v))
                return true;
    }
    return false;
}

/* The first kept parameter `in` carries and `out` lost; *where "Contact"/"Via". */
static const struct kept_param *stripped_param(const sl_sip_record *in, const sl_sip_record *out, const char **where)
{
    for (size_t i = 0; i < sizeof KEPT_PARAMS / sizeof KEPT_PARAMS[0]; i++) {
        const char *name = KEPT_PARAMS[i].name;
        if (addrs_have(in->f.contacts, in->f.n_contacts, name) && !addrs_have(out->f.contacts, out->f.n_contacts, name)) {
            *where = "Contact";
            return &KEPT_PARAMS[i];
        }
        if (via_lost(in, out, name)) {
            *where = "Via";
            return &KEPT_PARAMS[i];
        }
    }
    return NULL;
}

static int param_verdict(sl_dg_ctx *x, int ci, const sl_transaction *tin, const sl_transaction *tout,
                         const struct kept_param *kp, const char *where)
{
    const sl_sip_record *out = tout->request;
    sl_diagnosis *d = sl_dg_add(x, "sip.param_stripped", ci, out->conn_index);
    if (!d)
        return -SL_ENOMEM;
    sl_dg_reject(x, d, &out->src, out->sport, side_of(x, &out->src));
    char who[SL_ADDR_PORT_STRLEN + 80], end[160], reason[96];
    sl_dg_endpoint(x, &out->src, out->sport, who, sizeof who);
    const sl_sip_record *fin = tout->final ? tout->final : tin->final;
    if (fin)
        snprintf(end, sizeof end, "the call then failed with %d %s", fin->f.status_code,
                 sl_dg_text(fin->f.reason_phrase.p, fin->f.reason_phrase.n, reason, sizeof reason));
    else
        snprintf(end, sizeof end, "the call then got no final answer");
    /* Name the value too (call-type=squared) when the Contact had one. */
    sl_sip_str v = {NULL, 0};
    char value[96] = "";
    const sl_sip_record *in = tin->request;
    for (size_t i = 0; !v.p && i < in->f.n_contacts; i++)
        if (sl_sip_param_get(in->f.contacts[i].params, in->f.contacts[i].n_params, kp->name, &v) && v.p) {
            value[0] = '=';
            sl_dg_text(v.p, v.n, value + 1, sizeof value - 1);
        }
    int rc = sl_dg_summary(d, "%s forwarded the INVITE without the %s parameter %s%s that its inbound leg carried; %s",
                           who, where, kp->name, value, end);
    if (rc == 0)
        rc = transaction_evidence(d, tin);
    if (rc == 0)
        rc = transaction_evidence(d, tout);
    if (rc == 0)
        rc = sl_dg_cause(d, "%s does not preserve the %s parameter %s, which %s: turn parameter preservation on "
                            "for this zone", who, where, kp->name, kp->why);
    return rc == 0 ? 1 : rc;
}

/* Consecutive hops of a failed call: a kept parameter on the inbound
 * INVITE and missing on the outbound one. */
static int param_stripped(sl_dg_ctx *x, int ci, const sl_call *call)
{
    const sl_calls *c = x->calls;
    if (call->outcome != SL_CALL_REJECTED && call->outcome != SL_CALL_NO_ANSWER)
        return 0;
    for (size_t i = 0; i + 1 < call->n_legs; i++) {
        const sl_leg *a = &c->legs[call->legs[i]], *b = &c->legs[call->legs[i + 1]];
        const sl_transaction *tin = leg_invite(c, a), *tout = leg_invite(c, b);
        if (!tin || !tout || !tin->request || !tout->request || b->hop != a->hop + 1)
            continue;
        const char *where = NULL;
        const struct kept_param *kp = stripped_param(tin->request, tout->request, &where);
        if (kp)
            return param_verdict(x, ci, tin, tout, kp, where);
    }
    return 0;
}

int sl_dg_rules_sip(sl_dg_ctx *x)
{
    const sl_calls *c = x->calls;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < c->n_calls; i++) {
        const sl_call *call = &c->calls[i];
        int ci = (int)i;
        if (!call->initial) {
            /* OPTIONS, MESSAGE, a mid-call fragment: only silence is judged. */
            rc = unanswered_requests(x, ci, call);
            continue;
        }
        /* The specific rules first: when one explains the call, the
         * generic verdict on its final response would only repeat it. */
        rc = oversize_reset(x, ci, call);
        if (rc == 0)
            rc = param_stripped(x, ci, call);
        if (rc == 0)
            rc = refresh_lost(x, ci, call);
        if (rc != 0) {
            rc = rc < 0 ? rc : 0;
            continue;
        }
        if (call->outcome == SL_CALL_CHALLENGED)
            rc = challenged_call(x, ci, call);
        else if (call->outcome == SL_CALL_REJECTED && call->final_status != 408)
            rc = rejected_call(x, ci, call);
        else if (call->outcome == SL_CALL_NO_ANSWER || call->outcome == SL_CALL_CANCELLED ||
                 (call->outcome == SL_CALL_REJECTED && call->final_status == 408))
            rc = no_final_response(x, ci, call);
        else if (call->outcome == SL_CALL_ANSWERED)
            rc = codec_refused(x, ci, call);
        if (rc == 0 && call->outcome == SL_CALL_ANSWERED)
            rc = failover_note(x, ci, call);
        if (rc == 0)
            rc = in_dialog_failures(x, ci, call);
        if (rc == 0)
            rc = unanswered_requests(x, ci, call);
    }
    for (size_t i = 0; rc == 0 && i < c->n_registrations; i++)
        rc = registration(x, &c->registrations[i]);
    return rc;
}
