/* call_stream.c - write the calls that ended, free their records, and keep
 * what the final run needs from them (numbering, host labels, claimed DNS
 * verdicts, judged and attached connections). */
#include "sipladder/call_stream.h"

#include <stdlib.h>
#include <string.h>

#include "sipladder/sip_record.h"
#include "sipladder/spool.h"
#include "sipladder/status.h"


/* Connections held, at most, while the capture point is not settled. */
#define SL_STREAM_HOLD_CONNS 4096

struct sl_call_stream {
    sl_call_stream_cfg cfg;
    sl_spool spool;        /* spool.calls: calls written so far; later ids follow them */
    /* What written calls taught about hosts, sorted by address: label
     * (NULL while the address is all), product, role, messages sent. */
    sl_host *hosts;
    size_t n_hosts;
    uint64_t *dns_claimed; /* first evidence frame of each DNS verdict a written call took */
    size_t n_dns_claimed;
    sl_other_traffic other; /* counted by the connection batches' diagnoses */
    uint32_t *orphans;     /* retired connections no call took, ascending */
    size_t n_orphans;
    sl_capture_point capture_point; /* as the last batch of calls judged it */
    bool has_capture_point;
    int status;
};

sl_call_stream *sl_call_stream_new(const sl_call_stream_cfg *cfg)
{
    sl_call_stream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cfg = *cfg;
    if (sl_spool_open(&s->spool) < 0) {
        free(s);
        return NULL;
    }
    cfg->opts->spool = &s->spool;
    return s;
}

static void free_hosts(sl_host *h, size_t n)
{
    for (size_t i = 0; h && i < n; i++) {
        free(h[i].label);
        free(h[i].product);
    }
    free(h);
}

void sl_call_stream_free(sl_call_stream *s)
{
    if (!s)
        return;
    if (s->cfg.opts->spool == &s->spool)
        s->cfg.opts->spool = NULL;
    sl_spool_close(&s->spool);
    free_hosts(s->hosts, s->n_hosts);
    free(s->dns_claimed);
    free(s->orphans);
    free(s);
}

int sl_call_stream_status(const sl_call_stream *s) { return s->status ? s->status : (s->spool.failed ? -1 : 0); }

/* Calls numbered after those already written, as if one run had made them. */
static void number_after_written(const sl_call_stream *s, sl_calls *calls)
{
    for (size_t i = 0; i < calls->n_calls; i++)
        calls->calls[i].id += (uint32_t)s->spool.calls;
}

/* The view on a batch, writing to its spools.  A part that could not be
 * written (disk full) makes the output incomplete, whichever view wrote it. */
static int view_batch(sl_call_stream *s, const sl_report *report, sl_spool_batch kind)
{
    sl_select_view selected = {0};
    if (s->cfg.select) {
        if (sl_select_apply(s->cfg.select, report, &selected) < 0)
            return -SL_ENOMEM;
        report = &selected.report;
    }
    s->spool.batch = kind;
    int rc = s->cfg.view(report, s->cfg.opts) < 0 ? -1 : 0;
    s->spool.batch = SL_BATCH_NONE;
    sl_select_view_clear(&selected);
    for (int i = 0; i < SL_SPOOL_PARTS; i++)
        if (ferror(s->spool.part[i]))
            s->spool.failed = true;
    return rc;
}

static void fail(sl_call_stream *s, int rc)
{
    if (!s->status)
        s->status = rc;
}

/* Ended: every dialog over (or never answered) and quiet for the linger
 * time; or quiet so long that its BYE was lost to the capture. */
static bool call_ended(const sl_calls *c, const sl_call *k, sl_time_ns now)
{
    sl_time_ns quiet = now - k->last_ts;
    if (quiet < SL_CALL_LINGER_NS)
        return false;
    if (quiet >= SL_CALL_STALE_NS)
        return true;
    for (size_t i = 0; i < k->n_legs; i++) {
        const sl_leg *l = &c->legs[k->legs[i]];
        for (size_t j = 0; j < l->n_dialogs; j++)
            if (c->dialogs[l->dialogs[j]].confirmed && !c->dialogs[l->dialogs[j]].terminated)
                return false;
    }
    return true;
}

static int note_cmp(const void *a, const void *b)
{
    return sl_addr_cmp(&((const sl_host *)a)->addr, &((const sl_host *)b)->addr);
}

static sl_host *note_find(sl_call_stream *s, const sl_addr *a)
{
    sl_host key = {.addr = *a};
    return s->n_hosts ? bsearch(&key, s->hosts, s->n_hosts, sizeof *s->hosts, note_cmp) : NULL;
}

static int dup_into(char **dst, const char *src)
{
    char *c = src ? strdup(src) : NULL;
    if (src && !c)
        return -SL_ENOMEM;
    free(*dst);
    *dst = c;
    return 0;
}

/* What src says of a host beyond its address, into dst: a stronger label,
 * a product and role when dst has none, and (counts) the messages sent. */
static int merge_host(sl_host *dst, const sl_host *src, bool counts)
{
    if (counts)
        dst->messages_sent += src->messages_sent;
    if (src->source < dst->source && src->label) {
        if (dup_into(&dst->label, src->label) < 0)
            return -SL_ENOMEM;
        dst->source = src->source;
    }
    if (!dst->product && src->product && dup_into(&dst->product, src->product) < 0)
        return -SL_ENOMEM;
    if (!dst->role)
        dst->role = src->role;
    return 0;
}

/* Keep what the batch's hosts say beyond their address. */
static int learn_hosts(sl_call_stream *s, const sl_calls *c)
{
    size_t before = s->n_hosts;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < c->n_hosts; i++) {
        const sl_host *h = &c->hosts[i];
        if (!h->messages_sent && h->source == SL_LABEL_ADDRESS && !h->product)
            continue;
        sl_host *n = note_find(s, &h->addr);
        if (!n) {
            sl_host *grown = realloc(s->hosts, (s->n_hosts + 1) * sizeof *grown);
            if (!grown)
                return -SL_ENOMEM;
            s->hosts = grown;
            n = &s->hosts[s->n_hosts++];
            *n = (sl_host){.addr = h->addr, .source = SL_LABEL_ADDRESS};
        }
        rc = merge_host(n, h, true);
    }
    if (s->n_hosts != before)
        qsort(s->hosts, s->n_hosts, sizeof *s->hosts, note_cmp);
    return rc;
}

/* What the final run must not repeat or mislabel after this batch. */
static int remember_batch(sl_call_stream *s, sl_model *m, const sl_calls *c, const sl_diagnoses *d)
{
    sl_conn *cn;
    for (size_t i = 0; i < c->n_calls; i++)
        for (size_t k = 0; k < c->calls[i].n_conns; k++)
            if ((cn = sl_model_conn(m, c->calls[i].conns[k])))
                cn->attached = true;
    for (size_t i = 0; d && i < d->n; i++) {
        const sl_diagnosis *v = &d->list[i];
        if ((cn = sl_model_conn(m, v->conn_index)))
            cn->judged = true;
        if (strncmp(v->code, "dns.", 4) != 0 || !v->n_evidence)
            continue;
        uint64_t *grown = realloc(s->dns_claimed, (s->n_dns_claimed + 1) * sizeof *grown);
        if (!grown)
            return -SL_ENOMEM;
        s->dns_claimed = grown;
        s->dns_claimed[s->n_dns_claimed++] = v->evidence[0];
    }
    return learn_hosts(s, c);
}

static int apply_notes(const sl_call_stream *s, sl_calls *calls, bool counts);

/* The connections a correlation of these records can use: those active
 * from shortly before the first of them (corr_conns.c matches by time). */
static sl_time_ns conns_after(sl_sip_record *const *recs, size_t n)
{
    if (!n)
        return 0;
    sl_time_ns first = recs[0]->span.first_ts;
    for (size_t i = 1; i < n; i++)
        if (recs[i]->span.first_ts < first)
            first = recs[i]->span.first_ts;
    return first - 2 * SL_CALLS_CONN_SLACK_NS;
}

/* Drop from the batch's calls the SIP-less connections that only the
 * batch, not every kept call, made theirs. */
static void keep_sure_conns(sl_calls *c, const sl_model *m, const bool *conn_ok)
{
    for (size_t i = 0; i < c->n_calls; i++) {
        sl_call *k = &c->calls[i];
        size_t kept = 0;
        for (size_t j = 0; j < k->n_conns; j++) {
            uint32_t ci = k->conns[j];
            const sl_conn *cn = sl_model_conn_const(m, ci);
            bool sure = !cn || cn->events[SL_EV_SIP] || conn_ok[cn - m->conns];
            if (sure)
                k->conns[kept++] = ci;
        }
        k->n_conns = kept;
    }
}

/* Correlate, judge and write the records marked, as a model of their own
 * (the connections and everything else shared with m). */
static int write_batch(sl_call_stream *s, sl_model *m, const bool *release, size_t n_release, const bool *conn_ok)
{
    sl_sip_record **recs = malloc(n_release * sizeof *recs); // NOLINT(bugprone-sizeof-expression): an array of pointers, sized as such
    if (!recs)
        return -SL_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < m->n_sip; i++)
        if (release[i])
            recs[k++] = m->sip[i];
    sl_model batch = *m;
    batch.sip = recs;
    batch.n_sip = batch.cap_sip = k;
    batch.corr_conns_after = conns_after(recs, k);
    int rc = 0;
    sl_calls *calls = NULL;
    sl_diagnoses verdicts = {0};
    sl_report report = {.model = &batch};
    if (s->cfg.needs_calls) {
        calls = sl_calls_build(&batch, s->cfg.labels, s->cfg.max_messages_per_call);
        if (!calls)
            rc = -SL_ENOMEM;
        if (calls)
            keep_sure_conns(calls, m, conn_ok);
        /* Labels learned from calls written before (not their counts:
         * learn_hosts adds this batch's own after it is written). */
        if (calls && apply_notes(s, calls, false) < 0)
            rc = -SL_ENOMEM;
        if (calls)
            number_after_written(s, calls);
        report.calls = calls;
    }
    if (rc == 0 && calls && s->cfg.diagnose) {
        sl_diagnose_options o = *s->cfg.diagnose;
        o.calls_only = true;
        rc = sl_diagnose(&batch, calls, &o, &verdicts);
        report.diagnoses = &verdicts;
    }
    if (rc == 0 && s->cfg.view)
        rc = view_batch(s, &report, SL_BATCH_CALLS);
    if (rc == 0 && calls)
        rc = remember_batch(s, m, calls, report.diagnoses);
    /* A settled capture point (a relayed call) stays; the first one
     * settles it as the whole capture would (its first relayed call). */
    if (rc == 0 && report.diagnoses && !(s->has_capture_point && s->capture_point.settled)) {
        s->capture_point = verdicts.capture_point;
        s->has_capture_point = true;
    }
    if (rc == 0 && calls)
        s->spool.calls += calls->n_calls;
    sl_diagnoses_clear(&verdicts);
    sl_calls_free(calls);
    free(recs);
    return rc;
}

/* The records of ended calls (every record when the view wants no calls). */
static int mark_ended(sl_call_stream *s, sl_model *m, sl_time_ns now, bool *release, size_t *n_release,
                      bool *conn_ok)
{
    *n_release = 0;
    if (!s->cfg.needs_calls) {
        for (size_t i = 0; i < m->n_sip; i++)
            release[i] = true;
        *n_release = m->n_sip;
        return 0;
    }
    sl_model held = *m;
    held.corr_conns_after = conns_after(m->sip, m->n_sip);
    sl_calls *calls = sl_calls_group(&held);
    if (!calls)
        return -SL_ENOMEM;
    bool *ended = calloc(calls->n_calls ? calls->n_calls : 1, sizeof *ended);
    if (!ended) {
        sl_calls_free(calls);
        return -SL_ENOMEM;
    }
    for (size_t i = 0; i < calls->n_calls; i++) {
        const sl_call *k = &calls->calls[i];
        ended[i] = call_ended(calls, k, now);
        /* A connection without SIP goes to a call when it is the only
         * candidate; seen with every kept call, not the batch alone. */
        for (size_t j = 0; ended[i] && j < k->n_conns; j++) {
            const sl_conn *cn = sl_model_conn_const(m, k->conns[j]);
            if (cn && cn->last_ts + SL_CALLS_CONN_SLACK_NS < now)
                conn_ok[cn - m->conns] = true;
        }
    }
    /* Two candidates now, more later: an orphan for good (the final run
     * must not give it to the one left when the other was written). */
    for (size_t i = 0; i < calls->n_ambiguous_conns; i++) {
        sl_conn *cn = sl_model_conn(m, calls->ambiguous_conns[i]);
        if (cn)
            cn->ambiguous = true;
    }
    for (size_t i = 0; i < m->n_sip; i++) {
        int ci = sl_calls_call_of(calls, m->sip[i]);
        release[i] = ci >= 0 && ended[ci];
        *n_release += release[i];
    }
    free(ended);
    sl_calls_free(calls);
    return 0;
}

void sl_call_stream_pressure(void *ctx, sl_model *m, sl_time_ns now)
{
    sl_call_stream *s = ctx;
    if (s->status || !m->n_sip)
        return;
    bool *release = calloc(m->n_sip, sizeof *release);
    bool *conn_ok = calloc(m->n_conns ? m->n_conns : 1, sizeof *conn_ok);
    size_t n_release = 0;
    int rc = release && conn_ok ? mark_ended(s, m, now, release, &n_release, conn_ok) : -SL_ENOMEM;
    if (rc == 0 && n_release)
        rc = write_batch(s, m, release, n_release, conn_ok);
    if (rc == 0 && n_release)
        sl_model_release_sip(m, release);
    free(conn_ok);
    free(release);
    if (rc < 0)
        fail(s, rc);
}

/* ---- connections complete before the end ---- */

/* A TCP connection without SIP that no written call took: corr_conns.c
 * gives such a one to a call whose messages fall within its span, widened,
 * and lists it as an orphan when none does. */
static bool unclaimed_sipless(const sl_conn *c)
{
    return c->info.transport == SL_TRANSPORT_TCP && !c->events[SL_EV_SIP] && !c->attached;
}

/* One that a call still held (messages from held_from on) could take. */
static bool claimable(const sl_conn *c, sl_time_ns held_from, bool any_held)
{
    return unclaimed_sipless(c) && !c->ambiguous && any_held && c->last_ts + SL_CALLS_CONN_SLACK_NS >= held_from;
}

/* Which complete connections can go: no held record was carried by them,
 * no held call can still take them, and they are quiet past the slack. */
static size_t mark_complete(const sl_call_stream *s, const sl_model *m, sl_time_ns now, bool *retire)
{
    bool *carries = calloc(m->n_conns ? m->n_conns : 1, sizeof *carries);
    if (!carries)
        return 0;
    sl_time_ns held_from = 0;
    for (size_t i = 0; i < m->n_sip; i++) {
        const sl_sip_record *r = m->sip[i];
        const sl_conn *c = sl_model_conn_const(m, r->conn_index);
        if (c)
            carries[c - m->conns] = true;
        if (i == 0 || r->span.first_ts < held_from)
            held_from = r->span.first_ts;
    }
    size_t n = 0;
    for (size_t i = 0; i < m->n_conns; i++) {
        const sl_conn *c = &m->conns[i];
        retire[i] = c->complete && !carries[i] && c->last_ts + 2 * SL_CALLS_CONN_SLACK_NS < now &&
                    !(s->cfg.needs_calls && claimable(c, held_from, m->n_sip != 0));
        n += retire[i];
    }
    free(carries);
    return n;
}

/* The hosts of the batch's connections, labelled as the end would label
 * them (written calls' notes, else the address, as corr_hosts.c does);
 * NULL when out of memory. */
static sl_host *batch_hosts(sl_call_stream *s, const sl_model *batch, size_t *n_out)
{
    size_t n = 2 * batch->n_conns;
    sl_host *h = calloc(n ? n : 1, sizeof *h);
    if (!h)
        return NULL;
    for (size_t i = 0; i < batch->n_conns; i++)
        for (int side = 0; side < 2; side++)
            h[2 * i + side].addr = batch->conns[i].info.addr[side];
    qsort(h, n, sizeof *h, note_cmp);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (!u || !sl_addr_equal(&h[u - 1].addr, &h[i].addr))
            h[u++].addr = h[i].addr;
    *n_out = u;
    for (size_t i = 0; i < u; i++) {
        char text[SL_ADDR_PORT_STRLEN];
        const char *label = sl_addr_format(&h[i].addr, text, sizeof text);
        h[i].source = SL_LABEL_ADDRESS;
        bool ok = true;
        const sl_host *note = note_find(s, &h[i].addr);
        if (note) {
            h[i].role = note->role;
            if (note->label) {
                label = note->label;
                h[i].source = note->source;
            }
            ok = !note->product || (h[i].product = strdup(note->product));
        }
        if (!ok || !(h[i].label = strdup(label))) {
            free_hosts(h, i + 1);
            return NULL;
        }
    }
    return h;
}

/* Judge, write and retire the connections marked. */
static int write_conns(sl_call_stream *s, sl_model *m, const bool *retire, size_t n_retire)
{
    sl_model batch = *m;
    batch.sip = NULL;
    batch.n_sip = batch.cap_sip = 0;
    batch.n_dns = 0;
    batch.conns = malloc(n_retire * sizeof *batch.conns);
    if (!batch.conns)
        return -SL_ENOMEM;
    batch.n_conns = batch.cap_conns = 0;
    /* Indices stay what they are: the lookup knows how many there are. */
    batch.n_conns_retired = sl_model_conns_total(m) - n_retire;
    size_t first_orphan = s->n_orphans;
    int rc = 0;
    for (size_t i = 0; i < m->n_conns && rc == 0; i++) {
        if (!retire[i])
            continue;
        const sl_conn *c = &m->conns[i];
        batch.conns[batch.n_conns++] = *c;
        if (!s->cfg.needs_calls || !unclaimed_sipless(c))
            continue;
        uint32_t *grown = realloc(s->orphans, (s->n_orphans + 1) * sizeof *grown);
        if (!grown)
            rc = -SL_ENOMEM;
        else
            (s->orphans = grown)[s->n_orphans++] = c->index;
    }
    /* The report's calls: no call, the hosts for labels, the orphans to draw. */
    sl_calls stub = {0};
    if (rc == 0 && s->cfg.needs_calls) {
        stub.hosts = batch_hosts(s, &batch, &stub.n_hosts);
        if (!stub.hosts)
            rc = -SL_ENOMEM;
        stub.orphan_conns = s->orphans + first_orphan;
        stub.n_orphan_conns = s->n_orphans - first_orphan;
    }
    sl_diagnoses verdicts = {0};
    sl_report report = {.model = &batch, .calls = s->cfg.needs_calls ? &stub : NULL};
    if (rc == 0 && s->cfg.diagnose) {
        sl_diagnose_options o = *s->cfg.diagnose;
        o.conns_only = true;
        o.capture_point = s->has_capture_point ? &s->capture_point : NULL;
        rc = sl_diagnose(&batch, report.calls, &o, &verdicts);
        report.diagnoses = &verdicts;
    }
    if (rc == 0 && report.diagnoses)
        sl_other_traffic_add(&s->other, &verdicts.other);
    if (rc == 0 && s->cfg.view)
        rc = view_batch(s, &report, SL_BATCH_CONNS);
    if (rc == 0 && s->cfg.on_conns)
        s->cfg.on_conns(s->cfg.on_conns_ctx, &batch); /* its failure is its own to report */
    sl_diagnoses_clear(&verdicts);
    free_hosts(stub.hosts, stub.n_hosts);
    free(batch.conns);
    return rc;
}

void sl_call_stream_conns(void *ctx, sl_model *m, sl_time_ns now)
{
    sl_call_stream *s = ctx;
    if (s->status || !m->n_conns)
        return;
    /* Verdicts need the capture point (who is local), as a whole run finds
     * it: settled by the link layer or by a relayed call, connections wait
     * for it; up to SL_STREAM_HOLD_CONNS of them, then they go with the
     * best guess so far, so that memory stays bounded. */
    if (s->cfg.diagnose && !(s->has_capture_point && s->capture_point.settled)) {
        sl_capture_point cp;
        if (sl_diagnose_capture_point(m, NULL, &cp) < 0) {
            fail(s, -SL_ENOMEM);
            return;
        }
        if (cp.settled) {
            s->capture_point = cp;
            s->has_capture_point = true;
        } else if (m->n_conns < SL_STREAM_HOLD_CONNS) {
            return;
        } else if (!s->has_capture_point) {
            s->capture_point = cp;
            s->has_capture_point = true;
        }
    }
    bool *retire = calloc(m->n_conns, sizeof *retire);
    size_t n = retire ? mark_complete(s, m, now, retire) : 0;
    int rc = retire ? 0 : -SL_ENOMEM;
    if (n)
        rc = write_conns(s, m, retire, n);
    if (rc == 0 && n)
        sl_model_retire_conns(m, retire);
    free(retire);
    if (rc < 0)
        fail(s, rc);
}

/* What written calls taught about hosts, into calls' hosts: labels,
 * products and roles; and the messages they sent when `counts`. */
static int apply_notes(const sl_call_stream *s, sl_calls *calls, bool counts)
{
    for (size_t i = 0; i < s->n_hosts; i++) {
        int h = sl_calls_host_of(calls, &s->hosts[i].addr);
        /* h < 0: beyond the connection cap, not listed. */
        if (h >= 0 && merge_host(&calls->hosts[h], &s->hosts[i], counts) < 0)
            return -SL_ENOMEM;
    }
    return 0;
}

int sl_call_stream_finish(sl_call_stream *s, sl_calls *calls, sl_diagnose_options *dopt)
{
    if (dopt) {
        dopt->dns_claimed = s->dns_claimed;
        dopt->n_dns_claimed = s->n_dns_claimed;
        dopt->other_before = &s->other;
        /* Calls written early may have held the relay that settled who is
         * local: the end judges with it, as a whole run would. */
        if (s->has_capture_point && s->capture_point.settled)
            dopt->capture_point = &s->capture_point;
    }
    if (!calls)
        return 0;
    number_after_written(s, calls);
    /* Connections retired with no call are orphans of the end too. */
    if (s->n_orphans) {
        uint32_t *all = realloc(calls->orphan_conns, (calls->n_orphan_conns + s->n_orphans) * sizeof *all);
        if (!all)
            return -SL_ENOMEM;
        memcpy(all + calls->n_orphan_conns, s->orphans, s->n_orphans * sizeof *all);
        calls->orphan_conns = all;
        calls->n_orphan_conns += s->n_orphans;
        sl_calls_sort_unique(all, &calls->n_orphan_conns);
    }
    return apply_notes(s, calls, true);
}
