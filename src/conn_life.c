/* conn_life.c - a TCP connection's set-up, use and close, from the counts
 * and marks tcp_track.c keeps (see conn_life.h). */
#include "sipladder/conn_life.h"

#include "sipladder/tls_session.h"

/* A FIN of either side before the RST: the close was under way. */
static bool fin_before_rst(const sl_conn *c)
{
    for (int s = 0; s < 2; s++)
        if (c->fin[s].frame && c->fin[s].frame < c->rst.frame)
            return true;
    return false;
}

/* A TLS alert (close_notify, encrypted or not) before the RST of a session
 * whose both sides had sent application data: the session was closed, and
 * the RST only tears down the socket (many stacks close that way). */
static bool alert_before_rst(const sl_conn *c)
{
    const sl_tls_session *s = c->tls;
    if (!s || !s->side[0].app_records || !s->side[1].app_records)
        return false;
    for (size_t i = 0; i < s->n_alerts; i++)
        if (s->alerts[i].frame && s->alerts[i].frame <= c->rst.frame &&
            s->alerts[i].frame > s->side[0].first_app.frame && s->alerts[i].frame > s->side[1].first_app.frame)
            return true;
    return false;
}

static bool any_payload_before_rst(const sl_conn *c)
{
    return c->before_rst[0].bytes || c->before_rst[1].bytes;
}

/* The server retransmitted its SYN-ACK by itself (more SYN-ACKs than the
 * client's SYNs asked for, or one after the client's ACK): it never got
 * that ACK. */
static bool synack_resent(const sl_conn *c)
{
    if (c->synack_count < 2)
        return false;
    if (c->synack_count > c->syn_count)
        return true;
    uint32_t kept = c->synack_count < SL_MAX_SYN_FRAMES ? c->synack_count : SL_MAX_SYN_FRAMES;
    return c->established_frame && c->synack_frames[kept - 1] > c->established_frame;
}

static void judge_reset(const sl_conn *c, sl_conn_life *l)
{
    uint8_t s = c->rst.side, peer = s == SL_SIDE_CLIENT ? SL_SIDE_SERVER : SL_SIDE_CLIENT;
    const sl_data_mark *mine = &c->before_rst[s], *theirs = &c->before_rst[peer];
    sl_time_ns last = mine->ts > theirs->ts ? mine->ts : theirs->ts;
    l->idle = c->rst.ts - last;
    if (theirs->frame && theirs->frame > mine->frame && c->rst.ts - theirs->ts <= SL_LIFE_ANSWER_NS) {
        l->answers = true;
        l->answered_frame = theirs->frame;
        l->answer_delay = c->rst.ts - theirs->ts;
    }
}

sl_conn_life sl_conn_life_of(const sl_conn *c)
{
    sl_conn_life l = {.kind = SL_LIFE_OPEN};
    if (c->info.transport != SL_TRANSPORT_TCP)
        return l;
    bool used = any_payload_before_rst(c) || (!c->rst_count && (c->data[0].bytes || c->data[1].bytes));
    if (c->refused) {
        l.kind = SL_LIFE_REFUSED;
        l.rst_side = SL_SIDE_SERVER;
        l.injected = c->rst.ttl_differs;
        return l;
    }
    if (c->syn_count && !c->synack_count && !c->rst_count)
        return (sl_conn_life){.kind = c->data[0].bytes ? SL_LIFE_OPEN : SL_LIFE_NO_ANSWER};
    /* A client that answers a SYN-ACK with its own RST got it and said no. */
    bool client_said_no = c->rst_count && c->rst.side == SL_SIDE_CLIENT && !any_payload_before_rst(c);
    if (synack_resent(c) && !c->data[SL_SIDE_SERVER].bytes && !client_said_no) {
        l.kind = SL_LIFE_HANDSHAKE_LOST;
        return l;
    }
    if (!c->rst_count) {
        /* Set up and left alone, or closed by FIN: a client that sent its
         * FIN before the handshake completed gave up. */
        if (c->syn_count && !c->established_frame && !used && c->fin[SL_SIDE_CLIENT].frame)
            l.kind = SL_LIFE_ABANDONED;
        return l;
    }
    l.rst_side = c->rst.side;
    l.injected = c->rst.ttl_differs;
    if (fin_before_rst(c) || alert_before_rst(c)) {
        l.kind = SL_LIFE_CLOSED;
        return l;
    }
    if (!used) {
        if (!c->syn_seen && !c->synack_count)
            l.kind = SL_LIFE_STRAY_RST;
        else if (c->rst.side == SL_SIDE_CLIENT)
            l.kind = c->established_frame ? SL_LIFE_PROBE : SL_LIFE_ABANDONED;
        else if (c->synack_frame && c->rst.frame < c->synack_frame) {
            /* The server answered the SYN after all: the RST was not its own. */
            l.kind = SL_LIFE_RESET_UNUSED;
            l.before_synack = l.injected = true;
        } else
            l.kind = SL_LIFE_RESET_UNUSED;
        return l;
    }
    l.kind = SL_LIFE_RESET_IN_USE;
    judge_reset(c, &l);
    return l;
}
