/* A child's standard output and its end, with or without a time limit
 * (cli_child.h). With one, the child leads a process group of its own, so
 * that a child past its time is stopped whole (a shell and whatever it
 * started: a pipeline, a Python run holding the pipe), as timeout(1)
 * stops its command. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli_child.h"

/* chunk[0..m) appended to buf[0..*n), its last cap bytes kept. */
static void keep(char *buf, size_t cap, size_t *n, const char *chunk,
                 size_t m)
{
    if (m >= cap) {
        memcpy(buf, chunk + (m - cap), cap);
        *n = cap;
        return;
    }
    if (*n + m > cap) {
        size_t drop = *n + m - cap;
        memmove(buf, buf + drop, *n - drop);
        *n -= drop;
    }
    memcpy(buf + *n, chunk, m);
    *n += m;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* pid reaped (its status in *st); 0, or -1 on an error. */
static int reap(pid_t pid, int *st)
{
    while (waitpid(pid, st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return 0;
}

/* The signal that asked onnxtd to end while a timed child ran (0: none). */
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

/* The group stopped: sig (SIGTERM, or the one that ends onnxtd), the
 * grace to end, then SIGKILL for whatever is left in it. Reaps pid. */
static void stop_group(pid_t pid, int sig, int *st)
{
    kill(-pid, sig);
    await_end(pid, CLI_CHILD_GRACE_S);
    kill(-pid, SIGKILL);
    await_end(pid, -1);
    reap(pid, st);
}

/* The output read into buf until the pipe closes (DONE), the deadline
 * passes (LATE) or an ending signal comes (ENDING). deadline < 0: none,
 * and no signal is caught: it reads until the pipe closes. */
static int read_until(int fd, char *buf, size_t cap, size_t *n,
                      double deadline)
{
    char chunk[1024];
    *n = 0;
    for (;;) {
        if (g_ending)
            return CLI_CHILD_ENDING;
        int ms = -1;
        if (deadline >= 0) {
            double left = deadline - now_s();
            if (left <= 0)
                return CLI_CHILD_LATE;
            /* a short wait: a signal that came just before poll, or went
             * to another thread, is seen within it */
            ms = left > 0.1 ? 100 : (int)(left * 1000) + 1;
        }
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, ms);
        if (r < 0 && errno != EINTR)
            return CLI_CHILD_DONE;
        if (r <= 0)
            continue;
        ssize_t k = read(fd, chunk, sizeof chunk);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return CLI_CHILD_DONE;
        keep(buf, cap, n, chunk, (size_t)k);
    }
}

/* Its output closed: its end awaited until the deadline in short steps,
 * a signal seen as in read_until. */
static int await_until(pid_t pid, double deadline, char *msg,
                       size_t msg_len)
{
    for (;;) {
        double left = deadline - now_s();
        int r = await_end(pid, left > 0.1 ? 0.1 : left > 0 ? left : 0);
        if (r < 0) {
            snprintf(msg, msg_len, "waitid: %s", strerror(errno));
            return CLI_CHILD_ERROR;
        }
        if (g_ending)
            return CLI_CHILD_ENDING;
        if (r)
            return CLI_CHILD_DONE;
        if (left <= 0.1)
            return CLI_CHILD_LATE;
    }
}

static int collect_timed(pid_t pid, int fd, double limit_s, char *buf,
                         size_t cap, size_t *n, int *st, int *ending,
                         char *msg, size_t msg_len)
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
    int why = read_until(fd, buf, cap, n, deadline);
    if (why == CLI_CHILD_DONE)
        why = await_until(pid, deadline, msg, msg_len);
    if (why == CLI_CHILD_LATE || why == CLI_CHILD_ENDING) {
        stop_group(pid, why == CLI_CHILD_ENDING ? g_ending : SIGTERM, st);
    } else {
        kill(-pid, SIGKILL);  /* what it left running in its group */
        if (reap(pid, st) && why == CLI_CHILD_DONE) {
            snprintf(msg, msg_len, "waitpid: %s", strerror(errno));
            why = CLI_CHILD_ERROR;
        }
    }
    /* a signal that came after all, while the group was being stopped */
    *ending = g_ending;
    for (size_t i = 0; i < N_ENDING; i++)
        if (caught[i])
            sigaction(ENDING[i], &old[i], NULL);
    return *ending ? CLI_CHILD_ENDING : why;
}

int cli_child_collect(pid_t pid, int fd, double limit_s, char *buf,
                      size_t cap, size_t *n, int *st, int *ending, char *msg,
                      size_t msg_len)
{
    *ending = 0;
    *st = 0;
    if (limit_s > 0)
        return collect_timed(pid, fd, limit_s, buf, cap, n, st, ending, msg,
                             msg_len);
    /* no limit: the output read to its end, then pid reaped */
    g_ending = 0;
    read_until(fd, buf, cap, n, -1);
    if (reap(pid, st)) {
        snprintf(msg, msg_len, "waitpid: %s", strerror(errno));
        return CLI_CHILD_ERROR;
    }
    return CLI_CHILD_DONE;
}
