/* sip_fixtures.c - SIP test messages and a fake core (see sip_fixtures.h). */
#include "sip_fixtures.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipladder/sip.h"

/* Expressway-C -> CUCM leg of a Webex hybrid call: Vias and Record-Routes from
 * the webex-hybrid-call-service seed (document line wraps joined), X-TAATag,
 * Session-ID and Cisco-Guid from the same log. */
const char fx_invite_expressway_hdrs[] =
    "INVITE sip:pstoiano-test@dmzlab.call.ciscospark.com SIP/2.0\r\n"
    "Via: SIP/2.0/TLS 192.168.1.5:5061;egress-zone=HybridCallServiceTraversal;"
    "branch=z9hG4bK6d734eaf7a6d733bd1e79705b7445ebb46175.1d33be65c99c56898f85df813f1db3a7;"
    "proxy-call-id=47454c92-2b30-414a-b7fe-aff531296bcf;rport\r\n"
    "Via: SIP/2.0/TCP 192.168.1.21:5065;branch=z9hG4bK13187594dd412;received=192.168.1.21;"
    "ingress-zone=CUCM11\r\n"
    "Call-ID: 991f7e80-9c11517a-130ac-1501a8c0@192.168.1.21\r\n"
    "CSeq: 101 INVITE\r\n"
    "Call-Info: <urn:x-cisco-remotecallinfo>;x-cisco-video-traffic-class=DESKTOP\r\n"
    "Remote-Party-ID: \"Jonathan Robb\" <sip:5010@rtp.ciscotac.net>;party=calling;screen=yes;privacy=off\r\n"
    "Contact: <sip:192.168.1.6:5073;transport=tls>;call-type=squared\r\n"
    "From: \"Jonathan Robb\" <sip:5010@rtp.ciscotac.net>;tag=332677~c9cc7ddc-9592-49e8-a13c-79e26f48eebc-30106860\r\n"
    "To: <sip:pstoiano-test@dmzlab.call.ciscospark.com>\r\n"
    "Max-Forwards: 15\r\n"
    "Record-Route: <sip:proxy-call-id=47454c92-2b30-414a-b7fe-aff531296bcf@192.168.1.5:5061;transport=tls;lr>\r\n"
    "Record-Route: <sip:proxy-call-id=47454c92-2b30-414a-b7fe-aff531296bcf@192.168.1.5:5060;transport=tcp;lr>\r\n"
    "Allow: INVITE, OPTIONS, INFO, BYE, CANCEL, ACK, PRACK, UPDATE, REFER, SUBSCRIBE, NOTIFY\r\n"
    "User-Agent: Cisco-CUCM11.5\r\n"
    "Expires: 180\r\n"
    "Date: Tue, 19 Sep 2017 17:18:50 GMT\r\n"
    "Supported: timer, resource-priority, replaces, X-cisco-srtp-fallback, X-cisco-original-called\r\n"
    "Session-Expires: 1800\r\n"
    "Min-SE: 1800\r\n"
    "Allow-Events: presence\r\n"
    "X-TAATag: 2272025a-ce36-49d0-8d93-cb6a5e90ffe0\r\n"
    "Session-ID: 75957d4fb66a13e835c10737aa332675;remote=00000000000000000000000000000000\r\n"
    "Cisco-Guid: 2568978048-0000065536-0000000148-0352430272\r\n"
    "Content-Type: application/sdp\r\n";

/* SDP shaped like the Expressway-E offer in the CMR cloud seed (o=tandberg,
 * b=AS:1024), with audio, video and a refused BFCP line. */
const char fx_invite_sdp[] =
    "v=0\r\n"
    "o=tandberg 0 1 IN IP4 1.1.1.1\r\n"
    "s=-\r\n"
    "c=IN IP4 1.1.1.1\r\n"
    "b=AS:1024\r\n"
    "t=0 0\r\n"
    "m=audio 57004 RTP/SAVP 0 8 18 101\r\n"
    "c=IN IP4 1.1.1.2\r\n"
    "b=TIAS:64000\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:18 G729/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^31\r\n"
    "a=sendrecv\r\n"
    "m=video 57006 RTP/AVP 96\r\n"
    "b=TIAS:960000\r\n"
    "a=rtpmap:96 H264/90000\r\n"
    "a=recvonly\r\n"
    "m=application 0 UDP/BFCP *\r\n";

/* Webex -> Expressway-E 404 from the CMR cloud seed: four Vias, Warning 399. */
const char fx_404_warning_hdrs[] =
    "SIP/2.0 404 Not Found\r\n"
    "Via: SIP/2.0/TLS 1.1.1.1:5061;branch=z9hG4bK8432ca81e50287e4343e7407a202e5a563;rport=25006;"
    "egress-zone=WebExDNSZone;proxy-call-id=52bb1db1-a565-49b3-a0f8-c418e8e3cc39\r\n"
    "Via: SIP/2.0/TLS 1.1.1.1:5073;branch=z9hG4bK223ebd91221d8f695d3da2890007661c30;rport=31875;"
    "x-cisco-local-service=nettle;received=1.1.1.1;ingress-zone=DefaultZone\r\n"
    "Via: SIP/2.0/TCP 192.168.0.98:5060;egress-zone=Traversalzone;"
    "branch=z9hG4bKedd3815e247cc04af884997ad8402262544359.5221c2e1ef2a6127a2c58c690748673f;"
    "proxy-call-id=00fa4a64-9472-4d3a-81e9-7674e5121f47;received=192.168.0.98;rport=25029;"
    "ingress-zone=Traversalzone\r\n"
    "Via: SIP/2.0/TCP 192.168.0.72:5060;branch=z9hG4bK8f7ad6a67ce3c;received=192.168.0.72;"
    "ingress-zone=Cucm105Zone\r\n"
    "Call-ID: 10a07180-80016eb8-8f011-4861a8c0@192.168.0.72\r\n"
    "CSeq: 101 INVITE\r\n"
    "From: \"Scheduled Meeting 2016/10/14 14:21\" <sip:tpcucm105.video.uc.lab>;tag=2341822~367b6a6e-3094-4fc9-bdf5-7faac8adc6d1-20192272\r\n"
    "To: \"CiscoWebEx\" <sip:34nYAmb.lHQri5ajFUV1T3Ow@xxxxx.webex.com>;tag=564b7bfbf6d41801\r\n"
    "Server: TANDBERG/4133 (X8.8.1)\r\n"
    "P-Asserted-Identity: \"CiscoWebEx\" <sip:webex.com>\r\n"
    "Warning: 399 3.3.3.3:5061 \"Policy Response\"\r\n";

/* CUCM BYE with Q.850 cause 47 and a two-entry Route (webex hybrid seed). */
const char fx_bye_reason_hdrs[] =
    "BYE sip:192.168.1.6:5071;transport=tls SIP/2.0\r\n"
    "Via: SIP/2.0/TLS 192.168.1.5:5061;egress-zone=HybridCallServiceTraversal;"
    "branch=z9hG4bK90a666b3461356f8cd605cec91e4538240575.494a140082bd66357134b9eed4335df8;"
    "proxy-call-id=d4d4e950-babc-45d5-a4a7-c60a8b17a8bd;rport\r\n"
    "Via: SIP/2.0/TCP 192.168.1.21:5065;branch=z9hG4bK12ddd10269d39;received=192.168.1.21;"
    "ingress-zone=CUCM11\r\n"
    "Call-ID: 44bdd400-9c112db1-12d95-1501a8c0@192.168.1.21\r\n"
    "CSeq: 102 BYE\r\n"
    "From: \"Jonathan Robb\" <sip:5010@rtp.ciscotac.net>;tag=329447~c9cc7ddc-9592-49e8-a13c-79e26f48eebc-30106833\r\n"
    "To: <sip:pstojano-test@dmzlab.call.ciscospark.com>;tag=f3734601fb0eb541\r\n"
    "Max-Forwards: 69\r\n"
    "Route: <sip:proxy-call-id=be17a470-0bca-4ad5-8a6c-14872e007efb@192.168.1.6:7003;transport=tls;lr>, "
    "<sip:proxy-call-id=be17a470-0bca-4ad5-8a6c-14872e007efb@192.168.1.6:5061;transport=tls;lr>\r\n"
    "User-Agent: Cisco-CUCM11.5\r\n"
    "Date: Tue, 19 Sep 2017 14:46:09 GMT\r\n"
    "X-TAATag: 14a0bd87-1825-4ecf-9f3d-4a23cfa69725\r\n"
    "Reason: Q.850 ;cause=47\r\n"
    "Session-ID: 75957d4fb66a13e835c10737aa329445;remote=ed35426ed3ade6fdc3b058792333df2b\r\n";

/* Jabber 14 over MRA (jabber-mra-stun-keepalive seed; the <...> URIs the
 * document lost are restored). */
const char fx_register_mra_hdrs[] =
    "REGISTER sip:cmpub01.rvalverd.local SIP/2.0\r\n"
    "Via: SIP/2.0/TLS 172.16.84.136:58980;branch=z9hG4bK00003665\r\n"
    "Call-ID: 00505696-779a0005-00001bba-00007938@172.16.84.136\r\n"
    "CSeq: 104 REGISTER\r\n"
    "Contact: <sip:5e1e1a5f-0b48-4fa4-b5d5-61c1b3e8f8a1@172.16.84.136:58980;transport=tls>;"
    "+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-00505696779a>\";"
    "+u.sip!devicename.ccm.cisco.com=\"CSFMRA01\";+u.sip!model.ccm.cisco.com=\"503\";video;"
    "x-cisco-mra-ha=AR_SK;x-cisco-reg-id=1\r\n"
    "From: <sip:mra01@cmpub01.rvalverd.local>;tag=00505696779a000700006827-00006484\r\n"
    "To: <sip:mra01@cmpub01.rvalverd.local>\r\n"
    "Max-Forwards: 70\r\n"
    "User-Agent: Cisco-UCM-Jabber/14.0\r\n"
    "Expires: 3600\r\n"
    "Supported: replaces,join,sdp-anat,norefersub,resource-priority,extended-refer,X-cisco-callinfo,"
    "X-cisco-serviceuri,X-cisco-escapecodes,X-cisco-service-control,X-cisco-srtp-fallback,"
    "X-cisco-monrec,X-cisco-config,X-cisco-sis-7.0.0,X-cisco-xsi-8.5.1,x-cisco-mra-ha=AR_SK\r\n";

const char fx_401_hdrs[] =
    "SIP/2.0 401 Unauthorized\r\n"
    "Via: SIP/2.0/TLS 172.16.84.136:58980;branch=z9hG4bK00003665;received=10.88.246.8;rport=58980;"
    "ingress-zone=CollaborationEdgeZone\r\n"
    "Call-ID: 00505696-779a0005-00001bba-00007938@172.16.84.136\r\n"
    "CSeq: 104 REGISTER\r\n"
    "From: <sip:mra01@cmpub01.rvalverd.local>;tag=00505696779a000700006827-00006484\r\n"
    "To: <sip:mra01@cmpub01.rvalverd.local>;tag=1470923213\r\n"
    "WWW-Authenticate: Digest realm=\"ccmsipline\", nonce=\"7bCNcNbD3Xx1pQWcZDvRxPBkOlcOPX4I\", algorithm=MD5\r\n"
    "Server: Cisco-CUCM12.5\r\n";

const char fx_register_auth_hdrs[] =
    "REGISTER sip:cmpub01.rvalverd.local SIP/2.0\r\n"
    "Via: SIP/2.0/TLS 172.16.84.136:58980;branch=z9hG4bK00007e98\r\n"
    "Call-ID: 00505696-779a0005-00001bba-00007938@172.16.84.136\r\n"
    "CSeq: 105 REGISTER\r\n"
    "Contact: <sip:5e1e1a5f@172.16.84.136:58980;transport=tls>;x-cisco-mra-ha=AR_SK;x-cisco-reg-id=1\r\n"
    "From: <sip:mra01@cmpub01.rvalverd.local>;tag=00505696779a000700006827-00006484\r\n"
    "To: <sip:mra01@cmpub01.rvalverd.local>\r\n"
    "Authorization: Digest username=\"mra01\", realm=\"ccmsipline\", nonce=\"7bCNcNbD3Xx1pQWcZDvRxPBkOlcOPX4I\", "
    "uri=\"sip:cmpub01.rvalverd.local\", response=\"0123456789abcdef0123456789abcdef\", algorithm=MD5\r\n"
    "Expires: 3600\r\n";

/* The 200 OK of the seed: X-cisco-supports-AR_SK in Supported, Expires 120. */
const char fx_200_register_hdrs[] =
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/TLS 172.16.84.136:58980;branch=z9hG4bK00007e98;received=10.88.246.8;rport=58980;"
    "ingress-zone=CollaborationEdgeZone\r\n"
    "Call-ID: 00505696-779a0005-00001bba-00007938@172.16.84.136\r\n"
    "CSeq: 105 REGISTER\r\n"
    "Contact: <sip:5e1e1a5f@172.16.84.136:58980;transport=tls>;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-00505696779a>\";"
    "+u.sip!devicename.ccm.cisco.com=\"CSFMRA01\";+u.sip!model.ccm.cisco.com=\"503\";video;"
    "x-cisco-mra-ha=AR_SK;x-cisco-reg-id=1;+u.sip!userid.ccm.cisco.com=\"mra01\";x-cisco-newreg;expires=120\r\n"
    "From: <sip:mra01@cmpub01.rvalverd.local>;tag=00505696779a000700006827-00006484\r\n"
    "To: <sip:mra01@cmpub01.rvalverd.local>;tag=385623253\r\n"
    "Server: Cisco-CUCM12.5\r\n"
    "Expires: 120\r\n"
    "Date: Thu, 24 Jun 2021 19:09:09 GMT\r\n"
    "Supported: X-cisco-srtp-fallback,X-cisco-sis-9.2.0,X-cisco-supports-AR_SK\r\n"
    "Session-ID: 9b8c276600255000a0000e5dc13f0000;remote=c31f584200255000a00000ddda3c0000\r\n";

char *fx_msg(const char *headers, const char *body, size_t *len)
{
    size_t hl = strlen(headers), bl = body ? strlen(body) : 0;
    size_t cap = hl + bl + 64;
    char *m = malloc(cap);
    if (!m)
        abort();
    int n = snprintf(m, cap, "%sContent-Length: %zu\r\n\r\n", headers, bl);
    memcpy(m + n, body ? body : "", bl + 1);
    *len = (size_t)n + bl;
    return m;
}

/* ---- log ---- */

static fx_ev *log_add(fx_log *log)
{
    if (log->n == log->cap) {
        log->cap = log->cap ? 2 * log->cap : 16;
        log->ev = realloc(log->ev, log->cap * sizeof *log->ev);
        if (!log->ev)
            abort();
    }
    fx_ev *e = &log->ev[log->n++];
    memset(e, 0, sizeof *e);
    return e;
}

void fx_log_free(fx_log *log)
{
    for (size_t i = 0; i < log->n; i++)
        sl_sip_record_free(log->ev[i].rec);
    free(log->ev);
    memset(log, 0, sizeof *log);
}

size_t fx_count(const fx_log *log, sl_event_kind kind)
{
    size_t n = 0;
    for (size_t i = 0; i < log->n; i++)
        n += log->ev[i].kind == kind;
    return n;
}

const fx_ev *fx_nth(const fx_log *log, sl_event_kind kind, size_t idx)
{
    for (size_t i = 0; i < log->n; i++)
        if (log->ev[i].kind == kind && idx-- == 0)
            return &log->ev[i];
    return NULL;
}

uint32_t fx_crlfs(const fx_log *log)
{
    uint32_t n = 0;
    for (size_t i = 0; i < log->n; i++)
        if (log->ev[i].kind == SL_EV_SIP_KEEPALIVE)
            n += log->ev[i].crlf_count;
    return n;
}

/* A growing string: the signature of a log with long first lines or
 * anomaly texts has no useful fixed bound, and a truncated one would make
 * two different feeds compare equal. */
typedef struct sig_buf {
    char *s;
    size_t cap, used;
} sig_buf;

__attribute__((format(printf, 2, 3))) static void sig_add(sig_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->s + b->used, b->cap - b->used, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    if ((size_t)n >= b->cap - b->used) {
        size_t cap = 2 * (b->used + (size_t)n + 1);
        char *s = realloc(b->s, cap);
        if (!s)
            abort();
        b->s = s;
        b->cap = cap;
        va_start(ap, fmt);
        n = vsnprintf(b->s + b->used, b->cap - b->used, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= b->cap - b->used)
            abort();
    }
    b->used += (size_t)n;
}

char *fx_signature(const fx_log *log)
{
    sig_buf b = {malloc(256), 256, 0};
    if (!b.s)
        abort();
    b.s[0] = '\0';
    uint32_t run = 0;
    for (size_t i = 0; i <= log->n; i++) {
        const fx_ev *e = i < log->n ? &log->ev[i] : NULL;
        if (e && e->kind == SL_EV_SIP_KEEPALIVE) {
            run += e->crlf_count;
            continue;
        }
        if (run)
            sig_add(&b, "K%u;", run);
        run = 0;
        if (!e)
            break;
        if (e->kind == SL_EV_ANOMALY)
            sig_add(&b, "A%d:%s;", e->code, e->text);
        else if (e->kind == SL_EV_SIP)
            sig_add(&b, "S%.*s|%.*s|%zu|%d;", (int)e->rec->f.first_line.n, e->rec->f.first_line.p,
                    (int)e->rec->f.call_id.n, e->rec->f.call_id.p ? e->rec->f.call_id.p : "", e->rec->f.body_len,
                    e->rec->f.malformed);
    }
    sig_add(&b, "L%zu", log->left_over);
    return b.s;
}

/* ---- fake core ---- */

struct fx_core {
    const sl_dissector *d;
    void *state;
    sl_transport tr;
    fx_log *log;
    uint8_t *tail[2]; /* unconsumed bytes per direction */
    uint64_t *frames[2]; /* frame of each tail byte */
    size_t n[2];
    uint64_t frame;
    /* the buffer being fed */
    const uint64_t *cur_frames;
    sl_dir cur_dir;
};

static void sink_span(void *ctx, size_t start, size_t end, sl_span *out)
{
    fx_core *c = ctx;
    out->first_frame = c->cur_frames[start];
    out->last_frame = c->cur_frames[end - 1];
    out->first_ts = (sl_time_ns)out->first_frame * SL_NS_PER_SEC;
    out->last_ts = (sl_time_ns)out->last_frame * SL_NS_PER_SEC;
}

static void sink_emit(void *ctx, const sl_event *ev)
{
    fx_core *c = ctx;
    fx_ev *e = log_add(c->log);
    e->kind = ev->kind;
    e->dir = ev->dir;
    e->span = ev->span;
    if (ev->kind == SL_EV_ANOMALY) {
        e->code = ev->u.anomaly->code;
        snprintf(e->text, sizeof e->text, "%s", ev->u.anomaly->text);
    } else if (ev->kind == SL_EV_SIP_KEEPALIVE) {
        e->crlf_count = ((const sl_sip_keepalive *)ev->u.any)->crlf_count;
    } else if (ev->kind == SL_EV_SIP) {
        e->had_osip = ev->u.sip->osip != NULL;
        e->rec = sl_sip_record_new(ev->u.sip, &ev->span, fx_flow(c->tr), ev->dir);
        if (!e->rec)
            abort();
    }
}

static const sl_sink_ops fx_ops = {.emit = sink_emit, .span = sink_span};

fx_core *fx_core_new(const sl_dissector *d, sl_transport tr, const sl_config *cfg, fx_log *log)
{
    static sl_config defaults;
    if (!cfg) {
        sl_limits_default(&defaults.limits);
        cfg = &defaults;
    }
    fx_core *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    c->d = d;
    c->tr = tr;
    c->log = log;
    c->state = d->state_new(fx_flow(tr), cfg, NULL);
    if (!c->state)
        abort();
    return c;
}

void fx_core_push(fx_core *c, sl_dir dir, const uint8_t *data, size_t len)
{
    c->frame++;
    size_t n = c->n[dir] + len;
    /* An exact-size copy, so a read past the end trips AddressSanitizer. */
    uint8_t *buf = malloc(n ? n : 1);
    uint64_t *fr = malloc((n ? n : 1) * sizeof *fr);
    if (!buf || !fr)
        abort();
    if (c->n[dir])
        memcpy(buf, c->tail[dir], c->n[dir]);
    memcpy(buf + c->n[dir], data, len);
    for (size_t i = 0; i < n; i++)
        fr[i] = i < c->n[dir] ? c->frames[dir][i] : c->frame;
    free(c->tail[dir]);
    free(c->frames[dir]);
    c->cur_frames = fr;
    sl_sink sink = {.ops = &fx_ops, .ctx = c};
    size_t used = 0;
    c->d->feed(c->state, dir, buf, n, &used, &sink);
    if (used > n)
        abort();
    if (c->tr == SL_TRANSPORT_UDP)
        used = n; /* each datagram stands alone */
    c->n[dir] = n - used;
    c->tail[dir] = malloc(c->n[dir] ? c->n[dir] : 1);
    c->frames[dir] = malloc((c->n[dir] ? c->n[dir] : 1) * sizeof *fr);
    if (!c->tail[dir] || !c->frames[dir])
        abort();
    memcpy(c->tail[dir], buf + used, c->n[dir]);
    memcpy(c->frames[dir], fr + used, c->n[dir] * sizeof *fr);
    free(buf);
    free(fr);
    c->cur_frames = NULL;
}

void fx_core_gap(fx_core *c, sl_dir dir, uint64_t missing)
{
    c->n[dir] = 0; /* the core drops the unconsumed tail */
    c->d->gap(c->state, dir, missing);
}

void fx_core_free(fx_core *c)
{
    if (!c)
        return;
    c->log->left_over = c->n[0] + c->n[1];
    c->d->state_free(c->state);
    for (int i = 0; i < 2; i++) {
        free(c->tail[i]);
        free(c->frames[i]);
    }
    free(c);
}

void fx_feed(const sl_dissector *d, sl_transport tr, const sl_config *cfg, const uint8_t *data, size_t len,
             const size_t *cuts, size_t n_cuts, fx_log *log)
{
    fx_core *c = fx_core_new(d, tr, cfg, log);
    size_t prev = 0;
    for (size_t i = 0; i <= n_cuts; i++) {
        size_t end = i < n_cuts ? cuts[i] : len;
        if (end > prev || i == n_cuts)
            fx_core_push(c, SL_DIR_C2S, data + prev, end - prev);
        prev = end;
    }
    fx_core_free(c);
}

void fx_feed_whole(const sl_dissector *d, sl_transport tr, const uint8_t *data, size_t len, fx_log *log)
{
    fx_feed(d, tr, NULL, data, len, NULL, 0, log);
}

void fx_feed_cut(const sl_dissector *d, sl_transport tr, const uint8_t *data, size_t len, size_t k, fx_log *log)
{
    fx_feed(d, tr, NULL, data, len, &k, 1, log);
}

void fx_feed_bytes(const sl_dissector *d, sl_transport tr, const uint8_t *data, size_t len, fx_log *log)
{
    fx_core *c = fx_core_new(d, tr, NULL, log);
    for (size_t i = 0; i < len; i++)
        fx_core_push(c, SL_DIR_C2S, data + i, 1);
    fx_core_free(c);
}

const sl_flow_info *fx_flow(sl_transport tr)
{
    static const sl_flow_info flows[2] = {
        {.transport = SL_TRANSPORT_UDP, .addr = {{4, {192, 0, 2, 1}}, {4, {192, 0, 2, 2}}}, .port = {5060, 5061},
         .conn_index = 1},
        {.transport = SL_TRANSPORT_TCP, .addr = {{4, {192, 0, 2, 1}}, {4, {192, 0, 2, 2}}}, .port = {5060, 5061},
         .conn_index = 1},
    };
    return &flows[tr == SL_TRANSPORT_TCP];
}
