/* The command-line front end: argument parsing and printing only; the work
 * is done by the library. Exit codes: 0 ok, 1 failure, 2 usage (diff: 1
 * means the models differ, 2 any error). */
#ifndef CLI_H
#define CLI_H

#include <stddef.h>

#include "onnxtd.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

int cmd_convert(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_compress(int argc, char **argv);
int cmd_stats_model(int argc, char **argv);

/* Prints "onnxtd: MESSAGE" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
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

#endif
