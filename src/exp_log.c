/* exp_log.c - read an Expressway diagnostic log (exp_log.h).
 *
 * Lines are cut on '\n' (a '\r' before it is dropped) with no copy and no
 * length limit; an entry is the prefix line plus the lines that continue it
 * (a viewer or a mail client wraps long lines), then optionally a SIPMSG
 * block.  Only bounded copies are made: an entry's text up to
 * SL_XLOG_MAX_ENTRY, cut beyond (reported). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "sipladder/exp_log.h"
#include "sipladder/status.h"

typedef struct line_t {
    const uint8_t *p;
    size_t n;
} line_t;

/* A growing byte buffer, capped. */
typedef struct buf_t {
    uint8_t *p;
    size_t n, cap;
    bool cut; /* something was not kept: over SL_XLOG_MAX_ENTRY */
} buf_t;

static int buf_add(buf_t *b, const void *s, size_t n)
{
    if (n > SL_XLOG_MAX_ENTRY - b->n) {
        b->cut = true;
        n = SL_XLOG_MAX_ENTRY - b->n;
    }
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p)
            return -SL_ENOMEM;
        b->p = p;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
    return 0;
}

static void problem(sl_xlog *l, uint32_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void problem(sl_xlog *l, uint32_t line, const char *fmt, ...)
{
    l->problems_total++;
    if (l->n_problems >= SL_XLOG_MAX_PROBLEMS)
        return;
    sl_xlog_problem *p = &l->problems[l->n_problems++];
    p->line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->text, sizeof p->text, fmt, ap);
    va_end(ap);
}

static bool digits(const uint8_t *p, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return true;
}

int64_t sl_xlog_epoch(int64_t y, int m, int d, int hh, int mm, int ss)
{
    /* days from civil (H. Hinnant's algorithm) */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;
    return days * 86400 + hh * 3600 + mm * 60 + ss;
}

/* "YYYY-MM-DD?HH:MM:SS" at p (n >= 19): the epoch seconds (as UTC). */
static bool civil(const uint8_t *p, size_t n, int64_t *sec)
{
    int y, mo, d, h, mi, s;
    if (n < 19 || p[4] != '-' || p[7] != '-' || p[13] != ':' || p[16] != ':')
        return false;
    if (!digits(p, 4, &y) || !digits(p + 5, 2, &mo) || !digits(p + 8, 2, &d) || !digits(p + 11, 2, &h) ||
        !digits(p + 14, 2, &mi) || !digits(p + 17, 2, &s))
        return false;
    /* years a box's clock can show: the arithmetic on times stays far from overflow */
    if (y < 1970 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return false;
    *sec = sl_xlog_epoch(y, mo, d, h, mi, s);
    return true;
}

/* Fraction digits at p: nanoseconds; *used: how many digits. */
static int64_t fraction(const uint8_t *p, size_t n, size_t *used)
{
    int64_t ns = 0, scale = 100000000;
    size_t i = 0;
    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
        ns += (p[i] - '0') * scale;
        scale /= 10;
    }
    *used = i;
    return ns;
}

/* The syslog prefix "2016-10-13T12:58:40.636+09:00 vcse tvcs:" at the start
 * of a line: its UTC time, host, and where the entry's text begins. */
static bool syslog_prefix(line_t ln, sl_time_ns *utc, char *host, size_t host_len, size_t *text)
{
    const uint8_t *p = ln.p;
    size_t n = ln.n;
    int64_t sec;
    if (n < 26 || p[10] != 'T' || !civil(p, n, &sec))
        return false;
    size_t i = 19, used = 0;
    int64_t ns = 0;
    if (p[i] == '.') {
        ns = fraction(p + i + 1, n - i - 1, &used);
        i += 1 + used;
    }
    int64_t off = 0;
    if (i < n && p[i] == 'Z') {
        i++;
    } else if (i + 6 <= n && (p[i] == '+' || p[i] == '-') && p[i + 3] == ':') {
        int oh, om;
        if (!digits(p + i + 1, 2, &oh) || !digits(p + i + 4, 2, &om) || oh > 23 || om > 59)
            return false;
        off = (oh * 3600 + om * 60) * (p[i] == '-' ? -1 : 1);
        i += 6;
    } else {
        return false;
    }
    if (i >= n || p[i] != ' ')
        return false;
    size_t h = ++i;
    while (i < n && p[i] != ' ')
        i++;
    size_t hn = i - h;
    if (hn == 0 || i + 6 > n || memcmp(p + i, " tvcs:", 6) != 0)
        return false;
    snprintf(host, host_len, "%.*s", (int)(hn < host_len ? hn : host_len - 1), (const char *)p + h);
    *utc = (sec - off) * 1000000000LL + ns;
    *text = i + 6;
    return true;
}

/* ---- Name="value" pairs ------------------------------------------------ */

/* The value of `key` (case-insensitive, as a whole word before '="') in the
 * entry text, copied into the entry's strings; "" when absent. */
static bool find_value(const buf_t *t, const char *key, const uint8_t **v, size_t *vn)
{
    size_t kn = strlen(key);
    const uint8_t *p = t->p;
    for (size_t i = 0; t->n >= kn + 2 && i + kn + 2 <= t->n; i++) {
        if (i > 0) {
            uint8_t b = p[i - 1];
            if ((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || b == '-' || b == '_')
                continue;
        }
        if (strncasecmp((const char *)p + i, key, kn) != 0 || p[i + kn] != '=' || p[i + kn + 1] != '"')
            continue;
        size_t s = i + kn + 2, e = s;
        while (e < t->n && p[e] != '"')
            e++;
        *v = p + s;
        *vn = e - s;
        return true;
    }
    return false;
}

/* Strings of one entry: a pool the entry owns (freed with the log). */
typedef struct pool_t {
    char **blocks;
    size_t n, cap;
} pool_t;

static const char *pool_str(pool_t *pl, const uint8_t *s, size_t n)
{
    if (!s || n == 0)
        return "";
    if (pl->n == pl->cap) {
        size_t cap = pl->cap ? pl->cap * 2 : 64;
        char **b = realloc(pl->blocks, cap * sizeof *b);
        if (!b)
            return NULL;
        pl->blocks = b;
        pl->cap = cap;
    }
    char *c = malloc(n + 1);
    if (!c)
        return NULL;
    memcpy(c, s, n);
    c[n] = 0;
    pl->blocks[pl->n++] = c;
    return c;
}

/* The pool hangs off the log through this wrapper (sl_xlog stays plain). */
typedef struct xlog_full {
    sl_xlog pub;
    pool_t pool;
} xlog_full;

static const char *value(xlog_full *x, const buf_t *t, const char *key, bool *oom)
{
    const uint8_t *v;
    size_t vn;
    if (!find_value(t, key, &v, &vn))
        return "";
    const char *s = pool_str(&x->pool, v, vn);
    if (!s) {
        *oom = true;
        return "";
    }
    return s;
}

static bool parse_port(const char *s, uint16_t *out)
{
    int v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 65535)
            return false;
        v = v * 10 + (*s - '0');
    }
    if (v > 65535)
        return false;
    *out = (uint16_t)v;
    return true;
}

/* "['IPv4''TCP''1.1.1.1:25001']": the address and port after the last
 * quote-delimited piece's last ':' ("[2001:db8::1]:5061" for IPv6). */
static bool ssl_address(const char *s, sl_addr *a, uint16_t *port)
{
    const char *end = strrchr(s, ']');
    if (!end)
        end = s + strlen(s);
    const char *q = end;
    while (q > s && q[-1] == '\'')
        q--;
    const char *b = q;
    while (b > s && b[-1] != '\'')
        b--;
    char tmp[80];
    size_t n = (size_t)(q - b);
    if (n == 0 || n >= sizeof tmp)
        return false;
    memcpy(tmp, b, n);
    tmp[n] = 0;
    char *colon = strrchr(tmp, ':');
    if (!colon || !parse_port(colon + 1, port))
        return false;
    *colon = 0;
    char *ip = tmp;
    if (*ip == '[' && colon > ip + 1 && colon[-1] == ']') {
        ip++;
        colon[-1] = 0;
    }
    return sl_addr_parse(ip, a) == 0;
}

static bool addr_port(const char *ip, const char *port, sl_addr *a, uint16_t *p)
{
    return *ip && sl_addr_parse(ip, a) == 0 && parse_port(port, p);
}

/* ---- entries ------------------------------------------------------------ */

typedef struct entry_acc {
    bool open;
    uint32_t line;
    sl_time_ns prefix_utc;
    buf_t text;
    /* SIPMSG */
    bool want_sipmsg; /* "SIPMSG:" seen, no '|' yet */
    bool in_sipmsg;
    bool sipmsg_done;
    bool sipmsg_broken;
    uint32_t sip_line;
    line_t *sip_lines; /* borrowed lines of the block, '|' marks removed */
    size_t n_sip_lines, cap_sip_lines;
    size_t sip_bytes;
} entry_acc;

static int push_entry(sl_xlog *l, const sl_xlog_entry *e)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        sl_xlog_entry *p = realloc(l->e, cap * sizeof *p);
        if (!p)
            return -SL_ENOMEM;
        l->e = p;
        l->cap = cap;
    }
    l->e[l->n++] = *e;
    return 0;
}

/* RFC 3261 token characters: a header name is made of them. */
static bool token_char(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("-.!%*_+`'~", c));
}

/* "Name:" or "Name :" (a wrapped line rarely starts so; "sip:" inside a
 * URI would, and is taken for a header: the wrap heuristics' limit). */
static bool is_header_name_line(const uint8_t *p, size_t n)
{
    size_t i = 0;
    if (n == 0 || !((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' && p[0] <= 'Z')))
        return false; /* header names start with a letter; "192.0.2.1:5062" does not */
    while (i < n && token_char(p[i]))
        i++;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    return i > 0 && i < n && p[i] == ':';
}

/* A wrapped header line continues the one before it.  The wrap cut the
 * line at any column (inside a token: joined as is), except that a break
 * after "SIP/2.0/TLS" (a Via's protocol) stood for a space. */
static bool joins_with_space(const buf_t *m)
{
    size_t i = m->n;
    while (i > 0 && m->p[i - 1] >= 'A' && m->p[i - 1] <= 'Z')
        i--;
    return i >= 8 && i < m->n && memcmp(m->p + i - 8, "SIP/2.0/", 8) == 0;
}

/* The SIPMSG block's lines as one message with CRLF line ends: wrapped
 * header lines joined; the body as it came.  Content-Length counts the
 * body: a trailing line end the log added beyond it is dropped. */
static int rebuild_sip(const entry_acc *a, buf_t *m)
{
    bool in_body = false;
    size_t body_at = 0;
    for (size_t i = 0; i < a->n_sip_lines; i++) {
        line_t ln = a->sip_lines[i];
        int rc = 0;
        if (in_body) {
            rc = buf_add(m, ln.p, ln.n);
            if (rc == 0)
                rc = buf_add(m, "\r\n", 2);
        } else if (ln.n == 0) {
            if (i == 0)
                continue;
            in_body = true;
            rc = buf_add(m, "\r\n", 2);
            body_at = m->n;
        } else if (i > 0 && ln.p[0] != ' ' && ln.p[0] != '\t' && !is_header_name_line(ln.p, ln.n) && m->n >= 2) {
            m->n -= 2; /* undo the CRLF: this line continues the last */
            if (joins_with_space(m))
                rc = buf_add(m, " ", 1);
            if (rc == 0)
                rc = buf_add(m, ln.p, ln.n);
            if (rc == 0)
                rc = buf_add(m, "\r\n", 2);
        } else {
            rc = buf_add(m, ln.p, ln.n);
            if (rc == 0)
                rc = buf_add(m, "\r\n", 2);
        }
        if (rc < 0)
            return rc;
    }
    if (!in_body)
        return buf_add(m, "\r\n", 2);
    /* the block's last line end is the log's, not the body's, when the
     * message declares a shorter body */
    size_t body = m->n - body_at;
    const char *cl = NULL;
    for (size_t i = 0; i + 15 < body_at; i++) {
        if ((i == 0 || m->p[i - 1] == '\n') &&
            (strncasecmp((const char *)m->p + i, "Content-Length:", 15) == 0 ||
             strncasecmp((const char *)m->p + i, "l:", 2) == 0)) {
            cl = (const char *)m->p + i + (m->p[i + 1] == ':' ? 2 : 15);
            break;
        }
    }
    if (cl) {
        while (*cl == ' ' || *cl == '\t')
            cl++;
        size_t want = 0;
        bool ok = false;
        while (*cl >= '0' && *cl <= '9' && want < SL_XLOG_MAX_ENTRY) {
            want = want * 10 + (size_t)(*cl++ - '0');
            ok = true;
        }
        if (ok && want < body && body - want <= 2)
            m->n = body_at + want;
    }
    return 0;
}

/* Turn the accumulated entry into a kept entry (or nothing: a module no
 * diagnosis reads). */
static int finish_entry(xlog_full *x, entry_acc *a)
{
    sl_xlog *l = &x->pub;
    if (!a->open)
        return 0;
    a->open = false;
    if (a->text.cut)
        problem(l, a->line, "entry longer than %zu bytes: the rest is not read", (size_t)SL_XLOG_MAX_ENTRY);
    if (a->in_sipmsg || (a->sipmsg_done && a->sipmsg_broken)) {
        problem(l, a->sip_line, "SIPMSG block not closed by '|' (%zu lines read)", a->n_sip_lines);
        a->sipmsg_broken = true;
        a->sipmsg_done = true; /* what came is kept, marked broken */
        a->in_sipmsg = false;
    } else if (a->want_sipmsg) {
        problem(l, a->line, "SIPMSG: with no message after it");
    }
    bool oom = false;
    sl_xlog_entry e = {.line = a->line, .prefix_utc = a->prefix_utc, .kind = SL_XLOG_KINDS};
    const buf_t *t = &a->text;
    const char *utc = value(x, t, "UTCTime", &oom);
    int64_t sec;
    if (strlen(utc) >= 19 && civil((const uint8_t *)utc, strlen(utc), &sec)) {
        size_t used = 0;
        int64_t ns = utc[19] == ',' || utc[19] == '.' ? fraction((const uint8_t *)utc + 20, strlen(utc + 20), &used) : 0;
        e.utc = sec * 1000000000LL + ns;
        e.has_time = true;
    } else if (a->prefix_utc) {
        e.utc = a->prefix_utc;
        e.has_time = true;
    }
    const char *module = value(x, t, "Module", &oom);
    const char *event = value(x, t, "Event", &oom);
    e.detail = value(x, t, "Detail", &oom);
    e.reason = value(x, t, "Reason", &oom);
    e.protocol = value(x, t, "Protocol", &oom);
    e.serial = value(x, t, "Call-serial-number", &oom);
    e.tag = value(x, t, "Tag", &oom);
    e.src_alias = value(x, t, "Src-alias", &oom);
    e.dst_alias = value(x, t, "Dst-alias", &oom);
    e.name = value(x, t, "Name", &oom);
    e.type = value(x, t, "Type", &oom);
    e.common_name = value(x, t, "Common-name", &oom);
    e.ssl_reason = "";
    const char *src_ip = value(x, t, "Src-ip", &oom), *src_port = value(x, t, "Src-port", &oom);
    const char *dst_ip = value(x, t, "Dst-ip", &oom), *dst_port = value(x, t, "Dst-port", &oom);
    const char *loc_ip = value(x, t, "Local-ip", &oom), *loc_port = value(x, t, "Local-port", &oom);
    if (oom)
        return -SL_ENOMEM;
    l->entries_seen++;

    if (strcmp(module, "network.sip") == 0) {
        const char *action = value(x, t, "Action", &oom);
        e.sent = strcmp(action, "Sent") == 0;
        bool remote_ok = e.sent ? addr_port(dst_ip, dst_port, &e.remote, &e.remote_port)
                                : addr_port(src_ip, src_port, &e.remote, &e.remote_port);
        e.has_addrs = remote_ok && addr_port(loc_ip, loc_port, &e.local, &e.local_port);
        if (!a->sipmsg_done) {
            l->info_sip++; /* the INFO summary: its DEBUG twin carries the message */
            return 0;
        }
        if (!e.has_addrs)
            problem(l, a->line, "network.sip entry without Local-ip/port and %s-ip/port", e.sent ? "Dst" : "Src");
        buf_t m = {0};
        int rc = rebuild_sip(a, &m);
        if (rc < 0) {
            free(m.p);
            return rc;
        }
        e.kind = SL_XLOG_SIP;
        e.sip_line = a->sip_line;
        e.msg = m.p;
        e.msg_len = m.n;
        e.msg_broken = a->sipmsg_broken;
        if (m.cut)
            problem(l, a->sip_line, "SIP message longer than %zu bytes: cut", (size_t)SL_XLOG_MAX_ENTRY);
        rc = push_entry(l, &e);
        if (rc < 0)
            free(m.p);
        return rc;
    }
    if (*event) {
        if (strcmp(event, "Call Attempted") == 0)
            e.kind = SL_XLOG_CALL_ATTEMPTED;
        else if (strcmp(event, "Search Attempted") == 0)
            e.kind = SL_XLOG_SEARCH_ATTEMPTED;
        else if (strcmp(event, "Search Completed") == 0)
            e.kind = SL_XLOG_SEARCH_COMPLETED;
        else if (strcmp(event, "Call Rejected") == 0)
            e.kind = SL_XLOG_CALL_REJECTED;
        else if (strcmp(event, "Inbound TLS Negotiation Error") == 0 ||
                 strcmp(event, "Outbound TLS Negotiation Error") == 0)
            e.kind = SL_XLOG_TLS_NEG_ERROR;
        else
            return 0;
        if (e.kind == SL_XLOG_TLS_NEG_ERROR) {
            e.sent = event[0] == 'O';
            /* outbound: the box is Src; inbound: the box is Dst */
            if (e.sent)
                e.has_addrs = addr_port(src_ip, src_port, &e.local, &e.local_port) &&
                              addr_port(dst_ip, dst_port, &e.remote, &e.remote_port);
            else
                e.has_addrs = addr_port(dst_ip, dst_port, &e.local, &e.local_port) &&
                              addr_port(src_ip, src_port, &e.remote, &e.remote_port);
        } else {
            e.has_addrs = addr_port(src_ip, src_port, &e.remote, &e.remote_port);
        }
        const char *code = value(x, t, "Response-code", &oom);
        uint16_t rc16;
        if (parse_port(code, &rc16))
            e.response_code = rc16;
        return oom ? -SL_ENOMEM : push_entry(l, &e);
    }
    if (strcmp(module, "network.tcp") == 0) {
        e.kind = SL_XLOG_TCP;
        e.has_addrs = addr_port(src_ip, src_port, &e.local, &e.local_port) &&
                      addr_port(dst_ip, dst_port, &e.remote, &e.remote_port);
        return push_entry(l, &e);
    }
    if (strcmp(module, "network.dns") == 0) {
        if (strstr(e.detail, "Sending DNS query"))
            e.kind = SL_XLOG_DNS_QUERY;
        else if (strstr(e.detail, "Could not resolve"))
            e.kind = SL_XLOG_DNS_FAILED;
        else
            return 0;
        return push_entry(l, &e);
    }
    if (strcmp(module, "developer.ssl") == 0) {
        static const char failed[] = "Failed to establish SSL connection";
        if (t->n < sizeof failed || !memmem(t->p, t->n, failed, sizeof failed - 1))
            return 0;
        e.kind = SL_XLOG_SSL_FAILED;
        e.ssl_reason = value(x, t, "ssl_error_reason", &oom);
        e.sent = strcmp(value(x, t, "bServer", &oom), "false") == 0;
        const char *la = value(x, t, "localAddress", &oom), *ra = value(x, t, "remoteAddress", &oom);
        e.has_addrs = ssl_address(la, &e.local, &e.local_port) && ssl_address(ra, &e.remote, &e.remote_port);
        return oom ? -SL_ENOMEM : push_entry(l, &e);
    }
    return 0;
}

static int add_sip_line(entry_acc *a, line_t ln)
{
    if (a->sip_bytes + ln.n > SL_XLOG_MAX_ENTRY) {
        a->sipmsg_broken = true;
        return 0;
    }
    if (a->n_sip_lines == a->cap_sip_lines) {
        size_t cap = a->cap_sip_lines ? a->cap_sip_lines * 2 : 64;
        line_t *p = realloc(a->sip_lines, cap * sizeof *p);
        if (!p)
            return -SL_ENOMEM;
        a->sip_lines = p;
        a->cap_sip_lines = cap;
    }
    a->sip_lines[a->n_sip_lines++] = ln;
    a->sip_bytes += ln.n + 2;
    return 0;
}

static line_t trim_right(line_t ln)
{
    while (ln.n && (ln.p[ln.n - 1] == ' ' || ln.p[ln.n - 1] == '\t'))
        ln.n--;
    return ln;
}

/* One line of the log, in order. */
static int take_line(xlog_full *x, entry_acc *a, line_t ln, uint32_t no)
{
    sl_xlog *l = &x->pub;
    if (a->in_sipmsg) {
        line_t t = trim_right(ln);
        /* a new entry's prefix inside a block: the block was broken */
        sl_time_ns utc;
        char host[64];
        size_t text;
        if (!syslog_prefix(ln, &utc, host, sizeof host, &text)) {
            if (t.n && t.p[t.n - 1] == '|') {
                a->in_sipmsg = false;
                a->sipmsg_done = true;
                t.n--;
                return t.n ? add_sip_line(a, t) : 0;
            }
            return add_sip_line(a, ln);
        }
        /* fall through: finish_entry reports the block as not closed */
    } else if (a->want_sipmsg) {
        line_t t = trim_right(ln);
        if (t.n == 0)
            return 0;
        if (t.p[0] == '|') {
            a->want_sipmsg = false;
            a->in_sipmsg = true;
            a->sip_line = no;
            line_t rest = {ln.p + 1, ln.n - 1};
            /* a one-line block "|...|" */
            if (t.n > 1 && t.p[t.n - 1] == '|') {
                a->in_sipmsg = false;
                a->sipmsg_done = true;
                rest.n = t.n - 2;
            }
            return add_sip_line(a, rest);
        }
        /* not a block: treated as the next line of the log */
        a->want_sipmsg = false;
    }
    sl_time_ns utc;
    char host[64];
    size_t text;
    if (syslog_prefix(ln, &utc, host, sizeof host, &text)) {
        int rc = finish_entry(x, a);
        if (rc < 0)
            return rc;
        if (!l->host[0])
            snprintf(l->host, sizeof l->host, "%s", host);
        a->open = true;
        a->line = no;
        a->prefix_utc = utc;
        a->text.n = 0;
        a->text.cut = false;
        a->want_sipmsg = a->in_sipmsg = a->sipmsg_done = a->sipmsg_broken = false;
        a->n_sip_lines = 0;
        a->sip_bytes = 0;
        return buf_add(&a->text, ln.p + text, ln.n - text);
    }
    line_t t = trim_right(ln);
    if (t.n == 7 && memcmp(t.p, "SIPMSG:", 7) == 0) {
        if (!a->open)
            problem(l, no, "SIPMSG: outside any entry");
        else if (a->sipmsg_done)
            problem(l, no, "a second SIPMSG: in one entry (the first is kept)");
        else
            a->want_sipmsg = true;
        return 0;
    }
    if (t.n == 0)
        return 0;
    if (!a->open) {
        problem(l, no, "line outside any entry (no 'DATE HOST tvcs:' before it)");
        return 0;
    }
    if (a->sipmsg_done) {
        problem(l, no, "text after the SIPMSG block of the entry at line %u", (unsigned)a->line);
        return 0;
    }
    /* a wrapped line of the entry */
    int rc = buf_add(&a->text, " ", 1);
    return rc < 0 ? rc : buf_add(&a->text, ln.p, ln.n);
}

bool sl_xlog_detect(const uint8_t *data, size_t len)
{
    size_t n = len < 65536 ? len : 65536;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || data[i] == '\n') {
            line_t ln = {data + start, i - start};
            sl_time_ns utc;
            char host[64];
            size_t text;
            if (syslog_prefix(ln, &utc, host, sizeof host, &text))
                return true;
            start = i + 1;
        }
    }
    return false;
}

/* A problem's text shows bytes of the log: printable ASCII only. */
static void clean_problems(sl_xlog *l)
{
    for (size_t i = 0; i < l->n_problems; i++)
        for (char *c = l->problems[i].text; *c; c++)
            if ((unsigned char)*c < 32 || (unsigned char)*c >= 127)
                *c = '?';
}

int sl_xlog_parse(const uint8_t *data, size_t len, const char *name, sl_xlog **out)
{
    *out = NULL;
    if (!sl_xlog_detect(data, len))
        return -SL_EUSAGE;
    xlog_full *x = calloc(1, sizeof *x);
    if (!x)
        return -SL_ENOMEM;
    sl_xlog *l = &x->pub;
    l->file = strdup(name ? name : "<memory>");
    l->bytes = len;
    int rc = l->file ? 0 : -SL_ENOMEM;
    entry_acc a = {0};
    size_t start = 0;
    uint32_t no = 0;
    bool bad_utf8_said = false;
    for (size_t i = 0; rc == 0 && i <= len; i++) {
        if (i < len && data[i] != '\n')
            continue;
        if (i == len && start == len)
            break;
        no++;
        line_t ln = {data + start, i - start};
        if (ln.n && ln.p[ln.n - 1] == '\r')
            ln.n--;
        if (!bad_utf8_said && memchr(ln.p, 0, ln.n)) {
            problem(l, no, "NUL bytes in the line (binary junk?)");
            bad_utf8_said = true;
        }
        rc = take_line(x, &a, ln, no);
        start = i + 1;
    }
    if (rc == 0)
        rc = finish_entry(x, &a);
    l->lines = no;
    free(a.text.p);
    free(a.sip_lines);
    clean_problems(l);
    if (rc < 0) {
        sl_xlog_free(l);
        return rc;
    }
    *out = l;
    return 0;
}

int sl_xlog_read_file(const char *path, sl_xlog **out, char *err, size_t err_len)
{
    *out = NULL;
    gzFile f = gzopen(path, "rb");
    if (!f) {
        snprintf(err, err_len, "cannot open %s", path);
        return -SL_EIO;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    int rc = buf ? 0 : -SL_ENOMEM;
    while (rc == 0) {
        if (n == cap) {
            if (cap >= SL_XLOG_MAX_FILE) {
                snprintf(err, err_len, "%s: more than %zu MB: only the start is read", path, SL_XLOG_MAX_FILE >> 20);
                break;
            }
            uint8_t *p = realloc(buf, cap * 2);
            if (!p) {
                rc = -SL_ENOMEM;
                break;
            }
            buf = p;
            cap *= 2;
        }
        int want = (int)((cap - n) > (1u << 30) ? (1u << 30) : (cap - n));
        int got = gzread(f, buf + n, (unsigned)want);
        if (got < 0) {
            int zerr;
            const char *m = gzerror(f, &zerr);
            snprintf(err, err_len, "%s: %s", path, m ? m : "read error");
            if (n == 0)
                rc = -SL_EIO;
            break;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    bool gz = gzdirect(f) == 0;
    gzclose(f);
    if (rc == 0) {
        rc = sl_xlog_parse(buf, n, path, out);
        if (rc == -SL_EUSAGE) {
            snprintf(err, err_len, "%s is not an Expressway diagnostic log (no 'DATE HOST tvcs:' line)", path);
            rc = -SL_EIO;
        }
        if (*out)
            (*out)->gzipped = gz;
    }
    free(buf);
    return rc;
}

void sl_xlog_free(sl_xlog *l)
{
    if (!l)
        return;
    xlog_full *x = (xlog_full *)l;
    for (size_t i = 0; i < l->n; i++)
        if (l->e[i].kind == SL_XLOG_SIP)
            free((void *)l->e[i].msg);
    for (size_t i = 0; i < x->pool.n; i++)
        free(x->pool.blocks[i]);
    free(x->pool.blocks);
    free(l->e);
    free(l->file);
    free(x);
}

const char *sl_xlog_kind_name(sl_xlog_kind k)
{
    static const char *const names[SL_XLOG_KINDS] = {
        "sip",           "call-attempted", "search-attempted", "search-completed", "call-rejected",
        "tcp",           "dns-query",      "dns-failed",       "ssl-failed",       "tls-negotiation-error"};
    return k < SL_XLOG_KINDS ? names[k] : "?";
}
