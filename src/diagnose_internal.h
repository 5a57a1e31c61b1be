/* diagnose_internal.h - what the rule files (diagnose_tcp.c, diagnose_tls.c,
 * diagnose_sip.c, diagnose_dns.c) share: the run context and the helpers
 * that append one verdict and fill it.  Not installed, not a contract. */
#ifndef SIPLADDER_DIAGNOSE_INTERNAL_H
#define SIPLADDER_DIAGNOSE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sipladder/diagnose.h"

typedef struct sl_dg_ctx {
    const sl_model *m;
    const sl_calls *calls;           /* NULL: SIP rules skipped */
    const sl_diagnose_options *o;
    sl_diagnoses *out;
    size_t cap;
    sl_capture_point cp;             /* local2: when it relays a call between two of its own
                                      * addresses (an Expressway-E's inside and outside interfaces) */
    bool *conn_judged;               /* [position in m->conns]: a verdict already names it */
    bool unscoped;                   /* judge every connection (diagnose_scope.c) */
    uint32_t *signalling_ports;      /* sorted (transport << 16 | server port) keys that carried
                                      * SIP or TLS (diagnose_scope.c), owned */
    size_t n_signalling_ports;
} sl_dg_ctx;

/* A new zeroed verdict at the end of the list (call -1 and conn 0 mean
 * none), or NULL when out of memory.  The pointer is valid until the next
 * sl_dg_add. */
sl_diagnosis *sl_dg_add(sl_dg_ctx *x, const char *code, int call, uint32_t conn);
/* printf-style setters; 0 or -SL_ENOMEM. */
int sl_dg_summary(sl_diagnosis *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sl_dg_cause(sl_diagnosis *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Add a frame (0 ignored) keeping the list ascending and unique. */
int sl_dg_evidence(sl_diagnosis *d, uint64_t frame);
/* Name the rejecter; the label comes from the calls' hosts. */
void sl_dg_reject(const sl_dg_ctx *x, sl_diagnosis *d, const sl_addr *a, uint16_t port, sl_role role);
/* "10.0.0.1:5060" or "10.0.0.1:5060 (label)"; capture text escaped. */
const char *sl_dg_endpoint(const sl_dg_ctx *x, const sl_addr *a, uint16_t port, char *buf, size_t len);
/* Whether a is (one address of) the capture point. */
bool sl_dg_is_local(const sl_dg_ctx *x, const sl_addr *a);
/* Escaped copy of a capture string into buf (always NUL-terminated). */
const char *sl_dg_text(const char *s, size_t n, char *buf, size_t len);

/* The ports that carried signalling, for sl_dg_in_scope; 0 or -SL_ENOMEM.
 * sl_dg_scope_free releases them. */
int sl_dg_scope_init(sl_dg_ctx *x);
void sl_dg_scope_free(sl_dg_ctx *x);
/* Whether the diagnosis judges this connection (diagnose_scope.c). */
bool sl_dg_in_scope(const sl_dg_ctx *x, const sl_conn *c);
/* Whether every connection is judged: asked for, or the capture holds no
 * signalling at all (then there is nothing else to speak of). */
bool sl_dg_unscoped(const sl_model *m, const sl_diagnose_options *o);

int sl_dg_rules_tcp(sl_dg_ctx *x);
int sl_dg_rules_tls(sl_dg_ctx *x);
int sl_dg_rules_sip(sl_dg_ctx *x);
int sl_dg_rules_dns(sl_dg_ctx *x);

#endif
