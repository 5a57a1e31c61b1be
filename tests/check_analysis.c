/* check_analysis.c - the pipeline and the dissector contract, on real
 * captures from testdata/tcp/ made by tests/captures/make_tcp_captures.sh.
 * A test dissector ("lines") consumes newline-terminated records, so every
 * event's direction and frames can be checked against tshark's reading. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipladder/analysis.h"
#include "sipladder/model.h"
#include "sipladder/registry.h"
#include "sipladder/status.h"
#include "check_run.h"
#include "support.h"

#define MAX_SEEN 64

typedef struct seen {
    sl_dir dir;
    uint64_t first_frame, last_frame;
    char word[16];
} seen;

typedef struct recorder {
    seen ev[MAX_SEEN];
    size_t n;
} recorder;

typedef struct lines_state {
    int gaps;
} lines_state;

static sl_probe lines_probe(const uint8_t *buf, size_t len, sl_dir dir, sl_transport t)
{
    (void)dir;
    (void)t;
    static const char *const starts[] = {"request", "reply"};
    for (size_t i = 0; i < 2; i++) {
        size_t n = strlen(starts[i]);
        size_t k = len < n ? len : n;
        if (memcmp(buf, starts[i], k) == 0)
            return len < n ? SL_PROBE_MORE : SL_PROBE_YES;
    }
    return SL_PROBE_NO;
}

static void *lines_new(const sl_flow_info *flow, const sl_config *cfg, void *shared)
{
    (void)flow;
    (void)cfg;
    ck_assert_ptr_null(shared); /* these dissectors have no shared context */
    return calloc(1, sizeof(lines_state));
}

static int lines_feed(void *state, sl_dir dir, const uint8_t *buf, size_t len, size_t *used, sl_sink *out)
{
    (void)state;
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] != '\n')
            continue;
        char word[16] = "";
        size_t w = 0;
        while (start + w < i && buf[start + w] != ' ' && w < sizeof word - 1) {
            word[w] = (char)buf[start + w];
            w++;
        }
        sl_anomaly an = {0, word};
        sl_event ev = {.kind = SL_EV_ANOMALY, .dir = dir, .dissector = "lines", .u.anomaly = &an};
        sl_sink_span(out, start, i + 1, &ev.span);
        sl_sink_emit(out, &ev);
        start = i + 1;
    }
    *used = start;
    return 0;
}

static void lines_gap(void *state, sl_dir dir, uint64_t missing)
{
    (void)dir;
    (void)missing;
    ((lines_state *)state)->gaps++;
}

static sl_probe never_probe(const uint8_t *buf, size_t len, sl_dir dir, sl_transport t)
{
    (void)buf, (void)len, (void)dir, (void)t;
    return SL_PROBE_NO;
}

static const uint16_t port_5000[] = {5000};
static const sl_dissector lines = {"lines", NULL, 0, lines_probe, lines_new, lines_feed, lines_gap, free, NULL, NULL};
static const sl_dissector never = {"never", NULL, 0, never_probe, lines_new, lines_feed, lines_gap, free, NULL, NULL};
static const sl_dissector by_port = {"byport", port_5000, 1, never_probe, lines_new, lines_feed, lines_gap, free,
                                     NULL, NULL};

/* A dissector with a shared context: what the analysis did with it. */
static struct {
    int made, freed;        /* shared_new / shared_free calls */
    int states, states_freed;
    void *first;            /* the context the first state got */
    int other;              /* states given another context */
    int freed_too_early;    /* states freed after their context */
    const sl_config *cfg;
} sh;

static void *sharing_shared_new(const sl_config *cfg)
{
    sh.made++;
    sh.cfg = cfg;
    return calloc(1, sizeof(int));
}

static void sharing_shared_free(void *shared)
{
    if (!shared)
        return;
    sh.freed++;
    free(shared);
}

static void *sharing_new(const sl_flow_info *flow, const sl_config *cfg, void *shared)
{
    (void)flow;
    ck_assert_ptr_eq(cfg, sh.cfg);
    if (!sh.first)
        sh.first = shared;
    else if (shared != sh.first)
        sh.other++;
    sh.states++;
    (*(int *)shared)++;
    return calloc(1, sizeof(lines_state));
}

static void sharing_free(void *state)
{
    if (!state)
        return;
    sh.states_freed++;
    sh.freed_too_early += sh.freed > 0;
    free(state);
}

static const sl_dissector sharing = {"sharing", NULL, 0, never_probe, sharing_new, lines_feed, lines_gap,
                                     sharing_free, sharing_shared_new, sharing_shared_free};

static void record(void *ctx, const sl_flow_info *flow, const sl_event *ev)
{
    recorder *r = ctx;
    (void)flow;
    ck_assert_uint_lt(r->n, MAX_SEEN);
    seen *s = &r->ev[r->n++];
    s->dir = ev->dir;
    s->first_frame = ev->span.first_frame;
    s->last_frame = ev->span.last_frame;
    snprintf(s->word, sizeof s->word, "%s", ev->u.anomaly->text);
}

/* A file under testdata/ (the static buffer serves one call at a time). */
static const char *testdata(const char *name)
{
    static char path[4096];
    char rel[512];
    snprintf(rel, sizeof rel, "testdata/%s", name);
    return sl_test_path(path, sizeof path, rel);
}

/* An analysis with the default limits, registry reg (which must outlive
 * it), and every event recorded into rec. */
static sl_analysis *analysis_with(const sl_registry *reg, recorder *rec)
{
    sl_config cfg = {0}; /* options added later off too */
    sl_limits_default(&cfg.limits);
    sl_analysis_hooks hooks = {.ctx = rec, .event = record};
    sl_analysis *a = sl_analysis_new(&cfg, reg, &hooks);
    ck_assert_ptr_nonnull(a);
    return a;
}

/* Run one capture with a registry of the given dissectors. */
static sl_analysis *run_with(const sl_dissector *const *list, size_t n, recorder *rec, const char *file,
                             int *rc)
{
    static sl_registry reg;
    reg.list = list;
    reg.n = n;
    sl_analysis *a = analysis_with(&reg, rec);
    const char *files[] = {file};
    *rc = sl_analysis_run(a, files, 1);
    return a;
}

START_TEST(events_carry_direction_and_frames)
{
    static const sl_dissector *const list[] = {&lines};
    recorder rec = {0};
    int rc;
    sl_analysis *a = run_with(list, 1, &rec, testdata("tcp/normal-exchange.pcap"), &rc);
    ck_assert_int_eq(rc, 0);
    /* Frames with payload, per tshark: client 4 8 11 14, server 6 9 12 15 18. */
    static const struct { sl_dir dir; uint64_t frame; const char *word; } want[] = {
        {SL_DIR_C2S, 4, "request"}, {SL_DIR_S2C, 6, "reply"}, {SL_DIR_C2S, 8, "request"},
        {SL_DIR_S2C, 9, "reply"},   {SL_DIR_C2S, 11, "request"}, {SL_DIR_S2C, 12, "reply"},
        {SL_DIR_C2S, 14, "request"}, {SL_DIR_S2C, 15, "reply"}, {SL_DIR_S2C, 18, "bye"},
    };
    ck_assert_uint_eq(rec.n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < rec.n; i++) {
        ck_assert_int_eq(rec.ev[i].dir, want[i].dir);
        ck_assert_uint_eq(rec.ev[i].first_frame, want[i].frame);
        ck_assert_uint_eq(rec.ev[i].last_frame, want[i].frame);
        ck_assert_str_eq(rec.ev[i].word, want[i].word);
    }
    const sl_model *m = sl_analysis_model(a);
    ck_assert_uint_eq(m->n_conns, 1);
    const sl_conn *c = &m->conns[0];
    ck_assert_str_eq(c->dissector, "lines");
    ck_assert_uint_eq(c->syn_count, 1);
    ck_assert_uint_eq(c->syn_frames[0], 1);
    ck_assert_uint_eq(c->synack_frame, 2);
    ck_assert_uint_eq(c->established_frame, 3);
    ck_assert_uint_eq(c->fin[SL_SIDE_CLIENT].frame, 17);
    ck_assert_uint_eq(c->fin[SL_SIDE_SERVER].frame, 20);
    ck_assert_uint_eq(c->bytes[SL_SIDE_CLIENT], 111 + 211 + 311 + 411);
    ck_assert_uint_eq(c->bytes[SL_SIDE_SERVER], 4 * 21 + 4);
    ck_assert_uint_eq(c->rst_count, 0);
    ck_assert_uint_eq(c->info.port[1], 5000);
    sl_analysis_free(a);
}
END_TEST

START_TEST(probe_no_leaves_flow_unclaimed)
{
    static const sl_dissector *const list[] = {&never};
    recorder rec = {0};
    int rc;
    sl_analysis *a = run_with(list, 1, &rec, testdata("tcp/normal-exchange.pcap"), &rc);
    ck_assert_uint_eq(rec.n, 0);
    ck_assert_ptr_null(sl_analysis_model(a)->conns[0].dissector);
    sl_analysis_free(a);
}
END_TEST

START_TEST(decode_as_overrides_probe)
{
    static const sl_dissector *const list[] = {&never};
    static sl_registry reg = {list, 1};
    recorder rec = {0};
    sl_analysis *a = analysis_with(&reg, &rec);
    ck_assert_int_eq(sl_analysis_decode_as(a, 5000, "never"), 0);
    ck_assert_int_eq(sl_analysis_decode_as(a, 5000, "nosuch"), -SL_EUSAGE);
    const char *files[] = {testdata("tcp/normal-exchange.pcap")};
    ck_assert_int_eq(sl_analysis_run(a, files, 1), 0);
    ck_assert_str_eq(sl_analysis_model(a)->conns[0].dissector, "never");
    ck_assert_uint_eq(rec.n, 9); /* its feed still frames the lines */
    sl_analysis_free(a);
}
END_TEST

START_TEST(hint_port_claims_when_bytes_do_not_say)
{
    static const sl_dissector *const list[] = {&never, &by_port};
    recorder rec = {0};
    int rc;
    sl_analysis *a = run_with(list, 2, &rec, testdata("tcp/normal-exchange.pcap"), &rc);
    ck_assert_str_eq(sl_analysis_model(a)->conns[0].dissector, "byport");
    sl_analysis_free(a);
}
END_TEST

START_TEST(registry_probes_hinted_first)
{
    static const sl_dissector *const list[] = {&lines, &by_port};
    sl_registry reg = {list, 2};
    int more;
    const uint8_t req[] = "req";
    ck_assert_ptr_eq(sl_registry_find(&reg, "byport"), &by_port);
    ck_assert_ptr_null(sl_registry_find(&reg, "sip"));
    ck_assert_ptr_null(sl_registry_probe(&reg, req, 3, SL_DIR_C2S, SL_TRANSPORT_TCP, 1, 2, &more));
    ck_assert_int_eq(more, 1);
    ck_assert_ptr_eq(sl_registry_by_port(&reg, 40000, 5000), &by_port);
    ck_assert_ptr_null(sl_registry_by_port(&reg, 40000, 5001));
}
END_TEST

START_TEST(tcp_events_on_real_failures)
{
    static const sl_dissector *const list[] = {&lines};
    recorder rec = {0};
    int rc;
    sl_analysis *a = run_with(list, 1, &rec, testdata("tcp/refused-closed-port.pcap"), &rc);
    const sl_conn *c = &sl_analysis_model(a)->conns[0];
    ck_assert(c->refused);
    ck_assert_uint_eq(c->rst.frame, 2);
    ck_assert_uint_eq(c->rst.side, SL_SIDE_SERVER);
    sl_analysis_free(a);

    a = run_with(list, 1, &rec, testdata("tcp/syn-dropped-iptables.pcap"), &rc);
    c = &sl_analysis_model(a)->conns[0];
    ck_assert_uint_eq(c->syn_count, 3);
    ck_assert_uint_eq(c->synack_count, 0);
    ck_assert_uint_eq(c->syn_frames[2], 3);
    ck_assert(!c->refused);
    /* The kernel backs off: second SYN about 1 s after the first, third 2 s after that. */
    ck_assert_int_gt(c->syn_ts[1] - c->syn_ts[0], 900000000);
    ck_assert_int_gt(c->syn_ts[2] - c->syn_ts[1], 1800000000);
    sl_analysis_free(a);

    a = run_with(list, 1, &rec, testdata("tcp/reset-mid-stream.pcap"), &rc);
    c = &sl_analysis_model(a)->conns[0];
    ck_assert_uint_eq(c->rst_count, 1);
    ck_assert_uint_eq(c->rst.side, SL_SIDE_SERVER);
    ck_assert(!c->rst.ttl_differs);
    ck_assert(c->established_frame != 0);
    sl_analysis_free(a);
}
END_TEST

START_TEST(link_types_and_fragments)
{
    static const sl_dissector *const list[] = {&lines};
    recorder rec = {0};
    int rc;
    sl_analysis *a = run_with(list, 1, &rec, testdata("tcp/any-interface-sll2.pcap"), &rc);
    const sl_model *m = sl_analysis_model(a);
    ck_assert_int_eq(m->capture.linktypes[0], 276); /* LINUX_SLL2 */
    ck_assert_uint_eq(m->n_conns, 2);
    /* Captured with tcpdump -i any on 10.250.1.2's side: the link layer marks
     * its frames outgoing and the client's incoming, so only it is local. */
    ck_assert_uint_eq(m->n_local_addrs, 1);
    ck_assert(sl_model_is_local(m, &m->conns[0].info.addr[1]));
    ck_assert(!sl_model_is_local(m, &m->conns[0].info.addr[0]));
    ck_assert_int_eq(m->conns[1].info.transport, SL_TRANSPORT_UDP);
    sl_analysis_free(a);

    const char *frag_files[] = {"tcp/ipv4-fragments.pcap", "tcp/ipv6-fragments.pcap"};
    for (size_t i = 0; i < 2; i++) {
        a = run_with(list, 1, &rec, testdata(frag_files[i]), &rc);
        m = sl_analysis_model(a);
        ck_assert_uint_eq(m->n_conns, 1);
        /* One 3000-byte datagram put back together from its fragments. */
        ck_assert_uint_eq(m->conns[0].bytes[SL_SIDE_CLIENT], 3000);
        ck_assert_uint_eq(m->frags_dropped, 0);
        sl_analysis_free(a);
    }
}
END_TEST

START_TEST(unreadable_and_truncated_inputs)
{
    static const sl_dissector *const list[] = {&lines};
    recorder rec = {0};
    int rc;
    sl_analysis *a = run_with(list, 1, &rec, testdata("does-not-exist.pcap"), &rc);
    ck_assert_int_eq(rc, -SL_EIO);
    ck_assert_uint_eq(sl_analysis_model(a)->n_warnings, 1);
    sl_analysis_free(a);

    a = run_with(list, 1, &rec, testdata("malformed/truncated-mid-record.pcap"), &rc);
    ck_assert_int_eq(rc, -SL_ETRUNC);
    ck_assert(sl_analysis_model(a)->capture.truncated);
    ck_assert_uint_ge(sl_analysis_model(a)->capture.frames, 2);
    sl_analysis_free(a);
}
END_TEST

/* One shared context per analysis and dissector: made on the first claim,
 * the same for every flow, freed once after every flow's state. */
START_TEST(shared_context_per_analysis)
{
    static const sl_dissector *const list[] = {&lines, &sharing};
    static sl_registry reg = {list, 2};
    memset(&sh, 0, sizeof sh);
    recorder rec = {0};
    sl_analysis *a = analysis_with(&reg, &rec);
    ck_assert_int_eq(sh.made, 0); /* not before a flow needs it */
    /* Two flows (TCP 5005, UDP 5004), both given to "sharing". */
    ck_assert_int_eq(sl_analysis_decode_as(a, 5005, "sharing"), 0);
    ck_assert_int_eq(sl_analysis_decode_as(a, 5004, "sharing"), 0);
    const char *files[] = {testdata("tcp/any-interface-sll2.pcap")};
    ck_assert_int_eq(sl_analysis_run(a, files, 1), 0);
    ck_assert_str_eq(sl_analysis_model(a)->conns[0].dissector, "sharing");
    ck_assert_str_eq(sl_analysis_model(a)->conns[1].dissector, "sharing");
    ck_assert_int_eq(sh.made, 1);
    ck_assert_int_eq(sh.states, 2);
    ck_assert_int_eq(sh.other, 0);
    ck_assert_ptr_nonnull(sh.first);
    ck_assert_int_eq(*(int *)sh.first, 2);
    sl_analysis_free(a);
    ck_assert_int_eq(sh.states_freed, 2);
    ck_assert_int_eq(sh.freed, 1);
    ck_assert_int_eq(sh.freed_too_early, 0);

    /* A second analysis gets its own. */
    memset(&sh, 0, sizeof sh);
    a = analysis_with(&reg, &rec);
    ck_assert_int_eq(sl_analysis_decode_as(a, 5005, "sharing"), 0);
    ck_assert_int_eq(sl_analysis_run(a, files, 1), 0);
    ck_assert_int_eq(sh.made, 1);
    ck_assert_int_eq(sh.states, 1);
    sl_analysis_free(a);
    ck_assert_int_eq(sh.freed, 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("analysis");
    TCase *tc = tcase_create("pipeline");
    tcase_add_test(tc, events_carry_direction_and_frames);
    tcase_add_test(tc, probe_no_leaves_flow_unclaimed);
    tcase_add_test(tc, decode_as_overrides_probe);
    tcase_add_test(tc, hint_port_claims_when_bytes_do_not_say);
    tcase_add_test(tc, registry_probes_hinted_first);
    tcase_add_test(tc, tcp_events_on_real_failures);
    tcase_add_test(tc, link_types_and_fragments);
    tcase_add_test(tc, unreadable_and_truncated_inputs);
    tcase_add_test(tc, shared_context_per_analysis);
    suite_add_tcase(s, tc);
    return sl_check_run(s);
}
