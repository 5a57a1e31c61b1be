/* work_queue.h - pieces of work run on a second thread while the caller
 * goes on, finished in the order they were handed over.
 *
 * A piece (sl_work) has two steps.  `run` does the costly part and may
 * happen on either thread, two pieces at once.  `commit` puts its result
 * where it goes (and frees the piece): once per piece, in submission
 * order, never two at once, on whichever thread finished the piece that
 * let it go.  So what commits write comes out in the order of a single
 * thread.
 *
 * When more than max_waiting pieces are waiting to run, the submitter runs
 * them itself: that bounds what waiting pieces hold, and keeps both
 * threads busy when the worker falls behind.
 *
 * A commit may keep its piece for the submitter to fill again
 * (sl_work_queue_keep, sl_work_queue_reuse): its buffers then stay warm
 * instead of going back to malloc and the kernel with every piece. */
#ifndef SIPLADDER_WORK_QUEUE_H
#define SIPLADDER_WORK_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct sl_work sl_work;
struct sl_work {
    void (*run)(sl_work *w);
    /* false: the result could not be put where it goes (sl_work_queue_failed) */
    bool (*commit)(sl_work *w);
    /* Frees a piece kept for reuse that is no longer wanted. */
    void (*dispose)(sl_work *w);
    /* The queue's own; zero them before submitting. */
    sl_work *next;
    int state;
};

typedef struct sl_work_queue sl_work_queue;

/* A queue and its worker thread; NULL when out of memory or when the
 * thread cannot be started (the caller then does the work itself). */
sl_work_queue *sl_work_queue_new(size_t max_waiting);

/* Hand w over (it must stay valid until its commit). */
void sl_work_queue_submit(sl_work_queue *q, sl_work *w);

/* From a commit: keep w for reuse (at most a few are kept; others are
 * disposed of at once). */
void sl_work_queue_keep(sl_work_queue *q, sl_work *w);

/* A piece kept for reuse, or NULL when there is none. */
sl_work *sl_work_queue_reuse(sl_work_queue *q);

/* Return once every piece handed over has been run and committed. */
void sl_work_queue_drain(sl_work_queue *q);

/* Whether a commit has failed so far. */
bool sl_work_queue_failed(sl_work_queue *q);

/* Drain, stop the worker, dispose of the kept pieces, free.  NULL-safe. */
void sl_work_queue_free(sl_work_queue *q);

#endif
