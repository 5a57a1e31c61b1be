/* exp_bundle.h - an Expressway diagnostic bundle (the .tar.gz that
 * Maintenance > Diagnostics > Diagnostic logging downloads: the log(s) and
 * the tcpdump of the same minutes, several cluster peers' included) given
 * as a capture: its members that are Expressway logs or captures are
 * copied into a private temporary directory, under names of our own (a
 * member's path is never used as one: no traversal), each at most
 * SL_BUNDLE_MAX_MEMBER bytes and all at most SL_BUNDLE_MAX_TOTAL; what is
 * skipped is said.  The directory is removed by sl_bundle_free. */
#ifndef SIPLADDER_EXP_BUNDLE_H
#define SIPLADDER_EXP_BUNDLE_H

#include <stddef.h>

#define SL_BUNDLE_MAX_MEMBER ((long long)2 << 30) /* bytes of one member */
#define SL_BUNDLE_MAX_TOTAL ((long long)8 << 30)  /* bytes written from all bundles */
#define SL_BUNDLE_MAX_MEMBERS 4096                /* members looked at per bundle */

typedef struct sl_bundle sl_bundle;

/* Files among `files` that are tar archives (gzip'd or not) are replaced:
 * their captures go to files, their logs to log_names (names owned by
 * *out, which must outlive their use).  Problems go to stderr with the
 * bundle's name and the member's.  0 (*out NULL when no file was a bundle);
 * -SL_EIO (a bundle could not be read or unpacked: said); -SL_ENOMEM. */
int sl_bundle_take(const char ***files, size_t *n_files, const char ***log_names, size_t *n_logs, sl_bundle **out);

void sl_bundle_free(sl_bundle *b); /* NULL-safe: removes the files and the directory */

#endif
