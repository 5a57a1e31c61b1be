/* diagnose_scope.c - which connections the diagnosis speaks about: SIP and
 * TLS signalling (signalling.h), or a port that carried it on another
 * connection.  A SYN to SMB in a SIP capture is not why
 * a call failed; such connections are counted apart (other traffic), or
 * judged too with --all-traffic.  A capture with no signalling at all is
 * judged whole: there is nothing else to speak of.  Whether it has any is
 * the model's sticky signalling_seen, so that connections written early
 * (call_stream.h) are judged as a whole run judges them once signalling
 * has shown up. */
#include <stdlib.h>

#include "diagnose_internal.h"
#include "sipladder/signalling.h"
#include "sipladder/status.h"

static bool signalling(const sl_conn *c)
{
    return sl_signalling_dissector(c->dissector) || c->tls || sl_signalling_port(c->info.port[SL_SIDE_SERVER]);
}

/* Keys of the (transport, server port) pairs that carried SIP or TLS. */
static uint32_t port_key(const sl_conn *c)
{
    return (uint32_t)c->info.transport << 16 | c->info.port[SL_SIDE_SERVER];
}

static int cmp_key(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int sl_dg_scope_init(sl_dg_ctx *x)
{
    const sl_model *m = x->m;
    x->signalling_ports = malloc((m->n_conns ? m->n_conns : 1) * sizeof *x->signalling_ports);
    if (!x->signalling_ports)
        return -SL_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < m->n_conns; i++)
        if (sl_signalling_dissector(m->conns[i].dissector) || m->conns[i].tls)
            x->signalling_ports[n++] = port_key(&m->conns[i]);
    qsort(x->signalling_ports, n, sizeof *x->signalling_ports, cmp_key);
    x->n_signalling_ports = n;
    return 0;
}

void sl_dg_scope_free(sl_dg_ctx *x)
{
    free(x->signalling_ports);
    x->signalling_ports = NULL;
}

/* A server port that carried SIP or TLS on a connection of the capture
 * (SIP on 5080, TLS on 9443): its failed connections speak about
 * signalling too. */
static bool port_seen_signalling(const sl_dg_ctx *x, const sl_conn *c)
{
    uint32_t key = port_key(c);
    return x->n_signalling_ports &&
           bsearch(&key, x->signalling_ports, x->n_signalling_ports, sizeof key, cmp_key) != NULL;
}

bool sl_dg_unscoped(const sl_model *m, const sl_diagnose_options *o)
{
    return o->all_traffic || !m->signalling_seen;
}

bool sl_dg_in_scope(const sl_dg_ctx *x, const sl_conn *c)
{
    return x->unscoped || signalling(c) || port_seen_signalling(x, c);
}
