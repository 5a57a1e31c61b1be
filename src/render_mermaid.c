/* render_mermaid.c - the `ladder` view as Mermaid sequenceDiagrams, for
 * tickets and docs: participants named by host labels, SIP messages as
 * arrows, TCP and TLS events as notes over the two hosts, the verdicts as a
 * final note.  One diagram per call (--call picks one), each in its own
 * fenced ```mermaid block with the call as its title: Markdown viewers
 * (GitHub, GitLab, mmdc) render each block, while diagrams written back to
 * back are one text Mermaid cannot parse.
 *
 * Mermaid reads ';' as a statement end and '#' as the start of an entity
 * code, and renders text as HTML; so ';', '#', ':', quotes, '<', '>', '&'
 * and '%' in any text (the title too) are written as entity codes ("#59;"),
 * which it decodes when it draws.  '%' also keeps "%%{init...}%%" directives
 * out, and '`' a fence a Markdown viewer would close the block on. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "render_ladder_internal.h"
#include "sipladder/spool.h"
#include "sipladder/diagnose.h"

/* s (already escaped: no control bytes) with Mermaid's special characters
 * as entity codes. */
static void mermaid_put(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case ';': fputs("#59;", out); break;
        case '#': fputs("#35;", out); break;
        case ':': fputs("#58;", out); break;
        case '"': fputs("#quot;", out); break;
        case '\'': fputs("#39;", out); break;
        case '<': fputs("#lt;", out); break;
        case '>': fputs("#gt;", out); break;
        case '&': fputs("#amp;", out); break;
        case '%': fputs("#37;", out); break;
        case '`': fputs("#96;", out); break;
        case '\n':
        case '\r': fputc(' ', out); break;
        default: fputc(*s, out);
        }
    }
}

static void participants(const sl_ladder *l, FILE *out)
{
    for (size_t i = 0; i < l->n_col; i++) {
        fprintf(out, "    participant P%zu as ", i + 1);
        mermaid_put(out, l->col[i].label);
        if (strcmp(l->col[i].label, l->col[i].address) != 0) {
            fputs(" (", out);
            mermaid_put(out, l->col[i].address);
            fputs(")", out);
        }
        fputc('\n', out);
    }
}

/* "Note over P1,P2: " or "Note over P1: " for the span from a to b. */
static void note_over(FILE *out, size_t a, size_t b)
{
    size_t lo = a < b ? a : b, hi = a < b ? b : a;
    if (lo == hi)
        fprintf(out, "    Note over P%zu: ", lo + 1);
    else
        fprintf(out, "    Note over P%zu,P%zu: ", lo + 1, hi + 1);
}

static void event_line(const sl_ladder *l, const sl_ladder_event *e, FILE *out)
{
    if (e->kind == SL_LEV_SIP) {
        fprintf(out, "    P%zu->>P%zu: ", e->from + 1, e->to + 1);
        mermaid_put(out, e->label ? e->label : "");
    } else {
        note_over(out, e->from, e->to);
        mermaid_put(out, e->label);
        fputs(" from ", out);
        mermaid_put(out, l->col[e->from].label);
    }
    fprintf(out, " (frame %" PRIu64 ")\n", e->frame);
}

static void verdict_notes(const sl_ladder *l, const sl_report *r, FILE *out)
{
    if (!r->diagnoses || l->n_col == 0)
        return;
    size_t shown = 0;
    char buf[2048];
    for (size_t i = 0; i < r->diagnoses->n; i++) {
        if (!sl_ladder_has_verdict(r, l, i))
            continue;
        note_over(out, 0, l->n_col - 1);
        mermaid_put(out, r->diagnoses->list[i].healthy ? "Note: " : "Verdict: ");
        mermaid_put(out, sl_ladder_verdict_text(r, i, buf, sizeof buf));
        fputc('\n', out);
        shown++;
    }
    if (shown == 0) {
        note_over(out, 0, l->n_col - 1);
        fputs("Verdict#58; none\n", out);
    }
}

static int draw_mermaid(const sl_ladder *l, const sl_report *r, const sl_render_opts *o, void *ctx)
{
    bool *first = ctx;
    FILE *out = o->out;
    if (!*first)
        fputc('\n', out);
    *first = false;
    fputs("```mermaid\nsequenceDiagram\n    title ", out);
    mermaid_put(out, l->title);
    fputc('\n', out);
    participants(l, out);
    for (size_t i = 0; i < l->n_ev; i++)
        event_line(l, &l->ev[i], out);
    verdict_notes(l, r, out);
    fputs("```\n", out);
    return 0;
}

int sl_render_ladder_mermaid(const sl_report *r, const sl_render_opts *o)
{
    /* Ladders already spooled (call_stream.h) come first. */
    bool first = !(o->spool && o->spool->entries[SL_SPOOL_CALLS]);
    return sl_ladder_each(r, o, draw_mermaid, &first);
}
