/* arena.h - allocations that all go at once: a pointer bump per allocation,
 * one reset for the lot.  For the libraries that build a tree of small
 * allocations per message or per output piece (libosip2's parse tree,
 * jansson's JSON values), whose allocator hooks route here while a scope is
 * open (osip_arena.h, json_arena.h).
 *
 * Each allocation is 16-byte aligned and preceded by a header holding its
 * size (for realloc).  Under AddressSanitizer the headers and the unused
 * space are poisoned, so an overflow from one allocation into the next, or
 * a use after reset, is still reported as with malloc. */
#ifndef SIPLADDER_ARENA_H
#define SIPLADDER_ARENA_H

#include <stdbool.h>
#include <stddef.h>

typedef struct sl_arena sl_arena;

/* NULL when out of memory.  _free(NULL) is a no-op. */
sl_arena *sl_arena_new(void);
void sl_arena_free(sl_arena *a);

/* n bytes (owned by the arena until reset); NULL when out of memory. */
void *sl_arena_alloc(sl_arena *a, size_t n);
/* p (from this arena, or NULL) grown or shrunk to n, its bytes kept. */
void *sl_arena_realloc(sl_arena *a, void *p, size_t n);
/* Bytes handed out since the last reset, headers included. */
size_t sl_arena_used(const sl_arena *a);
/* Whether p was allocated from a since its last reset. */
bool sl_arena_owns(const sl_arena *a, const void *p);
/* Drop every allocation.  The first block is kept, grown to the size of
 * the largest round so far: memory stays at the largest round, not the sum. */
void sl_arena_reset(sl_arena *a);

/* What a library's allocator hooks do (its hooks take no context, so each
 * keeps the arena of its open scope in a thread-local pointer): with a
 * scope open (a not NULL) allocate from a, else from malloc; free only what
 * malloc gave. */
void *sl_arena_hook_alloc(sl_arena *a, size_t n);
void *sl_arena_hook_realloc(sl_arena *a, void *p, size_t n);
void sl_arena_hook_free(sl_arena *a, void *p);

#endif
