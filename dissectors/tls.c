/* tls.c - TLS record layer and handshake dissector (RFC 5246, RFC 8446; SSL 3.0
 * to TLS 1.3 record versions, SSLv2-compatible ClientHello per RFC 5246 E.2).
 *
 * Per direction: whole records are consumed, the tail is left to the core.
 * Handshake messages are reassembled across records (bounded by
 * limits.max_tls_handshake).  After ChangeCipherSpec in a direction (TLS <= 1.2)
 * everything is encrypted; after a TLS 1.3 ServerHello everything but CCS is.
 *
 * Resynchronisation: a record header that cannot be TLS (bad type, version or
 * a length > 2^14 + 2048) is reported once and the direction is treated as
 * lost until the core reports a gap.  Scanning for the next plausible header
 * inside ciphertext would invent records, so we do not. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>

#include "sipladder/bytes.h"
#include "sipladder/cursor.h"
#include "sipladder/status.h"
#include "sipladder/tls.h"

#define TLS_MAX_RECORD (16384u + 2048u) /* RFC 5246 6.2.3: ciphertext bound */
#define TLS_MAX_CA_NAMES 64
#define TLS_MAX_TEXT 256
/* Certificate cache (per analysis, shared by every TLS flow): a capture
 * repeats the same few chains in every handshake, and OpenSSL's decoding
 * (public key above all) costs far more than a lookup.  Each entry is one
 * reference to a shared parse, which every session that saw the certificate
 * also holds: a certificate sent N times is parsed and held once.  64 entries
 * of at most 16 KB of DER each: the cache alone keeps at most about 1 MB with
 * the parsed texts, whatever the capture holds; least recently used entry
 * released (sessions holding it keep it). */
#define TLS_CERT_CACHE_SLOTS 64
#define TLS_CERT_CACHE_MAX_DER 16384

static const char TLS_NAME[] = "tls";

/* RFC 8446 4.1.3: the random of a HelloRetryRequest. */
static const uint8_t HRR_RANDOM[32] = {0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C,
                                       0x02, 0x1E, 0x65, 0xB8, 0x91, 0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB,
                                       0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};

typedef struct tls_dir {
    bool encrypted;     /* ChangeCipherSpec seen (TLS <= 1.2) */
    bool lost;          /* malformed record layer: ignore until a gap */
    bool started;       /* a record was seen (SSLv2 hello only as the first) */
    sl_bytes hs;        /* partial handshake message(s) */
    uint64_t hs_skip;   /* bytes of an over-cap message still to skip */
    sl_span hs_first;   /* span of the record where hs[0] arrived */
} tls_dir;

/* Scratch for one message's borrowed texts, kept in the state so the stack
 * stays small. */
typedef struct tls_scratch {
    char sni[TLS_MAX_TEXT];
    char alpn[SL_TLS_MAX_LIST][TLS_MAX_TEXT];
    const char *alpn_ptrs[SL_TLS_MAX_LIST];
    char cipher[16];
} tls_scratch;

/* One cached certificate: a reference to its shared parse (which holds the
 * DER and its SHA-256, info->sha256_hex, the entry's identity) and a quick
 * hash of the DER to find it: a hit is a byte-for-byte equal DER, so the
 * same SHA-256 without computing one per certificate sent. */
typedef struct cert_slot {
    uint64_t hash; /* FNV-1a of the DER */
    uint64_t used; /* tick of the last use; 0: empty */
    const sl_cert_info *info; /* one reference; NULL when empty */
} cert_slot;

typedef struct tls_shared {
    cert_slot slot[TLS_CERT_CACHE_SLOTS];
    uint64_t tick;
    tls_scratch scratch; /* one analysis is single-threaded */
} tls_shared;

typedef struct tls_state {
    const sl_flow_info *flow;
    const sl_config *cfg;
    tls_shared *shared; /* NULL: no cache, every certificate parsed */
    tls_dir d[2];
    uint16_t version;   /* negotiated, 0 before ServerHello */
    bool tls13;
    bool hrr;
    tls_scratch *scratch; /* used within one feed call: the analysis's (shared) or own */
    bool own_scratch;
    /* Application data of the current feed call, emitted as one event. */
    sl_tls_app_data app;
    size_t app_start, app_end;
} tls_state;

/* Everything one feed call needs to emit. */
typedef struct tls_ctx {
    tls_state *st;
    sl_dir dir;
    sl_sink *out;
} tls_ctx;

/* ------------------------------------------------------------------ names */

typedef struct num_name {
    unsigned num;
    const char *name;
} num_name;

static const num_name ALERTS[] = {
    {0, "close_notify"}, {10, "unexpected_message"}, {20, "bad_record_mac"}, {21, "decryption_failed"},
    {22, "record_overflow"}, {30, "decompression_failure"}, {40, "handshake_failure"},
    {41, "no_certificate"}, {42, "bad_certificate"}, {43, "unsupported_certificate"},
    {44, "certificate_revoked"}, {45, "certificate_expired"}, {46, "certificate_unknown"},
    {47, "illegal_parameter"}, {48, "unknown_ca"}, {49, "access_denied"}, {50, "decode_error"},
    {51, "decrypt_error"}, {60, "export_restriction"}, {70, "protocol_version"},
    {71, "insufficient_security"}, {80, "internal_error"}, {86, "inappropriate_fallback"},
    {90, "user_canceled"}, {100, "no_renegotiation"}, {109, "missing_extension"},
    {110, "unsupported_extension"}, {111, "certificate_unobtainable"}, {112, "unrecognized_name"},
    {113, "bad_certificate_status_response"}, {114, "bad_certificate_hash_value"},
    {115, "unknown_psk_identity"}, {116, "certificate_required"}, {120, "no_application_protocol"},
};

/* IANA TLS Cipher Suites registry: TLS 1.3, and the RSA/ECDHE/DHE AES, CHACHA
 * and legacy suites seen on SIP trunks and in the test corpus. */
static const num_name CIPHERS[] = {
    {0x0000, "TLS_NULL_WITH_NULL_NULL"},
    {0x0004, "TLS_RSA_WITH_RC4_128_MD5"},
    {0x0005, "TLS_RSA_WITH_RC4_128_SHA"},
    {0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"},
    {0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA"},
    {0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA"},
    {0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"},
    {0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"},
    {0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"},
    {0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256"},
    {0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256"},
    {0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256"},
    {0x006B, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256"},
    {0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256"},
    {0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384"},
    {0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"},
    {0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"},
    {0x00FF, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"},
    {0x1301, "TLS_AES_128_GCM_SHA256"},
    {0x1302, "TLS_AES_256_GCM_SHA384"},
    {0x1303, "TLS_CHACHA20_POLY1305_SHA256"},
    {0x1304, "TLS_AES_128_CCM_SHA256"},
    {0x1305, "TLS_AES_128_CCM_8_SHA256"},
    {0x5600, "TLS_FALLBACK_SCSV"},
    {0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"},
    {0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"},
    {0xC011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA"},
    {0xC012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"},
    {0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"},
    {0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"},
    {0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"},
    {0xC024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"},
    {0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"},
    {0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"},
    {0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
    {0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
    {0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
    {0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
    {0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
    {0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
    {0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
};

static const num_name VERSIONS[] = {
    {0x0002, "SSL 2.0"}, {0x0300, "SSL 3.0"}, {0x0301, "TLS 1.0"},
    {0x0302, "TLS 1.1"}, {0x0303, "TLS 1.2"}, {0x0304, "TLS 1.3"},
};

static const num_name HANDSHAKES[] = {
    {0, "HelloRequest"}, {1, "ClientHello"}, {2, "ServerHello"}, {4, "NewSessionTicket"},
    {5, "EndOfEarlyData"}, {8, "EncryptedExtensions"}, {11, "Certificate"},
    {12, "ServerKeyExchange"}, {13, "CertificateRequest"}, {14, "ServerHelloDone"},
    {15, "CertificateVerify"}, {16, "ClientKeyExchange"}, {20, "Finished"},
    {22, "CertificateStatus"}, {24, "KeyUpdate"}, {254, "MessageHash"},
};

static const char *lookup(const num_name *t, size_t n, unsigned num)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].num == num)
            return t[i].name;
    return NULL;
}

#define LOOKUP(t, num) lookup((t), sizeof(t) / sizeof((t)[0]), (num))

const char *sl_tls_alert_name(uint8_t description) { return LOOKUP(ALERTS, description); }
const char *sl_tls_cipher_name(uint16_t suite) { return LOOKUP(CIPHERS, suite); }
const char *sl_tls_version_name(uint16_t version) { return LOOKUP(VERSIONS, version); }
const char *sl_tls_handshake_name(uint8_t type) { return LOOKUP(HANDSHAKES, type); }

/* RFC 6960 4.2.1 OCSPResponseStatus and CertStatus. */
static const num_name OCSP_STATUSES[] = {
    {0, "successful"}, {1, "malformedRequest"}, {2, "internalError"},
    {3, "tryLater"},   {5, "sigRequired"},      {6, "unauthorized"},
};
static const num_name CERT_STATUSES[] = {{0, "good"}, {1, "revoked"}, {2, "unknown"}};

const char *sl_tls_ocsp_status_name(int response_status)
{
    return response_status < 0 ? NULL : LOOKUP(OCSP_STATUSES, (unsigned)response_status);
}

const char *sl_tls_cert_status_name(int cert_status)
{
    return cert_status < 0 ? NULL : LOOKUP(CERT_STATUSES, (unsigned)cert_status);
}

const char *sl_tls_cipher_text(uint16_t suite, char *buf, size_t len)
{
    const char *n = sl_tls_cipher_name(suite);
    if (n)
        return n;
    snprintf(buf, len, "0x%04X", suite);
    return buf;
}

const char *sl_tls_version_text(uint16_t version, char *buf, size_t len)
{
    const char *n = sl_tls_version_name(version);
    if (n)
        return n;
    if ((version & 0xff00) == 0x7f00)
        snprintf(buf, len, "TLS 1.3 draft %u", version & 0xffu);
    else
        snprintf(buf, len, "0x%04X", version);
    return buf;
}

/* ------------------------------------------------------------------ probe */

static bool plausible_header(uint8_t type, uint16_t version, uint16_t length)
{
    return type >= SL_TLS_CT_CHANGE_CIPHER_SPEC && type <= SL_TLS_CT_HEARTBEAT && version >= 0x0300 &&
           version <= 0x0304 && length <= TLS_MAX_RECORD;
}

/* RFC 5246 E.2: msg_length(15 bits) msg_type(1) version(2) cipher_spec_length(2)
 * session_id_length(2) challenge_length(2). */
static bool plausible_sslv2_hello(const uint8_t *b, size_t len)
{
    sl_cursor c;
    sl_cursor_init(&c, b, len);
    uint16_t head = sl_cursor_u16be(&c);
    uint8_t type = sl_cursor_u8(&c);
    uint16_t version = sl_cursor_u16be(&c);
    size_t mlen = head & 0x7fffu;
    return sl_cursor_ok(&c) && (head & 0x8000u) && type == 1 &&
           (version == 0x0002 || (version >= 0x0300 && version <= 0x0303)) && mlen >= 9;
}

/* Decide on the bytes so far: every byte present must fit a record header
 * (type 20-24, major 3, minor 0-4, length <= 2^14 + 2048). */
static sl_probe tls_probe(const uint8_t *buf, size_t len, sl_dir dir, sl_transport transport)
{
    (void)dir;
    if (transport != SL_TRANSPORT_TCP)
        return SL_PROBE_NO;
    sl_cursor c;
    sl_cursor_init(&c, buf, len);
    uint8_t b0 = 0, b1 = 0, b2 = 0;
    if (!sl_cursor_peek_u8(&c, 0, &b0))
        return SL_PROBE_MORE;
    if (b0 & 0x80) {
        if (len < 5)
            return SL_PROBE_MORE;
        return plausible_sslv2_hello(buf, len) ? SL_PROBE_YES : SL_PROBE_NO;
    }
    if (b0 < SL_TLS_CT_CHANGE_CIPHER_SPEC || b0 > SL_TLS_CT_HEARTBEAT)
        return SL_PROBE_NO;
    if (sl_cursor_peek_u8(&c, 1, &b1) && b1 != 3)
        return SL_PROBE_NO;
    if (sl_cursor_peek_u8(&c, 2, &b2) && b2 > 4)
        return SL_PROBE_NO;
    if (len < 5)
        return SL_PROBE_MORE;
    sl_cursor_skip(&c, 3);
    return sl_cursor_u16be(&c) <= TLS_MAX_RECORD ? SL_PROBE_YES : SL_PROBE_NO;
}

/* ------------------------------------------------------------------ state */

static void *tls_state_new(const sl_flow_info *flow, const sl_config *cfg, void *shared)
{
    tls_state *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->flow = flow;
    st->cfg = cfg;
    st->shared = shared;
    if (st->shared) {
        st->scratch = &st->shared->scratch;
    } else {
        st->scratch = calloc(1, sizeof *st->scratch);
        st->own_scratch = true;
        if (!st->scratch) {
            free(st);
            return NULL;
        }
    }
    return st;
}

static void *tls_shared_new(const sl_config *cfg)
{
    (void)cfg;
    return calloc(1, sizeof(tls_shared));
}

static void tls_shared_free(void *shared)
{
    tls_shared *sh = shared;
    if (!sh)
        return;
    for (size_t i = 0; i < TLS_CERT_CACHE_SLOTS; i++)
        sl_cert_info_unref(sh->slot[i].info);
    free(sh);
}

static void tls_state_free(void *state)
{
    tls_state *st = state;
    if (!st)
        return;
    sl_bytes_free(&st->d[0].hs);
    sl_bytes_free(&st->d[1].hs);
    if (st->own_scratch)
        free(st->scratch);
    free(st);
}

static void dir_reset(tls_dir *d)
{
    d->lost = false;
    d->hs.len = 0;
    d->hs_skip = 0;
}

static void tls_gap(void *state, sl_dir dir, uint64_t missing)
{
    (void)missing;
    tls_state *st = state;
    dir_reset(&st->d[dir]);
}

/* ------------------------------------------------------------------ emit */

static void emit(tls_ctx *c, const sl_tls_event *tev, const sl_span *span)
{
    sl_event ev = {.kind = SL_EV_TLS, .dir = c->dir, .span = *span, .dissector = TLS_NAME, .u.tls = tev};
    sl_sink_emit(c->out, &ev);
}

static void emit_hs(tls_ctx *c, sl_tls_event *tev, uint8_t type, uint32_t len, const sl_span *span)
{
    tev->hs_type = type;
    tev->hs_length = len;
    emit(c, tev, span);
}

/* An anomaly over an already known span (a handshake message may have come
 * in earlier feed calls, so offsets into this buffer do not describe it). */
static void report_span(tls_ctx *c, const sl_span *span, int code, const char *text)
{
    sl_anomaly an = {.code = code, .text = text};
    sl_event ev = {.kind = SL_EV_ANOMALY, .dir = c->dir, .span = *span, .dissector = TLS_NAME, .u.anomaly = &an};
    sl_sink_emit(c->out, &ev);
}

static void flush_app(tls_ctx *c)
{
    tls_state *st = c->st;
    if (!st->app.records)
        return;
    sl_tls_event tev = {.type = SL_TLS_EV_APPLICATION_DATA, .u.app_data = st->app};
    sl_span span;
    sl_sink_span(c->out, st->app_start, st->app_end, &span);
    emit(c, &tev, &span);
    memset(&st->app, 0, sizeof st->app);
}

/* Copy capture bytes into a NUL-terminated text; a NUL inside becomes '?'
 * so the text cannot be silently shortened. */
static void copy_text(char *dst, size_t cap, const uint8_t *src, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i] ? (char)src[i] : '?';
    dst[n] = '\0';
}

/* ------------------------------------------------------------------ hello */

static void parse_u16_list(sl_cursor *c, size_t lenbytes, uint16_t *out, size_t *n)
{
    size_t l = lenbytes == 1 ? sl_cursor_u8(c) : sl_cursor_u16be(c);
    sl_cursor sub = sl_cursor_sub(c, l);
    *n = 0;
    while (sl_cursor_left(&sub) >= 2) {
        uint16_t v = sl_cursor_u16be(&sub);
        if (*n < SL_TLS_MAX_LIST)
            out[(*n)++] = v;
    }
    if (sl_cursor_left(&sub))
        c->bad = true; /* odd length */
}

static void parse_sni(sl_cursor *ext, tls_scratch *s, sl_tls_client_hello *ch)
{
    sl_cursor list = sl_cursor_sub(ext, sl_cursor_u16be(ext));
    while (sl_cursor_left(&list) > 0) {
        uint8_t type = sl_cursor_u8(&list);
        uint16_t l = sl_cursor_u16be(&list);
        const uint8_t *name = sl_cursor_bytes(&list, l);
        if (!name)
            break;
        if (type == 0 && !ch->sni) {
            copy_text(s->sni, sizeof s->sni, name, l);
            ch->sni = s->sni;
        }
    }
    if (!sl_cursor_ok(&list))
        ext->bad = true;
}

static void parse_alpn(sl_cursor *ext, tls_scratch *s, size_t *n)
{
    sl_cursor list = sl_cursor_sub(ext, sl_cursor_u16be(ext));
    *n = 0;
    while (sl_cursor_left(&list) > 0) {
        uint8_t l = sl_cursor_u8(&list);
        const uint8_t *p = sl_cursor_bytes(&list, l);
        if (!p)
            break;
        if (*n < SL_TLS_MAX_LIST) {
            copy_text(s->alpn[*n], TLS_MAX_TEXT, p, l);
            s->alpn_ptrs[*n] = s->alpn[*n];
            (*n)++;
        }
    }
    if (!sl_cursor_ok(&list))
        ext->bad = true;
}

static void parse_ch_extension(uint16_t type, sl_cursor *ext, tls_scratch *s, sl_tls_client_hello *ch)
{
    switch (type) {
    case 0:
        parse_sni(ext, s, ch);
        break;
    case 13:
        parse_u16_list(ext, 2, ch->sig_algs, &ch->n_sig_algs);
        break;
    case 16:
        parse_alpn(ext, s, &ch->n_alpn);
        ch->alpn = s->alpn_ptrs;
        break;
    case 43:
        parse_u16_list(ext, 1, ch->supported_versions, &ch->n_supported_versions);
        break;
    default:
        break;
    }
}

/* Extensions block shared by both hellos; false when malformed. */
static bool walk_extensions(sl_cursor *c, size_t *count, void (*fn)(uint16_t, sl_cursor *, void *), void *arg)
{
    if (sl_cursor_left(c) == 0)
        return true; /* no extensions (SSL 3.0, old clients) */
    sl_cursor exts = sl_cursor_sub(c, sl_cursor_u16be(c));
    while (sl_cursor_ok(&exts) && sl_cursor_left(&exts) > 0) {
        uint16_t type = sl_cursor_u16be(&exts);
        sl_cursor ext = sl_cursor_sub(&exts, sl_cursor_u16be(&exts));
        if (!sl_cursor_ok(&exts))
            break;
        (*count)++;
        fn(type, &ext, arg);
        if (!sl_cursor_ok(&ext))
            return false;
    }
    return sl_cursor_ok(&exts) && sl_cursor_ok(c);
}

typedef struct ch_walk {
    tls_scratch *s;
    sl_tls_client_hello *ch;
} ch_walk;

static void ch_ext_cb(uint16_t type, sl_cursor *ext, void *arg)
{
    ch_walk *w = arg;
    parse_ch_extension(type, ext, w->s, w->ch);
}

static void on_client_hello(tls_ctx *c, const uint8_t *body, uint32_t len, const sl_span *span)
{
    sl_tls_event tev = {.type = SL_TLS_EV_CLIENT_HELLO};
    sl_tls_client_hello *ch = &tev.u.client_hello;
    sl_cursor cur;
    sl_cursor_init(&cur, body, len);
    ch->legacy_version = sl_cursor_u16be(&cur);
    sl_cursor_skip(&cur, 32);
    sl_cursor_skip(&cur, sl_cursor_u8(&cur)); /* session id */
    uint16_t cs = sl_cursor_u16be(&cur);
    sl_cursor_skip(&cur, cs);
    ch->n_cipher_suites = cs / 2u;
    sl_cursor_skip(&cur, sl_cursor_u8(&cur)); /* compression methods */
    ch_walk w = {c->st->scratch, ch};
    if (!sl_cursor_ok(&cur) || (cs & 1u) || !walk_extensions(&cur, &ch->n_extensions, ch_ext_cb, &w)) {
        report_span(c, span, -SL_EMALFORMED, "TLS ClientHello malformed (a length exceeds the message)");
        return;
    }
    emit_hs(c, &tev, SL_TLS_HS_CLIENT_HELLO, len, span);
}

typedef struct sh_walk {
    tls_scratch *s;
    sl_tls_server_hello *sh;
} sh_walk;

static void sh_ext_cb(uint16_t type, sl_cursor *ext, void *arg)
{
    sh_walk *w = arg;
    if (type == 43) {
        w->sh->version = sl_cursor_u16be(ext);
    } else if (type == 16) {
        size_t n = 0;
        parse_alpn(ext, w->s, &n);
        if (n)
            w->sh->alpn = w->s->alpn[0];
    }
}

static void on_server_hello(tls_ctx *c, const uint8_t *body, uint32_t len, const sl_span *span)
{
    sl_tls_event tev = {.type = SL_TLS_EV_SERVER_HELLO};
    sl_tls_server_hello *sh = &tev.u.server_hello;
    sl_cursor cur;
    sl_cursor_init(&cur, body, len);
    sh->legacy_version = sl_cursor_u16be(&cur);
    const uint8_t *random = sl_cursor_bytes(&cur, 32);
    /* TLS 1.3 drafts (version 0x7fXX) had no session id nor compression. */
    bool draft = (sh->legacy_version & 0xff00) == 0x7f00;
    if (!draft)
        sl_cursor_skip(&cur, sl_cursor_u8(&cur));
    sh->cipher_suite = sl_cursor_u16be(&cur);
    if (!draft)
        sl_cursor_skip(&cur, 1); /* compression method */
    sh_walk w = {c->st->scratch, sh};
    size_t n_ext = 0;
    if (!sl_cursor_ok(&cur) || !walk_extensions(&cur, &n_ext, sh_ext_cb, &w)) {
        report_span(c, span, -SL_EMALFORMED, "TLS ServerHello malformed (a length exceeds the message)");
        return;
    }
    if (!sh->version)
        sh->version = sh->legacy_version;
    sh->hello_retry_request = random && memcmp(random, HRR_RANDOM, sizeof HRR_RANDOM) == 0;
    sh->cipher_name = sl_tls_cipher_text(sh->cipher_suite, c->st->scratch->cipher, sizeof c->st->scratch->cipher);
    tls_state *st = c->st;
    st->version = sh->version;
    st->hrr = st->hrr || sh->hello_retry_request;
    emit_hs(c, &tev, SL_TLS_HS_SERVER_HELLO, len, span);
    /* 0x7fXX: TLS 1.3 drafts (draft-ietf-tls-tls13), as sent by 2017 browsers. */
    bool v13 = sh->version == 0x0304 || (sh->version & 0xff00) == 0x7f00;
    if (v13 && !sh->hello_retry_request && !st->tls13) {
        st->tls13 = true;
        sl_tls_event enc = {.type = SL_TLS_EV_TLS13_ENCRYPTED};
        emit(c, &enc, span);
    }
}

/* ------------------------------------------------------------------ certificates */

static void free_certs(const sl_cert_info **certs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sl_cert_info_unref(certs[i]);
    free(certs);
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3u;
    return h;
}

/* The cached parse of exactly these DER bytes, or NULL. */
static cert_slot *cache_find(tls_shared *sh, uint64_t hash, const uint8_t *der, size_t len)
{
    for (size_t i = 0; i < TLS_CERT_CACHE_SLOTS; i++) {
        cert_slot *e = &sh->slot[i];
        if (e->used && e->hash == hash && e->info->der_len == len && memcmp(e->info->der, der, len) == 0)
            return e;
    }
    return NULL;
}

/* Keep a reference to a fresh parse in the least recently used slot. */
static void cache_put(tls_shared *sh, uint64_t hash, const sl_cert_info *ci)
{
    cert_slot *victim = &sh->slot[0];
    for (size_t i = 1; i < TLS_CERT_CACHE_SLOTS && victim->used; i++)
        if (sh->slot[i].used < victim->used)
            victim = &sh->slot[i];
    sl_cert_info_unref(victim->info);
    victim->info = sl_cert_info_ref(ci);
    victim->hash = hash;
    victim->used = ++sh->tick;
}

/* The shared parse of these DER bytes in *out (a reference the caller
 * releases), through the analysis's cache: a certificate already seen is
 * neither parsed nor copied again.  Chain checks depend on each handshake's
 * time and are made later by the session, so nothing time-bound is cached. */
static int cert_get(tls_shared *sh, const uint8_t *der, size_t len, const sl_cert_info **out)
{
    if (!sh || len > TLS_CERT_CACHE_MAX_DER)
        return sl_cert_info_new(der, len, out);
    uint64_t hash = fnv1a(der, len);
    cert_slot *e = cache_find(sh, hash, der, len);
    if (e) {
        e->used = ++sh->tick;
        *out = sl_cert_info_ref(e->info);
        return 0;
    }
    int rc = sl_cert_info_new(der, len, out);
    if (rc == 0)
        cache_put(sh, hash, *out);
    return rc;
}

/* RFC 5246 7.4.2: certificate_list<0..2^24-1> of ASN.1Cert<1..2^24-1>. */
static void on_certificate(tls_ctx *c, const uint8_t *body, uint32_t len, const sl_span *span)
{
    size_t cap = c->st->cfg->limits.max_certs_per_chain;
    sl_cursor cur;
    sl_cursor_init(&cur, body, len);
    sl_cursor list = sl_cursor_sub(&cur, sl_cursor_u24be(&cur));
    if (!sl_cursor_ok(&cur) || sl_cursor_left(&cur) != 0) {
        report_span(c, span, -SL_EMALFORMED, "TLS Certificate: list length disagrees with the message length");
        return;
    }
    const sl_cert_info **certs = calloc(cap ? cap : 1, sizeof *certs); // NOLINT(bugprone-sizeof-expression): an array of pointers, sized as such
    if (!certs) {
        report_span(c, span, -SL_ENOMEM, "TLS Certificate: out of memory");
        return;
    }
    size_t n = 0, sent = 0;
    while (sl_cursor_ok(&list) && sl_cursor_left(&list) > 0) {
        uint32_t l = sl_cursor_u24be(&list);
        const uint8_t *der = sl_cursor_bytes(&list, l);
        if (!der)
            break;
        sent++;
        if (n < cap && cert_get(c->st->shared, der, l, &certs[n]) == 0)
            n++;
    }
    if (!sl_cursor_ok(&list))
        report_span(c, span, -SL_EMALFORMED, "TLS Certificate: an entry length exceeds the list");
    if (sent > n)
        report_span(c, span, -SL_ELIMIT, "TLS Certificate: more certificates than max_certs_per_chain, extra ones not kept");
    for (size_t i = 0; i < n; i++)
        if (certs[i]->broken)
            report_span(c, span, -SL_EMALFORMED, "TLS Certificate: an entry is not a readable X.509 certificate");
    sl_tls_event tev = {.type = SL_TLS_EV_CERTIFICATE};
    tev.u.certificate = (sl_tls_certificate){.certs = certs, .n_certs = n, .n_sent = sent};
    emit_hs(c, &tev, SL_TLS_HS_CERTIFICATE, len, span);
    free_certs(certs, n);
}

/* RFC 5246 7.4.4 (TLS 1.2 has supported_signature_algorithms; SSL 3.0 - TLS 1.1
 * do not): certificate_types<1..255>, [sig algs<2..2^16-2>],
 * certificate_authorities<0..2^16-1> of DistinguishedName<1..2^16-1>.
 * The CA name list, or false when the bytes do not fit the layout. */
static bool cr_layout(const uint8_t *body, uint32_t len, bool sig_algs, sl_cursor *list)
{
    sl_cursor cur;
    sl_cursor_init(&cur, body, len);
    sl_cursor_skip(&cur, sl_cursor_u8(&cur));
    if (sig_algs)
        sl_cursor_skip(&cur, sl_cursor_u16be(&cur));
    *list = sl_cursor_sub(&cur, sl_cursor_u16be(&cur));
    return sl_cursor_ok(&cur) && sl_cursor_left(&cur) == 0;
}

static void on_certificate_request(tls_ctx *c, const uint8_t *body, uint32_t len, const sl_span *span)
{
    /* TLS 1.2 has supported_signature_algorithms; SSL 3.0 - TLS 1.1 do not.
     * Before a ServerHello was seen (capture started late) try both. */
    uint16_t v = c->st->version;
    bool v12 = v == 0x0303 || v == 0;
    sl_cursor list;
    if (!cr_layout(body, len, v12, &list) && !(v == 0 && cr_layout(body, len, false, &list))) {
        report_span(c, span, -SL_EMALFORMED, "TLS CertificateRequest malformed (a length exceeds the message)");
        return;
    }
    char *names[TLS_MAX_CA_NAMES];
    size_t n = 0, sent = 0;
    while (sl_cursor_ok(&list) && sl_cursor_left(&list) > 0) {
        uint16_t l = sl_cursor_u16be(&list);
        const uint8_t *dn = sl_cursor_bytes(&list, l);
        if (!dn)
            break;
        sent++;
        if (n < TLS_MAX_CA_NAMES && sl_x509_name_text(dn, l, &names[n]) == 0)
            n++;
    }
    if (!sl_cursor_ok(&list) || sent != n)
        report_span(c, span, sl_cursor_ok(&list) ? -SL_ELIMIT : -SL_EMALFORMED,
                    "TLS CertificateRequest: some CA names unreadable or over the cap");
    sl_tls_event tev = {.type = SL_TLS_EV_CERTIFICATE_REQUEST};
    tev.u.certificate_request =
        (sl_tls_certificate_request){.ca_names = (const char *const *)names, .n_ca_names = n, .n_ca_sent = sent};
    emit_hs(c, &tev, SL_TLS_HS_CERTIFICATE_REQUEST, len, span);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
}

/* ------------------------------------------------------------------ stapling, tickets */

/* The response status and the first certificate's status of a DER
 * OCSPResponse; left at -1 where OpenSSL cannot read them. */
static void read_ocsp(const uint8_t *der, size_t len, sl_tls_certificate_status *cs)
{
    const unsigned char *p = der;
    OCSP_RESPONSE *resp = len <= LONG_MAX ? d2i_OCSP_RESPONSE(NULL, &p, (long)len) : NULL;
    if (!resp) {
        ERR_clear_error(); /* the capture's fault: nothing for a later OpenSSL caller */
        return;
    }
    cs->response_status = OCSP_response_status(resp);
    OCSP_BASICRESP *basic = OCSP_response_get1_basic(resp);
    OCSP_SINGLERESP *one = basic ? OCSP_resp_get0(basic, 0) : NULL;
    if (one) {
        int reason = 0;
        cs->cert_status = OCSP_single_get0_status(one, &reason, NULL, NULL, NULL);
    }
    OCSP_BASICRESP_free(basic);
    OCSP_RESPONSE_free(resp);
    ERR_clear_error();
}

/* RFC 6066 8: status_type(1) OCSPResponse<1..2^24-1>; RFC 6961 2.2 (type 2):
 * a list<1..2^24-1> of OCSPResponse<0..2^24-1>, the first one read. */
static void on_certificate_status(tls_ctx *c, const uint8_t *body, uint32_t len, const sl_span *span)
{
    sl_tls_event tev = {.type = SL_TLS_EV_HANDSHAKE};
    sl_tls_certificate_status *cs = &tev.u.certificate_status;
    cs->response_status = -1;
    cs->cert_status = -1;
    sl_cursor cur;
    sl_cursor_init(&cur, body, len);
    cs->status_type = sl_cursor_u8(&cur);
    sl_cursor resp = cur;
    if (cs->status_type == 2)
        resp = sl_cursor_sub(&cur, sl_cursor_u24be(&cur));
    uint32_t rlen = sl_cursor_u24be(&resp);
    const uint8_t *der = sl_cursor_bytes(&resp, rlen);
    if (cs->status_type != 1 && cs->status_type != 2) {
        report_span(c, span, -SL_EMALFORMED, "TLS CertificateStatus: unknown status type, response not read");
    } else if (!der) {
        report_span(c, span, -SL_EMALFORMED, "TLS CertificateStatus malformed (a length exceeds the message)");
    } else {
        cs->response_length = rlen;
        read_ocsp(der, rlen, cs);
        if (cs->response_status < 0)
            report_span(c, span, -SL_EMALFORMED, "TLS CertificateStatus: the OCSP response is not readable DER");
    }
    emit_hs(c, &tev, SL_TLS_HS_CERTIFICATE_STATUS, len, span);
}

/* RFC 5077 3.3: ticket_lifetime_hint(4) ticket<0..2^16-1>.  A TLS 1.3 ticket
 * is encrypted and never reaches here. */
static void on_new_session_ticket(tls_ctx *c, const uint8_t *body, uint32_t len, const sl_span *span)
{
    sl_tls_event tev = {.type = SL_TLS_EV_HANDSHAKE};
    sl_cursor cur;
    sl_cursor_init(&cur, body, len);
    tev.u.new_session_ticket.lifetime_hint = sl_cursor_u32be(&cur);
    tev.u.new_session_ticket.ticket_length = sl_cursor_u16be(&cur);
    if (!sl_cursor_ok(&cur) || sl_cursor_left(&cur) != tev.u.new_session_ticket.ticket_length)
        report_span(c, span, -SL_EMALFORMED, "TLS NewSessionTicket: the ticket length disagrees with the message length");
    emit_hs(c, &tev, SL_TLS_HS_NEW_SESSION_TICKET, len, span);
}

/* ------------------------------------------------------------------ handshake */

static void on_handshake_message(tls_ctx *c, uint8_t type, const uint8_t *body, uint32_t len, const sl_span *span)
{
    switch (type) {
    case SL_TLS_HS_CLIENT_HELLO:
        on_client_hello(c, body, len, span);
        break;
    case SL_TLS_HS_SERVER_HELLO:
        on_server_hello(c, body, len, span);
        break;
    case SL_TLS_HS_CERTIFICATE:
        on_certificate(c, body, len, span);
        break;
    case SL_TLS_HS_CERTIFICATE_REQUEST:
        on_certificate_request(c, body, len, span);
        break;
    case SL_TLS_HS_CERTIFICATE_STATUS:
        on_certificate_status(c, body, len, span);
        break;
    case SL_TLS_HS_NEW_SESSION_TICKET:
        on_new_session_ticket(c, body, len, span);
        break;
    default: {
        sl_tls_event tev = {.type = SL_TLS_EV_HANDSHAKE};
        emit_hs(c, &tev, type, len, span);
        break;
    }
    }
}

/* Take whole messages off the front of the direction's handshake buffer. */
static void hs_drain(tls_ctx *c, tls_dir *d, const sl_span *rec_span)
{
    size_t max = c->st->cfg->limits.max_tls_handshake;
    size_t pos = 0;
    while (d->hs.len - pos >= 4) {
        sl_cursor cur;
        sl_cursor_init(&cur, d->hs.p + pos, d->hs.len - pos);
        uint8_t type = sl_cursor_u8(&cur);
        uint32_t mlen = sl_cursor_u24be(&cur);
        sl_span span = pos == 0 ? d->hs_first : *rec_span;
        span.last_frame = rec_span->last_frame;
        span.last_ts = rec_span->last_ts;
        if (mlen > max) {
            char text[128];
            snprintf(text, sizeof text, "TLS handshake message type %u of %u bytes exceeds max_tls_handshake (%zu): skipped",
                     type, mlen, max);
            report_span(c, &span, -SL_ELIMIT, text);
            size_t have = d->hs.len - pos - 4;
            if (have >= mlen) {
                pos += 4u + mlen;
                continue;
            }
            d->hs_skip = mlen - have;
            d->hs.len = 0;
            return;
        }
        if (sl_cursor_left(&cur) < mlen) {
            /* Incomplete: what stays is one message, started in this record
             * unless it is the head that was already pending. */
            if (pos > 0)
                d->hs_first = *rec_span;
            break;
        }
        on_handshake_message(c, type, d->hs.p + pos + 4, mlen, &span);
        pos += 4u + mlen;
    }
    if (pos > 0 && pos < d->hs.len && d->hs.len - pos < 4)
        d->hs_first = *rec_span;
    memmove(d->hs.p, d->hs.p + pos, d->hs.len - pos);
    d->hs.len -= pos;
}

static void on_handshake_record(tls_ctx *c, const uint8_t *frag, size_t n, const sl_span *span)
{
    tls_dir *d = &c->st->d[c->dir];
    if (d->hs_skip) {
        size_t k = d->hs_skip < n ? (size_t)d->hs_skip : n;
        d->hs_skip -= k;
        frag += k;
        n -= k;
    }
    if (n == 0)
        return;
    if (d->hs.len == 0)
        d->hs_first = *span;
    if (!sl_bytes_append(&d->hs, frag, n, 1024)) {
        report_span(c, span, -SL_ENOMEM, "TLS handshake: out of memory, message dropped");
        d->hs.len = 0;
        return;
    }
    hs_drain(c, d, span);
}

/* ------------------------------------------------------------------ records */

static void on_alert_record(tls_ctx *c, const uint8_t *frag, size_t n, bool encrypted, const sl_span *span)
{
    sl_tls_event tev = {.type = SL_TLS_EV_ALERT};
    if (encrypted) {
        tev.u.alert = (sl_tls_alert){.encrypted = true, .name = "encrypted"};
        emit(c, &tev, span);
        return;
    }
    /* A clear alert is 2 bytes with level 1 or 2 (RFC 5246 7.2).  Anything
     * else is ciphertext of a connection whose ChangeCipherSpec we did not
     * see (capture started mid-stream), as tshark also reads it. */
    sl_cursor cur;
    sl_cursor_init(&cur, frag, n);
    uint8_t level = sl_cursor_u8(&cur);
    uint8_t desc = sl_cursor_u8(&cur);
    if (n != 2 || (level != 1 && level != 2)) {
        tev.u.alert = (sl_tls_alert){.encrypted = true, .name = "encrypted"};
        emit(c, &tev, span);
        return;
    }
    char buf[24];
    const char *name = sl_tls_alert_name(desc);
    if (!name) {
        snprintf(buf, sizeof buf, "unknown(%u)", desc);
        name = buf;
    }
    tev.u.alert = (sl_tls_alert){.level = level, .description = desc, .name = name};
    emit(c, &tev, span);
}

static void on_record(tls_ctx *c, uint8_t type, uint16_t version, const uint8_t *frag, uint16_t n, size_t start,
                      size_t end)
{
    tls_state *st = c->st;
    tls_dir *d = &st->d[c->dir];
    bool encrypted = d->encrypted || (st->tls13 && type == SL_TLS_CT_APPLICATION_DATA);
    if (type != SL_TLS_CT_APPLICATION_DATA)
        flush_app(c);
    sl_span span;
    sl_sink_span(c->out, start, end, &span);
    sl_tls_event rec = {.type = SL_TLS_EV_RECORD};
    rec.u.record = (sl_tls_record){.content_type = type, .version = version, .length = n, .encrypted = encrypted};
    emit(c, &rec, &span);
    switch (type) {
    case SL_TLS_CT_CHANGE_CIPHER_SPEC: {
        sl_tls_event tev = {.type = SL_TLS_EV_CHANGE_CIPHER_SPEC};
        emit(c, &tev, &span);
        /* RFC 8446 D.4: in TLS 1.3 a CCS is a compatibility no-op, and after
         * a HelloRetryRequest the second ClientHello is still in the clear. */
        if (!st->tls13 && !st->hrr)
            d->encrypted = true;
        break;
    }
    case SL_TLS_CT_ALERT:
        on_alert_record(c, frag, n, d->encrypted, &span);
        break;
    case SL_TLS_CT_HANDSHAKE:
        if (d->encrypted) {
            sl_tls_event tev = {.type = SL_TLS_EV_ENCRYPTED_HANDSHAKE};
            emit(c, &tev, &span);
        } else {
            on_handshake_record(c, frag, n, &span);
        }
        break;
    case SL_TLS_CT_APPLICATION_DATA:
        if (!st->app.records)
            st->app_start = start;
        st->app_end = end;
        st->app.records++;
        st->app.bytes += n;
        break;
    default: /* heartbeat: the record event says it all */
        break;
    }
}

/* RFC 5246 E.2: an SSLv2-compatible ClientHello as the first record. */
static size_t on_sslv2_hello(tls_ctx *c, const uint8_t *buf, size_t len)
{
    sl_cursor cur;
    sl_cursor_init(&cur, buf, len);
    size_t mlen = sl_cursor_u16be(&cur) & 0x7fffu;
    if (!sl_cursor_has(&cur, mlen))
        return 0;
    sl_cursor msg = sl_cursor_sub(&cur, mlen);
    sl_cursor_skip(&msg, 1);
    sl_tls_event tev = {.type = SL_TLS_EV_CLIENT_HELLO};
    sl_tls_client_hello *ch = &tev.u.client_hello;
    ch->sslv2 = true;
    ch->legacy_version = sl_cursor_u16be(&msg);
    uint16_t spec_len = sl_cursor_u16be(&msg);
    ch->n_cipher_suites = spec_len / 3u;
    sl_span span;
    sl_sink_span(c->out, 0, 2 + mlen, &span);
    sl_tls_event rec = {.type = SL_TLS_EV_RECORD};
    rec.u.record = (sl_tls_record){.content_type = SL_TLS_CT_HANDSHAKE, .version = 0x0002, .length = (uint16_t)mlen};
    emit(c, &rec, &span);
    if (!sl_cursor_ok(&msg) || spec_len % 3u)
        report_span(c, &span, -SL_EMALFORMED, "SSLv2-compatible ClientHello malformed");
    else
        emit_hs(c, &tev, SL_TLS_HS_CLIENT_HELLO, (uint32_t)mlen, &span);
    return 2 + mlen;
}

/* An SSLv2-compatible ClientHello can only open the client's stream. */
static bool sslv2_first(const tls_dir *d, sl_dir dir, const uint8_t *buf, size_t len)
{
    uint8_t first = 0;
    sl_cursor peek;
    sl_cursor_init(&peek, buf, len);
    return !d->started && !d->lost && dir == SL_DIR_C2S && sl_cursor_peek_u8(&peek, 0, &first) && (first & 0x80);
}

/* Bytes used; 0 when more are needed.  Not SSLv2 after all: reported, lost. */
static size_t feed_sslv2(tls_ctx *c, tls_dir *d, const uint8_t *buf, size_t len)
{
    if (len < 5)
        return 0;
    if (!plausible_sslv2_hello(buf, len)) {
        sl_sink_report(c->out, TLS_NAME, c->dir, 0, 5, -SL_EMALFORMED,
                       "SSLv2-compatible ClientHello header invalid: direction ignored until a gap");
        d->lost = true;
        return len;
    }
    size_t used = on_sslv2_hello(c, buf, len);
    d->started = used > 0;
    return used;
}

static int tls_feed(void *state, sl_dir dir, const uint8_t *buf, size_t len, size_t *used, sl_sink *out)
{
    tls_state *st = state;
    tls_dir *d = &st->d[dir];
    tls_ctx c = {st, dir, out};
    size_t pos = 0;
    *used = 0;
    if (sslv2_first(d, dir, buf, len)) {
        pos = feed_sslv2(&c, d, buf, len);
        if (pos == 0 || d->lost) {
            *used = pos;
            return 0;
        }
    }
    while (!d->lost && len - pos >= 5) {
        sl_cursor cur;
        sl_cursor_init(&cur, buf + pos, len - pos);
        uint8_t type = sl_cursor_u8(&cur);
        uint16_t version = sl_cursor_u16be(&cur);
        uint16_t rlen = sl_cursor_u16be(&cur);
        if (!plausible_header(type, version, rlen)) {
            sl_sink_report(out, TLS_NAME, dir, pos, pos + 5, -SL_EMALFORMED,
                           "TLS record header invalid (type %u, version 0x%04X, length %u): direction ignored until a gap",
                           type, version, rlen);
            d->lost = true;
            break;
        }
        const uint8_t *frag = sl_cursor_bytes(&cur, rlen);
        if (!frag)
            break; /* the rest of the record has not arrived */
        d->started = true;
        on_record(&c, type, version, frag, rlen, pos, pos + 5u + rlen);
        pos += 5u + rlen;
    }
    flush_app(&c);
    *used = d->lost ? len : pos;
    return 0;
}

static const uint16_t TLS_PORTS[] = {443, 5061, 5062, 5063, 5064, 5065, 7001, 7002, 7003, 8443, 8934};

const sl_dissector sl_dissector_tls = {
    .name = TLS_NAME,
    .hint_ports = TLS_PORTS,
    .n_hint_ports = sizeof TLS_PORTS / sizeof TLS_PORTS[0],
    .probe = tls_probe,
    .state_new = tls_state_new,
    .feed = tls_feed,
    .gap = tls_gap,
    .state_free = tls_state_free,
    .shared_new = tls_shared_new,
    .shared_free = tls_shared_free,
};
