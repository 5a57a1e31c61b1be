/* check_ws.c - the WebSocket dissector (RFC 6455, SIP over WebSocket RFC
 * 7118): probe, handshake, frames (masked or not, 7/16/64-bit lengths,
 * fragments), SIP handed over with the frames that carried it, non-SIP
 * subprotocols counted, close codes, malformed frames reported and skipped,
 * every cut safe; and the capture of tests/captures/make_ws_captures.py
 * through the whole pipeline. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "sip_fixtures.h"
#include "sipladder/sip.h"
#include "sipladder/status.h"

#define D (&sl_dissector_ws)

static const char upgrade_sip[] = "GET / HTTP/1.1\r\nHost: h:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                                  "Sec-WebSocket-Protocol: sip\r\n\r\n";
static const char switching_sip[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                                    "Sec-WebSocket-Protocol: sip\r\n\r\n";

static const char reg[] = "REGISTER sip:h SIP/2.0\r\nVia: SIP/2.0/WS x.invalid;branch=z9hG4bK1\r\n"
                          "From: <sip:a@h>;tag=1\r\nTo: <sip:a@h>\r\nCall-ID: r1@x\r\nCSeq: 1 REGISTER\r\n"
                          "Content-Length: 0\r\n\r\n";
static const char ok[] = "SIP/2.0 200 OK\r\nVia: SIP/2.0/WS x.invalid;branch=z9hG4bK1\r\n"
                         "From: <sip:a@h>;tag=1\r\nTo: <sip:a@h>;tag=2\r\nCall-ID: r1@x\r\nCSeq: 1 REGISTER\r\n\r\n";

/* One frame: header (7/16/64-bit length as n needs, or `len_form` 126/127
 * to force one), the mask when `mask`, the payload masked. */
static size_t frame(uint8_t *out, uint8_t b0, bool mask, const void *payload, size_t n, int len_form)
{
    const uint8_t *p = payload;
    size_t k = 0;
    out[k++] = b0;
    uint8_t m = mask ? 0x80 : 0;
    if (len_form == 127 || n > 65535) {
        out[k++] = m | 127;
        for (int i = 7; i >= 0; i--)
            out[k++] = (uint8_t)((uint64_t)n >> (8 * i));
    } else if (len_form == 126 || n > 125) {
        out[k++] = m | 126;
        out[k++] = (uint8_t)(n >> 8);
        out[k++] = (uint8_t)n;
    } else {
        out[k++] = m | (uint8_t)n;
    }
    static const uint8_t key[4] = {0x12, 0x34, 0x56, 0x78};
    if (mask) {
        memcpy(out + k, key, 4);
        k += 4;
    }
    for (size_t i = 0; i < n; i++)
        out[k + i] = mask ? p[i] ^ key[i & 3] : p[i];
    return k + n;
}

static void push_str(fx_core *c, sl_dir dir, const char *s) { fx_core_push(c, dir, (const uint8_t *)s, strlen(s)); }

static bool any_anomaly(const fx_log *log, const char *needle)
{
    for (size_t i = 0; i < fx_count(log, SL_EV_ANOMALY); i++)
        if (strstr(fx_nth(log, SL_EV_ANOMALY, i)->text, needle))
            return true;
    return false;
}

static fx_core *handshaken(fx_log *log, const char *request, const char *response)
{
    fx_core *c = fx_core_new(D, SL_TRANSPORT_TCP, NULL, log);
    push_str(c, SL_DIR_C2S, request); /* frame 1 */
    push_str(c, SL_DIR_S2C, response); /* frame 2 */
    return c;
}

START_TEST(probe_takes_upgrades_only)
{
    const uint8_t *u = (const uint8_t *)upgrade_sip;
    ck_assert_int_eq(D->probe(u, strlen(upgrade_sip), SL_DIR_C2S, SL_TRANSPORT_TCP), SL_PROBE_YES);
    ck_assert_int_eq(D->probe(u, 20, SL_DIR_C2S, SL_TRANSPORT_TCP), SL_PROBE_MORE);
    ck_assert_int_eq(D->probe(u, 2, SL_DIR_C2S, SL_TRANSPORT_TCP), SL_PROBE_MORE);
    ck_assert_int_eq(D->probe(u, strlen(upgrade_sip), SL_DIR_C2S, SL_TRANSPORT_UDP), SL_PROBE_NO);
    const char *plain = "GET /index.html HTTP/1.1\r\nHost: h\r\n\r\n";
    ck_assert_int_eq(D->probe((const uint8_t *)plain, strlen(plain), SL_DIR_C2S, SL_TRANSPORT_TCP), SL_PROBE_NO);
    ck_assert_int_eq(D->probe((const uint8_t *)reg, strlen(reg), SL_DIR_C2S, SL_TRANSPORT_TCP), SL_PROBE_NO);
    /* The SIP dissector does not take an HTTP request. */
    ck_assert_int_eq(sl_dissector_sip.probe(u, strlen(upgrade_sip), SL_DIR_C2S, SL_TRANSPORT_TCP), SL_PROBE_NO);
}
END_TEST

START_TEST(masked_and_unmasked_sip_messages)
{
    fx_log log = {0};
    fx_core *c = handshaken(&log, upgrade_sip, switching_sip);
    uint8_t buf[1024];
    fx_core_push(c, SL_DIR_C2S, buf, frame(buf, 0x81, true, reg, strlen(reg), 0));   /* frame 3, masked */
    fx_core_push(c, SL_DIR_S2C, buf, frame(buf, 0x82, false, ok, strlen(ok), 126)); /* frame 4, binary, 16-bit */
    fx_core_free(c);
    ck_assert_uint_eq(fx_count(&log, SL_EV_SIP), 2);
    ck_assert_uint_eq(fx_count(&log, SL_EV_ANOMALY), 0);
    const fx_ev *e = fx_nth(&log, SL_EV_SIP, 0);
    ck_assert(e->rec->websocket);
    ck_assert_int_eq(e->rec->transport, SL_TRANSPORT_TCP);
    ck_assert(sl_sip_str_eq(e->rec->f.method, "REGISTER"));
    ck_assert_uint_eq(e->span.first_frame, 3);
    ck_assert_uint_eq(e->span.last_frame, 3);
    e = fx_nth(&log, SL_EV_SIP, 1);
    ck_assert_int_eq(e->dir, SL_DIR_S2C);
    ck_assert_int_eq(e->rec->f.status_code, 200);
    ck_assert(sl_sip_str_eq(e->rec->f.to_tag, "2"));
    ck_assert(!e->rec->f.malformed); /* no Content-Length: fine in a WebSocket message */
    ck_assert_uint_eq(log.left_over, 0);
    fx_log_free(&log);
}
END_TEST

/* A message in three frames (text, continuation, continuation+FIN) with a
 * ping between them, pushed one frame at a time and one byte at a time. */
START_TEST(fragmented_message_is_reassembled)
{
    size_t n = strlen(reg), k1 = n / 3, k2 = 2 * n / 3;
    uint8_t all[2048];
    size_t len = 0, ends[4];
    len += frame(all + len, 0x01, true, reg, k1, 0);
    ends[0] = len;
    len += frame(all + len, 0x89, true, "hi", 2, 0); /* ping between fragments (RFC 6455 5.4) */
    ends[1] = len;
    len += frame(all + len, 0x00, true, reg + k1, k2 - k1, 0);
    ends[2] = len;
    len += frame(all + len, 0x80, true, reg + k2, n - k2, 127); /* 64-bit form */
    ends[3] = len;
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        fx_log log = {0};
        fx_core *c = handshaken(&log, upgrade_sip, switching_sip);
        size_t prev = 0;
        for (size_t i = 0; i < 4; i++) {
            if (bytewise) {
                for (size_t b = prev; b < ends[i]; b++)
                    fx_core_push(c, SL_DIR_C2S, all + b, 1);
            } else {
                fx_core_push(c, SL_DIR_C2S, all + prev, ends[i] - prev);
            }
            prev = ends[i];
        }
        fx_core_free(c);
        ck_assert_uint_eq(fx_count(&log, SL_EV_SIP), 1);
        ck_assert_uint_eq(fx_count(&log, SL_EV_ANOMALY), 0);
        const fx_ev *e = fx_nth(&log, SL_EV_SIP, 0);
        ck_assert(sl_sip_str_eq(e->rec->f.call_id, "r1@x"));
        ck_assert_uint_eq(e->rec->raw_len, n);
        ck_assert_uint_eq(e->span.first_frame, 3);
        ck_assert_uint_eq(e->span.last_frame, bytewise ? 2 + len : 6);
        fx_log_free(&log);
    }
}
END_TEST

START_TEST(mask_rules_broken_are_reported_once)
{
    fx_log log = {0};
    fx_core *c = handshaken(&log, upgrade_sip, switching_sip);
    uint8_t buf[1024];
    fx_core_push(c, SL_DIR_C2S, buf, frame(buf, 0x81, false, reg, strlen(reg), 0));
    fx_core_push(c, SL_DIR_C2S, buf, frame(buf, 0x81, false, reg, strlen(reg), 0));
    fx_core_push(c, SL_DIR_S2C, buf, frame(buf, 0x81, true, ok, strlen(ok), 0));
    fx_core_free(c);
    ck_assert_uint_eq(fx_count(&log, SL_EV_SIP), 3); /* decoded anyway */
    ck_assert_uint_eq(fx_count(&log, SL_EV_ANOMALY), 2);
    ck_assert(any_anomaly(&log, "from the client not masked"));
    ck_assert(any_anomaly(&log, "from the server masked"));
    fx_log_free(&log);
}
END_TEST

START_TEST(malformed_frames_are_reported_and_skipped)
{
    sl_config cfg = {0};
    sl_limits_default(&cfg.limits);
    cfg.limits.max_sip_message = 300;
    uint8_t buf[2048], big[400];
    memset(big, 'x', sizeof big);
    fx_log log = {0};
    fx_core *c = fx_core_new(D, SL_TRANSPORT_TCP, &cfg, &log);
    push_str(c, SL_DIR_C2S, upgrade_sip);
    push_str(c, SL_DIR_S2C, switching_sip);
    /* Over the cap: skipped, in two pieces; the next frame is read. */
    size_t n = frame(buf, 0x81, true, big, sizeof big, 0);
    fx_core_push(c, SL_DIR_C2S, buf, 100);
    fx_core_push(c, SL_DIR_C2S, buf + 100, n - 100);
    /* Reserved opcode 3 and a fragmented ping: skipped. */
    fx_core_push(c, SL_DIR_C2S, buf, frame(buf, 0x83, true, "ab", 2, 0));
    fx_core_push(c, SL_DIR_C2S, buf, frame(buf, 0x09, true, "ab", 2, 0));
    /* A continuation with no message begun. */
    fx_core_push(c, SL_DIR_C2S, buf, frame(buf, 0x80, true, "ab", 2, 0));
    fx_core_push(c, SL_DIR_C2S, buf, frame(buf, 0x81, true, reg, strlen(reg), 0)); /* frame 8 */
    /* A 64-bit length with its top bit set: the direction is lost. */
    n = frame(buf, 0x81, true, "", 0, 127);
    buf[2] |= 0x80;
    fx_core_push(c, SL_DIR_C2S, buf, n); /* frame 9 */
    fx_core_push(c, SL_DIR_C2S, buf, frame(buf, 0x81, true, reg, strlen(reg), 0));
    fx_core_free(c);
    ck_assert_uint_eq(fx_count(&log, SL_EV_SIP), 1);
    ck_assert_uint_eq(fx_nth(&log, SL_EV_SIP, 0)->span.last_frame, 8);
    ck_assert(any_anomaly(&log, "WebSocket frame of 400 bytes longer than the cap (300 bytes): skipped"));
    ck_assert(any_anomaly(&log, "reserved opcode"));
    ck_assert(any_anomaly(&log, "control frame fragmented"));
    ck_assert(any_anomaly(&log, "continuation frame without a message begun"));
    bool found = false;
    for (size_t i = 0; i < fx_count(&log, SL_EV_ANOMALY); i++) {
        const fx_ev *e = fx_nth(&log, SL_EV_ANOMALY, i);
        if (strstr(e->text, "most significant bit")) {
            found = true;
            ck_assert_uint_eq(e->span.last_frame, 9); /* the frame is named */
            ck_assert_int_eq(e->code, -SL_EMALFORMED);
        }
    }
    ck_assert(found);
    ck_assert_uint_eq(log.left_over, 0);
    fx_log_free(&log);
}
END_TEST

START_TEST(fragmented_message_over_the_cap_is_dropped)
{
    sl_config cfg = {0};
    sl_limits_default(&cfg.limits);
    cfg.limits.max_sip_message = 300;
    uint8_t buf[1024], part[200];
    memset(part, 'y', sizeof part);
    fx_log log = {0};
    fx_core *c = fx_core_new(D, SL_TRANSPORT_TCP, &cfg, &log);
    push_str(c, SL_DIR_C2S, upgrade_sip);
    push_str(c, SL_DIR_S2C, switching_sip);
    fx_core_push(c, SL_DIR_C2S, buf, frame(buf, 0x01, true, part, sizeof part, 0));
    fx_core_push(c, SL_DIR_C2S, buf, frame(buf, 0x80, true, part, sizeof part, 0));
    fx_core_push(c, SL_DIR_C2S, buf, frame(buf, 0x81, true, reg, strlen(reg), 0));
    fx_core_free(c);
    ck_assert_uint_eq(fx_count(&log, SL_EV_SIP), 1);
    ck_assert(any_anomaly(&log, "WebSocket message from frame 3 longer than the cap"));
    fx_log_free(&log);
}
END_TEST

START_TEST(other_subprotocol_is_not_sip)
{
    char req[512], resp[512];
    snprintf(req, sizeof req, "%s", upgrade_sip);
    snprintf(resp, sizeof resp, "%s", switching_sip);
    memcpy(strstr(req, "Protocol: sip") + 10, "chat", 4); /* "sip\r" -> "chat" */
    memmove(strstr(req, "chat") + 4, "\r\n\r\n", 5);
    memcpy(strstr(resp, "Protocol: sip") + 10, "chat", 4);
    memmove(strstr(resp, "chat") + 4, "\r\n\r\n", 5);
    fx_log log = {0};
    fx_core *c = handshaken(&log, req, resp);
    uint8_t buf[1024];
    fx_core_push(c, SL_DIR_C2S, buf, frame(buf, 0x81, true, reg, strlen(reg), 0));
    fx_core_push(c, SL_DIR_C2S, buf, frame(buf, 0x81, true, reg, strlen(reg), 0));
    fx_core_free(c);
    ck_assert_uint_eq(fx_count(&log, SL_EV_SIP), 0); /* SIP-looking text, but not SIP */
    ck_assert_uint_eq(fx_count(&log, SL_EV_ANOMALY), 1);
    ck_assert(any_anomaly(&log, "websocket, not SIP (subprotocol 'chat')"));
    fx_log_free(&log);

    /* The client offers sip, the server chooses none: not SIP either. */
    snprintf(resp, sizeof resp, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                "Sec-WebSocket-Accept: x\r\n\r\n");
    c = handshaken(&log, upgrade_sip, resp);
    fx_core_push(c, SL_DIR_C2S, buf, frame(buf, 0x81, true, reg, strlen(reg), 0));
    fx_core_free(c);
    ck_assert_uint_eq(fx_count(&log, SL_EV_SIP), 0);
    ck_assert(any_anomaly(&log, "chose no subprotocol"));
    fx_log_free(&log);
}
END_TEST

START_TEST(close_codes_and_refused_upgrade)
{
    fx_log log = {0};
    fx_core *c = handshaken(&log, upgrade_sip, switching_sip);
    uint8_t buf[256];
    fx_core_push(c, SL_DIR_C2S, buf, frame(buf, 0x88, true, "\x03\xe8", 2, 0)); /* 1000: normal */
    fx_core_push(c, SL_DIR_S2C, buf, frame(buf, 0x88, false, "\x03\xf0policy\x1b", 9, 0)); /* 1008 */
    fx_core_free(c);
    ck_assert_uint_eq(fx_count(&log, SL_EV_ANOMALY), 1);
    ck_assert_str_eq(fx_nth(&log, SL_EV_ANOMALY, 0)->text,
                     "WebSocket closed by the server: 1008 (policy violation) \"policy?\"");
    ck_assert_uint_eq(fx_nth(&log, SL_EV_ANOMALY, 0)->span.last_frame, 4);
    fx_log_free(&log);

    c = handshaken(&log, upgrade_sip, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
    fx_core_push(c, SL_DIR_C2S, buf, frame(buf, 0x81, true, "x", 1, 0));
    fx_core_free(c);
    ck_assert_uint_eq(fx_count(&log, SL_EV_SIP), 0);
    ck_assert(any_anomaly(&log, "WebSocket upgrade refused by the server: HTTP/1.1 403 Forbidden"));
    fx_log_free(&log);
}
END_TEST

START_TEST(gap_stops_the_direction)
{
    fx_log log = {0};
    fx_core *c = handshaken(&log, upgrade_sip, switching_sip);
    uint8_t buf[1024];
    fx_core_gap(c, SL_DIR_C2S, 100);
    fx_core_push(c, SL_DIR_C2S, buf, frame(buf, 0x81, true, reg, strlen(reg), 0));
    fx_core_push(c, SL_DIR_S2C, buf, frame(buf, 0x81, false, ok, strlen(ok), 0));
    fx_core_free(c);
    ck_assert_uint_eq(fx_count(&log, SL_EV_SIP), 1);
    ck_assert_int_eq(fx_nth(&log, SL_EV_SIP, 0)->dir, SL_DIR_S2C);
    fx_log_free(&log);
}
END_TEST

/* A whole session cut at every byte into two pieces: no crash, nothing
 * read past the end (exact-size buffers + ASan), the same messages. */
START_TEST(every_cut_is_safe)
{
    uint8_t all[4096];
    size_t len = 0;
    len += frame(all + len, 0x01, true, reg, 40, 0);
    len += frame(all + len, 0x80, true, reg + 40, strlen(reg) - 40, 0);
    len += frame(all + len, 0x81, true, reg, strlen(reg), 126);
    len += frame(all + len, 0x88, true, "\x03\xea", 2, 0);
    size_t hs = strlen(upgrade_sip);
    uint8_t stream[8192];
    memcpy(stream, upgrade_sip, hs);
    memcpy(stream + hs, all, len);
    size_t total = hs + len;
    for (size_t k = 0; k <= total; k++) {
        fx_log log = {0};
        fx_core *c = fx_core_new(D, SL_TRANSPORT_TCP, NULL, &log);
        fx_core_push(c, SL_DIR_C2S, stream, k);
        fx_core_push(c, SL_DIR_C2S, stream + k, total - k);
        fx_core_free(c);
        ck_assert_uint_eq(fx_count(&log, SL_EV_SIP), 2);
        ck_assert(any_anomaly(&log, "1002 (protocol error)"));
        fx_log_free(&log);
        /* Only the first k bytes: never more messages, never a crash. */
        c = fx_core_new(D, SL_TRANSPORT_TCP, NULL, &log);
        fx_core_push(c, SL_DIR_C2S, stream, k);
        fx_core_free(c);
        ck_assert_uint_le(fx_count(&log, SL_EV_SIP), 2);
        fx_log_free(&log);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ws");
    TCase *t = tcase_create("ws");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, probe_takes_upgrades_only);
    tcase_add_test(t, masked_and_unmasked_sip_messages);
    tcase_add_test(t, fragmented_message_is_reassembled);
    tcase_add_test(t, mask_rules_broken_are_reported_once);
    tcase_add_test(t, malformed_frames_are_reported_and_skipped);
    tcase_add_test(t, fragmented_message_over_the_cap_is_dropped);
    tcase_add_test(t, other_subprotocol_is_not_sip);
    tcase_add_test(t, close_codes_and_refused_upgrade);
    tcase_add_test(t, gap_stops_the_direction);
    tcase_add_test(t, every_cut_is_safe);
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return sl_check_run(suite()); }
