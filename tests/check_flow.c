/* check_flow.c - the flow table: both directions find one flow, idle flows
 * and flows over the cap are closed through the callback, never lost. */
#include <check.h>
#include <stdlib.h>

#include "sipladder/flow.h"
#include "check_run.h"

typedef struct closes {
    int n[4];
    uint16_t last_port;
} closes;

static void on_close(void *ctx, sl_flow *f, sl_flow_close_reason why)
{
    closes *c = ctx;
    c->n[why]++;
    c->last_port = f->info.port[0];
}

static sl_addr v4(uint8_t last)
{
    sl_addr a = {.family = 4};
    a.bytes[0] = 10;
    a.bytes[3] = last;
    return a;
}

START_TEST(both_directions_find_one_flow)
{
    closes c = {0};
    sl_flow_table *t = sl_flow_table_new(10, 1000, 1000, on_close, &c);
    sl_addr a = v4(1), b = v4(2);
    sl_dir dir;
    ck_assert_ptr_null(sl_flow_table_find(t, 6, &a, 40000, &b, 5060, &dir));
    sl_flow *f = sl_flow_table_add(t, 6, &a, 40000, &b, 5060, 0);
    ck_assert_ptr_eq(sl_flow_table_find(t, 6, &a, 40000, &b, 5060, &dir), f);
    ck_assert_int_eq(dir, SL_DIR_C2S);
    ck_assert_ptr_eq(sl_flow_table_find(t, 6, &b, 5060, &a, 40000, &dir), f);
    ck_assert_int_eq(dir, SL_DIR_S2C);
    ck_assert_ptr_null(sl_flow_table_find(t, 17, &a, 40000, &b, 5060, &dir)); /* UDP is another flow */
    ck_assert_ptr_null(sl_flow_table_find(t, 6, &a, 40001, &b, 5060, &dir));
    ck_assert_int_eq(f->info.transport, SL_TRANSPORT_TCP);
    sl_flow_table_free(t);
    ck_assert_int_eq(c.n[SL_FLOW_CLOSE_END], 1);
}
END_TEST

START_TEST(idle_flows_expire_lru_first)
{
    closes c = {0};
    sl_flow_table *t = sl_flow_table_new(10, 100, 100, on_close, &c);
    sl_addr a = v4(1), b = v4(2);
    sl_flow *f1 = sl_flow_table_add(t, 17, &a, 1, &b, 5060, 0);
    sl_flow_table_add(t, 17, &a, 2, &b, 5060, 10);
    sl_flow_table_touch(t, f1, 150, 5); /* f1 is fresh again */
    sl_flow_table_expire(t, 200);       /* port 2 idle 190 > 100 */
    ck_assert_int_eq(c.n[SL_FLOW_CLOSE_IDLE], 1);
    ck_assert_uint_eq(c.last_port, 2);
    ck_assert_uint_eq(sl_flow_table_count(t), 1);
    sl_flow_table_expire(t, 260);
    ck_assert_uint_eq(sl_flow_table_count(t), 0);
    sl_flow_table_free(t);
}
END_TEST

START_TEST(closed_flows_go_after_their_own_linger)
{
    closes c = {0};
    sl_flow_table *t = sl_flow_table_new(10, 1000, 50, on_close, &c);
    sl_addr a = v4(1), b = v4(2);
    sl_flow *open = sl_flow_table_add(t, 6, &a, 1, &b, 5060, 0);
    sl_flow *done = sl_flow_table_add(t, 6, &a, 2, &b, 5060, 10);
    sl_flow_table_mark_closed(t, done);
    sl_flow_table_touch(t, done, 20, 3); /* a late packet: it stays closed */
    sl_flow_table_expire(t, 60);         /* closed, idle 40 < 50: stays */
    ck_assert_uint_eq(sl_flow_table_count(t), 2);
    sl_flow_table_expire(t, 71); /* closed, idle 51: goes; the open one (idle 71) stays */
    ck_assert_int_eq(c.n[SL_FLOW_CLOSE_IDLE], 1);
    ck_assert_uint_eq(c.last_port, 2);
    sl_dir dir;
    ck_assert_ptr_eq(sl_flow_table_find(t, 6, &a, 1, &b, 5060, &dir), open);
    /* The end closes the closed list too (the cap: cap_evicts_closed_flows_first). */
    sl_flow *late = sl_flow_table_add(t, 6, &a, 3, &b, 5060, 80);
    sl_flow_table_mark_closed(t, late);
    sl_flow_table_free(t);
    ck_assert_int_eq(c.n[SL_FLOW_CLOSE_END], 2);
}
END_TEST

START_TEST(cap_evicts_closed_flows_first)
{
    closes c = {0};
    sl_flow_table *t = sl_flow_table_new(2, 1000000, 1000000, on_close, &c);
    sl_addr a = v4(1), b = v4(2);
    sl_flow_table_add(t, 6, &a, 1, &b, 5060, 1);
    sl_flow *f2 = sl_flow_table_add(t, 6, &a, 2, &b, 5060, 2);
    sl_flow_table_mark_closed(t, f2);
    sl_flow_table_add(t, 6, &a, 3, &b, 5060, 3);
    ck_assert_int_eq(c.n[SL_FLOW_CLOSE_CAP], 1);
    ck_assert_uint_eq(c.last_port, 2);
    sl_flow_table_free(t);
}
END_TEST

START_TEST(cap_closes_least_recently_used)
{
    closes c = {0};
    sl_flow_table *t = sl_flow_table_new(3, 1000000, 1000000, on_close, &c);
    sl_addr a = v4(1), b = v4(2);
    for (uint16_t p = 1; p <= 5; p++)
        ck_assert_ptr_nonnull(sl_flow_table_add(t, 6, &a, p, &b, 5060, p));
    ck_assert_uint_eq(sl_flow_table_count(t), 3);
    ck_assert_int_eq(c.n[SL_FLOW_CLOSE_CAP], 2);
    ck_assert_uint_eq(sl_flow_table_cap_evictions(t), 2);
    sl_dir dir;
    ck_assert_ptr_null(sl_flow_table_find(t, 6, &a, 1, &b, 5060, &dir));
    ck_assert_ptr_nonnull(sl_flow_table_find(t, 6, &a, 5, &b, 5060, &dir));
    sl_flow_table_free(t);
}
END_TEST

START_TEST(many_flows_grow_the_table)
{
    closes c = {0};
    sl_flow_table *t = sl_flow_table_new(100000, 1000000, 1000000, on_close, &c);
    sl_addr a = v4(1), b = v4(2);
    for (uint32_t i = 0; i < 20000; i++) {
        sl_addr s = a;
        s.bytes[2] = (uint8_t)(i >> 8);
        ck_assert_ptr_nonnull(sl_flow_table_add(t, 17, &s, (uint16_t)i, &b, 5060, i));
    }
    sl_dir dir;
    for (uint32_t i = 0; i < 20000; i += 997) {
        sl_addr s = a;
        s.bytes[2] = (uint8_t)(i >> 8);
        sl_flow *f = sl_flow_table_find(t, 17, &b, 5060, &s, (uint16_t)i, &dir);
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(dir, SL_DIR_S2C);
    }
    sl_flow_table_drain(t);
    ck_assert_int_eq(c.n[SL_FLOW_CLOSE_END], 20000);
    sl_flow_table_free(t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("flow");
    TCase *tc = tcase_create("table");
    tcase_add_test(tc, both_directions_find_one_flow);
    tcase_add_test(tc, idle_flows_expire_lru_first);
    tcase_add_test(tc, closed_flows_go_after_their_own_linger);
    tcase_add_test(tc, cap_evicts_closed_flows_first);
    tcase_add_test(tc, cap_closes_least_recently_used);
    tcase_add_test(tc, many_flows_grow_the_table);
    suite_add_tcase(s, tc);
    return sl_check_run(s);
}
