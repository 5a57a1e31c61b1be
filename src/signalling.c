/* signalling.c - the ports and dissectors of signalling (signalling.h). */
#include "sipladder/signalling.h"

#include <stddef.h>
#include <string.h>

static const uint16_t SIGNALLING_PORTS[] = {5060, 5061, 5062, 5063, 5065, 7001, 7002, 7003,
                                            2776, 2777, 443, 8443, 5222};

bool sl_signalling_port(uint16_t server_port)
{
    for (size_t i = 0; i < sizeof SIGNALLING_PORTS / sizeof SIGNALLING_PORTS[0]; i++)
        if (SIGNALLING_PORTS[i] == server_port)
            return true;
    return false;
}

bool sl_signalling_dissector(const char *name)
{
    return name && (strcmp(name, "sip") == 0 || strcmp(name, "tls") == 0 || strcmp(name, "ws") == 0);
}
