/* tls_pcap_feed.c - TEST-ONLY capture reader and TLS feeder (see the header). */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipladder/cursor.h"
#include "sipladder/status.h"
#include "tls_pcap_feed.h"

/* One captured TCP segment with payload, copied. */
typedef struct seg {
    size_t conn;
    sl_dir dir;
    uint32_t rel;   /* sequence relative to the direction's base */
    uint8_t *data;
    size_t len;
    uint64_t frame;
    sl_time_ns ts;
} seg;

/* A run of new bytes ready for delivery at `frame`. */
typedef struct chunk {
    size_t conn;
    sl_dir dir;
    const uint8_t *data; /* borrowed from a seg */
    size_t len;
    uint64_t frame;      /* delivery order */
    uint64_t data_frame; /* the frame that carried the bytes */
    sl_time_ns ts;
    uint64_t gap;        /* > 0: a hole of this many bytes precedes the data */
    size_t order;        /* sequence order within the direction */
} chunk;

typedef struct dir_track {
    bool have_base;
    uint32_t base;
} dir_track;

typedef struct conn_track {
    sl_addr addr[2];
    uint16_t port[2];
    dir_track d[2];
} conn_track;

/* tracks[i] and res->conns[i] grow in step; n_tracks is their one count
 * (res->n_conns follows it), kept here so that the reader's own loops never
 * depend on a count stored elsewhere. */
typedef struct reader {
    tf_result *res;
    conn_track *tracks;
    size_t n_tracks;
    seg *segs;
    size_t n_segs;
} reader;

/* ------------------------------------------------------------------ growth */

static void *grow(void *p, size_t n, size_t size)
{
    /* Grow to powers of two: n is the count before the new element. */
    if (n & (n - 1))
        return p;
    void *np = realloc(p, (n ? 2 * n : 1) * size);
    if (!np)
        abort();
    return np;
}

/* ------------------------------------------------------------------ decode */

typedef struct pkt {
    sl_addr src, dst;
    uint16_t sport, dport;
    uint32_t seq;
    bool syn, ack, fin, rst;
    const uint8_t *payload;
    size_t len;
} pkt;

static bool decode_tcp(sl_cursor *c, pkt *p)
{
    size_t start = c->pos;
    p->sport = sl_cursor_u16be(c);
    p->dport = sl_cursor_u16be(c);
    p->seq = sl_cursor_u32be(c);
    sl_cursor_skip(c, 4);
    uint8_t off = sl_cursor_u8(c);
    uint8_t flags = sl_cursor_u8(c);
    size_t hlen = (size_t)(off >> 4) * 4;
    if (!sl_cursor_ok(c) || hlen < 20 || hlen - (c->pos - start) > sl_cursor_left(c))
        return false;
    sl_cursor_skip(c, hlen - (c->pos - start));
    p->fin = flags & 0x01;
    p->syn = flags & 0x02;
    p->rst = flags & 0x04;
    p->ack = flags & 0x10;
    p->len = sl_cursor_left(c);
    p->payload = sl_cursor_bytes(c, p->len);
    return true;
}

static bool decode_ip(sl_cursor *c, pkt *p)
{
    uint8_t v = 0;
    if (!sl_cursor_peek_u8(c, 0, &v))
        return false;
    if (v >> 4 == 4) {
        size_t ihl = (size_t)(v & 0x0f) * 4;
        const uint8_t *h = sl_cursor_bytes(c, 20);
        if (!h || ihl < 20 || h[9] != 6 || !sl_cursor_skip(c, ihl - 20))
            return false;
        size_t total = (size_t)(h[2] << 8 | h[3]);
        if (total >= ihl && total - ihl < sl_cursor_left(c))
            c->len = c->pos + (total - ihl); /* drop Ethernet padding */
        p->src = (sl_addr){.family = 4};
        p->dst = (sl_addr){.family = 4};
        memcpy(p->src.bytes, h + 12, 4);
        memcpy(p->dst.bytes, h + 16, 4);
        return decode_tcp(c, p);
    }
    if (v >> 4 == 6) {
        const uint8_t *h = sl_cursor_bytes(c, 40);
        if (!h || h[6] != 6)
            return false;
        size_t plen = (size_t)(h[4] << 8 | h[5]);
        if (plen < sl_cursor_left(c))
            c->len = c->pos + plen;
        p->src = (sl_addr){.family = 6};
        p->dst = (sl_addr){.family = 6};
        memcpy(p->src.bytes, h + 8, 16);
        memcpy(p->dst.bytes, h + 24, 16);
        return decode_tcp(c, p);
    }
    return false;
}

static bool decode_ethertype(sl_cursor *c, uint16_t type, pkt *p)
{
    while (type == 0x8100 || type == 0x88a8) {
        sl_cursor_skip(c, 2);
        type = sl_cursor_u16be(c);
    }
    if (type != 0x0800 && type != 0x86dd)
        return false;
    return decode_ip(c, p);
}

static bool decode_frame(int dlt, const uint8_t *buf, size_t len, pkt *p)
{
    sl_cursor c;
    sl_cursor_init(&c, buf, len);
    memset(p, 0, sizeof *p);
    switch (dlt) {
    case DLT_EN10MB:
        sl_cursor_skip(&c, 12);
        return decode_ethertype(&c, sl_cursor_u16be(&c), p);
    case DLT_NULL:
    case DLT_LOOP:
        sl_cursor_skip(&c, 4);
        return decode_ip(&c, p);
    case DLT_LINUX_SLL:
        sl_cursor_skip(&c, 14);
        return decode_ethertype(&c, sl_cursor_u16be(&c), p);
    case DLT_LINUX_SLL2: {
        uint16_t type = sl_cursor_u16be(&c);
        sl_cursor_skip(&c, 18);
        return decode_ethertype(&c, type, p);
    }
    case DLT_RAW:
    case 101: /* LINKTYPE_RAW, when DLT_RAW is 12 or 14 */
        return decode_ip(&c, p);
    default:
        return false;
    }
}

/* ------------------------------------------------------------------ connections */

static bool same_end(const conn_track *t, int i, const sl_addr *a, uint16_t port)
{
    return t->port[i] == port && sl_addr_equal(&t->addr[i], a);
}

/* The connection of a packet and its direction; a new one when unknown (the
 * SYN sender, or else the first sender, is the client). */
static size_t find_conn(reader *r, const pkt *p, sl_dir *dir)
{
    tf_result *res = r->res;
    for (size_t i = r->n_tracks; i-- > 0;) {
        conn_track *t = &r->tracks[i];
        if (same_end(t, 0, &p->src, p->sport) && same_end(t, 1, &p->dst, p->dport)) {
            *dir = SL_DIR_C2S;
            return i;
        }
        if (same_end(t, 1, &p->src, p->sport) && same_end(t, 0, &p->dst, p->dport)) {
            *dir = SL_DIR_S2C;
            return i;
        }
    }
    bool server_first = p->syn && p->ack;
    res->conns = grow(res->conns, r->n_tracks, sizeof *res->conns);
    r->tracks = grow(r->tracks, r->n_tracks, sizeof *r->tracks);
    size_t i = r->n_tracks++;
    res->n_conns = r->n_tracks;
    conn_track *t = &r->tracks[i];
    memset(t, 0, sizeof *t);
    int c = server_first ? 1 : 0;
    t->addr[c] = p->src;
    t->port[c] = p->sport;
    t->addr[1 - c] = p->dst;
    t->port[1 - c] = p->dport;
    tf_conn *conn = &res->conns[i];
    memset(conn, 0, sizeof *conn);
    conn->info.transport = SL_TRANSPORT_TCP;
    memcpy(conn->info.addr, t->addr, sizeof t->addr);
    memcpy(conn->info.port, t->port, sizeof t->port);
    conn->info.conn_index = (uint32_t)(i + 1);
    conn->session = sl_tls_session_new();
    if (!conn->session)
        abort();
    *dir = server_first ? SL_DIR_S2C : SL_DIR_C2S;
    return i;
}

static void on_packet(reader *r, const pkt *p, uint64_t frame, sl_time_ns ts)
{
    sl_dir dir;
    size_t ci = find_conn(r, p, &dir);
    dir_track *d = &r->tracks[ci].d[dir];
    tf_conn *conn = &r->res->conns[ci];
    if (p->syn) {
        d->have_base = true;
        d->base = p->seq + 1;
    }
    if ((p->fin || p->rst) && conn->end.kind == SL_TCP_END_OPEN)
        conn->end = (sl_tcp_end){p->rst ? SL_TCP_END_RST : SL_TCP_END_FIN, dir, frame, ts};
    if (p->len == 0)
        return;
    if (!d->have_base) {
        d->have_base = true;
        d->base = p->seq;
    }
    r->segs = grow(r->segs, r->n_segs, sizeof *r->segs);
    seg *s = &r->segs[r->n_segs++];
    *s = (seg){ci, dir, p->seq - d->base, malloc(p->len), p->len, frame, ts};
    if (!s->data)
        abort();
    memcpy(s->data, p->payload, p->len);
}

static int read_file(reader *r, const char *path)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, err);
    if (!pc) {
        fprintf(stderr, "%s: %s\n", path, err);
        return -1;
    }
    int dlt = pcap_datalink(pc);
    struct pcap_pkthdr *h;
    const u_char *data;
    int rc;
    while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
        uint64_t frame = ++r->res->frames;
        sl_time_ns ts = (sl_time_ns)h->ts.tv_sec * SL_NS_PER_SEC + (sl_time_ns)h->ts.tv_usec * 1000;
        pkt p;
        if (decode_frame(dlt, data, h->caplen, &p))
            on_packet(r, &p, frame, ts);
    }
    r->res->pcap_error = rc == -1;
    pcap_close(pc);
    return 0;
}

/* ------------------------------------------------------------------ ordering */

static int cmp_seg(const void *a, const void *b)
{
    const seg *x = a, *y = b;
    if (x->conn != y->conn)
        return x->conn < y->conn ? -1 : 1;
    if (x->dir != y->dir)
        return x->dir < y->dir ? -1 : 1;
    if (x->rel != y->rel)
        return x->rel < y->rel ? -1 : 1;
    return x->frame < y->frame ? -1 : x->frame > y->frame;
}

static int cmp_chunk(const void *a, const void *b)
{
    const chunk *x = a, *y = b;
    if (x->frame != y->frame)
        return x->frame < y->frame ? -1 : 1;
    if (x->conn != y->conn)
        return x->conn < y->conn ? -1 : 1;
    if (x->dir != y->dir)
        return x->dir < y->dir ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Sequence order per direction; each chunk is delivered when everything
 * before it has arrived (the latest frame so far in that direction). */
static chunk *order_chunks(reader *r, size_t *n_out)
{
    /* qsort's base must be valid even for 0 elements (C11 7.22.5): a
     * capture without TCP payload leaves segs NULL. */
    if (r->n_segs > 1)
        qsort(r->segs, r->n_segs, sizeof *r->segs, cmp_seg);
    chunk *ch = calloc(r->n_segs ? r->n_segs : 1, sizeof *ch);
    if (!ch)
        abort();
    size_t n = 0;
    for (size_t i = 0; i < r->n_segs;) {
        size_t j = i;
        uint32_t next = r->segs[i].rel;
        uint64_t latest = 0;
        for (; j < r->n_segs && r->segs[j].conn == r->segs[i].conn && r->segs[j].dir == r->segs[i].dir; j++) {
            seg *s = &r->segs[j];
            uint64_t gap = 0;
            size_t skip = 0;
            if (s->rel > next)
                gap = s->rel - next;
            else
                skip = next - s->rel;
            if (skip >= s->len)
                continue; /* wholly retransmitted */
            latest = s->frame > latest ? s->frame : latest;
            ch[n] = (chunk){s->conn, s->dir, s->data + skip, s->len - skip, latest, s->frame, s->ts, gap, n};
            n++;
            next = s->rel + (uint32_t)s->len;
        }
        i = j;
    }
    qsort(ch, n, sizeof *ch, cmp_chunk);
    *n_out = n;
    return ch;
}

/* ------------------------------------------------------------------ feeding */

typedef struct mark {
    size_t off;
    uint64_t frame;
    sl_time_ns ts;
} mark;

typedef struct pending {
    uint8_t *buf;
    size_t len, cap;
    mark *marks;
    size_t n_marks, cap_marks;
} pending;

typedef struct feeder {
    tf_result *res;
    size_t conn;
    pending *cur;
} feeder;

static void sink_span(void *ctx, size_t start, size_t end, sl_span *out)
{
    feeder *f = ctx;
    pending *p = f->cur;
    const mark *a = &p->marks[0], *b = &p->marks[0];
    for (size_t i = 0; i < p->n_marks; i++) {
        if (p->marks[i].off <= start)
            a = &p->marks[i];
        if (p->marks[i].off < end)
            b = &p->marks[i];
    }
    *out = (sl_span){a->frame, b->frame, a->ts, b->ts};
}

static void sink_emit(void *ctx, const sl_event *ev)
{
    feeder *f = ctx;
    tf_result *res = f->res;
    res->log = grow(res->log, res->n_log, sizeof *res->log);
    tf_entry *e = &res->log[res->n_log++];
    memset(e, 0, sizeof *e);
    *e = (tf_entry){.conn = f->conn, .kind = ev->kind, .dir = ev->dir, .span = ev->span};
    if (ev->kind == SL_EV_ANOMALY) {
        e->code = ev->u.anomaly->code;
        snprintf(e->text, sizeof e->text, "%s", ev->u.anomaly->text);
    } else if (ev->kind == SL_EV_TLS) {
        const sl_tls_event *t = ev->u.tls;
        e->type = t->type;
        e->hs_type = t->hs_type;
        if (t->type == SL_TLS_EV_RECORD) {
            e->content_type = t->u.record.content_type;
            e->record_version = t->u.record.version;
            e->encrypted = t->u.record.encrypted;
        } else if (t->type == SL_TLS_EV_ALERT) {
            e->alert_level = t->u.alert.level;
            e->alert_desc = t->u.alert.description;
            e->encrypted = t->u.alert.encrypted;
        } else if (t->type == SL_TLS_EV_CERTIFICATE) {
            e->n_certs = t->u.certificate.n_certs;
        } else if (t->type == SL_TLS_EV_CLIENT_HELLO && t->u.client_hello.sni) {
            snprintf(e->text, sizeof e->text, "%s", t->u.client_hello.sni);
        }
    }
    if (sl_tls_session_add_event(res->conns[f->conn].session, ev) != 0)
        abort();
}

static const sl_sink_ops SINK_OPS = {sink_emit, sink_span};

static void pending_add(pending *p, const uint8_t *data, size_t len, uint64_t frame, sl_time_ns ts)
{
    if (len > p->cap - p->len) {
        p->cap = (p->len + len) * 2;
        p->buf = realloc(p->buf, p->cap);
        if (!p->buf)
            abort();
    }
    memcpy(p->buf + p->len, data, len);
    if (p->n_marks == p->cap_marks) {
        p->cap_marks = p->cap_marks ? 2 * p->cap_marks : 16;
        p->marks = realloc(p->marks, p->cap_marks * sizeof *p->marks);
        if (!p->marks)
            abort();
    }
    p->marks[p->n_marks++] = (mark){p->len, frame, ts};
    p->len += len;
}

static void pending_consume(pending *p, size_t used)
{
    memmove(p->buf, p->buf + used, p->len - used);
    p->len -= used;
    size_t k = 0;
    for (size_t i = 0; i < p->n_marks; i++) {
        bool last_covering = i + 1 == p->n_marks || p->marks[i + 1].off > used;
        if (p->marks[i].off >= used || last_covering) {
            p->marks[k] = p->marks[i];
            p->marks[k].off = p->marks[i].off > used ? p->marks[i].off - used : 0;
            k++;
        }
    }
    p->n_marks = p->len ? k : 0;
}

typedef struct conn_feed {
    void *state;
    pending p[2];
} conn_feed;

static void feed_piece(feeder *f, conn_feed *cf, sl_dir dir, const uint8_t *data, size_t len, uint64_t frame,
                       sl_time_ns ts)
{
    pending *p = &cf->p[dir];
    f->cur = p;
    pending_add(p, data, len, frame, ts);
    sl_sink sink = {&SINK_OPS, f};
    size_t used = 0;
    int rc = sl_dissector_tls.feed(cf->state, dir, p->buf, p->len, &used, &sink);
    if (rc != 0 || used > p->len)
        abort(); /* the dissector never returns an error for bad input */
    pending_consume(p, used);
}

static void feed_chunk(feeder *f, conn_feed *cf, const chunk *c, size_t max)
{
    if (c->gap) {
        sl_dissector_tls.gap(cf->state, c->dir, c->gap);
        cf->p[c->dir].len = 0;
        cf->p[c->dir].n_marks = 0;
        f->res->n_gaps++;
    }
    size_t step = max ? max : c->len;
    for (size_t off = 0; off < c->len; off += step) {
        size_t n = c->len - off < step ? c->len - off : step;
        feed_piece(f, cf, c->dir, c->data + off, n, c->data_frame, c->ts);
    }
}

static void feed_all(tf_result *res, const chunk *ch, size_t n, const sl_config *cfg, size_t max)
{
    conn_feed *cf = calloc(res->n_conns ? res->n_conns : 1, sizeof *cf);
    if (!cf)
        abort();
    feeder f = {res, 0, NULL};
    for (size_t i = 0; i < n; i++) {
        conn_feed *c = &cf[ch[i].conn];
        if (!c->state) {
            res->conns[ch[i].conn].first_entry = res->n_log;
            c->state = sl_dissector_tls.state_new(&res->conns[ch[i].conn].info, cfg, NULL);
            if (!c->state)
                abort();
        }
        f.conn = ch[i].conn;
        feed_chunk(&f, c, &ch[i], max);
    }
    for (size_t i = 0; i < res->n_conns; i++) {
        sl_dissector_tls.state_free(cf[i].state);
        for (int d = 0; d < 2; d++) {
            free(cf[i].p[d].buf);
            free(cf[i].p[d].marks);
        }
    }
    free(cf);
}

int tf_run_pcap(const char *path, const sl_config *cfg, size_t max, tf_result *out)
{
    memset(out, 0, sizeof *out);
    reader r = {out, NULL, 0, NULL, 0};
    if (read_file(&r, path) != 0)
        return -1;
    size_t n = 0;
    chunk *ch = order_chunks(&r, &n);
    feed_all(out, ch, n, cfg, max);
    free(ch);
    for (size_t i = 0; i < r.n_segs; i++)
        free(r.segs[i].data);
    free(r.segs);
    free(r.tracks);
    return 0;
}

int tf_run_bytes(const uint8_t *c2s, size_t c2s_len, const uint8_t *s2c, size_t s2c_len, const size_t *cuts,
                 size_t n_cuts, const sl_config *cfg, tf_result *out)
{
    memset(out, 0, sizeof *out);
    out->conns = calloc(1, sizeof *out->conns);
    if (!out->conns)
        abort();
    out->n_conns = 1;
    out->conns[0].info.transport = SL_TRANSPORT_TCP;
    out->conns[0].info.conn_index = 1;
    out->conns[0].session = sl_tls_session_new();
    conn_feed cf = {0};
    cf.state = sl_dissector_tls.state_new(&out->conns[0].info, cfg, NULL);
    if (!cf.state || !out->conns[0].session)
        abort();
    feeder f = {out, 0, NULL};
    const uint8_t *bufs[2] = {c2s, s2c};
    size_t lens[2] = {c2s_len, s2c_len};
    uint64_t frame = 0;
    for (int d = 0; d < 2; d++) {
        size_t prev = 0;
        for (size_t i = 0; i <= n_cuts; i++) {
            size_t at = i < n_cuts && cuts[i] < lens[d] ? cuts[i] : lens[d];
            if (at <= prev && i < n_cuts)
                continue;
            frame++;
            if (at > prev)
                feed_piece(&f, &cf, (sl_dir)d, bufs[d] + prev, at - prev, frame, (sl_time_ns)frame * SL_NS_PER_SEC);
            prev = at > prev ? at : prev;
        }
    }
    out->frames = frame;
    sl_dissector_tls.state_free(cf.state);
    for (int d = 0; d < 2; d++) {
        free(cf.p[d].buf);
        free(cf.p[d].marks);
    }
    return 0;
}

void tf_result_free(tf_result *r)
{
    for (size_t i = 0; i < r->n_conns; i++)
        sl_tls_session_free(r->conns[i].session);
    free(r->conns);
    free(r->log);
    memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------------ counts */

size_t tf_count_hs(const tf_result *r, uint8_t hs_type)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_log; i++) {
        const tf_entry *e = &r->log[i];
        if (e->kind == SL_EV_TLS && e->hs_type == hs_type &&
            (e->type == SL_TLS_EV_CLIENT_HELLO || e->type == SL_TLS_EV_SERVER_HELLO ||
             e->type == SL_TLS_EV_CERTIFICATE || e->type == SL_TLS_EV_CERTIFICATE_REQUEST ||
             e->type == SL_TLS_EV_HANDSHAKE))
            n++;
    }
    return n;
}

size_t tf_count_alert(const tf_result *r, uint8_t level, uint8_t desc)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_log; i++) {
        const tf_entry *e = &r->log[i];
        n += e->kind == SL_EV_TLS && e->type == SL_TLS_EV_ALERT && !e->encrypted && e->alert_level == level &&
             e->alert_desc == desc;
    }
    return n;
}

size_t tf_count_encrypted_alerts(const tf_result *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_log; i++)
        n += r->log[i].kind == SL_EV_TLS && r->log[i].type == SL_TLS_EV_ALERT && r->log[i].encrypted;
    return n;
}

size_t tf_count_anomalies(const tf_result *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_log; i++)
        n += r->log[i].kind == SL_EV_ANOMALY;
    return n;
}

size_t tf_count_records(const tf_result *r, uint8_t content_type)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_log; i++)
        n += r->log[i].kind == SL_EV_TLS && r->log[i].type == SL_TLS_EV_RECORD &&
             r->log[i].content_type == content_type;
    return n;
}
