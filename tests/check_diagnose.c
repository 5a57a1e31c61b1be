/* check_diagnose.c - the diagnosis on real captures: the whole pipeline,
 * then the rules, asserting each verdict's code, rejecter (address, port,
 * role), injected flag and evidence frames.  Expected values were read off
 * tshark for each file (see the comment of each table row). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipladder/analysis.h"
#include "sipladder/calls.h"
#include "sipladder/diagnose.h"
#include "sipladder/dns.h"
#include "sipladder/model.h"
#include "sipladder/status.h"
#include "check_run.h"
#include "support.h"

#define MAX_EV 24

typedef struct expect {
    const char *file;  /* "S:" prefix: under $SL_TESTDATA/corpus (testdata/corpus), else under testdata/ */
    size_t n_verdicts; /* verdicts the whole file gives */
    size_t index;      /* which one this row checks (ordered by first evidence frame) */
    const char *code;
    uint32_t conn;
    const char *addr;
    uint16_t port;
    sl_role role;
    bool injected;
    uint64_t ev[MAX_EV]; /* 0-terminated */
    const char *cause;   /* a substring of some cause, or NULL */
    int call_plus1;      /* expected call index + 1 (0: no call) */
    bool healthy;
    const char *summary; /* a substring of the summary, or NULL */
} expect;

static const expect CASES[] = {
    /* tshark: f1 SYN 38256->5001, f2 RST,ACK from 10.250.1.2:5001. */
    {"tcp/refused-closed-port.pcap", 1, 0, "tcp.refused", 1, "10.250.1.2", 5001, SL_ROLE_SERVER, false,
     {1, 2}, "no service listens on port 5001", 0, false, NULL},
    /* tshark: f1-f3 SYN (retransmissions at 1 s, 2 s), nothing back. */
    {"tcp/syn-dropped-iptables.pcap", 1, 0, "tcp.no_answer", 1, "10.250.1.2", 5002, SL_ROLE_NETWORK, false,
     {1, 2, 3}, "firewall", 0, false, NULL},
    /* tshark: f13 RST from the server 5003 in the established connection, 50 ms after the
     * client's 209 bytes (f11) that it answers. */
    {"tcp/reset-mid-stream.pcap", 1, 0, "tcp.reset", 1, "10.250.1.2", 5003, SL_ROLE_SERVER, false, {11, 13},
     "after the client's data (frame 11)", 0, false, NULL},
    /* tshark: f6 server flight with CertificateRequest, f8 the client's Certificate (with CKE),
     * f9 alert 48 from the server (5062). */
    {"tls/tls12-client-rejected.pcap", 1, 0, "tls.alert.unknown_ca", 1, "127.0.0.1", 5062, SL_ROLE_SERVER,
     false, {4, 6, 8, 9}, "intermediate", 0, false, NULL},
    {"tls/tls12-expired.pcap", 1, 0, "tls.alert.certificate_expired", 1, "127.0.0.1", 57934, SL_ROLE_CLIENT,
     false, {4, 6, 8}, "expired", 0, false, NULL},
    {"tls/tls12-name-mismatch.pcap", 1, 0, "tls.alert.bad_certificate", 1, "127.0.0.1", 57942, SL_ROLE_CLIENT,
     false, {4, 6, 8}, "expected name", 0, false, NULL},
    {"tls/tls12-unknown-ca.pcap", 1, 0, "tls.alert.unknown_ca", 1, "127.0.0.1", 33314, SL_ROLE_CLIENT, false,
     {4, 6, 8}, "does not trust the CA", 0, false, NULL},
    /* tshark: f9 Alert (Level: Fatal, Description: Certificate Unknown) from the client 55318. */
    {"S:tls12-alert-certificate-unknown-curveball__arkime.pcap", 1, 0, "tls.alert.certificate_unknown", 1,
     "172.130.128.76", 55318, SL_ROLE_CLIENT, false, {4, 7, 9}, NULL, 0, false, NULL},
    /* tshark: f6 Alert Handshake Failure from 74.125.239.37:443 answering the ClientHello f4. */
    {"S:tls12-alert-handshake-failure__zeek.pcap", 1, 0, "tls.alert.handshake_failure", 1, "74.125.239.37", 443,
     SL_ROLE_SERVER, false, {4, 6}, "cipher", 0, false, NULL},
    {"S:tls-alert-protocol-version__ndpi.pcap", 1, 0, "tls.alert.protocol_version", 1, "192.168.1.20", 443,
     SL_ROLE_SERVER, false, {4, 6}, NULL, 0, false, NULL},
    /* tshark: f8 client alert unknown_ca, then a second connection that completes. */
    {"S:tls13draft-alert-unknown-ca-then-success__zeek.pcap", 1, 0, "tls.alert.unknown_ca", 1,
     "192.150.187.20", 36778, SL_ROLE_CLIENT, false, {4, 8}, NULL, 0, false, NULL},
    /* tshark: f2 RST from 1.2.0.3:6649 (TTL 46 where its other packets have 49) before the
     * server's own SYN-ACK f3: forged, so blamed on the network, not on 1.2.0.3. */
    {"S:tcp-rst-inject__zeek.pcap", 1, 0, "tcp.reset", 1, "1.2.0.3", 6649, SL_ROLE_NETWORK, true, {2, 3},
     "came before the server's own SYN-ACK", 0, false, NULL},
    /* tshark: f1 SYN to 8442, f2 RST (not signalling in a TLS capture: other traffic); then a
     * TLS 1.3 connection to 8443 whose client (ClientHello f9) resets it (f15) 30 us after the
     * server's flight (f12): the handshake aborted, its cause encrypted. */
    {"S:tcp-syn-refused-rst-then-tls-dup-hello-loopback__suricata-verify.pcap", 1, 0, "tls.handshake_aborted", 2,
     "127.0.0.1", 49954, SL_ROLE_CLIENT, false, {9, 12, 15}, "TLS 1.3 encrypts", 0, false, NULL},
    /* SIP (calls built): tshark: REGISTER f19 -> 401 f20 -> REGISTER with credentials f30 -> 403 f32,
     * again f107/108 -> f121/122 (401 nonce has changed): the registrar refuses the credentials. */
    /* tshark -Y "dns.qry.type==33": 227 SRV queries for _sip._udp.sip.cybercity.dk (first f10, f11,
     * f12, f15...), no SRV response at all: one verdict for them all, blamed on nobody (network). */
    {"S:sip-udp-register-invite-cancel-synretrans__suricata-verify.pcap", 9, 0, "dns.srv_failed", 0,
     "192.168.1.1", 53, SL_ROLE_NETWORK, false, {10, 11, 12, 15, 16, 21, 22, 23}, "no SRV record", 0, false,
     "got no response (227 queries"},
    {"S:sip-udp-register-invite-cancel-synretrans__suricata-verify.pcap", 9, 1, "sip.register.auth_failed", 5,
     "212.242.33.35", 5060, SL_ROLE_REMOTE, false, {19, 20, 30, 31, 32, 107, 108, 121, 122}, "wrong credentials",
     0, false, NULL},
    /* voi18062: credentials accepted (200, f182), later REGISTER with credentials f430 answered
     * "401 nonce has changed" f432 and not retried: a new nonce, not wrong credentials. */
    {"S:sip-udp-register-invite-cancel-synretrans__suricata-verify.pcap", 9, 2, "sip.challenged", 5,
     "212.242.33.35", 5060, SL_ROLE_REMOTE, false, {143, 144, 154, 155, 169, 170, 180, 181, 182, 421, 422, 430, 432},
     "not a refusal", 0, true, "accepted at frame 182"},
    /* tshark: INVITE f223 (retransmitted f225, f227), only "100 trying" f228, CANCEL f247, 408 f252. */
    {"S:sip-udp-register-invite-cancel-synretrans__suricata-verify.pcap", 9, 4, "sip.no_final_response", 36,
     "200.68.120.81", 5060, SL_ROLE_REMOTE, false, {223, 225, 227, 228, 247, 252}, "does not process", 1, false,
     "then the caller cancelled"},
    /* tshark: INVITE f321 -> 407 f326, ACK f327, INVITE with credentials f346 -> 403 f348: the
     * refusal after the challenge is the call's verdict. */
    {"S:sip-udp-register-invite-cancel-synretrans__suricata-verify.pcap", 9, 5, "sip.response.403", 5,
     "212.242.33.35", 5060, SL_ROLE_REMOTE, false, {321, 326, 327, 346, 348}, "first challenged (407", 2, false,
     "403 Wrong password or domain"},
    /* tshark: REGISTER f4, 401 f6, REGISTER with credentials f8, 200 f9 (Supported: X-cisco-supports-AR_SK). */
    {"sip/tcp-register-401-200-mra-ar-sk.pcap", 1, 0, "sip.register.ok", 1, "10.251.1.2", 5060, SL_ROLE_REMOTE,
     false, {4, 6, 8, 9}, "healthy", 0, true, "AR_SK offered by the client, supported by the registrar"},
    /* Healthy: no verdict at all (RSTs after a FIN are closes). */
    {"tcp/normal-exchange.pcap", 0, 0, NULL, 0, NULL, 0, 0, false, {0}, NULL, 0, false, NULL},
    {"tls/tls12-mutual.pcap", 0, 0, NULL, 0, NULL, 0, 0, false, {0}, NULL, 0, false, NULL},
    {"tls/tls13.pcap", 0, 0, NULL, 0, NULL, 0, 0, false, {0}, NULL, 0, false, NULL},
    /* tshark: a chain of one (f41) and the client's encrypted alert f46 right after its
     * Finished, before any application data. */
    {"S:tls-missing-intermediate__zeek.pcap", 1, 0, "tls.closed_after_handshake", 3, "192.168.4.149", 58532,
     SL_ROLE_CLIENT, false, {39, 41, 44, 46}, "intermediate", 0, false, NULL},
    {"S:ssl3-selfsigned-mutual-loopback__arkime.pcap", 0, 0, NULL, 0, NULL, 0, 0, false, {0}, NULL, 0, false, NULL},
};

/* A row's file: "S:name" in the corpus, else under testdata/. */
static const char *path_of(const char *name, char *buf, size_t len)
{
    char rel[512];
    if (strncmp(name, "S:", 2) == 0)
        return sl_test_corpus(buf, len, name + 2);
    snprintf(rel, sizeof rel, "testdata/%s", name);
    return sl_test_path(buf, len, rel);
}

/* The capture through the pipeline (and, with diagnose, the correlation
 * and the rules); a missing file skips the test. */
static void run_file(sl_test_run *r, const char *name, bool diagnose)
{
    char path[4096];
    sl_test_run_file(r, path_of(name, path, sizeof path), &(sl_test_opts){.truncated_ok = true, .diagnose = diagnose});
}

static bool has_cause(const sl_diagnosis *d, const char *sub)
{
    for (size_t i = 0; i < d->n_causes; i++)
        if (strstr(d->causes[i], sub))
            return true;
    return false;
}

static void check_verdict(const expect *e, const sl_diagnosis *d)
{
    char got[64];
    ck_assert_str_eq(d->code, e->code);
    ck_assert_uint_eq(d->conn_index, e->conn);
    ck_assert_int_eq(d->call, e->call_plus1 - 1);
    ck_assert(d->healthy == e->healthy);
    if (e->summary)
        ck_assert_msg(strstr(d->summary, e->summary) != NULL, "%s: summary '%s'", e->file, d->summary);
    ck_assert_str_eq(sl_addr_format(&d->rejected_by.addr, got, sizeof got), e->addr);
    ck_assert_uint_eq(d->rejected_by.port, e->port);
    ck_assert_str_eq(sl_role_name(d->rejected_by.role), sl_role_name(e->role));
    ck_assert(d->rejected_by.known == (e->role != SL_ROLE_NETWORK));
    if (e->role == SL_ROLE_LOCAL || e->role == SL_ROLE_REMOTE)
        ck_assert(d->rejected_by.local == (e->role == SL_ROLE_LOCAL));
    ck_assert(d->suspect_injected == e->injected);
    size_t n = 0;
    while (n < MAX_EV && e->ev[n])
        n++;
    ck_assert_uint_eq(d->n_evidence, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_uint_eq(d->evidence[i], e->ev[i]);
    ck_assert_ptr_nonnull(d->summary);
    ck_assert_uint_gt(strlen(d->summary), 10);
    ck_assert_uint_gt(d->n_causes, 0);
    if (e->cause)
        ck_assert_msg(has_cause(d, e->cause), "%s: no cause with '%s'", e->file, e->cause);
}

START_TEST(verdicts_on_captures)
{
    const expect *e = &CASES[_i];
    sl_test_run r;
    run_file(&r, e->file, true);
    sl_diagnoses d = r.diag;
    ck_assert_msg(d.n == e->n_verdicts, "%s: %zu verdicts (first %s), expected %zu", e->file, d.n,
                  d.n ? d.list[0].code : "-", e->n_verdicts);
    if (e->code)
        check_verdict(e, &d.list[e->index]);
    for (size_t i = 1; i < d.n; i++)
        ck_assert_uint_le(d.list[i - 1].evidence[0], d.list[i].evidence[0]);
    sl_diagnoses_clear(&r.diag);
    ck_assert_ptr_null(r.diag.list);
    sl_test_run_free(&r);
}
END_TEST

/* The capture point is the loopback host, or the client of the only
 * connection; a server far away is "far side". */
START_TEST(capture_point_side)
{
    sl_test_run r;
    run_file(&r, "tcp/refused-closed-port.pcap", false);
    sl_diagnoses d;
    ck_assert_int_eq(sl_diagnose(r.m, NULL, NULL, &d), 0);
    ck_assert_uint_eq(d.n, 1);
    ck_assert(!d.list[0].rejected_by.local);
    sl_diagnoses_clear(&d);
    sl_test_run_free(&r);
    run_file(&r, "tls/tls12-expired.pcap", false);
    ck_assert_int_eq(sl_diagnose(r.m, NULL, NULL, &d), 0);
    ck_assert_uint_eq(d.n, 1);
    ck_assert(d.list[0].rejected_by.local);
    sl_diagnoses_clear(&d);
    sl_test_run_free(&r);
}
END_TEST

/* --expect-name reaches the certificate check: a name the server's
 * certificate does carry removes the mismatch hint, one it lacks adds it. */
START_TEST(expect_name_option)
{
    sl_test_run r;
    run_file(&r, "tls/tls12-expired.pcap", false);
    sl_diagnose_options o;
    sl_diagnose_options_default(&o);
    ck_assert_uint_eq(o.min_bandwidth_kbps, 1152);
    ck_assert_uint_eq(o.oversize_bytes, 5000);
    o.expect_name = "no-such-name.example.invalid";
    sl_diagnoses d;
    ck_assert_int_eq(sl_diagnose(r.m, NULL, &o, &d), 0);
    ck_assert_uint_eq(d.n, 1);
    ck_assert(has_cause(&d.list[0], "expected name"));
    sl_diagnoses_clear(&d);
    o.expect_name = NULL;
    ck_assert_int_eq(sl_diagnose(r.m, NULL, &o, &d), 0);
    ck_assert(!has_cause(&d.list[0], "expected name"));
    sl_diagnoses_clear(&d);
    sl_test_run_free(&r);
}
END_TEST

START_TEST(names_and_null_safety)
{
    ck_assert_str_eq(sl_role_name(SL_ROLE_CLIENT), "client");
    ck_assert_str_eq(sl_role_name(SL_ROLE_SERVER), "server");
    ck_assert_str_eq(sl_role_name(SL_ROLE_NETWORK), "network");
    ck_assert_str_eq(sl_role_name(SL_ROLE_LOCAL), "local");
    ck_assert_str_eq(sl_role_name(SL_ROLE_REMOTE), "remote");
    ck_assert_str_eq(sl_role_name((sl_role)42), "unknown");
    sl_diagnoses_clear(NULL);
    sl_diagnoses empty = {0};
    sl_diagnoses_clear(&empty);
}
END_TEST

/* ---- DNS rules on a model built by hand (no DNS scenario capture yet) ---- */

static void add_dns(sl_model *m, uint64_t frame, bool response, uint8_t rcode, const sl_dns_answer *ans, size_t n)
{
    sl_dns_msg msg;
    memset(&msg, 0, sizeof msg);
    msg.id = 0x4242;
    msg.response = response;
    msg.rcode = rcode;
    msg.has_question = true;
    snprintf(msg.qname, sizeof msg.qname, "_sips._tcp.cloud.example");
    msg.qtype = SL_DNS_TYPE_SRV;
    if (n)
        memcpy(msg.answers, ans, n * sizeof *ans);
    msg.n_answers = msg.n_answers_total = n;
    sl_flow_info fi = {.transport = SL_TRANSPORT_UDP, .port = {40000, 53}, .conn_index = 1};
    sl_addr_parse("192.0.2.1", &fi.addr[0]);
    sl_addr_parse("192.0.2.53", &fi.addr[1]);
    sl_span sp = {frame, frame, 0, 0};
    sl_dns_record *r = sl_dns_record_new(&msg, &sp, &fi, response ? SL_DIR_S2C : SL_DIR_C2S);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(sl_model_add_dns(m, r), 0);
}

static sl_model *dns_model(uint8_t rcode, bool with_answer, bool refused)
{
    sl_model *m = sl_model_new();
    ck_assert_ptr_nonnull(m);
    sl_dns_answer ans[2];
    memset(ans, 0, sizeof ans);
    ans[0].type = SL_DNS_TYPE_SRV;
    snprintf(ans[0].name, sizeof ans[0].name, "_sips._tcp.cloud.example");
    snprintf(ans[0].target, sizeof ans[0].target, "sip.cloud.example");
    ans[0].port = 5061;
    ans[1].type = SL_DNS_TYPE_A;
    snprintf(ans[1].name, sizeof ans[1].name, "sip.cloud.example");
    sl_addr_parse("198.51.100.7", &ans[1].addr);
    add_dns(m, 1, false, 0, NULL, 0);
    add_dns(m, 2, false, 0, NULL, 0); /* retransmission: judged once */
    add_dns(m, 3, true, rcode, ans, with_answer ? 2 : 0);
    sl_flow_info fi = {.transport = SL_TRANSPORT_UDP, .port = {40000, 53}};
    sl_addr_parse("192.0.2.1", &fi.addr[0]);
    sl_addr_parse("192.0.2.53", &fi.addr[1]);
    ck_assert_ptr_nonnull(sl_model_add_conn(m, &fi, 1, 0));
    sl_flow_info tcp = {.transport = SL_TRANSPORT_TCP, .port = {41000, 5061}};
    sl_addr_parse("192.0.2.1", &tcp.addr[0]);
    sl_addr_parse("198.51.100.7", &tcp.addr[1]);
    sl_conn *c = sl_model_add_conn(m, &tcp, 4, 0);
    ck_assert_ptr_nonnull(c);
    c->first_frame = 4;
    c->syn_count = 1;
    c->syn_frames[0] = 4;
    if (refused) {
        c->refused = true;
        c->rst_count = 1;
        c->rst.frame = 5;
        c->rst.side = SL_SIDE_SERVER;
    } else {
        c->synack_count = 1;
        c->synack_frame = 5;
    }
    return m;
}

START_TEST(dns_srv_rules)
{
    sl_diagnoses d;
    char a[64];
    /* NXDOMAIN: srv_failed, blamed on the DNS server, frames of query and answer. */
    sl_model *m = dns_model(SL_DNS_RCODE_NXDOMAIN, false, false);
    ck_assert_int_eq(sl_diagnose(m, NULL, NULL, &d), 0);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_str_eq(d.list[0].code, "dns.srv_failed");
    ck_assert_str_eq(sl_addr_format(&d.list[0].rejected_by.addr, a, sizeof a), "192.0.2.53");
    ck_assert_uint_eq(d.list[0].rejected_by.port, 53);
    ck_assert_uint_eq(d.list[0].n_evidence, 3); /* both copies of the query, and the answer */
    ck_assert_uint_eq(d.list[0].evidence[0], 1);
    ck_assert_uint_eq(d.list[0].evidence[2], 3);
    ck_assert_ptr_nonnull(strstr(d.list[0].summary, "NXDOMAIN"));
    ck_assert_ptr_nonnull(strstr(d.list[0].summary, "2 queries"));
    sl_diagnoses_clear(&d);
    sl_model_free(m);
    /* SRV says 5061, the connection to 5061 is refused: port mismatch, and
     * the refusal is not reported twice. */
    m = dns_model(0, true, true);
    ck_assert_int_eq(sl_diagnose(m, NULL, NULL, &d), 0);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_str_eq(d.list[0].code, "dns.srv_port_mismatch");
    ck_assert_uint_eq(d.list[0].conn_index, 2);
    ck_assert_uint_eq(d.list[0].n_evidence, 4); /* the query, its answer, the SYN and the RST */
    ck_assert_uint_eq(d.list[0].evidence[0], 1);
    ck_assert_uint_eq(d.list[0].evidence[1], 3);
    ck_assert_uint_eq(d.list[0].evidence[3], 5);
    ck_assert_ptr_nonnull(strstr(d.list[0].causes[0], "5062"));
    sl_diagnoses_clear(&d);
    sl_model_free(m);
    /* SRV answered and the connection came up: nothing to say. */
    m = dns_model(0, true, false);
    ck_assert_int_eq(sl_diagnose(m, NULL, NULL, &d), 0);
    ck_assert_uint_eq(d.n, 0);
    sl_diagnoses_clear(&d);
    sl_model_free(m);
}
END_TEST

static Suite *diagnose_suite(void)
{
    Suite *s = suite_create("diagnose");
    TCase *tc = tcase_create("captures");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, verdicts_on_captures, 0, (int)(sizeof CASES / sizeof CASES[0]));
    tcase_add_test(tc, capture_point_side);
    tcase_add_test(tc, expect_name_option);
    tcase_add_test(tc, names_and_null_safety);
    tcase_add_test(tc, dns_srv_rules);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return sl_check_run(diagnose_suite());
}
