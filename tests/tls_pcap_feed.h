/* tls_pcap_feed.h - TEST-ONLY: read a capture with libpcap, put each TCP
 * direction back in sequence order (the test captures are clean; retransmitted
 * bytes are skipped, holes become gaps), feed the TLS dissector like the core
 * does (keeping the unconsumed tail), and record every event.
 *
 * The real pipeline (src/analysis.c, tcp_reasm.c) does this properly; this is
 * just enough to assert the dissector on real bytes without depending on it. */
#ifndef SIPLADDER_TESTS_TLS_PCAP_FEED_H
#define SIPLADDER_TESTS_TLS_PCAP_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sipladder/config.h"
#include "sipladder/dissector.h"
#include "sipladder/tls.h"
#include "sipladder/tls_session.h"

/* One recorded event: the scalars a test asserts (texts copied). */
typedef struct tf_entry {
    size_t conn;               /* index into tf_result.conns */
    sl_event_kind kind;
    sl_dir dir;
    sl_span span;
    sl_tls_event_type type;    /* SL_EV_TLS only */
    uint8_t hs_type;
    uint8_t content_type;      /* records */
    uint16_t record_version;
    bool encrypted;            /* records and alerts */
    uint8_t alert_level, alert_desc;
    size_t n_certs;
    int code;                  /* anomalies */
    char text[160];            /* anomaly text, or the SNI of a ClientHello */
} tf_entry;

typedef struct tf_conn {
    sl_flow_info info;
    sl_tls_session *session;
    sl_tcp_end end;
    size_t first_entry;        /* its first entry in the log */
} tf_conn;

typedef struct tf_result {
    tf_conn *conns;
    size_t n_conns;
    tf_entry *log;
    size_t n_log;
    uint64_t frames;
    size_t n_gaps;
    int pcap_error;            /* the file ended in damage (tshark stops there too) */
} tf_result;

/* Read `path` and feed every TCP connection with payload to the TLS dissector.
 * chunk > 0 cuts every segment into pieces of at most `chunk` bytes, each fed
 * on its own (the same frame), to test records and messages cut anywhere.
 * 0 or -1 (file cannot be opened; message on stderr). */
int tf_run_pcap(const char *path, const sl_config *cfg, size_t chunk, tf_result *out);

/* Feed one direction's bytes, as if each byte range between consecutive cuts
 * came in its own frame (frame n+1 for the n-th piece), then the other
 * direction's.  For synthetic streams. */
int tf_run_bytes(const uint8_t *c2s, size_t c2s_len, const uint8_t *s2c, size_t s2c_len, const size_t *cuts,
                 size_t n_cuts, const sl_config *cfg, tf_result *out);

void tf_result_free(tf_result *r);

/* Counts over the log: handshake messages of a type (clear), alerts with a
 * description (clear), encrypted alerts, anomalies, records of a content type. */
size_t tf_count_hs(const tf_result *r, uint8_t hs_type);
size_t tf_count_alert(const tf_result *r, uint8_t level, uint8_t desc);
size_t tf_count_encrypted_alerts(const tf_result *r);
size_t tf_count_anomalies(const tf_result *r);
size_t tf_count_records(const tf_result *r, uint8_t content_type);

#endif
