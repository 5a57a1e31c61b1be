/* json_arena.h - jansson's allocations for one output piece, from an arena.
 *
 * A call's JSON is tens of thousands of small allocations (each object,
 * its hashtable, each key, string and number), each freed again after the
 * piece is written.  Inside a scope (enter .. leave) jansson's allocator
 * goes to an arena (arena.h): building is a pointer bump per value and
 * leaving drops the whole tree, which then needs no json_decref.
 *
 * Contract: no jansson value made inside a scope is used or released after
 * leave.  Outside a scope, and on threads without one, jansson uses malloc
 * as before. */
#ifndef SL_JSON_ARENA_H
#define SL_JSON_ARENA_H

#include "sipladder/arena.h"

/* Route jansson's allocator through the scopes (idempotent; process-wide,
 * as jansson's hooks are).  Call it while no other thread uses jansson. */
void sl_json_arena_install(void);

/* jansson's allocations on this thread come from a until leave, which
 * resets a. */
void sl_json_arena_enter(sl_arena *a);
void sl_json_arena_leave(sl_arena *a);
/* Close the scope and keep what was built in a: the tree outlives the
 * scope (it may be written on another thread) until a is reset or freed. */
void sl_json_arena_step_out(const sl_arena *a);

#endif
