/* check_bytes.c - the growable byte buffer (bytes.h): appends keep every
 * byte in order across growth, the first capacity is the one asked for. */
#include <check.h>
#include <string.h>

#include "check_run.h"
#include "sipladder/bytes.h"

START_TEST(appends_grow_and_keep_order)
{
    sl_bytes b = {0};
    ck_assert(sl_bytes_append(&b, "ab", 2, 4));
    ck_assert_uint_eq(b.cap, 4);
    ck_assert(sl_bytes_append(&b, "cdefghij", 8, 4)); /* 10 bytes: 4 -> 8 -> 16 */
    ck_assert_uint_eq(b.cap, 16);
    ck_assert_uint_eq(b.len, 10);
    ck_assert(memcmp(b.p, "abcdefghij", 10) == 0);
    ck_assert(sl_bytes_append(&b, NULL, 0, 4)); /* nothing: no change */
    ck_assert_uint_eq(b.len, 10);
    uint8_t big[5000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)i;
    ck_assert(sl_bytes_append(&b, big, sizeof big, 4));
    ck_assert_uint_eq(b.len, 5010);
    ck_assert(memcmp(b.p + 10, big, sizeof big) == 0);
    sl_bytes_free(&b);
    ck_assert_ptr_null(b.p);
    ck_assert_uint_eq(b.len + b.cap, 0);
    sl_bytes_free(NULL);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("bytes");
    TCase *t = tcase_create("bytes");
    tcase_add_test(t, appends_grow_and_keep_order);
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return sl_check_run(suite()); }
