/* osip_arena.c - libosip2's allocator hooks, routed to the arena of the
 * message being parsed (see osip_arena.h). */
#include "osip_arena.h"

#include <osipparser2/osip_port.h>

/* libosip2's hooks take no context argument, so the arena in use is found
 * through this one thread-local pointer: set and cleared by enter/leave
 * around one message. */
static _Thread_local sl_arena *current;

static void *hook_malloc(size_t n) { return sl_arena_hook_alloc(current, n); }
static void *hook_realloc(void *p, size_t n) { return sl_arena_hook_realloc(current, p, n); }
static void hook_free(void *p) { sl_arena_hook_free(current, p); }

void sl_osip_arena_install(void) { osip_set_allocators(hook_malloc, hook_realloc, hook_free); }

void sl_osip_arena_enter(sl_arena *a) { current = a; }

void sl_osip_arena_leave(sl_arena *a)
{
    if (current == a)
        current = NULL;
    sl_arena_reset(a);
}
