/* fuzz_feed.h - FUZZ-ONLY: drive one dissector the way src/stream.c does
 * (TCP: unconsumed tail kept and re-offered with more bytes; UDP: one
 * datagram per call) through a sink that checks the sink contract, and a
 * tiny PRNG so one input byte can choose how the bytes are cut. */
#ifndef SIPLADDER_TESTS_FUZZ_FEED_H
#define SIPLADDER_TESTS_FUZZ_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "sipladder/config.h"
#include "sipladder/dissector.h"

typedef void (*fz_event_fn)(void *ctx, const sl_event *ev);

typedef struct fz_feeder {
    const sl_dissector *d;
    void *state;
    void *shared;     /* the dissector's shared context, or NULL */
    sl_flow_info flow;
    sl_config cfg;
    sl_sink sink;
    fz_event_fn on_event;
    void *ctx;
    uint8_t *pending[2];
    size_t n_pending[2], cap[2];
    size_t cur_len;   /* length of the buffer being fed, for span checks */
    uint64_t frame;   /* one "frame" per feed call */
} fz_feeder;

/* 0, or -1 when out of memory. */
int fz_feeder_init(fz_feeder *f, const sl_dissector *d, sl_transport t, fz_event_fn on_event, void *ctx);
void fz_feeder_done(fz_feeder *f);
/* One TCP chunk (appended to the direction's tail) or one UDP datagram. */
void fz_feed(fz_feeder *f, sl_dir dir, const uint8_t *data, size_t len);
/* `missing` bytes of dir were never captured. */
void fz_gap(fz_feeder *f, sl_dir dir, uint64_t missing);

/* xorshift32; a zero seed is replaced. */
uint32_t fz_rand(uint32_t *s);

/* Writes to /dev/null for the renderers; aborts when it cannot be opened. */
void *fz_devnull(void);

#endif
