/* tcp_reasm.c - one direction of a TCP stream put back in order (RFC 9293
 * sequence space), protocol-agnostic.
 *
 * Model.  Sequence numbers are unwrapped to 64-bit stream offsets relative to
 * the base (ISN+1 after a SYN, else the first segment's seq).  `next` is the
 * offset of the first byte not yet handed to the consumer.  Two stores:
 *
 *   tail   bytes [next - tail_len, next): delivered but not consumed, kept
 *          contiguous so the consumer is re-offered them with more;
 *   queue  sorted, non-overlapping entries at offsets > next: out-of-order
 *          data (copied) and "lost" ranges (snaplen-cut bytes, no data).
 *
 * First copy wins: a byte held (tail or queue) is never replaced by a later
 * copy; differing later copies are counted as conflicts.  The one exception
 * is a queued lost range: real bytes that arrive for it replace it, since
 * "never captured" only described the first copy.
 *
 * Window.  Offsets are unwrapped around `next` (+/- 2 GiB).  A segment or ACK
 * more than SL_REASM_WINDOW (1 GiB) ahead of `next` cannot belong to this
 * stream's sane window (TCP windows are at most 1 GiB, RFC 7323 2.3): it is
 * treated as foreign/broken and ignored (counted in `segments` only) rather
 * than allowed to declare a gigabyte-sized gap.  Segments behind `next` are
 * retransmissions of old bytes.  Bytes before offset 0 (a capture that
 * started mid-connection, then saw an earlier segment) are treated as
 * already seen: the consumer is past them.
 *
 * ACKs are trusted when seen: in a capture whose frames are out of time
 * order (merged interfaces), an ACK can precede the data it covers; that
 * data then arrives behind `next` and counts as a retransmission after the
 * gap.  Wireshark's Follow TCP Stream, which reorders without bound, keeps
 * it (corpus: sip-tls-5061-appdata-only-nonmonotonic, 394 bytes).
 *
 * Cap.  tail_len + queued bytes <= max_buffered between calls (one segment
 * may sit above it for the duration of a call).  Queue entries are also
 * capped in number (max_buffered / SL_REASM_MIN_AVG_SEG + 64) so that a flood
 * of 1-byte segments cannot turn the byte cap into a much larger memory use. */
#include "sipladder/tcp_reasm.h"

#include <stdlib.h>
#include <string.h>

#define SL_REASM_WINDOW (UINT64_C(1) << 30)
#define SL_REASM_MIN_AVG_SEG 256
#define SL_REASM_MIN_ALLOC 1024
/* In-order segments remembered (frame and offsets) to name the first copy
 * of a retransmission: a resent segment is nearly always one of the last. */
#define SL_REASM_RECENT 8

typedef struct recent_segment {
    uint64_t start, end, frame;
} recent_segment;

typedef struct reasm_entry {
    uint64_t off;
    uint32_t len;
    bool lost; /* snaplen-cut: these bytes were never captured */
    uint64_t frame;
    sl_time_ns ts;
    uint8_t *data; /* owned; NULL when lost */
} reasm_entry;

struct sl_reasm {
    sl_reasm_consumer consumer;
    size_t max_buffered;
    size_t max_entries;
    sl_reasm_stats stats;
    bool have_base, fin_known, busy;
    uint32_t base;    /* sequence number of stream offset 0 */
    uint64_t next;    /* first stream offset not yet delivered */
    uint64_t fin_off; /* stream offset of the FIN's sequence slot */
    /* Unconsumed tail: bytes at tail + tail_start, marks relative to it. */
    uint8_t *tail;
    size_t tail_start, tail_len, tail_cap;
    sl_frame_mark *marks;
    size_t n_marks, marks_cap;
    /* Out-of-order queue: entries q[q_head .. q_head + q_len). */
    reasm_entry *q;
    size_t q_head, q_len, q_cap;
    size_t q_bytes;
    /* The last SL_REASM_RECENT delivered pieces, a ring (recent_n: how many). */
    recent_segment recent[SL_REASM_RECENT];
    size_t recent_at, recent_n;
};

const sl_frame_mark *sl_frame_map_at(const sl_frame_map *map, size_t offset)
{
    if (!map || map->n == 0 || !map->marks || offset < map->marks[0].offset)
        return NULL;
    size_t lo = 0, hi = map->n; /* answer in [lo, hi) */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (map->marks[mid].offset <= offset)
            lo = mid;
        else
            hi = mid;
    }
    return &map->marks[lo];
}

sl_reasm *sl_reasm_new(size_t max_buffered, const sl_reasm_consumer *consumer)
{
    sl_reasm *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    if (consumer)
        r->consumer = *consumer;
    r->max_buffered = max_buffered;
    r->max_entries = max_buffered / SL_REASM_MIN_AVG_SEG + 64;
    return r;
}

void sl_reasm_free(sl_reasm *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->q_len; i++)
        free(r->q[r->q_head + i].data);
    free(r->q);
    free(r->marks);
    free(r->tail);
    free(r);
}

const sl_reasm_stats *sl_reasm_stats_get(const sl_reasm *r)
{
    return r ? &r->stats : NULL;
}

size_t sl_reasm_buffered(const sl_reasm *r)
{
    return r ? r->tail_len + r->q_bytes : 0;
}

/* ---- the unconsumed tail ---------------------------------------------- */

static void tail_clear(sl_reasm *r)
{
    r->tail_start = 0;
    r->tail_len = 0;
    r->n_marks = 0;
}

/* Room for n more bytes at the end of the tail: compact first, grow
 * geometrically only when the live bytes do not fit. */
static int tail_reserve(sl_reasm *r, size_t n)
{
    if (n <= r->tail_cap - r->tail_start - r->tail_len)
        return 0;
    if (r->tail_len > 0 && r->tail_start > 0)
        memmove(r->tail, r->tail + r->tail_start, r->tail_len);
    r->tail_start = 0;
    if (n <= r->tail_cap - r->tail_len)
        return 0;
    if (n > SIZE_MAX / 2 - r->tail_len)
        return -1;
    size_t want = r->tail_cap ? r->tail_cap : SL_REASM_MIN_ALLOC;
    while (want < r->tail_len + n)
        want *= 2;
    uint8_t *p = realloc(r->tail, want);
    if (!p)
        return -1;
    r->tail = p;
    r->tail_cap = want;
    return 0;
}

static int marks_push(sl_reasm *r, size_t offset, uint64_t frame, sl_time_ns ts)
{
    if (r->n_marks > 0 && r->marks[r->n_marks - 1].frame == frame)
        return 0; /* consecutive bytes of the same frame: one mark */
    if (r->n_marks == r->marks_cap) {
        size_t want = r->marks_cap ? r->marks_cap * 2 : 16;
        sl_frame_mark *m = realloc(r->marks, want * sizeof *m);
        if (!m)
            return -1;
        r->marks = m;
        r->marks_cap = want;
    }
    r->marks[r->n_marks++] = (sl_frame_mark){.offset = offset, .frame = frame, .ts = ts};
    return 0;
}

static int tail_append(sl_reasm *r, const uint8_t *p, size_t n, uint64_t frame, sl_time_ns ts)
{
    if (tail_reserve(r, n) != 0 || marks_push(r, r->tail_len, frame, ts) != 0)
        return -1;
    memcpy(r->tail + r->tail_start + r->tail_len, p, n);
    r->tail_len += n;
    return 0;
}

/* Forget the first k tail bytes and the marks wholly inside them; the mark
 * covering the new first byte moves to offset 0. */
static void tail_consume(sl_reasm *r, size_t k)
{
    if (k >= r->tail_len) {
        tail_clear(r);
        return;
    }
    r->tail_start += k;
    r->tail_len -= k;
    size_t j = 0;
    while (j + 1 < r->n_marks && r->marks[j + 1].offset <= k)
        j++;
    memmove(r->marks, r->marks + j, (r->n_marks - j) * sizeof *r->marks);
    r->n_marks -= j;
    r->marks[0].offset = 0;
    for (size_t i = 1; i < r->n_marks; i++)
        r->marks[i].offset -= k;
}

/* ---- talking to the consumer ------------------------------------------ */

/* The consumer may return 0 (needs more: stop, do not spin), all, or part
 * (offer the rest again at once: it may take one record per call). */
static size_t consumer_take(sl_reasm *r, const uint8_t *buf, size_t len, const sl_frame_map *map)
{
    if (!r->consumer.data)
        return len;
    size_t k = r->consumer.data(r->consumer.ctx, buf, len, map);
    return k > len ? len : k;
}

static void offer_tail(sl_reasm *r)
{
    while (r->tail_len > 0) {
        sl_frame_map map = {r->marks, r->n_marks};
        size_t k = consumer_take(r, r->tail + r->tail_start, r->tail_len, &map);
        if (k == 0)
            break;
        tail_consume(r, k);
    }
}

/* `missing` bytes will never arrive; the tail (plus `extra` unconsumed bytes
 * not yet stored) is dropped because it can never be completed. */
static void emit_gap(sl_reasm *r, uint64_t missing, size_t extra, uint64_t frame)
{
    size_t dropped = r->tail_len + extra;
    tail_clear(r);
    if (missing == 0 && dropped == 0)
        return;
    r->stats.gaps++;
    r->stats.gap_bytes += missing;
    if (r->consumer.gap)
        r->consumer.gap(r->consumer.ctx, missing, dropped, frame);
}

static void note_cap(sl_reasm *r, uint64_t frame)
{
    if (r->stats.cap_hits++ == 0)
        r->stats.cap_frame = frame;
}

/* Nothing held: hand the bytes over without copying; keep what is left. */
static void offer_direct(sl_reasm *r, const uint8_t *p, size_t n, uint64_t frame, sl_time_ns ts,
                         uint64_t trigger)
{
    sl_frame_mark mark = {.offset = 0, .frame = frame, .ts = ts};
    sl_frame_map map = {&mark, 1};
    size_t used = 0;
    while (used < n) {
        size_t k = consumer_take(r, p + used, n - used, &map);
        if (k == 0)
            break;
        used += k;
    }
    size_t rest = n - used;
    if (rest == 0)
        return;
    if (rest > r->max_buffered) {
        note_cap(r, trigger);
        emit_gap(r, 0, rest, trigger);
    } else if (tail_append(r, p + used, rest, frame, ts) != 0) {
        emit_gap(r, 0, rest, trigger);
    }
}

/* Bytes at `next`: they become part of the delivered stream. */
/* Bytes [start, start + n) came first in `frame`. */
static void remember_delivered(sl_reasm *r, uint64_t start, size_t n, uint64_t frame)
{
    recent_segment *last = r->recent_n ? &r->recent[(r->recent_at + SL_REASM_RECENT - 1) % SL_REASM_RECENT] : NULL;
    if (last && last->frame == frame && last->end == start) {
        last->end += n;
        return;
    }
    r->recent[r->recent_at] = (recent_segment){start, start + n, frame};
    r->recent_at = (r->recent_at + 1) % SL_REASM_RECENT;
    if (r->recent_n < SL_REASM_RECENT)
        r->recent_n++;
}

static uint64_t first_carrier(const sl_reasm *r, uint64_t off)
{
    for (size_t i = 0; i < r->recent_n; i++) {
        const recent_segment *e = &r->recent[i];
        if (off >= e->start && off < e->end)
            return e->frame;
    }
    return 0;
}

/* A segment wholly already seen: counted, and the first ones kept. */
static void note_retx(sl_reasm *r, const sl_tcp_segment *seg, uint64_t start, uint64_t end)
{
    r->stats.retransmissions++;
    if (r->stats.n_retx >= SL_REASM_MAX_RETX)
        return;
    r->stats.retx[r->stats.n_retx++] = (sl_reasm_retx){
        .frame = seg->frame, .ts = seg->ts, .start = start, .end = end, .first_frame = first_carrier(r, start)};
}

static void deliver(sl_reasm *r, const uint8_t *p, size_t n, uint64_t frame, sl_time_ns ts, uint64_t trigger)
{
    remember_delivered(r, r->next, n, frame);
    r->next += n;
    r->stats.bytes_delivered += n;
    if (r->tail_len > 0 && (r->tail_len >= r->max_buffered || n > r->max_buffered - r->tail_len)) {
        /* The consumer cannot finish a message bigger than the cap. */
        note_cap(r, trigger);
        emit_gap(r, 0, 0, trigger);
    }
    if (r->tail_len == 0) {
        offer_direct(r, p, n, frame, ts, trigger);
        return;
    }
    if (tail_append(r, p, n, frame, ts) != 0) {
        emit_gap(r, 0, 0, trigger); /* out of memory: the tail cannot grow */
        offer_direct(r, p, n, frame, ts, trigger);
        return;
    }
    offer_tail(r);
}

/* ---- the out-of-order queue ------------------------------------------- */

static reasm_entry *q_at(sl_reasm *r, size_t i)
{
    return &r->q[r->q_head + i];
}

static uint64_t q_end(const reasm_entry *e)
{
    return e->off + e->len;
}

/* First entry (index relative to q_head) whose end is beyond `off`. */
static size_t q_find(sl_reasm *r, uint64_t off)
{
    size_t lo = 0, hi = r->q_len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (q_end(q_at(r, mid)) <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Move the live entries to the middle of an array of `cap` (growing it when
 * needed): slack on both sides makes inserts at either end O(1) amortised,
 * the common out-of-order patterns (append behind a hole, reverse order). */
static int q_recenter(sl_reasm *r, size_t cap)
{
    reasm_entry *q = r->q;
    if (cap != r->q_cap) {
        q = malloc(cap * sizeof *q);
        if (!q)
            return -1;
    }
    size_t head = (cap - r->q_len) / 2;
    if (r->q_len > 0)
        memmove(q + head, r->q + r->q_head, r->q_len * sizeof *q);
    if (q != r->q) {
        free(r->q);
        r->q = q;
        r->q_cap = cap;
    }
    r->q_head = head;
    return 0;
}

static int q_insert_at(sl_reasm *r, size_t i, const reasm_entry *e)
{
    bool front = i < r->q_len - i; /* fewer entries to move on the left */
    if (front ? r->q_head == 0 : r->q_head + r->q_len == r->q_cap) {
        /* Grow at 3/4 full so that recentering is amortised. */
        size_t cap = r->q_cap;
        if (cap == 0 || r->q_len + 1 > cap / 4 * 3)
            cap = cap ? cap * 2 : 16;
        if (cap > SIZE_MAX / sizeof *r->q || q_recenter(r, cap) != 0)
            return -1;
    }
    if (!r->q) /* not reached (q_len > 0 or the queue was just grown); for the analyzer */
        return -1;
    reasm_entry *base = r->q + r->q_head;
    if (front) {
        memmove(base - 1, base, i * sizeof *base);
        r->q_head--;
        base--;
    } else {
        memmove(base + i + 1, base + i, (r->q_len - i) * sizeof *base);
    }
    base[i] = *e;
    r->q_len++;
    if (!e->lost)
        r->q_bytes += e->len;
    return 0;
}

static void q_remove_at(sl_reasm *r, size_t i)
{
    reasm_entry *base = r->q + r->q_head;
    if (!base[i].lost)
        r->q_bytes -= base[i].len;
    free(base[i].data);
    if (i == 0) {
        r->q_head++;
    } else {
        memmove(base + i, base + i + 1, (r->q_len - i - 1) * sizeof *base);
    }
    r->q_len--;
}

/* Real bytes arrived for [s, e): queued lost ranges there give way. */
static void q_carve_lost(sl_reasm *r, uint64_t s, uint64_t e)
{
    size_t i = q_find(r, s);
    while (i < r->q_len && q_at(r, i)->off < e) {
        reasm_entry *x = q_at(r, i);
        uint64_t xs = x->off, xe = q_end(x);
        if (!x->lost) {
            i++;
        } else if (xs >= s && xe <= e) {
            q_remove_at(r, i);
        } else if (xs < s && xe > e) {
            reasm_entry right = *x;
            right.off = e;
            right.len = (uint32_t)(xe - e);
            x->len = (uint32_t)(s - xs);
            /* If the split cannot be stored the right part becomes a plain
             * hole, which ACK or flush still reports as a gap. */
            (void)q_insert_at(r, i + 1, &right);
            i += 2;
        } else if (xs < s) {
            x->len = (uint32_t)(s - xs);
            i++;
        } else {
            x->off = e;
            x->len = (uint32_t)(xe - e);
            i++;
        }
    }
}

static size_t count_differing(const uint8_t *a, const uint8_t *b, size_t n)
{
    size_t d = 0;
    for (size_t i = 0; i < n; i++)
        d += a[i] != b[i];
    return d;
}

typedef struct placed {
    uint64_t fresh;     /* bytes not seen before */
    uint64_t first_new; /* offset of the first fresh byte; UINT64_MAX if none */
    uint64_t conflicts; /* held bytes the new copy contradicts */
} placed;

static void note_fresh(placed *pl, uint64_t off, uint64_t n)
{
    if (n == 0)
        return;
    if (pl->fresh == 0 || off < pl->first_new)
        pl->first_new = off;
    pl->fresh += n;
}

/* Queue one uncovered piece [s, s+n) at index i; false when memory ran out
 * (the bytes then stay a hole, reported as a gap by ACK or flush). */
static bool q_add_piece(sl_reasm *r, size_t i, uint64_t s, uint64_t n, const uint8_t *data,
                        const sl_tcp_segment *seg)
{
    reasm_entry e = {
        .off = s, .len = (uint32_t)n, .lost = data == NULL, .frame = seg->frame, .ts = seg->ts, .data = NULL};
    if (data) {
        e.data = malloc(n);
        if (!e.data)
            return false;
        memcpy(e.data, data, n);
    }
    if (q_insert_at(r, i, &e) != 0) {
        free(e.data);
        return false;
    }
    return true;
}

/* Queue [s, e) around what is already queued; `data` holds byte s (NULL for
 * a lost range).  Overlapped held bytes are compared, never replaced. */
static void q_place(sl_reasm *r, uint64_t s, uint64_t e, const uint8_t *data, const sl_tcp_segment *seg,
                    placed *pl)
{
    if (data)
        q_carve_lost(r, s, e);
    size_t i = q_find(r, s);
    uint64_t pos = s;
    while (pos < e) {
        reasm_entry *x = i < r->q_len ? q_at(r, i) : NULL;
        if (!x || x->off >= e) {
            if (q_add_piece(r, i, pos, e - pos, data ? data + (pos - s) : NULL, seg))
                note_fresh(pl, pos, e - pos);
            return;
        }
        if (x->off > pos) {
            uint64_t n = x->off - pos;
            if (q_add_piece(r, i, pos, n, data ? data + (pos - s) : NULL, seg)) {
                note_fresh(pl, pos, n);
                i++;
            }
            pos += n;
            continue;
        }
        x = q_at(r, i);
        uint64_t ov_end = q_end(x) < e ? q_end(x) : e;
        if (data && !x->lost)
            pl->conflicts += count_differing(x->data + (pos - x->off), data + (pos - s), ov_end - pos);
        pos = ov_end;
        i++;
    }
}

/* Hand over every queued entry that now starts at `next`. */
static void deliver_queued(sl_reasm *r, uint64_t trigger)
{
    while (r->q_len > 0 && q_at(r, 0)->off <= r->next) {
        reasm_entry x = *q_at(r, 0);
        /* Detach before delivering: the consumer sees x.data in place. */
        r->q_head++;
        r->q_len--;
        if (!x.lost)
            r->q_bytes -= x.len;
        if (q_end(&x) > r->next) {
            size_t skip = (size_t)(r->next - x.off);
            if (x.lost) {
                emit_gap(r, x.len - skip, 0, x.frame);
                r->next = q_end(&x);
            } else {
                deliver(r, x.data + skip, x.len - skip, x.frame, x.ts, trigger);
            }
        }
        free(x.data);
    }
}

/* The hole before the first queued entry will never be filled. */
static void gap_first_hole(sl_reasm *r, uint64_t frame)
{
    uint64_t off = q_at(r, 0)->off;
    if (off > r->next) {
        emit_gap(r, off - r->next, 0, frame);
        r->next = off;
    }
    deliver_queued(r, frame);
}

static void enforce_cap(sl_reasm *r, uint64_t frame)
{
    while (r->q_len > r->max_entries || r->tail_len + r->q_bytes > r->max_buffered) {
        note_cap(r, frame);
        /* Drop whichever is the bigger hog: a message the consumer cannot
         * finish, or out-of-order data waiting behind the first hole. */
        if (r->q_len > r->max_entries || r->q_bytes > r->tail_len)
            gap_first_hole(r, frame);
        else
            emit_gap(r, 0, 0, frame);
    }
}

/* ---- segments --------------------------------------------------------- */

/* The 64-bit offset congruent to seq that is nearest to `next`. */
static int64_t unwrap(const sl_reasm *r, uint32_t seq)
{
    uint32_t d = seq - r->base - (uint32_t)r->next;
    int64_t delta = d >= UINT32_C(0x80000000) ? (int64_t)d - (INT64_C(1) << 32) : (int64_t)d;
    return (int64_t)r->next + delta;
}

/* Bytes [a, c) already delivered: compare what the tail still holds. */
static void check_delivered(sl_reasm *r, uint64_t a, uint64_t c, const uint8_t *data, uint64_t data_off,
                            placed *pl)
{
    uint64_t held_from = r->next - r->tail_len;
    uint64_t s = a > held_from ? a : held_from;
    uint64_t e = c < r->next ? c : r->next;
    if (s >= e)
        return;
    pl->conflicts += count_differing(r->tail + r->tail_start + (s - held_from), data + (s - data_off), e - s);
}

/* The segment carried [start, end) of the stream, `total` bytes with
 * those before offset 0. */
static void count_segment(sl_reasm *r, const sl_tcp_segment *seg, const placed *pl, uint64_t start, uint64_t end,
                          uint64_t total, uint64_t next_at_arrival)
{
    uint64_t frame = seg->frame;
    if (pl->fresh == 0)
        note_retx(r, seg, start, end);
    else if (pl->fresh < total)
        r->stats.overlaps++;
    if (pl->fresh > 0 && pl->first_new > next_at_arrival)
        r->stats.out_of_order++;
    if (pl->conflicts > 0) {
        if (r->stats.conflicts == 0)
            r->stats.conflict_frame = frame;
        r->stats.conflicts += pl->conflicts;
    }
}

/* Captured bytes [a, c), cut bytes [c, w); a may be negative (pre-stream
 * bytes, treated as seen). */
static void place_segment(sl_reasm *r, const sl_tcp_segment *seg, int64_t a, uint64_t c, uint64_t w)
{
    placed pl = {.fresh = 0, .first_new = UINT64_MAX, .conflicts = 0};
    uint64_t arrival_next = r->next;
    uint64_t s = a < 0 ? 0 : (uint64_t)a;
    const uint8_t *at_s = s < c ? seg->data + (size_t)((int64_t)s - a) : NULL;
    if (s < c)
        check_delivered(r, s, c, at_s, s, &pl);
    uint64_t cs = s > r->next ? s : r->next; /* first captured byte not delivered */
    if (cs < c && r->q_len == 0 && cs == r->next) {
        /* The fast path: in order with nothing queued. */
        note_fresh(&pl, cs, c - cs);
        deliver(r, at_s + (cs - s), (size_t)(c - cs), seg->frame, seg->ts, seg->frame);
    } else if (cs < c) {
        q_place(r, cs, c, at_s + (cs - s), seg, &pl);
    }
    uint64_t ls = c > r->next ? c : r->next; /* first cut byte not delivered */
    if (ls < w && r->q_len == 0 && ls == r->next) {
        note_fresh(&pl, ls, w - ls);
        emit_gap(r, w - ls, 0, seg->frame);
        r->next = w;
    } else if (ls < w) {
        q_place(r, ls, w, NULL, seg, &pl);
    }
    deliver_queued(r, seg->frame);
    count_segment(r, seg, &pl, s, w, (uint64_t)((int64_t)w - a), arrival_next);
}

static bool set_base(sl_reasm *r, const sl_tcp_segment *seg, uint64_t wire)
{
    if (r->have_base)
        return true;
    if (!seg->syn && wire == 0 && !seg->fin)
        return false; /* a bare ACK or keep-alive says nothing reliable */
    r->base = seg->syn ? seg->seq + 1 : seg->seq;
    r->have_base = true;
    return true;
}

void sl_reasm_segment(sl_reasm *r, const sl_tcp_segment *seg)
{
    if (!r || !seg || r->busy)
        return; /* a consumer feeding its own reassembler is refused */
    uint64_t wire = seg->wire_len > seg->len ? seg->wire_len : seg->len;
    /* Bytes claimed but not carried count as never captured. */
    int64_t captured = seg->data ? (int64_t)seg->len : 0;
    if (wire > 0)
        r->stats.segments++;
    if (!set_base(r, seg, wire))
        return;
    /* SYN data starts one past the ISN. */
    int64_t a = unwrap(r, seg->syn ? seg->seq + 1 : seg->seq);
    if (a > (int64_t)r->next && (uint64_t)a - r->next > SL_REASM_WINDOW)
        return; /* foreign or broken: see the window note at the top */
    if (wire > SL_REASM_WINDOW)
        return;
    r->busy = true;
    uint64_t w = (uint64_t)(a + (int64_t)wire);
    if (seg->fin && !r->fin_known && a + (int64_t)wire >= 0) {
        r->fin_known = true;
        r->fin_off = w;
    }
    if (wire > 0 && a + (int64_t)wire > 0)
        place_segment(r, seg, a, (uint64_t)(a + captured > 0 ? a + captured : 0), w);
    else if (wire > 0)
        note_retx(r, seg, 0, 0); /* wholly before the stream start */
    enforce_cap(r, seg->frame);
    r->busy = false;
}

/* Bytes [next, until) that are not queued will never be seen. */
static void gap_until(sl_reasm *r, uint64_t until, uint64_t frame)
{
    while (r->next < until) {
        uint64_t end = until;
        if (r->q_len > 0 && q_at(r, 0)->off < end)
            end = q_at(r, 0)->off;
        if (end > r->next) {
            emit_gap(r, end - r->next, 0, frame);
            r->next = end;
        }
        deliver_queued(r, frame);
    }
}

void sl_reasm_ack(sl_reasm *r, uint32_t ack, uint64_t frame)
{
    if (!r || r->busy || !r->have_base)
        return;
    int64_t a = unwrap(r, ack);
    if (r->fin_known && a > (int64_t)r->fin_off)
        a--; /* the FIN's sequence slot is not a byte */
    if (a > 0 && (uint64_t)a > r->stats.acked && ((uint64_t)a <= r->next || (uint64_t)a - r->next <= SL_REASM_WINDOW))
        r->stats.acked = (uint64_t)a;
    if (a <= (int64_t)r->next || (uint64_t)a - r->next > SL_REASM_WINDOW)
        return;
    r->busy = true;
    gap_until(r, (uint64_t)a, frame);
    enforce_cap(r, frame);
    r->busy = false;
}

void sl_reasm_flush(sl_reasm *r, uint64_t frame)
{
    if (!r || r->busy)
        return;
    r->busy = true;
    while (r->q_len > 0)
        gap_first_hole(r, frame);
    if (r->fin_known && r->fin_off > r->next) {
        emit_gap(r, r->fin_off - r->next, 0, frame);
        r->next = r->fin_off;
    }
    r->busy = false;
}
