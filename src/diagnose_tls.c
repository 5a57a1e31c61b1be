/* diagnose_tls.c - TLS verdicts from each connection's handshake outcome
 * (tls_session.h): tls.alert.<name> for a fatal alert in the clear, blamed
 * on its sender, and tls.closed_after_certificate for a peer that hung up
 * right after the other's Certificate.  The certificate hints of
 * SCENARIOS.md become the causes, most specific first. */
#include <stdio.h>
#include <string.h>

#include "diagnose_internal.h"
#include "sipladder/status.h"
#include "sipladder/tls.h"
#include "sipladder/tls_session.h"

static const char *side_word(sl_dir d) { return d == SL_DIR_C2S ? "client" : "server"; }

/* The table's name, or "alert_<n>" for a description it does not know. */
static const char *alert_name(uint8_t desc, char *buf, size_t len)
{
    const char *n = sl_tls_alert_name(desc);
    if (n)
        return n;
    snprintf(buf, len, "alert_%u", desc);
    return buf;
}

/* Hint bit -> cause, in the order a reader should check them. */
static const struct {
    unsigned bit;
    const char *text;
} HINT_CAUSES[] = {
    {SL_TLS_HINT_EMPTY_CHAIN, "sent no certificate: none is configured for this service"},
    {SL_TLS_HINT_TEMPORARY, "presents a temporary/default certificate (replace it with a CA-signed one)"},
    {SL_TLS_HINT_SELF_SIGNED, "presents a self-signed certificate"},
    {SL_TLS_HINT_NO_INTERMEDIATE, "does not send its intermediate CA certificate (chain of one, issuer not itself)"},
    {SL_TLS_HINT_EXPIRED, "presents an expired certificate"},
    {SL_TLS_HINT_NOT_YET_VALID, "presents a certificate not yet valid (clock, or a certificate too new)"},
    {SL_TLS_HINT_NAME_MISMATCH, "presents a certificate without the expected name in SAN/CN"},
    {SL_TLS_HINT_CA_NOT_REQUESTED, "has a certificate whose issuer is not among the CAs of the server's CertificateRequest"},
    {SL_TLS_HINT_VERIFY_FAILED, "presents a chain that does not verify against the given CAs"},
    {SL_TLS_HINT_BAD_ORDER, "sends its chain out of order"},
    {SL_TLS_HINT_BROKEN_CERT, "presents a certificate that could not be parsed"},
};

static int hint_causes(sl_diagnosis *d, const sl_tls_outcome *oc)
{
    int rc = 0;
    const char *whose = side_word(oc->chain_of);
    for (size_t i = 0; rc == 0 && i < sizeof HINT_CAUSES / sizeof HINT_CAUSES[0]; i++)
        if (oc->hints & HINT_CAUSES[i].bit)
            rc = sl_dg_cause(d, "the %s %s", whose, HINT_CAUSES[i].text);
    return rc;
}

/* What an alert usually means when the chain gave no hint. */
static int alert_causes(sl_diagnosis *d, const sl_tls_outcome *oc)
{
    const char *sender = side_word(oc->side), *peer = side_word(oc->chain_of);
    switch (oc->alert) {
    case 48: /* unknown_ca */
        return sl_dg_cause(d, "the %s does not trust the CA that signed the %s's certificate "
                              "(add it to the trusted CA list)", sender, peer);
    case 42: case 43: case 46: /* bad_certificate, unsupported_certificate, certificate_unknown */
        return sl_dg_cause(d, "the %s rejected the %s's certificate (untrusted issuer, name mismatch "
                              "or wrong key usage)", sender, peer);
    case 45:
        return sl_dg_cause(d, "the %s's certificate has expired, or the %s's clock is wrong", peer, sender);
    case 40:
        return sl_dg_cause(d, "no common cipher suite, version or signature algorithm, or a required client "
                              "certificate is missing");
    case 70:
        return sl_dg_cause(d, "no common TLS version");
    case 112:
        return sl_dg_cause(d, "the server does not know the name in the ClientHello's SNI");
    default:
        return 0;
    }
}

static int evidence_of(sl_diagnosis *d, const sl_tls_outcome *oc)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < oc->n_frames; i++)
        rc = sl_dg_evidence(d, oc->frames[i]);
    return rc;
}

static int fatal_alert(sl_dg_ctx *x, const sl_conn *c, const sl_tls_outcome *oc)
{
    char code[64], nb[16];
    const char *name = alert_name(oc->alert, nb, sizeof nb);
    snprintf(code, sizeof code, "tls.alert.%s", name);
    sl_diagnosis *d = sl_dg_add(x, code, -1, c->index);
    if (!d)
        return -SL_ENOMEM;
    sl_dir s = oc->has_side ? oc->side : SL_DIR_C2S;
    sl_dg_reject(x, d, &c->info.addr[s], c->info.port[s], s == SL_DIR_C2S ? SL_ROLE_CLIENT : SL_ROLE_SERVER);
    char who[SL_ADDR_PORT_STRLEN + 80];
    sl_dg_endpoint(x, &c->info.addr[s], c->info.port[s], who, sizeof who);
    int rc;
    if (oc->answers_chain)
        rc = sl_dg_summary(d, "the %s %s sent fatal alert %s (%u): it rejected the %s's certificate", side_word(s),
                           who, name, oc->alert, side_word(oc->chain_of));
    else
        rc = sl_dg_summary(d, "the %s %s sent fatal alert %s (%u) during the handshake", side_word(s), who, name,
                           oc->alert);
    if (rc == 0)
        rc = evidence_of(d, oc);
    /* The server's alert after a CertificateRequest: that request (mutual
     * TLS asked for) is part of the proof. */
    if (rc == 0 && s == SL_DIR_S2C && c->tls && c->tls->cert_request.frame)
        rc = sl_dg_evidence(d, c->tls->cert_request.frame);
    if (rc == 0 && oc->answers_chain)
        rc = hint_causes(d, oc);
    if (rc == 0)
        rc = alert_causes(d, oc);
    return rc;
}

static int closed_after_cert(sl_dg_ctx *x, const sl_conn *c, const sl_tls_outcome *oc)
{
    sl_diagnosis *d = sl_dg_add(x, "tls.closed_after_certificate", -1, c->index);
    if (!d)
        return -SL_ENOMEM;
    sl_dir s = oc->side;
    sl_dg_reject(x, d, &c->info.addr[s], c->info.port[s], s == SL_DIR_C2S ? SL_ROLE_CLIENT : SL_ROLE_SERVER);
    char who[SL_ADDR_PORT_STRLEN + 80];
    sl_dg_endpoint(x, &c->info.addr[s], c->info.port[s], who, sizeof who);
    int rc = sl_dg_summary(d, "the %s %s closed the connection right after the %s's Certificate, without an alert",
                           side_word(s), who, side_word(oc->chain_of));
    if (rc == 0)
        rc = evidence_of(d, oc);
    if (rc == 0)
        rc = hint_causes(d, oc);
    if (rc == 0)
        rc = sl_dg_cause(d, "the %s's TLS verify failed on the %s's certificate: subject name / SAN mismatch "
                            "(TLS verify subject name)", side_word(s), side_word(oc->chain_of));
    return rc;
}

int sl_dg_rules_tls(sl_dg_ctx *x)
{
    sl_tls_options opts = {0};
    if (x->o->tls)
        opts = *x->o->tls;
    if (x->o->expect_name)
        opts.expect_name = x->o->expect_name;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < x->m->n_conns; i++) {
        const sl_conn *c = &x->m->conns[i];
        if (!c->tls || x->conn_judged[i])
            continue;
        sl_tls_outcome oc;
        rc = sl_model_tls_outcome(c, &opts, &oc);
        if (rc == -SL_EUSAGE) {
            rc = 0;
            continue;
        }
        if (rc < 0)
            break;
        if (oc.kind == SL_TLS_OUTCOME_FATAL_ALERT)
            rc = fatal_alert(x, c, &oc);
        else if (oc.kind == SL_TLS_OUTCOME_CLOSED_AFTER_CERT && oc.has_side)
            rc = closed_after_cert(x, c, &oc);
    }
    return rc;
}
