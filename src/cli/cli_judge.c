/* --judge CMD: the user's own evaluation as a shell command, the library's
 * onnxtd_judge_fn. CMD runs under /bin/sh with the model's path appended
 * as its last argument (as xargs and git bisect run do: a program and its
 * options need nothing more) and in $ONNXTD_JUDGE_MODEL (for a pipeline),
 * standard input from /dev/null and standard error the user's; the last
 * non-empty line of its standard output is the score, and it must exit
 * 0. With a time limit (--judge-timeout) it runs in a process group of
 * its own, stopped whole when late (cli_child.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "cli_child.h"

/* The output kept: the score is on the last line; a chatty judge's
 * earlier lines are dropped from the front. */
#define KEEP 4096

#define ENV_NAME "ONNXTD_JUDGE_MODEL="

extern char **environ;

static void child(const char *line, const char *path, char **env, int out,
                  int own_group)
{
    if (own_group && setpgid(0, 0))
        _exit(127);
    int in = open("/dev/null", O_RDONLY);
    if (in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0)
        _exit(127);
    if (in > 2)
        close(in);
    if (out > 2)
        close(out);
    execle("/bin/sh", "sh", "-c", line, "sh", path, (char *)NULL, env);
    _exit(127);
}

/* The environment with ONNXTD_JUDGE_MODEL=path in place of any other
 * (malloc'd, as its one string *var: free both), or NULL. */
static char **judge_env(const char *path, char **var)
{
    size_t n = 0;
    while (environ && environ[n])
        n++;
    char **env = malloc((n + 2) * sizeof *env);
    *var = malloc(sizeof ENV_NAME + strlen(path));
    if (!env || !*var) {
        free(env);
        free(*var);
        return NULL;
    }
    memcpy(*var, ENV_NAME, sizeof ENV_NAME - 1);
    strcpy(*var + sizeof ENV_NAME - 1, path);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], ENV_NAME, sizeof ENV_NAME - 1))
            env[k++] = environ[i];
    env[k++] = *var;
    env[k] = NULL;
    return env;
}

/* The last non-empty line of buf[0..n), cut of its surrounding blanks. */
static char *last_line(char *buf, size_t n)
{
    buf[n] = '\0';
    while (n && strchr(" \t\r\n", buf[n - 1]))
        buf[--n] = '\0';
    char *p = strrchr(buf, '\n');
    p = p ? p + 1 : buf;
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

int cli_judge_run(void *ctx, const char *path, double *score, char *msg,
                  size_t msg_len)
{
    cli_judge *judge = ctx;
    const char *cmd = judge->cmd;
    int timed = judge->timeout_s > 0;
    /* made before the fork: the child of a threaded process allocates
     * nothing */
    size_t n_cmd = strlen(cmd);
    char *line = malloc(n_cmd + sizeof " \"$1\"");
    char *var = NULL;
    char **env = judge_env(path, &var);
    if (!line || !env) {
        snprintf(msg, msg_len, "out of memory");
        free(line);
        free(env);
        free(var);
        return -1;
    }
    memcpy(line, cmd, n_cmd);
    memcpy(line + n_cmd, " \"$1\"", sizeof " \"$1\"");
    int fd[2];
    if (pipe(fd)) {
        snprintf(msg, msg_len, "pipe: %s", strerror(errno));
        free(line);
        free(env);
        free(var);
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(msg, msg_len, "fork: %s", strerror(errno));
        close(fd[0]);
        close(fd[1]);
        free(line);
        free(env);
        free(var);
        return -1;
    }
    if (pid == 0) {
        close(fd[0]);
        child(line, path, env, fd[1], timed);
    }
    /* the group made here too, so no signal to it can come before the
     * child's own setpgid (EACCES once it has exec'd: then it is made) */
    if (timed)
        setpgid(pid, pid);
    free(line);
    free(env);
    free(var);
    close(fd[1]);
    char buf[KEEP + 1];
    size_t n = 0;
    int st = 0;
    int rc = cli_child_collect(pid, fd[0], judge->timeout_s, buf, KEEP, &n,
                               &st, &judge->ending, msg, msg_len);
    close(fd[0]);
    if (rc == CLI_CHILD_ENDING) {
        snprintf(msg, msg_len, "onnxtd was asked to end (signal %d)",
                 judge->ending);
        return -1;
    }
    if (rc == CLI_CHILD_LATE) {
        snprintf(msg, msg_len, "no score within --judge-timeout %g s: it "
                 "was stopped (its process group: SIGTERM, SIGKILL %g s "
                 "later)", judge->timeout_s, CLI_CHILD_GRACE_S);
        return -1;
    }
    if (rc)
        return -1;
    char *last = last_line(buf, n);
    if (WIFSIGNALED(st)) {
        snprintf(msg, msg_len, "killed by signal %d", WTERMSIG(st));
        return -1;
    }
    if (WEXITSTATUS(st) == 127 && !last[0]) {
        snprintf(msg, msg_len, "exit 127 (the shell could not run it?)");
        return -1;
    }
    if (WEXITSTATUS(st)) {
        snprintf(msg, msg_len, "exit %d%s%.200s%s", WEXITSTATUS(st),
                 last[0] ? ", its last line '" : "", last,
                 last[0] ? "'" : "");
        return -1;
    }
    if (!last[0]) {
        snprintf(msg, msg_len, "it printed nothing: its last line of "
                 "output must be the score");
        return -1;
    }
    char *end;
    errno = 0;
    double v = strtod(last, &end);
    while (*end == ' ' || *end == '\t')
        end++;
    if (end == last || *end || errno == ERANGE) {
        snprintf(msg, msg_len, "its last line of output, '%.200s', is not "
                 "a number (the score)", last);
        return -1;
    }
    *score = v;
    return 0;
}
