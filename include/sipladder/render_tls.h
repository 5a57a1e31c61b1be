/* render_tls.h - the human-readable detail block of one connection's TLS
 * handshake (the `tls` view): steps with frames, certificates, alerts,
 * outcome and hints.  Capture text is escaped; nothing raw reaches the
 * terminal. */
#ifndef SIPLADDER_RENDER_TLS_H
#define SIPLADDER_RENDER_TLS_H

#include <stdio.h>

#include "sipladder/tls_session.h"

/* Print the session.  Labels name the two ends ("10.0.0.1:50000"), borrowed,
 * may be NULL ("client"/"server").  outcome may be NULL (not printed). */
void sl_render_tls_session(FILE *out, const sl_tls_session *s, const sl_tls_outcome *outcome,
                           const char *client_label, const char *server_label);

#endif
