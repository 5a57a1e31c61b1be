/* compare_cli.c - `sipladder compare`: the command line's sides and offset
 * into a comparison, and its report to the output.  main.c hands over the
 * words it parsed; exit codes are main.c's (sipladder(1)). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sipladder/compare.h"
#include "sipladder/status.h"

enum {
    EXIT_OK = 0,
    EXIT_INTERNAL = 1,
    EXIT_USAGE = 2,
    EXIT_UNREADABLE = 3,
    EXIT_TRUNCATED = 4,
    EXIT_OUTPUT = 5
};

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("sipladder: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\nTry 'sipladder --help'.\n", stderr);
    va_end(ap);
    return EXIT_USAGE;
}

int sl_compare_parse_offset(const char *text, sl_time_ns *out)
{
    /* [+-]SECONDS[.FRACTION], at most 9 fraction digits, under a day. */
    const char *p = text;
    int sign = 1;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    sl_time_ns sec = 0, frac = 0;
    int digits = 0, fdigits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        sec = sec * 10 + (*p - '0');
        if (sec > 86400)
            return -SL_EUSAGE;
    }
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++) {
            if (++fdigits > 9)
                return -SL_EUSAGE;
            frac = frac * 10 + (*p - '0');
        }
    if (*p || (digits == 0 && fdigits == 0))
        return -SL_EUSAGE;
    for (int i = fdigits; i < 9; i++)
        frac *= 10;
    *out = sign * (sec * SL_NS_PER_SEC + frac);
    return 0;
}

/* --side NAME=FILE (repeatable, a side's files in order): the first name
 * is side 0.  Without --side: the first file is side 0, the second side 1. */
static int pick_sides(const sl_compare_cli *a, const char *names[2], const char **files[2], size_t n[2])
{
    if (a->n_side_specs && a->n_files)
        return usage_error(
            "compare: name the captures either with --side NAME=FILE or as INSIDE OUTSIDE, not both");
    if (!a->n_side_specs) {
        if (a->n_files != 2)
            return usage_error(
                "compare wants two captures, INSIDE OUTSIDE (or --side NAME=FILE for each), not %zu",
                a->n_files);
        for (int s = 0; s < 2; s++) {
            files[s][0] = a->files[s];
            n[s] = 1;
        }
        return 0;
    }
    for (size_t i = 0; i < a->n_side_specs; i++) {
        const char *spec = a->side_specs[i], *eq = strchr(spec, '=');
        if (!eq || eq == spec || !eq[1] || (size_t)(eq - spec) >= 64)
            return usage_error("--side wants NAME=FILE (e.g. inside=fw-in.pcap), not '%s'", spec);
        size_t len = (size_t)(eq - spec);
        int s = -1;
        for (int k = 0; k < 2 && s < 0; k++)
            if (names[k] && strlen(names[k]) == len && strncmp(names[k], spec, len) == 0)
                s = k;
        if (s < 0) {
            if (names[1])
                return usage_error("--side: two sides only (%s and %s), not '%.*s'", names[0], names[1],
                                   (int)len, spec);
            s = names[0] ? 1 : 0;
            char *copy = strndup(spec, len);
            if (!copy)
                return EXIT_INTERNAL;
            names[s] = copy;
        }
        files[s][n[s]++] = eq + 1;
    }
    if (!names[1])
        return usage_error("--side names one side only (%s): compare wants two", names[0]);
    return 0;
}

int sl_compare_main(const sl_compare_cli *a)
{
    sl_compare_opts opts = {0};
    if (a->offset) {
        if (sl_compare_parse_offset(a->offset, &opts.offset) < 0)
            return usage_error("--offset wants seconds, the second capture's clock minus the first's (e.g. "
                               "-1.25 or 0.000300), under a day, not '%s'",
                               a->offset);
        opts.offset_forced = true;
    }
    bool json = a->format && strcmp(a->format, "json") == 0;
    size_t cap = a->n_side_specs + a->n_files + 1;
    const char **files[2] = {calloc(cap, sizeof(char *)), calloc(cap, sizeof(char *))};
    const char *names[2] = {NULL, NULL};
    size_t n[2] = {0, 0};
    int exit_code = EXIT_OK;
    sl_compare *c = NULL;
    if (!files[0] || !files[1]) {
        exit_code = EXIT_INTERNAL;
        goto done;
    }
    if ((exit_code = pick_sides(a, names, files, n)) != 0)
        goto done;
    opts.names[0] = names[0];
    opts.names[1] = names[1];
    const char *const *cfiles[2] = {files[0], files[1]};
    int rc = sl_compare_run(&opts, cfiles, n, &c);
    if (rc == -SL_ENOMEM || !c) {
        fputs("sipladder: out of memory\n", stderr);
        exit_code = EXIT_INTERNAL;
        goto done;
    }
    if (rc < 0) {
        for (int s = 0; s < 2; s++)
            if (c->side[s].error)
                fprintf(stderr, "sipladder: %s\n", c->side[s].error);
        exit_code = EXIT_UNREADABLE;
        goto done;
    }
    FILE *out = stdout;
    if (a->output && !(out = fopen(a->output, "w"))) {
        fprintf(stderr, "sipladder: cannot write %s: %s\n", a->output, strerror(errno));
        exit_code = EXIT_OUTPUT;
        goto done;
    }
    bool ladder = a->format && strcmp(a->format, "ladder") == 0;
    rc = json     ? sl_compare_render_json(c, out)
         : ladder ? sl_compare_render_ladder(c, out)
                  : sl_compare_render_text(c, out);
    bool failed = rc < 0 || ferror(out);
    if ((out != stdout ? fclose(out) : fflush(out)) != 0 || failed) {
        fprintf(stderr, "sipladder: cannot write %s: %s\n", a->output ? a->output : "standard output",
                rc == -SL_ENOMEM ? "out of memory" : strerror(errno));
        exit_code = rc == -SL_ENOMEM ? EXIT_INTERNAL : EXIT_OUTPUT;
        goto done;
    }
    for (int s = 0; s < 2; s++)
        if (c->side[s].truncated) {
            fprintf(stderr, "sipladder: warning: %s\n",
                    c->side[s].error ? c->side[s].error : "a capture is cut short");
            exit_code = EXIT_TRUNCATED;
        }
done:
    sl_compare_free(c);
    if (a->n_side_specs) {
        free((char *)names[0]);
        free((char *)names[1]);
    }
    free(files[0]);
    free(files[1]);
    return exit_code;
}
