/* bytes.h - a growable byte buffer, appended to at the end (a handshake
 * message split over records, a piece of JSON written in memory). */
#ifndef SIPLADDER_BYTES_H
#define SIPLADDER_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sl_bytes {
    uint8_t *p;
    size_t len, cap;
} sl_bytes;

/* Append p[0..n); the capacity starts at `first` bytes and doubles.  False
 * when out of memory, b unchanged. */
bool sl_bytes_append(sl_bytes *b, const void *p, size_t n, size_t first);

/* Free the bytes; b is empty again.  NULL-safe. */
void sl_bytes_free(sl_bytes *b);

#endif
