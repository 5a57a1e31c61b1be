/* check_x509_info.c - certificate parsing, chain checks and PEM export on the
 * committed test PKI (tests/captures/tls/, made by make_tls_captures.sh). */
#include <check.h>
#include <errno.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sipladder/status.h"
#include "sipladder/x509_info.h"
#include "tls_pcap_feed.h"
#include "check_run.h"
#include "support.h"

#define T2020_03 (INT64_C(1583020800) * SL_NS_PER_SEC) /* 2020-03-01 */
#define T2019 (INT64_C(1546300800) * SL_NS_PER_SEC)    /* 2019-01-01 */
#define T2024 (INT64_C(1704067200) * SL_NS_PER_SEC)    /* 2024-01-01 */
#define T2050 (INT64_C(2524608000) * SL_NS_PER_SEC)    /* 2050-01-01 */

static const char *cert_path(char *buf, size_t len, const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "tests/captures/tls/%s.crt", name);
    return sl_test_path(buf, len, rel);
}

/* DER of a committed certificate, malloc'ed. */
static uint8_t *load_der(const char *name, size_t *len)
{
    char path[1024];
    FILE *f = fopen(cert_path(path, sizeof path, name), "r");
    ck_assert_ptr_nonnull(f);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    ck_assert_ptr_nonnull(x);
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    X509_free(x);
    ck_assert_int_gt(n, 0);
    uint8_t *copy = malloc((size_t)n);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, der, (size_t)n);
    OPENSSL_free(der);
    *len = (size_t)n;
    return copy;
}

static void parse(const char *name, sl_cert_info *ci)
{
    size_t n;
    uint8_t *der = load_der(name, &n);
    ck_assert_int_eq(sl_cert_info_parse(der, n, ci), 0);
    free(der);
}

START_TEST(parses_every_field)
{
    sl_cert_info ci;
    parse("server", &ci);
    ck_assert(!ci.broken);
    ck_assert_ptr_null(ci.error);
    ck_assert_str_eq(ci.subject, "CN=server.test,OU=SIP Edge,O=Sipladder Test");
    ck_assert_str_eq(ci.subject_cn, "server.test");
    ck_assert_str_eq(ci.subject_ou, "SIP Edge");
    ck_assert_str_eq(ci.issuer, "CN=Sipladder Test Intermediate CA,OU=Issuing,O=Sipladder Test");
    ck_assert_str_eq(ci.issuer_cn, "Sipladder Test Intermediate CA");
    ck_assert_uint_eq(ci.n_san_dns, 2);
    ck_assert_str_eq(ci.san_dns[1], "*.sip.test");
    ck_assert_uint_eq(ci.n_san_ip, 1);
    ck_assert_str_eq(ci.san_ip[0], "127.0.0.1");
    ck_assert_str_eq(ci.serial_hex, "3001");
    ck_assert_int_eq(ci.not_before, INT64_C(1577836800) * SL_NS_PER_SEC);
    ck_assert_int_eq(ci.not_after, INT64_C(2524521600) * SL_NS_PER_SEC);
    ck_assert_str_eq(ci.key_type, "EC");
    ck_assert_int_eq(ci.key_bits, 256);
    ck_assert_str_eq(ci.sig_alg, "ecdsa-with-SHA256");
    ck_assert_uint_eq(strlen(ci.sha256_hex), 64);
    ck_assert(ci.has_basic_constraints && !ci.is_ca && !ci.self_issued && !ci.self_signed);
    sl_cert_info_clear(&ci);
    ck_assert_ptr_null(ci.subject);
    sl_cert_info_clear(&ci);
    sl_cert_info_clear(NULL);

    parse("root", &ci);
    ck_assert(ci.is_ca && ci.self_issued && ci.self_signed);
    ck_assert_ptr_null(ci.subject_ou);
    ck_assert_uint_eq(ci.n_san_dns, 0);
    sl_cert_info_clear(&ci);
}
END_TEST

START_TEST(fingerprint_matches_openssl)
{
    size_t n;
    uint8_t *der = load_der("client", &n);
    unsigned char md[32];
    unsigned int mdlen = 0;
    ck_assert(EVP_Digest(der, n, md, &mdlen, EVP_sha256(), NULL));
    char hex[65];
    for (unsigned i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    sl_cert_info ci;
    ck_assert_int_eq(sl_cert_info_parse(der, n, &ci), 0);
    ck_assert_str_eq(ci.sha256_hex, hex);
    ck_assert_uint_eq(ci.der_len, n);
    ck_assert_mem_eq(ci.der, der, n);
    sl_cert_info_clear(&ci);
    free(der);
}
END_TEST

/* A shared info owns its own DER and lives until its last reference goes
 * (ASan/LeakSanitizer see a use after free or a leak). */
START_TEST(shared_info_lives_until_last_unref)
{
    size_t n;
    uint8_t *der = load_der("client", &n);
    const sl_cert_info *a = NULL;
    ck_assert_int_eq(sl_cert_info_new(der, n, &a), 0);
    ck_assert_ptr_nonnull(a);
    memset(der, 0, n);
    free(der);
    const sl_cert_info *b = sl_cert_info_ref(a);
    ck_assert_ptr_eq(a, b);
    sl_cert_info_unref(a);
    ck_assert_str_eq(b->subject_cn, "client.test");
    ck_assert_str_eq(b->san_dns[0], "client.test");
    ck_assert_uint_eq(strlen(b->sha256_hex), 64);
    ck_assert_uint_eq(b->der[0], 0x30);
    sl_cert_info_unref(b);
    sl_cert_info_unref(NULL);
    static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
    ck_assert_int_eq(sl_cert_info_new(junk, sizeof junk, &a), 0);
    ck_assert(a->broken);
    ck_assert_ptr_nonnull(a->error);
    sl_cert_info_unref(a);
}
END_TEST

/* Broken DER: cut at every length, and a damaged tag; never fatal. */
START_TEST(broken_der_is_marked)
{
    size_t n;
    uint8_t *der = load_der("server", &n);
    for (size_t k = 0; k < n; k++) {
        sl_cert_info ci;
        ck_assert_int_eq(sl_cert_info_parse(der, k, &ci), 0);
        ck_assert_msg(ci.broken, "cut at %zu parsed", k);
        ck_assert_ptr_nonnull(ci.error);
        ck_assert_ptr_null(ci.subject);
        ck_assert_uint_eq(strlen(ci.sha256_hex), 64);
        sl_cert_info_clear(&ci);
    }
    /* Trailing bytes after a valid certificate are reported too. */
    uint8_t *longer = malloc(n + 3);
    ck_assert_ptr_nonnull(longer);
    memcpy(longer, der, n);
    memset(longer + n, 0, 3);
    sl_cert_info ci;
    ck_assert_int_eq(sl_cert_info_parse(longer, n + 3, &ci), 0);
    ck_assert(ci.broken);
    sl_cert_info_clear(&ci);
    free(longer);
    free(der);
}
END_TEST

START_TEST(name_matching_rfc6125)
{
    sl_cert_info ci;
    parse("server", &ci);
    ck_assert(sl_cert_matches_name(&ci, "server.test"));
    ck_assert(sl_cert_matches_name(&ci, "SERVER.Test"));
    ck_assert(sl_cert_matches_name(&ci, "edge.sip.test"));
    ck_assert(!sl_cert_matches_name(&ci, "sip.test"));
    ck_assert(!sl_cert_matches_name(&ci, "a.b.sip.test"));
    ck_assert(!sl_cert_matches_name(&ci, "other.test"));
    ck_assert(sl_cert_matches_name(&ci, "127.0.0.1"));
    ck_assert(!sl_cert_matches_name(&ci, "127.0.0.2"));
    ck_assert(!sl_cert_matches_name(&ci, ""));
    ck_assert(!sl_cert_matches_name(&ci, NULL));
    sl_cert_info_clear(&ci);
    /* No dNSName: the CN is the fallback. */
    parse("root", &ci);
    ck_assert(sl_cert_matches_name(&ci, "Sipladder Test Root CA"));
    sl_cert_info_clear(&ci);
}
END_TEST

typedef struct chain {
    sl_cert_info c[3];
    const sl_cert_info *p[3]; /* what sl_chain_check takes */
    size_t n;
} chain;

static void load_chain(chain *ch, const char *a, const char *b, const char *c)
{
    const char *names[3] = {a, b, c};
    ch->n = 0;
    for (int i = 0; i < 3 && names[i]; i++) {
        ch->p[ch->n] = &ch->c[ch->n];
        parse(names[i], &ch->c[ch->n++]);
    }
}

static void free_chain(chain *ch)
{
    for (size_t i = 0; i < ch->n; i++)
        sl_cert_info_clear(&ch->c[i]);
}

START_TEST(chain_checks)
{
    chain ch;
    sl_chain_report r;
    load_chain(&ch, "server", "inter", "root");
    ck_assert_int_eq(sl_chain_check(ch.p, ch.n, T2024, NULL, &r), 0);
    ck_assert(r.order_ok && !r.leaf_self_signed && !r.intermediate_missing && !r.expired && !r.not_yet_valid);
    ck_assert(!r.name_checked && !r.verify_done);
    free_chain(&ch);

    load_chain(&ch, "inter", "server", NULL); /* wrong order */
    ck_assert_int_eq(sl_chain_check(ch.p, ch.n, T2024, NULL, &r), 0);
    ck_assert(!r.order_ok);
    ck_assert_uint_eq(r.order_break, 0);
    free_chain(&ch);

    load_chain(&ch, "server", NULL, NULL);
    ck_assert_int_eq(sl_chain_check(ch.p, ch.n, T2024, NULL, &r), 0);
    ck_assert(r.intermediate_missing && !r.leaf_self_signed);
    free_chain(&ch);

    load_chain(&ch, "root", NULL, NULL);
    ck_assert_int_eq(sl_chain_check(ch.p, ch.n, T2024, NULL, &r), 0);
    ck_assert(r.leaf_self_signed && !r.intermediate_missing);
    free_chain(&ch);

    load_chain(&ch, "stranger", NULL, NULL);
    ck_assert_int_eq(sl_chain_check(ch.p, ch.n, T2024, NULL, &r), 0);
    ck_assert(r.temporary_ou);
    free_chain(&ch);

    load_chain(&ch, "expired", "inter", NULL);
    ck_assert_int_eq(sl_chain_check(ch.p, ch.n, T2024, NULL, &r), 0);
    ck_assert(r.expired && r.expired_index == 0 && !r.not_yet_valid);
    ck_assert_int_eq(sl_chain_check(ch.p, ch.n, T2020_03, NULL, &r), 0);
    ck_assert(!r.expired && !r.not_yet_valid);
    ck_assert_int_eq(sl_chain_check(ch.p, ch.n, T2019, NULL, &r), 0);
    ck_assert(r.not_yet_valid && r.not_yet_valid_index == 0);
    free_chain(&ch);

    load_chain(&ch, "wrong", "inter", NULL);
    sl_tls_options o = {.expect_name = "server.test"};
    ck_assert_int_eq(sl_chain_check(ch.p, ch.n, T2024, &o, &r), 0);
    ck_assert(r.name_checked && !r.name_matched);
    o.expect_name = "wrong.test";
    ck_assert_int_eq(sl_chain_check(ch.p, ch.n, T2024, &o, &r), 0);
    ck_assert(r.name_checked && r.name_matched);
    free_chain(&ch);
}
END_TEST

START_TEST(verify_with_ca_file_at_packet_time)
{
    char root[1024], other[1024];
    cert_path(root, sizeof root, "root");
    cert_path(other, sizeof other, "other");
    chain ch;
    sl_chain_report r;
    load_chain(&ch, "server", "inter", NULL);
    sl_tls_options o = {.ca_file = root};
    ck_assert_int_eq(sl_chain_check(ch.p, ch.n, T2024, &o, &r), 0);
    ck_assert(r.verify_done && r.verify_ok);
    ck_assert_str_eq(r.verify_reason, "ok");
    /* The packet's time decides, not today's. */
    ck_assert_int_eq(sl_chain_check(ch.p, ch.n, T2050, &o, &r), 0);
    ck_assert(r.verify_done && !r.verify_ok);
    ck_assert_str_eq(r.verify_reason, "certificate has expired");
    o.ca_file = other;
    ck_assert_int_eq(sl_chain_check(ch.p, ch.n, T2024, &o, &r), 0);
    ck_assert(!r.verify_ok);
    ck_assert_str_eq(r.verify_reason, "unable to get local issuer certificate");
    o.ca_file = "/nonexistent/ca.pem";
    ck_assert_int_eq(sl_chain_check(ch.p, ch.n, T2024, &o, &r), 0);
    ck_assert(!r.verify_done);
    ck_assert_ptr_nonnull(strstr(r.verify_reason, "cannot load"));
    free_chain(&ch);
    /* The leaf alone: the intermediate is missing for OpenSSL too. */
    load_chain(&ch, "server", NULL, NULL);
    o.ca_file = root;
    ck_assert_int_eq(sl_chain_check(ch.p, ch.n, T2024, &o, &r), 0);
    ck_assert(!r.verify_ok);
    ck_assert_str_eq(r.verify_reason, "unable to get local issuer certificate");
    free_chain(&ch);
}
END_TEST

START_TEST(name_text_from_der)
{
    static const uint8_t dn[] = {0x30, 0x13, 0x31, 0x11, 0x30, 0x0f, 0x06, 0x03, 0x55, 0x04, 0x03,
                                 0x0c, 0x08, 'T', 'e', 's', 't', ' ', 'C', 'A', '1'};
    char *t = NULL;
    ck_assert_int_eq(sl_x509_name_text(dn, sizeof dn, &t), 0);
    ck_assert_str_eq(t, "CN=Test CA1");
    free(t);
    ck_assert_int_eq(sl_x509_name_text(dn, sizeof dn - 1, &t), -SL_EMALFORMED);
    ck_assert_ptr_null(t);
    /* A control byte in a name is escaped by OpenSSL's RFC 2253 printing. */
    static const uint8_t esc[] = {0x30, 0x0e, 0x31, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x04,
                                  0x03, 0x0c, 0x03, 'a', 0x1b, 'b'};
    ck_assert_int_eq(sl_x509_name_text(esc, sizeof esc, &t), 0);
    ck_assert_ptr_null(strchr(t, 0x1b));
    free(t);
}
END_TEST

START_TEST(export_pem)
{
    char dir[] = "/tmp/sl_certs_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    sl_cert_info ci;
    parse("server", &ci);
    char path[1024];
    ck_assert_int_eq(sl_cert_export_pem(&ci, dir, path, sizeof path), 0);
    char want[1100];
    snprintf(want, sizeof want, "%s/%s.pem", dir, ci.sha256_hex);
    ck_assert_str_eq(path, want);
    /* What we wrote reads back as the same certificate. */
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    ck_assert_ptr_nonnull(x);
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    ck_assert_int_eq(n, (int)ci.der_len);
    ck_assert_mem_eq(der, ci.der, ci.der_len);
    OPENSSL_free(der);
    X509_free(x);
    unlink(path);
    /* A missing directory is an error with errno kept, not silence. */
    char missing[1100];
    snprintf(missing, sizeof missing, "%s/nope", dir);
    errno = 0;
    ck_assert_int_eq(sl_cert_export_pem(&ci, missing, NULL, 0), -SL_EIO);
    ck_assert_int_eq(errno, ENOENT);
    sl_cert_info_clear(&ci);
    sl_cert_info empty;
    memset(&empty, 0, sizeof empty);
    ck_assert_int_eq(sl_cert_export_pem(&empty, dir, NULL, 0), -SL_EUSAGE);
    rmdir(dir);
}
END_TEST

static Suite *x509_suite(void)
{
    Suite *s = suite_create("x509_info");
    TCase *t = tcase_create("core");
    tcase_add_test(t, parses_every_field);
    tcase_add_test(t, fingerprint_matches_openssl);
    tcase_add_test(t, shared_info_lives_until_last_unref);
    tcase_add_test(t, broken_der_is_marked);
    tcase_add_test(t, name_matching_rfc6125);
    tcase_add_test(t, chain_checks);
    tcase_add_test(t, verify_with_ca_file_at_packet_time);
    tcase_add_test(t, name_text_from_der);
    tcase_add_test(t, export_pem);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return sl_check_run(x509_suite());
}
