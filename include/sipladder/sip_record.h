/* sip_record.h - an owned, compact copy of what later stages keep of one SIP
 * message: every plain field of sl_sip_fields (all header names and values,
 * Vias and addresses with their parameters), where and when it was seen, and
 * the SDP summary of its body.  Made from an SL_EV_SIP event, which is only
 * borrowed; the record owns its bytes (one allocation: one copy of the
 * message, the fields pointing into it; sl_sip_str runs are not
 * NUL-terminated) and outlives the event. */
#ifndef SIPLADDER_SIP_RECORD_H
#define SIPLADDER_SIP_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include "sipladder/dissector.h"
#include "sipladder/sdp.h"
#include "sipladder/sip.h"

typedef struct sl_sip_record {
    sl_sip_fields f; /* every string and array points into this record */
    sl_transport transport;
    bool websocket; /* carried in WebSocket frames (RFC 7118) over TCP */
    sl_dir dir;
    sl_span span; /* frames that carried the message */
    sl_addr src, dst;
    uint16_t sport, dport;
    uint32_t conn_index;
    bool has_sdp;  /* body parsed as SDP (application/sdp, or starts "v=") */
    sl_sdp_summary sdp;
    size_t raw_len; /* bytes of the message on the wire */
    size_t mem_bytes; /* what the record holds in memory, SDP summary included */
    /* Read from an Expressway diagnostic log (exp_log.h): the log's name and
     * host (borrowed from the log, which outlives the model) and the line of
     * its SIPMSG block; NULL/0 otherwise.  With frames as well (span), the
     * same message was read from both: one message, not two. */
    const char *log_file, *log_host;
    uint32_t log_line;
} sl_sip_record;

/* A record of message m (borrowed) seen in frames `span` on `flow` in
 * direction `dir` (all borrowed).  NULL when out of memory. */
sl_sip_record *sl_sip_record_new(const struct sl_sip_msg *m, const sl_span *span, const sl_flow_info *flow,
                                 sl_dir dir);
void sl_sip_record_free(sl_sip_record *r); /* NULL-safe */

/* One line like `tshark -Y sip`:
 *   "  12 2024-05-01 12:00:00.123456 192.0.2.1:5060 -> 192.0.2.2:5060 UDP
 *    INVITE sip:bob@example.com SIP/2.0 | Call-ID: abc@h | CSeq: 1 INVITE"
 * (one line, no newline).  Bytes from the capture are escaped: control
 * characters, ESC, DEL and invalid UTF-8 become \xNN.  Writes at most len
 * bytes with a NUL (when len > 0); returns the length the whole line needs,
 * like snprintf. */
size_t sl_sip_record_format_line(const sl_sip_record *r, char *buf, size_t len);

/* The same with the time relative to `base` ("12.345678") instead of absolute. */
size_t sl_sip_record_format_line_rel(const sl_sip_record *r, sl_time_ns base, char *buf, size_t len);

#endif
