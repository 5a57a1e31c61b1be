/* ladder_events.c - the rows of a ladder: a call's SIP messages plus the
 * TCP opens/closes and TLS handshake steps of the connections attached to
 * it, in frame order, and the columns (hosts) they run between.  Shared by
 * the text and Mermaid views (render_ladder_internal.h). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "render_ladder_internal.h"
#include "sipladder/spool.h"
#include "sipladder/calls.h"
#include "sipladder/diagnose.h"
#include "sipladder/model.h"
#include "sipladder/status.h"
#include "sipladder/text.h"
#include "sipladder/tls.h"
#include "sipladder/tls_session.h"

char *sl_ladder_escape(const char *s, size_t n)
{
    if (!s)
        s = "", n = 0;
    size_t need = sl_text_escape(s, n, NULL, 0);
    char *out = malloc(need + 1);
    if (out)
        sl_text_escape(s, n, out, need + 1);
    return out;
}

static void ladder_clear(sl_ladder *l)
{
    for (size_t i = 0; i < l->n_ev; i++) {
        free(l->ev[i].label);
        free(l->ev[i].brief);
    }
    for (size_t i = 0; i < l->n_col; i++) {
        free(l->col[i].label);
        free(l->col[i].address);
    }
    free(l->ev);
    free(l->col);
    free(l->conns);
    free(l->title);
    *l = (sl_ladder){.call = -1};
}

/* A row; label (owned) is taken even on failure. */
static int add_event(sl_ladder *l, const sl_ladder_event *e, char *label)
{
    if (!label && e->kind != SL_LEV_SIP)
        return -1;
    if (l->n_ev == l->cap_ev) {
        size_t cap = l->cap_ev ? 2 * l->cap_ev : 16;
        sl_ladder_event *ev = realloc(l->ev, cap * sizeof *ev);
        if (!ev) {
            free(label);
            return -1;
        }
        l->ev = ev;
        l->cap_ev = cap;
    }
    l->ev[l->n_ev] = *e;
    l->ev[l->n_ev].label = label;
    l->ev[l->n_ev].seq = l->n_ev;
    l->n_ev++;
    return 0;
}

__attribute__((format(printf, 2, 3))) static char *textf(size_t cap, const char *fmt, ...);

static char *textf(size_t cap, const char *fmt, ...)
{
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    return buf;
}

/* "486 Busy Here" / "INVITE sip:bob@b": the first line without the
 * protocol version, which says nothing in a narrow row. */
static char *brief_line(const sl_sip_record *s)
{
    const sl_sip_fields *f = &s->f;
    sl_sip_str a = f->is_request ? f->method : (sl_sip_str){NULL, 0};
    sl_sip_str b = f->is_request ? f->request_uri : f->reason_phrase;
    char *x = sl_ladder_escape(a.p, a.n), *y = sl_ladder_escape(b.p, b.n), *t = NULL;
    if (x && y)
        t = f->is_request ? textf(strlen(x) + strlen(y) + 2, "%s %s", x, y)
                          : textf(strlen(y) + 16, "%d %s", f->status_code, y);
    free(x);
    free(y);
    return t;
}

static int add_sip(sl_ladder *l, const sl_sip_record *s)
{
    sl_ladder_tone tone = SL_TONE_REQUEST;
    int st = s->f.status_code;
    if (!s->f.is_request)
        tone = st < 200 ? SL_TONE_PROVISIONAL : st < 300 ? SL_TONE_SUCCESS : st < 400 ? SL_TONE_REDIRECT
                                                                                     : SL_TONE_FAILURE;
    if (s->f.malformed)
        tone = SL_TONE_FAILURE;
    char *label = sl_ladder_escape(s->f.first_line.p, s->f.first_line.n);
    if (!label)
        return -1;
    sl_ladder_event e = {.kind = SL_LEV_SIP, .frame = s->span.last_frame, .ts = s->span.last_ts, .src = s->src,
                         .dst = s->dst, .sport = s->sport, .dport = s->dport, .sip = s, .tone = tone};
    if (!s->f.malformed && (e.brief = brief_line(s)) == NULL) {
        free(label);
        return -1;
    }
    if (add_event(l, &e, label) < 0) {
        free(e.brief);
        return -1;
    }
    return 0;
}

/* A row between the two sides of a connection; side is who sent it. */
static int add_conn_event(sl_ladder *l, const sl_conn *c, int side, sl_ladder_kind kind, uint64_t frame,
                          sl_time_ns ts, sl_ladder_tone tone, char *label)
{
    int other = side == SL_SIDE_CLIENT ? SL_SIDE_SERVER : SL_SIDE_CLIENT;
    sl_ladder_event e = {.kind = kind, .frame = frame, .ts = ts, .src = c->info.addr[side],
                         .dst = c->info.addr[other], .sport = c->info.port[side], .dport = c->info.port[other],
                         .tone = tone};
    return add_event(l, &e, label);
}

static int add_tcp(sl_ladder *l, const sl_conn *c)
{
    uint32_t n = c->syn_count < SL_MAX_SYN_FRAMES ? c->syn_count : SL_MAX_SYN_FRAMES;
    for (uint32_t i = 0; i < n; i++) {
        if (!c->syn_frames[i])
            continue;
        char *t = i == 0 ? textf(16, "SYN") : textf(48, "SYN (try %u of %u)", i + 1, c->syn_count);
        sl_ladder_tone tone = i == 0 && c->synack_count ? SL_TONE_TCP : c->synack_count ? SL_TONE_TCP : SL_TONE_FAILURE;
        if (add_conn_event(l, c, SL_SIDE_CLIENT, SL_LEV_SYN, c->syn_frames[i], c->syn_ts[i], tone, t) < 0)
            return -1;
    }
    if (c->synack_frame &&
        add_conn_event(l, c, SL_SIDE_SERVER, SL_LEV_SYNACK, c->synack_frame, c->synack_ts, SL_TONE_TCP,
                       c->synack_count > 1 ? textf(32, "SYN-ACK (x%u)", c->synack_count) : textf(16, "SYN-ACK")) < 0)
        return -1;
    for (int side = 0; side < 2; side++) {
        const sl_close_event *f = &c->fin[side];
        if (f->frame && add_conn_event(l, c, f->side, SL_LEV_FIN, f->frame, f->ts, SL_TONE_TCP, textf(8, "FIN")) < 0)
            return -1;
    }
    const sl_close_event *r = &c->rst;
    if (r->frame) {
        char *t = textf(64, "RST%s%s", c->refused ? " (refused)" : "", r->ttl_differs ? " (TTL differs)" : "");
        if (add_conn_event(l, c, r->side, SL_LEV_RST, r->frame, r->ts, SL_TONE_FAILURE, t) < 0)
            return -1;
    }
    return 0;
}

static int add_tls_mark(sl_ladder *l, const sl_conn *c, int side, const sl_tls_mark *m, sl_ladder_tone tone,
                        char *label)
{
    if (!m->frame) {
        free(label);
        return 0;
    }
    return add_conn_event(l, c, side, SL_LEV_TLS, m->frame, m->ts, tone, label);
}

/* "TLS Certificate CN=name" for the chain one side sent. */
static char *cert_label(const sl_tls_chain *ch)
{
    if (ch->n_sent == 0)
        return textf(32, "TLS Certificate (empty)");
    const char *cn = ch->n && ch->certs[0]->subject_cn ? ch->certs[0]->subject_cn : NULL;
    if (!cn)
        return textf(32, "TLS Certificate");
    char *e = sl_ladder_escape(cn, strlen(cn));
    char *t = e ? textf(strlen(e) + 24, "TLS Certificate CN=%s", e) : NULL;
    free(e);
    return t;
}

static int add_tls_alerts(sl_ladder *l, const sl_conn *c, const sl_tls_session *s)
{
    for (size_t i = 0; i < s->n_alerts; i++) {
        const sl_tls_alert_seen *a = &s->alerts[i];
        int side = a->dir == SL_DIR_C2S ? SL_SIDE_CLIENT : SL_SIDE_SERVER;
        const char *name = sl_tls_alert_name(a->description);
        char *t = a->encrypted ? textf(32, "TLS Alert (encrypted)")
                  : name       ? textf(80, "TLS Alert %s %s", a->level == 2 ? "fatal" : "warning", name)
                               : textf(80, "TLS Alert %s %u", a->level == 2 ? "fatal" : "warning", a->description);
        sl_ladder_tone tone = a->level == 2 || a->encrypted ? SL_TONE_FAILURE : SL_TONE_TLS;
        if (add_conn_event(l, c, side, SL_LEV_TLS, a->frame, a->ts, tone, t) < 0)
            return -1;
    }
    return 0;
}

static int add_tls(sl_ladder *l, const sl_conn *c, const sl_tls_session *s)
{
    char *sni = s->sni ? sl_ladder_escape(s->sni, strlen(s->sni)) : NULL;
    if (s->sni && !sni)
        return -1;
    char *hello = sni ? textf(strlen(sni) + 32, "TLS ClientHello SNI=%s", sni) : textf(24, "TLS ClientHello");
    free(sni);
    const char *ver = s->version ? sl_tls_version_name(s->version) : NULL;
    int rc = add_tls_mark(l, c, SL_SIDE_CLIENT, &s->client_hello, SL_TONE_TLS, hello);
    rc = rc ? rc : add_tls_mark(l, c, SL_SIDE_SERVER, &s->hello_retry, SL_TONE_TLS, textf(32, "TLS HelloRetryRequest"));
    rc = rc ? rc
            : add_tls_mark(l, c, SL_SIDE_SERVER, &s->server_hello, SL_TONE_TLS,
                           ver ? textf(48, "TLS ServerHello %s", ver) : textf(24, "TLS ServerHello"));
    rc = rc ? rc : add_tls_mark(l, c, SL_SIDE_SERVER, &s->chain[SL_DIR_S2C].at, SL_TONE_TLS, cert_label(&s->chain[SL_DIR_S2C]));
    rc = rc ? rc : add_tls_mark(l, c, SL_SIDE_SERVER, &s->cert_request, SL_TONE_TLS, textf(32, "TLS CertificateRequest"));
    rc = rc ? rc : add_tls_mark(l, c, SL_SIDE_CLIENT, &s->chain[SL_DIR_C2S].at, SL_TONE_TLS, cert_label(&s->chain[SL_DIR_C2S]));
    rc = rc ? rc : add_tls_mark(l, c, SL_SIDE_CLIENT, &s->side[SL_DIR_C2S].finished, SL_TONE_TLS, textf(24, "TLS Finished"));
    rc = rc ? rc : add_tls_mark(l, c, SL_SIDE_SERVER, &s->side[SL_DIR_S2C].finished, SL_TONE_TLS, textf(24, "TLS Finished"));
    return rc ? rc : add_tls_alerts(l, c, s);
}

static int add_conn(sl_ladder *l, const sl_model *m, uint32_t index)
{
    const sl_conn *c = sl_model_conn_const(m, index);
    if (!c)
        return 0;
    if (c->info.transport == SL_TRANSPORT_TCP && add_tcp(l, c) < 0)
        return -1;
    return c->tls ? add_tls(l, c, c->tls) : 0;
}

/* Keep the connection list sorted and without repeats, then add their rows. */
static int add_conns(sl_ladder *l, const sl_model *m)
{
    sl_calls_sort_unique(l->conns, &l->n_conns);
    for (size_t i = 0; i < l->n_conns; i++)
        if (add_conn(l, m, l->conns[i]) < 0)
            return -1;
    return 0;
}

static int push_conns(sl_ladder *l, const uint32_t *idx, size_t n)
{
    if (n == 0)
        return 0;
    uint32_t *c = realloc(l->conns, (l->n_conns + n) * sizeof *c);
    if (!c)
        return -1;
    memcpy(c + l->n_conns, idx, n * sizeof *c);
    l->conns = c;
    l->n_conns += n;
    return 0;
}

static int by_frame(const void *a, const void *b)
{
    const sl_ladder_event *x = a, *y = b;
    /* a message read from an Expressway log alone has no frame: it goes by
     * its time (on the capture's clock) among the frames */
    if ((!x->frame || !y->frame) && x->frame != y->frame && x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    if (x->frame != y->frame)
        return x->frame < y->frame ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static bool same_column(const sl_ladder *l, const sl_ladder_column *c, const sl_addr *a, uint16_t port)
{
    return sl_addr_equal(&c->addr, a) && (!l->by_port || c->port == port);
}

static int new_column(sl_ladder *l, const sl_report *r, const sl_render_opts *o, const sl_addr *a, uint16_t port)
{
    sl_ladder_column *c = realloc(l->col, (l->n_col + 1) * sizeof *c);
    if (!c)
        return -1;
    l->col = c;
    c = &l->col[l->n_col];
    *c = (sl_ladder_column){.addr = *a, .port = l->by_port ? port : 0};
    char text[SL_ADDR_PORT_STRLEN];
    if (l->by_port)
        sl_addr_port_format(a, port, text, sizeof text);
    else
        sl_addr_format(a, text, sizeof text);
    const char *label = sl_report_label(r, o, a, port);
    c->address = strdup(text);
    c->label = label ? sl_ladder_escape(label, strlen(label)) : strdup(text);
    if (!c->address || !c->label) {
        free(c->address);
        free(c->label);
        return -1;
    }
    l->n_col++;
    return 0;
}

static int column_of(sl_ladder *l, const sl_report *r, const sl_render_opts *o, const sl_addr *a, uint16_t port,
                     size_t *out)
{
    for (size_t i = 0; i < l->n_col; i++) {
        if (same_column(l, &l->col[i], a, port)) {
            *out = i;
            return 0;
        }
    }
    if (new_column(l, r, o, a, port) < 0)
        return -1;
    *out = l->n_col - 1;
    return 0;
}

/* Columns in order of appearance, the sender of the first row leftmost.  A
 * host that talks to itself (loopback captures) needs its ports apart. */
static int assign_columns(sl_ladder *l, const sl_report *r, const sl_render_opts *o)
{
    l->by_port = o->ladder && o->ladder->ports;
    for (size_t i = 0; i < l->n_ev && !l->by_port; i++)
        if (sl_addr_equal(&l->ev[i].src, &l->ev[i].dst))
            l->by_port = true;
    for (size_t i = 0; i < l->n_ev; i++) {
        sl_ladder_event *e = &l->ev[i];
        if (column_of(l, r, o, &e->src, e->sport, &e->from) < 0 || column_of(l, r, o, &e->dst, e->dport, &e->to) < 0)
            return -1;
    }
    return 0;
}

static int finish(sl_ladder *l, const sl_report *r, const sl_render_opts *o, sl_ladder_draw_fn draw, void *ctx)
{
    int rc = add_conns(l, r->model);
    if (rc == 0 && l->n_ev)
        qsort(l->ev, l->n_ev, sizeof *l->ev, by_frame);
    if (rc == 0)
        rc = assign_columns(l, r, o);
    if (rc == 0 && !l->title)
        rc = -1;
    if (rc == 0)
        rc = draw(l, r, o, ctx);
    ladder_clear(l);
    return rc < 0 && rc != -SL_EUSAGE ? -1 : rc;
}

static char *call_title(const sl_call *c)
{
    char *from = sl_ladder_escape(c->caller.p, c->caller.n);
    char *to = sl_ladder_escape(c->callee.p, c->callee.n);
    char *t = NULL;
    if (from && to) {
        char status[64] = "", cut[96] = "";
        if (c->final_status)
            snprintf(status, sizeof status, " %d", c->final_status);
        if (c->outcome == SL_CALL_CHALLENGED)
            snprintf(status + strlen(status), sizeof status - strlen(status), " (%s)", SL_CALL_CHALLENGED_NOTE);
        if (c->messages_not_kept)
            snprintf(cut, sizeof cut, " (%zu later messages not kept: --max-call-messages)", c->messages_not_kept);
        t = textf(strlen(from) + strlen(to) + 180, "Call %u: %s -> %s, %s%s%s", c->id, c->caller.p ? from : "?",
                  c->callee.p ? to : "?", sl_call_outcome_name(c->outcome), status, cut);
    }
    free(from);
    free(to);
    return t;
}

static int draw_call(const sl_report *r, const sl_render_opts *o, size_t ci, sl_ladder_draw_fn draw, void *ctx)
{
    const sl_calls *cs = r->calls;
    const sl_call *c = &cs->calls[ci];
    sl_ladder l = {.call = (int)ci, .title = call_title(c)};
    int rc = 0;
    for (size_t i = 0; i < c->n_messages && rc == 0; i++)
        rc = add_sip(&l, c->messages[i]);
    if (rc == 0)
        rc = push_conns(&l, c->conns, c->n_conns);
    for (size_t i = 0; i < c->n_legs && rc == 0; i++)
        if (c->legs[i] < cs->n_legs)
            rc = push_conns(&l, cs->legs[c->legs[i]].conns, cs->legs[c->legs[i]].n_conns);
    if (rc < 0) {
        ladder_clear(&l);
        return -1;
    }
    return finish(&l, r, o, draw, ctx);
}

static int draw_orphan(const sl_report *r, const sl_render_opts *o, uint32_t index, sl_ladder_draw_fn draw, void *ctx)
{
    const sl_model *m = r->model;
    /* Retired (call_stream.c): drawn when it was written. */
    const sl_conn *c = sl_model_conn_const(m, index);
    if (!c)
        return 0;
    char a[SL_ADDR_PORT_STRLEN], b[SL_ADDR_PORT_STRLEN];
    sl_ladder l = {.call = -1,
                   .title = textf(200, "Connection %u: %s -> %s, no call", index,
                                  sl_addr_port_format(&c->info.addr[0], c->info.port[0], a, sizeof a),
                                  sl_addr_port_format(&c->info.addr[1], c->info.port[1], b, sizeof b))};
    if (push_conns(&l, &index, 1) < 0) {
        ladder_clear(&l);
        return -1;
    }
    return finish(&l, r, o, draw, ctx);
}

/* A registration timeline: every REGISTER transaction of one address of
 * record, and the connections that carried them. */
static int draw_registration(const sl_report *r, const sl_render_opts *o, size_t ri, sl_ladder_draw_fn draw, void *ctx)
{
    const sl_calls *cs = r->calls;
    const sl_registration *g = &cs->registrations[ri];
    char *aor = sl_ladder_escape(g->aor.p, g->aor.n);
    sl_ladder l = {.call = -1};
    if (aor)
        l.title = g->last_status ? textf(strlen(aor) + 64, "Registration %zu: %s, last status %d", ri + 1, aor, g->last_status)
                                 : textf(strlen(aor) + 64, "Registration %zu: %s, no final status", ri + 1, aor);
    free(aor);
    int rc = 0;
    for (size_t i = 0; i < g->n_transactions && rc == 0; i++) {
        if (g->transactions[i] >= cs->n_transactions)
            continue;
        const sl_transaction *t = &cs->transactions[g->transactions[i]];
        if (t->request)
            rc = add_sip(&l, t->request);
        if (rc == 0 && t->request && t->request->conn_index)
            rc = push_conns(&l, &t->request->conn_index, 1);
        for (size_t k = 0; k < t->n_responses && rc == 0; k++) {
            rc = add_sip(&l, t->responses[k]);
            if (rc == 0 && t->responses[k]->conn_index)
                rc = push_conns(&l, &t->responses[k]->conn_index, 1);
        }
    }
    if (rc < 0) {
        ladder_clear(&l);
        return -1;
    }
    return finish(&l, r, o, draw, ctx);
}

/* Without correlation: every message and connection of the capture. */
static int draw_capture(const sl_report *r, const sl_render_opts *o, sl_ladder_draw_fn draw, void *ctx)
{
    const sl_model *m = r->model;
    sl_ladder l = {.call = -1, .title = textf(64, "Capture: %zu SIP messages, %zu connections", m->n_sip, sl_model_conns_total(m))};
    int rc = 0;
    for (size_t i = 0; i < m->n_sip && rc == 0; i++)
        rc = add_sip(&l, m->sip[i]);
    for (size_t i = 0; i < m->n_conns && rc == 0; i++)
        rc = push_conns(&l, &m->conns[i].index, 1);
    if (rc < 0) {
        ladder_clear(&l);
        return -1;
    }
    return finish(&l, r, o, draw, ctx);
}

static bool call_matches(const sl_calls *cs, size_t ci, const char *want)
{
    const sl_call *c = &cs->calls[ci];
    char *end;
    unsigned long id = strtoul(want, &end, 10);
    if (*want >= '0' && *want <= '9' && *end == '\0')
        return id == c->id;
    size_t n = strlen(want);
    for (size_t i = 0; i < c->n_legs; i++) {
        const sl_leg *g = c->legs[i] < cs->n_legs ? &cs->legs[c->legs[i]] : NULL;
        if (g && g->call_id.p && g->call_id.n == n && memcmp(g->call_id.p, want, n) == 0)
            return true;
    }
    for (size_t i = 0; i < c->n_messages; i++) {
        const sl_sip_str *id2 = &c->messages[i]->f.call_id;
        if (id2->p && id2->n == n && memcmp(id2->p, want, n) == 0)
            return true;
    }
    return false;
}

int sl_ladder_each(const sl_report *r, const sl_render_opts *o, sl_ladder_draw_fn draw, void *ctx)
{
    const sl_calls *cs = r->calls;
    const char *want = o->ladder ? o->ladder->call : NULL;
    if (!cs) {
        if (want) {
            fprintf(stderr, "sipladder: --call needs the calls, which were not correlated\n");
            return -SL_EUSAGE;
        }
        return draw_capture(r, o, draw, ctx);
    }
    int rc = 0;
    size_t drawn = 0;
    sl_spool *sp = o->spool;
    sl_render_opts spooled;
    if (sp && sp->batch == SL_BATCH_CONNS) {
        /* Connections complete early: the ladders of those no call took. */
        spooled = *o;
        spooled.out = sp->part[SL_SPOOL_ORPHANS];
        for (size_t i = 0; i < cs->n_orphan_conns && rc == 0; i++)
            rc = draw_orphan(r, &spooled, cs->orphan_conns[i], draw, ctx);
        sp->entries[SL_SPOOL_ORPHANS] += cs->n_orphan_conns;
        return rc;
    }
    if (sp && sp->batch) {
        /* Calls that ended early: drawn into the spool, nothing else yet. */
        spooled = *o;
        spooled.out = sp->part[SL_SPOOL_CALLS];
        o = &spooled;
    } else if (sp) {
        sl_spool_copy(sp, SL_SPOOL_CALLS, o->out);
    }
    for (size_t i = 0; i < cs->n_calls && rc == 0; i++) {
        if (want && !call_matches(cs, i, want))
            continue;
        rc = draw_call(r, o, i, draw, ctx);
        drawn++;
    }
    if (sp && sp->batch) {
        sp->entries[SL_SPOOL_CALLS] += drawn;
        return rc;
    }
    if (want && drawn == 0 && !(sp && sp->entries[SL_SPOOL_CALLS])) {
        fputs("sipladder: no call '", stderr);
        sl_text_fput(stderr, want, strlen(want));
        uint64_t n = cs->n_calls + (sp ? sp->calls : 0);
        fprintf(stderr, "' (%llu call%s in the capture)\n", (unsigned long long)n, n == 1 ? "" : "s");
        return -SL_EUSAGE;
    }
    for (size_t i = 0; !want && i < cs->n_registrations && rc == 0; i++)
        rc = draw_registration(r, o, i, draw, ctx);
    if (!want && sp)
        sl_spool_copy(sp, SL_SPOOL_ORPHANS, o->out);
    for (size_t i = 0; !want && i < cs->n_orphan_conns && rc == 0; i++)
        rc = draw_orphan(r, o, cs->orphan_conns[i], draw, ctx);
    return rc;
}

bool sl_ladder_has_verdict(const sl_report *r, const sl_ladder *l, size_t i)
{
    if (!r->diagnoses || i >= r->diagnoses->n)
        return false;
    const sl_diagnosis *d = &r->diagnoses->list[i];
    if (d->call >= 0)
        return d->call == l->call && r->calls;
    /* A verdict on a connection drawn here (a refused or reset leg of the
     * call) whose proof is in these rows: a UDP flow carries calls and
     * registrations alike, and its verdicts belong where their frames are. */
    bool drawn = false;
    for (size_t k = 0; k < l->n_conns && !drawn; k++)
        drawn = l->conns[k] == d->conn_index;
    if (!drawn || d->n_evidence == 0)
        return drawn;
    for (size_t k = 0; k < d->n_evidence; k++)
        for (size_t e = 0; e < l->n_ev; e++)
            if (l->ev[e].frame == d->evidence[k])
                return true;
    return false;
}

/* Append s to the NUL-terminated text in buf, cut at len - 1 bytes. */
static void append(char *buf, size_t len, size_t *pos, const char *s)
{
    size_t n = strlen(s);
    if (*pos + 1 >= len)
        return;
    if (n > len - 1 - *pos)
        n = len - 1 - *pos;
    memcpy(buf + *pos, s, n);
    *pos += n;
    buf[*pos] = '\0';
}

static void verdict_rejecter(const sl_rejecter *rj, char *buf, size_t len, size_t *pos)
{
    char ap[SL_ADDR_PORT_STRLEN] = "";
    if (rj->addr.family)
        sl_addr_port_format(&rj->addr, rj->port, ap, sizeof ap);
    if (rj->known) {
        append(buf, len, pos, "; rejected by ");
    } else {
        append(buf, len, pos, "; ");
        append(buf, len, pos, rj->how ? rj->how : "no answer from");
        append(buf, len, pos, " ");
    }
    if (rj->label) {
        char *e = sl_ladder_escape(rj->label, strlen(rj->label));
        char a[SL_ADDR_PORT_STRLEN] = "";
        if (rj->addr.family)
            sl_addr_format(&rj->addr, a, sizeof a);
        if (e && strcmp(e, ap) != 0 && strcmp(e, a) != 0) {
            append(buf, len, pos, e);
            append(buf, len, pos, " ");
        }
        free(e);
    }
    append(buf, len, pos, ap[0] ? ap : "?");
    append(buf, len, pos, " (");
    append(buf, len, pos, sl_role_name(rj->role));
    append(buf, len, pos, ")");
}

const char *sl_ladder_verdict_text(const sl_report *r, size_t i, char *buf, size_t len)
{
    const sl_diagnosis *d = &r->diagnoses->list[i];
    size_t pos = 0;
    buf[0] = '\0';
    char *code = sl_ladder_escape(d->code, strnlen(d->code, sizeof d->code));
    char *sum = d->summary ? sl_ladder_escape(d->summary, strlen(d->summary)) : NULL;
    append(buf, len, &pos, code ? code : "?");
    if (sum) {
        append(buf, len, &pos, ": ");
        append(buf, len, &pos, sum);
    }
    free(code);
    free(sum);
    if (!d->healthy)
        verdict_rejecter(&d->rejected_by, buf, len, &pos);
    for (size_t k = 0; k < d->n_evidence; k++) {
        char f[32];
        snprintf(f, sizeof f, "%s%" PRIu64, k == 0 ? "; frames " : ", ", d->evidence[k]);
        append(buf, len, &pos, f);
    }
    return buf;
}

/* Lines under construction (open_memstream), escaped piece by piece. */
typedef struct details {
    char **lines;
    size_t n, cap;
    bool failed;
} details;

static FILE *line_open(char **buf, size_t *len)
{
    *buf = NULL;
    return open_memstream(buf, len);
}

/* bufp: open_memstream sets the buffer only when the stream is closed. */
static void line_close(details *d, FILE *f, char **bufp)
{
    int rc = fclose(f);
    char *buf = *bufp;
    if (rc != 0 || !buf) {
        free(buf);
        d->failed = true;
        return;
    }
    if (d->n == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 8;
        char **l = realloc(d->lines, cap * sizeof *l);
        if (!l) {
            free(buf);
            d->failed = true;
            return;
        }
        d->lines = l;
        d->cap = cap;
    }
    d->lines[d->n++] = buf;
}

static void detail_str(details *d, const char *name, sl_sip_str v, const char *pname, sl_sip_str pv)
{
    if (!v.p)
        return;
    char *buf;
    size_t len;
    FILE *f = line_open(&buf, &len);
    if (!f) {
        d->failed = true;
        return;
    }
    fputs(name, f);
    sl_text_fput(f, v.p, v.n);
    if (pname && pv.p) {
        fputs(pname, f);
        sl_text_fput(f, pv.p, pv.n);
    }
    line_close(d, f, &buf);
}

static void detail_header(details *d, const sl_sip_record *s, const char *name)
{
    sl_sip_str v;
    if (!sl_sip_header_get(&s->f, name, 0, &v))
        return;
    char label[40];
    snprintf(label, sizeof label, "%s: ", name);
    detail_str(d, label, v, NULL, (sl_sip_str){0});
}

static void detail_sdp_media(details *d, const sl_sdp_summary *sdp, size_t i)
{
    const sl_sdp_media *m = &sdp->media[i];
    char *buf;
    size_t len;
    FILE *f = line_open(&buf, &len);
    if (!f) {
        d->failed = true;
        return;
    }
    const char *addr = m->conn_addr[0] ? m->conn_addr : sdp->conn_addr;
    fputs("SDP: ", f);
    sl_text_fput(f, m->media, strlen(m->media));
    fputc(' ', f);
    sl_text_fput(f, addr, strlen(addr));
    fprintf(f, ":%u ", m->port);
    sl_text_fput(f, m->proto, strlen(m->proto));
    for (size_t k = 0; k < m->n_formats && k < 6; k++) {
        const sl_sdp_format *fm = &m->formats[k];
        fputc(' ', f);
        sl_text_fput(f, fm->codec[0] ? fm->codec : fm->fmt, strlen(fm->codec[0] ? fm->codec : fm->fmt));
    }
    if (m->n_formats > 6)
        fprintf(f, " +%zu", m->n_formats - 6);
    fprintf(f, " %s", sl_sdp_direction_name(sl_sdp_media_direction(sdp, i)));
    int64_t as = m->bw_as >= 0 ? m->bw_as : sdp->bw_as;
    if (as >= 0)
        fprintf(f, " b=AS:%" PRId64, as);
    if (m->crypto || sdp->crypto)
        fputs(" crypto", f);
    line_close(d, f, &buf);
}

int sl_ladder_sip_details(const sl_sip_record *s, char ***lines, size_t *n)
{
    details d = {0};
    const sl_sip_fields *f = &s->f;
    detail_str(&d, "From: ", f->from_uri, ";tag=", f->from_tag);
    detail_str(&d, "To: ", f->to_uri, ";tag=", f->to_tag);
    detail_str(&d, "Call-ID: ", f->call_id, NULL, (sl_sip_str){0});
    if (f->has_cseq) {
        char cseq[32];
        snprintf(cseq, sizeof cseq, "CSeq: %u ", f->cseq);
        detail_str(&d, cseq, f->cseq_method.p ? f->cseq_method : (sl_sip_str){"", 0}, NULL, (sl_sip_str){0});
    }
    if (f->n_vias)
        detail_str(&d, "Via: ", f->vias[0].host, ";branch=", f->vias[0].branch);
    if (f->n_contacts)
        detail_str(&d, "Contact: ", f->contacts[0].uri, NULL, (sl_sip_str){0});
    detail_header(&d, s, "Reason");
    detail_header(&d, s, "Warning");
    detail_str(&d, "Server: ", f->server, NULL, (sl_sip_str){0});
    detail_str(&d, "User-Agent: ", f->user_agent, NULL, (sl_sip_str){0});
    for (size_t i = 0; s->has_sdp && i < s->sdp.n_media; i++)
        detail_sdp_media(&d, &s->sdp, i);
    if (d.failed) {
        for (size_t i = 0; i < d.n; i++)
            free(d.lines[i]);
        free(d.lines);
        return -1;
    }
    *lines = d.lines;
    *n = d.n;
    return 0;
}
