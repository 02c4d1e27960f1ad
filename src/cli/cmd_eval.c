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

/* The command line, as read. */
typedef struct eval_args {
    onnxtd_eval_options o;
    const char *sources[MAX_SOURCES];
    size_t n_sources;
    onnxtd_state_pair state[MAX_SOURCES];  /* --state; input owns a copy */
    size_t n_state;
    cli_shapes shapes;
    int json;
} eval_args;

/* What an option parser answers: not its option, taken, a usage error
 * (printed), or out of memory (printed). */
enum { OPT_NO, OPT_TAKEN, OPT_USAGE, OPT_FAIL };

/* The inputs: real ones, or seeded random samples. */
static int input_option(int argc, char **argv, int *i, eval_args *a)
{
    const char *arg = argv[*i], *v;
    long long ll;
    if (cli_is(arg, "--inputs")) {
        if (!(v = cli_value(argc, argv, i, arg)))
            return OPT_USAGE;
        if (a->n_sources == MAX_SOURCES) {
            cli_error("eval: at most %d --inputs", MAX_SOURCES);
            return OPT_USAGE;
        }
        a->sources[a->n_sources++] = v;
    } else if (cli_is(arg, "--state")) {
        if (!(v = cli_value(argc, argv, i, arg)))
            return OPT_USAGE;
        if (a->n_state == MAX_SOURCES) {
            cli_error("eval: at most %d --state", MAX_SOURCES);
            return OPT_USAGE;
        }
        if (cli_parse_state(v, &a->state[a->n_state]))
            return OPT_USAGE;
        a->n_state++;
    } else if (cli_is(arg, "--random")) {
        if (count(argc, argv, i, "--random", 1, &ll))
            return OPT_USAGE;
        a->o.random = (size_t)ll;
    } else if (cli_is(arg, "--seed")) {
        if (count(argc, argv, i, "--seed", 0, &ll))
            return OPT_USAGE;
        a->o.seed = (uint64_t)ll;
    } else if (cli_shapes_is(arg)) {
        if (cli_shapes_arg(argc, argv, i, &a->shapes))
            return OPT_USAGE;
    } else {
        return OPT_NO;
    }
    return OPT_TAKEN;
}

static int elementwise_option(const char *v, onnxtd_eval_options *o)
{
    char *end;
    o->elem_rtol = strtod(v, &end);
    if (end == v || *end != ',' || o->elem_rtol < 0 ||
        (o->elem_atol = strtod(end + 1, &end), *end) || o->elem_atol < 0) {
        cli_error("eval: --elementwise needs RTOL,ATOL (two numbers "
                  ">= 0), not '%s'", v);
        return OPT_USAGE;
    }
    return OPT_TAKEN;
}

/* The pass criteria and how the models run. */
static int check_option(int argc, char **argv, int *i, eval_args *a)
{
    const char *arg = argv[*i], *v;
    long long ll;
    if (!strcmp(arg, "--json")) {
        a->json = 1;
    } else if (cli_is(arg, "--rtol")) {
        if (number(argc, argv, i, "--rtol", 0, &a->o.rtol))
            return OPT_USAGE;
    } else if (cli_is(arg, "--min-cosine")) {
        if (number(argc, argv, i, "--min-cosine", -1, &a->o.min_cosine))
            return OPT_USAGE;
    } else if (cli_is(arg, "--min-agreement")) {
        if (number(argc, argv, i, "--min-agreement", 0, &a->o.min_agreement))
            return OPT_USAGE;
    } else if (cli_is(arg, "--elementwise")) {
        if (!(v = cli_value(argc, argv, i, arg)))
            return OPT_USAGE;
        return elementwise_option(v, &a->o);
    } else if (cli_is(arg, "--threads")) {
        if (count(argc, argv, i, "--threads", 0, &ll))
            return OPT_USAGE;
        a->o.threads = (int)ll;
    } else if (cli_is(arg, "--runs")) {
        if (count(argc, argv, i, "--runs", 0, &ll))
            return OPT_USAGE;
        a->o.runs = (size_t)ll;
    } else if (cli_is(arg, "--ort-lib")) {
        if (!(a->o.ort_lib = cli_value(argc, argv, i, arg)))
            return OPT_USAGE;
    } else {
        return OPT_NO;
    }
    return OPT_TAKEN;
}

/* A model path (A, then B), or an unknown option or extra argument. */
static int positional(const char *arg, eval_args *a)
{
    if (arg[0] == '-' && arg[1]) {
        cli_error("eval: unknown option '%s'", arg);
        return OPT_USAGE;
    } else if (!a->o.model_a) {
        a->o.model_a = arg;
    } else if (!a->o.model_b) {
        a->o.model_b = arg;
    } else {
        cli_error("eval: unexpected argument '%s'", arg);
        return OPT_USAGE;
    }
    return OPT_TAKEN;
}

/* Every argument into a: CLI_OK to go on (or, with *help_shown, to stop:
 * --help was printed), else the exit code. */
static int parse_args(int argc, char **argv, eval_args *a, int *help_shown)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            fputs(cli_help_eval, stdout);
            *help_shown = 1;
            return CLI_OK;
        }
        int r = input_option(argc, argv, &i, a);
        if (r == OPT_NO)
            r = check_option(argc, argv, &i, a);
        if (r == OPT_NO)
            r = positional(arg, a);
        if (r != OPT_TAKEN)
            return r == OPT_FAIL ? CLI_FAIL : CLI_USAGE;
    }
    return CLI_OK;
}

/* Runs the comparison and prints its report: 0 when every criterion
 * holds, 1 when one fails or on an error. */
static int run(eval_args *a)
{
    a->o.inputs = a->sources;
    a->o.n_inputs = a->n_sources;
    onnxtd_error err = {0};
    char *report = NULL;
    int pass = 0;
    onnxtd_status s = ONNXTD_OK;
    onnxtd_model *shape_model = NULL;  /* owns the dims' names */
    /* names given are checked against model A */
    if (a->shapes.n_dims || a->shapes.n_shapes) {
        s = onnxtd_model_load(a->o.model_a, NULL, &shape_model, &err);
        if (s == ONNXTD_OK)
            s = cli_shapes_resolve(&a->shapes, shape_model, &err);
    }
    a->o.dims = a->shapes.dims;
    a->o.n_dims = a->shapes.n_dims;
    if (s == ONNXTD_OK)
        s = onnxtd_eval_loop(&a->o, a->state, a->n_state, a->json, &report,
                             &pass, &err);
    onnxtd_model_free(shape_model);
    if (s != ONNXTD_OK) {
        cli_error_lib(err.message);
        return cli_exit_for(s);
    }
    /* the text's failures name the flags; the JSON keeps the library's */
    char *text = a->json ? NULL : cli_names(report);
    fputs(text ? text : report, stdout);
    free(text);
    free(report);
    return pass ? CLI_OK : CLI_FAIL;
}

int cmd_eval(int argc, char **argv)
{
    eval_args a = {0};
    onnxtd_eval_options_init(&a.o);
    int help_shown = 0;
    int rc = parse_args(argc, argv, &a, &help_shown);
    if (rc == CLI_OK && !help_shown) {
        if (!a.o.model_a || (!a.n_sources && !a.o.random)) {
            cli_error(!a.o.model_a ? "eval: no model given"
                                   : "eval: --inputs SRC or --random N is "
                                     "required");
            rc = CLI_USAGE;
        } else {
            rc = run(&a);
        }
    }
    cli_shapes_free(&a.shapes);
    for (size_t j = 0; j < a.n_state; j++)
        free((char *)a.state[j].input);
    return rc;
}
