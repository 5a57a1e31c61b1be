/* check_tls_session.c - the per-connection TLS summary and its outcome: rules
 * on synthetic event sequences, the verdicts on corpus captures, and the
 * rendering (escaped capture text). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipladder/render_tls.h"
#include "sipladder/status.h"
#include "sipladder/tls_session.h"
#include "tls_pcap_feed.h"
#include "check_run.h"

/* ------------------------------------------------------------------ synthetic events */

static void add(sl_tls_session *s, sl_dir dir, uint64_t frame, const sl_tls_event *t)
{
    sl_event ev = {.kind = SL_EV_TLS, .dir = dir, .span = {frame, frame, (sl_time_ns)frame, (sl_time_ns)frame},
                   .dissector = "tls", .u.tls = t};
    ck_assert_int_eq(sl_tls_session_add_event(s, &ev), 0);
}

static void add_hs(sl_tls_session *s, sl_dir dir, uint64_t frame, uint8_t type)
{
    sl_tls_event t = {.type = SL_TLS_EV_HANDSHAKE, .hs_type = type};
    add(s, dir, frame, &t);
}

static void add_client_hello(sl_tls_session *s, uint64_t frame, const char *sni)
{
    static const char *const alpn[] = {"sip"};
    sl_tls_event t = {.type = SL_TLS_EV_CLIENT_HELLO, .hs_type = 1};
    t.u.client_hello = (sl_tls_client_hello){.legacy_version = 0x0303, .n_cipher_suites = 3, .sni = sni,
                                             .alpn = alpn, .n_alpn = 1};
    add(s, SL_DIR_C2S, frame, &t);
}

static void add_server_hello(sl_tls_session *s, uint64_t frame, uint16_t version)
{
    sl_tls_event t = {.type = SL_TLS_EV_SERVER_HELLO, .hs_type = 2};
    t.u.server_hello = (sl_tls_server_hello){.legacy_version = 0x0303, .version = version, .cipher_suite = 0xC02F,
                                             .cipher_name = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"};
    add(s, SL_DIR_S2C, frame, &t);
}

/* A chain of one certificate that is not a certificate: enough for the rules. */
static void add_certificate(sl_tls_session *s, sl_dir dir, uint64_t frame)
{
    static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
    const sl_cert_info *ci = NULL;
    ck_assert_int_eq(sl_cert_info_new(junk, sizeof junk, &ci), 0);
    sl_tls_event t = {.type = SL_TLS_EV_CERTIFICATE, .hs_type = 11};
    t.u.certificate = (sl_tls_certificate){.certs = &ci, .n_certs = 1, .n_sent = 1};
    add(s, dir, frame, &t);
    sl_cert_info_unref(ci); /* the session keeps its own reference */
}

static void add_alert(sl_tls_session *s, sl_dir dir, uint64_t frame, uint8_t level, uint8_t desc)
{
    sl_tls_event t = {.type = SL_TLS_EV_ALERT};
    t.u.alert = (sl_tls_alert){.level = level, .description = desc};
    add(s, dir, frame, &t);
}

static void add_simple(sl_tls_session *s, sl_dir dir, uint64_t frame, sl_tls_event_type type)
{
    sl_tls_event t = {.type = type};
    if (type == SL_TLS_EV_APPLICATION_DATA)
        t.u.app_data = (sl_tls_app_data){1, 100};
    add(s, dir, frame, &t);
}

static sl_tls_outcome outcome(const sl_tls_session *s, sl_tcp_end_kind kind, sl_dir by, uint64_t frame)
{
    sl_tcp_end end = {kind, by, frame, (sl_time_ns)frame};
    sl_tls_outcome o;
    ck_assert_int_eq(sl_tls_session_outcome(s, &end, NULL, &o), 0);
    return o;
}

START_TEST(closed_after_server_certificate)
{
    sl_tls_session *s = sl_tls_session_new();
    ck_assert_ptr_nonnull(s);
    add_client_hello(s, 1, "edge.example");
    add_server_hello(s, 2, 0x0303);
    add_certificate(s, SL_DIR_S2C, 2);
    add_hs(s, SL_DIR_S2C, 2, SL_TLS_HS_SERVER_HELLO_DONE);
    sl_tls_outcome o = outcome(s, SL_TCP_END_FIN, SL_DIR_C2S, 3);
    ck_assert_int_eq(o.kind, SL_TLS_OUTCOME_CLOSED_AFTER_CERT);
    ck_assert(o.has_side);
    ck_assert_int_eq(o.side, SL_DIR_C2S);
    ck_assert_int_eq(o.chain_of, SL_DIR_S2C);
    ck_assert(o.answers_chain);
    ck_assert_uint_eq(o.n_frames, 3);
    ck_assert_uint_eq(o.frames[0], 1);
    ck_assert_uint_eq(o.frames[1], 2);
    ck_assert_uint_eq(o.frames[2], 3);
    ck_assert_str_eq(o.reason, "the client closed the connection right after the server's Certificate, without an alert");
    ck_assert(o.hints & SL_TLS_HINT_BROKEN_CERT);
    o = outcome(s, SL_TCP_END_RST, SL_DIR_C2S, 3);
    ck_assert_int_eq(o.kind, SL_TLS_OUTCOME_CLOSED_AFTER_CERT);
    ck_assert_ptr_nonnull(strstr(o.reason, "client reset"));
    /* The server closing is not "after the peer's certificate": the client sent none. */
    o = outcome(s, SL_TCP_END_FIN, SL_DIR_S2C, 3);
    ck_assert_int_eq(o.kind, SL_TLS_OUTCOME_CLOSED);
    ck_assert_int_eq(o.side, SL_DIR_S2C);
    sl_tls_session_free(s);
}
END_TEST

START_TEST(server_closes_after_client_certificate)
{
    sl_tls_session *s = sl_tls_session_new();
    add_client_hello(s, 1, NULL);
    add_server_hello(s, 2, 0x0303);
    add_certificate(s, SL_DIR_S2C, 2);
    add_hs(s, SL_DIR_S2C, 2, SL_TLS_HS_CERTIFICATE_REQUEST);
    add_hs(s, SL_DIR_S2C, 2, SL_TLS_HS_SERVER_HELLO_DONE);
    add_certificate(s, SL_DIR_C2S, 3);
    add_hs(s, SL_DIR_C2S, 3, SL_TLS_HS_CLIENT_KEY_EXCHANGE);
    add_simple(s, SL_DIR_C2S, 3, SL_TLS_EV_CHANGE_CIPHER_SPEC);
    add_simple(s, SL_DIR_C2S, 3, SL_TLS_EV_ENCRYPTED_HANDSHAKE);
    sl_tls_outcome o = outcome(s, SL_TCP_END_RST, SL_DIR_S2C, 4);
    ck_assert_int_eq(o.kind, SL_TLS_OUTCOME_CLOSED_AFTER_CERT);
    ck_assert_int_eq(o.side, SL_DIR_S2C);
    ck_assert_int_eq(o.chain_of, SL_DIR_C2S);
    /* Open at capture end: unfinished, nobody blamed. */
    o = outcome(s, SL_TCP_END_OPEN, SL_DIR_C2S, 0);
    ck_assert_int_eq(o.kind, SL_TLS_OUTCOME_INCOMPLETE);
    ck_assert(!o.has_side);
    /* Then the server finishes: completed. */
    add_simple(s, SL_DIR_S2C, 5, SL_TLS_EV_CHANGE_CIPHER_SPEC);
    add_simple(s, SL_DIR_S2C, 5, SL_TLS_EV_ENCRYPTED_HANDSHAKE);
    o = outcome(s, SL_TCP_END_FIN, SL_DIR_C2S, 9);
    ck_assert_int_eq(o.kind, SL_TLS_OUTCOME_COMPLETED);
    ck_assert_uint_eq(s->side[SL_DIR_C2S].hs_messages[SL_TLS_HS_CLIENT_KEY_EXCHANGE], 1);
    ck_assert_uint_eq(s->side[SL_DIR_S2C].hs_messages[SL_TLS_HS_CERTIFICATE], 1);
    sl_tls_session_free(s);
}
END_TEST

START_TEST(never_answered)
{
    sl_tls_session *s = sl_tls_session_new();
    add_client_hello(s, 4, "sip.example");
    sl_tls_outcome o = outcome(s, SL_TCP_END_OPEN, SL_DIR_C2S, 0);
    ck_assert_int_eq(o.kind, SL_TLS_OUTCOME_NO_SERVER_HELLO);
    ck_assert_int_eq(o.side, SL_DIR_S2C);
    ck_assert_str_eq(o.reason, "the server never answered the ClientHello");
    o = outcome(s, SL_TCP_END_RST, SL_DIR_S2C, 7);
    ck_assert_int_eq(o.kind, SL_TLS_OUTCOME_NO_SERVER_HELLO);
    ck_assert_uint_eq(o.n_frames, 2);
    ck_assert_uint_eq(o.frames[1], 7);
    ck_assert_ptr_nonnull(strstr(o.reason, "reset"));
    sl_tls_session_free(s);
}
END_TEST

START_TEST(alerts_decide)
{
    sl_tls_session *s = sl_tls_session_new();
    add_client_hello(s, 1, NULL);
    add_alert(s, SL_DIR_S2C, 2, 2, 40);
    sl_tls_outcome o = outcome(s, SL_TCP_END_FIN, SL_DIR_S2C, 3);
    ck_assert_int_eq(o.kind, SL_TLS_OUTCOME_FATAL_ALERT);
    ck_assert_int_eq(o.side, SL_DIR_S2C);
    ck_assert_uint_eq(o.alert, 40);
    ck_assert(!o.answers_chain);
    ck_assert_str_eq(o.reason, "the server sent fatal alert handshake_failure (40) before receiving any certificate "
                               "from its peer");
    sl_tls_session_free(s);
    /* A warning alert does not end the handshake. */
    s = sl_tls_session_new();
    add_client_hello(s, 1, NULL);
    add_server_hello(s, 2, 0x0303);
    add_alert(s, SL_DIR_S2C, 2, 1, 112);
    add_simple(s, SL_DIR_C2S, 3, SL_TLS_EV_APPLICATION_DATA);
    add_simple(s, SL_DIR_S2C, 4, SL_TLS_EV_APPLICATION_DATA);
    o = outcome(s, SL_TCP_END_OPEN, SL_DIR_C2S, 0);
    ck_assert_int_eq(o.kind, SL_TLS_OUTCOME_COMPLETED);
    ck_assert_uint_eq(s->n_alerts, 1);
    ck_assert_uint_eq(s->side[SL_DIR_S2C].app_bytes, 100);
    sl_tls_session_free(s);
}
END_TEST

START_TEST(tls13_guesses)
{
    sl_tls_session *s = sl_tls_session_new();
    add_client_hello(s, 1, NULL);
    add_server_hello(s, 2, 0x0304);
    ck_assert(s->tls13);
    add_simple(s, SL_DIR_S2C, 2, SL_TLS_EV_APPLICATION_DATA);
    add_simple(s, SL_DIR_C2S, 3, SL_TLS_EV_APPLICATION_DATA); /* one record: Finished or an alert */
    sl_tls_outcome o = outcome(s, SL_TCP_END_FIN, SL_DIR_C2S, 4);
    ck_assert_int_eq(o.kind, SL_TLS_OUTCOME_CLOSED);
    ck_assert_ptr_nonnull(strstr(o.reason, "encrypted alert"));
    add_simple(s, SL_DIR_S2C, 5, SL_TLS_EV_APPLICATION_DATA);
    o = outcome(s, SL_TCP_END_FIN, SL_DIR_C2S, 6);
    ck_assert_int_eq(o.kind, SL_TLS_OUTCOME_COMPLETED);
    sl_tls_session_free(s);
}
END_TEST

START_TEST(nothing_to_conclude)
{
    sl_tls_session *s = sl_tls_session_new();
    add_simple(s, SL_DIR_C2S, 10, SL_TLS_EV_APPLICATION_DATA);
    sl_anomaly an = {-SL_EMALFORMED, "x"};
    sl_event ev = {.kind = SL_EV_ANOMALY, .dir = SL_DIR_S2C, .span = {11, 12, 0, 0}, .u.anomaly = &an};
    ck_assert_int_eq(sl_tls_session_add_event(s, &ev), 0);
    ck_assert_uint_eq(s->side[SL_DIR_S2C].anomalies, 1);
    ck_assert_uint_eq(s->first_frame, 10);
    ck_assert_uint_eq(s->last_frame, 12);
    sl_tls_outcome o = outcome(s, SL_TCP_END_FIN, SL_DIR_C2S, 20);
    ck_assert_int_eq(o.kind, SL_TLS_OUTCOME_NONE);
    sl_tls_session_free(s);
    sl_tls_session_free(NULL);
    ck_assert_str_eq(sl_tls_outcome_name(SL_TLS_OUTCOME_CLOSED_AFTER_CERT), "closed_after_certificate");
    ck_assert_str_eq(sl_tls_hint_name(SL_TLS_HINT_NO_INTERMEDIATE), "intermediate not sent");
    ck_assert_ptr_null(sl_tls_hint_name(3));
}
END_TEST

/* ------------------------------------------------------------------ render */

START_TEST(render_escapes_capture_text)
{
    sl_tls_session *s = sl_tls_session_new();
    add_client_hello(s, 1, "evil\x1b[31m\n.example\\");
    add_server_hello(s, 2, 0x0303);
    add_certificate(s, SL_DIR_S2C, 2);
    add_alert(s, SL_DIR_C2S, 3, 2, 42);
    sl_tls_outcome o = outcome(s, SL_TCP_END_FIN, SL_DIR_C2S, 4);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    sl_render_tls_session(f, s, &o, "10.0.0.1:40000", "10.0.0.2:5061");
    fclose(f);
    ck_assert_ptr_null(memchr(buf, 0x1b, len));
    ck_assert_ptr_nonnull(strstr(buf, "SNI evil\\x1b[31m\\x0a.example\\\\"));
    ck_assert_ptr_nonnull(strstr(buf, "ClientHello            from 10.0.0.1:40000"));
    ck_assert_ptr_nonnull(strstr(buf, "Alert                  from 10.0.0.1:40000: fatal bad_certificate (42)"));
    ck_assert_ptr_nonnull(strstr(buf, "unreadable:"));
    ck_assert_ptr_nonnull(strstr(buf, "outcome: fatal_alert: the client sent fatal alert bad_certificate (42) "
                                      "rejecting the server's certificate [frames 1 2 3]"));
    ck_assert_ptr_nonnull(strstr(buf, "hint: unreadable certificate"));
    for (size_t i = 0; i < len; i++)
        ck_assert_msg(buf[i] == '\n' || (buf[i] >= 0x20 && buf[i] < 0x7f), "byte 0x%02x at %zu",
                      (unsigned char)buf[i], i);
    free(buf);
    sl_tls_session_free(s);
}
END_TEST

START_TEST(render_real_handshake)
{
    char path[1024];
    sl_config cfg;
    memset(&cfg, 0, sizeof cfg);
    sl_limits_default(&cfg.limits);
    tf_result r;
    ck_assert_int_eq(tf_run_pcap(tf_path(path, sizeof path, "SL_SOURCE_ROOT", "..", "testdata/tls/tls12-mutual.pcap"),
                                 &cfg, 0, &r), 0);
    sl_tls_outcome o;
    ck_assert_int_eq(sl_tls_session_outcome(r.conns[0].session, &r.conns[0].end, NULL, &o), 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    sl_render_tls_session(f, r.conns[0].session, &o, NULL, NULL);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "CertificateRequest     from server (mutual TLS), acceptable CAs: 1\n"
                                      "      CN=Sipladder Test Root CA,O=Sipladder Test\n"));
    ck_assert_ptr_nonnull(strstr(buf, "    [0] subject CN=server.test,OU=SIP Edge,O=Sipladder Test\n"));
    ck_assert_ptr_nonnull(strstr(buf, "      SAN     DNS:server.test DNS:*.sip.test IP:127.0.0.1\n"));
    ck_assert_ptr_nonnull(strstr(buf, "      notAfter  2049-12-31 00:00:00"));
    ck_assert_ptr_nonnull(strstr(buf, "certificates from client (frame 8, 2 sent):"));
    ck_assert_ptr_nonnull(strstr(buf, "outcome: completed"));
    free(buf);
    tf_result_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ corpus verdicts */

static void run_corpus(const char *name, tf_result *r)
{
    char rel[512], path[1024];
    snprintf(rel, sizeof rel, "corpus/%s", name);
    sl_config cfg;
    memset(&cfg, 0, sizeof cfg);
    sl_limits_default(&cfg.limits);
    ck_assert_int_eq(tf_run_pcap(tf_path(path, sizeof path, "SL_SHARED", "../../shared", rel), &cfg, 0, r), 0);
}

static sl_tls_outcome conn_outcome(const tf_result *r, size_t c)
{
    sl_tls_outcome o;
    ck_assert_int_eq(sl_tls_session_outcome(r->conns[c].session, &r->conns[c].end, NULL, &o), 0);
    return o;
}

START_TEST(corpus_verdicts)
{
    tf_result r;
    run_corpus("tls12-alert-certificate-unknown-curveball__arkime.pcap", &r);
    sl_tls_outcome o = conn_outcome(&r, 0);
    ck_assert_int_eq(o.kind, SL_TLS_OUTCOME_FATAL_ALERT);
    ck_assert_int_eq(o.side, SL_DIR_C2S);
    ck_assert_uint_eq(o.alert, 46);
    ck_assert(o.answers_chain);
    ck_assert_int_eq(o.chain_of, SL_DIR_S2C);
    ck_assert_uint_eq(o.frames[1], 7); /* the server's Certificate */
    tf_result_free(&r);

    run_corpus("tls12-certreq-alert-handshake-failure__zeek.pcap", &r);
    o = conn_outcome(&r, 0);
    ck_assert_int_eq(o.kind, SL_TLS_OUTCOME_FATAL_ALERT);
    ck_assert_int_eq(o.side, SL_DIR_S2C);
    ck_assert_uint_eq(o.alert, 40);
    ck_assert_int_eq(o.chain_of, SL_DIR_C2S);
    ck_assert_uint_eq(r.conns[0].session->chain[SL_DIR_C2S].at.frame, 8);
    ck_assert_uint_eq(r.conns[0].session->chain[SL_DIR_C2S].n_sent, 0); /* empty client Certificate */
    ck_assert_uint_eq(o.hints, SL_TLS_HINT_EMPTY_CHAIN);
    ck_assert_str_eq(o.reason, "the server sent fatal alert handshake_failure (40) after the client sent no certificate");
    ck_assert_uint_gt(r.conns[0].session->n_ca_names, 0);
    tf_result_free(&r);

    run_corpus("tls12-alert-handshake-failure__zeek.pcap", &r);
    o = conn_outcome(&r, 0);
    ck_assert_int_eq(o.kind, SL_TLS_OUTCOME_FATAL_ALERT);
    ck_assert_int_eq(o.side, SL_DIR_S2C);
    ck_assert(!o.answers_chain);
    tf_result_free(&r);

    run_corpus("tls13draft-alert-unknown-ca-then-success__zeek.pcap", &r);
    ck_assert_uint_eq(r.n_conns, 2);
    o = conn_outcome(&r, 0);
    ck_assert_int_eq(o.kind, SL_TLS_OUTCOME_FATAL_ALERT);
    ck_assert_int_eq(o.side, SL_DIR_C2S);
    ck_assert_uint_eq(o.alert, 48);
    ck_assert_ptr_nonnull(strstr(o.reason, "TLS 1.3"));
    o = conn_outcome(&r, 1);
    ck_assert_int_eq(o.kind, SL_TLS_OUTCOME_COMPLETED);
    tf_result_free(&r);

    run_corpus("tls-missing-intermediate__zeek.pcap", &r);
    ck_assert_uint_eq(r.n_conns, 3);
    ck_assert(conn_outcome(&r, 0).report[SL_DIR_S2C].intermediate_missing);
    ck_assert(!conn_outcome(&r, 1).report[SL_DIR_S2C].intermediate_missing);
    ck_assert(conn_outcome(&r, 1).report[SL_DIR_S2C].order_ok);
    ck_assert(conn_outcome(&r, 2).report[SL_DIR_S2C].intermediate_missing);
    tf_result_free(&r);

    run_corpus("ssl3-selfsigned-mutual-loopback__arkime.pcap", &r);
    o = conn_outcome(&r, 0);
    ck_assert_uint_eq(r.conns[0].session->version, 0x0300);
    ck_assert(o.report[SL_DIR_S2C].leaf_self_signed);
    ck_assert(o.report[SL_DIR_C2S].leaf_self_signed);
    ck_assert_uint_gt(r.conns[0].session->cert_request.frame, 0);
    tf_result_free(&r);

    run_corpus("tls13-hello-retry-request__zeek.pcap", &r);
    ck_assert_uint_gt(r.conns[0].session->hello_retry.frame, 0);
    ck_assert_uint_eq(r.conns[0].session->n_client_hellos, 2);
    ck_assert(r.conns[0].session->tls13);
    tf_result_free(&r);

    run_corpus("tls12-alert-warning-unrecognized-name__zeek.pcap", &r);
    o = conn_outcome(&r, 0);
    ck_assert_int_eq(o.kind, SL_TLS_OUTCOME_COMPLETED);
    tf_result_free(&r);
}
END_TEST

static Suite *session_suite(void)
{
    Suite *s = suite_create("tls_session");
    TCase *t = tcase_create("rules");
    tcase_add_test(t, closed_after_server_certificate);
    tcase_add_test(t, server_closes_after_client_certificate);
    tcase_add_test(t, never_answered);
    tcase_add_test(t, alerts_decide);
    tcase_add_test(t, tls13_guesses);
    tcase_add_test(t, nothing_to_conclude);
    tcase_add_test(t, render_escapes_capture_text);
    tcase_add_test(t, render_real_handshake);
    tcase_add_test(t, corpus_verdicts);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return sl_check_run(session_suite());
}
