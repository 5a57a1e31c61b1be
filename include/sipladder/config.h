/* config.h - caps and options the core hands to dissectors.  Read-only after
 * the command line is parsed; passed by pointer, never global. */
#ifndef SIPLADDER_CONFIG_H
#define SIPLADDER_CONFIG_H

#include <stddef.h>
#include <stdint.h>

typedef struct sl_limits {
    size_t max_flows;             /* open flows at once */
    size_t max_tcp_buffer;        /* buffered bytes per TCP direction */
    size_t max_sip_message;       /* bytes of one SIP message */
    size_t max_tls_handshake;     /* bytes of one TLS handshake message */
    size_t max_certs_per_chain;   /* certificates kept from one Certificate message */
    size_t max_ip_fragments;      /* IP fragments held in flight */
    size_t max_messages_per_call; /* SIP messages kept per call */
    size_t max_conns_kept;        /* connections the model lists one by one */
    size_t max_sip_memory;        /* bytes of SIP message records the model keeps */
    uint64_t flow_idle_ns;        /* a flow idle this long is closed */
    uint64_t closed_flow_linger_ns; /* a TCP flow ended by FIN/RST goes this long after its last packet */
    uint64_t frag_timeout_ns;     /* an incomplete datagram older than this is dropped */
} sl_limits;

/* Defaults documented in docs/sipladder.1. */
void sl_limits_default(sl_limits *l);

/* Options for the TLS dissector's certificate checks. All borrowed, may be NULL. */
typedef struct sl_tls_options {
    const char *expect_name; /* --expect-name: the identity the peer must present */
    const char *ca_file;     /* --ca-file */
    const char *ca_path;     /* --ca-path */
} sl_tls_options;

struct sl_capture_filter;

typedef struct sl_config {
    sl_limits limits;
    sl_tls_options tls;
    /* -f (select.h): frames that do not match it keep their numbers and go
     * no further; borrowed, NULL: every frame. */
    struct sl_capture_filter *capture_filter;
} sl_config;

#endif
