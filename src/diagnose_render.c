/* diagnose_render.c - the text of the verdicts: one line per call (caller
 * -> callee, outcome, verdict and who rejected it), then the "diagnosis"
 * block with each verdict's summary, rejecter, causes and evidence.  Shared
 * by the `summary` view (at its end) and the `diagnose` command. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "sipladder/diagnose.h"
#include "sipladder/render.h"
#include "sipladder/spool.h"
#include "sipladder/text.h"

static const char *red(const sl_render_opts *o) { return o->color ? "\033[31m" : ""; }
static const char *green(const sl_render_opts *o) { return o->color ? "\033[32m" : ""; }
static const char *off(const sl_render_opts *o) { return o->color ? "\033[0m" : ""; }

/* "10.0.0.2:5061 (Expressway-E), server, remote" */
static void print_rejecter(const sl_report *r, const sl_rejecter *rj, const sl_render_opts *o, FILE *out)
{
    char ap[SL_ADDR_PORT_STRLEN];
    sl_addr_port_format(&rj->addr, rj->port, ap, sizeof ap);
    const char *label = sl_report_label(r, o, &rj->addr, rj->port);
    if (rj->role == SL_ROLE_NETWORK)
        fprintf(out, "network (%s %s", rj->how ? rj->how : "nobody answered for", ap);
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
    static const char *const names[] = {"answered", "rejected", "cancelled", "no answer", "other", "challenged"};
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
        if (call->outcome == SL_CALL_CHALLENGED)
            fputs(" (" SL_CALL_CHALLENGED_NOTE ")", out);
        const sl_diagnosis *v = verdict_of_call(r->diagnoses, i);
        if (v) {
            fprintf(out, ", %s%s%s by ", v->healthy ? green(o) : red(o), v->code, off(o));
            print_rejecter(r, &v->rejected_by, o, out);
        }
        fputc('\n', out);
    }
}

/* Connection verdicts alike in all but the connection (same code, same
 * rejecter, same causes: a hundred probes aborted the same way) are
 * printed once, with the others listed; -v prints each, and JSON keeps
 * each.  Verdicts of connections written early (call_stream.h) are
 * printed as their batch had them. */
static bool groupable(const sl_diagnosis *v) { return v->call == -1 && v->conn_index; }

/* An order in which verdicts alike (same code, rejecter, causes) are
 * neighbours, and within them, their order in the list. */
static int kind_cmp(const void *pa, const void *pb)
{
    const sl_diagnosis *a = *(const sl_diagnosis *const *)pa, *b = *(const sl_diagnosis *const *)pb;
    int c = (int)groupable(b) - (int)groupable(a);
    if (c == 0 && groupable(a)) {
        if ((c = strcmp(a->code, b->code)) == 0 && (c = (int)a->rejected_by.role - (int)b->rejected_by.role) == 0 &&
            (c = sl_addr_cmp(&a->rejected_by.addr, &b->rejected_by.addr)) == 0 &&
            (c = (int)a->suspect_injected - (int)b->suspect_injected) == 0 &&
            /* A client rejecter's port is ephemeral: one client, many connections. */
            (c = a->rejected_by.role == SL_ROLE_CLIENT ? 0 : (int)a->rejected_by.port - (int)b->rejected_by.port) == 0 &&
            (c = (a->n_causes > b->n_causes) - (a->n_causes < b->n_causes)) == 0)
            for (size_t i = 0; c == 0 && i < a->n_causes; i++)
                c = strcmp(a->causes[i], b->causes[i]);
    }
    return c ? c : (a > b) - (a < b);
}

/* The kinds of d's verdicts, linear after one sort: next[i] is the next
 * verdict of i's kind after i (SIZE_MAX: none), first[i] whether i is the
 * first of its kind, more[i] (for a first) how many follow it.  Each array
 * holds d->n entries; false when out of memory (then nothing is grouped). */
typedef struct verdict_kinds {
    size_t *next, *more;
    bool *first;
} verdict_kinds;

static bool same_kind(const sl_diagnosis *a, const sl_diagnosis *b)
{
    if (!groupable(a) || !groupable(b) || strcmp(a->code, b->code) != 0 ||
        a->rejected_by.role != b->rejected_by.role || !sl_addr_equal(&a->rejected_by.addr, &b->rejected_by.addr) ||
        a->suspect_injected != b->suspect_injected || a->n_causes != b->n_causes)
        return false;
    if (a->rejected_by.role != SL_ROLE_CLIENT && a->rejected_by.port != b->rejected_by.port)
        return false;
    for (size_t i = 0; i < a->n_causes; i++)
        if (strcmp(a->causes[i], b->causes[i]) != 0)
            return false;
    return true;
}

static void kinds_free(verdict_kinds *k)
{
    free(k->next);
    free(k->more);
    free(k->first);
}

static bool kinds_of(const sl_diagnoses *d, verdict_kinds *k)
{
    size_t n = d->n ? d->n : 1;
    const sl_diagnosis **by = malloc(n * sizeof *by); // NOLINT(bugprone-sizeof-expression): pointers
    k->next = malloc(n * sizeof *k->next);
    k->more = calloc(n, sizeof *k->more);
    k->first = malloc(n * sizeof *k->first);
    if (!by || !k->next || !k->more || !k->first) {
        free(by);
        kinds_free(k);
        return false;
    }
    for (size_t i = 0; i < d->n; i++)
        by[i] = &d->list[i];
    qsort(by, d->n, sizeof *by, kind_cmp);
    size_t lead = 0;
    for (size_t s = 0; s < d->n; s++) {
        size_t i = (size_t)(by[s] - d->list);
        k->next[i] = SIZE_MAX;
        k->first[i] = s == 0 || !same_kind(by[s - 1], by[s]);
        if (k->first[i]) {
            lead = i;
            continue;
        }
        k->next[by[s - 1] - d->list] = i; /* the same kind follows in list order */
        k->more[lead]++;
    }
    free(by);
    return true;
}

#define SL_GROUP_LISTED 12 /* connections named one by one in a group */

/* "and 97 more like it: connections #4, #5, ... (frames 8, 12, ...)" */
static void print_alike(const sl_diagnoses *d, const verdict_kinds *k, size_t first, FILE *out)
{
    size_t more = k->more[first];
    if (!more)
        return;
    fprintf(out, "      and %zu more like it: connection%s", more, more == 1 ? "" : "s");
    size_t shown = 0, i = k->next[first];
    for (; i != SIZE_MAX && shown < SL_GROUP_LISTED; i = k->next[i])
        fprintf(out, "%s#%u", shown++ ? ", " : " ", d->list[i].conn_index);
    fputs(more > shown ? ", ..." : "", out);
    fputs(" (first frames", out);
    shown = 0;
    for (i = k->next[first]; i != SIZE_MAX && shown < SL_GROUP_LISTED; i = k->next[i])
        if (d->list[i].n_evidence)
            fprintf(out, "%s%" PRIu64, shown++ ? ", " : " ", d->list[i].evidence[0]);
    fputs(more > shown ? ", ...)\n" : ")\n", out);
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
        print_rejecter(r, &v->rejected_by, o, out);
        fputc('\n', out);
    }
    for (size_t i = 0; i < v->n_causes; i++)
        fprintf(out, "      %s %s\n", i ? "      " : "cause:", v->causes[i]);
    fputs("      evidence: frame", out);
    fputs(v->n_evidence == 1 ? "" : "s", out);
    for (size_t i = 0; i < v->n_evidence; i++)
        fprintf(out, "%s%" PRIu64, i ? ", " : " ", v->evidence[i]);
    if (!v->n_evidence)
        fputs(": none", out); /* "frames: none" (a verdict from a log alone) */
    fputc('\n', out);
}

static void print_verdicts(const sl_report *r, const sl_render_opts *o, uint64_t first, FILE *out)
{
    const sl_diagnoses *d = r->diagnoses;
    verdict_kinds k = {0};
    bool grouped = d && !o->verbose && kinds_of(d, &k);
    for (size_t i = 0; d && i < d->n; i++) {
        if (grouped && !k.first[i])
            continue;
        print_verdict(&d->list[i], first + i, r, o, out);
        if (grouped)
            print_alike(d, &k, i, out);
    }
    if (grouped)
        kinds_free(&k);
}

/* Connections outside the signalling that ended badly: one line, so that
 * nothing is left out in silence (--all-traffic judges them). */
static void print_other_traffic(const sl_diagnoses *d, FILE *out)
{
    const sl_other_traffic *t = &d->other;
    uint64_t n = t->no_answer + t->refused + t->reset + t->handshake_incomplete;
    if (!n)
        return;
    fprintf(out, "other traffic (not SIP or TLS signalling; --all-traffic judges it): %" PRIu64 " connection%s", n,
            n == 1 ? "" : "s");
    const char *sep = ":";
    if (t->no_answer)
        fprintf(out, "%s %" PRIu64 " unanswered", sep, t->no_answer), sep = ",";
    if (t->refused)
        fprintf(out, "%s %" PRIu64 " refused", sep, t->refused), sep = ",";
    if (t->handshake_incomplete)
        fprintf(out, "%s %" PRIu64 " handshake incomplete", sep, t->handshake_incomplete), sep = ",";
    if (t->reset)
        fprintf(out, "%s %" PRIu64 " reset", sep, t->reset);
    fputs(", to port", out);
    fputs(t->n_ports == 1 ? "" : "s", out);
    for (size_t i = 0; i < t->n_ports; i++)
        fprintf(out, "%s%u", i ? "/" : " ", t->ports[i]);
    fputc('\n', out);
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
        print_other_traffic(d, o->out);
        return 0;
    }
    fprintf(o->out, "diagnosis: %" PRIu64 " verdict%s\n", n, n == 1 ? "" : "s");
    if (early_verdicts)
        sl_spool_copy(sp, SL_SPOOL_VERDICTS, o->out);
    print_verdicts(r, o, early_verdicts + 1, o->out);
    print_other_traffic(d, o->out);
    return 0;
}
