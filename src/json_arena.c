/* json_arena.c - jansson's allocator hooks, routed to the arena of the
 * piece being built (see json_arena.h). */
#include "json_arena.h"

#include <jansson.h>

/* jansson's hooks take no context argument, so the arena in use is found
 * through this one thread-local pointer: set and cleared by enter/leave
 * around one piece, on the thread that builds it. */
static _Thread_local sl_arena *current;

static void *hook_malloc(size_t n) { return sl_arena_hook_alloc(current, n); }
static void hook_free(void *p) { sl_arena_hook_free(current, p); }

void sl_json_arena_install(void) { json_set_alloc_funcs(hook_malloc, hook_free); }

void sl_json_arena_enter(sl_arena *a) { current = a; }

void sl_json_arena_step_out(const sl_arena *a)
{
    if (current == a)
        current = NULL;
}

void sl_json_arena_leave(sl_arena *a)
{
    sl_json_arena_step_out(a);
    sl_arena_reset(a);
}
