/* render_json.c - the `json` and `jsonl` views (see render_json.h): the
 * document written one piece at a time, never whole in memory.  What each
 * object becomes is json_map.c's; the bytes and their escaping are
 * json_writer.c's; this file orders the pieces: the top-level structure,
 * batches written early into the spool (call_stream.h), and pieces dumped
 * on a second thread through the spool's work queue. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_arena.h"
#include "json_map.h"
#include "json_writer.h"
#include "sipladder/render_json.h"
#include "sipladder/spool.h"
#include "sipladder/work_queue.h"

/* ---- streaming ----
 *
 * The views write the document one piece at a time (capture, hosts,
 * connections, then each call built, written and freed), so the whole tree
 * is never in memory.  jansson writes every piece; between pieces we write
 * only the structure it would have written around them ("{", "[", the
 * constant top-level keys, ",", newlines and indentation), and indent each
 * piece's lines to its depth: the bytes are those of one json_dumpf of the
 * whole tree (a newline is never inside a JSON string, so every one jansson
 * writes is structural). */

/* Write one piece at `indent` and free it (NULL: a builder failed). */
static void out_piece(jctx *x, jout *w, json_t *v, size_t indent, size_t flags)
{
    if (!v) {
        x->err = true;
        return;
    }
    jout_dump(w, v, indent, flags);
    if (!x->in_arena) /* else the arena's reset drops the tree */
        json_decref(v);
}

/* An arena for the elements of a document (json_arena.h); NULL (out of
 * memory) builds them with malloc, as without one. */
static sl_arena *new_arena(void)
{
    sl_json_arena_install();
    return sl_arena_new();
}

/* An element is built, written and dropped inside one arena scope. */
static void element_begin(jctx *x)
{
    if (x->arena) {
        sl_json_arena_enter(x->arena);
        x->in_arena = true;
    }
}

static void element_end(jctx *x)
{
    if (x->arena) {
        x->in_arena = false;
        sl_json_arena_leave(x->arena);
    }
}

/* How an element of a top-level array goes out: in the document's array
 * (indented at depth 1), in a one-line array (the jsonl head), or as a
 * line of its own (a jsonl call line). */
typedef enum { ELEM_INDENTED, ELEM_IN_LINE, ELEM_LINE } elem_style;

/* One element, v written and freed; `first`: none precedes it in its array. */
static void out_elem(jctx *x, jout *w, elem_style style, bool first, json_t *v)
{
    switch (style) {
    case ELEM_INDENTED:
        if (!first)
            out_bytes(w, ",", 1);
        out_newline(w, 4);
        out_piece(x, w, v, 4, SL_JSON_FLAGS | JSON_INDENT(2));
        break;
    case ELEM_IN_LINE:
        if (!first)
            out_bytes(w, ",", 1);
        out_piece(x, w, v, 0, SL_JSON_FLAGS | JSON_COMPACT);
        break;
    case ELEM_LINE:
        out_piece(x, w, v, 0, SL_JSON_FLAGS | JSON_COMPACT);
        out_bytes(w, "\n", 1);
        break;
    }
}

/* Element i of a streamed top-level array into *out; false: i is not in
 * the array (skipped). */
typedef bool (*elem_fn)(jctx *x, size_t i, json_t **out);

static bool conn_elem(jctx *x, size_t i, json_t **out)
{
    *out = jm_conn(x, &x->r->model->conns[i]);
    return true;
}

static bool call_elem(jctx *x, size_t i, json_t **out)
{
    *out = jm_call(x, x->r->calls, i);
    return true;
}

static bool registration_elem(jctx *x, size_t i, json_t **out)
{
    *out = jm_registration(x, x->r->calls, &x->r->calls->registrations[i]);
    return true;
}

static bool loose_message_elem(jctx *x, size_t i, json_t **out)
{
    const sl_sip_record *rec = x->r->model->sip[i];
    if (jm_in_a_call(x->in_calls, x->n_in_calls, rec))
        return false;
    *out = jm_loose_message(x, rec);
    return true;
}

static bool diagnosis_elem(jctx *x, size_t i, json_t **out)
{
    *out = jm_diagnosis(x, &x->r->diagnoses->list[i]);
    return true;
}

/* JSON Lines: the diagnoses of no call (as jm_diagnoses(x, -1)). */
static bool loose_diagnosis_elem(jctx *x, size_t i, json_t **out)
{
    const sl_diagnosis *d = &x->r->diagnoses->list[i];
    const sl_calls *c = x->r->calls;
    if (c && d->call >= 0 && (size_t)d->call < c->n_calls)
        return false;
    *out = jm_diagnosis(x, d);
    return true;
}

static bool call_line_elem(jctx *x, size_t i, json_t **out)
{
    *out = jm_call_line(x, i);
    return true;
}

/* ---- elements written on a second thread (--threads 2) ----
 *
 * Building and dumping jansson trees is most of a json run.  Elements are
 * built here, on the analysis thread (they read the model, which it goes
 * on changing while the capture is read), into pieces of about
 * PIECE_BYTES; the spool's work queue dumps each piece into memory on
 * either thread and appends it to its file in order.  So batches are
 * written while the analysis reads on, and the final run's arrays on both
 * threads; the bytes are those of one thread. */
#define PIECE_BYTES ((size_t)1 << 20)
/* Pieces waiting to be dumped before the analysis thread dumps them
 * itself.  What they hold is what this costs in memory (about 60 MB more
 * at peak); fewer leave the worker idle while the next batch is read:
 * 1 GB bench capture, 2 cores: 8 pieces 9.35 s, 16 pieces 7.85 s (one
 * thread writing the batches' second halves: 12.6 s in the same run). */
#define PIECES_WAITING 16

typedef struct piece_elem {
    json_t *v;
    int slot; /* which of the piece's files */
    elem_style style;
    bool first;
} piece_elem;

typedef struct piece {
    sl_work work; /* first: the queue hands back &work */
    sl_work_queue *q;
    FILE *to[SL_SPOOL_PARTS]; /* where each slot's text goes */
    sl_arena *arena;          /* the elements' trees */
    piece_elem *elems;
    size_t n, cap;
    sl_bytes text[SL_SPOOL_PARTS]; /* what run wrote for each slot */
    jout *w[SL_SPOOL_PARTS];     /* writers into text, made when first needed */
    bool err;
} piece;

static void piece_run(sl_work *work)
{
    piece *p = (piece *)work;
    jctx x = {.in_arena = true};
    for (size_t i = 0; i < p->n && !p->err; i++) {
        const piece_elem *e = &p->elems[i];
        jout *w = p->w[e->slot];
        if (!w && (w = p->w[e->slot] = jout_new(NULL)))
            w->mem = &p->text[e->slot];
        if (!w) {
            p->err = true;
            break;
        }
        out_elem(&x, w, e->style, e->first, e->v);
    }
    for (int k = 0; k < SL_SPOOL_PARTS; k++) {
        if (p->w[k]) {
            out_flush(p->w[k]);
            p->err |= p->w[k]->err;
        }
    }
    p->err |= x.err;
}

static void piece_dispose(sl_work *work)
{
    piece *p = (piece *)work;
    for (int k = 0; k < SL_SPOOL_PARTS; k++) {
        sl_bytes_free(&p->text[k]);
        free(p->w[k]);
    }
    sl_arena_free(p->arena);
    free(p->elems);
    free(p);
}

/* Its text to its files; the piece is then emptied and kept for reuse. */
static bool piece_commit(sl_work *work)
{
    piece *p = (piece *)work;
    bool ok = !p->err;
    for (int k = 0; k < SL_SPOOL_PARTS; k++) {
        sl_bytes *t = &p->text[k];
        if (ok && t->len && fwrite(t->p, 1, t->len, p->to[k]) != t->len)
            ok = false;
        t->len = 0;
        if (p->w[k])
            p->w[k]->err = false;
    }
    sl_arena_reset(p->arena);
    p->n = 0;
    p->err = false;
    sl_work_queue_keep(p->q, &p->work);
    return ok;
}

/* Where elements go as pieces: the queue, the file of each slot, and the
 * piece being filled (handed over once full, or at the end). */
typedef struct piece_filler {
    sl_work_queue *q;
    FILE *to[SL_SPOOL_PARTS];
    piece *p;
} piece_filler;

/* A piece kept from an earlier one, else a new one; NULL: out of memory. */
static piece *piece_new(const piece_filler *f)
{
    piece *p = (piece *)sl_work_queue_reuse(f->q);
    if (!p) {
        if (!(p = calloc(1, sizeof *p)))
            return NULL;
        p->work.run = piece_run;
        p->work.commit = piece_commit;
        p->work.dispose = piece_dispose;
        p->q = f->q;
        if (!(p->arena = sl_arena_new())) {
            free(p);
            return NULL;
        }
    }
    memcpy(p->to, f->to, sizeof p->to);
    return p;
}

static void piece_hand_over(piece_filler *f)
{
    if (f->p)
        sl_work_queue_submit(f->q, &f->p->work);
    f->p = NULL;
}

/* v (built in the current piece's arena) into it, for slot `slot`. */
static void piece_add(jctx *x, piece_filler *f, int slot, elem_style style, bool first, json_t *v)
{
    piece *p = f->p;
    if (!v) {
        x->err = true;
        return;
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 64;
        piece_elem *grown = realloc(p->elems, cap * sizeof *grown);
        if (!grown) {
            x->err = true;
            return;
        }
        p->elems = grown;
        p->cap = cap;
    }
    p->elems[p->n++] = (piece_elem){v, slot, style, first};
    if (sl_arena_used(p->arena) >= PIECE_BYTES)
        piece_hand_over(f);
}

/* The spool's work queue, made when first wanted if the options allow a
 * second thread; NULL: none (or none could start), all on this one. */
static sl_work_queue *render_queue(const sl_render_opts *o)
{
    sl_spool *sp = o->spool;
    if (!sp || o->threads < 2)
        return NULL;
    if (!sp->queue) {
        sl_json_arena_install();
        /* jansson's hash seed is set by the first object made: set it
         * before there is a second thread. */
        json_object_seed(0);
        sp->queue = sl_work_queue_new(PIECES_WAITING);
    }
    return sp->queue;
}

/* Elements [0, n) made and sent on: through w, or (f not NULL) into
 * pieces for slot `slot`.  *count numbers those sent (0: the first of its
 * array); `open` (may be NULL) goes through w before the first when *count
 * is 0.  With f, w's file gets the pieces after what w holds, and w must
 * not be written again before the queue is drained. */
static void make_elems(jctx *x, jout *w, piece_filler *f, size_t n, elem_fn make, int slot, elem_style style,
                       uint64_t *count, const char *open)
{
    if (f && w)
        out_flush(w);
    for (size_t i = 0; i < n && !x->err && !(w && w->err); i++) {
        json_t *v = NULL;
        if (f) {
            if (!f->p && !(f->p = piece_new(f))) {
                x->err = true;
                return;
            }
            sl_json_arena_enter(f->p->arena);
        } else {
            element_begin(x);
        }
        bool made = make(x, i, &v);
        if (f)
            sl_json_arena_step_out(f->p->arena);
        if (made && *count == 0 && open) {
            out_str(w, open);
            if (f)
                out_flush(w);
        }
        if (made && f)
            piece_add(x, f, slot, style, *count == 0, v);
        else if (made)
            out_elem(x, w, style, *count == 0, v);
        *count += made;
        if (!f)
            element_end(x);
    }
}

/* The final run's elements through the queue, to w's file (false: no
 * queue; they go through w). */
static bool final_filler(jctx *x, jout *w, piece_filler *f)
{
    sl_work_queue *q = render_queue(x->o);
    if (!q)
        return false;
    *f = (piece_filler){.q = q};
    f->to[0] = w->f;
    return true;
}

/* The final run's elements: through the queue when there is one. */
static void final_elems(jctx *x, jout *w, size_t n, elem_fn make, elem_style style, uint64_t *count,
                        const char *open)
{
    piece_filler f;
    if (!final_filler(x, w, &f)) {
        make_elems(x, w, NULL, n, make, 0, style, count, open);
        return;
    }
    make_elems(x, w, &f, n, make, 0, style, count, open);
    piece_hand_over(&f);
    sl_work_queue_drain(f.q);
    if (sl_work_queue_failed(f.q))
        w->err = true;
}

/* A top-level array on one line (JSON_COMPACT: no spaces, no newlines);
 * elements spooled early (sp, part; sp may be NULL) first. */
static void out_array_compact(jctx *x, jout *w, size_t n, elem_fn elem, sl_spool *sp, int part)
{
    out_bytes(w, "[", 1);
    uint64_t written = 0;
    if (sp && sp->entries[part]) {
        out_flush(w);
        if (sl_spool_copy(sp, part, w->f) < 0)
            w->err = true;
        written = sp->entries[part];
    }
    final_elems(x, w, n, elem, ELEM_IN_LINE, &written, NULL);
    out_bytes(w, "]", 1);
}

/* A top-level array written one element at a time, as jansson would have
 * written it whole at depth 1 ("[]" when empty). */
static void out_array(jctx *x, jout *w, size_t n, elem_fn elem, sl_spool *sp, int part)
{
    uint64_t written = 0;
    if (sp && sp->entries[part]) {
        /* Elements written early (call_stream.h) open the array. */
        out_bytes(w, "[", 1);
        out_flush(w);
        if (sl_spool_copy(sp, part, w->f) < 0)
            w->err = true;
        written = sp->entries[part];
    }
    final_elems(x, w, n, elem, ELEM_INDENTED, &written, "[");
    if (written) {
        out_newline(w, 2);
        out_bytes(w, "]", 1);
    } else {
        out_bytes(w, "[]", 2);
    }
}

/* The invalid UTF-8 strings the pieces after the capture will hold: the
 * capture, written first, counts them all.  Each piece is built without
 * its strings and freed at once. */
static uint64_t count_later(const sl_report *r, const sl_render_opts *o, bool lines)
{
    jctx c = {.r = r, .o = o, .count_only = true};
    if (!lines) {
        json_decref(jm_hosts(&c));
        json_decref(jm_connections(&c));
    }
    for (size_t i = 0; r->calls && i < r->calls->n_calls && (!lines || i <= INT32_MAX); i++) {
        json_decref(jm_call(&c, r->calls, i));
        if (lines)
            json_decref(jm_diagnoses(&c, (int)i));
    }
    if (!lines) {
        json_decref(jm_registrations(&c));
        json_decref(jm_loose_messages(&c));
        json_decref(jm_diagnoses(&c, -2));
    }
    return c.replaced;
}

/* Where a batch's elements go: written on this thread (w, to the part's
 * file), or built into pieces for the spool's work queue. */
typedef struct batch_out {
    jout *w; /* NULL: queued */
    piece_filler f;
} batch_out;

/* n elements of a batch into spool part `part`. */
static void batch_elems(jctx *x, batch_out *b, int part, size_t n, elem_fn make, elem_style style)
{
    sl_spool *sp = x->o->spool;
    if (!b->w) {
        make_elems(x, NULL, &b->f, n, make, part, style, &sp->entries[part], NULL);
        return;
    }
    b->w->f = sp->part[part];
    make_elems(x, b->w, NULL, n, make, part, style, &sp->entries[part], NULL);
    out_flush(b->w); /* the next part may go to another file */
}

/* A batch's verdicts, in the document's array or the jsonl head's. */
static void spool_verdicts(jctx *x, batch_out *b, elem_style style)
{
    size_t n = x->r->diagnoses ? x->r->diagnoses->n : 0;
    batch_elems(x, b, SL_SPOOL_VERDICTS, n, diagnosis_elem, style);
}

/* A batch of complete connections: their elements and verdicts (none is
 * a call's), for the document's arrays or the head line's. */
static void spool_conns(jctx *x, batch_out *b, bool lines)
{
    elem_style style = lines ? ELEM_IN_LINE : ELEM_INDENTED;
    batch_elems(x, b, SL_SPOOL_CONNS, x->r->model->n_conns, conn_elem, style);
    spool_verdicts(x, b, style);
}

/* A batch of calls that ended: their elements and verdicts, or call lines. */
static void spool_calls(jctx *x, batch_out *b, bool lines)
{
    size_t n_calls = x->r->calls ? x->r->calls->n_calls : 0;
    if (lines && n_calls > (size_t)INT32_MAX + 1)
        n_calls = (size_t)INT32_MAX + 1; /* as the final run's call lines */
    batch_elems(x, b, SL_SPOOL_CALLS, n_calls, lines ? call_line_elem : call_elem,
                lines ? ELEM_LINE : ELEM_INDENTED);
    if (!lines)
        spool_verdicts(x, b, ELEM_INDENTED);
}

/* A streamed batch (call_stream.h), of calls or of connections. */
static int json_batch(const sl_report *r, const sl_render_opts *o, bool lines)
{
    sl_spool *sp = o->spool;
    batch_out b = {.f = {.q = render_queue(o)}};
    jctx x = {.r = r, .o = o};
    if (b.f.q) {
        for (int k = 0; k < SL_SPOOL_PARTS; k++)
            b.f.to[k] = sp->part[k];
    } else if (!(b.w = jout_new(NULL))) {
        return -1;
    } else {
        x.arena = new_arena(); /* NULL: built with malloc */
    }
    if (sp->batch == SL_BATCH_CONNS)
        spool_conns(&x, &b, lines);
    else
        spool_calls(&x, &b, lines);
    if (!b.w)
        piece_hand_over(&b.f);
    sp->replaced += x.replaced;
    if (r->calls) {
        sp->legs += r->calls->n_legs;
        sp->dialogs += r->calls->n_dialogs;
        sp->transactions += r->calls->n_transactions;
    }
    bool failed = x.err || (b.w ? b.w->err : sl_work_queue_failed(b.f.q));
    free(b.w);
    sl_arena_free(x.arena);
    return failed ? -1 : 0;
}

int sl_render_json(const sl_report *r, const sl_render_opts *o)
{
    if (o->spool && o->spool->batch)
        return json_batch(r, o, false);
    jout *w = jout_new(o->out);
    if (!w)
        return -1;
    const size_t flags = SL_JSON_FLAGS | JSON_INDENT(2);
    uint64_t later = count_later(r, o, false) + (o->spool ? o->spool->replaced : 0);
    jctx x = {.r = r, .o = o, .arena = new_arena()};
    out_bytes(w, "{", 1);
    out_key(w, true, "schema");
    out_piece(&x, w, json_string(SL_JSON_SCHEMA_ID), 2, flags);
    out_key(w, false, "generator");
    out_piece(&x, w, jm_generator(&x), 2, flags);
    out_key(w, false, "capture");
    out_piece(&x, w, jm_capture_counted(&x, later), 2, flags);
    out_key(w, false, "hosts");
    out_piece(&x, w, jm_hosts(&x), 2, flags);
    out_key(w, false, "connections");
    out_array(&x, w, r->model->n_conns, conn_elem, o->spool, SL_SPOOL_CONNS);
    out_key(w, false, "calls");
    out_array(&x, w, r->calls ? r->calls->n_calls : 0, call_elem, o->spool, SL_SPOOL_CALLS);
    out_key(w, false, "registrations");
    out_array(&x, w, r->calls ? r->calls->n_registrations : 0, registration_elem, NULL, 0);
    out_key(w, false, "messages");
    if (jm_records_in_calls(r->calls, &x.in_calls, &x.n_in_calls) < 0)
        x.err = true;
    out_array(&x, w, r->model->n_sip, loose_message_elem, NULL, 0);
    free(x.in_calls);
    out_key(w, false, "diagnoses");
    out_array(&x, w, r->diagnoses ? r->diagnoses->n : 0, diagnosis_elem, o->spool, SL_SPOOL_VERDICTS);
    out_key(w, false, "other_traffic");
    out_piece(&x, w, jm_other_traffic(&x), 2, flags);
    out_newline(w, 0);
    out_str(w, "}\n");
    out_flush(w);
    int rc = x.err || w->err ? -1 : 0;
    sl_arena_free(x.arena);
    free(w);
    return rc;
}

int sl_render_jsonl(const sl_report *r, const sl_render_opts *o)
{
    if (o->spool && o->spool->batch)
        return json_batch(r, o, true);
    jout *w = jout_new(o->out);
    if (!w)
        return -1;
    const size_t flags = SL_JSON_FLAGS | JSON_COMPACT;
    uint64_t later = count_later(r, o, true) + (o->spool ? o->spool->replaced : 0);
    jctx x = {.r = r, .o = o, .arena = new_arena()};
    /* The head line, streamed like the document; its capture counts the
     * replacements of everything after it (head pieces and call lines). */
    jctx c = {.r = r, .o = o, .count_only = true};
    json_decref(jm_hosts(&c));
    json_decref(jm_connections(&c));
    json_decref(jm_registrations(&c));
    json_decref(jm_loose_messages(&c));
    json_decref(jm_diagnoses(&c, -1));
    out_bytes(w, "{", 1);
    out_key_compact(w, true, "schema");
    out_piece(&x, w, json_string(SL_JSON_SCHEMA_ID), 0, flags);
    out_key_compact(w, false, "type");
    out_piece(&x, w, json_string("capture"), 0, flags);
    out_key_compact(w, false, "generator");
    out_piece(&x, w, jm_generator(&x), 0, flags);
    out_key_compact(w, false, "capture");
    out_piece(&x, w, jm_capture_counted(&x, later + c.replaced), 0, flags);
    out_key_compact(w, false, "hosts");
    out_piece(&x, w, jm_hosts(&x), 0, flags);
    out_key_compact(w, false, "connections");
    out_array_compact(&x, w, r->model->n_conns, conn_elem, o->spool, SL_SPOOL_CONNS);
    out_key_compact(w, false, "registrations");
    out_array_compact(&x, w, r->calls ? r->calls->n_registrations : 0, registration_elem, NULL, 0);
    out_key_compact(w, false, "messages");
    if (jm_records_in_calls(r->calls, &x.in_calls, &x.n_in_calls) < 0)
        x.err = true;
    out_array_compact(&x, w, r->model->n_sip, loose_message_elem, NULL, 0);
    free(x.in_calls);
    out_key_compact(w, false, "diagnoses");
    out_array_compact(&x, w, r->diagnoses ? r->diagnoses->n : 0, loose_diagnosis_elem, o->spool,
                      SL_SPOOL_VERDICTS);
    out_key_compact(w, false, "other_traffic");
    out_piece(&x, w, jm_other_traffic(&x), 0, flags);
    out_bytes(w, "}", 1);
    out_bytes(w, "\n", 1);
    if (o->spool && o->spool->entries[SL_SPOOL_CALLS]) {
        /* The call lines written early (call_stream.h). */
        out_flush(w);
        if (sl_spool_copy(o->spool, SL_SPOOL_CALLS, w->f) < 0)
            w->err = true;
    }
    size_t n_lines = r->calls ? r->calls->n_calls : 0;
    if (n_lines > (size_t)INT32_MAX + 1)
        n_lines = (size_t)INT32_MAX + 1;
    uint64_t lines = 0;
    final_elems(&x, w, n_lines, call_line_elem, ELEM_LINE, &lines, NULL);
    out_flush(w);
    int rc = x.err || w->err ? -1 : 0;
    sl_arena_free(x.arena);
    free(w);
    return rc;
}
