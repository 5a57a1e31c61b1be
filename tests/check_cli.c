/* check_cli.c - the command line: documented exit codes and clear messages
 * for bad options and unreadable or damaged captures. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check_run.h"

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
        return;
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
    suite_add_tcase(s, tc);
    return sl_check_run(s);
}
