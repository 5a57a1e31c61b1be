/* osip_arena.c - libosip2's allocator hooks, routed to the arena of the
 * message being parsed (see osip_arena.h). */
#include "osip_arena.h"

#include <osipparser2/osip_port.h>
#include <stdlib.h>

/* libosip2's hooks take no context argument, so the arena in use is found
 * through this one thread-local pointer: set and cleared by enter/leave
 * around one message. */
static _Thread_local sl_arena *current;

static void *hook_malloc(size_t n) { return current ? sl_arena_alloc(current, n) : malloc(n); }

static void hook_free(void *p)
{
    if (p && !(current && sl_arena_owns(current, p)))
        free(p);
}

static void *hook_realloc(void *p, size_t n)
{
    if (!current || (p && !sl_arena_owns(current, p)))
        return realloc(p, n);
    return sl_arena_realloc(current, p, n);
}

void sl_osip_arena_install(void) { osip_set_allocators(hook_malloc, hook_realloc, hook_free); }

void sl_osip_arena_enter(sl_arena *a) { current = a; }

void sl_osip_arena_leave(sl_arena *a)
{
    if (current == a)
        current = NULL;
    sl_arena_reset(a);
}
