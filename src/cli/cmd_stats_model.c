#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char help[] =
    "usage: onnxtd stats-model IN -o OUT [--external-data NAME] "
    "[--size-threshold BYTES] [--mem-limit BYTES]\n"
    "\n"
    "Writes OUT: IN with extra graph outputs for calibration. For the input\n"
    "X of every layer 'compress' can factor, \"gram/X\" is the C x C sum of\n"
    "x x^T over every position (batch and spatial) of X's channel vectors,\n"
    "computed in float by the runtime, and \"rows/X\" the shape [positions,\n"
    "C] it summed over. Run OUT on calibration inputs with\n"
    "tools/ort/calib_stats.js, which writes the statistics file that\n"
    "'compress --act-stats FILE' reads. The other options are as for\n"
    "convert.\n";

int cmd_stats_model(int argc, char **argv)
{
    cli_io io;
    cli_io_init(&io);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(help, stdout);
            return CLI_OK;
        }
        if (cli_io_arg(argc, argv, &i, "stats-model", &io))
            return CLI_USAGE;
    }
    if (cli_io_done(&io)) {
        fputs(help, stderr);
        return CLI_USAGE;
    }
    onnxtd_error err = {0};
    onnxtd_model *m;
    size_t n = 0;
    onnxtd_status s = onnxtd_model_load(io.in, &io.lo, &m, &err);
    if (s == ONNXTD_OK) {
        s = onnxtd_stats_model(m, &n, &err);
        if (s == ONNXTD_OK)
            s = cli_io_save(&io, m, &err);
        onnxtd_model_free(m);
    }
    if (s != ONNXTD_OK)
        cli_error("%s", err.message);
    else
        fprintf(stderr, "%s: statistics outputs for %zu layer inputs\n",
                io.out, n);
    return cli_exit_for(s);
}
