/* check_sip_record.c - owned copies outlive the event; the one-line form and
 * its escaping of hostile bytes. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip_fixtures.h"
#include "sipladder/sip.h"
#include "sipladder/sip_record.h"
#include "sipladder/text.h"
#include "check_run.h"

static const sl_dissector *D = &sl_dissector_sip;

START_TEST(record_owns_its_bytes)
{
    size_t n;
    char *m = fx_msg(fx_invite_expressway_hdrs, fx_invite_sdp, &n);
    fx_log log = {0};
    fx_feed_whole(D, SL_TRANSPORT_UDP, (const uint8_t *)m, n, &log);
    memset(m, 'X', n); /* the feed buffer is gone; the record must not care */
    free(m);
    const sl_sip_record *r = log.ev[0].rec;
    ck_assert(sl_sip_str_eq(r->f.call_id, "991f7e80-9c11517a-130ac-1501a8c0@192.168.1.21"));
    ck_assert(sl_sip_str_eq(r->f.vias[0].params[0].name, "egress-zone"));
    ck_assert(sl_sip_str_eq(r->f.record_routes[1].uri,
                            "sip:proxy-call-id=47454c92-2b30-414a-b7fe-aff531296bcf@192.168.1.5:5060;transport=tcp;lr"));
    ck_assert(sl_sip_str_eq(r->f.headers[23].name, "Content-Type"));
    ck_assert_int_eq(memcmp(r->f.body, "v=0\r\n", 5), 0);
    ck_assert(r->has_sdp);
    ck_assert_str_eq(r->sdp.media[0].formats[0].codec, "PCMU/8000");
    ck_assert_uint_eq(r->sport, 5060);
    ck_assert_uint_eq(r->dport, 5061);
    ck_assert_uint_eq(r->src.bytes[3], 1);
    ck_assert_uint_eq(r->span.first_frame, 1);
    ck_assert_uint_eq(r->raw_len, n);
    ck_assert_ptr_null(sl_sip_record_new(NULL, NULL, NULL, SL_DIR_C2S));
    sl_sip_record_free(NULL);
    fx_log_free(&log);
}
END_TEST

START_TEST(format_line_like_tshark)
{
    size_t n;
    char *m = fx_msg(fx_bye_reason_hdrs, NULL, &n);
    fx_log log = {0};
    fx_core *c = fx_core_new(D, SL_TRANSPORT_UDP, NULL, &log);
    fx_core_push(c, SL_DIR_C2S, (const uint8_t *)"\r\n\r\n", 4);
    fx_core_push(c, SL_DIR_S2C, (const uint8_t *)m, n); /* frame 2, server to client */
    fx_core_free(c);
    free(m);
    const sl_sip_record *r = fx_nth(&log, SL_EV_SIP, 0)->rec;
    char line[512];
    size_t need = sl_sip_record_format_line(r, line, sizeof line);
    ck_assert_uint_eq(need, strlen(line));
    ck_assert_str_eq(line, "   2 1970-01-01 00:00:02.000000 192.0.2.2:5061 -> 192.0.2.1:5060 UDP "
                           "BYE sip:192.168.1.6:5071;transport=tls SIP/2.0 | "
                           "Call-ID: 44bdd400-9c112db1-12d95-1501a8c0@192.168.1.21 | CSeq: 102 BYE");
    need = sl_sip_record_format_line_rel(r, SL_NS_PER_SEC / 2, line, sizeof line);
    ck_assert_uint_eq(need, strlen(line));
    ck_assert_ptr_nonnull(strstr(line, "   2 1.500000 192.0.2.2:5061"));
    /* Short buffers: cut and terminated, the return value unchanged. */
    for (size_t len = 0; len < 40; len++) {
        char small[40];
        memset(small, '#', sizeof small);
        ck_assert_uint_eq(sl_sip_record_format_line_rel(r, SL_NS_PER_SEC / 2, small, len), need);
        if (len > 0) {
            ck_assert_uint_eq(strlen(small), len - 1);
            ck_assert_int_eq(strncmp(small, line, len - 1), 0);
        } else {
            ck_assert_int_eq(small[0], '#');
        }
    }
    fx_log_free(&log);
}
END_TEST

START_TEST(capture_bytes_are_escaped)
{
    char out[256];
    /* ESC sequence, BEL, DEL, a lone continuation byte, an overlong form, a
     * surrogate; valid UTF-8 (e-acute, CJK) passes through. */
    const char in[] = "a\x1b[31mb\x07\x7f\x80\xc0\xaf\xed\xa0\x80 \xc3\xa9\xe6\x97\xa5";
    size_t need = sl_text_escape(in, sizeof in - 1, out, sizeof out);
    ck_assert_str_eq(out, "a\\x1b[31mb\\x07\\x7f\\x80\\xc0\\xaf\\xed\\xa0\\x80 \xc3\xa9\xe6\x97\xa5");
    ck_assert_uint_eq(need, strlen(out));

    /* Through the dissector: a Call-ID holding an escape sequence. */
    const char *msg = "OPTIONS sip:h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK9\r\n"
                      "Call-ID: evil\x1b]0;owned\x07@h\r\nCSeq: 1 OPTIONS\r\nFrom: <sip:a@h>;tag=1\r\n"
                      "To: <sip:b@h>\r\nContent-Length: 0\r\n\r\n";
    fx_log log = {0};
    fx_feed_whole(D, SL_TRANSPORT_UDP, (const uint8_t *)msg, strlen(msg), &log);
    char line[512];
    sl_sip_record_format_line(fx_nth(&log, SL_EV_SIP, 0)->rec, line, sizeof line);
    ck_assert_ptr_null(strchr(line, '\x1b'));
    ck_assert_ptr_nonnull(strstr(line, "Call-ID: evil\\x1b]0;owned\\x07@h"));
    fx_log_free(&log);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("sip_record");
    TCase *t = tcase_create("record");
    tcase_add_test(t, record_owns_its_bytes);
    tcase_add_test(t, format_line_like_tshark);
    tcase_add_test(t, capture_bytes_are_escaped);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return sl_check_run(suite());
}
