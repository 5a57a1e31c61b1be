/* time.h - packet timestamps: nanoseconds since the Unix epoch. */
#ifndef SIPLADDER_TIME_H
#define SIPLADDER_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int64_t sl_time_ns;

#define SL_NS_PER_SEC INT64_C(1000000000)

/* Capture times are kept in [0, SL_TIME_MAX]: 1970 to 2106-02-07, every
 * second a classic pcap record can hold.  Any two such times subtract, and
 * even add, without overflowing sl_time_ns, so the views and the diagnosis
 * may take differences of capture times freely. */
#define SL_TIME_MAX (INT64_C(4294967296) * SL_NS_PER_SEC - 1)

/* sec seconds + nsec nanoseconds (either may be anything a capture says,
 * nsec beyond a second too) as a capture time: clamped to [0, SL_TIME_MAX],
 * *clamped (when not NULL) set when it had to be. */
sl_time_ns sl_time_from_parts(int64_t sec, int64_t nsec, bool *clamped);
/* Seconds since 1970 as sl_time_ns, saturated at the ends of sl_time_ns
 * (a certificate's notAfter of 9999): for comparisons, not differences. */
sl_time_ns sl_time_from_sec_saturated(int64_t sec);

/* "2024-05-01 12:00:00.123456" in UTC; returns buf. */
const char *sl_time_format(sl_time_ns t, char *buf, size_t len);
/* Seconds as a double, for JSON and arithmetic on durations. */
static inline double sl_time_seconds(sl_time_ns t) { return (double)t / 1e9; }

#endif
