/* check_fuzz_regressions.c - replay fuzz reproducers and seeds through the
 * fuzz targets' own entry points (tests/fuzz/fuzz_*.c, each built with
 * -DFZ_ENTRY=fz_run_<target>), so every finding stays fixed in the ordinary
 * (and ASan/UBSan) test runs:
 *   testdata/malformed/             the pipeline (capture files)
 *   tests/fuzz/regressions/<target>/ reproducers of findings
 *   tests/fuzz/corpus/<target>/      the committed seeds
 * and check that the in-memory pipeline entry reads a file image exactly as
 * the file reader does. */
#include <check.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipladder/analysis.h"
#include "sipladder/config.h"
#include "sipladder/model.h"
#include "sipladder/status.h"
#include "check_run.h"

int fz_run_pipeline(const uint8_t *data, size_t size);
int fz_run_tcp_reasm(const uint8_t *data, size_t size);
int fz_run_tls(const uint8_t *data, size_t size);
int fz_run_sip(const uint8_t *data, size_t size);
int fz_run_sdp(const uint8_t *data, size_t size);
int fz_run_x509(const uint8_t *data, size_t size);
int fz_run_ws(const uint8_t *data, size_t size);
int fz_run_exp_log(const uint8_t *data, size_t size);
int fz_run_compare(const uint8_t *data, size_t size);

typedef int (*entry_fn)(const uint8_t *data, size_t size);

static const char *root(void)
{
    const char *r = getenv("SL_SOURCE_ROOT");
    return r ? r : ".";
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    ck_assert_msg(fp != NULL, "cannot open %s", path);
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? 2 * cap : 4096;
            buf = realloc(buf, cap);
            ck_assert_ptr_nonnull(buf);
        }
        size_t got = fread(buf + n, 1, cap - n, fp);
        if (got == 0)
            break;
        n += got;
    }
    fclose(fp);
    *len = n;
    return buf;
}

/* Feed every regular file of ROOT/rel to fn; returns how many. */
static size_t replay_dir(const char *rel, entry_fn fn)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", root(), rel);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "README") == 0)
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len;
        uint8_t *buf = slurp(path, &len);
        /* Named on stderr first: a crash then says which file did it. */
        fprintf(stderr, "replay %s\n", path);
        ck_assert_int_eq(fn(buf, len), 0);
        free(buf);
        count++;
    }
    closedir(d);
    return count;
}

typedef struct target {
    const char *name;
    entry_fn fn;
} target;

static const target targets[] = {
    {"pipeline", fz_run_pipeline}, {"tcp_reasm", fz_run_tcp_reasm}, {"tls", fz_run_tls},
    {"sip", fz_run_sip},           {"sdp", fz_run_sdp},             {"x509", fz_run_x509},
    {"ws", fz_run_ws},
    {"compare", fz_run_compare},
    {"exp_log", fz_run_exp_log},
};

START_TEST(test_seeds)
{
    char rel[256];
    snprintf(rel, sizeof rel, "tests/fuzz/corpus/%s", targets[_i].name);
    ck_assert_msg(replay_dir(rel, targets[_i].fn) > 0, "no seeds in %s", rel);
}
END_TEST

START_TEST(test_regressions)
{
    char rel[256];
    snprintf(rel, sizeof rel, "tests/fuzz/regressions/%s", targets[_i].name);
    (void)replay_dir(rel, targets[_i].fn); /* a target may have none yet */
}
END_TEST

START_TEST(test_malformed_pipeline)
{
    ck_assert_uint_gt(replay_dir("testdata/malformed", fz_run_pipeline), 10);
}
END_TEST

/* One capture through sl_analysis_run (file) and sl_analysis_run_memory. */
static void compare_file_and_memory(const char *path)
{
    sl_config cfg = {0};
    sl_limits_default(&cfg.limits);
    sl_analysis *af = sl_analysis_new(&cfg, NULL, NULL);
    sl_analysis *am = sl_analysis_new(&cfg, NULL, NULL);
    ck_assert_ptr_nonnull(af);
    ck_assert_ptr_nonnull(am);
    const char *files[] = {path};
    size_t len;
    uint8_t *buf = slurp(path, &len);
    int rf = sl_analysis_run(af, files, 1);
    int rm = sl_analysis_run_memory(am, buf, len);
    const sl_model *mf = sl_analysis_model(af), *mm = sl_analysis_model(am);
    ck_assert_msg(rf == rm, "%s: file %d, memory %d", path, rf, rm);
    ck_assert_uint_eq(mf->capture.frames, mm->capture.frames);
    ck_assert_uint_eq(mf->n_conns, mm->n_conns);
    ck_assert_uint_eq(mf->n_sip, mm->n_sip);
    ck_assert_uint_eq(mf->n_anomalies, mm->n_anomalies);
    ck_assert_uint_eq(mf->n_warnings, mm->n_warnings);
    sl_analysis_free(af);
    sl_analysis_free(am);
    free(buf);
}

START_TEST(test_memory_matches_file)
{
    static const char *const rel[] = {
        "testdata/malformed/truncated-mid-record.pcap", "testdata/malformed/pcapng-bad-block-length.pcapng",
        "testdata/malformed/ipv4-fragment-overlap.pcap", "testdata/sip/udp-call-invite-100-180-200-ack-bye.pcap",
        "testdata/tls/tls12-mutual.pcap",
    };
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", root(), rel[i]);
        compare_file_and_memory(path);
    }
}
END_TEST

START_TEST(test_memory_empty_and_garbage)
{
    sl_config cfg = {0};
    sl_limits_default(&cfg.limits);
    static const uint8_t garbage[] = "not a capture at all, just text";
    sl_analysis *a = sl_analysis_new(&cfg, NULL, NULL);
    ck_assert_int_eq(sl_analysis_run_memory(a, garbage, 0), -SL_EIO);
    ck_assert_uint_eq(sl_analysis_model(a)->n_warnings, 1);
    sl_analysis_free(a);
    a = sl_analysis_new(&cfg, NULL, NULL);
    ck_assert_int_eq(sl_analysis_run_memory(a, garbage, sizeof garbage - 1), -SL_EIO);
    ck_assert_ptr_nonnull(strstr(sl_analysis_model(a)->warnings[0], "<memory>: not a readable"));
    sl_analysis_free(a);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("fuzz_regressions");
    TCase *tc = tcase_create("replay");
    tcase_set_timeout(tc, 300);
    size_t n = sizeof targets / sizeof targets[0];
    tcase_add_loop_test(tc, test_seeds, 0, (int)n);
    tcase_add_loop_test(tc, test_regressions, 0, (int)n);
    tcase_add_test(tc, test_malformed_pipeline);
    tcase_add_test(tc, test_memory_matches_file);
    tcase_add_test(tc, test_memory_empty_and_garbage);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return sl_check_run(suite());
}
