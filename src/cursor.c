/* cursor.c - bounds-checked reads over untrusted bytes (see cursor.h). */
#include "sipladder/cursor.h"

void sl_cursor_init(sl_cursor *c, const uint8_t *buf, size_t len)
{
    c->buf = buf;
    c->len = buf ? len : 0;
    c->pos = 0;
    c->bad = false;
}

const uint8_t *sl_cursor_bytes(sl_cursor *c, size_t n)
{
    /* n <= len - pos cannot overflow, unlike pos + n <= len. */
    if (c->bad || n > c->len - c->pos) {
        c->bad = true;
        return NULL;
    }
    const uint8_t *p = c->buf + c->pos;
    c->pos += n;
    return p;
}

bool sl_cursor_skip(sl_cursor *c, size_t n) { return sl_cursor_bytes(c, n) != NULL; }

uint8_t sl_cursor_u8(sl_cursor *c)
{
    const uint8_t *p = sl_cursor_bytes(c, 1);
    return p ? p[0] : 0;
}

uint16_t sl_cursor_u16be(sl_cursor *c)
{
    const uint8_t *p = sl_cursor_bytes(c, 2);
    return p ? (uint16_t)((unsigned)p[0] << 8 | p[1]) : 0;
}

uint32_t sl_cursor_u24be(sl_cursor *c)
{
    const uint8_t *p = sl_cursor_bytes(c, 3);
    return p ? (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2] : 0;
}

uint32_t sl_cursor_u32be(sl_cursor *c)
{
    const uint8_t *p = sl_cursor_bytes(c, 4);
    return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
}

uint16_t sl_cursor_u16le(sl_cursor *c)
{
    const uint8_t *p = sl_cursor_bytes(c, 2);
    return p ? (uint16_t)((unsigned)p[1] << 8 | p[0]) : 0;
}

uint32_t sl_cursor_u32le(sl_cursor *c)
{
    const uint8_t *p = sl_cursor_bytes(c, 4);
    return p ? (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0] : 0;
}

uint64_t sl_cursor_u64le(sl_cursor *c)
{
    const uint8_t *p = sl_cursor_bytes(c, 8);
    if (!p)
        return 0;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

sl_cursor sl_cursor_sub(sl_cursor *c, size_t n)
{
    sl_cursor child;
    const uint8_t *p = sl_cursor_bytes(c, n);
    sl_cursor_init(&child, p, p ? n : 0);
    child.bad = p == NULL;
    return child;
}

bool sl_cursor_peek_u8(const sl_cursor *c, size_t ahead, uint8_t *out)
{
    if (c->bad || ahead >= c->len - c->pos)
        return false;
    *out = c->buf[c->pos + ahead];
    return true;
}
