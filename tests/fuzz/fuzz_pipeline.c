/* fuzz_pipeline.c - the whole pipeline on a pcap/pcapng file image, then
 * every view of the model written to /dev/null (renderers are fuzzed too). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_feed.h"
#include "sipladder/analysis.h"
#include "sipladder/config.h"
#include "sipladder/labels.h"
#include "sipladder/render.h"
#include "sipladder/status.h"
#include "fuzz_entry.h"


static void render_all(const sl_model *m)
{
    FILE *out = fz_devnull();
    sl_labels labels = {0};
    /* A label so that the labelled endpoint path is rendered too. */
    (void)sl_labels_add(&labels, "10.0.0.1=Expressway-E");
    sl_tls_options tls = {.expect_name = "sip.example.com"};
    sl_report report = {.model = m};
    for (int verbose = 0; verbose <= 1; verbose++) {
        sl_render_opts o = {.out = out, .color = verbose == 1, .verbose = verbose, .labels = &labels, .tls = &tls};
        (void)sl_render_summary(&report, &o);
        (void)sl_render_messages(&report, &o);
        (void)sl_render_tls(&report, &o);
    }
    sl_labels_clear(&labels);
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
    return 0;
}
