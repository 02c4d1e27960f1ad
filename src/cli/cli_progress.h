/* compress's progress lines on stderr (cli_progress.c). */
#ifndef CLI_PROGRESS_H
#define CLI_PROGRESS_H

#include <time.h>

#include "onnxtd.h"

typedef struct cli_progress {
    struct timespec t0;
    double interval;  /* seconds between lines off a terminal */
    double last;      /* when the last line was printed */
    int tty, quiet;
} cli_progress;

/* Starts the clock; quiet: no progress at all. */
void cli_progress_init(cli_progress *p, int quiet);
/* Sets co's progress callback to cli_progress_report (not when quiet). */
void cli_progress_attach(cli_progress *p, onnxtd_compress_options *co);
void cli_progress_report(void *ctx, size_t done, size_t total,
                         double work_done, double work_total);

#endif
