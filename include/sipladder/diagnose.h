/* diagnose.h - rules over the model and the calls that name, for each
 * failure, who rejected it, why, and the frames that prove it.  Codes are
 * the contract of ../shared/docs/SCENARIOS.md (tcp.no_answer, tcp.refused,
 * tcp.reset, tls.alert.<name>, tls.closed_after_certificate,
 * sip.response.<code>, sip.policy_reject, sip.bandwidth_reject,
 * sip.no_final_response, sip.codec_refused, sip.oversize_reset,
 * sip.refresh_lost, sip.param_stripped, sip.register.auth_failed,
 * sip.register.ok, dns.srv_failed, dns.srv_port_mismatch). */
#ifndef SIPLADDER_DIAGNOSE_H
#define SIPLADDER_DIAGNOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sipladder/addr.h"
#include "sipladder/calls.h"
#include "sipladder/model.h"

typedef enum {
    SL_ROLE_CLIENT = 0, /* the client side of the connection named */
    SL_ROLE_SERVER,     /* its server side */
    SL_ROLE_NETWORK,    /* nobody answered: the path (firewall, routing) or a dead far end */
    SL_ROLE_LOCAL,      /* a host on the capture point's side */
    SL_ROLE_REMOTE,     /* a host beyond it (the far end) */
} sl_role;

/* Who rejected.  For a network-level verdict (nobody answered) known is
 * false and addr/port name the destination that did not answer.  `local`
 * says whether that host is the capture point: the address that takes part
 * in the most connections and legs (on a tie, the client of the first
 * connection, since captures are usually taken where calls start). */
typedef struct sl_rejecter {
    bool known;       /* false for network-level verdicts with no sender */
    sl_addr addr;
    uint16_t port;
    const char *label;/* borrowed from sl_calls hosts, or NULL */
    sl_role role;
    bool local;       /* addr is the capture point */
    const char *how;  /* network role: how the path rejected, before the address it concerns
                       * ("an RST forged in the name of"); NULL: nobody answered for it */
} sl_rejecter;

typedef struct sl_diagnosis {
    char code[64];             /* e.g. "tls.alert.unknown_ca" */
    int call;                  /* index in sl_calls.calls, or -1 */
    uint32_t conn_index;       /* model connection (1-based), or 0 */
    sl_rejecter rejected_by;
    char *summary;             /* one line, owned; capture text in it is already escaped (text.h) */
    char **causes;             /* likely causes, most likely first, owned, escaped likewise */
    size_t n_causes;
    uint64_t *evidence;        /* frame numbers, ascending, owned */
    size_t n_evidence;
    bool suspect_injected;     /* tcp.reset: the RST's TTL differs from its sender's */
    bool healthy;              /* informational verdicts (sip.register.ok) */
} sl_diagnosis;

/* Where the capture was taken, as the rules judged it (diagnose.c). */
typedef struct sl_capture_point {
    bool has_local;
    sl_addr local;
    bool has_local2;
    sl_addr local2; /* its other address, when it relays a call between two */
    bool settled;   /* from the link layer or a relayed call: more of the capture cannot change it */
} sl_capture_point;

/* Connections outside the diagnosis' scope (not SIP or TLS signalling:
 * diagnose_scope.c) that would have had a verdict, counted by kind. */
#define SL_OTHER_PORTS 8
typedef struct sl_other_traffic {
    uint64_t no_answer, refused, reset, handshake_incomplete;
    uint16_t ports[SL_OTHER_PORTS]; /* their server ports, the first few */
    size_t n_ports;
} sl_other_traffic;

typedef struct sl_diagnoses {
    sl_diagnosis *list;
    size_t n;
    sl_other_traffic other;
    bool unscoped;  /* every connection was judged: --all-traffic, or no signalling in the capture */
    sl_capture_point capture_point; /* the one the verdicts were judged with */
} sl_diagnoses;

/* Options the rules take from the command line. */
struct sl_tls_options;

typedef struct sl_diagnose_options {
    const char *expect_name;      /* --expect-name, or NULL */
    const struct sl_tls_options *tls; /* --ca-file/--ca-path checks, borrowed, or NULL
                                       * (expect_name wins over tls->expect_name) */
    uint32_t min_bandwidth_kbps;  /* below this b=AS an offer risks sip.bandwidth_reject (default 1152) */
    size_t oversize_bytes;        /* a SIP message over TCP above this risks sip.oversize_reset (default 5000) */
    bool all_traffic;             /* --all-traffic: judge every connection, not only signalling */
    /* Streaming (call_stream.h): a batch of ended calls is judged by the
     * DNS and SIP rules only (connection verdicts wait for the end, when
     * the connections are complete), keeping only DNS verdicts a call
     * claims; the final run skips the DNS verdicts already claimed, named
     * by their first evidence frame. */
    bool calls_only;
    const uint64_t *dns_claimed;
    size_t n_dns_claimed;
    /* Streaming: connections complete before the end are judged by the TLS
     * and TCP rules only, with the capture point a batch of calls found
     * (NULL: found from this model, as usual). */
    bool conns_only;
    const sl_capture_point *capture_point;
    /* Streaming: other traffic counted in the batches judged before, added
     * to this run's (NULL: none). */
    const sl_other_traffic *other_before;
} sl_diagnose_options;

void sl_diagnose_options_default(sl_diagnose_options *o);

/* Run every rule.  calls may be NULL (only the TCP, TLS and DNS rules run
 * then); o may be NULL (defaults).  Verdicts come ordered by their first
 * evidence frame.  0 or -SL_ENOMEM; *out owned by the caller
 * (sl_diagnoses_clear), empty on error. */
int sl_diagnose(const sl_model *m, const sl_calls *calls, const sl_diagnose_options *o, sl_diagnoses *out);
void sl_diagnoses_clear(sl_diagnoses *d);
/* Add src's counts (and ports, while there is room) to dst. */
void sl_other_traffic_add(sl_other_traffic *dst, const sl_other_traffic *src);
/* The capture point sl_diagnose would judge with.  0 or -SL_ENOMEM. */
int sl_diagnose_capture_point(const sl_model *m, const sl_calls *calls, sl_capture_point *out);

const char *sl_role_name(sl_role r); /* "client", "server", "network", "local", "remote" */

struct sl_report;
struct sl_render_opts;
/* The text view (src/diagnose_render.c): one line per call of r->calls
 * (caller -> callee, outcome, verdict, rejecter), then every verdict of
 * r->diagnoses with its summary, rejecter, causes and evidence frames.
 * Either may be NULL.  The `summary` view ends with it; it is also the
 * `diagnose` command.  Returns 0. */
int sl_render_diagnosis(const struct sl_report *r, const struct sl_render_opts *o);

#endif
