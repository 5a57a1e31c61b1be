/* flow.h - the table of open flows, keyed by the 5-tuple, with idle
 * eviction and a cap on how many are open at once.
 *
 * The table only stores and finds flows; what happens to a flow's packets is
 * the analysis' business (fields under "owned by the analysis"). */
#ifndef SIPLADDER_FLOW_H
#define SIPLADDER_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sipladder/dissector.h"
#include "sipladder/tcp_reasm.h"
#include "sipladder/time.h"

typedef enum {
    SL_FLOW_CLOSE_END,      /* end of capture */
    SL_FLOW_CLOSE_IDLE,     /* idle longer than the timeout */
    SL_FLOW_CLOSE_CAP,      /* evicted: too many open flows */
    SL_FLOW_CLOSE_EXPLICIT, /* the analysis removed it (e.g. port reuse) */
} sl_flow_close_reason;

typedef enum { SL_STREAM_PROBING = 0, SL_STREAM_CLAIMED, SL_STREAM_NONE } sl_stream_state;

typedef struct sl_flow {
    struct sl_flow *hnext, *newer, *older;
    bool in_closed_lru;   /* the table's: sl_flow_table_mark_closed was called */
    uint32_t hash;
    uint8_t proto; /* 6 or 17 */
    sl_flow_info info; /* [SL_DIR_C2S] = client */
    sl_time_ns last_ts;
    uint64_t last_frame;
    /* owned by the analysis */
    uint32_t conn_index;
    bool closed;          /* FIN both ways or RST: waiting out late packets */
    bool isn_known[2];
    uint32_t isn[2];
    uint8_t usual_ttl[2];
    bool ttl_known[2];
    bool fin_seen[2];
    sl_reasm *reasm[2];
    bool ack_pending[2];  /* an ACK for reasm[d] not yet applied */
    uint32_t pending_ack[2];
    uint64_t pending_ack_frame[2];
    sl_time_ns pending_since[2]; /* time of the first ACK not yet applied */
    uint32_t pending_packets[2]; /* packets of the flow since then */
    sl_stream_state stream_state;
    const sl_dissector *dissector;
    void *dissector_state;
    size_t probed[2];     /* bytes offered to probes, per direction */
    struct sl_flow_side {
        struct sl_flow *flow;
        sl_dir dir;
        void *analysis;
    } side[2];            /* the reassembly consumer's context, per direction */
} sl_flow;

typedef void (*sl_flow_close_fn)(void *ctx, sl_flow *f, sl_flow_close_reason why);

typedef struct sl_flow_table sl_flow_table;
typedef struct sl_flow_lru {
    sl_flow *newest, *oldest;
} sl_flow_lru;

/* NULL when out of memory.  on_close runs before any flow is freed.
 * Flows idle idle_ns are closed; flows marked closed, after closed_idle_ns. */
sl_flow_table *sl_flow_table_new(size_t max_flows, uint64_t idle_ns, uint64_t closed_idle_ns, sl_flow_close_fn on_close,
                                 void *ctx);
void sl_flow_table_free(sl_flow_table *t); /* closes what is open (END), NULL-safe */

/* The flow of this packet, or NULL; *dir says whether src is its client. */
sl_flow *sl_flow_table_find(sl_flow_table *t, uint8_t proto, const sl_addr *src, uint16_t sport,
                            const sl_addr *dst, uint16_t dport, sl_dir *dir);

/* A new flow whose client is src.  At the cap, the least recently used flow
 * is closed first (SL_FLOW_CLOSE_CAP).  NULL when out of memory. */
sl_flow *sl_flow_table_add(sl_flow_table *t, uint8_t proto, const sl_addr *src, uint16_t sport,
                           const sl_addr *dst, uint16_t dport, sl_time_ns ts);

/* The flow saw a packet at ts: it becomes the most recently used. */
void sl_flow_table_touch(sl_flow_table *t, sl_flow *f, sl_time_ns ts, uint64_t frame);

/* The flow ended (FIN both ways, RST): from now on it only waits out late
 * packets, closed_idle_ns after its last one. */
void sl_flow_table_mark_closed(sl_flow_table *t, sl_flow *f);

void sl_flow_table_remove(sl_flow_table *t, sl_flow *f, sl_flow_close_reason why);
/* Close flows idle longer than the timeout at time now. */
void sl_flow_table_expire(sl_flow_table *t, sl_time_ns now);
/* Close every flow (SL_FLOW_CLOSE_END). */
void sl_flow_table_drain(sl_flow_table *t);

size_t sl_flow_table_count(const sl_flow_table *t);
uint64_t sl_flow_table_cap_evictions(const sl_flow_table *t);

#endif
