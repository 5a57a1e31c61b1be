/* time.c - packet timestamps: from a capture's fields, and as text. */
#include "sipladder/time.h"

#include <stdio.h>
#include <time.h>

const char *sl_time_format(sl_time_ns t, char *buf, size_t len)
{
    if (t == INT64_MAX || t == INT64_MIN) { /* saturated (sl_time_from_sec_saturated): the date is beyond */
        snprintf(buf, len, "%s", t == INT64_MAX ? "after 2262-04-11" : "before 1677-09-21");
        return buf;
    }
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

sl_time_ns sl_time_from_parts(int64_t sec, int64_t nsec, bool *clamped)
{
    int64_t ns;
    bool out = false;
    if (__builtin_mul_overflow(sec, SL_NS_PER_SEC, &ns) || __builtin_add_overflow(ns, nsec, &ns)) {
        out = true;
        ns = (sec != 0 ? sec : nsec) < 0 ? 0 : SL_TIME_MAX;
    } else if (ns < 0 || ns > SL_TIME_MAX) {
        out = true;
        ns = ns < 0 ? 0 : SL_TIME_MAX;
    }
    if (clamped)
        *clamped = out;
    return ns;
}

sl_time_ns sl_time_from_sec_saturated(int64_t sec)
{
    int64_t ns;
    if (__builtin_mul_overflow(sec, SL_NS_PER_SEC, &ns))
        return sec < 0 ? INT64_MIN : INT64_MAX;
    return ns;
}
