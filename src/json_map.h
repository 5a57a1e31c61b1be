/* json_map.h - what each model object becomes in JSON (json_map.c), for
 * the json view's writer and pipeline (render_json.c).  Internal to the
 * json view: one rendering's context and the builders of the document's
 * parts and of the elements of its top-level arrays. */
#ifndef SL_JSON_MAP_H
#define SL_JSON_MAP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sipladder/arena.h"
#include "sipladder/calls.h"
#include "sipladder/diagnose.h"
#include "sipladder/render_json.h"
#include "sipladder/sip_record.h"

/* One rendering: what it reads and what went wrong.  err is sticky so that
 * builders run straight and the caller checks once. */
typedef struct jctx {
    const sl_report *r;
    const sl_render_opts *o;
    uint64_t replaced; /* strings whose invalid UTF-8 was replaced */
    bool mark;         /* a replacement since the caller last cleared it */
    bool err;          /* an allocation failed */
    bool count_only;   /* strings are only checked and counted (json null) */
    const void **in_calls; /* streaming: the records calls hold, sorted */
    size_t n_in_calls;
    sl_arena *arena;   /* where elements are built (json_arena.h), or NULL */
    bool in_arena;     /* building one there now: its pieces are not released */
} jctx;

/* The document's parts (NULL or x->err set: out of memory). */
json_t *jm_generator(jctx *x);
/* The capture object, its strings_replaced including `later` (those of
 * the pieces written after it). */
json_t *jm_capture_counted(jctx *x, uint64_t later);
json_t *jm_hosts(jctx *x);
json_t *jm_connections(jctx *x);
json_t *jm_registrations(jctx *x);
json_t *jm_loose_messages(jctx *x);
/* call -2: every diagnosis; -1: those of no call; else call's. */
json_t *jm_diagnoses(jctx *x, int call);
json_t *jm_other_traffic(jctx *x);

/* One element of a top-level array. */
json_t *jm_conn(jctx *x, const sl_conn *c);
json_t *jm_call(jctx *x, const sl_calls *c, size_t idx);
json_t *jm_registration(jctx *x, const sl_calls *c, const sl_registration *g);
json_t *jm_loose_message(jctx *x, const sl_sip_record *r);
json_t *jm_diagnosis(jctx *x, const sl_diagnosis *d);
/* A JSON Lines call line: the call and its diagnoses. */
json_t *jm_call_line(jctx *x, size_t i);

/* The records the calls hold, sorted (*out freed by the caller); -1: out
 * of memory.  jm_in_a_call: whether rec is one of them. */
int jm_records_in_calls(const sl_calls *c, const void ***out, size_t *n_out);
bool jm_in_a_call(const void *const *in_calls, size_t n, const void *rec);

#endif
