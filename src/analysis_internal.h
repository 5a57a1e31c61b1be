/* analysis_internal.h - the analysis object, shared by the files that make
 * up the pipeline (analysis.c, tcp_track.c, stream.c).  Not installed. */
#ifndef SIPLADDER_ANALYSIS_INTERNAL_H
#define SIPLADDER_ANALYSIS_INTERNAL_H

#include "sipladder/analysis.h"
#include "sipladder/decode.h"
#include "sipladder/flow.h"
#include "sipladder/ipfrag.h"
#include "sipladder/model.h"
#include "sipladder/registry.h"

#define SL_MAX_DECODE_AS 64

typedef struct sl_decode_as {
    uint16_t port;
    const sl_dissector *dissector;
} sl_decode_as;

/* The frames behind the buffer being fed to a dissector right now. */
typedef struct sl_feed_frames {
    const sl_frame_map *map; /* TCP: from reassembly */
    sl_span datagram;        /* UDP: the whole datagram */
} sl_feed_frames;

struct sl_analysis {
    sl_config cfg;
    const sl_registry *registry;
    sl_analysis_hooks hooks;
    sl_model *model;
    size_t sip_flush_at; /* kept SIP bytes at which hooks.sip_pressure runs next */
    size_t conns_completed; /* connections whose flow went since hooks.conns_complete last ran */
    bool calls_written;     /* hooks.sip_pressure ran since then: their connections may go too */
    sl_flow_table *flows;
    sl_ipfrag *frags;
    sl_decode_as decode_as[SL_MAX_DECODE_AS];
    size_t n_decode_as;
    /* Each registry dissector's shared context (dissector.h), same index as
     * registry->list; made on first claim, freed after the flows. */
    void **shared;
    bool *shared_made;
    /* the frame being processed */
    uint64_t frame;
    sl_time_ns ts;
    /* the dissector call in progress */
    sl_flow *feed_flow;
    sl_feed_frames feed;
    sl_sink sink;
};

/* tcp_track.c: one TCP segment of a flow (dir relative to its client). */
void sl_tcp_track(sl_analysis *a, sl_flow *f, sl_dir dir, const sl_l3 *l3, const sl_l4 *l4);
/* tcp_track.c: the flow leaves the table: flush and free its streams. */
void sl_tcp_close(sl_analysis *a, sl_flow *f);

/* stream.c: ordered bytes of a TCP direction (a reassembly consumer). */
size_t sl_stream_tcp_data(void *side_ctx, const uint8_t *buf, size_t len, const sl_frame_map *map);
void sl_stream_tcp_gap(void *side_ctx, uint64_t missing, size_t dropped, uint64_t frame);
/* stream.c: one UDP datagram; first_frame is its first fragment's frame. */
void sl_stream_udp(sl_analysis *a, sl_flow *f, sl_dir dir, const uint8_t *buf, size_t len, uint64_t first_frame);
/* stream.c: free the flow's dissector state. */
void sl_stream_release(sl_analysis *a, sl_flow *f);
/* stream.c: free every dissector's shared context (after the flows). */
void sl_stream_shared_free(sl_analysis *a);
/* stream.c: the sink dissectors report to. */
void sl_stream_sink_init(sl_analysis *a);

/* analysis.c: record an anomaly of the current frame. */
void sl_analysis_anomaly(sl_analysis *a, uint64_t frame, uint32_t conn_index, const char *source,
                         const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
