/* model.h - what one pass over a capture found, compact and owned:
 * the capture itself, every TCP connection and UDP flow with its events,
 * anomalies with their frames, and (from the dissectors) TLS sessions and
 * SIP messages.  Renderers read it; nothing here touches packet bytes. */
#ifndef SIPLADDER_MODEL_H
#define SIPLADDER_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sipladder/dissector.h"
#include "sipladder/tcp_reasm.h"
#include "sipladder/time.h"

#define SL_MAX_SYN_FRAMES 8
#define SL_MAX_LOCAL_ADDRS 16

/* Memory caps of the model itself (docs/sipladder.1, CAPS): connections
 * listed one by one, and bytes of SIP message records kept.  Beyond them
 * the model counts what it did not keep, and the views say so. */
#define SL_MODEL_MAX_CONNS 200000
#define SL_MODEL_MAX_SIP_BYTES ((size_t)96 << 20)
/* conn_index of a flow beyond SL_MODEL_MAX_CONNS: its packets go to the
 * aggregate record model->overflow. */
#define SL_CONN_OVERFLOW UINT32_MAX

struct sl_tls_session;
struct sl_tls_outcome;
struct sl_tls_options;

enum { SL_SIDE_CLIENT = 0, SL_SIDE_SERVER = 1 };

/* A FIN or RST: who sent it, when, and whether its IP TTL is not that
 * side's usual one (a hint that a middlebox forged it). */
typedef struct sl_close_event {
    uint64_t frame; /* 0: none */
    sl_time_ns ts;
    uint8_t side;   /* SL_SIDE_* */
    uint8_t ttl;
    uint8_t usual_ttl;
    bool ttl_differs;
} sl_close_event;

/* A side's payload up to some moment: bytes on the wire and its last segment. */
typedef struct sl_data_mark {
    uint64_t bytes;
    uint64_t frame; /* 0: none */
    sl_time_ns ts;
} sl_data_mark;

typedef struct sl_conn {
    uint32_t index; /* 1-based, in order of first packet */
    sl_flow_info info;
    uint64_t first_frame, last_frame;
    sl_time_ns first_ts, last_ts;
    uint64_t packets[2];   /* per side */
    uint64_t bytes[2];     /* payload bytes on the wire, per side */
    const char *dissector; /* name of the claiming dissector, or NULL */
    /* TCP only */
    bool syn_seen;          /* the capture saw the connection open */
    uint32_t syn_count;     /* SYNs from the client, retransmissions included */
    uint64_t syn_frames[SL_MAX_SYN_FRAMES];
    sl_time_ns syn_ts[SL_MAX_SYN_FRAMES];
    uint32_t synack_count;
    uint64_t synack_frame;  /* first SYN-ACK */
    sl_time_ns synack_ts;
    uint64_t synack_frames[SL_MAX_SYN_FRAMES]; /* the first SYN-ACKs, retransmissions included */
    uint64_t established_frame; /* the client's ACK of the SYN-ACK */
    sl_time_ns handshake_rtt;   /* SYN to that ACK */
    sl_close_event fin[2];      /* first FIN of each side */
    sl_close_event rst;         /* first RST */
    sl_close_event odd_ttl[4];  /* the first payload packets whose TTL was not their sender's
                                 * usual one: forged by a middlebox? (an alert, a response) */
    uint8_t n_odd_ttl;
    sl_data_mark data[2];       /* each side's payload so far */
    sl_data_mark before_rst[2]; /* each side's payload before the first RST: what it can answer */
    uint32_t rst_count;
    bool refused;               /* a SYN answered by RST */
    uint64_t zero_windows[2];
    uint64_t retransmissions[2];
    sl_reasm_retx *retx[2];     /* owned, or NULL: each side's first segments wholly already seen (at most
                                 * SL_REASM_MAX_RETX; beyond them only counted), stream offsets and first copy */
    uint32_t n_retx[2];
    uint64_t acked[2];          /* stream offset up to which the peer acknowledged each side's bytes (0: none) */
    uint64_t conflicts[2];      /* retransmitted bytes that differed */
    uint64_t out_of_order[2];
    uint64_t gaps[2], gap_bytes[2];
    uint64_t buffer_cap_hits[2];
    uint32_t anomalies;         /* anomaly events on this connection */
    bool judged;                /* a verdict on a call already written (streamed) names it */
    bool attached;              /* attached to a call already written (streamed): not an orphan */
    bool ambiguous;             /* no SIP, and two calls could own it (seen while streaming) */
    bool complete;              /* its flow is gone: no packet can reach it any more */
    struct sl_tls_session *tls; /* the TLS handshake seen on it, owned, or NULL */
    uint32_t events[SL_EV_KINDS]; /* dissector events by sl_event_kind */
} sl_conn;

/* One malformed or unexpected thing, with the frame that shows it. */
typedef struct sl_model_anomaly {
    uint64_t frame;
    uint32_t conn_index; /* 0: not tied to a connection */
    const char *source;  /* "decode", "ipfrag", "tcp", a dissector name: static */
    char *text;          /* owned */
} sl_model_anomaly;

/* Frames not followed for one reason (decode.h's sl_skip: a kind and the
 * number naming what they carried), so none is dropped without a count. */
#define SL_MAX_SKIP_REASONS 32
typedef struct sl_skip_reason {
    uint16_t kind;  /* sl_skip_kind */
    uint32_t value; /* the EtherType, IP protocol, ... */
    uint64_t frames;
    uint64_t first_frame;
} sl_skip_reason;

typedef struct sl_capture_info {
    const char **files; /* names as given to sl_analysis_run, copied (owned) */
    size_t n_files;
    int *linktypes;     /* per file, owned */
    uint64_t frames;
    uint64_t bytes;     /* captured bytes */
    sl_time_ns first_ts, last_ts;
    uint64_t skipped;   /* frames with nothing we follow (ARP, ICMP, ...) */
    sl_skip_reason skip_reasons[SL_MAX_SKIP_REASONS]; /* `skipped` by reason, in order first seen */
    size_t n_skip_reasons;
    uint64_t skipped_other; /* frames of reasons beyond the table */
    uint64_t malformed; /* frames whose headers were malformed */
    uint64_t cut;       /* frames whose headers were cut by the snaplen */
    bool truncated;     /* a file ended early */
} sl_capture_info;

struct sl_sip_record;
struct sl_dns_record;
struct sl_xlog;

#define SL_MODEL_MAX_DNS 100000 /* DNS messages kept (dns.h); more are counted */

/* How often an address was an endpoint of connections, and when it was
 * first seen (the capture point is the address in most connections,
 * diagnose.c, which counts with these too). */
typedef struct sl_addr_count {
    sl_addr addr;
    uint64_t n;     /* endpoints: a connection to itself counts twice */
    uint32_t flows; /* connections: once each (a host's flows, calls.h) */
    uint64_t first; /* retired tally: the lowest connection index; diagnose.c: an order key */
} sl_addr_count;

#define SL_MODEL_MAX_TALLY 4096 /* addresses tallied; more are not counted */

typedef struct sl_conn_tally {
    sl_addr_count *addrs; /* sorted by address; owned */
    size_t n_addrs;
    uint64_t cap_hits, capped; /* --max-tcp-buffer hits, and connections with any */
} sl_conn_tally;

typedef struct sl_model {
    sl_capture_info capture;
    struct sl_sip_record **sip;  /* every SIP message, in the order completed; owned */
    size_t n_sip, cap_sip;
    struct sl_dns_record **dns;  /* every DNS message (dns.h), in the order seen; owned */
    size_t n_dns, cap_dns;
    uint64_t dns_not_kept;       /* beyond SL_MODEL_MAX_DNS */
    sl_conn *conns;              /* the connections not retired, by index */
    size_t n_conns, cap_conns;
    size_t n_conns_retired;      /* written and freed before the end (sl_model_retire_conns) */
    size_t n_conns_hidden;       /* a selection's copy (select.h): connections it left out */
    sl_conn_tally retired;       /* what the end still needs of them */
    sl_model_anomaly *anomalies; /* the first max_anomalies, in frame order */
    size_t n_anomalies, cap_anomalies;
    uint64_t anomalies_total;    /* including those not kept */
    size_t max_anomalies;
    char **warnings;             /* capture-level problems, owned */
    size_t n_warnings;
    uint64_t flows_evicted_cap;  /* flows closed early because max_flows was reached */
    uint64_t flow_cap_frame;
    uint64_t frags_dropped;      /* IP fragments given up */
    bool signalling_seen;        /* a connection to a signalling port, or one a SIP/TLS/WS dissector took
                                  * (signalling.h); sticky */
    sl_addr local_addrs[SL_MAX_LOCAL_ADDRS]; /* the capturing host's, when the link layer says (SLL/SLL2) */
    size_t n_local_addrs;
    size_t max_conns;            /* connections listed one by one */
    sl_conn overflow;            /* every connection beyond max_conns, counted together */
    uint64_t conns_not_kept;     /* how many those are */
    uint64_t conn_cap_frame;     /* first frame of the first of them */
    size_t max_sip_bytes;        /* SIP record bytes kept (what each record holds in memory) */
    size_t sip_bytes;
    uint64_t sip_not_kept;       /* SIP messages seen but not kept: max_sip_bytes reached */
    uint64_t sip_cap_frame;      /* first frame of the first of them */
    uint64_t sip_released;       /* records written and freed before the end (streamed calls) */
    /* Streaming (call_stream.c) correlates a batch on a copy of the model
     * with this set: connections quiet since before it cannot belong to
     * its calls and are skipped (0: every connection counts). */
    sl_time_ns corr_conns_after;
    /* Expressway diagnostic logs merged in (exp_log.h): borrowed, they
     * outlive the model; the views name them beside the capture. */
    const struct sl_xlog *const *logs;
    size_t n_logs;
} sl_model;

sl_model *sl_model_new(void);
void sl_model_free(sl_model *m); /* NULL-safe */

/* A new connection record; its index is sl_model_conns_total after the
 * call.  NULL when out of memory.  The pointer is valid until the next
 * sl_model_add_conn or sl_model_retire_conns.  Beyond max_conns open at
 * once: &m->overflow, whose index is SL_CONN_OVERFLOW. */
sl_conn *sl_model_add_conn(sl_model *m, const sl_flow_info *info, uint64_t frame, sl_time_ns ts);
/* The listed connection of this index (1-based), or NULL: 0, beyond the
 * cap (SL_CONN_OVERFLOW), or retired. */
sl_conn *sl_model_conn(sl_model *m, uint32_t index);
const sl_conn *sl_model_conn_const(const sl_model *m, uint32_t index);
/* The record a flow's packets count in: its connection, or the aggregate
 * beyond the cap.  A flow's connection is never retired before the flow
 * is gone, so this is not NULL for a flow's conn_index. */
static inline sl_conn *sl_model_flow_conn(sl_model *m, uint32_t index)
{
    return index == SL_CONN_OVERFLOW ? &m->overflow : sl_model_conn(m, index);
}
/* Connections seen, retired or not (the highest index). */
static inline size_t sl_model_conns_total(const sl_model *m)
{
    return m->n_conns + m->n_conns_retired + m->n_conns_hidden;
}
/* Free the connections whose retire[i] is true (i: position in m->conns),
 * once written (call_stream.c), keeping in m->retired what the end needs. */
void sl_model_retire_conns(sl_model *m, const bool *retire);

/* Record an anomaly (text copied).  0 or -SL_ENOMEM. */
int sl_model_add_anomaly(sl_model *m, uint64_t frame, uint32_t conn_index, const char *source, const char *text);
/* Keep a SIP message record (ownership passes to the model, also on error).
 * 0 or -SL_ENOMEM.  Beyond max_sip_bytes the record is freed and counted
 * in sip_not_kept (0 is returned: the cap is reported, not an error). */
int sl_model_add_sip(sl_model *m, struct sl_sip_record *r);
/* What keeping r counts against max_sip_bytes. */
size_t sl_model_sip_cost(const struct sl_sip_record *r);
/* Free the records whose release[i] is true (i: position in m->sip) and
 * close the gaps, keeping the others in order; counted in sip_released.
 * A streaming view calls it once it has written their calls. */
void sl_model_release_sip(sl_model *m, const bool *release);
/* Keep a DNS message record (ownership passes, also on error); beyond
 * SL_MODEL_MAX_DNS it is freed and counted.  0 or -SL_ENOMEM. */
int sl_model_add_dns(sl_model *m, struct sl_dns_record *r);

/* The connection's TLS session, made on first use; NULL when out of memory. */
struct sl_tls_session *sl_model_conn_tls(sl_conn *c);

/* Conclude a connection's TLS handshake from its session and how TCP ended.
 * -SL_EUSAGE when the connection carried no TLS; 0; -SL_ENOMEM. */
int sl_model_tls_outcome(const sl_conn *c, const struct sl_tls_options *opts, struct sl_tls_outcome *out);

/* The capturing host owns this address (it sent or received a frame
 * addressed so, per the link layer).  Kept once; at most SL_MAX_LOCAL_ADDRS. */
void sl_model_note_local(sl_model *m, const sl_addr *a);
/* True when the capture's link layer showed the address as the capturing host's. */
bool sl_model_is_local(const sl_model *m, const sl_addr *a);

/* Record a capture-level warning (copied). */
int sl_model_add_warning(sl_model *m, const char *text);

#endif
