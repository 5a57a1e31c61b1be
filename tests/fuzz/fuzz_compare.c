/* fuzz_compare.c - `sipladder compare`'s matcher on two hostile captures:
 * the input is cut in two at the point its first two bytes name (little
 * endian, modulo what follows), each half read as one side's capture file
 * image; both reports are written to /dev/null, and the two halves are
 * compared once more the other way round with a forced clock offset. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fuzz_feed.h"
#include "sipladder/compare.h"
#include "fuzz_entry.h"

static void compare_once(const uint8_t *a, size_t na, const uint8_t *b, size_t nb,
                         const sl_compare_opts *opts)
{
    const uint8_t *data[2] = {a, b};
    size_t len[2] = {na, nb};
    sl_compare *c = NULL;
    if (sl_compare_run_memory(opts, data, len, &c) == 0) {
        FILE *out = fz_devnull();
        (void)sl_compare_render_text(c, out);
        (void)sl_compare_render_json(c, out);
        (void)sl_compare_render_ladder(c, out);
        fclose(out);
    }
    sl_compare_free(c);
}

int FZ_ENTRY(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t rest = size - 2;
    size_t cut = rest ? ((size_t)data[0] | (size_t)data[1] << 8) % (rest + 1) : 0;
    const uint8_t *a = data + 2, *b = data + 2 + cut;
    compare_once(a, cut, b, rest - cut, NULL);
    sl_compare_opts forced = {.offset_forced = true, .offset = -1250000000, .names = {"outside", "inside"}};
    compare_once(b, rest - cut, a, cut, &forced);
    return 0;
}
