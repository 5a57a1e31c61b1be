/* signalling.h - what counts as SIP or TLS signalling, the traffic the
 * diagnosis speaks about (diagnose_scope.c): a flow a SIP, TLS or
 * WebSocket dissector took, or one to a signalling server port. */
#ifndef SIPLADDER_SIGNALLING_H
#define SIPLADDER_SIGNALLING_H

#include <stdbool.h>
#include <stdint.h>

/* 5060-5063 SIP/SIPS (5062: Webex mutual TLS), 5065 a second SIP listener,
 * 7001-7003 the Expressway traversal zones, 2776/2777 assent, 443/8443
 * HTTPS and the MRA edge, 5222 XMPP over TLS. */
bool sl_signalling_port(uint16_t server_port);
/* "sip", "tls", "ws"; false for NULL. */
bool sl_signalling_dissector(const char *name);

#endif
