/* support.c - where the test data is, and a test that cannot run without
 * an input skipping itself (support.h).  libc and Check only. */
#include "support.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *source_root(void)
{
    const char *r = getenv("SL_SOURCE_ROOT");
    return r && *r ? r : ".";
}

const char *sl_test_path(char *buf, size_t len, const char *rel)
{
    snprintf(buf, len, "%s/%s", source_root(), rel);
    return buf;
}

const char *sl_test_corpus(char *buf, size_t len, const char *name)
{
    const char *testdata = getenv("SL_TESTDATA");
    if (testdata && *testdata)
        snprintf(buf, len, "%s/corpus/%s", testdata, name);
    else
        snprintf(buf, len, "%s/testdata/corpus/%s", source_root(), name);
    return buf;
}

const char *sl_test_data(char *buf, size_t len, const char *rel)
{
    if (strncmp(rel, "corpus/", 7) == 0)
        return sl_test_corpus(buf, len, rel + 7);
    return sl_test_path(buf, len, rel);
}

void sl_test_skip(const char *why, const char *what)
{
    /* Check ends the test here (a longjmp, or the forked child's exit). */
    ck_abort_msg(SL_TEST_SKIP_PREFIX "%s %s", why, what);
    abort(); /* not reached: ck_abort_msg does not return */
}

void sl_test_need_file(const char *path)
{
    if (access(path, R_OK) != 0)
        sl_test_skip("input missing:", path);
}

bool sl_test_have_program(const char *name)
{
    const char *path = getenv("PATH");
    if (!path || strchr(name, '/'))
        return strchr(name, '/') && access(name, X_OK) == 0;
    char dir[4096];
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, ":");
        snprintf(dir, sizeof dir, "%.*s/%s", (int)n, n ? p : ".", name);
        if (access(dir, X_OK) == 0)
            return true;
        p += n;
        if (*p == ':')
            p++;
    }
    return false;
}

void sl_test_need_program(const char *name)
{
    if (!sl_test_have_program(name))
        sl_test_skip("program not installed:", name);
}
