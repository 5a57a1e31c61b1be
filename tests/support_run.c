/* support_run.c - one capture through the pipeline for a test (support.h):
 * the analysis, then the calls and the diagnosis when asked.  Kept apart
 * from support.c so that suites without the core library can link the
 * paths alone. */
#include "support.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "sipladder/status.h"

void sl_test_run_file(sl_test_run *r, const char *path, const sl_test_opts *opts)
{
    static const sl_test_opts none = {0};
    const sl_test_opts *o = opts ? opts : &none;
    memset(r, 0, sizeof *r);
    snprintf(r->path, sizeof r->path, "%s", path);
    r->files[0] = r->path;
    sl_test_need_file(r->path);
    sl_config defaults;
    memset(&defaults, 0, sizeof defaults); /* every option not set here off, those added later too */
    sl_limits_default(&defaults.limits);
    r->a = sl_analysis_new(o->cfg ? o->cfg : &defaults, o->registry, o->hooks);
    ck_assert_ptr_nonnull(r->a);
    if (o->prepare)
        o->prepare(r->a, o->prepare_ctx);
    r->rc = sl_analysis_run(r->a, r->files, 1);
    if (!o->any_rc)
        ck_assert_msg(r->rc == 0 || (o->truncated_ok && r->rc == -SL_ETRUNC), "%s: run returned %d", path, r->rc);
    r->m = sl_analysis_model(r->a);
    if (o->calls || o->diagnose) {
        r->calls = sl_calls_build(r->m, NULL, o->max_call_messages);
        ck_assert_ptr_nonnull(r->calls);
    }
    if (o->diagnose)
        ck_assert_int_eq(sl_diagnose(r->m, r->calls, NULL, &r->diag), 0);
}

void sl_test_run_data(sl_test_run *r, const char *rel, const sl_test_opts *opts)
{
    char path[4096];
    sl_test_run_file(r, sl_test_data(path, sizeof path, rel), opts);
}

void sl_test_run_free(sl_test_run *r)
{
    sl_diagnoses_clear(&r->diag);
    sl_calls_free(r->calls);
    sl_analysis_free(r->a);
    memset(r, 0, sizeof *r);
}
