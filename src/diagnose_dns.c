/* diagnose_dns.c - DNS verdicts: SRV lookups for SIP services. */
#include "diagnose_internal.h"

int sl_dg_rules_dns(sl_dg_ctx *x)
{
    (void)x;
    return 0;
}
