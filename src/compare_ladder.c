/* compare_ladder.c - `sipladder compare --format ladder`: each connection
 * drawn with the firewall as a column between its inside and outside host.
 * A packet seen on both sides crosses the firewall (with its latency); one
 * that entered and never left stops at the firewall (X); one that left and
 * never entered starts at it (injected); a rewritten one is marked and its
 * diff follows.  render_ladder.c draws one capture's calls from the SIP
 * model, which knows nothing of two sides: this draws compare.c's packet
 * records instead. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipladder/compare.h"
#include "sipladder/decode.h"
#include "sipladder/status.h"

#define SPAN 30 /* characters of arrow between a host and the firewall */

/* A side's time on side 0's clock. */
static sl_time_ns clock0(const sl_compare *c, int side, sl_time_ns t)
{
    return side == 0 ? t : t - c->offset;
}

/* What a packet is, in a few characters: a SIP method or status, a TLS
 * record type, else its TCP flags and length. */
static void label_of(const sl_cmp_pkt *p, uint8_t proto, char *buf, size_t len)
{
    if (p->sip_key) {
        size_t w = 0;
        while (w < sizeof p->head && p->head[w] && p->head[w] != ' ')
            w++;
        if (w == 7 && memcmp(p->head, "SIP/2.0", 7) == 0) {
            size_t e = 8;
            while (e < sizeof p->head && p->head[e] >= '0' && p->head[e] <= '9')
                e++;
            snprintf(buf, len, "%.*s", (int)(e - 8), p->head + 8);
        } else {
            snprintf(buf, len, "%.*s", (int)w, p->head);
        }
        return;
    }
    static const char *const tls[] = {"TLS ccs", "TLS alert", "TLS handshake", "TLS data", "TLS hb"};
    if (proto == 6 && p->len && p->first_byte >= 0x14 && p->first_byte <= 0x18) {
        snprintf(buf, len, "%s %" PRIu32, tls[p->first_byte - 0x14], p->len);
        return;
    }
    if (proto != 6) {
        snprintf(buf, len, "UDP %" PRIu32, p->len);
        return;
    }
    static const struct {
        uint8_t bit;
        const char *name;
    } flags[] = {{SL_TCP_SYN, "SYN"}, {SL_TCP_FIN, "FIN"}, {SL_TCP_RST, "RST"}, {SL_TCP_ACK, "ACK"}};
    size_t at = 0;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if ((p->flags & flags[i].bit) && at < len)
            at += (size_t)snprintf(buf + at, len - at, "%s%s", at ? "/" : "", flags[i].name);
    if (p->len && at < len)
        snprintf(buf + at, len - at, " %" PRIu32, p->len);
}

/* One span of arrow between a host column and the firewall: `dir` 1 points
 * right, -1 left, 0 blank; the label in its middle. */
static void span(FILE *out, int dir, const char *label)
{
    char s[SPAN + 1];
    if (!dir) {
        memset(s, ' ', SPAN);
    } else {
        memset(s, '-', SPAN);
        size_t n = strlen(label);
        if (n > SPAN - 6)
            n = SPAN - 6;
        size_t at = (SPAN - n) / 2;
        s[at - 1] = ' ';
        memcpy(s + at, label, n);
        s[at + n] = ' ';
        if (dir > 0)
            s[SPAN - 1] = '>';
        else
            s[0] = '<';
    }
    s[SPAN] = 0;
    fputs(s, out);
}

typedef struct row {
    const sl_cmp_pkt *pkt[2]; /* the packet on each side, NULL where not seen */
    int64_t index0;           /* side 0's packet index, -1 */
    int from;                 /* the side its sender is on */
} row;

/* The side a packet of this direction enters the firewall on: learnt
 * from the pairs, else the client is taken to be on `home`, the side the
 * flow was seen on (side 0 for a flow seen on both). */
static int entering(const sl_cmp_flow *f, uint8_t dir, int home)
{
    if (f->enters[dir] >= 0)
        return f->enters[dir];
    return dir == 0 ? home : !home;
}

/* The verdicts by a number (a packet or flow index), so each row and each
 * connection finds its own without a scan of them all; within a number in
 * the verdicts' order. */
typedef struct vkey {
    int64_t key;
    size_t at; /* index into the verdicts */
} vkey;

typedef struct vindex {
    vkey *rewritten; /* fw.rewritten by side 0's packet */
    vkey *flow[2];   /* every verdict by its flow on side s */
    size_t n_rewritten, n_flow[2];
} vindex;

static int cmp_vkey(const void *a, const void *b)
{
    const vkey *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->at < y->at ? -1 : x->at > y->at;
}

static int vindex_build(const sl_compare *c, vindex *x)
{
    size_t n = c->n_verdicts ? c->n_verdicts : 1;
    x->rewritten = malloc(n * sizeof *x->rewritten);
    x->flow[0] = malloc(n * sizeof *x->flow[0]);
    x->flow[1] = malloc(n * sizeof *x->flow[1]);
    x->n_rewritten = x->n_flow[0] = x->n_flow[1] = 0;
    if (!x->rewritten || !x->flow[0] || !x->flow[1])
        return -SL_ENOMEM;
    for (size_t k = 0; k < c->n_verdicts; k++) {
        const sl_cmp_verdict *v = &c->verdicts[k];
        if (v->pkt[0] >= 0 && strcmp(v->code, "fw.rewritten") == 0)
            x->rewritten[x->n_rewritten++] = (vkey){v->pkt[0], k};
        for (int s = 0; s < 2; s++)
            if (v->flow[s] >= 0)
                x->flow[s][x->n_flow[s]++] = (vkey){v->flow[s], k};
    }
    qsort(x->rewritten, x->n_rewritten, sizeof(vkey), cmp_vkey);
    qsort(x->flow[0], x->n_flow[0], sizeof(vkey), cmp_vkey);
    qsort(x->flow[1], x->n_flow[1], sizeof(vkey), cmp_vkey);
    return 0;
}

static void vindex_free(vindex *x)
{
    free(x->rewritten);
    free(x->flow[0]);
    free(x->flow[1]);
}

/* The first entry of v[0..n) with this key (n when none). */
static size_t vkey_first(const vkey *v, size_t n, int64_t key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && v[lo].key == key ? lo : n;
}

static void draw_row(const sl_compare *c, const vindex *vx, const sl_cmp_flow *f, const row *r, sl_time_ns t0,
                     FILE *out)
{
    int seen = r->pkt[0] ? 0 : 1;
    const sl_cmp_pkt *p = r->pkt[seen];
    char label[32];
    label_of(p, f->proto, label, sizeof label);
    bool both = r->pkt[0] && r->pkt[1];
    int in = r->from; /* the side it enters on */
    sl_time_ns t = clock0(c, seen, p->ts);
    if (both)
        t = clock0(c, in, r->pkt[in]->ts);
    fprintf(out, "  %11.6f  |", sl_time_seconds(t - t0));
    /* Left span: side 0 (inside); right span: side 1 (outside). */
    int right = in == 0 ? 1 : -1; /* the arrow's way */
    char fw = '|';
    const char *note = "";
    if (both) {
        span(out, right, label);
        fputc('|', out);
        span(out, right, label);
    } else if (seen == in) {
        /* entered, never left: stops at the firewall */
        if (in == 0) {
            span(out, 1, label);
            fw = 'X';
            fputc(fw, out);
            span(out, 0, "");
        } else {
            span(out, 0, "");
            fputc('X', out);
            span(out, -1, label);
        }
        note = "  dropped";
    } else {
        /* left, never entered: starts at the firewall */
        if (seen == 0) {
            span(out, -1, label);
            fputc('*', out);
            span(out, 0, "");
        } else {
            span(out, 0, "");
            fputc('*', out);
            span(out, 1, label);
        }
        note = "  injected";
    }
    fputc('|', out);
    size_t rw = r->index0 >= 0 ? vkey_first(vx->rewritten, vx->n_rewritten, r->index0) : vx->n_rewritten;
    bool rewritten = rw < vx->n_rewritten;
    if (both) {
        sl_time_ns lat = clock0(c, !in, r->pkt[!in]->ts) - clock0(c, in, r->pkt[in]->ts);
        fprintf(out, " %8.3f ms%s", sl_time_seconds(lat) * 1e3, rewritten ? "  rewritten" : "");
    } else {
        fputs(note, out);
    }
    fputs("  #", out);
    for (int s = 0; s < 2; s++) {
        if (r->pkt[s])
            fprintf(out, "%s%" PRIu64, s ? "/" : "", r->pkt[s]->frame);
        else
            fputs(s ? "/-" : "-", out);
    }
    if (!both && r->pkt[seen]->ttl != f->usual_ttl[r->pkt[seen]->dir] && seen != in)
        fprintf(out, " ttl %u (usual %u)", r->pkt[seen]->ttl, f->usual_ttl[r->pkt[seen]->dir]);
    fputc('\n', out);
    for (; rw < vx->n_rewritten && vx->rewritten[rw].key == r->index0; rw++) {
        const sl_cmp_verdict *v = &c->verdicts[vx->rewritten[rw].at];
        for (size_t d = 0; d < v->n_diff; d++)
            fprintf(out, "  %11s  %s\n", "", v->diff[d]);
    }
}

/* An ICMP error about the flow: it travels against its original packet.
 * Seen on one side only, the firewall sent it (its REJECT). */
static void draw_icmp(const sl_compare *c, const sl_cmp_flow *f, int home, int s, const sl_cmp_icmp *m,
                      sl_time_ns t0, FILE *out)
{
    char label[32];
    snprintf(label, sizeof label, "ICMP%s %u/%u", m->version == 6 ? "v6" : "", m->type, m->code);
    int from = entering(f, (uint8_t)!m->dir, home); /* the side its sender is on */
    fprintf(out, "  %11.6f  |", sl_time_seconds(clock0(c, s, m->ts) - t0));
    int way = from == 0 ? 1 : -1;
    if (m->paired) {
        span(out, way, label);
        fputc('|', out);
        span(out, way, label);
    } else if (s == 0) {
        span(out, -1, label);
        fputc('*', out);
        span(out, 0, "");
    } else {
        span(out, 0, "");
        fputc('*', out);
        span(out, 1, label);
    }
    char src[SL_ADDR_PORT_STRLEN];
    sl_addr_format(&m->src, src, sizeof src);
    fprintf(out, "|%s  #", m->paired ? "" : "  injected");
    fprintf(out, s ? "-/%" PRIu64 : "%" PRIu64 "/-", m->frame);
    fprintf(out, " from %s ttl %u\n", src, m->ttl);
}

/* Per side, its ICMP records ordered by flow then time, so a flow finds
 * its own without a scan of them all. */
typedef struct icmp_key {
    int64_t flow;
    sl_time_ns ts;
    size_t at; /* index into the side's icmp */
} icmp_key;

static int cmp_icmp(const void *a, const void *b)
{
    const icmp_key *x = a, *y = b;
    if (x->flow != y->flow)
        return x->flow < y->flow ? -1 : 1;
    return x->ts < y->ts ? -1 : x->ts > y->ts;
}

static icmp_key *icmp_order(const sl_cmp_side *s)
{
    icmp_key *k = malloc((s->n_icmp ? s->n_icmp : 1) * sizeof *k);
    if (!k)
        return NULL;
    for (size_t i = 0; i < s->n_icmp; i++)
        k[i] = (icmp_key){s->icmp[i].flow, s->icmp[i].ts, i};
    qsort(k, s->n_icmp, sizeof *k, cmp_icmp);
    return k;
}

/* The first of the ordered records about flow i. */
static size_t icmp_first(const icmp_key *k, size_t n, int64_t i)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (k[mid].flow < i)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The host drawn in a column: the endpoint of the flow seen on that side
 * (the inside host in side 0's flow, the outside one in side 1's). */
static void host_of(const sl_cmp_flow *f[2], int s, char *buf, size_t len)
{
    const sl_cmp_flow *fl = f[s] ? f[s] : f[!s];
    /* The endpoint on side s is the one whose packets enter on side s. */
    int k = entering(fl, 0, f[0] ? 0 : 1) == s ? 0 : 1;
    sl_addr_port_format(&fl->addr[k], fl->port[k], buf, len);
}

static void heading(const sl_compare *c, const sl_cmp_flow *f[2], FILE *out)
{
    char h[2][SL_ADDR_PORT_STRLEN];
    for (int s = 0; s < 2; s++)
        host_of(f, s, h[s], sizeof h[s]);
    for (int s = 0; s < 2; s++) {
        if (!f[s])
            continue;
        char a[SL_ADDR_PORT_STRLEN], b[SL_ADDR_PORT_STRLEN];
        sl_addr_port_format(&f[s]->addr[0], f[s]->port[0], a, sizeof a);
        sl_addr_port_format(&f[s]->addr[1], f[s]->port[1], b, sizeof b);
        fprintf(out, "  %-8s %s %s -> %s\n", c->side[s].name, f[s]->proto == 6 ? "TCP" : "UDP", a, b);
    }
    fprintf(out, "  %11s  %-*s%-*s%s\n", "", SPAN + 1, c->side[0].name, SPAN + 1, "firewall",
            c->side[1].name);
    fprintf(out, "  %11s  %-*s%-*s%s\n", "", SPAN + 1, h[0], SPAN + 1, "", h[1]);
}

/* One connection: side 0's flow i0 and its copy i1 (either -1). */
static void draw_flow(const sl_compare *c, int64_t i0, int64_t i1, sl_time_ns t0, size_t n,
                      icmp_key *const icmp[2], const vindex *vx, FILE *out)
{
    const sl_cmp_flow *f[2] = {i0 >= 0 ? &c->side[0].flows[i0] : NULL,
                               i1 >= 0 ? &c->side[1].flows[i1] : NULL};
    const sl_cmp_flow *ref = f[0] ? f[0] : f[1];
    int home = f[0] ? 0 : 1;
    fprintf(out, "%sconnection %zu (%s)\n", n ? "\n" : "", n + 1,
            sl_compare_fate(c, f[0] ? 0 : 1, f[0] ? i0 : i1, f[0] && f[1]));
    heading(c, f, out);
    const sl_cmp_side *a = &c->side[0], *b = &c->side[1];
    int64_t ka = f[0] ? f[0]->first_pkt : -1, kb = f[1] ? f[1]->first_pkt : -1;
    int64_t fi[2] = {i0, i1};
    size_t mi[2], mend[2];
    for (int s = 0; s < 2; s++) {
        size_t nm = c->side[s].n_icmp;
        mi[s] = fi[s] >= 0 ? icmp_first(icmp[s], nm, fi[s]) : nm;
        for (mend[s] = mi[s]; mend[s] < nm && icmp[s][mend[s]].flow == fi[s];)
            mend[s]++;
    }
    for (;;) {
        while (kb >= 0 && b->pkts[kb].peer >= 0)
            kb = b->pkts[kb].next; /* drawn with its side-0 copy */
        while (mi[1] < mend[1] && c->side[1].icmp[icmp[1][mi[1]].at].paired)
            mi[1]++; /* drawn with side 0's */
        /* The next ICMP error, when it comes before the next packet. */
        sl_time_ns next = INT64_MAX;
        if (ka >= 0)
            next = a->pkts[ka].ts;
        if (kb >= 0 && clock0(c, 1, b->pkts[kb].ts) < next)
            next = clock0(c, 1, b->pkts[kb].ts);
        int ms = -1;
        for (int s = 0; s < 2; s++)
            if (mi[s] < mend[s] && clock0(c, s, icmp[s][mi[s]].ts) < next) {
                next = clock0(c, s, icmp[s][mi[s]].ts);
                ms = s;
            }
        if (ms >= 0) {
            draw_icmp(c, ref, home, ms, &c->side[ms].icmp[icmp[ms][mi[ms]++].at], t0, out);
            continue;
        }
        if (ka < 0 && kb < 0)
            break;
        bool take_a = ka >= 0 && (kb < 0 || a->pkts[ka].ts <= clock0(c, 1, b->pkts[kb].ts));
        row r = {{NULL, NULL}, -1, 0};
        if (take_a) {
            r.pkt[0] = &a->pkts[ka];
            r.index0 = ka;
            if (r.pkt[0]->peer >= 0)
                r.pkt[1] = &b->pkts[r.pkt[0]->peer];
            r.from = entering(ref, r.pkt[0]->dir, home);
            ka = a->pkts[ka].next;
        } else {
            r.pkt[1] = &b->pkts[kb];
            r.from = entering(ref, r.pkt[1]->dir, home);
            kb = b->pkts[kb].next;
        }
        draw_row(c, vx, ref, &r, t0, out);
    }
    int vs = i0 >= 0 ? 0 : 1; /* the verdicts naming the flow drawn */
    for (size_t k = vkey_first(vx->flow[vs], vx->n_flow[vs], fi[vs]);
         k < vx->n_flow[vs] && vx->flow[vs][k].key == fi[vs]; k++) {
        const sl_cmp_verdict *v = &c->verdicts[vx->flow[vs][k].at];
        fprintf(out, "  => %s  %s\n", v->code, v->summary ? v->summary : "");
    }
}

int sl_compare_render_ladder(const sl_compare *c, FILE *out)
{
    sl_time_ns t0 = 0;
    bool any = false;
    for (int s = 0; s < 2; s++)
        if (c->side[s].n_pkts && (!any || clock0(c, s, c->side[s].first_ts) < t0)) {
            t0 = clock0(c, s, c->side[s].first_ts);
            any = true;
        }
    fprintf(out, "%s = %s %+.6f s; time in seconds from the first packet, on %s's clock\n", c->side[1].name,
            c->side[0].name, sl_time_seconds(c->offset), c->side[0].name);
    fprintf(out, "-> <- crossed (latency), X dropped by the firewall, * injected by it, #frames %s/%s\n",
            c->side[0].name, c->side[1].name);
    icmp_key *icmp[2] = {icmp_order(&c->side[0]), icmp_order(&c->side[1])};
    vindex vx;
    if (vindex_build(c, &vx) < 0 || !icmp[0] || !icmp[1]) {
        vindex_free(&vx);
        free(icmp[0]);
        free(icmp[1]);
        return -SL_ENOMEM;
    }
    size_t n = 0;
    for (size_t i = 0; i < c->side[0].n_flows; i++, n++)
        draw_flow(c, (int64_t)i, c->side[0].flows[i].peer, t0, n, icmp, &vx, out);
    for (size_t i = 0; i < c->side[1].n_flows; i++)
        if (c->side[1].flows[i].peer < 0)
            draw_flow(c, -1, (int64_t)i, t0, n++, icmp, &vx, out);
    if (!n)
        fputs("no connection on either side\n", out);
    vindex_free(&vx);
    free(icmp[0]);
    free(icmp[1]);
    return ferror(out) ? -SL_EIO : 0;
}
