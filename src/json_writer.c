/* json_writer.c - the json view's output (json_writer.h): bytes buffered
 * into large writes to a file or to memory, jansson's text made safe for a
 * terminal (DEL and C1 controls escaped), each piece indented to its depth.
 * Strings reach jansson as valid UTF-8 (json_map.c replaces what is not). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_writer.h"

jout *jout_new(FILE *f)
{
    jout *w = malloc(sizeof *w);
    if (w) {
        w->f = f;
        w->mem = NULL;
        w->err = false;
        w->n = 0;
    }
    return w;
}

/* p[0..n) to where w's bytes go, past its buffer. */
static void write_through(jout *w, const char *p, size_t n)
{
    if (w->mem ? !sl_bytes_append(w->mem, p, n, 65536) : fwrite(p, 1, n, w->f) != n)
        w->err = true;
}

void out_flush(jout *w)
{
    if (w->n)
        write_through(w, w->buf, w->n);
    w->n = 0;
}

void out_bytes_slow(jout *w, const char *p, size_t n)
{
    out_flush(w);
    if (n > sizeof w->buf) {
        write_through(w, p, n);
        return;
    }
    memcpy(w->buf, p, n);
    w->n = n;
}

void out_str(jout *w, const char *s) { out_bytes(w, s, strlen(s)); }

void out_newline(jout *w, size_t indent)
{
    static const char spaces[] = "                                ";
    out_bytes(w, "\n", 1);
    while (indent) {
        size_t k = indent < sizeof spaces - 1 ? indent : sizeof spaces - 1;
        out_bytes(w, spaces, k);
        indent -= k;
    }
}

/* Whether one of the eight bytes of v is b (the has-zero-byte test). */
static inline uint64_t has_byte(uint64_t v, unsigned char b)
{
    uint64_t x = v ^ (0x0101010101010101ull * b);
    return (x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull;
}

/* The bytes that need a look: newline, DEL, and C2 (a C1's lead byte). */
static const bool dump_special[256] = {['\n'] = true, [0x7f] = true, [0xc2] = true};

/* jansson writes DEL and C1 controls (U+0080-U+009F, valid UTF-8) raw
 * inside strings; a terminal obeys C1 like ESC, so they go out as \u
 * escapes.  Only strings hold such bytes, and jansson hands whole code
 * points to the callback, so the rewrite is exact.  This runs on every
 * byte of the output: plain runs are skipped eight bytes at a time. */
__attribute__((noinline)) static int dump_safe_slow(const char *buf, size_t size, void *data)
{
    jout *w = data;
    const unsigned char *u = (const unsigned char *)buf;
    size_t start = 0, i = 0;
    while (i < size) {
        if (size - i >= 8) {
            uint64_t v;
            memcpy(&v, u + i, 8);
            if (!(has_byte(v, '\n') | has_byte(v, 0x7f) | has_byte(v, 0xc2))) {
                i += 8;
                continue;
            }
        }
        if (!dump_special[u[i]]) {
            i++;
            continue;
        }
        if (u[i] == '\n') {
            out_bytes(w, buf + start, i - start);
            out_newline(w, w->indent);
            start = ++i;
            continue;
        }
        unsigned cp;
        if (u[i] == 0x7f)
            cp = 0x7f;
        else if (u[i] == 0xc2 && i + 1 < size && u[i + 1] < 0xa0)
            cp = u[i + 1];
        else {
            i++;
            continue;
        }
        char esc[8];
        snprintf(esc, sizeof esc, "\\u%04x", cp);
        out_bytes(w, buf + start, i - start);
        out_bytes(w, esc, 6);
        i += cp == 0x7f ? 1 : 2;
        start = i;
    }
    out_bytes(w, buf + start, size - start);
    return w->err ? -1 : 0;
}

/* jansson's callback, called for every token it writes (a key, a quote,
 * a number, a comma): most are a few plain bytes, copied here without a
 * call; the rest, and any byte that needs a look, go to dump_safe_slow. */
static int dump_safe(const char *buf, size_t size, void *data)
{
    jout *w = data;
    if (size <= 32 && size <= sizeof w->buf - w->n) {
        char *dst = w->buf + w->n;
        for (size_t i = 0; i < size; i++) {
            if (dump_special[(unsigned char)buf[i]])
                return dump_safe_slow(buf, size, data);
            dst[i] = buf[i];
        }
        w->n += size;
        return w->err ? -1 : 0;
    }
    return dump_safe_slow(buf, size, data);
}

void jout_dump(jout *w, const json_t *v, size_t indent, size_t flags)
{
    w->indent = indent;
    if (json_dump_callback(v, dump_safe, w, flags | JSON_ENCODE_ANY) != 0)
        w->err = true;
}

/* A top-level key of the document (a constant: nothing to escape). */
void out_key(jout *w, bool first, const char *key)
{
    if (!first)
        out_bytes(w, ",", 1);
    out_newline(w, 2);
    out_bytes(w, "\"", 1);
    out_str(w, key);
    out_bytes(w, "\": ", 3);
}

/* A top-level key of a one-line document (the jsonl head). */
void out_key_compact(jout *w, bool first, const char *key)
{
    if (!first)
        out_bytes(w, ",", 1);
    out_bytes(w, "\"", 1);
    out_str(w, key);
    out_bytes(w, "\":", 2);
}
