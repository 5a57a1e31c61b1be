/* check_run.h - the one way every suite runs: all tests, the exit status
 * meson reads (Check's own summary line goes to stdout). */
#ifndef SIPLADDER_TESTS_CHECK_RUN_H
#define SIPLADDER_TESTS_CHECK_RUN_H

#include <check.h>
#include <stdlib.h>

/* Run the suite (owned from here on) and say whether every test passed. */
static inline int sl_check_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
