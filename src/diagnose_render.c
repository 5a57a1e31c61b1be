/* diagnose_render.c - the text of the verdicts: one line per call (caller
 * -> callee, outcome, verdict and who rejected it), then the "diagnosis"
 * block with each verdict's summary, rejecter, causes and evidence.  Shared
 * by the `summary` view (at its end) and the `diagnose` command. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sipladder/diagnose.h"
#include "sipladder/render.h"
#include "sipladder/spool.h"
#include "sipladder/text.h"

static const char *red(const sl_render_opts *o) { return o->color ? "\033[31m" : ""; }
static const char *green(const sl_render_opts *o) { return o->color ? "\033[32m" : ""; }
static const char *off(const sl_render_opts *o) { return o->color ? "\033[0m" : ""; }

/* "10.0.0.2:5061 (Expressway-E), server, remote" */
static void print_rejecter(const sl_rejecter *rj, const sl_render_opts *o, FILE *out)
{
    char ap[SL_ADDR_PORT_STRLEN];
    sl_addr_port_format(&rj->addr, rj->port, ap, sizeof ap);
    const char *label = o->labels ? sl_labels_find(o->labels, &rj->addr, rj->port) : NULL;
    if (!label)
        label = rj->label;
    if (rj->role == SL_ROLE_NETWORK)
        fprintf(out, "network (nobody answered for %s", ap);
    else
        fprintf(out, "%s (%s", ap, sl_role_name(rj->role));
    if (label && strcmp(label, ap) != 0 && strncmp(ap, label, strlen(label)) != 0) {
        fputs(", ", out);
        sl_text_fput(out, label, strlen(label));
    }
    fprintf(out, ", %s)", rj->local ? "capture point" : "far side");
}

/* The verdict that explains call index ci: a failure before a healthy note. */
static const sl_diagnosis *verdict_of_call(const sl_diagnoses *d, size_t ci)
{
    const sl_diagnosis *best = NULL;
    for (size_t i = 0; d && i < d->n; i++)
        if (d->list[i].call == (int)ci && (!best || (best->healthy && !d->list[i].healthy)))
            best = &d->list[i];
    return best;
}

/* Local names: correlate.c's sl_call_outcome_name would tie this file to it. */
static const char *outcome_name(sl_call_outcome oc)
{
    static const char *const names[] = {"answered", "rejected", "cancelled", "no answer", "other"};
    return (unsigned)oc < sizeof names / sizeof names[0] ? names[oc] : "?";
}

static void print_call_lines(const sl_report *r, const sl_render_opts *o, FILE *out)
{
    const sl_calls *c = r->calls;
    for (size_t i = 0; c && i < c->n_calls; i++) {
        const sl_call *call = &c->calls[i];
        fprintf(out, "  call %u: ", call->id);
        sl_text_fput(out, call->caller.p, call->caller.n);
        fputs(" -> ", out);
        sl_text_fput(out, call->callee.p, call->callee.n);
        fprintf(out, ", %s", outcome_name(call->outcome));
        if (call->final_status)
            fprintf(out, " %d", call->final_status);
        const sl_diagnosis *v = verdict_of_call(r->diagnoses, i);
        if (v) {
            fprintf(out, ", %s%s%s by ", v->healthy ? green(o) : red(o), v->code, off(o));
            print_rejecter(&v->rejected_by, o, out);
        }
        fputc('\n', out);
    }
}

static void print_verdict(const sl_diagnosis *v, uint64_t k, const sl_report *r, const sl_render_opts *o,
                          FILE *out)
{
    fprintf(out, "  [%" PRIu64 "] %s%s%s", k, v->healthy ? green(o) : red(o), v->code, off(o));
    if (v->call >= 0 && r->calls && (size_t)v->call < r->calls->n_calls)
        fprintf(out, " call %u", r->calls->calls[v->call].id);
    if (v->conn_index)
        fprintf(out, " connection #%u", v->conn_index);
    if (v->suspect_injected)
        fputs(" (suspect injected)", out);
    fprintf(out, "\n      %s\n", v->summary ? v->summary : "");
    if (!v->healthy) {
        fputs("      rejected by: ", out);
        print_rejecter(&v->rejected_by, o, out);
        fputc('\n', out);
    }
    for (size_t i = 0; i < v->n_causes; i++)
        fprintf(out, "      %s %s\n", i ? "      " : "cause:", v->causes[i]);
    fputs("      evidence: frame", out);
    fputs(v->n_evidence == 1 ? "" : "s", out);
    for (size_t i = 0; i < v->n_evidence; i++)
        fprintf(out, "%s%" PRIu64, i ? ", " : " ", v->evidence[i]);
    if (!v->n_evidence)
        fputs("s: none", out);
    fputc('\n', out);
}

static void print_verdicts(const sl_report *r, const sl_render_opts *o, uint64_t first, FILE *out)
{
    for (size_t i = 0; r->diagnoses && i < r->diagnoses->n; i++)
        print_verdict(&r->diagnoses->list[i], first + i, r, o, out);
}

/* A streamed batch: its call lines and verdicts to the spool. */
static int spool_batch(const sl_report *r, const sl_render_opts *o, sl_spool *sp)
{
    print_call_lines(r, o, sp->part[SL_SPOOL_CALLS]);
    print_verdicts(r, o, sp->entries[SL_SPOOL_VERDICTS] + 1, sp->part[SL_SPOOL_VERDICTS]);
    sp->entries[SL_SPOOL_CALLS] += r->calls ? r->calls->n_calls : 0;
    sp->entries[SL_SPOOL_VERDICTS] += r->diagnoses ? r->diagnoses->n : 0;
    return 0;
}

int sl_render_diagnosis(const sl_report *r, const sl_render_opts *o)
{
    sl_spool *sp = o->spool;
    if (sp && sp->batch)
        return spool_batch(r, o, sp);
    uint64_t early_calls = sp ? sp->entries[SL_SPOOL_CALLS] : 0;
    uint64_t early_verdicts = sp ? sp->entries[SL_SPOOL_VERDICTS] : 0;
    uint64_t n_calls = early_calls + (r->calls ? r->calls->n_calls : 0);
    if (n_calls) {
        fprintf(o->out, "calls: %" PRIu64 "\n", n_calls);
        if (early_calls)
            sl_spool_copy(sp, SL_SPOOL_CALLS, o->out);
        print_call_lines(r, o, o->out);
    }
    const sl_diagnoses *d = r->diagnoses;
    if (!d)
        return 0;
    uint64_t n = early_verdicts + d->n;
    if (!n) {
        fputs("diagnosis: nothing failed\n", o->out);
        return 0;
    }
    fprintf(o->out, "diagnosis: %" PRIu64 " verdict%s\n", n, n == 1 ? "" : "s");
    if (early_verdicts)
        sl_spool_copy(sp, SL_SPOOL_VERDICTS, o->out);
    print_verdicts(r, o, early_verdicts + 1, o->out);
    return 0;
}
