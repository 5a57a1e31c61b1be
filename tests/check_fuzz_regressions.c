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

#include "fuzz/fuzz_feed.h"
#include "sipladder/analysis.h"
#include "sipladder/config.h"
#include "sipladder/exp_log.h"
#include "sipladder/model.h"
#include "sipladder/sip.h"
#include "sipladder/status.h"
#include "check_run.h"
#include "support.h"

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
    sl_test_path(dir, sizeof dir, rel);
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

/* ---- what each reproducer says, beyond "no crash" ---------------------- */

static void count_event(void *ctx, const sl_event *ev)
{
    (void)ev;
    (*(size_t *)ctx)++;
}

/* 0x98: TCP, client side, no byte after the mode: the SIP framer offered
 * an empty buffer says nothing (the finding read before the buffer). */
static void says_sip_empty_tcp_input(const uint8_t *data, size_t len)
{
    ck_assert_uint_eq(len, 1);
    ck_assert_uint_eq(data[0] & 1, 0); /* TCP */
    size_t events = 0;
    fz_feeder f;
    ck_assert_int_eq(fz_feeder_init(&f, &sl_dissector_sip, SL_TRANSPORT_TCP, count_event, &events), 0);
    fz_feed(&f, SL_DIR_C2S, data + 1, 0);
    fz_feeder_done(&f);
    ck_assert_uint_eq(events, 0);
}

/* A network.sip entry whose SIPMSG block is never closed swallows the
 * lines after it, the year-7056 entry among them (the finding: that year
 * overflowed the ns arithmetic): one SIP entry at the UTCTime, its message
 * marked broken, and the three problems said with their lines. */
static void says_exp_log_year_overflow(const uint8_t *data, size_t len)
{
    sl_xlog *l = NULL;
    ck_assert_int_eq(sl_xlog_parse(data, len, "syslog-year-overflow", &l), 0);
    ck_assert_ptr_nonnull(l);
    ck_assert_uint_eq(l->entries_seen, 1);
    ck_assert_uint_eq(l->n, 1);
    const sl_xlog_entry *e = &l->e[0];
    ck_assert_int_eq(e->kind, SL_XLOG_SIP);
    ck_assert(e->has_time);
    ck_assert_int_eq(e->utc, (sl_time_ns)1476331120637000000LL); /* UTCTime 2016-10-13 03:58:40,637 */
    ck_assert(e->msg_broken);
    ck_assert(!e->has_addrs); /* Dst-port 99999 and a bad address are no address */
    ck_assert_uint_eq(l->n_problems, 3);
    ck_assert_uint_eq(l->problems_total, 3);
    bool unclosed = false, nul = false;
    for (size_t i = 0; i < l->n_problems; i++) {
        unclosed |= l->problems[i].line == 3 && strstr(l->problems[i].text, "not closed") != NULL;
        nul |= l->problems[i].line == 6 && strstr(l->problems[i].text, "NUL") != NULL;
    }
    ck_assert(unclosed && nul);
    sl_xlog_free(l);
}

typedef void (*says_fn)(const uint8_t *data, size_t len);

/* Every reproducer and what its output must say; NULL: the target checks
 * the result itself (fuzz_tcp_reasm asserts delivered bytes, frame maps,
 * the buffer cap and the final accounting, and aborts otherwise).  A
 * reproducer added without a row fails test_regressions. */
static const struct {
    const char *target, *file;
    says_fn says;
} REPRODUCERS[] = {
    {"sip", "empty-tcp-input", says_sip_empty_tcp_input},
    {"exp_log", "syslog-year-overflow", says_exp_log_year_overflow},
    {"tcp_reasm", "second-fin-without-payload", NULL},
};

START_TEST(test_regressions)
{
    char rel[256], dir[4096];
    snprintf(rel, sizeof rel, "tests/fuzz/regressions/%s", targets[_i].name);
    (void)replay_dir(rel, targets[_i].fn); /* a target may have none yet */
    DIR *d = opendir(sl_test_path(dir, sizeof dir, rel));
    if (!d)
        return; /* no finding for this target yet */
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "README") == 0)
            continue;
        size_t row = 0, n_rows = sizeof REPRODUCERS / sizeof REPRODUCERS[0];
        while (row < n_rows &&
               (strcmp(REPRODUCERS[row].target, targets[_i].name) != 0 || strcmp(REPRODUCERS[row].file, e->d_name) != 0))
            row++;
        ck_assert_msg(row < n_rows, "%s/%s: no row in REPRODUCERS saying what it must output", rel, e->d_name);
        if (!REPRODUCERS[row].says)
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len;
        uint8_t *buf = slurp(path, &len);
        REPRODUCERS[row].says(buf, len);
        free(buf);
    }
    closedir(d);
}
END_TEST

/* ---- testdata/malformed through the pipeline, and what each says -------- */

/* What sipladder reads from each hostile capture (frames, counted against
 * tshark where it reads them; the rest from the file's making script): the
 * run's code (0, -SL_ETRUNC cut short, -SL_EIO not a capture), the frames
 * read, the anomalies and warnings reported, the SIP messages.  A file of
 * the folder without a row fails: a new hostile capture says what it must
 * produce. */
static const struct {
    const char *file;
    int rc;
    uint64_t frames;
    size_t anomalies, warnings, sip;
} MALFORMED[] = {
    {"absurd-caplen.pcap", -SL_ETRUNC, 1, 1, 1, 0},
    {"bad-magic.pcap", -SL_EIO, 0, 0, 1, 0},
    {"caplen-gt-len.pcap", 0, 3, 4, 0, 0},
    {"caplen-gt-snaplen.pcap", 0, 3, 3, 0, 0},
    {"compressed-2-interfaces.pcapng.gz", 0, 6, 0, 0, 0},
    {"compressed-bzip2.pcap.bz2", -SL_EIO, 0, 0, 1, 0},
    {"compressed-cut.pcap.gz", -SL_ETRUNC, 12, 1, 1, 0},
    {"compressed-damaged.pcap.gz", -SL_ETRUNC, 25, 1, 1, 0},
    {"compressed-empty-inside.pcap.gz", -SL_EIO, 0, 0, 1, 0},
    {"compressed-gzip-named-plain.pcap", 0, 21, 0, 0, 0},
    {"compressed-normal-exchange.pcap.gz", 0, 21, 0, 0, 0},
    {"compressed-normal-exchange.pcap.lz4", 0, 21, 0, 0, 0},
    {"compressed-normal-exchange.pcap.zst", 0, 21, 0, 0, 0},
    {"compressed-plain-named-gz.pcap.gz", 0, 21, 0, 0, 0},
    {"compressed-two-members.pcap.gz", 0, 21, 0, 0, 0},
    {"compressed-xz.pcap.xz", -SL_EIO, 0, 0, 1, 0},
    {"empty.pcap", -SL_EIO, 0, 0, 1, 0},
    {"fuzz-sip-register-200-without-request.pcap", 0, 4, 2, 0, 1},
    {"header-only.pcap", 0, 0, 0, 0, 0},
    {"hostile-mermaid-sip.pcap", 0, 10, 0, 0, 10},
    {"hostile-strings-sip.pcap", 0, 2, 1, 0, 2},
    {"hostile-strings-tls.pcap", 0, 7, 0, 0, 0},
    {"ipv4-fragment-overlap.pcap", 0, 5, 4, 0, 0},
    {"ipv4-ihl-lt-20.pcap", 0, 3, 3, 0, 0},
    {"ipv4-total-length-gt-frame.pcap", 0, 3, 3, 0, 0},
    {"ipv6-ext-chain-past-end.pcap", 0, 3, 3, 0, 0},
    {"pcapng-bad-block-length.pcapng", -SL_ETRUNC, 1, 1, 1, 0},
    {"pcapng-truncated.pcapng", -SL_ETRUNC, 2, 0, 1, 0},
    {"tcp-data-offset-lt-5.pcap", 0, 3, 3, 0, 0},
    {"tcp-data-offset-past-end.pcap", 0, 3, 3, 0, 0},
    {"timestamps-far-future.pcapng", 0, 7, 0, 1, 7},
    {"timestamps-interface-offsets.pcapng", 0, 14, 0, 1, 2},
    {"truncated-header.pcap", -SL_EIO, 0, 0, 1, 0},
    {"truncated-mid-record.pcap", -SL_ETRUNC, 2, 0, 1, 0},
    {"truncated-record-header.pcap", -SL_ETRUNC, 2, 0, 1, 0},
    {"udp-length-zero.pcap", 0, 3, 3, 0, 0},
    {"vlan-100-tags.pcap", 0, 3, 3, 0, 0},
};

static bool is_capture_name(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && strcmp(name, "README") != 0 && !(n > 11 && strcmp(name + n - 11, ".tshark.tsv") == 0) &&
           !(n > 11 && strcmp(name + n - 11, ".tshark.err") == 0);
}

START_TEST(test_malformed_pipeline)
{
    ck_assert_uint_gt(replay_dir("testdata/malformed", fz_run_pipeline), 10);
    char dir[4096];
    DIR *d = opendir(sl_test_path(dir, sizeof dir, "testdata/malformed"));
    ck_assert_ptr_nonnull(d);
    size_t n_rows = sizeof MALFORMED / sizeof MALFORMED[0], seen = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!is_capture_name(e->d_name))
            continue;
        size_t row = 0;
        while (row < n_rows && strcmp(MALFORMED[row].file, e->d_name) != 0)
            row++;
        ck_assert_msg(row < n_rows, "testdata/malformed/%s: no row in MALFORMED saying what it must produce",
                      e->d_name);
        seen++;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        sl_test_run r;
        sl_test_run_file(&r, path, &(sl_test_opts){.any_rc = true});
        const char *f = e->d_name;
        ck_assert_msg(r.rc == MALFORMED[row].rc, "%s: run returned %d", f, r.rc);
        ck_assert_msg(r.m->capture.frames == MALFORMED[row].frames, "%s: %llu frames", f,
                      (unsigned long long)r.m->capture.frames);
        ck_assert_msg(r.m->n_anomalies == MALFORMED[row].anomalies, "%s: %zu anomalies", f, r.m->n_anomalies);
        ck_assert_msg(r.m->n_warnings == MALFORMED[row].warnings, "%s: %zu warnings", f, r.m->n_warnings);
        ck_assert_msg(r.m->n_sip == MALFORMED[row].sip, "%s: %zu SIP messages", f, r.m->n_sip);
        /* A run cut short or refused always says why. */
        if (r.rc != 0)
            ck_assert_msg(r.m->n_warnings > 0, "%s: code %d without a warning", f, r.rc);
        sl_test_run_free(&r);
    }
    closedir(d);
    ck_assert_uint_eq(seen, n_rows); /* every row's file is there */
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
        compare_file_and_memory(sl_test_path(path, sizeof path, rel[i]));
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
