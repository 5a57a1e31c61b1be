/* registry.h - the dissectors sipladder knows, and how a flow finds its own:
 * the bytes decide (probe), ports only order the probes, and a user's
 * --decode PORT=NAME overrides both. */
#ifndef SIPLADDER_REGISTRY_H
#define SIPLADDER_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "sipladder/dissector.h"

struct sl_registry {
    const sl_dissector *const *list; /* borrowed */
    size_t n;
};
typedef struct sl_registry sl_registry;

/* The built-in dissectors (a static table). */
const sl_registry *sl_registry_builtin(void);

const sl_dissector *sl_registry_find(const sl_registry *r, const char *name);

/* True when `port` is one of d's hint ports. */
int sl_dissector_hints_port(const sl_dissector *d, uint16_t port);

/* Probe the first bytes of a direction.  Dissectors that hint either port
 * are asked first.  Returns the first that says YES; NULL with *more set
 * when some said MORE and none YES; NULL with *more clear when all said NO. */
const sl_dissector *sl_registry_probe(const sl_registry *r, const uint8_t *buf, size_t len, sl_dir dir,
                                      sl_transport transport, uint16_t port_a, uint16_t port_b, int *more);

/* The first dissector hinting either port, or NULL. */
const sl_dissector *sl_registry_by_port(const sl_registry *r, uint16_t port_a, uint16_t port_b);

#endif
