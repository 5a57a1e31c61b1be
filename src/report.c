/* report.c - labels and TLS outcomes for the views (report.h): one
 * precedence for a label, one set of options for a handshake's outcome. */
#include "report.h"

#include "sipladder/calls.h"
#include "sipladder/labels.h"

const char *sl_report_user_label(const sl_render_opts *o, const sl_addr *a, uint16_t port)
{
    return o->labels ? sl_labels_find(o->labels, a, port) : NULL;
}

const char *sl_report_label(const sl_report *r, const sl_render_opts *o, const sl_addr *a, uint16_t port)
{
    const char *name = sl_report_user_label(o, a, port);
    if (name)
        return name;
    for (size_t i = 0; r->calls && i < r->calls->n_hosts; i++) {
        const sl_host *h = &r->calls->hosts[i];
        if (sl_addr_equal(&h->addr, a))
            return h->label && h->source != SL_LABEL_ADDRESS ? h->label : NULL;
    }
    return NULL;
}

int sl_report_tls_outcome(const sl_render_opts *o, const sl_conn *c, sl_tls_outcome *out)
{
    return sl_model_tls_outcome(c, o->tls, out);
}
