/* check_dns.c - the DNS dissector: crafted queries and answers (SRV with a
 * compressed target, A, AAAA, NXDOMAIN), every cut of each over TCP and
 * UDP, hostile compression (self, mutual and forward pointers, overlong
 * names, bad label types), and a real capture compared with tshark. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipladder/analysis.h"
#include "sipladder/dns.h"
#include "sipladder/model.h"
#include "sipladder/status.h"
#include "check_run.h"
#include "support.h"

/* ---- a message builder ---- */

typedef struct wbuf {
    uint8_t b[2048];
    size_t n;
} wbuf;

static void u8(wbuf *w, unsigned v) { w->b[w->n++] = (uint8_t)v; }
static void u16(wbuf *w, unsigned v) { u8(w, v >> 8 & 0xFF); u8(w, v & 0xFF); }
static void u32(wbuf *w, unsigned long v) { u16(w, (unsigned)(v >> 16)); u16(w, (unsigned)(v & 0xFFFF)); }
static void name(wbuf *w, const char *dotted)
{
    while (*dotted) {
        const char *dot = strchr(dotted, '.');
        size_t n = dot ? (size_t)(dot - dotted) : strlen(dotted);
        u8(w, (unsigned)n);
        memcpy(w->b + w->n, dotted, n);
        w->n += n;
        dotted += n + (dot ? 1 : 0);
    }
    u8(w, 0);
}
static void header(wbuf *w, unsigned id, unsigned flags, unsigned qd, unsigned an, unsigned ns, unsigned ar)
{
    u16(w, id), u16(w, flags), u16(w, qd), u16(w, an), u16(w, ns), u16(w, ar);
}

/* Query: _sips._tcp.example.com SRV. */
static void srv_query(wbuf *w)
{
    header(w, 0x1234, 0x0100, 1, 0, 0, 0);
    name(w, "_sips._tcp.example.com");
    u16(w, SL_DNS_TYPE_SRV), u16(w, 1);
}

/* Response: SRV 10 60 5061 expe.example.com (the "example.com" part a
 * pointer into the question), then an A for the target by pointer. */
static void srv_response(wbuf *w)
{
    header(w, 0x1234, 0x8180, 1, 2, 0, 0);
    name(w, "_sips._tcp.example.com"); /* at offset 12; "example.com" at 12 + 6 + 5 = 23 */
    u16(w, SL_DNS_TYPE_SRV), u16(w, 1);
    u16(w, 0xC00C);                    /* owner: pointer to the question name */
    u16(w, SL_DNS_TYPE_SRV), u16(w, 1), u32(w, 300);
    size_t rdlen_at = w->n;
    u16(w, 0);
    size_t target_at = w->n + 6;
    u16(w, 10), u16(w, 60), u16(w, 5061);
    u8(w, 4), memcpy(w->b + w->n, "expe", 4), w->n += 4, u16(w, 0xC017);
    w->b[rdlen_at] = 0, w->b[rdlen_at + 1] = (uint8_t)(w->n - rdlen_at - 2);
    u16(w, 0xC000 | (unsigned)target_at); /* owner: the SRV target */
    u16(w, SL_DNS_TYPE_A), u16(w, 1), u32(w, 60), u16(w, 4);
    u8(w, 192), u8(w, 0), u8(w, 2), u8(w, 10);
}

START_TEST(parses_srv_query_and_answer)
{
    wbuf q = {0}, r = {0};
    sl_dns_msg m;
    srv_query(&q);
    ck_assert_int_eq(sl_dns_parse(q.b, q.n, SL_TRANSPORT_UDP, &m), 0);
    ck_assert(!m.response);
    ck_assert_uint_eq(m.id, 0x1234);
    ck_assert_str_eq(m.qname, "_sips._tcp.example.com");
    ck_assert_uint_eq(m.qtype, SL_DNS_TYPE_SRV);
    ck_assert_uint_eq(m.n_answers, 0);
    srv_response(&r);
    ck_assert_int_eq(sl_dns_parse(r.b, r.n, SL_TRANSPORT_UDP, &m), 0);
    ck_assert(m.response);
    ck_assert_uint_eq(m.rcode, SL_DNS_RCODE_NOERROR);
    ck_assert_uint_eq(m.n_answers, 2);
    ck_assert_uint_eq(m.n_answers_total, 2);
    ck_assert_str_eq(m.answers[0].name, "_sips._tcp.example.com");
    ck_assert_uint_eq(m.answers[0].type, SL_DNS_TYPE_SRV);
    ck_assert_uint_eq(m.answers[0].priority, 10);
    ck_assert_uint_eq(m.answers[0].weight, 60);
    ck_assert_uint_eq(m.answers[0].port, 5061);
    ck_assert_uint_eq(m.answers[0].ttl, 300);
    ck_assert_str_eq(m.answers[0].target, "expe.example.com");
    ck_assert_str_eq(m.answers[1].name, "expe.example.com");
    ck_assert_uint_eq(m.answers[1].addr.family, 4);
    char a[64];
    ck_assert_str_eq(sl_addr_format(&m.answers[1].addr, a, sizeof a), "192.0.2.10");
    ck_assert_str_eq(sl_dns_type_name(SL_DNS_TYPE_SRV), "SRV");
    ck_assert_str_eq(sl_dns_rcode_name(SL_DNS_RCODE_NXDOMAIN), "NXDOMAIN");
    ck_assert_ptr_null(sl_dns_rcode_name(15));
}
END_TEST

START_TEST(nxdomain_and_aaaa)
{
    wbuf w = {0};
    sl_dns_msg m;
    header(&w, 7, 0x8183, 1, 0, 0, 0);
    name(&w, "_sip._tcp.nowhere.invalid");
    u16(&w, SL_DNS_TYPE_SRV), u16(&w, 1);
    ck_assert_int_eq(sl_dns_parse(w.b, w.n, SL_TRANSPORT_UDP, &m), 0);
    ck_assert_uint_eq(m.rcode, SL_DNS_RCODE_NXDOMAIN);
    ck_assert_uint_eq(m.n_answers, 0);
    w.n = 0;
    header(&w, 8, 0x8180, 1, 1, 0, 0);
    name(&w, "h.example");
    u16(&w, SL_DNS_TYPE_AAAA), u16(&w, 1);
    u16(&w, 0xC00C), u16(&w, SL_DNS_TYPE_AAAA), u16(&w, 1), u32(&w, 1), u16(&w, 16);
    for (int i = 0; i < 15; i++)
        u8(&w, i == 0 ? 0x20 : i == 1 ? 0x01 : i == 2 ? 0x0d : i == 3 ? 0xb8 : 0);
    u8(&w, 1);
    ck_assert_int_eq(sl_dns_parse(w.b, w.n, SL_TRANSPORT_UDP, &m), 0);
    char a[64];
    ck_assert_str_eq(sl_addr_format(&m.answers[0].addr, a, sizeof a), "2001:db8::1");
    /* An A record whose rdata is not 4 bytes is malformed. */
    w.n = 0;
    header(&w, 9, 0x8180, 1, 1, 0, 0);
    name(&w, "h.example");
    u16(&w, 1), u16(&w, 1);
    u16(&w, 0xC00C), u16(&w, 1), u16(&w, 1), u32(&w, 1), u16(&w, 3), u8(&w, 1), u8(&w, 2), u8(&w, 3);
    ck_assert_int_eq(sl_dns_parse(w.b, w.n, SL_TRANSPORT_UDP, &m), -SL_EMALFORMED);
}
END_TEST

/* ---- hostile compression ---- */

static int parse_hostile(const uint8_t *tail, size_t n, sl_dns_msg *m)
{
    wbuf w = {0};
    header(&w, 1, 0x8180, 1, 0, 0, 0);
    memcpy(w.b + w.n, tail, n);
    w.n += n;
    return sl_dns_parse(w.b, w.n, SL_TRANSPORT_UDP, m);
}

START_TEST(hostile_names)
{
    sl_dns_msg m;
    static const uint8_t self_ptr[] = {0xC0, 12, 0, 1, 0, 1};                 /* points at itself */
    static const uint8_t fwd_ptr[] = {0xC0, 14, 1, 'a', 0, 0, 1, 0, 1};      /* points forward */
    static const uint8_t mutual[] = {1, 'a', 0xC0, 12, 0, 1, 0, 1};            /* label then back to its start */
    static const uint8_t ext_label[] = {0x41, 'a', 0, 0, 1, 0, 1};             /* 0x40 label type */
    static const uint8_t overrun[] = {9, 'a', 'b', 0, 1, 0, 1};                /* label past the end */
    static const uint8_t no_end[] = {1, 'a', 1, 'b'};                          /* no root label */
    static const uint8_t ptr_past[] = {0xC0};                                  /* half a pointer */
    ck_assert_int_eq(parse_hostile(self_ptr, sizeof self_ptr, &m), -SL_EMALFORMED);
    ck_assert_int_eq(parse_hostile(fwd_ptr, sizeof fwd_ptr, &m), -SL_EMALFORMED);
    ck_assert_int_eq(parse_hostile(mutual, sizeof mutual, &m), -SL_EMALFORMED);
    ck_assert_int_eq(parse_hostile(ext_label, sizeof ext_label, &m), -SL_EMALFORMED);
    ck_assert_int_eq(parse_hostile(overrun, sizeof overrun, &m), -SL_EMALFORMED);
    ck_assert_int_eq(parse_hostile(no_end, sizeof no_end, &m), -SL_EMALFORMED);
    ck_assert_int_eq(parse_hostile(ptr_past, sizeof ptr_past, &m), -SL_EMALFORMED);
    wbuf w = {0};
    /* Bytes that need escaping, and an overlong name that is cut. */
    w.n = 0;
    header(&w, 1, 0x8180, 1, 0, 0, 0);
    u8(&w, 3), u8(&w, 'a'), u8(&w, '.'), u8(&w, 0x1b), u8(&w, 0), u16(&w, 1), u16(&w, 1);
    ck_assert_int_eq(sl_dns_parse(w.b, w.n, SL_TRANSPORT_UDP, &m), 0);
    ck_assert_str_eq(m.qname, "a\\046\\027");
    w.n = 0;
    header(&w, 1, 0x8180, 1, 0, 0, 0);
    for (int i = 0; i < 4; i++) {
        u8(&w, 63);
        for (int k = 0; k < 63; k++)
            u8(&w, 0x01); /* each byte becomes \001: 4 bytes of text */
    }
    u8(&w, 0), u16(&w, 1), u16(&w, 1);
    ck_assert_int_eq(sl_dns_parse(w.b, w.n, SL_TRANSPORT_UDP, &m), 0);
    ck_assert(m.name_cut);
    ck_assert_uint_eq(strlen(m.qname), SL_DNS_NAME_MAX - 1);
}
END_TEST

/* A chain of backward pointers, one label each, inside the rdata of a
 * first answer of an unknown type; the second answer's owner name is the
 * end of the chain.  Legal, and followed, up to 128 steps; longer is
 * refused (and nothing hangs). */
static int chain_message(int links, sl_dns_msg *m)
{
    wbuf w = {0};
    header(&w, 1, 0x8180, 1, 2, 0, 0);
    name(&w, "q");
    u16(&w, 1), u16(&w, 1);
    u16(&w, 0xC00C), u16(&w, 99), u16(&w, 1), u32(&w, 1);
    size_t rdlen_at = w.n;
    u16(&w, 0);
    size_t prev = 12;
    for (int i = 0; i < links; i++) {
        size_t here = w.n;
        u8(&w, 1), u8(&w, 'a'), u16(&w, 0xC000 | (unsigned)prev);
        prev = here;
    }
    size_t rdlen = w.n - rdlen_at - 2;
    w.b[rdlen_at] = (uint8_t)(rdlen >> 8), w.b[rdlen_at + 1] = (uint8_t)rdlen;
    u16(&w, 0xC000 | (unsigned)prev), u16(&w, 1), u16(&w, 1), u32(&w, 1), u16(&w, 4), u32(&w, 0x01020304);
    return sl_dns_parse(w.b, w.n, SL_TRANSPORT_UDP, m);
}

START_TEST(pointer_chain_is_capped)
{
    sl_dns_msg m;
    ck_assert_int_eq(chain_message(60, &m), 0);
    ck_assert_uint_eq(m.n_answers, 2);
    ck_assert_uint_eq(strlen(m.answers[1].name), 60 * 2 + 1);
    ck_assert_int_eq(strncmp(m.answers[1].name, "a.a.a.", 6), 0);
    ck_assert_str_eq(m.answers[1].name + 120, "q");
    ck_assert_int_eq(chain_message(200, &m), -SL_EMALFORMED);
}
END_TEST

/* ---- the dissector, fed at every cut ---- */

typedef struct collected {
    sl_dns_msg msgs[4];
    size_t n, anomalies;
} collected;

static void collect(void *ctx, const sl_event *ev)
{
    collected *c = ctx;
    if (ev->kind == SL_EV_DNS && c->n < 4)
        c->msgs[c->n++] = *(const sl_dns_msg *)ev->u.any;
    else if (ev->kind == SL_EV_ANOMALY)
        c->anomalies++;
}

static void span(void *ctx, size_t start, size_t end, sl_span *out)
{
    (void)ctx;
    out->first_frame = start + 1;
    out->last_frame = end;
    out->first_ts = out->last_ts = 0;
}

static const sl_sink_ops OPS = {collect, span};

START_TEST(tcp_every_cut)
{
    wbuf q = {0}, r = {0}, all = {0};
    srv_query(&q);
    srv_response(&r);
    u16(&all, (unsigned)q.n);
    memcpy(all.b + all.n, q.b, q.n), all.n += q.n;
    u16(&all, (unsigned)r.n);
    memcpy(all.b + all.n, r.b, r.n), all.n += r.n;
    sl_flow_info fi = {.transport = SL_TRANSPORT_TCP};
    ck_assert_int_eq(sl_dissector_dns.probe(all.b, 1, SL_DIR_C2S, SL_TRANSPORT_TCP), SL_PROBE_MORE);
    ck_assert_int_eq(sl_dissector_dns.probe(all.b, all.n, SL_DIR_C2S, SL_TRANSPORT_TCP), SL_PROBE_YES);
    for (size_t cut = 0; cut <= all.n; cut++) {
        collected got = {0};
        sl_sink sink = {&OPS, &got};
        void *st = sl_dissector_dns.state_new(&fi, NULL, NULL);
        ck_assert_ptr_nonnull(st);
        uint8_t buf[2048];
        size_t held = 0, used = 0;
        /* first part, then the unconsumed tail with the rest, as the core does */
        memcpy(buf, all.b, cut);
        held = cut;
        ck_assert_int_eq(sl_dissector_dns.feed(st, SL_DIR_C2S, buf, held, &used, &sink), 0);
        ck_assert_uint_le(used, held);
        memmove(buf, buf + used, held - used);
        held -= used;
        memcpy(buf + held, all.b + cut, all.n - cut);
        held += all.n - cut;
        ck_assert_int_eq(sl_dissector_dns.feed(st, SL_DIR_C2S, buf, held, &used, &sink), 0);
        ck_assert_uint_eq(used, held);
        ck_assert_uint_eq(got.n, 2);
        ck_assert_uint_eq(got.anomalies, 0);
        ck_assert_str_eq(got.msgs[0].qname, "_sips._tcp.example.com");
        ck_assert_uint_eq(got.msgs[1].answers[0].port, 5061);
        sl_dissector_dns.state_free(st);
    }
}
END_TEST

/* A UDP datagram cut anywhere is one malformed message (an anomaly), never
 * an event with made-up content and never a crash. */
START_TEST(udp_every_cut)
{
    wbuf r = {0};
    srv_response(&r);
    sl_flow_info fi = {.transport = SL_TRANSPORT_UDP};
    ck_assert_int_eq(sl_dissector_dns.probe(r.b, r.n, SL_DIR_S2C, SL_TRANSPORT_UDP), SL_PROBE_YES);
    for (size_t cut = 0; cut < r.n; cut++) {
        collected got = {0};
        sl_sink sink = {&OPS, &got};
        void *st = sl_dissector_dns.state_new(&fi, NULL, NULL);
        uint8_t *copy = malloc(cut ? cut : 1); /* exact size: ASan sees any overread */
        memcpy(copy, r.b, cut);
        size_t used = 99;
        ck_assert_int_eq(sl_dissector_dns.feed(st, SL_DIR_S2C, copy, cut, &used, &sink), 0);
        ck_assert_uint_eq(used, cut);
        ck_assert_uint_eq(got.n, 0);
        ck_assert_uint_eq(got.anomalies, 1);
        ck_assert_int_eq(sl_dissector_dns.probe(copy, cut, SL_DIR_S2C, SL_TRANSPORT_UDP), SL_PROBE_NO);
        free(copy);
        sl_dissector_dns.state_free(st);
    }
    sl_dissector_dns.state_free(NULL);
}
END_TEST

/* RTP-looking datagrams and a TCP length below a header are not DNS. */
START_TEST(probe_refuses_other_traffic)
{
    uint8_t rtp[172] = {0x80, 0x00, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04};
    for (size_t i = 12; i < sizeof rtp; i++)
        rtp[i] = (uint8_t)(i * 37);
    ck_assert_int_eq(sl_dissector_dns.probe(rtp, sizeof rtp, SL_DIR_C2S, SL_TRANSPORT_UDP), SL_PROBE_NO);
    static const uint8_t short_len[] = {0, 5, 1, 2, 3, 4, 5};
    ck_assert_int_eq(sl_dissector_dns.probe(short_len, sizeof short_len, SL_DIR_C2S, SL_TRANSPORT_TCP), SL_PROBE_NO);
    /* NetBIOS name query (RFC 1002): DNS format, but not DNS. */
    wbuf nb = {0};
    header(&nb, 0x8001, 0x0110, 1, 0, 0, 0);
    name(&nb, "FHEPFCELEHFCEPFFFACACACACACACABN");
    u16(&nb, 0x20), u16(&nb, 1);
    ck_assert_int_eq(sl_dissector_dns.probe(nb.b, nb.n, SL_DIR_C2S, SL_TRANSPORT_UDP), SL_PROBE_NO);
    nb.n = 0; /* the same with a 31-letter name is DNS again */
    header(&nb, 0x8001, 0x0110, 1, 0, 0, 0);
    name(&nb, "FHEPFCELEHFCEPFFFACACACACACACAB");
    u16(&nb, 0x20), u16(&nb, 1);
    ck_assert_int_eq(sl_dissector_dns.probe(nb.b, nb.n, SL_DIR_C2S, SL_TRANSPORT_UDP), SL_PROBE_YES);
    static const uint8_t sip[] = "INVITE sip:bob@example.com SIP/2.0\r\n";
    ck_assert_int_eq(sl_dissector_dns.probe(sip, sizeof sip - 1, SL_DIR_C2S, SL_TRANSPORT_UDP), SL_PROBE_NO);
}
END_TEST

/* ---- a real capture, against tshark ---- */

/* tshark -r pcapng-2-interfaces__zeek.pcapng -Y dns -T fields -e frame.number
 *   -e dns.flags.response -e dns.qry.name -e dns.qry.type -e dns.flags.rcode -e dns.count.answers */
static const struct {
    uint64_t frame;
    bool response;
    const char *qname;
    uint16_t qtype;
    size_t answers;
} ZEEK_DNS[] = {
    {1, false, "www.apple.com", 1, 0}, {2, true, "www.apple.com", 1, 4}, {3, false, "google.com", 1, 0},
    {4, true, "google.com", 1, 6},     {5, false, "google.com", 28, 0},  {6, true, "google.com", 28, 4},
};

START_TEST(real_capture_matches_tshark)
{
    sl_test_run run;
    sl_test_run_data(&run, "corpus/pcapng-2-interfaces__zeek.pcapng", NULL);
    const sl_model *m = run.m;
    ck_assert_uint_eq(m->n_dns, sizeof ZEEK_DNS / sizeof ZEEK_DNS[0]);
    for (size_t i = 0; i < m->n_dns; i++) {
        const sl_dns_record *r = m->dns[i];
        ck_assert_uint_eq(r->span.last_frame, ZEEK_DNS[i].frame);
        ck_assert(r->response == ZEEK_DNS[i].response);
        ck_assert_str_eq(r->qname, ZEEK_DNS[i].qname);
        ck_assert_uint_eq(r->qtype, ZEEK_DNS[i].qtype);
        ck_assert_uint_eq(r->n_answers_total, ZEEK_DNS[i].answers);
        ck_assert_uint_eq(r->response ? r->sport : r->dport, 53);
    }
    sl_test_run_free(&run);
}
END_TEST

static Suite *dns_suite(void)
{
    Suite *s = suite_create("dns");
    TCase *tc = tcase_create("dns");
    tcase_add_test(tc, parses_srv_query_and_answer);
    tcase_add_test(tc, nxdomain_and_aaaa);
    tcase_add_test(tc, hostile_names);
    tcase_add_test(tc, pointer_chain_is_capped);
    tcase_add_test(tc, tcp_every_cut);
    tcase_add_test(tc, udp_every_cut);
    tcase_add_test(tc, probe_refuses_other_traffic);
    tcase_add_test(tc, real_capture_matches_tshark);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return sl_check_run(dns_suite());
}
