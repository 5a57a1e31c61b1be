/* arena.c - allocations that all go at once (see arena.h). */
#include "sipladder/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define SL_ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SL_ARENA_ASAN 1
#endif
#endif
#ifdef SL_ARENA_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* Alignment of every allocation, and the size of its header. */
#define ARENA_ALIGN 16u
/* A SIP message's parse tree or a call's JSON: most fit the first block. */
#define ARENA_BLOCK (64u * 1024)

typedef struct block {
    struct block *next;
    size_t cap, used;
    _Alignas(ARENA_ALIGN) unsigned char data[];
} block;

struct sl_arena {
    block *first; /* kept across resets; grows to the largest round */
    block *extra; /* newest first, for a round that outgrew first; freed on reset */
};

static block *block_new(size_t cap)
{
    block *b = malloc(sizeof *b + cap);
    if (!b)
        return NULL;
    b->next = NULL;
    b->cap = cap;
    b->used = 0;
    POISON(b->data, cap);
    return b;
}

sl_arena *sl_arena_new(void)
{
    sl_arena *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    if (!(a->first = block_new(ARENA_BLOCK))) {
        free(a);
        return NULL;
    }
    return a;
}

static void free_extra(sl_arena *a)
{
    while (a->extra) {
        block *next = a->extra->next;
        UNPOISON(a->extra->data, a->extra->cap);
        free(a->extra);
        a->extra = next;
    }
}

void sl_arena_free(sl_arena *a)
{
    if (!a)
        return;
    free_extra(a);
    UNPOISON(a->first->data, a->first->cap);
    free(a->first);
    free(a);
}

size_t sl_arena_used(const sl_arena *a)
{
    size_t total = a->first->used;
    for (const block *b = a->extra; b; b = b->next)
        total += b->used;
    return total;
}

static bool in_block(const block *b, const void *p)
{
    uintptr_t x = (uintptr_t)p, lo = (uintptr_t)b->data;
    return x >= lo && x - lo < b->used;
}

bool sl_arena_owns(const sl_arena *a, const void *p)
{
    if (in_block(a->first, p))
        return true;
    for (const block *b = a->extra; b; b = b->next)
        if (in_block(b, p))
            return true;
    return false;
}

void *sl_arena_alloc(sl_arena *a, size_t n)
{
    if (n > SIZE_MAX / 2)
        return NULL;
    size_t need = ARENA_ALIGN + ((n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1));
    block *b = a->extra ? a->extra : a->first;
    if (need > b->cap - b->used) {
        if (!(b = block_new(need > ARENA_BLOCK ? need : ARENA_BLOCK)))
            return NULL;
        b->next = a->extra;
        a->extra = b;
    }
    unsigned char *h = b->data + b->used;
    b->used += need;
    UNPOISON(h, ARENA_ALIGN + n);
    memcpy(h, &n, sizeof n);
    POISON(h, ARENA_ALIGN);
    return h + ARENA_ALIGN;
}

static size_t size_of(const void *p)
{
    const unsigned char *h = (const unsigned char *)p - ARENA_ALIGN;
    size_t n;
    UNPOISON(h, sizeof n);
    memcpy(&n, h, sizeof n);
    POISON(h, sizeof n);
    return n;
}

void *sl_arena_realloc(sl_arena *a, void *p, size_t n)
{
    void *q = sl_arena_alloc(a, n);
    if (q && p) {
        size_t old = size_of(p);
        memcpy(q, p, old < n ? old : n);
    }
    return q;
}

/* Drop every allocation.  A round that outgrew the first block makes the
 * first block as large as that round was, so the next round of the same
 * size (a message, a call's JSON) is one block again, not a malloc and
 * free per extra block each round. */
void sl_arena_reset(sl_arena *a)
{
    size_t total = sl_arena_used(a);
    free_extra(a);
    block *bigger = total > a->first->cap ? block_new(total) : NULL;
    if (bigger) {
        UNPOISON(a->first->data, a->first->cap);
        free(a->first);
        a->first = bigger;
        return;
    }
    POISON(a->first->data, a->first->used);
    a->first->used = 0;
}

void *sl_arena_hook_alloc(sl_arena *a, size_t n) { return a ? sl_arena_alloc(a, n) : malloc(n); }

void *sl_arena_hook_realloc(sl_arena *a, void *p, size_t n)
{
    if (!a || (p && !sl_arena_owns(a, p)))
        return realloc(p, n);
    return sl_arena_realloc(a, p, n);
}

void sl_arena_hook_free(sl_arena *a, void *p)
{
    if (p && !(a && sl_arena_owns(a, p)))
        free(p);
}
