/* pcap_in.c - libpcap reading of several files merged by timestamp. */
#include "sipladder/pcap_in.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sipladder/decompress.h"
#include "sipladder/status.h"

typedef struct sl_pcap_source {
    const char *name;          /* as given; "-" is standard input */
    const char *shown;         /* in messages: "standard input" for "-" */
    pcap_t *pcap;
    sl_instream *stream;       /* decompressor or pipe reader; NULL when libpcap reads the file itself */
    sl_compression compression;
    int linktype;
    uint64_t size;             /* of the file as stored (compressed); 0 for a pipe */
    dev_t dev;
    ino_t ino;
    uint64_t frames;           /* frames read from this file */
    uint64_t last_frame;       /* capture-wide number of its last frame */
    struct pcap_pkthdr *hdr;   /* head packet, valid while has_head */
    const uint8_t *data;
    sl_time_ns head_ts;
    int64_t head_sec;          /* the head's seconds as the file says, when clamped */
    bool head_clamped;         /* its time was out of range (see sl_time_from_parts) */
    bool clamp_warned;         /* said once per file */
    int has_head;
    int done;
} sl_pcap_source;

struct sl_pcap_in {
    sl_pcap_source *src;
    size_t n;
    uint64_t next_frame;
    int truncated;
    size_t current;      /* source whose head was handed out last */
    int current_valid;
    sl_pcap_warn_fn warn;
    void *warn_ctx;
};

static void source_warn(sl_pcap_in *in, sl_pcap_source *s, const char *what)
{
    char msg[PCAP_ERRBUF_SIZE + 512];
    if (s->frames == 0)
        snprintf(msg, sizeof msg, "%s: capture ends early, before its first frame: %s", s->shown, what);
    else
        snprintf(msg, sizeof msg, "%s: capture ends early after %llu frame%s of this file (frame %llu of the capture): %s",
                 s->shown, (unsigned long long)s->frames, s->frames == 1 ? "" : "s",
                 (unsigned long long)s->last_frame, what);
    in->truncated = 1;
    if (in->warn)
        in->warn(in->warn_ctx, msg);
}

/* Read the next packet of a source into its head slot. */
static void source_advance(sl_pcap_in *in, sl_pcap_source *s)
{
    s->has_head = 0;
    if (s->done)
        return;
    int rc = pcap_next_ex(s->pcap, &s->hdr, &s->data);
    if (rc == 1) {
        s->has_head = 1;
        /* Opened with nanosecond precision: tv_usec holds nanoseconds.  The
         * pcap format stores seconds in 32 bits that libpcap sign-extends;
         * they are unsigned (times after 2038 are real).  pcapng's 64-bit
         * times (and if_tsoffset) can say anything: clamped, said once. */
        int64_t sec = (int64_t)s->hdr->ts.tv_sec;
        if (sec < 0 && sec >= INT32_MIN)
            sec += INT64_C(1) << 32;
        s->head_ts = sl_time_from_parts(sec, (int64_t)s->hdr->ts.tv_usec, &s->head_clamped);
        s->head_sec = sec;
        return;
    }
    s->done = 1;
    /* A decompression error ends the data libpcap reads (as an error, or
     * as a clean end when it falls between two records): it says why. */
    const char *why = sl_instream_error(s->stream);
    if (why) {
        source_warn(in, s, why);
    } else if (rc == PCAP_ERROR && s->compression != SL_COMP_NONE) {
        /* gzip checks its CRC only at the end: damage shows as bad records first */
        char msg[PCAP_ERRBUF_SIZE + 64];
        snprintf(msg, sizeof msg, "%s (in the %s-decompressed data)", pcap_geterr(s->pcap),
                 sl_compression_name(s->compression));
        source_warn(in, s, msg);
    } else if (rc == PCAP_ERROR) {
        source_warn(in, s, pcap_geterr(s->pcap));
    }
}

/* The first frame of a file whose time is out of range, once. */
static void warn_clamped(sl_pcap_in *in, sl_pcap_source *s, uint64_t frame)
{
    char msg[512], when[64];
    s->clamp_warned = true;
    if (!in->warn)
        return;
    snprintf(msg, sizeof msg,
             "%s: frame %llu: timestamp out of range (%lld s + %lld ns since 1970), read as %s UTC; so are any "
             "later ones of this file",
             s->shown, (unsigned long long)frame, (long long)s->head_sec, (long long)s->hdr->ts.tv_usec,
             sl_time_format(s->head_ts, when, sizeof when));
    in->warn(in->warn_ctx, msg);
}

/* libpcap could not open what it was given: say why in the terms of what
 * the user has (the compressed file, an empty decompression). */
static void explain_open_failure(const sl_pcap_source *s, sl_compression kind, const char *pcap_err, char *err,
                                 size_t errlen)
{
    const char *why = sl_instream_error(s->stream);
    if (why)
        snprintf(err, errlen, "%s: %s", s->shown, why);
    else if (kind != SL_COMP_NONE && sl_instream_bytes_out(s->stream) == 0)
        snprintf(err, errlen, "%s: empty file inside the %s compression", s->shown, sl_compression_name(kind));
    else if (kind != SL_COMP_NONE)
        snprintf(err, errlen, "%s: not a readable pcap/pcapng capture (after %s decompression): %s", s->shown,
                 sl_compression_name(kind), pcap_err);
    else
        snprintf(err, errlen, "%s: not a readable pcap/pcapng capture: %s", s->shown, pcap_err);
}

/* Hand an open file to libpcap: its first bytes say whether it is
 * compressed.  A plain file that can be rewound is read by libpcap itself;
 * a compressed one, or a pipe whose first bytes are gone, through
 * sl_instream.  fp is closed on failure when close_fp (never stdin). */
static int source_open_stream(sl_pcap_source *s, FILE *fp, bool close_fp, char *err, size_t errlen)
{
    uint8_t head[SL_COMP_MAGIC_MAX];
    off_t start = ftello(fp);
    size_t n = fread(head, 1, sizeof head, fp);
    const char *tool = NULL;
    sl_compression kind = sl_compression_detect(head, n, &tool);
    FILE *pf = NULL;
    if (n == 0 && ferror(fp))
        snprintf(err, errlen, "%s: %s", s->shown, strerror(errno));
    else if (n == 0 && s->name[0] == '-' && s->name[1] == '\0')
        snprintf(err, errlen, "standard input is empty: no capture was written to it");
    else if (n == 0)
        snprintf(err, errlen, "%s: empty file", s->shown);
    else if (kind == SL_COMP_UNSUPPORTED)
        snprintf(err, errlen, "%s: compressed with %s, which sipladder does not read: decompress it first (%s -dc FILE | sipladder -r -)",
                 s->shown, tool, tool);
    else if (kind == SL_COMP_NONE && start >= 0 && fseeko(fp, start, SEEK_SET) == 0)
        pf = fp;
    else if (!(pf = sl_instream_fopen(fp, close_fp, head, n, kind, &s->stream, err, errlen))) {
        char why[256];
        snprintf(why, sizeof why, "%s", err);
        snprintf(err, errlen, "%s: %s", s->shown, why);
    }
    if (!pf) {
        if (close_fp)
            fclose(fp);
        return -SL_EIO;
    }
    char pcap_err[PCAP_ERRBUF_SIZE] = "";
    s->pcap = pcap_fopen_offline_with_tstamp_precision(pf, PCAP_TSTAMP_PRECISION_NANO, pcap_err);
    if (!s->pcap) {
        explain_open_failure(s, kind, pcap_err, err, errlen);
        s->stream = NULL;
        if (pf != fp)
            fclose(pf); /* closes fp too when close_fp */
        else if (close_fp)
            fclose(fp);
        return -SL_EIO;
    }
    s->linktype = pcap_datalink(s->pcap);
    s->compression = kind;
    return 0;
}

static bool is_stdin_name(const char *name) { return strcmp(name, "-") == 0; }

static int source_open(sl_pcap_source *s, const char *name, char *err, size_t errlen)
{
    struct stat st;
    memset(s, 0, sizeof *s);
    s->name = name;
    bool from_stdin = is_stdin_name(name);
    s->shown = from_stdin ? "standard input" : name;
    FILE *fp = stdin;
    if (from_stdin && isatty(STDIN_FILENO)) {
        snprintf(err, errlen, "standard input is a terminal, not a capture: pipe one in (tcpdump -w - | sipladder -r -)");
        return -SL_EIO;
    }
    if (!from_stdin && !(fp = fopen(name, "rb"))) {
        snprintf(err, errlen, "%s: %s", name, strerror(errno));
        return -SL_EIO;
    }
    bool stat_ok = fstat(fileno(fp), &st) == 0;
    if (!stat_ok || S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: %s", s->shown, stat_ok ? "is a directory" : strerror(errno));
        if (!from_stdin)
            fclose(fp);
        return -SL_EIO;
    }
    s->size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    return source_open_stream(s, fp, !from_stdin, err, errlen);
}

/* A source reading a file image from memory: libpcap reads a FILE *, so the
 * bytes are opened with fmemopen; pcap_close closes that FILE. */
static int source_open_memory(sl_pcap_source *s, const uint8_t *data, size_t len, const char *name, char *err,
                              size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->name = name;
    s->shown = name;
    s->size = len;
    if (len == 0) {
        snprintf(err, errlen, "%s: empty file", name);
        return -SL_EIO;
    }
    FILE *fp = fmemopen((void *)data, len, "rb");
    if (!fp) {
        snprintf(err, errlen, "%s: %s", name, strerror(errno));
        return -SL_EIO;
    }
    return source_open_stream(s, fp, true, err, errlen);
}

int sl_pcap_in_open_memory(const uint8_t *data, size_t len, const char *name, sl_pcap_warn_fn warn,
                           void *warn_ctx, sl_pcap_in **out, char *err, size_t errlen)
{
    *out = NULL;
    sl_pcap_in *in = calloc(1, sizeof *in);
    if (!in || !(in->src = calloc(1, sizeof *in->src))) {
        free(in);
        snprintf(err, errlen, "out of memory");
        return -SL_ENOMEM;
    }
    in->warn = warn;
    in->warn_ctx = warn_ctx;
    in->next_frame = 1;
    int rc = source_open_memory(&in->src[0], data, len, name, err, errlen);
    if (rc < 0) {
        sl_pcap_in_close(in);
        return rc;
    }
    in->n = 1;
    source_advance(in, &in->src[0]);
    *out = in;
    return 0;
}

int sl_pcap_in_open(const char *const *files, size_t n, sl_pcap_warn_fn warn, void *warn_ctx,
                    sl_pcap_in **out, char *err, size_t errlen)
{
    *out = NULL;
    if (n == 0) {
        snprintf(err, errlen, "no capture file given");
        return -SL_EUSAGE;
    }
    sl_pcap_in *in = calloc(1, sizeof *in);
    if (!in || !(in->src = calloc(n, sizeof *in->src))) {
        free(in);
        snprintf(err, errlen, "out of memory");
        return -SL_ENOMEM;
    }
    in->warn = warn;
    in->warn_ctx = warn_ctx;
    in->next_frame = 1;
    size_t stdin_uses = 0;
    for (size_t i = 0; i < n; i++)
        stdin_uses += is_stdin_name(files[i]);
    if (stdin_uses > 1) {
        snprintf(err, errlen, "standard input ('-') given %zu times: it can be read once", stdin_uses);
        sl_pcap_in_close(in);
        return -SL_EUSAGE;
    }
    for (size_t i = 0; i < n; i++) {
        int rc = source_open(&in->src[i], files[i], err, errlen);
        if (rc < 0) {
            in->n = i;
            sl_pcap_in_close(in);
            return rc;
        }
        in->n = i + 1;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (in->src[i].dev == in->src[j].dev && in->src[i].ino == in->src[j].ino && warn) {
                char msg[1024];
                snprintf(msg, sizeof msg, "%s: given twice (also as %s): its frames are read twice",
                         in->src[i].shown, in->src[j].shown);
                warn(warn_ctx, msg);
            }
    for (size_t i = 0; i < n; i++)
        source_advance(in, &in->src[i]);
    *out = in;
    return 0;
}

void sl_pcap_in_close(sl_pcap_in *in)
{
    if (!in)
        return;
    for (size_t i = 0; i < in->n; i++)
        if (in->src[i].pcap)
            pcap_close(in->src[i].pcap);
    free(in->src);
    free(in);
}

int sl_pcap_in_next(sl_pcap_in *in, sl_pcap_frame *f)
{
    /* The previous frame's bytes stay valid until now: advance its source. */
    if (in->current_valid) {
        source_advance(in, &in->src[in->current]);
        in->current_valid = 0;
    }
    size_t best = in->n;
    for (size_t i = 0; i < in->n; i++) {
        const sl_pcap_source *s = &in->src[i];
        if (s->has_head && (best == in->n || s->head_ts < in->src[best].head_ts))
            best = i;
    }
    if (best == in->n)
        return 0;
    sl_pcap_source *s = &in->src[best];
    f->frame = in->next_frame++;
    if (s->head_clamped && !s->clamp_warned)
        warn_clamped(in, s, f->frame);
    f->ts = s->head_ts;
    f->linktype = s->linktype;
    f->caplen = s->hdr->caplen;
    f->wirelen = s->hdr->len;
    f->data = s->data;
    f->file_index = best;
    s->frames++;
    s->last_frame = f->frame;
    in->current = best;
    in->current_valid = 1;
    return 1;
}

int sl_pcap_in_truncated(const sl_pcap_in *in) { return in->truncated; }
size_t sl_pcap_in_file_count(const sl_pcap_in *in) { return in->n; }

int sl_pcap_in_linktype(const sl_pcap_in *in, size_t file_index)
{
    return file_index < in->n ? in->src[file_index].linktype : -1;
}

void sl_pcap_in_progress(const sl_pcap_in *in, uint64_t *done, uint64_t *total)
{
    *done = 0;
    *total = 0;
    for (size_t i = 0; i < in->n; i++) {
        const sl_pcap_source *s = &in->src[i];
        *total += s->size;
        if (s->done) {
            *done += s->size;
        } else if (s->stream) {
            *done += sl_instream_bytes_in(s->stream);
        } else {
            FILE *fp = pcap_file(s->pcap);
            long pos = fp ? ftell(fp) : -1;
            *done += pos > 0 ? (uint64_t)pos : 0;
        }
    }
}
