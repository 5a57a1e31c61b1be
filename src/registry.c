/* registry.c - probe order and lookup over a table of dissectors. */
#include "sipladder/registry.h"

#include <string.h>

#include "dissectors/builtin.h"

/* The NULL sentinel keeps the array non-empty; it is not counted. */
static const sl_dissector *const builtin_list[] = {SL_BUILTIN_DISSECTORS NULL};
static const sl_registry builtin = {builtin_list, sizeof builtin_list / sizeof builtin_list[0] - 1};

const sl_registry *sl_registry_builtin(void) { return &builtin; }

const sl_dissector *sl_registry_find(const sl_registry *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->list[i]->name, name) == 0)
            return r->list[i];
    return NULL;
}

int sl_dissector_hints_port(const sl_dissector *d, uint16_t port)
{
    for (size_t i = 0; i < d->n_hint_ports; i++)
        if (d->hint_ports[i] == port)
            return 1;
    return 0;
}

const sl_dissector *sl_registry_by_port(const sl_registry *r, uint16_t port_a, uint16_t port_b)
{
    for (size_t i = 0; i < r->n; i++)
        if (sl_dissector_hints_port(r->list[i], port_a) || sl_dissector_hints_port(r->list[i], port_b))
            return r->list[i];
    return NULL;
}

const sl_dissector *sl_registry_probe(const sl_registry *r, const uint8_t *buf, size_t len, sl_dir dir,
                                      sl_transport transport, uint16_t port_a, uint16_t port_b, int *more)
{
    *more = 0;
    /* Two passes: hinted dissectors first, then the rest. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < r->n; i++) {
            const sl_dissector *d = r->list[i];
            int hinted = sl_dissector_hints_port(d, port_a) || sl_dissector_hints_port(d, port_b);
            if (hinted != (pass == 0))
                continue;
            sl_probe p = d->probe(buf, len, dir, transport);
            if (p == SL_PROBE_YES)
                return d;
            if (p == SL_PROBE_MORE)
                *more = 1;
        }
    }
    return NULL;
}
