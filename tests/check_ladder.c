/* check_ladder.c - the ladder view (text and Mermaid) on real captures.
 *
 * The calls come from a hand-built fixture (one call holding every message
 * and connection of the capture, or connections as orphans), so the layout
 * is tested apart from correlation.  Assertions are on layout properties:
 * every line the same width, arrows leaving and reaching the right columns,
 * frames and first lines in order, ellipsis when narrow, pure ASCII with
 * --ascii, no ESC without colour, Mermaid syntax basics and escaping. */
#include <check.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipladder/analysis.h"
#include "sipladder/calls.h"
#include "sipladder/diagnose.h"
#include "sipladder/model.h"
#include "sipladder/render.h"
#include "sipladder/sip_record.h"
#include "sipladder/status.h"
#include "check_run.h"
#include "support.h"

#define UDP_CALL "sip/udp-call-invite-100-180-200-ack-bye.pcap"
#define TLS_UNKNOWN_CA "tls/tls12-unknown-ca.pcap"
#define BOX_TEE_DOWN 0x252C
#define ARROW_RIGHT 0x25B6
#define ARROW_LEFT 0x25C0
#define FROM_LEFT 0x251C
#define FROM_RIGHT 0x2524

typedef struct fixture {
    sl_test_run run;
    const sl_model *m;
    sl_calls calls;
    sl_call call;
    const sl_sip_record **msgs;
    uint32_t *conns;
    sl_labels labels;
} fixture;

/* A file under testdata/ (the static buffer serves one call at a time). */
static const char *testdata(const char *name)
{
    static char path[4096], rel[512];
    snprintf(rel, sizeof rel, "testdata/%s", name);
    return sl_test_path(path, sizeof path, rel);
}

static int by_last_frame(const void *a, const void *b)
{
    const sl_sip_record *x = *(const sl_sip_record *const *)a, *y = *(const sl_sip_record *const *)b;
    return x->span.last_frame < y->span.last_frame ? -1 : x->span.last_frame > y->span.last_frame;
}

/* The capture analysed, and a fake correlation: one call with every SIP
 * message and connection, or (as_orphans) every connection on its own. */
static void fixture_load(fixture *f, const char *path, bool as_orphans)
{
    memset(f, 0, sizeof *f);
    sl_test_run_file(&f->run, path, &(sl_test_opts){.truncated_ok = true});
    f->m = f->run.m;
    size_t ns = f->m->n_sip, nc = f->m->n_conns;
    f->msgs = calloc(ns + 1, sizeof *f->msgs);
    f->conns = calloc(nc + 1, sizeof *f->conns);
    ck_assert(f->msgs && f->conns);
    for (size_t i = 0; i < ns; i++)
        f->msgs[i] = f->m->sip[i];
    qsort(f->msgs, ns, sizeof *f->msgs, by_last_frame);
    for (size_t i = 0; i < nc; i++)
        f->conns[i] = (uint32_t)(i + 1);
    f->call = (sl_call){.id = 1, .messages = f->msgs, .n_messages = ns, .outcome = SL_CALL_ANSWERED};
    if (ns) {
        f->call.initial = f->msgs[0];
        f->call.caller = f->msgs[0]->f.from_uri;
        f->call.callee = f->msgs[0]->f.to_uri;
    }
    if (as_orphans) {
        f->calls.orphan_conns = f->conns;
        f->calls.n_orphan_conns = nc;
    } else {
        f->call.conns = f->conns;
        f->call.n_conns = nc;
        f->calls.calls = &f->call;
        f->calls.n_calls = 1;
    }
}

static void fixture_free(fixture *f)
{
    sl_test_run_free(&f->run);
    free(f->msgs);
    free(f->conns);
    sl_labels_clear(&f->labels);
}

/* Render into a string (owned). */
static char *render(const fixture *f, const sl_diagnoses *d, const char *format, const sl_ladder_opts *lo, bool color,
                    int verbose, int *rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(out);
    sl_report r = {.model = f->m, .calls = &f->calls, .diagnoses = d};
    sl_render_opts o = {.out = out, .color = color, .verbose = verbose, .labels = &f->labels, .format = format,
                        .ladder = lo};
    *rc = sl_render_ladder(&r, &o);
    fclose(out);
    return buf;
}

/* Code points of one line (up to the newline) into cp; returns the count. */
static size_t decode_line(const char *s, uint32_t *cp, size_t max)
{
    size_t n = 0;
    const unsigned char *u = (const unsigned char *)s;
    while (*u && *u != '\n') {
        uint32_t c = *u;
        int extra = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
        c &= extra == 3 ? 0x07u : extra == 2 ? 0x0fu : extra == 1 ? 0x1fu : 0xffu;
        u++;
        for (int k = 0; k < extra && (*u & 0xc0) == 0x80; k++, u++)
            c = (c << 6) | (*u & 0x3fu);
        if (n < max)
            cp[n] = c;
        n++;
    }
    return n;
}

/* Every non-empty line has `width` code points; returns the line count. */
/* Every line at most width cells and never ending in a space; the rules
 * exactly width. */
static size_t assert_width(const char *text, size_t width)
{
    static uint32_t cp[8192];
    size_t lines = 0, full = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        ck_assert_msg(nl != NULL, "last line without a newline");
        if (nl != p) {
            size_t n = decode_line(p, cp, 8192);
            ck_assert_msg(n <= width, "line %zu is %zu wide, over %zu: %.*s", lines + 1, n, width, (int)(nl - p), p);
            ck_assert_msg(cp[n - 1] != ' ', "line %zu ends in a space: %.*s", lines + 1, (int)(nl - p), p);
            full += n == width;
        }
        lines++;
        p = nl + 1;
    }
    ck_assert_msg(full > 0, "no line is %zu wide", width);
    return lines;
}

/* Cells of the rule under the header (the layout's width). */
static size_t rule_width(const char *text)
{
    static uint32_t cp[8192];
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        if (!nl)
            break;
        size_t n = decode_line(p, cp, 8192);
        if (n > 0 && (cp[0] == 0x2500 || cp[0] == '-'))
            return n;
        p = nl + 1;
    }
    ck_abort_msg("no rule line");
    return 0;
}

typedef struct row {
    uint64_t frame;
    int from, to; /* columns, from the arrow glyphs */
    char text[512];
} row;

/* Column positions from the rule under the header; rows until the closing
 * rule, with their frame (cells 28..33 when the time has no date). */
static size_t parse_rows(const char *text, int *colx, size_t *ncol, row *rows, size_t max)
{
    static uint32_t cp[8192];
    const char *p = text;
    size_t nrows = 0;
    bool in_rows = false;
    *ncol = 0;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = decode_line(p, cp, 8192);
        if (!in_rows) {
            for (size_t i = 0; i < n; i++)
                if (cp[i] == BOX_TEE_DOWN || (cp[i] == '+' && cp[0] == '-'))
                    colx[(*ncol)++] = (int)i;
            in_rows = *ncol > 0;
        } else if (cp[0] == 0x2500 || cp[0] == '-') {
            break;
        } else if (nrows < max) {
            row *r = &rows[nrows++];
            char num[16] = {0};
            for (int i = 0; i < 5; i++)
                num[i] = (char)cp[28 + i];
            r->frame = strtoull(num, NULL, 10);
            r->from = r->to = -1;
            for (size_t c = 0; c < *ncol; c++) {
                int x = colx[c];
                if (cp[x] == FROM_LEFT || cp[x] == '+' || cp[x] == FROM_RIGHT)
                    r->from = (int)c;
                if ((size_t)x >= 1 && (cp[x - 1] == ARROW_RIGHT || cp[x - 1] == '>'))
                    r->to = (int)c;
                if ((size_t)x + 1 < n && (cp[x + 1] == ARROW_LEFT || cp[x + 1] == '<'))
                    r->to = (int)c;
            }
            snprintf(r->text, sizeof r->text, "%.*s", (int)(nl - p), p);
        }
        p = nl + 1;
    }
    return nrows;
}

START_TEST(udp_call_rows_and_arrows)
{
    fixture f;
    fixture_load(&f, testdata(UDP_CALL), false);
    sl_ladder_opts lo = {.width = 120};
    int rc;
    char *out = render(&f, NULL, NULL, &lo, false, 0, &rc);
    ck_assert_int_eq(rc, 0);
    assert_width(out, 120);
    int colx[16];
    size_t ncol;
    row rows[32];
    size_t n = parse_rows(out, colx, &ncol, rows, 32);
    ck_assert_uint_eq(ncol, 2);
    ck_assert_uint_eq(n, 7);
    /* tshark: 1 INVITE, 2 100, 3 180, 4 200, 5 ACK, 6 BYE, 7 200; 10.251.1.1 sends 1, 5, 6. */
    static const char *first[] = {"INVITE sip:bob@10.251.1.2 SIP/2.0", "SIP/2.0 100 Trying", "SIP/2.0 180 Ringing",
                                  "SIP/2.0 200 OK", "ACK sip:bob@10.251.1.2 SIP/2.0", "BYE sip:bob@10.251.1.2 SIP/2.0",
                                  "SIP/2.0 200 OK"};
    static const int from[] = {0, 1, 1, 1, 0, 0, 1};
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(rows[i].frame, i + 1);
        ck_assert_int_eq(rows[i].from, from[i]);
        ck_assert_int_eq(rows[i].to, 1 - from[i]);
        ck_assert_msg(strstr(rows[i].text, first[i]), "row %zu: %s", i, rows[i].text);
    }
    ck_assert_ptr_nonnull(strstr(out, "10.251.1.1"));
    ck_assert_ptr_null(strchr(out, '\033'));
    free(out);
    fixture_free(&f);
}
END_TEST

START_TEST(narrow_width_cuts_with_ellipsis)
{
    fixture f;
    fixture_load(&f, testdata(UDP_CALL), false);
    sl_ladder_opts lo = {.width = 60};
    int rc;
    char *out = render(&f, NULL, NULL, &lo, false, 0, &rc);
    ck_assert_int_eq(rc, 0);
    assert_width(out, 60);
    int colx[16];
    size_t ncol;
    row rows[32];
    ck_assert_uint_eq(parse_rows(out, colx, &ncol, rows, 32), 7);
    ck_assert_ptr_nonnull(strstr(rows[0].text, "INVITE"));
    ck_assert_ptr_nonnull(strstr(rows[0].text, "\xe2\x80\xa6"));
    ck_assert_ptr_null(strstr(rows[0].text, "SIP/2.0"));
    ck_assert_int_eq(rows[0].from, 0);
    ck_assert_int_eq(rows[0].to, 1);
    /* A response that does not fit loses "SIP/2.0 " before anything is cut. */
    ck_assert_msg(strstr(rows[1].text, "\xe2\x97\x80 100 Try"), "%s", rows[1].text);
    ck_assert_ptr_null(strstr(rows[1].text, "SIP/2.0"));
    free(out);
    /* Narrower than the columns can be: the minimum width, still even, with
     * room for the longest first word whole (INVITE: 6 cells, + 3). */
    lo.width = 10;
    out = render(&f, NULL, NULL, &lo, false, 0, &rc);
    ck_assert_int_eq(rc, 0);
    assert_width(out, 35 + 2 * (6 + 3));
    ck_assert_uint_eq(parse_rows(out, colx, &ncol, rows, 32), 7);
    ck_assert_msg(strstr(rows[0].text, "INVITE"), "%s", rows[0].text);
    ck_assert_msg(strstr(rows[1].text, "100"), "%s", rows[1].text);
    free(out);
    /* No --width and not a terminal: 120. */
    lo.width = 0;
    out = render(&f, NULL, NULL, &lo, false, 0, &rc);
    assert_width(out, 120);
    free(out);
    fixture_free(&f);
}
END_TEST

START_TEST(ascii_and_color)
{
    fixture f;
    fixture_load(&f, testdata(UDP_CALL), false);
    sl_ladder_opts lo = {.width = 70, .ascii = true};
    int rc;
    char *out = render(&f, NULL, NULL, &lo, false, 2, &rc);
    ck_assert_int_eq(rc, 0);
    for (const unsigned char *p = (const unsigned char *)out; *p; p++)
        ck_assert_msg(*p < 0x80 && *p != 0x1b, "byte 0x%02x in --ascii output", *p);
    assert_width(out, 70);
    int colx[16];
    size_t ncol;
    row rows[64];
    size_t n = parse_rows(out, colx, &ncol, rows, 64), events = 0;
    for (size_t i = 0; i < n; i++)
        events += rows[i].frame != 0;
    ck_assert_uint_eq(events, 7);
    ck_assert_uint_gt(n, 7 * 4); /* -v: at least From, To, Call-ID, CSeq under each */
    ck_assert_ptr_nonnull(strstr(out, "..."));
    ck_assert_ptr_nonnull(strstr(out, "CSeq: 1 INVITE"));
    free(out);
    out = render(&f, NULL, NULL, &lo, true, 0, &rc);
    ck_assert_ptr_nonnull(strstr(out, "\033[32m")); /* a 2xx in green */
    ck_assert_ptr_nonnull(strstr(out, "\033[36m")); /* a request in cyan */
    ck_assert_ptr_nonnull(strstr(out, "\033[0m"));
    free(out);
    fixture_free(&f);
}
END_TEST

/* A failed TLS leg with no SIP: an orphan connection's ladder. */
START_TEST(tls_unknown_ca_orphan)
{
    fixture f;
    fixture_load(&f, testdata(TLS_UNKNOWN_CA), true);
    sl_ladder_opts lo = {.width = 120};
    int rc;
    char *out = render(&f, NULL, NULL, &lo, false, 0, &rc);
    ck_assert_int_eq(rc, 0);
    assert_width(out, 120);
    int colx[16];
    size_t ncol;
    row rows[32];
    size_t n = parse_rows(out, colx, &ncol, rows, 32);
    /* Loopback: one host, so one column per port. */
    ck_assert_uint_eq(ncol, 2);
    ck_assert_ptr_nonnull(strstr(out, "127.0.0.1:33314"));
    ck_assert_ptr_nonnull(strstr(out, "127.0.0.1:5061"));
    static const struct { uint64_t frame; int from; const char *text; } want[] = {
        {1, 0, "SYN"}, {2, 1, "SYN-ACK"}, {4, 0, "TLS ClientHello"}, {6, 1, "TLS ServerHello TLS 1.2"},
        {6, 1, "TLS Certificate CN="}, {8, 0, "TLS Alert fatal unknown_ca"}, {9, 0, "FIN"}, {10, 1, "FIN"},
    };
    ck_assert_uint_eq(n, sizeof want / sizeof *want);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(rows[i].frame, want[i].frame);
        ck_assert_int_eq(rows[i].from, want[i].from);
        ck_assert_int_eq(rows[i].to, 1 - want[i].from);
        ck_assert_msg(strstr(rows[i].text, want[i].text), "row %zu: %s", i, rows[i].text);
    }
    free(out);
    fixture_free(&f);
}
END_TEST

/* Labels are user text: escaped, wide characters replaced, never a broken line. */
START_TEST(hostile_labels_keep_layout)
{
    fixture f;
    fixture_load(&f, testdata(UDP_CALL), false);
    ck_assert_int_eq(sl_labels_add(&f.labels, "10.251.1.1=\x1b[31m\xe4\xb8\xad\xe6\x96\x87 caf\xc3\xa9 x\xcc\x81"), 0);
    sl_ladder_opts lo = {.width = 90};
    int rc;
    char *out = render(&f, NULL, NULL, &lo, false, 0, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_ptr_null(strchr(out, '\033'));
    ck_assert_ptr_nonnull(strstr(out, "\\x1b[31m?? caf\xc3\xa9 x?"));
    ck_assert_ptr_null(strstr(out, "\xe4\xb8\xad"));
    assert_width(out, 90);
    free(out);
    fixture_free(&f);
}
END_TEST

START_TEST(call_selection)
{
    fixture f;
    fixture_load(&f, testdata(UDP_CALL), false);
    sl_ladder_opts lo = {.width = 100, .call = "1"};
    int rc;
    char *out = render(&f, NULL, NULL, &lo, false, 0, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_ptr_nonnull(strstr(out, "Call 1: "));
    free(out);
    char id[256];
    snprintf(id, sizeof id, "%.*s", (int)f.msgs[0]->f.call_id.n, f.msgs[0]->f.call_id.p);
    lo.call = id;
    out = render(&f, NULL, NULL, &lo, false, 0, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_ptr_nonnull(strstr(out, "Call 1: "));
    free(out);
    lo.call = "2";
    out = render(&f, NULL, NULL, &lo, false, 0, &rc);
    ck_assert_int_eq(rc, -SL_EUSAGE);
    ck_assert_str_eq(out, "");
    free(out);
    lo.call = NULL;
    out = render(&f, NULL, "dot", &lo, false, 0, &rc);
    ck_assert_int_eq(rc, -SL_EUSAGE);
    free(out);
    fixture_free(&f);
}
END_TEST

static void fake_diagnosis(sl_diagnoses *d, sl_diagnosis *one, uint64_t *frames, const sl_model *m)
{
    *one = (sl_diagnosis){.call = 0, .summary = "the server; said \"no\" #1", .evidence = frames, .n_evidence = 2};
    snprintf(one->code, sizeof one->code, "sip.response.486");
    one->rejected_by = (sl_rejecter){.known = true, .addr = m->sip[0]->dst, .port = 5060, .role = SL_ROLE_SERVER};
    d->list = one;
    d->n = 1;
}

START_TEST(verdict_under_the_ladder)
{
    fixture f;
    fixture_load(&f, testdata(UDP_CALL), false);
    sl_diagnoses d;
    sl_diagnosis one;
    uint64_t frames[] = {4, 5};
    fake_diagnosis(&d, &one, frames, f.m);
    sl_ladder_opts lo = {.width = 60};
    int rc;
    char *out = render(&f, &d, NULL, &lo, false, 0, &rc);
    ck_assert_int_eq(rc, 0);
    assert_width(out, 60);
    /* Wrapped over several lines, all of it there. */
    ck_assert_ptr_nonnull(strstr(out, "Verdict: sip.response.486: the server; said \"no\""));
    ck_assert_ptr_nonnull(strstr(out, "rejected by 10.251.1.2:5060 (server);"));
    ck_assert_ptr_nonnull(strstr(out, "frames 4, 5"));
    free(out);
    /* A verdict on one of the call's connections (no call index) is shown
     * too; one on a connection not drawn is not. */
    sl_diagnosis two[3] = {one, one, one};
    uint64_t other_frames[] = {999};
    two[0].call = two[1].call = two[2].call = -1;
    two[0].conn_index = 1;
    two[1].conn_index = 99;
    snprintf(two[1].code, sizeof two[1].code, "tcp.elsewhere");
    two[2].conn_index = 1; /* drawn, but its proof is in no row here */
    two[2].evidence = other_frames;
    two[2].n_evidence = 1;
    snprintf(two[2].code, sizeof two[2].code, "sip.register.ok");
    d.list = two;
    d.n = 3;
    out = render(&f, &d, NULL, &lo, false, 0, &rc);
    ck_assert_ptr_nonnull(strstr(out, "Verdict: sip.response.486"));
    ck_assert_ptr_null(strstr(out, "tcp.elsewhere"));
    ck_assert_ptr_null(strstr(out, "sip.register.ok"));
    free(out);
    d.n = 0;
    out = render(&f, &d, NULL, &lo, false, 0, &rc);
    ck_assert_ptr_nonnull(strstr(out, "Verdict: none"));
    free(out);
    fixture_free(&f);
}
END_TEST

static bool matches(const char *re, const char *s)
{
    regex_t r;
    ck_assert_int_eq(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
    bool ok = regexec(&r, s, 0, NULL, 0) == 0;
    regfree(&r);
    return ok;
}

/* Syntax basics of every Mermaid line: fenced ```mermaid blocks, a blank
 * line between two, each a sequenceDiagram with its title; returns the
 * number of arrows. */
static size_t assert_mermaid(char *out)
{
    static const char *text = "([^;#:\"<>%`]|#[a-z0-9]+;)*";
    char re_arrow[256], re_note[256], re_part[256], re_title[256];
    snprintf(re_arrow, sizeof re_arrow, "^    (P[0-9]+)->>(P[0-9]+): %s$", text);
    snprintf(re_note, sizeof re_note, "^    Note over P[0-9]+(,P[0-9]+)?: %s$", text);
    snprintf(re_part, sizeof re_part, "^    participant P[0-9]+ as %s$", text);
    snprintf(re_title, sizeof re_title, "^    title ((Call|Connection|Registration) [0-9]+|Capture)#58; %s$", text);
    size_t arrows = 0, declared = 0, blocks = 0;
    enum { OUTSIDE, FENCE, TITLE, BODY } at = OUTSIDE;
    size_t len = strlen(out);
    ck_assert_msg(len > 0 && out[len - 1] == '\n', "output does not end in a newline");
    for (char *line = out, *next; line < out + len; line = next) {
        next = strchr(line, '\n');
        *next++ = '\0';
        if (at == OUTSIDE) {
            if (blocks > 0) {
                ck_assert_msg(line[0] == '\0', "want a blank line between blocks: %s", line);
                line = next;
                next = strchr(line, '\n');
                ck_assert_ptr_nonnull(next);
                *next++ = '\0';
            }
            ck_assert_str_eq(line, "```mermaid");
            at = FENCE;
            declared = 0;
            continue;
        }
        if (at == FENCE) {
            ck_assert_str_eq(line, "sequenceDiagram");
            at = TITLE;
            continue;
        }
        if (at == TITLE) {
            ck_assert_msg(matches(re_title, line), "%s", line);
            at = BODY;
            continue;
        }
        if (strcmp(line, "```") == 0) {
            at = OUTSIDE;
            blocks++;
        } else if (strncmp(line, "    participant ", 16) == 0) {
            ck_assert_msg(matches(re_part, line), "%s", line);
            ck_assert_int_eq(atoi(line + 17), (int)++declared);
        } else if (strncmp(line, "    Note", 8) == 0) {
            ck_assert_msg(matches(re_note, line), "%s", line);
        } else {
            ck_assert_msg(matches(re_arrow, line), "%s", line);
            int a = atoi(line + 5), b = atoi(strchr(line, '>') + 3);
            ck_assert_msg(a >= 1 && (size_t)a <= declared && b >= 1 && (size_t)b <= declared, "%s", line);
            arrows++;
        }
    }
    ck_assert_msg(at == OUTSIDE && blocks > 0, "a block not closed, or none");
    return arrows;
}

START_TEST(mermaid_udp_call)
{
    fixture f;
    fixture_load(&f, testdata(UDP_CALL), false);
    ck_assert_int_eq(sl_labels_add(&f.labels, "10.251.1.2=B2BUA; \"edge\" #1: <x>"), 0);
    sl_diagnoses d;
    sl_diagnosis one;
    uint64_t frames[] = {4, 5};
    fake_diagnosis(&d, &one, frames, f.m);
    int rc;
    char *out = render(&f, &d, "mermaid", NULL, false, 0, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_ptr_nonnull(strstr(out, "    participant P1 as 10.251.1.1\n"));
    ck_assert_ptr_nonnull(strstr(out, "    participant P2 as B2BUA#59; #quot;edge#quot; #35;1#58; #lt;x#gt; (10.251.1.2)\n"));
    ck_assert_ptr_nonnull(strstr(out, "    P1->>P2: INVITE sip#58;bob@10.251.1.2 SIP/2.0 (frame 1)\n"));
    ck_assert_ptr_nonnull(strstr(out, "    P2->>P1: SIP/2.0 200 OK (frame 7)\n"));
    ck_assert_ptr_nonnull(strstr(out, "    Note over P1,P2: Verdict#58; sip.response.486#58; the server#59; said #quot;no#quot; #35;1"));
    ck_assert_uint_eq(assert_mermaid(out), 7);
    free(out);
    fixture_free(&f);
}
END_TEST

START_TEST(mermaid_tls_notes)
{
    fixture f;
    fixture_load(&f, testdata(TLS_UNKNOWN_CA), true);
    int rc;
    char *out = render(&f, NULL, "mermaid", NULL, false, 0, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_ptr_nonnull(strstr(out, "    Note over P1,P2: TLS Alert fatal unknown_ca from 127.0.0.1#58;33314 (frame 8)\n"));
    ck_assert_uint_eq(assert_mermaid(out), 0);
    free(out);
    fixture_free(&f);
}
END_TEST

/* Invariants on every SIP and TLS capture of testdata and some of the corpus,
 * at several widths, as text (UTF-8 and ASCII) and Mermaid. */
START_TEST(invariants_on_captures)
{
    static const char *files[] = {
        "sip/tcp-crlf-keepalives.pcap", "sip/tcp-invite-20k-mss536.pcap", "sip/tcp-invite-split-3-segments.pcap",
        "sip/tcp-register-401-200-mra-ar-sk.pcap", "sip/tcp-two-messages-one-segment.pcap", UDP_CALL,
        "sip/udp-invite-fragmented-ipv4.pcap", "sip/udp-invite-fragmented-ipv6.pcap", "tls/tls12-bytewise.pcap",
        "tls/tls12-client-rejected.pcap", "tls/tls12-expired.pcap", "tls/tls12-mutual.pcap",
        "tls/tls12-name-mismatch.pcap", TLS_UNKNOWN_CA, "tls/tls13.pcap", "tcp/refused-closed-port.pcap",
        "tcp/syn-dropped-iptables.pcap", "tcp/reset-mid-stream.pcap",
    };
    static const int widths[] = {51, 80, 133, 200};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        for (int orphan = 0; orphan < 2; orphan++) {
            fixture f;
            fixture_load(&f, testdata(files[i]), orphan);
            for (size_t w = 0; w < sizeof widths / sizeof *widths; w++) {
                sl_ladder_opts lo = {.width = widths[w], .ascii = w & 1};
                int rc;
                char *out = render(&f, NULL, NULL, &lo, false, (int)(w & 2), &rc);
                ck_assert_int_eq(rc, 0);
                int colx[64];
                size_t ncol;
                static row rows[4096];
                size_t n = parse_rows(out, colx, &ncol, rows, 4096);
                /* The width asked for, unless the columns need more: 8
                 * cells each, or a first word (method, SYN-ACK) + 3. */
                size_t need = rule_width(out);
                if (35 + 15 * ncol <= (size_t)widths[w])
                    ck_assert_uint_eq(need, (size_t)widths[w]);
                ck_assert_msg(need >= (size_t)widths[w] && need <= (35 + 15 * ncol > (size_t)widths[w] ? 35 + 15 * ncol : (size_t)widths[w]),
                              "%s: %zu wide at %d", files[i], need, widths[w]);
                ck_assert_msg(assert_width(out, need) > 0, "%s", files[i]);
                for (size_t k = 1; k < n && !orphan && !(w & 2); k++)
                    ck_assert_msg(rows[k].frame >= rows[k - 1].frame, "%s row %zu", files[i], k);
                for (size_t k = 0; k < n && !(w & 2); k++)
                    ck_assert_msg(rows[k].from >= 0 && rows[k].to >= 0 && rows[k].from != rows[k].to, "%s: %s",
                                  files[i], rows[k].text);
                free(out);
            }
            int rc;
            char *out = render(&f, NULL, "mermaid", NULL, false, 0, &rc);
            ck_assert_int_eq(rc, 0);
            assert_mermaid(out);
            free(out);
            fixture_free(&f);
        }
    }
}
END_TEST

/* Without correlation (no calls in the report): the whole capture, one ladder. */
START_TEST(without_calls_whole_capture)
{
    fixture f;
    fixture_load(&f, testdata(UDP_CALL), false);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    sl_report r = {.model = f.m};
    sl_ladder_opts lo = {.width = 100};
    sl_render_opts o = {.out = out, .ladder = &lo};
    ck_assert_int_eq(sl_render_ladder(&r, &o), 0);
    fclose(out);
    ck_assert_ptr_nonnull(strstr(buf, "Capture: 7 SIP messages"));
    int colx[16];
    size_t ncol;
    row rows[32];
    ck_assert_uint_eq(parse_rows(buf, colx, &ncol, rows, 32), 7);
    free(buf);
    lo.call = "1";
    buf = NULL;
    out = open_memstream(&buf, &len);
    o.out = out;
    ck_assert_int_eq(sl_render_ladder(&r, &o), -SL_EUSAGE);
    fclose(out);
    free(buf);
    fixture_free(&f);
}
END_TEST

/* With the real correlation and diagnosis: a registration timeline, and a
 * failed TLS leg with its verdict. */
START_TEST(real_calls_registration_and_verdict)
{
    static const struct { const char *file; uint64_t frames[12]; const char *title, *verdict; } cases[] = {
        {"sip/tcp-register-401-200-mra-ar-sk.pcap", {1, 2, 4, 6, 8, 9, 11, 12}, "Registration 1: sip:mra01@10.251.1.2",
         NULL},
        {TLS_UNKNOWN_CA, {1, 2, 4, 6, 6, 8, 9, 10}, "Connection 1: 127.0.0.1:33314 -> 127.0.0.1:5061",
         "Verdict: tls.alert.unknown_ca: "},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        fixture f;
        fixture_load(&f, testdata(cases[c].file), false);
        sl_calls *calls = sl_calls_build(f.m, NULL, 0);
        ck_assert_ptr_nonnull(calls);
        sl_diagnoses d = {0};
        ck_assert_int_eq(sl_diagnose(f.m, calls, NULL, &d), 0);
        char *buf = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&buf, &len);
        sl_report r = {.model = f.m, .calls = calls, .diagnoses = &d};
        sl_ladder_opts lo = {.width = 100};
        sl_render_opts o = {.out = out, .ladder = &lo};
        ck_assert_int_eq(sl_render_ladder(&r, &o), 0);
        fclose(out);
        assert_width(buf, 100);
        ck_assert_msg(strncmp(buf, cases[c].title, strlen(cases[c].title)) == 0, "%s", buf);
        int colx[16];
        size_t ncol;
        row rows[32];
        size_t n = parse_rows(buf, colx, &ncol, rows, 32);
        ck_assert_uint_eq(n, 8);
        for (size_t i = 0; i < n; i++)
            ck_assert_uint_eq(rows[i].frame, cases[c].frames[i]);
        if (cases[c].verdict)
            ck_assert_ptr_nonnull(strstr(buf, cases[c].verdict));
        free(buf);
        sl_diagnoses_clear(&d);
        sl_calls_free(calls);
        fixture_free(&f);
    }
}
END_TEST

static Suite *ladder_suite(void)
{
    Suite *s = suite_create("ladder");
    TCase *t = tcase_create("text");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, udp_call_rows_and_arrows);
    tcase_add_test(t, narrow_width_cuts_with_ellipsis);
    tcase_add_test(t, ascii_and_color);
    tcase_add_test(t, tls_unknown_ca_orphan);
    tcase_add_test(t, hostile_labels_keep_layout);
    tcase_add_test(t, call_selection);
    tcase_add_test(t, verdict_under_the_ladder);
    tcase_add_test(t, without_calls_whole_capture);
    tcase_add_test(t, invariants_on_captures);
    tcase_add_test(t, real_calls_registration_and_verdict);
    suite_add_tcase(s, t);
    TCase *m = tcase_create("mermaid");
    tcase_add_test(m, mermaid_udp_call);
    tcase_add_test(m, mermaid_tls_notes);
    suite_add_tcase(s, m);
    return s;
}

int main(void)
{
    return sl_check_run(ladder_suite());
}
