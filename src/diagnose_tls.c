/* diagnose_tls.c - TLS verdicts from each connection's handshake outcome
 * (tls_session.h): tls.alert.<name> for a fatal alert in the clear, blamed
 * on its sender; tls.closed_after_certificate for a peer that hung up
 * within a second of the other's Certificate, and tls.closed_after_handshake
 * for one that left within a second of a completed TLS 1.2 handshake with
 * no application data (how an Expressway drops a peer whose names do not
 * match).  Neither when the same host accepted the same certificate on
 * another connection.  Their causes are the checks the capture allows (the
 * name against SNI or --expect-name, the chain, its validity), each said as
 * found; the certificate hints of SCENARIOS.md, most specific first. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diagnose_internal.h"
#include "sipladder/conn_life.h"
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

/* The fatal alert's packet, when its TTL was not its sender's usual one. */
static const sl_close_event *odd_ttl_alert(const sl_conn *c, const sl_tls_outcome *oc)
{
    const sl_tls_session *t = c->tls;
    for (size_t i = 0; t && i < t->n_alerts; i++) {
        const sl_tls_alert_seen *a = &t->alerts[i];
        if (a->encrypted || a->level != 2 || a->description != oc->alert)
            continue;
        for (uint8_t k = 0; k < c->n_odd_ttl; k++)
            if (c->odd_ttl[k].frame == a->frame && c->odd_ttl[k].side == (uint8_t)a->dir)
                return &c->odd_ttl[k];
        return NULL;
    }
    return NULL;
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
    const sl_close_event *forged = odd_ttl_alert(c, oc);
    if (forged) {
        /* Not the host's own alert: a middlebox's, in its name. */
        sl_dg_reject(x, d, &c->info.addr[s], c->info.port[s], SL_ROLE_NETWORK);
        d->rejected_by.how = "an alert forged in the name of";
        d->suspect_injected = true;
        rc = sl_dg_summary(d, "fatal alert %s (%u) in the name of the %s %s, whose TTL (%u, where its packets have %u) "
                              "shows another sender: injected by a middlebox", name, oc->alert, side_word(s), who,
                           forged->ttl, forged->usual_ttl);
        if (rc == 0)
            rc = evidence_of(d, oc);
        if (rc == 0)
            rc = sl_dg_cause(d, "a firewall's TLS or SIP inspection ended the handshake with an alert of its own");
        return rc;
    }
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

/* "SAN www.a.test, a.test; CN a.test" into buf (escaped capture text). */
static const char *names_of(const sl_cert_info *ci, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < ci->n_san_dns && used + 8 < len; i++) {
        char one[160];
        sl_dg_text(ci->san_dns[i], strlen(ci->san_dns[i]), one, sizeof one);
        int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "SAN ", one);
        used += n > 0 ? (size_t)n : 0;
    }
    if (ci->subject_cn && used + 8 < len) {
        char one[160];
        sl_dg_text(ci->subject_cn, strlen(ci->subject_cn), one, sizeof one);
        snprintf(buf + used, len - used, "%sCN %s", used ? "; " : "", one);
    }
    if (used >= len)
        buf[len - 1] = '\0';
    return buf[0] ? buf : "no name";
}

/* The name the closer wanted of its peer: --expect-name, else (for the
 * server's certificate) the SNI the client sent. */
static const char *wanted_name(const sl_dg_ctx *x, const sl_conn *c, sl_dir peer, bool *from_sni)
{
    *from_sni = false;
    const char *name = x->o->expect_name ? x->o->expect_name : (x->o->tls ? x->o->tls->expect_name : NULL);
    if (!name && peer == SL_DIR_S2C && c->tls->sni && *c->tls->sni) {
        *from_sni = true;
        name = c->tls->sni;
    }
    return name;
}

/* The checks the capture allows on the chain the closer received, each
 * said as what it found: the name, then completeness, validity and trust
 * (the hints); "none fails" when that is so. */
static int checked_causes(const sl_dg_ctx *x, sl_diagnosis *d, const sl_conn *c, const sl_tls_outcome *oc)
{
    sl_dir peer = oc->chain_of;
    const char *closer = side_word(oc->side), *whose = side_word(peer);
    const sl_tls_chain *ch = &c->tls->chain[peer];
    const sl_chain_report *rep = &oc->report[peer];
    bool from_sni;
    const char *name = wanted_name(x, c, peer, &from_sni);
    char names[400], want[200];
    int rc = 0;
    if (!ch->n || ch->certs[0]->broken)
        return hint_causes(d, oc);
    names_of(ch->certs[0], names, sizeof names);
    if (name)
        sl_dg_text(name, strlen(name), want, sizeof want);
    if (name && rep->name_checked && !rep->name_matched)
        rc = sl_dg_cause(d, "the %s's certificate does not carry %s, the name %s; it has %s: a TLS verify of the "
                            "subject name fails", whose, want,
                         from_sni ? "the client asked for in its SNI" : "expected (--expect-name)", names);
    unsigned other = oc->hints & ~(unsigned)SL_TLS_HINT_NAME_MISMATCH;
    if (rc == 0 && other)
        rc = hint_causes(d, &(sl_tls_outcome){.chain_of = oc->chain_of, .hints = other});
    if (rc == 0 && !name)
        rc = sl_dg_cause(d, "the name cannot be checked: the %s asked for none (no SNI; give --expect-name); the "
                            "certificate has %s", closer, names);
    if (rc == 0 && (oc->hints & ~(unsigned)SL_TLS_HINT_NAME_MISMATCH) == 0 && !(rep->name_checked && !rep->name_matched))
        rc = sl_dg_cause(d, "no check the capture allows fails (%s%s%s): the %s may not trust the issuer%s, or "
                            "closed for a reason of its own", name && rep->name_checked ? "the name matches, " : "",
                         rep->intermediate_missing ? "" : "the chain is complete, ", "valid at the time", closer,
                         rep->verify_done ? "" : " (check it with --ca-file)");
    return rc;
}

/* ------------------------------------------------ after the handshake */

/* A close this long after the handshake or the Certificate is no longer
 * its answer. */
#define RIGHT_AFTER_NS INT64_C(1000000000)

/* How the closer left: its RST or FIN, or an encrypted alert of its own. */
typedef struct tls_leave {
    sl_dir by;
    uint64_t frame;
    sl_time_ns ts;
    const char *how; /* "reset", "closed", "sent an encrypted alert and closed" */
} tls_leave;

static bool first_leave(const sl_conn *c, tls_leave *out)
{
    const sl_close_event *first = NULL;
    if (c->rst_count && c->rst.frame)
        first = &c->rst;
    for (int s = 0; s < 2; s++)
        if (c->fin[s].frame && (!first || c->fin[s].frame < first->frame))
            first = &c->fin[s];
    if (!first)
        return false;
    *out = (tls_leave){(sl_dir)first->side, first->frame, first->ts, first == &c->rst ? "reset" : "closed"};
    const sl_tls_session *t = c->tls;
    for (size_t i = 0; i < t->n_alerts; i++)
        if (t->alerts[i].encrypted && t->alerts[i].dir == out->by && t->alerts[i].frame <= out->frame) {
            out->frame = t->alerts[i].frame;
            out->ts = t->alerts[i].ts;
            out->how = "sent an encrypted alert and closed";
            break;
        }
    return true;
}

/* TLS 1.2 (TLS 1.3 hides where its handshake ends): both Finished, no
 * application data either way, then one side left at once. */
static bool left_after_handshake(const sl_conn *c, const sl_tls_outcome *oc, tls_leave *lv)
{
    const sl_tls_session *t = c->tls;
    if (oc->kind != SL_TLS_OUTCOME_COMPLETED || t->tls13 || !t->side[0].finished.frame ||
        !t->side[1].finished.frame || t->side[0].app_records || t->side[1].app_records || !first_leave(c, lv))
        return false;
    sl_time_ns done = t->side[0].finished.ts > t->side[1].finished.ts ? t->side[0].finished.ts : t->side[1].finished.ts;
    /* A resumed session shows no certificate: nothing was verified here. */
    sl_dir peer = lv->by == SL_DIR_C2S ? SL_DIR_S2C : SL_DIR_C2S;
    return t->chain[peer].at.frame && lv->ts >= done && lv->ts - done <= RIGHT_AFTER_NS;
}

static int closed_after_handshake(sl_dg_ctx *x, const sl_conn *c, const sl_tls_outcome *done, const tls_leave *lv)
{
    sl_diagnosis *d = sl_dg_add(x, "tls.closed_after_handshake", -1, c->index);
    if (!d)
        return -SL_ENOMEM;
    sl_dir s = lv->by, peer = s == SL_DIR_C2S ? SL_DIR_S2C : SL_DIR_C2S;
    sl_dg_reject(x, d, &c->info.addr[s], c->info.port[s], s == SL_DIR_C2S ? SL_ROLE_CLIENT : SL_ROLE_SERVER);
    char who[SL_ADDR_PORT_STRLEN + 80];
    sl_dg_endpoint(x, &c->info.addr[s], c->info.port[s], who, sizeof who);
    const sl_tls_session *t = c->tls;
    int rc = sl_dg_summary(d, "the %s %s %s the connection right after the TLS handshake completed, before any "
                              "application data: it refused the %s's certificate after verifying it, or had nothing "
                              "to send", side_word(s), who, lv->how, side_word(peer));
    if (rc == 0)
        rc = sl_dg_evidence(d, t->client_hello.frame);
    if (rc == 0)
        rc = sl_dg_evidence(d, t->chain[peer].at.frame);
    if (rc == 0)
        rc = sl_dg_evidence(d, t->side[0].finished.frame > t->side[1].finished.frame ? t->side[0].finished.frame
                                                                                     : t->side[1].finished.frame);
    if (rc == 0)
        rc = sl_dg_evidence(d, lv->frame);
    if (rc == 0) {
        sl_tls_outcome oc = *done;
        oc.side = s;
        oc.chain_of = peer;
        oc.hints = sl_tls_chain_hints(&done->report[peer]);
        rc = checked_causes(x, d, c, &oc);
    }
    return rc;
}

/* The side that left right after its peer's Certificate; `answer`, when
 * not NULL, is the peer's alert that answered that close. */
static int closed_after_cert(sl_dg_ctx *x, const sl_conn *c, const sl_tls_outcome *oc, const tls_leave *lv,
                             const sl_tls_alert_seen *answer)
{
    sl_diagnosis *d = sl_dg_add(x, "tls.closed_after_certificate", -1, c->index);
    if (!d)
        return -SL_ENOMEM;
    sl_dir s = oc->side;
    sl_dg_reject(x, d, &c->info.addr[s], c->info.port[s], s == SL_DIR_C2S ? SL_ROLE_CLIENT : SL_ROLE_SERVER);
    char who[SL_ADDR_PORT_STRLEN + 80], nb[16];
    sl_dg_endpoint(x, &c->info.addr[s], c->info.port[s], who, sizeof who);
    int rc = answer ? sl_dg_summary(d, "the %s %s %s the connection right after the %s's Certificate, without an "
                                       "alert; the %s's alert %s (frame %" PRIu64 ") only answers that close",
                                    side_word(s), who, lv->how, side_word(oc->chain_of), side_word(oc->chain_of),
                                    alert_name(answer->description, nb, sizeof nb), answer->frame)
                    : sl_dg_summary(d, "the %s %s %s the connection right after the %s's Certificate, without an alert",
                                    side_word(s), who, lv->how, side_word(oc->chain_of));
    if (rc == 0)
        rc = sl_dg_evidence(d, c->tls->client_hello.frame);
    if (rc == 0)
        rc = sl_dg_evidence(d, c->tls->chain[oc->chain_of].at.frame);
    if (rc == 0)
        rc = sl_dg_evidence(d, lv->frame);
    if (rc == 0 && answer)
        rc = sl_dg_evidence(d, answer->frame);
    if (rc == 0)
        rc = checked_causes(x, d, c, oc);
    return rc;
}

/* ------------------------------------------------ the rules */

/* The leaf the closer rejected, accepted by the same host on another
 * connection of the capture: then this close was no rejection of it. */
static bool accepted_elsewhere(const sl_dg_ctx *x, const sl_conn *c, sl_dir closer, const bool *completed)
{
    sl_dir peer = closer == SL_DIR_C2S ? SL_DIR_S2C : SL_DIR_C2S;
    const sl_tls_chain *ch = &c->tls->chain[peer];
    if (!ch->n)
        return false;
    for (size_t i = 0; i < x->m->n_conns; i++) {
        const sl_conn *o = &x->m->conns[i];
        if (o == c || !completed[i] || !sl_addr_equal(&o->info.addr[closer], &c->info.addr[closer]))
            continue;
        const sl_tls_chain *oc = &o->tls->chain[peer];
        if (oc->n && (oc->certs[0] == ch->certs[0] ||
                      strcmp(oc->certs[0]->sha256_hex, ch->certs[0]->sha256_hex) == 0))
            return true;
    }
    return false;
}

/* Each TLS connection's outcome; completed[i]: its handshake completed and
 * application data followed (the certificates were accepted). */
static int outcomes_of(const sl_dg_ctx *x, const sl_tls_options *opts, sl_tls_outcome *oc, bool *completed)
{
    for (size_t i = 0; i < x->m->n_conns; i++) {
        const sl_conn *c = &x->m->conns[i];
        oc[i].kind = SL_TLS_OUTCOME_NONE;
        if (!c->tls)
            continue;
        int rc = sl_model_tls_outcome(c, opts, &oc[i]);
        if (rc < 0 && rc != -SL_EUSAGE)
            return rc;
        completed[i] = rc == 0 && oc[i].kind == SL_TLS_OUTCOME_COMPLETED && c->tls->side[0].app_records &&
                       c->tls->side[1].app_records;
    }
    return 0;
}

/* A fatal alert that answers the peer's FIN or RST (OpenSSL says
 * decode_error to an EOF mid-handshake): the peer left first, right after
 * the alert sender's Certificate, and is the one that refused. */
static bool alert_answers_a_close(const sl_conn *c, const sl_tls_outcome *oc, tls_leave *lv)
{
    const sl_tls_alert_seen *a = sl_tls_session_first_fatal(c->tls);
    if (!a || !oc->has_side || !first_leave(c, lv) || lv->by == a->dir || lv->frame >= a->frame)
        return false;
    const sl_tls_chain *ch = &c->tls->chain[a->dir];
    return ch->at.frame && ch->at.frame <= lv->frame && lv->ts - ch->at.ts <= RIGHT_AFTER_NS;
}

/* ------------------------------------------------ handshakes that never finished */

/* The later of two marks. */
static sl_tls_mark later(sl_tls_mark a, sl_tls_mark b) { return b.frame > a.frame ? b : a; }

/* The last record of side d's handshake flight (TLS 1.3: every encrypted
 * record counts, since the handshake's end is hidden). */
static sl_tls_mark last_flight(const sl_tls_session *t, sl_dir d)
{
    sl_tls_mark m = later(t->side[d].last_hs, d == SL_DIR_S2C ? t->server_hello : t->client_hello);
    return t->tls13 ? later(m, t->side[d].last_app) : m;
}

/* Another connection on which the same client completed a handshake with
 * the same server address and port: its connection index, or 0. */
static uint32_t completed_elsewhere(const sl_dg_ctx *x, const sl_conn *c, const bool *completed)
{
    for (size_t i = 0; i < x->m->n_conns; i++) {
        const sl_conn *o = &x->m->conns[i];
        if (o != c && completed[i] && sl_addr_equal(&o->info.addr[0], &c->info.addr[0]) &&
            sl_addr_equal(&o->info.addr[1], &c->info.addr[1]) && o->info.port[1] == c->info.port[1])
            return o->index;
    }
    return 0;
}

/* One side left in the middle of a handshake, within a second of the
 * other's flight, without a clear alert (TLS 1.3: with its alert
 * encrypted, if any). */
static int handshake_aborted(sl_dg_ctx *x, const sl_conn *c, const tls_leave *lv, const bool *completed)
{
    const sl_tls_session *t = c->tls;
    sl_dir s = lv->by, peer = s == SL_DIR_C2S ? SL_DIR_S2C : SL_DIR_C2S;
    sl_tls_mark flight = last_flight(t, peer);
    if (!t->server_hello.frame || !flight.frame || flight.frame > lv->frame || lv->ts - flight.ts > RIGHT_AFTER_NS)
        return 0;
    sl_diagnosis *d = sl_dg_add(x, "tls.handshake_aborted", -1, c->index);
    if (!d)
        return -SL_ENOMEM;
    sl_dg_reject(x, d, &c->info.addr[s], c->info.port[s], s == SL_DIR_C2S ? SL_ROLE_CLIENT : SL_ROLE_SERVER);
    char who[SL_ADDR_PORT_STRLEN + 80];
    sl_dg_endpoint(x, &c->info.addr[s], c->info.port[s], who, sizeof who);
    /* TLS 1.3: the leaver's own encrypted records before it left. */
    uint64_t mine = t->tls13 ? t->side[s].app_records : 0;
    int rc = sl_dg_summary(d, "the %s %s %s the connection during the TLS%s handshake, right after the %s's flight "
                              "(frame %" PRIu64 ")%s: the handshake never completed", side_word(s), who, lv->how,
                           t->tls13 ? " 1.3" : "", side_word(peer), flight.frame,
                           mine == 1 ? ", after one encrypted record of its own" : "");
    if (rc == 0)
        rc = sl_dg_evidence(d, t->client_hello.frame);
    if (rc == 0)
        rc = sl_dg_evidence(d, flight.frame);
    if (rc == 0 && mine)
        rc = sl_dg_evidence(d, t->side[s].first_app.frame);
    if (rc == 0)
        rc = sl_dg_evidence(d, lv->frame);
    if (rc == 0 && t->tls13)
        rc = sl_dg_cause(d, "TLS 1.3 encrypts the certificates and alerts: the capture cannot show which check "
                            "failed; the usual one is the %s refusing the %s's certificate (name, issuer, validity)%s",
                         side_word(s), side_word(peer), mine == 1 ? " and the one record an encrypted alert" : "");
    uint32_t other = completed_elsewhere(x, c, completed);
    if (rc == 0 && other)
        rc = sl_dg_cause(d, "the same client completed a handshake with this server on connection #%u: the certificate "
                            "is likely not the cause", other);
    if (rc == 0 && !t->tls13)
        rc = sl_dg_cause(d, "the %s left without an alert: it gave up on the handshake (an unsupported choice of the %s, "
                            "a timeout of its own, or a crash)", side_word(s), side_word(peer));
    return rc;
}

/* The ClientHello got no ServerHello: the server (or the path) closed or
 * reset the connection right after it, or nothing came back while the
 * capture went on. */
#define NO_HELLO_WAIT_NS (INT64_C(5) * 1000000000)

static int no_server_hello(sl_dg_ctx *x, const sl_conn *c)
{
    const sl_tls_session *t = c->tls;
    tls_leave lv;
    bool left = first_leave(c, &lv);
    bool server_left = left && lv.by == SL_DIR_S2C && lv.ts - t->client_hello.ts <= RIGHT_AFTER_NS;
    sl_time_ns waited = (left ? lv.ts : x->m->capture.last_ts) - t->client_hello.ts;
    if (!server_left && waited < NO_HELLO_WAIT_NS)
        return 0;
    sl_diagnosis *d = sl_dg_add(x, "tls.no_server_hello", -1, c->index);
    if (!d)
        return -SL_ENOMEM;
    char srv[SL_ADDR_PORT_STRLEN + 80];
    sl_dg_endpoint(x, &c->info.addr[1], c->info.port[1], srv, sizeof srv);
    bool forged = server_left && lv.frame == c->rst.frame && c->rst.ttl_differs;
    int rc;
    if (server_left && !forged) {
        sl_dg_reject(x, d, &c->info.addr[1], c->info.port[1], SL_ROLE_SERVER);
        rc = sl_dg_summary(d, "the server %s %s the connection right after the ClientHello, without a ServerHello or "
                              "an alert", srv, lv.how);
    } else if (forged) {
        sl_dg_reject(x, d, &c->info.addr[1], c->info.port[1], SL_ROLE_NETWORK);
        d->rejected_by.how = "an RST forged in the name of";
        d->suspect_injected = true;
        rc = sl_dg_summary(d, "an RST in the name of %s, whose TTL shows another sender, ended the connection right "
                              "after the ClientHello", srv);
    } else {
        /* Its TCP accepted the connection: the host is there, its TLS is not. */
        sl_dg_reject(x, d, &c->info.addr[1], c->info.port[1], c->synack_count ? SL_ROLE_SERVER : SL_ROLE_NETWORK);
        rc = sl_dg_summary(d, "%s %s never answered the ClientHello (%.1f s without a ServerHello)", srv,
                           c->synack_count ? "accepted the TCP connection but" : "", sl_time_seconds(waited));
    }
    if (rc == 0)
        rc = sl_dg_evidence(d, t->client_hello.frame);
    if (rc == 0 && left)
        rc = sl_dg_evidence(d, lv.frame);
    char sni[200] = "";
    if (t->sni)
        sl_dg_text(t->sni, strlen(t->sni), sni, sizeof sni);
    if (rc == 0 && server_left && !forged)
        rc = sl_dg_cause(d, "the server refuses what the ClientHello offers (TLS versions, cipher suites) or the name "
                            "it asks for%s%s%s", sni[0] ? " (SNI " : "", sni, sni[0] ? ")" : "");
    if (rc == 0 && (server_left || forged))
        rc = sl_dg_cause(d, "a firewall's TLS inspection ended it");
    if (rc == 0 && !server_left && !forged)
        rc = sl_dg_cause(d, "the service on port %u does not speak TLS (e.g. SIP over TCP on a TLS port) or hangs",
                         c->info.port[1]);
    if (rc == 0 && !server_left && !forged)
        rc = sl_dg_cause(d, "a middlebox holds the server's answer");
    return rc;
}

static int judge(sl_dg_ctx *x, const sl_conn *c, const sl_tls_outcome *oc, const bool *completed)
{
    tls_leave lv;
    if (oc->kind == SL_TLS_OUTCOME_FATAL_ALERT && alert_answers_a_close(c, oc, &lv)) {
        if (accepted_elsewhere(x, c, lv.by, completed))
            return 0;
        sl_dir sender = lv.by == SL_DIR_C2S ? SL_DIR_S2C : SL_DIR_C2S;
        sl_tls_outcome left = *oc;
        left.kind = SL_TLS_OUTCOME_CLOSED_AFTER_CERT;
        left.side = lv.by;
        left.chain_of = sender;
        left.answers_chain = true;
        left.hints = sl_tls_chain_hints(&oc->report[sender]);
        return closed_after_cert(x, c, &left, &lv, sl_tls_session_first_fatal(c->tls));
    }
    if (oc->kind == SL_TLS_OUTCOME_FATAL_ALERT)
        return fatal_alert(x, c, oc);
    if (oc->kind == SL_TLS_OUTCOME_CLOSED_AFTER_CERT && oc->has_side) {
        const sl_tls_chain *ch = &c->tls->chain[oc->chain_of];
        if (!first_leave(c, &lv) || lv.ts - ch->at.ts > RIGHT_AFTER_NS ||
            accepted_elsewhere(x, c, oc->side, completed))
            return 0;
        return closed_after_cert(x, c, oc, &lv, NULL);
    }
    if (left_after_handshake(c, oc, &lv) && !accepted_elsewhere(x, c, lv.by, completed))
        return closed_after_handshake(x, c, oc, &lv);
    if (oc->kind == SL_TLS_OUTCOME_CLOSED && oc->has_side && first_leave(c, &lv) && lv.by == oc->side &&
        !sl_conn_life_of(c).injected)
        return handshake_aborted(x, c, &lv, completed);
    if (oc->kind == SL_TLS_OUTCOME_NO_SERVER_HELLO && c->tls->client_hello.frame)
        return no_server_hello(x, c);
    return 0;
}

int sl_dg_rules_tls(sl_dg_ctx *x)
{
    sl_tls_options opts = {0};
    if (x->o->tls)
        opts = *x->o->tls;
    if (x->o->expect_name)
        opts.expect_name = x->o->expect_name;
    size_t n = x->m->n_conns;
    sl_tls_outcome *oc = malloc((n ? n : 1) * sizeof *oc);
    bool *completed = calloc(n ? n : 1, sizeof *completed);
    int rc = oc && completed ? outcomes_of(x, &opts, oc, completed) : -SL_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (x->m->conns[i].tls && !x->conn_judged[i] && oc[i].kind != SL_TLS_OUTCOME_NONE)
            rc = judge(x, &x->m->conns[i], &oc[i], completed);
    free(oc);
    free(completed);
    return rc;
}
