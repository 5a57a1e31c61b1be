/* sdp.c - a summary of an SDP body (RFC 4566 lines, RFC 3264 offer/answer
 * meaning of port 0 and direction attributes, RFC 3890 b=TIAS, RFC 4568
 * a=crypto).
 *
 * Our own line parser rather than libosip2's sdp_message_parse: that one
 * wants a NUL-terminated string (an SDP body may hold NULs), rejects a whole
 * body for one unexpected line, and keeps everything as heap strings; here a
 * bad line is counted and the rest still read, over exactly len bytes. */
#include <stdlib.h>
#include <string.h>

#include "sipladder/sdp.h"
#include "sipladder/status.h"

typedef struct sdp_line {
    char type;
    const char *v; /* value after "x=" */
    size_t n;
} sdp_line;

/* Next line of body[*pos..len): false at the end. */
static bool next_line(const char *body, size_t len, size_t *pos, sdp_line *l, bool *well_formed)
{
    if (*pos >= len)
        return false;
    const char *s = body + *pos;
    const char *nl = memchr(s, '\n', len - *pos);
    size_t n = nl ? (size_t)(nl - s) : len - *pos;
    *pos += nl ? n + 1 : n;
    /* cppcheck-suppress knownConditionTrueFalse ; n is 0 for an empty line (nl == s) */
    if (n > 0 && s[n - 1] == '\r')
        n--;
    *well_formed = n >= 2 && s[1] == '=' && s[0] >= 'a' && s[0] <= 'z';
    l->type = *well_formed ? s[0] : 0;
    l->v = *well_formed ? s + 2 : s;
    l->n = *well_formed ? n - 2 : n;
    return true;
}

/* The idx-th space-separated token of a line value. */
static bool token(const char *v, size_t n, size_t idx, const char **t, size_t *tn)
{
    size_t i = 0;
    for (;;) {
        while (i < n && v[i] == ' ')
            i++;
        if (i >= n)
            return false;
        size_t s = i;
        while (i < n && v[i] != ' ')
            i++;
        if (idx-- == 0) {
            *t = v + s;
            *tn = i - s;
            return true;
        }
    }
}

static void copy_text(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

static bool to_u64(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned char)s[i] - (unsigned)'0';
        if (d > 9 || v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static bool starts(const char *v, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    return n >= l && memcmp(v, lit, l) == 0;
}

/* Count m= lines and their formats (capped) to size the one allocation. */
static void count(const char *body, size_t len, size_t *n_media, size_t *n_fmt)
{
    size_t pos = 0;
    sdp_line l;
    bool ok;
    *n_media = *n_fmt = 0;
    while (next_line(body, len, &pos, &l, &ok)) {
        if (l.type != 'm' || *n_media == SL_SDP_MAX_MEDIA)
            continue;
        (*n_media)++;
        const char *t;
        size_t tn, k = 0;
        while (k < SL_SDP_MAX_FORMATS && token(l.v, l.n, 3 + k, &t, &tn))
            k++;
        *n_fmt += k;
    }
}

/* "IN IP4 192.0.2.1[/ttl]" -> the address. */
static void take_conn(char *dst, size_t cap, const sdp_line *l)
{
    const char *t;
    size_t tn;
    if (!token(l->v, l->n, 2, &t, &tn))
        return;
    const char *slash = memchr(t, '/', tn);
    copy_text(dst, cap, t, slash ? (size_t)(slash - t) : tn);
}

static bool take_bw(int64_t *as, int64_t *tias, const sdp_line *l)
{
    uint64_t v;
    if (starts(l->v, l->n, "AS:") && to_u64(l->v + 3, l->n - 3, INT64_MAX, &v))
        *as = (int64_t)v;
    else if (starts(l->v, l->n, "TIAS:") && to_u64(l->v + 5, l->n - 5, INT64_MAX, &v))
        *tias = (int64_t)v;
    else
        return starts(l->v, l->n, "CT:") || starts(l->v, l->n, "RR:") || starts(l->v, l->n, "RS:") ||
               starts(l->v, l->n, "X-");
    return true;
}

typedef struct sdp_parse {
    sl_sdp_summary *s;
    sl_sdp_media *cur; /* NULL at session level */
    size_t media_cap, fmt_used, fmt_cap;
    sl_sdp_format *fmt_pool;
} sdp_parse;

static bool take_media(sdp_parse *p, const sdp_line *l)
{
    if (p->s->n_media == p->media_cap) {
        p->s->n_dropped++;
        p->cur = NULL;
        return true;
    }
    const char *t;
    size_t tn;
    uint64_t port;
    sl_sdp_media *m = &p->s->media[p->s->n_media++];
    p->cur = m;
    m->bw_as = m->bw_tias = -1;
    m->formats = p->fmt_pool + p->fmt_used;
    if (!token(l->v, l->n, 0, &t, &tn))
        return false;
    copy_text(m->media, sizeof m->media, t, tn);
    if (!token(l->v, l->n, 1, &t, &tn))
        return false;
    const char *slash = memchr(t, '/', tn); /* "port/number-of-ports" */
    if (!to_u64(t, slash ? (size_t)(slash - t) : tn, 65535, &port))
        return false;
    m->port = (uint32_t)port;
    if (!token(l->v, l->n, 2, &t, &tn))
        return false;
    copy_text(m->proto, sizeof m->proto, t, tn);
    for (size_t k = 0; token(l->v, l->n, 3 + k, &t, &tn); k++) {
        if (k == SL_SDP_MAX_FORMATS || p->fmt_used == p->fmt_cap) {
            p->s->n_dropped++;
            break;
        }
        sl_sdp_format *f = &p->fmt_pool[p->fmt_used++];
        m->n_formats++;
        copy_text(f->fmt, sizeof f->fmt, t, tn);
        uint64_t pt;
        f->pt = to_u64(t, tn, 127, &pt) ? (int)pt : -1;
    }
    return true;
}

/* "a=rtpmap:96 H264/90000" */
static bool take_rtpmap(sl_sdp_media *m, const char *v, size_t n)
{
    const char *t;
    size_t tn;
    uint64_t pt;
    if (!token(v, n, 0, &t, &tn) || !to_u64(t, tn, 127, &pt))
        return false;
    const char *enc;
    size_t en;
    if (!token(v, n, 1, &enc, &en))
        return false;
    for (size_t i = 0; m && i < m->n_formats; i++)
        if (m->formats[i].pt == (int)pt)
            copy_text(m->formats[i].codec, sizeof m->formats[i].codec, enc, en);
    return true;
}

static sl_sdp_direction direction_of(const char *v, size_t n)
{
    static const char *const names[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
    for (size_t i = 0; i < 4; i++)
        if (n == strlen(names[i]) && memcmp(v, names[i], n) == 0)
            return (sl_sdp_direction)(SL_SDP_SENDRECV + i);
    return SL_SDP_DIR_UNSET;
}

static bool take_attr(sdp_parse *p, const sdp_line *l)
{
    sl_sdp_direction d = direction_of(l->v, l->n);
    if (d != SL_SDP_DIR_UNSET) {
        if (p->cur)
            p->cur->direction = d;
        else
            p->s->direction = d;
    } else if (starts(l->v, l->n, "rtpmap:")) {
        return take_rtpmap(p->cur, l->v + 7, l->n - 7);
    } else if (starts(l->v, l->n, "crypto:")) {
        p->s->crypto = true;
        if (p->cur)
            p->cur->crypto = true;
    } else if (starts(l->v, l->n, "fingerprint:") && p->cur) {
        p->cur->fingerprint = true;
    }
    return true;
}

static bool take_line(sdp_parse *p, const sdp_line *l)
{
    sl_sdp_summary *s = p->s;
    switch (l->type) {
    case 'm':
        return take_media(p, l);
    case 'c':
        if (p->cur)
            take_conn(p->cur->conn_addr, sizeof p->cur->conn_addr, l);
        else
            take_conn(s->conn_addr, sizeof s->conn_addr, l);
        return true;
    case 'o':
        if (!p->cur) {
            const char *t;
            size_t tn;
            if (token(l->v, l->n, 5, &t, &tn))
                copy_text(s->origin_addr, sizeof s->origin_addr, t, tn);
        }
        return true;
    case 'b':
        return p->cur ? take_bw(&p->cur->bw_as, &p->cur->bw_tias, l) : take_bw(&s->bw_as, &s->bw_tias, l);
    case 'a':
        return take_attr(p, l);
    default:
        return true;
    }
}

int sl_sdp_summary_parse(const char *body, size_t len, sl_sdp_summary *out)
{
    memset(out, 0, sizeof *out);
    out->bw_as = out->bw_tias = -1;
    if (!body || len < 2 || body[0] != 'v' || body[1] != '=')
        return -SL_EMALFORMED;
    size_t n_media, n_fmt;
    count(body, len, &n_media, &n_fmt);
    size_t media_bytes = n_media * sizeof(sl_sdp_media);
    media_bytes = (media_bytes + 15) & ~(size_t)15;
    out->block_ = calloc(1, media_bytes + n_fmt * sizeof(sl_sdp_format) + 1);
    if (!out->block_)
        return -SL_ENOMEM;
    out->media = out->block_;
    sdp_parse p = {.s = out, .media_cap = n_media, .fmt_cap = n_fmt,
                   .fmt_pool = (sl_sdp_format *)((char *)out->block_ + media_bytes)};
    size_t pos = 0;
    sdp_line l;
    bool ok;
    while (next_line(body, len, &pos, &l, &ok)) {
        if (!ok) {
            if (l.n > 0)
                out->n_bad_lines++;
            continue;
        }
        if (!take_line(&p, &l))
            out->n_bad_lines++;
    }
    return 0;
}

void sl_sdp_summary_free(sl_sdp_summary *s)
{
    if (!s)
        return;
    free(s->block_);
    memset(s, 0, sizeof *s);
    s->bw_as = s->bw_tias = -1;
}

sl_sdp_direction sl_sdp_media_direction(const sl_sdp_summary *s, size_t i)
{
    if (!s || i >= s->n_media)
        return SL_SDP_DIR_UNSET;
    if (s->media[i].direction != SL_SDP_DIR_UNSET)
        return s->media[i].direction;
    return s->direction != SL_SDP_DIR_UNSET ? s->direction : SL_SDP_SENDRECV;
}

const char *sl_sdp_direction_name(sl_sdp_direction d)
{
    switch (d) {
    case SL_SDP_SENDRECV:
        return "sendrecv";
    case SL_SDP_SENDONLY:
        return "sendonly";
    case SL_SDP_RECVONLY:
        return "recvonly";
    case SL_SDP_INACTIVE:
        return "inactive";
    default:
        return "";
    }
}
