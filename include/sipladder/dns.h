/* dns.h - one DNS message as the DNS dissector emits it (RFC 1035; SRV
 * RFC 2782, AAAA RFC 3596): the first question and the answer section,
 * which is what the diagnosis needs to follow a SIP server lookup
 * (_sips._tcp.example.com SRV -> target:port -> A/AAAA).
 *
 * The event (kind SL_EV_DNS, u.any pointing at an sl_dns_msg) is BORROWED
 * for the emit call; the struct is self-contained (no pointers), so a
 * consumer keeps it by copying it.  Names are text made safe at parse time:
 * printable ASCII except '\\' and '.' inside a label pass, every other byte
 * is written \DDD (decimal, as dig does). */
#ifndef SIPLADDER_DNS_H
#define SIPLADDER_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sipladder/addr.h"
#include "sipladder/dissector.h"

#define SL_DNS_NAME_MAX 256   /* text form, NUL included; longer names are cut and flagged */
#define SL_DNS_MAX_ANSWERS 8  /* answers kept; n_answers_total counts them all */

enum {
    SL_DNS_TYPE_A = 1,
    SL_DNS_TYPE_CNAME = 5,
    SL_DNS_TYPE_AAAA = 28,
    SL_DNS_TYPE_SRV = 33,
    SL_DNS_TYPE_NAPTR = 35,
};

enum { SL_DNS_RCODE_NOERROR = 0, SL_DNS_RCODE_SERVFAIL = 2, SL_DNS_RCODE_NXDOMAIN = 3 };

typedef struct sl_dns_answer {
    char name[SL_DNS_NAME_MAX];
    uint16_t type, klass;
    uint32_t ttl;
    sl_addr addr;                 /* A / AAAA */
    uint16_t priority, weight, port; /* SRV */
    char target[SL_DNS_NAME_MAX]; /* SRV target, CNAME */
} sl_dns_answer;

typedef struct sl_dns_msg {
    sl_transport transport;
    uint16_t id;
    bool response;                /* QR */
    uint8_t opcode, rcode;
    bool truncated;               /* TC */
    uint16_t qdcount, ancount, nscount, arcount; /* as written in the header */
    bool has_question;
    char qname[SL_DNS_NAME_MAX];
    uint16_t qtype, qclass;
    sl_dns_answer answers[SL_DNS_MAX_ANSWERS];
    size_t n_answers;             /* kept */
    size_t n_answers_total;       /* parsed in the answer section */
    bool name_cut;                /* some name was longer than SL_DNS_NAME_MAX - 1 */
} sl_dns_msg;

/* What the model keeps of one message (model.h: m->dns): where it was
 * seen and what it said, with only the answers it had. */
typedef struct sl_dns_record {
    sl_span span;
    sl_addr src, dst;
    uint16_t sport, dport;
    uint32_t conn_index;
    sl_transport transport;
    uint16_t id;
    bool response, truncated;
    uint8_t rcode;
    bool has_question;
    char qname[SL_DNS_NAME_MAX];
    uint16_t qtype;
    sl_dns_answer *answers;       /* owned, n_answers of them */
    size_t n_answers, n_answers_total;
} sl_dns_record;

/* A record of message m seen in `span` on `flow` in direction `dir` (all
 * borrowed).  NULL when out of memory. */
sl_dns_record *sl_dns_record_new(const sl_dns_msg *m, const sl_span *span, const sl_flow_info *flow, sl_dir dir);
void sl_dns_record_free(sl_dns_record *r); /* NULL-safe */

/* Parse one whole message (no TCP length prefix).  0, or -SL_EMALFORMED
 * (out then holds what was read before the fault).  Name compression is
 * followed only backwards, with at most 128 labels and jumps per name. */
int sl_dns_parse(const uint8_t *buf, size_t len, sl_transport transport, sl_dns_msg *out);

/* "A", "AAAA", "SRV", ... or NULL. */
const char *sl_dns_type_name(uint16_t type);
/* "NOERROR", "SERVFAIL", "NXDOMAIN", ... or NULL. */
const char *sl_dns_rcode_name(uint8_t rcode);

/* The DNS dissector (dissectors/dns.c): UDP and TCP (RFC 1035 4.2.2
 * two-byte length framing), hint port 53. */
extern const sl_dissector sl_dissector_dns;

#endif
