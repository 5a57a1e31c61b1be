/* spool.c - the parts a streamed view writes early, kept in temporary
 * files so that memory does not grow with the calls written. */
#include "sipladder/spool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *sl_spool_dir(void)
{
    const char *dir = getenv("TMPDIR");
    return dir && *dir ? dir : "/tmp";
}

/* An anonymous temporary file in sl_spool_dir(), gone when closed:
 * tmpfile() would ignore TMPDIR, and /tmp may be a small tmpfs. */
static FILE *temp_file(void)
{
    const char *dir = sl_spool_dir();
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/sipladder-XXXXXX", dir);
    if (n < 0 || (size_t)n >= sizeof path) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    unlink(path);
    FILE *f = fdopen(fd, "w+");
    if (!f)
        close(fd);
    return f;
}

int sl_spool_open(sl_spool *s)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i < SL_SPOOL_PARTS; i++)
        if (!(s->part[i] = temp_file())) {
            sl_spool_close(s);
            return -1;
        }
    return 0;
}

void sl_spool_close(sl_spool *s)
{
    if (!s)
        return;
    sl_work_queue_free(s->queue); /* its last pieces go to the parts first */
    for (int i = 0; i < SL_SPOOL_PARTS; i++)
        if (s->part[i])
            fclose(s->part[i]);
    memset(s, 0, sizeof *s);
}

int sl_spool_copy(sl_spool *s, int part, FILE *out)
{
    FILE *f = s->part[part];
    if (s->queue) {
        sl_work_queue_drain(s->queue);
        if (sl_work_queue_failed(s->queue)) {
            s->failed = true;
            return -1;
        }
    }
    if (!s->entries[part])
        return 0;
    if (fflush(f) != 0 || fseek(f, 0, SEEK_SET) != 0) {
        s->failed = true;
        return -1;
    }
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            return -1;
    if (ferror(f)) {
        s->failed = true;
        return -1;
    }
    return fseek(f, 0, SEEK_END);
}
