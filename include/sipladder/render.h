/* render.h - text views of the model.  Renderers never parse bytes; any
 * string that came from a capture is escaped before it reaches a terminal. */
#ifndef SIPLADDER_RENDER_H
#define SIPLADDER_RENDER_H

#include <stdbool.h>
#include <stdio.h>

#include "sipladder/labels.h"
#include "sipladder/model.h"

struct sl_calls;
struct sl_diagnoses;
struct sl_spool;

/* Everything one run found, for the views.  calls and diagnoses are NULL
 * when the view did not ask for them. */
typedef struct sl_report {
    const sl_model *model;
    const struct sl_calls *calls;
    const struct sl_diagnoses *diagnoses;
} sl_report;

typedef struct sl_render_opts {
    FILE *out;
    bool color;
    bool quiet;   /* -q: the table only */
    int verbose;  /* -v: every anomaly */
    const sl_labels *labels;
    const struct sl_tls_options *tls; /* certificate checks (--expect-name, --ca-file), may be NULL */
    const char *format;               /* --format value each view interprets; NULL: its default */
    const struct sl_ladder_opts *ladder; /* ladder view options, may be NULL */
    /* Streaming (call_stream.h, spool.h), or NULL.  With spool->batch the
     * view writes only the per-call parts of r to the spool; in the final
     * run it writes the spooled parts before its own, counting them. */
    struct sl_spool *spool;
    /* Threads a view may run at once (--threads; 0 or 1: only the caller's).
     * The json view writes its elements out on a second thread (the
     * spool's work queue, spool.h): batches while the capture is read on,
     * the final run's arrays on both. */
    unsigned threads;
} sl_render_opts;

/* One line per TCP connection and UDP flow, then warnings and anomalies.
 * Views return 0, or -1 when out of memory. */
int sl_render_summary(const sl_report *r, const sl_render_opts *o);

/* Every connection that carried TLS: its handshake step by step, each
 * certificate, alerts, and the outcome with its hints.  0 or -1 (memory). */
int sl_render_tls(const sl_report *r, const sl_render_opts *o);

/* Every SIP message, one line each, ordered by the frame that completed it
 * (as tshark -Y sip).  0, or -1 when out of memory. */
int sl_render_messages(const sl_report *r, const sl_render_opts *o);

/* Options of the ladder view. */
typedef struct sl_ladder_opts {
    const char *call; /* --call: a call id (number) or a Call-ID; NULL: every call */
    bool ports;       /* --ports: one column per host:port, not per host */
    bool ascii;       /* --ascii: no UTF-8 box drawing */
    int width;        /* --width: 0 = the terminal's (stdout a tty), else 120 */
} sl_ladder_opts;

/* The calls one after another (then connections attached to no call), each
 * as a ladder: one column per host, one row per SIP message, TCP SYN,
 * SYN-ACK, FIN, RST and TLS handshake step, in frame order, then its
 * verdicts.  Format "text" (default) or "mermaid" (a sequenceDiagram).
 * 0, -1 when out of memory, -SL_EUSAGE when --call names no call or the
 * format is unknown (a message is on stderr). */
int sl_render_ladder(const sl_report *r, const sl_render_opts *o);
int sl_render_ladder_text(const sl_report *r, const sl_render_opts *o);
int sl_render_ladder_mermaid(const sl_report *r, const sl_render_opts *o);

/* The calls the correlation found, one line each with their legs by hop,
 * then registrations per address of record, unattached connections and
 * every host with its label.  Needs r->calls.  0 or -1. */
int sl_render_calls(const sl_report *r, const sl_render_opts *o);

/* Columns of the terminal out is (COLUMNS wins), or 0 when out is not a
 * terminal: the ladder is then 120 wide, the summary as wide as it needs. */
int sl_render_term_width(FILE *out);
/* "10.0.0.1:5060" or "10.0.0.1:5060 (Expressway-E)" into buf. */
const char *sl_render_endpoint(const sl_render_opts *o, const sl_addr *a, uint16_t port, char *buf, size_t len);

#endif
