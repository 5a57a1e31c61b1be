/* fuzz_x509.c - certificate parsing, chain checks and the name matcher.
 *
 * Input: [when][entries], each entry [length, 2 bytes big-endian][DER]; the
 * last entry takes what is left when its length overruns.  `when` picks the
 * check time and the expected name. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sipladder/x509_info.h"
#include "fuzz_entry.h"


#define FZ_MAX_CERTS 8

static void match_names(const sl_cert_info *chain, size_t n)
{
    static const char *const names[] = {"example.com", "a.example.com", "a.b.example.com", "*.example.com",
                                        "192.0.2.1", "::1", "", ".", "A.EXAMPLE.COM."};
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
            (void)sl_cert_matches_name(&chain[i], names[k]);
        if (chain[i].subject_cn)
            (void)sl_cert_matches_name(&chain[i], chain[i].subject_cn);
        for (size_t k = 0; k < chain[i].n_san_dns; k++)
            (void)sl_cert_matches_name(&chain[i], chain[i].san_dns[k]);
    }
}

int FZ_ENTRY(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t when = data[0];
    size_t pos = 1;
    sl_cert_info chain[FZ_MAX_CERTS];
    memset(chain, 0, sizeof chain);
    size_t n = 0;
    while (n < FZ_MAX_CERTS && size - pos >= 2) {
        size_t len = (size_t)data[pos] << 8 | data[pos + 1];
        pos += 2;
        if (len > size - pos)
            len = size - pos;
        /* A private copy of exactly len bytes, so ASan sees overreads. */
        uint8_t *der = malloc(len ? len : 1);
        if (!der)
            break;
        if (len)
            memcpy(der, data + pos, len);
        char *name = NULL;
        if (sl_x509_name_text(der, len, &name) == 0)
            free(name);
        int rc = sl_cert_info_parse(der, len, &chain[n]);
        free(der);
        if (rc < 0)
            break;
        n++;
        pos += len;
    }
    /* 2024-01-01, the epoch, or far in the future. */
    sl_time_ns at = when % 3 == 0 ? INT64_C(1704067200) * 1000000000 : when % 3 == 1 ? 0 : INT64_MAX;
    sl_tls_options opts = {.expect_name = (when & 4) ? "sip.example.com" : NULL};
    const sl_cert_info *refs[FZ_MAX_CERTS];
    for (size_t i = 0; i < n; i++)
        refs[i] = &chain[i];
    sl_chain_report rep;
    (void)sl_chain_check(refs, n, at, &opts, &rep);
    (void)sl_chain_check(refs, n, at, NULL, &rep);
    match_names(chain, n);
    if (n > 0) {
        const sl_cert_info *shared = NULL;
        if (sl_cert_info_new(chain[0].der, chain[0].der_len, &shared) == 0) {
            sl_cert_info_unref(sl_cert_info_ref(shared));
            sl_cert_info_unref(shared);
        }
    }
    for (size_t i = 0; i < n; i++)
        sl_cert_info_clear(&chain[i]);
    return 0;
}
