/* render_html.h - the `html` view: one self-contained page (the viewer of
 * web/, its script and style inlined, a Content-Security-Policy that allows
 * no network) holding the `json` view's document, for people who have no
 * sipladder.  The document goes in packed (gzip, base64), so that no string
 * of the capture can end the element that holds it. */
#ifndef SIPLADDER_RENDER_HTML_H
#define SIPLADDER_RENDER_HTML_H

#include <stddef.h>
#include <stdio.h>

#include "sipladder/render.h"

/* The page to o->out; a streamed batch (o->spool->batch) goes to the
 * spools exactly as the json view writes it.  0, or -1 when out of memory
 * or a write failed. */
int sl_render_html(const sl_report *r, const sl_render_opts *o);

/* A stream that writes to `out` the JSON text it is given without the
 * blanks between tokens, gzip-compressed, as base64 (no '<', no U+2028:
 * nothing that can end the element holding it).  Close it (fclose) before
 * writing to out again; NULL when out of memory. */
FILE *sl_html_packer(FILE *out);

#endif
