/* check_osip_arena.c - the arena (arena.h), and libosip2's allocations
 * inside a scope coming from it and going at leave; outside one they are
 * malloc's, as before. */
#include <check.h>
#include <osipparser2/osip_parser.h>
#include <stdint.h>
#include <string.h>

#include "check_run.h"
#include "osip_arena.h"

static sl_arena *ready(void)
{
    ck_assert_int_eq(parser_init(), 0);
    sl_osip_arena_install();
    sl_arena *a = sl_arena_new();
    ck_assert_ptr_nonnull(a);
    return a;
}

START_TEST(outside_a_scope_is_malloc)
{
    sl_arena *a = ready();
    char *p = osip_malloc(32);
    ck_assert_ptr_nonnull(p);
    ck_assert(!sl_arena_owns(a, p));
    memset(p, 'x', 32);
    osip_free(p); /* a leak or a bad free here fails the sanitizer run */
    sl_arena_free(a);
}
END_TEST

START_TEST(inside_a_scope_is_the_arena)
{
    sl_arena *a = ready();
    char *before = osip_malloc(16); /* made outside, freed inside: still malloc's */
    sl_osip_arena_enter(a);
    char *p = osip_malloc(5);
    char *q = osip_malloc(100);
    ck_assert(sl_arena_owns(a, p) && sl_arena_owns(a, q));
    ck_assert(!sl_arena_owns(a, before));
    ck_assert_uint_eq((uintptr_t)p % 16, 0);
    ck_assert_uint_eq((uintptr_t)q % 16, 0);
    memcpy(p, "abcd", 5);
    /* The hooks called directly: the osip_free/osip_realloc macros fall
     * back to free/realloc when none is set, and the analyzers follow
     * that path. */
    ck_assert(osip_free_func != NULL);
    ck_assert(osip_realloc_func != NULL);
    osip_free_func(p); /* a no-op: the bytes stay until leave */
    ck_assert_str_eq(p, "abcd");
    char *grown = osip_realloc_func(p, 4000);
    ck_assert(sl_arena_owns(a, grown));
    ck_assert_str_eq(grown, "abcd");
    char *shrunk = osip_realloc_func(grown, 2);
    ck_assert(memcmp(shrunk, "ab", 2) == 0);
    osip_free(before);
    sl_osip_arena_leave(a);
    ck_assert(!sl_arena_owns(a, q));
    char *after = osip_malloc(8);
    ck_assert(!sl_arena_owns(a, after));
    osip_free(after);
    sl_arena_free(a);
}
END_TEST

START_TEST(a_message_larger_than_a_block)
{
    sl_arena *a = ready();
    for (int round = 0; round < 3; round++) {
        sl_osip_arena_enter(a);
        char *big = osip_malloc(200000);
        ck_assert_ptr_nonnull(big);
        memset(big, 'b', 200000);
        char *many[2000];
        for (size_t i = 0; i < 2000; i++) { /* 2000 x 48 bytes: past the first block */
            many[i] = osip_malloc(40);
            ck_assert_ptr_nonnull(many[i]);
            memset(many[i], (int)i, 40);
        }
        for (size_t i = 0; i < 2000; i++)
            ck_assert_int_eq((unsigned char)many[i][39], (unsigned char)i);
        ck_assert(sl_arena_owns(a, big) && sl_arena_owns(a, many[1999]));
        sl_osip_arena_leave(a); /* the extra blocks are freed: no leak */
    }
    sl_arena_free(a);
}
END_TEST

/* What the dissector does: a parse tree built inside, never freed by
 * libosip2, gone at leave (the sanitizer run checks for leaks). */
START_TEST(a_parse_tree_goes_at_leave)
{
    sl_arena *a = ready();
    for (int round = 0; round < 100; round++) {
        sl_osip_arena_enter(a);
        osip_message_t *m;
        ck_assert_int_eq(osip_message_init(&m), 0);
        char name[] = "via";
        char value[] = "SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK1, SIP/2.0/TLS [2001:db8::1]:5061;branch=z9hG4bK2";
        ck_assert_int_eq(osip_message_set_multiple_header(m, name, value), 0);
        ck_assert_int_eq(osip_list_size(&m->vias), 2);
        const osip_via_t *v = osip_list_get(&m->vias, 1);
        ck_assert_str_eq(v->host, "2001:db8::1");
        ck_assert(sl_arena_owns(a, v->host));
        char *text = NULL;
        osip_uri_t *u;
        ck_assert_int_eq(osip_uri_init(&u), 0);
        char uri[] = "sip:bob@example.com;transport=tcp";
        ck_assert_int_eq(osip_uri_parse(u, uri), 0);
        ck_assert_int_eq(osip_uri_to_str(u, &text), 0);
        ck_assert_str_eq(text, "sip:bob@example.com;transport=tcp");
        sl_osip_arena_leave(a);
    }
    sl_arena_free(a);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("osip_arena");
    TCase *t = tcase_create("arena");
    tcase_add_test(t, outside_a_scope_is_malloc);
    tcase_add_test(t, inside_a_scope_is_the_arena);
    tcase_add_test(t, a_message_larger_than_a_block);
    tcase_add_test(t, a_parse_tree_goes_at_leave);
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return sl_check_run(suite()); }
