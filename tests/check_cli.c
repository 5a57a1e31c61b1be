/* check_cli.c - the command line: documented exit codes and clear messages
 * for bad options and unreadable or damaged captures. */
#include <check.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check_run.h"
#include "support.h"
#include "cli_table.h"

typedef struct result {
    int status;
    char out[65536];
    char err[8192];
} result;

static void slurp(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, len - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
}

/* Run sipladder with argv (NULL-terminated, without argv[0]) from the
 * source root; capture stdout, stderr and the exit status. */
static void run(result *r, const char *const *args)
{
    const char *bin = getenv("SIPLADDER");
    const char *root = getenv("SL_SOURCE_ROOT");
    ck_assert_msg(bin && root, "SIPLADDER and SL_SOURCE_ROOT must be set");
    char out_path[] = "/tmp/check_cli_outXXXXXX", err_path[] = "/tmp/check_cli_errXXXXXX";
    int out_fd = mkstemp(out_path), err_fd = mkstemp(err_path);
    ck_assert(out_fd >= 0 && err_fd >= 0);
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        const char *argv[32] = {bin};
        size_t n = 1;
        for (; args[n - 1] && n < 31; n++)
            argv[n] = args[n - 1];
        argv[n] = NULL;
        dup2(out_fd, 1);
        dup2(err_fd, 2);
        if (chdir(root) != 0)
            _exit(126);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    slurp(out_path, r->out, sizeof r->out);
    slurp(err_path, r->err, sizeof r->err);
    close(out_fd);
    close(err_fd);
    unlink(out_path);
    unlink(err_path);
}

#define RUN(r, ...)                                                                                            \
    do {                                                                                                       \
        const char *const args_[] = {__VA_ARGS__, NULL};                                                      \
        run(r, args_);                                                                                         \
    } while (0)

static result r;

START_TEST(help_and_version)
{
    RUN(&r, "--help");
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "Usage: sipladder"));
    ck_assert_ptr_nonnull(strstr(r.out, "Exit status"));
    RUN(&r, "-V");
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "sipladder "));
}
END_TEST

START_TEST(usage_errors_exit_2)
{
    static const char *const bad[][3] = {
        {"--no-such-option", "testdata/tcp/normal-exchange.pcap", NULL},
        {"--decode", "70000=tls", NULL},
        {"--decode", "5060=nosuchproto", NULL},
        {"--name", "not-an-address=x", NULL},
        {"--color=sometimes", "testdata/tcp/normal-exchange.pcap", NULL},
        {"--max-flows", "-3", NULL},
        {"--max-sip-memory", "0", NULL},
        {"--max-sip-memory", "99999999", NULL},
        {"--max-connections", "many", NULL},
        {"--threads", "3", NULL},
        {"--threads", "0", NULL},
        {"summary", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *args[4] = {bad[i][0], bad[i][1], NULL, NULL};
        if (i == 2)
            args[2] = "testdata/tcp/normal-exchange.pcap";
        run(&r, args);
        ck_assert_msg(r.status == 2, "%s %s: exit %d", bad[i][0], bad[i][1] ? bad[i][1] : "", r.status);
        ck_assert_ptr_nonnull(strstr(r.err, "sipladder: "));
        ck_assert_str_eq(r.out, "");
    }
}
END_TEST

START_TEST(unreadable_inputs_exit_3)
{
    static const char *const files[] = {"testdata/no-such-file.pcap", "testdata/malformed/empty.pcap",
                                        "testdata/malformed/bad-magic.pcap", "testdata/malformed/truncated-header.pcap",
                                        "testdata"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        RUN(&r, files[i]);
        ck_assert_msg(r.status == 3, "%s: exit %d", files[i], r.status);
        ck_assert_ptr_nonnull(strstr(r.err, files[i]));
    }
}
END_TEST

START_TEST(truncated_capture_exit_4_with_what_came_before)
{
    RUN(&r, "testdata/malformed/truncated-mid-record.pcap");
    ck_assert_int_eq(r.status, 4);
    ck_assert_ptr_nonnull(strstr(r.err, "warning"));
    ck_assert_ptr_nonnull(strstr(r.out, "frames: 2"));
}
END_TEST

START_TEST(output_file_and_unwritable_output)
{
    RUN(&r, "-o", "/nonexistent-dir/out.txt", "testdata/tcp/normal-exchange.pcap");
    ck_assert_int_eq(r.status, 5);
    ck_assert_ptr_nonnull(strstr(r.err, "/nonexistent-dir/out.txt"));
}
END_TEST

/* A write that fails (a full disk) is said to be one, by every view and on
 * one thread or two, not taken for a lack of memory. */
START_TEST(a_full_disk_is_an_output_error)
{
    if (access("/dev/full", W_OK) != 0)
        sl_test_skip("cannot write", "/dev/full");
    const char *views[] = {"summary", "json", "ladder"};
    const char *threads[] = {"1", "2"};
    for (size_t v = 0; v < 3; v++) {
        for (size_t t = 0; t < 2; t++) {
            RUN(&r, views[v], "--threads", threads[t], "-o", "/dev/full", "testdata/tls/tls12-expired.pcap");
            ck_assert_msg(r.status == 5, "%s --threads %s: exit %d", views[v], threads[t], r.status);
            ck_assert_ptr_nonnull(strstr(r.err, "cannot write /dev/full"));
            ck_assert_ptr_null(strstr(r.err, "out of memory"));
        }
    }
}
END_TEST

/* Calls that ended are spooled in $TMPDIR: one that cannot hold files is
 * said, and the run goes on with the calls held in memory. */
START_TEST(an_unusable_tmpdir_is_warned_of)
{
    setenv("TMPDIR", "/nonexistent-sipladder-tmp", 1); /* this test's own process (Check forks) */
    RUN(&r, "summary", "testdata/tcp/normal-exchange.pcap");
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.err, "cannot make temporary files in /nonexistent-sipladder-tmp (TMPDIR)"));
    ck_assert(strlen(r.out) > 0); /* the summary is still written */
}
END_TEST

START_TEST(summary_names_and_color)
{
    RUN(&r, "summary", "--color=never", "--name", "10.250.1.2=Expressway-E", "-r",
        "testdata/tcp/refused-closed-port.pcap");
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "10.250.1.2:5001 (Expressway-E)"));
    ck_assert_ptr_nonnull(strstr(r.out, "refused: RST from server (f2)"));
    ck_assert_ptr_null(strstr(r.out, "\033["));
    RUN(&r, "--color=always", "testdata/tcp/refused-closed-port.pcap");
    ck_assert_ptr_nonnull(strstr(r.out, "\033[31m"));
}
END_TEST

START_TEST(several_files_are_one_capture)
{
    RUN(&r, "-q", "testdata/tcp/refused-closed-port.pcap", "testdata/tcp/normal-exchange.pcap");
    ck_assert_int_eq(r.status, 0);
    /* normal-exchange was recorded first: its 21 frames come before the 2 of the refusal. */
    ck_assert_ptr_nonnull(strstr(r.out, "frames: 23"));
    ck_assert_ptr_nonnull(strstr(r.out, "refused: RST from server (f23)"));
}
END_TEST

/* ---- issue 15 item 4: a command line that never guesses ----
 * Each error path with its exact stderr and exit status 2; the colour rules
 * on a real terminal (a pty); every option of cli_table.c in --help and in
 * the man page's OPTIONS, and nothing there that the table lacks. */

#define CAP "testdata/tcp/normal-exchange.pcap"
#define TRY "Try 'sipladder --help'.\n"

static void expect_usage(const char *const *args, const char *line)
{
    run(&r, args);
    char want[1024];
    snprintf(want, sizeof want, "sipladder: %s\n" TRY, line);
    ck_assert_msg(r.status == 2, "%s ...: exit %d, stderr %s", args[0], r.status, r.err);
    ck_assert_str_eq(r.err, want);
    ck_assert_str_eq(r.out, "");
}

#define EXPECT_USAGE(line, ...)                                                                                \
    do {                                                                                                       \
        const char *const args_[] = {__VA_ARGS__, NULL};                                                      \
        expect_usage(args_, line);                                                                             \
    } while (0)

/* "ladder", "ladder and json", "summary, diagnose, ladder and json": the
 * commands of a mask, as the messages list them (others add commands: the
 * expected lines follow the table). */
static const char *commands_of(unsigned mask)
{
    static char buf[256];
    size_t total = 0, done = 0;
    for (int c = 0; c < SL_CMD_COUNT; c++)
        total += (mask & SL_CMD_BIT(c)) != 0;
    buf[0] = '\0';
    for (int c = 0; c < SL_CMD_COUNT; c++) {
        if (!(mask & SL_CMD_BIT(c)))
            continue;
        strcat(buf, done == 0 ? "" : done + 1 == total ? " and " : ", ");
        strcat(buf, sl_cli_command_name((sl_cmd)c));
        done++;
    }
    return buf;
}

/* "--NAME is an option of ..., not of CMD" for the table's NAME. */
static const char *not_an_option_of(const char *name, sl_cmd cmd)
{
    static char line[512];
    line[0] = '\0';
    for (size_t i = 0; i < sl_cli_n_options; i++)
        if (strcmp(sl_cli_options[i].name, name) == 0)
            snprintf(line, sizeof line, "--%s is an option of %s, not of %s", name,
                     commands_of(sl_cli_options[i].commands), sl_cli_command_name(cmd));
    return line;
}

START_TEST(unknown_and_misplaced_commands_are_named)
{
    char line[512];
    EXPECT_USAGE("unknown command 'diagnos' (did you mean 'diagnose'?)", "diagnos", CAP);
    EXPECT_USAGE("unknown command 'lader' (did you mean 'ladder'?)", "lader", "--ports", CAP);
    EXPECT_USAGE("unknown command 'help' (did you mean '--help'?)", "help");
    snprintf(line, sizeof line, "unknown command 'frobnicate', and no file by that name (commands: %s)",
             commands_of(SL_CMDS_ALL));
    EXPECT_USAGE(line, "frobnicate", CAP);
    EXPECT_USAGE("'diagnose' must come first: sipladder diagnose [OPTIONS] CAPTURE... (a capture named so is "
                 "./diagnose)",
                 CAP, "diagnose");
    EXPECT_USAGE("'json' must come first: sipladder json [OPTIONS] CAPTURE... (a capture named so is ./json)", "-q",
                 CAP, "json", "--format", "jsonl");
    EXPECT_USAGE("no file 'diagnos'; for the command 'diagnose', it must come first: sipladder diagnose [OPTIONS] "
                 "CAPTURE...",
                 CAP, "diagnos");
    EXPECT_USAGE("one command only: 'ladder' and 'json' (a capture named so is ./json)", "ladder", CAP, "json");
    /* A path is a file, missing or not: exit 3 names it. */
    RUN(&r, "testdata/diagnos");
    ck_assert_int_eq(r.status, 3);
    ck_assert_ptr_nonnull(strstr(r.err, "testdata/diagnos"));
}
END_TEST

/* A capture file named like a word: a file when it exists and is not a
 * command's name; a command's name is always the command (./NAME reads
 * the file). */
START_TEST(a_capture_named_like_a_command)
{
    const char *root = getenv("SL_SOURCE_ROOT");
    char dir[] = "/tmp/check_cli_dirXXXXXX", cap[4096], a[4200], b[4200];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(cap, sizeof cap, "%s/" CAP, root);
    snprintf(a, sizeof a, "%s/mycapture", dir);
    snprintf(b, sizeof b, "%s/diagnose", dir);
    ck_assert_int_eq(symlink(cap, a), 0);
    ck_assert_int_eq(symlink(cap, b), 0);
    setenv("SL_SOURCE_ROOT", dir, 1); /* run() works in dir; this test's process only (Check forks) */
    RUN(&r, "-q", "mycapture");
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "frames: 21"));
    RUN(&r, "-q", "./diagnose");
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "frames: 21"));
    RUN(&r, "calls", "-q", "./diagnose");
    ck_assert_int_eq(r.status, 0);
    RUN(&r, "diagnose");
    ck_assert_int_eq(r.status, 2);
    ck_assert_str_eq(r.err, "sipladder: no capture file given\n" TRY);
    unlink(a);
    unlink(b);
    rmdir(dir);
}
END_TEST

START_TEST(an_option_the_command_does_not_take_is_an_error)
{
    EXPECT_USAGE("summary: --format is text, not 'mermaid' (ladder writes mermaid)", "summary", "--format",
                 "mermaid", CAP);
    EXPECT_USAGE("diagnose: --format is text, not 'json' (json writes json)", "diagnose", "--format", "json", CAP);
    EXPECT_USAGE("ladder: --format is text or mermaid, not 'jsonl' (json writes jsonl)", "--format=jsonl", "ladder",
                 CAP);
    EXPECT_USAGE("json: --format is json or jsonl, not 'xml'", "json", "--format", "xml", CAP);
    EXPECT_USAGE("--ports is an option of ladder, not of summary", "--ports", CAP);
    EXPECT_USAGE("--ascii is an option of ladder, not of json", "json", CAP, "--ascii");
    EXPECT_USAGE(not_an_option_of("all-traffic", SL_CMD_MESSAGES), "messages", "--all-traffic", CAP);
    EXPECT_USAGE(not_an_option_of("expect-name", SL_CMD_CALLS), "calls", "--expect-name", "sip.example.com", CAP);
    ck_assert_str_eq(not_an_option_of("ascii", SL_CMD_JSON), "--ascii is an option of ladder, not of json");
    /* What each takes still works, wherever the option stands. */
    RUN(&r, "-q", "--ports", "ladder", "--ascii", CAP);
    ck_assert_int_eq(r.status, 0);
    RUN(&r, "summary", "-q", "--format", "text", CAP);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "frames: 21"));
    RUN(&r, "messages", "-q", "--colour=never", "--name", "10.0.0.1=a", CAP);
    ck_assert_int_eq(r.status, 0);
}
END_TEST

START_TEST(decode_names_the_ports_and_protocols_it_takes)
{
    EXPECT_USAGE("--decode: no protocol 'foo' (PROTO: tls, sip, dns or ws) in '7003=foo'", "--decode", "7003=foo",
                 CAP);
    EXPECT_USAGE("--decode: port 99999 is out of range (1-65535) in '99999=sip'", "--decode", "99999=sip", CAP);
    EXPECT_USAGE("--decode: port 0 is out of range (1-65535) in '0=sip'", "--decode", "0=sip", CAP);
    EXPECT_USAGE("--decode: port 99999999999999999999 is out of range (1-65535) in '99999999999999999999=sip'",
                 "--decode", "99999999999999999999=sip", CAP);
    EXPECT_USAGE("--decode wants PORT=PROTO (PROTO: tls, sip, dns or ws), e.g. 7003=tls, not 'sip=5060'",
                 "--decode", "sip=5060", CAP);
    EXPECT_USAGE("--decode wants PORT=PROTO (PROTO: tls, sip, dns or ws), e.g. 7003=tls, not '-5=sip'",
                 "--decode=-5=sip", CAP);
    RUN(&r, "-q", "--decode", "7003=tls", CAP);
    ck_assert_int_eq(r.status, 0);
}
END_TEST

/* The first command that takes o. */
static const char *command_taking(const sl_cli_option *o)
{
    for (int c = 0; c < SL_CMD_COUNT; c++)
        if (o->commands & SL_CMD_BIT(c))
            return sl_cli_command_name((sl_cmd)c);
    return NULL;
}

/* Every numeric option of the table, below and above its range and not a
 * number: one line naming the option and the range. */
START_TEST(every_number_is_checked_against_its_range)
{
    size_t numbers = 0;
    for (size_t i = 0; i < sl_cli_n_options; i++) {
        const sl_cli_option *o = &sl_cli_options[i];
        if (o->max == 0)
            continue;
        numbers++;
        char above[32], below[32], opt[64], range[96], line[256];
        snprintf(above, sizeof above, "%llu", (unsigned long long)o->max + 1);
        snprintf(below, sizeof below, "%lld", (long long)o->min - 1);
        snprintf(opt, sizeof opt, "--%s", o->name);
        if (o->max == o->min + 1)
            snprintf(range, sizeof range, "%llu or %llu", (unsigned long long)o->min, (unsigned long long)o->max);
        else
            snprintf(range, sizeof range, "a number from %llu to %llu", (unsigned long long)o->min,
                     (unsigned long long)o->max);
        const char *values[] = {above, below, "12abc", "", " 7", "+7"};
        for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
            snprintf(line, sizeof line, "%s wants %s, not '%s'", opt, range, values[v]);
            const char *args[] = {command_taking(o), opt, values[v], CAP, NULL};
            expect_usage(args, line);
        }
    }
    ck_assert_uint_ge(numbers, 11);
}
END_TEST

/* Run sipladder with standard output on a terminal (a pty) and `term`,
 * `no_color` in its environment (NULL: unset). */
static void run_on_tty(const char *term, const char *no_color, const char *const *args)
{
    const char *bin = getenv("SIPLADDER");
    const char *root = getenv("SL_SOURCE_ROOT");
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    ck_assert(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0);
    const char *slave_name = ptsname(master);
    ck_assert_ptr_nonnull(slave_name);
    int slave = open(slave_name, O_RDWR | O_NOCTTY);
    ck_assert(slave >= 0);
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        const char *argv[32] = {bin};
        size_t n = 1;
        for (; args[n - 1] && n < 31; n++)
            argv[n] = args[n - 1];
        argv[n] = NULL;
        int devnull = open("/dev/null", O_WRONLY);
        dup2(slave, 1);
        dup2(devnull, 2);
        close(master);
        if (term)
            setenv("TERM", term, 1);
        else
            unsetenv("TERM");
        if (no_color)
            setenv("NO_COLOR", no_color, 1);
        else
            unsetenv("NO_COLOR");
        if (chdir(root) != 0)
            _exit(126);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(slave);
    size_t got = 0;
    for (;;) { /* until the child's end of the pty is closed (EIO) */
        ssize_t k = read(master, r.out + got, sizeof r.out - 1 - got);
        if (k <= 0)
            break;
        got += (size_t)k;
        if (got == sizeof r.out - 1)
            break;
    }
    r.out[got] = '\0';
    int st;
    waitpid(pid, &st, 0);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    close(master);
}

static bool coloured(void) { return strstr(r.out, "\033[") != NULL; }

START_TEST(colour_on_a_terminal_follows_term_and_no_color)
{
    const char *cap = "testdata/tcp/refused-closed-port.pcap";
    const char *auto_args[] = {"summary", "-q", cap, NULL};
    run_on_tty("xterm", NULL, auto_args);
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(coloured(), "a terminal gets colour: %s", r.out);
    run_on_tty("dumb", NULL, auto_args);
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(!coloured(), "TERM=dumb gets no colour");
    ck_assert_ptr_nonnull(strstr(r.out, "refused: RST from server"));
    run_on_tty("xterm", "1", auto_args);
    ck_assert_msg(!coloured(), "NO_COLOR=1 gets no colour");
    run_on_tty("xterm", "", auto_args);
    ck_assert_msg(coloured(), "an empty NO_COLOR is not set (no-color.org)");
    const char *always[] = {"summary", "-q", "--color=always", cap, NULL};
    run_on_tty("dumb", "1", always);
    ck_assert_msg(coloured(), "--color=always wins over TERM=dumb and NO_COLOR");
    const char *never[] = {"summary", "-q", "--colour=never", cap, NULL};
    run_on_tty("xterm", NULL, never);
    ck_assert_msg(!coloured(), "--colour=never");
    const char *bare[] = {"summary", "-q", "--colour", cap, NULL};
    run_on_tty("dumb", NULL, bare);
    ck_assert_msg(coloured(), "--colour alone is always");
    /* Not a terminal: none in auto. */
    setenv("TERM", "xterm", 1);
    unsetenv("NO_COLOR");
    RUN(&r, "summary", "-q", cap);
    ck_assert_ptr_null(strstr(r.out, "\033["));
}
END_TEST

/* Whole file into a malloc'd string. */
static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char *buf = NULL;
    size_t len = 0, cap = 0, k;
    char chunk[8192];
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + k + 1 > cap) {
            cap = (len + k + 1) * 2;
            buf = realloc(buf, cap);
            ck_assert_ptr_nonnull(buf);
        }
        memcpy(buf + len, chunk, k);
        len += k;
    }
    fclose(f);
    if (!buf)
        buf = calloc(1, 1);
    buf[len] = '\0';
    return buf;
}

/* roff to text: "\-" is "-", font escapes (\fB, \fR...) go. */
static void unroff(char *s)
{
    char *w = s;
    for (const char *p = s; *p;) {
        if (p[0] == '\\' && p[1] == '-') {
            *w++ = '-';
            p += 2;
        } else if (p[0] == '\\' && p[1] == 'f' && p[2]) {
            p += 3;
        } else {
            *w++ = *p++;
        }
    }
    *w = '\0';
}

/* Does `text` hold `word` ("--name", "-r") as a whole token? */
static bool has_token(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = strstr(text, word); p; p = strstr(p + 1, word)) {
        bool start = p == text || !(isalnum((unsigned char)p[-1]) || p[-1] == '-');
        bool end = !(isalnum((unsigned char)p[n]) || p[n] == '-');
        if (start && end)
            return true;
    }
    return false;
}

/* Every "--word" of text must be an option of the table. */
static void only_known_options(const char *text, const char *where)
{
    for (const char *p = strstr(text, "--"); p; p = strstr(p + 2, "--")) {
        if (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '-'))
            continue;
        size_t n = 0;
        while (isalnum((unsigned char)p[2 + n]) || p[2 + n] == '-')
            n++;
        if (n == 0)
            continue;
        bool known = false;
        for (size_t i = 0; i < sl_cli_n_options && !known; i++)
            known = strlen(sl_cli_options[i].name) == n && strncmp(sl_cli_options[i].name, p + 2, n) == 0;
        ck_assert_msg(known, "%s names --%.*s, which is no option", where, (int)n, p + 2);
    }
}

/* The tag lines (the line after .TP) of a man page section, unroffed and
 * joined. */
static char *section_tags(const char *man, const char *section)
{
    char head[64];
    snprintf(head, sizeof head, "\n.SH %s\n", section);
    const char *start = strstr(man, head);
    ck_assert_msg(start != NULL, "no section %s", section);
    start += strlen(head);
    const char *end = strstr(start, "\n.SH ");
    if (!end)
        end = start + strlen(start);
    char *tags = calloc(1, (size_t)(end - start) + 2);
    ck_assert_ptr_nonnull(tags);
    for (const char *p = start; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *next = nl ? nl + 1 : end;
        if (strncmp(p, ".TP\n", 4) == 0 && next < end) {
            const char *tag_end = memchr(next, '\n', (size_t)(end - next));
            size_t len = (size_t)((tag_end ? tag_end : end) - next);
            strncat(tags, next, len);
            strcat(tags, "\n");
        }
        p = next;
    }
    unroff(tags);
    return tags;
}

START_TEST(every_option_is_in_help_and_the_man_page)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/docs/sipladder.1", getenv("SL_SOURCE_ROOT"));
    char *man = read_all(path);
    char *options = section_tags(man, "OPTIONS");
    char *commands = section_tags(man, "COMMANDS");
    RUN(&r, "--help");
    ck_assert_int_eq(r.status, 0);
    for (size_t i = 0; i < sl_cli_n_options; i++) {
        const sl_cli_option *o = &sl_cli_options[i];
        char word[64];
        snprintf(word, sizeof word, "--%s", o->name);
        ck_assert_msg(has_token(r.out, word), "--help does not list %s", word);
        ck_assert_msg(has_token(options, word), "the man page's OPTIONS has no entry for %s", word);
        if (o->key < 256) {
            snprintf(word, sizeof word, "-%c", o->key);
            ck_assert_msg(has_token(r.out, word), "--help does not list %s", word);
            ck_assert_msg(has_token(options, word), "the man page's OPTIONS has no entry for %s", word);
        }
    }
    only_known_options(r.out, "--help");
    char *text = strdup(man);
    unroff(text);
    only_known_options(text, "the man page");
    /* The commands: in --help's list and in the one COMMANDS section. */
    const char *list = strstr(r.out, "\nCommands:\n");
    ck_assert_ptr_nonnull(list);
    for (int c = 0; c < SL_CMD_COUNT; c++) {
        char line[64];
        snprintf(line, sizeof line, "\n  %s ", sl_cli_command_name((sl_cmd)c));
        ck_assert_msg(strstr(list, line) != NULL, "--help does not list the command %s", sl_cli_command_name(c));
        snprintf(line, sizeof line, ".B %s\n", sl_cli_command_name((sl_cmd)c));
        ck_assert_msg(strstr(commands, line) != NULL, "the man page's COMMANDS has no entry for %s",
                      sl_cli_command_name(c));
    }
    const char *first = strstr(man, "\n.SH COMMANDS");
    ck_assert_ptr_nonnull(first);
    ck_assert_msg(strstr(first + 1, "\n.SH COMMANDS") == NULL, "the man page has a second COMMANDS section");
    free(text);
    free(commands);
    free(options);
    free(man);
}
END_TEST

START_TEST(suggestions_are_near_and_never_far)
{
    static const char *const near[][2] = {
        {"diagnos", "diagnose"}, {"diag", "diagnose"}, {"lader", "ladder"},   {"ladders", "ladder"},
        {"tsl", "tls"},          {"jsno", "json"},     {"summry", "summary"}, {"mesages", "messages"},
        {"Calls", "calls"},      {"version", "--version"},
    };
    for (size_t i = 0; i < sizeof near / sizeof near[0]; i++) {
        const char *got = sl_cli_suggest(near[i][0]);
        ck_assert_msg(got && strcmp(got, near[i][1]) == 0, "%s: %s, not %s", near[i][0], got ? got : "(none)",
                      near[i][1]);
    }
    static const char *const far[] = {"x", "zz", "capture", "frobnicate", "pcap", "abcdefghijklmnopqrstuvwxyz0123456789"};
    for (size_t i = 0; i < sizeof far / sizeof far[0]; i++)
        ck_assert_msg(sl_cli_suggest(far[i]) == NULL, "%s: %s", far[i], sl_cli_suggest(far[i]));
}
END_TEST
START_TEST(unknown_options_name_the_nearest)
{
    EXPECT_USAGE("unknown option '--colr' (did you mean '--color'?)", "--colr", CAP);
    EXPECT_USAGE("unknown option '--widht=80' (did you mean '--width'?)", "ladder", "--widht=80", CAP);
    EXPECT_USAGE("option '--exp' is ambiguous: --expect-name, --export-certs", "--exp", "x", CAP);
    EXPECT_USAGE("unknown option '--frobnicate'", "--frobnicate", CAP);
    EXPECT_USAGE("unknown option '-x'", "-x", CAP);
    ck_assert_str_eq(sl_cli_suggest_option("--max-flow=3"), "max-flows");
    ck_assert_ptr_null(sl_cli_suggest_option("--"));
    ck_assert_ptr_null(sl_cli_suggest_option("--zz"));
}
END_TEST
/* The man page's OPTIONS entry (unroffed, lower case) whose tag names
 * `word`, or NULL. */
static char *option_entry(const char *man, const char *word)
{
    const char *start = strstr(man, "\n.SH OPTIONS\n");
    ck_assert_ptr_nonnull(start);
    const char *end = strstr(start + 1, "\n.SH ");
    for (const char *p = strstr(start, "\n.TP\n"); p && (!end || p < end);) {
        const char *next = strstr(p + 1, "\n.TP\n");
        const char *stop = next && (!end || next < end) ? next : end ? end : p + strlen(p);
        char *entry = strndup(p + 5, (size_t)(stop - (p + 5)));
        ck_assert_ptr_nonnull(entry);
        unroff(entry);
        char *nl = strchr(entry, '\n');
        if (nl)
            *nl = '\0';
        bool mine = has_token(entry, word);
        if (nl)
            *nl = '\n';
        if (mine) {
            for (char *c = entry; *c; c++)
                *c = (char)tolower((unsigned char)*c);
            return entry;
        }
        free(entry);
        p = next;
    }
    return NULL;
}

/* An option for one to three commands says which, in its man page entry
 * ("Ladder only:", "Ladder and summary:"): the table and the page agree. */
START_TEST(an_option_for_few_commands_names_them_in_the_man_page)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/docs/sipladder.1", getenv("SL_SOURCE_ROOT"));
    char *man = read_all(path);
    size_t checked = 0;
    for (size_t i = 0; i < sl_cli_n_options; i++) {
        const sl_cli_option *o = &sl_cli_options[i];
        size_t n = 0;
        for (int c = 0; c < SL_CMD_COUNT; c++)
            n += (o->commands & SL_CMD_BIT(c)) != 0;
        if (n == 0 || n > 3)
            continue;
        char word[64];
        snprintf(word, sizeof word, "--%s", o->name);
        char *entry = option_entry(man, word);
        ck_assert_msg(entry != NULL, "no OPTIONS entry for %s", word);
        for (int c = 0; c < SL_CMD_COUNT; c++)
            if (o->commands & SL_CMD_BIT(c))
                ck_assert_msg(has_token(entry, sl_cli_command_name((sl_cmd)c)),
                              "the man page's %s does not say it is for %s", word, sl_cli_command_name((sl_cmd)c));
        free(entry);
        checked++;
    }
    ck_assert_uint_ge(checked, 3); /* --ports, --ascii, --width at least */
    free(man);
}
END_TEST
/* The man page as groff reads it: no warning (a line starting with "." or
 * "'" is taken for a request and its text silently dropped). */
START_TEST(the_man_page_renders_without_warnings)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "groff -man -ww -z '%s/docs/sipladder.1' 2>&1", getenv("SL_SOURCE_ROOT"));
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    char out[4096];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "groff (Debian's groff-base) failed: %s", out);
    ck_assert_msg(n == 0, "groff warns about docs/sipladder.1: %s", out);
}
END_TEST
/* ---- end of issue 15 item 4 ---- */

/* ---- issue 15 items 1 and 2: the selection, -f and save ---- */

#define SEL_CAP "testdata/select/calls-rtp.pcap"
#define SEL_T38 "testdata/corpus/sip-udp-fax-t38-calls-bye-488__ndpi.pcap"

START_TEST(selection_narrows_every_view)
{
    /* diagnose --call 2 lists call 2 and its verdict only (it listed both calls). */
    RUN(&r, "diagnose", "--call", "2", SEL_T38);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "calls: 1\n  call 2:"));
    ck_assert_ptr_nonnull(strstr(r.out, "diagnosis: 1 verdict\n"));
    ck_assert_ptr_null(strstr(r.out, "call 1"));
    RUN(&r, "messages", "--call", "*4281*", SEL_CAP);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "call2-4281@"));
    ck_assert_ptr_null(strstr(r.out, "call1-alice@"));
    RUN(&r, "calls", "-q", "--verdict", "sip.response.4*", SEL_CAP);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "Calls: 2\ncall 3 "));
    ck_assert_ptr_nonnull(strstr(r.out, "\ncall 4 "));
    /* Host by label: --name gives 10.254.7.2 a name --host takes. */
    RUN(&r, "calls", "-q", "--name", "10.254.7.1=alice-pc", "--host", "alice-*", "--call", "sip:frank@*", SEL_CAP);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "Calls: 1\ncall 3 "));
    /* The ladder draws the selected call only. */
    RUN(&r, "ladder", "--ascii", "--width", "100", "--call", "4", SEL_CAP);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "Call 4:"));
    ck_assert_ptr_null(strstr(r.out, "Call 1:"));
}
END_TEST

START_TEST(nothing_selected_exits_6_and_says_what_exists)
{
    RUN(&r, "calls", "--call", "*9999*", SEL_CAP);
    ck_assert_int_eq(r.status, 6);
    ck_assert_str_eq(r.out, "");
    ck_assert_str_eq(r.err, "sipladder: no call matches '*9999*' (4 calls in the capture): 1 sip:alice@example.com "
                            "-> sip:bob@example.com, 2 sip:anonymous@anonymous.invalid -> sip:dave@example.com, 3 "
                            "sip:carol@example.com -> sip:frank@example.com, 4 sip:erin@example.com -> "
                            "sip:bob@example.com\n");
    RUN(&r, "diagnose", "--verdict", "tls.*", SEL_CAP);
    ck_assert_int_eq(r.status, 6);
    ck_assert_str_eq(r.err, "sipladder: no verdict matches 'tls.*' (2 verdict codes in the capture): "
                            "sip.response.486, sip.response.403\n");
    RUN(&r, "summary", "--host", "192.0.2.99", SEL_CAP);
    ck_assert_int_eq(r.status, 6);
    ck_assert_ptr_nonnull(strstr(r.err, "no host matches '192.0.2.99' (2 hosts in the capture): 10.254.7.1"));
    RUN(&r, "summary", "--from", "+1h", SEL_CAP);
    ck_assert_int_eq(r.status, 6);
    ck_assert_ptr_nonnull(strstr(r.err, "nothing in the time window; the capture runs from "));
}
END_TEST

START_TEST(selection_usage_errors)
{
    EXPECT_USAGE("--from wants a UTC time (2026-11-21T06:00:25[.5], or 06:00:25 on the capture's first day) or an "
                 "offset from the capture's start (+5s, +250ms, +2m), not 'yesterday'",
                 "--from", "yesterday", SEL_CAP);
    EXPECT_USAGE("--host wants ADDR, ADDR:PORT, [IPv6]:PORT or a host label, not '10.0.0.1:0'", "--host",
                 "10.0.0.1:0", SEL_CAP);
    EXPECT_USAGE("save: -w FILE names the pcap to write", "save", "--call", "1", SEL_CAP);
    EXPECT_USAGE("save: what to save? --call, --host, --verdict, --from/--to or -f", "save", "-w", "/tmp/x.pcap",
                 SEL_CAP);
    EXPECT_USAGE("save reads its captures twice, not standard input: write it to a file first", "save", "--call",
                 "1", "-w", "/tmp/x.pcap", "-");
    EXPECT_USAGE("-w is an option of save, not of summary", "-w", "/tmp/x.pcap", SEL_CAP);
    EXPECT_USAGE("-f 'port 50 60 x': can't parse filter expression: syntax error (link type EN10MB)", "-f",
                 "port 50 60 x", SEL_CAP);
    /* tcpdump -r FILE EXPR: a misspelt command after -r is taken for a filter, and said so. */
    EXPECT_USAGE("-f 'diagnos': can't parse filter expression: syntax error (link type EN10MB) (with -r, the words "
                 "after the options are a capture filter; did you mean the command 'diagnose' first?)",
                 "-r", SEL_CAP, "diagnos");
    EXPECT_USAGE("a capture filter twice: -f 'tcp' and 'udp...' after -r (one or the other)", "-f", "tcp", "-r",
                 SEL_CAP, "udp");
    /* "-r a.pcap b.pcap": a second capture after -r is not a filter that fails to parse. */
    EXPECT_USAGE("'" SEL_T38 "' after -r is read as a capture filter (as tcpdump -r FILE EXPR); give each capture "
                 "its own -r, or name them all without -r", "-r", SEL_CAP, SEL_T38);
}
END_TEST

START_TEST(a_trailing_expression_after_r_filters_as_tcpdump)
{
    /* Only call 4's TCP passes: its frames keep their numbers (54: the INVITE, as tshark numbers it). */
    RUN(&r, "messages", "-r", SEL_CAP, "tcp", "port", "5060");
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "  54 "));
    ck_assert_ptr_null(strstr(r.out, "UDP"));
    RUN(&r, "messages", "-f", "tcp port 5060", SEL_CAP);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "  54 "));
    ck_assert_ptr_null(strstr(r.out, "UDP"));
    RUN(&r, "summary", "-q", "-r", SEL_CAP, "tcp");
    ck_assert_ptr_nonnull(strstr(r.out, "no match for the capture filter (-f)"));
}
END_TEST

START_TEST(save_writes_the_selected_frames)
{
    char out[] = "/tmp/check_cli_saveXXXXXX";
    int fd = mkstemp(out);
    ck_assert(fd >= 0);
    close(fd);
    RUN(&r, "save", "--call", "4", SEL_CAP, "-w", out);
    ck_assert_int_eq(r.status, 0);
    char want[256];
    snprintf(want, sizeof want, "sipladder: 15 of 65 frames written to %s\n", out);
    ck_assert_str_eq(r.err, want);
    RUN(&r, "calls", "-q", out);
    ck_assert_ptr_nonnull(strstr(r.out, "Calls: 1\ncall 1 "));
    ck_assert_ptr_nonnull(strstr(r.out, "sip:erin@example.com -> sip:bob@example.com  rejected 403"));
    RUN(&r, "save", "--call", "*9999*", SEL_CAP, "-w", out);
    ck_assert_int_eq(r.status, 6);
    RUN(&r, "save", "--call", "1", SEL_CAP, "-w", "/nonexistent-dir/x.pcap");
    ck_assert_int_eq(r.status, 5);
    ck_assert_ptr_nonnull(strstr(r.err, "cannot write /nonexistent-dir/x.pcap"));
    unlink(out);
}
END_TEST

/* ---- issue 15 items 3 and 8: standard input, compressed captures, hostile
 * timestamps ---- */

/* Run with standard input from `path` (source-root relative; NULL: empty):
 * a pipe fed by a writer process when `as_pipe`, else the file itself. */
static void run_stdin(result *res, const char *path, bool as_pipe, const char *const *args)
{
    char full[4096];
    snprintf(full, sizeof full, "%s/%s", getenv("SL_SOURCE_ROOT"), path ? path : "/dev/null");
    int saved = dup(0), fd = open(path ? full : "/dev/null", O_RDONLY);
    ck_assert(saved >= 0 && fd >= 0);
    pid_t writer = -1;
    if (as_pipe) {
        int p[2];
        ck_assert_int_eq(pipe(p), 0);
        writer = fork();
        ck_assert(writer >= 0);
        if (writer == 0) {
            close(p[0]);
            char buf[4096];
            ssize_t n;
            while ((n = read(fd, buf, sizeof buf)) > 0)
                if (write(p[1], buf, (size_t)n) != n)
                    _exit(1);
            _exit(0);
        }
        close(fd);
        close(p[1]);
        fd = p[0];
    }
    dup2(fd, 0);
    close(fd);
    run(res, args);
    dup2(saved, 0);
    close(saved);
    if (writer > 0)
        waitpid(writer, NULL, 0);
}

#define RUN_STDIN(r, path, as_pipe, ...)                                                                       \
    do {                                                                                                       \
        const char *const args_[] = {__VA_ARGS__, NULL};                                                      \
        run_stdin(r, path, as_pipe, args_);                                                                   \
    } while (0)

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

START_TEST(standard_input_is_read_as_tcpdump_reads_it)
{
    static const char plain[] = "testdata/tcp/normal-exchange.pcap";
    static const char gz[] = "testdata/malformed/compressed-normal-exchange.pcap.gz";
    /* tcpdump -w - | sipladder summary -r -  (a pipe: cannot be rewound) */
    RUN_STDIN(&r, plain, true, "summary", "-q", "-r", "-");
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "frames: 21,"));
    ck_assert_str_eq(r.err, "");
    /* a positional '-', and compressed data on a pipe */
    RUN_STDIN(&r, gz, true, "summary", "-q", "-");
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "frames: 21,"));
    /* < file: a regular file as standard input */
    RUN_STDIN(&r, gz, false, "diagnose", "-r", "-");
    ck_assert_int_eq(r.status, 0);
    /* standard input merged with a file, as two files are */
    RUN_STDIN(&r, plain, true, "summary", "-q", "-", "testdata/tcp/refused-closed-port.pcap");
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "capture: -"));
    ck_assert_ptr_nonnull(strstr(r.out, "capture: testdata/tcp/refused-closed-port.pcap"));
    /* nothing written to it, given twice: one line each, exit 3 */
    RUN_STDIN(&r, NULL, true, "summary", "-r", "-");
    ck_assert_int_eq(r.status, 3);
    ck_assert_str_eq(r.err, "sipladder: standard input is empty: no capture was written to it\n");
    RUN_STDIN(&r, plain, true, "summary", "-", "-");
    ck_assert_int_eq(r.status, 3);
    ck_assert_str_eq(r.err, "sipladder: standard input ('-') given 2 times: it can be read once\n");
    /* --help and the man page say how */
    RUN(&r, "--help");
    ck_assert_ptr_nonnull(strstr(r.out, "'-' is standard"));
    ck_assert_ptr_nonnull(strstr(r.out, "gzip, zstd and lz4"));
}
END_TEST

START_TEST(empty_and_compressed_files_say_what_they_are)
{
    RUN(&r, "summary", "testdata/malformed/empty.pcap");
    ck_assert_int_eq(r.status, 3);
    ck_assert_str_eq(r.err, "sipladder: testdata/malformed/empty.pcap: empty file\n");
    RUN(&r, "summary", "testdata/malformed/compressed-empty-inside.pcap.gz");
    ck_assert_int_eq(r.status, 3);
    ck_assert_uint_eq(count_lines(r.err), 1);
    ck_assert_ptr_nonnull(strstr(r.err, "empty file inside the gzip compression"));
    /* a cut gzip stream: what came before it is analysed, exit 4 */
    RUN(&r, "summary", "-q", "testdata/malformed/compressed-cut.pcap.gz");
    ck_assert_int_eq(r.status, 4);
    ck_assert_ptr_nonnull(strstr(r.out, "frames: 12,"));
    ck_assert_ptr_nonnull(strstr(r.err, "capture ends early after 12 frames"));
    ck_assert_ptr_nonnull(strstr(r.err, "gzip data ends early: the compressed file is cut short"));
    RUN(&r, "summary", "-q", "testdata/malformed/compressed-damaged.pcap.gz");
    ck_assert_int_eq(r.status, 4);
    ck_assert_ptr_nonnull(strstr(r.err, "gzip data is corrupt"));
    /* named by their bytes, not their names */
    RUN(&r, "summary", "-q", "testdata/malformed/compressed-gzip-named-plain.pcap");
    ck_assert_int_eq(r.status, 0);
    RUN(&r, "summary", "-q", "testdata/malformed/compressed-plain-named-gz.pcap.gz");
    ck_assert_int_eq(r.status, 0);
    RUN(&r, "summary", "testdata/malformed/compressed-xz.pcap.xz");
    ck_assert_int_eq(r.status, 3);
    ck_assert_ptr_nonnull(strstr(r.err, "compressed with xz, which sipladder does not read"));
}
END_TEST

START_TEST(timestamps_out_of_range_are_clamped_and_said_once)
{
    RUN(&r, "summary", "-q", "testdata/malformed/timestamps-far-future.pcapng");
    ck_assert_int_eq(r.status, 0);
    ck_assert_uint_eq(count_lines(r.err), 1);
    ck_assert_ptr_nonnull(strstr(r.err, "frame 2: timestamp out of range (18446744073 s"));
    ck_assert_ptr_nonnull(strstr(r.out, "to 2106-02-07 06:28:15.999999 UTC"));
    RUN(&r, "diagnose", "testdata/malformed/timestamps-interface-offsets.pcapng");
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "answered 200"));
    /* a well-formed capture gets no such warning */
    RUN(&r, "summary", "-q", "testdata/tcp/normal-exchange.pcap");
    ck_assert_str_eq(r.err, "");
}
END_TEST
/* ---- end of issue 15 items 3 and 8 ---- */

int main(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("commands");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, help_and_version);
    tcase_add_test(tc, usage_errors_exit_2);
    tcase_add_test(tc, unreadable_inputs_exit_3);
    tcase_add_test(tc, truncated_capture_exit_4_with_what_came_before);
    tcase_add_test(tc, output_file_and_unwritable_output);
    tcase_add_test(tc, a_full_disk_is_an_output_error);
    tcase_add_test(tc, an_unusable_tmpdir_is_warned_of);
    tcase_add_test(tc, summary_names_and_color);
    tcase_add_test(tc, several_files_are_one_capture);
    /* issue 15 item 4 */
    tcase_add_test(tc, unknown_and_misplaced_commands_are_named);
    tcase_add_test(tc, a_capture_named_like_a_command);
    tcase_add_test(tc, an_option_the_command_does_not_take_is_an_error);
    tcase_add_test(tc, decode_names_the_ports_and_protocols_it_takes);
    tcase_add_test(tc, every_number_is_checked_against_its_range);
    tcase_add_test(tc, colour_on_a_terminal_follows_term_and_no_color);
    tcase_add_test(tc, every_option_is_in_help_and_the_man_page);
    tcase_add_test(tc, suggestions_are_near_and_never_far);
    tcase_add_test(tc, unknown_options_name_the_nearest);
    tcase_add_test(tc, an_option_for_few_commands_names_them_in_the_man_page);
    tcase_add_test(tc, the_man_page_renders_without_warnings);
    /* issue 15 items 1 and 2 */
    tcase_add_test(tc, selection_narrows_every_view);
    tcase_add_test(tc, nothing_selected_exits_6_and_says_what_exists);
    tcase_add_test(tc, selection_usage_errors);
    tcase_add_test(tc, a_trailing_expression_after_r_filters_as_tcpdump);
    tcase_add_test(tc, save_writes_the_selected_frames);
    /* issue 15 items 3 and 8 */
    tcase_add_test(tc, standard_input_is_read_as_tcpdump_reads_it);
    tcase_add_test(tc, empty_and_compressed_files_say_what_they_are);
    tcase_add_test(tc, timestamps_out_of_range_are_clamped_and_said_once);
    suite_add_tcase(s, tc);
    return sl_check_run(s);
}
