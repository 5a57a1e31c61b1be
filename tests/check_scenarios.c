/* check_scenarios.c - the diagnosis against testdata/scenarios/EXPECTED.tsv
 * (one real capture per verdict of SCENARIOS.md, made by
 * tests/captures/make_scenarios.py; its evidence frames were read back with
 * tshark).  For every row: the whole pipeline, the correlation and the
 * rules on the file, then
 *   - "healthy": no verdict at all, or only informational ones;
 *   - otherwise exactly one verdict, with the row's code, rejected_by
 *     ip:port (or, for "-", no known sender), role, and every expected
 *     evidence frame among the verdict's evidence;
 *   - sip.register.ok: its verdict is informational (healthy set).
 * The table is read at run time, so a row added to EXPECTED.tsv is tested
 * without touching this file. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipladder/analysis.h"
#include "sipladder/calls.h"
#include "sipladder/diagnose.h"
#include "sipladder/model.h"
#include "sipladder/status.h"
#include "check_run.h"
#include "support.h"

#define MAX_ROWS 128
#define MAX_EV 32

typedef struct row {
    char file[128];
    char verdict[64];
    char rejected_by[80]; /* "ip:port" or "-" */
    char role[16];        /* role name or "-" */
    uint64_t ev[MAX_EV];
    size_t n_ev;
    char notes[256];
} row;

typedef struct table {
    row rows[MAX_ROWS];
    size_t n;
} table;

static table TABLE;

/* Cells longer than the field are cut: the table's cells are short. */
static void copy_field(char *dst, size_t len, const char *src)
{
    size_t n = src ? strnlen(src, len - 1) : 0;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

static void parse_evidence(row *r, char *s)
{
    r->n_ev = 0;
    if (strcmp(s, "-") == 0)
        return;
    for (char *save = NULL, *tok = strtok_r(s, ",", &save); tok && r->n_ev < MAX_EV; tok = strtok_r(NULL, ",", &save))
        r->ev[r->n_ev++] = strtoull(tok, NULL, 10);
}

/* One line: file verdict rejected_by role evidence notes (tab-separated). */
static bool parse_row(char *line, row *r)
{
    char *f[6] = {0};
    size_t n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    for (char *p = line; n < 6; n++) {
        f[n] = p;
        char *tab = strchr(p, '\t');
        if (!tab) {
            n++;
            break;
        }
        *tab = '\0';
        p = tab + 1;
    }
    if (n < 5)
        return false;
    copy_field(r->file, sizeof r->file, f[0]);
    copy_field(r->verdict, sizeof r->verdict, f[1]);
    copy_field(r->rejected_by, sizeof r->rejected_by, f[2]);
    copy_field(r->role, sizeof r->role, f[3]);
    copy_field(r->notes, sizeof r->notes, f[5]);
    parse_evidence(r, f[4]);
    return true;
}

static size_t load_table(void)
{
    char path[4096], line[1024];
    sl_test_path(path, sizeof path, "testdata/scenarios/EXPECTED.tsv");
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 0;
    bool header = true;
    while (fgets(line, sizeof line, fp) && TABLE.n < MAX_ROWS) {
        if (header) {
            header = false;
            continue;
        }
        if (line[0] == '\n' || line[0] == '#')
            continue;
        if (parse_row(line, &TABLE.rows[TABLE.n]))
            TABLE.n++;
    }
    fclose(fp);
    return TABLE.n;
}

START_TEST(table_is_complete)
{
    /* One row per verdict of the catalogue that a lab can produce, and the
     * healthy baselines: a truncated or unreadable table fails here. */
    ck_assert_uint_ge(TABLE.n, 27);
    static const char *const codes[] = {"tcp.no_answer", "tcp.refused", "tcp.reset", "tls.alert.unknown_ca",
                                        "tls.closed_after_certificate", "sip.policy_reject", "sip.bandwidth_reject",
                                        "sip.no_final_response", "sip.codec_refused", "sip.oversize_reset",
                                        "sip.refresh_lost", "sip.param_stripped", "sip.register.auth_failed",
                                        "sip.register.ok", "dns.srv_failed", "dns.srv_port_mismatch", "healthy"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        bool found = false;
        for (size_t k = 0; k < TABLE.n && !found; k++)
            found = strcmp(TABLE.rows[k].verdict, codes[i]) == 0;
        ck_assert_msg(found, "EXPECTED.tsv has no %s row", codes[i]);
    }
}
END_TEST

static bool has_frame(const sl_diagnosis *d, uint64_t f)
{
    for (size_t i = 0; i < d->n_evidence; i++)
        if (d->evidence[i] == f)
            return true;
    return false;
}

static void list_verdicts(const sl_diagnoses *d, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < d->n && used < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i ? "," : "", d->list[i].code);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static void check_rejecter(const row *r, const sl_diagnosis *v)
{
    const char *role = r->role;
    char ap[SL_ADDR_PORT_STRLEN];
    sl_addr_port_format(&v->rejected_by.addr, v->rejected_by.port, ap, sizeof ap);
    if (strcmp(r->rejected_by, "-") == 0) {
        /* Nobody sent the rejection (network), or an informational verdict. */
        if (strcmp(r->role, "network") == 0)
            ck_assert_msg(!v->rejected_by.known, "%s: rejecter %s known", r->file, ap);
    } else {
        ck_assert_msg(strcmp(ap, r->rejected_by) == 0, "%s: rejected_by %s, expected %s", r->file, ap,
                      r->rejected_by);
    }
    if (strcmp(role, "-") != 0) {
        ck_assert_msg(strcmp(sl_role_name(v->rejected_by.role), role) == 0, "%s: role %s, expected %s", r->file,
                      sl_role_name(v->rejected_by.role), role);
        if (strcmp(role, "local") == 0 || strcmp(role, "remote") == 0)
            ck_assert_msg(v->rejected_by.local == (strcmp(role, "local") == 0), "%s: local flag", r->file);
    }
}

static void check_row(const row *r, const sl_diagnoses *d)
{
    char got[512];
    list_verdicts(d, got, sizeof got);
    if (strcmp(r->verdict, "healthy") == 0) {
        for (size_t i = 0; i < d->n; i++)
            ck_assert_msg(d->list[i].healthy, "%s: healthy capture got %s", r->file, d->list[i].code);
        return;
    }
    ck_assert_msg(d->n == 1, "%s: verdicts [%s], expected only %s", r->file, got, r->verdict);
    const sl_diagnosis *v = &d->list[0];
    ck_assert_msg(strcmp(v->code, r->verdict) == 0, "%s: verdict %s, expected %s", r->file, v->code, r->verdict);
    ck_assert(v->healthy == (strcmp(r->verdict, "sip.register.ok") == 0));
    check_rejecter(r, v);
    for (size_t i = 0; i < r->n_ev; i++)
        ck_assert_msg(has_frame(v, r->ev[i]), "%s: frame %llu not among the evidence", r->file,
                      (unsigned long long)r->ev[i]);
    ck_assert_ptr_nonnull(v->summary);
    ck_assert_uint_gt(v->n_causes, 0);
    /* A call's failure is tied to that call (the summary's call line names it). */
    if (strncmp(r->verdict, "sip.", 4) == 0 && strncmp(r->verdict, "sip.register.", 13) != 0)
        ck_assert_msg(v->call >= 0, "%s: %s not tied to a call", r->file, v->code);
}

START_TEST(scenario_row)
{
    ck_assert_uint_lt((size_t)_i, TABLE.n);
    const row *r = &TABLE.rows[_i];
    char rel[256];
    snprintf(rel, sizeof rel, "testdata/scenarios/%s", r->file);
    sl_test_run run;
    sl_test_run_data(&run, rel, &(sl_test_opts){.diagnose = true});
    check_row(r, &run.diag);
    sl_test_run_free(&run);
}
END_TEST

static Suite *scenarios_suite(void)
{
    Suite *s = suite_create("scenarios");
    TCase *tc = tcase_create("expected");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, table_is_complete);
    size_t n = load_table();
    tcase_add_loop_test(tc, scenario_row, 0, (int)(n ? n : 1));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return sl_check_run(scenarios_suite());
}
