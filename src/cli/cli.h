/* The command-line front end: argument parsing and printing only; the work
 * is done by the library. Exit codes: 0 ok, 1 failure, 2 usage (diff: 1
 * means the models differ, 2 any error). */
#ifndef CLI_H
#define CLI_H

#include <stddef.h>

#include "onnxtd.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* --dim options one command takes (info and compress alike): a bound for
 * the stack array that holds them, far above the symbolic input dims of
 * any model seen. */
enum { CLI_MAX_DIMS = 64 };

int cmd_convert(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_compress(int argc, char **argv);
int cmd_stats_model(int argc, char **argv);
int cmd_eval(int argc, char **argv);

/* Help texts (cli_help.c): the top-level usage and one per command. */
extern const char cli_help_usage[], cli_help_convert[], cli_help_info[],
    cli_help_diff[], cli_help_compress[], cli_help_stats_model[],
    cli_help_eval[];
#define CLI_SEE_HELP(cmd) "see 'onnxtd " cmd " --help'\n"

/* Refuses (printing "--a and --b exclude each other") argv holding flags
 * of two groups; a group is "--x" or "--x|--y" (flags that go together).
 * groups ends with NULL. 0 or -1. */
int cli_exclusive(int argc, char **argv, const char *const *groups);

/* "onnxtd ARGV..." quoted for a shell (malloc'd; NULL: out of memory). */
char *cli_command_line(int argc, char **argv);

/* Prints "onnxtd: MESSAGE" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* msg, a library message, with the library's option names ("options.
 * allow_slower", "target_params") made the flags that set them
 * ("--allow-slower", "--target-params"): malloc'd, NULL when out of memory
 * (cli_names.c). */
char *cli_names(const char *msg);
/* cli_error of a library message so rewritten. */
void cli_error_lib(const char *msg);
/* Maps a library status to an exit code (usage errors -> 2). */
int cli_exit_for(onnxtd_status s);
/* Parses a non-negative size with an optional K/M/G suffix. */
int cli_parse_size(const char *s, size_t *out);
int cli_parse_double(const char *s, double *out);
int cli_parse_i64(const char *s, long long *out);
/* The value of an option "--name VALUE" or "--name=VALUE" at argv[*i];
 * advances *i. NULL (after printing a usage error) when it is missing. */
const char *cli_value(int argc, char **argv, int *i, const char *name);
/* Does argv[i] name option "name" (as "--name" or "--name=...")? */
int cli_is(const char *arg, const char *name);
/* The value of a bound option (--max-error, --min-agreement): a number in
 * (0, max], or "off" (-1); prints the error and returns -1 otherwise. */
int cli_parse_bound(int argc, char **argv, int *i, const char *opt,
                    double max, double *out);

/* The value of --state, INPUT=OUTPUT, as a pair: *out gets one malloc'd
 * copy (free out->input); prints the error and returns -1 otherwise. */
int cli_parse_state(const char *v, onnxtd_state_pair *out);

/* --judge CMD and --judge-timeout SECONDS (0: none), options.judge_ctx;
 * ending: the signal that asked onnxtd to end while a timed judge ran
 * (0: none), raised again once the compression has returned. */
typedef struct cli_judge {
    const char *cmd;
    double timeout_s;
    int ending;
} cli_judge;

/* --judge CMD as options.judge (ctx: a cli_judge), cli_judge.c. */
int cli_judge_run(void *ctx, const char *path, double *score, char *msg,
                  size_t msg_len);

/* What every command that reads one model and writes another takes: IN,
 * -o/--output OUT, and the load/save options --external-data,
 * --size-threshold (default 1024), --mem-limit and --in-place (OUT may be,
 * and defaults to, IN). */
typedef struct cli_io {
    const char *in, *out;
    onnxtd_load_options lo;
    onnxtd_save_options so;
    int in_place;
} cli_io;

void cli_io_init(cli_io *io);
/* Takes argv[*i] (and its value) into io after the command's own options
 * were tried: a shared option, else IN; an unknown option or a second
 * positional is a usage error printed with the command's name. 0 or -1. */
int cli_io_arg(int argc, char **argv, int *i, const char *cmd, cli_io *io);
/* After the arguments: OUT defaults to IN under --in-place. 0 when IN and
 * OUT are known, else -1 after saying which is missing. */
int cli_io_done(cli_io *io, const char *cmd);
/* Saves m to OUT with the shared options, checked (onnxtd_outputs_write). */
onnxtd_status cli_io_save(const cli_io *io, onnxtd_model *m,
                          onnxtd_error *err);

#endif
