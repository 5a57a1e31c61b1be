/* render_summary.c - the `summary` view: the capture, one line per
 * connection or flow (endpoints, start, duration, SYN tries, how it ended,
 * bytes each way, dissector), then what went wrong while reading.  On a
 * terminal or with --width the rows are narrowed to fit (fit_width). */
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "sipladder/exp_log.h"
#include "sipladder/decode.h"
#include "sipladder/diagnose.h"
#include "sipladder/render.h"
#include "sipladder/spool.h"
#include "sipladder/text.h"
#include "sipladder/tls.h"
#include "sipladder/tls_session.h"

#define SHOWN_ANOMALIES 20
#define SHOWN_SKIP_REASONS 3 /* per line; json has them all */

enum color { C_NONE, C_RED, C_GREEN, C_YELLOW, C_DIM };

static const char *color_on(const sl_render_opts *o, enum color c)
{
    static const char *const codes[] = {"", "\033[31m", "\033[32m", "\033[33m", "\033[2m"};
    return o->color ? codes[c] : "";
}
static const char *color_off(const sl_render_opts *o, enum color c) { return o->color && c ? "\033[0m" : ""; }

const char *sl_render_endpoint(const sl_render_opts *o, const sl_addr *a, uint16_t port, char *buf, size_t len)
{
    char ap[SL_ADDR_PORT_STRLEN];
    sl_addr_port_format(a, port, ap, sizeof ap);
    const char *label = sl_report_user_label(o, a, port);
    if (label)
        snprintf(buf, len, "%s (%s)", ap, label);
    else
        snprintf(buf, len, "%s", ap);
    return buf;
}

static const char *side_name(uint8_t side) { return side == SL_SIDE_CLIENT ? "client" : "server"; }

/* How a TCP connection ended, and how alarming that is. */
static enum color tcp_outcome(const sl_conn *c, char *buf, size_t len)
{
    if (c->refused) {
        snprintf(buf, len, "refused: RST from server (f%" PRIu64 ")", c->rst.frame);
        return C_RED;
    }
    if (c->syn_count && !c->synack_count && !c->rst_count) {
        snprintf(buf, len, "no answer to %u SYN%s", c->syn_count, c->syn_count > 1 ? "s" : "");
        return C_RED;
    }
    if (c->rst_count) {
        bool early = c->synack_frame && c->rst.frame < c->synack_frame;
        int n = snprintf(buf, len, "reset by %s (f%" PRIu64 ")%s", side_name(c->rst.side), c->rst.frame,
                         early ? " before SYN-ACK" : "");
        if (c->rst.ttl_differs && n > 0 && (size_t)n < len)
            snprintf(buf + n, len - (size_t)n, ", TTL %u not %u: injected?", c->rst.ttl, c->rst.usual_ttl);
        return C_RED;
    }
    const sl_close_event *fin = NULL;
    if (c->fin[0].frame && (!c->fin[1].frame || c->fin[0].frame < c->fin[1].frame))
        fin = &c->fin[0];
    else if (c->fin[1].frame)
        fin = &c->fin[1];
    if (fin) {
        snprintf(buf, len, "closed by %s (f%" PRIu64 ")", side_name(fin->side), fin->frame);
        return C_GREEN;
    }
    snprintf(buf, len, "open at capture end");
    return C_NONE;
}

static int by_frames_desc(const void *pa, const void *pb)
{
    const sl_skip_reason *a = *(const sl_skip_reason *const *)pa, *b = *(const sl_skip_reason *const *)pb;
    if (a->frames != b->frames)
        return a->frames > b->frames ? -1 : 1;
    return a->first_frame < b->first_frame ? -1 : a->first_frame > b->first_frame;
}

/* Why frames were not followed, most frequent first: a line for what could
 * carry signalling and was not decoded, one for what is left by design. */
static void print_skip_reasons(const sl_capture_info *cap, const sl_render_opts *o)
{
    const sl_skip_reason *order[SL_MAX_SKIP_REASONS];
    for (size_t i = 0; i < cap->n_skip_reasons; i++)
        order[i] = &cap->skip_reasons[i];
    qsort(order, cap->n_skip_reasons, sizeof order[0], by_frames_desc);
    for (int design = 0; design < 2; design++) {
        size_t shown = 0, more = 0, in_class = 0;
        uint64_t more_frames = 0;
        for (size_t i = 0; i < cap->n_skip_reasons; i++) {
            sl_skip why = {order[i]->kind, order[i]->value};
            in_class += sl_skip_by_design(&why) == (design == 1);
        }
        /* One reason more takes no more room than saying it is left out. */
        size_t limit = in_class == SHOWN_SKIP_REASONS + 1 ? in_class : SHOWN_SKIP_REASONS;
        for (size_t i = 0; i < cap->n_skip_reasons; i++) {
            sl_skip why = {order[i]->kind, order[i]->value};
            if (sl_skip_by_design(&why) != (design == 1))
                continue;
            if (shown == limit) {
                more++;
                more_frames += order[i]->frames;
                continue;
            }
            char text[128];
            fprintf(o->out, "%s%" PRIu64 " frame%s with %s, first f%" PRIu64,
                    shown ? "; " : design ? "  not followed by design: " : "  not decoded: ", order[i]->frames,
                    order[i]->frames == 1 ? "" : "s", sl_skip_describe(&why, text, sizeof text),
                    order[i]->first_frame);
            shown++;
        }
        if (more)
            fprintf(o->out, "; %" PRIu64 " more in %zu other reason%s (json: capture.skipped_by_reason)",
                    more_frames, more, more == 1 ? "" : "s");
        if (shown)
            fputc('\n', o->out);
    }
    if (cap->skipped_other)
        fprintf(o->out, "  %" PRIu64 " frames of further reasons, not told apart (more than %d reasons)\n",
                cap->skipped_other, SL_MAX_SKIP_REASONS);
}

static void print_capture(const sl_model *m, const sl_render_opts *o)
{
    const sl_capture_info *cap = &m->capture;
    char t0[48], t1[48];
    for (size_t i = 0; i < cap->n_files; i++) {
        const char *lt = cap->linktypes ? pcap_datalink_val_to_name(cap->linktypes[i]) : NULL;
        fprintf(o->out, "capture: %s (%s)\n", cap->files[i], lt ? lt : "unknown link type");
    }
    for (size_t i = 0; i < m->n_logs; i++) { /* Expressway logs read beside it (exp_log.h) */
        char line[1024];
        sl_xlog_describe(m->logs[i], cap->n_files > 0, line, sizeof line);
        fprintf(o->out, "log: %s\n", line);
    }
    if (cap->frames == 0) {
        fprintf(o->out, "frames: 0\n");
        return;
    }
    fprintf(o->out, "frames: %" PRIu64 ", %s to %s UTC (%.3f s)\n", cap->frames,
            sl_time_format(cap->first_ts, t0, sizeof t0), sl_time_format(cap->last_ts, t1, sizeof t1),
            sl_time_seconds(cap->last_ts - cap->first_ts));
    if (cap->skipped || cap->malformed || cap->cut)
        fprintf(o->out, "not followed: %" PRIu64 " frames not TCP/UDP over IP, %" PRIu64 " malformed, %" PRIu64
                        " cut inside their headers\n",
                cap->skipped, cap->malformed, cap->cut);
    print_skip_reasons(cap, o);
}

/* What TCP did beyond the one-line story, on a second line when anything. */
static void print_tcp_details(const sl_conn *c, const sl_render_opts *o)
{
    char buf[512];
    size_t n = 0;
#define ADD(...)                                                                                               \
    do {                                                                                                       \
        if (n < sizeof buf)                                                                                    \
            n += (size_t)snprintf(buf + n, sizeof buf - n, __VA_ARGS__);                                       \
    } while (0)
    if (c->established_frame)
        ADD(" handshake %.3f ms (SYN f%" PRIu64 ", SYN-ACK f%" PRIu64 ", ACK f%" PRIu64 ");",
            (double)c->handshake_rtt / 1e6, c->syn_frames[0], c->synack_frame, c->established_frame);
    if (c->syn_count > 1) {
        ADD(" SYN frames");
        for (uint32_t i = 0; i < c->syn_count && i < SL_MAX_SYN_FRAMES; i++)
            ADD("%s%" PRIu64, i ? "," : " ", c->syn_frames[i]);
        ADD("%s;", c->syn_count > SL_MAX_SYN_FRAMES ? ",..." : "");
    }
    uint64_t retr = c->retransmissions[0] + c->retransmissions[1];
    uint64_t conflicts = c->conflicts[0] + c->conflicts[1];
    uint64_t gaps = c->gap_bytes[0] + c->gap_bytes[1];
    uint64_t zw = c->zero_windows[0] + c->zero_windows[1];
    uint64_t caps = c->buffer_cap_hits[0] + c->buffer_cap_hits[1];
    if (retr)
        ADD(" retransmissions %" PRIu64 ";", retr);
    if (conflicts)
        ADD(" retransmitted bytes that differ %" PRIu64 ";", conflicts);
    if (gaps)
        ADD(" bytes not captured %" PRIu64 ";", gaps);
    if (zw)
        ADD(" zero windows %" PRIu64 ";", zw);
    if (caps)
        ADD(" buffer cap hit %" PRIu64 ";", caps);
    if (c->anomalies)
        ADD(" anomalies %u;", c->anomalies);
#undef ADD
    if (n)
        fprintf(o->out, "%s     %s%s\n", color_on(o, C_DIM), buf, color_off(o, C_DIM));
}

/* The TLS story of a connection in one line: version, SNI, outcome. */
static void print_tls_line(const sl_conn *c, const sl_render_opts *o)
{
    sl_tls_outcome out;
    if (sl_report_tls_outcome(o, c, &out) < 0)
        return;
    const sl_tls_session *s = c->tls;
    enum color col = out.kind == SL_TLS_OUTCOME_COMPLETED ? C_GREEN
                     : out.kind == SL_TLS_OUTCOME_NONE || out.kind == SL_TLS_OUTCOME_INCOMPLETE ? C_NONE
                                                                                               : C_RED;
    const char *version = s->version ? sl_tls_version_name(s->version) : "?";
    if (version)
        fprintf(o->out, "      tls %s", version);
    else
        fprintf(o->out, "      tls 0x%04X", s->version);
    if (s->sni) {
        fputs(" SNI ", o->out);
        sl_text_fput(o->out, s->sni, strlen(s->sni));
    }
    if (s->cert_request.frame)
        fputs(" mutual", o->out);
    fprintf(o->out, ": %s%s%s\n", color_on(o, col), out.reason, color_off(o, col));
}

/* The table's columns.  client/server hold "addr:port (label)"; addr_* is
 * the longest "addr:port" alone, never cut (a label is, to fit a width). */
typedef struct widths {
    int client, server;
    int addr_client, addr_server;
    int outcome, bytes;
    bool ms;    /* start to the millisecond (narrow) */
    bool split; /* two lines a row: who, then what happened (narrower still) */
} widths;

#define SPLIT_INDENT 4

#define OUTCOME_WIDTH 36
#define BYTES_WIDTH 8

/* Rows written before the end cannot be measured against the rest: an
 * IPv4 address and port fit, longer ones push their row out. */
static const widths STREAMED_WIDTHS = {21, 21, 21, 21, OUTCOME_WIDTH, BYTES_WIDTH, false, false};

/* "10.0.0.1:5060 (Expressway-E)" cut to w bytes inside its label
 * ("10.0.0.1:5060 (Expr...)"), never into the address. */
static void fit_endpoint(char *text, int w, int addr_w)
{
    int n = (int)strlen(text);
    if (n <= w)
        return;
    char *paren = strstr(text, " (");
    if (!paren || (int)(paren - text) > addr_w)
        return;
    int keep = w - 5 - (int)(paren - text); /* " (" + "...)" */
    if (keep < 1) {
        *paren = '\0';
        return;
    }
    /* Not inside a UTF-8 sequence. */
    char *cut = paren + 2 + keep;
    while (cut > paren + 2 && ((unsigned char)*cut & 0xc0) == 0x80)
        cut--;
    memcpy(cut, "...)", 5);
}

static void print_conn(const sl_conn *c, const sl_render_opts *o, const widths *w, bool with_date)
{
    char cli[SL_ADDR_PORT_STRLEN + 64], srv[SL_ADDR_PORT_STRLEN + 64], start[48], outcome[128];
    enum color col = C_NONE;
    bool tcp = c->info.transport == SL_TRANSPORT_TCP;
    sl_render_endpoint(o, &c->info.addr[0], c->info.port[0], cli, sizeof cli);
    sl_render_endpoint(o, &c->info.addr[1], c->info.port[1], srv, sizeof srv);
    fit_endpoint(cli, w->client, w->addr_client);
    fit_endpoint(srv, w->server, w->addr_server);
    sl_time_format(c->first_ts, start, sizeof start);
    if (w->ms)
        start[23] = '\0';
    if (tcp)
        col = tcp_outcome(c, outcome, sizeof outcome);
    else
        snprintf(outcome, sizeof outcome, "-");
    if (w->split)
        fprintf(o->out, "%-4u %-3s %s -> %s\n%*s", c->index, tcp ? "tcp" : "udp", cli, srv, SPLIT_INDENT, "");
    else
        fprintf(o->out, "%-4u %-3s %-*s %-*s ", c->index, tcp ? "tcp" : "udp", w->client, cli, w->server, srv);
    fprintf(o->out, "%s %9.3f %3u  %s%-*s%s %*" PRIu64 " %*" PRIu64 "  %s%s\n", with_date ? start : start + 11,
            sl_time_seconds(c->last_ts - c->first_ts), tcp ? c->syn_count : 0, color_on(o, col), w->outcome, outcome,
            color_off(o, col), w->bytes, c->bytes[0], w->bytes, c->bytes[1], c->dissector ? c->dissector : "-",
            tcp && !c->syn_seen ? " (mid-stream)" : "");
    if (tcp && !o->quiet)
        print_tcp_details(c, o);
    if (c->tls)
        print_tls_line(c, o);
}

/* Caps that were hit, whatever -q says: what was not kept or not followed
 * must never be silent (docs/sipladder.1, CAPS). */
static void print_cap_warnings(const sl_model *m, const sl_render_opts *o)
{
    const char *on = color_on(o, C_YELLOW), *off = color_off(o, C_YELLOW);
    uint64_t cap_hits = m->retired.cap_hits, capped = m->retired.capped;
    for (size_t i = 0; i < m->n_conns; i++) {
        uint64_t h = m->conns[i].buffer_cap_hits[0] + m->conns[i].buffer_cap_hits[1];
        cap_hits += h;
        capped += h != 0;
    }
    if (cap_hits)
        fprintf(o->out, "%swarning:%s TCP buffer cap (--max-tcp-buffer) hit %" PRIu64 " times on %" PRIu64
                        " connections: bytes held behind a hole were given up as a gap\n",
                on, off, cap_hits, capped);
    if (m->frags_dropped)
        fprintf(o->out, "%swarning:%s %" PRIu64 " IP fragments dropped: their datagrams never completed "
                        "(timeout, end of capture or --max-fragments)\n",
                on, off, m->frags_dropped);
    if (m->conns_not_kept)
        fprintf(o->out, "%swarning:%s %" PRIu64 " connections from frame %" PRIu64 " on are not listed (cap %zu): "
                        "together %" PRIu64 "+%" PRIu64 " packets, %" PRIu64 "+%" PRIu64 " bytes, %u SYNs\n",
                on, off, m->conns_not_kept, m->conn_cap_frame, m->max_conns, m->overflow.packets[0],
                m->overflow.packets[1], m->overflow.bytes[0], m->overflow.bytes[1], m->overflow.syn_count);
    if (m->sip_not_kept)
        fprintf(o->out, "%swarning:%s %" PRIu64 " SIP messages from frame %" PRIu64 " on were parsed but not kept "
                        "(cap of %zu MB of SIP records)\n",
                on, off, m->sip_not_kept, m->sip_cap_frame, m->max_sip_bytes >> 20);
}

/* --max-call-messages: each call that hit it, with what it did not keep. */
static uint64_t print_call_caps(const sl_calls *c, const sl_render_opts *o, FILE *out)
{
    const char *on = color_on(o, C_YELLOW), *off = color_off(o, C_YELLOW);
    uint64_t n = 0;
    for (size_t i = 0; c && i < c->n_calls; i++)
        if (c->calls[i].messages_not_kept) {
            fprintf(out, "%swarning:%s call %u: %zu SIP messages after its first %zu were not kept "
                         "(--max-call-messages)\n",
                    on, off, c->calls[i].id, c->calls[i].messages_not_kept, c->calls[i].n_messages);
            n++;
        }
    return n;
}

static void print_problems(const sl_model *m, const sl_render_opts *o)
{
    for (size_t i = 0; i < m->n_warnings; i++)
        fprintf(o->out, "%swarning:%s %s\n", color_on(o, C_YELLOW), color_off(o, C_YELLOW), m->warnings[i]);
    if (m->flows_evicted_cap)
        fprintf(o->out, "%swarning:%s %" PRIu64 " flows closed early: open-flow cap reached at frame %" PRIu64 "\n",
                color_on(o, C_YELLOW), color_off(o, C_YELLOW), m->flows_evicted_cap, m->flow_cap_frame);
    print_cap_warnings(m, o);
    /* Not a problem, but it explains the order of the calls below. */
    if (!o->quiet && m->sip_released)
        fprintf(o->out,
                "note: the SIP messages of calls that ended (%" PRIu64 ") were written as the capture was read "
                "and freed; those calls come first, numbered as they ended (sipladder(1), STREAMING)\n",
                m->sip_released);
    if (o->quiet || !m->anomalies_total)
        return;
    size_t shown = o->verbose ? m->n_anomalies : (m->n_anomalies < SHOWN_ANOMALIES ? m->n_anomalies : SHOWN_ANOMALIES);
    fprintf(o->out, "anomalies: %" PRIu64 "%s\n", m->anomalies_total,
            shown < m->anomalies_total ? " (first shown; -v for all kept)" : "");
    for (size_t i = 0; i < shown; i++) {
        const sl_model_anomaly *an = &m->anomalies[i];
        fprintf(o->out, "  frame %" PRIu64 ": [%s]", an->frame, an->source);
        if (an->conn_index)
            fprintf(o->out, " #%u", an->conn_index);
        fprintf(o->out, " %s\n", an->text);
    }
}

static int max_int(int a, int b) { return a > b ? a : b; }

/* The widest line of a row; with who_only, of the part the labels are in
 * (the first line of a split row). */
static int row_width(const widths *w, bool with_date, int dissector, bool who_only)
{
    int start = with_date ? 26 : 15;
    int what = (w->ms ? start - 3 : start) + 1 + 9 + 1 + 3 + 2 + w->outcome + 1 + w->bytes + 1 + w->bytes + 2 + dissector;
    if (w->split) {
        int who = 4 + 1 + 3 + 1 + w->client + 4 + w->server;
        return who_only ? who : max_int(who, SPLIT_INDENT + what);
    }
    return 4 + 1 + 3 + 1 + w->client + 1 + w->server + 1 + what;
}

/* Rows wider than limit (--width or the terminal's; 0: none) narrowed in
 * this order until they fit: the outcome and byte columns to what they
 * hold, the start to the millisecond, each row on two lines (who, then
 * what happened), then the labels of the endpoints (cut, down to none).
 * The outcome and the addresses are never cut. */
static void fit_width(const sl_model *m, widths *w, bool with_date, int limit)
{
    int outcome = 7, bytes = 3, dissector = 9;
    char buf[128];
    for (size_t i = 0; i < m->n_conns; i++) {
        const sl_conn *c = &m->conns[i];
        if (c->info.transport == SL_TRANSPORT_TCP)
            tcp_outcome(c, buf, sizeof buf);
        outcome = max_int(outcome, c->info.transport == SL_TRANSPORT_TCP ? (int)strlen(buf) : 1);
        for (int d = 0; d < 2; d++)
            bytes = max_int(bytes, snprintf(buf, sizeof buf, "%" PRIu64, c->bytes[d]));
        int dn = (int)strlen(c->dissector ? c->dissector : "-") +
                 (c->info.transport == SL_TRANSPORT_TCP && !c->syn_seen ? 13 : 0);
        dissector = max_int(dissector, dn);
    }
    if (limit <= 0 || row_width(w, with_date, dissector, false) <= limit)
        return;
    w->outcome = outcome < OUTCOME_WIDTH ? outcome : OUTCOME_WIDTH;
    w->bytes = bytes < BYTES_WIDTH ? bytes : BYTES_WIDTH;
    if (row_width(w, with_date, dissector, false) > limit)
        w->ms = true;
    if (row_width(w, with_date, dissector, false) > limit)
        w->split = true;
    /* Labels, the longer endpoint column first, down to the addresses. */
    while (row_width(w, with_date, dissector, true) > limit &&
           (w->client > w->addr_client || w->server > w->addr_server)) {
        int *col = w->client - w->addr_client >= w->server - w->addr_server ? &w->client : &w->server;
        int addr = col == &w->client ? w->addr_client : w->addr_server;
        int over = row_width(w, with_date, dissector, true) - limit;
        /* A label cut to less than 2 bytes is dropped whole. */
        *col = *col - over - addr >= 7 ? *col - over : addr;
    }
}

/* The table's column widths and whether its start times carry the date:
 * measured over the rows (and narrowed to limit), or fixed once rows were
 * written early. */
static bool table_layout(const sl_model *m, const sl_render_opts *o, bool streamed, int limit, widths *w)
{
    if (streamed) {
        *w = STREAMED_WIDTHS;
        return true;
    }
    *w = (widths){6, 6, 6, 6, OUTCOME_WIDTH, BYTES_WIDTH, false, false};
    char buf[SL_ADDR_PORT_STRLEN + 64];
    for (size_t i = 0; i < m->n_conns; i++) {
        const sl_conn *c = &m->conns[i];
        int n0 = (int)strlen(sl_render_endpoint(o, &c->info.addr[0], c->info.port[0], buf, sizeof buf));
        int n1 = (int)strlen(sl_render_endpoint(o, &c->info.addr[1], c->info.port[1], buf, sizeof buf));
        w->client = n0 > w->client ? n0 : w->client;
        w->server = n1 > w->server ? n1 : w->server;
        w->addr_client = max_int(w->addr_client, (int)strlen(sl_addr_port_format(&c->info.addr[0], c->info.port[0], buf, sizeof buf)));
        w->addr_server = max_int(w->addr_server, (int)strlen(sl_addr_port_format(&c->info.addr[1], c->info.port[1], buf, sizeof buf)));
    }
    /* The date only when the capture spans more than one day. */
    char d0[48], d1[48];
    sl_time_format(m->capture.first_ts, d0, sizeof d0);
    sl_time_format(m->capture.last_ts, d1, sizeof d1);
    bool with_date = memcmp(d0, d1, 10) != 0;
    fit_width(m, w, with_date, limit);
    return with_date;
}

int sl_render_summary(const sl_report *r, const sl_render_opts *o)
{
    const sl_model *m = r->model;
    sl_spool *sp = o->spool;
    if (sp && sp->batch == SL_BATCH_CONNS) {
        /* Connections complete early: their rows (widths and dates as the
         * end will print them) and verdicts, spooled. */
        sl_render_opts rows = *o;
        rows.out = sp->part[SL_SPOOL_CONNS];
        for (size_t i = 0; i < m->n_conns; i++)
            print_conn(&m->conns[i], &rows, &STREAMED_WIDTHS, true);
        sp->entries[SL_SPOOL_CONNS] += m->n_conns;
        return sl_render_diagnosis(r, o);
    }
    if (sp && sp->batch) {
        /* Calls that ended early: their warnings and verdicts, spooled. */
        sp->entries[SL_SPOOL_NOTES] += print_call_caps(r->calls, o, sp->part[SL_SPOOL_NOTES]);
        return sl_render_diagnosis(r, o);
    }
    print_capture(m, o);
    bool streamed = sp && sp->entries[SL_SPOOL_CONNS];
    if (streamed || m->n_conns) {
        widths w;
        /* --width, or the terminal's; none in a pipe or file (as tcpdump). */
        int limit = o->ladder ? o->ladder->width : 0;
        bool with_date = table_layout(m, o, streamed, limit, &w);
        int start_w = (with_date ? 26 : 15) - (w.ms ? 3 : 0);
        if (w.split)
            fprintf(o->out, "\n%-4s %-3s client -> server\n%*s", "#", "l4", SPLIT_INDENT, "");
        else
            fprintf(o->out, "\n%-4s %-3s %-*s %-*s ", "#", "l4", w.client, "client", w.server, "server");
        fprintf(o->out, "%-*s %9s %3s  %-*s %*s %*s  %s\n", start_w, "start", "duration", "syn", w.outcome, "outcome",
                w.bytes, "c>s", w.bytes, "s>c", "dissector");
        if (streamed)
            sl_spool_copy(sp, SL_SPOOL_CONNS, o->out);
        for (size_t i = 0; i < m->n_conns; i++)
            print_conn(&m->conns[i], o, &w, with_date);
    }
    fprintf(o->out, "\n");
    print_problems(m, o);
    if (sp)
        sl_spool_copy(sp, SL_SPOOL_NOTES, o->out);
    print_call_caps(r->calls, o, o->out);
    /* Calls and verdicts last (diagnose.h), when there is something to say. */
    bool early = sp && (sp->entries[SL_SPOOL_CALLS] || sp->entries[SL_SPOOL_VERDICTS]);
    if (early || (r->calls && r->calls->n_calls) || (r->diagnoses && r->diagnoses->n))
        sl_render_diagnosis(r, o);
    return 0;
}
