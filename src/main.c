/* main.c - the command line: parse options, run the analysis once, render
 * the chosen view.  Exit codes are documented in --help and sipladder(1). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sipladder/analysis.h"
#include "sipladder/call_stream.h"
#include "sipladder/calls.h"
#include "sipladder/compare.h"
#include "sipladder/diagnose.h"
#include "sipladder/exp_bundle.h"
#include "sipladder/exp_log.h"
#include "sipladder/labels.h"
#include "sipladder/model.h"
#include "sipladder/render.h"
#include "sipladder/render_html.h"
#include "sipladder/render_json.h"
#include "sipladder/spool.h"
#include "sipladder/status.h"
#include "sipladder/tls_session.h"
#include "sipladder/x509_info.h"
#include "sipladder/registry.h"
#include "sipladder/save_pcap.h"
#include "sipladder/select.h"

#include "cli_table.h"

#ifndef SIPLADDER_VERSION
#define SIPLADDER_VERSION "unknown"
#endif

enum exit_code {
    EXIT_OK = 0,
    EXIT_INTERNAL = 1,  /* out of memory or a bug */
    EXIT_USAGE = 2,     /* bad command line */
    EXIT_UNREADABLE = 3,/* a capture cannot be opened or is not a capture */
    EXIT_TRUNCATED = 4, /* a capture is cut short or damaged: what came before was analysed */
    EXIT_OUTPUT = 5,    /* the output cannot be written */
    EXIT_NO_MATCH = 6,  /* --call, --host, --verdict, --from/--to selected nothing (stderr says what exists) */
};

#define MAX_DECODE 64

typedef struct cli {
    const struct command *command;
    sl_cmd cmd;
    const char **files;
    size_t n_files;
    const char **logs; /* --log: Expressway diagnostic logs (exp_log.h) */
    size_t n_logs;
    const char *output;
    struct { uint16_t port; const char *proto; } decode[MAX_DECODE];
    size_t n_decode;
    sl_labels labels;
    int color; /* -1 auto, 0 never, 1 always */
    bool quiet;
    int verbose;
    const char *export_certs;
    bool all_traffic; /* --all-traffic */
    sl_ladder_opts ladder; /* --call, --ports, --ascii, --width */
    const char *format; /* --format, interpreted by the view */
    unsigned threads;   /* --threads; 0: two when the machine has two CPUs or more */
    sl_config cfg;
    sl_select *select;  /* --call, --host, --verdict, --from, --to; NULL: none given */
    const char *filter_text; /* -f, or the words after -r FILE's command (tcpdump's expression) */
    char *filter_joined;     /* those words joined, owned */
    const char *save_to;     /* save's -w */
    sl_save *save;           /* save: the flows the selection showed, learned as it shows them */
    const char *side_specs[MAX_DECODE]; /* compare: --side NAME=FILE (compare_cli.c) */
    size_t n_side_specs;
    const char *offset;      /* compare: --offset SECONDS */
} cli;

typedef int (*render_fn)(const sl_report *r, const sl_render_opts *o);

/* A view, and what it needs beyond the model; names and options are in
 * cli_table.c. */
static const struct command {
    render_fn render;
    bool needs_calls;     /* correlation (calls.h) */
    bool needs_diagnoses; /* diagnosis (diagnose.h) */
} commands[SL_CMD_COUNT] = {
    [SL_CMD_SUMMARY] = {sl_render_summary, true, true},
    [SL_CMD_MESSAGES] = {sl_render_messages, false, false},
    [SL_CMD_TLS] = {sl_render_tls, false, false},
    [SL_CMD_CALLS] = {sl_render_calls, true, false},
    [SL_CMD_DIAGNOSE] = {sl_render_diagnosis, true, true},
    [SL_CMD_LADDER] = {sl_render_ladder, true, true},
    [SL_CMD_JSON] = {sl_render_json, true, true},
    [SL_CMD_HTML] = {sl_render_html, true, true},
    [SL_CMD_SAVE] = {NULL, true, false}, /* no view: the selection's frames, save_pcap.h */
};

static void usage(FILE *out)
{
    fputs("Usage: sipladder [COMMAND] [OPTIONS] CAPTURE...\n"
          "Find which side rejected a SIP call, and why, in pcap/pcapng captures.\n"
          "\n"
          "Commands:\n"
          "  summary              one line per TCP connection and UDP flow (default)\n"
          "  messages             every SIP message, one line each (like tshark -Y sip)\n"
          "  tls                  every TLS handshake: steps, certificates, alerts, outcome\n"
          "  calls                the calls found (legs by hop, outcome), registrations, hosts\n"
          "  diagnose             each call's outcome and every verdict: who rejected, why, frames\n"
          "  ladder               each call as a ladder: a column per host, a row per SIP message,\n"
          "                       TCP SYN/RST/FIN and TLS step, then its verdict (--format mermaid)\n"
          "  json                 everything as one JSON document (docs/sipladder.schema.json);\n"
          "                       --format jsonl: one line for the capture, then one per call\n"
          "  html                 one offline page (-o report.html): the calls, each call's\n"
          "                       ladder, verdicts, messages, certificates, for a browser\n"
          "  save                 every frame of the selection (SIP, its TCP/TLS connections whole,\n"
          "                       DNS, RTP/RTCP from its SDP) into the pcap -w names\n"
          "  compare INSIDE OUTSIDE  a firewall's two interfaces captured at once: each\n"
          "                       connection paired through NAT, the clock offset, and what\n"
          "                       the firewall dropped, injected, rewrote or timed out\n"
          "                       (--format json: a compare document; ladder: the firewall\n"
          "                       drawn as a column between the two sides)\n"
          "The command is the first word that is not an option; a capture file named\n"
          "like a command is given as ./NAME.\n"
          "\n"
          "Options:\n"
          "  -r, --read FILE      read FILE (repeatable; positional files too). Several\n"
          "                       files are one capture merged by timestamp. '-' is standard\n"
          "                       input (tcpdump -w - | sipladder summary -r -); with no file\n"
          "                       nothing is read from it. gzip, zstd and lz4 compressed\n"
          "                       captures are read as they are (known by their bytes)\n"
          "      --log FILE       an Expressway diagnostic log (plain or gzip'd; repeatable,\n"
          "                       one per cluster peer): its SIP joins the capture's\n"
          "                       connections (the SIP of TLS legs), its events are evidence;\n"
          "                       alone, with no capture, the log is read by itself\n"
          "  -o, --output FILE    write to FILE instead of standard output\n"
          "      --decode PORT=PROTO  dissect TCP/UDP PORT as PROTO (like Decode As)\n"
          "      --name ADDR[:PORT]=LABEL  call an address (and port) LABEL\n"
          "      --color[=WHEN], --colour[=WHEN]  auto (default), always or never;\n"
          "                       auto colours a terminal unless NO_COLOR is set or TERM=dumb\n"
          "      --expect-name NAME  the identity TLS peers must present (SAN/CN check)\n"
          "      --ca-file FILE, --ca-path DIR  verify certificate chains with OpenSSL\n"
          "                       at the packet time, and say why one fails\n"
          "                       (these three: summary, tls, diagnose, ladder, json, html)\n"
          "      --export-certs DIR  write every certificate seen as PEM into DIR\n"
          "      --all-traffic    diagnose every connection, not only SIP/TLS signalling\n"
          "                       (by default the rest is one 'other traffic' line;\n"
          "                       summary, diagnose, ladder, json, html)\n"
          "      --format FORMAT  output form of the view: text; ladder: text or mermaid;\n"
          "                       json: json or jsonl; compare: text, json or ladder\n"
          , out);
    fputs("Selection (every command; several of a kind: any of them; of kinds: all):\n"
          "      --call CALL      a call's number, Call-ID, or a number/URI of its caller,\n"
          "                       callee, From, To, Request-URI or P-Asserted-Identity;\n"
          "                       wildcards as the shell's: --call '*4281*'\n"
          "      --host HOST      ADDR, ADDR:PORT, [IPv6]:PORT or a host label (--name, Via zone)\n"
          "      --verdict CODE   calls and connections with that verdict (tls.*, sip.response.4*)\n"
          "      --from TIME, --to TIME  a window: 2026-11-21T06:00:25 (UTC), 06:00:25, or\n"
          "                       +5s / +250ms / +2m from the capture's first frame\n"
          "  -f, --filter EXPR    a BPF capture filter (pcap-filter(7)) frames must pass; frames\n"
          "                       keep their numbers.  With -r, the words after the options\n"
          "                       are the filter, as in tcpdump -r FILE EXPR\n"
          "  -w, --write FILE     save: the pcap to write ('-': standard output)\n"
          "      --side NAME=FILE  compare, ladder, json: a side's name and capture (repeatable:\n"
          "                       a side's files are one capture); the first name is the first\n"
          "                       side; ladder --side draws the firewall between two sides,\n"
          "                       json --side writes compare's document\n"
          "      --offset SECONDS  compare, ladder/json --side: the second capture's clock minus\n"
          "                       the first's, instead of the estimate from the paired packets\n"
          "      --ports          ladder: one column per host:port, not per host\n"
          "      --ascii          ladder: ASCII lines instead of UTF-8 box drawing\n"
          "      --width N        ladder, summary: N columns wide (default: the terminal's;\n"
          "                       not a terminal: the ladder 120, the summary unlimited)\n"
          "      --threads N      threads at most (1 or 2; default 2 when there are 2 CPUs):\n"
          "                       json writes its calls and connections out on a\n"
          "                       second thread while the first reads and builds\n"
          "  -q, --quiet          no progress, only the table\n"
          "  -v, --verbose        more detail (every anomaly kept)\n"
          "      --max-flows N    open flows at once (default 200000)\n"
          "      --max-tcp-buffer BYTES  buffered bytes per TCP direction (default 1048576)\n"
          "      --max-sip-message BYTES  largest SIP message (default 65536)\n"
          "      --max-tls-handshake BYTES  largest TLS handshake message (default 65536)\n"
          "      --max-fragments N  IP fragments held in flight (default 10000)\n"
          "      --max-certs N    certificates kept from one chain (default 10)\n"
          "      --max-call-messages N  SIP messages kept per call (default 10000)\n"
          "      --max-connections N  connections listed one by one (default 200000)\n"
          "      --max-sip-memory MB  SIP messages held at once (default 96); from an\n"
          "                       eighth of it on, calls that ended are written early\n"
          "  -h, --help           this help\n"
          "  -V, --version        version\n"
          "An option the command does not take is an error; numbers out of their\n"
          "range too.\n"
          "\n"
          "Exit status:\n"
          "  0  success\n"
          "  1  internal error (out of memory)\n"
          "  2  usage error\n"
          "  3  a capture cannot be read (missing, empty, not pcap/pcapng)\n"
          "  4  a capture is cut short or damaged; everything before the damage was analysed\n"
          "  5  the output cannot be written\n"
          "  6  the selection matched nothing (what exists is on standard error)\n",
          out);
}

__attribute__((format(printf, 1, 2))) static int fail_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("sipladder: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\nTry 'sipladder --help'.\n", stderr);
    va_end(ap);
    return EXIT_USAGE;
}

/* "tls, sip, dns or ws": the dissectors --decode can name. */
static void protocol_names(char *buf, size_t len)
{
    const sl_registry *reg = sl_registry_builtin();
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < reg->n && used < len; i++) {
        const char *sep = i == 0 ? "" : i + 1 == reg->n ? " or " : ", ";
        int w = snprintf(buf + used, len - used, "%s%s", sep, reg->list[i]->name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

/* PORT=PROTO: a port from 1 to 65535 and a dissector of the registry,
 * each error naming what is accepted. */
static int parse_decode(cli *c, const char *spec)
{
    const char *eq = strchr(spec, '=');
    char protos[128];
    protocol_names(protos, sizeof protos);
    size_t digits = strspn(spec, "0123456789");
    if (!eq || digits == 0 || spec + digits != eq)
        return fail_usage("--decode wants PORT=PROTO (PROTO: %s), e.g. 7003=tls, not '%s'", protos, spec);
    unsigned long port = digits > 6 ? 1000000 : strtoul(spec, NULL, 10);
    if (port < 1 || port > 65535)
        return fail_usage("--decode: port %.*s is out of range (1-65535) in '%s'", (int)digits, spec, spec);
    if (!sl_registry_find(sl_registry_builtin(), eq + 1))
        return fail_usage("--decode: no protocol '%s' (PROTO: %s) in '%s'", eq + 1, protos, spec);
    if (c->n_decode == MAX_DECODE)
        return fail_usage("too many --decode options (at most 64): '%s'", spec);
    c->decode[c->n_decode].port = (uint16_t)port;
    c->decode[c->n_decode].proto = eq + 1;
    c->n_decode++;
    return 0;
}

static int add_file(cli *c, const char *name)
{
    const char **f = realloc(c->files, (c->n_files + 1) * sizeof *f);
    if (!f)
        return EXIT_INTERNAL;
    c->files = f;
    c->files[c->n_files++] = name;
    return 0;
}

/* A numeric option's value within its range in cli_table.c. */
static int parse_number(int key, const char *arg, uint64_t *out)
{
    char msg[256];
    if (sl_cli_parse_number(sl_cli_option_by_key(key), arg, out, msg, sizeof msg) < 0)
        return fail_usage("%s", msg);
    return 0;
}

static int parse_limit(int key, const char *arg, size_t *field)
{
    uint64_t v;
    if (parse_number(key, arg, &v) != 0)
        return EXIT_USAGE;
    *field = (size_t)v;
    return 0;
}

/* --call, --host, --verdict, --from, --to, -f, -w (select.h). */
static int parse_select_option(cli *c, int opt, const char *arg)
{
    if (opt == 'f') {
        c->filter_text = arg;
        return 0;
    }
    if (opt == 'w') {
        c->save_to = arg;
        return 0;
    }
    if (!c->select && !(c->select = sl_select_new(&c->labels)))
        return EXIT_INTERNAL;
    char err[512];
    int rc;
    switch (opt) {
    case SL_OPT_CALL: rc = sl_select_add_call(c->select, arg, err, sizeof err); break;
    case SL_OPT_HOST: rc = sl_select_add_host(c->select, arg, err, sizeof err); break;
    case SL_OPT_VERDICT: rc = sl_select_add_verdict(c->select, arg, err, sizeof err); break;
    case SL_OPT_FROM: rc = sl_select_set_from(c->select, arg, err, sizeof err); break;
    case SL_OPT_TO: rc = sl_select_set_to(c->select, arg, err, sizeof err); break;
    default: return fail_usage("%s", "unknown option");
    }
    if (rc == -SL_EUSAGE)
        return fail_usage("--%s %s", sl_cli_option_by_key(opt)->name, err);
    return rc < 0 ? EXIT_INTERNAL : 0;
}

/* tcpdump -r FILE EXPR: with -r, the words after the options (and after
 * the command, when the first names one) are a capture filter, joined by
 * spaces.  Without -r they are captures; n is how many words remain. */
static int take_trailing_filter(cli *c, char **words, size_t *n)
{
    if (c->n_files == 0 || *n == 0)
        return 0;
    size_t first = sl_cli_command_find(words[0]) >= 0 ? 1 : 0;
    if (first == *n)
        return 0;
    if (c->filter_text)
        return fail_usage("a capture filter twice: -f '%s' and '%s...' after -r (one or the other)", c->filter_text,
                          words[first]);
    size_t len = 1;
    for (size_t i = first; i < *n; i++)
        len += strlen(words[i]) + 1;
    if (!(c->filter_joined = calloc(len, 1)))
        return EXIT_INTERNAL;
    size_t at = 0;
    for (size_t i = first; i < *n; i++) {
        if (i > first)
            c->filter_joined[at++] = ' ';
        size_t w = strlen(words[i]);
        memcpy(c->filter_joined + at, words[i], w);
        at += w;
    }
    c->filter_text = c->filter_joined;
    *n = first;
    return 0;
}

/* The filter compiles (for Ethernet; each file's link type at the run),
 * and save has what it needs. */
static int check_selection(cli *c)
{
    char err[512];
    if (c->filter_text && !(c->cfg.capture_filter = sl_capture_filter_new(c->filter_text, err, sizeof err))) {
        if (!err[0])
            return EXIT_INTERNAL;
        /* "-r a.pcap b.pcap": the second capture was taken for a filter. */
        char word[512];
        size_t wl = strcspn(c->filter_text, " ");
        snprintf(word, sizeof word, "%.*s", (int)(wl < sizeof word - 1 ? wl : sizeof word - 1), c->filter_text);
        if (c->filter_joined && access(word, F_OK) == 0)
            return fail_usage("'%s' after -r is read as a capture filter (as tcpdump -r FILE EXPR); give each "
                              "capture its own -r, or name them all without -r", word);
        const char *near = c->filter_joined ? sl_cli_suggest(c->filter_text) : NULL;
        if (near && near[0] != '-')
            return fail_usage("%s (with -r, the words after the options are a capture filter; did you mean the "
                              "command '%s' first?)", err, near);
        return fail_usage("%s", err);
    }
    if (c->cmd != SL_CMD_SAVE)
        return 0;
    if (!c->save_to)
        return fail_usage("%s", "save: -w FILE names the pcap to write");
    if (!sl_select_active(c->select) && !c->filter_text)
        return fail_usage("%s", "save: what to save? --call, --host, --verdict, --from/--to or -f");
    for (size_t i = 0; i < c->n_files; i++)
        if (strcmp(c->files[i], "-") == 0)
            return fail_usage("%s", "save reads its captures twice, not standard input: write it to a file first");
    /* It learns the flows as the selection shows them: streamed batches too. */
    if (!(c->save = sl_save_new()))
        return EXIT_INTERNAL;
    if (c->select)
        sl_select_on_selected(c->select, sl_save_learn, c->save);
    return 0;
}

static int parse_option(cli *c, int opt, const char *arg)
{
    sl_limits *l = &c->cfg.limits;
    switch (opt) {
    case 'r': return add_file(c, arg);
    case SL_OPT_LOG: return sl_xlog_add_name(&c->logs, &c->n_logs, arg) < 0 ? EXIT_INTERNAL : 0;
    case 'o': c->output = arg; return 0;
    case SL_OPT_SIDE:
        if (c->n_side_specs == MAX_DECODE)
            return fail_usage("too many --side options (at most %d): '%s'", MAX_DECODE, arg);
        c->side_specs[c->n_side_specs++] = arg;
        return 0;
    case SL_OPT_OFFSET: c->offset = arg; return 0;
    case 'q': c->quiet = true; return 0;
    case 'v': c->verbose++; return 0;
    case SL_OPT_DECODE: return parse_decode(c, arg);
    case SL_OPT_NAME:
        if (sl_labels_add(&c->labels, arg) < 0)
            return fail_usage("--name wants ADDR[:PORT]=LABEL (IPv6 as [ADDR]:PORT), not '%s'", arg);
        return 0;
    case SL_OPT_COLOR:
        if (!arg || strcmp(arg, "always") == 0)
            c->color = 1;
        else if (strcmp(arg, "never") == 0)
            c->color = 0;
        else if (strcmp(arg, "auto") == 0)
            c->color = -1;
        else
            return fail_usage("--color wants auto, always or never, not '%s'", arg);
        return 0;
    case SL_OPT_EXPECT_NAME: c->cfg.tls.expect_name = arg; return 0;
    case SL_OPT_ALL_TRAFFIC: c->all_traffic = true; return 0;
    case SL_OPT_CA_FILE: c->cfg.tls.ca_file = arg; return 0;
    case SL_OPT_CA_PATH: c->cfg.tls.ca_path = arg; return 0;
    case SL_OPT_EXPORT_CERTS: c->export_certs = arg; return 0;
    case SL_OPT_PORTS: c->ladder.ports = true; return 0;
    case SL_OPT_ASCII: c->ladder.ascii = true; return 0;
    case SL_OPT_WIDTH: {
        uint64_t w;
        if (parse_number(opt, arg, &w) != 0)
            return EXIT_USAGE;
        c->ladder.width = (int)w;
        return 0;
    }
    case SL_OPT_FORMAT: c->format = arg; return 0;
    case SL_OPT_THREADS: {
        uint64_t t;
        if (parse_number(opt, arg, &t) != 0)
            return EXIT_USAGE;
        c->threads = (unsigned)t;
        return 0;
    }
    case SL_OPT_MAX_FLOWS: return parse_limit(opt, arg, &l->max_flows);
    case SL_OPT_MAX_TCP: return parse_limit(opt, arg, &l->max_tcp_buffer);
    case SL_OPT_MAX_SIP: return parse_limit(opt, arg, &l->max_sip_message);
    case SL_OPT_MAX_TLS: return parse_limit(opt, arg, &l->max_tls_handshake);
    case SL_OPT_MAX_FRAG: return parse_limit(opt, arg, &l->max_ip_fragments);
    case SL_OPT_MAX_CERTS: return parse_limit(opt, arg, &l->max_certs_per_chain);
    case SL_OPT_MAX_CALL_MSGS: return parse_limit(opt, arg, &l->max_messages_per_call);
    case SL_OPT_MAX_CONNS: return parse_limit(opt, arg, &l->max_conns_kept);
    case SL_OPT_MAX_SIP_MEMORY: /* in MB, range in cli_table.c */
        if (parse_limit(opt, arg, &l->max_sip_memory) != 0)
            return EXIT_USAGE;
        l->max_sip_memory <<= 20;
        return 0;
    default: return parse_select_option(c, opt, arg);
    }
}

/* getopt's tables made from cli_table.c's: one option list for both. */
#define MAX_OPTIONS 128
typedef struct getopt_tables {
    struct option longopts[MAX_OPTIONS + 1];
    char shortopts[2 + 3 * MAX_OPTIONS];
} getopt_tables;

static int make_getopt_tables(getopt_tables *t)
{
    if (sl_cli_n_options > MAX_OPTIONS)
        return -1;
    size_t s = 0;
    t->shortopts[s++] = ':'; /* a missing value is ':', not '?' */
    for (size_t i = 0; i < sl_cli_n_options; i++) {
        const sl_cli_option *o = &sl_cli_options[i];
        t->longopts[i] = (struct option){o->name, o->has_arg, NULL, o->key};
        if (o->key < 256) {
            t->shortopts[s++] = (char)o->key;
            if (o->has_arg != no_argument)
                t->shortopts[s++] = ':';
            if (o->has_arg == optional_argument)
                t->shortopts[s++] = ':';
        }
    }
    t->longopts[sl_cli_n_options] = (struct option){NULL, 0, NULL, 0};
    t->shortopts[s] = '\0';
    return 0;
}

/* The options given, each once, as spelt ("--ports", "-r"): checked
 * against the command once it is known (it may come after them). */
typedef struct options_seen {
    int keys[MAX_OPTIONS];
    char spelt[MAX_OPTIONS][40];
    const char *spelt_ptr[MAX_OPTIONS];
    size_t n;
} options_seen;

static void note_option(options_seen *seen, int key, int longindex)
{
    for (size_t i = 0; i < seen->n; i++)
        if (seen->keys[i] == key)
            return;
    if (seen->n == MAX_OPTIONS)
        return;
    if (longindex >= 0)
        snprintf(seen->spelt[seen->n], sizeof seen->spelt[0], "--%s", sl_cli_options[longindex].name);
    else
        snprintf(seen->spelt[seen->n], sizeof seen->spelt[0], "-%c", key);
    seen->spelt_ptr[seen->n] = seen->spelt[seen->n];
    seen->keys[seen->n++] = key;
}

/* The words after the options: the command, then the captures; then
 * whether the command takes every option given, and its --format. */
static int parse_positionals(cli *c, char **words, size_t n, const options_seen *seen)
{
    char msg[512];
    size_t first_file;
    int trc = take_trailing_filter(c, words, &n);
    if (trc != 0)
        return trc;
    if (sl_cli_pick_command(words, n, &c->cmd, &first_file, msg, sizeof msg) < 0)
        return fail_usage("%s", msg);
    c->command = &commands[c->cmd];
    if (sl_cli_check_options(c->cmd, seen->keys, seen->spelt_ptr, seen->n, msg, sizeof msg) < 0)
        return fail_usage("%s", msg);
    if (c->format && sl_cli_check_format(c->cmd, c->format, msg, sizeof msg) < 0)
        return fail_usage("%s", msg);
    for (size_t i = first_file; i < n; i++)
        if (add_file(c, words[i]) != 0)
            return EXIT_INTERNAL;
    return 0;
}

/* An option getopt does not know: an abbreviation of several ("--ver")
 * lists them; else the nearest one when close. */
static int unknown_option(const char *arg)
{
    bool is_long = strncmp(arg, "--", 2) == 0;
    size_t len = is_long ? strcspn(arg + 2, "=") : 0;
    char several[512] = "";
    size_t n = 0, used = 0;
    for (size_t i = 0; is_long && len > 0 && i < sl_cli_n_options; i++) {
        const char *name = sl_cli_options[i].name;
        if (strncmp(name, arg + 2, len) != 0 || used >= sizeof several)
            continue;
        int w = snprintf(several + used, sizeof several - used, "%s--%s", n++ ? ", " : "", name);
        used += w > 0 ? (size_t)w : 0;
    }
    if (n > 1)
        return fail_usage("option '%s' is ambiguous: %s", arg, several);
    const char *near = is_long ? sl_cli_suggest_option(arg) : NULL;
    if (near)
        return fail_usage("unknown option '%s' (did you mean '--%s'?)", arg, near);
    return fail_usage("unknown option '%s'", arg);
}

/* 0 to go on, or an exit code (-1 for a clean exit after --help/--version). */
static int parse_cli(cli *c, int argc, char **argv)
{
    getopt_tables g;
    if (make_getopt_tables(&g) < 0)
        return EXIT_INTERNAL;
    options_seen seen = {.n = 0};
    int opt, longindex = -1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, g.shortopts, g.longopts, &longindex)) != -1) {
        int rc;
        switch (opt) {
        case 'h': usage(stdout); return -1;
        case 'V': printf("sipladder %s\n", SIPLADDER_VERSION); return -1;
        case '?': return unknown_option(argv[optind - 1]);
        case ':': return fail_usage("option '%s' needs a value", argv[optind - 1]);
        default:
            note_option(&seen, opt, longindex);
            if ((rc = parse_option(c, opt, optarg)) != 0)
                return rc;
        }
        longindex = -1;
    }
    int rc = parse_positionals(c, argv + optind, (size_t)(argc - optind), &seen);
    if (rc != 0)
        return rc;
    if (c->n_files == 0 && c->n_side_specs == 0 && c->n_logs == 0)
        return fail_usage("%s", "no capture file given");
    return check_selection(c);
}

/* --export-certs: where, and how many written so far. */
typedef struct cert_export {
    const char *dir;
    size_t written;
    bool failed;
} cert_export;

/* Every certificate of every chain of m's connections as DIR/<sha256>.pem
 * (duplicates once); run on connections retired early, then at the end. */
static int export_certs(void *ctx, const sl_model *m)
{
    cert_export *e = ctx;
    const char *dir = e->dir;
    if (e->failed)
        return -1;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "sipladder: cannot create %s: %s\n", dir, strerror(errno));
        e->failed = true;
        return -1;
    }
    for (size_t i = 0; i < m->n_conns; i++) {
        const sl_tls_session *s = m->conns[i].tls;
        for (int d = 0; s && d < 2; d++) {
            for (size_t k = 0; k < s->chain[d].n; k++) {
                char path[4096];
                if (sl_cert_export_pem(s->chain[d].certs[k], dir, path, sizeof path) < 0) {
                    fprintf(stderr, "sipladder: cannot write a certificate into %s: %s\n", dir, strerror(errno));
                    e->failed = true;
                    return -1;
                }
                e->written++;
            }
        }
    }
    return 0;
}

static void show_progress(void *ctx, uint64_t done, uint64_t total)
{
    (void)ctx;
    if (total)
        fprintf(stderr, "\rsipladder: %3u%% (%llu of %llu MB)", (unsigned)(done * 100 / total),
                (unsigned long long)(done >> 20), (unsigned long long)(total >> 20));
}

/* The json view writes JSON Lines with --format jsonl. */
static render_fn pick_render(const cli *c)
{
    if (c->command->render == sl_render_json && c->format && strcmp(c->format, "jsonl") == 0)
        return sl_render_jsonl;
    return c->command->render;
}

/* cppcheck-suppress constParameter ; fileno() takes a FILE *, not a const one */
static bool want_color(const cli *c, FILE *out)
{
    if (c->color >= 0)
        return c->color == 1;
    /* auto: a terminal that draws colour; not NO_COLOR (no-color.org: set and
     * not empty), not TERM=dumb (as ls and git). */
    const char *no = getenv("NO_COLOR");
    const char *term = getenv("TERM");
    if ((no && *no) || (term && strcmp(term, "dumb") == 0))
        return false;
    return out == stdout && isatty(STDOUT_FILENO); /* out NULL: a file named by -o */
}

/* What the run must build: the view's needs, and the selection's (calls
 * to select from; verdicts for --verdict). */
static bool wants_calls(const cli *c) { return c->command->needs_calls || sl_select_active(c->select); }
static bool wants_diagnoses(const cli *c)
{
    return c->command->needs_diagnoses || sl_select_needs_diagnoses(c->select);
}

/* A view that writes nothing: save's batches only feed the selection. */
static int render_nothing(const sl_report *r, const sl_render_opts *o)
{
    (void)r;
    (void)o;
    return 0;
}

/* Calls written as they end (call_stream.h) unless no temporary file can
 * be made: then --max-sip-memory drops what comes after it, reported. */
static sl_call_stream *stream_new(cli *c, sl_render_opts *ro, const sl_diagnose_options *dopt, cert_export *ce)
{
    sl_call_stream_cfg sc = {
        .labels = &c->labels,
        .max_messages_per_call = c->cfg.limits.max_messages_per_call,
        .diagnose = wants_diagnoses(c) ? dopt : NULL,
        .needs_calls = wants_calls(c),
        .view = c->command->render ? pick_render(c) : render_nothing,
        .select = c->select,
        .opts = ro,
        .on_conns = c->export_certs ? export_certs : NULL,
        .on_conns_ctx = ce,
    };
    return sl_call_stream_new(&sc);
}

/* The end's report through the selection (select.h) to the view, or to
 * save's second pass; a selection that matched nothing says what exists
 * (exit 6).  Returns the view's result; *exit_code set for save and for
 * nothing matched. */
static int render_selected(const cli *c, const sl_report *report, const sl_render_opts *ro, int *exit_code)
{
    sl_select_view selected;
    int rc = sl_select_apply(c->select, report, &selected);
    if (rc == 0 && sl_select_report_empty(c->select, stderr)) {
        *exit_code = EXIT_NO_MATCH;
    } else if (rc == 0 && c->cmd == SL_CMD_SAVE) {
        sl_save_result res;
        char err[1024];
        int src = sl_save_write(c->save, c->files, c->n_files, c->cfg.capture_filter, !sl_select_active(c->select),
                                c->save_to, &res, err, sizeof err);
        if (src == -SL_ENOMEM) {
            rc = src;
        } else if (src == -SL_EIO) {
            fprintf(stderr, "sipladder: %s\n", err);
            *exit_code = EXIT_OUTPUT;
        } else {
            for (size_t i = 0; i < res.n_files; i++)
                fprintf(stderr, "sipladder: %llu of %llu frames written to %s%s\n",
                        (unsigned long long)res.frames_in[i], (unsigned long long)res.frames_read, res.files[i],
                        res.n_files > 1 ? " (libpcap writes one link type per file)" : "");
            if (res.n_files == 0)
                fprintf(stderr, "sipladder: no frame to write: %s not written\n", c->save_to);
            if (src == -SL_ETRUNC)
                *exit_code = EXIT_TRUNCATED;
        }
    } else if (rc == 0) {
        sl_report shown = selected.report;
        /* What the view did not ask for and the selection needed. */
        if (!c->command->needs_diagnoses)
            shown.diagnoses = NULL;
        if (!c->command->needs_calls)
            shown.calls = NULL;
        rc = pick_render(c)(&shown, ro);
    }
    sl_select_view_clear(&selected);
    return rc;
}

/* compare reads two captures its own way (compare.h). */
static int run_compare(const cli *c)
{
    sl_compare_cli a = {.files = c->files, .n_files = c->n_files, .side_specs = c->side_specs,
                        .n_side_specs = c->n_side_specs, .offset = c->offset, .format = c->format,
                        .output = c->output};
    return sl_compare_main(&a);
}

/* ladder or json with --side NAME=FILE --side NAME=FILE: compare's ladder
 * (the firewall as a column between the two sides, compare_ladder.c) or
 * its {"compare": ...} document. */
static int run_firewall_view(const cli *c)
{
    const char *view = c->cmd == SL_CMD_LADDER ? "ladder" : "json";
    const char *plain = c->cmd == SL_CMD_LADDER ? "text" : "json";
    if (!c->n_side_specs)
        return fail_usage("%s: --offset is the clock offset between two sides: name them with --side", view);
    if (c->format && strcmp(c->format, plain) != 0)
        return fail_usage("%s --side: --format %s only (the firewall comparison), not '%s'", view, plain, c->format);
    if (c->n_files)
        return fail_usage("%s: name the captures either with --side NAME=FILE or as a capture, not both", view);
    sl_compare_cli a = {.side_specs = c->side_specs, .n_side_specs = c->n_side_specs, .offset = c->offset,
                        .format = c->cmd == SL_CMD_LADDER ? "ladder" : "json", .output = c->output};
    return sl_compare_main(&a);
}

static int run(cli *c)
{
    if (c->cmd == SL_CMD_COMPARE)
        return run_compare(c);
    if ((c->cmd == SL_CMD_LADDER || c->cmd == SL_CMD_JSON) && (c->n_side_specs || c->offset))
        return run_firewall_view(c);
    /* a log given as a capture (exp_log.h): read as with --log */
    if (c->cmd != SL_CMD_SAVE && sl_xlog_take_logs(c->files, &c->n_files, &c->logs, &c->n_logs) < 0)
        return EXIT_INTERNAL;
    if (c->n_files == 0 && c->n_logs == 0) {
        fputs("sipladder: no capture and no Expressway log to read\n", stderr);
        return EXIT_UNREADABLE;
    }
    /* The ladder's width is fixed before the run: calls drawn early go to a
     * spool, not to the terminal whose width they take. */
    if (!c->ladder.width && !c->output)
        c->ladder.width = sl_render_term_width(stdout);
    sl_render_opts ro = {.out = stdout, .color = want_color(c, c->output ? NULL : stdout), .quiet = c->quiet,
                         .verbose = c->verbose, .labels = &c->labels, .tls = &c->cfg.tls};
    ro.format = c->format;
    ro.ladder = &c->ladder;
    ro.threads = c->threads ? c->threads : (sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 2 : 1);
    sl_diagnose_options dopt;
    sl_diagnose_options_default(&dopt);
    dopt.expect_name = c->cfg.tls.expect_name;
    dopt.all_traffic = c->all_traffic;
    dopt.tls = &c->cfg.tls;
    cert_export certs = {.dir = c->export_certs};
    /* logs are merged at the end: every call is kept until then */
    sl_call_stream *stream = c->n_logs ? NULL : stream_new(c, &ro, &dopt, &certs);
    if (!stream && !c->n_logs)
        fprintf(stderr,
                "sipladder: warning: cannot make temporary files in %s (TMPDIR): %s; calls are kept in memory "
                "until the end, up to --max-sip-memory\n",
                sl_spool_dir(), strerror(errno));
    sl_analysis_hooks hooks = {.ctx = stream,
                               .sip_pressure = stream ? sl_call_stream_pressure : NULL,
                               .conns_complete = stream ? sl_call_stream_conns : NULL};
    bool progress = !c->quiet && isatty(STDERR_FILENO);
    if (progress)
        hooks.progress = show_progress;
    sl_analysis *a = sl_analysis_new(&c->cfg, NULL, &hooks);
    if (!a) {
        fputs("sipladder: out of memory\n", stderr);
        sl_call_stream_free(stream);
        return EXIT_INTERNAL;
    }
    sl_xlog **logs = NULL;
    int exit_code = EXIT_OK;
    for (size_t i = 0; i < c->n_decode; i++) {
        if (sl_analysis_decode_as(a, c->decode[i].port, c->decode[i].proto) < 0) {
            exit_code = fail_usage("--decode: no dissector named '%s'", c->decode[i].proto);
            goto done;
        }
    }
    int rc = c->n_files ? sl_analysis_run(a, c->files, c->n_files) : 0;
    if (c->n_logs && rc != -SL_EIO && rc != -SL_EUSAGE && rc != -SL_ENOMEM) {
        int lrc = sl_xlog_load_all(c->logs, c->n_logs, sl_analysis_model_mut(a), &c->cfg, c->quiet, &logs);
        if (lrc < 0) { /* what is wrong with the log is said */
            exit_code = lrc == -SL_ENOMEM ? EXIT_INTERNAL : EXIT_UNREADABLE;
            goto done;
        }
    }
    if (progress)
        fputs("\r\033[K", stderr);
    const sl_model *m = sl_analysis_model(a);
    if (rc == -SL_EIO || rc == -SL_EUSAGE) {
        fprintf(stderr, "sipladder: %s\n", m->n_warnings ? m->warnings[0] : "cannot read the capture");
        /* -SL_EUSAGE: -f does not compile for a file's link type */
        exit_code = rc == -SL_EUSAGE && c->cfg.capture_filter ? EXIT_USAGE : EXIT_UNREADABLE;
        goto done;
    }
    if (rc == -SL_ENOMEM || (stream && sl_call_stream_status(stream) == -SL_ENOMEM)) {
        fputs("sipladder: out of memory\n", stderr);
        exit_code = EXIT_INTERNAL;
        goto done;
    }
    if (stream && sl_call_stream_status(stream) < 0) {
        fputs("sipladder: cannot write the calls that ended to a temporary file (TMPDIR)\n", stderr);
        exit_code = EXIT_OUTPUT;
        goto done;
    }
    FILE *out = stdout;
    if (c->output && !(out = fopen(c->output, "w"))) {
        fprintf(stderr, "sipladder: cannot write %s: %s\n", c->output, strerror(errno));
        exit_code = EXIT_OUTPUT;
        goto done;
    }
    /* Views write in many small pieces: 1 MB of buffer instead of a block
     * (a terminal keeps its line buffering). */
    if (!isatty(fileno(out)))
        setvbuf(out, NULL, _IOFBF, (size_t)1 << 20);
    ro.out = out;
    exit_code = rc == -SL_ETRUNC ? EXIT_TRUNCATED : EXIT_OK;
    sl_report report = {.model = m};
    sl_calls *calls = NULL;
    if (wants_calls(c) && !(calls = sl_calls_build(m, &c->labels, c->cfg.limits.max_messages_per_call))) {
        fputs("sipladder: out of memory\n", stderr);
        if (out != stdout)
            fclose(out);
        exit_code = EXIT_INTERNAL;
        goto done;
    }
    report.calls = calls;
    if (stream && sl_call_stream_finish(stream, calls, &dopt) < 0)
        exit_code = EXIT_INTERNAL;
    sl_diagnoses diagnoses = {0};
    if (wants_diagnoses(c)) {
        if (sl_diagnose(m, report.calls, &dopt, &diagnoses) < 0) {
            fputs("sipladder: out of memory\n", stderr);
            exit_code = EXIT_INTERNAL;
        }
        if (logs && sl_xlog_diagnose(logs, c->n_logs, m, report.calls, &diagnoses) < 0)
            exit_code = EXIT_INTERNAL;
        report.diagnoses = &diagnoses;
    }
    int view_rc = render_selected(c, &report, &ro, &exit_code);
    if (view_rc == -SL_EUSAGE) {
        exit_code = EXIT_USAGE; /* e.g. --call named no call; the view said so */
    } else if (view_rc < 0 && !ferror(out)) { /* a write error is reported below */
        fputs("sipladder: out of memory\n", stderr);
        exit_code = EXIT_INTERNAL;
    }
    for (size_t i = 0; i < m->n_warnings; i++)
        fprintf(stderr, "sipladder: warning: %s\n", m->warnings[i]);
    sl_diagnoses_clear(&diagnoses);
    sl_calls_free(calls);
    if (c->export_certs && export_certs(&certs, m) < 0) /* also when a batch's export failed */
        exit_code = EXIT_OUTPUT;
    else if (c->export_certs && certs.written)
        fprintf(stderr, "sipladder: %zu certificate%s written to %s\n", certs.written, certs.written == 1 ? "" : "s",
                certs.dir);
    bool write_failed = ferror(out) != 0; /* also when the close's own flush succeeds */
    if ((out != stdout ? fclose(out) : fflush(out)) != 0 || write_failed) {
        fprintf(stderr, "sipladder: cannot write %s: %s\n", c->output ? c->output : "standard output",
                strerror(errno));
        exit_code = EXIT_OUTPUT;
    }
done:
    sl_analysis_free(a);
    sl_call_stream_free(stream);
    sl_xlog_free_all(logs, c->n_logs); /* after the model: its records borrow the logs' names */
    return exit_code;
}

int main(int argc, char **argv)
{
    cli c = {.color = -1};
    sl_limits_default(&c.cfg.limits);
    int rc = parse_cli(&c, argc, argv);
    /* an Expressway bundle (exp_bundle.h): its captures and logs, unpacked
     * into a temporary directory removed at the end */
    sl_bundle *bundle = NULL;
    if (rc == 0 && c.cmd != SL_CMD_SAVE && c.cmd != SL_CMD_COMPARE) {
        int brc = sl_bundle_take(&c.files, &c.n_files, &c.logs, &c.n_logs, &bundle);
        if (brc < 0)
            rc = brc == -SL_ENOMEM ? EXIT_INTERNAL : EXIT_UNREADABLE;
    }
    if (rc == 0)
        rc = run(&c);
    else if (rc < 0)
        rc = EXIT_OK;
    sl_labels_clear(&c.labels);
    sl_select_free(c.select);
    sl_save_free(c.save);
    sl_capture_filter_free(c.cfg.capture_filter);
    free(c.filter_joined);
    free(c.files);
    free(c.logs);
    sl_bundle_free(bundle);
    return rc;
}
