/* check_run.h - the one way every suite runs: all tests, the exit status
 * meson reads (Check's own summary line goes to stdout). */
#ifndef SIPLADDER_TESTS_CHECK_RUN_H
#define SIPLADDER_TESTS_CHECK_RUN_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Exit status meson counts as "skipped". */
#define SL_CHECK_EXIT_SKIP 77

/* Run the suite (owned from here on): 0 when every test passed, 77 when
 * the only failures are tests that could not run for a missing input
 * (their message starts with "SKIP: ", support.h's sl_test_skip), 1 else.
 * A skip is never a pass: scripts/test fails a run with one. */
static inline int sl_check_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr), skipped = 0;
    TestResult **res = srunner_failures(sr);
    for (int i = 0; res && i < failed; i++)
        skipped += strncmp(tr_msg(res[i]), "SKIP: ", 6) == 0;
    free(res);
    srunner_free(sr);
    if (skipped)
        fprintf(stderr, "%d test(s) skipped: an input is missing (see SKIP above)\n", skipped);
    if (!failed)
        return EXIT_SUCCESS;
    return failed == skipped ? SL_CHECK_EXIT_SKIP : EXIT_FAILURE;
}

#endif
