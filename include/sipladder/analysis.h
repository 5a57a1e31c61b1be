/* analysis.h - one pass over a capture: read, decode, track flows,
 * reassemble, dissect, and hand every event to the model and to hooks.
 *
 * This is the whole pipeline behind every command; tests drive it with their
 * own hooks and, where they need a dissector of their own, their own registry. */
#ifndef SIPLADDER_ANALYSIS_H
#define SIPLADDER_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>

#include "sipladder/config.h"
#include "sipladder/dissector.h"
#include "sipladder/time.h"

typedef struct sl_analysis sl_analysis;
typedef struct sl_registry sl_registry;
struct sl_model;

typedef struct sl_analysis_hooks {
    void *ctx;
    /* Every dissector event, with the flow it came from.  Both borrowed for
     * the call.  May be NULL. */
    void (*event)(void *ctx, const sl_flow_info *flow, const sl_event *ev);
    /* Now and then during a run: bytes of the files read so far.  May be NULL. */
    void (*progress)(void *ctx, uint64_t done, uint64_t total);
    /* The kept SIP records reached an eighth of max_sip_memory (then each
     * further sixteenth, and the cap itself): the hook may
     * write the calls that have ended and release their records
     * (sl_model_release_sip), so that a long capture is kept whole in
     * bounded memory.  now: the current packet's time.  May be NULL: the
     * cap then drops what comes after it (counted, reported). */
    void (*sip_pressure)(void *ctx, struct sl_model *m, sl_time_ns now);
    /* Between frames, once SL_CONNS_COMPLETE_BATCH connections (or an
     * eighth of those held, when more) are complete
     * (their flow gone: sl_conn.complete), or calls were written since the
     * last time: the hook may write the complete connections nothing held
     * needs and retire them (sl_model_retire_conns).  May be NULL: every
     * connection is kept to the end. */
    void (*conns_complete)(void *ctx, struct sl_model *m, sl_time_ns now);
} sl_analysis_hooks;

#define SL_CONNS_COMPLETE_BATCH 1024

/* A new analysis with the built-in dissectors, or with `registry` (borrowed,
 * must outlive the analysis) when not NULL.  cfg is copied; hooks copied,
 * may be NULL.  NULL when out of memory. */
sl_analysis *sl_analysis_new(const sl_config *cfg, const sl_registry *registry, const sl_analysis_hooks *hooks);
void sl_analysis_free(sl_analysis *a); /* NULL-safe; frees the model too */

/* Force a dissector on a TCP/UDP port, like Wireshark's Decode As.
 * -SL_EUSAGE when no dissector has that name. */
int sl_analysis_decode_as(sl_analysis *a, uint16_t port, const char *dissector);

/* Read the files as one capture merged by timestamp (frames numbered 1..N in
 * that order).  Returns 0; -SL_ETRUNC when a file was cut short or damaged
 * (everything before the damage was analysed; a warning is in the model);
 * -SL_EIO when a file cannot be opened or is not a capture (message in the
 * model's warnings); -SL_ENOMEM. */
int sl_analysis_run(sl_analysis *a, const char *const *files, size_t n_files);

/* The same on one capture file image held in memory (len bytes, borrowed
 * for the call), named "<memory>" in messages. */
int sl_analysis_run_memory(sl_analysis *a, const uint8_t *data, size_t len);

/* The model built so far (owned by the analysis). */
const struct sl_model *sl_analysis_model(const sl_analysis *a);
/* The same, to add to after the run (Expressway logs, exp_log.h). */
struct sl_model *sl_analysis_model_mut(sl_analysis *a);

#endif
