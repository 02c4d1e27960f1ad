/* --judge CMD: the user's own evaluation as a shell command, the library's
 * onnxtd_judge_fn. CMD runs under /bin/sh with the model's path appended
 * as its last argument (as xargs and git bisect run do: a program and its
 * options need nothing more) and in $ONNXTD_JUDGE_MODEL (for a pipeline),
 * standard input from /dev/null and standard error the user's; the last
 * non-empty line of its standard output is the score, and it must exit
 * 0. With a time limit (--judge-timeout) it runs in a process group of
 * its own, so that a judge that overruns is stopped whole (the shell and
 * whatever it started: a pipeline, a Python run holding the pipe), as
 * timeout(1) stops its command; a signal that ends onnxtd meanwhile is
 * passed to that group first, which the terminal no longer reaches. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* The output kept: the score is on the last line; a chatty judge's
 * earlier lines are dropped from the front. */
#define KEEP 4096

#define ENV_NAME "ONNXTD_JUDGE_MODEL="

extern char **environ;

/* How long a judge that overran its time has, after SIGTERM, to end
 * before its group is killed. */
#define GRACE_S 2.0

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

/* chunk[0..m) appended to buf[0..*n), the last KEEP bytes kept (a chunk
 * is shorter than KEEP, so dropping from the front always makes room). */
static void keep(char *buf, size_t *n, const char *chunk, size_t m)
{
    if (*n + m > KEEP) {
        size_t drop = *n + m - KEEP;
        memmove(buf, buf + drop, *n - drop);
        *n -= drop;
    }
    memcpy(buf + *n, chunk, m);
    *n += m;
}

/* The output read to its end into buf (its last KEEP bytes). */
static size_t drain(int fd, char *buf)
{
    size_t n = 0;
    char chunk[1024];
    for (;;) {
        ssize_t k = read(fd, chunk, sizeof chunk);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return n;
        keep(buf, &n, chunk, (size_t)k);
    }
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The signal that asked onnxtd to end while a timed judge ran (0: none). */
static volatile sig_atomic_t g_ending;

static void on_ending(int sig)
{
    g_ending = sig;
}

static const int ENDING[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define N_ENDING (sizeof ENDING / sizeof ENDING[0])

/* Waits for pid to end, for at most wait_s seconds (< 0: as long as it
 * takes), leaving it unreaped: while it is a zombie its number, which is
 * its group's, cannot be reused, so the group can still be signalled
 * safely. 1 when it ended, 0 when the time ran out, -1 on an error. */
static int await_end(pid_t pid, double wait_s)
{
    double end = now_s() + wait_s;
    for (;;) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        int flags = WEXITED | WNOWAIT | (wait_s < 0 ? 0 : WNOHANG);
        if (waitid(P_PID, (id_t)pid, &si, flags) < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (si.si_pid == pid)
            return 1;
        if (now_s() >= end)  /* WNOHANG: not yet */
            return 0;
        struct timespec d = {0, 20 * 1000 * 1000};
        nanosleep(&d, NULL);
    }
}

/* pid reaped (its status in *st); 0, or -1 on an error. */
static int reap(pid_t pid, int *st)
{
    while (waitpid(pid, st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return 0;
}

/* The judge's group stopped: sig (SIGTERM, or the one that ends onnxtd),
 * GRACE_S to end, then SIGKILL for whatever is left in it. Reaps pid. */
static void stop_group(pid_t pid, int sig, int *st)
{
    kill(-pid, sig);
    await_end(pid, GRACE_S);
    kill(-pid, SIGKILL);
    await_end(pid, -1);
    reap(pid, st);
}

/* The output read into buf (its last KEEP bytes) until the pipe closes,
 * the deadline passes or an ending signal comes. 0 when it closed, 1 on
 * the deadline, 2 on a signal (g_ending). */
static int drain_until(int fd, char *buf, size_t *n, double deadline)
{
    char chunk[1024];
    *n = 0;
    for (;;) {
        if (g_ending)
            return 2;
        double left = deadline - now_s();
        if (left <= 0)
            return 1;
        struct pollfd p = {fd, POLLIN, 0};
        /* a short wait: a signal that came just before poll, or went to
         * another thread, is seen within it */
        int ms = left > 0.1 ? 100 : (int)(left * 1000) + 1;
        int r = poll(&p, 1, ms);
        if (r < 0 && errno != EINTR)
            return 0;
        if (r <= 0)
            continue;
        ssize_t k = read(fd, chunk, sizeof chunk);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return 0;
        keep(buf, n, chunk, (size_t)k);
    }
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

/* Runs the judge to its end with no time limit, as before one existed:
 * in onnxtd's process group, so the terminal's ^C reaches it too. */
static int run_plain(pid_t pid, int fd, char *buf, size_t *n, int *st,
                     char *msg, size_t msg_len)
{
    *n = drain(fd, buf);
    if (reap(pid, st)) {
        snprintf(msg, msg_len, "waitpid: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* Runs the judge (its own group's leader) for at most limit_s seconds.
 * onnxtd's ending signals are caught meanwhile and passed to its group;
 * the one that came is left in *ending for the caller to raise once the
 * library has cleaned up (its temporary model removed). */
static int run_timed(pid_t pid, int fd, double limit_s, char *buf, size_t *n,
                     int *st, int *ending, char *msg, size_t msg_len)
{
    struct sigaction sa, old[N_ENDING];
    int caught[N_ENDING];
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_ending;
    sigemptyset(&sa.sa_mask);
    g_ending = 0;
    /* a signal onnxtd ignores (SIGHUP under nohup, SIGINT in a
     * background job) stays ignored */
    for (size_t i = 0; i < N_ENDING; i++)
        caught[i] = sigaction(ENDING[i], NULL, &old[i]) == 0 &&
                    old[i].sa_handler != SIG_IGN &&
                    sigaction(ENDING[i], &sa, NULL) == 0;
    double deadline = now_s() + limit_s;
    int why = drain_until(fd, buf, n, deadline);  /* 0 closed, 1 late, 2 sig */
    if (why == 0) {
        /* its output closed: its end awaited in short steps, a signal
         * seen as in drain_until */
        int r;
        for (;;) {
            double left = deadline - now_s();
            r = await_end(pid, left > 0.1 ? 0.1 : left > 0 ? left : 0);
            if (r || g_ending || left <= 0.1)
                break;
        }
        if (r < 0)
            snprintf(msg, msg_len, "waitid: %s", strerror(errno));
        why = r < 0 ? 3 : g_ending ? 2 : r == 0;
    }
    if (why == 1 || why == 2) {
        stop_group(pid, why == 2 ? g_ending : SIGTERM, st);
    } else {
        kill(-pid, SIGKILL);  /* what it left running in its group */
        if (reap(pid, st) && why == 0) {
            snprintf(msg, msg_len, "waitpid: %s", strerror(errno));
            why = 3;
        }
    }
    *ending = g_ending;
    for (size_t i = 0; i < N_ENDING; i++)
        if (caught[i])
            sigaction(ENDING[i], &old[i], NULL);
    if (*ending) {
        snprintf(msg, msg_len, "onnxtd was asked to end (signal %d)",
                 *ending);
        return -1;
    }
    if (why == 1) {
        snprintf(msg, msg_len, "no score within --judge-timeout %g s: it "
                 "was stopped (its process group: SIGTERM, SIGKILL %g s "
                 "later)", limit_s, GRACE_S);
        return -1;
    }
    return why == 3 ? -1 : 0;
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
    int rc = timed ? run_timed(pid, fd[0], judge->timeout_s, buf, &n, &st,
                               &judge->ending, msg, msg_len)
                   : run_plain(pid, fd[0], buf, &n, &st, msg, msg_len);
    close(fd[0]);
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
