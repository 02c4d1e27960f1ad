#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

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
    onnxtd_dim_value dims[CLI_MAX_DIMS];
    size_t n_dims = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(help, stdout);
            return CLI_OK;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (cli_is(a, "--dim")) {
            const char *v = cli_value(argc, argv, &i, "--dim");
            if (!v)
                return CLI_USAGE;
            const char *eq = strrchr(v, '=');
            long long n;
            if (!eq || eq == v || cli_parse_i64(eq + 1, &n) || n < 0) {
                cli_error("--dim needs NAME=VALUE with VALUE >= 0, not '%s'",
                          v);
                return CLI_USAGE;
            }
            if (n_dims == CLI_MAX_DIMS) {
                cli_error("at most %d --dim options", CLI_MAX_DIMS);
                return CLI_USAGE;
            }
            /* The name is the text before '=' inside argv: terminate it
             * in a copy kept for the call. */
            char *name = strndup(v, (size_t)(eq - v));
            if (!name) {
                cli_error("out of memory");
                return CLI_FAIL;
            }
            dims[n_dims].name = name;
            dims[n_dims++].value = n;
        } else if (a[0] == '-' && a[1]) {
            cli_error("info: unknown option '%s'", a);
            return CLI_USAGE;
        } else if (!in) {
            in = a;
        } else {
            cli_error("info: unexpected argument '%s'", a);
            return CLI_USAGE;
        }
    }
    int rc = CLI_USAGE;
    if (!in) {
        fputs(help, stderr);
        goto cleanup;
    }
    onnxtd_error err = {0};
    onnxtd_model *m = NULL;
    char *out = NULL;
    onnxtd_status s = onnxtd_model_load(in, NULL, &m, &err);
    if (s == ONNXTD_OK)
        s = onnxtd_model_info_dims(m, json, dims, n_dims, &out, &err);
    onnxtd_model_free(m);
    if (s == ONNXTD_OK)
        fputs(out, stdout);
    else
        cli_error("%s", err.message);
    free(out);
    rc = cli_exit_for(s);
cleanup:
    for (size_t i = 0; i < n_dims; i++)
        free((char *)dims[i].name);
    return rc;
}
