/* diagnose_sip.c - SIP verdicts, per call, over the correlation (calls.h). */
#include "diagnose_internal.h"

int sl_dg_rules_sip(sl_dg_ctx *x)
{
    (void)x;
    return 0;
}
