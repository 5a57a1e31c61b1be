/* check_ipfrag.c - fragments put back together, in any order, first copy
 * winning on overlap; every datagram given up is reported. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sipladder/ipfrag.h"
#include "sipladder/status.h"
#include "check_run.h"

typedef struct drops {
    int n;
    uint64_t first_frame;
    size_t fragments;
    char why[128];
} drops;

static void on_drop(void *ctx, uint64_t first_frame, size_t fragments, const char *why)
{
    drops *d = ctx;
    d->n++;
    d->first_frame = first_frame;
    d->fragments = fragments;
    strncpy(d->why, why, sizeof d->why - 1);
}

/* A fragment of datagram `id` carrying data[off, off+len). */
static sl_l3 frag(uint32_t id, const uint8_t *data, uint32_t off, uint32_t len, bool more)
{
    sl_l3 l3 = {.version = 4, .ip_id = id, .proto = 17, .is_fragment = true};
    l3.src.family = l3.dst.family = 4;
    l3.src.bytes[3] = 1;
    l3.dst.bytes[3] = 2;
    l3.payload = data + off;
    l3.payload_len = l3.payload_wire_len = len;
    l3.frag_offset = off;
    l3.more_fragments = more;
    return l3;
}

static uint8_t data[4000];

static void fill(void)
{
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7 + 3);
}

START_TEST(any_order_reassembles)
{
    fill();
    static const int orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    for (int o = 0; o < 6; o++) {
        drops d = {0};
        sl_ipfrag *f = sl_ipfrag_new(100, 30 * 1000000000ull, on_drop, &d);
        sl_l3 parts[3] = {frag(9, data, 0, 1480, true), frag(9, data, 1480, 1480, true),
                          frag(9, data, 2960, 1040, false)};
        const uint8_t *out = NULL;
        size_t len = 0;
        uint64_t first = 0;
        const char *why;
        int rc = 0;
        for (int i = 0; i < 3; i++) {
            int k = orders[o][i];
            rc = sl_ipfrag_add(f, &parts[k], (uint64_t)(10 + i), 0, &out, &len, &first, &why);
            ck_assert_int_eq(rc, i == 2 ? 1 : 0);
        }
        ck_assert_uint_eq(len, 4000);
        ck_assert_mem_eq(out, data, 4000);
        ck_assert_uint_eq(first, 10);
        ck_assert_uint_eq(sl_ipfrag_stats_get(f)->in_flight, 0);
        ck_assert_int_eq(d.n, 0);
        sl_ipfrag_free(f);
    }
}
END_TEST

START_TEST(overlap_keeps_first_copy)
{
    fill();
    uint8_t other[4000];
    memset(other, 0xEE, sizeof other);
    sl_ipfrag *f = sl_ipfrag_new(100, 30 * 1000000000ull, NULL, NULL);
    const uint8_t *out;
    size_t len;
    uint64_t first;
    const char *why;
    sl_l3 a = frag(1, data, 0, 1000, true);
    sl_l3 b = frag(1, other, 800, 400, true); /* overlaps a's last 200 bytes */
    sl_l3 c = frag(1, data, 1200, 800, false);
    ck_assert_int_eq(sl_ipfrag_add(f, &a, 1, 0, &out, &len, &first, &why), 0);
    ck_assert_int_eq(sl_ipfrag_add(f, &b, 2, 0, &out, &len, &first, &why), 0);
    ck_assert_int_eq(sl_ipfrag_add(f, &c, 3, 0, &out, &len, &first, &why), 1);
    ck_assert_uint_eq(len, 2000);
    ck_assert_mem_eq(out, data, 1000);            /* first copy of 800..1000 */
    ck_assert_uint_eq(out[1100], 0xEE);          /* only b had 1000..1200 */
    ck_assert_mem_eq(out + 1200, data + 1200, 800);
    ck_assert_uint_eq(sl_ipfrag_stats_get(f)->overlaps, 1);
    ck_assert_uint_eq(sl_ipfrag_stats_get(f)->conflicts, 1);
    sl_ipfrag_free(f);
}
END_TEST

START_TEST(contradictions_are_malformed)
{
    fill();
    sl_ipfrag *f = sl_ipfrag_new(100, 30 * 1000000000ull, NULL, NULL);
    const uint8_t *out;
    size_t len;
    uint64_t first;
    const char *why = NULL;
    sl_l3 last1 = frag(2, data, 1000, 100, false);
    sl_l3 last2 = frag(2, data, 1000, 300, false);
    sl_l3 beyond = frag(2, data, 1200, 100, true);
    ck_assert_int_eq(sl_ipfrag_add(f, &last1, 1, 0, &out, &len, &first, &why), 0);
    ck_assert_int_eq(sl_ipfrag_add(f, &last2, 2, 0, &out, &len, &first, &why), -SL_EMALFORMED);
    ck_assert_ptr_nonnull(why);
    ck_assert_int_eq(sl_ipfrag_add(f, &beyond, 3, 0, &out, &len, &first, &why), -SL_EMALFORMED);
    sl_l3 huge = frag(3, data, 0, 1000, true);
    huge.frag_offset = 65000; /* reaches past 65535; the bytes themselves do not matter */
    ck_assert_int_eq(sl_ipfrag_add(f, &huge, 4, 0, &out, &len, &first, &why), -SL_EMALFORMED);
    sl_ipfrag_free(f);
}
END_TEST

START_TEST(cap_evicts_oldest_and_reports)
{
    fill();
    drops d = {0};
    sl_ipfrag *f = sl_ipfrag_new(4, 30 * 1000000000ull, on_drop, &d);
    const uint8_t *out;
    size_t len;
    uint64_t first;
    const char *why;
    for (uint32_t id = 0; id < 10; id++) {
        sl_l3 l3 = frag(id, data, 0, 8, true); /* never completes */
        ck_assert_int_eq(sl_ipfrag_add(f, &l3, 100 + id, 0, &out, &len, &first, &why), 0);
        ck_assert_uint_le(sl_ipfrag_stats_get(f)->in_flight, 4);
    }
    ck_assert_int_eq(d.n, 6);
    ck_assert_uint_eq(d.first_frame, 105);
    ck_assert_ptr_nonnull(strstr(d.why, "cap"));
    ck_assert_uint_eq(sl_ipfrag_stats_get(f)->evicted, 6);
    ck_assert_uint_eq(sl_ipfrag_stats_get(f)->cap_frame, 104);
    sl_ipfrag_drain(f);
    ck_assert_int_eq(d.n, 10);
    sl_ipfrag_free(f);
}
END_TEST

START_TEST(timeout_expires_incomplete)
{
    fill();
    drops d = {0};
    sl_ipfrag *f = sl_ipfrag_new(100, 5 * 1000000000ull, on_drop, &d);
    const uint8_t *out;
    size_t len;
    uint64_t first;
    const char *why;
    sl_l3 a = frag(7, data, 0, 8, true);
    ck_assert_int_eq(sl_ipfrag_add(f, &a, 1, 0, &out, &len, &first, &why), 0);
    sl_ipfrag_expire(f, 4 * 1000000000ll);
    ck_assert_int_eq(d.n, 0);
    sl_ipfrag_expire(f, 6 * 1000000000ll);
    ck_assert_int_eq(d.n, 1);
    ck_assert_ptr_nonnull(strstr(d.why, "timeout"));
    ck_assert_uint_eq(sl_ipfrag_stats_get(f)->expired, 1);
    sl_ipfrag_free(f);
}
END_TEST

START_TEST(snaplen_cut_fragment_gives_up)
{
    fill();
    drops d = {0};
    sl_ipfrag *f = sl_ipfrag_new(100, 30 * 1000000000ull, on_drop, &d);
    const uint8_t *out;
    size_t len;
    uint64_t first;
    const char *why;
    sl_l3 a = frag(8, data, 0, 1480, true);
    a.payload_len = 60; /* the capture kept 60 of 1480 bytes */
    sl_l3 b = frag(8, data, 1480, 100, false);
    ck_assert_int_eq(sl_ipfrag_add(f, &a, 1, 0, &out, &len, &first, &why), 0);
    ck_assert_int_eq(sl_ipfrag_add(f, &b, 2, 0, &out, &len, &first, &why), 0);
    ck_assert_int_eq(d.n, 1);
    ck_assert_ptr_nonnull(strstr(d.why, "snaplen"));
    sl_ipfrag_free(f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ipfrag");
    TCase *tc = tcase_create("reassembly");
    tcase_add_test(tc, any_order_reassembles);
    tcase_add_test(tc, overlap_keeps_first_copy);
    tcase_add_test(tc, contradictions_are_malformed);
    tcase_add_test(tc, cap_evicts_oldest_and_reports);
    tcase_add_test(tc, timeout_expires_incomplete);
    tcase_add_test(tc, snaplen_cut_fragment_gives_up);
    suite_add_tcase(s, tc);
    return sl_check_run(s);
}
