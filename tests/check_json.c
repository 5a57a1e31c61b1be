/* check_json.c - the JSON document on real captures (testdata/sip, tls,
 * tcp, malformed and the shared corpus): the contract fields other tools
 * rely on (frame numbers, "ip:port" with IPv6 in brackets, status as an
 * integer, the cseq string, alert and certificate names), and a SIP message
 * whose header holds NUL, ESC and invalid UTF-8 (written here as a pcap and
 * read through the whole pipeline) coming out as valid JSON with U+FFFD and
 * the "escaped" flag. */
#include <check.h>
#include <jansson.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json_arena.h"
#include "sipladder/analysis.h"
#include "sipladder/calls.h"
#include "sipladder/diagnose.h"
#include "sipladder/model.h"
#include "sipladder/render_json.h"
#include "sipladder/status.h"
#include "check_run.h"
#include "support.h"

/* One pipeline run (support.h) and its document. */
typedef struct run {
    sl_test_run run;
    json_t *doc;
    json_t *lines;
} run;

typedef struct caps {
    size_t max_sip_bytes, max_conns;
} caps;

/* The caps are model fields with no option; the analysis owns the model,
 * so setting them before the run is what a smaller build does. */
static void set_caps(sl_analysis *a, const void *ctx)
{
    const caps *c = ctx;
    sl_model *mm = sl_analysis_model_mut(a);
    if (c->max_sip_bytes)
        mm->max_sip_bytes = c->max_sip_bytes;
    if (c->max_conns)
        mm->max_conns = c->max_conns;
}

/* One run with the model's caps and the messages-per-call cap set (0: the
 * default, resp. no cap), to reach them on a small capture. */
static void run_file_caps(run *r, const char *path, size_t max_sip_bytes, size_t max_conns, size_t max_call_messages)
{
    memset(r, 0, sizeof *r);
    caps c = {max_sip_bytes, max_conns};
    sl_test_opts o = {.any_rc = true, .diagnose = true, .max_call_messages = max_call_messages,
                      .prepare = set_caps, .prepare_ctx = &c};
    sl_test_run_file(&r->run, path, &o);
    int rc = r->run.rc;
    ck_assert_msg(rc == 0 || rc == -SL_ETRUNC || rc == -SL_EIO, "%s: %d", path, rc);
    sl_report rep = {.model = r->run.m, .calls = r->run.calls, .diagnoses = &r->run.diag};
    sl_render_opts o2 = {.out = NULL};
    r->doc = sl_json_document(&rep, &o2);
    r->lines = sl_json_lines(&rep, &o2);
    ck_assert_ptr_nonnull(r->doc);
    ck_assert_ptr_nonnull(r->lines);
}

static void run_file(run *r, const char *path) { run_file_caps(r, path, 0, 0, 0); }

/* A repository file ("testdata/...") or a corpus one ("corpus/..."). */
static void run_rel(run *r, const char *rel)
{
    char path[4096];
    run_file(r, sl_test_data(path, sizeof path, rel));
}

static void run_free(run *r)
{
    json_decref(r->doc);
    json_decref(r->lines);
    sl_test_run_free(&r->run);
}

/* The message completed in `frame`, wherever the document keeps it (the
 * loose "messages", or a call's). */
static json_t *message_at(json_t *doc, json_int_t frame)
{
    size_t i, k;
    json_t *m, *call;
    json_array_foreach(json_object_get(doc, "messages"), i, m)
        if (json_integer_value(json_object_get(m, "frame")) == frame)
            return m;
    json_array_foreach(json_object_get(doc, "calls"), k, call)
        json_array_foreach(json_object_get(call, "messages"), i, m)
            if (json_integer_value(json_object_get(m, "frame")) == frame)
                return m;
    return NULL;
}

static const char *str_at(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    ck_assert_msg(json_is_string(v), "%s is not a string", key);
    return json_string_value(v);
}

static json_int_t int_at(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    ck_assert_msg(json_is_integer(v), "%s is not an integer", key);
    return json_integer_value(v);
}

static json_t *conn_at(json_t *doc, size_t index)
{
    json_t *c = json_array_get(json_object_get(doc, "connections"), index - 1);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(int_at(c, "index"), (json_int_t)index);
    return c;
}

START_TEST(sip_messages_contract)
{
    run r;
    run_rel(&r, "testdata/sip/udp-call-invite-100-180-200-ack-bye.pcap");
    ck_assert_str_eq(str_at(r.doc, "schema"), "sipladder/1");
    json_t *inv = message_at(r.doc, 1);
    ck_assert_ptr_nonnull(inv);
    ck_assert_str_eq(str_at(inv, "method"), "INVITE");
    ck_assert_ptr_null(json_object_get(inv, "status"));
    ck_assert_str_eq(str_at(inv, "src"), "10.251.1.1:5062");
    ck_assert_str_eq(str_at(inv, "dst"), "10.251.1.2:5060");
    ck_assert_str_eq(str_at(inv, "transport"), "udp");
    ck_assert_str_eq(str_at(inv, "call_id"), "udpcall-31ce@h");
    ck_assert_str_eq(str_at(inv, "cseq"), "1 INVITE");
    ck_assert_str_eq(str_at(inv, "first_line"), "INVITE sip:bob@10.251.1.2 SIP/2.0");
    /* 2026-11-21 06:09:34.785707 UTC, as tshark reads frame 1. */
    ck_assert_double_eq_tol(json_real_value(json_object_get(inv, "time")), 1795241374.785707, 1e-6);
    ck_assert_ptr_null(json_object_get(inv, "escaped"));
    json_t *h = json_array_get(json_object_get(inv, "headers"), 4);
    ck_assert_str_eq(str_at(h, "name"), "Call-ID");
    ck_assert_str_eq(str_at(h, "value"), "udpcall-31ce@h");
    ck_assert_int_eq(json_array_size(json_object_get(inv, "headers")), 10);
    json_t *sdp = json_object_get(inv, "sdp");
    ck_assert_str_eq(str_at(sdp, "connection_address"), "10.251.1.1");
    ck_assert_int_eq(int_at(json_object_get(sdp, "bandwidth"), "as"), 1024);
    json_t *audio = json_array_get(json_object_get(sdp, "media"), 0);
    ck_assert_int_eq(int_at(audio, "port"), 49170);
    ck_assert_str_eq(str_at(audio, "direction"), "sendrecv");
    ck_assert_str_eq(str_at(json_array_get(json_object_get(audio, "codecs"), 2), "codec"), "telephone-event/8000");

    json_t *ok = message_at(r.doc, 4);
    ck_assert_ptr_nonnull(ok);
    ck_assert_int_eq(int_at(ok, "status"), 200);
    ck_assert_ptr_null(json_object_get(ok, "method"));
    ck_assert_str_eq(str_at(ok, "cseq"), "1 INVITE");
    ck_assert_str_eq(str_at(ok, "src"), "10.251.1.2:5060");
    ck_assert_str_eq(str_at(message_at(r.doc, 6), "cseq"), "2 BYE");
    ck_assert_int_eq(int_at(message_at(r.doc, 3), "status"), 180);
    run_free(&r);
}
END_TEST

START_TEST(ipv6_in_brackets)
{
    run r;
    run_rel(&r, "testdata/sip/udp-invite-fragmented-ipv6.pcap");
    json_t *inv = message_at(r.doc, 4);
    ck_assert_ptr_nonnull(inv);
    ck_assert_str_eq(str_at(inv, "src"), "[fd00:5d::1]:5062");
    ck_assert_str_eq(str_at(inv, "dst"), "[fd00:5d::2]:5060");
    ck_assert_int_eq(int_at(message_at(r.doc, 7), "status"), 200);
    run_free(&r);

    run_rel(&r, "testdata/tcp/ipv6-exchange.pcap");
    json_t *c = conn_at(r.doc, 1);
    ck_assert_str_eq(str_at(c, "client"), "[fd00:5c::1]:47236");
    ck_assert_str_eq(str_at(c, "server"), "[fd00:5c::2]:5006");
    json_t *tcp = json_object_get(c, "tcp");
    ck_assert_int_eq(json_array_size(json_object_get(tcp, "syn_frames")), 1);
    ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(tcp, "syn_frames"), 0)), 1);
    ck_assert_int_eq(int_at(tcp, "synack_frame"), 2);
    ck_assert_int_eq(int_at(tcp, "established_frame"), 3);
    json_t *fin = json_object_get(json_object_get(tcp, "fin"), "client");
    ck_assert_int_eq(int_at(fin, "frame"), 11);
    ck_assert_str_eq(str_at(fin, "from"), "[fd00:5c::1]:47236");
    json_t *host = json_array_get(json_object_get(r.doc, "hosts"), 0);
    ck_assert_str_eq(str_at(host, "address"), "fd00:5c::1");
    run_free(&r);
}
END_TEST

START_TEST(tcp_events)
{
    run r;
    run_rel(&r, "testdata/tcp/reset-mid-stream.pcap");
    json_t *tcp = json_object_get(conn_at(r.doc, 1), "tcp");
    json_t *rst = json_object_get(tcp, "rst");
    ck_assert_int_eq(int_at(rst, "frame"), 13);
    ck_assert_str_eq(str_at(rst, "side"), "server");
    ck_assert_str_eq(str_at(rst, "from"), "10.250.1.2:5003");
    ck_assert(json_is_false(json_object_get(rst, "suspect_injected")));
    ck_assert(json_is_false(json_object_get(tcp, "refused")));
    run_free(&r);

    run_rel(&r, "testdata/tcp/refused-closed-port.pcap");
    tcp = json_object_get(conn_at(r.doc, 1), "tcp");
    ck_assert(json_is_true(json_object_get(tcp, "refused")));
    ck_assert(json_is_null(json_object_get(tcp, "synack_frame")));
    run_free(&r);
}
END_TEST

START_TEST(tls_alert_and_chain)
{
    run r;
    run_rel(&r, "testdata/tls/tls12-unknown-ca.pcap");
    json_t *tls = json_object_get(conn_at(r.doc, 1), "tls");
    ck_assert_ptr_nonnull(tls);
    json_t *al = json_array_get(json_object_get(tls, "alerts"), 0);
    ck_assert_int_eq(int_at(al, "frame"), 8);
    ck_assert_str_eq(str_at(al, "level"), "fatal");
    ck_assert_str_eq(str_at(al, "description"), "unknown_ca");
    ck_assert_str_eq(str_at(al, "from"), "127.0.0.1:33314");
    ck_assert_str_eq(str_at(json_object_get(tls, "client_hello"), "sni"), "server.test");
    json_t *cipher = json_object_get(json_object_get(tls, "server_hello"), "cipher");
    ck_assert_int_eq(int_at(cipher, "id"), 0xC02C);
    ck_assert_str_eq(str_at(cipher, "name"), "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384");
    json_t *chain = json_object_get(json_object_get(tls, "certificates"), "server");
    ck_assert_int_eq(int_at(chain, "frame"), 6);
    json_t *leaf = json_array_get(json_object_get(chain, "certificates"), 0);
    ck_assert_str_eq(str_at(leaf, "subject_cn"), "server.test");
    ck_assert_str_eq(str_at(leaf, "issuer_cn"), "Sipladder Test Intermediate CA");
    json_t *san = json_object_get(leaf, "san_dns");
    ck_assert_int_eq(json_array_size(san), 2);
    ck_assert_str_eq(json_string_value(json_array_get(san, 0)), "server.test");
    ck_assert_str_eq(json_string_value(json_array_get(san, 1)), "*.sip.test");
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(leaf, "san_ip"), 0)), "127.0.0.1");
    ck_assert_str_eq(str_at(leaf, "sha256"), "b3cdbce2012b5339411eb9c585eac9d2f336b85c9b385cc2d9f98bbb3f732083");
    ck_assert(json_is_true(json_object_get(json_array_get(json_object_get(chain, "certificates"), 1), "is_ca")));
    json_t *out = json_object_get(tls, "outcome");
    ck_assert_str_eq(str_at(out, "kind"), "fatal_alert");
    ck_assert_str_eq(str_at(out, "side"), "client");
    ck_assert_str_eq(str_at(out, "alert"), "unknown_ca");
    json_t *ev = json_object_get(out, "evidence");
    ck_assert_int_eq(json_array_size(ev), 3);
    ck_assert_int_eq(json_integer_value(json_array_get(ev, 2)), 8);
    /* The diagnosis of the same failure, as the contract names its fields. */
    json_t *d = json_array_get(json_object_get(r.doc, "diagnoses"), 0);
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(str_at(d, "code"), "tls.alert.unknown_ca");
    ck_assert(json_is_null(json_object_get(d, "call")));
    ck_assert_int_eq(int_at(d, "connection"), 1);
    json_t *rb = json_object_get(d, "rejected_by");
    ck_assert_str_eq(str_at(rb, "ip"), "127.0.0.1");
    ck_assert_int_eq(int_at(rb, "port"), 33314);
    ck_assert_str_eq(str_at(rb, "role"), "client");
    ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(d, "evidence"), 2)), 8);
    run_free(&r);
}
END_TEST

START_TEST(tls_corpus_mutual_and_alert)
{
    run r;
    run_rel(&r, "corpus/tls12-mutual-client-cert__zeek.pcap");
    json_t *tls = json_object_get(conn_at(r.doc, 1), "tls");
    ck_assert(json_is_true(json_object_get(tls, "mutual")));
    json_t *client = json_object_get(json_object_get(tls, "certificates"), "client");
    json_t *cc = json_array_get(json_object_get(client, "certificates"), 0);
    ck_assert_str_eq(str_at(cc, "subject_cn"), "johanna@corelight.com");
    json_t *server = json_object_get(json_object_get(tls, "certificates"), "server");
    json_t *sc = json_array_get(json_object_get(server, "certificates"), 0);
    ck_assert_str_eq(str_at(sc, "subject_cn"), "certauth.idrix.fr");
    ck_assert_str_eq(str_at(sc, "issuer_cn"), "R3");
    run_free(&r);

    run_rel(&r, "corpus/tls12-alert-handshake-failure__zeek.pcap");
    tls = json_object_get(conn_at(r.doc, 1), "tls");
    json_t *al = json_array_get(json_object_get(tls, "alerts"), 0);
    ck_assert_int_eq(int_at(al, "frame"), 6);
    ck_assert_str_eq(str_at(al, "description"), "handshake_failure");
    ck_assert_str_eq(str_at(al, "from"), "74.125.239.37:443");
    run_free(&r);
}
END_TEST

/* ---- hostile bytes: a SIP message written here as a one-frame pcap ---- */

static size_t put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return 2;
}

static void write_sip_pcap(const char *path, const char *sip, size_t n)
{
    static const uint8_t eth[14] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00};
    uint8_t frame[2048];
    ck_assert(14 + 20 + 8 + n <= sizeof frame);
    memcpy(frame, eth, 14);
    uint8_t *ip = frame + 14;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put16(ip + 2, (unsigned)(20 + 8 + n));
    ip[8] = 64;
    ip[9] = 17;
    memcpy(ip + 12, (const uint8_t[]){192, 0, 2, 1}, 4);
    memcpy(ip + 16, (const uint8_t[]){192, 0, 2, 2}, 4);
    unsigned sum = 0;
    for (int i = 0; i < 20; i += 2)
        sum += (unsigned)(ip[i] << 8 | ip[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    put16(ip + 10, ~sum & 0xffff);
    uint8_t *udp = ip + 20;
    put16(udp, 5060);
    put16(udp + 2, 5060);
    put16(udp + 4, (unsigned)(8 + n));
    put16(udp + 6, 0);
    memcpy(udp + 8, sip, n);
    pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
    ck_assert_ptr_nonnull(p);
    pcap_dumper_t *d = pcap_dump_open(p, path);
    ck_assert_ptr_nonnull(d);
    struct pcap_pkthdr h = {.ts = {1700000000, 250000}, .caplen = (bpf_u_int32)(42 + n), .len = (bpf_u_int32)(42 + n)};
    pcap_dump((u_char *)d, &h, frame);
    pcap_dump_close(d);
    pcap_close(p);
}

START_TEST(hostile_header_bytes)
{
    /* Subject holds NUL, ESC and the invalid bytes FF FE; X-Name a valid é. */
    static const char sip[] = "OPTIONS sip:b@192.0.2.2 SIP/2.0\r\n"
                              "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1\r\n"
                              "From: <sip:a@192.0.2.1>;tag=1\r\n"
                              "To: <sip:b@192.0.2.2>\r\n"
                              "Call-ID: bad-\xff@h\r\n"
                              "CSeq: 7 OPTIONS\r\n"
                              "Subject: a\x00"
                              "b\x1b[31mc\xff\xfe"
                              "d\r\n"
                              "X-Name: Ren\xc3\xa9\r\n"
                              "Content-Length: 0\r\n\r\n";
    char path[] = "/tmp/check_json_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    write_sip_pcap(path, sip, sizeof sip - 1);
    run r;
    run_file(&r, path);
    unlink(path);
    json_t *m = message_at(r.doc, 1);
    ck_assert_ptr_nonnull(m);
    ck_assert(json_is_true(json_object_get(m, "escaped")));
    ck_assert_str_eq(str_at(m, "call_id"), "bad-\xef\xbf\xbd@h");
    ck_assert_str_eq(str_at(m, "cseq"), "7 OPTIONS");
    json_t *subject = NULL, *xname = NULL, *h;
    size_t i;
    json_array_foreach(json_object_get(m, "headers"), i, h) {
        if (strcmp(str_at(h, "name"), "Subject") == 0)
            subject = json_object_get(h, "value");
        if (strcmp(str_at(h, "name"), "X-Name") == 0)
            xname = json_object_get(h, "value");
    }
    ck_assert_ptr_nonnull(subject);
    static const char want[] = "a\x00"
                               "b\x1b[31mc\xef\xbf\xbd\xef\xbf\xbd"
                               "d";
    ck_assert_uint_eq(json_string_length(subject), sizeof want - 1);
    ck_assert_mem_eq(json_string_value(subject), want, sizeof want - 1);
    ck_assert_str_eq(json_string_value(xname), "Ren\xc3\xa9");
    ck_assert_int_ge(int_at(json_object_get(r.doc, "capture"), "strings_replaced"), 2);
    /* The written text is JSON that jansson (strict UTF-8) reads back equal,
     * with the control bytes as escapes, never raw. */
    char *text = json_dumps(r.doc, JSON_COMPACT);
    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_nonnull(strstr(text, "a\\u0000b\\u001B[31mc\xef\xbf\xbd\xef\xbf\xbd" "d"));
    ck_assert_ptr_null(strchr(text, '\x1b'));
    json_error_t err;
    json_t *back = json_loads(text, JSON_ALLOW_NUL, &err);
    ck_assert_msg(back != NULL, "%s", err.text);
    ck_assert(json_equal(back, r.doc));
    json_decref(back);
    free(text);
    run_free(&r);
}
END_TEST

START_TEST(lines_and_rendering)
{
    run r;
    run_rel(&r, "testdata/sip/udp-call-invite-100-180-200-ack-bye.pcap");
    json_t *head = json_array_get(r.lines, 0);
    ck_assert_str_eq(str_at(head, "type"), "capture");
    ck_assert_str_eq(str_at(head, "schema"), "sipladder/1");
    ck_assert(json_equal(json_object_get(head, "connections"), json_object_get(r.doc, "connections")));
    size_t calls = json_array_size(json_object_get(r.doc, "calls"));
    ck_assert_uint_eq(json_array_size(r.lines), 1 + calls);
    /* Written: the document as jansson dumps it, byte-identical twice. */
    const sl_model *m = r.run.m;
    sl_report rep = {.model = m, .calls = r.run.calls, .diagnoses = &r.run.diag};
    char *buf[2] = {NULL, NULL};
    size_t len[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        FILE *f = open_memstream(&buf[k], &len[k]);
        ck_assert_ptr_nonnull(f);
        sl_render_opts o = {.out = f};
        ck_assert_int_eq(sl_render_json(&rep, &o), 0);
        fclose(f);
    }
    ck_assert_uint_eq(len[0], len[1]);
    ck_assert_mem_eq(buf[0], buf[1], len[0]);
    char *want = json_dumps(r.doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(16));
    ck_assert_ptr_nonnull(want);
    ck_assert_uint_eq(len[0], strlen(want) + 1);
    ck_assert_mem_eq(buf[0], want, strlen(want));
    ck_assert_int_eq(buf[0][len[0] - 1], '\n');
    free(want);
    json_error_t err;
    json_t *back;
    free(buf[0]);
    free(buf[1]);
    /* JSON Lines: exactly one object per line. */
    char *lb = NULL;
    size_t ll = 0;
    FILE *f = open_memstream(&lb, &ll);
    sl_render_opts o = {.out = f};
    ck_assert_int_eq(sl_render_jsonl(&rep, &o), 0);
    fclose(f);
    size_t nl = 0;
    for (size_t i = 0; i < ll; i++)
        nl += lb[i] == '\n';
    ck_assert_uint_eq(nl, json_array_size(r.lines));
    back = json_loadb(lb, (size_t)(strchr(lb, '\n') - lb), 0, &err);
    ck_assert_msg(back != NULL, "%s", err.text);
    /* Times are written to the microsecond: compare what has no reals. */
    ck_assert_str_eq(str_at(back, "type"), "capture");
    ck_assert(json_equal(json_object_get(back, "hosts"), json_object_get(head, "hosts")));
    ck_assert(json_equal(json_object_get(json_object_get(back, "capture"), "files"),
                         json_object_get(json_object_get(head, "capture"), "files")));
    json_decref(back);
    free(lb);
    run_free(&r);
}
END_TEST

/* Correlated: calls with their legs and messages, registrations, and a
 * network verdict naming the destination that never answered. */
START_TEST(calls_and_diagnoses)
{
    run r;
    run_rel(&r, "testdata/sip/udp-call-invite-100-180-200-ack-bye.pcap");
    json_t *calls = json_object_get(r.doc, "calls");
    ck_assert_int_eq(json_array_size(calls), 1);
    json_t *call = json_array_get(calls, 0);
    ck_assert_int_eq(int_at(call, "id"), 1);
    ck_assert_str_eq(str_at(call, "caller"), "sip:alice@10.251.1.1");
    ck_assert_str_eq(str_at(call, "callee"), "sip:bob@10.251.1.2");
    ck_assert_str_eq(str_at(call, "outcome"), "answered");
    ck_assert_int_eq(int_at(call, "final_status"), 200);
    ck_assert_int_eq(int_at(call, "decided_by"), 4);
    ck_assert_int_eq(json_array_size(json_object_get(call, "messages")), 7);
    ck_assert_int_eq(json_array_size(json_object_get(r.doc, "messages")), 0);
    json_t *leg = json_array_get(json_object_get(call, "legs"), 0);
    json_t *invite = json_array_get(json_object_get(leg, "transactions"), 0);
    ck_assert_str_eq(str_at(invite, "cseq"), "1 INVITE");
    ck_assert_int_eq(int_at(invite, "request"), 1);
    ck_assert_int_eq(int_at(invite, "final"), 4);
    ck_assert_int_eq(int_at(invite, "ack"), 5);
    json_t *dialog = json_array_get(json_object_get(leg, "dialogs"), 0);
    ck_assert_str_eq(str_at(dialog, "from_tag"), "a1b2c3");
    ck_assert(json_is_true(json_object_get(dialog, "confirmed")));
    ck_assert_uint_eq(json_array_size(r.lines), 2);
    json_t *line = json_array_get(r.lines, 1);
    ck_assert_str_eq(str_at(line, "type"), "call");
    ck_assert_int_eq(int_at(json_object_get(line, "call"), "id"), 1);
    run_free(&r);

    run_rel(&r, "corpus/sip-udp-register-invite-cancel-synretrans__suricata-verify.pcap");
    call = json_array_get(json_object_get(r.doc, "calls"), 1);
    ck_assert_int_eq(int_at(call, "id"), 2);
    ck_assert_str_eq(str_at(call, "outcome"), "rejected");
    ck_assert_int_eq(int_at(call, "final_status"), 403);
    ck_assert_int_eq(int_at(call, "decided_by"), 348);
    ck_assert_int_eq(int_at(message_at(r.doc, 348), "status"), 403);
    ck_assert_int_ge(json_array_size(json_object_get(r.doc, "registrations")), 1);
    json_t *d = NULL, *each;
    size_t i;
    json_array_foreach(json_object_get(r.doc, "diagnoses"), i, each)
        if (!d && strcmp(str_at(each, "code"), "dns.srv_failed") == 0)
            d = each;
    ck_assert_ptr_nonnull(d);
    json_t *rb = json_object_get(d, "rejected_by");
    ck_assert_str_eq(str_at(rb, "role"), "network");
    ck_assert_str_eq(str_at(rb, "ip"), "192.168.1.1");
    ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(d, "evidence"), 0)), 10);
    /* The SYNs to SMB (445, 139) are not signalling: counted apart, no verdict. */
    json_t *other = json_object_get(r.doc, "other_traffic");
    ck_assert_int_eq(int_at(other, "no_answer"), 2);
    run_free(&r);
}
END_TEST

/* Every hostile capture still gives a document that can be written. */
START_TEST(malformed_captures)
{
    static const char *const files[] = {
        "absurd-caplen.pcap", "caplen-gt-len.pcap", "ipv4-fragment-overlap.pcap", "ipv4-ihl-lt-20.pcap",
        "tcp-data-offset-past-end.pcap", "truncated-mid-record.pcap", "udp-length-zero.pcap", "vlan-100-tags.pcap",
        "empty.pcap", "bad-magic.pcap",
    };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "testdata/malformed/%s", files[i]);
        run r;
        run_rel(&r, rel);
        char *text = json_dumps(r.doc, JSON_COMPACT);
        ck_assert_ptr_nonnull(text);
        free(text);
        json_t *cap = json_object_get(r.doc, "capture");
        ck_assert(json_is_array(json_object_get(cap, "anomalies")));
        ck_assert(json_integer_value(json_object_get(cap, "anomalies_total")) >=
                  (json_int_t)json_array_size(json_object_get(cap, "anomalies")));
        run_free(&r);
    }
}
END_TEST

static bool has_warning(json_t *cap, const char *needle)
{
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(cap, "warnings"), i, w)
        if (strstr(json_string_value(w), needle))
            return true;
    return false;
}

/* What the model's caps left out is in the document: counters and a
 * warning, in the document and in the JSON Lines capture line. */
START_TEST(caps_reported)
{
    char path[4096];
    sl_test_path(path, sizeof path, "testdata/sip/udp-call-invite-100-180-200-ack-bye.pcap");
    run r;
    run_file(&r, path);
    json_t *cap = json_object_get(r.doc, "capture");
    ck_assert_int_eq(int_at(cap, "sip_not_kept"), 0);
    ck_assert_int_eq(int_at(cap, "connections_not_kept"), 0);
    ck_assert_int_eq(int_at(cap, "dns_not_kept"), 0);
    ck_assert_int_eq(json_array_size(json_object_get(cap, "warnings")), 0);
    run_free(&r);

    /* One byte of SIP records: none of the 7 messages fits. */
    run_file_caps(&r, path, 1, 0, 0);
    cap = json_object_get(r.doc, "capture");
    ck_assert_int_eq(int_at(cap, "sip_not_kept"), 7);
    ck_assert(has_warning(cap, "7 SIP messages from frame 1 on were parsed but not kept"));
    ck_assert_ptr_null(message_at(r.doc, 1));
    json_t *line_cap = json_object_get(json_array_get(r.lines, 0), "capture");
    ck_assert_int_eq(int_at(line_cap, "sip_not_kept"), 7);
    ck_assert(has_warning(line_cap, "SIP messages from frame 1 on"));
    run_free(&r);

    /* One connection listed out of the capture's several. */
    sl_test_path(path, sizeof path, "testdata/scenarios/healthy-call-reinvite-new-conn.pcap");
    run_file(&r, path);
    size_t conns = json_array_size(json_object_get(r.doc, "connections"));
    run_free(&r);
    ck_assert_uint_ge(conns, 2);
    run_file_caps(&r, path, 0, 1, 0);
    cap = json_object_get(r.doc, "capture");
    ck_assert_int_eq(int_at(cap, "connections_not_kept"), (json_int_t)conns - 1);
    ck_assert_int_eq(json_array_size(json_object_get(r.doc, "connections")), 1);
    ck_assert(has_warning(cap, "connections from frame"));
    run_free(&r);

    /* --max-call-messages 3: the call keeps INVITE, 100, 180 and counts
     * the other 4 (200, ACK, BYE, 200); uncapped it counts none. */
    sl_test_path(path, sizeof path, "testdata/sip/udp-call-invite-100-180-200-ack-bye.pcap");
    run_file(&r, path);
    json_t *call = json_array_get(json_object_get(r.doc, "calls"), 0);
    ck_assert_ptr_nonnull(call);
    ck_assert_int_eq(int_at(call, "messages_not_kept"), 0);
    ck_assert_int_eq(json_array_size(json_object_get(call, "messages")), 7);
    run_free(&r);
    run_file_caps(&r, path, 0, 0, 3);
    call = json_array_get(json_object_get(r.doc, "calls"), 0);
    ck_assert_ptr_nonnull(call);
    ck_assert_int_eq(int_at(call, "messages_not_kept"), 4);
    ck_assert_int_eq(json_array_size(json_object_get(call, "messages")), 3);
    run_free(&r);
}
END_TEST

/* jansson's values built inside an arena scope come from the arena and go
 * at leave without json_decref (the sanitizer run checks for leaks and
 * for use after leave); outside one they are malloc's and freed by decref. */
START_TEST(values_built_in_an_arena)
{
    sl_json_arena_install();
    sl_arena *a = sl_arena_new();
    ck_assert_ptr_nonnull(a);
    for (int round = 0; round < 3; round++) {
        sl_json_arena_enter(a);
        json_t *o = json_object();
        json_t *list = json_array();
        for (int i = 0; i < 5000; i++) /* past the first 64 KB block */
            json_array_append_new(list, json_pack("{s:i, s:s}", "frame", i, "name", "Via"));
        json_object_set_new(o, "messages", list);
        ck_assert(sl_arena_owns(a, o) && sl_arena_owns(a, list));
        char *text = json_dumps(o, JSON_COMPACT);
        ck_assert_ptr_nonnull(text);
        ck_assert(sl_arena_owns(a, text));
        ck_assert_ptr_nonnull(strstr(text, "{\"frame\":4999,\"name\":\"Via\"}"));
        sl_json_arena_leave(a); /* no json_decref, no free: all of it goes here */
    }
    json_t *outside = json_string("kept");
    ck_assert(!sl_arena_owns(a, outside));
    ck_assert_str_eq(json_string_value(outside), "kept");
    json_decref(outside);
    sl_arena_free(a);
}
END_TEST

static Suite *json_suite(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("document");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, values_built_in_an_arena);
    tcase_add_test(tc, sip_messages_contract);
    tcase_add_test(tc, ipv6_in_brackets);
    tcase_add_test(tc, tcp_events);
    tcase_add_test(tc, tls_alert_and_chain);
    tcase_add_test(tc, tls_corpus_mutual_and_alert);
    tcase_add_test(tc, hostile_header_bytes);
    tcase_add_test(tc, lines_and_rendering);
    tcase_add_test(tc, calls_and_diagnoses);
    tcase_add_test(tc, malformed_captures);
    tcase_add_test(tc, caps_reported);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return sl_check_run(json_suite());
}
