/* support.h - what the Check suites share: where the test data is, a test
 * that cannot run without an input saying so (SKIP, never a silent pass),
 * and the pipeline run on one capture (analysis, then optionally calls and
 * diagnosis).
 *
 * Paths: SL_SOURCE_ROOT is the repository (tests/meson.build sets it; "."
 * without it), SL_TESTDATA the folder holding corpus/ (testdata/ of the
 * repository; "testdata" under the root without it).
 *
 * support.c (paths, skip) needs only libc and Check; support_run.c (the
 * pipeline) needs the core library: a suite links the one static library
 * and gets only the object it uses. */
#ifndef SIPLADDER_TESTS_SUPPORT_H
#define SIPLADDER_TESTS_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "sipladder/analysis.h"
#include "sipladder/calls.h"
#include "sipladder/diagnose.h"
#include "sipladder/model.h"

/* The message prefix of a skipped test: sl_check_run (check_run.h) turns a
 * run whose only failures carry it into exit 77, meson's "skipped". */
#define SL_TEST_SKIP_PREFIX "SKIP: "

/* $SL_SOURCE_ROOT/rel into buf; returns buf. */
const char *sl_test_path(char *buf, size_t len, const char *rel);
/* $SL_TESTDATA/corpus/name into buf; returns buf. */
const char *sl_test_corpus(char *buf, size_t len, const char *name);
/* The repository file rel, or (with the prefix "corpus/") the corpus file:
 * the one spelling the suites' tables use. */
const char *sl_test_data(char *buf, size_t len, const char *rel);

/* End the running test as skipped (a Check failure whose message starts
 * with SL_TEST_SKIP_PREFIX) with why it cannot run. */
void sl_test_skip(const char *why, const char *what) __attribute__((noreturn));
/* Skip the running test unless path is a readable file. */
void sl_test_need_file(const char *path);
/* Skip the running test unless the program is on PATH (e.g. "tshark"). */
void sl_test_need_program(const char *name);
/* Whether the program is on PATH. */
bool sl_test_have_program(const char *name);

/* What a run does beyond the analysis.  Zero: default limits, no hooks,
 * the default dissectors, the run must return 0, no calls, no diagnosis. */
typedef struct sl_test_opts {
    const sl_config *cfg;            /* NULL: default limits, every option off */
    const sl_registry *registry;     /* NULL: the default dissectors */
    const sl_analysis_hooks *hooks;  /* NULL: none */
    bool any_rc;                     /* the caller checks rc itself */
    bool truncated_ok;               /* rc -SL_ETRUNC passes too */
    bool calls;                      /* sl_calls_build */
    bool diagnose;                   /* sl_diagnose (implies calls) */
    size_t max_call_messages;        /* for sl_calls_build; 0: no cap */
    /* Called between sl_analysis_new and the run (e.g. to set a model cap
     * that has no option), with prepare_ctx. */
    void (*prepare)(sl_analysis *a, const void *prepare_ctx);
    const void *prepare_ctx;
} sl_test_opts;

/* One capture through the pipeline. */
typedef struct sl_test_run {
    sl_analysis *a;
    const sl_model *m;
    sl_calls *calls;       /* with opts.calls or opts.diagnose */
    sl_diagnoses diag;     /* with opts.diagnose */
    int rc;                /* sl_analysis_run's */
    char path[4096];
    const char *files[1];  /* the model borrows the name */
} sl_test_run;

/* Run the capture at path (skipped when it is missing). */
void sl_test_run_file(sl_test_run *r, const char *path, const sl_test_opts *opts);
/* The same on sl_test_data(rel). */
void sl_test_run_data(sl_test_run *r, const char *rel, const sl_test_opts *opts);
/* Free what the run made (NULL-safe parts); r is zeroed. */
void sl_test_run_free(sl_test_run *r);

#endif
