/* compare.h - the captures of a firewall's two interfaces, taken at the same
 * time, compared: every TCP connection and UDP flow of one side paired with
 * its copy on the other through NAT/PAT (addresses and ports rewritten),
 * each packet with its copy (sequence numbers relative to each side's ISN,
 * so per-direction sequence randomisation does not matter), the clock offset
 * between the two capture hosts estimated from the pairs, and what the
 * firewall did: dropped, injected, rewrote, timed out, delayed.
 *
 * Side 0 is the first capture given ("inside" by default), side 1 the
 * second ("outside").  Times of side 1 are corrected by the offset:
 * t1 = t0 + offset for the same instant. */
#ifndef SIPLADDER_COMPARE_H
#define SIPLADDER_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sipladder/addr.h"
#include "sipladder/time.h"

typedef struct sl_compare_opts {
    const char *names[2]; /* "inside", "outside" when NULL */
    bool offset_forced;   /* --offset: use `offset`, do not estimate */
    sl_time_ns offset;    /* side 1's clock minus side 0's */
    sl_time_ns window;    /* how far apart (after the offset) a packet and its copy may be; 0: 2 s */
    sl_time_ns idle_min;  /* silence before a connection stops crossing that makes it an idle
                           * timeout rather than a drop; 0: 2 s */
    sl_time_ns delay_p99; /* fw.delayed when a direction's p99 exceeds it; 0: 100 ms */
} sl_compare_opts;

/* One packet of a side, as matching needs it (no payload bytes kept). */
typedef struct sl_cmp_pkt {
    uint64_t frame;
    sl_time_ns ts;
    uint64_t payload_hash; /* FNV-1a of the captured payload */
    uint64_t sip_key;      /* SIP start line, Call-ID and CSeq hashed: 0 when not SIP */
    uint64_t key;          /* what its copy on the other side shares (computed after the pass) */
    uint32_t seq, ack;     /* raw TCP numbers; seq_rel/ack_rel after the pass */
    uint32_t seq_rel, ack_rel;
    uint32_t len;  /* payload bytes captured */
    uint32_t flow; /* index into the side's flows */
    int64_t next;  /* next packet of the same flow, -1 */
    int64_t peer;  /* index of its copy on the other side, -1 */
    uint8_t dir;   /* 0 from the flow's client, 1 from its server */
    uint8_t flags; /* TCP flags */
    uint8_t ttl;
    uint8_t first_byte; /* payload[0] (TLS record type), 0 when empty */
    char head[12];      /* the payload's first bytes (a SIP method), NUL-padded */
} sl_cmp_pkt;

#define SL_CMP_MAX_SIP_COPY 8192

/* A TCP connection or UDP flow of one side. */
typedef struct sl_cmp_flow {
    uint8_t proto;   /* 6 or 17 */
    sl_addr addr[2]; /* [0] client (SYN sender, else first sender), [1] server */
    uint16_t port[2];
    uint64_t first_frame;
    sl_time_ns first_ts, last_ts;
    int64_t first_pkt, last_pkt;
    uint64_t packets[2];
    bool syn_seen;
    uint32_t isn[2];
    bool isn_known[2];
    uint64_t key1, key2;  /* what its copy shares: SYN signature or first payload; SIP identity */
    uint64_t key3;        /* its addresses and ports: a copy not NATed whose SYN options were changed */
    int64_t peer;         /* index of its copy's flow on the other side, -1 */
    int8_t enters[2];     /* per direction: the side its packets enter the firewall on, -1 unknown */
    uint8_t usual_ttl[2]; /* per direction: the commonest TTL */
} sl_cmp_flow;

/* An ICMP error (unreachable, time exceeded, too big) about one of the
 * side's flows: its original packet's addresses and ports found it. */
typedef struct sl_cmp_icmp {
    uint64_t frame;
    sl_time_ns ts;
    sl_addr src;  /* who sent the ICMP */
    int64_t flow; /* the flow it is about on this side */
    uint8_t dir;  /* the direction of the original packet in that flow */
    uint8_t type, code, ttl;
    uint8_t version; /* 4: ICMP, 6: ICMPv6 */
    bool paired;     /* its copy is on the other side */
} sl_cmp_icmp;

#define SL_CMP_MAX_ICMP 100000 /* ICMP errors kept per side; more are counted */

/* What one capture (side) holds. */
typedef struct sl_cmp_side {
    const char *name;
    char **files;
    size_t n_files;
    uint64_t frames, skipped, malformed;
    sl_time_ns first_ts, last_ts;
    sl_cmp_pkt *pkts;
    size_t n_pkts, cap_pkts;
    sl_cmp_flow *flows;
    size_t n_flows, cap_flows;
    sl_cmp_icmp *icmp;
    size_t n_icmp, cap_icmp;
    uint64_t icmp_not_kept; /* beyond SL_CMP_MAX_ICMP, or about no flow of the side */
    int64_t *table;         /* open addressing: flow index + 1, 0 empty */
    size_t table_size;
    bool truncated;
    char *error; /* owned: why the side could not be read */
} sl_cmp_side;

#define SL_CMP_MAX_DIFF 16

typedef struct sl_cmp_verdict {
    const char *code;  /* "fw.dropped", "fw.injected", "fw.rewritten", "fw.idle_timeout", "fw.delayed" */
    int evidence_side; /* where the proof is (0/1), -1 both */
    int from_side;     /* the side the traffic entered on, -1 none */
    int64_t flow[2];   /* flow index on each side, -1 none */
    uint8_t dir;       /* 0 from the client, 1 from the server */
    uint64_t count;
    uint64_t frame[2];           /* first frame on each side, 0 none */
    sl_time_ns ts;               /* of the first evidence, side 0's clock */
    sl_time_ns duration;         /* idle time (fw.idle_timeout), p99 (fw.delayed) */
    uint8_t ttl, usual_ttl;      /* fw.injected: the forged packet's TTL and the sender's usual one */
    char *summary;               /* owned, one line */
    char *diff[SL_CMP_MAX_DIFF]; /* fw.rewritten: "-line" / "+line", owned */
    size_t n_diff;
    int64_t pkt[2];      /* fw.rewritten: the packet on each side */
    uint8_t *payload[2]; /* fw.rewritten: both copies, read again after the pass (owned, freed once used) */
    uint32_t payload_len[2];
} sl_cmp_verdict;

/* Latency through the firewall for one direction of travel. */
typedef struct sl_cmp_latency {
    uint64_t pairs;
    sl_time_ns median, p99, max;
    uint64_t max_frame[2]; /* the slowest packet's frames */
} sl_cmp_latency;

/* One verdict of the usual diagnosis of one side alone (diagnose.h), and
 * the fw.* verdict whose frames explain it (e.g. the tcp.reset seen inside
 * was the firewall's injected RST). */
typedef struct sl_cmp_side_verdict {
    int side;
    char code[64];
    char *summary;      /* owned */
    uint64_t *evidence; /* owned, ascending */
    size_t n_evidence;
    int64_t explained_by; /* index into sl_compare.verdicts, -1 */
} sl_cmp_side_verdict;

typedef struct sl_compare {
    sl_compare_opts opts;
    sl_cmp_side side[2];
    sl_time_ns offset;         /* side 1's clock minus side 0's */
    sl_time_ns offset_spread;  /* half the spread (p10..p90) of the pairs around it */
    uint64_t offset_pairs;     /* packet pairs it was estimated from */
    bool offset_one_way;       /* pairs of one direction only: the latency is inside the offset */
    sl_cmp_latency latency[2]; /* [s]: entering on side s */
    uint64_t pairs;            /* packets paired */
    sl_cmp_verdict *verdicts;
    size_t n_verdicts, cap_verdicts;
    sl_cmp_side_verdict *side_verdicts; /* each side's own diagnosis, side 0's first */
    size_t n_side_verdicts;
    uint64_t unpaired_local;        /* flows that never cross: both ends on one side, or the firewall's own */
    uint64_t unpaired_outside_time; /* flows seen while the other capture was not running */
} sl_compare;

/* Read both sides (files[s], n[s] of them: several files of a side are one
 * capture merged by timestamp) and compare them.  0 with *out set; -SL_EIO
 * when a side cannot be read (*out still set: side[s].error says why);
 * -SL_ENOMEM.  A side cut short is compared up to the damage (truncated). */
int sl_compare_run(const sl_compare_opts *opts, const char *const *files[2], const size_t n[2],
                   sl_compare **out);
/* The same on two capture images in memory (the fuzz target, tests). */
int sl_compare_run_memory(const sl_compare_opts *opts, const uint8_t *data[2], const size_t len[2],
                          sl_compare **out);
void sl_compare_free(sl_compare *c); /* NULL-safe */

/* The report: sides, clock offset, latency, NAT mapping, each connection
 * (passed / dropped / injected / rewritten / timed out) and the verdicts.
 * 0 or -SL_EIO on a write error. */
int sl_compare_render_text(const sl_compare *c, FILE *out);
/* {"compare": {...}} (docs/json.md).  0, -SL_ENOMEM or -SL_EIO. */
int sl_compare_render_json(const sl_compare *c, FILE *out);
/* Each connection drawn with the firewall as a column between its inside
 * and outside host (compare_ladder.c).  0 or -SL_EIO. */
int sl_compare_render_ladder(const sl_compare *c, FILE *out);
/* What became of side s's flow i: "passed", "dropped", ... "not crossing". */
const char *sl_compare_fate(const sl_compare *c, int s, int64_t i, bool paired);

/* The command line's words for `sipladder compare` (compare_cli.c), all
 * borrowed: positional captures (INSIDE OUTSIDE) or --side NAME=FILE specs,
 * --offset's text, --format (text, json or ladder), -o. */
typedef struct sl_compare_cli {
    const char *const *files;
    size_t n_files;
    const char *const *side_specs;
    size_t n_side_specs;
    const char *offset;
    const char *format;
    const char *output;
} sl_compare_cli;
/* Run the command: the exit code of sipladder(1); errors on stderr. */
int sl_compare_main(const sl_compare_cli *a);
/* "[+-]S[.FFFFFFFFF]" as nanoseconds, |S| up to a day: 0 or -SL_EUSAGE. */
int sl_compare_parse_offset(const char *text, sl_time_ns *out);

/* Internal, shared by compare.c and compare_verdicts.c. */
int sl_compare_judge(sl_compare *c);
/* The fw.rewritten verdicts' diffs and summaries, once compare.c read
 * their payloads again (a second pass: no payload is held during the first). */
int sl_compare_finish_rewritten(sl_compare *c);
/* Each side's usual diagnosis (an sl_analysis run of its files, or of its
 * image in memory when files is NULL), tied to the fw.* verdicts. */
int sl_compare_side_diagnoses(sl_compare *c, int side, const char *const *files, size_t n,
                              const uint8_t *data, size_t len);
void sl_compare_side_verdicts_free(sl_compare *c);

#endif
