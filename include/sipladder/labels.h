/* labels.h - names users give to addresses (--name 172.16.2.2=Expressway-E,
 * --name [2001:db8::1]:5061=cloud) and their lookup. */
#ifndef SIPLADDER_LABELS_H
#define SIPLADDER_LABELS_H

#include <stddef.h>
#include <stdint.h>

#include "sipladder/addr.h"

typedef struct sl_label {
    sl_addr addr;
    uint16_t port; /* 0: any port */
    char *name;    /* owned */
} sl_label;

typedef struct sl_labels {
    sl_label *list;
    size_t n;
} sl_labels;

/* Parse "ADDR[:PORT]=LABEL" (IPv6 in brackets when a port follows) and add
 * it.  0, -SL_EUSAGE for bad text, -SL_ENOMEM. */
int sl_labels_add(sl_labels *l, const char *spec);
void sl_labels_clear(sl_labels *l);

/* The label for addr:port (a port-specific one wins), or NULL. */
const char *sl_labels_find(const sl_labels *l, const sl_addr *addr, uint16_t port);

#endif
