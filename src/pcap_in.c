/* pcap_in.c - libpcap reading of several files merged by timestamp. */
#include "sipladder/pcap_in.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sipladder/status.h"

typedef struct sl_pcap_source {
    const char *name;
    pcap_t *pcap;
    int linktype;
    uint64_t size;
    dev_t dev;
    ino_t ino;
    uint64_t frames;           /* frames read from this file */
    uint64_t last_frame;       /* capture-wide number of its last frame */
    struct pcap_pkthdr *hdr;   /* head packet, valid while has_head */
    const uint8_t *data;
    sl_time_ns head_ts;
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
        snprintf(msg, sizeof msg, "%s: capture ends early, before its first frame: %s", s->name, what);
    else
        snprintf(msg, sizeof msg, "%s: capture ends early after %llu frame%s of this file (frame %llu of the capture): %s",
                 s->name, (unsigned long long)s->frames, s->frames == 1 ? "" : "s",
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
         * they are unsigned (times after 2038 are real). */
        int64_t sec = (int64_t)s->hdr->ts.tv_sec;
        if (sec < 0 && sec >= INT32_MIN)
            sec += INT64_C(1) << 32;
        s->head_ts = (sl_time_ns)sec * SL_NS_PER_SEC + (sl_time_ns)s->hdr->ts.tv_usec;
        return;
    }
    s->done = 1;
    if (rc == PCAP_ERROR)
        source_warn(in, s, pcap_geterr(s->pcap));
}

static int source_open(sl_pcap_source *s, const char *name, char *err, size_t errlen)
{
    char pcap_err[PCAP_ERRBUF_SIZE] = "";
    struct stat st;
    memset(s, 0, sizeof *s);
    s->name = name;
    if (stat(name, &st) != 0) {
        snprintf(err, errlen, "%s: %s", name, strerror(errno));
        return -SL_EIO;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: is a directory", name);
        return -SL_EIO;
    }
    s->size = (uint64_t)st.st_size;
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    s->pcap = pcap_open_offline_with_tstamp_precision(name, PCAP_TSTAMP_PRECISION_NANO, pcap_err);
    if (!s->pcap) {
        snprintf(err, errlen, "%s: not a readable pcap/pcapng capture: %s", name, pcap_err);
        return -SL_EIO;
    }
    s->linktype = pcap_datalink(s->pcap);
    return 0;
}

/* A source reading a file image from memory: libpcap reads a FILE *, so the
 * bytes are opened with fmemopen; pcap_close closes that FILE. */
static int source_open_memory(sl_pcap_source *s, const uint8_t *data, size_t len, const char *name, char *err,
                              size_t errlen)
{
    char pcap_err[PCAP_ERRBUF_SIZE] = "";
    memset(s, 0, sizeof *s);
    s->name = name;
    s->size = len;
    FILE *fp = len ? fmemopen((void *)data, len, "rb") : NULL;
    if (!fp) {
        snprintf(err, errlen, "%s: not a readable pcap/pcapng capture: %s", name,
                 len ? strerror(errno) : "empty");
        return -SL_EIO;
    }
    s->pcap = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, pcap_err);
    if (!s->pcap) {
        fclose(fp);
        snprintf(err, errlen, "%s: not a readable pcap/pcapng capture: %s", name, pcap_err);
        return -SL_EIO;
    }
    s->linktype = pcap_datalink(s->pcap);
    return 0;
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
                snprintf(msg, sizeof msg, "%s: given twice (also as %s): its frames are read twice", files[i],
                         files[j]);
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
        } else {
            FILE *fp = pcap_file(s->pcap);
            long pos = fp ? ftell(fp) : -1;
            *done += pos > 0 ? (uint64_t)pos : 0;
        }
    }
}
