/* call_stream.h - calls written as they end, and connections as they
 * complete, so memory follows what is open, not the size of the capture.
 *
 * When the kept SIP records reach an eighth of --max-sip-memory the analysis
 * calls sl_call_stream_pressure (its sip_pressure hook).  The calls whose
 * every dialog is over and whose last message is SL_CALL_LINGER_NS old are
 * correlated again on their own, judged by the DNS and SIP rules, handed to
 * the view as a batch (sl_spool.batch set: it writes them to its spools),
 * and their records freed.  At the end the view's ordinary run writes its
 * head, the spools, then the calls still open.  Connection verdicts (TCP,
 * TLS) are made when a connection is complete: sl_call_stream_conns.
 *
 * What only later messages teach (a host's label from a Via zone seen
 * later, the FIN of a connection a written call used) cannot change what
 * was written; labels learned from written calls do reach later ones.
 * A capture with fewer SIP records than the mark (12 MB by default, about
 * 3,600 messages) and fewer than SL_CONNS_COMPLETE_BATCH complete
 * connections is not streamed: its output is as if held whole. */
#ifndef SIPLADDER_CALL_STREAM_H
#define SIPLADDER_CALL_STREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "sipladder/calls.h"
#include "sipladder/diagnose.h"
#include "sipladder/model.h"
#include "sipladder/render.h"
#include "sipladder/select.h"

/* After its last message a call may still see retransmissions and the ACK
 * of a final response: RFC 3261 timer B/F, 64*T1 = 32 s. */
#define SL_CALL_LINGER_NS (32 * SL_NS_PER_SEC)
/* An answered call silent this long lost its BYE to the capture. */
#define SL_CALL_STALE_NS (2 * 3600 * SL_NS_PER_SEC)

typedef int (*sl_view_fn)(const sl_report *r, const sl_render_opts *o);

typedef struct sl_call_stream_cfg {
    const sl_labels *labels;            /* --name, borrowed */
    size_t max_messages_per_call;       /* as sl_calls_build */
    const sl_diagnose_options *diagnose;/* NULL: the view shows no verdicts */
    bool needs_calls;                   /* false: every record is written and freed (messages view) */
    sl_view_fn view;                    /* the view, run once per batch; NULL: records only freed */
    sl_render_opts *opts;               /* its options (borrowed); opts->spool is set to the stream's */
    /* Run on each batch of connections retired, after the view (e.g.
     * --export-certs); may be NULL.  It reports its own failures. */
    int (*on_conns)(void *ctx, const sl_model *batch);
    void *on_conns_ctx;
    /* --call, --host, ... (select.h): each batch the view gets is what it
     * selects (a call written early that does not match is not shown);
     * borrowed, may be NULL.  needs_calls must be set with it. */
    sl_select *select;
} sl_call_stream_cfg;

typedef struct sl_call_stream sl_call_stream;

/* NULL when out of memory or when no temporary file can be made. */
sl_call_stream *sl_call_stream_new(const sl_call_stream_cfg *cfg);
void sl_call_stream_free(sl_call_stream *s); /* NULL-safe; the spools go with it */

/* The analysis hook (sl_analysis_hooks.sip_pressure); ctx is the stream. */
void sl_call_stream_pressure(void *ctx, sl_model *m, sl_time_ns now);

/* The analysis hook sl_analysis_hooks.conns_complete: the complete
 * connections that no held SIP record was carried by and no held call can
 * still take are judged by the TLS and TCP rules (with the capture point
 * the last batch of calls was judged with), handed to the view as a batch
 * (sl_spool.batch SL_BATCH_CONNS), and retired (sl_model_retire_conns).  Those no
 * call took are the end's orphans too. */
void sl_call_stream_conns(void *ctx, sl_model *m, sl_time_ns now);

/* Ready the final run: the calls still open follow the written ones in
 * numbering (ids shifted), their hosts learn what written calls taught
 * (labels, messages sent), and the options skip the DNS verdicts written
 * calls took.  calls may be NULL; dopt may be NULL.  0 or -SL_ENOMEM. */
int sl_call_stream_finish(sl_call_stream *s, sl_calls *calls, sl_diagnose_options *dopt);

/* 0, or the first error of a batch (-SL_ENOMEM, -1 when a spool could not
 * be written): the output is then incomplete. */
int sl_call_stream_status(const sl_call_stream *s);

#endif
