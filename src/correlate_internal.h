/* correlate_internal.h - what the correlator's files share; private to src/correlate.c and src/corr_*.c.
 * The byte-keyed hash map and its keys (corr_map.c), growable arrays, the
 * working state of one sl_calls_build() (sl_corr_build), and the entry point
 * of each step, by file (build_all() in correlate.c runs them in order).
 * Every step returns 0 or -SL_ENOMEM; what it makes goes into b->o and is
 * freed by sl_calls_free(), also after a failure. */
#ifndef SIPLADDER_CORRELATE_INTERNAL_H
#define SIPLADDER_CORRELATE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sipladder/calls.h"
#include "sipladder/status.h"

/* ---- byte-keyed hash map: key -> uint32 (SL_CALLS_NONE: empty) ----------- */

typedef struct sl_cmap_slot {
    uint64_t hash;
    size_t off, len; /* the key in the arena */
    uint32_t val;
} sl_cmap_slot;

/* Zeroed: an empty map. */
typedef struct sl_cmap {
    sl_cmap_slot *slots;
    size_t cap, used;
    char *arena;
    size_t arena_len, arena_cap;
} sl_cmap;

/* A key being built: length-prefixed parts.  oom: a part could not be
 * added; the map calls then find nothing and fail to store. */
typedef struct sl_ckey {
    char *p;
    size_t n, cap;
    bool oom;
} sl_ckey;

/* The value stored under k, or SL_CALLS_NONE. */
uint32_t sl_cmap_get(const sl_cmap *m, const sl_ckey *k);
/* Store k -> val (val != SL_CALLS_NONE), replacing an older value.  The key
 * is copied. */
int sl_cmap_put(sl_cmap *m, const sl_ckey *k, uint32_t val);
/* Room for `keys` keys of about `key_bytes` each without rehashing. */
int sl_cmap_reserve(sl_cmap *m, size_t keys, size_t key_bytes);
/* Free what the map holds; it is empty again. */
void sl_cmap_clear(sl_cmap *m);

/* Start a key with a one-byte tag that says what kind of key it is. */
void sl_ckey_reset(sl_ckey *k, char tag);
void sl_ckey_str(sl_ckey *k, sl_sip_str s);
void sl_ckey_lower(sl_ckey *k, sl_sip_str s); /* case-insensitive part */
void sl_ckey_u32(sl_ckey *k, uint32_t v);
void sl_ckey_addr(sl_ckey *k, const sl_addr *a);

/* ---- growable arrays: the capacity is the next power of two of the length */

/* Make room in *pp (n elements of elem bytes) for one more. */
int sl_corr_grow(void *pp, size_t n, size_t elem);
int sl_corr_push_u32(uint32_t **a, size_t *n, uint32_t v);
int sl_corr_push_rec(const sl_sip_record ***a, size_t *n, const sl_sip_record *r);

/* ---- the result and the working state ------------------------------------ */

typedef struct sl_rec_call {
    const sl_sip_record *rec;
    uint32_t call;
} sl_rec_call;

/* sl_calls with what its lookups need; sl_calls is the first member. */
typedef struct sl_calls_full {
    sl_calls pub;
    sl_cmap host_map;      /* address -> host */
    sl_rec_call *rec_call; /* sorted by record address */
    size_t n_rec_call;
} sl_calls_full;

/* One sl_calls_build(): the model (borrowed), the result being made, and
 * what the steps need between them (freed at the end of the build). */
typedef struct sl_corr_build {
    const sl_model *m;
    const sl_labels *labels;
    size_t max_messages;        /* per call; 0: no cap */
    bool group_only;            /* sl_calls_group: no labels, no registrations */
    sl_calls_full *cf;
    sl_calls *o;
    const sl_sip_record **recs; /* by frame */
    size_t n_recs;
    uint32_t *rec_leg;          /* per recs[i]: leg or SL_CALLS_NONE */
    uint32_t *rec_tx;           /* per recs[i]: transaction or SL_CALLS_NONE */
    sl_time_ns *tx_last_copy;   /* per transaction: time of the last request copy */
    uint32_t *leg_parent;       /* union-find over legs */
    uint32_t *leg_call;         /* per leg root: call */
    sl_ckey key;                /* scratch: each lookup rebuilds it */
    sl_cmap leg_map, tx_map, ack_map, dlg_map, join_map, via_map, reg_map;
    sl_cmap req_map;            /* Call-IDs some request (not REGISTER) carries */
} sl_corr_build;

/* ---- small SIP predicates ------------------------------------------------ */

static inline bool str_is(sl_sip_str s, const char *c)
{
    size_t n = strlen(c);
    return s.p && s.n == n && memcmp(s.p, c, n) == 0;
}

static inline bool is_rfc3261_branch(sl_sip_str b)
{
    return b.p && b.n > 7 && memcmp(b.p, "z9hG4bK", 7) == 0;
}

/* ---- transactions (corr_transactions.c) ---------------------------------- */

/* A request's Vias from `from` down: branch and sent-by of each. */
void sl_corr_via_chain_key(sl_ckey *k, const sl_sip_record *r, size_t from);
/* The key that finds an INVITE from its 2xx ACK. */
void sl_corr_ack_key(sl_ckey *k, const sl_sip_record *r, uint32_t leg);
/* The transaction of a request (*made: a new one) or of a response. */
int sl_corr_tx_request(sl_corr_build *b, const sl_sip_record *r, uint32_t leg, uint32_t *out, bool *made);
int sl_corr_tx_response(sl_corr_build *b, const sl_sip_record *r, uint32_t leg, uint32_t *out);

/* ---- dialogs (corr_dialogs.c) -------------------------------------------- */

/* The dialog of a new request transaction t, or of a response to t. */
int sl_corr_dialog_request(sl_corr_build *b, const sl_sip_record *r, uint32_t leg, uint32_t t);
int sl_corr_dialog_response(sl_corr_build *b, const sl_sip_record *r, uint32_t t);

/* ---- hosts (corr_hosts.c) ------------------------------------------------ */

/* Every address of a message or a connection becomes a host. */
int sl_corr_hosts_collect(sl_corr_build *b);
/* The host of an address (collected), or SL_CALLS_NONE.  Uses b->key. */
uint32_t sl_corr_host_of(sl_corr_build *b, const sl_addr *a);
/* Labels and roles, once everything else is built. */
int sl_corr_hosts_label(sl_corr_build *b);

/* ---- legs and calls (corr_calls.c) --------------------------------------- */

/* The leg of a message (made on its first message); the message is added. */
int sl_corr_leg_of(sl_corr_build *b, const sl_sip_record *r, uint32_t *out);
/* Legs joined into calls, then each call's hops and outcome. */
int sl_corr_calls_make(sl_corr_build *b);
int sl_corr_calls_finish(sl_corr_build *b);

/* ---- connections (corr_conns.c) ------------------------------------------ */

/* The connections that carried each leg, for the leg and its call. */
int sl_corr_legs_conns(sl_corr_build *b);
/* TCP connections without SIP: to the one call their hosts had running, or
 * orphans. */
int sl_corr_conns_attach(sl_corr_build *b);

/* ---- registrations (corr_registrations.c) -------------------------------- */

/* REGISTER transactions grouped by address of record (To URI), and each
 * one's challenge, credentials, last status and granted expiry. */
int sl_corr_registrations_make(sl_corr_build *b);

#endif
