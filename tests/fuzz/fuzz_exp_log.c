/* fuzz_exp_log.c - the Expressway log reader (exp_log.h): lines, entries,
 * SIPMSG blocks and their rebuilt messages, then the merge of the SIP into
 * an empty model (the SIP dissector's parse) and the log's evidence run
 * over it, as `sipladder summary LOG` does. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sipladder/config.h"
#include "sipladder/diagnose.h"
#include "sipladder/exp_log.h"
#include "sipladder/model.h"
#include "fuzz_entry.h"

int FZ_ENTRY(const uint8_t *data, size_t size)
{
    sl_xlog *l = NULL;
    if (sl_xlog_parse(data, size, "fuzz.log", &l) < 0 || !l)
        return 0;
    sl_model *m = sl_model_new();
    if (m) {
        sl_config cfg;
        memset(&cfg, 0, sizeof cfg);
        sl_limits_default(&cfg.limits);
        if (sl_xlog_merge(m, &l, 1, &cfg) == 0) {
            sl_diagnoses d = {0};
            (void)sl_xlog_diagnose(&l, 1, m, NULL, &d);
            sl_diagnoses_clear(&d);
        }
        sl_model_free(m);
    }
    sl_xlog_free(l);
    return 0;
}
