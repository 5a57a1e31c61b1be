/* builtin.h - the dissectors compiled into sipladder, in probe order.
 * Adding a protocol: one file in dissectors/, one declaration and one list
 * entry here. */
#ifndef SIPLADDER_DISSECTORS_BUILTIN_H
#define SIPLADDER_DISSECTORS_BUILTIN_H

#include "sipladder/dissector.h"
#include "sipladder/dns.h"
#include "sipladder/sip.h"
#include "sipladder/tls.h"

/* Each entry ends with a comma. */
#define SL_BUILTIN_DISSECTORS &sl_dissector_tls, &sl_dissector_sip, &sl_dissector_dns, &sl_dissector_ws,

#endif
