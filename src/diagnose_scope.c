/* diagnose_scope.c - which connections the diagnosis speaks about: SIP and
 * TLS signalling (signalling.h).  A SYN to SMB in a SIP capture is not why
 * a call failed; such connections are counted apart (other traffic), or
 * judged too with --all-traffic.  A capture with no signalling at all is
 * judged whole: there is nothing else to speak of.  Whether it has any is
 * the model's sticky signalling_seen, so that connections written early
 * (call_stream.h) are judged as a whole run judges them once signalling
 * has shown up. */
#include "diagnose_internal.h"
#include "sipladder/signalling.h"

static bool signalling(const sl_conn *c)
{
    return sl_signalling_dissector(c->dissector) || c->tls || sl_signalling_port(c->info.port[SL_SIDE_SERVER]);
}

bool sl_dg_unscoped(const sl_model *m, const sl_diagnose_options *o)
{
    return o->all_traffic || !m->signalling_seen;
}

bool sl_dg_in_scope(const sl_dg_ctx *x, const sl_conn *c) { return x->unscoped || signalling(c); }
