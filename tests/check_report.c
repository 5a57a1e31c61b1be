/* check_report.c - what the views share (src/report.h): one label
 * precedence for an address, whichever view asks. */
#include <check.h>
#include <stdlib.h>

#include "report.h"
#include "sipladder/calls.h"
#include "sipladder/labels.h"

static sl_addr addr(const char *text)
{
    sl_addr a;
    ck_assert_int_eq(sl_addr_parse(text, &a), 0);
    return a;
}

/* --name for address:port, then for the address, then the calls' host
 * label; a host labelled only by its address has no label. */
START_TEST(test_label_precedence)
{
    sl_labels names = {0};
    ck_assert_int_eq(sl_labels_add(&names, "10.0.0.1:5061=edge-tls"), 0);
    ck_assert_int_eq(sl_labels_add(&names, "10.0.0.1=edge"), 0);
    sl_host hosts[3] = {
        {.addr = addr("10.0.0.1"), .label = "Expressway-E", .source = SL_LABEL_PRODUCT},
        {.addr = addr("10.0.0.2"), .label = "CUCM", .source = SL_LABEL_PRODUCT},
        {.addr = addr("fd00::3"), .label = "fd00::3", .source = SL_LABEL_ADDRESS},
    };
    sl_calls calls = {.hosts = hosts, .n_hosts = 3};
    sl_report r = {.calls = &calls};
    sl_render_opts o = {.labels = &names};
    sl_addr a1 = addr("10.0.0.1"), a2 = addr("10.0.0.2"), a3 = addr("fd00::3"), a4 = addr("10.0.0.4");
    ck_assert_str_eq(sl_report_label(&r, &o, &a1, 5061), "edge-tls");
    ck_assert_str_eq(sl_report_label(&r, &o, &a1, 5060), "edge");
    ck_assert_str_eq(sl_report_label(&r, &o, &a1, 0), "edge");
    ck_assert_str_eq(sl_report_label(&r, &o, &a2, 5060), "CUCM");
    ck_assert_ptr_null(sl_report_label(&r, &o, &a3, 5061));
    ck_assert_ptr_null(sl_report_label(&r, &o, &a4, 5060));
    /* The user's names alone (summary endpoints, json hosts without calls). */
    ck_assert_str_eq(sl_report_user_label(&o, &a1, 5061), "edge-tls");
    ck_assert_ptr_null(sl_report_user_label(&o, &a2, 5060));
    /* No --name and no calls: nothing but the address. */
    sl_render_opts bare = {0};
    sl_report none = {0};
    ck_assert_ptr_null(sl_report_label(&none, &bare, &a1, 5061));
    ck_assert_str_eq(sl_report_label(&r, &bare, &a1, 5061), "Expressway-E");
    sl_labels_clear(&names);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("labels");
    tcase_add_test(tc, test_label_precedence);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
