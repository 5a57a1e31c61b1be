/* sink.c - helpers dissectors use to report through their sink. */
#include <stdio.h>

#include "sipladder/dissector.h"

void sl_sink_report(sl_sink *s, const char *dissector, sl_dir dir, size_t start, size_t end, int code,
                    const char *fmt, ...)
{
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    sl_anomaly an = {.code = code, .text = text};
    sl_event ev = {.kind = SL_EV_ANOMALY, .dir = dir, .dissector = dissector, .u.anomaly = &an};
    sl_sink_span(s, start, end, &ev.span);
    sl_sink_emit(s, &ev);
}
