/* addr.h - IPv4/IPv6 addresses and their text forms. */
#ifndef SIPLADDER_ADDR_H
#define SIPLADDER_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sl_addr {
    uint8_t family; /* 4 or 6; 0 = none */
    uint8_t bytes[16]; /* IPv4 in the first 4 bytes, rest zero */
} sl_addr;

/* Longest text sl_addr_port_format() writes, with its NUL: "[v6]:65535". */
#define SL_ADDR_PORT_STRLEN 56

bool sl_addr_equal(const sl_addr *a, const sl_addr *b);
/* Total order, for sorting and hashing stability. */
int sl_addr_cmp(const sl_addr *a, const sl_addr *b);

/* "192.0.2.1" / "2001:db8::1"; returns buf. */
const char *sl_addr_format(const sl_addr *a, char *buf, size_t len);
/* "192.0.2.1:5060" / "[2001:db8::1]:5060"; returns buf. */
const char *sl_addr_port_format(const sl_addr *a, uint16_t port, char *buf, size_t len);

/* Parse "192.0.2.1" or "2001:db8::1" (brackets allowed); 0 or -SL_EUSAGE. */
int sl_addr_parse(const char *text, sl_addr *out);

#endif
