/* diagnose_verdict.c - building one verdict: append it, set its summary,
 * causes and evidence, name the rejecter and its label.  The rule files
 * (diagnose_tcp.c, diagnose_tls.c, diagnose_sip.c, diagnose_dns.c) call
 * these; the driver (diagnose.c) calls the rules: the helpers live apart so
 * that no rule reaches back into the driver. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diagnose_internal.h"
#include "sipladder/status.h"
#include "sipladder/text.h"

sl_diagnosis *sl_dg_add(sl_dg_ctx *x, const char *code, int call, uint32_t conn)
{
    sl_diagnoses *d = x->out;
    if (d->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 8;
        sl_diagnosis *list = realloc(d->list, cap * sizeof *list);
        if (!list)
            return NULL;
        d->list = list;
        x->cap = cap;
    }
    sl_diagnosis *v = &d->list[d->n++];
    memset(v, 0, sizeof *v);
    snprintf(v->code, sizeof v->code, "%s", code);
    v->call = call;
    v->conn_index = conn;
    const sl_conn *c = sl_model_conn_const(x->m, conn);
    if (c && x->conn_judged)
        x->conn_judged[c - x->m->conns] = true;
    return v;
}

static char *vformat(const char *fmt, va_list ap)
{
    va_list aq;
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (s)
        vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

int sl_dg_summary(sl_diagnosis *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vformat(fmt, ap);
    va_end(ap);
    if (!s)
        return -SL_ENOMEM;
    free(d->summary);
    d->summary = s;
    return 0;
}

int sl_dg_cause(sl_diagnosis *d, const char *fmt, ...)
{
    char **list = realloc(d->causes, (d->n_causes + 1) * sizeof *list);
    if (!list)
        return -SL_ENOMEM;
    d->causes = list;
    va_list ap;
    va_start(ap, fmt);
    char *s = vformat(fmt, ap);
    va_end(ap);
    if (!s)
        return -SL_ENOMEM;
    d->causes[d->n_causes++] = s;
    return 0;
}

int sl_dg_evidence(sl_diagnosis *d, uint64_t frame)
{
    if (!frame)
        return 0;
    size_t i = 0;
    while (i < d->n_evidence && d->evidence[i] < frame)
        i++;
    if (i < d->n_evidence && d->evidence[i] == frame)
        return 0;
    uint64_t *e = realloc(d->evidence, (d->n_evidence + 1) * sizeof *e);
    if (!e)
        return -SL_ENOMEM;
    memmove(e + i + 1, e + i, (d->n_evidence - i) * sizeof *e);
    e[i] = frame;
    d->evidence = e;
    d->n_evidence++;
    return 0;
}

static const char *host_label(const sl_dg_ctx *x, const sl_addr *a)
{
    for (size_t i = 0; x->calls && i < x->calls->n_hosts; i++)
        if (sl_addr_equal(&x->calls->hosts[i].addr, a))
            return x->calls->hosts[i].label;
    return NULL;
}

void sl_dg_reject(const sl_dg_ctx *x, sl_diagnosis *d, const sl_addr *a, uint16_t port, sl_role role)
{
    d->rejected_by.known = role != SL_ROLE_NETWORK;
    d->rejected_by.addr = *a;
    d->rejected_by.port = port;
    d->rejected_by.role = role;
    d->rejected_by.label = host_label(x, a);
    d->rejected_by.local = sl_dg_is_local(x, a);
}

bool sl_dg_is_local(const sl_dg_ctx *x, const sl_addr *a)
{
    return (x->cp.has_local && sl_addr_equal(&x->cp.local, a)) || (x->cp.has_local2 && sl_addr_equal(&x->cp.local2, a)) ||
           sl_model_is_local(x->m, a);
}

const char *sl_dg_text(const char *s, size_t n, char *buf, size_t len)
{
    if (!s)
        s = "", n = 0;
    sl_text_escape(s, n, buf, len);
    if (len)
        buf[len - 1] = '\0';
    return buf;
}

const char *sl_dg_endpoint(const sl_dg_ctx *x, const sl_addr *a, uint16_t port, char *buf, size_t len)
{
    char ap[SL_ADDR_PORT_STRLEN], esc[160];
    sl_addr_port_format(a, port, ap, sizeof ap);
    const char *label = host_label(x, a);
    if (label && strcmp(label, ap) != 0 && strncmp(ap, label, strlen(label)) != 0)
        snprintf(buf, len, "%s (%s)", ap, sl_dg_text(label, strlen(label), esc, sizeof esc));
    else
        snprintf(buf, len, "%s", ap);
    return buf;
}
