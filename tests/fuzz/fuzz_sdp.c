/* fuzz_sdp.c - the SDP summary parser on any bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sipladder/sdp.h"
#include "fuzz_entry.h"


int FZ_ENTRY(const uint8_t *data, size_t size)
{
    /* A private copy of exactly size bytes: no NUL after the body. */
    char *body = malloc(size ? size : 1);
    if (!body)
        return 0;
    if (size)
        memcpy(body, data, size);
    sl_sdp_summary s;
    if (sl_sdp_summary_parse(body, size, &s) == 0) {
        for (size_t i = 0; i < s.n_media; i++) {
            if (s.media[i].n_formats > SL_SDP_MAX_FORMATS || strlen(s.media[i].media) >= sizeof s.media[i].media)
                abort();
            (void)sl_sdp_direction_name(sl_sdp_media_direction(&s, i));
        }
        if (s.n_media > SL_SDP_MAX_MEDIA)
            abort();
    }
    sl_sdp_summary_free(&s);
    sl_sdp_summary_free(&s);
    free(body);
    return 0;
}
