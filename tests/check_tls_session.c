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
#include "support.h"

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
    ck_assert_int_eq(tf_run_pcap(sl_test_path(path, sizeof path, "testdata/tls/tls12-mutual.pcap"),
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
    ck_assert_ptr_null(strstr(buf, "note:"));
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
    sl_test_need_file(sl_test_data(path, sizeof path, rel)); /* skips when the corpus lacks it */
    ck_assert_int_eq(tf_run_pcap(path, &cfg, 0, r), 0);
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

/* ------------------------------------------------------------------ handshake steps */

static char *render(const sl_tls_session *s, const sl_tls_outcome *o)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    sl_render_tls_session(f, s, o, "10.0.0.1:40000", "10.0.0.2:5061");
    fclose(f);
    return buf;
}

/* Issue 14: frames whose roles come out swapped (the client's frames lost)
 * had a ServerKeyExchange named ClientKeyExchange: the name follows the
 * message type, "from" the direction actually seen. */
START_TEST(steps_named_by_type_not_direction)
{
    sl_tls_session *s = sl_tls_session_new();
    add_hs(s, SL_DIR_C2S, 3, SL_TLS_HS_SERVER_KEY_EXCHANGE);
    add_hs(s, SL_DIR_S2C, 4, SL_TLS_HS_CLIENT_KEY_EXCHANGE);
    add_hs(s, SL_DIR_S2C, 5, 99);
    add_hs(s, SL_DIR_S2C, 6, 24);
    ck_assert_uint_eq(s->n_steps, 4);
    char buf[32];
    ck_assert_str_eq(sl_tls_step_name(s, 0, buf, sizeof buf), "ServerKeyExchange");
    ck_assert_str_eq(sl_tls_step_name(s, 1, buf, sizeof buf), "ClientKeyExchange");
    ck_assert_str_eq(sl_tls_step_name(s, 2, buf, sizeof buf), "Handshake type 99");
    ck_assert_str_eq(sl_tls_step_name(s, 3, buf, sizeof buf), "KeyUpdate");
    char *out = render(s, NULL);
    ck_assert_ptr_nonnull(strstr(out, "frame 3      ServerKeyExchange      from 10.0.0.1:40000\n"));
    ck_assert_ptr_nonnull(strstr(out, "frame 4      ClientKeyExchange      from 10.0.0.2:5061\n"));
    ck_assert_ptr_nonnull(strstr(out, "frame 5      Handshake type 99      from 10.0.0.2:5061\n"));
    ck_assert_ptr_nonnull(strstr(out, "  note: frame 3 carries a ServerKeyExchange sent by 10.0.0.1:40000: the roles "
                                      "above are the other way round"));
    free(out);
    sl_tls_session_free(s);
}
END_TEST

/* A message completed late (its segment stored after a later frame of the
 * other direction) still takes its place by frame; alerts interleave. */
START_TEST(steps_in_frame_order)
{
    sl_tls_session *s = sl_tls_session_new();
    add_client_hello(s, 1, "a.example");
    add_hs(s, SL_DIR_C2S, 8, SL_TLS_HS_CLIENT_KEY_EXCHANGE);
    add_server_hello(s, 6, 0x0303);
    add_simple(s, SL_DIR_C2S, 8, SL_TLS_EV_CHANGE_CIPHER_SPEC);
    add_simple(s, SL_DIR_C2S, 8, SL_TLS_EV_ENCRYPTED_HANDSHAKE);
    add_simple(s, SL_DIR_C2S, 12, SL_TLS_EV_ENCRYPTED_HANDSHAKE);
    add_alert(s, SL_DIR_S2C, 7, 1, 112);
    ck_assert_uint_eq(s->n_steps, 6);
    static const uint64_t frames[] = {1, 6, 8, 8, 8, 12};
    for (size_t i = 0; i < 6; i++)
        ck_assert_uint_eq(s->steps[i].at.frame, frames[i]);
    ck_assert_uint_eq(s->steps[1].hs_type, SL_TLS_HS_SERVER_HELLO);
    ck_assert_int_eq(s->steps[3].kind, SL_TLS_STEP_CHANGE_CIPHER_SPEC);
    char buf[32];
    ck_assert_str_eq(sl_tls_step_name(s, 4, buf, sizeof buf), "Finished (encrypted)");
    ck_assert_str_eq(sl_tls_step_name(s, 5, buf, sizeof buf), "Handshake (encrypted)");
    char *out = render(s, NULL);
    const char *sh = strstr(out, "frame 6      ServerHello"), *al = strstr(out, "frame 7      Alert");
    const char *cke = strstr(out, "frame 8      ClientKeyExchange");
    ck_assert(sh && al && cke && sh < al && al < cke);
    free(out);
    sl_tls_session_free(s);
}
END_TEST

/* A renegotiation loop cannot grow a session without bound: 256 kept, the
 * rest counted and said. */
START_TEST(steps_capped)
{
    sl_tls_session *s = sl_tls_session_new();
    for (uint64_t f = 1; f <= SL_TLS_MAX_STEPS + 44; f++)
        add_hs(s, SL_DIR_S2C, f, 0);
    ck_assert_uint_eq(s->n_steps, SL_TLS_MAX_STEPS);
    ck_assert_uint_eq(s->steps_not_kept, 44);
    ck_assert_uint_eq(s->side[SL_DIR_S2C].hs_messages[0], SL_TLS_MAX_STEPS + 44); /* counts stay whole */
    char *out = render(s, NULL);
    ck_assert_ptr_nonnull(strstr(out, "  (44 more handshake messages not listed)\n"));
    free(out);
    sl_tls_session_free(s);
}
END_TEST

typedef struct want_step {
    uint64_t frame;
    sl_dir dir;
    sl_tls_step_kind kind;
    uint8_t hs_type;
    bool hello_retry;
} want_step;

static void assert_steps(const sl_tls_session *s, const want_step *w, size_t n, const char *what)
{
    ck_assert_msg(s->n_steps == n, "%s: %zu steps, want %zu", what, s->n_steps, n);
    for (size_t i = 0; i < n; i++) {
        const sl_tls_step *st = &s->steps[i];
        ck_assert_msg(st->at.frame == w[i].frame && st->dir == w[i].dir && st->kind == w[i].kind &&
                          st->hs_type == w[i].hs_type && st->hello_retry == w[i].hello_retry,
                      "%s: step %zu is frame %llu type %u kind %d", what, i, (unsigned long long)st->at.frame,
                      st->hs_type, (int)st->kind);
    }
}

#define HS(f, d, t) {f, d, SL_TLS_STEP_HANDSHAKE, t, false}
#define CCS(f, d) {f, d, SL_TLS_STEP_CHANGE_CIPHER_SPEC, 0, false}
#define ENC(f, d) {f, d, SL_TLS_STEP_ENCRYPTED, 0, false}
#define C SL_DIR_C2S
#define S SL_DIR_S2C

/* Issue 14: the ClientHello before a HelloRetryRequest was not listed. */
START_TEST(hello_retry_keeps_both_client_hellos)
{
    tf_result r;
    run_corpus("tls13-hello-retry-request__zeek.pcap", &r);
    /* tshark -o tcp.reassemble_out_of_order:TRUE: 4:1 6:2(HRR),CCS 8:CCS,1 11:2 */
    static const want_step w[] = {HS(4, C, 1), {6, S, SL_TLS_STEP_HANDSHAKE, 2, true}, CCS(6, S), CCS(8, C),
                                  HS(8, C, 1), HS(11, S, 2)};
    assert_steps(r.conns[0].session, w, sizeof w / sizeof w[0], "hello retry");
    ck_assert_uint_eq(r.conns[0].session->steps[0].u.client_hello.n_cipher_suites, 4);
    ck_assert_uint_eq(r.conns[0].session->steps[1].u.server_hello.cipher_suite, 0x1302);
    sl_tls_outcome o = conn_outcome(&r, 0);
    char *out = render(r.conns[0].session, &o);
    ck_assert_ptr_nonnull(strstr(out, "frame 4      ClientHello            from 10.0.0.1:40000: TLS 1.2, 4 cipher suites\n"
                                      "  frame 6      HelloRetryRequest      from 10.0.0.2:5061: TLS 1.3, "
                                      "TLS_AES_256_GCM_SHA384\n"));
    ck_assert_ptr_nonnull(strstr(out, "frame 8      ClientHello            from 10.0.0.1:40000: TLS 1.2, 4 cipher "
                                      "suites, SNI -, offers TLS 1.3\n"));
    free(out);
    tf_result_free(&r);
}
END_TEST

/* Made by tests/captures/make_tls_view_captures.sh.  The lists are tshark's
 * (tshark -d tcp.port==5061,tls -d tcp.port==5062,tls -Y tls.handshake:
 * 6: 2,11,22,12,14 with ocsp.certStatus 0; 9: 4; 42: the same with certStatus
 * 1), with the ChangeCipherSpec and encrypted Finished records between. */
START_TEST(ocsp_stapling_and_tickets)
{
    char path[1024];
    sl_config cfg;
    memset(&cfg, 0, sizeof cfg);
    sl_limits_default(&cfg.limits);
    tf_result r;
    ck_assert_int_eq(tf_run_pcap(sl_test_path(path, sizeof path, "testdata/tls/tls12-ocsp-ticket.pcap"),
                                 &cfg, 0, &r), 0);
    ck_assert_uint_eq(r.n_conns, 3);
    static const want_step full[] = {HS(4, C, 1),  HS(6, S, 2),  HS(6, S, 11), HS(6, S, 22), HS(6, S, 12),
                                     HS(6, S, 14), HS(8, C, 16), CCS(8, C),    ENC(8, C),    HS(9, S, 4),
                                     CCS(9, S),    ENC(9, S)};
    assert_steps(r.conns[0].session, full, sizeof full / sizeof full[0], "full handshake");
    /* Resumed with the ticket: the server's CCS and Finished come first. */
    static const want_step resumed[] = {HS(23, C, 1), HS(25, S, 2), CCS(25, S), ENC(25, S), CCS(27, C), ENC(27, C)};
    assert_steps(r.conns[1].session, resumed, sizeof resumed / sizeof resumed[0], "resumed");
    const sl_tls_certificate_status *good = &r.conns[0].session->steps[3].u.certificate_status;
    ck_assert_uint_eq(good->status_type, 1);
    ck_assert_int_eq(good->response_status, 0);
    ck_assert_int_eq(good->cert_status, 0);
    ck_assert_uint_gt(good->response_length, 100);
    const sl_tls_certificate_status *revoked = &r.conns[2].session->steps[3].u.certificate_status;
    ck_assert_int_eq(revoked->response_status, 0);
    ck_assert_int_eq(revoked->cert_status, 1);
    ck_assert_uint_eq(r.conns[0].session->steps[9].u.new_session_ticket.lifetime_hint, 7200);
    ck_assert_uint_eq(r.conns[0].session->steps[9].u.new_session_ticket.ticket_length, 176);
    ck_assert_uint_eq(tf_count_anomalies(&r), 0);
    char *out = render(r.conns[2].session, NULL);
    ck_assert_ptr_nonnull(strstr(out, "CertificateStatus      from 10.0.0.2:5061: OCSP response (846 bytes) "
                                      "successful, certificate revoked\n"));
    ck_assert_ptr_nonnull(strstr(out, "NewSessionTicket       from 10.0.0.2:5061: lifetime hint 7200 s, ticket 176 bytes\n"));
    free(out);
    tf_result_free(&r);
}
END_TEST

#undef HS
#undef CCS
#undef ENC
#undef C
#undef S

/* The clear handshake messages of every session, frame by frame and in
 * order within a frame, equal tshark's (the oracle beside each corpus
 * capture: frame.number, tls.handshake.type). */
typedef struct frame_type {
    uint64_t frame;
    unsigned type;
} frame_type;

static size_t read_oracle_types(const char *tsv, frame_type *out, size_t max)
{
    FILE *f = fopen(tsv, "r");
    ck_assert_msg(f != NULL, "cannot open %s", tsv);
    char line[8192];
    int col_frame = -1, col_hs = -1;
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *cols[40];
        size_t nc = 0;
        for (char *p = line; nc < 40;) {
            cols[nc++] = p;
            char *tab = strchr(p, '\t');
            if (!tab)
                break;
            *tab = '\0';
            p = tab + 1;
        }
        if (col_frame < 0) {
            for (size_t i = 0; i < nc; i++) {
                col_frame = strcmp(cols[i], "frame.number") == 0 ? (int)i : col_frame;
                col_hs = strcmp(cols[i], "tls.handshake.type") == 0 ? (int)i : col_hs;
            }
            ck_assert(col_frame >= 0 && col_hs >= 0);
            continue;
        }
        if ((int)nc <= col_hs || (int)nc <= col_frame)
            continue;
        uint64_t frame = strtoull(cols[col_frame], NULL, 10);
        for (char *save = NULL, *t = strtok_r(cols[col_hs], "|,", &save); t; t = strtok_r(NULL, "|,", &save)) {
            ck_assert(n < max);
            out[n++] = (frame_type){frame, (unsigned)atoi(t)};
        }
    }
    fclose(f);
    return n;
}

static const char *const ORDER_CORPUS[] = {
    "ssl3-selfsigned-mutual-loopback__arkime.pcap",
    "tcp-syn-refused-rst-then-tls-dup-hello-loopback__suricata-verify.pcap",
    "tls-corrupt-record-length__suricata-verify.pcap",
    "tls-missing-intermediate__zeek.pcap",
    "tls10-expired-cert-chain__zeek.pcap",
    "tls12-alert-certificate-unknown-curveball__arkime.pcap",
    "tls12-alert-warning-unrecognized-name__zeek.pcap",
    "tls12-certreq-alert-handshake-failure__zeek.pcap",
    "tls12-chain2-letsencrypt__zeek.pcap",
    "tls12-mutual-client-cert__zeek.pcap",
    "tls12-name-mismatch-badssl__ndpi.pcap",
    "tls12-tls13-with-keylog__scapy.pcap",
    "tls13-curl__arkime.pcap",
    "tls13-wolfssl__zeek.pcap",
    "tls13draft-alert-unknown-ca-then-success__zeek.pcap",
};

START_TEST(handshake_order_matches_tshark)
{
    const char *file = ORDER_CORPUS[_i];
    char rel[512], path[1024], tsv[1100];
    snprintf(rel, sizeof rel, "corpus/%s", file);
    sl_test_need_file(sl_test_data(path, sizeof path, rel));
    snprintf(tsv, sizeof tsv, "%s.tshark.tsv", path);
    static frame_type want[512], got[512];
    size_t n_want = read_oracle_types(tsv, want, 512), n_got = 0;
    tf_result r;
    run_corpus(file, &r);
    for (size_t c = 0; c < r.n_conns; c++) {
        const sl_tls_session *s = r.conns[c].session;
        for (size_t i = 0; i < s->n_steps; i++)
            if (s->steps[i].kind == SL_TLS_STEP_HANDSHAKE) {
                ck_assert(n_got < 512);
                got[n_got++] = (frame_type){s->steps[i].at.frame, s->steps[i].hs_type};
            }
    }
    /* Sessions one after another: a stable sort by frame merges them. */
    for (size_t i = 1; i < n_got; i++)
        for (size_t k = i; k > 0 && got[k - 1].frame > got[k].frame; k--) {
            frame_type t = got[k];
            got[k] = got[k - 1];
            got[k - 1] = t;
        }
    ck_assert_uint_gt(n_want, 0);
    ck_assert_msg(n_got == n_want, "%s: %zu handshake messages, tshark %zu", file, n_got, n_want);
    for (size_t i = 0; i < n_want; i++)
        ck_assert_msg(got[i].frame == want[i].frame && got[i].type == want[i].type,
                      "%s: message %zu is frame %llu type %u, tshark frame %llu type %u", file, i,
                      (unsigned long long)got[i].frame, got[i].type, (unsigned long long)want[i].frame,
                      want[i].type);
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
    tcase_add_test(t, steps_named_by_type_not_direction);
    tcase_add_test(t, steps_in_frame_order);
    tcase_add_test(t, steps_capped);
    tcase_add_test(t, hello_retry_keeps_both_client_hellos);
    tcase_add_test(t, ocsp_stapling_and_tickets);
    tcase_add_loop_test(t, handshake_order_matches_tshark, 0, (int)(sizeof ORDER_CORPUS / sizeof ORDER_CORPUS[0]));
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return sl_check_run(session_suite());
}
