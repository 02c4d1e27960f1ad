/* Progress of compress on stderr: on a terminal one line rewritten in
 * place; elsewhere (a CI log, a file) a line every few seconds, so that a
 * long run shows it is alive without flooding the log. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli_progress.h"

/* Seconds between lines when stderr is not a terminal; a test sets
 * ONNXTD_PROGRESS_INTERVAL to see lines from a short run. */
#define DEFAULT_INTERVAL 5.0
/* No estimate of the time left before this share of the expected work is
 * done: the first layers' times say little about the rest. */
#define ETA_MIN_FRACTION 0.05

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) +
           1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

void cli_progress_init(cli_progress *p, int quiet)
{
    clock_gettime(CLOCK_MONOTONIC, &p->t0);
    p->quiet = quiet;
    p->tty = isatty(2);
    p->interval = DEFAULT_INTERVAL;
    p->last = 0;
    const char *e = getenv("ONNXTD_PROGRESS_INTERVAL");
    char *end;
    double v = e ? strtod(e, &end) : -1;
    if (e && end != e && !*end && v >= 0)
        p->interval = v;
}

void cli_progress_attach(cli_progress *p, onnxtd_compress_options *co)
{
    if (p->quiet)
        return;
    co->progress_work = cli_progress_report;
    co->progress_ctx = p;
}

void cli_progress_report(void *ctx, size_t done, size_t total,
                         double work_done, double work_total)
{
    cli_progress *p = ctx;
    double el = seconds_since(&p->t0);
    int last = done == total;
    if (!p->tty && !last && el - p->last < p->interval)
        return;
    p->last = el;
    double f = work_total > 0 ? work_done / work_total : 1;
    char eta[48] = "";
    if (!last && f >= ETA_MIN_FRACTION)
        snprintf(eta, sizeof eta, ", ~%.0f s left", el * (1 - f) / f);
    fprintf(stderr, "%scompress: layer %zu of %zu (%.0f%% of the work), "
            "%.1f s elapsed%s%s", p->tty ? "\r" : "", done, total, 100 * f,
            el, eta, p->tty && !last ? "   " : "\n");
    fflush(stderr);
}
