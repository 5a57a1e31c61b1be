/* check_select.c - the selection (select.h) on real captures: which calls,
 * connections, messages and verdicts each criterion keeps, the message when
 * nothing matches, criteria that are refused, and -f.  Captures:
 * testdata/select/calls-rtp.pcap (make_select_captures.py: 1 alice -> bob
 * UDP answered, 2 with P-Asserted-Identity sip:4281@example.com answered,
 * 3 carol -> frank 486, 4 erin -> bob over TCP 403) and the corpus' T.38
 * capture (two calls, a 488 verdict each). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipladder/analysis.h"
#include "sipladder/calls.h"
#include "sipladder/decode.h"
#include "sipladder/diagnose.h"
#include "sipladder/select.h"
#include "sipladder/sip_record.h"
#include "sipladder/status.h"
#include "check_run.h"
#include "support.h"

/* One capture through the pipeline (support.h) and its report. */
typedef struct run {
    sl_test_run run;
    sl_calls *calls;
    sl_report report;
} run;

static void run_file(run *r, const char *rel)
{
    memset(r, 0, sizeof *r);
    sl_test_run_data(&r->run, rel, &(sl_test_opts){.diagnose = true});
    r->calls = r->run.calls;
    r->report = (sl_report){.model = r->run.m, .calls = r->run.calls, .diagnoses = &r->run.diag};
}

static void run_free(run *r) { sl_test_run_free(&r->run); }

#define CAP "testdata/select/calls-rtp.pcap"
#define T38 "corpus/sip-udp-fax-t38-calls-bye-488__ndpi.pcap"

/* The ids of the calls a selection keeps, as "1,3". */
static const char *ids(const sl_select_view *v, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < v->calls.n_calls && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%u", i ? "," : "", v->calls.calls[i].id);
    return buf;
}

static const char *select_ids(const run *r, const char *opt, const char *value, char *buf, size_t len)
{
    sl_select *s = sl_select_new(NULL);
    char err[256];
    int rc = -1;
    if (strcmp(opt, "call") == 0)
        rc = sl_select_add_call(s, value, err, sizeof err);
    else if (strcmp(opt, "host") == 0)
        rc = sl_select_add_host(s, value, err, sizeof err);
    else if (strcmp(opt, "verdict") == 0)
        rc = sl_select_add_verdict(s, value, err, sizeof err);
    else if (strcmp(opt, "from") == 0)
        rc = sl_select_set_from(s, value, err, sizeof err);
    else if (strcmp(opt, "to") == 0)
        rc = sl_select_set_to(s, value, err, sizeof err);
    ck_assert_int_eq(rc, 0);
    sl_select_view v;
    ck_assert_int_eq(sl_select_apply(s, &r->report, &v), 0);
    ids(&v, buf, len);
    sl_select_view_clear(&v);
    sl_select_free(s);
    return buf;
}

START_TEST(calls_by_number_call_id_uri_and_identity)
{
    run r;
    run_file(&r, CAP);
    char b[64];
    ck_assert_uint_eq(r.calls->n_calls, 4);
    ck_assert_str_eq(select_ids(&r, "call", "2", b, sizeof b), "2");
    ck_assert_str_eq(select_ids(&r, "call", "call3-carol@10.254.7.1", b, sizeof b), "3"); /* a Call-ID */
    ck_assert_str_eq(select_ids(&r, "call", "call1-*", b, sizeof b), "1");
    ck_assert_str_eq(select_ids(&r, "call", "sip:frank@example.com", b, sizeof b), "3");
    ck_assert_str_eq(select_ids(&r, "call", "FRANK@example.com", b, sizeof b), "3"); /* no scheme, any case */
    ck_assert_str_eq(select_ids(&r, "call", "bob", b, sizeof b), "1,4");             /* a user part */
    /* P-Asserted-Identity: "Reception" <sip:4281@example.com;user=phone> */
    ck_assert_str_eq(select_ids(&r, "call", "*4281*", b, sizeof b), "2");
    ck_assert_str_eq(select_ids(&r, "call", "sip:4281@example.com", b, sizeof b), "2");
    ck_assert_str_eq(select_ids(&r, "call", "4281", b, sizeof b), "2");
    ck_assert_str_eq(select_ids(&r, "call", "428", b, sizeof b), ""); /* no wildcard: whole parts only */
    ck_assert_str_eq(select_ids(&r, "call", "7", b, sizeof b), "");
    run_free(&r);
}
END_TEST

START_TEST(hosts_verdicts_and_time)
{
    run r;
    run_file(&r, CAP);
    char b[64];
    ck_assert_str_eq(select_ids(&r, "host", "10.254.7.2", b, sizeof b), "1,2,3,4");
    ck_assert_str_eq(select_ids(&r, "host", "10.254.7.2:5060", b, sizeof b), "1,2,3,4");
    ck_assert_str_eq(select_ids(&r, "host", "10.254.7.2:5061", b, sizeof b), "");
    ck_assert_str_eq(select_ids(&r, "host", "10.254.7.9", b, sizeof b), "");
    ck_assert_str_eq(select_ids(&r, "verdict", "sip.response.4*", b, sizeof b), "3,4");
    ck_assert_str_eq(select_ids(&r, "verdict", "sip.response.403", b, sizeof b), "4");
    ck_assert_str_eq(select_ids(&r, "verdict", "tls.*", b, sizeof b), "");
    /* Call 4 starts about 0.58 s after the first frame, call 3 ends before it. */
    const sl_call *c3 = &r.calls->calls[2], *c4 = &r.calls->calls[3];
    sl_time_ns start = r.run.m->capture.first_ts;
    char rel[32];
    snprintf(rel, sizeof rel, "+%.6fs", (double)(c3->last_ts - start) / 1e9 + 0.000002);
    ck_assert_str_eq(select_ids(&r, "from", rel, b, sizeof b), "4");
    ck_assert_int_lt(c3->last_ts, c4->first_ts);
    snprintf(rel, sizeof rel, "+%.6fs", (double)(c4->first_ts - start) / 1e9 - 0.000002);
    ck_assert_str_eq(select_ids(&r, "to", rel, b, sizeof b), "1,2,3");
    ck_assert_str_eq(select_ids(&r, "from", "+1h", b, sizeof b), "");
    ck_assert_str_eq(select_ids(&r, "to", "1999-01-01T00:00:00", b, sizeof b), "");
    ck_assert_str_eq(select_ids(&r, "from", "2000-01-01 00:00:00.5Z", b, sizeof b), "1,2,3,4");
    run_free(&r);
}
END_TEST

/* diagnose --call 2 lists only call 2's verdicts (it listed every call's),
 * renumbered to the view's calls; the messages are its own. */
START_TEST(a_call_brings_its_verdicts_messages_and_connections)
{
    run r;
    run_file(&r, T38);
    ck_assert_uint_eq(r.run.diag.n, 2);
    sl_select *s = sl_select_new(NULL);
    char err[128];
    ck_assert_int_eq(sl_select_add_call(s, "2", err, sizeof err), 0);
    sl_select_view v;
    ck_assert_int_eq(sl_select_apply(s, &r.report, &v), 0);
    ck_assert_uint_eq(v.calls.n_calls, 1);
    ck_assert_uint_eq(v.calls.calls[0].id, 2);
    ck_assert_uint_eq(v.diagnoses.n, 1);
    ck_assert_int_eq(v.diagnoses.list[0].call, 0);
    ck_assert_uint_eq(v.diagnoses.list[0].evidence[0], 1400); /* tshark: the re-INVITE of call 2 */
    ck_assert_uint_eq(v.model.n_sip, 23);
    for (size_t i = 0; i < v.model.n_sip; i++)
        ck_assert_int_eq(sl_calls_call_of(r.calls, v.model.sip[i]), 1);
    ck_assert_uint_eq(v.model.n_conns, 1); /* the UDP flow 138.132.169.101 <-> 192.168.100.219 */
    ck_assert_ptr_nonnull(sl_model_conn_const(&v.model, v.model.conns[0].index));
    sl_select_counts c = sl_select_shown(s);
    ck_assert_uint_eq(c.calls, 1);
    ck_assert(!sl_select_report_empty(s, stderr));
    sl_select_view_clear(&v);
    sl_select_free(s);
    run_free(&r);
}
END_TEST

START_TEST(nothing_matched_says_what_exists)
{
    run r;
    run_file(&r, CAP);
    sl_select *s = sl_select_new(NULL);
    char err[128];
    ck_assert_int_eq(sl_select_add_call(s, "*9999*", err, sizeof err), 0);
    sl_select_view v;
    ck_assert_int_eq(sl_select_apply(s, &r.report, &v), 0);
    ck_assert_uint_eq(v.calls.n_calls, 0);
    ck_assert_uint_eq(v.model.n_sip, 0);
    ck_assert_uint_eq(v.model.n_conns, 0);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert(sl_select_report_empty(s, f));
    fclose(f);
    ck_assert_str_eq(text, "sipladder: no call matches '*9999*' (4 calls in the capture): "
                           "1 sip:alice@example.com -> sip:bob@example.com, "
                           "2 sip:anonymous@anonymous.invalid -> sip:dave@example.com, "
                           "3 sip:carol@example.com -> sip:frank@example.com, "
                           "4 sip:erin@example.com -> sip:bob@example.com\n");
    free(text);
    sl_select_view_clear(&v);
    sl_select_free(s);
    run_free(&r);
}
END_TEST

START_TEST(bad_criteria_are_refused)
{
    sl_select *s = sl_select_new(NULL);
    char err[256];
    ck_assert_int_eq(sl_select_set_from(s, "yesterday", err, sizeof err), -SL_EUSAGE);
    ck_assert_ptr_nonnull(strstr(err, "not 'yesterday'"));
    ck_assert_int_eq(sl_select_set_to(s, "2026-13-01T00:00:00", err, sizeof err), -SL_EUSAGE);
    ck_assert_int_eq(sl_select_set_to(s, "+5 parsecs", err, sizeof err), -SL_EUSAGE);
    ck_assert_int_eq(sl_select_add_host(s, "10.0.0.1:99999", err, sizeof err), -SL_EUSAGE);
    ck_assert_int_eq(sl_select_add_host(s, "300.1.2.3", err, sizeof err), -SL_EUSAGE);
    ck_assert_int_eq(sl_select_add_call(s, "", err, sizeof err), -SL_EUSAGE);
    ck_assert(!sl_select_active(s)); /* nothing refused was kept */
    ck_assert_int_eq(sl_select_add_host(s, "[2001:db8::1]:5061", err, sizeof err), 0);
    ck_assert_int_eq(sl_select_add_host(s, "Expressway-E", err, sizeof err), 0); /* a label */
    ck_assert(sl_select_active(s));
    sl_select_free(s);
}
END_TEST

START_TEST(capture_filter_compiles_per_link_type)
{
    char err[256];
    ck_assert_ptr_null(sl_capture_filter_new("port 50 60 x", err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "-f 'port 50 60 x'"));
    sl_capture_filter *f = sl_capture_filter_new("udp port 5060", err, sizeof err);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(sl_capture_filter_prepare(f, 1 /* EN10MB */, err, sizeof err), 0);
    sl_capture_filter_free(f);
    /* Ethernet addresses on raw IP (DLT_RAW 12): libpcap refuses it. */
    f = sl_capture_filter_new("ether host 00:11:22:33:44:55", err, sizeof err);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(sl_capture_filter_prepare(f, 12, err, sizeof err), -SL_EUSAGE);
    sl_capture_filter_free(f);
    /* Frames that do not pass keep their numbers: only call 4's TCP is read. */
    f = sl_capture_filter_new("tcp", err, sizeof err);
    sl_config cfg = {0};
    sl_limits_default(&cfg.limits);
    cfg.capture_filter = f;
    sl_test_run r;
    sl_test_run_data(&r, CAP, &(sl_test_opts){.cfg = &cfg});
    const sl_model *m = r.m;
    ck_assert_uint_eq(m->capture.frames, 65);
    ck_assert_uint_eq(m->n_sip, 4);
    ck_assert_uint_eq(m->sip[0]->span.first_frame, 54); /* tshark: frame 54 is call 4's INVITE */
    ck_assert_uint_eq(m->capture.skip_reasons[0].kind, SL_SKIP_CAPTURE_FILTER);
    ck_assert_uint_eq(m->capture.skip_reasons[0].frames, 65 - 15);
    sl_test_run_free(&r);
    sl_capture_filter_free(f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("select");
    TCase *tc = tcase_create("select");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, calls_by_number_call_id_uri_and_identity);
    tcase_add_test(tc, hosts_verdicts_and_time);
    tcase_add_test(tc, a_call_brings_its_verdicts_messages_and_connections);
    tcase_add_test(tc, nothing_matched_says_what_exists);
    tcase_add_test(tc, bad_criteria_are_refused);
    tcase_add_test(tc, capture_filter_compiles_per_link_type);
    suite_add_tcase(s, tc);
    return sl_check_run(s);
}
