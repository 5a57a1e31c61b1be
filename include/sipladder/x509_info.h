/* x509_info.h - what a TLS peer's certificate says, parsed once with OpenSSL,
 * and the chain checks a TAC engineer does by hand (SCENARIOS.md, hints).
 *
 * An sl_cert_info OWNS everything it points to, including a copy of the DER,
 * so that a chain outlives the capture buffer it came from.  A DER entry that
 * OpenSSL cannot read yields an info with `broken` set and `error` saying why:
 * never a fatal error.
 *
 * A capture repeats the same few certificates in every handshake, so the TLS
 * dissector and the sessions share one parse per DER (sl_cert_info_new/ref/
 * unref) instead of a copy each.  A shared info is immutable; nothing in it
 * depends on a packet's time (expiry and verification are checked per chain,
 * at its own time, by sl_chain_check). */
#ifndef SIPLADDER_X509_INFO_H
#define SIPLADDER_X509_INFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sipladder/config.h"
#include "sipladder/time.h"

typedef struct sl_cert_info {
    uint8_t *der; /* owned copy of the certificate as sent */
    size_t der_len;
    bool broken;  /* OpenSSL could not parse the DER; only der, sha256 and error are set */
    char *error;  /* owned; why it is broken, else NULL */
    /* Texts below are owned, NUL-terminated, RFC 2253 order for DNs; NULL when
     * absent.  They come from the capture: escape them before printing. */
    char *subject, *subject_cn, *subject_ou;
    char *issuer, *issuer_cn;
    char **san_dns; /* owned array of owned strings */
    size_t n_san_dns;
    char **san_ip; /* "192.0.2.1", "2001:db8::1" */
    size_t n_san_ip;
    char *serial_hex;            /* "0BB9" (upper case, no separators) */
    sl_time_ns not_before, not_after;
    char key_type[16];           /* "RSA", "EC", "ED25519", "DSA", "?" */
    int key_bits;                /* 0 when unknown */
    char sig_alg[64];            /* "ecdsa-with-SHA256", "sha256WithRSAEncryption" */
    char sha256_hex[65];         /* lower-case hex of SHA-256 over the DER */
    bool has_basic_constraints;
    bool is_ca;                  /* basicConstraints cA */
    bool self_issued;            /* subject == issuer */
    bool self_signed;            /* self-issued and its own key verifies its signature */
} sl_cert_info;

/* Parse one DER certificate (borrowed) into *out (overwritten; clear it with
 * sl_cert_info_clear).  Returns 0 (also for a broken certificate: see
 * out->broken) or -SL_ENOMEM (then *out owns nothing). */
int sl_cert_info_parse(const uint8_t *der, size_t len, sl_cert_info *out);
/* Free what an info owns and zero it; NULL-safe.  Not for a shared info. */
void sl_cert_info_clear(sl_cert_info *ci);

/* A shared parse of one DER certificate (borrowed) in *out, with one
 * reference, owned by the caller: release it with sl_cert_info_unref.
 * 0 (also for a broken certificate) or -SL_ENOMEM (then *out is NULL). */
int sl_cert_info_new(const uint8_t *der, size_t len, const sl_cert_info **out);
/* One more reference to a shared info (from sl_cert_info_new only); returns ci. */
const sl_cert_info *sl_cert_info_ref(const sl_cert_info *ci);
/* Drop one reference; the last frees the info.  NULL-safe. */
void sl_cert_info_unref(const sl_cert_info *ci);

/* A DER-encoded X.509 Name (borrowed) as RFC 2253 text in *out (owned by the
 * caller, free()).  0, -SL_EMALFORMED (then *out is NULL) or -SL_ENOMEM. */
int sl_x509_name_text(const uint8_t *der, size_t len, char **out);

/* RFC 6125: does `name` match a SAN dNSName (or, with no dNSName, the CN)?
 * A wildcard is honoured only as the whole left-most label ("*.example.com"
 * matches "a.example.com", not "example.com" nor "a.b.example.com").  An IP
 * literal is compared with the SAN IPs only.  Case-insensitive. */
bool sl_cert_matches_name(const sl_cert_info *ci, const char *name);

/* Findings on one chain, leaf first, as sent. Indices are into the chain. */
typedef struct sl_chain_report {
    size_t n;                  /* certificates in the chain */
    size_t n_broken;           /* entries OpenSSL could not parse */
    bool order_ok;             /* each cert's issuer is the next one's subject */
    size_t order_break;        /* first i whose issuer != subject of i+1 (when !order_ok) */
    bool leaf_self_signed;     /* leaf subject == issuer */
    bool intermediate_missing; /* one certificate, not self-issued: the chain stops short */
    bool temporary_ou;         /* leaf OU/CN says "Temporary" or "Default": a default certificate */
    bool expired;              /* some certificate's notAfter is before `at` */
    size_t expired_index;
    bool not_yet_valid;        /* some certificate's notBefore is after `at` */
    size_t not_yet_valid_index;
    bool name_checked;         /* an expected name was given */
    bool name_matched;
    bool verify_done;          /* --ca-file/--ca-path given and the chain verified */
    bool verify_ok;
    int verify_error;          /* X509_V_ERR_* */
    int verify_depth;          /* where OpenSSL failed */
    char verify_reason[128];   /* X509_verify_cert_error_string, or why not verified */
} sl_chain_report;

/* Check a chain (n borrowed infos, leaf first) at time `at` (the packet's time).
 * opts may be NULL; its expect_name, ca_file and ca_path are each optional.
 * Returns 0, or -SL_ENOMEM.  Failure to load the CA file is reported in
 * verify_reason with verify_done false, not as an error. */
int sl_chain_check(const sl_cert_info *const *chain, size_t n, sl_time_ns at, const sl_tls_options *opts,
                   sl_chain_report *out);

/* Write the certificate as PEM to DIR/<sha256>.pem (for --export-certs DIR).
 * The path written goes to path_out when not NULL.  0, -SL_EIO (errno kept:
 * the directory is missing or not writable, the write failed), -SL_EUSAGE for a
 * certificate with no DER. An existing file with that name is overwritten
 * (same fingerprint, same content). */
int sl_cert_export_pem(const sl_cert_info *ci, const char *dir, char *path_out, size_t path_len);

#endif
