/* sdp.h - the parts of an SDP body (RFC 4566, RFC 3264) a call diagnosis needs:
 * where media goes, what was offered or refused, bandwidth, direction, crypto.
 *
 * Text from the capture is stored as bytes (NUL-terminated, cut to the field
 * size); escape it before showing it on a terminal. */
#ifndef SIPLADDER_SDP_H
#define SIPLADDER_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    SL_SDP_DIR_UNSET = 0, /* no direction attribute at this level */
    SL_SDP_SENDRECV,
    SL_SDP_SENDONLY,
    SL_SDP_RECVONLY,
    SL_SDP_INACTIVE,
} sl_sdp_direction;

/* Caps on what one body may hold; more is counted in n_dropped. */
#define SL_SDP_MAX_MEDIA 32
#define SL_SDP_MAX_FORMATS 64 /* per m= line */

typedef struct sl_sdp_format {
    char fmt[16];   /* the m= line token: "0", "101", "t38", "*" */
    int pt;         /* RTP payload type 0..127, or -1 when fmt is not a number */
    char codec[48]; /* a=rtpmap encoding "PCMU/8000", "telephone-event/8000"; "" if none */
} sl_sdp_format;

typedef struct sl_sdp_media {
    char media[16];   /* "audio", "video", "application", "image" */
    uint32_t port;    /* 0: refused (RFC 3264 6) */
    char proto[32];   /* "RTP/AVP", "RTP/SAVP", "UDP/TLS/RTP/SAVPF", "udptl" */
    sl_sdp_format *formats;
    size_t n_formats;
    char conn_addr[64]; /* media-level c= address; "" when absent */
    int64_t bw_as, bw_tias; /* b=AS (kbit/s), b=TIAS (bit/s); -1: absent */
    sl_sdp_direction direction; /* this m= section's own attribute */
    bool crypto;                /* a=crypto (SDES, RFC 4568) */
    bool fingerprint;           /* a=fingerprint (DTLS-SRTP, RFC 5763) */
} sl_sdp_media;

typedef struct sl_sdp_summary {
    char origin_addr[64]; /* o= address */
    char conn_addr[64];   /* session-level c= address */
    int64_t bw_as, bw_tias;
    sl_sdp_direction direction; /* session-level attribute */
    bool crypto;                /* a=crypto anywhere */
    sl_sdp_media *media;
    size_t n_media;
    uint32_t n_bad_lines; /* lines that are not "x=value" or out of place */
    uint32_t n_dropped;   /* m= lines or formats over the caps */
    void *block_;         /* owned storage behind media/formats */
} sl_sdp_summary;

/* Parse an SDP body of len bytes (need not be NUL-terminated, may hold any
 * byte).  Fills *out, which owns its memory afterwards: release with
 * sl_sdp_summary_free.  Returns 0 (bad lines are counted, not fatal),
 * -SL_EMALFORMED when the body does not start with "v=" (out is then empty
 * but still safe to free), -SL_ENOMEM. */
int sl_sdp_summary_parse(const char *body, size_t len, sl_sdp_summary *out);

/* Frees what *s owns and empties it; NULL-safe, and safe twice. */
void sl_sdp_summary_free(sl_sdp_summary *s);

/* The direction media i actually has: its own attribute, else the session's,
 * else sendrecv (RFC 3264 5.1). */
sl_sdp_direction sl_sdp_media_direction(const sl_sdp_summary *s, size_t i);

/* "sendrecv", "sendonly", "recvonly", "inactive", "" for UNSET. */
const char *sl_sdp_direction_name(sl_sdp_direction d);

#endif
