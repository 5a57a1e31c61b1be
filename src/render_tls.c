/* render_tls.c - text detail of one TLS handshake (see render_tls.h). */
#include <inttypes.h>
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

static void step(FILE *out, const char *what, const sl_tls_mark *m, const char *who)
{
    if (m->frame)
        fprintf(out, "  frame %-6" PRIu64 " %-22s from %s\n", m->frame, what, who);
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

static void print_hello(FILE *out, const sl_tls_session *s, const char *cl, const char *sv)
{
    char vb[24], cb[8];
    if (s->client_hello.frame) {
        fprintf(out, "  frame %-6" PRIu64 " %-22s from %s: %s, %zu cipher suites, SNI ", s->client_hello.frame,
                s->sslv2_hello ? "ClientHello (SSLv2)" : "ClientHello", cl,
                sl_tls_version_text(s->ch_legacy_version, vb, sizeof vb), s->n_cipher_suites);
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
        fputc('\n', out);
    }
    step(out, "HelloRetryRequest", &s->hello_retry, sv);
    if (s->server_hello.frame)
        fprintf(out, "  frame %-6" PRIu64 " %-22s from %s: %s, %s\n", s->server_hello.frame, "ServerHello", sv,
                sl_tls_version_text(s->version, vb, sizeof vb), sl_tls_cipher_text(s->cipher_suite, cb, sizeof cb));
    if (s->tls13)
        fputs("  TLS 1.3: everything after ServerHello, certificates included, is encrypted\n", out);
}

static void print_steps(FILE *out, const sl_tls_session *s, const char *cl, const char *sv)
{
    print_hello(out, s, cl, sv);
    step(out, "Certificate", &s->chain[SL_DIR_S2C].at, sv);
    step(out, "ServerKeyExchange", &s->side[SL_DIR_S2C].key_exchange, sv);
    if (s->cert_request.frame) {
        fprintf(out, "  frame %-6" PRIu64 " %-22s from %s (mutual TLS), acceptable CAs: %zu\n", s->cert_request.frame,
                "CertificateRequest", sv, s->n_ca_names);
        for (size_t i = 0; i < s->n_ca_names; i++) {
            fputs("      ", out);
            put_escaped(out, s->ca_names[i]);
            fputc('\n', out);
        }
    }
    step(out, "ServerHelloDone", &s->side[SL_DIR_S2C].hello_done, sv);
    step(out, "Certificate", &s->chain[SL_DIR_C2S].at, cl);
    step(out, "ClientKeyExchange", &s->side[SL_DIR_C2S].key_exchange, cl);
    step(out, "CertificateVerify", &s->side[SL_DIR_C2S].cert_verify, cl);
    step(out, "ChangeCipherSpec", &s->side[SL_DIR_C2S].ccs, cl);
    step(out, "Finished (encrypted)", &s->side[SL_DIR_C2S].finished, cl);
    step(out, "ChangeCipherSpec", &s->side[SL_DIR_S2C].ccs, sv);
    step(out, "Finished (encrypted)", &s->side[SL_DIR_S2C].finished, sv);
}

static void print_alerts(FILE *out, const sl_tls_session *s, const char *cl, const char *sv)
{
    for (size_t i = 0; i < s->n_alerts; i++) {
        const sl_tls_alert_seen *a = &s->alerts[i];
        const char *who = a->dir == SL_DIR_C2S ? cl : sv;
        if (a->encrypted) {
            fprintf(out, "  frame %-6" PRIu64 " %-22s from %s\n", a->frame, "Alert (encrypted)", who);
            continue;
        }
        const char *name = sl_tls_alert_name(a->description);
        fprintf(out, "  frame %-6" PRIu64 " %-22s from %s: %s %s (%u)\n", a->frame, "Alert", who,
                a->level == 2 ? "fatal" : a->level == 1 ? "warning" : "level?", name ? name : "unknown",
                a->description);
    }
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
    print_steps(out, s, cl, sv);
    print_alerts(out, s, cl, sv);
    print_app(out, s, cl, sv);
    print_chain(out, &s->chain[SL_DIR_S2C], sv);
    print_chain(out, &s->chain[SL_DIR_C2S], cl);
    if (outcome)
        print_outcome(out, outcome);
}
