/* dissector.h - the contract between the core and a protocol dissector.
 *
 * The core offers a dissector the ordered bytes of one direction of a flow
 * (a TCP stream after reassembly, or one UDP datagram after IP reassembly).
 * The dissector consumes whole records only and says how much it used; the
 * core keeps the unconsumed tail and offers it again with more bytes.  It
 * reports what it found as typed events through a sink and never prints. */
#ifndef SIPLADDER_DISSECTOR_H
#define SIPLADDER_DISSECTOR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "sipladder/addr.h"
#include "sipladder/config.h"
#include "sipladder/time.h"

typedef enum { SL_DIR_C2S = 0, SL_DIR_S2C = 1 } sl_dir;
typedef enum { SL_PROBE_NO = 0, SL_PROBE_MORE = 1, SL_PROBE_YES = 2 } sl_probe;
typedef enum { SL_TRANSPORT_UDP = 0, SL_TRANSPORT_TCP = 1 } sl_transport;

/* What a dissector may know of its flow.  Index [SL_DIR_C2S] is the client
 * (sender of the SYN, or of the first packet seen). */
typedef struct sl_flow_info {
    sl_transport transport;
    sl_addr addr[2];
    uint16_t port[2];
    uint32_t conn_index; /* the model's connection number, 1-based */
} sl_flow_info;

/* Frames that carried a run of bytes: the first and the one completing it. */
typedef struct sl_span {
    uint64_t first_frame, last_frame; /* 1-based frame numbers */
    sl_time_ns first_ts, last_ts;
} sl_span;

typedef enum {
    SL_EV_ANOMALY = 0, /* malformed or unexpected input; see sl_anomaly */
    SL_EV_SIP,         /* one SIP message; see include/sipladder/sip.h */
    SL_EV_SIP_KEEPALIVE, /* RFC 5626 CRLF / double-CRLF keepalive */
    SL_EV_TLS,         /* one TLS event; see include/sipladder/tls.h */
    SL_EV_DNS,         /* one DNS message; see include/sipladder/dns.h */
    SL_EV_KINDS        /* how many kinds there are */
} sl_event_kind;

typedef struct sl_anomaly {
    int code;         /* -SL_E* value */
    const char *text; /* borrowed for the duration of the emit call */
} sl_anomaly;

struct sl_sip_msg;
struct sl_tls_event;

/* An event is borrowed by the sink for the duration of the emit call only:
 * the receiver copies what it keeps. */
typedef struct sl_event {
    sl_event_kind kind;
    sl_dir dir;
    sl_span span;
    const char *dissector; /* name of the emitter */
    union {
        const sl_anomaly *anomaly;
        const struct sl_sip_msg *sip;
        const struct sl_tls_event *tls;
        const void *any;
    } u;
} sl_event;

typedef struct sl_sink_ops {
    void (*emit)(void *ctx, const sl_event *ev);
    /* Frames that carried bytes [start, end) of the buffer currently being
     * fed (offsets into that buffer); end > start. */
    void (*span)(void *ctx, size_t start, size_t end, sl_span *out);
} sl_sink_ops;

typedef struct sl_sink {
    const sl_sink_ops *ops;
    void *ctx;
} sl_sink;

static inline void sl_sink_emit(sl_sink *s, const sl_event *ev) { s->ops->emit(s->ctx, ev); }
static inline void sl_sink_span(sl_sink *s, size_t start, size_t end, sl_span *out)
{
    s->ops->span(s->ctx, start, end > start ? end : start + 1, out);
}
/* Emit an SL_EV_ANOMALY for bytes [start, end) of the current buffer, with a
 * printf-style text.  `code` is a -SL_E* value. */
void sl_sink_report(sl_sink *s, const char *dissector, sl_dir dir, size_t start, size_t end, int code,
                    const char *fmt, ...) __attribute__((format(printf, 7, 8)));

typedef struct sl_dissector {
    const char *name; /* "tls", "sip": also the --decode name */
    /* Ports where this protocol is usual: they order the probes, never decide. */
    const uint16_t *hint_ports;
    size_t n_hint_ports;
    /* Look at the first bytes of a direction.  MORE: not enough bytes yet. */
    sl_probe (*probe)(const uint8_t *buf, size_t len, sl_dir dir, sl_transport transport);
    /* New per-flow state, or NULL when out of memory.  flow and cfg outlive
     * it.  `shared` is this dissector's context for the analysis (see
     * shared_new), or NULL: a dissector must also work without it (unit
     * tests and fuzzers feed a lone flow). */
    void *(*state_new)(const sl_flow_info *flow, const sl_config *cfg, void *shared);
    /* Consume whole records only; set *used <= len.  The core keeps the tail
     * and re-offers it with more bytes (TCP), or reports it as unparsed (UDP:
     * each call is one datagram).  Returns 0 or -SL_E*; an error is reported
     * by the core and the direction is resynchronised as after a gap. */
    int (*feed)(void *state, sl_dir dir, const uint8_t *buf, size_t len, size_t *used, sl_sink *out);
    /* `missing` bytes of this direction were never captured; any tail the
     * dissector had not consumed is dropped.  Resynchronise on what follows. */
    void (*gap)(void *state, sl_dir dir, uint64_t missing);
    void (*state_free)(void *state); /* NULL-safe */
    /* Optional (both NULL, or both set): one context per analysis shared by
     * every flow this dissector claims, e.g. a cache of what is the same
     * across flows.  The analysis makes it on the dissector's first claim,
     * passes it to every state_new and frees it after the last state_free.
     * NULL from shared_new (out of memory): flows get NULL.  One analysis
     * is single-threaded, so the context needs no locking. */
    void *(*shared_new)(const sl_config *cfg);
    void (*shared_free)(void *shared); /* NULL-safe */
} sl_dissector;

#endif
