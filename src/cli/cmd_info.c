#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_shapes.h"

int cmd_info(int argc, char **argv)
{
    const char *in = NULL;
    int json = 0;
    cli_shapes shapes = {0};
    int rc = CLI_USAGE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(cli_help_info, stdout);
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
        cli_error("info: no model given");
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
        cli_error_lib(err.message);
    free(out);
    rc = cli_exit_for(s);
cleanup:
    cli_shapes_free(&shapes);
    return rc;
}
