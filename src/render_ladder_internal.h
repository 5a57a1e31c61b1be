/* render_ladder_internal.h - the events of one ladder (a call, or a
 * connection attached to no call), shared by the text and Mermaid views.
 * Not a public contract: only render_ladder.c and render_mermaid.c. */
#ifndef SIPLADDER_RENDER_LADDER_INTERNAL_H
#define SIPLADDER_RENDER_LADDER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sipladder/addr.h"
#include "sipladder/render.h"
#include "sipladder/sip_record.h"

/* In the order rows of one frame are drawn: the TCP open before what it
 * carries, the close after. */
typedef enum {
    SL_LEV_SYN = 0,
    SL_LEV_SYNACK,
    SL_LEV_TLS,
    SL_LEV_SIP,
    SL_LEV_FIN,
    SL_LEV_RST,
} sl_ladder_kind;

/* How a row is coloured on a terminal. */
typedef enum {
    SL_TONE_PLAIN = 0,
    SL_TONE_REQUEST,
    SL_TONE_PROVISIONAL,
    SL_TONE_SUCCESS,
    SL_TONE_REDIRECT,
    SL_TONE_FAILURE,
    SL_TONE_TCP,
    SL_TONE_TLS,
    SL_TONE_DIM,
    SL_TONE_TITLE,
} sl_ladder_tone;

typedef struct sl_ladder_event {
    sl_ladder_kind kind;
    uint64_t frame;
    sl_time_ns ts;
    size_t seq;                /* insertion order: ties within a frame */
    sl_addr src, dst;
    uint16_t sport, dport;
    size_t from, to;           /* column indices */
    const sl_sip_record *sip;  /* SL_LEV_SIP, borrowed */
    char *label;               /* owned, escaped: valid UTF-8, no control bytes */
    char *brief;               /* owned, escaped, or NULL: the label without "SIP/2.0", for narrow rows */
    sl_ladder_tone tone;
} sl_ladder_event;

typedef struct sl_ladder_column {
    sl_addr addr;
    uint16_t port;  /* 0 when the column is the whole host */
    char *label;    /* owned, escaped: a --name or host label, else the address */
    char *address;  /* owned: "10.0.0.1" or "10.0.0.1:5060" */
} sl_ladder_column;

typedef struct sl_ladder {
    char *title;               /* owned, escaped */
    int call;                  /* index in sl_calls.calls, or -1 */
    sl_ladder_event *ev;
    size_t n_ev, cap_ev;
    sl_ladder_column *col;
    size_t n_col;
    bool by_port;              /* columns are host:port (--ports, or the hosts talk to themselves) */
    uint32_t *conns;           /* model connections drawn (1-based), ascending */
    size_t n_conns;
} sl_ladder;

typedef int (*sl_ladder_draw_fn)(const sl_ladder *l, const sl_report *r, const sl_render_opts *o, void *ctx);

/* Build every ladder the options ask for (--call, or all calls then the
 * orphan connections; without calls, one ladder of the whole capture) and
 * hand each to draw.  0, -1 (memory, or draw's own negative value),
 * -SL_EUSAGE when --call names no call (message on stderr). */
int sl_ladder_each(const sl_report *r, const sl_render_opts *o, sl_ladder_draw_fn draw, void *ctx);

/* Whether diagnosis i of the report belongs to this ladder. */
bool sl_ladder_has_verdict(const sl_report *r, const sl_ladder *l, size_t i);

/* One line for diagnosis i: "tls.alert.unknown_ca: <summary>; rejected by
 * LABEL ADDR:PORT (client); frames 8, 9", escaped; returns buf. */
const char *sl_ladder_verdict_text(const sl_report *r, size_t i, char *buf, size_t len);

/* -v: key headers ("From: ...", "CSeq: ...") and one "SDP: ..." line per
 * media, escaped, as owned lines in an owned array.  0 or -1 (memory). */
int sl_ladder_sip_details(const sl_sip_record *s, char ***lines, size_t *n);

/* Escaped copy of n capture bytes (malloc), or NULL when out of memory. */
char *sl_ladder_escape(const char *s, size_t n);

#endif
