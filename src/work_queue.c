/* work_queue.c - a worker thread running pieces of work, committed in
 * submission order (see work_queue.h). */
#include "sipladder/work_queue.h"

#include <pthread.h>
#include <stdlib.h>

enum { WORK_WAITING, WORK_RUNNING, WORK_RAN };

struct sl_work_queue {
    pthread_mutex_t lock;
    pthread_cond_t wake;  /* the worker: a piece waits to run, or stop */
    pthread_cond_t moved; /* a drain: a piece was committed */
    sl_work *head, *tail; /* handed over and not yet committed, in order */
    sl_work *next_run;    /* the first piece not taken to run (pieces run in order) */
    size_t waiting;       /* pieces not taken to run */
    size_t max_waiting;
    sl_work *spares;      /* kept for reuse (linked by next) */
    size_t n_spares;
    bool committing;      /* a thread is committing (pieces off the list, maybe one
                           * still being written): the others leave it the pieces */
    bool failed;
    bool stop;
    pthread_t worker;
};

/* Commit the pieces that ran, from the head, until one has not.  Called
 * with the lock held; the lock is let go around each commit, so one
 * thread commits while the other runs the next piece. */
static void commit_ready(sl_work_queue *q)
{
    if (q->committing)
        return; /* that thread will find this piece when it looks again */
    q->committing = true;
    while (q->head && q->head->state == WORK_RAN) {
        sl_work *w = q->head;
        q->head = w->next;
        if (!q->head)
            q->tail = NULL;
        pthread_mutex_unlock(&q->lock);
        bool ok = w->commit(w);
        pthread_mutex_lock(&q->lock);
        if (!ok)
            q->failed = true;
    }
    q->committing = false;
    pthread_cond_broadcast(&q->moved);
}

/* Take the next piece, run it, and commit what is ready.  Called with the
 * lock held and a piece waiting. */
static void run_next(sl_work_queue *q)
{
    sl_work *w = q->next_run;
    q->next_run = w->next;
    q->waiting--;
    w->state = WORK_RUNNING;
    pthread_mutex_unlock(&q->lock);
    w->run(w);
    pthread_mutex_lock(&q->lock);
    w->state = WORK_RAN;
    commit_ready(q);
}

static void *worker_main(void *arg)
{
    sl_work_queue *q = arg;
    pthread_mutex_lock(&q->lock);
    for (;;) {
        while (!q->next_run && !q->stop)
            pthread_cond_wait(&q->wake, &q->lock);
        if (!q->next_run)
            break; /* stopping, and nothing left */
        run_next(q);
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

sl_work_queue *sl_work_queue_new(size_t max_waiting)
{
    sl_work_queue *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->max_waiting = max_waiting;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->wake, NULL);
    pthread_cond_init(&q->moved, NULL);
    if (pthread_create(&q->worker, NULL, worker_main, q) != 0) {
        pthread_cond_destroy(&q->moved);
        pthread_cond_destroy(&q->wake);
        pthread_mutex_destroy(&q->lock);
        free(q);
        return NULL;
    }
    return q;
}

void sl_work_queue_submit(sl_work_queue *q, sl_work *w)
{
    w->next = NULL;
    w->state = WORK_WAITING;
    pthread_mutex_lock(&q->lock);
    if (q->tail)
        q->tail->next = w;
    else
        q->head = w;
    q->tail = w;
    if (!q->next_run)
        q->next_run = w;
    q->waiting++;
    pthread_cond_signal(&q->wake);
    while (q->waiting > q->max_waiting)
        run_next(q);
    pthread_mutex_unlock(&q->lock);
}

void sl_work_queue_drain(sl_work_queue *q)
{
    pthread_mutex_lock(&q->lock);
    /* A piece leaves the list before its commit runs: wait for that too. */
    while (q->head || q->committing) {
        if (q->next_run)
            run_next(q); /* help rather than wait */
        else
            pthread_cond_wait(&q->moved, &q->lock);
    }
    pthread_mutex_unlock(&q->lock);
}

/* Enough for every piece that can be in flight at once: those waiting, one
 * running on each thread, and the one the submitter fills. */
static size_t max_spares(const sl_work_queue *q) { return q->max_waiting + 3; }

void sl_work_queue_keep(sl_work_queue *q, sl_work *w)
{
    pthread_mutex_lock(&q->lock);
    bool kept = q->n_spares < max_spares(q);
    if (kept) {
        w->next = q->spares;
        q->spares = w;
        q->n_spares++;
    }
    pthread_mutex_unlock(&q->lock);
    if (!kept)
        w->dispose(w);
}

sl_work *sl_work_queue_reuse(sl_work_queue *q)
{
    pthread_mutex_lock(&q->lock);
    sl_work *w = q->spares;
    if (w) {
        q->spares = w->next;
        q->n_spares--;
    }
    pthread_mutex_unlock(&q->lock);
    return w;
}

bool sl_work_queue_failed(sl_work_queue *q)
{
    pthread_mutex_lock(&q->lock);
    bool failed = q->failed;
    pthread_mutex_unlock(&q->lock);
    return failed;
}

void sl_work_queue_free(sl_work_queue *q)
{
    if (!q)
        return;
    sl_work_queue_drain(q);
    pthread_mutex_lock(&q->lock);
    q->stop = true;
    pthread_cond_signal(&q->wake);
    pthread_mutex_unlock(&q->lock);
    pthread_join(q->worker, NULL);
    while (q->spares) {
        sl_work *w = q->spares;
        q->spares = w->next;
        w->dispose(w);
    }
    pthread_cond_destroy(&q->moved);
    pthread_cond_destroy(&q->wake);
    pthread_mutex_destroy(&q->lock);
    free(q);
}
