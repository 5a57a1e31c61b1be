/* fuzz_sip.c - the SIP framer and parser over TCP (segmented) and UDP, and
 * an owned record plus its one-line form for every message.
 *
 * Input: [mode][bytes].  mode bit 0: UDP (else TCP); bit 1: the server's
 * direction; the whole byte seeds the PRNG that cuts the bytes into TCP
 * segments or UDP datagrams (mode 0 or 1: all in one piece). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_feed.h"
#include "sipladder/sip.h"
#include "sipladder/sip_record.h"
#include "fuzz_entry.h"


static void on_event(void *ctx, const sl_event *ev)
{
    const fz_feeder *f = ctx;
    if (ev->kind != SL_EV_SIP)
        return;
    const sl_sip_msg *m = ev->u.sip;
    sl_sip_str v;
    (void)sl_sip_header_get(&m->f, "Call-ID", 0, &v);
    (void)sl_sip_header_get(&m->f, "v", 1, &v);
    (void)sl_sip_has_option(&m->f, "Supported", "X-cisco-supports-AR_SK");
    sl_sip_record *r = sl_sip_record_new(m, &ev->span, &f->flow, ev->dir);
    if (!r)
        return;
    char small[16], line[4096];
    size_t need = sl_sip_record_format_line(r, line, sizeof line);
    size_t need_small = sl_sip_record_format_line(r, small, sizeof small);
    if (need != need_small)
        abort(); /* the length needed does not depend on the buffer */
    (void)sl_sip_record_format_line_rel(r, 500, line, sizeof line);
    (void)sl_sip_record_format_line(r, NULL, 0);
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
    sl_transport t = (mode & 1) ? SL_TRANSPORT_UDP : SL_TRANSPORT_TCP;
    if (fz_feeder_init(&f, &sl_dissector_sip, t, on_event, &f) < 0)
        return 0;
    sl_dir dir = (mode & 2) ? SL_DIR_S2C : SL_DIR_C2S;
    uint32_t rng = mode * 0x01010101u;
    size_t pos = 0;
    do {
        size_t n = size - pos;
        if (mode > 1) {
            size_t cut = 1 + fz_rand(&rng) % 600;
            n = cut < n ? cut : n;
        }
        fz_feed(&f, dir, data + pos, n);
        pos += n;
    } while (pos < size);
    fz_feeder_done(&f);
    return 0;
}
