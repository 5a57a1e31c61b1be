/* select.c - what the views show of a report (select.h): calls matched by
 * number, Call-ID or URI, by host, verdict and time window, whole with
 * their connections, messages, DNS and verdicts; and the -f filter. */
#include "sipladder/select.h"

#include <ctype.h>
#include <fnmatch.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sipladder/addr.h"
#include "sipladder/dns.h"
#include "sipladder/sip_record.h"
#include "sipladder/status.h"

/* What the "nothing matched" message lists of what exists, at most. */
#define SEEN_LISTED 10
#define SEEN_TEXT 96

typedef struct host_spec {
    bool is_addr;
    sl_addr addr;
    uint16_t port; /* 0: any */
    char *text;    /* as given: a label pattern when !is_addr */
} host_spec;

typedef struct when_spec {
    bool set, relative, time_of_day;
    sl_time_ns ns; /* since the epoch, since the capture start, or since midnight */
} when_spec;

/* What exists, for the message when nothing matched: the first few of a
 * kind as text, and how many there were. */
typedef struct seen_list {
    char text[SEEN_LISTED][SEEN_TEXT];
    size_t listed;
    uint64_t total;
} seen_list;

struct sl_select {
    const sl_labels *labels;
    char **calls;
    size_t n_calls;
    host_spec *hosts;
    size_t n_hosts;
    char **verdicts;
    size_t n_verdicts;
    when_spec from, to;
    /* Across applications: the connections of the calls shown (a batch's
     * calls may use connections a later batch retires), sorted. */
    uint32_t *chosen;
    size_t n_chosen;
    sl_select_counts shown;
    seen_list seen_calls, seen_hosts, seen_codes;
    sl_time_ns first_ts, last_ts;
    bool have_span;
    int (*on_selected)(void *ctx, const sl_report *selected);
    void *on_ctx;
};

sl_select *sl_select_new(const sl_labels *labels)
{
    sl_select *s = calloc(1, sizeof *s);
    if (s)
        s->labels = labels;
    return s;
}

void sl_select_free(sl_select *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_calls; i++)
        free(s->calls[i]);
    for (size_t i = 0; i < s->n_verdicts; i++)
        free(s->verdicts[i]);
    for (size_t i = 0; i < s->n_hosts; i++)
        free(s->hosts[i].text);
    free(s->calls);
    free(s->verdicts);
    free(s->hosts);
    free(s->chosen);
    free(s);
}

void sl_select_on_selected(sl_select *s, int (*fn)(void *ctx, const sl_report *selected), void *ctx)
{
    s->on_selected = fn;
    s->on_ctx = ctx;
}

bool sl_select_active(const sl_select *s)
{
    return s && (s->n_calls || s->n_hosts || s->n_verdicts || s->from.set || s->to.set);
}

bool sl_select_needs_diagnoses(const sl_select *s) { return s && s->n_verdicts; }

sl_select_counts sl_select_shown(const sl_select *s) { return s->shown; }

static int push_text(char ***list, size_t *n, const char *text)
{
    char **grown = realloc(*list, (*n + 1) * sizeof *grown);
    if (!grown)
        return -SL_ENOMEM;
    *list = grown;
    if (!(grown[*n] = strdup(text)))
        return -SL_ENOMEM;
    (*n)++;
    return 0;
}

static int usage_err(char *err, size_t len, const char *what, const char *text)
{
    snprintf(err, len, "%s, not '%s'", what, text);
    return -SL_EUSAGE;
}

int sl_select_add_call(sl_select *s, const char *pattern, char *err, size_t errlen)
{
    if (!*pattern)
        return usage_err(err, errlen, "wants a call number, Call-ID, number or URI", pattern);
    return push_text(&s->calls, &s->n_calls, pattern);
}

int sl_select_add_verdict(sl_select *s, const char *pattern, char *err, size_t errlen)
{
    if (!*pattern)
        return usage_err(err, errlen, "wants a verdict code such as tls.* or sip.response.403", pattern);
    return push_text(&s->verdicts, &s->n_verdicts, pattern);
}

/* ADDR, ADDR:PORT or [ADDR]:PORT into h; false when it is none of them. */
static bool parse_host_addr(const char *spec, host_spec *h)
{
    char buf[128];
    size_t n = strlen(spec);
    if (n >= sizeof buf)
        return false;
    if (sl_addr_parse(spec, &h->addr) == 0)
        return true;
    const char *colon = strrchr(spec, ':');
    const char *addr_start = spec, *addr_end = colon;
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (!close || close[1] != ':')
            return close && close[1] == '\0' && (memcpy(buf, spec + 1, (size_t)(close - spec - 1)),
                                                buf[close - spec - 1] = '\0', sl_addr_parse(buf, &h->addr) == 0);
        addr_start = spec + 1;
        addr_end = close;
        colon = close + 1;
    }
    if (!colon || !addr_end)
        return false;
    memcpy(buf, addr_start, (size_t)(addr_end - addr_start));
    buf[addr_end - addr_start] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || port < 1 || port > 65535 || sl_addr_parse(buf, &h->addr) != 0)
        return false;
    h->port = (uint16_t)port;
    return true;
}

int sl_select_add_host(sl_select *s, const char *spec, char *err, size_t errlen)
{
    if (!*spec)
        return usage_err(err, errlen, "wants ADDR, ADDR:PORT, [IPv6]:PORT or a host label", spec);
    host_spec h = {0};
    h.is_addr = parse_host_addr(spec, &h);
    if (!h.is_addr && (isdigit((unsigned char)spec[0]) || spec[0] == '[') && strspn(spec, "0123456789.:[]") == strlen(spec))
        return usage_err(err, errlen, "wants ADDR, ADDR:PORT, [IPv6]:PORT or a host label", spec);
    if (!(h.text = strdup(spec)))
        return -SL_ENOMEM;
    host_spec *grown = realloc(s->hosts, (s->n_hosts + 1) * sizeof *grown);
    if (!grown) {
        free(h.text);
        return -SL_ENOMEM;
    }
    s->hosts = grown;
    s->hosts[s->n_hosts++] = h;
    return 0;
}

/* "+5s", "+1.5", "+250ms", "+2m", "+1h" into nanoseconds; -1 if not. */
static sl_time_ns parse_offset(const char *t)
{
    char *end;
    double v = strtod(t, &end);
    if (end == t || v < 0 || v > 1e9)
        return -1;
    double unit = 1e9;
    if (strcmp(end, "ms") == 0)
        unit = 1e6;
    else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
        unit = 60e9;
    else if (strcmp(end, "h") == 0)
        unit = 3600e9;
    else if (*end != '\0' && strcmp(end, "s") != 0)
        return -1;
    return (sl_time_ns)(v * unit + 0.5);
}

/* Digits of a fraction of a second (".123456789") into nanoseconds. */
static const char *parse_fraction(const char *p, sl_time_ns *ns)
{
    *ns = 0;
    if (*p != '.')
        return p;
    sl_time_ns scale = SL_NS_PER_SEC / 10;
    for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
        *ns += (*p - '0') * scale;
    return p;
}

static int parse_when(const char *t, when_spec *w)
{
    *w = (when_spec){.set = true};
    if (t[0] == '+') {
        w->relative = true;
        w->ns = parse_offset(t + 1);
        return w->ns < 0 ? -1 : 0;
    }
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, used = 0;
    const char *rest;
    if (sscanf(t, "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &used) == 6) {
        rest = t + used;
    } else if (sscanf(t, "%2d:%2d:%2d%n", &h, &mi, &sec, &used) == 3 && used >= 8) {
        rest = t + used;
        w->time_of_day = true;
    } else {
        return -1;
    }
    sl_time_ns frac;
    rest = parse_fraction(rest, &frac);
    if (*rest == 'Z')
        rest++;
    if (*rest != '\0' || h > 23 || mi > 59 || sec > 60)
        return -1;
    sl_time_ns day = ((sl_time_ns)h * 3600 + mi * 60 + sec) * SL_NS_PER_SEC + frac;
    if (w->time_of_day) {
        w->ns = day;
        return 0;
    }
    if (y < 1970 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > 31)
        return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d};
    time_t midnight = timegm(&tm);
    if (midnight == (time_t)-1)
        return -1;
    w->ns = (sl_time_ns)midnight * SL_NS_PER_SEC + day;
    return 0;
}

static int set_when(when_spec *w, const char *t, char *err, size_t errlen)
{
    if (parse_when(t, w) < 0) {
        *w = (when_spec){0};
        return usage_err(err, errlen,
                         "wants a UTC time (2026-11-21T06:00:25[.5], or 06:00:25 on the capture's first day) "
                         "or an offset from the capture's start (+5s, +250ms, +2m)",
                         t);
    }
    return 0;
}

int sl_select_set_from(sl_select *s, const char *when, char *err, size_t errlen)
{
    return set_when(&s->from, when, err, errlen);
}

int sl_select_set_to(sl_select *s, const char *when, char *err, size_t errlen)
{
    return set_when(&s->to, when, err, errlen);
}

/* ---- matching ---- */

static bool glob(const char *pattern, const char *p, size_t n)
{
    char buf[1024];
    if (n >= sizeof buf)
        n = sizeof buf - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return fnmatch(pattern, buf, FNM_CASEFOLD) == 0;
}

/* A URI (or name-addr) against a --call pattern: as written, inside <>,
 * without the scheme, without parameters, and its user part alone. */
static bool uri_matches(const char *pattern, sl_sip_str u)
{
    if (!u.p || !u.n)
        return false;
    const char *p = u.p, *e = u.p + u.n;
    if (glob(pattern, p, (size_t)(e - p)))
        return true;
    const char *lt = memchr(p, '<', (size_t)(e - p));
    if (lt) {
        const char *gt = memchr(lt, '>', (size_t)(e - lt));
        p = lt + 1;
        e = gt ? gt : e;
    }
    const char *semi = memchr(p, ';', (size_t)(e - p));
    const char *at = memchr(p, '@', (size_t)(e - p));
    if (semi && (!at || semi > at)) /* parameters of the URI, not of a user part */
        e = semi;
    if (glob(pattern, p, (size_t)(e - p)))
        return true;
    const char *colon = memchr(p, ':', (size_t)(e - p));
    if (colon && (!at || colon < at)) /* sip:, sips:, tel: */
        p = colon + 1;
    if (glob(pattern, p, (size_t)(e - p)))
        return true;
    at = memchr(p, '@', (size_t)(e - p));
    const char *user_end = at ? at : e;
    const char *user_semi = memchr(p, ';', (size_t)(user_end - p)); /* tel:+1555;phone-context=... */
    if (user_semi)
        user_end = user_semi;
    return glob(pattern, p, (size_t)(user_end - p));
}

static bool is_header(const sl_sip_header *h, const char *name)
{
    return h->name.p && h->name.n == strlen(name) && strncasecmp(h->name.p, name, h->name.n) == 0;
}

/* Each comma-separated identity of a P-Asserted-Identity value. */
static bool identity_matches(const char *pattern, sl_sip_str v)
{
    const char *p = v.p, *e = v.p + v.n;
    while (p < e) {
        const char *comma = memchr(p, ',', (size_t)(e - p));
        const char *end = comma ? comma : e;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (uri_matches(pattern, (sl_sip_str){p, (size_t)(end - p)}))
            return true;
        p = comma ? comma + 1 : e;
    }
    return false;
}

static bool record_matches_pattern(const char *pattern, const sl_sip_record *r)
{
    const sl_sip_fields *f = &r->f;
    if (f->call_id.p && glob(pattern, f->call_id.p, f->call_id.n))
        return true;
    if (uri_matches(pattern, f->from_uri) || uri_matches(pattern, f->to_uri) || uri_matches(pattern, f->request_uri))
        return true;
    for (size_t i = 0; i < f->n_headers; i++)
        if ((is_header(&f->headers[i], "P-Asserted-Identity") || is_header(&f->headers[i], "P-Preferred-Identity")) &&
            f->headers[i].value.p && identity_matches(pattern, f->headers[i].value))
            return true;
    return false;
}

/* A pattern of digits only is the call's number too. */
static bool call_matches_pattern(const char *pattern, const sl_call *k)
{
    char *end;
    unsigned long id = strtoul(pattern, &end, 10);
    if (isdigit((unsigned char)pattern[0]) && *end == '\0' && id == k->id)
        return true;
    if (uri_matches(pattern, k->caller) || uri_matches(pattern, k->callee))
        return true;
    for (size_t i = 0; i < k->n_messages; i++)
        if (record_matches_pattern(pattern, k->messages[i]))
            return true;
    return false;
}

/* The label a report gives an address (its host's, else --name's). */
static const char *label_of(const sl_select *s, const sl_report *r, const sl_addr *a, uint16_t port)
{
    const char *user = s->labels ? sl_labels_find(s->labels, a, port) : NULL;
    if (user)
        return user;
    int h = r->calls ? sl_calls_host_of(r->calls, a) : -1;
    return h >= 0 ? r->calls->hosts[h].label : NULL;
}

static bool endpoint_matches(const sl_select *s, const sl_report *r, const host_spec *h, const sl_addr *a,
                             uint16_t port)
{
    if (h->is_addr)
        return sl_addr_equal(&h->addr, a) && (!h->port || h->port == port);
    const char *label = label_of(s, r, a, port);
    return label && fnmatch(h->text, label, FNM_CASEFOLD) == 0;
}

/* Either endpoint against any --host (true when there is none). */
static bool hosts_match(const sl_select *s, const sl_report *r, const sl_addr *a, uint16_t pa, const sl_addr *b,
                        uint16_t pb)
{
    if (!s->n_hosts)
        return true;
    for (size_t i = 0; i < s->n_hosts; i++)
        if (endpoint_matches(s, r, &s->hosts[i], a, pa) || endpoint_matches(s, r, &s->hosts[i], b, pb))
            return true;
    return false;
}

static bool conn_hosts_match(const sl_select *s, const sl_report *r, const sl_conn *c)
{
    return hosts_match(s, r, &c->info.addr[0], c->info.port[0], &c->info.addr[1], c->info.port[1]);
}

static bool record_hosts_match(const sl_select *s, const sl_report *r, const sl_sip_record *m)
{
    return hosts_match(s, r, &m->src, m->sport, &m->dst, m->dport);
}

static bool verdict_code_matches(const sl_select *s, const char *code)
{
    if (!s->n_verdicts)
        return true;
    for (size_t i = 0; i < s->n_verdicts; i++)
        if (fnmatch(s->verdicts[i], code, 0) == 0)
            return true;
    return false;
}

/* The window in nanoseconds since the epoch for this capture. */
typedef struct window {
    sl_time_ns from, to;
} window;

static sl_time_ns resolve(const when_spec *w, const sl_capture_info *cap, sl_time_ns dflt)
{
    if (!w->set)
        return dflt;
    if (w->relative)
        return cap->first_ts + w->ns;
    if (w->time_of_day) {
        sl_time_ns day = SL_NS_PER_SEC * 86400;
        sl_time_ns midnight = cap->first_ts - ((cap->first_ts % day) + day) % day;
        return midnight + w->ns;
    }
    return w->ns;
}

static bool in_window(const window *w, sl_time_ns first, sl_time_ns last)
{
    return last >= w->from && first <= w->to;
}

/* ---- the view's arrays ---- */

static int find_u32(const uint32_t *a, size_t n, uint32_t v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && a[lo] == v ? (int)lo : -1;
}

typedef struct u32_set {
    uint32_t *v;
    size_t n, cap;
} u32_set;

typedef struct u64_set {
    uint64_t *v;
    size_t n, cap;
} u64_set;

/* Room for one more element of `elem` bytes in the array *pp points to
 * (n used of *cap), as sl_corr_grow does for correlate.c's arrays. */
static int grow(void *pp, size_t *cap, size_t n, size_t elem)
{
    void **p = pp;
    if (n < *cap)
        return 0;
    size_t more = *cap ? 2 * *cap : 64;
    if (more > SIZE_MAX / elem)
        return -SL_ENOMEM;
    void *grown = realloc(*p, more * elem);
    if (!grown)
        return -SL_ENOMEM;
    *p = grown;
    *cap = more;
    return 0;
}

static int set_add(u32_set *st, uint32_t v)
{
    if (grow(&st->v, &st->cap, st->n, sizeof *st->v) < 0)
        return -SL_ENOMEM;
    st->v[st->n++] = v;
    return 0;
}

static bool set_has(const u32_set *st, uint32_t v) { return find_u32(st->v, st->n, v) >= 0; }

static int frame_add(u64_set *st, uint64_t v)
{
    if (grow(&st->v, &st->cap, st->n, sizeof *st->v) < 0)
        return -SL_ENOMEM;
    st->v[st->n++] = v;
    return 0;
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static bool frame_has(const u64_set *st, uint64_t v)
{
    return st->n && bsearch(&v, st->v, st->n, sizeof v, u64_cmp) != NULL;
}

void sl_select_view_clear(sl_select_view *v)
{
    if (!v)
        return;
    free(v->model.conns);
    free(v->model.sip);
    free(v->model.dns);
    free(v->model.anomalies);
    free(v->calls.calls);
    free(v->calls.registrations);
    free(v->calls.orphan_conns);
    free(v->calls.ambiguous_conns);
    free(v->diagnoses.list);
    *v = (sl_select_view){0};
}

/* What the nothing-matched message lists. */
static void seen_add(seen_list *l, const char *text)
{
    for (size_t i = 0; i < l->listed; i++)
        if (strcmp(l->text[i], text) == 0)
            return;
    l->total++;
    if (l->listed < SEEN_LISTED)
        snprintf(l->text[l->listed++], SEEN_TEXT, "%s", text);
}

static void sip_str_copy(char *dst, size_t len, sl_sip_str s)
{
    size_t n = s.p ? (s.n < len - 1 ? s.n : len - 1) : 0;
    for (size_t i = 0; i < n; i++) /* capture bytes: no control characters in a message for people */
        dst[i] = (unsigned char)s.p[i] < 0x20 || s.p[i] == 0x7f ? '?' : s.p[i];
    dst[n] = '\0';
}

static void note_what_exists(sl_select *s, const sl_report *r)
{
    const sl_capture_info *cap = &r->model->capture;
    if (cap->frames) {
        if (!s->have_span || cap->first_ts < s->first_ts)
            s->first_ts = cap->first_ts;
        if (!s->have_span || cap->last_ts > s->last_ts)
            s->last_ts = cap->last_ts;
        s->have_span = true;
    }
    const sl_calls *c = r->calls;
    for (size_t i = 0; c && i < c->n_calls; i++) {
        char from[40], to[40], line[SEEN_TEXT];
        sip_str_copy(from, sizeof from, c->calls[i].caller);
        sip_str_copy(to, sizeof to, c->calls[i].callee);
        snprintf(line, sizeof line, "%u %s -> %s", c->calls[i].id, from[0] ? from : "?", to[0] ? to : "?");
        seen_add(&s->seen_calls, line);
    }
    for (size_t i = 0; c && i < c->n_hosts; i++) {
        char addr[SL_ADDR_PORT_STRLEN], line[SEEN_TEXT + SL_ADDR_PORT_STRLEN + 64];
        sl_addr_format(&c->hosts[i].addr, addr, sizeof addr);
        if (c->hosts[i].source == SL_LABEL_ADDRESS || !strcmp(c->hosts[i].label, addr))
            snprintf(line, sizeof line, "%s", addr);
        else
            snprintf(line, sizeof line, "%s (%.48s)", addr, c->hosts[i].label);
        seen_add(&s->seen_hosts, line);
    }
    for (size_t i = 0; r->diagnoses && i < r->diagnoses->n; i++)
        seen_add(&s->seen_codes, r->diagnoses->list[i].code);
}

/* ---- applying ---- */

/* What a call's verdicts say: one of them matches --verdict. */
static bool call_has_verdict(const sl_select *s, const sl_report *r, size_t ci)
{
    for (size_t i = 0; r->diagnoses && i < r->diagnoses->n; i++) {
        const sl_diagnosis *d = &r->diagnoses->list[i];
        if (d->call == (int)ci && verdict_code_matches(s, d->code))
            return true;
    }
    return false;
}

static bool call_hosts_match(const sl_select *s, const sl_report *r, const sl_call *k)
{
    if (!s->n_hosts)
        return true;
    for (size_t i = 0; i < k->n_messages; i++)
        if (record_hosts_match(s, r, k->messages[i]))
            return true;
    for (size_t i = 0; i < k->n_conns; i++) {
        const sl_conn *c = sl_model_conn_const(r->model, k->conns[i]);
        if (c && conn_hosts_match(s, r, c))
            return true;
    }
    return false;
}

static bool call_selected(const sl_select *s, const sl_report *r, size_t ci, const window *w)
{
    const sl_call *k = &r->calls->calls[ci];
    bool by_call = !s->n_calls;
    for (size_t i = 0; !by_call && i < s->n_calls; i++)
        by_call = call_matches_pattern(s->calls[i], k);
    return by_call && in_window(w, k->first_ts, k->last_ts) && call_hosts_match(s, r, k) &&
           (!s->n_verdicts || call_has_verdict(s, r, ci));
}

/* A registration's requests and responses, in call order. */
static void registration_span(const sl_calls *c, const sl_registration *g, sl_time_ns *first, sl_time_ns *last)
{
    *first = INT64_MAX;
    *last = INT64_MIN;
    for (size_t t = 0; t < g->n_transactions; t++) {
        const sl_transaction *tr = &c->transactions[g->transactions[t]];
        const sl_sip_record *ends[2] = {tr->request, tr->n_responses ? tr->responses[tr->n_responses - 1] : NULL};
        for (int e = 0; e < 2; e++) {
            if (!ends[e])
                continue;
            if (ends[e]->span.first_ts < *first)
                *first = ends[e]->span.first_ts;
            if (ends[e]->span.last_ts > *last)
                *last = ends[e]->span.last_ts;
        }
    }
}

static bool registration_selected(const sl_select *s, const sl_report *r, const sl_registration *g, const window *w,
                                  const u64_set *verdict_frames)
{
    const sl_calls *c = r->calls;
    sl_time_ns first, last;
    registration_span(c, g, &first, &last);
    if (first > last || !in_window(w, first, last))
        return false;
    bool by_call = !s->n_calls, by_host = !s->n_hosts, by_verdict = !s->n_verdicts;
    for (size_t i = 0; !by_call && i < s->n_calls; i++)
        by_call = uri_matches(s->calls[i], g->aor);
    for (size_t t = 0; t < g->n_transactions && !(by_call && by_host && by_verdict); t++) {
        const sl_transaction *tr = &c->transactions[g->transactions[t]];
        for (size_t k = 0; k <= tr->n_responses; k++) {
            const sl_sip_record *m = k == 0 ? tr->request : tr->responses[k - 1];
            if (!m)
                continue;
            for (size_t i = 0; !by_call && i < s->n_calls; i++)
                by_call = record_matches_pattern(s->calls[i], m);
            by_host = by_host || record_hosts_match(s, r, m);
            by_verdict = by_verdict || frame_has(verdict_frames, m->span.last_frame) ||
                         frame_has(verdict_frames, m->span.first_frame);
        }
    }
    return by_call && by_host && by_verdict;
}

static int registration_records(const sl_calls *c, const sl_registration *g, u64_set *frames, u32_set *conns)
{
    for (size_t t = 0; t < g->n_transactions; t++) {
        const sl_transaction *tr = &c->transactions[g->transactions[t]];
        for (size_t k = 0; k <= tr->n_responses; k++) {
            const sl_sip_record *m = k == 0 ? tr->request : tr->responses[k - 1];
            if (m && (frame_add(frames, m->span.last_frame) < 0 || set_add(conns, m->conn_index) < 0))
                return -SL_ENOMEM;
        }
    }
    return 0;
}

static int u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void set_sort(u32_set *st)
{
    if (st->n)
        qsort(st->v, st->n, sizeof *st->v, u32_cmp);
    size_t u = 0;
    for (size_t i = 0; i < st->n; i++)
        if (!u || st->v[u - 1] != st->v[i])
            st->v[u++] = st->v[i];
    st->n = u;
}

static void frames_sort(u64_set *st)
{
    if (st->n)
        qsort(st->v, st->n, sizeof *st->v, u64_cmp);
}

/* Remember the connections of the calls shown, for later batches. */
static int remember_chosen(sl_select *s, const u32_set *conns)
{
    if (!conns->n)
        return 0;
    uint32_t *all = realloc(s->chosen, (s->n_chosen + conns->n) * sizeof *all);
    if (!all)
        return -SL_ENOMEM;
    memcpy(all + s->n_chosen, conns->v, conns->n * sizeof *all);
    s->chosen = all;
    u32_set st = {all, s->n_chosen + conns->n, s->n_chosen + conns->n};
    set_sort(&st);
    s->n_chosen = st.n;
    return 0;
}

/* The host part of a URI ("sip:u@host:port;p" -> "host"). */
static sl_sip_str uri_host(sl_sip_str u)
{
    if (!u.p)
        return u;
    const char *p = u.p, *e = u.p + u.n;
    const char *lt = memchr(p, '<', u.n);
    if (lt) {
        const char *gt = memchr(lt, '>', (size_t)(e - lt));
        p = lt + 1;
        e = gt ? gt : e;
    }
    const char *at = memchr(p, '@', (size_t)(e - p));
    if (at)
        p = at + 1;
    else if (memchr(p, ':', (size_t)(e - p)))
        p = (const char *)memchr(p, ':', (size_t)(e - p)) + 1;
    const char *q = p;
    while (q < e && *q != ';' && *q != ':' && *q != '>' && *q != '?')
        q++;
    return (sl_sip_str){p, (size_t)(q - p)};
}

/* A DNS name that is a host of the message (Request-URI, To, Route) or
 * its SRV name (_sip._tcp.host). */
static bool name_of_record(const char *name, const sl_sip_record *m)
{
    sl_sip_str cand[3] = {uri_host(m->f.request_uri), uri_host(m->f.to_uri),
                          m->f.n_routes ? uri_host(m->f.routes[0].uri) : (sl_sip_str){0}};
    size_t nl = strlen(name);
    if (nl && name[nl - 1] == '.')
        nl--;
    for (int i = 0; i < 3; i++) {
        if (!cand[i].p || !cand[i].n || cand[i].n > nl)
            continue;
        const char *tail = name + nl - cand[i].n;
        if (strncasecmp(tail, cand[i].p, cand[i].n) == 0 && (tail == name || tail[-1] == '.'))
            return true;
    }
    return false;
}

static bool dns_of_call(const sl_dns_record *d, const sl_call *k)
{
    for (size_t i = 0; i < k->n_messages; i++) {
        const sl_sip_record *m = k->messages[i];
        if (!m->f.is_request)
            continue;
        if (d->has_question && name_of_record(d->qname, m))
            return true;
        for (size_t a = 0; a < d->n_answers; a++)
            if (d->answers[a].addr.family && (sl_addr_equal(&d->answers[a].addr, &m->dst)))
                return true;
    }
    return false;
}

typedef struct apply_ctx {
    sl_select *s;
    const sl_report *in;
    sl_select_view *out;
    window w;
    bool calls_named; /* --call or --verdict: what is outside a call is not shown on its own */
    bool *call_on;
    u32_set conns;      /* connections shown */
    u64_set msg_frames; /* last frames of the SIP messages shown */
    u64_set verdict_frames;
} apply_ctx;

static int pick_calls(apply_ctx *x)
{
    const sl_calls *c = x->in->calls;
    sl_calls *oc = &x->out->calls;
    if (!(oc->calls = calloc(c->n_calls ? c->n_calls : 1, sizeof *oc->calls)))
        return -SL_ENOMEM;
    for (size_t i = 0; i < c->n_calls; i++) {
        if (!(x->call_on[i] = call_selected(x->s, x->in, i, &x->w)))
            continue;
        const sl_call *k = &c->calls[i];
        oc->calls[oc->n_calls++] = *k;
        for (size_t j = 0; j < k->n_conns; j++)
            if (set_add(&x->conns, k->conns[j]) < 0)
                return -SL_ENOMEM;
        for (size_t j = 0; j < k->n_messages; j++)
            if (frame_add(&x->msg_frames, k->messages[j]->span.last_frame) < 0 ||
                (k->messages[j]->conn_index && set_add(&x->conns, k->messages[j]->conn_index) < 0))
                return -SL_ENOMEM;
        for (size_t j = 0; x->in->diagnoses && j < x->in->diagnoses->n; j++) {
            const sl_diagnosis *d = &x->in->diagnoses->list[j];
            if (d->call == (int)i && d->conn_index && set_add(&x->conns, d->conn_index) < 0)
                return -SL_ENOMEM;
        }
    }
    return 0;
}

static int pick_registrations(apply_ctx *x)
{
    const sl_calls *c = x->in->calls;
    sl_calls *oc = &x->out->calls;
    if (!(oc->registrations = calloc(c->n_registrations ? c->n_registrations : 1, sizeof *oc->registrations)))
        return -SL_ENOMEM;
    for (size_t i = 0; i < c->n_registrations; i++) {
        const sl_registration *g = &c->registrations[i];
        if (!registration_selected(x->s, x->in, g, &x->w, &x->verdict_frames))
            continue;
        oc->registrations[oc->n_registrations++] = *g;
        if (registration_records(c, g, &x->msg_frames, &x->conns) < 0)
            return -SL_ENOMEM;
    }
    return 0;
}

/* Connections that match on their own (no --call): by host, window and a
 * verdict on them; and those of calls shown in earlier batches. */
static bool conn_on_its_own(const apply_ctx *x, const sl_conn *c)
{
    if (find_u32(x->s->chosen, x->s->n_chosen, c->index) >= 0)
        return true;
    if (x->s->n_calls || !conn_hosts_match(x->s, x->in, c) || !in_window(&x->w, c->first_ts, c->last_ts))
        return false;
    if (!x->s->n_verdicts)
        return true;
    for (size_t i = 0; x->in->diagnoses && i < x->in->diagnoses->n; i++) {
        const sl_diagnosis *d = &x->in->diagnoses->list[i];
        if (d->conn_index == c->index && verdict_code_matches(x->s, d->code))
            return true;
    }
    return false;
}

static int pick_conns(apply_ctx *x)
{
    const sl_model *m = x->in->model;
    for (size_t i = 0; i < m->n_conns; i++)
        if (conn_on_its_own(x, &m->conns[i]) && set_add(&x->conns, m->conns[i].index) < 0)
            return -SL_ENOMEM;
    set_sort(&x->conns);
    sl_model *om = &x->out->model;
    if (!(om->conns = calloc(x->conns.n ? x->conns.n : 1, sizeof *om->conns)))
        return -SL_ENOMEM;
    om->n_conns = 0;
    for (size_t i = 0; i < m->n_conns; i++)
        if (set_has(&x->conns, m->conns[i].index))
            om->conns[om->n_conns++] = m->conns[i];
    om->cap_conns = om->n_conns;
    /* Indices stay the input's: the lookup knows how many there are. */
    om->n_conns_hidden = sl_model_conns_total(m) - om->n_conns_retired - om->n_conns;
    return 0;
}

static bool record_on_its_own(const apply_ctx *x, const sl_sip_record *r)
{
    if (x->calls_named || (x->in->calls && sl_calls_call_of(x->in->calls, r) >= 0))
        return false;
    return record_hosts_match(x->s, x->in, r) && in_window(&x->w, r->span.first_ts, r->span.last_ts);
}

static int pick_records(apply_ctx *x)
{
    const sl_model *m = x->in->model;
    sl_model *om = &x->out->model;
    frames_sort(&x->msg_frames);
    om->sip = malloc((m->n_sip ? m->n_sip : 1) * sizeof *om->sip); // NOLINT(bugprone-sizeof-expression): pointers
    if (!om->sip)
        return -SL_ENOMEM;
    om->n_sip = 0;
    for (size_t i = 0; i < m->n_sip; i++) {
        const sl_sip_record *r = m->sip[i];
        if (frame_has(&x->msg_frames, r->span.last_frame) || record_on_its_own(x, r))
            om->sip[om->n_sip++] = m->sip[i];
    }
    om->cap_sip = om->n_sip;
    /* DNS: what a call shown asked or was sent to, a verdict's evidence,
     * a connection shown, or (no --call) what matches on its own. */
    om->dns = malloc((m->n_dns ? m->n_dns : 1) * sizeof *om->dns); // NOLINT(bugprone-sizeof-expression): pointers
    if (!om->dns)
        return -SL_ENOMEM;
    om->n_dns = 0;
    for (size_t i = 0; i < m->n_dns; i++) {
        const sl_dns_record *d = m->dns[i];
        bool keep = frame_has(&x->verdict_frames, d->span.last_frame) || set_has(&x->conns, d->conn_index);
        for (size_t k = 0; !keep && k < x->out->calls.n_calls; k++)
            keep = dns_of_call(d, &x->out->calls.calls[k]);
        if (!keep && !x->calls_named)
            keep = hosts_match(x->s, x->in, &d->src, d->sport, &d->dst, d->dport) &&
                   in_window(&x->w, d->span.first_ts, d->span.last_ts);
        if (keep)
            om->dns[om->n_dns++] = m->dns[i];
    }
    om->cap_dns = om->n_dns;
    return 0;
}

/* Verdicts of calls and connections shown (and DNS ones about DNS shown),
 * that match --verdict. */
static int pick_verdicts(apply_ctx *x)
{
    const sl_diagnoses *d = x->in->diagnoses;
    if (!d)
        return 0;
    sl_diagnoses *od = &x->out->diagnoses;
    *od = *d;
    od->n = 0;
    if (!(od->list = calloc(d->n ? d->n : 1, sizeof *od->list)))
        return -SL_ENOMEM;
    /* Where each input call went in the view. */
    size_t n_calls = x->in->calls ? x->in->calls->n_calls : 0;
    int *pos = calloc(n_calls ? n_calls : 1, sizeof *pos);
    if (!pos)
        return -SL_ENOMEM;
    for (size_t i = 0, k = 0; i < n_calls; i++)
        pos[i] = x->call_on[i] ? (int)k++ : -1;
    u64_set dns_frames = {0};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < x->out->model.n_dns; i++)
        rc = frame_add(&dns_frames, x->out->model.dns[i]->span.last_frame);
    frames_sort(&dns_frames);
    for (size_t i = 0; rc == 0 && i < d->n; i++) {
        const sl_diagnosis *v = &d->list[i];
        bool keep;
        if (v->call >= 0)
            keep = (size_t)v->call < n_calls && pos[v->call] >= 0;
        else if (v->conn_index)
            keep = set_has(&x->conns, v->conn_index);
        else
            keep = v->n_evidence && (frame_has(&dns_frames, v->evidence[0]) || frame_has(&x->msg_frames, v->evidence[0]));
        if (!keep || !verdict_code_matches(x->s, v->code))
            continue;
        sl_diagnosis copy = *v;
        if (v->call >= 0)
            copy.call = pos[v->call];
        od->list[od->n++] = copy;
    }
    free(dns_frames.v);
    free(pos);
    return rc;
}

/* Frames the verdicts name, to take registrations and DNS along. */
static int collect_verdict_frames(apply_ctx *x)
{
    const sl_diagnoses *d = x->in->diagnoses;
    for (size_t i = 0; d && i < d->n; i++) {
        const sl_diagnosis *v = &d->list[i];
        if (v->call >= 0 && !x->call_on[v->call])
            continue;
        if (!verdict_code_matches(x->s, v->code))
            continue;
        for (size_t k = 0; k < v->n_evidence; k++)
            if (frame_add(&x->verdict_frames, v->evidence[k]) < 0)
                return -SL_ENOMEM;
    }
    frames_sort(&x->verdict_frames);
    return 0;
}

static int pick_rest(apply_ctx *x)
{
    const sl_calls *c = x->in->calls;
    sl_calls *oc = &x->out->calls;
    const sl_model *m = x->in->model;
    sl_model *om = &x->out->model;
    oc->orphan_conns = malloc((c->n_orphan_conns ? c->n_orphan_conns : 1) * sizeof *oc->orphan_conns);
    oc->ambiguous_conns = malloc((c->n_ambiguous_conns ? c->n_ambiguous_conns : 1) * sizeof *oc->ambiguous_conns);
    om->anomalies = malloc((m->n_anomalies ? m->n_anomalies : 1) * sizeof *om->anomalies);
    if (!oc->orphan_conns || !oc->ambiguous_conns || !om->anomalies)
        return -SL_ENOMEM;
    oc->n_orphan_conns = oc->n_ambiguous_conns = 0;
    for (size_t i = 0; i < c->n_orphan_conns; i++)
        if (set_has(&x->conns, c->orphan_conns[i]))
            oc->orphan_conns[oc->n_orphan_conns++] = c->orphan_conns[i];
    for (size_t i = 0; i < c->n_ambiguous_conns; i++)
        if (set_has(&x->conns, c->ambiguous_conns[i]))
            oc->ambiguous_conns[oc->n_ambiguous_conns++] = c->ambiguous_conns[i];
    om->n_anomalies = 0;
    for (size_t i = 0; i < m->n_anomalies; i++) {
        const sl_model_anomaly *a = &m->anomalies[i];
        if (a->conn_index ? set_has(&x->conns, a->conn_index) : frame_has(&x->msg_frames, a->frame))
            om->anomalies[om->n_anomalies++] = *a;
    }
    om->cap_anomalies = om->n_anomalies;
    return 0;
}

/* The whole report, as copies the view owns (an inactive selection). */
static int copy_all(const sl_report *in, sl_select_view *out)
{
    out->model = *in->model;
    out->report.model = &out->model;
    out->model.conns = NULL;
    out->model.sip = NULL;
    out->model.dns = NULL;
    out->model.anomalies = NULL;
    out->report.model = in->model;
    out->report.calls = in->calls;
    out->report.diagnoses = in->diagnoses;
    return 0;
}

static void count_shown(sl_select *s, const sl_select_view *v)
{
    s->shown.calls += v->calls.n_calls;
    s->shown.registrations += v->calls.n_registrations;
    s->shown.conns += v->model.n_conns;
    s->shown.messages += v->model.n_sip;
    s->shown.dns += v->model.n_dns;
    s->shown.verdicts += v->diagnoses.n;
}

int sl_select_apply(sl_select *s, const sl_report *in, sl_select_view *out)
{
    *out = (sl_select_view){0};
    if (!sl_select_active(s) || !in->calls) {
        copy_all(in, out);
        return s && s->on_selected ? s->on_selected(s->on_ctx, &out->report) : 0;
    }
    note_what_exists(s, in);
    const sl_capture_info *cap = &in->model->capture;
    apply_ctx x = {.s = s, .in = in, .out = out, .calls_named = s->n_calls || s->n_verdicts};
    x.w.from = resolve(&s->from, cap, INT64_MIN);
    x.w.to = resolve(&s->to, cap, INT64_MAX);
    out->model = *in->model;
    out->calls = *in->calls;
    out->model.conns = NULL;
    out->model.sip = NULL;
    out->model.dns = NULL;
    out->model.anomalies = NULL;
    out->calls.calls = NULL;
    out->calls.registrations = NULL;
    out->calls.orphan_conns = out->calls.ambiguous_conns = NULL;
    out->calls.n_calls = out->calls.n_registrations = 0;
    x.call_on = calloc(in->calls->n_calls ? in->calls->n_calls : 1, sizeof *x.call_on);
    int rc = x.call_on ? pick_calls(&x) : -SL_ENOMEM;
    if (rc == 0)
        rc = collect_verdict_frames(&x);
    if (rc == 0)
        rc = pick_registrations(&x);
    if (rc == 0)
        rc = pick_conns(&x);
    if (rc == 0)
        rc = pick_records(&x);
    if (rc == 0)
        rc = pick_verdicts(&x);
    if (rc == 0)
        rc = pick_rest(&x);
    /* The connections of calls shown, for the batches to come. */
    u32_set of_calls = {0};
    for (size_t i = 0; rc == 0 && i < out->calls.n_calls; i++)
        for (size_t j = 0; rc == 0 && j < out->calls.calls[i].n_conns; j++)
            rc = set_add(&of_calls, out->calls.calls[i].conns[j]);
    if (rc == 0)
        rc = remember_chosen(s, &of_calls);
    free(of_calls.v);
    free(x.call_on);
    free(x.conns.v);
    free(x.msg_frames.v);
    free(x.verdict_frames.v);
    if (rc < 0) {
        sl_select_view_clear(out);
        return rc;
    }
    out->report.model = &out->model;
    out->report.calls = &out->calls;
    out->report.diagnoses = in->diagnoses ? &out->diagnoses : NULL;
    count_shown(s, out);
    return s->on_selected ? s->on_selected(s->on_ctx, &out->report) : 0;
}

/* ---- nothing matched ---- */

/* " (12 calls in the capture): 1 a -> b, 2 c -> d (2 more)" */
static void put_seen(FILE *out, const char *what, const seen_list *l)
{
    fprintf(out, " (%llu %s%s in the capture)", (unsigned long long)l->total, what, l->total == 1 ? "" : "s");
    if (!l->total)
        return;
    fputs(": ", out);
    for (size_t i = 0; i < l->listed; i++)
        fprintf(out, "%s%s", i ? ", " : "", l->text[i]);
    if (l->total > l->listed)
        fprintf(out, " (%llu more)", (unsigned long long)(l->total - l->listed));
}

static void put_patterns(FILE *out, const char *kind, char *const *p, size_t n)
{
    fprintf(out, "no %s matches ", kind);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s'%s'", i ? " or " : "", p[i]);
}

bool sl_select_report_empty(const sl_select *s, FILE *out)
{
    if (!sl_select_active(s))
        return false;
    const sl_select_counts *c = &s->shown;
    if (c->calls || c->registrations || c->conns || c->messages || c->dns || c->verdicts)
        return false;
    fputs("sipladder: ", out);
    if (s->n_calls) {
        put_patterns(out, "call", s->calls, s->n_calls);
        put_seen(out, "call", &s->seen_calls);
    } else if (s->n_verdicts) {
        put_patterns(out, "verdict", s->verdicts, s->n_verdicts);
        put_seen(out, "verdict code", &s->seen_codes);
    } else if (s->n_hosts) {
        fputs("no host matches ", out);
        for (size_t i = 0; i < s->n_hosts; i++)
            fprintf(out, "%s'%s'", i ? " or " : "", s->hosts[i].text);
        put_seen(out, "host", &s->seen_hosts);
    } else {
        fputs("nothing in the time window", out);
    }
    if (s->from.set || s->to.set) {
        char a[40], b[40];
        if (s->have_span)
            fprintf(out, "; the capture runs from %s to %s UTC", sl_time_format(s->first_ts, a, sizeof a),
                    sl_time_format(s->last_ts, b, sizeof b));
    }
    if (s->n_calls && (s->n_hosts || s->n_verdicts || s->from.set || s->to.set))
        fputs(" (with the other criteria)", out);
    fputc('\n', out);
    return true;
}

/* ---- -f ---- */

#define FILTER_LINKTYPES 8

struct sl_capture_filter {
    char *expr;
    struct {
        int linktype;
        struct bpf_program prog;
    } compiled[FILTER_LINKTYPES];
    size_t n;
};

static int compile_for(const char *expr, int linktype, struct bpf_program *prog, char *err, size_t errlen)
{
    pcap_t *dead = pcap_open_dead(linktype, 262144);
    if (!dead) {
        snprintf(err, errlen, "%s", "");
        return -SL_ENOMEM;
    }
    int rc = 0;
    if (pcap_compile(dead, prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
        const char *name = pcap_datalink_val_to_name(linktype);
        snprintf(err, errlen, "-f '%s': %s (link type %s)", expr, pcap_geterr(dead), name ? name : "unknown");
        rc = -SL_EUSAGE;
    }
    pcap_close(dead);
    return rc;
}

sl_capture_filter *sl_capture_filter_new(const char *expr, char *err, size_t errlen)
{
    struct bpf_program check;
    if (compile_for(expr, DLT_EN10MB, &check, err, errlen) < 0)
        return NULL;
    pcap_freecode(&check);
    sl_capture_filter *f = calloc(1, sizeof *f);
    if (f && !(f->expr = strdup(expr))) {
        free(f);
        f = NULL;
    }
    if (!f)
        snprintf(err, errlen, "%s", "");
    return f;
}

void sl_capture_filter_free(sl_capture_filter *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++)
        pcap_freecode(&f->compiled[i].prog);
    free(f->expr);
    free(f);
}

const char *sl_capture_filter_text(const sl_capture_filter *f) { return f->expr; }

int sl_capture_filter_prepare(sl_capture_filter *f, int linktype, char *err, size_t errlen)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->compiled[i].linktype == linktype)
            return 0;
    if (f->n == FILTER_LINKTYPES) {
        snprintf(err, errlen, "-f: more than %d link types in one capture", FILTER_LINKTYPES);
        return -SL_EUSAGE;
    }
    int rc = compile_for(f->expr, linktype, &f->compiled[f->n].prog, err, errlen);
    if (rc == 0)
        f->compiled[f->n++].linktype = linktype;
    return rc;
}

bool sl_capture_filter_match(const sl_capture_filter *f, int linktype, const uint8_t *data, uint32_t caplen,
                             uint32_t wirelen)
{
    for (size_t i = 0; i < f->n; i++) {
        if (f->compiled[i].linktype != linktype)
            continue;
        struct pcap_pkthdr h = {.caplen = caplen, .len = wirelen};
        return pcap_offline_filter(&f->compiled[i].prog, &h, data) != 0;
    }
    return false;
}
