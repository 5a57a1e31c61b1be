/* labels.c - user-given names for addresses. */
#include "sipladder/labels.h"

#include <stdlib.h>
#include <string.h>

#include "sipladder/status.h"

static int parse_port(const char *s, uint16_t *port)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 1 || v > 65535)
        return -SL_EUSAGE;
    *port = (uint16_t)v;
    return 0;
}

/* Split "ADDR[:PORT]" into address and port. */
static int parse_endpoint(char *text, sl_addr *addr, uint16_t *port)
{
    *port = 0;
    char *colon = strrchr(text, ':');
    if (text[0] == '[') {
        char *close = strchr(text, ']');
        if (!close)
            return -SL_EUSAGE;
        if (close[1] == ':') {
            if (parse_port(close + 2, port) < 0)
                return -SL_EUSAGE;
        } else if (close[1] != '\0') {
            return -SL_EUSAGE;
        }
        close[1] = '\0';
    } else if (colon && strchr(text, ':') == colon) { /* one colon: IPv4 with a port */
        if (parse_port(colon + 1, port) < 0)
            return -SL_EUSAGE;
        *colon = '\0';
    }
    return sl_addr_parse(text, addr);
}

int sl_labels_add(sl_labels *l, const char *spec)
{
    const char *eq = strrchr(spec, '=');
    if (!eq || eq == spec || eq[1] == '\0')
        return -SL_EUSAGE;
    char endpoint[128];
    size_t n = (size_t)(eq - spec);
    if (n >= sizeof endpoint)
        return -SL_EUSAGE;
    memcpy(endpoint, spec, n);
    endpoint[n] = '\0';
    sl_label lab = {0};
    if (parse_endpoint(endpoint, &lab.addr, &lab.port) < 0)
        return -SL_EUSAGE;
    sl_label *list = realloc(l->list, (l->n + 1) * sizeof *list);
    if (!list)
        return -SL_ENOMEM;
    l->list = list;
    if (!(lab.name = strdup(eq + 1)))
        return -SL_ENOMEM;
    l->list[l->n++] = lab;
    return 0;
}

void sl_labels_clear(sl_labels *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->list[i].name);
    free(l->list);
    l->list = NULL;
    l->n = 0;
}

const char *sl_labels_find(const sl_labels *l, const sl_addr *addr, uint16_t port)
{
    const char *any = NULL;
    for (size_t i = 0; i < l->n; i++) {
        if (!sl_addr_equal(&l->list[i].addr, addr))
            continue;
        if (l->list[i].port == port)
            return l->list[i].name;
        if (l->list[i].port == 0 && !any)
            any = l->list[i].name;
    }
    return any;
}
