/* ws.c - WebSocket (RFC 6455) over TCP, for SIP over WebSocket (RFC 7118).
 *
 * Claimed by its bytes on any port: an HTTP/1.1 GET asking for
 * "Upgrade: websocket".  The handshake is checked (the server's 101 and the
 * subprotocol it chose), then each direction is a run of frames, read with a
 * bounds-checked cursor: FIN, opcode, the client's mask, 7/16/64-bit lengths
 * under --max-sip-message.  A whole text or binary message (fragments
 * reassembled) on a connection whose subprotocol is "sip" goes to the SIP
 * dissector's message parser (sl_sip_dissect_whole) with the frames that
 * carried it, so it lands in the model like SIP over TCP.  Other WebSocket
 * messages are counted as "websocket, not SIP".  A close other than normal
 * (1000, 1001) is reported with its code and reason: 1002 or 1008 is
 * evidence of who refused what.  Compressed messages (permessage-deflate)
 * and WebSocket over TLS (wss, needs decryption) are not decoded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipladder/bytes.h"
#include "sipladder/cursor.h"
#include "sipladder/sip.h"
#include "sipladder/status.h"

#define WS_NAME "ws"
/* An HTTP handshake longer than this is not one we follow. */
#define WS_MAX_HANDSHAKE 8192
/* Control frames carry at most 125 bytes (RFC 6455 5.5). */
#define WS_MAX_CONTROL 125

enum { OP_CONT = 0, OP_TEXT = 1, OP_BINARY = 2, OP_CLOSE = 8, OP_PING = 9, OP_PONG = 10 };

typedef enum { PHASE_HANDSHAKE, PHASE_FRAMES, PHASE_IGNORE } ws_phase;

/* One direction: its phase and the message being reassembled. */
typedef struct ws_side {
    ws_phase phase;
    uint64_t skip;        /* payload bytes of a frame being skipped, still to come */
    sl_bytes msg;         /* the unmasked payload of the message so far */
    bool in_msg;          /* a fragmented message is open */
    bool msg_dropped;     /* over the cap or compressed: dropped at its FIN */
    bool msg_compressed;  /* RSV1 on its first frame with permessage-deflate */
    sl_span msg_span;     /* frames of the message so far */
    bool mask_reported;   /* a mask rule broken (once per direction) */
    bool not_sip_reported;
    bool closed;          /* a close frame was seen */
} ws_side;

typedef struct ws_state {
    const sl_flow_info *flow;
    size_t cap;
    void *sip;            /* the SIP dissector's state for this flow */
    bool offered_sip;     /* the client listed "sip" in Sec-WebSocket-Protocol */
    bool answered;        /* the server's 101 was seen */
    bool is_sip;          /* SIP is carried: offered, and chosen when answered */
    bool deflate;         /* permessage-deflate agreed */
    char proto[32];       /* the subprotocol chosen (or offered first), escaped */
    ws_side side[2];
} ws_state;

/* ---- HTTP handshake ---- */

static int lower(int c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

static bool eq_ci(const uint8_t *p, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    if (n != l)
        return false;
    for (size_t i = 0; i < l; i++)
        if (lower(p[i]) != lower((unsigned char)lit[i]))
            return false;
    return true;
}

static bool prefix_is(const uint8_t *p, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    return n >= l && memcmp(p, lit, l) == 0;
}

/* Offset just past the blank line ending an HTTP header block; 0 when not
 * (yet) found in p[0..n). */
static size_t header_end(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (p[i] != '\n')
            continue;
        if (p[i + 1] == '\n')
            return i + 2;
        if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

static size_t trim_span(const uint8_t *p, size_t *start, size_t end)
{
    while (*start < end && (p[*start] == ' ' || p[*start] == '\t'))
        (*start)++;
    while (end > *start && (p[end - 1] == ' ' || p[end - 1] == '\t' || p[end - 1] == '\r'))
        end--;
    return end - *start;
}

/* The value of header `name` in the block p[0..n) (first occurrence), as
 * an offset and length; false when absent. */
static bool http_header(const uint8_t *p, size_t n, const char *name, size_t *off, size_t *len)
{
    const uint8_t *nl = memchr(p, '\n', n);
    size_t i = nl ? (size_t)(nl - p) + 1 : n;
    while (i < n) {
        nl = memchr(p + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - p) : n;
        const uint8_t *colon = memchr(p + i, ':', end - i);
        if (colon) {
            size_t ns = i, ne = (size_t)(colon - p);
            size_t nn = trim_span(p, &ns, ne);
            if (eq_ci(p + ns, nn, name)) {
                *off = ne + 1;
                *len = trim_span(p, off, end);
                return true;
            }
        }
        i = end + 1;
    }
    return false;
}

/* Whether the comma-separated token list p[0..n) holds `token`. */
static bool list_has(const uint8_t *p, size_t n, const char *token)
{
    size_t i = 0;
    while (i <= n) {
        size_t j = i;
        while (j < n && p[j] != ',')
            j++;
        size_t s = i;
        size_t l = trim_span(p, &s, j);
        if (eq_ci(p + s, l, token))
            return true;
        i = j + 1;
    }
    return false;
}

static bool header_has(const uint8_t *p, size_t n, const char *name, const char *token)
{
    size_t off, len;
    return http_header(p, n, name, &off, &len) && list_has(p + off, len, token);
}

/* Printable ASCII of p[0..n) into a short buffer, others as '?'. */
static void copy_printable(char *dst, size_t cap, const uint8_t *p, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++)
        dst[k++] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
    dst[k] = '\0';
}

/* "GET <target> HTTP/1.1" with Upgrade: websocket. */
static bool is_upgrade_request(const uint8_t *p, size_t n)
{
    const uint8_t *nl = memchr(p, '\n', n);
    size_t l = nl ? (size_t)(nl - p) : n;
    if (l > 0 && p[l - 1] == '\r')
        l--;
    if (!prefix_is(p, l, "GET ") || l < 13 || memcmp(p + l - 9, " HTTP/1.1", 9) != 0)
        return false;
    return header_has(p, n, "upgrade", "websocket");
}

static sl_probe ws_probe(const uint8_t *buf, size_t len, sl_dir dir, sl_transport transport)
{
    (void)dir;
    if (transport != SL_TRANSPORT_TCP)
        return SL_PROBE_NO;
    if (len < 4)
        return memcmp(buf, "GET ", len) == 0 ? SL_PROBE_MORE : SL_PROBE_NO;
    if (!prefix_is(buf, len, "GET "))
        return SL_PROBE_NO;
    size_t end = header_end(buf, len < WS_MAX_HANDSHAKE ? len : WS_MAX_HANDSHAKE);
    if (!end)
        return len < WS_MAX_HANDSHAKE ? SL_PROBE_MORE : SL_PROBE_NO;
    return is_upgrade_request(buf, end) ? SL_PROBE_YES : SL_PROBE_NO;
}

static void handshake_request(ws_state *st, const uint8_t *p, size_t n, sl_sink *out)
{
    ws_side *s = &st->side[SL_DIR_C2S];
    if (!is_upgrade_request(p, n)) {
        sl_sink_report(out, WS_NAME, SL_DIR_C2S, 0, n, -SL_EMALFORMED,
                       "HTTP request is not a WebSocket upgrade (GET ... HTTP/1.1, Upgrade: websocket)");
        st->side[0].phase = st->side[1].phase = PHASE_IGNORE;
        return;
    }
    size_t off, len;
    if (!http_header(p, n, "sec-websocket-key", &off, &len) || len == 0)
        sl_sink_report(out, WS_NAME, SL_DIR_C2S, 0, n, -SL_EMALFORMED,
                       "WebSocket upgrade request without Sec-WebSocket-Key (RFC 6455 4.1)");
    if (!header_has(p, n, "connection", "upgrade"))
        sl_sink_report(out, WS_NAME, SL_DIR_C2S, 0, n, -SL_EMALFORMED,
                       "WebSocket upgrade request without Connection: Upgrade (RFC 6455 4.1)");
    if (http_header(p, n, "sec-websocket-protocol", &off, &len)) {
        st->offered_sip = list_has(p + off, len, "sip");
        if (!st->offered_sip)
            copy_printable(st->proto, sizeof st->proto, p + off, len);
    }
    st->is_sip = st->offered_sip;
    /* The client waits for the 101 before it frames; if the 101 is not in
     * the capture its frames are still read. */
    s->phase = PHASE_FRAMES;
}

static void handshake_response(ws_state *st, const uint8_t *p, size_t n, sl_sink *out)
{
    const uint8_t *nl = memchr(p, '\n', n);
    size_t l = nl ? (size_t)(nl - p) : n;
    if (l > 0 && p[l - 1] == '\r')
        l--;
    char line[96];
    copy_printable(line, sizeof line, p, l);
    if (!prefix_is(p, l, "HTTP/1.1 101") || (l > 12 && p[12] != ' ')) {
        sl_sink_report(out, WS_NAME, SL_DIR_S2C, 0, n, -SL_EMALFORMED,
                       "WebSocket upgrade refused by the server: %s", line);
        st->is_sip = false;
        st->side[0].phase = st->side[1].phase = PHASE_IGNORE;
        return;
    }
    st->answered = true;
    st->side[SL_DIR_S2C].phase = PHASE_FRAMES;
    if (!header_has(p, n, "upgrade", "websocket") || !header_has(p, n, "connection", "upgrade"))
        sl_sink_report(out, WS_NAME, SL_DIR_S2C, 0, n, -SL_EMALFORMED,
                       "WebSocket 101 without Upgrade: websocket and Connection: Upgrade (RFC 6455 4.2.2)");
    size_t off, len;
    if (!http_header(p, n, "sec-websocket-accept", &off, &len) || len == 0)
        sl_sink_report(out, WS_NAME, SL_DIR_S2C, 0, n, -SL_EMALFORMED,
                       "WebSocket 101 without Sec-WebSocket-Accept (RFC 6455 4.2.2)");
    st->deflate = header_has(p, n, "sec-websocket-extensions", "permessage-deflate") ||
                  (http_header(p, n, "sec-websocket-extensions", &off, &len) &&
                   len >= 18 && eq_ci(p + off, 18, "permessage-deflate"));
    bool chose = http_header(p, n, "sec-websocket-protocol", &off, &len);
    st->is_sip = chose && eq_ci(p + off, len, "sip");
    st->proto[0] = '\0';
    if (chose && !st->is_sip)
        copy_printable(st->proto, sizeof st->proto, p + off, len);
    if (st->offered_sip && !chose)
        sl_sink_report(out, WS_NAME, SL_DIR_S2C, 0, n, -SL_EMALFORMED,
                       "WebSocket 101 chose no subprotocol although the client offered sip (RFC 7118 4)");
}

/* Read the handshake of `dir` at the start of buf; returns bytes used. */
static size_t handshake(ws_state *st, sl_dir dir, const uint8_t *buf, size_t len, sl_sink *out)
{
    size_t end = header_end(buf, len < WS_MAX_HANDSHAKE ? len : WS_MAX_HANDSHAKE);
    if (!end) {
        if (len < WS_MAX_HANDSHAKE)
            return 0;
        sl_sink_report(out, WS_NAME, dir, 0, len, -SL_ELIMIT,
                       "WebSocket handshake longer than %d bytes: not followed", WS_MAX_HANDSHAKE);
        st->side[dir].phase = PHASE_IGNORE;
        return len;
    }
    if (dir == SL_DIR_C2S)
        handshake_request(st, buf, end, out);
    else
        handshake_response(st, buf, end, out);
    return end;
}

/* ---- frames ---- */

/* A sink that gives every span the frames of the message being handed
 * over: the SIP parser's offsets are into the reassembled payload. */
typedef struct ws_wrap {
    sl_sink *real;
    sl_span span;
} ws_wrap;

static void wrap_emit(void *ctx, const sl_event *ev)
{
    ws_wrap *w = ctx;
    sl_sink_emit(w->real, ev);
}

static void wrap_span(void *ctx, size_t start, size_t end, sl_span *out)
{
    (void)start;
    (void)end;
    *out = ((const ws_wrap *)ctx)->span;
}

static const sl_sink_ops wrap_ops = {wrap_emit, wrap_span};

static const char *dir_name(sl_dir dir) { return dir == SL_DIR_C2S ? "client" : "server"; }

/* A whole message: to SIP, or counted as not SIP. */
static void deliver(ws_state *st, sl_dir dir, ws_side *s, size_t start, size_t end, sl_sink *out)
{
    if (s->msg_compressed) {
        sl_sink_report(out, WS_NAME, dir, start, end, -SL_ELIMIT,
                       "compressed WebSocket message (permessage-deflate) from the %s not decoded", dir_name(dir));
        return;
    }
    if (!st->is_sip) {
        if (!s->not_sip_reported)
            sl_sink_report(out, WS_NAME, dir, start, end, -SL_ELIMIT,
                           "websocket, not SIP (subprotocol %s%s%s): messages from the %s not decoded",
                           st->proto[0] ? "'" : "", st->proto[0] ? st->proto : "none", st->proto[0] ? "'" : "",
                           dir_name(dir));
        s->not_sip_reported = true;
        return;
    }
    if (s->msg.len == 0)
        return;
    ws_wrap w = {.real = out, .span = s->msg_span};
    sl_sink wrapped = {.ops = &wrap_ops, .ctx = &w};
    sl_sip_dissect_whole(st->sip, dir, s->msg.p, s->msg.len, &wrapped);
}

static const char *close_meaning(unsigned code)
{
    switch (code) {
    case 1000: return "normal closure";
    case 1001: return "going away";
    case 1002: return "protocol error";
    case 1003: return "unsupported data";
    case 1007: return "invalid payload data";
    case 1008: return "policy violation";
    case 1009: return "message too big";
    case 1010: return "mandatory extension";
    case 1011: return "internal error";
    default: return "other";
    }
}

/* A close frame's status code and reason (payload already unmasked). */
static void on_close(sl_dir dir, const uint8_t *p, size_t n, size_t start, size_t end, sl_sink *out)
{
    if (n == 1) {
        sl_sink_report(out, WS_NAME, dir, start, end, -SL_EMALFORMED,
                       "WebSocket close frame from the %s with a 1-byte payload (RFC 6455 5.5.1)", dir_name(dir));
        return;
    }
    if (n == 0)
        return; /* no status: a normal close */
    unsigned code = (unsigned)p[0] << 8 | p[1];
    if (code == 1000 || code == 1001)
        return;
    char reason[WS_MAX_CONTROL + 1];
    copy_printable(reason, sizeof reason, p + 2, n - 2);
    sl_sink_report(out, WS_NAME, dir, start, end, -SL_EMALFORMED, "WebSocket closed by the %s: %u (%s)%s%s%s",
                   dir_name(dir), code, close_meaning(code), reason[0] ? " \"" : "", reason, reason[0] ? "\"" : "");
}

static void drop_message(ws_side *s)
{
    s->in_msg = s->msg_dropped = s->msg_compressed = false;
    s->msg.len = 0;
}

/* One frame whose header and payload are all in buf[pos..pos+total). */
static void on_frame(ws_state *st, sl_dir dir, const uint8_t *buf, size_t pos, size_t total, size_t hdr,
                     uint8_t b0, const uint8_t *key, sl_sink *out)
{
    ws_side *s = &st->side[dir];
    uint8_t op = b0 & 0x0f;
    bool fin = b0 & 0x80;
    const uint8_t *payload = buf + pos + hdr;
    size_t plen = total - hdr;
    sl_span fs;
    sl_sink_span(out, pos, pos + total, &fs);
    if (op >= OP_CLOSE) {
        uint8_t ctl[WS_MAX_CONTROL];
        for (size_t i = 0; i < plen; i++)
            ctl[i] = key ? payload[i] ^ key[i & 3] : payload[i];
        if (op == OP_CLOSE) {
            on_close(dir, ctl, plen, pos, pos + total, out);
            s->closed = true;
        }
        return;
    }
    if (op == OP_CONT && !s->in_msg) {
        sl_sink_report(out, WS_NAME, dir, pos, pos + total, -SL_EMALFORMED,
                       "WebSocket continuation frame without a message begun: skipped");
        return;
    }
    if (op != OP_CONT) {
        if (s->in_msg)
            sl_sink_report(out, WS_NAME, dir, pos, pos + total, -SL_EMALFORMED,
                           "WebSocket message begun in frame %llu left unfinished: a new message began",
                           (unsigned long long)s->msg_span.first_frame);
        drop_message(s);
        s->in_msg = true;
        s->msg_span = fs;
        s->msg_compressed = st->deflate && (b0 & 0x40);
    }
    s->msg_span.last_frame = fs.last_frame;
    s->msg_span.last_ts = fs.last_ts;
    if (!s->msg_dropped && !s->msg_compressed && plen > st->cap - s->msg.len) {
        sl_sink_report(out, WS_NAME, dir, pos, pos + total, -SL_ELIMIT,
                       "WebSocket message from frame %llu longer than the cap (%zu bytes): skipped",
                       (unsigned long long)s->msg_span.first_frame, st->cap);
        s->msg_dropped = true;
    }
    if (!s->msg_dropped && !s->msg_compressed && plen > 0) {
        size_t at = s->msg.len;
        if (!sl_bytes_append(&s->msg, payload, plen, 1024)) {
            sl_sink_report(out, WS_NAME, dir, pos, pos + total, -SL_ENOMEM,
                           "out of memory reassembling a WebSocket message: skipped");
            s->msg_dropped = true;
        } else if (key) {
            for (size_t i = 0; i < plen; i++)
                s->msg.p[at + i] ^= key[i & 3];
        }
    }
    if (!fin)
        return;
    if (!s->msg_dropped)
        deliver(st, dir, s, pos, pos + total, out);
    drop_message(s);
}

/* Why a frame header is refused, or NULL.  *skip says its payload can be
 * skipped (the stream stays in step); else the direction is lost. */
static const char *frame_header_problem(const ws_state *st, uint8_t b0, uint64_t plen, bool *skip)
{
    uint8_t op = b0 & 0x0f;
    *skip = true;
    if (plen >> 63) {
        *skip = false;
        return "64-bit length with its most significant bit set (RFC 6455 5.2)";
    }
    if ((op > OP_BINARY && op < OP_CLOSE) || op > OP_PONG)
        return "reserved opcode";
    if ((b0 & 0x30) || ((b0 & 0x40) && !st->deflate))
        return "reserved bits set without an extension agreed";
    if (op >= OP_CLOSE && (!(b0 & 0x80) || plen > WS_MAX_CONTROL))
        return "control frame fragmented or longer than 125 bytes (RFC 6455 5.5)";
    return NULL;
}

/* Frames of `dir` from buf[pos]; returns the new pos (whole frames only). */
static size_t frames(ws_state *st, sl_dir dir, const uint8_t *buf, size_t pos, size_t len, sl_sink *out)
{
    ws_side *s = &st->side[dir];
    while (pos < len) {
        if (s->skip) {
            size_t n = len - pos < s->skip ? len - pos : (size_t)s->skip;
            s->skip -= n;
            pos += n;
            continue;
        }
        if (s->closed) {
            sl_sink_report(out, WS_NAME, dir, pos, len, -SL_EMALFORMED,
                           "%zu bytes from the %s after its WebSocket close frame: skipped", len - pos,
                           dir_name(dir));
            s->phase = PHASE_IGNORE;
            return len;
        }
        sl_cursor c;
        sl_cursor_init(&c, buf + pos, len - pos);
        uint8_t b0 = sl_cursor_u8(&c), b1 = sl_cursor_u8(&c);
        uint64_t plen = b1 & 0x7f;
        if (plen == 126)
            plen = sl_cursor_u16be(&c);
        else if (plen == 127) {
            uint64_t hi = sl_cursor_u32be(&c);
            plen = hi << 32 | sl_cursor_u32be(&c);
        }
        const uint8_t *key = (b1 & 0x80) ? sl_cursor_bytes(&c, 4) : NULL;
        if (!sl_cursor_ok(&c))
            return pos; /* the header is still arriving */
        size_t hdr = c.pos;
        bool skippable;
        const char *why = frame_header_problem(st, b0, plen, &skippable);
        if (!why && (bool)key != (dir == SL_DIR_C2S) && !s->mask_reported) {
            s->mask_reported = true;
            sl_sink_report(out, WS_NAME, dir, pos, pos + hdr, -SL_EMALFORMED,
                           "WebSocket frame from the %s %s (RFC 6455 5.1): decoded anyway", dir_name(dir),
                           key ? "masked" : "not masked");
        }
        if (!why && plen > st->cap) {
            sl_sink_report(out, WS_NAME, dir, pos, pos + hdr, -SL_ELIMIT,
                           "WebSocket frame of %llu bytes longer than the cap (%zu bytes): skipped",
                           (unsigned long long)plen, st->cap);
            if (!(b0 & 0x80))
                s->msg_dropped = s->in_msg = true;
            else
                drop_message(s);
            s->skip = plen;
            pos += hdr;
            continue;
        }
        if (why) {
            sl_sink_report(out, WS_NAME, dir, pos, pos + hdr, -SL_EMALFORMED, "malformed WebSocket frame: %s%s", why,
                           skippable ? ": skipped" : ": the rest of this direction is not decoded");
            if (!skippable) {
                s->phase = PHASE_IGNORE;
                drop_message(s);
                return len;
            }
            s->skip = plen;
            pos += hdr;
            continue;
        }
        if (plen > len - pos - hdr)
            return pos; /* the payload is still arriving */
        on_frame(st, dir, buf, pos, hdr + (size_t)plen, hdr, b0, key, out);
        pos += hdr + (size_t)plen;
    }
    return pos;
}

/* ---- the dissector ---- */

static void *ws_state_new(const sl_flow_info *flow, const sl_config *cfg, void *shared)
{
    ws_state *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->flow = flow;
    st->cap = cfg && cfg->limits.max_sip_message ? cfg->limits.max_sip_message : 64u * 1024;
    st->sip = sl_dissector_sip.state_new(flow, cfg, shared);
    if (!st->sip) {
        free(st);
        return NULL;
    }
    return st;
}

static int ws_feed(void *state, sl_dir dir, const uint8_t *buf, size_t len, size_t *used, sl_sink *out)
{
    ws_state *st = state;
    ws_side *s = &st->side[dir];
    size_t pos = 0;
    if (s->phase == PHASE_HANDSHAKE)
        pos = handshake(st, dir, buf, len, out);
    if (s->phase == PHASE_FRAMES)
        pos = frames(st, dir, buf, pos, len, out);
    else if (s->phase == PHASE_IGNORE)
        pos = len;
    *used = pos;
    return 0;
}

static void ws_gap(void *state, sl_dir dir, uint64_t missing)
{
    /* Frames cannot be found again in the middle of a stream: the
     * direction is not decoded past a gap. */
    ws_state *st = state;
    (void)missing;
    drop_message(&st->side[dir]);
    st->side[dir].phase = PHASE_IGNORE;
}

static void ws_state_free(void *state)
{
    ws_state *st = state;
    if (!st)
        return;
    sl_dissector_sip.state_free(st->sip);
    sl_bytes_free(&st->side[0].msg);
    sl_bytes_free(&st->side[1].msg);
    free(st);
}

/* The messages go to the SIP parser: its shared context is ours. */
static void *ws_shared_new(const sl_config *cfg) { return sl_dissector_sip.shared_new(cfg); }

static void ws_shared_free(void *shared) { sl_dissector_sip.shared_free(shared); }

const sl_dissector sl_dissector_ws = {
    .name = WS_NAME,
    .hint_ports = NULL, /* any port: HTTP on 80 is not claimed for its port */
    .n_hint_ports = 0,
    .probe = ws_probe,
    .state_new = ws_state_new,
    .shared_new = ws_shared_new,
    .shared_free = ws_shared_free,
    .feed = ws_feed,
    .gap = ws_gap,
    .state_free = ws_state_free,
};
