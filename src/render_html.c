/* render_html.c - the `html` view: the viewer page (web/, embedded at build
 * time by web/embed.py) around the json view's document. */
#include "sipladder/render_html.h"

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "sipladder/render_json.h"
#include "sipladder/spool.h"
#include "web_assets.h"

/* The escaping stream's state: where it writes, and the first bytes of a
 * possible U+2028/U+2029 (E2 80 A8/A9) that a write call cut. */
typedef struct escaper {
    FILE *out;
    unsigned char held[2];
    size_t n_held;
    bool failed;
} escaper;

static bool put(escaper *e, const void *p, size_t n)
{
    if (!e->failed && fwrite(p, 1, n, e->out) != n)
        e->failed = true;
    return !e->failed;
}

/* The bytes held, written as they were: they were not a line separator. */
static void release_held(escaper *e)
{
    put(e, e->held, e->n_held);
    e->n_held = 0;
}

static ssize_t escaper_write(void *cookie, const char *buf, size_t size)
{
    escaper *e = cookie;
    const unsigned char *p = (const unsigned char *)buf;
    size_t run = 0; /* bytes from `start` written as they are */
    const unsigned char *start = p;
    for (size_t i = 0; i < size; i++) {
        unsigned char b = p[i];
        const char *rep = NULL;
        if (e->n_held == 1 && b == 0x80) {
            e->held[e->n_held++] = b;
            start = p + i + 1;
            continue;
        }
        if (e->n_held == 2 && (b == 0xA8 || b == 0xA9)) {
            e->n_held = 0;
            put(e, b == 0xA8 ? "\\u2028" : "\\u2029", 6);
            start = p + i + 1;
            continue;
        }
        if (e->n_held)
            release_held(e);
        switch (b) {
        case '<': rep = "\\u003c"; break;
        case '>': rep = "\\u003e"; break;
        case '&': rep = "\\u0026"; break;
        case 0xE2: break;
        default: run++; continue;
        }
        put(e, start, run);
        run = 0;
        if (rep)
            put(e, rep, 6);
        else
            e->held[e->n_held++] = b; /* 0xE2: wait for the next bytes */
        start = p + i + 1;
    }
    put(e, start, run);
    return e->failed ? -1 : (ssize_t)size;
}

static int escaper_close(void *cookie)
{
    escaper *e = cookie;
    if (e->n_held)
        release_held(e);
    int rc = e->failed ? -1 : 0;
    free(e);
    return rc;
}

FILE *sl_html_json_escaper(FILE *out)
{
    escaper *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->out = out;
    cookie_io_functions_t io = {.write = escaper_write, .close = escaper_close};
    FILE *f = fopencookie(e, "w", io);
    if (!f)
        free(e);
    return f;
}

int sl_render_html(const sl_report *r, const sl_render_opts *o)
{
    if (o->spool && o->spool->batch)
        return sl_render_json(r, o); /* the spools hold plain JSON; escaped when copied in the final run */
    if (fwrite(sl_html_head, 1, sizeof sl_html_head, o->out) != sizeof sl_html_head)
        return -1;
    FILE *esc = sl_html_json_escaper(o->out);
    if (!esc)
        return -1;
    /* The json view writes in 64 KB pieces already. */
    setvbuf(esc, NULL, _IOFBF, (size_t)1 << 16);
    sl_render_opts jo = *o;
    jo.out = esc;
    int rc = sl_render_json(r, &jo);
    if (fclose(esc) != 0)
        rc = -1;
    if (fwrite(sl_html_tail, 1, sizeof sl_html_tail, o->out) != sizeof sl_html_tail)
        rc = -1;
    return rc;
}
