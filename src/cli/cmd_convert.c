#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char help[] =
    "usage: onnxtd convert IN (-o OUT | --in-place) [--external-data NAME] "
    "[--size-threshold BYTES] [--mem-limit BYTES]\n"
    "\n"
    "Reads IN (with any external data it references) and writes OUT with\n"
    "every field kept. Without --external-data all tensors are inline; with\n"
    "it, tensors of at least --size-threshold bytes (default 1024) go to the\n"
    "file NAME beside OUT. Every output is checked before any work: OUT\n"
    "and NAME must be absent or regular files, and neither may be a file\n"
    "read (IN, its external data) nor the other. --in-place replaces IN\n"
    "(OUT may then be omitted). The write is atomic.\n"
    "\n"
    "--mem-limit BYTES (K/M/G suffixes) refuses, before unpacking, a model\n"
    "whose unpacked form is estimated to need more (default: the machine's\n"
    "physical memory).\n";

int cmd_convert(int argc, char **argv)
{
    cli_io io;
    cli_io_init(&io);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(help, stdout);
            return CLI_OK;
        }
        if (cli_io_arg(argc, argv, &i, "convert", &io))
            return CLI_USAGE;
    }
    if (cli_io_done(&io)) {
        fputs(help, stderr);
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
        cli_error("%s", err.message);
    return cli_exit_for(s);
}
