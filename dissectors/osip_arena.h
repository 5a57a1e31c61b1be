/* osip_arena.h - libosip2's allocations for one message, from one block.
 *
 * libosip2 makes a dozen small allocations per header it parses (the Via,
 * its strings, each parameter and list node) and frees them one by one
 * afterwards.  Inside a scope (enter .. leave) its osip_malloc/osip_free go
 * to an arena instead: allocation is a pointer bump and leaving drops the
 * whole message's tree at once.
 *
 * Contract: nothing libosip2 allocated inside a scope is used or freed after
 * leave (the SIP dissector copies what it keeps before).  Outside a scope,
 * and on threads without one, libosip2 uses malloc as before. */
#ifndef SL_OSIP_ARENA_H
#define SL_OSIP_ARENA_H

#include <stdbool.h>
#include <stddef.h>

typedef struct sl_osip_arena sl_osip_arena;

/* Route libosip2's allocator through the arenas (idempotent; process-wide,
 * as libosip2's hooks are). */
void sl_osip_arena_install(void);

/* NULL when out of memory.  _free(NULL) is a no-op. */
sl_osip_arena *sl_osip_arena_new(void);
void sl_osip_arena_free(sl_osip_arena *a);

/* libosip2's allocations on this thread come from a until leave, which
 * drops them all (the first block is kept for the next message). */
void sl_osip_arena_enter(sl_osip_arena *a);
void sl_osip_arena_leave(sl_osip_arena *a);

/* Whether p was allocated from a since it was last left (for tests). */
bool sl_osip_arena_owns(const sl_osip_arena *a, const void *p);

#endif
