/* render_tls.c - text detail of one TLS handshake (see render_tls.h). */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sipladder/render_tls.h"
#include "sipladder/text.h"
#include "sipladder/time.h"

/* Capture text, escaped so that a hostile name cannot drive the terminal. */
static void put_escaped(FILE *out, const char *s) { sl_text_fput(out, s, s ? strlen(s) : 0); }

static const char *label(sl_dir d, const char *client, const char *server)
{
    if (d == SL_DIR_C2S)
        return client ? client : "client";
    return server ? server : "server";
}

static void print_time(FILE *out, const char *name, sl_time_ns t)
{
    char buf[40];
    fprintf(out, "      %s %s\n", name, sl_time_format(t, buf, sizeof buf));
}

static void print_cert(FILE *out, const sl_cert_info *ci, size_t i)
{
    fprintf(out, "    [%zu] ", i);
    if (ci->broken) {
        fprintf(out, "unreadable: %s (sha256 %s)\n", ci->error ? ci->error : "?", ci->sha256_hex);
        return;
    }
    fputs("subject ", out);
    put_escaped(out, ci->subject);
    fputs("\n      issuer  ", out);
    put_escaped(out, ci->issuer);
    fputc('\n', out);
    if (ci->n_san_dns || ci->n_san_ip) {
        fputs("      SAN    ", out);
        for (size_t k = 0; k < ci->n_san_dns; k++) {
            fputs(" DNS:", out);
            put_escaped(out, ci->san_dns[k]);
        }
        for (size_t k = 0; k < ci->n_san_ip; k++)
            fprintf(out, " IP:%s", ci->san_ip[k]);
        fputc('\n', out);
    }
    print_time(out, "notBefore", ci->not_before);
    print_time(out, "notAfter ", ci->not_after);
    fprintf(out, "      key %s %d bits, signed %s, serial %s%s\n", ci->key_type, ci->key_bits, ci->sig_alg,
            ci->serial_hex ? ci->serial_hex : "?", ci->is_ca ? ", CA" : "");
    fprintf(out, "      sha256 %s\n", ci->sha256_hex);
}

static void print_chain(FILE *out, const sl_tls_chain *c, const char *who)
{
    if (!c->at.frame)
        return;
    fprintf(out, "  certificates from %s (frame %" PRIu64 ", %zu sent):\n", who, c->at.frame, c->n_sent);
    for (size_t i = 0; i < c->n; i++)
        print_cert(out, c->certs[i], i);
}

/* "  frame 12     Name                   from who" and no line end. */
static void step_head(FILE *out, uint64_t frame, const char *what, const char *who)
{
    fprintf(out, "  frame %-6" PRIu64 " %-22s from %s", frame, what, who);
}

/* The session's ClientHello fields are those of its last ClientHello. */
static void print_client_hello(FILE *out, const sl_tls_session *s, const sl_tls_step *st, bool last)
{
    char vb[24];
    fprintf(out, ": %s, %zu cipher suites",
            sl_tls_version_text(st->u.client_hello.legacy_version, vb, sizeof vb), st->u.client_hello.n_cipher_suites);
    if (!last)
        return;
    fputs(", SNI ", out);
    put_escaped(out, s->sni);
    if (s->n_ch_versions) {
        fputs(", offers", out);
        for (size_t i = 0; i < s->n_ch_versions; i++)
            fprintf(out, " %s", sl_tls_version_text(s->ch_versions[i], vb, sizeof vb));
    }
    if (s->n_alpn) {
        fputs(", ALPN", out);
        for (size_t i = 0; i < s->n_alpn; i++) {
            fputc(' ', out);
            put_escaped(out, s->alpn[i]);
        }
    }
}

static void print_cert_request(FILE *out, const sl_tls_session *s, const sl_tls_step *st)
{
    fputs(" (mutual TLS)", out);
    if (st->at.frame != s->cert_request.frame)
        return; /* the CA names kept are those of the last one */
    fprintf(out, ", acceptable CAs: %zu", s->n_ca_names);
    for (size_t i = 0; i < s->n_ca_names; i++) {
        fputs("\n      ", out);
        put_escaped(out, s->ca_names[i]);
    }
}

static void print_cert_status(FILE *out, const sl_tls_certificate_status *cs)
{
    if (cs->status_type != 1 && cs->status_type != 2) {
        fprintf(out, ": status type %u (not OCSP)", cs->status_type);
        return;
    }
    const char *rs = sl_tls_ocsp_status_name(cs->response_status);
    const char *certs = sl_tls_cert_status_name(cs->cert_status);
    fprintf(out, ": OCSP response (%" PRIu32 " bytes)", cs->response_length);
    if (cs->response_status < 0)
        fputs(" not readable", out);
    else if (rs)
        fprintf(out, " %s", rs);
    else
        fprintf(out, " status %d", cs->response_status);
    if (certs)
        fprintf(out, ", certificate %s", certs);
}

/* What one handshake message says, after its "from who". */
static void print_hs_detail(FILE *out, const sl_tls_session *s, const sl_tls_step *st, bool last_hello)
{
    char vb[24], cb[8];
    switch (st->hs_type) {
    case SL_TLS_HS_CLIENT_HELLO:
        print_client_hello(out, s, st, last_hello);
        break;
    case SL_TLS_HS_SERVER_HELLO:
        fprintf(out, ": %s, %s", sl_tls_version_text(st->u.server_hello.version, vb, sizeof vb),
                sl_tls_cipher_text(st->u.server_hello.cipher_suite, cb, sizeof cb));
        break;
    case SL_TLS_HS_CERTIFICATE: {
        const sl_tls_chain *c = &s->chain[st->dir];
        if (c->at.frame == st->at.frame && c->n_sent == 0)
            fputs(": empty, no certificate", out);
        else if (c->at.frame == st->at.frame)
            fprintf(out, ": %zu certificate%s", c->n_sent, c->n_sent == 1 ? "" : "s");
        break;
    }
    case SL_TLS_HS_CERTIFICATE_REQUEST:
        print_cert_request(out, s, st);
        break;
    case SL_TLS_HS_CERTIFICATE_STATUS:
        print_cert_status(out, &st->u.certificate_status);
        break;
    case SL_TLS_HS_NEW_SESSION_TICKET:
        if (st->u.new_session_ticket.lifetime_hint)
            fprintf(out, ": lifetime hint %" PRIu32 " s,", st->u.new_session_ticket.lifetime_hint);
        else
            fputs(": no lifetime hint,", out);
        fprintf(out, " ticket %u bytes", st->u.new_session_ticket.ticket_length);
        break;
    default:
        break;
    }
}

static void print_step(FILE *out, const sl_tls_session *s, size_t i, bool last_hello, const char *who)
{
    const sl_tls_step *st = &s->steps[i];
    char buf[32];
    const char *what = sl_tls_step_name(s, i, buf, sizeof buf);
    step_head(out, st->at.frame, what, who);
    if (st->kind == SL_TLS_STEP_HANDSHAKE)
        print_hs_detail(out, s, st, last_hello);
    fputc('\n', out);
    if (s->tls13 && st->kind == SL_TLS_STEP_HANDSHAKE && st->hs_type == SL_TLS_HS_SERVER_HELLO && !st->hello_retry)
        fputs("  TLS 1.3: everything after ServerHello, certificates included, is encrypted\n", out);
}

static void print_alert(FILE *out, const sl_tls_alert_seen *a, const char *who)
{
    if (a->encrypted) {
        step_head(out, a->frame, "Alert (encrypted)", who);
        fputc('\n', out);
        return;
    }
    const char *name = sl_tls_alert_name(a->description);
    step_head(out, a->frame, "Alert", who);
    fprintf(out, ": %s %s (%u)\n", a->level == 2 ? "fatal" : a->level == 1 ? "warning" : "level?",
            name ? name : "unknown", a->description);
}

/* A message only a server sends (ServerHello, ServerKeyExchange,
 * CertificateRequest, ServerHelloDone) seen from the side taken for the
 * client, or a client's one (ClientHello, ClientKeyExchange) from the other:
 * the roles were guessed wrong, e.g. the client's first frames are missing. */
static const sl_tls_step *role_mismatch(const sl_tls_session *s)
{
    for (size_t i = 0; i < s->n_steps; i++) {
        const sl_tls_step *st = &s->steps[i];
        if (st->kind != SL_TLS_STEP_HANDSHAKE)
            continue;
        bool server_only = st->hs_type == SL_TLS_HS_SERVER_HELLO || st->hs_type == SL_TLS_HS_SERVER_KEY_EXCHANGE ||
                           st->hs_type == SL_TLS_HS_CERTIFICATE_REQUEST || st->hs_type == SL_TLS_HS_SERVER_HELLO_DONE;
        bool client_only = st->hs_type == SL_TLS_HS_CLIENT_HELLO || st->hs_type == SL_TLS_HS_CLIENT_KEY_EXCHANGE;
        if ((server_only && st->dir == SL_DIR_C2S) || (client_only && st->dir == SL_DIR_S2C))
            return st;
    }
    return NULL;
}

/* Every handshake message and alert, in frame order (a message before an
 * alert of the same frame: the alert ends what the frame carried). */
static void print_steps(FILE *out, const sl_tls_session *s, const char *cl, const char *sv)
{
    size_t last_hello = SIZE_MAX;
    for (size_t i = 0; i < s->n_steps; i++)
        if (s->steps[i].kind == SL_TLS_STEP_HANDSHAKE && s->steps[i].hs_type == SL_TLS_HS_CLIENT_HELLO)
            last_hello = i;
    size_t a = 0;
    for (size_t i = 0; i < s->n_steps; i++) {
        const sl_tls_step *st = &s->steps[i];
        for (; a < s->n_alerts && s->alerts[a].frame < st->at.frame; a++)
            print_alert(out, &s->alerts[a], s->alerts[a].dir == SL_DIR_C2S ? cl : sv);
        print_step(out, s, i, i == last_hello, st->dir == SL_DIR_C2S ? cl : sv);
    }
    for (; a < s->n_alerts; a++)
        print_alert(out, &s->alerts[a], s->alerts[a].dir == SL_DIR_C2S ? cl : sv);
    if (s->steps_not_kept)
        fprintf(out, "  (%" PRIu64 " more handshake messages not listed)\n", s->steps_not_kept);
}

static void print_app(FILE *out, const sl_tls_session *s, const char *cl, const char *sv)
{
    /* Every record counted, so that a reader can check nothing was lost
     * (tests/accounting.py compares with tshark's tls.record). */
    fprintf(out, "  records: %" PRIu64 " from %s, %" PRIu64 " from %s\n", s->side[SL_DIR_C2S].records, cl,
            s->side[SL_DIR_S2C].records, sv);
    for (int d = 0; d < 2; d++) {
        const sl_tls_side *side = &s->side[d];
        if (side->app_records)
            fprintf(out, "  application data from %s: %" PRIu64 " records, %" PRIu64 " bytes (frames %" PRIu64
                         "-%" PRIu64 ")\n",
                    d == SL_DIR_C2S ? cl : sv, side->app_records, side->app_bytes, side->first_app.frame,
                    side->last_app.frame);
    }
}

static void print_outcome(FILE *out, const sl_tls_outcome *o)
{
    fprintf(out, "  outcome: %s: %s", sl_tls_outcome_name(o->kind), o->reason);
    if (o->n_frames) {
        fputs(" [frames", out);
        for (size_t i = 0; i < o->n_frames; i++)
            fprintf(out, " %" PRIu64, o->frames[i]);
        fputc(']', out);
    }
    fputc('\n', out);
    for (unsigned bit = 1; bit && bit <= SL_TLS_HINT_EMPTY_CHAIN; bit <<= 1) {
        if (!(o->hints & bit))
            continue;
        fprintf(out, "  hint: %s", sl_tls_hint_name(bit));
        if (bit == SL_TLS_HINT_VERIFY_FAILED)
            fprintf(out, " (%s)", o->report[o->chain_of].verify_reason);
        fputc('\n', out);
    }
}

void sl_render_tls_session(FILE *out, const sl_tls_session *s, const sl_tls_outcome *outcome,
                           const char *client_label, const char *server_label)
{
    const char *cl = label(SL_DIR_C2S, client_label, server_label);
    const char *sv = label(SL_DIR_S2C, client_label, server_label);
    fprintf(out, "TLS %s -> %s (frames %" PRIu64 "-%" PRIu64 ")\n", cl, sv, s->first_frame, s->last_frame);
    const sl_tls_step *swapped = role_mismatch(s);
    if (swapped) {
        char buf[32];
        fprintf(out, "  note: frame %" PRIu64 " carries a %s sent by %s: the roles above are the other way round "
                     "(the messages below are named by their type)\n",
                swapped->at.frame, sl_tls_step_name(s, (size_t)(swapped - s->steps), buf, sizeof buf),
                swapped->dir == SL_DIR_C2S ? cl : sv);
    }
    print_steps(out, s, cl, sv);
    print_app(out, s, cl, sv);
    print_chain(out, &s->chain[SL_DIR_S2C], sv);
    print_chain(out, &s->chain[SL_DIR_C2S], cl);
    if (outcome)
        print_outcome(out, outcome);
}
