/* A child's standard output and its end, with or without a time limit
 * (cli_child.c): what --judge needs of the command it runs. */
#ifndef CLI_CHILD_H
#define CLI_CHILD_H

#include <stddef.h>
#include <sys/types.h>

/* How long a child past its time has, after SIGTERM, to end before its
 * group is killed. */
#define CLI_CHILD_GRACE_S 2.0

enum {
    CLI_CHILD_DONE = 0,   /* its output closed and it ended in time */
    CLI_CHILD_LATE = 1,   /* the limit passed: its group was stopped */
    CLI_CHILD_ENDING = 2, /* onnxtd was asked to end: passed on, *ending */
    CLI_CHILD_ERROR = -1  /* waitpid or the like failed (msg) */
};

/* Reads child pid's standard output (fd, the pipe's read end) to its end,
 * keeping its last cap bytes in buf[0..*n), and reaps pid (*st its
 * status).
 *
 * limit_s <= 0: no limit; pid stays in onnxtd's process group, so the
 * terminal's ^C reaches it as it reaches onnxtd.
 *
 * limit_s > 0: pid must lead a process group of its own (setpgid in the
 * child and the parent). Once limit_s has passed without its output
 * closing and it ending, the group is stopped whole (SIGTERM, SIGKILL
 * CLI_CHILD_GRACE_S later for what is left); a child that ends but leaves
 * one of its own holding the pipe has not finished. SIGINT, SIGTERM,
 * SIGHUP and SIGQUIT that come to onnxtd meanwhile (and that it was not
 * ignoring) are passed to the group the same way, and the one that came
 * is left in *ending for the caller to raise once it has cleaned up.
 * Whatever the group still holds when pid ends is killed. */
int cli_child_collect(pid_t pid, int fd, double limit_s, char *buf,
                      size_t cap, size_t *n, int *st, int *ending, char *msg,
                      size_t msg_len);

#endif
