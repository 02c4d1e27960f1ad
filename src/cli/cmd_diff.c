#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char help[] =
    "usage: onnxtd diff A B [--json]\n"
    "\n"
    "Compares two models by meaning, not bytes: nodes (matched by name, or\n"
    "by position among nodes of the same op_type when unnamed), attributes,\n"
    "node inputs and outputs, initializer and Constant values (largest\n"
    "absolute difference), graph inputs and outputs, opsets, IR version,\n"
    "producer and metadata. Where tensor payloads are stored (inline or\n"
    "external data) does not matter.\n"
    "\n"
    "  --json  the report as one JSON object\n"
    "\n"
    "Exit status: 0 the models are the same, 1 they differ, 2 an error.\n";

int cmd_diff(int argc, char **argv)
{
    const char *path[2] = {NULL, NULL};
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(help, stdout);
            return CLI_OK;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (a[0] == '-' && a[1]) {
            cli_error("diff: unknown option '%s'", a);
            return CLI_USAGE;
        } else if (!path[0]) {
            path[0] = a;
        } else if (!path[1]) {
            path[1] = a;
        } else {
            cli_error("diff: unexpected argument '%s'", a);
            return CLI_USAGE;
        }
    }
    if (!path[1]) {
        fputs(help, stderr);
        return CLI_USAGE;
    }
    onnxtd_error err = {0};
    onnxtd_model *m[2] = {NULL, NULL};
    char *report = NULL;
    int differ = 0;
    onnxtd_status s = onnxtd_model_load(path[0], NULL, &m[0], &err);
    if (s == ONNXTD_OK)
        s = onnxtd_model_load(path[1], NULL, &m[1], &err);
    if (s == ONNXTD_OK)
        s = onnxtd_model_diff(m[0], m[1], json, &report, &differ, &err);
    onnxtd_model_free(m[0]);
    onnxtd_model_free(m[1]);
    if (s != ONNXTD_OK) {
        cli_error("%s", err.message);
        free(report);
        return 2;  /* like diff(1): any trouble is 2, whatever its kind */
    }
    fputs(report, stdout);
    free(report);
    return differ ? 1 : 0;
}
