#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>
#include <unistd.h>

#include "cli.h"

/* Progress on a terminal: layer i of n, elapsed, an estimate of what is
 * left from the mean time per layer so far. */
struct progress {
    struct timespec t0;
};

static void on_progress(void *ctx, size_t done, size_t total)
{
    struct progress *p = ctx;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    double el = (double)(t.tv_sec - p->t0.tv_sec) +
                1e-9 * (double)(t.tv_nsec - p->t0.tv_nsec);
    double left = done ? el / (double)done * (double)(total - done) : 0;
    fprintf(stderr, "\rcompress: layer %zu of %zu, %.1f s elapsed, ~%.0f s left  ",
            done, total, el, left);
    if (done == total)
        fputc('\n', stderr);
    fflush(stderr);
}

static int parse_fraction(int argc, char **argv, int *i, const char *opt,
                          double *out)
{
    const char *v = cli_value(argc, argv, i, opt);
    if (!v || cli_parse_double(v, out) || !(*out > 0 && *out <= 1)) {
        cli_error("%s needs a number in (0, 1]", opt);
        return -1;
    }
    return 0;
}

static const char help[] =
    "usage: onnxtd compress IN (-o OUT | --in-place) [options]\n"
    "\n"
    "Replaces Conv layers (and Gemm/MatMul with constant weights) by chains\n"
    "of smaller layers built from tensor-decomposition factors.\n"
    "\n"
    "  --method M        auto (default: per layer the best of the methods\n"
    "                    below), tucker2, cp, svd (1x1 Conv, Gemm, MatMul),\n"
    "                    tr (tensor ring, TR-SVD), rsdtr (reduced-storage TR)\n"
    "  --rank N          rank N for each factored mode (capped by the size)\n"
    "  --ratio R         per layer, the largest ranks whose chain keeps at\n"
    "                    most R x the layer's parameters (default 0.5)\n"
    "  --tol E           per layer, the smallest chain whose relative\n"
    "                    Frobenius error is at most E (0: exact)\n"
    "  --target-params F the whole model keeps F (0 < F <= 1) of its\n"
    "                    parameters; ranks are allocated across layers where\n"
    "                    they cost the least error (estimated from spectra)\n"
    "  --target-flops F  the Conv/Gemm/MatMul layers keep F of their MACs\n"
    "                    (needs static shapes: see --dim); with\n"
    "                    --target-params, both budgets hold at once\n"
    "  --sensitivity S   how layers' errors weigh in the allocation: rel\n"
    "                    (default, relative error) or abs (absolute error)\n"
    "  --vbmf            per layer, ranks from EVBMF on the channel modes\n"
    "  --vbmf-weaken F   r = full - F x (full - r_evbmf), F in (0, 1]\n"
    "                    (default 1: the EVBMF rank; smaller: nearer full)\n"
    "  --rank-multiple K ranks chosen by the options above are multiples of K\n"
    "  --min-rank N      and at least N (default 1)\n"
    "  --allow-slower    keep chains the cost model predicts to be slower\n"
    "  --act-stats FILE  activation statistics (tools/ort/calib_stats.js):\n"
    "                    factors, and the --target-* allocation, minimise\n"
    "                    each layer's output error on the calibration data\n"
    "                    instead of its weight error; layers without\n"
    "                    statistics stay data-free\n"
    "  --act-lambda F    regularisation: S = (M + F x mean(diag M) I)^(1/2)\n"
    "                    (default 0.1)\n"
    "  --calib INPUTS    gather the activation statistics here, running the\n"
    "                    model in ONNX Runtime on these inputs (as for eval:\n"
    "                    a test-data folder, .npy/.pb files or a folder of\n"
    "                    them, a manifest; repeatable), then measure the\n"
    "                    compressed model against the original on held-out\n"
    "                    inputs (report: \"measured\")\n"
    "  --holdout K       inputs held out of the statistics and measured on\n"
    "                    (default: a quarter, rounded up; 0: measure on the\n"
    "                    calibration inputs themselves)\n"
    "  --save-stats FILE with --calib: also write the statistics to FILE, for\n"
    "                    later runs with --act-stats FILE\n"
    "  --runs N          timed runs of each model when measuring (default\n"
    "                    10; 0: no timing)\n"
    "  --ort-lib PATH    the libonnxruntime.so.1 to load (default:\n"
    "                    $ONNXTD_ORT_LIB, else the one scripts/setup.sh\n"
    "                    installs, else the system's)\n"
    "  --dim NAME=VALUE  a value for a symbolic input dimension (FLOPs)\n"
    "  --include RE      only layers whose node name matches (POSIX ERE;\n"
    "                    counts in {m,n} up to 255, 1024 bytes at most)\n"
    "  --exclude RE      skip layers whose node name matches\n"
    "  --force           keep chains even when not smaller than the layer\n"
    "  --no-fold-bn      do not fold BatchNormalization into the Conv before\n"
    "  --report FILE     write the JSON report to FILE (-: standard output)\n"
    "  --report-html FILE  write a self-contained HTML report to FILE (-: as\n"
    "                    for --report, not both)\n"
    "  --in-place        replace IN (-o may then be omitted); without it, an\n"
    "                    output naming IN, or any file read, is refused\n"
    "  --threads N       layers factored in parallel (default: all CPUs)\n"
    "  --quiet           no summary table or progress on stderr\n"
    "  --sweeps N        cap on HOOI / ALS sweeps (default 10)\n"
    "  --fit-tol F       stop sweeping when the relative fit changes by less\n"
    "                    than F (default 1e-4)\n"
    "  --external-data NAME, --size-threshold BYTES, --mem-limit BYTES\n"
    "                    as for convert\n";

static int parse_method(const char *v, onnxtd_method *m)
{
    static const struct { const char *name; onnxtd_method m; } t[] = {
        {"auto", ONNXTD_METHOD_AUTO}, {"tucker2", ONNXTD_METHOD_TUCKER2},
        {"cp", ONNXTD_METHOD_CP}, {"svd", ONNXTD_METHOD_SVD},
        {"tr", ONNXTD_METHOD_TR}, {"rsdtr", ONNXTD_METHOD_RSDTR}};
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        if (!strcmp(v, t[i].name)) {
            *m = t[i].m;
            return 0;
        }
    return -1;
}

/* A report path of "-" is standard output, printed once everything else
 * was written; any other goes through the library with the model. */
static int to_stdout(const char *path)
{
    return path && !strcmp(path, "-");
}

/* The command line, as read: the options for the library, the budget
 * flags as given (the library takes one budget; several are refused here,
 * naming the flags), and the outputs. */
typedef struct compress_args {
    onnxtd_compress_options co;
    cli_io io;
    int64_t rank;
    double ratio, tol, target_params, target_flops, vbmf_weaken;
    int use_tol, vbmf, quiet, holdout_given;
    const char *report_path, *html_path, *stats_path;
    onnxtd_dim_value dims[CLI_MAX_DIMS];
    size_t n_dims;
    const char **calib;  /* argc + 1 slots: at most one per argument */
    size_t n_calib;
} compress_args;

/* What an option parser answers: not its option, taken, a usage error
 * (printed), or out of memory (printed). */
enum { OPT_NO, OPT_TAKEN, OPT_USAGE, OPT_FAIL };

/* --method and the budget flags. */
static int budget_option(int argc, char **argv, int *i, compress_args *a)
{
    const char *arg = argv[*i], *v;
    long long ll;
    if (cli_is(arg, "--method")) {
        if (!(v = cli_value(argc, argv, i, "--method")))
            return OPT_USAGE;
        if (parse_method(v, &a->co.method)) {
            cli_error("--method: unknown method '%s'", v);
            return OPT_USAGE;
        }
    } else if (cli_is(arg, "--rank")) {
        if (!(v = cli_value(argc, argv, i, "--rank")) ||
            cli_parse_i64(v, &ll) || ll < 1) {
            cli_error("--rank needs a positive integer");
            return OPT_USAGE;
        }
        a->rank = ll;
    } else if (cli_is(arg, "--ratio")) {
        if (!(v = cli_value(argc, argv, i, "--ratio")) ||
            cli_parse_double(v, &a->ratio) || !(a->ratio > 0 && a->ratio <= 1)) {
            cli_error("--ratio needs a number in (0, 1]");
            return OPT_USAGE;
        }
    } else if (cli_is(arg, "--tol")) {
        if (!(v = cli_value(argc, argv, i, "--tol")) ||
            cli_parse_double(v, &a->tol) || !(a->tol >= 0 && a->tol < 1)) {
            cli_error("--tol needs a number in [0, 1)");
            return OPT_USAGE;
        }
        a->use_tol = 1;
    } else if (cli_is(arg, "--target-params")) {
        if (parse_fraction(argc, argv, i, "--target-params", &a->target_params))
            return OPT_USAGE;
    } else if (cli_is(arg, "--target-flops")) {
        if (parse_fraction(argc, argv, i, "--target-flops", &a->target_flops))
            return OPT_USAGE;
    } else if (cli_is(arg, "--vbmf-weaken")) {
        if (parse_fraction(argc, argv, i, "--vbmf-weaken", &a->vbmf_weaken))
            return OPT_USAGE;
    } else if (!strcmp(arg, "--vbmf")) {
        a->vbmf = 1;
    } else if (!strcmp(arg, "--allow-slower")) {
        a->co.allow_slower = 1;
    } else if (cli_is(arg, "--sensitivity")) {
        if (!(v = cli_value(argc, argv, i, "--sensitivity")))
            return OPT_USAGE;
        if (strcmp(v, "rel") && strcmp(v, "abs")) {
            cli_error("--sensitivity: rel or abs, not '%s'", v);
            return OPT_USAGE;
        }
        a->co.sensitivity = !strcmp(v, "abs") ? ONNXTD_SENSITIVITY_ABSOLUTE
                                              : ONNXTD_SENSITIVITY_RELATIVE;
    } else if (cli_is(arg, "--rank-multiple") || cli_is(arg, "--min-rank")) {
        const char *opt = cli_is(arg, "--min-rank") ? "--min-rank" : "--rank-multiple";
        if (!(v = cli_value(argc, argv, i, opt)) || cli_parse_i64(v, &ll) ||
            ll < 1 || ll > 1000000) {
            cli_error("%s needs a positive integer", opt);
            return OPT_USAGE;
        }
        *(opt[2] == 'm' ? &a->co.min_rank : &a->co.rank_multiple) = ll;
    } else {
        return OPT_NO;
    }
    return OPT_TAKEN;
}

/* The activation statistics and the calibration run. */
static int calib_option(int argc, char **argv, int *i, compress_args *a)
{
    const char *arg = argv[*i], *v;
    long long ll;
    if (cli_is(arg, "--act-stats")) {
        if (!(a->co.act_stats = cli_value(argc, argv, i, "--act-stats")))
            return OPT_USAGE;
    } else if (cli_is(arg, "--calib")) {
        if (!(a->calib[a->n_calib] = cli_value(argc, argv, i, "--calib")))
            return OPT_USAGE;
        a->n_calib++;
    } else if (cli_is(arg, "--holdout")) {
        if (!(v = cli_value(argc, argv, i, "--holdout")) ||
            cli_parse_i64(v, &ll) || ll < 0 || ll > 1000000000) {
            cli_error("--holdout needs a count >= 0");
            return OPT_USAGE;
        }
        a->co.holdout = (long)ll;
        a->holdout_given = 1;
    } else if (cli_is(arg, "--save-stats")) {
        if (!(a->stats_path = cli_value(argc, argv, i, "--save-stats")))
            return OPT_USAGE;
    } else if (cli_is(arg, "--ort-lib")) {
        if (!(a->co.ort_lib = cli_value(argc, argv, i, "--ort-lib")))
            return OPT_USAGE;
    } else if (cli_is(arg, "--runs")) {
        if (!(v = cli_value(argc, argv, i, "--runs")) ||
            cli_parse_i64(v, &ll) || ll < 0 || ll > 100000) {
            cli_error("--runs needs a count >= 0");
            return OPT_USAGE;
        }
        a->co.measure_runs = (int)ll;
    } else if (cli_is(arg, "--act-lambda")) {
        if (!(v = cli_value(argc, argv, i, "--act-lambda")) ||
            cli_parse_double(v, &a->co.act_lambda) || !(a->co.act_lambda > 0) ||
            a->co.act_lambda > 1e6) {
            cli_error("--act-lambda needs a positive number");
            return OPT_USAGE;
        }
    } else {
        return OPT_NO;
    }
    return OPT_TAKEN;
}

static int dim_option(const char *v, compress_args *a)
{
    long long ll;
    const char *eq = strrchr(v, '=');
    if (!eq || eq == v || cli_parse_i64(eq + 1, &ll) || ll < 0) {
        cli_error("--dim needs NAME=VALUE with VALUE >= 0, not '%s'", v);
        return OPT_USAGE;
    }
    if (a->n_dims == CLI_MAX_DIMS) {
        cli_error("at most %d --dim options", CLI_MAX_DIMS);
        return OPT_USAGE;
    }
    char *name = strndup(v, (size_t)(eq - v));
    if (!name) {
        cli_error("out of memory");
        return OPT_FAIL;
    }
    a->dims[a->n_dims].name = name;
    a->dims[a->n_dims++].value = ll;
    return OPT_TAKEN;
}

/* Which layers, how they are factored, and where the reports go. */
static int work_option(int argc, char **argv, int *i, compress_args *a)
{
    const char *arg = argv[*i], *v;
    long long ll;
    if (cli_is(arg, "--report-html")) {
        if (!(a->html_path = cli_value(argc, argv, i, "--report-html")))
            return OPT_USAGE;
    } else if (cli_is(arg, "--dim")) {
        if (!(v = cli_value(argc, argv, i, "--dim")))
            return OPT_USAGE;
        return dim_option(v, a);
    } else if (cli_is(arg, "--include")) {
        if (!(a->co.include = cli_value(argc, argv, i, "--include")))
            return OPT_USAGE;
    } else if (cli_is(arg, "--exclude")) {
        if (!(a->co.exclude = cli_value(argc, argv, i, "--exclude")))
            return OPT_USAGE;
    } else if (!strcmp(arg, "--force")) {
        a->co.force = 1;
    } else if (!strcmp(arg, "--no-fold-bn")) {
        a->co.fold_bn = 0;
    } else if (!strcmp(arg, "--quiet") || !strcmp(arg, "-q")) {
        a->quiet = 1;
    } else if (cli_is(arg, "--report")) {
        if (!(a->report_path = cli_value(argc, argv, i, "--report")))
            return OPT_USAGE;
    } else if (cli_is(arg, "--threads")) {
        if (!(v = cli_value(argc, argv, i, "--threads")) ||
            cli_parse_i64(v, &ll) || ll < 1 || ll > 64) {
            cli_error("--threads needs an integer from 1 to 64");
            return OPT_USAGE;
        }
        a->co.threads = (int)ll;
    } else if (cli_is(arg, "--sweeps")) {
        if (!(v = cli_value(argc, argv, i, "--sweeps")) ||
            cli_parse_i64(v, &ll) || ll < 1 || ll > 100000) {
            cli_error("--sweeps needs a positive integer");
            return OPT_USAGE;
        }
        a->co.max_sweeps = (int)ll;
    } else if (cli_is(arg, "--fit-tol")) {
        if (!(v = cli_value(argc, argv, i, "--fit-tol")) ||
            cli_parse_double(v, &a->co.fit_tol) || !(a->co.fit_tol > 0)) {
            cli_error("--fit-tol needs a positive number");
            return OPT_USAGE;
        }
    } else {
        return OPT_NO;
    }
    return OPT_TAKEN;
}

/* Every argument into a: CLI_OK to go on (or, with *help_shown, to stop:
 * --help was printed), else the exit code. */
static int parse_args(int argc, char **argv, compress_args *a, int *help_shown)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            fputs(help, stdout);
            *help_shown = 1;
            return CLI_OK;
        }
        int r = budget_option(argc, argv, &i, a);
        if (r == OPT_NO)
            r = calib_option(argc, argv, &i, a);
        if (r == OPT_NO)
            r = work_option(argc, argv, &i, a);
        if (r == OPT_NO)
            r = cli_io_arg(argc, argv, &i, "compress", &a->io) ? OPT_USAGE
                                                                 : OPT_TAKEN;
        if (r != OPT_TAKEN)
            return r == OPT_FAIL ? CLI_FAIL : CLI_USAGE;
    }
    return CLI_OK;
}

/* The flags together: one budget, one source of statistics, and the
 * options the calibration run alone takes. The budget flags become the
 * library's one budget. */
static int check_args(compress_args *a)
{
    if (cli_io_done(&a->io)) {
        fputs(help, stderr);
        return -1;
    }
    if (to_stdout(a->report_path) && to_stdout(a->html_path)) {
        cli_error("--report and --report-html cannot both be standard output");
        return -1;
    }
    if ((a->rank > 0) + (a->ratio > 0) + a->use_tol +
        (a->target_params > 0 || a->target_flops > 0) + a->vbmf > 1) {
        cli_error("give at most one of --rank, --ratio, --tol, "
                  "--target-params and/or --target-flops, and --vbmf");
        return -1;
    }
    if (a->n_calib && a->co.act_stats) {
        cli_error("give --calib or --act-stats, not both: --calib gathers "
                  "the statistics itself");
        return -1;
    }
    if (!a->n_calib && (a->holdout_given || a->stats_path)) {
        cli_error("--%s needs --calib", a->stats_path ? "save-stats" : "holdout");
        return -1;
    }
    onnxtd_budget *b = &a->co.budget;
    if (a->rank > 0)
        b->kind = ONNXTD_BUDGET_RANK, b->rank = a->rank;
    else if (a->ratio > 0)
        b->kind = ONNXTD_BUDGET_RATIO, b->value = a->ratio;
    else if (a->use_tol)
        b->kind = ONNXTD_BUDGET_TOL, b->value = a->tol;
    else if (a->target_params > 0)
        b->kind = ONNXTD_BUDGET_TARGET_PARAMS, b->value = a->target_params,
        b->also_flops = a->target_flops;
    else if (a->target_flops > 0)
        b->kind = ONNXTD_BUDGET_TARGET_FLOPS, b->value = a->target_flops;
    else if (a->vbmf)
        b->kind = ONNXTD_BUDGET_VBMF,
        b->value = a->vbmf_weaken > 0 ? a->vbmf_weaken : 1;
    a->co.dims = a->dims;
    a->co.n_dims = a->n_dims;
    a->co.calib = a->calib;
    a->co.n_calib = a->n_calib;
    return 0;
}

/* The files written besides the model, and the files read besides it
 * (--act-stats, --calib: an output must not replace one). */
typedef struct compress_files {
    onnxtd_output_file out[3];
    size_t n_out;
    onnxtd_output_file *reads;
    size_t n_reads;
    char *json, *text, *html;  /* the report rendered */
    const unsigned char *stats;
    size_t stats_len;
} compress_files;

static void plan_files(const compress_args *a, compress_files *f)
{
    if (a->report_path && !to_stdout(a->report_path))
        f->out[f->n_out++] = (onnxtd_output_file){a->report_path, "--report", NULL, 0};
    if (a->html_path && !to_stdout(a->html_path))
        f->out[f->n_out++] = (onnxtd_output_file){a->html_path, "--report-html", NULL, 0};
    if (a->stats_path)
        f->out[f->n_out++] = (onnxtd_output_file){a->stats_path, "--save-stats", NULL, 0};
    for (size_t q = 0; q < a->n_calib; q++)
        f->reads[f->n_reads++] = (onnxtd_output_file){a->calib[q], "--calib", NULL, 0};
    if (a->co.act_stats)
        f->reads[f->n_reads++] = (onnxtd_output_file){a->co.act_stats, "--act-stats", NULL, 0};
}

/* The report in the forms asked for, and each output's bytes. */
static onnxtd_status render(const compress_args *a, onnxtd_report *r,
                            compress_files *f, onnxtd_error *err)
{
    onnxtd_status s = onnxtd_report_text(r, &f->text, err);
    if (s == ONNXTD_OK && a->report_path)
        s = onnxtd_report_json(r, &f->json, err);
    if (s == ONNXTD_OK && a->html_path)
        s = onnxtd_report_html(r, &f->html, err);
    if (s == ONNXTD_OK && a->stats_path)
        s = onnxtd_report_stats(r, &f->stats, &f->stats_len, err);
    for (size_t q = 0; s == ONNXTD_OK && q < f->n_out; q++) {
        onnxtd_output_file *o = &f->out[q];
        if (o->path == a->stats_path) {
            o->data = f->stats;
            o->len = f->stats_len;
            continue;
        }
        const char *text = o->path == a->report_path ? f->json : f->html;
        o->data = text;
        o->len = text ? strlen(text) : 0;
    }
    return s;
}

/* After everything was written: the summary table (or, under --quiet,
 * the warning of layers left data-free), then a report asked for on
 * standard output. */
static onnxtd_status print_results(const compress_args *a,
                                   const compress_files *f)
{
    if (!a->quiet && f->text) {
        fputs(f->text, stderr);
        /* what the user would otherwise not know: nothing ran it */
        if (!a->n_calib)
            fprintf(stderr, "not measured: nothing ran %s; measure it with "
                    "'onnxtd eval %s %s --inputs YOUR_INPUTS' (or compress "
                    "with --calib YOUR_INPUTS)\n", a->io.out, a->io.in,
                    a->io.out);
    } else if (f->text) {
        /* --quiet drops the table, not the warning that some layers had
         * no statistics and stayed data-free */
        const char *w = strstr(f->text, "activation statistics:");
        if (w && !strstr(w, ", 0 had none"))
            fputs(w, stderr);
    }
    if (to_stdout(a->report_path) && f->json)
        fputs(f->json, stdout);
    if (to_stdout(a->html_path) && f->html)
        fputs(f->html, stdout);
    if (fflush(stdout) != 0) {
        cli_error("standard output: %s", strerror(errno));
        return ONNXTD_EIO;
    }
    return ONNXTD_OK;
}

/* Load, check every path written against every path read, compress,
 * write all outputs together, print. */
static int run(compress_args *a, compress_files *f)
{
    struct progress prog;
    clock_gettime(CLOCK_MONOTONIC, &prog.t0);
    if (!a->quiet && isatty(2)) {
        a->co.progress = on_progress;
        a->co.progress_ctx = &prog;
    }
    plan_files(a, f);
    onnxtd_error err = {0};
    onnxtd_model *m = NULL;
    onnxtd_report *report = NULL;
    onnxtd_status s = onnxtd_model_load(a->io.in, &a->io.lo, &m, &err);
    onnxtd_outputs outs = {m, a->io.out, &a->io.so, f->out, f->n_out,
                           f->reads, f->n_reads, a->io.in_place};
    if (s == ONNXTD_OK)
        s = onnxtd_outputs_check(&outs, &err);
    if (s == ONNXTD_OK)
        s = onnxtd_compress(m, &a->co, &report, &err);
    if (s == ONNXTD_OK)
        s = render(a, report, f, &err);
    if (s == ONNXTD_OK)
        s = onnxtd_outputs_write(&outs, &err);
    if (s != ONNXTD_OK)
        cli_error("%s", err.message);
    else
        s = print_results(a, f);
    onnxtd_report_free(report);
    onnxtd_model_free(m);
    return cli_exit_for(s);
}

int cmd_compress(int argc, char **argv)
{
    compress_args a = {0};
    compress_files f = {0};
    onnxtd_compress_options_init(&a.co);
    cli_io_init(&a.io);
    a.calib = calloc((size_t)argc + 1, sizeof *a.calib);
    f.reads = calloc((size_t)argc + 1, sizeof *f.reads);
    int rc = CLI_FAIL, help_shown = 0;
    if (!a.calib || !f.reads)
        cli_error("out of memory");
    else if ((rc = parse_args(argc, argv, &a, &help_shown)) == CLI_OK &&
             !help_shown)
        rc = check_args(&a) ? CLI_USAGE : run(&a, &f);
    free(f.json);
    free(f.text);
    free(f.html);
    free(a.calib);
    free(f.reads);
    for (size_t q = 0; q < a.n_dims; q++)
        free((char *)a.dims[q].name);
    return rc;
}
