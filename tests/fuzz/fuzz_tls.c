/* fuzz_tls.c - the TLS dissector on both directions of one connection.
 *
 * Input: [seed][c2s length, 2 bytes big-endian][c2s bytes][s2c bytes].  The
 * seed drives a PRNG that cuts both streams into chunks, interleaves them,
 * sometimes declares a gap, and picks how the connection ended.  Every event
 * also goes to an sl_tls_session; then the outcome is concluded and the
 * session rendered to /dev/null. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fuzz_feed.h"
#include "sipladder/render_tls.h"
#include "sipladder/tls.h"
#include "sipladder/tls_session.h"
#include "fuzz_entry.h"


static void on_event(void *ctx, const sl_event *ev)
{
    (void)sl_tls_session_add_event(ctx, ev);
}

/* Feed one chunk of direction d (or skip it as a gap); advances *pos. */
static void step(fz_feeder *f, sl_dir d, const uint8_t *p, size_t len, size_t *pos, uint32_t *rng, uint8_t seed)
{
    size_t left = len - *pos;
    size_t n = seed == 0 ? left : 1 + fz_rand(rng) % 300;
    if (n > left)
        n = left;
    if (seed != 0 && fz_rand(rng) % 97 == 0)
        fz_gap(f, d, n);
    else
        fz_feed(f, d, p + *pos, n);
    *pos += n;
}

int FZ_ENTRY(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    uint8_t seed = data[0];
    size_t c2s_len = (size_t)data[1] << 8 | data[2];
    const uint8_t *p = data + 3;
    size_t rest = size - 3;
    if (c2s_len > rest)
        c2s_len = rest;
    const uint8_t *c2s = p, *s2c = p + c2s_len;
    size_t s2c_len = rest - c2s_len;

    sl_tls_session *s = sl_tls_session_new();
    fz_feeder f;
    if (!s || fz_feeder_init(&f, &sl_dissector_tls, SL_TRANSPORT_TCP, on_event, s) < 0) {
        sl_tls_session_free(s);
        return 0;
    }
    uint32_t rng = seed * 0x01010101u;
    size_t pos[2] = {0, 0};
    while (pos[0] < c2s_len || pos[1] < s2c_len) {
        /* Prefer the client first, as a handshake goes, but let the seed mix. */
        sl_dir d = pos[0] < c2s_len ? SL_DIR_C2S : SL_DIR_S2C;
        if (seed != 0 && pos[0] < c2s_len && pos[1] < s2c_len && fz_rand(&rng) % 2)
            d = SL_DIR_S2C;
        if (d == SL_DIR_C2S)
            step(&f, d, c2s, c2s_len, &pos[0], &rng, seed);
        else
            step(&f, d, s2c, s2c_len, &pos[1], &rng, seed);
    }
    sl_tcp_end end = {.kind = (sl_tcp_end_kind)(seed % 3), .by = (seed & 4) ? SL_DIR_S2C : SL_DIR_C2S,
                      .frame = f.frame + 1, .ts = (sl_time_ns)(f.frame + 1) * 1000};
    sl_tls_options opts = {.expect_name = (seed & 8) ? "sip.example.com" : NULL};
    sl_tls_outcome out;
    if (sl_tls_session_outcome(s, &end, &opts, &out) == 0) {
        FILE *null = fz_devnull();
        sl_render_tls_session(null, s, &out, "192.0.2.1:50000", (seed & 16) ? NULL : "192.0.2.2:5061");
        sl_render_tls_session(null, s, NULL, NULL, NULL);
        fclose(null);
    }
    fz_feeder_done(&f);
    sl_tls_session_free(s);
    return 0;
}
