/* tcp_reasm.h - one direction of a TCP stream put back in order.
 *
 * Knows nothing of any protocol.  Segments go in as captured (any order,
 * duplicates, overlaps, snaplen-cut); ordered bytes come out to a consumer,
 * which says how many it used.  Bytes that can never arrive come out as a
 * gap.  First copy wins: a retransmission whose bytes differ from what is
 * held is counted as a conflict and its bytes ignored. */
#ifndef SIPLADDER_TCP_REASM_H
#define SIPLADDER_TCP_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sipladder/time.h"

/* Which frame carried the byte at `offset` of a delivered buffer. */
typedef struct sl_frame_mark {
    size_t offset;
    uint64_t frame;
    sl_time_ns ts;
} sl_frame_mark;

/* Frames behind a delivered buffer: marks sorted by offset, the first at 0.
 * Borrowed for the duration of the callback. */
typedef struct sl_frame_map {
    const sl_frame_mark *marks;
    size_t n;
} sl_frame_map;

/* The mark covering byte `offset` (the last mark with mark.offset <= offset). */
const sl_frame_mark *sl_frame_map_at(const sl_frame_map *map, size_t offset);

typedef struct sl_reasm_consumer {
    /* Ordered bytes: everything not yet consumed, oldest first.  Return how
     * many were consumed (<= len); the rest is offered again, with more. */
    size_t (*data)(void *ctx, const uint8_t *buf, size_t len, const sl_frame_map *map);
    /* `missing` bytes will never arrive; `dropped` unconsumed bytes held
     * before them were discarded.  `frame` is the frame that revealed it. */
    void (*gap)(void *ctx, uint64_t missing, size_t dropped, uint64_t frame);
    void *ctx;
} sl_reasm_consumer;

/* A segment whose bytes had all been seen before (a retransmission), as
 * stream offsets: 0 is the first byte after the SYN (or of the first
 * segment seen when the SYN was not captured). */
typedef struct sl_reasm_retx {
    uint64_t frame;       /* the copy */
    sl_time_ns ts;
    uint64_t start, end;  /* bytes [start, end) it carried */
    uint64_t first_frame; /* the frame that first carried byte `start`; 0 when no longer known */
} sl_reasm_retx;

/* Retransmissions kept one by one per direction; more are only counted. */
#define SL_REASM_MAX_RETX 16

typedef struct sl_reasm_stats {
    uint64_t segments;         /* segments with payload */
    uint64_t bytes_delivered;  /* bytes handed to the consumer, once each */
    uint64_t retransmissions;  /* segments wholly already seen */
    uint64_t conflicts;        /* retransmitted bytes that differed from the first copy */
    uint64_t conflict_frame;   /* first frame with a conflict */
    uint64_t out_of_order;     /* segments that arrived ahead of a hole */
    uint64_t overlaps;         /* segments partly already seen */
    uint64_t gaps;             /* gap events */
    uint64_t gap_bytes;        /* bytes never captured */
    uint64_t cap_hits;         /* times max_buffered forced a gap */
    uint64_t cap_frame;        /* first frame that hit the cap */
    sl_reasm_retx retx[SL_REASM_MAX_RETX]; /* the first `retransmissions`, in arrival order */
    uint32_t n_retx;
    uint64_t acked;            /* stream offset the peer acknowledged up to (sl_reasm_ack); 0: nothing */
} sl_reasm_stats;

typedef struct sl_tcp_segment {
    uint32_t seq;
    const uint8_t *data; /* captured payload, borrowed for the call */
    uint32_t len;        /* captured payload bytes */
    uint32_t wire_len;   /* payload bytes on the wire (> len when snaplen cut it) */
    bool syn, fin;
    uint64_t frame;
    sl_time_ns ts;
} sl_tcp_segment;

typedef struct sl_reasm sl_reasm;

/* New reassembler holding at most max_buffered bytes (unconsumed plus out of
 * order).  The consumer is copied.  NULL when out of memory. */
sl_reasm *sl_reasm_new(size_t max_buffered, const sl_reasm_consumer *consumer);
void sl_reasm_free(sl_reasm *r); /* NULL-safe */

/* A segment of this direction.  A SYN fixes the initial sequence number; a
 * stream whose SYN was not captured starts at its first segment. */
void sl_reasm_segment(sl_reasm *r, const sl_tcp_segment *seg);

/* The peer acknowledged everything before `ack`: bytes below it that were
 * never captured are declared a gap now rather than at the end. */
void sl_reasm_ack(sl_reasm *r, uint32_t ack, uint64_t frame);

/* End of stream (FIN reached, RST, or capture end): deliver what is queued
 * behind holes, each hole as a gap. */
void sl_reasm_flush(sl_reasm *r, uint64_t frame);

const sl_reasm_stats *sl_reasm_stats_get(const sl_reasm *r);
/* Bytes held now (unconsumed plus out of order). */
size_t sl_reasm_buffered(const sl_reasm *r);

#endif
