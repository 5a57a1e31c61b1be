/* check_work_queue.c - pieces run on two threads and committed in order,
 * the submitter running pieces itself when too many wait, failed commits
 * reported, and kept pieces handed back for reuse (work_queue.h). */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "check_run.h"
#include "sipladder/work_queue.h"

#define MANY 2000

typedef struct commit_log {
    int committed[MANY]; /* piece numbers in commit order */
    int n_committed;      /* written by commits only: never two at once */
    atomic_int in_commit;
    atomic_int overlapped; /* a commit began while another ran */
    atomic_int disposed;
} commit_log;

typedef struct piece {
    sl_work work; /* first */
    commit_log *lg;
    int number;
    bool fail;
    atomic_int runs;
    pthread_t ran_on;
    /* a gate the run waits at, when set */
    pthread_mutex_t *gate_lock;
    pthread_cond_t *gate_cond;
    bool *gate_open;
} piece;

static void spin(int number)
{
    /* Uneven run times, so that the two threads finish out of order. */
    struct timespec t = {0, (number % 7) * 20000};
    nanosleep(&t, NULL);
}

static void piece_run(sl_work *w)
{
    piece *p = (piece *)w;
    p->ran_on = pthread_self();
    atomic_fetch_add(&p->runs, 1);
    if (p->gate_lock) {
        pthread_mutex_lock(p->gate_lock);
        while (!*p->gate_open)
            pthread_cond_wait(p->gate_cond, p->gate_lock);
        pthread_mutex_unlock(p->gate_lock);
    }
    spin(p->number);
}

static bool piece_commit(sl_work *w)
{
    piece *p = (piece *)w;
    commit_log *lg = p->lg;
    if (atomic_fetch_add(&lg->in_commit, 1) != 0)
        atomic_fetch_add(&lg->overlapped, 1);
    spin(p->number + 3);
    lg->committed[lg->n_committed++] = p->number;
    atomic_fetch_sub(&lg->in_commit, 1);
    return !p->fail;
}

static void piece_dispose(sl_work *w)
{
    piece *p = (piece *)w;
    atomic_fetch_add(&p->lg->disposed, 1);
}

static void piece_init(piece *p, commit_log *lg, int number)
{
    *p = (piece){.work = {.run = piece_run, .commit = piece_commit, .dispose = piece_dispose},
                 .lg = lg,
                 .number = number};
}

/* A queue for a test, with its log emptied. */
static sl_work_queue *queue_for(commit_log *lg, size_t max_waiting)
{
    *lg = (commit_log){0};
    sl_work_queue *q = sl_work_queue_new(max_waiting);
    ck_assert_ptr_nonnull(q);
    return q;
}

START_TEST(commits_follow_submission_order)
{
    static commit_log lg;
    static piece pieces[MANY];
    sl_work_queue *q = queue_for(&lg, 3);
    for (int i = 0; i < MANY; i++) {
        piece_init(&pieces[i], &lg, i);
        sl_work_queue_submit(q, &pieces[i].work);
    }
    sl_work_queue_drain(q);
    ck_assert_int_eq(lg.n_committed, MANY);
    for (int i = 0; i < MANY; i++) {
        ck_assert_int_eq(lg.committed[i], i);
        ck_assert_int_eq(atomic_load(&pieces[i].runs), 1);
    }
    ck_assert_int_eq(atomic_load(&lg.overlapped), 0);
    ck_assert(!sl_work_queue_failed(q));
    sl_work_queue_free(q);
}
END_TEST

/* The worker held at a gate by piece 0: with max_waiting 1, the third
 * submission finds two waiting and runs piece 1 itself; nothing commits
 * before piece 0 does. */
START_TEST(the_submitter_runs_pieces_when_too_many_wait)
{
    static commit_log lg;
    pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
    bool gate_open = false;
    piece p[3];
    for (int i = 0; i < 3; i++)
        piece_init(&p[i], &lg, i);
    p[0].gate_lock = &gate_lock;
    p[0].gate_cond = &gate_cond;
    p[0].gate_open = &gate_open;
    sl_work_queue *q = queue_for(&lg, 1);
    sl_work_queue_submit(q, &p[0].work);
    while (atomic_load(&p[0].runs) == 0) /* the worker has taken it */
        spin(1);
    sl_work_queue_submit(q, &p[1].work); /* one waits: allowed */
    ck_assert_int_eq(atomic_load(&p[1].runs), 0);
    sl_work_queue_submit(q, &p[2].work); /* two wait: this thread runs piece 1 */
    ck_assert_int_eq(atomic_load(&p[1].runs), 1);
    ck_assert(pthread_equal(p[1].ran_on, pthread_self()));
    ck_assert(!pthread_equal(p[0].ran_on, pthread_self()));
    ck_assert_int_eq(lg.n_committed, 0); /* piece 0 still runs */
    pthread_mutex_lock(&gate_lock);
    gate_open = true;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
    sl_work_queue_drain(q);
    ck_assert_int_eq(lg.n_committed, 3);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(lg.committed[i], i);
    sl_work_queue_free(q);
}
END_TEST

/* A piece is taken off the queue before its commit runs: a drain must
 * still wait for that commit, or the caller writes while it does. */
static bool slow_commit(sl_work *w)
{
    struct timespec t = {0, 50 * 1000 * 1000};
    nanosleep(&t, NULL);
    return piece_commit(w);
}

START_TEST(drain_waits_for_a_commit_under_way)
{
    static commit_log lg;
    piece p;
    piece_init(&p, &lg, 0);
    p.work.commit = slow_commit;
    sl_work_queue *q = queue_for(&lg, 4);
    sl_work_queue_submit(q, &p.work);
    while (atomic_load(&p.runs) == 0) /* the worker has taken it */
        spin(1);
    struct timespec t = {0, 10 * 1000 * 1000}; /* into its commit's sleep */
    nanosleep(&t, NULL);
    sl_work_queue_drain(q);
    ck_assert_int_eq(lg.n_committed, 1);
    sl_work_queue_free(q);
}
END_TEST

START_TEST(a_failed_commit_is_reported)
{
    static commit_log lg;
    piece p[4];
    sl_work_queue *q = queue_for(&lg, 2);
    for (int i = 0; i < 4; i++) {
        piece_init(&p[i], &lg, i);
        p[i].fail = i == 2;
        sl_work_queue_submit(q, &p[i].work);
    }
    sl_work_queue_drain(q);
    ck_assert_int_eq(lg.n_committed, 4); /* the pieces after it still go */
    ck_assert(sl_work_queue_failed(q));
    sl_work_queue_free(q);
}
END_TEST

START_TEST(kept_pieces_come_back_then_go_at_free)
{
    static commit_log lg;
    piece p[8];
    sl_work_queue *q = queue_for(&lg, 1);
    ck_assert_ptr_null(sl_work_queue_reuse(q));
    for (int i = 0; i < 8; i++) {
        piece_init(&p[i], &lg, i);
        sl_work_queue_keep(q, &p[i].work);
    }
    /* At most max_waiting + 3 are kept; the rest are disposed of at once. */
    ck_assert_int_eq(atomic_load(&lg.disposed), 4);
    sl_work *back = sl_work_queue_reuse(q); /* the last one kept */
    ck_assert_ptr_eq(back, &p[3].work);
    ck_assert_ptr_nonnull(sl_work_queue_reuse(q));
    sl_work_queue_free(q); /* the two still kept */
    ck_assert_int_eq(atomic_load(&lg.disposed), 6);
}
END_TEST

START_TEST(free_finishes_what_was_handed_over)
{
    static commit_log lg;
    static piece pieces[64];
    sl_work_queue *q = queue_for(&lg, 64);
    for (int i = 0; i < 64; i++) {
        piece_init(&pieces[i], &lg, i);
        sl_work_queue_submit(q, &pieces[i].work);
    }
    sl_work_queue_free(q);
    ck_assert_int_eq(lg.n_committed, 64);
    ck_assert_int_eq(lg.committed[63], 63);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("work_queue");
    TCase *t = tcase_create("queue");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, commits_follow_submission_order);
    tcase_add_test(t, the_submitter_runs_pieces_when_too_many_wait);
    tcase_add_test(t, drain_waits_for_a_commit_under_way);
    tcase_add_test(t, a_failed_commit_is_reported);
    tcase_add_test(t, kept_pieces_come_back_then_go_at_free);
    tcase_add_test(t, free_finishes_what_was_handed_over);
    suite_add_tcase(s, t);
    return s;
}

int main(void) { return sl_check_run(suite()); }
