/* compare_sides.c - the usual diagnosis of each side of a firewall on its
 * own (two sl_analysis runs, the calls, sl_diagnose), each verdict tied to
 * the fw.* verdict whose frames it names: a tcp.reset seen inside whose RST
 * the firewall injected, a lost refresh the firewall's idle timeout ate, a
 * SYN nobody answered because the firewall dropped it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipladder/analysis.h"
#include "sipladder/calls.h"
#include "sipladder/compare.h"
#include "sipladder/diagnose.h"
#include "sipladder/model.h"
#include "sipladder/status.h"

/* frame -> 1 + index of the fw.* verdict that frame is evidence of (its
 * unpaired packets, and the first frame it names), 0: none. */
static int32_t *frame_map(const sl_compare *c, int side)
{
    const sl_cmp_side *sd = &c->side[side];
    int32_t *map = calloc((size_t)sd->frames + 1, sizeof *map);
    if (!map)
        return NULL;
    for (size_t k = 0; k < c->n_verdicts; k++) {
        const sl_cmp_verdict *v = &c->verdicts[k];
        if (v->frame[side] && v->frame[side] <= sd->frames && !map[v->frame[side]])
            map[v->frame[side]] = (int32_t)k + 1;
        if (v->flow[side] < 0 || strcmp(v->code, "fw.rewritten") == 0 || strcmp(v->code, "fw.delayed") == 0)
            continue;
        for (int64_t i = sd->flows[v->flow[side]].first_pkt; i >= 0; i = sd->pkts[i].next) {
            const sl_cmp_pkt *p = &sd->pkts[i];
            bool its_dir = p->dir == v->dir || strcmp(v->code, "fw.idle_timeout") == 0;
            if (p->peer < 0 && its_dir && p->frame <= sd->frames && !map[p->frame])
                map[p->frame] = (int32_t)k + 1;
        }
    }
    return map;
}

static int keep(sl_compare *c, int side, const sl_diagnosis *d, const int32_t *map, uint64_t frames)
{
    sl_cmp_side_verdict *nv = realloc(c->side_verdicts, (c->n_side_verdicts + 1) * sizeof *nv);
    if (!nv)
        return -SL_ENOMEM;
    c->side_verdicts = nv;
    sl_cmp_side_verdict *v = &nv[c->n_side_verdicts];
    memset(v, 0, sizeof *v);
    v->side = side;
    v->explained_by = -1;
    snprintf(v->code, sizeof v->code, "%s", d->code);
    v->summary = strdup(d->summary ? d->summary : "");
    v->evidence = malloc((d->n_evidence ? d->n_evidence : 1) * sizeof *v->evidence);
    if (!v->summary || !v->evidence) {
        free(v->summary);
        free(v->evidence);
        return -SL_ENOMEM;
    }
    c->n_side_verdicts++;
    v->n_evidence = d->n_evidence;
    if (d->n_evidence)
        memcpy(v->evidence, d->evidence, d->n_evidence * sizeof *v->evidence);
    /* The first fw.* verdict its frames name; an injected packet wins (the
     * RST a tcp.reset or TLS verdict blames was the firewall's own). */
    for (size_t i = 0; i < d->n_evidence; i++) {
        if (d->evidence[i] > frames || !map[d->evidence[i]])
            continue;
        int64_t k = map[d->evidence[i]] - 1;
        if (v->explained_by < 0 || strcmp(c->verdicts[k].code, "fw.injected") == 0)
            v->explained_by = k;
    }
    return 0;
}

int sl_compare_side_diagnoses(sl_compare *c, int side, const char *const *files, size_t n,
                              const uint8_t *data, size_t len)
{
    sl_config cfg = {0};
    sl_limits_default(&cfg.limits);
    sl_analysis *a = sl_analysis_new(&cfg, NULL, NULL);
    if (!a)
        return -SL_ENOMEM;
    int rc = files ? sl_analysis_run(a, files, n) : sl_analysis_run_memory(a, data, len);
    if (rc == -SL_ENOMEM) {
        sl_analysis_free(a);
        return rc;
    }
    if (rc < 0 && rc != -SL_ETRUNC) { /* compare read it: it cannot fail here but by memory */
        sl_analysis_free(a);
        return 0;
    }
    const sl_model *m = sl_analysis_model(a);
    sl_calls *calls = sl_calls_build(m, NULL, cfg.limits.max_messages_per_call);
    sl_diagnose_options dopt;
    sl_diagnose_options_default(&dopt);
    sl_diagnoses d = {0};
    int32_t *map = frame_map(c, side);
    rc = calls && map ? sl_diagnose(m, calls, &dopt, &d) : -SL_ENOMEM;
    for (size_t i = 0; rc == 0 && i < d.n; i++)
        if (!d.list[i].healthy)
            rc = keep(c, side, &d.list[i], map, c->side[side].frames);
    free(map);
    sl_diagnoses_clear(&d);
    sl_calls_free(calls);
    sl_analysis_free(a);
    return rc;
}

void sl_compare_side_verdicts_free(sl_compare *c)
{
    for (size_t i = 0; i < c->n_side_verdicts; i++) {
        free(c->side_verdicts[i].summary);
        free(c->side_verdicts[i].evidence);
    }
    free(c->side_verdicts);
    c->side_verdicts = NULL;
    c->n_side_verdicts = 0;
}
