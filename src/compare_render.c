/* compare_render.c - `sipladder compare`'s report: the sides, the clock
 * offset, the latency through the firewall, the NAT mapping learnt from the
 * pairs, each connection's fate and the verdicts; as text or as JSON. */
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "sipladder/compare.h"
#include "sipladder/status.h"

static const char *proto_name(uint8_t p)
{
    return p == 6 ? "TCP" : "UDP";
}

/* What became of a connection (side 0's flow i, or side s's unpaired
 * flow): the worst verdict naming it, else passed / not crossing. */
const char *sl_compare_fate(const sl_compare *c, int s, int64_t i, bool paired)
{
    const char *worst = NULL;
    static const char *const order[] = {"fw.idle_timeout", "fw.injected", "fw.dropped", "fw.rewritten",
                                        "fw.delayed"};
    size_t rank = sizeof order / sizeof order[0];
    for (size_t k = 0; k < c->n_verdicts; k++) {
        const sl_cmp_verdict *v = &c->verdicts[k];
        if (v->flow[s] != i)
            continue;
        for (size_t r = 0; r < rank; r++)
            if (strcmp(v->code, order[r]) == 0) {
                rank = r;
                worst = order[r];
            }
    }
    if (worst)
        return strchr(worst, '.') + 1;
    return paired ? "passed" : "not crossing";
}

static void endpoint(const sl_cmp_flow *f, int k, char *buf, size_t len)
{
    sl_addr_port_format(&f->addr[k], f->port[k], buf, len);
}

static bool same_endpoints(const sl_cmp_flow *a, const sl_cmp_flow *b)
{
    for (int k = 0; k < 2; k++)
        if (!sl_addr_equal(&a->addr[k], &b->addr[k]) || a->port[k] != b->port[k])
            return false;
    return true;
}

static uint64_t count_pairs(const sl_compare *c, const sl_cmp_flow *f0)
{
    uint64_t n = 0;
    for (int64_t k = f0->first_pkt; k >= 0; k = c->side[0].pkts[k].next)
        n += c->side[0].pkts[k].peer >= 0;
    return n;
}

static void write_files(const sl_cmp_side *s, FILE *out)
{
    for (size_t i = 0; i < s->n_files; i++)
        fprintf(out, "%s%s", i ? ", " : "", s->files[i]);
    if (!s->n_files)
        fputs("<memory>", out);
}

int sl_compare_render_text(const sl_compare *c, FILE *out)
{
    for (int s = 0; s < 2; s++) {
        const sl_cmp_side *sd = &c->side[s];
        fprintf(out, "%-8s ", sd->name);
        write_files(sd, out);
        fprintf(out, ": %" PRIu64 " frame%s, %zu connection%s%s\n", sd->frames, sd->frames == 1 ? "" : "s",
                sd->n_flows, sd->n_flows == 1 ? "" : "s", sd->truncated ? " (cut short)" : "");
    }
    double off = sl_time_seconds(c->offset);
    if (!c->opts.offset_forced && !c->offset_pairs)
        fprintf(out, "clock offset: unknown, no packet crossed the firewall (%s = %s %+.6f s assumed)\n",
                c->side[1].name, c->side[0].name, off);
    else if (c->opts.offset_forced)
        fprintf(out, "clock offset: %s = %s %+.6f s (--offset)\n", c->side[1].name, c->side[0].name, off);
    else
        fprintf(out, "clock offset: %s = %s %+.6f s (spread %.6f s, from %" PRIu64 " packet pairs%s)\n",
                c->side[1].name, c->side[0].name, off, sl_time_seconds(c->offset_spread), c->offset_pairs,
                c->offset_one_way ? "; one direction only: includes the firewall's latency" : "");
    for (int s = 0; s < 2; s++) {
        const sl_cmp_latency *l = &c->latency[s];
        if (l->pairs)
            fprintf(out,
                    "latency %s -> %s: median %.3f ms, p99 %.3f ms, max %.3f ms (%" PRIu64 " packet%s)\n",
                    c->side[s].name, c->side[!s].name, sl_time_seconds(l->median) * 1e3,
                    sl_time_seconds(l->p99) * 1e3, sl_time_seconds(l->max) * 1e3, l->pairs,
                    l->pairs == 1 ? "" : "s");
    }
    fputs("\nNAT mapping:\n", out);
    bool any = false;
    for (size_t i = 0; i < c->side[0].n_flows; i++) {
        const sl_cmp_flow *f0 = &c->side[0].flows[i];
        if (f0->peer < 0)
            continue;
        const sl_cmp_flow *f1 = &c->side[1].flows[f0->peer];
        if (same_endpoints(f0, f1))
            continue;
        char a[SL_ADDR_PORT_STRLEN], b[SL_ADDR_PORT_STRLEN], x[SL_ADDR_PORT_STRLEN], y[SL_ADDR_PORT_STRLEN];
        endpoint(f0, 0, a, sizeof a);
        endpoint(f0, 1, b, sizeof b);
        endpoint(f1, 0, x, sizeof x);
        endpoint(f1, 1, y, sizeof y);
        fprintf(out, "  %s %s -> %s  is  %s -> %s on %s\n", proto_name(f0->proto), a, b, x, y,
                c->side[1].name);
        any = true;
    }
    if (!any)
        fputs("  none: every connection keeps its addresses and ports\n", out);
    fputs("\nconnections:\n", out);
    for (int s = 0; s < 2; s++) {
        const sl_cmp_side *sd = &c->side[s];
        for (size_t i = 0; i < sd->n_flows; i++) {
            const sl_cmp_flow *f = &sd->flows[i];
            if (s == 1 && f->peer >= 0)
                continue; /* listed with its side-0 copy */
            char a[SL_ADDR_PORT_STRLEN], b[SL_ADDR_PORT_STRLEN];
            endpoint(f, 0, a, sizeof a);
            endpoint(f, 1, b, sizeof b);
            bool paired = f->peer >= 0;
            fprintf(out, "  %-12s %s %s -> %s", sl_compare_fate(c, s, (int64_t)i, paired),
                    proto_name(f->proto), a, b);
            if (paired) {
                const sl_cmp_flow *f1 = &c->side[1].flows[f->peer];
                fprintf(out,
                        ": %" PRIu64 " of %" PRIu64 " packets paired (%s frame %" PRIu64 ", %s frame %" PRIu64
                        ")\n",
                        count_pairs(c, f), f->packets[0] + f->packets[1], sd->name, f->first_frame,
                        c->side[1].name, f1->first_frame);
            } else {
                fprintf(out, ": %s only, %" PRIu64 " packets from frame %" PRIu64 "\n", sd->name,
                        f->packets[0] + f->packets[1], f->first_frame);
            }
        }
    }
    fprintf(out, "\nverdicts: %zu\n", c->n_verdicts);
    for (size_t k = 0; k < c->n_verdicts; k++) {
        const sl_cmp_verdict *v = &c->verdicts[k];
        fprintf(out, "  %s  %s\n", v->code, v->summary ? v->summary : "");
        fprintf(out, "      frames: %s %" PRIu64 ", %s %" PRIu64 "; blame: the firewall", c->side[0].name,
                v->frame[0], c->side[1].name, v->frame[1]);
        if (v->from_side >= 0)
            fprintf(out, " (traffic entering from %s)", c->side[v->from_side].name);
        fputc('\n', out);
        for (size_t d = 0; d < v->n_diff; d++)
            fprintf(out, "      %s\n", v->diff[d]);
    }
    if (c->n_side_verdicts)
        fputs("\neach side on its own (as sipladder diagnose judges it):\n", out);
    for (size_t k = 0; k < c->n_side_verdicts; k++) {
        const sl_cmp_side_verdict *sv = &c->side_verdicts[k];
        fprintf(out, "  %-8s %s  %s\n", c->side[sv->side].name, sv->code, sv->summary);
        if (sv->explained_by >= 0) {
            const sl_cmp_verdict *v = &c->verdicts[sv->explained_by];
            fprintf(out,
                    "           the firewall explains it: %s (%s frame %" PRIu64 ", %s frame %" PRIu64 ")\n",
                    v->code, c->side[0].name, v->frame[0], c->side[1].name, v->frame[1]);
        }
    }
    if (c->unpaired_local || c->unpaired_outside_time)
        fprintf(out,
                "not judged: %" PRIu64 " connection%s that never cross (both ends on one side, or the "
                "firewall's own), %" PRIu64 " seen while the other capture was not running\n",
                c->unpaired_local, c->unpaired_local == 1 ? "" : "s", c->unpaired_outside_time);
    return ferror(out) ? -SL_EIO : 0;
}

/* ---- JSON ---- */

static json_t *flow_json(const sl_cmp_flow *f)
{
    char a[SL_ADDR_PORT_STRLEN], b[SL_ADDR_PORT_STRLEN];
    endpoint(f, 0, a, sizeof a);
    endpoint(f, 1, b, sizeof b);
    return json_pack("{s:s,s:s,s:s,s:I,s:I}", "transport", proto_name(f->proto), "client", a, "server", b,
                     "first_frame", (json_int_t)f->first_frame, "packets",
                     (json_int_t)(f->packets[0] + f->packets[1]));
}

static json_t *latency_json(const sl_compare *c, int s)
{
    const sl_cmp_latency *l = &c->latency[s];
    return json_pack("{s:s,s:s,s:I,s:f,s:f,s:f,s:[I,I]}", "from", c->side[s].name, "to", c->side[!s].name,
                     "packets", (json_int_t)l->pairs, "median_s", sl_time_seconds(l->median), "p99_s",
                     sl_time_seconds(l->p99), "max_s", sl_time_seconds(l->max), "max_frames",
                     (json_int_t)l->max_frame[0], (json_int_t)l->max_frame[1]);
}

static json_t *verdict_json(const sl_compare *c, const sl_cmp_verdict *v)
{
    json_t *j = json_pack("{s:s,s:s,s:s,s:I,s:s}", "code", v->code, "summary", v->summary ? v->summary : "",
                          "blame", "firewall", "count", (json_int_t)v->count, "direction",
                          v->dir == 0 ? "from_client" : "from_server");
    if (!j)
        return NULL;
    json_t *frames = json_object();
    json_object_set_new(j, "frames", frames);
    for (int s = 0; s < 2; s++)
        json_object_set_new(frames, c->side[s].name,
                            v->frame[s] ? json_integer((json_int_t)v->frame[s]) : json_null());
    json_object_set_new(j, "evidence_side",
                        v->evidence_side >= 0 ? json_string(c->side[v->evidence_side].name)
                                              : json_string("both"));
    if (v->from_side >= 0)
        json_object_set_new(j, "entered_from", json_string(c->side[v->from_side].name));
    for (int s = 0; s < 2; s++)
        if (v->flow[s] >= 0) {
            json_t *conns = json_object_get(j, "connections");
            if (!conns)
                json_object_set_new(j, "connections", conns = json_object());
            json_object_set_new(conns, c->side[s].name, flow_json(&c->side[s].flows[v->flow[s]]));
        }
    if (strcmp(v->code, "fw.idle_timeout") == 0)
        json_object_set_new(j, "idle_s", json_real(sl_time_seconds(v->duration)));
    if (strcmp(v->code, "fw.delayed") == 0)
        json_object_set_new(j, "p99_s", json_real(sl_time_seconds(v->duration)));
    if (strcmp(v->code, "fw.injected") == 0) {
        json_object_set_new(j, "ttl", json_integer(v->ttl));
        json_object_set_new(j, "usual_ttl", json_integer(v->usual_ttl));
    }
    if (v->n_diff) {
        json_t *d = json_array();
        json_object_set_new(j, "diff", d);
        for (size_t k = 0; k < v->n_diff; k++)
            json_array_append_new(d, json_string(v->diff[k]));
    }
    return j;
}

static json_t *compare_json(const sl_compare *c)
{
    json_t *root = json_object(), *cmp = json_object(), *sides = json_array(), *lat = json_array(),
           *nat = json_array(), *conns = json_array(), *verdicts = json_array();
    json_object_set_new(root, "compare", cmp);
    json_object_set_new(cmp, "sides", sides);
    for (int s = 0; s < 2; s++) {
        const sl_cmp_side *sd = &c->side[s];
        json_t *files = json_array();
        for (size_t i = 0; i < sd->n_files; i++)
            json_array_append_new(files, json_string(sd->files[i]));
        json_array_append_new(sides, json_pack("{s:s,s:o,s:I,s:I,s:b}", "name", sd->name, "files", files,
                                               "frames", (json_int_t)sd->frames, "connections",
                                               (json_int_t)sd->n_flows, "truncated", sd->truncated));
    }
    json_object_set_new(cmp, "clock_offset",
                        json_pack("{s:f,s:f,s:I,s:b,s:b}", "seconds", sl_time_seconds(c->offset), "spread_s",
                                  sl_time_seconds(c->offset_spread), "pairs", (json_int_t)c->offset_pairs,
                                  "forced", c->opts.offset_forced, "one_way", c->offset_one_way));
    json_object_set_new(cmp, "latency", lat);
    for (int s = 0; s < 2; s++)
        if (c->latency[s].pairs)
            json_array_append_new(lat, latency_json(c, s));
    json_object_set_new(cmp, "nat", nat);
    json_object_set_new(cmp, "connections", conns);
    for (int s = 0; s < 2; s++) {
        for (size_t i = 0; i < c->side[s].n_flows; i++) {
            const sl_cmp_flow *f = &c->side[s].flows[i];
            if (s == 1 && f->peer >= 0)
                continue;
            json_t *e = json_pack("{s:s}", "fate", sl_compare_fate(c, s, (int64_t)i, f->peer >= 0));
            json_object_set_new(e, c->side[s].name, flow_json(f));
            if (s == 0 && f->peer >= 0) {
                const sl_cmp_flow *f1 = &c->side[1].flows[f->peer];
                json_object_set_new(e, c->side[1].name, flow_json(f1));
                json_object_set_new(e, "paired_packets", json_integer((json_int_t)count_pairs(c, f)));
                if (!same_endpoints(f, f1))
                    json_array_append_new(nat,
                                          json_pack("{s:s,s:O,s:O}", "transport", proto_name(f->proto),
                                                    c->side[0].name, json_object_get(e, c->side[0].name),
                                                    c->side[1].name, json_object_get(e, c->side[1].name)));
            }
            json_array_append_new(conns, e);
        }
    }
    json_object_set_new(cmp, "verdicts", verdicts);
    for (size_t k = 0; k < c->n_verdicts; k++)
        json_array_append_new(verdicts, verdict_json(c, &c->verdicts[k]));
    json_t *own = json_array();
    json_object_set_new(cmp, "side_diagnoses", own);
    for (size_t k = 0; k < c->n_side_verdicts; k++) {
        const sl_cmp_side_verdict *sv = &c->side_verdicts[k];
        json_t *ev = json_array();
        for (size_t i = 0; i < sv->n_evidence; i++)
            json_array_append_new(ev, json_integer((json_int_t)sv->evidence[i]));
        json_array_append_new(
            own,
            json_pack("{s:s,s:s,s:s,s:o,s:o}", "side", c->side[sv->side].name, "code", sv->code, "summary",
                      sv->summary, "evidence", ev, "explained_by",
                      sv->explained_by >= 0 ? json_string(c->verdicts[sv->explained_by].code) : json_null()));
    }
    json_object_set_new(cmp, "not_judged",
                        json_pack("{s:I,s:I}", "never_cross", (json_int_t)c->unpaired_local,
                                  "other_capture_not_running", (json_int_t)c->unpaired_outside_time));
    return root;
}

int sl_compare_render_json(const sl_compare *c, FILE *out)
{
    json_t *root = compare_json(c);
    if (!root)
        return -SL_ENOMEM;
    int rc = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
    json_decref(root);
    fputc('\n', out);
    return rc < 0 || ferror(out) ? -SL_EIO : 0;
}
