/* check_sip_parse.c - every field of a parsed SIP message, on Expressway,
 * CUCM and Jabber MRA messages rebuilt from real log lines (the seeds). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip_fixtures.h"
#include "sipladder/sip.h"
#include "check_run.h"

static const sl_dissector *D = &sl_dissector_sip;

#define ck_str(s, lit) ck_assert_msg(sl_sip_str_eq((s), (lit)), "got \"%.*s\", want \"%s\"", (int)(s).n, \
                                     (s).p ? (s).p : "(absent)", (lit))

/* One message through the dissector (TCP), as an owned record. */
static fx_log parse_one(const char *hdrs, const char *body)
{
    size_t n;
    char *m = fx_msg(hdrs, body, &n);
    fx_log log = {0};
    fx_feed_whole(D, SL_TRANSPORT_TCP, (const uint8_t *)m, n, &log);
    free(m);
    ck_assert_uint_eq(fx_count(&log, SL_EV_SIP), 1);
    ck_assert_uint_eq(fx_count(&log, SL_EV_ANOMALY), 0);
    ck_assert(log.ev[0].had_osip);
    ck_assert(!log.ev[0].rec->f.malformed);
    return log;
}

static void param_is(const sl_sip_param *p, size_t n, const char *name, const char *value)
{
    sl_sip_str v;
    ck_assert_msg(sl_sip_param_get(p, n, name, &v), "no param %s", name);
    if (value)
        ck_str(v, value);
    else
        ck_assert_ptr_null(v.p);
}

START_TEST(expressway_invite)
{
    fx_log log = parse_one(fx_invite_expressway_hdrs, fx_invite_sdp);
    const sl_sip_record *r = log.ev[0].rec;
    const sl_sip_fields *f = &r->f;
    ck_assert(f->is_request);
    ck_str(f->method, "INVITE");
    ck_str(f->request_uri, "sip:pstoiano-test@dmzlab.call.ciscospark.com");
    ck_str(f->first_line, "INVITE sip:pstoiano-test@dmzlab.call.ciscospark.com SIP/2.0");
    ck_assert_int_eq(f->status_code, 0);
    ck_str(f->call_id, "991f7e80-9c11517a-130ac-1501a8c0@192.168.1.21");
    ck_assert(f->has_cseq);
    ck_assert_uint_eq(f->cseq, 101);
    ck_str(f->cseq_method, "INVITE");
    ck_str(f->from_display, "Jonathan Robb");
    ck_str(f->from_uri, "sip:5010@rtp.ciscotac.net");
    ck_str(f->from_tag, "332677~c9cc7ddc-9592-49e8-a13c-79e26f48eebc-30106860");
    ck_str(f->to_uri, "sip:pstoiano-test@dmzlab.call.ciscospark.com");
    ck_assert_ptr_null(f->to_tag.p);

    ck_assert_uint_eq(f->n_vias, 2);
    const sl_sip_via *v = &f->vias[0];
    ck_str(v->transport, "TLS");
    ck_str(v->host, "192.168.1.5");
    ck_str(v->port, "5061");
    ck_str(v->branch, "z9hG4bK6d734eaf7a6d733bd1e79705b7445ebb46175.1d33be65c99c56898f85df813f1db3a7");
    ck_assert_ptr_null(v->received.p);
    ck_assert_ptr_nonnull(v->rport.p); /* bare ;rport */
    ck_assert_uint_eq(v->rport.n, 0);
    ck_assert_uint_eq(v->n_params, 4);
    param_is(v->params, v->n_params, "egress-zone", "HybridCallServiceTraversal");
    param_is(v->params, v->n_params, "proxy-call-id", "47454c92-2b30-414a-b7fe-aff531296bcf");
    v = &f->vias[1];
    ck_str(v->transport, "TCP");
    ck_str(v->host, "192.168.1.21");
    ck_str(v->port, "5065");
    ck_str(v->branch, "z9hG4bK13187594dd412");
    ck_str(v->received, "192.168.1.21");
    ck_assert_ptr_null(v->rport.p);
    param_is(v->params, v->n_params, "ingress-zone", "CUCM11");

    ck_assert_uint_eq(f->n_contacts, 1);
    ck_str(f->contacts[0].uri, "sip:192.168.1.6:5073;transport=tls");
    param_is(f->contacts[0].params, f->contacts[0].n_params, "call-type", "squared");
    ck_assert_uint_eq(f->n_routes, 0);
    ck_assert_uint_eq(f->n_record_routes, 2);
    ck_str(f->record_routes[0].uri, "sip:proxy-call-id=47454c92-2b30-414a-b7fe-aff531296bcf@192.168.1.5:5061;transport=tls;lr");
    ck_str(f->record_routes[1].uri, "sip:proxy-call-id=47454c92-2b30-414a-b7fe-aff531296bcf@192.168.1.5:5060;transport=tcp;lr");

    ck_str(f->session_id_local, "75957d4fb66a13e835c10737aa332675");
    ck_str(f->session_id_remote, "00000000000000000000000000000000");
    ck_str(f->taatag, "2272025a-ce36-49d0-8d93-cb6a5e90ffe0");
    ck_str(f->cisco_guid, "2568978048-0000065536-0000000148-0352430272");
    ck_assert_ptr_null(f->reason_protocol.p);
    ck_assert_int_eq(f->reason_cause, -1);
    ck_assert_int_eq(f->warning_code, -1);
    ck_str(f->supported, "timer, resource-priority, replaces, X-cisco-srtp-fallback, X-cisco-original-called");
    ck_assert(sl_sip_has_option(f, "Supported", "replaces"));
    ck_assert(!sl_sip_has_option(f, "Supported", "100rel"));
    ck_assert_ptr_null(f->require.p);
    ck_str(f->user_agent, "Cisco-CUCM11.5");
    ck_assert_ptr_null(f->server.p);
    ck_assert_int_eq(f->expires, 180);
    ck_assert_int_eq(f->max_forwards, 15);
    ck_str(f->content_type, "application/sdp");
    ck_assert_int_eq(f->content_length, (int64_t)strlen(fx_invite_sdp));
    ck_assert_uint_eq(f->body_len, strlen(fx_invite_sdp));
    ck_assert_int_eq(memcmp(f->body, fx_invite_sdp, f->body_len), 0);
    ck_assert(!f->mra_ar_sk_offered && !f->ar_sk_supported);
    ck_assert(!f->has_www_authenticate && !f->has_authorization);

    /* Every header line, in order, names and values as written. */
    ck_assert_uint_eq(f->n_headers, 25);
    ck_str(f->headers[0].name, "Via");
    ck_str(f->headers[24].name, "Content-Length");
    sl_sip_str h;
    ck_assert(sl_sip_header_get(f, "remote-party-id", 0, &h));
    ck_str(h, "\"Jonathan Robb\" <sip:5010@rtp.ciscotac.net>;party=calling;screen=yes;privacy=off");
    ck_assert(sl_sip_header_get(f, "Record-Route", 1, &h));
    ck_assert(!sl_sip_header_get(f, "Record-Route", 2, &h));
    ck_assert(sl_sip_header_get(f, "Min-SE", 0, &h));
    ck_str(h, "1800");

    /* The record kept the SDP summary. */
    ck_assert(r->has_sdp);
    ck_assert_uint_eq(r->sdp.n_media, 3);
    ck_assert_uint_eq(r->transport, SL_TRANSPORT_TCP);
    fx_log_free(&log);
}
END_TEST

START_TEST(webex_404_with_warning)
{
    fx_log log = parse_one(fx_404_warning_hdrs, NULL);
    const sl_sip_fields *f = &log.ev[0].rec->f;
    ck_assert(!f->is_request);
    ck_assert_int_eq(f->status_code, 404);
    ck_str(f->reason_phrase, "Not Found");
    ck_assert_ptr_null(f->method.p);
    ck_str(f->cseq_method, "INVITE");
    ck_str(f->to_display, "CiscoWebEx");
    ck_str(f->to_tag, "564b7bfbf6d41801");
    ck_assert_uint_eq(f->n_vias, 4);
    ck_str(f->vias[0].rport, "25006");
    param_is(f->vias[0].params, f->vias[0].n_params, "egress-zone", "WebExDNSZone");
    param_is(f->vias[1].params, f->vias[1].n_params, "x-cisco-local-service", "nettle");
    ck_str(f->vias[2].received, "192.168.0.98");
    ck_str(f->vias[2].rport, "25029");
    param_is(f->vias[2].params, f->vias[2].n_params, "proxy-call-id", "00fa4a64-9472-4d3a-81e9-7674e5121f47");
    param_is(f->vias[2].params, f->vias[2].n_params, "ingress-zone", "Traversalzone");
    param_is(f->vias[3].params, f->vias[3].n_params, "ingress-zone", "Cucm105Zone");
    ck_assert_int_eq(f->warning_code, 399);
    ck_str(f->warning_agent, "3.3.3.3:5061");
    ck_str(f->warning_text, "Policy Response");
    ck_str(f->server, "TANDBERG/4133 (X8.8.1)");
    ck_assert_int_eq(f->content_length, 0);
    ck_assert_uint_eq(f->body_len, 0);
    ck_assert_int_eq(f->expires, -1);
    ck_assert_int_eq(f->max_forwards, -1);
    fx_log_free(&log);
}
END_TEST

START_TEST(cucm_bye_with_q850_reason)
{
    fx_log log = parse_one(fx_bye_reason_hdrs, NULL);
    const sl_sip_fields *f = &log.ev[0].rec->f;
    ck_str(f->method, "BYE");
    ck_str(f->request_uri, "sip:192.168.1.6:5071;transport=tls");
    ck_str(f->reason_protocol, "Q.850");
    ck_assert_int_eq(f->reason_cause, 47);
    ck_assert_ptr_null(f->reason_text.p);
    ck_assert_uint_eq(f->n_routes, 2); /* one Route header, two entries */
    ck_str(f->routes[0].uri, "sip:proxy-call-id=be17a470-0bca-4ad5-8a6c-14872e007efb@192.168.1.6:7003;transport=tls;lr");
    ck_str(f->routes[1].uri, "sip:proxy-call-id=be17a470-0bca-4ad5-8a6c-14872e007efb@192.168.1.6:5061;transport=tls;lr");
    ck_str(f->session_id_local, "75957d4fb66a13e835c10737aa329445");
    ck_str(f->session_id_remote, "ed35426ed3ade6fdc3b058792333df2b");
    ck_str(f->taatag, "14a0bd87-1825-4ecf-9f3d-4a23cfa69725");
    ck_str(f->to_tag, "f3734601fb0eb541");
    ck_assert_int_eq(f->max_forwards, 69);
    fx_log_free(&log);
}
END_TEST

START_TEST(reason_prefers_q850_and_reads_text)
{
    char hdrs[2048];
    snprintf(hdrs, sizeof hdrs, "%s", fx_bye_reason_hdrs);
    char *r = strstr(hdrs, "Reason: Q.850 ;cause=47\r\n");
    ck_assert_ptr_nonnull(r);
    const char *two = "Reason: SIP;cause=200;text=\"Call completed elsewhere\"\r\n"
                      "Reason: Q.850;cause=16;text=\"Normal call clearing\"\r\n";
    memmove(r + strlen(two), r + strlen("Reason: Q.850 ;cause=47\r\n"), strlen(r) - 25 + 1);
    memcpy(r, two, strlen(two));
    fx_log log = parse_one(hdrs, NULL);
    const sl_sip_fields *f = &log.ev[0].rec->f;
    ck_str(f->reason_protocol, "Q.850");
    ck_assert_int_eq(f->reason_cause, 16);
    ck_str(f->reason_text, "Normal call clearing");
    fx_log_free(&log);
}
END_TEST

START_TEST(register_flow_mra)
{
    fx_log log = parse_one(fx_register_mra_hdrs, NULL);
    const sl_sip_fields *f = &log.ev[0].rec->f;
    ck_str(f->method, "REGISTER");
    ck_assert(f->mra_ar_sk_offered);
    ck_assert(!f->ar_sk_supported);
    ck_assert_int_eq(f->expires, 3600);
    ck_assert_uint_eq(f->n_contacts, 1);
    const sl_sip_addr *c = &f->contacts[0];
    param_is(c->params, c->n_params, "x-cisco-mra-ha", "AR_SK");
    param_is(c->params, c->n_params, "x-cisco-reg-id", "1");
    param_is(c->params, c->n_params, "video", NULL);
    param_is(c->params, c->n_params, "+u.sip!devicename.ccm.cisco.com", "\"CSFMRA01\"");
    ck_assert(!f->has_authorization);
    fx_log_free(&log);

    log = parse_one(fx_401_hdrs, NULL);
    f = &log.ev[0].rec->f;
    ck_assert_int_eq(f->status_code, 401);
    ck_assert(f->has_www_authenticate);
    ck_assert(!f->has_proxy_authenticate);
    ck_str(f->server, "Cisco-CUCM12.5");
    fx_log_free(&log);

    log = parse_one(fx_register_auth_hdrs, NULL);
    f = &log.ev[0].rec->f;
    ck_assert(f->has_authorization);
    ck_assert(f->mra_ar_sk_offered); /* Contact param only */
    ck_assert_uint_eq(f->cseq, 105);
    fx_log_free(&log);

    log = parse_one(fx_200_register_hdrs, NULL);
    f = &log.ev[0].rec->f;
    ck_assert_int_eq(f->status_code, 200);
    ck_assert(f->ar_sk_supported);
    ck_assert(sl_sip_has_option(f, "k", "x-cisco-supports-ar_sk")); /* compact name, any case */
    ck_assert_int_eq(f->expires, 120);
    param_is(f->contacts[0].params, f->contacts[0].n_params, "expires", "120");
    param_is(f->contacts[0].params, f->contacts[0].n_params, "x-cisco-newreg", NULL);
    ck_str(f->session_id_local, "9b8c276600255000a0000e5dc13f0000");
    ck_str(f->session_id_remote, "c31f584200255000a00000ddda3c0000");
    ck_str(f->to_tag, "385623253");
    fx_log_free(&log);
}
END_TEST

START_TEST(proxy_auth_require_and_compact_forms)
{
    const char *m = "SIP/2.0 407 Proxy Authentication Required\r\n"
                    "v: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc, SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKdef\r\n"
                    "i: 407@h\r\nCSeq: 2 INVITE\r\nf: <sip:a@h>;tag=1\r\nt: <sip:b@h>;tag=2\r\n"
                    "Proxy-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\n"
                    "Require: 100rel\r\nX-cisco-supports-AR_SK: yes\r\nc: text/plain\r\nl: 2\r\n\r\nhi";
    fx_log log = {0};
    fx_feed_whole(D, SL_TRANSPORT_UDP, (const uint8_t *)m, strlen(m), &log);
    ck_assert_uint_eq(log.n, 1);
    const sl_sip_fields *f = &log.ev[0].rec->f;
    ck_assert(f->has_proxy_authenticate);
    ck_assert_uint_eq(f->n_vias, 2); /* one header, two entries */
    ck_str(f->vias[1].branch, "z9hG4bKdef");
    ck_str(f->call_id, "407@h");
    ck_str(f->require, "100rel");
    ck_str(f->content_type, "text/plain");
    ck_assert_int_eq(f->content_length, 2);
    sl_sip_str h;
    ck_assert(sl_sip_header_get(f, "x-cisco-supports-ar_sk", 0, &h));
    ck_str(h, "yes");
    ck_assert(sl_sip_header_get(f, "Call-ID", 0, &h));
    ck_assert(sl_sip_header_get(f, "i", 0, &h));
    ck_assert(sl_sip_header_get(f, "content-length", 0, &h));
    ck_str(h, "2");
    ck_assert(!log.ev[0].rec->has_sdp);
    fx_log_free(&log);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("sip_parse");
    TCase *t = tcase_create("parse");
    tcase_add_test(t, expressway_invite);
    tcase_add_test(t, webex_404_with_warning);
    tcase_add_test(t, cucm_bye_with_q850_reason);
    tcase_add_test(t, reason_prefers_q850_and_reads_text);
    tcase_add_test(t, register_flow_mra);
    tcase_add_test(t, proxy_auth_require_and_compact_forms);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return sl_check_run(suite());
}
