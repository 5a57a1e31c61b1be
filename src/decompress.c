/* decompress.c - gzip, zstd and lz4 captures read through a stdio cookie
 * (fopencookie), so that libpcap's pcap_fopen_offline reads the capture
 * inside as it reads a plain file.
 *
 * Why a cookie and not a thread writing into a pipe: everything stays on the
 * reading thread (no second thread to stop when libpcap gives up early, no
 * SIGPIPE, no file descriptors), a decompression error is known the moment
 * libpcap's read fails and can be reported with the frame it cut, and the
 * FILE's close frees the decoder, so pcap_close cleans up everything. */
#include "sipladder/decompress.h"

#include <errno.h>
#include <limits.h>
#include <lz4frame.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <zlib.h>
#include <zstd.h>

/* Compressed bytes read from the file at once, and the FILE's own buffer of
 * decompressed bytes: memory does not grow with the file. */
#define IN_BUF_SIZE ((size_t)64 * 1024)
#define OUT_VBUF_SIZE ((size_t)64 * 1024)
/* zstd's default window limit (ZSTD_WINDOWLOG_LIMIT_DEFAULT), stated so a
 * frame asking for more is refused by name, never honoured. */
#define ZSTD_WINDOW_LOG_MAX 27

typedef struct sl_instream sl_instream;
/* One decoder step over in[pos..len) into out: -1 when the data is corrupt
 * (error set), 1 when what was consumed ends a whole frame or gzip member,
 * else 0. */
typedef int (*step_fn)(sl_instream *s, uint8_t *out, size_t room, size_t *written);

struct sl_instream {
    FILE *raw;
    bool close_raw;
    sl_compression kind;
    step_fn step;
    uint8_t *in;      /* compressed bytes; in[pos..len) not decoded yet */
    size_t pos, len;
    bool raw_eof;
    bool at_boundary; /* the data so far ends a whole frame: EOF here is clean */
    bool failed;
    char error[256];
    uint64_t bytes_in, bytes_out;
    z_stream z;
    bool z_ready;
    bool member_done; /* gzip: a member ended; another may follow */
    ZSTD_DStream *zstd;
    LZ4F_dctx *lz4;
};

static const uint8_t GZIP_MAGIC[] = {0x1f, 0x8b, 0x08};
static const uint8_t ZSTD_MAGIC[] = {0x28, 0xb5, 0x2f, 0xfd};
static const uint8_t LZ4_MAGIC[] = {0x04, 0x22, 0x4d, 0x18};
static const uint8_t XZ_MAGIC[] = {0xfd, '7', 'z', 'X', 'Z', 0x00};
static const uint8_t BZIP2_MAGIC[] = {'B', 'Z', 'h'};

static bool starts_with(const uint8_t *head, size_t n, const uint8_t *magic, size_t magic_len)
{
    return n >= magic_len && memcmp(head, magic, magic_len) == 0;
}

sl_compression sl_compression_detect(const uint8_t *head, size_t n, const char **tool)
{
    if (tool)
        *tool = NULL;
    if (starts_with(head, n, GZIP_MAGIC, sizeof GZIP_MAGIC))
        return SL_COMP_GZIP;
    if (starts_with(head, n, ZSTD_MAGIC, sizeof ZSTD_MAGIC))
        return SL_COMP_ZSTD;
    if (starts_with(head, n, LZ4_MAGIC, sizeof LZ4_MAGIC))
        return SL_COMP_LZ4;
    const char *other = starts_with(head, n, XZ_MAGIC, sizeof XZ_MAGIC)          ? "xz"
                        : starts_with(head, n, BZIP2_MAGIC, sizeof BZIP2_MAGIC) ? "bzip2"
                                                                                 : NULL;
    if (!other)
        return SL_COMP_NONE;
    if (tool)
        *tool = other;
    return SL_COMP_UNSUPPORTED;
}

const char *sl_compression_name(sl_compression c)
{
    switch (c) {
    case SL_COMP_GZIP: return "gzip";
    case SL_COMP_ZSTD: return "zstd";
    case SL_COMP_LZ4: return "lz4";
    case SL_COMP_UNSUPPORTED: return "unsupported compression";
    case SL_COMP_NONE: break;
    }
    return "";
}

__attribute__((format(printf, 2, 3))) static int fail(sl_instream *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->error, sizeof s->error, fmt, ap);
    va_end(ap);
    s->failed = true;
    return -1;
}

/* Move what is left to the front and read more behind it. */
static int refill(sl_instream *s)
{
    if (s->pos > 0) {
        memmove(s->in, s->in + s->pos, s->len - s->pos);
        s->len -= s->pos;
        s->pos = 0;
    }
    if (s->raw_eof || s->len == IN_BUF_SIZE)
        return 0;
    size_t want = IN_BUF_SIZE - s->len;
    size_t n = fread(s->in + s->len, 1, want, s->raw);
    s->len += n;
    s->bytes_in += n;
    if (n < want) {
        if (ferror(s->raw))
            return fail(s, "cannot read the compressed file: %s", strerror(errno ? errno : EIO));
        s->raw_eof = true;
    }
    return 0;
}

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

static int copy_step(sl_instream *s, uint8_t *out, size_t room, size_t *written)
{
    size_t n = min_size(room, s->len - s->pos);
    memcpy(out, s->in + s->pos, n);
    s->pos += n;
    *written = n;
    return 1; /* every byte boundary is a clean end of a plain file */
}

static int gzip_step(sl_instream *s, uint8_t *out, size_t room, size_t *written)
{
    *written = 0;
    if (s->member_done) {
        /* Between members: another member (concatenated .gz files), zero
         * padding (tape blocks; gzip ignores it), or bytes that are not gzip. */
        while (s->pos < s->len && s->in[s->pos] == 0)
            s->pos++;
        size_t left = s->len - s->pos;
        if (left == 0 || (left < sizeof GZIP_MAGIC && !s->raw_eof))
            return 1; /* nothing more, or wait for the next bytes */
        if (!starts_with(s->in + s->pos, left, GZIP_MAGIC, sizeof GZIP_MAGIC))
            return fail(s, "the bytes after the end of the gzip data (at offset %llu) are not gzip",
                        (unsigned long long)(s->bytes_in - left));
        if (inflateReset(&s->z) != Z_OK)
            return fail(s, "gzip: cannot start the next member");
        s->member_done = false;
    }
    uInt in_avail = (uInt)min_size(s->len - s->pos, UINT_MAX), out_room = (uInt)min_size(room, UINT_MAX);
    s->z.next_in = s->in + s->pos;
    s->z.avail_in = in_avail;
    s->z.next_out = out;
    s->z.avail_out = out_room;
    int rc = inflate(&s->z, Z_NO_FLUSH);
    s->pos += in_avail - s->z.avail_in;
    *written = out_room - s->z.avail_out;
    if (rc == Z_STREAM_END) {
        s->member_done = true;
        return 1;
    }
    if (rc == Z_OK || rc == Z_BUF_ERROR) /* Z_BUF_ERROR: no progress possible yet */
        return 0;
    return fail(s, "gzip data is corrupt: %s", s->z.msg ? s->z.msg : zError(rc));
}

static int zstd_step(sl_instream *s, uint8_t *out, size_t room, size_t *written)
{
    ZSTD_inBuffer in = {s->in, s->len, s->pos};
    ZSTD_outBuffer o = {out, room, 0};
    size_t ret = ZSTD_decompressStream(s->zstd, &o, &in);
    s->pos = in.pos;
    *written = o.pos;
    if (ZSTD_isError(ret))
        return fail(s, "zstd data is corrupt: %s", ZSTD_getErrorName(ret));
    return ret == 0; /* 0: a frame is decoded and flushed whole */
}

static int lz4_step(sl_instream *s, uint8_t *out, size_t room, size_t *written)
{
    size_t src = s->len - s->pos, dst = room;
    size_t ret = LZ4F_decompress(s->lz4, out, &dst, s->in + s->pos, &src, NULL);
    s->pos += src;
    *written = dst;
    if (LZ4F_isError(ret))
        return fail(s, "lz4 data is corrupt: %s", LZ4F_getErrorName(ret));
    return ret == 0; /* 0: a frame is decoded whole; the next starts afresh */
}

/* Fill out[0..size) as far as the data goes: -1 on an error (the bytes
 * decoded before it are in *got), else 0 (*got 0 at the end). */
static int decode(sl_instream *s, uint8_t *out, size_t size, size_t *got)
{
    *got = 0;
    while (*got < size) {
        if (s->pos == s->len && !s->raw_eof && refill(s) < 0)
            return -1;
        size_t pos0 = s->pos, written = 0;
        int rc = s->step(s, out + *got, size - *got, &written);
        if (rc < 0)
            return -1;
        *got += written;
        if (written || s->pos != pos0) {
            s->at_boundary = rc == 1;
            continue;
        }
        /* No progress: the decoder wants bytes that are not read yet (a
         * header cut by the buffer's end), or everything is used up. */
        if (!s->raw_eof) {
            size_t buffered = s->len - s->pos;
            if (refill(s) < 0)
                return -1;
            if (s->len - s->pos > buffered)
                continue;
            if (!s->raw_eof)
                return fail(s, "%s data: a header larger than %zu bytes", sl_compression_name(s->kind),
                            IN_BUF_SIZE);
        }
        if (!s->at_boundary || s->pos < s->len)
            return fail(s, "%s data ends early: the compressed file is cut short", sl_compression_name(s->kind));
        break;
    }
    return 0;
}

static ssize_t instream_read(void *cookie, char *buf, size_t size)
{
    sl_instream *s = cookie;
    if (s->failed) {
        errno = EIO;
        return -1;
    }
    size_t got = 0;
    int rc = decode(s, (uint8_t *)buf, size, &got);
    s->bytes_out += got;
    if (got > 0) /* the error, if any, is returned by the next read */
        return (ssize_t)got;
    if (rc < 0) {
        errno = EIO;
        return -1;
    }
    return 0;
}

static void instream_free(sl_instream *s)
{
    if (s->z_ready)
        inflateEnd(&s->z);
    ZSTD_freeDStream(s->zstd);
    LZ4F_freeDecompressionContext(s->lz4);
    free(s->in);
    free(s);
}

static int instream_close(void *cookie)
{
    sl_instream *s = cookie;
    int rc = s->close_raw ? fclose(s->raw) : 0;
    instream_free(s);
    return rc;
}

static int decoder_init(sl_instream *s, char *err, size_t errlen)
{
    switch (s->kind) {
    case SL_COMP_NONE: s->step = copy_step; return 0;
    case SL_COMP_GZIP:
        s->step = gzip_step;
        /* 16 + MAX_WBITS: a gzip header and trailer (CRC, length) are checked. */
        if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK)
            break;
        s->z_ready = true;
        return 0;
    case SL_COMP_ZSTD:
        s->step = zstd_step;
        if (!(s->zstd = ZSTD_createDStream()) ||
            ZSTD_isError(ZSTD_DCtx_setParameter(s->zstd, ZSTD_d_windowLogMax, ZSTD_WINDOW_LOG_MAX)))
            break;
        return 0;
    case SL_COMP_LZ4:
        s->step = lz4_step;
        if (LZ4F_isError(LZ4F_createDecompressionContext(&s->lz4, LZ4F_VERSION)))
            break;
        return 0;
    case SL_COMP_UNSUPPORTED:
        snprintf(err, errlen, "compressed in a form sipladder does not read");
        return -1;
    }
    snprintf(err, errlen, "out of memory (%s decoder)", sl_compression_name(s->kind));
    return -1;
}

FILE *sl_instream_fopen(FILE *raw, bool close_raw, const uint8_t *head, size_t n_head, sl_compression kind,
                        sl_instream **state, char *err, size_t errlen)
{
    if (state)
        *state = NULL;
    sl_instream *s = calloc(1, sizeof *s);
    if (!s || !(s->in = malloc(IN_BUF_SIZE)) || n_head > IN_BUF_SIZE) {
        snprintf(err, errlen, "out of memory");
        if (s)
            free(s->in);
        free(s);
        return NULL;
    }
    s->raw = raw;
    s->close_raw = close_raw;
    s->kind = kind;
    memcpy(s->in, head, n_head);
    s->len = n_head;
    s->bytes_in = n_head;
    if (decoder_init(s, err, errlen) < 0) {
        instream_free(s);
        return NULL;
    }
    cookie_io_functions_t io = {.read = instream_read, .close = instream_close};
    FILE *fp = fopencookie(s, "r", io);
    if (!fp) {
        snprintf(err, errlen, "%s", strerror(errno));
        instream_free(s);
        return NULL;
    }
    setvbuf(fp, NULL, _IOFBF, OUT_VBUF_SIZE);
    if (state)
        *state = s;
    return fp;
}

const char *sl_instream_error(const sl_instream *s) { return s && s->failed ? s->error : NULL; }
uint64_t sl_instream_bytes_in(const sl_instream *s) { return s ? s->bytes_in : 0; }
uint64_t sl_instream_bytes_out(const sl_instream *s) { return s ? s->bytes_out : 0; }
