/* diagnose_tcp.c - TCP verdicts from each connection's life (conn_life.h):
 * tcp.no_answer (SYNs, nothing back), tcp.refused (an RST answering the
 * SYN), tcp.handshake_incomplete (the server kept resending its SYN-ACK)
 * and tcp.reset (an RST in a connection that was set up and not being
 * closed).  A client giving up, a probe, a stray RST and a normal close are
 * not rejections and get no verdict; an RST a middlebox forged is blamed on
 * the network, not on the host it names.  Only signalling connections are
 * judged (scope.c): the rest is counted in the diagnoses' other traffic. */
#include <inttypes.h>
#include <stdio.h>

#include "diagnose_internal.h"
#include "sipladder/conn_life.h"
#include "sipladder/status.h"
#include "sipladder/tls_session.h"

static const char *side_word(uint8_t side) { return side == SL_SIDE_CLIENT ? "client" : "server"; }

/* "30 us", "0.3 ms", "250 ms", "1.5 s" */
static const char *duration(sl_time_ns t, char *buf, size_t len)
{
    double s = sl_time_seconds(t);
    if (s < 0.001)
        snprintf(buf, len, "%.0f us", s * 1e6);
    else if (s < 0.01)
        snprintf(buf, len, "%.1f ms", s * 1e3);
    else if (s < 1)
        snprintf(buf, len, "%.0f ms", s * 1e3);
    else
        snprintf(buf, len, "%.1f s", s);
    return buf;
}

static int syn_evidence(sl_diagnosis *d, const sl_conn *c)
{
    int rc = 0;
    for (uint32_t i = 0; rc == 0 && i < c->syn_count && i < SL_MAX_SYN_FRAMES; i++)
        rc = sl_dg_evidence(d, c->syn_frames[i]);
    return rc;
}

static int no_answer(sl_dg_ctx *x, const sl_conn *c)
{
    sl_diagnosis *d = sl_dg_add(x, "tcp.no_answer", -1, c->index);
    if (!d)
        return -SL_ENOMEM;
    sl_dg_reject(x, d, &c->info.addr[SL_SIDE_SERVER], c->info.port[SL_SIDE_SERVER], SL_ROLE_NETWORK);
    char dst[SL_ADDR_PORT_STRLEN + 80];
    sl_dg_endpoint(x, &c->info.addr[SL_SIDE_SERVER], c->info.port[SL_SIDE_SERVER], dst, sizeof dst);
    /* The client's own persistence: first to last SYN (not to the end of
     * the capture, which says more about when tcpdump stopped). */
    uint32_t kept = c->syn_count < SL_MAX_SYN_FRAMES ? c->syn_count : SL_MAX_SYN_FRAMES;
    double tried = kept > 1 ? sl_time_seconds(c->syn_ts[kept - 1] - c->syn_ts[0]) : 0;
    int rc = kept > 1 ? sl_dg_summary(d, "%u SYNs to %s over %.1f s (first to last) got no answer (no SYN-ACK, no RST)",
                                      c->syn_count, dst, tried)
                      : sl_dg_summary(d, "%u SYN to %s got no answer (no SYN-ACK, no RST)", c->syn_count, dst);
    if (rc == 0)
        rc = syn_evidence(d, c);
    if (rc == 0)
        rc = sl_dg_cause(d, "a firewall drops the SYNs to port %u", c->info.port[SL_SIDE_SERVER]);
    if (rc == 0)
        rc = sl_dg_cause(d, "the far end is down or unreachable (routing)");
    if (rc == 0 && c->syn_count == 1)
        rc = sl_dg_cause(d, "unclear: the capture ends before the SYN's retransmissions");
    return rc;
}

/* An RST that the frames show was not its named sender's: blamed on the
 * path, with the host it names in the summary only. */
static void reject_injected(sl_dg_ctx *x, sl_diagnosis *d, const sl_conn *c, uint8_t side)
{
    sl_dg_reject(x, d, &c->info.addr[side], c->info.port[side], SL_ROLE_NETWORK);
    d->rejected_by.how = "an RST forged in the name of";
    d->suspect_injected = true;
}

static int refused(sl_dg_ctx *x, const sl_conn *c, const sl_conn_life *l)
{
    sl_diagnosis *d = sl_dg_add(x, "tcp.refused", -1, c->index);
    if (!d)
        return -SL_ENOMEM;
    char dst[SL_ADDR_PORT_STRLEN + 80];
    sl_dg_endpoint(x, &c->info.addr[SL_SIDE_SERVER], c->info.port[SL_SIDE_SERVER], dst, sizeof dst);
    int rc;
    if (l->injected) {
        reject_injected(x, d, c, SL_SIDE_SERVER);
        rc = sl_dg_summary(d, "an RST in the name of %s answered the SYN, with TTL %u where the server's "
                              "packets have %u: a middlebox refused the connection", dst, c->rst.ttl, c->rst.usual_ttl);
    } else {
        sl_dg_reject(x, d, &c->info.addr[SL_SIDE_SERVER], c->info.port[SL_SIDE_SERVER], SL_ROLE_SERVER);
        rc = sl_dg_summary(d, "%s refused the connection: RST answered the SYN", dst);
    }
    if (rc == 0)
        rc = syn_evidence(d, c);
    if (rc == 0)
        rc = sl_dg_evidence(d, c->rst.frame);
    if (rc == 0 && l->injected)
        rc = sl_dg_cause(d, "a firewall rejects port %u with an RST (reject with tcp-reset)", c->info.port[SL_SIDE_SERVER]);
    if (rc == 0 && !l->injected)
        rc = sl_dg_cause(d, "no service listens on port %u (wrong port, e.g. 5061 vs 5062, or the service is down)",
                         c->info.port[SL_SIDE_SERVER]);
    if (rc == 0 && !l->injected)
        rc = sl_dg_cause(d, "a firewall answers for the server with an RST");
    return rc;
}

static int handshake_lost(sl_dg_ctx *x, const sl_conn *c)
{
    sl_diagnosis *d = sl_dg_add(x, "tcp.handshake_incomplete", -1, c->index);
    if (!d)
        return -SL_ENOMEM;
    sl_dg_reject(x, d, &c->info.addr[SL_SIDE_SERVER], c->info.port[SL_SIDE_SERVER], SL_ROLE_NETWORK);
    d->rejected_by.how = "the client's ACK never reached";
    char dst[SL_ADDR_PORT_STRLEN + 80];
    sl_dg_endpoint(x, &c->info.addr[SL_SIDE_SERVER], c->info.port[SL_SIDE_SERVER], dst, sizeof dst);
    int rc = c->established_frame
                 ? sl_dg_summary(d, "%s sent its SYN-ACK %u times: the client's ACK (frame %" PRIu64 ") did not reach "
                                    "it, so the handshake never completed on the server's side",
                                 dst, c->synack_count, c->established_frame)
                 : sl_dg_summary(d, "%s sent its SYN-ACK %u times and no ACK came back: the handshake never completed",
                                 dst, c->synack_count);
    if (rc == 0)
        rc = syn_evidence(d, c);
    for (uint32_t i = 0; rc == 0 && i < c->synack_count && i < SL_MAX_SYN_FRAMES; i++)
        rc = sl_dg_evidence(d, c->synack_frames[i]);
    if (rc == 0)
        rc = sl_dg_evidence(d, c->established_frame);
    if (rc == 0)
        rc = sl_dg_cause(d, c->established_frame ? "a firewall between the capture point and the server drops the "
                                                   "client's ACK (asymmetric routing, or a state table that missed the SYN)"
                                                 : "the SYN-ACKs do not reach the client (a firewall or asymmetric "
                                                   "routing on the way back)");
    return rc;
}

/* What an RST in a set-up connection says, from what came before it. */
static int reset_causes(sl_diagnosis *d, const sl_conn *c, const sl_conn_life *l)
{
    const char *who = side_word(l->rst_side), *peer = side_word(l->rst_side ^ 1);
    if (l->injected)
        return l->before_synack
                   ? sl_dg_cause(d, "it came before the server's own SYN-ACK (frame %" PRIu64 "): the server did not "
                                    "send it; a firewall or an IPS forged it", c->synack_frame)
                   : sl_dg_cause(d, "its TTL %u is not the %s's usual %u: a firewall's inspection (e.g. a SIP or TLS "
                                    "inspection engine) forged it", c->rst.ttl, who, c->rst.usual_ttl);
    if (l->kind == SL_LIFE_RESET_UNUSED)
        return sl_dg_cause(d, "the server accepted the connection and reset it before either side sent data "
                              "(a connection limit or an access list of the server's application)");
    char delay[32];
    if (l->answers)
        return sl_dg_cause(d, "the %s reset it %s after the %s's data (frame %" PRIu64 "): its application "
                              "refused what it received, or failed on it", who,
                           duration(l->answer_delay, delay, sizeof delay), peer, l->answered_frame);
    return sl_dg_cause(d, "the %s reset it %s after the last data, answering nothing in the capture: its "
                          "application (or an idle timer) closed the connection abortively", who,
                       duration(l->idle, delay, sizeof delay));
}

static int reset(sl_dg_ctx *x, const sl_conn *c, const sl_conn_life *l)
{
    sl_diagnosis *d = sl_dg_add(x, "tcp.reset", -1, c->index);
    if (!d)
        return -SL_ENOMEM;
    const sl_addr *a = &c->info.addr[l->rst_side];
    uint16_t port = c->info.port[l->rst_side];
    char who[SL_ADDR_PORT_STRLEN + 80];
    sl_dg_endpoint(x, a, port, who, sizeof who);
    int rc;
    if (l->injected) {
        reject_injected(x, d, c, l->rst_side);
        rc = l->before_synack
                 ? sl_dg_summary(d, "an RST in the name of %s came before that server's own SYN-ACK: injected by a "
                                    "middlebox", who)
                 : sl_dg_summary(d, "the connection was reset by an RST in the name of %s whose TTL (%u, where its "
                                    "packets have %u) shows another sender: injected by a middlebox", who, c->rst.ttl,
                                 c->rst.usual_ttl);
    } else {
        sl_dg_reject(x, d, a, port, l->rst_side == SL_SIDE_CLIENT ? SL_ROLE_CLIENT : SL_ROLE_SERVER);
        rc = sl_dg_summary(d, "%s reset the connection (%s)", who,
                           l->kind == SL_LIFE_RESET_UNUSED ? "set up, before any data" : "RST in the established connection");
    }
    if (rc == 0 && l->answers)
        rc = sl_dg_evidence(d, l->answered_frame);
    if (rc == 0 && l->before_synack)
        rc = sl_dg_evidence(d, c->synack_frame);
    if (rc == 0)
        rc = sl_dg_evidence(d, c->rst.frame);
    if (rc == 0)
        rc = reset_causes(d, c, l);
    return rc;
}

/* A host that resets a connection idle this long is closing it (its own
 * idle timer), not refusing anything. */
#define IDLE_CLOSE_NS (INT64_C(30) * 1000000000)
/* A lone SYN is unanswered only once the capture went on this long. */
#define SYN_WAIT_NS INT64_C(1000000000)

/* A TLS session in use both ways: what a client's RST ends there is its own
 * session, whose application data the capture cannot read. */
static bool tls_in_use(const sl_conn *c)
{
    return c->tls && c->tls->side[0].app_records && c->tls->side[1].app_records;
}

/* Whether a connection's life is a rejection worth a verdict.  A client's
 * own RST counts only when it answers the server's data at once (and not
 * inside a TLS session in use); one after an idle spell is the client
 * closing its own connection, and so is the server's after 30 s idle. */
static bool is_rejection(const sl_dg_ctx *x, const sl_conn *c, const sl_conn_life *l)
{
    switch (l->kind) {
    case SL_LIFE_NO_ANSWER:
        return c->syn_count > 1 || x->m->capture.last_ts - c->syn_ts[0] >= SYN_WAIT_NS;
    case SL_LIFE_REFUSED: case SL_LIFE_HANDSHAKE_LOST: case SL_LIFE_RESET_UNUSED:
        return true;
    case SL_LIFE_RESET_IN_USE:
        if (l->injected)
            return true;
        if (l->rst_side == SL_SIDE_SERVER)
            return l->answers || l->idle < IDLE_CLOSE_NS;
        return l->answers && !tls_in_use(c);
    default:
        return false;
    }
}

static void count_other(sl_dg_ctx *x, const sl_conn *c, const sl_conn_life *l)
{
    sl_other_traffic *o = &x->out->other;
    if (l->kind == SL_LIFE_NO_ANSWER)
        o->no_answer++;
    else if (l->kind == SL_LIFE_REFUSED)
        o->refused++;
    else if (l->kind == SL_LIFE_HANDSHAKE_LOST)
        o->handshake_incomplete++;
    else
        o->reset++;
    uint16_t port = c->info.port[SL_SIDE_SERVER];
    for (size_t i = 0; i < o->n_ports; i++)
        if (o->ports[i] == port)
            return;
    if (o->n_ports < SL_OTHER_PORTS)
        o->ports[o->n_ports++] = port;
}

int sl_dg_rules_tcp(sl_dg_ctx *x)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < x->m->n_conns; i++) {
        const sl_conn *c = &x->m->conns[i];
        if (c->info.transport != SL_TRANSPORT_TCP || x->conn_judged[i])
            continue;
        sl_conn_life l = sl_conn_life_of(c);
        if (!is_rejection(x, c, &l))
            continue;
        if (!sl_dg_in_scope(x, c)) {
            count_other(x, c, &l);
            continue;
        }
        if (l.kind == SL_LIFE_REFUSED)
            rc = refused(x, c, &l);
        else if (l.kind == SL_LIFE_NO_ANSWER)
            rc = no_answer(x, c);
        else if (l.kind == SL_LIFE_HANDSHAKE_LOST)
            rc = handshake_lost(x, c);
        else
            rc = reset(x, c, &l);
    }
    return rc;
}
