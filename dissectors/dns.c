/* dns.c - DNS dissector (RFC 1035): the question and the answers (A, AAAA,
 * CNAME, SRV RFC 2782) of each message, over UDP and over TCP with its
 * two-byte length framing (RFC 1035 4.2.2).  Names are read through
 * sl_cursor with compression pointers followed only to strictly earlier
 * offsets and at most 128 steps, so a hostile loop ends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipladder/cursor.h"
#include "sipladder/dns.h"
#include "sipladder/status.h"

#define DNS_NAME "dns"
#define DNS_HEADER 12
#define NAME_STEPS 128 /* labels + jumps per name */

static const uint16_t dns_ports[] = {53};

typedef struct name_out {
    char *buf;
    size_t len, pos; /* pos < len always: room for the NUL */
    bool cut;
} name_out;

static void put_char(name_out *o, char ch)
{
    if (o->pos + 1 < o->len)
        o->buf[o->pos++] = ch;
    else
        o->cut = true;
}

/* A label byte as text: printable ASCII passes, '.', '\\' and the rest as \DDD. */
static void put_label_byte(name_out *o, uint8_t b)
{
    if (b > 0x20 && b < 0x7f && b != '.' && b != '\\') {
        put_char(o, (char)b);
        return;
    }
    char esc[5];
    snprintf(esc, sizeof esc, "\\%03u", b);
    for (int i = 0; i < 4; i++)
        put_char(o, esc[i]);
}

/* Read a (possibly compressed) name at c's position into text; c ends
 * after the name's bytes in place (a pointer's two bytes).  msg is the
 * whole message, for pointers.  0 or -SL_EMALFORMED. */
static int read_name(const uint8_t *msg, size_t len, sl_cursor *c, char *text, size_t text_len, bool *cut)
{
    name_out o = {text, text_len, 0, false};
    sl_cursor at = *c;          /* where labels are read now */
    size_t lowest = at.pos;     /* a pointer must go strictly below this */
    bool jumped = false;
    int rc = -SL_EMALFORMED;
    for (int step = 0; step < NAME_STEPS; step++) {
        uint8_t b = sl_cursor_u8(&at);
        if (!sl_cursor_ok(&at))
            break;
        if (b == 0) {
            rc = 0;
            break;
        }
        if ((b & 0xC0) == 0xC0) {
            size_t target = (size_t)(b & 0x3F) << 8 | sl_cursor_u8(&at);
            if (!sl_cursor_ok(&at) || target >= lowest)
                break; /* forward or self pointer: a loop or garbage */
            if (!jumped)
                *c = at; /* the name ends after its first pointer */
            jumped = true;
            lowest = target;
            sl_cursor_init(&at, msg, len);
            sl_cursor_skip(&at, target);
            continue;
        }
        if (b & 0xC0)
            break; /* 0x40 / 0x80: extended label types, obsolete (RFC 6891) */
        const uint8_t *label = sl_cursor_bytes(&at, b);
        if (!label)
            break;
        if (o.pos)
            put_char(&o, '.');
        for (size_t i = 0; i < b; i++)
            put_label_byte(&o, label[i]);
    }
    if (rc == 0 && !jumped)
        *c = at;
    if (rc == 0 && o.pos == 0)
        put_char(&o, '.');
    if (text_len)
        text[o.pos] = '\0';
    if (o.cut)
        *cut = true;
    if (rc < 0)
        c->bad = true;
    return rc;
}

static int read_rdata(const uint8_t *msg, size_t len, sl_cursor *c, uint16_t rdlen, sl_dns_answer *a, bool *cut)
{
    size_t start = c->pos;
    sl_cursor rd = sl_cursor_sub(c, rdlen);
    if (!sl_cursor_ok(c))
        return -SL_EMALFORMED;
    if (a->type == SL_DNS_TYPE_A || a->type == SL_DNS_TYPE_AAAA) {
        size_t n = a->type == SL_DNS_TYPE_A ? 4 : 16;
        const uint8_t *p = rdlen == n ? sl_cursor_bytes(&rd, n) : NULL;
        if (!p)
            return -SL_EMALFORMED;
        a->addr.family = a->type == SL_DNS_TYPE_A ? 4 : 6;
        memcpy(a->addr.bytes, p, n);
        return 0;
    }
    if (a->type == SL_DNS_TYPE_SRV || a->type == SL_DNS_TYPE_CNAME) {
        if (a->type == SL_DNS_TYPE_SRV) {
            a->priority = sl_cursor_u16be(&rd);
            a->weight = sl_cursor_u16be(&rd);
            a->port = sl_cursor_u16be(&rd);
            if (!sl_cursor_ok(&rd))
                return -SL_EMALFORMED;
        }
        /* The target may point anywhere earlier in the message, but its
         * in-place bytes must stay inside the rdata. */
        sl_cursor nc;
        sl_cursor_init(&nc, msg, start + rdlen);
        sl_cursor_skip(&nc, start + rd.pos);
        return read_name(msg, len, &nc, a->target, sizeof a->target, cut);
    }
    return 0;
}

static int read_record(const uint8_t *msg, size_t len, sl_cursor *c, sl_dns_answer *a, bool *cut)
{
    memset(a, 0, sizeof *a);
    if (read_name(msg, len, c, a->name, sizeof a->name, cut) < 0)
        return -SL_EMALFORMED;
    a->type = sl_cursor_u16be(c);
    a->klass = sl_cursor_u16be(c);
    a->ttl = sl_cursor_u32be(c);
    uint16_t rdlen = sl_cursor_u16be(c);
    if (!sl_cursor_ok(c))
        return -SL_EMALFORMED;
    return read_rdata(msg, len, c, rdlen, a, cut);
}

static int read_questions(const uint8_t *buf, size_t len, sl_cursor *c, sl_dns_msg *out)
{
    for (uint16_t i = 0; i < out->qdcount; i++) {
        char name[SL_DNS_NAME_MAX];
        if (read_name(buf, len, c, name, sizeof name, &out->name_cut) < 0)
            return -SL_EMALFORMED;
        uint16_t type = sl_cursor_u16be(c), klass = sl_cursor_u16be(c);
        if (!sl_cursor_ok(c))
            return -SL_EMALFORMED;
        if (i == 0) {
            memcpy(out->qname, name, sizeof name);
            out->qtype = type;
            out->qclass = klass;
            out->has_question = true;
        }
    }
    return 0;
}

int sl_dns_parse(const uint8_t *buf, size_t len, sl_transport transport, sl_dns_msg *out)
{
    memset(out, 0, sizeof *out);
    out->transport = transport;
    sl_cursor c;
    sl_cursor_init(&c, buf, len);
    out->id = sl_cursor_u16be(&c);
    uint16_t flags = sl_cursor_u16be(&c);
    out->qdcount = sl_cursor_u16be(&c);
    out->ancount = sl_cursor_u16be(&c);
    out->nscount = sl_cursor_u16be(&c);
    out->arcount = sl_cursor_u16be(&c);
    if (!sl_cursor_ok(&c))
        return -SL_EMALFORMED;
    out->response = flags & 0x8000;
    out->opcode = (uint8_t)(flags >> 11 & 0xF);
    out->truncated = flags & 0x0200;
    out->rcode = (uint8_t)(flags & 0xF);
    if (read_questions(buf, len, &c, out) < 0)
        return -SL_EMALFORMED;
    uint32_t records = (uint32_t)out->ancount + out->nscount + out->arcount;
    for (uint32_t i = 0; i < records; i++) {
        sl_dns_answer tmp = {0}; /* the sink for records past the kept answers */
        bool answer = i < out->ancount;
        sl_dns_answer *a = answer && out->n_answers < SL_DNS_MAX_ANSWERS ? &out->answers[out->n_answers] : &tmp;
        /* A TC response may end inside its records: keep what came whole. */
        if (read_record(buf, len, &c, a, &out->name_cut) < 0)
            return out->truncated ? 0 : -SL_EMALFORMED;
        if (answer) {
            out->n_answers_total++;
            if (a != &tmp)
                out->n_answers++;
        }
    }
    return 0;
}

const char *sl_dns_type_name(uint16_t type)
{
    switch (type) {
    case SL_DNS_TYPE_A: return "A";
    case 2: return "NS";
    case SL_DNS_TYPE_CNAME: return "CNAME";
    case 6: return "SOA";
    case 12: return "PTR";
    case 15: return "MX";
    case 16: return "TXT";
    case SL_DNS_TYPE_AAAA: return "AAAA";
    case SL_DNS_TYPE_SRV: return "SRV";
    case SL_DNS_TYPE_NAPTR: return "NAPTR";
    case 41: return "OPT";
    case 255: return "ANY";
    default: return NULL;
    }
}

const char *sl_dns_rcode_name(uint8_t rcode)
{
    static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"};
    return rcode < sizeof names / sizeof names[0] ? names[rcode] : NULL;
}

sl_dns_record *sl_dns_record_new(const sl_dns_msg *m, const sl_span *span, const sl_flow_info *flow, sl_dir dir)
{
    sl_dns_record *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    if (m->n_answers && !(r->answers = malloc(m->n_answers * sizeof *r->answers))) {
        free(r);
        return NULL;
    }
    if (m->n_answers)
        memcpy(r->answers, m->answers, m->n_answers * sizeof *r->answers);
    r->n_answers = m->n_answers;
    r->n_answers_total = m->n_answers_total;
    r->span = *span;
    int s = dir == SL_DIR_C2S ? 0 : 1;
    r->src = flow->addr[s];
    r->dst = flow->addr[1 - s];
    r->sport = flow->port[s];
    r->dport = flow->port[1 - s];
    r->conn_index = flow->conn_index;
    r->transport = m->transport;
    r->id = m->id;
    r->response = m->response;
    r->truncated = m->truncated;
    r->rcode = m->rcode;
    r->has_question = m->has_question;
    memcpy(r->qname, m->qname, sizeof r->qname);
    r->qtype = m->qtype;
    return r;
}

void sl_dns_record_free(sl_dns_record *r)
{
    if (!r)
        return;
    free(r->answers);
    free(r);
}

/* NetBIOS name service (RFC 1002 4.1, port 137) shares DNS's format; its
 * names are one 32-letter label of 'A'..'P' (first-level encoding). */
static bool netbios_name(const char *qname)
{
    size_t i = 0;
    while (i < 32 && qname[i] >= 'A' && qname[i] <= 'P')
        i++;
    return i == 32 && (qname[32] == '\0' || qname[32] == '.');
}

/* A whole message that parses and looks like DNS (one question, a known
 * opcode, not NetBIOS): strict, because other UDP (RTP) reaches this probe
 * too. */
static bool plausible(const uint8_t *buf, size_t len, sl_transport t)
{
    /* The header alone already rules out most other UDP (every RTP datagram
     * of an unclaimed flow comes here): the same conditions as below, read
     * before allocating and parsing the whole message. */
    sl_cursor h;
    sl_cursor_init(&h, buf, len);
    sl_cursor_skip(&h, 2);
    uint16_t flags = sl_cursor_u16be(&h);
    uint16_t qdcount = sl_cursor_u16be(&h);
    uint16_t ancount = sl_cursor_u16be(&h);
    unsigned opcode = flags >> 11 & 0xF;
    if (!sl_cursor_ok(&h) || qdcount != 1 || opcode > 5 || opcode == 3 || (!(flags & 0x8000) && ancount != 0))
        return false;
    sl_dns_msg *m = malloc(sizeof *m);
    if (!m)
        return false;
    bool ok = sl_dns_parse(buf, len, t, m) == 0 && m->qdcount == 1 && m->opcode <= 5 && m->opcode != 3 &&
              (m->response || m->ancount == 0) && !netbios_name(m->qname);
    free(m);
    return ok;
}

static sl_probe dns_probe(const uint8_t *buf, size_t len, sl_dir dir, sl_transport transport)
{
    (void)dir;
    if (transport == SL_TRANSPORT_UDP)
        return plausible(buf, len, transport) ? SL_PROBE_YES : SL_PROBE_NO;
    if (len < 2)
        return SL_PROBE_MORE;
    size_t n = (size_t)buf[0] << 8 | buf[1];
    if (n < DNS_HEADER)
        return SL_PROBE_NO;
    if (n > len - 2)
        return SL_PROBE_MORE;
    return plausible(buf + 2, n, transport) ? SL_PROBE_YES : SL_PROBE_NO;
}

typedef struct dns_state {
    sl_transport transport;
    sl_dns_msg msg; /* scratch: too big for every stack frame of the feed */
} dns_state;

static void *dns_state_new(const sl_flow_info *flow, const sl_config *cfg, void *shared)
{
    (void)cfg;
    (void)shared; /* DNS messages share nothing across flows */
    dns_state *s = calloc(1, sizeof *s);
    if (s)
        s->transport = flow->transport;
    return s;
}

static void dns_state_free(void *state) { free(state); }

static void dns_gap(void *state, sl_dir dir, uint64_t missing)
{
    (void)state, (void)dir, (void)missing; /* TCP: the length prefix after the gap is taken as is */
}

/* One message at buf[start, end) (without its TCP prefix). */
static void emit_message(dns_state *s, sl_dir dir, const uint8_t *buf, size_t start, size_t end, size_t span_start,
                         sl_sink *out)
{
    if (sl_dns_parse(buf + start, end - start, s->transport, &s->msg) < 0) {
        sl_sink_report(out, DNS_NAME, dir, span_start, end, -SL_EMALFORMED,
                       "malformed DNS message (%zu bytes, id 0x%04x)", end - start, s->msg.id);
        return;
    }
    sl_event ev = {.kind = SL_EV_DNS, .dir = dir, .dissector = DNS_NAME, .u.any = &s->msg};
    sl_sink_span(out, span_start, end, &ev.span);
    sl_sink_emit(out, &ev);
}

static int dns_feed(void *state, sl_dir dir, const uint8_t *buf, size_t len, size_t *used, sl_sink *out)
{
    dns_state *s = state;
    if (s->transport == SL_TRANSPORT_UDP) {
        emit_message(s, dir, buf, 0, len, 0, out);
        *used = len;
        return 0;
    }
    size_t pos = 0;
    while (len - pos >= 2) {
        size_t n = (size_t)buf[pos] << 8 | buf[pos + 1];
        if (n > len - pos - 2)
            break; /* the rest of the message has not arrived */
        if (n < DNS_HEADER)
            sl_sink_report(out, DNS_NAME, dir, pos, pos + 2 + n, -SL_EMALFORMED,
                           "DNS over TCP: message length %zu is shorter than a header", n);
        else
            emit_message(s, dir, buf, pos + 2, pos + 2 + n, pos, out);
        pos += 2 + n;
    }
    *used = pos;
    return 0;
}

const sl_dissector sl_dissector_dns = {
    .name = DNS_NAME,
    .hint_ports = dns_ports,
    .n_hint_ports = sizeof dns_ports / sizeof dns_ports[0],
    .probe = dns_probe,
    .state_new = dns_state_new,
    .feed = dns_feed,
    .gap = dns_gap,
    .state_free = dns_state_free,
};
