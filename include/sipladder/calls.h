/* calls.h - SIP messages grouped into what a voice engineer reasons about:
 * transactions (RFC 3261 17: Via branch + CSeq method), dialogs (Call-ID and
 * tags, early dialogs and forks), legs (one hop of a call: one Call-ID
 * between two hosts) and calls (the legs of one call across Expressway-C/E
 * hops and TCP connections, joined by Call-ID, Session-ID uuids (RFC 7989),
 * X-TAATag, Cisco-Guid and the Via chain); registrations per address of
 * record; and every host with a label and a role.
 *
 * Built once from a finished model by sl_calls_build(); read-only after.
 * Everything points into the model (records, connections), which must
 * outlive it.  Indices are 0-based positions in the arrays below. */
#ifndef SIPLADDER_CALLS_H
#define SIPLADDER_CALLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sipladder/addr.h"
#include "sipladder/labels.h"
#include "sipladder/model.h"
#include "sipladder/sip_record.h"

/* Where a host's label came from, strongest first. */
typedef enum {
    SL_LABEL_USER = 0,  /* --name */
    SL_LABEL_ZONE,      /* Via egress-zone / ingress-zone parameters */
    SL_LABEL_PRODUCT,   /* Server: / User-Agent: (TANDBERG/..., Cisco-CUCM11.5) */
    SL_LABEL_ADDRESS,   /* nothing better: the address itself */
} sl_label_source;

typedef struct sl_host {
    sl_addr addr;
    char *label;             /* owned; never NULL */
    sl_label_source source;
    char *product;           /* owned: Server/User-Agent it originated (escaped text), or NULL */
    const char *role;        /* static: "expressway", "cucm", "gateway", or NULL when unknown */
    uint32_t messages_sent;  /* SIP messages with this source address */
    uint32_t flows;          /* connections/flows it took part in */
} sl_host;

/* A connection without SIP goes to a call whose messages fall within its
 * time span widened by this much each way (corr_conns.c). */
#define SL_CALLS_CONN_SLACK_NS (2 * SL_NS_PER_SEC)

/* An index that points nowhere (a REGISTER transaction has no leg). */
#define SL_CALLS_NONE UINT32_MAX

/* Copies of a request closer than this to the previous copy are the same
 * message seen twice by the capture (both sides of a hop, -i any), not a
 * retransmission: RFC 3261 timer A starts at T1 = 500 ms. */
#define SL_CALLS_DUPLICATE_NS (100 * INT64_C(1000000))

typedef struct sl_transaction {
    uint32_t leg;                         /* index in sl_calls.legs; SL_CALLS_NONE for REGISTER */
    uint32_t dialog;                      /* index in sl_calls.dialogs (the first, for a forked INVITE), or SL_CALLS_NONE */
    const sl_sip_record *request;         /* first copy seen; NULL when only responses were captured */
    uint32_t request_copies;              /* 1 + retransmissions (0 when request is NULL) */
    uint32_t duplicates;                  /* further copies within SL_CALLS_DUPLICATE_NS: seen twice, not resent */
    const sl_sip_record **responses;      /* every response, in frame order (owned array) */
    size_t n_responses;
    const sl_sip_record *final;           /* first final response (>= 200), or NULL */
    const sl_sip_record *ack;             /* INVITE: the ACK of its final response (non-2xx: same branch;
                                             2xx: the dialog's ACK with the same CSeq, also its own transaction), or NULL */
    const sl_sip_record *cancel;          /* INVITE: a CANCEL for it (not a transaction of its own), or NULL */
    uint32_t cancel_copies;               /* copies of that CANCEL seen (retransmissions and duplicates) */
    const sl_sip_record *cancel_response; /* the CANCEL's own response, or NULL */
} sl_transaction;

typedef struct sl_dialog {
    uint32_t leg;
    sl_sip_str call_id;             /* points into a record */
    sl_sip_str from_tag, to_tag;    /* to_tag.p NULL: early dialog, not yet answered */
    uint32_t *transactions;         /* indices in sl_calls.transactions (owned) */
    size_t n_transactions;
    bool confirmed;                 /* a 2xx answered its INVITE */
    bool terminated;                /* a BYE got its 2xx, or a non-2xx final ended it */
} sl_dialog;

/* One hop: one Call-ID between two hosts, whatever connections carried it. */
typedef struct sl_leg {
    uint32_t call;                  /* index in sl_calls.calls */
    sl_sip_str call_id;
    uint32_t host[2];               /* indices in sl_calls.hosts: [0] sent the first request */
    const sl_sip_record **messages; /* in frame order (owned array) */
    size_t n_messages;
    uint32_t *conns;                /* model connection indices (1-based) that carried it (owned) */
    size_t n_conns;
    uint32_t *transactions;         /* owned */
    size_t n_transactions;
    uint32_t *dialogs;              /* owned */
    size_t n_dialogs;
    uint32_t hop;                   /* 0 for the leg nearest the caller, then 1, 2, ... */
} sl_leg;

typedef enum {
    SL_CALL_ANSWERED = 0,   /* a 2xx to the initial INVITE */
    SL_CALL_REJECTED,       /* a final 3xx-6xx to the initial INVITE (not 487 after CANCEL) */
    SL_CALL_CANCELLED,      /* CANCEL, then 487 */
    SL_CALL_NO_ANSWER,      /* INVITE never got a final response */
    SL_CALL_OTHER,          /* no INVITE seen: OPTIONS, MESSAGE, a mid-call fragment ... */
    SL_CALL_CHALLENGED,     /* the last initial INVITE got 401/407: the retry with credentials is not in the capture */
} sl_call_outcome;

typedef struct sl_call {
    uint32_t id;                    /* 1-based, in order of the first message */
    uint32_t *legs;                 /* indices in sl_calls.legs, by hop (owned) */
    size_t n_legs;
    const sl_sip_record **messages; /* every message of every leg, by frame (owned array) */
    size_t n_messages;
    size_t messages_not_kept;       /* past max_messages_per_call: counted, not in messages */
    const sl_sip_record *initial;   /* the first initial INVITE (no To tag), or NULL */
    sl_sip_str caller, callee;      /* From URI and To URI (or Request-URI) of it */
    sl_call_outcome outcome;
    int final_status;               /* status that decided the outcome, or 0 */
    const sl_sip_record *decided_by;/* the message that decided it, or NULL */
    uint32_t *conns;                /* connections attached (SIP carried or TLS/TCP matched by time and endpoints), owned */
    size_t n_conns;
    sl_time_ns first_ts, last_ts;
} sl_call;

typedef struct sl_registration {
    sl_sip_str aor;                 /* To URI of the REGISTER */
    uint32_t *transactions;         /* REGISTER transactions in time order (owned) */
    size_t n_transactions;
    int last_status;                /* final status of the last REGISTER, 0 if none */
    bool auth_challenged;           /* a 401/407 was answered with credentials */
    bool auth_failed;               /* credentials sent and refused (403, or a 401/407 not stale), no 2xx after */
    bool nonce_renewed;             /* credentials answered by a new challenge that is not a refusal: stale=true,
                                       or credentials for this AOR were accepted elsewhere in the capture */
    int64_t expires;                /* granted in the 200 (Expires or Contact expires=), -1 */
    bool ar_sk_offered;             /* x-cisco-mra-ha=AR_SK offered by the client */
    bool ar_sk_supported;           /* X-cisco-supports-AR_SK answered */
    uint32_t host[2];               /* [0] registering client, [1] registrar */
} sl_registration;

typedef struct sl_calls {
    sl_host *hosts;                 size_t n_hosts;
    sl_transaction *transactions;   size_t n_transactions;
    sl_dialog *dialogs;             size_t n_dialogs;
    sl_leg *legs;                   size_t n_legs;
    sl_call *calls;                 size_t n_calls;
    sl_registration *registrations; size_t n_registrations;
    uint32_t *orphan_conns;         /* connections with no SIP and no unambiguous call (owned) */
    size_t n_orphan_conns;
    uint32_t *ambiguous_conns;      /* those of them with two or more candidate calls (owned) */
    size_t n_ambiguous_conns;
    const sl_sip_record **orphan_responses; /* responses (not to REGISTER) whose Call-ID no request in the
                                               capture carries: not a call, in frame order (owned array) */
    size_t n_orphan_responses;
    /* correlate.c's lookups (address -> host, record -> call) of the build
     * this came from: a copy (a selection's, select.h) shares them, so they
     * answer in the built calls' numbering.  NULL: none (-1 for all). */
    const struct sl_calls_full *lookup;
} sl_calls;

/* Group the model's SIP messages.  labels (borrowed, may be NULL) are the
 * user's --name entries.  A call keeps at most max_messages_per_call
 * messages (sl_limits; 0: no cap) and counts the rest in messages_not_kept.
 * NULL when out of memory. */
sl_calls *sl_calls_build(const sl_model *m, const sl_labels *labels, size_t max_messages_per_call);
/* The grouping alone: calls, legs, dialogs, transactions and connections,
 * but hosts without labels or roles and no registrations (what telling
 * which calls have ended needs, at about two thirds of the cost). */
sl_calls *sl_calls_group(const sl_model *m);
void sl_calls_free(sl_calls *c); /* NULL-safe */

/* The host index of an address, or -1. */
int sl_calls_host_of(const sl_calls *c, const sl_addr *a); /* -1: none, or no lookup */
/* Sort a list of indices (connections, hosts, ...) and drop repeats. */
void sl_calls_sort_unique(uint32_t *idx, size_t *n);
/* The call (index) a message belongs to, or -1. */
int sl_calls_call_of(const sl_calls *c, const sl_sip_record *r);

const char *sl_call_outcome_name(sl_call_outcome o); /* "answered", "rejected", ... */
/* What the text views add after the outcome and status ("" for most). */
#define SL_CALL_CHALLENGED_NOTE "the retry is not in the capture"

#endif
