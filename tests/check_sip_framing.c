/* check_sip_framing.c - SIP framing over TCP and UDP: whole, cut at every
 * offset, byte by byte; keepalives, resync, caps, malformed lengths. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip_fixtures.h"
#include "sipladder/sip.h"
#include "sipladder/status.h"
#include "check_run.h"

static const sl_dissector *D = &sl_dissector_sip;

/* Join n messages (and raw extra pieces) into one buffer. */
typedef struct buf {
    uint8_t *p;
    size_t n;
} buf;

static void add(buf *b, const void *p, size_t n)
{
    b->p = realloc(b->p, b->n + n + 1);
    ck_assert_ptr_nonnull(b->p);
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void add_s(buf *b, const char *s) { add(b, s, strlen(s)); }

static void add_msg(buf *b, const char *hdrs, const char *body)
{
    size_t n;
    char *m = fx_msg(hdrs, body, &n);
    add(b, m, n);
    free(m);
}

/* Whole, every two-way cut and byte by byte must give the same events. */
static char *same_at_every_cut(const uint8_t *data, size_t len)
{
    fx_log whole = {0};
    fx_feed_whole(D, SL_TRANSPORT_TCP, data, len, &whole);
    char *ref = fx_signature(&whole);
    fx_log_free(&whole);
    for (size_t k = 1; k < len; k++) {
        fx_log cut = {0};
        fx_feed_cut(D, SL_TRANSPORT_TCP, data, len, k, &cut);
        char *sig = fx_signature(&cut);
        if (strcmp(sig, ref) != 0)
            ck_abort_msg("cut at %zu:\n%s\nwhole:\n%s", k, sig, ref);
        free(sig);
        fx_log_free(&cut);
    }
    fx_log bytes = {0};
    fx_feed_bytes(D, SL_TRANSPORT_TCP, data, len, &bytes);
    char *sig = fx_signature(&bytes);
    ck_assert_str_eq(sig, ref);
    free(sig);
    fx_log_free(&bytes);
    return ref;
}

START_TEST(probe_recognises_start_lines)
{
    const char *inv = "INVITE sip:a@b SIP/2.0\r\n", *st = "SIP/2.0 180 Ringing\r\n";
    ck_assert_int_eq(D->probe((const uint8_t *)inv, strlen(inv), SL_DIR_C2S, SL_TRANSPORT_TCP), SL_PROBE_YES);
    ck_assert_int_eq(D->probe((const uint8_t *)st, strlen(st), SL_DIR_S2C, SL_TRANSPORT_UDP), SL_PROBE_YES);
    ck_assert_int_eq(D->probe((const uint8_t *)"\r\n\r\n", 4, SL_DIR_C2S, SL_TRANSPORT_TCP), SL_PROBE_MORE);
    ck_assert_int_eq(D->probe((const uint8_t *)"INVITE sip:a", 12, SL_DIR_C2S, SL_TRANSPORT_TCP), SL_PROBE_MORE);
    ck_assert_int_eq(D->probe((const uint8_t *)"SIP/2", 5, SL_DIR_C2S, SL_TRANSPORT_TCP), SL_PROBE_MORE);
    ck_assert_int_eq(D->probe((const uint8_t *)"GET / HTTP/1.1\r\n", 16, SL_DIR_C2S, SL_TRANSPORT_TCP), SL_PROBE_NO);
    ck_assert_int_eq(D->probe((const uint8_t *)"\x16\x03\x01\x02\x00", 5, SL_DIR_C2S, SL_TRANSPORT_TCP), SL_PROBE_NO);
    ck_assert_int_eq(D->probe((const uint8_t *)"SIP/2.0 2x0 OK\r\n", 16, SL_DIR_C2S, SL_TRANSPORT_TCP), SL_PROBE_NO);
    ck_assert_int_eq(D->probe((const uint8_t *)"INVITE sip:a", 12, SL_DIR_C2S, SL_TRANSPORT_UDP), SL_PROBE_NO);
    /* Every prefix of a start line is MORE over TCP, never NO. */
    for (size_t k = 1; k < strlen(inv) - 1; k++)
        ck_assert_int_eq(D->probe((const uint8_t *)inv, k, SL_DIR_C2S, SL_TRANSPORT_TCP), SL_PROBE_MORE);
}
END_TEST

START_TEST(tcp_one_message_every_cut)
{
    buf b = {0};
    add_msg(&b, fx_invite_expressway_hdrs, fx_invite_sdp);
    char *ref = same_at_every_cut(b.p, b.n);
    fx_log log = {0};
    fx_feed_whole(D, SL_TRANSPORT_TCP, b.p, b.n, &log);
    ck_assert_uint_eq(log.n, 1);
    ck_assert_int_eq(log.ev[0].kind, SL_EV_SIP);
    ck_assert_uint_eq(log.ev[0].rec->f.body_len, strlen(fx_invite_sdp));
    ck_assert_uint_eq(log.ev[0].rec->raw_len, b.n);
    ck_assert_uint_eq(log.left_over, 0);
    fx_log_free(&log);
    /* Three segments: the span runs from the first to the third frame. */
    size_t cuts[2] = {100, 900};
    fx_feed(D, SL_TRANSPORT_TCP, NULL, b.p, b.n, cuts, 2, &log);
    ck_assert_uint_eq(fx_count(&log, SL_EV_SIP), 1);
    ck_assert_uint_eq(log.ev[0].span.first_frame, 1);
    ck_assert_uint_eq(log.ev[0].span.last_frame, 3);
    fx_log_free(&log);
    free(ref);
    free(b.p);
}
END_TEST

START_TEST(tcp_two_messages_in_one_segment_and_keepalives)
{
    buf b = {0};
    add_s(&b, "\r\n\r\n");
    add_msg(&b, fx_register_mra_hdrs, NULL);
    add_msg(&b, fx_bye_reason_hdrs, NULL);
    add_s(&b, "\r\n");
    add_msg(&b, fx_invite_expressway_hdrs, fx_invite_sdp);
    add_s(&b, "\r\n\r\n");
    char *ref = same_at_every_cut(b.p, b.n);
    fx_log log = {0};
    fx_feed_whole(D, SL_TRANSPORT_TCP, b.p, b.n, &log);
    ck_assert_uint_eq(fx_count(&log, SL_EV_SIP), 3);
    ck_assert_uint_eq(fx_count(&log, SL_EV_ANOMALY), 0);
    ck_assert_uint_eq(fx_count(&log, SL_EV_SIP_KEEPALIVE), 3);
    ck_assert_uint_eq(fx_nth(&log, SL_EV_SIP_KEEPALIVE, 0)->crlf_count, 2); /* ping */
    ck_assert_uint_eq(fx_nth(&log, SL_EV_SIP_KEEPALIVE, 1)->crlf_count, 1); /* pong */
    ck_assert(sl_sip_str_eq(fx_nth(&log, SL_EV_SIP, 1)->rec->f.method, "BYE"));
    ck_assert_uint_eq(log.left_over, 0);
    fx_log_free(&log);
    /* Byte by byte, the runs split but the CRLFs all count. */
    fx_feed_bytes(D, SL_TRANSPORT_TCP, b.p, b.n, &log);
    ck_assert_uint_eq(fx_crlfs(&log), 5);
    fx_log_free(&log);
    free(ref);
    free(b.p);
}
END_TEST

START_TEST(tcp_bare_lf_and_compact_length)
{
    const char *m = "SIP/2.0 200 OK\nv: SIP/2.0/TCP h:5060;branch=z9hG4bK1\ni: lf@h\nCSeq: 7 OPTIONS\n"
                    "f: <sip:a@h>;tag=1\nt: <sip:b@h>;tag=2\nL  :\n 3\n\nabcOPTIONS sip:h SIP/2.0\r\n"
                    "Via: SIP/2.0/TCP h:5060;branch=z9hG4bK2\r\nCall-ID: two@h\r\nCSeq: 8 OPTIONS\r\n"
                    "From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\ncontent-LENGTH: 0\r\n\r\n";
    char *ref = same_at_every_cut((const uint8_t *)m, strlen(m));
    fx_log log = {0};
    fx_feed_whole(D, SL_TRANSPORT_TCP, (const uint8_t *)m, strlen(m), &log);
    ck_assert_uint_eq(fx_count(&log, SL_EV_SIP), 2);
    ck_assert_uint_eq(fx_count(&log, SL_EV_ANOMALY), 0);
    const fx_ev *e = fx_nth(&log, SL_EV_SIP, 0);
    ck_assert_uint_eq(e->rec->f.body_len, 3);
    ck_assert_int_eq(memcmp(e->rec->f.body, "abc", 3), 0);
    ck_assert(sl_sip_str_eq(e->rec->f.call_id, "lf@h"));
    ck_assert(sl_sip_str_eq(fx_nth(&log, SL_EV_SIP, 1)->rec->f.call_id, "two@h"));
    fx_log_free(&log);
    free(ref);
}
END_TEST

START_TEST(tcp_garbage_prefix_resyncs)
{
    buf b = {0};
    add_s(&b, "pe: application/sdp\r\nContent-Length: 12\r\n\r\nv=0\r\no=x\r\n");
    add_msg(&b, fx_401_hdrs, NULL);
    char *ref = same_at_every_cut(b.p, b.n);
    fx_log log = {0};
    fx_feed_whole(D, SL_TRANSPORT_TCP, b.p, b.n, &log);
    ck_assert_uint_eq(log.n, 2);
    ck_assert_int_eq(log.ev[0].kind, SL_EV_ANOMALY);
    ck_assert_int_eq(log.ev[0].code, -SL_EMALFORMED);
    ck_assert_ptr_nonnull(strstr(log.ev[0].text, "53 bytes"));
    ck_assert_int_eq(log.ev[1].rec->f.status_code, 401);
    fx_log_free(&log);
    free(ref);
    free(b.p);
}
END_TEST

START_TEST(tcp_gap_then_resync)
{
    size_t n1, n2;
    char *m1 = fx_msg(fx_invite_expressway_hdrs, fx_invite_sdp, &n1);
    char *m2 = fx_msg(fx_404_warning_hdrs, NULL, &n2);
    fx_log log = {0};
    fx_core *c = fx_core_new(D, SL_TRANSPORT_TCP, NULL, &log);
    fx_core_push(c, SL_DIR_C2S, (const uint8_t *)m1, 300); /* head of the INVITE */
    fx_core_gap(c, SL_DIR_C2S, 500);
    buf rest = {0};
    add(&rest, m1 + 800, n1 - 800); /* its tail, then a whole 404 */
    add(&rest, m2, n2);
    fx_core_push(c, SL_DIR_C2S, rest.p, rest.n);
    fx_core_free(c);
    ck_assert_uint_eq(fx_count(&log, SL_EV_SIP), 1);
    ck_assert_int_eq(fx_nth(&log, SL_EV_SIP, 0)->rec->f.status_code, 404);
    ck_assert_uint_eq(fx_count(&log, SL_EV_ANOMALY), 1);
    ck_assert_ptr_nonnull(strstr(fx_nth(&log, SL_EV_ANOMALY, 0)->text, "skipped"));
    fx_log_free(&log);
    free(rest.p);
    free(m1);
    free(m2);
}
END_TEST

static const char no_len[] = "OPTIONS sip:h SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK3\r\nCall-ID: nl@h\r\n"
                             "CSeq: 1 OPTIONS\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\n";

START_TEST(tcp_missing_negative_and_bad_length)
{
    const char *cases[] = {"", "Content-Length: -4\r\n", "Content-Length: 4x\r\n",
                           "Content-Length: 99999999999999999999999\r\n"};
    for (size_t i = 0; i < 4; i++) {
        buf b = {0};
        add_s(&b, no_len);
        add_s(&b, cases[i]);
        add_s(&b, "\r\nabcd\r\n");
        add_msg(&b, fx_bye_reason_hdrs, NULL);
        char *ref = same_at_every_cut(b.p, b.n);
        fx_log log = {0};
        fx_feed_whole(D, SL_TRANSPORT_TCP, b.p, b.n, &log);
        /* The message, its body taken as empty; "abcd" skipped; the BYE. */
        ck_assert_uint_eq(fx_count(&log, SL_EV_SIP), 2);
        ck_assert_uint_eq(fx_nth(&log, SL_EV_SIP, 0)->rec->f.body_len, 0);
        if (fx_count(&log, SL_EV_ANOMALY) != 2)
            ck_abort_msg("case %zu: %s", i, fx_signature(&log));
        ck_assert_ptr_nonnull(strstr(fx_nth(&log, SL_EV_ANOMALY, 0)->text, i == 0 ? "without Content-Length"
                                                                                  : "not a non-negative"));
        ck_assert_ptr_nonnull(strstr(fx_nth(&log, SL_EV_ANOMALY, 1)->text, "6 bytes"));
        ck_assert(sl_sip_str_eq(fx_nth(&log, SL_EV_SIP, 1)->rec->f.method, "BYE"));
        fx_log_free(&log);
        free(ref);
        free(b.p);
    }
}
END_TEST

START_TEST(tcp_large_message_and_cap)
{
    /* 20 KB of SDP (over the 10 KB other tools choke on) in one message. */
    size_t big = 5 + 1000 * 20; /* lines end in LF, so the 404 starts a line */
    char *body = malloc(big + 1);
    ck_assert_ptr_nonnull(body);
    strcpy(body, "v=0\r\n");
    for (size_t i = 5; i < big; i += 20)
        memcpy(body + i, "a=x-padding:0123456\n", i + 20 <= big ? 20 : big - i);
    body[big] = '\0';
    buf b = {0};
    add_msg(&b, fx_invite_expressway_hdrs, body);
    add_msg(&b, fx_404_warning_hdrs, NULL);
    size_t cuts[30];
    for (size_t i = 0; i < 30; i++)
        cuts[i] = (i + 1) * 700; /* 30 segments of an MSS-ish 700 bytes */
    fx_log log = {0};
    fx_feed(D, SL_TRANSPORT_TCP, NULL, b.p, b.n, cuts, 30, &log);
    ck_assert_uint_eq(fx_count(&log, SL_EV_ANOMALY), 0);
    ck_assert_uint_eq(fx_count(&log, SL_EV_SIP), 2);
    ck_assert_uint_eq(fx_nth(&log, SL_EV_SIP, 0)->rec->f.body_len, big);
    ck_assert_uint_eq(fx_nth(&log, SL_EV_SIP, 0)->span.last_frame, (b.n - strlen(fx_404_warning_hdrs) - 21 - 1) / 700 + 1);
    fx_log_free(&log);
    /* With an 8 KB cap the Content-Length is not trusted: reported, the
     * headers still make a message, the body is skipped up to the 404. */
    sl_config cfg = {0}; /* options added later off too */
    sl_limits_default(&cfg.limits);
    cfg.limits.max_sip_message = 8192;
    fx_feed(D, SL_TRANSPORT_TCP, &cfg, b.p, b.n, cuts, 30, &log);
    if (fx_count(&log, SL_EV_SIP) != 2)
        ck_abort_msg("%s", fx_signature(&log));
    ck_assert_int_eq(fx_nth(&log, SL_EV_ANOMALY, 0)->code, -SL_ELIMIT);
    ck_assert_ptr_nonnull(strstr(fx_nth(&log, SL_EV_ANOMALY, 0)->text, "exceeds the cap"));
    /* libosip2 refuses headers whose Content-Length has no body behind it:
     * the message is kept as malformed, with its cheap fields. */
    ck_assert(fx_nth(&log, SL_EV_SIP, 0)->rec->f.malformed);
    ck_assert_uint_eq(fx_nth(&log, SL_EV_SIP, 0)->rec->f.cseq, 101);
    ck_assert_int_eq(fx_nth(&log, SL_EV_SIP, 1)->rec->f.status_code, 404);
    ck_assert_uint_eq(log.left_over, 0);
    fx_log_free(&log);
    free(body);
    free(b.p);
}
END_TEST

START_TEST(tcp_incomplete_message_is_held)
{
    size_t n;
    char *m = fx_msg(fx_invite_expressway_hdrs, fx_invite_sdp, &n);
    fx_log log = {0};
    fx_feed_whole(D, SL_TRANSPORT_TCP, (const uint8_t *)m, n - 1, &log);
    ck_assert_uint_eq(log.n, 0);
    ck_assert_uint_eq(log.left_over, n - 1); /* the core keeps it; nothing lost silently */
    fx_log_free(&log);
    free(m);
}
END_TEST

START_TEST(udp_datagrams)
{
    size_t n1, n2;
    char *m1 = fx_msg(fx_invite_expressway_hdrs, fx_invite_sdp, &n1);
    char *m2 = fx_msg(fx_401_hdrs, NULL, &n2);
    fx_log log = {0};
    fx_core *c = fx_core_new(D, SL_TRANSPORT_UDP, NULL, &log);
    fx_core_push(c, SL_DIR_C2S, (const uint8_t *)m1, n1); /* 1: a message */
    buf two = {0};
    add(&two, m2, n2);
    add(&two, m1, n1);
    fx_core_push(c, SL_DIR_S2C, two.p, two.n);               /* 2: two messages */
    fx_core_push(c, SL_DIR_C2S, (const uint8_t *)"\r\n\r\n", 4); /* 3: keepalive */
    const uint8_t stun[20] = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42};
    fx_core_push(c, SL_DIR_C2S, stun, sizeof stun);          /* 4: STUN keepalive */
    buf trail = {0};
    add(&trail, m2, n2);
    add_s(&trail, "junk");
    fx_core_push(c, SL_DIR_S2C, trail.p, trail.n);           /* 5: trailing garbage */
    fx_core_push(c, SL_DIR_C2S, (const uint8_t *)m1, n1 - 10); /* 6: body cut short */
    fx_core_push(c, SL_DIR_C2S, (const uint8_t *)"hello", 5);  /* 7: not SIP */
    fx_core_push(c, SL_DIR_C2S, (const uint8_t *)"     ", 5);  /* 8: spaces: a NAT keepalive */
    fx_core_free(c);
    ck_assert_uint_eq(fx_count(&log, SL_EV_SIP), 5);
    ck_assert_uint_eq(fx_count(&log, SL_EV_SIP_KEEPALIVE), 3);
    ck_assert_uint_eq(fx_nth(&log, SL_EV_SIP_KEEPALIVE, 0)->crlf_count, 2);
    ck_assert_uint_eq(fx_nth(&log, SL_EV_SIP_KEEPALIVE, 1)->crlf_count, 0);
    ck_assert_uint_eq(fx_count(&log, SL_EV_ANOMALY), 5);
    ck_assert_ptr_nonnull(strstr(fx_nth(&log, SL_EV_ANOMALY, 0)->text, "another SIP message"));
    ck_assert_ptr_nonnull(strstr(fx_nth(&log, SL_EV_ANOMALY, 1)->text, "4 bytes after"));
    ck_assert_ptr_nonnull(strstr(fx_nth(&log, SL_EV_ANOMALY, 2)->text, "only"));
    ck_assert_ptr_nonnull(strstr(fx_nth(&log, SL_EV_ANOMALY, 3)->text, "body shorter than its Content-Length"));
    ck_assert(fx_nth(&log, SL_EV_SIP, 4)->rec->f.malformed);
    ck_assert_ptr_nonnull(strstr(fx_nth(&log, SL_EV_ANOMALY, 4)->text, "not a SIP message"));
    ck_assert_uint_eq(fx_nth(&log, SL_EV_SIP, 0)->span.first_frame, 1);
    ck_assert_int_eq(fx_nth(&log, SL_EV_SIP, 1)->rec->f.status_code, 401);
    ck_assert_uint_eq(fx_nth(&log, SL_EV_SIP, 2)->span.first_frame, 2);
    ck_assert_int_eq(fx_nth(&log, SL_EV_SIP, 1)->dir, SL_DIR_S2C);
    ck_assert_uint_eq(fx_nth(&log, SL_EV_SIP, 4)->rec->f.body_len, strlen(fx_invite_sdp) - 10);
    fx_log_free(&log);
    free(two.p);
    free(trail.p);
    free(m1);
    free(m2);
}
END_TEST

START_TEST(malformed_is_reported_not_fatal)
{
    /* No Call-ID; a NUL in a header; a folded header; a truncated header
     * section; garbage in the request line.  Over UDP each is one datagram. */
    size_t n;
    char *nocid = fx_msg("INVITE sip:a@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK4\r\nCSeq: 1 INVITE\r\n"
                         "From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\n", NULL, &n);
    fx_log log = {0};
    fx_feed_whole(D, SL_TRANSPORT_UDP, (const uint8_t *)nocid, n, &log);
    ck_assert_uint_eq(fx_count(&log, SL_EV_SIP), 1);
    ck_assert(!fx_nth(&log, SL_EV_SIP, 0)->rec->f.malformed);
    ck_assert_ptr_null(fx_nth(&log, SL_EV_SIP, 0)->rec->f.call_id.p);
    ck_assert_ptr_nonnull(strstr(fx_nth(&log, SL_EV_ANOMALY, 0)->text, "Call-ID"));
    fx_log_free(&log);
    free(nocid);

    char nul[] = "INVITE sip:a@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK4\r\nCall-ID: a\0b@h\r\n"
                 "CSeq: 1 INVITE\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nContent-Length: 0\r\n\r\n";
    fx_feed_whole(D, SL_TRANSPORT_UDP, (const uint8_t *)nul, sizeof nul - 1, &log);
    ck_assert_uint_eq(fx_count(&log, SL_EV_SIP), 1);
    const fx_ev *e = fx_nth(&log, SL_EV_SIP, 0);
    ck_assert(e->rec->f.malformed);
    ck_assert(!e->had_osip);
    ck_assert_str_eq(e->rec->f.malformed_reason, "NUL byte in the header section");
    ck_assert_uint_eq(e->rec->f.call_id.n, 5); /* cheap fields still found */
    ck_assert_uint_eq(e->rec->f.cseq, 1);
    fx_log_free(&log);

    const char *fold = "OPTIONS sip:h SIP/2.0\r\nVia: SIP/2.0/UDP h;\r\n branch=z9hG4bK5\r\nCall-ID: f@h\r\n"
                       "CSeq: 1 OPTIONS\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nSubject: a\r\n\tb\r\n"
                       "Content-Length: 0\r\n\r\n";
    fx_feed_whole(D, SL_TRANSPORT_UDP, (const uint8_t *)fold, strlen(fold), &log);
    e = fx_nth(&log, SL_EV_SIP, 0);
    ck_assert(!e->rec->f.malformed);
    ck_assert(sl_sip_str_eq(e->rec->f.vias[0].branch, "z9hG4bK5"));
    sl_sip_str subj;
    ck_assert(sl_sip_header_get(&e->rec->f, "subject", 0, &subj));
    ck_assert(sl_sip_str_eq(subj, "a\r\n\tb"));
    ck_assert_uint_eq(fx_count(&log, SL_EV_ANOMALY), 0);
    fx_log_free(&log);

    const char *trunc = "INVITE sip:a@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK6\r\nCall-ID: t@h\r\nCSeq: 1 INV";
    fx_feed_whole(D, SL_TRANSPORT_UDP, (const uint8_t *)trunc, strlen(trunc), &log);
    e = fx_nth(&log, SL_EV_SIP, 0);
    ck_assert(e->rec->f.malformed);
    ck_assert(sl_sip_str_eq(e->rec->f.call_id, "t@h"));
    ck_assert(sl_sip_str_eq(e->rec->f.first_line, "INVITE sip:a@h SIP/2.0"));
    ck_assert_uint_ge(fx_count(&log, SL_EV_ANOMALY), 2);
    fx_log_free(&log);

    const char *badline = "INVITE sip:a@h SIP/2.0\r\nVia SIP/2.0/UDP h;branch=z9hG4bK7\r\nCall-ID: b@h\r\n\r\n";
    fx_feed_whole(D, SL_TRANSPORT_UDP, (const uint8_t *)badline, strlen(badline), &log);
    ck_assert_uint_eq(fx_count(&log, SL_EV_SIP), 1);
    ck_assert_uint_ge(fx_count(&log, SL_EV_ANOMALY), 1);
    fx_log_free(&log);
}
END_TEST

/* libosip2 judges what the record keeps the structure of (Request-URI,
 * Via, From, To, Contact, Route, Record-Route); a header read from the raw
 * lines that libosip2 would refuse does not make the message malformed. */
START_TEST(osip_judges_structured_headers_only)
{
    static const char *const cases[][2] = {
        /* message tail after the start line, expected malformed reason (NULL: not malformed) */
        {"Content-Type: application/sdp\r\nContent-Type: application/sdp\r\n", NULL},
        {"Allow: ,,,\r\nAuthorization: Digest\r\n", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char msg[512];
        snprintf(msg, sizeof msg,
                 "INVITE sip:a@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: j@h\r\n"
                 "CSeq: 1 INVITE\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\n%sContent-Length: 0\r\n\r\n",
                 cases[i][0]);
        fx_log log = {0};
        fx_feed_whole(D, SL_TRANSPORT_UDP, (const uint8_t *)msg, strlen(msg), &log);
        ck_assert_uint_eq(fx_count(&log, SL_EV_SIP), 1);
        const sl_sip_fields *f = &fx_nth(&log, SL_EV_SIP, 0)->rec->f;
        if (!cases[i][1]) {
            ck_assert_msg(!f->malformed, "case %zu: %s", i, f->malformed_reason);
            ck_assert_uint_eq(f->n_vias, 1);
            ck_assert(sl_sip_str_eq(f->from_tag, "1"));
        } else {
            ck_assert_msg(f->malformed, "case %zu", i);
            ck_assert_str_eq(f->malformed_reason, cases[i][1]);
        }
        fx_log_free(&log);
    }
    /* From and To URIs as written (tshark shows them so): inside <> past a
     * quoted display name holding '<', or an addr-spec up to its ';'. */
    const char *parties = "INVITE sip:a@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: p@h\r\n"
                          "CSeq: 1 INVITE\r\nFrom: \"a<b>\" <sip:alice@example.com;user=phone>;tag=1\r\n"
                          "To: sip:9876@fe80:0:0:0:21a:a0ff:fe07:32e0;tag=2\r\nContent-Length: 0\r\n\r\n";
    {
        fx_log plog = {0};
        fx_feed_whole(D, SL_TRANSPORT_UDP, (const uint8_t *)parties, strlen(parties), &plog);
        const sl_sip_fields *f = &fx_nth(&plog, SL_EV_SIP, 0)->rec->f;
        ck_assert(!f->malformed);
        ck_assert(sl_sip_str_eq(f->from_uri, "sip:alice@example.com;user=phone"));
        ck_assert(sl_sip_str_eq(f->from_display, "a<b>"));
        ck_assert(sl_sip_str_eq(f->from_tag, "1"));
        /* libosip2 would rebuild this one as sip:9876@[fe80:0:0:0:21a:a0ff:fe07]:32e0 */
        ck_assert(sl_sip_str_eq(f->to_uri, "sip:9876@fe80:0:0:0:21a:a0ff:fe07:32e0"));
        ck_assert(sl_sip_str_eq(f->to_tag, "2"));
        fx_log_free(&plog);
    }
    const char *bad_uri = "INVITE nocolon SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
                          "Call-ID: j@h\r\nCSeq: 1 INVITE\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\n\r\n";
    fx_log log = {0};
    fx_feed_whole(D, SL_TRANSPORT_UDP, (const uint8_t *)bad_uri, strlen(bad_uri), &log);
    ck_assert_uint_eq(fx_count(&log, SL_EV_SIP), 1);
    /* The start line is whole and the keys are there: read leniently. */
    ck_assert(!fx_nth(&log, SL_EV_SIP, 0)->rec->f.malformed);
    ck_assert_str_eq(fx_nth(&log, SL_EV_SIP, 0)->rec->f.lenient_reason, "Request-URI rejected by libosip2");
    fx_log_free(&log);
}
END_TEST

/* A line libosip2 refuses (a stray quote in a display name, which tshark
 * reads) leaves the message in its call: its keys are read by our own scan
 * and the record says so.  Without Call-ID or CSeq it is malformed. */
START_TEST(rejected_line_is_read_leniently)
{
    static const char *const lines[][2] = {
        /* the odd line, the lenient reason */
        {"From: \"Bob <sip:bob@x>;tag=1\r\nTo: <sip:b@h>;tag=2\r\n", "From header rejected by libosip2"},
        {"From: <sip:bob@x>;tag=1\r\nTo: \"Al <sip:b@h>;tag=2\r\n", "To header rejected by libosip2"},
        {"From: \"Bob <sip:bob@x>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nContact: <sip:c@h\r\n",
         "From header rejected by libosip2"},
    };
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        char msg[512];
        snprintf(msg, sizeof msg,
                 "INVITE sip:a@h SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.1:5070;branch=z9hG4bKx;rport\r\n"
                 "Call-ID: l@h\r\nCSeq: 7 INVITE\r\n%sContent-Length: 0\r\n\r\n",
                 lines[i][0]);
        fx_log log = {0};
        fx_feed_whole(D, SL_TRANSPORT_TCP, (const uint8_t *)msg, strlen(msg), &log);
        ck_assert_uint_eq(fx_count(&log, SL_EV_SIP), 1);
        const sl_sip_fields *f = &fx_nth(&log, SL_EV_SIP, 0)->rec->f;
        ck_assert_msg(!f->malformed, "case %zu: %s", i, f->malformed_reason);
        ck_assert_str_eq(f->lenient_reason, lines[i][1]);
        ck_assert(sl_sip_str_eq(f->call_id, "l@h"));
        ck_assert_uint_eq(f->cseq, 7);
        ck_assert(sl_sip_str_eq(f->from_tag, "1"));
        ck_assert(sl_sip_str_eq(f->to_tag, "2"));
        ck_assert(sl_sip_str_eq(i == 1 ? f->to_uri : f->from_uri, i == 1 ? "sip:b@h" : "sip:bob@x"));
        ck_assert_uint_eq(f->n_vias, 1);
        ck_assert(sl_sip_str_eq(f->vias[0].branch, "z9hG4bKx"));
        ck_assert(sl_sip_str_eq(f->vias[0].host, "192.0.2.1"));
        ck_assert(sl_sip_str_eq(f->vias[0].port, "5070"));
        ck_assert(sl_sip_str_eq(f->vias[0].transport, "TCP"));
        ck_assert_ptr_nonnull(strstr(fx_nth(&log, SL_EV_ANOMALY, 0)->text, "parsed leniently"));
        fx_log_free(&log);
    }
    /* A Via libosip2 refuses: read by our scan, IPv6 and several entries. */
    const char *via = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK1;x=\"a,b\", "
                      "SIP/2.0/TLS h2;branch=z9hG4bK2\r\nVia: nonsense\r\nCall-ID: v@h\r\nCSeq: 1 INVITE\r\n"
                      "From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nContent-Length: 0\r\n\r\n";
    fx_log log = {0};
    fx_feed_whole(D, SL_TRANSPORT_UDP, (const uint8_t *)via, strlen(via), &log);
    const sl_sip_fields *f = &fx_nth(&log, SL_EV_SIP, 0)->rec->f;
    ck_assert(!f->malformed);
    ck_assert_str_eq(f->lenient_reason, "Via header rejected by libosip2");
    ck_assert_uint_eq(f->n_vias, 3);
    ck_assert(sl_sip_str_eq(f->vias[0].host, "[2001:db8::1]"));
    ck_assert(sl_sip_str_eq(f->vias[0].port, "5060"));
    ck_assert(sl_sip_str_eq(f->vias[0].branch, "z9hG4bK1"));
    ck_assert(sl_sip_str_eq(f->vias[1].transport, "TLS"));
    ck_assert(sl_sip_str_eq(f->vias[1].branch, "z9hG4bK2"));
    fx_log_free(&log);
    /* No CSeq: the keys are gone, the message is malformed. */
    const char *nocseq = "INVITE sip:a@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: n@h\r\n"
                         "From: \"Bob <sip:bob@x>;tag=1\r\nTo: <sip:b@h>\r\nContent-Length: 0\r\n\r\n";
    fx_feed_whole(D, SL_TRANSPORT_UDP, (const uint8_t *)nocseq, strlen(nocseq), &log);
    f = &fx_nth(&log, SL_EV_SIP, 0)->rec->f;
    ck_assert(f->malformed);
    ck_assert_ptr_null(f->lenient_reason);
    ck_assert_str_eq(f->malformed_reason, "libosip2 rejected a Via, From, To, Contact or Route header");
    fx_log_free(&log);
    /* The one-line form says it. */
    const char *stray = "BYE sip:a@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: s@h\r\n"
                        "CSeq: 2 BYE\r\nFrom: \"Bob <sip:bob@x>;tag=1\r\nTo: <sip:b@h>;tag=2\r\n\r\n";
    fx_feed_whole(D, SL_TRANSPORT_UDP, (const uint8_t *)stray, strlen(stray), &log);
    char line[512];
    sl_sip_record_format_line(fx_nth(&log, SL_EV_SIP, 0)->rec, line, sizeof line);
    ck_assert_ptr_nonnull(strstr(line, "[parsed leniently: From header rejected by libosip2]"));
    fx_log_free(&log);
}
END_TEST

/* A cut datagram (0 < k < n bytes of a message) is reported: an anomaly,
 * and never a well-formed message; the whole one is one clean message. */
static void check_udp_prefix(const fx_log *log, size_t k, size_t n)
{
    size_t sip = fx_count(log, SL_EV_SIP), anomalies = fx_count(log, SL_EV_ANOMALY);
    if (k == 0) {
        ck_assert_uint_eq(log->n, 0);
    } else if (k == n) {
        ck_assert_uint_eq(sip, 1);
        ck_assert(!fx_nth(log, SL_EV_SIP, 0)->rec->f.malformed);
        ck_assert_uint_eq(anomalies, 0);
    } else {
        ck_assert_msg(anomalies > 0, "UDP prefix %zu of %zu: nothing reported", k, n);
        ck_assert_uint_le(sip, 1);
        if (sip)
            ck_assert_msg(fx_nth(log, SL_EV_SIP, 0)->rec->f.malformed, "UDP prefix %zu of %zu read as whole", k, n);
    }
}

/* The last k bytes of a message on TCP (its start lost): the whole message
 * is one clean message; a tail is never a malformed one (resync waits for a
 * start line), and bytes it consumed are said: a message (a start line
 * found inside, e.g. "E sip:..." whose method is the token "E"), a
 * keepalive, or an anomaly; the rest stays unconsumed for the core to count. */
static void check_tcp_suffix(const fx_log *log, size_t k, size_t n)
{
    size_t sip = fx_count(log, SL_EV_SIP);
    ck_assert_uint_le(sip, 1);
    ck_assert_uint_le(log->left_over, k);
    if (k == n) {
        ck_assert_uint_eq(sip, 1);
        ck_assert_uint_eq(log->left_over, 0);
        ck_assert_uint_eq(fx_count(log, SL_EV_ANOMALY), 0);
    }
    if (sip)
        ck_assert_msg(!fx_nth(log, SL_EV_SIP, 0)->rec->f.malformed, "TCP tail %zu of %zu malformed", k, n);
    if (log->left_over < k)
        ck_assert_msg(log->n > 0, "TCP tail %zu of %zu: %zu bytes consumed unsaid", k, n, k - log->left_over);
}

/* Every prefix of every fixture, over both transports: no crash, no leak,
 * nothing read past the end (the fake core's exact-size buffers + ASan),
 * and what each cut says (check_udp_prefix, check_tcp_suffix). */
START_TEST(every_prefix_is_safe)
{
    const char *hdrs[] = {fx_invite_expressway_hdrs, fx_404_warning_hdrs, fx_bye_reason_hdrs,
                          fx_register_mra_hdrs, fx_200_register_hdrs};
    for (size_t h = 0; h < 5; h++) {
        size_t n;
        char *m = fx_msg(hdrs[h], h == 0 ? fx_invite_sdp : NULL, &n);
        for (size_t k = 0; k <= n; k++) {
            fx_log log = {0};
            fx_feed_whole(D, SL_TRANSPORT_UDP, (const uint8_t *)m, k, &log);
            check_udp_prefix(&log, k, n);
            fx_log_free(&log);
            fx_feed_whole(D, SL_TRANSPORT_TCP, (const uint8_t *)m + (n - k), k, &log);
            check_tcp_suffix(&log, k, n);
            fx_log_free(&log);
        }
        free(m);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("sip_framing");
    TCase *t = tcase_create("framing");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, probe_recognises_start_lines);
    tcase_add_test(t, tcp_one_message_every_cut);
    tcase_add_test(t, tcp_two_messages_in_one_segment_and_keepalives);
    tcase_add_test(t, tcp_bare_lf_and_compact_length);
    tcase_add_test(t, tcp_garbage_prefix_resyncs);
    tcase_add_test(t, tcp_gap_then_resync);
    tcase_add_test(t, tcp_missing_negative_and_bad_length);
    tcase_add_test(t, tcp_large_message_and_cap);
    tcase_add_test(t, tcp_incomplete_message_is_held);
    tcase_add_test(t, udp_datagrams);
    tcase_add_test(t, malformed_is_reported_not_fatal);
    tcase_add_test(t, osip_judges_structured_headers_only);
    tcase_add_test(t, rejected_line_is_read_leniently);
    tcase_add_test(t, every_prefix_is_safe);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return sl_check_run(suite());
}
