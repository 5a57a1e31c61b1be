/* check_addr.c - address text forms: IPv4 written by hand must read as
 * inet_ntop and snprintf would write it, for every octet and port size. */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "check_run.h"
#include "sipladder/addr.h"

static sl_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    sl_addr x = {.family = 4, .bytes = {a, b, c, d}};
    return x;
}

START_TEST(v4_as_inet_ntop_writes_it)
{
    static const unsigned ports[] = {0, 7, 80, 5060, 65535};
    for (unsigned o = 0; o < 256; o++) {
        sl_addr a = v4((uint8_t)o, (uint8_t)(255 - o), (uint8_t)(o % 10), (uint8_t)(o * 7));
        char want[INET_ADDRSTRLEN], got[SL_ADDR_PORT_STRLEN], want_port[64];
        ck_assert_ptr_nonnull(inet_ntop(AF_INET, a.bytes, want, sizeof want));
        ck_assert_str_eq(sl_addr_format(&a, got, sizeof got), want);
        for (size_t p = 0; p < sizeof ports / sizeof *ports; p++) {
            snprintf(want_port, sizeof want_port, "%s:%u", want, ports[p]);
            ck_assert_str_eq(sl_addr_port_format(&a, (uint16_t)ports[p], got, sizeof got), want_port);
        }
    }
}
END_TEST

START_TEST(small_buffers_and_v6)
{
    sl_addr a = v4(255, 255, 255, 255);
    char small[8];
    /* Too small for the whole text: cut as snprintf cuts, always ended. */
    ck_assert_str_eq(sl_addr_port_format(&a, 65535, small, sizeof small), "255.255");
    char one[1];
    ck_assert_str_eq(sl_addr_format(&a, one, sizeof one), "");
    sl_addr six = {.family = 6};
    ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::1", six.bytes), 1);
    char buf[SL_ADDR_PORT_STRLEN];
    ck_assert_str_eq(sl_addr_port_format(&six, 5061, buf, sizeof buf), "[2001:db8::1]:5061");
    sl_addr none = {0};
    ck_assert_str_eq(sl_addr_format(&none, buf, sizeof buf), "?");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("addr");
    TCase *t = tcase_create("text");
    tcase_add_test(t, v4_as_inet_ntop_writes_it);
    tcase_add_test(t, small_buffers_and_v6);
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return sl_check_run(suite()); }
