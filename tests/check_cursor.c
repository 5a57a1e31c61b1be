/* check_cursor.c - the bounds-checked reader never reads past its buffer. */
#include <check.h>
#include <stdlib.h>

#include "sipladder/cursor.h"
#include "check_run.h"

START_TEST(reads_big_and_little_endian)
{
    const uint8_t b[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};
    sl_cursor c;
    sl_cursor_init(&c, b, sizeof b);
    ck_assert_uint_eq(sl_cursor_u8(&c), 0x01);
    ck_assert_uint_eq(sl_cursor_u16be(&c), 0x0203);
    ck_assert_uint_eq(sl_cursor_u24be(&c), 0x040506);
    ck_assert_uint_eq(sl_cursor_u16le(&c), 0x0807);
    ck_assert_uint_eq(sl_cursor_left(&c), 1);
    ck_assert(sl_cursor_ok(&c));
    sl_cursor_init(&c, b, sizeof b);
    ck_assert_uint_eq(sl_cursor_u32be(&c), 0x01020304);
    ck_assert_uint_eq(sl_cursor_u32le(&c), 0x08070605);
    sl_cursor_init(&c, b, sizeof b);
    ck_assert_uint_eq(sl_cursor_u64le(&c), 0x0807060504030201ull);
}
END_TEST

START_TEST(overrun_is_sticky_and_reads_zero)
{
    const uint8_t b[] = {0xff, 0xff, 0xff};
    sl_cursor c;
    sl_cursor_init(&c, b, sizeof b);
    ck_assert_uint_eq(sl_cursor_u32be(&c), 0);
    ck_assert(!sl_cursor_ok(&c));
    /* Even a read that would fit is refused after an overrun. */
    ck_assert_uint_eq(sl_cursor_u8(&c), 0);
    ck_assert_uint_eq(sl_cursor_left(&c), 0);
    ck_assert_ptr_null(sl_cursor_bytes(&c, 0));
}
END_TEST

START_TEST(huge_length_cannot_wrap)
{
    const uint8_t b[4] = {0};
    sl_cursor c;
    sl_cursor_init(&c, b, sizeof b);
    sl_cursor_u8(&c);
    ck_assert(!sl_cursor_skip(&c, SIZE_MAX));
    ck_assert(!sl_cursor_ok(&c));
}
END_TEST

START_TEST(sub_cursor_is_fenced)
{
    const uint8_t b[] = {0x00, 0x02, 0xaa, 0xbb, 0xcc};
    sl_cursor c;
    sl_cursor_init(&c, b, sizeof b);
    uint16_t n = sl_cursor_u16be(&c);
    sl_cursor sub = sl_cursor_sub(&c, n);
    ck_assert_uint_eq(sl_cursor_u16be(&sub), 0xaabb);
    ck_assert_uint_eq(sl_cursor_u8(&sub), 0); /* 0xcc belongs to the parent */
    ck_assert(!sl_cursor_ok(&sub));
    ck_assert(sl_cursor_ok(&c));
    ck_assert_uint_eq(sl_cursor_u8(&c), 0xcc);

    sl_cursor_init(&c, b, sizeof b);
    sl_cursor bad = sl_cursor_sub(&c, 6);
    ck_assert(!sl_cursor_ok(&bad) && !sl_cursor_ok(&c));
    ck_assert_uint_eq(sl_cursor_left(&bad), 0);
}
END_TEST

START_TEST(peek_does_not_move_or_poison)
{
    const uint8_t b[] = {7, 8};
    sl_cursor c;
    uint8_t v = 0;
    sl_cursor_init(&c, b, sizeof b);
    ck_assert(sl_cursor_peek_u8(&c, 1, &v));
    ck_assert_uint_eq(v, 8);
    ck_assert(!sl_cursor_peek_u8(&c, 2, &v));
    ck_assert(sl_cursor_ok(&c));
    ck_assert_uint_eq(c.pos, 0);
}
END_TEST

START_TEST(null_buffer_is_empty)
{
    sl_cursor c;
    sl_cursor_init(&c, NULL, 10);
    ck_assert_uint_eq(sl_cursor_left(&c), 0);
    ck_assert_uint_eq(sl_cursor_u8(&c), 0);
    ck_assert(!sl_cursor_ok(&c));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cursor");
    TCase *tc = tcase_create("reads");
    tcase_add_test(tc, reads_big_and_little_endian);
    tcase_add_test(tc, overrun_is_sticky_and_reads_zero);
    tcase_add_test(tc, huge_length_cannot_wrap);
    tcase_add_test(tc, sub_cursor_is_fenced);
    tcase_add_test(tc, peek_does_not_move_or_poison);
    tcase_add_test(tc, null_buffer_is_empty);
    suite_add_tcase(s, tc);
    return sl_check_run(s);
}
