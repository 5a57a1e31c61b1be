/* fuzz_ws.c - the WebSocket dissector (SIP over WebSocket): handshake,
 * frames, reassembly and the SIP messages handed over, over TCP cut into
 * segments; an owned record and its one-line form for every message.
 *
 * Input: [mode][bytes].  mode bit 0: a valid sip handshake (request and
 * 101) goes first, so the bytes are frames; bit 1: the bytes are the
 * server's; bit 2: a gap after the first segment; the whole byte seeds the
 * PRNG that cuts the bytes into segments (mode < 8: all in one piece). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_feed.h"
#include "sipladder/sip.h"
#include "sipladder/sip_record.h"
#include "fuzz_entry.h"

static const char upgrade[] = "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                              "Sec-WebSocket-Protocol: sip\r\n\r\n";
static const char switching[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: sip\r\n\r\n";

static void on_event(void *ctx, const sl_event *ev)
{
    const fz_feeder *f = ctx;
    if (ev->kind != SL_EV_SIP)
        return;
    if (!ev->u.sip->websocket)
        abort(); /* every message of this dissector came in WebSocket frames */
    sl_sip_record *r = sl_sip_record_new(ev->u.sip, &ev->span, &f->flow, ev->dir);
    if (!r)
        return;
    char line[4096];
    (void)sl_sip_record_format_line(r, line, sizeof line);
    sl_sip_record_free(r);
}

int FZ_ENTRY(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    fz_feeder f;
    if (fz_feeder_init(&f, &sl_dissector_ws, SL_TRANSPORT_TCP, on_event, &f) < 0)
        return 0;
    if (mode & 1) {
        fz_feed(&f, SL_DIR_C2S, (const uint8_t *)upgrade, strlen(upgrade));
        fz_feed(&f, SL_DIR_S2C, (const uint8_t *)switching, strlen(switching));
    }
    sl_dir dir = (mode & 2) ? SL_DIR_S2C : SL_DIR_C2S;
    uint32_t rng = mode * 0x01010101u;
    size_t pos = 0;
    do {
        size_t n = size - pos;
        if (mode >= 8) {
            size_t cut = 1 + fz_rand(&rng) % 600;
            n = cut < n ? cut : n;
        }
        fz_feed(&f, dir, data + pos, n);
        if ((mode & 4) && pos == 0)
            fz_gap(&f, dir, 10);
        pos += n;
    } while (pos < size);
    fz_feeder_done(&f);
    return 0;
}
