#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_convert(int argc, char **argv)
{
    cli_io io;
    cli_io_init(&io);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(cli_help_convert, stdout);
            return CLI_OK;
        }
        if (cli_io_arg(argc, argv, &i, "convert", &io))
            return CLI_USAGE;
    }
    if (cli_io_done(&io, "convert")) {
        return CLI_USAGE;
    }
    onnxtd_error err = {0};
    onnxtd_model *m;
    onnxtd_status s = onnxtd_model_load(io.in, &io.lo, &m, &err);
    if (s == ONNXTD_OK) {
        s = cli_io_save(&io, m, &err);
        onnxtd_model_free(m);
    }
    if (s != ONNXTD_OK)
        cli_error_lib(err.message);
    return cli_exit_for(s);
}
