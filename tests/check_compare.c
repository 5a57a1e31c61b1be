/* check_compare.c - `sipladder compare` (issue 17) on the pairs of captures
 * tests/captures/make_firewall_captures.py took on a Linux NAT firewall's two
 * interfaces at once (testdata/firewall): each verdict's code, the side
 * traffic entered on, its frames on both sides, the TTL evidence, the SIP
 * diff, the clock offset; and the look-alikes that must give no verdict. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "support.h"
#include "sipladder/compare.h"
#include "sipladder/status.h"

static sl_compare *run_pair(const char *name, const sl_compare_opts *opts, bool swapped)
{
    static char paths[2][4096];
    for (int s = 0; s < 2; s++) {
        char rel[512];
        snprintf(rel, sizeof rel, "testdata/firewall/%s-%s.pcap", name, (s == 0) != swapped ? "inside" : "outside");
        sl_test_path(paths[s], sizeof paths[s], rel);
    }
    const char *f0[] = {paths[0]}, *f1[] = {paths[1]};
    const char *const *files[2] = {f0, f1};
    size_t n[2] = {1, 1};
    sl_compare *c = NULL;
    int rc = sl_compare_run(opts, files, n, &c);
    ck_assert_msg(rc == 0, "%s: %s", name, c && c->side[0].error ? c->side[0].error : sl_strerror(rc));
    return c;
}

static size_t count_code(const sl_compare *c, const char *code)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n_verdicts; i++)
        n += strcmp(c->verdicts[i].code, code) == 0;
    return n;
}

static const sl_cmp_verdict *first_code(const sl_compare *c, const char *code)
{
    for (size_t i = 0; i < c->n_verdicts; i++)
        if (strcmp(c->verdicts[i].code, code) == 0)
            return &c->verdicts[i];
    ck_abort_msg("no %s", code);
    return NULL;
}

/* The side's own verdict `code` and the fw.* verdict that explains it. */
static const char *explained(const sl_compare *c, int side, const char *code)
{
    for (size_t i = 0; i < c->n_side_verdicts; i++) {
        const sl_cmp_side_verdict *v = &c->side_verdicts[i];
        if (v->side == side && strcmp(v->code, code) == 0)
            return v->explained_by >= 0 ? c->verdicts[v->explained_by].code : "nothing";
    }
    ck_abort_msg("side %d has no %s", side, code);
    return NULL;
}

static bool diff_has(const sl_cmp_verdict *v, const char *line)
{
    for (size_t i = 0; i < v->n_diff; i++)
        if (strcmp(v->diff[i], line) == 0)
            return true;
    return false;
}

/* Both tcpdumps ran on the firewall's clock: the offset is the latency's
 * noise, well under a millisecond. */
#define NEAR_ZERO(t) ck_assert_msg((t) > -1000000 && (t) < 1000000, "offset %lld ns", (long long)(t))

START_TEST(clean_udp_through_pat)
{
    sl_compare *c = run_pair("clean-udp", NULL, false);
    ck_assert_uint_eq(c->n_verdicts, 0);
    ck_assert_uint_eq(c->side[0].n_flows, 1);
    ck_assert_int_eq(c->side[0].flows[0].peer, 0);
    ck_assert_uint_eq(c->pairs, 6);
    /* PAT: the inside port 5060 leaves as one of 40000-40999. */
    ck_assert_uint_eq(c->side[0].flows[0].port[0], 5060);
    ck_assert_uint_ge(c->side[1].flows[0].port[0], 40000);
    ck_assert_uint_le(c->side[1].flows[0].port[0], 40999);
    NEAR_ZERO(c->offset);
    ck_assert(!c->offset_one_way);
    ck_assert_uint_eq(c->latency[0].pairs, 3);
    ck_assert_uint_eq(c->latency[1].pairs, 3);
    ck_assert_uint_eq(c->n_side_verdicts, 0); /* each side alone: a good call */
    sl_compare_free(c);
}
END_TEST

START_TEST(clean_tcp_clock_offset)
{
    /* The outside file's clock was set 1.250 s ahead after the capture. */
    sl_compare *c = run_pair("clean-tcp", NULL, false);
    ck_assert_uint_eq(c->n_verdicts, 0);
    ck_assert_uint_eq(c->pairs, c->side[0].n_pkts);
    ck_assert_uint_eq(c->pairs, c->side[1].n_pkts);
    ck_assert_msg(c->offset > 1249000000 && c->offset < 1251000000, "offset %lld", (long long)c->offset);
    ck_assert_int_lt(c->offset_spread, 1000000);
    ck_assert_uint_eq(c->offset_pairs, 16);
    /* Latency through the firewall, the offset taken out: under a ms. */
    ck_assert_int_lt(c->latency[0].max, 1000000);
    sl_compare_free(c);
}
END_TEST

START_TEST(clean_tcp_forced_offset)
{
    sl_compare_opts good = {.offset_forced = true, .offset = 1250000000};
    sl_compare *c = run_pair("clean-tcp", &good, false);
    ck_assert_uint_eq(c->n_verdicts, 0);
    ck_assert_int_eq(c->offset, 1250000000);
    sl_compare_free(c);
    /* A wrong --offset: the packets still pair inside the window, and the
     * 1.25 s appear as latency through the firewall. */
    sl_compare_opts wrong = {.offset_forced = true, .offset = 0};
    c = run_pair("clean-tcp", &wrong, false);
    ck_assert_uint_eq(count_code(c, "fw.delayed"), 1);
    const sl_cmp_verdict *v = first_code(c, "fw.delayed");
    ck_assert_int_eq(v->from_side, 0);
    ck_assert_int_gt(v->duration, 1200000000);
    sl_compare_free(c);
}
END_TEST

START_TEST(drop_one_way)
{
    sl_compare *c = run_pair("drop-oneway", NULL, false);
    ck_assert_uint_eq(c->n_verdicts, 1);
    const sl_cmp_verdict *v = first_code(c, "fw.dropped");
    /* The 100 and 200 to each of the 4 INVITEs: entered outside, never inside. */
    ck_assert_int_eq(v->from_side, 1);
    ck_assert_int_eq(v->evidence_side, 1);
    ck_assert_uint_eq(v->dir, 1);
    ck_assert_uint_eq(v->count, 8);
    ck_assert_uint_eq(v->frame[1], 2);
    ck_assert_uint_eq(v->frame[0], 1);
    ck_assert(c->offset_one_way); /* only the INVITEs crossed */
    ck_assert_str_eq(explained(c, 0, "sip.no_response"), "fw.dropped");
    sl_compare_free(c);
}
END_TEST

START_TEST(alg_rewrites_sip)
{
    sl_compare *c = run_pair("alg-rewrite", NULL, false);
    /* Every message: the INVITE, ACK and BYE out, the 100, 200s back. */
    ck_assert_uint_eq(count_code(c, "fw.rewritten"), 6);
    ck_assert_uint_eq(c->n_verdicts, 6);
    const sl_cmp_verdict *v = &c->verdicts[0];
    ck_assert_str_eq(v->code, "fw.rewritten");
    ck_assert_uint_eq(v->frame[0], 1);
    ck_assert_uint_eq(v->frame[1], 1);
    ck_assert_int_eq(v->from_side, 0);
    ck_assert(diff_has(v, "-Via: SIP/2.0/UDP 10.250.1.1:5060;branch=z9hG4bKfw1"));
    ck_assert(diff_has(v, "-c=IN IP4 10.250.1.1"));
    ck_assert(diff_has(v, "+c=IN IP4 10.250.2.1"));
    ck_assert(diff_has(v, "-Contact: <sip:alice@10.250.1.1:5060>"));
    ck_assert_ptr_nonnull(strstr(v->summary, "INVITE sip:bob@10.250.2.2 SIP/2.0"));
    /* The 100 Trying came back in: its Via rewritten to the inside address. */
    v = &c->verdicts[1];
    ck_assert_int_eq(v->from_side, 1);
    ck_assert(diff_has(v, "+Via: SIP/2.0/UDP 10.250.1.1:5060;branch=z9hG4bKfw1"));
    sl_compare_free(c);
}
END_TEST

START_TEST(alg_rewrites_sip_over_tcp)
{
    /* The kernel's ALG on TCP: the INVITE grew by 4 bytes (its SDP's
     * address is the longer NAT address), so every later segment of that
     * direction is 4 further on, and the server's acknowledgements too. */
    sl_compare *c = run_pair("alg-rewrite-tcp", NULL, false);
    ck_assert_uint_eq(c->n_verdicts, 1);
    const sl_cmp_verdict *v = first_code(c, "fw.rewritten");
    ck_assert_uint_eq(v->frame[0], 4);
    ck_assert_uint_eq(v->frame[1], 4);
    ck_assert(diff_has(v, "-Content-Length: 136"));
    ck_assert(diff_has(v, "+Content-Length: 140"));
    ck_assert(diff_has(v, "+c=IN IP4 10.250.2.100"));
    ck_assert_uint_eq(c->pairs, c->side[0].n_pkts); /* nothing after it taken for dropped */
    ck_assert_uint_eq(c->pairs, c->side[1].n_pkts);
    sl_compare_free(c);
}
END_TEST

START_TEST(idle_timeout_reinvite_lost)
{
    sl_compare *c = run_pair("idle-timeout", NULL, false);
    ck_assert_uint_eq(count_code(c, "fw.idle_timeout"), 1);
    ck_assert_uint_eq(count_code(c, "fw.dropped"), 0); /* the drops are the timeout's */
    const sl_cmp_verdict *v = first_code(c, "fw.idle_timeout");
    ck_assert_int_eq(v->from_side, 0);
    ck_assert_uint_eq(v->frame[0], 12); /* the re-INVITE, 8 s after the ACK */
    ck_assert_uint_eq(v->frame[1], 11); /* the last that crossed */
    ck_assert_int_gt(v->duration, 7 * SL_NS_PER_SEC);
    ck_assert_int_lt(v->duration, 9 * SL_NS_PER_SEC);
    /* The firewall, with no state left, answered the server's FIN with an
     * RST in the client's name: TTL 64 where the client's copies have 63. */
    const sl_cmp_verdict *r = first_code(c, "fw.injected");
    ck_assert_int_eq(r->evidence_side, 1);
    ck_assert_uint_eq(r->frame[1], 13);
    ck_assert_uint_eq(r->ttl, 64);
    ck_assert_uint_eq(r->usual_ttl, 63);
    /* Inside alone sees a lost refresh: the firewall's timeout explains it. */
    ck_assert_str_eq(explained(c, 0, "sip.refresh_lost"), "fw.idle_timeout");
    sl_compare_free(c);
}
END_TEST

START_TEST(syns_dropped)
{
    sl_compare *c = run_pair("syn-dropped", NULL, false);
    ck_assert_uint_eq(c->n_verdicts, 1);
    const sl_cmp_verdict *v = first_code(c, "fw.dropped");
    ck_assert_int_eq(v->from_side, 0);
    ck_assert_uint_eq(v->frame[0], 1);
    ck_assert_uint_eq(v->frame[1], 0); /* nothing of it outside */
    ck_assert_uint_ge(v->count, 3);    /* the SYN and the kernel's retransmissions */
    ck_assert_ptr_nonnull(strstr(v->summary, "SYN"));
    ck_assert_str_eq(explained(c, 0, "tcp.no_answer"), "fw.dropped");
    sl_compare_free(c);
}
END_TEST

START_TEST(udp_rejected_with_icmp)
{
    sl_compare *c = run_pair("udp-rejected-icmp", NULL, false);
    ck_assert_uint_eq(c->n_verdicts, 2);
    const sl_cmp_verdict *d = first_code(c, "fw.dropped");
    ck_assert_int_eq(d->from_side, 0);
    ck_assert_uint_eq(d->count, 4); /* the INVITE and 3 retransmissions */
    ck_assert_uint_eq(d->frame[0], 1);
    const sl_cmp_verdict *r = first_code(c, "fw.injected");
    ck_assert_int_eq(r->evidence_side, 0);
    ck_assert_uint_eq(r->frame[0], 2);
    ck_assert_uint_eq(r->count, 4); /* one ICMP per INVITE */
    ck_assert_ptr_nonnull(strstr(r->summary, "ICMP port unreachable from 10.250.1.2"));
    ck_assert_uint_eq(c->side[0].n_icmp, 4);
    sl_compare_free(c);
}
END_TEST

START_TEST(rst_forged_mid_call)
{
    /* scapy in the firewall's namespace forged the server's RST, TTL 255. */
    sl_compare *c = run_pair("rst-forged-midcall", NULL, false);
    ck_assert_uint_eq(c->n_verdicts, 1);
    const sl_cmp_verdict *r = first_code(c, "fw.injected");
    ck_assert_int_eq(r->evidence_side, 0);
    ck_assert_uint_eq(r->dir, 1);
    ck_assert_uint_eq(r->frame[0], 12);
    ck_assert_uint_eq(r->ttl, 255);
    ck_assert_uint_eq(r->usual_ttl, 63);
    ck_assert_str_eq(explained(c, 0, "tcp.reset"), "fw.injected");
    ck_assert_uint_eq(c->n_side_verdicts, 1); /* the outside alone: nothing */
    sl_compare_free(c);
}
END_TEST

static void assert_rst_injected(const sl_compare *c, int inside)
{
    ck_assert_uint_eq(c->n_verdicts, 2);
    const sl_cmp_verdict *r = first_code(c, "fw.injected");
    ck_assert_int_eq(r->evidence_side, inside);
    ck_assert_uint_eq(r->dir, 1); /* in the server's name */
    ck_assert_uint_eq(r->frame[inside], 5);
    ck_assert_uint_eq(r->ttl, 64);
    ck_assert_uint_eq(r->usual_ttl, 63);
    ck_assert_ptr_nonnull(strstr(r->summary, "RST"));
    const sl_cmp_verdict *d = first_code(c, "fw.dropped");
    ck_assert_int_eq(d->from_side, inside);
    ck_assert_uint_eq(d->frame[inside], 4); /* the ClientHello */
    ck_assert_ptr_nonnull(strstr(d->summary, "TLS handshake"));
    /* The inside alone blames an RST "whose TTL shows another sender": it
     * was the firewall's. */
    ck_assert_str_eq(explained(c, inside, "tls.no_server_hello"), "fw.injected");
}

START_TEST(rst_injected_in_tls_handshake)
{
    sl_compare *c = run_pair("rst-injected-tls", NULL, false);
    assert_rst_injected(c, 0);
    sl_compare_free(c);
    /* The sides the other way round: the same findings, named by side. */
    sl_compare_opts named = {.names = {"outside", "inside"}};
    c = run_pair("rst-injected-tls", &named, true);
    assert_rst_injected(c, 1);
    sl_compare_free(c);
}
END_TEST

/* The ladder's line that holds every one of the words, or NULL. */
static char *ladder_line(const char *text, const char *a, const char *b, const char *c3)
{
    static char line[512];
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        snprintf(line, sizeof line, "%.*s", (int)n, p);
        if (strstr(line, a) && strstr(line, b) && strstr(line, c3))
            return line;
        p += n + (e != NULL);
    }
    return NULL;
}

static char *render_ladder(const sl_compare *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(sl_compare_render_ladder(c, out), 0);
    fclose(out);
    return text;
}

/* The ladder draws the firewall between the sides: the ClientHello's arrow
 * stops at it (X), the RST starts at it (*) towards the client, whichever
 * side is given first; a crossing packet has its latency and both frames. */
START_TEST(ladder_firewall_column)
{
    sl_compare *c = run_pair("rst-injected-tls", NULL, false);
    char *text = render_ladder(c);
    ck_assert_msg(ladder_line(text, "TLS handshake 323 ----->X ", "dropped", "#4/-"), "%s", text);
    ck_assert_msg(ladder_line(text, "|<----------- RST -------------* ", "injected", "ttl 64 (usual 63)"), "%s",
                  text);
    ck_assert_msg(ladder_line(text, "SYN ------------>|", " ms", "#1/1"), "%s", text);
    free(text);
    sl_compare_free(c);
    sl_compare_opts named = {.names = {"outside", "inside"}};
    c = run_pair("rst-injected-tls", &named, true);
    text = render_ladder(c);
    /* inside is now the right column: the drop comes from the right */
    ck_assert_msg(ladder_line(text, "X<---- TLS handshake 323", "dropped", "#-/4"), "%s", text);
    ck_assert_msg(ladder_line(text, "*------------ RST ------------>|", "injected", "#-/5"), "%s", text);
    free(text);
    sl_compare_free(c);
}
END_TEST

START_TEST(same_capture_twice_is_clean)
{
    /* One capture against itself: everything pairs, no NAT, offset 0. */
    char path[4096];
    sl_test_path(path, sizeof path, "testdata/firewall/idle-timeout-inside.pcap");
    const char *f[] = {path};
    const char *const *files[2] = {f, f};
    size_t n[2] = {1, 1};
    sl_compare *c = NULL;
    ck_assert_int_eq(sl_compare_run(NULL, files, n, &c), 0);
    ck_assert_uint_eq(c->n_verdicts, 0);
    ck_assert_int_eq(c->offset, 0);
    ck_assert_uint_eq(c->pairs, c->side[0].n_pkts);
    sl_compare_free(c);
}
END_TEST

static uint8_t *slurp(const char *rel, size_t *len)
{
    char path[4096];
    FILE *f = fopen(sl_test_path(path, sizeof path, rel), "rb");
    ck_assert_ptr_nonnull(f);
    uint8_t *buf = malloc(1 << 20);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

START_TEST(syn_options_changed_without_nat)
{
    /* No NAT, and the firewall changed the SYN's window (as some rewrite
     * or strip options): the connection still pairs by its addresses. */
    size_t len;
    uint8_t *a = slurp("testdata/firewall/rst-injected-tls-inside.pcap", &len);
    uint8_t *b = malloc(len);
    memcpy(b, a, len);
    size_t window = 24 + 16 + 14 + 20 + 14; /* frame 1: pcap, record, Ethernet, IPv4 headers; TCP window */
    ck_assert_uint_eq(b[24 + 16 + 14 + 20 + 13], 0x02); /* it is the SYN */
    b[window] ^= 0x40;
    const uint8_t *data[2] = {a, b};
    size_t lens[2] = {len, len};
    sl_compare *c = NULL;
    ck_assert_int_eq(sl_compare_run_memory(NULL, data, lens, &c), 0);
    ck_assert_int_eq(c->side[0].flows[0].peer, 0);
    ck_assert_uint_eq(c->pairs, c->side[0].n_pkts);
    ck_assert_uint_eq(c->n_verdicts, 0);
    sl_compare_free(c);
    free(a);
    free(b);
}
END_TEST

/* Every record of a classic little-endian pcap image `seconds` later. */
static void shift_pcap(uint8_t *buf, size_t len, int32_t seconds)
{
    for (size_t off = 24; off + 16 <= len;) {
        uint32_t sec, caplen;
        memcpy(&sec, buf + off, 4);
        memcpy(&caplen, buf + off + 8, 4);
        sec = (uint32_t)((int64_t)sec + seconds);
        memcpy(buf + off, &sec, 4);
        off += 16 + (size_t)caplen;
    }
}

START_TEST(clocks_hours_apart_through_an_alg)
{
    /* The outside capture host's clock is 2 h behind, and the ALG rewrote
     * every first payload: the SIP identity still finds the offset. */
    size_t la, lb;
    uint8_t *a = slurp("testdata/firewall/alg-rewrite-inside.pcap", &la);
    uint8_t *b = slurp("testdata/firewall/alg-rewrite-outside.pcap", &lb);
    shift_pcap(b, lb, -7200);
    const uint8_t *data[2] = {a, b};
    size_t lens[2] = {la, lb};
    sl_compare *c = NULL;
    ck_assert_int_eq(sl_compare_run_memory(NULL, data, lens, &c), 0);
    ck_assert_msg(c->offset > -7200 * SL_NS_PER_SEC - 1000000 && c->offset < -7200 * SL_NS_PER_SEC + 1000000,
                  "offset %lld", (long long)c->offset);
    ck_assert_uint_eq(count_code(c, "fw.rewritten"), 6);
    ck_assert_uint_eq(c->n_verdicts, 6);
    sl_compare_free(c);
    free(a);
    free(b);
}
END_TEST

START_TEST(unreadable_side)
{
    const uint8_t junk[] = "not a capture at all";
    const uint8_t *data[2] = {junk, junk};
    size_t len[2] = {sizeof junk, sizeof junk};
    sl_compare *c = NULL;
    ck_assert_int_eq(sl_compare_run_memory(NULL, data, len, &c), -SL_EIO);
    ck_assert_ptr_nonnull(c->side[0].error);
    sl_compare_free(c);
}
END_TEST

START_TEST(offset_text)
{
    sl_time_ns t;
    ck_assert_int_eq(sl_compare_parse_offset("1.25", &t), 0);
    ck_assert_int_eq(t, 1250000000);
    ck_assert_int_eq(sl_compare_parse_offset("-0.000300", &t), 0);
    ck_assert_int_eq(t, -300000);
    ck_assert_int_eq(sl_compare_parse_offset("+3", &t), 0);
    ck_assert_int_eq(t, 3 * SL_NS_PER_SEC);
    ck_assert_int_eq(sl_compare_parse_offset(".5", &t), 0);
    ck_assert_int_eq(t, 500000000);
    const char *bad[] = {"", "-", ".", "1e3", "abc", "1.2.3", "0.1234567891", "86401", "1 ", "--1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(sl_compare_parse_offset(bad[i], &t) == -SL_EUSAGE, "'%s' accepted", bad[i]);
}
END_TEST

static Suite *compare_suite(void)
{
    Suite *s = suite_create("compare");
    TCase *tc = tcase_create("firewall");
    tcase_add_test(tc, clean_udp_through_pat);
    tcase_add_test(tc, clean_tcp_clock_offset);
    tcase_add_test(tc, clean_tcp_forced_offset);
    tcase_add_test(tc, drop_one_way);
    tcase_add_test(tc, alg_rewrites_sip);
    tcase_add_test(tc, alg_rewrites_sip_over_tcp);
    tcase_add_test(tc, idle_timeout_reinvite_lost);
    tcase_add_test(tc, syns_dropped);
    tcase_add_test(tc, udp_rejected_with_icmp);
    tcase_add_test(tc, rst_forged_mid_call);
    tcase_add_test(tc, rst_injected_in_tls_handshake);
    tcase_add_test(tc, ladder_firewall_column);
    tcase_add_test(tc, same_capture_twice_is_clean);
    tcase_add_test(tc, syn_options_changed_without_nat);
    tcase_add_test(tc, clocks_hours_apart_through_an_alg);
    tcase_add_test(tc, unreadable_side);
    tcase_add_test(tc, offset_text);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return sl_check_run(compare_suite());
}
