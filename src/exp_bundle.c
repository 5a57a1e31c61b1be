/* exp_bundle.c - an Expressway diagnostic bundle unpacked (exp_bundle.h).
 * libarchive reads the tar (and its gzip/bzip2/xz filter); only regular
 * members are looked at, by their bytes: a capture (pcap, pcapng, maybe
 * gzip'd) or an Expressway log (plain or gzip'd).  Each is written to a
 * mkdtemp directory as "NNN-<name>", where <name> is the member's last path
 * part with anything but [A-Za-z0-9._-] replaced: nothing of the archive
 * chooses where a byte is written. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "sipladder/exp_bundle.h"
#include "sipladder/exp_log.h"
#include "sipladder/spool.h"
#include "sipladder/status.h"

#define HEAD_BYTES 65536

struct sl_bundle {
    char dir[4096];   /* "" until made */
    char **paths;     /* written files, owned */
    size_t n_paths;
    long long written;
};

/* Print a name from an archive or the command line without control bytes. */
static void put_clean(const char *s)
{
    for (; s && *s; s++)
        fputc((unsigned char)*s >= 32 && (unsigned char)*s < 127 ? *s : '?', stderr);
}

static void say(const char *bundle, const char *member, const char *what)
{
    fputs("sipladder: warning: ", stderr);
    put_clean(bundle);
    if (member) {
        fputc(':', stderr);
        put_clean(member);
    }
    fprintf(stderr, ": %s\n", what);
}

static struct archive *open_tar(const char *path)
{
    struct archive *a = archive_read_new();
    if (!a)
        return NULL;
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_gnutar(a);
    if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
        archive_read_free(a);
        return NULL;
    }
    return a;
}

/* A tar archive: its first header reads. */
static bool is_bundle(const char *path)
{
    struct stat st;
    if (strcmp(path, "-") == 0 || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return false; /* a pipe (tcpdump -w - | ...) is read once, by the capture reader */
    struct archive *a = open_tar(path);
    if (!a)
        return false;
    struct archive_entry *e;
    bool yes = archive_read_next_header(a, &e) == ARCHIVE_OK;
    archive_read_free(a);
    return yes;
}

static bool capture_magic(const uint8_t *p, size_t n)
{
    static const uint8_t magics[][4] = {{0xd4, 0xc3, 0xb2, 0xa1}, {0xa1, 0xb2, 0xc3, 0xd4}, {0x4d, 0x3c, 0xb2, 0xa1},
                                        {0xa1, 0xb2, 0x3c, 0x4d}, {0x0a, 0x0d, 0x0d, 0x0a}};
    for (size_t i = 0; n >= 4 && i < sizeof magics / sizeof magics[0]; i++)
        if (memcmp(p, magics[i], 4) == 0)
            return true;
    return false;
}

/* The first bytes of a gzip member, inflated (n_out 0: not gzip or broken). */
static size_t gunzip_head(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    if (n < 2 || in[0] != 0x1f || in[1] != 0x8b)
        return 0;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return 0;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int rc = inflate(&z, Z_SYNC_FLUSH);
    size_t got = cap - z.avail_out;
    inflateEnd(&z);
    return rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR ? got : 0;
}

typedef enum { KIND_NONE, KIND_CAPTURE, KIND_LOG } member_kind;

static member_kind classify(const uint8_t *p, size_t n)
{
    uint8_t *buf = malloc(HEAD_BYTES);
    if (!buf)
        return KIND_NONE;
    size_t m = gunzip_head(p, n, buf, HEAD_BYTES);
    const uint8_t *q = m ? buf : p;
    size_t qn = m ? m : n;
    member_kind k = capture_magic(q, qn) ? KIND_CAPTURE : sl_xlog_detect(q, qn) ? KIND_LOG : KIND_NONE;
    free(buf);
    return k;
}

static int add_path(sl_bundle *b, const char *path)
{
    char **p = realloc(b->paths, (b->n_paths + 1) * sizeof *p);
    if (!p)
        return -SL_ENOMEM;
    b->paths = p;
    if (!(p[b->n_paths] = strdup(path)))
        return -SL_ENOMEM;
    b->n_paths++;
    return 0;
}

static int push_name(const char ***list, size_t *n, const char *name)
{
    const char **p = realloc(*list, (*n + 1) * sizeof *p);
    if (!p)
        return -SL_ENOMEM;
    p[(*n)++] = name;
    *list = p;
    return 0;
}

/* Our own name for a member: "NNN-" and its last path part, cleaned. */
static void member_file(const sl_bundle *b, size_t index, const char *member, char *out, size_t len)
{
    const char *base = member ? strrchr(member, '/') : NULL;
    base = base ? base + 1 : member ? member : "";
    char clean[64];
    size_t k = 0;
    for (; *base && k + 1 < sizeof clean; base++)
        clean[k++] = ((*base >= 'a' && *base <= 'z') || (*base >= 'A' && *base <= 'Z') ||
                      (*base >= '0' && *base <= '9') || *base == '.' || *base == '-' || *base == '_')
                         ? *base
                         : '_';
    clean[k] = 0;
    if (k == 0 || clean[0] == '.')
        snprintf(clean, sizeof clean, "member");
    snprintf(out, len, "%s/%03zu-%s", b->dir, index, clean);
}

/* Copy the current member to a new file; the head already read comes first.
 * 0, or 1 when skipped (said); <0 on error. */
static int write_member(sl_bundle *b, struct archive *a, const char *bundle, const char *member, const char *path,
                        const uint8_t *head, size_t n_head)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        say(bundle, member, strerror(errno));
        return -SL_EIO;
    }
    long long size = (long long)n_head;
    bool ok = (size_t)write(fd, head, n_head) == n_head;
    uint8_t *buf = malloc(HEAD_BYTES);
    ok = ok && buf;
    while (ok) {
        la_ssize_t got = archive_read_data(a, buf, HEAD_BYTES);
        if (got == 0)
            break;
        if (got < 0) {
            say(bundle, member, "damaged member: what came before the damage is kept");
            break;
        }
        size += got;
        if (size > SL_BUNDLE_MAX_MEMBER || b->written + size > SL_BUNDLE_MAX_TOTAL) {
            say(bundle, member, "larger than the bundle limits (2 GB a member, 8 GB in all): cut there");
            break;
        }
        ok = write(fd, buf, (size_t)got) == got;
    }
    free(buf);
    if (close(fd) != 0)
        ok = false;
    b->written += size;
    if (!ok) {
        say(bundle, member, "cannot write the temporary copy");
        unlink(path);
        return -SL_EIO;
    }
    return 0;
}

static int unpack(sl_bundle *b, const char *bundle, const char ***files, size_t *n_files, const char ***logs,
                  size_t *n_logs)
{
    struct archive *a = open_tar(bundle);
    if (!a) {
        say(bundle, NULL, "cannot open the bundle");
        return -SL_EIO;
    }
    if (!b->dir[0]) {
        snprintf(b->dir, sizeof b->dir, "%s/sipladder-bundle-XXXXXX", sl_spool_dir());
        if (!mkdtemp(b->dir)) {
            say(bundle, NULL, "cannot make a temporary directory (TMPDIR)");
            b->dir[0] = 0;
            archive_read_free(a);
            return -SL_EIO;
        }
    }
    uint8_t *head = malloc(HEAD_BYTES);
    int rc = head ? 0 : -SL_ENOMEM;
    size_t found = 0, seen = 0;
    struct archive_entry *e;
    int hr;
    while (rc == 0 && (hr = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        const char *member = archive_entry_pathname(e);
        if (++seen > SL_BUNDLE_MAX_MEMBERS) {
            say(bundle, NULL, "more than 4096 members: the rest are not read");
            break;
        }
        if (archive_entry_filetype(e) != AE_IFREG)
            continue; /* directories, links, devices: nothing to read */
        if (archive_entry_size_is_set(e) && archive_entry_size(e) > SL_BUNDLE_MAX_MEMBER) {
            say(bundle, member, "larger than 2 GB: skipped");
            continue;
        }
        size_t n = 0;
        while (n < HEAD_BYTES) {
            la_ssize_t got = archive_read_data(a, head + n, HEAD_BYTES - n);
            if (got <= 0)
                break;
            n += (size_t)got;
        }
        member_kind k = classify(head, n);
        if (k == KIND_NONE)
            continue;
        char path[4200];
        member_file(b, b->n_paths, member, path, sizeof path);
        rc = write_member(b, a, bundle, member, path, head, n);
        if (rc < 0)
            break;
        rc = add_path(b, path);
        if (rc == 0)
            rc = k == KIND_CAPTURE ? push_name(files, n_files, b->paths[b->n_paths - 1])
                                   : push_name(logs, n_logs, b->paths[b->n_paths - 1]);
        found++;
    }
    if (rc == 0 && hr != ARCHIVE_OK && hr != ARCHIVE_EOF)
        say(bundle, NULL, "damaged archive: the members before the damage are read");
    if (rc == 0 && found == 0)
        say(bundle, NULL, "no capture and no Expressway log in the bundle");
    free(head);
    archive_read_free(a);
    return rc;
}

int sl_bundle_take(const char ***files, size_t *n_files, const char ***log_names, size_t *n_logs, sl_bundle **out)
{
    *out = NULL;
    const char **kept = NULL;
    size_t n_kept = 0;
    sl_bundle *b = NULL;
    int rc = 0;
    for (size_t i = 0; i < *n_files && rc == 0; i++) {
        if (!is_bundle((*files)[i])) {
            rc = push_name(&kept, &n_kept, (*files)[i]);
            continue;
        }
        if (!b && !(b = calloc(1, sizeof *b))) {
            rc = -SL_ENOMEM;
            break;
        }
        rc = unpack(b, (*files)[i], &kept, &n_kept, log_names, n_logs);
    }
    if (rc < 0) {
        free(kept);
        sl_bundle_free(b);
        return rc;
    }
    free(*files);
    *files = kept;
    *n_files = n_kept;
    *out = b;
    return 0;
}

void sl_bundle_free(sl_bundle *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n_paths; i++) {
        unlink(b->paths[i]);
        free(b->paths[i]);
    }
    free(b->paths);
    if (b->dir[0])
        rmdir(b->dir);
    free(b);
}
