#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_shapes.h"

static const char help[] =
    "usage: onnxtd info MODEL [--json] [--dim NAME=VALUE]...\n"
    "\n"
    "Describes MODEL: IR version, opsets, producer, inputs and outputs, op\n"
    "counts, parameters and bytes by data type (initializers and Constant\n"
    "tensors, sub-graphs included), and per convolution its weight shape,\n"
    "group, kernel, strides, dilations, pads (auto_pad resolved), parameters\n"
    "and multiply-accumulates per sample (\"?\" when the output size is not\n"
    "known statically).\n"
    "\n"
    "  --json            one JSON object instead of the text tables\n"
    "  --dim NAME=VALUE  give the symbolic input dimension NAME a value for\n"
    "                    shape inference (repeatable)\n";

int cmd_info(int argc, char **argv)
{
    const char *in = NULL;
    int json = 0;
    cli_shapes shapes = {0};
    int rc = CLI_USAGE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(help, stdout);
            rc = CLI_OK;
            goto cleanup;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (cli_shapes_is(a)) {
            if (cli_shapes_arg(argc, argv, &i, &shapes))
                goto cleanup;
        } else if (a[0] == '-' && a[1]) {
            cli_error("info: unknown option '%s'", a);
            goto cleanup;
        } else if (!in) {
            in = a;
        } else {
            cli_error("info: unexpected argument '%s'", a);
            goto cleanup;
        }
    }
    if (!in) {
        fputs(help, stderr);
        goto cleanup;
    }
    onnxtd_error err = {0};
    onnxtd_model *m = NULL;
    char *out = NULL;
    onnxtd_status s = onnxtd_model_load(in, NULL, &m, &err);
    if (s == ONNXTD_OK)
        s = cli_shapes_resolve(&shapes, m, &err);
    if (s == ONNXTD_OK)
        s = onnxtd_model_info_dims(m, json, shapes.dims, shapes.n_dims, &out,
                                   &err);
    onnxtd_model_free(m);
    if (s == ONNXTD_OK)
        fputs(out, stdout);
    else
        cli_error("%s", err.message);
    free(out);
    rc = cli_exit_for(s);
cleanup:
    cli_shapes_free(&shapes);
    return rc;
}
