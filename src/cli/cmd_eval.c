#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_shapes.h"

#define MAX_SOURCES 256

static const char help[] =
    "usage: onnxtd eval A.onnx [B.onnx] --inputs SRC [--inputs SRC ...]\n"
    "                   [--rtol R] [--min-cosine C] [--min-agreement F]\n"
    "                   [--elementwise RTOL,ATOL] [--threads N] [--runs N]\n"
    "                   [--ort-lib PATH] [--json]\n"
    "       onnxtd eval A.onnx B.onnx --random N [--seed S] [--dim NAME=V]...\n"
    "\n"
    "Runs A and B in ONNX Runtime on the same inputs and reports, per output,\n"
    "with A as the reference: rel. L2 ||B-A||/||A|| and cosine over all\n"
    "samples, the largest |B-A|, and top-1 agreement for outputs that look\n"
    "like class scores (float, rank 2 or 3, last axis > 1: argmax over the\n"
    "last axis); then the median latency of each over interleaved runs with\n"
    "the same session options, and B/A. With one model, A is compared with\n"
    "the outputs stored beside its inputs (output_K.pb), as the reference.\n"
    "\n"
    "  --inputs SRC      real inputs (repeatable; samples add up):\n"
    "                    a folder in ONNX's test-data layout\n"
    "                    (test_data_set_N/input_K.pb, K-th input that is not\n"
    "                    an initializer), or one such folder; a folder of\n"
    "                    .npy files or a .npy/.pb file (one input models,\n"
    "                    one sample per file); or a manifest: one sample per\n"
    "                    line, NAME=PATH for every input\n"
    "  --random N        N seeded random samples instead (a smoke test: says\n"
    "                    little about accuracy); --seed S (default 0),\n"
    "                    --dim NAME=V for each symbolic input dim\n"
    "  --rtol R          fail when an output's rel. L2 exceeds R\n"
    "  --min-cosine C    fail when an output's cosine is below C\n"
    "  --min-agreement F fail when a class-score output's top-1 agreement is\n"
    "                    below F (or no output looks like class scores)\n"
    "  --elementwise RTOL,ATOL\n"
    "                    fail when any |B-A| > ATOL + RTOL |A| (numpy's\n"
    "                    allclose; ONNX's test data uses 1e-3,1e-7)\n"
    "  --threads N       intra-op threads of each session (default: ORT's)\n"
    "  --runs N          timed runs of each model (default 10; 0: no timing)\n"
    "  --ort-lib PATH    the libonnxruntime.so.1 to load (else $ONNXTD_ORT_LIB,\n"
    "                    else tools/ort's, else the system's)\n"
    "  --json            the report as one JSON object\n"
    "\n"
    "Exit status: 0 every criterion holds, 1 one fails or an error (missing\n"
    "runtime, unreadable or unfitting input), 2 a usage error.\n";

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
            fputs(help, stdout);
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
        fputs(help, stderr);
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
