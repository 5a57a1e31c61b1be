/* sip_record.c - owned copies of SIP messages and their one-line form.
 *
 * A record is one allocation: the struct, then its arrays (Vias, addresses,
 * parameters, headers), then one copy of the message bytes, then the byte
 * runs that are not runs of the message (libosip2's rebuilt values).  Every
 * field that is a plain run of the message, and the body, points into the
 * one copy: copying each field on its own with a NUL cost about twice the
 * message.  A first pass measures, a second copies, so nothing is
 * reallocated half-way. */
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipladder/sip_record.h"
#include "sipladder/text.h"

typedef struct bump {
    char *base;
    size_t used, cap; /* base == NULL: measuring */
    const char *raw;  /* the borrowed message bytes, or NULL */
    size_t raw_len;
    const char *copy; /* their copy in the record (NULL while measuring) */
} bump;

static void *bump_take(bump *b, size_t n, size_t align)
{
    b->used = (b->used + align - 1) & ~(align - 1);
    void *p = b->base ? b->base + b->used : NULL;
    b->used += n;
    return p;
}

/* Whether s is a run of the message bytes: then it costs nothing. */
static bool in_raw(const bump *b, const sl_sip_str *s)
{
    if (!b->raw || s->p < b->raw || s->p > b->raw + b->raw_len)
        return false;
    size_t off = (size_t)(s->p - b->raw);
    return s->n <= b->raw_len - off;
}

/* Re-point (or measure) a byte run: into the record's copy of the message
 * when it is a run of it, else copied on its own.  Not NUL-terminated
 * (sl_sip_str is pointer and length; no consumer reads past n). */
static void str_copy(bump *b, sl_sip_str *s)
{
    if (!s->p)
        return;
    if (in_raw(b, s)) {
        if (b->copy)
            s->p = b->copy + (s->p - b->raw);
        return;
    }
    char *d = bump_take(b, s->n + 1, 1);
    if (!d)
        return;
    memcpy(d, s->p, s->n);
    d[s->n] = '\0';
    s->p = d;
}

static void params_strs(bump *b, sl_sip_param *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        str_copy(b, &p[i].name);
        str_copy(b, &p[i].value);
    }
}

/* Every byte run of f, in arrays too.  When measuring, nothing is written,
 * so the casts from the borrowed const arrays are never used to write. */
static void all_strs(bump *b, sl_sip_fields *f)
{
    sl_sip_str *top[] = {&f->first_line, &f->method, &f->request_uri, &f->reason_phrase, &f->call_id,
                         &f->cseq_method, &f->from_display, &f->from_uri, &f->from_tag, &f->to_display,
                         &f->to_uri, &f->to_tag, &f->session_id_local, &f->session_id_remote, &f->taatag,
                         &f->cisco_guid, &f->reason_protocol, &f->reason_text, &f->warning_agent,
                         &f->warning_text, &f->supported, &f->require, &f->user_agent, &f->server,
                         &f->content_type};
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++)
        str_copy(b, top[i]);
    for (size_t i = 0; i < f->n_vias; i++) {
        sl_sip_via *v = (sl_sip_via *)&f->vias[i];
        sl_sip_str *vs[] = {&v->transport, &v->host, &v->port, &v->branch, &v->received, &v->rport};
        for (size_t k = 0; k < sizeof vs / sizeof vs[0]; k++)
            str_copy(b, vs[k]);
        params_strs(b, (sl_sip_param *)v->params, v->n_params);
    }
    const sl_sip_addr *lists[] = {f->contacts, f->routes, f->record_routes};
    size_t counts[] = {f->n_contacts, f->n_routes, f->n_record_routes};
    for (size_t l = 0; l < 3; l++) {
        for (size_t i = 0; i < counts[l]; i++) {
            sl_sip_addr *a = (sl_sip_addr *)&lists[l][i];
            str_copy(b, &a->display);
            str_copy(b, &a->uri);
            params_strs(b, (sl_sip_param *)a->params, a->n_params);
        }
    }
    for (size_t i = 0; i < f->n_headers; i++) {
        sl_sip_header *h = (sl_sip_header *)&f->headers[i];
        str_copy(b, &h->name);
        str_copy(b, &h->value);
    }
}

static void *dup_array(bump *b, const void *src, size_t n, size_t size)
{
    void *d = bump_take(b, n * size, alignof(max_align_t));
    if (d && n)
        memcpy(d, src, n * size);
    return d;
}

static const sl_sip_param *dup_params(bump *b, const sl_sip_param *p, size_t n)
{
    return dup_array(b, p, n, sizeof *p);
}

static const sl_sip_addr *dup_addrs(bump *b, const sl_sip_addr *a, size_t n)
{
    sl_sip_addr *d = dup_array(b, a, n, sizeof *a);
    for (size_t i = 0; i < n; i++) {
        const sl_sip_param *p = dup_params(b, a[i].params, a[i].n_params);
        if (d)
            d[i].params = p;
    }
    return d;
}

/* Arrays of src into b, re-pointed in dst (which starts as a copy of src). */
static void dup_arrays(bump *b, sl_sip_fields *dst, const sl_sip_fields *src)
{
    sl_sip_via *v = dup_array(b, src->vias, src->n_vias, sizeof *v);
    for (size_t i = 0; i < src->n_vias; i++) {
        const sl_sip_param *p = dup_params(b, src->vias[i].params, src->vias[i].n_params);
        if (v)
            v[i].params = p;
    }
    dst->vias = v;
    dst->contacts = dup_addrs(b, src->contacts, src->n_contacts);
    dst->routes = dup_addrs(b, src->routes, src->n_routes);
    dst->record_routes = dup_addrs(b, src->record_routes, src->n_record_routes);
    dst->headers = dup_array(b, src->headers, src->n_headers, sizeof *src->headers);
    b->copy = dup_array(b, b->raw, b->raw ? b->raw_len : 0, 1);
    sl_sip_str body = {.p = (const char *)src->body, .n = src->body_len};
    if (src->body_len && in_raw(b, &body)) {
        dst->body = b->copy ? (const uint8_t *)b->copy + (body.p - b->raw) : NULL;
        return;
    }
    const uint8_t *copy = dup_array(b, src->body, src->body_len, 1);
    dst->body = src->body_len ? copy : NULL;
}

static void fill(bump *b, sl_sip_fields *dst, const sl_sip_fields *src)
{
    *dst = *src;
    dup_arrays(b, dst, src);
    all_strs(b, b->base ? dst : (sl_sip_fields *)src);
}

/* Bytes the SDP summary holds beside the record (dissectors/sdp.c: one
 * block of the media and their formats). */
static size_t sdp_bytes(const sl_sdp_summary *s)
{
    if (!s->block_)
        return 0;
    size_t n = s->n_media * sizeof *s->media + 1;
    for (size_t i = 0; i < s->n_media; i++)
        n += s->media[i].n_formats * sizeof *s->media[i].formats;
    return n;
}

static bool body_is_sdp(const sl_sip_fields *f)
{
    if (f->body_len < 2)
        return false;
    sl_sip_str ct = f->content_type;
    const char *want = "application/sdp";
    size_t wl = strlen(want);
    if (ct.p && ct.n >= wl) {
        sl_sip_str head = {.p = ct.p, .n = wl};
        if (sl_sip_str_eq(head, want))
            return true;
    }
    return !ct.p && f->body[0] == 'v' && f->body[1] == '=';
}

sl_sip_record *sl_sip_record_new(const struct sl_sip_msg *m, const sl_span *span, const sl_flow_info *flow,
                                 sl_dir dir)
{
    if (!m)
        return NULL;
    const char *raw = (const char *)m->raw;
    bump b = {.used = sizeof(sl_sip_record), .raw = raw, .raw_len = m->raw_len};
    fill(&b, &(sl_sip_fields){0}, &m->f);
    /* Only the struct needs zeroing: the second fill writes every array and
     * byte run after it (zeroing those too cost a memset of the whole
     * message per record). */
    sl_sip_record *r = malloc(b.used);
    if (!r)
        return NULL;
    memset(r, 0, sizeof *r);
    b = (bump){.base = (char *)r, .used = sizeof *r, .cap = b.used, .raw = raw, .raw_len = m->raw_len};
    fill(&b, &r->f, &m->f);
    r->mem_bytes = b.used;
    r->transport = m->transport;
    r->websocket = m->websocket;
    r->dir = dir;
    r->raw_len = m->raw_len;
    if (span)
        r->span = *span;
    if (flow) {
        r->src = flow->addr[dir];
        r->dst = flow->addr[!dir];
        r->sport = flow->port[dir];
        r->dport = flow->port[!dir];
        r->conn_index = flow->conn_index;
    }
    r->sdp.bw_as = r->sdp.bw_tias = -1;
    if (body_is_sdp(&r->f) && sl_sdp_summary_parse((const char *)r->f.body, r->f.body_len, &r->sdp) == 0)
        r->has_sdp = true;
    r->mem_bytes += sdp_bytes(&r->sdp);
    return r;
}

void sl_sip_record_free(sl_sip_record *r)
{
    if (!r)
        return;
    sl_sdp_summary_free(&r->sdp);
    free(r);
}

/* ---- the one-line form ---- */

typedef struct out {
    char *buf;
    size_t len, need;
} out;

static void put(out *o, const char *s, size_t n)
{
    if (o->need < o->len) {
        size_t room = o->len - 1 - o->need;
        memcpy(o->buf + o->need, s, n < room ? n : room);
    }
    o->need += n;
}

static void put_esc(out *o, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t l = u[i] >= 0x80 ? sl_text_utf8_len(u + i, n - i) : (u[i] >= 0x20 && u[i] < 0x7f ? 1 : 0);
        if (l == 2 && u[i] == 0xc2 && u[i + 1] < 0xa0)
            l = 0; /* a C1 control (U+0080-U+009F): terminals obey it like ESC */
        if (l == 0) {
            char x[5];
            snprintf(x, sizeof x, "\\x%02x", u[i]);
            put(o, x, 4);
            i++;
        } else {
            put(o, s + i, l);
            i += l;
        }
    }
}

static void put_c(out *o, const char *s) { put(o, s, strlen(s)); }

static void finish(out *o)
{
    if (o->len > 0)
        o->buf[o->need < o->len ? o->need : o->len - 1] = '\0';
}

static void put_tail(out *o, const sl_sip_record *r)
{
    char a[SL_ADDR_PORT_STRLEN];
    put_c(o, " ");
    put_c(o, sl_addr_port_format(&r->src, r->sport, a, sizeof a));
    put_c(o, " -> ");
    put_c(o, sl_addr_port_format(&r->dst, r->dport, a, sizeof a));
    put_c(o, r->websocket ? " WS " : r->transport == SL_TRANSPORT_TCP ? " TCP " : " UDP ");
    put_esc(o, r->f.first_line.p, r->f.first_line.n);
    if (r->f.malformed)
        put_c(o, " [malformed]");
    if (r->f.lenient_reason) {
        put_c(o, " [parsed leniently: ");
        put_c(o, r->f.lenient_reason);
        put_c(o, "]");
    }
    put_c(o, " | Call-ID: ");
    if (r->f.call_id.p)
        put_esc(o, r->f.call_id.p, r->f.call_id.n);
    put_c(o, " | CSeq: ");
    if (r->f.has_cseq) {
        char n[16];
        snprintf(n, sizeof n, "%u ", (unsigned)r->f.cseq);
        put_c(o, n);
        put_esc(o, r->f.cseq_method.p, r->f.cseq_method.n);
    }
    if (r->log_file) { /* its source: an Expressway log (and the capture, when it has frames) */
        char ln[32];
        put_c(o, r->span.last_frame ? " | also in log " : " | from log ");
        put_esc(o, r->log_file, strlen(r->log_file));
        snprintf(ln, sizeof ln, ":%u", (unsigned)r->log_line);
        put_c(o, ln);
        if (r->log_host && *r->log_host) {
            put_c(o, " (");
            put_esc(o, r->log_host, strlen(r->log_host));
            put_c(o, ")");
        }
    }
}

size_t sl_sip_record_format_line(const sl_sip_record *r, char *buf, size_t len)
{
    out o = {.buf = buf, .len = len};
    char t[64], fno[24];
    if (r->span.last_frame)
        snprintf(fno, sizeof fno, "%4llu ", (unsigned long long)r->span.last_frame);
    else
        snprintf(fno, sizeof fno, "%4s ", "-"); /* read from a log only: no frame */
    put_c(&o, fno);
    put_c(&o, sl_time_format(r->span.last_ts, t, sizeof t));
    put_tail(&o, r);
    finish(&o);
    return o.need;
}

size_t sl_sip_record_format_line_rel(const sl_sip_record *r, sl_time_ns base, char *buf, size_t len)
{
    out o = {.buf = buf, .len = len};
    char t[64];
    sl_time_ns d = r->span.last_ts - base;
    const char *sign = d < 0 ? "-" : "";
    uint64_t ad = d < 0 ? (uint64_t)(-(d + 1)) + 1 : (uint64_t)d;
    if (r->span.last_frame)
        snprintf(t, sizeof t, "%4llu %s%llu.%06llu", (unsigned long long)r->span.last_frame, sign,
                 (unsigned long long)(ad / 1000000000u), (unsigned long long)(ad % 1000000000u / 1000u));
    else
        snprintf(t, sizeof t, "%4s %s%llu.%06llu", "-", sign, (unsigned long long)(ad / 1000000000u),
                 (unsigned long long)(ad % 1000000000u / 1000u));
    put_c(&o, t);
    put_tail(&o, r);
    finish(&o);
    return o.need;
}
