/* render_calls.c - the `calls` view: what the correlation made of a capture,
 * compact enough to read at a glance and exact enough to debug it: one line
 * per call (then one per leg, by hop), registrations per address of record,
 * connections no call could claim, and every host with its label. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sipladder/calls.h"
#include "sipladder/render.h"
#include "sipladder/spool.h"
#include "sipladder/text.h"

static void put_str(FILE *out, sl_sip_str s)
{
    sl_text_fput(out, s.p, s.n);
}

/* "10.0.0.1" or "10.0.0.1 (Expressway-E)". */
static void put_host(FILE *out, const sl_calls *c, uint32_t h)
{
    char a[SL_ADDR_PORT_STRLEN];
    if (h >= c->n_hosts) {
        fputs("?", out);
        return;
    }
    const sl_host *host = &c->hosts[h];
    fputs(sl_addr_format(&host->addr, a, sizeof a), out);
    if (host->source != SL_LABEL_ADDRESS)
        fprintf(out, " (%s)", host->label); /* labels are escaped when made */
}

static void put_conns(FILE *out, const uint32_t *conns, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%u", i ? "," : "", conns[i]);
    if (!n)
        fputs("-", out);
}

static void put_leg(FILE *out, const sl_calls *c, const sl_leg *l)
{
    uint32_t resent = 0, dup = 0;
    for (size_t i = 0; i < l->n_transactions; i++) {
        const sl_transaction *t = &c->transactions[l->transactions[i]];
        resent += t->request_copies > 1 ? t->request_copies - 1 : 0;
        dup += t->duplicates;
    }
    fprintf(out, "  hop %u  ", l->hop);
    put_host(out, c, l->host[0]);
    fputs(" -> ", out);
    put_host(out, c, l->host[1]);
    fputs("  Call-ID ", out);
    put_str(out, l->call_id);
    fprintf(out, "\n         %zu msg, %zu tx, %u resent", l->n_messages, l->n_transactions, resent);
    if (dup)
        fprintf(out, ", %u seen twice", dup);
    fprintf(out, ", %zu dialog%s, conn ", l->n_dialogs, l->n_dialogs == 1 ? "" : "s");
    put_conns(out, l->conns, l->n_conns);
    fputs("\n", out);
}

static void put_call(FILE *out, const sl_calls *c, const sl_call *k)
{
    char ts[64];
    const sl_sip_record *first = k->n_messages ? k->messages[0] : NULL;
    fprintf(out, "call %u  frame %llu  %s  ", k->id, first ? (unsigned long long)first->span.last_frame : 0ull,
            sl_time_format(k->first_ts, ts, sizeof ts));
    put_str(out, k->caller);
    fputs(" -> ", out);
    put_str(out, k->callee);
    fprintf(out, "  %s", sl_call_outcome_name(k->outcome));
    if (k->final_status)
        fprintf(out, " %d", k->final_status);
    else if (k->decided_by && k->decided_by->f.is_request) {
        fputs(" (", out);
        put_str(out, k->decided_by->f.method);
        fputs(")", out);
    }
    if (k->decided_by)
        fprintf(out, " (frame %llu%s%s)", (unsigned long long)k->decided_by->span.last_frame,
                k->outcome == SL_CALL_CHALLENGED ? "; " : "", k->outcome == SL_CALL_CHALLENGED ? SL_CALL_CHALLENGED_NOTE : "");
    fprintf(out, "  %zu leg%s, %zu msg", k->n_legs, k->n_legs == 1 ? "" : "s", k->n_messages);
    if (k->messages_not_kept)
        fprintf(out, " (+%zu not kept: --max-call-messages)", k->messages_not_kept);
    fputc('\n', out);
    for (size_t i = 0; i < k->n_legs; i++)
        put_leg(out, c, &c->legs[k->legs[i]]);
    size_t extra = 0;
    for (size_t i = 0; i < k->n_conns; i++) {
        bool carried = false;
        for (size_t l = 0; l < k->n_legs && !carried; l++) {
            const sl_leg *leg = &c->legs[k->legs[l]];
            for (size_t j = 0; j < leg->n_conns && !carried; j++)
                carried = leg->conns[j] == k->conns[i];
        }
        if (!carried)
            fprintf(out, "%s%u", extra++ ? "," : "  also conn (no SIP read) ", k->conns[i]);
    }
    if (extra)
        fputs("\n", out);
}

static void put_registration(FILE *out, const sl_calls *c, const sl_registration *g)
{
    fputs("  ", out);
    put_str(out, g->aor);
    fputs("  ", out);
    put_host(out, c, g->host[0]);
    fputs(" -> ", out);
    put_host(out, c, g->host[1]);
    fputs("\n    ", out);
    for (size_t i = 0; i < g->n_transactions; i++) {
        const sl_transaction *t = &c->transactions[g->transactions[i]];
        bool creds = t->request && (t->request->f.has_authorization || t->request->f.has_proxy_authorization);
        fprintf(out, "%s%s", i ? ", " : "", creds ? "auth " : "");
        if (t->final)
            fprintf(out, "%d", t->final->f.status_code);
        else
            fputs("-", out);
        if (t->request_copies > 1)
            fprintf(out, " (x%u)", t->request_copies);
    }
    fprintf(out, "  last %d", g->last_status);
    if (g->expires >= 0)
        fprintf(out, "  expires %lld", (long long)g->expires);
    if (g->auth_challenged)
        fputs("  challenged", out);
    if (g->auth_failed)
        fputs("  AUTH FAILED", out);
    if (g->ar_sk_offered || g->ar_sk_supported)
        fprintf(out, "  AR_SK offered:%s supported:%s", g->ar_sk_offered ? "yes" : "no",
                g->ar_sk_supported ? "yes" : "no");
    fputs("\n", out);
}

static const char *source_name(sl_label_source s)
{
    switch (s) {
    case SL_LABEL_USER: return "--name";
    case SL_LABEL_ZONE: return "via zone";
    case SL_LABEL_PRODUCT: return "product";
    case SL_LABEL_ADDRESS: return "address";
    }
    return "?";
}

static void put_hosts(FILE *out, const sl_calls *c)
{
    fprintf(out, "Hosts: %zu\n", c->n_hosts);
    for (size_t i = 0; i < c->n_hosts; i++) {
        const sl_host *h = &c->hosts[i];
        char a[SL_ADDR_PORT_STRLEN];
        fprintf(out, "  %-15s  %s [%s]", sl_addr_format(&h->addr, a, sizeof a), h->label, source_name(h->source));
        if (h->role)
            fprintf(out, "  role %s", h->role);
        if (h->product)
            fprintf(out, "  \"%s\"", h->product);
        fprintf(out, "  %u msg sent, %u flow%s\n", h->messages_sent, h->flows, h->flows == 1 ? "" : "s");
    }
}

static size_t uncorrelated(const sl_report *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->model->n_sip; i++) {
        const sl_sip_record *s = r->model->sip[i];
        sl_sip_str m = s->f.is_request ? s->f.method : s->f.cseq_method;
        bool reg = m.p && m.n == 8 && memcmp(m.p, "REGISTER", 8) == 0; /* as correlate.c: case-sensitive */
        if (!reg && sl_calls_call_of(r->calls, s) < 0)
            n++;
    }
    return n;
}

int sl_render_calls(const sl_report *r, const sl_render_opts *o)
{
    const sl_calls *c = r->calls;
    FILE *out = o->out;
    if (!c)
        return -1;
    sl_spool *sp = o->spool;
    if (sp && sp->batch) {
        /* Calls that ended early: spooled; the rest waits for the end. */
        for (size_t i = 0; i < c->n_calls; i++)
            put_call(sp->part[SL_SPOOL_CALLS], c, &c->calls[i]);
        sp->entries[SL_SPOOL_CALLS] += c->n_calls;
        return 0;
    }
    uint64_t early = sp ? sp->entries[SL_SPOOL_CALLS] : 0;
    fprintf(out, "Calls: %" PRIu64 "\n", early + (uint64_t)c->n_calls);
    if (early)
        sl_spool_copy(sp, SL_SPOOL_CALLS, out);
    for (size_t i = 0; i < c->n_calls; i++)
        put_call(out, c, &c->calls[i]);
    /* Orphan responses are not in a call either, and are listed apart. */
    size_t lost = uncorrelated(r) - c->n_orphan_responses;
    if (c->n_orphan_responses)
        fprintf(out, "Responses without their request (not a call: no request of their Call-ID was read from the capture): %zu\n",
                c->n_orphan_responses);
    for (size_t i = 0; i < c->n_orphan_responses; i++) {
        const sl_sip_record *s = c->orphan_responses[i];
        char line[512];
        sl_sip_record_format_line(s, line, sizeof line);
        fprintf(out, "%s\n", line);
    }
    if (lost)
        fprintf(out, "Not correlated: %zu message%s (malformed, or no Call-ID/CSeq)\n", lost, lost == 1 ? "" : "s");
    fprintf(out, "Registrations: %zu\n", c->n_registrations);
    for (size_t i = 0; i < c->n_registrations; i++)
        put_registration(out, c, &c->registrations[i]);
    if (c->n_orphan_conns) {
        fprintf(out, "Connections with no SIP read and no single call: ");
        put_conns(out, c->orphan_conns, c->n_orphan_conns);
        fputs("\n", out);
    }
    put_hosts(out, c);
    return 0;
}
