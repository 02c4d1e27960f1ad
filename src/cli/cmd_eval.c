#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_shapes.h"

#define MAX_SOURCES 256

static int number(int argc, char **argv, int *i, const char *opt, double lo,
                  double *out)
{
    const char *v = cli_value(argc, argv, i, opt);
    if (!v || cli_parse_double(v, out) || *out < lo) {
        cli_error("eval: %s needs a number >= %g", opt, lo);
        return -1;
    }
    return 0;
}

static int count(int argc, char **argv, int *i, const char *opt, long long lo,
                 long long *out)
{
    const char *v = cli_value(argc, argv, i, opt);
    if (!v || cli_parse_i64(v, out) || *out < lo || *out > 1000000000LL) {
        cli_error("eval: %s needs a whole number >= %lld", opt, lo);
        return -1;
    }
    return 0;
}

int cmd_eval(int argc, char **argv)
{
    onnxtd_eval_options o;
    onnxtd_eval_options_init(&o);
    const char *sources[MAX_SOURCES];
    cli_shapes shapes = {0};
    onnxtd_model *shape_model = NULL;  /* owns the dims' names */
    size_t n_sources = 0;
    int json = 0, rc = CLI_USAGE;
    long long ll;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(cli_help_eval, stdout);
            rc = CLI_OK;
            goto done;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (cli_is(a, "--inputs")) {
            if (!(v = cli_value(argc, argv, &i, a)))
                goto done;
            if (n_sources == MAX_SOURCES) {
                cli_error("eval: at most %d --inputs", MAX_SOURCES);
                goto done;
            }
            sources[n_sources++] = v;
        } else if (cli_is(a, "--random")) {
            if (count(argc, argv, &i, "--random", 1, &ll))
                goto done;
            o.random = (size_t)ll;
        } else if (cli_is(a, "--seed")) {
            if (count(argc, argv, &i, "--seed", 0, &ll))
                goto done;
            o.seed = (uint64_t)ll;
        } else if (cli_shapes_is(a)) {
            if (cli_shapes_arg(argc, argv, &i, &shapes))
                goto done;
        } else if (cli_is(a, "--rtol")) {
            if (number(argc, argv, &i, "--rtol", 0, &o.rtol))
                goto done;
        } else if (cli_is(a, "--min-cosine")) {
            if (number(argc, argv, &i, "--min-cosine", -1, &o.min_cosine))
                goto done;
        } else if (cli_is(a, "--min-agreement")) {
            if (number(argc, argv, &i, "--min-agreement", 0, &o.min_agreement))
                goto done;
        } else if (cli_is(a, "--elementwise")) {
            char *end;
            if (!(v = cli_value(argc, argv, &i, a)))
                goto done;
            o.elem_rtol = strtod(v, &end);
            if (end == v || *end != ',' || o.elem_rtol < 0 ||
                (o.elem_atol = strtod(end + 1, &end), *end) || o.elem_atol < 0) {
                cli_error("eval: --elementwise needs RTOL,ATOL (two numbers "
                          ">= 0), not '%s'", v);
                goto done;
            }
        } else if (cli_is(a, "--threads")) {
            if (count(argc, argv, &i, "--threads", 0, &ll))
                goto done;
            o.threads = (int)ll;
        } else if (cli_is(a, "--runs")) {
            if (count(argc, argv, &i, "--runs", 0, &ll))
                goto done;
            o.runs = (size_t)ll;
        } else if (cli_is(a, "--ort-lib")) {
            if (!(o.ort_lib = cli_value(argc, argv, &i, a)))
                goto done;
        } else if (a[0] == '-' && a[1]) {
            cli_error("eval: unknown option '%s'", a);
            goto done;
        } else if (!o.model_a) {
            o.model_a = a;
        } else if (!o.model_b) {
            o.model_b = a;
        } else {
            cli_error("eval: unexpected argument '%s'", a);
            goto done;
        }
    }
    if (!o.model_a || (!n_sources && !o.random)) {
        cli_error(!o.model_a ? "eval: no model given"
                             : "eval: --inputs SRC or --random N is required");
        goto done;
    }
    o.inputs = sources;
    o.n_inputs = n_sources;
    onnxtd_error err = {0};
    char *report = NULL;
    int pass = 0;
    onnxtd_status s = ONNXTD_OK;
    /* names given are checked against model A */
    if (shapes.n_dims || shapes.n_shapes) {
        s = onnxtd_model_load(o.model_a, NULL, &shape_model, &err);
        if (s == ONNXTD_OK)
            s = cli_shapes_resolve(&shapes, shape_model, &err);
    }
    o.dims = shapes.dims;
    o.n_dims = shapes.n_dims;
    if (s == ONNXTD_OK)
        s = onnxtd_eval(&o, json, &report, &pass, &err);
    if (s != ONNXTD_OK) {
        cli_error("%s", err.message);
        rc = cli_exit_for(s);
        goto done;
    }
    fputs(report, stdout);
    free(report);
    rc = pass ? CLI_OK : CLI_FAIL;
done:
    onnxtd_model_free(shape_model);
    cli_shapes_free(&shapes);
    return rc;
}
