/* cli_table.h - the command line's words in one place: the commands, every
 * option with the commands that take it and, for a number, its range; and
 * the checks that use them (an unknown or misplaced command, an option the
 * command does not take, a number out of range).  Pure: no output. */
#ifndef SIPLADDER_CLI_TABLE_H
#define SIPLADDER_CLI_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The commands, in the order --help lists them.  Adding one: an entry here,
 * its name and --format forms in cli_table.c, its view in main.c. */
typedef enum sl_cmd {
    SL_CMD_SUMMARY,
    SL_CMD_MESSAGES,
    SL_CMD_TLS,
    SL_CMD_CALLS,
    SL_CMD_DIAGNOSE,
    SL_CMD_LADDER,
    SL_CMD_JSON,
    SL_CMD_HTML, /* the json document in the offline viewer page (render_html.h) */
    SL_CMD_SAVE, /* not a view: the frames of a selection into a pcap (save_pcap.h) */
    SL_CMD_COMPARE, /* not a view of one capture: a firewall's two sides compared (compare.h) */
    SL_CMD_COUNT
} sl_cmd;

#define SL_CMD_BIT(c) (1u << (c))
#define SL_CMDS_ALL ((1u << SL_CMD_COUNT) - 1u)

/* Keys of the options without a short letter (a short option's key is its
 * letter). */
enum sl_opt_key {
    SL_OPT_DECODE = 256,
    SL_OPT_NAME,
    SL_OPT_COLOR,
    SL_OPT_MAX_FLOWS,
    SL_OPT_MAX_TCP,
    SL_OPT_MAX_SIP,
    SL_OPT_MAX_TLS,
    SL_OPT_MAX_FRAG,
    SL_OPT_EXPECT_NAME,
    SL_OPT_CA_FILE,
    SL_OPT_CA_PATH,
    SL_OPT_EXPORT_CERTS,
    SL_OPT_FORMAT,
    SL_OPT_THREADS,
    SL_OPT_MAX_CERTS,
    SL_OPT_MAX_CALL_MSGS,
    SL_OPT_MAX_CONNS,
    SL_OPT_MAX_SIP_MEMORY,
    SL_OPT_CALL,
    SL_OPT_PORTS,
    SL_OPT_ASCII,
    SL_OPT_WIDTH,
    SL_OPT_ALL_TRAFFIC,
    /* The selection (select.h); -f and -w are short letters. */
    SL_OPT_HOST,
    SL_OPT_VERDICT,
    SL_OPT_FROM,
    SL_OPT_TO,
    SL_OPT_OFFSET, /* compare: the second capture's clock minus the first's */
    SL_OPT_SIDE,   /* compare: --side NAME=FILE */
    SL_OPT_LOG, /* --log: an Expressway diagnostic log (exp_log.h) */
};

typedef struct sl_cli_option {
    const char *name;  /* long name without "--" */
    int key;           /* the short letter, or an sl_opt_key */
    int has_arg;       /* getopt.h: no_argument, required_argument, optional_argument */
    unsigned commands; /* SL_CMD_BIT of each command that takes it, or SL_CMDS_ALL */
    uint64_t min, max; /* a number's accepted range; max 0: not a number */
} sl_cli_option;

extern const sl_cli_option sl_cli_options[];
extern const size_t sl_cli_n_options;

/* The command's name ("summary"), or NULL out of range. */
const char *sl_cli_command_name(sl_cmd c);
/* The command named exactly `word`, or -1. */
int sl_cli_command_find(const char *word);
/* The --format values a command takes, NULL-terminated; the first is its
 * default. */
const char *const *sl_cli_command_formats(sl_cmd c);

/* The table's entry for a getopt key (the first when aliases share it:
 * --color for --colour), or NULL. */
const sl_cli_option *sl_cli_option_by_key(int key);

/* `text` as a decimal number within o's range: 0, or -1 with msg saying
 * the option, the range and the text. */
int sl_cli_parse_number(const sl_cli_option *o, const char *text, uint64_t *out, char *msg, size_t msg_len);

/* The command whose name is nearest to `word` (an edit or two, a prefix),
 * for "did you mean"; "--help"/"--version" for those words; NULL: none. */
const char *sl_cli_suggest(const char *word);

/* The positional words (after getopt): which command they name and where
 * the captures begin.  A first word that is a command name is the command;
 * a first word that looks like one (a letter, then letters, digits, '-'
 * or '_') and is no file is an unknown command; any later word that is a
 * command name is a misplaced command (a capture named so is ./NAME), and
 * a later one that is no file but an edit from a command name is taken
 * for a misplaced, misspelt command.  0, or -1 with msg one line. */
int sl_cli_pick_command(char *const *words, size_t n, sl_cmd *cmd, size_t *first_file, char *msg, size_t msg_len);

/* `used` holds the keys of the options given (n of them) and how each
 * was spelt: 0 when cmd takes them all, else -1 with msg naming the first
 * that it does not take and the commands that do. */
int sl_cli_check_options(sl_cmd cmd, const int *keys, const char *const *spelt, size_t n, char *msg,
                         size_t msg_len);

/* --format's value for cmd: 0, or -1 with msg listing cmd's forms (and the
 * command that writes `format`, when one does). */
int sl_cli_check_format(sl_cmd cmd, const char *format, char *msg, size_t msg_len);

/* The option whose long name is nearest to an unknown one ("--colr",
 * "--widht=80"): its name without "--", or NULL. */
const char *sl_cli_suggest_option(const char *arg);

#endif
