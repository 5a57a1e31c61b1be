/* cursor.h - bounds-checked reader over untrusted bytes.
 *
 * A cursor borrows its buffer.  Every read checks n <= len - pos; an overrun
 * sets the sticky `bad` flag and yields 0 / NULL, so a parser can read a whole
 * record straight and test sl_cursor_ok() once at the end. */
#ifndef SIPLADDER_CURSOR_H
#define SIPLADDER_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sl_cursor {
    const uint8_t *buf; /* borrowed */
    size_t len;
    size_t pos;
    bool bad; /* sticky: some read went past the end */
} sl_cursor;

void sl_cursor_init(sl_cursor *c, const uint8_t *buf, size_t len);

static inline size_t sl_cursor_left(const sl_cursor *c) { return c->bad ? 0 : c->len - c->pos; }
static inline bool sl_cursor_ok(const sl_cursor *c) { return !c->bad; }
static inline bool sl_cursor_has(const sl_cursor *c, size_t n) { return !c->bad && n <= c->len - c->pos; }

uint8_t sl_cursor_u8(sl_cursor *c);
uint16_t sl_cursor_u16be(sl_cursor *c);
uint32_t sl_cursor_u24be(sl_cursor *c);
uint32_t sl_cursor_u32be(sl_cursor *c);
uint16_t sl_cursor_u16le(sl_cursor *c);
uint32_t sl_cursor_u32le(sl_cursor *c);
uint64_t sl_cursor_u64le(sl_cursor *c);

/* Pointer to the next n bytes (borrowed from the buffer) and advance; NULL and
 * bad when fewer than n remain. n == 0 returns the current position. */
const uint8_t *sl_cursor_bytes(sl_cursor *c, size_t n);

/* Advance n bytes; false (and bad) when fewer remain. */
bool sl_cursor_skip(sl_cursor *c, size_t n);

/* A child cursor over the next n bytes, which the parent skips.  The child can
 * never read past them.  When fewer remain, both are bad and the child empty. */
sl_cursor sl_cursor_sub(sl_cursor *c, size_t n);

/* Peek without advancing; 0 / false when out of range (does not set bad). */
bool sl_cursor_peek_u8(const sl_cursor *c, size_t ahead, uint8_t *out);

#endif
