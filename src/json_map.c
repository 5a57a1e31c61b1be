/* json_map.c - what each model object becomes in JSON (json_map.h): the
 * model, the calls and the diagnoses as jansson trees, one document or
 * JSON Lines, and the pieces render_json.c streams.  Key order is
 * insertion order, so output is deterministic.
 *
 * Every string from a capture goes through jbytes(): invalid UTF-8 becomes
 * U+FFFD and is counted, so json_stringn never sees bytes it would refuse.
 * Calls and diagnoses are read from their structs only (calls.h,
 * diagnose.h); this file calls none of their functions, so it links and
 * works whether or not correlation and diagnosis ran. */
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_map.h"
#include "report.h"
#include "sipladder/exp_log.h"
#include "sipladder/bytes.h"
#include "sipladder/calls.h"
#include "sipladder/decode.h"
#include "sipladder/diagnose.h"
#include "sipladder/render_json.h"
#include "sipladder/spool.h"
#include "sipladder/sip_record.h"
#include "sipladder/text.h"
#include "sipladder/tls.h"
#include "sipladder/tls_session.h"

#ifndef SIPLADDER_VERSION
#define SIPLADDER_VERSION "unknown"
#endif

/* Leg, dialog and transaction numbers go on from those of the calls
 * written early (call_stream.h), like call ids. */
static uint64_t leg_base(const jctx *x) { return x->o->spool ? x->o->spool->legs : 0; }
static uint64_t dialog_base(const jctx *x) { return x->o->spool ? x->o->spool->dialogs : 0; }
static uint64_t transaction_base(const jctx *x) { return x->o->spool ? x->o->spool->transactions : 0; }

/* ---- building blocks ---- */

/* Add val to obj under key (val is consumed, also on failure). */
static void put(jctx *x, json_t *obj, const char *key, json_t *val)
{
    if (!obj || !val) {
        json_decref(val);
        x->err = true;
        return;
    }
    if (x->count_only) {
        json_decref(val); /* counted already; nothing reads the tree */
        return;
    }
    /* Keys are our own ASCII constants: jansson need not check their UTF-8. */
    if (json_object_set_new_nocheck(obj, key, val) != 0)
        x->err = true;
}

static void push(jctx *x, json_t *arr, json_t *val)
{
    if (!arr || !val) {
        json_decref(val);
        x->err = true;
        return;
    }
    if (x->count_only) {
        json_decref(val);
        return;
    }
    if (json_array_append_new(arr, val) != 0)
        x->err = true;
}

static bool utf8_valid(const unsigned char *u, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t l = u[i] < 0x80 ? 1 : sl_text_utf8_len(u + i, n - i);
        if (l == 0)
            return false;
        i += l;
    }
    return true;
}

/* A byte run from the capture as a JSON string (null when p is NULL):
 * valid UTF-8 is kept as is (control bytes included: jansson escapes them),
 * each byte of an invalid sequence becomes U+FFFD. */
static json_t *jbytes(jctx *x, const char *p, size_t n)
{
    if (!p)
        return json_null();
    const unsigned char *u = (const unsigned char *)p;
    if (x->count_only) {
        /* json_null() is a singleton: counting costs no string copies. */
        if (!utf8_valid(u, n)) {
            x->replaced++;
            x->mark = true;
        }
        return json_null();
    }
    /* Checked here already: jansson need not check the UTF-8 again. */
    if (utf8_valid(u, n))
        return json_stringn_nocheck(p, n);
    if (n > (SIZE_MAX - 1) / 3)
        return NULL;
    char *buf = malloc(n * 3 + 1);
    if (!buf)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        size_t l = u[i] < 0x80 ? 1 : sl_text_utf8_len(u + i, n - i);
        if (l) {
            /* buf goes with its length k, never as a C string */
            // NOLINTNEXTLINE(bugprone-not-null-terminated-result)
            memcpy(buf + k, p + i, l);
            k += l;
            i += l;
        } else {
            /* buf goes with its length k, never as a C string */
            // NOLINTNEXTLINE(bugprone-not-null-terminated-result)
            memcpy(buf + k, "\xef\xbf\xbd", 3);
            k += 3;
            i++;
        }
    }
    x->replaced++;
    x->mark = true;
    json_t *s = json_stringn_nocheck(buf, k); /* valid by construction */
    free(buf);
    return s;
}

static json_t *jstr(jctx *x, const char *s) { return jbytes(x, s, s ? strlen(s) : 0); }
static json_t *jsip(jctx *x, sl_sip_str s) { return jbytes(x, s.p, s.n); }

static json_t *jint(uint64_t v) { return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v); }
static json_t *jframe(uint64_t f) { return f ? jint(f) : json_null(); }
static json_t *jtime(sl_time_ns t) { return json_real(sl_time_seconds(t)); }

static json_t *jendpoint(const sl_addr *a, uint16_t port)
{
    char buf[SL_ADDR_PORT_STRLEN];
    return json_string(sl_addr_port_format(a, port, buf, sizeof buf));
}

static json_t *jaddr(const sl_addr *a)
{
    char buf[SL_ADDR_PORT_STRLEN];
    return json_string(sl_addr_format(a, buf, sizeof buf));
}

/* {"client": a, "server": b} for per-side counters. */
static json_t *jpair(jctx *x, uint64_t client, uint64_t server)
{
    json_t *o = json_object();
    put(x, o, "client", jint(client));
    put(x, o, "server", jint(server));
    return o;
}

static json_t *jframes(jctx *x, const uint64_t *f, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        push(x, a, jint(f[i]));
    return a;
}

static json_t *jstrings(jctx *x, char *const *s, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        push(x, a, jstr(x, s[i]));
    return a;
}

static const char *side_name(unsigned side) { return side == SL_SIDE_CLIENT ? "client" : "server"; }

/* ---- capture ---- */

static json_t *files_json(jctx *x, const sl_capture_info *c)
{
    json_t *a = json_array();
    for (size_t i = 0; i < c->n_files; i++) {
        json_t *f = json_object();
        put(x, f, "name", jstr(x, c->files[i]));
        const char *lt = c->linktypes ? pcap_datalink_val_to_name(c->linktypes[i]) : NULL;
        put(x, f, "link_type", lt ? json_string(lt) : json_null());
        put(x, f, "link_type_id", c->linktypes ? json_integer(c->linktypes[i]) : json_null());
        push(x, a, f);
    }
    return a;
}

/* Every reason frames were not followed, in the order first seen. */
static json_t *skip_reasons_json(jctx *x, const sl_capture_info *c)
{
    json_t *a = json_array();
    for (size_t i = 0; i < c->n_skip_reasons; i++) {
        const sl_skip_reason *r = &c->skip_reasons[i];
        sl_skip why = {r->kind, r->value};
        char text[128];
        json_t *o = json_object();
        put(x, o, "reason", json_string(sl_skip_kind_name(r->kind)));
        put(x, o, "value", jint(r->value));
        put(x, o, "text", json_string(sl_skip_describe(&why, text, sizeof text)));
        put(x, o, "by_design", json_boolean(sl_skip_by_design(&why)));
        put(x, o, "frames", jint(r->frames));
        put(x, o, "first_frame", jframe(r->first_frame));
        push(x, a, o);
    }
    return a;
}

static json_t *anomalies_json(jctx *x, const sl_model *m)
{
    json_t *a = json_array();
    for (size_t i = 0; i < m->n_anomalies; i++) {
        const sl_model_anomaly *an = &m->anomalies[i];
        json_t *o = json_object();
        put(x, o, "frame", jframe(an->frame));
        put(x, o, "source", jstr(x, an->source));
        put(x, o, "connection", an->conn_index ? jint(an->conn_index) : json_null());
        put(x, o, "text", jstr(x, an->text));
        push(x, a, o);
    }
    return a;
}

/* Push a printf-formatted warning. */
static void push_warning(jctx *x, json_t *a, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void push_warning(jctx *x, json_t *a, const char *fmt, ...)
{
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    push(x, a, json_string(text));
}

/* The model's warnings, then what its caps left out: a consumer must see
 * that the document is not the whole capture (the summary and messages
 * views say the same in text). */
static json_t *warnings_json(jctx *x, const sl_model *m)
{
    json_t *a = jstrings(x, m->warnings, m->n_warnings);
    if (m->conns_not_kept)
        push_warning(x, a,
                     "%" PRIu64 " connections from frame %" PRIu64 " on are not listed (cap %zu); "
                     "they are counted together in connections_not_kept",
                     m->conns_not_kept, m->conn_cap_frame, m->max_conns);
    if (m->sip_not_kept)
        push_warning(x, a,
                     "%" PRIu64 " SIP messages from frame %" PRIu64 " on were parsed but not kept "
                     "(cap of %zu MB of SIP records): calls, messages and diagnoses miss them",
                     m->sip_not_kept, m->sip_cap_frame, m->max_sip_bytes >> 20);
    if (m->dns_not_kept)
        push_warning(x, a, "%" PRIu64 " DNS messages were parsed but not kept (cap %d)", m->dns_not_kept,
                     SL_MODEL_MAX_DNS);
    return a;
}

/* The Expressway logs read beside the capture (exp_log.h). */
static json_t *logs_json(jctx *x, const sl_model *m)
{
    json_t *a = json_array();
    for (size_t i = 0; i < m->n_logs; i++) {
        const sl_xlog *l = m->logs[i];
        size_t sip = 0;
        for (size_t k = 0; k < l->n; k++)
            sip += l->e[k].kind == SL_XLOG_SIP;
        json_t *o = json_object();
        put(x, o, "file", jstr(x, l->file));
        put(x, o, "host", jstr(x, l->host));
        put(x, o, "lines", jint(l->lines));
        put(x, o, "sip_messages", jint(sip));
        put(x, o, "events", jint(l->n - sip));
        put(x, o, "in_capture", jint(l->sip_in_capture));
        put(x, o, "joined_connections", jint(l->sip_joined));
        put(x, o, "not_on_wire", jint(l->sip_not_on_wire));
        put(x, o, "clock_offset", l->has_offset ? json_real(sl_time_seconds(l->offset)) : json_null());
        put(x, o, "clock_offset_from",
            !l->has_offset ? json_null() : json_string(l->offset_from_conns ? "connections" : "messages"));
        put(x, o, "problems", jint(l->problems_total));
        push(x, a, o);
    }
    return a;
}

static json_t *capture_json(jctx *x)
{
    const sl_model *m = x->r->model;
    const sl_capture_info *c = &m->capture;
    json_t *o = json_object();
    put(x, o, "files", files_json(x, c));
    if (m->n_logs) /* only then: other documents keep their bytes */
        put(x, o, "logs", logs_json(x, m));
    put(x, o, "frames", jint(c->frames));
    put(x, o, "bytes", jint(c->bytes));
    put(x, o, "first_time", c->frames ? jtime(c->first_ts) : json_null());
    put(x, o, "last_time", c->frames ? jtime(c->last_ts) : json_null());
    put(x, o, "span", json_real(c->frames ? sl_time_seconds(c->last_ts - c->first_ts) : 0.0));
    put(x, o, "skipped", jint(c->skipped));
    put(x, o, "skipped_by_reason", skip_reasons_json(x, c));
    put(x, o, "skipped_other_reasons", jint(c->skipped_other));
    put(x, o, "malformed", jint(c->malformed));
    put(x, o, "cut", jint(c->cut));
    put(x, o, "truncated", json_boolean(c->truncated));
    put(x, o, "flows_evicted", jint(m->flows_evicted_cap));
    put(x, o, "fragments_dropped", jint(m->frags_dropped));
    put(x, o, "connections_not_kept", jint(m->conns_not_kept));
    put(x, o, "sip_not_kept", jint(m->sip_not_kept));
    put(x, o, "sip_streamed", jint(m->sip_released));
    put(x, o, "connections_streamed", jint(m->n_conns_retired));
    put(x, o, "dns_not_kept", jint(m->dns_not_kept));
    put(x, o, "warnings", warnings_json(x, m));
    put(x, o, "anomalies", anomalies_json(x, m));
    put(x, o, "anomalies_total", jint(m->anomalies_total));
    /* Set again once everything is built (the key keeps its place). */
    put(x, o, "strings_replaced", jint(0));
    return o;
}

/* ---- hosts ---- */

static const char *label_source_name(sl_label_source s)
{
    switch (s) {
    case SL_LABEL_USER: return "user";
    case SL_LABEL_ZONE: return "zone";
    case SL_LABEL_PRODUCT: return "product";
    default: return "address";
    }
}

static json_t *host_json(jctx *x, const sl_addr *a, const char *label, const char *source, const char *product,
                         const char *role, uint64_t sent, uint64_t flows)
{
    json_t *o = json_object();
    put(x, o, "address", jaddr(a));
    if (label)
        put(x, o, "label", jstr(x, label));
    else
        put(x, o, "label", jaddr(a));
    put(x, o, "label_source", json_string(source));
    put(x, o, "product", jstr(x, product));
    put(x, o, "role", role ? json_string(role) : json_null());
    put(x, o, "messages_sent", jint(sent));
    put(x, o, "flows", jint(flows));
    return o;
}

static int addr_cmp_void(const void *a, const void *b) { return sl_addr_cmp(a, b); }

/* Without correlation: every address of every flow, sorted, with the
 * user's label (--name ADDR=...) when there is one. */
static json_t *hosts_from_model(jctx *x)
{
    const sl_model *m = x->r->model;
    json_t *arr = json_array();
    if (m->n_conns == 0)
        return arr;
    size_t n = 2 * m->n_conns;
    sl_addr *all = calloc(n, sizeof *all);
    uint64_t *flows = calloc(n, sizeof *flows), *sent = calloc(n, sizeof *sent);
    if (!all || !flows || !sent) {
        free(all), free(flows), free(sent);
        json_decref(arr);
        return NULL;
    }
    for (size_t i = 0; i < m->n_conns; i++) {
        all[2 * i] = m->conns[i].info.addr[0];
        all[2 * i + 1] = m->conns[i].info.addr[1];
    }
    qsort(all, n, sizeof *all, addr_cmp_void);
    size_t u = 0;
    for (size_t i = 0; i < n; i++) {
        if (u && sl_addr_equal(&all[u - 1], &all[i])) {
            flows[u - 1]++;
            continue;
        }
        all[u] = all[i];
        flows[u++] = 1;
    }
    for (size_t s = 0; s < m->n_sip; s++) {
        const sl_addr *hit = bsearch(&m->sip[s]->src, all, u, sizeof *all, addr_cmp_void);
        if (hit)
            sent[hit - all]++;
    }
    for (size_t i = 0; i < u; i++) {
        const char *label = sl_report_user_label(x->o, &all[i], 0);
        push(x, arr, host_json(x, &all[i], label, label ? "user" : "address", NULL, NULL, sent[i], flows[i]));
    }
    free(all), free(flows), free(sent);
    return arr;
}

json_t *jm_hosts(jctx *x)
{
    const sl_calls *c = x->r->calls;
    if (!c)
        return hosts_from_model(x);
    json_t *arr = json_array();
    for (size_t i = 0; i < c->n_hosts; i++) {
        const sl_host *h = &c->hosts[i];
        push(x, arr, host_json(x, &h->addr, h->label, label_source_name(h->source), h->product, h->role,
                               h->messages_sent, h->flows));
    }
    return arr;
}

/* ---- connections: TCP ---- */

static json_t *close_json(jctx *x, const sl_conn *c, const sl_close_event *e)
{
    if (!e->frame)
        return json_null();
    unsigned side = e->side == SL_SIDE_CLIENT ? 0 : 1;
    json_t *o = json_object();
    put(x, o, "frame", jint(e->frame));
    put(x, o, "time", jtime(e->ts));
    put(x, o, "side", json_string(side_name(side)));
    put(x, o, "from", jendpoint(&c->info.addr[side], c->info.port[side]));
    put(x, o, "ttl", json_integer(e->ttl));
    put(x, o, "usual_ttl", json_integer(e->usual_ttl));
    put(x, o, "suspect_injected", json_boolean(e->ttl_differs));
    return o;
}

static json_t *tcp_json(jctx *x, const sl_conn *c)
{
    json_t *o = json_object();
    put(x, o, "syn_seen", json_boolean(c->syn_seen));
    put(x, o, "syn_count", jint(c->syn_count));
    size_t n_syn = c->syn_count < SL_MAX_SYN_FRAMES ? c->syn_count : SL_MAX_SYN_FRAMES;
    put(x, o, "syn_frames", jframes(x, c->syn_frames, n_syn));
    put(x, o, "synack_count", jint(c->synack_count));
    put(x, o, "synack_frame", jframe(c->synack_frame));
    put(x, o, "established_frame", jframe(c->established_frame));
    put(x, o, "handshake_rtt", c->established_frame ? jtime(c->handshake_rtt) : json_null());
    put(x, o, "refused", json_boolean(c->refused));
    json_t *fin = json_object();
    put(x, fin, "client", close_json(x, c, &c->fin[SL_SIDE_CLIENT]));
    put(x, fin, "server", close_json(x, c, &c->fin[SL_SIDE_SERVER]));
    put(x, o, "fin", fin);
    json_t *rst = close_json(x, c, &c->rst);
    if (json_is_object(rst))
        put(x, rst, "count", jint(c->rst_count));
    put(x, o, "rst", rst);
    put(x, o, "retransmissions", jpair(x, c->retransmissions[0], c->retransmissions[1]));
    put(x, o, "conflicts", jpair(x, c->conflicts[0], c->conflicts[1]));
    put(x, o, "out_of_order", jpair(x, c->out_of_order[0], c->out_of_order[1]));
    put(x, o, "gaps", jpair(x, c->gaps[0], c->gaps[1]));
    put(x, o, "gap_bytes", jpair(x, c->gap_bytes[0], c->gap_bytes[1]));
    put(x, o, "zero_windows", jpair(x, c->zero_windows[0], c->zero_windows[1]));
    put(x, o, "buffer_cap_hits", jpair(x, c->buffer_cap_hits[0], c->buffer_cap_hits[1]));
    return o;
}

/* ---- connections: TLS ---- */

static json_t *cert_json(jctx *x, const sl_cert_info *ci)
{
    json_t *o = json_object();
    put(x, o, "subject", jstr(x, ci->subject));
    put(x, o, "subject_cn", jstr(x, ci->subject_cn));
    put(x, o, "subject_ou", jstr(x, ci->subject_ou));
    put(x, o, "issuer", jstr(x, ci->issuer));
    put(x, o, "issuer_cn", jstr(x, ci->issuer_cn));
    put(x, o, "san_dns", jstrings(x, ci->san_dns, ci->n_san_dns));
    put(x, o, "san_ip", jstrings(x, ci->san_ip, ci->n_san_ip));
    put(x, o, "serial", jstr(x, ci->serial_hex));
    put(x, o, "not_before", ci->broken ? json_null() : jtime(ci->not_before));
    put(x, o, "not_after", ci->broken ? json_null() : jtime(ci->not_after));
    json_t *key = json_object();
    put(x, key, "type", ci->broken ? json_null() : jstr(x, ci->key_type));
    put(x, key, "bits", ci->key_bits > 0 ? json_integer(ci->key_bits) : json_null());
    put(x, o, "key", key);
    put(x, o, "signature_algorithm", ci->broken ? json_null() : jstr(x, ci->sig_alg));
    put(x, o, "sha256", jstr(x, ci->sha256_hex));
    put(x, o, "is_ca", json_boolean(ci->is_ca));
    put(x, o, "self_issued", json_boolean(ci->self_issued));
    put(x, o, "self_signed", json_boolean(ci->self_signed));
    put(x, o, "broken", json_boolean(ci->broken));
    put(x, o, "error", jstr(x, ci->error));
    return o;
}

static json_t *chain_json(jctx *x, const sl_tls_chain *ch)
{
    if (!ch->at.frame)
        return json_null();
    json_t *o = json_object();
    put(x, o, "frame", jint(ch->at.frame));
    put(x, o, "time", jtime(ch->at.ts));
    put(x, o, "sent", jint(ch->n_sent));
    json_t *a = json_array();
    for (size_t i = 0; i < ch->n; i++)
        push(x, a, cert_json(x, ch->certs[i]));
    put(x, o, "certificates", a);
    return o;
}

static json_t *alert_level(uint8_t level)
{
    if (level == 1)
        return json_string("warning");
    if (level == 2)
        return json_string("fatal");
    char buf[24];
    snprintf(buf, sizeof buf, "unknown(%u)", level);
    return json_string(buf);
}

static json_t *alert_description(uint8_t d)
{
    const char *name = sl_tls_alert_name(d);
    if (name)
        return json_string(name);
    char buf[24];
    snprintf(buf, sizeof buf, "unknown(%u)", d);
    return json_string(buf);
}

static json_t *alerts_json(jctx *x, const sl_conn *c, const sl_tls_session *s)
{
    json_t *a = json_array();
    for (size_t i = 0; i < s->n_alerts; i++) {
        const sl_tls_alert_seen *al = &s->alerts[i];
        unsigned side = al->dir == SL_DIR_C2S ? 0 : 1;
        json_t *o = json_object();
        put(x, o, "frame", jint(al->frame));
        put(x, o, "time", jtime(al->ts));
        /* An encrypted alert's level and description are unknown. */
        put(x, o, "level", al->encrypted ? json_null() : alert_level(al->level));
        put(x, o, "description", al->encrypted ? json_null() : alert_description(al->description));
        put(x, o, "description_id", al->encrypted ? json_null() : json_integer(al->description));
        put(x, o, "from", jendpoint(&c->info.addr[side], c->info.port[side]));
        put(x, o, "side", json_string(side_name(side)));
        put(x, o, "encrypted", json_boolean(al->encrypted));
        push(x, a, o);
    }
    return a;
}

/* CertificateStatus: the stapled OCSP response as far as it was read. */
static json_t *ocsp_json(jctx *x, const sl_tls_certificate_status *cs)
{
    json_t *o = json_object();
    const char *rs = sl_tls_ocsp_status_name(cs->response_status);
    const char *certs = sl_tls_cert_status_name(cs->cert_status);
    put(x, o, "status_type", json_integer(cs->status_type));
    put(x, o, "response_length", jint(cs->response_length));
    put(x, o, "response_status", cs->response_status < 0 ? json_null() : rs ? json_string(rs) : json_integer(cs->response_status));
    put(x, o, "cert_status", certs ? json_string(certs) : json_null());
    return o;
}

/* Every handshake message, ChangeCipherSpec and encrypted handshake record
 * in frame order, named by its type (never by the direction). */
static json_t *handshake_json(jctx *x, const sl_conn *c, const sl_tls_session *s)
{
    json_t *a = json_array();
    for (size_t i = 0; i < s->n_steps; i++) {
        const sl_tls_step *st = &s->steps[i];
        unsigned side = st->dir == SL_DIR_C2S ? 0 : 1;
        bool hs = st->kind == SL_TLS_STEP_HANDSHAKE;
        char buf[32];
        json_t *o = json_object();
        put(x, o, "frame", jint(st->at.frame));
        put(x, o, "time", jtime(st->at.ts));
        put(x, o, "type", hs ? json_integer(st->hs_type) : json_null());
        put(x, o, "name", json_string(sl_tls_step_name(s, i, buf, sizeof buf)));
        put(x, o, "side", json_string(side_name(side)));
        put(x, o, "from", jendpoint(&c->info.addr[side], c->info.port[side]));
        put(x, o, "length", hs ? jint(st->length) : json_null());
        put(x, o, "ocsp", hs && st->hs_type == SL_TLS_HS_CERTIFICATE_STATUS ? ocsp_json(x, &st->u.certificate_status)
                                                                           : json_null());
        put(x, o, "ticket_lifetime_hint", hs && st->hs_type == SL_TLS_HS_NEW_SESSION_TICKET
                                              ? jint(st->u.new_session_ticket.lifetime_hint)
                                              : json_null());
        push(x, a, o);
    }
    return a;
}

static json_t *chain_check_json(jctx *x, const sl_chain_report *rep)
{
    if (rep->n == 0)
        return json_null();
    json_t *o = json_object();
    put(x, o, "order_ok", json_boolean(rep->order_ok));
    put(x, o, "leaf_self_signed", json_boolean(rep->leaf_self_signed));
    put(x, o, "intermediate_missing", json_boolean(rep->intermediate_missing));
    put(x, o, "temporary", json_boolean(rep->temporary_ou));
    put(x, o, "expired", json_boolean(rep->expired));
    put(x, o, "not_yet_valid", json_boolean(rep->not_yet_valid));
    put(x, o, "name_matched", rep->name_checked ? json_boolean(rep->name_matched) : json_null());
    put(x, o, "verified", rep->verify_done ? json_boolean(rep->verify_ok) : json_null());
    put(x, o, "verify_reason", rep->verify_reason[0] ? jstr(x, rep->verify_reason) : json_null());
    return o;
}

static json_t *outcome_json(jctx *x, const sl_tls_outcome *out)
{
    json_t *o = json_object();
    put(x, o, "kind", json_string(sl_tls_outcome_name(out->kind)));
    put(x, o, "side", out->has_side ? json_string(side_name(out->side == SL_DIR_C2S ? 0 : 1)) : json_null());
    put(x, o, "alert", out->kind == SL_TLS_OUTCOME_FATAL_ALERT ? alert_description(out->alert) : json_null());
    put(x, o, "rejected_chain",
        out->answers_chain ? json_string(side_name(out->chain_of == SL_DIR_C2S ? 0 : 1)) : json_null());
    put(x, o, "reason", jstr(x, out->reason));
    json_t *hints = json_array();
    for (unsigned bit = 1; bit && bit <= SL_TLS_HINT_EMPTY_CHAIN; bit <<= 1) {
        const char *name = (out->hints & bit) ? sl_tls_hint_name(bit) : NULL;
        if (name)
            push(x, hints, json_string(name));
    }
    put(x, o, "hints", hints);
    put(x, o, "evidence", jframes(x, out->frames, out->n_frames));
    json_t *checks = json_object();
    put(x, checks, "client", chain_check_json(x, &out->report[SL_DIR_C2S]));
    put(x, checks, "server", chain_check_json(x, &out->report[SL_DIR_S2C]));
    put(x, o, "chain_checks", checks);
    return o;
}

static json_t *versions_json(jctx *x, const uint16_t *v, size_t n)
{
    json_t *a = json_array();
    char buf[24];
    for (size_t i = 0; i < n; i++)
        push(x, a, json_string(sl_tls_version_text(v[i], buf, sizeof buf)));
    return a;
}

static json_t *client_hello_json(jctx *x, const sl_tls_session *s)
{
    if (!s->client_hello.frame)
        return json_null();
    char buf[24];
    json_t *o = json_object();
    put(x, o, "frame", jint(s->client_hello.frame));
    put(x, o, "time", jtime(s->client_hello.ts));
    put(x, o, "count", jint(s->n_client_hellos));
    put(x, o, "sslv2", json_boolean(s->sslv2_hello));
    put(x, o, "legacy_version", json_string(sl_tls_version_text(s->ch_legacy_version, buf, sizeof buf)));
    put(x, o, "versions", versions_json(x, s->ch_versions, s->n_ch_versions));
    put(x, o, "cipher_suites", jint(s->n_cipher_suites));
    put(x, o, "sni", jstr(x, s->sni));
    put(x, o, "alpn", jstrings(x, s->alpn, s->n_alpn));
    return o;
}

static json_t *server_hello_json(jctx *x, const sl_tls_session *s)
{
    if (!s->server_hello.frame)
        return json_null();
    char buf[24];
    json_t *o = json_object();
    put(x, o, "frame", jint(s->server_hello.frame));
    put(x, o, "time", jtime(s->server_hello.ts));
    put(x, o, "version", json_string(sl_tls_version_text(s->version, buf, sizeof buf)));
    json_t *cipher = json_object();
    put(x, cipher, "id", json_integer(s->cipher_suite));
    put(x, cipher, "name", json_string(sl_tls_cipher_text(s->cipher_suite, buf, sizeof buf)));
    put(x, o, "cipher", cipher);
    put(x, o, "alpn", jstr(x, s->alpn_selected));
    return o;
}

static json_t *tls_json(jctx *x, const sl_conn *c)
{
    const sl_tls_session *s = c->tls;
    sl_tls_outcome out;
    if (sl_report_tls_outcome(x->o, c, &out) < 0)
        return NULL;
    json_t *o = json_object();
    put(x, o, "first_frame", jframe(s->first_frame));
    put(x, o, "last_frame", jframe(s->last_frame));
    put(x, o, "client_hello", client_hello_json(x, s));
    put(x, o, "hello_retry_request", jframe(s->hello_retry.frame));
    put(x, o, "server_hello", server_hello_json(x, s));
    put(x, o, "tls13", json_boolean(s->tls13));
    put(x, o, "mutual", json_boolean(s->cert_request.frame != 0));
    json_t *req = json_null();
    if (s->cert_request.frame) {
        req = json_object();
        put(x, req, "frame", jint(s->cert_request.frame));
        put(x, req, "ca_names", jstrings(x, s->ca_names, s->n_ca_names));
    }
    put(x, o, "certificate_request", req);
    json_t *chains = json_object();
    put(x, chains, "server", chain_json(x, &s->chain[SL_DIR_S2C]));
    put(x, chains, "client", chain_json(x, &s->chain[SL_DIR_C2S]));
    put(x, o, "certificates", chains);
    put(x, o, "alerts", alerts_json(x, c, s));
    put(x, o, "handshake", handshake_json(x, c, s));
    put(x, o, "handshake_not_listed", jint(s->steps_not_kept));
    put(x, o, "outcome", outcome_json(x, &out));
    return o;
}

json_t *jm_conn(jctx *x, const sl_conn *c)
{
    bool tcp = c->info.transport == SL_TRANSPORT_TCP;
    json_t *o = json_object();
    put(x, o, "index", jint(c->index));
    put(x, o, "transport", json_string(tcp ? "tcp" : "udp"));
    put(x, o, "client", jendpoint(&c->info.addr[0], c->info.port[0]));
    put(x, o, "server", jendpoint(&c->info.addr[1], c->info.port[1]));
    put(x, o, "first_frame", jframe(c->first_frame));
    put(x, o, "last_frame", jframe(c->last_frame));
    put(x, o, "first_time", jtime(c->first_ts));
    put(x, o, "last_time", jtime(c->last_ts));
    put(x, o, "packets", jpair(x, c->packets[0], c->packets[1]));
    put(x, o, "bytes", jpair(x, c->bytes[0], c->bytes[1]));
    put(x, o, "dissector", c->dissector ? json_string(c->dissector) : json_null());
    put(x, o, "anomalies", jint(c->anomalies));
    put(x, o, "tcp", tcp ? tcp_json(x, c) : json_null());
    put(x, o, "tls", c->tls ? tls_json(x, c) : json_null());
    return o;
}

json_t *jm_connections(jctx *x)
{
    const sl_model *m = x->r->model;
    json_t *a = json_array();
    for (size_t i = 0; i < m->n_conns; i++)
        push(x, a, jm_conn(x, &m->conns[i]));
    return a;
}

/* ---- SIP messages ---- */

static json_t *sdp_bw(jctx *x, int64_t as, int64_t tias)
{
    json_t *o = json_object();
    put(x, o, "as", as >= 0 ? json_integer(as) : json_null());
    put(x, o, "tias", tias >= 0 ? json_integer(tias) : json_null());
    return o;
}

static json_t *sdp_text(jctx *x, const char *s) { return s[0] ? jstr(x, s) : json_null(); }

static json_t *sdp_media_json(jctx *x, const sl_sdp_summary *s, size_t i)
{
    const sl_sdp_media *md = &s->media[i];
    json_t *o = json_object();
    put(x, o, "media", jstr(x, md->media));
    put(x, o, "port", jint(md->port));
    put(x, o, "protocol", jstr(x, md->proto));
    put(x, o, "connection_address", sdp_text(x, md->conn_addr));
    put(x, o, "bandwidth", sdp_bw(x, md->bw_as, md->bw_tias));
    put(x, o, "direction", json_string(sl_sdp_direction_name(sl_sdp_media_direction(s, i))));
    put(x, o, "crypto", json_boolean(md->crypto));
    put(x, o, "fingerprint", json_boolean(md->fingerprint));
    json_t *codecs = json_array();
    for (size_t k = 0; k < md->n_formats; k++) {
        const sl_sdp_format *f = &md->formats[k];
        json_t *c = json_object();
        put(x, c, "format", jstr(x, f->fmt));
        put(x, c, "pt", f->pt >= 0 ? json_integer(f->pt) : json_null());
        put(x, c, "codec", sdp_text(x, f->codec));
        push(x, codecs, c);
    }
    put(x, o, "codecs", codecs);
    return o;
}

static json_t *sdp_json(jctx *x, const sl_sdp_summary *s)
{
    json_t *o = json_object();
    put(x, o, "origin_address", sdp_text(x, s->origin_addr));
    put(x, o, "connection_address", sdp_text(x, s->conn_addr));
    put(x, o, "bandwidth", sdp_bw(x, s->bw_as, s->bw_tias));
    put(x, o, "direction", s->direction ? json_string(sl_sdp_direction_name(s->direction)) : json_null());
    put(x, o, "crypto", json_boolean(s->crypto));
    json_t *media = json_array();
    for (size_t i = 0; i < s->n_media; i++)
        push(x, media, sdp_media_json(x, s, i));
    put(x, o, "media", media);
    put(x, o, "bad_lines", jint(s->n_bad_lines));
    put(x, o, "dropped", jint(s->n_dropped));
    return o;
}

static json_t *party_json(jctx *x, sl_sip_str display, sl_sip_str uri, sl_sip_str tag)
{
    json_t *o = json_object();
    put(x, o, "display", jsip(x, display));
    put(x, o, "uri", jsip(x, uri));
    put(x, o, "tag", jsip(x, tag));
    return o;
}

/* "1 INVITE": the number, a space, the method bytes as sent. */
static json_t *cseq_json(jctx *x, const sl_sip_fields *f)
{
    if (!f->has_cseq)
        return json_null();
    char num[16];
    int k = snprintf(num, sizeof num, "%" PRIu32, f->cseq);
    size_t n = (size_t)k + (f->cseq_method.p ? 1 + f->cseq_method.n : 0);
    char *buf = malloc(n + 1);
    if (!buf)
        return NULL;
    memcpy(buf, num, (size_t)k);
    if (f->cseq_method.p) {
        buf[k] = ' ';
        if (f->cseq_method.n)
            memcpy(buf + k + 1, f->cseq_method.p, f->cseq_method.n);
    }
    json_t *s = jbytes(x, buf, n);
    free(buf);
    return s;
}

static json_t *headers_json(jctx *x, const sl_sip_fields *f)
{
    json_t *a = json_array();
    for (size_t i = 0; i < f->n_headers; i++) {
        json_t *h = json_object();
        put(x, h, "name", jsip(x, f->headers[i].name));
        put(x, h, "value", jsip(x, f->headers[i].value));
        push(x, a, h);
    }
    return a;
}

static json_t *message_json(jctx *x, const sl_sip_record *r)
{
    const sl_sip_fields *f = &r->f;
    x->mark = false;
    json_t *o = json_object();
    put(x, o, "frame", jint(r->span.last_frame));
    put(x, o, "first_frame", jint(r->span.first_frame));
    put(x, o, "time", jtime(r->span.last_ts));
    put(x, o, "src", jendpoint(&r->src, r->sport));
    put(x, o, "dst", jendpoint(&r->dst, r->dport));
    put(x, o, "transport", json_string(r->transport == SL_TRANSPORT_TCP ? "tcp" : "udp"));
    put(x, o, "connection", r->conn_index ? jint(r->conn_index) : json_null());
    if (f->is_request) {
        put(x, o, "method", jsip(x, f->method));
        put(x, o, "request_uri", jsip(x, f->request_uri));
    } else {
        put(x, o, "status", f->status_code ? json_integer(f->status_code) : json_null());
        put(x, o, "reason", jsip(x, f->reason_phrase));
    }
    put(x, o, "call_id", jsip(x, f->call_id));
    put(x, o, "cseq", cseq_json(x, f));
    put(x, o, "from", party_json(x, f->from_display, f->from_uri, f->from_tag));
    put(x, o, "to", party_json(x, f->to_display, f->to_uri, f->to_tag));
    put(x, o, "first_line", jsip(x, f->first_line));
    put(x, o, "malformed", json_boolean(f->malformed));
    if (f->malformed)
        put(x, o, "malformed_reason", jstr(x, f->malformed_reason));
    if (f->lenient_reason)
        put(x, o, "lenient_reason", jstr(x, f->lenient_reason));
    if (r->websocket)
        put(x, o, "websocket", json_true());
    if (r->log_file) { /* read from an Expressway log; frame 0: from the log alone */
        json_t *lg = json_object();
        put(x, lg, "file", jstr(x, r->log_file));
        put(x, lg, "line", jint(r->log_line));
        put(x, lg, "host", jstr(x, r->log_host));
        put(x, lg, "in_capture", json_boolean(r->span.last_frame != 0));
        put(x, o, "log", lg);
    }
    put(x, o, "headers", headers_json(x, f));
    put(x, o, "size", jint(r->raw_len));
    put(x, o, "body_length", jint(f->body_len));
    put(x, o, "sdp", r->has_sdp ? sdp_json(x, &r->sdp) : json_null());
    if (x->mark)
        put(x, o, "escaped", json_true());
    return o;
}

/* ---- calls ---- */

static json_t *jrecord_frame(const sl_sip_record *r) { return r ? jint(r->span.last_frame) : json_null(); }

static json_t *transaction_json(jctx *x, const sl_calls *c, uint32_t idx)
{
    if (idx >= c->n_transactions)
        return json_null();
    const sl_transaction *t = &c->transactions[idx];
    json_t *o = json_object();
    put(x, o, "index", jint(transaction_base(x) + idx));
    const sl_sip_record *req = t->request;
    put(x, o, "method", req ? jsip(x, req->f.cseq_method.p ? req->f.cseq_method : req->f.method) : json_null());
    put(x, o, "cseq", req ? cseq_json(x, &req->f) : json_null());
    put(x, o, "branch", req && req->f.n_vias ? jsip(x, req->f.vias[0].branch) : json_null());
    put(x, o, "request", jrecord_frame(req));
    put(x, o, "copies", jint(t->request_copies));
    put(x, o, "duplicates", jint(t->duplicates));
    put(x, o, "dialog", t->dialog < c->n_dialogs ? jint(dialog_base(x) + t->dialog) : json_null());
    json_t *resp = json_array();
    for (size_t i = 0; i < t->n_responses; i++)
        push(x, resp, jrecord_frame(t->responses[i]));
    put(x, o, "responses", resp);
    put(x, o, "final", jrecord_frame(t->final));
    put(x, o, "final_status", t->final ? json_integer(t->final->f.status_code) : json_null());
    put(x, o, "ack", jrecord_frame(t->ack));
    put(x, o, "cancel", jrecord_frame(t->cancel));
    put(x, o, "cancel_copies", jint(t->cancel_copies));
    put(x, o, "cancel_response", jrecord_frame(t->cancel_response));
    return o;
}

static json_t *dialog_json(jctx *x, const sl_calls *c, uint32_t idx)
{
    if (idx >= c->n_dialogs)
        return json_null();
    const sl_dialog *d = &c->dialogs[idx];
    json_t *o = json_object();
    put(x, o, "index", jint(dialog_base(x) + idx));
    put(x, o, "call_id", jsip(x, d->call_id));
    put(x, o, "from_tag", jsip(x, d->from_tag));
    put(x, o, "to_tag", jsip(x, d->to_tag));
    put(x, o, "confirmed", json_boolean(d->confirmed));
    put(x, o, "terminated", json_boolean(d->terminated));
    json_t *tr = json_array();
    for (size_t i = 0; i < d->n_transactions; i++)
        push(x, tr, jint(transaction_base(x) + d->transactions[i]));
    put(x, o, "transactions", tr);
    return o;
}

static json_t *host_ref(jctx *x, const sl_calls *c, uint32_t idx)
{
    if (idx >= c->n_hosts)
        return json_null();
    json_t *o = json_object();
    put(x, o, "address", jaddr(&c->hosts[idx].addr));
    put(x, o, "label", jstr(x, c->hosts[idx].label));
    return o;
}

static json_t *u32_array(jctx *x, const uint32_t *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        push(x, a, jint(v[i]));
    return a;
}

static json_t *leg_json(jctx *x, const sl_calls *c, uint32_t idx)
{
    if (idx >= c->n_legs)
        return json_null();
    const sl_leg *l = &c->legs[idx];
    json_t *o = json_object();
    put(x, o, "index", jint(leg_base(x) + idx));
    put(x, o, "hop", jint(l->hop));
    put(x, o, "call_id", jsip(x, l->call_id));
    json_t *hosts = json_array();
    push(x, hosts, host_ref(x, c, l->host[0]));
    push(x, hosts, host_ref(x, c, l->host[1]));
    put(x, o, "hosts", hosts);
    put(x, o, "connections", u32_array(x, l->conns, l->n_conns));
    json_t *frames = json_array();
    for (size_t i = 0; i < l->n_messages; i++)
        push(x, frames, jrecord_frame(l->messages[i]));
    put(x, o, "messages", frames);
    json_t *dialogs = json_array();
    for (size_t i = 0; i < l->n_dialogs; i++)
        push(x, dialogs, dialog_json(x, c, l->dialogs[i]));
    put(x, o, "dialogs", dialogs);
    json_t *tr = json_array();
    for (size_t i = 0; i < l->n_transactions; i++)
        push(x, tr, transaction_json(x, c, l->transactions[i]));
    put(x, o, "transactions", tr);
    return o;
}

static const char *outcome_name(sl_call_outcome o)
{
    switch (o) {
    case SL_CALL_ANSWERED: return "answered";
    case SL_CALL_REJECTED: return "rejected";
    case SL_CALL_CANCELLED: return "cancelled";
    case SL_CALL_NO_ANSWER: return "no_answer";
    case SL_CALL_CHALLENGED: return "challenged";
    default: return "other";
    }
}

json_t *jm_call(jctx *x, const sl_calls *c, size_t idx)
{
    const sl_call *call = &c->calls[idx];
    json_t *o = json_object();
    put(x, o, "id", jint(call->id));
    put(x, o, "caller", jsip(x, call->caller));
    put(x, o, "callee", jsip(x, call->callee));
    put(x, o, "outcome", json_string(outcome_name(call->outcome)));
    put(x, o, "final_status", call->final_status ? json_integer(call->final_status) : json_null());
    put(x, o, "decided_by", jrecord_frame(call->decided_by));
    put(x, o, "initial", jrecord_frame(call->initial));
    put(x, o, "first_time", jtime(call->first_ts));
    put(x, o, "last_time", jtime(call->last_ts));
    put(x, o, "connections", u32_array(x, call->conns, call->n_conns));
    json_t *legs = json_array();
    for (size_t i = 0; i < call->n_legs; i++)
        push(x, legs, leg_json(x, c, call->legs[i]));
    put(x, o, "legs", legs);
    json_t *msgs = json_array();
    for (size_t i = 0; i < call->n_messages; i++)
        push(x, msgs, message_json(x, call->messages[i]));
    put(x, o, "messages", msgs);
    /* past --max-call-messages: counted, not in "messages" */
    put(x, o, "messages_not_kept", jint(call->messages_not_kept));
    return o;
}

json_t *jm_registration(jctx *x, const sl_calls *c, const sl_registration *g)
{
    json_t *o = json_object();
    put(x, o, "aor", jsip(x, g->aor));
    put(x, o, "client", host_ref(x, c, g->host[0]));
    put(x, o, "registrar", host_ref(x, c, g->host[1]));
    put(x, o, "last_status", g->last_status ? json_integer(g->last_status) : json_null());
    put(x, o, "auth_challenged", json_boolean(g->auth_challenged));
    put(x, o, "auth_failed", json_boolean(g->auth_failed));
    put(x, o, "expires", g->expires >= 0 ? json_integer(g->expires) : json_null());
    put(x, o, "ar_sk_offered", json_boolean(g->ar_sk_offered));
    put(x, o, "ar_sk_supported", json_boolean(g->ar_sk_supported));
    json_t *tr = json_array();
    for (size_t i = 0; i < g->n_transactions; i++)
        push(x, tr, transaction_json(x, c, g->transactions[i]));
    put(x, o, "transactions", tr);
    return o;
}

json_t *jm_registrations(jctx *x)
{
    const sl_calls *c = x->r->calls;
    json_t *a = json_array();
    for (size_t i = 0; c && i < c->n_registrations; i++)
        push(x, a, jm_registration(x, c, &c->registrations[i]));
    return a;
}

static int ptr_cmp(const void *a, const void *b)
{
    uintptr_t pa = (uintptr_t) * (const void *const *)a, pb = (uintptr_t) * (const void *const *)b;
    return pa < pb ? -1 : pa > pb;
}

/* The SIP messages of no call, in model order (all of them without
 * correlation), so that no message is left out of the document. */
/* The records the calls hold, sorted for bsearch (*out NULL when none);
 * -1 when out of memory. */
int jm_records_in_calls(const sl_calls *c, const void ***out, size_t *n_out)
{
    size_t n = 0;
    for (size_t i = 0; c && i < c->n_calls; i++)
        n += c->calls[i].n_messages;
    const void **in_calls = n ? malloc(n * sizeof *in_calls) : NULL;
    if (n && !in_calls)
        return -1;
    size_t k = 0;
    for (size_t i = 0; c && i < c->n_calls; i++)
        for (size_t j = 0; j < c->calls[i].n_messages; j++)
            in_calls[k++] = c->calls[i].messages[j];
    if (n)
        qsort(in_calls, n, sizeof *in_calls, ptr_cmp);
    *out = in_calls;
    *n_out = n;
    return 0;
}

bool jm_in_a_call(const void *const *in_calls, size_t n, const void *rec)
{
    return n && bsearch(&rec, in_calls, n, sizeof *in_calls, ptr_cmp);
}

/* A message of no call; a response among them is one whose Call-ID no
 * request carries (as correlate.c lists sl_calls.orphan_responses). */
json_t *jm_loose_message(jctx *x, const sl_sip_record *r)
{
    json_t *msg = message_json(x, r);
    sl_sip_str cm = r->f.cseq_method;
    bool reg = cm.p && cm.n == 8 && memcmp(cm.p, "REGISTER", 8) == 0;
    if (msg && x->r->calls && !r->f.is_request && r->f.call_id.p && !r->f.malformed && !reg)
        put(x, msg, "note", json_string("response without its request: no request of its Call-ID was read from the "
                                        "capture, so it makes no call"));
    return msg;
}

json_t *jm_loose_messages(jctx *x)
{
    const sl_model *m = x->r->model;
    const void **in_calls;
    size_t n;
    if (jm_records_in_calls(x->r->calls, &in_calls, &n) < 0)
        return NULL;
    json_t *a = json_array();
    for (size_t i = 0; i < m->n_sip; i++) {
        const sl_sip_record *r = m->sip[i];
        if (jm_in_a_call(in_calls, n, r))
            continue;
        push(x, a, jm_loose_message(x, r));
    }
    free(in_calls);
    return a;
}

/* ---- diagnoses ---- */

static const char *role_name(sl_role r)
{
    switch (r) {
    case SL_ROLE_CLIENT: return "client";
    case SL_ROLE_SERVER: return "server";
    case SL_ROLE_NETWORK: return "network";
    case SL_ROLE_LOCAL: return "local";
    default: return "remote";
    }
}

static json_t *rejecter_json(jctx *x, const sl_rejecter *rb)
{
    json_t *o = json_object();
    /* A network verdict (known false) still names the destination that
     * did not answer. */
    put(x, o, "ip", rb->addr.family ? jaddr(&rb->addr) : json_null());
    put(x, o, "port", rb->port ? json_integer(rb->port) : json_null());
    put(x, o, "label", jstr(x, rb->label));
    put(x, o, "role", json_string(role_name(rb->role)));
    put(x, o, "local", json_boolean(rb->local));
    if (rb->how)
        put(x, o, "how", json_string(rb->how));
    return o;
}

/* Connections outside the diagnosis' scope that ended badly (diagnose.h). */
json_t *jm_other_traffic(jctx *x)
{
    static const sl_other_traffic none;
    const sl_diagnoses *d = x->r->diagnoses;
    const sl_other_traffic *t = d ? &d->other : &none;
    json_t *o = json_object();
    put(x, o, "judged", json_boolean(d && d->unscoped));
    put(x, o, "no_answer", jint(t->no_answer));
    put(x, o, "refused", jint(t->refused));
    put(x, o, "handshake_incomplete", jint(t->handshake_incomplete));
    put(x, o, "reset", jint(t->reset));
    json_t *ports = json_array();
    for (size_t i = 0; i < t->n_ports; i++)
        push(x, ports, json_integer(t->ports[i]));
    put(x, o, "ports", ports);
    return o;
}

json_t *jm_diagnosis(jctx *x, const sl_diagnosis *d)
{
    const sl_calls *c = x->r->calls;
    json_t *o = json_object();
    put(x, o, "code", jbytes(x, d->code, strnlen(d->code, sizeof d->code)));
    bool call_ok = c && d->call >= 0 && (size_t)d->call < c->n_calls;
    put(x, o, "call", call_ok ? jint(c->calls[d->call].id) : json_null());
    put(x, o, "connection", d->conn_index ? jint(d->conn_index) : json_null());
    put(x, o, "rejected_by", rejecter_json(x, &d->rejected_by));
    put(x, o, "summary", jstr(x, d->summary ? d->summary : ""));
    put(x, o, "causes", jstrings(x, d->causes, d->n_causes));
    put(x, o, "evidence", jframes(x, d->evidence, d->n_evidence));
    put(x, o, "suspect_injected", json_boolean(d->suspect_injected));
    put(x, o, "healthy", json_boolean(d->healthy));
    return o;
}

/* Diagnoses of call index `call` (-1: those of no call; -2: all). */
json_t *jm_diagnoses(jctx *x, int call)
{
    const sl_diagnoses *ds = x->r->diagnoses;
    const sl_calls *c = x->r->calls;
    json_t *a = json_array();
    for (size_t i = 0; ds && i < ds->n; i++) {
        const sl_diagnosis *d = &ds->list[i];
        int of = c && d->call >= 0 && (size_t)d->call < c->n_calls ? d->call : -1;
        if (call == -2 || of == call)
            push(x, a, jm_diagnosis(x, d));
    }
    return a;
}

/* ---- documents ---- */

json_t *jm_generator(jctx *x)
{
    json_t *o = json_object();
    put(x, o, "name", json_string("sipladder"));
    put(x, o, "version", json_string(SIPLADDER_VERSION));
    return o;
}

static json_t *finish(jctx *x, json_t *doc, json_t *capture)
{
    put(x, capture, "strings_replaced", jint(x->replaced));
    if (x->err) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

json_t *sl_json_document(const sl_report *r, const sl_render_opts *o)
{
    jctx x = {.r = r, .o = o};
    json_t *doc = json_object();
    put(&x, doc, "schema", json_string(SL_JSON_SCHEMA_ID));
    put(&x, doc, "generator", jm_generator(&x));
    json_t *capture = capture_json(&x);
    put(&x, doc, "capture", json_incref(capture));
    put(&x, doc, "hosts", jm_hosts(&x));
    put(&x, doc, "connections", jm_connections(&x));
    json_t *calls = json_array();
    for (size_t i = 0; r->calls && i < r->calls->n_calls; i++)
        push(&x, calls, jm_call(&x, r->calls, i));
    put(&x, doc, "calls", calls);
    put(&x, doc, "registrations", jm_registrations(&x));
    put(&x, doc, "messages", jm_loose_messages(&x));
    put(&x, doc, "diagnoses", jm_diagnoses(&x, -2));
    put(&x, doc, "other_traffic", jm_other_traffic(&x));
    doc = finish(&x, doc, capture);
    json_decref(capture);
    return doc;
}

json_t *jm_call_line(jctx *x, size_t i)
{
    json_t *line = json_object();
    put(x, line, "schema", json_string(SL_JSON_SCHEMA_ID));
    put(x, line, "type", json_string("call"));
    put(x, line, "call", jm_call(x, x->r->calls, i));
    put(x, line, "diagnoses", jm_diagnoses(x, (int)i));
    return line;
}

json_t *sl_json_lines(const sl_report *r, const sl_render_opts *o)
{
    jctx x = {.r = r, .o = o};
    json_t *lines = json_array();
    json_t *head = json_object();
    put(&x, head, "schema", json_string(SL_JSON_SCHEMA_ID));
    put(&x, head, "type", json_string("capture"));
    put(&x, head, "generator", jm_generator(&x));
    json_t *capture = capture_json(&x);
    put(&x, head, "capture", json_incref(capture));
    put(&x, head, "hosts", jm_hosts(&x));
    put(&x, head, "connections", jm_connections(&x));
    put(&x, head, "registrations", jm_registrations(&x));
    put(&x, head, "messages", jm_loose_messages(&x));
    put(&x, head, "diagnoses", jm_diagnoses(&x, -1));
    put(&x, head, "other_traffic", jm_other_traffic(&x));
    push(&x, lines, head);
    for (size_t i = 0; r->calls && i < r->calls->n_calls && i <= INT32_MAX; i++)
        push(&x, lines, jm_call_line(&x, i));
    lines = finish(&x, lines, capture);
    json_decref(capture);
    return lines;
}

/* The capture piece, its strings_replaced including `later`. */
json_t *jm_capture_counted(jctx *x, uint64_t later)
{
    uint64_t before = x->replaced;
    json_t *capture = capture_json(x);
    put(x, capture, "strings_replaced", jint(x->replaced - before + later));
    return capture;
}
