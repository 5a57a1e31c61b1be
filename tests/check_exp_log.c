/* check_exp_log.c - Expressway diagnostic logs (exp_log.h): the syslog
 * prefix and UTCTime, SIPMSG blocks with wrapped lines, events, hostile
 * input reported with its line, gzip, and the merge with a capture (one
 * message when both hold it, the clock offset of each peer, an encrypted
 * leg's SIP on its TLS connection). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_run.h"
#include "support.h"
#include "sipladder/analysis.h"
#include "sipladder/diagnose.h"
#include "sipladder/exp_bundle.h"
#include "sipladder/exp_log.h"
#include "sipladder/model.h"
#include "sipladder/sip_record.h"
#include "sipladder/status.h"

static sl_xlog *parse(const char *text)
{
    sl_xlog *l = NULL;
    ck_assert_int_eq(sl_xlog_parse((const uint8_t *)text, strlen(text), "t.log", &l), 0);
    ck_assert_ptr_nonnull(l);
    return l;
}

static const sl_xlog_entry *first_of(const sl_xlog *l, sl_xlog_kind k)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->e[i].kind == k)
            return &l->e[i];
    return NULL;
}

static const sl_xlog_entry *need(const sl_xlog *l, sl_xlog_kind k)
{
    const sl_xlog_entry *e = first_of(l, k);
    ck_assert_msg(e != NULL, "no %s entry", sl_xlog_kind_name(k));
    return e;
}

static bool has_problem(const sl_xlog *l, uint32_t line, const char *text)
{
    for (size_t i = 0; i < l->n_problems; i++)
        if (l->problems[i].line == line && strstr(l->problems[i].text, text))
            return true;
    return false;
}

#define SIP_HEAD                                                                                                     \
    "2016-10-13T12:58:40.636+09:00 vcse tvcs: UTCTime=\"2016-10-13 03:58:40,637\" Module=\"network.sip\" "          \
    "Level=\"DEBUG\":  Action=\"Received\" Local-ip=\"192.168.1.5\" Local-port=\"26847\" Src-ip=\"192.168.1.6\" "    \
    "Src-port=\"7003\" Msg-Hash=\"1\"\n"

START_TEST(prefix_utctime_and_message)
{
    sl_xlog *l = parse(SIP_HEAD "SIPMSG:\n"
                                "|INVITE sip:b@example.com SIP/2.0\n"
                                "Via: SIP/2.0/TLS 192.168.1.6:7003;branch=z9hG4bK1\n"
                                "Call-ID: abc@h\n"
                                "CSeq: 1 INVITE\n"
                                "Content-Length: 5\n"
                                "\n"
                                "v=0\r\n"
                                "|\n");
    ck_assert_str_eq(l->host, "vcse");
    ck_assert_uint_eq(l->n, 1);
    const sl_xlog_entry *e = &l->e[0];
    ck_assert_int_eq(e->kind, SL_XLOG_SIP);
    ck_assert_uint_eq(e->line, 1);
    ck_assert_uint_eq(e->sip_line, 3);
    /* 2016-10-13 03:58:40.637 UTC; the prefix says .636 in +09:00 */
    int64_t sec = sl_xlog_epoch(2016, 10, 13, 3, 58, 40);
    ck_assert_int_eq(sec, 1476331120);
    ck_assert(e->has_time);
    ck_assert_int_eq(e->utc, sec * 1000000000LL + 637000000LL);
    ck_assert_int_eq(e->prefix_utc, sec * 1000000000LL + 636000000LL);
    ck_assert(!e->sent);
    ck_assert_uint_eq(e->local_port, 26847);
    ck_assert_uint_eq(e->remote_port, 7003);
    const char *want = "INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/TLS 192.168.1.6:7003;branch=z9hG4bK1\r\n"
                       "Call-ID: abc@h\r\nCSeq: 1 INVITE\r\nContent-Length: 5\r\n\r\nv=0\r\n";
    ck_assert_uint_eq(e->msg_len, strlen(want));
    ck_assert(memcmp(e->msg, want, e->msg_len) == 0);
    ck_assert_uint_eq(l->n_problems, 0);
    sl_xlog_free(l);
}
END_TEST

/* Header lines cut at any column are joined; a cut after the Via's
 * protocol stood for a space; an entry's metadata over two lines is one. */
START_TEST(wrapped_lines_are_joined)
{
    sl_xlog *l = parse("2017-09-19T14:16:15.836-04:00 vcsc tvcs: UTCTime=\"2017-09-19 18:16:15,830\"\n"
                       "Module=\"network.sip\" Level=\"DEBUG\": Action=\"Sent\" Local-ip=\"192.168.1.5\" "
                       "Local-port=\"26847\" Dst-\n"
                       "ip=\"192.168.1.6\" Dst-port=\"7003\" Msg-Hash=\"2\"\n"
                       "SIPMSG:\n"
                       "|SIP/2.0 404 Not Found\n"
                       "Via: SIP/2.0/TLS 192.168.1.6:7003;egress-\n"
                       "zone=Traversal;branch=z9hG4bKc81c;rport=70\n"
                       "03\n"
                       "Via: SIP/2.0/TLS\n"
                       "192.168.5.66:5062;branch=z9hG4bK0f\n"
                       "Call-ID: 9062@127.0.0.1\n"
                       "CSeq: 1 INVITE\n"
                       "Content-Length: 0\n"
                       "\n"
                       "|\n");
    const sl_xlog_entry *e = need(l, SL_XLOG_SIP);
    ck_assert(e->sent);
    /* "Dst-\nip=" is a wrap of the metadata too: joined with a space it is
     * not Dst-ip, so the remote address is missing and said */
    const char *want = "SIP/2.0 404 Not Found\r\nVia: SIP/2.0/TLS 192.168.1.6:7003;egress-zone=Traversal;branch=z9hG4bKc81c;"
                       "rport=7003\r\nVia: SIP/2.0/TLS 192.168.5.66:5062;branch=z9hG4bK0f\r\nCall-ID: 9062@127.0.0.1\r\n"
                       "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
    ck_assert_msg(e->msg_len == strlen(want) && memcmp(e->msg, want, e->msg_len) == 0, "%.*s", (int)e->msg_len,
                  (const char *)e->msg);
    ck_assert(!e->has_addrs);
    ck_assert(has_problem(l, 1, "without Local-ip/port and Dst-ip/port"));
    sl_xlog_free(l);
}
END_TEST

START_TEST(events_tls_dns_tcp)
{
    sl_xlog *l = parse(
        "2016-10-13T11:07:36.831+09:00 vcse tvcs: Event=\"Call Rejected\" Service=\"SIP\" Src-ip=\"10.0.0.1\" "
        "Src-port=\"5073\" Dst-alias=\"sip:x@webex.com\" Call-serial-number=\"4b12\" Tag=\"6677\" "
        "Detail=\"Request Timeout\" Protocol=\"TLS\" Response-code=\"408\" Level=\"1\" UTCTime=\"2016-10-13 "
        "02:07:36,830\"\n"
        "2016-10-13T11:07:36.831+09:00 vcse tvcs: Event=\"Search Completed\" Reason=\"Not Found\" "
        "Detail=\"found:false, searchtype:INVITE, Info:Policy Response\" Level=\"1\" UTCTime=\"2016-10-13 "
        "02:07:36,830\"\n"
        "2016-10-13T17:54:38.177+09:00 vcse tvcs: UTCTime=\"2016-10-13 08:54:38,167\" Module=\"developer.ssl\" "
        "Level=\"ERROR\" CodeLocation=\"x(68)\" Thread=\"0x7f\": TTSSL_continueHandshake: Failed to establish SSL "
        "connection iResult=\"0\" error=\"1\" bServer=\"false\" localAddress=\"['IPv4''TCP''1.1.1.1:25001']\" "
        "remoteAddress=\"['IPv6''TCP''[2001:db8::2]:5065']\" ssl_error_reason=\"error:14094416:SSL "
        "routines:ssl3_read_bytes:sslv3 alert certificate unknown\"\n"
        "2016-10-13T17:54:38.177+09:00 vcse tvcs: Event=\"Inbound TLS Negotiation Error\" Service=\"SIP\" "
        "Src-ip=\"2.2.2.2\" Src-port=\"40000\" Dst-ip=\"1.1.1.1\" Dst-port=\"5061\" Detail=\"self signed "
        "certificate in certificate chain\" Protocol=\"TLS\" Level=\"1\" UTCTime=\"2016-10-13 08:54:38,167\"\n"
        "2016-10-13T12:58:40.636+09:00 vcse tvcs: UTCTime=\"2016-10-13 03:58:40,637\" Module=\"network.dns\" "
        "Level=\"DEBUG\":  Detail=\"Sending DNS query\" Name=\"_sips._tcp.x.webex.com\" Type=\"SRV (IPv4 and IPv6)\"\n"
        "2016-10-13T12:58:40.636+09:00 vcse tvcs: UTCTime=\"2016-10-13 03:58:40,637\" Module=\"network.dns\" "
        "Level=\"DEBUG\":  Detail=\"Could not resolve hostname\"\n"
        "2016-10-13T17:54:38.177+09:00 vcse tvcs: UTCTime=\"2016-10-13 08:54:38,167\" Module=\"network.tcp\" "
        "Level=\"DEBUG\":  Src-ip=\"1.1.1.1\" Src-port=\"25001\" Dst-ip=\"2.2.2.2\" Dst-port=\"5065\" Detail=\"TCP "
        "Connection Closed\" Reason=\"Got EOF on socket\"\n"
        "2016-10-13T17:54:38.177+09:00 vcse tvcs: UTCTime=\"2016-10-13 08:54:38,167\" Module=\"network.ldap\" "
        "Level=\"INFO\": Detail=\"ignored\"\n");
    ck_assert_uint_eq(l->n, 7); /* the ldap entry is not kept */
    const sl_xlog_entry *e = need(l, SL_XLOG_CALL_REJECTED);
    ck_assert_int_eq(e->response_code, 408);
    ck_assert_str_eq(e->detail, "Request Timeout");
    ck_assert_str_eq(e->serial, "4b12");
    ck_assert_str_eq(e->dst_alias, "sip:x@webex.com");
    e = need(l, SL_XLOG_SEARCH_COMPLETED);
    ck_assert(strstr(e->detail, "Info:Policy Response") != NULL);
    e = need(l, SL_XLOG_SSL_FAILED);
    ck_assert(e->has_addrs);
    ck_assert(e->sent); /* bServer false: the box was the client */
    ck_assert_uint_eq(e->local_port, 25001);
    ck_assert_uint_eq(e->remote_port, 5065);
    char buf[64];
    ck_assert_str_eq(sl_addr_format(&e->remote, buf, sizeof buf), "2001:db8::2");
    ck_assert(strstr(e->ssl_reason, "alert certificate unknown") != NULL);
    e = need(l, SL_XLOG_TLS_NEG_ERROR);
    ck_assert(!e->sent); /* inbound: the box is Dst */
    ck_assert_uint_eq(e->local_port, 5061);
    ck_assert_uint_eq(e->remote_port, 40000);
    ck_assert_str_eq(need(l, SL_XLOG_DNS_QUERY)->name, "_sips._tcp.x.webex.com");
    ck_assert_ptr_nonnull(first_of(l, SL_XLOG_DNS_FAILED));
    ck_assert_str_eq(need(l, SL_XLOG_TCP)->reason, "Got EOF on socket");
    sl_xlog_free(l);
}
END_TEST

/* A block the next entry interrupts, junk, NULs, invalid UTF-8, a line
 * far longer than any entry may be: each said with its line, no crash. */
START_TEST(hostile_lines_are_reported)
{
    size_t big = SL_XLOG_MAX_ENTRY + 4096;
    const char *head = SIP_HEAD "SIPMSG:\n|OPTIONS sip:a SIP/2.0\nCall-ID: x\n";
    const char *mid = "2016-10-13T12:58:41.000+09:00 vcse tvcs: UTCTime=\"2016-10-13 03:58:41,000\" Module=\"network.tcp\" "
                      "Level=\"DEBUG\": Detail=\"";
    static const char tail[] = "\"\n\xff\xfe\x80 bad utf-8\nSIPMSG:\n|\n|\nnul\0here\n";
    size_t hn = strlen(head), mn = strlen(mid), tn = sizeof tail - 1;
    uint8_t *buf = malloc(hn + mn + big + tn);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, head, hn);
    memcpy(buf + hn, mid, mn);
    memset(buf + hn + mn, 'A', big);
    memcpy(buf + hn + mn + big, tail, tn);
    sl_xlog *l = NULL;
    ck_assert_int_eq(sl_xlog_parse(buf, hn + mn + big + tn, "junk.log", &l), 0);
    ck_assert(has_problem(l, 3, "SIPMSG block not closed"));
    const sl_xlog_entry *e = need(l, SL_XLOG_SIP);
    ck_assert(e->msg_broken);
    ck_assert(has_problem(l, 5, "entry longer than"));
    ck_assert(has_problem(l, 10, "text after the SIPMSG block of the entry at line 5"));
    ck_assert(has_problem(l, 10, "NUL bytes"));
    for (size_t i = 0; i < l->n_problems; i++)
        for (const char *c = l->problems[i].text; *c; c++)
            ck_assert((unsigned char)*c >= 32 && (unsigned char)*c < 127);
    sl_xlog_free(l);
    free(buf);
}
END_TEST

START_TEST(not_a_log)
{
    static const uint8_t pcap[] = {0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0};
    sl_xlog *l = NULL;
    ck_assert_int_eq(sl_xlog_parse(pcap, sizeof pcap, "x", &l), -SL_EUSAGE);
    ck_assert_ptr_null(l);
    const char *almost = "2016-10-13T12:58:40.636+09:00 vcse sshd: not tvcs\n";
    ck_assert_int_eq(sl_xlog_parse((const uint8_t *)almost, strlen(almost), "x", &l), -SL_EUSAGE);
    ck_assert_int_eq(sl_xlog_parse((const uint8_t *)"", 0, "x", &l), -SL_EUSAGE);
    char err[256];
    char path[4096];
    sl_test_path(path, sizeof path, "testdata/scenarios/healthy-call.pcap");
    ck_assert_int_eq(sl_xlog_read_file(path, &l, err, sizeof err), -SL_EIO);
    ck_assert(strstr(err, "is not an Expressway diagnostic log") != NULL);
}
END_TEST

static sl_xlog *read_log(const char *rel)
{
    char path[4096], err[256];
    sl_test_path(path, sizeof path, rel);
    sl_xlog *l = NULL;
    ck_assert_msg(sl_xlog_read_file(path, &l, err, sizeof err) == 0, "%s", err);
    return l;
}

START_TEST(gzip_log_is_read)
{
    sl_xlog *l = read_log("testdata/logs/response-404-exp-e.log.gz");
    ck_assert(l->gzipped);
    size_t sip = 0;
    for (size_t i = 0; i < l->n; i++)
        sip += l->e[i].kind == SL_XLOG_SIP;
    ck_assert_uint_eq(sip, 8);
    ck_assert_uint_eq(l->n_problems, 0);
    sl_xlog_free(l);
}
END_TEST

/* Both peers log the C-E hop that the capture holds in the clear: one
 * message each, and the C's clock (1.250 s ahead) is learned. */
START_TEST(merge_dedups_and_learns_offsets)
{
    sl_test_run run;
    sl_test_run_data(&run, "testdata/scenarios/sip.response.404.pcap", NULL);
    sl_analysis *a = run.a;
    sl_model *m = sl_analysis_model_mut(a);
    size_t wire = m->n_sip;
    sl_xlog *logs[2] = {read_log("testdata/logs/response-404-exp-e.log.gz"),
                        read_log("testdata/logs/response-404-exp-c.log")};
    sl_config cfg;
    memset(&cfg, 0, sizeof cfg);
    sl_limits_default(&cfg.limits);
    ck_assert_int_eq(sl_xlog_merge(m, logs, 2, &cfg), 0);
    ck_assert_uint_eq(m->n_sip, wire);
    ck_assert(logs[0]->has_offset);
    ck_assert_int_lt(logs[0]->offset < 0 ? -logs[0]->offset : logs[0]->offset, 1000000);
    ck_assert(logs[1]->has_offset);
    ck_assert_int_lt(llabs(logs[1]->offset + 1250000000LL), 1000000);
    ck_assert_uint_eq(logs[0]->sip_in_capture, 8);
    ck_assert_uint_eq(logs[1]->sip_in_capture, 4);
    for (size_t i = 0; i < m->n_sip; i++) {
        ck_assert_ptr_nonnull(m->sip[i]->log_file); /* the E logged every message */
        ck_assert_uint_ne(m->sip[i]->span.last_frame, 0);
    }
    sl_test_run_free(&run);
    sl_xlog_free(logs[0]);
    sl_xlog_free(logs[1]);
}
END_TEST

/* The OPTIONS the E sent inside a TLS session joins that connection. */
START_TEST(merge_puts_sip_on_its_tls_connection)
{
    sl_test_run run;
    sl_test_run_data(&run, "testdata/scenarios/healthy-tls12-mutual.pcap", NULL);
    sl_analysis *a = run.a;
    sl_model *m = sl_analysis_model_mut(a);
    ck_assert_uint_eq(m->n_sip, 0);
    sl_xlog *l = read_log("testdata/logs/tls-leg-exp-e.log");
    sl_config cfg;
    memset(&cfg, 0, sizeof cfg);
    sl_limits_default(&cfg.limits);
    ck_assert_int_eq(sl_xlog_merge(m, &l, 1, &cfg), 0);
    ck_assert_uint_eq(m->n_sip, 1);
    const sl_sip_record *r = m->sip[0];
    ck_assert_uint_eq(r->conn_index, 1);
    ck_assert_int_eq(r->dir, SL_DIR_C2S);
    ck_assert_int_eq(r->transport, SL_TRANSPORT_TCP);
    ck_assert_uint_eq(r->span.last_frame, 0);
    ck_assert_uint_eq(r->log_line, 5);
    ck_assert_str_eq(r->log_host, "vcse");
    ck_assert_uint_eq(l->sip_joined, 1);
    char line[1024];
    sl_sip_record_format_line(r, line, sizeof line);
    ck_assert_msg(strstr(line, "   - ") == line && strstr(line, "| from log ") && strstr(line, "tls-leg-exp-e.log:5 (vcse)"),
                  "%s", line);
    sl_test_run_free(&run);
    sl_xlog_free(l);
}
END_TEST

/* Every leg encrypted, no message in both, the box's clock 10 s ahead: the
 * connection its OPTIONS used bounds the offset (at least 9 s). */
START_TEST(offset_bounded_by_connections)
{
    sl_test_run run;
    sl_test_run_data(&run, "testdata/scenarios/healthy-tls12-mutual.pcap", NULL);
    sl_analysis *a = run.a;
    sl_model *m = sl_analysis_model_mut(a);
    sl_xlog *l = parse("2026-11-21T15:45:57.124+09:00 vcse tvcs: UTCTime=\"2026-11-21 06:45:57,124\" "
                       "Module=\"network.sip\" Level=\"DEBUG\": Action=\"Sent\" Local-ip=\"10.252.3.1\" "
                       "Local-port=\"40000\" Dst-ip=\"10.252.4.2\" Dst-port=\"5062\" Msg-Hash=\"3\"\n"
                       "SIPMSG:\n"
                       "|OPTIONS sip:far.test SIP/2.0\n"
                       "Via: SIP/2.0/TLS 10.252.3.1:40000;branch=z9hG4bK9\n"
                       "Call-ID: skew@10.252.3.1\n"
                       "CSeq: 1 OPTIONS\n"
                       "Content-Length: 0\n"
                       "\n"
                       "|\n");
    sl_config cfg;
    memset(&cfg, 0, sizeof cfg);
    sl_limits_default(&cfg.limits);
    ck_assert_int_eq(sl_xlog_merge(m, &l, 1, &cfg), 0);
    ck_assert(l->has_offset);
    ck_assert(l->offset_from_conns);
    /* the connection lives 06:45:46.624236 to 06:45:48.124977 */
    ck_assert_int_eq(l->offset, 1795243548124977000LL - 1795243557124000000LL); /* its last packet - the log's time */
    ck_assert_uint_eq(m->n_sip, 1);
    ck_assert_uint_eq(m->sip[0]->conn_index, 1);
    sl_test_run_free(&run);
    sl_xlog_free(l);
}
END_TEST

/* A far end that refuses the box's certificate on every retry (new source
 * port each time) is one verdict: six repeats named, the rest counted. */
START_TEST(repeated_tls_failures_are_one_verdict)
{
    char text[50 * 400] = "";
    for (int i = 0; i < 50; i++) {
        char line[400];
        snprintf(line, sizeof line,
                 "2017-09-19T11:12:%02d.721-04:00 vcse tvcs: Event=\"Inbound TLS Negotiation Error\" "
                 "Src-ip=\"146.20.193.45\" Src-port=\"%d\" Dst-ip=\"172.16.2.2\" Dst-port=\"5062\" "
                 "Detail=\"sslv3 alert certificate unknown\" UTCTime=\"2017-09-19 15:12:%02d,721\"\n",
                 i % 60, 33000 + i, i % 60);
        strcat(text, line);
    }
    sl_xlog *l = parse(text);
    sl_model *m = sl_model_new();
    ck_assert_ptr_nonnull(m);
    sl_diagnoses d = {0};
    ck_assert_int_eq(sl_xlog_diagnose(&l, 1, m, NULL, &d), 0);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_str_eq(d.list[0].code, "tls.alert.certificate_unknown");
    ck_assert_int_eq(d.list[0].rejected_by.role, SL_ROLE_CLIENT);
    ck_assert_ptr_nonnull(strstr(d.list[0].causes[d.list[0].n_causes - 1], "and again 44 more times"));
    sl_diagnoses_clear(&d);
    sl_model_free(m);
    sl_xlog_free(l);
}
END_TEST

/* The log says the E sent its 403 on a connection the capture reads in
 * clear, and the capture lacks it: said, and the log's copy fills in. */
START_TEST(merge_says_where_log_and_capture_disagree)
{
    sl_test_run run;
    sl_test_run_data(&run, "testdata/logs/policy-reject-no-403.pcap", NULL);
    sl_analysis *a = run.a;
    sl_model *m = sl_analysis_model_mut(a);
    ck_assert_uint_eq(m->n_sip, 2);
    sl_xlog *l = read_log("testdata/logs/policy-reject-exp-e.log");
    sl_config cfg;
    memset(&cfg, 0, sizeof cfg);
    sl_limits_default(&cfg.limits);
    ck_assert_int_eq(sl_xlog_merge(m, &l, 1, &cfg), 0);
    ck_assert_uint_eq(m->n_sip, 3);
    ck_assert_uint_eq(l->sip_not_on_wire, 1);
    ck_assert_uint_eq(l->first_not_on_wire, 42);
    ck_assert_uint_eq(l->sip_in_capture, 2);
    sl_test_run_free(&run);
    sl_xlog_free(l);
}
END_TEST

/* The bundle: its log and capture, under names of our own in a private
 * directory; a member's path out of the archive, an absolute one, a link,
 * a FIFO and a file that is neither are not written; the directory goes. */
START_TEST(bundle_is_unpacked_safely)
{
    char path[4096];
    sl_test_path(path, sizeof path, "testdata/logs/bundle-srv-failed.tar.gz");
    char tmp[] = "/tmp/check-exp-bundle-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    setenv("TMPDIR", tmp, 1);
    const char **files = malloc(2 * sizeof *files);
    ck_assert_ptr_nonnull(files);
    files[0] = path;
    files[1] = "-"; /* standard input is never opened to look */
    size_t n_files = 2, n_logs = 0;
    const char **logs = NULL;
    sl_bundle *b = NULL;
    ck_assert_int_eq(sl_bundle_take(&files, &n_files, &logs, &n_logs, &b), 0);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(n_files, 2);
    ck_assert(strstr(files[0], "/001-vcse_tcpdump_2026-11-21_06-48.pcap") != NULL); /* where the bundle was */
    ck_assert_str_eq(files[1], "-");
    ck_assert_uint_eq(n_logs, 1);
    ck_assert(strstr(logs[0], "/000-loggingsnapshot_vcse_2026-11-21_06-48.txt") != NULL);
    ck_assert(strncmp(logs[0], tmp, strlen(tmp)) == 0);
    struct stat st;
    ck_assert_int_ne(stat("/tmp/sipladder-escaped.txt", &st), 0);
    ck_assert_int_ne(stat("/tmp/sipladder-absolute.txt", &st), 0);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", logs[0]);
    *strrchr(dir, '/') = 0;
    ck_assert_int_eq(stat(dir, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0700);
    sl_bundle_free(b);
    ck_assert_int_ne(stat(dir, &st), 0); /* removed with its files */
    free(files);
    free(logs);
    ck_assert_int_eq(rmdir(tmp), 0);
    unsetenv("TMPDIR");
}
END_TEST

/* A file that is no tar (a capture, a plain log) stays as it was. */
START_TEST(bundle_leaves_other_files)
{
    char pcap[4096];
    sl_test_path(pcap, sizeof pcap, "testdata/scenarios/dns.srv_failed.pcap");
    const char **files = malloc(sizeof *files);
    ck_assert_ptr_nonnull(files);
    files[0] = pcap;
    size_t n_files = 1, n_logs = 0;
    const char **logs = NULL;
    sl_bundle *b = NULL;
    ck_assert_int_eq(sl_bundle_take(&files, &n_files, &logs, &n_logs, &b), 0);
    ck_assert_ptr_null(b);
    ck_assert_uint_eq(n_files, 1);
    ck_assert_str_eq(files[0], pcap);
    ck_assert_uint_eq(n_logs, 0);
    free(files);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("exp_log");
    TCase *t = tcase_create("reader");
    tcase_add_test(t, prefix_utctime_and_message);
    tcase_add_test(t, wrapped_lines_are_joined);
    tcase_add_test(t, events_tls_dns_tcp);
    tcase_add_test(t, hostile_lines_are_reported);
    tcase_add_test(t, not_a_log);
    tcase_add_test(t, gzip_log_is_read);
    suite_add_tcase(s, t);
    TCase *g = tcase_create("merge");
    tcase_add_test(g, merge_dedups_and_learns_offsets);
    tcase_add_test(g, merge_puts_sip_on_its_tls_connection);
    tcase_add_test(g, merge_says_where_log_and_capture_disagree);
    tcase_add_test(g, offset_bounded_by_connections);
    tcase_add_test(g, repeated_tls_failures_are_one_verdict);
    tcase_add_test(g, bundle_is_unpacked_safely);
    tcase_add_test(g, bundle_leaves_other_files);
    suite_add_tcase(s, g);
    return s;
}

int main(void) { return sl_check_run(suite()); }
