/* osip_arena.h - libosip2's allocations for one message, from an arena.
 *
 * libosip2 makes a dozen small allocations per header it parses (the Via,
 * its strings, each parameter and list node) and frees them one by one
 * afterwards.  Inside a scope (enter .. leave) its osip_malloc/osip_free go
 * to an arena (arena.h) instead: allocation is a pointer bump and leaving
 * drops the whole message's tree at once.
 *
 * Contract: nothing libosip2 allocated inside a scope is used or freed after
 * leave (the SIP dissector copies what it keeps before).  Outside a scope,
 * and on threads without one, libosip2 uses malloc as before. */
#ifndef SL_OSIP_ARENA_H
#define SL_OSIP_ARENA_H

#include "sipladder/arena.h"

/* Route libosip2's allocator through the scopes (idempotent; process-wide,
 * as libosip2's hooks are). */
void sl_osip_arena_install(void);

/* libosip2's allocations on this thread come from a until leave, which
 * resets a (everything allocated in the scope goes). */
void sl_osip_arena_enter(sl_arena *a);
void sl_osip_arena_leave(sl_arena *a);

#endif
