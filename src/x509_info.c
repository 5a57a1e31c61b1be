/* x509_info.c - certificates from a TLS Certificate message, parsed with
 * OpenSSL, and the chain checks of SCENARIOS.md (RFC 5280 linkage and
 * validity, RFC 6125 name matching, optional X509_verify_cert). */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sipladder/status.h"
#include "sipladder/x509_info.h"

static char *dup_bytes(const void *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* RFC 2253 text of a name; NULL when out of memory. */
static char *name_text(const X509_NAME *name)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return NULL;
    char *out = NULL;
    /* ESC_MSB keeps the text ASCII: raw capture bytes never reach a terminal. */
    if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0) {
        char *data = NULL;
        long n = BIO_get_mem_data(b, &data);
        out = dup_bytes(n > 0 ? data : "", n > 0 ? (size_t)n : 0);
    }
    BIO_free(b);
    return out;
}

/* First entry of `nid` as UTF-8, or NULL (absent, or out of memory). */
static char *name_entry(const X509_NAME *name, int nid)
{
    int i = X509_NAME_get_index_by_NID(name, nid, -1);
    if (i < 0)
        return NULL;
    const ASN1_STRING *v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, v);
    if (n < 0)
        return NULL;
    char *s = dup_bytes(utf8, (size_t)n);
    OPENSSL_free(utf8);
    return s;
}

static sl_time_ns asn1_time_ns(const ASN1_TIME *t)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!t || !ASN1_TIME_to_tm(t, &tm))
        return 0;
    /* saturated: a notAfter of 9999-12-31 (RFC 5280's "no expiry") is past what ns since 1970 can hold */
    return sl_time_from_sec_saturated((int64_t)timegm(&tm));
}

static int push_str(char ***arr, size_t *n, char *s)
{
    if (!s)
        return -SL_ENOMEM;
    char **na = realloc(*arr, (*n + 1) * sizeof *na);
    if (!na) {
        free(s);
        return -SL_ENOMEM;
    }
    na[(*n)++] = s;
    *arr = na;
    return 0;
}

static int parse_san(X509 *x, sl_cert_info *ci)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    if (!gens)
        return 0;
    int rc = 0;
    for (int i = 0; rc == 0 && i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type == GEN_DNS) {
            const ASN1_STRING *s = g->d.dNSName;
            rc = push_str(&ci->san_dns, &ci->n_san_dns,
                          dup_bytes(ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s)));
        } else if (g->type == GEN_IPADD) {
            const ASN1_OCTET_STRING *s = g->d.iPAddress;
            char buf[INET6_ADDRSTRLEN] = "?";
            int len = ASN1_STRING_length(s);
            if (len == 4 || len == 16)
                inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s), buf, sizeof buf);
            rc = push_str(&ci->san_ip, &ci->n_san_ip, dup_bytes(buf, strlen(buf)));
        }
    }
    GENERAL_NAMES_free(gens);
    return rc;
}

static void parse_key(X509 *x, sl_cert_info *ci)
{
    EVP_PKEY *pk = X509_get0_pubkey(x);
    const char *t = "?";
    if (pk) {
        switch (EVP_PKEY_get_base_id(pk)) {
        case EVP_PKEY_RSA: t = "RSA"; break;
        case EVP_PKEY_RSA_PSS: t = "RSA-PSS"; break;
        case EVP_PKEY_EC: t = "EC"; break;
        case EVP_PKEY_DSA: t = "DSA"; break;
        case EVP_PKEY_ED25519: t = "ED25519"; break;
        case EVP_PKEY_ED448: t = "ED448"; break;
        default: break;
        }
        ci->key_bits = EVP_PKEY_get_bits(pk);
    }
    snprintf(ci->key_type, sizeof ci->key_type, "%s", t);
}

static int parse_serial(X509 *x, sl_cert_info *ci)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    BN_free(bn);
    if (!hex)
        return -SL_ENOMEM;
    ci->serial_hex = dup_bytes(hex, strlen(hex));
    OPENSSL_free(hex);
    return ci->serial_hex ? 0 : -SL_ENOMEM;
}

static int parse_fields(X509 *x, sl_cert_info *ci)
{
    const X509_NAME *subj = X509_get_subject_name(x), *iss = X509_get_issuer_name(x);
    ci->subject = name_text(subj);
    ci->issuer = name_text(iss);
    if (!ci->subject || !ci->issuer)
        return -SL_ENOMEM;
    ci->subject_cn = name_entry(subj, NID_commonName);
    ci->subject_ou = name_entry(subj, NID_organizationalUnitName);
    ci->issuer_cn = name_entry(iss, NID_commonName);
    ci->not_before = asn1_time_ns(X509_get0_notBefore(x));
    ci->not_after = asn1_time_ns(X509_get0_notAfter(x));
    parse_key(x, ci);
    snprintf(ci->sig_alg, sizeof ci->sig_alg, "%s", OBJ_nid2ln(X509_get_signature_nid(x)));
    uint32_t flags = X509_get_extension_flags(x);
    ci->has_basic_constraints = (flags & EXFLAG_BCONS) != 0;
    ci->is_ca = (flags & EXFLAG_CA) != 0;
    ci->self_issued = X509_NAME_cmp(subj, iss) == 0;
    ci->self_signed = ci->self_issued && X509_self_signed(x, 1) == 1;
    int rc = parse_serial(x, ci);
    return rc ? rc : parse_san(x, ci);
}

static void fingerprint(const uint8_t *der, size_t len, char hex[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    hex[0] = '\0';
    if (!EVP_Digest(der, len, md, &mdlen, EVP_sha256(), NULL))
        return;
    for (unsigned i = 0; i < mdlen && i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static int mark_broken(sl_cert_info *ci, const char *why)
{
    ci->broken = true;
    ci->error = dup_bytes(why, strlen(why));
    return ci->error ? 0 : -SL_ENOMEM;
}

/* The fields of *out from the DER, or why it is broken.  0 or -SL_ENOMEM
 * (then *out is partly filled). */
static int parse_der(const uint8_t *der, size_t len, sl_cert_info *out)
{
    if (len == 0 || len > LONG_MAX)
        return mark_broken(out, "empty certificate entry");
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (!x)
        return mark_broken(out, "DER is not an X.509 certificate (d2i_X509 failed)");
    int rc = parse_fields(x, out);
    X509_free(x);
    if (rc == 0 && p != der + len)
        rc = mark_broken(out, "bytes after the certificate's DER");
    return rc;
}

int sl_cert_info_parse(const uint8_t *der, size_t len, sl_cert_info *out)
{
    memset(out, 0, sizeof *out);
    out->der = malloc(len ? len : 1);
    if (!out->der)
        return -SL_ENOMEM;
    memcpy(out->der, der, len);
    out->der_len = len;
    fingerprint(der, len, out->sha256_hex);
    int rc = parse_der(der, len, out);
    if (rc)
        sl_cert_info_clear(out); /* out of memory: nothing stays owned */
    return rc;
}

static void free_strs(char **a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(a[i]);
    free(a);
}

void sl_cert_info_clear(sl_cert_info *ci)
{
    if (!ci)
        return;
    free(ci->der);
    free(ci->error);
    free(ci->subject);
    free(ci->subject_cn);
    free(ci->subject_ou);
    free(ci->issuer);
    free(ci->issuer_cn);
    free(ci->serial_hex);
    free_strs(ci->san_dns, ci->n_san_dns);
    free_strs(ci->san_ip, ci->n_san_ip);
    memset(ci, 0, sizeof *ci);
}

/* A shared info and its reference count; `info` first, so that a pointer to
 * it is a pointer to the whole (C11 6.7.2.1p15).  Holders see it const: the
 * count is the only thing that changes after sl_cert_info_new. */
typedef struct cert_shared {
    sl_cert_info info;
    size_t refs;
} cert_shared;

static cert_shared *shared_of(const sl_cert_info *ci) { return (cert_shared *)ci; }

int sl_cert_info_new(const uint8_t *der, size_t len, const sl_cert_info **out)
{
    *out = NULL;
    cert_shared *sh = malloc(sizeof *sh);
    if (!sh)
        return -SL_ENOMEM;
    int rc = sl_cert_info_parse(der, len, &sh->info);
    if (rc) {
        free(sh);
        return rc;
    }
    sh->refs = 1;
    *out = &sh->info;
    return 0;
}

const sl_cert_info *sl_cert_info_ref(const sl_cert_info *ci)
{
    shared_of(ci)->refs++;
    return ci;
}

void sl_cert_info_unref(const sl_cert_info *ci)
{
    if (!ci)
        return;
    cert_shared *sh = shared_of(ci);
    if (--sh->refs > 0)
        return;
    sl_cert_info_clear(&sh->info);
    free(sh);
}

int sl_x509_name_text(const uint8_t *der, size_t len, char **out)
{
    *out = NULL;
    if (len > LONG_MAX)
        return -SL_EMALFORMED;
    const unsigned char *p = der;
    X509_NAME *name = d2i_X509_NAME(NULL, &p, (long)len);
    if (!name)
        return -SL_EMALFORMED;
    *out = name_text(name);
    X509_NAME_free(name);
    return *out ? 0 : -SL_ENOMEM;
}

/* ------------------------------------------------------------------ names */

/* RFC 6125 6.4.3: "*" only as the whole left-most label, matching one label. */
static bool dns_match(const char *pattern, const char *name)
{
    if (strcasecmp(pattern, name) == 0)
        return true;
    if (pattern[0] != '*' || pattern[1] != '.')
        return false;
    const char *dot = strchr(name, '.');
    if (!dot || dot == name)
        return false;
    /* The rest must have at least two labels so "*.com" matches nothing useful. */
    if (!strchr(pattern + 2, '.'))
        return false;
    return strcasecmp(pattern + 2, dot + 1) == 0;
}

static bool is_ip_literal(const char *name, char *canon, size_t len)
{
    unsigned char b[16];
    if (inet_pton(AF_INET, name, b) == 1)
        return inet_ntop(AF_INET, b, canon, (socklen_t)len) != NULL;
    if (inet_pton(AF_INET6, name, b) == 1)
        return inet_ntop(AF_INET6, b, canon, (socklen_t)len) != NULL;
    return false;
}

bool sl_cert_matches_name(const sl_cert_info *ci, const char *name)
{
    char canon[INET6_ADDRSTRLEN];
    if (!name || !*name || ci->broken)
        return false;
    if (is_ip_literal(name, canon, sizeof canon)) {
        for (size_t i = 0; i < ci->n_san_ip; i++)
            if (strcmp(ci->san_ip[i], canon) == 0)
                return true;
        return false;
    }
    for (size_t i = 0; i < ci->n_san_dns; i++)
        if (dns_match(ci->san_dns[i], name))
            return true;
    /* RFC 6125 6.4.4: the CN is only a fallback when no dNSName is present. */
    return ci->n_san_dns == 0 && ci->subject_cn && dns_match(ci->subject_cn, name);
}

/* ------------------------------------------------------------------ chain */

static bool contains_ci(const char *hay, const char *needle)
{
    return hay && strcasestr(hay, needle) != NULL;
}

static void check_linkage(const sl_cert_info *const *chain, size_t n, sl_chain_report *r)
{
    r->order_ok = true;
    for (size_t i = 0; i + 1 < n; i++) {
        const sl_cert_info *a = chain[i], *b = chain[i + 1];
        if (a->broken || b->broken || strcmp(a->issuer, b->subject) != 0) {
            r->order_ok = false;
            r->order_break = i;
            return;
        }
    }
}

static void check_times(const sl_cert_info *const *chain, size_t n, sl_time_ns at, sl_chain_report *r)
{
    for (size_t i = 0; i < n; i++) {
        if (chain[i]->broken)
            continue;
        if (!r->expired && chain[i]->not_after < at) {
            r->expired = true;
            r->expired_index = i;
        }
        if (!r->not_yet_valid && chain[i]->not_before > at) {
            r->not_yet_valid = true;
            r->not_yet_valid_index = i;
        }
    }
}

static X509 *to_x509(const sl_cert_info *ci)
{
    const unsigned char *p = ci->der;
    return ci->der_len <= LONG_MAX ? d2i_X509(NULL, &p, (long)ci->der_len) : NULL;
}

static int load_store(X509_STORE *store, const sl_tls_options *o)
{
    if (o->ca_file && !X509_STORE_load_file(store, o->ca_file))
        return -1;
    if (o->ca_path && !X509_STORE_load_path(store, o->ca_path))
        return -1;
    return 0;
}

static int run_verify(X509_STORE *store, X509 *leaf, STACK_OF(X509) *rest, sl_time_ns at, sl_chain_report *r)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (!ctx || !X509_STORE_CTX_init(ctx, store, leaf, rest)) {
        X509_STORE_CTX_free(ctx);
        return -SL_ENOMEM;
    }
    X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), (time_t)(at / SL_NS_PER_SEC));
    r->verify_ok = X509_verify_cert(ctx) == 1;
    r->verify_done = true;
    r->verify_error = X509_STORE_CTX_get_error(ctx);
    r->verify_depth = X509_STORE_CTX_get_error_depth(ctx);
    snprintf(r->verify_reason, sizeof r->verify_reason, "%s", X509_verify_cert_error_string(r->verify_error));
    X509_STORE_CTX_free(ctx);
    return 0;
}

static int verify_chain(const sl_cert_info *const *chain, size_t n, sl_time_ns at, const sl_tls_options *o,
                        sl_chain_report *r)
{
    if (n == 0 || chain[0]->broken) {
        snprintf(r->verify_reason, sizeof r->verify_reason, "no readable leaf certificate to verify");
        return 0;
    }
    int rc = -SL_ENOMEM;
    X509_STORE *store = X509_STORE_new();
    STACK_OF(X509) *rest = sk_X509_new_null();
    X509 *leaf = to_x509(chain[0]);
    if (!store || !rest || !leaf)
        goto out;
    for (size_t i = 1; i < n; i++) {
        X509 *x = chain[i]->broken ? NULL : to_x509(chain[i]);
        if (x && !sk_X509_push(rest, x))
            X509_free(x);
    }
    if (load_store(store, o) != 0) {
        snprintf(r->verify_reason, sizeof r->verify_reason, "cannot load CA file/path: not verified");
        rc = 0;
        goto out;
    }
    rc = run_verify(store, leaf, rest, at, r);
out:
    X509_free(leaf);
    sk_X509_pop_free(rest, X509_free);
    X509_STORE_free(store);
    return rc;
}

int sl_chain_check(const sl_cert_info *const *chain, size_t n, sl_time_ns at, const sl_tls_options *opts,
                   sl_chain_report *out)
{
    memset(out, 0, sizeof *out);
    out->n = n;
    for (size_t i = 0; i < n; i++)
        out->n_broken += chain[i]->broken;
    check_linkage(chain, n, out);
    if (n > 0 && !chain[0]->broken) {
        const sl_cert_info *leaf = chain[0];
        out->leaf_self_signed = leaf->self_issued;
        out->intermediate_missing = n == 1 && !leaf->self_issued;
        out->temporary_ou = contains_ci(leaf->subject_ou, "temporary") || contains_ci(leaf->subject_ou, "default") ||
                            contains_ci(leaf->subject_cn, "temporary");
    }
    check_times(chain, n, at, out);
    if (opts && opts->expect_name && n > 0) {
        out->name_checked = true;
        out->name_matched = sl_cert_matches_name(chain[0], opts->expect_name);
    }
    if (opts && (opts->ca_file || opts->ca_path))
        return verify_chain(chain, n, at, opts, out);
    return 0;
}

/* ------------------------------------------------------------------ export */

int sl_cert_export_pem(const sl_cert_info *ci, const char *dir, char *path_out, size_t path_len)
{
    char path[PATH_MAX];
    if (!ci->der || ci->der_len == 0 || ci->der_len > LONG_MAX || !ci->sha256_hex[0])
        return -SL_EUSAGE;
    int n = snprintf(path, sizeof path, "%s/%s.pem", dir, ci->sha256_hex);
    if (n < 0 || (size_t)n >= sizeof path) {
        errno = ENAMETOOLONG;
        return -SL_EIO;
    }
    FILE *f = fopen(path, "w");
    if (!f)
        return -SL_EIO;
    /* PEM_write armours any DER, so a broken certificate is exported too. */
    int ok = PEM_write(f, "CERTIFICATE", "", ci->der, (long)ci->der_len);
    int saved = errno;
    if (fclose(f) != 0 || !ok) {
        if (ok || saved == 0)
            saved = errno ? errno : EIO;
        errno = saved;
        return -SL_EIO;
    }
    if (path_out && path_len)
        snprintf(path_out, path_len, "%s", path);
    return 0;
}
