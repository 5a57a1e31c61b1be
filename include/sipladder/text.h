/* text.h - capture bytes made safe for a terminal or a report: printable
 * ASCII and valid UTF-8 pass; control characters (ESC included), DEL and
 * invalid UTF-8 become \xNN and the backslash \\, so a hostile header cannot
 * drive a terminal and the output stays unambiguous. */
#ifndef SIPLADDER_TEXT_H
#define SIPLADDER_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* Length of the valid UTF-8 sequence (2..4 bytes) at s, or 0. */
size_t sl_text_utf8_len(const unsigned char *s, size_t n);

/* Escape n bytes into buf (NUL-terminated when len > 0); returns the length
 * the whole text needs, like snprintf. */
size_t sl_text_escape(const char *s, size_t n, char *buf, size_t len);

/* Write n escaped bytes to out ("-" for NULL). */
void sl_text_fput(FILE *out, const char *s, size_t n);

#endif
