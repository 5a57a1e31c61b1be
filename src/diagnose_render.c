/* diagnose_render.c - the text of the verdicts: one line per call (caller
 * -> callee, outcome, verdict and who rejected it), then the "diagnosis"
 * block with each verdict's summary, rejecter, causes and evidence.  Shared
 * by the `summary` view (at its end) and the `diagnose` command. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sipladder/diagnose.h"
#include "sipladder/render.h"
#include "sipladder/text.h"

static const char *red(const sl_render_opts *o) { return o->color ? "\033[31m" : ""; }
static const char *green(const sl_render_opts *o) { return o->color ? "\033[32m" : ""; }
static const char *off(const sl_render_opts *o) { return o->color ? "\033[0m" : ""; }

/* "10.0.0.2:5061 (Expressway-E), server, remote" */
static void print_rejecter(const sl_rejecter *rj, const sl_render_opts *o)
{
    char ap[SL_ADDR_PORT_STRLEN];
    sl_addr_port_format(&rj->addr, rj->port, ap, sizeof ap);
    const char *label = o->labels ? sl_labels_find(o->labels, &rj->addr, rj->port) : NULL;
    if (!label)
        label = rj->label;
    if (rj->role == SL_ROLE_NETWORK)
        fprintf(o->out, "network (nobody answered for %s", ap);
    else
        fprintf(o->out, "%s (%s", ap, sl_role_name(rj->role));
    if (label && strcmp(label, ap) != 0 && strncmp(ap, label, strlen(label)) != 0) {
        fputs(", ", o->out);
        sl_text_fput(o->out, label, strlen(label));
    }
    fprintf(o->out, ", %s)", rj->local ? "capture point" : "far side");
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

static void print_calls(const sl_report *r, const sl_render_opts *o)
{
    const sl_calls *c = r->calls;
    if (!c || !c->n_calls)
        return;
    fprintf(o->out, "calls: %zu\n", c->n_calls);
    for (size_t i = 0; i < c->n_calls; i++) {
        const sl_call *call = &c->calls[i];
        fprintf(o->out, "  call %u: ", call->id);
        sl_text_fput(o->out, call->caller.p, call->caller.n);
        fputs(" -> ", o->out);
        sl_text_fput(o->out, call->callee.p, call->callee.n);
        fprintf(o->out, ", %s", outcome_name(call->outcome));
        if (call->final_status)
            fprintf(o->out, " %d", call->final_status);
        const sl_diagnosis *v = verdict_of_call(r->diagnoses, i);
        if (v) {
            fprintf(o->out, ", %s%s%s by ", v->healthy ? green(o) : red(o), v->code, off(o));
            print_rejecter(&v->rejected_by, o);
        }
        fputc('\n', o->out);
    }
}

static void print_verdict(const sl_diagnosis *v, size_t k, const sl_report *r, const sl_render_opts *o)
{
    fprintf(o->out, "  [%zu] %s%s%s", k, v->healthy ? green(o) : red(o), v->code, off(o));
    if (v->call >= 0 && r->calls && (size_t)v->call < r->calls->n_calls)
        fprintf(o->out, " call %u", r->calls->calls[v->call].id);
    if (v->conn_index)
        fprintf(o->out, " connection #%u", v->conn_index);
    if (v->suspect_injected)
        fputs(" (suspect injected)", o->out);
    fprintf(o->out, "\n      %s\n", v->summary ? v->summary : "");
    if (!v->healthy) {
        fputs("      rejected by: ", o->out);
        print_rejecter(&v->rejected_by, o);
        fputc('\n', o->out);
    }
    for (size_t i = 0; i < v->n_causes; i++)
        fprintf(o->out, "      %s %s\n", i ? "      " : "cause:", v->causes[i]);
    fputs("      evidence: frame", o->out);
    fputs(v->n_evidence == 1 ? "" : "s", o->out);
    for (size_t i = 0; i < v->n_evidence; i++)
        fprintf(o->out, "%s%" PRIu64, i ? ", " : " ", v->evidence[i]);
    if (!v->n_evidence)
        fputs("s: none", o->out);
    fputc('\n', o->out);
}

int sl_render_diagnosis(const sl_report *r, const sl_render_opts *o)
{
    print_calls(r, o);
    const sl_diagnoses *d = r->diagnoses;
    if (!d)
        return 0;
    if (!d->n) {
        fputs("diagnosis: nothing failed\n", o->out);
        return 0;
    }
    fprintf(o->out, "diagnosis: %zu verdict%s\n", d->n, d->n == 1 ? "" : "s");
    for (size_t i = 0; i < d->n; i++)
        print_verdict(&d->list[i], i + 1, r, o);
    return 0;
}
