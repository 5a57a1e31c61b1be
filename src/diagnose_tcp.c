/* diagnose_tcp.c - TCP verdicts from the model's connection tracking:
 * tcp.no_answer (SYNs, no SYN-ACK, no RST), tcp.refused (an RST answering
 * the SYN) and tcp.reset (an RST in a connection that was under way; the
 * model flags a TTL that is not its sender's usual one). */
#include <inttypes.h>

#include "diagnose_internal.h"
#include "sipladder/status.h"

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
    for (uint32_t i = 0; rc == 0 && i < c->syn_count && i < SL_MAX_SYN_FRAMES; i++)
        rc = sl_dg_evidence(d, c->syn_frames[i]);
    if (rc == 0)
        rc = sl_dg_cause(d, "a firewall drops the SYNs to port %u", c->info.port[SL_SIDE_SERVER]);
    if (rc == 0)
        rc = sl_dg_cause(d, "the far end is down or unreachable (routing)");
    if (rc == 0 && c->syn_count == 1)
        rc = sl_dg_cause(d, "unclear: the capture ends before the SYN's retransmissions");
    return rc;
}

static int refused(sl_dg_ctx *x, const sl_conn *c)
{
    sl_diagnosis *d = sl_dg_add(x, "tcp.refused", -1, c->index);
    if (!d)
        return -SL_ENOMEM;
    const sl_addr *a = &c->info.addr[c->rst.side];
    uint16_t port = c->info.port[c->rst.side];
    sl_dg_reject(x, d, a, port, c->rst.side == SL_SIDE_CLIENT ? SL_ROLE_CLIENT : SL_ROLE_SERVER);
    char dst[SL_ADDR_PORT_STRLEN + 80];
    sl_dg_endpoint(x, &c->info.addr[SL_SIDE_SERVER], c->info.port[SL_SIDE_SERVER], dst, sizeof dst);
    int rc = sl_dg_summary(d, "%s refused the connection: RST answered the SYN%s", dst,
                           c->rst.ttl_differs ? " (its TTL is not the server's usual one)" : "");
    for (uint32_t i = 0; rc == 0 && i < c->syn_count && i < SL_MAX_SYN_FRAMES; i++)
        rc = sl_dg_evidence(d, c->syn_frames[i]);
    if (rc == 0)
        rc = sl_dg_evidence(d, c->rst.frame);
    if (rc == 0)
        rc = sl_dg_cause(d, "no service listens on port %u (wrong port, e.g. 5061 vs 5062, or the service is down)",
                         c->info.port[SL_SIDE_SERVER]);
    if (rc == 0)
        rc = sl_dg_cause(d, "a firewall answers for the server with an RST");
    d->suspect_injected = c->rst.ttl_differs;
    return rc;
}

static int reset(sl_dg_ctx *x, const sl_conn *c)
{
    sl_diagnosis *d = sl_dg_add(x, "tcp.reset", -1, c->index);
    if (!d)
        return -SL_ENOMEM;
    const sl_addr *a = &c->info.addr[c->rst.side];
    uint16_t port = c->info.port[c->rst.side];
    sl_dg_reject(x, d, a, port, c->rst.side == SL_SIDE_CLIENT ? SL_ROLE_CLIENT : SL_ROLE_SERVER);
    char who[SL_ADDR_PORT_STRLEN + 80];
    sl_dg_endpoint(x, a, port, who, sizeof who);
    d->suspect_injected = c->rst.ttl_differs;
    int rc;
    if (c->rst.ttl_differs)
        rc = sl_dg_summary(d, "the connection was reset by an RST from %s whose TTL %u is not its usual %u: "
                              "probably injected by a middlebox", who, c->rst.ttl, c->rst.usual_ttl);
    else
        rc = sl_dg_summary(d, "%s reset the connection (%s)", who,
                           c->synack_frame && c->rst.frame < c->synack_frame ? "before the SYN-ACK"
                                                                             : "RST in the established connection");
    if (rc == 0)
        rc = sl_dg_evidence(d, c->rst.frame);
    if (rc == 0 && c->rst.ttl_differs)
        rc = sl_dg_cause(d, "a firewall's application-layer inspection (e.g. SIP ALG) reset the connection");
    if (rc == 0)
        rc = sl_dg_cause(d, "the %s's application closed the connection abruptly (it rejected what it received)",
                         c->rst.side == SL_SIDE_CLIENT ? "client" : "server");
    return rc;
}

/* An RST after either side's FIN ends a connection that was already being
 * closed (abortive close of an idle or half-closed connection): not a
 * rejection. */
static bool reset_after_close(const sl_conn *c)
{
    for (int s = 0; s < 2; s++)
        if (c->fin[s].frame && c->fin[s].frame < c->rst.frame)
            return true;
    return false;
}

int sl_dg_rules_tcp(sl_dg_ctx *x)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < x->m->n_conns; i++) {
        const sl_conn *c = &x->m->conns[i];
        if (c->info.transport != SL_TRANSPORT_TCP || x->conn_judged[i])
            continue;
        if (c->refused)
            rc = refused(x, c);
        else if (c->syn_count && !c->synack_count && !c->rst_count)
            rc = no_answer(x, c);
        else if (c->rst_count && c->rst.frame && !reset_after_close(c))
            rc = reset(x, c);
    }
    return rc;
}
