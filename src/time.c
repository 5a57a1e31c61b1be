/* time.c - text form of packet timestamps. */
#include "sipladder/time.h"

#include <stdio.h>
#include <time.h>

const char *sl_time_format(sl_time_ns t, char *buf, size_t len)
{
    int64_t sec = t / SL_NS_PER_SEC, ns = t % SL_NS_PER_SEC;
    if (ns < 0) {
        ns += SL_NS_PER_SEC;
        sec -= 1;
    }
    time_t tt = (time_t)sec;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) {
        snprintf(buf, len, "%lld.%06lld", (long long)sec, (long long)(ns / 1000));
        return buf;
    }
    snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d.%06lld", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, (long long)(ns / 1000));
    return buf;
}
