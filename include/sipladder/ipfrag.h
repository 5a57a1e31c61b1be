/* ipfrag.h - IPv4 and IPv6 fragments put back together, with a cap on the
 * fragments held and a timeout for datagrams that never complete. */
#ifndef SIPLADDER_IPFRAG_H
#define SIPLADDER_IPFRAG_H

#include <stddef.h>
#include <stdint.h>

#include "sipladder/decode.h"
#include "sipladder/time.h"

typedef struct sl_ipfrag sl_ipfrag;

typedef struct sl_ipfrag_stats {
    uint64_t fragments;     /* fragments offered */
    uint64_t reassembled;   /* datagrams completed */
    uint64_t expired;       /* datagrams dropped incomplete after the timeout */
    uint64_t evicted;       /* datagrams dropped incomplete to respect the cap */
    uint64_t overlaps;      /* fragments overlapping bytes already held (first copy kept) */
    uint64_t conflicts;     /* overlapping fragments whose bytes differed */
    uint64_t dropped_frags; /* fragments in dropped datagrams */
    uint64_t cap_frame;     /* first frame at which the cap forced an eviction */
    size_t in_flight;       /* fragments held now */
    size_t peak_in_flight;
} sl_ipfrag_stats;

/* A datagram given up incomplete: for reporting. */
typedef void (*sl_ipfrag_drop_fn)(void *ctx, uint64_t first_frame, size_t fragments, const char *why);

/* NULL when out of memory. */
sl_ipfrag *sl_ipfrag_new(size_t max_fragments, uint64_t timeout_ns, sl_ipfrag_drop_fn drop, void *drop_ctx);
void sl_ipfrag_free(sl_ipfrag *f); /* NULL-safe */

/* Offer one fragment (l3->is_fragment).  Returns 1 when it completed its
 * datagram: *payload / *len hold the reassembled upper-layer bytes (owned by
 * the table, valid until the next call) and *first_frame the frame of its
 * first fragment.  0 when more fragments are needed.  -SL_EMALFORMED with
 * *why for a fragment that contradicts its datagram (it is dropped). */
int sl_ipfrag_add(sl_ipfrag *f, const sl_l3 *l3, uint64_t frame, sl_time_ns ts, const uint8_t **payload,
                  size_t *len, uint64_t *first_frame, const char **why);

/* Drop datagrams older than the timeout at time `now`. */
void sl_ipfrag_expire(sl_ipfrag *f, sl_time_ns now);

/* Drop every incomplete datagram: the capture has ended. */
void sl_ipfrag_drain(sl_ipfrag *f);

const sl_ipfrag_stats *sl_ipfrag_stats_get(const sl_ipfrag *f);

#endif
