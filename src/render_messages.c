/* render_messages.c - the `messages` view: every SIP message, one line each,
 * in the order tshark -Y sip lists them (by the frame that completed it). */
#include <stdlib.h>

#include "sipladder/render.h"
#include "sipladder/spool.h"
#include "sipladder/sip_record.h"

typedef struct ordered {
    const sl_sip_record *rec;
    size_t seq; /* order of completion: several messages in one frame keep it */
} ordered;

static int by_frame(const void *a, const void *b)
{
    const ordered *x = a, *y = b;
    /* a message read from an Expressway log alone has no frame: by time */
    if ((!x->rec->span.last_frame || !y->rec->span.last_frame) && x->rec->span.last_ts != y->rec->span.last_ts)
        return x->rec->span.last_ts < y->rec->span.last_ts ? -1 : 1;
    if (x->rec->span.last_frame != y->rec->span.last_frame)
        return x->rec->span.last_frame < y->rec->span.last_frame ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void print_record(const sl_sip_record *r, FILE *out)
{
    char line[1024];
    size_t need = sl_sip_record_format_line(r, line, sizeof line);
    if (need < sizeof line) {
        fprintf(out, "%s\n", line);
        return;
    }
    char *big = malloc(need + 1);
    if (big) {
        sl_sip_record_format_line(r, big, need + 1);
        fprintf(out, "%s\n", big);
    } else {
        fprintf(out, "%s...\n", line); /* the line, cut, rather than nothing */
    }
    free(big);
}

int sl_render_messages(const sl_report *r, const sl_render_opts *o)
{
    const sl_model *m = r->model;
    ordered *order = malloc((m->n_sip ? m->n_sip : 1) * sizeof *order);
    if (!order)
        return -1;
    for (size_t i = 0; i < m->n_sip; i++)
        order[i] = (ordered){m->sip[i], i};
    qsort(order, m->n_sip, sizeof *order, by_frame);
    /* Records freed early (call_stream.h) were written to the spool. */
    sl_spool *sp = o->spool;
    FILE *out = sp && sp->batch ? sp->part[SL_SPOOL_CALLS] : o->out;
    if (sp && !sp->batch)
        sl_spool_copy(sp, SL_SPOOL_CALLS, out);
    for (size_t i = 0; i < m->n_sip; i++)
        print_record(order[i].rec, out);
    free(order);
    if (sp && sp->batch)
        sp->entries[SL_SPOOL_CALLS] += m->n_sip;
    else if (m->sip_not_kept)
        fprintf(o->out, "warning: %llu more SIP messages from frame %llu on were parsed but not kept (cap of %zu MB)\n",
                (unsigned long long)m->sip_not_kept, (unsigned long long)m->sip_cap_frame, m->max_sip_bytes >> 20);
    return 0;
}
