/* check_sdp.c - the SDP summary: every field, hostile bodies, every prefix. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip_fixtures.h"
#include "sipladder/sdp.h"
#include "sipladder/status.h"
#include "check_run.h"

START_TEST(expressway_offer)
{
    sl_sdp_summary s;
    ck_assert_int_eq(sl_sdp_summary_parse(fx_invite_sdp, strlen(fx_invite_sdp), &s), 0);
    ck_assert_str_eq(s.origin_addr, "1.1.1.1");
    ck_assert_str_eq(s.conn_addr, "1.1.1.1");
    ck_assert_int_eq(s.bw_as, 1024);
    ck_assert_int_eq(s.bw_tias, -1);
    ck_assert_int_eq(s.direction, SL_SDP_DIR_UNSET);
    ck_assert(s.crypto);
    ck_assert_uint_eq(s.n_bad_lines, 0);
    ck_assert_uint_eq(s.n_dropped, 0);
    ck_assert_uint_eq(s.n_media, 3);

    const sl_sdp_media *a = &s.media[0];
    ck_assert_str_eq(a->media, "audio");
    ck_assert_uint_eq(a->port, 57004);
    ck_assert_str_eq(a->proto, "RTP/SAVP");
    ck_assert_str_eq(a->conn_addr, "1.1.1.2");
    ck_assert_int_eq(a->bw_tias, 64000);
    ck_assert_int_eq(a->bw_as, -1);
    ck_assert(a->crypto);
    ck_assert_int_eq(a->direction, SL_SDP_SENDRECV);
    ck_assert_uint_eq(a->n_formats, 4);
    ck_assert_int_eq(a->formats[0].pt, 0);
    ck_assert_str_eq(a->formats[0].codec, "PCMU/8000");
    ck_assert_str_eq(a->formats[2].codec, "G729/8000");
    ck_assert_int_eq(a->formats[3].pt, 101);
    ck_assert_str_eq(a->formats[3].codec, "telephone-event/8000");

    const sl_sdp_media *v = &s.media[1];
    ck_assert_str_eq(v->media, "video");
    ck_assert_uint_eq(v->port, 57006);
    ck_assert_int_eq(v->bw_tias, 960000);
    ck_assert_str_eq(v->conn_addr, "");
    ck_assert(!v->crypto);
    ck_assert_str_eq(v->formats[0].codec, "H264/90000");
    ck_assert_int_eq(sl_sdp_media_direction(&s, 1), SL_SDP_RECVONLY);

    const sl_sdp_media *b = &s.media[2];
    ck_assert_str_eq(b->media, "application");
    ck_assert_uint_eq(b->port, 0); /* refused */
    ck_assert_str_eq(b->proto, "UDP/BFCP");
    ck_assert_uint_eq(b->n_formats, 1);
    ck_assert_int_eq(b->formats[0].pt, -1);
    ck_assert_str_eq(b->formats[0].fmt, "*");
    ck_assert_int_eq(sl_sdp_media_direction(&s, 2), SL_SDP_SENDRECV); /* RFC 3264 default */
    ck_assert_str_eq(sl_sdp_direction_name(SL_SDP_INACTIVE), "inactive");
    sl_sdp_summary_free(&s);
    sl_sdp_summary_free(&s); /* twice is safe */
    sl_sdp_summary_free(NULL);
}
END_TEST

START_TEST(session_direction_ipv6_and_ports)
{
    const char *b = "v=0\no=- 1 1 IN IP6 2001:db8::1\ns=-\nc=IN IP6 2001:db8::2\nb=TIAS:128000\na=inactive\n"
                    "t=0 0\nm=audio 49170/2 RTP/AVP 8\nm=image 5004 udptl t38\na=sendonly\nm=audio 70000 RTP/AVP 0\n";
    sl_sdp_summary s;
    ck_assert_int_eq(sl_sdp_summary_parse(b, strlen(b), &s), 0);
    ck_assert_str_eq(s.origin_addr, "2001:db8::1");
    ck_assert_str_eq(s.conn_addr, "2001:db8::2");
    ck_assert_int_eq(s.bw_tias, 128000);
    ck_assert_int_eq(s.direction, SL_SDP_INACTIVE);
    ck_assert(!s.crypto);
    ck_assert_uint_eq(s.n_media, 3);
    ck_assert_uint_eq(s.media[0].port, 49170);
    ck_assert_int_eq(sl_sdp_media_direction(&s, 0), SL_SDP_INACTIVE); /* inherits the session's */
    ck_assert_str_eq(s.media[1].formats[0].fmt, "t38");
    ck_assert_int_eq(sl_sdp_media_direction(&s, 1), SL_SDP_SENDONLY);
    ck_assert_uint_eq(s.n_bad_lines, 1); /* port 70000 */
    sl_sdp_summary_free(&s);
}
END_TEST

START_TEST(hostile_bodies)
{
    sl_sdp_summary s;
    ck_assert_int_eq(sl_sdp_summary_parse("hello", 5, &s), -SL_EMALFORMED);
    ck_assert_uint_eq(s.n_media, 0);
    sl_sdp_summary_free(&s);
    ck_assert_int_eq(sl_sdp_summary_parse(NULL, 0, &s), -SL_EMALFORMED);
    sl_sdp_summary_free(&s);

    /* NUL bytes, junk lines, an rtpmap before any m=, a huge c= address,
     * a payload type over 127, and m= lines over the cap. */
    char b[8192];
    size_t n = 0;
    const char head[] = "v=0\r\nc=IN IP4 \0\0x\r\njunk\r\na=rtpmap:0 PCMU/8000\r\n"
                        "c=IN IP4 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
                        "m=audio 1 RTP/AVP 200 0\r\na=rtpmap:200 X/1\r\nb=AS:99999999999999999999999\r\n";
    memcpy(b, head, sizeof head - 1);
    n = sizeof head - 1;
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(b + n, sizeof b - n, "m=video %d RTP/AVP 96\r\n", 1000 + i);
    ck_assert_int_eq(sl_sdp_summary_parse(b, n, &s), 0);
    ck_assert_uint_eq(s.n_media, SL_SDP_MAX_MEDIA);
    ck_assert_uint_eq(s.n_dropped, 41 - SL_SDP_MAX_MEDIA);
    ck_assert_uint_eq(strlen(s.conn_addr), sizeof s.conn_addr - 1); /* cut, NUL-terminated */
    ck_assert_int_eq(s.media[0].formats[0].pt, -1);                 /* 200 is no RTP payload type */
    ck_assert_int_eq(s.media[0].bw_as, -1);
    ck_assert_uint_ge(s.n_bad_lines, 3);
    sl_sdp_summary_free(&s);

    /* Every prefix of a real body: nothing read past its end (ASan). */
    size_t len = strlen(fx_invite_sdp);
    for (size_t k = 0; k <= len; k++) {
        char *cut = malloc(k ? k : 1);
        ck_assert_ptr_nonnull(cut);
        memcpy(cut, fx_invite_sdp, k);
        int rc = sl_sdp_summary_parse(cut, k, &s);
        ck_assert(rc == 0 || rc == -SL_EMALFORMED);
        ck_assert_uint_le(s.n_media, 3);
        sl_sdp_summary_free(&s);
        free(cut);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("sdp");
    TCase *t = tcase_create("sdp");
    tcase_add_test(t, expressway_offer);
    tcase_add_test(t, session_direction_ipv6_and_ports);
    tcase_add_test(t, hostile_bodies);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return sl_check_run(suite());
}
