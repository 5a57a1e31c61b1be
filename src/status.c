/* status.c - text for the SL_E* codes. */
#include "sipladder/status.h"

const char *sl_strerror(int code)
{
    switch (code < 0 ? -code : code) {
    case SL_OK: return "success";
    case SL_ETRUNC: return "truncated";
    case SL_EMALFORMED: return "malformed";
    case SL_ENOMEM: return "out of memory";
    case SL_ELIMIT: return "limit reached";
    case SL_EIO: return "input/output error";
    case SL_EUSAGE: return "invalid usage";
    default: return "unknown error";
    }
}
