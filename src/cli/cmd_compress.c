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
    "  --protect         under --target-*, without --calib/--act-stats/\n"
    "                    --include: keep heads (layers feeding a graph\n"
    "                    output) and first layers on the input\n"
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
    "  --max-error E     with --calib and --target-* (or no budget): every\n"
    "                    output's rel. L2 on the held-out inputs at most E\n"
    "                    (default 0.05; 'off': none), else the budget is\n"
    "                    refused naming what is reachable; without a budget\n"
    "                    the smallest model within E is searched for\n"
    "  --min-agreement A with the bound: class scores' top-1 agreement at\n"
    "                    least A (default 0.98; 'off': none)\n"
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

int cmd_compress(int argc, char **argv)
{
    const char *report_path = NULL, *v;
    const char *html_path = NULL;
    int quiet = 0, rc = CLI_USAGE;
    onnxtd_dim_value dims[CLI_MAX_DIMS];
    size_t n_dims = 0;
    char *html = NULL;
    onnxtd_compress_options co = {0};
    const char **calib = calloc((size_t)argc + 1, sizeof *calib);
    /* every file read besides the model: --act-stats and the --calib
     * sources (an output must not replace one) */
    onnxtd_output_file *reads = calloc((size_t)argc + 1, sizeof *reads);
    const char *stats_path = NULL;
    unsigned char *stats = NULL;
    size_t stats_len = 0;
    size_t n_calib = 0;
    if (!calib || !reads) {
        free(calib);
        free(reads);
        cli_error("out of memory");
        return CLI_FAIL;
    }
    cli_io io;
    cli_io_init(&io);
    long long ll;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(help, stdout);
            rc = CLI_OK;
            goto done;
        } else if (cli_is(a, "--method")) {
            if (!(v = cli_value(argc, argv, &i, "--method")))
                goto done;
            if (parse_method(v, &co.method)) {
                cli_error("--method: unknown method '%s'", v);
                goto done;
            }
        } else if (cli_is(a, "--rank")) {
            if (!(v = cli_value(argc, argv, &i, "--rank")) ||
                cli_parse_i64(v, &ll) || ll < 1) {
                cli_error("--rank needs a positive integer");
                goto done;
            }
            co.rank = ll;
        } else if (cli_is(a, "--ratio")) {
            if (!(v = cli_value(argc, argv, &i, "--ratio")) ||
                cli_parse_double(v, &co.ratio) || !(co.ratio > 0 && co.ratio <= 1)) {
                cli_error("--ratio needs a number in (0, 1]");
                goto done;
            }
        } else if (cli_is(a, "--tol")) {
            if (!(v = cli_value(argc, argv, &i, "--tol")) ||
                cli_parse_double(v, &co.tol) || !(co.tol >= 0 && co.tol < 1)) {
                cli_error("--tol needs a number in [0, 1)");
                goto done;
            }
            co.use_tol = 1;
        } else if (cli_is(a, "--target-params")) {
            if (parse_fraction(argc, argv, &i, "--target-params", &co.target_params))
                goto done;
        } else if (cli_is(a, "--target-flops")) {
            if (parse_fraction(argc, argv, &i, "--target-flops", &co.target_flops))
                goto done;
        } else if (cli_is(a, "--vbmf-weaken")) {
            if (parse_fraction(argc, argv, &i, "--vbmf-weaken", &co.vbmf_weaken))
                goto done;
        } else if (!strcmp(a, "--vbmf")) {
            co.vbmf = 1;
        } else if (!strcmp(a, "--protect")) {
            co.protect = 1;
        } else if (!strcmp(a, "--allow-slower")) {
            co.allow_slower = 1;
        } else if (cli_is(a, "--act-stats")) {
            if (!(co.act_stats = cli_value(argc, argv, &i, "--act-stats")))
                goto done;
        } else if (cli_is(a, "--calib")) {
            if (!(calib[n_calib] = cli_value(argc, argv, &i, "--calib")))
                goto done;
            n_calib++;
        } else if (cli_is(a, "--holdout")) {
            if (!(v = cli_value(argc, argv, &i, "--holdout")) ||
                cli_parse_i64(v, &ll) || ll < 0 || ll > 1000000000) {
                cli_error("--holdout needs a count >= 0");
                goto done;
            }
            co.holdout = ll ? (long)ll : ONNXTD_HOLDOUT_NONE;
        } else if (cli_is(a, "--max-error")) {
            if (cli_parse_bound(argc, argv, &i, "--max-error", 1e6, &co.max_error))
                goto done;
        } else if (cli_is(a, "--min-agreement")) {
            if (cli_parse_bound(argc, argv, &i, "--min-agreement", 1,
                                &co.min_agreement))
                goto done;
        } else if (cli_is(a, "--save-stats")) {
            if (!(stats_path = cli_value(argc, argv, &i, "--save-stats")))
                goto done;
        } else if (cli_is(a, "--ort-lib")) {
            if (!(co.ort_lib = cli_value(argc, argv, &i, "--ort-lib")))
                goto done;
        } else if (cli_is(a, "--runs")) {
            if (!(v = cli_value(argc, argv, &i, "--runs")) ||
                cli_parse_i64(v, &ll) || ll < 0 || ll > 100000) {
                cli_error("--runs needs a count >= 0");
                goto done;
            }
            co.measure_runs = ll ? (int)ll : -1;
        } else if (cli_is(a, "--act-lambda")) {
            if (!(v = cli_value(argc, argv, &i, "--act-lambda")) ||
                cli_parse_double(v, &co.act_lambda) || !(co.act_lambda > 0) ||
                co.act_lambda > 1e6) {
                cli_error("--act-lambda needs a positive number");
                goto done;
            }
        } else if (cli_is(a, "--sensitivity")) {
            if (!(v = cli_value(argc, argv, &i, "--sensitivity")))
                goto done;
            if (strcmp(v, "rel") && strcmp(v, "abs")) {
                cli_error("--sensitivity: rel or abs, not '%s'", v);
                goto done;
            }
            co.sensitivity = !strcmp(v, "abs");
        } else if (cli_is(a, "--rank-multiple") || cli_is(a, "--min-rank")) {
            const char *opt = cli_is(a, "--min-rank") ? "--min-rank" : "--rank-multiple";
            if (!(v = cli_value(argc, argv, &i, opt)) || cli_parse_i64(v, &ll) ||
                ll < 1 || ll > 1000000) {
                cli_error("%s needs a positive integer", opt);
                goto done;
            }
            *(opt[2] == 'm' ? &co.min_rank : &co.rank_multiple) = ll;
        } else if (cli_is(a, "--report-html")) {
            if (!(html_path = cli_value(argc, argv, &i, "--report-html")))
                goto done;
        } else if (cli_is(a, "--dim")) {
            if (!(v = cli_value(argc, argv, &i, "--dim")))
                goto done;
            const char *eq = strrchr(v, '=');
            if (!eq || eq == v || cli_parse_i64(eq + 1, &ll) || ll < 0) {
                cli_error("--dim needs NAME=VALUE with VALUE >= 0, not '%s'", v);
                goto done;
            }
            if (n_dims == CLI_MAX_DIMS) {
                cli_error("at most %d --dim options", CLI_MAX_DIMS);
                goto done;
            }
            char *name = strndup(v, (size_t)(eq - v));
            if (!name) {
                cli_error("out of memory");
                rc = CLI_FAIL;
                goto done;
            }
            dims[n_dims].name = name;
            dims[n_dims++].value = ll;
        } else if (cli_is(a, "--include")) {
            if (!(co.include = cli_value(argc, argv, &i, "--include")))
                goto done;
        } else if (cli_is(a, "--exclude")) {
            if (!(co.exclude = cli_value(argc, argv, &i, "--exclude")))
                goto done;
        } else if (!strcmp(a, "--force")) {
            co.force = 1;
        } else if (!strcmp(a, "--no-fold-bn")) {
            co.no_fold_bn = 1;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            quiet = 1;
        } else if (cli_is(a, "--report")) {
            if (!(report_path = cli_value(argc, argv, &i, "--report")))
                goto done;
        } else if (cli_is(a, "--threads")) {
            if (!(v = cli_value(argc, argv, &i, "--threads")) ||
                cli_parse_i64(v, &ll) || ll < 1 || ll > 64) {
                cli_error("--threads needs an integer from 1 to 64");
                goto done;
            }
            co.threads = (int)ll;
        } else if (cli_is(a, "--sweeps")) {
            if (!(v = cli_value(argc, argv, &i, "--sweeps")) ||
                cli_parse_i64(v, &ll) || ll < 1 || ll > 100000) {
                cli_error("--sweeps needs a positive integer");
                goto done;
            }
            co.max_sweeps = (int)ll;
        } else if (cli_is(a, "--fit-tol")) {
            if (!(v = cli_value(argc, argv, &i, "--fit-tol")) ||
                cli_parse_double(v, &co.fit_tol) || !(co.fit_tol > 0)) {
                cli_error("--fit-tol needs a positive number");
                goto done;
            }
        } else if (cli_io_arg(argc, argv, &i, "compress", &io)) {
            goto done;
        }
    }
    if (cli_io_done(&io)) {
        fputs(help, stderr);
        goto done;
    }
    if (to_stdout(report_path) && to_stdout(html_path)) {
        cli_error("--report and --report-html cannot both be standard output");
        goto done;
    }
    co.dims = dims;
    co.n_dims = n_dims;
    co.calib = calib;
    co.n_calib = n_calib;
    struct progress prog;
    clock_gettime(CLOCK_MONOTONIC, &prog.t0);
    if (!quiet && isatty(2)) {
        co.progress = on_progress;
        co.progress_ctx = &prog;
    }
    if (html_path)
        co.html = &html;
    if (stats_path)
        co.stats = &stats, co.stats_len = &stats_len;
    /* Every path written is checked against every path read before the
     * work, and all are written together after it. */
    onnxtd_output_file files[3];
    size_t n_files = 0, n_reads = 0;
    if (report_path && !to_stdout(report_path))
        files[n_files++] = (onnxtd_output_file){report_path, "--report", NULL, 0};
    if (html_path && !to_stdout(html_path))
        files[n_files++] = (onnxtd_output_file){html_path, "--report-html", NULL, 0};
    if (stats_path)
        files[n_files++] = (onnxtd_output_file){stats_path, "--save-stats", NULL, 0};
    for (size_t q = 0; q < n_calib; q++)
        reads[n_reads++] = (onnxtd_output_file){calib[q], "--calib", NULL, 0};
    if (co.act_stats)
        reads[n_reads++] = (onnxtd_output_file){co.act_stats, "--act-stats", NULL, 0};
    onnxtd_error err = {0};
    onnxtd_model *m = NULL;
    char *report = NULL, *summary = NULL;
    onnxtd_status s = onnxtd_model_load(io.in, &io.lo, &m, &err);
    onnxtd_outputs outs = {m, io.out, &io.so, files, n_files,
                           reads, n_reads, io.in_place};
    if (s == ONNXTD_OK)
        s = onnxtd_outputs_check(&outs, &err);
    if (s == ONNXTD_OK)
        s = onnxtd_compress(m, &co, &report, &summary, &err);
    for (size_t f = 0; s == ONNXTD_OK && f < n_files; f++) {
        if (files[f].path == stats_path) {
            files[f].data = stats;
            files[f].len = stats_len;
            continue;
        }
        const char *text = files[f].path == report_path ? report : html;
        files[f].data = text;
        files[f].len = text ? strlen(text) : 0;
    }
    if (s == ONNXTD_OK)
        s = onnxtd_outputs_write(&outs, &err);
    if (s != ONNXTD_OK) {
        cli_error("%s", err.message);
    } else {
        if (!quiet && summary) {
            fputs(summary, stderr);
            /* what the user would otherwise not know: nothing ran it */
            if (!n_calib)
                fprintf(stderr, "not measured: nothing ran %s; measure it with "
                        "'onnxtd eval %s %s --inputs YOUR_INPUTS' (or compress "
                        "with --calib YOUR_INPUTS)\n", io.out, io.in, io.out);
        } else if (summary) {
            /* --quiet drops the table, not the warning that some layers
             * had no statistics and stayed data-free */
            const char *w = strstr(summary, "activation statistics:");
            if (w && !strstr(w, ", 0 had none"))
                fputs(w, stderr);
        }
        if (to_stdout(report_path) && report)
            fputs(report, stdout);
        if (to_stdout(html_path) && html)
            fputs(html, stdout);
        if (fflush(stdout) != 0) {
            cli_error("standard output: %s", strerror(errno));
            s = ONNXTD_EIO;
        }
    }
    free(report);
    free(summary);
    free(html);
    onnxtd_model_free(m);
    rc = cli_exit_for(s);
done:
    free(calib);
    free(reads);
    free(stats);
    for (size_t q = 0; q < n_dims; q++)
        free((char *)dims[q].name);
    return rc;
}
