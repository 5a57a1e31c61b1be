/* pcap_in.h - read one or more capture files with libpcap as one capture,
 * merged by timestamp (a `tcpdump -C` rotation set, or both sides of a hop).
 * Frames are numbered 1..N in the merged order, as Wireshark numbers a file. */
#ifndef SIPLADDER_PCAP_IN_H
#define SIPLADDER_PCAP_IN_H

#include <stddef.h>
#include <stdint.h>

#include "sipladder/time.h"

typedef struct sl_pcap_frame {
    uint64_t frame;      /* 1-based across the merged input */
    sl_time_ns ts;
    int linktype;        /* DLT_* as libpcap reports it */
    uint32_t caplen;     /* bytes in data */
    uint32_t wirelen;    /* bytes on the wire */
    const uint8_t *data; /* borrowed until the next sl_pcap_in_next() */
    size_t file_index;
} sl_pcap_frame;

/* Called for every problem that ends a file early; `msg` names the file and
 * the frame, borrowed for the call. */
typedef void (*sl_pcap_warn_fn)(void *ctx, const char *msg);

typedef struct sl_pcap_in sl_pcap_in;

/* Open every file (all or nothing).  0, or -SL_EIO with a message in err
 * ("FILE: reason"), or -SL_ENOMEM.  The file names are borrowed. */
int sl_pcap_in_open(const char *const *files, size_t n, sl_pcap_warn_fn warn, void *warn_ctx,
                    sl_pcap_in **out, char *err, size_t errlen);
void sl_pcap_in_close(sl_pcap_in *in); /* NULL-safe */

/* One capture held in memory (len bytes, borrowed until the close), named
 * `name` in messages: the fuzz targets read file images this way.  Same
 * results as sl_pcap_in_open on a file with those bytes. */
int sl_pcap_in_open_memory(const uint8_t *data, size_t len, const char *name, sl_pcap_warn_fn warn,
                           void *warn_ctx, sl_pcap_in **out, char *err, size_t errlen);

/* The next frame in timestamp order: 1 and *f filled, or 0 at the end.
 * A file that is cut short or damaged ends there with a warning; the other
 * files go on. */
int sl_pcap_in_next(sl_pcap_in *in, sl_pcap_frame *f);

/* True once any file ended early (cut short or damaged). */
int sl_pcap_in_truncated(const sl_pcap_in *in);

size_t sl_pcap_in_file_count(const sl_pcap_in *in);
int sl_pcap_in_linktype(const sl_pcap_in *in, size_t file_index);
/* Bytes consumed so far and the total size of the files, for progress. */
void sl_pcap_in_progress(const sl_pcap_in *in, uint64_t *done, uint64_t *total);

#endif
