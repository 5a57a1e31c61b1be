/* exp_log_merge.c - the SIP messages of Expressway logs as records of the
 * model, beside (and merged with) those of the capture (exp_log.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "sipladder/config.h"
#include "sipladder/exp_log.h"
#include "sipladder/model.h"
#include "sipladder/sip.h"
#include "sipladder/sip_record.h"
#include "sipladder/status.h"

#define SAME_MESSAGE_NS (2 * 1000000000LL)    /* a log and a capture copy this close are one message */
#define OFFSET_SEARCH_NS (300 * 1000000000LL) /* clocks further apart are not guessed */
#define CONN_SLACK_NS (2 * 1000000000LL)      /* a message this close to a connection's life joins it */

/* The sink of one parse: keeps the record of the message it is given. */
typedef struct one_msg {
    const sl_flow_info *flow;
    sl_dir dir;
    sl_time_ns ts;
    sl_sip_record *rec;
    bool oom;
} one_msg;

static void one_emit(void *ctx, const sl_event *ev)
{
    one_msg *o = ctx;
    if (ev->kind != SL_EV_SIP || o->rec)
        return;
    sl_span span = {.first_ts = o->ts, .last_ts = o->ts};
    o->rec = sl_sip_record_new(ev->u.sip, &span, o->flow, o->dir);
    if (!o->rec)
        o->oom = true;
}

static void one_span(void *ctx, size_t start, size_t end, sl_span *out)
{
    const one_msg *o = ctx;
    (void)start;
    (void)end;
    *out = (sl_span){.first_ts = o->ts, .last_ts = o->ts};
}

static const sl_sink_ops one_ops = {.emit = one_emit, .span = one_span};

static bool str_eq(sl_sip_str a, sl_sip_str b) { return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0); }

/* The same message: Call-ID, CSeq, first line, and the same hop. */
static bool same_message(const sl_sip_record *a, const sl_sip_record *b)
{
    return str_eq(a->f.call_id, b->f.call_id) && a->f.cseq == b->f.cseq && str_eq(a->f.cseq_method, b->f.cseq_method) &&
           str_eq(a->f.first_line, b->f.first_line) && a->sport == b->sport && a->dport == b->dport &&
           sl_addr_equal(&a->src, &b->src) && sl_addr_equal(&a->dst, &b->dst);
}

static sl_time_ns abs_ns(sl_time_ns t) { return t < 0 ? -t : t; }

static int by_ns(const void *a, const void *b)
{
    sl_time_ns x = *(const sl_time_ns *)a, y = *(const sl_time_ns *)b;
    return x < y ? -1 : x > y;
}

/* One SIPMSG entry as a record on its own flow (not yet joined). */
static sl_sip_record *parse_entry(const sl_xlog *l, const sl_xlog_entry *e, void *sip_state, bool *oom)
{
    sl_flow_info flow = {.transport = SL_TRANSPORT_TCP};
    /* the sender is addr[0]: the box when it Sent, the peer when it Received */
    flow.addr[0] = e->sent ? e->local : e->remote;
    flow.port[0] = e->sent ? e->local_port : e->remote_port;
    flow.addr[1] = e->sent ? e->remote : e->local;
    flow.port[1] = e->sent ? e->remote_port : e->local_port;
    one_msg o = {.flow = &flow, .dir = SL_DIR_C2S, .ts = e->utc};
    sl_sink sink = {.ops = &one_ops, .ctx = &o};
    size_t used = 0;
    sl_dissector_sip.feed(sip_state, SL_DIR_C2S, e->msg, e->msg_len, &used, &sink);
    if (o.oom)
        *oom = true;
    if (!o.rec)
        return NULL;
    o.rec->log_file = l->file;
    o.rec->log_host = l->host;
    o.rec->log_line = e->sip_line;
    /* the hop's transport: the top Via's (a response goes back as its request came) */
    bool udp = o.rec->f.n_vias && o.rec->f.vias[0].transport.n == 3 &&
               memcmp(o.rec->f.vias[0].transport.p, "UDP", 3) == 0;
    o.rec->transport = udp ? SL_TRANSPORT_UDP : SL_TRANSPORT_TCP;
    return o.rec;
}

/* ---- indexes: a key's candidates without a scan of every record ---------- */

/* An open-addressing table of (key, position); several positions may share
 * a key (a retransmission, a reused address pair): a lookup walks them all. */
typedef struct key_index {
    uint64_t *keys;
    size_t *pos; /* position + 1; 0: empty */
    size_t mask;
} key_index;

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ULL; /* FNV-1a */
    return h;
}

static int index_init(key_index *x, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n + 1)
        cap *= 2;
    x->keys = malloc(cap * sizeof *x->keys);
    x->pos = calloc(cap, sizeof *x->pos);
    x->mask = cap - 1;
    return x->keys && x->pos ? 0 : -SL_ENOMEM;
}

static void index_put(key_index *x, uint64_t key, size_t pos)
{
    size_t i = (size_t)key & x->mask;
    while (x->pos[i])
        i = (i + 1) & x->mask;
    x->keys[i] = key;
    x->pos[i] = pos + 1;
}

static void index_free(key_index *x)
{
    free(x->keys);
    free(x->pos);
}

static uint64_t message_key(const sl_sip_record *r)
{
    uint64_t h = 14695981039346656037ULL;
    h = mix(h, r->f.call_id.p, r->f.call_id.n);
    h = mix(h, &r->f.cseq, sizeof r->f.cseq);
    h = mix(h, r->f.first_line.p, r->f.first_line.n);
    h = mix(h, &r->sport, sizeof r->sport);
    return mix(h, &r->dport, sizeof r->dport);
}

/* Where to look for a message's twin: the capture's records, and those
 * the logs merged before this one added (a cluster peer logs the other
 * end of the same hop), indexed by message. */
typedef struct twins {
    sl_sip_record **recs; /* the capture's first (n_wire), then the logs' */
    size_t n, n_wire;
    key_index ix;
} twins;

static int twins_init(twins *t, sl_sip_record **wire, size_t n_wire, sl_sip_record **added, size_t n_added)
{
    memset(t, 0, sizeof *t);
    t->recs = malloc((n_wire + n_added + 1) * sizeof *t->recs);
    if (!t->recs || index_init(&t->ix, n_wire + n_added) < 0)
        return -SL_ENOMEM;
    if (n_wire) /* m->sip is NULL when the capture had no SIP */
        memcpy(t->recs, wire, n_wire * sizeof *t->recs);
    if (n_added)
        memcpy(t->recs + n_wire, added, n_added * sizeof *t->recs);
    t->n = n_wire + n_added;
    t->n_wire = n_wire;
    for (size_t i = 0; i < t->n; i++)
        index_put(&t->ix, message_key(t->recs[i]), i);
    return 0;
}

static void twins_free(twins *t)
{
    free(t->recs);
    index_free(&t->ix);
}

/* The record of the same message near `ts`, the capture's first, or NULL.
 * A record this log claimed already is not its twin: a retransmission is
 * its own message. */
static sl_sip_record *twin_of(const twins *t, const sl_xlog *l, const sl_sip_record *r, sl_time_ns ts,
                              sl_time_ns window)
{
    uint64_t key = message_key(r);
    sl_sip_record *best[2] = {NULL, NULL}; /* [0]: the capture's, [1]: a log's */
    for (size_t i = (size_t)key & t->ix.mask; t->ix.pos[i]; i = (i + 1) & t->ix.mask) {
        if (t->ix.keys[i] != key)
            continue;
        size_t at = t->ix.pos[i] - 1;
        sl_sip_record *w = t->recs[at];
        if ((w->log_file && w->log_file == l->file) || !same_message(w, r))
            continue;
        sl_time_ns d = abs_ns(w->span.last_ts - ts);
        sl_sip_record **b = &best[at >= t->n_wire];
        if (d <= window && (!*b || d < abs_ns((*b)->span.last_ts - ts)))
            *b = w;
    }
    return best[0] ? best[0] : best[1];
}

/* The capture's connections by address pair (either direction). */
static uint64_t pair_key(sl_transport t, const sl_addr *a, uint16_t ap, const sl_addr *b, uint16_t bp)
{
    int c = sl_addr_cmp(a, b);
    if (c > 0 || (c == 0 && ap > bp)) {
        const sl_addr *x = a;
        uint16_t xp = ap;
        a = b, ap = bp, b = x, bp = xp;
    }
    uint64_t h = mix(14695981039346656037ULL, &t, sizeof t);
    h = mix(h, &a->family, 1);
    h = mix(h, a->bytes, sizeof a->bytes);
    h = mix(h, &ap, sizeof ap);
    h = mix(h, &b->family, 1);
    h = mix(h, b->bytes, sizeof b->bytes);
    return mix(h, &bp, sizeof bp);
}

static int conns_index(const sl_model *m, key_index *x)
{
    if (index_init(x, m->n_conns) < 0)
        return -SL_ENOMEM;
    for (size_t i = 0; i < m->n_conns; i++) {
        const sl_flow_info *f = &m->conns[i].info;
        index_put(x, pair_key(f->transport, &f->addr[0], f->port[0], &f->addr[1], f->port[1]), i);
    }
    return 0;
}

static bool conn_carries(const sl_conn *c, const sl_sip_record *r)
{
    for (int d = 0; d < 2; d++)
        if (c->info.transport == r->transport && sl_addr_equal(&c->info.addr[d], &r->src) &&
            c->info.port[d] == r->sport && sl_addr_equal(&c->info.addr[!d], &r->dst) && c->info.port[!d] == r->dport)
            return true;
    return false;
}

/* The capture's connection of the message's address pair: the one that
 * lived at its time (within CONN_SLACK_NS) when `timed`, else the first. */
static const sl_conn *find_conn(const sl_model *m, const key_index *x, const sl_sip_record *r, bool timed)
{
    uint64_t key = pair_key(r->transport, &r->src, r->sport, &r->dst, r->dport);
    const sl_conn *first = NULL;
    for (size_t i = (size_t)key & x->mask; x->pos[i]; i = (i + 1) & x->mask) {
        if (x->keys[i] != key)
            continue;
        const sl_conn *c = &m->conns[x->pos[i] - 1];
        if (!conn_carries(c, r))
            continue;
        if (!timed || (r->span.last_ts >= c->first_ts - CONN_SLACK_NS && r->span.last_ts <= c->last_ts + CONN_SLACK_NS))
            if (!first || c->index < first->index)
                first = c;
    }
    return first;
}

/* The log's clock against the capture's: the median of (capture - log)
 * over the messages both hold. */
static int learn_offset(const twins *t, sl_xlog *l, sl_sip_record **recs, size_t n)
{
    sl_time_ns *d = malloc((n ? n : 1) * sizeof *d);
    if (!d)
        return -SL_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!recs[i])
            continue;
        const sl_sip_record *w = twin_of(t, l, recs[i], recs[i]->span.last_ts, OFFSET_SEARCH_NS);
        if (w)
            d[k++] = w->span.last_ts - recs[i]->span.last_ts;
    }
    if (k) {
        qsort(d, k, sizeof *d, by_ns);
        l->has_offset = true;
        l->offset = d[k / 2];
        l->offset_samples = k;
    }
    free(d);
    return 0;
}

/* With no message in both (every leg encrypted), the connections bound the
 * clock: each message went over its address pair's connection while it
 * lived, so the offset lies in [first_ts - t, last_ts - t] for each; the
 * value of their intersection nearest 0 is taken (0 when the clocks agree). */
static void offset_from_conns(const sl_model *m, const key_index *x, sl_xlog *l, sl_sip_record **recs, size_t n)
{
    sl_time_ns lo = INT64_MIN, hi = INT64_MAX;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const sl_sip_record *r = recs[i];
        const sl_conn *c = r ? find_conn(m, x, r, false) : NULL;
        if (!c)
            continue;
        sl_time_ns a = c->first_ts - r->span.last_ts, b = c->last_ts - r->span.last_ts;
        lo = a > lo ? a : lo;
        hi = b < hi ? b : hi;
        k++;
    }
    if (!k || lo > hi)
        return; /* no connection, or they disagree: the clocks are taken as one */
    l->has_offset = true;
    l->offset = lo > 0 ? lo : hi < 0 ? hi : 0;
    l->offset_samples = k;
    l->offset_from_conns = true;
}

/* Keep the model's records in time order: the capture's as they were, the
 * logs' merged in (a tie goes to the capture's). */
static int by_time(const void *a, const void *b)
{
    const sl_sip_record *x = *(sl_sip_record *const *)a, *y = *(sl_sip_record *const *)b;
    return x->span.last_ts < y->span.last_ts ? -1 : x->span.last_ts > y->span.last_ts;
}

static int merge_in(sl_model *m, size_t n_wire, sl_sip_record **added, size_t n_added)
{
    if (!n_added)
        return 0;
    qsort(added, n_added, sizeof *added, by_time);
    sl_sip_record **all = malloc((n_wire + n_added) * sizeof *all);
    if (!all)
        return -SL_ENOMEM;
    size_t i = 0, j = 0, k = 0;
    while (i < n_wire || j < n_added) {
        if (j == n_added || (i < n_wire && m->sip[i]->span.last_ts <= added[j]->span.last_ts))
            all[k++] = m->sip[i++];
        else
            all[k++] = added[j++];
    }
    free(m->sip);
    m->sip = all;
    m->n_sip = m->cap_sip = k;
    return 0;
}

int sl_xlog_merge(sl_model *m, sl_xlog *const *logs, size_t n_logs, const sl_config *cfg)
{
    size_t n_wire = m->n_sip;
    sl_sip_record **added = NULL;
    size_t n_added = 0, cap_added = 0;
    int rc = 0;
    sl_flow_info dummy = {.transport = SL_TRANSPORT_UDP}; /* one message per feed, as a datagram */
    void *st = sl_dissector_sip.state_new(&dummy, cfg, NULL);
    key_index cx = {0};
    if (!st || conns_index(m, &cx) < 0) {
        sl_dissector_sip.state_free(st);
        index_free(&cx);
        return -SL_ENOMEM;
    }
    for (size_t li = 0; li < n_logs && rc == 0; li++) {
        sl_xlog *l = logs[li];
        sl_sip_record **recs = calloc(l->n ? l->n : 1, sizeof *recs);
        if (!recs) {
            rc = -SL_ENOMEM;
            break;
        }
        bool oom = false;
        for (size_t i = 0; i < l->n && !oom; i++) {
            const sl_xlog_entry *e = &l->e[i];
            if (e->kind != SL_XLOG_SIP || !e->has_addrs || !e->has_time)
                continue;
            recs[i] = parse_entry(l, e, st, &oom);
            if (!recs[i] && !oom)
                l->sip_unparsed++;
        }
        twins t = {0};
        if (!oom && twins_init(&t, m->sip, n_wire, added, n_added) < 0)
            oom = true;
        if (!oom) {
            rc = learn_offset(&t, l, recs, l->n);
            if (rc == 0 && !l->has_offset && m->capture.n_files)
                offset_from_conns(m, &cx, l, recs, l->n);
        }
        for (size_t i = 0; i < l->n && rc == 0 && !oom; i++) {
            sl_sip_record *r = recs[i];
            if (!r)
                continue;
            recs[i] = NULL;
            r->span.first_ts = r->span.last_ts = sl_xlog_on_capture(l, r->span.last_ts);
            sl_sip_record *w = twin_of(&t, l, r, r->span.last_ts, SAME_MESSAGE_NS);
            if (w) { /* one message, read from both (the first source named is kept) */
                if (!w->log_file) {
                    w->log_file = r->log_file;
                    w->log_host = r->log_host;
                    w->log_line = r->log_line;
                }
                l->sip_in_capture++;
                sl_sip_record_free(r);
                continue;
            }
            const sl_conn *c = find_conn(m, &cx, r, true);
            /* the capture reads this connection's SIP in clear, yet lacks
             * this message: the log and the capture disagree */
            if (c && c->dissector && strcmp(c->dissector, "sip") == 0 && r->span.last_ts >= c->first_ts &&
                r->span.last_ts <= c->last_ts) {
                if (!l->sip_not_on_wire++)
                    l->first_not_on_wire = r->log_line;
            }
            if (c) {
                r->conn_index = c->index;
                r->dir = sl_addr_equal(&c->info.addr[0], &r->src) && c->info.port[0] == r->sport ? SL_DIR_C2S
                                                                                                   : SL_DIR_S2C;
                l->sip_joined++;
            }
            size_t cost = sl_model_sip_cost(r);
            if (m->max_sip_bytes && m->sip_bytes + cost > m->max_sip_bytes) {
                sl_sip_record_free(r); /* --max-sip-memory: counted and said, as for the capture's */
                m->sip_not_kept++;
                continue;
            }
            if (n_added == cap_added) {
                size_t cap = cap_added ? cap_added * 2 : 64;
                sl_sip_record **p = realloc(added, cap * sizeof *p);
                if (!p) {
                    sl_sip_record_free(r);
                    rc = -SL_ENOMEM;
                    break;
                }
                added = p;
                cap_added = cap;
            }
            added[n_added++] = r;
            m->sip_bytes += cost;
            l->sip_added++;
        }
        twins_free(&t);
        for (size_t i = 0; i < l->n; i++)
            sl_sip_record_free(recs[i]);
        free(recs);
        if (oom)
            rc = -SL_ENOMEM;
    }
    sl_dissector_sip.state_free(st);
    index_free(&cx);
    /* a log alone: its box is where the messages were seen, as a capture point */
    for (size_t i = 0; n_logs && m->capture.n_files == 0 && i < logs[0]->n; i++)
        if (logs[0]->e[i].kind == SL_XLOG_SIP && logs[0]->e[i].has_addrs)
            sl_model_note_local(m, &logs[0]->e[i].local);
    if (rc == 0)
        rc = merge_in(m, n_wire, added, n_added);
    if (rc == 0) { /* the views name the logs beside the capture */
        m->logs = (const sl_xlog *const *)logs;
        m->n_logs = n_logs;
    }
    if (rc < 0)
        for (size_t i = 0; i < n_added; i++)
            sl_sip_record_free(added[i]);
    free(added);
    return rc;
}

/* Printable ASCII of s into the line (the name and host come from the user
 * and the log). */
static void clean_into(char *dst, size_t len, const char *s)
{
    size_t k = 0;
    for (; s && *s && k + 1 < len; s++)
        dst[k++] = (unsigned char)*s >= 32 && (unsigned char)*s < 127 ? *s : '?';
    if (len)
        dst[k] = 0;
}

size_t sl_xlog_describe(const sl_xlog *l, bool with_capture, char *buf, size_t len)
{
    char file[512], host[80], clock[256] = "", sipn[256] = "";
    clean_into(file, sizeof file, l->file);
    clean_into(host, sizeof host, l->host);
    size_t events = 0, sip = 0;
    for (size_t i = 0; i < l->n; i++)
        l->e[i].kind == SL_XLOG_SIP ? sip++ : events++;
    if (with_capture && sip)
        snprintf(sipn, sizeof sipn, " (%zu also read from the capture or another log, %zu on a connection of the "
                                    "capture, %zu only in this log)",
                 l->sip_in_capture, l->sip_joined, l->sip_added - l->sip_joined);
    const char *ref = with_capture ? "the capture's" : "the first log's";
    sl_time_ns o = l->offset; /* capture - log */
    double so = sl_time_seconds(o < 0 ? -o : o);
    const char *dir = o < 0 ? "ahead of" : "behind";
    if (l->has_offset && l->offset_from_conns && o == 0)
        snprintf(clock, sizeof clock, "; no message in both, its %zu messages fall within their connections' "
                                      "life on %s clock", l->offset_samples, ref);
    else if (l->has_offset && l->offset_from_conns)
        snprintf(clock, sizeof clock, "; its clock is at least %.3f s %s %s (only then do its %zu messages fall "
                                      "within their connections' life; no message in both)",
                 so, dir, ref, l->offset_samples);
    else if (l->has_offset && o > -1000000 && o < 1000000)
        snprintf(clock, sizeof clock, "; its clock agrees with %s (within 1 ms, %zu messages in both)", ref,
                 l->offset_samples);
    else if (l->has_offset)
        snprintf(clock, sizeof clock, "; its clock is %.3f s %s %s (from %zu messages in both)", so, dir, ref,
                 l->offset_samples);
    else if (with_capture && sip)
        snprintf(clock, sizeof clock, "; no message in both: its clock is taken as the capture's");
    int n = snprintf(buf, len, "%s (%s%s): %llu lines, %zu SIP message%s%s, %zu event%s%s", file, host,
                     l->gzipped ? ", gzip" : "", (unsigned long long)l->lines, sip, sip == 1 ? "" : "s", sipn,
                     events, events == 1 ? "" : "s", clock);
    return n < 0 ? 0 : (size_t)n;
}

/* ---- the command line's side ------------------------------------------- */

int sl_xlog_add_name(const char ***names, size_t *n, const char *name)
{
    const char **p = realloc(*names, (*n + 1) * sizeof *p);
    if (!p)
        return -SL_ENOMEM;
    p[(*n)++] = name;
    *names = p;
    return 0;
}

static bool file_is_log(const char *path)
{
    struct stat st;
    if (strcmp(path, "-") == 0 || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return false; /* a pipe is read once, by the capture reader */
    gzFile f = gzopen(path, "rb");
    if (!f)
        return false;
    uint8_t head[8192];
    int n = gzread(f, head, sizeof head);
    gzclose(f);
    return n > 0 && sl_xlog_detect(head, (size_t)n);
}

int sl_xlog_take_logs(const char **files, size_t *n_files, const char ***names, size_t *n_names)
{
    size_t kept = 0;
    for (size_t i = 0; i < *n_files; i++) {
        if (file_is_log(files[i])) {
            if (sl_xlog_add_name(names, n_names, files[i]) < 0)
                return -SL_ENOMEM;
        } else {
            files[kept++] = files[i];
        }
    }
    *n_files = kept;
    return 0;
}

void sl_xlog_free_all(sl_xlog **logs, size_t n)
{
    if (!logs)
        return;
    for (size_t i = 0; i < n; i++)
        sl_xlog_free(logs[i]);
    free(logs);
}

/* Escaped for a terminal: the name and host are the user's and the log's. */
static void put_clean(FILE *f, const char *s)
{
    for (; *s; s++)
        fputc((unsigned char)*s >= 32 && (unsigned char)*s < 127 ? *s : '?', f);
}

static void report_log(const sl_xlog *l, bool quiet, bool with_capture)
{
    for (size_t i = 0; i < l->n_problems; i++) {
        fputs("sipladder: warning: ", stderr);
        put_clean(stderr, l->file);
        fprintf(stderr, ":%u: %s\n", (unsigned)l->problems[i].line, l->problems[i].text);
    }
    if (l->problems_total > l->n_problems) {
        fputs("sipladder: warning: ", stderr);
        put_clean(stderr, l->file);
        fprintf(stderr, ": %llu more problems\n", (unsigned long long)(l->problems_total - l->n_problems));
    }
    if (l->sip_unparsed) {
        fputs("sipladder: warning: ", stderr);
        put_clean(stderr, l->file);
        fprintf(stderr, ": %zu SIPMSG block%s the SIP parser did not take\n", l->sip_unparsed,
                l->sip_unparsed == 1 ? "" : "s");
    }
    if (l->sip_not_on_wire) {
        fputs("sipladder: warning: ", stderr);
        put_clean(stderr, l->file);
        fprintf(stderr,
                ":%u: the log has %zu SIP message%s on a connection the capture reads in clear that the capture "
                "lacks (log and capture disagree: captured elsewhere, lost, or the log's clock is off)\n",
                (unsigned)l->first_not_on_wire, l->sip_not_on_wire, l->sip_not_on_wire == 1 ? "" : "s");
    }
    if (quiet)
        return;
    char line[1024];
    sl_xlog_describe(l, with_capture, line, sizeof line);
    fprintf(stderr, "sipladder: log %s\n", line);
}

int sl_xlog_load_all(const char *const *names, size_t n_names, sl_model *m, const sl_config *cfg, bool quiet,
                     sl_xlog ***out)
{
    *out = NULL;
    sl_xlog **logs = calloc(n_names ? n_names : 1, sizeof *logs);
    if (!logs)
        return -SL_ENOMEM;
    for (size_t i = 0; i < n_names; i++) {
        char err[512];
        int rc = sl_xlog_read_file(names[i], &logs[i], err, sizeof err);
        if (rc < 0) {
            if (rc == -SL_ENOMEM) {
                fputs("sipladder: out of memory\n", stderr);
            } else {
                fputs("sipladder: ", stderr);
                put_clean(stderr, err);
                fputc('\n', stderr);
            }
            sl_xlog_free_all(logs, n_names);
            return rc;
        }
    }
    bool with_capture = m->capture.n_files > 0;
    int rc = sl_xlog_merge(m, logs, n_names, cfg);
    if (rc < 0) {
        sl_xlog_free_all(logs, n_names);
        return rc;
    }
    for (size_t i = 0; i < n_names; i++)
        report_log(logs[i], quiet, with_capture);
    *out = logs;
    return 0;
}
