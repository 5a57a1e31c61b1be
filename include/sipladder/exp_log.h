/* exp_log.h - Cisco Expressway (VCS) diagnostic logs, read as a source
 * beside captures.
 *
 * A diagnostic log is syslog text: each entry starts with the box's local
 * time and offset, its host name and "tvcs:", then Name="value" pairs
 * (UTCTime="2016-10-13 03:58:40,637", Module="network.sip", Event=...).
 * A network.sip DEBUG entry is followed by "SIPMSG:" and the whole message
 * between '|' marks.  What matters to a diagnosis is kept as entries: the
 * SIP messages (with direction and local/remote address), the call Events
 * (Call Attempted, Search Completed, Call Rejected...), TCP, DNS and TLS
 * failures.  Every byte is hostile: lines of any length, broken SIPMSG
 * blocks, bad UTF-8 and binary junk are reported with their line and
 * skipped.  No global state. */
#ifndef SIPLADDER_EXP_LOG_H
#define SIPLADDER_EXP_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sipladder/addr.h"
#include "sipladder/time.h"

#define SL_XLOG_MAX_FILE ((size_t)1 << 30)   /* bytes of one log (after gunzip) */
#define SL_XLOG_MAX_ENTRY ((size_t)1 << 20)  /* bytes of one entry, its SIPMSG included */
#define SL_XLOG_MAX_PROBLEMS 64              /* problems kept per log; more are counted */

typedef enum {
    SL_XLOG_SIP = 0,         /* network.sip with a SIPMSG block */
    SL_XLOG_CALL_ATTEMPTED,  /* Event="Call Attempted" */
    SL_XLOG_SEARCH_ATTEMPTED,
    SL_XLOG_SEARCH_COMPLETED,
    SL_XLOG_CALL_REJECTED,
    SL_XLOG_TCP,             /* network.tcp (Detail: "TCP Connection Closed", ...) */
    SL_XLOG_DNS_QUERY,       /* network.dns "Sending DNS query" Name= Type= */
    SL_XLOG_DNS_FAILED,      /* network.dns "Could not resolve hostname" */
    SL_XLOG_SSL_FAILED,      /* developer.ssl "Failed to establish SSL connection" */
    SL_XLOG_TLS_NEG_ERROR,   /* Event="Inbound|Outbound TLS Negotiation Error" */
    SL_XLOG_KINDS
} sl_xlog_kind;

/* One entry.  Strings are owned by the log, NUL-terminated, never NULL
 * ("" when absent); bytes from the log are kept as they were (views escape). */
typedef struct sl_xlog_entry {
    sl_xlog_kind kind;
    uint32_t line;          /* where the entry starts (1-based) */
    uint32_t sip_line;      /* SIP: the line of its first '|' */
    sl_time_ns utc;         /* UTCTime, else the prefix's local time less its offset */
    bool has_time;
    sl_time_ns prefix_utc;  /* the syslog prefix's time in UTC (0: none) */
    bool sent;              /* SIP: Action="Sent"; TLS: outbound (the box was the client) */
    bool has_addrs;
    sl_addr local, remote;
    uint16_t local_port, remote_port;
    int response_code;      /* Call Rejected: Response-code; 0 none */
    const char *detail, *reason, *name, *type, *serial, *tag, *protocol, *common_name, *ssl_reason,
        *src_alias, *dst_alias;
    const uint8_t *msg;     /* SIP: the message rebuilt with CRLF line ends (owned) */
    size_t msg_len;
    bool msg_broken;        /* its block was not closed by '|' (what came is kept) */
} sl_xlog_entry;

typedef struct sl_xlog_problem {
    uint32_t line;
    char text[160];
} sl_xlog_problem;

typedef struct sl_xlog {
    char *file;             /* as named (owned) */
    char host[64];          /* the syslog host of its first entry ("vcse") */
    bool gzipped;
    uint64_t lines, bytes;
    uint64_t entries_seen;  /* syslog entries, of every module */
    uint64_t info_sip;      /* network.sip INFO summaries (their DEBUG twin carries the message) */
    sl_xlog_entry *e;       /* kept entries, in log order */
    size_t n, cap;
    sl_xlog_problem problems[SL_XLOG_MAX_PROBLEMS];
    size_t n_problems;
    uint64_t problems_total;
    /* Set by the merge (exp_log_merge.c): the clock offset learned from
     * messages seen both here and in the capture (capture - log). */
    bool has_offset;
    sl_time_ns offset;
    size_t offset_samples;
    bool offset_from_conns; /* no message in both: bounded by the connections its messages used */
    size_t sip_in_capture;  /* messages also read from the capture (one message, not two) */
    size_t sip_joined;      /* messages put on a connection of the capture */
    size_t sip_added;       /* messages the capture did not have */
    size_t sip_unparsed;    /* SIPMSG blocks the SIP parser did not take */
    size_t sip_not_on_wire; /* messages on a connection the capture holds in clear that it lacks:
                             * log and capture disagree */
    uint32_t first_not_on_wire; /* the line of the first of them */
} sl_xlog;

/* True when the first bytes look like an Expressway diagnostic log (a
 * syslog line with "tvcs:" and Name="value" pairs); gzip is not looked into. */
bool sl_xlog_detect(const uint8_t *data, size_t len);

/* Parse a log held in memory (borrowed for the call) named `name`.
 * 0 and *out (free with sl_xlog_free); -SL_EUSAGE when it is no
 * Expressway log; -SL_ENOMEM. */
int sl_xlog_parse(const uint8_t *data, size_t len, const char *name, sl_xlog **out);

/* Read a file, plain or gzip'd (detected by its bytes), and parse it.
 * 0; -SL_EIO (cannot read, or not a log: err says); -SL_ENOMEM. */
int sl_xlog_read_file(const char *path, sl_xlog **out, char *err, size_t err_len);

void sl_xlog_free(sl_xlog *l); /* NULL-safe */

struct sl_model;
struct sl_config;

/* Put the SIP messages of the logs into the model as records like those of
 * the capture (parsed by the SIP dissector), merged by time: a message the
 * capture also holds (same Call-ID, CSeq, first line, addresses, within
 * 2 s) is marked on the capture's record instead of added twice; one the
 * capture lacks joins the connection of its address and port pair when
 * the capture has it then (an encrypted leg).  Each log's clock offset to
 * the capture is learned from the messages in both (the median).  The
 * logs must outlive the model (records borrow their names).  0 or
 * -SL_ENOMEM. */
int sl_xlog_merge(struct sl_model *m, sl_xlog *const *logs, size_t n_logs, const struct sl_config *cfg);

struct sl_calls;
struct sl_diagnoses;

/* The logs' events as evidence (exp_log_diagnose.c), after sl_diagnose:
 * causes added to the verdicts they confirm (Call Rejected, Search
 * Completed found:false, developer.ssl failures on a connection the
 * capture judged), and verdicts the capture could not give (a TLS failure
 * or an SRV lookup it holds no packet of).  0 or -SL_ENOMEM. */
int sl_xlog_diagnose(sl_xlog *const *logs, size_t n_logs, const struct sl_model *m, const struct sl_calls *calls,
                     struct sl_diagnoses *out);

/* --log FILE: add a name to a growing list (names borrowed).  0 or -SL_ENOMEM. */
int sl_xlog_add_name(const char ***names, size_t *n, const char *name);

/* Files given as captures that are Expressway logs (by their first bytes,
 * gzip'd or not; '-' is never opened) move from files to names, so that
 * `sipladder summary exp-e.log capture.pcap` works as with --log.  0 or
 * -SL_ENOMEM. */
int sl_xlog_take_logs(const char **files, size_t *n_files, const char ***names, size_t *n_names);

/* Read every log named and merge them into m (sl_xlog_merge).  To stderr:
 * each log's problems with file and line, and (unless quiet) what it
 * brought: its messages, those also in the capture, the clock offset.
 * 0 and *out (n_names logs; sl_xlog_free_all after the model); -SL_EIO
 * (a log cannot be read or is none: said); -SL_ENOMEM. */
int sl_xlog_load_all(const char *const *names, size_t n_names, struct sl_model *m, const struct sl_config *cfg,
                     bool quiet, sl_xlog ***out);
void sl_xlog_free_all(sl_xlog **logs, size_t n); /* NULL-safe */

/* One line saying what the log brought (escaped, no newline): its name and
 * host, lines, SIP messages (also in the capture, on its connections, only
 * in the log), events and its clock against the capture's (or the first
 * log's).  Like snprintf: the length the whole line needs. */
size_t sl_xlog_describe(const sl_xlog *l, bool with_capture, char *buf, size_t len);

/* A log time on the capture's clock. */
static inline sl_time_ns sl_xlog_on_capture(const sl_xlog *l, sl_time_ns utc)
{
    return l->has_offset ? utc + l->offset : utc;
}

/* "sip", "call-attempted", ... */
const char *sl_xlog_kind_name(sl_xlog_kind k);

/* Epoch seconds of a civil UTC date and time (proleptic Gregorian). */
int64_t sl_xlog_epoch(int64_t y, int m, int d, int hh, int mm, int ss);

#endif
