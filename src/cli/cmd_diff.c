#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* A tolerance: a finite number >= 0. */
static int parse_tol(const char *opt, const char *v, double *out)
{
    char *end;
    errno = 0;
    double x = v ? strtod(v, &end) : 0;
    if (!v || end == v || *end || errno || !isfinite(x) || x < 0) {
        cli_error("diff: %s needs a number >= 0, got '%s'", opt, v ? v : "");
        return -1;
    }
    *out = x;
    return 0;
}

static int parse_ignore(const char *v, unsigned *ignore)
{
    static const char *const names[] = {"names", "metadata", "doc_strings"};
    const char *p = v ? v : "";
    do {
        size_t n = strcspn(p, ",");
        size_t k = 0;
        while (k < 3 && !(strlen(names[k]) == n && !strncmp(p, names[k], n)))
            k++;
        if (k == 3) {
            cli_error("diff: --ignore takes names, metadata or doc_strings, "
                      "got '%.*s'", (int)n, p);
            return -1;
        }
        *ignore |= 1u << k;  /* the ONNXTD_DIFF_IGNORE_* bits, in order */
        p += n;
    } while (*p++ == ',');
    return 0;
}

/* "--opt V" or "--opt=V": the value, advancing *i past it; NULL if absent. */
static const char *opt_value(int argc, char **argv, int *i, const char *opt)
{
    size_t n = strlen(opt);
    if (strncmp(argv[*i], opt, n))
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] == '\0' && *i + 1 < argc)
        return argv[++*i];
    return NULL;
}

static int is_opt(const char *a, const char *opt)
{
    size_t n = strlen(opt);
    return !strncmp(a, opt, n) && (a[n] == '\0' || a[n] == '=');
}

int cmd_diff(int argc, char **argv)
{
    const char *path[2] = {NULL, NULL};
    int json = 0;
    onnxtd_diff_options o = ONNXTD_DIFF_OPTIONS_INIT;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(cli_help_diff, stdout);
            return CLI_OK;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (is_opt(a, "--atol")) {
            if (parse_tol("--atol", opt_value(argc, argv, &i, "--atol"),
                          &o.atol))
                return CLI_USAGE;
        } else if (is_opt(a, "--rtol")) {
            if (parse_tol("--rtol", opt_value(argc, argv, &i, "--rtol"),
                          &o.rtol))
                return CLI_USAGE;
        } else if (is_opt(a, "--ignore")) {
            if (parse_ignore(opt_value(argc, argv, &i, "--ignore"), &o.ignore))
                return CLI_USAGE;
        } else if (a[0] == '-' && a[1]) {
            cli_error("diff: unknown option '%s'", a);
            fputs(CLI_SEE_HELP("diff"), stderr);
            return CLI_USAGE;
        } else if (!path[0]) {
            path[0] = a;
        } else if (!path[1]) {
            path[1] = a;
        } else {
            cli_error("diff: unexpected argument '%s'", a);
            fputs(CLI_SEE_HELP("diff"), stderr);
            return CLI_USAGE;
        }
    }
    if (!path[1]) {
        cli_error("diff: two models are needed, A and B");
        fputs(CLI_SEE_HELP("diff"), stderr);
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
        s = onnxtd_model_diff_opts(m[0], m[1], &o, json, &report, &differ,
                                   &err);
    onnxtd_model_free(m[0]);
    onnxtd_model_free(m[1]);
    if (s != ONNXTD_OK) {
        cli_error_lib(err.message);
        free(report);
        return 2;  /* like diff(1): any trouble is 2, whatever its kind */
    }
    fputs(report, stdout);
    free(report);
    return differ ? 1 : 0;
}
