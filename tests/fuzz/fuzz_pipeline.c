/* fuzz_pipeline.c - the whole pipeline on a pcap/pcapng file image, then
 * every view of the model written to /dev/null (renderers are fuzzed too);
 * then once more streamed (call_stream.h) with a tiny SIP memory. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_feed.h"
#include "sipladder/analysis.h"
#include "sipladder/call_stream.h"
#include "sipladder/calls.h"
#include "sipladder/config.h"
#include "sipladder/diagnose.h"
#include "sipladder/labels.h"
#include "sipladder/render.h"
#include "sipladder/render_json.h"
#include "sipladder/status.h"
#include "fuzz_entry.h"


typedef int (*view_fn)(const sl_report *r, const sl_render_opts *o);

/* Every view, as the commands of src/main.c run them, with and without
 * colour and verbosity, the ladder in each of its forms. */
static void render_all(const sl_model *m)
{
    static const view_fn views[] = {sl_render_summary, sl_render_messages, sl_render_tls, sl_render_calls,
                                    sl_render_diagnosis, sl_render_ladder, sl_render_json, sl_render_jsonl};
    FILE *out = fz_devnull();
    sl_labels labels = {0};
    /* A label so that the labelled endpoint path is rendered too. */
    (void)sl_labels_add(&labels, "10.0.0.1=Expressway-E");
    sl_tls_options tls = {.expect_name = "sip.example.com"};
    sl_report report = {.model = m};
    sl_calls *calls = sl_calls_build(m, &labels, 10000);
    sl_diagnoses diagnoses = {0};
    sl_diagnose_options dopt;
    sl_diagnose_options_default(&dopt);
    dopt.expect_name = tls.expect_name;
    dopt.tls = &tls;
    report.calls = calls;
    if (calls) {
        /* As src/main.c: the views get the diagnoses even when incomplete. */
        (void)sl_diagnose(m, calls, &dopt, &diagnoses);
        report.diagnoses = &diagnoses;
    }
    for (int v = 0; v <= 1; v++) {
        sl_ladder_opts ladder = {.ports = v == 1, .ascii = v == 1, .width = v ? 60 : 0};
        sl_render_opts o = {.out = out, .color = v == 1, .verbose = v, .labels = &labels, .tls = &tls,
                            .ladder = &ladder};
        for (size_t i = 0; i < sizeof views / sizeof views[0]; i++) {
            if (!report.calls && i >= 3)
                break; /* out of memory: the views needing calls are not run */
            o.format = views[i] == sl_render_ladder && v ? "mermaid" : NULL;
            (void)views[i](&report, &o);
        }
    }
    sl_diagnoses_clear(&diagnoses);
    sl_calls_free(calls);
    sl_labels_clear(&labels);
    fclose(out);
}

/* The same capture streamed (call_stream.h) as src/main.c runs it, with a
 * SIP memory so small that every few messages the calls that ended are
 * written early: one view, picked by the input's size. */
static void run_streamed(const uint8_t *data, size_t size)
{
    static const view_fn views[] = {sl_render_summary, sl_render_messages, sl_render_calls, sl_render_diagnosis,
                                    sl_render_ladder, sl_render_json, sl_render_jsonl};
    view_fn view = views[size % (sizeof views / sizeof views[0])];
    bool needs_calls = view != sl_render_messages;
    FILE *out = fz_devnull();
    sl_ladder_opts ladder = {.width = 80};
    sl_render_opts o = {.out = out, .ladder = &ladder};
    sl_diagnose_options dopt;
    sl_diagnose_options_default(&dopt);
    sl_call_stream_cfg sc = {.max_messages_per_call = 10000, .diagnose = &dopt, .needs_calls = needs_calls,
                             .view = view, .opts = &o};
    sl_call_stream *stream = sl_call_stream_new(&sc);
    sl_config cfg = {0};
    sl_limits_default(&cfg.limits);
    cfg.limits.max_sip_memory = 16384; /* the first write at 2 KB, then every 1 KB */
    sl_analysis_hooks hooks = {.ctx = stream,
                               .sip_pressure = stream ? sl_call_stream_pressure : NULL,
                               .conns_complete = stream ? sl_call_stream_conns : NULL};
    sl_analysis *a = stream ? sl_analysis_new(&cfg, NULL, &hooks) : NULL;
    int rc = a ? sl_analysis_run_memory(a, data, size) : -SL_ENOMEM;
    if ((rc == 0 || rc == -SL_ETRUNC) && sl_call_stream_status(stream) == 0) {
        const sl_model *m = sl_analysis_model(a);
        sl_report report = {.model = m};
        sl_calls *calls = needs_calls ? sl_calls_build(m, NULL, 10000) : NULL;
        sl_diagnoses diagnoses = {0};
        if (!needs_calls || (calls && sl_call_stream_finish(stream, calls, &dopt) == 0 &&
                             sl_diagnose(m, calls, &dopt, &diagnoses) == 0)) {
            report.calls = calls;
            report.diagnoses = needs_calls ? &diagnoses : NULL;
            (void)view(&report, &o);
        }
        sl_diagnoses_clear(&diagnoses);
        sl_calls_free(calls);
    }
    sl_analysis_free(a);
    sl_call_stream_free(stream);
    fclose(out);
}

int FZ_ENTRY(const uint8_t *data, size_t size)
{
    sl_config cfg = {0};
    sl_limits_default(&cfg.limits);
    sl_analysis *a = sl_analysis_new(&cfg, NULL, NULL);
    if (!a)
        return 0;
    int rc = sl_analysis_run_memory(a, data, size);
    if (rc == 0 || rc == -SL_ETRUNC)
        render_all(sl_analysis_model(a));
    sl_analysis_free(a);
    run_streamed(data, size);
    return 0;
}
