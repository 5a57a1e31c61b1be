/* decompress.h - a compressed capture read as the capture inside it, as
 * tshark reads one: gzip (zlib), zstd (libzstd) and lz4 frames (liblz4),
 * recognised by their first bytes, never by the file name.  The result is a
 * stdio FILE (glibc's fopencookie) that libpcap reads like any other: the
 * data is decompressed as libpcap asks for it, so memory stays a few buffers
 * whatever the size of the file (plus the window a zstd frame declares, at
 * most 128 MB as zstd's own default limit). */
#ifndef SIPLADDER_DECOMPRESS_H
#define SIPLADDER_DECOMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum sl_compression {
    SL_COMP_NONE,        /* not compressed (or not in a form we know) */
    SL_COMP_GZIP,
    SL_COMP_ZSTD,
    SL_COMP_LZ4,
    SL_COMP_UNSUPPORTED, /* xz or bzip2: said so, with the tool that reads it */
} sl_compression;

/* Bytes of a file's start sl_compression_detect wants to see. */
#define SL_COMP_MAGIC_MAX 6

/* The compression `head` (n bytes, the start of a file) shows.  For
 * SL_COMP_UNSUPPORTED, *tool (when not NULL) names the command that
 * decompresses it ("xz", "bzip2"). */
sl_compression sl_compression_detect(const uint8_t *head, size_t n, const char **tool);
/* "gzip", "zstd", "lz4", or "" for SL_COMP_NONE. */
const char *sl_compression_name(sl_compression c);

typedef struct sl_instream sl_instream;

/* A FILE that reads `raw` from where it stands, after the `n_head` bytes
 * already taken from it (copied from head), decompressed as `kind` says
 * (SL_COMP_NONE: passed through, for a pipe that cannot be rewound).
 * close_raw: fclose(raw) when the returned FILE is closed (not for stdin).
 * NULL with a message in err on failure; raw is not closed then.
 * *state (when not NULL) stays valid until the returned FILE is closed. */
FILE *sl_instream_fopen(FILE *raw, bool close_raw, const uint8_t *head, size_t n_head, sl_compression kind,
                        sl_instream **state, char *err, size_t errlen);

/* Why reading stopped before the end of the compressed data ("gzip data
 * ends early: the file is cut short", "zstd data is corrupt: ..."), or NULL
 * while all is well. */
const char *sl_instream_error(const sl_instream *s);
/* Bytes read from raw so far (for progress) and bytes handed out. */
uint64_t sl_instream_bytes_in(const sl_instream *s);
uint64_t sl_instream_bytes_out(const sl_instream *s);

#endif
