/* sip.h - one SIP message as the SIP dissector emits it (RFC 3261).
 *
 * An SL_EV_SIP event points (u.sip) at a struct sl_sip_msg.  Everything in it
 * is BORROWED for the duration of the emit call: the strings point into the
 * message's own bytes or into libosip2's parse tree, both owned by the
 * dissector.  A consumer that keeps anything copies it (sip_record.h does).
 *
 * Strings are byte runs (sl_sip_str) straight from the capture: not
 * NUL-terminated, possibly containing control bytes or invalid UTF-8; escape
 * them before showing them on a terminal.  p == NULL means "absent", which is
 * different from present-but-empty (p != NULL, n == 0). */
#ifndef SIPLADDER_SIP_H
#define SIPLADDER_SIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sipladder/dissector.h"

typedef struct sl_sip_str {
    const char *p; /* NULL: absent */
    size_t n;
} sl_sip_str;

/* A ";name=value" parameter; value.p is NULL for a bare ";name". */
typedef struct sl_sip_param {
    sl_sip_str name, value;
} sl_sip_param;

/* One header line as it appears in the message, in order.  The value is
 * trimmed; a folded value keeps its raw CRLF+whitespace inside. */
typedef struct sl_sip_header {
    sl_sip_str name, value;
} sl_sip_header;

/* One Via entry (a Via header with several comma-separated entries gives one
 * sl_sip_via per entry, topmost first). */
typedef struct sl_sip_via {
    sl_sip_str transport; /* "UDP", "TCP", "TLS", ... */
    sl_sip_str host, port;
    sl_sip_str branch, received, rport; /* rport.p set and n == 0: bare ";rport" */
    const sl_sip_param *params;         /* every parameter, in order (branch too) */
    size_t n_params;
} sl_sip_via;

/* A name-addr / addr-spec header entry: Contact, Route, Record-Route. */
typedef struct sl_sip_addr {
    sl_sip_str display, uri;
    const sl_sip_param *params; /* header parameters (not URI parameters) */
    size_t n_params;
} sl_sip_addr;

/* Caps on what one message may hold; more is reported as an anomaly. */
#define SL_SIP_MAX_HEADERS 256
#define SL_SIP_MAX_VIAS 32
#define SL_SIP_MAX_ADDRS 32 /* contacts + routes + record-routes */
#define SL_SIP_MAX_PARAMS 512

/* The plain fields of a message.  Shared by the borrowed event (sl_sip_msg)
 * and the owned record (sl_sip_record), so consumers read both alike. */
typedef struct sl_sip_fields {
    bool is_request;
    bool malformed;          /* cut short, a NUL in the headers, no start line, or libosip2
                              * rejected its Request-URI or a Via/From/To/Contact/Route line
                              * and the Call-ID or CSeq is unreadable too */
    const char *malformed_reason; /* static text, NULL unless malformed */
    /* Static text, NULL unless libosip2 rejected a line whose key fields our
     * own scan read instead ("From header rejected by libosip2"): the
     * message is not malformed and joins its call. */
    const char *lenient_reason;

    sl_sip_str first_line;   /* without its line end */
    sl_sip_str method;       /* requests */
    sl_sip_str request_uri;  /* requests */
    int status_code;         /* responses; 0 for requests */
    sl_sip_str reason_phrase; /* responses */

    sl_sip_str call_id;
    bool has_cseq;
    uint32_t cseq;
    sl_sip_str cseq_method;
    sl_sip_str from_display, from_uri, from_tag;
    sl_sip_str to_display, to_uri, to_tag;

    const sl_sip_via *vias;
    size_t n_vias;
    const sl_sip_addr *contacts, *routes, *record_routes;
    size_t n_contacts, n_routes, n_record_routes;

    sl_sip_str session_id_local, session_id_remote; /* Session-ID: local;remote=remote */
    sl_sip_str taatag;                              /* X-TAATag */
    sl_sip_str cisco_guid;                          /* Cisco-Guid */
    sl_sip_str reason_protocol;                     /* Reason: Q.850 ;cause=47;text="..." */
    int reason_cause;                               /* -1: absent */
    sl_sip_str reason_text;
    int warning_code;                               /* Warning: 399 agent "text"; -1: absent */
    sl_sip_str warning_agent, warning_text;
    sl_sip_str supported, require;                  /* first header's raw value */
    sl_sip_str user_agent, server;
    int64_t expires;                                /* Expires header; -1: absent */
    int max_forwards;                               /* -1: absent */
    sl_sip_str content_type;
    int64_t content_length;                         /* as written; -1: absent or not a number */

    /* Register flows (item 4). */
    bool has_www_authenticate, has_proxy_authenticate;
    bool has_authorization, has_proxy_authorization;
    bool mra_ar_sk_offered;  /* x-cisco-mra-ha=AR_SK in a Contact param or Supported */
    bool ar_sk_supported;    /* X-cisco-supports-AR_SK in Supported */

    const sl_sip_header *headers; /* every header line, in order */
    size_t n_headers;

    const uint8_t *body; /* after the blank line; may be NULL when empty */
    size_t body_len;
} sl_sip_fields;

struct osip_message;

/* The event payload of SL_EV_SIP. */
typedef struct sl_sip_msg {
    sl_sip_fields f;
    sl_transport transport;
    bool websocket;                  /* carried in WebSocket frames (RFC 7118) over `transport` */
    const struct osip_message *osip; /* libosip2's tree (partial when read leniently); NULL when malformed */
    const uint8_t *raw;              /* the whole message as framed */
    size_t raw_len;
} sl_sip_msg;

/* The event payload of SL_EV_SIP_KEEPALIVE (RFC 5626 section 4.4.1): a run of
 * CRLFs between messages.  A client ping is CRLFCRLF (crlf_count 2), the
 * server's pong a single CRLF (1).  Bare LFs count as CRLFs. */
typedef struct sl_sip_keepalive {
    uint32_t crlf_count;
} sl_sip_keepalive;

/* The idx-th (0-based) header named `name` (case-insensitive; compact forms
 * match their long names, "i" == "Call-ID").  Returns false when there is
 * none; *out untouched then. */
bool sl_sip_header_get(const sl_sip_fields *f, const char *name, size_t idx, sl_sip_str *out);

/* Whether a comma-separated option-tag list header (Supported, Require) of
 * any occurrence contains `tag` (case-insensitive). */
bool sl_sip_has_option(const sl_sip_fields *f, const char *header, const char *tag);

/* The value of parameter `name` (case-insensitive) in params; false if absent. */
bool sl_sip_param_get(const sl_sip_param *params, size_t n, const char *name, sl_sip_str *out);

/* Case-insensitive equality of a byte run and a C string. */
bool sl_sip_str_eq(sl_sip_str s, const char *c);

/* One whole SIP message from a carrier that frames messages itself (a
 * WebSocket message, RFC 7118 section 5): parsed like a datagram (one
 * message, Content-Length optional) and emitted through `out` as a message
 * over the flow's transport with `websocket` set.  `state` is a state of
 * sl_dissector_sip made for the flow; offsets given to out's span are
 * into buf. */
void sl_sip_dissect_whole(void *state, sl_dir dir, const uint8_t *buf, size_t len, sl_sink *out);

/* The SIP dissector (dissectors/sip.c). */
extern const sl_dissector sl_dissector_sip;

/* SIP over WebSocket (dissectors/ws.c, RFC 7118): claims a TCP flow that
 * opens with a WebSocket upgrade and hands its messages to the above. */
extern const sl_dissector sl_dissector_ws;

#endif
