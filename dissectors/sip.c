/* sip.c - SIP framing over UDP and TCP (RFC 3261 sections 7, 18.3; RFC 5626
 * keepalives) and parsing with libosip2 into the plain fields of sip.h.
 *
 * Framing is ours: the header end, Content-Length (and its compact "l"), CRLF
 * keepalives and resynchronisation on the next start line.  The header lines
 * are split once (ours too); libosip2 then parses the Request-URI and the
 * lines whose structure the record keeps (Via, From, To, Contact, Route,
 * Record-Route), from NUL-terminated copies.  The simple headers are read
 * from the raw lines, which stay valid for the emit call.  Handing libosip2
 * the whole message parsed every header and copied the body for nothing
 * read: a fifth of the instructions of a whole `summary` run. */
#include <osipparser2/osip_parser.h>
#include <stdlib.h>
#include <string.h>

#include "osip_arena.h"
#include "sipladder/bytes.h"
#include "sipladder/sip.h"
#include "sipladder/status.h"

#define SIP_NAME "sip"
/* A start line longer than this is not a start line (resync gives up on it). */
#define SIP_MAX_START_LINE 8192
/* Header lines libosip2 parses per message: each holds one or more Vias
 * or addresses, so the Via and address caps bound what is kept anyway. */
#define SIP_MAX_STRUCTURED (SL_SIP_MAX_VIAS + SL_SIP_MAX_ADDRS + 2)

/* A header line whose structure the record keeps (Vias, From, To, Contact,
 * Route, Record-Route): libosip2's name for it and its raw value. */
typedef struct sip_structured {
    const char *osip_name;
    int kind; /* K_* */
    sl_sip_str value;
} sip_structured;

/* The structured header kinds, in the order of structured_names; a bit per
 * kind says libosip2 rejected a line of it (read leniently instead). */
enum { K_VIA, K_FROM, K_TO, K_CONTACT, K_ROUTE, K_RECORD_ROUTE, K_REQUEST_URI, K_KINDS };
static const char *const structured_names[] = {"via", "from", "to", "contact", "route", "record-route"};
/* What the record says of a message read leniently, by the first rejected kind. */
static const char *const lenient_texts[K_KINDS] = {
    "Via header rejected by libosip2", "From header rejected by libosip2", "To header rejected by libosip2",
    "Contact header rejected by libosip2", "Route header rejected by libosip2",
    "Record-Route header rejected by libosip2", "Request-URI rejected by libosip2",
};

/* The message being dissected: used within one dissect() call only (reset
 * before and after), so every flow of an analysis can use the same one
 * (about 30 KB; per flow it was most of the memory of a capture with many
 * connections). */
typedef struct sip_scratch {
    sl_sip_msg msg;
    sl_sip_header headers[SL_SIP_MAX_HEADERS];
    sl_sip_via vias[SL_SIP_MAX_VIAS];
    sl_sip_addr addrs[SL_SIP_MAX_ADDRS];
    size_t n_addrs;
    sl_sip_param params[SL_SIP_MAX_PARAMS];
    size_t n_params;
    sl_arena *arena;       /* libosip2's tree and strings of this message */
    sip_structured structured[SIP_MAX_STRUCTURED]; /* the header lines libosip2 parses */
    size_t n_structured;
    sl_bytes value; /* a NUL-terminated copy of one of them for libosip2 */
    unsigned rejected; /* bit per K_* kind libosip2 rejected in this message */
    bool has_from, has_to; /* a From / To was read, by libosip2 or leniently */
    bool cap_hit; /* some cap above was reached in this message */
} sip_scratch;

typedef struct sip_state {
    const sl_flow_info *flow;
    size_t cap;      /* max bytes of one message */
    sip_scratch *sc; /* the analysis's (shared context), or own */
    bool own_sc;
    bool websocket; /* messages come whole from a WebSocket (sl_sip_dissect_whole) */
} sip_state;

/* Where the current message lies in the feed buffer. */
typedef struct sip_frame {
    const uint8_t *buf; /* the feed buffer */
    size_t start, hdr_end, end; /* offsets: message, after blank line, end */
    const char *cut; /* why the frame is not the whole message, or NULL */
} sip_frame;

/* ---- byte-run helpers ---- */

static sl_sip_str mkstr(const void *p, size_t n) { return (sl_sip_str){.p = p, .n = n}; }

static sl_sip_str cstr(const char *s) { return s ? mkstr(s, strlen(s)) : (sl_sip_str){0}; }

static int lower(int c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

static bool is_ws(int c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static sl_sip_str trim(sl_sip_str s)
{
    if (!s.p)
        return s;
    while (s.n > 0 && is_ws((unsigned char)s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n > 0 && is_ws((unsigned char)s.p[s.n - 1]))
        s.n--;
    return s;
}

static sl_sip_str unquote(sl_sip_str s)
{
    s = trim(s);
    if (s.p && s.n >= 2 && s.p[0] == '"' && s.p[s.n - 1] == '"')
        return mkstr(s.p + 1, s.n - 2);
    return s;
}

bool sl_sip_str_eq(sl_sip_str s, const char *c)
{
    if (!s.p || !c)
        return false;
    size_t n = strlen(c);
    if (n != s.n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s.p[i]) != lower((unsigned char)c[i]))
            return false;
    return true;
}

/* Decimal digits only; false on anything else, on emptiness or overflow. */
static bool parse_u64(sl_sip_str s, uint64_t max, uint64_t *out)
{
    s = trim(s);
    if (!s.p || s.n == 0)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < s.n; i++) {
        unsigned d = (unsigned char)s.p[i] - (unsigned)'0';
        if (d > 9 || v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* ---- compact header names (RFC 3261 7.3.3 and later RFCs) ---- */

static const char *const compact_forms[][2] = {
    {"i", "call-id"}, {"m", "contact"}, {"e", "content-encoding"}, {"l", "content-length"},
    {"c", "content-type"}, {"f", "from"}, {"s", "subject"}, {"k", "supported"}, {"t", "to"},
    {"v", "via"}, {"o", "event"}, {"r", "refer-to"}, {"b", "referred-by"}, {"u", "allow-events"},
    {"x", "session-expires"}, {"a", "accept-contact"}, {"j", "reject-contact"},
    {"d", "request-disposition"}, {"y", "identity"}, {"n", "identity-info"},
};

static const char *long_name(const char *name)
{
    for (size_t i = 0; i < sizeof compact_forms / sizeof compact_forms[0]; i++)
        if (lower((unsigned char)name[0]) == compact_forms[i][0][0] && name[1] == '\0')
            return compact_forms[i][1];
    return name;
}

static bool header_name_is(sl_sip_str hname, const char *want_long)
{
    if (sl_sip_str_eq(hname, want_long))
        return true;
    if (hname.n != 1)
        return false;
    char one[2] = {hname.p[0], '\0'};
    return strcmp(long_name(one), want_long) == 0;
}

bool sl_sip_header_get(const sl_sip_fields *f, const char *name, size_t idx, sl_sip_str *out)
{
    if (!f || !name || !name[0])
        return false;
    char want[64];
    const char *ln = long_name(name);
    size_t n = strlen(ln);
    if (n >= sizeof want)
        return false;
    for (size_t i = 0; i <= n; i++)
        want[i] = (char)lower((unsigned char)ln[i]);
    for (size_t i = 0; i < f->n_headers; i++) {
        if (!header_name_is(f->headers[i].name, want))
            continue;
        if (idx-- == 0) {
            *out = f->headers[i].value;
            return true;
        }
    }
    return false;
}

/* Whether the comma-separated list `v` contains `tag`. */
static bool list_has(sl_sip_str v, const char *tag)
{
    size_t i = 0;
    while (v.p && i <= v.n) {
        size_t j = i;
        while (j < v.n && v.p[j] != ',')
            j++;
        if (sl_sip_str_eq(trim(mkstr(v.p + i, j - i)), tag))
            return true;
        i = j + 1;
    }
    return false;
}

bool sl_sip_has_option(const sl_sip_fields *f, const char *header, const char *tag)
{
    sl_sip_str v;
    for (size_t i = 0; sl_sip_header_get(f, header, i, &v); i++)
        if (list_has(v, tag))
            return true;
    return false;
}

bool sl_sip_param_get(const sl_sip_param *params, size_t n, const char *name, sl_sip_str *out)
{
    for (size_t i = 0; params && i < n; i++) {
        if (sl_sip_str_eq(params[i].name, name)) {
            *out = params[i].value;
            return true;
        }
    }
    return false;
}

/* Split "main;a=1;b;c="x;y"" at semicolons outside quotes.  Returns the
 * number of params found (at most cap are stored). */
static size_t split_params(sl_sip_str v, sl_sip_str *main_part, sl_sip_param *out, size_t cap)
{
    size_t n = 0, i = 0, seg = 0;
    bool quoted = false, first = true;
    for (i = 0; v.p && i <= v.n; i++) {
        if (i < v.n && v.p[i] == '"')
            quoted = !quoted;
        if (i < v.n && (quoted || v.p[i] != ';'))
            continue;
        sl_sip_str part = trim(mkstr(v.p + seg, i - seg));
        if (first) {
            *main_part = part;
            first = false;
        } else if (part.n > 0) {
            if (n < cap) {
                const char *eq = memchr(part.p, '=', part.n);
                out[n].name = trim(mkstr(part.p, eq ? (size_t)(eq - part.p) : part.n));
                out[n].value = eq ? trim(mkstr(eq + 1, part.n - (size_t)(eq - part.p) - 1)) : (sl_sip_str){0};
            }
            n++;
        }
        seg = i + 1;
    }
    return n;
}

/* ---- start lines ---- */

static bool is_token_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("-.!%*_+`'~", c) != NULL);
}

static bool prefix_ci(const uint8_t *p, size_t n, const char *lit)
{
    for (size_t i = 0; lit[i]; i++)
        if (i >= n || lower(p[i]) != lower((unsigned char)lit[i]))
            return false;
    return true;
}

/* "SIP/2.0 ddd[ reason]" */
static bool status_line_ok(const uint8_t *p, size_t n)
{
    if (n < 11 || !prefix_ci(p, n, "SIP/2.0 "))
        return false;
    for (size_t i = 8; i < 11; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return n == 11 || p[11] == ' ';
}

/* "METHOD SP Request-URI SP SIP/2.0" */
static bool request_line_ok(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n && is_token_char(p[i]))
        i++;
    if (i == 0 || i >= n || p[i] != ' ')
        return false;
    size_t uri = ++i;
    while (i < n && p[i] > 0x20 && p[i] < 0x7f)
        i++;
    if (i == uri || i >= n || p[i] != ' ')
        return false;
    i++;
    return n - i == 7 && prefix_ci(p + i, n - i, "SIP/2.0");
}

/* Could `p` (no line end yet) still become a start line? */
static bool start_line_prefix_ok(const uint8_t *p, size_t n)
{
    if (n >= SIP_MAX_START_LINE)
        return false;
    size_t i = 0;
    while (i < n && is_token_char(p[i]))
        i++;
    if (i == n)
        return true; /* a method or "SIP" still arriving */
    if (p[i] == '/' ? !(i == 3 && prefix_ci(p, 3, "SIP")) : (p[i] != ' ' || i == 0))
        return false;
    for (i++; i < n; i++)
        if (p[i] < 0x20 && p[i] != '\r' && p[i] != '\t')
            return false;
    return true;
}

/* The length of the first line without its line end, and whether it ended. */
static size_t line_len(const uint8_t *p, size_t n, bool *ended)
{
    const uint8_t *nl = memchr(p, '\n', n);
    *ended = nl != NULL;
    size_t l = nl ? (size_t)(nl - p) : n;
    if (l > 0 && p[l - 1] == '\r')
        l--;
    return l;
}

static sl_probe start_line_check(const uint8_t *p, size_t n)
{
    bool ended;
    size_t l = line_len(p, n, &ended);
    if (!ended)
        return start_line_prefix_ok(p, n) ? SL_PROBE_MORE : SL_PROBE_NO;
    return (status_line_ok(p, l) || request_line_ok(p, l)) ? SL_PROBE_YES : SL_PROBE_NO;
}

/* Leading CR/LF bytes: returns their number; *lfs counts line feeds;
 * *lone_cr says the run ends in a CR that may be the start of a CRLF. */
static size_t crlf_run(const uint8_t *p, size_t n, uint32_t *lfs, bool *lone_cr)
{
    size_t i = 0;
    *lfs = 0;
    *lone_cr = false;
    while (i < n && (p[i] == '\r' || p[i] == '\n')) {
        if (p[i] == '\n')
            (*lfs)++;
        i++;
    }
    if (i > 0 && p[i - 1] == '\r') {
        *lone_cr = true;
        i--;
    }
    return i;
}

static sl_probe sip_probe(const uint8_t *buf, size_t len, sl_dir dir, sl_transport transport)
{
    (void)dir;
    size_t i = 0;
    while (i < len && (buf[i] == '\r' || buf[i] == '\n'))
        i++;
    if (i == len)
        return transport == SL_TRANSPORT_TCP ? SL_PROBE_MORE : SL_PROBE_NO;
    sl_probe p = start_line_check(buf + i, len - i);
    if (p == SL_PROBE_MORE && transport == SL_TRANSPORT_UDP)
        return SL_PROBE_NO; /* a datagram is complete: no line end, no SIP */
    return p;
}

/* ---- header block ---- */

/* Offset just after the blank line ending the headers (CRLFCRLF, LFLF or a
 * mix), searching p[0..n); false when not there yet. */
static bool find_header_end(const uint8_t *p, size_t n, size_t *end)
{
    for (size_t i = 0; i < n; i++) {
        const uint8_t *nl = memchr(p + i, '\n', n - i);
        if (!nl)
            return false;
        i = (size_t)(nl - p) + 1;
        if (i < n && p[i] == '\n') {
            *end = i + 1;
            return true;
        }
        if (i + 1 < n && p[i] == '\r' && p[i + 1] == '\n') {
            *end = i + 2;
            return true;
        }
        i--; /* the loop increments */
    }
    return false;
}

/* Next logical header line (with folded continuations) in p[*pos..end):
 * its bytes p[*start..*stop).  Returns false at the end. */
static bool next_line_span(const uint8_t *p, size_t end, size_t *pos, size_t *start, size_t *stop)
{
    size_t i = *pos;
    while (i < end && (p[i] == '\r' || p[i] == '\n'))
        i++;
    if (i >= end)
        return false;
    *start = i;
    for (;;) {
        const uint8_t *nl = memchr(p + i, '\n', end - i);
        i = nl ? (size_t)(nl - p) + 1 : end;
        if (i >= end || (p[i] != ' ' && p[i] != '\t'))
            break; /* no continuation line follows */
    }
    *pos = *stop = i;
    return true;
}

/* A header line's name and value, trimmed; *colon is false without ':'. */
static void split_header(sl_sip_str line, sl_sip_str *name, sl_sip_str *value, bool *colon)
{
    line = trim(line);
    const char *c = memchr(line.p, ':', line.n);
    *colon = c != NULL;
    if (!c) {
        *name = line;
        *value = (sl_sip_str){0};
        return;
    }
    *name = trim(mkstr(line.p, (size_t)(c - line.p)));
    *value = trim(mkstr(c + 1, line.n - (size_t)(c - line.p) - 1));
}

/* Next logical header line in p[*pos..end), split.  Returns false at the
 * end.  *colon is false for a line without ':'. */
static bool next_header(const uint8_t *p, size_t end, size_t *pos, sl_sip_str *name, sl_sip_str *value,
                        bool *colon)
{
    size_t s, e;
    if (!next_line_span(p, end, pos, &s, &e))
        return false;
    split_header(mkstr(p + s, e - s), name, value, colon);
    return true;
}

typedef enum { CL_ABSENT, CL_OK, CL_BAD, CL_CONFLICT } cl_status;

/* Content-Length of the header block p[0..n). */
static cl_status content_length(const uint8_t *p, size_t n, uint64_t *out)
{
    const uint8_t *nl = memchr(p, '\n', n);
    size_t pos = nl ? (size_t)(nl - p) + 1 : n;
    sl_sip_str name, value;
    bool colon, seen = false;
    uint64_t first = 0;
    size_t s, e;
    while (next_line_span(p, n, &pos, &s, &e)) {
        /* Only a line whose first byte past blanks is c or l can name
         * Content-Length ("l" is its compact form): the framer runs this
         * on every message, so the other lines are not split. */
        size_t k = s;
        while (k < e && is_ws(p[k]))
            k++;
        if (k == e || (lower(p[k]) != 'c' && lower(p[k]) != 'l'))
            continue;
        split_header(mkstr(p + s, e - s), &name, &value, &colon);
        if (!colon || !header_name_is(name, "content-length"))
            continue;
        uint64_t v;
        if (!parse_u64(value, UINT64_MAX / 2, &v))
            return CL_BAD;
        if (seen && v != first) {
            *out = first;
            return CL_CONFLICT;
        }
        seen = true;
        first = v;
    }
    *out = first;
    return seen ? CL_OK : CL_ABSENT;
}

/* ---- field extraction: raw header lines ---- */

static void take_reason(sl_sip_fields *f, sl_sip_str v)
{
    sl_sip_param ps[8];
    sl_sip_str proto = {0}, cause = {0}, text = {0};
    size_t n = split_params(v, &proto, ps, 8);
    if (n > 8)
        n = 8;
    /* A Q.850 cause says most about who rejected: prefer it over SIP;cause. */
    if (f->reason_protocol.p && !sl_sip_str_eq(proto, "Q.850"))
        return;
    f->reason_protocol = proto;
    f->reason_cause = -1;
    f->reason_text = (sl_sip_str){0};
    uint64_t c;
    if (sl_sip_param_get(ps, n, "cause", &cause) && parse_u64(cause, 65535, &c))
        f->reason_cause = (int)c;
    if (sl_sip_param_get(ps, n, "text", &text))
        f->reason_text = unquote(text);
}

static void take_warning(sl_sip_fields *f, sl_sip_str v)
{
    uint64_t code;
    if (f->warning_code >= 0 || v.n < 3 || !parse_u64(mkstr(v.p, 3), 999, &code))
        return;
    f->warning_code = (int)code;
    size_t i = 3;
    while (i < v.n && v.p[i] == ' ')
        i++;
    size_t a = i;
    while (i < v.n && v.p[i] != ' ')
        i++;
    f->warning_agent = mkstr(v.p + a, i - a);
    f->warning_text = unquote(mkstr(v.p + i, v.n - i));
}

static void take_cseq(sl_sip_fields *f, sl_sip_str v)
{
    size_t i = 0;
    while (i < v.n && v.p[i] >= '0' && v.p[i] <= '9')
        i++;
    uint64_t num;
    if (i == 0 || !parse_u64(mkstr(v.p, i), UINT32_MAX, &num))
        return;
    f->has_cseq = true;
    f->cseq = (uint32_t)num;
    f->cseq_method = trim(mkstr(v.p + i, v.n - i));
}

static void take_session_id(sl_sip_fields *f, sl_sip_str v)
{
    sl_sip_param ps[4];
    sl_sip_str local = {0}, remote = {0};
    size_t n = split_params(v, &local, ps, 4);
    f->session_id_local = local;
    if (sl_sip_param_get(ps, n > 4 ? 4 : n, "remote", &remote))
        f->session_id_remote = remote;
}

static void take_number(sl_sip_str v, int64_t max, int64_t *out)
{
    uint64_t x;
    if (*out < 0 && parse_u64(v, (uint64_t)max, &x))
        *out = (int64_t)x;
}

static void set_first(sl_sip_str *dst, sl_sip_str v)
{
    if (!dst->p)
        *dst = v;
}

/* A header name in lower case and long form ("I" -> "call-id"), made once
 * per header line so that each comparison below is a length check and a
 * memcmp, not a case-folding walk.  A name longer than buf matches nothing
 * we look for (n 0). */
typedef struct canon_name {
    char buf[32];
    size_t n;
} canon_name;

static void canon_of(sl_sip_str name, canon_name *c)
{
    c->n = 0;
    if (!name.p || name.n >= sizeof c->buf)
        return;
    for (size_t i = 0; i < name.n; i++)
        c->buf[i] = (char)lower((unsigned char)name.p[i]);
    c->buf[name.n] = '\0';
    c->n = name.n;
    if (name.n == 1) {
        const char *ln = long_name(c->buf);
        size_t ll = strlen(ln);
        if (ln != c->buf && ll < sizeof c->buf) {
            memcpy(c->buf, ln, ll + 1);
            c->n = ll;
        }
    }
}

/* Same answer as header_name_is(name, want) for the name canon_of saw. */
static bool canon_is(const canon_name *c, const char *want)
{
    size_t n = strlen(want);
    return c->n == n && memcmp(c->buf, want, n) == 0;
}

/* One header line into the fields it feeds. */
static void take_header(sl_sip_fields *f, const canon_name *name, sl_sip_str v)
{
    if (canon_is(name, "call-id"))
        set_first(&f->call_id, v);
    else if (canon_is(name, "cseq") && !f->has_cseq)
        take_cseq(f, v);
    else if (canon_is(name, "session-id") && !f->session_id_local.p)
        take_session_id(f, v);
    else if (canon_is(name, "x-taatag"))
        set_first(&f->taatag, v);
    else if (canon_is(name, "cisco-guid"))
        set_first(&f->cisco_guid, v);
    else if (canon_is(name, "reason"))
        take_reason(f, v);
    else if (canon_is(name, "warning"))
        take_warning(f, v);
    else if (canon_is(name, "supported"))
        set_first(&f->supported, v);
    else if (canon_is(name, "require"))
        set_first(&f->require, v);
    else if (canon_is(name, "user-agent"))
        set_first(&f->user_agent, v);
    else if (canon_is(name, "server"))
        set_first(&f->server, v);
    else if (canon_is(name, "expires"))
        take_number(v, INT32_MAX, &f->expires);
    else if (canon_is(name, "content-type"))
        set_first(&f->content_type, v);
    else if (canon_is(name, "content-length"))
        take_number(v, INT64_MAX / 2, &f->content_length);
    else if (canon_is(name, "max-forwards")) {
        int64_t mf = f->max_forwards;
        take_number(v, 255, &mf);
        f->max_forwards = (int)mf;
    } else if (canon_is(name, "www-authenticate"))
        f->has_www_authenticate = true;
    else if (canon_is(name, "proxy-authenticate"))
        f->has_proxy_authenticate = true;
    else if (canon_is(name, "authorization"))
        f->has_authorization = true;
    else if (canon_is(name, "proxy-authorization"))
        f->has_proxy_authorization = true;
}

static void take_first_line(sl_sip_fields *f, const uint8_t *p, size_t n)
{
    bool ended;
    size_t l = line_len(p, n, &ended);
    f->first_line = mkstr(p, l);
    if (status_line_ok(p, l)) {
        f->status_code = (p[8] - '0') * 100 + (p[9] - '0') * 10 + (p[10] - '0');
        f->reason_phrase = l > 12 ? mkstr(p + 12, l - 12) : mkstr(p + l, 0);
        return;
    }
    if (!request_line_ok(p, l))
        return;
    const uint8_t *sp = memchr(p, ' ', l);
    const uint8_t *sp2 = memchr(sp + 1, ' ', l - (size_t)(sp + 1 - p));
    f->is_request = true;
    f->method = mkstr(p, (size_t)(sp - p));
    f->request_uri = mkstr(sp + 1, (size_t)(sp2 - sp - 1));
}

/* Keep the line for libosip2 when the record keeps its structure. */
static void note_structured(sip_scratch *sc, const canon_name *name, sl_sip_str v)
{
    const char *const *structured = structured_names;
    for (size_t i = 0; i < sizeof structured_names / sizeof *structured_names; i++) {
        if (!canon_is(name, structured[i]))
            continue;
        if (sc->n_structured == SIP_MAX_STRUCTURED) {
            sc->cap_hit = true;
            return;
        }
        sc->structured[sc->n_structured++] = (sip_structured){.osip_name = structured[i], .kind = (int)i, .value = v};
        return;
    }
}

/* Walk the raw header lines: the header list and the simple fields.
 * Returns the number of lines without a colon. */
static size_t take_raw_headers(sip_state *st, const sip_frame *fr)
{
    sl_sip_fields *f = &st->sc->msg.f;
    const uint8_t *p = fr->buf + fr->start;
    size_t n = fr->hdr_end - fr->start, bad = 0;
    bool ended;
    size_t pos = line_len(p, n, &ended);
    sl_sip_str name, value;
    bool colon;
    size_t nh = 0;
    while (next_header(p, n, &pos, &name, &value, &colon)) {
        if (!colon) {
            bad++;
            continue;
        }
        if (nh < SL_SIP_MAX_HEADERS)
            st->sc->headers[nh++] = (sl_sip_header){.name = name, .value = value};
        else
            st->sc->cap_hit = true;
        canon_name cn;
        canon_of(name, &cn);
        take_header(f, &cn, value);
        note_structured(st->sc, &cn, value);
    }
    f->headers = st->sc->headers;
    f->n_headers = nh;
    return bad;
}

/* ---- field extraction: libosip2's tree ---- */

/* The URI as text, in the message's arena like the rest of the tree. */
static sl_sip_str uri_str(const osip_uri_t *u)
{
    char *s = NULL;
    if (!u || osip_uri_to_str(u, &s) != 0)
        return (sl_sip_str){0};
    return cstr(s);
}

/* Generic parameters into the shared param pool. */
static const sl_sip_param *take_params(sip_state *st, const osip_list_t *l, size_t *n)
{
    sl_sip_param *first = st->sc->params + st->sc->n_params;
    *n = 0;
    for (int i = 0; i < osip_list_size(l); i++) {
        const osip_generic_param_t *g = osip_list_get(l, i);
        if (st->sc->n_params == SL_SIP_MAX_PARAMS) {
            st->sc->cap_hit = true;
            break;
        }
        st->sc->params[st->sc->n_params++] = (sl_sip_param){.name = cstr(g->gname), .value = cstr(g->gvalue)};
        (*n)++;
    }
    return first;
}

static void take_vias(sip_state *st, const osip_message_t *m)
{
    size_t n = 0;
    for (int i = 0; i < osip_list_size(&m->vias); i++) {
        const osip_via_t *v = osip_list_get(&m->vias, i);
        if (n == SL_SIP_MAX_VIAS) {
            st->sc->cap_hit = true;
            break;
        }
        sl_sip_via *d = &st->sc->vias[n++];
        *d = (sl_sip_via){.transport = cstr(v->protocol), .host = cstr(v->host), .port = cstr(v->port)};
        d->params = take_params(st, &v->via_params, &d->n_params);
        sl_sip_param_get(d->params, d->n_params, "branch", &d->branch);
        sl_sip_param_get(d->params, d->n_params, "received", &d->received);
        if (sl_sip_param_get(d->params, d->n_params, "rport", &d->rport) && !d->rport.p)
            d->rport = mkstr("", 0);
    }
    st->sc->msg.f.vias = st->sc->vias;
    st->sc->msg.f.n_vias = n;
}

static const sl_sip_addr *take_addrs(sip_state *st, const osip_list_t *l, size_t *n)
{
    sl_sip_addr *first = st->sc->addrs + st->sc->n_addrs;
    *n = 0;
    for (int i = 0; i < osip_list_size(l); i++) {
        const osip_from_t *a = osip_list_get(l, i);
        if (st->sc->n_addrs == SL_SIP_MAX_ADDRS) {
            st->sc->cap_hit = true;
            break;
        }
        sl_sip_addr *d = &st->sc->addrs[st->sc->n_addrs++];
        *d = (sl_sip_addr){.display = unquote(cstr(a->displayname)), .uri = uri_str(a->url)};
        if (!a->url)
            d->uri = mkstr("*", 1); /* Contact: * (RFC 3261 10.2.2) */
        d->params = take_params(st, &a->gen_params, &d->n_params);
        (*n)++;
    }
    return first;
}

/* The URI of a From or To value as written: inside the <> of a name-addr
 * (past a quoted display name, which may hold '<'), else the addr-spec up
 * to its first ';' (RFC 3261 20.10: such a URI holds no ';').  Empty when
 * a '<' has no '>'. */
static sl_sip_str written_uri(sl_sip_str v)
{
    if (!v.p)
        return v;
    bool quoted = false;
    for (size_t i = 0; i < v.n; i++) {
        char c = v.p[i];
        if (quoted) {
            if (c == '\\')
                i++;
            else if (c == '"')
                quoted = false;
        } else if (c == '"') {
            quoted = true;
        } else if (c == '<') {
            const char *end = memchr(v.p + i + 1, '>', v.n - i - 1);
            return end ? trim(mkstr(v.p + i + 1, (size_t)(end - (v.p + i + 1)))) : (sl_sip_str){0};
        }
    }
    const char *semi = memchr(v.p, ';', v.n);
    return trim(mkstr(v.p, semi ? (size_t)(semi - v.p) : v.n));
}

/* The raw value of the first line note_structured kept under name. */
static sl_sip_str structured_value(const sip_scratch *sc, const char *name)
{
    for (size_t i = 0; i < sc->n_structured; i++)
        if (strcmp(sc->structured[i].osip_name, name) == 0)
            return sc->structured[i].value;
    return (sl_sip_str){0};
}

/* From or To: libosip2 has parsed it (and refused it if it could not); the
 * URI is taken as written, which is what tshark shows and costs no
 * rebuilding (osip_uri_to_str goes through sprintf: 7% of a summary run). */
static void take_party(const osip_from_t *a, sl_sip_str raw, sl_sip_str *display, sl_sip_str *uri,
                       sl_sip_str *tag)
{
    if (!a)
        return;
    *display = unquote(cstr(a->displayname));
    if (a->url) {
        sl_sip_str written = written_uri(raw);
        *uri = written.n ? written : uri_str(a->url);
    }
    for (int i = 0; i < osip_list_size(&a->gen_params); i++) {
        const osip_generic_param_t *g = osip_list_get(&a->gen_params, i);
        if (sl_sip_str_eq(cstr(g->gname), "tag"))
            *tag = cstr(g->gvalue);
    }
}

static bool lenient_party(sip_scratch *sc, int kind, sl_sip_str *display, sl_sip_str *uri, sl_sip_str *tag);
static void lenient_vias(sip_scratch *sc);
static const sl_sip_addr *lenient_addrs(sip_scratch *sc, int kind, size_t *n);

/* The fields of libosip2's tree, or of our own scan for a kind it rejected
 * (its tree may hold part of such a line: not used). */
static void take_osip(sip_state *st, const osip_message_t *m)
{
    sip_scratch *sc = st->sc;
    sl_sip_fields *f = &sc->msg.f;
    unsigned rej = sc->rejected;
    if (rej & (1u << K_VIA))
        lenient_vias(sc);
    else
        take_vias(st, m);
    if ((rej & (1u << K_FROM)) && !m->from)
        sc->has_from = lenient_party(sc, K_FROM, &f->from_display, &f->from_uri, &f->from_tag);
    else
        take_party(m->from, structured_value(sc, "from"), &f->from_display, &f->from_uri, &f->from_tag);
    if ((rej & (1u << K_TO)) && !m->to)
        sc->has_to = lenient_party(sc, K_TO, &f->to_display, &f->to_uri, &f->to_tag);
    else
        take_party(m->to, structured_value(sc, "to"), &f->to_display, &f->to_uri, &f->to_tag);
    sc->has_from = sc->has_from || m->from;
    sc->has_to = sc->has_to || m->to;
    f->contacts = (rej & (1u << K_CONTACT)) ? lenient_addrs(sc, K_CONTACT, &f->n_contacts)
                                            : take_addrs(st, &m->contacts, &f->n_contacts);
    f->routes = (rej & (1u << K_ROUTE)) ? lenient_addrs(sc, K_ROUTE, &f->n_routes)
                                        : take_addrs(st, &m->routes, &f->n_routes);
    f->record_routes = (rej & (1u << K_RECORD_ROUTE)) ? lenient_addrs(sc, K_RECORD_ROUTE, &f->n_record_routes)
                                                      : take_addrs(st, &m->record_routes, &f->n_record_routes);
    for (size_t i = 0; i < f->n_contacts; i++) {
        sl_sip_str v;
        if (sl_sip_param_get(f->contacts[i].params, f->contacts[i].n_params, "x-cisco-mra-ha", &v) &&
            sl_sip_str_eq(unquote(v), "AR_SK"))
            f->mra_ar_sk_offered = true;
    }
}

/* ---- one message ---- */

static void reset_msg(sip_state *st)
{
    st->sc->n_params = st->sc->n_addrs = st->sc->n_structured = 0;
    st->sc->cap_hit = st->sc->has_from = st->sc->has_to = false;
    st->sc->rejected = 0;
    memset(&st->sc->msg, 0, sizeof st->sc->msg);
    sl_sip_fields *f = &st->sc->msg.f;
    f->reason_cause = f->warning_code = f->max_forwards = -1;
    f->expires = f->content_length = -1;
}

static void report_missing(sip_state *st, sl_dir dir, const sip_frame *fr, sl_sink *out)
{
    const sl_sip_fields *f = &st->sc->msg.f;
    const char *missing = !f->call_id.p ? "Call-ID"
                          : !f->has_cseq ? "CSeq"
                          : !st->sc->has_from ? "From"
                          : !st->sc->has_to   ? "To"
                          : f->n_vias == 0 ? "Via"
                                           : NULL;
    if (missing)
        sl_sink_report(out, SIP_NAME, dir, fr->start, fr->end, -SL_EMALFORMED,
                       "SIP message without a valid %s header", missing);
}

/* A NUL-terminated copy of v for libosip2, folded lines joined with spaces
 * as its own message parser joins them; NULL when out of memory. */
static char *value_copy(sip_scratch *sc, sl_sip_str v)
{
    sc->value.len = 0;
    if (!sl_bytes_append(&sc->value, v.p, v.n, 256) || !sl_bytes_append(&sc->value, "", 1, 256))
        return NULL;
    char *d = (char *)sc->value.p;
    /* A value holds a line end only when folded (rare): find them, do not
     * look at every byte. */
    for (char *e = memchr(d, '\n', v.n); e; e = memchr(e + 1, '\n', v.n - (size_t)(e + 1 - d)))
        *e = ' ';
    for (char *e = memchr(d, '\r', v.n); e; e = memchr(e + 1, '\r', v.n - (size_t)(e + 1 - d)))
        *e = ' ';
    return d;
}

static void malformed(sl_sip_fields *f, const char *why)
{
    f->malformed = true;
    f->malformed_reason = why;
}

/* libosip2 parses what the record keeps the structure of: the Request-URI
 * and the Via, From, To, Contact, Route and Record-Route lines.  The other
 * headers are read from the raw lines (take_raw_headers), so one that
 * libosip2 would refuse (an odd Allow or Authorization) does not make the
 * message malformed, and nothing is parsed that nothing reads.  A line it
 * refuses (a display name with a stray quote, which tshark reads) is noted
 * in sc->rejected and read by our own scan instead (take_lenient).
 * Returns false only when out of memory. */
static bool parse_structured(sip_state *st, osip_message_t *om)
{
    sip_scratch *sc = st->sc;
    sl_sip_fields *f = &sc->msg.f;
    if (f->is_request) {
        osip_uri_t *uri = NULL;
        char *text = value_copy(sc, f->request_uri);
        if (!text || osip_uri_init(&uri) != 0)
            return false;
        if (osip_uri_parse(uri, text) != 0)
            sc->rejected |= 1u << K_REQUEST_URI;
        osip_uri_free(uri);
    }
    for (size_t i = 0; i < sc->n_structured; i++) {
        /* A copy: libosip2 may lower-case the name in place.  Every name of
         * note_structured's list fits. */
        char name[sizeof "record-route"] = {0};
        const char *want = sc->structured[i].osip_name;
        memcpy(name, want, strnlen(want, sizeof name - 1));
        char *text = value_copy(sc, sc->structured[i].value);
        if (!text)
            return false;
        if (osip_message_set_multiple_header(om, name, text) != 0)
            sc->rejected |= 1u << sc->structured[i].kind;
    }
    return true;
}

/* ---- lenient reading of a line libosip2 rejected ---- */

/* The offset of the first byte c in v outside a quoted string; v.n when
 * none.  A quote that never closes does not quote (tshark reads past it). */
static size_t find_unquoted(sl_sip_str v, char c)
{
    bool quoted = false;
    size_t first_quote = v.n;
    for (size_t i = 0; i < v.n; i++) {
        if (quoted && v.p[i] == '\\') {
            i++;
        } else if (v.p[i] == '"') {
            quoted = !quoted;
            if (quoted)
                first_quote = i;
        } else if (!quoted && v.p[i] == c) {
            return i;
        }
    }
    if (!quoted)
        return v.n;
    const char *at = memchr(v.p + first_quote, c, v.n - first_quote);
    return at ? (size_t)(at - v.p) : v.n;
}

/* A name-addr or addr-spec: its display name (quotes dropped, a stray one
 * too), URI, and the header parameters after it (*rest, not split). */
static void scan_name_addr(sl_sip_str v, sl_sip_str *display, sl_sip_str *uri, sl_sip_str *rest)
{
    v = trim(v);
    *display = *uri = *rest = (sl_sip_str){0};
    size_t lt = find_unquoted(v, '<');
    if (lt < v.n) {
        sl_sip_str d = trim(mkstr(v.p, lt));
        if (d.n > 0 && d.p[0] == '"') {
            d = mkstr(d.p + 1, d.n - 1);
            if (d.n > 0 && d.p[d.n - 1] == '"')
                d.n--;
        }
        *display = d;
        const char *gt = memchr(v.p + lt + 1, '>', v.n - lt - 1);
        size_t end = gt ? (size_t)(gt - v.p) : v.n;
        *uri = trim(mkstr(v.p + lt + 1, end - lt - 1));
        if (gt)
            *rest = mkstr(gt + 1, v.n - end - 1);
        return;
    }
    const char *semi = memchr(v.p, ';', v.n);
    size_t end = semi ? (size_t)(semi - v.p) : v.n;
    *uri = trim(mkstr(v.p, end));
    *rest = mkstr(v.p + end, v.n - end);
}

/* Parameters ";a=1;b" of rest into the shared pool. */
static const sl_sip_param *lenient_params(sip_scratch *sc, sl_sip_str rest, size_t *n)
{
    sl_sip_param *first = sc->params + sc->n_params;
    size_t room = SL_SIP_MAX_PARAMS - sc->n_params;
    sl_sip_str ignored;
    size_t found = split_params(mkstr(rest.p ? rest.p : "", rest.n), &ignored, first, room);
    if (found > room) {
        sc->cap_hit = true;
        found = room;
    }
    sc->n_params += found;
    *n = found;
    return first;
}

/* The next comma-separated entry of v from *pos, commas inside quotes or
 * <> not counted; false at the end. */
static bool next_entry(sl_sip_str v, size_t *pos, sl_sip_str *entry)
{
    if (*pos >= v.n)
        return false;
    bool quoted = false, angled = false;
    size_t i = *pos;
    for (; i < v.n; i++) {
        char c = v.p[i];
        if (c == '"' && !angled)
            quoted = !quoted;
        else if (!quoted && c == '<')
            angled = true;
        else if (!quoted && c == '>')
            angled = false;
        else if (!quoted && !angled && c == ',')
            break;
    }
    *entry = trim(mkstr(v.p + *pos, i - *pos));
    *pos = i + 1;
    return true;
}

/* "SIP/2.0/UDP host:port;branch=..." */
static void lenient_via(sip_scratch *sc, sl_sip_str e, sl_sip_via *d)
{
    *d = (sl_sip_via){0};
    size_t i = 0;
    while (i < e.n && !is_ws((unsigned char)e.p[i]))
        i++;
    sl_sip_str proto = mkstr(e.p, i);
    size_t slash = proto.n;
    while (slash > 0 && proto.p[slash - 1] != '/')
        slash--;
    d->transport = mkstr(proto.p + slash, proto.n - slash); /* after the last '/' */
    const char *semi = memchr(e.p + i, ';', e.n - i);
    size_t end = semi ? (size_t)(semi - e.p) : e.n;
    sl_sip_str by = trim(mkstr(e.p + i, end - i));
    size_t colon = by.n;
    if (by.n && by.p[0] == '[') {
        const char *rb = memchr(by.p, ']', by.n);
        size_t after = rb ? (size_t)(rb - by.p) + 1 : by.n;
        if (after < by.n && by.p[after] == ':')
            colon = after;
    } else {
        const char *c = memchr(by.p ? by.p : "", ':', by.n);
        colon = c ? (size_t)(c - by.p) : by.n;
    }
    d->host = trim(mkstr(by.p ? by.p : "", colon));
    if (colon < by.n)
        d->port = trim(mkstr(by.p + colon + 1, by.n - colon - 1));
    d->params = lenient_params(sc, mkstr(e.p + end, e.n - end), &d->n_params);
    sl_sip_param_get(d->params, d->n_params, "branch", &d->branch);
    sl_sip_param_get(d->params, d->n_params, "received", &d->received);
    if (sl_sip_param_get(d->params, d->n_params, "rport", &d->rport) && !d->rport.p)
        d->rport = mkstr("", 0);
}

static void lenient_vias(sip_scratch *sc)
{
    size_t n = 0;
    for (size_t i = 0; i < sc->n_structured; i++) {
        if (sc->structured[i].kind != K_VIA)
            continue;
        sl_sip_str e;
        for (size_t pos = 0; next_entry(sc->structured[i].value, &pos, &e);) {
            if (e.n == 0)
                continue;
            if (n == SL_SIP_MAX_VIAS) {
                sc->cap_hit = true;
                break;
            }
            lenient_via(sc, e, &sc->vias[n++]);
        }
    }
    sc->msg.f.vias = sc->vias;
    sc->msg.f.n_vias = n;
}

/* From or To: display, URI and tag of its first line. */
static bool lenient_party(sip_scratch *sc, int kind, sl_sip_str *display, sl_sip_str *uri, sl_sip_str *tag)
{
    for (size_t i = 0; i < sc->n_structured; i++) {
        if (sc->structured[i].kind != kind)
            continue;
        sl_sip_str rest;
        scan_name_addr(sc->structured[i].value, display, uri, &rest);
        sl_sip_param ps[16];
        sl_sip_str ignored;
        size_t n = split_params(mkstr(rest.p ? rest.p : "", rest.n), &ignored, ps, 16);
        sl_sip_param_get(ps, n > 16 ? 16 : n, "tag", tag);
        return uri->n > 0;
    }
    return false;
}

/* Contact, Route or Record-Route: every entry of every line of the kind. */
static const sl_sip_addr *lenient_addrs(sip_scratch *sc, int kind, size_t *n)
{
    sl_sip_addr *first = sc->addrs + sc->n_addrs;
    *n = 0;
    for (size_t i = 0; i < sc->n_structured; i++) {
        if (sc->structured[i].kind != kind)
            continue;
        sl_sip_str e;
        for (size_t pos = 0; next_entry(sc->structured[i].value, &pos, &e);) {
            if (e.n == 0)
                continue;
            if (sc->n_addrs == SL_SIP_MAX_ADDRS) {
                sc->cap_hit = true;
                return first;
            }
            sl_sip_addr *d = &sc->addrs[sc->n_addrs++];
            sl_sip_str rest;
            *d = (sl_sip_addr){0};
            scan_name_addr(e, &d->display, &d->uri, &rest);
            d->params = lenient_params(sc, rest, &d->n_params);
            (*n)++;
        }
    }
    return first;
}

/* Parse with libosip2 unless the header block holds a NUL (the raw lines
 * would hold it, and libosip2 works on C strings). */
static void parse_osip(sip_state *st, sl_dir dir, const sip_frame *fr, sl_sink *out)
{
    sl_sip_fields *f = &st->sc->msg.f;
    if (memchr(fr->buf + fr->start, 0, fr->hdr_end - fr->start)) {
        malformed(f, "NUL byte in the header section");
        return;
    }
    if (!f->is_request && f->status_code == 0) {
        malformed(f, "no SIP start line");
        return;
    }
    if (fr->cut) {
        malformed(f, fr->cut);
        return;
    }
    osip_message_t *om;
    if (osip_message_init(&om) != 0 || !parse_structured(st, om)) {
        malformed(f, "out of memory in libosip2");
        return; /* the tree goes with the arena */
    }
    st->sc->msg.osip = om;
    take_osip(st, om);
    unsigned rej = st->sc->rejected;
    if (rej) {
        int k = 0;
        while (!(rej & (1u << k)))
            k++;
        /* Without its keys the message joins no call: then it is malformed. */
        if (!f->call_id.p || !f->has_cseq) {
            malformed(f, k == K_REQUEST_URI ? "libosip2 rejected the Request-URI"
                                            : "libosip2 rejected a Via, From, To, Contact or Route header");
            return;
        }
        f->lenient_reason = lenient_texts[k];
        sl_sink_report(out, SIP_NAME, dir, fr->start, fr->end, -SL_EMALFORMED,
                       "SIP message parsed leniently: %s", lenient_texts[k]);
    }
    report_missing(st, dir, fr, out);
}

static void dissect(sip_state *st, sl_dir dir, const sip_frame *fr, sl_transport tr, sl_sink *out)
{
    reset_msg(st);
    sl_osip_arena_enter(st->sc->arena);
    sl_sip_fields *f = &st->sc->msg.f;
    const uint8_t *p = fr->buf + fr->start;
    take_first_line(f, p, fr->hdr_end - fr->start);
    size_t bad_lines = take_raw_headers(st, fr);
    if (fr->end > fr->hdr_end) {
        f->body = fr->buf + fr->hdr_end;
        f->body_len = fr->end - fr->hdr_end;
    }
    f->mra_ar_sk_offered = sl_sip_has_option(f, "supported", "x-cisco-mra-ha=AR_SK");
    f->ar_sk_supported = sl_sip_has_option(f, "supported", "X-cisco-supports-AR_SK");
    parse_osip(st, dir, fr, out);
    if (bad_lines)
        sl_sink_report(out, SIP_NAME, dir, fr->start, fr->end, -SL_EMALFORMED,
                       "%zu SIP header line(s) without a colon", bad_lines);
    if (st->sc->cap_hit)
        sl_sink_report(out, SIP_NAME, dir, fr->start, fr->end, -SL_ELIMIT,
                       "SIP message has more headers, Vias, addresses or parameters than kept");
    if (f->malformed)
        sl_sink_report(out, SIP_NAME, dir, fr->start, fr->end, -SL_EMALFORMED, "malformed SIP message: %s",
                       f->malformed_reason);
    st->sc->msg.transport = tr;
    st->sc->msg.websocket = st->websocket;
    st->sc->msg.raw = p;
    st->sc->msg.raw_len = fr->end - fr->start;
    sl_event ev = {.kind = SL_EV_SIP, .dir = dir, .dissector = SIP_NAME, .u.sip = &st->sc->msg};
    sl_sink_span(out, fr->start, fr->end, &ev.span);
    sl_sink_emit(out, &ev);
    reset_msg(st);
    /* libosip2's tree and strings of this message, dropped at once (the
     * record made in the emit has its own copies). */
    sl_osip_arena_leave(st->sc->arena);
}

static void emit_keepalive(sl_dir dir, size_t start, size_t end, uint32_t count, sl_sink *out)
{
    sl_sip_keepalive ka = {.crlf_count = count};
    sl_event ev = {.kind = SL_EV_SIP_KEEPALIVE, .dir = dir, .dissector = SIP_NAME, .u.any = &ka};
    sl_sink_span(out, start, end, &ev.span);
    sl_sink_emit(out, &ev);
}

/* ---- TCP framing ---- */

/* The next line start at or after `from` where a complete start line sits.
 * *held is set when an incomplete last line might still become one. */
static bool find_resync(const uint8_t *buf, size_t from, size_t len, size_t *at, size_t *held)
{
    *held = len;
    for (size_t i = from; i < len;) {
        const uint8_t *nl = memchr(buf + i, '\n', len - i);
        if (!nl)
            return false;
        i = (size_t)(nl - buf) + 1;
        if (i == len)
            return false;
        sl_probe p = start_line_check(buf + i, len - i);
        if (p == SL_PROBE_YES) {
            *at = i;
            return true;
        }
        if (p == SL_PROBE_MORE) {
            *held = i;
            return false;
        }
    }
    return false;
}

/* Bytes at pos are not a start line.  Skip to the next one, or hold them.
 * Returns the new pos (== pos: wait for more). */
static size_t skip_garbage(sip_state *st, sl_dir dir, const uint8_t *buf, size_t pos, size_t len, sl_sink *out)
{
    size_t at, held;
    if (find_resync(buf, pos, len, &at, &held)) {
        sl_sink_report(out, SIP_NAME, dir, pos, at, -SL_EMALFORMED,
                       "%zu bytes before the next SIP start line skipped", at - pos);
        return at;
    }
    if (len - pos <= st->cap)
        return pos; /* hold: the next start line may be on its way */
    size_t to = (held > pos && len - held <= st->cap) ? held : len;
    sl_sink_report(out, SIP_NAME, dir, pos, to, -SL_ELIMIT,
                   "%zu bytes without a SIP start line skipped (cap %zu)", to - pos, st->cap);
    return to;
}

/* The message starting at pos: its total length, or 0 to wait for more.
 * Returns the new pos. */
static size_t frame_tcp(sip_state *st, sl_dir dir, const uint8_t *buf, size_t pos, size_t len, sl_sink *out)
{
    size_t hdr;
    if (!find_header_end(buf + pos, len - pos, &hdr)) {
        if (len - pos <= st->cap)
            return pos;
        bool ended;
        size_t l = line_len(buf + pos, len - pos, &ended);
        sl_sink_report(out, SIP_NAME, dir, pos, len, -SL_ELIMIT,
                       "SIP header section longer than the cap (%zu bytes): skipped", st->cap);
        return pos + l + 1; /* skip the start line, resync on what follows */
    }
    uint64_t cl = 0;
    const char *cut = NULL;
    switch (content_length(buf + pos, hdr, &cl)) {
    case CL_ABSENT:
        sl_sink_report(out, SIP_NAME, dir, pos, pos + hdr, -SL_EMALFORMED,
                       "SIP message over TCP without Content-Length (RFC 3261 18.3): body taken as empty");
        break;
    case CL_BAD:
        sl_sink_report(out, SIP_NAME, dir, pos, pos + hdr, -SL_EMALFORMED,
                       "SIP Content-Length is not a non-negative number: body taken as empty");
        cl = 0;
        break;
    case CL_CONFLICT:
        sl_sink_report(out, SIP_NAME, dir, pos, pos + hdr, -SL_EMALFORMED,
                       "SIP message has conflicting Content-Length headers: first used");
        break;
    case CL_OK:
        break;
    }
    if (cl > st->cap || hdr > st->cap - cl) {
        sl_sink_report(out, SIP_NAME, dir, pos, pos + hdr, -SL_ELIMIT,
                       "SIP Content-Length %llu exceeds the cap (%zu bytes): body not trusted",
                       (unsigned long long)cl, st->cap);
        cl = 0;
        cut = "body over the size cap, not kept";
    }
    if (cl > len - pos - hdr)
        return pos;
    sip_frame fr = {.buf = buf, .start = pos, .hdr_end = pos + hdr, .end = pos + hdr + cl, .cut = cut};
    dissect(st, dir, &fr, SL_TRANSPORT_TCP, out);
    return fr.end;
}

static int feed_tcp(sip_state *st, sl_dir dir, const uint8_t *buf, size_t len, size_t *used, sl_sink *out)
{
    size_t pos = 0;
    while (pos < len) {
        uint32_t lfs;
        bool lone_cr;
        size_t k = crlf_run(buf + pos, len - pos, &lfs, &lone_cr);
        if (k > 0 && lfs > 0) {
            emit_keepalive(dir, pos, pos + k, lfs, out);
            pos += k;
            continue;
        }
        if (lone_cr && k + 1 == len - pos)
            break; /* a CR alone: its LF is on its way */
        size_t next = pos;
        switch (start_line_check(buf + pos, len - pos)) {
        case SL_PROBE_YES:
            next = frame_tcp(st, dir, buf, pos, len, out);
            break;
        case SL_PROBE_MORE:
            break;
        case SL_PROBE_NO:
            next = skip_garbage(st, dir, buf, pos, len, out);
            break;
        }
        if (next == pos)
            break;
        pos = next;
    }
    *used = pos;
    return 0;
}

/* ---- UDP framing: one datagram, one message (a WebSocket message too) ---- */

static const char *unit_of(const sip_state *st) { return st->websocket ? "WebSocket message" : "datagram"; }

static bool is_stun(const uint8_t *p, size_t n)
{
    /* RFC 5389 6: top two bits zero, magic cookie 0x2112A442 at offset 4. */
    return n >= 20 && (p[0] & 0xc0) == 0 && p[4] == 0x21 && p[5] == 0x12 && p[6] == 0xa4 && p[7] == 0x42;
}

/* Frame one message at pos of a datagram; returns where it ends. */
static size_t frame_udp(sip_state *st, sl_dir dir, const uint8_t *buf, size_t pos, size_t len, sl_sink *out)
{
    sip_frame fr = {.buf = buf, .start = pos, .end = len};
    size_t hdr;
    bool has_blank_line = find_header_end(buf + pos, len - pos, &hdr);
    fr.hdr_end = has_blank_line ? pos + hdr : len;
    if (!has_blank_line) {
        sl_sink_report(out, SIP_NAME, dir, pos, len, -SL_ETRUNC,
                       "SIP %s without the blank line ending the headers", unit_of(st));
        fr.cut = "headers cut short";
    }
    uint64_t cl = 0;
    cl_status cs = content_length(buf + pos, fr.hdr_end - pos, &cl);
    if (cs == CL_BAD || cs == CL_CONFLICT)
        sl_sink_report(out, SIP_NAME, dir, pos, fr.hdr_end, -SL_EMALFORMED,
                       "SIP Content-Length is %s: body taken to the %s end",
                       cs == CL_BAD ? "not a non-negative number" : "given twice with different values", unit_of(st));
    if (cs == CL_OK && cl > len - fr.hdr_end) {
        sl_sink_report(out, SIP_NAME, dir, pos, len, -SL_ETRUNC,
                       "SIP Content-Length %llu but only %zu body bytes in the %s",
                       (unsigned long long)cl, len - fr.hdr_end, unit_of(st));
        if (!fr.cut)
            fr.cut = "body shorter than its Content-Length";
    } else if (cs == CL_OK)
        fr.end = fr.hdr_end + (size_t)cl;
    dissect(st, dir, &fr, st->websocket ? SL_TRANSPORT_TCP : SL_TRANSPORT_UDP, out);
    return fr.end;
}

/* Some phones keep NAT bindings open with datagrams of spaces. */
static bool is_blank(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
            return false;
    return n > 0;
}

static int feed_udp(sip_state *st, sl_dir dir, const uint8_t *buf, size_t len, size_t *used, sl_sink *out)
{
    uint32_t lfs;
    bool lone_cr;
    *used = len;
    size_t pos = crlf_run(buf, len, &lfs, &lone_cr);
    if (pos + lone_cr == len) {
        emit_keepalive(dir, 0, len, lfs, out);
        return 0;
    }
    if (is_stun(buf, len) || is_blank(buf, len)) {
        emit_keepalive(dir, 0, len, 0, out);
        return 0;
    }
    if (start_line_check(buf + pos, len - pos) != SL_PROBE_YES) {
        sl_sink_report(out, SIP_NAME, dir, pos, len, -SL_EMALFORMED,
                       "%zu bytes of the %s are not a SIP message", len - pos, unit_of(st));
        return 0;
    }
    for (;;) {
        pos = frame_udp(st, dir, buf, pos, len, out);
        size_t k = crlf_run(buf + pos, len - pos, &lfs, &lone_cr);
        if (pos + k + lone_cr == len)
            return 0; /* CRLFs after the body are tolerated */
        if (start_line_check(buf + pos + k, len - pos - k) != SL_PROBE_YES) {
            sl_sink_report(out, SIP_NAME, dir, pos, len, -SL_EMALFORMED,
                           "%s holds %zu bytes after its SIP message", unit_of(st), len - pos);
            return 0;
        }
        pos += k;
        sl_sink_report(out, SIP_NAME, dir, pos, len, -SL_EMALFORMED, "%s holds another SIP message after the first",
                       unit_of(st));
    }
}

/* ---- the dissector ---- */

static void osip_quiet(const char *file, int line, osip_trace_level_t level, const char *fmt, va_list ap)
{
    (void)file;
    (void)line;
    (void)level;
    (void)fmt;
    (void)ap;
}

/* libosip2's parser tables (parser_init: idempotent, but it rebuilds them,
 * about 65,000 instructions) and its trace function: libosip2 prints parse
 * errors to stdout unless given one, and a dissector never prints. */
static int osip_ready(void)
{
    if (parser_init() != 0)
        return -SL_ENOMEM;
    osip_trace_initialize_func(TRACE_LEVEL0, osip_quiet);
    sl_osip_arena_install();
    return 0;
}

/* The scratch's own memory: its arena and value buffer. */
static int scratch_init(sip_scratch *sc)
{
    sc->arena = sl_arena_new();
    return sc->arena ? 0 : -SL_ENOMEM;
}

static void scratch_clear(sip_scratch *sc)
{
    sl_arena_free(sc->arena);
    sl_bytes_free(&sc->value);
}

/* The analysis's shared context: libosip2 is ready (a flow need not set it
 * up again), and the one message scratch every flow uses. */
typedef struct sip_shared {
    bool osip_ready;
    sip_scratch scratch; /* one analysis is single-threaded */
} sip_shared;

static void *sip_shared_new(const sl_config *cfg)
{
    (void)cfg;
    if (osip_ready() != 0)
        return NULL;
    sip_shared *sh = calloc(1, sizeof *sh);
    if (sh && scratch_init(&sh->scratch) < 0) {
        free(sh);
        return NULL;
    }
    if (sh)
        sh->osip_ready = true;
    return sh;
}

static void sip_shared_free(void *shared)
{
    sip_shared *sh = shared;
    if (!sh)
        return;
    scratch_clear(&sh->scratch);
    free(sh);
}

static void *sip_state_new(const sl_flow_info *flow, const sl_config *cfg, void *shared)
{
    sip_shared *sh = shared;
    if (!(sh && sh->osip_ready) && osip_ready() != 0)
        return NULL;
    sip_state *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->flow = flow;
    st->cap = cfg && cfg->limits.max_sip_message ? cfg->limits.max_sip_message : 64u * 1024;
    if (sh) {
        st->sc = &sh->scratch;
    } else {
        st->sc = calloc(1, sizeof *st->sc);
        st->own_sc = true;
        if (!st->sc || scratch_init(st->sc) < 0) {
            free(st->sc);
            free(st);
            return NULL;
        }
    }
    reset_msg(st);
    return st;
}

static int sip_feed(void *state, sl_dir dir, const uint8_t *buf, size_t len, size_t *used, sl_sink *out)
{
    sip_state *st = state;
    *used = 0;
    if (len == 0)
        return 0;
    if (st->flow && st->flow->transport == SL_TRANSPORT_UDP)
        return feed_udp(st, dir, buf, len, used, out);
    return feed_tcp(st, dir, buf, len, used, out);
}

void sl_sip_dissect_whole(void *state, sl_dir dir, const uint8_t *buf, size_t len, sl_sink *out)
{
    sip_state *st = state;
    size_t used;
    if (!st || len == 0)
        return;
    st->websocket = true;
    feed_udp(st, dir, buf, len, &used, out);
}

static void sip_gap(void *state, sl_dir dir, uint64_t missing)
{
    /* Nothing is held between feeds: what follows a gap is resynchronised by
     * feed_tcp, which skips to the next start line. */
    (void)state;
    (void)dir;
    (void)missing;
}

static void sip_state_free(void *state)
{
    sip_state *st = state;
    if (!st)
        return;
    reset_msg(st);
    if (st->own_sc) {
        scratch_clear(st->sc);
        free(st->sc);
    }
    free(st);
}

static const uint16_t sip_ports[] = {5060, 5061, 5062, 5063, 5064, 5065, 7001, 7002, 7003, 8934};

const sl_dissector sl_dissector_sip = {
    .name = SIP_NAME,
    .hint_ports = sip_ports,
    .n_hint_ports = sizeof sip_ports / sizeof sip_ports[0],
    .probe = sip_probe,
    .state_new = sip_state_new,
    .shared_new = sip_shared_new,
    .shared_free = sip_shared_free,
    .feed = sip_feed,
    .gap = sip_gap,
    .state_free = sip_state_free,
};
