/* save_pcap.h - `sipladder save`: every frame of what a selection shows
 * (select.h), copied from the captures into a pcap file with libpcap.
 *
 * The first pass (the analysis) finds the calls; the selection, applied to
 * each report (streamed batches and the end), hands what it shows to
 * sl_save_learn, which keeps the flows to copy: each TCP connection shown,
 * whole from its SYN to its last FIN/RST (a new SYN after a close starts
 * another connection); each SIP message over UDP and each DNS message
 * shown, by its frames; each UDP flow shown on its own (no --call); and
 * the RTP and RTCP each call shown negotiated in SDP (the c= address and
 * m= port of every offer and answer, and port+1), from the call's first
 * message to its last (to the end of the capture for an answered call
 * whose BYE the capture lacks).  The second pass reads the captures again
 * and copies, in the merged order and with their timestamps (nanoseconds),
 * every frame whose flow, after tunnels, is one of those; the fragments of
 * an IP datagram go with their first fragment's flow. */
#ifndef SIPLADDER_SAVE_PCAP_H
#define SIPLADDER_SAVE_PCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sipladder/render.h"
#include "sipladder/select.h"

typedef struct sl_save sl_save;

sl_save *sl_save_new(void); /* NULL when out of memory */
void sl_save_free(sl_save *s); /* NULL-safe */

/* The sl_select_on_selected hook: ctx is the sl_save.  0 or -SL_ENOMEM. */
int sl_save_learn(void *ctx, const sl_report *selected);

/* What a write did. */
typedef struct sl_save_result {
    uint64_t frames_read, frames_written;
    /* One output file per link type (libpcap writes one link type per
     * file): the first is `out` itself, the others `out` with
     * ".LINKTYPE.pcap" added; names owned by the sl_save. */
    const char *files[8];
    uint64_t frames_in[8];
    size_t n_files;
} sl_save_result;

/* Read the captures again and write the frames learned, or every frame
 * when `everything` (a save with only -f), that pass `filter` (may be
 * NULL) to `out`.  0; -SL_EIO with a message in err (a capture cannot be
 * read, the output cannot be written); -SL_ETRUNC when a capture is cut
 * short (what came before was written); -SL_ENOMEM. */
int sl_save_write(sl_save *s, const char *const *files, size_t n_files, const sl_capture_filter *filter,
                  bool everything, const char *out, sl_save_result *res, char *err, size_t errlen);

#endif
