/* html_pack.c - the html view's packing stream (render_html.h): JSON text
 * without its blanks, gzip-compressed, as base64.  Apart from the page so
 * that tests/check_html_pack.c exercises it alone. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <zlib.h>

#include "sipladder/render_html.h"

#define PACK_CHUNK 65536

/* The packing stream's state: where it writes, the deflate stream, the 0-2
 * compressed bytes that wait for a whole base64 group, and where in the
 * JSON text it is (the json view indents its document; the blanks between
 * tokens are left out, which halves what deflate has to read). */
typedef struct packer {
    FILE *out;
    z_stream z;
    unsigned char tail[2];
    size_t n_tail;
    bool in_string; /* between the quotes of a JSON string */
    bool escaped;   /* the byte before was the backslash of an escape */
    bool failed;
    unsigned char in[PACK_CHUNK];  /* the text without its blanks */
    unsigned char zout[PACK_CHUNK];
    char b64[PACK_CHUNK / 3 * 4 + 8];
} packer;

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* n compressed bytes as base64; a last group of 1-2 bytes waits for more
 * unless `final` (then it is padded). */
static void put_base64(packer *p, const unsigned char *b, size_t n, bool final)
{
    size_t o = 0;
    while (n > 0 || (final && p->n_tail > 0)) {
        /* A group of three: the bytes left from before, then b's. */
        unsigned char g[3];
        size_t k = 0;
        for (; k < p->n_tail; k++)
            g[k] = p->tail[k];
        while (k < 3 && n > 0) {
            g[k++] = *b++;
            n--;
        }
        if (k < 3 && !final) {
            memcpy(p->tail, g, k);
            p->n_tail = k;
            break;
        }
        p->n_tail = 0;
        uint32_t v = (uint32_t)g[0] << 16 | (k > 1 ? (uint32_t)g[1] << 8 : 0) | (k > 2 ? g[2] : 0);
        p->b64[o++] = B64[v >> 18 & 63];
        p->b64[o++] = B64[v >> 12 & 63];
        p->b64[o++] = k > 1 ? B64[v >> 6 & 63] : '=';
        p->b64[o++] = k > 2 ? B64[v & 63] : '=';
        if (o + 4 > sizeof p->b64) {
            if (!p->failed && fwrite(p->b64, 1, o, p->out) != o)
                p->failed = true;
            o = 0;
        }
    }
    if (o && !p->failed && fwrite(p->b64, 1, o, p->out) != o)
        p->failed = true;
}

/* Deflate what is in p->in (flush: Z_NO_FLUSH or Z_FINISH) and write it. */
static void deflate_out(packer *p, size_t n_in, int flush)
{
    p->z.next_in = p->in;
    p->z.avail_in = (uInt)n_in;
    do {
        p->z.next_out = p->zout;
        p->z.avail_out = sizeof p->zout;
        if (deflate(&p->z, flush) == Z_STREAM_ERROR) {
            p->failed = true;
            return;
        }
        size_t have = sizeof p->zout - p->z.avail_out;
        put_base64(p, p->zout, have, false);
    } while (p->z.avail_out == 0);
}

static ssize_t packer_write(void *cookie, const char *buf, size_t size)
{
    packer *p = cookie;
    size_t n = 0;
    for (size_t i = 0; i < size; i++) {
        unsigned char b = (unsigned char)buf[i];
        if (!p->in_string && (b == ' ' || b == '\n' || b == '\t' || b == '\r'))
            continue; /* a blank between tokens */
        if (p->escaped)
            p->escaped = false;
        else if (b == '\\' && p->in_string)
            p->escaped = true;
        else if (b == '"')
            p->in_string = !p->in_string;
        p->in[n++] = b;
        if (n == sizeof p->in) {
            deflate_out(p, n, Z_NO_FLUSH);
            n = 0;
        }
    }
    if (n)
        deflate_out(p, n, Z_NO_FLUSH);
    return p->failed ? -1 : (ssize_t)size;
}

static int packer_close(void *cookie)
{
    packer *p = cookie;
    deflate_out(p, 0, Z_FINISH);
    put_base64(p, NULL, 0, true);
    deflateEnd(&p->z);
    int rc = p->failed ? -1 : 0;
    free(p);
    return rc;
}

FILE *sl_html_packer(FILE *out)
{
    packer *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->out = out;
    /* windowBits 15 + 16: a gzip wrapper, as DecompressionStream("gzip") reads. */
    if (deflateInit2(&p->z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(p);
        return NULL;
    }
    cookie_io_functions_t io = {.write = packer_write, .close = packer_close};
    FILE *f = fopencookie(p, "w", io);
    if (!f) {
        deflateEnd(&p->z);
        free(p);
    }
    return f;
}
