#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_progress.h"
#include "cli_shapes.h"

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

/* at most one budget; statistics from one source */
static const char *const budget_flags[] = {
    "--rank", "--ratio", "--tol", "--target-params|--target-flops",
    "--vbmf|--vbmf-weaken", NULL};
static const char *const stats_flags[] = {"--calib", "--act-stats", NULL};

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
    cli_shapes shapes = {0};
    char *html = NULL, *command = NULL;
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
            fputs(cli_help_compress, stdout);
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
        } else if (cli_shapes_is(a)) {
            if (cli_shapes_arg(argc, argv, &i, &shapes))
                goto done;
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
                cli_parse_i64(v, &ll) || ll < 0 || ll > 64) {
                cli_error("--threads needs an integer from 0 (all CPUs) to 64");
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
    if (cli_exclusive(argc, argv, budget_flags) ||
        cli_exclusive(argc, argv, stats_flags))
        goto done;
    if (cli_io_done(&io, "compress")) {
        goto done;
    }
    if (to_stdout(report_path) && to_stdout(html_path)) {
        cli_error("--report and --report-html cannot both be standard output");
        goto done;
    }
    co.dims = shapes.dims;
    co.command = command = cli_command_line(argc, argv);
    co.calib = calib;
    co.n_calib = n_calib;
    cli_progress prog;
    cli_progress_init(&prog, quiet);
    cli_progress_attach(&prog, &co);
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
    if (s == ONNXTD_OK && (s = cli_shapes_resolve(&shapes, m, &err)) == ONNXTD_OK)
        co.n_dims = shapes.n_dims;
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
    free(command);
    free(calib);
    free(reads);
    free(stats);
    cli_shapes_free(&shapes);
    return rc;
}
