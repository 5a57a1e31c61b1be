/* fuzz_tcp_reasm.c - the TCP reassembler driven by a byte-coded sequence of
 * operations, with a consumer that consumes a fuzzer-chosen amount.
 *
 * Input: [isn, 4 bytes][cap byte] then operations, each an opcode byte:
 *   op % 4 == 0  segment: [delta hi][delta lo][len][flags]; offset is the
 *                previous segment's end plus the signed 16-bit delta;
 *                flags: 1 SYN (first segment only), 2 FIN, 4 snaplen cut
 *                (wire_len = len + 64), 8 bytes differ from the stream's
 *                (a conflicting copy), 16 no data (header only), 32 len * 16
 *   op % 4 == 1  ack: [delta hi][delta lo] from the highest end seen
 *   op % 4 == 2  flush
 *   op % 4 == 3  consumer policy: [k]: op >> 2 picks all/none/half/k/len-1
 *
 * Invariants asserted: a re-offered tail starts with the bytes not consumed
 * last time; delivered bytes equal the stream's (while no conflicting copy
 * was sent); frame maps are sorted and start at 0; consumed + dropped +
 * still offered == bytes_delivered; never more than max_buffered held
 * between calls; after the final flush, delivered + gap bytes == the highest
 * stream offset any segment or ACK reached. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sipladder/tcp_reasm.h"
#include "fuzz_entry.h"


#define FZ_MAX_SEG (255 * 16 + 64)

typedef struct fz_state {
    uint32_t base;         /* sequence number of stream offset 0 */
    bool tainted;          /* a conflicting copy was sent: content unknown */
    uint8_t policy, k;
    uint64_t pos;          /* stream offset of the first unconsumed byte */
    uint64_t consumed, dropped;
    uint8_t *offered;      /* bytes offered and not consumed last time */
    size_t n_offered;
} fz_state;

static uint8_t pattern(uint32_t seq) { return (uint8_t)(seq * 131u + 7u); }

static void check_map(const sl_frame_map *map, size_t len)
{
    if (!map || map->n == 0 || map->marks[0].offset != 0)
        abort();
    for (size_t i = 1; i < map->n; i++)
        if (map->marks[i].offset <= map->marks[i - 1].offset || map->marks[i].offset >= len)
            abort();
}

static size_t on_data(void *ctx, const uint8_t *buf, size_t len, const sl_frame_map *map)
{
    fz_state *s = ctx;
    if (len < s->n_offered || (s->n_offered && memcmp(buf, s->offered, s->n_offered) != 0))
        abort(); /* the unconsumed tail must be re-offered first, unchanged */
    check_map(map, len);
    if (!s->tainted)
        for (size_t i = 0; i < len; i++)
            if (buf[i] != pattern(s->base + (uint32_t)(s->pos + i)))
                abort();
    size_t take;
    switch (s->policy % 5) {
    case 0: take = len; break;
    case 1: take = 0; break;
    case 2: take = len / 2; break;
    case 3: take = s->k < len ? s->k : len; break;
    default: take = len ? len - 1 : 0; break;
    }
    s->consumed += take;
    s->pos += take;
    uint8_t *keep = realloc(s->offered, len - take ? len - take : 1);
    if (!keep)
        abort();
    memcpy(keep, buf + take, len - take);
    s->offered = keep;
    s->n_offered = len - take;
    return take;
}

static void on_gap(void *ctx, uint64_t missing, size_t dropped, uint64_t frame)
{
    fz_state *s = ctx;
    (void)frame;
    if (dropped != s->n_offered)
        abort(); /* what is dropped is what was offered and not consumed */
    s->dropped += dropped;
    s->pos += dropped + missing;
    s->n_offered = 0;
}

static void check_held(const sl_reasm *r, const fz_state *s, size_t cap)
{
    const sl_reasm_stats *st = sl_reasm_stats_get(r);
    if (sl_reasm_buffered(r) > cap)
        abort();
    if (s->consumed + s->dropped + s->n_offered != st->bytes_delivered)
        abort();
}

int FZ_ENTRY(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    fz_state s = {0};
    uint32_t isn = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3];
    size_t cap = 256 + (size_t)data[4] * 64;
    sl_reasm_consumer c = {on_data, on_gap, &s};
    sl_reasm *r = sl_reasm_new(cap, &c);
    uint8_t *buf = malloc(FZ_MAX_SEG);
    if (!r || !buf) {
        sl_reasm_free(r);
        free(buf);
        return 0;
    }
    bool have_base = false, fin_known = false;
    int64_t cursor = 0, top = 0, fin_off = 0;
    uint64_t frame = 0;
    size_t i = 5;
    while (i < size) {
        uint8_t op = data[i++];
        frame++;
        if (op % 4 == 0 && size - i >= 4) {
            int64_t delta = (int16_t)(uint16_t)(data[i] << 8 | data[i + 1]);
            uint32_t len = data[i + 2];
            uint8_t fl = data[i + 3];
            i += 4;
            if (fl & 32)
                len *= 16;
            bool syn = (fl & 1) && !have_base;
            int64_t off = have_base ? cursor + delta : 0;
            if (!have_base)
                s.base = syn ? isn + 1 : isn;
            uint32_t seq = s.base + (uint32_t)off - (syn ? 1u : 0u);
            for (uint32_t b = 0; b < len; b++)
                buf[b] = (uint8_t)(pattern(s.base + (uint32_t)(off + b)) ^ ((fl & 8) ? 0x55 : 0));
            uint32_t wire = (fl & 4) ? len + 64 : len;
            if (fl & 8)
                s.tainted = true;
            sl_tcp_segment seg = {.seq = seq, .data = (fl & 16) ? NULL : buf, .len = len, .wire_len = wire,
                                  .syn = syn, .fin = (fl & 2) != 0, .frame = frame,
                                  .ts = (sl_time_ns)frame};
            /* Mirror set_base: a bare segment says nothing. */
            if (syn || wire > 0 || seg.fin) {
                have_base = true;
                /* The first FIN fixes the end; a later one says nothing
                 * (first wins), and a segment without payload claims no byte. */
                if (seg.fin && !fin_known && off + wire >= 0) {
                    fin_known = true;
                    fin_off = off + wire;
                    if (fin_off > top)
                        top = fin_off;
                }
                if (wire > 0 && off + (int64_t)wire > top)
                    top = off + (int64_t)wire;
                cursor = off + (int64_t)wire;
            }
            sl_reasm_segment(r, &seg);
        } else if (op % 4 == 1 && size - i >= 2) {
            int64_t delta = (int16_t)(uint16_t)(data[i] << 8 | data[i + 1]);
            i += 2;
            int64_t a = top + delta;
            sl_reasm_ack(r, s.base + (uint32_t)a, frame);
            if (have_base) {
                if (fin_known && a > fin_off)
                    a--;
                if (a > top)
                    top = a;
            }
        } else if (op % 4 == 2) {
            sl_reasm_flush(r, frame);
        } else if (op % 4 == 3 && size - i >= 1) {
            s.policy = op >> 2;
            s.k = data[i++];
        } else {
            break;
        }
        check_held(r, &s, cap);
    }
    sl_reasm_flush(r, frame + 1);
    check_held(r, &s, cap);
    const sl_reasm_stats *st = sl_reasm_stats_get(r);
    if (have_base && st->bytes_delivered + st->gap_bytes != (uint64_t)top)
        abort(); /* every byte up to the highest offset is delivered or a gap */
    sl_reasm_free(r);
    free(buf);
    free(s.offered);
    return 0;
}
