#include <errno.h>
#include <math.h>
#include <signal.h>
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

/* The command line, as read: the options for the library, the budget
 * flags as given (the library takes one budget; several are refused here,
 * naming the flags), and the outputs. */
typedef struct compress_args {
    onnxtd_compress_options co;
    cli_io io;
    int64_t rank;
    double ratio, tol, target_params, target_flops, vbmf_weaken;
    int use_tol, vbmf, quiet, holdout_given, bound_given, refit_given;
    int softmax_given;
    const char *report_path, *html_path, *stats_path;
    cli_shapes shapes;
    char *command;       /* the command line, for the report */
    const char **calib;  /* argc + 1 slots: at most one per argument */
    size_t n_calib;
    onnxtd_state_pair *state;  /* --state, argc + 1 slots; the names are
                                  one owned copy per pair (its input) */
    size_t n_state;
    const char **bound_outputs;  /* --bound-output, argc + 1 slots */
    size_t n_bound_outputs;
    cli_judge judge;  /* --judge, --judge-timeout: options.judge_ctx */
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
    } else if (!strcmp(arg, "--no-measure")) {
        a->co.measure_runs = 0;
    } else if (!strcmp(arg, "--protect") || !strcmp(arg, "--no-protect")) {
        a->co.protect = arg[2] == 'p';
    } else if (!strcmp(arg, "--refit") || !strcmp(arg, "--no-refit") ||
               !strcmp(arg, "--refit-chain")) {
        a->co.refit = !strcmp(arg, "--refit-chain") ? ONNXTD_REFIT_CHAIN
                      : !strcmp(arg, "--refit")     ? ONNXTD_REFIT_LAST
                                                    : 0;
        a->refit_given = 1;
    } else if (cli_is(arg, "--sensitivity")) {
        if (!(v = cli_value(argc, argv, i, "--sensitivity")))
            return OPT_USAGE;
        if (strcmp(v, "rel") && strcmp(v, "abs") && strcmp(v, "measured")) {
            cli_error("--sensitivity: rel, abs or measured, not '%s'", v);
            return OPT_USAGE;
        }
        a->co.sensitivity = !strcmp(v, "abs") ? ONNXTD_SENSITIVITY_ABSOLUTE
                            : !strcmp(v, "measured") ? ONNXTD_SENSITIVITY_MEASURED
                                                     : ONNXTD_SENSITIVITY_RELATIVE;
    } else if (cli_is(arg, "--sens-cache")) {
        if (!(a->co.sens_cache = cli_value(argc, argv, i, "--sens-cache")))
            return OPT_USAGE;
    } else if (cli_is(arg, "--sens-groups")) {
        if (!(v = cli_value(argc, argv, i, "--sens-groups")))
            return OPT_USAGE;
        if (!strcmp(v, "layers")) {
            a->co.sens_groups = ONNXTD_SENS_GROUPS_LAYERS;
        } else if (cli_parse_i64(v, &ll) || ll < 1 || ll > 1000000) {
            cli_error("--sens-groups needs a positive integer or 'layers', "
                      "not '%s'", v);
            return OPT_USAGE;
        } else {
            a->co.sens_groups = (size_t)ll;
        }
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
    } else if (cli_is(arg, "--bound-output")) {
        if (!(a->bound_outputs[a->n_bound_outputs] =
                  cli_value(argc, argv, i, "--bound-output")))
            return OPT_USAGE;
        a->n_bound_outputs++;
    } else if (cli_is(arg, "--state")) {
        if (!(v = cli_value(argc, argv, i, "--state")) ||
            cli_parse_state(v, &a->state[a->n_state]))
            return OPT_USAGE;
        a->n_state++;
    } else if (cli_is(arg, "--holdout")) {
        if (!(v = cli_value(argc, argv, i, "--holdout")) ||
            cli_parse_i64(v, &ll) || ll < 0 || ll > 1000000000) {
            cli_error("--holdout needs a count >= 0");
            return OPT_USAGE;
        }
        a->co.holdout = (long)ll;
        a->holdout_given = 1;
    } else if (cli_is(arg, "--max-error")) {
        if (cli_parse_bound(argc, argv, i, "--max-error", 1e6,
                            &a->co.max_error))
            return OPT_USAGE;
        a->bound_given |= a->co.max_error > 0;
    } else if (cli_is(arg, "--max-layer-error")) {
        if (cli_parse_bound(argc, argv, i, "--max-layer-error", 1e6,
                            &a->co.max_layer_error))
            return OPT_USAGE;
    } else if (cli_is(arg, "--min-agreement")) {
        if (cli_parse_bound(argc, argv, i, "--min-agreement", 1,
                            &a->co.min_agreement))
            return OPT_USAGE;
        a->bound_given |= a->co.min_agreement > 0;
    } else if (cli_is(arg, "--min-iou")) {
        if (cli_parse_bound(argc, argv, i, "--min-iou", 1, &a->co.min_iou))
            return OPT_USAGE;
        a->bound_given |= a->co.min_iou > 0;
    } else if (cli_is(arg, "--judge")) {
        const char *v = cli_value(argc, argv, i, "--judge");
        if (!v || !v[0]) {
            cli_error("--judge needs a command (the model's path is appended)");
            return OPT_USAGE;
        }
        a->judge.cmd = v;
        a->co.judge = cli_judge_run;
        a->co.judge_ctx = &a->judge;
        a->co.judge_name = v;
        a->bound_given = 1;
    } else if (cli_is(arg, "--judge-timeout")) {
        const char *v = cli_value(argc, argv, i, "--judge-timeout");
        if (!v || cli_parse_double(v, &a->judge.timeout_s) ||
            !(a->judge.timeout_s > 0 && a->judge.timeout_s <= 1e7)) {
            cli_error("--judge-timeout needs a number of seconds in "
                      "(0, 1e7]");
            return OPT_USAGE;
        }
    } else if (cli_is(arg, "--min-score")) {
        const char *v = cli_value(argc, argv, i, "--min-score");
        if (!v || cli_parse_double(v, &a->co.min_score) ||
            !isfinite(a->co.min_score)) {
            cli_error("--min-score needs a number");
            return OPT_USAGE;
        }
    } else if (cli_is(arg, "--iou-threshold")) {
        const char *v = cli_value(argc, argv, i, "--iou-threshold");
        if (!v || cli_parse_double(v, &a->co.iou_threshold) ||
            !(a->co.iou_threshold > 0 && a->co.iou_threshold < 1)) {
            cli_error("--iou-threshold needs a number in (0, 1)");
            return OPT_USAGE;
        }
    } else if (cli_is(arg, "--softmax-metric")) {
        if (cli_parse_bound(argc, argv, i, "--softmax-metric", 1e6,
                            &a->co.softmax_metric))
            return OPT_USAGE;
        a->softmax_given = 1;
    } else if (cli_is(arg, "--latency-cache")) {
        if (!(a->co.latency_cache = cli_value(argc, argv, i,
                                              "--latency-cache")))
            return OPT_USAGE;
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
    } else if (cli_is(arg, "--refit-waves")) {
        if (!(v = cli_value(argc, argv, i, "--refit-waves")) ||
            cli_parse_i64(v, &ll) || ll < 1 || ll > 100000) {
            cli_error("--refit-waves needs a count >= 1");
            return OPT_USAGE;
        }
        a->co.refit_waves = (int)ll;
        a->refit_given = 1;
    } else if (cli_is(arg, "--act-lambda")) {
        if (!(v = cli_value(argc, argv, i, "--act-lambda")))
            return OPT_USAGE;
        if (!strcmp(v, "cv")) {
            a->co.act_lambda = ONNXTD_ACT_LAMBDA_CV;
        } else if (!strcmp(v, "auto")) {
            a->co.act_lambda = ONNXTD_ACT_LAMBDA_AUTO;
        } else if (cli_parse_double(v, &a->co.act_lambda) ||
                   !(a->co.act_lambda > 0) || a->co.act_lambda > 1e6) {
            cli_error("--act-lambda needs a positive number, 'cv' or 'auto'");
            return OPT_USAGE;
        }
    } else {
        return OPT_NO;
    }
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
    } else if (cli_shapes_is(arg)) {
        if (cli_shapes_arg(argc, argv, i, &a->shapes))
            return OPT_USAGE;
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
            cli_parse_i64(v, &ll) || ll < 0 || ll > 64) {
            cli_error("--threads needs an integer from 0 (all CPUs) to 64");
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
            fputs(cli_help_compress, stdout);
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
static int check_args(int argc, char **argv, compress_args *a)
{
    if (cli_exclusive(argc, argv, budget_flags) ||
        cli_exclusive(argc, argv, stats_flags))
        return -1;
    if (cli_io_done(&a->io, "compress"))
        return -1;
    if (to_stdout(a->report_path) && to_stdout(a->html_path)) {
        cli_error("--report and --report-html cannot both be standard output");
        return -1;
    }
    if (a->bound_given && (a->rank > 0 || a->ratio > 0 || a->use_tol ||
                           a->vbmf)) {
        cli_error("--max-error, --min-agreement, --min-iou and --judge take "
                  "--target-params, --target-flops or no budget, not --rank, "
                  "--ratio, --tol or --vbmf");
        return -1;
    }
    if (a->judge.timeout_s > 0 && !a->co.judge) {
        cli_error("--judge-timeout limits each run of --judge: give --judge");
        return -1;
    }
    if (a->co.iou_threshold > 0 && !(a->co.min_iou > 0)) {
        cli_error("--iou-threshold is where --min-iou binarises the maps: "
                  "give --min-iou");
        return -1;
    }
    if (a->n_bound_outputs &&
        (!a->n_calib || a->rank > 0 || a->ratio > 0 || a->use_tol || a->vbmf ||
         (a->co.max_error < 0 && !(a->co.min_agreement > 0) &&
          !(a->co.min_iou > 0) && !a->co.judge))) {
        cli_error("--bound-output names what the bound judges: it needs "
                  "--calib, --target-params, --target-flops or no budget, "
                  "and a bound (not --max-error off alone)");
        return -1;
    }
    if (!a->n_calib && !a->co.act_stats && a->softmax_given) {
        cli_error("--softmax-metric needs --calib or --act-stats: the "
                  "metric is measured on calibration inputs");
        return -1;
    }
    if (!a->n_calib && a->refit_given) {
        cli_error("--refit, --no-refit and --refit-waves need --calib");
        return -1;
    }
    if (!a->n_calib && a->n_state) {
        cli_error("--state needs --calib: it says how the held-out "
                  "calibration inputs are run");
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
    a->co.dims = a->shapes.dims;
    a->co.calib = a->calib;
    a->co.n_calib = a->n_calib;
    a->co.state = a->state;
    a->co.n_state = a->n_state;
    a->co.bound_outputs = a->bound_outputs;
    a->co.n_bound_outputs = a->n_bound_outputs;
    return 0;
}

/* The files written besides the model, and the files read besides it
 * (--act-stats, --calib: an output must not replace one). */
typedef struct compress_files {
    onnxtd_output_file out[4];
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
    if (a->co.latency_cache)
        f->out[f->n_out++] = (onnxtd_output_file){a->co.latency_cache,
                                                  "--latency-cache", NULL, 0};
    for (size_t q = 0; q < a->n_calib; q++)
        f->reads[f->n_reads++] = (onnxtd_output_file){a->calib[q], "--calib", NULL, 0};
    if (a->co.act_stats)
        f->reads[f->n_reads++] = (onnxtd_output_file){a->co.act_stats, "--act-stats", NULL, 0};
    /* read and (re)written by the library, never an output's target */
    if (a->co.sens_cache)
        f->reads[f->n_reads++] = (onnxtd_output_file){a->co.sens_cache, "--sens-cache", NULL, 0};
}

/* The report in the forms asked for, and each output's bytes. */
static onnxtd_status render(const compress_args *a, onnxtd_report *r,
                            compress_files *f, onnxtd_error *err)
{
    onnxtd_status s = onnxtd_report_text(r, &f->text, err);
    if (s == ONNXTD_OK) {
        /* the table's notes in the flags' names; the JSON and HTML keep
         * the library's, as every caller of the library gets them */
        char *t = cli_names(f->text);
        if (!t) {
            err->code = ONNXTD_ENOMEM;
            snprintf(err->message, sizeof err->message, "out of memory");
            return ONNXTD_ENOMEM;
        }
        free(f->text);
        f->text = t;
    }
    if (s == ONNXTD_OK && a->report_path)
        s = onnxtd_report_json(r, &f->json, err);
    if (s == ONNXTD_OK && a->html_path)
        s = onnxtd_report_html(r, &f->html, err);
    if (s == ONNXTD_OK && a->stats_path)
        s = onnxtd_report_stats(r, &f->stats, &f->stats_len, err);
    for (size_t q = 0; s == ONNXTD_OK && q < f->n_out; q++) {
        onnxtd_output_file *o = &f->out[q];
        if (o->path == a->co.latency_cache) {
            const char *text = NULL;
            s = onnxtd_report_latency_cache(r, &text, &o->len, err);
            o->data = text;
            continue;
        }
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
        /* what the user would otherwise not know: nothing compared its
         * outputs (the end-of-compress timing runs generated inputs; a
         * judge scored the model, on inputs onnxtd never saw) */
        if (!a->n_calib)
            fprintf(stderr, "not measured: nothing ran %s on real inputs "
                    "to compare its outputs%s; measure it with "
                    "'onnxtd eval %s %s --inputs YOUR_INPUTS' (or compress "
                    "with --calib YOUR_INPUTS)\n", a->io.out,
                    a->co.judge ? " (your judge scored it)" : "", a->io.in,
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
    cli_progress prog;
    cli_progress_init(&prog, a->quiet);
    cli_progress_attach(&prog, &a->co);
    plan_files(a, f);
    onnxtd_error err = {0};
    onnxtd_model *m = NULL;
    onnxtd_report *report = NULL;
    onnxtd_status s = onnxtd_model_load(a->io.in, &a->io.lo, &m, &err);
    onnxtd_outputs outs = {m, a->io.out, &a->io.so, f->out, f->n_out,
                           f->reads, f->n_reads, a->io.in_place};
    if (s == ONNXTD_OK &&
        (s = cli_shapes_resolve(&a->shapes, m, &err)) == ONNXTD_OK)
        a->co.n_dims = a->shapes.n_dims;
    if (s == ONNXTD_OK)
        s = onnxtd_outputs_check(&outs, &err);
    if (s == ONNXTD_OK)
        s = onnxtd_compress(m, &a->co, &report, &err);
    if (s == ONNXTD_OK)
        s = render(a, report, f, &err);
    if (s == ONNXTD_OK)
        s = onnxtd_outputs_write(&outs, &err);
    if (s != ONNXTD_OK)
        cli_error_lib(err.message);
    else
        s = print_results(a, f);
    onnxtd_report_free(report);
    onnxtd_model_free(m);
    if (a->judge.ending) {
        /* ended as the signal asked, now that nothing is left behind */
        signal(a->judge.ending, SIG_DFL);
        raise(a->judge.ending);
    }
    return cli_exit_for(s);
}

int cmd_compress(int argc, char **argv)
{
    compress_args a = {0};
    compress_files f = {0};
    onnxtd_compress_options_init(&a.co);
    cli_io_init(&a.io);
    a.calib = calloc((size_t)argc + 1, sizeof *a.calib);
    a.state = calloc((size_t)argc + 1, sizeof *a.state);
    a.bound_outputs = calloc((size_t)argc + 1, sizeof *a.bound_outputs);
    f.reads = calloc((size_t)argc + 1, sizeof *f.reads);
    int rc = CLI_FAIL, help_shown = 0;
    a.co.command = a.command = cli_command_line(argc, argv);
    if (!a.calib || !a.state || !a.bound_outputs || !f.reads || !a.command)
        cli_error("out of memory");
    else if ((rc = parse_args(argc, argv, &a, &help_shown)) == CLI_OK &&
             !help_shown)
        rc = check_args(argc, argv, &a) ? CLI_USAGE : run(&a, &f);
    free(f.json);
    free(f.text);
    free(f.html);
    free(a.calib);
    for (size_t j = 0; j < a.n_state; j++)
        free((char *)a.state[j].input);
    free(a.state);
    free(a.bound_outputs);
    free(f.reads);
    free(a.command);
    cli_shapes_free(&a.shapes);
    return rc;
}
