/* corr_map.c - the correlator's byte-keyed hash map, its keys and growable arrays. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "correlate_internal.h"

/* ---- byte-keyed hash map: key -> uint32 (SL_CALLS_NONE: empty) ----------- */

/* Eight bytes a step (keys are Call-IDs, tags and branches of 20-60 bytes:
 * a byte at a time, hashing was the largest cost of correlating), then the
 * splitmix64 finaliser so that every key bit reaches the low slot bits. */
static uint64_t key_hash(const char *k, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    size_t i = 0;
    for (; n - i >= 8; i += 8) {
        uint64_t w;
        memcpy(&w, k + i, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 31;
    }
    uint64_t tail = 0;
    if (n > i)
        memcpy(&tail, k + i, n - i);
    h ^= tail;
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    return h ^ (h >> 31);
}

_Static_assert(SL_CALLS_NONE == UINT32_MAX, "an empty slot is all 0xff bytes");

static int map_resize(sl_cmap *m, size_t cap)
{
    sl_cmap_slot *s = malloc(cap * sizeof *s);
    if (!s)
        return -SL_ENOMEM;
    memset(s, 0xff, cap * sizeof *s); /* every val SL_CALLS_NONE: empty */
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].val == SL_CALLS_NONE)
            continue;
        size_t j = (size_t)m->slots[i].hash & (cap - 1);
        while (s[j].val != SL_CALLS_NONE)
            j = (j + 1) & (cap - 1);
        s[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = s;
    m->cap = cap;
    return 0;
}

static sl_cmap_slot *map_slot(const sl_cmap *m, const char *k, size_t n, uint64_t h)
{
    size_t j = (size_t)h & (m->cap - 1);
    for (;;) {
        sl_cmap_slot *s = &m->slots[j];
        if (s->val == SL_CALLS_NONE)
            return s;
        if (s->hash == h && s->len == n && memcmp(m->arena + s->off, k, n) == 0)
            return s;
        j = (j + 1) & (m->cap - 1);
    }
}

uint32_t sl_cmap_get(const sl_cmap *m, const sl_ckey *k)
{
    if (!m->cap || k->oom)
        return SL_CALLS_NONE;
    return map_slot(m, k->p, k->n, key_hash(k->p, k->n))->val;
}

static int arena_add(sl_cmap *m, const char *k, size_t n, size_t *off)
{
    if (n > m->arena_cap - m->arena_len) {
        size_t cap = m->arena_cap ? m->arena_cap : 4096;
        while (n > cap - m->arena_len)
            cap *= 2;
        char *a = realloc(m->arena, cap);
        if (!a)
            return -SL_ENOMEM;
        m->arena = a;
        m->arena_cap = cap;
    }
    if (n)
        memcpy(m->arena + m->arena_len, k, n);
    *off = m->arena_len;
    m->arena_len += n;
    return 0;
}

static int map_grow(sl_cmap *m)
{
    return map_resize(m, m->cap ? m->cap * 2 : 64);
}

/* Room for `keys` keys of about `key_bytes` each without rehashing. */
int sl_cmap_reserve(sl_cmap *m, size_t keys, size_t key_bytes)
{
    size_t cap = 64;
    while (cap < SIZE_MAX / 8 && cap * 3 < keys * 4)
        cap *= 2;
    if (cap > m->cap && map_resize(m, cap) < 0)
        return -SL_ENOMEM;
    size_t bytes = keys < SIZE_MAX / key_bytes ? keys * key_bytes : SIZE_MAX;
    if (bytes > m->arena_cap) {
        char *a = realloc(m->arena, bytes);
        if (!a)
            return -SL_ENOMEM;
        m->arena = a;
        m->arena_cap = bytes;
    }
    return 0;
}

/* Store key -> val, replacing an older value.  0 or -SL_ENOMEM. */
int sl_cmap_put(sl_cmap *m, const sl_ckey *k, uint32_t val)
{
    if (k->oom)
        return -SL_ENOMEM;
    if ((m->used + 1) * 4 > m->cap * 3 && map_grow(m) < 0)
        return -SL_ENOMEM;
    uint64_t h = key_hash(k->p, k->n);
    sl_cmap_slot *s = map_slot(m, k->p, k->n, h);
    if (s->val != SL_CALLS_NONE) {
        s->val = val;
        return 0;
    }
    size_t off;
    if (arena_add(m, k->p, k->n, &off) < 0)
        return -SL_ENOMEM;
    *s = (sl_cmap_slot){.hash = h, .off = off, .len = k->n, .val = val};
    m->used++;
    return 0;
}

void sl_cmap_clear(sl_cmap *m)
{
    free(m->slots);
    free(m->arena);
    memset(m, 0, sizeof *m);
}

/* ---- keys: length-prefixed parts after a one-byte tag -------------------- */

static void key_bytes(sl_ckey *k, const void *p, size_t n)
{
    if (k->oom)
        return;
    if (n > k->cap - k->n) {
        size_t cap = k->cap ? k->cap : 256;
        while (n > cap - k->n)
            cap *= 2;
        char *b = realloc(k->p, cap);
        if (!b) {
            k->oom = true;
            return;
        }
        k->p = b;
        k->cap = cap;
    }
    if (n)
        memcpy(k->p + k->n, p, n);
    k->n += n;
}

void sl_ckey_reset(sl_ckey *k, char tag)
{
    k->n = 0;
    k->oom = false;
    key_bytes(k, &tag, 1);
}

/* A length-prefixed part, so that no two different part lists give one key. */
void sl_ckey_str(sl_ckey *k, sl_sip_str s)
{
    uint32_t n = s.p ? (uint32_t)(s.n > UINT32_MAX - 1 ? UINT32_MAX - 1 : s.n) : UINT32_MAX;
    key_bytes(k, &n, sizeof n);
    if (s.p)
        key_bytes(k, s.p, n);
}

/* Case-insensitive part (host names, uuids written either way). */
void sl_ckey_lower(sl_ckey *k, sl_sip_str s)
{
    char buf[256];
    if (!s.p || s.n > sizeof buf) {
        sl_ckey_str(k, s);
        return;
    }
    for (size_t i = 0; i < s.n; i++)
        buf[i] = (char)tolower((unsigned char)s.p[i]);
    sl_ckey_str(k, (sl_sip_str){buf, s.n});
}

void sl_ckey_u32(sl_ckey *k, uint32_t v)
{
    key_bytes(k, &v, sizeof v);
}

void sl_ckey_addr(sl_ckey *k, const sl_addr *a)
{
    key_bytes(k, &a->family, 1);
    key_bytes(k, a->bytes, a->family == 4 ? 4 : 16);
}

/* ---- growable arrays: the capacity is the next power of two of the length */

int sl_corr_grow(void *pp, size_t n, size_t elem)
{
    void **p = pp;
    if (n != 0 && (n & (n - 1)) != 0)
        return 0;
    size_t cap = n ? n * 2 : 1;
    if (cap > SIZE_MAX / elem)
        return -SL_ENOMEM;
    void *q = realloc(*p, cap * elem);
    if (!q)
        return -SL_ENOMEM;
    *p = q;
    return 0;
}

int sl_corr_push_u32(uint32_t **a, size_t *n, uint32_t v)
{
    if (sl_corr_grow(a, *n, sizeof **a) < 0)
        return -SL_ENOMEM;
    (*a)[(*n)++] = v;
    return 0;
}

int sl_corr_push_rec(const sl_sip_record ***a, size_t *n, const sl_sip_record *r)
{
    if (sl_corr_grow(a, *n, sizeof **a) < 0) // NOLINT(bugprone-sizeof-expression): an array of pointers, sized as such
        return -SL_ENOMEM;
    (*a)[(*n)++] = r;
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

void sl_calls_sort_unique(uint32_t *a, size_t *n)
{
    if (*n < 2)
        return;
    qsort(a, *n, sizeof *a, cmp_u32);
    size_t w = 1;
    for (size_t i = 1; i < *n; i++)
        if (a[i] != a[w - 1])
            a[w++] = a[i];
    *n = w;
}
