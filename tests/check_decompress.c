/* check_decompress.c - compressed captures read as the bytes inside them
 * (gzip, zstd, lz4; whole, cut short, damaged, read in any piece size), and
 * capture times kept in the range where their arithmetic cannot overflow. */
#include <check.h>
#include <lz4frame.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "sipladder/decompress.h"
#include "sipladder/time.h"

/* 3 MB that compress well but not trivially: several decoder buffers. */
#define PLAIN_LEN ((size_t)3 << 20)

static uint8_t *plain(void)
{
    uint8_t *p = malloc(PLAIN_LEN);
    uint32_t x = 12345;
    for (size_t i = 0; i < PLAIN_LEN; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (uint8_t)((i % 61 < 40) ? 'a' + i % 26 : (x >> 24));
    }
    return p;
}

static size_t gzip(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    ck_assert_int_eq(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t len = z.total_out;
    deflateEnd(&z);
    return len;
}

static size_t compress_as(sl_compression kind, const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    if (kind == SL_COMP_GZIP)
        return gzip(in, n, out, cap);
    if (kind == SL_COMP_ZSTD) {
        /* with its checksum, as the zstd command writes by default */
        ZSTD_CCtx *cc = ZSTD_createCCtx();
        ck_assert(!ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1)));
        size_t len = ZSTD_compress2(cc, out, cap, in, n);
        ck_assert(!ZSTD_isError(len));
        ZSTD_freeCCtx(cc);
        return len;
    }
    LZ4F_preferences_t prefs;
    memset(&prefs, 0, sizeof prefs);
    prefs.frameInfo.blockSizeID = LZ4F_max64KB; /* many blocks */
    prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
    size_t len = LZ4F_compressFrame(out, cap, in, n, &prefs);
    ck_assert(!LZ4F_isError(len));
    return len;
}

/* Read `data` (len bytes, compressed as kind) through sl_instream in
 * pieces of `piece` bytes into out; returns the bytes read, *error the
 * stream's error (NULL if none). */
static size_t read_through(const uint8_t *data, size_t len, sl_compression kind, size_t piece, uint8_t *out,
                           size_t cap, char *error, size_t errlen)
{
    FILE *raw = fmemopen((void *)data, len, "rb");
    ck_assert_ptr_nonnull(raw);
    uint8_t head[SL_COMP_MAGIC_MAX];
    size_t n_head = fread(head, 1, sizeof head, raw);
    ck_assert_int_eq(sl_compression_detect(head, n_head, NULL), kind);
    sl_instream *st;
    char err[256];
    FILE *fp = sl_instream_fopen(raw, true, head, n_head, kind, &st, err, sizeof err);
    ck_assert_msg(fp != NULL, "%s", err);
    size_t got = 0, n;
    while (got < cap && (n = fread(out + got, 1, piece < cap - got ? piece : cap - got, fp)) > 0)
        got += n;
    const char *why = sl_instream_error(st);
    snprintf(error, errlen, "%s", why ? why : "");
    if (why)
        ck_assert(ferror(fp));
    ck_assert_uint_ge(sl_instream_bytes_out(st), got); /* the FILE buffers ahead */
    fclose(fp);
    return got;
}

static const sl_compression KINDS[] = {SL_COMP_GZIP, SL_COMP_ZSTD, SL_COMP_LZ4};

START_TEST(whole_streams_read_back_in_any_piece_size)
{
    sl_compression kind = KINDS[_i % 3];
    static const size_t pieces[] = {1, 7, 4096, 100000};
    size_t piece = pieces[_i / 3];
    uint8_t *p = plain(), *c = malloc(PLAIN_LEN * 2), *out = malloc(PLAIN_LEN + 16);
    size_t clen = compress_as(kind, p, PLAIN_LEN, c, PLAIN_LEN * 2);
    char error[256];
    /* piece 1 reads 3 MB a byte at a time: only on a short prefix */
    size_t want = piece == 1 ? 200000 : PLAIN_LEN + 16;
    size_t got = read_through(c, clen, kind, piece, out, want, error, sizeof error);
    ck_assert_str_eq(error, "");
    ck_assert_uint_eq(got, piece == 1 ? 200000 : PLAIN_LEN);
    ck_assert(memcmp(out, p, got) == 0);
    free(p);
    free(c);
    free(out);
}
END_TEST

START_TEST(a_cut_stream_gives_what_came_before_then_says_so)
{
    sl_compression kind = KINDS[_i];
    uint8_t *p = plain(), *c = malloc(PLAIN_LEN * 2), *out = malloc(PLAIN_LEN + 16);
    size_t clen = compress_as(kind, p, PLAIN_LEN, c, PLAIN_LEN * 2);
    size_t cuts[] = {5, clen / 7, clen / 2, clen - 1};
    for (size_t k = 0; k < 4; k++) {
        size_t cut = cuts[k];
        char error[256];
        size_t got = read_through(c, cut, kind, 65536, out, PLAIN_LEN + 16, error, sizeof error);
        ck_assert_msg(strstr(error, "ends early") != NULL, "%s cut at %zu: '%s'", sl_compression_name(kind), cut,
                      error);
        ck_assert_uint_le(got, PLAIN_LEN); /* cut in the trailer: all the data, then the error */
        ck_assert(memcmp(out, p, got) == 0);
    }
    free(p);
    free(c);
    free(out);
}
END_TEST

START_TEST(damaged_data_is_reported_not_handed_on)
{
    sl_compression kind = KINDS[_i];
    uint8_t *p = plain(), *c = malloc(PLAIN_LEN * 2), *out = malloc(PLAIN_LEN + 16);
    size_t clen = compress_as(kind, p, PLAIN_LEN, c, PLAIN_LEN * 2);
    c[clen / 2] ^= 0x5a;
    char error[256];
    size_t got = read_through(c, clen, kind, 65536, out, PLAIN_LEN + 16, error, sizeof error);
    /* gzip and lz4 find it by their checksum at the latest, zstd by its own */
    ck_assert_msg(strstr(error, "corrupt") != NULL, "%s: '%s'", sl_compression_name(kind), error);
    ck_assert_uint_le(got, PLAIN_LEN);
    free(p);
    free(c);
    free(out);
}
END_TEST

START_TEST(gzip_members_padding_and_trailing_garbage)
{
    static const uint8_t a[] = "first member;", b[] = "second member";
    uint8_t c[512], out[64];
    size_t n = gzip(a, sizeof a - 1, c, sizeof c);
    n += gzip(b, sizeof b - 1, c + n, sizeof c - n);
    memset(c + n, 0, 64); /* tape padding, as gzip accepts */
    char error[256];
    size_t got = read_through(c, n + 64, SL_COMP_GZIP, 4096, out, sizeof out, error, sizeof error);
    ck_assert_str_eq(error, "");
    ck_assert_uint_eq(got, 26);
    ck_assert(memcmp(out, "first member;second member", 26) == 0);
    memcpy(c + n, "garbage", 7);
    got = read_through(c, n + 7, SL_COMP_GZIP, 4096, out, sizeof out, error, sizeof error);
    ck_assert_ptr_nonnull(strstr(error, "are not gzip"));
    ck_assert_uint_eq(got, 26);
}
END_TEST

START_TEST(a_pipe_is_passed_through_after_its_first_bytes)
{
    static const uint8_t data[] = "\xd4\xc3\xb2\xa1 not compressed, read from a pipe";
    uint8_t out[128];
    char error[256];
    size_t got = read_through(data, sizeof data - 1, SL_COMP_NONE, 3, out, sizeof out, error, sizeof error);
    ck_assert_str_eq(error, "");
    ck_assert_uint_eq(got, sizeof data - 1);
    ck_assert(memcmp(out, data, got) == 0);
}
END_TEST

START_TEST(magic_bytes_decide_not_names)
{
    const char *tool = "x";
    ck_assert_int_eq(sl_compression_detect((const uint8_t *)"\x1f\x8b\x08\0", 4, &tool), SL_COMP_GZIP);
    ck_assert_ptr_null(tool);
    ck_assert_int_eq(sl_compression_detect((const uint8_t *)"\x28\xb5\x2f\xfd", 4, NULL), SL_COMP_ZSTD);
    ck_assert_int_eq(sl_compression_detect((const uint8_t *)"\x04\x22\x4d\x18", 4, NULL), SL_COMP_LZ4);
    ck_assert_int_eq(sl_compression_detect((const uint8_t *)"\xd4\xc3\xb2\xa1", 4, NULL), SL_COMP_NONE);
    ck_assert_int_eq(sl_compression_detect((const uint8_t *)"\x0a\x0d\x0d\x0a", 4, NULL), SL_COMP_NONE);
    ck_assert_int_eq(sl_compression_detect((const uint8_t *)"\x1f\x8b", 2, NULL), SL_COMP_NONE); /* too short */
    ck_assert_int_eq(sl_compression_detect((const uint8_t *)"\xfd" "7zXZ\0", 6, &tool), SL_COMP_UNSUPPORTED);
    ck_assert_str_eq(tool, "xz");
    ck_assert_int_eq(sl_compression_detect((const uint8_t *)"BZh91", 5, &tool), SL_COMP_UNSUPPORTED);
    ck_assert_str_eq(tool, "bzip2");
}
END_TEST

/* Issue 15 item 8: seconds * 1e9 overflowed for pcapng times past 2262. */
START_TEST(capture_times_are_clamped_to_a_safe_range)
{
    bool clamped = true;
    ck_assert_int_eq(sl_time_from_parts(1700000000, 5, &clamped), INT64_C(1700000000000000005));
    ck_assert(!clamped);
    ck_assert_int_eq(sl_time_from_parts(INT64_C(4294967295), 999999999, &clamped), SL_TIME_MAX);
    ck_assert(!clamped);
    ck_assert_int_eq(sl_time_from_parts(INT64_C(4294967296), 0, &clamped), SL_TIME_MAX);
    ck_assert(clamped);
    ck_assert_int_eq(sl_time_from_parts(INT64_C(18446744073), 709551615, &clamped), SL_TIME_MAX);
    ck_assert(clamped);
    ck_assert_int_eq(sl_time_from_parts(INT64_MAX, INT64_MAX, &clamped), SL_TIME_MAX);
    ck_assert_int_eq(sl_time_from_parts(INT64_MIN, 0, &clamped), 0);
    ck_assert(clamped);
    ck_assert_int_eq(sl_time_from_parts(0, -1, &clamped), 0);
    ck_assert(clamped);
    ck_assert_int_eq(sl_time_from_parts(0, INT64_MAX, &clamped), SL_TIME_MAX);
    ck_assert_int_eq(sl_time_from_parts(1, 2 * SL_NS_PER_SEC, &clamped), 3 * SL_NS_PER_SEC); /* a pcap's nsec > 1 s */
    ck_assert(!clamped);
    /* the point of the range: any two capture times add and subtract */
    ck_assert_int_gt(SL_TIME_MAX + SL_TIME_MAX, 0);
    ck_assert_int_eq(sl_time_from_sec_saturated(INT64_C(253402300799)), INT64_MAX); /* 9999-12-31 */
    ck_assert_int_eq(sl_time_from_sec_saturated(-INT64_C(62135596800) * 10), INT64_MIN);
    ck_assert_int_eq(sl_time_from_sec_saturated(2), 2 * SL_NS_PER_SEC);
    char buf[64];
    ck_assert_str_eq(sl_time_format(SL_TIME_MAX, buf, sizeof buf), "2106-02-07 06:28:15.999999");
    ck_assert_str_eq(sl_time_format(INT64_MAX, buf, sizeof buf), "after 2262-04-11");
    ck_assert_str_eq(sl_time_format(0, buf, sizeof buf), "1970-01-01 00:00:00.000000");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("decompress");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, whole_streams_read_back_in_any_piece_size, 0, 12);
    tcase_add_loop_test(tc, a_cut_stream_gives_what_came_before_then_says_so, 0, 3);
    tcase_add_loop_test(tc, damaged_data_is_reported_not_handed_on, 0, 3);
    tcase_add_test(tc, gzip_members_padding_and_trailing_garbage);
    tcase_add_test(tc, a_pipe_is_passed_through_after_its_first_bytes);
    tcase_add_test(tc, magic_bytes_decide_not_names);
    tcase_add_test(tc, capture_times_are_clamped_to_a_safe_range);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
