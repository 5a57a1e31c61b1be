/* select.h - which calls, connections, messages, DNS records and verdicts
 * the views show (--call, --host, --verdict, --from, --to), and the BPF
 * capture filter frames must pass to be read at all (-f).
 *
 * Criteria of different kinds must all hold; several of one kind (--call 1
 * --call 3) are alternatives.  The unit is the call: a call that matches
 * is shown whole (every message, the connections that carried it, those
 * that are its TLS/TCP/DNS evidence, its verdicts).  Without --call or
 * --verdict, connections, messages and DNS records outside any call are
 * shown when they match --host and the time window on their own.
 *
 * sl_select_apply() makes, from a report, the report of what is selected;
 * the views render it as they render any report.  It is applied to every
 * batch a stream writes early (call_stream.h) and to the end's report; the
 * selection remembers across them what it chose (the connections of the
 * calls it showed) and what exists (for the message when nothing matched). */
#ifndef SIPLADDER_SELECT_H
#define SIPLADDER_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sipladder/calls.h"
#include "sipladder/diagnose.h"
#include "sipladder/labels.h"
#include "sipladder/model.h"
#include "sipladder/render.h"

typedef struct sl_select sl_select;

/* labels (--name, borrowed, may be NULL) name hosts for --host.  NULL when
 * out of memory. */
sl_select *sl_select_new(const sl_labels *labels);
void sl_select_free(sl_select *s); /* NULL-safe */

/* Add a criterion from the command line.  0, or -SL_EUSAGE with a
 * message for people in err (the option is not named), or -SL_ENOMEM.
 *   call:    a call's number, a Call-ID, or a number/URI matched against
 *            caller, callee, From, To, Request-URI and P-Asserted-Identity
 *            (and a registration's address of record); shell wildcards
 *            (* ? [...]), case-insensitive.  A URI also matches without its
 *            scheme and parameters: sip:4281@example.com, 4281@example.com
 *            and 4281 all match <sip:4281@example.com;user=phone>.
 *   host:    ADDR, ADDR:PORT, [IPv6]:PORT, or a label (--name, a Via zone,
 *            a product) with wildcards: a call, connection or message with
 *            that endpoint.
 *   verdict: a verdict code with wildcards (tls.*, sip.response.4*).
 *   from/to: a time, UTC: 2026-11-21T06:00:25[.123456][Z] (a space for the
 *            T, or only the time of day 06:00:25, on the capture's first
 *            day), or +N[.N][s|ms|m|h] from the capture's first frame.  A
 *            call or connection is in the window when its span meets it. */
int sl_select_add_call(sl_select *s, const char *pattern, char *err, size_t errlen);
int sl_select_add_host(sl_select *s, const char *spec, char *err, size_t errlen);
int sl_select_add_verdict(sl_select *s, const char *pattern, char *err, size_t errlen);
int sl_select_set_from(sl_select *s, const char *when, char *err, size_t errlen);
int sl_select_set_to(sl_select *s, const char *when, char *err, size_t errlen);

/* Any of the criteria above given. */
bool sl_select_active(const sl_select *s);
/* --verdict given: the verdicts must be made even for views without them. */
bool sl_select_needs_diagnoses(const sl_select *s);

/* What one application made: a report over copies of the input's arrays
 * holding only what is selected (the records themselves are the input's,
 * borrowed: the input must outlive it).  Call indices are positions in
 * view.calls; ids stay the input's. */
typedef struct sl_select_view {
    sl_report report;
    sl_model model;
    sl_calls calls;
    sl_diagnoses diagnoses;
} sl_select_view;

/* Select from *in into *out (cleared first).  in->calls must be built
 * (sl_calls_build) when the selection is active; in->diagnoses is needed
 * for --verdict.  An inactive selection copies the whole report.  Then
 * the hook set with sl_select_on_selected runs on *out.  0 or -SL_ENOMEM. */
int sl_select_apply(sl_select *s, const sl_report *in, sl_select_view *out);
void sl_select_view_clear(sl_select_view *v); /* frees the copies only; NULL-safe */

/* Run on every view sl_select_apply made (sl_save uses it to learn the
 * flows of what is selected); may be NULL.  It returns 0 or -SL_ENOMEM. */
void sl_select_on_selected(sl_select *s, int (*fn)(void *ctx, const sl_report *selected), void *ctx);

/* Everything shown so far, over every application. */
typedef struct sl_select_counts {
    uint64_t calls, registrations, conns, messages, dns, verdicts;
} sl_select_counts;
sl_select_counts sl_select_shown(const sl_select *s);

/* When the selection is active and showed nothing at all: write to `out`
 * what it asked for and what exists, bounded (e.g. "no call matches
 * '*4281*'; calls: 1 alice -> bob, 2 ... (12 more)"), and return true.
 * False (nothing written) otherwise. */
bool sl_select_report_empty(const sl_select *s, FILE *out);

/* ---- -f: the BPF capture filter ---- */

typedef struct sl_capture_filter sl_capture_filter;

/* Check expr compiles (for Ethernet, as tcpdump would) and keep it.  NULL
 * with libpcap's message in err, or (err "") out of memory. */
sl_capture_filter *sl_capture_filter_new(const char *expr, char *err, size_t errlen);
void sl_capture_filter_free(sl_capture_filter *f); /* NULL-safe */
const char *sl_capture_filter_text(const sl_capture_filter *f);
/* Compile it for a link type (once per type).  0, or -SL_EUSAGE with
 * libpcap's message in err, -SL_ENOMEM. */
int sl_capture_filter_prepare(sl_capture_filter *f, int linktype, char *err, size_t errlen);
/* True when the frame passes (a link type not prepared passes nothing). */
bool sl_capture_filter_match(const sl_capture_filter *f, int linktype, const uint8_t *data, uint32_t caplen,
                             uint32_t wirelen);

#endif
