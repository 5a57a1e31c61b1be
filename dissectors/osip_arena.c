/* osip_arena.c - libosip2's allocations for one message, from one block
 * (see osip_arena.h).
 *
 * Each allocation is preceded by a header holding its size (for realloc);
 * under AddressSanitizer the headers and the unused space are poisoned, so
 * an overflow from one allocation into the next, or a use after leave, is
 * still caught as with malloc. */
#include "osip_arena.h"

#include <osipparser2/osip_port.h>
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
/* A message's tree is a few times its header bytes: most fit the first. */
#define ARENA_BLOCK (64u * 1024)

typedef struct block {
    struct block *next;
    size_t cap, used;
    _Alignas(ARENA_ALIGN) unsigned char data[];
} block;

struct sl_osip_arena {
    block *first;  /* kept across messages */
    block *extra;  /* for a message that outgrew first; freed on leave */
};

/* libosip2's allocator hooks take no context argument, so the arena in use
 * is found through this one thread-local pointer: the only mutable state
 * outside a context, set and cleared by enter/leave around one message. */
static _Thread_local sl_osip_arena *current;

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

sl_osip_arena *sl_osip_arena_new(void)
{
    sl_osip_arena *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    if (!(a->first = block_new(ARENA_BLOCK))) {
        free(a);
        return NULL;
    }
    return a;
}

static void free_extra(sl_osip_arena *a)
{
    while (a->extra) {
        block *next = a->extra->next;
        UNPOISON(a->extra->data, a->extra->cap);
        free(a->extra);
        a->extra = next;
    }
}

void sl_osip_arena_free(sl_osip_arena *a)
{
    if (!a)
        return;
    if (current == a)
        current = NULL;
    free_extra(a);
    UNPOISON(a->first->data, a->first->cap);
    free(a->first);
    free(a);
}

static bool in_block(const block *b, const void *p)
{
    uintptr_t x = (uintptr_t)p, lo = (uintptr_t)b->data;
    return x >= lo && x - lo < b->used;
}

bool sl_osip_arena_owns(const sl_osip_arena *a, const void *p)
{
    if (in_block(a->first, p))
        return true;
    for (const block *b = a->extra; b; b = b->next)
        if (in_block(b, p))
            return true;
    return false;
}

/* n bytes after a size header; NULL when out of memory (libosip2 then
 * fails the parse, which marks the message malformed). */
static void *take(sl_osip_arena *a, size_t n)
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

static void *hook_malloc(size_t n) { return current ? take(current, n) : malloc(n); }

static void hook_free(void *p)
{
    if (p && !(current && sl_osip_arena_owns(current, p)))
        free(p);
}

static void *hook_realloc(void *p, size_t n)
{
    if (!current || (p && !sl_osip_arena_owns(current, p)))
        return realloc(p, n);
    void *q = take(current, n);
    if (q && p) {
        size_t old = size_of(p);
        memcpy(q, p, old < n ? old : n);
    }
    return q;
}

void sl_osip_arena_install(void) { osip_set_allocators(hook_malloc, hook_realloc, hook_free); }

void sl_osip_arena_enter(sl_osip_arena *a) { current = a; }

void sl_osip_arena_leave(sl_osip_arena *a)
{
    if (current == a)
        current = NULL;
    free_extra(a);
    POISON(a->first->data, a->first->used);
    a->first->used = 0;
}
