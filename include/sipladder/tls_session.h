/* tls_session.h - one connection's TLS handshake, summarised from the TLS
 * events of both directions, and its outcome (who rejected whom, and why).
 *
 * An sl_tls_session OWNS everything it holds (copied from the borrowed
 * events), except the certificates: it holds a reference to each shared
 * parse (x509_info.h), as does every other session that saw the same DER.
 * Its fields are read-only for everyone but tls_session.c. */
#ifndef SIPLADDER_TLS_SESSION_H
#define SIPLADDER_TLS_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sipladder/config.h"
#include "sipladder/dissector.h"
#include "sipladder/tls.h"
#include "sipladder/x509_info.h"

/* Where something was seen: frame 0 = never. */
typedef struct sl_tls_mark {
    uint64_t frame;
    sl_time_ns ts;
} sl_tls_mark;

typedef struct sl_tls_alert_seen {
    sl_dir dir; /* sender */
    bool encrypted;
    uint8_t level, description;
    uint64_t frame;
    sl_time_ns ts;
} sl_tls_alert_seen;

typedef struct sl_tls_chain {
    const sl_cert_info **certs; /* owned array of shared references, leaf first */
    size_t n;
    size_t n_sent;       /* in the message (n may be capped) */
    sl_tls_mark at;      /* the Certificate message; frame 0 = none sent */
} sl_tls_chain;

#define SL_TLS_HS_COUNTED 25

/* Per direction (index sl_dir: [SL_DIR_C2S] = client). */
typedef struct sl_tls_side {
    sl_tls_mark ccs, finished;       /* ChangeCipherSpec; encrypted handshake after it */
    sl_tls_mark key_exchange;        /* ClientKeyExchange / ServerKeyExchange */
    sl_tls_mark cert_verify;         /* CertificateVerify */
    sl_tls_mark hello_done;          /* ServerHelloDone */
    sl_tls_mark first_app, last_app; /* application data (TLS 1.3: every encrypted record) */
    uint64_t app_records, app_bytes;
    sl_tls_mark last_hs;             /* last clear or encrypted handshake message or CCS */
    uint32_t hs_messages[SL_TLS_HS_COUNTED]; /* clear handshake messages by type (< 25) */
    uint32_t hs_other;               /* clear handshake messages of a type >= 25 */
    uint64_t records;
    uint64_t anomalies;
} sl_tls_side;

/* The handshake in capture order, one step per message: every clear
 * handshake message (named by its type, never by the direction, which a
 * capture with the roles swapped gets wrong), each ChangeCipherSpec and each
 * encrypted handshake record.  The fields above keep the last of each kind;
 * this keeps them all (both ClientHellos around a HelloRetryRequest,
 * NewSessionTicket, CertificateStatus, KeyUpdate, unknown types). */
typedef enum {
    SL_TLS_STEP_HANDSHAKE = 0, /* hs_type says which */
    SL_TLS_STEP_CHANGE_CIPHER_SPEC,
    SL_TLS_STEP_ENCRYPTED,     /* a handshake record after ChangeCipherSpec (Finished first) */
} sl_tls_step_kind;

typedef struct sl_tls_step {
    sl_tls_step_kind kind;
    uint8_t hs_type;
    bool hello_retry;          /* a ServerHello that is a HelloRetryRequest */
    sl_dir dir;                /* sender */
    uint32_t length;           /* handshake message body bytes */
    sl_tls_mark at;
    union {                    /* by hs_type; zero for the others */
        struct {
            bool sslv2;
            uint16_t legacy_version;
            size_t n_cipher_suites;
        } client_hello;
        struct {
            uint16_t version;  /* selected */
            uint16_t cipher_suite;
        } server_hello;        /* and HelloRetryRequest */
        sl_tls_certificate_status certificate_status;
        sl_tls_new_session_ticket new_session_ticket;
    } u;
} sl_tls_step;

/* Steps kept per session; more (a renegotiation loop) are only counted. */
#define SL_TLS_MAX_STEPS 256

typedef struct sl_tls_session {
    /* ClientHello (the last one when a HelloRetryRequest asked for another). */
    sl_tls_mark client_hello;
    size_t n_client_hellos;
    bool sslv2_hello;
    uint16_t ch_legacy_version;
    uint16_t ch_versions[SL_TLS_MAX_LIST];
    size_t n_ch_versions;
    uint16_t ch_sig_algs[SL_TLS_MAX_LIST];
    size_t n_ch_sig_algs;
    size_t n_cipher_suites;
    char *sni;    /* owned, raw capture text */
    char **alpn;  /* owned */
    size_t n_alpn;
    /* ServerHello. */
    sl_tls_mark server_hello;
    sl_tls_mark hello_retry;   /* HelloRetryRequest */
    uint16_t version;          /* negotiated */
    uint16_t cipher_suite;
    char *alpn_selected;       /* owned */
    bool tls13;                /* certificates are encrypted */
    /* CertificateRequest: the server asked for mutual TLS. */
    sl_tls_mark cert_request;
    char **ca_names;           /* owned RFC 2253 texts */
    size_t n_ca_names;
    sl_tls_chain chain[2];     /* by sender: [SL_DIR_S2C] = server's chain */
    sl_tls_alert_seen *alerts; /* owned, in order */
    size_t n_alerts;
    sl_tls_side side[2];
    sl_tls_step *steps;        /* owned, ascending frame (arrival order within a frame) */
    size_t n_steps;
    uint64_t steps_not_kept;   /* beyond SL_TLS_MAX_STEPS, or out of memory */
    uint64_t first_frame, last_frame;
    sl_time_ns first_ts, last_ts;
} sl_tls_session;

/* NULL when out of memory. */
sl_tls_session *sl_tls_session_new(void);
void sl_tls_session_free(sl_tls_session *s); /* NULL-safe */

/* Fold one event of this connection in (anomalies are counted, other kinds
 * ignored).  The event is borrowed.  0 or -SL_ENOMEM (the session stays
 * consistent; it only lacks what could not be copied). */
int sl_tls_session_add_event(sl_tls_session *s, const sl_event *ev);

/* The name of steps[i], for people and JSON alike: "ClientHello",
 * "HelloRetryRequest", "ChangeCipherSpec", "Finished (encrypted)" (the first
 * encrypted handshake record of a direction; a later one is "Handshake
 * (encrypted)"), "Handshake type 99" (written into buf) for a type without a
 * name.  Never NULL. */
const char *sl_tls_step_name(const sl_tls_session *s, size_t i, char *buf, size_t len);

/* How the TCP connection ended, from the core's flow tracking. */
typedef enum { SL_TCP_END_OPEN = 0, SL_TCP_END_FIN, SL_TCP_END_RST } sl_tcp_end_kind;
typedef struct sl_tcp_end {
    sl_tcp_end_kind kind; /* OPEN: still open at capture end */
    sl_dir by;            /* who sent the first FIN / the RST */
    uint64_t frame;
    sl_time_ns ts;
} sl_tcp_end;

typedef enum {
    SL_TLS_OUTCOME_NONE = 0,          /* no handshake seen (mid-stream capture) */
    SL_TLS_OUTCOME_COMPLETED,
    SL_TLS_OUTCOME_FATAL_ALERT,       /* a fatal alert in the clear */
    SL_TLS_OUTCOME_CLOSED_AFTER_CERT, /* FIN/RST right after the peer's Certificate, no alert */
    SL_TLS_OUTCOME_CLOSED,            /* FIN/RST at another point of the handshake */
    SL_TLS_OUTCOME_NO_SERVER_HELLO,   /* ClientHello never answered */
    SL_TLS_OUTCOME_INCOMPLETE,        /* still open at capture end, handshake unfinished */
} sl_tls_outcome_kind;

/* Certificate hints (SCENARIOS.md), about the chain that was rejected. */
enum {
    SL_TLS_HINT_SELF_SIGNED = 1u << 0,
    SL_TLS_HINT_TEMPORARY = 1u << 1,   /* OU/CN says Temporary or Default */
    SL_TLS_HINT_NO_INTERMEDIATE = 1u << 2,
    SL_TLS_HINT_EXPIRED = 1u << 3,
    SL_TLS_HINT_NOT_YET_VALID = 1u << 4,
    SL_TLS_HINT_NAME_MISMATCH = 1u << 5,
    SL_TLS_HINT_CA_NOT_REQUESTED = 1u << 6, /* client's issuer not in the CertificateRequest list */
    SL_TLS_HINT_VERIFY_FAILED = 1u << 7,    /* X509_verify_cert said no (see report) */
    SL_TLS_HINT_BAD_ORDER = 1u << 8,
    SL_TLS_HINT_BROKEN_CERT = 1u << 9,
    SL_TLS_HINT_EMPTY_CHAIN = 1u << 10, /* an empty Certificate: no certificate configured */
};

#define SL_TLS_OUTCOME_MAX_FRAMES 4

typedef struct sl_tls_outcome {
    sl_tls_outcome_kind kind;
    sl_dir side;         /* who rejected / closed / did not answer (server for NO_SERVER_HELLO) */
    bool has_side;
    uint8_t alert;       /* FATAL_ALERT: the description */
    bool answers_chain;  /* the rejection followed the peer's Certificate */
    sl_dir chain_of;     /* whose chain was rejected: the peer of `side` */
    unsigned hints;      /* SL_TLS_HINT_* about chain[chain_of] */
    sl_chain_report report[2]; /* checks of each chain at its packet time (n == 0: none sent) */
    uint64_t frames[SL_TLS_OUTCOME_MAX_FRAMES]; /* evidence, ascending */
    size_t n_frames;
    char reason[200];    /* one line, ASCII; the names in it are from the tables, not the capture */
} sl_tls_outcome;

/* Conclude.  end and opts are borrowed (opts may be NULL).  0 or -SL_ENOMEM. */
int sl_tls_session_outcome(const sl_tls_session *s, const sl_tcp_end *end, const sl_tls_options *opts,
                           sl_tls_outcome *out);

/* "completed", "fatal_alert", ... : static text. */
const char *sl_tls_outcome_name(sl_tls_outcome_kind kind);
/* The first fatal alert sent in the clear, or NULL. */
const sl_tls_alert_seen *sl_tls_session_first_fatal(const sl_tls_session *s);
/* The SL_TLS_HINT_* bits a chain's report shows (the chain alone: not
 * EMPTY_CHAIN or CA_NOT_REQUESTED, which need the session). */
unsigned sl_tls_chain_hints(const sl_chain_report *r);
/* "self-signed", ...: the name of one SL_TLS_HINT_* bit; NULL if unknown. */
const char *sl_tls_hint_name(unsigned bit);

#endif
