/* json_writer.h - the json view's output: a buffered writer to a file or
 * to memory, the structure between pieces (keys, newlines, indentation),
 * and jansson's dump of one piece made safe for a terminal (json_writer.c).
 * Internal to the json view. */
#ifndef SL_JSON_WRITER_H
#define SL_JSON_WRITER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "sipladder/bytes.h"

/* Times to the microsecond (16 significant digits hold epoch seconds with
 * six decimals); keys in insertion order. */
#define SL_JSON_FLAGS (JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(16))

typedef struct jout {
    FILE *f;
    sl_bytes *mem; /* not NULL: the bytes go here, not to f (a piece, written on another thread) */
    size_t indent; /* spaces after each newline of the piece being written */
    bool err;      /* a write failed */
    size_t n;
    char buf[65536]; /* fewer, larger fwrite calls than jansson's tiny pieces */
} jout;

/* A writer to f (freed with free()); NULL when out of memory. */
jout *jout_new(FILE *f);
/* What w buffers to where its bytes go. */
void out_flush(jout *w);
void out_bytes_slow(jout *w, const char *p, size_t n);

/* Called for every few bytes jansson writes: the common case inline. */
static inline void out_bytes(jout *w, const char *p, size_t n)
{
    if (n > sizeof w->buf - w->n) {
        out_bytes_slow(w, p, n);
        return;
    }
    memcpy(w->buf + w->n, p, n);
    w->n += n;
}

void out_str(jout *w, const char *s);
/* A newline and `indent` spaces. */
void out_newline(jout *w, size_t indent);
/* v dumped with jansson's `flags`, its lines indented by `indent`, DEL and
 * C1 controls escaped (v is not released). */
void jout_dump(jout *w, const json_t *v, size_t indent, size_t flags);
/* A top-level key of the document ("first": no comma before it), indented
 * or on one line. */
void out_key(jout *w, bool first, const char *key);
void out_key_compact(jout *w, bool first, const char *key);

#endif
