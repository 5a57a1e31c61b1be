/* check_tcp_reasm.c - crafted and randomised segment sequences: the delivered
 * byte stream, frame maps, gaps and statistics of the TCP reassembler. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sipladder/tcp_reasm.h"

#define STREAM_MAX 8192
#define LOG_MAX 256
#define POLICY_ALL 0
#define POLICY_NEVER ((size_t)-1)
#define POLICY_RANDOM ((size_t)-2)

static uint8_t stream_byte(uint64_t off)
{
    return (uint8_t)(off * 131u + (off >> 8) * 7u + 1u);
}

static uint8_t stream[STREAM_MAX];

static void stream_init(void)
{
    for (size_t i = 0; i < STREAM_MAX; i++)
        stream[i] = stream_byte(i);
}

typedef struct gap_rec {
    uint64_t missing;
    size_t dropped;
    uint64_t frame;
} gap_rec;

/* A consumer that records everything it is offered and what it consumes. */
typedef struct rec {
    sl_reasm *r;
    size_t policy; /* POLICY_ALL, POLICY_NEVER, POLICY_RANDOM or a record size */
    unsigned rnd;
    uint8_t out[STREAM_MAX];
    uint64_t out_frame[STREAM_MAX];
    uint64_t out_off[STREAM_MAX]; /* stream offset of each consumed byte */
    size_t out_len;
    uint64_t pos; /* stream offset of the first unconsumed byte, gaps included */
    bool check_stream;
    size_t offered[LOG_MAX];
    const uint8_t *offered_ptr[LOG_MAX];
    sl_frame_mark map[LOG_MAX][8];
    size_t map_n[LOG_MAX];
    size_t n_offers;
    gap_rec gaps[LOG_MAX];
    size_t n_gaps;
    bool reenter;
} rec;

static unsigned rnd_next(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 16) & 0x7fff;
}

static size_t rec_take(rec *c, size_t len)
{
    if (c->policy == POLICY_ALL)
        return len;
    if (c->policy == POLICY_NEVER)
        return 0;
    if (c->policy == POLICY_RANDOM) {
        unsigned x = rnd_next(&c->rnd);
        return x % 4 == 0 ? 0 : x % 4 == 1 ? len : (size_t)x % (len + 1);
    }
    return len / c->policy * c->policy;
}

/* Marks sorted, first at 0, all inside the buffer, no two adjacent marks of
 * one frame (they would have been merged). */
static void check_map(const uint8_t *buf, size_t len, const sl_frame_map *map)
{
    bool ok =
        buf && len > 0 && map->n >= 1 && map->marks[0].offset == 0 && map->marks[map->n - 1].offset < len;
    for (size_t i = 1; ok && i < map->n; i++)
        ok =
            map->marks[i].offset > map->marks[i - 1].offset && map->marks[i].frame != map->marks[i - 1].frame;
    if (!ok)
        ck_abort_msg("bad offer: len %zu, %zu marks", len, map->n);
}

static size_t rec_data(void *ctx, const uint8_t *buf, size_t len, const sl_frame_map *map)
{
    rec *c = ctx;
    check_map(buf, len, map);
    if (c->n_offers < LOG_MAX) {
        c->offered[c->n_offers] = len;
        c->offered_ptr[c->n_offers] = buf;
        c->map_n[c->n_offers] = map->n;
        memcpy(c->map[c->n_offers], map->marks, (map->n < 8 ? map->n : 8) * sizeof *map->marks);
        c->n_offers++;
    }
    /* Check writes a checkpoint per assertion: in hot loops, assert only
     * on failure. */
    if (c->check_stream)
        for (size_t i = 0; i < len; i++)
            if (buf[i] != stream_byte(c->pos + i))
                ck_abort_msg("offset %llu: 0x%02x, want 0x%02x", (unsigned long long)(c->pos + i), buf[i],
                             stream_byte(c->pos + i));
    if (c->reenter) {
        sl_tcp_segment s = {.seq = 1, .data = buf, .len = (uint32_t)len, .wire_len = (uint32_t)len};
        sl_reasm_segment(c->r, &s); /* refused: must not recurse */
        sl_reasm_ack(c->r, 12345, 1);
        sl_reasm_flush(c->r, 1);
    }
    size_t k = rec_take(c, len);
    for (size_t i = 0; i < k && c->out_len < STREAM_MAX; i++) {
        c->out_frame[c->out_len] = sl_frame_map_at(map, i)->frame;
        c->out_off[c->out_len] = c->pos + i;
        c->out[c->out_len++] = buf[i];
    }
    c->pos += k;
    return k;
}

static void rec_gap(void *ctx, uint64_t missing, size_t dropped, uint64_t frame)
{
    rec *c = ctx;
    if (c->n_gaps < LOG_MAX)
        c->gaps[c->n_gaps++] = (gap_rec){missing, dropped, frame};
    c->pos += missing + dropped;
}

static rec *rec_new(size_t max_buffered, size_t policy)
{
    rec *c = calloc(1, sizeof *c);
    ck_assert_ptr_nonnull(c);
    c->policy = policy;
    c->check_stream = true;
    sl_reasm_consumer cons = {.data = rec_data, .gap = rec_gap, .ctx = c};
    c->r = sl_reasm_new(max_buffered, &cons);
    ck_assert_ptr_nonnull(c->r);
    return c;
}

static void rec_free(rec *c)
{
    sl_reasm_free(c->r);
    free(c);
}

/* Stream bytes [off, off+len) as one segment of a stream whose ISN is isn. */
static void feed_cut(rec *c, uint32_t isn, uint64_t off, uint32_t len, uint32_t wire, uint64_t frame)
{
    sl_tcp_segment s = {.seq = (uint32_t)(isn + 1 + off),
                        .data = stream + off,
                        .len = len,
                        .wire_len = wire,
                        .frame = frame,
                        .ts = (sl_time_ns)frame * 1000};
    sl_reasm_segment(c->r, &s);
}

static void feed(rec *c, uint32_t isn, uint64_t off, uint32_t len, uint64_t frame)
{
    feed_cut(c, isn, off, len, len, frame);
}

static void syn(rec *c, uint32_t isn, uint64_t frame)
{
    sl_tcp_segment s = {.seq = isn, .syn = true, .frame = frame};
    sl_reasm_segment(c->r, &s);
}

static void assert_out(const rec *c, uint64_t from, size_t len)
{
    ck_assert_uint_eq(c->out_len, len);
    ck_assert_mem_eq(c->out, stream + from, len);
}

static void assert_frames(const rec *c, size_t at, size_t n, uint64_t frame)
{
    for (size_t i = at; i < at + n; i++)
        ck_assert_msg(c->out_frame[i] == frame, "byte %zu: frame %llu, want %llu", i,
                      (unsigned long long)c->out_frame[i], (unsigned long long)frame);
}

static const sl_reasm_stats *st(const rec *c)
{
    return sl_reasm_stats_get(c->r);
}

/* ---- sl_frame_map_at -------------------------------------------------- */

START_TEST(frame_map_lookup)
{
    sl_frame_mark m[] = {{0, 10, 0}, {5, 11, 0}, {9, 12, 0}, {20, 13, 0}};
    sl_frame_map map = {m, 4};
    ck_assert_uint_eq(sl_frame_map_at(&map, 0)->frame, 10);
    ck_assert_uint_eq(sl_frame_map_at(&map, 4)->frame, 10);
    ck_assert_uint_eq(sl_frame_map_at(&map, 5)->frame, 11);
    ck_assert_uint_eq(sl_frame_map_at(&map, 8)->frame, 11);
    ck_assert_uint_eq(sl_frame_map_at(&map, 9)->frame, 12);
    ck_assert_uint_eq(sl_frame_map_at(&map, 19)->frame, 12);
    ck_assert_uint_eq(sl_frame_map_at(&map, 20)->frame, 13);
    ck_assert_uint_eq(sl_frame_map_at(&map, 1000000)->frame, 13);
    sl_frame_map one = {m, 1};
    ck_assert_uint_eq(sl_frame_map_at(&one, 77)->frame, 10);
    sl_frame_map empty = {m, 0};
    ck_assert_ptr_null(sl_frame_map_at(&empty, 0));
    ck_assert_ptr_null(sl_frame_map_at(NULL, 0));
}
END_TEST

/* ---- in order ----------------------------------------------------------- */

START_TEST(in_order_is_zero_copy)
{
    rec *c = rec_new(1000, POLICY_ALL);
    syn(c, 5000, 1);
    feed(c, 5000, 0, 10, 2);
    feed(c, 5000, 10, 20, 3);
    feed(c, 5000, 30, 5, 4);
    assert_out(c, 0, 35);
    ck_assert_uint_eq(c->n_offers, 3);
    /* Nothing buffered and exactly in order: the packet's own bytes. */
    ck_assert_ptr_eq(c->offered_ptr[0], stream + 0);
    ck_assert_ptr_eq(c->offered_ptr[1], stream + 10);
    ck_assert_ptr_eq(c->offered_ptr[2], stream + 30);
    ck_assert_uint_eq(c->map_n[1], 1);
    ck_assert_uint_eq(c->map[1][0].frame, 3);
    ck_assert_int_eq(c->map[1][0].ts, 3000);
    assert_frames(c, 0, 10, 2);
    assert_frames(c, 10, 20, 3);
    assert_frames(c, 30, 5, 4);
    ck_assert_uint_eq(st(c)->segments, 3);
    ck_assert_uint_eq(st(c)->bytes_delivered, 35);
    ck_assert_uint_eq(st(c)->retransmissions + st(c)->overlaps + st(c)->out_of_order + st(c)->gaps, 0);
    ck_assert_uint_eq(sl_reasm_buffered(c->r), 0);
    rec_free(c);
}
END_TEST

START_TEST(partial_consumer_gets_tail_again)
{
    rec *c = rec_new(1000, 10); /* whole 10-byte records only */
    syn(c, 0, 1);
    feed(c, 0, 0, 7, 2);
    ck_assert_uint_eq(sl_reasm_buffered(c->r), 7);
    feed(c, 0, 7, 7, 3);
    feed(c, 0, 14, 7, 4);
    feed(c, 0, 21, 9, 5);
    assert_out(c, 0, 30);
    ck_assert_uint_eq(sl_reasm_buffered(c->r), 0);
    /* Offers: 7 (none taken), 14 (10 taken), the rest 4 at once in case
     * the consumer takes one record per call (none taken), 4+7=11 (10
     * taken), 1 (none), 1+9=10 (all). */
    static const size_t want[] = {7, 14, 4, 11, 1, 10};
    ck_assert_uint_eq(c->n_offers, 6);
    for (size_t i = 0; i < 6; i++)
        ck_assert_uint_eq(c->offered[i], want[i]);
    ck_assert_uint_eq(c->map_n[1], 2);
    ck_assert_uint_eq(c->map[1][0].offset, 0);
    ck_assert_uint_eq(c->map[1][0].frame, 2);
    ck_assert_uint_eq(c->map[1][1].offset, 7);
    ck_assert_uint_eq(c->map[1][1].frame, 3);
    ck_assert_uint_eq(c->map_n[2], 1);
    ck_assert_uint_eq(c->map[2][0].frame, 3);
    ck_assert_uint_eq(c->map_n[3], 2);
    ck_assert_uint_eq(c->map[3][0].frame, 3);
    ck_assert_uint_eq(c->map[3][1].offset, 4);
    ck_assert_uint_eq(c->map[3][1].frame, 4);
    ck_assert_uint_eq(c->map_n[5], 2);
    ck_assert_uint_eq(c->map[5][0].frame, 4);
    ck_assert_uint_eq(c->map[5][1].offset, 1);
    ck_assert_uint_eq(c->map[5][1].frame, 5);
    assert_frames(c, 0, 7, 2);
    assert_frames(c, 7, 7, 3);
    assert_frames(c, 14, 7, 4);
    assert_frames(c, 21, 9, 5);
    ck_assert_uint_eq(st(c)->bytes_delivered, 30);
    rec_free(c);
}
END_TEST

START_TEST(marks_of_one_frame_are_merged)
{
    /* A caller without frame numbers passes the same one every time. */
    rec *c = rec_new(1000, POLICY_NEVER);
    syn(c, 0, 1);
    feed(c, 0, 0, 5, 7);
    feed(c, 0, 5, 5, 7);
    feed(c, 0, 10, 5, 8);
    ck_assert_uint_eq(c->n_offers, 3);
    ck_assert_uint_eq(c->offered[1], 10);
    ck_assert_uint_eq(c->map_n[1], 1);
    ck_assert_uint_eq(c->map_n[2], 2);
    ck_assert_uint_eq(c->map[2][1].offset, 10);
    ck_assert_uint_eq(c->map[2][1].frame, 8);
    rec_free(c);
}
END_TEST

/* A consumer that takes one 4-byte record per call is offered the rest at
 * once, and the loop stops when it takes nothing. */
static size_t one_record(void *ctx, const uint8_t *buf, size_t len, const sl_frame_map *map)
{
    (void)buf;
    (void)map;
    size_t *calls = ctx;
    (*calls)++;
    return len >= 4 ? 4 : 0;
}

START_TEST(one_record_per_call_does_not_spin)
{
    size_t calls = 0;
    sl_reasm_consumer cons = {.data = one_record, .gap = NULL, .ctx = &calls};
    sl_reasm *r = sl_reasm_new(100, &cons);
    sl_tcp_segment s = {.seq = 1, .data = stream, .len = 14, .wire_len = 14, .frame = 1};
    sl_reasm_segment(r, &s);
    ck_assert_uint_eq(calls, 4); /* 14, 10, 6 taken 4 each; 2 refused */
    ck_assert_uint_eq(sl_reasm_buffered(r), 2);
    s = (sl_tcp_segment){.seq = 15, .data = stream + 14, .len = 2, .wire_len = 2, .frame = 2};
    sl_reasm_segment(r, &s);
    ck_assert_uint_eq(calls, 5);
    ck_assert_uint_eq(sl_reasm_buffered(r), 0);
    sl_reasm_free(r);
}
END_TEST

/* ---- out of order ------------------------------------------------------ */

START_TEST(three_segments_every_order)
{
    static const int perms[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    static const uint64_t off[3] = {0, 5, 11};
    static const uint32_t len[3] = {5, 6, 7};
    for (int p = 0; p < 6; p++) {
        rec *c = rec_new(1000, POLICY_ALL);
        syn(c, 0xdeadbeef, 1);
        bool have[3] = {false, false, false};
        uint64_t want_ooo = 0;
        for (int k = 0; k < 3; k++) {
            int i = perms[p][k];
            bool hole = false;
            for (int j = 0; j < i; j++)
                hole |= !have[j];
            want_ooo += hole;
            have[i] = true;
            feed(c, 0xdeadbeef, off[i], len[i], (uint64_t)(10 + i));
        }
        assert_out(c, 0, 18);
        for (int i = 0; i < 3; i++)
            assert_frames(c, off[i], len[i], (uint64_t)(10 + i));
        ck_assert_uint_eq(st(c)->out_of_order, want_ooo);
        ck_assert_uint_eq(st(c)->bytes_delivered, 18);
        ck_assert_uint_eq(st(c)->retransmissions + st(c)->overlaps + st(c)->gaps, 0);
        ck_assert_uint_eq(sl_reasm_buffered(c->r), 0);
        rec_free(c);
    }
}
END_TEST

START_TEST(reverse_order_backlog)
{
    /* Every segment lands in front of the queue; the last one fills the
     * hole at 0 and everything comes out in order with its own frame. */
    rec *c = rec_new(1u << 20, POLICY_ALL);
    syn(c, 0xFFFFF000u, 1);
    for (uint64_t i = 700; i-- > 0;)
        feed(c, 0xFFFFF000u, i * 7, 7, 2 + i);
    assert_out(c, 0, 4900);
    for (uint64_t i = 0; i < 700; i++)
        if (c->out_frame[i * 7] != 2 + i || c->out_frame[i * 7 + 6] != 2 + i)
            ck_abort_msg("segment %llu: wrong frame", (unsigned long long)i);
    ck_assert_uint_eq(st(c)->out_of_order, 699);
    ck_assert_uint_eq(sl_reasm_buffered(c->r), 0);
    rec_free(c);
}
END_TEST

START_TEST(queued_data_is_one_offer_per_segment_with_its_frame)
{
    rec *c = rec_new(1000, 10);
    syn(c, 0, 1);
    feed(c, 0, 6, 6, 3); /* ahead of a hole: copied, not offered */
    ck_assert_uint_eq(c->n_offers, 0);
    ck_assert_uint_eq(sl_reasm_buffered(c->r), 6);
    feed(c, 0, 0, 6, 2);
    /* 6 (none taken), then 12 with two marks (10 taken), then 2 (none). */
    ck_assert_uint_eq(c->n_offers, 3);
    ck_assert_uint_eq(c->offered[2], 2);
    ck_assert_uint_eq(c->offered[1], 12);
    ck_assert_uint_eq(c->map_n[1], 2);
    ck_assert_uint_eq(c->map[1][1].offset, 6);
    ck_assert_uint_eq(c->map[1][1].frame, 3);
    ck_assert_uint_eq(sl_reasm_buffered(c->r), 2);
    assert_out(c, 0, 10);
    rec_free(c);
}
END_TEST

/* ---- retransmissions and overlaps --------------------------------------- */

START_TEST(identical_retransmissions)
{
    rec *c = rec_new(1000, POLICY_ALL);
    syn(c, 77, 1);
    feed(c, 77, 0, 10, 2);
    feed(c, 77, 0, 10, 3);  /* of delivered bytes */
    feed(c, 77, 20, 10, 4); /* queued */
    feed(c, 77, 20, 10, 5); /* of queued bytes */
    feed(c, 77, 10, 10, 6);
    assert_out(c, 0, 30);
    assert_frames(c, 20, 10, 4); /* first copy wins */
    ck_assert_uint_eq(st(c)->retransmissions, 2);
    ck_assert_uint_eq(st(c)->conflicts, 0);
    ck_assert_uint_eq(st(c)->overlaps, 0);
    ck_assert_uint_eq(st(c)->out_of_order, 1);
    ck_assert_uint_eq(st(c)->segments, 5);
    ck_assert_uint_eq(st(c)->bytes_delivered, 30);
    rec_free(c);
}
END_TEST

/* A request resent again and again with no ACK (a firewall dropped the
 * flow): every copy is kept with its bytes and the frame of the first. */
START_TEST(retransmissions_are_listed_with_their_first_copy)
{
    rec *c = rec_new(1000, POLICY_ALL);
    syn(c, 500, 1);
    feed(c, 500, 0, 40, 2);
    sl_reasm_ack(c->r, 500 + 1 + 40, 3);
    ck_assert_uint_eq(st(c)->acked, 40);
    feed(c, 500, 40, 30, 4);
    for (uint64_t f = 5; f < 5 + SL_REASM_MAX_RETX + 3; f++)
        feed(c, 500, 40, 30, f);
    ck_assert_uint_eq(st(c)->retransmissions, SL_REASM_MAX_RETX + 3);
    ck_assert_uint_eq(st(c)->n_retx, SL_REASM_MAX_RETX);
    for (uint32_t i = 0; i < st(c)->n_retx; i++) {
        const sl_reasm_retx *x = &st(c)->retx[i];
        ck_assert_uint_eq(x->frame, 5 + i);
        ck_assert_int_eq(x->ts, (sl_time_ns)(5 + i) * 1000);
        ck_assert_uint_eq(x->start, 40);
        ck_assert_uint_eq(x->end, 70);
        ck_assert_uint_eq(x->first_frame, 4);
    }
    ck_assert_uint_eq(st(c)->acked, 40); /* the resent bytes were never acknowledged */
    rec_free(c);
}
END_TEST

/* Once acknowledged, the offset says so; an old segment whose first copy
 * is long gone names no first frame; partly new segments are overlaps. */
START_TEST(retransmission_acked_and_first_copy_forgotten)
{
    rec *c = rec_new(1000, POLICY_ALL);
    syn(c, 0, 1);
    for (uint64_t i = 0; i < 12; i++)
        feed(c, 0, i * 10, 10, 2 + i); /* frames 2..13 */
    feed(c, 0, 110, 10, 14);         /* the last one again */
    sl_reasm_ack(c->r, 1 + 120, 15);
    feed(c, 0, 0, 10, 16);           /* frame 2's bytes: beyond the recent ones */
    feed(c, 0, 115, 10, 17);         /* 5 old, 5 new: an overlap, not listed */
    ck_assert_uint_eq(st(c)->retransmissions, 2);
    ck_assert_uint_eq(st(c)->overlaps, 1);
    ck_assert_uint_eq(st(c)->n_retx, 2);
    ck_assert_uint_eq(st(c)->retx[0].first_frame, 13);
    ck_assert_uint_eq(st(c)->retx[0].start, 110);
    ck_assert_uint_eq(st(c)->retx[1].frame, 16);
    ck_assert_uint_eq(st(c)->retx[1].first_frame, 0);
    ck_assert_uint_eq(st(c)->acked, 120);
    sl_reasm_ack(c->r, 1 + 100, 18); /* an older ACK does not go back */
    ck_assert_uint_eq(st(c)->acked, 120);
    rec_free(c);
}
END_TEST

START_TEST(conflicting_retransmission_of_queued_bytes)
{
    rec *c = rec_new(1000, POLICY_ALL);
    syn(c, 0, 1);
    feed(c, 0, 0, 10, 2);
    feed(c, 0, 20, 10, 3);
    uint8_t evil[10];
    memcpy(evil, stream + 20, 10);
    evil[1] ^= 0xff;
    evil[5] ^= 0x01;
    evil[9] ^= 0x80;
    sl_tcp_segment s = {.seq = 21, .data = evil, .len = 10, .wire_len = 10, .frame = 4};
    sl_reasm_segment(c->r, &s);
    s.frame = 5; /* the same conflict again: conflict_frame stays the first */
    sl_reasm_segment(c->r, &s);
    feed(c, 0, 10, 10, 6);
    assert_out(c, 0, 30); /* the first copy is what is delivered */
    ck_assert_uint_eq(st(c)->conflicts, 6);
    ck_assert_uint_eq(st(c)->conflict_frame, 4);
    ck_assert_uint_eq(st(c)->retransmissions, 2);
    rec_free(c);
}
END_TEST

START_TEST(conflicting_retransmission_of_unconsumed_tail)
{
    rec *c = rec_new(1000, POLICY_NEVER);
    syn(c, 0, 1);
    feed(c, 0, 0, 10, 2);
    uint8_t evil[4];
    memcpy(evil, stream + 4, 4);
    evil[0] ^= 1;
    sl_tcp_segment s = {.seq = 5, .data = evil, .len = 4, .wire_len = 4, .frame = 3};
    sl_reasm_segment(c->r, &s);
    ck_assert_uint_eq(st(c)->conflicts, 1);
    ck_assert_uint_eq(st(c)->conflict_frame, 3);
    ck_assert_uint_eq(st(c)->retransmissions, 1);
    ck_assert_uint_eq(sl_reasm_buffered(c->r), 10);
    /* Consumed bytes are gone: a differing copy can only be counted. */
    rec *d = rec_new(1000, POLICY_ALL);
    syn(d, 0, 1);
    feed(d, 0, 0, 10, 2);
    s.frame = 3;
    sl_reasm_segment(d->r, &s);
    ck_assert_uint_eq(st(d)->conflicts, 0);
    ck_assert_uint_eq(st(d)->retransmissions, 1);
    rec_free(c);
    rec_free(d);
}
END_TEST

START_TEST(partial_overlaps_both_sides_of_queued)
{
    rec *c = rec_new(1000, POLICY_ALL);
    c->check_stream = false; /* byte 32 is not the pattern */
    syn(c, 1000, 1);
    feed(c, 1000, 20, 10, 2); /* queued [20,30) */
    feed(c, 1000, 15, 10, 3); /* [15,25): new [15,20) */
    uint8_t mixed[10];
    memcpy(mixed, stream + 25, 10);
    mixed[0] ^= 0x55; /* offset 25: held, differs */
    mixed[7] ^= 0x55; /* offset 32: new, nothing to compare */
    sl_tcp_segment s = {.seq = 1001 + 25, .data = mixed, .len = 10, .wire_len = 10, .frame = 4};
    sl_reasm_segment(c->r, &s); /* [25,35): new [30,35) */
    ck_assert_uint_eq(st(c)->overlaps, 2);
    ck_assert_uint_eq(st(c)->conflicts, 1);
    ck_assert_uint_eq(st(c)->conflict_frame, 4);
    ck_assert_uint_eq(sl_reasm_buffered(c->r), 20);
    feed(c, 1000, 0, 15, 5);
    ck_assert_uint_eq(c->out_len, 35);
    ck_assert_mem_eq(c->out, stream, 32);
    ck_assert_uint_eq(c->out[32], mixed[7]); /* first (only) copy of byte 32 */
    ck_assert_mem_eq(c->out + 33, stream + 33, 2);
    assert_frames(c, 0, 15, 5);
    assert_frames(c, 15, 5, 3);
    assert_frames(c, 20, 10, 2);
    assert_frames(c, 30, 5, 4);
    ck_assert_uint_eq(st(c)->out_of_order, 3);
    ck_assert_uint_eq(sl_reasm_buffered(c->r), 0);
    rec_free(c);
}
END_TEST

START_TEST(segment_covering_two_queued_and_the_holes)
{
    /* In order, and ahead of a hole: both must give the same stream. */
    for (int ahead = 0; ahead < 2; ahead++) {
        rec *c = rec_new(1000, POLICY_ALL);
        syn(c, 0, 1);
        if (!ahead)
            feed(c, 0, 0, 5, 2);
        feed(c, 0, 10, 5, 3);
        feed(c, 0, 20, 5, 4);
        feed(c, 0, 5, 25, 5); /* [5,30) covers both and the holes */
        if (ahead)
            feed(c, 0, 0, 5, 2);
        assert_out(c, 0, 30);
        assert_frames(c, 0, 5, 2);
        assert_frames(c, 5, 5, 5);
        assert_frames(c, 10, 5, 3);
        assert_frames(c, 15, 5, 5);
        assert_frames(c, 20, 5, 4);
        assert_frames(c, 25, 5, 5);
        ck_assert_uint_eq(st(c)->overlaps, 1);
        ck_assert_uint_eq(st(c)->retransmissions, 0);
        ck_assert_uint_eq(st(c)->bytes_delivered, 30);
        ck_assert_uint_eq(sl_reasm_buffered(c->r), 0);
        rec_free(c);
    }
}
END_TEST

START_TEST(zero_length_segments_change_nothing)
{
    rec *c = rec_new(1000, POLICY_ALL);
    sl_tcp_segment s = {.seq = 999, .frame = 1}; /* bare ACK: no base from it */
    sl_reasm_segment(c->r, &s);
    feed(c, 4999, 0, 10, 2); /* first data: base 5000 */
    s = (sl_tcp_segment){.seq = 5005, .frame = 3};
    sl_reasm_segment(c->r, &s);
    s.seq = 5100;
    sl_reasm_segment(c->r, &s);
    feed(c, 4999, 10, 10, 4);
    sl_reasm_flush(c->r, 5);
    assert_out(c, 0, 20);
    ck_assert_uint_eq(st(c)->segments, 2);
    ck_assert_uint_eq(st(c)->gaps + st(c)->retransmissions + st(c)->out_of_order, 0);
    rec_free(c);
}
END_TEST

START_TEST(far_ahead_segment_is_ignored)
{
    rec *c = rec_new(1000, POLICY_ALL);
    syn(c, 0, 1);
    feed(c, 0, 0, 10, 2);
    sl_tcp_segment s = {.seq = 11 + (1u << 30) + 1, .data = stream, .len = 10, .wire_len = 10, .frame = 3};
    sl_reasm_segment(c->r, &s);
    ck_assert_uint_eq(sl_reasm_buffered(c->r), 0);
    s.seq = 11 + (3u << 30); /* 3 GiB ahead is 1 GiB behind: an old copy */
    sl_reasm_segment(c->r, &s);
    sl_reasm_ack(c->r, 11 + (1u << 30) + 100, 4); /* an ACK that far ahead too */
    feed(c, 0, 10, 10, 5);
    sl_reasm_flush(c->r, 6);
    assert_out(c, 0, 20);
    ck_assert_uint_eq(st(c)->gaps, 0);
    ck_assert_uint_eq(st(c)->segments, 4);
    ck_assert_uint_eq(st(c)->retransmissions, 1);
    rec_free(c);
}
END_TEST

/* ---- sequence space ----------------------------------------------------- */

START_TEST(sequence_wrap)
{
    const uint32_t isn = 0xFFFFFFF0u;
    rec *c = rec_new(1000, POLICY_ALL);
    syn(c, isn, 1);
    /* offsets 0,10,20,30: seqs 0xFFFFFFF1, 0xFFFFFFFB, 0x5, 0xF */
    feed(c, isn, 0, 10, 2);
    feed(c, isn, 20, 10, 4); /* past 2^32, ahead of a hole */
    feed(c, isn, 30, 10, 5);
    feed(c, isn, 10, 10, 3);                         /* crosses 2^32 */
    feed(c, isn, 10, 10, 6);                         /* a retransmission across the wrap */
    sl_reasm_ack(c->r, (uint32_t)(isn + 1 + 40), 7); /* nothing missing */
    feed(c, isn, 50, 10, 8);                         /* hole [40,50) */
    sl_reasm_ack(c->r, (uint32_t)(isn + 1 + 60), 9);
    ck_assert_uint_eq(c->out_len, 50);
    ck_assert_mem_eq(c->out, stream, 40);
    ck_assert_mem_eq(c->out + 40, stream + 50, 10);
    ck_assert_uint_eq(c->n_gaps, 1);
    ck_assert_uint_eq(c->gaps[0].missing, 10);
    ck_assert_uint_eq(c->gaps[0].frame, 9);
    ck_assert_uint_eq(st(c)->retransmissions, 1);
    ck_assert_uint_eq(st(c)->bytes_delivered, 50);
    assert_frames(c, 10, 10, 3);
    rec_free(c);
}
END_TEST

START_TEST(offsets_beyond_four_gib)
{
    /* 2^32 + 2^20 bytes through the zero-copy path (the same buffer again and
     * again), then a hole and a queued segment at a 64-bit offset. */
    static uint8_t chunk[65536];
    rec *c = rec_new(1u << 20, POLICY_ALL);
    c->check_stream = false;
    const uint32_t isn = 0x7FFFFFFFu;
    syn(c, isn, 1);
    uint64_t off = 0, frame = 2;
    for (; off < (UINT64_C(1) << 32) + (1u << 20); off += sizeof chunk) {
        sl_tcp_segment s = {.seq = (uint32_t)(isn + 1 + off),
                            .data = chunk,
                            .len = sizeof chunk,
                            .wire_len = sizeof chunk,
                            .frame = frame++};
        sl_reasm_segment(c->r, &s);
    }
    ck_assert_uint_eq(sl_reasm_buffered(c->r), 0);
    sl_tcp_segment s = {
        .seq = (uint32_t)(isn + 1 + off + 100), .data = chunk, .len = 50, .wire_len = 50, .frame = frame};
    sl_reasm_segment(c->r, &s);
    ck_assert_uint_eq(sl_reasm_buffered(c->r), 50);
    sl_reasm_ack(c->r, (uint32_t)(isn + 1 + off + 150), frame + 1);
    ck_assert_uint_eq(c->n_gaps, 1);
    ck_assert_uint_eq(c->gaps[0].missing, 100);
    ck_assert_uint_eq(st(c)->bytes_delivered, off + 50);
    ck_assert_uint_eq(c->pos, off + 150);
    ck_assert_uint_eq(st(c)->retransmissions + st(c)->overlaps, 0);
    rec_free(c);
}
END_TEST

START_TEST(start_mid_connection)
{
    rec *c = rec_new(1000, POLICY_ALL);
    const uint32_t isn = 3000000000u; /* stream offset 0 is seq isn+1 */
    feed(c, isn, 0, 10, 1);
    feed(c, isn, 10, 10, 2);
    /* An older segment from before the capture started: already past. */
    sl_tcp_segment s = {.seq = isn + 1 - 10, .data = stream, .len = 10, .wire_len = 10, .frame = 3};
    sl_reasm_segment(c->r, &s);
    /* Straddling the start: only its bytes from offset 0 count. */
    s = (sl_tcp_segment){.seq = isn + 1 - 5, .data = stream + 100, .len = 30, .wire_len = 30, .frame = 4};
    memcpy(stream + 105, stream, 25);
    sl_reasm_segment(c->r, &s);
    stream_init();
    assert_out(c, 0, 25);
    assert_frames(c, 20, 5, 4);
    ck_assert_uint_eq(st(c)->retransmissions, 1);
    ck_assert_uint_eq(st(c)->overlaps, 1);
    ck_assert_uint_eq(st(c)->conflicts, 0);
    rec_free(c);
}
END_TEST

START_TEST(syn_carrying_data)
{
    rec *c = rec_new(1000, POLICY_ALL);
    sl_tcp_segment s = {.seq = 100, .syn = true, .data = stream, .len = 5, .wire_len = 5, .frame = 1};
    sl_reasm_segment(c->r, &s);
    feed(c, 100, 5, 5, 2);      /* seq 106 */
    sl_reasm_segment(c->r, &s); /* SYN retransmitted with its data */
    sl_reasm_ack(c->r, 111, 3);
    assert_out(c, 0, 10);
    assert_frames(c, 0, 5, 1);
    ck_assert_uint_eq(st(c)->retransmissions, 1);
    ck_assert_uint_eq(st(c)->gaps, 0);
    rec_free(c);
}
END_TEST

START_TEST(fin_slot_is_not_a_byte)
{
    rec *c = rec_new(1000, POLICY_ALL);
    syn(c, 0, 1);
    feed(c, 0, 0, 10, 2);
    sl_tcp_segment s = {.seq = 11, .data = stream + 10, .len = 5, .wire_len = 5, .fin = true, .frame = 3};
    sl_reasm_segment(c->r, &s);
    sl_reasm_ack(c->r, 1 + 15 + 1, 4); /* acknowledges the FIN */
    sl_reasm_flush(c->r, 5);
    assert_out(c, 0, 15);
    ck_assert_uint_eq(st(c)->gaps, 0);
    rec_free(c);

    /* A FIN whose data before it was never captured: the hole is a gap. */
    c = rec_new(1000, POLICY_ALL);
    syn(c, 0, 1);
    feed(c, 0, 0, 10, 2);
    s = (sl_tcp_segment){.seq = 21, .fin = true, .frame = 3};
    sl_reasm_segment(c->r, &s);
    sl_reasm_flush(c->r, 4);
    ck_assert_uint_eq(c->n_gaps, 1);
    ck_assert_uint_eq(c->gaps[0].missing, 10);
    ck_assert_uint_eq(c->gaps[0].frame, 4);
    ck_assert_uint_eq(st(c)->gap_bytes, 10);
    rec_free(c);
}
END_TEST

/* ---- gaps --------------------------------------------------------------- */

START_TEST(ack_reveals_hole)
{
    rec *c = rec_new(1000, 10);
    syn(c, 0, 1);
    feed(c, 0, 0, 14, 2); /* 10 taken, 4 left */
    feed(c, 0, 24, 10, 3);
    feed(c, 0, 34, 10, 4);
    sl_reasm_ack(c->r, 1 + 10, 5); /* nothing we lack */
    ck_assert_uint_eq(c->n_gaps, 0);
    sl_reasm_ack(c->r, 1 + 19, 6); /* [14,19) lost: tail dropped */
    ck_assert_uint_eq(c->n_gaps, 1);
    ck_assert_uint_eq(c->gaps[0].missing, 5);
    ck_assert_uint_eq(c->gaps[0].dropped, 4);
    ck_assert_uint_eq(c->gaps[0].frame, 6);
    feed(c, 0, 19, 5, 7); /* fills the rest of the hole */
    ck_assert_uint_eq(c->n_gaps, 1);
    ck_assert_uint_eq(c->out_len, 30);
    ck_assert_mem_eq(c->out, stream, 10);
    ck_assert_mem_eq(c->out + 10, stream + 19, 20);
    ck_assert_uint_eq(sl_reasm_buffered(c->r), 5);
    ck_assert_uint_eq(st(c)->gap_bytes, 5);
    ck_assert_uint_eq(st(c)->gaps, 1);
    ck_assert_uint_eq(st(c)->bytes_delivered, 44 - 5);
    rec_free(c);
}
END_TEST

START_TEST(ack_over_several_holes)
{
    rec *c = rec_new(1000, POLICY_ALL);
    syn(c, 0, 1);
    feed(c, 0, 10, 10, 2);
    feed(c, 0, 30, 10, 3);
    sl_reasm_ack(c->r, 1 + 50, 4);
    ck_assert_uint_eq(c->n_gaps, 3);
    ck_assert_uint_eq(c->gaps[0].missing, 10);
    ck_assert_uint_eq(c->gaps[1].missing, 10);
    ck_assert_uint_eq(c->gaps[2].missing, 10);
    ck_assert_uint_eq(c->out_len, 20);
    ck_assert_mem_eq(c->out, stream + 10, 10);
    ck_assert_mem_eq(c->out + 10, stream + 30, 10);
    ck_assert_uint_eq(st(c)->gap_bytes, 30);
    ck_assert_uint_eq(c->pos, 50);
    rec_free(c);
}
END_TEST

START_TEST(flush_turns_holes_into_gaps)
{
    rec *c = rec_new(1000, POLICY_ALL);
    syn(c, 42, 1);
    feed(c, 42, 0, 10, 2);
    feed(c, 42, 20, 10, 3);
    feed(c, 42, 40, 10, 4);
    ck_assert_uint_eq(sl_reasm_buffered(c->r), 20);
    sl_reasm_flush(c->r, 9);
    ck_assert_uint_eq(c->n_gaps, 2);
    ck_assert_uint_eq(c->gaps[0].missing, 10);
    ck_assert_uint_eq(c->gaps[0].dropped, 0);
    ck_assert_uint_eq(c->gaps[0].frame, 9);
    ck_assert_uint_eq(c->gaps[1].missing, 10);
    ck_assert_uint_eq(c->out_len, 30);
    ck_assert_mem_eq(c->out, stream, 10);
    ck_assert_mem_eq(c->out + 10, stream + 20, 10);
    ck_assert_mem_eq(c->out + 20, stream + 40, 10);
    assert_frames(c, 20, 10, 4);
    ck_assert_uint_eq(sl_reasm_buffered(c->r), 0);
    ck_assert_uint_eq(st(c)->gaps, 2);
    ck_assert_uint_eq(st(c)->gap_bytes, 20);
    ck_assert_uint_eq(st(c)->bytes_delivered, 30);
    sl_reasm_flush(c->r, 10); /* idempotent */
    ck_assert_uint_eq(st(c)->gaps, 2);
    rec_free(c);
}
END_TEST

START_TEST(snaplen_cut_in_order)
{
    rec *c = rec_new(1000, POLICY_ALL);
    syn(c, 0, 1);
    feed_cut(c, 0, 0, 6, 10, 2); /* 6 captured of 10 */
    /* The gap is immediate, not at the next segment, ACK or flush. */
    ck_assert_uint_eq(c->n_gaps, 1);
    ck_assert_uint_eq(c->gaps[0].missing, 4);
    ck_assert_uint_eq(c->gaps[0].dropped, 0);
    ck_assert_uint_eq(c->gaps[0].frame, 2);
    feed(c, 0, 10, 10, 3);
    ck_assert_uint_eq(c->out_len, 16);
    ck_assert_mem_eq(c->out, stream, 6);
    ck_assert_mem_eq(c->out + 6, stream + 10, 10);
    ck_assert_uint_eq(st(c)->gap_bytes, 4);
    ck_assert_uint_eq(st(c)->bytes_delivered, 16);
    ck_assert_uint_eq(st(c)->segments, 2);
    ck_assert_uint_eq(c->pos, 20);
    rec_free(c);

    /* A partial consumer's tail cannot complete across the cut. */
    c = rec_new(1000, 4);
    syn(c, 0, 1);
    feed_cut(c, 0, 0, 6, 10, 2);
    ck_assert_uint_eq(c->n_gaps, 1);
    ck_assert_uint_eq(c->gaps[0].dropped, 2);
    ck_assert_uint_eq(sl_reasm_buffered(c->r), 0);
    rec_free(c);
}
END_TEST

START_TEST(snaplen_cut_out_of_order)
{
    rec *c = rec_new(1000, POLICY_ALL);
    syn(c, 0, 1);
    feed_cut(c, 0, 10, 6, 10, 3); /* queued: [10,16) data, [16,20) lost */
    feed(c, 0, 20, 10, 4);
    ck_assert_uint_eq(sl_reasm_buffered(c->r), 16);
    feed(c, 0, 0, 10, 2);
    ck_assert_uint_eq(c->n_gaps, 1);
    ck_assert_uint_eq(c->gaps[0].missing, 4);
    ck_assert_uint_eq(c->gaps[0].frame, 3);
    ck_assert_uint_eq(c->out_len, 26);
    ck_assert_mem_eq(c->out, stream, 16);
    ck_assert_mem_eq(c->out + 16, stream + 20, 10);
    ck_assert_uint_eq(sl_reasm_buffered(c->r), 0);
    rec_free(c);

    /* The cut bytes queued, then a full copy of them: no gap at all. */
    c = rec_new(1000, POLICY_ALL);
    syn(c, 0, 1);
    feed_cut(c, 0, 10, 2, 10, 3); /* lost [12,20) */
    feed(c, 0, 14, 4, 4);         /* real bytes in the middle of it */
    feed(c, 0, 10, 10, 5);        /* then everything */
    feed(c, 0, 0, 10, 2);
    ck_assert_uint_eq(c->n_gaps, 0);
    assert_out(c, 0, 20);
    assert_frames(c, 10, 2, 3);
    assert_frames(c, 12, 2, 5);
    assert_frames(c, 14, 4, 4);
    assert_frames(c, 18, 2, 5);
    ck_assert_uint_eq(st(c)->overlaps, 1);
    ck_assert_uint_eq(st(c)->retransmissions, 0);
    rec_free(c);
}
END_TEST

/* ---- the cap ------------------------------------------------------------ */

START_TEST(cap_with_never_consuming_consumer)
{
    rec *c = rec_new(100, POLICY_NEVER);
    syn(c, 0, 1);
    for (uint64_t i = 0; i < 10; i++) {
        feed(c, 0, i * 30, 30, 2 + i);
        ck_assert_uint_le(sl_reasm_buffered(c->r), 100);
    }
    /* Held 90, the 4th segment (frame 5) would make 120: drop 90. */
    ck_assert_uint_eq(st(c)->cap_hits, 3);
    ck_assert_uint_eq(st(c)->cap_frame, 5);
    ck_assert_uint_eq(c->n_gaps, 3);
    for (size_t g = 0; g < 3; g++) {
        ck_assert_uint_eq(c->gaps[g].missing, 0);
        ck_assert_uint_eq(c->gaps[g].dropped, 90);
    }
    ck_assert_uint_eq(c->gaps[0].frame, 5);
    ck_assert_uint_eq(sl_reasm_buffered(c->r), 30);
    ck_assert_uint_eq(st(c)->gap_bytes, 0);
    ck_assert_uint_eq(st(c)->bytes_delivered, 300);
    /* After a drop the consumer starts afresh at the segment's bytes. */
    ck_assert_ptr_eq(c->offered_ptr[3], stream + 90);
    rec_free(c);
}
END_TEST

START_TEST(cap_with_huge_out_of_order_backlog)
{
    rec *c = rec_new(1000, POLICY_ALL);
    syn(c, 0, 1);
    /* [0,100) never arrives; 100-byte segments pile up behind it. */
    for (uint64_t i = 1; i <= 30; i++) {
        feed(c, 0, i * 100, 100, 1 + i);
        ck_assert_uint_le(sl_reasm_buffered(c->r), 1000);
    }
    ck_assert_uint_eq(st(c)->cap_hits, 1);
    ck_assert_uint_eq(st(c)->cap_frame, 12); /* the 11th queued segment */
    ck_assert_uint_eq(c->n_gaps, 1);
    ck_assert_uint_eq(c->gaps[0].missing, 100);
    ck_assert_uint_eq(c->gaps[0].frame, 12);
    assert_out(c, 100, 3000);
    ck_assert_uint_eq(st(c)->gap_bytes + st(c)->bytes_delivered, 3100);
    ck_assert_uint_eq(sl_reasm_buffered(c->r), 0);
    rec_free(c);
}
END_TEST

START_TEST(cap_on_count_of_tiny_segments)
{
    /* 1-byte segments with holes between them: the byte cap is far away,
     * the entry cap (max/256 + 64 = 68) is not. */
    rec *c = rec_new(1024, POLICY_ALL);
    syn(c, 0, 1);
    for (uint64_t i = 1; i <= 200; i++) {
        feed(c, 0, 2 * i, 1, 1 + i);
        ck_assert_uint_le(sl_reasm_buffered(c->r), 68);
    }
    ck_assert_uint_ge(st(c)->cap_hits, 1);
    sl_reasm_flush(c->r, 999);
    ck_assert_uint_eq(st(c)->bytes_delivered, 200);
    ck_assert_uint_eq(st(c)->gap_bytes, 201);
    rec_free(c);
}
END_TEST

START_TEST(segment_bigger_than_cap)
{
    rec *c = rec_new(16, 10);
    syn(c, 0, 1);
    feed(c, 0, 0, 45, 2); /* 40 taken in place, 5 kept */
    ck_assert_uint_eq(sl_reasm_buffered(c->r), 5);
    ck_assert_uint_eq(c->out_len, 40);
    rec_free(c);
    c = rec_new(16, POLICY_NEVER);
    syn(c, 0, 1);
    feed(c, 0, 0, 45, 2);
    ck_assert_uint_eq(sl_reasm_buffered(c->r), 0);
    ck_assert_uint_eq(c->n_gaps, 1);
    ck_assert_uint_eq(c->gaps[0].dropped, 45);
    ck_assert_uint_eq(st(c)->cap_hits, 1);
    rec_free(c);
}
END_TEST

START_TEST(consumer_cannot_reenter)
{
    rec *c = rec_new(1000, POLICY_ALL);
    c->reenter = true;
    syn(c, 0, 1);
    feed(c, 0, 0, 10, 2);
    feed(c, 0, 20, 10, 3);
    feed(c, 0, 10, 10, 4);
    assert_out(c, 0, 30);
    ck_assert_uint_eq(st(c)->gaps, 0);
    rec_free(c);
}
END_TEST

START_TEST(free_with_everything_held)
{
    rec *c = rec_new(1000, 7);
    syn(c, 0, 1);
    feed(c, 0, 0, 10, 2);
    feed(c, 0, 20, 10, 3);
    feed_cut(c, 0, 40, 3, 10, 4);
    rec_free(c); /* ASan: nothing leaks */
    sl_reasm_free(NULL);
    sl_reasm *r = sl_reasm_new(10, NULL); /* no consumer: bytes are dropped on the floor */
    sl_tcp_segment s = {.seq = 1, .data = stream, .len = 10, .wire_len = 10};
    sl_reasm_segment(r, &s);
    ck_assert_uint_eq(sl_reasm_stats_get(r)->bytes_delivered, 10);
    sl_reasm_free(r);
}
END_TEST

/* ---- randomised --------------------------------------------------------- */

typedef struct fz_seg {
    uint64_t off;
    uint32_t len, wire;
} fz_seg;

static unsigned fz_rand(unsigned *s, unsigned n)
{
    return n ? rnd_next(s) % n : 0;
}

/* Random segmentation of [0, L): a covering split, extra overlapping
 * copies, some snaplen-cut; shuffled. */
static size_t fz_make(unsigned *s, fz_seg *v, size_t max, uint64_t L)
{
    size_t n = 0;
    for (uint64_t off = 0; off < L && n < max;) {
        uint32_t len = 1 + fz_rand(s, 300);
        if (len > L - off)
            len = (uint32_t)(L - off);
        v[n++] = (fz_seg){off, len, len};
        off += len;
    }
    size_t extra = fz_rand(s, (unsigned)n + 1);
    for (size_t i = 0; i < extra && n < max; i++) {
        uint64_t off = fz_rand(s, (unsigned)L);
        uint32_t len = 1 + fz_rand(s, 400);
        if (len > L - off)
            len = (uint32_t)(L - off);
        v[n++] = (fz_seg){off, len, len};
    }
    for (size_t i = 0; i < n; i++)
        if (fz_rand(s, 10) == 0)
            v[i].len = fz_rand(s, v[i].len);
    for (size_t i = n; i > 1; i--) {
        size_t j = fz_rand(s, (unsigned)i);
        fz_seg t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
    return n;
}

/* Every consumed byte's frame is a segment that captured that offset. */
static void fz_check_frames(const rec *c, const fz_seg *v, size_t n)
{
    for (size_t i = 0; i < c->out_len; i++) {
        uint64_t f = c->out_frame[i], off = c->out_off[i];
        if (f < 2 || f - 2 >= n)
            ck_abort_msg("byte %llu from unknown frame %llu", (unsigned long long)off, (unsigned long long)f);
        const fz_seg *g = &v[f - 2];
        if (off < g->off || off >= g->off + g->len)
            ck_abort_msg("byte %llu from frame %llu [%llu,+%u)", (unsigned long long)off,
                         (unsigned long long)f, (unsigned long long)g->off, g->len);
    }
}

START_TEST(random_segmentations_account_for_every_byte)
{
    static fz_seg v[512];
    unsigned seed = 12345;
    for (int iter = 0; iter < 3000; iter++) {
        uint64_t L = 1 + fz_rand(&seed, STREAM_MAX - 1);
        size_t n = fz_make(&seed, v, 512, L);
        unsigned pick = fz_rand(&seed, 3);
        size_t cap = pick == 0 ? 1u << 20 : pick == 1 ? 64 + fz_rand(&seed, 4000) : 1 + fz_rand(&seed, 200);
        rec *c = rec_new(cap, fz_rand(&seed, 2) ? POLICY_ALL : POLICY_RANDOM);
        c->rnd = seed;
        uint32_t isn = fz_rand(&seed, 2) ? 0xFFFFFFFFu - fz_rand(&seed, 9000) : rnd_next(&seed) << 17;
        syn(c, isn, 1);
        uint64_t sent = 0;
        for (size_t i = 0; i < n; i++) {
            feed_cut(c, isn, v[i].off, v[i].len, v[i].wire, 2 + i);
            if (v[i].off + v[i].wire > sent)
                sent = v[i].off + v[i].wire;
            if (fz_rand(&seed, 8) == 0)
                sl_reasm_ack(c->r, (uint32_t)(isn + 1 + fz_rand(&seed, (unsigned)sent + 1)), 100000 + i);
            if (sl_reasm_buffered(c->r) > cap)
                ck_abort_msg("iteration %d: %zu buffered, cap %zu", iter, sl_reasm_buffered(c->r), cap);
        }
        sl_reasm_flush(c->r, 999999);
        const sl_reasm_stats *s = st(c);
        ck_assert_uint_eq(s->bytes_delivered + s->gap_bytes, L);
        ck_assert_uint_eq(c->pos + sl_reasm_buffered(c->r), L);
        ck_assert_uint_eq(s->conflicts, 0);
        ck_assert_uint_eq(s->segments, n);
        if (cap == 1u << 20)
            ck_assert_uint_eq(s->cap_hits, 0);
        fz_check_frames(c, v, n);
        rec_free(c);
    }
}
END_TEST

static Suite *reasm_suite(void)
{
    Suite *s = suite_create("tcp_reasm");
    TCase *t = tcase_create("core");
    tcase_add_checked_fixture(t, stream_init, NULL);
    tcase_add_test(t, frame_map_lookup);
    tcase_add_test(t, in_order_is_zero_copy);
    tcase_add_test(t, partial_consumer_gets_tail_again);
    tcase_add_test(t, one_record_per_call_does_not_spin);
    tcase_add_test(t, marks_of_one_frame_are_merged);
    tcase_add_test(t, three_segments_every_order);
    tcase_add_test(t, retransmissions_are_listed_with_their_first_copy);
    tcase_add_test(t, retransmission_acked_and_first_copy_forgotten);
    tcase_add_test(t, reverse_order_backlog);
    tcase_add_test(t, queued_data_is_one_offer_per_segment_with_its_frame);
    tcase_add_test(t, identical_retransmissions);
    tcase_add_test(t, conflicting_retransmission_of_queued_bytes);
    tcase_add_test(t, conflicting_retransmission_of_unconsumed_tail);
    tcase_add_test(t, partial_overlaps_both_sides_of_queued);
    tcase_add_test(t, segment_covering_two_queued_and_the_holes);
    tcase_add_test(t, zero_length_segments_change_nothing);
    tcase_add_test(t, far_ahead_segment_is_ignored);
    tcase_add_test(t, sequence_wrap);
    tcase_add_test(t, offsets_beyond_four_gib);
    tcase_add_test(t, start_mid_connection);
    tcase_add_test(t, syn_carrying_data);
    tcase_add_test(t, fin_slot_is_not_a_byte);
    tcase_add_test(t, ack_reveals_hole);
    tcase_add_test(t, ack_over_several_holes);
    tcase_add_test(t, flush_turns_holes_into_gaps);
    tcase_add_test(t, snaplen_cut_in_order);
    tcase_add_test(t, snaplen_cut_out_of_order);
    tcase_add_test(t, cap_with_never_consuming_consumer);
    tcase_add_test(t, cap_with_huge_out_of_order_backlog);
    tcase_add_test(t, cap_on_count_of_tiny_segments);
    tcase_add_test(t, segment_bigger_than_cap);
    tcase_add_test(t, consumer_cannot_reenter);
    tcase_add_test(t, free_with_everything_held);
    tcase_add_test(t, random_segmentations_account_for_every_byte);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(reasm_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
