/* spool.h - where a view writes the calls that ended, and the connections
 * that were complete, before the capture did (call_stream.h): temporary
 * files, one per part of the view's output, copied into the output when the
 * view's final run reaches that part. */
#ifndef SIPLADDER_SPOOL_H
#define SIPLADDER_SPOOL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sipladder/work_queue.h"

enum {
    SL_SPOOL_CALLS = 0, /* per-call entries: lines, ladders, JSON elements */
    SL_SPOOL_VERDICTS,  /* their verdicts */
    SL_SPOOL_NOTES,     /* per-call warnings (summary: --max-call-messages) */
    SL_SPOOL_CONNS,     /* complete connections: table rows, JSON elements, TLS sessions */
    SL_SPOOL_ORPHANS,   /* ladders of connections no call took */
    SL_SPOOL_PARTS
};

typedef enum {
    SL_BATCH_NONE = 0,  /* the final run: the whole output */
    SL_BATCH_CALLS,     /* calls that ended (the report's model holds their records) */
    SL_BATCH_CONNS,     /* complete connections (the report's model holds only them;
                         * its calls only hosts and orphan_conns) */
} sl_spool_batch;

typedef struct sl_spool {
    FILE *part[SL_SPOOL_PARTS];
    uint64_t entries[SL_SPOOL_PARTS]; /* entries written to each part */
    uint64_t calls;     /* calls handed to the view in batches */
    uint64_t replaced;  /* JSON: strings whose invalid UTF-8 was replaced, in the parts */
    uint64_t legs, dialogs, transactions; /* JSON: numbered in the parts; later ones go on */
    sl_spool_batch batch; /* non-zero: the view runs on a batch and writes the parts only */
    bool failed;        /* a part could not be written (call_stream checks after each batch) */
    /* A view's writer of parts on a second thread (--threads), made by the
     * view, or NULL.  The parts are complete only once it is drained:
     * sl_spool_copy and sl_spool_close drain it. */
    sl_work_queue *queue;
} sl_spool;

/* Where the parts are made: $TMPDIR, else /tmp. */
const char *sl_spool_dir(void);

/* Temporary files for every part; -1 (errno set) when one cannot be made. */
int sl_spool_open(sl_spool *s);
void sl_spool_close(sl_spool *s); /* NULL-safe */

/* Copy a part, from its start, to out (after what the queue still has to
 * write).  0, or -1 on a read/write error. */
int sl_spool_copy(sl_spool *s, int part, FILE *out);

#endif
