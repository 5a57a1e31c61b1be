/* compare_verdicts.c - what the firewall did, from the paired packets of
 * compare.c: for each pair of flows and each direction, what entered and
 * never left (fw.dropped, or fw.idle_timeout when it stopped after a
 * silence), what left and never entered (fw.injected), what left changed
 * (fw.rewritten, with the header-level diff of a SIP message), and the
 * latency through it (fw.delayed). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipladder/compare.h"
#include "sipladder/decode.h"
#include "sipladder/status.h"

static sl_cmp_verdict *add_verdict(sl_compare *c, const char *code)
{
    if (c->n_verdicts == c->cap_verdicts) {
        size_t cap = c->cap_verdicts ? c->cap_verdicts * 2 : 16;
        sl_cmp_verdict *v = realloc(c->verdicts, cap * sizeof *v);
        if (!v)
            return NULL;
        c->verdicts = v;
        c->cap_verdicts = cap;
    }
    sl_cmp_verdict *v = &c->verdicts[c->n_verdicts++];
    memset(v, 0, sizeof *v);
    v->code = code;
    v->evidence_side = v->from_side = -1;
    v->flow[0] = v->flow[1] = -1;
    v->pkt[0] = v->pkt[1] = -1;
    return v;
}

__attribute__((format(printf, 2, 3))) static int set_summary(sl_cmp_verdict *v, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return (v->summary = strdup(buf)) ? 0 : -SL_ENOMEM;
}

/* A side's time on side 0's clock. */
static sl_time_ns clock0(const sl_compare *c, int side, sl_time_ns t)
{
    return side == 0 ? t : t - c->offset;
}

/* Whether the other capture ran when a packet of `side` was seen (an
 * empty capture is taken to have run all along: it saw nothing). */
static bool other_running(const sl_compare *c, int side, sl_time_ns t)
{
    const sl_cmp_side *o = &c->side[!side];
    if (!o->n_pkts)
        return true;
    sl_time_ns t0 = clock0(c, side, t);
    return t0 >= clock0(c, !side, o->first_ts) - c->opts.window &&
           t0 <= clock0(c, !side, o->last_ts) + c->opts.window;
}

static const char *proto_name(uint8_t p)
{
    return p == 6 ? "TCP" : "UDP";
}

static void flow_text(const sl_cmp_flow *f, char *buf, size_t len)
{
    char a[SL_ADDR_PORT_STRLEN], b[SL_ADDR_PORT_STRLEN];
    snprintf(buf, len, "%s %s -> %s", proto_name(f->proto),
             sl_addr_port_format(&f->addr[0], f->port[0], a, sizeof a),
             sl_addr_port_format(&f->addr[1], f->port[1], b, sizeof b));
}

static const char *what(const sl_cmp_pkt *p)
{
    if (p->flags & SL_TCP_RST)
        return "RST";
    if ((p->flags & (SL_TCP_SYN | SL_TCP_ACK)) == SL_TCP_SYN)
        return "SYN";
    if (p->flags & SL_TCP_SYN)
        return "SYN-ACK";
    if (p->flags & SL_TCP_FIN)
        return "FIN";
    static const char *const tls[] = {"TLS ChangeCipherSpec", "TLS alert", "TLS handshake",
                                      "TLS application data"};
    if (p->len && p->first_byte >= 0x14 && p->first_byte <= 0x17 && !p->sip_key)
        return tls[p->first_byte - 0x14];
    if (p->sip_key) {
        static const char *const methods[] = {"INVITE",   "ACK",       "BYE",    "CANCEL", "OPTIONS",
                                              "REGISTER", "PRACK",     "UPDATE", "INFO",   "REFER",
                                              "NOTIFY",   "SUBSCRIBE", "MESSAGE"};
        if (memcmp(p->head, "SIP/2.0 ", 8) == 0)
            return "SIP response";
        for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
            size_t n = strlen(methods[i]);
            if (n < sizeof p->head && memcmp(p->head, methods[i], n) == 0 && p->head[n] == ' ')
                return methods[i];
        }
        return "SIP message";
    }
    return p->len ? "data" : "ACK";
}

/* ---- TCP byte coverage: bytes re-segmented on the way crossed too ---- */

typedef struct span {
    uint32_t from, to;
} span;

static int cmp_span(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return x->from < y->from ? -1 : x->from > y->from;
}

typedef struct coverage {
    span *v;
    size_t n;
} coverage;

/* The data bytes of direction dir of flow f, merged. */
static int coverage_build(const sl_cmp_side *s, const sl_cmp_flow *f, uint8_t dir, coverage *cv)
{
    size_t n = 0;
    for (int64_t k = f->first_pkt; k >= 0; k = s->pkts[k].next)
        n += s->pkts[k].dir == dir && s->pkts[k].len;
    cv->v = malloc((n ? n : 1) * sizeof *cv->v);
    cv->n = 0;
    if (!cv->v)
        return -SL_ENOMEM;
    for (int64_t k = f->first_pkt; k >= 0; k = s->pkts[k].next) {
        const sl_cmp_pkt *p = &s->pkts[k];
        if (p->dir == dir && p->len)
            cv->v[cv->n++] = (span){p->seq_rel, p->seq_rel + p->len};
    }
    qsort(cv->v, cv->n, sizeof *cv->v, cmp_span);
    size_t m = 0;
    for (size_t i = 0; i < cv->n; i++) {
        if (m && cv->v[i].from <= cv->v[m - 1].to) {
            if (cv->v[i].to > cv->v[m - 1].to)
                cv->v[m - 1].to = cv->v[i].to;
        } else {
            cv->v[m++] = cv->v[i];
        }
    }
    cv->n = m;
    return 0;
}

static bool coverage_has(const coverage *cv, uint32_t from, uint32_t to)
{
    size_t lo = 0, hi = cv->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cv->v[mid].to < to)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < cv->n && cv->v[lo].from <= from && cv->v[lo].to >= to;
}

/* ---- one direction of a pair of flows ---- */

typedef struct dir_tally {
    uint64_t dropped, injected;
    int64_t first_dropped, first_injected; /* packet index on the entering / leaving side */
    sl_time_ns first_drop_ts;              /* side 0's clock */
} dir_tally;

static bool crossed_as_bytes(const sl_cmp_pkt *p, const sl_cmp_flow *f, const coverage *cv)
{
    return f->proto == 6 && p->len && !(p->flags & (SL_TCP_SYN | SL_TCP_RST)) &&
           coverage_has(cv, p->seq_rel, p->seq_rel + p->len);
}

static int tally_dir(sl_compare *c, const int64_t fi[2], uint8_t dir, dir_tally *t)
{
    int enters = c->side[0].flows[fi[0]].enters[dir];
    if (enters < 0)
        enters = 0;
    int leaves = !enters;
    const sl_cmp_side *e = &c->side[enters], *l = &c->side[leaves];
    const sl_cmp_flow *fe = &e->flows[fi[enters]], *fl = &l->flows[fi[leaves]];
    coverage cv_l = {0}, cv_e = {0};
    if (coverage_build(l, fl, dir, &cv_l) < 0 || coverage_build(e, fe, dir, &cv_e) < 0) {
        free(cv_l.v);
        free(cv_e.v);
        return -SL_ENOMEM;
    }
    *t = (dir_tally){.first_dropped = -1, .first_injected = -1};
    for (int64_t k = fe->first_pkt; k >= 0; k = e->pkts[k].next) {
        const sl_cmp_pkt *p = &e->pkts[k];
        if (p->dir != dir || p->peer >= 0 || !other_running(c, enters, p->ts) ||
            crossed_as_bytes(p, fe, &cv_l))
            continue;
        if (!t->dropped++) {
            t->first_dropped = k;
            t->first_drop_ts = clock0(c, enters, p->ts);
        }
    }
    for (int64_t k = fl->first_pkt; k >= 0; k = l->pkts[k].next) {
        const sl_cmp_pkt *p = &l->pkts[k];
        bool bare_ack = !p->len && !(p->flags & (SL_TCP_SYN | SL_TCP_FIN | SL_TCP_RST));
        if (p->dir != dir || p->peer >= 0 || bare_ack || !other_running(c, leaves, p->ts) ||
            crossed_as_bytes(p, fl, &cv_e))
            continue;
        if (!t->injected++)
            t->first_injected = k;
    }
    free(cv_l.v);
    free(cv_e.v);
    return 0;
}

static const char *sender(uint8_t dir)
{
    return dir == 0 ? "client" : "server";
}

static int verdict_dropped(sl_compare *c, const int64_t fi[2], uint8_t dir, const dir_tally *t)
{
    const sl_cmp_flow *f0 = &c->side[0].flows[fi[0]];
    int enters = f0->enters[dir] < 0 ? 0 : f0->enters[dir];
    const sl_cmp_side *e = &c->side[enters];
    const sl_cmp_pkt *p = &e->pkts[t->first_dropped];
    const sl_cmp_flow *fe = &e->flows[fi[enters]];
    sl_cmp_verdict *v = add_verdict(c, "fw.dropped");
    if (!v)
        return -SL_ENOMEM;
    v->evidence_side = enters;
    v->from_side = enters;
    v->flow[0] = fi[0];
    v->flow[1] = fi[1];
    v->dir = dir;
    v->count = t->dropped;
    v->frame[enters] = p->frame;
    v->frame[!enters] = fi[!enters] >= 0 ? c->side[!enters].flows[fi[!enters]].first_frame : 0;
    v->ts = clock0(c, enters, p->ts);
    char ft[160];
    flow_text(fe, ft, sizeof ft);
    if (fi[!enters] >= 0)
        return set_summary(
            v,
            "%s: %llu packet%s from the %s entered %s and never left %s (first: %s, %s frame %llu; "
            "the connection is on %s from frame %llu)",
            ft, (unsigned long long)t->dropped, t->dropped == 1 ? "" : "s", sender(dir), e->name,
            c->side[!enters].name, what(p), e->name, (unsigned long long)p->frame, c->side[!enters].name,
            (unsigned long long)v->frame[!enters]);
    return set_summary(
        v,
        "%s: %llu packet%s from the %s entered %s and never left %s: none of it is on %s (first: %s, "
        "%s frame %llu)",
        ft, (unsigned long long)t->dropped, t->dropped == 1 ? "" : "s", sender(dir), e->name,
        c->side[!enters].name, c->side[!enters].name, what(p), e->name, (unsigned long long)p->frame);
}

static int verdict_injected(sl_compare *c, const int64_t fi[2], uint8_t dir, const dir_tally *t)
{
    const sl_cmp_flow *f0 = &c->side[0].flows[fi[0]];
    int enters = f0->enters[dir] < 0 ? 0 : f0->enters[dir];
    int leaves = !enters;
    const sl_cmp_side *l = &c->side[leaves];
    const sl_cmp_flow *fl = &l->flows[fi[leaves]];
    const sl_cmp_pkt *p = &l->pkts[t->first_injected];
    sl_cmp_verdict *v = add_verdict(c, "fw.injected");
    if (!v)
        return -SL_ENOMEM;
    v->evidence_side = leaves;
    v->from_side = -1;
    v->flow[0] = fi[0];
    v->flow[1] = fi[1];
    v->dir = dir;
    v->count = t->injected;
    v->frame[leaves] = p->frame;
    v->frame[enters] = c->side[enters].flows[fi[enters]].first_frame;
    v->ts = clock0(c, leaves, p->ts);
    v->ttl = p->ttl;
    v->usual_ttl = fl->usual_ttl[dir];
    char ft[160], ttl[160] = "";
    flow_text(fl, ft, sizeof ft);
    if (v->ttl != v->usual_ttl)
        snprintf(ttl, sizeof ttl, "; its TTL %u is not the %u the %s's packets have on %s", v->ttl,
                 v->usual_ttl, sender(dir), l->name);
    return set_summary(
        v,
        "%s: %s from the %s on %s (frame %llu) that the %s never sent: %s has no such packet (the "
        "connection is there from frame %llu)%s; the firewall sent it%s",
        ft, what(p), sender(dir), l->name, (unsigned long long)p->frame, sender(dir), c->side[enters].name,
        (unsigned long long)v->frame[enters], ttl, t->injected > 1 ? " (and more: see count)" : "");
}

/* ---- rewritten SIP ---- */

/* One line of a message, escaped for any terminal and for JSON. */
static char *line_copy(char sign, const uint8_t *p, size_t n)
{
    if (n > 200)
        n = 200;
    char *s = malloc(2 + n * 4 + 1);
    if (!s)
        return NULL;
    size_t o = 0;
    s[o++] = sign;
    for (size_t i = 0; i < n; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f) {
            s[o++] = (char)p[i];
        } else {
            snprintf(s + o, 5, "\\x%02X", p[i]);
            o += 4;
        }
    }
    s[o] = '\0';
    return s;
}

typedef struct lines {
    const uint8_t *at[128];
    size_t len[128];
    size_t n;
} lines;

static void split_lines(const uint8_t *p, size_t len, lines *out)
{
    out->n = 0;
    size_t pos = 0;
    while (pos < len && out->n < 128) {
        size_t end = pos;
        while (end < len && p[end] != '\n')
            end++;
        size_t n = end - pos;
        if (n && p[pos + n - 1] == '\r')
            n--;
        out->at[out->n] = p + pos;
        out->len[out->n++] = n;
        pos = end + 1;
    }
}

static int diff_sip(sl_cmp_verdict *v, const uint8_t *before, size_t before_len, const uint8_t *after,
                    size_t after_len)
{
    lines *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    if (!a || !b) {
        free(a);
        free(b);
        return -SL_ENOMEM;
    }
    split_lines(before, before_len, a);
    split_lines(after, after_len, b);
    size_t n = a->n > b->n ? a->n : b->n;
    int rc = 0;
    for (size_t i = 0; i < n && v->n_diff + 2 <= SL_CMP_MAX_DIFF && rc == 0; i++) {
        bool has_a = i < a->n, has_b = i < b->n;
        if (has_a && has_b && a->len[i] == b->len[i] && memcmp(a->at[i], b->at[i], a->len[i]) == 0)
            continue;
        if (has_a && !(v->diff[v->n_diff++] = line_copy('-', a->at[i], a->len[i])))
            rc = -SL_ENOMEM;
        if (has_b && rc == 0 && !(v->diff[v->n_diff++] = line_copy('+', b->at[i], b->len[i])))
            rc = -SL_ENOMEM;
    }
    free(a);
    free(b);
    return rc;
}

/* First line of a SIP payload, for the summary. */
static void start_line(const uint8_t *p, size_t plen, char *buf, size_t len)
{
    size_t n = 0;
    while (n < plen && p[n] != '\r' && p[n] != '\n' && n < 80)
        n++;
    char *s = line_copy(' ', p, n);
    snprintf(buf, len, "%s", s ? s + 1 : "SIP message");
    free(s);
}

static int verdict_rewritten(sl_compare *c, const int64_t fi[2], int64_t k0)
{
    const sl_cmp_pkt *p0 = &c->side[0].pkts[k0], *p1 = &c->side[1].pkts[p0->peer];
    const sl_cmp_flow *f0 = &c->side[0].flows[fi[0]];
    sl_cmp_verdict *v = add_verdict(c, "fw.rewritten");
    if (!v)
        return -SL_ENOMEM;
    v->evidence_side = -1;
    v->from_side = f0->enters[p0->dir] < 0 ? 0 : f0->enters[p0->dir];
    v->flow[0] = fi[0];
    v->flow[1] = fi[1];
    v->dir = p0->dir;
    v->count = 1;
    v->frame[0] = p0->frame;
    v->frame[1] = p1->frame;
    v->pkt[0] = k0;
    v->pkt[1] = p0->peer;
    v->ts = p0->ts;
    return 0; /* the diff and summary once the payloads are read again */
}

/* One rewritten packet's diff (SIP: line by line) and summary, from the
 * copies compare.c read again; then the copies are freed. */
static int finish_one(sl_compare *c, sl_cmp_verdict *v)
{
    int enters = v->from_side;
    const sl_cmp_pkt *in = &c->side[enters].pkts[v->pkt[enters]],
                     *out = &c->side[!enters].pkts[v->pkt[!enters]];
    sl_cmp_pkt a = *in, b = *out; /* the payloads, for the helpers */
    const uint8_t *pa = v->payload[enters], *pb = v->payload[!enters];
    uint32_t la = v->payload_len[enters], lb = v->payload_len[!enters];
    char ft[160];
    flow_text(&c->side[enters].flows[v->flow[enters]], ft, sizeof ft);
    bool tls = in->len && in->first_byte >= 0x14 && in->first_byte <= 0x18 && !in->sip_key;
    int rc = 0;
    if (in->sip_key && out->sip_key && pa && pb) {
        char sl[128];
        start_line(pa, la, sl, sizeof sl);
        if (diff_sip(v, pa, la, pb, lb) < 0)
            return -SL_ENOMEM;
        rc = set_summary(v,
                         "%s: '%s' entered %s (frame %llu) and left %s changed (frame %llu, %u -> %u bytes): "
                         "%zu line%s rewritten by the firewall (an ALG)",
                         ft, sl, c->side[enters].name, (unsigned long long)a.frame, c->side[!enters].name,
                         (unsigned long long)b.frame, a.len, b.len, v->n_diff, v->n_diff == 1 ? "" : "s");
    } else {
        rc =
            set_summary(v, "%s: %s from the %s changed in transit (%s frame %llu, %s frame %llu)%s", ft,
                        tls ? "a TLS record" : "payload", sender(v->dir), c->side[enters].name,
                        (unsigned long long)a.frame, c->side[!enters].name, (unsigned long long)b.frame,
                        tls ? ": a transparent firewall never rewrites TLS, so something in it terminates or "
                              "tampers with the session"
                            : "");
    }
    for (int s = 0; s < 2; s++) {
        free(v->payload[s]);
        v->payload[s] = NULL;
    }
    return rc;
}

int sl_compare_finish_rewritten(sl_compare *c)
{
    for (size_t k = 0; k < c->n_verdicts; k++)
        if (strcmp(c->verdicts[k].code, "fw.rewritten") == 0 && !c->verdicts[k].summary &&
            finish_one(c, &c->verdicts[k]) < 0)
            return -SL_ENOMEM;
    return 0;
}

/* ---- idle timeout ---- */

/* The pair stopped crossing after a silence: drops begin after idle_min
 * with nothing crossing in either direction, and nothing crosses after. */
static int judge_idle(sl_compare *c, const int64_t fi[2], const dir_tally t[2], bool *judged)
{
    *judged = false;
    sl_time_ns first_drop = -1;
    int drop_dir = -1;
    for (int d = 0; d < 2; d++)
        if (t[d].dropped && (first_drop < 0 || t[d].first_drop_ts < first_drop)) {
            first_drop = t[d].first_drop_ts;
            drop_dir = d;
        }
    if (first_drop < 0)
        return 0;
    const sl_cmp_side *s0 = &c->side[0];
    const sl_cmp_flow *f0 = &s0->flows[fi[0]];
    int64_t last_cross = -1;
    for (int64_t k = f0->first_pkt; k >= 0; k = s0->pkts[k].next) {
        const sl_cmp_pkt *p = &s0->pkts[k];
        if (p->peer < 0)
            continue;
        if (p->ts > first_drop)
            return 0; /* something crossed afterwards: not a timeout */
        last_cross = k;
    }
    if (last_cross < 0)
        return 0;
    /* The silence: from the last packet of any side before the first drop. */
    sl_time_ns last_before = s0->pkts[last_cross].ts;
    for (int s = 0; s < 2; s++) {
        const sl_cmp_side *sd = &c->side[s];
        for (int64_t k = sd->flows[fi[s]].first_pkt; k >= 0; k = sd->pkts[k].next) {
            sl_time_ns t0 = clock0(c, s, sd->pkts[k].ts);
            if (t0 < first_drop && t0 > last_before)
                last_before = t0;
        }
    }
    sl_time_ns idle = first_drop - last_before;
    if (idle < c->opts.idle_min)
        return 0;
    int enters = f0->enters[drop_dir] < 0 ? 0 : f0->enters[drop_dir];
    const sl_cmp_pkt *first = &c->side[enters].pkts[t[drop_dir].first_dropped];
    const sl_cmp_pkt *lc0 = &s0->pkts[last_cross], *lc1 = &c->side[1].pkts[lc0->peer];
    sl_cmp_verdict *v = add_verdict(c, "fw.idle_timeout");
    if (!v)
        return -SL_ENOMEM;
    *judged = true;
    v->evidence_side = enters;
    v->from_side = enters;
    v->flow[0] = fi[0];
    v->flow[1] = fi[1];
    v->dir = (uint8_t)drop_dir;
    v->count = t[0].dropped + t[1].dropped;
    v->frame[enters] = first->frame;
    v->frame[!enters] = enters == 0 ? lc1->frame : lc0->frame;
    v->ts = first_drop;
    v->duration = idle;
    char ft[160];
    flow_text(f0, ft, sizeof ft);
    return set_summary(
        v,
        "%s: after %.1f s idle nothing crosses the firewall any more: %llu packet%s from the client "
        "and %llu from the server dropped (first: %s, %s frame %llu); the last that crossed is frame "
        "%llu on %s, %llu on %s: the firewall forgot the connection (its idle timeout)",
        ft, sl_time_seconds(idle), (unsigned long long)t[0].dropped, t[0].dropped == 1 ? "" : "s",
        (unsigned long long)t[1].dropped, what(first), c->side[enters].name, (unsigned long long)first->frame,
        (unsigned long long)lc0->frame, c->side[0].name, (unsigned long long)lc1->frame, c->side[1].name);
}

static int judge_pair(sl_compare *c, int64_t i0)
{
    const sl_cmp_flow *f0 = &c->side[0].flows[i0];
    int64_t fi[2] = {i0, f0->peer};
    dir_tally t[2];
    for (uint8_t d = 0; d < 2; d++)
        if (tally_dir(c, fi, d, &t[d]) < 0)
            return -SL_ENOMEM;
    bool idle = false;
    int rc = judge_idle(c, fi, t, &idle);
    for (uint8_t d = 0; d < 2 && rc == 0; d++) {
        if (t[d].dropped && !idle)
            rc = verdict_dropped(c, fi, d, &t[d]);
        if (t[d].injected && rc == 0)
            rc = verdict_injected(c, fi, d, &t[d]);
    }
    const sl_cmp_side *s0 = &c->side[0];
    for (int64_t k = f0->first_pkt; k >= 0 && rc == 0; k = s0->pkts[k].next) {
        const sl_cmp_pkt *p = &s0->pkts[k];
        if (p->peer >= 0 && p->payload_hash != c->side[1].pkts[p->peer].payload_hash)
            rc = verdict_rewritten(c, fi, k);
    }
    return rc;
}

/* A flow seen on one side only.  Both ends talking: it never had to cross
 * (both ends on this side, or the firewall's own).  Else what entered
 * was dropped, unless the other capture was not running. */
static int judge_alone(sl_compare *c, int s, int64_t i)
{
    const sl_cmp_side *sd = &c->side[s];
    const sl_cmp_flow *f = &sd->flows[i];
    if (!other_running(c, s, f->first_ts) && !other_running(c, s, f->last_ts)) {
        c->unpaired_outside_time++;
        return 0;
    }
    if (f->packets[0] && f->packets[1]) {
        c->unpaired_local++;
        return 0;
    }
    uint8_t dir = f->packets[0] ? 0 : 1;
    int64_t fi[2] = {-1, -1};
    fi[s] = i;
    sl_cmp_verdict *v = add_verdict(c, "fw.dropped");
    if (!v)
        return -SL_ENOMEM;
    const sl_cmp_pkt *p = &sd->pkts[f->first_pkt];
    v->evidence_side = s;
    v->from_side = s;
    v->flow[0] = fi[0];
    v->flow[1] = fi[1];
    v->dir = dir;
    v->count = f->packets[dir];
    v->frame[s] = p->frame;
    v->ts = clock0(c, s, p->ts);
    char ft[160];
    flow_text(f, ft, sizeof ft);
    return set_summary(v,
                       "%s: %llu packet%s from the %s entered %s and never left %s: none of it is on %s, no "
                       "packet of the far end came back (first: %s, %s frame %llu)",
                       ft, (unsigned long long)v->count, v->count == 1 ? "" : "s", sender(dir), sd->name,
                       c->side[!s].name, c->side[!s].name, what(p), sd->name, (unsigned long long)p->frame);
}

static const char *icmp_name(const sl_cmp_icmp *m)
{
    if (m->version == 4 && m->type == 3) {
        switch (m->code) {
        case 0: return "ICMP network unreachable";
        case 1: return "ICMP host unreachable";
        case 3: return "ICMP port unreachable";
        case 4: return "ICMP fragmentation needed";
        case 9:
        case 10:
        case 13: return "ICMP administratively prohibited";
        default: return "ICMP destination unreachable";
        }
    }
    if (m->version == 4)
        return m->type == 11 ? "ICMP time exceeded" : "ICMP parameter problem";
    if (m->type == 1)
        return m->code == 1   ? "ICMPv6 administratively prohibited"
               : m->code == 4 ? "ICMPv6 port unreachable"
                              : "ICMPv6 destination unreachable";
    return m->type == 2   ? "ICMPv6 packet too big"
           : m->type == 3 ? "ICMPv6 time exceeded"
                          : "ICMPv6 parameter problem";
}

/* ICMP errors about a flow seen on one side only: the firewall sent them
 * (a REJECT), in its own name or in the far end's.  One verdict per flow. */
static int icmp_verdict(sl_compare *c, int s, const sl_cmp_icmp *m, uint64_t count);

static int judge_icmp(sl_compare *c, int s)
{
    const sl_cmp_side *sd = &c->side[s];
    if (!sd->n_icmp)
        return 0;
    /* Per flow: how many unpaired, and whether its verdict is written. */
    uint64_t *unpaired = calloc(sd->n_flows, sizeof *unpaired);
    if (!unpaired)
        return -SL_ENOMEM;
    for (size_t i = 0; i < sd->n_icmp; i++)
        if (!sd->icmp[i].paired && other_running(c, s, sd->icmp[i].ts))
            unpaired[sd->icmp[i].flow]++;
    int rc = 0;
    for (size_t i = 0; i < sd->n_icmp && rc == 0; i++) {
        const sl_cmp_icmp *m = &sd->icmp[i];
        uint64_t count = unpaired[m->flow];
        if (m->paired || !other_running(c, s, m->ts) || count == 0)
            continue;
        unpaired[m->flow] = 0; /* one verdict per flow, at its first */
        rc = icmp_verdict(c, s, m, count);
    }
    free(unpaired);
    return rc;
}

static int icmp_verdict(sl_compare *c, int s, const sl_cmp_icmp *m, uint64_t count)
{
    const sl_cmp_side *sd = &c->side[s];
    {
        const sl_cmp_flow *f = &sd->flows[m->flow];
        sl_cmp_verdict *v = add_verdict(c, "fw.injected");
        if (!v)
            return -SL_ENOMEM;
        v->evidence_side = s;
        v->flow[s] = m->flow;
        v->flow[!s] = f->peer;
        v->dir = (uint8_t)!m->dir;
        v->count = count;
        v->frame[s] = m->frame;
        v->frame[!s] = f->peer >= 0 ? c->side[!s].flows[f->peer].first_frame : 0;
        v->ts = clock0(c, s, m->ts);
        v->ttl = m->ttl;
        v->usual_ttl = f->packets[!m->dir] ? f->usual_ttl[!m->dir] : 0;
        char ft[160], from[SL_ADDR_PORT_STRLEN];
        flow_text(f, ft, sizeof ft);
        sl_addr_format(&m->src, from, sizeof from);
        bool in_name = sl_addr_equal(&m->src, &f->addr[!m->dir]);
        if (set_summary(
                v,
                "%s: %s from %s%s about the %s's packet on %s (frame %llu, TTL %u%s): %s has no such ICMP; "
                "the firewall sent it, rejecting the %s's traffic",
                ft, icmp_name(m), from, in_name ? " (in the far end's name)" : "", sender(m->dir), sd->name,
                (unsigned long long)m->frame, m->ttl, count > 1 ? ", and more: see count" : "",
                c->side[!s].name, sender(m->dir)) < 0)
            return -SL_ENOMEM;
    }
    return 0;
}

static int judge_delay(sl_compare *c)
{
    for (int s = 0; s < 2; s++) {
        const sl_cmp_latency *l = &c->latency[s];
        if (!l->pairs || l->p99 <= c->opts.delay_p99)
            continue;
        sl_cmp_verdict *v = add_verdict(c, "fw.delayed");
        if (!v)
            return -SL_ENOMEM;
        v->evidence_side = -1;
        v->from_side = s;
        v->count = l->pairs;
        v->frame[0] = l->max_frame[0];
        v->frame[1] = l->max_frame[1];
        v->duration = l->p99;
        if (set_summary(
                v,
                "packets from %s to %s take %.1f ms through the firewall at the 99th percentile (median "
                "%.3f ms, max %.1f ms, in frames %llu %s / %llu %s; %llu packets)",
                c->side[s].name, c->side[!s].name, sl_time_seconds(l->p99) * 1e3,
                sl_time_seconds(l->median) * 1e3, sl_time_seconds(l->max) * 1e3,
                (unsigned long long)l->max_frame[0], c->side[0].name, (unsigned long long)l->max_frame[1],
                c->side[1].name, (unsigned long long)l->pairs) < 0)
            return -SL_ENOMEM;
    }
    return 0;
}

static int cmp_verdict(const void *a, const void *b)
{
    const sl_cmp_verdict *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    for (int s = 0; s < 2; s++)
        if (x->frame[s] != y->frame[s])
            return x->frame[s] < y->frame[s] ? -1 : 1;
    return strcmp(x->code, y->code);
}

int sl_compare_judge(sl_compare *c)
{
    int rc = 0;
    for (size_t i = 0; i < c->side[0].n_flows && rc == 0; i++)
        rc = c->side[0].flows[i].peer >= 0 ? judge_pair(c, (int64_t)i) : judge_alone(c, 0, (int64_t)i);
    for (size_t i = 0; i < c->side[1].n_flows && rc == 0; i++)
        if (c->side[1].flows[i].peer < 0)
            rc = judge_alone(c, 1, (int64_t)i);
    for (int s = 0; s < 2 && rc == 0; s++)
        rc = judge_icmp(c, s);
    if (rc == 0)
        rc = judge_delay(c);
    if (c->n_verdicts > 1)
        qsort(c->verdicts, c->n_verdicts, sizeof *c->verdicts, cmp_verdict);
    return rc;
}
