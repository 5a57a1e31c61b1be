/* time.h - packet timestamps: nanoseconds since the Unix epoch. */
#ifndef SIPLADDER_TIME_H
#define SIPLADDER_TIME_H

#include <stddef.h>
#include <stdint.h>

typedef int64_t sl_time_ns;

#define SL_NS_PER_SEC INT64_C(1000000000)

/* "2024-05-01 12:00:00.123456" in UTC; returns buf. */
const char *sl_time_format(sl_time_ns t, char *buf, size_t len);
/* Seconds as a double, for JSON and arithmetic on durations. */
static inline double sl_time_seconds(sl_time_ns t) { return (double)t / 1e9; }

#endif
