/* config.c - default caps (documented in docs/sipladder.1). */
#include "sipladder/config.h"

void sl_limits_default(sl_limits *l)
{
    l->max_flows = 200000;
    l->max_tcp_buffer = 1u << 20;
    l->max_sip_message = 64u * 1024;
    l->max_tls_handshake = 64u * 1024;
    l->max_certs_per_chain = 10;
    l->max_ip_fragments = 10000;
    l->max_messages_per_call = 10000;
    l->max_conns_kept = 200000;
    l->max_sip_memory = (size_t)96 << 20;
    l->flow_idle_ns = 600ull * 1000000000ull;
    /* Linux's TIME_WAIT (2 MSL): late retransmissions arrive within it. */
    l->closed_flow_linger_ns = 60ull * 1000000000ull;
    l->frag_timeout_ns = 30ull * 1000000000ull;
}
