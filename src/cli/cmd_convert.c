#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char help[] =
    "usage: onnxtd convert IN -o OUT [--external-data NAME] "
    "[--size-threshold BYTES] [--mem-limit BYTES]\n"
    "\n"
    "Reads IN (with any external data it references) and writes OUT with\n"
    "every field kept. Without --external-data all tensors are inline; with\n"
    "it, tensors of at least --size-threshold bytes (default 1024) go to the\n"
    "file NAME beside OUT. OUT may be IN; the write is atomic.\n"
    "\n"
    "--mem-limit BYTES (K/M/G suffixes) refuses, before unpacking, a model\n"
    "whose unpacked form is estimated to need more (default: the machine's\n"
    "physical memory).\n";

int cmd_convert(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    onnxtd_save_options so = {NULL, 1024};
    onnxtd_load_options lo = {0, 0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(help, stdout);
            return CLI_OK;
        } else if (!strcmp(a, "-o") || cli_is(a, "--output")) {
            if (!(out = cli_value(argc, argv, &i, "-o")))
                return CLI_USAGE;
        } else if (cli_is(a, "--external-data")) {
            if (!(so.external_data = cli_value(argc, argv, &i, a)))
                return CLI_USAGE;
        } else if (cli_is(a, "--size-threshold")) {
            const char *v = cli_value(argc, argv, &i, "--size-threshold");
            if (!v || cli_parse_size(v, &so.size_threshold)) {
                cli_error("--size-threshold needs a byte count");
                return CLI_USAGE;
            }
        } else if (cli_is(a, "--mem-limit")) {
            const char *v = cli_value(argc, argv, &i, "--mem-limit");
            if (!v || cli_parse_size(v, &lo.mem_limit) || !lo.mem_limit) {
                cli_error("--mem-limit needs a positive byte count");
                return CLI_USAGE;
            }
        } else if (a[0] == '-' && a[1]) {
            cli_error("convert: unknown option '%s'", a);
            return CLI_USAGE;
        } else if (!in) {
            in = a;
        } else {
            cli_error("convert: unexpected argument '%s'", a);
            return CLI_USAGE;
        }
    }
    if (!in || !out) {
        fputs(help, stderr);
        return CLI_USAGE;
    }
    onnxtd_error err = {0};
    onnxtd_model *m;
    onnxtd_status s = onnxtd_model_load(in, &lo, &m, &err);
    if (s == ONNXTD_OK) {
        s = onnxtd_model_save(m, out, &so, &err);
        onnxtd_model_free(m);
    }
    if (s != ONNXTD_OK)
        cli_error("%s", err.message);
    return cli_exit_for(s);
}
