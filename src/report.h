/* report.h - what the views share about a report, resolved in one place
 * (report.c) so that every view says the same: the label of an address
 * and the outcome of a connection's TLS handshake.  Views call these and
 * never sl_labels_find or sl_model_tls_outcome themselves. */
#ifndef SL_REPORT_H
#define SL_REPORT_H

#include <stdint.h>

#include "sipladder/addr.h"
#include "sipladder/model.h"
#include "sipladder/render.h"
#include "sipladder/tls_session.h"

/* The name the user gave a (--name), for a:port before a alone; NULL:
 * none.  port 0: only a name for the whole address. */
const char *sl_report_user_label(const sl_render_opts *o, const sl_addr *a, uint16_t port);

/* The label of a (at port; 0: the host): the user's name (as above),
 * else the label correlation gave the host (a product, a zone; never its
 * bare address); NULL: none, the view shows the address. */
const char *sl_report_label(const sl_report *r, const sl_render_opts *o, const sl_addr *a, uint16_t port);

/* The outcome of c's TLS handshake with the run's certificate options
 * (o->tls: --expect-name, --ca-file): 0, or -SL_ENOMEM. */
int sl_report_tls_outcome(const sl_render_opts *o, const sl_conn *c, sl_tls_outcome *out);

#endif
