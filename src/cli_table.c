/* cli_table.c - the commands and options of sipladder's command line, and
 * the checks that make it say what is wrong instead of guessing. */
#include "cli_table.h"

#include <ctype.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char *const command_names[SL_CMD_COUNT] = {
    [SL_CMD_SUMMARY] = "summary", [SL_CMD_MESSAGES] = "messages", [SL_CMD_TLS] = "tls",
    [SL_CMD_CALLS] = "calls",     [SL_CMD_DIAGNOSE] = "diagnose", [SL_CMD_LADDER] = "ladder",
    [SL_CMD_JSON] = "json",       [SL_CMD_HTML] = "html",       [SL_CMD_SAVE] = "save",
    [SL_CMD_COMPARE] = "compare",
};

/* --format values per command; the first is the default. */
static const char *const text_only[] = {"text", NULL};
static const char *const compare_formats[] = {"text", "json", "ladder", NULL};
static const char *const ladder_formats[] = {"text", "mermaid", NULL};
static const char *const json_formats[] = {"json", "jsonl", NULL};
static const char *const html_formats[] = {"html", NULL};
static const char *const *const command_formats[SL_CMD_COUNT] = {
    [SL_CMD_SUMMARY] = text_only, [SL_CMD_MESSAGES] = text_only, [SL_CMD_TLS] = text_only,
    [SL_CMD_CALLS] = text_only,   [SL_CMD_DIAGNOSE] = text_only, [SL_CMD_LADDER] = ladder_formats,
    [SL_CMD_JSON] = json_formats, [SL_CMD_HTML] = html_formats, [SL_CMD_SAVE] = text_only,
    [SL_CMD_COMPARE] = compare_formats,
};

#define ALL SL_CMDS_ALL
#define BIT SL_CMD_BIT
/* Views that judge (diagnose.h) and those that show TLS outcomes. */
#define JUDGING (BIT(SL_CMD_SUMMARY) | BIT(SL_CMD_DIAGNOSE) | BIT(SL_CMD_LADDER) | BIT(SL_CMD_JSON) | BIT(SL_CMD_HTML))
#define TLS_SHOWN (JUDGING | BIT(SL_CMD_TLS))
#define TB (UINT64_C(1) << 40) /* a cap beyond any machine's memory */
#define VIEWS (ALL & ~BIT(SL_CMD_SAVE)) /* save writes frames with -w, no text */

/* EVERY option, once.  Adding one:
 *   1. a row here: its long name, its key (short letter or a new
 *      sl_opt_key in cli_table.h), getopt's has_arg, the commands that take
 *      it (ALL when it applies to every view, else BIT(SL_CMD_x) | ...:
 *      any other command then refuses it with a message naming both), and
 *      for a number its range (min, max), which main.c's parse enforces
 *      with one message naming the option and the range;
 *   2. its case in main.c's parse_option;
 *   3. a line in main.c's usage() and an entry in docs/sipladder.1's
 *      OPTIONS: tests/check_cli.c fails when --help or the man page lacks an
 *      option of this table, or names one that is not in it. */
const sl_cli_option sl_cli_options[] = {
    {"read", 'r', required_argument, ALL, 0, 0},
    {"log", SL_OPT_LOG, required_argument, VIEWS & ~BIT(SL_CMD_COMPARE), 0, 0}, /* an Expressway diagnostic log */
    {"output", 'o', required_argument, VIEWS, 0, 0},
    {"decode", SL_OPT_DECODE, required_argument, ALL, 0, 0},
    {"name", SL_OPT_NAME, required_argument, ALL, 0, 0},
    {"color", SL_OPT_COLOR, optional_argument, ALL, 0, 0},
    {"colour", SL_OPT_COLOR, optional_argument, ALL, 0, 0},
    {"expect-name", SL_OPT_EXPECT_NAME, required_argument, TLS_SHOWN, 0, 0},
    {"ca-file", SL_OPT_CA_FILE, required_argument, TLS_SHOWN, 0, 0},
    {"ca-path", SL_OPT_CA_PATH, required_argument, TLS_SHOWN, 0, 0},
    {"export-certs", SL_OPT_EXPORT_CERTS, required_argument, ALL, 0, 0},
    {"all-traffic", SL_OPT_ALL_TRAFFIC, no_argument, JUDGING, 0, 0},
    {"format", SL_OPT_FORMAT, required_argument, VIEWS, 0, 0}, /* values per command: command_formats */
    /* The selection (select.h): every view, and save. */
    {"call", SL_OPT_CALL, required_argument, ALL, 0, 0},
    {"host", SL_OPT_HOST, required_argument, ALL, 0, 0},
    {"verdict", SL_OPT_VERDICT, required_argument, ALL, 0, 0},
    {"from", SL_OPT_FROM, required_argument, ALL, 0, 0},
    {"to", SL_OPT_TO, required_argument, ALL, 0, 0},
    {"filter", 'f', required_argument, ALL, 0, 0},
    {"write", 'w', required_argument, BIT(SL_CMD_SAVE), 0, 0},
    {"side", SL_OPT_SIDE, required_argument, BIT(SL_CMD_COMPARE) | BIT(SL_CMD_LADDER) | BIT(SL_CMD_JSON), 0, 0},
    {"offset", SL_OPT_OFFSET, required_argument, BIT(SL_CMD_COMPARE) | BIT(SL_CMD_LADDER) | BIT(SL_CMD_JSON), 0, 0},
    {"ports", SL_OPT_PORTS, no_argument, BIT(SL_CMD_LADDER), 0, 0},
    {"ascii", SL_OPT_ASCII, no_argument, BIT(SL_CMD_LADDER), 0, 0},
    {"width", SL_OPT_WIDTH, required_argument, BIT(SL_CMD_LADDER) | BIT(SL_CMD_SUMMARY), 1, 4096},
    {"threads", SL_OPT_THREADS, required_argument, ALL, 1, 2},
    {"quiet", 'q', no_argument, ALL, 0, 0},
    {"verbose", 'v', no_argument, ALL, 0, 0},
    {"max-flows", SL_OPT_MAX_FLOWS, required_argument, ALL, 1, TB},
    {"max-tcp-buffer", SL_OPT_MAX_TCP, required_argument, ALL, 1, TB},
    {"max-sip-message", SL_OPT_MAX_SIP, required_argument, ALL, 1, TB},
    {"max-tls-handshake", SL_OPT_MAX_TLS, required_argument, ALL, 1, TB},
    {"max-fragments", SL_OPT_MAX_FRAG, required_argument, ALL, 1, TB},
    {"max-certs", SL_OPT_MAX_CERTS, required_argument, ALL, 1, TB},
    {"max-call-messages", SL_OPT_MAX_CALL_MSGS, required_argument, ALL, 1, TB},
    {"max-connections", SL_OPT_MAX_CONNS, required_argument, ALL, 1, TB},
    {"max-sip-memory", SL_OPT_MAX_SIP_MEMORY, required_argument, ALL, 1, 1048576}, /* MB */
    {"help", 'h', no_argument, ALL, 0, 0},
    {"version", 'V', no_argument, ALL, 0, 0},
};
const size_t sl_cli_n_options = sizeof sl_cli_options / sizeof sl_cli_options[0];

const char *sl_cli_command_name(sl_cmd c) { return (unsigned)c < SL_CMD_COUNT ? command_names[c] : NULL; }

int sl_cli_command_find(const char *word)
{
    for (int c = 0; c < SL_CMD_COUNT; c++)
        if (strcmp(word, command_names[c]) == 0)
            return c;
    return -1;
}

const char *const *sl_cli_command_formats(sl_cmd c) { return (unsigned)c < SL_CMD_COUNT ? command_formats[c] : NULL; }

const sl_cli_option *sl_cli_option_by_key(int key)
{
    for (size_t i = 0; i < sl_cli_n_options; i++)
        if (sl_cli_options[i].key == key)
            return &sl_cli_options[i];
    return NULL;
}

int sl_cli_parse_number(const sl_cli_option *o, const char *text, uint64_t *out, char *msg, size_t msg_len)
{
    char opt[64];
    snprintf(opt, sizeof opt, "--%s", o->name);
    /* Digits only: strtoull would take "-3" (as a huge number), " 7", "+7". */
    uint64_t v = 0;
    bool ok = text[0] != '\0';
    for (const char *p = text; ok && *p; p++) {
        if (!isdigit((unsigned char)*p) || v > (UINT64_MAX - 9) / 10)
            ok = false;
        else
            v = v * 10 + (uint64_t)(*p - '0');
    }
    if (!ok || v < o->min || v > o->max) {
        if (o->max == o->min + 1)
            snprintf(msg, msg_len, "%s wants %" PRIu64 " or %" PRIu64 ", not '%s'", opt, o->min, o->max, text);
        else
            snprintf(msg, msg_len, "%s wants a number from %" PRIu64 " to %" PRIu64 ", not '%s'", opt, o->min,
                     o->max, text);
        return -1;
    }
    *out = v;
    return 0;
}

/* Optimal string alignment distance (Levenshtein with adjacent swaps),
 * case-insensitive; words longer than 31 characters are far from all. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 31 || lb > 31)
        return SIZE_MAX;
    size_t d[32][32];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            size_t best = d[i - 1][j - 1] + cost;
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == tolower((unsigned char)b[j - 1]) && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

static bool starts_with_nocase(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++)
        if (tolower((unsigned char)*s) != tolower((unsigned char)*prefix))
            return false;
    return true;
}

const char *sl_cli_suggest(const char *word)
{
    if (strcmp(word, "help") == 0)
        return "--help";
    if (strcmp(word, "version") == 0)
        return "--version";
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    size_t len = strlen(word);
    for (int c = 0; c < SL_CMD_COUNT; c++) {
        const char *name = command_names[c];
        size_t d = edit_distance(word, name);
        /* "diag" for diagnose, "ladders" for ladder: a prefix either way
         * counts as one edit. */
        if (len >= 2 && (starts_with_nocase(name, word) || starts_with_nocase(word, name)) && d > 1)
            d = 1;
        if (d <= 2 && d < len && d < best_d) {
            best = name;
            best_d = d;
        }
    }
    return best;
}

/* "ladder", "ladder and json", "summary, diagnose, ladder and json". */
static void command_list(unsigned mask, char *buf, size_t len)
{
    size_t total = 0, done = 0, used = 0;
    for (int c = 0; c < SL_CMD_COUNT; c++)
        total += (mask & SL_CMD_BIT(c)) != 0;
    buf[0] = '\0';
    for (int c = 0; c < SL_CMD_COUNT && used < len; c++) {
        if (!(mask & SL_CMD_BIT(c)))
            continue;
        const char *sep = done == 0 ? "" : done + 1 == total ? " and " : ", ";
        int w = snprintf(buf + used, len - used, "%s%s", sep, command_names[c]);
        if (w < 0)
            break;
        used += (size_t)w;
        done++;
    }
}

/* A letter, then letters, digits, '-' or '_': a word, not a path ("-" is
 * standard input, "a.pcap" and "dir/x" are files). */
static bool looks_like_command(const char *w)
{
    if (!isalpha((unsigned char)w[0]))
        return false;
    for (const char *p = w; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
            return false;
    return true;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int sl_cli_pick_command(char *const *words, size_t n, sl_cmd *cmd, size_t *first_file, char *msg, size_t msg_len)
{
    *cmd = SL_CMD_SUMMARY;
    *first_file = 0;
    if (n > 0) {
        int c = sl_cli_command_find(words[0]);
        if (c >= 0) {
            *cmd = (sl_cmd)c;
            *first_file = 1;
        } else if (looks_like_command(words[0]) && !exists(words[0])) {
            const char *hint = sl_cli_suggest(words[0]);
            if (hint)
                snprintf(msg, msg_len, "unknown command '%s' (did you mean '%s'?)", words[0], hint);
            else {
                char list[160];
                command_list(SL_CMDS_ALL, list, sizeof list);
                snprintf(msg, msg_len, "unknown command '%s', and no file by that name (commands: %s)", words[0],
                         list);
            }
            return -1;
        }
    }
    bool named = *first_file == 1;
    for (size_t i = *first_file; i < n; i++) {
        int c = sl_cli_command_find(words[i]);
        const char *near = c < 0 && looks_like_command(words[i]) && !exists(words[i]) ? sl_cli_suggest(words[i]) : NULL;
        if (near && near[0] == '-')
            near = NULL; /* "help" among the files is a file that is missing */
        if (c >= 0 && named)
            snprintf(msg, msg_len, "one command only: '%s' and '%s' (a capture named so is ./%s)", words[0],
                     words[i], words[i]);
        else if (c >= 0)
            snprintf(msg, msg_len, "'%s' must come first: sipladder %s [OPTIONS] CAPTURE... (a capture named so is ./%s)",
                     words[i], words[i], words[i]);
        else if (near)
            snprintf(msg, msg_len, "no file '%s'; for the command '%s', it must come first: sipladder %s [OPTIONS] CAPTURE...",
                     words[i], near, near);
        else
            continue;
        return -1;
    }
    return 0;
}

int sl_cli_check_options(sl_cmd cmd, const int *keys, const char *const *spelt, size_t n, char *msg,
                         size_t msg_len)
{
    for (size_t i = 0; i < n; i++) {
        const sl_cli_option *o = sl_cli_option_by_key(keys[i]);
        if (!o || (o->commands & SL_CMD_BIT(cmd)))
            continue;
        char list[160];
        command_list(o->commands, list, sizeof list);
        snprintf(msg, msg_len, "%s is an option of %s, not of %s", spelt[i], list, command_names[cmd]);
        return -1;
    }
    return 0;
}

/* "text", "text or mermaid". */
static void format_list(const char *const *f, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; f[i] && used < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%s", i == 0 ? "" : f[i + 1] ? ", " : " or ", f[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

int sl_cli_check_format(sl_cmd cmd, const char *format, char *msg, size_t msg_len)
{
    const char *const *mine = command_formats[cmd];
    for (size_t i = 0; mine[i]; i++)
        if (strcmp(mine[i], format) == 0)
            return 0;
    char forms[96];
    format_list(mine, forms, sizeof forms);
    int other = -1;
    for (int c = 0; c < SL_CMD_COUNT && other < 0; c++)
        for (size_t i = 0; command_formats[c][i] && other < 0; i++)
            if (strcmp(command_formats[c][i], format) == 0)
                other = c;
    if (other >= 0)
        snprintf(msg, msg_len, "%s: --format is %s, not '%s' (%s writes %s)", command_names[cmd], forms, format,
                 command_names[other], format);
    else
        snprintf(msg, msg_len, "%s: --format is %s, not '%s'", command_names[cmd], forms, format);
    return -1;
}

const char *sl_cli_suggest_option(const char *arg)
{
    while (*arg == '-')
        arg++;
    char word[40];
    size_t len = strcspn(arg, "=");
    if (len == 0 || len >= sizeof word)
        return NULL;
    memcpy(word, arg, len);
    word[len] = '\0';
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    for (size_t i = 0; i < sl_cli_n_options; i++) {
        size_t d = edit_distance(word, sl_cli_options[i].name);
        if (d <= 2 && d < len && d < best_d) {
            best = sl_cli_options[i].name;
            best_d = d;
        }
    }
    return best;
}
