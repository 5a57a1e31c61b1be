/* text.c - escaping capture bytes for text output (see text.h). */
#include "sipladder/text.h"

#include <string.h>

size_t sl_text_utf8_len(const unsigned char *s, size_t n)
{
    size_t l = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 && s[0] < 0xf0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;
    if (l == 0 || l > n)
        return 0;
    for (size_t i = 1; i < l; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    /* Overlong 3/4-byte forms and UTF-16 surrogates are not valid UTF-8. */
    if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) || (s[0] == 0xf0 && s[1] < 0x90) ||
        (s[0] == 0xf4 && s[1] > 0x8f))
        return 0;
    return l;
}

/* Bytes of the next safe run at s (0: s[0] must be escaped). */
static size_t safe_run(const unsigned char *s, size_t n)
{
    /* C1 controls (U+0080-U+009F, e.g. U+009B CSI) are valid UTF-8, but
     * terminals act on them like ESC sequences: escaped like C0 controls. */
    if (s[0] == 0xc2 && n > 1 && s[1] < 0xa0)
        return 0;
    if (s[0] >= 0x80)
        return sl_text_utf8_len(s, n);
    /* The backslash is escaped too, so that "\x1b" in the output always
     * means the byte, never the four characters. */
    return s[0] >= 0x20 && s[0] < 0x7f && s[0] != '\\' ? 1 : 0;
}

size_t sl_text_escape(const char *s, size_t n, char *buf, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t need = 0;
    for (size_t i = 0; i < n;) {
        size_t l = safe_run(u + i, n - i);
        char x[5];
        const char *piece = s + i;
        size_t pn = l;
        if (l == 0 && u[i] == '\\') {
            piece = "\\\\";
            pn = 2;
            l = 1;
        } else if (l == 0) {
            x[0] = '\\';
            x[1] = 'x';
            x[2] = "0123456789abcdef"[u[i] >> 4];
            x[3] = "0123456789abcdef"[u[i] & 15];
            piece = x;
            pn = 4;
            l = 1;
        }
        /* A piece that does not fit is left out whole: half a UTF-8
         * sequence or half an escape would make the cut text invalid. */
        if (need < len && pn <= len - 1 - need)
            memcpy(buf + need, piece, pn);
        else if (need < len)
            len = need + 1; /* nothing more is copied after a piece left out */
        need += pn;
        i += l;
    }
    if (len > 0)
        buf[need < len ? need : len - 1] = '\0';
    return need;
}

void sl_text_fput(FILE *out, const char *s, size_t n)
{
    if (!s) {
        fputs("-", out);
        return;
    }
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t l = safe_run(u + i, n - i);
        if (l == 0) {
            if (u[i] == '\\')
                fputs("\\\\", out);
            else
                fprintf(out, "\\x%02x", u[i]);
            i++;
        } else {
            fwrite(s + i, 1, l, out);
            i += l;
        }
    }
}
