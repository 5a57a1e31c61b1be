/* bytes.c - a growable byte buffer (see bytes.h). */
#include "sipladder/bytes.h"

#include <stdlib.h>
#include <string.h>

bool sl_bytes_append(sl_bytes *b, const void *p, size_t n, size_t first)
{
    if (n > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : (first ? first : 64);
        while (cap - b->len < n) {
            if (cap > SIZE_MAX / 2)
                return false;
            cap *= 2;
        }
        uint8_t *grown = realloc(b->p, cap);
        if (!grown)
            return false;
        b->p = grown;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    return true;
}

void sl_bytes_free(sl_bytes *b)
{
    if (!b)
        return;
    free(b->p);
    *b = (sl_bytes){0};
}
