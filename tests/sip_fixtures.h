/* sip_fixtures.h - shared by the SIP suites: real-shaped Expressway/CUCM/Jabber
 * messages (from the seed logs in /work/shared/seeds) and a fake core that
 * feeds a dissector like the pipeline does and records what it emits. */
#ifndef SIPLADDER_TESTS_SIP_FIXTURES_H
#define SIPLADDER_TESTS_SIP_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

#include "sipladder/dissector.h"
#include "sipladder/sip_record.h"

/* Header block (CRLF line ends, no Content-Length, no blank line) plus body:
 * returns a malloc'd message with the right Content-Length; *len its size. */
char *fx_msg(const char *headers, const char *body, size_t *len);

/* Fixture header blocks (see sip_fixtures.c for their sources). */
extern const char fx_invite_expressway_hdrs[];
extern const char fx_invite_sdp[];
extern const char fx_404_warning_hdrs[];
extern const char fx_bye_reason_hdrs[];
extern const char fx_register_mra_hdrs[];
extern const char fx_401_hdrs[];
extern const char fx_register_auth_hdrs[];
extern const char fx_200_register_hdrs[];

typedef struct fx_ev {
    sl_event_kind kind;
    sl_dir dir;
    sl_span span;
    uint32_t crlf_count;  /* keepalive */
    int code;             /* anomaly */
    char text[256];       /* anomaly */
    sl_sip_record *rec;   /* SIP */
    int had_osip;         /* SIP: the borrowed msg carried libosip2's tree */
} fx_ev;

typedef struct fx_log {
    fx_ev *ev;
    size_t n, cap;
    size_t left_over; /* bytes never consumed at the end */
} fx_log;

void fx_log_free(fx_log *log);
size_t fx_count(const fx_log *log, sl_event_kind kind);
const fx_ev *fx_nth(const fx_log *log, sl_event_kind kind, size_t idx);
/* Sum of crlf_count over keepalive events. */
uint32_t fx_crlfs(const fx_log *log);
/* A text summary of the log, keepalive runs merged, for comparing feeds. */
char *fx_signature(const fx_log *log);

/* Feed data to a fresh state of `d` as a core would: chunk i (frame i+1) is
 * data[cuts[i-1] .. cuts[i]); the unconsumed tail is kept and offered again
 * with the next chunk (TCP) or dropped (UDP, each chunk one datagram).
 * cfg may be NULL (defaults). */
void fx_feed(const sl_dissector *d, sl_transport tr, const sl_config *cfg, const uint8_t *data, size_t len,
             const size_t *cuts, size_t n_cuts, fx_log *log);
/* Shorthands: whole; two chunks cut at k; one byte per frame. */
void fx_feed_whole(const sl_dissector *d, sl_transport tr, const uint8_t *data, size_t len, fx_log *log);
void fx_feed_cut(const sl_dissector *d, sl_transport tr, const uint8_t *data, size_t len, size_t k, fx_log *log);
void fx_feed_bytes(const sl_dissector *d, sl_transport tr, const uint8_t *data, size_t len, fx_log *log);

/* The core step by step: push one frame's bytes, or a gap. */
typedef struct fx_core fx_core;
fx_core *fx_core_new(const sl_dissector *d, sl_transport tr, const sl_config *cfg, fx_log *log);
void fx_core_push(fx_core *c, sl_dir dir, const uint8_t *data, size_t len);
void fx_core_gap(fx_core *c, sl_dir dir, uint64_t missing);
void fx_core_free(fx_core *c); /* records the left-over bytes in the log */

/* A flow for tests: 192.0.2.1:5060 (client) <-> 192.0.2.2:5061. */
const sl_flow_info *fx_flow(sl_transport tr);

#endif
