/* conn_life.h - how a TCP connection lived, read from the model's record:
 * set up or not, used or not, and how it ended (closed normally, reset in
 * use, never answered...).  The diagnosis judges only from this, so that a
 * probe, a client giving up or a normal abortive close is never taken for a
 * rejection (issue 14). */
#ifndef SIPLADDER_CONN_LIFE_H
#define SIPLADDER_CONN_LIFE_H

#include <stdbool.h>
#include <stdint.h>

#include "sipladder/model.h"

typedef enum {
    SL_LIFE_OPEN = 0,        /* set up (or seen mid-stream) and not reset: open, or closed by FIN */
    SL_LIFE_NO_ANSWER,       /* SYNs, and nothing came back */
    SL_LIFE_REFUSED,         /* an RST in the server's name answered the SYN */
    SL_LIFE_ABANDONED,       /* the client gave up before set-up: its own RST or FIN after its SYN
                              * (happy eyeballs, a scanner, a timeout of its own) */
    SL_LIFE_HANDSHAKE_LOST,  /* the server kept resending its SYN-ACK: the third ACK never reached it */
    SL_LIFE_PROBE,           /* set up, no payload either way, ended by the client (port check) */
    SL_LIFE_STRAY_RST,       /* an RST with no set-up and no payload in the capture (a stale ACK's answer) */
    SL_LIFE_CLOSED,          /* ended normally: RST after a FIN or after a TLS alert that closed a used session */
    SL_LIFE_RESET_UNUSED,    /* set up, then reset by the server before any payload */
    SL_LIFE_RESET_IN_USE,    /* reset after payload, with no close under way */
} sl_conn_life_kind;

typedef struct sl_conn_life {
    sl_conn_life_kind kind;
    /* For the resets: the RST's sender (SL_SIDE_*), and whether it came
     * soon after payload of the other side that it may be answering
     * (answered: that payload's last frame and the delay). */
    uint8_t rst_side;
    bool answers;
    uint64_t answered_frame;
    sl_time_ns answer_delay;
    sl_time_ns idle;         /* time from the last payload (either side) to the RST */
    bool injected;           /* the RST's TTL is not its sender's usual one, or it came before
                              * the SYN-ACK of a server that then answered */
    bool before_synack;
} sl_conn_life;

/* An RST this soon after the peer's payload is taken as its answer. */
#define SL_LIFE_ANSWER_NS INT64_C(1000000000)

/* Classify a TCP connection (a UDP one is SL_LIFE_OPEN). */
sl_conn_life sl_conn_life_of(const sl_conn *c);

#endif
