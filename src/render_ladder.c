/* render_ladder.c - the `ladder` view as text: one column per host, one row
 * per event (SIP message, TCP SYN/SYN-ACK/FIN/RST, TLS handshake step) with
 * its time, delta and frame, arrows drawn between the columns.
 *
 * Every line is drawn into a row of cells (one code point each) exactly
 * `width` cells wide, then written out without its trailing blanks, so no
 * label can push a column out of place: text that does not fit is cut with
 * an ellipsis.  Capture text
 * arrives escaped (text.h); here code points a terminal may draw wider or
 * narrower than one cell (combining marks, CJK, emoji) and C1 controls
 * become '?', and with --ascii everything outside ASCII does. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "render_ladder_internal.h"
#include "sipladder/spool.h"
#include "sipladder/diagnose.h"
#include "sipladder/status.h"
#include "sipladder/text.h"

#define DEFAULT_WIDTH 120
#define MIN_SPACING 8   /* cells between two columns: an arrow with a 2-cell label */
#define MAX_WIDTH 4096
#define DELTA_WIDTH 11  /* "+999.999999" */
#define MAX_KEY 12      /* cells of an event's first word (method, status, SYN-ACK) never cut */

typedef struct cell {
    uint32_t cp;
    uint8_t tone;
} cell;

typedef struct glyphs {
    uint32_t bar, line, right, left, from_l, from_r, self, tee_down, tee_up;
    const char *ellipsis; /* as code points, each one cell */
    bool ascii;
} glyphs;

static const glyphs UTF8_GLYPHS = {0x2502, 0x2500, 0x25B6, 0x25C0, 0x251C, 0x2524, 0x21BA, 0x252C, 0x2534,
                                   "\xe2\x80\xa6", false};
static const glyphs ASCII_GLYPHS = {'|', '-', '>', '<', '+', '+', '@', '+', '+', "...", true};

typedef struct layout {
    int width;
    int time_w;   /* 15 ("12:00:00.123456") or 26 with the date */
    int frame_w;
    int info;     /* cells before the diagram */
    int spacing;
    int *x;       /* column centres */
    char **label; /* per column: its label, shortened to spacing - 1 cells when longer (owned) */
    char **address; /* per column: its address, or its tail when longer (owned) */
    size_t n_col;
    const glyphs *g;
    bool color;
    int verbose;
    cell *row;    /* width cells */
} layout;

static const char *tone_sgr(sl_ladder_tone t)
{
    switch (t) {
    case SL_TONE_REQUEST: return "36";
    case SL_TONE_PROVISIONAL: return "33";
    case SL_TONE_SUCCESS: return "32";
    case SL_TONE_REDIRECT: return "34";
    case SL_TONE_FAILURE: return "1;31";
    case SL_TONE_TCP: return "34";
    case SL_TONE_TLS: return "35";
    case SL_TONE_DIM: return "2";
    case SL_TONE_TITLE: return "1";
    default: return NULL;
    }
}

/* The next code point of s (advancing *i), or '?' for a broken sequence. */
static uint32_t next_cp(const char *s, size_t n, size_t *i)
{
    const unsigned char *u = (const unsigned char *)s + *i;
    size_t l = u[0] < 0x80 ? 1 : sl_text_utf8_len(u, n - *i);
    if (l == 0) {
        (*i)++;
        return '?';
    }
    *i += l;
    if (l == 1)
        return u[0];
    uint32_t cp = l == 2 ? u[0] & 0x1fu : l == 3 ? u[0] & 0x0fu : u[0] & 0x07u;
    for (size_t k = 1; k < l; k++)
        cp = (cp << 6) | (u[k] & 0x3fu);
    return cp;
}

/* Whether a terminal draws cp in exactly one cell: Latin, Greek, Cyrillic
 * (their combining marks excluded); everything else is replaced. */
static bool one_cell(uint32_t cp, bool ascii)
{
    if (cp >= 0x20 && cp < 0x7f)
        return true;
    if (ascii)
        return false;
    if (cp == 0x2026) /* the ellipsis, drawn here too */
        return true;
    return (cp >= 0xa0 && cp < 0x300 && cp != 0xad) || (cp >= 0x370 && cp < 0x483) || (cp >= 0x48a && cp < 0x530);
}

static size_t text_cells(const char *s)
{
    size_t n = strlen(s), cells = 0;
    for (size_t i = 0; i < n; cells++)
        next_cp(s, n, &i);
    return cells;
}

static void put_cp(const layout *L, int x, uint32_t cp, sl_ladder_tone tone)
{
    if (x >= 0 && x < L->width)
        L->row[x] = (cell){cp, (uint8_t)tone};
}

/* Write s at x in at most max cells, cut with an ellipsis; returns cells used. */
static int put_text(const layout *L, int x, int max, const char *s, sl_ladder_tone tone)
{
    if (max <= 0)
        return 0;
    size_t n = strlen(s), i = 0;
    int ell = (int)text_cells(L->g->ellipsis);
    bool fits = text_cells(s) <= (size_t)max;
    int room = fits ? max : max - ell;
    int used = 0;
    while (i < n && used < room) {
        uint32_t cp = next_cp(s, n, &i);
        put_cp(L, x + used++, one_cell(cp, L->g->ascii) ? cp : '?', tone);
    }
    if (!fits) {
        const char *e = L->g->ellipsis;
        size_t en = strlen(e), k = 0;
        while (k < en && used < max)
            put_cp(L, x + used++, next_cp(e, en, &k), tone);
    }
    return used;
}

static void put_ascii(const layout *L, int x, const char *s, sl_ladder_tone tone)
{
    for (size_t i = 0; s[i]; i++)
        put_cp(L, x + (int)i, (unsigned char)s[i], tone);
}

static void clear_row(const layout *L)
{
    for (int i = 0; i < L->width; i++)
        L->row[i] = (cell){' ', SL_TONE_PLAIN};
}

/* An empty row with the columns' vertical lines. */
static void bars_row(const layout *L)
{
    clear_row(L);
    for (size_t i = 0; i < L->n_col; i++)
        put_cp(L, L->x[i], L->g->bar, SL_TONE_DIM);
}

static void rule_row(const layout *L, uint32_t tee)
{
    for (int i = 0; i < L->width; i++)
        L->row[i] = (cell){L->g->line, SL_TONE_DIM};
    for (size_t i = 0; i < L->n_col; i++)
        put_cp(L, L->x[i], tee, SL_TONE_DIM);
}

static void put_utf8(uint32_t cp, FILE *out)
{
    if (cp < 0x80) {
        fputc((int)cp, out);
    } else if (cp < 0x800) {
        fputc((int)(0xc0 | (cp >> 6)), out);
        fputc((int)(0x80 | (cp & 0x3f)), out);
    } else if (cp < 0x10000) {
        fputc((int)(0xe0 | (cp >> 12)), out);
        fputc((int)(0x80 | ((cp >> 6) & 0x3f)), out);
        fputc((int)(0x80 | (cp & 0x3f)), out);
    } else {
        fputc((int)(0xf0 | (cp >> 18)), out);
        fputc((int)(0x80 | ((cp >> 12) & 0x3f)), out);
        fputc((int)(0x80 | ((cp >> 6) & 0x3f)), out);
        fputc((int)(0x80 | (cp & 0x3f)), out);
    }
}

/* The row without its trailing blanks: a line never ends in a space. */
static void emit_row(const layout *L, FILE *out)
{
    int tone = SL_TONE_PLAIN, end = L->width;
    while (end > 0 && L->row[end - 1].cp == ' ')
        end--;
    for (int i = 0; i < end; i++) {
        if (L->color && L->row[i].tone != tone) {
            const char *sgr = tone_sgr((sl_ladder_tone)L->row[i].tone);
            fputs("\033[0m", out);
            if (sgr)
                fprintf(out, "\033[%sm", sgr);
            tone = L->row[i].tone;
        }
        put_utf8(L->row[i].cp, out);
    }
    if (L->color && tone != SL_TONE_PLAIN)
        fputs("\033[0m", out);
    fputc('\n', out);
}

/* A text row across the whole width (title, verdicts). */
static void text_line(const layout *L, const char *s, sl_ladder_tone tone, FILE *out)
{
    clear_row(L);
    put_text(L, 0, L->width, s, tone);
    emit_row(L, out);
}

/* Long text over as many rows as it needs, cut at spaces where it can. */
static void wrapped_lines(const layout *L, const char *s, sl_ladder_tone tone, FILE *out)
{
    size_t n = strlen(s), i = 0;
    int indent = 0;
    while (i < n) {
        clear_row(L);
        int room = L->width - indent, used = 0;
        size_t j = i, brk = 0;
        while (j < n && used < room) {
            size_t k = j;
            uint32_t cp = next_cp(s, n, &k);
            if (cp == ' ' && used > 0)
                brk = j;
            j = k;
            used++;
        }
        size_t end = j < n && brk ? brk : j;
        char *piece = strndup(s + i, end - i);
        if (piece)
            put_text(L, indent, room, piece, tone);
        free(piece);
        emit_row(L, out);
        i = end;
        while (i < n && s[i] == ' ')
            i++;
        indent = 4;
    }
}

int sl_render_term_width(FILE *out)
{
    int fd = fileno(out);
    if (fd < 0 || !isatty(fd))
        return 0;
    const char *env = getenv("COLUMNS");
    char *end;
    long v = env ? strtol(env, &end, 10) : 0;
    if (env && *env && *end == '\0' && v > 0 && v <= MAX_WIDTH)
        return (int)v;
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return DEFAULT_WIDTH;
}

static int digits(uint64_t v)
{
    int d = 1;
    while (v >= 10)
        v /= 10, d++;
    return d;
}

static bool spans_days(const sl_ladder *l)
{
    if (l->n_ev == 0)
        return false;
    char a[40], b[40];
    sl_time_format(l->ev[0].ts, a, sizeof a);
    sl_time_format(l->ev[l->n_ev - 1].ts, b, sizeof b);
    return strncmp(a, b, 10) != 0;
}

/* Cells of the first word of an event's text: the SIP method or status
 * code, SYN/SYN-ACK/FIN/RST, "TLS"; never cut (at most MAX_KEY). */
static int key_cells(const sl_ladder_event *e)
{
    const char *t = e->brief ? e->brief : e->label;
    size_t n = strlen(t), i = 0;
    int cells = 0;
    while (i < n && t[i] != ' ' && cells < MAX_KEY) {
        next_cp(t, n, &i);
        cells++;
    }
    return cells;
}

/* "Expressway-E-out" as "Exp-E-out": each word of a label (split at '-',
 * '_', '.' or ' ') longer than 3 cells cut to its first 3, the last word
 * kept whole; NULL when that is no shorter.  Hosts of one kind keep what
 * tells them apart. */
static char *abbreviate(const char *label)
{
    size_t n = strlen(label), i = 0, o = 0;
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    const char *last = label;
    for (const char *p = label; *p; p++)
        if (strchr("-_. ", *p) && p[1])
            last = p + 1;
    while (i < n) {
        size_t start = i;
        int cells = 0;
        while (i < n && !strchr("-_. ", label[i])) {
            size_t k = i;
            next_cp(label, n, &k);
            if (cells < 3 || label + start >= last)
                memcpy(out + o, label + i, k - i), o += k - i;
            cells++;
            i = k;
        }
        if (i < n)
            out[o++] = label[i++];
    }
    out[o] = '\0';
    if (o == n) {
        free(out);
        return NULL;
    }
    return out;
}

/* The last max cells of s after an ellipsis: an address's tail tells it
 * apart from its neighbours' ("…2.1"). */
static char *tail_cells(const char *s, int max, const glyphs *g)
{
    size_t n = strlen(s), i = 0;
    int cells = (int)text_cells(s), ell = (int)text_cells(g->ellipsis);
    if (cells <= max)
        return strdup(s);
    int skip = cells - (max - ell > 0 ? max - ell : 0);
    for (int k = 0; k < skip; k++)
        next_cp(s, n, &i);
    size_t el = strlen(g->ellipsis);
    char *out = malloc(el + n - i + 1);
    if (out) {
        memcpy(out, g->ellipsis, el);
        memcpy(out + el, s + i, n - i + 1);
    }
    return out;
}

/* Whether a and b show the same cells when each is cut at max (with an
 * ellipsis in its last cell). */
static bool reads_alike(const char *a, const char *b, int max)
{
    bool cut_a = (int)text_cells(a) > max, cut_b = (int)text_cells(b) > max;
    if (cut_a != cut_b)
        return false;
    size_t na = strlen(a), nb = strlen(b), ia = 0, ib = 0;
    int shown = cut_a ? max - 1 : max;
    for (int c = 0; c < shown; c++) {
        if (ia >= na || ib >= nb)
            return ia >= na && ib >= nb;
        if (next_cp(a, na, &ia) != next_cp(b, nb, &ib))
            return false;
    }
    return true;
}

/* Column labels and addresses as drawn: whole when they fit in spacing - 1
 * cells; else labels abbreviated ("Exp-E-out"), and where two columns
 * would still read alike, the tail of their addresses instead. */
static int column_texts(layout *L, const sl_ladder *l)
{
    int max = L->spacing - 1;
    for (size_t i = 0; i < l->n_col; i++) {
        const char *label = l->col[i].label;
        char *shown = NULL;
        if ((int)text_cells(label) > max)
            shown = strcmp(label, l->col[i].address) == 0 ? tail_cells(label, max, L->g) : abbreviate(label);
        L->label[i] = shown ? shown : strdup(label);
        L->address[i] = tail_cells(l->col[i].address, max, L->g);
        if (!L->label[i] || !L->address[i])
            return -1;
    }
    /* Labels that differ but read alike once shortened and cut at max
     * cells: the address's tail tells them apart. */
    bool *alike = calloc(l->n_col ? l->n_col : 1, sizeof *alike);
    if (!alike)
        return -1;
    for (size_t i = 0; i < l->n_col; i++)
        for (size_t k = 0; k < l->n_col && !alike[i]; k++)
            alike[i] = k != i && strcmp(l->col[i].label, l->col[k].label) != 0 &&
                       reads_alike(L->label[i], L->label[k], max);
    for (size_t i = 0; i < l->n_col; i++) {
        if (alike[i]) {
            char *t = tail_cells(l->col[i].address, max, L->g);
            if (!t) {
                free(alike);
                return -1;
            }
            free(L->label[i]);
            L->label[i] = t;
        }
    }
    free(alike);
    return 0;
}

static void layout_free(layout *L)
{
    for (size_t i = 0; L->label && i < L->n_col; i++)
        free(L->label[i]);
    for (size_t i = 0; L->address && i < L->n_col; i++)
        free(L->address[i]);
    free(L->label);
    free(L->address);
    free(L->x);
    free(L->row);
}

/* Column positions for this ladder at the wanted width; the width grows
 * when the columns would not fit at all (the layout is never broken), or
 * when an event's first word (a SIP method, SYN-ACK) would be cut. */
static int make_layout(layout *L, const sl_ladder *l, const sl_render_opts *o)
{
    int want = o->ladder && o->ladder->width > 0 ? o->ladder->width : sl_render_term_width(o->out);
    if (want <= 0)
        want = DEFAULT_WIDTH;
    uint64_t maxf = 0;
    for (size_t i = 0; i < l->n_ev; i++)
        maxf = l->ev[i].frame > maxf ? l->ev[i].frame : maxf;
    L->time_w = spans_days(l) ? 26 : 15;
    L->frame_w = digits(maxf) > 5 ? digits(maxf) : 5;
    L->info = L->time_w + 1 + DELTA_WIDTH + 1 + L->frame_w + 2;
    L->n_col = l->n_col;
    size_t cols = l->n_col ? l->n_col : 1;
    /* Room for the longest first word between the arrow's ends (+2) and
     * the bar (+1): drawn tight when the label is cut (arrow()). */
    int spacing = MIN_SPACING;
    for (size_t i = 0; i < l->n_ev; i++)
        if (l->ev[i].from != l->ev[i].to && key_cells(&l->ev[i]) + 3 > spacing)
            spacing = key_cells(&l->ev[i]) + 3;
    if (want > MAX_WIDTH)
        want = MAX_WIDTH;
    if ((size_t)want < (size_t)L->info + cols * (size_t)spacing)
        want = L->info + (int)(cols * (size_t)spacing);
    L->width = want;
    L->spacing = (int)((size_t)(want - L->info) / cols);
    L->x = malloc(cols * sizeof *L->x);
    L->row = malloc((size_t)want * sizeof *L->row);
    L->label = calloc(cols, sizeof *L->label);
    L->address = calloc(cols, sizeof *L->address);
    if (!L->x || !L->row || !L->label || !L->address)
        return -1;
    L->g = o->ladder && o->ladder->ascii ? &ASCII_GLYPHS : &UTF8_GLYPHS;
    if (column_texts(L, l) < 0)
        return -1;
    /* The outer columns sit as near the edges as their labels allow, so
     * the arrows get the room (labels stay spacing - 1 wide at most). */
    int half = 1;
    for (size_t i = 0; i < l->n_col; i++) {
        int w = (int)text_cells(L->label[i]), wa = (int)text_cells(L->address[i]);
        w = w > wa ? w : wa;
        w = w < L->spacing - 1 ? w : L->spacing - 1;
        half = w / 2 + 2 > half ? w / 2 + 2 : half;
    }
    int margin = half < L->spacing / 2 ? half : L->spacing / 2;
    int step = l->n_col > 1 ? (want - L->info - 2 * margin) / (int)(l->n_col - 1) : 0;
    for (size_t i = 0; i < l->n_col; i++)
        L->x[i] = L->info + margin + (int)i * step;
    L->color = o->color;
    L->verbose = o->verbose;
    return 0;
}

/* Text centred on x, at most spacing - 1 cells. */
static void put_centred(const layout *L, int x, const char *s, sl_ladder_tone tone)
{
    int max = L->spacing - 1;
    int w = (int)text_cells(s);
    w = w < max ? w : max;
    put_text(L, x - w / 2, max, s, tone);
}

static void header(const layout *L, const sl_ladder *l, FILE *out)
{
    char date[40] = "";
    if (l->n_ev)
        sl_time_format(l->ev[0].ts, date, sizeof date);
    date[10] = '\0';
    size_t tl = strlen(l->title) + 40;
    char *t = malloc(tl);
    if (t) {
        snprintf(t, tl, "%s%s%s%s", l->title, l->n_ev ? "  (UTC " : "", l->n_ev ? date : "", l->n_ev ? ")" : "");
        wrapped_lines(L, t, SL_TONE_TITLE, out);
    }
    free(t);
    clear_row(L);
    put_ascii(L, 0, "TIME", SL_TONE_TITLE);
    put_ascii(L, L->time_w + 1, "DELTA", SL_TONE_TITLE);
    put_ascii(L, L->time_w + 1 + DELTA_WIDTH + 1 + L->frame_w - 5, "FRAME", SL_TONE_TITLE);
    bool addresses = false;
    for (size_t i = 0; i < l->n_col; i++) {
        put_centred(L, L->x[i], L->label[i], SL_TONE_TITLE);
        addresses |= strcmp(l->col[i].label, l->col[i].address) != 0;
    }
    emit_row(L, out);
    if (addresses) {
        clear_row(L);
        for (size_t i = 0; i < l->n_col; i++)
            put_centred(L, L->x[i], L->address[i], SL_TONE_DIM);
        emit_row(L, out);
    }
    rule_row(L, L->g->tee_down);
    emit_row(L, out);
}

static void info_cells(const layout *L, const sl_ladder_event *e, sl_time_ns prev)
{
    char t[40], d[32], f[32];
    sl_time_format(e->ts, t, sizeof t);
    put_ascii(L, 0, L->time_w == 15 ? t + 11 : t, SL_TONE_PLAIN);
    sl_time_ns dt = e->ts - prev;
    if (dt < 0)
        snprintf(d, sizeof d, "-%" PRId64 ".%06" PRId64, (-dt) / SL_NS_PER_SEC, ((-dt) % SL_NS_PER_SEC) / 1000);
    else
        snprintf(d, sizeof d, "+%" PRId64 ".%06" PRId64, dt / SL_NS_PER_SEC, (dt % SL_NS_PER_SEC) / 1000);
    if (strlen(d) > DELTA_WIDTH)
        snprintf(d, sizeof d, "%c%" PRId64 "s", dt < 0 ? '-' : '+', (dt < 0 ? -dt : dt) / SL_NS_PER_SEC);
    if (strlen(d) > DELTA_WIDTH)
        snprintf(d, sizeof d, "%s", dt < 0 ? "-long" : "+long");
    put_ascii(L, L->time_w + 1 + DELTA_WIDTH - (int)strlen(d), d, SL_TONE_DIM);
    if (e->frame)
        snprintf(f, sizeof f, "%" PRIu64, e->frame);
    else
        snprintf(f, sizeof f, "log"); /* a message read from an Expressway log alone */
    put_ascii(L, L->time_w + 1 + DELTA_WIDTH + 1 + L->frame_w - (int)strlen(f), f, SL_TONE_PLAIN);
}

/* Where the text of an event goes: [*x, *x + *room). */
static void text_span(const layout *L, const sl_ladder_event *e, int *x, int *room)
{
    int a = L->x[e->from], b = L->x[e->to];
    if (e->from == e->to) {
        int limit = e->from + 1 < L->n_col ? L->x[e->from + 1] : L->width;
        *x = a + 4;
        *room = limit - 1 - *x;
    } else {
        int lo = a < b ? a : b, hi = a < b ? b : a;
        *x = lo + 3;
        *room = hi - 2 - *x; /* a space and the arrowhead or a line before the far column */
    }
    if (*room < 0)
        *room = 0;
}

static void arrow(const layout *L, const sl_ladder_event *e)
{
    const glyphs *g = L->g;
    int a = L->x[e->from], b = L->x[e->to];
    sl_ladder_tone tone = e->tone;
    if (e->from == e->to) {
        put_cp(L, a, g->from_l, tone);
        put_cp(L, a + 1, g->line, tone);
        put_cp(L, a + 2, g->self, tone);
        put_cp(L, a + 3, ' ', tone);
    } else if (a < b) {
        put_cp(L, a, g->from_l, tone);
        for (int i = a + 1; i < b - 1; i++)
            put_cp(L, i, g->line, tone);
        put_cp(L, b - 1, g->right, tone);
    } else {
        put_cp(L, b + 1, g->left, tone);
        for (int i = b + 2; i < a; i++)
            put_cp(L, i, g->line, tone);
        put_cp(L, a, g->from_r, tone);
    }
    int x, room;
    text_span(L, e, &x, &room);
    const char *text = e->brief && text_cells(e->label) > (size_t)room ? e->brief : e->label;
    int key = key_cells(e), ell = (int)text_cells(g->ellipsis);
    if (e->from != e->to && (int)text_cells(text) > room && key + ell > room) {
        /* Cut, the first word would not be whole: the text takes the
         * whole span between the arrow's ends ("├SYN-ACK▶│"), its first
         * word (make_layout left room for it) and an ellipsis if it fits. */
        int lo = a < b ? a : b, hi = a < b ? b : a;
        int tx = a < b ? lo + 1 : lo + 2, troom = hi - lo - 2;
        size_t n = strlen(text), i = 0;
        int used = 0;
        while (i < n && used < key) {
            uint32_t cp = next_cp(text, n, &i);
            put_cp(L, tx + used++, one_cell(cp, g->ascii) ? cp : '?', tone);
        }
        size_t en = strlen(g->ellipsis), k = 0;
        if ((int)text_cells(text) > key && used + ell <= troom)
            while (k < en)
                put_cp(L, tx + used++, next_cp(g->ellipsis, en, &k), tone);
        return;
    }
    if (room <= 0)
        return;
    if (e->from != e->to)
        put_cp(L, x - 1, ' ', tone);
    int used = put_text(L, x, room, text, tone);
    if (e->from != e->to)
        put_cp(L, x + used, ' ', tone);
}

/* -v: key headers and the SDP summary under a SIP row. */
static void detail_rows(const layout *L, const sl_ladder_event *e, FILE *out)
{
    char **lines = NULL;
    size_t n = 0;
    if (sl_ladder_sip_details(e->sip, &lines, &n) < 0)
        return;
    /* From the arrow's left end to the right edge: details are read as
     * text, so they may run over the columns to the right. */
    int x, room;
    text_span(L, e, &x, &room);
    room = L->width - x;
    for (size_t i = 0; i < n; i++) {
        bars_row(L);
        put_text(L, x, room, lines[i], SL_TONE_DIM);
        emit_row(L, out);
        free(lines[i]);
    }
    free(lines);
}

static void verdicts(const layout *L, const sl_ladder *l, const sl_report *r, FILE *out)
{
    if (!r->diagnoses)
        return;
    size_t shown = 0;
    char buf[2048], line[2100];
    for (size_t i = 0; i < r->diagnoses->n; i++) {
        if (!sl_ladder_has_verdict(r, l, i))
            continue;
        const sl_diagnosis *d = &r->diagnoses->list[i];
        snprintf(line, sizeof line, "%s %s", d->healthy ? "Note:" : "Verdict:", sl_ladder_verdict_text(r, i, buf, sizeof buf));
        wrapped_lines(L, line, d->healthy ? SL_TONE_SUCCESS : SL_TONE_FAILURE, out);
        shown++;
    }
    if (shown == 0)
        text_line(L, "Verdict: none", SL_TONE_PLAIN, out);
}

static int draw_text(const sl_ladder *l, const sl_report *r, const sl_render_opts *o, void *ctx)
{
    bool *first = ctx;
    layout L = {0};
    if (make_layout(&L, l, o) < 0) {
        layout_free(&L);
        return -1;
    }
    if (!*first)
        fputc('\n', o->out);
    *first = false;
    header(&L, l, o->out);
    for (size_t i = 0; i < l->n_ev; i++) {
        const sl_ladder_event *e = &l->ev[i];
        bars_row(&L);
        info_cells(&L, e, i ? l->ev[i - 1].ts : e->ts);
        arrow(&L, e);
        emit_row(&L, o->out);
        if (o->verbose && e->sip)
            detail_rows(&L, e, o->out);
    }
    if (l->n_ev == 0)
        text_line(&L, "(nothing to draw)", SL_TONE_DIM, o->out);
    rule_row(&L, L.g->tee_up);
    emit_row(&L, o->out);
    verdicts(&L, l, r, o->out);
    layout_free(&L);
    return 0;
}

int sl_render_ladder_text(const sl_report *r, const sl_render_opts *o)
{
    /* Ladders already spooled (call_stream.h) come first. */
    bool first = !(o->spool && o->spool->entries[SL_SPOOL_CALLS]);
    return sl_ladder_each(r, o, draw_text, &first);
}

int sl_render_ladder(const sl_report *r, const sl_render_opts *o)
{
    if (!o->format || strcmp(o->format, "text") == 0)
        return sl_render_ladder_text(r, o);
    if (strcmp(o->format, "mermaid") == 0)
        return sl_render_ladder_mermaid(r, o);
    fputs("sipladder: the ladder's --format is text or mermaid, not '", stderr);
    sl_text_fput(stderr, o->format, strlen(o->format));
    fputs("'\n", stderr);
    return -SL_EUSAGE;
}
