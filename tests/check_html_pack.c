/* check_html_pack.c - the html view's packing stream (src/html_pack.c):
 * JSON text loses the blanks between its tokens and keeps every byte of its
 * strings (escaped quotes and backslashes too, however the writes cut it),
 * is gzip-compressed and comes out as base64 only; a failed write is
 * reported at fclose. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "sipladder/render_html.h"
#include "check_run.h"
#include "support.h"

/* base64 text back to bytes (the alphabet of RFC 4648, '=' padding). */
static unsigned char *unbase64(const char *s, size_t n, size_t *out_len)
{
    unsigned char *out = malloc(n / 4 * 3 + 3);
    ck_assert_ptr_nonnull(out);
    size_t o = 0;
    uint32_t v = 0;
    int bits = 0;
    for (size_t i = 0; i < n && s[i] != '='; i++) {
        const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char *p = strchr(alphabet, s[i]);
        ck_assert_msg(p != NULL && s[i] != '\0', "byte %zu (0x%02x) is not base64", i, (unsigned char)s[i]);
        v = v << 6 | (uint32_t)(p - alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(v >> bits);
        }
    }
    *out_len = o;
    return out;
}

/* gzip bytes back to text (NUL-terminated, malloc'd). */
static char *gunzip(const unsigned char *in, size_t n)
{
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    ck_assert_ptr_nonnull(out);
    z_stream z = {0};
    ck_assert_int_eq(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    int rc;
    do {
        if (cap - len < 4096) {
            cap *= 2;
            out = realloc(out, cap);
            ck_assert_ptr_nonnull(out);
        }
        z.next_out = (Bytef *)out + len;
        z.avail_out = (uInt)(cap - len - 1);
        rc = inflate(&z, Z_NO_FLUSH);
        ck_assert_msg(rc == Z_OK || rc == Z_STREAM_END, "inflate: %d", rc);
        len = cap - 1 - z.avail_out;
    } while (rc != Z_STREAM_END);
    inflateEnd(&z);
    out[len] = '\0';
    return out;
}

/* The packed form of `text` written in pieces of `piece` bytes (0: one
 * write), unpacked again. */
static char *round_trip(const char *text, size_t piece, char **packed_out)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(mem);
    FILE *p = sl_html_packer(mem);
    ck_assert_ptr_nonnull(p);
    size_t n = strlen(text);
    if (piece) {
        setvbuf(p, NULL, _IONBF, 0); /* each fwrite reaches the packer as it is */
        for (size_t i = 0; i < n; i += piece)
            ck_assert_uint_eq(fwrite(text + i, 1, n - i < piece ? n - i : piece, p), n - i < piece ? n - i : piece);
    } else {
        ck_assert_uint_eq(fwrite(text, 1, n, p), n);
    }
    ck_assert_int_eq(fclose(p), 0);
    ck_assert_int_eq(fclose(mem), 0);
    size_t zlen = 0;
    unsigned char *z = unbase64(buf, len, &zlen);
    char *back = gunzip(z, zlen);
    free(z);
    if (packed_out)
        *packed_out = buf;
    else
        free(buf);
    return back;
}

static const char INDENTED[] = "{\n  \"a\": \"x y\",\n  \"b\": [\n    1,\n    2\n  ],\n\t\"c\" : null\r\n}\n";
static const char COMPACT[] = "{\"a\":\"x y\",\"b\":[1,2],\"c\":null}";

START_TEST(blanks_between_tokens_go)
{
    char *back = round_trip(INDENTED, 0, NULL);
    ck_assert_str_eq(back, COMPACT);
    free(back);
}
END_TEST

/* Quotes and backslashes inside strings, the blanks around and in them. */
static const char TRICKY[] = "{ \"k\" : \"say \\\"hi  there\\\" \\\\ \" , \"z\" : \"\\\\\" ,\n \"e\": \"\" , \"u\": \"\\u0022 \" }";
static const char TRICKY_COMPACT[] = "{\"k\":\"say \\\"hi  there\\\" \\\\ \",\"z\":\"\\\\\",\"e\":\"\",\"u\":\"\\u0022 \"}";

START_TEST(strings_keep_every_byte)
{
    char *back = round_trip(TRICKY, 0, NULL);
    ck_assert_str_eq(back, TRICKY_COMPACT);
    free(back);
}
END_TEST

START_TEST(writes_cut_anywhere)
{
    /* Every piece size from one byte: an escape, a quote or a blank may be
     * the last byte of one write and the next the first of another. */
    for (size_t piece = 1; piece <= 7; piece++) {
        char *back = round_trip(TRICKY, piece, NULL);
        ck_assert_msg(strcmp(back, TRICKY_COMPACT) == 0, "pieces of %zu: %s", piece, back);
        free(back);
    }
}
END_TEST

START_TEST(hostile_strings_leave_no_markup)
{
    /* "</script>", "<!--" and U+2028/U+2029 in a string: the page gets only
     * base64's alphabet, and the text comes back whole. */
    const char *text = "{\"v\": \"</script><script>x()</script><!-- \xe2\x80\xa8 \xe2\x80\xa9 & > <\"}";
    char *packed = NULL;
    char *back = round_trip(text, 3, &packed);
    ck_assert_str_eq(back, "{\"v\":\"</script><script>x()</script><!-- \xe2\x80\xa8 \xe2\x80\xa9 & > <\"}");
    for (const char *c = packed; *c; c++)
        ck_assert_msg(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", *c) != NULL,
                      "not base64: 0x%02x", (unsigned char)*c);
    free(packed);
    free(back);
}
END_TEST

START_TEST(large_text_crosses_every_buffer)
{
    /* 3 MB: many deflate and base64 buffers, pieces not aligned with them. */
    const char *item = "  {\n    \"frame\": 12345,\n    \"value\": \"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK\"\n  },\n";
    const char *item_compact = "{\"frame\":12345,\"value\":\"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK\"},";
    size_t n_items = 3000000 / strlen(item);
    char *text = malloc(n_items * strlen(item) + 1);
    char *want = malloc(n_items * strlen(item_compact) + 1);
    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_nonnull(want);
    text[0] = want[0] = '\0';
    char *t = text, *w = want;
    for (size_t i = 0; i < n_items; i++) {
        t = stpcpy(t, item);
        w = stpcpy(w, item_compact);
    }
    char *packed = NULL;
    char *back = round_trip(text, 40000, &packed);
    ck_assert_uint_eq(strlen(back), strlen(want));
    ck_assert(strcmp(back, want) == 0);
    ck_assert_uint_lt(strlen(packed), strlen(want) / 10); /* it compresses */
    free(packed);
    free(back);
    free(text);
    free(want);
}
END_TEST

START_TEST(empty_text)
{
    char *back = round_trip("", 0, NULL);
    ck_assert_str_eq(back, "");
    free(back);
}
END_TEST

START_TEST(failed_write_is_reported)
{
    FILE *full = fopen("/dev/full", "w");
    if (!full)
        sl_test_skip("cannot open", "/dev/full");
    setvbuf(full, NULL, _IONBF, 0);
    FILE *p = sl_html_packer(full);
    ck_assert_ptr_nonnull(p);
    fputs(INDENTED, p);
    ck_assert_int_ne(fclose(p), 0);
    fclose(full);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("html_pack");
    TCase *t = tcase_create("pack");
    tcase_add_test(t, blanks_between_tokens_go);
    tcase_add_test(t, strings_keep_every_byte);
    tcase_add_test(t, writes_cut_anywhere);
    tcase_add_test(t, hostile_strings_leave_no_markup);
    tcase_add_test(t, large_text_crosses_every_buffer);
    tcase_add_test(t, empty_text);
    tcase_add_test(t, failed_write_is_reported);
    tcase_set_timeout(t, 60);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return sl_check_run(suite());
}
