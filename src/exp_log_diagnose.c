/* exp_log_diagnose.c - what an Expressway's own log says, as evidence of
 * the diagnosis: its Call Rejected and Search Completed events confirm who
 * rejected a call and why; a developer.ssl failure gives OpenSSL's reason
 * for a TLS handshake the capture shows failing (or, with no capture of
 * it, is the verdict); "Could not resolve hostname" after an SRV query is
 * dns.srv_failed even with no DNS packet captured.  Each cause names its
 * log, line and Expressway.  Runs after sl_diagnose: verdicts the capture
 * gave are only added to. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diagnose_internal.h"
#include "sipladder/exp_log.h"
#include "sipladder/status.h"

#define NEAR_NS (3 * 1000000000LL) /* an event this close to a call's time belongs to it */
#define DNS_PAIR_NS (5 * 1000000000LL)
#define MAX_LOG_CAUSES 6 /* causes from a log on one verdict */

/* "exp-e.log:12 (vcse)", escaped. */
static const char *where(const sl_xlog *l, uint32_t line, char *buf, size_t len)
{
    char f[256], h[160];
    sl_dg_text(l->file, strlen(l->file), f, sizeof f);
    sl_dg_text(l->host, strlen(l->host), h, sizeof h);
    snprintf(buf, len, "%s:%u (%s)", f, (unsigned)line, h);
    return buf;
}

static const char *esc(const char *s, char *buf, size_t len) { return sl_dg_text(s, strlen(s), buf, len); }

/* The call a log event at `t` (capture clock) belongs to: the one whose
 * life holds t; with a response code, one that ended with that status. */
static int call_at_status(const sl_calls *calls, sl_time_ns t, int status);

static int call_at(const sl_calls *calls, sl_time_ns t, int status)
{
    int c = call_at_status(calls, t, status);
    /* a mid-call refusal (408 to a re-INVITE) leaves the call answered */
    return c >= 0 || !status ? c : call_at_status(calls, t, 0);
}

static int call_at_status(const sl_calls *calls, sl_time_ns t, int status)
{
    if (!calls)
        return -1;
    int best = -1;
    for (size_t i = 0; i < calls->n_calls; i++) {
        const sl_call *c = &calls->calls[i];
        if (t < c->first_ts - NEAR_NS || t > c->last_ts + NEAR_NS)
            continue;
        if (status && c->final_status && c->final_status != status)
            continue;
        if (best < 0 || c->final_status == status)
            best = (int)i;
    }
    return best;
}

static int cause_on_call(sl_dg_ctx *x, int call, const char *text)
{
    int rc = 0, n = 0;
    for (size_t i = 0; i < x->out->n && rc == 0; i++) {
        sl_diagnosis *d = &x->out->list[i];
        if (d->call == call && !d->healthy && (strncmp(d->code, "sip.", 4) == 0 || strncmp(d->code, "dns.", 4) == 0)) {
            size_t from_log = 0;
            for (size_t k = 0; k < d->n_causes; k++)
                from_log += strncmp(d->causes[k], "the Expressway's", 16) == 0;
            if (from_log >= MAX_LOG_CAUSES)
                continue; /* a call retried many times: its first events say it */
            rc = sl_dg_cause(d, "%s", text);
            n++;
        }
    }
    return rc < 0 ? rc : n;
}

/* Call Rejected and Search Completed found:false, on the verdicts of their call. */
static int call_events(sl_dg_ctx *x, const sl_xlog *l)
{
    for (size_t i = 0; i < l->n; i++) {
        const sl_xlog_entry *e = &l->e[i];
        if ((e->kind != SL_XLOG_CALL_REJECTED && e->kind != SL_XLOG_SEARCH_COMPLETED) || !e->has_time)
            continue;
        if (e->kind == SL_XLOG_SEARCH_COMPLETED && !strstr(e->detail, "found:false"))
            continue;
        sl_time_ns t = sl_xlog_on_capture(l, e->utc);
        int call = call_at(x->calls, t, e->response_code);
        if (call < 0)
            continue;
        char w[512], det[256], dst[256], text[1200];
        where(l, e->line, w, sizeof w);
        esc(e->detail, det, sizeof det);
        esc(e->dst_alias, dst, sizeof dst);
        if (e->kind == SL_XLOG_CALL_REJECTED) {
            char reason[64] = "";
            if (e->response_code)
                snprintf(reason, sizeof reason, " with %d", e->response_code);
            if (e->response_code == 408)
                snprintf(text, sizeof text,
                         "the Expressway's log: Event Call Rejected with 408 (%s) for %s at %s: its own request onward "
                         "timed out unanswered, it did not refuse the call by policy",
                         det, dst, w);
            else
                snprintf(text, sizeof text,
                         "the Expressway's log confirms it rejected the call itself%s (%s): Event Call Rejected for %s "
                         "at %s",
                         reason, det, dst, w);
        } else {
            snprintf(text, sizeof text,
                     "the Expressway's own search for %s found nothing (%s): Event Search Completed at %s%s", dst, det,
                     w,
                     strstr(e->detail, "Policy Response")
                         ? "; 'Policy Response': a search rule or call policy refused it, not a missing registration"
                         : "");
        }
        int rc = cause_on_call(x, call, text);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- TLS --------------------------------------------------------------- */

static const sl_conn *conn_of(const sl_model *m, const sl_xlog_entry *e)
{
    for (size_t i = 0; i < m->n_conns; i++) {
        const sl_conn *c = &m->conns[i];
        for (int d = 0; d < 2; d++)
            if (sl_addr_equal(&c->info.addr[d], &e->local) && c->info.port[d] == e->local_port &&
                sl_addr_equal(&c->info.addr[!d], &e->remote) && c->info.port[!d] == e->remote_port)
                return c;
    }
    return NULL;
}

/* OpenSSL's reason as a verdict: "... alert certificate unknown" is the
 * peer's alert (tls.alert.certificate_unknown, the peer rejected); a
 * failed verification is this box rejecting the peer's certificate. */
static void tls_code(const char *reason, char *code, size_t len, bool *peer_rejected)
{
    const char *a = strstr(reason, "alert ");
    if (a) {
        size_t k = snprintf(code, len, "tls.alert.");
        for (a += 6; *a && k + 1 < len; a++)
            code[k++] = (*a == ' ' || *a == '-') ? '_' : (*a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a);
        code[k] = 0;
        *peer_rejected = true;
        return;
    }
    *peer_rejected = false;
    if (strstr(reason, "certificate has expired"))
        snprintf(code, len, "tls.alert.certificate_expired");
    else if (strstr(reason, "verify failed") || strstr(reason, "issuer") || strstr(reason, "self signed"))
        snprintf(code, len, "tls.alert.unknown_ca");
    else
        snprintf(code, len, "tls.handshake_failed");
}

static bool code_ok(const char *code)
{
    for (const char *c = code; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '.'))
            return false;
    return true;
}

static int tls_failures(sl_dg_ctx *x, const sl_xlog *l)
{
    for (size_t i = 0; i < l->n; i++) {
        const sl_xlog_entry *e = &l->e[i];
        if ((e->kind != SL_XLOG_SSL_FAILED && e->kind != SL_XLOG_TLS_NEG_ERROR) || !e->has_addrs)
            continue;
        /* an SSL failure and its Negotiation Error are one failure: the first says it */
        bool twin = false;
        for (size_t k = 0; k < i && !twin; k++) {
            const sl_xlog_entry *p = &l->e[k];
            twin = (p->kind == SL_XLOG_SSL_FAILED || p->kind == SL_XLOG_TLS_NEG_ERROR) && p->has_addrs &&
                   p->local_port == e->local_port && p->remote_port == e->remote_port &&
                   sl_addr_equal(&p->local, &e->local) && sl_addr_equal(&p->remote, &e->remote);
        }
        if (twin)
            continue;
        const char *reason = e->kind == SL_XLOG_SSL_FAILED ? e->ssl_reason : e->detail;
        const char *cn = e->common_name;
        for (size_t k = i + 1; k < l->n && !*cn; k++)
            if (l->e[k].kind == SL_XLOG_TLS_NEG_ERROR && l->e[k].local_port == e->local_port &&
                sl_addr_equal(&l->e[k].remote, &e->remote))
                cn = l->e[k].common_name;
        char w[512], why[512], name[256], peer[128], text[1600], code[64];
        where(l, e->line, w, sizeof w);
        esc(reason, why, sizeof why);
        esc(cn, name, sizeof name);
        bool peer_rejected;
        tls_code(reason, code, sizeof code, &peer_rejected);
        if (!code_ok(code))
            snprintf(code, sizeof code, "tls.handshake_failed");
        sl_dg_endpoint(x, &e->remote, e->remote_port, peer, sizeof peer);
        snprintf(text, sizeof text,
                 "the Expressway's log: its %s TLS handshake with %s failed: %s%s%s%s (%s)",
                 e->sent ? "outbound" : "inbound", peer, why, *name ? " (Common-name " : "", name,
                 *name ? ")" : "", w);
        const sl_conn *c = conn_of(x->m, e);
        bool added = false;
        for (size_t k = 0; c && k < x->out->n; k++) {
            sl_diagnosis *d = &x->out->list[k];
            if (d->conn_index == c->index && strncmp(d->code, "tls.", 4) == 0) {
                if (sl_dg_cause(d, "%s", text) < 0)
                    return -SL_ENOMEM;
                added = true;
            }
        }
        if (added)
            continue;
        /* a peer that fails the same way again and again (a retrying far end,
         * new ports each time) is one verdict, its repeats among the causes */
        const sl_addr *who = peer_rejected ? &e->remote : &e->local;
        uint16_t who_port = peer_rejected ? e->remote_port : e->local_port;
        sl_diagnosis *same = NULL;
        for (size_t k = 0; !c && k < x->out->n && !same; k++) {
            sl_diagnosis *d = &x->out->list[k];
            if (d->conn_index == 0 && strcmp(d->code, code) == 0 && sl_addr_equal(&d->rejected_by.addr, who) &&
                (peer_rejected ? !e->sent || d->rejected_by.port == who_port : true))
                same = d;
        }
        if (same) {
            size_t from_log = 0;
            for (size_t k = 0; k < same->n_causes; k++)
                from_log += strncmp(same->causes[k], "the Expressway's", 16) == 0;
            if (from_log < MAX_LOG_CAUSES) {
                if (sl_dg_cause(same, "%s", text) < 0)
                    return -SL_ENOMEM;
                continue;
            }
            /* beyond them, one line counts the rest */
            static const char more[] = "and again ";
            char **last = &same->causes[same->n_causes - 1];
            unsigned long n = strncmp(*last, more, sizeof more - 1) == 0 ? strtoul(*last + sizeof more - 1, NULL, 10) : 0;
            char *t = NULL;
            if (asprintf(&t, "%s%lu more time%s in the log (the last at %s)", more, n + 1, n ? "s" : "", w) < 0)
                return -SL_ENOMEM;
            if (n) {
                free(*last);
                *last = t;
            } else if (sl_dg_cause(same, "%s", t) < 0) {
                free(t);
                return -SL_ENOMEM;
            } else {
                free(t);
            }
            continue;
        }
        sl_diagnosis *d = sl_dg_add(x, code, -1, c ? c->index : 0);
        if (!d)
            return -SL_ENOMEM;
        /* the peer's alert: the peer rejected (server of an outbound
         * handshake, client of an inbound one); else this box refused */
        if (peer_rejected)
            sl_dg_reject(x, d, &e->remote, e->remote_port, e->sent ? SL_ROLE_SERVER : SL_ROLE_CLIENT);
        else
            sl_dg_reject(x, d, &e->local, e->local_port, e->sent ? SL_ROLE_CLIENT : SL_ROLE_SERVER);
        char self[128];
        sl_dg_endpoint(x, &e->local, e->local_port, self, sizeof self);
        if (sl_dg_summary(d, "TLS %s %s -> %s failed: %s (from the Expressway's log, %s)",
                          e->sent ? "outbound" : "inbound", e->sent ? self : peer, e->sent ? peer : self, why, w) < 0 ||
            sl_dg_cause(d, "%s", text) < 0)
            return -SL_ENOMEM;
        if (peer_rejected && sl_dg_cause(d, "%s", e->sent ? "the server refused the Expressway's client certificate "
                                                            "or the handshake: check the certificate it presents "
                                                            "and the CAs the server trusts"
                                                          : "the client refused the Expressway's certificate: check "
                                                            "its chain and the name the client expects") < 0)
            return -SL_ENOMEM;
        if (!peer_rejected && sl_dg_cause(d, "%s", "the Expressway refused the peer's certificate: add the CA "
                                                   "that signed it to its trusted CA list, or fix the peer's chain") < 0)
            return -SL_ENOMEM;
        if (!c && sl_dg_cause(d, "%s", x->m->capture.n_files ? "the capture holds no packet of this connection: the "
                                                                "log is the only witness"
                                                              : "read from the log alone (no capture)") < 0)
            return -SL_ENOMEM;
    }
    return 0;
}

/* ---- DNS --------------------------------------------------------------- */

static bool mentions(const sl_diagnoses *out, const char *code, const char *name)
{
    for (size_t i = 0; i < out->n; i++)
        if (strcmp(out->list[i].code, code) == 0 && (!name || (out->list[i].summary && strstr(out->list[i].summary, name))))
            return true;
    return false;
}

static int dns_failures(sl_dg_ctx *x, const sl_xlog *l)
{
    for (size_t i = 0; i < l->n; i++) {
        const sl_xlog_entry *e = &l->e[i];
        if (e->kind != SL_XLOG_DNS_FAILED)
            continue;
        /* the name: this entry's, else the query just before it */
        const sl_xlog_entry *q = NULL;
        for (size_t k = i; k-- > 0 && !q;)
            if (l->e[k].kind == SL_XLOG_DNS_QUERY && (!e->has_time || !l->e[k].has_time ||
                                                       e->utc - l->e[k].utc <= DNS_PAIR_NS))
                q = &l->e[k];
        const char *name = *e->name ? e->name : q ? q->name : "";
        const char *type = *e->type ? e->type : q ? q->type : "";
        if (strncmp(name, "_sip", 4) != 0 && strncmp(type, "SRV", 3) != 0)
            continue; /* only SRV lookups make dns.srv_failed */
        char w[512], n[256], qw[512] = "";
        where(l, e->line, w, sizeof w);
        esc(name, n, sizeof n);
        if (q)
            where(l, q->line, qw, sizeof qw);
        sl_time_ns t = e->has_time ? sl_xlog_on_capture(l, e->utc) : 0;
        int call = e->has_time ? call_at(x->calls, t, 0) : -1;
        if (mentions(x->out, "dns.srv_failed", n)) {
            for (size_t k = 0; k < x->out->n; k++)
                if (strcmp(x->out->list[k].code, "dns.srv_failed") == 0 && x->out->list[k].summary &&
                    strstr(x->out->list[k].summary, n) &&
                    sl_dg_cause(&x->out->list[k], "the Expressway's log confirms: 'Could not resolve hostname' for %s at %s",
                                n, w) < 0)
                    return -SL_ENOMEM;
            continue;
        }
        /* the call's own refusal (the 404 the box answered) follows from
         * the lookup: it becomes a cause of this verdict, as the DNS rule
         * does with a capture of the query */
        sl_rejecter by = {.known = false, .role = SL_ROLE_NETWORK};
        char *so = NULL;
        for (size_t k = 0; call >= 0 && k < x->out->n; k++) {
            sl_diagnosis *v = &x->out->list[k];
            if (v->call != call || strncmp(v->code, "sip.response.", 13) != 0)
                continue;
            by = v->rejected_by;
            so = v->summary;
            v->summary = NULL;
            for (size_t j = 0; j < v->n_causes; j++)
                free(v->causes[j]);
            free(v->causes);
            free(v->evidence);
            memmove(v, v + 1, (x->out->n - k - 1) * sizeof *v);
            x->out->n--;
            break;
        }
        sl_diagnosis *d = sl_dg_add(x, "dns.srv_failed", call, 0);
        if (!d) {
            free(so);
            return -SL_ENOMEM;
        }
        d->rejected_by = by;
        char host[160];
        if (sl_dg_summary(d, "SRV lookup of %s failed: the Expressway %s could not resolve it (its log, %s)", n,
                          esc(l->host, host, sizeof host), w) < 0)
            return -SL_ENOMEM;
        if (sl_dg_cause(d, "no SRV record for %s (NXDOMAIN or an empty answer) in the DNS the Expressway asks, or "
                           "no answer at all: publish the record, or route the zone to an address instead",
                        n) < 0)
            return -SL_ENOMEM;
        if (q && sl_dg_cause(d, "the query: %s (Sending DNS query, Type %s)", qw, *type ? type : "SRV") < 0)
            return -SL_ENOMEM;
        int rc = so ? sl_dg_cause(d, "so %s", so) : 0;
        free(so);
        if (rc < 0 || sl_dg_cause(d, "%s", x->m->capture.n_files ? "no DNS packet of it is in the capture: the log is "
                                                                    "the witness (it does not name the DNS server)"
                                                                  : "read from the log alone (it does not name the "
                                                                    "DNS server)") < 0)
            return -SL_ENOMEM;
    }
    return 0;
}

int sl_xlog_diagnose(sl_xlog *const *logs, size_t n_logs, const sl_model *m, const sl_calls *calls,
                     sl_diagnoses *out)
{
    sl_dg_ctx x = {.m = m, .calls = calls, .out = out, .cap = out->n, .cp = out->capture_point};
    for (size_t i = 0; i < n_logs; i++) {
        int rc = dns_failures(&x, logs[i]); /* first: it may take over a call's sip verdict */
        if (rc == 0)
            rc = tls_failures(&x, logs[i]);
        if (rc == 0)
            rc = call_events(&x, logs[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}
