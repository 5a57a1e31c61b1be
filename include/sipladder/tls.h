/* tls.h - the events the TLS dissector (dissectors/tls.c) emits as SL_EV_TLS.
 *
 * An sl_tls_event and everything it points to are BORROWED for the duration
 * of the emit call: a receiver copies what it keeps (sl_tls_session does).
 * Texts taken from the capture (SNI, ALPN, DNs) are NUL-terminated but
 * otherwise raw: escape them before printing. */
#ifndef SIPLADDER_TLS_H
#define SIPLADDER_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sipladder/dissector.h"
#include "sipladder/x509_info.h"

extern const sl_dissector sl_dissector_tls;

/* Record content types (RFC 8446 5.1). */
enum {
    SL_TLS_CT_CHANGE_CIPHER_SPEC = 20,
    SL_TLS_CT_ALERT = 21,
    SL_TLS_CT_HANDSHAKE = 22,
    SL_TLS_CT_APPLICATION_DATA = 23,
    SL_TLS_CT_HEARTBEAT = 24,
};

/* Handshake message types (RFC 8446 4, RFC 5246 7.4). */
enum {
    SL_TLS_HS_CLIENT_HELLO = 1,
    SL_TLS_HS_SERVER_HELLO = 2,
    SL_TLS_HS_NEW_SESSION_TICKET = 4,
    SL_TLS_HS_CERTIFICATE = 11,
    SL_TLS_HS_SERVER_KEY_EXCHANGE = 12,
    SL_TLS_HS_CERTIFICATE_REQUEST = 13,
    SL_TLS_HS_SERVER_HELLO_DONE = 14,
    SL_TLS_HS_CERTIFICATE_VERIFY = 15,
    SL_TLS_HS_CLIENT_KEY_EXCHANGE = 16,
    SL_TLS_HS_FINISHED = 20,
    SL_TLS_HS_CERTIFICATE_STATUS = 22, /* RFC 6066 8: a stapled OCSP response */
};

typedef enum {
    SL_TLS_EV_RECORD = 0,        /* every record, before what it carries: u.record */
    SL_TLS_EV_CLIENT_HELLO,      /* u.client_hello */
    SL_TLS_EV_SERVER_HELLO,      /* u.server_hello (also a HelloRetryRequest) */
    SL_TLS_EV_CERTIFICATE,       /* u.certificate */
    SL_TLS_EV_CERTIFICATE_REQUEST, /* u.certificate_request */
    SL_TLS_EV_HANDSHAKE,         /* any other clear handshake message: hs_type says which;
                                    CertificateStatus: u.certificate_status,
                                    NewSessionTicket: u.new_session_ticket */
    SL_TLS_EV_ENCRYPTED_HANDSHAKE, /* a handshake record after ChangeCipherSpec (Finished) */
    SL_TLS_EV_CHANGE_CIPHER_SPEC,
    SL_TLS_EV_ALERT,             /* u.alert */
    SL_TLS_EV_APPLICATION_DATA,  /* u.app_data: consecutive records of one feed call */
    SL_TLS_EV_TLS13_ENCRYPTED,   /* TLS 1.3 ServerHello seen: what follows, certificates
                                    included, is encrypted (emitted once per connection) */
} sl_tls_event_type;

typedef struct sl_tls_record {
    uint8_t content_type;
    uint16_t version; /* record-layer version; 0x0002 for an SSLv2-compatible ClientHello */
    uint16_t length;
    bool encrypted;   /* after ChangeCipherSpec in this direction, or TLS 1.3 opaque */
} sl_tls_record;

#define SL_TLS_MAX_LIST 64 /* versions, signature algorithms, ALPN ids kept */

typedef struct sl_tls_client_hello {
    bool sslv2;                   /* SSLv2-compatible ClientHello (RFC 5246 E.2) */
    uint16_t legacy_version;
    size_t n_cipher_suites;
    uint16_t supported_versions[SL_TLS_MAX_LIST]; /* extension 43, as sent (GREASE too) */
    size_t n_supported_versions;
    uint16_t sig_algs[SL_TLS_MAX_LIST];           /* extension 13 */
    size_t n_sig_algs;
    const char *sni;                              /* extension 0 host_name, or NULL */
    const char *const *alpn;                      /* extension 16 */
    size_t n_alpn;
    size_t n_extensions;
} sl_tls_client_hello;

typedef struct sl_tls_server_hello {
    uint16_t legacy_version;
    uint16_t version;        /* selected: supported_versions when present, else legacy */
    uint16_t cipher_suite;
    const char *cipher_name; /* IANA name or "0xC02F" */
    bool hello_retry_request;
    const char *alpn;        /* selected protocol, or NULL */
} sl_tls_server_hello;

typedef struct sl_tls_certificate {
    /* Parsed, leaf first, as sent: shared infos (x509_info.h), borrowed for
     * the event; take a reference (sl_cert_info_ref) to keep one. */
    const sl_cert_info *const *certs;
    size_t n_certs; /* kept (at most limits.max_certs_per_chain) */
    size_t n_sent;  /* in the message */
} sl_tls_certificate;

typedef struct sl_tls_certificate_request {
    const char *const *ca_names; /* RFC 2253 text of each acceptable CA */
    size_t n_ca_names;
    size_t n_ca_sent;            /* in the message (more than kept, or unparsable) */
} sl_tls_certificate_request;

/* CertificateStatus (RFC 6066 8, RFC 6961 2.2): the OCSP response a server
 * staples.  Read with OpenSSL; -1 where the bytes did not say. */
typedef struct sl_tls_certificate_status {
    uint8_t status_type;      /* 1 ocsp, 2 ocsp_multi */
    uint32_t response_length; /* DER bytes of the (first) OCSPResponse */
    int response_status;      /* OCSPResponse.responseStatus: 0 successful, 1 malformedRequest,
                                 2 internalError, 3 tryLater, 5 sigRequired, 6 unauthorized */
    int cert_status;          /* first SingleResponse: 0 good, 1 revoked, 2 unknown */
} sl_tls_certificate_status;

/* NewSessionTicket as TLS <= 1.2 sends it in the clear (RFC 5077 3.3). */
typedef struct sl_tls_new_session_ticket {
    uint32_t lifetime_hint;   /* seconds; 0: not specified */
    uint16_t ticket_length;
} sl_tls_new_session_ticket;

typedef struct sl_tls_alert {
    bool encrypted;      /* after ChangeCipherSpec: level/description unknown */
    uint8_t level;       /* 1 warning, 2 fatal */
    uint8_t description;
    const char *name;    /* "unknown_ca", or "unknown(200)" */
} sl_tls_alert;

typedef struct sl_tls_app_data {
    uint64_t records;
    uint64_t bytes;      /* record payload bytes */
} sl_tls_app_data;

typedef struct sl_tls_event {
    sl_tls_event_type type;
    uint8_t hs_type;     /* handshake events: the message type */
    uint32_t hs_length;  /* handshake events: the message body length */
    union {
        sl_tls_record record;
        sl_tls_client_hello client_hello;
        sl_tls_server_hello server_hello;
        sl_tls_certificate certificate;
        sl_tls_certificate_request certificate_request;
        sl_tls_certificate_status certificate_status;
        sl_tls_new_session_ticket new_session_ticket;
        sl_tls_alert alert;
        sl_tls_app_data app_data;
    } u;
} sl_tls_event;

/* Names: static text, or NULL when the number is not in the table. */
const char *sl_tls_alert_name(uint8_t description);          /* "unknown_ca" */
const char *sl_tls_cipher_name(uint16_t suite);              /* "TLS_AES_128_GCM_SHA256" */
const char *sl_tls_version_name(uint16_t version);           /* "TLS 1.2" */
const char *sl_tls_handshake_name(uint8_t type);             /* "ClientHello" */
const char *sl_tls_ocsp_status_name(int response_status);    /* "successful" */
const char *sl_tls_cert_status_name(int cert_status);        /* "good", "revoked", "unknown" */
/* As above, but never NULL: an unknown number is written as "0xC02F" into buf. */
const char *sl_tls_cipher_text(uint16_t suite, char *buf, size_t len);
const char *sl_tls_version_text(uint16_t version, char *buf, size_t len);

#endif
