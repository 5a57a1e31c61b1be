/* addr.c - IPv4/IPv6 address comparison and text forms. */
#include "sipladder/addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "sipladder/status.h"

bool sl_addr_equal(const sl_addr *a, const sl_addr *b)
{
    return a->family == b->family && memcmp(a->bytes, b->bytes, sizeof a->bytes) == 0;
}

int sl_addr_cmp(const sl_addr *a, const sl_addr *b)
{
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    return memcmp(a->bytes, b->bytes, sizeof a->bytes);
}

/* The decimal digits of v at p; returns how many (at most 5). */
static size_t put_decimal(char *p, unsigned v)
{
    char rev[5];
    size_t n = 0;
    do {
        rev[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && n < sizeof rev);
    for (size_t i = 0; i < n; i++)
        p[i] = rev[n - 1 - i];
    return n;
}

/* The longest "255.255.255.255" and "255.255.255.255:65535", with a NUL. */
#define V4_STRLEN 16
#define V4_PORT_STRLEN 22

/* IPv4 as a dotted quad at p (room for 15 bytes); returns the length.
 * Written here because glibc's inet_ntop formats IPv4 through sprintf,
 * and every message and connection line formats its two addresses. */
static size_t put_v4(char *p, const uint8_t *b)
{
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        if (i)
            p[n++] = '.';
        n += put_decimal(p + n, b[i]);
    }
    return n;
}

const char *sl_addr_format(const sl_addr *a, char *buf, size_t len)
{
    if (len == 0)
        return buf;
    buf[0] = '\0';
    if (a->family == 4 && len >= V4_STRLEN)
        buf[put_v4(buf, a->bytes)] = '\0';
    else if (a->family == 4)
        inet_ntop(AF_INET, a->bytes, buf, (socklen_t)len);
    else if (a->family == 6)
        inet_ntop(AF_INET6, a->bytes, buf, (socklen_t)len);
    else
        snprintf(buf, len, "?");
    return buf;
}

const char *sl_addr_port_format(const sl_addr *a, uint16_t port, char *buf, size_t len)
{
    if (a->family == 4 && len >= V4_PORT_STRLEN) {
        size_t n = put_v4(buf, a->bytes);
        buf[n++] = ':';
        n += put_decimal(buf + n, port);
        buf[n] = '\0';
        return buf;
    }
    char ip[INET6_ADDRSTRLEN];
    sl_addr_format(a, ip, sizeof ip);
    if (a->family == 6)
        snprintf(buf, len, "[%s]:%u", ip, (unsigned)port);
    else
        snprintf(buf, len, "%s:%u", ip, (unsigned)port);
    return buf;
}

int sl_addr_parse(const char *text, sl_addr *out)
{
    char tmp[INET6_ADDRSTRLEN + 2];
    size_t n = strlen(text);
    memset(out, 0, sizeof *out);
    if (n >= 2 && text[0] == '[' && text[n - 1] == ']') {
        text++;
        n -= 2;
    }
    if (n == 0 || n >= sizeof tmp)
        return -SL_EUSAGE;
    memcpy(tmp, text, n);
    tmp[n] = '\0';
    if (inet_pton(AF_INET, tmp, out->bytes) == 1) {
        out->family = 4;
        return 0;
    }
    if (inet_pton(AF_INET6, tmp, out->bytes) == 1) {
        out->family = 6;
        return 0;
    }
    return -SL_EUSAGE;
}
