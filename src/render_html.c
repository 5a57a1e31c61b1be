/* render_html.c - the `html` view: the viewer page (web/, embedded at build
 * time by web/embed.py) around the json view's document, packed.
 *
 * The document goes into the page gzip-compressed and base64-encoded: a
 * report of a large capture is a tenth of its JSON (one that can be mailed),
 * the browser's parser has a tenth of the bytes to scan before the first
 * paint, and base64's alphabet cannot hold "</script>", "<!--" or U+2028,
 * whatever the capture's strings are.  The viewer unpacks it with the
 * browser's DecompressionStream. */
#include "sipladder/render_html.h"

#include "sipladder/render_json.h"
#include "sipladder/spool.h"
#include "web_assets.h"

int sl_render_html(const sl_report *r, const sl_render_opts *o)
{
    if (o->spool && o->spool->batch)
        return sl_render_json(r, o); /* the spools hold plain JSON; packed when copied in the final run */
    if (fwrite(sl_html_head, 1, sizeof sl_html_head, o->out) != sizeof sl_html_head)
        return -1;
    FILE *packed = sl_html_packer(o->out);
    if (!packed)
        return -1;
    setvbuf(packed, NULL, _IOFBF, (size_t)1 << 16); /* the json view writes 64 KB pieces already */
    sl_render_opts jo = *o;
    jo.out = packed;
    int rc = sl_render_json(r, &jo);
    if (fclose(packed) != 0)
        rc = -1;
    if (fwrite(sl_html_tail, 1, sizeof sl_html_tail, o->out) != sizeof sl_html_tail)
        rc = -1;
    return rc;
}
