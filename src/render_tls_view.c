/* render_tls_view.c - the `tls` view: every connection that carried TLS,
 * with its handshake, certificates, alerts and outcome (render_tls.c draws
 * one session; this picks the sessions and names the two ends). */
#include "report.h"
#include "sipladder/render.h"
#include "sipladder/render_tls.h"
#include "sipladder/spool.h"
#include "sipladder/tls_session.h"

int sl_render_tls(const sl_report *r, const sl_render_opts *o)
{
    const sl_model *m = r->model;
    sl_spool *sp = o->spool;
    if (sp && sp->batch == SL_BATCH_CALLS)
        return 0; /* calls: nothing of this view */
    sl_render_opts spooled = *o;
    if (sp && sp->batch)
        spooled.out = sp->part[SL_SPOOL_CONNS];
    else if (sp && sp->entries[SL_SPOOL_CONNS])
        sl_spool_copy(sp, SL_SPOOL_CONNS, o->out);
    o = &spooled;
    uint64_t shown = sp ? sp->entries[SL_SPOOL_CONNS] : 0;
    for (size_t i = 0; i < m->n_conns; i++) {
        const sl_conn *c = &m->conns[i];
        if (!c->tls)
            continue;
        sl_tls_outcome out;
        if (sl_report_tls_outcome(o, c, &out) < 0)
            return -1;
        char cli[SL_ADDR_PORT_STRLEN + 64], srv[SL_ADDR_PORT_STRLEN + 64];
        sl_render_endpoint(o, &c->info.addr[0], c->info.port[0], cli, sizeof cli);
        sl_render_endpoint(o, &c->info.addr[1], c->info.port[1], srv, sizeof srv);
        fprintf(o->out, "%s#%u %s -> %s\n", shown ? "\n" : "", c->index, cli, srv);
        sl_render_tls_session(o->out, c->tls, &out, cli, srv);
        shown++;
    }
    if (sp && sp->batch) {
        sp->entries[SL_SPOOL_CONNS] = shown;
        return 0;
    }
    if (!shown)
        fprintf(o->out, "no TLS seen\n");
    return 0;
}
